/*  test_riskmon_benefits.c: the benefits realisation alert through real
    services: the registry, the planner and the risk monitor actors
    in-process on one real redis-server, real ZeroMQ.

    A benefit linked to a project is measured behind its profile: the
    planner judges it lagging (the PMO's threshold) and says so on the
    division's stream; the risk monitor raises a benefit_lagging alert for
    it (critical: less than half the expected change), assigned and
    acknowledgeable like any alert, without changing the project's colour.
    The same lagging event delivered again (at least once) raises nothing
    more (replayed after the recovery, it does not bring the lag back). A
    measurement back on profile clears it: after the cool-down the risk
    monitor resolves the alert itself.
*/
#include "planner.pb-c.h"
#include "planner_server.h"
#include "riskmon_harness.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static rm_t *s_rm;
static pmo_client_t *s_planner;

static Pmo__PlannerReply *s_plan (Pmo__PlannerRequest *request)
{
    Pmo__Header header;
    char id[40];
    pmo_header_init (&header, id, 20000, &s_rm->rh->identity);
    request->header = &header;
    ProtobufCMessage *reply = NULL;
    assert (pmo_client_call (s_planner, &request->base, &pmo__planner_reply__descriptor, 20000, 1,
                             &reply) == 0);
    Pmo__PlannerReply *r = (Pmo__PlannerReply *)reply;
    if (r->error) {
        fprintf (stderr, "test: planner: %s [%s]\n", r->error->message, r->error->field);
        abort ();
    }
    return r;
}

static uint64_t s_measure (const char *id, uint64_t version, const char *period, double value,
                           bool *lagging)
{
    Pmo__RecordMeasurementRequest m = PMO__RECORD_MEASUREMENT_REQUEST__INIT;
    m.benefit_id = (char *)id;
    m.version = version;
    m.period = (char *)period;
    m.value = value;
    Pmo__PlannerRequest request = PMO__PLANNER_REQUEST__INIT;
    request.body_case = PMO__PLANNER_REQUEST__BODY_RECORD_MEASUREMENT;
    request.record_measurement = &m;
    Pmo__PlannerReply *reply = s_plan (&request);
    uint64_t next = reply->benefit->version;
    *lagging = reply->benefit->realisation->lagging;
    protobuf_c_message_free_unpacked (&reply->base, NULL);
    return next;
}

static Pmo__RiskmonReply *s_alerts (const char *project, bool include_closed)
{
    Pmo__RiskmonListRequest list = PMO__RISKMON_LIST_REQUEST__INIT;
    list.kind = PMO__REGISTER_KIND__REGISTER_KIND_ALERT;
    list.project_id = (char *)project;
    list.org_unit = "";
    list.include_closed = include_closed;
    Pmo__RiskmonRequest request = PMO__RISKMON_REQUEST__INIT;
    request.body_case = PMO__RISKMON_REQUEST__BODY_LIST;
    request.list = &list;
    Pmo__RiskmonReply *reply = rm_call (s_rm, &request);
    rm_ok (reply);
    return reply;
}

//  The benefit's alert among the project's, NULL if none.
static Pmo__Alert *s_benefit_alert (Pmo__RiskmonReply *reply, const char *benefit)
{
    for (size_t i = 0; i < reply->page->n_alerts; i++)
        if (reply->page->alerts[i]->kind == PMO__ALERT_KIND__ALERT_KIND_BENEFIT_LAGGING &&
            streq (reply->page->alerts[i]->subject_id, benefit))
            return reply->page->alerts[i];
    return NULL;
}

//  Wait (up to 20 s) until the project's health inputs hold the benefit
//  at version (as the risk monitor applied it).
static void s_wait_applied (const char *project, const char *benefit, uint64_t version)
{
    for (int i = 0; i < 1000; i++) {
        Pmo__RiskmonReply *reply = rm_health (s_rm, project);
        const Pmo__HealthInputs *in =
            reply->health && reply->health->current ? reply->health->current->inputs : NULL;
        bool done = false;
        for (size_t b = 0; in && b < in->n_benefits; b++)
            done = done ||
                   (streq (in->benefits[b]->id, benefit) && in->benefits[b]->version >= version);
        rm_free (&reply);
        if (done)
            return;
        zclock_sleep (20);
    }
    fprintf (stderr, "test: the risk monitor never applied %s version %llu\n", benefit,
             (unsigned long long)version);
    abort ();
}

