/*  allocator_allocations.c: the allocation state machine.

    requested -> proposed (a resource soft-booked) -> committed (hard), or
    rejected / released; reshape changes weeks or hours of a live one.

    Capacity is checked inside the commit. Each resource has a booking
    ledger (its live bookings) with a version; every change of bookings
    reads the ledger, decides, and commits naming the version it read. Two
    requests racing for the same free hours both read version n; the first
    commit makes it n+1, the second is refused by the commit script, reads
    the ledger again, now sees the first one's hours, and decides again
    (approval needed, a warning, or it fits after all). So two commitments
    never both pass a capacity check that only one of them could pass.
    Each try here returns COMMIT_RETRY for that; the dispatch tries again.
*/
#include "allocator_internal.h"

#include "pmo_reflect.h"

#include <string.h>

//  ---------------------------------------------------------------------
//  Bookings

//  A step taken by the caller.
static Pmo__AllocationTransition *s_step (pmo_request_t *req, Pmo__Allocation *a,
                                          Pmo__AllocationState to, Pmo__Role role,
                                          const char *reason)
{
    return allocator_step (req, a, to, pmo_request_who (req)->subject, role, reason);
}

//  Weeks of an allocation as indexes (validated when it was written).
static void s_window (const Pmo__Allocation *a, int32_t *first, int32_t *last)
{
    if (allocator_week_parse (a->start_week, first))
        *first = 0;
    if (allocator_week_parse (a->end_week, last))
        *last = *first;
}

static void s_stamp (Pmo__Allocation *a, uint64_t version)
{
    a->version = version + 1;
    a->updated_ms = pmo_now_ms ();
}

//  ---------------------------------------------------------------------
//  Requests and matching

//  A try's helper has done its part; the try goes on (beside COMMIT_*).
#define GO_ON 2

Pmo__Allocation *allocator_allocation_new (pmo_request_t *req, const Pmo__Project *project,
                                           const Pmo__AllocationRequest *rq, Pmo__Role role)
{
    Pmo__Allocation *a = pmo_arena_alloc (req->arena, sizeof (Pmo__Allocation));
    pmo__allocation__init (a);
    a->project_id = project->id;
    a->project_code = project->code;
    a->project_name = project->name;
    a->project_priority = project->priority ? project->priority : 3;
    a->project_org_unit = project->org_unit;
    a->project_org_unit_path = project->org_unit_path;
    a->project_division = project->division;
    a->role = rq->role;
    a->skill = rq->skill;
    a->min_level = rq->min_level;
    a->hours_per_week = rq->hours_per_week;
    a->start_week = rq->start_week;
    a->end_week = pmo_str_empty (rq->end_week) ? rq->start_week : rq->end_week;
    a->note = rq->note;
    a->requested_by = pmo_request_who (req)->subject;
    a->state = PMO__ALLOCATION_STATE__ALLOCATION_STATE_UNSPECIFIED;
    s_step (req, a, PMO__ALLOCATION_STATE__ALLOCATION_STATE_REQUESTED, role, rq->note);
    return a;
}

//  A named resource: the request waits for its resource side to propose.
//  The allocation is kept in the resource's division (*division).
static int s_request_named (allocator_t *self, pmo_request_t *req, const Pmo__AllocationRequest *rq,
                            Pmo__Allocation *a, const char **division)
{
    char named[40];
    if (allocator_store_division (rq->resource_id, ALLOCATOR_PREFIX_RESOURCE, named, sizeof named))
        return FAIL (req, INVALID, "request_allocation.resource_id", "'%.64s' is not a resource id",
                     rq->resource_id),
               COMMIT_FAIL;
    *division = pmo_arena_strdup (req->arena, named);
    if (allocator_replayed_in (self, req, *division))
        return COMMIT_DONE;
    Pmo__Resource *resource;
    uint64_t version;
    int rc = allocator_store_read_resource (self->store, req->arena, rq->resource_id, &resource,
                                            &version);
    if (rc < 0)
        return pmo_request_unavailable (req, ALLOCATOR_STORE), COMMIT_FAIL;
    if (rc == 0)
        return FAIL (req, NOT_FOUND, "request_allocation.resource_id",
                     "no resource with id '%.64s'", rq->resource_id),
               COMMIT_FAIL;
    if (resource->archived)
        return FAIL (req, FAILED_PRECONDITION, "request_allocation.resource_id",
                     "resource %s is archived", resource->id),
               COMMIT_FAIL;
    allocator_warn_skill (req, resource, rq);
    allocator_assign (a, resource);
    return GO_ON;
}

