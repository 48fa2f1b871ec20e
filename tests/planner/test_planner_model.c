/*  test_planner_model.c: the planner's pure rules.

    Scenarios: random small instances (fixed seed) whose optimum this test
    finds on its own by enumerating every choice of starts and checking
    every constraint itself, against the solver's answer; conflicting
    constraints answered with exactly the set that conflicts; the frontier
    rising with the budget; the gate decisions a scenario proposes.
    Benefits: the profile read between its points, realisation and lag for
    a benefit and a dis-benefit, the alert going up and down, roll-ups
    that never add two currencies. Policies and scores: tighten-only below
    a controlling PMO, weighted totals, ranking.
*/
#include "planner_model.h"

#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static pmo_arena_t *s_arena;

//  ---------------------------------------------------------------------
//  Instances

#define N_MAX 9

static uint64_t s_seed = 0x5eed2026;
static uint32_t s_rand (uint32_t n)
{
    s_seed = s_seed * 6364136223846793005ULL + 1442695040888963407ULL;
    return (uint32_t)((s_seed >> 33) % n);
}

static Pmo__Candidate *s_candidate (const char *id, const char *division, double value)
{
    Pmo__Candidate *c = pmo_arena_alloc (s_arena, sizeof *c);
    pmo__candidate__init (c);
    c->project_id = pmo_arena_strdup (s_arena, id);
    c->division = pmo_arena_strdup (s_arena, division);
    c->value = value;
    return c;
}

static void s_costs (Pmo__Candidate *c, size_t n, const int64_t *costs)
{
    c->cost_by_quarter = pmo_arena_memdup (s_arena, costs, n * sizeof (int64_t));
    c->n_cost_by_quarter = n;
}

static Pmo__ScenarioSpec *s_spec (void)
{
    Pmo__ScenarioSpec *spec = pmo_arena_alloc (s_arena, sizeof *spec);
    pmo__scenario_spec__init (spec);
    spec->start = "2027-04-01";
    spec->horizon_quarters = 8;
    //  Optimality is asserted: no wall-clock limit in reach, even under
    //  valgrind on a loaded machine (the default 10 s can be: 120 s is the
    //  most a spec may ask)
    spec->time_limit_ms = 120000;
    spec->candidates = pmo_arena_alloc (s_arena, N_MAX * sizeof (void *));
    spec->budgets = pmo_arena_alloc (s_arena, 16 * sizeof (void *));
    spec->capacity = pmo_arena_alloc (s_arena, 4 * sizeof (void *));
    return spec;
}

static void s_budget (Pmo__ScenarioSpec *spec, const char *division, uint32_t year, int64_t limit)
{
    Pmo__BudgetLimit *b = pmo_arena_alloc (s_arena, sizeof *b);
    pmo__budget_limit__init (b);
    b->division = (char *)division;
    b->year = year;
    b->limit_minor = limit;
    spec->budgets[spec->n_budgets++] = b;
}

//  The test's own check of one choice: shift[i] < 0 = out.
static bool s_fits (const Pmo__ScenarioSpec *spec, const int *shift)
{
    size_t n = spec->n_candidates;
    for (size_t i = 0; i < n; i++) {
        const Pmo__Candidate *c = spec->candidates[i];
        if (c->mandatory && shift[i] < 0)
            return false;
        if (shift[i] >= 0 && c->start_quarter + (uint32_t)shift[i] < c->earliest_quarter)
            return false;
        for (size_t d = 0; shift[i] >= 0 && d < c->n_depends_on; d++)
            for (size_t j = 0; j < n; j++)
                if (streq (spec->candidates[j]->project_id, c->depends_on[d]) && shift[j] < 0)
                    return false;
    }
    for (size_t b = 0; b < spec->n_budgets; b++) {
        const Pmo__BudgetLimit *limit = spec->budgets[b];
        double spent = 0;
        for (size_t i = 0; i < n; i++) {
            const Pmo__Candidate *c = spec->candidates[i];
            if (shift[i] < 0 || (*limit->division && !streq (limit->division, c->division)))
                continue;
            for (size_t q = 0; q < c->n_cost_by_quarter; q++)
                if ((c->start_quarter + (uint32_t)shift[i] + q) / 4 == limit->year)
                    spent += (double)c->cost_by_quarter[q];
        }
        if (spent > (double)limit->limit_minor)
            return false;
    }
    for (size_t l = 0; l < spec->n_capacity; l++) {
        const Pmo__CapacityLimit *cap = spec->capacity[l];
        for (size_t w = 0; w < cap->n_hours_by_week; w++) {
            double hours = 0;
            for (size_t i = 0; i < n; i++) {
                const Pmo__Candidate *c = spec->candidates[i];
                if (shift[i] < 0)
                    continue;
                size_t start = (c->start_quarter + (size_t)shift[i]) * 13;
                for (size_t d = 0; d < c->n_demand; d++)
                    if (streq (c->demand[d]->skill, cap->skill) && w >= start &&
                        w - start < c->demand[d]->n_hours_by_week)
                        hours += c->demand[d]->hours_by_week[w - start];
            }
            if (hours > cap->hours_by_week[w] + 1e-9)
                return false;
        }
    }
    return true;
}

