/*  allocator_xdiv.c: cross-division resource requests between stacks (see
    the header for the flow).

    The keys it adds to the allocator's layout are spelled by
    allocator_store.c (foreign requests, their claims and their divisions).

    Every change follows the allocator's order: read, check the caller,
    answer a retry from the stored reply, decide, and write the entity, its
    ledger, its claim and its event(s) in one commit. A booking re-reads
    the resource's ledger and decides again when the commit finds it moved.
*/
#include "allocator_xdiv.h"
#include "allocator_model.h"
#include "allocator_request.h"

#include "pmo_log.h"
#include "pmo_reflect.h"

#include <assert.h>
#include <string.h>

#define LIST_DEFAULT 50
#define LIST_MAX     500
#define MATCH_LIMIT  10

//  One booking to make in the owning division, wherever the ask came from.
typedef struct {
    const char *target;               //  the owning division: the allocation is kept there
    const Pmo__AllocationRequest *rq; //  checked (names lower-cased)
    int32_t first, last;              //  its weeks as indexes
    const char *project_id;
    const char *project_code;
    const char *project_name;
    uint32_t project_priority;
    const char *project_org_unit;
    const char *project_org_unit_path;
    const char *project_division;
    const char *requested_by;    //  who asked, in the requesting division
    Pmo__Role requester_role;    //  the role they asked in (known in one stack only)
    const char *origin_division; //  "" in one stack
    const char *origin_id;       //  the foreign request's id; "" in one stack
    const char *field;           //  where errors point, e.g. "request_foreign.request"
} xdiv_ask_t;

//  ---------------------------------------------------------------------
//  Helpers

//  Deliveries between stacks come from an uplink, a system identity that
//  holds admin at the hub: nobody else may book for another stack's project
//  or rewrite what became of a foreign request.
static bool s_system (allocator_xdiv_env_t *env, pmo_request_t *req, const char *what)
{
    const Pmo__Identity *who = pmo_request_who (req);
    for (size_t i = 0; who && i < who->n_grants; i++)
        if (who->grants[i]->role == PMO__ROLE__ROLE_ADMIN && who->grants[i]->org_unit &&
            strcmp (who->grants[i]->org_unit, env->hub) == 0)
            return true;
    FAIL (req, FORBIDDEN, "", "%s is for the federation uplink (admin at '%s'), not for %s", what,
          env->hub, who && who->subject ? who->subject : "anyone else");
    return false;
}

//  The stored reply of this request id in division, if it was done (true,
//  and the reply is set).
static bool s_replayed (allocator_xdiv_env_t *env, pmo_request_t *req, const char *division)
{
    char *one[] = {(char *)division};
    return allocator_replayed (env->store, req, one, 1);
}

//  Write commit with its events and the reply (already filled), publish the
//  events. COMMIT_DONE (also a duplicate: the first reply is sent),
//  COMMIT_RETRY (a ledger or a claim moved: read again), COMMIT_FAIL.
static int s_exec (allocator_xdiv_env_t *env, pmo_request_t *req, pmo_commit_t *commit,
                   const char *division, Pmo__Event **events, size_t n_events)
{
    pmo_commit_result_t result;
    int rc = COMMIT_FAIL;
    switch (allocator_commit_write (env->store, env->pub, req, commit, division, events, n_events,
                                    &result)) {
    case PMO_COMMIT_OK:
    case PMO_COMMIT_DUPLICATE:
        rc = COMMIT_DONE;
        break;
    case PMO_COMMIT_CONFLICT:
        //  A ledger (hours) or a foreign request (a newer report) moved
        //  under us: read again and decide again
        if (allocator_store_is_ledger_key (result.key) ||
            allocator_store_is_foreign_key (result.key))
            rc = COMMIT_RETRY;
        else
            FAIL (req, CONFLICT, "", "%s changed while this was decided (now version %llu); retry",
                  events[0]->entity_id, (unsigned long long)result.actual_version);
        break;
    case PMO_COMMIT_TAKEN:
        //  Another replica recorded the same foreign request first: read it
        rc = COMMIT_RETRY;
        break;
    case PMO_COMMIT_UNAVAILABLE:
    case PMO_COMMIT_ERROR:
        break;
    }
    pmo_commit_result_clear (&result);
    return rc;
}

//  ---------------------------------------------------------------------
//  Bookings (the same arithmetic as allocator_server.c, on the same ledger)

//  The role of the system identity in the history of a booking it made.
static Pmo__Role s_system_role (pmo_request_t *req, const char *path)
{
    Pmo__Role role = allocator_role_for (pmo_request_who (req), ALLOCATOR_RESOURCE, path);
    return role ? role : PMO__ROLE__ROLE_ADMIN;
}

//  ---------------------------------------------------------------------
//  Booking in the owning division

