/*  test_allocator.c: the resource allocator end to end, over real ZeroMQ
    sockets against a real redis-server and the real registry: resources,
    the allocation state machine and its history, approval under each PMO
    type, matching with explanations and the week-by-week shortfall,
    over-allocation events (stream and PUB), conflicts by priority, the
    capacity/demand view, reshaping, idempotent retries, bad input, and
    projects named by code.
*/
#include "allocator_harness.h"
#include "events.pb-c.h"
#include "pmo_auth.h"
#include "pmo_json.h"
#include "pmo_util.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

//  Projects and resources of the fixture
static char s_fin1[40], s_ops1[40], s_ops2[40], s_mod1[40];
static char s_ann[40], s_bob[40], s_cat[40], s_dan[40], s_eve[40];

static void s_fixture (ah_t *ah)
{
    ah_unit (ah, "hub", "enterprise", NULL, "supportive");
    ah_unit (ah, "fin", "division", "hub", "supportive");
    ah_unit (ah, "ops", "division", "hub", "controlling");
    ah_unit (ah, "ops-it", "department", "ops", NULL);
    ah_unit (ah, "mod", "division", "hub", "directive");
    ah_project (ah, "FIN-1", "fin", 2, s_fin1);
    ah_project (ah, "OPS-1", "ops", 1, s_ops1);
    ah_project (ah, "OPS-2", "ops-it", 4, s_ops2);
    ah_project (ah, "MOD-1", "mod", 3, s_mod1);
}

//  A step on an allocation: version is read and updated on success.
static Pmo__AllocatorReply *s_step (ah_t *ah, const char *verb, const char *id, uint64_t *version,
                                    const char *extra)
{
    Pmo__AllocatorReply *reply =
        ah_call (ah, "{\"%s\":{\"allocation_id\":\"%s\",\"version\":%llu%s%s}}", verb, id,
                 (unsigned long long)*version, extra ? "," : "", extra ? extra : "");
    if (!reply->error && reply->allocation)
        *version = reply->allocation->version;
    return reply;
}

//  Request a named resource; returns the reply (caller frees).
static Pmo__AllocatorReply *s_request (ah_t *ah, const char *project, const char *resource,
                                       uint32_t hours, const char *start, const char *end)
{
    return ah_call (ah,
                    "{\"request_allocation\":{\"project_id\":\"%s\",\"resource_id\":\"%s\","
                    "\"hours_per_week\":%u,\"start_week\":\"%s\",\"end_week\":\"%s\"}}",
                    project, resource, hours, start, end);
}

//  Request and propose a named resource: its id and version.
static void s_proposed (ah_t *ah, const char *project, const char *resource, uint32_t hours,
                        const char *start, const char *end, char *id, uint64_t *version)
{
    Pmo__AllocatorReply *reply = s_request (ah, project, resource, hours, start, end);
    ah_ok (reply);
    assert (reply->allocation->state == PMO__ALLOCATION_STATE__ALLOCATION_STATE_REQUESTED);
    snprintf (id, 40, "%s", reply->allocation->id);
    *version = reply->allocation->version;
    ah_free (&reply);
    reply = s_step (ah, "propose", id, version, NULL);
    ah_ok (reply);
    assert (reply->allocation->state == PMO__ALLOCATION_STATE__ALLOCATION_STATE_PROPOSED);
    ah_free (&reply);
}

static bool s_has_warning (Pmo__AllocatorReply *reply, const char *text)
{
    for (size_t i = 0; i < reply->n_warnings; i++)
        if (strstr (reply->warnings[i], text))
            return true;
    return false;
}

//  The types of the last n events of a division's stream, oldest first.
static void s_last_events (ah_t *ah, const char *division, size_t n, char types[][40])
{
    redisReply *r = pmo_test_redis_command (ah->rh->redis, "XREVRANGE pmo:{%s}:events + - COUNT %d",
                                            division, (int)n);
    assert (r && r->type == REDIS_REPLY_ARRAY && r->elements == n);
    for (size_t i = 0; i < n; i++) {
        redisReply *fields = r->element[n - 1 - i]->element[1];
        snprintf (types[i], 40, "%s", fields->element[1]->str);
    }
    freeReplyObject (r);
}

