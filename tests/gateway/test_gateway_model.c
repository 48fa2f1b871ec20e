/*  test_gateway_model.c: the gateway's pure parts: tokens and hashing,
    who may issue and see which tokens, which events a caller sees, route
    matching and the HTTP <-> protobuf mapping.
*/
#include "gateway_model.h"
#include "gateway_routes.h"

#include "pmo_json.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

static void test_tokens (void)
{
    //  FIPS 180-2 test vector
    char hex[GATEWAY_HASH_HEX];
    gateway_sha256_hex ("abc", 3, hex);
    assert (strcmp (hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad") == 0);
    char id[17], token[GATEWAY_TOKEN_LEN + 1], id2[17], token2[GATEWAY_TOKEN_LEN + 1];
    assert (gateway_token_generate (id, token) == 0);
    assert (gateway_token_generate (id2, token2) == 0);
    assert (strlen (token) == GATEWAY_TOKEN_LEN && strcmp (token, token2) != 0);
    assert (gateway_token_id_valid (id));
    char parsed[17];
    assert (gateway_token_parse (token, parsed) == 0 && strcmp (parsed, id) == 0);
    assert (gateway_token_parse ("pmo_short", parsed) == -1);
    char bad[GATEWAY_TOKEN_LEN + 1];
    snprintf (bad, sizeof bad, "%s", token);
    bad[30] = 'Z';
    assert (gateway_token_parse (bad, parsed) == -1);
    //  Only lower-case hex digits, in the id (at 4..19) and the secret (from
    //  21): the characters either side of each range are refused
    const char *outside = "/:`gAF";
    for (const char *c = outside; *c; c++)
        for (size_t at = 4; at < GATEWAY_TOKEN_LEN; at += 17) {
            snprintf (bad, sizeof bad, "%s", token);
            bad[at] = *c;
            assert (gateway_token_parse (bad, parsed) == -1);
        }
    snprintf (bad, sizeof bad, "%s", token);
    bad[5] = '0', bad[6] = '9', bad[7] = 'a', bad[8] = 'f', bad[40] = '0', bad[41] = 'f';
    assert (gateway_token_parse (bad, parsed) == 0);
    assert (gateway_token_parse (NULL, parsed) == -1);
    char h1[GATEWAY_HASH_HEX], h2[GATEWAY_HASH_HEX];
    gateway_sha256_hex (token, strlen (token), h1);
    gateway_sha256_hex (token2, strlen (token2), h2);
    assert (gateway_hash_equal (h1, h1) && !gateway_hash_equal (h1, h2));
    assert (!gateway_hash_equal (h1, "") && !gateway_hash_equal (NULL, h1));
}

static const char *s_paths (void *ctx, const char *unit)
{
    if (strcmp (unit, "hub") == 0)
        return "hub";
    if (strcmp (unit, "dft") == 0)
        return "hub/dft";
    if (strcmp (unit, "dft-rail") == 0)
        return "hub/dft/dft-rail";
    if (strcmp (unit, "dhsc") == 0)
        return "hub/dhsc";
    return NULL;
}

static Pmo__Identity *s_who (const char *subject, Pmo__Role role, const char *unit)
{
    //  A few live at once: each call takes the next slot
    static Pmo__Identity whos[8];
    static Pmo__Grant grants[8];
    static Pmo__Grant *lists[8][1];
    static size_t next;
    size_t slot = next++ % 8;
    pmo__identity__init (&whos[slot]);
    pmo__grant__init (&grants[slot]);
    grants[slot].role = role;
    grants[slot].org_unit = (char *)unit;
    lists[slot][0] = &grants[slot];
    whos[slot].subject = (char *)subject;
    whos[slot].grants = lists[slot];
    whos[slot].n_grants = 1;
    return &whos[slot];
}

static void test_if_match (void)
{
    uint64_t version;
    assert (gateway_if_match_parse ("\"3\"", &version) == 0 && version == 3);
    assert (gateway_if_match_parse ("\"18446744073709551615\"", &version) == 0 &&
            version == UINT64_MAX);
    assert (gateway_if_match_parse ("W/\"3\"", &version) == -2 && version == 0);
    const char *bad[] = {"3",      "\"-1\"", "\"0\"",  "\"\"",
                         "\"",     "\"3",    "*",      "\"3\", \"4\"",
                         "\" 3\"", "\"3 \"", "\"+3\"", "\"18446744073709551616\"",
                         ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert (gateway_if_match_parse (bad[i], &version) == -1 && version == 0);
}

static void test_issuing (void)
{
    pmo_problem_t problem;
    Pmo__Grant want = PMO__GRANT__INIT;
    want.role = PMO__ROLE__ROLE_VIEWER;
    want.org_unit = "dft-rail";
    Pmo__Identity *admin = s_who ("root", PMO__ROLE__ROLE_ADMIN, "hub");
    assert (gateway_may_grant (admin, &want, s_paths, NULL, &problem));
    want.role = PMO__ROLE__ROLE_ADMIN;
    assert (gateway_may_grant (admin, &want, s_paths, NULL, &problem));
    Pmo__Identity *manager = s_who ("m", PMO__ROLE__ROLE_PMO_MANAGER, "dft");
    assert (!gateway_may_grant (manager, &want, s_paths, NULL, &problem));
    want.role = PMO__ROLE__ROLE_PMO_DIRECTOR;
    assert (!gateway_may_grant (manager, &want, s_paths, NULL, &problem));
    want.role = PMO__ROLE__ROLE_PROJECT_MANAGER;
    assert (gateway_may_grant (manager, &want, s_paths, NULL, &problem));
    want.org_unit = "dhsc";
    assert (!gateway_may_grant (manager, &want, s_paths, NULL, &problem));
    want.org_unit = "nowhere";
    assert (!gateway_may_grant (admin, &want, s_paths, NULL, &problem));
    assert (strstr (problem.message, "nowhere"));
    Pmo__Identity *viewer = s_who ("v", PMO__ROLE__ROLE_VIEWER, "hub");
    want.org_unit = "dft";
    want.role = PMO__ROLE__ROLE_VIEWER;
    assert (!gateway_may_grant (viewer, &want, s_paths, NULL, &problem));

    Pmo__ApiToken token = PMO__API_TOKEN__INIT;
    Pmo__Grant *grants[1] = {&want};
    token.grants = grants;
    token.n_grants = 1;
    token.created_by = "someone";
    assert (gateway_may_see_token (manager, &token, s_paths, NULL));
    assert (!gateway_may_see_token (s_who ("m2", PMO__ROLE__ROLE_PMO_MANAGER, "dhsc"), &token,
                                    s_paths, NULL));
    assert (gateway_may_see_token (s_who ("someone", PMO__ROLE__ROLE_VIEWER, "dhsc"), &token,
                                   s_paths, NULL));

    Pmo__CreateTokenRequest create = PMO__CREATE_TOKEN_REQUEST__INIT;
    assert (gateway_check_create (&create, &problem) == -1);
    assert (strcmp (problem.field, "create_token.name") == 0);
    create.name = "ci";
    create.subject = "ci@dft";
    assert (gateway_check_create (&create, &problem) == -1);
    assert (strcmp (problem.field, "create_token.grants") == 0);
    create.grants = grants;
    create.n_grants = 1;
    assert (gateway_check_create (&create, &problem) == 0);
    want.org_unit = "Not A Slug";
    assert (gateway_check_create (&create, &problem) == -1);
    assert (strcmp (problem.field, "create_token.grants[0].org_unit") == 0);
}

static void test_events (void)
{
    Pmo__Event event = PMO__EVENT__INIT;
    Pmo__Milestone milestone = PMO__MILESTONE__INIT;
    event.type = "milestone.created";
    event.org_unit_path = "hub/dft/dft-rail";
    event.entity_id = "ms_dft_1";
    milestone.project_id = "pr_dft_7";
    event.body_case = PMO__EVENT__BODY_MILESTONE;
    event.milestone = &milestone;
    assert (gateway_event_visible (s_who ("v", PMO__ROLE__ROLE_VIEWER, "dft"), &event));
    assert (!gateway_event_visible (s_who ("v", PMO__ROLE__ROLE_VIEWER, "dhsc"), &event));
    assert (gateway_event_visible (s_who ("v", PMO__ROLE__ROLE_VIEWER, "hub"), &event));
    event.type = "org_unit.created";
    event.org_unit_path = "hub/dft";
    assert (gateway_event_visible (s_who ("v", PMO__ROLE__ROLE_VIEWER, "dhsc"), &event));
    event.type = "milestone.created";
    event.org_unit_path = "hub/dft/dft-rail";
    gateway_event_filter_t filter = {
        .org_unit = "dft", .project = "pr_dft_7", .types = "milestone.*,project.created"};
    assert (gateway_event_matches (&filter, &event));
    filter.project = "pr_dft_8";
    assert (!gateway_event_matches (&filter, &event));
    filter.project = "ms_dft_1";
    assert (gateway_event_matches (&filter, &event));
    filter.types = "project.*";
    assert (!gateway_event_matches (&filter, &event));
    filter = (gateway_event_filter_t){.org_unit = "dhsc"};
    assert (!gateway_event_matches (&filter, &event));
    filter = (gateway_event_filter_t){.org_unit = "dft-rail", .project = "", .types = ""};
    assert (gateway_event_matches (&filter, &event));
    //  The audit trail's filters: the actor, one entity
    event.actor = "jane@dft";
    event.entity_id = "ms_dft_1";
    filter = (gateway_event_filter_t){.actor = "jane@dft", .entity_id = "ms_dft_1"};
    assert (gateway_event_matches (&filter, &event));
    filter.actor = "jane@dhsc";
    assert (!gateway_event_matches (&filter, &event));
    filter = (gateway_event_filter_t){.entity_id = "ms_dft_2"};
    assert (!gateway_event_matches (&filter, &event));
    //  Who reads the audit trail: admin, PMO director and manager, auditor,
    //  in their subtree; nobody else
    const Pmo__Role audits[] = {PMO__ROLE__ROLE_ADMIN, PMO__ROLE__ROLE_PMO_DIRECTOR,
                                PMO__ROLE__ROLE_PMO_MANAGER, PMO__ROLE__ROLE_AUDITOR};
    for (size_t i = 0; i < 4; i++) {
        assert (gateway_may_audit (s_who ("a", audits[i], "dft"), "hub/dft/dft-rail"));
        assert (!gateway_may_audit (s_who ("a", audits[i], "dft"), "hub/dhsc"));
        assert (!gateway_may_audit (s_who ("a", audits[i], "dft"), "hub"));
    }
    const Pmo__Role others[] = {PMO__ROLE__ROLE_VIEWER,      PMO__ROLE__ROLE_PROJECT_MANAGER,
                                PMO__ROLE__ROLE_PMO_ANALYST, PMO__ROLE__ROLE_METRICS,
                                PMO__ROLE__ROLE_SPONSOR,     PMO__ROLE__ROLE_RISK_MANAGER};
    for (size_t i = 0; i < 6; i++) {
        assert (!gateway_may_audit (s_who ("o", others[i], "hub"), "hub/dft"));
        assert (!gateway_may_audit (s_who ("o", others[i], "hub"), NULL));
    }
    assert (pmo_path_contains ("hub/dft", "dft") && !pmo_path_contains ("hub/dft", "df"));
}

//  Who sees what of allocator events (README "Who sees what")
static void test_event_exposure (void)
{
    //  A booking of a dhsc project on a dft person: dhsc's roles and dft's
    //  stewards see it, dft's viewer does not
    Pmo__Allocation allocation = PMO__ALLOCATION__INIT;
    allocation.project_org_unit_path = "hub/dhsc";
    allocation.resource_org_unit_path = "hub/dft/dft-rail";
    Pmo__Event event = PMO__EVENT__INIT;
    event.type = "allocation.committed";
    event.org_unit_path = "hub/dhsc";
    event.body_case = PMO__EVENT__BODY_ALLOCATION;
    event.allocation = &allocation;
    assert (gateway_event_visible (s_who ("v", PMO__ROLE__ROLE_VIEWER, "dhsc"), &event));
    assert (gateway_event_visible (s_who ("r", PMO__ROLE__ROLE_RESOURCE_MANAGER, "dft"), &event));
    assert (gateway_event_visible (s_who ("p", PMO__ROLE__ROLE_PMO_MANAGER, "dft-rail"), &event));
    assert (!gateway_event_visible (s_who ("v", PMO__ROLE__ROLE_VIEWER, "dft"), &event));
    assert (!gateway_event_visible (s_who ("m", PMO__ROLE__ROLE_PROJECT_MANAGER, "dft"), &event));
    assert (!gateway_event_visible (s_who ("r", PMO__ROLE__ROLE_RESOURCE_MANAGER, "moj"), &event));
    //  A resource event: cost rate and reasons of leave for its stewards only
    for (int steward = 0; steward < 2; steward++) {
        Pmo__Resource r = PMO__RESOURCE__INIT;
        r.home_org_unit_path = "hub/dft";
        Pmo__Money money = PMO__MONEY__INIT;
        money.minor = 9100;
        money.currency = "GBP";
        r.cost_rate = &money;
        Pmo__CalendarException off = PMO__CALENDAR_EXCEPTION__INIT, *offs[1] = {&off};
        off.hours_off = 40;
        off.reason = "medical leave";
        r.exceptions = offs;
        r.n_exceptions = 1;
        event = (Pmo__Event)PMO__EVENT__INIT;
        event.type = "resource.updated";
        event.org_unit_path = "hub/dft";
        event.body_case = PMO__EVENT__BODY_RESOURCE;
        event.resource = &r;
        //  The redaction frees what it drops, as of a decoded event: decode one
        uint8_t buf[512];
        size_t size = pmo__event__pack (&event, buf);
        Pmo__Event *copy = pmo__event__unpack (NULL, size, buf);
        assert (copy);
        const Pmo__Identity *who = steward ? s_who ("r", PMO__ROLE__ROLE_RESOURCE_MANAGER, "dft")
                                           : s_who ("v", PMO__ROLE__ROLE_VIEWER, "dft");
        assert (gateway_event_visible (who, copy));
        gateway_event_redact (who, copy);
        assert ((copy->resource->cost_rate != NULL) == (steward == 1));
        assert (copy->resource->exceptions[0]->hours_off == 40);
        assert (strcmp (copy->resource->exceptions[0]->reason, steward ? "medical leave" : "") ==
                0);
        pmo__event__free_unpacked (copy, NULL);
    }
}

static void test_routes (void)
{
    //  gateway_etag: the version in quotes, the largest included
    char tag[GATEWAY_ETAG_SIZE];
    assert (streq (gateway_etag (0, tag), "\"0\""));
    assert (streq (gateway_etag (42, tag), "\"42\""));
    assert (streq (gateway_etag (UINT64_MAX, tag), "\"18446744073709551615\""));
    //  gateway_join: both parts, either missing, cut to fit
    char out[8];
    assert (streq (gateway_join (out, sizeof out, "ab", "cd"), "abcd"));
    assert (streq (gateway_join (out, sizeof out, NULL, "cd"), "cd"));
    assert (streq (gateway_join (out, sizeof out, "ab", NULL), "ab"));
    assert (streq (gateway_join (out, sizeof out, "abcdef", "ghij"), "abcdefg"));
    assert (streq (gateway_join (out, 3, "", "xyz"), "xy"));
    assert (streq (gateway_join (out, 1, "a", "b"), ""));
    char param[64], allow[64];
    const gateway_route_t *route = gateway_route_match ("GET", "/api/v1/projects/pr_dft_1", param,
                                                        sizeof param, allow, sizeof allow);
    assert (route && route->op == GATEWAY_OP_GET && strcmp (param, "pr_dft_1") == 0);
    route =
        gateway_route_match ("GET", "/api/v1/projects/", param, sizeof param, allow, sizeof allow);
    assert (route && route->op == GATEWAY_OP_LIST);
    route = gateway_route_match ("POST", "/api/v1/projects/pr_dft_1/milestones", param,
                                 sizeof param, allow, sizeof allow);
    assert (route && strcmp (route->member, "create_milestone") == 0);
    route = gateway_route_match ("POST", "/api/v1/projects/pr_dft_1", param, sizeof param, allow,
                                 sizeof allow);
    assert (!route && strstr (allow, "GET") && strstr (allow, "PATCH"));
    route = gateway_route_match ("GET", "/api/v1/projects/a b", param, sizeof param, allow,
                                 sizeof allow);
    assert (!route && !*allow);
    route =
        gateway_route_match ("GET", "/api/v1/nothing", param, sizeof param, allow, sizeof allow);
    assert (!route && !*allow);
    //  Every row names a member of its service's request and a reply member
    for (size_t i = 0; gateway_routes[i].method; i++) {
        const gateway_route_t *r = &gateway_routes[i];
        const gateway_service_t *service = &gateway_services[r->service];
        assert (service->request_desc);
        assert (protobuf_c_message_descriptor_get_field_by_name (service->request_desc, r->member));
        assert (protobuf_c_message_descriptor_get_field_by_name (service->reply_desc, r->reply));
    }

    //  Building a list: fixed kind, typed query parameters
    route =
        gateway_route_match ("GET", "/api/v1/projects", param, sizeof param, allow, sizeof allow);
    gateway_problem_t problem;
    json_t *query = json_pack ("{s:s, s:s, s:s}", "limit", "20", "phase", "execution",
                               "include_archived", "true");
    json_t *member = gateway_route_member (route, NULL, query, "", 0, &problem);
    assert (member);
    assert (json_integer_value (json_object_get (member, "limit")) == 20);
    ProtobufCMessage *request = gateway_route_request (route, member, &problem);
    assert (request);
    protobuf_c_message_free_unpacked (request, NULL);
    json_decref (member);
    json_object_set_new (query, "kind", json_string ("milestone"));
    assert (!gateway_route_member (route, NULL, query, "", 0, &problem));
    assert (problem.status == 400 && strcmp (problem.field, "kind") == 0);
    json_decref (query);
    query = json_pack ("{s:s}", "limit", "-");
    assert (!gateway_route_member (route, NULL, query, "", 0, &problem));
    assert (strcmp (problem.field, "limit") == 0);
    json_decref (query);

    //  An update: the path's id and If-Match's version; a body naming
    //  another id is refused; no If-Match is 428
    route = gateway_route_match ("PUT", "/api/v1/projects/pr_dft_1", param, sizeof param, allow,
                                 sizeof allow);
    json_t *body = json_pack ("{s:s}", "name", "x");
    member = gateway_route_member (route, body, NULL, param, 4, &problem);
    assert (member && strcmp (json_string_value (json_object_get (member, "id")), "pr_dft_1") == 0);
    assert (strcmp (json_string_value (json_object_get (member, "version")), "4") == 0);
    json_decref (member);
    assert (!gateway_route_member (route, body, NULL, param, 0, &problem));
    assert (problem.status == 428);
    json_object_set_new (body, "id", json_string ("pr_dft_2"));
    assert (!gateway_route_member (route, body, NULL, param, 4, &problem));
    assert (problem.status == 400 && strcmp (problem.field, "id") == 0);
    json_decref (body);
    //  Wrong types are named relative to the body
    route =
        gateway_route_match ("POST", "/api/v1/projects", param, sizeof param, allow, sizeof allow);
    body = json_pack ("{s:{s:{s:s}}}", "budget", "baseline", "minor", "lots");
    member = gateway_route_member (route, body, NULL, "", 0, &problem);
    assert (member);
    assert (!gateway_route_request (route, member, &problem));
    assert (strcmp (problem.field, "budget.baseline.minor") == 0);
    json_decref (member);
    json_decref (body);
    assert (!gateway_route_member (route, NULL, NULL, "", 0, &problem));

    //  Merge patch (RFC 7396)
    json_t *target = json_pack ("{s:s, s:{s:i, s:i}, s:i}", "name", "a", "budget", "x", 1, "y", 2,
                                "priority", 3);
    json_t *patch =
        json_pack ("{s:s, s:{s:n, s:i}, s:n}", "name", "b", "budget", "x", "y", 5, "priority");
    gateway_merge_patch (target, patch);
    assert (strcmp (json_string_value (json_object_get (target, "name")), "b") == 0);
    assert (!json_object_get (json_object_get (target, "budget"), "x"));
    assert (json_integer_value (json_object_get (json_object_get (target, "budget"), "y")) == 5);
    assert (!json_object_get (target, "priority"));
    json_decref (target);
    json_decref (patch);

    assert (gateway_http_status (PMO__ERROR_CODE__ERROR_CONFLICT, true) == 412);
    assert (gateway_http_status (PMO__ERROR_CODE__ERROR_CONFLICT, false) == 409);
    assert (gateway_http_status (PMO__ERROR_CODE__ERROR_FORBIDDEN, false) == 403);
    assert (gateway_http_status (PMO__ERROR_CODE__ERROR_DEADLINE_EXCEEDED, false) == 504);
    assert (gateway_http_status (PMO__ERROR_CODE__ERROR_UNAVAILABLE, false) == 503);
}

//  A stored import mapping of a unit: its people, those below and above it
static void test_mappings (void)
{
    Pmo__Identity *hub = s_who ("d", PMO__ROLE__ROLE_PMO_DIRECTOR, "hub");
    Pmo__Identity *dft = s_who ("m", PMO__ROLE__ROLE_PMO_MANAGER, "dft");
    Pmo__Identity *rail = s_who ("v", PMO__ROLE__ROLE_VIEWER, "dft-rail");
    Pmo__Identity *dhsc = s_who ("p", PMO__ROLE__ROLE_PROJECT_MANAGER, "dhsc");
    Pmo__Identity nobody = PMO__IDENTITY__INIT;
    assert (gateway_may_use_mapping (dhsc, "", s_paths, NULL) &&
            gateway_may_use_mapping (dhsc, NULL, s_paths, NULL));
    assert (!gateway_may_use_mapping (&nobody, "", s_paths, NULL));
    assert (gateway_may_use_mapping (hub, "dft", s_paths, NULL));
    assert (gateway_may_use_mapping (dft, "dft", s_paths, NULL));
    assert (gateway_may_use_mapping (rail, "dft", s_paths, NULL));
    assert (gateway_may_use_mapping (dft, "dft-rail", s_paths, NULL));
    assert (!gateway_may_use_mapping (dhsc, "dft", s_paths, NULL));
    assert (!gateway_may_use_mapping (rail, "dhsc", s_paths, NULL));
    assert (!gateway_may_use_mapping (hub, "nowhere", s_paths, NULL));
}

int main (void)
{
    test_mappings ();
    test_tokens ();
    test_if_match ();
    test_issuing ();
    test_events ();
    test_event_exposure ();
    test_routes ();
    printf ("test_gateway_model: OK\n");
    return 0;
}
