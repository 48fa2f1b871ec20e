/*  federation_store.c: the only code that spells the federation's keys
    (layout in federation_store.h).
*/
#include "federation_store.h"
#include "federation_model.h"
#include "pmo_log.h"
#include "pmo_lua_federation_apply.h"
#include "pmo_lua_federation_rollup_build.h"
#include "pmo_lua_federation_xdiv_done.h"
#include "pmo_lua_federation_xdiv_enqueue.h"
#include "pmo_reflect.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct _federation_store_t {
    pmo_redis_t *redis; //  not owned
    char hub[40];       //  the hub's division id: hash tag of hub-side keys
};

//  Apply a batch of one division: lua/apply.lua (KEYS, ARGV, and why a
//  resend changes nothing).
static pmo_script_t s_apply_script = {.source = pmo_lua_federation_apply};
//  Build a division's roll-up counters from its snapshots:
//  lua/rollup_build.lua.
static pmo_script_t s_build_script = {.source = pmo_lua_federation_rollup_build};

federation_store_t *federation_store_new (pmo_redis_t *redis, const char *hub)
{
    assert (redis && hub);
    federation_store_t *self = calloc (1, sizeof (federation_store_t));
    assert (self);
    self->redis = redis;
    snprintf (self->hub, sizeof self->hub, "%s", hub);
    return self;
}

void federation_store_destroy (federation_store_t **self_p)
{
    assert (self_p);
    free (*self_p);
    *self_p = NULL;
}

static bool s_reply_ok (redisReply *reply)
{
    return reply && reply->type != REDIS_REPLY_ERROR;
}

static int s_done (redisReply *reply, const char *what)
{
    int rc = s_reply_ok (reply) ? 0 : -1;
    if (reply && reply->type == REDIS_REPLY_ERROR)
        pmo_warn ("federation: %s failed error=\"%s\"", what, reply->str);
    if (reply)
        freeReplyObject (reply);
    return rc;
}

//  ---------------------------------------------------------------------
//  Hub side

//  Count what the division's snapshots add, once, for a division held
//  before the hub kept counters (lua/rollup_build.lua). 0 or -1.
static int s_rollup_build (federation_store_t *self, const char *division)
{
    redisReply *all =
        pmo_redis_command (self->redis, "HGETALL pmo:{%s}:fed:ent:%s", self->hub, division);
    if (!s_reply_ok (all) || all->type != REDIS_REPLY_ARRAY)
        return s_done (all, "roll-up build") ? -1 : -1;
    pmo_arena_t *arena = pmo_arena_new ();
    size_t held = all->elements / 2;
    size_t argc = 3 + 2 + 2 * held;
    const char **argv = pmo_arena_alloc (arena, argc * sizeof (char *));
    size_t *lens = pmo_arena_alloc (arena, argc * sizeof (size_t));
    char ent[160], roll[160], contrib[160], count[24], updated[24];
    snprintf (ent, sizeof ent, "pmo:{%s}:fed:ent:%s", self->hub, division);
    snprintf (roll, sizeof roll, "pmo:{%s}:fed:roll:%s", self->hub, division);
    snprintf (contrib, sizeof contrib, "pmo:{%s}:fed:contrib:%s", self->hub, division);
    snprintf (count, sizeof count, "%zu", held);
    size_t a = 0;
    argv[a++] = ent;
    argv[a++] = roll;
    argv[a++] = contrib;
    argv[a++] = count;
    argv[a++] = updated;
    int64_t latest = 0;
    for (size_t i = 0; i + 1 < all->elements; i += 2) {
        redisReply *value = all->element[i + 1];
        Pmo__Event *event = pmo__event__unpack (pmo_arena_allocator (arena), value->len,
                                                (const uint8_t *)value->str);
        argv[a++] = all->element[i]->str;
        argv[a++] = event ? federation_rollup_contribution (event, arena) : "";
        if (event && event->time_ms > latest)
            latest = event->time_ms;
    }
    snprintf (updated, sizeof updated, "%lld", (long long)latest);
    for (size_t i = 0; i < a; i++)
        lens[i] = strlen (argv[i]);
    redisReply *reply = pmo_redis_eval (self->redis, &s_build_script, 3, (int)a, argv, lens);
    freeReplyObject (all);
    pmo_arena_destroy (&arena);
    if (reply && reply->type == REDIS_REPLY_INTEGER)
        pmo_info ("federation: roll-up counters built division=%s entities=%zu", division, held);
    return s_done (reply, "roll-up build");
}

