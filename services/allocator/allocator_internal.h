/*  allocator_internal.h: declarations shared by the allocator's files, and
    by nothing outside services/allocator.

    The actor's state (allocator_server.c), the registry client
    (allocator_registry.c), the outcome of one try at a change (a booking
    ledger may move under it: then it is read again and decided again), and
    the handlers each file gives the dispatch.
*/
#ifndef ALLOCATOR_INTERNAL_H_INCLUDED
#define ALLOCATOR_INTERNAL_H_INCLUDED

#include "allocator_index.h"
#include "allocator_model.h"
#include "allocator_request.h"
#include "allocator_store.h"
#include "allocator_server.h"
#include "orgtree.h"
#include "pmo_client.h"

#include <czmq.h>
#include <stdbool.h>
#include <stdint.h>

#define LIST_DEFAULT  50  //  a page of a list
#define LIST_MAX      500 //  the largest page
#define MATCH_DEFAULT 10  //  candidates of a match
#define MATCH_MAX     100

//  What one try at a change ends in.
#define COMMIT_DONE  0  //  written (or answered from a stored reply)
#define COMMIT_RETRY 1  //  a booking ledger moved under it: read again and decide again
#define COMMIT_FAIL  -1 //  the request failed (the reply says why)
#define RACE_RETRIES 5  //  times a change is tried while ledgers move under it

//  ---------------------------------------------------------------------
//  The registry (allocator_registry.c)

//  The registry's client for the allocator: org units through the tree
//  (reused for cache_ms) and projects asked fresh each time through it, with
//  its back-off, as service (which must outlive it). NULL if the endpoint
//  is not valid.
orgtree_t *allocator_registry_new (const char *endpoint, const Pmo__Identity *service,
                                   int timeout_ms, int cache_ms);

//  A project that can still take bookings, or NULL after failing req
//  (field names the id).
Pmo__Project *allocator_project (orgtree_t *self, pmo_request_t *req, const char *id,
                                 const char *field);
//  A live (not archived) org unit, or NULL after failing req.
Pmo__OrgUnit *allocator_unit (orgtree_t *self, pmo_request_t *req, const char *id,
                              const char *field);

//  ---------------------------------------------------------------------
//  The actor (allocator_server.c)

typedef struct {
    allocator_config_t config;
    pmo_redis_t *redis;
    allocator_store_t *store;
    allocator_index_t *index;
    bool loaded;          //  the index holds everything in Redis
    int64_t next_load_ms; //  monotonic: when to try loading again
    char replid[48];      //  the replication id of the master the index was read from
    pmo_server_t *server;
    zsock_t *pub;
    orgtree_t *registry;   //  projects and org units
    zhashx_t *positions;   //  division -> the last stream id the index has seen
    Pmo__Identity service; //  who the allocator is when it asks the registry
    Pmo__Grant service_grant;
    Pmo__Grant *service_grants[1];
    int64_t started_ms;
} allocator_t;

//  True (and the reply is set, or req failed) if this request id was
//  already done in division.
bool allocator_replayed_in (allocator_t *self, pmo_request_t *req, const char *division);
//  True if the index holds everything in Redis; else fails req (retryable).
bool allocator_ready (allocator_t *self, pmo_request_t *req);
//  Finish a change: its events and the reply (already filled) go in the
//  commit; on success the events are published with their stream ids.
//  COMMIT_DONE, COMMIT_RETRY (a ledger moved) or COMMIT_FAIL.
int allocator_commit (allocator_t *self, pmo_request_t *req, pmo_commit_t *commit,
                      const char *division, Pmo__Event **events, size_t n_events);

//  ---------------------------------------------------------------------
//  Resources (allocator_resources.c)

void allocator_handle_create_resource (allocator_t *self, pmo_request_t *req, Pmo__Resource *r);
int allocator_try_update_resource (allocator_t *self, pmo_request_t *req, Pmo__Resource *next);
void allocator_handle_archive_resource (allocator_t *self, pmo_request_t *req,
                                        Pmo__ArchiveResourceRequest *archive);

//  ---------------------------------------------------------------------
//  The allocation state machine (allocator_allocations.c); each try
//  returns COMMIT_DONE, COMMIT_RETRY or COMMIT_FAIL

int allocator_try_request (allocator_t *self, pmo_request_t *req, Pmo__AllocationRequest *rq);
int allocator_try_propose (allocator_t *self, pmo_request_t *req, Pmo__AllocationStep *step);
int allocator_try_commit (allocator_t *self, pmo_request_t *req, Pmo__AllocationStep *step);
//  Whether a may end as to (rejected: from requested or proposed, with a
//  reason; released: from proposed or committed) for reason, as reject and
//  release check it (who may is the caller's); false after failing req
//  (problems under field, e.g. "release.reason").
bool allocator_end_allowed (pmo_request_t *req, const Pmo__Allocation *a, Pmo__AllocationState to,
                            const char *reason, const char *field);
int allocator_try_reject (allocator_t *self, pmo_request_t *req, Pmo__AllocationStep *step);
int allocator_try_release (allocator_t *self, pmo_request_t *req, Pmo__AllocationStep *step);
int allocator_try_reshape (allocator_t *self, pmo_request_t *req, Pmo__AllocationReshape *rs);
//  A new allocation of project as rq asks, requested by the caller in
//  role (its first step in the history), in the request's arena.
Pmo__Allocation *allocator_allocation_new (pmo_request_t *req, const Pmo__Project *project,
                                           const Pmo__AllocationRequest *rq, Pmo__Role role);
//  What every step reads first: the allocation with its version, or NULL
//  after failing req (field names the id).
Pmo__Allocation *allocator_fetch_allocation (allocator_t *self, pmo_request_t *req, const char *id,
                                             const char *field, uint64_t *version);

//  ---------------------------------------------------------------------
//  Many rows of a spreadsheet in one request (allocator_import.c)

#define ALLOCATOR_IMPORT_MAX 1000 //  items of one import_batch

int allocator_try_import (allocator_t *self, pmo_request_t *req, Pmo__AllocatorImportBatch *batch);

//  ---------------------------------------------------------------------
//  Reads and views (allocator_views.c)

//  The index's candidates for a need (in the request's arena).
Pmo__MatchResult *allocator_match (allocator_t *self, pmo_request_t *req, const char *role,
                                   const char *skill, uint32_t min_level, uint32_t hours,
                                   int32_t first, int32_t last, const char *pool,
                                   const char *division, size_t limit);
//  Known role and skill names: "unknown" is a clear error, not empty
//  demand. 0, or -1 after failing req (fields under prefix).
int allocator_check_names (allocator_t *self, pmo_request_t *req, const char *role,
                           const char *skill, const char *prefix);
void allocator_handle_get (allocator_t *self, pmo_request_t *req, Pmo__AllocatorGetRequest *get);
void allocator_handle_list_resources (allocator_t *self, pmo_request_t *req,
                                      Pmo__ResourceListRequest *list);
void allocator_handle_list_allocations (allocator_t *self, pmo_request_t *req,
                                        Pmo__AllocationListRequest *list);
void allocator_handle_match (allocator_t *self, pmo_request_t *req, Pmo__MatchRequest *m);
void allocator_handle_capacity (allocator_t *self, pmo_request_t *req, Pmo__CapacityRequest *c);
void allocator_handle_conflicts (allocator_t *self, pmo_request_t *req, Pmo__ConflictsRequest *c);

#endif
