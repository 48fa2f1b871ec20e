/*  pmo_redis.c: a Redis connection with deadlines, reconnect and backoff. */
#include "pmo_redis.h"
#include "pmo_log.h"
#include "pmo_sentinel.h"
#include "pmo_util.h"

#include <assert.h>
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BACKOFF_MIN_MS   100
#define BACKOFF_MAX_MS   5000
#define REFUSED_QUIET_MS 30000 //  an episode of refused writes ends this long after its last

struct _pmo_redis_t {
    redisContext *ctx; //  NULL while disconnected
    char host[256];    //  TCP host, or empty for a unix socket
    int port;
    char path[256]; //  unix socket path
    char user[128];
    char password[256]; //  never logged
    int db;
    int timeout_ms;
    char safe_url[512];  //  for logs: the URL without the password
    int64_t next_try_ms; //  monotonic time before which we do not reconnect
    int backoff_ms;
    uint64_t connects;
    int pipelined;          //  replies still owed by the pipeline
    char sentinels[512];    //  sentinel:// URLs: "host:port,host:port"; empty otherwise
    char master[128];       //  sentinel:// URLs: the master's name
    int replicas;           //  replicas a write waits for (WAIT); 0: none (one node)
    int wait_ms;            //  WAIT's bound; 0 until pmo_redis_new settles it
    int64_t wait_logged_ms; //  last "not confirmed" warning (one a second at most)
    uint64_t unconfirmed;   //  writes not confirmed since that warning
    int64_t refused_ms;     //  monotonic: the latest write refused for want of replicas (0 none)
    uint64_t refused;       //  ... and how many in the episode so far
    char replid[48];        //  master_replid of the connection numbered replid_of
    uint64_t replid_of;     //  0: not read yet
};

//  The URL's "?replicas=N&wait=MS" (both optional, in any order): how many
//  replicas must confirm a write before it is acknowledged, and how long to
//  wait for them. -1 if malformed.
static int s_parse_query (pmo_redis_t *self, const char *query)
{
    for (;;) {
        const char *end = query + strcspn (query, "&");
        const char *eq = memchr (query, '=', (size_t)(end - query));
        if (!eq || eq + 1 == end)
            return -1;
        char *stop;
        long value = strtol (eq + 1, &stop, 10);
        if (stop != end)
            return -1;
        size_t nlen = (size_t)(eq - query);
        if (nlen == 8 && memcmp (query, "replicas", 8) == 0 && value >= 0 && value <= 16)
            self->replicas = (int)value;
        else if (nlen == 4 && memcmp (query, "wait", 4) == 0 && value >= 1 && value <= 60000)
            self->wait_ms = (int)value;
        else
            return -1;
        if (!*end)
            return 0;
        query = end + 1;
    }
}

//  "sentinel://[user:password@]host:port[,host:port...]/master[/db]": the
//  sentinels and the master name; host and port are filled in from the
//  sentinels at each connect (pmo_sentinel.h).
static int s_parse_sentinel_url (pmo_redis_t *self, const char *url)
{
    const char *rest = url + 11;
    const char *slash = strchr (rest, '/');
    const char *at = strrchr (rest, '@');
    if (at && slash && at > slash)
        at = NULL; //  an '@' in the master name is not credentials
    if (at) {
        const char *colon = memchr (rest, ':', (size_t)(at - rest));
        if (!colon)
            return -1;
        size_t ulen = (size_t)(colon - rest), plen = (size_t)(at - colon - 1);
        if (ulen >= sizeof self->user || plen >= sizeof self->password)
            return -1;
        memcpy (self->user, rest, ulen);
        memcpy (self->password, colon + 1, plen);
        rest = at + 1;
    }
    if (!slash || slash == rest || (size_t)(slash - rest) >= sizeof self->sentinels)
        return -1;
    memcpy (self->sentinels, rest, (size_t)(slash - rest));
    const char *name = slash + 1;
    const char *db = strchr (name, '/');
    size_t nlen = db ? (size_t)(db - name) : strlen (name);
    if (nlen == 0 || nlen >= sizeof self->master)
        return -1;
    memcpy (self->master, name, nlen);
    if (db) {
        char *end;
        long n = strtol (db + 1, &end, 10);
        if (*end || n < 0 || n > 15 || end == db + 1)
            return -1;
        self->db = (int)n;
    }
    snprintf (self->safe_url, sizeof self->safe_url, "sentinel://%.100s%s%.300s/%.60s/%d",
              self->user, *self->user || *self->password ? ":***@" : "", self->sentinels,
              self->master, self->db);
    return 0;
}

