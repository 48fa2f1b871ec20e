/*  riskmon_store.c: the risk monitor's Redis layout.

    pmo:{<div>}:rm:pj:<project>           hash v,d  ProjectHealth: inputs, current health, alerts
    pmo:{<div>}:rm:pjs                    zset      projects of the division (score: id sequence)
    pmo:{<div>}:rm:due                    zset      project -> when a time rule may fire (Unix ms);
                                                    and score 0: re-check markers "*<token>:<seq>"
                                                    (every project after seq is to be looked at)
    pmo:{<div>}:rm:hist:<project>:<seq>   hash v,d  the seq-th health assessment (history)
    pmo:{<div>}:rm:<p>:<id>               hash v,d  entry; p: rk risk, is issue, cr change request,
                                                    ra assumption/decision/dependency, al alert
    pmo:{<div>}:rm:<p>:<id>:<version>     hash v,d  that entry as it was at version (history)
    pmo:{<div>}:rm:ix:<p>                 zset      ids of kind p in the division, by sequence
    pmo:{<div>}:rm:ix:<p>:pj:<project>    zset      ids of kind p of one project
    pmo:{<div>}:rm:esc                    zset      alert -> when it climbs (Unix ms)
    pmo:{<div>}:rm:seq                    hash      prefix -> last sequence number
    pmo:{<div>}:rm:fence                  string    transactions refused by their version
                                                    check (a counter; WATCHed: see Transactions)
    pmo:{<hub>}:rm:th:<unit>              hash v,d  a PMO unit's own thresholds
    pmo:{<hub>}:rm:ths                    zset      units with thresholds
    pmo:{<hub>}:rm:divisions              set       divisions whose streams are read
    pmo:{<div>}:events                    stream    read with group "riskmon"; riskmon's events
    pmo:{<div>}:idem:<request id>         string    done requests (24 h) (and, from older
                                                    versions, applied stream entries)
    pmo:{<div>}:rm:applied:<day>          hash      stream entries applied that Unix day (Redis's
                                                    clock): "rm.<div>.<entry>.<project>" -> 1;
                                                    expires 8 days after its last write
*/
#include "riskmon_store.h"
#include "pmo_seq.h"
#include "pmo_log.h"
#include "pmo_lua_riskmon_batch.h"
#include "pmo_lua_riskmon_check.h"
#include "pmo_lua_riskmon_versions.h"
#include "pmo_reflect.h"
#include "pmo_stream.h"

#include <czmq.h>

#include <assert.h>
#include <stdlib.h>
#include <string.h>

struct _riskmon_store_t {
    pmo_redis_t *redis; //  not owned
    char hub[40];
    size_t ahead; //  answers read ahead and not yet taken
};

riskmon_store_t *riskmon_store_new (pmo_redis_t *redis, const char *hub)
{
    riskmon_store_t *self = calloc (1, sizeof (riskmon_store_t));
    assert (self);
    self->redis = redis;
    snprintf (self->hub, sizeof self->hub, "%s", hub);
    return self;
}

void riskmon_store_destroy (riskmon_store_t **self_p)
{
    assert (self_p);
    free (*self_p);
    *self_p = NULL;
}

const char *riskmon_store_hub (riskmon_store_t *self)
{
    return self->hub;
}

//  Decimal digits of value in arena, without printf (the sweep formats
//  thousands of numbers per chunk).
static char *s_u64_text (pmo_arena_t *arena, uint64_t value)
{
    char digits[PMO_DIGITS_MAX + 1];
    digits[PMO_DIGITS_MAX] = 0;
    return pmo_arena_strdup (arena, pmo_digits_u64 (digits + PMO_DIGITS_MAX, value));
}

//  ---------------------------------------------------------------------
//  Keys

//  The parts, one after the other, in arena: the keys are built for every
//  project a sweep or a batch touches, and joining them costs a fraction
//  of formatting them.
#define S_JOIN(arena, ...)                                                                         \
    s_join (arena, (const char *const[]){__VA_ARGS__},                                             \
            sizeof ((const char *const[]){__VA_ARGS__}) / sizeof (char *))

static char *s_join (pmo_arena_t *arena, const char *const *parts, size_t n)
{
    size_t lens[8], total = 0;
    assert (n <= 8);
    for (size_t i = 0; i < n; i++)
        total += lens[i] = strlen (parts[i]);
    char *text = pmo_arena_alloc (arena, total + 1), *at = text;
    for (size_t i = 0; i < n; i++) {
        memcpy (at, parts[i], lens[i]);
        at += lens[i];
    }
    *at = '\0';
    return text;
}

char *riskmon_key_project (pmo_arena_t *arena, const char *division, const char *project)
{
    return S_JOIN (arena, "pmo:{", division, "}:rm:pj:", project);
}

char *riskmon_key_projects (pmo_arena_t *arena, const char *division)
{
    return S_JOIN (arena, "pmo:{", division, "}:rm:pjs");
}

char *riskmon_key_due (pmo_arena_t *arena, const char *division)
{
    return S_JOIN (arena, "pmo:{", division, "}:rm:due");
}

char *riskmon_key_history (pmo_arena_t *arena, const char *division, const char *project,
                           uint64_t seq)
{
    return S_JOIN (arena, "pmo:{", division, "}:rm:hist:", project, ":", s_u64_text (arena, seq));
}

char *riskmon_key_entry (pmo_arena_t *arena, const char *division, const char *prefix,
                         const char *id)
{
    return S_JOIN (arena, "pmo:{", division, "}:rm:", prefix, ":", id);
}

char *riskmon_key_entry_version (pmo_arena_t *arena, const char *division, const char *prefix,
                                 const char *id, uint64_t version)
{
    return S_JOIN (arena, "pmo:{", division, "}:rm:", prefix, ":", id, ":",
                   s_u64_text (arena, version));
}

char *riskmon_key_index (pmo_arena_t *arena, const char *division, const char *prefix,
                         const char *project)
{
    if (project)
        return S_JOIN (arena, "pmo:{", division, "}:rm:ix:", prefix, ":pj:", project);
    return S_JOIN (arena, "pmo:{", division, "}:rm:ix:", prefix);
}

char *riskmon_key_escalations (pmo_arena_t *arena, const char *division)
{
    return S_JOIN (arena, "pmo:{", division, "}:rm:esc");
}

char *riskmon_key_fence (pmo_arena_t *arena, const char *division)
{
    return S_JOIN (arena, "pmo:{", division, "}:rm:fence");
}

char *riskmon_key_thresholds (pmo_arena_t *arena, const char *hub, const char *unit)
{
    return S_JOIN (arena, "pmo:{", hub, "}:rm:th:", unit);
}

char *riskmon_key_thresholds_index (pmo_arena_t *arena, const char *hub)
{
    return S_JOIN (arena, "pmo:{", hub, "}:rm:ths");
}

char *riskmon_key_events (pmo_arena_t *arena, const char *division)
{
    return pmo_stream_key (arena, division);
}

char *riskmon_event_request_id (pmo_arena_t *arena, const char *stream_division,
                                const char *entry_id, const char *project)
{
    return S_JOIN (arena, "rm.", stream_division, ".", entry_id, ".", project);
}

double riskmon_store_id_seq (const char *id)
{
    const char *underscore = strrchr (id, '_');
    return underscore ? strtod (underscore + 1, NULL) : 0;
}

//  ---------------------------------------------------------------------
//  Reads

