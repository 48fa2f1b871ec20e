/*  planner_solve.c: the portfolio choice as a mixed-integer programme.

    One binary column per candidate and start: x[i,s] = 1 when candidate i
    is in, starting s quarters after its planned start (s from what its
    earliest start allows up to max_shift_quarters). Rows:
      - each candidate starts at most once ("mandatory <id>": exactly once);
      - "dependency <a> on <b>": a only with b;
      - "budget <division|total> year <y>": what the candidates spend in
        financial year y (quarters 4y..4y+3 from the scenario's start);
      - "capacity <skill> week <w>": hours the candidates need that week;
      - "total budget": their whole cost (the frontier's budget axis).
    The objective is the sum of the values of the candidates in. The
    problem is built in GLPK (which checks it and reports through its
    error hook) and solved by COIN-OR CBC's branch and cut (Debian's
    coinor-libcbc-dev, through its C interface): the optimum, or a
    portfolio when it stops at mip_gap or the time limit, with the gap to
    the bound it had reached. GLPK's own branch and cut was the solver
    first; with starts allowed to shift it stopped at a 2.1 % gap on the
    benchmark where CBC is within 1 % (services/planner/README.md).

    When there is no feasible portfolio, the conflict lies among the
    candidates that must be in (the mandatory ones and what they depend
    on): any other can be left out. A deletion filter over the constraints
    that touch them (drop one; if still infeasible it was not needed)
    leaves an irreducible set, which is what the PMO is told.
*/
#include "planner_model.h"

#include "pmo_reflect.h"

#include <Cbc_C_Interface.h>
#include <assert.h>
#include <float.h>
#include <glpk.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//  A row in the making: its name, bound and entries.
typedef struct {
    char *name;
    int type;     //  GLP_UP, GLP_FX
    double bound; //  upper (or fixed) value
    int *cols;    //  1-based column numbers
    double *vals;
    size_t n, max;
    int group; //  index in the conflict groups (-1: never in conflict)
} s_row_t;

typedef struct {
    const Pmo__ScenarioSpec *spec;
    size_t n_cand;
    int *first_col; //  per candidate: its first column (1-based), columns are consecutive
    int *n_opts;    //  per candidate: how many starts
    int *min_shift; //  per candidate: the shift of its first column
    bool *use;      //  per candidate: included in this model
    s_row_t *rows;
    size_t n_rows, max_rows;
    int n_cols;
    int *col_cand; //  per column (1-based): its candidate
    int *col_shift;
} s_mip_t;

static int s_cand_index (const Pmo__ScenarioSpec *spec, const char *id)
{
    for (size_t i = 0; i < spec->n_candidates; i++)
        if (streq (spec->candidates[i]->project_id, id))
            return (int)i;
    return -1;
}

static uint32_t s_horizon (const Pmo__ScenarioSpec *spec)
{
    return spec->horizon_quarters ? spec->horizon_quarters : PLANNER_DEFAULT_HORIZON;
}

//  The candidate's cost in financial year y when shifted by s quarters.
static double s_cost_in_year (const Pmo__Candidate *c, int s, uint32_t y)
{
    double sum = 0;
    for (size_t k = 0; k < c->n_cost_by_quarter; k++)
        if ((c->start_quarter + (uint32_t)s + k) / 4 == y)
            sum += (double)c->cost_by_quarter[k];
    return sum;
}

static int64_t s_total_cost (const Pmo__Candidate *c)
{
    int64_t sum = 0;
    for (size_t k = 0; k < c->n_cost_by_quarter; k++)
        sum += c->cost_by_quarter[k];
    return sum;
}

static s_row_t *s_row_new (s_mip_t *m, char *name, int type, double bound, int group)
{
    if (m->n_rows == m->max_rows) {
        m->max_rows = m->max_rows ? m->max_rows * 2 : 64;
        m->rows = realloc (m->rows, m->max_rows * sizeof (s_row_t));
        assert (m->rows);
    }
    s_row_t *row = &m->rows[m->n_rows++];
    *row = (s_row_t){.name = name, .type = type, .bound = bound, .group = group};
    return row;
}

static void s_row_add (s_row_t *row, int col, double val)
{
    if (val == 0)
        return;
    //  The same column twice in a row (two demands for one skill) is one
    //  entry: GLPK refuses duplicates. Entries come in column order by
    //  candidate, and a candidate's columns are at most 9 apart, so a
    //  duplicate is among the last few.
    for (size_t e = row->n; e > 0 && row->cols[e - 1] > col - 10; e--)
        if (row->cols[e - 1] == col) {
            row->vals[e - 1] += val;
            return;
        }
    if (row->n == row->max) {
        row->max = row->max ? row->max * 2 : 8;
        row->cols = realloc (row->cols, row->max * sizeof (int));
        row->vals = realloc (row->vals, row->max * sizeof (double));
        assert (row->cols && row->vals);
    }
    row->cols[row->n] = col;
    row->vals[row->n] = val;
    row->n++;
}

static void s_mip_free (s_mip_t *m)
{
    for (size_t r = 0; r < m->n_rows; r++) {
        free (m->rows[r].name);
        free (m->rows[r].cols);
        free (m->rows[r].vals);
    }
    free (m->rows);
    free (m->first_col);
    free (m->n_opts);
    free (m->min_shift);
    free (m->use);
    free (m->col_cand);
    free (m->col_shift);
    memset (m, 0, sizeof *m);
}

