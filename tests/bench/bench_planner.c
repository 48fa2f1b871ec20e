/*  bench_planner.c: how fast the planner chooses portfolios and ranks.

    A generated enterprise (fixed seed): --candidates candidate projects
    (default 1,000) in 20 divisions over a 5-year horizon, each spending
    over 4 to 12 quarters and needing 1 to 3 of 50 skills each week it
    runs; capacity per skill for 52 weeks; budgets per financial year for
    each division and in total (about 60 % of what the candidates would
    spend, so they bind); 3 % mandatory, 5 % depending on another. It
    measures, in the planner's own model code (planner_solve.c, the code a
    solve_scenario request runs):
    - the optimal portfolio without shifts, and with starts allowed to move
      by up to one quarter (proven optimum, or within 1 % with the gap
      printed): target under 10 s;
    - a 20-point efficient frontier (value against total budget): target
      under 60 s;
    - scoring 10,000 projects on 6 criteria under a model and ranking them:
      target under 200 ms.

    A benchmark reports; it never fails the build. Run by hand, e.g.
        build/tests/bench/bench_planner [--quick] [--candidates N]
*/
#include "planner_model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DIVISIONS 20
#define SKILLS    50
#define WEEKS     52
#define YEARS     5

static int64_t s_mono_us (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static uint64_t s_seed = 0x9e3779b97f4a7c15ULL;
static uint32_t s_rand (uint32_t n)
{
    s_seed = s_seed * 6364136223846793005ULL + 1442695040888963407ULL;
    return (uint32_t)((s_seed >> 33) % n);
}

static const char *s_division (pmo_arena_t *arena, uint32_t d)
{
    return pmo_arena_printf (arena, "div-%02u", d);
}

static Pmo__ScenarioSpec *s_instance (pmo_arena_t *arena, size_t n, uint32_t max_shift)
{
    s_seed = 0x9e3779b97f4a7c15ULL;
    Pmo__ScenarioSpec *spec = pmo_arena_alloc (arena, sizeof *spec);
    pmo__scenario_spec__init (spec);
    spec->name = "bench";
    spec->start = "2027-04-01";
    spec->horizon_quarters = 4 * YEARS;
    spec->max_shift_quarters = max_shift;
    spec->mip_gap = 0.01;
    spec->time_limit_ms = 8500; //  the solve's own set-up and explanation come on top
    spec->candidates = pmo_arena_alloc (arena, n * sizeof (void *));
    double spend[DIVISIONS][YEARS] = {{0}};
    double demand[SKILLS][WEEKS] = {{0}};
    for (size_t i = 0; i < n; i++) {
        Pmo__Candidate *c = pmo_arena_alloc (arena, sizeof *c);
        pmo__candidate__init (c);
        c->project_id = pmo_arena_printf (arena, "pr_%zu", i);
        uint32_t d = s_rand (DIVISIONS);
        c->division = (char *)s_division (arena, d);
        c->value = 10 + s_rand (90);
        c->start_quarter = s_rand (12);
        c->n_cost_by_quarter = 4 + s_rand (9);
        c->cost_by_quarter = pmo_arena_alloc (arena, c->n_cost_by_quarter * sizeof (int64_t));
        int64_t per_quarter = 1000000 * (5 + s_rand (50)); //  minor units
        for (size_t k = 0; k < c->n_cost_by_quarter; k++) {
            c->cost_by_quarter[k] = per_quarter;
            uint32_t y = (c->start_quarter + (uint32_t)k) / 4;
            if (y < YEARS)
                spend[d][y] += (double)per_quarter;
        }
        c->n_demand = 1 + s_rand (3);
        c->demand = pmo_arena_alloc (arena, c->n_demand * sizeof (void *));
        for (size_t s = 0; s < c->n_demand; s++) {
            Pmo__SkillDemand *dem = pmo_arena_alloc (arena, sizeof *dem);
            pmo__skill_demand__init (dem);
            uint32_t skill = s_rand (SKILLS);
            dem->skill = pmo_arena_printf (arena, "skill-%02u", skill);
            dem->n_hours_by_week = c->n_cost_by_quarter * 13;
            dem->hours_by_week = pmo_arena_alloc (arena, dem->n_hours_by_week * sizeof (double));
            double hours = 5 + s_rand (36);
            for (size_t w = 0; w < dem->n_hours_by_week; w++) {
                dem->hours_by_week[w] = hours;
                size_t week = c->start_quarter * 13 + w;
                if (week < WEEKS)
                    demand[skill][week] += hours;
            }
            c->demand[s] = dem;
        }
        c->mandatory = s_rand (100) < 3;
        if (i > 10 && s_rand (100) < 5) {
            c->depends_on = pmo_arena_alloc (arena, sizeof (char *));
            c->depends_on[0] = pmo_arena_printf (arena, "pr_%u", s_rand ((uint32_t)i));
            c->n_depends_on = 1;
        }
        spec->candidates[spec->n_candidates++] = c;
    }
    spec->budgets = pmo_arena_alloc (arena, (DIVISIONS + 1) * YEARS * sizeof (void *));
    for (uint32_t y = 0; y < YEARS; y++) {
        double total = 0;
        for (uint32_t d = 0; d < DIVISIONS; d++) {
            Pmo__BudgetLimit *b = pmo_arena_alloc (arena, sizeof *b);
            pmo__budget_limit__init (b);
            b->division = (char *)s_division (arena, d);
            b->year = y;
            b->limit_minor = (int64_t)(spend[d][y] * 0.65);
            total += spend[d][y];
            spec->budgets[spec->n_budgets++] = b;
        }
        Pmo__BudgetLimit *b = pmo_arena_alloc (arena, sizeof *b);
        pmo__budget_limit__init (b);
        b->division = "";
        b->year = y;
        b->limit_minor = (int64_t)(total * 0.6);
        spec->budgets[spec->n_budgets++] = b;
    }
    spec->capacity = pmo_arena_alloc (arena, SKILLS * sizeof (void *));
    for (uint32_t s = 0; s < SKILLS; s++) {
        Pmo__CapacityLimit *cap = pmo_arena_alloc (arena, sizeof *cap);
        pmo__capacity_limit__init (cap);
        cap->skill = pmo_arena_printf (arena, "skill-%02u", s);
        cap->n_hours_by_week = WEEKS;
        cap->hours_by_week = pmo_arena_alloc (arena, WEEKS * sizeof (double));
        for (uint32_t w = 0; w < WEEKS; w++)
            cap->hours_by_week[w] = demand[s][w] * 0.7 + 40;
        spec->capacity[spec->n_capacity++] = cap;
    }
    return spec;
}

static void s_solve (size_t n, uint32_t shift)
{
    pmo_arena_t *arena = pmo_arena_new ();
    Pmo__ScenarioSpec *spec = s_instance (arena, n, shift);
    int64_t t0 = pmo_mono_ms ();
    Pmo__ScenarioResult *r = planner_solve (spec, -1, arena);
    int64_t ms = pmo_mono_ms () - t0;
    size_t in = 0, shifted = 0;
    for (size_t i = 0; i < r->n_candidates; i++) {
        in += r->candidates[i]->placement != PMO__PLACEMENT__PLACEMENT_OUT;
        shifted += r->candidates[i]->placement == PMO__PLACEMENT__PLACEMENT_SHIFTED;
    }
    printf ("optimum, %zu candidates, shift <= %u quarter(s): %s in %.2f s, value %.0f, gap "
            "%.3f%%, %zu in (%zu shifted), %zu binding constraints   [target < 10 s, gap <= 1%%]\n",
            n, shift,
            !r->feasible                ? "NO PORTFOLIO"
            : r->optimal && r->gap == 0 ? "proven optimal"
            : r->optimal                ? "within the 1% gap"
                                        : "stopped at the time limit",
            ms / 1000.0, r->objective, r->gap * 100, in, shifted, r->n_binding);
    pmo_arena_destroy (&arena);
}

static void s_frontier (size_t n, uint32_t points)
{
    pmo_arena_t *arena = pmo_arena_new ();
    Pmo__ScenarioSpec *spec = s_instance (arena, n, 0);
    int64_t t0 = pmo_mono_ms ();
    size_t count;
    Pmo__FrontierPoint **p = planner_frontier (spec, points, arena, &count);
    int64_t ms = pmo_mono_ms () - t0;
    printf ("frontier, %zu candidates, %u points: %zu feasible in %.2f s   [target < 60 s]\n", n,
            points, count, ms / 1000.0);
    for (size_t i = 0; i < count; i++)
        printf ("  budget %14.2f  value %8.0f  spends %14.2f  %u projects\n",
                p[i]->budget_minor / 100.0, p[i]->value, p[i]->cost_minor / 100.0, p[i]->selected);
    pmo_arena_destroy (&arena);
}

static void s_ranking (size_t n)
{
    pmo_arena_t *arena = pmo_arena_new ();
    static const Pmo__Criterion kinds[] = {
        PMO__CRITERION__CRITERION_ALIGNMENT, PMO__CRITERION__CRITERION_ALIGNMENT,
        PMO__CRITERION__CRITERION_ALIGNMENT, PMO__CRITERION__CRITERION_VALUE,
        PMO__CRITERION__CRITERION_RISK,      PMO__CRITERION__CRITERION_URGENCY};
    static const char *themes[] = {"net zero", "levelling up", "digital", "", "", ""};
    Pmo__CriterionWeight *model[6];
    for (int k = 0; k < 6; k++) {
        model[k] = pmo_arena_alloc (arena, sizeof (Pmo__CriterionWeight));
        pmo__criterion_weight__init (model[k]);
        model[k]->criterion = kinds[k];
        model[k]->theme = (char *)themes[k];
        model[k]->weight = 1 + k;
    }
    Pmo__ProjectScore **scores = pmo_arena_alloc (arena, n * sizeof (void *));
    for (size_t i = 0; i < n; i++) {
        Pmo__ProjectScore *s = pmo_arena_alloc (arena, sizeof *s);
        pmo__project_score__init (s);
        s->project_id = pmo_arena_printf (arena, "pr_div-%02zu_%zu", i % DIVISIONS, i);
        s->mandatory = s_rand (100) < 3;
        s->n_scores = 6;
        s->scores = pmo_arena_alloc (arena, 6 * sizeof (void *));
        for (int k = 0; k < 6; k++) {
            Pmo__CriterionScore *c = pmo_arena_alloc (arena, sizeof *c);
            pmo__criterion_score__init (c);
            c->criterion = kinds[k];
            c->theme = (char *)themes[k];
            c->score = s_rand (11);
            s->scores[k] = c;
        }
        scores[i] = s;
    }
    int64_t t0 = s_mono_us ();
    for (size_t i = 0; i < n; i++)
        scores[i]->total = planner_score_total (scores[i], model, 6);
    planner_rank (scores, n);
    int64_t us = s_mono_us () - t0;
    printf ("scoring and ranking %zu projects on 6 criteria: %.1f ms   [target < 200 ms]\n", n,
            us / 1000.0);
    pmo_arena_destroy (&arena);
}

int main (int argc, char **argv)
{
    size_t n = 1000;
    bool quick = false;
    for (int i = 1; i < argc; i++) {
        if (streq (argv[i], "--quick"))
            quick = true;
        else if (streq (argv[i], "--candidates") && i + 1 < argc)
            n = (size_t)atol (argv[++i]);
    }
    if (quick)
        n = 200;
    s_ranking (10000);
    s_solve (n, 0);
    s_solve (n, 1);
    s_frontier (n, quick ? 5 : 20);
    return 0;
}
