/*  riskmon_model.c: the risk monitor's domain rules, without I/O: who may
    do what, ids and dates, the registers' entries, thresholds, and the
    inputs events give. Health and alerts: riskmon_assess.c. */
#include "riskmon_model.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define INVALID PMO__ERROR_CODE__ERROR_INVALID

//  ---------------------------------------------------------------------
//  Who may do what

//  What each role may do in its subtree. Risk managers, project managers
//  and the PMO keep the registers; sponsors decide changes; everyone with
//  a role reads.
#define ALL_ACTIONS                                                                                \
    (RISKMON_READ | RISKMON_WRITE | RISKMON_DECIDE | RISKMON_CONFIGURE | RISKMON_ALERTS)
static const pmo_role_table_t s_roles = {{
    [PMO__ROLE__ROLE_ADMIN] = ALL_ACTIONS,
    [PMO__ROLE__ROLE_PMO_DIRECTOR] = ALL_ACTIONS,
    [PMO__ROLE__ROLE_PMO_MANAGER] = ALL_ACTIONS,
    [PMO__ROLE__ROLE_PROGRAMME_MANAGER] =
        RISKMON_READ | RISKMON_WRITE | RISKMON_DECIDE | RISKMON_ALERTS,
    [PMO__ROLE__ROLE_PMO_ANALYST] = RISKMON_READ | RISKMON_WRITE | RISKMON_ALERTS,
    [PMO__ROLE__ROLE_PROJECT_MANAGER] = RISKMON_READ | RISKMON_WRITE | RISKMON_ALERTS,
    [PMO__ROLE__ROLE_RISK_MANAGER] = RISKMON_READ | RISKMON_WRITE | RISKMON_ALERTS,
    [PMO__ROLE__ROLE_SPONSOR] = RISKMON_READ | RISKMON_DECIDE,
    [PMO__ROLE__ROLE_RESOURCE_MANAGER] = RISKMON_READ,
    [PMO__ROLE__ROLE_TEAM_MEMBER] = RISKMON_READ,
    [PMO__ROLE__ROLE_VIEWER] = RISKMON_READ,
}};

const pmo_role_table_t *riskmon_roles (void)
{
    return &s_roles;
}

bool riskmon_allowed (const Pmo__Identity *who, riskmon_action_t action, const char *path)
{
    return pmo_access_allowed (who, &s_roles, action, path ? path : "");
}

//  ---------------------------------------------------------------------
//  Dates

int64_t riskmon_date_ms (const char *date)
{
    if (pmo_str_empty (date) || !pmo_date_valid (date))
        return -1;
    struct tm tm = {0};
    tm.tm_year = (date[0] - '0') * 1000 + (date[1] - '0') * 100 + (date[2] - '0') * 10 +
                 (date[3] - '0') - 1900;
    tm.tm_mon = (date[5] - '0') * 10 + (date[6] - '0') - 1;
    tm.tm_mday = (date[8] - '0') * 10 + (date[9] - '0');
    return (int64_t)timegm (&tm) * 1000;
}

//  ---------------------------------------------------------------------
//  Registers

uint32_t riskmon_score (uint32_t probability, uint32_t impact)
{
    return probability * impact;
}

Pmo__ScoreBand riskmon_band (uint32_t score)
{
    if (score >= 20)
        return PMO__SCORE_BAND__SCORE_BAND_CRITICAL;
    if (score >= 12)
        return PMO__SCORE_BAND__SCORE_BAND_HIGH;
    if (score >= 6)
        return PMO__SCORE_BAND__SCORE_BAND_MEDIUM;
    if (score >= 2)
        return PMO__SCORE_BAND__SCORE_BAND_LOW;
    if (score == 1)
        return PMO__SCORE_BAND__SCORE_BAND_MINIMAL;
    return PMO__SCORE_BAND__SCORE_BAND_UNSPECIFIED;
}

uint32_t riskmon_probability_percent (uint32_t probability)
{
    static const uint32_t percent[] = {0, 10, 30, 50, 70, 90};
    return probability <= 5 ? percent[probability] : 0;
}

