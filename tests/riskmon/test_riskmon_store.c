/*  test_riskmon_store.c: the risk monitor's batch commits on a real Redis.

    Several commits go into one script; each must behave as its own
    pmo_commit would: a refused one (already applied, stale version) writes
    nothing while the others apply, commits of one project chain on each
    other's versions, an entry marked applied (in this script, an earlier
    one, or by an older version as a key of its own) is refused as a
    duplicate, the events of each commit come back with their stream ids,
    and writes folded at the end of the script leave the last value.
    Malformed arguments (the script reads its ops by position) are refused
    with an error naming what is wrong, and nothing is written, even when
    a well-formed commit comes first.
    The sweep's transactions (no markers, no chained versions): accepted
    whole with every event's id, refused whole by one stale version or a
    master that may not write, writing nothing; the others still go as
    the script.
    The sweep's read-ahead: the next chunk's ZRANGEBYSCORE, queued behind
    a chunk's scripts and its schedule writes without waiting for them,
    sees what they wrote.
    An event published with its stream id is the encoding appended to the
    stream with the id added: it decodes to the event with that id, short
    ids and long (a length of two bytes) alike.
*/
#include "pmo_log.h"
#include "pmo_testkit.h"
#include "riskmon_store.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static redisReply *s_cmd (redisContext *ctx, const char *format, const char *key)
{
    redisReply *reply = redisCommand (ctx, format, key);
    assert (reply);
    return reply;
}

//  The version stored at key (0 if absent).
static long long s_version (redisContext *ctx, const char *key)
{
    redisReply *reply = s_cmd (ctx, "HGET %s v", key);
    long long v = reply->type == REDIS_REPLY_STRING ? atoll (reply->str) : 0;
    freeReplyObject (reply);
    return v;
}

static long long s_integer (redisContext *ctx, const char *format, const char *key)
{
    redisReply *reply = s_cmd (ctx, format, key);
    assert (reply->type == REDIS_REPLY_INTEGER);
    long long value = reply->integer;
    freeReplyObject (reply);
    return value;
}

//  A commit putting a health record (expecting `expect`) with one event.
static riskmon_commit_t *s_commit (pmo_arena_t *arena, const char *key, uint64_t expect,
                                   const char *project, double due)
{
    riskmon_commit_t *commit = riskmon_commit_new (arena);
    Pmo__ProjectHealth ph = PMO__PROJECT_HEALTH__INIT;
    ph.version = expect + 1;
    ph.history = expect + 1;
    riskmon_commit_put (commit, key, &ph.base, expect, expect + 1);
    riskmon_commit_zadd (commit, "pmo:{dft}:rm:due", due, project);
    Pmo__Event *event = pmo_arena_alloc (arena, sizeof (Pmo__Event));
    pmo__event__init (event);
    event->type = "health.changed";
    event->entity_id = (char *)project;
    size_t size;
    riskmon_commit_event (commit, "dft", event, &size);
    return commit;
}

