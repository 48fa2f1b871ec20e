/*  allocator_import.c: many rows of a spreadsheet in one request.

    import_batch follows the order of the single handlers, for every item:
    1. the stored reply if this request id was already done (a retry);
    2. the checks of the single requests (allocator_model.c's validation,
       the registry's org units and projects, who may act, versions read),
       each item's failure kept in its own result, naming its row;
    3. new allocations are booked on their resource's ledger in the order of
       the batch, so a later item sees the hours of an earlier one: soft
       over-bookings warn, commitments are judged by the PMO type in force
       at the resource's home unit (an approver's `approve` as in commit);
       one ended in the file (released: proposed, then released; rejected:
       requested, then rejected) takes each step with its history and books
       nothing, its last step checked as release or reject checks it;
    4. one commit for the whole batch: every entity, its index entry, its
       event, the ledgers (each with the version read: a ledger that moved
       since makes the whole batch decide again) and the reply.
    A batch is all or nothing unless skip_bad is set; a dry run stops before
    the commit. The checks call the same helpers as the single requests;
    where those fail the request, s_take moves the error into the item.
*/
#include "allocator_internal.h"

#include "importbatch.h"

#include "pmo_log.h"
#include "pmo_reflect.h"
#include "pmo_wire.h"

#include <string.h>

//  A resource of the batch with its ledger, read once.
typedef struct {
    Pmo__Resource *resource;    //  as stored
    uint64_t version;           //  ... its version
    Pmo__BookingLedger *ledger; //  its bookings, as this batch leaves them
    uint64_t ledger_version;    //  the version read
    Pmo__Resource *next;        //  an update of this batch, else NULL
    bool booked;                //  a good item of the batch booked on it
    int updated_by;             //  the item that updates it, else -1
} held_t;

//  One item of the batch as it is being checked.
typedef struct {
    Pmo__AllocatorImportItem *item;
    const char *member;       //  its body's name
    ProtobufCMessage *entity; //  the resource or allocation to write
    Pmo__OrgUnit *unit;       //  where it lives (resources)
    held_t *held;             //  its resource (updates and allocations)
    Pmo__ImportItemResult *result;
    bool failed;
} entry_t;

typedef struct {
    allocator_t *self;
    pmo_request_t *req;
    Pmo__AllocatorImportBatch *batch;
    zhashx_t *held;     //  resource id -> held_t
    zhashx_t *projects; //  project id -> Pmo__Project
    entry_t *entries;
    size_t n;
    size_t failures;
    bool aborted; //  the request failed as a whole (a store or the registry is down)
} batch_t;

//  Fail one item: field under the item's body.
static void s_fail (batch_t *b, entry_t *e, Pmo__ErrorCode code, const char *field,
                    const char *format, ...) __attribute__ ((format (printf, 5, 6)));
static void s_fail (batch_t *b, entry_t *e, Pmo__ErrorCode code, const char *field,
                    const char *format, ...)
{
    va_list args;
    va_start (args, format);
    if (importbatch_failv (b->req->arena, e->result, e->member, code, field, format, args)) {
        e->failed = true;
        b->failures++;
    }
    va_end (args);
}

static void s_problem (batch_t *b, entry_t *e, const pmo_problem_t *problem, const char *prefix)
{
    if (importbatch_problem (b->req->arena, e->result, e->member, prefix, problem)) {
        e->failed = true;
        b->failures++;
    }
}

//  A helper of the single requests failed req: the error becomes the
//  item's (its field under the item's body instead of the single
//  request's), unless a store or the registry is down, which fails the
//  whole batch.
static void s_take (batch_t *b, entry_t *e, const char *prefix)
{
    bool first = false;
    if (!importbatch_take (b->req, &allocator_reply (b->req)->error, e->result, e->member, prefix,
                           &first))
        b->aborted = true;
    else if (first) {
        e->failed = true;
        b->failures++;
    }
}

