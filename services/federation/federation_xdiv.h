/*  federation_xdiv.h: cross-division resource requests through the hub.

    A project of division A (one spoke) asks for a resource of division B
    (another spoke). Nothing new travels from a spoke to the hub: A's
    allocator writes "foreign.requested" to A's stream and B's allocator
    writes every step of the booking (with origin_id) to B's stream, and the
    uplinks forward those streams as they forward everything. The hub, as it
    applies a push, queues what such events carry for the other division:

        A's foreign.requested           -> B: a request to book (XDIV_KIND_REQUEST)
        B's allocation.* with origin_id -> A: the decision now (XDIV_KIND_DECISION)
        a request B refused for good    -> A: why (XDIV_KIND_REFUSAL)
        a request for a division no spoke serves -> A: refused at the hub

    Queued deliveries wait in the hub's Redis until the uplink of the
    division they are for has handled them: they ride on the replies to its
    heartbeats, it hands them to its allocator (as pmo-uplink@<spoke>, admin
    at the hub), and names them done in its next heartbeat. A spoke or the
    hub away only delays them; a delivery handled twice changes nothing
    (the owning allocator books one allocation per request, the requesting
    one keeps the newest version it heard).

    The queue is kept in the hub's Redis by federation_store.c (its keys are
    listed in federation_store.h).
*/
#ifndef FEDERATION_XDIV_H_INCLUDED
#define FEDERATION_XDIV_H_INCLUDED

#include "federation_store.h"
#include "pmo_util.h"

#include <stdbool.h>
#include <stddef.h>

#define FEDERATION_XDIV_PER_REPLY 16 //  deliveries handed to an uplink per reply

//  ---------------------------------------------------------------------
//  Hub side

//  Is division served by a known spoke?
typedef bool (federation_xdiv_served_fn) (void *state, const char *division);

//  Before a push of division's events is applied: queue what its new
//  events (above the division's high-water mark) carry for other
//  divisions. events[i] may be NULL (undecodable). 0, or -1 if Redis
//  failed: refuse the push as unavailable, so it is resent.
int federation_xdiv_route (federation_store_t *store, const char *division,
                           Pmo__Event *const *events, const federation_apply_t *apply, size_t n,
                           federation_xdiv_served_fn *served, void *state, pmo_arena_t *arena);

//  With a spoke's message: forget the deliveries it has handled (a refused
//  request turns into a refusal for its requester), then, if it says it
//  takes deliveries now, attach what waits for its divisions to reply.
//  0, or -1 if Redis failed (reply gets nothing; the spoke sends its done
//  list again).
int federation_xdiv_exchange (federation_store_t *store, char *const *divisions, size_t n_divisions,
                              const Pmo__HubRequest *request, Pmo__HubReply *reply,
                              federation_xdiv_served_fn *served, void *state, pmo_arena_t *arena);

//  Deliveries waiting at the hub for these divisions (0 if Redis failed).
uint64_t federation_xdiv_waiting (federation_store_t *store, char *const *divisions,
                                  size_t n_divisions);

//  ---------------------------------------------------------------------
//  Uplink side

typedef struct _federation_xdiv_uplink_t federation_xdiv_uplink_t;

//  allocator: the spoke allocator's ROUTER. NULL if the endpoint is bad.
federation_xdiv_uplink_t *federation_xdiv_uplink_new (const char *allocator, const char *spoke,
                                                      const char *hub);
void federation_xdiv_uplink_destroy (federation_xdiv_uplink_t **self_p);

//  Fill request's xdiv fields: whether we take deliveries now, and the done
//  list (built in arena).
void federation_xdiv_uplink_prepare (federation_xdiv_uplink_t *self, Pmo__HubRequest *request,
                                     pmo_arena_t *arena);

//  After the reply (NULL: none came): the done list that went out is
//  forgotten if the hub answered; every delivery in the reply is handed to
//  the allocator. Returns true if more may be waiting (answer again soon).
bool federation_xdiv_uplink_take (federation_xdiv_uplink_t *self, const Pmo__HubReply *reply,
                                  pmo_arena_t *arena);

//  Counters for STATS and logs.
void federation_xdiv_uplink_stats (federation_xdiv_uplink_t *self, uint64_t *handled,
                                   uint64_t *refused, uint64_t *failed);

#endif
