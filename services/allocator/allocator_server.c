/*  allocator_server.c: the resource allocator actor and its request handlers.

    Every change follows the registry's order: read what the request names,
    check the caller may act there, answer a retry from the stored reply,
    validate, build the new state, and write it with its events and the
    reply in one commit.

    Capacity is checked inside the commit. Each resource has a booking
    ledger (its live bookings) with a version; every change of bookings
    reads the ledger, decides, and commits naming the version it read. Two
    requests racing for the same free hours both read version n; the first
    commit makes it n+1, the second is refused by the commit script, reads
    the ledger again, now sees the first one's hours, and decides again
    (approval needed, a warning, or it fits after all). So two commitments
    never both pass a capacity check that only one of them could pass.

    The registry is asked (over ZeroMQ) whether a project exists and what
    its priority, org unit and division are, and for org units with their
    effective PMO type (allocator_registry.c: org units through the org-unit
    tree client, kept for a few seconds). When the registry does not
    answer, the request fails with "unavailable" and for a while further
    requests that need it fail at once; everything else (reads, views,
    releases) goes on.
*/
#include "allocator_server.h"
#include "allocator_internal.h"
#include "allocator_xdiv.h"

#include "pmo_log.h"
#include "pmo_ping.h"
#include "pmo_reflect.h"
#include "pmo_server.h"

#include <assert.h>
#include <string.h>

#define LIST_DEFAULT    50
#define LIST_MAX        500
#define MATCH_DEFAULT   10
#define MATCH_MAX       100
#define LOAD_RETRY_MS   1000 //  while the index is not loaded, try again this often
#define BY_RESOURCE_MAX 500  //  rows of a utilisation table

typedef struct {
    allocator_config_t config;
    pmo_redis_t *redis;
    allocator_store_t *store;
    allocator_index_t *index;
    bool loaded;          //  the index holds everything in Redis
    int64_t next_load_ms; //  monotonic: when to try loading again
    pmo_server_t *server;
    zsock_t *pub;
    allocator_registry_t *registry; //  projects and org units
    zhashx_t *positions;            //  division -> the last stream id the index has seen
    Pmo__Identity service;          //  who the allocator is when it asks the registry
    Pmo__Grant service_grant;
    Pmo__Grant *service_grants[1];
    int64_t started_ms;
} allocator_t;

//  ---------------------------------------------------------------------
//  Helpers

static bool s_replayed (allocator_t *self, pmo_request_t *req, const char *division)
{
    char *one[] = {(char *)division};
    return allocator_replayed (self->store, req, one, 1);
}

//  The index must hold everything before it answers for Redis
static bool s_index_ready (allocator_t *self, pmo_request_t *req)
{
    if (self->loaded)
        return true;
    FAIL (req, UNAVAILABLE, "",
          "the allocator is still loading its index from Redis (or Redis is down); retry shortly");
    return false;
}

//  ---------------------------------------------------------------------
//  Who may act

//  Either side of an allocation: the project's people or the resource's.
static Pmo__Role s_may_either (pmo_request_t *req, const Pmo__Allocation *a, const char *what)
{
    Pmo__Role role =
        allocator_role_for (pmo_request_who (req), ALLOCATOR_PROJECT, a->project_org_unit_path);
    if (role == PMO__ROLE__ROLE_UNSPECIFIED && !pmo_str_empty (a->resource_org_unit_path))
        role = allocator_role_for (pmo_request_who (req), ALLOCATOR_RESOURCE,
                                   a->resource_org_unit_path);
    if (role == PMO__ROLE__ROLE_UNSPECIFIED)
        FAIL (req, FORBIDDEN, "", "%s may not %s: it takes a project role in '%s'%s%s",
              pmo_request_who (req)->subject, what, a->project_org_unit_path,
              pmo_str_empty (a->resource_org_unit_path) ? "" : " or a resource role in '",
              pmo_str_empty (a->resource_org_unit_path)
                  ? ""
                  : pmo_arena_printf (req->arena, "%s'", a->resource_org_unit_path));
    return role;
}

//  ---------------------------------------------------------------------
//  Events and commits

//  Finish a change: its events and the reply (already filled) go in the
//  commit; on success the events are published with their stream ids.
static int s_commit (allocator_t *self, pmo_request_t *req, pmo_commit_t *commit,
                     const char *division, Pmo__Event **events, size_t n_events)
{
    pmo_commit_result_t result;
    int rc = COMMIT_FAIL;
    switch (allocator_commit_write (self->store, self->pub, req, commit, division, events, n_events,
                                    &result)) {
    case PMO_COMMIT_OK:
    case PMO_COMMIT_DUPLICATE:
        rc = COMMIT_DONE;
        break;
    case PMO_COMMIT_CONFLICT:
        if (allocator_store_is_ledger_key (result.key)) {
            pmo_debug ("allocator: ledger moved key=%s now=%llu", result.key,
                       (unsigned long long)result.actual_version);
            rc = COMMIT_RETRY;
        } else
            FAIL (req, CONFLICT, "version",
                  "%s changed since you read it (now version %llu); read it again and retry",
                  events[0]->entity_id, (unsigned long long)result.actual_version);
        break;
    case PMO_COMMIT_TAKEN:
        FAIL (req, CONFLICT, "", "a unique key is taken (%s)", result.key);
        break;
    case PMO_COMMIT_UNAVAILABLE:
        //  It may have happened: the index may now miss it; reload to be exact
        self->loaded = false;
        break;
    case PMO_COMMIT_ERROR:
        break;
    }
    pmo_commit_result_clear (&result);
    return rc;
}

//  ---------------------------------------------------------------------
//  Bookings

//  Add the over-allocation event of a change, if any, to events.
static void s_over_event (pmo_request_t *req, const Pmo__Resource *resource,
                          Pmo__OverAllocation *over, Pmo__Event **events, size_t *n_events)
{
    if (!over)
        return;
    allocator_reply (req)->over_allocation = over;
    events[(*n_events)++] =
        allocator_event (req, over->over ? "resource.overallocated" : "resource.cleared",
                         resource->division, resource->home_org_unit, resource->home_org_unit_path,
                         resource->id, resource->version, "over_allocation", &over->base);
}

//  Append a step to an allocation's history.
static Pmo__AllocationTransition *s_step (pmo_request_t *req, Pmo__Allocation *a,
                                          Pmo__AllocationState to, Pmo__Role role,
                                          const char *reason)
{
    Pmo__AllocationTransition *t = pmo_arena_alloc (req->arena, sizeof (Pmo__AllocationTransition));
    pmo__allocation_transition__init (t);
    t->from_state = a->state;
    t->to_state = to;
    t->actor = pmo_request_who (req)->subject;
    t->actor_role = role;
    t->time_ms = pmo_now_ms ();
    t->reason = (char *)(reason ? reason : "");
    t->resource_id = a->resource_id;
    Pmo__AllocationTransition **grown =
        pmo_arena_alloc (req->arena, (a->n_history + 1) * sizeof (void *));
    if (a->n_history)
        memcpy (grown, a->history, a->n_history * sizeof (void *));
    grown[a->n_history++] = t;
    a->history = grown;
    a->state = to;
    return t;
}