static void s_resources (ah_t *ah)
{
    snprintf (s_ann, 40, "%s",
              ah_resource (ah, "Ann Lee", "fin", "developer", 40,
                           "[{\"name\":\"java\",\"level\":5}]", 8000));
    snprintf (s_bob, 40, "%s",
              ah_resource (ah, "Bob Marr", "fin", "developer", 40,
                           "[{\"name\":\"java\",\"level\":3},{\"name\":\"python\",\"level\":4}]",
                           5000));
    snprintf (s_cat, 40, "%s",
              ah_resource (ah, "Cat Ode", "ops-it", "Developer", 40,
                           "[{\"name\":\"Java\",\"level\":4}]", 6000));
    snprintf (s_dan, 40, "%s",
              ah_resource (ah, "Dan Sql", "mod", "analyst", 37, "[{\"name\":\"sql\",\"level\":4}]",
                           4500));
    snprintf (s_eve, 40, "%s",
              ah_resource (ah, "Eve Test", "ops", "tester", 40,
                           "[{\"name\":\"testing\",\"level\":3}]", 4000));
    assert (strncmp (s_ann, "rs_fin_", 7) == 0 && strncmp (s_cat, "rs_ops_", 7) == 0);

    //  Names are case-insensitive: stored lower-case; the path is computed
    Pmo__AllocatorReply *reply =
        ah_call (ah, "{\"get\":{\"kind\":\"resource\",\"id\":\"%s\"}}", s_cat);
    ah_ok (reply);
    assert (streq (reply->resource->role, "developer"));
    assert (streq (reply->resource->skills[0]->name, "java"));
    assert (streq (reply->resource->home_org_unit_path, "hub/ops/ops-it"));
    assert (streq (reply->resource->division, "ops"));
    assert (reply->resource->kind == PMO__RESOURCE_KIND__RESOURCE_KIND_PERSON);
    ah_free (&reply);

    //  Bad input: each a typed error naming the field, nothing written
    redisReply *before = pmo_test_redis_command (ah->rh->redis, "ZCARD pmo:{fin}:ix:rs");
    reply = ah_call (ah, "{\"create_resource\":{\"name\":\"X\",\"home_org_unit\":\"fin\","
                         "\"role\":\"dev\",\"weekly_capacity_hours\":169}}");
    ah_err (reply, INVALID, "create_resource.weekly_capacity_hours");
    ah_free (&reply);
    reply = ah_call (ah, "{\"create_resource\":{\"name\":\"X\",\"home_org_unit\":\"nowhere\","
                         "\"role\":\"dev\",\"weekly_capacity_hours\":40}}");
    ah_err (reply, NOT_FOUND, "create_resource.home_org_unit");
    ah_free (&reply);
    reply = ah_call (ah, "{\"create_resource\":{\"name\":\"X\",\"home_org_unit\":\"fin\","
                         "\"role\":\"dev\",\"weekly_capacity_hours\":40,"
                         "\"skills\":[{\"name\":\"go\",\"level\":6}]}}");
    ah_err (reply, INVALID, "create_resource.skills[0].level");
    ah_free (&reply);
    reply = ah_call (ah, "{\"create_resource\":{\"name\":\"X\",\"home_org_unit\":\"fin\","
                         "\"role\":\"dev\",\"weekly_capacity_hours\":40,"
                         "\"exceptions\":[{\"start_week\":\"2026-W20\",\"end_week\":\"2026-W18\","
                         "\"hours_off\":8}]}}");
    ah_err (reply, INVALID, "create_resource.exceptions[0].end_week");
    ah_free (&reply);
    reply = ah_call (ah, "{\"create_resource\":{\"name\":\"X\",\"home_org_unit\":\"fin\","
                         "\"role\":\"not a role\",\"weekly_capacity_hours\":40}}");
    ah_err (reply, INVALID, "create_resource.role");
    ah_free (&reply);
    //  A project manager does not manage resources; a resource manager of ops not fin's
    ah_as (ah, "pm@fin", "project_manager@fin");
    reply = ah_call (ah, "{\"create_resource\":{\"name\":\"X\",\"home_org_unit\":\"fin\","
                         "\"role\":\"dev\",\"weekly_capacity_hours\":40}}");
    ah_err (reply, FORBIDDEN, "");
    ah_free (&reply);
    ah_as (ah, "rm@ops", "resource_manager@ops");
    reply = ah_call (ah, "{\"create_resource\":{\"name\":\"X\",\"home_org_unit\":\"fin\","
                         "\"role\":\"dev\",\"weekly_capacity_hours\":40}}");
    ah_err (reply, FORBIDDEN, "");
    ah_free (&reply);
    redisReply *after = pmo_test_redis_command (ah->rh->redis, "ZCARD pmo:{fin}:ix:rs");
    assert (after->integer == before->integer);
    freeReplyObject (before);
    freeReplyObject (after);

    //  Update with leave: the version is checked
    ah_as (ah, "rm@fin", "resource_manager@fin");
    reply = ah_call (ah,
                     "{\"update_resource\":{\"id\":\"%s\",\"version\":1,\"name\":\"Bob Marr\","
                     "\"home_org_unit\":\"fin\",\"role\":\"developer\","
                     "\"weekly_capacity_hours\":40,\"skills\":[{\"name\":\"java\",\"level\":3},"
                     "{\"name\":\"python\",\"level\":4}],\"cost_rate\":{\"minor\":5000,"
                     "\"currency\":\"GBP\"},\"exceptions\":[{\"start_week\":\"2026-W11\","
                     "\"hours_off\":16,\"reason\":\"leave\"}]}}",
                     s_bob);
    ah_ok (reply);
    assert (reply->resource->version == 2 && reply->resource->n_exceptions == 1);
    ah_free (&reply);
    reply = ah_call (ah,
                     "{\"update_resource\":{\"id\":\"%s\",\"version\":1,\"name\":\"B\","
                     "\"home_org_unit\":\"fin\",\"role\":\"developer\","
                     "\"weekly_capacity_hours\":40}}",
                     s_bob);
    ah_err (reply, CONFLICT, "version");
    ah_free (&reply);
    //  Moving across divisions is refused
    ah_as (ah, "admin@test", "admin@hub");
    reply = ah_call (ah,
                     "{\"update_resource\":{\"id\":\"%s\",\"version\":2,\"name\":\"B\","
                     "\"home_org_unit\":\"ops\",\"role\":\"developer\","
                     "\"weekly_capacity_hours\":40}}",
                     s_bob);
    ah_err (reply, INVALID, "update_resource.home_org_unit");
    ah_free (&reply);

    //  Lists by skill and subtree
    reply = ah_call (ah, "{\"list_resources\":{\"skill\":\"java\",\"min_level\":4}}");
    ah_ok (reply);
    assert (reply->resources->n_resources == 2); //  ann 5, cat 4
    ah_free (&reply);
    reply = ah_call (ah, "{\"list_resources\":{\"org_unit\":\"ops\"}}");
    ah_ok (reply);
    assert (reply->resources->n_resources == 2); //  cat, eve
    ah_free (&reply);
    reply = ah_call (ah, "{\"list_resources\":{\"org_unit\":\"fin\",\"limit\":1}}");
    ah_ok (reply);
    assert (reply->resources->n_resources == 1 && *reply->resources->next_cursor);
    char cursor[64];
    snprintf (cursor, sizeof cursor, "%s", reply->resources->next_cursor);
    ah_free (&reply);
    reply = ah_call (
        ah, "{\"list_resources\":{\"org_unit\":\"fin\",\"limit\":1,\"cursor\":\"%s\"}}", cursor);
    ah_ok (reply);
    assert (reply->resources->n_resources == 1 &&
            streq (reply->resources->resources[0]->id, s_bob));
    ah_free (&reply);
    reply = ah_call (ah, "{\"list_resources\":{\"org_unit\":\"atlantis\"}}");
    ah_err (reply, NOT_FOUND, "list_resources.org_unit");
    ah_free (&reply);
    printf ("resources: ok\n");
}

