/*  allocator_registry.c: what the allocator asks the registry.

    Both come from the one registry client (lib/orgtree): org units kept
    for registry_cache_ms, projects asked with a get each time (their status
    and priority must be fresh when hours are booked). When the registry
    does not answer, the tree backs off and every read fails at once until
    then, so a dead registry costs a caller nothing.
*/
#include "allocator_internal.h"

#include "pmo_log.h"
#include "pmo_reflect.h"
#include "pmo_wire.h"

#include <assert.h>

orgtree_t *allocator_registry_new (const char *endpoint, const Pmo__Identity *service,
                                   int timeout_ms, int cache_ms)
{
    //  orgtree reads 0 as its default age: a configured 0 means "always
    //  ask again", which 1 ms is in practice
    orgtree_config_t config = {
        .registry = endpoint,
        .identity = service,
        .timeout_ms = timeout_ms,
        .max_age_ms = cache_ms > 0 ? cache_ms : 1,
    };
    return orgtree_new (&config);
}

Pmo__Project *allocator_project (orgtree_t *self, pmo_request_t *req, const char *id,
                                 const char *field)
{
    if (pmo_str_empty (id)) {
        FAIL (req, INVALID, field, "%s is required", field);
        return NULL;
    }
    Pmo__Project *project;
    int rc = orgtree_project (self, id, req->arena, &project);
    if (rc < 0) {
        pmo_request_unavailable (req, ALLOCATOR_REGISTRY);
        return NULL;
    }
    if (rc == 0) {
        FAIL (req, NOT_FOUND, field, "no project with id '%.64s'", id);
        return NULL;
    }
    if (project->archived || project->status == PMO__PROJECT_STATUS__PROJECT_STATUS_CANCELLED ||
        project->status == PMO__PROJECT_STATUS__PROJECT_STATUS_COMPLETED) {
        FAIL (req, FAILED_PRECONDITION, field, "project %s is %s: it takes no bookings",
              project->code,
              project->archived                                                  ? "archived"
              : project->status == PMO__PROJECT_STATUS__PROJECT_STATUS_CANCELLED ? "cancelled"
                                                                                 : "completed");
        return NULL;
    }
    return project;
}

Pmo__OrgUnit *allocator_unit (orgtree_t *self, pmo_request_t *req, const char *id,
                              const char *field)
{
    if (pmo_str_empty (id) || !pmo_slug_valid (id, 2, 32)) {
        FAIL (req, INVALID, field, "%s '%.40s' is not an org unit id", field, id ? id : "");
        return NULL;
    }
    Pmo__OrgUnit *unit;
    int rc = orgtree_unit (self, id, req->arena, &unit);
    if (rc < 0) {
        pmo_request_unavailable (req, ALLOCATOR_REGISTRY);
        return NULL;
    }
    if (rc == 0) {
        FAIL (req, NOT_FOUND, field, "no org unit '%s'", id);
        return NULL;
    }
    if (unit->archived) {
        FAIL (req, FAILED_PRECONDITION, field, "org unit '%s' is archived", id);
        return NULL;
    }
    return unit;
}
