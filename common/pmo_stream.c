/*  pmo_stream.c: consumer groups and replays over the event streams. */
#include "pmo_stream.h"
#include "pmo_log.h"
#include "pmo_util.h"

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void pmo_stream_batch_clear (pmo_stream_batch_t *batch)
{
    for (size_t i = 0; i < batch->count; i++) {
        pmo_stream_entry_t *e = &batch->entries[i];
        free (e->stream);
        free (e->id);
        free (e->type);
        free (e->data);
    }
    free (batch->entries);
    batch->entries = NULL;
    batch->count = 0;
    batch->reclaimed = 0;
}

static char *s_dup (const char *data, size_t size)
{
    char *copy = malloc (size + 1);
    assert (copy);
    memcpy (copy, data, size);
    copy[size] = 0;
    return copy;
}

//  Append the entries of one stream reply ([id, [field, value, ...]] ...).
//  Entries deleted while pending come back with a nil field list: skipped.
static void s_collect (pmo_stream_batch_t *batch, const char *stream, redisReply *entries)
{
    if (!entries || entries->type != REDIS_REPLY_ARRAY || entries->elements == 0)
        return;
    batch->entries =
        realloc (batch->entries, (batch->count + entries->elements) * sizeof (pmo_stream_entry_t));
    assert (batch->entries);
    for (size_t i = 0; i < entries->elements; i++) {
        redisReply *entry = entries->element[i];
        if (entry->type != REDIS_REPLY_ARRAY || entry->elements != 2 ||
            entry->element[1]->type != REDIS_REPLY_ARRAY)
            continue;
        pmo_stream_entry_t *e = &batch->entries[batch->count];
        memset (e, 0, sizeof *e);
        e->stream = strdup (stream);
        e->id = s_dup (entry->element[0]->str, entry->element[0]->len);
        redisReply *fields = entry->element[1];
        for (size_t f = 0; f + 1 < fields->elements; f += 2) {
            redisReply *name = fields->element[f], *value = fields->element[f + 1];
            if (strcmp (name->str, "type") == 0 && !e->type)
                e->type = s_dup (value->str, value->len);
            else if (strcmp (name->str, "data") == 0 && !e->data) {
                e->data = s_dup (value->str, value->len);
                e->size = value->len;
            }
        }
        if (!e->type)
            e->type = strdup ("");
        if (!e->data)
            e->data = strdup ("");
        batch->count++;
    }
}

#define KEY_PREFIX "pmo:{"
#define KEY_SUFFIX "}:events"

char *pmo_stream_key (pmo_arena_t *arena, const char *division)
{
    return pmo_arena_cat (arena, KEY_PREFIX, division, KEY_SUFFIX, NULL);
}

int pmo_stream_key_buf (char *buf, size_t size, const char *division)
{
    int n = snprintf (buf, size, KEY_PREFIX "%s" KEY_SUFFIX, division);
    return n < 0 || (size_t)n >= size ? -1 : 0;
}

const char *pmo_stream_key_division (const char *key, char *buf, size_t size)
{
    size_t prefix = strlen (KEY_PREFIX), suffix = strlen (KEY_SUFFIX);
    size_t len = key ? strlen (key) : 0;
    if (len <= prefix + suffix || strncmp (key, KEY_PREFIX, prefix) != 0 ||
        strcmp (key + len - suffix, KEY_SUFFIX) != 0)
        return NULL;
    size_t n = len - prefix - suffix;
    if (n >= size)
        return NULL;
    memcpy (buf, key + prefix, n);
    buf[n] = 0;
    return buf;
}

int pmo_stream_last_ids (pmo_redis_t *redis, pmo_arena_t *arena, const char *division,
                         const char *last_id, size_t n, char **ids)
{
    for (size_t i = 0; i < n; i++)
        ids[i] = NULL;
    redisReply *reply =
        pmo_redis_command (redis, "XREVRANGE %s %s - COUNT %llu", pmo_stream_key (arena, division),
                           last_id, (unsigned long long)n);
    if (!reply)
        return -1;
    for (size_t i = 0; i < n; i++) {
        size_t k = n - 1 - i; //  newest first in the reply
        if (reply->type == REDIS_REPLY_ARRAY && k < reply->elements &&
            reply->element[k]->type == REDIS_REPLY_ARRAY && reply->element[k]->elements >= 1)
            ids[i] = pmo_arena_strdup (arena, reply->element[k]->element[0]->str);
    }
    freeReplyObject (reply);
    return 0;
}