static void s_assign (pmo_request_t *req, Pmo__Allocation *a, const Pmo__Resource *r)
{
    a->resource_id = r->id;
    a->resource_name = r->name;
    a->resource_org_unit_path = r->home_org_unit_path;
    if (pmo_str_empty (a->skill) && r->n_skills)
        a->skill = r->skills[0]->name;
}

//  Weeks of an allocation as indexes (validated when it was written).
static void s_window (const Pmo__Allocation *a, int32_t *first, int32_t *last)
{
    if (allocator_week_parse (a->start_week, first))
        *first = 0;
    if (allocator_week_parse (a->end_week, last))
        *last = *first;
}

//  Weeks where the ledger's committed plus proposed hours exceed capacity.
static size_t s_soft_over (const Pmo__Resource *r, const Pmo__BookingLedger *ledger, int32_t first,
                           int32_t last, int32_t *first_over)
{
    size_t n = 0;
    for (int32_t w = first; w <= last; w++) {
        uint32_t booked = 0;
        for (size_t i = 0; i < ledger->n_bookings; i++) {
            const Pmo__Booking *b = ledger->bookings[i];
            if (w >= b->start_week && w <= b->end_week)
                booked += b->hours_per_week;
        }
        if (booked > allocator_capacity_in_week (r, w)) {
            if (n == 0)
                *first_over = w;
            n++;
        }
    }
    return n;
}

static void s_stamp (Pmo__Allocation *a, uint64_t version)
{
    a->version = version + 1;
    a->updated_ms = pmo_now_ms ();
}

//  ---------------------------------------------------------------------
//  Resources

static void s_handle_create_resource (allocator_t *self, pmo_request_t *req, Pmo__Resource *r)
{
    pmo_problem_t problem;
    r->id = NULL;
    if (allocator_check_resource (r, &problem))
        return pmo_request_fail_problem (req, &problem, "create_resource");
    Pmo__OrgUnit *unit =
        allocator_unit (self->registry, req, r->home_org_unit, "create_resource.home_org_unit");
    if (!unit || !allocator_may (req, ALLOCATOR_RESOURCE, unit->path, "manage resources"))
        return;
    if (s_replayed (self, req, unit->division))
        return;
    char *id;
    if (allocator_store_next_id (self->store, req->arena, ALLOCATOR_PREFIX_RESOURCE, unit->division,
                                 &id))
        return pmo_request_unavailable (req, ALLOCATOR_STORE);
    int64_t now = pmo_now_ms ();
    r->id = id;
    r->version = 1;
    r->created_ms = r->updated_ms = now;
    r->archived = false;
    r->home_org_unit_path = unit->path;
    r->division = unit->division;
    Pmo__BookingLedger ledger = PMO__BOOKING_LEDGER__INIT;
    ledger.resource_id = id;
    pmo_commit_t *commit =
        allocator_store_commit (self->store, unit->division, req->header->request_id);
    allocator_store_put_resource (self->store, commit, req->arena, r, 0);
    allocator_store_put_ledger (self->store, commit, req->arena, unit->division, &ledger, 0);
    allocator_store_index (self->store, commit, req->arena, ALLOCATOR_PREFIX_RESOURCE,
                           unit->division, id);
    Pmo__Event *events[1] = {allocator_event (req, "resource.created", unit->division, unit->id,
                                              unit->path, id, 1, "resource", &r->base)};
    pmo_reflect_set_oneof (req->reply, "resource", &r->base);
    if (s_commit (self, req, commit, unit->division, events, 1) == COMMIT_DONE && !req->raw_reply)
        allocator_index_put_resource (self->index, r);
}

static int s_try_update_resource (allocator_t *self, pmo_request_t *req, Pmo__Resource *next)
{
    uint64_t version, ledger_version;
    Pmo__Resource *stored;
    Pmo__BookingLedger *ledger;
    int rc = allocator_store_read_booked (self->store, req->arena, next->id, &stored, &version,
                                          &ledger, &ledger_version);
    if (rc < 0)
        return pmo_request_unavailable (req, ALLOCATOR_STORE), COMMIT_FAIL;
    if (rc == 0)
        return FAIL (req, NOT_FOUND, "update_resource.id", "no resource with id '%.64s'",
                     next->id ? next->id : ""),
               COMMIT_FAIL;
    if (!allocator_may (req, ALLOCATOR_RESOURCE, stored->home_org_unit_path, "manage resources"))
        return COMMIT_FAIL;
    if (s_replayed (self, req, stored->division))
        return COMMIT_DONE;
    pmo_problem_t problem;
    if (allocator_check_resource (next, &problem))
        return pmo_request_fail_problem (req, &problem, "update_resource"), COMMIT_FAIL;
    if (!pmo_request_version_matches (req, "version", "resource", next->version, version))
        return COMMIT_FAIL;
    if (stored->archived)
        return FAIL (req, FAILED_PRECONDITION, "update_resource.id", "resource %s is archived",
                     stored->id),
               COMMIT_FAIL;
    next->home_org_unit_path = stored->home_org_unit_path;
    if (strcmp (next->home_org_unit, stored->home_org_unit) != 0) {
        Pmo__OrgUnit *unit = allocator_unit (self->registry, req, next->home_org_unit,
                                             "update_resource.home_org_unit");
        if (!unit)
            return COMMIT_FAIL;
        if (strcmp (unit->division, stored->division) != 0)
            return FAIL (req, INVALID, "update_resource.home_org_unit",
                         "a resource moves only within its division ('%s'); to move it to "
                         "'%s', archive it and create it there",
                         stored->division, unit->division),
                   COMMIT_FAIL;
        if (!allocator_may (req, ALLOCATOR_RESOURCE, unit->path, "move resources"))
            return COMMIT_FAIL;
        next->home_org_unit_path = unit->path;
    }
    next->division = stored->division;
    next->created_ms = stored->created_ms;
    next->updated_ms = pmo_now_ms ();
    next->archived = false;
    next->version = version + 1;
    //  A lower capacity or new leave may over-allocate (or clear) the resource
    Pmo__OverAllocation *over = allocator_over_change (req, next, ledger);
    if (over && over->over) {
        char text[200];
        snprintf (text, sizeof text,
                  "%s is now over-allocated in %zu week(s) from %s: resolve with `conflicts`",
                  next->name, over->n_weeks, over->weeks[0]);
        allocator_warn (req, text);
    }
    pmo_commit_t *commit =
        allocator_store_commit (self->store, stored->division, req->header->request_id);
    allocator_store_put_resource (self->store, commit, req->arena, next, version);
    allocator_store_put_ledger (self->store, commit, req->arena, stored->division, ledger,
                                ledger_version);
    Pmo__Event *events[2];
    size_t n_events = 0;
    events[n_events++] = allocator_event (req, "resource.updated", stored->division,
                                          next->home_org_unit, next->home_org_unit_path, next->id,
                                          next->version, "resource", &next->base);
    s_over_event (req, next, over, events, &n_events);
    pmo_reflect_set_oneof (req->reply, "resource", &next->base);
    rc = s_commit (self, req, commit, stored->division, events, n_events);
    if (rc == COMMIT_DONE && !req->raw_reply)
        allocator_index_put_resource (self->index, next);
    return rc;
}

