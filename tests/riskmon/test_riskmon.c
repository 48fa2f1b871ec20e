/*  test_riskmon.c: the risk monitor end to end, over real ZeroMQ sockets
    against a real redis-server and a real registry: health from status
    reports (SPI/CPI bands, CPI not available), from milestones going
    overdue as time passes, from critical risks and from an over-allocation
    event; roll-ups that sum before dividing; alerts that climb on time and
    stop when acknowledged; a flapping project that does not storm; the
    registers with versions, history, access control and filters; bad input;
    the reporting period from a unit's policy as it changes; projects
    named by code.
*/
#include "riskmon_harness.h"

#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#define RM_REQUEST(name, member, CASE)                                                             \
    Pmo__RiskmonRequest name = PMO__RISKMON_REQUEST__INIT;                                         \
    name.body_case = PMO__RISKMON_REQUEST__BODY_##CASE;                                            \
    name.member

static char *s_project (rm_t *rm, const char *code, const char *unit, char *out)
{
    Pmo__RegistryReply *reply = rh_project (rm->rh, code, unit);
    rh_ok (reply);
    strcpy (out, reply->project->id);
    rh_free (&reply);
    return out;
}

static void s_report (rm_t *rm, const char *project, int64_t pv, int64_t ev, int64_t ac,
                      bool has_ac, const char *period_end)
{
    Pmo__StatusReport report = PMO__STATUS_REPORT__INIT;
    report.project_id = (char *)project;
    report.period_end = (char *)period_end;
    report.overall = PMO__RAG__RAG_GREEN;
    report.pv_minor = pv;
    report.ev_minor = ev;
    report.ac_minor = ac;
    report.has_ac = has_ac;
    Pmo__RegistryRequest request = PMO__REGISTRY_REQUEST__INIT;
    request.body_case = PMO__REGISTRY_REQUEST__BODY_SUBMIT_STATUS_REPORT;
    request.submit_status_report = &report;
    Pmo__RegistryReply *reply = rh_call (rm->rh, &request);
    rh_ok (reply);
    rh_free (&reply);
}

static Pmo__RiskmonReply *s_create_risk (rm_t *rm, const char *project, uint32_t p, uint32_t i,
                                         const char *owner, int64_t cost)
{
    Pmo__Money money = PMO__MONEY__INIT;
    money.minor = cost;
    money.currency = "GBP";
    Pmo__Risk risk = PMO__RISK__INIT;
    risk.project_id = (char *)project;
    risk.title = "Supplier fails";
    risk.category = "commercial";
    risk.owner = (char *)owner;
    risk.probability = p;
    risk.impact = i;
    risk.response = PMO__RISK_RESPONSE__RISK_RESPONSE_REDUCE;
    if (cost)
        risk.cost_impact = &money;
    RM_REQUEST (request, create_risk, CREATE_RISK) = &risk;
    return rm_call (rm, &request);
}

static Pmo__RiskmonReply *s_list (rm_t *rm, Pmo__RegisterKind kind, const char *project,
                                  const char *unit, bool include_closed)
{
    Pmo__RiskmonListRequest list = PMO__RISKMON_LIST_REQUEST__INIT;
    list.kind = kind;
    list.project_id = (char *)(project ? project : "");
    list.org_unit = (char *)(unit ? unit : "");
    list.include_closed = include_closed;
    RM_REQUEST (request, list, LIST) = &list;
    Pmo__RiskmonReply *reply = rm_call (rm, &request);
    rm_ok (reply);
    return reply;
}

static const Pmo__FiredRule *s_fired (const Pmo__HealthAssessment *a, const char *rule)
{
    for (size_t i = 0; i < a->n_fired; i++)
        if (streq (a->fired[i]->rule, rule))
            return a->fired[i];
    return NULL;
}

static void s_org (rm_t *rm)
{
    Pmo__RegistryReply *reply = rh_unit (rm->rh, "hub", "enterprise", NULL, "controlling");
    rh_ok (reply);
    rh_free (&reply);
    reply = rh_unit (rm->rh, "dft", "division", "hub", "controlling");
    rh_ok (reply);
    rh_free (&reply);
    reply = rh_unit (rm->rh, "ops", "division", "hub", "supportive");
    rh_ok (reply);
    rh_free (&reply);
    reply = rh_unit (rm->rh, "dft-rail", "department", "dft", NULL);
    rh_ok (reply);
    rh_free (&reply);
}

static void s_health_from_reports (rm_t *rm)
{
    char p1[40];
    s_project (rm, "DFT-1", "dft-rail", p1);
    //  SPI 0.85 without actual cost: red schedule, CPI not available
    s_report (rm, p1, 1000, 850, 0, false, rm_date (-1, 0));
    Pmo__RiskmonReply *reply = rm_wait_health (rm, p1, 1, PMO__RAG__RAG_RED);
    Pmo__HealthAssessment *a = reply->health->current;
    assert (a->schedule == PMO__RAG__RAG_RED && a->has_spi && fabs (a->spi - 0.85) < 1e-9);
    assert (!a->has_cpi && a->cost == PMO__RAG__RAG_UNSPECIFIED);
    assert (s_fired (a, "spi") && s_fired (a, "cpi_not_available"));
    assert (streq (a->trigger, "status_report.submitted"));
    assert (streq (a->org_unit_path, "hub/dft/dft-rail"));
    rm_free (&reply);
    //  On plan with actual cost: CPI 1.0, green
    s_report (rm, p1, 1000, 1000, 1000, true, rm_date (0, 0));
    reply = rm_wait_health (rm, p1, 3, PMO__RAG__RAG_GREEN);
    a = reply->health->current;
    assert (a->has_cpi && fabs (a->cpi - 1.0) < 1e-9 && a->cost == PMO__RAG__RAG_GREEN);
    assert (a->previous == PMO__RAG__RAG_RED);
    //  The history keeps every change (the first assessment when the
    //  project was created, then red, then green), each one event
    assert (reply->health->n_history == 3);
    assert (reply->health->history[0]->overall == PMO__RAG__RAG_GREEN);
    assert (streq (reply->health->history[0]->trigger, "project.created"));
    assert (reply->health->history[1]->overall == PMO__RAG__RAG_RED);
    assert (reply->health->history[2]->overall == PMO__RAG__RAG_GREEN);
    rm_free (&reply);
    assert (rm_count_events (rm, "dft", "health.changed", p1) == 3);
    //  A red health raised one alert, still standing (cool-down)
    reply = s_list (rm, PMO__REGISTER_KIND__REGISTER_KIND_ALERT, p1, NULL, true);
    assert (reply->page->n_alerts == 1 &&
            reply->page->alerts[0]->kind == PMO__ALERT_KIND__ALERT_KIND_HEALTH);
    rm_free (&reply);
    printf ("health from status reports: ok\n");
}

