/*  gateway_store.c: the gateway's Redis layout.

    pmo:{<hub>}:gw:tk:<id>        API token (hash v = version, d = ApiToken protobuf)
    pmo:{<hub>}:gw:tks            zset of token ids by creation sequence
    pmo:{<hub>}:gw:seq            counter of token sequence numbers
    pmo:{<hub>}:events            the hub's event stream: token.created / token.revoked
    pmo:{<hub>}:idem:<request id> the reply of a done token request (24 h)
    pmo:{<hub>}:gw:login:<state>  a single sign-on under way (JSON; 10 min, taken once)
    pmo:{<hub>}:gw:ses:<sha-256>  a signed-in session by the hash of its cookie (hash d =
                                  ApiToken protobuf of the caller, i = the provider's ID
                                  token; expires with the session)
    pmo:{<div>}:events            read only: live-event replay and /metrics

    Stream keys are spelled by pmo_stream_key*, the only spelling of them.
*/
#include "gateway_store.h"

#include "pmo_reflect.h"
#include "pmo_stream.h"

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

int gateway_store_idem_bind (gateway_store_t *self, const char *binding, const char *fingerprint)
{
    //  No WAIT of its own: what the request it guards acknowledges is a
    //  commit made after it on the same master, and that commit's WAIT
    //  (pmo_commit_confirm) covers every write the master made before, this
    //  one included
    //  NX with GET (Redis 7): sets it if absent and answers what was there
    redisReply *reply = pmo_redis_command (self->redis, "SET pmo:{%s}:gw:ik:%s %s NX GET EX %d",
                                           self->hub, binding, fingerprint, IDEM_TTL_S);
    if (!reply)
        return -1;
    int rc = -1;
    if (reply->type == REDIS_REPLY_NIL)
        rc = 1;
    else if (reply->type == REDIS_REPLY_STRING)
        rc = strcmp (reply->str, fingerprint) == 0 ? 1 : 0;
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
    pmo_commit_event (commit, pmo_stream_key (arena, self->hub), event->type, eblob, esize);
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

//  ---------------------------------------------------------------------
//  The division event streams, read only

//  Every stream's key fits a key buffer: checked before a pipeline starts,
//  which must not stop half-way for a reason of ours.
static int s_keys_fit (const gateway_stream_t *streams, size_t n)
{
    char key[128];
    for (size_t i = 0; i < n; i++)
        if (pmo_stream_key_buf (key, sizeof key, streams[i].division))
            return -1;
    return 0;
}

bool gateway_store_ready (gateway_store_t *self)
{
    return pmo_redis_ready (self->redis);
}

int gateway_store_streams_newest (gateway_store_t *self, gateway_stream_t *streams, size_t n)
{
    if (s_keys_fit (streams, n))
        return -1;
    char key[128];
    for (size_t i = 0; i < n; i++) {
        pmo_stream_key_buf (key, sizeof key, streams[i].division);
        if (pmo_redis_pipe (self->redis, "XREVRANGE %s + - COUNT 1", key))
            return -1;
    }
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        redisReply *reply = pmo_redis_pipe_reply (self->redis);
        if (!reply || reply->type == REDIS_REPLY_ERROR)
            rc = -1;
        else if (reply->type == REDIS_REPLY_ARRAY && reply->elements == 1 &&
                 reply->element[0]->type == REDIS_REPLY_ARRAY && reply->element[0]->elements == 2)
            snprintf (streams[i].cursor, sizeof streams[i].cursor, "%s",
                      reply->element[0]->element[0]->str);
        if (reply)
            freeReplyObject (reply);
    }
    return rc;
}

