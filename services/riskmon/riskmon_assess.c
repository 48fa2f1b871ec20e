/*  riskmon_assess.c: the risk monitor's health and alert rules, without
    I/O: a project's health from its inputs (which rules fired, and when a
    time rule may fire next), and alerts following the health with
    hysteresis and climbing the PMO structure. Declared in riskmon_model.h.
*/
#include "riskmon_model.h"

#include "riskmon_benefits.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

//  ---------------------------------------------------------------------
//  Health

const char *riskmon_rag_name (Pmo__Rag rag)
{
    switch (rag) {
    case PMO__RAG__RAG_GREEN:
        return "green";
    case PMO__RAG__RAG_AMBER:
        return "amber";
    case PMO__RAG__RAG_RED:
        return "red";
    default:
        return "n/a";
    }
}

bool riskmon_ev_index (int64_t earned, int64_t base, double *index)
{
    if (base <= 0)
        return false;
    *index = (double)earned / (double)base;
    return true;
}

bool riskmon_project_live (const Pmo__HealthInputs *in)
{
    if (!in->known || in->archived)
        return false;
    if (in->status == PMO__PROJECT_STATUS__PROJECT_STATUS_CANCELLED ||
        in->status == PMO__PROJECT_STATUS__PROJECT_STATUS_COMPLETED)
        return false;
    return in->phase != PMO__PHASE__PHASE_CLOSED;
}

//  The assessment being built.
typedef struct {
    Pmo__HealthAssessment *out;
    pmo_arena_t *arena;
    int64_t now;
    int64_t next_due; //  the earliest future boundary of a time rule
    Pmo__FiredRule **fired;
    size_t n_fired, max_fired;
} s_build_t;

static Pmo__Rag s_worse (Pmo__Rag a, Pmo__Rag b)
{
    //  UNSPECIFIED (not available) never wins over a colour
    return a > b ? a : b;
}

static void s_fire (s_build_t *b, const char *rule, const char *dimension, Pmo__Rag rag,
                    const char *subject, double value, double threshold, const char *detail)
{
    if (b->n_fired == b->max_fired) {
        size_t max = b->max_fired ? b->max_fired * 2 : 8;
        Pmo__FiredRule **grown = pmo_arena_alloc (b->arena, max * sizeof (void *));
        if (b->n_fired)
            memcpy (grown, b->fired, b->n_fired * sizeof (void *));
        b->fired = grown;
        b->max_fired = max;
    }
    Pmo__FiredRule *f = pmo_arena_alloc (b->arena, sizeof (Pmo__FiredRule));
    pmo__fired_rule__init (f);
    f->rule = (char *)rule;
    f->dimension = (char *)dimension;
    f->rag = rag;
    f->subject_id = pmo_arena_strdup (b->arena, subject ? subject : "");
    f->value = value;
    f->threshold = threshold;
    f->detail = (char *)detail;
    b->fired[b->n_fired++] = f;
}

static void s_due (s_build_t *b, int64_t at)
{
    if (at > b->now && (b->next_due == 0 || at < b->next_due))
        b->next_due = at;
}

//  An index rule (SPI, CPI) under FEMA-style bands.
static Pmo__Rag s_index (s_build_t *b, const char *rule, const char *dimension, double value,
                         double amber_below, double red_below, double amber_above, double red_above)
{
    Pmo__Rag rag = PMO__RAG__RAG_GREEN;
    double bound = 0;
    const char *how = "";
    if (value < red_below)
        rag = PMO__RAG__RAG_RED, bound = red_below, how = "<";
    else if (value > red_above)
        rag = PMO__RAG__RAG_RED, bound = red_above, how = ">";
    else if (value < amber_below)
        rag = PMO__RAG__RAG_AMBER, bound = amber_below, how = "<";
    else if (value > amber_above)
        rag = PMO__RAG__RAG_AMBER, bound = amber_above, how = ">";
    if (rag != PMO__RAG__RAG_GREEN) {
        char *name = pmo_arena_strdup (b->arena, rule);
        for (char *p = name; *p; p++)
            *p = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
        s_fire (b, rule, dimension, rag, NULL, value, bound,
                pmo_arena_printf (b->arena, "%s %.2f %s %.2f", name, value, how, bound));
    }
    return rag;
}

