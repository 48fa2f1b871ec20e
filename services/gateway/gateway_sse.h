/*  gateway_sse.h: one live-event client (GET /api/v1/events).

    Events are read from the division streams in Redis, never taken from
    the PUB sockets' payloads: PUB/SUB only tells the gateway to look (and a
    sweep every second covers a lost wake-up), so what a client receives is
    exactly what was committed, in one total order, and a reconnecting
    client resumes from Last-Event-ID without loss or duplicates.

    The order: by stream id, then division. An entry is sent only once its
    millisecond is over by Redis's clock (TIME), because no stream can get
    an id in a millisecond that has passed; so nothing can later appear
    before what was already sent. Each event's SSE id is
    "<stream id>/<division>"; Last-Event-ID resumes after it (a bare
    stream id is accepted too).

    One reader for every client (gateway_feed.h): the gateway reads each
    stream once per wake-up and offers each entry to every client, which
    queues it if its grants and filter allow. A client that resumes reads
    its history with its own reader until it has caught up, then joins.

    Each client's queue is bounded (--sse-queue bytes): a client that reads
    more slowly than events come is sent the event "dropped" (data: the
    reason, the bytes waiting and the id of the last event queued; no id of
    its own) after what is queued, and the stream ends. An EventSource
    reconnects with the Last-Event-ID it last received and resumes without
    loss. Memory does not grow with a slow client: at most the bound per
    client. (History is sent as fast as the client takes it: a resuming
    client's own reader waits while its queue is more than half full.)

    Everything here runs on the gateway's reactor thread: the reactor pumps
    the reader when a wake-up or the sweep comes, and a client with
    nothing to send is suspended (libmicrohttpd) until it has.
*/
#ifndef GATEWAY_SSE_H_INCLUDED
#define GATEWAY_SSE_H_INCLUDED

#include "gateway_feed.h"
#include "gateway_metrics.h"
#include "gateway_model.h"
#include "gateway_store.h"

#include <czmq.h>
#include <microhttpd.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct _gateway_sse_t gateway_sse_t;

#define GATEWAY_SSE_QUEUE_DEFAULT 262144 //  bytes waiting for a client at most

typedef struct {
    struct MHD_Connection *connection; //  the client's connection
    const char *const *divisions;      //  the streams it may read, NULL-terminated
    bool all_divisions;                //  it may read every division (a grant at the hub):
                                       //  divisions created later are added
    const Pmo__ApiToken *token;        //  who it is (copied)
    gateway_event_filter_t filter;     //  what it asked for (copied)
    const char *last_event_id;         //  resume after this; NULL = from now
    int heartbeat_ms;                  //  a comment line at least this often
    gateway_metrics_t *metrics;        //  counts the client
    zlistx_t *clients;                 //  the reactor's list: the client is in it while it lives
    bool *wake;                        //  set when the reactor should read again soon
    size_t queue_max;                  //  bytes waiting at most (0: GATEWAY_SSE_QUEUE_DEFAULT)
} gateway_sse_config_t;

//  Place the cursors: from now, where the shared reader feed is (it
//  follows the client's streams, reading Redis for those it did not);
//  after last_event_id, with a reader of its own until it catches up.
//  NULL if Redis cannot be read (the caller answers 503) or last_event_id
//  is malformed (*bad_id set: 400).
gateway_sse_t *gateway_sse_new (const gateway_sse_config_t *config, gateway_feed_t *feed,
                                gateway_store_t *store, bool *bad_id);

//  An entry the shared reader read: queued if it is in one of the client's
//  streams, past what it was sent, and its grants and filter allow.
void gateway_sse_offer (gateway_sse_t *self, gateway_feed_entry_t *entry);
//  True once the client takes its events from the shared reader.
bool gateway_sse_live (gateway_sse_t *self);
//  A resuming client reads its history (after the shared reader's read in
//  the same pass); caught up, it joins feed. 0, 1 if more is waiting, -1
//  if Redis failed. *org_units as gateway_feed_pump.
int gateway_sse_catch_up (gateway_sse_t *self, gateway_feed_t *feed, gateway_store_t *store,
                          bool *org_units);
//  Add a heartbeat if one is due.
void gateway_sse_tick (gateway_sse_t *self, int64_t now_mono_ms);
//  Let a suspended client go on if it has something to send.
void gateway_sse_wake (gateway_sse_t *self);
//  End the stream (the gateway is stopping).
void gateway_sse_stop (gateway_sse_t *self);

//  libmicrohttpd content reader: what is buffered, or suspend until there is.
ssize_t gateway_sse_read (void *cls, uint64_t pos, char *buf, size_t max);
//  libmicrohttpd free callback: leaves the reactor's list.
void gateway_sse_free (void *cls);

#endif