static void s_supportive (ah_t *ah)
{
    char a1[40], a2[40];
    uint64_t v1, v2;
    ah_as (ah, "pm@fin", "project_manager@fin");
    //  Request, propose, commit: a supportive PMO lets the project side commit
    s_proposed (ah, s_fin1, s_ann, 30, "2026-W10", "2026-W12", a1, &v1);
    Pmo__AllocatorReply *reply = s_step (ah, "commit", a1, &v1, "\"reason\":\"kick-off\"");
    ah_ok (reply);
    Pmo__Allocation *a = reply->allocation;
    assert (a->state == PMO__ALLOCATION_STATE__ALLOCATION_STATE_COMMITTED);
    assert (reply->n_warnings == 0 && !reply->over_allocation);
    //  Every step is kept, with who, when and why
    assert (a->n_history == 3);
    assert (a->history[0]->to_state == PMO__ALLOCATION_STATE__ALLOCATION_STATE_REQUESTED);
    assert (a->history[2]->from_state == PMO__ALLOCATION_STATE__ALLOCATION_STATE_PROPOSED);
    assert (streq (a->history[2]->actor, "pm@fin") && streq (a->history[2]->reason, "kick-off"));
    assert (a->history[2]->actor_role == PMO__ROLE__ROLE_PROJECT_MANAGER);
    assert (a->history[2]->pmo_type == PMO__PMO_TYPE__PMO_TYPE_SUPPORTIVE);
    assert (a->history[2]->time_ms > 0);
    assert (streq (a->project_code, "FIN-1") && a->project_priority == 2);
    assert (streq (a->skill, "java")); //  the resource's primary skill
    ah_free (&reply);

    //  A second booking over capacity: soft-booking warns, committing warns and
    //  announces the over-allocation (supportive: commits directly)
    s_proposed (ah, s_fin1, s_ann, 20, "2026-W12", "2026-W13", a2, &v2);
    reply = s_step (ah, "commit", a2, &v2, NULL);
    ah_ok (reply);
    assert (s_has_warning (reply, "over-allocates Ann Lee in 1 week(s): 2026-W12 has 50 h"));
    assert (reply->allocation->history[2]->n_warnings == 1);
    Pmo__OverAllocation *o = reply->over_allocation;
    assert (o && o->over && o->n_weeks == 1 && streq (o->weeks[0], "2026-W12"));
    assert (o->worst_week_booked_hours == 50 && o->worst_week_capacity_hours == 40);
    assert (o->n_project_ids == 1 && streq (o->project_ids[0], s_fin1));
    ah_free (&reply);
    char types[2][40];
    s_last_events (ah, "fin", 2, types);
    assert (streq (types[0], "allocation.committed") && streq (types[1], "resource.overallocated"));

    //  The conflicts list names it
    reply = ah_call (ah, "{\"conflicts\":{\"org_unit\":\"fin\"}}");
    ah_ok (reply);
    assert (reply->conflicts->n_conflicts == 1);
    Pmo__AllocationConflict *c = reply->conflicts->conflicts[0];
    assert (streq (c->resource_id, s_ann) && c->n_weeks == 1 && c->n_claims == 2);
    assert (c->weeks[0]->over_by_hours == 10);
    ah_free (&reply);

    //  Releasing frees the hours at once and announces it is clear
    reply = s_step (ah, "release", a2, &v2, "\"reason\":\"descoped\"");
    ah_ok (reply);
    assert (reply->allocation->state == PMO__ALLOCATION_STATE__ALLOCATION_STATE_RELEASED);
    assert (reply->over_allocation && !reply->over_allocation->over);
    ah_free (&reply);
    s_last_events (ah, "fin", 2, types);
    assert (streq (types[0], "allocation.released") && streq (types[1], "resource.cleared"));
    reply = ah_call (ah, "{\"conflicts\":{}}");
    ah_ok (reply);
    assert (reply->conflicts->n_conflicts == 0);
    ah_free (&reply);
    //  A released allocation is over
    reply = s_step (ah, "commit", a2, &v2, NULL);
    ah_err (reply, FAILED_PRECONDITION, "commit");
    ah_free (&reply);
    printf ("supportive: ok\n");
}

