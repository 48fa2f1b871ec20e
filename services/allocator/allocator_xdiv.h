/*  allocator_xdiv.h: cross-division resource requests between stacks.

    In a federated deployment each division runs its own stack, so a
    project of division A cannot book a resource of division B in A's
    allocator: B's resources, ledgers and rules live in B's Redis. This
    module is both ends of such a request:

    - requesting side (A): request_foreign records a ForeignAllocation and
      writes "foreign.requested" to A's stream in the same commit; the
      uplink carries it to the hub, which hands it to B. foreign_update
      (from A's uplink) records what became of it: B's allocation as it
      changes, or why it was refused. list_foreign / get_foreign show them.
    - owning side (B): receive_foreign (from B's uplink) books the request
      in B by B's rules: soft-booked and waiting for B's approver where B's
      PMO type asks for approval (controlling: it crosses divisions;
      directive: always), committed at once with a warning otherwise
      (supportive). The allocation carries origin_id, so every later step
      of it flows back to A through the hub, and a delivery made twice
      books once (a claim origin_id -> allocation id, kept for ever).

    In one stack (B is kept by this allocator too), request_foreign books
    at once by the same rules: the same request means the same thing in
    both shapes of deployment.
*/
#ifndef ALLOCATOR_XDIV_H_INCLUDED
#define ALLOCATOR_XDIV_H_INCLUDED

#include "allocator_internal.h"
#include "pmo_server.h"

#include <czmq.h>
#include <stdbool.h>

//  What the allocator actor lends this module for one request (not owned).
typedef struct {
    allocator_store_t *store;
    allocator_index_t *index;
    zsock_t *pub;        //  the allocator's PUB socket
    orgtree_t *registry; //  projects and org units
    const char *hub;     //  the hub org unit id
    bool loaded;         //  the index holds everything in Redis
} allocator_xdiv_env_t;

//  Handle request_foreign, receive_foreign, foreign_update, list_foreign
//  and get_foreign.
void allocator_xdiv_handle (allocator_xdiv_env_t *env, pmo_request_t *req,
                            const Pmo__AllocatorRequest *request);

#endif