static char *s_strf (const char *format, ...) __attribute__ ((format (printf, 1, 2)));
static char *s_strf (const char *format, ...)
{
    va_list args;
    va_start (args, format);
    char *s = NULL;
    int rc = vasprintf (&s, format, args);
    va_end (args);
    assert (rc >= 0);
    return s;
}

//  Conflict groups: what the deletion filter may drop. A group is either
//  a row (by name) or a candidate's mandatory flag or earliest start.
typedef struct {
    char **names;
    size_t n, max;
    bool *dropped; //  per group
} s_groups_t;

static int s_group (s_groups_t *g, const char *name)
{
    if (!g)
        return -1;
    for (size_t i = 0; i < g->n; i++)
        if (streq (g->names[i], name))
            return (int)i;
    if (g->n == g->max) {
        g->max = g->max ? g->max * 2 : 32;
        g->names = realloc (g->names, g->max * sizeof (char *));
        g->dropped = realloc (g->dropped, g->max * sizeof (bool));
        assert (g->names && g->dropped);
    }
    g->names[g->n] = strdup (name);
    g->dropped[g->n] = false;
    return (int)g->n++;
}

static bool s_dropped (const s_groups_t *g, int group)
{
    return g && group >= 0 && g->dropped[group];
}

//  Build the model over the candidates in use. groups (NULL = plain
//  solve) are made as met and honoured when dropped.
static void s_mip_build (s_mip_t *m, const Pmo__ScenarioSpec *spec, const bool *use,
                         int64_t total_cap, s_groups_t *groups)
{
    memset (m, 0, sizeof *m);
    m->spec = spec;
    size_t n = spec->n_candidates;
    m->n_cand = n;
    m->first_col = calloc (n + 1, sizeof (int));
    m->n_opts = calloc (n + 1, sizeof (int));
    m->min_shift = calloc (n + 1, sizeof (int));
    m->use = calloc (n + 1, sizeof (bool));
    assert (m->first_col && m->n_opts && m->min_shift && m->use);
    int max_shift = (int)spec->max_shift_quarters;
    //  Columns
    int cols = 0;
    for (size_t i = 0; i < n; i++) {
        const Pmo__Candidate *c = spec->candidates[i];
        m->use[i] = use ? use[i] : true;
        if (!m->use[i])
            continue;
        int lo = (int)c->earliest_quarter - (int)c->start_quarter;
        if (lo < 0)
            lo = 0;
        char name[320];
        snprintf (name, sizeof name, "earliest start %s", c->project_id);
        if (lo > 0 && s_dropped (groups, s_group (groups, name)))
            lo = 0;
        m->first_col[i] = cols + 1;
        m->min_shift[i] = lo;
        //  A project already running keeps its start
        int most = c->active ? 0 : max_shift;
        m->n_opts[i] = lo <= most ? most - lo + 1 : 0;
        cols += m->n_opts[i];
    }
    m->n_cols = cols;
    m->col_cand = calloc ((size_t)cols + 1, sizeof (int));
    m->col_shift = calloc ((size_t)cols + 1, sizeof (int));
    assert (m->col_cand && m->col_shift);
    for (size_t i = 0; i < n; i++)
        for (int k = 0; m->use[i] && k < m->n_opts[i]; k++) {
            m->col_cand[m->first_col[i] + k] = (int)i;
            m->col_shift[m->first_col[i] + k] = m->min_shift[i] + k;
        }
    //  Once each; mandatory exactly once
    for (size_t i = 0; i < n; i++) {
        if (!m->use[i])
            continue;
        const Pmo__Candidate *c = spec->candidates[i];
        s_row_t *row;
        if (c->mandatory) {
            char *name = s_strf ("mandatory %s", c->project_id);
            int group = s_group (groups, name);
            bool dropped = s_dropped (groups, group);
            row = s_row_new (m, name, dropped ? GLP_UP : GLP_FX, 1, group);
        } else
            row = s_row_new (m, s_strf ("once %s", c->project_id), GLP_UP, 1, -1);
        for (int k = 0; k < m->n_opts[i]; k++)
            s_row_add (row, m->first_col[i] + k, 1);
    }
    //  Dependencies (on a candidate in the scenario; others are assumed met)
    for (size_t i = 0; i < n; i++) {
        if (!m->use[i])
            continue;
        const Pmo__Candidate *c = spec->candidates[i];
        for (size_t d = 0; d < c->n_depends_on; d++) {
            int j = s_cand_index (spec, c->depends_on[d]);
            if (j < 0 || (size_t)j == i)
                continue;
            char *name = s_strf ("dependency %s on %s", c->project_id, c->depends_on[d]);
            int group = s_group (groups, name);
            if (s_dropped (groups, group)) {
                free (name);
                continue;
            }
            s_row_t *row = s_row_new (m, name, GLP_UP, 0, group);
            for (int k = 0; k < m->n_opts[i]; k++)
                s_row_add (row, m->first_col[i] + k, 1);
            for (int k = 0; m->use[j] && k < m->n_opts[j]; k++)
                s_row_add (row, m->first_col[j] + k, -1);
        }
    }
    //  Budgets
    uint32_t years = (s_horizon (spec) + 3) / 4;
    for (size_t b = 0; b < spec->n_budgets; b++) {
        const Pmo__BudgetLimit *limit = spec->budgets[b];
        if (limit->year >= years)
            continue;
        const char *div = pmo_str_empty (limit->division) ? NULL : limit->division;
        char *name = s_strf ("budget %s year %u", div ? div : "total", limit->year);
        int group = s_group (groups, name);
        if (s_dropped (groups, group)) {
            free (name);
            continue;
        }
        s_row_t *row = s_row_new (m, name, GLP_UP, (double)limit->limit_minor, group);
        for (size_t i = 0; i < n; i++) {
            const Pmo__Candidate *c = spec->candidates[i];
            if (!m->use[i] || (div && !streq (c->division, div)))
                continue;
            for (int k = 0; k < m->n_opts[i]; k++)
                s_row_add (row, m->first_col[i] + k,
                           s_cost_in_year (c, m->min_shift[i] + k, limit->year));
        }
    }
    //  Capacity: one row per limited skill and week, filled candidate by
    //  candidate (a candidate touches only the weeks it runs)
    uint32_t weeks = s_horizon (spec) * PLANNER_WEEKS_PER_QUARTER;
    for (size_t l = 0; l < spec->n_capacity; l++) {
        const Pmo__CapacityLimit *cap = spec->capacity[l];
        size_t base = m->n_rows;
        size_t n_weeks = cap->n_hours_by_week < weeks ? cap->n_hours_by_week : weeks;
        for (size_t w = 0; w < n_weeks; w++) {
            char *name = s_strf ("capacity %s week %zu", cap->skill, w);
            //  Groups are made only for rows the filter may look at
            s_row_new (m, name, GLP_UP, cap->hours_by_week[w], -1);
        }
        for (size_t i = 0; i < n; i++) {
            const Pmo__Candidate *c = spec->candidates[i];
            if (!m->use[i])
                continue;
            for (size_t d = 0; d < c->n_demand; d++) {
                if (!streq (c->demand[d]->skill, cap->skill))
                    continue;
                const Pmo__SkillDemand *dem = c->demand[d];
                for (int k = 0; k < m->n_opts[i]; k++) {
                    size_t start = (size_t)(c->start_quarter + (uint32_t)(m->min_shift[i] + k)) *
                                   PLANNER_WEEKS_PER_QUARTER;
                    for (size_t h = 0; h < dem->n_hours_by_week; h++)
                        if (start + h < n_weeks)
                            s_row_add (&m->rows[base + start + h], m->first_col[i] + k,
                                       dem->hours_by_week[h]);
                }
            }
        }
        for (size_t w = 0; w < n_weeks; w++) {
            s_row_t *row = &m->rows[base + w];
            if (row->n && groups) {
                row->group = s_group (groups, row->name);
                if (s_dropped (groups, row->group))
                    row->n = 0; //  dropped: an empty row constrains nothing
            }
        }
    }
    if (total_cap >= 0) {
        s_row_t *row = s_row_new (m, s_strf ("total budget"), GLP_UP, (double)total_cap,
                                  s_group (groups, "total budget"));
        for (size_t i = 0; i < n; i++)
            for (int k = 0; m->use[i] && k < m->n_opts[i]; k++)
                s_row_add (row, m->first_col[i] + k, (double)s_total_cost (spec->candidates[i]));
        if (s_dropped (groups, row->group))
            row->n = 0;
    }
}

