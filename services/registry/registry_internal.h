/*  registry_internal.h: what the registry's request handlers share.

    Private to services/registry. The actor's state, the deferred writes of
    a batch, and the steps every handler takes (registry_handler.c): fetch
    what a request names, check who may act, build the event, commit. The
    handlers themselves live by what they change: registry_org.c (org
    units), registry_projects.c (portfolios, programmes, projects),
    registry_gates.c (phases, gates, milestones, status reports),
    registry_gate_requests.c (pending gate requests),
    registry_reads.c (get, list, archive); registry_server.c dispatches.
*/
#ifndef REGISTRY_INTERNAL_H_INCLUDED
#define REGISTRY_INTERNAL_H_INCLUDED

#include "registry_model.h"
#include "registry_server.h"
#include "registry_store.h"

#include "pmo_request.h"
#include "pmo_server.h"

#include <stdbool.h>

#define IDEM_TTL_S 86400 //  how long a done request's reply is kept for retries

//  An event packed for its commit (without its stream id, not known yet),
//  and the reply stored with it.
typedef struct {
    uint8_t *blob;
    size_t size;
    uint8_t *reply;
    size_t reply_size;
} registry_packed_t;

//  A deferred create or update (see registry_flush).
typedef struct {
    pmo_request_t *req;
    registry_read_t reads[3]; //  what it reads
    size_t n_first;           //  how many of them go in the batch's first round trip
    pmo_commit_t *commit;     //  its commit, once decided
    Pmo__Event *event;
    registry_entity_blob_t entity; //  the entity as the commit stores it
    registry_packed_t packed;      //  the event and the reply as the commit stores them
    const char *division;
    size_t slot;     //  its place in the batch's group commit (registry_flush)
    bool grouped;    //  placed in a group
    bool retry;      //  to run again on its own
    bool replay_due; //  past the checks a retry skips (s_replay_failed)
} pending_t;

typedef struct {
    registry_config_t config;
    pmo_redis_t *redis;
    registry_store_t *store;
    pmo_server_t *server;
    zsock_t *pub;
    int64_t started_ms;
    pending_t pending[PMO_SERVER_BATCH];           //  creates and updates waiting for the flush
    pmo_commit_result_t results[PMO_SERVER_BATCH]; //  their commits' results
    size_t n_pending;
    registry_read_t reads[PMO_SERVER_BATCH * 3]; //  their first reads, in one pipeline
} registry_t;

//  ---------------------------------------------------------------------
//  Steps every handler takes (registry_handler.c)

Pmo__RegistryReply *registry_reply (pmo_request_t *req);
//  Add a warning to the reply.
void registry_warn (pmo_request_t *req, const char *text);
//  Fail req: the registry's store (Redis) is unavailable.
void registry_unavailable (pmo_request_t *req);
//  True if the caller may do action at path; else fails req with FORBIDDEN
//  ("<subject> may not <what> in '<path>'"). pmo_request_may with the
//  registry's rule for a PMO manager on top (see registry_allowed).
bool registry_may (pmo_request_t *req, registry_action_t action, const char *path,
                   const char *what);
//  True (and the reply is set) if this request id was already done.
bool registry_replayed (registry_t *self, pmo_request_t *req, const char *division);
//  Read an entity the request names (in req's arena); NULL after failing
//  the request if it cannot.
ProtobufCMessage *registry_fetch (registry_t *self, pmo_request_t *req, const registry_kind_t *kind,
                                  const char *id, const char *field, uint64_t *version);
//  A live (not archived) org unit named by the request.
Pmo__OrgUnit *registry_fetch_unit (registry_t *self, pmo_request_t *req, const char *id,
                                   const char *field);
//  A live project the caller may see; NOT_FOUND for one it may not.
Pmo__Project *registry_fetch_project (registry_t *self, pmo_request_t *req, const char *id,
                                      const char *field, uint64_t *version);
//  The org units from the root down to path's last unit (req's arena).
int registry_chain (registry_t *self, pmo_request_t *req, const char *path, Pmo__OrgUnit ***chain,
                    size_t *n);
//  The event of a change to entity (req's arena).
Pmo__Event *registry_event (pmo_request_t *req, const char *type, const char *division,
                            const char *org_unit, const char *path, ProtobufCMessage *entity);
//  Add the event and the reply (already filled) to commit; *packed is the
//  event as stored, for registry_commit_finish.
void registry_commit_prepare (registry_t *self, pmo_request_t *req, pmo_commit_t *commit,
                              const char *division, Pmo__Event *event,
                              const registry_entity_blob_t *entity, registry_packed_t *packed);
//  Answer from a commit's result: publish the event, or fail the request.
void registry_commit_finish (registry_t *self, pmo_request_t *req, pmo_commit_result_t *result,
                             const char *division, Pmo__Event *event,
                             const registry_packed_t *packed);
