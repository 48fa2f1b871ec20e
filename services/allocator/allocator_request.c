/*  allocator_request.c: helpers shared by the allocator's request handlers. */
#include "allocator_request.h"
#include "allocator_model.h"

#include "pmo_log.h"
#include "pmo_reflect.h"

#include <string.h>

#define IDEM_TTL_S 86400 //  a done request's reply is kept this long for retries

Pmo__AllocatorReply *allocator_reply (pmo_request_t *req)
{
    return (Pmo__AllocatorReply *)req->reply;
}

Pmo__Role allocator_may (pmo_request_t *req, allocator_action_t action, const char *path,
                         const char *what)
{
    //  Reads check no path (allocator_role_for); a missing path is none
    return pmo_request_may (req, allocator_roles (), action,
                            action == ALLOCATOR_READ ? NULL : (path ? path : ""), what);
}

bool allocator_replayed (allocator_store_t *store, pmo_request_t *req, char *const *divisions,
                         size_t n)
{
    uint8_t *blob;
    size_t size;
    int rc = allocator_store_replay (store, req->arena, divisions, n, req->header->request_id,
                                     &blob, &size);
    if (rc < 0) {
        pmo_request_unavailable (req, ALLOCATOR_STORE);
        return true;
    }
    if (rc == 1) {
        req->raw_reply = blob;
        req->raw_size = size;
        pmo_debug ("allocator: replay request_id=%s", req->header->request_id);
        return true;
    }
    return false;
}

void allocator_warn (pmo_request_t *req, const char *text)
{
    Pmo__AllocatorReply *reply = allocator_reply (req);
    pmo_arena_append_string (req->arena, &reply->warnings, &reply->n_warnings, text);
}

const char *allocator_week_text (pmo_request_t *req, int32_t week)
{
    char buf[16];
    return pmo_arena_strdup (req->arena, allocator_week_format (week, buf, sizeof buf));
}

Pmo__Event *allocator_event (pmo_request_t *req, const char *type, const char *division,
                             const char *org_unit, const char *path, const char *entity_id,
                             uint64_t version, const char *member, ProtobufCMessage *body)
{
    Pmo__Event *event = pmo_arena_alloc (req->arena, sizeof (Pmo__Event));
    pmo__event__init (event);
    event->type = (char *)type;
    event->division = (char *)division;
    event->org_unit = (char *)org_unit;
    event->org_unit_path = (char *)path;
    event->entity_id = (char *)entity_id;
    event->entity_version = version;
    event->time_ms = pmo_now_ms ();
    pmo_request_stamp (req, event);
    event->request_id = req->header->request_id;
    event->source = "allocator";
    pmo_reflect_set_oneof (&event->base, member, body);
    return event;
}

void allocator_ledger_remove (Pmo__BookingLedger *ledger, const char *allocation_id)
{
    size_t k = 0;
    for (size_t i = 0; i < ledger->n_bookings; i++)
        if (strcmp (ledger->bookings[i]->allocation_id, allocation_id) != 0)
            ledger->bookings[k++] = ledger->bookings[i];
    ledger->n_bookings = k;
}

//  Book (or re-book) allocation a on ledger in its current state and window.
void allocator_ledger_book (pmo_request_t *req, Pmo__BookingLedger *ledger,
                            const Pmo__Allocation *a, int32_t first, int32_t last)
{
    allocator_ledger_remove (ledger, a->id);
    if (!allocator_state_books (a->state))
        return;
    Pmo__Booking *b = pmo_arena_alloc (req->arena, sizeof (Pmo__Booking));
    pmo__booking__init (b);
    b->allocation_id = a->id;
    b->state = a->state;
    b->project_id = a->project_id;
    b->hours_per_week = a->hours_per_week;
    b->start_week = first;
    b->end_week = last;
    Pmo__Booking **grown = pmo_arena_alloc (req->arena, (ledger->n_bookings + 1) * sizeof (void *));
    if (ledger->n_bookings)
        memcpy (grown, ledger->bookings, ledger->n_bookings * sizeof (void *));
    grown[ledger->n_bookings++] = b;
    ledger->bookings = grown;
}

