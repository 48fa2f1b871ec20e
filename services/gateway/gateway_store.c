/*  gateway_store.c: the gateway's Redis layout.

    pmo:{<hub>}:gw:tk:<id>        API token (hash v = version, d = ApiToken protobuf)
    pmo:{<hub>}:gw:tks            zset of token ids by creation sequence
    pmo:{<hub>}:gw:seq            counter of token sequence numbers
    pmo:{<hub>}:events            the hub's event stream: token.created / token.revoked
    pmo:{<hub>}:idem:<request id> the reply of a done token request (24 h)
    pmo:{<div>}:events            read only: live-event replay and /metrics
*/
#include "gateway_store.h"

#include "pmo_reflect.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define IDEM_TTL_S 86400

struct _gateway_store_t {
    pmo_redis_t *redis; //  not owned
    char hub[40];       //  the hash tag of every token key
};

gateway_store_t *gateway_store_new (pmo_redis_t *redis, const char *hub)
{
    gateway_store_t *self = calloc (1, sizeof (gateway_store_t));
    assert (self);
    self->redis = redis;
    snprintf (self->hub, sizeof self->hub, "%s", hub);
    return self;
}

void gateway_store_destroy (gateway_store_t **self_p)
{
    assert (self_p);
    free (*self_p);
    *self_p = NULL;
}

const char *gateway_store_stream_key (const char *division, char *buf, size_t size)
{
    snprintf (buf, size, "pmo:{%s}:events", division);
    return buf;
}

int gateway_store_read (gateway_store_t *self, pmo_arena_t *arena, const char *id,
                        Pmo__ApiToken **token, uint64_t *version)
{
    *token = NULL;
    redisReply *reply =
        pmo_redis_command (self->redis, "HMGET pmo:{%s}:gw:tk:%s v d", self->hub, id);
    if (!reply)
        return -1;
    int rc = 0;
    if (reply->type == REDIS_REPLY_ARRAY && reply->elements == 2 &&
        reply->element[1]->type == REDIS_REPLY_STRING) {
        *token = (Pmo__ApiToken *)protobuf_c_message_unpack (
            &pmo__api_token__descriptor, pmo_arena_allocator (arena), reply->element[1]->len,
            (const uint8_t *)reply->element[1]->str);
        if (*token) {
            rc = 1;
            if (version)
                *version = reply->element[0]->type == REDIS_REPLY_STRING
                               ? strtoull (reply->element[0]->str, NULL, 10)
                               : 0;
        }
    } else if (reply->type == REDIS_REPLY_ERROR)
        rc = -1;
    freeReplyObject (reply);
    return rc;
}

int gateway_store_replay (gateway_store_t *self, pmo_arena_t *arena, const char *request_id,
                          uint8_t **out, size_t *size)
{
    char *key = pmo_commit_idem_key (self->hub, request_id);
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

int gateway_store_next_seq (gateway_store_t *self, uint64_t *seq)
{
    redisReply *reply = pmo_redis_command (self->redis, "INCR pmo:{%s}:gw:seq", self->hub);
    if (!reply)
        return -1;
    int rc = -1;
    if (reply->type == REDIS_REPLY_INTEGER) {
        *seq = (uint64_t)reply->integer;
        rc = 0;
    }
    freeReplyObject (reply);
    return rc;
}

int gateway_store_page (gateway_store_t *self, pmo_arena_t *arena, double after, size_t count,
                        char ***ids, double **scores, size_t *n)
{
    *n = 0;
    char min[40];
    snprintf (min, sizeof min, "(%.17g", after);
    redisReply *reply = pmo_redis_command (
        self->redis, "ZRANGEBYSCORE pmo:{%s}:gw:tks %s +inf WITHSCORES LIMIT 0 %llu", self->hub,
        min, (unsigned long long)count);
    if (!reply)
        return -1;
    if (reply->type == REDIS_REPLY_ARRAY && reply->elements >= 2) {
        size_t found = reply->elements / 2;
        *ids = pmo_arena_alloc (arena, found * sizeof (char *));
        *scores = pmo_arena_alloc (arena, found * sizeof (double));
        for (size_t i = 0; i < found; i++) {
            (*ids)[i] = pmo_arena_strdup (arena, reply->element[2 * i]->str);
            (*scores)[i] = strtod (reply->element[2 * i + 1]->str, NULL);
        }
        *n = found;
    }
    int rc = reply->type == REDIS_REPLY_ERROR ? -1 : 0;
    freeReplyObject (reply);
    return rc;
}

pmo_commit_status_t gateway_store_commit (gateway_store_t *self, pmo_arena_t *arena,
                                          const char *request_id, const Pmo__ApiToken *token,
                                          uint64_t expect, uint64_t seq, const Pmo__Event *event,
                                          const void *reply, size_t reply_size, char *stream_id)
{
    pmo_commit_t *commit = pmo_commit_new (self->hub, request_id);
    size_t size;
    uint8_t *blob = pmo_reflect_pack (&token->base, arena, &size);
    char *key = pmo_arena_printf (arena, "pmo:{%s}:gw:tk:%s", self->hub, token->id);
    pmo_commit_put (commit, key, expect, token->version, blob, size);
    if (seq)
        pmo_commit_zadd (commit, pmo_arena_printf (arena, "pmo:{%s}:gw:tks", self->hub),
                         (double)seq, token->id);
    size_t esize;
    uint8_t *eblob = pmo_reflect_pack (&event->base, arena, &esize);
    char stream[96];
    pmo_commit_event (commit, gateway_store_stream_key (self->hub, stream, sizeof stream),
                      event->type, eblob, esize);
    pmo_commit_reply (commit, reply, reply_size, IDEM_TTL_S);
    pmo_commit_result_t result;
    pmo_commit_exec (commit, self->redis, &result);
    pmo_commit_destroy (&commit);
    pmo_commit_status_t status = result.status;
    if (status == PMO_COMMIT_OK)
        snprintf (stream_id, 64, "%s", result.stream_id);
    pmo_commit_result_clear (&result);
    return status;
}