//  Solve the GLPK problem lp (binary columns, maximising) with CBC, within
//  time_limit_ms (wall clock) or mip_gap; start (per column, 1-based, or
//  NULL) is a portfolio to begin from. Returns 1 (x, objective, optimal,
//  gap set), 0 infeasible, -1 stopped without a portfolio.
static int s_cbc_solve (glp_prob *lp, double mip_gap, int time_limit_ms, const double *start,
                        double *x, double *objective, bool *optimal, double *gap)
{
    int rows = glp_get_num_rows (lp), cols = glp_get_num_cols (lp);
    int nz = glp_get_num_nz (lp);
    //  Column-major, 0-based, as CBC loads a problem
    int *starts = malloc (((size_t)cols + 1) * sizeof (int));
    int *index = malloc (((size_t)nz + 1) * sizeof (int));
    double *value = malloc (((size_t)nz + 1) * sizeof (double));
    double *col_lo = malloc ((size_t)cols * sizeof (double));
    double *col_up = malloc ((size_t)cols * sizeof (double));
    double *obj = malloc ((size_t)cols * sizeof (double));
    double *row_lo = malloc (((size_t)rows + 1) * sizeof (double));
    double *row_up = malloc (((size_t)rows + 1) * sizeof (double));
    int *ind = malloc (((size_t)rows + 1) * sizeof (int));
    double *val = malloc (((size_t)rows + 1) * sizeof (double));
    assert (starts && index && value && col_lo && col_up && obj && row_lo && row_up && ind && val);
    int at = 0;
    for (int j = 1; j <= cols; j++) {
        starts[j - 1] = at;
        int len = glp_get_mat_col (lp, j, ind, val);
        for (int e = 1; e <= len; e++) {
            index[at] = ind[e] - 1;
            value[at++] = val[e];
        }
        col_lo[j - 1] = 0;
        col_up[j - 1] = 1;
        obj[j - 1] = glp_get_obj_coef (lp, j);
    }
    starts[cols] = at;
    //  Rows are "at most" or "exactly" (s_row_t)
    for (int i = 1; i <= rows; i++) {
        row_up[i - 1] = glp_get_row_ub (lp, i);
        row_lo[i - 1] = glp_get_row_type (lp, i) == GLP_FX ? glp_get_row_lb (lp, i) : -DBL_MAX;
    }
    Cbc_Model *model = Cbc_newModel ();
    Cbc_loadProblem (model, cols, rows, starts, index, value, col_lo, col_up, obj, row_lo, row_up);
    for (int j = 0; j < cols; j++)
        Cbc_setInteger (model, j);
    Cbc_setObjSense (model, -1); //  maximise
    Cbc_setLogLevel (model, 0);
    //  The limit is wall-clock time (CBC counts CPU time by default), on
    //  one thread: the service's actor is one thread
    Cbc_setParameter (model, "timeMode", "elapsed");
    Cbc_setParameter (model, "threads", "1");
    Cbc_setMaximumSeconds (model, time_limit_ms / 1000.0);
    Cbc_setAllowableFractionGap (model, mip_gap);
    if (start) {
        //  The portfolio without shifts is one with shifts too: the search
        //  starts from it instead of from nothing
        int *columns = malloc ((size_t)cols * sizeof (int));
        assert (columns);
        for (int j = 0; j < cols; j++)
            columns[j] = j;
        Cbc_setMIPStartI (model, cols, columns, start + 1);
        free (columns);
    }
    Cbc_solve (model);
    const double *solution = Cbc_getColSolution (model);
    int result;
    if (Cbc_isProvenInfeasible (model))
        result = 0;
    else if (solution && Cbc_numberSavedSolutions (model) > 0) {
        for (int j = 1; j <= cols; j++)
            x[j] = round (solution[j - 1]);
        *objective = Cbc_getObjValue (model);
        *optimal = Cbc_isProvenOptimal (model);
        double bound = Cbc_getBestPossibleObjValue (model);
        *gap = *optimal && mip_gap == 0
                   ? 0
                   : fmax (bound - *objective, 0) / fmax (fabs (*objective), 1e-9);
        result = 1;
    } else
        result = Cbc_isSecondsLimitReached (model) ? -1 : 0;
    Cbc_deleteModel (model);
    free (starts);
    free (index);
    free (value);
    free (col_lo);
    free (col_up);
    free (obj);
    free (row_lo);
    free (row_up);
    free (ind);
    free (val);
    return result;
}

