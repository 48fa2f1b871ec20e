/*  test_riskmon_faults.c: the risk monitor when things break.

    - pmo-riskmon is killed with SIGKILL in the middle of a burst of events
      and started again: every event's effect is there exactly once (each
      project's count of status reports and of events applied equals what
      was sent, every health change has exactly one history entry and one
      event), and nothing is left pending.
    - Redis goes away: requests fail fast with a retryable "unavailable",
      and the service recovers by itself when Redis returns.
*/
#include "events.pb-c.h"
#include "pmo_client.h"
#include "pmo_log.h"
#include "pmo_testkit.h"
#include "pmo_util.h"
#include "riskmon.pb-c.h"

#include <assert.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROJECTS 100
#define REPORTS  4000
#define KILL_AT  1500

static void s_xadd (pmo_test_redis_t *redis, const char *division, Pmo__Event *event)
{
    size_t size = pmo__event__get_packed_size (event);
    uint8_t *blob = malloc (size + 1);
    pmo__event__pack (event, blob);
    redisReply *reply = pmo_test_redis_command (redis, "XADD pmo:{%s}:events * type %s data %b",
                                                division, event->type, blob, size);
    assert (reply && reply->type == REDIS_REPLY_STRING);
    freeReplyObject (reply);
    free (blob);
}

static pmo_test_proc_t *s_riskmon (pmo_test_redis_t *redis, const char *endpoint, const char *pub,
                                   const char *registry)
{
    char path[512];
    pmo_test_build_path ("services/riskmon/pmo-riskmon", path, sizeof path);
    char *argv[] = {path,
                    "--endpoint",
                    (char *)endpoint,
                    "--pub",
                    (char *)pub,
                    "--redis",
                    (char *)pmo_test_redis_url (redis),
                    "--registry",
                    (char *)registry,
                    "--consumer",
                    "riskmon-crash",
                    "--claim-idle",
                    "500",
                    "--batch",
                    "128",
                    "--log-level",
                    "warn",
                    NULL};
    pmo_test_proc_t *proc = pmo_test_proc_start (argv);
    assert (proc);
    return proc;
}

//  The risk monitor's stats, or NULL if it does not answer.
static Pmo__RiskmonReply *s_stats (pmo_client_t *client, Pmo__Identity *identity, int timeout_ms)
{
    Pmo__PingRequest stats = PMO__PING_REQUEST__INIT;
    Pmo__RiskmonRequest request = PMO__RISKMON_REQUEST__INIT;
    request.body_case = PMO__RISKMON_REQUEST__BODY_STATS;
    request.stats = &stats;
    Pmo__Header header;
    char id[37];
    pmo_header_init (&header, id, timeout_ms, identity);
    request.header = &header;
    ProtobufCMessage *reply = NULL;
    if (pmo_client_call (client, &request.base, &pmo__riskmon_reply__descriptor, timeout_ms, 1,
                         &reply))
        return NULL;
    return (Pmo__RiskmonReply *)reply;
}

//  Pending entries of the riskmon group on the dft stream.
static long long s_pending (pmo_test_redis_t *redis)
{
    redisReply *reply = pmo_test_redis_command (redis, "XPENDING pmo:{dft}:events riskmon");
    assert (reply && reply->type == REDIS_REPLY_ARRAY);
    long long pending = reply->element[0]->integer;
    freeReplyObject (reply);
    return pending;
}

