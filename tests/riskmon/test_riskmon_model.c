/*  test_riskmon_model.c: the risk monitor's pure rules: PRINCE2 scores and
    bands, validation, threshold inheritance and contradictions, health from
    its inputs (SPI/CPI bands, CPI not available, milestones going overdue
    on time, slips, risks, over-allocation, stale reports, overdue gates),
    inputs applied in any order and more than once, alert hysteresis and
    escalation steps.
*/
#include "riskmon_model.h"

#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#define DAY RISKMON_DAY_MS

static pmo_arena_t *s_arena;

static void s_scores (void)
{
    assert (riskmon_score (5, 4) == 20 &&
            riskmon_band (20) == PMO__SCORE_BAND__SCORE_BAND_CRITICAL);
    assert (riskmon_band (25) == PMO__SCORE_BAND__SCORE_BAND_CRITICAL);
    assert (riskmon_band (19) == PMO__SCORE_BAND__SCORE_BAND_HIGH);
    assert (riskmon_band (12) == PMO__SCORE_BAND__SCORE_BAND_HIGH);
    assert (riskmon_band (11) == PMO__SCORE_BAND__SCORE_BAND_MEDIUM);
    assert (riskmon_band (6) == PMO__SCORE_BAND__SCORE_BAND_MEDIUM);
    assert (riskmon_band (5) == PMO__SCORE_BAND__SCORE_BAND_LOW);
    assert (riskmon_band (2) == PMO__SCORE_BAND__SCORE_BAND_LOW);
    assert (riskmon_band (1) == PMO__SCORE_BAND__SCORE_BAND_MINIMAL);
    assert (riskmon_response_fits (PMO__RISK_KIND__RISK_KIND_THREAT,
                                   PMO__RISK_RESPONSE__RISK_RESPONSE_AVOID));
    assert (!riskmon_response_fits (PMO__RISK_KIND__RISK_KIND_THREAT,
                                    PMO__RISK_RESPONSE__RISK_RESPONSE_EXPLOIT));
    assert (riskmon_response_fits (PMO__RISK_KIND__RISK_KIND_OPPORTUNITY,
                                   PMO__RISK_RESPONSE__RISK_RESPONSE_ENHANCE));
    assert (!riskmon_response_fits (PMO__RISK_KIND__RISK_KIND_OPPORTUNITY,
                                    PMO__RISK_RESPONSE__RISK_RESPONSE_ACCEPT));
    assert (riskmon_response_fits (PMO__RISK_KIND__RISK_KIND_OPPORTUNITY,
                                   PMO__RISK_RESPONSE__RISK_RESPONSE_SHARE));
    printf ("scores and bands: ok\n");
}

