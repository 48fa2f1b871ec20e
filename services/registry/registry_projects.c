/*  registry_projects.c: portfolios, programmes and projects.

    A portfolio or programme groups records at or below its org unit, in
    its division. Project creates and updates are the hot writes: they are
    answered in batches (see "Creating and updating projects" below).
*/
#include "registry_internal.h"

#include "pmo_log.h"
#include "pmo_reflect.h"

#include <string.h>

//  ---------------------------------------------------------------------
//  Portfolios and programmes

//  Check that the container (a portfolio or programme) can hold something in
//  the unit at path: it must be in the same division and sit at or above the
//  unit, and it must be live unless the record already belonged to it (kept):
//  archiving a portfolio stops new members, it does not freeze the old ones.
static ProtobufCMessage *s_container (registry_t *self, pmo_request_t *req, Pmo__EntityKind kind,
                                      const char *id, const char *field, const char *division,
                                      const char *path, const char *kept)
{
    ProtobufCMessage *msg = registry_fetch (self, req, registry_kind (kind), id, field, NULL);
    if (!msg)
        return NULL;
    const char *unit = pmo_reflect_str (msg, "org_unit");
    char their[40];
    registry_store_division (self->store, registry_kind (kind), id, their, sizeof their);
    if (pmo_reflect_bool (msg, "archived") && !(kept && strcmp (kept, id) == 0)) {
        FAIL (req, FAILED_PRECONDITION, field, "'%s' is archived", id);
        return NULL;
    }
    if (strcmp (their, division) != 0 || !pmo_path_contains (path, unit)) {
        FAIL (req, INVALID, field, "'%s' belongs to '%s', which is not at or above '%s'", id, unit,
              path);
        return NULL;
    }
    return msg;
}

static int s_check_grouping (pmo_request_t *req, ProtobufCMessage *msg, const char *field)
{
    pmo_problem_t problem;
    int rc = msg->descriptor == &pmo__portfolio__descriptor
                 ? registry_check_portfolio ((Pmo__Portfolio *)msg, &problem)
                 : registry_check_programme ((Pmo__Programme *)msg, &problem);
    if (rc)
        pmo_request_fail_problem (req, &problem, field);
    return rc;
}

void registry_create_grouping (registry_t *self, pmo_request_t *req, ProtobufCMessage *msg,
                               const char *field)
{
    if (s_check_grouping (req, msg, field))
        return;
    const registry_kind_t *kind = registry_kind_of (msg->descriptor);
    Pmo__OrgUnit *unit = registry_fetch_unit (self, req, pmo_reflect_str (msg, "org_unit"),
                                              pmo_arena_printf (req->arena, "%s.org_unit", field));
    if (!unit || !registry_may (req, REGISTRY_WRITE_PORTFOLIO, unit->path, "create portfolios"))
        return;
    if (registry_replayed (self, req, unit->division))
        return;
    if (kind->kind == PMO__ENTITY_KIND__ENTITY_KIND_PROGRAMME) {
        Pmo__Programme *programme = (Pmo__Programme *)msg;
        if (!pmo_str_empty (programme->portfolio_id) &&
            !s_container (self, req, PMO__ENTITY_KIND__ENTITY_KIND_PORTFOLIO,
                          programme->portfolio_id,
                          pmo_arena_printf (req->arena, "%s.portfolio_id", field), unit->division,
                          unit->path, NULL))
            return;
    }
    char *id;
    uint64_t seq;
    if (registry_store_next_id (self->store, req->arena, kind, unit->division, &id, &seq))
        return registry_unavailable (req);
    registry_stamp_new (req, msg, id);
    pmo_reflect_set_str (msg, "org_unit_path", unit->path, req->arena);
    pmo_commit_t *commit =
        registry_store_commit (self->store, unit->division, req->header->request_id);
    registry_store_put (self->store, commit, req->arena, unit->division, msg, 0);
    registry_store_claim_code (self->store, commit, req->arena, kind, unit->division,
                               pmo_reflect_str (msg, "code"), id, true);
    registry_store_index (self->store, commit, req->arena, kind, unit->division, unit->id, id,
                          true);
    Pmo__Event *event =
        registry_event (req, pmo_arena_printf (req->arena, "%s.created", kind->name),
                        unit->division, unit->id, unit->path, msg);
    registry_set_reply (req, msg);
    registry_commit (self, req, commit, unit->division, event);
}