//  The best value over every choice (shift -1 .. max_shift each).
static double s_enumerate (const Pmo__ScenarioSpec *spec, bool *feasible)
{
    size_t n = spec->n_candidates;
    int options = (int)spec->max_shift_quarters + 2;
    int shift[N_MAX];
    long total = 1;
    for (size_t i = 0; i < n; i++)
        total *= options;
    double best = -1;
    *feasible = false;
    for (long code = 0; code < total; code++) {
        long rest = code;
        double value = 0;
        for (size_t i = 0; i < n; i++) {
            shift[i] = (int)(rest % options) - 1;
            rest /= options;
            if (shift[i] >= 0)
                value += spec->candidates[i]->value;
        }
        if (s_fits (spec, shift) && value > best) {
            best = value;
            *feasible = true;
        }
    }
    return best;
}

static Pmo__ScenarioSpec *s_random_instance (void)
{
    Pmo__ScenarioSpec *spec = s_spec ();
    size_t n = 5 + s_rand (3); //  5..7 candidates
    spec->max_shift_quarters = s_rand (2);
    static const char *divisions[] = {"dft", "moj"};
    for (size_t i = 0; i < n; i++) {
        char id[16];
        snprintf (id, sizeof id, "pr_%zu", i);
        Pmo__Candidate *c = s_candidate (id, divisions[s_rand (2)], 10 + s_rand (90));
        int64_t costs[6];
        size_t q = 2 + s_rand (4);
        for (size_t k = 0; k < q; k++)
            costs[k] = 100 * (1 + s_rand (9));
        s_costs (c, q, costs);
        c->start_quarter = s_rand (4);
        c->earliest_quarter = s_rand (5) == 0 ? c->start_quarter + 1 : 0;
        if (i > 0 && s_rand (4) == 0) {
            c->depends_on = pmo_arena_alloc (s_arena, sizeof (char *));
            char dep[16];
            snprintf (dep, sizeof dep, "pr_%u", s_rand ((uint32_t)i));
            c->depends_on[0] = pmo_arena_strdup (s_arena, dep);
            c->n_depends_on = 1;
        }
        if (s_rand (16) == 0)
            c->mandatory = true;
        if (s_rand (2)) {
            Pmo__SkillDemand *d = pmo_arena_alloc (s_arena, sizeof *d);
            pmo__skill_demand__init (d);
            d->skill = "java";
            d->n_hours_by_week = 13 + s_rand (13);
            d->hours_by_week = pmo_arena_alloc (s_arena, d->n_hours_by_week * sizeof (double));
            for (size_t w = 0; w < d->n_hours_by_week; w++)
                d->hours_by_week[w] = 10 + s_rand (20);
            c->demand = pmo_arena_alloc (s_arena, sizeof (void *));
            c->demand[0] = d;
            c->n_demand = 1;
        }
        spec->candidates[spec->n_candidates++] = c;
    }
    for (uint32_t y = 0; y < 2; y++) {
        s_budget (spec, "dft", y, 800 + 200 * s_rand (10));
        s_budget (spec, "moj", y, 800 + 200 * s_rand (10));
        s_budget (spec, "", y, 1500 + 300 * s_rand (10));
    }
    Pmo__CapacityLimit *cap = pmo_arena_alloc (s_arena, sizeof *cap);
    pmo__capacity_limit__init (cap);
    cap->skill = "java";
    cap->n_hours_by_week = 8 * 13;
    cap->hours_by_week = pmo_arena_alloc (s_arena, cap->n_hours_by_week * sizeof (double));
    for (size_t w = 0; w < cap->n_hours_by_week; w++)
        cap->hours_by_week[w] = 30 + s_rand (20);
    spec->capacity[spec->n_capacity++] = cap;
    return spec;
}