static void s_risk_validation (void)
{
    pmo_problem_t problem;
    Pmo__Money cost = PMO__MONEY__INIT;
    cost.minor = 1000000;
    cost.currency = "GBP";
    Pmo__Risk risk = PMO__RISK__INIT;
    risk.project_id = "pr_dft_1";
    risk.title = "Supplier insolvency";
    risk.owner = "jane@dft";
    risk.probability = 4;
    risk.impact = 5;
    risk.residual_probability = 2;
    risk.cost_impact = &cost;
    assert (riskmon_check_risk (&risk, s_arena, &problem) == 0);
    assert (risk.inherent_score == 20 &&
            risk.inherent_band == PMO__SCORE_BAND__SCORE_BAND_CRITICAL);
    //  residual impact defaults to the inherent one: 2 x 5
    assert (risk.residual_score == 10 && risk.residual_band == PMO__SCORE_BAND__SCORE_BAND_MEDIUM);
    //  exposure = residual probability (2 = 30 %) x cost impact
    assert (risk.exposure && risk.exposure->minor == 300000 &&
            streq (risk.exposure->currency, "GBP"));
    assert (risk.kind == PMO__RISK_KIND__RISK_KIND_THREAT &&
            risk.status == PMO__RISK_STATUS__RISK_STATUS_OPEN);

    //  Titles and owners are names: one line, no controls, no bidi overrides
    risk.title = "Supplier\r\nX";
    assert (riskmon_check_risk (&risk, s_arena, &problem) == -1 && streq (problem.field, "title") &&
            strstr (problem.message, "line break"));
    risk.title = "Supplier insolvency";
    risk.owner = "jane\xe2\x80\xae"
                 "tfd@";
    assert (riskmon_check_risk (&risk, s_arena, &problem) == -1 && streq (problem.field, "owner") &&
            strstr (problem.message, "bidirectional"));
    risk.owner = "jane@dft";
    risk.probability = 6;
    assert (riskmon_check_risk (&risk, s_arena, &problem) == -1);
    assert (problem.code == PMO__ERROR_CODE__ERROR_INVALID && streq (problem.field, "probability"));
    risk.probability = 0;
    assert (riskmon_check_risk (&risk, s_arena, &problem) == -1 &&
            streq (problem.field, "probability"));
    risk.probability = 3;
    risk.residual_impact = 9;
    assert (riskmon_check_risk (&risk, s_arena, &problem) == -1 &&
            streq (problem.field, "residual_impact"));
    risk.residual_impact = 0;
    risk.response = PMO__RISK_RESPONSE__RISK_RESPONSE_EXPLOIT;
    assert (riskmon_check_risk (&risk, s_arena, &problem) == -1 &&
            streq (problem.field, "response"));
    risk.response = PMO__RISK_RESPONSE__RISK_RESPONSE_REDUCE;
    risk.owner = "";
    assert (riskmon_check_risk (&risk, s_arena, &problem) == -1 && streq (problem.field, "owner"));
    risk.owner = "jane@dft";
    cost.currency = "pounds";
    assert (riskmon_check_risk (&risk, s_arena, &problem) == -1 &&
            streq (problem.field, "cost_impact.currency"));
    cost.currency = "GBP";
    risk.review_date = "2026-02-30";
    assert (riskmon_check_risk (&risk, s_arena, &problem) == -1 &&
            streq (problem.field, "review_date"));

    Pmo__Issue issue = PMO__ISSUE__INIT;
    issue.project_id = "pr_dft_1";
    issue.title = "Vendor late";
    assert (riskmon_check_issue (&issue, &problem) == -1 && streq (problem.field, "type"));
    issue.type = PMO__ISSUE_TYPE__ISSUE_TYPE_PROBLEM_CONCERN;
    assert (riskmon_check_issue (&issue, &problem) == 0 && issue.priority == 3 &&
            issue.severity == PMO__ISSUE_SEVERITY__ISSUE_SEVERITY_MEDIUM);
    issue.status = PMO__ISSUE_STATUS__ISSUE_STATUS_RESOLVED;
    assert (riskmon_check_issue (&issue, &problem) == -1 && streq (problem.field, "resolution"));

    Pmo__RaidEntry raid = PMO__RAID_ENTRY__INIT;
    raid.project_id = "pr_dft_1";
    raid.title = "Needs the signalling upgrade";
    raid.kind = PMO__RAID_KIND__RAID_KIND_DEPENDENCY;
    raid.depends_on_project = "pr_dft_1";
    assert (riskmon_check_raid (&raid, &problem) == -1 &&
            streq (problem.field, "depends_on_project"));
    raid.depends_on_project = "pr_ops_7";
    assert (riskmon_check_raid (&raid, &problem) == 0);

    Pmo__ChangeRequest change = PMO__CHANGE_REQUEST__INIT;
    change.project_id = "pr_dft_1";
    change.title = "Add a platform";
    change.schedule_impact_days = 4000;
    assert (riskmon_check_change (&change, &problem) == -1 &&
            streq (problem.field, "schedule_impact_days"));
    change.schedule_impact_days = -20; //  a change may bring the finish forward
    assert (riskmon_check_change (&change, &problem) == 0 &&
            change.decision == PMO__CHANGE_DECISION__CHANGE_DECISION_PENDING);
    printf ("register validation: ok\n");
}

