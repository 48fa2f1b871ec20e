/*  bench_mspdi.c: how fast a Microsoft Project plan goes in.

    Starts its own redis-server, the registry and the allocator actors on
    free ports, generates an MSPDI file of --tasks tasks (default 1,000: 20
    phases of summary tasks, their tasks, a milestone every tenth task,
    baselines) and --resources work resources (default 100) with an
    assignment of 40 hours over four days per task, and times the dry run,
    the import (the project's rows, the resources into the pool and their
    allocations by ISO week) and the re-import (unchanged). Target
    (issue 15): under 1 s for 1,000 tasks and 100 resources. A benchmark
    reports; it never fails the build.

    usage: bench_mspdi [--tasks N] [--resources N]
*/
#include "pmo_log.h"
#include "pmo_testkit.h"
#include "portio_import.h"
#include "allocator_server.h"
#include "registry_server.h"

#include <czmq.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static double s_seconds (int64_t since_us)
{
    return (double)(zclock_usecs () - since_us) / 1e6;
}

//  Append to a growing buffer.
static void s_add (char **buf, size_t *len, size_t *max, const char *format, ...)
    __attribute__ ((format (printf, 4, 5)));
static void s_add (char **buf, size_t *len, size_t *max, const char *format, ...)
{
    va_list args;
    for (;;) {
        va_start (args, format);
        int n = vsnprintf (*buf + *len, *max - *len, format, args);
        va_end (args);
        if ((size_t)n < *max - *len) {
            *len += (size_t)n;
            return;
        }
        *max *= 2;
        *buf = realloc (*buf, *max);
    }
}

//  The plan (caller frees).
static char *s_generate (size_t tasks, size_t resources, size_t *size)
{
    size_t max = 1 << 20, len = 0;
    char *xml = malloc (max);
    s_add (&xml, &len, &max,
           "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
           "<Project xmlns=\"http://schemas.microsoft.com/project\">\n"
           "<SaveVersion>14</SaveVersion><Name>bench.xml</Name><Title>Bench Programme</Title>"
           "<GUID>B0000000-0000-0000-0000-000000000001</GUID>"
           "<StartDate>2026-01-05T08:00:00</StartDate><FinishDate>2027-12-17T17:00:00</FinishDate>"
           "<CurrencyCode>GBP</CurrencyCode><StatusDate>2026-09-30T17:00:00</StatusDate>\n"
           "<Tasks><Task><UID>0</UID><ID>0</ID><Name>Bench Programme</Name><OutlineLevel>0"
           "</OutlineLevel><Summary>1</Summary><PercentComplete>35</PercentComplete>"
           "<Cost>500000000</Cost><ActualCost>180000000</ActualCost><BCWS>190000000</BCWS>"
           "<BCWP>175000000</BCWP><ACWP>180000000</ACWP><Baseline><Number>0</Number>"
           "<Start>2026-01-05T08:00:00</Start><Finish>2027-11-30T17:00:00</Finish>"
           "<Cost>480000000</Cost><Work>PT80000H0M0S</Work></Baseline></Task>\n");
    size_t phases = tasks / 50 ? tasks / 50 : 1;
    for (size_t i = 1; i < tasks; i++) {
        bool phase = (i - 1) % (tasks / phases) == 0;
        bool milestone = !phase && i % 10 == 0;
        unsigned month = 1 + (unsigned)(i % 12), day = 1 + (unsigned)(i % 27);
        s_add (&xml, &len, &max,
               "<Task><UID>%zu</UID><ID>%zu</ID><Name>%s %zu</Name><WBS>%zu</WBS>"
               "<OutlineLevel>%d</OutlineLevel><Summary>%d</Summary><Milestone>%d</Milestone>"
               "<Start>2026-%02u-%02uT08:00:00</Start><Finish>2027-%02u-%02uT17:00:00</Finish>"
               "<PercentComplete>%zu</PercentComplete><Cost>%zu00</Cost>"
               "<Baseline><Number>0</Number><Start>2026-%02u-%02uT08:00:00</Start>"
               "<Finish>2027-%02u-%02uT17:00:00</Finish><Cost>%zu00</Cost></Baseline></Task>\n",
               i, i,
               phase       ? "Phase"
               : milestone ? "Gate"
                           : "Task",
               i, i, phase ? 1 : 2, phase ? 1 : 0, milestone ? 1 : 0, month, day, month, day,
               i % 101, 1000 + i, month, day, month, day, 1000 + i);
    }
    s_add (&xml, &len, &max, "</Tasks>\n<Resources>");
    for (size_t r = 1; r <= resources; r++)
        s_add (&xml, &len, &max,
               "<Resource><UID>%zu</UID><ID>%zu</ID><Name>Person %zu</Name><Type>1</Type>"
               "<MaxUnits>1</MaxUnits><StandardRate>%zu</StandardRate></Resource>\n",
               r, r, r, 5000 + r);
    s_add (&xml, &len, &max, "</Resources>\n<Assignments>");
    for (size_t i = 1; i < tasks; i++) {
        unsigned month = 1 + (unsigned)(i % 12), day = 1 + (unsigned)(i % 24);
        s_add (&xml, &len, &max,
               "<Assignment><UID>%zu</UID><TaskUID>%zu</TaskUID><ResourceUID>%zu</ResourceUID>"
               "<Start>2026-%02u-%02uT08:00:00</Start><Finish>2026-%02u-%02uT17:00:00</Finish>"
               "<Work>PT40H0M0S</Work><Units>1</Units></Assignment>\n",
               i, i, 1 + i % resources, month, day, month, day + 3);
    }
    s_add (&xml, &len, &max, "</Assignments>\n</Project>\n");
    *size = len;
    return xml;
}