int federation_store_apply (federation_store_t *self, const char *spoke, const char *division,
                            const federation_apply_t *events, size_t n, uint32_t *applied,
                            uint32_t *duplicates, char *last_id, size_t last_id_size)
{
    size_t argc = 7 + 1 + 7 * n;
    const char **argv = calloc (argc, sizeof (char *));
    size_t *lens = calloc (argc, sizeof (size_t));
    char (*versions)[24] = calloc (n ? n : 1, 24);
    char (*times)[24] = calloc (n ? n : 1, 24);
    assert (argv && lens && versions && times);
    char hw[96], ent[160], ver[160], types[160], spk[160], roll[160], contrib[160];
    snprintf (hw, sizeof hw, "pmo:{%s}:fed:hw", self->hub);
    snprintf (ent, sizeof ent, "pmo:{%s}:fed:ent:%s", self->hub, division);
    snprintf (ver, sizeof ver, "pmo:{%s}:fed:ver:%s", self->hub, division);
    snprintf (types, sizeof types, "pmo:{%s}:fed:types:%s", self->hub, division);
    snprintf (spk, sizeof spk, "pmo:{%s}:fed:spoke:%s", self->hub, spoke);
    snprintf (roll, sizeof roll, "pmo:{%s}:fed:roll:%s", self->hub, division);
    snprintf (contrib, sizeof contrib, "pmo:{%s}:fed:contrib:%s", self->hub, division);
    size_t a = 0;
    argv[a++] = hw;
    argv[a++] = ent;
    argv[a++] = ver;
    argv[a++] = types;
    argv[a++] = spk;
    argv[a++] = roll;
    argv[a++] = contrib;
    argv[a++] = division;
    for (size_t i = 0; i < n; i++) {
        snprintf (versions[i], 24, "%llu", (unsigned long long)events[i].version);
        snprintf (times[i], 24, "%lld", (long long)events[i].time_ms);
        argv[a++] = events[i].stream_id;
        argv[a++] = events[i].field ? events[i].field : "";
        argv[a++] = versions[i];
        argv[a++] = events[i].blob ? (const char *)events[i].blob : "";
        argv[a++] = events[i].type;
        argv[a++] = events[i].contribution ? events[i].contribution : "";
        argv[a++] = times[i];
    }
    //  Blobs are binary (and may be empty): their lengths come from the
    //  events, everything else is text.
    for (size_t i = 0; i < a; i++)
        lens[i] = i >= 8 && (i - 8) % 7 == 3 ? events[(i - 8) / 7].size : strlen (argv[i]);
    redisReply *reply = pmo_redis_eval (self->redis, &s_apply_script, 7, (int)a, argv, lens);
    if (reply && reply->type == REDIS_REPLY_ERROR && strstr (reply->str, "NOROLLUP")) {
        //  Held from before the hub kept counters: count them, then apply
        freeReplyObject (reply);
        reply = NULL;
        if (s_rollup_build (self, division) == 0)
            reply = pmo_redis_eval (self->redis, &s_apply_script, 7, (int)a, argv, lens);
    }
    free (argv);
    free (lens);
    free (versions);
    free (times);
    int rc = -1;
    if (reply && reply->type == REDIS_REPLY_ARRAY && reply->elements == 3) {
        *applied = (uint32_t)reply->element[0]->integer;
        *duplicates = (uint32_t)reply->element[1]->integer;
        snprintf (last_id, last_id_size, "%s",
                  reply->element[2]->str ? reply->element[2]->str : "");
        rc = 0;
    } else if (reply && reply->type == REDIS_REPLY_ERROR)
        pmo_error ("federation: apply refused error=\"%s\"", reply->str);
    if (reply)
        freeReplyObject (reply);
    //  The spoke forgets what the hub acknowledged: only once the replicas
    //  hold it (pmo_redis.h)
    if (rc == 0 && pmo_redis_wait_replicas (self->redis))
        rc = -1;
    return rc;
}

