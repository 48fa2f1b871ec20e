/*  gateway_feed.c: the one reader of the division streams for the
    live-event clients (see gateway_feed.h).
*/
#include "gateway_feed.h"
#include "pmo_reflect.h"
#include "gateway_model.h"

#include "pmo_json.h"
#include "pmo_log.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define READ_COUNT 200 //  entries per stream per read

struct _gateway_feed_t {
    gateway_stream_t *streams; //  followed, in the order they were added
    size_t n_streams;
    size_t max_streams;
    bool follow_new; //  follow a division created while it runs, from its start
};

gateway_feed_t *gateway_feed_new (bool follow_new)
{
    gateway_feed_t *self = calloc (1, sizeof (gateway_feed_t));
    assert (self);
    self->follow_new = follow_new;
    return self;
}

void gateway_feed_destroy (gateway_feed_t **self_p)
{
    assert (self_p);
    gateway_feed_t *self = *self_p;
    if (!self)
        return;
    for (size_t i = 0; i < self->n_streams; i++)
        free (self->streams[i].division);
    free (self->streams);
    free (self);
    *self_p = NULL;
}

int gateway_feed_parse_id (const char *id, uint64_t *ms, uint64_t *seq)
{
    char *end = NULL;
    *ms = strtoull (id, &end, 10);
    if (!end || end == id || *end != '-')
        return -1;
    const char *rest = end + 1;
    *seq = strtoull (rest, &end, 10);
    return end && end != rest && *end == 0 ? 0 : -1;
}

static gateway_stream_t *s_find (gateway_feed_t *self, const char *division)
{
    for (size_t i = 0; i < self->n_streams; i++)
        if (strcmp (self->streams[i].division, division) == 0)
            return &self->streams[i];
    return NULL;
}

static gateway_stream_t *s_add (gateway_feed_t *self, const char *division, const char *cursor,
                                bool inclusive)
{
    if (self->n_streams == self->max_streams) {
        self->max_streams = self->max_streams ? self->max_streams * 2 : 16;
        self->streams = realloc (self->streams, self->max_streams * sizeof (gateway_stream_t));
        assert (self->streams);
    }
    gateway_stream_t *stream = &self->streams[self->n_streams++];
    stream->division = strdup (division);
    assert (stream->division);
    snprintf (stream->cursor, sizeof stream->cursor, "%s", cursor);
    stream->inclusive = inclusive;
    return stream;
}

int gateway_feed_follow (gateway_feed_t *self, gateway_store_t *store, const char *const *divisions)
{
    size_t first = self->n_streams;
    for (size_t i = 0; divisions[i]; i++)
        if (!s_find (self, divisions[i]))
            s_add (self, divisions[i], "0-0", false);
    if (self->n_streams == first)
        return 0;
    if (gateway_store_streams_newest (store, self->streams + first, self->n_streams - first)) {
        //  Not placed: not followed (a client asks again)
        while (self->n_streams > first)
            free (self->streams[--self->n_streams].division);
        return -1;
    }
    return 0;
}

void gateway_feed_follow_from (gateway_feed_t *self, const char *division, const char *cursor,
                               bool inclusive)
{
    if (!s_find (self, division))
        s_add (self, division, cursor, inclusive);
}

void gateway_feed_reset (gateway_feed_t *self)
{
    for (size_t i = 0; i < self->n_streams; i++)
        free (self->streams[i].division);
    self->n_streams = 0;
}

const char *gateway_feed_cursor (gateway_feed_t *self, const char *division)
{
    gateway_stream_t *stream = s_find (self, division);
    return stream ? stream->cursor : NULL;
}

//  An entry read, waiting to be merged.
typedef struct {
    gateway_feed_entry_t entry;
    size_t stream; //  index into streams
    char id[48];
    const char *data; //  the pmo.Event blob (in the reply)
    size_t size;
} s_read_t;

static int s_read_cmp (const void *a, const void *b)
{
    const gateway_feed_entry_t *x = &((const s_read_t *)a)->entry;
    const gateway_feed_entry_t *y = &((const s_read_t *)b)->entry;
    if (x->ms != y->ms)
        return x->ms < y->ms ? -1 : 1;
    if (x->seq != y->seq)
        return x->seq < y->seq ? -1 : 1;
    return strcmp (x->division, y->division);
}

//  Past an entry handed out (or stepped over).
static void s_advance (gateway_feed_t *self, const s_read_t *read)
{
    gateway_stream_t *stream = &self->streams[read->stream];
    snprintf (stream->cursor, sizeof stream->cursor, "%s", read->id);
    stream->inclusive = false;
}