static int s_parse_location (pmo_redis_t *self, const char *url)
{
    if (strncmp (url, "sentinel://", 11) == 0)
        return s_parse_sentinel_url (self, url);
    if (strncmp (url, "unix://", 7) == 0) {
        if (strlen (url + 7) == 0 || strlen (url + 7) >= sizeof self->path)
            return -1;
        snprintf (self->path, sizeof self->path, "%s", url + 7);
        snprintf (self->safe_url, sizeof self->safe_url, "%s", url);
        return 0;
    }
    if (strncmp (url, "redis://", 8) != 0)
        return -1;
    const char *rest = url + 8;
    const char *at = strrchr (rest, '@');
    if (at) {
        const char *colon = memchr (rest, ':', (size_t)(at - rest));
        if (!colon)
            return -1;
        size_t ulen = (size_t)(colon - rest), plen = (size_t)(at - colon - 1);
        if (ulen >= sizeof self->user || plen >= sizeof self->password)
            return -1;
        memcpy (self->user, rest, ulen);
        memcpy (self->password, colon + 1, plen);
        rest = at + 1;
    }
    const char *colon = strchr (rest, ':');
    const char *slash = strchr (rest, '/');
    size_t hlen = colon ? (size_t)(colon - rest) : slash ? (size_t)(slash - rest) : strlen (rest);
    if (hlen == 0 || hlen >= sizeof self->host)
        return -1;
    memcpy (self->host, rest, hlen);
    self->port = 6379;
    if (colon) {
        char *end;
        long port = strtol (colon + 1, &end, 10);
        if (port < 1 || port > 65535 || (*end && *end != '/'))
            return -1;
        self->port = (int)port;
    }
    if (slash) {
        char *end;
        long db = strtol (slash + 1, &end, 10);
        if (*end || db < 0 || db > 15)
            return -1;
        self->db = (int)db;
    }
    snprintf (self->safe_url, sizeof self->safe_url, "redis://%s%s%s:%d/%d", self->user,
              *self->user || *self->password ? ":***@" : "", self->host, self->port, self->db);
    return 0;
}

//  The URL: where the server is, then what a write waits for. Behind
//  Sentinel there are replicas by construction, so a write waits for one
//  unless the URL says otherwise; elsewhere for none unless it says so.
static int s_parse_url (pmo_redis_t *self, const char *url)
{
    const char *query = strchr (url, '?');
    char *location = query ? strndup (url, (size_t)(query - url)) : strdup (url);
    assert (location);
    self->replicas = strncmp (url, "sentinel://", 11) == 0 ? 1 : 0;
    int rc = s_parse_location (self, location);
    free (location);
    if (rc == 0 && query && s_parse_query (self, query + 1))
        rc = -1;
    //  WAIT must answer before the command's own deadline cuts it off
    if (self->wait_ms == 0)
        self->wait_ms = self->timeout_ms / 2 > 0 ? self->timeout_ms / 2 : 1;
    if (rc == 0 && self->wait_ms >= self->timeout_ms)
        rc = -1;
    if (rc == 0 && self->replicas) {
        size_t len = strlen (self->safe_url);
        snprintf (self->safe_url + len, sizeof self->safe_url - len, "?replicas=%d&wait=%d",
                  self->replicas, self->wait_ms);
    }
    return rc;
}

pmo_redis_t *pmo_redis_new (const char *url, int timeout_ms)
{
    assert (url);
    pmo_redis_t *self = calloc (1, sizeof (pmo_redis_t));
    assert (self);
    self->timeout_ms = timeout_ms > 0 ? timeout_ms : 1000;
    self->backoff_ms = BACKOFF_MIN_MS;
    if (s_parse_url (self, url)) {
        free (self);
        return NULL;
    }
    return self;
}