static int s_decode (pmo_arena_t *arena, const ProtobufCMessageDescriptor *desc, redisReply *reply,
                     ProtobufCMessage **msg, uint64_t *version)
{
    *msg = NULL;
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 2 ||
        reply->element[1]->type != REDIS_REPLY_STRING)
        return 0;
    *msg = protobuf_c_message_unpack (desc, pmo_arena_allocator (arena), reply->element[1]->len,
                                      (const uint8_t *)reply->element[1]->str);
    if (!*msg)
        return 0;
    if (version)
        *version = reply->element[0]->type == REDIS_REPLY_STRING
                       ? strtoull (reply->element[0]->str, NULL, 10)
                       : 0;
    return 1;
}

int riskmon_store_get (riskmon_store_t *self, pmo_arena_t *arena, const char *key,
                       const ProtobufCMessageDescriptor *desc, ProtobufCMessage **msg,
                       uint64_t *version)
{
    *msg = NULL;
    if (version)
        *version = 0;
    redisReply *reply = pmo_redis_command (self->redis, "HMGET %s v d", key);
    if (!reply)
        return -1;
    int rc = s_decode (arena, desc, reply, msg, version);
    freeReplyObject (reply);
    return rc;
}

int riskmon_store_get_many (riskmon_store_t *self, pmo_arena_t *arena, char *const *keys, size_t n,
                            const ProtobufCMessageDescriptor *desc, ProtobufCMessage **msgs,
                            uint64_t *versions)
{
    //  Argument vectors, not a format string: hiredis would parse the
    //  format once per key (the sweep reads thousands at a time)
    const char *argv[] = {"HMGET", NULL, "v", "d"};
    for (size_t i = 0; i < n; i++) {
        argv[1] = keys[i];
        if (pmo_redis_pipev (self->redis, 4, argv, NULL))
            return -1;
    }
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        msgs[i] = NULL;
        if (versions)
            versions[i] = 0;
        redisReply *reply = pmo_redis_pipe_reply (self->redis);
        if (!reply) {
            rc = -1;
            continue;
        }
        s_decode (arena, desc, reply, &msgs[i], versions ? &versions[i] : NULL);
        freeReplyObject (reply);
    }
    return rc;
}

int riskmon_store_ahead (riskmon_store_t *self, char *const *keys, size_t n)
{
    const char *argv[] = {"HMGET", NULL, "v", "d"};
    for (size_t i = 0; i < n; i++) {
        argv[1] = keys[i];
        if (pmo_redis_pipev (self->redis, 4, argv, NULL))
            return -1; //  the connection is dropped: nothing is owed
        self->ahead++;
    }
    return pmo_redis_pipe_push (self->redis);
}

int riskmon_store_ahead_take (riskmon_store_t *self, pmo_arena_t *arena,
                              const ProtobufCMessageDescriptor *desc, ProtobufCMessage **msg,
                              uint64_t *version)
{
    *msg = NULL;
    *version = 0;
    assert (self->ahead);
    self->ahead--;
    redisReply *reply = pmo_redis_pipe_reply (self->redis);
    if (!reply)
        return -1;
    int rc = s_decode (arena, desc, reply, msg, version);
    freeReplyObject (reply);
    return rc;
}

int riskmon_store_push (riskmon_store_t *self)
{
    return pmo_redis_pipe_push (self->redis);
}

void riskmon_store_ahead_drop (riskmon_store_t *self)
{
    for (; self->ahead; self->ahead--) {
        redisReply *reply = pmo_redis_pipe_reply (self->redis);
        if (reply)
            freeReplyObject (reply);
    }
}

static pmo_script_t s_versions_script = {.source = pmo_lua_riskmon_versions};

//  A versions.lua answer into out (in arena): 0, or -1 if it is not one
static int s_versions_of (redisReply *reply, pmo_arena_t *arena, riskmon_versions_t *out)
{
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements % 2)
        return -1;
    out->n = reply->elements / 2;
    out->ids = pmo_arena_alloc (arena, (out->n + 1) * sizeof (char *));
    out->versions = pmo_arena_alloc (arena, (out->n + 1) * sizeof (uint64_t));
    for (size_t i = 0; i < out->n; i++) {
        redisReply *id = reply->element[2 * i], *v = reply->element[2 * i + 1];
        if (id->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING)
            return -1;
        out->ids[i] = pmo_arena_strdup (arena, id->str);
        out->versions[i] = strtoull (v->str, NULL, 10);
    }
    return 0;
}

int riskmon_store_project_versions (riskmon_store_t *self, pmo_arena_t *arena, const char *division,
                                    char ***ids, uint64_t **versions, size_t *n)
{
    const char *argv[] = {riskmon_key_projects (arena, division),
                          riskmon_key_project (arena, division, "")};
    redisReply *reply = pmo_redis_eval (self->redis, &s_versions_script, 1, 2, argv, NULL);
    if (!reply)
        return -1;
    riskmon_versions_t out;
    int rc = s_versions_of (reply, arena, &out);
    freeReplyObject (reply);
    if (rc == 0) {
        *ids = out.ids;
        *versions = out.versions;
        *n = out.n;
    }
    return rc;
}

int riskmon_store_project_versions_many (riskmon_store_t *self, pmo_arena_t *arena,
                                         char *const *divisions, size_t n, riskmon_versions_t *out)
{
    if (!n)
        return 0;
    //  The first alone: it loads the script if this connection has not
    if (riskmon_store_project_versions (self, arena, divisions[0], &out[0].ids, &out[0].versions,
                                        &out[0].n))
        return -1;
    //  The others pipelined, by the script's SHA; every queued reply is
    //  read, whatever happens, so the connection stays in step
    size_t queued = 0;
    for (size_t d = 1; d < n; d++) {
        const char *argv[] = {"EVALSHA", s_versions_script.sha, "1",
                              riskmon_key_projects (arena, divisions[d]),
                              riskmon_key_project (arena, divisions[d], "")};
        if (pmo_redis_pipev (self->redis, 5, argv, NULL))
            break;
        queued++;
    }
    int rc = queued == n - 1 ? 0 : -1;
    bool *again = pmo_arena_alloc (arena, n * sizeof (bool));
    for (size_t d = 1; d <= queued; d++) {
        redisReply *reply = pmo_redis_pipe_reply (self->redis);
        if (!reply)
            rc = -1;
        else if (reply->type == REDIS_REPLY_ERROR && strncmp (reply->str, "NOSCRIPT", 8) == 0)
            again[d] = true; //  Redis restarted between the two: asked alone below
        else if (s_versions_of (reply, arena, &out[d]))
            rc = -1;
        if (reply)
            freeReplyObject (reply);
    }
    for (size_t d = 1; d < n && rc == 0; d++)
        if (again[d])
            rc = riskmon_store_project_versions (self, arena, divisions[d], &out[d].ids,
                                                 &out[d].versions, &out[d].n);
    return rc;
}

int riskmon_store_next_id (riskmon_store_t *self, pmo_arena_t *arena, const char *prefix,
                           const char *division, char **id)
{
    char key[128];
    snprintf (key, sizeof key, "pmo:{%s}:rm:seq", division);
    return pmo_seq_id (self->redis, arena, key, prefix, division, id);
}

int riskmon_store_reserve_ids (riskmon_store_t *self, const char *prefix, const char *division,
                               uint64_t count, uint64_t *first)
{
    char key[128];
    snprintf (key, sizeof key, "pmo:{%s}:rm:seq", division);
    long long taken;
    if (pmo_seq_take (self->redis, key, prefix, count, &taken))
        return -1;
    *first = (uint64_t)taken;
    return 0;
}

int riskmon_store_zfirst (riskmon_store_t *self, const char *key, int64_t *score)
{
    return pmo_redis_zfirst (self->redis, key, score);
}

