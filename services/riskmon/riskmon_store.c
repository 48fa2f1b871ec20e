/*  riskmon_store.c: the risk monitor's Redis layout.

    pmo:{<div>}:rm:pj:<project>           hash v,d  ProjectHealth: inputs, current health, alerts
    pmo:{<div>}:rm:pjs                    zset      projects of the division (score: id sequence)
    pmo:{<div>}:rm:due                    zset      project -> when a time rule may fire (Unix ms)
    pmo:{<div>}:rm:hist:<project>:<seq>   hash v,d  the seq-th health assessment (history)
    pmo:{<div>}:rm:<p>:<id>               hash v,d  entry; p: rk risk, is issue, cr change request,
                                                    ra assumption/decision/dependency, al alert
    pmo:{<div>}:rm:<p>:<id>:<version>     hash v,d  that entry as it was at version (history)
    pmo:{<div>}:rm:ix:<p>                 zset      ids of kind p in the division, by sequence
    pmo:{<div>}:rm:ix:<p>:pj:<project>    zset      ids of kind p of one project
    pmo:{<div>}:rm:esc                    zset      alert -> when it climbs (Unix ms)
    pmo:{<div>}:rm:seq                    hash      prefix -> last sequence number
    pmo:{<hub>}:rm:th:<unit>              hash v,d  a PMO unit's own thresholds
    pmo:{<hub>}:rm:ths                    zset      units with thresholds
    pmo:{<hub>}:rm:divisions              set       divisions whose streams are read
    pmo:{<div>}:events                    stream    read with group "riskmon"; riskmon's events
    pmo:{<div>}:idem:<request id>         string    done requests (24 h) and applied stream
                                                    entries "rm.<div>.<entry>.<project>" (7 days)
*/
#include "riskmon_store.h"
#include "pmo_reflect.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

