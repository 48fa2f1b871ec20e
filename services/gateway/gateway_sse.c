/*  gateway_sse.c: one live-event client. See gateway_sse.h for the order
    and resume rules.
*/
#include "gateway_sse.h"
#include "gateway_store.h"

#include "pmo_json.h"
#include "pmo_log.h"
#include "pmo_reflect.h"
#include "pmo_util.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#define READ_COUNT  200 //  entries per stream per read
#define MAX_STREAMS 256

//  A stream's place (gateway_store.h): division, cursor, and whether the
//  next read includes the cursor (the resume tie rule)
typedef gateway_stream_t stream_t;

//  An entry read, waiting to be merged.
typedef struct {
    uint64_t ms, seq;
    size_t stream;        //  index into streams
    const char *division; //  the stream's division: breaks ties between equal ids
    char id[48];
    char *data; //  the pmo.Event blob
    size_t size;
} entry_t;

struct _gateway_sse_t {
    struct MHD_Connection *connection;
    bool suspended;    //  waiting for something to send
    bool stopped;      //  end the stream at the next read
    bool org_units;    //  an org_unit.* event was read since the last pump
    zlistx_t *clients; //  the reactor's list (not owned)
    stream_t streams[MAX_STREAMS];
    size_t n_streams;
    bool all_divisions;               //  add divisions created later
    Pmo__ApiToken *token;             //  who it is (unpacked copy)
    Pmo__Identity identity;           //  points into token
    char *org_unit, *project, *types; //  the filter's values (owned)
    gateway_event_filter_t filter;
    int heartbeat_ms;
    int64_t next_heartbeat; //  monotonic
    char *out;              //  bytes to send
    size_t out_size, out_pos;
    gateway_metrics_t *metrics;
};

static void s_append (gateway_sse_t *self, const char *text, size_t len)
{
    if (self->out_pos == self->out_size) {
        self->out_pos = self->out_size = 0;
    }
    self->out = realloc (self->out, self->out_size + len + 1);
    assert (self->out);
    memcpy (self->out + self->out_size, text, len);
    self->out_size += len;
}

static int s_parse_id (const char *id, uint64_t *ms, uint64_t *seq)
{
    char *end = NULL;
    *ms = strtoull (id, &end, 10);
    if (!end || end == id || *end != '-')
        return -1;
    const char *rest = end + 1;
    *seq = strtoull (rest, &end, 10);
    return end && end != rest && *end == 0 ? 0 : -1;
}

static stream_t *s_add_stream (gateway_sse_t *self, const char *division)
{
    for (size_t i = 0; i < self->n_streams; i++)
        if (strcmp (self->streams[i].division, division) == 0)
            return NULL;
    if (self->n_streams == MAX_STREAMS)
        return NULL;
    stream_t *stream = &self->streams[self->n_streams++];
    stream->division = strdup (division);
    assert (stream->division);
    snprintf (stream->cursor, sizeof stream->cursor, "0-0");
    stream->inclusive = false;
    return stream;
}

gateway_sse_t *gateway_sse_new (const gateway_sse_config_t *config, gateway_store_t *store,
                                bool *bad_id)
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
        if (s_parse_id (resume_id, &resume_ms, &resume_seq)) {
            *bad_id = true;
            return NULL;
        }
    }
    if (!gateway_store_ready (store))
        return NULL;
    gateway_sse_t *self = calloc (1, sizeof (gateway_sse_t));
    assert (self);
    self->all_divisions = config->all_divisions;
    for (size_t i = 0; config->divisions[i]; i++)
        s_add_stream (self, config->divisions[i]);
    if (*resume_id) {
        for (size_t i = 0; i < self->n_streams; i++) {
            stream_t *stream = &self->streams[i];
            snprintf (stream->cursor, sizeof stream->cursor, "%s", resume_id);
            //  Entries with the same id in a division ordered after the
            //  resumed one's were not sent yet
            stream->inclusive = *resume_division && strcmp (stream->division, resume_division) > 0;
        }
    } else if (gateway_store_streams_newest (store, self->streams, self->n_streams)) {
        for (size_t i = 0; i < self->n_streams; i++)
            free (self->streams[i].division);
        free (self);
        return NULL;
    }
    size_t size = protobuf_c_message_get_packed_size (&config->token->base);
    uint8_t *blob = malloc (size ? size : 1);
    assert (blob);
    protobuf_c_message_pack (&config->token->base, blob);
    self->token = pmo__api_token__unpack (NULL, size, blob);
    free (blob);
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
    zlistx_add_end (self->clients, self);
    self->heartbeat_ms = config->heartbeat_ms;
    self->next_heartbeat = pmo_mono_ms () + self->heartbeat_ms;
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
    if (self->token)
        pmo__api_token__free_unpacked (self->token, NULL);
    free (self->org_unit);
    free (self->project);
    free (self->types);
    free (self->out);
    free (self);
}

static int s_entry_cmp (const void *a, const void *b)
{
    const entry_t *x = a, *y = b;
    if (x->ms != y->ms)
        return x->ms < y->ms ? -1 : 1;
    if (x->seq != y->seq)
        return x->seq < y->seq ? -1 : 1;
    return strcmp (x->division, y->division);
}