static void s_milestone_on_time (rm_t *rm)
{
    char p2[40];
    s_project (rm, "DFT-2", "dft", p2);
    Pmo__Milestone m = PMO__MILESTONE__INIT;
    m.project_id = p2;
    m.name = "Design signed off";
    m.baseline_date = (char *)rm_date (0, 0);
    Pmo__RegistryRequest request = PMO__REGISTRY_REQUEST__INIT;
    request.body_case = PMO__REGISTRY_REQUEST__BODY_CREATE_MILESTONE;
    request.create_milestone = &m;
    Pmo__RegistryReply *created = rh_call (rm->rh, &request);
    rh_ok (created);
    char milestone[40];
    strcpy (milestone, created->milestone->id);
    rh_free (&created);
    //  Due today: green, and the time rule is scheduled, not polled
    Pmo__RiskmonReply *reply = NULL;
    for (int i = 0; i < 250; i++) {
        reply = rm_wait_health (rm, p2, 1, PMO__RAG__RAG_GREEN);
        if (reply->health->current->inputs->n_milestones == 1)
            break;
        rm_free (&reply);
        zclock_sleep (20);
    }
    int64_t due = reply->health->current->next_due_ms;
    assert (due > rm_now () && due <= rm_now () + 86400000);
    rm_free (&reply);
    redisReply *scheduled =
        pmo_test_redis_command (rm->rh->redis, "ZSCORE pmo:{dft}:rm:due %s", p2);
    assert (scheduled->type == REDIS_REPLY_STRING && (int64_t)atof (scheduled->str) == due);
    freeReplyObject (scheduled);
    //  Two days pass: the sweep finds it due and it turns amber by itself
    rm_advance_ms (2 * 86400000LL);
    reply = rm_wait_health (rm, p2, 2, PMO__RAG__RAG_AMBER);
    const Pmo__FiredRule *rule = s_fired (reply->health->current, "milestone_overdue");
    assert (rule && streq (rule->subject_id, milestone) && rule->value >= 2);
    assert (streq (reply->health->current->trigger, "time"));
    rm_free (&reply);
    reply = s_list (rm, PMO__REGISTER_KIND__REGISTER_KIND_ALERT, p2, NULL, false);
    bool overdue_alert = false;
    for (size_t i = 0; i < reply->page->n_alerts; i++)
        overdue_alert = overdue_alert || (reply->page->alerts[i]->kind ==
                                              PMO__ALERT_KIND__ALERT_KIND_MILESTONE_OVERDUE &&
                                          streq (reply->page->alerts[i]->subject_id, milestone));
    assert (overdue_alert);
    rm_free (&reply);
    printf ("milestone overdue on time: ok\n");
}

//  An alert with every version kept (the caller frees the reply).
static Pmo__RiskmonReply *s_alert_history (rm_t *rm, const char *id)
{
    Pmo__RiskmonGetRequest get = PMO__RISKMON_GET_REQUEST__INIT;
    get.kind = PMO__REGISTER_KIND__REGISTER_KIND_ALERT;
    get.id = (char *)id;
    get.with_history = true;
    RM_REQUEST (request, get, GET) = &get;
    Pmo__RiskmonReply *reply = rm_call (rm, &request);
    rm_ok (reply);
    assert (reply->history);
    return reply;
}

//  Whether the copy of an alert's version is stored (its own key).
static bool s_alert_copy_stored (rm_t *rm, const char *id, int version)
{
    redisReply *reply =
        pmo_test_redis_command (rm->rh->redis, "EXISTS pmo:{dft}:rm:al:%s:%d", id, version);
    assert (reply && reply->type == REDIS_REPLY_INTEGER);
    bool stored = reply->integer == 1;
    freeReplyObject (reply);
    return stored;
}

static void s_critical_risk (rm_t *rm)
{
    char p3[40];
    s_project (rm, "DFT-3", "dft", p3);
    Pmo__RiskmonReply *reply = s_create_risk (rm, p3, 5, 4, "ro@dft", 2000000);
    rm_ok (reply);
    Pmo__Risk *risk = reply->risk;
    assert (risk->inherent_score == 20 &&
            risk->residual_band == PMO__SCORE_BAND__SCORE_BAND_CRITICAL);
    assert (risk->exposure && risk->exposure->minor == 1800000); //  90 % of 2,000,000
    assert (streq (risk->org_unit_path, "hub/dft") && risk->version == 1);
    char risk_id[40];
    strcpy (risk_id, risk->id);
    uint64_t version = risk->version;
    rm_free (&reply);
    //  The health changed in the same commit: red at once
    reply = rm_health (rm, p3);
    rm_ok (reply);
    assert (reply->health->current->overall == PMO__RAG__RAG_RED);
    assert (s_fired (reply->health->current, "risk_critical"));
    rm_free (&reply);
    reply = s_list (rm, PMO__REGISTER_KIND__REGISTER_KIND_ALERT, p3, NULL, false);
    assert (reply->page->n_alerts == 2);
    bool owner_has_it = false;
    for (size_t i = 0; i < reply->page->n_alerts; i++)
        if (reply->page->alerts[i]->kind == PMO__ALERT_KIND__ALERT_KIND_RISK_CRITICAL)
            owner_has_it =
                streq (reply->page->alerts[i]->assignee, "ro@dft") &&
                reply->page->alerts[i]->severity == PMO__ALERT_SEVERITY__ALERT_SEVERITY_CRITICAL;
    assert (owner_has_it);
    rm_free (&reply);
    //  The response works: residual 2 x 4 = 8, the project is green again
    Pmo__RiskmonGetRequest get = PMO__RISKMON_GET_REQUEST__INIT;
    get.kind = PMO__REGISTER_KIND__REGISTER_KIND_RISK;
    get.id = risk_id;
    RM_REQUEST (get_request, get, GET) = &get;
    reply = rm_call (rm, &get_request);
    rm_ok (reply);
    Pmo__Risk *next = reply->risk;
    next->residual_probability = 2;
    RM_REQUEST (update, update_risk, UPDATE_RISK) = next;
    Pmo__RiskmonReply *updated = rm_call (rm, &update);
    rm_ok (updated);
    assert (updated->risk->residual_score == 8 && updated->risk->version == version + 1);
    rm_free (&updated);
    //  A stale version is a conflict
    updated = rm_call (rm, &update);
    rm_err (updated, CONFLICT, "update_risk.version");
    rm_free (&updated);
    rm_free (&reply);
    reply = rm_health (rm, p3);
    assert (reply->health->current->overall == PMO__RAG__RAG_GREEN);
    rm_free (&reply);
    //  The alerts stand through the cool-down, then resolve by themselves
    rm_advance_ms (86400000LL + 60000);
    for (int i = 0; i < 100; i++) {
        reply = s_list (rm, PMO__REGISTER_KIND__REGISTER_KIND_ALERT, p3, NULL, false);
        size_t open = reply->page->n_alerts;
        rm_free (&reply);
        if (open == 0)
            break;
        zclock_sleep (20);
    }
    reply = s_list (rm, PMO__REGISTER_KIND__REGISTER_KIND_ALERT, p3, NULL, true);
    assert (reply->page->n_alerts == 2);
    for (size_t i = 0; i < reply->page->n_alerts; i++) {
        assert (reply->page->alerts[i]->state == PMO__ALERT_STATE__ALERT_STATE_RESOLVED &&
                streq (reply->page->alerts[i]->resolved_by, "riskmon"));
        //  Their first versions as they were raised, kept when they changed
        Pmo__RiskmonReply *history = s_alert_history (rm, reply->page->alerts[i]->id);
        size_t n = history->history->n_alerts;
        assert (n >= 2 && history->history->alerts[0]->version == 1 &&
                history->history->alerts[0]->state == PMO__ALERT_STATE__ALERT_STATE_OPEN &&
                history->history->alerts[n - 1]->state == PMO__ALERT_STATE__ALERT_STATE_RESOLVED);
        rm_free (&history);
    }
    rm_free (&reply);
    //  Every version is kept
    get.with_history = true;
    reply = rm_call (rm, &get_request);
    rm_ok (reply);
    assert (reply->history && reply->history->n_risks == 2 &&
            reply->history->risks[0]->residual_score == 20 &&
            reply->history->risks[1]->residual_score == 8);
    rm_free (&reply);
    printf ("critical risk and its alerts: ok\n");
}