//  GLPK reports an internal error by calling this hook; the default would
//  abort the whole service. Jump back to s_mip_solve instead, which drops
//  GLPK's environment (and every problem in it) and fails the solve.
static void s_glpk_error (void *info)
{
    longjmp (*(jmp_buf *)info, 1);
}

//  Solve the model. start (per column, or NULL) is a feasible portfolio
//  to begin from. Returns 1 feasible (x filled, per column), 0 infeasible,
//  -1 stopped without any portfolio (time), -2 GLPK failed (building it). *optimal: the
//  search ended within mip_gap; *gap: how far the portfolio may be from
//  the best possible, by the bound the search reached.
static int s_mip_solve (s_mip_t *m, bool with_objective, double mip_gap, int time_limit_ms,
                        const double *start, double *x, bool *optimal, double *gap,
                        double *objective)
{
    glp_term_out (GLP_OFF);
    jmp_buf jump;
    if (setjmp (jump)) {
        glp_free_env ();
        return -2;
    }
    glp_error_hook (s_glpk_error, &jump);
    glp_prob *lp = glp_create_prob ();
    glp_set_obj_dir (lp, GLP_MAX);
    int n_rows = 0;
    for (size_t r = 0; r < m->n_rows; r++)
        if (m->rows[r].n)
            n_rows++;
    if (m->n_cols)
        glp_add_cols (lp, m->n_cols);
    if (n_rows)
        glp_add_rows (lp, n_rows);
    for (int j = 1; j <= m->n_cols; j++) {
        glp_set_col_kind (lp, j, GLP_BV);
        if (with_objective)
            glp_set_obj_coef (lp, j, m->spec->candidates[m->col_cand[j]]->value);
    }
    size_t nz = 0;
    for (size_t r = 0; r < m->n_rows; r++)
        nz += m->rows[r].n;
    int *ia = malloc ((nz + 1) * sizeof (int));
    int *ja = malloc ((nz + 1) * sizeof (int));
    double *ar = malloc ((nz + 1) * sizeof (double));
    assert (ia && ja && ar);
    size_t k = 0;
    int i = 0;
    bool trivially_infeasible = false;
    for (size_t r = 0; r < m->n_rows; r++) {
        s_row_t *row = &m->rows[r];
        if (!row->n) {
            //  An empty fixed row (a mandatory candidate with no start
            //  left) cannot hold
            if (row->type == GLP_FX && row->bound != 0)
                trivially_infeasible = true;
            else if (row->type == GLP_UP && row->bound < 0)
                trivially_infeasible = true;
            continue;
        }
        i++;
        glp_set_row_bnds (lp, i, row->type, row->bound, row->bound);
        for (size_t e = 0; e < row->n; e++) {
            k++;
            ia[k] = i;
            ja[k] = row->cols[e];
            ar[k] = row->vals[e];
        }
    }
    if (k)
        glp_load_matrix (lp, (int)k, ia, ja, ar);
    free (ia);
    free (ja);
    free (ar);
    if (trivially_infeasible || m->n_cols == 0) {
        glp_delete_prob (lp);
        glp_error_hook (NULL, NULL);
        *optimal = true;
        *gap = 0;
        *objective = 0;
        return trivially_infeasible ? 0 : 1;
    }
    int result = s_cbc_solve (lp, mip_gap, time_limit_ms, start, x, objective, optimal, gap);
    glp_delete_prob (lp);
    glp_error_hook (NULL, NULL);
    return result;
}