int riskmon_store_stream_reclaim (riskmon_store_t *self, const char *group, const char *consumer,
                                  const char *const *streams, size_t n, size_t *cursor,
                                  size_t max_streams, size_t count, int min_idle_ms,
                                  pmo_stream_batch_t *batch)
{
    return pmo_stream_group_reclaim (self->redis, group, consumer, streams, n, cursor, max_streams,
                                     count, min_idle_ms, batch);
}

//  Members and scores of a ZRANGEBYSCORE ... WITHSCORES reply, in arena.
static int s_zrange_read (redisReply *reply, pmo_arena_t *arena, char ***members, double **scores,
                          size_t *n)
{
    *n = 0;
    *members = NULL;
    *scores = NULL;
    if (!reply)
        return -1;
    int rc = reply->type == REDIS_REPLY_ARRAY ? 0 : -1;
    if (reply->type == REDIS_REPLY_ARRAY && reply->elements >= 2) {
        size_t found = reply->elements / 2;
        *members = pmo_arena_alloc (arena, found * sizeof (char *));
        *scores = pmo_arena_alloc (arena, found * sizeof (double));
        for (size_t i = 0; i < found; i++) {
            (*members)[i] = pmo_arena_strdup (arena, reply->element[2 * i]->str);
            (*scores)[i] = strtod (reply->element[2 * i + 1]->str, NULL);
        }
        *n = found;
    }
    freeReplyObject (reply);
    return rc;
}

int riskmon_store_zrange (riskmon_store_t *self, pmo_arena_t *arena, const char *key,
                          const double *after, double max, size_t count, char ***members,
                          double **scores, size_t *n)
{
    char min_text[40], max_text[40];
    if (after)
        snprintf (min_text, sizeof min_text, "(%.17g", *after);
    else
        snprintf (min_text, sizeof min_text, "-inf");
    snprintf (max_text, sizeof max_text, "%.17g", max);
    redisReply *reply =
        pmo_redis_command (self->redis, "ZRANGEBYSCORE %s %s %s WITHSCORES LIMIT 0 %llu", key,
                           min_text, max_text, (unsigned long long)count);
    return s_zrange_read (reply, arena, members, scores, n);
}

int riskmon_store_pipe_zrange (riskmon_store_t *self, const char *key, double max, size_t count)
{
    char max_text[40], count_text[24];
    snprintf (max_text, sizeof max_text, "%.17g", max);
    snprintf (count_text, sizeof count_text, "%zu", count);
    const char *argv[] = {"ZRANGEBYSCORE", key, "-inf", max_text, "LIMIT", "0", count_text};
    if (pmo_redis_pipev (self->redis, 7, argv, NULL))
        return -1;
    return pmo_redis_pipe_push (self->redis);
}

int riskmon_store_zrange_take (riskmon_store_t *self, pmo_arena_t *arena, char ***members,
                               size_t *n)
{
    redisReply *reply = pmo_redis_pipe_reply (self->redis);
    *n = 0;
    *members = NULL;
    if (!reply)
        return -1;
    int rc = reply->type == REDIS_REPLY_ARRAY ? 0 : -1;
    if (rc == 0 && reply->elements) {
        *members = pmo_arena_alloc (arena, reply->elements * sizeof (char *));
        for (size_t i = 0; i < reply->elements; i++)
            (*members)[i] = pmo_arena_strdup (arena, reply->element[i]->str);
        *n = reply->elements;
    }
    freeReplyObject (reply);
    return rc;
}

int riskmon_store_thresholds (riskmon_store_t *self, pmo_arena_t *arena, Pmo__Thresholds ***list,
                              uint64_t **versions, size_t *n)
{
    *n = 0;
    redisReply *units = pmo_redis_command (self->redis, "ZRANGE %s 0 -1",
                                           riskmon_key_thresholds_index (arena, self->hub));
    if (!units)
        return -1;
    size_t count = units->type == REDIS_REPLY_ARRAY ? units->elements : 0;
    char **keys = pmo_arena_alloc (arena, (count + 1) * sizeof (char *));
    for (size_t i = 0; i < count; i++)
        keys[i] = riskmon_key_thresholds (arena, self->hub, units->element[i]->str);
    freeReplyObject (units);
    ProtobufCMessage **msgs = pmo_arena_alloc (arena, (count + 1) * sizeof (void *));
    *versions = pmo_arena_alloc (arena, (count + 1) * sizeof (uint64_t));
    if (count && riskmon_store_get_many (self, arena, keys, count, &pmo__thresholds__descriptor,
                                         msgs, *versions))
        return -1;
    *list = pmo_arena_alloc (arena, (count + 1) * sizeof (void *));
    for (size_t i = 0; i < count; i++)
        if (msgs[i]) {
            (*versions)[*n] = (*versions)[i];
            (*list)[(*n)++] = (Pmo__Thresholds *)msgs[i];
        }
    return 0;
}

int riskmon_store_divisions (riskmon_store_t *self, pmo_arena_t *arena, char ***list, size_t *n)
{
    *n = 0;
    redisReply *reply =
        pmo_redis_command (self->redis, "SMEMBERS pmo:{%s}:rm:divisions", self->hub);
    if (!reply)
        return -1;
    if (reply->type == REDIS_REPLY_ARRAY) {
        *list = pmo_arena_alloc (arena, (reply->elements + 1) * sizeof (char *));
        for (size_t i = 0; i < reply->elements; i++)
            (*list)[(*n)++] = pmo_arena_strdup (arena, reply->element[i]->str);
    }
    freeReplyObject (reply);
    return 0;
}

int riskmon_store_add_division (riskmon_store_t *self, const char *division)
{
    redisReply *reply =
        pmo_redis_command (self->redis, "SADD pmo:{%s}:rm:divisions %s", self->hub, division);
    if (!reply)
        return -1;
    freeReplyObject (reply);
    return 0;
}

//  ---------------------------------------------------------------------
//  Schedule writes

int riskmon_store_pipe_due_many (riskmon_store_t *self, pmo_arena_t *arena, const char *division,
                                 char *const *projects, const int64_t *at, size_t n)
{
    //  One ZADD for the projects that have a due time, one ZREM for the rest
    const char **add = pmo_arena_alloc (arena, (2 * n + 2) * sizeof (char *));
    const char **rem = pmo_arena_alloc (arena, (n + 2) * sizeof (char *));
    size_t n_add = 2, n_rem = 2;
    add[0] = "ZADD";
    rem[0] = "ZREM";
    add[1] = rem[1] = riskmon_key_due (arena, division);
    for (size_t i = 0; i < n; i++)
        if (at[i] > 0) {
            add[n_add++] = s_u64_text (arena, (uint64_t)at[i]);
            add[n_add++] = projects[i];
        } else
            rem[n_rem++] = projects[i];
    int queued = 0;
    if (n_add > 2) {
        if (pmo_redis_pipev (self->redis, (int)n_add, add, NULL))
            return -1;
        queued++;
    }
    //  If this one cannot be queued the connection is gone: the caller
    //  still collects the first (it gets a failure)
    if (n_rem > 2 && pmo_redis_pipev (self->redis, (int)n_rem, rem, NULL) == 0)
        queued++;
    return queued;
}

int riskmon_store_pipe_done (riskmon_store_t *self, size_t n)
{
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        redisReply *reply = pmo_redis_pipe_reply (self->redis);
        if (!reply || reply->type == REDIS_REPLY_ERROR)
            rc = -1;
        if (reply)
            freeReplyObject (reply);
    }
    return rc;
}

