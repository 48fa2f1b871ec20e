/*  test_planner_capacity.c: a scenario's capacity read from a real
    allocator.

    A real redis-server, the registry and allocator actors (through the
    allocator harness) and the planner actor in-process on real TCP. Two
    java people of 37 h a week in dft, one of them with 30 h committed to a
    running project for the first four weeks: a scenario with
    capacity_from_allocator sees 44 free java hours in those weeks and 74
    after, keeps that with the scenario, and so can take only one of two
    candidates that need 40 h and 30 h then (both would fit the people's
    74 h were the booking not subtracted). A skill nobody in the unit has
    is a row of zeros that keeps its candidate out. Capacity given and
    asked from the allocator at once is refused at the field; a planner
    with no allocator answers UNAVAILABLE at capacity_from_allocator.
*/
#include "allocator_harness.h"
#include "planner.pb-c.h"
#include "planner_server.h"
#include "pmo_json.h"
#include "pmo_util.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static ah_t *s_ah;
static pmo_client_t *s_planner;

//  A PlannerRequest from JSON, sent as admin@hub (the harness's identity)
static Pmo__PlannerReply *s_call (const char *format, ...) __attribute__ ((format (printf, 1, 2)));
static Pmo__PlannerReply *s_call (const char *format, ...)
{
    va_list args;
    va_start (args, format);
    char *json = NULL;
    int rc = vasprintf (&json, format, args);
    va_end (args);
    assert (rc >= 0);
    ProtobufCMessage *msg = NULL;
    pmo_json_error_t err;
    if (pmo_json_decode (&pmo__planner_request__descriptor, json, strlen (json), &msg, &err)) {
        fprintf (stderr, "bad request json at %s: %s\n", err.field, err.message);
        abort ();
    }
    free (json);
    Pmo__PlannerRequest *request = (Pmo__PlannerRequest *)msg;
    Pmo__Header header;
    char id[40];
    pmo_header_init (&header, id, 20000, &s_ah->identity);
    request->header = &header;
    ProtobufCMessage *reply = NULL;
    rc = pmo_client_call (s_planner, &request->base, &pmo__planner_reply__descriptor, 20000, 1,
                          &reply);
    request->header = NULL;
    protobuf_c_message_free_unpacked (msg, NULL);
    assert (rc == 0);
    return (Pmo__PlannerReply *)reply;
}

