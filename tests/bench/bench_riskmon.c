/*  bench_riskmon.c: the risk monitor's benchmark. Prints figures; it does
    not pass or fail. Run by hand:
        PMO_BUILD_DIR=build build/tests/bench/bench_riskmon [--quick]

    1. Events processed per second: a division stream pre-filled with
       project, milestone and status-report events (as the registry writes
       them); the clock runs from the moment the risk monitor answers until
       its consumer group has read and acknowledged every entry.
    2. Status report committed -> health change published: at 1,000
       reports a second, each one XADDed to the stream (the risk monitor's
       reader waits in Redis for new entries); each report flips its
       project's health, and the latency runs from just before the XADD to
       the health.changed event arriving on the risk monitor's PUB socket.
    3. A full time-rule sweep: 100,000 projects all due at the same moment
       (10 % of them have a milestone that went overdue and change health,
       with events and alerts); the time runs from that moment (the risk
       monitor's clock is moved to it once all 100,000 are loaded) until no
       project is due. Also printed: the CPU seconds the risk monitor and
       Redis spent on it (on a loaded machine the wall time is mostly
       waiting for a core; the CPU split says where the work is). With
       BENCH_REDIS=1, Redis's command statistics of the sweep alone. The
       AOF is compacted after the fill, before the clock starts (else the
       fill's own rewrite lands in the sweep); the sweep's own AOF growth
       and the rewrites it starts are printed. After the 1-in-10 sweep, the
       same projects are looked at again as after a threshold change that
       moves none of them (the re-check marker; nothing is written).

    Everything runs on this machine: a real redis-server (AOF everysec),
    the risk monitor actor in-process, the load generator in this thread.
*/
#include "events.pb-c.h"
#include "pmo_auth.h"
#include "pmo_client.h"
#include "pmo_log.h"
#include "pmo_testkit.h"
#include "pmo_util.h"
#include "riskmon.pb-c.h"
#include "riskmon_model.h"
#include "riskmon_server.h"

#include <assert.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static bool s_quick;
static bool s_smoke; //  every figure printed in seconds (run-all.sh --smoke)

static int s_cmp (const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static redisContext *s_connect (pmo_test_redis_t *redis)
{
    redisContext *ctx = redisConnect ("127.0.0.1", pmo_test_redis_port (redis));
    assert (ctx && !ctx->err);
    return ctx;
}

//  Queue an event's XADD on ctx (pipelined; replies read by s_drain).
static void s_xadd (redisContext *ctx, const char *division, Pmo__Event *event)
{
    uint8_t blob[2048];
    size_t size = pmo__event__get_packed_size (event);
    assert (size <= sizeof blob);
    pmo__event__pack (event, blob);
    redisAppendCommand (ctx, "XADD pmo:{%s}:events * type %s data %b", division, event->type, blob,
                        size);
}

static void s_drain (redisContext *ctx, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        redisReply *reply = NULL;
        if (redisGetReply (ctx, (void **)&reply) != REDIS_OK) {
            fprintf (stderr, "bench: redis failed: %s\n", ctx->errstr);
            abort ();
        }
        if (reply->type == REDIS_REPLY_ERROR) {
            fprintf (stderr, "bench: redis refused: %s\n", reply->str);
            abort ();
        }
        freeReplyObject (reply);
    }
}

//  BENCH_REDIS=1: where Redis spent its time (for profiling), and the
//  sizes of what the risk monitor stores for one project
static void s_redis_report (redisContext *ctx)
{
    if (!getenv ("BENCH_REDIS"))
        return;
    redisReply *reply = redisCommand (ctx, "INFO commandstats");
    if (reply && reply->type == REDIS_REPLY_STRING)
        printf ("%s", reply->str);
    freeReplyObject (reply);
    const char *probes[] = {"HSTRLEN pmo:{dft}:rm:pj:pr_dft_1 d",
                            "HSTRLEN pmo:{dft}:rm:hist:pr_dft_1:2 d", "XLEN pmo:{dft}:events",
                            "INFO persistence"};
    for (size_t i = 0; i < sizeof probes / sizeof probes[0]; i++) {
        reply = redisCommand (ctx, probes[i]);
        if (reply && reply->type == REDIS_REPLY_INTEGER)
            printf ("%s: %lld\n", probes[i], reply->integer);
        else if (reply && reply->type == REDIS_REPLY_STRING)
            printf ("%s\n", reply->str);
        freeReplyObject (reply);
    }
}

