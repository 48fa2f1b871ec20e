/*  pmo_access.c: the access rule every service applies. */
#include "pmo_access.h"

#include <string.h>

int pmo_path_position (const char *path, const char *unit)
{
    if (!path || !unit || !*unit)
        return -1;
    size_t len = strlen (unit);
    int position = 0;
    const char *p = path;
    while (*p) {
        const char *end = strchr (p, '/');
        size_t part = end ? (size_t)(end - p) : strlen (p);
        if (part == len && strncmp (p, unit, len) == 0)
            return position;
        if (!end)
            break;
        p = end + 1;
        position++;
    }
    return -1;
}

bool pmo_path_contains (const char *path, const char *unit)
{
    return pmo_path_position (path, unit) >= 0;
}

int pmo_path_depth (const char *path)
{
    if (!path || !*path)
        return 0;
    int depth = 1;
    for (const char *p = path; *p; p++)
        if (*p == '/')
            depth++;
    return depth;
}

unsigned pmo_role_actions (const pmo_role_table_t *table, Pmo__Role role)
{
    if (!table || (int)role <= 0 || (int)role >= PMO_ROLE_COUNT)
        return 0;
    return table->actions[role];
}

Pmo__Role pmo_access_role (const Pmo__Identity *who, const pmo_role_table_t *table, unsigned action,
                           const char *path)
{
    if (!who || !action)
        return PMO__ROLE__ROLE_UNSPECIFIED;
    Pmo__Role found = PMO__ROLE__ROLE_UNSPECIFIED;
    for (size_t i = 0; i < who->n_grants; i++) {
        const Pmo__Grant *grant = who->grants[i];
        if (!grant || (pmo_role_actions (table, grant->role) & action) != action)
            continue;
        if (path && !pmo_path_contains (path, grant->org_unit))
            continue;
        if (grant->role != PMO__ROLE__ROLE_ADMIN)
            return grant->role;
        found = grant->role;
    }
    return found;
}

bool pmo_access_allowed (const Pmo__Identity *who, const pmo_role_table_t *table, unsigned action,
                         const char *path)
{
    return pmo_access_role (who, table, action, path) != PMO__ROLE__ROLE_UNSPECIFIED;
}

//  The roles that steward a unit's people (one bit: "steward")
static const pmo_role_table_t s_stewards = {
    .actions =
        {
            [PMO__ROLE__ROLE_ADMIN] = 1,
            [PMO__ROLE__ROLE_PMO_DIRECTOR] = 1,
            [PMO__ROLE__ROLE_PMO_MANAGER] = 1,
            [PMO__ROLE__ROLE_RESOURCE_MANAGER] = 1,
        },
};

bool pmo_access_steward (const Pmo__Identity *who, const char *resource_path)
{
    return resource_path && *resource_path &&
           pmo_access_allowed (who, &s_stewards, 1, resource_path);
}

bool pmo_access_sees_booking (const Pmo__Identity *who, const pmo_role_table_t *table,
                              unsigned action, const char *project_path, const char *resource_path)
{
    if (project_path && *project_path && pmo_access_allowed (who, table, action, project_path))
        return true;
    return pmo_access_steward (who, resource_path);
}