static void s_test_batch (pmo_test_redis_t *server)
{
    pmo_redis_t *redis = pmo_redis_new (pmo_test_redis_url (server), 2000);
    riskmon_store_t *store = riskmon_store_new (redis, "hub");
    redisContext *ctx = redisConnect ("127.0.0.1", pmo_test_redis_port (server));
    assert (ctx && !ctx->err);
    pmo_arena_t *arena = pmo_arena_new ();
    const char *a = "pmo:{dft}:rm:pj:pr_dft_1", *b = "pmo:{dft}:rm:pj:pr_dft_2";
    //  An entry an older version recorded as applied, as a key of its own
    redisReply *reply = s_cmd (ctx, "SET %s 1 EX 60", "pmo:{dft}:idem:rm.dft.1-0.pr_dft_2");
    freeReplyObject (reply);

    //  Chunks of 2: the five commits travel in three scripts
    riskmon_batch_t *batch = riskmon_batch_new (store, arena, 2);
    size_t t1 = riskmon_batch_add (batch, "dft", s_commit (arena, a, 0, "pr_dft_1", 100),
                                   "rm.dft.1-0.pr_dft_1", 60);
    //  The same project again: builds on the first commit's version
    size_t t2 = riskmon_batch_add (batch, "dft", s_commit (arena, a, 1, "pr_dft_1", 200),
                                   "rm.dft.2-0.pr_dft_1", 60);
    //  Applied by an older version: refused, writes nothing
    size_t t3 = riskmon_batch_add (batch, "dft", s_commit (arena, b, 0, "pr_dft_2", 300),
                                   "rm.dft.1-0.pr_dft_2", 60);
    //  A stale version: refused, writes nothing (not even its marker)
    size_t t4 = riskmon_batch_add (batch, "dft", s_commit (arena, a, 7, "pr_dft_1", 400),
                                   "rm.dft.3-0.pr_dft_1", 60);
    //  The first entry delivered twice in the same batch
    size_t t5 = riskmon_batch_add (batch, "dft", s_commit (arena, a, 2, "pr_dft_1", 500),
                                   "rm.dft.1-0.pr_dft_1", 60);
    riskmon_batch_send (batch);
    riskmon_batch_recv (batch);
    const riskmon_batch_result_t *r1 = riskmon_batch_result (batch, t1),
                                 *r2 = riskmon_batch_result (batch, t2);
    assert (r1->status == PMO_COMMIT_OK && r1->n_ids == 1 && strchr (r1->ids[0], '-'));
    assert (r2->status == PMO_COMMIT_OK && r2->n_ids == 1 && strcmp (r1->ids[0], r2->ids[0]) < 0);
    assert (riskmon_batch_result (batch, t3)->status == PMO_COMMIT_DUPLICATE);
    assert (riskmon_batch_result (batch, t4)->status == PMO_COMMIT_CONFLICT);
    assert (riskmon_batch_result (batch, t5)->status == PMO_COMMIT_DUPLICATE);
    riskmon_batch_destroy (&batch);
    assert (s_version (ctx, a) == 2);
    assert (s_version (ctx, b) == 0);
    assert (s_integer (ctx, "XLEN %s", "pmo:{dft}:events") == 2);
    //  The due set holds the last accepted value, not the refused ones
    reply = s_cmd (ctx, "ZSCORE %s pr_dft_1", "pmo:{dft}:rm:due");
    assert (reply->type == REDIS_REPLY_STRING && strcmp (reply->str, "200") == 0);
    freeReplyObject (reply);
    assert (s_integer (ctx, "ZCARD %s", "pmo:{dft}:rm:due") == 1);

    //  A later batch: both markers it set are found (the day's hash)
    batch = riskmon_batch_new (store, arena, 64);
    t1 = riskmon_batch_add (batch, "dft", s_commit (arena, a, 2, "pr_dft_1", 600),
                            "rm.dft.2-0.pr_dft_1", 60);
    t2 = riskmon_batch_add (batch, "dft", s_commit (arena, a, 2, "pr_dft_1", 700),
                            "rm.dft.3-0.pr_dft_1", 60);
    //  No marker (the sweep's commits): judged on its version alone
    t3 = riskmon_batch_add (batch, "dft", s_commit (arena, b, 0, "pr_dft_2", 800), NULL, 0);
    riskmon_batch_send (batch);
    riskmon_batch_recv (batch);
    assert (riskmon_batch_result (batch, t1)->status == PMO_COMMIT_DUPLICATE);
    assert (riskmon_batch_result (batch, t2)->status == PMO_COMMIT_OK);
    assert (riskmon_batch_result (batch, t3)->status == PMO_COMMIT_OK);
    riskmon_batch_destroy (&batch);
    assert (s_version (ctx, a) == 3 && s_version (ctx, b) == 1);
    assert (s_integer (ctx, "XLEN %s", "pmo:{dft}:events") == 4);
    //  The markers live in one hash per day that expires on its own
    reply = s_cmd (ctx, "KEYS %s", "pmo:{dft}:rm:applied:*");
    assert (reply->type == REDIS_REPLY_ARRAY && reply->elements == 1);
    char day_key[128];
    snprintf (day_key, sizeof day_key, "%s", reply->element[0]->str);
    freeReplyObject (reply);
    assert (s_integer (ctx, "HLEN %s", day_key) == 3);
    long long ttl = s_integer (ctx, "TTL %s", day_key);
    assert (ttl > 60 && ttl <= 60 + 86400);

    //  Redis forgot the script (a restart): the commit is unavailable,
    //  nothing is written, and the next batch loads it again
    reply = s_cmd (ctx, "SCRIPT %s", "FLUSH");
    freeReplyObject (reply);
    batch = riskmon_batch_new (store, arena, 64);
    t1 = riskmon_batch_add (batch, "dft", s_commit (arena, a, 3, "pr_dft_1", 900),
                            "rm.dft.4-0.pr_dft_1", 60);
    riskmon_batch_send (batch);
    riskmon_batch_recv (batch);
    assert (riskmon_batch_result (batch, t1)->status == PMO_COMMIT_UNAVAILABLE);
    riskmon_batch_destroy (&batch);
    assert (s_version (ctx, a) == 3);
    batch = riskmon_batch_new (store, arena, 64);
    t1 = riskmon_batch_add (batch, "dft", s_commit (arena, a, 3, "pr_dft_1", 900),
                            "rm.dft.4-0.pr_dft_1", 60);
    riskmon_batch_send (batch);
    riskmon_batch_recv (batch);
    assert (riskmon_batch_result (batch, t1)->status == PMO_COMMIT_OK);
    riskmon_batch_destroy (&batch);
    assert (s_version (ctx, a) == 4);

    pmo_arena_destroy (&arena);
    redisFree (ctx);
    riskmon_store_destroy (&store);
    pmo_redis_destroy (&redis);
    printf ("batch commits: ok\n");
}