//  A days-late rule: amber from amber days, red from red days after start;
//  schedules the next boundary.
static Pmo__Rag s_late (s_build_t *b, const char *rule, const char *dimension, const char *subject,
                        const char *what, int64_t start_ms, uint32_t amber, uint32_t red)
{
    if (start_ms < 0)
        return PMO__RAG__RAG_GREEN;
    int64_t amber_at = start_ms + (int64_t)amber * RISKMON_DAY_MS;
    int64_t red_at = start_ms + (int64_t)red * RISKMON_DAY_MS;
    s_due (b, amber_at);
    s_due (b, red_at);
    int64_t days = b->now >= start_ms ? (b->now - start_ms) / RISKMON_DAY_MS : 0;
    Pmo__Rag rag = b->now >= red_at     ? PMO__RAG__RAG_RED
                   : b->now >= amber_at ? PMO__RAG__RAG_AMBER
                                        : PMO__RAG__RAG_GREEN;
    if (rag != PMO__RAG__RAG_GREEN)
        s_fire (b, rule, dimension, rag, subject, (double)days,
                rag == PMO__RAG__RAG_RED ? red : amber,
                pmo_arena_printf (b->arena, "%s %lld day(s) late (%s from %u)", what,
                                  (long long)days, rag == PMO__RAG__RAG_RED ? "red" : "amber",
                                  rag == PMO__RAG__RAG_RED ? red : amber));
    return rag;
}

//  A gate milestone: "gate: execution" (or "Gate:planning"): the planned
//  date of the gate into that phase. NULL-phase (UNSPECIFIED) if not one.
static Pmo__Phase s_gate_phase (const char *name)
{
    if (!name || strncasecmp (name, "gate:", 5) != 0)
        return PMO__PHASE__PHASE_UNSPECIFIED;
    const char *p = name + 5;
    while (*p == ' ')
        p++;
    static const struct {
        const char *label;
        Pmo__Phase phase;
    } phases[] = {{"planning", PMO__PHASE__PHASE_PLANNING},
                  {"execution", PMO__PHASE__PHASE_EXECUTION},
                  {"closing", PMO__PHASE__PHASE_CLOSING},
                  {"closed", PMO__PHASE__PHASE_CLOSED}};
    for (size_t i = 0; i < 4; i++)
        if (strncasecmp (p, phases[i].label, strlen (phases[i].label)) == 0)
            return phases[i].phase;
    return PMO__PHASE__PHASE_UNSPECIFIED;
}

static const char *s_phase_label (Pmo__Phase phase)
{
    static const char *labels[] = {"unspecified", "initiation", "planning",
                                   "execution",   "closing",    "closed"};
    return (unsigned)phase < 6 ? labels[phase] : "unspecified";
}

//  The rag a slip of `slip` days earns.
static Pmo__Rag s_slip_rag (int64_t slip, const Pmo__Thresholds *t)
{
    return slip >= t->slip_red_days     ? PMO__RAG__RAG_RED
           : slip >= t->slip_amber_days ? PMO__RAG__RAG_AMBER
                                        : PMO__RAG__RAG_GREEN;
}

