/*  planner_model.c: benefits, roll-ups, policies and scores (pure). The
    scenario solver is in planner_solve.c.
*/
#include "planner_model.h"

#include "pmo_reflect.h"

#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PROBLEM(field, ...)                                                                        \
    pmo_problem (problem, PMO__ERROR_CODE__ERROR_INVALID, field, __VA_ARGS__)

//  ---------------------------------------------------------------------
//  Benefits

bool planner_period_valid (const char *s, int *index)
{
    if (!s || strlen (s) != 7 || s[4] != '-')
        return false;
    for (int i = 0; i < 7; i++)
        if (i != 4 && (s[i] < '0' || s[i] > '9'))
            return false;
    int year = atoi (s);
    int month = atoi (s + 5);
    if (year < 1900 || month < 1 || month > 12)
        return false;
    if (index)
        *index = year * 12 + month - 1;
    return true;
}

static bool s_financial (Pmo__BenefitKind kind)
{
    return kind == PMO__BENEFIT_KIND__BENEFIT_KIND_CASHABLE ||
           kind == PMO__BENEFIT_KIND__BENEFIT_KIND_NON_CASHABLE;
}

static int s_points_check (Pmo__BenefitPoint *const *points, size_t n, const char *name,
                           bool financial, pmo_problem_t *problem)
{
    if (n > PLANNER_MAX_POINTS)
        return pmo_problem (problem, PMO__ERROR_CODE__ERROR_TOO_LARGE, name, "at most %d points",
                            PLANNER_MAX_POINTS);
    int last = -1;
    char field[64];
    for (size_t i = 0; i < n; i++) {
        int index;
        snprintf (field, sizeof field, "%s[%zu].period", name, i);
        if (!planner_period_valid (points[i]->period, &index))
            return PROBLEM (field, "'%.16s' is not a month YYYY-MM", points[i]->period);
        if (index <= last)
            return PROBLEM (field, "periods must be ascending, each once");
        last = index;
        snprintf (field, sizeof field, "%s[%zu].value", name, i);
        if (!isfinite (points[i]->value))
            return PROBLEM (field, "the value must be a number");
        if (financial && points[i]->value != floor (points[i]->value))
            return PROBLEM (field, "money is in whole minor units");
    }
    return 0;
}

static int s_text (const char *s, size_t max, const char *field, bool required,
                   pmo_problem_t *problem)
{
    if (required && pmo_str_empty (s))
        return PROBLEM (field, "%s is required", field);
    if (s && strlen (s) > max)
        return pmo_problem (problem, PMO__ERROR_CODE__ERROR_TOO_LARGE, field,
                            "%s is longer than %zu characters", field, max);
    if (s && !pmo_text_valid (s))
        return PROBLEM (field, "%s holds control characters", field);
    return 0;
}

int planner_benefit_check (const Pmo__Benefit *b, pmo_problem_t *problem)
{
    if (s_text (b->title, 200, "title", true, problem) ||
        s_text (b->description, 4000, "description", false, problem) ||
        s_text (b->owner, 128, "owner", true, problem) ||
        s_text (b->measure, 200, "measure", true, problem) ||
        s_text (b->unit, 32, "unit", false, problem) ||
        s_text (b->external_id, 128, "external_id", false, problem))
        return -1;
    if (b->kind == PMO__BENEFIT_KIND__BENEFIT_KIND_UNSPECIFIED)
        return PROBLEM ("kind", "kind is required: cashable, non_cashable or non_financial");
    bool financial = s_financial (b->kind);
    if (financial) {
        const char *c = b->currency;
        if (!c || strlen (c) != 3 || c[0] < 'A' || c[0] > 'Z' || c[1] < 'A' || c[1] > 'Z' ||
            c[2] < 'A' || c[2] > 'Z')
            return PROBLEM ("currency", "a financial benefit needs an ISO 4217 currency (GBP)");
        if (!pmo_str_empty (b->unit) && !streq (b->unit, c))
            return PROBLEM ("unit", "a financial benefit is measured in its currency (%s)", c);
    } else {
        if (!pmo_str_empty (b->currency))
            return PROBLEM ("currency", "only a financial benefit has a currency");
        if (pmo_str_empty (b->unit))
            return PROBLEM ("unit", "a non-financial benefit names its unit (%%, days, ...)");
    }
    if (!isfinite (b->baseline) || !isfinite (b->target))
        return PROBLEM ("target", "baseline and target must be numbers");
    if (financial && (b->baseline != floor (b->baseline) || b->target != floor (b->target)))
        return PROBLEM ("target", "money is in whole minor units");
    if (b->target == b->baseline)
        return PROBLEM ("target", "the target must differ from the baseline");
    if (s_points_check (b->profile, b->n_profile, "profile", financial, problem) ||
        s_points_check (b->measurements, b->n_measurements, "measurements", financial, problem))
        return -1;
    if (b->n_project_ids + b->n_programme_ids == 0)
        return PROBLEM ("project_ids", "a benefit is linked to at least one project or programme");
    if (b->n_project_ids > 64 || b->n_programme_ids > 64)
        return pmo_problem (problem, PMO__ERROR_CODE__ERROR_TOO_LARGE, "project_ids",
                            "at most 64 projects and 64 programmes");
    for (size_t i = 0; i < b->n_project_ids; i++)
        if (pmo_str_empty (b->project_ids[i]) || strlen (b->project_ids[i]) > 64)
            return PROBLEM ("project_ids", "project_ids[%zu] is not a project id", i);
    for (size_t i = 0; i < b->n_programme_ids; i++)
        if (pmo_str_empty (b->programme_ids[i]) || strlen (b->programme_ids[i]) > 64)
            return PROBLEM ("programme_ids", "programme_ids[%zu] is not a programme id", i);
    return 0;
}

