/*  gateway_sse.c: one live-event client. See gateway_sse.h for the order,
    the resume rules and the queue bound.
*/
#include "gateway_sse.h"
#include "gateway_store.h"

#include "pmo_log.h"
#include "pmo_reflect.h"
#include "pmo_util.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#define MAX_STREAMS 256
#define SHRINK_OVER 65536 //  an empty queue keeps at most this much memory

//  Where the client is in one division's stream.
typedef struct {
    char *division;
    char cursor[48];  //  the last id sent, or where it started
    uint64_t ms, seq; //  cursor's parts
    bool inclusive;   //  an entry at cursor itself is still to send (the resume tie rule)
} s_stream_t;

struct _gateway_sse_t {
    struct MHD_Connection *connection;
    bool suspended;    //  waiting for something to send
    bool stopped;      //  end the stream once the queue is sent
    bool dropped;      //  too slow: ended with event "dropped"
    bool hungry;       //  catching up, paused until the queue drains to half
    bool *wake;        //  the reactor's "pump now" (not owned)
    zlistx_t *clients; //  the reactor's list (not owned)
    s_stream_t streams[MAX_STREAMS];
    size_t n_streams;
    bool all_divisions;               //  add divisions created later
    gateway_feed_t *own;              //  while catching up: its own reader; NULL when live
    Pmo__ApiToken *token;             //  who it is (unpacked copy)
    Pmo__Identity identity;           //  points into token
    char *org_unit, *project, *types; //  the filter's values (owned)
    gateway_event_filter_t filter;
    int heartbeat_ms;
    int64_t next_heartbeat; //  monotonic
    char *out;              //  the queue: bytes to send are out[out_pos..out_size)
    size_t out_size, out_pos, out_cap;
    size_t queue_max;  //  bytes waiting at most; past it the client is dropped
    char last_id[112]; //  the SSE id of the last event queued
    gateway_metrics_t *metrics;
};

static void s_append (gateway_sse_t *self, const char *text, size_t len)
{
    //  Keep the queue at the front: what was sent is dropped
    if (self->out_pos > 0 &&
        (self->out_pos == self->out_size || self->out_pos >= self->out_cap / 2)) {
        memmove (self->out, self->out + self->out_pos, self->out_size - self->out_pos);
        self->out_size -= self->out_pos;
        self->out_pos = 0;
    }
    if (self->out_size + len + 1 > self->out_cap) {
        size_t cap = self->out_cap ? self->out_cap * 2 : 4096;
        while (cap < self->out_size + len + 1)
            cap *= 2;
        self->out = realloc (self->out, cap);
        assert (self->out);
        self->out_cap = cap;
    }
    memcpy (self->out + self->out_size, text, len);
    self->out_size += len;
}

static size_t s_waiting (const gateway_sse_t *self)
{
    return self->out_size - self->out_pos;
}

//  The client reads too slowly: say so and end the stream. The queue is
//  not grown past its bound; what it holds is still sent, then the event
//  "dropped" (no id: an EventSource resumes from the last event it got).
static void s_drop (gateway_sse_t *self)
{
    char frame[256];
    int len = snprintf (frame, sizeof frame,
                        "event: dropped\ndata: {\"reason\":\"the client reads too slowly\","
                        "\"queued_bytes\":%zu,\"last_id\":\"%s\"}\n\n",
                        s_waiting (self), self->last_id);
    s_append (self, frame, (size_t)len);
    pmo_warn ("gateway: live-event client dropped subject=%s queued=%zu last_id=%s",
              self->identity.subject, s_waiting (self), self->last_id);
    gateway_metrics_sse_dropped (self->metrics);
    self->dropped = true;
    self->stopped = true;
}

static s_stream_t *s_find (gateway_sse_t *self, const char *division)
{
    for (size_t i = 0; i < self->n_streams; i++)
        if (strcmp (self->streams[i].division, division) == 0)
            return &self->streams[i];
    return NULL;
}

static void s_place (s_stream_t *stream, const char *cursor, bool inclusive)
{
    snprintf (stream->cursor, sizeof stream->cursor, "%s", cursor);
    if (gateway_feed_parse_id (stream->cursor, &stream->ms, &stream->seq))
        stream->ms = stream->seq = 0;
    stream->inclusive = inclusive;
}

static s_stream_t *s_add_stream (gateway_sse_t *self, const char *division)
{
    if (s_find (self, division) || self->n_streams == MAX_STREAMS)
        return NULL;
    s_stream_t *stream = &self->streams[self->n_streams++];
    stream->division = strdup (division);
    assert (stream->division);
    s_place (stream, "0-0", false);
    return stream;
}