void registry_update_grouping (registry_t *self, pmo_request_t *req, ProtobufCMessage *next,
                               const char *field)
{
    if (s_check_grouping (req, next, field))
        return;
    const registry_kind_t *kind = registry_kind_of (next->descriptor);
    uint64_t version;
    ProtobufCMessage *stored =
        registry_fetch (self, req, kind, pmo_reflect_str (next, "id"),
                        pmo_arena_printf (req->arena, "%s.id", field), &version);
    if (!stored)
        return;
    const char *path = pmo_reflect_str (stored, "org_unit_path");
    if (!registry_allowed (pmo_request_who (req), REGISTRY_READ, path))
        return (void)FAIL (req, NOT_FOUND, pmo_arena_printf (req->arena, "%s.id", field),
                           "no %s with id '%s'", kind->name, pmo_reflect_str (next, "id"));
    if (!registry_may (req, REGISTRY_WRITE_PORTFOLIO, path, "change portfolios"))
        return;
    char division[40];
    registry_store_division (self->store, kind, pmo_reflect_str (next, "id"), division,
                             sizeof division);
    if (registry_replayed (self, req, division))
        return;
    if (strcmp (pmo_reflect_str (next, "org_unit"), pmo_reflect_str (stored, "org_unit")) != 0)
        return (void)FAIL (req, INVALID, pmo_arena_printf (req->arena, "%s.org_unit", field),
                           "a %s stays in its org unit", kind->name);
    if (!pmo_request_version_matches (req, "version", kind->name, pmo_reflect_u64 (next, "version"),
                                      version))
        return;
    if (kind->kind == PMO__ENTITY_KIND__ENTITY_KIND_PROGRAMME) {
        Pmo__Programme *programme = (Pmo__Programme *)next;
        if (!pmo_str_empty (programme->portfolio_id) &&
            !s_container (self, req, PMO__ENTITY_KIND__ENTITY_KIND_PORTFOLIO,
                          programme->portfolio_id,
                          pmo_arena_printf (req->arena, "%s.portfolio_id", field), division, path,
                          pmo_reflect_str (stored, "portfolio_id")))
            return;
    }
    registry_stamp_update (req, next, stored, version);
    pmo_reflect_set_str (next, "org_unit_path", path, req->arena);
    pmo_commit_t *commit = registry_store_commit (self->store, division, req->header->request_id);
    registry_store_put (self->store, commit, req->arena, division, next, version);
    const char *old_code = pmo_reflect_str (stored, "code");
    const char *new_code = pmo_reflect_str (next, "code");
    if (strcmp (old_code, new_code) != 0) {
        registry_store_claim_code (self->store, commit, req->arena, kind, division, old_code, NULL,
                                   false);
        registry_store_claim_code (self->store, commit, req->arena, kind, division, new_code,
                                   pmo_reflect_str (next, "id"), true);
    }
    Pmo__Event *event =
        registry_event (req, pmo_arena_printf (req->arena, "%s.updated", kind->name), division,
                        pmo_reflect_str (next, "org_unit"), path, next);
    registry_set_reply (req, next);
    registry_commit (self, req, commit, division, event);
}

//  ---------------------------------------------------------------------
//  Projects

//  Check a project's references: portfolio, programme and dependencies.
static int s_check_references (registry_t *self, pmo_request_t *req, Pmo__Project *project,
                               const Pmo__Project *stored, const char *field, Pmo__OrgUnit *unit)
{
    if (!pmo_str_empty (project->programme_id)) {
        Pmo__Programme *programme = (Pmo__Programme *)s_container (
            self, req, PMO__ENTITY_KIND__ENTITY_KIND_PROGRAMME, project->programme_id,
            pmo_arena_printf (req->arena, "%s.programme_id", field), unit->division, unit->path,
            stored ? stored->programme_id : NULL);
        if (!programme)
            return -1;
        if (!pmo_str_empty (programme->portfolio_id)) {
            if (pmo_str_empty (project->portfolio_id))
                project->portfolio_id = programme->portfolio_id;
            else if (strcmp (project->portfolio_id, programme->portfolio_id) != 0) {
                FAIL (req, INVALID, pmo_arena_printf (req->arena, "%s.portfolio_id", field),
                      "programme '%s' is in portfolio '%s', not '%s'", programme->id,
                      programme->portfolio_id, project->portfolio_id);
                return -1;
            }
        }
    }
    if (!pmo_str_empty (project->portfolio_id) &&
        !s_container (self, req, PMO__ENTITY_KIND__ENTITY_KIND_PORTFOLIO, project->portfolio_id,
                      pmo_arena_printf (req->arena, "%s.portfolio_id", field), unit->division,
                      unit->path, stored ? stored->portfolio_id : NULL))
        return -1;
    if (project->n_depends_on) {
        ProtobufCMessage **found =
            pmo_arena_alloc (req->arena, project->n_depends_on * sizeof (void *));
        if (registry_store_read_many (self->store, req->arena,
                                      registry_kind (PMO__ENTITY_KIND__ENTITY_KIND_PROJECT),
                                      project->depends_on, project->n_depends_on, found)) {
            registry_unavailable (req);
            return -1;
        }
        for (size_t i = 0; i < project->n_depends_on; i++)
            if (!found[i]) {
                FAIL (req, NOT_FOUND, pmo_arena_printf (req->arena, "%s.depends_on[%zu]", field, i),
                      "no project with id '%s'", project->depends_on[i]);
                return -1;
            }
    }
    return 0;
}