int riskmon_store_recheck_mark (riskmon_store_t *self, pmo_arena_t *arena, const char *division,
                                int64_t token)
{
    //  Score 0: before every project's due time, so the next sweep of the
    //  division finds it first (and the schedule sees it due)
    redisReply *reply = pmo_redis_command (self->redis, "ZADD %s 0 *%lld:0",
                                           riskmon_key_due (arena, division), (long long)token);
    if (!reply)
        return -1;
    int rc = reply->type == REDIS_REPLY_INTEGER ? 0 : -1;
    freeReplyObject (reply);
    return rc;
}

int riskmon_store_recheck_move (riskmon_store_t *self, pmo_arena_t *arena, const char *division,
                                const char *marker, const char *next)
{
    //  The next one first: whatever happens in between, the re-check is
    //  never forgotten (at worst a chunk is looked at twice)
    char *key = riskmon_key_due (arena, division);
    const char *add[] = {"ZADD", key, "0", next};
    const char *rem[] = {"ZREM", key, marker};
    int queued = 0;
    if (next) {
        if (pmo_redis_pipev (self->redis, 4, add, NULL))
            return -1;
        queued++;
    }
    if (pmo_redis_pipev (self->redis, 3, rem, NULL) == 0)
        queued++;
    int rc = riskmon_store_pipe_done (self, (size_t)queued);
    return rc == 0 && queued == (next ? 2 : 1) ? 0 : -1;
}

int riskmon_store_zmscore (riskmon_store_t *self, pmo_arena_t *arena, const char *key,
                           char *const *members, size_t n, int64_t *scores)
{
    const char **argv = pmo_arena_alloc (arena, (n + 2) * sizeof (char *));
    argv[0] = "ZMSCORE";
    argv[1] = key;
    for (size_t i = 0; i < n; i++)
        argv[i + 2] = members[i];
    redisReply *reply = pmo_redis_commandv (self->redis, (int)n + 2, argv, NULL);
    if (!reply)
        return -1;
    int rc = reply->type == REDIS_REPLY_ARRAY && reply->elements == n ? 0 : -1;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        redisReply *score = reply->element[i];
        scores[i] = score->type == REDIS_REPLY_STRING ? (int64_t)strtod (score->str, NULL) : 0;
    }
    freeReplyObject (reply);
    return rc;
}

//  ---------------------------------------------------------------------
//  Commits

pmo_commit_t *riskmon_store_commit (const char *division, const char *request_id)
{
    return pmo_commit_new (division, request_id);
}

void riskmon_store_put (pmo_commit_t *commit, pmo_arena_t *arena, const char *key,
                        const ProtobufCMessage *msg, uint64_t expect, uint64_t version)
{
    size_t size;
    uint8_t *blob = pmo_reflect_pack (msg, arena, &size);
    pmo_commit_put (commit, key, expect, version, blob, size);
}

const uint8_t *riskmon_store_event (pmo_commit_t *commit, pmo_arena_t *arena, const char *division,
                                    const Pmo__Event *event, size_t *size)
{
    uint8_t *blob = pmo_reflect_pack (&event->base, arena, size);
    pmo_commit_event (commit, riskmon_key_events (arena, division), event->type, blob, *size);
    return blob;
}

