/*  riskmon_benefits.h: the benefits realisation alert, the risk monitor's
    part of the planner's benefits register (see riskmon_benefits.c).
    Pure, like riskmon_model.h: tests/riskmon/test_riskmon_benefits.c runs
    it with the real planner.
*/
#ifndef RISKMON_BENEFITS_H_INCLUDED
#define RISKMON_BENEFITS_H_INCLUDED

#include "planner.pb-c.h"
#include "pmo_util.h"
#include "riskmon.pb-c.h"

#include <stdbool.h>
#include <stddef.h>

//  Apply a benefit as the planner's event says it now is, to the inputs of
//  one project it is linked to; false if an equal or newer version of it
//  was applied (the stream is at-least-once: a replay changes nothing).
bool riskmon_apply_benefit (Pmo__HealthInputs *in, const Pmo__Benefit *benefit, pmo_arena_t *arena);
//  The "benefit_lagging" rules of the project's inputs: one per linked
//  benefit the planner judges lagging (behind its profile by more than the
//  PMO's threshold, or overdue), amber, red when less than half the
//  expected change was realised. Returns how many (*rules in arena).
size_t riskmon_benefit_rules (const Pmo__HealthInputs *in, pmo_arena_t *arena,
                              Pmo__FiredRule ***rules);

#endif