static void s_scenarios_by_enumeration (void)
{
    int feasible_count = 0, infeasible_count = 0;
    for (int round = 0; round < 80; round++) {
        Pmo__ScenarioSpec *spec = s_random_instance ();
        pmo_problem_t problem;
        assert (planner_spec_check (spec, &problem) == 0);
        bool feasible;
        double best = s_enumerate (spec, &feasible);
        Pmo__ScenarioResult *r = planner_solve (spec, -1, s_arena);
        if (feasible != r->feasible || (feasible && fabs (best - r->objective) > 1e-6)) {
            fprintf (stderr, "round %d: enumeration %s %.3f, solver %s %.3f\n", round,
                     feasible ? "feasible" : "infeasible", best,
                     r->feasible ? "feasible" : "infeasible", r->objective);
            abort ();
        }
        if (!feasible) {
            infeasible_count++;
            assert (r->n_conflicts > 0);
            continue;
        }
        feasible_count++;
        assert (r->optimal && r->gap == 0);
        //  The portfolio it names is one the test accepts, worth what it says
        int shift[N_MAX];
        double value = 0;
        for (size_t i = 0; i < spec->n_candidates; i++) {
            Pmo__CandidateResult *cr = r->candidates[i];
            assert (streq (cr->project_id, spec->candidates[i]->project_id));
            shift[i] =
                cr->placement == PMO__PLACEMENT__PLACEMENT_OUT ? -1 : (int)cr->shift_quarters;
            assert ((cr->placement == PMO__PLACEMENT__PLACEMENT_SHIFTED) == (shift[i] > 0));
            if (shift[i] >= 0)
                value += spec->candidates[i]->value;
            else
                assert (!pmo_str_empty (cr->reason)); //  what kept it out is named
        }
        assert (s_fits (spec, shift));
        assert (fabs (value - r->objective) < 1e-6);
    }
    fprintf (stderr, "  enumeration: %d feasible and %d infeasible instances agree\n",
             feasible_count, infeasible_count);
    assert (feasible_count >= 40 && infeasible_count >= 5);
}

static bool s_has (char **list, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (streq (list[i], s))
            return true;
    return false;
}