//  Choose the resource for ask: the named one, or the best candidate of the
//  owning division with the hours free in every week. Returns 1 (resource
//  and ledger read), 0 (nobody fits: unfilled demand; warning given), or -1
//  (failed).
static int s_choose (allocator_xdiv_env_t *env, pmo_request_t *req, const xdiv_ask_t *ask,
                     Pmo__Resource **r, Pmo__BookingLedger **ledger, uint64_t *lv, const char **why)
{
    const Pmo__AllocationRequest *rq = ask->rq;
    uint64_t rv;
    if (!pmo_str_empty (rq->resource_id)) {
        int rc = allocator_store_read_booked (env->store, req->arena, rq->resource_id, r, &rv,
                                              ledger, lv);
        if (rc < 0)
            return pmo_request_unavailable (req, ALLOCATOR_STORE), -1;
        if (rc == 0)
            return FAIL (
                       req, NOT_FOUND, pmo_arena_printf (req->arena, "%s.resource_id", ask->field),
                       "no resource with id '%.64s' in division %s", rq->resource_id, ask->target),
                   -1;
        if ((*r)->archived)
            return FAIL (req, FAILED_PRECONDITION,
                         pmo_arena_printf (req->arena, "%s.resource_id", ask->field),
                         "resource %s is archived", (*r)->id),
                   -1;
        if (strcmp ((*r)->division, ask->target) != 0)
            return FAIL (req, INVALID, pmo_arena_printf (req->arena, "%s.resource_id", ask->field),
                         "resource %s belongs to division %s, not %s", (*r)->id, (*r)->division,
                         ask->target),
                   -1;
        allocator_warn_skill (req, *r, rq);
        *why = "named in the request";
        return 1;
    }
    if (!env->loaded)
        return FAIL (req, UNAVAILABLE, "",
                     "the allocator is still loading its index from Redis; retry shortly"),
               -1;
    if (!pmo_str_empty (rq->skill) && !allocator_index_has_skill (env->index, rq->skill))
        return FAIL (req, NOT_FOUND, pmo_arena_printf (req->arena, "%s.skill", ask->field),
                     "no resource has skill '%s'", rq->skill),
               -1;
    if (!pmo_str_empty (rq->role) && !allocator_index_has_role (env->index, rq->role))
        return FAIL (req, NOT_FOUND, pmo_arena_printf (req->arena, "%s.role", ask->field),
                     "no resource has role '%s'", rq->role),
               -1;
    //  The pool is the owning division, whatever the request named: a
    //  foreign request asks that division for one of its people
    allocator_view_t view = allocator_view (req);
    allocator_match_query_t q = {
        .role = rq->role,
        .skill = rq->skill,
        .min_level = rq->min_level,
        .hours = rq->hours_per_week,
        .first = ask->first,
        .last = ask->last,
        .pool_unit = ask->target,
        .division = ask->project_division,
        .limit = MATCH_LIMIT,
        .view = &view,
    };
    Pmo__MatchResult *match = allocator_index_match (env->index, &q, req->arena);
    allocator_reply (req)->match_detail = match;
    for (size_t i = 0; i < match->n_candidates; i++) {
        const Pmo__MatchCandidate *c = match->candidates[i];
        if (!c->fits || strcmp (c->division, ask->target) != 0)
            continue;
        int rc = allocator_store_read_booked (env->store, req->arena, c->resource_id, r, &rv,
                                              ledger, lv);
        if (rc < 0)
            return pmo_request_unavailable (req, ALLOCATOR_STORE), -1;
        if (rc == 1 && !(*r)->archived &&
            allocator_ledger_fits (*r, *ledger, ask->first, ask->last, rq->hours_per_week)) {
            *why = pmo_arena_printf (req->arena, "best match: %s", c->explanation);
            return 1;
        }
    }
    allocator_warn (req,
                    pmo_arena_printf (req->arena,
                                      "nobody in division %s fits: %s; the request waits there as "
                                      "unfilled demand",
                                      ask->target, match->summary));
    *r = NULL;
    *ledger = NULL;
    return 0;
}