bool riskmon_response_fits (Pmo__RiskKind kind, Pmo__RiskResponse response)
{
    switch (response) {
    case PMO__RISK_RESPONSE__RISK_RESPONSE_UNSPECIFIED:
    case PMO__RISK_RESPONSE__RISK_RESPONSE_SHARE:
        return true;
    case PMO__RISK_RESPONSE__RISK_RESPONSE_AVOID:
    case PMO__RISK_RESPONSE__RISK_RESPONSE_REDUCE:
    case PMO__RISK_RESPONSE__RISK_RESPONSE_FALLBACK:
    case PMO__RISK_RESPONSE__RISK_RESPONSE_TRANSFER:
    case PMO__RISK_RESPONSE__RISK_RESPONSE_ACCEPT:
        return kind == PMO__RISK_KIND__RISK_KIND_THREAT;
    case PMO__RISK_RESPONSE__RISK_RESPONSE_EXPLOIT:
    case PMO__RISK_RESPONSE__RISK_RESPONSE_ENHANCE:
    case PMO__RISK_RESPONSE__RISK_RESPONSE_REJECT:
        return kind == PMO__RISK_KIND__RISK_KIND_OPPORTUNITY;
    default:
        return false;
    }
}

static int s_date (const char *value, const char *field, pmo_problem_t *problem)
{
    if (!pmo_str_empty (value) && !pmo_date_valid (value))
        return pmo_problem (problem, INVALID, field,
                            "%s '%.40s' is not a calendar date as YYYY-MM-DD", field, value);
    return 0;
}

//  Money: an ISO 4217 currency and an amount within 2^53 minor units.
static int s_money (const Pmo__Money *money, const char *field, bool negative_ok,
                    pmo_problem_t *problem)
{
    if (!money)
        return 0;
    char name[96];
    snprintf (name, sizeof name, "%s.minor", field);
    if (money->minor < 0 && !negative_ok)
        return pmo_problem (problem, INVALID, name, "%s must not be negative", name);
    if (money->minor > (int64_t)1 << 53 || money->minor < -((int64_t)1 << 53))
        return pmo_problem (problem, INVALID, name, "%s is out of range", name);
    snprintf (name, sizeof name, "%s.currency", field);
    const char *c = money->currency;
    if (!c || strlen (c) != 3 || c[0] < 'A' || c[0] > 'Z' || c[1] < 'A' || c[1] > 'Z' ||
        c[2] < 'A' || c[2] > 'Z')
        return pmo_problem (problem, INVALID, name,
                            "%s must be an ISO 4217 code such as GBP, EUR or USD", name);
    return 0;
}

static int s_scale (uint32_t value, const char *field, bool required, pmo_problem_t *problem)
{
    if ((required && value == 0) || value > 5)
        return pmo_problem (problem, INVALID, field,
                            "%s must be 1 (very low) to 5 (very high)%s; got %u", field,
                            required ? "" : ", or 0 for the inherent value", value);
    return 0;
}

bool riskmon_risk_open (const Pmo__Risk *risk)
{
    return risk->status == PMO__RISK_STATUS__RISK_STATUS_OPEN;
}