//  BENCH_PERF=<prefix>: `perf record` of Redis and of this process (the
//  risk monitor's actor) over one measured sweep only, into
//  <prefix>-<what>.data (perf report --pid splits the two). 0: not asked,
//  or perf could not start.
static pid_t s_perf_start (redisContext *ctx, const char *what)
{
    const char *prefix = getenv ("BENCH_PERF");
    if (!prefix)
        return 0;
    redisReply *reply = redisCommand (ctx, "INFO server");
    const char *at =
        reply && reply->type == REDIS_REPLY_STRING ? strstr (reply->str, "process_id:") : NULL;
    long redis_pid = at ? atol (at + strlen ("process_id:")) : 0;
    freeReplyObject (reply);
    char pids[48], out[512];
    snprintf (pids, sizeof pids, "%ld,%ld", redis_pid, (long)getpid ());
    snprintf (out, sizeof out, "%s-%s.data", prefix, what);
    char *argv[] = {"perf", "record", "-q", "-F", "4000", "-p", pids, "-o", out, NULL};
    pid_t pid;
    if (!redis_pid || posix_spawnp (&pid, "perf", NULL, NULL, argv, environ))
        return 0;
    zclock_sleep (500); //  attached before the clock starts
    return pid;
}

static void s_perf_stop (pid_t pid)
{
    if (pid <= 0)
        return;
    kill (pid, SIGINT);
    waitpid (pid, NULL, 0);
}

static void s_project_event (Pmo__Event *event, Pmo__Project *project, const char *id)
{
    pmo__project__init (project);
    project->id = (char *)id;
    project->code = (char *)id;
    project->name = (char *)id;
    project->org_unit = "dft";
    project->org_unit_path = "hub/dft";
    project->division = "dft";
    project->manager = "pm@dft";
    project->phase = PMO__PHASE__PHASE_EXECUTION;
    project->status = PMO__PROJECT_STATUS__PROJECT_STATUS_ACTIVE;
    project->version = 1;
    project->created_ms = pmo_now_ms ();
    pmo__event__init (event);
    event->type = "project.created";
    event->division = "dft";
    event->source = "registry";
    event->entity_id = (char *)id;
    event->body_case = PMO__EVENT__BODY_PROJECT;
    event->project = project;
}

//  The division's org unit in the hub stream: how the risk monitor learns
//  to read dft's stream without a registry.
static void s_division (redisContext *ctx)
{
    Pmo__OrgUnit unit = PMO__ORG_UNIT__INIT;
    unit.id = "dft";
    unit.name = "dft";
    unit.kind = PMO__ORG_UNIT_KIND__ORG_UNIT_KIND_DIVISION;
    unit.parent = "hub";
    unit.path = "hub/dft";
    unit.division = "dft";
    unit.version = 1;
    Pmo__Event event = PMO__EVENT__INIT;
    event.type = "org_unit.created";
    event.division = "hub";
    event.source = "registry";
    event.body_case = PMO__EVENT__BODY_ORG_UNIT_SNAPSHOT;
    event.org_unit_snapshot = &unit;
    s_xadd (ctx, "hub", &event);
    s_drain (ctx, 1);
}

typedef struct {
    zactor_t *actor;
    riskmon_config_t config;
    char endpoint[64], pub[64], registry[64];
    pmo_client_t *client;
} s_rm_t;

