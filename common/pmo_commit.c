/*  pmo_commit.c: the atomic commit (its script is lua/commit.lua) and its builder. */
#include "pmo_commit.h"
#include "pmo_log.h"
#include "pmo_lua_commit.h"

#include <assert.h>
#include <czmq.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//  The script, its KEYS and ARGV, its answers, and why it checks everything
//  before it writes: lua/commit.lua
static pmo_script_t s_commit_script = {.source = pmo_lua_commit};

//  A stored reply about to be answered again may have been written by a
//  commit whose replicas never confirmed it (that request was answered
//  "unavailable"), and WAIT covers only this connection's own writes. So the
//  record is rewritten as it is (the same expiry): a write of this
//  connection, after the first one, that WAIT then covers.
static pmo_script_t s_touch_script = {
    .source = "local t = redis.call('PTTL', KEYS[1]) "
              "if t > 0 then redis.call('PEXPIRE', KEYS[1], t) end return t"};

//  An argument: where its bytes are in the commit's buffer.
typedef struct {
    size_t offset;
    size_t size;
} arg_t;

#define S_SCAN_KEYS 16 //  keys looked up by comparing; beyond, by a hash table

struct _pmo_commit_t {
    char tag[80]; //  "{division}", every key must contain it
    //  Every key and argument, each followed by a NUL, in one buffer that
    //  grows by doubling: a few allocations per commit, not one per
    //  argument. Offsets, because the buffer moves when it grows.
    char *buf;
    size_t used, buf_max;
    size_t *keys; //  KEYS (offsets in buf), [0] is the idempotency key
    size_t nkeys, keys_max;
    zhashx_t *key_index; //  key -> its KEYS index, once there are more than
                         //  S_SCAN_KEYS (a batch's commit names thousands)
    arg_t *args;         //  the operations' arguments, in order (ARGV after the layout)
    size_t nargs, args_max;
    //  Per operation its code and its key's index (3 bytes, most
    //  significant first): the layout argument after the base (commit.lua)
    uint8_t *ops;
    size_t nops, ops_max;
    bool has_reply;
};

//  A key index or a group's base must fit in the layout's 3 bytes
#define S_MAX_KEYS ((size_t)1 << 24)

//  Copy size bytes and a NUL into the buffer; their offset.
static size_t s_store (pmo_commit_t *self, const void *data, size_t size)
{
    if (self->used + size + 1 > self->buf_max) {
        while (self->used + size + 1 > self->buf_max)
            self->buf_max *= 2;
        self->buf = realloc (self->buf, self->buf_max);
        assert (self->buf);
    }
    size_t offset = self->used;
    if (size)
        memcpy (self->buf + offset, data, size);
    self->buf[offset + size] = 0;
    self->used += size + 1;
    return offset;
}

static void s_add_key (pmo_commit_t *self, const char *key)
{
    if (self->nkeys == self->keys_max) {
        self->keys_max *= 2;
        self->keys = realloc (self->keys, self->keys_max * sizeof (size_t));
        assert (self->keys);
    }
    self->keys[self->nkeys++] = s_store (self, key, strlen (key));
}

char *pmo_commit_idem_key (const char *division, const char *request_id)
{
    char *key = NULL;
    int rc = asprintf (&key, "pmo:{%s}:idem:%s", division, request_id);
    assert (rc > 0);
    return key;
}

//  s into out of size bytes, cut to fit, NUL-terminated (snprintf "%s"
//  without the format); the length of s.
static size_t s_copy (char *out, size_t size, const char *s)
{
    size_t len = strlen (s);
    size_t take = len < size ? len : size - 1;
    memcpy (out, s, take);
    out[take] = 0;
    return len;
}