int riskmon_check_risk (Pmo__Risk *r, pmo_arena_t *arena, pmo_problem_t *problem)
{
    if (pmo_str_empty (r->project_id))
        return pmo_problem (problem, INVALID, "project_id", "project_id is required");
    if (pmo_check_name (r->title, "title", 1, 200, problem) ||
        pmo_check_name (r->category, "category", 0, 64, problem) ||
        pmo_check_text (r->cause, "cause", 0, 4000, problem) ||
        pmo_check_text (r->event, "event", 0, 4000, problem) ||
        pmo_check_text (r->effect, "effect", 0, 4000, problem) ||
        pmo_check_text (r->response_plan, "response_plan", 0, 4000, problem) ||
        pmo_check_name (r->owner, "owner", 1, 200, problem) ||
        pmo_check_name (r->actionee, "actionee", 0, 200, problem) ||
        pmo_check_text (r->closure_note, "closure_note", 0, 4000, problem))
        return -1;
    if (s_scale (r->probability, "probability", true, problem) ||
        s_scale (r->impact, "impact", true, problem) ||
        s_scale (r->residual_probability, "residual_probability", false, problem) ||
        s_scale (r->residual_impact, "residual_impact", false, problem))
        return -1;
    if (r->kind == PMO__RISK_KIND__RISK_KIND_UNSPECIFIED)
        r->kind = PMO__RISK_KIND__RISK_KIND_THREAT;
    if (!riskmon_response_fits (r->kind, r->response))
        return pmo_problem (problem, INVALID, "response",
                            "that response does not fit %s: threats avoid, reduce, fallback, "
                            "transfer, share or accept; opportunities exploit, enhance, share "
                            "or reject",
                            r->kind == PMO__RISK_KIND__RISK_KIND_THREAT ? "a threat"
                                                                        : "an opportunity");
    if (s_money (r->cost_impact, "cost_impact", false, problem) ||
        s_date (r->review_date, "review_date", problem))
        return -1;
    if (!r->residual_probability)
        r->residual_probability = r->probability;
    if (!r->residual_impact)
        r->residual_impact = r->impact;
    r->inherent_score = riskmon_score (r->probability, r->impact);
    r->inherent_band = riskmon_band (r->inherent_score);
    r->residual_score = riskmon_score (r->residual_probability, r->residual_impact);
    r->residual_band = riskmon_band (r->residual_score);
    r->exposure = NULL;
    if (r->cost_impact) {
        Pmo__Money *exposure = pmo_arena_alloc (arena, sizeof (Pmo__Money));
        pmo__money__init (exposure);
        exposure->currency = r->cost_impact->currency;
        //  Expected value: the money at stake weighted by how likely it is
        //  (the residual probability: what is left after the response).
        exposure->minor = r->cost_impact->minor *
                          (int64_t)riskmon_probability_percent (r->residual_probability) / 100;
        r->exposure = exposure;
    }
    if (r->status == PMO__RISK_STATUS__RISK_STATUS_UNSPECIFIED)
        r->status = PMO__RISK_STATUS__RISK_STATUS_OPEN;
    return 0;
}

int riskmon_check_issue (Pmo__Issue *issue, pmo_problem_t *problem)
{
    if (pmo_str_empty (issue->project_id))
        return pmo_problem (problem, INVALID, "project_id", "project_id is required");
    if (pmo_check_name (issue->title, "title", 1, 200, problem) ||
        pmo_check_text (issue->description, "description", 0, 10000, problem) ||
        pmo_check_name (issue->owner, "owner", 0, 200, problem) ||
        pmo_check_text (issue->resolution, "resolution", 0, 4000, problem) ||
        s_date (issue->due_date, "due_date", problem))
        return -1;
    if (issue->type == PMO__ISSUE_TYPE__ISSUE_TYPE_UNSPECIFIED)
        return pmo_problem (problem, INVALID, "type",
                            "type is required: request_for_change, off_specification or "
                            "problem_concern");
    if (issue->priority > 5)
        return pmo_problem (problem, INVALID, "priority",
                            "priority must be 1 (highest) to 5 (lowest), or 0 for 3");
    if (!issue->priority)
        issue->priority = 3;
    if (issue->severity == PMO__ISSUE_SEVERITY__ISSUE_SEVERITY_UNSPECIFIED)
        issue->severity = PMO__ISSUE_SEVERITY__ISSUE_SEVERITY_MEDIUM;
    if (issue->status == PMO__ISSUE_STATUS__ISSUE_STATUS_UNSPECIFIED)
        issue->status = PMO__ISSUE_STATUS__ISSUE_STATUS_OPEN;
    if ((issue->status == PMO__ISSUE_STATUS__ISSUE_STATUS_RESOLVED ||
         issue->status == PMO__ISSUE_STATUS__ISSUE_STATUS_CLOSED) &&
        pmo_str_empty (issue->resolution))
        return pmo_problem (problem, INVALID, "resolution",
                            "a resolved or closed issue states its resolution");
    if (!pmo_str_empty (issue->risk_id)) {
        char division[40];
        if (pmo_id_division (issue->risk_id, "rk", division, sizeof division))
            return pmo_problem (problem, INVALID, "risk_id", "'%.40s' is not a risk id",
                                issue->risk_id);
    }
    return 0;
}