static void s_conflicts (void)
{
    //  Two mandatory projects that together overspend dft's first year;
    //  moj's budget and an optional project play no part
    Pmo__ScenarioSpec *spec = s_spec ();
    int64_t costs[] = {600, 600};
    Pmo__Candidate *a = s_candidate ("pr_a", "dft", 10);
    s_costs (a, 2, costs);
    a->mandatory = true;
    Pmo__Candidate *b = s_candidate ("pr_b", "dft", 10);
    s_costs (b, 2, costs);
    b->mandatory = true;
    Pmo__Candidate *c = s_candidate ("pr_c", "moj", 50);
    s_costs (c, 2, costs);
    spec->candidates[spec->n_candidates++] = a;
    spec->candidates[spec->n_candidates++] = b;
    spec->candidates[spec->n_candidates++] = c;
    s_budget (spec, "dft", 0, 2400);
    s_budget (spec, "moj", 0, 1000);
    s_budget (spec, "", 0, 1000000);
    s_budget (spec, "dft", 1, 100000);
    //  Both mandatory ones fit dft's 2400 exactly; c does not fit moj's
    Pmo__ScenarioResult *r = planner_solve (spec, -1, s_arena);
    assert (r->feasible && r->optimal && r->objective == 20);
    assert (r->candidates[2]->placement == PMO__PLACEMENT__PLACEMENT_OUT);
    assert (streq (r->candidates[2]->reason, "budget moj year 0"));
    //  One less: the two mandatory projects and that budget conflict
    spec->budgets[0]->limit_minor = 2399;
    r = planner_solve (spec, -1, s_arena);
    assert (!r->feasible);
    assert (r->n_conflicts == 3);
    assert (s_has (r->conflicts, r->n_conflicts, "mandatory pr_a"));
    assert (s_has (r->conflicts, r->n_conflicts, "mandatory pr_b"));
    assert (s_has (r->conflicts, r->n_conflicts, "budget dft year 0"));
    //  Quarters 0-3 are year 0: a start shifted three quarters puts half
    //  of one project's cost into year 1, and both fit
    spec->max_shift_quarters = 3;
    r = planner_solve (spec, -1, s_arena);
    assert (r->feasible && r->optimal);
    bool shifted = false;
    for (size_t i = 0; i < r->n_candidates; i++)
        shifted |= r->candidates[i]->placement == PMO__PLACEMENT__PLACEMENT_SHIFTED;
    assert (shifted);
    spec->max_shift_quarters = 0;
    //  A mandatory project that may not start within the shift allowed
    a->earliest_quarter = 2;
    spec->budgets[0]->limit_minor = 1000000;
    r = planner_solve (spec, -1, s_arena);
    assert (!r->feasible);
    assert (r->n_conflicts == 2);
    assert (s_has (r->conflicts, r->n_conflicts, "mandatory pr_a"));
    assert (s_has (r->conflicts, r->n_conflicts, "earliest start pr_a"));
    a->earliest_quarter = 0;
    //  A mandatory project depending on one capacity cannot carry
    b->mandatory = false;
    a->depends_on = pmo_arena_alloc (s_arena, sizeof (char *));
    a->depends_on[0] = "pr_b";
    a->n_depends_on = 1;
    Pmo__SkillDemand demand = PMO__SKILL_DEMAND__INIT;
    double hours[] = {40, 40};
    demand.skill = "sap";
    demand.hours_by_week = hours;
    demand.n_hours_by_week = 2;
    Pmo__SkillDemand *demands[] = {&demand};
    b->demand = demands;
    b->n_demand = 1;
    Pmo__CapacityLimit cap = PMO__CAPACITY_LIMIT__INIT;
    double available[] = {40, 20, 40};
    cap.skill = "sap";
    cap.hours_by_week = available;
    cap.n_hours_by_week = 3;
    Pmo__CapacityLimit *caps[] = {&cap};
    spec->capacity = caps;
    spec->n_capacity = 1;
    r = planner_solve (spec, -1, s_arena);
    assert (!r->feasible);
    assert (r->n_conflicts == 3);
    assert (s_has (r->conflicts, r->n_conflicts, "mandatory pr_a"));
    assert (s_has (r->conflicts, r->n_conflicts, "dependency pr_a on pr_b"));
    assert (s_has (r->conflicts, r->n_conflicts, "capacity sap week 1"));
    //  Enough capacity: feasible, and the binding constraint is named
    available[1] = 40;
    r = planner_solve (spec, -1, s_arena);
    assert (r->feasible);
    bool named = false;
    for (size_t i = 0; i < r->n_binding; i++)
        named |= streq (r->binding[i]->name, "capacity sap week 0");
    assert (named);
}

