/*  test_gate_requests.c: pending gate requests against a real registry and
    redis-server: a project manager's request with what the gate asks, one
    pending request per project, retries by request id, the approvers'
    listing scoped by role and division in the order the requests were
    asked (across divisions, paged), withdrawal by the requester only,
    and the decision, a phase change or the project's archiving closing the
    request in its commit, one event each.
*/
#include "events.pb-c.h"
#include "pmo_json.h"
#include "pmo_util.h"
#include "registry_harness.h"

#include <assert.h>
#include <string.h>

#define REQUEST(name, member, CASE)                                                                \
    Pmo__RegistryRequest name = PMO__REGISTRY_REQUEST__INIT;                                       \
    name.body_case = PMO__REGISTRY_REQUEST__BODY_##CASE;                                           \
    name.member

static char s_mod[40], s_ops[3][40], s_hub[40];

//  A division with a gate into planning (charter, business case) that
//  only PMO managers decide.
static void s_directive_unit (rh_t *rh)
{
    Pmo__OrgUnit unit = PMO__ORG_UNIT__INIT;
    unit.id = "mod";
    unit.name = "Defence";
    unit.kind = PMO__ORG_UNIT_KIND__ORG_UNIT_KIND_DIVISION;
    unit.parent = "hub";
    unit.pmo_type = PMO__PMO_TYPE__PMO_TYPE_DIRECTIVE;
    Pmo__Policy policy = PMO__POLICY__INIT;
    Pmo__GateRequirement gate = PMO__GATE_REQUIREMENT__INIT;
    Pmo__GateRequirement *gates[] = {&gate};
    char *artifacts[] = {"charter", "business_case"};
    Pmo__Role roles[] = {PMO__ROLE__ROLE_PMO_MANAGER};
    gate.phase = PMO__PHASE__PHASE_PLANNING;
    gate.artifacts = artifacts;
    gate.n_artifacts = 2;
    gate.approver_roles = roles;
    gate.n_approver_roles = 1;
    policy.gates = gates;
    policy.n_gates = 1;
    unit.policy = &policy;
    REQUEST (request, create_org_unit, CREATE_ORG_UNIT) = &unit;
    Pmo__RegistryReply *reply = rh_call (rh, &request);
    rh_ok (reply);
    rh_free (&reply);
}

static uint64_t s_version (rh_t *rh, const char *id)
{
    Pmo__RegistryReply *got = rh_get (rh, PMO__ENTITY_KIND__ENTITY_KIND_PROJECT, id);
    rh_ok (got);
    uint64_t version = got->project->version;
    rh_free (&got);
    return version;
}

static Pmo__RegistryReply *s_request (rh_t *rh, const char *id, Pmo__Phase to, const char *note,
                                      const char *request_id)
{
    Pmo__GateRequestRequest ask = PMO__GATE_REQUEST_REQUEST__INIT;
    ask.project_id = (char *)id;
    ask.version = s_version (rh, id);
    ask.to_phase = to;
    ask.note = (char *)(note ? note : "");
    REQUEST (request, request_gate, REQUEST_GATE) = &ask;
    return request_id ? rh_call_with_id (rh, &request, request_id) : rh_call (rh, &request);
}

static Pmo__RegistryReply *s_withdraw (rh_t *rh, const char *id)
{
    Pmo__GateWithdrawRequest withdraw = PMO__GATE_WITHDRAW_REQUEST__INIT;
    withdraw.project_id = (char *)id;
    withdraw.version = s_version (rh, id);
    REQUEST (request, withdraw_gate, WITHDRAW_GATE) = &withdraw;
    return rh_call (rh, &request);
}

static Pmo__RegistryReply *s_pending (rh_t *rh, bool to_decide, const char *org_unit,
                                      uint32_t limit, const char *cursor)
{
    Pmo__PendingGatesRequest ask = PMO__PENDING_GATES_REQUEST__INIT;
    ask.to_decide = to_decide;
    ask.org_unit = (char *)(org_unit ? org_unit : "");
    ask.limit = limit;
    ask.cursor = (char *)(cursor ? cursor : "");
    REQUEST (request, pending_gates, PENDING_GATES) = &ask;
    return rh_call (rh, &request);
}