int riskmon_check_change (Pmo__ChangeRequest *c, pmo_problem_t *problem)
{
    if (pmo_str_empty (c->project_id))
        return pmo_problem (problem, INVALID, "project_id", "project_id is required");
    if (pmo_check_name (c->title, "title", 1, 200, problem) ||
        pmo_check_text (c->description, "description", 0, 10000, problem) ||
        pmo_check_text (c->reason, "reason", 0, 4000, problem) ||
        pmo_check_name (c->requested_by, "requested_by", 0, 200, problem) ||
        pmo_check_text (c->scope_impact, "scope_impact", 0, 4000, problem) ||
        pmo_check_text (c->decision_note, "decision_note", 0, 4000, problem) ||
        s_money (c->cost_impact, "cost_impact", true, problem) ||
        s_money (c->benefits_impact, "benefits_impact", true, problem))
        return -1;
    if (c->schedule_impact_days > 3650 || c->schedule_impact_days < -3650)
        return pmo_problem (problem, INVALID, "schedule_impact_days",
                            "schedule_impact_days must be within -3650..3650");
    if (c->decision == PMO__CHANGE_DECISION__CHANGE_DECISION_UNSPECIFIED)
        c->decision = PMO__CHANGE_DECISION__CHANGE_DECISION_PENDING;
    if (!pmo_str_empty (c->issue_id)) {
        char division[40];
        if (pmo_id_division (c->issue_id, "is", division, sizeof division))
            return pmo_problem (problem, INVALID, "issue_id", "'%.40s' is not an issue id",
                                c->issue_id);
    }
    return 0;
}

int riskmon_check_raid (Pmo__RaidEntry *e, pmo_problem_t *problem)
{
    if (pmo_str_empty (e->project_id))
        return pmo_problem (problem, INVALID, "project_id", "project_id is required");
    if (e->kind == PMO__RAID_KIND__RAID_KIND_UNSPECIFIED)
        return pmo_problem (problem, INVALID, "kind",
                            "kind is required: assumption, decision or dependency");
    if (pmo_check_name (e->title, "title", 1, 200, problem) ||
        pmo_check_text (e->description, "description", 0, 10000, problem) ||
        pmo_check_name (e->owner, "owner", 0, 200, problem) ||
        pmo_check_name (e->decided_by, "decided_by", 0, 200, problem) ||
        pmo_check_text (e->note, "note", 0, 4000, problem) ||
        s_date (e->due_date, "due_date", problem))
        return -1;
    if (!pmo_str_empty (e->depends_on_project)) {
        char division[40];
        if (pmo_id_division (e->depends_on_project, "pr", division, sizeof division))
            return pmo_problem (problem, INVALID, "depends_on_project",
                                "'%.40s' is not a project id", e->depends_on_project);
        if (strcmp (e->depends_on_project, e->project_id) == 0)
            return pmo_problem (problem, INVALID, "depends_on_project",
                                "a project does not depend on itself");
    }
    if (e->status == PMO__RAID_STATUS__RAID_STATUS_UNSPECIFIED)
        e->status = PMO__RAID_STATUS__RAID_STATUS_OPEN;
    return 0;
}

//  ---------------------------------------------------------------------
//  Thresholds

void riskmon_thresholds_defaults (Pmo__Thresholds *t)
{
    pmo__thresholds__init (t);
    t->spi_amber_below = t->cpi_amber_below = 0.95;
    t->spi_red_below = t->cpi_red_below = 0.90;
    t->spi_amber_above = t->cpi_amber_above = 1.05;
    t->spi_red_above = t->cpi_red_above = 1.10;
    t->milestone_amber_days = 1;
    t->milestone_red_days = 14;
    t->slip_amber_days = 1;
    t->slip_red_days = 30;
    t->risk_high_score = 15;
    t->risk_critical_score = 20;
    t->overallocated_amber = 1;
    t->overallocated_red = 3;
    t->stale_red_periods = 2;
    t->default_reporting_days = 30;
    t->gate_amber_days = 1;
    t->gate_red_days = 14;
    t->escalate_owner_s = 86400;
    t->escalate_division_s = 172800;
    t->alert_cooldown_s = 86400;
}

//  The threshold fields, for the generic merge and checks: name, offset,
//  whether a double, and the direction in which a value is stricter.
typedef enum { S_LOWER_STRICTER = -1, S_NEUTRAL = 0, S_HIGHER_STRICTER = 1 } s_dir_t;
typedef struct {
    const char *name;
    size_t offset;
    bool real;
    s_dir_t stricter;
    double min, max;
} s_field_t;