//  The allocation of ask, as id, requested by whoever asked (in the
//  requesting division when it came through the hub).
static Pmo__Allocation *s_book_new (pmo_request_t *req, const xdiv_ask_t *ask, char *id)
{
    const Pmo__AllocationRequest *rq = ask->rq;
    Pmo__Allocation *a = pmo_arena_alloc (req->arena, sizeof (Pmo__Allocation));
    pmo__allocation__init (a);
    a->id = id;
    a->division = (char *)ask->target;
    a->project_id = (char *)ask->project_id;
    a->project_code = (char *)ask->project_code;
    a->project_name = (char *)ask->project_name;
    a->project_priority = ask->project_priority ? ask->project_priority : 3;
    a->project_org_unit = (char *)ask->project_org_unit;
    a->project_org_unit_path = (char *)ask->project_org_unit_path;
    a->project_division = (char *)ask->project_division;
    a->role = rq->role;
    a->skill = rq->skill;
    a->min_level = rq->min_level;
    a->hours_per_week = rq->hours_per_week;
    a->start_week = (char *)allocator_week_text (req, ask->first);
    a->end_week = (char *)allocator_week_text (req, ask->last);
    a->note = rq->note;
    a->requested_by = (char *)ask->requested_by;
    a->origin_division = (char *)ask->origin_division;
    a->origin_id = (char *)ask->origin_id;
    a->version = 1;
    a->created_ms = a->updated_ms = pmo_now_ms ();
    allocator_step (
        req, a, PMO__ALLOCATION_STATE__ALLOCATION_STATE_REQUESTED, ask->requested_by,
        ask->requester_role,
        pmo_str_empty (ask->origin_id)
            ? rq->note
            : pmo_arena_printf (req->arena,
                                "requested from division %s for project %s (%s), through "
                                "the hub",
                                ask->origin_division, ask->project_code, ask->origin_id));
    return a;
}

//  Book a on r (chosen for why) by the PMO type in force at r's home unit:
//  proposed and waiting for the owning division's approver, or committed at
//  once with what the PMO advises. Returns the over-allocation change to
//  announce, if any.
static Pmo__OverAllocation *s_book_decide (pmo_request_t *req, const xdiv_ask_t *ask,
                                           Pmo__Allocation *a, const Pmo__Resource *r,
                                           const Pmo__OrgUnit *unit, Pmo__BookingLedger *ledger,
                                           const char *why)
{
    const char *me = pmo_request_who (req)->subject;
    allocator_assign (a, r);
    Pmo__Role role = pmo_str_empty (ask->origin_id) ? ask->requester_role
                                                    : s_system_role (req, r->home_org_unit_path);
    Pmo__AllocationTransition *proposed =
        allocator_step (req, a, PMO__ALLOCATION_STATE__ALLOCATION_STATE_PROPOSED, me, role, why);
    //  What committing would do: the over-allocation and the division
    //  crossing that the owning unit's PMO type judges
    a->state = PMO__ALLOCATION_STATE__ALLOCATION_STATE_COMMITTED;
    allocator_ledger_book (req, ledger, a, ask->first, ask->last);
    allocator_approval_t approval;
    allocator_judge_commit (req, r, ledger, ask->first, ask->last, ask->project_code,
                            ask->project_division, unit, &approval);
    a->state = PMO__ALLOCATION_STATE__ALLOCATION_STATE_PROPOSED;
    if (approval.needed) {
        //  Soft booking: the owning division's approver commits it
        allocator_ledger_book (req, ledger, a, ask->first, ask->last);
        char *text = pmo_arena_printf (req->arena, "approval needed: %s", approval.reason);
        allocator_reply (req)->approval_needed = pmo_arena_strdup (req->arena, approval.reason);
        allocator_warn (req, text);
        allocator_step_warn (req, proposed, text);
        int32_t first_over = 0;
        size_t soft = allocator_ledger_soft_over (r, ledger, ask->first, ask->last, &first_over);
        if (soft) {
            text = pmo_arena_printf (req->arena,
                                     "%s is booked beyond capacity (committed + proposed) in "
                                     "%zu week(s) from %s",
                                     r->name, soft, allocator_week_text (req, first_over));
            allocator_warn (req, text);
            allocator_step_warn (req, proposed, text);
        }
        return NULL;
    }
    //  No approval asked for here (supportive or no PMO): it commits at
    //  once, with what the PMO advises
    Pmo__AllocationTransition *t =
        allocator_step (req, a, PMO__ALLOCATION_STATE__ALLOCATION_STATE_COMMITTED, me, role,
                        "no approval needed by the owning division's PMO type");
    t->pmo_type = unit->effective_pmo_type;
    for (size_t i = 0; i < approval.n_warnings; i++) {
        allocator_warn (req, approval.warnings[i]);
        allocator_step_warn (req, t, approval.warnings[i]);
    }
    return allocator_over_change (req, r, ledger);
}