double planner_expected_at (const Pmo__Benefit *b, int index)
{
    double before_value = b->baseline;
    int before = INT32_MIN;
    for (size_t i = 0; i < b->n_profile; i++) {
        int at;
        if (!planner_period_valid (b->profile[i]->period, &at))
            continue;
        if (at == index)
            return b->profile[i]->value;
        if (at > index) {
            if (before == INT32_MIN)
                return b->baseline;
            return before_value +
                   (b->profile[i]->value - before_value) * (index - before) / (double)(at - before);
        }
        before = at;
        before_value = b->profile[i]->value;
    }
    return before_value;
}

int planner_month_of_ms (int64_t ms)
{
    time_t t = (time_t)(ms / 1000);
    struct tm day;
    gmtime_r (&t, &day);
    return (day.tm_year + 1900) * 12 + day.tm_mon;
}

//  The first profile period after the latest measurement that ended more
//  than a month before now and expects something of its own (a value
//  other than the baseline); NULL if none.
static const char *s_overdue (const Pmo__Benefit *b, int now)
{
    int measured = INT32_MIN;
    if (b->n_measurements)
        planner_period_valid (b->measurements[b->n_measurements - 1]->period, &measured);
    for (size_t i = 0; i < b->n_profile; i++) {
        int at;
        if (!planner_period_valid (b->profile[i]->period, &at) || at <= measured)
            continue;
        //  A month's grace: a month's figure is known after it ends
        if (at + 1 >= now)
            break;
        if (b->profile[i]->value != b->baseline)
            return b->profile[i]->period;
    }
    return NULL;
}

void planner_benefit_evaluate (Pmo__Benefit *b, double threshold, int now, pmo_arena_t *arena,
                               int *changed)
{
    bool was = b->realisation && b->realisation->lagging;
    Pmo__BenefitRealisation *r = pmo_arena_alloc (arena, sizeof *r);
    pmo__benefit_realisation__init (r);
    r->threshold = threshold;
    r->ratio = 1;
    r->forecast = b->target;
    if (b->n_measurements) {
        const Pmo__BenefitPoint *last = b->measurements[b->n_measurements - 1];
        int index = 0;
        planner_period_valid (last->period, &index);
        r->period = pmo_arena_strdup (arena, last->period);
        r->expected = planner_expected_at (b, index);
        r->realised = last->value;
        double want = r->expected - b->baseline;
        double got = r->realised - b->baseline;
        if (want != 0)
            r->ratio = got / want;
        else
            r->ratio = got == 0 ? 1 : (got * (b->target - b->baseline) > 0 ? 2 : 0);
        r->forecast = b->baseline + (b->target - b->baseline) * r->ratio;
        bool tracked = b->status != PMO__BENEFIT_STATUS__BENEFIT_STATUS_CLOSED;
        //  A benefit lags when it realises less than its profile; a
        //  dis-benefit when it turns out worse (more) than expected
        if (tracked && want != 0)
            r->lagging = b->dis_benefit ? r->ratio > 1 + threshold : r->ratio < 1 - threshold;
    }
    //  By time: nothing measured for a period that has passed (a realised
    //  or closed benefit is no longer measured)
    if (now >= 0 && b->status != PMO__BENEFIT_STATUS__BENEFIT_STATUS_CLOSED &&
        b->status != PMO__BENEFIT_STATUS__BENEFIT_STATUS_REALISED) {
        const char *missed = s_overdue (b, now);
        if (missed) {
            r->overdue = true;
            r->overdue_period = pmo_arena_strdup (arena, missed);
            r->lagging = true;
        }
    }
    b->realisation = r;
    *changed = r->lagging == was ? 0 : (r->lagging ? 1 : -1);
}