//  The candidates that must be in: the mandatory ones and, transitively,
//  what they depend on.
static bool *s_forced (const Pmo__ScenarioSpec *spec)
{
    size_t n = spec->n_candidates;
    bool *forced = calloc (n + 1, sizeof (bool));
    assert (forced);
    for (size_t i = 0; i < n; i++)
        forced[i] = spec->candidates[i]->mandatory;
    bool grew = true;
    while (grew) {
        grew = false;
        for (size_t i = 0; i < n; i++) {
            if (!forced[i])
                continue;
            for (size_t d = 0; d < spec->candidates[i]->n_depends_on; d++) {
                int j = s_cand_index (spec, spec->candidates[i]->depends_on[d]);
                if (j >= 0 && !forced[j])
                    forced[j] = grew = true;
            }
        }
    }
    return forced;
}

static int s_feasible (const Pmo__ScenarioSpec *spec, const bool *use, int64_t total_cap,
                       s_groups_t *groups, int time_limit_ms)
{
    s_mip_t m;
    s_mip_build (&m, spec, use, total_cap, groups);
    double *x = calloc ((size_t)m.n_cols + 1, sizeof (double));
    assert (x);
    bool optimal;
    double gap, objective;
    int rc = s_mip_solve (&m, false, 0, time_limit_ms, NULL, x, &optimal, &gap, &objective);
    free (x);
    s_mip_free (&m);
    return rc;
}

//  An irreducible set of conflicting constraints (deletion filter).
static void s_conflicts (const Pmo__ScenarioSpec *spec, int64_t total_cap, int time_limit_ms,
                         Pmo__ScenarioResult *result, pmo_arena_t *arena)
{
    bool *forced = s_forced (spec);
    s_groups_t groups = {0};
    //  A first build names every group that touches the forced candidates
    s_mip_t m;
    s_mip_build (&m, spec, forced, total_cap, &groups);
    s_mip_free (&m);
    for (size_t g = 0; g < groups.n; g++) {
        groups.dropped[g] = true;
        if (s_feasible (spec, forced, total_cap, &groups, time_limit_ms) == 1)
            groups.dropped[g] = false; //  needed for the conflict
    }
    for (size_t g = 0; g < groups.n; g++) {
        if (!groups.dropped[g])
            pmo_arena_append_string (arena, &result->conflicts, &result->n_conflicts,
                                     groups.names[g]);
        free (groups.names[g]);
    }
    free (groups.names);
    free (groups.dropped);
    free (forced);
}

static Pmo__CandidateResult *s_candidate_result (pmo_arena_t *arena, const Pmo__Candidate *c)
{
    Pmo__CandidateResult *cr = pmo_arena_alloc (arena, sizeof *cr);
    pmo__candidate_result__init (cr);
    cr->project_id = pmo_arena_strdup (arena, c->project_id);
    cr->value = c->value;
    cr->cost_minor = s_total_cost (c);
    return cr;
}