static void s_controlling (ah_t *ah)
{
    char a1[40], a2[40], a3[40];
    uint64_t v1, v2, v3;
    ah_as (ah, "pm@ops", "project_manager@ops");
    //  Within capacity and division: no approval needed
    s_proposed (ah, s_ops1, s_cat, 30, "2026-W20", "2026-W21", a1, &v1);
    Pmo__AllocatorReply *reply = s_step (ah, "commit", a1, &v1, NULL);
    ah_ok (reply);
    assert (reply->n_warnings == 0);
    ah_free (&reply);
    //  Over-allocating: the project side cannot, nor approve
    s_proposed (ah, s_ops2, s_cat, 20, "2026-W21", "2026-W22", a2, &v2);
    reply = s_step (ah, "commit", a2, &v2, NULL);
    ah_err (reply, FAILED_PRECONDITION, "commit.approve");
    assert (reply->approval_needed && strstr (reply->approval_needed, "controlling"));
    assert (strstr (reply->approval_needed, "over-allocates Cat Ode"));
    ah_free (&reply);
    reply = s_step (ah, "commit", a2, &v2, "\"approve\":true");
    ah_err (reply, FORBIDDEN, "commit.approve");
    ah_free (&reply);
    //  ... nor a resource manager of another division, to whom the booking
    //  is not there at all (ids cannot be probed by writes)
    ah_as (ah, "rm@fin", "resource_manager@fin");
    reply = s_step (ah, "commit", a2, &v2, "\"approve\":true");
    ah_err (reply, NOT_FOUND, "commit.allocation_id");
    ah_free (&reply);
    //  The refusals changed nothing (read by ops's resource manager: rm@fin
    //  does not see the bookings of ops's projects on ops's people)
    ah_as (ah, "rm@ops", "resource_manager@ops");
    reply = ah_call (ah, "{\"get\":{\"kind\":\"allocation\",\"id\":\"%s\"}}", a2);
    ah_ok (reply);
    assert (reply->allocation->version == v2 &&
            reply->allocation->state == PMO__ALLOCATION_STATE__ALLOCATION_STATE_PROPOSED);
    ah_free (&reply);
    //  Ops's resource manager approves past the over-allocation
    ah_as (ah, "rm@ops", "resource_manager@ops");
    reply = s_step (ah, "commit", a2, &v2, "\"approve\":true,\"reason\":\"release critical\"");
    ah_ok (reply);
    assert (s_has_warning (reply, "approved: over-allocates Cat Ode"));
    Pmo__AllocationTransition *t = reply->allocation->history[reply->allocation->n_history - 1];
    assert (t->approved && t->actor_role == PMO__ROLE__ROLE_RESOURCE_MANAGER);
    assert (t->pmo_type == PMO__PMO_TYPE__PMO_TYPE_CONTROLLING);
    assert (reply->over_allocation && reply->over_allocation->over);
    ah_free (&reply);
    //  Conflicts: OPS-1 (priority 1) prevails over OPS-2 (priority 4), which learns why
    reply = ah_call (ah, "{\"conflicts\":{\"org_unit\":\"ops\",\"start_week\":\"2026-W01\","
                         "\"end_week\":\"2026-W52\"}}");
    ah_ok (reply);
    assert (reply->conflicts->n_conflicts == 1);
    Pmo__AllocationConflict *c = reply->conflicts->conflicts[0];
    assert (c->n_weeks == 1 && streq (c->weeks[0]->week, "2026-W21"));
    assert (streq (c->claims[0]->project_code, "OPS-1") && c->claims[0]->prevails);
    assert (streq (c->claims[1]->project_code, "OPS-2") && !c->claims[1]->prevails);
    assert (strstr (c->claims[1]->why, "priority 4 is lower than OPS-1's 1"));
    ah_free (&reply);

    //  Crossing divisions needs approval in a controlling PMO, even within capacity
    ah_as (ah, "pm@fin", "project_manager@fin");
    s_proposed (ah, s_fin1, s_eve, 10, "2026-W30", "2026-W30", a3, &v3);
    reply = s_step (ah, "commit", a3, &v3, NULL);
    ah_err (reply, FAILED_PRECONDITION, "commit.approve");
    assert (strstr (reply->approval_needed, "cross divisions"));
    ah_free (&reply);
    ah_as (ah, "pmo@ops", "pmo_manager@ops");
    reply = s_step (ah, "commit", a3, &v3, "\"approve\":true");
    ah_ok (reply);
    assert (s_has_warning (reply, "crosses divisions"));
    ah_free (&reply);
    printf ("controlling: ok\n");
}

static void s_directive (ah_t *ah)
{
    char a1[40];
    uint64_t v1;
    ah_as (ah, "pm@mod", "project_manager@mod");
    s_proposed (ah, s_mod1, s_dan, 10, "2026-W40", "2026-W41", a1, &v1);
    //  Every commitment needs the PMO's approval, even one that fits
    Pmo__AllocatorReply *reply = s_step (ah, "commit", a1, &v1, NULL);
    ah_err (reply, FAILED_PRECONDITION, "commit.approve");
    assert (strstr (reply->approval_needed, "directive"));
    ah_free (&reply);
    ah_as (ah, "rm@mod", "resource_manager@mod");
    reply = s_step (ah, "commit", a1, &v1, "\"approve\":true");
    ah_ok (reply);
    assert (reply->n_warnings == 0);
    assert (reply->allocation->history[reply->allocation->n_history - 1]->approved);
    ah_free (&reply);
    printf ("directive: ok\n");
}

