/*  test_riskmon_sweep.c: a division looked at again when its thresholds
    change, over a real redis-server, registry and risk monitor.

    2,100 project records of division dft are written as the risk monitor
    keeps them (each with its health as last assessed and its real next
    due time). dft's thresholds change through the risk monitor's own
    request: the 21 projects the new thresholds turn red change (record,
    history, health.changed, alert); the other 2,079 keep their records
    and due times (no commit; their due times, which did not move, are not
    even rewritten, though Redis would show no difference). The walk takes
    2,000 projects a chunk and the sweep's budget is 1 ms, so it stops
    after each chunk and goes on from where it stopped at the next tick
    (one of the 21 is in the second chunk). Then projects rescored as an
    older version's re-check left them (every due time set to 1) are swept
    back to their real due times. Last, every project falls due at once
    with a budget that lets the sweep go on (the next chunk read behind
    each full one's transactions): each is swept once, and each that
    changes health gets one version and one event more.
*/
#include "riskmon_harness.h"
#include "riskmon_model.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROJECTS 2100
#define EVERY    100 //  one project in EVERY changes under the new thresholds
#define FIRST    500001

static redisContext *s_connect (rm_t *rm)
{
    redisContext *ctx = redisConnect ("127.0.0.1", pmo_test_redis_port (rm->rh->redis));
    assert (ctx && !ctx->err);
    return ctx;
}

static void s_drain (redisContext *ctx, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        redisReply *reply;
        int rc = redisGetReply (ctx, (void **)&reply);
        if (rc == REDIS_OK && reply->type == REDIS_REPLY_ERROR)
            fprintf (stderr, "s_drain: %s\n", reply->str);
        assert (rc == REDIS_OK && reply->type != REDIS_REPLY_ERROR);
        freeReplyObject (reply);
    }
}

static void s_id (size_t p, char *id, size_t size)
{
    snprintf (id, size, "pr_dft_%zu", FIRST + p);
}

//  The records, as the risk monitor last wrote them: on plan but for one
//  in EVERY at SPI 0.93 (amber under the defaults, red below 0.94)
static void s_fill (rm_t *rm, redisContext *ctx)
{
    pmo_arena_t *arena = pmo_arena_new ();
    Pmo__Thresholds t;
    riskmon_thresholds_defaults (&t);
    int64_t now = rm_now ();
    size_t queued = 0;
    for (size_t p = 0; p < PROJECTS; p++) {
        pmo_arena_reset (arena);
        char id[32];
        s_id (p, id, sizeof id);
        Pmo__Project project = PMO__PROJECT__INIT;
        project.id = project.code = project.name = id;
        project.org_unit = "dft";
        project.org_unit_path = "hub/dft";
        project.division = "dft";
        project.manager = "pm@dft";
        project.phase = PMO__PHASE__PHASE_EXECUTION;
        project.status = PMO__PROJECT_STATUS__PROJECT_STATUS_ACTIVE;
        project.version = 1;
        Pmo__ProjectHealth ph = PMO__PROJECT_HEALTH__INIT;
        Pmo__HealthInputs in = PMO__HEALTH_INPUTS__INIT;
        ph.inputs = &in;
        riskmon_apply_project (&in, &project);
        Pmo__StatusReport report = PMO__STATUS_REPORT__INIT;
        report.id = "sr_dft_1";
        report.period_end = (char *)rm_date (0, 0);
        report.pv_minor = 1000;
        report.ev_minor = p % EVERY == EVERY - 1 ? 930 : 1000;
        riskmon_apply_report (&in, &report);
        Pmo__HealthAssessment current;
        riskmon_assess (&in, &t, now, arena, &current);
        current.seq = 1;
        ph.current = &current;
        ph.history = 1;
        ph.version = 1;
        size_t size = pmo__project_health__get_packed_size (&ph);
        uint8_t *blob = pmo_arena_alloc (arena, size + 1);
        pmo__project_health__pack (&ph, blob);
        redisAppendCommand (ctx, "HSET pmo:{dft}:rm:pj:%s v 1 d %b", id, blob, size);
        redisAppendCommand (ctx, "ZADD pmo:{dft}:rm:pjs %llu %s", (unsigned long long)(FIRST + p),
                            id);
        queued += 2;
        if (current.next_due_ms) {
            redisAppendCommand (ctx, "ZADD pmo:{dft}:rm:due %lld %s",
                                (long long)current.next_due_ms, id);
            queued++;
        }
    }
    s_drain (ctx, queued);
    pmo_arena_destroy (&arena);
}