//  Book ask in its owning division by that division's rules.
static int s_try_book (allocator_xdiv_env_t *env, pmo_request_t *req, const xdiv_ask_t *ask)
{
    Pmo__AllocatorReply *reply = allocator_reply (req);
    reply->n_warnings = 0;
    reply->match_detail = NULL;
    reply->approval_needed = NULL;
    reply->over_allocation = NULL;
    if (!pmo_str_empty (ask->origin_id)) {
        //  Delivered before (a resend, or a retry past the reply's 24 h):
        //  answer with what was booked then
        Pmo__Allocation *done;
        int rc =
            allocator_store_booked_for (env->store, req->arena, ask->target, ask->origin_id, &done);
        if (rc < 0)
            return pmo_request_unavailable (req, ALLOCATOR_STORE), COMMIT_FAIL;
        if (rc == 1) {
            pmo_reflect_set_oneof (req->reply, "allocation", &done->base);
            return COMMIT_DONE;
        }
    }
    Pmo__Resource *r = NULL;
    Pmo__BookingLedger *ledger = NULL;
    uint64_t lv = 0;
    const char *why = "";
    int chosen = s_choose (env, req, ask, &r, &ledger, &lv, &why);
    if (chosen < 0)
        return COMMIT_FAIL;
    Pmo__OrgUnit *unit = NULL;
    if (r) {
        //  The owning division's rule: the PMO type in force at the
        //  resource's home unit, fresh from the owning stack's registry
        int rc = orgtree_unit (env->registry, r->home_org_unit, req->arena, &unit);
        if (rc < 0)
            return pmo_request_unavailable (req, ALLOCATOR_REGISTRY), COMMIT_FAIL;
        if (rc == 0)
            return FAIL (req, FAILED_PRECONDITION, "",
                         "the home unit %s of resource %s is unknown to the registry",
                         r->home_org_unit, r->id),
                   COMMIT_FAIL;
    }
    char *id;
    if (allocator_store_next_id (env->store, req->arena, ALLOCATOR_PREFIX_ALLOCATION, ask->target,
                                 &id))
        return pmo_request_unavailable (req, ALLOCATOR_STORE), COMMIT_FAIL;
    Pmo__Allocation *a = s_book_new (req, ask, id);
    Pmo__OverAllocation *change = r ? s_book_decide (req, ask, a, r, unit, ledger, why) : NULL;
    pmo_commit_t *commit =
        allocator_store_commit (env->store, ask->target, req->header->request_id);
    allocator_store_put_allocation (env->store, commit, req->arena, a, 0);
    allocator_store_index (env->store, commit, req->arena, ALLOCATOR_PREFIX_ALLOCATION, ask->target,
                           id);
    if (ledger)
        allocator_store_put_ledger (env->store, commit, req->arena, ask->target, ledger, lv);
    if (!pmo_str_empty (ask->origin_id))
        allocator_store_claim_origin (env->store, commit, req->arena, ask->target, ask->origin_id,
                                      id);
    Pmo__Event *events[2];
    size_t n_events = 0;
    events[n_events++] = allocator_event (
        req, pmo_arena_printf (req->arena, "allocation.%s", allocator_state_name (a->state)),
        ask->target, a->project_org_unit, a->project_org_unit_path, id, 1, "allocation", &a->base);
    if (r)
        allocator_over_event (req, r, change, events, &n_events);
    pmo_reflect_set_oneof (req->reply, "allocation", &a->base);
    int rc = s_exec (env, req, commit, ask->target, events, n_events);
    if (rc == COMMIT_DONE && !req->raw_reply) {
        allocator_index_put_allocation (env->index, a);
        pmo_info ("allocator: cross-division booking id=%s origin=%s state=%s resource=%s", id,
                  pmo_str_empty (ask->origin_id) ? "-" : ask->origin_id,
                  allocator_state_name (a->state), r ? r->id : "-");
    }
    return rc;
}

//  ---------------------------------------------------------------------
//  Owning side: receive_foreign

static int s_try_receive (allocator_xdiv_env_t *env, pmo_request_t *req,
                          const Pmo__ForeignReceive *body)
{
    if (!s_system (env, req, "receive_foreign"))
        return COMMIT_FAIL;
    Pmo__ForeignAllocation *f = body->foreign;
    if (!f || !f->request)
        return FAIL (req, INVALID, "receive_foreign.foreign", "the foreign request is required"),
               COMMIT_FAIL;
    char origin[40];
    if (allocator_store_division (f->id, ALLOCATOR_PREFIX_FOREIGN, origin, sizeof origin) ||
        strcmp (origin, f->division ? f->division : "") != 0)
        return FAIL (req, INVALID, "receive_foreign.foreign.id",
                     "'%.64s' is not a foreign request id of division '%.32s'", f->id ? f->id : "",
                     f->division ? f->division : ""),
               COMMIT_FAIL;
    if (!pmo_slug_valid (f->target_division, 1, 32) || strcmp (f->target_division, origin) == 0)
        return FAIL (req, INVALID, "receive_foreign.foreign.target_division",
                     "target_division must name another division"),
               COMMIT_FAIL;
    if (pmo_str_empty (f->project_id) || pmo_str_empty (f->project_code) ||
        pmo_str_empty (f->requested_by))
        return FAIL (req, INVALID, "receive_foreign.foreign.project_id",
                     "the project (id, code) and the requester are required"),
               COMMIT_FAIL;
    const char *from = pmo_arena_strdup (req->arena, origin);
    xdiv_ask_t ask = {
        .target = f->target_division,
        .rq = f->request,
        .project_id = f->project_id,
        .project_code = f->project_code,
        .project_name = f->project_name ? f->project_name : "",
        .project_priority = f->project_priority,
        .project_org_unit = f->project_org_unit ? f->project_org_unit : "",
        .project_org_unit_path = f->project_org_unit_path ? f->project_org_unit_path : "",
        .project_division = from,
        .requested_by = f->requested_by,
        .origin_division = from,
        .origin_id = f->id,
        .field = "receive_foreign.foreign.request",
    };
    pmo_problem_t problem;
    if (allocator_check_request (f->request, &ask.first, &ask.last, &problem))
        return pmo_request_fail_problem (req, &problem, "receive_foreign.foreign.request"),
               COMMIT_FAIL;
    if (s_replayed (env, req, ask.target))
        return COMMIT_DONE;
    return s_try_book (env, req, &ask);
}