//  No resource named: propose the best match that still has the hours
//  (its ledger in *ledger, the allocation kept in its division), or leave
//  the request as unfilled demand in the project's division.
static int s_request_matched (allocator_t *self, pmo_request_t *req,
                              const Pmo__AllocationRequest *rq, const Pmo__Project *project,
                              Pmo__Role role, Pmo__Allocation *a, int32_t first, int32_t last,
                              const char **division, Pmo__BookingLedger **ledger,
                              uint64_t *ledger_version)
{
    if (allocator_check_names (self, req, rq->role, rq->skill, "request_allocation"))
        return COMMIT_FAIL;
    if (!pmo_str_empty (rq->pool_org_unit) &&
        !allocator_unit (self->registry, req, rq->pool_org_unit,
                         "request_allocation.pool_org_unit"))
        return COMMIT_FAIL;
    //  Where it will be kept depends on the match: a retry may match
    //  someone else, so look for a stored reply in every division
    char **divisions;
    size_t n = allocator_index_divisions (self->index, req->arena, &divisions);
    char **all = pmo_arena_alloc (req->arena, (n + 2) * sizeof (char *));
    memcpy (all, divisions, n * sizeof (char *));
    all[n++] = project->division;
    if (allocator_replayed (self->store, req, all, n))
        return COMMIT_DONE;
    Pmo__MatchResult *match =
        allocator_match (self, req, rq->role, rq->skill, rq->min_level, rq->hours_per_week, first,
                         last, rq->pool_org_unit, project->division, MATCH_DEFAULT);
    allocator_reply (req)->match_detail = match;
    *division = project->division;
    *ledger = NULL;
    if (!match->fits) {
        allocator_warn (req, pmo_arena_printf (req->arena,
                                               "nobody fits: %s; the request waits as "
                                               "unfilled demand (see match_detail for the "
                                               "shortfall by week)",
                                               match->summary));
        return GO_ON;
    }
    const Pmo__MatchCandidate *best = match->candidates[0];
    Pmo__Resource *resource;
    uint64_t resource_version;
    int rc = allocator_store_read_booked (self->store, req->arena, best->resource_id, &resource,
                                          &resource_version, ledger, ledger_version);
    if (rc < 0)
        return pmo_request_unavailable (req, ALLOCATOR_STORE), COMMIT_FAIL;
    if (rc == 1 && !resource->archived &&
        allocator_ledger_fits (resource, *ledger, first, last, rq->hours_per_week)) {
        *division = resource->division;
        allocator_assign (a, resource);
        s_step (req, a, PMO__ALLOCATION_STATE__ALLOCATION_STATE_PROPOSED, role,
                pmo_arena_printf (req->arena, "best match: %s", best->explanation));
    } else {
        //  The index is behind Redis (another replica booked it)
        *ledger = NULL;
        allocator_warn (req, pmo_arena_printf (req->arena,
                                               "the best candidate %s no longer has the hours; "
                                               "the request waits as unfilled demand",
                                               best->resource_id));
    }
    return GO_ON;
}