//  Every member of dft's due set with its score, as one string per member
static zhashx_t *s_due (redisContext *ctx)
{
    redisReply *reply = redisCommand (ctx, "ZRANGE pmo:{dft}:rm:due 0 -1 WITHSCORES");
    assert (reply && reply->type == REDIS_REPLY_ARRAY);
    zhashx_t *due = zhashx_new ();
    zhashx_set_destructor (due, (zhashx_destructor_fn *)zstr_free);
    zhashx_set_duplicator (due, (zhashx_duplicator_fn *)strdup);
    for (size_t i = 0; i + 1 < reply->elements; i += 2)
        zhashx_insert (due, reply->element[i]->str, reply->element[i + 1]->str);
    freeReplyObject (reply);
    return due;
}

static long long s_integer (redisContext *ctx, const char *format, const char *arg)
{
    redisReply *reply = redisCommand (ctx, format, arg);
    assert (reply);
    long long value = reply->type == REDIS_REPLY_INTEGER  ? reply->integer
                      : reply->type == REDIS_REPLY_STRING ? atoll (reply->str)
                                                          : -1;
    freeReplyObject (reply);
    return value;
}

//  Wait (generously: valgrind) until dft's due set holds no re-check marker
static void s_wait_no_marker (redisContext *ctx)
{
    for (int i = 0; i < 6000; i++) {
        redisReply *reply = redisCommand (ctx, "ZRANGEBYSCORE pmo:{dft}:rm:due 0 0");
        assert (reply && reply->type == REDIS_REPLY_ARRAY);
        size_t n = reply->elements;
        freeReplyObject (reply);
        if (n == 0)
            return;
        zclock_sleep (20);
    }
    assert (!"the re-check never finished");
}

//  Wait until the risk monitor reads dft's stream (it learns the division
//  from the registry's org_unit event): only then does it re-check dft
static void s_wait_stream (redisContext *ctx)
{
    for (int i = 0; i < 3000; i++) {
        redisReply *reply = redisCommand (ctx, "XINFO GROUPS pmo:{dft}:events");
        bool found = reply && reply->type == REDIS_REPLY_ARRAY && reply->elements > 0;
        freeReplyObject (reply);
        if (found)
            return;
        zclock_sleep (20);
    }
    assert (!"the risk monitor never read dft's stream");
}