static void s_thresholds (void)
{
    pmo_problem_t problem;
    Pmo__Thresholds defaults, own = PMO__THRESHOLDS__INIT, effective;
    riskmon_thresholds_defaults (&defaults);
    assert (defaults.spi_amber_below == 0.95 && defaults.spi_red_below == 0.90);
    assert (riskmon_thresholds_consistent (&defaults, &problem) == 0);
    //  amber stricter than red: a contradiction, named by field
    own.spi_amber_below = 0.85;
    effective = defaults;
    riskmon_thresholds_merge (&effective, &own);
    assert (effective.spi_amber_below == 0.85 && effective.spi_red_below == 0.90);
    assert (riskmon_thresholds_consistent (&effective, &problem) == -1);
    assert (problem.code == PMO__ERROR_CODE__ERROR_INVALID &&
            streq (problem.field, "spi_amber_below"));
    own.spi_amber_below = 0;
    own.risk_high_score = 22; //  high above critical (20)
    effective = defaults;
    riskmon_thresholds_merge (&effective, &own);
    assert (riskmon_thresholds_consistent (&effective, &problem) == -1 &&
            streq (problem.field, "risk_high_score"));
    //  out of range
    own.risk_high_score = 30;
    assert (riskmon_thresholds_check (&own, &problem) == -1 &&
            streq (problem.field, "risk_high_score"));
    own.risk_high_score = 0;
    own.spi_red_below = NAN;
    assert (riskmon_thresholds_check (&own, &problem) == -1);
    own.spi_red_below = 0;
    //  Tightening is fine under a controlling PMO; loosening is not
    own.milestone_red_days = 7;
    effective = defaults;
    riskmon_thresholds_merge (&effective, &own);
    assert (riskmon_thresholds_tightens (&defaults, &effective, PMO__PMO_TYPE__PMO_TYPE_CONTROLLING,
                                         &problem) == 0);
    own.milestone_red_days = 60;
    effective = defaults;
    riskmon_thresholds_merge (&effective, &own);
    assert (riskmon_thresholds_tightens (&defaults, &effective, PMO__PMO_TYPE__PMO_TYPE_DIRECTIVE,
                                         &problem) == -1);
    assert (problem.code == PMO__ERROR_CODE__ERROR_FAILED_PRECONDITION &&
            streq (problem.field, "milestone_red_days"));
    //  ... unless the PMO above is supportive
    assert (riskmon_thresholds_tightens (&defaults, &effective, PMO__PMO_TYPE__PMO_TYPE_SUPPORTIVE,
                                         &problem) == 0);
    printf ("thresholds: ok\n");
}

//  A live project at 2026-03-01 with nothing wrong.
static Pmo__HealthInputs *s_inputs (void)
{
    Pmo__HealthInputs *in = pmo_arena_alloc (s_arena, sizeof (Pmo__HealthInputs));
    pmo__health_inputs__init (in);
    Pmo__Project project = PMO__PROJECT__INIT;
    project.id = "pr_dft_1";
    project.code = "DFT-1";
    project.org_unit = "dft";
    project.org_unit_path = "hub/dft";
    project.division = "dft";
    project.manager = "pm@dft";
    project.phase = PMO__PHASE__PHASE_EXECUTION;
    project.status = PMO__PROJECT_STATUS__PROJECT_STATUS_ACTIVE;
    project.version = 1;
    project.created_ms = riskmon_date_ms ("2026-02-20");
    assert (riskmon_apply_project (in, &project));
    in->project_id = "pr_dft_1";
    in->code = "DFT-1";
    in->org_unit_path = "hub/dft";
    in->manager = "pm@dft";
    return in;
}

static const Pmo__FiredRule *s_fired (const Pmo__HealthAssessment *a, const char *rule)
{
    for (size_t i = 0; i < a->n_fired; i++)
        if (streq (a->fired[i]->rule, rule))
            return a->fired[i];
    return NULL;
}

static Pmo__HealthAssessment *s_assess (Pmo__HealthInputs *in, const Pmo__Thresholds *t,
                                        int64_t now)
{
    Pmo__HealthAssessment *a = pmo_arena_alloc (s_arena, sizeof (Pmo__HealthAssessment));
    riskmon_assess (in, t, now, s_arena, a);
    return a;
}