static void s_handle_archive_resource (allocator_t *self, pmo_request_t *req,
                                       Pmo__ArchiveResourceRequest *archive)
{
    uint64_t version, ledger_version;
    Pmo__Resource *r;
    Pmo__BookingLedger *ledger;
    int rc = allocator_store_read_booked (self->store, req->arena, archive->id, &r, &version,
                                          &ledger, &ledger_version);
    if (rc < 0)
        return pmo_request_unavailable (req, ALLOCATOR_STORE);
    if (rc == 0)
        return (void)FAIL (req, NOT_FOUND, "archive_resource.id", "no resource with id '%.64s'",
                           archive->id ? archive->id : "");
    if (!allocator_may (req, ALLOCATOR_RESOURCE, r->home_org_unit_path, "archive resources"))
        return;
    if (s_replayed (self, req, r->division))
        return;
    if (!pmo_request_version_matches (req, "version", "resource", archive->version, version))
        return;
    if (r->archived)
        return (void)FAIL (req, FAILED_PRECONDITION, "archive_resource.id",
                           "resource %s is already archived", r->id);
    if (!s_index_ready (self, req))
        return;
    //  Named requests waiting for it count as well as bookings
    allocator_allocation_filter_t filter = {.resource_id = r->id};
    char **ids, *next;
    size_t n = allocator_index_list_allocations (self->index, &filter, NULL, LIST_MAX, req->arena,
                                                 &ids, &next);
    ProtobufCMessage **msgs = pmo_arena_alloc (req->arena, (n + 1) * sizeof (void *));
    if (allocator_store_read_many (self->store, req->arena, ALLOCATOR_PREFIX_ALLOCATION, ids, n,
                                   msgs))
        return pmo_request_unavailable (req, ALLOCATOR_STORE);
    for (size_t i = 0; i < n; i++) {
        Pmo__Allocation *a = (Pmo__Allocation *)msgs[i];
        if (a && allocator_state_live (a->state))
            return (void)FAIL (req, FAILED_PRECONDITION, "archive_resource.id",
                               "resource %s still has allocation %s (%s, project %s): release or "
                               "reject it first",
                               r->id, a->id, allocator_state_name (a->state), a->project_code);
    }
    r->archived = true;
    r->version = version + 1;
    r->updated_ms = pmo_now_ms ();
    pmo_commit_t *commit =
        allocator_store_commit (self->store, r->division, req->header->request_id);
    allocator_store_put_resource (self->store, commit, req->arena, r, version);
    allocator_store_check_ledger (self->store, commit, req->arena, r->division, r->id,
                                  ledger_version);
    Pmo__Event *events[1] = {allocator_event (req, "resource.archived", r->division,
                                              r->home_org_unit, r->home_org_unit_path, r->id,
                                              r->version, "resource", &r->base)};
    pmo_reflect_set_oneof (req->reply, "resource", &r->base);
    if (s_commit (self, req, commit, r->division, events, 1) == COMMIT_DONE && !req->raw_reply)
        allocator_index_put_resource (self->index, r);
}

//  ---------------------------------------------------------------------
//  Requests and matching

//  The match query of a request, for the index.
static Pmo__MatchResult *s_match (allocator_t *self, pmo_request_t *req, const char *role,
                                  const char *skill, uint32_t min_level, uint32_t hours,
                                  int32_t first, int32_t last, const char *pool,
                                  const char *division, size_t limit)
{
    allocator_match_query_t q = {
        .role = role,
        .skill = skill,
        .min_level = min_level,
        .hours = hours,
        .first = first,
        .last = last,
        .pool_unit = pool,
        .division = division,
        .limit = limit,
    };
    return allocator_index_match (self->index, &q, req->arena);
}

//  Known role and skill names: "unknown" is a clear error, not empty demand.
static int s_check_names (allocator_t *self, pmo_request_t *req, const char *role,
                          const char *skill, const char *prefix)
{
    if (!pmo_str_empty (skill) && !allocator_index_has_skill (self->index, skill))
        return FAIL (req, NOT_FOUND, pmo_arena_printf (req->arena, "%s.skill", prefix),
                     "no resource has skill '%s'", skill),
               -1;
    if (!pmo_str_empty (role) && !allocator_index_has_role (self->index, role))
        return FAIL (req, NOT_FOUND, pmo_arena_printf (req->arena, "%s.role", prefix),
                     "no resource has role '%s'", role),
               -1;
    return 0;
}

//  Propose a resource on ledger for a: the exact check on Redis's data that
//  the hours are still free. True if every week fits.
static bool s_fits (const Pmo__Resource *r, const Pmo__BookingLedger *ledger, int32_t first,
                    int32_t last, uint32_t hours)
{
    for (int32_t w = first; w <= last; w++) {
        uint32_t booked = 0;
        for (size_t i = 0; i < ledger->n_bookings; i++) {
            const Pmo__Booking *b = ledger->bookings[i];
            if (w >= b->start_week && w <= b->end_week)
                booked += b->hours_per_week;
        }
        if (booked + hours > allocator_capacity_in_week (r, w))
            return false;
    }
    return true;
}