//  Used and slack of each row at the solution; a row binds if it keeps a
//  candidate out (the candidate's unshifted start would not fit) or has
//  no slack left.
static void s_explain (s_mip_t *m, const double *x, Pmo__ScenarioResult *result, pmo_arena_t *arena)
{
    const Pmo__ScenarioSpec *spec = m->spec;
    double *used = calloc (m->n_rows + 1, sizeof (double));
    bool *binding = calloc (m->n_rows + 1, sizeof (bool));
    assert (used && binding);
    for (size_t r = 0; r < m->n_rows; r++)
        for (size_t e = 0; e < m->rows[r].n; e++)
            used[r] += m->rows[r].vals[e] * x[m->rows[r].cols[e]];
    //  The rows of each column (the matrix transposed)
    int *count = calloc ((size_t)m->n_cols + 2, sizeof (int));
    assert (count);
    size_t nz = 0;
    for (size_t r = 0; r < m->n_rows; r++)
        for (size_t e = 0; e < m->rows[r].n; e++, nz++)
            count[m->rows[r].cols[e] + 1]++;
    for (int j = 1; j <= m->n_cols + 1; j++)
        count[j] += count[j - 1];
    int *fill = calloc ((size_t)m->n_cols + 2, sizeof (int));
    size_t *at_row = malloc ((nz + 1) * sizeof (size_t));
    double *at_val = malloc ((nz + 1) * sizeof (double));
    assert (fill && at_row && at_val);
    for (size_t r = 0; r < m->n_rows; r++)
        for (size_t e = 0; e < m->rows[r].n; e++) {
            int col = m->rows[r].cols[e];
            size_t slot = (size_t)count[col] + (size_t)fill[col]++;
            at_row[slot] = r;
            at_val[slot] = m->rows[r].vals[e];
        }
    //  For each candidate out: the first row one of its starts would break
    for (size_t i = 0; i < result->n_candidates; i++) {
        Pmo__CandidateResult *cr = result->candidates[i];
        if (cr->placement != PMO__PLACEMENT__PLACEMENT_OUT)
            continue;
        if (m->n_opts[i] == 0) {
            cr->reason = pmo_arena_printf (arena, "earliest start %s", cr->project_id);
            continue;
        }
        for (int k = 0; k < m->n_opts[i] && pmo_str_empty (cr->reason); k++) {
            int col = m->first_col[i] + k;
            for (int e = count[col]; e < count[col + 1]; e++) {
                s_row_t *row = &m->rows[at_row[e]];
                if (row->type != GLP_UP || at_val[e] <= 0 || strncmp (row->name, "once ", 5) == 0)
                    continue;
                if (used[at_row[e]] + at_val[e] > row->bound + 1e-6) {
                    cr->reason = pmo_arena_strdup (arena, row->name);
                    binding[at_row[e]] = true;
                    break;
                }
            }
        }
        //  A dependency that is out keeps it out too
        const Pmo__Candidate *c = spec->candidates[i];
        for (size_t d = 0; d < c->n_depends_on && pmo_str_empty (cr->reason); d++) {
            int j = s_cand_index (spec, c->depends_on[d]);
            if (j >= 0 && result->candidates[j]->placement == PMO__PLACEMENT__PLACEMENT_OUT)
                cr->reason = pmo_arena_printf (arena, "dependency %s on %s", c->project_id,
                                               c->depends_on[d]);
        }
        if (pmo_str_empty (cr->reason) && c->value <= 0)
            cr->reason = pmo_arena_strdup (arena, "no value");
    }
    for (size_t r = 0; r < m->n_rows; r++) {
        s_row_t *row = &m->rows[r];
        if (!row->n || strncmp (row->name, "once ", 5) == 0 ||
            strncmp (row->name, "mandatory ", 10) == 0 ||
            strncmp (row->name, "dependency ", 11) == 0)
            continue;
        if (!binding[r] && row->bound - used[r] > 1e-6 * fmax (1, fabs (row->bound)))
            continue;
        Pmo__ConstraintStatus *cs = pmo_arena_alloc (arena, sizeof *cs);
        pmo__constraint_status__init (cs);
        cs->name = pmo_arena_strdup (arena, row->name);
        cs->used = used[r];
        cs->limit = row->bound;
        cs->binding = true;
        pmo_reflect_append (&result->base, "binding", &cs->base, arena);
    }
    free (used);
    free (binding);
    free (count);
    free (fill);
    free (at_row);
    free (at_val);
}

//  Solve; explain (an irreducible conflict) if infeasible and asked to.
static Pmo__ScenarioResult *s_solve (const Pmo__ScenarioSpec *spec, int64_t total_cap,
                                     pmo_arena_t *arena, bool explain)
{
    int64_t started = pmo_mono_ms ();
    Pmo__ScenarioResult *result = pmo_arena_alloc (arena, sizeof *result);
    pmo__scenario_result__init (result);
    size_t n = spec->n_candidates;
    result->candidates = pmo_arena_alloc (arena, (n + 1) * sizeof (Pmo__CandidateResult *));
    result->n_candidates = n;
    for (size_t i = 0; i < n; i++) {
        result->candidates[i] = s_candidate_result (arena, spec->candidates[i]);
        result->candidates[i]->placement = PMO__PLACEMENT__PLACEMENT_OUT;
    }
    int time_limit = spec->time_limit_ms ? (int)spec->time_limit_ms : 10000;
    int64_t deadline = pmo_mono_ms () + time_limit;
    s_mip_t m;
    s_mip_build (&m, spec, NULL, total_cap, NULL);
    double *x = calloc ((size_t)m.n_cols + 1, sizeof (double));
    assert (x);
    //  With shifts allowed, first the portfolio without them (a smaller,
    //  easier problem, given part of the time): it is a portfolio with
    //  shifts too, and the search for a better one starts from it
    double *start = NULL;
    if (spec->max_shift_quarters > 0) {
        Pmo__ScenarioSpec flat = *spec;
        flat.max_shift_quarters = 0;
        s_mip_t fm;
        s_mip_build (&fm, &flat, NULL, total_cap, NULL);
        double *fx = calloc ((size_t)fm.n_cols + 1, sizeof (double));
        assert (fx);
        bool fopt;
        double fgap, fobj;
        if (s_mip_solve (&fm, true, spec->mip_gap, time_limit * 2 / 5, NULL, fx, &fopt, &fgap,
                         &fobj) == 1) {
            start = calloc ((size_t)m.n_cols + 1, sizeof (double));
            assert (start);
            for (int j = 1; j <= fm.n_cols; j++)
                if (fx[j] > 0.5) //  its start unshifted: the candidate's first column
                    start[m.first_col[fm.col_cand[j]]] = 1;
        }
        free (fx);
        s_mip_free (&fm);
    }
    int64_t left = deadline - pmo_mono_ms ();
    bool optimal = false;
    double gap = 0, objective = 0;
    int rc = s_mip_solve (&m, true, spec->mip_gap, left > 100 ? (int)left : 100, start, x, &optimal,
                          &gap, &objective);
    if (rc != 1 && start) {
        //  No time left to improve on it: the portfolio without shifts
        memcpy (x, start, ((size_t)m.n_cols + 1) * sizeof (double));
        objective = 0;
        for (int j = 1; j <= m.n_cols; j++)
            objective += x[j] * spec->candidates[m.col_cand[j]]->value;
        optimal = false;
        gap = 1;
        rc = 1;
    }
    free (start);
    if (rc == 1) {
        result->feasible = true;
        result->optimal = optimal;
        result->gap = gap;
        result->objective = objective;
        for (int j = 1; j <= m.n_cols; j++) {
            if (x[j] < 0.5)
                continue;
            Pmo__CandidateResult *cr = result->candidates[m.col_cand[j]];
            cr->shift_quarters = (uint32_t)m.col_shift[j];
            cr->placement = cr->shift_quarters ? PMO__PLACEMENT__PLACEMENT_SHIFTED
                                               : PMO__PLACEMENT__PLACEMENT_IN;
            result->cost_minor += cr->cost_minor;
        }
        s_explain (&m, x, result, arena);
    } else if (rc == 0 && explain)
        s_conflicts (spec, total_cap, time_limit, result, arena);
    else
        pmo_arena_append_string (arena, &result->conflicts, &result->n_conflicts,
                                 rc == -1 ? "time limit: no portfolio found in time"
                                          : "the solver failed (GLPK error); nothing was chosen");
    free (x);
    s_mip_free (&m);
    result->solve_ms = (uint32_t)(pmo_mono_ms () - started);
    return result;
}

