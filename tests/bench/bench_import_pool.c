/*  bench_import_pool.c: how fast a resource pool goes in through the
    allocator's batches.

    Starts its own redis-server (AOF, appendfsync everysec), the registry
    and the allocator actors on free ports, imports 100 projects over 10
    divisions (the registry's batches), then times:
    - --resources resource rows (default 10,000) over the 10 divisions in
      the native CSV form (external id, name, unit, role, skills, capacity,
      cost rate);
    - --allocations allocation rows (default 30,000: three per person,
      10 h a week for 12 weeks) taken straight to committed;
    - both files again (every row unchanged: nothing written).
    Target (issue 15): resources and allocations together under 10 s.
    A benchmark reports; it never fails the build.

    usage: bench_import_pool [--resources N] [--allocations N]
*/
#include "allocator_server.h"
#include "pmo_log.h"
#include "pmo_testkit.h"
#include "portio_import.h"
#include "registry_server.h"

#include <czmq.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DIVISIONS 10
#define PROJECTS  100

static double s_seconds (int64_t since_us)
{
    return (double)(zclock_usecs () - since_us) / 1e6;
}

//  CPU seconds of this process (the client and the in-process services;
//  redis-server is not counted): on a shared machine the wall time depends
//  on who else runs, the CPU time much less.
static double s_cpu (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const char *s_projects =
    "{\"entity\": \"project\", \"key\": \"code\","
    " \"org_units\": {\"kind\": \"division\", \"parent\": \"hub\"},"
    " \"columns\": ["
    "  {\"column\": \"code\", \"field\": \"code\"},"
    "  {\"column\": \"name\", \"field\": \"name\"},"
    "  {\"column\": \"division\", \"field\": \"org_unit\", \"transform\": \"slug\"}"
    " ],"
    " \"defaults\": {\"phase\": \"execution\", \"status\": \"active\"}}";

//  A growing text (caller frees text).
typedef struct {
    char *text;
    size_t len, max;
} buf_t;

static void s_add (buf_t *b, const char *format, ...) __attribute__ ((format (printf, 2, 3)));
static void s_add (buf_t *b, const char *format, ...)
{
    for (;;) {
        va_list args;
        va_start (args, format);
        int n = vsnprintf (b->text + b->len, b->max - b->len, format, args);
        va_end (args);
        if ((size_t)n < b->max - b->len) {
            b->len += (size_t)n;
            return;
        }
        b->max = b->max * 2 + (size_t)n + 1;
        b->text = realloc (b->text, b->max);
    }
}

static int s_import (const portio_import_peer_t *peer, const char *entity, const char *mapping,
                     const buf_t *csv, const char *label, size_t expect_rows, double *seconds)
{
    char why[512];
    portio_import_mapping_t *map =
        mapping ? portio_import_mapping_load (mapping, strlen (mapping), why, sizeof why)
                : portio_import_mapping_native (entity);
    if (!map) {
        fprintf (stderr, "bench: mapping: %s\n", why);
        return -1;
    }
    portio_import_options_t options = {.peer = *peer, .hub = "hub", .create_org_units = true};
    portio_import_result_t *result;
    int64_t start = zclock_usecs ();
    double cpu = s_cpu ();
    int rc = portio_import_run (&options, map, csv->text, csv->len, &result);
    *seconds = s_seconds (start);
    cpu = s_cpu () - cpu;
    printf ("%-12s %zu rows: %zu created, %zu unchanged, %zu bad, written: %s, in %.2f s "
            "(%.0f rows/s; CPU %.2f s)\n",
            label, result->rows, result->created, result->unchanged, result->bad,
            result->written ? "yes" : "no", *seconds, (double)result->rows / *seconds, cpu);
    if (rc || result->rows != expect_rows) {
        fprintf (stderr, "bench: %s: %s\n", label, result->error ? result->error : "failed");
        for (size_t i = 0; i < result->n_problems && i < 5; i++)
            fprintf (stderr, "  row %zu %s: %s\n", result->problems[i].row,
                     result->problems[i].column, result->problems[i].reason);
        rc = -1;
    }
    portio_import_result_destroy (&result);
    portio_import_mapping_destroy (&map);
    return rc;
}

int main (int argc, char **argv)
{
    size_t n_resources = 10000, n_allocations = 30000;
    for (int a = 1; a < argc; a++)
        if (strcmp (argv[a], "--resources") == 0 && a + 1 < argc)
            n_resources = strtoul (argv[++a], NULL, 10);
        else if (strcmp (argv[a], "--allocations") == 0 && a + 1 < argc)
            n_allocations = strtoul (argv[++a], NULL, 10);
        else {
            fprintf (stderr, "usage: bench_import_pool [--resources N] [--allocations N]\n");
            return 2;
        }
    if (n_resources < DIVISIONS || n_allocations > 4 * n_resources) {
        fprintf (stderr, "bench: at least %d resources, at most 4 allocations each\n", DIVISIONS);
        return 2;
    }
    pmo_log_init ("bench", "error");
    pmo_test_redis_t *redis = pmo_test_redis_start (false);
    if (!redis)
        return 1;
    char registry_endpoint[64], registry_pub[64], allocator_endpoint[64], allocator_pub[64];
    snprintf (registry_endpoint, 64, "tcp://127.0.0.1:%d", pmo_test_free_port ());
    snprintf (registry_pub, 64, "tcp://127.0.0.1:%d", pmo_test_free_port ());
    snprintf (allocator_endpoint, 64, "tcp://127.0.0.1:%d", pmo_test_free_port ());
    snprintf (allocator_pub, 64, "tcp://127.0.0.1:%d", pmo_test_free_port ());
    registry_config_t registry_config = {.endpoint = registry_endpoint,
                                         .pub_endpoint = registry_pub,
                                         .redis_url = pmo_test_redis_url (redis),
                                         .hub = "hub",
                                         .redis_timeout_ms = 5000};
    zactor_t *registry = zactor_new (registry_server_actor, &registry_config);
    allocator_config_t allocator_config = {.endpoint = allocator_endpoint,
                                           .pub_endpoint = allocator_pub,
                                           .redis_url = pmo_test_redis_url (redis),
                                           .registry = registry_endpoint,
                                           .hub = "hub",
                                           .redis_timeout_ms = 5000,
                                           .registry_timeout_ms = 5000,
                                           .registry_cache_ms = 60000,
                                           .fte_hours = 40};
    zactor_t *allocator = zactor_new (allocator_server_actor, &allocator_config);
    if (registry_config.failed || allocator_config.failed) {
        fprintf (stderr, "bench: a service did not start\n");
        return 1;
    }
    pmo_client_t *registry_client = pmo_client_new (registry_endpoint);
    pmo_client_t *allocator_client = pmo_client_new (allocator_endpoint);
    Pmo__Grant grant = PMO__GRANT__INIT;
    grant.role = PMO__ROLE__ROLE_ADMIN;
    grant.org_unit = "hub";
    Pmo__Grant *grants[] = {&grant};
    Pmo__Identity identity = PMO__IDENTITY__INIT;
    identity.subject = "bench@hub";
    identity.grants = grants;
    identity.n_grants = 1;
    portio_import_peer_t peer = {.registry = registry_client,
                                 .identity = &identity,
                                 .timeout_ms = 120000,
                                 .attempts = 1,
                                 .allocator = allocator_client};
    char why[512];
    Pmo__OrgUnit hub = PMO__ORG_UNIT__INIT;
    hub.id = "hub";
    hub.name = "Bench Group";
    hub.kind = PMO__ORG_UNIT_KIND__ORG_UNIT_KIND_ENTERPRISE;
    Pmo__RegistryReply *reply =
        portio_import_call (&peer, "create_org_unit", &hub.base, why, sizeof why);
    if (!reply || reply->error) {
        fprintf (stderr, "bench: cannot create the hub\n");
        return 1;
    }
    protobuf_c_message_free_unpacked (&reply->base, NULL);

    //  The projects, their divisions, then the pool and its bookings
    buf_t projects = {0}, resources = {0}, allocations = {0};
    s_add (&projects, "code,name,division\n");
    for (size_t p = 0; p < PROJECTS; p++)
        s_add (&projects, "P%03zu,Project %zu,d%02zu\n", p, p, p % DIVISIONS);
    s_add (&resources, "external_id,name,home_org_unit,role,skills,weekly_capacity_hours,"
                       "cost_rate\n");
    for (size_t r = 0; r < n_resources; r++)
        s_add (&resources, "E%06zu,Person %zu,d%02zu,developer,java:%zu; sql:2,40,GBP %zu.00\n", r,
               r, r % DIVISIONS, 1 + r % 5, 40 + r % 50);
    s_add (&allocations,
           "project_code,resource_name,hours_per_week,start_week,end_week,state,note\n");
    for (size_t i = 0; i < n_allocations; i++) {
        size_t r = i % n_resources, k = i / n_resources;
        //  A project of the person's division; the k-th booking of the
        //  person starts k * 12 weeks later
        size_t p = (r % DIVISIONS) + DIVISIONS * ((r / DIVISIONS + k) % (PROJECTS / DIVISIONS));
        s_add (&allocations, "P%03zu,E%06zu,10,2027-W%02zu,2027-W%02zu,committed,build\n", p, r,
               1 + 12 * k, 12 + 12 * k);
    }
    double seconds, total = 0;
    if (s_import (&peer, "project", s_projects, &projects, "projects:", PROJECTS, &seconds))
        return 1;
    if (s_import (&peer, "resource", NULL, &resources, "resources:", n_resources, &seconds))
        return 1;
    total += seconds;
    if (s_import (&peer, "allocation", NULL, &allocations, "allocations:", n_allocations, &seconds))
        return 1;
    total += seconds;
    printf ("pool:       %zu resources + %zu allocations (to committed) in %.2f s (target < 10 s) "
            "%s\n",
            n_resources, n_allocations, total, total < 10 ? "OK" : "MISSED");
    if (s_import (&peer, "resource", NULL, &resources, "again:", n_resources, &seconds) ||
        s_import (&peer, "allocation", NULL, &allocations, "again:", n_allocations, &seconds))
        return 1;

    free (projects.text);
    free (resources.text);
    free (allocations.text);
    pmo_client_destroy (&registry_client);
    pmo_client_destroy (&allocator_client);
    zactor_destroy (&allocator);
    zactor_destroy (&registry);
    pmo_test_redis_destroy (&redis);
    return 0;
}