int gateway_store_streams_read (gateway_store_t *self, const gateway_stream_t *streams, size_t n,
                                int count, uint64_t *now_ms, redisReply ***replies)
{
    *replies = NULL;
    if (s_keys_fit (streams, n))
        return -1;
    //  TIME first, in the same pipeline: the clock is read before any
    //  stream, so every entry of a millisecond it calls over is in the reads
    if (pmo_redis_pipe (self->redis, "TIME"))
        return -1;
    char key[128];
    for (size_t i = 0; i < n; i++) {
        char start[52];
        snprintf (start, sizeof start, "%s%s", streams[i].inclusive ? "" : "(", streams[i].cursor);
        pmo_stream_key_buf (key, sizeof key, streams[i].division);
        if (pmo_redis_pipe (self->redis, "XRANGE %s %s + COUNT %d", key, start, count))
            return -1;
    }
    redisReply *time = pmo_redis_pipe_reply (self->redis);
    if (!time || time->type != REDIS_REPLY_ARRAY || time->elements != 2) {
        if (time)
            freeReplyObject (time);
        for (size_t i = 0; i < n; i++) {
            redisReply *skip = pmo_redis_pipe_reply (self->redis);
            if (skip)
                freeReplyObject (skip);
        }
        return -1;
    }
    *now_ms = strtoull (time->element[0]->str, NULL, 10) * 1000 +
              strtoull (time->element[1]->str, NULL, 10) / 1000;
    freeReplyObject (time);
    *replies = calloc (n ? n : 1, sizeof (redisReply *));
    assert (*replies);
    for (size_t i = 0; i < n; i++)
        (*replies)[i] = pmo_redis_pipe_reply (self->redis);
    return 0;
}

void gateway_store_replies_free (redisReply ***replies_p, size_t n)
{
    redisReply **replies = *replies_p;
    for (size_t i = 0; replies && i < n; i++)
        if (replies[i])
            freeReplyObject (replies[i]);
    free (replies);
    *replies_p = NULL;
}

//  Entries of the stream after the group's last-delivered id, counted from
//  the stream itself (Redis's own "lag" of XINFO GROUPS rests on counters
//  that an AOF reload or XGROUP SETID can leave wrong). Counts up to
//  LAG_COUNT_MAX; -1 if not known.
#define LAG_PAGE      1000
#define LAG_COUNT_MAX 100000
static long long s_group_lag (gateway_store_t *self, const char *key, const char *last)
{
    if (!*last)
        return -1;
    char cursor[48];
    snprintf (cursor, sizeof cursor, "%s", last);
    long long lag = 0;
    while (lag < LAG_COUNT_MAX) {
        redisReply *page =
            pmo_redis_command (self->redis, "XRANGE %s (%s + COUNT %d", key, cursor, LAG_PAGE);
        if (!page || page->type != REDIS_REPLY_ARRAY) {
            if (page)
                freeReplyObject (page);
            return -1;
        }
        size_t got = page->elements;
        lag += (long long)got;
        if (got) {
            redisReply *entry = page->element[got - 1];
            if (entry->type == REDIS_REPLY_ARRAY && entry->elements > 0 &&
                entry->element[0]->type == REDIS_REPLY_STRING)
                snprintf (cursor, sizeof cursor, "%s", entry->element[0]->str);
            else
                got = 0;
        }
        freeReplyObject (page);
        if (got < LAG_PAGE)
            break;
    }
    return lag;
}

void gateway_store_stream_figures (gateway_store_t *self, const char *division, long long *length,
                                   gateway_group_figures_t *groups, size_t max, size_t *n)
{
    *length = -1;
    *n = 0;
    char key[128];
    if (pmo_stream_key_buf (key, sizeof key, division))
        return;
    redisReply *len = pmo_redis_command (self->redis, "XLEN %s", key);
    if (len && len->type == REDIS_REPLY_INTEGER)
        *length = len->integer;
    if (len)
        freeReplyObject (len);
    redisReply *info = pmo_redis_command (self->redis, "XINFO GROUPS %s", key);
    for (size_t g = 0; info && info->type == REDIS_REPLY_ARRAY && g < info->elements && *n < max;
         g++) {
        redisReply *group = info->element[g];
        gateway_group_figures_t *figures = &groups[(*n)++];
        *figures = (gateway_group_figures_t){.pending = -1, .lag = -1};
        char last[48] = "";
        for (size_t f = 0; group->type == REDIS_REPLY_ARRAY && f + 1 < group->elements; f += 2) {
            const char *field = group->element[f]->str;
            redisReply *value = group->element[f + 1];
            if (strcmp (field, "name") == 0 && value->type == REDIS_REPLY_STRING)
                snprintf (figures->name, sizeof figures->name, "%s", value->str);
            else if (strcmp (field, "pending") == 0 && value->type == REDIS_REPLY_INTEGER)
                figures->pending = value->integer;
            else if (strcmp (field, "last-delivered-id") == 0 && value->type == REDIS_REPLY_STRING)
                snprintf (last, sizeof last, "%s", value->str);
        }
        figures->lag = s_group_lag (self, key, last);
    }
    if (info)
        freeReplyObject (info);
}

//  ---------------------------------------------------------------------
//  Single sign-on