static void s_report (Pmo__HealthInputs *in, const char *id, const char *period_end, int64_t pv,
                      int64_t ev, int64_t ac, bool has_ac)
{
    Pmo__StatusReport r = PMO__STATUS_REPORT__INIT;
    r.id = (char *)id;
    r.project_id = "pr_dft_1";
    r.period_end = (char *)period_end;
    r.pv_minor = pv;
    r.ev_minor = ev;
    r.ac_minor = ac;
    r.has_ac = has_ac;
    r.overall = PMO__RAG__RAG_GREEN;
    r.created_ms = riskmon_date_ms (period_end);
    riskmon_apply_report (in, &r);
}

static void s_health_earned_value (void)
{
    Pmo__Thresholds t;
    riskmon_thresholds_defaults (&t);
    int64_t now = riskmon_date_ms ("2026-03-01") + 3600000;
    Pmo__HealthInputs *in = s_inputs ();
    //  No report yet: green schedule, cost not available (not green)
    Pmo__HealthAssessment *a = s_assess (in, &t, now);
    assert (a->overall == PMO__RAG__RAG_GREEN && a->cost == PMO__RAG__RAG_UNSPECIFIED);
    assert (!a->has_spi && !a->has_cpi);
    //  SPI bands (FEMA): 1.00 green, 0.93 amber, 0.85 red, 1.08 amber, 1.20 red
    struct {
        int64_t ev;
        Pmo__Rag rag;
    } cases[] = {{1000, PMO__RAG__RAG_GREEN}, {950, PMO__RAG__RAG_GREEN},
                 {930, PMO__RAG__RAG_AMBER},  {900, PMO__RAG__RAG_AMBER},
                 {850, PMO__RAG__RAG_RED},    {1080, PMO__RAG__RAG_AMBER},
                 {1050, PMO__RAG__RAG_GREEN}, {1200, PMO__RAG__RAG_RED}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char id[16];
        snprintf (id, sizeof id, "sr_dft_%zu", i + 1);
        s_report (in, pmo_arena_strdup (s_arena, id), "2026-02-28", 1000, cases[i].ev, 0, false);
        a = s_assess (in, &t, now);
        assert (a->has_spi && fabs (a->spi - cases[i].ev / 1000.0) < 1e-9);
        assert (a->schedule == cases[i].rag && a->overall == cases[i].rag);
        //  Without actual cost, CPI is not available, and says why
        assert (!a->has_cpi && a->cost == PMO__RAG__RAG_UNSPECIFIED);
        assert (s_fired (a, "cpi_not_available"));
        if (cases[i].rag != PMO__RAG__RAG_GREEN)
            assert (s_fired (a, "spi") && s_fired (a, "spi")->rag == cases[i].rag);
    }
    //  With actual cost: CPI = EV / AC
    s_report (in, "sr_dft_20", "2026-02-28", 1000, 1000, 1250, true);
    a = s_assess (in, &t, now);
    assert (a->has_cpi && fabs (a->cpi - 0.8) < 1e-9 && a->cost == PMO__RAG__RAG_RED);
    assert (a->overall == PMO__RAG__RAG_RED && a->schedule == PMO__RAG__RAG_GREEN);
    const Pmo__FiredRule *cpi = s_fired (a, "cpi");
    assert (cpi && cpi->threshold == 0.90 && strstr (cpi->detail, "CPI 0.80"));
    //  An older report arriving later does not replace the latest
    s_report (in, "sr_dft_21", "2026-01-31", 1000, 1000, 1000, true);
    assert (streq (in->report_id, "sr_dft_20") && in->reports_seen == 10);
    printf ("health from earned value: ok\n");
}