int allocator_try_request (allocator_t *self, pmo_request_t *req, Pmo__AllocationRequest *rq)
{
    Pmo__AllocatorReply *reply = allocator_reply (req);
    reply->n_warnings = 0;
    reply->match_detail = NULL;
    pmo_problem_t problem;
    int32_t first, last;
    if (allocator_check_request (rq, &first, &last, &problem))
        return pmo_request_fail_problem (req, &problem, "request_allocation"), COMMIT_FAIL;
    if (!allocator_ready (self, req))
        return COMMIT_FAIL;
    Pmo__Project *project =
        allocator_project (self->registry, req, rq->project_id, "request_allocation.project_id");
    if (!project)
        return COMMIT_FAIL;
    Pmo__Role role = allocator_may (req, ALLOCATOR_PROJECT, project->org_unit_path,
                                    "request resources for projects");
    if (!role)
        return COMMIT_FAIL;
    Pmo__Allocation *a = allocator_allocation_new (req, project, rq, role);
    Pmo__BookingLedger *ledger = NULL;
    uint64_t ledger_version = 0;
    const char *division = NULL;
    int rc = !pmo_str_empty (rq->resource_id)
                 ? s_request_named (self, req, rq, a, &division)
                 : s_request_matched (self, req, rq, project, role, a, first, last, &division,
                                      &ledger, &ledger_version);
    if (rc != GO_ON)
        return rc;
    char *id;
    if (allocator_store_next_id (self->store, req->arena, ALLOCATOR_PREFIX_ALLOCATION, division,
                                 &id))
        return pmo_request_unavailable (req, ALLOCATOR_STORE), COMMIT_FAIL;
    a->id = id;
    a->division = (char *)division;
    a->version = 1;
    a->created_ms = a->updated_ms = pmo_now_ms ();
    if (ledger)
        allocator_ledger_book (req, ledger, a, first, last);
    pmo_commit_t *commit = allocator_store_commit (self->store, division, req->header->request_id);
    allocator_store_put_allocation (self->store, commit, req->arena, a, 0);
    allocator_store_index (self->store, commit, req->arena, ALLOCATOR_PREFIX_ALLOCATION, division,
                           id);
    if (ledger)
        allocator_store_put_ledger (self->store, commit, req->arena, division, ledger,
                                    ledger_version);
    const char *type = a->state == PMO__ALLOCATION_STATE__ALLOCATION_STATE_PROPOSED
                           ? "allocation.proposed"
                           : "allocation.requested";
    Pmo__Event *events[1] = {allocator_event (req, type, division, a->project_org_unit,
                                              a->project_org_unit_path, id, 1, "allocation",
                                              &a->base)};
    pmo_reflect_set_oneof (req->reply, "allocation", &a->base);
    rc = allocator_commit (self, req, commit, division, events, 1);
    if (rc == COMMIT_DONE && !req->raw_reply)
        allocator_index_put_allocation (self->index, a);
    return rc;
}

//  ---------------------------------------------------------------------
//  Steps of the state machine

//  What every step reads first: the allocation, with its version.
Pmo__Allocation *allocator_fetch_allocation (allocator_t *self, pmo_request_t *req, const char *id,
                                             const char *field, uint64_t *version)
{
    Pmo__Allocation *a = NULL;
    if (pmo_str_empty (id)) {
        FAIL (req, INVALID, field, "%s is required", field);
        return NULL;
    }
    char division[40];
    if (allocator_store_division (id, ALLOCATOR_PREFIX_ALLOCATION, division, sizeof division)) {
        FAIL (req, INVALID, field, "'%.64s' is not an allocation id", id);
        return NULL;
    }
    int rc = allocator_store_read_allocation (self->store, req->arena, id, &a, version);
    if (rc < 0) {
        pmo_request_unavailable (req, ALLOCATOR_STORE);
        return NULL;
    }
    if (rc == 0) {
        FAIL (req, NOT_FOUND, field, "no allocation with id '%.64s'", id);
        return NULL;
    }
    return a;
}

static bool s_allowed (pmo_request_t *req, const Pmo__Allocation *a, Pmo__AllocationState to,
                       const char *field)
{
    if (allocator_transition_allowed (a->state, to))
        return true;
    FAIL (req, FAILED_PRECONDITION, field, "allocation %s is %s: it cannot become %s", a->id,
          allocator_state_name (a->state), allocator_state_name (to));
    return false;
}

//  Unfilled demand proposed without a resource: match again now, for the
//  best candidate with the hours in every week in a's division. NULL after
//  failing req.
static const char *s_propose_match (allocator_t *self, pmo_request_t *req, const Pmo__Allocation *a,
                                    int32_t first, int32_t last)
{
    if (!allocator_ready (self, req))
        return NULL;
    Pmo__MatchResult *match =
        allocator_match (self, req, a->role, a->skill, a->min_level, a->hours_per_week, first, last,
                         NULL, a->project_division, MATCH_DEFAULT);
    allocator_reply (req)->match_detail = match;
    for (size_t i = 0; i < match->n_candidates; i++)
        if (match->candidates[i]->fits && strcmp (match->candidates[i]->division, a->division) == 0)
            return match->candidates[i]->resource_id;
    FAIL (req, FAILED_PRECONDITION, "propose.resource_id",
          "nobody in division %s has %u h free in every week: %s", a->division, a->hours_per_week,
          match->summary);
    return NULL;
}