static void s_overallocation (rm_t *rm)
{
    char p4[40];
    s_project (rm, "DFT-4", "dft", p4);
    Pmo__RiskmonReply *reply = NULL;
    //  The allocator writes to the resource's home division (ops)
    char *projects[] = {p4};
    char *weeks[] = {"2026-W14"};
    Pmo__OverAllocation oa = PMO__OVER_ALLOCATION__INIT;
    oa.resource_id = "rs_ops_1";
    oa.resource_name = "Ann Engineer";
    oa.home_org_unit = "ops";
    oa.home_org_unit_path = "hub/ops";
    oa.weeks = weeks;
    oa.n_weeks = 1;
    oa.project_ids = projects;
    oa.n_project_ids = 1;
    oa.over = true;
    oa.worst_week_booked_hours = 52;
    oa.worst_week_capacity_hours = 37;
    Pmo__Event event = PMO__EVENT__INIT;
    event.type = "resource.overallocated";
    event.division = "ops";
    event.source = "allocator";
    event.entity_id = "rs_ops_1";
    event.body_case = PMO__EVENT__BODY_OVER_ALLOCATION;
    event.over_allocation = &oa;
    rm_xadd (rm, "ops", &event);
    reply = rm_wait_health (rm, p4, 1, PMO__RAG__RAG_AMBER);
    const Pmo__FiredRule *rule = s_fired (reply->health->current, "overallocated");
    assert (rule && reply->health->current->resources == PMO__RAG__RAG_AMBER);
    assert (strstr (rule->detail, "Ann Engineer") && strstr (rule->detail, "52"));
    rm_free (&reply);
    event.type = "resource.cleared";
    oa.over = false;
    rm_xadd (rm, "ops", &event);
    reply = rm_wait_health (rm, p4, 2, PMO__RAG__RAG_GREEN);
    rm_free (&reply);
    printf ("health from an over-allocation event: ok\n");
}

static void s_rollup (rm_t *rm)
{
    char p5[40], p6[40];
    s_project (rm, "OPS-5", "ops", p5);
    s_project (rm, "OPS-6", "ops", p6);
    s_report (rm, p5, 1000, 900, 0, false, rm_date (0, 0));
    s_report (rm, p6, 3000, 3000, 2500, true, rm_date (0, 0));
    Pmo__RiskmonReply *reply = s_create_risk (rm, p6, 3, 3, "ro@ops", 10000);
    rm_ok (reply);
    rm_free (&reply);
    reply = rm_wait_health (rm, p5, 1, PMO__RAG__RAG_AMBER);
    rm_free (&reply);
    //  CPI 1.2: more than 10 % under budget is red (FEMA): the plan is wrong
    reply = rm_wait_health (rm, p6, 1, PMO__RAG__RAG_RED);
    rm_free (&reply);
    Pmo__RollupRequest rollup = PMO__ROLLUP_REQUEST__INIT;
    rollup.org_unit = "ops";
    RM_REQUEST (request, rollup, ROLLUP) = &rollup;
    reply = rm_call (rm, &request);
    rm_ok (reply);
    Pmo__Rollup *r = reply->rollup;
    assert (r->projects == 2 && r->amber == 1 && r->red == 1 && r->green == 0);
    Pmo__RollupMoney *money = NULL, *gbp = NULL;
    for (size_t i = 0; i < r->n_money; i++) {
        if (streq (r->money[i]->currency, ""))
            money = r->money[i];
        if (streq (r->money[i]->currency, "GBP"))
            gbp = r->money[i];
    }
    assert (money && money->pv_minor == 4000 && money->ev_minor == 3900);
    //  Sum first: 3900 / 4000 = 0.975, not the mean of 0.9 and 1.0 (0.95)
    assert (money->has_spi && fabs (money->spi - 0.975) < 1e-9);
    //  CPI only over the projects that reported actual cost
    assert (money->has_cpi && money->ac_minor == 2500 && fabs (money->cpi - 1.2) < 1e-9);
    assert (gbp && gbp->risk_exposure_minor == 5000 && r->risks_open == 1);
    rm_free (&reply);
    //  The enterprise sees every division
    rollup.org_unit = "";
    reply = rm_call (rm, &request);
    rm_ok (reply);
    assert (reply->rollup->projects >= 6 && streq (reply->rollup->org_unit, "hub"));
    rm_free (&reply);
    printf ("roll-up sums: ok\n");
}