//  Send one committed event if the client may see it and asked for it.
static void s_deliver (gateway_sse_t *self, const entry_t *entry)
{
    stream_t *stream = &self->streams[entry->stream];
    Pmo__Event *event = pmo__event__unpack (NULL, entry->size, (const uint8_t *)entry->data);
    if (!event) {
        pmo_warn ("gateway: undecodable event division=%s id=%s", stream->division, entry->id);
        return;
    }
    if (event->type && strncmp (event->type, "org_unit.", 9) == 0)
        self->org_units = true;
    if (self->all_divisions && event->body_case == PMO__EVENT__BODY_ORG_UNIT_SNAPSHOT &&
        event->org_unit_snapshot &&
        event->org_unit_snapshot->kind == PMO__ORG_UNIT_KIND__ORG_UNIT_KIND_DIVISION &&
        strcmp (event->type, "org_unit.created") == 0)
        s_add_stream (self, event->org_unit_snapshot->id);
    if (gateway_event_visible (&self->identity, event) &&
        gateway_event_matches (&self->filter, event)) {
        gateway_event_redact (&self->identity, event);
        char *original = event->id;
        event->id = (char *)entry->id;
        char *json = pmo_json_encode (&event->base);
        event->id = original;
        if (json) {
            char type[96];
            snprintf (type, sizeof type, "%s", event->type);
            for (char *c = type; *c; c++)
                if (*c == '\r' || *c == '\n')
                    *c = ' ';
            char *frame = NULL;
            int len = asprintf (&frame, "id: %s/%s\nevent: %s\ndata: %s\n\n", entry->id,
                                stream->division, type, json);
            assert (len > 0);
            s_append (self, frame, (size_t)len);
            free (frame);
            free (json);
        }
    }
    pmo__event__free_unpacked (event, NULL);
}

//  Read every stream after its cursor and send what is complete, in order.
//  Returns 0, 1 when more is waiting (read again soon), -1 if Redis failed.
int gateway_sse_pump (gateway_sse_t *self, gateway_store_t *store, bool *org_units)
{
    *org_units = false;
    size_t n = self->n_streams;
    if (self->stopped)
        return 0;
    uint64_t now_ms;
    redisReply **replies;
    if (gateway_store_streams_read (store, self->streams, n, READ_COUNT, &now_ms, &replies))
        return -1;
    entry_t *entries = NULL;
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
        entries = realloc (entries, (count + reply->elements + 1) * sizeof (entry_t));
        assert (entries);
        for (size_t e = 0; e < reply->elements; e++) {
            redisReply *item = reply->element[e];
            if (item->type != REDIS_REPLY_ARRAY || item->elements != 2)
                continue;
            entry_t *entry = &entries[count];
            memset (entry, 0, sizeof *entry);
            if (s_parse_id (item->element[0]->str, &entry->ms, &entry->seq))
                continue;
            if (entry->ms >= now_ms) {
                //  Its millisecond is not over: another stream may still get
                //  an earlier id. Later entries of this stream wait too.
                rc = rc < 0 ? rc : 1;
                break;
            }
            snprintf (entry->id, sizeof entry->id, "%s", item->element[0]->str);
            entry->stream = i;
            entry->division = self->streams[i].division;
            redisReply *fields = item->element[1];
            for (size_t f = 0; fields->type == REDIS_REPLY_ARRAY && f + 1 < fields->elements;
                 f += 2)
                if (strcmp (fields->element[f]->str, "data") == 0) {
                    entry->data = fields->element[f + 1]->str;
                    entry->size = fields->element[f + 1]->len;
                }
            if (entry->data)
                count++;
            else {
                //  Not an event entry; step over it
                snprintf (self->streams[i].cursor, sizeof self->streams[i].cursor, "%s",
                          item->element[0]->str);
                self->streams[i].inclusive = false;
            }
        }
    }
    //  Merge: by id, then by division
    //  qsort wants a valid array even for nothing to sort
    if (count > 1)
        qsort (entries, count, sizeof (entry_t), s_entry_cmp);
    for (size_t i = 0; i < count; i++) {
        stream_t *stream = &self->streams[entries[i].stream];
        snprintf (stream->cursor, sizeof stream->cursor, "%s", entries[i].id);
        stream->inclusive = false;
        s_deliver (self, &entries[i]);
    }
    free (entries);
    gateway_store_replies_free (&replies, n);
    *org_units = self->org_units;
    self->org_units = false;
    return rc;
}

void gateway_sse_tick (gateway_sse_t *self, int64_t now)
{
    if (now < self->next_heartbeat)
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
    gateway_sse_t *self = cls;
    if (self->out_pos < self->out_size) {
        size_t len = self->out_size - self->out_pos;
        if (len > max)
            len = max;
        memcpy (buf, self->out + self->out_pos, len);
        self->out_pos += len;
        return (ssize_t)len;
    }
    if (self->stopped)
        return MHD_CONTENT_READER_END_OF_STREAM;
    //  Nothing to send: wait (suspended) until the reactor has something
    self->suspended = true;
    MHD_suspend_connection (self->connection);
    return 0;
}