int federation_store_rollups (federation_store_t *self, pmo_arena_t *arena,
                              const char *const *divisions, size_t n, federation_rollup_t *into,
                              bool *built, Pmo__Count ***types, size_t *n_types)
{
    for (size_t i = 0; i < n; i++)
        if (pmo_redis_pipe (self->redis, "HGETALL pmo:{%s}:fed:roll:%s", self->hub, divisions[i]) ||
            pmo_redis_pipe (self->redis, "HGETALL pmo:{%s}:fed:types:%s", self->hub, divisions[i]))
            break;
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        redisReply *roll = pmo_redis_pipe_reply (self->redis);
        redisReply *counted = pmo_redis_pipe_reply (self->redis);
        built[i] = false;
        types[i] = NULL;
        n_types[i] = 0;
        if (!roll || roll->type != REDIS_REPLY_ARRAY || !counted ||
            counted->type != REDIS_REPLY_ARRAY)
            rc = -1;
        else {
            for (size_t e = 0; e + 1 < roll->elements; e += 2) {
                const char *name = roll->element[e]->str;
                const char *value = roll->element[e + 1]->str;
                if (!name || !value)
                    continue;
                if (strcmp (name, "_v") == 0)
                    built[i] = true;
                else if (strcmp (name, "_u") == 0)
                    into[i].updated_ms = strtoll (value, NULL, 10);
                else
                    federation_rollup_counter (&into[i], arena, name, strtoull (value, NULL, 10));
            }
            types[i] = pmo_arena_alloc (arena, (counted->elements / 2 + 1) * sizeof (Pmo__Count *));
            for (size_t e = 0; e + 1 < counted->elements; e += 2) {
                Pmo__Count *count = pmo_arena_alloc (arena, sizeof (Pmo__Count));
                pmo__count__init (count);
                count->key = pmo_arena_strdup (arena, counted->element[e]->str);
                count->value = strtoull (counted->element[e + 1]->str, NULL, 10);
                types[i][n_types[i]++] = count;
            }
        }
        if (roll)
            freeReplyObject (roll);
        if (counted)
            freeReplyObject (counted);
    }
    return rc;
}

int federation_store_high_water (federation_store_t *self, const char *division, char *out,
                                 size_t size)
{
    redisReply *reply =
        pmo_redis_command (self->redis, "HGET pmo:{%s}:fed:hw %s", self->hub, division);
    if (!s_reply_ok (reply))
        return s_done (reply, "high water");
    snprintf (out, size, "%s", reply->type == REDIS_REPLY_STRING ? reply->str : "");
    freeReplyObject (reply);
    return 0;
}

int federation_store_spoke_save (federation_store_t *self, const Pmo__Spoke *spoke)
{
    redisReply *reply = pmo_redis_command (
        self->redis,
        "HSET pmo:{%s}:fed:spoke:%s last_seen_ms %lld backlog_entries %llu behind_ms %lld "
        "policy_version %llu policy_error %s",
        self->hub, spoke->name, (long long)spoke->last_seen_ms,
        (unsigned long long)spoke->backlog_entries, (long long)spoke->behind_ms,
        (unsigned long long)spoke->policy_version, spoke->policy_error ? spoke->policy_error : "");
    return s_done (reply, "spoke save");
}