gateway_sse_t *gateway_sse_new (const gateway_sse_config_t *config, gateway_feed_t *feed,
                                gateway_store_t *store, bool *bad_id)
{
    *bad_id = false;
    uint64_t resume_ms = 0, resume_seq = 0;
    char resume_division[64] = "";
    char resume_id[48] = "";
    if (config->last_event_id && *config->last_event_id) {
        const char *slash = strchr (config->last_event_id, '/');
        size_t len =
            slash ? (size_t)(slash - config->last_event_id) : strlen (config->last_event_id);
        if (len >= sizeof resume_id || (slash && strlen (slash + 1) >= sizeof resume_division)) {
            *bad_id = true;
            return NULL;
        }
        memcpy (resume_id, config->last_event_id, len);
        resume_id[len] = 0;
        if (slash)
            snprintf (resume_division, sizeof resume_division, "%s", slash + 1);
        if (gateway_feed_parse_id (resume_id, &resume_ms, &resume_seq)) {
            *bad_id = true;
            return NULL;
        }
    }
    if (!gateway_store_ready (store))
        return NULL;
    //  From now: where the shared reader is (a stream it did not follow
    //  yet starts at its newest entry)
    if (!*resume_id && gateway_feed_follow (feed, store, config->divisions))
        return NULL;
    gateway_sse_t *self = calloc (1, sizeof (gateway_sse_t));
    assert (self);
    self->all_divisions = config->all_divisions;
    for (size_t i = 0; config->divisions[i]; i++) {
        s_stream_t *stream = s_add_stream (self, config->divisions[i]);
        if (!stream)
            continue;
        if (*resume_id)
            //  Entries with the same id in a division ordered after the
            //  resumed one's were not sent yet
            s_place (stream, resume_id,
                     *resume_division && strcmp (stream->division, resume_division) > 0);
        else
            s_place (stream, gateway_feed_cursor (feed, stream->division), false);
    }
    if (*resume_id) {
        //  Catching up: its own reader until it reaches the present
        self->own = gateway_feed_new (self->all_divisions);
        for (size_t i = 0; i < self->n_streams; i++)
            gateway_feed_follow_from (self->own, self->streams[i].division, self->streams[i].cursor,
                                      self->streams[i].inclusive);
    }
    self->token = (Pmo__ApiToken *)pmo_reflect_dup (&config->token->base);
    assert (self->token);
    pmo__identity__init (&self->identity);
    self->identity.subject = self->token->subject;
    self->identity.grants = self->token->grants;
    self->identity.n_grants = self->token->n_grants;
    self->org_unit = strdup (config->filter.org_unit ? config->filter.org_unit : "");
    self->project = strdup (config->filter.project ? config->filter.project : "");
    self->types = strdup (config->filter.types ? config->filter.types : "");
    self->filter = (gateway_event_filter_t){
        .org_unit = self->org_unit, .project = self->project, .types = self->types};
    self->connection = config->connection;
    self->clients = config->clients;
    self->wake = config->wake;
    zlistx_add_end (self->clients, self);
    self->heartbeat_ms = config->heartbeat_ms;
    self->next_heartbeat = pmo_mono_ms () + self->heartbeat_ms;
    self->queue_max = config->queue_max ? config->queue_max : GATEWAY_SSE_QUEUE_DEFAULT;
    self->metrics = config->metrics;
    gateway_metrics_sse (self->metrics, 1);
    const char *hello = "retry: 3000\n: connected\n\n";
    s_append (self, hello, strlen (hello));
    return self;
}

void gateway_sse_free (void *cls)
{
    gateway_sse_t *self = cls;
    if (!self)
        return;
    gateway_metrics_sse (self->metrics, -1);
    void *handle = zlistx_find (self->clients, self);
    if (handle)
        zlistx_delete (self->clients, handle);
    for (size_t i = 0; i < self->n_streams; i++)
        free (self->streams[i].division);
    gateway_feed_destroy (&self->own);
    if (self->token)
        pmo__api_token__free_unpacked (self->token, NULL);
    free (self->org_unit);
    free (self->project);
    free (self->types);
    free (self->out);
    free (self);
}

