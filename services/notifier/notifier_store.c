/*  notifier_store.c: the notifier's Redis layout.

    pmo:{<div>}:nt:seq                 hash "ch"/"sb" -> last sequence number
    pmo:{<div>}:nt:ch:<id>             channel (hash v = version, d = protobuf)
    pmo:{<div>}:nt:chs                 zset of channel ids by sequence
    pmo:{<div>}:nt:sb:<id>             subscription (hash v, d)
    pmo:{<div>}:nt:sbs                 zset of subscription ids by sequence
    pmo:{<div>}:nt:dl:<id>             delivery (hash v, d, n = events carried,
                                       s = of one event, o = its notice, a =
                                       attempted: closed to new events, l = lease
                                       end ms while sent)
    pmo:{<div>}:nt:dl:<id>:n           list of its notices (protobuf; not for s)
    pmo:{<div>}:nt:due:<channel>       zset of its waiting deliveries by due ms
                                       (while leased: by lease expiry)
    pmo:{<div>}:nt:ready               zset of channel ids by earliest due ms
    pmo:{<div>}:nt:done:<channel>      zset of delivered and discarded ids by time
    pmo:{<div>}:nt:dead:<channel>      zset of dead letters by time
    pmo:{<div>}:nt:seen:<evdiv>/<stream id>:<channel>
                                       an event already routed to a channel into a
                                       burst or a digest (1 day; a delivery of the
                                       event alone is its own mark)
    pmo:{<div>}:nt:open:<channel>:<project>  the burst delivery still open
    pmo:{<div>}:nt:burst:<channel>:<project> when the project's burst window ends
    pmo:{<div>}:nt:click:<channel>:<key>  a chat click done: its answer (5 minutes;
                                       a repeat is answered with it, not done again)
    pmo:{<div>}:nt:thread:<channel>    hash project -> Slack thread_ts (slack_api: the
                                       first message about the project starts its thread)
    pmo:{<div>}:events                 the division's event stream (pmo_stream_key)
    pmo:{<div>}:idem:<request id>      the reply of a done request (24 h)

    <div> is the channel's division: a delivery lives with its channel, so
    one division's backlog never sits in another's keys.
*/
#include "notifier_store.h"
#include "pmo_seq.h"
#include "pmo_seal.h"
#include "notifier_model.h"
#include "pmo_lua_notifier_claim.h"
#include "pmo_lua_notifier_finish.h"
#include "pmo_lua_notifier_route.h"
#include "pmo_log.h"
#include "pmo_ping.h"
#include "pmo_reflect.h"
#include "pmo_stream.h"

#include <assert.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

//  The three scripts that move deliveries; each file says its KEYS, ARGV
//  and answers. route: an event becomes a delivery or joins one, exactly
//  once per event and channel (lua/route.lua); claim: lease a channel's
//  due deliveries (lua/claim.lua); finish: record an attempt
//  (lua/finish.lua).
static pmo_script_t s_route = {.source = pmo_lua_notifier_route};
static pmo_script_t s_claim = {.source = pmo_lua_notifier_claim};
static pmo_script_t s_finish = {.source = pmo_lua_notifier_finish};

struct _notifier_store_t {
    pmo_redis_t *redis;           //  not owned
    const pmo_seal_t *seal;       //  not owned: a channel's secrets at rest
    uint64_t scripts_at_connects; //  connection on which the scripts were loaded
    notifier_store_counts_t counts;
};

notifier_store_t *notifier_store_new (pmo_redis_t *redis, const pmo_seal_t *seal)
{
    assert (seal);
    notifier_store_t *self = calloc (1, sizeof (notifier_store_t));
    assert (self);
    self->redis = redis;
    self->seal = seal;
    return self;
}

void notifier_store_destroy (notifier_store_t **self_p)
{
    assert (self_p);
    free (*self_p);
    *self_p = NULL;
}

const char *notifier_store_prefix (notifier_entity_t entity)
{
    return entity == NOTIFIER_CHANNEL ? "ch" : "sb";
}

int notifier_store_id_division (const char *id, const char *prefix, char *division, size_t size)
{
    if (!id)
        return -1;
    size_t plen = strlen (prefix);
    if (strncmp (id, prefix, plen) != 0 || id[plen] != '_')
        return -1;
    const char *start = id + plen + 1;
    const char *end = strchr (start, '_');
    if (!end || end == start || (size_t)(end - start) >= size || !end[1])
        return -1;
    memcpy (division, start, (size_t)(end - start));
    division[end - start] = 0;
    if (!pmo_slug_valid (division, 2, 32))
        return -1;
    for (const char *p = end + 1; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
            return -1;
    return 0;
}

static const ProtobufCMessageDescriptor *s_desc (notifier_entity_t entity)
{
    return entity == NOTIFIER_CHANNEL ? &pmo__channel__descriptor : &pmo__subscription__descriptor;
}

static char *s_key (pmo_arena_t *arena, notifier_entity_t entity, const char *division,
                    const char *id)
{
    return pmo_arena_printf (arena, "pmo:{%s}:nt:%s:%s", division, notifier_store_prefix (entity),
                             id);
}

static char *s_index (pmo_arena_t *arena, notifier_entity_t entity, const char *division)
{
    return pmo_arena_printf (arena, "pmo:{%s}:nt:%ss", division, notifier_store_prefix (entity));
}

static double s_seq (const char *id)
{
    const char *underscore = strrchr (id, '_');
    return underscore ? strtod (underscore + 1, NULL) : 0;
}

//  A channel's secrets: the webhook URL (Slack's and Google Chat's carry
//  their credential), the signing secrets, the SMTP password, the chat
//  interaction secret and the Slack bot token.
//  Sealed into a copy that is written; opened in place after a read.
static Pmo__Channel *s_channel_sealed (const pmo_seal_t *seal, pmo_arena_t *arena,
                                       const Pmo__Channel *ch)
{
    Pmo__Channel *copy = pmo_arena_alloc (arena, sizeof (Pmo__Channel));
    *copy = *ch;
    copy->url = pmo_seal (seal, arena, ch->url);
    copy->smtp_password = pmo_seal (seal, arena, ch->smtp_password);
    copy->interact_secret = pmo_seal (seal, arena, ch->interact_secret);
    copy->bot_token = pmo_seal (seal, arena, ch->bot_token);
    copy->signing_secrets = pmo_arena_alloc (arena, (ch->n_signing_secrets + 1) * sizeof (void *));
    for (size_t i = 0; i < ch->n_signing_secrets; i++) {
        Pmo__SigningSecret *secret = pmo_arena_alloc (arena, sizeof (Pmo__SigningSecret));
        *secret = *ch->signing_secrets[i];
        secret->secret = pmo_seal (seal, arena, ch->signing_secrets[i]->secret);
        copy->signing_secrets[i] = secret;
    }
    return copy;
}

//  0, or -1 if one does not open (the key is gone from the key file, or
//  the value was changed in Redis): the channel is then not read at all.
static int s_channel_open (const pmo_seal_t *seal, pmo_arena_t *arena, Pmo__Channel *ch)
{
    int rc = pmo_unseal (seal, arena, ch->url, &ch->url) |
             pmo_unseal (seal, arena, ch->smtp_password, &ch->smtp_password) |
             pmo_unseal (seal, arena, ch->interact_secret, &ch->interact_secret) |
             pmo_unseal (seal, arena, ch->bot_token, &ch->bot_token);
    for (size_t i = 0; i < ch->n_signing_secrets; i++)
        rc |= pmo_unseal (seal, arena, ch->signing_secrets[i]->secret,
                          &ch->signing_secrets[i]->secret);
    if (rc)
        pmo_error ("notifier: the secrets of channel id=%s do not open with the key file", ch->id);
    return rc ? -1 : 0;
}

static int s_decode (const notifier_store_t *self, pmo_arena_t *arena,
                     const ProtobufCMessageDescriptor *desc, redisReply *reply,
                     ProtobufCMessage **msg, uint64_t *version)
{
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements < 2 ||
        reply->element[1]->type != REDIS_REPLY_STRING)
        return 0;
    *msg = protobuf_c_message_unpack (desc, pmo_arena_allocator (arena), reply->element[1]->len,
                                      (const uint8_t *)reply->element[1]->str);
    if (!*msg)
        return 0;
    if (desc == &pmo__channel__descriptor &&
        s_channel_open (self->seal, arena, (Pmo__Channel *)*msg)) {
        *msg = NULL;
        return -1;
    }
    if (version)
        *version = reply->element[0]->type == REDIS_REPLY_STRING
                       ? strtoull (reply->element[0]->str, NULL, 10)
                       : 0;
    return 1;
}