int federation_store_spoke_load (federation_store_t *self, Pmo__Spoke *spoke, pmo_arena_t *arena)
{
    redisReply *reply =
        pmo_redis_command (self->redis, "HGETALL pmo:{%s}:fed:spoke:%s", self->hub, spoke->name);
    if (!s_reply_ok (reply) || reply->type != REDIS_REPLY_ARRAY)
        return s_done (reply, "spoke load") ? -1 : -1;
    for (size_t i = 0; i + 1 < reply->elements; i += 2) {
        const char *name = reply->element[i]->str;
        const char *value = reply->element[i + 1]->str;
        if (!name || !value)
            continue;
        if (strcmp (name, "last_seen_ms") == 0)
            spoke->last_seen_ms = strtoll (value, NULL, 10);
        else if (strcmp (name, "backlog_entries") == 0)
            spoke->backlog_entries = strtoull (value, NULL, 10);
        else if (strcmp (name, "behind_ms") == 0)
            spoke->behind_ms = strtoll (value, NULL, 10);
        else if (strcmp (name, "policy_version") == 0)
            spoke->policy_version = strtoull (value, NULL, 10);
        else if (strcmp (name, "policy_error") == 0)
            spoke->policy_error = pmo_arena_strdup (arena, value);
        else if (strcmp (name, "applied") == 0)
            spoke->events_applied = strtoull (value, NULL, 10);
        else if (strcmp (name, "duplicates") == 0)
            spoke->duplicates = strtoull (value, NULL, 10);
        else if (strcmp (name, "refused") == 0)
            spoke->refused = strtoull (value, NULL, 10);
        else if (strcmp (name, "last_event_id") == 0) {
            spoke->last_event_id = pmo_arena_strdup (arena, value);
            spoke->last_event_ms = federation_stream_id_ms (value);
        }
    }
    freeReplyObject (reply);
    return 0;
}

int federation_store_spoke_refused (federation_store_t *self, const char *spoke)
{
    return s_done (pmo_redis_command (self->redis, "HINCRBY pmo:{%s}:fed:spoke:%s refused 1",
                                      self->hub, spoke),
                   "spoke refused");
}

//  Decode the values of a field/value array reply (every second element
//  from start) into events.
static void s_decode_events (redisReply *array, size_t start, size_t step, pmo_arena_t *arena,
                             Pmo__Event ***events, size_t *n)
{
    *events = pmo_arena_alloc (arena, (array->elements / step + 1) * sizeof (Pmo__Event *));
    *n = 0;
    for (size_t i = start; i < array->elements; i += step) {
        redisReply *value = array->element[i];
        if (value->type != REDIS_REPLY_STRING)
            continue;
        Pmo__Event *event = pmo__event__unpack (pmo_arena_allocator (arena), value->len,
                                                (const uint8_t *)value->str);
        if (event)
            (*events)[(*n)++] = event;
        else
            pmo_warn ("federation: undecodable roll-up entry size=%zu", value->len);
    }
}

int federation_store_entities (federation_store_t *self, pmo_arena_t *arena, const char *division,
                               Pmo__Event ***events, size_t *n)
{
    *n = 0;
    *events = NULL;
    redisReply *reply =
        pmo_redis_command (self->redis, "HGETALL pmo:{%s}:fed:ent:%s", self->hub, division);
    if (!s_reply_ok (reply) || reply->type != REDIS_REPLY_ARRAY)
        return s_done (reply, "entities") ? -1 : -1;
    s_decode_events (reply, 1, 2, arena, events, n);
    freeReplyObject (reply);
    return 0;
}

