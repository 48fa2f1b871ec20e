/*  allocator_views.c: what the allocator shows: get, the lists of
    resources and allocations, matching people to a need, capacity and
    demand by week, and conflicts. They answer from the in-memory index
    (filled from Redis, following what replicas write) and read the
    entities themselves from Redis.
*/
#include "allocator_internal.h"

#include "pmo_reflect.h"

#include <string.h>

#define BY_RESOURCE_MAX 500 //  rows of a utilisation table

//  ---------------------------------------------------------------------
//  Matching

//  The match query of a request, for the index.
Pmo__MatchResult *allocator_match (allocator_t *self, pmo_request_t *req, const char *role,
                                   const char *skill, uint32_t min_level, uint32_t hours,
                                   int32_t first, int32_t last, const char *pool,
                                   const char *division, size_t limit)
{
    allocator_view_t view = allocator_view (req);
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
        .view = &view,
    };
    return allocator_index_match (self->index, &q, req->arena);
}

//  Known role and skill names: "unknown" is a clear error, not empty demand.
int allocator_check_names (allocator_t *self, pmo_request_t *req, const char *role,
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

//  ---------------------------------------------------------------------
//  Reads and views

void allocator_handle_get (allocator_t *self, pmo_request_t *req, Pmo__AllocatorGetRequest *get)
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
        allocator_redact_resource (req, r);
        pmo_reflect_set_oneof (req->reply, "resource", &r->base);
    } else if (get->kind == PMO__ALLOCATOR_KIND__ALLOCATOR_KIND_ALLOCATION) {
        uint64_t version;
        Pmo__Allocation *a = allocator_fetch_allocation (self, req, get->id, "get.id", &version);
        if (!a)
            return;
        //  One the caller may not see is not there (ids cannot be probed)
        if (allocator_hidden (req, a, "get.id"))
            return;
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

void allocator_handle_list_resources (allocator_t *self, pmo_request_t *req,
                                      Pmo__ResourceListRequest *list)
{
    int limit = s_limit (req, list->limit, "list_resources.limit");
    if (limit < 0 || !allocator_may (req, ALLOCATOR_READ, "", "read") ||
        !allocator_ready (self, req))
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
        if (msgs[i]) {
            allocator_redact_resource (req, (Pmo__Resource *)msgs[i]);
            page->resources[page->n_resources++] = (Pmo__Resource *)msgs[i];
        }
    page->next_cursor = next;
    pmo_reflect_set_oneof (req->reply, "resources", &page->base);
}

void allocator_handle_list_allocations (allocator_t *self, pmo_request_t *req,
                                        Pmo__AllocationListRequest *list)
{
    int limit = s_limit (req, list->limit, "list_allocations.limit");
    if (limit < 0 || !allocator_may (req, ALLOCATOR_READ, "", "read") ||
        !allocator_ready (self, req))
        return;
    if (!s_view_unit (self, req, list->org_unit, "list_allocations.org_unit"))
        return;
    allocator_view_t view = allocator_view (req);
    allocator_allocation_filter_t filter = {list->project_id, list->resource_id, list->org_unit,
                                            list->state, &view};
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
    if (pmo_str_empty (list->cursor))
        page->n_elsewhere = allocator_index_elsewhere (self->index, &filter, LIST_MAX, req->arena,
                                                       &page->elsewhere);
    pmo_reflect_set_oneof (req->reply, "allocations", &page->base);
}

void allocator_handle_match (allocator_t *self, pmo_request_t *req, Pmo__MatchRequest *m)
{
    if (!allocator_may (req, ALLOCATOR_READ, "", "read") || !allocator_ready (self, req))
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
    if (allocator_check_names (self, req, m->role, m->skill, "match"))
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
        allocator_match (self, req, m->role, m->skill, m->min_level, m->hours_per_week, first, last,
                         m->pool_org_unit, division, m->limit ? m->limit : MATCH_DEFAULT);
    pmo_reflect_set_oneof (req->reply, "match", &result->base);
}

void allocator_handle_capacity (allocator_t *self, pmo_request_t *req, Pmo__CapacityRequest *c)
{
    if (!allocator_may (req, ALLOCATOR_READ, "", "read") || !allocator_ready (self, req))
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

void allocator_handle_conflicts (allocator_t *self, pmo_request_t *req, Pmo__ConflictsRequest *c)
{
    if (!allocator_may (req, ALLOCATOR_READ, "", "read") || !allocator_ready (self, req))
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
    allocator_view_t view = allocator_view (req);
    Pmo__ConflictList *list =
        allocator_index_conflicts (self->index, c->org_unit, first, last, &view, req->arena);
    pmo_reflect_set_oneof (req->reply, "conflicts", &list->base);
}
