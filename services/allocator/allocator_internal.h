/*  allocator_internal.h: declarations shared by the allocator's files, and
    by nothing outside services/allocator.

    The registry client (allocator_registry.c) and the outcome of one try
    at a change (a booking ledger may move under it: then it is read again
    and decided again).
*/
#ifndef ALLOCATOR_INTERNAL_H_INCLUDED
#define ALLOCATOR_INTERNAL_H_INCLUDED

#include "allocator_index.h"
#include "allocator_model.h"
#include "allocator_request.h"
#include "allocator_store.h"
#include "orgtree.h"
#include "pmo_client.h"

#include <stdint.h>

//  What one try at a change ends in.
#define COMMIT_DONE  0  //  written (or answered from a stored reply)
#define COMMIT_RETRY 1  //  a booking ledger moved under it: read again and decide again
#define COMMIT_FAIL  -1 //  the request failed (the reply says why)
#define RACE_RETRIES 5  //  times a change is tried while ledgers move under it

//  ---------------------------------------------------------------------
//  The registry (allocator_registry.c)

typedef struct {
    pmo_client_t *client;         //  the registry's DEALER, for projects
    orgtree_t *tree;              //  org units
    const char *endpoint;         //  for logs
    const Pmo__Identity *service; //  who the allocator is when it asks
    int timeout_ms;               //  deadline of each call
    int64_t down_until;           //  monotonic ms: project reads fail at once until then
} allocator_registry_t;

//  A client of the registry at endpoint, asking as service (which must
//  outlive it); org units are reused for cache_ms. NULL if the endpoint is
//  not valid.
allocator_registry_t *allocator_registry_new (const char *endpoint, const Pmo__Identity *service,
                                              int timeout_ms, int cache_ms);
void allocator_registry_destroy (allocator_registry_t **self_p);

//  A project, copied into arena: 1 found, 0 no such project (a malformed
//  id names none either), -1 the registry did not answer (or refused).
int allocator_registry_project (allocator_registry_t *self, pmo_arena_t *arena, const char *id,
                                Pmo__Project **project);
//  An org unit with its effective PMO type (orgtree_unit): 1, 0 or -1.
int allocator_registry_unit (allocator_registry_t *self, pmo_arena_t *arena, const char *id,
                             Pmo__OrgUnit **unit);
//  An org-unit event was seen: read units again on their next use.
void allocator_registry_invalidate (allocator_registry_t *self);

//  A project that can still take bookings, or NULL after failing req
//  (field names the id).
Pmo__Project *allocator_project (allocator_registry_t *self, pmo_request_t *req, const char *id,
                                 const char *field);
//  A live (not archived) org unit, or NULL after failing req.
Pmo__OrgUnit *allocator_unit (allocator_registry_t *self, pmo_request_t *req, const char *id,
                              const char *field);

#endif