int federation_store_entity_page (federation_store_t *self, pmo_arena_t *arena,
                                  const char *division, const char *kind, const char *cursor,
                                  size_t limit, Pmo__Event ***events, size_t *n, char **next)
{
    *n = 0;
    *events = pmo_arena_alloc (arena, (limit + 1) * sizeof (Pmo__Event *));
    *next = "";
    char pos[32];
    snprintf (pos, sizeof pos, "%s", pmo_str_empty (cursor) ? "0" : cursor);
    //  HSCAN may return fewer than COUNT (or none) per call: keep going
    //  until the page is full or the scan is over.
    do {
        redisReply *reply =
            pmo_redis_command (self->redis, "HSCAN pmo:{%s}:fed:ent:%s %s MATCH %s:* COUNT %llu",
                               self->hub, division, pos, kind, (unsigned long long)limit);
        if (!s_reply_ok (reply) || reply->type != REDIS_REPLY_ARRAY || reply->elements != 2)
            return s_done (reply, "entity page") ? -1 : -1;
        snprintf (pos, sizeof pos, "%s", reply->element[0]->str);
        Pmo__Event **some;
        size_t got;
        s_decode_events (reply->element[1], 1, 2, arena, &some, &got);
        for (size_t i = 0; i < got; i++)
            (*events)[(*n)++] = some[i];
        freeReplyObject (reply);
    } while (strcmp (pos, "0") != 0 && *n < limit);
    if (strcmp (pos, "0") != 0)
        *next = pmo_arena_strdup (arena, pos);
    return 0;
}

//  ---------------------------------------------------------------------
//  Hub side: cross-division deliveries

static char *s_xdiv_queue_key (federation_store_t *self, pmo_arena_t *arena, const char *division)
{
    return pmo_arena_printf (arena, "pmo:{%s}:fed:xdiv:q:%s", self->hub, division);
}

static char *s_xdiv_data_key (federation_store_t *self, pmo_arena_t *arena, const char *division)
{
    return pmo_arena_printf (arena, "pmo:{%s}:fed:xdiv:d:%s", self->hub, division);
}

//  Queue deliveries, each once: lua/xdiv_enqueue.lua
static pmo_script_t s_xdiv_enqueue_script = {.source = pmo_lua_federation_xdiv_enqueue};

//  Forget a handled delivery (a refusal goes to its requester): lua/xdiv_done.lua
static pmo_script_t s_xdiv_done_script = {.source = pmo_lua_federation_xdiv_done};

int federation_store_xdiv_enqueue (federation_store_t *self, Pmo__XdivDelivery *const *deliveries,
                                   size_t n, pmo_arena_t *arena)
{
    if (n == 0)
        return 0;
    //  KEYS (two per delivery), then the score, then two ARGV per delivery
    size_t nkeys = 2 * n;
    size_t argc = nkeys + 1 + 2 * n;
    const char **argv = pmo_arena_alloc (arena, argc * sizeof (char *));
    size_t *lens = pmo_arena_alloc (arena, argc * sizeof (size_t));
    int64_t now = pmo_now_ms ();
    for (size_t i = 0; i < n; i++) {
        Pmo__XdivDelivery *delivery = deliveries[i];
        delivery->queued_ms = now;
        argv[2 * i] = s_xdiv_queue_key (self, arena, delivery->division);
        argv[2 * i + 1] = s_xdiv_data_key (self, arena, delivery->division);
        argv[nkeys + 1 + 2 * i] = delivery->key;
        argv[nkeys + 2 + 2 * i] =
            (const char *)pmo_reflect_pack (&delivery->base, arena, &lens[nkeys + 2 + 2 * i]);
    }
    argv[nkeys] = pmo_arena_printf (arena, "%lld", (long long)now);
    for (size_t i = 0; i <= nkeys; i++)
        lens[i] = strlen (argv[i]);
    for (size_t i = 0; i < n; i++)
        lens[nkeys + 1 + 2 * i] = strlen (argv[nkeys + 1 + 2 * i]);
    redisReply *reply =
        pmo_redis_eval (self->redis, &s_xdiv_enqueue_script, (int)nkeys, (int)argc, argv, lens);
    int rc = reply && reply->type == REDIS_REPLY_INTEGER ? 0 : -1;
    if (reply)
        freeReplyObject (reply);
    return rc;
}