int main (void)
{
    rm_t *rm = rm_start ();
    //  A 1 ms budget: the walk stops after each chunk of 2,000
    rm_actor_stop (rm);
    rm->config.sweep_budget_ms = 1;
    rm_actor_start (rm);
    Pmo__RegistryReply *unit = rh_unit (rm->rh, "hub", "enterprise", NULL, "controlling");
    rh_ok (unit);
    rh_free (&unit);
    unit = rh_unit (rm->rh, "dft", "division", "hub", "controlling");
    rh_ok (unit);
    rh_free (&unit);
    redisContext *ctx = s_connect (rm);
    s_wait_stream (ctx);
    s_fill (rm, ctx);
    zhashx_t *before = s_due (ctx);
    assert (zhashx_size (before) > 0);

    //  dft's SPI red line moves from 0.90 to 0.94
    Pmo__Thresholds t = PMO__THRESHOLDS__INIT;
    t.org_unit = "dft";
    t.spi_red_below = 0.94;
    Pmo__RiskmonRequest request = PMO__RISKMON_REQUEST__INIT;
    request.body_case = PMO__RISKMON_REQUEST__BODY_SET_THRESHOLDS;
    request.set_thresholds = &t;
    Pmo__RiskmonReply *reply = rm_call (rm, &request);
    rm_ok (reply);
    rm_free (&reply);
    s_wait_no_marker (ctx);

    size_t changed = 0;
    for (size_t p = 0; p < PROJECTS; p++) {
        char id[32], key[64];
        s_id (p, id, sizeof id);
        snprintf (key, sizeof key, "pmo:{dft}:rm:pj:%s", id);
        long long version = s_integer (ctx, "HGET %s v", key);
        if (p % EVERY == EVERY - 1) {
            //  Red now, with its history entry
            assert (version == 2);
            reply = rm_health (rm, id);
            rm_ok (reply);
            assert (reply->health->current->overall == PMO__RAG__RAG_RED &&
                    reply->health->current->seq == 2 &&
                    streq (reply->health->current->trigger, "time"));
            rm_free (&reply);
            changed++;
        } else {
            //  Nothing written: the record and its due time as they were
            assert (version == 1);
        }
    }
    assert (changed == PROJECTS / EVERY);
    assert (rm_count_events (rm, "dft", "health.changed", NULL) == changed);
    zhashx_t *after = s_due (ctx);
    for (const char *score = zhashx_first (before); score; score = zhashx_next (before)) {
        const char *id = zhashx_cursor (before);
        size_t p = (size_t)atoll (id + strlen ("pr_dft_")) - FIRST;
        const char *now = zhashx_lookup (after, id);
        assert (now);
        if (p % EVERY != EVERY - 1)
            assert (streq (now, score));
    }
    zhashx_destroy (&after);
    printf ("a re-check of %d projects over two chunks writes only the %zu that changed: ok\n",
            PROJECTS, changed);

    //  An older version's re-check made every project due at 1: those are
    //  swept back to their real due times
    const char *stale[] = {"pr_dft_500001", "pr_dft_501234", "pr_dft_502050"};
    for (size_t i = 0; i < 3; i++) {
        redisReply *set = redisCommand (ctx, "ZADD pmo:{dft}:rm:due 1 %s", stale[i]);
        assert (set && set->integer == 0);
        freeReplyObject (set);
    }
    for (size_t i = 0; i < 3; i++) {
        const char *score = zhashx_lookup (before, stale[i]);
        assert (score);
        bool back = false;
        for (int wait = 0; wait < 3000 && !back; wait++) {
            redisReply *got = redisCommand (ctx, "ZSCORE pmo:{dft}:rm:due %s", stale[i]);
            back = got && got->type == REDIS_REPLY_STRING && streq (got->str, score);
            freeReplyObject (got);
            if (!back)
                zclock_sleep (20);
        }
        assert (back);
        assert (s_integer (ctx, "HGET pmo:{dft}:rm:pj:%s v", stale[i]) == 1);
    }
    printf ("due times an older re-check left are swept back: ok\n");

    //  Every project due at once, 60 days on (every status report overdue:
    //  nearly all change health), with a budget that lets the sweep go on:
    //  the chunk after each full one is read behind that chunk's
    //  transactions. Every project is swept once: a project that changed
    //  has one more version and one more event, none is left due
    rm_actor_stop (rm);
    rm->config.sweep_budget_ms = 60000;
    rm_actor_start (rm);
    long long *versions = calloc (PROJECTS, sizeof (long long));
    for (size_t p = 0; p < PROJECTS; p++) {
        char id[32], key[64];
        s_id (p, id, sizeof id);
        snprintf (key, sizeof key, "pmo:{dft}:rm:pj:%s", id);
        versions[p] = s_integer (ctx, "HGET %s v", key);
    }
    for (size_t p = 0; p < PROJECTS; p++) {
        char id[32];
        s_id (p, id, sizeof id);
        redisAppendCommand (ctx, "ZADD pmo:{dft}:rm:due 1 %s", id);
    }
    s_drain (ctx, PROJECTS);
    size_t events = rm_count_events (rm, "dft", "health.changed", NULL);
    rm_advance_ms (60LL * 86400 * 1000);
    char now[32];
    snprintf (now, sizeof now, "%lld", (long long)rm_now ());
    bool swept = false;
    for (int wait = 0; wait < 6000 && !swept; wait++) {
        swept = s_integer (ctx, "ZCOUNT pmo:{dft}:rm:due -inf %s", now) == 0;
        if (!swept)
            zclock_sleep (20);
    }
    assert (swept);
    size_t moved = 0;
    for (size_t p = 0; p < PROJECTS; p++) {
        char id[32], key[64];
        s_id (p, id, sizeof id);
        snprintf (key, sizeof key, "pmo:{dft}:rm:pj:%s", id);
        long long version = s_integer (ctx, "HGET %s v", key);
        assert (version == versions[p] || version == versions[p] + 1);
        moved += (size_t)(version - versions[p]);
    }
    //  The last chunk (projects 2,001 to 2,100) changes too
    char last[32], last_key[64];
    s_id (PROJECTS - 1, last, sizeof last);
    snprintf (last_key, sizeof last_key, "pmo:{dft}:rm:pj:%s", last);
    assert (s_integer (ctx, "HGET %s v", last_key) == versions[PROJECTS - 1] + 1);
    assert (moved >= PROJECTS - PROJECTS / EVERY);
    assert (rm_count_events (rm, "dft", "health.changed", NULL) == events + moved);
    free (versions);
    printf ("%d projects due at once, swept over two chunks: %zu changed, each once: ok\n",
            PROJECTS, moved);

    zhashx_destroy (&before);
    redisFree (ctx);
    rm_stop (&rm);
    printf ("test_riskmon_sweep: ok\n");
    return 0;
}