//  Earned value: SPI into *schedule, CPI into *cost.
static void s_assess_earned_value (s_build_t *b, const Pmo__HealthInputs *in,
                                   const Pmo__Thresholds *t, Pmo__Rag *schedule, Pmo__Rag *cost)
{
    Pmo__HealthAssessment *out = b->out;
    if (pmo_str_empty (in->report_id))
        return;
    out->has_spi = riskmon_ev_index (in->ev_minor, in->pv_minor, &out->spi);
    if (out->has_spi)
        *schedule =
            s_worse (*schedule, s_index (b, "spi", "schedule", out->spi, t->spi_amber_below,
                                         t->spi_red_below, t->spi_amber_above, t->spi_red_above));
    out->has_cpi = in->has_ac && riskmon_ev_index (in->ev_minor, in->ac_minor, &out->cpi);
    if (out->has_cpi)
        *cost = s_index (b, "cpi", "cost", out->cpi, t->cpi_amber_below, t->cpi_red_below,
                         t->cpi_amber_above, t->cpi_red_above);
    else
        //  Not "on budget": without actual cost there is nothing to judge
        s_fire (b, "cpi_not_available", "cost", PMO__RAG__RAG_UNSPECIFIED, NULL, 0, 0,
                in->has_ac ? "CPI not available: no actual cost incurred yet"
                           : "CPI not available: the status report has no actual cost");
}

//  Milestones: overdue and slipping into *schedule; gate milestones count
//  as gates, into *governance.
static void s_assess_milestones (s_build_t *b, const Pmo__HealthInputs *in,
                                 const Pmo__Thresholds *t, Pmo__Rag *schedule, Pmo__Rag *governance)
{
    pmo_arena_t *arena = b->arena;
    for (size_t i = 0; i < in->n_milestones; i++) {
        const Pmo__MilestoneInput *m = in->milestones[i];
        if (m->archived || !pmo_str_empty (m->actual_date))
            continue;
        const char *due_date =
            pmo_str_empty (m->forecast_date) ? m->baseline_date : m->forecast_date;
        //  Days late count from the due date: one day late the day after
        int64_t due = riskmon_date_ms (due_date);
        Pmo__Phase gate = s_gate_phase (m->name);
        if (gate != PMO__PHASE__PHASE_UNSPECIFIED) {
            if (in->phase < gate)
                *governance =
                    s_worse (*governance,
                             s_late (b, "gate_overdue", "governance", m->id,
                                     pmo_arena_printf (arena, "gate into %s", s_phase_label (gate)),
                                     due, t->gate_amber_days, t->gate_red_days));
            continue;
        }
        *schedule =
            s_worse (*schedule, s_late (b, "milestone_overdue", "schedule", m->id,
                                        pmo_arena_printf (arena, "milestone '%s'", m->name), due,
                                        t->milestone_amber_days, t->milestone_red_days));
        int64_t baseline = riskmon_date_ms (m->baseline_date);
        int64_t forecast = riskmon_date_ms (m->forecast_date);
        if (baseline >= 0 && forecast > baseline) {
            int64_t slip = (forecast - baseline) / RISKMON_DAY_MS;
            Pmo__Rag rag = s_slip_rag (slip, t);
            if (rag != PMO__RAG__RAG_GREEN)
                s_fire (b, "milestone_slip", "schedule", rag, m->id, (double)slip,
                        rag == PMO__RAG__RAG_RED ? t->slip_red_days : t->slip_amber_days,
                        pmo_arena_printf (arena,
                                          "milestone '%s' forecast %lld day(s) after its "
                                          "baseline",
                                          m->name, (long long)slip));
            *schedule = s_worse (*schedule, rag);
        }
    }
}