//  How many projects pending_gates shows (all on one page).
static size_t s_count (rh_t *rh, bool to_decide, const char *org_unit)
{
    Pmo__RegistryReply *reply = s_pending (rh, to_decide, org_unit, 0, NULL);
    rh_ok (reply);
    assert (pmo_str_empty (reply->page->next_cursor));
    size_t n = reply->page->n_projects;
    for (size_t i = 0; i < n; i++)
        assert (reply->page->projects[i]->gate_request);
    rh_free (&reply);
    return n;
}

static long long s_xlen (rh_t *rh, const char *division)
{
    redisReply *reply = pmo_test_redis_command (rh->redis, "XLEN pmo:{%s}:events", division);
    long long n = reply->integer;
    freeReplyObject (reply);
    return n;
}

//  The division's newest event (caller frees).
static Pmo__Event *s_last_event (rh_t *rh, const char *division)
{
    redisReply *entries =
        pmo_test_redis_command (rh->redis, "XREVRANGE pmo:{%s}:events + - COUNT 1", division);
    assert (entries->type == REDIS_REPLY_ARRAY && entries->elements == 1);
    redisReply *fields = entries->element[0]->element[1];
    Pmo__Event *event =
        pmo__event__unpack (NULL, fields->element[3]->len, (uint8_t *)fields->element[3]->str);
    assert (event);
    freeReplyObject (entries);
    return event;
}

static void s_setup (rh_t *rh)
{
    Pmo__RegistryReply *reply = rh_unit (rh, "hub", "enterprise", NULL, "supportive");
    rh_ok (reply);
    rh_free (&reply);
    s_directive_unit (rh);
    reply = rh_unit (rh, "ops", "division", "hub", "directive");
    rh_ok (reply);
    rh_free (&reply);
    reply = rh_unit (rh, "mod-air", "department", "mod", NULL);
    rh_ok (reply);
    rh_free (&reply);
    //  MOD-1 has its charter, not its business case
    Pmo__Project project = PMO__PROJECT__INIT;
    project.code = "MOD-1";
    project.name = "Radar";
    project.org_unit = "mod-air";
    char *artifacts[] = {"charter"};
    project.artifacts = artifacts;
    project.n_artifacts = 1;
    REQUEST (create, create_project, CREATE_PROJECT) = &project;
    reply = rh_call (rh, &create);
    rh_ok (reply);
    snprintf (s_mod, sizeof s_mod, "%s", reply->project->id);
    rh_free (&reply);
    for (int i = 0; i < 3; i++) {
        char code[16];
        snprintf (code, sizeof code, "OPS-%d", i + 1);
        reply = rh_project (rh, code, "ops");
        rh_ok (reply);
        snprintf (s_ops[i], sizeof s_ops[i], "%s", reply->project->id);
        rh_free (&reply);
    }
    reply = rh_project (rh, "HUB-1", "hub");
    rh_ok (reply);
    snprintf (s_hub, sizeof s_hub, "%s", reply->project->id);
    rh_free (&reply);
}