int allocator_try_propose (allocator_t *self, pmo_request_t *req, Pmo__AllocationStep *step)
{
    Pmo__AllocatorReply *reply = allocator_reply (req);
    reply->n_warnings = 0;
    uint64_t version;
    Pmo__Allocation *a = allocator_fetch_allocation (self, req, step->allocation_id,
                                                     "propose.allocation_id", &version);
    if (!a)
        return COMMIT_FAIL;
    int32_t first, last;
    s_window (a, &first, &last);
    //  Who proposes whom: the project side, or the resource side of the
    //  resource proposed (checked below when it is known)
    Pmo__Role role =
        allocator_role_for (pmo_request_who (req), ALLOCATOR_PROJECT, a->project_org_unit_path);
    //  One the caller may not see: only the steward of the resource it names
    //  may propose on it (checked below); to anyone else it is not there
    bool hidden = !role && !allocator_sees (req, a);
    if (hidden && pmo_str_empty (step->resource_id))
        return allocator_hidden (req, a, "propose.allocation_id"), COMMIT_FAIL;
    if (allocator_replayed_in (self, req, a->division))
        return COMMIT_DONE;
    if (!pmo_request_version_matches (req, "version", "allocation", step->version, version) ||
        !s_allowed (req, a, PMO__ALLOCATION_STATE__ALLOCATION_STATE_PROPOSED, "propose"))
        return COMMIT_FAIL;
    const char *target = !pmo_str_empty (step->resource_id) ? step->resource_id : a->resource_id;
    if (pmo_str_empty (target) && !(target = s_propose_match (self, req, a, first, last)))
        return COMMIT_FAIL;
    char division[40];
    if (allocator_store_division (target, ALLOCATOR_PREFIX_RESOURCE, division, sizeof division))
        return FAIL (req, INVALID, "propose.resource_id", "'%.64s' is not a resource id", target),
               COMMIT_FAIL;
    if (strcmp (division, a->division) != 0)
        return FAIL (req, FAILED_PRECONDITION, "propose.resource_id",
                     "resource %s belongs to division %s, but allocation %s is kept in %s: "
                     "reject it and request %s by name",
                     target, division, a->id, a->division, target),
               COMMIT_FAIL;
    Pmo__Resource *r;
    Pmo__BookingLedger *ledger;
    uint64_t rv, lv;
    int rc = allocator_store_read_booked (self->store, req->arena, target, &r, &rv, &ledger, &lv);
    if (rc < 0)
        return pmo_request_unavailable (req, ALLOCATOR_STORE), COMMIT_FAIL;
    if (rc == 0)
        return FAIL (req, NOT_FOUND, "propose.resource_id", "no resource with id '%.64s'", target),
               COMMIT_FAIL;
    if (r->archived)
        return FAIL (req, FAILED_PRECONDITION, "propose.resource_id", "resource %s is archived",
                     r->id),
               COMMIT_FAIL;
    if (!role)
        role =
            allocator_role_for (pmo_request_who (req), ALLOCATOR_RESOURCE, r->home_org_unit_path);
    if (!role && hidden)
        return allocator_hidden (req, a, "propose.allocation_id"), COMMIT_FAIL;
    if (!role)
        return FAIL (req, FORBIDDEN, "",
                     "%s may not propose: it takes a project role in '%s' or a resource role "
                     "in '%s'",
                     pmo_request_who (req)->subject, a->project_org_unit_path,
                     r->home_org_unit_path),
               COMMIT_FAIL;
    //  Another resource instead: take the soft booking off the old one
    Pmo__BookingLedger *old_ledger = NULL;
    uint64_t old_lv = 0;
    if (a->state == PMO__ALLOCATION_STATE__ALLOCATION_STATE_PROPOSED &&
        strcmp (a->resource_id, r->id) != 0) {
        Pmo__Resource *old;
        uint64_t ov;
        if (allocator_store_read_booked (self->store, req->arena, a->resource_id, &old, &ov,
                                         &old_ledger, &old_lv) < 0)
            return pmo_request_unavailable (req, ALLOCATOR_STORE), COMMIT_FAIL;
        allocator_ledger_remove (old_ledger, a->id);
    } else if (a->state == PMO__ALLOCATION_STATE__ALLOCATION_STATE_PROPOSED)
        return FAIL (req, FAILED_PRECONDITION, "propose.resource_id",
                     "allocation %s is already proposed on %s", a->id, r->id),
               COMMIT_FAIL;
    allocator_assign (a, r);
    Pmo__AllocationTransition *t =
        s_step (req, a, PMO__ALLOCATION_STATE__ALLOCATION_STATE_PROPOSED, role, step->reason);
    allocator_ledger_book (req, ledger, a, first, last);
    int32_t first_over = 0;
    size_t soft = allocator_ledger_soft_over (r, ledger, first, last, &first_over);
    if (soft) {
        char *text =
            pmo_arena_printf (req->arena,
                              "%s is booked beyond capacity (committed + proposed) in %zu week(s) "
                              "from %s: committing will over-allocate unless other bookings move",
                              r->name, soft, allocator_week_text (req, first_over));
        allocator_warn (req, text);
        allocator_step_warn (req, t, text);
    }
    s_stamp (a, version);
    pmo_commit_t *commit =
        allocator_store_commit (self->store, a->division, req->header->request_id);
    allocator_store_put_allocation (self->store, commit, req->arena, a, version);
    allocator_store_put_ledger (self->store, commit, req->arena, a->division, ledger, lv);
    if (old_ledger)
        allocator_store_put_ledger (self->store, commit, req->arena, a->division, old_ledger,
                                    old_lv);
    Pmo__Event *events[1] = {allocator_event (req, "allocation.proposed", a->division,
                                              a->project_org_unit, a->project_org_unit_path, a->id,
                                              a->version, "allocation", &a->base)};
    pmo_reflect_set_oneof (req->reply, "allocation", &a->base);
    rc = allocator_commit (self, req, commit, a->division, events, 1);
    if (rc == COMMIT_DONE && !req->raw_reply)
        allocator_index_put_allocation (self->index, a);
    return rc;
}