static void s_frontier_and_proposals (void)
{
    Pmo__ScenarioSpec *spec = s_spec ();
    for (int i = 0; i < 6; i++) {
        char id[16];
        snprintf (id, sizeof id, "pr_%d", i);
        Pmo__Candidate *c = s_candidate (id, "dft", 10 * (i + 1));
        int64_t costs[] = {100 * (i + 1), 50};
        s_costs (c, 2, costs);
        c->active = i == 0;
        spec->candidates[spec->n_candidates++] = c;
    }
    s_budget (spec, "", 0, 1200);
    size_t n;
    Pmo__FrontierPoint **points = planner_frontier (spec, 5, s_arena, &n);
    assert (n >= 4);
    for (size_t k = 1; k < n; k++) {
        assert (points[k]->budget_minor >= points[k - 1]->budget_minor);
        assert (points[k]->value >= points[k - 1]->value);
        assert (points[k]->cost_minor <= points[k]->budget_minor);
    }
    Pmo__Scenario scenario = PMO__SCENARIO__INIT;
    scenario.id = "sc_dft_1";
    scenario.spec = spec;
    scenario.result = planner_solve (spec, -1, s_arena);
    size_t nd;
    Pmo__ProposedDecision **d = planner_proposals (&scenario, s_arena, &nd);
    assert (nd == 6);
    //  The cheapest, active project is left out (by value per cost), so
    //  it is proposed to stop; the proposed ones left out are held
    for (size_t i = 0; i < nd; i++) {
        Pmo__CandidateResult *cr = scenario.result->candidates[i];
        if (cr->placement == PMO__PLACEMENT__PLACEMENT_IN)
            assert (d[i]->decision == PMO__GATE_PROPOSAL__GATE_PROPOSAL_GO);
        else if (i == 0)
            assert (d[i]->decision == PMO__GATE_PROPOSAL__GATE_PROPOSAL_STOP);
        else
            assert (d[i]->decision == PMO__GATE_PROPOSAL__GATE_PROPOSAL_HOLD);
    }
}

//  ---------------------------------------------------------------------
//  Benefits

static Pmo__BenefitPoint *s_point (const char *period, double value)
{
    Pmo__BenefitPoint *p = pmo_arena_alloc (s_arena, sizeof *p);
    pmo__benefit_point__init (p);
    p->period = (char *)period;
    p->value = value;
    return p;
}

static Pmo__Benefit *s_benefit (const char *currency, double baseline, double target)
{
    Pmo__Benefit *b = pmo_arena_alloc (s_arena, sizeof *b);
    pmo__benefit__init (b);
    b->title = "Running cost saving";
    b->owner = "finance.director@dft";
    b->measure = "annual running cost saved";
    b->kind = currency ? PMO__BENEFIT_KIND__BENEFIT_KIND_CASHABLE
                       : PMO__BENEFIT_KIND__BENEFIT_KIND_NON_FINANCIAL;
    b->currency = currency ? (char *)currency : "";
    b->unit = currency ? (char *)currency : "%";
    b->baseline = baseline;
    b->target = target;
    b->profile = pmo_arena_alloc (s_arena, 4 * sizeof (void *));
    b->profile[0] = s_point ("2027-01", baseline + (target - baseline) * 0.25);
    b->profile[1] = s_point ("2027-07", baseline + (target - baseline) * 0.5);
    b->profile[2] = s_point ("2028-01", target);
    b->n_profile = 3;
    b->project_ids = pmo_arena_alloc (s_arena, sizeof (char *));
    b->project_ids[0] = "pr_dft_1";
    b->n_project_ids = 1;
    return b;
}