//  A record as an older commit left it: version v.
static void s_record (redisContext *ctx, const char *key, int v)
{
    redisReply *reply = redisCommand (ctx, "HSET %s v %d d x", key, v);
    assert (reply && reply->type == REDIS_REPLY_INTEGER);
    freeReplyObject (reply);
}

static bool s_member (redisContext *ctx, const char *key, const char *member, const char *score)
{
    redisReply *reply = redisCommand (ctx, "ZSCORE %s %s", key, member);
    assert (reply);
    bool same = score ? reply->type == REDIS_REPLY_STRING && strcmp (reply->str, score) == 0
                      : reply->type == REDIS_REPLY_NIL;
    freeReplyObject (reply);
    return same;
}

//  The sweep's batches go as transactions (riskmon_batch_transactions):
//  WATCH, the version check, MULTI/EXEC. Accepted whole with every event's
//  id, or refused whole (a stale version, a refused write) writing nothing
//  but the fence; commits that chain on each other or carry markers still
//  go as the script and are judged one by one.
static void s_test_transactions (pmo_test_redis_t *server)
{
    pmo_redis_t *redis = pmo_redis_new (pmo_test_redis_url (server), 2000);
    riskmon_store_t *store = riskmon_store_new (redis, "hub");
    redisContext *ctx = redisConnect ("127.0.0.1", pmo_test_redis_port (server));
    assert (ctx && !ctx->err);
    pmo_arena_t *arena = pmo_arena_new ();
    redisReply *reply = s_cmd (ctx, "DEL %s", "pmo:{tx}:events");
    freeReplyObject (reply);
    const char *a = "pmo:{tx}:rm:pj:pr_tx_1", *b = "pmo:{tx}:rm:pj:pr_tx_2";
    const char *due = "pmo:{tx}:rm:due", *fence = "pmo:{tx}:rm:fence";
    s_record (ctx, a, 1);
    s_record (ctx, b, 1);
    reply = s_cmd (ctx, "ZADD %s 5 gone", due);
    freeReplyObject (reply);

    //  Two projects, a history entry created beside a record, events, and
    //  sorted-set changes of one member in order (added, then removed)
    riskmon_batch_t *batch = riskmon_batch_new (store, arena, 64);
    riskmon_batch_transactions (batch);
    riskmon_commit_t *ca = riskmon_commit_new (arena);
    Pmo__ProjectHealth ph = PMO__PROJECT_HEALTH__INIT;
    riskmon_commit_put (ca, a, &ph.base, 1, 2);
    riskmon_commit_create (ca, "pmo:{tx}:rm:hist:pr_tx_1:2", &ph.base, 1);
    riskmon_commit_zadd (ca, due, 100, "pr_tx_1");
    riskmon_commit_zadd (ca, due, 150, "gone");
    Pmo__Event event = PMO__EVENT__INIT;
    event.type = "health.changed";
    size_t size;
    riskmon_commit_event (ca, "tx", &event, &size);
    event.type = "alert.raised";
    riskmon_commit_event (ca, "tx", &event, &size);
    riskmon_commit_t *cb = riskmon_commit_new (arena);
    riskmon_commit_put (cb, b, &ph.base, 1, 2);
    riskmon_commit_zrem (cb, due, "gone");
    riskmon_commit_zadd (cb, due, 200, "pr_tx_2");
    event.type = "health.changed";
    riskmon_commit_event (cb, "tx", &event, &size);
    size_t t1 = riskmon_batch_add (batch, "tx", ca, NULL, 0);
    size_t t2 = riskmon_batch_add (batch, "tx", cb, NULL, 0);
    riskmon_batch_send (batch);
    riskmon_batch_recv (batch);
    const riskmon_batch_result_t *r1 = riskmon_batch_result (batch, t1),
                                 *r2 = riskmon_batch_result (batch, t2);
    assert (r1->status == PMO_COMMIT_OK && r1->n_ids == 2);
    assert (r2->status == PMO_COMMIT_OK && r2->n_ids == 1);
    assert (strcmp (r1->ids[0], r1->ids[1]) < 0 && strcmp (r1->ids[1], r2->ids[0]) < 0);
    char **ids1 = r1->ids, **ids2 = r2->ids; //  in the arena
    riskmon_batch_destroy (&batch);
    assert (s_version (ctx, a) == 2 && s_version (ctx, b) == 2);
    assert (s_version (ctx, "pmo:{tx}:rm:hist:pr_tx_1:2") == 1);
    assert (s_integer (ctx, "XLEN %s", "pmo:{tx}:events") == 3);
    reply = s_cmd (ctx, "XRANGE %s - +", "pmo:{tx}:events");
    assert (reply->type == REDIS_REPLY_ARRAY && reply->elements == 3);
    assert (strcmp (reply->element[0]->element[0]->str, ids1[0]) == 0);
    assert (strcmp (reply->element[2]->element[0]->str, ids2[0]) == 0);
    assert (strcmp (reply->element[1]->element[1]->element[1]->str, "alert.raised") == 0);
    freeReplyObject (reply);
    assert (s_member (ctx, due, "pr_tx_1", "100") && s_member (ctx, due, "pr_tx_2", "200"));
    assert (s_member (ctx, due, "gone", NULL));
    assert (s_integer (ctx, "EXISTS %s", fence) == 0); //  written only on a refusal

    //  One stale version refuses every commit of the transaction
    batch = riskmon_batch_new (store, arena, 64);
    riskmon_batch_transactions (batch);
    t1 = riskmon_batch_add (batch, "tx", s_commit (arena, a, 2, "pr_tx_1", 300), NULL, 0);
    t2 = riskmon_batch_add (batch, "tx", s_commit (arena, b, 1, "pr_tx_2", 400), NULL, 0);
    riskmon_batch_send (batch);
    riskmon_batch_recv (batch);
    assert (riskmon_batch_result (batch, t1)->status == PMO_COMMIT_CONFLICT);
    assert (riskmon_batch_result (batch, t2)->status == PMO_COMMIT_CONFLICT);
    riskmon_batch_destroy (&batch);
    assert (s_version (ctx, a) == 2 && s_version (ctx, b) == 2);
    assert (s_integer (ctx, "XLEN %s", "pmo:{tx}:events") == 3);
    assert (s_member (ctx, due, "pr_tx_1", "100") && s_member (ctx, due, "pr_tx_2", "200"));
    reply = s_cmd (ctx, "GET %s", fence);
    assert (reply->type == REDIS_REPLY_STRING && strcmp (reply->str, "1") == 0);
    freeReplyObject (reply);

    //  A master that may not write (no replicas): refused as queued,
    //  unavailable (retryable), nothing written
    reply = s_cmd (ctx, "CONFIG SET min-replicas-to-write %s", "1");
    freeReplyObject (reply);
    batch = riskmon_batch_new (store, arena, 64);
    riskmon_batch_transactions (batch);
    t1 = riskmon_batch_add (batch, "tx", s_commit (arena, a, 2, "pr_tx_1", 500), NULL, 0);
    riskmon_batch_send (batch);
    riskmon_batch_recv (batch);
    assert (riskmon_batch_result (batch, t1)->status == PMO_COMMIT_UNAVAILABLE);
    riskmon_batch_destroy (&batch);
    reply = s_cmd (ctx, "CONFIG SET min-replicas-to-write %s", "0");
    freeReplyObject (reply);
    assert (s_version (ctx, a) == 2);
    assert (s_integer (ctx, "XLEN %s", "pmo:{tx}:events") == 3);

    //  Commits of one project chaining on each other's versions, and one
    //  with a marker: the script, each judged on its own
    long long dft_events = s_integer (ctx, "XLEN %s", "pmo:{dft}:events");
    batch = riskmon_batch_new (store, arena, 64);
    riskmon_batch_transactions (batch);
    t1 = riskmon_batch_add (batch, "tx", s_commit (arena, a, 2, "pr_tx_1", 600), NULL, 0);
    t2 = riskmon_batch_add (batch, "tx", s_commit (arena, a, 3, "pr_tx_1", 700), NULL, 0);
    size_t t3 = riskmon_batch_add (batch, "tx", s_commit (arena, b, 9, "pr_tx_2", 800), NULL, 0);
    riskmon_batch_send (batch);
    riskmon_batch_recv (batch);
    assert (riskmon_batch_result (batch, t1)->status == PMO_COMMIT_OK);
    assert (riskmon_batch_result (batch, t2)->status == PMO_COMMIT_OK);
    assert (riskmon_batch_result (batch, t3)->status == PMO_COMMIT_CONFLICT);
    riskmon_batch_destroy (&batch);
    assert (s_version (ctx, a) == 4 && s_version (ctx, b) == 2);
    batch = riskmon_batch_new (store, arena, 64);
    riskmon_batch_transactions (batch);
    t1 = riskmon_batch_add (batch, "tx", s_commit (arena, b, 2, "pr_tx_2", 900), "rm.tx.1-0.b", 60);
    riskmon_batch_send (batch);
    riskmon_batch_recv (batch);
    assert (riskmon_batch_result (batch, t1)->status == PMO_COMMIT_OK);
    riskmon_batch_destroy (&batch);
    batch = riskmon_batch_new (store, arena, 64);
    riskmon_batch_transactions (batch);
    t1 = riskmon_batch_add (batch, "tx", s_commit (arena, b, 3, "pr_tx_2", 950), "rm.tx.1-0.b", 60);
    riskmon_batch_send (batch);
    riskmon_batch_recv (batch);
    assert (riskmon_batch_result (batch, t1)->status == PMO_COMMIT_DUPLICATE);
    riskmon_batch_destroy (&batch);
    assert (s_version (ctx, b) == 3);
    //  (s_commit appends to dft's stream)
    assert (s_integer (ctx, "XLEN %s", "pmo:{dft}:events") == dft_events + 3);

    pmo_arena_destroy (&arena);
    redisFree (ctx);
    riskmon_store_destroy (&store);
    pmo_redis_destroy (&redis);
    printf ("transactions: ok\n");
}

