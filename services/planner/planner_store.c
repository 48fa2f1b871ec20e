/*  planner_store.c: the planner's keys and its reads (see planner_store.h).

    Layout (all of a division's keys share its hash tag):
      pmo:{<div>}:pl:bn:<id>        hash v, d: a Benefit
      pmo:{<div>}:pl:sc:<id>        hash v, d: a Scenario
      pmo:{<div>}:pl:ix:<prefix>    sorted set: ids by creation time
      pmo:{<div>}:pl:score:<project> hash v, d: a ProjectScore
      pmo:{<div>}:pl:seq            hash: the next number per prefix
      pmo:{<hub>}:pl:policy:<unit>  hash v, d: a unit's own PlannerPolicy
*/
#include "planner_store.h"
#include "pmo_seq.h"

#include <stdlib.h>
#include <string.h>

char *planner_key_entity (pmo_arena_t *arena, const char *division, const char *prefix,
                          const char *id)
{
    return pmo_arena_printf (arena, "pmo:{%s}:pl:%s:%s", division, prefix, id);
}

char *planner_key_score (pmo_arena_t *arena, const char *division, const char *project_id)
{
    return pmo_arena_printf (arena, "pmo:{%s}:pl:score:%s", division, project_id);
}

char *planner_key_index (pmo_arena_t *arena, const char *division, const char *prefix)
{
    return pmo_arena_printf (arena, "pmo:{%s}:pl:ix:%s", division, prefix);
}

char *planner_key_policy (pmo_arena_t *arena, const char *hub, const char *unit)
{
    return pmo_arena_printf (arena, "pmo:{%s}:pl:policy:%s", hub, unit);
}

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

int planner_store_get (pmo_redis_t *redis, pmo_arena_t *arena, const char *key,
                       const ProtobufCMessageDescriptor *desc, ProtobufCMessage **msg,
                       uint64_t *version)
{
    *msg = NULL;
    if (version)
        *version = 0;
    redisReply *reply = pmo_redis_command (redis, "HMGET %s v d", key);
    if (!reply)
        return -1;
    int rc = s_decode (arena, desc, reply, msg, version);
    freeReplyObject (reply);
    return rc;
}

int planner_store_get_many (pmo_redis_t *redis, pmo_arena_t *arena, char *const *keys, size_t n,
                            const ProtobufCMessageDescriptor *desc, ProtobufCMessage **msgs,
                            uint64_t *versions)
{
    for (size_t i = 0; i < n; i++)
        if (pmo_redis_pipe (redis, "HMGET %s v d", keys[i]))
            return -1;
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        msgs[i] = NULL;
        if (versions)
            versions[i] = 0;
        redisReply *reply = pmo_redis_pipe_reply (redis);
        if (!reply) {
            rc = -1;
            continue;
        }
        s_decode (arena, desc, reply, &msgs[i], versions ? &versions[i] : NULL);
        freeReplyObject (reply);
    }
    return rc;
}

int planner_store_next_id (pmo_redis_t *redis, pmo_arena_t *arena, const char *prefix,
                           const char *division, char **id)
{
    char key[128];
    snprintf (key, sizeof key, "pmo:{%s}:pl:seq", division);
    return pmo_seq_id (redis, arena, key, prefix, division, id);
}

int planner_store_members (pmo_redis_t *redis, pmo_arena_t *arena, const char *key, size_t max,
                           char ***members, size_t *n)
{
    *members = NULL;
    *n = 0;
    redisReply *reply = pmo_redis_command (redis, "ZRANGE %s 0 %lld", key, (long long)max - 1);
    if (!reply)
        return -1;
    int rc = -1;
    if (reply->type == REDIS_REPLY_ARRAY) {
        rc = 0;
        for (size_t i = 0; i < reply->elements; i++)
            if (reply->element[i]->type == REDIS_REPLY_STRING)
                pmo_arena_append_string (arena, members, n, reply->element[i]->str);
    }
    freeReplyObject (reply);
    return rc;
}