void planner_benefit_measure (Pmo__Benefit *b, const Pmo__BenefitPoint *point, pmo_arena_t *arena)
{
    int at;
    bool ok = planner_period_valid (point->period, &at);
    assert (ok);
    Pmo__BenefitPoint *copy = (Pmo__BenefitPoint *)pmo_reflect_copy (&point->base, arena);
    Pmo__BenefitPoint **list =
        pmo_arena_alloc (arena, (b->n_measurements + 1) * sizeof (Pmo__BenefitPoint *));
    size_t n = 0;
    bool placed = false;
    for (size_t i = 0; i < b->n_measurements; i++) {
        int index;
        planner_period_valid (b->measurements[i]->period, &index);
        if (!placed && index >= at) {
            list[n++] = copy;
            placed = true;
            if (index == at)
                continue; //  replaced
        }
        list[n++] = b->measurements[i];
    }
    if (!placed)
        list[n++] = copy;
    b->measurements = list;
    b->n_measurements = n;
}

//  The measure's unit for grouping: the currency for money.
static const char *s_unit (const Pmo__Benefit *b)
{
    return s_financial (b->kind) ? b->currency : b->unit;
}

void planner_rollup_add (planner_rollup_t *rollup, const char *group, const Pmo__Benefit *b)
{
    const char *unit = s_unit (b);
    bool financial = s_financial (b->kind);
    Pmo__BenefitRollupRow *row = NULL;
    for (size_t i = 0; i < rollup->n && !row; i++)
        if (streq (rollup->rows[i]->group, group) && streq (rollup->rows[i]->unit, unit) &&
            rollup->rows[i]->financial == financial)
            row = rollup->rows[i];
    if (!row) {
        if (rollup->n == rollup->max) {
            size_t max = rollup->max ? rollup->max * 2 : 16;
            Pmo__BenefitRollupRow **rows = pmo_arena_alloc (rollup->arena, max * sizeof (void *));
            if (rollup->n)
                memcpy (rows, rollup->rows, rollup->n * sizeof (void *));
            rollup->rows = rows;
            rollup->max = max;
        }
        row = pmo_arena_alloc (rollup->arena, sizeof *row);
        pmo__benefit_rollup_row__init (row);
        row->group = pmo_arena_strdup (rollup->arena, group);
        row->unit = pmo_arena_strdup (rollup->arena, unit);
        row->financial = financial;
        rollup->rows[rollup->n++] = row;
    }
    //  A dis-benefit counts against the total
    double sign = b->dis_benefit ? -1 : 1;
    row->benefits++;
    const Pmo__BenefitRealisation *r = b->realisation;
    if (r && r->lagging)
        row->lagging++;
    row->planned += sign * (b->target - b->baseline);
    if (r && !pmo_str_empty (r->period)) {
        row->expected += sign * (r->expected - b->baseline);
        row->realised += sign * (r->realised - b->baseline);
    }
    row->forecast += sign * ((r ? r->forecast : b->target) - b->baseline);
}

static int s_row_cmp (const void *a, const void *b)
{
    const Pmo__BenefitRollupRow *x = *(Pmo__BenefitRollupRow *const *)a;
    const Pmo__BenefitRollupRow *y = *(Pmo__BenefitRollupRow *const *)b;
    int c = strcmp (x->group, y->group);
    if (c)
        return c;
    if (x->financial != y->financial)
        return x->financial ? -1 : 1;
    return strcmp (x->unit, y->unit);
}

void planner_rollup_sort (planner_rollup_t *rollup)
{
    if (rollup->n > 1)
        qsort (rollup->rows, rollup->n, sizeof (void *), s_row_cmp);
}

//  ---------------------------------------------------------------------
//  Policies and scores

static bool s_same_criterion (const Pmo__CriterionWeight *a, Pmo__Criterion criterion,
                              const char *theme)
{
    return a->criterion == criterion &&
           (criterion != PMO__CRITERION__CRITERION_ALIGNMENT || streq (a->theme, theme));
}