static void s_benefits (void)
{
    int index;
    assert (planner_period_valid ("2027-04", &index) && index == 2027 * 12 + 3);
    assert (!planner_period_valid ("2027-13", NULL) && !planner_period_valid ("27-04", NULL));
    Pmo__Benefit *b = s_benefit ("GBP", 0, 1200000);
    pmo_problem_t problem;
    assert (planner_benefit_check (b, &problem) == 0);
    //  Between profile points the expectation is linear; before the first
    //  it is the baseline, after the last the last point
    planner_period_valid ("2027-04", &index);
    assert (fabs (planner_expected_at (b, index) - 450000) < 1e-6);
    planner_period_valid ("2026-06", &index);
    assert (planner_expected_at (b, index) == 0);
    planner_period_valid ("2030-01", &index);
    assert (planner_expected_at (b, index) == 1200000);
    //  On profile: no alert
    int changed;
    planner_benefit_measure (b, s_point ("2027-01", 300000), s_arena);
    planner_benefit_evaluate (b, 0.10, -1, s_arena, &changed);
    assert (changed == 0 && !b->realisation->lagging && fabs (b->realisation->ratio - 1) < 1e-9);
    assert (b->realisation->forecast == 1200000);
    //  80 % of the profile in July, with a 10 % threshold: the alert goes up
    planner_benefit_measure (b, s_point ("2027-07", 480000), s_arena);
    planner_benefit_evaluate (b, 0.10, -1, s_arena, &changed);
    assert (changed == 1 && b->realisation->lagging);
    assert (fabs (b->realisation->ratio - 0.8) < 1e-9);
    assert (fabs (b->realisation->forecast - 960000) < 1e-6);
    assert (streq (b->realisation->period, "2027-07"));
    //  A threshold of 25 % tolerates it
    planner_benefit_evaluate (b, 0.25, -1, s_arena, &changed);
    assert (changed == -1 && !b->realisation->lagging);
    planner_benefit_evaluate (b, 0.10, -1, s_arena, &changed);
    assert (changed == 1);
    //  The July figure corrected: back on track, the alert clears
    planner_benefit_measure (b, s_point ("2027-07", 590000), s_arena);
    assert (b->n_measurements == 2);
    planner_benefit_evaluate (b, 0.10, -1, s_arena, &changed);
    assert (changed == -1 && !b->realisation->lagging);
    //  A measurement out of order lands in its place
    planner_benefit_measure (b, s_point ("2027-03", 350000), s_arena);
    assert (b->n_measurements == 3 && streq (b->measurements[1]->period, "2027-03"));
    //  A dis-benefit lags when it is worse (more) than expected
    Pmo__Benefit *d = s_benefit (NULL, 0, 20);
    d->dis_benefit = true;
    planner_benefit_measure (d, s_point ("2027-07", 10.5), s_arena);
    planner_benefit_evaluate (d, 0.10, -1, s_arena, &changed);
    assert (changed == 0);
    planner_benefit_measure (d, s_point ("2027-07", 12), s_arena);
    planner_benefit_evaluate (d, 0.10, -1, s_arena, &changed);
    assert (changed == 1 && d->realisation->lagging);
    //  Bad benefits are refused with the field named
    b->currency = "gbp";
    assert (planner_benefit_check (b, &problem) == -1 && streq (problem.field, "currency"));
    b->currency = "GBP";
    b->profile[1]->period = "2026-12";
    assert (planner_benefit_check (b, &problem) == -1 &&
            streq (problem.field, "profile[1].period"));
    b->profile[1]->period = "2027-07";
    b->profile[1]->value = 0.5;
    assert (planner_benefit_check (b, &problem) == -1 && streq (problem.field, "profile[1].value"));
    b->profile[1]->value = 600000;
    b->n_project_ids = 0;
    assert (planner_benefit_check (b, &problem) == -1);
    b->n_project_ids = 1;
    d->unit = "";
    assert (planner_benefit_check (d, &problem) == -1 && streq (problem.field, "unit"));
    d->unit = "%";
}

//  The lag by time: a profile period that ended more than a month ago with
//  no measurement for it or after it
static void s_overdue (void)
{
    int changed, month;
    Pmo__Benefit *b = s_benefit ("GBP", 0, 1200000); //  profile 2027-01, 2027-07, 2028-01
    assert (planner_month_of_ms (1801396800000LL) == 2027 * 12 + 0); //  2027-01-31 12:00 UTC
    //  February: January's figure may still come (a month's grace)
    planner_period_valid ("2027-02", &month);
    planner_benefit_evaluate (b, 0.10, month, s_arena, &changed);
    assert (changed == 0 && !b->realisation->lagging && !b->realisation->overdue);
    //  March: January has passed unmeasured: overdue, the alert goes up
    planner_period_valid ("2027-03", &month);
    planner_benefit_evaluate (b, 0.10, month, s_arena, &changed);
    assert (changed == 1 && b->realisation->lagging && b->realisation->overdue);
    assert (streq (b->realisation->overdue_period, "2027-01"));
    //  Without the time rule the same benefit is not lagging
    planner_benefit_evaluate (b, 0.10, -1, s_arena, &changed);
    assert (changed == -1 && !b->realisation->lagging);
    //  January measured on profile: the alert clears, until July has passed
    planner_benefit_measure (b, s_point ("2027-01", 300000), s_arena);
    planner_benefit_evaluate (b, 0.10, month, s_arena, &changed);
    assert (changed == 0 && !b->realisation->lagging && !b->realisation->overdue);
    planner_period_valid ("2027-09", &month);
    planner_benefit_evaluate (b, 0.10, month, s_arena, &changed);
    assert (changed == 1 && b->realisation->overdue &&
            streq (b->realisation->overdue_period, "2027-07"));
    //  A measurement later than a missed period covers it
    planner_benefit_measure (b, s_point ("2027-08", 700000), s_arena);
    planner_benefit_evaluate (b, 0.10, month, s_arena, &changed);
    assert (changed == -1 && !b->realisation->overdue);
    //  A realised or closed benefit is no longer measured: never overdue
    Pmo__Benefit *done = s_benefit ("GBP", 0, 1200000);
    planner_period_valid ("2029-01", &month);
    done->status = PMO__BENEFIT_STATUS__BENEFIT_STATUS_REALISED;
    planner_benefit_evaluate (done, 0.10, month, s_arena, &changed);
    assert (!done->realisation->lagging);
    done->status = PMO__BENEFIT_STATUS__BENEFIT_STATUS_CLOSED;
    planner_benefit_evaluate (done, 0.10, month, s_arena, &changed);
    assert (!done->realisation->lagging);
    //  A profile point at the baseline expects nothing yet
    Pmo__Benefit *flat = s_benefit ("GBP", 0, 1200000);
    flat->profile[0]->value = 0;
    planner_period_valid ("2027-05", &month);
    planner_benefit_evaluate (flat, 0.10, month, s_arena, &changed);
    assert (!flat->realisation->overdue);
}

