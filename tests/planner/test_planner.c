/*  test_planner.c: the planner service end to end, with a real
    redis-server and the registry and planner actors in-process on real
    TCP sockets.

    Benefits: created, measured against the profile, the lag alert raised
    and cleared with its events on the division's stream (and a retried
    request changing nothing twice), roll-ups by currency, a division's
    benefits hidden from another's people. Policies: inherited and
    tightened only. Scores and the ranked list. Scenarios: solved over the
    registry's projects, refused over a division the caller cannot see,
    infeasible constraints named, and committing yields the proposed gate
    decisions and nothing else (the registry's projects are unchanged).
    Time: a benefit whose profile passes a period unmeasured is raised by
    the planner's lag sweep (the planner restarted a few months on).
*/
#include "events.pb-c.h"
#include "planner.pb-c.h"
#include "planner_server.h"
#include "pmo_util.h"
#include "registry_harness.h"

#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

static rh_t *s_rh;
static pmo_client_t *s_client;
static planner_config_t s_config;
static char s_endpoint[64], s_pub[64];

static Pmo__PlannerReply *s_call_with_id (Pmo__PlannerRequest *request, const char *request_id)
{
    Pmo__Header header;
    char id[40];
    pmo_header_init (&header, id, 20000, &s_rh->identity);
    if (request_id)
        header.request_id = (char *)request_id;
    request->header = &header;
    ProtobufCMessage *reply = NULL;
    int rc = pmo_client_call (s_client, &request->base, &pmo__planner_reply__descriptor, 20000, 1,
                              &reply);
    request->header = NULL;
    assert (rc == 0);
    return (Pmo__PlannerReply *)reply;
}

static Pmo__PlannerReply *s_call (Pmo__PlannerRequest *request)
{
    return s_call_with_id (request, NULL);
}