char *pmo_redis_url_auth (const char *url, const char *auth_file)
{
    assert (url);
    if (!auth_file || !*auth_file)
        return strdup (url);
    size_t scheme = strncmp (url, "redis://", 8) == 0       ? 8
                    : strncmp (url, "sentinel://", 11) == 0 ? 11
                                                            : 0;
    if (!scheme) {
        fprintf (stderr, "Redis auth file %s: the URL must be redis:// or sentinel://\n",
                 auth_file);
        return NULL;
    }
    const char *slash = strchr (url + scheme, '/');
    const char *at = strchr (url + scheme, '@');
    if (at && (!slash || at < slash)) {
        fprintf (stderr, "Redis auth file %s: the URL already has a user and password\n",
                 auth_file);
        return NULL;
    }
    FILE *file = fopen (auth_file, "r");
    if (!file) {
        fprintf (stderr, "Redis auth file %s: %s\n", auth_file, strerror (errno));
        return NULL;
    }
    char line[400] = "";
    bool read = fgets (line, sizeof line, file) != NULL;
    fclose (file);
    line[strcspn (line, "\r\n")] = 0;
    const char *colon = strchr (line, ':');
    bool ok = read && colon && colon > line && colon[1] &&
              strcspn (line, "@/ \t") == strlen (line) && strlen (colon + 1) < 256 &&
              (size_t)(colon - line) < 128;
    if (!ok) {
        memset (line, 0, sizeof line);
        fprintf (stderr,
                 "Redis auth file %s: the first line must be USER:PASSWORD (no '@', '/' or "
                 "blanks)\n",
                 auth_file);
        return NULL;
    }
    size_t size = strlen (url) + strlen (line) + 2;
    char *result = malloc (size);
    assert (result);
    snprintf (result, size, "%.*s%s@%s", (int)scheme, url, line, url + scheme);
    memset (line, 0, sizeof line);
    return result;
}

static void s_disconnect (pmo_redis_t *self, const char *why)
{
    if (self->ctx) {
        pmo_warn ("redis: disconnected url=%s reason=\"%s\"", self->safe_url, why);
        redisFree (self->ctx);
        self->ctx = NULL;
    }
    self->pipelined = 0;
    self->next_try_ms = pmo_mono_ms () + self->backoff_ms;
    self->backoff_ms =
        self->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : self->backoff_ms * 2;
}

void pmo_redis_destroy (pmo_redis_t **self_p)
{
    assert (self_p);
    pmo_redis_t *self = *self_p;
    if (!self)
        return;
    if (self->ctx)
        redisFree (self->ctx);
    memset (self->password, 0, sizeof self->password);
    free (self);
    *self_p = NULL;
}

//  Runs a command on a fresh connection during the handshake.
static bool s_handshake_ok (pmo_redis_t *self, redisReply *reply, const char *what)
{
    bool ok = reply && reply->type != REDIS_REPLY_ERROR;
    if (!ok)
        pmo_error ("redis: %s failed url=%s error=\"%s\"", what, self->safe_url,
                   reply ? reply->str : self->ctx->errstr);
    if (reply)
        freeReplyObject (reply);
    return ok;
}

bool pmo_redis_ready (pmo_redis_t *self)
{
    if (self->ctx)
        return true;
    if (pmo_mono_ms () < self->next_try_ms)
        return false;
    struct timeval tv = {self->timeout_ms / 1000, (self->timeout_ms % 1000) * 1000};
    if (*self->sentinels && pmo_sentinel_master (self->sentinels, self->master, self->timeout_ms,
                                                 self->host, sizeof self->host, &self->port)) {
        pmo_debug ("redis: no sentinel knows master=%s", self->master);
        s_disconnect (self, "no master from the sentinels");
        return false;
    }
    self->ctx = *self->path ? redisConnectUnixWithTimeout (self->path, tv)
                            : redisConnectWithTimeout (self->host, self->port, tv);
    if (!self->ctx || self->ctx->err) {
        pmo_debug ("redis: connect failed url=%s error=\"%s\"", self->safe_url,
                   self->ctx ? self->ctx->errstr : "out of memory");
        if (self->ctx) {
            redisFree (self->ctx);
            self->ctx = NULL;
        }
        s_disconnect (self, "connect failed");
        return false;
    }
    redisSetTimeout (self->ctx, tv);
    if (*self->password) {
        redisReply *reply = *self->user
                                ? redisCommand (self->ctx, "AUTH %s %s", self->user, self->password)
                                : redisCommand (self->ctx, "AUTH %s", self->password);
        if (!s_handshake_ok (self, reply, "AUTH")) {
            s_disconnect (self, "auth failed");
            return false;
        }
    }
    if (self->db) {
        redisReply *reply = redisCommand (self->ctx, "SELECT %d", self->db);
        if (!s_handshake_ok (self, reply, "SELECT")) {
            s_disconnect (self, "select failed");
            return false;
        }
    }
    if (*self->sentinels) {
        //  During a failover a sentinel may still name the old master,
        //  already demoted: writing there would fail (or be lost)
        redisReply *role = redisCommand (self->ctx, "ROLE");
        bool master = role && role->type == REDIS_REPLY_ARRAY && role->elements > 0 &&
                      role->element[0]->str && strcmp (role->element[0]->str, "master") == 0;
        if (role)
            freeReplyObject (role);
        if (!master) {
            pmo_warn ("redis: not a master yet host=%s port=%d master=%s", self->host, self->port,
                      self->master);
            s_disconnect (self, "not the master");
            return false;
        }
    }
    self->connects++;
    self->backoff_ms = BACKOFF_MIN_MS;
    self->pipelined = 0;
    pmo_info ("redis: connected url=%s", self->safe_url);
    return true;
}