pmo_commit_t *pmo_commit_new (const char *division, const char *request_id)
{
    pmo_commit_t *self = calloc (1, sizeof (pmo_commit_t));
    assert (self);
    self->tag[0] = '{';
    size_t tag_len = 1 + s_copy (self->tag + 1, sizeof self->tag - 1, division);
    if (tag_len < sizeof self->tag - 1) {
        self->tag[tag_len] = '}';
        self->tag[tag_len + 1] = 0;
    }
    self->buf_max = 1024;
    self->buf = malloc (self->buf_max);
    self->keys_max = 8;
    self->keys = malloc (self->keys_max * sizeof (size_t));
    self->args_max = 16;
    self->args = malloc (self->args_max * sizeof (arg_t));
    self->ops_max = 8;
    self->ops = malloc (self->ops_max * 4);
    assert (self->buf && self->keys && self->args && self->ops);
    char key[256];
    size_t division_len = strlen (division), request_len = strlen (request_id);
    size_t size = 5 + division_len + 7 + request_len;
    if (size < sizeof key) {
        memcpy (key, "pmo:{", 5);
        memcpy (key + 5, division, division_len);
        memcpy (key + 5 + division_len, "}:idem:", 7);
        memcpy (key + 12 + division_len, request_id, request_len + 1);
        s_add_key (self, key);
    } else {
        char *long_key = pmo_commit_idem_key (division, request_id);
        s_add_key (self, long_key);
        free (long_key);
    }
    return self;
}

void pmo_commit_destroy (pmo_commit_t **self_p)
{
    assert (self_p);
    pmo_commit_t *self = *self_p;
    if (!self)
        return;
    zhashx_destroy (&self->key_index);
    free (self->buf);
    free (self->keys);
    free (self->args);
    free (self->ops);
    free (self);
    *self_p = NULL;
}

//  The KEYS index (1-based, as Lua sees it) of key, adding it if new.
static size_t s_key_index (pmo_commit_t *self, const char *key)
{
    //  All keys of one commit live in one division's slot: a key outside it
    //  is a programming error, and on a cluster the script would fail.
    assert (strstr (key, self->tag));
    //  A request's commit names a handful of keys: comparing them costs less
    //  than a hash table made and freed per commit; a batch's gets one
    if (!self->key_index && self->nkeys > S_SCAN_KEYS) {
        self->key_index = zhashx_new ();
        assert (self->key_index);
        for (size_t i = 0; i < self->nkeys; i++)
            zhashx_insert (self->key_index, self->buf + self->keys[i], (void *)(uintptr_t)(i + 1));
    }
    if (self->key_index) {
        size_t known = (size_t)(uintptr_t)zhashx_lookup (self->key_index, key);
        if (known)
            return known;
    } else
        for (size_t i = 0; i < self->nkeys; i++)
            if (strcmp (self->buf + self->keys[i], key) == 0)
                return i + 1;
    s_add_key (self, key);
    if (self->key_index)
        zhashx_insert (self->key_index, key, (void *)(uintptr_t)self->nkeys);
    return self->nkeys;
}

static void s_arg (pmo_commit_t *self, const void *data, size_t size)
{
    if (self->nargs == self->args_max) {
        self->args_max *= 2;
        self->args = realloc (self->args, self->args_max * sizeof (arg_t));
        assert (self->args);
    }
    arg_t *arg = &self->args[self->nargs++];
    arg->offset = s_store (self, data, size);
    arg->size = size;
}

static void s_arg_str (pmo_commit_t *self, const char *s)
{
    s_arg (self, s, strlen (s));
}

//  Decimal digits of value, written without printf
static void s_arg_u64 (pmo_commit_t *self, uint64_t value)
{
    char text[PMO_DIGITS_MAX];
    char *digit = pmo_digits_u64 (text + sizeof text, value);
    s_arg (self, digit, (size_t)(text + sizeof text - digit));
}

static void s_put3 (uint8_t *at, size_t value)
{
    assert (value < S_MAX_KEYS);
    at[0] = (uint8_t)(value >> 16);
    at[1] = (uint8_t)(value >> 8);
    at[2] = (uint8_t)value;
}

//  An operation's code and key in the layout; its arguments follow in ARGV
static void s_op_index (pmo_commit_t *self, char code, size_t index)
{
    if (self->nops == self->ops_max) {
        self->ops_max *= 2;
        self->ops = realloc (self->ops, self->ops_max * 4);
        assert (self->ops);
    }
    uint8_t *op = self->ops + 4 * self->nops++;
    op[0] = (uint8_t)code;
    s_put3 (op + 1, index);
}

static void s_op (pmo_commit_t *self, char code, const char *key)
{
    s_op_index (self, code, s_key_index (self, key));
}

