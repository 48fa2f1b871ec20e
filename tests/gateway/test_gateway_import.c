/*  test_gateway_import.c: CSV import, export and the portfolio report
    through the gateway's HTTP API, against a real registry and a real
    Redis: a dry run with a bad row (422 naming row and column, nothing
    written), a real run, a re-import that changes nothing, an export that
    imports back unchanged (CSV, and a project as a Microsoft Project
    plan), the report's JSON counts and HTML page, and
    who may do it (401 without a token, 403/404 for units not yours, 413
    over the import limit), and a batch Redis will not write now (503, to
    retry).
*/
#include "gateway_harness.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CSV_HEADERS "Content-Type: text/csv"

static size_t s_count (gh_t *gh, const char *path)
{
    gh_resp_t *resp = gh_http (gh, "GET", path, gh->admin, NULL, NULL);
    GH_STATUS (resp, 200);
    size_t n = json_array_size (json_object_get (resp->json, "items"));
    gh_resp_free (&resp);
    return n;
}

static long s_int (gh_resp_t *resp, const char *key)
{
    return (long)json_integer_value (json_object_get (resp->json, key));
}

static void s_tune (gateway_config_t *config)
{
    config->max_import = 4096; //  small, to see 413 without sending megabytes
}

int main (void)
{
    gh_t *gh = gh_start (s_tune);
    gh_org (gh);
    const char *good = "code,name,org_unit,phase\n"
                       "IMP-1,\"Rail, signalling\",dft-rail,planning\n"
                       "IMP-2,Bridges,dft,execution\n"
                       "IMP-3,Wards,dhsc,initiation\n";
    const char *bad = "code,name,org_unit,phase\n"
                      "IMP-1,\"Rail, signalling\",dft-rail,planning\n"
                      "IMP-2,Bridges,dft,not-a-phase\n"
                      "IMP-3,Wards,dhsc,initiation\n";
    size_t before = s_count (gh, "/api/v1/projects?limit=500");

    //  No token: 401, before the body is looked at
    gh_resp_t *resp =
        gh_http (gh, "POST", "/api/v1/import?entity=project", NULL, good, CSV_HEADERS);
    GH_STATUS (resp, 401);
    gh_resp_free (&resp);

    //  Bad parameters: 400 naming them; wrong type: 415; GET: 405
    resp = gh_http (gh, "POST", "/api/v1/import", gh->admin, good, CSV_HEADERS);
    GH_STATUS (resp, 400);
    GH_CHECK (strcmp (gh_str (resp, "field"), "entity") == 0, resp);
    gh_resp_free (&resp);
    resp = gh_http (gh, "POST", "/api/v1/import?entity=project&dry_run=maybe", gh->admin, good,
                    CSV_HEADERS);
    GH_STATUS (resp, 400);
    GH_CHECK (strcmp (gh_str (resp, "field"), "dry_run") == 0, resp);
    gh_resp_free (&resp);
    resp = gh_http (gh, "POST", "/api/v1/import?entity=project&mapping=../etc", gh->admin, good,
                    CSV_HEADERS);
    GH_STATUS (resp, 400);
    gh_resp_free (&resp);
    resp = gh_http (gh, "POST", "/api/v1/import?entity=project", gh->admin, good, NULL);
    GH_STATUS (resp, 415);
    gh_resp_free (&resp);
    resp = gh_http (gh, "GET", "/api/v1/import", gh->admin, NULL, NULL);
    GH_STATUS (resp, 405);
    GH_CHECK (strstr (gh_header (resp, "Allow"), "POST"), resp);
    gh_resp_free (&resp);

    //  Over the import limit: 413 (the limit of imports, not of JSON bodies)
    size_t big_size = 5000;
    char *big = malloc (big_size + 1);
    memset (big, 'x', big_size);
    big[big_size] = 0;
    resp = gh_http (gh, "POST", "/api/v1/import?entity=project", gh->admin, big, CSV_HEADERS);
    GH_STATUS (resp, 413);
    gh_resp_free (&resp);
    free (big);

    //  Dry run with a bad row: 422 naming the row and column; nothing written
    resp = gh_http (gh, "POST", "/api/v1/import?entity=project&dry_run=1", gh->admin, bad,
                    CSV_HEADERS);
    GH_STATUS (resp, 422);
    GH_CHECK (strstr (gh_header (resp, "Content-Type"), "application/problem+json"), resp);
    json_t *problems = json_object_get (resp->json, "problems");
    GH_CHECK (json_array_size (problems) == 1, resp);
    json_t *problem = json_array_get (problems, 0);
    GH_CHECK (json_integer_value (json_object_get (problem, "row")) == 3, resp);
    GH_CHECK (strcmp (json_string_value (json_object_get (problem, "column")), "phase") == 0, resp);
    GH_CHECK (s_int (resp, "bad") == 1 && s_int (resp, "created") == 2, resp);
    gh_resp_free (&resp);
    assert (s_count (gh, "/api/v1/projects?limit=500") == before);

    //  All or nothing with a bad row: 422, nothing written
    resp = gh_http (gh, "POST", "/api/v1/import?entity=project", gh->admin, bad, CSV_HEADERS);
    GH_STATUS (resp, 422);
    gh_resp_free (&resp);
    assert (s_count (gh, "/api/v1/projects?limit=500") == before);

    //  A clean dry run: 200, would create 3, writes nothing
    resp = gh_http (gh, "POST", "/api/v1/import?entity=project&dry_run=true", gh->admin, good,
                    CSV_HEADERS);
    GH_STATUS (resp, 200);
    GH_CHECK (s_int (resp, "created") == 3 &&
                  json_is_true (json_object_get (resp->json, "dry_run")),
              resp);
    gh_resp_free (&resp);
    assert (s_count (gh, "/api/v1/projects?limit=500") == before);

    //  The real run: created
    resp = gh_http (gh, "POST", "/api/v1/import?entity=project", gh->admin, good, CSV_HEADERS);
    GH_STATUS (resp, 200);
    GH_CHECK (s_int (resp, "created") == 3 &&
                  json_is_true (json_object_get (resp->json, "written")),
              resp);
    gh_resp_free (&resp);
    assert (s_count (gh, "/api/v1/projects?limit=500") == before + 3);

    //  Again: unchanged, nothing written
    resp = gh_http (gh, "POST", "/api/v1/import?entity=project", gh->admin, good, CSV_HEADERS);
    GH_STATUS (resp, 200);
    GH_CHECK (s_int (resp, "unchanged") == 3 && s_int (resp, "created") == 0 &&
                  !json_is_true (json_object_get (resp->json, "written")),
              resp);
    gh_resp_free (&resp);

    //  Skip-bad: the good rows are written, the bad one listed (200)
    const char *mixed = "code,name,org_unit,phase\n"
                        "IMP-4,Tunnels,dft,planning\n"
                        "IMP-5,Clinics,dhsc,nonsense\n";
    resp = gh_http (gh, "POST", "/api/v1/import?entity=project&skip_bad=1", gh->admin, mixed,
                    CSV_HEADERS);
    GH_STATUS (resp, 200);
    GH_CHECK (s_int (resp, "created") == 1 && s_int (resp, "bad") == 1, resp);
    gh_resp_free (&resp);

    //  A dft viewer's import into dhsc: the registry refuses the row
    char *viewer = gh_token (gh, "viewer@dft", "viewer@dft");
    resp = gh_http (gh, "POST", "/api/v1/import?entity=project", viewer,
                    "code,name,org_unit\nIMP-9,Not mine,dhsc\n", CSV_HEADERS);
    GH_CHECK (resp->status == 422 || resp->status == 403, resp);
    gh_resp_free (&resp);
    assert (s_count (gh, "/api/v1/projects?limit=500") == before + 4);

    //  Export: CSV of dft's projects, which imports back unchanged
    resp = gh_http (gh, "GET", "/api/v1/export/project?org_unit=dft", gh->admin, NULL, NULL);
    GH_STATUS (resp, 200);
    GH_CHECK (strstr (gh_header (resp, "Content-Type"), "text/csv"), resp);
    GH_CHECK (strstr (resp->body, "IMP-1") && strstr (resp->body, "IMP-2") &&
                  !strstr (resp->body, "IMP-3"),
              resp);
    char *exported = strndup (resp->body, resp->size);
    gh_resp_free (&resp);
    resp = gh_http (gh, "POST", "/api/v1/import?entity=project", gh->admin, exported, CSV_HEADERS);
    GH_STATUS (resp, 200);
    GH_CHECK (s_int (resp, "unchanged") == 3 && s_int (resp, "created") == 0 &&
                  s_int (resp, "updated") == 0,
              resp);
    gh_resp_free (&resp);
    free (exported);
    //  A project as a Microsoft Project plan, which imports back unchanged
    resp = gh_http (gh, "GET", "/api/v1/export/mspdi?project=IMP-1", gh->admin, NULL, NULL);
    GH_STATUS (resp, 200);
    GH_CHECK (strstr (gh_header (resp, "Content-Type"), "application/xml"), resp);
    GH_CHECK (strstr (gh_header (resp, "Content-Disposition"), "IMP-1.xml"), resp);
    GH_CHECK (strstr (resp->body, "<Project xmlns=\"http://schemas.microsoft.com/project\">"),
              resp);
    exported = strndup (resp->body, resp->size);
    gh_resp_free (&resp);
    resp = gh_http (gh, "POST", "/api/v1/import", gh->admin, exported,
                    "Content-Type: application/xml");
    GH_STATUS (resp, 200);
    GH_CHECK (s_int (resp, "unchanged") >= 1 && s_int (resp, "created") == 0 &&
                  s_int (resp, "updated") == 0,
              resp);
    gh_resp_free (&resp);
    free (exported);
    resp = gh_http (gh, "GET", "/api/v1/export/mspdi", gh->admin, NULL, NULL);
    GH_STATUS (resp, 400);
    GH_CHECK (strcmp (gh_str (resp, "field"), "project") == 0, resp);
    gh_resp_free (&resp);
    resp = gh_http (gh, "GET", "/api/v1/export/mspdi?project=NOPE-1", gh->admin, NULL, NULL);
    GH_STATUS (resp, 404);
    GH_CHECK (strcmp (gh_str (resp, "field"), "project") == 0, resp);
    gh_resp_free (&resp);
    resp =
        gh_http (gh, "GET", "/api/v1/export/mspdi?project=IMP-1&format=csv", gh->admin, NULL, NULL);
    GH_STATUS (resp, 400);
    gh_resp_free (&resp);
    resp = gh_http (gh, "GET", "/api/v1/export/mspdi?project=IMP-1", NULL, NULL, NULL);
    GH_STATUS (resp, 401);
    gh_resp_free (&resp);
    resp = gh_http (gh, "GET", "/api/v1/export/nothing", gh->admin, NULL, NULL);
    GH_STATUS (resp, 404);
    gh_resp_free (&resp);
    resp = gh_http (gh, "GET", "/api/v1/export/project?org_unit=dhsc", viewer, NULL, NULL);
    GH_STATUS (resp, 403);
    gh_resp_free (&resp);
    resp = gh_http (gh, "GET", "/api/v1/export/project?org_unit=nowhere", gh->admin, NULL, NULL);
    GH_STATUS (resp, 404);
    gh_resp_free (&resp);
    resp = gh_http (gh, "GET", "/api/v1/export/project", NULL, NULL, NULL);
    GH_STATUS (resp, 401);
    gh_resp_free (&resp);
    //  The portfolio's filters (tests/riskmon/test_riskmon_portfolio.c
    //  checks what they keep): a bad value is named, they apply to
    //  projects and their records only, and they need the risk monitor
    //  (not running here)
    resp = gh_http (gh, "GET", "/api/v1/export/project?phase=nope", gh->admin, NULL, NULL);
    GH_STATUS (resp, 400);
    GH_CHECK (strcmp (gh_str (resp, "field"), "phase") == 0, resp);
    gh_resp_free (&resp);
    resp = gh_http (gh, "GET", "/api/v1/export/project?computed=purple", gh->admin, NULL, NULL);
    GH_STATUS (resp, 400);
    GH_CHECK (strcmp (gh_str (resp, "field"), "computed") == 0, resp);
    gh_resp_free (&resp);
    resp = gh_http (gh, "GET", "/api/v1/export/resource?q=ann", gh->admin, NULL, NULL);
    GH_STATUS (resp, 400);
    GH_CHECK (strcmp (gh_str (resp, "field"), "entity") == 0, resp);
    gh_resp_free (&resp);
    resp = gh_http (gh, "GET", "/api/v1/export/project?q=rail", gh->admin, NULL, NULL);
    GH_STATUS (resp, 503);
    gh_resp_free (&resp);
    //  Empty filters are no filters
    resp = gh_http (gh, "GET", "/api/v1/export/project?org_unit=dft&q=", gh->admin, NULL, NULL);
    GH_STATUS (resp, 200);
    gh_resp_free (&resp);

    //  The report: counts of the subtree
    resp = gh_http (gh, "GET", "/api/v1/reports/dft", gh->admin, NULL, NULL);
    GH_STATUS (resp, 200);
    GH_CHECK (resp->json, resp);
    //  IMP-1 (dft-rail), IMP-2 and IMP-4 (dft); by phase as imported
    GH_CHECK (s_int (resp, "projects") == 3, resp);
    json_t *by_phase = json_object_get (resp->json, "by_phase");
    GH_CHECK (json_integer_value (json_object_get (by_phase, "planning")) == 2 &&
                  json_integer_value (json_object_get (by_phase, "execution")) == 1,
              resp);
    GH_CHECK (strcmp (json_string_value (
                          json_object_get (json_object_get (resp->json, "org_unit"), "path")),
                      "hub/dft") == 0,
              resp);
    gh_resp_free (&resp);
    resp = gh_http (gh, "GET", "/api/v1/reports/dft?format=html", gh->admin, NULL, NULL);
    GH_STATUS (resp, 200);
    GH_CHECK (strstr (gh_header (resp, "Content-Type"), "text/html"), resp);
    GH_CHECK (strstr (resp->body, "<html") && strstr (resp->body, "IMP-2"), resp);
    gh_resp_free (&resp);
    resp =
        gh_http (gh, "GET", "/api/v1/reports/hub?format=csv&table=projects", gh->admin, NULL, NULL);
    GH_STATUS (resp, 200);
    GH_CHECK (strstr (gh_header (resp, "Content-Type"), "text/csv") && strstr (resp->body, "IMP-3"),
              resp);
    gh_resp_free (&resp);
    resp = gh_http (gh, "GET", "/api/v1/reports/dft?format=pdf", gh->admin, NULL, NULL);
    GH_STATUS (resp, 400);
    GH_CHECK (strcmp (gh_str (resp, "field"), "format") == 0, resp);
    gh_resp_free (&resp);
    resp = gh_http (gh, "GET", "/api/v1/reports/dft?format=csv&table=nope", gh->admin, NULL, NULL);
    GH_STATUS (resp, 400);
    gh_resp_free (&resp);
    //  Who may see it: dft's viewer sees dft, not dhsc; nobody sees a unit
    //  that does not exist; no token, no report
    resp = gh_http (gh, "GET", "/api/v1/reports/dft", viewer, NULL, NULL);
    GH_STATUS (resp, 200);
    gh_resp_free (&resp);
    resp = gh_http (gh, "GET", "/api/v1/reports/dhsc", viewer, NULL, NULL);
    GH_STATUS (resp, 403);
    GH_CHECK (strcmp (gh_str (resp, "field"), "org_unit") == 0, resp);
    gh_resp_free (&resp);
    resp = gh_http (gh, "GET", "/api/v1/reports/nowhere", gh->admin, NULL, NULL);
    GH_STATUS (resp, 404);
    gh_resp_free (&resp);
    resp = gh_http (gh, "GET", "/api/v1/reports/dft", NULL, NULL, NULL);
    GH_STATUS (resp, 401);
    gh_resp_free (&resp);
    free (viewer);

    //  The jobs show in the metrics under their own labels
    resp = gh_http (gh, "GET", "/metrics", gh->admin, NULL, NULL);
    GH_STATUS (resp, 200);
    GH_CHECK (strstr (resp->body, "route=\"/api/v1/import\""), resp);
    gh_resp_free (&resp);

    //  A batch the registry cannot write now (Redis refuses writes, as a
    //  new master does until a replica is back after a Sentinel failover:
    //  NOREPLICAS) is a 503 to retry, not a 502; the same file once Redis
    //  writes again is done
    const char *later = "code,name,org_unit\nIMP-9,Later,dft\n";
    redisReply *set = pmo_test_redis_command (gh->rh->redis, "CONFIG SET min-replicas-to-write 1");
    assert (set && set->type == REDIS_REPLY_STATUS);
    freeReplyObject (set);
    resp = gh_http (gh, "POST", "/api/v1/import?entity=project", gh->admin, later, CSV_HEADERS);
    GH_STATUS (resp, 503);
    GH_CHECK (json_is_true (json_object_get (resp->json, "retryable")), resp);
    GH_CHECK (gh_header (resp, "Retry-After"), resp);
    GH_CHECK (strstr (gh_str (resp, "detail"), "was not written: unavailable"), resp);
    gh_resp_free (&resp);
    set = pmo_test_redis_command (gh->rh->redis, "CONFIG SET min-replicas-to-write 0");
    assert (set && set->type == REDIS_REPLY_STATUS);
    freeReplyObject (set);
    resp = gh_http (gh, "POST", "/api/v1/import?entity=project", gh->admin, later, CSV_HEADERS);
    GH_STATUS (resp, 200);
    gh_resp_free (&resp);

    gh_stop (&gh);
    printf ("test_gateway_import: OK\n");
    return 0;
}