const char *pmo_redis_safe_url (pmo_redis_t *self)
{
    return self->safe_url;
}

uint64_t pmo_redis_connects (pmo_redis_t *self)
{
    return self->connects;
}

const char *pmo_redis_replid (pmo_redis_t *self)
{
    assert (self);
    if (self->replid_of && self->replid_of == self->connects && self->ctx)
        return self->replid;
    redisReply *reply = pmo_redis_command (self, "INFO replication");
    if (!reply)
        return NULL;
    const char *found =
        reply->type == REDIS_REPLY_STRING ? strstr (reply->str, "master_replid:") : NULL;
    size_t len = found ? strcspn (found + 14, "\r\n") : 0;
    if (len == 0 || len >= sizeof self->replid) {
        pmo_warn ("redis: no master_replid in INFO replication url=%s", self->safe_url);
        freeReplyObject (reply);
        return NULL;
    }
    memcpy (self->replid, found + 14, len);
    self->replid[len] = 0;
    self->replid_of = self->connects;
    freeReplyObject (reply);
    return self->replid;
}

//  A reply or NULL; on NULL the connection is dropped.
static redisReply *s_checked (pmo_redis_t *self, void *reply)
{
    if (!reply) {
        s_disconnect (self, self->ctx && self->ctx->err ? self->ctx->errstr : "no reply");
        return NULL;
    }
    //  Behind Sentinel, a demoted master answers READONLY: the failover
    //  happened. A server still loading its data (LOADING) or a replica cut
    //  off from its master (MASTERDOWN) has no dataset to answer from: a
    //  read would come back as "absent". Each is treated as the connection
    //  failing, so callers answer "unavailable" (retryable) and the next
    //  command connects again (behind Sentinel: to the master it names now).
    redisReply *r = reply;
    if (r->type == REDIS_REPLY_ERROR && r->str) {
        const char *why = NULL;
        if (*self->sentinels && strncmp (r->str, "READONLY", 8) == 0)
            why = "the server is no longer the master";
        else if (strncmp (r->str, "LOADING", 7) == 0)
            why = "the server is loading its data";
        else if (strncmp (r->str, "MASTERDOWN", 10) == 0)
            why = "the replica has lost its master";
        if (why) {
            freeReplyObject (r);
            s_disconnect (self, why);
            return NULL;
        }
    }
    return (redisReply *)reply;
}

int pmo_redis_refused_write (pmo_redis_t *self, const redisReply *reply, const char *what)
{
    if (!reply || reply->type != REDIS_REPLY_ERROR || !reply->str ||
        strncmp (reply->str, "NOREPLICAS", 10) != 0)
        return 0;
    int64_t now = pmo_mono_ms ();
    bool first = !self->refused_ms || now - self->refused_ms >= REFUSED_QUIET_MS;
    self->refused_ms = now;
    if (first) {
        self->refused = 1;
        pmo_warn ("redis: writes refused: the master has too few replicas (a Sentinel failover, "
                  "or its replicas are down) url=%s what=\"%s\"; retrying, and saying so "
                  "again only after %d s without a refusal",
                  self->safe_url, what, REFUSED_QUIET_MS / 1000);
        return 1;
    }
    self->refused++;
    pmo_debug ("redis: write refused (NOREPLICAS) url=%s what=\"%s\" in_episode=%llu",
               self->safe_url, what, (unsigned long long)self->refused);
    return 2;
}

redisReply *pmo_redis_command (pmo_redis_t *self, const char *format, ...)
{
    if (!pmo_redis_ready (self))
        return NULL;
    assert (self->pipelined == 0);
    va_list args;
    va_start (args, format);
    void *reply = redisvCommand (self->ctx, format, args);
    va_end (args);
    return s_checked (self, reply);
}

