/*  allocator_resources.c: the allocator's resources: create, update (a
    new capacity or calendar may over-allocate or clear the resource, told
    in the same commit) and archive (only once nothing live is booked on
    it). A resource lives in its home unit's division, with its booking
    ledger beside it.
*/
#include "allocator_internal.h"

#include "pmo_reflect.h"

#include <string.h>

//  ---------------------------------------------------------------------
//  Resources

void allocator_handle_create_resource (allocator_t *self, pmo_request_t *req, Pmo__Resource *r)
{
    pmo_problem_t problem;
    r->id = NULL;
    if (allocator_check_resource (r, &problem))
        return pmo_request_fail_problem (req, &problem, "create_resource");
    Pmo__OrgUnit *unit =
        allocator_unit (self->registry, req, r->home_org_unit, "create_resource.home_org_unit");
    if (!unit || !allocator_may (req, ALLOCATOR_RESOURCE, unit->path, "manage resources"))
        return;
    if (allocator_replayed_in (self, req, unit->division))
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
    if (allocator_commit (self, req, commit, unit->division, events, 1) == COMMIT_DONE &&
        !req->raw_reply)
        allocator_index_put_resource (self->index, r);
}

int allocator_try_update_resource (allocator_t *self, pmo_request_t *req, Pmo__Resource *next)
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
    if (allocator_replayed_in (self, req, stored->division))
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
    allocator_over_event (req, next, over, events, &n_events);
    pmo_reflect_set_oneof (req->reply, "resource", &next->base);
    rc = allocator_commit (self, req, commit, stored->division, events, n_events);
    if (rc == COMMIT_DONE && !req->raw_reply)
        allocator_index_put_resource (self->index, next);
    return rc;
}

void allocator_handle_archive_resource (allocator_t *self, pmo_request_t *req,
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
    if (allocator_replayed_in (self, req, r->division))
        return;
    if (!pmo_request_version_matches (req, "version", "resource", archive->version, version))
        return;
    if (r->archived)
        return (void)FAIL (req, FAILED_PRECONDITION, "archive_resource.id",
                           "resource %s is already archived", r->id);
    if (!allocator_ready (self, req))
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
    if (allocator_commit (self, req, commit, r->division, events, 1) == COMMIT_DONE &&
        !req->raw_reply)
        allocator_index_put_resource (self->index, r);
}
