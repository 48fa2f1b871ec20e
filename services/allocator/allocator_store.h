/*  allocator_store.h: the allocator's Redis layout. This is the only file
    that spells the allocator's keys; the service README lists them.

    A resource, its booking ledger and every allocation booked on it live
    in the resource's home division ("{division}" hash tag), so one Lua
    commit can check and change them together. Reads decode into the
    caller's arena and return 1 (found), 0 (absent) or -1 (Redis
    unavailable); writes go through one pmo_commit.
*/
#ifndef ALLOCATOR_STORE_H_INCLUDED
#define ALLOCATOR_STORE_H_INCLUDED

#include "allocator.pb-c.h"
#include "allocator_index.h"
#include "events.pb-c.h"
#include "pmo_commit.h"
#include "pmo_util.h"

#include <czmq.h>
#include <stdbool.h>

#define ALLOCATOR_PREFIX_RESOURCE   "rs"
#define ALLOCATOR_PREFIX_ALLOCATION "al"
#define ALLOCATOR_PREFIX_FOREIGN    "xa"

typedef struct _allocator_store_t allocator_store_t;

allocator_store_t *allocator_store_new (pmo_redis_t *redis, const char *hub);
void allocator_store_destroy (allocator_store_t **self_p);

//  The division in an id "<prefix>_<division>_<n>"; -1 if malformed.
int allocator_store_division (const char *id, const char *prefix, char *division, size_t size);

int allocator_store_read_resource (allocator_store_t *self, pmo_arena_t *arena, const char *id,
                                   Pmo__Resource **resource, uint64_t *version);
int allocator_store_read_allocation (allocator_store_t *self, pmo_arena_t *arena, const char *id,
                                     Pmo__Allocation **allocation, uint64_t *version);
//  A resource and its booking ledger in one round trip. An absent ledger
//  reads as empty with version 0.
int allocator_store_read_booked (allocator_store_t *self, pmo_arena_t *arena, const char *id,
                                 Pmo__Resource **resource, uint64_t *version,
                                 Pmo__BookingLedger **ledger, uint64_t *ledger_version);
//  A resource with its ledger, read by allocator_store_read_booked_many.
typedef struct {
    const char *id;          //  asked for
    Pmo__Resource *resource; //  NULL if there is no such resource
    uint64_t version;
    Pmo__BookingLedger *ledger; //  (empty with version 0 if absent)
    uint64_t ledger_version;
} allocator_booked_t;
//  Many resources with their ledgers in one round trip (a batch). 0, or -1
//  if Redis failed.
int allocator_store_read_booked_many (allocator_store_t *self, pmo_arena_t *arena,
                                      allocator_booked_t *booked, size_t n);
//  Several resources or allocations (by prefix) in one round trip; absent
//  ones are NULL.
int allocator_store_read_many (allocator_store_t *self, pmo_arena_t *arena, const char *prefix,
                               char *const *ids, size_t n, ProtobufCMessage **msgs);

//  The stored reply of a request already done in any of the divisions (1),
//  or 0.
int allocator_store_replay (allocator_store_t *self, pmo_arena_t *arena, char *const *divisions,
                            size_t n, const char *request_id, uint8_t **reply, size_t *size);
//  A new id ("al_dft_43") in division.
int allocator_store_next_id (allocator_store_t *self, pmo_arena_t *arena, const char *prefix,
                             const char *division, char **id);
//  n new ids of a kind in division, in one step (a batch). 0 or -1.
int allocator_store_next_ids (allocator_store_t *self, pmo_arena_t *arena, const char *prefix,
                              const char *division, size_t n, char **ids);
//  Remember that division holds allocator data (for the reload). 0 or -1.
int allocator_store_note_division (allocator_store_t *self, const char *division);
//  The stream ids of the last n entries up to and including last_id, oldest
//  first (a commit's events are contiguous in the stream); ids not found
//  are NULL. 0 or -1.
int allocator_store_event_ids (allocator_store_t *self, pmo_arena_t *arena, const char *division,
                               const char *last_id, size_t n, char **ids);