static void s_rollups (void)
{
    planner_rollup_t rollup = {.arena = s_arena};
    Pmo__Benefit *gbp1 = s_benefit ("GBP", 0, 1000);
    Pmo__Benefit *gbp2 = s_benefit ("GBP", 100, 600);
    Pmo__Benefit *eur = s_benefit ("EUR", 0, 700);
    Pmo__Benefit *dis = s_benefit ("GBP", 0, 200);
    dis->dis_benefit = true;
    Pmo__Benefit *pct = s_benefit (NULL, 60, 80);
    int changed;
    planner_benefit_measure (gbp1, s_point ("2027-07", 250), s_arena); //  expected 500
    planner_benefit_evaluate (gbp1, 0.1, -1, s_arena, &changed);
    planner_benefit_measure (gbp2, s_point ("2027-07", 350), s_arena); //  expected 350
    planner_benefit_evaluate (gbp2, 0.1, -1, s_arena, &changed);
    planner_benefit_evaluate (eur, 0.1, -1, s_arena, &changed);
    planner_benefit_evaluate (dis, 0.1, -1, s_arena, &changed);
    planner_benefit_evaluate (pct, 0.1, -1, s_arena, &changed);
    planner_rollup_add (&rollup, "dft", gbp1);
    planner_rollup_add (&rollup, "dft", eur);
    planner_rollup_add (&rollup, "dft", gbp2);
    planner_rollup_add (&rollup, "dft", dis);
    planner_rollup_add (&rollup, "dft", pct);
    planner_rollup_add (&rollup, "moj", gbp1);
    planner_rollup_sort (&rollup);
    assert (rollup.n == 4);
    //  dft: EUR, GBP (money first, by currency), then %, then moj
    Pmo__BenefitRollupRow *r = rollup.rows[0];
    assert (streq (r->group, "dft") && streq (r->unit, "EUR") && r->financial);
    assert (r->benefits == 1 && r->planned == 700);
    r = rollup.rows[1];
    assert (streq (r->unit, "GBP") && r->benefits == 3 && r->lagging == 1);
    assert (r->planned == 1000 + 500 - 200);
    assert (r->expected == 500 + 250 && r->realised == 250 + 250);
    assert (r->forecast == 500 + 500 - 200);
    r = rollup.rows[2];
    assert (streq (r->unit, "%") && !r->financial && r->planned == 20);
    assert (streq (rollup.rows[3]->group, "moj"));
}

//  ---------------------------------------------------------------------
//  Policies and scores

static Pmo__CriterionWeight *s_weight (Pmo__Criterion criterion, const char *theme, double weight)
{
    Pmo__CriterionWeight *w = pmo_arena_alloc (s_arena, sizeof *w);
    pmo__criterion_weight__init (w);
    w->criterion = criterion;
    w->theme = (char *)theme;
    w->weight = weight;
    return w;
}

