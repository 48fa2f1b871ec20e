/*  federation_store.h: the federation's Redis layout, for both sides.

    At the hub (its own Redis, hash tag of the hub's division id):
    pmo:{<hub>}:fed:hw                  hash division -> last stream id applied
    pmo:{<hub>}:fed:ent:<division>      hash "<kind>:<id>" -> pmo.Event (latest snapshot)
    pmo:{<hub>}:fed:ver:<division>      hash "<kind>:<id>" -> entity version held
    pmo:{<hub>}:fed:types:<division>    hash event type -> events applied
    pmo:{<hub>}:fed:roll:<division>     hash counter -> value: the division's roll-up,
                                        counted as events arrive ("_v" complete,
                                        "_u" latest entity time; federation_model.h)
    pmo:{<hub>}:fed:contrib:<division>  hash "<kind>:<id>" -> what the held snapshot
                                        adds to the counters
    pmo:{<hub>}:fed:spoke:<name>        hash what the spoke last reported and its counters
    pmo:{<hub>}:fed:xdiv:q:<division>   zset delivery key -> time queued (the order)
    pmo:{<hub>}:fed:xdiv:d:<division>   hash delivery key -> XdivDelivery

    At a spoke (the spoke's Redis):
    pmo:{<division>}:events             the division's stream (the registry's and the
                                        other services'); read with consumer group "hub"
    pmo:{<hub>}:fed:uplink:<spoke>      hash policy_version, policy_error, applied_ms
*/
#ifndef FEDERATION_STORE_H_INCLUDED
#define FEDERATION_STORE_H_INCLUDED

#include "events.pb-c.h"
#include "federation.pb-c.h"
#include "federation_model.h"
#include "pmo_redis.h"
#include "pmo_stream.h"
#include "pmo_util.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FEDERATION_GROUP "hub" //  the consumer group of the uplink on every division stream

typedef struct _federation_store_t federation_store_t;

//  hub: the hub's division id (the hash tag of every hub-side key).
federation_store_t *federation_store_new (pmo_redis_t *redis, const char *hub);
void federation_store_destroy (federation_store_t **self_p);

//  ---------------------------------------------------------------------
//  Hub side

//  One event to apply (pointers owned by the caller).
typedef struct {
    const char *stream_id;
    const char *field; //  "<kind>:<id>" or NULL when the event holds no entity
    uint64_t version;  //  the entity's version (0: always the latest)
    const uint8_t *blob;
    size_t size;
    const char *type;
    const char *contribution; //  federation_rollup_contribution ("" or NULL: nothing)
    int64_t time_ms;          //  the event's time
} federation_apply_t;

//  Apply a spoke's events of one division in one atomic step: events at or
//  below the division's high-water mark are duplicates and change nothing;
//  the others replace the entity they describe (unless the hub holds a
//  newer version), count by type, and move the mark. 0, or -1 if Redis
//  failed (nothing or everything was applied: a resend is safe).
int federation_store_apply (federation_store_t *self, const char *spoke, const char *division,
                            const federation_apply_t *events, size_t n, uint32_t *applied,
                            uint32_t *duplicates, char *last_id, size_t last_id_size);

//  The roll-up counters of each of n divisions, pipelined (one round trip
//  for all): into[i] gets division i's counters added (arena), built[i]
//  says whether the division has them (false: the hub has held nothing of
//  it since it kept counters; federation_store_entities still has its
//  snapshots); types[i] / n_types[i] its events applied by type. 0 or -1.
int federation_store_rollups (federation_store_t *self, pmo_arena_t *arena,
                              const char *const *divisions, size_t n, federation_rollup_t *into,
                              bool *built, Pmo__Count ***types, size_t *n_types);

//  The division's high-water mark ("" if none). 0 or -1.
int federation_store_high_water (federation_store_t *self, const char *division, char *out,
                                 size_t size);

//  Save what a spoke reported (the fields of spoke that it reports).
int federation_store_spoke_save (federation_store_t *self, const Pmo__Spoke *spoke);
//  Fill spoke's stored fields (counters, last report) by its name. 0 (an
//  unknown spoke keeps zeros) or -1.
int federation_store_spoke_load (federation_store_t *self, Pmo__Spoke *spoke, pmo_arena_t *arena);
//  Count a refused push for the spoke.
int federation_store_spoke_refused (federation_store_t *self, const char *spoke);