struct _riskmon_store_t {
    pmo_redis_t *redis; //  not owned
    char hub[40];
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

//  ---------------------------------------------------------------------
//  Keys

char *riskmon_key_project (pmo_arena_t *arena, const char *division, const char *project)
{
    return pmo_arena_printf (arena, "pmo:{%s}:rm:pj:%s", division, project);
}

char *riskmon_key_projects (pmo_arena_t *arena, const char *division)
{
    return pmo_arena_printf (arena, "pmo:{%s}:rm:pjs", division);
}

char *riskmon_key_due (pmo_arena_t *arena, const char *division)
{
    return pmo_arena_printf (arena, "pmo:{%s}:rm:due", division);
}

char *riskmon_key_history (pmo_arena_t *arena, const char *division, const char *project,
                           uint64_t seq)
{
    return pmo_arena_printf (arena, "pmo:{%s}:rm:hist:%s:%llu", division, project,
                             (unsigned long long)seq);
}

char *riskmon_key_entry (pmo_arena_t *arena, const char *division, const char *prefix,
                         const char *id)
{
    return pmo_arena_printf (arena, "pmo:{%s}:rm:%s:%s", division, prefix, id);
}

char *riskmon_key_entry_version (pmo_arena_t *arena, const char *division, const char *prefix,
                                 const char *id, uint64_t version)
{
    return pmo_arena_printf (arena, "pmo:{%s}:rm:%s:%s:%llu", division, prefix, id,
                             (unsigned long long)version);
}

char *riskmon_key_index (pmo_arena_t *arena, const char *division, const char *prefix,
                         const char *project)
{
    if (project)
        return pmo_arena_printf (arena, "pmo:{%s}:rm:ix:%s:pj:%s", division, prefix, project);
    return pmo_arena_printf (arena, "pmo:{%s}:rm:ix:%s", division, prefix);
}

char *riskmon_key_escalations (pmo_arena_t *arena, const char *division)
{
    return pmo_arena_printf (arena, "pmo:{%s}:rm:esc", division);
}

char *riskmon_key_thresholds (pmo_arena_t *arena, const char *hub, const char *unit)
{
    return pmo_arena_printf (arena, "pmo:{%s}:rm:th:%s", hub, unit);
}

char *riskmon_key_events (pmo_arena_t *arena, const char *division)
{
    return pmo_arena_printf (arena, "pmo:{%s}:events", division);
}

char *riskmon_event_request_id (pmo_arena_t *arena, const char *stream_division,
                                const char *entry_id, const char *project)
{
    return pmo_arena_printf (arena, "rm.%s.%s.%s", stream_division, entry_id, project);
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
    for (size_t i = 0; i < n; i++)
        if (pmo_redis_pipe (self->redis, "HMGET %s v d", keys[i]))
            return -1;
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

int riskmon_store_replay (riskmon_store_t *self, pmo_arena_t *arena, const char *division,
                          const char *request_id, uint8_t **out, size_t *size)
{
    char *key = pmo_commit_idem_key (division, request_id);
    redisReply *reply = pmo_redis_command (self->redis, "GET %s", key);
    free (key);
    if (!reply)
        return -1;
    int rc = 0;
    if (reply->type == REDIS_REPLY_STRING) {
        *out = pmo_arena_memdup (arena, reply->str, reply->len);
        *size = reply->len;
        rc = 1;
    }
    freeReplyObject (reply);
    return rc;
}

int riskmon_store_next_id (riskmon_store_t *self, pmo_arena_t *arena, const char *prefix,
                           const char *division, char **id)
{
    redisReply *reply =
        pmo_redis_command (self->redis, "HINCRBY pmo:{%s}:rm:seq %s 1", division, prefix);
    if (!reply)
        return -1;
    int rc = -1;
    if (reply->type == REDIS_REPLY_INTEGER) {
        *id = pmo_arena_printf (arena, "%s_%s_%lld", prefix, division, reply->integer);
        rc = 0;
    }
    freeReplyObject (reply);
    return rc;
}

int riskmon_store_reserve_ids (riskmon_store_t *self, const char *prefix, const char *division,
                               uint64_t count, uint64_t *first)
{
    redisReply *reply = pmo_redis_command (self->redis, "HINCRBY pmo:{%s}:rm:seq %s %llu", division,
                                           prefix, (unsigned long long)count);
    if (!reply)
        return -1;
    int rc = -1;
    if (reply->type == REDIS_REPLY_INTEGER) {
        *first = (uint64_t)reply->integer - count + 1;
        rc = 0;
    }
    freeReplyObject (reply);
    return rc;
}

int riskmon_store_zrange (riskmon_store_t *self, pmo_arena_t *arena, const char *key,
                          const double *after, double max, size_t count, char ***members,
                          double **scores, size_t *n)
{
    *n = 0;
    *members = NULL;
    *scores = NULL;
    char min_text[40], max_text[40];
    if (after)
        snprintf (min_text, sizeof min_text, "(%.17g", *after);
    else
        snprintf (min_text, sizeof min_text, "-inf");
    snprintf (max_text, sizeof max_text, "%.17g", max);
    redisReply *reply =
        pmo_redis_command (self->redis, "ZRANGEBYSCORE %s %s %s WITHSCORES LIMIT 0 %llu", key,
                           min_text, max_text, (unsigned long long)count);
    if (!reply)
        return -1;
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
    return 0;
}

int riskmon_store_thresholds (riskmon_store_t *self, pmo_arena_t *arena, Pmo__Thresholds ***list,
                              uint64_t **versions, size_t *n)
{
    *n = 0;
    redisReply *units = pmo_redis_command (self->redis, "ZRANGE pmo:{%s}:rm:ths 0 -1", self->hub);
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

int riskmon_store_pipe_due (riskmon_store_t *self, pmo_arena_t *arena, const char *division,
                            const char *project, int64_t at)
{
    char *key = riskmon_key_due (arena, division);
    if (at > 0)
        return pmo_redis_pipe (self->redis, "ZADD %s %lld %s", key, (long long)at, project);
    return pmo_redis_pipe (self->redis, "ZREM %s %s", key, project);
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

int riskmon_store_due_all (riskmon_store_t *self, pmo_arena_t *arena, const char *division,
                           int64_t at)
{
    //  One step inside Redis: every member of the projects set, rescored
    redisReply *reply = pmo_redis_command (
        self->redis, "EVAL %s 2 %s %s %lld",
        "local ids = redis.call('ZRANGE', KEYS[1], 0, -1) "
        "for _, id in ipairs(ids) do redis.call('ZADD', KEYS[2], ARGV[1], id) end "
        "return #ids",
        riskmon_key_projects (arena, division), riskmon_key_due (arena, division), (long long)at);
    if (!reply)
        return -1;
    int rc = reply->type == REDIS_REPLY_INTEGER ? 0 : -1;
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

void riskmon_store_event (pmo_commit_t *commit, pmo_arena_t *arena, const char *division,
                          const Pmo__Event *event)
{
    size_t size;
    uint8_t *blob = pmo_reflect_pack (&event->base, arena, &size);
    pmo_commit_event (commit, riskmon_key_events (arena, division), event->type, blob, size);
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

int riskmon_store_pipe_stream_ids (riskmon_store_t *self, pmo_arena_t *arena, const char *division,
                                   const char *last_id, size_t n)
{
    return pmo_redis_pipe (self->redis, "XREVRANGE %s %s - COUNT %llu",
                           riskmon_key_events (arena, division), last_id, (unsigned long long)n);
}

int riskmon_store_pipe_stream_ids_reply (riskmon_store_t *self, pmo_arena_t *arena, size_t n,
                                         char **ids)
{
    redisReply *reply = pmo_redis_pipe_reply (self->redis);
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