Pmo__ScenarioResult *planner_solve (const Pmo__ScenarioSpec *spec, int64_t total_cap,
                                    pmo_arena_t *arena)
{
    return s_solve (spec, total_cap, arena, true);
}

Pmo__FrontierPoint **planner_frontier (const Pmo__ScenarioSpec *spec, uint32_t points,
                                       pmo_arena_t *arena, size_t *n)
{
    *n = 0;
    if (points == 0)
        points = 20;
    Pmo__FrontierPoint **list =
        pmo_arena_alloc (arena, (points + 1) * sizeof (Pmo__FrontierPoint *));
    Pmo__ScenarioResult *top = planner_solve (spec, -1, arena);
    if (!top->feasible)
        return list;
    int64_t high = top->cost_minor;
    for (uint32_t k = 1; k <= points; k++) {
        int64_t cap = (int64_t)((double)high * k / points);
        //  A budget below what the mandatory work needs has no portfolio;
        //  the frontier skips it without explaining why
        Pmo__ScenarioResult *r = k == points ? top : s_solve (spec, cap, arena, false);
        if (!r->feasible)
            continue;
        Pmo__FrontierPoint *p = pmo_arena_alloc (arena, sizeof *p);
        pmo__frontier_point__init (p);
        p->budget_minor = cap;
        p->cost_minor = r->cost_minor;
        p->value = r->objective;
        for (size_t i = 0; i < r->n_candidates; i++)
            if (r->candidates[i]->placement != PMO__PLACEMENT__PLACEMENT_OUT)
                p->selected++;
        list[(*n)++] = p;
    }
    return list;
}

Pmo__ProposedDecision **planner_proposals (const Pmo__Scenario *scenario, pmo_arena_t *arena,
                                           size_t *n)
{
    const Pmo__ScenarioSpec *spec = scenario->spec;
    const Pmo__ScenarioResult *result = scenario->result;
    size_t count = result ? result->n_candidates : 0;
    Pmo__ProposedDecision **list = pmo_arena_alloc (arena, (count + 1) * sizeof (void *));
    *n = 0;
    for (size_t i = 0; i < count; i++) {
        const Pmo__CandidateResult *cr = result->candidates[i];
        int j = s_cand_index (spec, cr->project_id);
        bool active = j >= 0 && spec->candidates[j]->active;
        Pmo__ProposedDecision *d = pmo_arena_alloc (arena, sizeof *d);
        pmo__proposed_decision__init (d);
        d->project_id = pmo_arena_strdup (arena, cr->project_id);
        d->scenario_id = pmo_arena_strdup (arena, scenario->id);
        switch (cr->placement) {
        case PMO__PLACEMENT__PLACEMENT_IN:
            d->decision = PMO__GATE_PROPOSAL__GATE_PROPOSAL_GO;
            d->reason = pmo_arena_strdup (arena, "in the portfolio, starting as planned");
            break;
        case PMO__PLACEMENT__PLACEMENT_SHIFTED:
            d->decision = PMO__GATE_PROPOSAL__GATE_PROPOSAL_HOLD;
            d->reason = pmo_arena_printf (arena, "in the portfolio, starting %u quarter%s later",
                                          cr->shift_quarters, cr->shift_quarters == 1 ? "" : "s");
            break;
        default:
            d->decision = active ? PMO__GATE_PROPOSAL__GATE_PROPOSAL_STOP
                                 : PMO__GATE_PROPOSAL__GATE_PROPOSAL_HOLD;
            d->reason =
                pmo_arena_printf (arena, "left out (%s)",
                                  pmo_str_empty (cr->reason) ? "a better portfolio" : cr->reason);
            break;
        }
        list[(*n)++] = d;
    }
    return list;
}