void pmo_commit_put (pmo_commit_t *self, const char *key, uint64_t expect, uint64_t new_version,
                     const void *blob, size_t size)
{
    s_op (self, 'P', key);
    s_arg_u64 (self, expect);
    s_arg_u64 (self, new_version);
    s_arg (self, blob, size);
}

void pmo_commit_check (pmo_commit_t *self, const char *key, uint64_t expect)
{
    s_op (self, 'V', key);
    s_arg_u64 (self, expect);
}

void pmo_commit_claim (pmo_commit_t *self, const char *key, const char *field, const char *value)
{
    s_op (self, 'C', key);
    s_arg_str (self, field);
    s_arg_str (self, value);
}

void pmo_commit_unclaim (pmo_commit_t *self, const char *key, const char *field)
{
    s_op (self, 'U', key);
    s_arg_str (self, field);
}

void pmo_commit_zadd (pmo_commit_t *self, const char *key, double score, const char *member)
{
    s_op (self, 'Z', key);
    //  Scores are sequence numbers or times as a rule: whole numbers,
    //  written as their digits (what %.17g writes for them)
    if (score >= 0 && score < 9007199254740992.0 && score == (double)(uint64_t)score)
        s_arg_u64 (self, (uint64_t)score);
    else {
        char text[32];
        snprintf (text, sizeof text, "%.17g", score);
        s_arg_str (self, text);
    }
    s_arg_str (self, member);
}

void pmo_commit_zrem (pmo_commit_t *self, const char *key, const char *member)
{
    s_op (self, 'z', key);
    s_arg_str (self, member);
}

void pmo_commit_event (pmo_commit_t *self, const char *key, const char *type, const void *blob,
                       size_t size)
{
    s_op (self, 'X', key);
    s_arg_str (self, type);
    s_arg (self, blob, size);
}

void pmo_commit_reply (pmo_commit_t *self, const void *blob, size_t size, int ttl_s)
{
    assert (!self->has_reply);
    self->has_reply = true;
    s_op_index (self, 'R', 1); //  the idempotency key is the commit's first
    s_arg (self, blob, size);
    s_arg_u64 (self, (uint64_t)(ttl_s > 0 ? ttl_s : 86400));
}

//  The script's arguments for a group of commits: every commit's KEYS, the
//  commit count, then per commit its layout (its base and its operations'
//  codes and keys) and its operations' arguments, after head slots left for
//  the caller (the command and its script). Returns argc (without head);
//  the caller frees *argv_p, *lens_p and *numbers_p (the count and the
//  layouts; the other strings stay owned by the commits).
static size_t s_argv (pmo_commit_t **commits, size_t n, size_t head, const char ***argv_p,
                      size_t **lens_p, char **numbers_p, size_t *nkeys_p)
{
    size_t nkeys = 0, nargs = 0, layout_bytes = 24;
    for (size_t c = 0; c < n; c++) {
        nkeys += commits[c]->nkeys;
        nargs += commits[c]->nargs;
        layout_bytes += 3 + 4 * commits[c]->nops;
    }
    assert (nkeys < S_MAX_KEYS);
    size_t argc = nkeys + 1 + n + nargs;
    const char **argv = malloc ((head + argc) * sizeof (char *));
    size_t *lens = malloc ((head + argc) * sizeof (size_t));
    char *numbers = malloc (layout_bytes);
    assert (argv && lens && numbers);
    size_t a = head;
    for (size_t c = 0; c < n; c++)
        for (size_t i = 0; i < commits[c]->nkeys; i++, a++) {
            argv[a] = commits[c]->buf + commits[c]->keys[i];
            lens[a] = strlen (argv[a]);
        }
    lens[a] = (size_t)snprintf (numbers, 24, "%zu", n);
    argv[a++] = numbers;
    uint8_t *layout = (uint8_t *)numbers + 24;
    size_t base = 0;
    for (size_t c = 0; c < n; c++) {
        pmo_commit_t *self = commits[c];
        s_put3 (layout, base);
        memcpy (layout + 3, self->ops, 4 * self->nops);
        argv[a] = (const char *)layout;
        lens[a++] = 3 + 4 * self->nops;
        layout += 3 + 4 * self->nops;
        for (size_t i = 0; i < self->nargs; i++, a++) {
            argv[a] = self->buf + self->args[i].offset;
            lens[a] = self->args[i].size;
        }
        base += self->nkeys;
    }
    *argv_p = argv;
    *lens_p = lens;
    *numbers_p = numbers;
    *nkeys_p = nkeys;
    return argc;
}