int main (int argc, char **argv)
{
    size_t tasks = 1000, resources = 100;
    for (int a = 1; a < argc; a++)
        if (strcmp (argv[a], "--tasks") == 0 && a + 1 < argc)
            tasks = strtoul (argv[++a], NULL, 10);
        else if (strcmp (argv[a], "--resources") == 0 && a + 1 < argc)
            resources = strtoul (argv[++a], NULL, 10);
        else {
            fprintf (stderr, "usage: bench_mspdi [--tasks N] [--resources N]\n");
            return 2;
        }
    if (tasks < 2 || resources < 1)
        return 2;
    pmo_log_init ("bench", "error");
    pmo_test_redis_t *redis = pmo_test_redis_start (false);
    if (!redis)
        return 1;
    char endpoint[64], pub[64];
    snprintf (endpoint, sizeof endpoint, "tcp://127.0.0.1:%d", pmo_test_free_port ());
    snprintf (pub, sizeof pub, "tcp://127.0.0.1:%d", pmo_test_free_port ());
    registry_config_t config = {.endpoint = endpoint,
                                .pub_endpoint = pub,
                                .redis_url = pmo_test_redis_url (redis),
                                .hub = "hub",
                                .redis_timeout_ms = 5000};
    zactor_t *actor = zactor_new (registry_server_actor, &config);
    char allocator_endpoint[64], allocator_pub[64];
    snprintf (allocator_endpoint, 64, "tcp://127.0.0.1:%d", pmo_test_free_port ());
    snprintf (allocator_pub, 64, "tcp://127.0.0.1:%d", pmo_test_free_port ());
    allocator_config_t allocator_config = {.endpoint = allocator_endpoint,
                                           .pub_endpoint = allocator_pub,
                                           .redis_url = pmo_test_redis_url (redis),
                                           .registry = endpoint,
                                           .hub = "hub",
                                           .redis_timeout_ms = 5000,
                                           .registry_timeout_ms = 5000,
                                           .registry_cache_ms = 60000,
                                           .fte_hours = 40};
    zactor_t *allocator = zactor_new (allocator_server_actor, &allocator_config);
    if (config.failed || allocator_config.failed) {
        fprintf (stderr, "bench: a service did not start\n");
        return 1;
    }
    pmo_client_t *client = pmo_client_new (endpoint);
    pmo_client_t *allocator_client = pmo_client_new (allocator_endpoint);
    Pmo__Grant grant = PMO__GRANT__INIT;
    grant.role = PMO__ROLE__ROLE_ADMIN;
    grant.org_unit = "hub";
    Pmo__Grant *grants[] = {&grant};
    Pmo__Identity identity = PMO__IDENTITY__INIT;
    identity.subject = "bench@hub";
    identity.grants = grants;
    identity.n_grants = 1;
    portio_import_peer_t peer = {.registry = client,
                                 .identity = &identity,
                                 .timeout_ms = 60000,
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

    size_t size;
    char *xml = s_generate (tasks, resources, &size);
    printf ("generated a plan of %zu tasks and %zu resources, %.1f MB\n", tasks, resources,
            (double)size / 1e6);
    portio_import_mapping_t *map = portio_import_mapping_native ("project");
    const char *passes[] = {"dry run", "import", "re-import"};
    int rc = 0;
    for (size_t p = 0; p < 3 && rc == 0; p++) {
        portio_import_options_t options = {.peer = peer,
                                           .hub = "hub",
                                           .create_org_units = true,
                                           .dry_run = p == 0,
                                           .org_unit = "bench"};
        portio_import_result_t *result = NULL;
        int64_t start = zclock_usecs ();
        rc = portio_import_run (&options, map, xml, size, &result);
        double seconds = s_seconds (start);
        printf ("%-10s %zu rows (1 project, milestones, a status report, resources, "
                "allocations): %zu created, %zu unchanged, %zu bad, in %.3f s (target < 1 s) %s\n",
                passes[p], result->rows, result->created, result->unchanged, result->bad, seconds,
                seconds < 1.0 ? "OK" : "SLOW");
        if (rc)
            fprintf (stderr, "bench: %s\n", result->error ? result->error : "failed");
        portio_import_result_destroy (&result);
    }
    portio_import_mapping_destroy (&map);
    free (xml);
    pmo_client_destroy (&client);
    pmo_client_destroy (&allocator_client);
    zactor_destroy (&allocator);
    zactor_destroy (&actor);
    pmo_test_redis_destroy (&redis);
    return rc ? 1 : 0;
}