redisReply *pmo_redis_commandv (pmo_redis_t *self, int argc, const char **argv,
                                const size_t *argvlen)
{
    if (!pmo_redis_ready (self))
        return NULL;
    assert (self->pipelined == 0);
    return s_checked (self, redisCommandArgv (self->ctx, argc, argv, argvlen));
}

int pmo_redis_pipe (pmo_redis_t *self, const char *format, ...)
{
    if (!pmo_redis_ready (self))
        return -1;
    va_list args;
    va_start (args, format);
    int rc = redisvAppendCommand (self->ctx, format, args);
    va_end (args);
    if (rc != REDIS_OK) {
        s_disconnect (self, "append failed");
        return -1;
    }
    self->pipelined++;
    return 0;
}

//  "<prefix><value>\r\n" at out; the bytes written.
static size_t s_header (char *out, char prefix, size_t value)
{
    char digits[24];
    size_t n = (size_t)(digits + sizeof digits - pmo_digits_u64 (digits + sizeof digits, value));
    out[0] = prefix;
    memcpy (out + 1, digits + sizeof digits - n, n);
    out[1 + n] = '\r';
    out[2 + n] = '\n';
    return n + 3;
}

//  The command in the protocol's form, written in one pass into one buffer
//  (hiredis 0.14 formats each argument's header with sdscatfmt, some 600
//  instructions an argument: a group commit's EVALSHA has hundreds).
//  Lengths from argvlen, or strlen where argvlen is NULL. Returns the
//  buffer (the caller frees it) and its size in *size.
static char *s_format_argv (int argc, const char **argv, const size_t *argvlen, size_t *size)
{
    size_t total = 3 + 20;
    for (int i = 0; i < argc; i++) {
        size_t len = argvlen ? argvlen[i] : strlen (argv[i]);
        total += 3 + 20 + len + 2;
    }
    char *cmd = malloc (total);
    assert (cmd);
    size_t at = s_header (cmd, '*', (size_t)argc);
    for (int i = 0; i < argc; i++) {
        size_t len = argvlen ? argvlen[i] : strlen (argv[i]);
        at += s_header (cmd + at, '$', len);
        if (len)
            memcpy (cmd + at, argv[i], len);
        at += len;
        cmd[at++] = '\r';
        cmd[at++] = '\n';
    }
    *size = at;
    return cmd;
}

int pmo_redis_pipev (pmo_redis_t *self, int argc, const char **argv, const size_t *argvlen)
{
    if (!pmo_redis_ready (self))
        return -1;
    size_t size;
    char *cmd = s_format_argv (argc, argv, argvlen, &size);
    int rc = redisAppendFormattedCommand (self->ctx, cmd, size);
    free (cmd);
    if (rc != REDIS_OK) {
        s_disconnect (self, "append failed");
        return -1;
    }
    self->pipelined++;
    return 0;
}

int pmo_redis_pipe_push (pmo_redis_t *self)
{
    if (!self->ctx)
        return -1;
    int done = 0;
    while (!done)
        if (redisBufferWrite (self->ctx, &done) != REDIS_OK) {
            s_disconnect (self, "write failed");
            return -1;
        }
    return 0;
}

redisReply *pmo_redis_pipe_reply (pmo_redis_t *self)
{
    if (!self->ctx || self->pipelined == 0)
        return NULL;
    void *reply = NULL;
    if (redisGetReply (self->ctx, &reply) != REDIS_OK)
        reply = NULL;
    self->pipelined--;
    return s_checked (self, reply);
}

//  A member and its score (or nothing) into *score; takes the reply.
static int s_zfirst (redisReply *reply, int64_t *score)
{
    if (!reply)
        return -1;
    int rc = 0;
    if (reply->type == REDIS_REPLY_ARRAY && reply->elements == 2)
        *score = (int64_t)strtod (reply->element[1]->str, NULL);
    else if (reply->type == REDIS_REPLY_ARRAY)
        *score = INT64_MAX;
    else
        rc = -1;
    freeReplyObject (reply);
    return rc;
}

int pmo_redis_zfirst (pmo_redis_t *self, const char *key, int64_t *score)
{
    return s_zfirst (pmo_redis_command (self, "ZRANGE %s 0 0 WITHSCORES", key), score);
}

int pmo_redis_zfirst_after (pmo_redis_t *self, const char *key, int64_t after, int64_t *score)
{
    return s_zfirst (pmo_redis_command (self, "ZRANGEBYSCORE %s (%lld +inf WITHSCORES LIMIT 0 1",
                                        key, (long long)after),
                     score);
}

int pmo_redis_fd (pmo_redis_t *self)
{
    return self->ctx ? self->ctx->fd : -1;
}