int allocator_try_commit (allocator_t *self, pmo_request_t *req, Pmo__AllocationStep *step)
{
    Pmo__AllocatorReply *reply = allocator_reply (req);
    reply->n_warnings = 0;
    reply->over_allocation = NULL;
    reply->approval_needed = NULL;
    uint64_t version;
    Pmo__Allocation *a = allocator_fetch_allocation (self, req, step->allocation_id,
                                                     "commit.allocation_id", &version);
    if (!a)
        return COMMIT_FAIL;
    Pmo__Role role = PMO__ROLE__ROLE_UNSPECIFIED;
    if (step->approve) {
        //  Only the resource side approves
        if (allocator_hidden (req, a, "commit.allocation_id"))
            return COMMIT_FAIL;
        role = allocator_role_for (pmo_request_who (req), ALLOCATOR_RESOURCE,
                                   a->resource_org_unit_path);
        if (!role)
            return FAIL (req, FORBIDDEN, "commit.approve",
                         "%s may not approve commitments of '%s': it takes a resource manager, "
                         "PMO manager or PMO director there",
                         pmo_request_who (req)->subject,
                         pmo_str_empty (a->resource_org_unit_path) ? a->project_org_unit_path
                                                                   : a->resource_org_unit_path),
                   COMMIT_FAIL;
    } else if (!(role =
                     allocator_may_either (req, a, "commit allocations", "commit.allocation_id")))
        return COMMIT_FAIL;
    if (allocator_replayed_in (self, req, a->division))
        return COMMIT_DONE;
    if (!pmo_request_version_matches (req, "version", "allocation", step->version, version))
        return COMMIT_FAIL;
    if (a->state == PMO__ALLOCATION_STATE__ALLOCATION_STATE_REQUESTED)
        return FAIL (req, FAILED_PRECONDITION, "commit",
                     "allocation %s is requested: propose a resource (soft booking) first", a->id),
               COMMIT_FAIL;
    if (!s_allowed (req, a, PMO__ALLOCATION_STATE__ALLOCATION_STATE_COMMITTED, "commit"))
        return COMMIT_FAIL;
    //  Fresh from the registry: the project still takes bookings, and its
    //  priority now; the PMO type in force at the resource's home unit
    //  A booking for another stack's project (allocator_xdiv.c): that
    //  project lives in its own stack's registry; its snapshot came with it
    bool foreign = !pmo_str_empty (a->origin_id);
    Pmo__Project *project =
        foreign ? NULL
                : allocator_project (self->registry, req, a->project_id, "commit.allocation_id");
    if (!project && !foreign)
        return COMMIT_FAIL;
    if (project)
        a->project_priority = project->priority ? project->priority : 3;
    Pmo__Resource *r;
    Pmo__BookingLedger *ledger;
    uint64_t rv, lv;
    int rc = allocator_store_read_booked (self->store, req->arena, a->resource_id, &r, &rv, &ledger,
                                          &lv);
    if (rc < 0)
        return pmo_request_unavailable (req, ALLOCATOR_STORE), COMMIT_FAIL;
    if (rc == 0)
        return FAIL (req, INTERNAL, "", "resource %s of allocation %s is missing", a->resource_id,
                     a->id),
               COMMIT_FAIL;
    Pmo__OrgUnit *unit =
        allocator_unit (self->registry, req, r->home_org_unit, "commit.allocation_id");
    if (!unit)
        return COMMIT_FAIL;
    int32_t first, last;
    s_window (a, &first, &last);
    Pmo__AllocationState from = a->state;
    a->state = PMO__ALLOCATION_STATE__ALLOCATION_STATE_COMMITTED;
    allocator_ledger_book (req, ledger, a, first, last);
    a->state = from;
    allocator_approval_t approval;
    allocator_judge_commit (req, r, ledger, first, last, a->project_code, a->project_division, unit,
                            &approval);
    if (approval.needed && !step->approve) {
        reply->approval_needed = pmo_arena_strdup (req->arena, approval.reason);
        return FAIL (req, FAILED_PRECONDITION, "commit.approve", "approval needed: %s",
                     approval.reason),
               COMMIT_FAIL;
    }
    Pmo__AllocationTransition *t =
        s_step (req, a, PMO__ALLOCATION_STATE__ALLOCATION_STATE_COMMITTED, role, step->reason);
    t->approved = step->approve;
    t->pmo_type = unit->effective_pmo_type;
    for (size_t i = 0; i < approval.n_warnings; i++) {
        char *text = pmo_arena_printf (req->arena, "%s%s", step->approve ? "approved: " : "",
                                       approval.warnings[i]);
        allocator_warn (req, text);
        allocator_step_warn (req, t, text);
    }
    Pmo__OverAllocation *change = allocator_over_change (req, r, ledger);
    s_stamp (a, version);
    pmo_commit_t *commit =
        allocator_store_commit (self->store, a->division, req->header->request_id);
    allocator_store_put_allocation (self->store, commit, req->arena, a, version);
    allocator_store_put_ledger (self->store, commit, req->arena, a->division, ledger, lv);
    Pmo__Event *events[2];
    size_t n_events = 0;
    events[n_events++] =
        allocator_event (req, "allocation.committed", a->division, a->project_org_unit,
                         a->project_org_unit_path, a->id, a->version, "allocation", &a->base);
    allocator_over_event (req, r, change, events, &n_events);
    pmo_reflect_set_oneof (req->reply, "allocation", &a->base);
    rc = allocator_commit (self, req, commit, a->division, events, n_events);
    if (rc == COMMIT_DONE && !req->raw_reply)
        allocator_index_put_allocation (self->index, a);
    return rc;
}