static Pmo__RiskmonReply *s_stats (s_rm_t *rm, int timeout_ms)
{
    Pmo__Identity identity = PMO__IDENTITY__INIT;
    identity.subject = "bench";
    Pmo__PingRequest ping = PMO__PING_REQUEST__INIT;
    Pmo__RiskmonRequest request = PMO__RISKMON_REQUEST__INIT;
    request.body_case = PMO__RISKMON_REQUEST__BODY_STATS;
    request.stats = &ping;
    Pmo__Header header;
    char id[37];
    pmo_header_init (&header, id, timeout_ms, &identity);
    request.header = &header;
    ProtobufCMessage *reply = NULL;
    if (pmo_client_call (rm->client, &request.base, &pmo__riskmon_reply__descriptor, timeout_ms, 1,
                         &reply))
        return NULL;
    return (Pmo__RiskmonReply *)reply;
}

//  The sweep's clock: the wall clock, moved forward at once when the bench
//  makes every project due (so the time runs from that moment, however
//  long the 100,000 records took to load)
static _Atomic int64_t s_clock_offset;

static int64_t s_clock (void *ctx)
{
    (void)ctx;
    return pmo_now_ms () + s_clock_offset;
}

//  The actor up and answering (it has found the dft stream).
static void s_rm_start (s_rm_t *rm, pmo_test_redis_t *redis, int tick_ms, riskmon_clock_fn *clock)
{
    snprintf (rm->endpoint, sizeof rm->endpoint, "tcp://127.0.0.1:%d", pmo_test_free_port ());
    snprintf (rm->pub, sizeof rm->pub, "tcp://127.0.0.1:%d", pmo_test_free_port ());
    //  No registry: org units come from the hub stream, and the first
    //  attempt to ask the registry costs its 1 s deadline before the clock starts
    snprintf (rm->registry, sizeof rm->registry, "tcp://127.0.0.1:%d", pmo_test_free_port ());
    rm->config = (riskmon_config_t){
        .endpoint = rm->endpoint,
        .pub_endpoint = rm->pub,
        .redis_url = pmo_test_redis_url (redis),
        .hub = "hub",
        .registry = rm->registry,
        .consumer = "bench",
        .redis_timeout_ms = 5000,
        .claim_idle_ms = 30000,
        .tick_ms = tick_ms,
        .sweep_budget_ms = 10000,
        .batch = 512,
        .clock = clock,
    };
    rm->actor = zactor_new (riskmon_server_actor, &rm->config);
    assert (rm->actor && !rm->config.failed);
    rm->client = pmo_client_new (rm->endpoint);
    Pmo__RiskmonReply *stats = NULL;
    for (int i = 0; i < 100 && !stats; i++)
        stats = s_stats (rm, 1000);
    assert (stats);
    protobuf_c_message_free_unpacked (&stats->base, NULL);
}

static void s_rm_stop (s_rm_t *rm)
{
    pmo_client_destroy (&rm->client);
    zactor_destroy (&rm->actor);
}

//  The group's lag and pending count on dft's stream.
static bool s_caught_up (redisContext *ctx)
{
    redisReply *groups = redisCommand (ctx, "XINFO GROUPS pmo:{dft}:events");
    assert (groups && groups->type == REDIS_REPLY_ARRAY);
    bool done = false;
    for (size_t i = 0; i < groups->elements; i++) {
        redisReply *g = groups->element[i];
        long long lag = -1, pending = -1;
        for (size_t f = 0; f + 1 < g->elements; f += 2) {
            if (strcmp (g->element[f]->str, "lag") == 0)
                lag = g->element[f + 1]->type == REDIS_REPLY_INTEGER ? g->element[f + 1]->integer
                                                                     : -1;
            if (strcmp (g->element[f]->str, "pending") == 0)
                pending = g->element[f + 1]->integer;
        }
        done = lag == 0 && pending == 0;
    }
    freeReplyObject (groups);
    return done;
}

//  A number from INFO section ("name:" value), -1 if missing.
static double s_redis_info (redisContext *ctx, const char *section, const char *name)
{
    redisReply *reply = redisCommand (ctx, "INFO %s", section);
    double value = -1;
    const char *at = reply && reply->type == REDIS_REPLY_STRING ? strstr (reply->str, name) : NULL;
    if (at)
        value = atof (at + strlen (name));
    freeReplyObject (reply);
    return value;
}