static void s_kill_during_burst (void)
{
    pmo_test_redis_t *redis = pmo_test_redis_start (false);
    assert (redis);
    char endpoint[64], pub[64], registry[64];
    snprintf (endpoint, sizeof endpoint, "tcp://127.0.0.1:%d", pmo_test_free_port ());
    snprintf (pub, sizeof pub, "tcp://127.0.0.1:%d", pmo_test_free_port ());
    //  No registry: the division is learnt from the hub's stream
    snprintf (registry, sizeof registry, "tcp://127.0.0.1:%d", pmo_test_free_port ());
    Pmo__OrgUnit division = PMO__ORG_UNIT__INIT;
    division.id = "dft";
    division.name = "Transport";
    division.kind = PMO__ORG_UNIT_KIND__ORG_UNIT_KIND_DIVISION;
    division.parent = "hub";
    division.path = "hub/dft";
    division.division = "dft";
    division.version = 1;
    Pmo__Event event = PMO__EVENT__INIT;
    event.type = "org_unit.created";
    event.division = "hub";
    event.source = "registry";
    event.body_case = PMO__EVENT__BODY_ORG_UNIT_SNAPSHOT;
    event.org_unit_snapshot = &division;
    s_xadd (redis, "hub", &event);
    char ids[PROJECTS][32];
    for (int p = 0; p < PROJECTS; p++) {
        snprintf (ids[p], sizeof ids[p], "pr_dft_%d", p + 1);
        Pmo__Project project = PMO__PROJECT__INIT;
        project.id = ids[p];
        project.code = ids[p];
        project.org_unit = "dft";
        project.org_unit_path = "hub/dft";
        project.division = "dft";
        project.phase = PMO__PHASE__PHASE_EXECUTION;
        project.status = PMO__PROJECT_STATUS__PROJECT_STATUS_ACTIVE;
        project.version = 1;
        project.created_ms = pmo_now_ms ();
        Pmo__Event created = PMO__EVENT__INIT;
        created.type = "project.created";
        created.division = "dft";
        created.source = "registry";
        created.entity_id = ids[p];
        created.body_case = PMO__EVENT__BODY_PROJECT;
        created.project = &project;
        s_xadd (redis, "dft", &created);
    }
    pmo_test_proc_t *proc = s_riskmon (redis, endpoint, pub, registry);
    pmo_client_t *client = pmo_client_new (endpoint);
    Pmo__Identity identity = PMO__IDENTITY__INIT;
    identity.subject = "test";
    //  Up, reading the division it learnt of, projects applied
    bool ready = false;
    for (int i = 0; i < 200 && !ready; i++) {
        Pmo__RiskmonReply *stats = s_stats (client, &identity, 500);
        ready = stats && stats->stats->n_streams == 2 && stats->stats->events_applied >= PROJECTS;
        if (stats)
            protobuf_c_message_free_unpacked (&stats->base, NULL);
        if (!ready)
            zclock_sleep (50);
    }
    assert (ready);

    //  The burst: status reports whose SPI keeps moving the health, written
    //  as fast as one pipelined connection goes; the risk monitor is killed
    //  while it works through them
    redisContext *fast = redisConnect ("127.0.0.1", pmo_test_redis_port (redis));
    assert (fast && !fast->err);
    int sent[PROJECTS] = {0};
    for (int i = 0; i < REPORTS; i++) {
        int p = i % PROJECTS;
        char id[32];
        snprintf (id, sizeof id, "sr_dft_%d", i + 1);
        Pmo__StatusReport report = PMO__STATUS_REPORT__INIT;
        report.id = id;
        report.project_id = ids[p];
        report.period_end = "2099-01-01"; //  never stale during the test
        report.pv_minor = 1000;
        report.ev_minor = (int64_t[]){1000, 930, 850, 1000, 1000}[(i / PROJECTS) % 5];
        report.overall = PMO__RAG__RAG_GREEN;
        report.created_ms = pmo_now_ms ();
        Pmo__Event submitted = PMO__EVENT__INIT;
        submitted.type = "status_report.submitted";
        submitted.division = "dft";
        submitted.source = "registry";
        submitted.entity_id = id;
        submitted.body_case = PMO__EVENT__BODY_STATUS_REPORT;
        submitted.status_report = &report;
        uint8_t blob[512];
        size_t size = pmo__event__pack (&submitted, blob);
        redisAppendCommand (fast, "XADD pmo:{dft}:events * type %s data %b", submitted.type, blob,
                            size);
        sent[p]++;
        if (i == KILL_AT || i == REPORTS - 1) {
            for (int k = i == KILL_AT ? 0 : KILL_AT + 1; k <= i; k++) {
                redisReply *reply = NULL;
                assert (redisGetReply (fast, (void **)&reply) == REDIS_OK);
                freeReplyObject (reply);
            }
        }
        if (i == KILL_AT) {
            //  Let it get into the burst, then kill it mid-batch
            Pmo__RiskmonReply *stats = NULL;
            for (int w = 0; w < 400; w++) {
                stats = s_stats (client, &identity, 500);
                bool busy = stats && stats->stats->events_applied > PROJECTS + 300;
                if (stats)
                    protobuf_c_message_free_unpacked (&stats->base, NULL);
                if (busy)
                    break;
                zclock_sleep (2);
            }
            pmo_test_proc_signal (proc, SIGKILL);
            assert (pmo_test_proc_wait (proc, 5000) == 128 + SIGKILL);
            pmo_test_proc_destroy (&proc);
            printf ("killed pmo-riskmon during a burst of %d reports: %lld entries were "
                    "pending\n",
                    KILL_AT + 1, s_pending (redis));
        }
    }
    //  More crashes while it catches up with the rest, each at another point
    for (int cycle = 0; cycle < 3; cycle++) {
        proc = s_riskmon (redis, endpoint, pub, registry);
        Pmo__RiskmonReply *up = NULL;
        for (int w = 0; w < 200 && !up; w++)
            up = s_stats (client, &identity, 200);
        assert (up);
        protobuf_c_message_free_unpacked (&up->base, NULL);
        zclock_sleep (3 + cycle * 15); //  pending entries are taken over after 500 ms idle
        pmo_test_proc_signal (proc, SIGKILL);
        assert (pmo_test_proc_wait (proc, 5000) == 128 + SIGKILL);
        pmo_test_proc_destroy (&proc);
        printf ("killed it again: %lld entries pending\n", s_pending (redis));
    }
    redisFree (fast);
    proc = s_riskmon (redis, endpoint, pub, registry);
    //  Caught up: nothing pending, nothing unread
    bool done = false;
    for (int i = 0; i < 600 && !done; i++) {
        zclock_sleep (50);
        redisReply *groups = pmo_test_redis_command (redis, "XINFO GROUPS pmo:{dft}:events");
        assert (groups && groups->type == REDIS_REPLY_ARRAY && groups->elements == 1);
        long long lag = -1, pending = -1;
        redisReply *g = groups->element[0];
        for (size_t f = 0; f + 1 < g->elements; f += 2) {
            if (streq (g->element[f]->str, "lag"))
                lag = g->element[f + 1]->integer;
            if (streq (g->element[f]->str, "pending"))
                pending = g->element[f + 1]->integer;
        }
        freeReplyObject (groups);
        done = lag == 0 && pending == 0;
    }
    assert (done);
    Pmo__RiskmonReply *stats = s_stats (client, &identity, 2000);
    assert (stats && stats->stats);
    printf ("restarted: applied %llu, found already applied %llu\n",
            (unsigned long long)stats->stats->events_applied,
            (unsigned long long)stats->stats->events_duplicate);
    protobuf_c_message_free_unpacked (&stats->base, NULL);

    //  Exactly once in effect, project by project
    long long changes = 0;
    for (int p = 0; p < PROJECTS; p++) {
        redisReply *reply = pmo_test_redis_command (redis, "HMGET pmo:{dft}:rm:pj:%s v d", ids[p]);
        assert (reply && reply->element[1]->type == REDIS_REPLY_STRING);
        Pmo__ProjectHealth *ph = pmo__project_health__unpack (NULL, reply->element[1]->len,
                                                              (uint8_t *)reply->element[1]->str);
        assert (ph);
        if ((int)ph->inputs->reports_seen != sent[p] ||
            ph->events_applied != (uint64_t)sent[p] + 1) {
            fprintf (stderr, "%s: reports_seen %u events_applied %llu, sent %d\n", ids[p],
                     ph->inputs->reports_seen, (unsigned long long)ph->events_applied, sent[p]);
            abort ();
        }
        //  One history entry per change, no gaps, no extras
        redisReply *next = pmo_test_redis_command (redis, "EXISTS pmo:{dft}:rm:hist:%s:%llu",
                                                   ids[p], (unsigned long long)ph->history + 1);
        redisReply *last = pmo_test_redis_command (redis, "EXISTS pmo:{dft}:rm:hist:%s:%llu",
                                                   ids[p], (unsigned long long)ph->history);
        assert (next->integer == 0 && last->integer == 1);
        freeReplyObject (next);
        freeReplyObject (last);
        changes += (long long)ph->history;
        pmo__project_health__free_unpacked (ph, NULL);
        freeReplyObject (reply);
    }
    //  ... and one health.changed event per change
    long long events = 0;
    redisReply *all = pmo_test_redis_command (redis, "XRANGE pmo:{dft}:events - +");
    for (size_t i = 0; i < all->elements; i++)
        events += streq (all->element[i]->element[1]->element[1]->str, "health.changed");
    freeReplyObject (all);
    assert (events == changes);
    printf ("after SIGKILL: %d reports to %d projects applied exactly once; %lld health "
            "changes, %lld events\n",
            REPORTS, PROJECTS, changes, events);
    pmo_test_proc_signal (proc, SIGTERM);
    assert (pmo_test_proc_wait (proc, 5000) == 0); //  clean shutdown on SIGTERM
    pmo_test_proc_destroy (&proc);
    pmo_client_destroy (&client);
    pmo_test_redis_destroy (&redis);
    printf ("kill during burst: ok\n");
}

