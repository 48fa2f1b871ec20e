/*  test_planner_http.c: the planner through the gateway's HTTP API, as a
    caller sees it: a real redis-server, the registry, the gateway and the
    planner actors in-process, and libcurl.

    A benefit created, read with its ETag, measured behind its profile (the
    lag shows in the list filtered on it) and rolled up; a scenario over
    another division refused to a division's analyst; a scenario solved
    (201 with its Location) and committed only by a PMO manager with
    If-Match, answering the proposed gate decisions.
*/
#include "gateway_harness.h"
#include "planner_server.h"
#include "pmo_testkit.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char s_planner[64];

static void s_tune (gateway_config_t *config)
{
    config->upstreams[GATEWAY_SVC_PLANNER] = s_planner;
    //  The planner answers after its own calls to the registry, all in this
    //  process: under valgrind on a loaded machine that can pass 2 s
    config->upstream_timeout_ms = 20000;
}

int main (void)
{
    snprintf (s_planner, sizeof s_planner, "tcp://127.0.0.1:%d", pmo_test_free_port ());
    char pub[64];
    snprintf (pub, sizeof pub, "tcp://127.0.0.1:%d", pmo_test_free_port ());
    gh_t *gh = gh_start (s_tune);
    gh_org (gh);
    planner_config_t config = {
        .endpoint = s_planner,
        .pub_endpoint = pub,
        .redis_url = pmo_test_redis_url (gh->rh->redis),
        .hub = "hub",
        .registry = gh->rh->endpoint,
        .redis_timeout_ms = 2000,
        .month = "2026-12", //  the benefit's profile starts in 2027
    };
    zactor_t *planner = pmo_test_actor_new (planner_server_actor, &config, &config.failed);
    assert (planner);
    char *project = gh_project (gh, gh->admin, "DFT-2027-001", "dft");
    char *other = gh_project (gh, gh->admin, "DHSC-2027-001", "dhsc");
    char *pm = gh_token (gh, "pm@dft", "project_manager@dft");
    char *analyst = gh_token (gh, "analyst@dft", "pmo_analyst@dft");
    char *manager = gh_token (gh, "manager@dft", "pmo_manager@dft");
    char *other_pmo = gh_token (gh, "manager@dhsc", "pmo_manager@dhsc");

    //  A benefit, created by the project's manager
    char body[2048];
    snprintf (body, sizeof body,
              "{\"title\":\"Lower running "
              "cost\",\"org_unit\":\"dft\",\"kind\":\"cashable\","
              "\"owner\":\"finance.director@dft\",\"measure\":\"running cost saved\","
              "\"currency\":\"GBP\",\"baseline\":0,\"target\":1200000,"
              "\"profile\":[{\"period\":\"2027-01\",\"value\":300000},"
              "{\"period\":\"2028-01\",\"value\":1200000}],\"project_ids\":[\"%s\"]}",
              project);
    gh_resp_t *resp = gh_http (gh, "POST", "/api/v1/benefits", pm, body, NULL);
    GH_CHECK (resp->status == 201, resp);
    char id[64];
    snprintf (id, sizeof id, "%s", gh_str (resp, "id"));
    GH_CHECK (strncmp (id, "bn_dft_", 7) == 0, resp);
    GH_CHECK (gh_header (resp, "Location") && strstr (gh_header (resp, "Location"), id), resp);
    gh_resp_free (&resp);
    //  A bad one is refused naming the field
    char bad[512];
    snprintf (bad, sizeof bad,
              "{\"title\":\"x\",\"org_unit\":\"dft\",\"kind\":\"cashable\",\"owner\":\"o\","
              "\"measure\":\"m\",\"currency\":\"GBP\",\"target\":5,"
              "\"profile\":[{\"period\":\"2027-13\",\"value\":1}],\"project_ids\":[\"%s\"]}",
              project);
    resp = gh_http (gh, "POST", "/api/v1/benefits", pm, bad, NULL);
    GH_CHECK (resp->status == 400 && strcmp (gh_str (resp, "field"), "profile[0].period") == 0,
              resp);
    gh_resp_free (&resp);
    char path[160];
    snprintf (path, sizeof path, "/api/v1/benefits/%s", id);
    resp = gh_http (gh, "GET", path, pm, NULL, NULL);
    GH_CHECK (resp->status == 200 && gh_header (resp, "ETag"), resp);
    gh_resp_free (&resp);
    //  Measured behind its profile in July: 300k where 675k was expected
    snprintf (path, sizeof path, "/api/v1/benefits/%s/measurements", id);
    resp = gh_http (gh, "POST", path, pm, "{\"period\":\"2027-07\",\"value\":300000}",
                    "If-Match: \"1\"");
    GH_CHECK (resp->status == 200, resp);
    json_t *realisation = json_object_get (resp->json, "realisation");
    GH_CHECK (json_is_true (json_object_get (realisation, "lagging")), resp);
    gh_resp_free (&resp);
    resp = gh_http (gh, "GET", "/api/v1/benefits?org_unit=dft&lagging_only=true", pm, NULL, NULL);
    GH_CHECK (resp->status == 200 && json_array_size (json_object_get (resp->json, "items")) == 1,
              resp);
    gh_resp_free (&resp);
    resp = gh_http (gh, "GET", "/api/v1/benefit-rollup?org_unit=hub&by=division", gh->admin, NULL,
                    NULL);
    GH_CHECK (resp->status == 200, resp);
    json_t *rows = json_object_get (resp->json, "rows");
    GH_CHECK (json_array_size (rows) == 1, resp);
    GH_CHECK (
        strcmp (json_string_value (json_object_get (json_array_get (rows, 0), "unit")), "GBP") == 0,
        resp);
    gh_resp_free (&resp);

    //  A scenario over another division: refused
    snprintf (body, sizeof body,
              "{\"name\":\"peek\",\"org_unit\":\"dhsc\",\"start\":\"2027-04-01\","
              "\"candidates\":[{\"project_id\":\"%s\",\"value\":10,\"cost_by_"
              "quarter\":[100]}]}",
              other);
    resp = gh_http (gh, "POST", "/api/v1/scenarios", analyst, body, NULL);
    GH_CHECK (resp->status == 403, resp);
    gh_resp_free (&resp);
    //  Over its own: solved and kept
    snprintf (body, sizeof body,
              "{\"name\":\"base\",\"org_unit\":\"dft\",\"start\":\"2027-04-01\","
              "\"candidates\":[{\"project_id\":\"%s\",\"value\":10,\"cost_by_quarter\":"
              "[100]}],"
              "\"budgets\":[{\"division\":\"dft\",\"year\":0,\"limit_minor\":50}]}",
              project);
    resp = gh_http (gh, "POST", "/api/v1/scenarios", analyst, body, NULL);
    GH_CHECK (resp->status == 201, resp);
    char scenario[64];
    snprintf (scenario, sizeof scenario, "%s", gh_str (resp, "id"));
    json_t *result = json_object_get (resp->json, "result");
    GH_CHECK (json_is_true (json_object_get (result, "feasible")), resp);
    gh_resp_free (&resp);
    //  Committed by the PMO manager, not the analyst: the proposals come back
    snprintf (path, sizeof path, "/api/v1/scenarios/%s/commit", scenario);
    resp = gh_http (gh, "POST", path, analyst, "{}", "If-Match: \"1\"");
    GH_CHECK (resp->status == 403, resp);
    gh_resp_free (&resp);
    resp = gh_http (gh, "POST", path, manager, "{}", "If-Match: \"1\"");
    GH_CHECK (resp->status == 200, resp);
    json_t *decisions = json_object_get (resp->json, "decisions");
    GH_CHECK (json_array_size (decisions) == 1, resp);
    GH_CHECK (
        strcmp (json_string_value (json_object_get (json_array_get (decisions, 0), "decision")),
                "hold") == 0,
        resp);
    gh_resp_free (&resp);
    //  The list has it, committed, with the decisions it proposed; another
    //  division's PMO sees none of dft's scenarios
    resp = gh_http (gh, "GET", "/api/v1/scenarios?org_unit=dft", analyst, NULL, NULL);
    GH_CHECK (resp->status == 200, resp);
    json_t *listed = json_array_get (json_object_get (resp->json, "scenarios"), 0);
    GH_CHECK (listed && strcmp (json_string_value (json_object_get (listed, "id")), scenario) == 0,
              resp);
    GH_CHECK (json_is_true (json_object_get (listed, "committed")), resp);
    GH_CHECK (json_array_size (json_object_get (listed, "proposals")) == 1, resp);
    gh_resp_free (&resp);
    resp = gh_http (gh, "GET", "/api/v1/scenarios", other_pmo, NULL, NULL);
    GH_CHECK (resp->status == 200 &&
                  json_array_size (json_object_get (resp->json, "scenarios")) == 0,
              resp);
    gh_resp_free (&resp);

    //  The register through the import and export routes: a file naming
    //  the project by code, a re-import that changes nothing, the export
    resp = gh_http (gh, "POST", "/api/v1/import?entity=benefit&dry_run=1", pm,
                    "title,kind,owner,measure,target,project_code\n"
                    "Fewer delays,non_financial,ops,days late,x,DFT-2027-001\n",
                    "Content-Type: text/csv");
    GH_CHECK (resp->status == 422, resp);
    json_t *problem = json_array_get (json_object_get (resp->json, "problems"), 0);
    GH_CHECK (problem && json_integer_value (json_object_get (problem, "row")) == 2 &&
                  strcmp (json_string_value (json_object_get (problem, "column")), "target") == 0,
              resp);
    gh_resp_free (&resp);
    const char *file = "title,kind,owner,measure,unit,baseline,target,project_code\n"
                       "Fewer delays,non_financial,ops,days late,days,30,10,DFT-2027-001\n";
    resp =
        gh_http (gh, "POST", "/api/v1/import?entity=benefit", pm, file, "Content-Type: text/csv");
    GH_CHECK (resp->status == 200 &&
                  json_integer_value (json_object_get (resp->json, "created")) == 1,
              resp);
    gh_resp_free (&resp);
    resp =
        gh_http (gh, "POST", "/api/v1/import?entity=benefit", pm, file, "Content-Type: text/csv");
    GH_CHECK (resp->status == 200 &&
                  json_integer_value (json_object_get (resp->json, "unchanged")) == 1 &&
                  json_integer_value (json_object_get (resp->json, "created")) == 0,
              resp);
    gh_resp_free (&resp);
    resp = gh_http (gh, "GET", "/api/v1/export/benefit?org_unit=dft", pm, NULL, NULL);
    GH_CHECK (resp->status == 200 && strstr (resp->body, "Fewer delays") &&
                  strstr (resp->body, "DFT-2027-001"),
              resp);
    gh_resp_free (&resp);
    resp = gh_http (gh, "GET", "/api/v1/export/benefit", other_pmo, NULL, NULL);
    GH_CHECK (resp->status == 200 && !strstr (resp->body, "Fewer delays"), resp);
    gh_resp_free (&resp);

    free (pm);
    free (analyst);
    free (manager);
    free (other_pmo);
    free (project);
    free (other);
    zactor_destroy (&planner);
    gh_stop (&gh);
    printf ("test_planner_http: ok\n");
    return 0;
}