static int s_try_request (allocator_t *self, pmo_request_t *req, Pmo__AllocationRequest *rq)
{
    Pmo__AllocatorReply *reply = allocator_reply (req);
    reply->n_warnings = 0;
    reply->match_detail = NULL;
    pmo_problem_t problem;
    int32_t first, last;
    if (allocator_check_request (rq, &first, &last, &problem))
        return pmo_request_fail_problem (req, &problem, "request_allocation"), COMMIT_FAIL;
    if (!s_index_ready (self, req))
        return COMMIT_FAIL;
    Pmo__Project *project =
        allocator_project (self->registry, req, rq->project_id, "request_allocation.project_id");
    if (!project)
        return COMMIT_FAIL;
    Pmo__Role role = allocator_may (req, ALLOCATOR_PROJECT, project->org_unit_path,
                                    "request resources for projects");
    if (!role)
        return COMMIT_FAIL;
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
    Pmo__Resource *resource = NULL;
    Pmo__BookingLedger *ledger = NULL;
    uint64_t ledger_version = 0, resource_version;
    const char *division;
    s_step (req, a, PMO__ALLOCATION_STATE__ALLOCATION_STATE_REQUESTED, role, rq->note);
    if (!pmo_str_empty (rq->resource_id)) {
        //  A named resource: the request waits for its resource side to propose
        char named[40];
        if (allocator_store_division (rq->resource_id, ALLOCATOR_PREFIX_RESOURCE, named,
                                      sizeof named))
            return FAIL (req, INVALID, "request_allocation.resource_id",
                         "'%.64s' is not a resource id", rq->resource_id),
                   COMMIT_FAIL;
        division = pmo_arena_strdup (req->arena, named);
        if (s_replayed (self, req, division))
            return COMMIT_DONE;
        int rc = allocator_store_read_resource (self->store, req->arena, rq->resource_id, &resource,
                                                &resource_version);
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
        if (!pmo_str_empty (rq->skill)) {
            uint32_t level = 0;
            for (size_t i = 0; i < resource->n_skills; i++)
                if (strcmp (resource->skills[i]->name, rq->skill) == 0)
                    level = resource->skills[i]->level;
            if (!level || level < rq->min_level)
                allocator_warn (req, pmo_arena_printf (req->arena,
                                                       "%s has %s level %u, below the %u asked for",
                                                       resource->name, rq->skill, level,
                                                       rq->min_level ? rq->min_level : 1));
        }
        s_assign (req, a, resource);
    } else {
        if (s_check_names (self, req, rq->role, rq->skill, "request_allocation"))
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
            s_match (self, req, rq->role, rq->skill, rq->min_level, rq->hours_per_week, first, last,
                     rq->pool_org_unit, project->division, MATCH_DEFAULT);
        reply->match_detail = match;
        division = project->division;
        if (match->fits) {
            const Pmo__MatchCandidate *best = match->candidates[0];
            int rc =
                allocator_store_read_booked (self->store, req->arena, best->resource_id, &resource,
                                             &resource_version, &ledger, &ledger_version);
            if (rc < 0)
                return pmo_request_unavailable (req, ALLOCATOR_STORE), COMMIT_FAIL;
            if (rc == 1 && !resource->archived &&
                s_fits (resource, ledger, first, last, rq->hours_per_week)) {
                division = resource->division;
                s_assign (req, a, resource);
                s_step (req, a, PMO__ALLOCATION_STATE__ALLOCATION_STATE_PROPOSED, role,
                        pmo_arena_printf (req->arena, "best match: %s", best->explanation));
            } else {
                //  The index is behind Redis (another replica booked it)
                resource = NULL;
                ledger = NULL;
                allocator_warn (req,
                                pmo_arena_printf (req->arena,
                                                  "the best candidate %s no longer has the hours; "
                                                  "the request waits as unfilled demand",
                                                  best->resource_id));
            }
        } else
            allocator_warn (req, pmo_arena_printf (req->arena,
                                                   "nobody fits: %s; the request waits as "
                                                   "unfilled demand (see match_detail for the "
                                                   "shortfall by week)",
                                                   match->summary));
    }
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
    int rc = s_commit (self, req, commit, division, events, 1);
    if (rc == COMMIT_DONE && !req->raw_reply)
        allocator_index_put_allocation (self->index, a);
    return rc;
}

//  ---------------------------------------------------------------------
//  Steps of the state machine