//  Fill index from Redis: every resource and allocation of every division
//  noted. 0, or -1 if Redis failed (the index is then incomplete).
//  positions (division -> stream id, strings the hash owns) receives each
//  division stream's last id as it was before the load, to follow from.
int allocator_store_load (allocator_store_t *self, allocator_index_t *index, zhashx_t *positions);
//  Apply to index the allocator events written since positions (by any
//  allocator: replicas share Redis), and move positions on. A division
//  seen for the first time is read from its start. Returns the number of
//  snapshots applied, or -1 if Redis failed. *org_units tells whether an
//  org-unit event (the registry's, on the same streams) went by.
int allocator_store_follow (allocator_store_t *self, allocator_index_t *index, zhashx_t *positions,
                            bool *org_units);

//  Writes, gathered into one commit in division.
pmo_commit_t *allocator_store_commit (allocator_store_t *self, const char *division,
                                      const char *request_id);
void allocator_store_put_resource (allocator_store_t *self, pmo_commit_t *commit,
                                   pmo_arena_t *arena, const Pmo__Resource *resource,
                                   uint64_t expect);
void allocator_store_put_allocation (allocator_store_t *self, pmo_commit_t *commit,
                                     pmo_arena_t *arena, const Pmo__Allocation *allocation,
                                     uint64_t expect);
void allocator_store_put_ledger (allocator_store_t *self, pmo_commit_t *commit, pmo_arena_t *arena,
                                 const char *division, const Pmo__BookingLedger *ledger,
                                 uint64_t expect);
void allocator_store_check_ledger (allocator_store_t *self, pmo_commit_t *commit,
                                   pmo_arena_t *arena, const char *division,
                                   const char *resource_id, uint64_t expect);
//  Add a new entity's id to its division's index.
void allocator_store_index (allocator_store_t *self, pmo_commit_t *commit, pmo_arena_t *arena,
                            const char *prefix, const char *division, const char *id);
void allocator_store_event (allocator_store_t *self, pmo_commit_t *commit, pmo_arena_t *arena,
                            const char *division, const Pmo__Event *event);
//  True if a commit's failing key is a booking ledger (a race on hours,
//  worth reading again), not the entity the caller named.
bool allocator_store_is_ledger_key (const char *key);
//  True if a commit's failing key is a foreign request (a newer report of
//  it was written first: read it again).
bool allocator_store_is_foreign_key (const char *key);
//  Run commit on the store's Redis (pmo_commit_exec); the caller destroys it.
void allocator_store_exec (allocator_store_t *self, pmo_commit_t *commit,
                           pmo_commit_result_t *result);

//  ---------------------------------------------------------------------
//  Cross-division requests between stacks (allocator_xdiv.c)

//  A foreign request by id: 1 found, 0 absent (or not such an id), -1.
int allocator_store_read_foreign (allocator_store_t *self, pmo_arena_t *arena, const char *id,
                                  Pmo__ForeignAllocation **foreign, uint64_t *version);
//  The allocation booked in division for the foreign request origin_id: 1
//  (in *allocation), 0 none, -1.
int allocator_store_booked_for (allocator_store_t *self, pmo_arena_t *arena, const char *division,
                                const char *origin_id, Pmo__Allocation **allocation);
//  Remember that division holds foreign requests (for lists). 0 or -1.
int allocator_store_note_foreign_division (allocator_store_t *self, const char *division);
//  The divisions holding foreign requests, in arena (NULL-terminated, in
//  no order). 0 or -1.
int allocator_store_foreign_divisions (allocator_store_t *self, pmo_arena_t *arena,
                                       char ***divisions, size_t *n);
//  A division's foreign request ids, newest first, in arena. 0 or -1.
int allocator_store_foreign_ids (allocator_store_t *self, pmo_arena_t *arena, const char *division,
                                 char ***ids, size_t *n);
//  Write a foreign request (its division's) naming the version read.
void allocator_store_put_foreign (allocator_store_t *self, pmo_commit_t *commit, pmo_arena_t *arena,
                                  const Pmo__ForeignAllocation *foreign, uint64_t expect);
//  Claim origin_id for allocation_id in division: a second claim is TAKEN.
void allocator_store_claim_origin (allocator_store_t *self, pmo_commit_t *commit,
                                   pmo_arena_t *arena, const char *division, const char *origin_id,
                                   const char *allocation_id);

#endif