static void s_matching (ah_t *ah)
{
    ah_as (ah, "pm@fin", "project_manager@fin");
    //  Ranking without booking: ann (level 5, home division) before cat (4, ops)
    Pmo__AllocatorReply *reply =
        ah_call (ah,
                 "{\"match\":{\"project_id\":\"%s\",\"skill\":\"java\",\"min_level\":4,"
                 "\"hours_per_week\":20,\"start_week\":\"2026-W30\",\"end_week\":\"2026-W31\"}}",
                 s_fin1);
    ah_ok (reply);
    Pmo__MatchResult *m = reply->match;
    assert (m->fits && m->considered == 2 && m->n_candidates == 2);
    assert (streq (m->candidates[0]->resource_id, s_ann) && m->candidates[0]->same_division);
    assert (streq (m->candidates[1]->resource_id, s_cat) && !m->candidates[1]->same_division);
    assert (strstr (m->candidates[0]->explanation, "free in all 2 weeks"));
    assert (strstr (m->candidates[0]->explanation, "java level 5 (4 asked)"));
    assert (strstr (m->candidates[1]->explanation, "from division ops"));
    //  Cost rates only to the resources' stewards (README "Who sees what")
    assert (!m->candidates[0]->cost_rate && !m->candidates[1]->cost_rate);
    ah_free (&reply);
    ah_as (ah, "rm@fin", "resource_manager@fin");
    reply =
        ah_call (ah,
                 "{\"match\":{\"project_id\":\"%s\",\"skill\":\"java\",\"min_level\":4,"
                 "\"hours_per_week\":20,\"start_week\":\"2026-W30\",\"end_week\":\"2026-W31\"}}",
                 s_fin1);
    ah_ok (reply);
    m = reply->match;
    assert (m->candidates[0]->cost_rate && m->candidates[0]->cost_rate->minor == 8000);
    assert (!m->candidates[1]->cost_rate);
    ah_free (&reply);
    ah_as (ah, "pm@fin", "project_manager@fin");

    //  A skill request is matched and the best proposed at once (soft booking)
    reply = ah_call (ah,
                     "{\"request_allocation\":{\"project_id\":\"%s\",\"skill\":\"java\","
                     "\"min_level\":4,\"hours_per_week\":20,\"start_week\":\"2026-W30\","
                     "\"end_week\":\"2026-W31\",\"note\":\"backend\"}}",
                     s_fin1);
    ah_ok (reply);
    assert (reply->allocation->state == PMO__ALLOCATION_STATE__ALLOCATION_STATE_PROPOSED);
    assert (streq (reply->allocation->resource_id, s_ann));
    assert (strstr (reply->allocation->history[1]->reason, "best match"));
    assert (reply->match_detail && reply->match_detail->fits);
    char matched[40];
    snprintf (matched, sizeof matched, "%s", reply->allocation->id);
    uint64_t matched_version = reply->allocation->version;
    ah_free (&reply);
    //  Committed and released, it leaves nothing booked behind
    reply = s_step (ah, "commit", matched, &matched_version, NULL);
    ah_ok (reply);
    ah_free (&reply);
    reply = ah_call (ah, "{\"capacity\":{\"org_unit\":\"fin\",\"start_week\":\"2026-W30\"}}");
    ah_ok (reply);
    assert (reply->capacity->total->cells[0]->committed_hours == 20);
    ah_free (&reply);
    reply = s_step (ah, "release", matched, &matched_version, NULL);
    ah_ok (reply);
    ah_free (&reply);
    reply = ah_call (ah, "{\"capacity\":{\"org_unit\":\"fin\",\"start_week\":\"2026-W30\"}}");
    ah_ok (reply);
    assert (reply->capacity->total->cells[0]->committed_hours == 0);
    assert (reply->capacity->total->cells[0]->proposed_hours == 0);
    ah_free (&reply);
    //  ... and the ledger agrees: ann has the whole week again
    reply = ah_call (ah,
                     "{\"request_allocation\":{\"project_id\":\"%s\",\"skill\":\"java\","
                     "\"min_level\":5,\"hours_per_week\":40,\"start_week\":\"2026-W30\"}}",
                     s_fin1);
    ah_ok (reply);
    assert (reply->allocation->state == PMO__ALLOCATION_STATE__ALLOCATION_STATE_PROPOSED);
    assert (streq (reply->allocation->resource_id, s_ann));
    snprintf (matched, sizeof matched, "%s", reply->allocation->id);
    matched_version = reply->allocation->version;
    ah_free (&reply);
    reply = s_step (ah, "reject", matched, &matched_version, "\"reason\":\"test done\"");
    ah_ok (reply);
    ah_free (&reply);

    //  Nobody has 45 h of java 5 a week: unfilled demand and the shortfall by week
    reply = ah_call (ah,
                     "{\"request_allocation\":{\"project_id\":\"%s\",\"skill\":\"java\","
                     "\"min_level\":5,\"hours_per_week\":45,\"start_week\":\"2026-W44\","
                     "\"end_week\":\"2026-W45\"}}",
                     s_fin1);
    ah_ok (reply);
    Pmo__Allocation *a = reply->allocation;
    assert (a->state == PMO__ALLOCATION_STATE__ALLOCATION_STATE_REQUESTED);
    assert (pmo_str_empty (a->resource_id) && streq (a->division, "fin"));
    m = reply->match_detail;
    assert (!m->fits && m->n_shortfall == 2);
    assert (streq (m->shortfall[0]->week, "2026-W44") && m->shortfall[0]->needed_hours == 45);
    assert (m->shortfall[0]->best_free_hours == 40 && m->shortfall[0]->shortfall_hours == 5);
    assert (s_has_warning (reply, "unfilled demand"));
    char unfilled[40];
    snprintf (unfilled, sizeof unfilled, "%s", a->id);
    uint64_t version = a->version;
    ah_free (&reply);
    //  It shows as unfilled demand in the capacity view
    reply = ah_call (ah, "{\"capacity\":{\"org_unit\":\"fin\",\"start_week\":\"2026-W44\","
                         "\"end_week\":\"2026-W44\",\"skill\":\"java\"}}");
    ah_ok (reply);
    assert (reply->capacity->n_skills == 1 &&
            reply->capacity->skills[0]->cells[0]->unfilled_hours == 45);
    ah_free (&reply);
    //  Proposing it still finds nobody; the requester withdraws it with a reason
    reply = s_step (ah, "propose", unfilled, &version, NULL);
    ah_err (reply, FAILED_PRECONDITION, "propose.resource_id");
    ah_free (&reply);
    reply = s_step (ah, "reject", unfilled, &version, NULL);
    ah_err (reply, INVALID, "reject.reason");
    ah_free (&reply);
    reply = s_step (ah, "reject", unfilled, &version, "\"reason\":\"nobody to be had\"");
    ah_ok (reply);
    assert (reply->allocation->state == PMO__ALLOCATION_STATE__ALLOCATION_STATE_REJECTED);
    ah_free (&reply);

    //  Unknown skill or role: a clear error, not empty demand
    reply = ah_call (ah,
                     "{\"request_allocation\":{\"project_id\":\"%s\",\"skill\":\"cobol\","
                     "\"hours_per_week\":10,\"start_week\":\"2026-W44\"}}",
                     s_fin1);
    ah_err (reply, NOT_FOUND, "request_allocation.skill");
    ah_free (&reply);
    reply = ah_call (ah, "{\"match\":{\"role\":\"astronaut\",\"hours_per_week\":10,"
                         "\"start_week\":\"2026-W44\"}}");
    ah_err (reply, NOT_FOUND, "match.role");
    ah_free (&reply);
    printf ("matching: ok\n");
}