static Pmo__RiskmonReply *s_set_thresholds (rm_t *rm, Pmo__Thresholds *t)
{
    RM_REQUEST (request, set_thresholds, SET_THRESHOLDS) = t;
    return rm_call (rm, &request);
}

static const Pmo__ThresholdSource *s_source (const Pmo__Thresholds *t, const char *field)
{
    for (size_t i = 0; i < t->n_sources; i++)
        if (streq (t->sources[i]->field, field))
            return t->sources[i];
    return NULL;
}

static Pmo__Alert *s_alert_of (Pmo__RiskmonReply *page, Pmo__AlertKind kind)
{
    for (size_t i = 0; i < page->page->n_alerts; i++)
        if (page->page->alerts[i]->kind == kind)
            return page->page->alerts[i];
    return NULL;
}

static void s_escalation (rm_t *rm)
{
    //  Contradictions and loosening are refused, nothing written
    Pmo__Thresholds t = PMO__THRESHOLDS__INIT;
    t.org_unit = "dft";
    t.cpi_amber_below = 0.80; //  below the inherited red line 0.90
    Pmo__RiskmonReply *reply = s_set_thresholds (rm, &t);
    rm_err (reply, INVALID, "set_thresholds.cpi_amber_below");
    rm_free (&reply);
    pmo__thresholds__init (&t);
    t.org_unit = "dft";
    t.milestone_red_days = 60; //  looser than the hub's 14, under a controlling hub
    reply = s_set_thresholds (rm, &t);
    rm_err (reply, FAILED_PRECONDITION, "set_thresholds.milestone_red_days");
    rm_free (&reply);
    pmo__thresholds__init (&t);
    t.org_unit = "dft-rail"; //  not a PMO unit
    reply = s_set_thresholds (rm, &t);
    rm_err (reply, FAILED_PRECONDITION, "set_thresholds.org_unit");
    rm_free (&reply);
    redisReply *none = pmo_test_redis_command (rm->rh->redis, "EXISTS pmo:{hub}:rm:th:dft");
    assert (none->integer == 0);
    freeReplyObject (none);
    //  Short deadlines for dft: a minute with the owner, a minute with the division PMO
    pmo__thresholds__init (&t);
    t.org_unit = "dft";
    t.escalate_owner_s = 60;
    t.escalate_division_s = 60;
    t.gate_red_days = 14; //  the value it would inherit, set all the same
    reply = s_set_thresholds (rm, &t);
    rm_ok (reply);
    assert (reply->thresholds->version == 1 && reply->thresholds->n_sources == 0);
    rm_free (&reply);
    Pmo__ThresholdsRequest get = PMO__THRESHOLDS_REQUEST__INIT;
    get.org_unit = "dft-rail";
    RM_REQUEST (get_request, get_thresholds, GET_THRESHOLDS) = &get;
    reply = rm_call (rm, &get_request);
    rm_ok (reply); //  inherited down the tree, defaults for the rest
    assert (reply->thresholds->escalate_owner_s == 60 && reply->thresholds->spi_red_below == 0.90);
    //  Each value says where it comes from: dft-rail sets none
    const Pmo__ThresholdSource *owner = s_source (reply->thresholds, "escalate_owner_s");
    assert (owner && owner->value == 60 && streq (owner->org_unit, "dft") && !owner->set_here &&
            owner->inherited == 60 && streq (owner->inherited_from, "dft"));
    const Pmo__ThresholdSource *spi = s_source (reply->thresholds, "spi_red_below");
    assert (spi && spi->value == 0.90 && streq (spi->org_unit, "") && !spi->set_here);
    rm_free (&reply);
    //  dft sets its three itself, the one equal to what it inherits too
    get.org_unit = "dft";
    reply = rm_call (rm, &get_request);
    rm_ok (reply);
    size_t here = 0;
    for (size_t i = 0; i < reply->thresholds->n_sources; i++)
        here += reply->thresholds->sources[i]->set_here;
    assert (here == 3 && reply->thresholds->n_sources == 23);
    owner = s_source (reply->thresholds, "escalate_owner_s");
    assert (owner->set_here && owner->value == 60 && streq (owner->org_unit, "dft") &&
            owner->inherited == 86400 && streq (owner->inherited_from, ""));
    const Pmo__ThresholdSource *gate = s_source (reply->thresholds, "gate_red_days");
    assert (gate->set_here && gate->value == 14 && gate->inherited == 14);
    rm_free (&reply);

    char p7[40], p8[40];
    s_project (rm, "DFT-7", "dft", p7);
    s_project (rm, "DFT-8", "dft", p8);
    s_report (rm, p7, 1000, 800, 0, false, rm_date (0, 0));
    s_report (rm, p8, 1000, 800, 0, false, rm_date (0, 0));
    reply = rm_wait_health (rm, p7, 1, PMO__RAG__RAG_RED);
    rm_free (&reply);
    reply = rm_wait_health (rm, p8, 1, PMO__RAG__RAG_RED);
    rm_free (&reply);
    //  p8's alert is acknowledged in time: it stays where it is
    reply = s_list (rm, PMO__REGISTER_KIND__REGISTER_KIND_ALERT, p8, NULL, false);
    Pmo__Alert *alert = s_alert_of (reply, PMO__ALERT_KIND__ALERT_KIND_HEALTH);
    assert (alert && alert->level == PMO__ESCALATION_LEVEL__ESCALATION_LEVEL_OWNER);
    assert (alert->next_escalation_ms > rm_now () &&
            alert->next_escalation_ms <= rm_now () + 60000);
    //  Raising it wrote no copy of its first version: it is the alert
    assert (alert->version == 1 && !s_alert_copy_stored (rm, alert->id, 1));
    Pmo__RiskmonReply *history = s_alert_history (rm, alert->id);
    assert (history->history->n_alerts == 1 && history->history->alerts[0]->version == 1 &&
            history->history->alerts[0]->state == PMO__ALERT_STATE__ALERT_STATE_OPEN);
    rm_free (&history);
    Pmo__AlertActionRequest ack = PMO__ALERT_ACTION_REQUEST__INIT;
    ack.id = alert->id;
    ack.version = alert->version;
    RM_REQUEST (ack_request, acknowledge_alert, ACKNOWLEDGE_ALERT) = &ack;
    Pmo__RiskmonReply *acked = rm_call (rm, &ack_request);
    rm_ok (acked);
    assert (acked->alert->state == PMO__ALERT_STATE__ALERT_STATE_ACKNOWLEDGED &&
            streq (acked->alert->acknowledged_by, "admin@test"));
    rm_free (&acked);
    //  Its first change wrote the copy of the first version as it was
    history = s_alert_history (rm, ack.id);
    assert (s_alert_copy_stored (rm, ack.id, 1) && history->history->n_alerts == 2 &&
            history->history->alerts[0]->version == 1 &&
            history->history->alerts[0]->state == PMO__ALERT_STATE__ALERT_STATE_OPEN &&
            history->history->alerts[1]->version == 2 &&
            history->history->alerts[1]->state == PMO__ALERT_STATE__ALERT_STATE_ACKNOWLEDGED);
    rm_free (&history);
    acked = rm_call (rm, &ack_request);
    rm_err (acked, CONFLICT, "acknowledge_alert.version");
    rm_free (&acked);
    rm_free (&reply);
    //  p7's is not: after a minute it is with the division PMO, after
    //  another with the hub PMO. It is made to look raised by an older
    //  version, which wrote the copy of the first version at once: its
    //  changes must go through all the same
    reply = s_list (rm, PMO__REGISTER_KIND__REGISTER_KIND_ALERT, p7, NULL, false);
    alert = s_alert_of (reply, PMO__ALERT_KIND__ALERT_KIND_HEALTH);
    assert (alert && alert->version == 1 && !s_alert_copy_stored (rm, alert->id, 1));
    redisReply *copied = pmo_test_redis_command (
        rm->rh->redis, "COPY pmo:{dft}:rm:al:%s pmo:{dft}:rm:al:%s:1", alert->id, alert->id);
    assert (copied && copied->type == REDIS_REPLY_INTEGER && copied->integer == 1);
    freeReplyObject (copied);
    rm_free (&reply);
    rm_advance_ms (61000);
    Pmo__Alert *climbed = NULL;
    for (int i = 0; i < 100; i++) {
        reply = s_list (rm, PMO__REGISTER_KIND__REGISTER_KIND_ALERT, p7, NULL, false);
        climbed = s_alert_of (reply, PMO__ALERT_KIND__ALERT_KIND_HEALTH);
        if (climbed->level == PMO__ESCALATION_LEVEL__ESCALATION_LEVEL_DIVISION_PMO)
            break;
        rm_free (&reply);
        zclock_sleep (20);
    }
    assert (climbed->level == PMO__ESCALATION_LEVEL__ESCALATION_LEVEL_DIVISION_PMO &&
            streq (climbed->assignee, "dft") && climbed->n_escalations == 2);
    rm_free (&reply);
    rm_advance_ms (61000);
    for (int i = 0; i < 100; i++) {
        reply = s_list (rm, PMO__REGISTER_KIND__REGISTER_KIND_ALERT, p7, NULL, false);
        climbed = s_alert_of (reply, PMO__ALERT_KIND__ALERT_KIND_HEALTH);
        if (climbed->level == PMO__ESCALATION_LEVEL__ESCALATION_LEVEL_HUB_PMO)
            break;
        rm_free (&reply);
        zclock_sleep (20);
    }
    assert (climbed->level == PMO__ESCALATION_LEVEL__ESCALATION_LEVEL_HUB_PMO &&
            streq (climbed->assignee, "hub") && climbed->next_escalation_ms == 0);
    //  Every version kept, the first as it was raised
    history = s_alert_history (rm, climbed->id);
    assert (history->history->n_alerts == 3 &&
            history->history->alerts[0]->level == PMO__ESCALATION_LEVEL__ESCALATION_LEVEL_OWNER &&
            history->history->alerts[1]->level ==
                PMO__ESCALATION_LEVEL__ESCALATION_LEVEL_DIVISION_PMO &&
            history->history->alerts[2]->level == PMO__ESCALATION_LEVEL__ESCALATION_LEVEL_HUB_PMO);
    rm_free (&history);
    rm_free (&reply);
    assert (rm_count_events (rm, "dft", "alert.escalated", p7) == 2);
    assert (rm_count_events (rm, "dft", "alert.escalated", p8) == 0);
    reply = s_list (rm, PMO__REGISTER_KIND__REGISTER_KIND_ALERT, p8, NULL, false);
    assert (s_alert_of (reply, PMO__ALERT_KIND__ALERT_KIND_HEALTH)->level ==
            PMO__ESCALATION_LEVEL__ESCALATION_LEVEL_OWNER);
    rm_free (&reply);
    printf ("escalation on time, acknowledged alerts stay: ok\n");
}