#define OK(reply) pmo_test_reply_ok_at (&(reply)->base, __FILE__, __LINE__)
#define ERR(reply, code, fld)                                                                      \
    pmo_test_reply_err_at (&(reply)->base, PMO__ERROR_CODE__ERROR_##code, fld, __FILE__, __LINE__)

static void s_free (Pmo__PlannerReply **reply)
{
    protobuf_c_message_free_unpacked (&(*reply)->base, NULL);
    *reply = NULL;
}

static const Pmo__CandidateResult *s_result (const Pmo__Scenario *s, const char *project)
{
    for (size_t i = 0; i < s->result->n_candidates; i++)
        if (streq (s->result->candidates[i]->project_id, project))
            return s->result->candidates[i];
    return NULL;
}

static const Pmo__CapacityLimit *s_limit (const Pmo__Scenario *s, const char *skill)
{
    for (size_t i = 0; i < s->spec->n_capacity; i++)
        if (streq (s->spec->capacity[i]->skill, skill))
            return s->spec->capacity[i];
    return NULL;
}

//  A step on an allocation as the harness's identity; version updated
static void s_step (const char *verb, const char *id, uint64_t *version)
{
    Pmo__AllocatorReply *reply =
        ah_call (s_ah, "{\"%s\":{\"allocation_id\":\"%s\",\"version\":%llu}}", verb, id,
                 (unsigned long long)*version);
    ah_ok (reply);
    *version = reply->allocation->version;
    ah_free (&reply);
}

static zactor_t *s_planner_start (planner_config_t *config, char *endpoint, char *pub,
                                  const char *allocator)
{
    snprintf (endpoint, 64, "tcp://127.0.0.1:%d", pmo_test_free_port ());
    snprintf (pub, 64, "tcp://127.0.0.1:%d", pmo_test_free_port ());
    *config = (planner_config_t){
        .endpoint = endpoint,
        .pub_endpoint = pub,
        .redis_url = pmo_test_redis_url (s_ah->rh->redis),
        .hub = "hub",
        .registry = s_ah->rh->endpoint,
        .allocator = allocator,
        .redis_timeout_ms = 2000,
    };
    zactor_t *actor = pmo_test_actor_new (planner_server_actor, config, &config->failed);
    assert (actor);
    return actor;
}

int main (void)
{
    s_ah = ah_start ();
    ah_unit (s_ah, "hub", "enterprise", NULL, "supportive");
    ah_unit (s_ah, "dft", "division", "hub", "supportive");
    char running[40], first[40], second[40], legacy[40];
    ah_project (s_ah, "DFT-RUN", "dft", 1, running);
    ah_project (s_ah, "DFT-A", "dft", 2, first);
    ah_project (s_ah, "DFT-B", "dft", 3, second);
    ah_project (s_ah, "DFT-C", "dft", 4, legacy);
    char ann[40], bob[40];
    snprintf (ann, sizeof ann, "%s",
              ah_resource (s_ah, "Ann Lee", "dft", "developer", 37,
                           "[{\"name\":\"java\",\"level\":4}]", 6000));
    snprintf (bob, sizeof bob, "%s",
              ah_resource (s_ah, "Bob Marr", "dft", "developer", 37,
                           "[{\"name\":\"java\",\"level\":3}]", 5000));
    //  The running project holds 30 h of Ann's weeks 2027-W01..W04
    //  (committed); a proposed booking on Bob is not subtracted
    Pmo__AllocatorReply *areply =
        ah_call (s_ah,
                 "{\"request_allocation\":{\"project_id\":\"%s\",\"resource_id\":\"%s\","
                 "\"hours_per_week\":30,\"start_week\":\"2027-W01\",\"end_week\":\"2027-W04\"}}",
                 running, ann);
    ah_ok (areply);
    char booking[40];
    snprintf (booking, sizeof booking, "%s", areply->allocation->id);
    uint64_t version = areply->allocation->version;
    ah_free (&areply);
    s_step ("propose", booking, &version);
    s_step ("commit", booking, &version);
    areply =
        ah_call (s_ah,
                 "{\"request_allocation\":{\"project_id\":\"%s\",\"resource_id\":\"%s\","
                 "\"hours_per_week\":20,\"start_week\":\"2027-W01\",\"end_week\":\"2027-W02\"}}",
                 running, bob);
    ah_ok (areply);
    ah_free (&areply);

    planner_config_t config;
    char endpoint[64], pub[64];
    zactor_t *planner = s_planner_start (&config, endpoint, pub, s_ah->endpoint);
    s_planner = pmo_client_new (endpoint);

    //  A (value 10) needs 40 h of java a week for 4 weeks, B (value 8) 30 h:
    //  44 free hours take one of them; C needs cobol, which nobody has
    char list[1024];
    snprintf (list, sizeof list,
              "{\"project_id\":\"%s\",\"value\":10,\"cost_by_quarter\":[100],"
              "\"demand\":[{\"skill\":\"java\",\"hours_by_week\":[40,40,40,40]}]},"
              "{\"project_id\":\"%s\",\"value\":8,\"cost_by_quarter\":[100],"
              "\"demand\":[{\"skill\":\"java\",\"hours_by_week\":[30,30,30,30]}]},"
              "{\"project_id\":\"%s\",\"value\":5,\"cost_by_quarter\":[100],"
              "\"demand\":[{\"skill\":\"cobol\",\"hours_by_week\":[1]}]}",
              first, second, legacy);
    Pmo__PlannerReply *reply = s_call (
        "{\"solve_scenario\":{\"name\":\"capacity\",\"org_unit\":\"dft\","
        "\"start\":\"2027-01-04\",\"capacity_from_allocator\":true,\"time_limit_ms\":120000,"
        "\"capacity_weeks\":8,\"candidates\":[%s]}}",
        list);
    OK (reply);
    const Pmo__Scenario *s = reply->scenario;
    assert (s->result->feasible);
    //  The capacity read: 74 - 30 committed in weeks 0-3, 74 after; the
    //  proposed 20 h on Bob is not subtracted; cobol all zeros
    const Pmo__CapacityLimit *java = s_limit (s, "java");
    const Pmo__CapacityLimit *cobol = s_limit (s, "cobol");
    assert (java && java->n_hours_by_week == 8);
    for (size_t w = 0; w < 8; w++)
        assert (java->hours_by_week[w] == (w < 4 ? 44 : 74));
    assert (cobol && cobol->n_hours_by_week == 8);
    for (size_t w = 0; w < 8; w++)
        assert (cobol->hours_by_week[w] == 0);
    assert (s->spec->n_capacity == 2);
    assert (s_result (s, first)->placement == PMO__PLACEMENT__PLACEMENT_IN);
    assert (s_result (s, second)->placement == PMO__PLACEMENT__PLACEMENT_OUT);
    assert (strstr (s_result (s, second)->reason, "capacity java"));
    assert (s_result (s, legacy)->placement == PMO__PLACEMENT__PLACEMENT_OUT);
    assert (strstr (s_result (s, legacy)->reason, "capacity cobol"));
    char id[64];
    snprintf (id, sizeof id, "%s", s->id);
    s_free (&reply);
    //  Kept with the scenario
    reply = s_call ("{\"get_scenario\":{\"id\":\"%s\"}}", id);
    OK (reply);
    assert (s_limit (reply->scenario, "java")->hours_by_week[0] == 44);
    s_free (&reply);

    //  Released, the booking frees its hours: both fit (40 + 30 <= 74)
    s_step ("release", booking, &version);
    reply = s_call (
        "{\"solve_scenario\":{\"name\":\"released\",\"org_unit\":\"dft\","
        "\"start\":\"2027-01-04\",\"capacity_from_allocator\":true,\"time_limit_ms\":120000,"
        "\"capacity_weeks\":8,\"candidates\":[%s]}}",
        list);
    OK (reply);
    assert (s_result (reply->scenario, first)->placement == PMO__PLACEMENT__PLACEMENT_IN);
    assert (s_result (reply->scenario, second)->placement == PMO__PLACEMENT__PLACEMENT_IN);
    s_free (&reply);

    //  Both sources of capacity at once: refused at the field
    reply = s_call ("{\"solve_scenario\":{\"name\":\"both\",\"org_unit\":\"dft\","
                    "\"start\":\"2027-01-04\",\"capacity_from_allocator\":true,"
                    "\"capacity\":[{\"skill\":\"java\",\"hours_by_week\":[10]}],"
                    "\"candidates\":[%s]}}",
                    list);
    ERR (reply, INVALID, "solve_scenario.capacity");
    s_free (&reply);
    reply = s_call ("{\"solve_scenario\":{\"name\":\"long\",\"org_unit\":\"dft\","
                    "\"start\":\"2027-01-04\",\"capacity_from_allocator\":true,"
                    "\"capacity_weeks\":105,\"candidates\":[%s]}}",
                    list);
    ERR (reply, INVALID, "solve_scenario.capacity_weeks");
    s_free (&reply);
    pmo_client_destroy (&s_planner);
    zactor_destroy (&planner);

    //  A planner without an allocator says so
    planner = s_planner_start (&config, endpoint, pub, "");
    s_planner = pmo_client_new (endpoint);
    reply = s_call ("{\"solve_scenario\":{\"name\":\"none\",\"org_unit\":\"dft\","
                    "\"start\":\"2027-01-04\",\"capacity_from_allocator\":true,"
                    "\"candidates\":[%s]}}",
                    list);
    ERR (reply, UNAVAILABLE, "solve_scenario.capacity_from_allocator");
    s_free (&reply);
    pmo_client_destroy (&s_planner);
    zactor_destroy (&planner);
    ah_stop (&s_ah);
    printf ("test_planner_capacity: ok\n");
    return 0;
}