#define OK(reply) pmo_test_reply_ok_at (&(reply)->base, __FILE__, __LINE__)
#define ERR(reply, code, fld)                                                                      \
    pmo_test_reply_err_at (&(reply)->base, PMO__ERROR_CODE__ERROR_##code, fld, __FILE__, __LINE__)

static void s_free (Pmo__PlannerReply **reply)
{
    protobuf_c_message_free_unpacked (&(*reply)->base, NULL);
    *reply = NULL;
}

static char *s_project (const char *code, const char *unit)
{
    Pmo__RegistryReply *reply = rh_project (s_rh, code, unit);
    rh_ok (reply);
    char *id = strdup (reply->project->id);
    rh_free (&reply);
    return id;
}

//  Events of a type about an entity in a division's stream.
static size_t s_events (const char *division, const char *type, const char *entity)
{
    redisReply *reply =
        pmo_test_redis_command (s_rh->redis, "XRANGE pmo:{%s}:events - + COUNT 10000", division);
    assert (reply && reply->type == REDIS_REPLY_ARRAY);
    size_t count = 0;
    for (size_t i = 0; i < reply->elements; i++) {
        redisReply *fields = reply->element[i]->element[1];
        const char *t = NULL;
        Pmo__Event *event = NULL;
        for (size_t f = 0; f + 1 < fields->elements; f += 2) {
            if (streq (fields->element[f]->str, "type"))
                t = fields->element[f + 1]->str;
            else if (streq (fields->element[f]->str, "data"))
                event = pmo__event__unpack (NULL, fields->element[f + 1]->len,
                                            (const uint8_t *)fields->element[f + 1]->str);
        }
        assert (event);
        if (t && streq (t, type) && (!entity || streq (event->entity_id, entity)))
            count++;
        pmo__event__free_unpacked (event, NULL);
    }
    freeReplyObject (reply);
    return count;
}

//  ---------------------------------------------------------------------
//  Benefits

static Pmo__BenefitPoint *s_points (const char **periods, const double *values, size_t n)
{
    Pmo__BenefitPoint *points = calloc (n, sizeof (Pmo__BenefitPoint));
    for (size_t i = 0; i < n; i++) {
        pmo__benefit_point__init (&points[i]);
        points[i].period = (char *)periods[i];
        points[i].value = values[i];
    }
    return points;
}

static Pmo__PlannerReply *s_create_benefit (const char *unit, const char *currency, double target,
                                            const char *project, const char *programme)
{
    static const char *periods[] = {"2027-01", "2027-07", "2028-01"};
    double values[] = {target / 4, target / 2, target};
    Pmo__BenefitPoint *points = s_points (periods, values, 3);
    Pmo__BenefitPoint *ptrs[] = {&points[0], &points[1], &points[2]};
    Pmo__Benefit b = PMO__BENEFIT__INIT;
    b.title = "Lower running cost";
    b.org_unit = (char *)unit;
    b.kind = PMO__BENEFIT_KIND__BENEFIT_KIND_CASHABLE;
    b.owner = "finance.director";
    b.measure = "running cost saved (cumulative)";
    b.currency = (char *)currency;
    b.target = target;
    b.profile = ptrs;
    b.n_profile = 3;
    char *projects[] = {(char *)project};
    char *programmes[] = {(char *)programme};
    b.project_ids = projects;
    b.n_project_ids = project ? 1 : 0;
    b.programme_ids = programmes;
    b.n_programme_ids = programme ? 1 : 0;
    Pmo__PlannerRequest request = PMO__PLANNER_REQUEST__INIT;
    request.body_case = PMO__PLANNER_REQUEST__BODY_CREATE_BENEFIT;
    request.create_benefit = &b;
    Pmo__PlannerReply *reply = s_call (&request);
    free (points);
    return reply;
}

static Pmo__PlannerReply *s_measure (const char *id, uint64_t version, const char *period,
                                     double value, const char *request_id)
{
    Pmo__RecordMeasurementRequest m = PMO__RECORD_MEASUREMENT_REQUEST__INIT;
    m.benefit_id = (char *)id;
    m.version = version;
    m.period = (char *)period;
    m.value = value;
    Pmo__PlannerRequest request = PMO__PLANNER_REQUEST__INIT;
    request.body_case = PMO__PLANNER_REQUEST__BODY_RECORD_MEASUREMENT;
    request.record_measurement = &m;
    return s_call_with_id (&request, request_id);
}

static Pmo__PlannerReply *s_rollup (const char *unit, Pmo__RollupBy by)
{
    Pmo__BenefitRollupRequest r = PMO__BENEFIT_ROLLUP_REQUEST__INIT;
    r.org_unit = (char *)unit;
    r.by = by;
    Pmo__PlannerRequest request = PMO__PLANNER_REQUEST__INIT;
    request.body_case = PMO__PLANNER_REQUEST__BODY_ROLLUP_BENEFITS;
    request.rollup_benefits = &r;
    return s_call (&request);
}

static void s_benefits (const char *project)
{
    rh_as (s_rh, "pm@dft", "project_manager@dft");
    Pmo__PlannerReply *reply = s_create_benefit ("dft", "GBP", 1200000, project, "pg_dft_1");
    OK (reply);
    char *id = strdup (reply->benefit->id);
    uint64_t version = reply->benefit->version;
    assert (version == 1 && streq (reply->benefit->division, "dft"));
    assert (!reply->benefit->realisation->lagging);
    assert (reply->benefit->realisation->threshold == 0.10); //  the default
    s_free (&reply);
    assert (s_events ("dft", "benefit.created", id) == 1);
    //  A bad one changes nothing and says where
    reply = s_create_benefit ("dft", "pounds", 1000, project, NULL);
    ERR (reply, INVALID, "create_benefit.currency");
    s_free (&reply);
    //  On profile in January (300k of 300k)
    reply = s_measure (id, version, "2027-01", 300000, NULL);
    OK (reply);
    version = reply->benefit->version;
    assert (!reply->benefit->realisation->lagging);
    s_free (&reply);
    //  July: 400k of 600k expected, a third behind: the alert goes up, once
    //  even when the request is retried
    reply = s_measure (id, version, "2027-07", 400000, "measure-july");
    OK (reply);
    assert (reply->benefit->realisation->lagging);
    assert (fabs (reply->benefit->realisation->ratio - 400000.0 / 600000) < 1e-9);
    assert (fabs (reply->benefit->realisation->forecast - 800000) < 1e-6);
    version = reply->benefit->version;
    s_free (&reply);
    reply = s_measure (id, version - 1, "2027-07", 400000, "measure-july");
    OK (reply);
    assert (reply->benefit->version == version);
    s_free (&reply);
    assert (s_events ("dft", "benefit.lagging", id) == 1);
    assert (s_events ("dft", "benefit.measured", id) == 2);
    //  A stale version is refused
    reply = s_measure (id, version - 1, "2027-08", 1, NULL);
    ERR (reply, CONFLICT, "record_measurement.version");
    s_free (&reply);
    //  Only the lagging benefits
    Pmo__BenefitListRequest list = PMO__BENEFIT_LIST_REQUEST__INIT;
    list.org_unit = "dft";
    list.lagging_only = true;
    Pmo__PlannerRequest request = PMO__PLANNER_REQUEST__INIT;
    request.body_case = PMO__PLANNER_REQUEST__BODY_LIST_BENEFITS;
    request.list_benefits = &list;
    reply = s_call (&request);
    OK (reply);
    assert (reply->benefits->n_benefits == 1);
    s_free (&reply);
    //  Back on track in August: the alert clears
    reply = s_measure (id, version, "2027-08", 700000, NULL);
    OK (reply);
    assert (!reply->benefit->realisation->lagging);
    s_free (&reply);
    assert (s_events ("dft", "benefit.recovered", id) == 1);
    //  A second GBP benefit and a EUR one: the roll-up never adds currencies
    reply = s_create_benefit ("dft", "GBP", 100000, project, "pg_dft_1");
    OK (reply);
    s_free (&reply);
    reply = s_create_benefit ("dft", "EUR", 50000, project, "pg_dft_2");
    OK (reply);
    s_free (&reply);
    reply = s_rollup ("dft", PMO__ROLLUP_BY__ROLLUP_BY_DIVISION);
    OK (reply);
    assert (reply->rollup->n_rows == 2);
    Pmo__BenefitRollupRow *eur = reply->rollup->rows[0];
    Pmo__BenefitRollupRow *gbp = reply->rollup->rows[1];
    assert (streq (eur->unit, "EUR") && eur->benefits == 1 && eur->planned == 50000);
    assert (streq (gbp->unit, "GBP") && gbp->benefits == 2 && gbp->planned == 1300000);
    assert (gbp->realised == 700000 && gbp->lagging == 0);
    s_free (&reply);
    reply = s_rollup ("dft", PMO__ROLLUP_BY__ROLLUP_BY_PROGRAMME);
    OK (reply);
    assert (reply->rollup->n_rows == 2);
    assert (streq (reply->rollup->rows[0]->group, "pg_dft_1") &&
            reply->rollup->rows[0]->benefits == 2);
    s_free (&reply);
    //  Another division's people see none of it
    rh_as (s_rh, "pm@moj", "project_manager@moj");
    Pmo__BenefitGetRequest get = PMO__BENEFIT_GET_REQUEST__INIT;
    get.id = id;
    request.body_case = PMO__PLANNER_REQUEST__BODY_GET_BENEFIT;
    request.get_benefit = &get;
    reply = s_call (&request);
    ERR (reply, NOT_FOUND, "get_benefit.id");
    s_free (&reply);
    reply = s_rollup ("hub", PMO__ROLLUP_BY__ROLLUP_BY_HUB);
    OK (reply);
    assert (reply->rollup->n_rows == 0);
    s_free (&reply);
    reply = s_measure (id, 5, "2027-09", 1, NULL);
    ERR (reply, NOT_FOUND, "record_measurement.benefit_id");
    s_free (&reply);
    //  The hub sees both currencies in one group
    rh_as (s_rh, "director@hub", "pmo_director@hub");
    reply = s_rollup ("hub", PMO__ROLLUP_BY__ROLLUP_BY_HUB);
    OK (reply);
    assert (reply->rollup->n_rows == 2 && streq (reply->rollup->rows[0]->group, "hub"));
    s_free (&reply);
    free (id);
}

//  ---------------------------------------------------------------------
//  Policies and scores

static Pmo__PlannerReply *s_set_policy (const char *unit, double threshold, double value_weight,
                                        uint64_t version)
{
    Pmo__CriterionWeight align = PMO__CRITERION_WEIGHT__INIT;
    align.criterion = PMO__CRITERION__CRITERION_ALIGNMENT;
    align.theme = "net zero";
    align.weight = 3;
    Pmo__CriterionWeight value = PMO__CRITERION_WEIGHT__INIT;
    value.criterion = PMO__CRITERION__CRITERION_VALUE;
    value.weight = value_weight;
    Pmo__CriterionWeight *criteria[] = {&align, &value};
    Pmo__PlannerPolicy policy = PMO__PLANNER_POLICY__INIT;
    policy.org_unit = (char *)unit;
    policy.criteria = criteria;
    policy.n_criteria = value_weight > 0 ? 2 : 0;
    policy.lag_threshold = threshold;
    policy.version = version;
    Pmo__PlannerRequest request = PMO__PLANNER_REQUEST__INIT;
    request.body_case = PMO__PLANNER_REQUEST__BODY_SET_POLICY;
    request.set_policy = &policy;
    return s_call (&request);
}

static Pmo__PlannerReply *s_score (const char *project, uint32_t align, uint32_t value,
                                   bool mandatory, uint64_t version)
{
    Pmo__CriterionScore a = PMO__CRITERION_SCORE__INIT;
    a.criterion = PMO__CRITERION__CRITERION_ALIGNMENT;
    a.theme = "net zero";
    a.score = align;
    Pmo__CriterionScore v = PMO__CRITERION_SCORE__INIT;
    v.criterion = PMO__CRITERION__CRITERION_VALUE;
    v.score = value;
    Pmo__CriterionScore *scores[] = {&a, &v};
    Pmo__ScoreProjectRequest s = PMO__SCORE_PROJECT_REQUEST__INIT;
    s.project_id = (char *)project;
    s.scores = scores;
    s.n_scores = 2;
    s.mandatory = mandatory;
    s.mandatory_reason = mandatory ? "statutory duty (Rail Safety Act)" : "";
    s.version = version;
    Pmo__PlannerRequest request = PMO__PLANNER_REQUEST__INIT;
    request.body_case = PMO__PLANNER_REQUEST__BODY_SCORE_PROJECT;
    request.score_project = &s;
    return s_call (&request);
}

static void s_policies_and_scores (char **dft)
{
    rh_as (s_rh, "director@hub", "pmo_director@hub");
    Pmo__PlannerReply *reply = s_set_policy ("hub", 0.2, 2, 0);
    OK (reply);
    s_free (&reply);
    //  The hub is controlling: dft may tighten the threshold, not loosen it
    rh_as (s_rh, "manager@dft", "pmo_manager@dft");
    reply = s_set_policy ("dft", 0.3, 0, 0);
    ERR (reply, FAILED_PRECONDITION, "set_policy.lag_threshold");
    s_free (&reply);
    reply = s_set_policy ("dft", 0.1, 1, 0);
    ERR (reply, FAILED_PRECONDITION, "set_policy.criteria");
    s_free (&reply);
    reply = s_set_policy ("dft", 0.05, 0, 0);
    OK (reply);
    s_free (&reply);
    Pmo__PolicyRequest get = PMO__POLICY_REQUEST__INIT;
    get.org_unit = "dft";
    Pmo__PlannerRequest request = PMO__PLANNER_REQUEST__INIT;
    request.body_case = PMO__PLANNER_REQUEST__BODY_GET_POLICY;
    request.get_policy = &get;
    reply = s_call (&request);
    OK (reply);
    assert (reply->policy->policy->lag_threshold == 0.05);
    assert (streq (reply->policy->threshold_from, "dft") &&
            streq (reply->policy->criteria_from, "hub"));
    assert (reply->policy->policy->n_criteria == 2);
    s_free (&reply);
    //  A project manager may not set policies, nor score
    rh_as (s_rh, "pm@dft", "project_manager@dft");
    reply = s_set_policy ("dft", 0.04, 0, 1);
    ERR (reply, FORBIDDEN, NULL);
    s_free (&reply);
    reply = s_score (dft[0], 5, 5, false, 0);
    ERR (reply, FORBIDDEN, NULL);
    s_free (&reply);
    //  An analyst scores; (3 * a + 2 * v) / 5 * 10
    rh_as (s_rh, "analyst@dft", "pmo_analyst@dft");
    reply = s_score (dft[0], 10, 5, false, 0);
    OK (reply);
    assert (fabs (reply->score->total - 80) < 1e-9);
    assert (streq (reply->score->scores[0]->scored_by, "analyst@dft"));
    assert (reply->score->scores[0]->scored_ms > 0);
    s_free (&reply);
    reply = s_score (dft[1], 2, 2, false, 0);
    OK (reply);
    s_free (&reply);
    reply = s_score (dft[2], 4, 4, true, 0);
    OK (reply);
    s_free (&reply);
    reply = s_score (dft[0], 10, 5, false, 0);
    ERR (reply, INVALID, "score_project.version");
    s_free (&reply);
    reply = s_score (dft[0], 10, 5, false, 7);
    ERR (reply, CONFLICT, "score_project.version");
    s_free (&reply);
    //  By code, as people know the project: the same project (its version
    //  is what is checked); a code naming nothing visible is not found
    reply = s_score ("DFT-2027-001", 10, 5, false, 7);
    ERR (reply, CONFLICT, "score_project.version");
    s_free (&reply);
    reply = s_score ("DFT-2027-404", 10, 5, false, 1);
    ERR (reply, NOT_FOUND, "score_project.project_id");
    assert (strstr (reply->error->message, "'DFT-2027-404'"));
    s_free (&reply);
    reply = s_score ("MOJ-2027-001", 10, 5, false, 1);
    ERR (reply, NOT_FOUND, "score_project.project_id");
    s_free (&reply);
    Pmo__RankingRequest ranking = PMO__RANKING_REQUEST__INIT;
    ranking.org_unit = "dft";
    request.body_case = PMO__PLANNER_REQUEST__BODY_RANKING;
    request.ranking = &ranking;
    reply = s_call (&request);
    OK (reply);
    Pmo__Ranking *r = reply->ranking;
    assert (r->n_projects == 4); //  the fourth unscored, last
    assert (streq (r->projects[0]->project_id, dft[2]) && r->projects[0]->mandatory);
    assert (streq (r->projects[1]->project_id, dft[0]) && r->projects[1]->rank == 2);
    assert (streq (r->projects[2]->project_id, dft[1]));
    assert (streq (r->projects[3]->project_id, dft[3]) && r->projects[3]->total == 0);
    s_free (&reply);
}

//  ---------------------------------------------------------------------
//  Scenarios

static Pmo__Candidate *s_candidate (const char *id, double value, int64_t cost)
{
    Pmo__Candidate *c = calloc (1, sizeof *c);
    pmo__candidate__init (c);
    c->project_id = (char *)id;
    c->value = value;
    c->cost_by_quarter = calloc (2, sizeof (int64_t));
    c->cost_by_quarter[0] = c->cost_by_quarter[1] = cost / 2;
    c->n_cost_by_quarter = 2;
    return c;
}

static void s_candidate_free (Pmo__Candidate *c)
{
    free (c->cost_by_quarter);
    free (c);
}

static void s_scenarios (char **dft, const char *moj_project)
{
    //  dft[2] is mandatory (its score says so); dft[0] and dft[1] compete
    //  for what is left of a 1000 budget in year 0
    Pmo__Candidate *cands[] = {s_candidate (dft[0], 80, 600), s_candidate (dft[1], 20, 300),
                               s_candidate (dft[2], 40, 400), s_candidate (dft[3], 30, 500)};
    Pmo__BudgetLimit budget = PMO__BUDGET_LIMIT__INIT;
    budget.division = "dft";
    budget.limit_minor = 1000;
    Pmo__BudgetLimit *budgets[] = {&budget};
    Pmo__ScenarioSpec spec = PMO__SCENARIO_SPEC__INIT;
    spec.name = "FY27 base case";
    spec.org_unit = "dft";
    spec.start = "2027-04-01";
    spec.candidates = cands;
    spec.n_candidates = 4;
    spec.budgets = budgets;
    spec.n_budgets = 1;
    //  Optimality is asserted: no wall-clock limit in reach, even under
    //  valgrind on a loaded machine (the default 10 s can be: 120 s is the
    //  most a spec may ask)
    spec.time_limit_ms = 120000;
    Pmo__PlannerRequest request = PMO__PLANNER_REQUEST__INIT;
    request.body_case = PMO__PLANNER_REQUEST__BODY_SOLVE_SCENARIO;
    request.solve_scenario = &spec;
    //  Over moj, which a dft analyst cannot see: refused
    rh_as (s_rh, "analyst@dft", "pmo_analyst@dft");
    spec.org_unit = "moj";
    Pmo__PlannerReply *reply = s_call (&request);
    ERR (reply, FORBIDDEN, NULL);
    s_free (&reply);
    //  And a moj project slipped into a dft scenario is not found there
    spec.org_unit = "dft";
    cands[3]->project_id = (char *)moj_project;
    reply = s_call (&request);
    ERR (reply, NOT_FOUND, "solve_scenario.candidates[3].project_id");
    s_free (&reply);
    cands[3]->project_id = dft[3];
    //  Optimum: dft[2] (mandatory, 400) + dft[0] (600) = 120; the others out
    reply = s_call (&request);
    OK (reply);
    Pmo__Scenario *s = reply->scenario;
    assert (s->result->feasible && s->result->optimal && s->result->objective == 120);
    assert (s->result->candidates[0]->placement == PMO__PLACEMENT__PLACEMENT_IN);
    assert (s->result->candidates[1]->placement == PMO__PLACEMENT__PLACEMENT_OUT);
    assert (streq (s->result->candidates[1]->reason, "budget dft year 0"));
    assert (s->result->candidates[2]->placement == PMO__PLACEMENT__PLACEMENT_IN);
    assert (s->result->n_binding == 1 && streq (s->result->binding[0]->name, "budget dft year 0"));
    char *first = strdup (s->id);
    uint64_t version = s->version;
    s_free (&reply);
    assert (s_events ("dft", "scenario.solved", first) == 1);
    //  A second scenario with more money, side by side
    budget.limit_minor = 1500;
    spec.name = "FY27 stretch";
    reply = s_call (&request);
    OK (reply);
    assert (reply->scenario->result->objective == 150);
    char *second = strdup (reply->scenario->id);
    s_free (&reply);
    char *ids[] = {first, second};
    Pmo__CompareRequest compare = PMO__COMPARE_REQUEST__INIT;
    compare.ids = ids;
    compare.n_ids = 2;
    Pmo__PlannerRequest creq = PMO__PLANNER_REQUEST__INIT;
    creq.body_case = PMO__PLANNER_REQUEST__BODY_COMPARE;
    creq.compare = &compare;
    reply = s_call (&creq);
    OK (reply);
    assert (reply->comparison->n_rows == 4);
    Pmo__ComparisonRow *row = reply->comparison->rows[3]; //  dft[3]: in with more money
    assert (row->placements[0] == PMO__PLACEMENT__PLACEMENT_OUT &&
            row->placements[1] == PMO__PLACEMENT__PLACEMENT_IN);
    s_free (&reply);
    //  Infeasible: the mandatory project alone exceeds the budget
    budget.limit_minor = 300;
    spec.name = "FY27 cut";
    reply = s_call (&request);
    OK (reply);
    assert (!reply->scenario->result->feasible);
    Pmo__ScenarioResult *cut = reply->scenario->result;
    assert (cut->n_conflicts == 2);
    char mandatory[80];
    snprintf (mandatory, sizeof mandatory, "mandatory %s", dft[2]);
    assert (streq (cut->conflicts[0], mandatory) || streq (cut->conflicts[1], mandatory));
    assert (streq (cut->conflicts[0], "budget dft year 0") ||
            streq (cut->conflicts[1], "budget dft year 0"));
    s_free (&reply);
    //  The frontier rises with the budget
    budget.limit_minor = 100000;
    Pmo__FrontierRequest frontier = PMO__FRONTIER_REQUEST__INIT;
    frontier.spec = &spec;
    frontier.points = 4;
    Pmo__PlannerRequest freq = PMO__PLANNER_REQUEST__INIT;
    freq.body_case = PMO__PLANNER_REQUEST__BODY_FRONTIER;
    freq.frontier = &frontier;
    reply = s_call (&freq);
    OK (reply);
    assert (reply->scenario->n_frontier >= 3);
    for (size_t k = 1; k < reply->scenario->n_frontier; k++)
        assert (reply->scenario->frontier[k]->value >= reply->scenario->frontier[k - 1]->value);
    s_free (&reply);
    //  An analyst may not commit; a PMO manager may, once
    Pmo__CommitScenarioRequest commit = PMO__COMMIT_SCENARIO_REQUEST__INIT;
    commit.id = first;
    commit.version = version;
    Pmo__PlannerRequest kreq = PMO__PLANNER_REQUEST__INIT;
    kreq.body_case = PMO__PLANNER_REQUEST__BODY_COMMIT_SCENARIO;
    kreq.commit_scenario = &commit;
    reply = s_call (&kreq);
    ERR (reply, FORBIDDEN, NULL);
    s_free (&reply);
    //  What the registry holds before
    Pmo__RegistryReply *before[4];
    for (int i = 0; i < 4; i++) {
        before[i] = rh_get (s_rh, PMO__ENTITY_KIND__ENTITY_KIND_PROJECT, dft[i]);
        rh_ok (before[i]);
    }
    size_t registry_events =
        s_events ("dft", "project.updated", NULL) + s_events ("dft", "project.gate_decided", NULL);
    rh_as (s_rh, "manager@dft", "pmo_manager@dft");
    reply = s_call (&kreq);
    OK (reply);
    Pmo__Proposals *p = reply->proposals;
    assert (streq (p->scenario_id, first) && p->n_decisions == 4);
    assert (p->decisions[0]->decision == PMO__GATE_PROPOSAL__GATE_PROPOSAL_GO);
    assert (p->decisions[1]->decision == PMO__GATE_PROPOSAL__GATE_PROPOSAL_HOLD);
    assert (strstr (p->decisions[1]->reason, "budget dft year 0"));
    assert (p->decisions[2]->decision == PMO__GATE_PROPOSAL__GATE_PROPOSAL_GO);
    assert (p->decisions[3]->decision == PMO__GATE_PROPOSAL__GATE_PROPOSAL_HOLD);
    s_free (&reply);
    //  ... and nothing else: the projects are as they were, no gate was decided
    for (int i = 0; i < 4; i++) {
        Pmo__RegistryReply *after = rh_get (s_rh, PMO__ENTITY_KIND__ENTITY_KIND_PROJECT, dft[i]);
        rh_ok (after);
        assert (after->project->version == before[i]->project->version);
        assert (after->project->status == before[i]->project->status);
        assert (after->project->phase == before[i]->project->phase);
        rh_free (&after);
        rh_free (&before[i]);
    }
    assert (s_events ("dft", "project.updated", NULL) +
                s_events ("dft", "project.gate_decided", NULL) ==
            registry_events);
    assert (s_events ("dft", "scenario.committed", first) == 1);
    commit.version = version + 1;
    reply = s_call (&kreq);
    ERR (reply, FAILED_PRECONDITION, "commit_scenario.id");
    s_free (&reply);
    for (int i = 0; i < 4; i++)
        s_candidate_free (cands[i]);
    free (first);
    free (second);
}

static Pmo__PlannerReply *s_get_benefit (const char *id)
{
    Pmo__BenefitGetRequest get = PMO__BENEFIT_GET_REQUEST__INIT;
    get.id = (char *)id;
    Pmo__PlannerRequest request = PMO__PLANNER_REQUEST__INIT;
    request.body_case = PMO__PLANNER_REQUEST__BODY_GET_BENEFIT;
    request.get_benefit = &get;
    return s_call (&request);
}

//  Time passes (the planner restarted three months on): a benefit whose
//  profile passed January unmeasured gets its lag alert from the sweep,
//  once, and loses it when February is measured on profile.
static void s_lag_sweep (zactor_t **actor, const char *project)
{
    rh_as (s_rh, "pm@dft", "project_manager@dft");
    Pmo__PlannerReply *reply = s_create_benefit ("dft", "GBP", 400000, project, NULL);
    OK (reply);
    assert (!reply->benefit->realisation->lagging); //  December: January has not passed
    char *id = strdup (reply->benefit->id);
    s_free (&reply);
    zactor_destroy (actor);
    s_config.month = "2027-03";
    s_config.lag_sweep_ms = 100;
    *actor = pmo_test_actor_new (planner_server_actor, &s_config, &s_config.failed);
    assert (*actor);
    //  Wait for the sweep's change (a condition with a generous deadline)
    bool lagging = false;
    int64_t deadline = pmo_mono_ms () + 30000;
    while (!lagging && pmo_mono_ms () < deadline) {
        reply = s_get_benefit (id);
        OK (reply);
        const Pmo__BenefitRealisation *r = reply->benefit->realisation;
        lagging = r->lagging;
        if (lagging)
            assert (r->overdue && streq (r->overdue_period, "2027-01") &&
                    reply->benefit->version == 2);
        s_free (&reply);
        if (!lagging)
            zclock_sleep (20);
    }
    assert (lagging);
    assert (s_events ("dft", "benefit.lagging", id) == 1);
    //  February measured on profile (expected 116,667): the alert clears
    reply = s_measure (id, 2, "2027-02", 150000, NULL);
    OK (reply);
    assert (!reply->benefit->realisation->lagging && !reply->benefit->realisation->overdue);
    s_free (&reply);
    assert (s_events ("dft", "benefit.recovered", id) == 1);
    assert (s_events ("dft", "benefit.lagging", id) == 1);
    free (id);
}

int main (void)
{
    s_rh = rh_start ();
    Pmo__RegistryReply *reply = rh_unit (s_rh, "hub", "enterprise", NULL, "controlling");
    rh_ok (reply);
    rh_free (&reply);
    reply = rh_unit (s_rh, "dft", "division", "hub", "controlling");
    rh_ok (reply);
    rh_free (&reply);
    reply = rh_unit (s_rh, "moj", "division", "hub", "supportive");
    rh_ok (reply);
    rh_free (&reply);
    snprintf (s_endpoint, sizeof s_endpoint, "tcp://127.0.0.1:%d", pmo_test_free_port ());
    snprintf (s_pub, sizeof s_pub, "tcp://127.0.0.1:%d", pmo_test_free_port ());
    s_config = (planner_config_t){
        .endpoint = s_endpoint,
        .pub_endpoint = s_pub,
        .redis_url = pmo_test_redis_url (s_rh->redis),
        .hub = "hub",
        .registry = s_rh->endpoint,
        .redis_timeout_ms = 2000,
        .month = "2026-12", //  the fixtures' profiles start in 2027
    };
    zactor_t *actor = pmo_test_actor_new (planner_server_actor, &s_config, &s_config.failed);
    assert (actor);
    s_client = pmo_client_new (s_endpoint);
    char *dft[4];
    for (int i = 0; i < 4; i++) {
        char code[32];
        snprintf (code, sizeof code, "DFT-2027-%03d", i + 1);
        dft[i] = s_project (code, "dft");
    }
    char *moj = s_project ("MOJ-2027-001", "moj");
    s_benefits (dft[0]);
    s_policies_and_scores (dft);
    s_scenarios (dft, moj);
    s_lag_sweep (&actor, dft[0]);
    for (int i = 0; i < 4; i++)
        free (dft[i]);
    free (moj);
    pmo_client_destroy (&s_client);
    zactor_destroy (&actor);
    rh_stop (&s_rh);
    printf ("test_planner: ok\n");
    return 0;
}