//  lua/batch.lua, as riskmon_lib embeds it (its header is private to it)
extern const char pmo_lua_riskmon_batch[];

//  Run the batch script on a well-formed commit (a put of key A with an
//  event) followed by `tail`, as n_commits commits.
static redisReply *s_batch_eval (redisContext *ctx, int n_commits, const char **tail, size_t n_tail)
{
    const char *argv[40] = {"EVAL",
                            pmo_lua_riskmon_batch,
                            "2",
                            "pmo:{dft}:rm:pj:pr_dft_9",
                            "pmo:{dft}:events",
                            NULL,
                            "86400",
                            "pmo:{dft}:rm:applied:",
                            "pmo:{dft}:idem:",
                            "1",
                            "2",
                            "rm.dft.9-0.pr_dft_9",
                            "W",
                            "1",
                            "1",
                            "blob",
                            "X",
                            "2",
                            "health.changed",
                            "data"};
    char count[8];
    snprintf (count, sizeof count, "%d", n_commits);
    argv[5] = count;
    size_t argc = 20;
    for (size_t i = 0; i < n_tail; i++)
        argv[argc++] = tail[i];
    redisReply *reply = redisCommandArgv (ctx, (int)argc, argv, NULL);
    assert (reply);
    return reply;
}

//  The same, which must be refused with `error` and write nothing.
static void s_malformed (redisContext *ctx, int n_commits, const char **tail, size_t n_tail,
                         const char *error)
{
    redisReply *reply = s_batch_eval (ctx, n_commits, tail, n_tail);
    if (reply->type != REDIS_REPLY_ERROR || !strstr (reply->str, error)) {
        fprintf (stderr, "malformed batch: expected '%s', got type %d '%s'\n", error, reply->type,
                 reply->str ? reply->str : "");
        abort ();
    }
    freeReplyObject (reply);
    assert (s_integer (ctx, "EXISTS %s", "pmo:{dft}:rm:pj:pr_dft_9") == 0);
    assert (s_integer (ctx, "EXISTS %s", "pmo:{dft}:events") == 0);
}