//  ---------------------------------------------------------------------
//  Requesting side: request_foreign

//  Is division kept by this stack? 1 yes, 0 no, -1 the registry did not
//  answer. A division is ours when our allocator holds resources of it or
//  our registry knows its org unit.
static int s_division_here (allocator_xdiv_env_t *env, pmo_request_t *req, const char *division)
{
    char **divisions;
    size_t n = allocator_index_divisions (env->index, req->arena, &divisions);
    for (size_t i = 0; i < n; i++)
        if (strcmp (divisions[i], division) == 0)
            return 1;
    Pmo__OrgUnit *unit;
    return orgtree_unit (env->registry, division, req->arena, &unit);
}

//  Record a request for target, a division another stack keeps, as a
//  foreign request of project's division: "foreign.requested" goes out on
//  its stream, which the uplink carries to the hub.
static int s_record_foreign (allocator_xdiv_env_t *env, pmo_request_t *req,
                             Pmo__AllocationRequest *rq, const Pmo__Project *project,
                             const char *target, int32_t first, int32_t last)
{
    if (s_replayed (env, req, project->division))
        return COMMIT_DONE;
    char *id;
    if (allocator_store_next_id (env->store, req->arena, ALLOCATOR_PREFIX_FOREIGN,
                                 project->division, &id))
        return pmo_request_unavailable (req, ALLOCATOR_STORE), COMMIT_FAIL;
    Pmo__ForeignAllocation *f = pmo_arena_alloc (req->arena, sizeof (Pmo__ForeignAllocation));
    pmo__foreign_allocation__init (f);
    f->id = id;
    f->division = project->division;
    f->target_division = (char *)target;
    rq->start_week = (char *)allocator_week_text (req, first);
    rq->end_week = (char *)allocator_week_text (req, last);
    f->request = rq;
    f->project_id = project->id;
    f->project_code = project->code;
    f->project_name = project->name;
    f->project_priority = project->priority ? project->priority : 3;
    f->project_org_unit = project->org_unit;
    f->project_org_unit_path = project->org_unit_path;
    f->requested_by = pmo_request_who (req)->subject;
    f->delivery = PMO__FOREIGN_DELIVERY__FOREIGN_DELIVERY_SENT;
    f->state = PMO__ALLOCATION_STATE__ALLOCATION_STATE_REQUESTED;
    f->version = 1;
    f->created_ms = f->updated_ms = pmo_now_ms ();
    if (allocator_store_note_foreign_division (env->store, project->division))
        return pmo_request_unavailable (req, ALLOCATOR_STORE), COMMIT_FAIL;
    pmo_commit_t *commit =
        allocator_store_commit (env->store, project->division, req->header->request_id);
    allocator_store_put_foreign (env->store, commit, req->arena, f, 0);
    allocator_store_index (env->store, commit, req->arena, ALLOCATOR_PREFIX_FOREIGN,
                           project->division, id);
    Pmo__Event *events[1] = {allocator_event (req, "foreign.requested", project->division,
                                              project->org_unit, project->org_unit_path, id, 1,
                                              "foreign_allocation", &f->base)};
    allocator_warn (req, pmo_arena_printf (req->arena,
                                           "division %s is kept by another stack: the request goes "
                                           "through the hub, and its decision comes back here",
                                           target));
    pmo_reflect_set_oneof (req->reply, "foreign", &f->base);
    int rc = s_exec (env, req, commit, project->division, events, 1);
    if (rc == COMMIT_DONE && !req->raw_reply)
        pmo_info ("allocator: foreign request id=%s project=%s target=%s", id, project->code,
                  target);
    return rc;
}