static void s_flapping (rm_t *rm)
{
    char p9[40];
    s_project (rm, "OPS-9", "ops", p9);
    //  Ten reports alternating amber and green, as fast as they come
    for (int i = 0; i < 10; i++)
        s_report (rm, p9, 1000, i % 2 ? 1000 : 930, 0, false, rm_date (0, 0));
    Pmo__RiskmonReply *reply = rm_wait_health (rm, p9, 11, PMO__RAG__RAG_GREEN);
    assert (reply->health->current->inputs->reports_seen == 10);
    rm_free (&reply);
    //  Every change is history and an event (the first: green at
    //  creation); the alert is raised once
    assert (rm_count_events (rm, "ops", "health.changed", p9) == 11);
    assert (rm_count_events (rm, "ops", "alert.raised", p9) == 1);
    assert (rm_count_events (rm, "ops", "alert.resolved", p9) == 0);
    printf ("flapping project: 10 health changes, 1 alert: ok\n");
}

static void s_registers (rm_t *rm)
{
    char p10[40], p11[40];
    s_project (rm, "DFT-10", "dft-rail", p10);
    s_project (rm, "OPS-11", "ops", p11);
    //  Bad input: typed errors naming the field, nothing written
    redisReply *before = pmo_test_redis_command (rm->rh->redis, "HGET pmo:{dft}:rm:seq rk");
    long long risks_before = before->type == REDIS_REPLY_STRING ? atoll (before->str) : 0;
    freeReplyObject (before);
    Pmo__RiskmonReply *reply = s_create_risk (rm, p10, 6, 3, "ro@dft", 0);
    rm_err (reply, INVALID, "create_risk.probability");
    rm_free (&reply);
    reply = s_create_risk (rm, "pr_dft_9999", 3, 3, "ro@dft", 0);
    rm_err (reply, NOT_FOUND, "create_risk.project_id");
    rm_free (&reply);
    //  Not an id: a code, that names no project; neither an id nor a code
    reply = s_create_risk (rm, "not-a-project", 3, 3, "ro@dft", 0);
    rm_err (reply, NOT_FOUND, "create_risk.project_id");
    rm_free (&reply);
    reply = s_create_risk (rm, "not a project", 3, 3, "ro@dft", 0);
    rm_err (reply, INVALID, "create_risk.project_id");
    rm_free (&reply);
    redisReply *after = pmo_test_redis_command (rm->rh->redis, "HGET pmo:{dft}:rm:seq rk");
    assert ((after->type == REDIS_REPLY_STRING ? atoll (after->str) : 0) == risks_before);
    freeReplyObject (after);
    //  Who may do what
    rh_as (rm->rh, "viewer@hub", "viewer@hub");
    reply = s_create_risk (rm, p10, 3, 3, "ro@dft", 0);
    rm_err (reply, FORBIDDEN, "");
    rm_free (&reply);
    rh_as (rm->rh, "risk@ops", "risk_manager@ops");
    reply = s_create_risk (rm, p10, 3, 3, "ro@dft", 0);
    rm_err (reply, NOT_FOUND, "create_risk.project_id"); //  cannot even see it
    rm_free (&reply);
    reply = s_create_risk (rm, p11, 4, 4, "risk@ops", 0);
    rm_ok (reply);
    rm_free (&reply);
    rh_as (rm->rh, "risk@dft", "risk_manager@dft");
    //  A retried request returns the first reply and creates nothing twice
    Pmo__Risk risk = PMO__RISK__INIT;
    risk.project_id = p10;
    risk.title = "Signalling late";
    risk.owner = "risk@dft";
    risk.probability = 3;
    risk.impact = 5;
    RM_REQUEST (create, create_risk, CREATE_RISK) = &risk;
    Pmo__RiskmonReply *first = rm_call_with_id (rm, &create, "retry-risk-1");
    rm_ok (first);
    Pmo__RiskmonReply *again = rm_call_with_id (rm, &create, "retry-risk-1");
    rm_ok (again);
    assert (streq (first->risk->id, again->risk->id));
    rm_free (&again);
    reply = s_list (rm, PMO__REGISTER_KIND__REGISTER_KIND_RISK, p10, NULL, false);
    assert (reply->page->n_risks == 1);
    rm_free (&reply);
    //  Close it; a closed risk is no longer changed
    Pmo__CloseRequest close = PMO__CLOSE_REQUEST__INIT;
    close.kind = PMO__REGISTER_KIND__REGISTER_KIND_RISK;
    close.id = first->risk->id;
    close.version = 1;
    close.note = "Contract signed";
    RM_REQUEST (close_request, close, CLOSE) = &close;
    reply = rm_call (rm, &close_request);
    rm_ok (reply);
    assert (reply->risk->status == PMO__RISK_STATUS__RISK_STATUS_CLOSED &&
            reply->risk->version == 2);
    rm_free (&reply);
    reply = rm_call (rm, &close_request);
    rm_err (reply, CONFLICT, "close.version");
    rm_free (&reply);
    rm_free (&first);
    //  Listing by subtree: the dft risk manager sees dft's open risks only
    reply = s_list (rm, PMO__REGISTER_KIND__REGISTER_KIND_RISK, NULL, NULL, false);
    for (size_t i = 0; i < reply->page->n_risks; i++)
        assert (strncmp (reply->page->risks[i]->org_unit_path, "hub/dft", 7) == 0 &&
                reply->page->risks[i]->status == PMO__RISK_STATUS__RISK_STATUS_OPEN);
    size_t dft_open = reply->page->n_risks;
    rm_free (&reply);
    assert (dft_open >= 1);
    reply = s_list (rm, PMO__REGISTER_KIND__REGISTER_KIND_RISK, NULL, "dft-rail", true);
    assert (reply->page->n_risks == 1 && streq (reply->page->risks[0]->project_id, p10));
    rm_free (&reply);
    //  Issues and change requests; a project manager may not decide a change
    Pmo__Issue issue = PMO__ISSUE__INIT;
    issue.project_id = p10;
    issue.title = "Test track unavailable";
    issue.type = PMO__ISSUE_TYPE__ISSUE_TYPE_PROBLEM_CONCERN;
    issue.severity = PMO__ISSUE_SEVERITY__ISSUE_SEVERITY_HIGH;
    RM_REQUEST (create_issue, create_issue, CREATE_ISSUE) = &issue;
    reply = rm_call (rm, &create_issue);
    rm_ok (reply);
    assert (streq (reply->issue->raised_by, "risk@dft") && reply->issue->priority == 3);
    rm_free (&reply);
    Pmo__Money cost = PMO__MONEY__INIT;
    cost.minor = 250000;
    cost.currency = "GBP";
    Pmo__ChangeRequest change = PMO__CHANGE_REQUEST__INIT;
    change.project_id = p10;
    change.title = "Add a siding";
    change.cost_impact = &cost;
    change.schedule_impact_days = 14;
    RM_REQUEST (create_change, create_change, CREATE_CHANGE) = &change;
    reply = rm_call (rm, &create_change);
    rm_ok (reply);
    Pmo__ChangeRequest *cr = reply->change_request;
    cr->decision = PMO__CHANGE_DECISION__CHANGE_DECISION_APPROVED;
    RM_REQUEST (decide, update_change, UPDATE_CHANGE) = cr;
    rh_as (rm->rh, "pm@dft", "project_manager@dft");
    Pmo__RiskmonReply *decided = rm_call (rm, &decide);
    rm_err (decided, FORBIDDEN, "update_change.decision");
    rm_free (&decided);
    rh_as (rm->rh, "sponsor@dft", "sponsor@dft");
    decided = rm_call (rm, &decide);
    rm_ok (decided);
    assert (decided->change_request->approver_role == PMO__ROLE__ROLE_SPONSOR &&
            streq (decided->change_request->approver, "sponsor@dft"));
    rm_free (&decided);
    rm_free (&reply);
    //  Assumptions, decisions, dependencies
    rh_as (rm->rh, "pm@dft", "project_manager@dft");
    Pmo__RaidEntry raid = PMO__RAID_ENTRY__INIT;
    raid.project_id = p10;
    raid.kind = PMO__RAID_KIND__RAID_KIND_DEPENDENCY;
    raid.title = "Needs the ops data centre move";
    raid.depends_on_project = p11;
    RM_REQUEST (create_raid, create_raid, CREATE_RAID) = &raid;
    reply = rm_call (rm, &create_raid);
    rm_ok (reply);
    rm_free (&reply);
    raid.kind = 0;
    reply = rm_call (rm, &create_raid);
    rm_err (reply, INVALID, "create_raid.kind");
    rm_free (&reply);
    rh_as (rm->rh, "admin@test", "admin@hub");
    //  Malformed and unknown request bodies
    Pmo__RiskmonGetRequest get = PMO__RISKMON_GET_REQUEST__INIT;
    get.kind = PMO__REGISTER_KIND__REGISTER_KIND_ISSUE;
    get.id = "rk_dft_1";
    RM_REQUEST (get_request, get, GET) = &get;
    reply = rm_call (rm, &get_request);
    rm_err (reply, INVALID, "get.id");
    rm_free (&reply);
    zframe_t *frame = pmo_client_call_raw (rm->client, "\x0a\xff\xff", 3, 2000);
    assert (frame);
    Pmo__RiskmonReply *raw =
        pmo__riskmon_reply__unpack (NULL, zframe_size (frame), zframe_data (frame));
    assert (raw && raw->error && raw->error->code == PMO__ERROR_CODE__ERROR_MALFORMED);
    pmo__riskmon_reply__free_unpacked (raw, NULL);
    zframe_destroy (&frame);
    //  ... and the service keeps serving
    Pmo__PingRequest ping = PMO__PING_REQUEST__INIT;
    RM_REQUEST (ping_request, ping, PING) = &ping;
    reply = rm_call (rm, &ping_request);
    rm_ok (reply);
    assert (reply->pong->redis_ok && streq (reply->pong->service, "riskmon"));
    rm_free (&reply);
    printf ("registers, access, bad input: ok\n");
}