//  CPU seconds Redis has used (user + system), from INFO cpu.
static double s_redis_cpu (redisContext *ctx)
{
    redisReply *reply = redisCommand (ctx, "INFO cpu");
    double cpu = 0;
    const char *names[] = {"used_cpu_user:", "used_cpu_sys:"};
    for (size_t i = 0; i < 2 && reply && reply->type == REDIS_REPLY_STRING; i++) {
        const char *at = strstr (reply->str, names[i]);
        if (at)
            cpu += atof (at + strlen (names[i]));
    }
    freeReplyObject (reply);
    return cpu;
}

//  Compact the AOF now and wait until it is done: the fill grows the file
//  past auto-aof-rewrite-min-size, and the rewrite (a forked child, 10 s
//  of CPU on this machine) would otherwise start in the middle of the
//  measured sweep and take one of the two cores from it.
static void s_aof_settle (redisContext *ctx)
{
    redisReply *reply = redisCommand (ctx, "BGREWRITEAOF");
    freeReplyObject (reply);
    while (true) {
        reply = redisCommand (ctx, "INFO persistence");
        bool busy = reply && reply->type == REDIS_REPLY_STRING &&
                    (strstr (reply->str, "aof_rewrite_in_progress:1") ||
                     strstr (reply->str, "aof_rewrite_scheduled:1"));
        freeReplyObject (reply);
        if (!busy)
            return;
        zclock_sleep (50);
    }
}

//  CPU seconds this process has used (the risk monitor's actor, here).
static double s_own_cpu (void)
{
    struct rusage usage;
    getrusage (RUSAGE_SELF, &usage);
    return (double)usage.ru_utime.tv_sec + (double)usage.ru_utime.tv_usec / 1e6 +
           (double)usage.ru_stime.tv_sec + (double)usage.ru_stime.tv_usec / 1e6;
}

//  The same projects looked at again after a threshold change that moves
//  none of them: the marker a change writes (riskmon_store_recheck_mark)
//  goes into the due set, and the time runs until the walk removed it.

//  Wait until the risk monitor has taken every member of the due set
//  scored from min to max (the sweep or re-check is done).
static void s_wait_due_none (redisContext *ctx, const char *min, long long max)
{
    while (true) {
        redisReply *reply = redisCommand (ctx, "ZCOUNT pmo:{dft}:rm:due %s %lld", min, max);
        long long left = reply->integer;
        freeReplyObject (reply);
        if (left == 0)
            return;
        zclock_sleep (1);
    }
}
static void s_recheck (redisContext *ctx, size_t projects)
{
    double redis_cpu = s_redis_cpu (ctx), own_cpu = s_own_cpu ();
    double aof = s_redis_info (ctx, "persistence", "aof_current_size:");
    int64_t t0 = pmo_now_ms ();
    redisReply *reply = redisCommand (ctx, "ZADD pmo:{dft}:rm:due 0 *%lld:0", (long long)t0);
    freeReplyObject (reply);
    s_wait_due_none (ctx, "0", 0); //  the re-check marker gone
    double seconds = (pmo_now_ms () - t0) / 1000.0;
    redis_cpu = s_redis_cpu (ctx) - redis_cpu;
    own_cpu = s_own_cpu () - own_cpu;
    aof = s_redis_info (ctx, "persistence", "aof_current_size:") - aof;
    printf ("re-check after a threshold change that moves nothing: %zu projects in %.3f s; "
            "CPU: risk monitor %.2f s, Redis %.2f s; AOF %.1f MB written\n",
            projects, seconds, own_cpu, redis_cpu, aof / 1e6);
}