//  What a sign-in or sign-out acknowledges must survive a failover (a lost
//  sign-out would bring a session back): the rule of every acknowledged
//  write, pmo_redis_wait_replicas (one node: nothing to wait for).
static int s_confirmed (gateway_store_t *self, int rc)
{
    return rc == 0 && pmo_redis_wait_replicas (self->redis) == 0 ? 0 : -1;
}

int gateway_store_login_put (gateway_store_t *self, const char *state, const char *json, int ttl_s)
{
    redisReply *reply = pmo_redis_command (self->redis, "SET pmo:{%s}:gw:login:%s %s EX %d",
                                           self->hub, state, json, ttl_s);
    int rc = reply && reply->type == REDIS_REPLY_STATUS ? 0 : -1;
    if (reply)
        freeReplyObject (reply);
    return s_confirmed (self, rc);
}

int gateway_store_login_take (gateway_store_t *self, const char *state, char **json)
{
    *json = NULL;
    redisReply *reply =
        pmo_redis_command (self->redis, "GETDEL pmo:{%s}:gw:login:%s", self->hub, state);
    if (!reply)
        return -1;
    int rc = reply->type == REDIS_REPLY_STRING ? 1 : reply->type == REDIS_REPLY_NIL ? 0 : -1;
    if (rc == 1)
        *json = strdup (reply->str);
    freeReplyObject (reply);
    return rc;
}

int gateway_store_session_put (gateway_store_t *self, const char *hash, const uint8_t *blob,
                               size_t size, const char *id_token, int ttl_s)
{
    //  One round trip, and one transaction: a session never lives without
    //  its expiry
    if (pmo_redis_pipe (self->redis, "MULTI") ||
        pmo_redis_pipe (self->redis, "HSET pmo:{%s}:gw:ses:%s d %b i %s", self->hub, hash, blob,
                        size, id_token) ||
        pmo_redis_pipe (self->redis, "EXPIRE pmo:{%s}:gw:ses:%s %d", self->hub, hash, ttl_s) ||
        pmo_redis_pipe (self->redis, "EXEC"))
        return -1;
    int rc = 0;
    for (int i = 0; i < 4; i++) {
        redisReply *reply = pmo_redis_pipe_reply (self->redis);
        if (!reply || reply->type == REDIS_REPLY_ERROR ||
            (i == 3 && reply->type != REDIS_REPLY_ARRAY))
            rc = -1;
        if (reply)
            freeReplyObject (reply);
    }
    return s_confirmed (self, rc);
}

int gateway_store_session_get (gateway_store_t *self, pmo_arena_t *arena, const char *hash,
                               Pmo__ApiToken **token, char **id_token)
{
    *token = NULL;
    *id_token = NULL;
    redisReply *reply =
        pmo_redis_command (self->redis, "HMGET pmo:{%s}:gw:ses:%s d i", self->hub, hash);
    if (!reply)
        return -1;
    int rc = reply->type == REDIS_REPLY_ERROR ? -1 : 0;
    if (reply->type == REDIS_REPLY_ARRAY && reply->elements == 2 &&
        reply->element[0]->type == REDIS_REPLY_STRING) {
        *token = (Pmo__ApiToken *)protobuf_c_message_unpack (
            &pmo__api_token__descriptor, pmo_arena_allocator (arena), reply->element[0]->len,
            (const uint8_t *)reply->element[0]->str);
        *id_token = pmo_arena_strdup (
            arena, reply->element[1]->type == REDIS_REPLY_STRING ? reply->element[1]->str : "");
        rc = *token ? 1 : 0;
    }
    freeReplyObject (reply);
    return rc;
}

int gateway_store_session_drop (gateway_store_t *self, const char *hash)
{
    redisReply *reply = pmo_redis_command (self->redis, "DEL pmo:{%s}:gw:ses:%s", self->hub, hash);
    int rc = reply && reply->type == REDIS_REPLY_INTEGER ? 0 : -1;
    if (reply)
        freeReplyObject (reply);
    return s_confirmed (self, rc);
}

int gateway_store_stream_back (gateway_store_t *self, const char *division, const char *upper,
                               bool inclusive, const char *floor, size_t count,
                               pmo_stream_batch_t *batch)
{
    char key[128];
    if (pmo_stream_key_buf (key, sizeof key, division)) {
        memset (batch, 0, sizeof *batch);
        return -1;
    }
    return pmo_stream_range_back (self->redis, key, upper, inclusive, floor, count, batch);
}