//  Set a unit's own reporting period (0 = inherit) in the registry.
static void s_reporting_policy (rm_t *rm, const char *unit_id, uint32_t days)
{
    Pmo__RegistryReply *got = rh_get (rm->rh, PMO__ENTITY_KIND__ENTITY_KIND_ORG_UNIT, unit_id);
    rh_ok (got);
    Pmo__OrgUnit *unit = got->org_unit;
    //  The reply's own policies are put back before it is freed
    Pmo__Policy *own = unit->policy, *effective = unit->effective_policy;
    Pmo__Policy policy = PMO__POLICY__INIT;
    if (own)
        policy = *own;
    policy.reporting_period_days = days;
    unit->policy = &policy;
    unit->effective_policy = NULL;
    Pmo__RegistryRequest request = PMO__REGISTRY_REQUEST__INIT;
    request.body_case = PMO__REGISTRY_REQUEST__BODY_UPDATE_ORG_UNIT;
    request.update_org_unit = unit;
    Pmo__RegistryReply *reply = rh_call (rm->rh, &request);
    rh_ok (reply);
    rh_free (&reply);
    unit->policy = own;
    unit->effective_policy = effective;
    rh_free (&got);
}

//  The reporting period comes from the unit's policy as the registry has
//  it: a change of policy (an org_unit.* event) is seen and every project
//  of the division is assessed again.
static void s_reporting_period (rm_t *rm)
{
    Pmo__RegistryReply *created = rh_unit (rm->rh, "dft-road", "department", "dft", NULL);
    rh_ok (created);
    rh_free (&created);
    s_reporting_policy (rm, "dft-road", 7);
    char p13[40];
    s_project (rm, "DFT-13", "dft-road", p13);
    //  Under way (as the registry says once its gates are passed)
    Pmo__Project project = PMO__PROJECT__INIT;
    project.id = p13;
    project.code = "DFT-13";
    project.org_unit = "dft-road";
    project.org_unit_path = "hub/dft/dft-road";
    project.division = "dft";
    project.phase = PMO__PHASE__PHASE_EXECUTION;
    project.status = PMO__PROJECT_STATUS__PROJECT_STATUS_ACTIVE;
    project.version = 100;
    project.created_ms = rm_now ();
    Pmo__Event event = PMO__EVENT__INIT;
    event.type = "project.updated";
    event.division = "dft";
    event.source = "registry";
    event.entity_id = p13;
    event.body_case = PMO__EVENT__BODY_PROJECT;
    event.project = &project;
    rm_xadd (rm, "dft", &event);
    //  On plan, but reported 10 days ago: stale under a 7-day period
    s_report (rm, p13, 1000, 1000, 1000, true, rm_date (-10, 0));
    Pmo__RiskmonReply *reply = rm_wait_health (rm, p13, 2, PMO__RAG__RAG_AMBER);
    Pmo__HealthAssessment *a = reply->health->current;
    assert (a->reporting == PMO__RAG__RAG_AMBER && s_fired (a, "report_stale"));
    assert (a->inputs->reporting_period_days == 7);
    rm_free (&reply);
    //  Back to the default 30 days: fresh again, without another report
    s_reporting_policy (rm, "dft-road", 0);
    reply = rm_wait_health (rm, p13, 3, PMO__RAG__RAG_GREEN);
    a = reply->health->current;
    assert (a->reporting == PMO__RAG__RAG_GREEN && !s_fired (a, "report_stale"));
    assert (streq (a->trigger, "time"));
    rm_free (&reply);
    printf ("reporting period from the unit's policy, and its change: ok\n");
}