//  What every step reads first: the allocation, with its version.
static Pmo__Allocation *s_fetch_allocation (allocator_t *self, pmo_request_t *req, const char *id,
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

static int s_try_propose (allocator_t *self, pmo_request_t *req, Pmo__AllocationStep *step)
{
    Pmo__AllocatorReply *reply = allocator_reply (req);
    reply->n_warnings = 0;
    uint64_t version;
    Pmo__Allocation *a =
        s_fetch_allocation (self, req, step->allocation_id, "propose.allocation_id", &version);
    if (!a)
        return COMMIT_FAIL;
    int32_t first, last;
    s_window (a, &first, &last);
    //  Who proposes whom: the project side, or the resource side of the
    //  resource proposed (checked below when it is known)
    Pmo__Role role =
        allocator_role_for (pmo_request_who (req), ALLOCATOR_PROJECT, a->project_org_unit_path);
    if (s_replayed (self, req, a->division))
        return COMMIT_DONE;
    if (!pmo_request_version_matches (req, "version", "allocation", step->version, version) ||
        !s_allowed (req, a, PMO__ALLOCATION_STATE__ALLOCATION_STATE_PROPOSED, "propose"))
        return COMMIT_FAIL;
    const char *target = !pmo_str_empty (step->resource_id) ? step->resource_id : a->resource_id;
    if (pmo_str_empty (target)) {
        //  Unfilled demand: match again now
        target = NULL;
        if (!s_index_ready (self, req))
            return COMMIT_FAIL;
        Pmo__MatchResult *match =
            s_match (self, req, a->role, a->skill, a->min_level, a->hours_per_week, first, last,
                     NULL, a->project_division, MATCH_DEFAULT);
        reply->match_detail = match;
        for (size_t i = 0; i < match->n_candidates && !target; i++)
            if (match->candidates[i]->fits &&
                strcmp (match->candidates[i]->division, a->division) == 0)
                target = match->candidates[i]->resource_id;
        if (!target)
            return FAIL (req, FAILED_PRECONDITION, "propose.resource_id",
                         "nobody in division %s has %u h free in every week: %s", a->division,
                         a->hours_per_week, match->summary),
                   COMMIT_FAIL;
    }
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
    s_assign (req, a, r);
    Pmo__AllocationTransition *t =
        s_step (req, a, PMO__ALLOCATION_STATE__ALLOCATION_STATE_PROPOSED, role, step->reason);
    allocator_ledger_book (req, ledger, a, first, last);
    int32_t first_over = 0;
    size_t soft = s_soft_over (r, ledger, first, last, &first_over);
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
    rc = s_commit (self, req, commit, a->division, events, 1);
    if (rc == COMMIT_DONE && !req->raw_reply)
        allocator_index_put_allocation (self->index, a);
    return rc;
}

static int s_try_commit (allocator_t *self, pmo_request_t *req, Pmo__AllocationStep *step)
{
    Pmo__AllocatorReply *reply = allocator_reply (req);
    reply->n_warnings = 0;
    reply->over_allocation = NULL;
    reply->approval_needed = NULL;
    uint64_t version;
    Pmo__Allocation *a =
        s_fetch_allocation (self, req, step->allocation_id, "commit.allocation_id", &version);
    if (!a)
        return COMMIT_FAIL;
    Pmo__Role role = PMO__ROLE__ROLE_UNSPECIFIED;
    if (step->approve) {
        //  Only the resource side approves
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
    } else if (!(role = s_may_either (req, a, "commit allocations")))
        return COMMIT_FAIL;
    if (s_replayed (self, req, a->division))
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
    //  Over-allocation this commitment takes part in: weeks of its window
    allocator_over_week_t *over;
    size_t n_over = allocator_over_weeks (r, ledger, req->arena, &over);
    size_t mine = 0;
    allocator_over_week_t *worst = NULL;
    for (size_t i = 0; i < n_over; i++)
        if (over[i].week >= first && over[i].week <= last) {
            if (!worst || over[i].committed - over[i].capacity > worst->committed - worst->capacity)
                worst = &over[i];
            mine++;
        }
    bool crosses = strcmp (a->project_division, r->division) != 0;
    char over_text[300] = "", cross_text[200] = "";
    if (mine)
        snprintf (over_text, sizeof over_text,
                  "over-allocates %s in %zu week(s): %s has %u h committed of %u h capacity",
                  r->name, mine, allocator_week_text (req, worst->week), worst->committed,
                  worst->capacity);
    if (crosses)
        snprintf (cross_text, sizeof cross_text,
                  "crosses divisions: project %s is in %s, %s's home division is %s",
                  a->project_code, a->project_division, r->name, r->division);
    allocator_approval_t approval;
    allocator_approval (unit->effective_pmo_type, unit->id, mine > 0, over_text, crosses,
                        cross_text, &approval);
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
    s_over_event (req, r, change, events, &n_events);
    pmo_reflect_set_oneof (req->reply, "allocation", &a->base);
    rc = s_commit (self, req, commit, a->division, events, n_events);
    if (rc == COMMIT_DONE && !req->raw_reply)
        allocator_index_put_allocation (self->index, a);
    return rc;
}

//  Reject (requested or proposed) or release (proposed or committed): the
//  hours booked are freed in the same commit.
static int s_try_end (allocator_t *self, pmo_request_t *req, Pmo__AllocationStep *step,
                      Pmo__AllocationState to, const char *field)
{
    Pmo__AllocatorReply *reply = allocator_reply (req);
    reply->over_allocation = NULL;
    uint64_t version;
    Pmo__Allocation *a =
        s_fetch_allocation (self, req, step->allocation_id,
                            pmo_arena_printf (req->arena, "%s.allocation_id", field), &version);
    if (!a)
        return COMMIT_FAIL;
    Pmo__Role role = s_may_either (req, a,
                                   to == PMO__ALLOCATION_STATE__ALLOCATION_STATE_REJECTED
                                       ? "reject allocations"
                                       : "release allocations");
    if (!role)
        return COMMIT_FAIL;
    if (s_replayed (self, req, a->division))
        return COMMIT_DONE;
    if (!pmo_request_version_matches (req, "version", "allocation", step->version, version) ||
        !s_allowed (req, a, to, field))
        return COMMIT_FAIL;
    if (to == PMO__ALLOCATION_STATE__ALLOCATION_STATE_REJECTED && pmo_str_empty (step->reason))
        return FAIL (req, INVALID, pmo_arena_printf (req->arena, "%s.reason", field),
                     "a rejection needs a reason: the requester learns why"),
               COMMIT_FAIL;
    if (!pmo_str_empty (step->reason) &&
        (strlen (step->reason) > 2000 || !pmo_text_valid (step->reason)))
        return FAIL (req, INVALID, pmo_arena_printf (req->arena, "%s.reason", field),
                     "reason must be UTF-8 text of at most 2000 characters"),
               COMMIT_FAIL;
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
        s_over_event (req, r, change, events, &n_events);
    pmo_reflect_set_oneof (req->reply, "allocation", &a->base);
    int rc = s_commit (self, req, commit, a->division, events, n_events);
    if (rc == COMMIT_DONE && !req->raw_reply)
        allocator_index_put_allocation (self->index, a);
    return rc;
}

static int s_try_reshape (allocator_t *self, pmo_request_t *req, Pmo__AllocationReshape *rs)
{
    Pmo__AllocatorReply *reply = allocator_reply (req);
    reply->n_warnings = 0;
    reply->over_allocation = NULL;
    uint64_t version;
    Pmo__Allocation *a =
        s_fetch_allocation (self, req, rs->allocation_id, "reshape.allocation_id", &version);
    if (!a)
        return COMMIT_FAIL;
    Pmo__Role role = s_may_either (req, a, "reshape allocations");
    if (!role)
        return COMMIT_FAIL;
    if (s_replayed (self, req, a->division))
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
            s_soft_over (r, ledger, first, last, &first_over))
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
        s_over_event (req, r, over, events, &n_events);
    pmo_reflect_set_oneof (req->reply, "allocation", &a->base);
    int rc = s_commit (self, req, commit, a->division, events, n_events);
    if (rc == COMMIT_DONE && !req->raw_reply)
        allocator_index_put_allocation (self->index, a);
    return rc;
}

//  ---------------------------------------------------------------------
//  Reads and views

static void s_handle_get (allocator_t *self, pmo_request_t *req, Pmo__AllocatorGetRequest *get)
{
    if (!allocator_may (req, ALLOCATOR_READ, "", "read"))
        return;
    if (get->kind == PMO__ALLOCATOR_KIND__ALLOCATOR_KIND_RESOURCE) {
        Pmo__Resource *r;
        uint64_t version;
        int rc = allocator_store_read_resource (self->store, req->arena, get->id, &r, &version);
        if (rc < 0)
            return pmo_request_unavailable (req, ALLOCATOR_STORE);
        if (rc == 0)
            return (void)FAIL (req, NOT_FOUND, "get.id", "no resource with id '%.64s'",
                               get->id ? get->id : "");
        pmo_reflect_set_oneof (req->reply, "resource", &r->base);
    } else if (get->kind == PMO__ALLOCATOR_KIND__ALLOCATOR_KIND_ALLOCATION) {
        uint64_t version;
        Pmo__Allocation *a = s_fetch_allocation (self, req, get->id, "get.id", &version);
        if (a)
            pmo_reflect_set_oneof (req->reply, "allocation", &a->base);
    } else
        FAIL (req, INVALID, "get.kind", "kind is required: resource or allocation");
}

static int s_limit (pmo_request_t *req, uint32_t limit, const char *field)
{
    if (limit > LIST_MAX) {
        FAIL (req, INVALID, field, "limit is at most %d", LIST_MAX);
        return -1;
    }
    return limit ? (int)limit : LIST_DEFAULT;
}

