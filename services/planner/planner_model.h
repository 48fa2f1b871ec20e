/*  planner_model.h: the planner's domain rules, with no I/O.

    Benefits: checking one, and its realisation against its profile at the
    latest measurement (with the lag rule and a forecast); roll-ups by
    group and unit of measure. Policies: checking a unit's own policy
    against the one it inherits, and merging them down a path. Scores: the
    weighted total under a model and the ranked list. Scenarios: the exact
    portfolio choice as a mixed-integer programme (built in GLPK, solved by CBC)
    (planner_solve.c), the efficient frontier, and the gate decisions a
    committed scenario proposes.

    Everything a function returns is allocated in the arena it is given.
*/
#ifndef PLANNER_MODEL_H_INCLUDED
#define PLANNER_MODEL_H_INCLUDED

#include "planner.pb-c.h"
#include "pmo_request.h"
#include "pmo_util.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PLANNER_DEFAULT_LAG       0.10 //  lag alert at 10 % behind profile, unless a PMO sets one
#define PLANNER_MAX_POINTS        600  //  profile points or measurements (50 years of months)
#define PLANNER_MAX_CANDIDATES    5000
#define PLANNER_WEEKS_PER_QUARTER 13
#define PLANNER_DEFAULT_HORIZON   20 //  quarters: five financial years

//  ---------------------------------------------------------------------
//  Benefits

//  True if s is a month "YYYY-MM"; *index (if not NULL) = year * 12 + month - 1.
bool planner_period_valid (const char *s, int *index);

//  Check a benefit's editable fields (kind, unit, currency, baseline,
//  target, profile, links, text). 0, or -1 with problem (field relative
//  to the benefit, e.g. "profile[2].period").
int planner_benefit_check (const Pmo__Benefit *benefit, pmo_problem_t *problem);

//  The profile's expected value at a period index: baseline before its
//  first point, the last point after its last, linear between points.
double planner_expected_at (const Pmo__Benefit *benefit, int index);

//  Recompute benefit->realisation (in arena) at its latest measurement
//  with the lag threshold in force, and by time at month now (a period
//  index as planner_period_valid gives; < 0: no time rule): a profile
//  period with a value of its own that ended more than a month before now
//  with no measurement for it or after it makes the benefit overdue, and
//  lagging. *changed is set when the lag alert goes up (+1) or down (-1),
//  0 otherwise.
void planner_benefit_evaluate (Pmo__Benefit *benefit, double threshold, int now, pmo_arena_t *arena,
                               int *changed);

//  The period index (months since year 0) of a Unix time in ms (UTC).
int planner_month_of_ms (int64_t ms);

//  Add or replace the measurement for its period, keeping them ascending.
void planner_benefit_measure (Pmo__Benefit *benefit, const Pmo__BenefitPoint *point,
                              pmo_arena_t *arena);

//  Roll-up rows in the making.
typedef struct {
    Pmo__BenefitRollupRow **rows;
    size_t n, max;
    pmo_arena_t *arena;
} planner_rollup_t;

//  Add a benefit to the row of (group, its unit of measure).
void planner_rollup_add (planner_rollup_t *rollup, const char *group, const Pmo__Benefit *benefit);

//  Sort the rows by group then unit.
void planner_rollup_sort (planner_rollup_t *rollup);

//  ---------------------------------------------------------------------
//  Policies and scores

//  Check own (the unit's policy) against inherited (the policy in force
//  at its parent; NULL at the root). Below a PMO unit that is not
//  supportive a child may only tighten: a lower lag threshold, and the
//  parent's criteria kept with their weights (it may add criteria).
int planner_policy_check (const Pmo__PlannerPolicy *own, const Pmo__PlannerPolicy *inherited,
                          bool parent_supportive, pmo_problem_t *problem);

//  The total of a score under a model, 0..100: the weighted mean of the
//  criterion scores (0..10) times ten; a criterion not scored counts 0.
double planner_score_total (const Pmo__ProjectScore *score, Pmo__CriterionWeight *const *model,
                            size_t n_model);

//  Rank scores in place: mandatory first, then by total descending, then
//  by project id; rank is set from 1.
void planner_rank (Pmo__ProjectScore **scores, size_t n);

//  ---------------------------------------------------------------------
//  Scenarios (planner_solve.c)

//  Check a spec (with its candidates filled in). 0, or -1 with problem.
int planner_spec_check (const Pmo__ScenarioSpec *spec, pmo_problem_t *problem);

//  Solve spec exactly (or to spec->mip_gap): the result in arena. A
//  total_cap >= 0 adds "total budget" (the candidates' whole cost) as a
//  constraint, for the frontier. When the constraints conflict, the
//  result is infeasible and names an irreducible set of them.
Pmo__ScenarioResult *planner_solve (const Pmo__ScenarioSpec *spec, int64_t total_cap,
                                    pmo_arena_t *arena);

//  The efficient frontier: points portfolios, each the best within a
//  total budget from 1/points of the unconstrained optimum's cost up to
//  all of it. *n is how many were feasible.
Pmo__FrontierPoint **planner_frontier (const Pmo__ScenarioSpec *spec, uint32_t points,
                                       pmo_arena_t *arena, size_t *n);

//  The gate decisions a solved scenario proposes: go for a candidate in
//  as planned, hold for one shifted or a proposed one left out, stop for
//  an active one left out.
Pmo__ProposedDecision **planner_proposals (const Pmo__Scenario *scenario, pmo_arena_t *arena,
                                           size_t *n);

#endif