static void s_restart (rm_t *rm)
{
    char p12[40];
    s_project (rm, "DFT-12", "dft", p12);
    //  Stopped: events wait in the stream; restarted: it catches up
    rm_actor_stop (rm);
    s_report (rm, p12, 1000, 800, 0, false, rm_date (0, 0));
    rm_actor_start (rm);
    Pmo__RiskmonReply *reply = rm_wait_health (rm, p12, 1, PMO__RAG__RAG_RED);
    rm_free (&reply);
    Pmo__PingRequest stats = PMO__PING_REQUEST__INIT;
    RM_REQUEST (request, stats, STATS) = &stats;
    reply = rm_call (rm, &request);
    rm_ok (reply);
    assert (reply->stats->n_streams == 3); //  hub, dft, ops
    rm_free (&reply);
    printf ("restart catches up: ok\n");
}

//  The events of division's stream written by the risk monitor: calls fn
//  with each.
static void s_riskmon_events (rm_t *rm, const char *division,
                              void (*fn) (const Pmo__Event *event, void *arg), void *arg)
{
    redisReply *reply =
        pmo_test_redis_command (rm->rh->redis, "XRANGE pmo:{%s}:events - +", division);
    assert (reply && reply->type == REDIS_REPLY_ARRAY);
    for (size_t i = 0; i < reply->elements; i++) {
        redisReply *fields = reply->element[i]->element[1];
        for (size_t f = 0; f + 1 < fields->elements; f += 2) {
            if (!streq (fields->element[f]->str, "data"))
                continue;
            Pmo__Event *event = pmo__event__unpack (NULL, fields->element[f + 1]->len,
                                                    (const uint8_t *)fields->element[f + 1]->str);
            assert (event);
            if (streq (event->source, "riskmon"))
                fn (event, arg);
            pmo__event__free_unpacked (event, NULL);
        }
    }
    freeReplyObject (reply);
}

