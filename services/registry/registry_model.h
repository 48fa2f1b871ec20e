/*  registry_model.h: the registry's domain rules, without I/O.

    Who may do what (roles held in org units, valid for their subtree), what
    a valid entity is, how PMO policies are inherited and tightened, and what
    a gate allows for each PMO type. Everything here is pure and is tested
    directly by tests/test_registry_model.c.
*/
#ifndef REGISTRY_MODEL_H_INCLUDED
#define REGISTRY_MODEL_H_INCLUDED

#include "pmo_access.h"
#include "pmo_request.h"
#include "pmo_util.h"
#include "registry.pb-c.h"

#include <stdbool.h>

//  What a request wants to do, for the permission check.
typedef enum {
    REGISTRY_READ = 1,            //  see entities
    REGISTRY_WRITE_PROJECT = 2,   //  projects, milestones, status reports, phase requests
    REGISTRY_WRITE_PORTFOLIO = 4, //  portfolios and programmes
    REGISTRY_ADMIN_ORG = 8,       //  org units and their policies
} registry_action_t;

//  ---------------------------------------------------------------------
//  Who may do what

//  What each role may do (pmo_access.h), the registry's actions as bits.
const pmo_role_table_t *registry_roles (void);
//  True if identity may do action on something that lives at path. For
//  REGISTRY_ADMIN_ORG, path is the org unit's own path: a PMO manager may
//  administer units strictly below the unit the role is held in.
bool registry_allowed (const Pmo__Identity *who, registry_action_t action, const char *path);
//  The role in which who may decide at a gate whose approvers are roles
//  (defaults when none: PMO manager, PMO director, sponsor), held in a unit
//  on path; PMO__ROLE__ROLE_UNSPECIFIED if none.
Pmo__Role registry_gate_approver (const Pmo__Identity *who, const char *path,
                                  const Pmo__GateRequirement *gate);
//  The roles that may decide at gate (its own, or the defaults when it has
//  none or there is no gate): how many, and *roles (static or gate's).
size_t registry_gate_approver_roles (const Pmo__GateRequirement *gate, const Pmo__Role **roles);

//  ---------------------------------------------------------------------
//  Validation of what callers send (fields they may set)

int registry_check_org_unit (const Pmo__OrgUnit *unit, pmo_problem_t *problem);
int registry_check_portfolio (const Pmo__Portfolio *portfolio, pmo_problem_t *problem);
int registry_check_programme (const Pmo__Programme *programme, pmo_problem_t *problem);
int registry_check_project (const Pmo__Project *project, pmo_problem_t *problem);
int registry_check_milestone (const Pmo__Milestone *milestone, pmo_problem_t *problem);
//  Who recorded each gate artifact and when: a record that is new in next
//  (stored NULL for a new project), or whose link changed, gets subject and
//  now; an unchanged one keeps the stamp stored. Each record's name is put
//  among next's artifacts if missing (arrays in arena).
void registry_stamp_artifacts (Pmo__Project *next, const Pmo__Project *stored, const char *subject,
                               int64_t now, pmo_arena_t *arena);
int registry_check_status_report (const Pmo__StatusReport *report, pmo_problem_t *problem);

//  ---------------------------------------------------------------------
//  Policies, inherited down the tree

//  The PMO type in force at the last unit of chain (root first): the type of
//  the nearest unit that is a PMO; NONE if none is.
Pmo__PmoType registry_effective_type (Pmo__OrgUnit *const *chain, size_t n);
//  The policy in force at the last unit of chain, built in arena. Reporting
//  period: the nearest one set. Gates: a unit under a supportive (or no) PMO
//  may replace an inherited gate; under a controlling or directive PMO its
//  artifacts and approvers are added to the inherited ones.
Pmo__Policy *registry_effective_policy (Pmo__OrgUnit *const *chain, size_t n, pmo_arena_t *arena);
//  Check that unit's own policy does not loosen what its ancestors (root
//  first) require: a longer reporting period than the inherited one is
//  refused unless the nearest PMO above is supportive (or there is none).
//  Gate requirements cannot loosen: under a controlling or directive PMO
//  they are merged with the inherited ones. The PMO type itself may differ
//  from the hub's (a directive hub with supportive spokes is common): it
//  decides how the rules apply in that unit's subtree.
int registry_check_policy (Pmo__OrgUnit *const *ancestors, size_t n, const Pmo__OrgUnit *unit,
                           pmo_problem_t *problem);

//  ---------------------------------------------------------------------
//  Gates

typedef enum {
    REGISTRY_GATE_ALLOW = 0,          //  move now
    REGISTRY_GATE_ALLOW_WARN = 1,     //  move now, with warnings (supportive)
    REGISTRY_GATE_MISSING = 2,        //  refused: required artifacts missing (controlling)
    REGISTRY_GATE_NEEDS_DECISION = 3, //  refused: a recorded decision is needed (directive)
} registry_gate_verdict_t;

typedef struct {
    registry_gate_verdict_t verdict;
    const Pmo__GateRequirement *gate; //  the requirement in force, NULL if none
    char **missing;                   //  artifacts required but absent (arena)
    size_t n_missing;
} registry_gate_t;

//  The phase after this one, or UNSPECIFIED after closed.
Pmo__Phase registry_next_phase (Pmo__Phase phase);
//  What a direct phase change (without a decision) gets.
void registry_gate_evaluate (Pmo__PmoType type, const Pmo__Policy *policy,
                             const Pmo__Project *project, Pmo__Phase to, pmo_arena_t *arena,
                             registry_gate_t *out);
//  The requirement for entering phase in policy, NULL if none.
const Pmo__GateRequirement *registry_gate_for (const Pmo__Policy *policy, Pmo__Phase phase);

//  Enum labels for messages ("execution", "controlling").
const char *registry_phase_name (Pmo__Phase phase);
const char *registry_pmo_type_name (Pmo__PmoType type);

#endif