//  ---------------------------------------------------------------------
//  Creating and updating projects: the hot writes, answered in batches
//
//  The engine hands over every request waiting on the socket before it asks
//  for a flush. A create or update only declares what it must read and is
//  deferred; the flush then sends the reads of the whole batch in one Redis
//  round trip, decides each request on what came back, and sends all their
//  commits in a second round trip. Requests of one batch decide on the same
//  snapshot; that is safe because each commit re-checks, atomically, what it
//  relies on (versions, unique codes, the request id).

//  A stored reply (reads[2] of a create or update, read once the request
//  failed a check: s_replay_failed): answer with it.
static bool s_replay_found (registry_t *self, pmo_request_t *req, const registry_read_t *replay)
{
    if (!replay->found)
        return false;
    if (pmo_commit_confirm_replay (self->redis, replay->division, replay->request_id)) {
        registry_unavailable (req);
        return true;
    }
    req->raw_reply = replay->blob;
    req->raw_size = replay->size;
    pmo_debug ("registry: replay request_id=%s", req->header->request_id);
    return true;
}

//  The org unit a request names, read with its other reads: a live unit, or
//  the request fails naming the field.
static Pmo__OrgUnit *s_unit_read (pmo_request_t *req, const registry_read_t *read,
                                  const char *field)
{
    if (pmo_str_empty (read->id))
        FAIL (req, INVALID, field, "%s is required", field);
    else if (!read->found)
        FAIL (req, NOT_FOUND, field, "no org_unit with id '%.64s'", read->id);
    else if (((Pmo__OrgUnit *)read->msg)->archived)
        FAIL (req, FAILED_PRECONDITION, field, "org unit '%s' is archived", read->id);
    else
        return (Pmo__OrgUnit *)read->msg;
    return NULL;
}

//  A retried request is found by its commit (the script's SET NX GET of the
//  reply answers the stored one: PMO_COMMIT_DUPLICATE), so the batch does
//  not read the stored reply of every request: one Redis command fewer per
//  create and update. Only a request that failed a check its first attempt
//  may have changed (its version, its code) after the point where a retry
//  is told apart (pending->replay_due: once the caller may act) reads it,
//  and a stored reply found answers instead of the failure.
static void s_replay_failed (registry_t *self, pending_t *pending)
{
    pmo_request_t *req = pending->req;
    if (!pending->replay_due || !pmo_request_failed (req) ||
        req->code == PMO__ERROR_CODE__ERROR_UNAVAILABLE)
        return;
    registry_read_t *replay = &pending->reads[2];
    int rc = registry_store_read_all (self->store, req->arena, replay, 1);
    if (rc == 0 && !replay->found)
        return; //  not a retry: the failure stands
    //  The first attempt's reply instead of the failure, or unavailable
    //  when it cannot be told
    *pmo_wire_message_slot (req->reply, "error") = NULL;
    req->code = PMO__ERROR_CODE__ERROR_NONE;
    if (rc)
        registry_unavailable (req);
    else
        s_replay_found (self, req, replay);
}

//  Queue a deferred request with its reads for the flush.
static void s_pend (registry_t *self, pmo_request_t *req, const registry_read_t *reads, size_t n)
{
    pending_t *pending = &self->pending[self->n_pending++];
    memset (pending, 0, sizeof *pending);
    pending->req = req;
    for (size_t i = 0; i < 3; i++) {
        pending->reads[i] = reads[i];
        pending->reads[i].arena = req->arena;
    }
    pending->n_first = n;
    pmo_request_defer (req);
}