typedef struct {
    const char *project;
    size_t derived, own;
} s_via_count_t;

static void s_check_via (const Pmo__Event *event, void *arg)
{
    s_via_count_t *count = arg;
    if (streq (event->actor, "riskmon")) {
        //  On its own account (escalations, time passing): its own key,
        //  the tests' principal
        assert (streq (event->actor_via, "key:test"));
        count->own++;
    } else if (streq (event->entity_id, count->project)) {
        //  After a request: the requester, as authenticated
        assert (streq (event->actor, "admin@test"));
        assert (streq (event->actor_via, "token:tok-via"));
        count->derived++;
    }
}

//  The risk monitor's events say how their actor was authenticated: the
//  one of the event or request that caused them, or its own key.
static void s_actor_via (rm_t *rm)
{
    rh_as (rm->rh, "admin@test", "admin@hub");
    rm->rh->identity.via = "token:tok-via"; //  this key may claim it
    char p[40];
    s_project (rm, "VIA-1", "dft-rail", p);
    s_report (rm, p, 1000, 850, 0, false, rm_date (-1, 0));
    Pmo__RiskmonReply *reply = rm_wait_health (rm, p, 1, PMO__RAG__RAG_RED);
    rm_free (&reply);
    s_via_count_t count = {p, 0, 0};
    const char *divisions[] = {"dft", "ops", "hub"};
    for (int i = 0; i < 3; i++)
        s_riskmon_events (rm, divisions[i], s_check_via, &count);
    //  health.changed (and the alert it raised) after the report; the
    //  escalations of s_escalation on the risk monitor's own account
    assert (count.derived >= 2 && count.own >= 1);
    rm->rh->identity.via = "";
}

static Pmo__RiskmonReply *s_health_of (rm_t *rm, const char *project)
{
    Pmo__HealthRequest health = PMO__HEALTH_REQUEST__INIT;
    health.project_id = (char *)project;
    RM_REQUEST (request, health, HEALTH) = &health;
    return rm_call (rm, &request);
}

//  Projects named by their code wherever an id is asked for: resolved
//  through the registry (lib/orgtree), stored as the id; a code naming
//  nothing the caller may see is not found, naming the code.
static void s_codes (rm_t *rm)
{
    char p14[40], twin_dft[40], twin_ops[40];
    rh_as (rm->rh, "admin@test", "admin@hub");
    s_project (rm, "DFT-14", "dft", p14);
    s_project (rm, "TWIN-1", "dft", twin_dft);
    s_project (rm, "TWIN-1", "ops", twin_ops);
    rh_as (rm->rh, "risk@dft", "risk_manager@dft");
    Pmo__RiskmonReply *reply = s_health_of (rm, "DFT-14");
    rm_ok (reply);
    assert (reply->health->current);
    rm_free (&reply);
    reply = s_create_risk (rm, "DFT-14", 2, 2, "risk@dft", 0);
    rm_ok (reply);
    assert (streq (reply->risk->project_id, p14));
    rm_free (&reply);
    reply = s_list (rm, PMO__REGISTER_KIND__REGISTER_KIND_RISK, "DFT-14", NULL, false);
    assert (reply->page->n_risks == 1 && streq (reply->page->risks[0]->project_id, p14));
    rm_free (&reply);
    //  A code that names nothing: not found, naming the code
    reply = s_create_risk (rm, "DFT-404", 2, 2, "risk@dft", 0);
    rm_err (reply, NOT_FOUND, "create_risk.project_id");
    assert (strstr (reply->error->message, "'DFT-404'"));
    rm_free (&reply);
    //  A project the caller may not see: the same answer, its id not given away
    rh_as (rm->rh, "risk@ops", "risk_manager@ops");
    reply = s_health_of (rm, "DFT-14");
    rm_err (reply, NOT_FOUND, "health.project_id");
    assert (strstr (reply->error->message, "'DFT-14'") && !strstr (reply->error->message, p14));
    rm_free (&reply);
    //  One code in two divisions, judged with the caller's view: ops' own
    //  for ops' risk manager, and nothing said of dft's
    reply = s_health_of (rm, "TWIN-1");
    rm_ok (reply);
    assert (streq (reply->health->current->project_id, twin_ops));
    rm_free (&reply);
    //  Who reads both divisions (the hub) must give the id
    rh_as (rm->rh, "viewer@hub", "viewer@hub");
    reply = s_health_of (rm, "TWIN-1");
    rm_err (reply, INVALID, "health.project_id");
    assert (!strstr (reply->error->message, twin_ops) && !strstr (reply->error->message, twin_dft));
    rm_free (&reply);
    reply = s_health_of (rm, twin_ops);
    rm_ok (reply);
    rm_free (&reply);
    //  No registry: a code cannot be resolved, and the caller may retry
    rh_actor_stop (rm->rh);
    reply = s_health_of (rm, "TWIN-1");
    rm_err (reply, UNAVAILABLE, "");
    assert (reply->error->retryable);
    rm_free (&reply);
    rh_actor_start (rm->rh);
    printf ("project codes wherever ids are: ok\n");
}

int main (void)
{
    rm_t *rm = rm_start ();
    s_org (rm);
    s_health_from_reports (rm);
    s_milestone_on_time (rm);
    s_critical_risk (rm);
    s_overallocation (rm);
    s_rollup (rm);
    s_escalation (rm);
    s_flapping (rm);
    s_registers (rm);
    s_reporting_period (rm);
    s_restart (rm);
    s_actor_via (rm);
    s_codes (rm);
    rm_stop (&rm);
    printf ("test_riskmon: ok\n");
    return 0;
}