Pmo__XdivDelivery *federation_store_xdiv_get (federation_store_t *self, const char *division,
                                              const char *key, pmo_arena_t *arena, bool *failed)
{
    redisReply *reply =
        pmo_redis_command (self->redis, "HGET %s %s", s_xdiv_data_key (self, arena, division), key);
    if (!reply) {
        *failed = true;
        return NULL;
    }
    Pmo__XdivDelivery *d = NULL;
    if (reply->type == REDIS_REPLY_STRING)
        d = pmo__xdiv_delivery__unpack (pmo_arena_allocator (arena), reply->len,
                                        (const uint8_t *)reply->str);
    freeReplyObject (reply);
    return d;
}

int federation_store_xdiv_waiting_keys (federation_store_t *self, const char *division, size_t max,
                                        pmo_arena_t *arena, char ***keys, size_t *n)
{
    *keys = NULL;
    *n = 0;
    if (max == 0)
        return 0;
    //  (hiredis formats no %zu)
    redisReply *reply =
        pmo_redis_command (self->redis, "ZRANGE %s 0 %lld",
                           s_xdiv_queue_key (self, arena, division), (long long)max - 1);
    if (!reply)
        return -1;
    if (reply->type == REDIS_REPLY_ARRAY) {
        *keys = pmo_arena_alloc (arena, (reply->elements + 1) * sizeof (char *));
        for (size_t k = 0; k < reply->elements; k++)
            if (reply->element[k]->type == REDIS_REPLY_STRING)
                (*keys)[(*n)++] = pmo_arena_strdup (arena, reply->element[k]->str);
    }
    freeReplyObject (reply);
    return 0;
}

int federation_store_xdiv_done (federation_store_t *self, const char *division, const char *key,
                                Pmo__XdivDelivery *refusal, pmo_arena_t *arena, bool *forgot)
{
    //  KEYS q d [q_origin d_origin], ARGV key [refusal_key score refusal_blob]
    const char *argv[8] = {s_xdiv_queue_key (self, arena, division),
                           s_xdiv_data_key (self, arena, division)};
    size_t lens[8];
    int nkeys = 2;
    if (refusal) {
        refusal->queued_ms = pmo_now_ms ();
        argv[2] = s_xdiv_queue_key (self, arena, refusal->division);
        argv[3] = s_xdiv_data_key (self, arena, refusal->division);
        nkeys = 4;
    }
    int argc = nkeys;
    argv[argc++] = key;
    if (refusal) {
        argv[argc++] = refusal->key;
        argv[argc++] = pmo_arena_printf (arena, "%lld", (long long)pmo_now_ms ());
    }
    for (int i = 0; i < argc; i++)
        lens[i] = strlen (argv[i]);
    if (refusal) {
        argv[argc] = (const char *)pmo_reflect_pack (&refusal->base, arena, &lens[argc]);
        argc++;
    }
    redisReply *reply = pmo_redis_eval (self->redis, &s_xdiv_done_script, nkeys, argc, argv, lens);
    int rc = reply && reply->type == REDIS_REPLY_INTEGER ? 0 : -1;
    *forgot = rc == 0 && reply->integer == 1;
    if (reply)
        freeReplyObject (reply);
    return rc;
}

uint64_t federation_store_xdiv_count (federation_store_t *self, char *const *divisions,
                                      size_t n_divisions)
{
    uint64_t waiting = 0;
    for (size_t i = 0; i < n_divisions; i++) {
        redisReply *reply = pmo_redis_command (self->redis, "ZCARD pmo:{%s}:fed:xdiv:q:%s",
                                               self->hub, divisions[i]);
        if (!reply)
            return 0;
        if (reply->type == REDIS_REPLY_INTEGER)
            waiting += (uint64_t)reply->integer;
        freeReplyObject (reply);
    }
    return waiting;
}

//  ---------------------------------------------------------------------
//  Spoke side

int federation_store_group_ensure (federation_store_t *self, const char *stream)
{
    return pmo_stream_group_ensure (self->redis, stream, FEDERATION_GROUP);
}