int notifier_store_read (notifier_store_t *self, pmo_arena_t *arena, notifier_entity_t entity,
                         const char *id, ProtobufCMessage **msg, uint64_t *version)
{
    *msg = NULL;
    char division[40];
    //  entity ids use a decimal sequence
    if (!id || strncmp (id, notifier_store_prefix (entity), 2) != 0 || id[2] != '_')
        return 0;
    const char *end = strrchr (id, '_');
    if (end == id + 2 || (size_t)(end - id - 3) >= sizeof division)
        return 0;
    memcpy (division, id + 3, (size_t)(end - id - 3));
    division[end - id - 3] = 0;
    if (!pmo_slug_valid (division, 2, 32))
        return 0;
    redisReply *reply =
        pmo_redis_command (self->redis, "HMGET %s v d", s_key (arena, entity, division, id));
    if (!reply)
        return -1;
    int rc = s_decode (self, arena, s_desc (entity), reply, msg, version);
    freeReplyObject (reply);
    return rc;
}

int notifier_store_list (notifier_store_t *self, pmo_arena_t *arena, notifier_entity_t entity,
                         const char *division, ProtobufCMessage ***msgs, size_t *n)
{
    *msgs = NULL;
    *n = 0;
    redisReply *ids =
        pmo_redis_command (self->redis, "ZRANGE %s 0 -1", s_index (arena, entity, division));
    if (!ids)
        return -1;
    if (ids->type != REDIS_REPLY_ARRAY || ids->elements == 0) {
        freeReplyObject (ids);
        return 0;
    }
    size_t count = ids->elements;
    for (size_t i = 0; i < count; i++)
        if (pmo_redis_pipe (self->redis, "HMGET %s v d",
                            s_key (arena, entity, division, ids->element[i]->str))) {
            freeReplyObject (ids);
            return -1;
        }
    freeReplyObject (ids);
    *msgs = pmo_arena_alloc (arena, count * sizeof (void *));
    int rc = 0;
    for (size_t i = 0; i < count; i++) {
        redisReply *reply = pmo_redis_pipe_reply (self->redis);
        if (!reply) {
            rc = -1;
            continue;
        }
        ProtobufCMessage *msg = NULL;
        if (s_decode (self, arena, s_desc (entity), reply, &msg, NULL) == 1)
            (*msgs)[(*n)++] = msg;
        freeReplyObject (reply);
    }
    return rc;
}

int notifier_store_next_id (notifier_store_t *self, pmo_arena_t *arena, notifier_entity_t entity,
                            const char *division, char **id)
{
    char key[128];
    snprintf (key, sizeof key, "pmo:{%s}:nt:seq", division);
    return pmo_seq_id (self->redis, arena, key, notifier_store_prefix (entity), division, id);
}

void notifier_store_put (notifier_store_t *self, pmo_commit_t *commit, pmo_arena_t *arena,
                         notifier_entity_t entity, const char *division,
                         const ProtobufCMessage *msg, uint64_t expect)
{
    if (entity == NOTIFIER_CHANNEL)
        msg = &s_channel_sealed (self->seal, arena, (const Pmo__Channel *)msg)->base;
    size_t size;
    uint8_t *blob = pmo_reflect_pack (msg, arena, &size);
    const char *id = pmo_reflect_str (msg, "id");
    pmo_commit_put (commit, s_key (arena, entity, division, id), expect,
                    pmo_reflect_u64 (msg, "version"), blob, size);
    if (expect == 0)
        pmo_commit_zadd (commit, s_index (arena, entity, division), s_seq (id), id);
}

void notifier_store_event (notifier_store_t *self, pmo_commit_t *commit, pmo_arena_t *arena,
                           const char *division, const Pmo__Event *event)
{
    size_t size;
    uint8_t *blob = pmo_reflect_pack (&event->base, arena, &size);
    pmo_commit_event (commit, pmo_stream_key (arena, division), event->type, blob, size);
}

//  ---------------------------------------------------------------------
//  Routing

//  A number in decimal (in arena). Every route and outcome sends a dozen
//  keys and numbers: joined by hand (pmo_arena_cat) rather than with
//  printf, which cost 6% of the notifier's CPU in bench_notifier.
static char *s_num (pmo_arena_t *arena, long long value)
{
    char digits[PMO_DIGITS_MAX + 1];
    digits[PMO_DIGITS_MAX] = 0;
    return pmo_arena_strdup (arena, pmo_digits_i64 (digits + PMO_DIGITS_MAX, value));
}