bool allocator_end_allowed (pmo_request_t *req, const Pmo__Allocation *a, Pmo__AllocationState to,
                            const char *reason, const char *field)
{
    if (!s_allowed (req, a, to, field))
        return false;
    if (to == PMO__ALLOCATION_STATE__ALLOCATION_STATE_REJECTED && pmo_str_empty (reason))
        return FAIL (req, INVALID, pmo_arena_printf (req->arena, "%s.reason", field),
                     "a rejection needs a reason: the requester learns why"),
               false;
    if (!pmo_str_empty (reason) && (strlen (reason) > 2000 || !pmo_text_valid (reason)))
        return FAIL (req, INVALID, pmo_arena_printf (req->arena, "%s.reason", field),
                     "reason must be UTF-8 text of at most 2000 characters"),
               false;
    return true;
}

//  Reject (requested or proposed) or release (proposed or committed): the
//  hours booked are freed in the same commit.
static int s_try_end (allocator_t *self, pmo_request_t *req, Pmo__AllocationStep *step,
                      Pmo__AllocationState to, const char *field)
{
    Pmo__AllocatorReply *reply = allocator_reply (req);
    reply->over_allocation = NULL;
    uint64_t version;
    Pmo__Allocation *a = allocator_fetch_allocation (
        self, req, step->allocation_id, pmo_arena_printf (req->arena, "%s.allocation_id", field),
        &version);
    if (!a)
        return COMMIT_FAIL;
    Pmo__Role role = allocator_may_either (
        req, a,
        to == PMO__ALLOCATION_STATE__ALLOCATION_STATE_REJECTED ? "reject allocations"
                                                               : "release allocations",
        pmo_arena_printf (req->arena, "%s.allocation_id", field));
    if (!role)
        return COMMIT_FAIL;
    if (allocator_replayed_in (self, req, a->division))
        return COMMIT_DONE;
    if (!pmo_request_version_matches (req, "version", "allocation", step->version, version) ||
        !allocator_end_allowed (req, a, to, step->reason, field))
        return COMMIT_FAIL;
    bool booked = allocator_state_books (a->state);
    Pmo__Resource *r = NULL;
    Pmo__BookingLedger *ledger = NULL;
    uint64_t rv, lv = 0;
    if (booked) {
        int rc = allocator_store_read_booked (self->store, req->arena, a->resource_id, &r, &rv,
                                              &ledger, &lv);
        if (rc < 0)
            return pmo_request_unavailable (req, ALLOCATOR_STORE), COMMIT_FAIL;
        if (rc == 0)
            booked = false;
    }
    s_step (req, a, to, role, step->reason);
    Pmo__OverAllocation *change = NULL;
    if (booked) {
        allocator_ledger_remove (ledger, a->id);
        change = allocator_over_change (req, r, ledger);
    }
    s_stamp (a, version);
    pmo_commit_t *commit =
        allocator_store_commit (self->store, a->division, req->header->request_id);
    allocator_store_put_allocation (self->store, commit, req->arena, a, version);
    if (booked)
        allocator_store_put_ledger (self->store, commit, req->arena, a->division, ledger, lv);
    Pmo__Event *events[2];
    size_t n_events = 0;
    events[n_events++] = allocator_event (
        req,
        to == PMO__ALLOCATION_STATE__ALLOCATION_STATE_REJECTED ? "allocation.rejected"
                                                               : "allocation.released",
        a->division, a->project_org_unit, a->project_org_unit_path, a->id, a->version, "allocation",
        &a->base);
    if (r)
        allocator_over_event (req, r, change, events, &n_events);
    pmo_reflect_set_oneof (req->reply, "allocation", &a->base);
    int rc = allocator_commit (self, req, commit, a->division, events, n_events);
    if (rc == COMMIT_DONE && !req->raw_reply)
        allocator_index_put_allocation (self->index, a);
    return rc;
}