static void s_redis_outage (void)
{
    pmo_test_redis_t *redis = pmo_test_redis_start (false);
    char endpoint[64], pub[64], registry[64];
    snprintf (endpoint, sizeof endpoint, "tcp://127.0.0.1:%d", pmo_test_free_port ());
    snprintf (pub, sizeof pub, "tcp://127.0.0.1:%d", pmo_test_free_port ());
    snprintf (registry, sizeof registry, "tcp://127.0.0.1:%d", pmo_test_free_port ());
    pmo_test_proc_t *proc = s_riskmon (redis, endpoint, pub, registry);
    pmo_client_t *client = pmo_client_new (endpoint);
    Pmo__Grant grant = PMO__GRANT__INIT;
    grant.role = PMO__ROLE__ROLE_ADMIN;
    grant.org_unit = "hub";
    Pmo__Grant *grants[] = {&grant};
    Pmo__Identity identity = PMO__IDENTITY__INIT;
    identity.subject = "admin";
    identity.grants = grants;
    identity.n_grants = 1;
    Pmo__RiskmonReply *stats = NULL;
    for (int i = 0; i < 50 && !stats; i++)
        stats = s_stats (client, &identity, 500);
    assert (stats);
    protobuf_c_message_free_unpacked (&stats->base, NULL);
    pmo_test_redis_kill (redis);
    Pmo__Risk risk = PMO__RISK__INIT;
    risk.project_id = "pr_dft_1";
    risk.title = "x";
    risk.owner = "o";
    risk.probability = 3;
    risk.impact = 3;
    Pmo__RiskmonRequest request = PMO__RISKMON_REQUEST__INIT;
    request.body_case = PMO__RISKMON_REQUEST__BODY_CREATE_RISK;
    request.create_risk = &risk;
    for (int i = 0; i < 3; i++) {
        Pmo__Header header;
        char id[37];
        pmo_header_init (&header, id, 3000, &identity);
        request.header = &header;
        int64_t started = pmo_mono_ms ();
        ProtobufCMessage *reply = NULL;
        assert (pmo_client_call (client, &request.base, &pmo__riskmon_reply__descriptor, 3000, 1,
                                 &reply) == 0);
        Pmo__RiskmonReply *answer = (Pmo__RiskmonReply *)reply;
        assert (answer->error && answer->error->code == PMO__ERROR_CODE__ERROR_UNAVAILABLE &&
                answer->error->retryable);
        assert (pmo_mono_ms () - started < 2500);
        protobuf_c_message_free_unpacked (reply, NULL);
    }
    assert (pmo_test_redis_restart (redis) == 0);
    bool recovered = false;
    for (int i = 0; i < 100 && !recovered; i++) {
        stats = s_stats (client, &identity, 1000);
        Pmo__PingRequest ping = PMO__PING_REQUEST__INIT;
        Pmo__RiskmonRequest pr = PMO__RISKMON_REQUEST__INIT;
        pr.body_case = PMO__RISKMON_REQUEST__BODY_PING;
        pr.ping = &ping;
        Pmo__Header header;
        char id[37];
        pmo_header_init (&header, id, 1000, &identity);
        pr.header = &header;
        ProtobufCMessage *reply = NULL;
        if (pmo_client_call (client, &pr.base, &pmo__riskmon_reply__descriptor, 1000, 1, &reply) ==
            0) {
            recovered = ((Pmo__RiskmonReply *)reply)->pong->redis_ok;
            protobuf_c_message_free_unpacked (reply, NULL);
        }
        if (stats)
            protobuf_c_message_free_unpacked (&stats->base, NULL);
        if (!recovered)
            zclock_sleep (100);
    }
    assert (recovered);
    pmo_test_proc_signal (proc, SIGTERM);
    assert (pmo_test_proc_wait (proc, 5000) == 0);
    pmo_test_proc_destroy (&proc);
    pmo_client_destroy (&client);
    pmo_test_redis_destroy (&redis);
    printf ("redis outage: ok\n");
}

int main (void)
{
    pmo_log_init ("test", getenv ("PMO_TEST_VERBOSE") ? "debug" : "error");
    s_kill_during_burst ();
    s_redis_outage ();
    printf ("test_riskmon_faults: ok\n");
    return 0;
}