static void s_policies_and_scores (void)
{
    Pmo__CriterionWeight *hub_model[] = {
        s_weight (PMO__CRITERION__CRITERION_ALIGNMENT, "net zero", 3),
        s_weight (PMO__CRITERION__CRITERION_VALUE, "", 2),
    };
    Pmo__PlannerPolicy hub = PMO__PLANNER_POLICY__INIT;
    hub.criteria = hub_model;
    hub.n_criteria = 2;
    hub.lag_threshold = 0.15;
    pmo_problem_t problem;
    assert (planner_policy_check (&hub, NULL, false, &problem) == 0);
    //  Below a controlling hub: a tighter threshold and an added criterion
    Pmo__CriterionWeight *div_model[] = {hub_model[0], hub_model[1],
                                         s_weight (PMO__CRITERION__CRITERION_URGENCY, "", 1)};
    Pmo__PlannerPolicy div = PMO__PLANNER_POLICY__INIT;
    div.criteria = div_model;
    div.n_criteria = 3;
    div.lag_threshold = 0.05;
    assert (planner_policy_check (&div, &hub, false, &problem) == 0);
    //  Loosening is refused, unless the hub is supportive
    div.lag_threshold = 0.2;
    assert (planner_policy_check (&div, &hub, false, &problem) == -1);
    assert (streq (problem.field, "lag_threshold") &&
            problem.code == PMO__ERROR_CODE__ERROR_FAILED_PRECONDITION);
    assert (planner_policy_check (&div, &hub, true, &problem) == 0);
    div.lag_threshold = 0.05;
    div_model[1] = s_weight (PMO__CRITERION__CRITERION_VALUE, "", 1);
    assert (planner_policy_check (&div, &hub, false, &problem) == -1);
    assert (streq (problem.field, "criteria") && strstr (problem.message, "CRITERION_VALUE"));
    div_model[1] = s_weight (PMO__CRITERION__CRITERION_ALIGNMENT, "", 1);
    assert (planner_policy_check (&div, NULL, false, &problem) == -1);
    assert (streq (problem.field, "criteria[1]"));
    //  Totals: (3 * 8 + 2 * 5) / 5 * 10 = 68; an unscored criterion counts 0
    Pmo__CriterionScore align = PMO__CRITERION_SCORE__INIT;
    align.criterion = PMO__CRITERION__CRITERION_ALIGNMENT;
    align.theme = "net zero";
    align.score = 8;
    Pmo__CriterionScore value = PMO__CRITERION_SCORE__INIT;
    value.criterion = PMO__CRITERION__CRITERION_VALUE;
    value.score = 5;
    Pmo__CriterionScore *both[] = {&align, &value};
    Pmo__ProjectScore a = PMO__PROJECT_SCORE__INIT;
    a.project_id = "pr_a";
    a.scores = both;
    a.n_scores = 2;
    assert (fabs (planner_score_total (&a, hub_model, 2) - 68) < 1e-9);
    Pmo__ProjectScore b = PMO__PROJECT_SCORE__INIT;
    b.project_id = "pr_b";
    b.scores = both + 1;
    b.n_scores = 1;
    assert (fabs (planner_score_total (&b, hub_model, 2) - 20) < 1e-9);
    Pmo__ProjectScore c = PMO__PROJECT_SCORE__INIT;
    c.project_id = "pr_c";
    c.mandatory = true;
    a.total = 68;
    b.total = 20;
    Pmo__ProjectScore *list[] = {&b, &a, &c};
    planner_rank (list, 3);
    assert (list[0] == &c && list[1] == &a && list[2] == &b);
    assert (c.rank == 1 && a.rank == 2 && b.rank == 3);
}

int main (void)
{
    s_arena = pmo_arena_new ();
    s_scenarios_by_enumeration ();
    s_conflicts ();
    s_frontier_and_proposals ();
    s_benefits ();
    s_overdue ();
    s_rollups ();
    s_policies_and_scores ();
    pmo_arena_destroy (&s_arena);
    printf ("test_planner_model: ok\n");
    return 0;
}