char *notifier_store_delivery_id (pmo_arena_t *arena, const char *division, const char *key)
{
    //  (the first 8 bytes of the key's SHA-256, in lower-case hex: the ids
    //  stored so far are made so, and a replayed event must find its own)
    static const char hexdigits[] = "0123456789abcdef";
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (!EVP_Digest (key, strlen (key), digest, &len, notifier_sha256 (), NULL) || len < 8)
        abort (); //  (OpenSSL has no SHA-256: nothing of the notifier could work)
    char hex[17];
    for (int i = 0; i < 8; i++) {
        hex[2 * i] = hexdigits[digest[i] >> 4];
        hex[2 * i + 1] = hexdigits[digest[i] & 15];
    }
    hex[16] = 0;
    return pmo_arena_cat (arena, "dl_", division, "_", hex, NULL);
}

static char *s_dl_prefix (pmo_arena_t *arena, const char *division)
{
    return pmo_arena_cat (arena, "pmo:{", division, "}:nt:dl:", NULL);
}

int notifier_store_scripts_ready (notifier_store_t *self)
{
    if (!pmo_redis_ready (self->redis))
        return -1;
    uint64_t connects = pmo_redis_connects (self->redis);
    if (self->scripts_at_connects == connects && *s_route.sha)
        return 0;
    pmo_script_t *scripts[] = {&s_route, &s_claim, &s_finish};
    for (size_t i = 0; i < 3; i++) {
        redisReply *reply = pmo_redis_command (self->redis, "SCRIPT LOAD %s", scripts[i]->source);
        if (!reply)
            return -1;
        int ok = reply->type == REDIS_REPLY_STRING && reply->len == 40;
        if (ok)
            memcpy (scripts[i]->sha, reply->str, 41);
        else
            pmo_error ("notifier: script load failed error=\"%s\"",
                       reply->type == REDIS_REPLY_ERROR ? reply->str : "unexpected reply");
        freeReplyObject (reply);
        if (!ok)
            return -1;
    }
    self->scripts_at_connects = connects;
    return 0;
}

static const char *s_mode_name (int mode)
{
    return mode == NOTIFIER_ROUTE_DIGEST     ? "digest"
           : mode == NOTIFIER_ROUTE_COALESCE ? "coalesce"
                                             : "single";
}

#define CALL_MAX   64 //  routes or outcomes in one script call, at most
#define ROUTE_KEYS 6  //  keys of one route in route.lua
#define ROUTE_ARGS 11 //  arguments of one route in route.lua

//  Runs of one division among n routes or outcomes (divisions[i], each
//  one's): each run is its own script call (its keys in one slot), of
//  CALL_MAX at most (a script holds Redis while it runs). The first item of
//  each run, then n; *n_runs says how many runs.
static size_t *s_division_runs (pmo_arena_t *arena, const char *const *divisions, size_t n,
                                size_t *n_runs)
{
    size_t *runs = pmo_arena_alloc (arena, (n + 1) * sizeof (size_t));
    *n_runs = 0;
    for (size_t start = 0; start < n;) {
        size_t end = start + 1;
        while (end < n && end - start < CALL_MAX && streq (divisions[end], divisions[start]))
            end++;
        runs[(*n_runs)++] = start;
        start = end;
    }
    runs[*n_runs] = n;
    return runs;
}

//  The arguments of one EVALSHA of the script sha with nkeys keys, argc in
//  all: the first three filled (with their lengths in *lens), the rest for
//  the caller.
static const char **s_call_args (pmo_arena_t *arena, const char *sha, size_t nkeys, size_t argc,
                                 size_t **lens)
{
    const char **argv = pmo_arena_alloc (arena, argc * sizeof (char *));
    *lens = pmo_arena_alloc (arena, argc * sizeof (size_t));
    argv[0] = "EVALSHA";
    argv[1] = sha;
    argv[2] = pmo_arena_printf (arena, "%zu", nkeys);
    for (size_t j = 0; j < 3; j++)
        (*lens)[j] = strlen (argv[j]);
    return argv;
}