static void s_test_malformed (pmo_test_redis_t *server)
{
    redisContext *ctx = redisConnect ("127.0.0.1", pmo_test_redis_port (server));
    assert (ctx && !ctx->err);
    //  The well-formed commit alone is applied (the harness is right)
    redisReply *reply = s_batch_eval (ctx, 1, NULL, 0);
    assert (reply->type == REDIS_REPLY_ARRAY && reply->elements == 1);
    freeReplyObject (reply);
    assert (s_version (ctx, "pmo:{dft}:rm:pj:pr_dft_9") == 1);
    reply = s_cmd (ctx, "DEL %s", "pmo:{dft}:rm:pj:pr_dft_9");
    freeReplyObject (reply);
    reply = s_cmd (ctx, "DEL %s", "pmo:{dft}:events");
    freeReplyObject (reply);
    reply = redisCommand (ctx, "FLUSHALL");
    freeReplyObject (reply);
    s_malformed (ctx, 2, NULL, 0, "bad commit");
    const char *bad_op[] = {"0", "1", "Q", "1"};
    s_malformed (ctx, 2, bad_op, 4, "bad op Q");
    const char *bad_key[] = {"0", "1", "W", "3", "1", "blob"};
    s_malformed (ctx, 2, bad_key, 6, "bad key");
    const char *short_op[] = {"0", "1", "P", "1", "0"};
    s_malformed (ctx, 2, short_op, 5, "short op");
    const char *short_marks[] = {"3", "0", "rm.dft.10-0.pr_dft_9"};
    s_malformed (ctx, 2, short_marks, 3, "short marks");
    const char *not_number[] = {"x", "0"};
    s_malformed (ctx, 2, not_number, 2, "bad commit");
    redisFree (ctx);
    printf ("malformed batches: refused, nothing written\n");
}