//  Recompute the ledger's over-allocated weeks. If the set changed, returns
//  the OverAllocation to announce (over or cleared), else NULL.
Pmo__OverAllocation *allocator_over_change (pmo_request_t *req, const Pmo__Resource *resource,
                                            Pmo__BookingLedger *ledger)
{
    allocator_over_week_t *over;
    size_t n = allocator_over_weeks (resource, ledger, req->arena, &over);
    int32_t *weeks = pmo_arena_alloc (req->arena, (n + 1) * sizeof (int32_t));
    for (size_t i = 0; i < n; i++)
        weeks[i] = over[i].week;
    bool same = allocator_weeks_equal (weeks, n, ledger->over_weeks, ledger->n_over_weeks);
    bool was_over = ledger->n_over_weeks > 0;
    ledger->over_weeks = weeks;
    ledger->n_over_weeks = n;
    if (same || (n == 0 && !was_over))
        return NULL;
    Pmo__OverAllocation *o = pmo_arena_alloc (req->arena, sizeof (Pmo__OverAllocation));
    pmo__over_allocation__init (o);
    o->resource_id = resource->id;
    o->resource_name = resource->name;
    o->home_org_unit = resource->home_org_unit;
    o->home_org_unit_path = resource->home_org_unit_path;
    o->over = n > 0;
    o->weeks = pmo_arena_alloc (req->arena, (n + 1) * sizeof (char *));
    o->project_ids = pmo_arena_alloc (req->arena, (ledger->n_bookings + 1) * sizeof (char *));
    uint32_t worst = 0;
    for (size_t i = 0; i < n; i++) {
        o->weeks[o->n_weeks++] = (char *)allocator_week_text (req, over[i].week);
        if (over[i].committed - over[i].capacity >= worst) {
            worst = over[i].committed - over[i].capacity;
            o->worst_week_booked_hours = over[i].committed;
            o->worst_week_capacity_hours = over[i].capacity;
        }
    }
    for (size_t b = 0; b < ledger->n_bookings && n; b++) {
        const Pmo__Booking *booking = ledger->bookings[b];
        if (booking->state != PMO__ALLOCATION_STATE__ALLOCATION_STATE_COMMITTED)
            continue;
        bool in = false;
        for (size_t i = 0; i < n && !in; i++)
            in = weeks[i] >= booking->start_week && weeks[i] <= booking->end_week;
        bool seen = false;
        for (size_t p = 0; p < o->n_project_ids && !seen; p++)
            seen = strcmp (o->project_ids[p], booking->project_id) == 0;
        if (in && !seen)
            o->project_ids[o->n_project_ids++] = booking->project_id;
    }
    return o;
}

void allocator_step_warn (pmo_request_t *req, Pmo__AllocationTransition *t, const char *text)
{
    pmo_arena_append_string (req->arena, &t->warnings, &t->n_warnings, text);
}

pmo_commit_status_t allocator_commit_write (allocator_store_t *store, zsock_t *pub,
                                            pmo_request_t *req, pmo_commit_t *commit,
                                            const char *division, Pmo__Event **events,
                                            size_t n_events, pmo_commit_result_t *result)
{
    if (allocator_store_note_division (store, division)) {
        pmo_commit_destroy (&commit);
        memset (result, 0, sizeof *result);
        result->status = PMO_COMMIT_UNAVAILABLE;
        pmo_request_unavailable (req, ALLOCATOR_STORE);
        return result->status;
    }
    for (size_t i = 0; i < n_events; i++)
        allocator_store_event (store, commit, req->arena, division, events[i]);
    size_t size;
    uint8_t *blob = pmo_reflect_pack (req->reply, req->arena, &size);
    pmo_commit_reply (commit, blob, size, IDEM_TTL_S);
    allocator_store_exec (store, commit, result);
    pmo_commit_destroy (&commit);
    switch (result->status) {
    case PMO_COMMIT_OK:
        //  The script appended the events one after the other, so the n
        //  entries up to the last one's are this commit's
        events[n_events - 1]->id = pmo_arena_strdup (req->arena, result->stream_id);
        if (n_events > 1) {
            char **ids = pmo_arena_alloc (req->arena, n_events * sizeof (char *));
            if (allocator_store_event_ids (store, req->arena, division, result->stream_id, n_events,
                                           ids) == 0)
                for (size_t i = 0; i + 1 < n_events; i++)
                    events[i]->id = ids[i];
        }
        for (size_t i = 0; i < n_events; i++) {
            size_t esize;
            uint8_t *eblob = pmo_reflect_pack (&events[i]->base, req->arena, &esize);
            zmsg_t *msg = zmsg_new ();
            zmsg_addstrf (msg, "%s.%s", division, events[i]->type);
            zmsg_addmem (msg, eblob, esize);
            zmsg_send (&msg, pub);
        }
        pmo_debug ("allocator: committed type=%s id=%s stream_id=%s", events[0]->type,
                   events[0]->entity_id, result->stream_id);
        break;
    case PMO_COMMIT_DUPLICATE:
        req->raw_reply = pmo_arena_memdup (req->arena, result->previous, result->previous_size);
        req->raw_size = result->previous_size;
        break;
    case PMO_COMMIT_UNAVAILABLE:
        pmo_request_unavailable (req, ALLOCATOR_STORE);
        break;
    case PMO_COMMIT_ERROR:
        FAIL (req, INTERNAL, "", "the store refused the commit; nothing was written");
        break;
    default:
        break;
    }
    return result->status;
}