int pmo_redis_pipe_poll (pmo_redis_t *self, redisReply **reply)
{
    *reply = NULL;
    if (!self->ctx || self->pipelined == 0)
        return -1;
    void *got = NULL;
    if (redisGetReplyFromReader (self->ctx, &got) != REDIS_OK) {
        s_disconnect (self, self->ctx->errstr);
        return -1;
    }
    if (!got) {
        //  Read what has arrived, only if something has: the socket blocks
        struct pollfd in = {.fd = self->ctx->fd, .events = POLLIN};
        if (poll (&in, 1, 0) <= 0)
            return 0;
        if (redisBufferRead (self->ctx) != REDIS_OK ||
            redisGetReplyFromReader (self->ctx, &got) != REDIS_OK) {
            s_disconnect (self, self->ctx->errstr);
            return -1;
        }
        if (!got)
            return 0;
    }
    self->pipelined--;
    *reply = s_checked (self, got);
    return *reply ? 1 : -1;
}

void pmo_redis_drop (pmo_redis_t *self, const char *why)
{
    s_disconnect (self, why);
}

int pmo_redis_replicas (pmo_redis_t *self)
{
    return self->replicas;
}

int pmo_redis_wait_replicas (pmo_redis_t *self)
{
    if (self->replicas == 0)
        return 0;
    redisReply *reply = pmo_redis_command (self, "WAIT %d %d", self->replicas, self->wait_ms);
    if (!reply)
        return -1;
    long long confirmed = reply->type == REDIS_REPLY_INTEGER ? reply->integer : -1;
    if (reply->type == REDIS_REPLY_ERROR)
        pmo_error ("redis: WAIT failed url=%s error=\"%s\"", self->safe_url, reply->str);
    freeReplyObject (reply);
    if (confirmed >= self->replicas)
        return 0;
    //  During a failover every write of every request lands here: say it
    //  once a second, with how many
    self->unconfirmed++;
    int64_t now = pmo_mono_ms ();
    if (now - self->wait_logged_ms >= 1000) {
        pmo_warn ("redis: writes not confirmed by %d replica(s) within %d ms, answered "
                  "unavailable (retryable) count=%llu url=%s",
                  self->replicas, self->wait_ms, (unsigned long long)self->unconfirmed,
                  self->safe_url);
        self->wait_logged_ms = now;
        self->unconfirmed = 0;
    }
    return -1;
}

static bool s_is_noscript (redisReply *reply)
{
    return reply && reply->type == REDIS_REPLY_ERROR && strncmp (reply->str, "NOSCRIPT", 8) == 0;
}

redisReply *pmo_redis_eval (pmo_redis_t *self, pmo_script_t *script, int nkeys, int argc,
                            const char **argv, const size_t *argvlen)
{
    char nkeys_text[16];
    snprintf (nkeys_text, sizeof nkeys_text, "%d", nkeys);
    int total = argc + 3;
    const char **args = malloc ((size_t)total * sizeof (char *));
    size_t *lens = malloc ((size_t)total * sizeof (size_t));
    assert (args && lens);
    for (int i = 0; i < argc; i++) {
        args[i + 3] = argv[i];
        lens[i + 3] = argvlen ? argvlen[i] : strlen (argv[i]);
    }
    args[2] = nkeys_text;
    lens[2] = strlen (nkeys_text);
    redisReply *reply = NULL;
    //  EVALSHA first; a restarted Redis has forgotten the script, so NOSCRIPT
    //  means load it and try once more.
    for (int attempt = 0; attempt < 2; attempt++) {
        if (!*script->sha) {
            redisReply *loaded = pmo_redis_command (self, "SCRIPT LOAD %s", script->source);
            if (!loaded)
                break;
            if (loaded->type != REDIS_REPLY_STRING || loaded->len != 40) {
                pmo_error ("redis: script load failed error=\"%s\"",
                           loaded->type == REDIS_REPLY_ERROR ? loaded->str : "bad reply");
                reply = loaded;
                break;
            }
            memcpy (script->sha, loaded->str, 41);
            freeReplyObject (loaded);
        }
        args[0] = "EVALSHA";
        lens[0] = 7;
        args[1] = script->sha;
        lens[1] = 40;
        reply = pmo_redis_commandv (self, total, args, lens);
        if (!s_is_noscript (reply))
            break;
        freeReplyObject (reply);
        reply = NULL;
        script->sha[0] = 0;
    }
    free (args);
    free (lens);
    return reply;
}