//  churn: every status report moves its project's health (the worst case);
//  otherwise one report in ten does (closer to a real portfolio)
static void s_throughput (bool churn)
{
    size_t projects = s_smoke   ? 50
                      : s_quick ? 500
                                : 2000,
           total = s_smoke   ? 1000
                   : s_quick ? 20000
                             : 100000;
    pmo_test_redis_t *redis = pmo_test_redis_start (false);
    redisContext *ctx = s_connect (redis);
    s_division (ctx);
    char (*ids)[24] = calloc (projects, 24);
    size_t queued = 0, events = 0;
    for (size_t p = 0; p < projects; p++) {
        snprintf (ids[p], 24, "pr_dft_%zu", p + 1);
        Pmo__Event event;
        Pmo__Project project;
        s_project_event (&event, &project, ids[p]);
        s_xadd (ctx, "dft", &event);
        queued++;
        events++;
    }
    //  The mix: 70 % status reports, 20 % milestone changes, 10 % project updates
    for (size_t i = 0; events < total; i++, events++) {
        size_t p = i % projects;
        Pmo__Event event = PMO__EVENT__INIT;
        event.division = "dft";
        event.source = "registry";
        Pmo__StatusReport report = PMO__STATUS_REPORT__INIT;
        Pmo__Milestone milestone = PMO__MILESTONE__INIT;
        Pmo__Project project;
        char rid[32], mid[32];
        if (i % 10 < 7) {
            snprintf (rid, sizeof rid, "sr_dft_%zu", i + 1);
            report.id = rid;
            report.project_id = ids[p];
            report.period_end = "2099-01-01";
            report.pv_minor = 1000;
            size_t round = i / projects;
            report.ev_minor =
                churn ? (int64_t[]){1000, 930, 850}[round % 3] : (round % 10 == 9 ? 850 : 1000);
            report.has_ac = true;
            report.ac_minor = 1000;
            report.overall = PMO__RAG__RAG_GREEN;
            event.type = "status_report.submitted";
            event.entity_id = rid;
            event.body_case = PMO__EVENT__BODY_STATUS_REPORT;
            event.status_report = &report;
        } else if (i % 10 < 9) {
            snprintf (mid, sizeof mid, "ms_dft_%zu", p % 5 + 1 + p * 5);
            milestone.id = mid;
            milestone.project_id = ids[p];
            milestone.name = "Milestone";
            milestone.baseline_date = "2098-06-30";
            milestone.version = i + 1;
            event.type = "milestone.updated";
            event.entity_id = mid;
            event.body_case = PMO__EVENT__BODY_MILESTONE;
            event.milestone = &milestone;
        } else {
            s_project_event (&event, &project, ids[p]);
            project.version = i + 2;
            event.type = "project.updated";
        }
        s_xadd (ctx, "dft", &event);
        if (++queued == 1000) {
            s_drain (ctx, queued);
            queued = 0;
        }
    }
    s_drain (ctx, queued);
    s_rm_t rm;
    int64_t started = pmo_mono_ms ();
    s_rm_start (&rm, redis, 1000, NULL);
    int64_t t0 = pmo_mono_ms ();
    double redis_cpu = s_redis_cpu (ctx), own_cpu = s_own_cpu ();
    while (!s_caught_up (ctx))
        zclock_sleep (2);
    double seconds = (pmo_mono_ms () - t0) / 1000.0;
    redis_cpu = s_redis_cpu (ctx) - redis_cpu;
    own_cpu = s_own_cpu () - own_cpu;
    Pmo__RiskmonReply *stats = s_stats (&rm, 2000);
    printf (
        "events processed (%s): %zu events (%zu projects) in %.2f s = %.0f events/s "
        "(target >= 20,000/s); %llu health changes; start-up %lld ms not counted; CPU per "
        "event: risk monitor %.1f us, Redis %.1f us\n",
        churn ? "every report changes health" : "1 report in 10 changes health", total, projects,
        seconds, total / seconds, stats ? (unsigned long long)stats->stats->health_changes : 0ULL,
        (long long)(t0 - started), own_cpu * 1e6 / (double)total, redis_cpu * 1e6 / (double)total);
    if (stats)
        protobuf_c_message_free_unpacked (&stats->base, NULL);
    s_redis_report (ctx);
    s_rm_stop (&rm);
    redisFree (ctx);
    free (ids);
    pmo_test_redis_destroy (&redis);
}

//  The number of the status report a health change came from ("sr_dft_N"),
//  0 if it came from something else.
static unsigned long s_report_number (const Pmo__Event *changed)
{
    if (changed->body_case != PMO__EVENT__BODY_HEALTH || !changed->health->inputs ||
        strcmp (changed->health->trigger, "status_report.submitted") != 0)
        return 0;
    const char *id = changed->health->inputs->report_id;
    return strncmp (id, "sr_dft_", 7) == 0 ? strtoul (id + 7, NULL, 10) : 0;
}