int pmo_stream_group_ensure (pmo_redis_t *redis, const char *stream, const char *group)
{
    redisReply *reply = pmo_redis_command (redis, "XGROUP CREATE %s %s 0 MKSTREAM", stream, group);
    if (!reply)
        return -1;
    int rc = 0;
    if (reply->type == REDIS_REPLY_ERROR && strncmp (reply->str, "BUSYGROUP", 9) != 0) {
        //  a failover refusing writes for a while is said once (warning)
        if (!pmo_redis_refused_write (redis, reply, "stream: group create"))
            pmo_error ("stream: group create failed stream=%s group=%s error=\"%s\"", stream, group,
                       reply->str);
        rc = -1;
    }
    freeReplyObject (reply);
    return rc;
}

int pmo_stream_group_reclaim (pmo_redis_t *redis, const char *group, const char *consumer,
                              const char *const *streams, size_t nstreams, size_t *cursor,
                              size_t max_streams, size_t count, int min_idle_ms,
                              pmo_stream_batch_t *batch)
{
    memset (batch, 0, sizeof *batch);
    if (nstreams == 0)
        return 0;
    for (size_t done = 0; done < max_streams && done < nstreams && batch->count < count; done++) {
        if (*cursor >= nstreams)
            *cursor = 0;
        const char *stream = streams[(*cursor)++];
        redisReply *reply =
            pmo_redis_command (redis, "XAUTOCLAIM %s %s %s %d 0 COUNT %llu", stream, group,
                               consumer, min_idle_ms, (unsigned long long)(count - batch->count));
        if (!reply)
            return -1;
        if (reply->type == REDIS_REPLY_ARRAY && reply->elements >= 2)
            s_collect (batch, stream, reply->element[1]);
        freeReplyObject (reply);
    }
    return 0;
}

//  XREADGROUP GROUP group consumer COUNT count [BLOCK ms] STREAMS s... > ...
//  as an argument vector (free it); *argc set.
static const char **s_readgroup_argv (const char *group, const char *consumer,
                                      const char *const *streams, size_t nstreams,
                                      const char *count_text, const char *block_text, int *argc)
{
    //  7 words, 2 for BLOCK, 2 per stream
    const char **argv = calloc (9 + 2 * nstreams, sizeof (char *));
    assert (argv);
    int a = 0;
    argv[a++] = "XREADGROUP";
    argv[a++] = "GROUP";
    argv[a++] = group;
    argv[a++] = consumer;
    argv[a++] = "COUNT";
    argv[a++] = count_text;
    if (block_text) {
        argv[a++] = "BLOCK";
        argv[a++] = block_text;
    }
    argv[a++] = "STREAMS";
    for (size_t s = 0; s < nstreams; s++)
        argv[a++] = streams[s];
    for (size_t s = 0; s < nstreams; s++)
        argv[a++] = ">";
    *argc = a;
    return argv;
}

//  The entries of an XREADGROUP reply; -1 for an error reply.
static int s_collect_read (pmo_stream_batch_t *batch, redisReply *reply, const char *group)
{
    if (reply->type == REDIS_REPLY_ARRAY)
        for (size_t s = 0; s < reply->elements; s++) {
            redisReply *one = reply->element[s];
            if (one->type == REDIS_REPLY_ARRAY && one->elements == 2)
                s_collect (batch, one->element[0]->str, one->element[1]);
        }
    else if (reply->type == REDIS_REPLY_ERROR) {
        pmo_warn ("stream: read failed group=%s error=\"%s\"", group, reply->str);
        return -1;
    }
    return 0;
}

