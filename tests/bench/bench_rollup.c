/*  bench_rollup.c: the hub's enterprise roll-up at scale.

    The hub's Redis is filled the way pushes fill it (federation_store_apply,
    lua/apply.lua, batches of 2,000 events): 100 divisions of 10,000
    projects each (status, phase) plus a health assessment per project, in
    spokes of 16 divisions. Then the hub actor answers roll-up requests
    over ZeroMQ for the whole enterprise (every division and the total):

    1. with the counters the hub keeps as events arrive (target < 50 ms);
    2. the same request once the counters are removed, so the hub adds up
       every snapshot it holds (what it did on every request before).

    The hub has its registry (the policy it pushes down), as in a stack.

    Usage: PMO_BUILD_DIR=build build/tests/bench/bench_rollup [--quick]
           [--divisions N] [--projects N] [--requests N]
*/
#include "federation_hub.h"
#include "federation_model.h"
#include "federation_store.h"
#include "pmo_client.h"
#include "pmo_log.h"
#include "pmo_reflect.h"
#include "pmo_testkit.h"
#include "pmo_util.h"
#include "pmo_wire.h"
#include "registry_harness.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define PER_SPOKE 16 //  divisions per spoke key (the hub's limit)
#define BATCH     2000

static void s_fill (federation_store_t *store, size_t divisions, size_t projects)
{
    Pmo__ProjectStatus statuses[] = {
        PMO__PROJECT_STATUS__PROJECT_STATUS_ACTIVE, PMO__PROJECT_STATUS__PROJECT_STATUS_ON_HOLD,
        PMO__PROJECT_STATUS__PROJECT_STATUS_PROPOSED, PMO__PROJECT_STATUS__PROJECT_STATUS_APPROVED};
    Pmo__Phase phases[] = {PMO__PHASE__PHASE_EXECUTION, PMO__PHASE__PHASE_PLANNING,
                           PMO__PHASE__PHASE_INITIATION, PMO__PHASE__PHASE_CLOSING};
    Pmo__Rag rags[] = {PMO__RAG__RAG_GREEN, PMO__RAG__RAG_AMBER, PMO__RAG__RAG_RED};
    pmo_arena_t *arena = pmo_arena_new ();
    int64_t t0 = pmo_mono_ms ();
    for (size_t d = 0; d < divisions; d++) {
        char division[24];
        snprintf (division, sizeof division, "d%03zu", d);
        unsigned long long seq = 0;
        for (size_t from = 0; from < 2 * projects; from += BATCH) {
            pmo_arena_reset (arena);
            size_t n = 2 * projects - from < BATCH ? 2 * projects - from : BATCH;
            federation_apply_t *apply = pmo_arena_alloc (arena, n * sizeof (federation_apply_t));
            for (size_t i = 0; i < n; i++) {
                size_t k = from + i, p = k / 2;
                Pmo__Event event = PMO__EVENT__INIT;
                Pmo__Project project = PMO__PROJECT__INIT;
                Pmo__HealthAssessment health = PMO__HEALTH_ASSESSMENT__INIT;
                event.division = division;
                event.org_unit = division;
                event.entity_id = pmo_arena_printf (arena, "pr_%s_%zu", division, p + 1);
                event.entity_version = 1;
                event.time_ms = 1700000000000LL + (int64_t)k;
                if (k % 2 == 0) {
                    event.type = "project.created";
                    project.id = event.entity_id;
                    project.status = statuses[p % 4];
                    project.phase = phases[p % 4];
                    event.body_case = PMO__EVENT__BODY_PROJECT;
                    event.project = &project;
                } else {
                    event.type = "health.changed";
                    health.overall = rags[p % 3];
                    event.body_case = PMO__EVENT__BODY_HEALTH;
                    event.health = &health;
                }
                apply[i].stream_id = pmo_arena_printf (arena, "1700000000000-%llu", ++seq);
                apply[i].field = federation_entity_field (&event, arena);
                apply[i].version = 1;
                apply[i].blob = pmo_reflect_pack (&event.base, arena, &apply[i].size);
                apply[i].type = event.type;
                apply[i].contribution = federation_rollup_contribution (&event, arena);
                apply[i].time_ms = event.time_ms;
            }
            uint32_t applied, duplicates;
            char last[64];
            char spoke[24];
            snprintf (spoke, sizeof spoke, "s%02zu", d / PER_SPOKE);
            if (federation_store_apply (store, spoke, division, apply, n, &applied, &duplicates,
                                        last, sizeof last) ||
                applied != n) {
                fprintf (stderr, "bench_rollup: apply failed\n");
                exit (1);
            }
        }
    }
    printf ("filled: %zu divisions x %zu projects (%zu events through lua/apply.lua) in %.1f s\n",
            divisions, projects, divisions * projects * 2, (pmo_mono_ms () - t0) / 1000.0);
    pmo_arena_destroy (&arena);
}