//  A subtree named by a view: known to the index, or else to the registry.
static bool s_view_unit (allocator_t *self, pmo_request_t *req, const char *unit, const char *field)
{
    if (pmo_str_empty (unit))
        return true;
    if (!pmo_slug_valid (unit, 2, 32)) {
        FAIL (req, INVALID, field, "%s '%.40s' is not an org unit id", field, unit);
        return false;
    }
    allocator_resource_filter_t filter = {.unit = unit, .include_archived = true};
    char **ids, *next;
    if (allocator_index_list_resources (self->index, &filter, NULL, 1, req->arena, &ids, &next))
        return true;
    return allocator_unit (self->registry, req, unit, field) != NULL;
}

static void s_handle_list_resources (allocator_t *self, pmo_request_t *req,
                                     Pmo__ResourceListRequest *list)
{
    int limit = s_limit (req, list->limit, "list_resources.limit");
    if (limit < 0 || !allocator_may (req, ALLOCATOR_READ, "", "read") || !s_index_ready (self, req))
        return;
    if (!pmo_str_empty (list->skill))
        allocator_name_normalize (list->skill);
    if (!pmo_str_empty (list->role))
        allocator_name_normalize (list->role);
    if (!s_view_unit (self, req, list->org_unit, "list_resources.org_unit"))
        return;
    allocator_resource_filter_t filter = {list->org_unit, list->role, list->skill, list->min_level,
                                          list->include_archived};
    char **ids, *next;
    size_t n = allocator_index_list_resources (self->index, &filter, list->cursor, (size_t)limit,
                                               req->arena, &ids, &next);
    ProtobufCMessage **msgs = pmo_arena_alloc (req->arena, (n + 1) * sizeof (void *));
    if (allocator_store_read_many (self->store, req->arena, ALLOCATOR_PREFIX_RESOURCE, ids, n,
                                   msgs))
        return pmo_request_unavailable (req, ALLOCATOR_STORE);
    Pmo__ResourcePage *page = pmo_arena_alloc (req->arena, sizeof (Pmo__ResourcePage));
    pmo__resource_page__init (page);
    page->resources = pmo_arena_alloc (req->arena, (n + 1) * sizeof (void *));
    for (size_t i = 0; i < n; i++)
        if (msgs[i])
            page->resources[page->n_resources++] = (Pmo__Resource *)msgs[i];
    page->next_cursor = next;
    pmo_reflect_set_oneof (req->reply, "resources", &page->base);
}

static void s_handle_list_allocations (allocator_t *self, pmo_request_t *req,
                                       Pmo__AllocationListRequest *list)
{
    int limit = s_limit (req, list->limit, "list_allocations.limit");
    if (limit < 0 || !allocator_may (req, ALLOCATOR_READ, "", "read") || !s_index_ready (self, req))
        return;
    if (!s_view_unit (self, req, list->org_unit, "list_allocations.org_unit"))
        return;
    allocator_allocation_filter_t filter = {list->project_id, list->resource_id, list->org_unit,
                                            list->state};
    char **ids, *next;
    size_t n = allocator_index_list_allocations (self->index, &filter, list->cursor, (size_t)limit,
                                                 req->arena, &ids, &next);
    ProtobufCMessage **msgs = pmo_arena_alloc (req->arena, (n + 1) * sizeof (void *));
    if (allocator_store_read_many (self->store, req->arena, ALLOCATOR_PREFIX_ALLOCATION, ids, n,
                                   msgs))
        return pmo_request_unavailable (req, ALLOCATOR_STORE);
    Pmo__AllocationPage *page = pmo_arena_alloc (req->arena, sizeof (Pmo__AllocationPage));
    pmo__allocation_page__init (page);
    page->allocations = pmo_arena_alloc (req->arena, (n + 1) * sizeof (void *));
    for (size_t i = 0; i < n; i++)
        if (msgs[i])
            page->allocations[page->n_allocations++] = (Pmo__Allocation *)msgs[i];
    page->next_cursor = next;
    pmo_reflect_set_oneof (req->reply, "allocations", &page->base);
}

static void s_handle_match (allocator_t *self, pmo_request_t *req, Pmo__MatchRequest *m)
{
    if (!allocator_may (req, ALLOCATOR_READ, "", "read") || !s_index_ready (self, req))
        return;
    Pmo__AllocationRequest as_request = PMO__ALLOCATION_REQUEST__INIT;
    as_request.project_id = "-";
    as_request.role = m->role;
    as_request.skill = m->skill;
    as_request.min_level = m->min_level;
    as_request.hours_per_week = m->hours_per_week;
    as_request.start_week = m->start_week;
    as_request.end_week = m->end_week;
    as_request.resource_id = "";
    pmo_problem_t problem;
    int32_t first, last;
    if (allocator_check_request (&as_request, &first, &last, &problem)) {
        if (strcmp (problem.field, "resource_id") == 0)
            snprintf (problem.field, sizeof problem.field, "skill");
        return pmo_request_fail_problem (req, &problem, "match");
    }
    m->role = as_request.role;
    m->skill = as_request.skill;
    if (m->limit > MATCH_MAX)
        return (void)FAIL (req, INVALID, "match.limit", "limit is at most %d", MATCH_MAX);
    if (s_check_names (self, req, m->role, m->skill, "match"))
        return;
    if (!s_view_unit (self, req, m->pool_org_unit, "match.pool_org_unit"))
        return;
    const char *division = NULL;
    if (!pmo_str_empty (m->project_id)) {
        Pmo__Project *project =
            allocator_project (self->registry, req, m->project_id, "match.project_id");
        if (!project)
            return;
        division = project->division;
    }
    Pmo__MatchResult *result =
        s_match (self, req, m->role, m->skill, m->min_level, m->hours_per_week, first, last,
                 m->pool_org_unit, division, m->limit ? m->limit : MATCH_DEFAULT);
    pmo_reflect_set_oneof (req->reply, "match", &result->base);
}

static void s_handle_capacity (allocator_t *self, pmo_request_t *req, Pmo__CapacityRequest *c)
{
    if (!allocator_may (req, ALLOCATOR_READ, "", "read") || !s_index_ready (self, req))
        return;
    pmo_problem_t problem;
    int32_t first, last;
    if (allocator_check_window (c->start_week, c->end_week, "start_week", "end_week",
                                ALLOCATOR_MAX_SPAN_WEEKS, &first, &last, &problem))
        return pmo_request_fail_problem (req, &problem, "capacity");
    if (!pmo_str_empty (c->skill) && allocator_name_normalize (c->skill))
        return (void)FAIL (req, INVALID, "capacity.skill", "'%.40s' is not a skill name", c->skill);
    if (!pmo_str_empty (c->skill) && !allocator_index_has_skill (self->index, c->skill))
        return (void)FAIL (req, NOT_FOUND, "capacity.skill", "no resource has skill '%s'",
                           c->skill);
    if (!s_view_unit (self, req, c->org_unit, "capacity.org_unit"))
        return;
    size_t too_many;
    Pmo__CapacityView *view =
        allocator_index_capacity (self->index, c->org_unit, first, last, c->skill, c->by_resource,
                                  BY_RESOURCE_MAX, req->arena, &too_many);
    if (!view)
        return (void)FAIL (req, INVALID, "capacity.by_resource",
                           "the subtree holds %zu resources; a table by resource shows at most "
                           "%d: name a smaller org unit",
                           too_many, BY_RESOURCE_MAX);
    pmo_reflect_set_oneof (req->reply, "capacity", &view->base);
}