void registry_begin_create_project (registry_t *self, pmo_request_t *req, Pmo__Project *project)
{
    pmo_problem_t problem;
    project->id = NULL;
    if (registry_check_project (project, &problem))
        return pmo_request_fail_problem (req, &problem, "create_project");
    //  When this process knows where the unit sits (its division never
    //  changes), the unit, the stored reply of a retry and a new id are read
    //  together; otherwise the unit first, and the rest when deciding.
    const char *division = NULL, *path = NULL;
    bool placed = registry_store_place (self->store, project->org_unit, &division, &path);
    registry_read_t reads[3] = {
        {.op = REGISTRY_READ_ENTITY,
         .kind = registry_kind (PMO__ENTITY_KIND__ENTITY_KIND_ORG_UNIT),
         .id = project->org_unit},
        {.op = REGISTRY_READ_NEXT_ID,
         .kind = registry_kind (PMO__ENTITY_KIND__ENTITY_KIND_PROJECT),
         .division = division},
        {.op = REGISTRY_READ_REPLAY, .division = division, .request_id = req->header->request_id},
    };
    s_pend (self, req, reads, placed ? 2 : 1);
}

static void s_decide_create_project (registry_t *self, pending_t *pending)
{
    pmo_request_t *req = pending->req;
    Pmo__Project *project = ((Pmo__RegistryRequest *)req->request)->create_project;
    const registry_kind_t *kind = registry_kind (PMO__ENTITY_KIND__ENTITY_KIND_PROJECT);
    registry_read_t *reads = pending->reads;
    Pmo__OrgUnit *unit = s_unit_read (req, &reads[0], "create_project.org_unit");
    if (!unit || !registry_may (req, REGISTRY_WRITE_PROJECT, unit->path, "create projects"))
        return;
    //  From here on a failed check may be a retry's: see s_replay_failed
    reads[2].division = unit->division;
    pending->replay_due = true;
    if (pending->n_first == 1) {
        //  The first project in this unit since start: now the division is known
        reads[1].division = unit->division;
        if (registry_store_read_all (self->store, req->arena, reads + 1, 1))
            return registry_unavailable (req);
    }
    if (s_check_references (self, req, project, NULL, "create_project", unit))
        return;
    char *id = reads[1].new_id;
    registry_stamp_new (req, &project->base, id);
    project->org_unit_path = unit->path;
    project->division = unit->division;
    project->created_by = pmo_request_who (req)->subject;
    project->gate_request = NULL; //  only request_gate sets it
    registry_stamp_artifacts (project, NULL, project->created_by, pmo_now_ms (), req->arena);
    if (!project->priority)
        project->priority = 3;
    if (project->phase == PMO__PHASE__PHASE_UNSPECIFIED)
        project->phase = PMO__PHASE__PHASE_INITIATION;
    if (project->status == PMO__PROJECT_STATUS__PROJECT_STATUS_UNSPECIFIED)
        project->status = PMO__PROJECT_STATUS__PROJECT_STATUS_PROPOSED;
    pmo_commit_t *commit =
        registry_store_commit (self->store, unit->division, req->header->request_id);
    pending->entity =
        registry_store_put (self->store, commit, req->arena, unit->division, &project->base, 0);
    registry_store_claim_code (self->store, commit, req->arena, kind, unit->division, project->code,
                               id, true);
    registry_store_index (self->store, commit, req->arena, kind, unit->division, unit->id, id,
                          true);
    pending->event = registry_event (req, "project.created", unit->division, unit->id, unit->path,
                                     &project->base);
    registry_set_reply (req, &project->base);
    pending->division = unit->division;
    pending->commit = commit;
}