static void s_request_and_list (rh_t *rh)
{
    rh_as (rh, "pm@mod", "project_manager@mod");
    //  Under a directive PMO the phase change is refused, names request_gate,
    //  and changes nothing
    uint64_t before = s_version (rh, s_mod);
    Pmo__PhaseChangeRequest change = PMO__PHASE_CHANGE_REQUEST__INIT;
    change.project_id = s_mod;
    change.version = before;
    change.to_phase = PMO__PHASE__PHASE_PLANNING;
    REQUEST (phase, change_phase, CHANGE_PHASE) = &change;
    Pmo__RegistryReply *reply = rh_call (rh, &phase);
    rh_err (reply, FAILED_PRECONDITION, "change_phase.to_phase");
    assert (strstr (reply->error->message, "request_gate"));
    rh_free (&reply);
    assert (s_version (rh, s_mod) == before);

    //  Bad input is named at its field and writes nothing
    long long events = s_xlen (rh, "mod");
    reply = s_request (rh, s_mod, PMO__PHASE__PHASE_PLANNING, "line\x01", NULL);
    rh_err (reply, INVALID, "request_gate.note");
    rh_free (&reply);
    char long_note[2100];
    memset (long_note, 'n', sizeof long_note - 1);
    long_note[sizeof long_note - 1] = 0;
    reply = s_request (rh, s_mod, PMO__PHASE__PHASE_PLANNING, long_note, NULL);
    rh_err (reply, INVALID, "request_gate.note");
    rh_free (&reply);
    reply = s_request (rh, s_mod, PMO__PHASE__PHASE_EXECUTION, NULL, NULL);
    rh_err (reply, FAILED_PRECONDITION, "request_gate.to_phase");
    rh_free (&reply);
    Pmo__GateRequestRequest stale = PMO__GATE_REQUEST_REQUEST__INIT;
    stale.project_id = s_mod;
    stale.to_phase = PMO__PHASE__PHASE_PLANNING;
    REQUEST (unversioned, request_gate, REQUEST_GATE) = &stale;
    reply = rh_call (rh, &unversioned);
    rh_err (reply, INVALID, "version");
    rh_free (&reply);
    stale.project_id = "pr_mod_99";
    reply = rh_call (rh, &unversioned);
    rh_err (reply, NOT_FOUND, "request_gate.project_id");
    rh_free (&reply);
    rh_as (rh, "viewer@mod", "viewer@mod");
    reply = s_request (rh, s_mod, PMO__PHASE__PHASE_PLANNING, NULL, NULL);
    rh_err (reply, FORBIDDEN, "");
    rh_free (&reply);
    //  Another division's project manager does not see the project at all
    rh_as (rh, "pm@ops", "project_manager@ops");
    stale.project_id = "MOD-1";
    stale.version = before;
    reply = rh_call (rh, &unversioned);
    rh_err (reply, NOT_FOUND, "request_gate.project_id");
    rh_free (&reply);
    rh_as (rh, "pm@mod", "project_manager@mod");
    assert (s_xlen (rh, "mod") == events);
    assert (s_version (rh, s_mod) == before);

    //  The request, by code, with what the gate asks at this moment
    reply = s_request (rh, "MOD-1", PMO__PHASE__PHASE_PLANNING, "Board on Friday", "gq-1");
    rh_ok (reply);
    Pmo__GateRequest *asked = reply->project->gate_request;
    assert (asked);
    assert (reply->project->version == before + 1);
    assert (reply->project->phase == PMO__PHASE__PHASE_INITIATION);
    assert (streq (asked->requested_by, "pm@mod") && asked->requested_ms > 0);
    assert (asked->from_phase == PMO__PHASE__PHASE_INITIATION);
    assert (asked->to_phase == PMO__PHASE__PHASE_PLANNING);
    assert (streq (asked->note, "Board on Friday"));
    assert (asked->n_artifacts_present == 1 && streq (asked->artifacts_present[0], "charter"));
    assert (asked->n_artifacts_missing == 1 &&
            streq (asked->artifacts_missing[0], "business_case"));
    assert (asked->pmo_type == PMO__PMO_TYPE__PMO_TYPE_DIRECTIVE);
    assert (asked->n_approver_roles == 1 &&
            asked->approver_roles[0] == PMO__ROLE__ROLE_PMO_MANAGER);
    assert (reply->n_warnings == 1 && strstr (reply->warnings[0], "business_case"));
    int64_t asked_ms = asked->requested_ms;
    rh_free (&reply);
    //  One commit, one event, carrying the request
    assert (s_xlen (rh, "mod") == events + 1);
    Pmo__Event *event = s_last_event (rh, "mod");
    assert (streq (event->type, "project.gate_requested"));
    assert (event->body_case == PMO__EVENT__BODY_PROJECT);
    assert (event->project->gate_request);
    assert (event->gate_request && event->gate_request->requested_ms == asked_ms);
    assert (streq (event->actor, "pm@mod"));
    pmo__event__free_unpacked (event, NULL);
    //  A retry with the same request id is answered the same, once
    Pmo__GateRequestRequest again = PMO__GATE_REQUEST_REQUEST__INIT;
    again.project_id = s_mod;
    again.version = before;
    again.to_phase = PMO__PHASE__PHASE_PLANNING;
    REQUEST (retry, request_gate, REQUEST_GATE) = &again;
    reply = rh_call_with_id (rh, &retry, "gq-1");
    rh_ok (reply);
    assert (reply->project->gate_request->requested_ms == asked_ms);
    rh_free (&reply);
    assert (s_xlen (rh, "mod") == events + 1);
    //  One pending request per project and gate
    reply = s_request (rh, s_mod, PMO__PHASE__PHASE_PLANNING, NULL, NULL);
    rh_err (reply, FAILED_PRECONDITION, "request_gate.to_phase");
    assert (strstr (reply->error->message, "pm@mod"));
    rh_free (&reply);
    //  An update that does not carry it keeps it
    Pmo__RegistryReply *got = rh_get (rh, PMO__ENTITY_KIND__ENTITY_KIND_PROJECT, s_mod);
    rh_ok (got);
    Pmo__GateRequest *kept = got->project->gate_request;
    got->project->gate_request = NULL;
    REQUEST (update, update_project, UPDATE_PROJECT) = got->project;
    reply = rh_call (rh, &update);
    rh_ok (reply);
    assert (reply->project->gate_request && reply->project->gate_request->requested_ms == asked_ms);
    rh_free (&reply);
    got->project->gate_request = kept;
    rh_free (&got);

    //  Who sees it: the gate's approvers (PMO managers of mod) to decide;
    //  everyone who may read mod-air in the plain listing; nobody elsewhere
    rh_as (rh, "boss@mod", "pmo_manager@mod");
    assert (s_count (rh, true, NULL) == 1);
    assert (s_count (rh, true, "mod-air") == 1);
    assert (s_count (rh, true, "ops") == 0);
    Pmo__PendingGatesRequest one = PMO__PENDING_GATES_REQUEST__INIT;
    one.project_id = "MOD-1";
    one.to_decide = true;
    REQUEST (by_project, pending_gates, PENDING_GATES) = &one;
    reply = rh_call (rh, &by_project);
    rh_ok (reply);
    assert (reply->page->n_projects == 1 && streq (reply->page->projects[0]->code, "MOD-1"));
    rh_free (&reply);
    rh_as (rh, "pm@mod", "project_manager@mod");
    assert (s_count (rh, true, NULL) == 0);
    assert (s_count (rh, false, NULL) == 1);
    rh_as (rh, "sponsor@mod", "sponsor@mod"); //  not an approver of this gate
    assert (s_count (rh, true, NULL) == 0);
    rh_as (rh, "boss@ops", "pmo_manager@ops");
    assert (s_count (rh, true, NULL) == 0 && s_count (rh, false, NULL) == 0);
    one.to_decide = false;
    reply = rh_call (rh, &by_project);
    rh_err (reply, NOT_FOUND, "pending_gates.project_id");
    rh_free (&reply);
    rh_as (rh, "director@hub", "pmo_director@hub"); //  not in mod's approver roles
    assert (s_count (rh, true, NULL) == 0 && s_count (rh, false, NULL) == 1);
    //  Bad listing input
    reply = s_pending (rh, false, "nowhere", 0, NULL);
    rh_err (reply, NOT_FOUND, "pending_gates.org_unit");
    rh_free (&reply);
    reply = s_pending (rh, false, NULL, 501, NULL);
    rh_err (reply, INVALID, "pending_gates.limit");
    rh_free (&reply);
    reply = s_pending (rh, false, NULL, 0, "garbage");
    rh_err (reply, INVALID, "pending_gates.cursor");
    rh_free (&reply);
    printf ("request and list: ok\n");
}

