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
#include "pmo_redis.h"
#include "pmo_stream.h"
#include "pmo_util.h"

#include <stdbool.h>
#include <stdint.h>

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

//  Bind an Idempotency-Key (binding: "<token id>.<key hash>") to the
//  fingerprint of the request it came with, for a day. 1: bound now or
//  already to this fingerprint; 0: bound to another; -1: Redis failed.
int gateway_store_idem_bind (gateway_store_t *self, const char *binding, const char *fingerprint);

//  ---------------------------------------------------------------------
//  The division event streams, read only (live events, /metrics and the
//  audit trail)

//  Up to count entries of division's stream newest first, from upper down
//  to floor (pmo_stream_range_back). 0 or -1.
int gateway_store_stream_back (gateway_store_t *self, const char *division, const char *upper,
                               bool inclusive, const char *floor, size_t count,
                               pmo_stream_batch_t *batch);

//  Redis is connected (or could be connected again now).
bool gateway_store_ready (gateway_store_t *self);

//  A reader's place in one division's stream.
typedef struct {
    char *division;  //  the division (owned by the reader)
    char cursor[48]; //  the last id delivered, or where to start
    bool inclusive;  //  the next read includes cursor itself
} gateway_stream_t;

//  Set each stream's cursor to its newest entry (an empty stream's is left
//  as it is), in one round trip. 0, or -1 if Redis failed.
int gateway_store_streams_newest (gateway_store_t *self, gateway_stream_t *streams, size_t n);

//  Redis's clock (*now_ms: a reader sends only entries whose millisecond is
//  over by it) and up to count entries after each stream's cursor, in one
//  round trip. (*replies)[i] is stream i's XRANGE reply (an array of
//  [id, [field, value, ...]]), NULL if the connection failed on it; free
//  them with gateway_store_replies_free. -1 (nothing to free) if Redis
//  failed before any stream was read.
int gateway_store_streams_read (gateway_store_t *self, const gateway_stream_t *streams, size_t n,
                                int count, uint64_t *now_ms, redisReply ***replies);
void gateway_store_replies_free (redisReply ***replies_p, size_t n);

//  What /metrics says of one consumer group of a stream (-1: not known).
typedef struct {
    char name[64];
    long long pending; //  delivered and not acknowledged
    long long lag;     //  not delivered yet: entries after its last-delivered id
} gateway_group_figures_t;

//  The length of a division's stream (*length -1 if not known) and up to
//  max of its consumer groups (*n of them).
void gateway_store_stream_figures (gateway_store_t *self, const char *division, long long *length,
                                   gateway_group_figures_t *groups, size_t max, size_t *n);

//  Single sign-on (gateway_session.c). A sign-in under way: its state
//  value maps to what the callback needs (JSON text), for ttl_s; taken
//  once. 0, or -1 if Redis failed. This, session_put and session_drop
//  answer 0 only once the Redis URL's replicas hold the write
//  (pmo_redis_wait_replicas): -1 otherwise, and the caller answers 503.
int gateway_store_login_put (gateway_store_t *self, const char *state, const char *json, int ttl_s);
//  Take (read and delete) a sign-in: 1 with *json (malloc'd), 0, -1.
int gateway_store_login_take (gateway_store_t *self, const char *state, char **json);
//  A session under the hash of its cookie: the caller it makes (packed
//  ApiToken) and the provider's ID token (for sign-out), for ttl_s.
int gateway_store_session_put (gateway_store_t *self, const char *hash, const uint8_t *blob,
                               size_t size, const char *id_token, int ttl_s);
//  A session: 1 with *token (in arena) and *id_token (in arena), 0, -1.
int gateway_store_session_get (gateway_store_t *self, pmo_arena_t *arena, const char *hash,
                               Pmo__ApiToken **token, char **id_token);
//  Sign-out. 0, or -1 if Redis failed.
int gateway_store_session_drop (gateway_store_t *self, const char *hash);

#endif