//  "list[i].member" and "list[i].sub[j]" in buf (96 bytes), for fields.
static const char *s_field (char *buf, const char *list, size_t i, const char *member)
{
    snprintf (buf, 96, "%s[%zu].%s", list, i, member);
    return buf;
}

static const char *s_field2 (char *buf, const char *list, size_t i, const char *sub, size_t j)
{
    snprintf (buf, 96, "%s[%zu].%s[%zu]", list, i, sub, j);
    return buf;
}

int planner_spec_check (const Pmo__ScenarioSpec *spec, pmo_problem_t *problem)
{
    if (!pmo_date_valid (spec->start))
        return pmo_problem (problem, PMO__ERROR_CODE__ERROR_INVALID, "start",
                            "start must be a date YYYY-MM-DD");
    if (spec->max_shift_quarters > 8)
        return pmo_problem (problem, PMO__ERROR_CODE__ERROR_INVALID, "max_shift_quarters",
                            "at most 8 quarters of shift");
    if (spec->horizon_quarters > 40)
        return pmo_problem (problem, PMO__ERROR_CODE__ERROR_INVALID, "horizon_quarters",
                            "the horizon is at most 40 quarters");
    if (spec->mip_gap < 0 || spec->mip_gap > 0.2 || isnan (spec->mip_gap))
        return pmo_problem (problem, PMO__ERROR_CODE__ERROR_INVALID, "mip_gap",
                            "mip_gap must be between 0 (exact) and 0.2");
    if (spec->time_limit_ms > 120000)
        return pmo_problem (problem, PMO__ERROR_CODE__ERROR_INVALID, "time_limit_ms",
                            "time_limit_ms is at most 120000");
    if (spec->n_candidates > PLANNER_MAX_CANDIDATES)
        return pmo_problem (problem, PMO__ERROR_CODE__ERROR_TOO_LARGE, "candidates",
                            "at most %d candidates", PLANNER_MAX_CANDIDATES);
    uint32_t horizon = s_horizon (spec);
    char field[96];
    for (size_t i = 0; i < spec->n_candidates; i++) {
        const Pmo__Candidate *c = spec->candidates[i];
        if (pmo_str_empty (c->project_id))
            return pmo_problem (problem, PMO__ERROR_CODE__ERROR_INVALID,
                                s_field (field, "candidates", i, "project_id"),
                                "a candidate needs a project id");
        if (s_cand_index (spec, c->project_id) != (int)i)
            return pmo_problem (problem, PMO__ERROR_CODE__ERROR_INVALID,
                                s_field (field, "candidates", i, "project_id"),
                                "'%.64s' is a candidate twice", c->project_id);
        if (!isfinite (c->value))
            return pmo_problem (problem, PMO__ERROR_CODE__ERROR_INVALID,
                                s_field (field, "candidates", i, "value"),
                                "the value must be a number");
        if (c->start_quarter >= horizon || c->n_cost_by_quarter > 4 * 40)
            return pmo_problem (problem, PMO__ERROR_CODE__ERROR_INVALID,
                                s_field (field, "candidates", i, "start_quarter"),
                                "the start must lie inside the horizon (%u quarters)", horizon);
        for (size_t k = 0; k < c->n_cost_by_quarter; k++)
            if (c->cost_by_quarter[k] < 0)
                return pmo_problem (problem, PMO__ERROR_CODE__ERROR_INVALID,
                                    s_field2 (field, "candidates", i, "cost_by_quarter", k),
                                    "a cost cannot be negative");
        for (size_t d = 0; d < c->n_demand; d++)
            for (size_t h = 0; h < c->demand[d]->n_hours_by_week; h++)
                if (!(c->demand[d]->hours_by_week[h] >= 0))
                    return pmo_problem (problem, PMO__ERROR_CODE__ERROR_INVALID,
                                        s_field2 (field, "candidates", i, "demand", d),
                                        "hours cannot be negative (week %zu)", h);
    }
    for (size_t b = 0; b < spec->n_budgets; b++)
        if (spec->budgets[b]->limit_minor < 0)
            return pmo_problem (problem, PMO__ERROR_CODE__ERROR_INVALID,
                                s_field (field, "budgets", b, "limit_minor"),
                                "a budget cannot be negative");
    for (size_t l = 0; l < spec->n_capacity; l++) {
        if (pmo_str_empty (spec->capacity[l]->skill))
            return pmo_problem (problem, PMO__ERROR_CODE__ERROR_INVALID,
                                s_field (field, "capacity", l, "skill"),
                                "a capacity names its skill");
        for (size_t w = 0; w < spec->capacity[l]->n_hours_by_week; w++)
            if (!(spec->capacity[l]->hours_by_week[w] >= 0))
                return pmo_problem (problem, PMO__ERROR_CODE__ERROR_INVALID,
                                    s_field2 (field, "capacity", l, "hours_by_week", w),
                                    "hours cannot be negative");
    }
    return 0;
}