static void s_health_time_rules (void)
{
    Pmo__Thresholds t;
    riskmon_thresholds_defaults (&t);
    int64_t today = riskmon_date_ms ("2026-03-01");
    Pmo__HealthInputs *in = s_inputs ();
    s_report (in, "sr_dft_1", "2026-02-28", 100, 100, 100, true);
    Pmo__Milestone m = PMO__MILESTONE__INIT;
    m.id = "ms_dft_1";
    m.project_id = "pr_dft_1";
    m.name = "Design signed off";
    m.baseline_date = "2026-03-01";
    m.version = 1;
    assert (riskmon_apply_milestone (in, &m, s_arena));
    //  Due today: not late; the next boundary is tomorrow 00:00
    Pmo__HealthAssessment *a = s_assess (in, &t, today + 10 * 3600000);
    assert (a->overall == PMO__RAG__RAG_GREEN);
    assert (a->next_due_ms == today + DAY);
    //  One day late: amber, and red fires 14 days after the due date
    a = s_assess (in, &t, today + DAY);
    assert (a->schedule == PMO__RAG__RAG_AMBER && s_fired (a, "milestone_overdue"));
    assert (streq (s_fired (a, "milestone_overdue")->subject_id, "ms_dft_1"));
    assert (a->next_due_ms == today + 14 * DAY);
    a = s_assess (in, &t, today + 14 * DAY);
    assert (a->schedule == PMO__RAG__RAG_RED);
    //  Achieved: nothing late (an older version arriving later changes nothing)
    m.actual_date = "2026-03-03";
    m.version = 2;
    assert (riskmon_apply_milestone (in, &m, s_arena));
    m.actual_date = "";
    m.version = 1;
    assert (!riskmon_apply_milestone (in, &m, s_arena));
    a = s_assess (in, &t, today + 20 * DAY);
    assert (!s_fired (a, "milestone_overdue"));
    //  Stale reporting: 30 days by default after the period end, red after two periods
    assert (s_fired (a, "report_stale") == NULL);
    a = s_assess (in, &t, today + 31 * DAY);
    assert (a->reporting == PMO__RAG__RAG_AMBER);
    in->reporting_period_days = 14; //  the unit's policy says 14
    a = s_assess (in, &t, today + 30 * DAY);
    assert (a->reporting == PMO__RAG__RAG_RED);
    //  Forecast finish beyond baseline
    in->reporting_period_days = 0;
    s_report (in, "sr_dft_2", "2026-03-20", 100, 100, 100, true);
    in->baseline_finish = "2026-12-31";
    in->forecast_finish = "2027-01-15";
    a = s_assess (in, &t, today + 20 * DAY);
    assert (a->schedule == PMO__RAG__RAG_AMBER && s_fired (a, "forecast_finish"));
    in->forecast_finish = "2027-03-01";
    a = s_assess (in, &t, today + 20 * DAY);
    assert (a->schedule == PMO__RAG__RAG_RED);
    in->forecast_finish = "";
    //  A gate milestone: the gate into closing was due; still in execution
    Pmo__Milestone gate = PMO__MILESTONE__INIT;
    gate.id = "ms_dft_2";
    gate.project_id = "pr_dft_1";
    gate.name = "Gate: closing";
    gate.baseline_date = "2026-03-10";
    gate.version = 1;
    riskmon_apply_milestone (in, &gate, s_arena);
    a = s_assess (in, &t, today + 12 * DAY);
    assert (a->governance == PMO__RAG__RAG_AMBER && s_fired (a, "gate_overdue"));
    assert (!s_fired (a, "milestone_overdue")); //  a gate, not an ordinary milestone
    in->phase = PMO__PHASE__PHASE_CLOSING;
    a = s_assess (in, &t, today + 12 * DAY);
    assert (a->governance == PMO__RAG__RAG_GREEN);
    //  Closed projects have no colour
    in->phase = PMO__PHASE__PHASE_CLOSED;
    a = s_assess (in, &t, today + 12 * DAY);
    assert (a->overall == PMO__RAG__RAG_UNSPECIFIED && a->n_fired == 0 && a->next_due_ms == 0);
    printf ("health from time rules: ok\n");
}