static int s_try_request_foreign (allocator_xdiv_env_t *env, pmo_request_t *req,
                                  const Pmo__ForeignRequest *body)
{
    allocator_reply (req)->n_warnings = 0;
    Pmo__AllocationRequest *rq = body->request;
    if (!rq)
        return FAIL (req, INVALID, "request_foreign.request", "the request is required"),
               COMMIT_FAIL;
    int32_t first, last;
    pmo_problem_t problem;
    if (allocator_check_request (rq, &first, &last, &problem))
        return pmo_request_fail_problem (req, &problem, "request_foreign.request"), COMMIT_FAIL;
    char named[40] = "";
    if (!pmo_str_empty (rq->resource_id) &&
        allocator_store_division (rq->resource_id, ALLOCATOR_PREFIX_RESOURCE, named, sizeof named))
        return FAIL (req, INVALID, "request_foreign.request.resource_id",
                     "'%.64s' is not a resource id", rq->resource_id),
               COMMIT_FAIL;
    //  Everything the reply points to lives in the request's arena
    const char *target =
        pmo_arena_strdup (req->arena, !pmo_str_empty (body->division) ? body->division : named);
    if (pmo_str_empty (target))
        return FAIL (req, INVALID, "request_foreign.division",
                     "name the owning division (or a resource, whose id names it)"),
               COMMIT_FAIL;
    if (!pmo_slug_valid (target, 1, 32))
        return FAIL (req, INVALID, "request_foreign.division", "'%.40s' is not a division id",
                     target),
               COMMIT_FAIL;
    if (*named && strcmp (named, target) != 0)
        return FAIL (req, INVALID, "request_foreign.division",
                     "resource %s belongs to division %s, not %s", rq->resource_id, named, target),
               COMMIT_FAIL;
    if (!pmo_str_empty (rq->pool_org_unit))
        return FAIL (req, INVALID, "request_foreign.request.pool_org_unit",
                     "the pool of a foreign request is the owning division: leave it empty"),
               COMMIT_FAIL;
    Pmo__Project *project = allocator_project (env->registry, req, rq->project_id,
                                               "request_foreign.request.project_id");
    if (!project)
        return COMMIT_FAIL;
    Pmo__Role role = allocator_may (req, ALLOCATOR_PROJECT, project->org_unit_path,
                                    "request resources for projects");
    if (!role)
        return COMMIT_FAIL;
    if (strcmp (target, project->division) == 0)
        return FAIL (req, INVALID, "request_foreign.division",
                     "%s is project %s's own division: use request_allocation", target,
                     project->code),
               COMMIT_FAIL;
    //  Kept here too (one stack): book at once by the owning unit's rules
    Pmo__Resource *here = NULL;
    uint64_t version;
    if (*named) {
        int rc = allocator_store_read_resource (env->store, req->arena, rq->resource_id, &here,
                                                &version);
        if (rc < 0)
            return pmo_request_unavailable (req, ALLOCATOR_STORE), COMMIT_FAIL;
    }
    int local = here ? 1 : s_division_here (env, req, target);
    if (local < 0)
        return pmo_request_unavailable (req, ALLOCATOR_REGISTRY), COMMIT_FAIL;
    if (local) {
        xdiv_ask_t ask = {
            .target = target,
            .rq = rq,
            .first = first,
            .last = last,
            .project_id = project->id,
            .project_code = project->code,
            .project_name = project->name,
            .project_priority = project->priority,
            .project_org_unit = project->org_unit,
            .project_org_unit_path = project->org_unit_path,
            .project_division = project->division,
            .requested_by = pmo_request_who (req)->subject,
            .requester_role = role,
            .origin_division = "",
            .origin_id = "",
            .field = "request_foreign.request",
        };
        if (s_replayed (env, req, target))
            return COMMIT_DONE;
        return s_try_book (env, req, &ask);
    }
    //  Another stack's: record it; the uplink carries the event to the hub
    return s_record_foreign (env, req, rq, project, target, first, last);
}

//  ---------------------------------------------------------------------
//  Requesting side: foreign_update