static void s_latency (void)
{
    size_t projects = 200, rate = 1000, seconds = s_smoke ? 1 : s_quick ? 2 : 5;
    pmo_test_redis_t *redis = pmo_test_redis_start (false);
    redisContext *ctx = s_connect (redis);
    s_division (ctx);
    char (*ids)[24] = calloc (projects, 24);
    for (size_t p = 0; p < projects; p++) {
        snprintf (ids[p], 24, "pr_dft_%zu", p + 1);
        Pmo__Event event;
        Pmo__Project project;
        s_project_event (&event, &project, ids[p]);
        s_xadd (ctx, "dft", &event);
    }
    s_drain (ctx, projects);
    //  The registry's side: the commit (the risk monitor's reader waits in
    //  Redis for it)
    s_rm_t rm;
    s_rm_start (&rm, redis, 1000, NULL);
    zsock_t *sub = pmo_auth_sub_new (rm.pub, "dft.health.changed");
    zclock_sleep (300); //  the subscriptions settle (slow joiner)
    while (!s_caught_up (ctx))
        zclock_sleep (5);
    size_t total = rate * seconds;
    int64_t *sent_us = calloc (total + 1, sizeof (int64_t));
    int64_t *latency = calloc (total, sizeof (int64_t));
    size_t received = 0;
    zpoller_t *poller = zpoller_new (sub, NULL);
    int64_t start = zclock_usecs ();
    for (size_t i = 0; i < total; i++) {
        size_t p = i % projects;
        //  Each report flips its project between green and red
        char rid[32];
        snprintf (rid, sizeof rid, "sr_dft_%zu", i + 1);
        Pmo__StatusReport report = PMO__STATUS_REPORT__INIT;
        report.id = rid;
        report.project_id = ids[p];
        report.period_end = "2099-01-01";
        report.pv_minor = 1000;
        report.ev_minor = (i / projects) % 2 ? 1000 : 800;
        report.overall = PMO__RAG__RAG_GREEN;
        Pmo__Event event = PMO__EVENT__INIT;
        event.type = "status_report.submitted";
        event.division = "dft";
        event.source = "registry";
        event.entity_id = rid;
        event.body_case = PMO__EVENT__BODY_STATUS_REPORT;
        event.status_report = &report;
        sent_us[i + 1] = zclock_usecs ();
        s_xadd (ctx, "dft", &event);
        s_drain (ctx, 1);
        //  Collect health changes until this report's slot ends
        int64_t slot_end = start + (int64_t)(i + 1) * 1000000 / (int64_t)rate;
        while (true) {
            int64_t left = (slot_end - zclock_usecs ()) / 1000;
            if (zpoller_wait (poller, left > 0 ? (int)left : 0) != sub)
                break;
            zmsg_t *msg = zmsg_recv (sub);
            zframe_t *topic = zmsg_pop (msg), *body = zmsg_pop (msg);
            Pmo__Event *changed = pmo__event__unpack (NULL, zframe_size (body), zframe_data (body));
            if (changed) {
                int64_t now = zclock_usecs ();
                unsigned long n = s_report_number (changed);
                if (n >= 1 && n <= total && sent_us[n] && received < total)
                    latency[received++] = now - sent_us[n];
                pmo__event__free_unpacked (changed, NULL);
            }
            zframe_destroy (&topic);
            zframe_destroy (&body);
            zmsg_destroy (&msg);
            if (zclock_usecs () >= slot_end)
                break;
        }
    }
    //  The last ones
    while (received < total && zpoller_wait (poller, 500) == sub) {
        zmsg_t *msg = zmsg_recv (sub);
        zframe_t *topic = zmsg_pop (msg), *body = zmsg_pop (msg);
        Pmo__Event *changed = pmo__event__unpack (NULL, zframe_size (body), zframe_data (body));
        if (changed) {
            unsigned long n = s_report_number (changed);
            if (n >= 1 && n <= total && sent_us[n])
                latency[received++] = zclock_usecs () - sent_us[n];
            pmo__event__free_unpacked (changed, NULL);
        }
        zframe_destroy (&topic);
        zframe_destroy (&body);
        zmsg_destroy (&msg);
    }
    double elapsed = (zclock_usecs () - start) / 1e6;
    qsort (latency, received, sizeof (int64_t), s_cmp);
    printf ("report committed -> health change published at %zu reports/s for %.1f s: %zu of %zu "
            "published; p50 %.2f ms, p99 %.2f ms, max %.2f ms (target p99 < 50 ms)\n",
            rate, elapsed, received, total, received ? latency[received / 2] / 1000.0 : 0,
            received ? latency[(size_t)(received * 0.99)] / 1000.0 : 0,
            received ? latency[received - 1] / 1000.0 : 0);
    zpoller_destroy (&poller);
    zsock_destroy (&sub);
    s_rm_stop (&rm);
    free (sent_us);
    free (latency);
    free (ids);
    redisFree (ctx);
    pmo_test_redis_destroy (&redis);
}