int pmo_stream_group_read (pmo_redis_t *redis, const char *group, const char *consumer,
                           const char **streams, size_t nstreams, size_t count, int block_ms,
                           int min_idle_ms, pmo_stream_batch_t *batch)
{
    memset (batch, 0, sizeof *batch);
    //  First take over what dead consumers left pending
    size_t cursor = 0;
    if (pmo_stream_group_reclaim (redis, group, consumer, (const char *const *)streams, nstreams,
                                  &cursor, nstreams, count, min_idle_ms, batch))
        return -1;
    batch->reclaimed = batch->count;
    if (batch->count >= count)
        return 0;
    //  Then new entries
    char count_text[24], block_text[24];
    snprintf (count_text, sizeof count_text, "%zu", count - batch->count);
    snprintf (block_text, sizeof block_text, "%d", block_ms);
    int argc;
    const char **argv = s_readgroup_argv (group, consumer, (const char *const *)streams, nstreams,
                                          count_text, block_ms > 0 ? block_text : NULL, &argc);
    redisReply *reply = pmo_redis_commandv (redis, argc, argv, NULL);
    free (argv);
    if (!reply)
        return -1;
    int rc = s_collect_read (batch, reply, group);
    freeReplyObject (reply);
    return rc;
}

//  ---------------------------------------------------------------------
//  The blocking reader

struct _pmo_stream_reader_t {
    pmo_redis_t *redis; //  its own connection: it waits in Redis
    char *group, *consumer;
    char count_text[24], block_text[24];
    int block_ms, timeout_ms;
    char **streams;
    size_t n_streams;
    bool waiting;        //  a read was sent and its reply is owed
    int64_t deadline_ms; //  monotonic: a reply later than this means a dead connection
    int64_t retry_ms;    //  monotonic: after an error reply, no read before this
};

pmo_stream_reader_t *pmo_stream_reader_new (const char *redis_url, int timeout_ms,
                                            const char *group, const char *consumer, size_t count,
                                            int block_ms)
{
    pmo_redis_t *redis = pmo_redis_new (redis_url, timeout_ms);
    if (!redis)
        return NULL;
    pmo_stream_reader_t *self = calloc (1, sizeof (pmo_stream_reader_t));
    assert (self);
    self->redis = redis;
    self->group = strdup (group);
    self->consumer = strdup (consumer);
    snprintf (self->count_text, sizeof self->count_text, "%zu", count);
    snprintf (self->block_text, sizeof self->block_text, "%d", block_ms);
    self->block_ms = block_ms;
    self->timeout_ms = timeout_ms;
    return self;
}

static void s_streams_free (pmo_stream_reader_t *self)
{
    for (size_t i = 0; i < self->n_streams; i++)
        free (self->streams[i]);
    free (self->streams);
    self->streams = NULL;
    self->n_streams = 0;
}

void pmo_stream_reader_destroy (pmo_stream_reader_t **self_p)
{
    assert (self_p);
    pmo_stream_reader_t *self = *self_p;
    if (!self)
        return;
    //  A read still waiting in Redis ends with the connection; whatever it
    //  was given stays pending and is reclaimed (at least once)
    pmo_redis_destroy (&self->redis);
    s_streams_free (self);
    free (self->group);
    free (self->consumer);
    free (self);
    *self_p = NULL;
}

void pmo_stream_reader_set_streams (pmo_stream_reader_t *self, const char *const *streams, size_t n)
{
    s_streams_free (self);
    self->streams = calloc (n + 1, sizeof (char *));
    assert (self->streams);
    for (size_t i = 0; i < n; i++)
        self->streams[i] = strdup (streams[i]);
    self->n_streams = n;
}

int pmo_stream_reader_arm (pmo_stream_reader_t *self)
{
    if (self->waiting) {
        if (pmo_mono_ms () <= self->deadline_ms)
            return pmo_redis_fd (self->redis);
        pmo_redis_drop (self->redis, "a blocking stream read got no reply in time");
        self->waiting = false;
    }
    if (self->n_streams == 0 || pmo_mono_ms () < self->retry_ms || !pmo_redis_ready (self->redis))
        return -1;
    int argc;
    const char **argv =
        s_readgroup_argv (self->group, self->consumer, (const char *const *)self->streams,
                          self->n_streams, self->count_text, self->block_text, &argc);
    int rc = pmo_redis_pipev (self->redis, argc, argv, NULL);
    free (argv);
    if (rc || pmo_redis_pipe_push (self->redis))
        return -1;
    self->waiting = true;
    self->deadline_ms = pmo_mono_ms () + self->block_ms + self->timeout_ms;
    return pmo_redis_fd (self->redis);
}