int federation_store_read (federation_store_t *self, const char *consumer, const char **streams,
                           size_t n_streams, size_t count, int block_ms, pmo_stream_batch_t *batch)
{
    if (pmo_stream_group_read (self->redis, FEDERATION_GROUP, consumer, streams, n_streams, count,
                               block_ms, 0, batch))
        return -1;
    //  Only what the spoke's Redis replicas hold goes to the hub: a failover
    //  losing an entry the hub had applied would leave the hub with an event
    //  the spoke never kept (a create its client was told to retry, say).
    //  Reading the entries was itself a write of this connection (the
    //  group's delivery), after theirs, so its WAIT covers them.
    if (batch->count && pmo_redis_wait_replicas (self->redis)) {
        pmo_stream_batch_clear (batch);
        return -1;
    }
    return 0;
}

int federation_store_ack (federation_store_t *self, const char *stream, const char **ids, size_t n)
{
    if (n == 0)
        return 0;
    const char **argv = calloc (n + 3, sizeof (char *));
    assert (argv);
    argv[0] = "XACK";
    argv[1] = stream;
    argv[2] = FEDERATION_GROUP;
    for (size_t i = 0; i < n; i++)
        argv[3 + i] = ids[i];
    redisReply *reply = pmo_redis_commandv (self->redis, (int)(n + 3), argv, NULL);
    free (argv);
    return s_done (reply, "xack");
}

int federation_store_older_pending (federation_store_t *self, const char *stream, const char *id,
                                    size_t ours)
{
    redisReply *reply = pmo_redis_command (self->redis, "XPENDING %s %s - (%s %llu", stream,
                                           FEDERATION_GROUP, id, (unsigned long long)ours + 1);
    if (!s_reply_ok (reply) || reply->type != REDIS_REPLY_ARRAY)
        return s_done (reply, "xpending") ? -1 : -1;
    int rc = reply->elements > ours ? 1 : 0;
    freeReplyObject (reply);
    return rc;
}

//  The value of a field in a flat field/value array reply (NULL if absent).
static redisReply *s_field (redisReply *flat, const char *name)
{
    if (!flat || flat->type != REDIS_REPLY_ARRAY)
        return NULL;
    for (size_t i = 0; i + 1 < flat->elements; i += 2)
        if (flat->element[i]->str && strcmp (flat->element[i]->str, name) == 0)
            return flat->element[i + 1];
    return NULL;
}

int federation_store_reader_lease (federation_store_t *self, const char *spoke,
                                   const char *consumer, int ttl_ms, char *holder,
                                   size_t holder_size)
{
    *holder = 0;
    char key[200];
    snprintf (key, sizeof key, "pmo:{%s}:fed:uplink:%s:reader", self->hub, spoke);
    for (int tries = 0; tries < 2; tries++) {
        redisReply *taken =
            pmo_redis_command (self->redis, "SET %s %s NX PX %d", key, consumer, ttl_ms);
        if (!s_reply_ok (taken))
            return s_done (taken, "reader lease") ? -1 : -1;
        bool ours = taken->type == REDIS_REPLY_STATUS;
        freeReplyObject (taken);
        if (ours)
            return 1;
        redisReply *who = pmo_redis_command (self->redis, "GET %s", key);
        if (!s_reply_ok (who))
            return s_done (who, "reader lease") ? -1 : -1;
        if (who->type == REDIS_REPLY_STRING && strcmp (who->str, consumer) != 0) {
            snprintf (holder, holder_size, "%s", who->str);
            freeReplyObject (who);
            return 0;
        }
        bool held = who->type == REDIS_REPLY_STRING;
        freeReplyObject (who);
        //  Ours: renew it (if it lapsed in between, take it again)
        redisReply *renewed =
            held ? pmo_redis_command (self->redis, "PEXPIRE %s %d", key, ttl_ms) : NULL;
        if (held && !s_reply_ok (renewed))
            return s_done (renewed, "reader lease") ? -1 : -1;
        bool kept = renewed && renewed->type == REDIS_REPLY_INTEGER && renewed->integer == 1;
        if (renewed)
            freeReplyObject (renewed);
        if (kept)
            return 1;
    }
    return -1;
}