#define F_REAL(f, dir)                                                                             \
    {                                                                                              \
#f, offsetof(Pmo__Thresholds, f), true, dir, 0.01, 10.0                                    \
    }
#define F_INT(f, dir, lo, hi)                                                                      \
    {                                                                                              \
#f, offsetof(Pmo__Thresholds, f), false, dir, lo, hi                                       \
    }
static const s_field_t s_fields[] = {
    F_REAL (spi_amber_below, S_HIGHER_STRICTER),
    F_REAL (spi_red_below, S_HIGHER_STRICTER),
    F_REAL (spi_amber_above, S_LOWER_STRICTER),
    F_REAL (spi_red_above, S_LOWER_STRICTER),
    F_REAL (cpi_amber_below, S_HIGHER_STRICTER),
    F_REAL (cpi_red_below, S_HIGHER_STRICTER),
    F_REAL (cpi_amber_above, S_LOWER_STRICTER),
    F_REAL (cpi_red_above, S_LOWER_STRICTER),
    F_INT (milestone_amber_days, S_LOWER_STRICTER, 1, 3650),
    F_INT (milestone_red_days, S_LOWER_STRICTER, 1, 3650),
    F_INT (slip_amber_days, S_LOWER_STRICTER, 1, 3650),
    F_INT (slip_red_days, S_LOWER_STRICTER, 1, 3650),
    F_INT (risk_high_score, S_LOWER_STRICTER, 1, 25),
    F_INT (risk_critical_score, S_LOWER_STRICTER, 1, 25),
    F_INT (overallocated_amber, S_LOWER_STRICTER, 1, 1000),
    F_INT (overallocated_red, S_LOWER_STRICTER, 1, 1000),
    F_INT (stale_red_periods, S_LOWER_STRICTER, 1, 12),
    F_INT (default_reporting_days, S_LOWER_STRICTER, 1, 366),
    F_INT (gate_amber_days, S_LOWER_STRICTER, 1, 3650),
    F_INT (gate_red_days, S_LOWER_STRICTER, 1, 3650),
    F_INT (escalate_owner_s, S_LOWER_STRICTER, 1, 30 * 86400),
    F_INT (escalate_division_s, S_LOWER_STRICTER, 1, 30 * 86400),
    F_INT (alert_cooldown_s, S_NEUTRAL, 1, 30 * 86400),
};
#define N_FIELDS (sizeof s_fields / sizeof s_fields[0])

static double s_get (const Pmo__Thresholds *t, const s_field_t *f)
{
    const char *base = (const char *)t + f->offset;
    return f->real ? *(const double *)base : (double)*(const uint32_t *)base;
}

static void s_put (Pmo__Thresholds *t, const s_field_t *f, double value)
{
    char *base = (char *)t + f->offset;
    if (f->real)
        *(double *)base = value;
    else
        *(uint32_t *)base = (uint32_t)value;
}

void riskmon_thresholds_merge (Pmo__Thresholds *into, const Pmo__Thresholds *over)
{
    for (size_t i = 0; i < N_FIELDS; i++) {
        double value = s_get (over, &s_fields[i]);
        if (value != 0)
            s_put (into, &s_fields[i], value);
    }
}

Pmo__ThresholdSource **riskmon_thresholds_sources (pmo_arena_t *arena,
                                                   const Pmo__Thresholds *const *own,
                                                   char *const *units, size_t n, size_t *count)
{
    Pmo__Thresholds defaults;
    riskmon_thresholds_defaults (&defaults);
    Pmo__ThresholdSource **list = pmo_arena_alloc (arena, N_FIELDS * sizeof *list);
    for (size_t i = 0; i < N_FIELDS; i++) {
        Pmo__ThresholdSource *source = pmo_arena_alloc (arena, sizeof *source);
        pmo__threshold_source__init (source);
        source->field = (char *)s_fields[i].name;
        source->value = s_get (&defaults, &s_fields[i]);
        source->org_unit = "";
        for (size_t level = 0; level < n; level++) {
            double value = own[level] ? s_get (own[level], &s_fields[i]) : 0;
            if (level + 1 == n) {
                source->inherited = source->value;
                source->inherited_from = source->org_unit;
            }
            if (value == 0)
                continue;
            source->value = value;
            source->org_unit = units[level];
            source->set_here = level + 1 == n;
        }
        list[i] = source;
    }
    *count = N_FIELDS;
    return list;
}