static void s_health_risks_resources (void)
{
    Pmo__Thresholds t;
    riskmon_thresholds_defaults (&t);
    int64_t now = riskmon_date_ms ("2026-03-01");
    Pmo__HealthInputs *in = s_inputs ();
    Pmo__Risk risk = PMO__RISK__INIT;
    risk.id = "rk_dft_1";
    risk.title = "Strike";
    risk.owner = "ro@dft";
    risk.residual_score = 16;
    risk.status = PMO__RISK_STATUS__RISK_STATUS_OPEN;
    risk.kind = PMO__RISK_KIND__RISK_KIND_THREAT;
    riskmon_apply_risk (in, &risk, s_arena);
    Pmo__HealthAssessment *a = s_assess (in, &t, now);
    assert (a->risk == PMO__RAG__RAG_AMBER && s_fired (a, "risk_high"));
    risk.residual_score = 20;
    riskmon_apply_risk (in, &risk, s_arena);
    assert (in->n_open_risks == 1);
    a = s_assess (in, &t, now);
    assert (a->risk == PMO__RAG__RAG_RED && a->overall == PMO__RAG__RAG_RED);
    riskmon_want_t *wants;
    size_t n = riskmon_alerts_wanted (a, &t, s_arena, &wants);
    //  health red, and the critical risk (assigned to its owner)
    assert (n == 2 && wants[1].kind == PMO__ALERT_KIND__ALERT_KIND_RISK_CRITICAL &&
            streq (wants[1].assignee, "ro@dft") && streq (wants[0].assignee, "pm@dft"));
    //  Opportunities do not colour health
    risk.kind = PMO__RISK_KIND__RISK_KIND_OPPORTUNITY;
    riskmon_apply_risk (in, &risk, s_arena);
    assert (in->n_open_risks == 0);
    //  Over-allocation: newest entry per resource wins, in any order
    Pmo__ProjectHealth ph = PMO__PROJECT_HEALTH__INIT;
    ph.inputs = in;
    char *weeks[] = {"2026-W10"};
    assert (riskmon_apply_overallocation (&ph, "pr_dft_1", "rs_dft_1", "Ann", weeks, 1, 50, 37,
                                          true, "1000-0", s_arena));
    a = s_assess (in, &t, now);
    assert (a->resources == PMO__RAG__RAG_AMBER && s_fired (a, "overallocated"));
    assert (!riskmon_apply_overallocation (&ph, "pr_dft_1", "rs_dft_1", "Ann", weeks, 1, 0, 0,
                                           false, "999-5", s_arena));
    assert (riskmon_apply_overallocation (&ph, "pr_dft_1", "rs_dft_2", "Bo", weeks, 1, 45, 37, true,
                                          "1001-0", s_arena));
    assert (riskmon_apply_overallocation (&ph, "pr_dft_1", "rs_dft_3", "Cy", weeks, 1, 45, 37, true,
                                          "1001-1", s_arena));
    a = s_assess (in, &t, now);
    assert (a->resources == PMO__RAG__RAG_RED);
    assert (riskmon_apply_overallocation (&ph, "pr_dft_1", "rs_dft_1", "Ann", weeks, 1, 0, 0, false,
                                          "1002-0", s_arena));
    a = s_assess (in, &t, now);
    assert (a->resources == PMO__RAG__RAG_AMBER && in->n_overallocated == 2);
    printf ("health from risks and resources: ok\n");
}