//  The resource id with its ledger, read once per batch; NULL after
//  failing the item (or the batch).
static held_t *s_held (batch_t *b, entry_t *e, const char *id, const char *field)
{
    held_t *h = zhashx_lookup (b->held, id);
    if (h && !h->resource)
        return s_fail (b, e, PMO__ERROR_CODE__ERROR_NOT_FOUND, field, "no resource with id '%.64s'",
                       id),
               NULL;
    if (h)
        return h;
    char division[40];
    if (allocator_store_division (id, ALLOCATOR_PREFIX_RESOURCE, division, sizeof division))
        return s_fail (b, e, PMO__ERROR_CODE__ERROR_INVALID, field, "'%.64s' is not a resource id",
                       id),
               NULL;
    if (strcmp (division, b->batch->division) != 0)
        return s_fail (b, e, PMO__ERROR_CODE__ERROR_INVALID, field,
                       "resource %s is in division '%s', not this batch's '%s'", id, division,
                       b->batch->division),
               NULL;
    h = pmo_arena_alloc (b->req->arena, sizeof (held_t));
    memset (h, 0, sizeof *h);
    h->updated_by = -1;
    int rc = allocator_store_read_booked (b->self->store, b->req->arena, id, &h->resource,
                                          &h->version, &h->ledger, &h->ledger_version);
    if (rc < 0) {
        b->aborted = true;
        pmo_request_unavailable (b->req, ALLOCATOR_STORE);
        return NULL;
    }
    if (rc == 0)
        return s_fail (b, e, PMO__ERROR_CODE__ERROR_NOT_FOUND, field, "no resource with id '%.64s'",
                       id),
               NULL;
    zhashx_insert (b->held, id, h);
    return h;
}

//  ---------------------------------------------------------------------
//  Resources

static void s_create_resource (batch_t *b, entry_t *e, Pmo__Resource *r)
{
    pmo_problem_t problem;
    r->id = NULL;
    if (allocator_check_resource (r, &problem))
        return s_problem (b, e, &problem, "");
    Pmo__OrgUnit *unit =
        allocator_unit (b->self->registry, b->req, r->home_org_unit, "home_org_unit");
    if (!unit)
        return s_take (b, e, "home_org_unit");
    if (strcmp (unit->division, b->batch->division) != 0)
        return s_fail (b, e, PMO__ERROR_CODE__ERROR_INVALID, "home_org_unit",
                       "org unit '%s' is in division '%s', not this batch's '%s'", unit->id,
                       unit->division, b->batch->division);
    if (!allocator_may (b->req, ALLOCATOR_RESOURCE, unit->path, "manage resources"))
        return s_take (b, e, "");
    r->home_org_unit_path = unit->path;
    r->division = unit->division;
    r->archived = false;
    e->unit = unit;
}

static void s_update_resource (batch_t *b, entry_t *e, Pmo__Resource *next)
{
    if (pmo_str_empty (next->id))
        return s_fail (b, e, PMO__ERROR_CODE__ERROR_INVALID, "id", "id is required");
    held_t *h = s_held (b, e, next->id, "id");
    if (!h)
        return;
    Pmo__Resource *stored = h->resource;
    if (!allocator_may (b->req, ALLOCATOR_RESOURCE, stored->home_org_unit_path, "manage resources"))
        return s_take (b, e, "");
    pmo_problem_t problem;
    if (allocator_check_resource (next, &problem))
        return s_problem (b, e, &problem, "");
    if (h->updated_by >= 0)
        return s_fail (b, e, PMO__ERROR_CODE__ERROR_INVALID, "id",
                       "resource %s is also updated by row %u of this import", stored->id,
                       b->entries[h->updated_by].item->row);
    if (!pmo_request_version_matches (b->req, "version", "resource", next->version, h->version))
        return s_take (b, e, "version");
    if (stored->archived)
        return s_fail (b, e, PMO__ERROR_CODE__ERROR_FAILED_PRECONDITION, "id",
                       "resource %s is archived", stored->id);
    next->home_org_unit_path = stored->home_org_unit_path;
    if (strcmp (next->home_org_unit, stored->home_org_unit) != 0) {
        Pmo__OrgUnit *unit =
            allocator_unit (b->self->registry, b->req, next->home_org_unit, "home_org_unit");
        if (!unit)
            return s_take (b, e, "home_org_unit");
        if (strcmp (unit->division, stored->division) != 0)
            return s_fail (b, e, PMO__ERROR_CODE__ERROR_INVALID, "home_org_unit",
                           "a resource moves only within its division ('%s'); to move it to "
                           "'%s', archive it and create it there",
                           stored->division, unit->division);
        if (!allocator_may (b->req, ALLOCATOR_RESOURCE, unit->path, "move resources"))
            return s_take (b, e, "");
        next->home_org_unit_path = unit->path;
    }
    next->division = stored->division;
    next->created_ms = stored->created_ms;
    next->archived = false;
    next->version = h->version + 1;
    h->next = next;
    h->updated_by = (int)(e - b->entries);
    e->held = h;
}