//  One commit's answer into result (the reply stays the caller's).
static void s_answer (const redisReply *reply, pmo_commit_result_t *result)
{
    memset (result, 0, sizeof *result);
    result->status = PMO_COMMIT_ERROR;
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements < 2 ||
        reply->element[0]->type != REDIS_REPLY_STRING)
        return;
    const char *what = reply->element[0]->str;
    const redisReply *second = reply->element[1];
    if (strcmp (what, "ok") == 0) {
        result->status = PMO_COMMIT_OK;
        if (second->type == REDIS_REPLY_STRING)
            s_copy (result->stream_id, sizeof result->stream_id, second->str);
    } else if (strcmp (what, "dup") == 0 && second->type == REDIS_REPLY_STRING) {
        result->status = PMO_COMMIT_DUPLICATE;
        result->previous = malloc (second->len + 1);
        assert (result->previous);
        memcpy (result->previous, second->str, second->len);
        result->previous_size = second->len;
    } else if ((strcmp (what, "conflict") == 0 || strcmp (what, "taken") == 0) &&
               reply->elements == 3 && second->type == REDIS_REPLY_STRING) {
        result->status = what[0] == 'c' ? PMO_COMMIT_CONFLICT : PMO_COMMIT_TAKEN;
        s_copy (result->key, sizeof result->key, second->str);
        if (reply->element[2]->type == REDIS_REPLY_STRING)
            result->actual_version = strtoull (reply->element[2]->str, NULL, 10);
    }
}

//  The script's answer for n commits into results; takes the reply. NULL
//  (Redis unreachable, or a restarted Redis that forgot the script: nothing
//  was written then) makes every result UNAVAILABLE. Returns 0 if every
//  result is OK.
static int s_results (pmo_redis_t *redis, redisReply *reply, pmo_commit_result_t *results, size_t n)
{
    pmo_commit_status_t all = PMO_COMMIT_UNAVAILABLE;
    //  Refused for want of replicas (min-replicas-to-write during a Sentinel
    //  failover): Redis refuses at the script's first write, as the replicas'
    //  state does not change while a script runs, so nothing was written and
    //  a retry may succeed (bench_soak saw an import answered 502 here)
    if (reply && pmo_redis_refused_write (redis, reply, "commit")) {
        freeReplyObject (reply);
        reply = NULL;
    } else if (reply && (reply->type != REDIS_REPLY_ARRAY || reply->elements != n)) {
        pmo_error ("commit: script failed error=\"%s\"",
                   reply->type == REDIS_REPLY_ERROR ? reply->str : "unexpected reply");
        all = PMO_COMMIT_ERROR;
    }
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        if (reply && all == PMO_COMMIT_UNAVAILABLE)
            s_answer (reply->element[i], &results[i]);
        else {
            memset (&results[i], 0, sizeof results[i]);
            results[i].status = all;
        }
        if (results[i].status != PMO_COMMIT_OK)
            rc = -1;
    }
    if (reply)
        freeReplyObject (reply);
    return rc;
}

int pmo_commit_confirm (pmo_redis_t *redis, pmo_commit_result_t *results, size_t n)
{
    bool answers = false;
    for (size_t i = 0; i < n; i++)
        answers |= results[i].status == PMO_COMMIT_OK || results[i].status == PMO_COMMIT_DUPLICATE;
    if (!answers || pmo_redis_wait_replicas (redis) == 0)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (results[i].status == PMO_COMMIT_OK || results[i].status == PMO_COMMIT_DUPLICATE) {
            pmo_commit_result_clear (&results[i]);
            memset (&results[i], 0, sizeof results[i]);
            results[i].status = PMO_COMMIT_UNAVAILABLE;
        }
    return -1;
}