void registry_begin_update_project (registry_t *self, pmo_request_t *req, Pmo__Project *next)
{
    char *division = pmo_arena_alloc (req->arena, 40);
    if (pmo_str_empty (next->id))
        return (void)FAIL (req, INVALID, "update_project.id", "update_project.id is required");
    if (registry_store_division (self->store, registry_kind (PMO__ENTITY_KIND__ENTITY_KIND_PROJECT),
                                 next->id, division, 40))
        return (void)FAIL (req, INVALID, "update_project.id", "'%.64s' is not a project id",
                           next->id);
    registry_read_t reads[3] = {
        {.op = REGISTRY_READ_ENTITY,
         .kind = registry_kind (PMO__ENTITY_KIND__ENTITY_KIND_PROJECT),
         .id = next->id},
        {.op = REGISTRY_READ_ENTITY,
         .kind = registry_kind (PMO__ENTITY_KIND__ENTITY_KIND_ORG_UNIT),
         .id = next->org_unit},
        {.op = REGISTRY_READ_REPLAY, .division = division, .request_id = req->header->request_id},
    };
    s_pend (self, req, reads, 2);
}

static void s_decide_update_project (registry_t *self, pending_t *pending)
{
    pmo_request_t *req = pending->req;
    Pmo__Project *next = ((Pmo__RegistryRequest *)req->request)->update_project;
    const registry_kind_t *kind = registry_kind (PMO__ENTITY_KIND__ENTITY_KIND_PROJECT);
    registry_read_t *reads = pending->reads;
    Pmo__Project *stored = (Pmo__Project *)reads[0].msg;
    uint64_t version = reads[0].version;
    //  Not found and not visible look the same, so ids cannot be probed
    if (!reads[0].found ||
        !registry_allowed (pmo_request_who (req), REGISTRY_READ, stored->org_unit_path))
        return (void)FAIL (req, NOT_FOUND, "update_project.id", "no project with id '%.64s'",
                           next->id);
    if (!registry_may (req, REGISTRY_WRITE_PROJECT, stored->org_unit_path, "change projects"))
        return;
    //  From here on a failed check may be a retry's: see s_replay_failed
    pending->replay_due = true;
    pmo_problem_t problem;
    if (registry_check_project (next, &problem))
        return pmo_request_fail_problem (req, &problem, "update_project");
    if (!pmo_request_version_matches (req, "version", "project", next->version, version))
        return;
    if (next->phase != stored->phase)
        return (void)FAIL (req, FAILED_PRECONDITION, "update_project.phase",
                           "the phase changes only through its gate: use change_phase or "
                           "decide_gate");
    Pmo__OrgUnit *unit = s_unit_read (req, &reads[1], "update_project.org_unit");
    if (!unit)
        return;
    if (strcmp (unit->division, stored->division) != 0)
        return (void)FAIL (req, INVALID, "update_project.org_unit",
                           "a project moves only within its division ('%s')", stored->division);
    bool moved = strcmp (unit->id, stored->org_unit) != 0;
    if (moved && !registry_may (req, REGISTRY_WRITE_PROJECT, unit->path, "move projects"))
        return;
    if (s_check_references (self, req, next, stored, "update_project", unit))
        return;
    registry_stamp_update (req, &next->base, &stored->base, version);
    registry_stamp_artifacts (next, stored, pmo_request_who (req)->subject, pmo_now_ms (),
                              req->arena);
    next->org_unit_path = unit->path;
    next->division = stored->division;
    next->created_by = stored->created_by;
    next->gate_request = stored->gate_request; //  only the gate requests change it
    if (!next->priority)
        next->priority = 3;
    pmo_commit_t *commit =
        registry_store_commit (self->store, stored->division, req->header->request_id);
    pending->entity = registry_store_put (self->store, commit, req->arena, stored->division,
                                          &next->base, version);
    if (strcmp (stored->code, next->code) != 0) {
        registry_store_claim_code (self->store, commit, req->arena, kind, stored->division,
                                   stored->code, NULL, false);
        registry_store_claim_code (self->store, commit, req->arena, kind, stored->division,
                                   next->code, next->id, true);
    }
    if (moved) {
        registry_store_index (self->store, commit, req->arena, kind, stored->division,
                              stored->org_unit, next->id, false);
        registry_store_index (self->store, commit, req->arena, kind, stored->division, unit->id,
                              next->id, true);
    }
    pending->event = registry_event (req, "project.updated", stored->division, unit->id, unit->path,
                                     &next->base);
    registry_set_reply (req, &next->base);
    pending->division = stored->division;
    pending->commit = commit;
}