static void s_alert_hysteresis (void)
{
    int64_t now = 1000000, cooldown = 60000;
    riskmon_want_t want = {PMO__ALERT_KIND__ALERT_KIND_HEALTH,
                           "pr_dft_1",
                           PMO__ALERT_SEVERITY__ALERT_SEVERITY_WARNING,
                           "DFT-1 is amber",
                           "",
                           ""};
    Pmo__AlertRef ref = PMO__ALERT_REF__INIT;
    ref.kind = want.kind;
    ref.subject_id = "pr_dft_1";
    ref.alert_id = "al_dft_1";
    ref.severity = want.severity;
    Pmo__AlertRef *refs[] = {&ref};
    riskmon_alert_action_t *actions;
    int64_t due;
    //  No alert yet: raise
    assert (riskmon_alerts_reconcile (NULL, 0, &want, 1, now, cooldown, s_arena, &actions, &due) ==
            1);
    assert (actions[0].op == RISKMON_ALERT_RAISE);
    //  Standing and still wanted: nothing
    assert (riskmon_alerts_reconcile (refs, 1, &want, 1, now, cooldown, s_arena, &actions, &due) ==
            0);
    //  Flapping: clear, back, clear, back... never an action within the cool-down
    for (int i = 0; i < 10; i++) {
        now += 1000;
        assert (riskmon_alerts_reconcile (refs, 1, NULL, 0, now, cooldown, s_arena, &actions,
                                          &due) == 0);
        assert (ref.cleared_since_ms == now && due == now + cooldown);
        now += 1000;
        assert (riskmon_alerts_reconcile (refs, 1, &want, 1, now, cooldown, s_arena, &actions,
                                          &due) == 0);
        assert (ref.cleared_since_ms == 0);
    }
    //  Worse: one update
    want.severity = PMO__ALERT_SEVERITY__ALERT_SEVERITY_CRITICAL;
    assert (riskmon_alerts_reconcile (refs, 1, &want, 1, now, cooldown, s_arena, &actions, &due) ==
            1);
    assert (actions[0].op == RISKMON_ALERT_RAISE_SEVERITY);
    //  Clear for the whole cool-down: resolved
    assert (riskmon_alerts_reconcile (refs, 1, NULL, 0, now, cooldown, s_arena, &actions, &due) ==
            0);
    assert (riskmon_alerts_reconcile (refs, 1, NULL, 0, now + cooldown, cooldown, s_arena, &actions,
                                      &due) == 1);
    assert (actions[0].op == RISKMON_ALERT_RESOLVE);
    //  Escalation: owner -> division PMO -> hub PMO; a hub project goes straight to the hub
    Pmo__Thresholds t;
    riskmon_thresholds_defaults (&t);
    assert (riskmon_escalation_next (PMO__ESCALATION_LEVEL__ESCALATION_LEVEL_OWNER, false) ==
            PMO__ESCALATION_LEVEL__ESCALATION_LEVEL_DIVISION_PMO);
    assert (riskmon_escalation_next (PMO__ESCALATION_LEVEL__ESCALATION_LEVEL_DIVISION_PMO, false) ==
            PMO__ESCALATION_LEVEL__ESCALATION_LEVEL_HUB_PMO);
    assert (riskmon_escalation_next (PMO__ESCALATION_LEVEL__ESCALATION_LEVEL_OWNER, true) ==
            PMO__ESCALATION_LEVEL__ESCALATION_LEVEL_HUB_PMO);
    assert (riskmon_escalation_deadline_s (PMO__ESCALATION_LEVEL__ESCALATION_LEVEL_OWNER, &t) ==
            86400);
    assert (riskmon_escalation_deadline_s (PMO__ESCALATION_LEVEL__ESCALATION_LEVEL_HUB_PMO, &t) ==
            0);
    printf ("alert hysteresis and escalation: ok\n");
}

static void s_access (void)
{
    Pmo__Grant viewer = PMO__GRANT__INIT, risk = PMO__GRANT__INIT;
    viewer.role = PMO__ROLE__ROLE_VIEWER;
    viewer.org_unit = "hub";
    risk.role = PMO__ROLE__ROLE_RISK_MANAGER;
    risk.org_unit = "dft";
    Pmo__Grant *grants[] = {&viewer, &risk};
    Pmo__Identity who = PMO__IDENTITY__INIT;
    who.subject = "rm@dft";
    who.grants = grants;
    who.n_grants = 2;
    assert (riskmon_allowed (&who, RISKMON_READ, "hub/ops"));
    assert (!riskmon_allowed (&who, RISKMON_WRITE, "hub/ops"));
    assert (riskmon_allowed (&who, RISKMON_WRITE, "hub/dft/dft-rail"));
    assert (!riskmon_allowed (&who, RISKMON_DECIDE, "hub/dft"));
    assert (!riskmon_allowed (&who, RISKMON_CONFIGURE, "hub/dft"));
    //  "dft" is a component, not a prefix: "hub/dftx" is another unit
    assert (!riskmon_allowed (&who, RISKMON_WRITE, "hub/dftx"));
    char division[40];
    assert (pmo_id_division ("rk_dft-rail_12", "rk", division, sizeof division) == 0 &&
            streq (division, "dft-rail"));
    assert (pmo_id_division ("rk_dft_", "rk", division, sizeof division) == -1);
    assert (pmo_id_division ("is_dft_1", "rk", division, sizeof division) == -1);
    printf ("access: ok\n");
}

int main (void)
{
    s_arena = pmo_arena_new ();
    s_scores ();
    s_risk_validation ();
    s_thresholds ();
    s_health_earned_value ();
    s_health_time_rules ();
    s_health_risks_resources ();
    s_alert_hysteresis ();
    s_access ();
    pmo_arena_destroy (&s_arena);
    printf ("test_riskmon_model: ok\n");
    return 0;
}