static int s_try_update (allocator_xdiv_env_t *env, pmo_request_t *req,
                         const Pmo__ForeignUpdate *body)
{
    if (!s_system (env, req, "foreign_update"))
        return COMMIT_FAIL;
    if ((body->remote != NULL) == (body->refusal != NULL))
        return FAIL (req, INVALID, "foreign_update",
                     "give either the owning division's allocation or a refusal"),
               COMMIT_FAIL;
    Pmo__ForeignAllocation *f;
    uint64_t version;
    int rc = allocator_store_read_foreign (env->store, req->arena, body->foreign_id, &f, &version);
    if (rc < 0)
        return pmo_request_unavailable (req, ALLOCATOR_STORE), COMMIT_FAIL;
    if (rc == 0)
        return FAIL (req, NOT_FOUND, "foreign_update.foreign_id", "no foreign request '%.64s'",
                     body->foreign_id ? body->foreign_id : ""),
               COMMIT_FAIL;
    if (s_replayed (env, req, f->division))
        return COMMIT_DONE;
    const char *type;
    if (body->remote) {
        const Pmo__Allocation *remote = body->remote;
        if (pmo_str_empty (remote->id) ||
            strcmp (remote->origin_id ? remote->origin_id : "", f->id) != 0 ||
            strcmp (remote->division ? remote->division : "", f->target_division) != 0)
            return FAIL (req, INVALID, "foreign_update.remote.origin_id",
                         "the allocation is not the one booked for %s in %s", f->id,
                         f->target_division),
                   COMMIT_FAIL;
        //  Deliveries may come twice or out of order: only a newer version
        //  of the owning division's allocation moves the record
        if (f->remote && f->remote->version >= remote->version) {
            pmo_reflect_set_oneof (req->reply, "foreign", &f->base);
            return COMMIT_DONE;
        }
        //  The event says what changed: a new state, or the same state
        //  reshaped; "foreign.requested" stays the request's own (the hub
        //  routes it), so a booking still waiting in the owner is "waiting"
        bool same = f->delivery == PMO__FOREIGN_DELIVERY__FOREIGN_DELIVERY_RECEIVED &&
                    f->state == remote->state;
        type =
            same ? "foreign.updated"
            : remote->state == PMO__ALLOCATION_STATE__ALLOCATION_STATE_REQUESTED
                ? "foreign.waiting"
                : pmo_arena_printf (req->arena, "foreign.%s", allocator_state_name (remote->state));
        f->remote = (Pmo__Allocation *)remote;
        f->state = remote->state;
        f->delivery = PMO__FOREIGN_DELIVERY__FOREIGN_DELIVERY_RECEIVED;
        f->refusal = NULL;
    } else {
        if (f->delivery != PMO__FOREIGN_DELIVERY__FOREIGN_DELIVERY_SENT) {
            //  Already decided or refused: a refusal heard late changes nothing
            pmo_reflect_set_oneof (req->reply, "foreign", &f->base);
            return COMMIT_DONE;
        }
        f->refusal = body->refusal;
        f->refusal->retryable = false;
        f->state = PMO__ALLOCATION_STATE__ALLOCATION_STATE_REJECTED;
        f->delivery = PMO__FOREIGN_DELIVERY__FOREIGN_DELIVERY_REFUSED;
        type = "foreign.refused";
    }
    f->version = version + 1;
    f->updated_ms = pmo_now_ms ();
    pmo_commit_t *commit =
        allocator_store_commit (env->store, f->division, req->header->request_id);
    allocator_store_put_foreign (env->store, commit, req->arena, f, version);
    Pmo__Event *events[1] = {allocator_event (req, type, f->division, f->project_org_unit,
                                              f->project_org_unit_path, f->id, f->version,
                                              "foreign_allocation", &f->base)};
    pmo_reflect_set_oneof (req->reply, "foreign", &f->base);
    rc = s_exec (env, req, commit, f->division, events, 1);
    if (rc == COMMIT_DONE && !req->raw_reply)
        pmo_info ("allocator: foreign request updated id=%s type=%s", f->id, type);
    return rc;
}

//  ---------------------------------------------------------------------
//  Reads

//  The caller may see the foreign request f: its project is in the
//  caller's reach, or it stewards the person booked for it (README "Who
//  sees what")
static bool s_sees (pmo_request_t *req, const Pmo__ForeignAllocation *f)
{
    return pmo_access_sees_booking (pmo_request_who (req), allocator_roles (), ALLOCATOR_READ,
                                    f->project_org_unit_path,
                                    f->remote ? f->remote->resource_org_unit_path : NULL);
}

static void s_handle_get (allocator_xdiv_env_t *env, pmo_request_t *req,
                          const Pmo__ForeignGetRequest *get)
{
    if (!allocator_may (req, ALLOCATOR_READ, NULL, "read foreign requests"))
        return;
    Pmo__ForeignAllocation *f;
    uint64_t version;
    int rc = allocator_store_read_foreign (env->store, req->arena, get->id, &f, &version);
    if (rc < 0)
        return pmo_request_unavailable (req, ALLOCATOR_STORE);
    //  One the caller may not see is not there (ids cannot be probed)
    if (rc == 0 || !s_sees (req, f))
        return (void)FAIL (req, NOT_FOUND, "get_foreign.id", "no foreign request '%.64s'",
                           get->id ? get->id : "");
    pmo_reflect_set_oneof (req->reply, "foreign", &f->base);
}