//  ---------------------------------------------------------------------
//  Allocations

static Pmo__Project *s_project (batch_t *b, entry_t *e, const char *id)
{
    Pmo__Project *p = pmo_str_empty (id) ? NULL : zhashx_lookup (b->projects, id);
    if (p)
        return p;
    p = allocator_project (b->self->registry, b->req, id, "project_id");
    if (!p)
        return s_take (b, e, "request.project_id"), NULL;
    zhashx_insert (b->projects, id, p);
    return p;
}

static void s_create_allocation (batch_t *b, entry_t *e, Pmo__AllocationImport *imp, const char *id)
{
    pmo_request_t *req = b->req;
    Pmo__AllocationState to =
        imp->state ? imp->state : PMO__ALLOCATION_STATE__ALLOCATION_STATE_REQUESTED;
    if (to > PMO__ALLOCATION_STATE__ALLOCATION_STATE_REJECTED)
        return s_fail (b, e, PMO__ERROR_CODE__ERROR_INVALID, "state",
                       "an imported allocation is requested, proposed, committed, released or "
                       "rejected");
    //  Ended in the file: released after a proposal, rejected as requested
    bool ended = to == PMO__ALLOCATION_STATE__ALLOCATION_STATE_RELEASED ||
                 to == PMO__ALLOCATION_STATE__ALLOCATION_STATE_REJECTED;
    Pmo__AllocationState reach = to == PMO__ALLOCATION_STATE__ALLOCATION_STATE_RELEASED
                                     ? PMO__ALLOCATION_STATE__ALLOCATION_STATE_PROPOSED
                                 : ended ? PMO__ALLOCATION_STATE__ALLOCATION_STATE_REQUESTED
                                         : to;
    Pmo__AllocationRequest *rq = imp->request;
    if (!rq)
        return s_fail (b, e, PMO__ERROR_CODE__ERROR_INVALID, "request", "request is required");
    pmo_problem_t problem;
    int32_t first, last;
    if (allocator_check_request (rq, &first, &last, &problem))
        return s_problem (b, e, &problem, "request");
    if (pmo_str_empty (rq->resource_id))
        return s_fail (b, e, PMO__ERROR_CODE__ERROR_INVALID, "request.resource_id",
                       "name the resource; a role or skill request is matched one by one "
                       "with request_allocation");
    held_t *h = s_held (b, e, rq->resource_id, "request.resource_id");
    if (!h)
        return;
    Pmo__Project *project = s_project (b, e, rq->project_id);
    if (!project)
        return;
    Pmo__Role role = allocator_may (req, ALLOCATOR_PROJECT, project->org_unit_path,
                                    "request resources for projects");
    if (!role)
        return s_take (b, e, "");
    Pmo__Resource *r = h->next ? h->next : h->resource;
    if (r->archived)
        return s_fail (b, e, PMO__ERROR_CODE__ERROR_FAILED_PRECONDITION, "request.resource_id",
                       "resource %s is archived", r->id);
    Pmo__Role approver = PMO__ROLE__ROLE_UNSPECIFIED;
    Pmo__OrgUnit *unit = NULL;
    if (reach == PMO__ALLOCATION_STATE__ALLOCATION_STATE_COMMITTED) {
        if (imp->approve &&
            !(approver = allocator_role_for (pmo_request_who (req), ALLOCATOR_RESOURCE,
                                             r->home_org_unit_path)))
            return s_fail (b, e, PMO__ERROR_CODE__ERROR_FORBIDDEN, "approve",
                           "%s may not approve commitments of '%s': it takes a resource "
                           "manager, PMO manager or PMO director there",
                           pmo_request_who (req)->subject, r->home_org_unit_path);
        unit = allocator_unit (b->self->registry, req, r->home_org_unit, "resource_id");
        if (!unit)
            return s_take (b, e, "request.resource_id");
    }
    allocator_warn_skill (req, r, rq);
    Pmo__Allocation *a = allocator_allocation_new (req, project, rq, role);
    allocator_assign (a, r);
    a->id = (char *)id;
    a->division = b->batch->division;
    const char *reason = pmo_str_empty (imp->reason) ? NULL : imp->reason;
    if (reach >= PMO__ALLOCATION_STATE__ALLOCATION_STATE_PROPOSED) {
        Pmo__AllocationTransition *t =
            allocator_step (req, a, PMO__ALLOCATION_STATE__ALLOCATION_STATE_PROPOSED,
                            pmo_request_who (req)->subject, role, reason);
        //  Released in the same commit: nothing is booked
        int32_t first_over = 0;
        size_t soft = 0;
        if (!ended) {
            allocator_ledger_book (req, h->ledger, a, first, last);
            soft = allocator_ledger_soft_over (r, h->ledger, first, last, &first_over);
        }
        if (soft)
            allocator_step_warn (
                req, t,
                pmo_arena_printf (req->arena,
                                  "%s is booked beyond capacity (committed + proposed) in %zu "
                                  "week(s) from %s: committing will over-allocate unless other "
                                  "bookings move",
                                  r->name, soft, allocator_week_text (req, first_over)));
    }
    if (reach == PMO__ALLOCATION_STATE__ALLOCATION_STATE_COMMITTED) {
        a->state = PMO__ALLOCATION_STATE__ALLOCATION_STATE_COMMITTED;
        allocator_ledger_book (req, h->ledger, a, first, last);
        a->state = PMO__ALLOCATION_STATE__ALLOCATION_STATE_PROPOSED;
        allocator_approval_t approval;
        allocator_judge_commit (req, r, h->ledger, first, last, a->project_code,
                                a->project_division, unit, &approval);
        if (approval.needed && !imp->approve) {
            allocator_ledger_remove (h->ledger, a->id);
            return s_fail (b, e, PMO__ERROR_CODE__ERROR_FAILED_PRECONDITION, "approve",
                           "approval needed: %s", approval.reason);
        }
        Pmo__AllocationTransition *t =
            allocator_step (req, a, PMO__ALLOCATION_STATE__ALLOCATION_STATE_COMMITTED,
                            pmo_request_who (req)->subject, imp->approve ? approver : role, reason);
        t->approved = imp->approve;
        t->pmo_type = unit->effective_pmo_type;
        for (size_t i = 0; i < approval.n_warnings; i++)
            allocator_step_warn (req, t,
                                 pmo_arena_printf (req->arena, "%s%s",
                                                   imp->approve ? "approved: " : "",
                                                   approval.warnings[i]));
    }
    //  The last step as release or reject checks it (who may, from which
    //  state, the reason)
    if (ended) {
        Pmo__Role ender = allocator_may_either (
            req, a,
            to == PMO__ALLOCATION_STATE__ALLOCATION_STATE_REJECTED ? "reject allocations"
                                                                   : "release allocations",
            "state");
        if (!ender || !allocator_end_allowed (req, a, to, reason, "end"))
            return s_take (b, e, "state");
        allocator_step (req, a, to, pmo_request_who (req)->subject, ender, reason);
    }
    a->version = 1;
    a->created_ms = a->updated_ms = pmo_now_ms ();
    h->booked = h->booked || allocator_state_books (to);
    e->held = h;
    e->entity = &a->base;
}

