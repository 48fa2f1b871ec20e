/*  gateway_store.h: the gateway's Redis layout. This is the only file that
    spells the keys the gateway touches: its own API tokens (which it
    writes, through one pmo_commit per change) and the division event
    streams of the services (which it only reads: live-event replay and the
    queue figures of /metrics).

    Reads return 1 (found), 0 (absent) or -1 (Redis unavailable).
*/
#ifndef GATEWAY_STORE_H_INCLUDED
#define GATEWAY_STORE_H_INCLUDED

#include "gateway.pb-c.h"
#include "events.pb-c.h"
#include "pmo_commit.h"
#include "pmo_util.h"

typedef struct _gateway_store_t gateway_store_t;

//  redis is not owned. hub: the enterprise org unit id, whose hash tag holds
//  the tokens.
gateway_store_t *gateway_store_new (pmo_redis_t *redis, const char *hub);
void gateway_store_destroy (gateway_store_t **self_p);

//  A token by id; *version is its stored version.
int gateway_store_read (gateway_store_t *self, pmo_arena_t *arena, const char *id,
                        Pmo__ApiToken **token, uint64_t *version);
//  The stored reply of a token request already done (1), or 0.
int gateway_store_replay (gateway_store_t *self, pmo_arena_t *arena, const char *request_id,
                          uint8_t **reply, size_t *size);
//  A sequence number for a new token (its place in the list).
int gateway_store_next_seq (gateway_store_t *self, uint64_t *seq);
//  Token ids after score `after`, in creation order.
int gateway_store_page (gateway_store_t *self, pmo_arena_t *arena, double after, size_t count,
                        char ***ids, double **scores, size_t *n);
//  Write a token (expect: its stored version, 0 for new) with its event
//  and the request's reply, in one commit. seq > 0 adds it to the list.
//  Returns the commit status; *stream_id (64 bytes) is the event's id.
pmo_commit_status_t gateway_store_commit (gateway_store_t *self, pmo_arena_t *arena,
                                          const char *request_id, const Pmo__ApiToken *token,
                                          uint64_t expect, uint64_t seq, const Pmo__Event *event,
                                          const void *reply, size_t reply_size, char *stream_id);

//  The event stream of a division (caller's buffer).
const char *gateway_store_stream_key (const char *division, char *buf, size_t size);

#endif