int gateway_feed_pump (gateway_feed_t *self, gateway_store_t *store, gateway_feed_fn *fn, void *ctx,
                       bool *org_units)
{
    *org_units = false;
    size_t n = self->n_streams;
    if (n == 0)
        return 0;
    uint64_t now_ms;
    redisReply **replies;
    if (gateway_store_streams_read (store, self->streams, n, READ_COUNT, &now_ms, &replies))
        return -1;
    s_read_t *reads = NULL;
    size_t count = 0;
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        redisReply *reply = replies[i];
        if (!reply || reply->type != REDIS_REPLY_ARRAY) {
            rc = reply ? rc : -1;
            continue;
        }
        if (reply->elements == READ_COUNT)
            rc = rc < 0 ? rc : 1;
        reads = realloc (reads, (count + reply->elements + 1) * sizeof (s_read_t));
        assert (reads);
        for (size_t e = 0; e < reply->elements; e++) {
            redisReply *item = reply->element[e];
            if (item->type != REDIS_REPLY_ARRAY || item->elements != 2)
                continue;
            s_read_t *read = &reads[count];
            memset (read, 0, sizeof *read);
            if (gateway_feed_parse_id (item->element[0]->str, &read->entry.ms, &read->entry.seq))
                continue;
            if (read->entry.ms >= now_ms) {
                //  Its millisecond is not over: another stream may still get
                //  an earlier id. Later entries of this stream wait too.
                rc = rc < 0 ? rc : 1;
                break;
            }
            snprintf (read->id, sizeof read->id, "%s", item->element[0]->str);
            read->stream = i;
            redisReply *fields = item->element[1];
            for (size_t f = 0; fields->type == REDIS_REPLY_ARRAY && f + 1 < fields->elements;
                 f += 2)
                if (strcmp (fields->element[f]->str, "data") == 0) {
                    read->data = fields->element[f + 1]->str;
                    read->size = fields->element[f + 1]->len;
                }
            if (read->data)
                count++;
            else {
                //  Not an event entry; step over it
                snprintf (self->streams[i].cursor, sizeof self->streams[i].cursor, "%s",
                          item->element[0]->str);
                self->streams[i].inclusive = false;
            }
        }
    }
    //  The divisions are copied: a division created meanwhile may be
    //  followed (and the stream array grown) while the entries go out
    char **divisions = calloc (n, sizeof (char *));
    assert (divisions);
    for (size_t i = 0; i < n; i++)
        divisions[i] = strdup (self->streams[i].division);
    for (size_t i = 0; i < count; i++)
        reads[i].entry.division = divisions[reads[i].stream];
    //  Merge: by id, then by division (qsort wants a valid array even for
    //  nothing to sort)
    if (count > 1)
        qsort (reads, count, sizeof (s_read_t), s_read_cmp);
    for (size_t i = 0; i < count; i++) {
        s_read_t *read = &reads[i];
        Pmo__Event *event = pmo__event__unpack (NULL, read->size, (const uint8_t *)read->data);
        if (!event) {
            pmo_warn ("gateway: undecodable event division=%s id=%s", read->entry.division,
                      read->id);
            s_advance (self, read);
            continue;
        }
        //  The stream id is the event's id as clients see it
        char *original = event->id;
        event->id = read->id;
        read->entry.id = read->id;
        read->entry.event = event;
        bool taken = fn (ctx, &read->entry);
        event->id = original;
        if (taken) {
            s_advance (self, read);
            if (event->type && strncmp (event->type, "org_unit.", 9) == 0)
                *org_units = true;
            if (self->follow_new && event->body_case == PMO__EVENT__BODY_ORG_UNIT_SNAPSHOT &&
                event->org_unit_snapshot &&
                event->org_unit_snapshot->kind == PMO__ORG_UNIT_KIND__ORG_UNIT_KIND_DIVISION &&
                event->type && strcmp (event->type, "org_unit.created") == 0)
                gateway_feed_follow_from (self, event->org_unit_snapshot->id, "0-0", false);
        }
        free (read->entry.frame);
        free (read->entry.redacted);
        pmo__event__free_unpacked (event, NULL);
        if (!taken) {
            rc = rc < 0 ? rc : 1;
            break;
        }
    }
    for (size_t i = 0; i < n; i++)
        free (divisions[i]);
    free (divisions);
    free (reads);
    gateway_store_replies_free (&replies, n);
    return rc;
}

//  An event as an SSE frame (malloc'd, *size), NULL if it cannot be encoded.
static char *s_frame (const gateway_feed_entry_t *entry, const Pmo__Event *event, size_t *size)
{
    char *json = pmo_json_encode (&event->base);
    if (!json)
        return NULL;
    char type[96];
    snprintf (type, sizeof type, "%s", event->type ? event->type : "");
    for (char *c = type; *c; c++)
        if (*c == '\r' || *c == '\n')
            *c = ' ';
    char *frame = NULL;
    int len = asprintf (&frame, "id: %s/%s\nevent: %s\ndata: %s\n\n", entry->id, entry->division,
                        type, json);
    free (json);
    assert (len > 0);
    *size = (size_t)len;
    return frame;
}

const char *gateway_feed_frame (gateway_feed_entry_t *entry, const Pmo__Identity *who, size_t *size)
{
    if (!gateway_event_redacted (who, entry->event)) {
        if (!entry->frame)
            entry->frame = s_frame (entry, entry->event, &entry->frame_size);
        *size = entry->frame_size;
        return entry->frame;
    }
    if (!entry->redacted) {
        //  Cleared on a copy: the entry's event is every client's
        Pmo__Event *copy = (Pmo__Event *)pmo_reflect_dup (&entry->event->base);
        if (!copy)
            return NULL;
        gateway_event_redact (who, copy);
        entry->redacted = s_frame (entry, copy, &entry->redacted_size);
        pmo__event__free_unpacked (copy, NULL);
    }
    *size = entry->redacted_size;
    return entry->redacted;
}