static void s_state_machine_and_bad_input (ah_t *ah)
{
    ah_as (ah, "pm@fin", "project_manager@fin");
    Pmo__AllocatorReply *reply = s_request (ah, s_fin1, s_bob, 10, "2026-W50", "2026-W51");
    ah_ok (reply);
    char id[40];
    snprintf (id, sizeof id, "%s", reply->allocation->id);
    uint64_t version = reply->allocation->version;
    ah_free (&reply);
    //  Steps the state machine does not allow
    reply = s_step (ah, "commit", id, &version, NULL);
    ah_err (reply, FAILED_PRECONDITION, "commit");
    ah_free (&reply);
    reply = s_step (ah, "release", id, &version, NULL);
    ah_err (reply, FAILED_PRECONDITION, "release");
    ah_free (&reply);
    //  Stale and missing versions
    uint64_t stale = version + 5;
    reply = s_step (ah, "propose", id, &stale, NULL);
    ah_err (reply, CONFLICT, "version");
    ah_free (&reply);
    uint64_t none = 0;
    reply = s_step (ah, "propose", id, &none, NULL);
    ah_err (reply, INVALID, "version");
    ah_free (&reply);
    //  Someone with no role on either side: not there for them
    ah_as (ah, "pm@mod", "project_manager@mod");
    reply = s_step (ah, "propose", id, &version, NULL);
    ah_err (reply, NOT_FOUND, "propose.allocation_id");
    ah_free (&reply);
    ah_as (ah, "viewer@hub", "viewer@hub");
    reply = s_request (ah, s_fin1, s_bob, 10, "2026-W50", "2026-W51");
    ah_err (reply, FORBIDDEN, "");
    ah_free (&reply);
    //  ... but everyone signed in reads
    reply = ah_call (ah, "{\"get\":{\"kind\":\"allocation\",\"id\":\"%s\"}}", id);
    ah_ok (reply);
    ah_free (&reply);
    ah_as (ah, "pm@fin", "project_manager@fin");

    //  Bad input, each naming its field
    reply = s_request (ah, s_fin1, s_bob, 10, "2026-W12", "2026-W10");
    ah_err (reply, INVALID, "request_allocation.end_week");
    ah_free (&reply);
    reply = s_request (ah, s_fin1, s_bob, 169, "2026-W10", "2026-W12");
    ah_err (reply, INVALID, "request_allocation.hours_per_week");
    ah_free (&reply);
    reply = s_request (ah, s_fin1, s_bob, 0, "2026-W10", "2026-W12");
    ah_err (reply, INVALID, "request_allocation.hours_per_week");
    ah_free (&reply);
    reply = s_request (ah, s_fin1, s_bob, 10, "2027-W53", "2027-W53");
    ah_err (reply, INVALID, "request_allocation.start_week");
    ah_free (&reply);
    reply = s_request (ah, s_fin1, s_bob, 10, "2026-W01", "2028-W01");
    ah_err (reply, INVALID, "request_allocation.end_week");
    ah_free (&reply);
    reply = s_request (ah, s_fin1, "rs_fin_999", 10, "2026-W10", "2026-W12");
    ah_err (reply, NOT_FOUND, "request_allocation.resource_id");
    ah_free (&reply);
    reply = s_request (ah, s_fin1, "bob", 10, "2026-W10", "2026-W12");
    ah_err (reply, INVALID, "request_allocation.resource_id");
    ah_free (&reply);
    reply = s_request (ah, "pr_fin_999", s_bob, 10, "2026-W10", "2026-W12");
    ah_err (reply, NOT_FOUND, "request_allocation.project_id");
    ah_free (&reply);
    reply = ah_call (ah, "{\"commit\":{\"allocation_id\":\"al_fin_999\",\"version\":1}}");
    ah_err (reply, NOT_FOUND, "commit.allocation_id");
    ah_free (&reply);
    reply = ah_call (ah, "{\"capacity\":{\"start_week\":\"2026-W10\"}}");
    ah_ok (reply);
    ah_free (&reply);
    reply = ah_call (ah, "{\"capacity\":{\"start_week\":\"2026-W10\",\"end_week\":\"2029-W10\"}}");
    ah_err (reply, INVALID, "capacity.end_week");
    ah_free (&reply);
    reply = ah_call (ah, "{\"list_allocations\":{\"limit\":501}}");
    ah_err (reply, INVALID, "list_allocations.limit");
    ah_free (&reply);
    //  A malformed frame is answered, and the service keeps serving
    zframe_t *raw = pmo_client_call_raw (ah->client, "\xff\xff\xff", 3, 3000);
    assert (raw);
    Pmo__AllocatorReply *bad =
        pmo__allocator_reply__unpack (NULL, zframe_size (raw), zframe_data (raw));
    assert (bad && bad->error && bad->error->code == PMO__ERROR_CODE__ERROR_MALFORMED);
    pmo__allocator_reply__free_unpacked (bad, NULL);
    zframe_destroy (&raw);
    reply = ah_call (ah, "{\"ping\":{}}");
    ah_ok (reply);
    assert (reply->pong->redis_ok && streq (reply->pong->service, "allocator"));
    ah_free (&reply);
    printf ("state machine and bad input: ok\n");
}