//  The answer r of one queued script call for n items (first: the first
//  one's id, for the log, or NULL): r when it is an array of n answers,
//  else NULL once what went wrong is said (a refused write once per
//  episode; a script Redis no longer holds is loaded again next time).
static redisReply *s_call_check (notifier_store_t *self, redisReply *r, size_t n, const char *what,
                                 const char *first)
{
    if (!r)
        return NULL;
    if (r->type == REDIS_REPLY_ARRAY && r->elements == n)
        return r;
    if (!pmo_redis_refused_write (self->redis, r, what))
        pmo_warn ("%s failed items=%zu first=%s error=\"%s\"", what, n, first ? first : "-",
                  r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply");
    if (r->type == REDIS_REPLY_ERROR && strncmp (r->str, "NOSCRIPT", 8) == 0)
        self->scripts_at_connects = 0;
    return NULL;
}

//  Queue one route.lua call for n routes (all of one division). 0 or -1.
static int s_route_pipe (notifier_store_t *self, pmo_arena_t *arena,
                         const notifier_route_args_t *const *routes, size_t n)
{
    size_t argc = 3 + n * (ROUTE_KEYS + ROUTE_ARGS);
    size_t *lens;
    const char **argv = s_call_args (arena, s_route.sha, n * ROUTE_KEYS, argc, &lens);
    //  (one division: what every route of the call shares is made once)
    const char *div = routes[0]->division;
    const char *head = pmo_arena_cat (arena, "pmo:{", div, "}:nt:", NULL);
    const char *ready = pmo_arena_cat (arena, head, "ready", NULL);
    const char *prefix = s_dl_prefix (arena, div);
    const char *most = s_num (arena, NOTIFIER_NOTICES_MAX);
    int64_t now_ms = routes[0]->now_ms;
    const char *now = s_num (arena, now_ms);
    for (size_t i = 0; i < n; i++) {
        const notifier_route_args_t *a = routes[i];
        const char *project = a->project_id ? a->project_id : "";
        const char *ch = a->channel_id;
        const char **k = argv + 3 + i * ROUTE_KEYS;
        k[0] = pmo_arena_cat (arena, head, "seen:", a->seen, ":", ch, NULL);
        k[1] = pmo_arena_cat (arena, prefix, a->delivery_id, NULL);
        k[2] = pmo_arena_cat (arena, head, "due:", ch, NULL);
        k[3] = ready;
        k[4] = pmo_arena_cat (arena, head, "open:", ch, ":", project, NULL);
        k[5] = pmo_arena_cat (arena, head, "burst:", ch, ":", project, NULL);
        for (size_t j = 0; j < ROUTE_KEYS; j++)
            lens[3 + i * ROUTE_KEYS + j] = strlen (k[j]);
        size_t dsize, nsize;
        uint8_t *dblob = pmo_reflect_pack (&a->delivery->base, arena, &dsize);
        uint8_t *nblob = pmo_reflect_pack (&a->notice->base, arena, &nsize);
        size_t at = 3 + n * ROUTE_KEYS + i * ROUTE_ARGS;
        const char **v = argv + at;
        v[0] = s_mode_name (a->mode);
        v[1] = a->delivery_id;
        v[2] = (const char *)dblob;
        v[3] = (const char *)nblob;
        v[4] = a->now_ms == now_ms ? now : s_num (arena, a->now_ms);
        v[5] = s_num (arena, a->window_ms > 0 ? a->window_ms : 1);
        v[6] = ch;
        v[7] = most;
        v[8] = prefix;
        v[9] = a->due_ms == now_ms ? now : s_num (arena, a->due_ms);
        v[10] = a->fallback_id ? a->fallback_id : a->delivery_id;
        //  text but for the two packed blobs, which have no NUL
        for (size_t j = 0; j < ROUTE_ARGS; j++)
            lens[at + j] = j == 2 ? dsize : j == 3 ? nsize : strlen (v[j]);
    }
    return pmo_redis_pipev (self->redis, (int)argc, argv, lens);
}

//  Take the answer (reply, freed; NULL: none came) of one route call for n
//  routes into results.
static void s_route_answer (notifier_store_t *self, redisReply *reply, size_t n, int *results)
{
    redisReply *ok = s_call_check (self, reply, n, "notifier: route", NULL);
    for (size_t i = 0; i < n; i++) {
        redisReply *one = ok ? ok->element[i] : NULL;
        results[i] =
            one && (one->type == REDIS_REPLY_STRING || one->type == REDIS_REPLY_STATUS) ? 0 : -1;
    }
    if (reply)
        freeReplyObject (reply);
}

struct _notifier_route_pending_t {
    size_t *runs; //  the first route of each call, then n
    size_t n_calls, answered;
    int *results;
};

notifier_route_pending_t *notifier_store_route_send (notifier_store_t *self, pmo_arena_t *arena,
                                                     const notifier_route_args_t *const *args,
                                                     size_t n, int *results)
{
    for (size_t i = 0; i < n; i++)
        results[i] = -1;
    notifier_route_pending_t *pending = pmo_arena_alloc (arena, sizeof *pending);
    *pending = (notifier_route_pending_t){.results = results};
    if (!n)
        return pending;
    if (notifier_store_scripts_ready (self))
        return NULL;
    const char **divisions = pmo_arena_alloc (arena, n * sizeof (char *));
    for (size_t i = 0; i < n; i++)
        divisions[i] = args[i]->division;
    size_t n_runs, queued = 0;
    pending->runs = s_division_runs (arena, divisions, n, &n_runs);
    for (; queued < n_runs; queued++)
        if (s_route_pipe (self, arena, args + pending->runs[queued],
                          pending->runs[queued + 1] - pending->runs[queued]))
            break;
    pending->n_calls = queued;
    self->counts.route_calls += queued;
    self->counts.routes += pending->runs[queued];
    if (queued && pmo_redis_pipe_push (self->redis))
        pending->n_calls = 0; //  dropped: nothing will answer
    return pending;
}

int notifier_store_route_poll (notifier_store_t *self, notifier_route_pending_t *pending, bool wait)
{
    while (pending->answered < pending->n_calls) {
        size_t at = pending->runs[pending->answered];
        size_t n = pending->runs[pending->answered + 1] - at;
        redisReply *reply = NULL;
        int rc = wait ? ((reply = pmo_redis_pipe_reply (self->redis)) ? 1 : -1)
                      : pmo_redis_pipe_poll (self->redis, &reply);
        if (rc == 0)
            return 0;
        s_route_answer (self, reply, n, pending->results + at);
        if (rc < 0)
            //  the connection is gone, and the answers still owed with it
            pending->n_calls = pending->answered;
        else
            pending->answered++;
    }
    return 1;
}

size_t notifier_store_route_answered (const notifier_route_pending_t *pending)
{
    return pending->answered;
}

int notifier_store_fd (notifier_store_t *self)
{
    return pmo_redis_fd (self->redis);
}

void notifier_store_drop (notifier_store_t *self, const char *why)
{
    pmo_redis_drop (self->redis, why);
}

void notifier_store_route (notifier_store_t *self, pmo_arena_t *arena,
                           const notifier_route_args_t *const *args, size_t n, int *results)
{
    notifier_route_pending_t *pending = notifier_store_route_send (self, arena, args, n, results);
    if (pending)
        notifier_store_route_poll (self, pending, true);
}

int notifier_store_ack (notifier_store_t *self, const char *group, const char *const *streams,
                        const char *const *ids, size_t n)
{
    //  One XACK per run of entries of the same stream
    const char **argv = calloc (n + 3, sizeof (char *));
    assert (argv);
    size_t queued = 0, runs = 0;
    int rc = 0;
    while (queued < n) {
        size_t argc = 0;
        argv[argc++] = "XACK";
        argv[argc++] = streams[queued];
        argv[argc++] = group;
        size_t end = queued;
        while (end < n && strcmp (streams[end], streams[queued]) == 0)
            argv[argc++] = ids[end++];
        if (pmo_redis_pipev (self->redis, (int)argc, argv, NULL)) {
            rc = -1;
            break;
        }
        queued = end;
        runs++;
    }
    free (argv);
    for (size_t i = 0; i < runs; i++) {
        redisReply *reply = pmo_redis_pipe_reply (self->redis);
        if (!reply || reply->type != REDIS_REPLY_INTEGER)
            rc = -1;
        if (reply)
            freeReplyObject (reply);
    }
    return rc;
}

int notifier_store_ready (notifier_store_t *self, pmo_arena_t *arena, const char *division,
                          int64_t now_ms, char ***channels, size_t *n)
{
    *n = 0;
    redisReply *reply = pmo_redis_command (self->redis, "ZRANGEBYSCORE pmo:{%s}:nt:ready -inf %lld",
                                           division, (long long)now_ms);
    if (!reply)
        return -1;
    if (reply->type == REDIS_REPLY_ARRAY && reply->elements) {
        *channels = pmo_arena_alloc (arena, reply->elements * sizeof (char *));
        for (size_t i = 0; i < reply->elements; i++)
            (*channels)[(*n)++] = pmo_arena_strdup (arena, reply->element[i]->str);
    }
    freeReplyObject (reply);
    return 0;
}

static Pmo__Notice *s_notice (pmo_arena_t *arena, redisReply *r)
{
    if (r->type != REDIS_REPLY_STRING)
        return NULL;
    return pmo__notice__unpack (pmo_arena_allocator (arena), r->len, (const uint8_t *)r->str);
}

//  Read the answer of one queued claim into c.
static void s_claim_reply (notifier_store_t *self, pmo_arena_t *arena, notifier_claim_t *c)
{
    c->n = 0;
    c->rc = -1;
    redisReply *reply = pmo_redis_pipe_reply (self->redis);
    if (!reply)
        return;
    if (reply->type != REDIS_REPLY_ARRAY) {
        if (!pmo_redis_refused_write (self->redis, reply, "notifier: claim"))
            pmo_warn ("notifier: claim failed channel=%s error=\"%s\"", c->channel_id,
                      reply->type == REDIS_REPLY_ERROR ? reply->str : "unexpected reply");
        if (reply->type == REDIS_REPLY_ERROR && strncmp (reply->str, "NOSCRIPT", 8) == 0)
            self->scripts_at_connects = 0;
        freeReplyObject (reply);
        return;
    }
    c->rc = 0;
    c->claimed = pmo_arena_alloc (arena, (reply->elements + 1) * sizeof (notifier_claimed_t));
    for (size_t i = 0; i < reply->elements; i++) {
        redisReply *one = reply->element[i];
        if (one->type != REDIS_REPLY_ARRAY || one->elements != 5)
            continue;
        notifier_claimed_t *got = &c->claimed[c->n];
        *got = (notifier_claimed_t){0};
        got->delivery = pmo__delivery__unpack (pmo_arena_allocator (arena), one->element[2]->len,
                                               (const uint8_t *)one->element[2]->str);
        if (!got->delivery)
            continue;
        //  Its id is the one it is kept under: an event that came after its
        //  digest was sent is a delivery of its own (route.lua, "late")
        //  whose blob was written with the digest's id. Sent under that id,
        //  receivers that drop repeats by webhook-id dropped it, and its
        //  outcome was recorded on the digest (a conflict), so it was sent
        //  again at every lease's end.
        if (one->element[0]->type == REDIS_REPLY_STRING)
            got->delivery->id = pmo_arena_strdup (arena, one->element[0]->str);
        got->version = strtoull (one->element[1]->str, NULL, 10);
        got->total = (uint32_t)strtoul (one->element[3]->str, NULL, 10);
        redisReply *list = one->element[4];
        got->notices = pmo_arena_alloc (arena, (list->elements + 1) * sizeof (Pmo__Notice *));
        for (size_t k = 0; k < list->elements; k++) {
            Pmo__Notice *notice = s_notice (arena, list->element[k]);
            if (notice)
                got->notices[got->n_notices++] = notice;
        }
        c->n++;
    }
    self->counts.claimed += c->n;
    freeReplyObject (reply);
}

int notifier_store_claim (notifier_store_t *self, pmo_arena_t *arena, const char *division,
                          int64_t now_ms, int64_t lease_until_ms, notifier_claim_t *claims,
                          size_t n, int64_t *next_at)
{
    for (size_t i = 0; i < n; i++) {
        claims[i].n = 0;
        claims[i].rc = -1;
    }
    *next_at = 0;
    if (notifier_store_scripts_ready (self))
        return -1;
    const char *ready = pmo_arena_printf (arena, "pmo:{%s}:nt:ready", division);
    const char *now = pmo_arena_printf (arena, "%lld", (long long)now_ms);
    const char *lease = pmo_arena_printf (arena, "%lld", (long long)lease_until_ms);
    const char *prefix = s_dl_prefix (arena, division);
    const char *most = pmo_arena_printf (arena, "%d", NOTIFIER_NOTICES_MAX);
    size_t queued = 0;
    for (; queued < n; queued++) {
        notifier_claim_t *c = &claims[queued];
        const char *argv[] = {
            "EVALSHA",     s_claim.sha,
            "2",           pmo_arena_printf (arena, "pmo:{%s}:nt:due:%s", division, c->channel_id),
            ready,         now,
            lease,         pmo_arena_printf (arena, "%zu", c->max),
            c->channel_id, prefix,
            most,
        };
        if (pmo_redis_pipev (self->redis, (int)(sizeof argv / sizeof argv[0]), argv, NULL))
            break;
    }
    //  The claims move their channels' places in the ready set: read after them
    bool next = queued == n &&
                pmo_redis_pipe (self->redis, "ZRANGEBYSCORE %s (%lld +inf WITHSCORES LIMIT 0 1",
                                ready, (long long)now_ms) == 0;
    self->counts.claim_calls += queued;
    int rc = queued == n ? 0 : -1;
    for (size_t i = 0; i < queued; i++) {
        s_claim_reply (self, arena, &claims[i]);
        if (claims[i].rc)
            rc = -1;
    }
    if (next) {
        redisReply *reply = pmo_redis_pipe_reply (self->redis);
        if (reply && reply->type == REDIS_REPLY_ARRAY)
            *next_at =
                reply->elements == 2 ? (int64_t)strtod (reply->element[1]->str, NULL) : INT64_MAX;
        else
            rc = -1;
        if (reply)
            freeReplyObject (reply);
    } else
        rc = -1;
    return rc;
}

#define FINISH_KEYS 6  //  keys of one delivery in finish.lua
#define FINISH_ARGS 11 //  arguments of one delivery in finish.lua

//  Queue one finish.lua call for items (all of one division). 0 or -1.
static int s_finish_pipe (notifier_store_t *self, pmo_arena_t *arena,
                          const notifier_finish_item_t *items, size_t n)
{
    size_t argc = 3 + n * (FINISH_KEYS + FINISH_ARGS);
    size_t *lens;
    const char **argv = s_call_args (arena, s_finish.sha, n * FINISH_KEYS, argc, &lens);
    //  (one division: what every outcome of the call shares is made once)
    const char *div = items[0].delivery->division;
    const char *head = pmo_arena_cat (arena, "pmo:{", div, "}:nt:", NULL);
    const char *ready = pmo_arena_cat (arena, head, "ready", NULL);
    const char *prefix = s_dl_prefix (arena, div);
    const char *stream = pmo_stream_key (arena, div);
    const char *keep = s_num (arena, NOTIFIER_KEEP_S);
    for (size_t i = 0; i < n; i++) {
        const notifier_finish_item_t *it = &items[i];
        const Pmo__Delivery *d = it->delivery;
        const char **k = argv + 3 + i * FINISH_KEYS;
        k[0] = pmo_arena_cat (arena, prefix, d->id, NULL);
        k[1] = pmo_arena_cat (arena, head, "due:", d->channel_id, NULL);
        k[2] = ready;
        k[3] = pmo_arena_cat (arena, head, "done:", d->channel_id, NULL);
        k[4] = pmo_arena_cat (arena, head, "dead:", d->channel_id, NULL);
        k[5] = stream;
        for (size_t j = 0; j < FINISH_KEYS; j++)
            lens[3 + i * FINISH_KEYS + j] = strlen (k[j]);
    }
    int64_t last_now = 0;
    const char *now = NULL;
    for (size_t i = 0; i < n; i++) {
        const notifier_finish_item_t *it = &items[i];
        const Pmo__Delivery *d = it->delivery;
        size_t dsize, esize = 0;
        uint8_t *dblob = pmo_reflect_pack (&d->base, arena, &dsize);
        uint8_t *eblob =
            it->event ? pmo_reflect_pack (&it->event->base, arena, &esize) : (uint8_t *)"";
        size_t at = 3 + n * FINISH_KEYS + i * FINISH_ARGS;
        const char **v = argv + at;
        if (!now || it->now_ms != last_now) {
            last_now = it->now_ms;
            now = s_num (arena, it->now_ms);
        }
        v[0] = d->id;
        v[1] = s_num (arena, (long long)it->expect);
        v[2] = (const char *)dblob;
        v[3] = it->finish == NOTIFIER_FINISH_DELIVERED ? "delivered"
               : it->finish == NOTIFIER_FINISH_RETRY   ? "retry"
                                                       : "dead";
        v[4] = it->due_ms ? s_num (arena, it->due_ms) : "0";
        v[5] = d->channel_id;
        v[6] = now;
        v[7] = keep;
        v[8] = it->event ? it->event->type : "";
        v[9] = (const char *)eblob;
        v[10] = it->trim ? "1" : "0";
        for (size_t j = 0; j < FINISH_ARGS; j++)
            lens[at + j] = j == 2 ? dsize : j == 9 ? esize : strlen (v[j]);
    }
    return pmo_redis_pipev (self->redis, (int)argc, argv, lens);
}

//  Take the answer (reply, freed; NULL: none came) of one queued call for
//  n items into results.
static void s_finish_take (notifier_store_t *self, const notifier_finish_item_t *items, size_t n,
                           int *results, redisReply *reply)
{
    redisReply *ok =
        s_call_check (self, reply, n, "notifier: record an attempt", items[0].delivery->id);
    for (size_t i = 0; i < n; i++) {
        redisReply *one = ok ? ok->element[i] : NULL;
        results[i] = !one                                                                 ? -1
                     : one->type != REDIS_REPLY_STRING && one->type != REDIS_REPLY_STATUS ? -1
                     : strcmp (one->str, "conflict") == 0                                 ? 1
                                                                                          : 0;
    }
    if (reply)
        freeReplyObject (reply);
}

size_t notifier_store_finish_queue (notifier_store_t *self, pmo_arena_t *arena,
                                    const notifier_finish_item_t *items, size_t n, int *results,
                                    size_t **runs)
{
    for (size_t i = 0; i < n; i++)
        results[i] = -1;
    *runs = NULL;
    if (!n || notifier_store_scripts_ready (self))
        return 0;
    const char **divisions = pmo_arena_alloc (arena, n * sizeof (char *));
    for (size_t i = 0; i < n; i++)
        divisions[i] = items[i].delivery->division;
    size_t n_runs, queued = 0;
    *runs = s_division_runs (arena, divisions, n, &n_runs);
    for (; queued < n_runs; queued++)
        if (s_finish_pipe (self, arena, items + (*runs)[queued],
                           (*runs)[queued + 1] - (*runs)[queued]))
            break;
    self->counts.finish_calls += queued;
    self->counts.finished += (*runs)[queued];
    return queued;
}

void notifier_store_finish_take (notifier_store_t *self, const notifier_finish_item_t *items,
                                 const size_t *runs, size_t call, int *results, redisReply *reply)
{
    s_finish_take (self, items + runs[call], runs[call + 1] - runs[call], results + runs[call],
                   reply);
}

void notifier_store_finish (notifier_store_t *self, pmo_arena_t *arena,
                            const notifier_finish_item_t *items, size_t n, int *results)
{
    size_t *runs;
    size_t queued = notifier_store_finish_queue (self, arena, items, n, results, &runs);
    for (size_t r = 0; r < queued; r++)
        notifier_store_finish_take (self, items, runs, r, results,
                                    pmo_redis_pipe_reply (self->redis));
}

int notifier_store_push (notifier_store_t *self)
{
    return pmo_redis_pipe_push (self->redis);
}

int notifier_store_poll (notifier_store_t *self, redisReply **reply)
{
    return pmo_redis_pipe_poll (self->redis, reply);
}

//  ---------------------------------------------------------------------
//  Deliveries for people

int notifier_store_delivery (notifier_store_t *self, pmo_arena_t *arena, const char *id,
                             bool with_notices, Pmo__Delivery **delivery, uint64_t *version)
{
    *delivery = NULL;
    char division[40];
    if (notifier_store_id_division (id, "dl", division, sizeof division))
        return 0;
    const char *key = pmo_arena_printf (arena, "pmo:{%s}:nt:dl:%s", division, id);
    if (pmo_redis_pipe (self->redis, "HMGET %s v d n l o", key) ||
        pmo_redis_pipe (self->redis, "LRANGE %s:n 0 %d", key,
                        with_notices ? NOTIFIER_NOTICES_MAX - 1 : -1))
        return -1;
    redisReply *h = pmo_redis_pipe_reply (self->redis);
    redisReply *notices = pmo_redis_pipe_reply (self->redis);
    int rc = -1;
    if (h && notices) {
        rc = 0;
        ProtobufCMessage *msg = NULL;
        if (s_decode (self, arena, &pmo__delivery__descriptor, h, &msg, version) == 1) {
            Pmo__Delivery *d = (Pmo__Delivery *)msg;
            d->id = pmo_arena_strdup (arena, id); //  (a late digest event's blob has the digest's)
            d->version = *version;
            d->notice_count = h->element[2]->type == REDIS_REPLY_STRING
                                  ? (uint32_t)strtoul (h->element[2]->str, NULL, 10)
                                  : 0;
            redisReply *lease = h->element[3];
            d->in_flight =
                lease->type == REDIS_REPLY_STRING && strtoll (lease->str, NULL, 10) > pmo_now_ms ();
            //  a delivery of a single event holds its notice itself (o)
            redisReply *own = h->element[4];
            if (with_notices && own->type == REDIS_REPLY_STRING) {
                d->notices = pmo_arena_alloc (arena, sizeof (Pmo__Notice *));
                Pmo__Notice *n = s_notice (arena, own);
                if (n)
                    d->notices[d->n_notices++] = n;
            } else if (with_notices && notices->type == REDIS_REPLY_ARRAY && notices->elements) {
                d->notices = pmo_arena_alloc (arena, notices->elements * sizeof (Pmo__Notice *));
                for (size_t i = 0; i < notices->elements; i++) {
                    Pmo__Notice *n = s_notice (arena, notices->element[i]);
                    if (n)
                        d->notices[d->n_notices++] = n;
                }
            }
            *delivery = d;
            rc = 1;
        }
    }
    if (h)
        freeReplyObject (h);
    if (notices)
        freeReplyObject (notices);
    return rc;
}

static const char *s_state_set (Pmo__DeliveryState state)
{
    switch (state) {
    case PMO__DELIVERY_STATE__DELIVERY_STATE_DEAD:
        return "dead";
    case PMO__DELIVERY_STATE__DELIVERY_STATE_DELIVERED:
    case PMO__DELIVERY_STATE__DELIVERY_STATE_DISCARDED:
        return "done";
    default:
        return "due";
    }
}

int notifier_store_deliveries (notifier_store_t *self, pmo_arena_t *arena, const char *channel_id,
                               Pmo__DeliveryState state, const char *after, size_t limit,
                               Pmo__Delivery ***deliveries, size_t *n, char **next)
{
    *n = 0;
    *next = "";
    char division[40];
    if (notifier_store_id_division (channel_id, "ch", division, sizeof division))
        return 0;
    bool pending = state == PMO__DELIVERY_STATE__DELIVERY_STATE_PENDING;
    //  cursor: the last score seen; pages go on strictly after it
    char bound[48];
    if (after && *after)
        snprintf (bound, sizeof bound, "(%s", after);
    else
        snprintf (bound, sizeof bound, "%s", pending ? "-inf" : "+inf");
    const char *key =
        pmo_arena_printf (arena, "pmo:{%s}:nt:%s:%s", division, s_state_set (state), channel_id);
    //  done mixes delivered and discarded: read a little more and filter
    size_t want = limit + 1;
    redisReply *reply =
        pending
            ? pmo_redis_command (self->redis, "ZRANGEBYSCORE %s %s +inf WITHSCORES LIMIT 0 %llu",
                                 key, bound, (unsigned long long)want)
            : pmo_redis_command (self->redis, "ZREVRANGEBYSCORE %s %s -inf WITHSCORES LIMIT 0 %llu",
                                 key, bound, (unsigned long long)want);
    if (!reply)
        return -1;
    size_t found = reply->type == REDIS_REPLY_ARRAY ? reply->elements / 2 : 0;
    *deliveries = pmo_arena_alloc (arena, (found + 1) * sizeof (Pmo__Delivery *));
    int rc = 0;
    for (size_t i = 0; i < found && *n < limit; i++) {
        Pmo__Delivery *d = NULL;
        uint64_t version;
        int got =
            notifier_store_delivery (self, arena, reply->element[2 * i]->str, false, &d, &version);
        if (got < 0) {
            rc = -1;
            break;
        }
        if (got == 1 && (pending || d->state == state)) {
            (*deliveries)[(*n)++] = d;
            *next = pmo_arena_strdup (arena, reply->element[2 * i + 1]->str);
        }
    }
    if (found < want)
        *next = "";
    freeReplyObject (reply);
    return rc;
}

void notifier_store_retry (notifier_store_t *self, pmo_commit_t *commit, pmo_arena_t *arena,
                           const Pmo__Delivery *d, uint64_t expect, int64_t now_ms)
{
    size_t size;
    uint8_t *blob = pmo_reflect_pack (&d->base, arena, &size);
    const char *div = d->division;
    pmo_commit_put (commit, pmo_arena_printf (arena, "pmo:{%s}:nt:dl:%s", div, d->id), expect,
                    expect + 1, blob, size);
    pmo_commit_zrem (commit, pmo_arena_printf (arena, "pmo:{%s}:nt:dead:%s", div, d->channel_id),
                     d->id);
    pmo_commit_zadd (commit, pmo_arena_printf (arena, "pmo:{%s}:nt:due:%s", div, d->channel_id),
                     (double)now_ms, d->id);
    pmo_commit_zadd (commit, pmo_arena_printf (arena, "pmo:{%s}:nt:ready", div), (double)now_ms,
                     d->channel_id);
}

void notifier_store_discard (notifier_store_t *self, pmo_commit_t *commit, pmo_arena_t *arena,
                             const Pmo__Delivery *d, uint64_t expect, int64_t now_ms)
{
    size_t size;
    uint8_t *blob = pmo_reflect_pack (&d->base, arena, &size);
    const char *div = d->division;
    pmo_commit_put (commit, pmo_arena_printf (arena, "pmo:{%s}:nt:dl:%s", div, d->id), expect,
                    expect + 1, blob, size);
    pmo_commit_zrem (commit, pmo_arena_printf (arena, "pmo:{%s}:nt:dead:%s", div, d->channel_id),
                     d->id);
    pmo_commit_zrem (commit, pmo_arena_printf (arena, "pmo:{%s}:nt:due:%s", div, d->channel_id),
                     d->id);
    pmo_commit_zadd (commit, pmo_arena_printf (arena, "pmo:{%s}:nt:done:%s", div, d->channel_id),
                     (double)now_ms, d->id);
}

int notifier_store_expire (notifier_store_t *self, const char *id)
{
    char division[40];
    if (notifier_store_id_division (id, "dl", division, sizeof division))
        return -1;
    if (pmo_redis_pipe (self->redis, "EXPIRE pmo:{%s}:nt:dl:%s %d", division, id,
                        NOTIFIER_KEEP_S) ||
        pmo_redis_pipe (self->redis, "EXPIRE pmo:{%s}:nt:dl:%s:n %d", division, id,
                        NOTIFIER_KEEP_S))
        return -1;
    int rc = 0;
    for (int i = 0; i < 2; i++) {
        redisReply *reply = pmo_redis_pipe_reply (self->redis);
        if (!reply)
            rc = -1;
        else
            freeReplyObject (reply);
    }
    return rc;
}

int notifier_store_backlog (notifier_store_t *self, pmo_arena_t *arena, const char *division,
                            long long *pending)
{
    *pending = 0;
    ProtobufCMessage **channels;
    size_t n;
    if (notifier_store_list (self, arena, NOTIFIER_CHANNEL, division, &channels, &n))
        return -1;
    for (size_t i = 0; i < n; i++) {
        redisReply *reply = pmo_redis_command (self->redis, "ZCARD pmo:{%s}:nt:due:%s", division,
                                               ((Pmo__Channel *)channels[i])->id);
        if (!reply)
            return -1;
        if (reply->type == REDIS_REPLY_INTEGER)
            *pending += reply->integer;
        freeReplyObject (reply);
    }
    return 0;
}

//  ---------------------------------------------------------------------
//  The connection, the event streams and commits

bool notifier_store_connected (notifier_store_t *self)
{
    return pmo_redis_ready (self->redis);
}

int notifier_store_follow (notifier_store_t *self, const char *stream, const char *group)
{
    return pmo_stream_group_ensure (self->redis, stream, group);
}

int notifier_store_read_events (notifier_store_t *self, const char *group, const char *consumer,
                                const char **streams, size_t n, size_t count, int min_idle_ms,
                                pmo_stream_batch_t *batch)
{
    //  Never blocks: the actor's thread also serves requests and transfers
    return pmo_stream_group_read (self->redis, group, consumer, streams, n, count, 0, min_idle_ms,
                                  batch);
}

void notifier_store_commit (notifier_store_t *self, pmo_commit_t *commit,
                            pmo_commit_result_t *result)
{
    pmo_commit_exec (commit, self->redis, result);
}

bool notifier_store_replayed (notifier_store_t *self, pmo_request_t *req, const char *division)
{
    return pmo_request_replayed (req, self->redis, division, "the notifier's store");
}

void notifier_store_pong (notifier_store_t *self, pmo_request_t *req, int64_t started_ms)
{
    pmo_request_pong (req, "notifier", self->redis, started_ms);
}

const notifier_store_counts_t *notifier_store_counts (notifier_store_t *self)
{
    return &self->counts;
}

char *notifier_store_thread (notifier_store_t *self, pmo_arena_t *arena, const char *division,
                             const char *channel, const char *project)
{
    redisReply *reply = pmo_redis_command (self->redis, "HGET pmo:{%s}:nt:thread:%s %s", division,
                                           channel, project);
    char *ts =
        reply && reply->type == REDIS_REPLY_STRING ? pmo_arena_strdup (arena, reply->str) : NULL;
    if (reply)
        freeReplyObject (reply);
    return ts;
}

int notifier_store_thread_start (notifier_store_t *self, const char *division, const char *channel,
                                 const char *project, const char *ts)
{
    //  HSETNX: two first messages racing keep the first thread
    redisReply *reply = pmo_redis_command (self->redis, "HSETNX pmo:{%s}:nt:thread:%s %s %s",
                                           division, channel, project, ts);
    int rc = reply && reply->type == REDIS_REPLY_INTEGER ? 0 : -1;
    if (reply)
        freeReplyObject (reply);
    return rc;
}

int notifier_store_click_done (notifier_store_t *self, pmo_arena_t *arena, const char *division,
                               const char *channel, const char *key, char **detail)
{
    *detail = NULL;
    redisReply *reply =
        pmo_redis_command (self->redis, "GET pmo:{%s}:nt:click:%s:%s", division, channel, key);
    if (!reply)
        return -1;
    int rc = reply->type == REDIS_REPLY_STRING || reply->type == REDIS_REPLY_NIL ? 0 : -1;
    if (reply->type == REDIS_REPLY_STRING)
        *detail = pmo_arena_strdup (arena, reply->str);
    freeReplyObject (reply);
    return rc;
}

int notifier_store_click_remember (notifier_store_t *self, const char *division,
                                   const char *channel, const char *key, const char *detail)
{
    redisReply *reply = pmo_redis_command (self->redis, "SET pmo:{%s}:nt:click:%s:%s %s EX %d",
                                           division, channel, key, detail, NOTIFIER_CLICK_REPLAY_S);
    int rc = reply && reply->type == REDIS_REPLY_STATUS ? 0 : -1;
    if (reply)
        freeReplyObject (reply);
    return rc;
}

//  In the hub's slot, under the notifier's key pattern (deploy/redis/users.acl)
int notifier_store_config_bump (notifier_store_t *self, const char *hub)
{
    redisReply *reply = pmo_redis_command (self->redis, "INCR pmo:{%s}:nt:config-gen", hub);
    int rc = reply && reply->type == REDIS_REPLY_INTEGER ? 0 : -1;
    if (reply)
        freeReplyObject (reply);
    return rc;
}

int notifier_store_config_gen (notifier_store_t *self, const char *hub, long long *gen)
{
    redisReply *reply = pmo_redis_command (self->redis, "GET pmo:{%s}:nt:config-gen", hub);
    if (!reply)
        return -1;
    int rc = 0;
    if (reply->type == REDIS_REPLY_STRING)
        *gen = strtoll (reply->str, NULL, 10);
    else if (reply->type == REDIS_REPLY_NIL)
        *gen = 0;
    else
        rc = -1;
    freeReplyObject (reply);
    return rc;
}

int notifier_store_next_ready (notifier_store_t *self, const char *division, int64_t now_ms,
                               int64_t *at_ms)
{
    char key[128];
    snprintf (key, sizeof key, "pmo:{%s}:nt:ready", division);
    return pmo_redis_zfirst_after (self->redis, key, now_ms, at_ms);
}

int notifier_store_first_ready (notifier_store_t *self, const char *division, int64_t *at_ms)
{
    char key[128];
    snprintf (key, sizeof key, "pmo:{%s}:nt:ready", division);
    return pmo_redis_zfirst (self->redis, key, at_ms);
}

int notifier_store_reclaim_events (notifier_store_t *self, const char *group, const char *consumer,
                                   const char *const *streams, size_t n, size_t *cursor,
                                   size_t max_streams, size_t count, int min_idle_ms,
                                   pmo_stream_batch_t *batch)
{
    return pmo_stream_group_reclaim (self->redis, group, consumer, streams, n, cursor, max_streams,
                                     count, min_idle_ms, batch);
}