//  A chunk's commits and schedule writes, then the next chunk's read,
//  queued on one connection before any answer is read: the read sees them.
static void s_test_read_ahead (pmo_test_redis_t *server)
{
    pmo_redis_t *redis = pmo_redis_new (pmo_test_redis_url (server), 2000);
    riskmon_store_t *store = riskmon_store_new (redis, "hub");
    pmo_arena_t *arena = pmo_arena_new ();
    const char *due = "pmo:{dft}:rm:due"; //  s_commit's
    //  Four projects due at 10; the chunk reschedules p1 (changed, in a
    //  script) and p2 (unchanged, in the plain ZADD) past 10, and p3 to
    //  no due time (ZREM)
    redisReply *reply = pmo_redis_command (redis, "DEL %s", due);
    freeReplyObject (reply);
    reply = pmo_redis_command (redis, "ZADD %s 10 p1 10 p2 10 p3 10 p4", due);
    assert (reply && reply->type == REDIS_REPLY_INTEGER && reply->integer == 4);
    freeReplyObject (reply);
    riskmon_batch_t *batch = riskmon_batch_new (store, arena, 2);
    size_t ticket = riskmon_batch_add (
        batch, "dft", s_commit (arena, "pmo:{dft}:rm:pj:p1", 0, "p1", 50), NULL, 60);
    riskmon_batch_send (batch);
    char *plain[] = {"p2", "p3"};
    int64_t at[] = {60, 0};
    int queued = riskmon_store_pipe_due_many (store, arena, "dft", plain, at, 2);
    assert (queued == 2);
    assert (riskmon_store_pipe_zrange (store, due, 10, 100) == 0);
    riskmon_batch_recv (batch);
    assert (riskmon_batch_result (batch, ticket)->status == PMO_COMMIT_OK);
    assert (riskmon_store_pipe_done (store, (size_t)queued) == 0);
    char **members;
    size_t n;
    assert (riskmon_store_zrange_take (store, arena, &members, &n) == 0);
    //  Only p4 is still due
    assert (n == 1 && strcmp (members[0], "p4") == 0);
    riskmon_batch_destroy (&batch);
    pmo_arena_destroy (&arena);
    riskmon_store_destroy (&store);
    pmo_redis_destroy (&redis);
    printf ("read-ahead behind the commits sees them: ok\n");
}