static void s_capacity_and_reshape (ah_t *ah)
{
    ah_as (ah, "pm@fin", "project_manager@fin");
    //  bob: 40 h, 16 h leave in W11 -> 24 h; book 20 h W10-W12 and commit
    char id[40];
    uint64_t version;
    s_proposed (ah, s_fin1, s_bob, 20, "2026-W10", "2026-W12", id, &version);
    Pmo__AllocatorReply *reply = s_step (ah, "commit", id, &version, NULL);
    ah_ok (reply);
    ah_free (&reply);
    reply = ah_call (ah, "{\"capacity\":{\"org_unit\":\"fin\",\"start_week\":\"2026-W10\","
                         "\"end_week\":\"2026-W12\",\"by_resource\":true}}");
    ah_ok (reply);
    Pmo__CapacityView *v = reply->capacity;
    assert (v->n_weeks == 3 && streq (v->weeks[1], "2026-W11"));
    //  total: ann 40 + bob 40 (24 in W11); committed: ann 30 + bob 20
    assert (v->total->resources == 2);
    assert (v->total->cells[0]->capacity_hours == 80 && v->total->cells[1]->capacity_hours == 64);
    assert (v->total->cells[0]->committed_hours == 50);
    assert (v->total->cells[0]->utilisation_pct == 62.5);
    assert (v->total->cells[0]->capacity_fte == 2.0);
    //  skill rows: java (ann, bob) and python (bob)
    assert (v->n_skills == 2 && streq (v->skills[0]->skill, "java") &&
            streq (v->skills[1]->skill, "python"));
    assert (v->skills[0]->resources == 2 && v->skills[1]->resources == 1);
    assert (v->skills[1]->cells[1]->capacity_hours == 24);
    //  the utilisation table
    assert (v->n_resources == 2);
    for (size_t i = 0; i < v->n_resources; i++)
        if (streq (v->resources[i]->resource_id, s_bob))
            assert (v->resources[i]->cells[1]->utilisation_pct > 83.3 &&
                    v->resources[i]->cells[1]->utilisation_pct < 83.4);
    ah_free (&reply);

    //  A committed allocation only shrinks; shrinking frees the hours at once
    reply = ah_call (ah,
                     "{\"reshape\":{\"allocation_id\":\"%s\",\"version\":%llu,"
                     "\"end_week\":\"2026-W13\"}}",
                     id, (unsigned long long)version);
    ah_err (reply, FAILED_PRECONDITION, "reshape");
    ah_free (&reply);
    reply = ah_call (ah,
                     "{\"reshape\":{\"allocation_id\":\"%s\",\"version\":%llu,"
                     "\"end_week\":\"2026-W11\",\"hours_per_week\":10,"
                     "\"reason\":\"phase 2 moved\"}}",
                     id, (unsigned long long)version);
    ah_ok (reply);
    assert (streq (reply->allocation->end_week, "2026-W11") &&
            reply->allocation->hours_per_week == 10);
    Pmo__AllocationTransition *t = reply->allocation->history[reply->allocation->n_history - 1];
    assert (strstr (t->change, "2026-W10..2026-W12 20 h/week -> 2026-W10..2026-W11 10 h/week"));
    ah_free (&reply);
    reply = ah_call (ah, "{\"capacity\":{\"org_unit\":\"fin\",\"start_week\":\"2026-W10\","
                         "\"end_week\":\"2026-W12\"}}");
    ah_ok (reply);
    assert (reply->capacity->total->cells[0]->committed_hours == 40);
    assert (reply->capacity->total->cells[2]->committed_hours == 30);
    ah_free (&reply);
    //  Lists by project and state
    reply = ah_call (ah, "{\"list_allocations\":{\"project_id\":\"%s\",\"state\":\"committed\"}}",
                     s_fin1);
    ah_ok (reply);
    assert (reply->allocations->n_allocations == 3); //  ann's first, eve's and bob's
    ah_free (&reply);

    //  A person of two skills over capacity counts as one over in each of
    //  their skills' rows and once in the total; their own row names both
    //  skills. bob (java, python) 50 h in W36 of 40; ann (java) within.
    s_proposed (ah, s_fin1, s_bob, 50, "2026-W36", "2026-W36", id, &version);
    reply = s_step (ah, "commit", id, &version, NULL);
    ah_ok (reply);
    assert (reply->over_allocation && reply->over_allocation->over);
    ah_free (&reply);
    reply = ah_call (ah, "{\"capacity\":{\"org_unit\":\"fin\",\"start_week\":\"2026-W36\","
                         "\"end_week\":\"2026-W37\",\"by_resource\":true}}");
    ah_ok (reply);
    v = reply->capacity;
    assert (v->n_skills == 2 && streq (v->skills[0]->skill, "java") &&
            streq (v->skills[1]->skill, "python"));
    for (size_t s = 0; s < 2; s++) {
        assert (v->skills[s]->cells[0]->over_resources == 1);
        assert (v->skills[s]->cells[1]->over_resources == 0);
    }
    //  The booking is under bob's primary skill: java has 50 h of 80 and
    //  python nothing booked (0%), so neither row is over, yet one of the
    //  people of each is
    assert (v->skills[0]->cells[0]->committed_hours == 50 && !v->skills[0]->cells[0]->over);
    assert (v->skills[1]->cells[0]->committed_hours == 0 && !v->skills[1]->cells[0]->over);
    assert (v->total->cells[0]->over_resources == 1 && v->total->cells[1]->over_resources == 0);
    bool seen_bob = false;
    for (size_t i = 0; i < v->n_resources; i++) {
        Pmo__CapacityRow *r = v->resources[i];
        if (streq (r->resource_id, s_bob)) {
            seen_bob = true;
            assert (r->n_skill_names == 2 && streq (r->skill_names[0], "java") &&
                    streq (r->skill_names[1], "python"));
            assert (r->cells[0]->over_resources == 1 && r->cells[0]->over);
            assert (r->cells[1]->over_resources == 0);
        } else {
            assert (r->n_skill_names == 1 && streq (r->skill_names[0], "java"));
            assert (r->cells[0]->over_resources == 0);
        }
    }
    assert (seen_bob);
    ah_free (&reply);
    //  One skill asked for: that row only, still counting bob
    reply = ah_call (ah, "{\"capacity\":{\"org_unit\":\"fin\",\"start_week\":\"2026-W36\","
                         "\"skill\":\"python\"}}");
    ah_ok (reply);
    assert (reply->capacity->n_skills == 1 &&
            reply->capacity->skills[0]->cells[0]->over_resources == 1);
    ah_free (&reply);
    //  Released, nobody is over
    reply = s_step (ah, "release", id, &version, "\"reason\":\"test done\"");
    ah_ok (reply);
    ah_free (&reply);
    reply = ah_call (ah, "{\"capacity\":{\"org_unit\":\"fin\",\"start_week\":\"2026-W36\"}}");
    ah_ok (reply);
    assert (reply->capacity->skills[1]->cells[0]->over_resources == 0 &&
            reply->capacity->total->cells[0]->over_resources == 0);
    ah_free (&reply);
    printf ("capacity and reshape: ok\n");
}

