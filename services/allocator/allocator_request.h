/*  allocator_request.h: what every allocator request handler uses: the
    reply, who may act (the common rule with the allocator's role table),
    a retry's stored reply, warnings, week labels, the booking ledger and
    its over-allocation, steps of an allocation's history, the judgement of
    a commitment, and the event and commit of a change. Shared by the
    handlers' files and allocator_xdiv.c.
*/
#ifndef ALLOCATOR_REQUEST_H_INCLUDED
#define ALLOCATOR_REQUEST_H_INCLUDED

#include "allocator.pb-c.h"
#include "allocator_index.h"
#include "allocator_model.h"
#include "allocator_store.h"
#include "events.pb-c.h"
#include "pmo_commit.h"
#include "pmo_request.h"
#include "pmo_server.h"
#include "registry.pb-c.h"

#include <czmq.h>

#include <stdint.h>

//  The request's reply, typed.
Pmo__AllocatorReply *allocator_reply (pmo_request_t *req);

//  What is unavailable when Redis does not answer, and when the registry
//  does not (for pmo_request_unavailable).
#define ALLOCATOR_STORE    "the allocator's store (Redis)"
#define ALLOCATOR_REGISTRY "the registry (projects and org units)"

//  The role in which the caller may do action at path, or
//  ROLE_UNSPECIFIED after failing req with FORBIDDEN (pmo_request_may).
//  Reads check no path (allocator_role_for).
Pmo__Role allocator_may (pmo_request_t *req, allocator_action_t action, const char *path,
                         const char *what);

//  True (and the reply is set, or req failed as unavailable) if this
//  request id was already done in any of the divisions.
bool allocator_replayed (allocator_store_t *store, pmo_request_t *req, char *const *divisions,
                         size_t n);

//  Add a warning to the reply (a rule that advised without blocking).
void allocator_warn (pmo_request_t *req, const char *text);

//  A week index as ISO text ("2026-W14"), in the request's arena.
const char *allocator_week_text (pmo_request_t *req, int32_t week);

//  The event of a change (type, where it happened, the snapshot as the
//  Event body member `member`), stamped with the caller and the request.
Pmo__Event *allocator_event (pmo_request_t *req, const char *type, const char *division,
                             const char *org_unit, const char *path, const char *entity_id,
                             uint64_t version, const char *member, ProtobufCMessage *body);

//  Take an allocation's booking off the ledger.
void allocator_ledger_remove (Pmo__BookingLedger *ledger, const char *allocation_id);

//  Book (or re-book) allocation a on ledger in its current state and window.
void allocator_ledger_book (pmo_request_t *req, Pmo__BookingLedger *ledger,
                            const Pmo__Allocation *a, int32_t first, int32_t last);

//  Recompute the ledger's over-allocated weeks. If the set changed, returns
//  the OverAllocation to announce (over or cleared), else NULL.
Pmo__OverAllocation *allocator_over_change (pmo_request_t *req, const Pmo__Resource *resource,
                                            Pmo__BookingLedger *ledger);

//  The role in which the caller may act on a: the project side (in its
//  project's unit) or the resource side (in its resource's home unit), or
//  ROLE_UNSPECIFIED after failing req with FORBIDDEN.
bool allocator_sees (pmo_request_t *req, const Pmo__Allocation *a);
bool allocator_hidden (pmo_request_t *req, const Pmo__Allocation *a, const char *field);
Pmo__Role allocator_may_either (pmo_request_t *req, const Pmo__Allocation *a, const char *what,
                                const char *field);

//  Add the over-allocation event of a change, if any (over may be NULL),
//  to events, and to the reply.
void allocator_over_event (pmo_request_t *req, const Pmo__Resource *resource,
                           Pmo__OverAllocation *over, Pmo__Event **events, size_t *n_events);

//  Append a step to a's history (actor, in role, for reason) and move a to
//  state to. The step, in the request's arena.
Pmo__AllocationTransition *allocator_step (pmo_request_t *req, Pmo__Allocation *a,
                                           Pmo__AllocationState to, const char *actor,
                                           Pmo__Role role, const char *reason);

//  Put resource r on allocation a (and its first skill, if a named none).
void allocator_assign (Pmo__Allocation *a, const Pmo__Resource *r);

//  Warn if r, named by a request, has the skill asked for below the level
//  asked for (or not at all).
void allocator_warn_skill (pmo_request_t *req, const Pmo__Resource *r,
                           const Pmo__AllocationRequest *rq);

//  What committing a booking of weeks first..last on r needs (ledger holds
//  it as committed already): the weeks of the window it over-allocates and
//  whether it crosses from project_division into r's, judged by the PMO
//  type in force at unit (allocator_approval).
void allocator_judge_commit (pmo_request_t *req, const Pmo__Resource *r,
                             const Pmo__BookingLedger *ledger, int32_t first, int32_t last,
                             const char *project_code, const char *project_division,
                             const Pmo__OrgUnit *unit, allocator_approval_t *approval);

//  Record a warning on a transition (kept in the allocation's history).
void allocator_step_warn (pmo_request_t *req, Pmo__AllocationTransition *t, const char *text);

//  Write commit with the change's events (1 or 2, in order) and the reply
//  (already filled), in store. Written: the events get their stream ids and
//  are published on pub. A retry of a request already done gets the first
//  reply. Redis away or refusing: the request fails (unavailable, internal).
//  Returns the commit's status with result filled (the caller decides what
//  a CONFLICT or TAKEN means, and clears result).
pmo_commit_status_t allocator_commit_write (allocator_store_t *store, zsock_t *pub,
                                            pmo_request_t *req, pmo_commit_t *commit,
                                            const char *division, Pmo__Event **events,
                                            size_t n_events, pmo_commit_result_t *result);

//  What the caller of req may see (README "Who sees what":
//  pmo_access_sees_booking, pmo_access_steward), for the index's views;
//  valid while req is.
allocator_view_t allocator_view (pmo_request_t *req);
//  Clears what a resource shows only to its stewards (cost rate, the
//  reasons of its calendar exceptions) unless the caller of req is one.
void allocator_redact_resource (pmo_request_t *req, Pmo__Resource *r);

#endif