//  The finish: forecast beyond the baseline (*schedule), and the gate out
//  of delivery once the baseline finish passed (*governance).
static void s_assess_finish (s_build_t *b, const Pmo__HealthInputs *in, const Pmo__Thresholds *t,
                             Pmo__Rag *schedule, Pmo__Rag *governance)
{
    int64_t baseline_finish = riskmon_date_ms (in->baseline_finish);
    int64_t forecast_finish = riskmon_date_ms (in->forecast_finish);
    if (baseline_finish >= 0 && forecast_finish > baseline_finish) {
        int64_t slip = (forecast_finish - baseline_finish) / RISKMON_DAY_MS;
        Pmo__Rag rag = s_slip_rag (slip, t);
        if (rag != PMO__RAG__RAG_GREEN)
            s_fire (b, "forecast_finish", "schedule", rag, in->project_id, (double)slip,
                    rag == PMO__RAG__RAG_RED ? t->slip_red_days : t->slip_amber_days,
                    pmo_arena_printf (b->arena,
                                      "forecast finish %s is %lld day(s) after the baseline %s",
                                      in->forecast_finish, (long long)slip, in->baseline_finish));
        *schedule = s_worse (*schedule, rag);
    }
    //  The gate out of delivery: past the baseline finish and not closing
    if (baseline_finish >= 0 && in->phase < PMO__PHASE__PHASE_CLOSING)
        *governance =
            s_worse (*governance, s_late (b, "gate_overdue", "governance", "closing",
                                          "gate into closing (baseline finish passed)",
                                          baseline_finish, t->gate_amber_days, t->gate_red_days));
}

//  Open risks by residual score.
static Pmo__Rag s_assess_risks (s_build_t *b, const Pmo__HealthInputs *in, const Pmo__Thresholds *t)
{
    pmo_arena_t *arena = b->arena;
    Pmo__Rag risk = PMO__RAG__RAG_GREEN;
    uint32_t high = 0;
    for (size_t i = 0; i < in->n_open_risks; i++) {
        const Pmo__OpenRisk *r = in->open_risks[i];
        if (r->residual_score >= t->risk_critical_score) {
            s_fire (b, "risk_critical", "risk", PMO__RAG__RAG_RED, r->id, r->residual_score,
                    t->risk_critical_score,
                    pmo_arena_printf (arena, "risk '%s' residual score %u >= %u (critical)",
                                      r->title, r->residual_score, t->risk_critical_score));
            risk = PMO__RAG__RAG_RED;
        } else if (r->residual_score >= t->risk_high_score)
            high++;
    }
    if (high) {
        s_fire (b, "risk_high", "risk", PMO__RAG__RAG_AMBER, NULL, high, t->risk_high_score,
                pmo_arena_printf (arena, "%u open risk(s) with residual score >= %u (high)", high,
                                  t->risk_high_score));
        risk = s_worse (risk, PMO__RAG__RAG_AMBER);
    }
    return risk;
}

//  Over-allocated resources working on the project.
static Pmo__Rag s_assess_resources (s_build_t *b, const Pmo__HealthInputs *in,
                                    const Pmo__Thresholds *t)
{
    pmo_arena_t *arena = b->arena;
    Pmo__Rag resources = PMO__RAG__RAG_GREEN;
    if (in->n_overallocated) {
        size_t n = in->n_overallocated;
        Pmo__Rag rag = n >= t->overallocated_red     ? PMO__RAG__RAG_RED
                       : n >= t->overallocated_amber ? PMO__RAG__RAG_AMBER
                                                     : PMO__RAG__RAG_GREEN;
        if (rag != PMO__RAG__RAG_GREEN) {
            const Pmo__ResourceFlag *first = in->overallocated[0];
            s_fire (b, "overallocated", "resources", rag, first->resource_id, (double)n,
                    rag == PMO__RAG__RAG_RED ? t->overallocated_red : t->overallocated_amber,
                    pmo_arena_printf (arena,
                                      "%zu over-allocated resource(s), e.g. %s booked %u h of %u "
                                      "h",
                                      n,
                                      pmo_str_empty (first->resource_name) ? first->resource_id
                                                                           : first->resource_name,
                                      first->worst_week_booked_hours,
                                      first->worst_week_capacity_hours));
        }
        resources = rag;
    }
    return resources;
}