static void s_sweep (size_t every)
{
    size_t projects = s_smoke ? 1000 : s_quick ? 20000 : 100000;
    //  one project in ten changes health in the sweep
    pmo_test_redis_t *redis = pmo_test_redis_start (false);
    redisContext *ctx = s_connect (redis);
    pmo_arena_t *arena = pmo_arena_new ();
    Pmo__Thresholds t;
    riskmon_thresholds_defaults (&t);
    int64_t now = pmo_now_ms ();
    //  Every project is due at this moment, an hour ahead: the bench moves
    //  the risk monitor's clock there once everything is loaded
    int64_t due_at = now + 3600 * 1000;
    s_clock_offset = 0;
    char today[16], overdue[16];
    time_t secs = (time_t)(now / 1000);
    struct tm tm;
    gmtime_r (&secs, &tm);
    strftime (today, sizeof today, "%Y-%m-%d", &tm);
    secs -= 2 * 86400;
    gmtime_r (&secs, &tm);
    strftime (overdue, sizeof overdue, "%Y-%m-%d", &tm);
    redisReply *reply = redisCommand (ctx, "SADD pmo:{hub}:rm:divisions dft");
    freeReplyObject (reply);
    size_t queued = 0;
    for (size_t p = 0; p < projects; p++) {
        pmo_arena_reset (arena);
        char id[24];
        snprintf (id, sizeof id, "pr_dft_%zu", p + 1);
        Pmo__Project project;
        Pmo__Event unused;
        s_project_event (&unused, &project, id);
        Pmo__ProjectHealth ph = PMO__PROJECT_HEALTH__INIT;
        Pmo__HealthInputs in = PMO__HEALTH_INPUTS__INIT;
        ph.inputs = &in;
        riskmon_apply_project (&in, &project);
        Pmo__StatusReport report = PMO__STATUS_REPORT__INIT;
        report.id = "sr_dft_1";
        report.period_end = today;
        report.pv_minor = report.ev_minor = 1000;
        riskmon_apply_report (&in, &report);
        bool changes = p % every == 0;
        Pmo__Milestone milestone = PMO__MILESTONE__INIT;
        if (changes) {
            milestone.id = "ms_dft_1";
            milestone.name = "Milestone";
            milestone.baseline_date = overdue;
            milestone.version = 1;
            riskmon_apply_milestone (&in, &milestone, arena);
        }
        //  Its current health as last assessed: before the milestone was late
        Pmo__HealthAssessment current;
        riskmon_assess (&in, &t, changes ? now - 3 * 86400000LL : now, arena, &current);
        current.seq = 1;
        ph.current = &current;
        ph.history = 1;
        ph.version = 1;
        size_t size = pmo__project_health__get_packed_size (&ph);
        uint8_t *blob = pmo_arena_alloc (arena, size + 1);
        pmo__project_health__pack (&ph, blob);
        redisAppendCommand (ctx, "HSET pmo:{dft}:rm:pj:%s v 1 d %b", id, blob, size);
        redisAppendCommand (ctx, "ZADD pmo:{dft}:rm:pjs %llu %s", (unsigned long long)p + 1, id);
        redisAppendCommand (ctx, "ZADD pmo:{dft}:rm:due %lld %s", (long long)due_at, id);
        queued += 3;
        if (queued >= 3000) {
            s_drain (ctx, queued);
            queued = 0;
        }
    }
    s_drain (ctx, queued);
    s_aof_settle (ctx);
    if (getenv ("BENCH_REDIS")) {
        reply = redisCommand (ctx, "CONFIG RESETSTAT");
        freeReplyObject (reply);
    }
    s_rm_t rm;
    s_rm_start (&rm, redis, 5, s_clock);
    char what[32];
    snprintf (what, sizeof what, "sweep-%zu", every);
    pid_t perf = s_perf_start (ctx, what);
    double redis_cpu = s_redis_cpu (ctx), own_cpu = s_own_cpu ();
    double aof = s_redis_info (ctx, "persistence", "aof_current_size:");
    double forks = s_redis_info (ctx, "stats", "total_forks:");
    int64_t t0 = pmo_now_ms ();
    s_clock_offset = due_at - t0;
    s_wait_due_none (ctx, "-inf", due_at);
    double seconds = (pmo_now_ms () - t0) / 1000.0;
    s_perf_stop (perf);
    redis_cpu = s_redis_cpu (ctx) - redis_cpu;
    own_cpu = s_own_cpu () - own_cpu;
    aof = s_redis_info (ctx, "persistence", "aof_current_size:") - aof;
    forks = s_redis_info (ctx, "stats", "total_forks:") - forks;
    Pmo__RiskmonReply *stats = s_stats (&rm, 2000);
    //  A rewrite (a fork) the sweep's own writes start competes with it
    printf ("time-rule sweep: %zu projects due at once in %.3f s (target < 1 s); %llu changed "
            "health (planned 1 in %zu, with events and alerts), the rest rescheduled; CPU: "
            "risk monitor %.2f s, Redis %.2f s; AOF %.1f MB written, %.0f rewrite(s) started\n",
            projects, seconds, stats ? (unsigned long long)stats->stats->health_changes : 0ULL,
            every, own_cpu, redis_cpu, aof / 1e6, forks);
    if (stats)
        protobuf_c_message_free_unpacked (&stats->base, NULL);
    s_redis_report (ctx);
    if (every == 10)
        s_recheck (ctx, projects);
    s_rm_stop (&rm);
    pmo_arena_destroy (&arena);
    redisFree (ctx);
    pmo_test_redis_destroy (&redis);
}