int pmo_stream_reader_wait_ms (pmo_stream_reader_t *self)
{
    if (self->waiting) {
        int64_t left = self->deadline_ms - pmo_mono_ms ();
        return left < 0 ? 0 : (int)left;
    }
    //  Not waiting: Redis is away (its backoff), refused the last read, or
    //  there is nothing to read
    int64_t retry = self->retry_ms - pmo_mono_ms ();
    if (retry > 0)
        return (int)retry;
    return self->n_streams ? 100 : 1000;
}

int pmo_stream_reader_take (pmo_stream_reader_t *self, pmo_stream_batch_t *batch)
{
    memset (batch, 0, sizeof *batch);
    if (!self->waiting)
        return 0;
    redisReply *reply = NULL;
    int rc = pmo_redis_pipe_poll (self->redis, &reply);
    if (rc == 0)
        return 0;
    self->waiting = false;
    if (rc < 0)
        return -1;
    rc = s_collect_read (batch, reply, self->group);
    freeReplyObject (reply);
    if (rc) {
        //  e.g. NOGROUP for a stream whose group is not made yet: the
        //  caller makes it; do not ask again at once
        pmo_stream_batch_clear (batch);
        self->retry_ms = pmo_mono_ms () + 1000;
        return -1;
    }
    return batch->count ? 1 : 0;
}

int pmo_stream_ack (pmo_redis_t *redis, const char *stream, const char *group, const char *id)
{
    redisReply *reply = pmo_redis_command (redis, "XACK %s %s %s", stream, group, id);
    if (!reply)
        return -1;
    int rc = reply->type == REDIS_REPLY_INTEGER ? 0 : -1;
    freeReplyObject (reply);
    return rc;
}

int pmo_stream_range (pmo_redis_t *redis, const char *stream, const char *after_id, size_t count,
                      pmo_stream_batch_t *batch)
{
    memset (batch, 0, sizeof *batch);
    //  "(" makes the start exclusive (Redis 6.2+)
    char start[80];
    snprintf (start, sizeof start, "%s%s", strcmp (after_id, "0") == 0 ? "" : "(", after_id);
    redisReply *reply = pmo_redis_command (redis, "XRANGE %s %s + COUNT %llu", stream, start,
                                           (unsigned long long)count);
    if (!reply)
        return -1;
    int rc = 0;
    if (reply->type == REDIS_REPLY_ARRAY)
        s_collect (batch, stream, reply);
    else
        rc = -1;
    freeReplyObject (reply);
    return rc;
}

int pmo_stream_range_back (pmo_redis_t *redis, const char *stream, const char *upper,
                           bool inclusive, const char *floor, size_t count,
                           pmo_stream_batch_t *batch)
{
    memset (batch, 0, sizeof *batch);
    char end[80];
    snprintf (end, sizeof end, "%s%s", inclusive || strcmp (upper, "+") == 0 ? "" : "(", upper);
    redisReply *reply = pmo_redis_command (redis, "XREVRANGE %s %s %s COUNT %llu", stream, end,
                                           floor, (unsigned long long)count);
    if (!reply)
        return -1;
    int rc = 0;
    if (reply->type == REDIS_REPLY_ARRAY)
        s_collect (batch, stream, reply);
    else
        rc = -1;
    freeReplyObject (reply);
    return rc;
}

bool pmo_stream_id_parse (const char *id, uint64_t *ms, uint64_t *seq)
{
    if (!id || !isdigit ((unsigned char)*id))
        return false;
    char *end = NULL;
    errno = 0;
    unsigned long long m = strtoull (id, &end, 10);
    if (*end != '-' || !isdigit ((unsigned char)end[1]))
        return false;
    const char *rest = end + 1;
    unsigned long long q = strtoull (rest, &end, 10);
    if (*end || errno)
        return false;
    *ms = m;
    *seq = q;
    return true;
}