int riskmon_thresholds_check (const Pmo__Thresholds *own, pmo_problem_t *problem)
{
    for (size_t i = 0; i < N_FIELDS; i++) {
        const s_field_t *f = &s_fields[i];
        double value = s_get (own, f);
        if (value == 0)
            continue;
        if (!isfinite (value) || value < f->min || value > f->max)
            return pmo_problem (problem, INVALID, f->name,
                                "%s must be %g to %g (or 0 to inherit); got %g", f->name, f->min,
                                f->max, value);
    }
    return 0;
}

//  amber must sit between green and red: a lower bound's amber line at or
//  above its red line, an upper bound's at or below, a count's or a day
//  count's amber at or below its red.
static int s_order (const Pmo__Thresholds *t, double amber, double red, bool lower,
                    const char *amber_name, const char *red_name, pmo_problem_t *problem)
{
    (void)t;
    bool bad = lower ? amber < red : amber > red;
    if (bad)
        return pmo_problem (problem, INVALID, amber_name,
                            "%s %g is stricter than red: %s is %g, so amber would never show "
                            "(amber %s red)",
                            amber_name, amber, red_name, red, lower ? "must be >=" : "must be <=");
    return 0;
}

int riskmon_thresholds_consistent (const Pmo__Thresholds *t, pmo_problem_t *problem)
{
    if (s_order (t, t->spi_amber_below, t->spi_red_below, true, "spi_amber_below", "spi_red_below",
                 problem) ||
        s_order (t, t->spi_amber_above, t->spi_red_above, false, "spi_amber_above", "spi_red_above",
                 problem) ||
        s_order (t, t->cpi_amber_below, t->cpi_red_below, true, "cpi_amber_below", "cpi_red_below",
                 problem) ||
        s_order (t, t->cpi_amber_above, t->cpi_red_above, false, "cpi_amber_above", "cpi_red_above",
                 problem) ||
        s_order (t, t->milestone_amber_days, t->milestone_red_days, false, "milestone_amber_days",
                 "milestone_red_days", problem) ||
        s_order (t, t->slip_amber_days, t->slip_red_days, false, "slip_amber_days", "slip_red_days",
                 problem) ||
        s_order (t, t->risk_high_score, t->risk_critical_score, false, "risk_high_score",
                 "risk_critical_score", problem) ||
        s_order (t, t->overallocated_amber, t->overallocated_red, false, "overallocated_amber",
                 "overallocated_red", problem) ||
        s_order (t, t->gate_amber_days, t->gate_red_days, false, "gate_amber_days", "gate_red_days",
                 problem))
        return -1;
    if (t->spi_amber_below > t->spi_amber_above)
        return pmo_problem (problem, INVALID, "spi_amber_below",
                            "spi_amber_below %g is above spi_amber_above %g: no SPI is green",
                            t->spi_amber_below, t->spi_amber_above);
    if (t->cpi_amber_below > t->cpi_amber_above)
        return pmo_problem (problem, INVALID, "cpi_amber_below",
                            "cpi_amber_below %g is above cpi_amber_above %g: no CPI is green",
                            t->cpi_amber_below, t->cpi_amber_above);
    return 0;
}

int riskmon_thresholds_tightens (const Pmo__Thresholds *inherited, const Pmo__Thresholds *effective,
                                 Pmo__PmoType above, pmo_problem_t *problem)
{
    if (above != PMO__PMO_TYPE__PMO_TYPE_CONTROLLING && above != PMO__PMO_TYPE__PMO_TYPE_DIRECTIVE)
        return 0;
    for (size_t i = 0; i < N_FIELDS; i++) {
        const s_field_t *f = &s_fields[i];
        double was = s_get (inherited, f), now = s_get (effective, f);
        bool looser = (f->stricter == S_HIGHER_STRICTER && now < was) ||
                      (f->stricter == S_LOWER_STRICTER && now > was);
        if (looser)
            return pmo_problem (problem, PMO__ERROR_CODE__ERROR_FAILED_PRECONDITION, f->name,
                                "%s %g loosens the inherited %g under a %s PMO; a unit may "
                                "only tighten it",
                                f->name, now, was,
                                above == PMO__PMO_TYPE__PMO_TYPE_DIRECTIVE ? "directive"
                                                                           : "controlling");
    }
    return 0;
}