//  Publish an event packed without its stream id (as committed) with it:
//  the id's field is appended to the packed event (a field met again
//  replaces the first; the stored one has none), so that the event is
//  packed once for the commit and the PUB. stream_id NULL or "": without.
void registry_publish (zsock_t *pub, pmo_arena_t *arena, const char *division, const char *type,
                       const uint8_t *blob, size_t size, const char *stream_id);
//  Prepare, run and finish commit (which it destroys).
void registry_commit (registry_t *self, pmo_request_t *req, pmo_commit_t *commit,
                      const char *division, Pmo__Event *event);
void registry_set_reply (pmo_request_t *req, ProtobufCMessage *entity);
//  Stamp a new entity's bookkeeping fields.
void registry_stamp_new (pmo_request_t *req, ProtobufCMessage *msg, const char *id);
//  Carry an entity's bookkeeping over an update and bump its version.
void registry_stamp_update (pmo_request_t *req, ProtobufCMessage *next,
                            const ProtobufCMessage *stored, uint64_t version);

//  ---------------------------------------------------------------------
//  Org units (registry_org.c)

//  Fill unit's effective PMO type and policy from its ancestors.
void registry_fill_effective (registry_t *self, pmo_request_t *req, Pmo__OrgUnit *unit);
void registry_handle_create_org_unit (registry_t *self, pmo_request_t *req, Pmo__OrgUnit *unit);
void registry_handle_update_org_unit (registry_t *self, pmo_request_t *req, Pmo__OrgUnit *next);

//  ---------------------------------------------------------------------
//  Portfolios, programmes and projects (registry_projects.c)

//  msg is a Pmo__Portfolio or Pmo__Programme; field names the request body.
void registry_create_grouping (registry_t *self, pmo_request_t *req, ProtobufCMessage *msg,
                               const char *field);
void registry_update_grouping (registry_t *self, pmo_request_t *req, ProtobufCMessage *next,
                               const char *field);
//  Project creates and updates are deferred to the batch's flush.
void registry_begin_create_project (registry_t *self, pmo_request_t *req, Pmo__Project *project);
void registry_begin_update_project (registry_t *self, pmo_request_t *req, Pmo__Project *next);
//  The engine's flush: finish every deferred request (state: registry_t).
void registry_flush (void *state);

//  ---------------------------------------------------------------------
//  Phases, gates, milestones, status reports (registry_gates.c)

//  The PMO type and policy in force at project's unit (0, or -1 after
//  failing req).
int registry_gate_context (registry_t *self, pmo_request_t *req, Pmo__Project *project,
                           Pmo__PmoType *type, Pmo__Policy **policy);
//  True if project may pass a gate into `to` (live, not stopped, and `to`
//  is its next phase); else fails req at field.
bool registry_next_phase_ok (pmo_request_t *req, Pmo__Project *project, Pmo__Phase to,
                             const char *field);
//  items joined by ", " (in arena).
char *registry_join (pmo_arena_t *arena, char **items, size_t n);
void registry_handle_change_phase (registry_t *self, pmo_request_t *req,
                                   Pmo__PhaseChangeRequest *change);
void registry_handle_decide_gate (registry_t *self, pmo_request_t *req,
                                  Pmo__GateDecisionRequest *decide);
//  A milestone or status report (msg), already checked.
void registry_handle_create_child (registry_t *self, pmo_request_t *req, ProtobufCMessage *msg,
                                   const char *field);
void registry_handle_update_milestone (registry_t *self, pmo_request_t *req, Pmo__Milestone *next);

//  ---------------------------------------------------------------------
//  Gate requests: what waits on a gate's approvers (registry_gate_requests.c)

void registry_handle_request_gate (registry_t *self, pmo_request_t *req,
                                   Pmo__GateRequestRequest *ask);
void registry_handle_withdraw_gate (registry_t *self, pmo_request_t *req,
                                    Pmo__GateWithdrawRequest *withdraw);
void registry_handle_pending_gates (registry_t *self, pmo_request_t *req,
                                    Pmo__PendingGatesRequest *ask);

//  ---------------------------------------------------------------------
//  Get, list, archive (registry_reads.c)

void registry_handle_get (registry_t *self, pmo_request_t *req, Pmo__GetRequest *get);
//  Codes wherever ids are: every project reference of the request that is
//  a code (update_project.id, archive.id of a project, every project_id,
//  depends_on_project and project_ids) replaced by the project's id, with
//  the caller's view (lib/orgtree's walk; NOT_FOUND / INVALID as there).
//  0, or -1 after failing req.
int registry_resolve_projects (registry_t *self, pmo_request_t *req);
void registry_handle_list (registry_t *self, pmo_request_t *req, Pmo__ListRequest *list);
void registry_handle_archive (registry_t *self, pmo_request_t *req, Pmo__ArchiveRequest *archive);

#endif