//  Stale reporting: only projects that are meant to report.
static Pmo__Rag s_assess_reporting (s_build_t *b, const Pmo__HealthInputs *in,
                                    const Pmo__Thresholds *t)
{
    bool has_report = !pmo_str_empty (in->report_id);
    Pmo__Rag reporting = PMO__RAG__RAG_GREEN;
    bool reporting_due = in->status == PMO__PROJECT_STATUS__PROJECT_STATUS_APPROVED ||
                         in->status == PMO__PROJECT_STATUS__PROJECT_STATUS_ACTIVE;
    if (reporting_due) {
        uint32_t period =
            in->reporting_period_days ? in->reporting_period_days : t->default_reporting_days;
        int64_t since = has_report ? riskmon_date_ms (in->report_period_end) + RISKMON_DAY_MS
                                   : in->project_created_ms;
        if (since > 0)
            reporting = s_late (b, "report_stale", "reporting", in->report_id,
                                has_report ? "the last status report is"
                                           : "no status report yet; the project is",
                                since, period, period * t->stale_red_periods);
    }
    return reporting;
}

void riskmon_assess (const Pmo__HealthInputs *in, const Pmo__Thresholds *t, int64_t now,
                     pmo_arena_t *arena, Pmo__HealthAssessment *out)
{
    pmo__health_assessment__init (out);
    out->project_id = in->project_id;
    out->org_unit = in->org_unit;
    out->org_unit_path = in->org_unit_path;
    out->division = in->division;
    out->inputs = (Pmo__HealthInputs *)in;
    out->assessed_ms = now;
    //  Benefits are realised after delivery too: their rules hold either way
    //  and colour nothing (riskmon_benefits.c)
    Pmo__FiredRule **benefits;
    size_t n_benefits = riskmon_benefit_rules (in, arena, &benefits);
    if (!riskmon_project_live (in)) {
        out->fired = benefits;
        out->n_fired = n_benefits;
        return; //  not being delivered: no colour
    }
    s_build_t b = {.out = out, .arena = arena, .now = now};
    //  In this order: the rules fire (and are listed) as they are met
    Pmo__Rag schedule = PMO__RAG__RAG_GREEN, cost = PMO__RAG__RAG_UNSPECIFIED;
    Pmo__Rag governance = PMO__RAG__RAG_GREEN;
    s_assess_earned_value (&b, in, t, &schedule, &cost);
    s_assess_milestones (&b, in, t, &schedule, &governance);
    s_assess_finish (&b, in, t, &schedule, &governance);
    Pmo__Rag risk = s_assess_risks (&b, in, t);
    Pmo__Rag resources = s_assess_resources (&b, in, t);
    Pmo__Rag reporting = s_assess_reporting (&b, in, t);

    out->schedule = schedule;
    out->cost = cost;
    out->risk = risk;
    out->resources = resources;
    out->reporting = reporting;
    out->governance = governance;
    Pmo__Rag overall = PMO__RAG__RAG_GREEN;
    overall = s_worse (overall, schedule);
    overall = s_worse (overall, cost);
    overall = s_worse (overall, risk);
    overall = s_worse (overall, resources);
    overall = s_worse (overall, reporting);
    overall = s_worse (overall, governance);
    out->overall = overall;
    for (size_t i = 0; i < n_benefits; i++)
        s_fire (&b, benefits[i]->rule, benefits[i]->dimension, benefits[i]->rag,
                benefits[i]->subject_id, benefits[i]->value, benefits[i]->threshold,
                benefits[i]->detail);
    out->fired = b.fired;
    out->n_fired = b.n_fired;
    out->next_due_ms = b.next_due;
}

bool riskmon_health_differs (const Pmo__HealthAssessment *a, const Pmo__HealthAssessment *b)
{
    if (!a || !b)
        return a != b;
    if (a->overall != b->overall || a->schedule != b->schedule || a->cost != b->cost ||
        a->risk != b->risk || a->resources != b->resources || a->reporting != b->reporting ||
        a->governance != b->governance)
        return true;
    //  The same colours for other reasons is a change people want to see
    //  too (a different rule is now why it is amber)
    if (a->n_fired != b->n_fired)
        return true;
    for (size_t i = 0; i < a->n_fired; i++)
        if (strcmp (a->fired[i]->rule, b->fired[i]->rule) != 0 ||
            a->fired[i]->rag != b->fired[i]->rag ||
            strcmp (a->fired[i]->subject_id, b->fired[i]->subject_id) != 0)
            return true;
    return false;
}