static void s_withdraw_and_decide (rh_t *rh)
{
    //  Only the requester withdraws
    rh_as (rh, "boss@mod", "pmo_manager@mod");
    Pmo__RegistryReply *reply = s_withdraw (rh, s_mod);
    rh_err (reply, FORBIDDEN, "withdraw_gate");
    rh_free (&reply);
    rh_as (rh, "pm@mod", "project_manager@mod");
    long long events = s_xlen (rh, "mod");
    reply = s_withdraw (rh, s_mod);
    rh_ok (reply);
    assert (!reply->project->gate_request);
    rh_free (&reply);
    assert (s_xlen (rh, "mod") == events + 1);
    Pmo__Event *event = s_last_event (rh, "mod");
    assert (streq (event->type, "project.gate_withdrawn"));
    assert (event->gate_request && streq (event->gate_request->requested_by, "pm@mod"));
    assert (!event->project->gate_request);
    pmo__event__free_unpacked (event, NULL);
    reply = s_withdraw (rh, s_mod);
    rh_err (reply, FAILED_PRECONDITION, "withdraw_gate.project_id");
    rh_free (&reply);
    rh_as (rh, "boss@mod", "pmo_manager@mod");
    assert (s_count (rh, true, NULL) == 0);

    //  Asked again, then decided: the decision closes it in its commit
    rh_as (rh, "pm@mod", "project_manager@mod");
    reply = s_request (rh, s_mod, PMO__PHASE__PHASE_PLANNING, NULL, NULL);
    rh_ok (reply);
    rh_free (&reply);
    rh_as (rh, "boss@mod", "pmo_manager@mod");
    assert (s_count (rh, true, NULL) == 1);
    events = s_xlen (rh, "mod");
    Pmo__GateDecisionRequest decide = PMO__GATE_DECISION_REQUEST__INIT;
    decide.project_id = s_mod;
    decide.version = s_version (rh, s_mod);
    decide.to_phase = PMO__PHASE__PHASE_PLANNING;
    decide.outcome = PMO__GATE_OUTCOME__GATE_OUTCOME_HOLD;
    decide.rationale = "the business case is not ready";
    REQUEST (decision, decide_gate, DECIDE_GATE) = &decide;
    reply = rh_call (rh, &decision);
    rh_ok (reply);
    assert (reply->gate_decision->request);
    assert (streq (reply->gate_decision->request->requested_by, "pm@mod"));
    assert (!reply->moved_project->gate_request);
    rh_free (&reply);
    assert (s_xlen (rh, "mod") == events + 1);
    event = s_last_event (rh, "mod");
    assert (streq (event->type, "project.gate_decided"));
    assert (event->gate && event->gate->request);
    pmo__event__free_unpacked (event, NULL);
    assert (s_count (rh, true, NULL) == 0);
    Pmo__RegistryReply *got = rh_get (rh, PMO__ENTITY_KIND__ENTITY_KIND_PROJECT, s_mod);
    assert (!got->project->gate_request);
    rh_free (&got);
    printf ("withdraw and decide: ok\n");
}