//  ---------------------------------------------------------------------
//  The commit

static const char *s_event_type (const entry_t *e)
{
    if (e->item->body_case == PMO__ALLOCATOR_IMPORT_ITEM__BODY_CREATE_RESOURCE)
        return "resource.created";
    if (e->item->body_case == PMO__ALLOCATOR_IMPORT_ITEM__BODY_UPDATE_RESOURCE)
        return "resource.updated";
    switch (((Pmo__Allocation *)e->entity)->state) {
    case PMO__ALLOCATION_STATE__ALLOCATION_STATE_COMMITTED:
        return "allocation.committed";
    case PMO__ALLOCATION_STATE__ALLOCATION_STATE_PROPOSED:
        return "allocation.proposed";
    case PMO__ALLOCATION_STATE__ALLOCATION_STATE_RELEASED:
        return "allocation.released";
    case PMO__ALLOCATION_STATE__ALLOCATION_STATE_REJECTED:
        return "allocation.rejected";
    default:
        return "allocation.requested";
    }
}

static int s_commit (batch_t *b, Pmo__ImportBatchReply *out)
{
    allocator_t *self = b->self;
    pmo_request_t *req = b->req;
    const char *division = b->batch->division;
    size_t creates = 0;
    for (size_t i = 0; i < b->n; i++)
        creates += !b->entries[i].failed && b->entries[i].item->body_case ==
                                                PMO__ALLOCATOR_IMPORT_ITEM__BODY_CREATE_RESOURCE;
    char **ids = pmo_arena_alloc (req->arena, (creates + 1) * sizeof (char *));
    if (creates && allocator_store_next_ids (self->store, req->arena, ALLOCATOR_PREFIX_RESOURCE,
                                             division, creates, ids))
        return pmo_request_unavailable (req, ALLOCATOR_STORE), COMMIT_FAIL;
    int64_t now = pmo_now_ms ();
    pmo_commit_t *commit = allocator_store_commit (self->store, division, req->header->request_id);
    //  An item's event, and an over-allocation event per resource at most
    Pmo__Event **events = pmo_arena_alloc (req->arena, 2 * b->n * sizeof (void *));
    size_t n_events = 0, next_id = 0;
    for (size_t i = 0; i < b->n; i++) {
        entry_t *e = &b->entries[i];
        if (e->failed)
            continue;
        const char *org_unit, *path, *id;
        uint64_t version;
        if (e->item->body_case == PMO__ALLOCATOR_IMPORT_ITEM__BODY_CREATE_RESOURCE) {
            Pmo__Resource *r = (Pmo__Resource *)e->entity;
            r->id = ids[next_id++];
            r->version = 1;
            r->created_ms = r->updated_ms = now;
            Pmo__BookingLedger *ledger = pmo_arena_alloc (req->arena, sizeof *ledger);
            pmo__booking_ledger__init (ledger);
            ledger->resource_id = r->id;
            allocator_store_put_resource (self->store, commit, req->arena, r, 0);
            allocator_store_put_ledger (self->store, commit, req->arena, division, ledger, 0);
            allocator_store_index (self->store, commit, req->arena, ALLOCATOR_PREFIX_RESOURCE,
                                   division, r->id);
            org_unit = e->unit->id, path = e->unit->path, id = r->id, version = 1;
        } else if (e->item->body_case == PMO__ALLOCATOR_IMPORT_ITEM__BODY_UPDATE_RESOURCE) {
            Pmo__Resource *r = (Pmo__Resource *)e->entity;
            r->updated_ms = now;
            allocator_store_put_resource (self->store, commit, req->arena, r, e->held->version);
            org_unit = r->home_org_unit, path = r->home_org_unit_path, id = r->id;
            version = r->version;
        } else {
            Pmo__Allocation *a = (Pmo__Allocation *)e->entity;
            allocator_store_put_allocation (self->store, commit, req->arena, a, 0);
            allocator_store_index (self->store, commit, req->arena, ALLOCATOR_PREFIX_ALLOCATION,
                                   division, a->id);
            org_unit = a->project_org_unit, path = a->project_org_unit_path, id = a->id;
            version = 1;
        }
        events[n_events++] = allocator_event (
            req, s_event_type (e), division, org_unit, path, id, version,
            strncmp (e->member, "create_allocation", 17) ? "resource" : "allocation", e->entity);
        e->result->id = (char *)id;
        e->result->version = version;
    }
    //  The ledgers this batch changed (bookings, or the capacity they are
    //  measured against), each with the version read, and what that did to
    //  the resource's over-allocated weeks
    for (held_t *h = zhashx_first (b->held); h; h = zhashx_next (b->held)) {
        if (!h->resource)
            continue; //  named by an item, but no such resource
        bool updated = h->updated_by >= 0 && !b->entries[h->updated_by].failed;
        if (!h->booked && !updated)
            continue;
        Pmo__Resource *r = updated ? h->next : h->resource;
        Pmo__OverAllocation *over = allocator_over_change (req, r, h->ledger);
        allocator_store_put_ledger (self->store, commit, req->arena, division, h->ledger,
                                    h->ledger_version);
        if (over) {
            allocator_warn (req, pmo_arena_printf (req->arena, "%s is %s", r->name,
                                                   over->over ? "over-allocated now: resolve "
                                                                "with `conflicts`"
                                                              : "no longer over-allocated"));
            events[n_events++] =
                allocator_event (req, over->over ? "resource.overallocated" : "resource.cleared",
                                 division, r->home_org_unit, r->home_org_unit_path, r->id,
                                 r->version, "over_allocation", &over->base);
        }
    }
    out->committed = true;
    int rc = allocator_commit (self, req, commit, division, events, n_events);
    if (rc != COMMIT_DONE) {
        out->committed = false;
        return rc;
    }
    if (req->raw_reply)
        return rc;
    for (size_t i = 0; i < b->n; i++) {
        entry_t *e = &b->entries[i];
        if (e->failed)
            continue;
        if (e->item->body_case == PMO__ALLOCATOR_IMPORT_ITEM__BODY_CREATE_ALLOCATION)
            allocator_index_put_allocation (self->index, (Pmo__Allocation *)e->entity);
        else
            allocator_index_put_resource (self->index, (Pmo__Resource *)e->entity);
    }
    pmo_info ("allocator: import division=%s created=%u updated=%u failed=%u request_id=%s",
              division, out->created, out->updated, out->failed, req->header->request_id);
    return rc;
}