int allocator_try_reshape (allocator_t *self, pmo_request_t *req, Pmo__AllocationReshape *rs)
{
    Pmo__AllocatorReply *reply = allocator_reply (req);
    reply->n_warnings = 0;
    reply->over_allocation = NULL;
    uint64_t version;
    Pmo__Allocation *a = allocator_fetch_allocation (self, req, rs->allocation_id,
                                                     "reshape.allocation_id", &version);
    if (!a)
        return COMMIT_FAIL;
    Pmo__Role role = allocator_may_either (req, a, "reshape allocations", "reshape.allocation_id");
    if (!role)
        return COMMIT_FAIL;
    if (allocator_replayed_in (self, req, a->division))
        return COMMIT_DONE;
    if (!pmo_request_version_matches (req, "version", "allocation", rs->version, version))
        return COMMIT_FAIL;
    if (!allocator_state_live (a->state))
        return FAIL (req, FAILED_PRECONDITION, "reshape", "allocation %s is %s: it is over", a->id,
                     allocator_state_name (a->state)),
               COMMIT_FAIL;
    int32_t old_first, old_last, first, last;
    s_window (a, &old_first, &old_last);
    const char *start = pmo_str_empty (rs->start_week) ? a->start_week : rs->start_week;
    const char *end = pmo_str_empty (rs->end_week) ? a->end_week : rs->end_week;
    pmo_problem_t problem;
    if (allocator_check_window (start, end, "start_week", "end_week", ALLOCATOR_MAX_SPAN_WEEKS,
                                &first, &last, &problem))
        return pmo_request_fail_problem (req, &problem, "reshape"), COMMIT_FAIL;
    uint32_t hours = rs->hours_per_week ? rs->hours_per_week : a->hours_per_week;
    if (hours > ALLOCATOR_MAX_HOURS)
        return FAIL (req, INVALID, "reshape.hours_per_week",
                     "reshape.hours_per_week is %u; it must be 1 to %d hours", hours,
                     ALLOCATOR_MAX_HOURS),
               COMMIT_FAIL;
    if (!pmo_str_empty (rs->reason) && (strlen (rs->reason) > 2000 || !pmo_text_valid (rs->reason)))
        return FAIL (req, INVALID, "reshape.reason",
                     "reason must be UTF-8 text of at most 2000 characters"),
               COMMIT_FAIL;
    if (first == old_first && last == old_last && hours == a->hours_per_week)
        return FAIL (req, INVALID, "reshape", "nothing changes: give new weeks or hours"),
               COMMIT_FAIL;
    if (a->state == PMO__ALLOCATION_STATE__ALLOCATION_STATE_COMMITTED &&
        (first < old_first || last > old_last || hours > a->hours_per_week))
        return FAIL (req, FAILED_PRECONDITION, "reshape",
                     "a committed allocation only shrinks (weeks %s to %s, %u h/week): request "
                     "another allocation for more",
                     a->start_week, a->end_week, a->hours_per_week),
               COMMIT_FAIL;
    char *change =
        pmo_arena_printf (req->arena, "%s..%s %u h/week -> %s..%s %u h/week", a->start_week,
                          a->end_week, a->hours_per_week, allocator_week_text (req, first),
                          allocator_week_text (req, last), hours);
    Pmo__Resource *r = NULL;
    Pmo__BookingLedger *ledger = NULL;
    uint64_t rv, lv = 0;
    bool booked = allocator_state_books (a->state);
    if (booked) {
        int rc = allocator_store_read_booked (self->store, req->arena, a->resource_id, &r, &rv,
                                              &ledger, &lv);
        if (rc < 0)
            return pmo_request_unavailable (req, ALLOCATOR_STORE), COMMIT_FAIL;
        booked = rc == 1;
    }
    a->start_week = (char *)allocator_week_text (req, first);
    a->end_week = (char *)allocator_week_text (req, last);
    a->hours_per_week = hours;
    Pmo__AllocationTransition *t = s_step (req, a, a->state, role, rs->reason);
    t->change = change;
    Pmo__OverAllocation *over = NULL;
    if (booked) {
        allocator_ledger_book (req, ledger, a, first, last);
        over = allocator_over_change (req, r, ledger);
        int32_t first_over = 0;
        if (a->state == PMO__ALLOCATION_STATE__ALLOCATION_STATE_PROPOSED &&
            allocator_ledger_soft_over (r, ledger, first, last, &first_over))
            allocator_warn (req,
                            pmo_arena_printf (req->arena,
                                              "%s is booked beyond capacity from %s (committed + "
                                              "proposed)",
                                              r->name, allocator_week_text (req, first_over)));
    }
    s_stamp (a, version);
    pmo_commit_t *commit =
        allocator_store_commit (self->store, a->division, req->header->request_id);
    allocator_store_put_allocation (self->store, commit, req->arena, a, version);
    if (booked)
        allocator_store_put_ledger (self->store, commit, req->arena, a->division, ledger, lv);
    Pmo__Event *events[2];
    size_t n_events = 0;
    events[n_events++] =
        allocator_event (req, "allocation.updated", a->division, a->project_org_unit,
                         a->project_org_unit_path, a->id, a->version, "allocation", &a->base);
    if (r)
        allocator_over_event (req, r, over, events, &n_events);
    pmo_reflect_set_oneof (req->reply, "allocation", &a->base);
    int rc = allocator_commit (self, req, commit, a->division, events, n_events);
    if (rc == COMMIT_DONE && !req->raw_reply)
        allocator_index_put_allocation (self->index, a);
    return rc;
}

int allocator_try_reject (allocator_t *self, pmo_request_t *req, Pmo__AllocationStep *step)
{
    return s_try_end (self, req, step, PMO__ALLOCATION_STATE__ALLOCATION_STATE_REJECTED, "reject");
}

int allocator_try_release (allocator_t *self, pmo_request_t *req, Pmo__AllocationStep *step)
{
    return s_try_end (self, req, step, PMO__ALLOCATION_STATE__ALLOCATION_STATE_RELEASED, "release");
}