//  Stream events the risk monitor has applied so far.
static uint64_t s_applied (void)
{
    Pmo__PingRequest stats = PMO__PING_REQUEST__INIT;
    Pmo__RiskmonRequest request = PMO__RISKMON_REQUEST__INIT;
    request.body_case = PMO__RISKMON_REQUEST__BODY_STATS;
    request.stats = &stats;
    Pmo__RiskmonReply *reply = rm_call (s_rm, &request);
    rm_ok (reply);
    uint64_t applied = reply->stats->events_applied;
    rm_free (&reply);
    return applied;
}

//  The stream's last event of type about entity, decoded (caller frees).
static Pmo__Event *s_last_event (const char *division, const char *type, const char *entity)
{
    redisReply *reply = pmo_test_redis_command (
        s_rm->rh->redis, "XREVRANGE pmo:{%s}:events + - COUNT 1000", division);
    assert (reply && reply->type == REDIS_REPLY_ARRAY);
    Pmo__Event *found = NULL;
    for (size_t i = 0; i < reply->elements && !found; i++) {
        redisReply *fields = reply->element[i]->element[1];
        for (size_t f = 0; f + 1 < fields->elements; f += 2)
            if (streq (fields->element[f]->str, "data")) {
                Pmo__Event *event =
                    pmo__event__unpack (NULL, fields->element[f + 1]->len,
                                        (const uint8_t *)fields->element[f + 1]->str);
                if (event && streq (event->type, type) && streq (event->entity_id, entity))
                    found = event;
                else if (event)
                    pmo__event__free_unpacked (event, NULL);
            }
    }
    freeReplyObject (reply);
    assert (found);
    return found;
}