//  Take an entry if it is for the client. false when its queue is full
//  and it may wait (catching up): the entry is taken again later.
static bool s_take (gateway_sse_t *self, gateway_feed_entry_t *entry, bool may_wait)
{
    if (self->stopped)
        return true;
    Pmo__Event *event = entry->event;
    s_stream_t *stream = s_find (self, entry->division);
    //  Not its stream, or sent already (the reader may be behind a client
    //  that caught up on its own)
    if (!stream || entry->ms < stream->ms ||
        (entry->ms == stream->ms &&
         (entry->seq < stream->seq || (entry->seq == stream->seq && !stream->inclusive))))
        return true;
    if (gateway_event_visible (&self->identity, event) &&
        gateway_event_matches (&self->filter, event)) {
        //  Catching up: no more while the queue is over half full (the
        //  client's reads wake the reactor once it is not)
        if (may_wait && s_waiting (self) > self->queue_max / 2) {
            self->hungry = true;
            return false;
        }
        size_t size;
        const char *frame = gateway_feed_frame (entry, &self->identity, &size);
        //  (An empty queue takes any one event, however large)
        if (frame && s_waiting (self) > 0 && s_waiting (self) + size > self->queue_max) {
            if (may_wait) {
                self->hungry = true;
                return false;
            }
            s_drop (self);
            return true;
        }
        if (frame) {
            s_append (self, frame, size);
            snprintf (self->last_id, sizeof self->last_id, "%s/%s", entry->id, entry->division);
        }
    }
    s_place (stream, entry->id, false);
    if (self->all_divisions && event->body_case == PMO__EVENT__BODY_ORG_UNIT_SNAPSHOT &&
        event->org_unit_snapshot &&
        event->org_unit_snapshot->kind == PMO__ORG_UNIT_KIND__ORG_UNIT_KIND_DIVISION &&
        event->type && strcmp (event->type, "org_unit.created") == 0)
        s_add_stream (self, event->org_unit_snapshot->id);
    return true;
}

void gateway_sse_offer (gateway_sse_t *self, gateway_feed_entry_t *entry)
{
    s_take (self, entry, false);
}

static bool s_offer (void *ctx, gateway_feed_entry_t *entry)
{
    return s_take ((gateway_sse_t *)ctx, entry, true);
}

bool gateway_sse_live (gateway_sse_t *self)
{
    return self->own == NULL;
}

int gateway_sse_catch_up (gateway_sse_t *self, gateway_feed_t *feed, gateway_store_t *store,
                          bool *org_units)
{
    *org_units = false;
    if (!self->own || self->stopped)
        return 0;
    //  History goes out as fast as the client takes it, not faster
    if (s_waiting (self) > self->queue_max / 2) {
        self->hungry = true;
        return 0;
    }
    int rc = gateway_feed_pump (self->own, store, s_offer, self, org_units);
    if (rc != 0)
        return rc;
    //  Caught up. This read came after the shared reader's in this pass,
    //  so the client is at or past it in every stream: it joins, and
    //  skips what it sent already. A stream the shared reader does not
    //  follow yet is followed from where the client is.
    for (size_t i = 0; i < self->n_streams; i++)
        gateway_feed_follow_from (feed, self->streams[i].division, self->streams[i].cursor, false);
    gateway_feed_destroy (&self->own);
    return 0;
}

void gateway_sse_tick (gateway_sse_t *self, int64_t now)
{
    if (now < self->next_heartbeat || self->stopped)
        return;
    char line[64];
    int len = snprintf (line, sizeof line, ": heartbeat %lld\n\n", (long long)pmo_now_ms ());
    s_append (self, line, (size_t)len);
    self->next_heartbeat = now + self->heartbeat_ms;
}

void gateway_sse_wake (gateway_sse_t *self)
{
    if (self->suspended && (self->out_pos < self->out_size || self->stopped)) {
        self->suspended = false;
        MHD_resume_connection (self->connection);
    }
}

void gateway_sse_stop (gateway_sse_t *self)
{
    self->stopped = true;
    gateway_sse_wake (self);
}

ssize_t gateway_sse_read (void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    gateway_sse_t *self = cls;
    if (self->out_pos < self->out_size) {
        size_t len = self->out_size - self->out_pos;
        if (len > max)
            len = max;
        memcpy (buf, self->out + self->out_pos, len);
        self->out_pos += len;
        if (self->hungry && s_waiting (self) <= self->queue_max / 2) {
            //  Room again for the history it is catching up on
            self->hungry = false;
            *self->wake = true;
        }
        if (self->out_pos == self->out_size && self->out_cap > SHRINK_OVER) {
            free (self->out);
            self->out = NULL;
            self->out_cap = self->out_size = self->out_pos = 0;
        }
        return (ssize_t)len;
    }
    if (self->stopped)
        return MHD_CONTENT_READER_END_OF_STREAM;
    //  Nothing to send: wait (suspended) until the reactor has something
    self->suspended = true;
    MHD_suspend_connection (self->connection);
    return 0;
}