//  ---------------------------------------------------------------------
//  Inputs

bool riskmon_apply_project (Pmo__HealthInputs *in, const Pmo__Project *p)
{
    if (in->known && p->version <= in->project_version)
        return false;
    in->known = true;
    in->project_version = p->version;
    in->project_id = p->id;
    in->code = p->code;
    in->name = p->name;
    in->org_unit = p->org_unit;
    in->org_unit_path = p->org_unit_path;
    in->division = p->division;
    in->manager = p->manager;
    in->phase = p->phase;
    in->status = p->status;
    in->baseline_start = p->baseline_start;
    in->baseline_finish = p->baseline_finish;
    in->forecast_finish = p->forecast_finish;
    in->archived = p->archived;
    in->project_created_ms = p->created_ms;
    in->currency = p->budget && p->budget->baseline ? p->budget->baseline->currency : "";
    in->portfolio_id = p->portfolio_id;
    in->programme_id = p->programme_id;
    in->has_budget = p->budget && p->budget->baseline;
    in->budget_minor = in->has_budget ? p->budget->baseline->minor : 0;
    in->has_actual = p->budget && p->budget->actual;
    in->actual_minor = in->has_actual ? p->budget->actual->minor : 0;
    return true;
}

bool riskmon_apply_milestone (Pmo__HealthInputs *in, const Pmo__Milestone *m, pmo_arena_t *arena)
{
    Pmo__MilestoneInput *slot = NULL;
    for (size_t i = 0; i < in->n_milestones && !slot; i++)
        if (strcmp (in->milestones[i]->id, m->id) == 0)
            slot = in->milestones[i];
    if (slot && m->version <= slot->version)
        return false;
    if (!slot) {
        Pmo__MilestoneInput **grown =
            pmo_arena_alloc (arena, (in->n_milestones + 1) * sizeof (void *));
        if (in->n_milestones)
            memcpy (grown, in->milestones, in->n_milestones * sizeof (void *));
        slot = pmo_arena_alloc (arena, sizeof (Pmo__MilestoneInput));
        pmo__milestone_input__init (slot);
        grown[in->n_milestones++] = slot;
        in->milestones = grown;
    }
    slot->id = m->id;
    slot->name = m->name;
    slot->baseline_date = m->baseline_date;
    slot->forecast_date = m->forecast_date;
    slot->actual_date = m->actual_date;
    slot->version = m->version;
    slot->archived = m->archived;
    return true;
}

bool riskmon_apply_report (Pmo__HealthInputs *in, const Pmo__StatusReport *r)
{
    in->reports_seen++;
    bool newer = pmo_str_empty (in->report_id);
    if (!newer) {
        int order = strcmp (r->period_end, in->report_period_end);
        newer = order > 0 || (order == 0 && r->created_ms >= in->report_created_ms);
    }
    if (!newer)
        return false;
    in->report_id = r->id;
    in->report_period_end = r->period_end;
    in->pv_minor = r->pv_minor;
    in->ev_minor = r->ev_minor;
    in->ac_minor = r->ac_minor;
    in->has_ac = r->has_ac;
    in->reported_overall = r->overall;
    in->report_created_ms = r->created_ms;
    return true;
}

int riskmon_stream_id_cmp (const char *a, const char *b)
{
    unsigned long long ams = 0, aseq = 0, bms = 0, bseq = 0;
    sscanf (a ? a : "", "%llu-%llu", &ams, &aseq);
    sscanf (b ? b : "", "%llu-%llu", &bms, &bseq);
    if (ams != bms)
        return ams < bms ? -1 : 1;
    return aseq < bseq ? -1 : aseq > bseq ? 1 : 0;
}

