/*  registry_org.c: creating and changing org units and their policies.

    The registry owns the org-unit tree (enterprise, divisions,
    departments). A unit's path and division are fixed when it is created;
    its policy may not loosen what its ancestors require
    (registry_check_policy). Org units live under the hub's hash tag.
*/
#include "registry_internal.h"

#include <string.h>

void registry_fill_effective (registry_t *self, pmo_request_t *req, Pmo__OrgUnit *unit)
{
    Pmo__OrgUnit **chain;
    size_t n;
    if (registry_chain (self, req, unit->path, &chain, &n))
        return;
    chain[n - 1] = unit;
    unit->effective_pmo_type = registry_effective_type (chain, n);
    unit->effective_policy = registry_effective_policy (chain, n, req->arena);
}

void registry_handle_create_org_unit (registry_t *self, pmo_request_t *req, Pmo__OrgUnit *unit)
{
    pmo_problem_t problem;
    if (registry_check_org_unit (unit, &problem))
        return pmo_request_fail_problem (req, &problem, "create_org_unit");
    const char *hub = registry_store_hub (self->store);
    Pmo__OrgUnit *parent = NULL;
    Pmo__OrgUnit **ancestors = NULL;
    size_t n_ancestors = 0;
    if (unit->kind == PMO__ORG_UNIT_KIND__ORG_UNIT_KIND_ENTERPRISE) {
        if (strcmp (unit->id, hub) != 0)
            return (void)FAIL (req, INVALID, "create_org_unit.id",
                               "the enterprise unit's id must be '%s' (the hub id this "
                               "registry is configured with)",
                               hub);
        unit->path = unit->id;
        unit->division = unit->id;
    } else {
        parent = registry_fetch_unit (self, req, unit->parent, "create_org_unit.parent");
        if (!parent)
            return;
        bool division = unit->kind == PMO__ORG_UNIT_KIND__ORG_UNIT_KIND_DIVISION;
        if (division && parent->kind != PMO__ORG_UNIT_KIND__ORG_UNIT_KIND_ENTERPRISE)
            return (void)FAIL (req, INVALID, "create_org_unit.parent",
                               "a division's parent is the enterprise, not '%s'", parent->id);
        if (!division && parent->kind == PMO__ORG_UNIT_KIND__ORG_UNIT_KIND_ENTERPRISE)
            return (void)FAIL (req, INVALID, "create_org_unit.parent",
                               "a department sits in a division or department, not the "
                               "enterprise");
        if (strcmp (unit->id, hub) == 0)
            return (void)FAIL (req, ALREADY_EXISTS, "create_org_unit.id", "'%s' is the hub's id",
                               unit->id);
        unit->path = pmo_arena_printf (req->arena, "%s/%s", parent->path, unit->id);
        unit->division = division ? unit->id : parent->division;
        if (registry_chain (self, req, parent->path, &ancestors, &n_ancestors))
            return;
        if (registry_check_policy (ancestors, n_ancestors, unit, &problem))
            return pmo_request_fail_problem (req, &problem, "create_org_unit");
    }
    if (!registry_may (req, REGISTRY_ADMIN_ORG, unit->path, "create org units"))
        return;
    if (registry_replayed (self, req, hub))
        return;
    const registry_kind_t *kind = registry_kind (PMO__ENTITY_KIND__ENTITY_KIND_ORG_UNIT);
    ProtobufCMessage *existing;
    int rc = registry_store_read (self->store, req->arena, kind, unit->id, &existing, NULL);
    if (rc < 0)
        return registry_unavailable (req);
    if (rc == 1)
        return (void)FAIL (req, ALREADY_EXISTS, "create_org_unit.id",
                           "an org unit with id '%s' exists", unit->id);
    registry_stamp_new (req, &unit->base, unit->id);
    unit->effective_policy = NULL;
    unit->effective_pmo_type = PMO__PMO_TYPE__PMO_TYPE_NONE;
    pmo_commit_t *commit = registry_store_commit (self->store, hub, req->header->request_id);
    registry_store_put (self->store, commit, req->arena, hub, &unit->base, 0);
    registry_store_index (self->store, commit, req->arena, kind, hub, NULL, unit->id, true);
    Pmo__Event *event =
        registry_event (req, "org_unit.created", hub, unit->id, unit->path, &unit->base);
    registry_set_reply (req, &unit->base);
    registry_commit (self, req, commit, hub, event);
}

void registry_handle_update_org_unit (registry_t *self, pmo_request_t *req, Pmo__OrgUnit *next)
{
    const char *hub = registry_store_hub (self->store);
    uint64_t version;
    Pmo__OrgUnit *stored = (Pmo__OrgUnit *)registry_fetch (
        self, req, registry_kind (PMO__ENTITY_KIND__ENTITY_KIND_ORG_UNIT), next->id,
        "update_org_unit.id", &version);
    if (!stored)
        return;
    if (!registry_may (req, REGISTRY_ADMIN_ORG, stored->path, "change org units"))
        return;
    if (registry_replayed (self, req, hub))
        return;
    if (next->kind != stored->kind ||
        strcmp (next->parent ? next->parent : "", stored->parent) != 0)
        return (void)FAIL (req, INVALID, "update_org_unit.parent",
                           "an org unit's kind and parent do not change");
    pmo_problem_t problem;
    if (registry_check_org_unit (next, &problem))
        return pmo_request_fail_problem (req, &problem, "update_org_unit");
    if (!pmo_request_version_matches (req, "version", "org unit", next->version, version))
        return;
    if (!pmo_str_empty (stored->parent)) {
        Pmo__OrgUnit **ancestors;
        size_t n;
        const char *slash = strrchr (stored->path, '/');
        char *parent_path = pmo_arena_strdup (req->arena, stored->path);
        parent_path[slash - stored->path] = 0;
        if (registry_chain (self, req, parent_path, &ancestors, &n))
            return;
        if (registry_check_policy (ancestors, n, next, &problem))
            return pmo_request_fail_problem (req, &problem, "update_org_unit");
    }
    next->path = stored->path;
    next->division = stored->division;
    next->effective_policy = NULL;
    next->effective_pmo_type = PMO__PMO_TYPE__PMO_TYPE_NONE;
    registry_stamp_update (req, &next->base, &stored->base, version);
    pmo_commit_t *commit = registry_store_commit (self->store, hub, req->header->request_id);
    registry_store_put (self->store, commit, req->arena, hub, &next->base, version);
    Pmo__Event *event =
        registry_event (req, "org_unit.updated", hub, next->id, next->path, &next->base);
    registry_set_reply (req, &next->base);
    registry_commit (self, req, commit, hub, event);
}