int main (void)
{
    s_rm = rm_start ();
    Pmo__RegistryReply *unit = rh_unit (s_rm->rh, "hub", "enterprise", NULL, "controlling");
    rh_ok (unit);
    rh_free (&unit);
    unit = rh_unit (s_rm->rh, "dft", "division", "hub", "controlling");
    rh_ok (unit);
    rh_free (&unit);
    Pmo__RegistryReply *created = rh_project (s_rm->rh, "DFT-1", "dft");
    rh_ok (created);
    char project[40];
    snprintf (project, sizeof project, "%s", created->project->id);
    rh_free (&created);
    Pmo__RiskmonReply *health = rm_wait_health (s_rm, project, 1, PMO__RAG__RAG_GREEN);
    rm_free (&health);

    char endpoint[64], pub[64];
    snprintf (endpoint, sizeof endpoint, "tcp://127.0.0.1:%d", pmo_test_free_port ());
    snprintf (pub, sizeof pub, "tcp://127.0.0.1:%d", pmo_test_free_port ());
    planner_config_t config = {
        .endpoint = endpoint,
        .pub_endpoint = pub,
        .redis_url = pmo_test_redis_url (s_rm->rh->redis),
        .hub = "hub",
        .registry = s_rm->rh->endpoint,
        .redis_timeout_ms = 2000,
        .month = "2026-12", //  the profile starts in 2027: nothing is overdue
    };
    zactor_t *planner = pmo_test_actor_new (planner_server_actor, &config, &config.failed);
    assert (planner);
    s_planner = pmo_client_new (endpoint);

    //  A benefit of the project: £10,000 a year by 2028, half by mid-2027
    Pmo__BenefitPoint p1 = PMO__BENEFIT_POINT__INIT, p2 = PMO__BENEFIT_POINT__INIT;
    p1.period = "2027-07", p1.value = 500000;
    p2.period = "2028-01", p2.value = 1000000;
    Pmo__BenefitPoint *profile[] = {&p1, &p2};
    char *projects[] = {project};
    Pmo__Benefit b = PMO__BENEFIT__INIT;
    b.title = "Lower running cost";
    b.org_unit = "dft";
    b.kind = PMO__BENEFIT_KIND__BENEFIT_KIND_CASHABLE;
    b.owner = "finance.director";
    b.measure = "running cost saved";
    b.currency = "GBP";
    b.target = 1000000;
    b.profile = profile;
    b.n_profile = 2;
    b.project_ids = projects;
    b.n_project_ids = 1;
    Pmo__PlannerRequest request = PMO__PLANNER_REQUEST__INIT;
    request.body_case = PMO__PLANNER_REQUEST__BODY_CREATE_BENEFIT;
    request.create_benefit = &b;
    Pmo__PlannerReply *reply = s_plan (&request);
    char benefit[64];
    snprintf (benefit, sizeof benefit, "%s", reply->benefit->id);
    uint64_t version = reply->benefit->version;
    protobuf_c_message_free_unpacked (&reply->base, NULL);
    s_wait_applied (project, benefit, version);
    Pmo__RiskmonReply *alerts = s_alerts (project, true);
    assert (!s_benefit_alert (alerts, benefit)); //  not measured yet: nothing lags
    rm_free (&alerts);

    //  Measured at 30 % of the expected change: lagging, and critical
    bool lagging;
    version = s_measure (benefit, version, "2027-07", 150000, &lagging);
    assert (lagging);
    s_wait_applied (project, benefit, version);
    alerts = s_alerts (project, false);
    Pmo__Alert *alert = s_benefit_alert (alerts, benefit);
    assert (alert && alert->state == PMO__ALERT_STATE__ALERT_STATE_OPEN);
    assert (alert->severity == PMO__ALERT_SEVERITY__ALERT_SEVERITY_CRITICAL);
    assert (strstr (alert->title, "DFT-1") && strstr (alert->detail, "Lower running cost") &&
            strstr (alert->detail, "30 %"));
    assert (alert->level == PMO__ESCALATION_LEVEL__ESCALATION_LEVEL_OWNER);
    //  Acknowledged like any alert
    Pmo__AlertActionRequest ack = PMO__ALERT_ACTION_REQUEST__INIT;
    ack.id = alert->id;
    ack.version = alert->version;
    Pmo__RiskmonRequest ack_request = PMO__RISKMON_REQUEST__INIT;
    ack_request.body_case = PMO__RISKMON_REQUEST__BODY_ACKNOWLEDGE_ALERT;
    ack_request.acknowledge_alert = &ack;
    Pmo__RiskmonReply *acked = rm_call (s_rm, &ack_request);
    rm_ok (acked);
    assert (acked->alert->state == PMO__ALERT_STATE__ALERT_STATE_ACKNOWLEDGED);
    rm_free (&acked);
    rm_free (&alerts);
    //  The project's colour is delivery's: unchanged
    health = rm_health (s_rm, project);
    assert (health->health->current->overall == PMO__RAG__RAG_GREEN);
    rm_free (&health);
    assert (rm_count_events (s_rm, "dft", "alert.raised", project) == 1);

    //  Back on profile: the alert clears (and after the cool-down resolves)
    Pmo__Event *lag_event = s_last_event ("dft", "benefit.lagging", benefit);
    version = s_measure (benefit, version, "2028-01", 1000000, &lagging);
    assert (!lagging);
    s_wait_applied (project, benefit, version);
    //  The old lagging event delivered again (at least once) changes nothing
    uint64_t applied = s_applied ();
    rm_xadd (s_rm, "dft", lag_event);
    pmo__event__free_unpacked (lag_event, NULL);
    for (int i = 0; i < 1000 && s_applied () == applied; i++)
        zclock_sleep (20);
    assert (s_applied () > applied);
    health = rm_health (s_rm, project);
    const Pmo__HealthInputs *in = health->health->current->inputs;
    assert (in->n_benefits == 1 && !in->benefits[0]->lagging &&
            in->benefits[0]->version == version);
    for (size_t i = 0; i < health->health->current->n_fired; i++)
        assert (!streq (health->health->current->fired[i]->rule, "benefit_lagging"));
    rm_free (&health);
    assert (rm_count_events (s_rm, "dft", "alert.raised", project) == 1);
    rm_advance_ms (86400000LL + 60000);
    bool resolved = false;
    for (int i = 0; i < 1000 && !resolved; i++) {
        alerts = s_alerts (project, false);
        resolved = !s_benefit_alert (alerts, benefit);
        rm_free (&alerts);
        if (!resolved)
            zclock_sleep (20);
    }
    assert (resolved);
    alerts = s_alerts (project, true);
    alert = s_benefit_alert (alerts, benefit);
    assert (alert && alert->state == PMO__ALERT_STATE__ALERT_STATE_RESOLVED &&
            streq (alert->resolved_by, "riskmon"));
    assert (alerts->page->n_alerts == 1);
    rm_free (&alerts);
    printf ("benefit lag alert raised, acknowledged, replayed, cleared: ok\n");

    pmo_client_destroy (&s_planner);
    zactor_destroy (&planner);
    rm_stop (&s_rm);
    printf ("test_riskmon_benefits: ok\n");
    return 0;
}
