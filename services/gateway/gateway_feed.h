/*  gateway_feed.h: the one reader of the division streams for every
    live-event client of a gateway (GET /api/v1/events).

    It keeps one cursor per division stream that some client reads, reads
    them all in one round trip when the services' PUB wakes the gateway
    (or on the sweep), merges what it read in the live-event order (by
    stream id, then division; an entry only once its millisecond is over
    by Redis's clock, see gateway_sse.h), decodes each event once, and
    hands it to every client (gateway_sse_offer), which sends it only if
    its grants and filter allow. So the Redis work of live events does not
    grow with the number of clients: 1,000 clients cost what one does.

    A stream is followed from its newest entry when a client first needs
    it, from the start when its division is created while the gateway
    runs, or from where a client that resumed (Last-Event-ID) caught up.
*/
#ifndef GATEWAY_FEED_H_INCLUDED
#define GATEWAY_FEED_H_INCLUDED

#include "gateway_store.h"

#include "events.pb-c.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct _gateway_feed_t gateway_feed_t;

//  One entry read, as every client is offered it.
typedef struct {
    const char *division; //  whose stream
    const char *id;       //  its stream id
    uint64_t ms, seq;     //  the id's parts
    Pmo__Event *event;    //  decoded once (its id is the stream id)
    char *frame;          //  the SSE frame, made by the first client that sends it (owned)
    size_t frame_size;
    char *redacted; //  ... and as those who are not its stewards see it (owned)
    size_t redacted_size;
} gateway_feed_entry_t;

//  follow_new: follow a division created while it runs (an org_unit.created
//  event of a division read in a stream), from its start.
gateway_feed_t *gateway_feed_new (bool follow_new);
void gateway_feed_destroy (gateway_feed_t **self_p);

//  Follow the divisions' streams (NULL-terminated); those not followed yet
//  start at their newest entry, read now in one round trip. 0, or -1 if
//  Redis failed (nothing new is followed).
int gateway_feed_follow (gateway_feed_t *self, gateway_store_t *store,
                         const char *const *divisions);
//  Follow a division's stream after cursor (a stream id; "0-0" from its
//  start; inclusive: cursor's own entry too) unless it is followed
//  already. No Redis.
void gateway_feed_follow_from (gateway_feed_t *self, const char *division, const char *cursor,
                               bool inclusive);
//  Follow nothing (every client has gone: the next one starts from now).
void gateway_feed_reset (gateway_feed_t *self);
//  Where the feed is in a division's stream (the last id handed out, or
//  where it started); NULL if it does not follow it.
const char *gateway_feed_cursor (gateway_feed_t *self, const char *division);

//  Called with each entry, in order; false: stop here (the entry and the
//  rest of this read are handed out again by the next pump).
typedef bool (gateway_feed_fn) (void *ctx, gateway_feed_entry_t *entry);

//  Read what is new in every followed stream and hand each entry that is
//  complete to fn, in order (until fn says stop). *org_units: an org_unit.* event was read (the
//  org-unit tree that placed the clients is stale). 0, 1 if more is
//  waiting (pump again soon), -1 if Redis failed.
int gateway_feed_pump (gateway_feed_t *self, gateway_store_t *store, gateway_feed_fn *fn, void *ctx,
                       bool *org_units);

//  The SSE frame of an entry as who sees it ("id:", "event:", "data:" the
//  event as JSON, gateway_event_redact applied), made once per form and
//  kept in the entry. NULL if it cannot be encoded.
const char *gateway_feed_frame (gateway_feed_entry_t *entry, const Pmo__Identity *who,
                                size_t *size);

//  Parse a stream id "<ms>-<seq>". 0 or -1.
int gateway_feed_parse_id (const char *id, uint64_t *ms, uint64_t *seq);

#endif