//  ---------------------------------------------------------------------
//  import_batch

//  Check item i (step 2 and 3), with id the allocation id it would get.
static void s_check (batch_t *b, size_t i, Pmo__ImportBatchReply *out, const char *id)
{
    pmo_request_t *req = b->req;
    entry_t *e = &b->entries[i];
    e->item = b->batch->items[i];
    e->result = importbatch_result (req->arena, out, i, e->item->row);
    e->member = pmo_wire_oneof_name (&e->item->base);
    switch (e->item->body_case) {
    case PMO__ALLOCATOR_IMPORT_ITEM__BODY_CREATE_RESOURCE:
        //  A copy: a retry of the batch starts again from what was sent
        e->entity = pmo_reflect_copy (&e->item->create_resource->base, req->arena);
        return s_create_resource (b, e, (Pmo__Resource *)e->entity);
    case PMO__ALLOCATOR_IMPORT_ITEM__BODY_UPDATE_RESOURCE:
        e->entity = pmo_reflect_copy (&e->item->update_resource->base, req->arena);
        return s_update_resource (b, e, (Pmo__Resource *)e->entity);
    case PMO__ALLOCATOR_IMPORT_ITEM__BODY_CREATE_ALLOCATION:
        return s_create_allocation (b, e, e->item->create_allocation, id);
    default:
        e->member = "item";
        return s_fail (b, e, PMO__ERROR_CODE__ERROR_INVALID, "", "the item has no body");
    }
}