//  ---------------------------------------------------------------------
//  Alerts

const char *riskmon_alert_kind_name (Pmo__AlertKind kind)
{
    switch (kind) {
    case PMO__ALERT_KIND__ALERT_KIND_HEALTH:
        return "health";
    case PMO__ALERT_KIND__ALERT_KIND_RISK_CRITICAL:
        return "risk_critical";
    case PMO__ALERT_KIND__ALERT_KIND_MILESTONE_OVERDUE:
        return "milestone_overdue";
    case PMO__ALERT_KIND__ALERT_KIND_GATE_OVERDUE:
        return "gate_overdue";
    case PMO__ALERT_KIND__ALERT_KIND_BENEFIT_LAGGING:
        return "benefit_lagging";
    default:
        return "unspecified";
    }
}

static Pmo__AlertSeverity s_severity (Pmo__Rag rag)
{
    return rag == PMO__RAG__RAG_RED ? PMO__ALERT_SEVERITY__ALERT_SEVERITY_CRITICAL
                                    : PMO__ALERT_SEVERITY__ALERT_SEVERITY_WARNING;
}

size_t riskmon_alerts_wanted (const Pmo__HealthAssessment *a, const Pmo__Thresholds *t,
                              pmo_arena_t *arena, riskmon_want_t **wants)
{
    (void)t;
    size_t max = a->n_fired + 1, n = 0;
    riskmon_want_t *list = pmo_arena_alloc (arena, max * sizeof (riskmon_want_t));
    const Pmo__HealthInputs *in = a->inputs;
    const char *code = in && !pmo_str_empty (in->code) ? in->code : a->project_id;
    const char *manager = in && !pmo_str_empty (in->manager) ? in->manager : "";
    if (a->overall == PMO__RAG__RAG_AMBER || a->overall == PMO__RAG__RAG_RED) {
        riskmon_want_t *w = &list[n++];
        w->kind = PMO__ALERT_KIND__ALERT_KIND_HEALTH;
        w->subject_id = a->project_id;
        w->severity = s_severity (a->overall);
        w->title = pmo_arena_printf (arena, "%s is %s", code, riskmon_rag_name (a->overall));
        //  The first rule of the worst colour says why
        const char *why = "";
        for (size_t i = 0; i < a->n_fired && !*why; i++)
            if (a->fired[i]->rag == a->overall)
                why = a->fired[i]->detail;
        w->detail = why;
        w->assignee = manager;
    }
    for (size_t i = 0; i < a->n_fired; i++) {
        const Pmo__FiredRule *f = a->fired[i];
        Pmo__AlertKind kind = PMO__ALERT_KIND__ALERT_KIND_UNSPECIFIED;
        if (strcmp (f->rule, "risk_critical") == 0)
            kind = PMO__ALERT_KIND__ALERT_KIND_RISK_CRITICAL;
        else if (strcmp (f->rule, "milestone_overdue") == 0)
            kind = PMO__ALERT_KIND__ALERT_KIND_MILESTONE_OVERDUE;
        else if (strcmp (f->rule, "gate_overdue") == 0)
            kind = PMO__ALERT_KIND__ALERT_KIND_GATE_OVERDUE;
        else if (strcmp (f->rule, "benefit_lagging") == 0)
            kind = PMO__ALERT_KIND__ALERT_KIND_BENEFIT_LAGGING;
        if (kind == PMO__ALERT_KIND__ALERT_KIND_UNSPECIFIED)
            continue;
        riskmon_want_t *w = &list[n++];
        w->kind = kind;
        w->subject_id = f->subject_id;
        w->severity = s_severity (f->rag);
        w->title = pmo_arena_printf (arena, "%s: %s", code, riskmon_alert_kind_name (kind));
        w->detail = f->detail;
        w->assignee = manager;
        if (kind == PMO__ALERT_KIND__ALERT_KIND_RISK_CRITICAL && in)
            for (size_t r = 0; r < in->n_open_risks; r++)
                if (strcmp (in->open_risks[r]->id, f->subject_id) == 0 &&
                    !pmo_str_empty (in->open_risks[r]->owner))
                    w->assignee = in->open_risks[r]->owner;
    }
    *wants = list;
    return n;
}