int main (int argc, char **argv)
{
    setvbuf (stdout, NULL, _IOLBF, 0);
    s_smoke = argc > 1 && strcmp (argv[1], "--smoke") == 0;
    s_quick = s_smoke || (argc > 1 && strcmp (argv[1], "--quick") == 0);
    pmo_log_init ("bench", "error");
    printf ("bench_riskmon%s: 2 vCPUs shared by Redis, the risk monitor and the load\n",
            s_quick ? " (quick)" : "");
    //  BENCH_ONLY=throughput|churn|latency|sweep runs one part (for
    //  profiling; BENCH_PERF and BENCH_SWEEP above and in s_perf_start)
    const char *only = getenv ("BENCH_ONLY");
    if (!only || strcmp (only, "throughput") == 0)
        s_throughput (false);
    if (!only || strcmp (only, "throughput") == 0 || strcmp (only, "churn") == 0)
        s_throughput (true);
    if (!only || strcmp (only, "latency") == 0)
        s_latency ();
    if (!only || strcmp (only, "sweep") == 0) {
        //  BENCH_SWEEP=N: only the sweep where 1 project in N changes
        const char *one = getenv ("BENCH_SWEEP");
        if (one)
            s_sweep ((size_t)atol (one) ? (size_t)atol (one) : 10);
        else {
            s_sweep (1000000); //  nothing changes: the evaluation alone
            s_sweep (100);
            s_sweep (10);
        }
    }
    return 0;
}