int pmo_commit_exec (pmo_commit_t *self, pmo_redis_t *redis, pmo_commit_result_t *result)
{
    const char **argv;
    size_t *lens, nkeys;
    char *numbers;
    size_t argc = s_argv (&self, 1, 0, &argv, &lens, &numbers, &nkeys);
    redisReply *reply = pmo_redis_eval (redis, &s_commit_script, (int)nkeys, (int)argc, argv, lens);
    free (argv);
    free (lens);
    free (numbers);
    int rc = s_results (redis, reply, result, 1);
    return pmo_commit_confirm (redis, result, 1) ? -1 : rc;
}

int pmo_commit_send_group (pmo_commit_t **commits, size_t n, pmo_redis_t *redis)
{
    assert (n > 0);
    for (size_t c = 1; c < n; c++)
        assert (streq (commits[c]->tag, commits[0]->tag)); //  one slot on a cluster
    //  The script must be known by its SHA before anything is queued: load
    //  it now if this connection has not yet (nothing is in flight then).
    if (!*s_commit_script.sha) {
        redisReply *loaded = pmo_redis_command (redis, "SCRIPT LOAD %s", s_commit_script.source);
        if (!loaded)
            return -1;
        bool ok = loaded->type == REDIS_REPLY_STRING && loaded->len == 40;
        if (ok)
            memcpy (s_commit_script.sha, loaded->str, 41);
        freeReplyObject (loaded);
        if (!ok)
            return -1;
    }
    const char **argv;
    size_t *lens, nkeys;
    char *numbers, nkeys_text[24];
    size_t argc = s_argv (commits, n, 3, &argv, &lens, &numbers, &nkeys);
    argv[0] = "EVALSHA";
    lens[0] = 7;
    argv[1] = s_commit_script.sha;
    lens[1] = 40;
    lens[2] = (size_t)snprintf (nkeys_text, sizeof nkeys_text, "%zu", nkeys);
    argv[2] = nkeys_text;
    int rc = pmo_redis_pipev (redis, (int)argc + 3, argv, lens);
    free (argv);
    free (lens);
    free (numbers);
    return rc;
}

int pmo_commit_recv_group (pmo_redis_t *redis, pmo_commit_result_t *results, size_t n)
{
    redisReply *reply = pmo_redis_pipe_reply (redis);
    //  A restarted Redis forgot the script: nothing was written, so the
    //  caller may send again (the next send loads it).
    if (reply && reply->type == REDIS_REPLY_ERROR && strncmp (reply->str, "NOSCRIPT", 8) == 0) {
        s_commit_script.sha[0] = 0;
        freeReplyObject (reply);
        reply = NULL;
    }
    return s_results (redis, reply, results, n);
}

int pmo_commit_send (pmo_commit_t *self, pmo_redis_t *redis)
{
    return pmo_commit_send_group (&self, 1, redis);
}

int pmo_commit_recv (pmo_redis_t *redis, pmo_commit_result_t *result)
{
    return pmo_commit_recv_group (redis, result, 1);
}

void pmo_commit_result_clear (pmo_commit_result_t *result)
{
    free (result->previous);
    result->previous = NULL;
    result->previous_size = 0;
}

int pmo_commit_confirm_replay (pmo_redis_t *redis, const char *division, const char *request_id)
{
    if (pmo_redis_replicas (redis) == 0)
        return 0;
    char *key = pmo_commit_idem_key (division, request_id);
    const char *argv[] = {key};
    redisReply *reply = pmo_redis_eval (redis, &s_touch_script, 1, 1, argv, NULL);
    free (key);
    bool touched = reply && reply->type == REDIS_REPLY_INTEGER;
    if (reply && !touched)
        pmo_error ("commit: touch failed error=\"%s\"",
                   reply->type == REDIS_REPLY_ERROR ? reply->str : "unexpected reply");
    if (reply)
        freeReplyObject (reply);
    return touched && pmo_redis_wait_replicas (redis) == 0 ? 0 : -1;
}

int pmo_commit_replay (pmo_redis_t *redis, pmo_arena_t *arena, const char *division,
                       const char *request_id, uint8_t **out, size_t *size)
{
    char *key = pmo_commit_idem_key (division, request_id);
    redisReply *reply = pmo_redis_command (redis, "GET %s", key);
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
    if (rc == 1 && pmo_commit_confirm_replay (redis, division, request_id))
        rc = -1;
    return rc;
}