static void s_handle_conflicts (allocator_t *self, pmo_request_t *req, Pmo__ConflictsRequest *c)
{
    if (!allocator_may (req, ALLOCATOR_READ, "", "read") || !s_index_ready (self, req))
        return;
    int32_t first = INT32_MIN, last = INT32_MAX;
    if (!pmo_str_empty (c->start_week) && allocator_week_parse (c->start_week, &first))
        return (void)FAIL (req, INVALID, "conflicts.start_week",
                           "'%.20s' is not an ISO week such as 2026-W14", c->start_week);
    if (!pmo_str_empty (c->end_week) && allocator_week_parse (c->end_week, &last))
        return (void)FAIL (req, INVALID, "conflicts.end_week",
                           "'%.20s' is not an ISO week such as 2026-W14", c->end_week);
    if (last < first)
        return (void)FAIL (req, INVALID, "conflicts.end_week", "end_week is before start_week");
    if (!s_view_unit (self, req, c->org_unit, "conflicts.org_unit"))
        return;
    Pmo__ConflictList *list =
        allocator_index_conflicts (self->index, c->org_unit, first, last, req->arena);
    pmo_reflect_set_oneof (req->reply, "conflicts", &list->base);
}

static void s_handle_ping (allocator_t *self, pmo_request_t *req)
{
    pmo_request_pong (req, "allocator", self->redis, self->started_ms);
}

//  ---------------------------------------------------------------------
//  Dispatch

typedef int (try_fn) (allocator_t *self, pmo_request_t *req, void *body);

static void s_follow (allocator_t *self);

//  Run a change, reading again while a booking ledger moves under it.
static void s_retrying (allocator_t *self, pmo_request_t *req, try_fn *fn, void *body)
{
    for (int attempt = 0; attempt < RACE_RETRIES; attempt++) {
        if (fn (self, req, body) != COMMIT_RETRY)
            return;
        pmo_debug ("allocator: ledger moved, deciding again request_id=%s attempt=%d",
                   req->header->request_id, attempt + 1);
    }
    FAIL (req, CONFLICT, "", "the resource's bookings kept changing while this was decided; retry");
}

static int s_try_end_reject (allocator_t *self, pmo_request_t *req, void *body)
{
    return s_try_end (self, req, body, PMO__ALLOCATION_STATE__ALLOCATION_STATE_REJECTED, "reject");
}

static int s_try_end_release (allocator_t *self, pmo_request_t *req, void *body)
{
    return s_try_end (self, req, body, PMO__ALLOCATION_STATE__ALLOCATION_STATE_RELEASED, "release");
}

static void s_handle (void *state, pmo_request_t *req)
{
    allocator_t *self = state;
    Pmo__AllocatorRequest *r = (Pmo__AllocatorRequest *)req->request;
    switch (r->body_case) {
    case PMO__ALLOCATOR_REQUEST__BODY_REQUEST_ALLOCATION:
    case PMO__ALLOCATOR_REQUEST__BODY_PROPOSE:
    case PMO__ALLOCATOR_REQUEST__BODY_ARCHIVE_RESOURCE:
    case PMO__ALLOCATOR_REQUEST__BODY_LIST_RESOURCES:
    case PMO__ALLOCATOR_REQUEST__BODY_LIST_ALLOCATIONS:
    case PMO__ALLOCATOR_REQUEST__BODY_MATCH:
    case PMO__ALLOCATOR_REQUEST__BODY_CAPACITY:
    case PMO__ALLOCATOR_REQUEST__BODY_CONFLICTS:
    case PMO__ALLOCATOR_REQUEST__BODY_REQUEST_FOREIGN:
    case PMO__ALLOCATOR_REQUEST__BODY_RECEIVE_FOREIGN:
        //  Read what other replicas wrote, so the index answers for Redis
        s_follow (self);
        break;
    default:
        break;
    }
    switch (r->body_case) {
    case PMO__ALLOCATOR_REQUEST__BODY_CREATE_RESOURCE:
        return s_handle_create_resource (self, req, r->create_resource);
    case PMO__ALLOCATOR_REQUEST__BODY_UPDATE_RESOURCE:
        return s_retrying (self, req, (try_fn *)s_try_update_resource, r->update_resource);
    case PMO__ALLOCATOR_REQUEST__BODY_ARCHIVE_RESOURCE:
        return s_handle_archive_resource (self, req, r->archive_resource);
    case PMO__ALLOCATOR_REQUEST__BODY_REQUEST_ALLOCATION:
        return s_retrying (self, req, (try_fn *)s_try_request, r->request_allocation);
    case PMO__ALLOCATOR_REQUEST__BODY_PROPOSE:
        return s_retrying (self, req, (try_fn *)s_try_propose, r->propose);
    case PMO__ALLOCATOR_REQUEST__BODY_COMMIT:
        return s_retrying (self, req, (try_fn *)s_try_commit, r->commit);
    case PMO__ALLOCATOR_REQUEST__BODY_REJECT:
        return s_retrying (self, req, s_try_end_reject, r->reject);
    case PMO__ALLOCATOR_REQUEST__BODY_RELEASE:
        return s_retrying (self, req, s_try_end_release, r->release);
    case PMO__ALLOCATOR_REQUEST__BODY_RESHAPE:
        return s_retrying (self, req, (try_fn *)s_try_reshape, r->reshape);
    case PMO__ALLOCATOR_REQUEST__BODY_GET:
        return s_handle_get (self, req, r->get);
    case PMO__ALLOCATOR_REQUEST__BODY_LIST_RESOURCES:
        return s_handle_list_resources (self, req, r->list_resources);
    case PMO__ALLOCATOR_REQUEST__BODY_LIST_ALLOCATIONS:
        return s_handle_list_allocations (self, req, r->list_allocations);
    case PMO__ALLOCATOR_REQUEST__BODY_MATCH:
        return s_handle_match (self, req, r->match);
    case PMO__ALLOCATOR_REQUEST__BODY_CAPACITY:
        return s_handle_capacity (self, req, r->capacity);
    case PMO__ALLOCATOR_REQUEST__BODY_CONFLICTS:
        return s_handle_conflicts (self, req, r->conflicts);
    case PMO__ALLOCATOR_REQUEST__BODY_PING:
        return s_handle_ping (self, req);
    case PMO__ALLOCATOR_REQUEST__BODY_REQUEST_FOREIGN:
    case PMO__ALLOCATOR_REQUEST__BODY_RECEIVE_FOREIGN:
    case PMO__ALLOCATOR_REQUEST__BODY_FOREIGN_UPDATE:
    case PMO__ALLOCATOR_REQUEST__BODY_LIST_FOREIGN:
    case PMO__ALLOCATOR_REQUEST__BODY_GET_FOREIGN: {
        //  Cross-division requests between stacks: allocator_xdiv.c
        allocator_xdiv_env_t env = {
            .store = self->store,
            .index = self->index,
            .pub = self->pub,
            .registry = self->registry,
            .hub = self->config.hub,
            .loaded = self->loaded,
        };
        return allocator_xdiv_handle (&env, req, r);
    }
    default:
        FAIL (req, UNSUPPORTED, "body", "unknown request type");
    }
}