//  Finish every deferred request: one round trip for all their reads, one
//  for all their commits.
void registry_flush (void *state)
{
    registry_t *self = state;
    size_t n_reads = 0;
    for (size_t i = 0; i < self->n_pending; i++)
        for (size_t j = 0; j < self->pending[i].n_first; j++)
            self->reads[n_reads++] = self->pending[i].reads[j];
    if (registry_store_read_all (self->store, NULL, self->reads, n_reads)) {
        for (size_t i = 0; i < self->n_pending; i++)
            registry_unavailable (self->pending[i].req);
        self->n_pending = 0;
        return;
    }
    n_reads = 0;
    for (size_t i = 0; i < self->n_pending; i++)
        for (size_t j = 0; j < self->pending[i].n_first; j++)
            self->pending[i].reads[j] = self->reads[n_reads++];
    for (size_t i = 0; i < self->n_pending; i++) {
        pending_t *pending = &self->pending[i];
        Pmo__RegistryRequest *r = (Pmo__RegistryRequest *)pending->req->request;
        if (r->body_case == PMO__REGISTRY_REQUEST__BODY_CREATE_PROJECT)
            s_decide_create_project (self, pending);
        else
            s_decide_update_project (self, pending);
        s_replay_failed (self, pending);
    }
    //  Group commit: the commits of one division go in one script call
    //  (one dispatch, one AOF entry, one fsync with appendfsync always);
    //  the groups are queued, then their results read in order.
    pmo_commit_t *commits[PMO_SERVER_BATCH];
    size_t groups[PMO_SERVER_BATCH]; //  per group, its first commit in commits[]
    size_t members[PMO_SERVER_BATCH];
    bool sent[PMO_SERVER_BATCH];
    size_t n_commits = 0, n_groups = 0;
    for (size_t i = 0; i < self->n_pending; i++) {
        pending_t *pending = &self->pending[i];
        if (!pending->commit)
            continue;
        registry_commit_prepare (self, pending->req, pending->commit, pending->division,
                                 pending->event, &pending->entity, &pending->packed);
    }
    //  Ordered by division, each division's commits in their arrival order
    for (size_t i = 0; i < self->n_pending; i++) {
        pending_t *first = &self->pending[i];
        if (!first->commit || first->grouped)
            continue;
        groups[n_groups] = n_commits;
        for (size_t j = i; j < self->n_pending; j++) {
            pending_t *pending = &self->pending[j];
            if (pending->commit && !pending->grouped &&
                strcmp (pending->division, first->division) == 0) {
                pending->grouped = true;
                pending->slot = n_commits;
                commits[n_commits++] = pending->commit;
            }
        }
        members[n_groups] = n_commits - groups[n_groups];
        n_groups++;
    }
    for (size_t g = 0; g < n_groups; g++)
        sent[g] = pmo_commit_send_group (commits + groups[g], members[g], self->redis) == 0;
    pmo_commit_result_t *results = self->results;
    for (size_t g = 0; g < n_groups; g++) {
        pmo_commit_result_t *got = results + groups[g];
        if (sent[g])
            pmo_commit_recv_group (self->redis, got, members[g]);
        else
            for (size_t k = 0; k < members[g]; k++)
                got[k] = (pmo_commit_result_t){.status = PMO_COMMIT_UNAVAILABLE};
    }
    //  Not sent, or lost with the connection, or Redis forgot the script (a
    //  restart): each such commit is tried once more on its own below. Safe,
    //  because a commit that did happen answers with its stored reply.
    for (size_t i = 0; i < self->n_pending; i++) {
        pending_t *pending = &self->pending[i];
        pending->retry = pending->commit && results[pending->slot].status == PMO_COMMIT_UNAVAILABLE;
    }
    //  The whole batch's commits are confirmed by the replicas with one
    //  WAIT; if they are not, none of them is acknowledged (unavailable)
    pmo_commit_confirm (self->redis, results, n_commits);
    for (size_t i = 0; i < self->n_pending; i++) {
        pending_t *pending = &self->pending[i];
        if (!pending->commit)
            continue;
        pmo_commit_result_t *result = &results[pending->slot];
        if (pending->retry) {
            pmo_commit_result_clear (result);
            pmo_commit_exec (pending->commit, self->redis, result);
        }
        registry_commit_finish (self, pending->req, result, pending->division, pending->event,
                                &pending->packed);
        if (result->status == PMO_COMMIT_OK) {
            //  The reply is the one stored: send those bytes, not a new packing
            pending->req->raw_reply = pending->packed.reply;
            pending->req->raw_size = pending->packed.reply_size;
        }
        pmo_commit_result_clear (result);
        pmo_commit_destroy (&pending->commit);
    }
    self->n_pending = 0;
}