int federation_store_backlog (federation_store_t *self, const char *stream, uint64_t *entries,
                              int64_t *oldest_ms)
{
    *entries = 0;
    *oldest_ms = 0;
    redisReply *groups = pmo_redis_command (self->redis, "XINFO GROUPS %s", stream);
    if (!groups)
        return -1;
    if (groups->type == REDIS_REPLY_ERROR) { //  no stream yet: nothing waits
        freeReplyObject (groups);
        return 0;
    }
    redisReply *group = NULL;
    for (size_t i = 0; groups->type == REDIS_REPLY_ARRAY && i < groups->elements; i++) {
        redisReply *name = s_field (groups->element[i], "name");
        if (name && name->str && strcmp (name->str, FEDERATION_GROUP) == 0)
            group = groups->element[i];
    }
    if (!group) {
        freeReplyObject (groups);
        return 0;
    }
    redisReply *pending = s_field (group, "pending");
    redisReply *lag = s_field (group, "lag");
    redisReply *last = s_field (group, "last-delivered-id");
    uint64_t n_pending = pending && pending->type == REDIS_REPLY_INTEGER ? pending->integer : 0;
    //  lag is nil when Redis cannot tell (entries deleted): then count at
    //  least the next undelivered entry if there is one.
    bool lag_known = lag && lag->type == REDIS_REPLY_INTEGER;
    uint64_t n_lag = lag_known ? (uint64_t)lag->integer : 0;
    char last_id[64];
    snprintf (last_id, sizeof last_id, "%s", last && last->str ? last->str : "0-0");
    freeReplyObject (groups);
    int rc = 0;
    if (n_pending > 0) {
        redisReply *summary =
            pmo_redis_command (self->redis, "XPENDING %s %s", stream, FEDERATION_GROUP);
        if (!summary)
            return -1;
        if (summary->type == REDIS_REPLY_ARRAY && summary->elements >= 2 &&
            summary->element[1]->str)
            *oldest_ms = federation_stream_id_ms (summary->element[1]->str);
        freeReplyObject (summary);
    }
    if (n_lag > 0 || !lag_known) {
        redisReply *next =
            pmo_redis_command (self->redis, "XRANGE %s (%s + COUNT 1", stream, last_id);
        if (!next)
            return -1;
        if (next->type == REDIS_REPLY_ARRAY && next->elements == 1) {
            if (!lag_known)
                n_lag = 1;
            if (!*oldest_ms)
                *oldest_ms = federation_stream_id_ms (next->element[0]->element[0]->str);
        }
        freeReplyObject (next);
    }
    *entries = n_pending + n_lag;
    return rc;
}

int federation_store_policy_get (federation_store_t *self, const char *spoke, uint64_t *version,
                                 char *error, size_t error_size)
{
    *version = 0;
    if (error_size)
        *error = 0;
    redisReply *reply = pmo_redis_command (
        self->redis, "HMGET pmo:{%s}:fed:uplink:%s policy_version policy_error", self->hub, spoke);
    if (!s_reply_ok (reply) || reply->type != REDIS_REPLY_ARRAY || reply->elements != 2)
        return s_done (reply, "policy get") ? -1 : -1;
    if (reply->element[0]->str)
        *version = strtoull (reply->element[0]->str, NULL, 10);
    if (reply->element[1]->str)
        snprintf (error, error_size, "%s", reply->element[1]->str);
    freeReplyObject (reply);
    return 0;
}

int federation_store_policy_set (federation_store_t *self, const char *spoke, uint64_t version,
                                 const char *error)
{
    return s_done (pmo_redis_command (self->redis,
                                      "HSET pmo:{%s}:fed:uplink:%s policy_version %llu "
                                      "policy_error %s applied_ms %lld",
                                      self->hub, spoke, (unsigned long long)version,
                                      error ? error : "", (long long)pmo_now_ms ()),
                   "policy set");
}