//  Every entity the hub holds for a division, decoded into arena.
int federation_store_entities (federation_store_t *self, pmo_arena_t *arena, const char *division,
                               Pmo__Event ***events, size_t *n);
//  One page of the division's entities of a kind (HSCAN order; cursor "0"
//  or "" starts, *next "" when done).
int federation_store_entity_page (federation_store_t *self, pmo_arena_t *arena,
                                  const char *division, const char *kind, const char *cursor,
                                  size_t limit, Pmo__Event ***events, size_t *n, char **next);

//  ---------------------------------------------------------------------
//  Hub side: cross-division deliveries (federation_xdiv.h)

//  Queue each delivery for its division unless one with its key is queued
//  already (so a resent push queues nothing twice), in one atomic step;
//  each delivery's queued_ms is set. 0, or -1 if Redis failed.
int federation_store_xdiv_enqueue (federation_store_t *self, Pmo__XdivDelivery *const *deliveries,
                                   size_t n, pmo_arena_t *arena);
//  The delivery queued under key for division (arena); NULL if none, or
//  if Redis failed (then *failed is set).
Pmo__XdivDelivery *federation_store_xdiv_get (federation_store_t *self, const char *division,
                                              const char *key, pmo_arena_t *arena, bool *failed);
//  The keys of up to max deliveries waiting for division, oldest first
//  (arena). 0, or -1 if Redis failed.
int federation_store_xdiv_waiting_keys (federation_store_t *self, const char *division, size_t max,
                                        pmo_arena_t *arena, char ***keys, size_t *n);
//  Forget the delivery key of division and, in the same step, if it was
//  still queued and refusal is not NULL, queue refusal (for its own
//  division). *forgot: it was still queued. 0, or -1 if Redis failed.
int federation_store_xdiv_done (federation_store_t *self, const char *division, const char *key,
                                Pmo__XdivDelivery *refusal, pmo_arena_t *arena, bool *forgot);
//  Deliveries waiting for these divisions (0 if Redis failed).
uint64_t federation_store_xdiv_count (federation_store_t *self, char *const *divisions,
                                      size_t n_divisions);

//  ---------------------------------------------------------------------
//  Spoke side

//  1 if more than ours entries older than id are pending in the hub group
//  of stream (so some are held by another reader of the stream: entries up
//  to id must not be pushed ahead of them), 0 if not, -1 if Redis failed.
int federation_store_older_pending (federation_store_t *self, const char *stream, const char *id,
                                    size_t ours);
//  The reader's lease of spoke's streams (pmo:{<hub>}:fed:uplink:<spoke>:reader,
//  the consumer name, for ttl_ms): 1 if consumer holds it now (taken, or
//  renewed), 0 if another does (its name in holder), -1 if Redis failed.
//  Taking and renewing are two commands each, not one step: two uplinks
//  may both read for a moment, which federation_store_older_pending keeps
//  safe.
int federation_store_reader_lease (federation_store_t *self, const char *spoke,
                                   const char *consumer, int ttl_ms, char *holder,
                                   size_t holder_size);
//  Create the hub group on stream (and the stream) if missing. 0 or -1.
int federation_store_group_ensure (federation_store_t *self, const char *stream);
//  The hub group's oldest unacknowledged entries of streams, then new ones
//  (pmo_stream_group_read with no idle time: every pending entry, whoever
//  it was given to; batch->reclaimed says where the new ones start), once
//  the URL's Redis replicas hold them
//  (pmo_redis_wait_replicas). 0 or -1 (nothing in batch).
int federation_store_read (federation_store_t *self, const char *consumer, const char **streams,
                           size_t n_streams, size_t count, int block_ms, pmo_stream_batch_t *batch);
//  Acknowledge entries of a stream for the hub group. 0 or -1.
int federation_store_ack (federation_store_t *self, const char *stream, const char **ids, size_t n);
//  How many entries of a stream the hub has not acknowledged, and the
//  time of the oldest (0 if none). 0 or -1.
int federation_store_backlog (federation_store_t *self, const char *stream, uint64_t *entries,
                              int64_t *oldest_ms);
//  The hub policy version this spoke applies, and the last error.
int federation_store_policy_get (federation_store_t *self, const char *spoke, uint64_t *version,
                                 char *error, size_t error_size);
int federation_store_policy_set (federation_store_t *self, const char *spoke, uint64_t version,
                                 const char *error);

#endif