static void s_idempotency_and_pub (ah_t *ah)
{
    ah_as (ah, "pm@fin", "project_manager@fin");
    zsock_t *sub = pmo_auth_sub_new (ah->pub, "fin.");
    assert (sub);
    zclock_sleep (200); //  the slow joiner
    redisReply *before = pmo_test_redis_command (ah->rh->redis, "XLEN pmo:{fin}:events");
#define ONCE_JSON                                                                                  \
    "{\"request_allocation\":{\"project_id\":\"%s\",\"resource_id\":\"%s\","                       \
    "\"hours_per_week\":4,\"start_week\":\"2026-W46\"}}"
    Pmo__AllocatorReply *first = ah_call_with_id (ah, "retry-me-1", ONCE_JSON, s_fin1, s_ann);
    ah_ok (first);
    Pmo__AllocatorReply *again = ah_call_with_id (ah, "retry-me-1", ONCE_JSON, s_fin1, s_ann);
    ah_ok (again);
    assert (streq (first->allocation->id, again->allocation->id));
    redisReply *after = pmo_test_redis_command (ah->rh->redis, "XLEN pmo:{fin}:events");
    assert (after->integer == before->integer + 1);
    freeReplyObject (before);
    freeReplyObject (after);
    //  Published with its stream id, carrying the snapshot
    zmsg_t *msg = NULL;
    zsock_set_rcvtimeo (sub, 2000);
    msg = zmsg_recv (sub);
    assert (msg && zmsg_size (msg) == 2);
    char *topic = zmsg_popstr (msg);
    assert (streq (topic, "fin.allocation.requested"));
    zframe_t *body = zmsg_pop (msg);
    Pmo__Event *event = pmo__event__unpack (NULL, zframe_size (body), zframe_data (body));
    assert (event && *event->id && streq (event->source, "allocator"));
    assert (event->body_case == PMO__EVENT__BODY_ALLOCATION);
    assert (streq (event->allocation->id, first->allocation->id));
    assert (streq (event->org_unit_path, "hub/fin"));
    pmo__event__free_unpacked (event, NULL);
    zframe_destroy (&body);
    zstr_free (&topic);
    zmsg_destroy (&msg);
    zsock_destroy (&sub);
    ah_free (&first);
    ah_free (&again);
    printf ("idempotency and pub: ok\n");
}

//  Projects named by their code wherever an id is asked for: resolved
//  through the registry (lib/orgtree); a code that names nothing is not
//  found, naming the code (never "the registry is unavailable").
static void s_codes (ah_t *ah)
{
    char twin_fin[40], twin_ops[40];
    ah_project (ah, "TWIN-1", "fin", 3, twin_fin);
    ah_project (ah, "TWIN-1", "ops", 3, twin_ops);
    char ops_only[40];
    ah_project (ah, "OPS-ONLY", "ops", 3, ops_only);
    ah_as (ah, "pm@fin", "project_manager@fin");
    Pmo__AllocatorReply *reply = s_request (ah, "FIN-1", s_ann, 2, "2026-W44", "2026-W44");
    ah_ok (reply);
    assert (streq (reply->allocation->project_id, s_fin1));
    char id[40];
    snprintf (id, sizeof id, "%s", reply->allocation->id);
    ah_free (&reply);
    reply = ah_call (ah, "{\"list_allocations\":{\"project_id\":\"FIN-1\"}}");
    ah_ok (reply);
    bool listed = false;
    for (size_t i = 0; i < reply->allocations->n_allocations; i++) {
        assert (streq (reply->allocations->allocations[i]->project_id, s_fin1));
        listed = listed || streq (reply->allocations->allocations[i]->id, id);
    }
    assert (listed);
    ah_free (&reply);
    reply = s_request (ah, "FIN-404", s_ann, 2, "2026-W44", "2026-W44");
    ah_err (reply, NOT_FOUND, "request_allocation.project_id");
    assert (strstr (reply->error->message, "'FIN-404'"));
    ah_free (&reply);
    reply = ah_call (ah, "{\"match\":{\"project_id\":\"FIN-404\",\"role\":\"analyst\"}}");
    ah_err (reply, NOT_FOUND, "match.project_id");
    ah_free (&reply);
    //  One code in two divisions, judged with the caller's view: fin's
    //  manager gets fin's project
    reply = ah_call (ah, "{\"list_allocations\":{\"project_id\":\"TWIN-1\"}}");
    ah_ok (reply);
    ah_free (&reply);
    reply = s_request (ah, "TWIN-1", s_ann, 2, "2026-W44", "2026-W44");
    ah_ok (reply);
    assert (streq (reply->allocation->project_id, twin_fin));
    ah_free (&reply);
    //  ops' project by its code is not fin's manager's to name (by id, as before)
    reply = ah_call (ah, "{\"list_allocations\":{\"project_id\":\"OPS-ONLY\"}}");
    ah_err (reply, NOT_FOUND, "list_allocations.project_id");
    ah_free (&reply);
    //  Who reads both divisions must give the id
    ah_as (ah, "viewer@hub", "viewer@hub");
    reply = ah_call (ah, "{\"list_allocations\":{\"project_id\":\"TWIN-1\"}}");
    ah_err (reply, INVALID, "list_allocations.project_id");
    ah_free (&reply);
    ah_as (ah, "pm@fin", "project_manager@fin");
    //  No registry: a code cannot be resolved, and the caller may retry
    rh_actor_stop (ah->rh);
    reply = s_request (ah, "FIN-1", s_ann, 2, "2026-W44", "2026-W44");
    ah_err (reply, UNAVAILABLE, "");
    assert (reply->error->retryable);
    ah_free (&reply);
    rh_actor_start (ah->rh);
    printf ("project codes wherever ids are: ok\n");
}

int main (void)
{
    ah_t *ah = ah_start ();
    s_fixture (ah);
    s_resources (ah);
    s_supportive (ah);
    s_controlling (ah);
    s_directive (ah);
    s_matching (ah);
    s_state_machine_and_bad_input (ah);
    s_capacity_and_reshape (ah);
    s_idempotency_and_pub (ah);
    s_codes (ah);
    ah_stop (&ah);
    return 0;
}