static void s_handle_list (allocator_xdiv_env_t *env, pmo_request_t *req,
                           const Pmo__ForeignListRequest *list)
{
    if (!allocator_may (req, ALLOCATOR_READ, NULL, "read foreign requests"))
        return;
    if (list->limit > LIST_MAX)
        return (void)FAIL (req, INVALID, "list_foreign.limit", "limit is 1 to %d", LIST_MAX);
    size_t limit = list->limit ? list->limit : LIST_DEFAULT;
    char *end = NULL;
    unsigned long long skip = 0;
    if (!pmo_str_empty (list->cursor)) {
        skip = strtoull (list->cursor, &end, 10);
        if (!end || *end)
            return (void)FAIL (req, INVALID, "list_foreign.cursor", "not a cursor of this list");
    }
    char **names;
    size_t n_div;
    if (allocator_store_foreign_divisions (env->store, req->arena, &names, &n_div))
        return pmo_request_unavailable (req, ALLOCATOR_STORE);
    Pmo__ForeignPage *page = pmo_arena_alloc (req->arena, sizeof (Pmo__ForeignPage));
    pmo__foreign_page__init (page);
    page->foreigns = pmo_arena_alloc (req->arena, (limit + 1) * sizeof (void *));
    unsigned long long seen = 0;
    bool failed = false, more = false;
    //  Divisions in name order, then requests newest first: a stable order
    //  for the cursor (an offset)
    for (size_t i = 1; i < n_div; i++)
        for (size_t k = i; k > 0 && strcmp (names[k - 1], names[k]) > 0; k--) {
            char *swap = names[k];
            names[k] = names[k - 1];
            names[k - 1] = swap;
        }
    for (size_t d = 0; d < n_div && !failed && !more; d++) {
        char **ids;
        size_t n_ids;
        if (allocator_store_foreign_ids (env->store, req->arena, names[d], &ids, &n_ids)) {
            failed = true;
            break;
        }
        for (size_t i = 0; i < n_ids && !failed; i++) {
            Pmo__ForeignAllocation *f;
            uint64_t version;
            int rc = allocator_store_read_foreign (env->store, req->arena, ids[i], &f, &version);
            if (rc < 0)
                failed = true;
            if (rc != 1)
                continue;
            if ((!pmo_str_empty (list->project_id) && strcmp (f->project_id, list->project_id)) ||
                (!pmo_str_empty (list->target_division) &&
                 strcmp (f->target_division, list->target_division)) ||
                (list->state && f->state != list->state) || !s_sees (req, f))
                continue;
            if (seen++ < skip)
                continue;
            if (page->n_foreigns == limit) {
                more = true;
                break;
            }
            page->foreigns[page->n_foreigns++] = f;
        }
    }
    if (failed)
        return pmo_request_unavailable (req, ALLOCATOR_STORE);
    if (more)
        page->next_cursor = pmo_arena_printf (req->arena, "%llu", skip + page->n_foreigns);
    pmo_reflect_set_oneof (req->reply, "foreigns", &page->base);
}

//  ---------------------------------------------------------------------
//  Dispatch

typedef int (try_fn) (allocator_xdiv_env_t *env, pmo_request_t *req, const void *body);

static void s_retrying (allocator_xdiv_env_t *env, pmo_request_t *req, try_fn *fn, const void *body)
{
    for (int attempt = 0; attempt < RACE_RETRIES; attempt++)
        if (fn (env, req, body) != COMMIT_RETRY)
            return;
    FAIL (req, CONFLICT, "", "the resource's bookings kept changing while this was decided; retry");
}

void allocator_xdiv_handle (allocator_xdiv_env_t *env, pmo_request_t *req,
                            const Pmo__AllocatorRequest *r)
{
    switch (r->body_case) {
    case PMO__ALLOCATOR_REQUEST__BODY_REQUEST_FOREIGN:
        return s_retrying (env, req, (try_fn *)s_try_request_foreign, r->request_foreign);
    case PMO__ALLOCATOR_REQUEST__BODY_RECEIVE_FOREIGN:
        return s_retrying (env, req, (try_fn *)s_try_receive, r->receive_foreign);
    case PMO__ALLOCATOR_REQUEST__BODY_FOREIGN_UPDATE:
        return s_retrying (env, req, (try_fn *)s_try_update, r->foreign_update);
    case PMO__ALLOCATOR_REQUEST__BODY_GET_FOREIGN:
        return s_handle_get (env, req, r->get_foreign);
    case PMO__ALLOCATOR_REQUEST__BODY_LIST_FOREIGN:
        return s_handle_list (env, req, r->list_foreign);
    default:
        FAIL (req, UNSUPPORTED, "body", "not a cross-division request");
    }
}