//  Whether the caller may see the allocation (its project's readers and its
//  resource's stewards).
bool allocator_sees (pmo_request_t *req, const Pmo__Allocation *a)
{
    return pmo_access_sees_booking (pmo_request_who (req), allocator_roles (), ALLOCATOR_READ,
                                    a->project_org_unit_path, a->resource_org_unit_path);
}

//  An allocation the caller may not see is not there: a step on it is
//  answered as for an id that names nothing (ids cannot be probed by writes).
//  A caller with no read right in the allocator at all is told that first
//  (forbidden), as a read would tell it.
bool allocator_hidden (pmo_request_t *req, const Pmo__Allocation *a, const char *field)
{
    if (!allocator_may (req, ALLOCATOR_READ, "", "read allocations"))
        return true;
    if (allocator_sees (req, a))
        return false;
    FAIL (req, NOT_FOUND, field, "no allocation with id '%.64s'", a->id);
    return true;
}

//  Either side of an allocation: the project's people or the resource's.
//  One the caller may not see at all is not found (at field).
Pmo__Role allocator_may_either (pmo_request_t *req, const Pmo__Allocation *a, const char *what,
                                const char *field)
{
    if (allocator_hidden (req, a, field))
        return PMO__ROLE__ROLE_UNSPECIFIED;
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

//  Add the over-allocation event of a change, if any, to events.
void allocator_over_event (pmo_request_t *req, const Pmo__Resource *resource,
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
Pmo__AllocationTransition *allocator_step (pmo_request_t *req, Pmo__Allocation *a,
                                           Pmo__AllocationState to, const char *actor,
                                           Pmo__Role role, const char *reason)
{
    Pmo__AllocationTransition *t = pmo_arena_alloc (req->arena, sizeof (Pmo__AllocationTransition));
    pmo__allocation_transition__init (t);
    t->from_state = a->state;
    t->to_state = to;
    t->actor = (char *)actor;
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

void allocator_assign (Pmo__Allocation *a, const Pmo__Resource *r)
{
    a->resource_id = r->id;
    a->resource_name = r->name;
    a->resource_org_unit_path = r->home_org_unit_path;
    if (pmo_str_empty (a->skill) && r->n_skills)
        a->skill = r->skills[0]->name;
}

void allocator_warn_skill (pmo_request_t *req, const Pmo__Resource *r,
                           const Pmo__AllocationRequest *rq)
{
    if (pmo_str_empty (rq->skill))
        return;
    uint32_t level = 0;
    for (size_t i = 0; i < r->n_skills; i++)
        if (strcmp (r->skills[i]->name, rq->skill) == 0)
            level = r->skills[i]->level;
    if (!level || level < rq->min_level)
        allocator_warn (
            req, pmo_arena_printf (req->arena, "%s has %s level %u, below the %u asked for",
                                   r->name, rq->skill, level, rq->min_level ? rq->min_level : 1));
}

void allocator_judge_commit (pmo_request_t *req, const Pmo__Resource *r,
                             const Pmo__BookingLedger *ledger, int32_t first, int32_t last,
                             const char *project_code, const char *project_division,
                             const Pmo__OrgUnit *unit, allocator_approval_t *approval)
{
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
    bool crosses = strcmp (project_division, r->division) != 0;
    char over_text[300] = "", cross_text[200] = "";
    if (mine)
        snprintf (over_text, sizeof over_text,
                  "over-allocates %s in %zu week(s): %s has %u h committed of %u h capacity",
                  r->name, mine, allocator_week_text (req, worst->week), worst->committed,
                  worst->capacity);
    if (crosses)
        snprintf (cross_text, sizeof cross_text,
                  "crosses divisions: project %s is in %s, %s's home division is %s", project_code,
                  project_division, r->name, r->division);
    allocator_approval (unit->effective_pmo_type, unit->id, mine > 0, over_text, crosses,
                        cross_text, approval);
}

//  ---------------------------------------------------------------------
//  What the caller may see (README "Who sees what"): pmo_access's rule

static bool s_sees_booking (void *ctx, const char *project_path, const char *resource_path)
{
    return pmo_access_sees_booking ((const Pmo__Identity *)ctx, allocator_roles (), ALLOCATOR_READ,
                                    project_path, resource_path);
}

static bool s_steward (void *ctx, const char *resource_path)
{
    return pmo_access_steward ((const Pmo__Identity *)ctx, resource_path);
}

allocator_view_t allocator_view (pmo_request_t *req)
{
    return (allocator_view_t){s_sees_booking, s_steward, (void *)pmo_request_who (req)};
}

void allocator_redact_resource (pmo_request_t *req, Pmo__Resource *r)
{
    if (pmo_access_steward (pmo_request_who (req), r->home_org_unit_path))
        return;
    r->cost_rate = NULL;
    for (size_t i = 0; i < r->n_exceptions; i++)
        r->exceptions[i]->reason = "";
}