//  Stream ids "ms-seq" as numbers, for comparing.
static bool s_id_parse (const char *id, unsigned long long *ms, unsigned long long *seq)
{
    uint64_t m, q;
    if (!pmo_stream_id_parse (id, &m, &q))
        return false;
    *ms = m;
    *seq = q;
    return true;
}

static bool s_id_less (unsigned long long ams, unsigned long long aseq, unsigned long long bms,
                       unsigned long long bseq)
{
    return ams < bms || (ams == bms && aseq < bseq);
}

long long pmo_stream_trim_acknowledged (pmo_redis_t *redis, const char *stream, int64_t keep_ms)
{
    redisReply *groups = pmo_redis_command (redis, "XINFO GROUPS %s", stream);
    if (!groups)
        return -1;
    if (groups->type != REDIS_REPLY_ARRAY || groups->elements == 0) {
        freeReplyObject (groups); //  no such stream, or nobody reads it
        return 0;
    }
    //  The oldest entry some group still needs: its oldest pending entry,
    //  or else the last one it was given (kept, so ids stay comparable)
    unsigned long long floor_ms = ULLONG_MAX, floor_seq = ULLONG_MAX;
    int rc = 0;
    for (size_t g = 0; g < groups->elements && rc == 0; g++) {
        redisReply *info = groups->element[g];
        const char *name = NULL, *last = NULL;
        long long pending = 0;
        for (size_t f = 0; info->type == REDIS_REPLY_ARRAY && f + 1 < info->elements; f += 2) {
            const char *key = info->element[f]->str;
            redisReply *value = info->element[f + 1];
            if (strcmp (key, "name") == 0 && value->type == REDIS_REPLY_STRING)
                name = value->str;
            else if (strcmp (key, "last-delivered-id") == 0 && value->type == REDIS_REPLY_STRING)
                last = value->str;
            else if (strcmp (key, "pending") == 0 && value->type == REDIS_REPLY_INTEGER)
                pending = value->integer;
        }
        if (!name || !last) {
            rc = -1;
            break;
        }
        char oldest[64];
        snprintf (oldest, sizeof oldest, "%s", last);
        if (pending > 0) {
            redisReply *summary = pmo_redis_command (redis, "XPENDING %s %s", stream, name);
            if (!summary) {
                rc = -1;
                break;
            }
            if (summary->type == REDIS_REPLY_ARRAY && summary->elements >= 2 &&
                summary->element[1]->type == REDIS_REPLY_STRING)
                snprintf (oldest, sizeof oldest, "%s", summary->element[1]->str);
            freeReplyObject (summary);
        }
        unsigned long long ms, seq;
        if (!s_id_parse (oldest, &ms, &seq)) {
            rc = -1;
            break;
        }
        if (s_id_less (ms, seq, floor_ms, floor_seq)) {
            floor_ms = ms;
            floor_seq = seq;
        }
    }
    freeReplyObject (groups);
    if (rc)
        return -1;
    //  and never anything younger than the window kept for replays
    int64_t now = pmo_now_ms ();
    if (keep_ms > 0) {
        unsigned long long window_ms = now > keep_ms ? (unsigned long long)(now - keep_ms) : 0;
        if (s_id_less (window_ms, 0, floor_ms, floor_seq)) {
            floor_ms = window_ms;
            floor_seq = 0;
        }
    }
    if (floor_ms == 0 && floor_seq == 0)
        return 0;
    char minid[64];
    snprintf (minid, sizeof minid, "%llu-%llu", floor_ms, floor_seq);
    redisReply *trimmed = pmo_redis_command (redis, "XTRIM %s MINID %s", stream, minid);
    if (!trimmed)
        return -1;
    long long removed = trimmed->type == REDIS_REPLY_INTEGER ? trimmed->integer : -1;
    freeReplyObject (trimmed);
    return removed;
}