//  The whole listing (one page) is in the order the requests were asked,
//  whatever their division
static void s_in_time_order (rh_t *rh)
{
    Pmo__RegistryReply *reply = s_pending (rh, false, NULL, 0, NULL);
    rh_ok (reply);
    for (size_t i = 1; i < reply->page->n_projects; i++)
        assert (reply->page->projects[i - 1]->gate_request->requested_ms <=
                reply->page->projects[i]->gate_request->requested_ms);
    rh_free (&reply);
}

static void s_paging_and_phase_change (rh_t *rh)
{
    //  Asked in the order OPS-3, OPS-1, OPS-2, each in a later millisecond
    //  than the one before (the registry's clock is this machine's: wait
    //  for it to move): listed in that order, not the projects'
    rh_as (rh, "pm@ops", "project_manager@ops");
    static const int order[] = {2, 0, 1};
    for (int i = 0; i < 3; i++) {
        Pmo__RegistryReply *reply =
            s_request (rh, s_ops[order[i]], PMO__PHASE__PHASE_PLANNING, NULL, NULL);
        rh_ok (reply);
        //  Default approvers where the policy names none
        assert (reply->project->gate_request->n_approver_roles == 3);
        int64_t asked = reply->project->gate_request->requested_ms;
        rh_free (&reply);
        while (pmo_now_ms () <= asked)
            zclock_sleep (1);
    }
    rh_as (rh, "boss@ops", "pmo_manager@ops");
    Pmo__RegistryReply *reply = s_pending (rh, true, NULL, 2, NULL);
    rh_ok (reply);
    assert (reply->page->n_projects == 2 && !pmo_str_empty (reply->page->next_cursor));
    assert (streq (reply->page->projects[0]->id, s_ops[2]));
    assert (streq (reply->page->projects[1]->id, s_ops[0]));
    char cursor[80];
    snprintf (cursor, sizeof cursor, "%s", reply->page->next_cursor);
    rh_free (&reply);
    reply = s_pending (rh, true, NULL, 2, cursor);
    rh_ok (reply);
    assert (reply->page->n_projects == 1 && streq (reply->page->projects[0]->id, s_ops[1]));
    assert (pmo_str_empty (reply->page->next_cursor));
    rh_free (&reply);
    //  A cursor of another form is refused at the cursor
    reply = s_pending (rh, true, NULL, 2, "ops|3");
    rh_err (reply, INVALID, "pending_gates.cursor");
    rh_free (&reply);

    //  Where no decision is needed, passing the gate closes the request
    rh_as (rh, "pm@hub", "project_manager@hub");
    reply = s_request (rh, s_hub, PMO__PHASE__PHASE_PLANNING, NULL, NULL);
    rh_ok (reply);
    rh_free (&reply);
    rh_as (rh, "admin@test", "admin@hub");
    assert (s_count (rh, false, NULL) == 4);
    //  HUB-1, asked last, comes after the requests of ops (the hub's
    //  division comes first in the tree)
    s_in_time_order (rh);
    rh_as (rh, "pm@hub", "project_manager@hub");
    Pmo__PhaseChangeRequest change = PMO__PHASE_CHANGE_REQUEST__INIT;
    change.project_id = s_hub;
    change.version = s_version (rh, s_hub);
    change.to_phase = PMO__PHASE__PHASE_PLANNING;
    REQUEST (phase, change_phase, CHANGE_PHASE) = &change;
    reply = rh_call (rh, &phase);
    rh_ok (reply);
    assert (reply->project->phase == PMO__PHASE__PHASE_PLANNING && !reply->project->gate_request);
    rh_free (&reply);
    rh_as (rh, "admin@test", "admin@hub");
    assert (s_count (rh, false, NULL) == 3);
    assert (s_count (rh, false, "ops") == 3);
    printf ("paging and phase change: ok\n");
}