//  What riskmon_store_event_with_id gives, decoded, is the event with the id,
//  field for field (packed again, the same bytes as the event packed with
//  the id set).
static void s_check_with_id (pmo_arena_t *arena, Pmo__Event *event, const uint8_t *blob,
                             size_t size, const char *id)
{
    size_t with_size;
    uint8_t *with = riskmon_store_event_with_id (arena, blob, size, id, &with_size);
    Pmo__Event *got = pmo__event__unpack (NULL, with_size, with);
    assert (got && strcmp (got->id, id) == 0);
    assert (got->body_case == PMO__EVENT__BODY_ALERT && strcmp (got->alert->title, "Late") == 0);
    event->id = (char *)id;
    size_t want_size = pmo__event__get_packed_size (event);
    uint8_t *want = pmo_arena_alloc (arena, want_size);
    pmo__event__pack (event, want);
    size_t again_size = pmo__event__get_packed_size (got);
    uint8_t *again = pmo_arena_alloc (arena, again_size);
    pmo__event__pack (got, again);
    assert (again_size == want_size && memcmp (again, want, want_size) == 0);
    event->id = "";
    pmo__event__free_unpacked (got, NULL);
}

static void s_test_event_with_id (pmo_test_redis_t *server)
{
    pmo_redis_t *redis = pmo_redis_new (pmo_test_redis_url (server), 2000);
    riskmon_store_t *store = riskmon_store_new (redis, "hub");
    redisContext *ctx = redisConnect ("127.0.0.1", pmo_test_redis_port (server));
    assert (ctx && !ctx->err);
    pmo_arena_t *arena = pmo_arena_new ();
    Pmo__Alert alert = PMO__ALERT__INIT;
    alert.id = "al_dft_9";
    alert.title = "Late";
    alert.version = 3;
    Pmo__Event event = PMO__EVENT__INIT;
    event.type = "alert.updated";
    event.division = "dft";
    event.entity_id = "al_dft_9";
    event.entity_version = 3;
    event.time_ms = 1796600000000;
    event.body_case = PMO__EVENT__BODY_ALERT;
    event.alert = &alert;
    riskmon_commit_t *commit = riskmon_commit_new (arena);
    size_t size;
    const uint8_t *blob = riskmon_commit_event (commit, "dft", &event, &size);
    riskmon_batch_t *batch = riskmon_batch_new (store, arena, 64);
    size_t ticket = riskmon_batch_add (batch, "dft", commit, NULL, 0);
    riskmon_batch_send (batch);
    riskmon_batch_recv (batch);
    const riskmon_batch_result_t *result = riskmon_batch_result (batch, ticket);
    assert (result->status == PMO_COMMIT_OK && result->n_ids == 1);
    char *id = pmo_arena_strdup (arena, result->ids[0]);
    riskmon_batch_destroy (&batch);
    //  What the stream holds is the encoding returned
    redisReply *reply = redisCommand (ctx, "XRANGE pmo:{dft}:events %s %s", id, id);
    assert (reply && reply->type == REDIS_REPLY_ARRAY && reply->elements == 1);
    redisReply *fields = reply->element[0]->element[1];
    assert (fields->elements == 4 && strcmp (fields->element[2]->str, "data") == 0);
    assert (fields->element[3]->len == size && memcmp (fields->element[3]->str, blob, size) == 0);
    freeReplyObject (reply);
    s_check_with_id (arena, &event, blob, size, id);
    //  An id of 200 characters: its length takes two bytes
    char *long_id = pmo_arena_alloc (arena, 201);
    memset (long_id, '7', 200);
    long_id[200] = '\0';
    s_check_with_id (arena, &event, blob, size, long_id);
    s_check_with_id (arena, &event, blob, size, "");
    redisFree (ctx);
    pmo_arena_destroy (&arena);
    riskmon_store_destroy (&store);
    pmo_redis_destroy (&redis);
    printf ("an event published with its stream id decodes to the event with it: ok\n");
}

int main (void)
{
    setvbuf (stdout, NULL, _IOLBF, 0);
    pmo_log_init ("test", "error");
    pmo_test_redis_t *redis = pmo_test_redis_start (false);
    assert (redis);
    s_test_batch (redis);
    s_test_transactions (redis);
    s_test_malformed (redis);
    s_test_read_ahead (redis);
    s_test_event_with_id (redis);
    pmo_test_redis_destroy (&redis);
    printf ("test_riskmon_store: ok\n");
    return 0;
}