bool riskmon_apply_overallocation (Pmo__ProjectHealth *health, const char *project_id,
                                   const char *resource_id, const char *resource_name,
                                   char *const *weeks, size_t n_weeks, uint32_t booked,
                                   uint32_t capacity, bool over, const char *stream_id,
                                   pmo_arena_t *arena)
{
    Pmo__HealthInputs *in = health->inputs;
    (void)project_id;
    //  The newest entry about this resource wins
    Pmo__ProjectHealth__ResourceSeenEntry *seen = NULL;
    for (size_t i = 0; i < health->n_resource_seen && !seen; i++)
        if (strcmp (health->resource_seen[i]->key, resource_id) == 0)
            seen = health->resource_seen[i];
    if (seen && riskmon_stream_id_cmp (stream_id, seen->value) <= 0)
        return false;
    if (!seen) {
        Pmo__ProjectHealth__ResourceSeenEntry **grown =
            pmo_arena_alloc (arena, (health->n_resource_seen + 1) * sizeof (void *));
        if (health->n_resource_seen)
            memcpy (grown, health->resource_seen, health->n_resource_seen * sizeof (void *));
        seen = pmo_arena_alloc (arena, sizeof (Pmo__ProjectHealth__ResourceSeenEntry));
        pmo__project_health__resource_seen_entry__init (seen);
        seen->key = pmo_arena_strdup (arena, resource_id);
        grown[health->n_resource_seen++] = seen;
        health->resource_seen = grown;
    }
    seen->value = pmo_arena_strdup (arena, stream_id);
    //  Drop the resource's flag, then add it back if it is over
    size_t kept = 0;
    for (size_t i = 0; i < in->n_overallocated; i++)
        if (strcmp (in->overallocated[i]->resource_id, resource_id) != 0)
            in->overallocated[kept++] = in->overallocated[i];
    in->n_overallocated = kept;
    if (over) {
        Pmo__ResourceFlag **grown =
            pmo_arena_alloc (arena, (in->n_overallocated + 1) * sizeof (void *));
        if (in->n_overallocated)
            memcpy (grown, in->overallocated, in->n_overallocated * sizeof (void *));
        Pmo__ResourceFlag *flag = pmo_arena_alloc (arena, sizeof (Pmo__ResourceFlag));
        pmo__resource_flag__init (flag);
        flag->resource_id = pmo_arena_strdup (arena, resource_id);
        flag->resource_name = pmo_arena_strdup (arena, resource_name ? resource_name : "");
        flag->weeks = (char **)weeks;
        flag->n_weeks = n_weeks;
        flag->worst_week_booked_hours = booked;
        flag->worst_week_capacity_hours = capacity;
        grown[in->n_overallocated++] = flag;
        in->overallocated = grown;
    }
    return true;
}

void riskmon_apply_risk (Pmo__HealthInputs *in, const Pmo__Risk *risk, pmo_arena_t *arena)
{
    size_t kept = 0;
    for (size_t i = 0; i < in->n_open_risks; i++)
        if (strcmp (in->open_risks[i]->id, risk->id) != 0)
            in->open_risks[kept++] = in->open_risks[i];
    in->n_open_risks = kept;
    //  Opportunities are good news: they neither colour health nor add
    //  to the exposure to loss
    if (riskmon_risk_open (risk) && risk->kind != PMO__RISK_KIND__RISK_KIND_OPPORTUNITY) {
        Pmo__OpenRisk **grown = pmo_arena_alloc (arena, (in->n_open_risks + 1) * sizeof (void *));
        if (in->n_open_risks)
            memcpy (grown, in->open_risks, in->n_open_risks * sizeof (void *));
        Pmo__OpenRisk *open = pmo_arena_alloc (arena, sizeof (Pmo__OpenRisk));
        pmo__open_risk__init (open);
        open->id = risk->id;
        open->title = risk->title;
        open->owner = risk->owner;
        open->residual_score = risk->residual_score;
        if (risk->exposure) {
            open->exposure_minor = risk->exposure->minor;
            open->currency = risk->exposure->currency;
        }
        grown[in->n_open_risks++] = open;
        in->open_risks = grown;
    }
    in->risk_exposure_minor = 0;
    for (size_t i = 0; i < in->n_open_risks; i++)
        in->risk_exposure_minor += in->open_risks[i]->exposure_minor;
}