//  Archiving a project closes its pending request in the same commit: the
//  record keeps none, the index has no entry, the event carries it
static void s_archive (rh_t *rh)
{
    rh_as (rh, "admin@test", "admin@hub");
    Pmo__RegistryReply *got = rh_get (rh, PMO__ENTITY_KIND__ENTITY_KIND_PROJECT, s_ops[2]);
    rh_ok (got);
    assert (got->project->gate_request);
    Pmo__ArchiveRequest archive = PMO__ARCHIVE_REQUEST__INIT;
    archive.kind = PMO__ENTITY_KIND__ENTITY_KIND_PROJECT;
    archive.id = s_ops[2];
    archive.version = got->project->version;
    rh_free (&got);
    long long before = s_xlen (rh, "ops");
    REQUEST (request, archive, ARCHIVE) = &archive;
    Pmo__RegistryReply *reply = rh_call (rh, &request);
    rh_ok (reply);
    assert (reply->project->archived && !reply->project->gate_request);
    rh_free (&reply);
    assert (s_xlen (rh, "ops") == before + 1);
    Pmo__Event *event = s_last_event (rh, "ops");
    assert (streq (event->type, "project.archived") && event->gate_request &&
            event->gate_request->to_phase == PMO__PHASE__PHASE_PLANNING);
    pmo__event__free_unpacked (event, NULL);
    redisReply *score = pmo_test_redis_command (rh->redis, "ZSCORE pmo:{ops}:gates %s", s_ops[2]);
    assert (score->type == REDIS_REPLY_NIL);
    freeReplyObject (score);
    assert (s_count (rh, false, "ops") == 2);
    printf ("archive closes the request: ok\n");
}

int main (void)
{
    rh_t *rh = rh_start ();
    s_setup (rh);
    s_request_and_list (rh);
    s_withdraw_and_decide (rh);
    s_paging_and_phase_change (rh);
    s_archive (rh);
    rh_stop (&rh);
    printf ("test_gate_requests: ok\n");
    return 0;
}
