/*  pmo_access.h: who may do what where, one rule for every service.

    A role is held in an org unit and is valid for that unit's whole subtree
    (docs/DOMAIN.md). A unit's path lists its ancestors from the root down,
    "hub/dft/dft-rail", so "a grant covers a place" is "the grant's unit is
    one of the path's components". Each service names its own actions as
    bits and passes a role table: for each role, the actions it allows.
*/
#ifndef PMO_ACCESS_H_INCLUDED
#define PMO_ACCESS_H_INCLUDED

#include "pmo.pb-c.h"

#include <stdbool.h>

//  One entry per Pmo__Role value (index = role); the bits are the
//  service's own actions. Roles past the end allow nothing.
#define PMO_ROLE_COUNT (PMO__ROLE__ROLE_AUDITOR + 1)
typedef struct {
    unsigned actions[PMO_ROLE_COUNT];
} pmo_role_table_t;

//  True if unit is one of path's components ("hub/dft/dft-rail" contains
//  "hub", "dft" and "dft-rail"). False for NULL or empty arguments.
bool pmo_path_contains (const char *path, const char *unit);

//  Position of unit among path's components (0 for the root), -1 if absent.
int pmo_path_position (const char *path, const char *unit);

//  Number of components in path (1 for "hub"); 0 for NULL or "".
int pmo_path_depth (const char *path);

//  The actions table allows role, 0 for an unknown role.
unsigned pmo_role_actions (const pmo_role_table_t *table, Pmo__Role role);

//  The role in which who may do action (one or more bits, all needed) at
//  path, or ROLE_UNSPECIFIED. Of several grants that allow it the first
//  that is not admin wins, so a history says "as admin" only when nothing
//  narrower applied. path NULL means anywhere (the grant's unit is not
//  checked): for reads that filter what they return by their own rule.
Pmo__Role pmo_access_role (const Pmo__Identity *who, const pmo_role_table_t *table, unsigned action,
                           const char *path);

//  pmo_access_role gives a role.
bool pmo_access_allowed (const Pmo__Identity *who, const pmo_role_table_t *table, unsigned action,
                         const char *path);

//  Least exposure (README "Who sees what"): the stewards of a resource, those
//  who manage people in its home unit (admin, PMO director, PMO manager,
//  resource manager, held on resource_path), see its private side (cost
//  rate, the reasons of its leave) and every booking on it, whichever
//  project made it. False for NULL or "" paths.
bool pmo_access_steward (const Pmo__Identity *who, const char *resource_path);

//  A booking of the project at project_path on the resource at
//  resource_path (NULL or "": nobody yet) is shown in full to who: read
//  (action of table) covers the project's path, or who stewards the
//  resource. Everyone else sees at most its hours, counted with others.
bool pmo_access_sees_booking (const Pmo__Identity *who, const pmo_role_table_t *table,
                              unsigned action, const char *project_path, const char *resource_path);

#endif