//  An event as appended, with its stream id: the encoding appended
//  (where the id is empty, so absent) followed by the id as field 1, which
//  a protobuf parser reads as the id set (a field met last wins; the
//  Protocol Buffers encoding guide, "Last One Wins"). The event is not
//  encoded a second time.
uint8_t *riskmon_store_event_with_id (pmo_arena_t *arena, const uint8_t *blob, size_t size,
                                      const char *id, size_t *out_size)
{
    size_t len = strlen (id);
    uint8_t *out = pmo_arena_alloc (arena, size + len + 11);
    memcpy (out, blob, size);
    size_t at = size;
    out[at++] = (1 << 3) | 2; //  field 1 (Event.id), length-delimited
    for (size_t v = len; true; v >>= 7) {
        out[at++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
        if (v <= 0x7f)
            break;
    }
    memcpy (out + at, id, len);
    *out_size = at + len;
    return out;
}

int riskmon_store_stream_ids (riskmon_store_t *self, pmo_arena_t *arena, const char *division,
                              const char *last_id, size_t n, char **ids)
{
    redisReply *reply =
        pmo_redis_command (self->redis, "XREVRANGE %s %s - COUNT %llu",
                           riskmon_key_events (arena, division), last_id, (unsigned long long)n);
    if (!reply)
        return -1;
    int rc = -1;
    if (reply->type == REDIS_REPLY_ARRAY && reply->elements == n) {
        for (size_t i = 0; i < n; i++)
            ids[n - 1 - i] = pmo_arena_strdup (arena, reply->element[i]->element[0]->str);
        rc = 0;
    }
    freeReplyObject (reply);
    return rc;
}

int riskmon_store_ack (riskmon_store_t *self, const char *stream, const char *group,
                       const char **ids, size_t n)
{
    if (n == 0)
        return 0;
    const char **argv = malloc ((n + 3) * sizeof (char *));
    assert (argv);
    argv[0] = "XACK";
    argv[1] = stream;
    argv[2] = group;
    memcpy (argv + 3, ids, n * sizeof (char *));
    redisReply *reply = pmo_redis_commandv (self->redis, (int)(n + 3), argv, NULL);
    free (argv);
    if (!reply)
        return -1;
    int rc = reply->type == REDIS_REPLY_INTEGER ? 0 : -1;
    freeReplyObject (reply);
    return rc;
}

int riskmon_store_stream_open (riskmon_store_t *self, const char *division, const char *group)
{
    char key[96];
    if (pmo_stream_key_buf (key, sizeof key, division))
        return -1;
    //  The group starts at the stream's beginning: a first start applies
    //  the whole history, so health is rebuilt from what happened
    if (pmo_stream_group_ensure (self->redis, key, group))
        return -1;
    return riskmon_store_add_division (self, division);
}

void riskmon_store_exec (riskmon_store_t *self, pmo_commit_t *commit, pmo_commit_result_t *result)
{
    pmo_commit_exec (commit, self->redis, result);
}

//  ---------------------------------------------------------------------
//  The risk monitor's commits

//  One op of a commit: P put (checked), W put of a key new by construction,
//  Z zadd, z zrem, X event.
typedef struct {
    char code;
    const char *key;
    uint64_t expect, version; //  P, W
    double score;             //  Z
    const char *text;         //  Z, z: the member; X: the event type
    const uint8_t *blob;      //  P, W, X
    size_t size;
} s_op_t;

struct _riskmon_commit_t {
    pmo_arena_t *arena;
    s_op_t *ops; //  in the arena
    size_t n, max;
};

riskmon_commit_t *riskmon_commit_new (pmo_arena_t *arena)
{
    riskmon_commit_t *self = pmo_arena_alloc (arena, sizeof (riskmon_commit_t));
    memset (self, 0, sizeof *self);
    self->arena = arena;
    return self;
}

static s_op_t *s_op_add (riskmon_commit_t *self, char code, const char *key)
{
    if (self->n == self->max) {
        size_t max = self->max ? self->max * 2 : 8;
        s_op_t *grown = pmo_arena_alloc (self->arena, max * sizeof (s_op_t));
        if (self->n)
            memcpy (grown, self->ops, self->n * sizeof (s_op_t));
        self->ops = grown;
        self->max = max;
    }
    s_op_t *op = &self->ops[self->n++];
    memset (op, 0, sizeof *op);
    op->code = code;
    op->key = key;
    return op;
}

void riskmon_commit_put (riskmon_commit_t *self, const char *key, const ProtobufCMessage *msg,
                         uint64_t expect, uint64_t version)
{
    s_op_t *op = s_op_add (self, 'P', key);
    op->expect = expect;
    op->version = version;
    op->blob = pmo_reflect_pack (msg, self->arena, &op->size);
}

void riskmon_commit_create (riskmon_commit_t *self, const char *key, const ProtobufCMessage *msg,
                            uint64_t version)
{
    s_op_t *op = s_op_add (self, 'W', key);
    op->version = version;
    op->blob = pmo_reflect_pack (msg, self->arena, &op->size);
}

void riskmon_commit_zadd (riskmon_commit_t *self, const char *key, double score, const char *member)
{
    s_op_t *op = s_op_add (self, 'Z', key);
    op->score = score;
    op->text = member;
}

void riskmon_commit_zrem (riskmon_commit_t *self, const char *key, const char *member)
{
    s_op_t *op = s_op_add (self, 'z', key);
    op->text = member;
}

const uint8_t *riskmon_commit_event (riskmon_commit_t *self, const char *division,
                                     const Pmo__Event *event, size_t *size)
{
    s_op_t *op = s_op_add (self, 'X', riskmon_key_events (self->arena, division));
    op->text = event->type;
    op->blob = pmo_reflect_pack (&event->base, self->arena, &op->size);
    *size = op->size;
    return op->blob;
}

void riskmon_commit_copy_into (riskmon_commit_t *self, pmo_commit_t *commit)
{
    for (size_t i = 0; i < self->n; i++) {
        s_op_t *op = &self->ops[i];
        switch (op->code) {
        case 'P':
            pmo_commit_put (commit, op->key, op->expect, op->version, op->blob, op->size);
            break;
        case 'W':
            pmo_commit_put (commit, op->key, 0, op->version, op->blob, op->size);
            break;
        case 'Z':
            pmo_commit_zadd (commit, op->key, op->score, op->text);
            break;
        case 'z':
            pmo_commit_zrem (commit, op->key, op->text);
            break;
        default:
            pmo_commit_event (commit, op->key, op->text, op->blob, op->size);
            break;
        }
    }
}

//  ---------------------------------------------------------------------
//  Batches: several commits of one division in one script
//
//  The script, lua/batch.lua, says what it takes and answers, where the
//  applied markers live, and how each commit is judged and written.
static pmo_script_t s_batch_script = {.source = pmo_lua_riskmon_batch};

//  A growable array of (pointer, length) in the arena.
typedef struct {
    const char **data;
    size_t *lens;
    size_t n, max;
} s_args_t;

//  One script being filled, or sent and waiting for its answer.
typedef struct {
    char *division;
    zhashx_t *key_index; //  key -> its KEYS index (1-based), while filling
    s_args_t keys;
    s_args_t args;              //  from ARGV[3] on
    size_t *tickets;            //  of its commits, in order
    riskmon_commit_t **commits; //  the commits themselves (a transaction batch)
    const char **applied;       //  and their markers (NULL: none)
    size_t n_commits, max_commits;
    char ttl[24];    //  ARGV[2]
    char *bucket;    //  ARGV[3]: the applied markers' hashes, less the day
    char *legacy;    //  ARGV[4]: the markers' keys as pmo_commit spells them, less the id
    bool open;       //  still taking commits (not sent, not failed)
    bool tx;         //  sent as a transaction (see Transactions below), not as the script
    size_t n_queued; //  tx: the commands between MULTI and EXEC
    size_t *xadds;   //  tx: where each XADD's answer is in EXEC's, in order
} s_script_t;

struct _riskmon_batch_t {
    riskmon_store_t *store;
    pmo_arena_t *arena;
    size_t chunk;
    s_script_t **scripts; //  every script of the batch, in order of creation
    size_t n_scripts, max_scripts;
    s_script_t **sent;               //  scripts queued on the connection, in the order sent
    size_t n_sent, next_recv;        //  those before next_recv are answered
    riskmon_batch_result_t *results; //  by ticket
    size_t n_results, max_results;
    bool transactions; //  scripts of commits without markers go as transactions
};

static void s_args_push (pmo_arena_t *arena, s_args_t *args, const char *data, size_t len)
{
    if (args->n == args->max) {
        size_t max = args->max ? args->max * 2 : 64;
        const char **data_grown = pmo_arena_alloc (arena, max * sizeof (char *));
        size_t *lens_grown = pmo_arena_alloc (arena, max * sizeof (size_t));
        if (args->n) {
            memcpy (data_grown, args->data, args->n * sizeof (char *));
            memcpy (lens_grown, args->lens, args->n * sizeof (size_t));
        }
        args->data = data_grown;
        args->lens = lens_grown;
        args->max = max;
    }
    args->data[args->n] = data;
    args->lens[args->n++] = len;
}

static void s_args_str (pmo_arena_t *arena, s_args_t *args, const char *text)
{
    s_args_push (arena, args, text, strlen (text));
}

static void s_args_u64 (pmo_arena_t *arena, s_args_t *args, uint64_t value)
{
    s_args_str (arena, args, s_u64_text (arena, value));
}

//  A sorted-set score: whole non-negative numbers (times, sequence
//  numbers: every score the risk monitor writes) as integers, the rest as
//  %.17g (which prints them the same, more slowly).
static void s_args_score (pmo_arena_t *arena, s_args_t *args, double score)
{
    if (score >= 0 && score < 9007199254740992.0 && score == (double)(uint64_t)score)
        s_args_u64 (arena, args, (uint64_t)score);
    else
        s_args_str (arena, args, pmo_arena_printf (arena, "%.17g", score));
}

riskmon_batch_t *riskmon_batch_new (riskmon_store_t *store, pmo_arena_t *arena, size_t chunk)
{
    riskmon_batch_t *self = calloc (1, sizeof (riskmon_batch_t));
    assert (self);
    self->store = store;
    self->arena = arena;
    self->chunk = chunk ? chunk : 1;
    return self;
}

void riskmon_batch_transactions (riskmon_batch_t *self)
{
    self->transactions = true;
}

void riskmon_batch_destroy (riskmon_batch_t **self_p)
{
    assert (self_p);
    riskmon_batch_t *self = *self_p;
    if (!self)
        return;
    //  Answers left unread would be taken for the next command's
    riskmon_batch_recv (self);
    for (size_t i = 0; i < self->n_scripts; i++)
        zhashx_destroy (&self->scripts[i]->key_index);
    free (self->scripts);
    free (self->sent);
    free (self->results);
    free (self);
    *self_p = NULL;
}

//  The KEYS index of key in script, adding it if new, as the next argument.
static void s_script_key (pmo_arena_t *arena, s_script_t *script, const char *key)
{
    size_t index = (size_t)(uintptr_t)zhashx_lookup (script->key_index, key);
    if (!index) {
        s_args_str (arena, &script->keys, key);
        index = script->keys.n;
        zhashx_insert (script->key_index, key, (void *)(uintptr_t)index);
    }
    s_args_u64 (arena, &script->args, index);
}

//  The division's script still being filled, or a new one.
static s_script_t *s_script_open (riskmon_batch_t *self, const char *division)
{
    for (size_t i = self->n_scripts; i > 0; i--) {
        s_script_t *script = self->scripts[i - 1];
        if (script->open && streq (script->division, division))
            return script;
    }
    s_script_t *script = pmo_arena_alloc (self->arena, sizeof (s_script_t));
    memset (script, 0, sizeof *script);
    script->division = pmo_arena_strdup (self->arena, division);
    script->open = true;
    script->bucket = pmo_arena_printf (self->arena, "pmo:{%s}:rm:applied:", division);
    char *legacy = pmo_commit_idem_key (division, "");
    script->legacy = pmo_arena_strdup (self->arena, legacy);
    free (legacy);
    //  Keys are arena strings that outlive the script: no copies
    script->key_index = zhashx_new ();
    zhashx_set_key_duplicator (script->key_index, NULL);
    zhashx_set_key_destructor (script->key_index, NULL);
    if (self->n_scripts == self->max_scripts) {
        self->max_scripts = self->max_scripts ? self->max_scripts * 2 : 8;
        self->scripts = realloc (self->scripts, self->max_scripts * sizeof (void *));
        self->sent = realloc (self->sent, self->max_scripts * sizeof (void *));
        assert (self->scripts && self->sent);
    }
    self->scripts[self->n_scripts++] = script;
    return script;
}

static void s_fail_script (riskmon_batch_t *self, s_script_t *script, pmo_commit_status_t status)
{
    for (size_t c = 0; c < script->n_commits; c++)
        self->results[script->tickets[c]].status = status;
}

static void s_script_commit (riskmon_batch_t *self, s_script_t *script, riskmon_commit_t *commit,
                             const char *applied_id);

//  ---------------------------------------------------------------------
//  Transactions
//
//  The time-rule sweep's commits carry no applied markers: each is judged
//  by the versions of what it puts with a check (its project's record, an
//  alert it changes) alone. A script of them is cheaper for Redis as a
//  transaction than as lua/batch.lua (whose Lua work, a string per
//  argument and a call per write, was about half of what such a commit
//  cost Redis): on the batch's connection, pipelined without waiting,
//      WATCH <every record checked> <fence>
//      EVAL lua/check.lua  (every record holds the version expected, or
//                           it writes the fence and the EXEC is refused)
//      MULTI, the commits' writes in order (their sorted-set changes
//      folded per key, in order), EXEC
//  The check runs after the WATCH, so a record that changes from the check
//  to the EXEC also refuses it. All or nothing: a refused transaction
//  writes nothing and every commit of it is a CONFLICT (the sweep leaves
//  those projects due, and the next chunk takes them again). EVAL, not
//  EVALSHA: a Redis that forgot the script would refuse the check and
//  still run the MULTI unchecked. A script whose commits carry markers,
//  or chain on each other's versions (a key put twice, or put unchecked
//  and then checked), goes as the script.

//  One ZADD or ZREM run of a key (the ops of a key, in order).
typedef struct {
    const char *key;
    s_op_t **ops;
    size_t n, max;
} s_zkey_t;

//  Queue one command (args) on the batch's connection: 0, or -1 (dropped).
static int s_tx_cmd (pmo_redis_t *redis, const s_args_t *cmd)
{
    return pmo_redis_pipev (redis, (int)cmd->n, cmd->data, cmd->lens);
}

//  The commands of a key's sorted-set ops: runs of ZADD or ZREM, up to
//  1,000 members each. 0 or -1; *queued counts them.
static int s_tx_zkey (pmo_redis_t *redis, pmo_arena_t *arena, s_zkey_t *z, size_t *queued)
{
    s_args_t cmd = {0};
    size_t i = 0;
    while (i < z->n) {
        char code = z->ops[i]->code;
        cmd.n = 0;
        s_args_str (arena, &cmd, code == 'Z' ? "ZADD" : "ZREM");
        s_args_str (arena, &cmd, z->key);
        size_t members = 0;
        for (; i < z->n && z->ops[i]->code == code && members < 1000; i++, members++) {
            if (code == 'Z')
                s_args_score (arena, &cmd, z->ops[i]->score);
            s_args_str (arena, &cmd, z->ops[i]->text);
        }
        if (s_tx_cmd (redis, &cmd))
            return -1;
        (*queued)++;
    }
    return 0;
}

//  Send script's commits as one transaction: 0 (queued, or failed: its
//  commits are UNAVAILABLE), 1 if they cannot go as one (send the script).
static int s_tx_send (riskmon_batch_t *self, s_script_t *script)
{
    pmo_arena_t *arena = self->arena;
    s_args_t watch = {0}, check = {0}, cmd = {0};
    zhashx_t *seen = zhashx_new ();
    zhashx_set_key_duplicator (seen, NULL);
    zhashx_set_key_destructor (seen, NULL);
    bool fits = true;
    size_t n_x = 0;
    for (size_t c = 0; c < script->n_commits && fits; c++) {
        riskmon_commit_t *commit = script->commits[c];
        fits = !script->applied[c];
        for (size_t i = 0; i < commit->n && fits; i++) {
            s_op_t *op = &commit->ops[i];
            if (op->code == 'X')
                n_x++;
            else if (op->code == 'P' || op->code == 'W') {
                //  Each key put once: no commit builds on another's put
                fits = zhashx_insert (seen, op->key, op) == 0;
                if (fits && op->code == 'P') {
                    s_args_str (arena, &watch, op->key);
                    s_args_u64 (arena, &check, op->expect);
                }
            }
        }
    }
    zhashx_destroy (&seen);
    if (!fits)
        return 1;
    script->tx = true;
    script->xadds = pmo_arena_alloc (arena, (n_x + 1) * sizeof (size_t));
    pmo_redis_t *redis = self->store->redis;
    char *fence = riskmon_key_fence (arena, script->division);
    //  WATCH, the check, MULTI
    s_args_str (arena, &cmd, "WATCH");
    for (size_t k = 0; k < watch.n; k++)
        s_args_push (arena, &cmd, watch.data[k], watch.lens[k]);
    s_args_str (arena, &cmd, fence);
    int rc = s_tx_cmd (redis, &cmd);
    cmd.n = 0;
    s_args_str (arena, &cmd, "EVAL");
    s_args_str (arena, &cmd, pmo_lua_riskmon_check);
    s_args_u64 (arena, &cmd, watch.n + 1);
    for (size_t k = 0; k < watch.n; k++)
        s_args_push (arena, &cmd, watch.data[k], watch.lens[k]);
    s_args_str (arena, &cmd, fence);
    for (size_t k = 0; k < check.n; k++)
        s_args_push (arena, &cmd, check.data[k], check.lens[k]);
    if (rc == 0)
        rc = s_tx_cmd (redis, &cmd);
    cmd.n = 0;
    s_args_str (arena, &cmd, "MULTI");
    if (rc == 0)
        rc = s_tx_cmd (redis, &cmd);
    //  The writes in order; the sorted sets' after them, per key
    zhashx_t *zindex = zhashx_new ();
    zhashx_set_key_duplicator (zindex, NULL);
    zhashx_set_key_destructor (zindex, NULL);
    s_zkey_t **zkeys = NULL;
    size_t n_zkeys = 0, max_zkeys = 0;
    size_t queued = 0;
    n_x = 0;
    for (size_t c = 0; c < script->n_commits && rc == 0; c++) {
        riskmon_commit_t *commit = script->commits[c];
        for (size_t i = 0; i < commit->n && rc == 0; i++) {
            s_op_t *op = &commit->ops[i];
            cmd.n = 0;
            if (op->code == 'X') {
                s_args_str (arena, &cmd, "XADD");
                s_args_str (arena, &cmd, op->key);
                s_args_str (arena, &cmd, "*");
                s_args_str (arena, &cmd, "type");
                s_args_str (arena, &cmd, op->text);
                s_args_str (arena, &cmd, "data");
                s_args_push (arena, &cmd, (const char *)op->blob, op->size);
                script->xadds[n_x++] = queued++;
                rc = s_tx_cmd (redis, &cmd);
            } else if (op->code == 'P' || op->code == 'W') {
                s_args_str (arena, &cmd, "HSET");
                s_args_str (arena, &cmd, op->key);
                s_args_str (arena, &cmd, "v");
                s_args_u64 (arena, &cmd, op->version);
                s_args_str (arena, &cmd, "d");
                s_args_push (arena, &cmd, (const char *)op->blob, op->size);
                queued++;
                rc = s_tx_cmd (redis, &cmd);
            } else {
                s_zkey_t *z = zhashx_lookup (zindex, op->key);
                if (!z) {
                    z = pmo_arena_alloc (arena, sizeof (s_zkey_t));
                    memset (z, 0, sizeof *z);
                    z->key = op->key;
                    zhashx_insert (zindex, op->key, z);
                    if (n_zkeys == max_zkeys) {
                        max_zkeys = max_zkeys ? max_zkeys * 2 : 16;
                        s_zkey_t **grown = pmo_arena_alloc (arena, max_zkeys * sizeof (void *));
                        if (n_zkeys)
                            memcpy (grown, zkeys, n_zkeys * sizeof (void *));
                        zkeys = grown;
                    }
                    zkeys[n_zkeys++] = z;
                }
                if (z->n == z->max) {
                    z->max = z->max ? z->max * 2 : 4;
                    s_op_t **grown = pmo_arena_alloc (arena, z->max * sizeof (void *));
                    if (z->n)
                        memcpy (grown, z->ops, z->n * sizeof (void *));
                    z->ops = grown;
                }
                z->ops[z->n++] = op;
            }
        }
    }
    zhashx_destroy (&zindex);
    for (size_t k = 0; k < n_zkeys && rc == 0; k++)
        rc = s_tx_zkey (redis, arena, zkeys[k], &queued);
    cmd.n = 0;
    s_args_str (arena, &cmd, "EXEC");
    if (rc == 0)
        rc = s_tx_cmd (redis, &cmd);
    //  A failure dropped the connection with everything queued on it: no
    //  EXEC reached Redis, so nothing of it is written
    if (rc) {
        s_fail_script (self, script, PMO_COMMIT_UNAVAILABLE);
        return 0;
    }
    script->n_queued = queued;
    self->sent[self->n_sent++] = script;
    pmo_redis_pipe_push (redis);
    return 0;
}

//  Read a transaction's answers (WATCH, the check, MULTI, one per command
//  queued, EXEC) into its commits' results.
static void s_tx_recv (riskmon_batch_t *self, s_script_t *script)
{
    pmo_redis_t *redis = self->store->redis;
    bool lost = false;
    redisReply *check = NULL, *refused = NULL, *exec = NULL;
    for (size_t r = 0; r < script->n_queued + 4; r++) {
        redisReply *reply = pmo_redis_pipe_reply (redis);
        if (!reply) {
            lost = true;
            continue;
        }
        if (r == 1)
            check = reply;
        else if (r == script->n_queued + 3)
            exec = reply;
        else if (reply->type == REDIS_REPLY_ERROR && !refused)
            refused = reply; //  the first command refused (EXEC is then too)
        else
            freeReplyObject (reply);
    }
    pmo_commit_status_t status = PMO_COMMIT_ERROR;
    if (lost || !exec)
        status = PMO_COMMIT_UNAVAILABLE; //  it may or may not have happened
    else if (exec->type == REDIS_REPLY_NIL)
        status = PMO_COMMIT_CONFLICT; //  the check refused it, or a record changed
    else if (exec->type == REDIS_REPLY_ARRAY && exec->elements == script->n_queued) {
        status = PMO_COMMIT_OK;
        for (size_t e = 0; e < exec->elements && status == PMO_COMMIT_OK; e++)
            if (exec->element[e]->type == REDIS_REPLY_ERROR) {
                pmo_error ("riskmon: sweep transaction: a write failed error=\"%s\"",
                           exec->element[e]->str);
                status = PMO_COMMIT_ERROR;
            }
        if (!check || check->type != REDIS_REPLY_INTEGER || check->integer != 0)
            pmo_error ("riskmon: sweep transaction ran without its check error=\"%s\"",
                       check && check->type == REDIS_REPLY_ERROR ? check->str : "unexpected");
    } else {
        //  EXECABORT: a command was refused as queued (a failover: no
        //  replicas, read-only) and nothing ran
        const redisReply *why = refused ? refused : exec;
        if (pmo_redis_refused_write (redis, why, "riskmon: sweep transaction"))
            status = PMO_COMMIT_UNAVAILABLE;
        else
            pmo_error ("riskmon: sweep transaction failed error=\"%s\"",
                       why->type == REDIS_REPLY_ERROR ? why->str : "unexpected reply");
    }
    size_t x = 0;
    for (size_t c = 0; c < script->n_commits; c++) {
        riskmon_batch_result_t *result = &self->results[script->tickets[c]];
        riskmon_commit_t *commit = script->commits[c];
        result->status = status;
        if (status != PMO_COMMIT_OK)
            continue;
        size_t n = 0;
        for (size_t i = 0; i < commit->n; i++)
            n += commit->ops[i].code == 'X';
        result->n_ids = n;
        result->ids = pmo_arena_alloc (self->arena, (n + 1) * sizeof (char *));
        for (size_t e = 0; e < n; e++, x++) {
            redisReply *id = exec->element[script->xadds[x]];
            result->ids[e] =
                id->type == REDIS_REPLY_STRING ? pmo_arena_strdup (self->arena, id->str) : "";
        }
    }
    if (check)
        freeReplyObject (check);
    if (refused)
        freeReplyObject (refused);
    if (exec)
        freeReplyObject (exec);
}

//  Queue one script on the connection (or fail its commits).
static void s_script_send (riskmon_batch_t *self, s_script_t *script)
{
    script->open = false;
    if (self->transactions) {
        if (s_tx_send (self, script) == 0) {
            zhashx_destroy (&script->key_index);
            return;
        }
        //  Not one for a transaction: the script after all
        for (size_t c = 0; c < script->n_commits; c++)
            s_script_commit (self, script, script->commits[c], script->applied[c]);
    }
    zhashx_destroy (&script->key_index);
    pmo_redis_t *redis = self->store->redis;
    //  The script must be known by its SHA before it is queued: load it if
    //  this process has not yet (or Redis forgot it), which needs nothing
    //  of ours in flight on the connection
    if (!*s_batch_script.sha && self->next_recv == self->n_sent) {
        redisReply *loaded = pmo_redis_command (redis, "SCRIPT LOAD %s", s_batch_script.source);
        if (loaded && loaded->type == REDIS_REPLY_STRING && loaded->len == 40)
            memcpy (s_batch_script.sha, loaded->str, 41);
        if (loaded)
            freeReplyObject (loaded);
    }
    if (!*s_batch_script.sha) {
        s_fail_script (self, script, PMO_COMMIT_UNAVAILABLE);
        return;
    }
    size_t argc = 7 + script->keys.n + script->args.n;
    const char **argv = pmo_arena_alloc (self->arena, argc * sizeof (char *));
    size_t *lens = pmo_arena_alloc (self->arena, argc * sizeof (size_t));
    char *nkeys = pmo_arena_printf (self->arena, "%zu", script->keys.n);
    char *ncommits = pmo_arena_printf (self->arena, "%zu", script->n_commits);
    argv[0] = "EVALSHA";
    argv[1] = s_batch_script.sha;
    argv[2] = nkeys;
    size_t a = 3;
    memcpy (argv + a, script->keys.data, script->keys.n * sizeof (char *));
    memcpy (lens + a, script->keys.lens, script->keys.n * sizeof (size_t));
    a += script->keys.n;
    argv[a++] = ncommits;
    argv[a++] = script->ttl;
    argv[a++] = script->bucket;
    argv[a++] = script->legacy;
    memcpy (argv + a, script->args.data, script->args.n * sizeof (char *));
    memcpy (lens + a, script->args.lens, script->args.n * sizeof (size_t));
    for (size_t i = 0; i < 3; i++)
        lens[i] = strlen (argv[i]);
    for (size_t i = 3 + script->keys.n; i < 7 + script->keys.n; i++)
        lens[i] = strlen (argv[i]);
    if (pmo_redis_pipev (redis, (int)argc, argv, lens))
        s_fail_script (self, script, PMO_COMMIT_UNAVAILABLE);
    else {
        self->sent[self->n_sent++] = script;
        //  Out now: Redis runs it while the next one is built (if this
        //  fails the connection is gone and the answer reads as unavailable)
        pmo_redis_pipe_push (redis);
    }
}

size_t riskmon_batch_add (riskmon_batch_t *self, const char *division, riskmon_commit_t *commit,
                          const char *applied_id, int ttl_s)
{
    pmo_arena_t *arena = self->arena;
    if (self->n_results == self->max_results) {
        self->max_results = self->max_results ? self->max_results * 2 : 64;
        self->results =
            realloc (self->results, self->max_results * sizeof (riskmon_batch_result_t));
        assert (self->results);
    }
    size_t ticket = self->n_results++;
    riskmon_batch_result_t *result = &self->results[ticket];
    memset (result, 0, sizeof *result);
    result->status = PMO_COMMIT_UNAVAILABLE; //  until answered
    s_script_t *script = s_script_open (self, division);
    if (script->n_commits == script->max_commits) {
        size_t max = script->max_commits ? script->max_commits * 2 : 16;
        size_t *grown = pmo_arena_alloc (arena, max * sizeof (size_t));
        riskmon_commit_t **commits = pmo_arena_alloc (arena, max * sizeof (void *));
        const char **applied = pmo_arena_alloc (arena, max * sizeof (char *));
        if (script->n_commits) {
            memcpy (grown, script->tickets, script->n_commits * sizeof (size_t));
            memcpy (commits, script->commits, script->n_commits * sizeof (void *));
            memcpy (applied, script->applied, script->n_commits * sizeof (char *));
        }
        script->tickets = grown;
        script->commits = commits;
        script->applied = applied;
        script->max_commits = max;
    }
    script->tickets[script->n_commits] = ticket;
    script->commits[script->n_commits] = commit;
    script->applied[script->n_commits++] = applied_id ? pmo_arena_strdup (arena, applied_id) : NULL;
    if (!*script->ttl || ttl_s > 0)
        snprintf (script->ttl, sizeof script->ttl, "%d", ttl_s > 0 ? ttl_s : 86400);
    //  A transaction batch decides how to send when the script is full
    if (!self->transactions)
        s_script_commit (self, script, commit, applied_id);
    if (script->n_commits >= self->chunk)
        s_script_send (self, script);
    return ticket;
}

//  A commit's arguments to its script (lua/batch.lua's ops).
static void s_script_commit (riskmon_batch_t *self, s_script_t *script, riskmon_commit_t *commit,
                             const char *applied_id)
{
    pmo_arena_t *arena = self->arena;
    s_args_u64 (arena, &script->args, applied_id ? 1 : 0);
    s_args_u64 (arena, &script->args, commit->n);
    if (applied_id)
        s_args_str (arena, &script->args, applied_id);
    for (size_t i = 0; i < commit->n; i++) {
        s_op_t *op = &commit->ops[i];
        static const char *codes[] = {"P", "W", "Z", "z", "X"};
        const char *code = op->code == 'P'   ? codes[0]
                           : op->code == 'W' ? codes[1]
                           : op->code == 'Z' ? codes[2]
                           : op->code == 'z' ? codes[3]
                                             : codes[4];
        s_args_push (arena, &script->args, code, 1);
        s_script_key (arena, script, op->key);
        switch (op->code) {
        case 'P':
            s_args_u64 (arena, &script->args, op->expect);
            s_args_u64 (arena, &script->args, op->version);
            s_args_push (arena, &script->args, (const char *)op->blob, op->size);
            break;
        case 'W':
            s_args_u64 (arena, &script->args, op->version);
            s_args_push (arena, &script->args, (const char *)op->blob, op->size);
            break;
        case 'Z':
            s_args_score (arena, &script->args, op->score);
            s_args_str (arena, &script->args, op->text);
            break;
        case 'z':
            s_args_str (arena, &script->args, op->text);
            break;
        default:
            s_args_str (arena, &script->args, op->text);
            s_args_push (arena, &script->args, (const char *)op->blob, op->size);
            break;
        }
    }
}

void riskmon_batch_send (riskmon_batch_t *self)
{
    for (size_t i = 0; i < self->n_scripts; i++)
        if (self->scripts[i]->open && self->scripts[i]->n_commits)
            s_script_send (self, self->scripts[i]);
}

//  Read one commit's answer from the script's reply.
static void s_result_read (riskmon_batch_t *self, riskmon_batch_result_t *result,
                           redisReply *answer)
{
    result->status = PMO_COMMIT_ERROR;
    if (answer->type != REDIS_REPLY_ARRAY || answer->elements < 1 ||
        answer->element[0]->type != REDIS_REPLY_STRING)
        return;
    const char *what = answer->element[0]->str;
    if (streq (what, "ok")) {
        result->status = PMO_COMMIT_OK;
        result->n_ids = answer->elements - 1;
        result->ids = pmo_arena_alloc (self->arena, (result->n_ids + 1) * sizeof (char *));
        for (size_t e = 0; e < result->n_ids; e++)
            result->ids[e] = answer->element[e + 1]->type == REDIS_REPLY_STRING
                                 ? pmo_arena_strdup (self->arena, answer->element[e + 1]->str)
                                 : "";
    } else if (streq (what, "dup"))
        result->status = PMO_COMMIT_DUPLICATE;
    else if (streq (what, "conflict"))
        result->status = PMO_COMMIT_CONFLICT;
}

void riskmon_batch_recv (riskmon_batch_t *self)
{
    pmo_redis_t *redis = self->store->redis;
    for (; self->next_recv < self->n_sent; self->next_recv++) {
        s_script_t *script = self->sent[self->next_recv];
        if (script->tx) {
            s_tx_recv (self, script);
            continue;
        }
        redisReply *reply = pmo_redis_pipe_reply (redis);
        if (!reply) {
            s_fail_script (self, script, PMO_COMMIT_UNAVAILABLE);
            continue;
        }
        if (reply->type == REDIS_REPLY_ARRAY && reply->elements == script->n_commits) {
            for (size_t c = 0; c < script->n_commits; c++)
                s_result_read (self, &self->results[script->tickets[c]], reply->element[c]);
        } else if (reply->type == REDIS_REPLY_ERROR && strncmp (reply->str, "NOSCRIPT", 8) == 0) {
            //  A restarted Redis forgot the script: nothing was written
            s_batch_script.sha[0] = 0;
            s_fail_script (self, script, PMO_COMMIT_UNAVAILABLE);
        } else if (pmo_redis_refused_write (redis, reply, "riskmon: batch script")) {
            //  A failover refusing writes for a while (said once): nothing
            //  was written, and a retry may succeed
            s_fail_script (self, script, PMO_COMMIT_UNAVAILABLE);
        } else {
            pmo_error ("riskmon: batch script failed error=\"%s\"",
                       reply->type == REDIS_REPLY_ERROR ? reply->str : "unexpected reply");
            s_fail_script (self, script, PMO_COMMIT_ERROR);
        }
        freeReplyObject (reply);
    }
}

const riskmon_batch_result_t *riskmon_batch_result (riskmon_batch_t *self, size_t ticket)
{
    assert (ticket < self->n_results);
    return &self->results[ticket];
}