//  The allocation ids of the batch: assigned now (a dry run's stand-ins
//  are never written), as bookings name them. NULL after failing req.
static char **s_allocation_ids (batch_t *b)
{
    pmo_request_t *req = b->req;
    size_t n = 0;
    for (size_t i = 0; i < b->n; i++)
        n += b->batch->items[i]->body_case == PMO__ALLOCATOR_IMPORT_ITEM__BODY_CREATE_ALLOCATION;
    char **ids = pmo_arena_alloc (req->arena, (n + 1) * sizeof (char *));
    if (b->batch->dry_run) {
        for (size_t i = 0; i < n; i++)
            ids[i] = pmo_arena_printf (req->arena, "dry-run-%zu", i);
    } else if (n &&
               allocator_store_next_ids (b->self->store, req->arena, ALLOCATOR_PREFIX_ALLOCATION,
                                         b->batch->division, n, ids)) {
        pmo_request_unavailable (req, ALLOCATOR_STORE);
        return NULL;
    }
    return ids;
}

//  Read every resource the items name, with its ledger, in one round trip
//  (those not found are remembered as such). 0, or -1 after failing req.
static int s_prefetch (batch_t *b)
{
    pmo_request_t *req = b->req;
    allocator_booked_t *want = pmo_arena_alloc (req->arena, b->n * sizeof (allocator_booked_t));
    size_t n = 0;
    zhashx_t *asked = zhashx_new ();
    for (size_t i = 0; i < b->n; i++) {
        Pmo__AllocatorImportItem *item = b->batch->items[i];
        const char *id = NULL;
        if (item->body_case == PMO__ALLOCATOR_IMPORT_ITEM__BODY_UPDATE_RESOURCE)
            id = item->update_resource->id;
        else if (item->body_case == PMO__ALLOCATOR_IMPORT_ITEM__BODY_CREATE_ALLOCATION &&
                 item->create_allocation->request)
            id = item->create_allocation->request->resource_id;
        char division[40];
        if (pmo_str_empty (id) || zhashx_lookup (asked, id) ||
            allocator_store_division (id, ALLOCATOR_PREFIX_RESOURCE, division, sizeof division) ||
            strcmp (division, b->batch->division) != 0)
            continue;
        zhashx_insert (asked, id, (void *)1);
        memset (&want[n], 0, sizeof want[n]);
        want[n++].id = id;
    }
    zhashx_destroy (&asked);
    if (n && allocator_store_read_booked_many (b->self->store, req->arena, want, n)) {
        pmo_request_unavailable (req, ALLOCATOR_STORE);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        held_t *h = pmo_arena_alloc (req->arena, sizeof (held_t));
        memset (h, 0, sizeof *h);
        h->updated_by = -1;
        h->resource = want[i].resource;
        h->version = want[i].version;
        h->ledger = want[i].ledger;
        h->ledger_version = want[i].ledger_version;
        zhashx_insert (b->held, want[i].id, h);
    }
    return 0;
}