int planner_policy_check (const Pmo__PlannerPolicy *own, const Pmo__PlannerPolicy *inherited,
                          bool parent_supportive, pmo_problem_t *problem)
{
    if (own->lag_threshold != 0 && !(own->lag_threshold > 0 && own->lag_threshold < 1))
        return PROBLEM ("lag_threshold",
                        "the lag threshold is a fraction: 0 < t < 1 (0.1 = 10 %%)");
    if (own->n_criteria > 32)
        return pmo_problem (problem, PMO__ERROR_CODE__ERROR_TOO_LARGE, "criteria",
                            "at most 32 criteria");
    char field[64];
    for (size_t i = 0; i < own->n_criteria; i++) {
        const Pmo__CriterionWeight *c = own->criteria[i];
        snprintf (field, sizeof field, "criteria[%zu]", i);
        if (c->criterion == PMO__CRITERION__CRITERION_UNSPECIFIED)
            return PROBLEM (field, "a criterion is alignment, value, risk or urgency");
        if (!(c->weight > 0 && c->weight <= 1000))
            return PROBLEM (field, "a weight is a number above 0 (and at most 1000)");
        bool alignment = c->criterion == PMO__CRITERION__CRITERION_ALIGNMENT;
        if (alignment != !pmo_str_empty (c->theme))
            return PROBLEM (field, "an alignment criterion names its theme; the others do not");
        if (s_text (c->theme, 64, field, false, problem))
            return -1;
        for (size_t j = 0; j < i; j++)
            if (s_same_criterion (own->criteria[j], c->criterion, c->theme))
                return PROBLEM (field, "the same criterion twice");
    }
    if (!inherited || parent_supportive)
        return 0;
    //  Below a controlling or directive PMO: tighten only
    if (own->lag_threshold != 0 && inherited->lag_threshold != 0 &&
        own->lag_threshold > inherited->lag_threshold)
        return pmo_problem (problem, PMO__ERROR_CODE__ERROR_FAILED_PRECONDITION, "lag_threshold",
                            "the PMO above sets %.3f; a unit below it may only lower it",
                            inherited->lag_threshold);
    if (own->n_criteria)
        for (size_t i = 0; i < inherited->n_criteria; i++) {
            const Pmo__CriterionWeight *p = inherited->criteria[i];
            bool kept = false;
            for (size_t j = 0; j < own->n_criteria && !kept; j++)
                kept = s_same_criterion (own->criteria[j], p->criterion, p->theme) &&
                       own->criteria[j]->weight == p->weight;
            if (!kept)
                return pmo_problem (
                    problem, PMO__ERROR_CODE__ERROR_FAILED_PRECONDITION, "criteria",
                    "the PMO above weighs %s%s%s at %g; a unit below it keeps that and may only "
                    "add criteria",
                    protobuf_c_enum_descriptor_get_value (&pmo__criterion__descriptor, p->criterion)
                        ->name,
                    pmo_str_empty (p->theme) ? "" : " ", pmo_str_empty (p->theme) ? "" : p->theme,
                    p->weight);
        }
    return 0;
}

double planner_score_total (const Pmo__ProjectScore *score, Pmo__CriterionWeight *const *model,
                            size_t n_model)
{
    double sum = 0, weights = 0;
    for (size_t i = 0; i < n_model; i++) {
        const Pmo__CriterionWeight *w = model[i];
        weights += w->weight;
        for (size_t j = 0; j < score->n_scores; j++) {
            const Pmo__CriterionScore *s = score->scores[j];
            if (s->criterion == w->criterion &&
                (w->criterion != PMO__CRITERION__CRITERION_ALIGNMENT ||
                 streq (s->theme, w->theme))) {
                sum += w->weight * s->score;
                break;
            }
        }
    }
    return weights > 0 ? sum / weights * 10 : 0;
}

static int s_rank_cmp (const void *a, const void *b)
{
    const Pmo__ProjectScore *x = *(Pmo__ProjectScore *const *)a;
    const Pmo__ProjectScore *y = *(Pmo__ProjectScore *const *)b;
    if (x->mandatory != y->mandatory)
        return x->mandatory ? -1 : 1;
    if (x->total != y->total)
        return x->total > y->total ? -1 : 1;
    return strcmp (x->project_id, y->project_id);
}

void planner_rank (Pmo__ProjectScore **scores, size_t n)
{
    if (n > 1)
        qsort (scores, n, sizeof (void *), s_rank_cmp);
    for (size_t i = 0; i < n; i++)
        scores[i]->rank = (uint32_t)(i + 1);
}