//  ---------------------------------------------------------------------
//  The actor

//  Fill the index from Redis if it is not filled yet.
static void s_load (allocator_t *self)
{
    if (self->loaded || pmo_mono_ms () < self->next_load_ms)
        return;
    int64_t started = pmo_mono_ms ();
    allocator_index_clear (self->index);
    zhashx_purge (self->positions);
    if (pmo_redis_ready (self->redis) &&
        allocator_store_load (self->store, self->index, self->positions) == 0) {
        self->loaded = true;
        pmo_info ("allocator: index loaded resources=%zu allocations=%zu ms=%lld bytes=%zu",
                  allocator_index_resource_count (self->index),
                  allocator_index_allocation_count (self->index),
                  (long long)(pmo_mono_ms () - started), allocator_index_bytes (self->index));
    } else {
        allocator_index_clear (self->index);
        self->next_load_ms = pmo_mono_ms () + LOAD_RETRY_MS;
        pmo_warn ("allocator: cannot load the index yet (Redis unavailable); retrying");
    }
}

//  Apply what was committed since the index last looked (by this allocator
//  or a replica). If Redis does not answer, the index answers as it is.
static void s_follow (allocator_t *self)
{
    if (!self->loaded)
        return;
    bool org_units = false;
    int applied = allocator_store_follow (self->store, self->index, self->positions, &org_units);
    //  The registry writes org-unit events to the same division streams
    if (org_units)
        allocator_registry_invalidate (self->registry);
    if (applied > 0)
        pmo_debug ("allocator: followed snapshots=%d", applied);
}

static void s_string_free (void **item)
{
    free (*item);
    *item = NULL;
}

void allocator_server_actor (zsock_t *pipe, void *args)
{
    allocator_t self = {.config = *(allocator_config_t *)args};
    self.started_ms = pmo_now_ms ();
    if (self.config.registry_timeout_ms <= 0)
        self.config.registry_timeout_ms = 1000;
    if (self.config.registry_cache_ms < 0)
        self.config.registry_cache_ms = 0;
    pmo__identity__init (&self.service);
    pmo__grant__init (&self.service_grant);
    self.service.subject = "pmo-allocator";
    self.service_grant.role = PMO__ROLE__ROLE_ADMIN;
    self.service_grant.org_unit = (char *)self.config.hub;
    self.service_grants[0] = &self.service_grant;
    self.service.grants = self.service_grants;
    self.service.n_grants = 1;
    self.redis = pmo_redis_new (self.config.redis_url, self.config.redis_timeout_ms);
    self.registry =
        allocator_registry_new (self.config.registry, &self.service,
                                self.config.registry_timeout_ms, self.config.registry_cache_ms);
    if (!self.redis || !self.registry) {
        pmo_error ("allocator: bad %s", self.redis ? "registry endpoint" : "redis url");
        pmo_redis_destroy (&self.redis);
        allocator_registry_destroy (&self.registry);
        ((allocator_config_t *)args)->failed = true;
        zsock_signal (pipe, 1);
        return;
    }
    self.store = allocator_store_new (self.redis, self.config.hub);
    self.index = allocator_index_new (self.config.fte_hours);
    self.positions = zhashx_new ();
    zhashx_set_destructor (self.positions, s_string_free);
    pmo_server_config_t server_config = {
        .name = "allocator",
        .request_desc = &pmo__allocator_request__descriptor,
        .reply_desc = &pmo__allocator_reply__descriptor,
        .handler = s_handle,
        .state = &self,
    };
    self.server = pmo_server_new (&server_config, self.config.endpoint);
    self.pub = zsock_new (ZMQ_PUB);
    assert (self.pub);
    zsock_set_sndhwm (self.pub, 100000);
    if (!self.server || zsock_bind (self.pub, "%s", self.config.pub_endpoint) < 0) {
        pmo_error ("allocator: cannot bind endpoint=%s pub=%s", self.config.endpoint,
                   self.config.pub_endpoint);
        pmo_server_destroy (&self.server);
        zsock_destroy (&self.pub);
        zhashx_destroy (&self.positions);
        allocator_index_destroy (&self.index);
        allocator_store_destroy (&self.store);
        allocator_registry_destroy (&self.registry);
        pmo_redis_destroy (&self.redis);
        ((allocator_config_t *)args)->failed = true;
        zsock_signal (pipe, 1);
        return;
    }
    //  Everything in memory comes back from Redis: nothing is lost by a restart
    s_load (&self);
    pmo_info ("allocator: ready endpoint=%s pub=%s redis=%s registry=%s hub=%s loaded=%s",
              self.config.endpoint, self.config.pub_endpoint, pmo_redis_safe_url (self.redis),
              self.config.registry, self.config.hub, self.loaded ? "yes" : "no");
    zsock_signal (pipe, 0);

    zpoller_t *poller = zpoller_new (pipe, pmo_server_socket (self.server), NULL);
    bool running = true;
    while (running) {
        void *which = zpoller_wait (poller, self.loaded ? 1000 : 200);
        if (which == pipe) {
            char *command = zstr_recv (pipe);
            running = !(command && streq (command, "$TERM"));
            zstr_free (&command);
        } else if (which == pmo_server_socket (self.server)) {
            s_load (&self);
            pmo_server_drain (self.server, 256);
        } else if (zpoller_terminated (poller))
            running = false;
        else
            s_follow (&self);
        s_load (&self);
    }
    pmo_server_drain (self.server, 100000);
    const pmo_server_stats_t *stats = pmo_server_stats (self.server);
    pmo_info ("allocator: stopping requests=%llu errors=%llu malformed=%llu",
              (unsigned long long)stats->requests, (unsigned long long)stats->errors,
              (unsigned long long)stats->malformed);
    zpoller_destroy (&poller);
    pmo_server_destroy (&self.server);
    zsock_destroy (&self.pub);
    zhashx_destroy (&self.positions);
    allocator_index_destroy (&self.index);
    allocator_store_destroy (&self.store);
    allocator_registry_destroy (&self.registry);
    pmo_redis_destroy (&self.redis);
}