static int s_cmp (const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

//  Time n enterprise roll-up requests; prints p50 / p99 / max.
static void s_time (pmo_client_t *client, Pmo__Identity *who, size_t n, const char *what,
                    size_t divisions, size_t projects)
{
    double *ms = calloc (n, sizeof (double));
    for (size_t i = 0; i < n; i++) {
        Pmo__EnterpriseRollupRequest ask = PMO__ENTERPRISE_ROLLUP_REQUEST__INIT;
        Pmo__HubRequest request = PMO__HUB_REQUEST__INIT;
        request.body_case = PMO__HUB_REQUEST__BODY_ROLLUP;
        request.rollup = &ask;
        Pmo__Header header;
        char id[37];
        pmo_header_init (&header, id, 60000, who);
        request.header = &header;
        ProtobufCMessage *reply = NULL;
        int64_t t0 = zclock_usecs ();
        int rc =
            pmo_client_call (client, &request.base, &pmo__hub_reply__descriptor, 60000, 1, &reply);
        ms[i] = (double)(zclock_usecs () - t0) / 1000.0;
        Pmo__HubReply *hub = (Pmo__HubReply *)reply;
        if (rc || !hub || hub->error || !hub->rollup || hub->rollup->n_divisions != divisions ||
            hub->rollup->total->projects != divisions * projects) {
            fprintf (stderr, "bench_rollup: a wrong roll-up (%s)\n",
                     hub && hub->error ? hub->error->message : "no answer");
            exit (1);
        }
        protobuf_c_message_free_unpacked (reply, NULL);
    }
    qsort (ms, n, sizeof (double), s_cmp);
    printf ("roll-up of %zu divisions x %zu projects, %s: p50 %.1f ms, p99 %.1f ms, max %.1f ms "
            "(%zu requests; target < 50 ms)\n",
            divisions, projects, what, ms[n / 2], ms[(size_t)((double)n * 0.99)], ms[n - 1], n);
    free (ms);
}

int main (int argc, char **argv)
{
    setvbuf (stdout, NULL, _IOLBF, 0);
    size_t divisions = 100, projects = 10000, requests = 50;
    for (int i = 1; i < argc; i++) {
        if (strcmp (argv[i], "--quick") == 0)
            divisions = 10, projects = 1000, requests = 10;
        else if (strcmp (argv[i], "--divisions") == 0 && i + 1 < argc)
            divisions = strtoul (argv[++i], NULL, 10);
        else if (strcmp (argv[i], "--projects") == 0 && i + 1 < argc)
            projects = strtoul (argv[++i], NULL, 10);
        else if (strcmp (argv[i], "--requests") == 0 && i + 1 < argc)
            requests = strtoul (argv[++i], NULL, 10);
    }
    if (divisions == 0 || divisions > 999 || projects == 0 || requests == 0) {
        fprintf (stderr, "bench_rollup: --divisions 1..999, --projects and --requests > 0\n");
        return 1;
    }
    pmo_log_init ("bench", "error");
    printf ("bench_rollup: 2 vCPUs shared by Redis, the hub and the client\n");
    pmo_test_redis_t *redis = pmo_test_redis_start (false);
    assert (redis);
    pmo_redis_t *conn = pmo_redis_new (pmo_test_redis_url (redis), 60000);
    federation_store_t *store = federation_store_new (conn, "hub");
    s_fill (store, divisions, projects);
    if (getenv ("BENCH_REDIS")) {
        redisReply *stats = pmo_test_redis_command (redis, "INFO commandstats");
        printf ("%s", stats->str);
        freeReplyObject (stats);
    }

    //  The spokes' public keys name the divisions each may speak for: the
    //  hub answers for those
    char dir[] = "/tmp/pmo-bench-rollup-XXXXXX";
    assert (mkdtemp (dir));
    char spokes[300], path[400], hub_cert[420];
    snprintf (spokes, sizeof spokes, "%s/spokes", dir);
    assert (mkdir (spokes, 0700) == 0);
    for (size_t s = 0; s * PER_SPOKE < divisions; s++) {
        zcert_t *cert = zcert_new ();
        char names[PER_SPOKE * 8] = "";
        for (size_t d = s * PER_SPOKE; d < divisions && d < (s + 1) * PER_SPOKE; d++)
            snprintf (names + strlen (names), sizeof names - strlen (names), "%sd%03zu",
                      *names ? "," : "", d);
        zcert_set_meta (cert, "spoke", "s%02zu", s);
        zcert_set_meta (cert, "divisions", "%s", names);
        snprintf (path, sizeof path, "%s/s%02zu.key", spokes, s);
        assert (zcert_save_public (cert, path) == 0);
        zcert_destroy (&cert);
    }
    zcert_t *cert = zcert_new ();
    snprintf (path, sizeof path, "%s/hub.key", dir);
    assert (zcert_save (cert, path) == 0);
    zcert_destroy (&cert);
    snprintf (hub_cert, sizeof hub_cert, "%s_secret", path);
    char endpoint[64], spoke_endpoint[64], pub[64];
    snprintf (endpoint, sizeof endpoint, "tcp://127.0.0.1:%d", pmo_test_free_port ());
    snprintf (spoke_endpoint, sizeof spoke_endpoint, "tcp://127.0.0.1:%d", pmo_test_free_port ());
    snprintf (pub, sizeof pub, "tcp://127.0.0.1:%d", pmo_test_free_port ());
    //  The hub's registry (its policy), with the hub unit: a hub without
    //  one keeps asking, and waits for the answer
    rh_t *registry = rh_start ();
    Pmo__RegistryReply *made = rh_unit (registry, "hub", "enterprise", NULL, "controlling");
    rh_ok (made);
    rh_free (&made);
    federation_hub_config_t config = {
        .hub = "hub",
        .spoke_endpoint = spoke_endpoint,
        .endpoint = endpoint,
        .pub_endpoint = pub,
        .redis_url = pmo_test_redis_url (redis),
        .registry = registry->endpoint,
        .registry_pub = registry->pub,
        .cert = hub_cert,
        .spokes_dir = spokes,
        .lag_ms = 2000,
        .down_ms = 1500,
        .redis_timeout_ms = 60000,
    };
    zactor_t *hub = zactor_new (federation_hub_actor, &config);
    assert (hub && !config.failed);
    pmo_client_t *client = pmo_client_new (endpoint);
    Pmo__Grant grant = PMO__GRANT__INIT;
    grant.role = PMO__ROLE__ROLE_PMO_DIRECTOR;
    grant.org_unit = "hub";
    Pmo__Grant *grants[] = {&grant};
    Pmo__Identity who = PMO__IDENTITY__INIT;
    who.subject = "bench@hub";
    who.grants = grants;
    who.n_grants = 1;

    s_time (client, &who, 1, "warming up (the first connection)", divisions, projects);
    s_time (client, &who, requests, "counted as events arrive", divisions, projects);
    //  The same hub without its counters: it adds up every snapshot held
    for (size_t d = 0; d < divisions; d++) {
        char key[64];
        snprintf (key, sizeof key, "pmo:{hub}:fed:roll:d%03zu", d);
        redisReply *reply = pmo_test_redis_command (redis, "DEL %s", key);
        freeReplyObject (reply);
    }
    s_time (client, &who, requests < 5 ? requests : 5, "every snapshot added up (as before)",
            divisions, projects);

    pmo_client_destroy (&client);
    zactor_destroy (&hub);
    rh_stop (&registry);
    federation_store_destroy (&store);
    pmo_redis_destroy (&conn);
    pmo_test_redis_destroy (&redis);
    char command[400];
    snprintf (command, sizeof command, "rm -rf %s", dir);
    if (system (command) != 0)
        fprintf (stderr, "bench_rollup: could not remove %s\n", dir);
    return 0;
}