static int s_run (batch_t *b, Pmo__ImportBatchReply *out)
{
    pmo_request_t *req = b->req;
    Pmo__AllocatorImportBatch *batch = b->batch;
    //  Step 1: a retry is answered before the state it changed is examined
    if (!batch->dry_run && allocator_replayed_in (b->self, req, batch->division))
        return COMMIT_DONE;
    char **ids = s_allocation_ids (b);
    if (!ids || s_prefetch (b))
        return COMMIT_FAIL;
    //  Steps 2 and 3
    for (size_t i = 0, k = 0; i < b->n && !b->aborted; i++) {
        bool allocation =
            batch->items[i]->body_case == PMO__ALLOCATOR_IMPORT_ITEM__BODY_CREATE_ALLOCATION;
        s_check (b, i, out, allocation ? ids[k++] : NULL);
    }
    if (b->aborted) {
        out->n_results = 0; //  some were never checked
        return COMMIT_FAIL;
    }
    bool *updated = pmo_arena_alloc (req->arena, b->n * sizeof (bool));
    for (size_t i = 0; i < b->n; i++)
        updated[i] =
            b->entries[i].item->body_case == PMO__ALLOCATOR_IMPORT_ITEM__BODY_UPDATE_RESOURCE;
    if (!importbatch_settle (req, out, updated, batch->dry_run, batch->skip_bad))
        return req->code == PMO__ERROR_CODE__ERROR_NONE ? COMMIT_DONE : COMMIT_FAIL;
    return s_commit (b, out);
}

int allocator_try_import (allocator_t *self, pmo_request_t *req, Pmo__AllocatorImportBatch *batch)
{
    Pmo__AllocatorReply *reply = allocator_reply (req);
    reply->n_warnings = 0;
    if (!pmo_slug_valid (batch->division, 2, 32))
        return FAIL (req, INVALID, "import_batch.division",
                     "division is required: the id of the division every item lives in"),
               COMMIT_FAIL;
    if (batch->n_items == 0 || batch->n_items > ALLOCATOR_IMPORT_MAX)
        return FAIL (req, INVALID, "import_batch.items", "a batch holds 1 to %d items",
                     ALLOCATOR_IMPORT_MAX),
               COMMIT_FAIL;
    if (!allocator_ready (self, req))
        return COMMIT_FAIL;
    batch_t b = {.self = self, .req = req, .batch = batch, .n = batch->n_items};
    Pmo__ImportBatchReply *out = pmo_arena_alloc (req->arena, sizeof (Pmo__ImportBatchReply));
    pmo__import_batch_reply__init (out);
    out->results = pmo_arena_alloc (req->arena, b.n * sizeof (void *));
    out->n_results = b.n;
    b.entries = pmo_arena_alloc (req->arena, b.n * sizeof (entry_t));
    memset (b.entries, 0, b.n * sizeof (entry_t));
    pmo_reflect_set_oneof (req->reply, "import_batch", &out->base);
    b.held = zhashx_new ();
    b.projects = zhashx_new ();
    int rc = s_run (&b, out);
    zhashx_destroy (&b.held);
    zhashx_destroy (&b.projects);
    return rc;
}