static riskmon_alert_action_t *s_action (riskmon_alert_action_t *list, size_t *n,
                                         riskmon_alert_op_t op, size_t want, size_t ref)
{
    riskmon_alert_action_t *a = &list[(*n)++];
    a->op = op;
    a->want = want;
    a->ref = ref;
    return a;
}

size_t riskmon_alerts_reconcile (Pmo__AlertRef **refs, size_t n_refs, const riskmon_want_t *wants,
                                 size_t n_wants, int64_t now, int64_t cooldown_ms,
                                 pmo_arena_t *arena, riskmon_alert_action_t **actions, int64_t *due)
{
    riskmon_alert_action_t *list =
        pmo_arena_alloc (arena, (n_refs + n_wants + 1) * sizeof (riskmon_alert_action_t));
    size_t n = 0;
    *due = 0;
    bool *matched = pmo_arena_alloc (arena, (n_refs + 1) * sizeof (bool));
    for (size_t w = 0; w < n_wants; w++) {
        const riskmon_want_t *want = &wants[w];
        size_t found = n_refs;
        for (size_t r = 0; r < n_refs && found == n_refs; r++)
            if (refs[r]->kind == want->kind && strcmp (refs[r]->subject_id, want->subject_id) == 0)
                found = r;
        if (found == n_refs) {
            s_action (list, &n, RISKMON_ALERT_RAISE, w, 0);
            continue;
        }
        Pmo__AlertRef *ref = refs[found];
        matched[found] = true;
        //  The condition holds (again): any cool-down stops, silently
        ref->cleared_since_ms = 0;
        if (!ref->suppressed && want->severity > ref->severity) {
            ref->severity = want->severity;
            s_action (list, &n, RISKMON_ALERT_RAISE_SEVERITY, w, found);
        }
    }
    for (size_t r = 0; r < n_refs; r++) {
        if (matched[r])
            continue;
        Pmo__AlertRef *ref = refs[r];
        if (ref->suppressed) {
            //  A person resolved it while it held; now it has cleared, so
            //  the next time it comes back it is news again
            s_action (list, &n, RISKMON_ALERT_RESOLVE, 0, r);
            continue;
        }
        if (!ref->cleared_since_ms)
            ref->cleared_since_ms = now;
        int64_t ends = ref->cleared_since_ms + cooldown_ms;
        if (now >= ends)
            s_action (list, &n, RISKMON_ALERT_RESOLVE, 0, r);
        else if (*due == 0 || ends < *due)
            *due = ends;
    }
    *actions = list;
    return n;
}

Pmo__EscalationLevel riskmon_escalation_next (Pmo__EscalationLevel level, bool hub_is_division)
{
    if (level == PMO__ESCALATION_LEVEL__ESCALATION_LEVEL_OWNER && !hub_is_division)
        return PMO__ESCALATION_LEVEL__ESCALATION_LEVEL_DIVISION_PMO;
    return PMO__ESCALATION_LEVEL__ESCALATION_LEVEL_HUB_PMO;
}

uint32_t riskmon_escalation_deadline_s (Pmo__EscalationLevel level, const Pmo__Thresholds *t)
{
    switch (level) {
    case PMO__ESCALATION_LEVEL__ESCALATION_LEVEL_OWNER:
        return t->escalate_owner_s;
    case PMO__ESCALATION_LEVEL__ESCALATION_LEVEL_DIVISION_PMO:
        return t->escalate_division_s;
    default:
        return 0; //  the hub PMO is the top
    }
}
