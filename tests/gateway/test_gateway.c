/*  test_gateway.c: the gateway over real HTTP, against a real registry and
    a real Redis: authentication, access by role and division, ETags and
    If-Match, idempotency keys, bad input, limits, upstream timeouts, API
    tokens (over HTTP and over ZMQ), live events with resume, metrics and
    the dashboard's files.
*/
#include "gateway_harness.h"

#include "gateway.pb-c.h"
#include "pmo_client.h"
#include "pmo_util.h"

#include <arpa/inet.h>
#include <assert.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

static gh_resp_t *s_get (gh_t *gh, const char *path, const char *token)
{
    return gh_http (gh, "GET", path, token, NULL, NULL);
}

static size_t s_count (gh_t *gh, const char *path)
{
    gh_resp_t *resp = s_get (gh, path, gh->admin);
    GH_STATUS (resp, 200);
    size_t n = json_array_size (json_object_get (resp->json, "items"));
    gh_resp_free (&resp);
    return n;
}

static void test_health_and_pages (gh_t *gh)
{
    gh_resp_t *resp = s_get (gh, "/healthz", NULL);
    GH_STATUS (resp, 200);
    gh_resp_free (&resp);
    resp = s_get (gh, "/readyz", NULL);
    GH_STATUS (resp, 200);
    GH_CHECK (json_is_true (json_object_get (resp->json, "ready")), resp);
    gh_resp_free (&resp);
    resp = s_get (gh, "/", NULL);
    GH_STATUS (resp, 200);
    GH_CHECK (strstr (gh_header (resp, "Content-Type"), "text/html"), resp);
    GH_CHECK (strstr (gh_header (resp, "Content-Security-Policy"), "default-src 'self'"), resp);
    GH_CHECK (strstr (resp->body, "app.js"), resp);
    gh_resp_free (&resp);
    //  The dashboard's ES modules, one per view, served as JavaScript
    resp = s_get (gh, "/js/app.js", NULL);
    GH_STATUS (resp, 200);
    GH_CHECK (strstr (gh_header (resp, "Content-Type"), "text/javascript"), resp);
    gh_resp_free (&resp);
    resp = s_get (gh, "/js/views/portfolio.js", NULL);
    GH_STATUS (resp, 200);
    gh_resp_free (&resp);
    resp = s_get (gh, "/..%2f..%2fetc/passwd", NULL);
    GH_STATUS (resp, 404);
    gh_resp_free (&resp);
    resp = gh_http (gh, "POST", "/index.html", NULL, "{}", NULL);
    GH_STATUS (resp, 405);
    gh_resp_free (&resp);
}

static void test_auth (gh_t *gh)
{
    struct stat info;
    assert (stat (gh->token_file, &info) == 0 && (info.st_mode & 0777) == 0600);
    gh_resp_t *resp = s_get (gh, "/api/v1/projects", NULL);
    GH_STATUS (resp, 401);
    GH_CHECK (gh_header (resp, "WWW-Authenticate"), resp);
    GH_CHECK (strcmp (gh_header (resp, "Content-Type"), "application/problem+json") == 0, resp);
    gh_resp_free (&resp);
    resp = s_get (gh, "/api/v1/projects", "not-a-token");
    GH_STATUS (resp, 401);
    gh_resp_free (&resp);
    //  Well formed, unknown
    resp = s_get (gh, "/api/v1/projects",
                  "pmo_0123456789abcdef_00000000000000000000000000000000000000000000000000000000"
                  "00000000");
    GH_STATUS (resp, 401);
    gh_resp_free (&resp);
    //  A known id with a wrong secret
    char forged[128];
    snprintf (forged, sizeof forged, "%.21s%064d", gh->admin, 7);
    resp = s_get (gh, "/api/v1/projects", forged);
    GH_STATUS (resp, 401);
    GH_CHECK (!strstr (resp->body, gh->admin + 21), resp);
    gh_resp_free (&resp);
    resp = s_get (gh, "/metrics", NULL);
    GH_STATUS (resp, 401);
    gh_resp_free (&resp);
    resp = s_get (gh, "/api/v1/whoami", gh->admin);
    GH_STATUS (resp, 200);
    GH_CHECK (strcmp (gh_str (resp, "subject"), "admin") == 0, resp);
    GH_CHECK (!strstr (resp->body, "hash") && !strstr (resp->body, gh->admin + 21), resp);
    gh_resp_free (&resp);
    //  The token is cached and known now (gateway_auth.c remembers the
    //  token that passed): the wrong secret for its id is still refused,
    //  and the right one still taken
    resp = s_get (gh, "/api/v1/whoami", forged);
    GH_STATUS (resp, 401);
    gh_resp_free (&resp);
    resp = s_get (gh, "/api/v1/whoami", gh->admin);
    GH_STATUS (resp, 200);
    gh_resp_free (&resp);
    //  The read-only special resources answer another method with 405 and Allow
    const char *readonly[] = {"/api/v1/whoami", "/metrics", "/api/v1/events",
                              "/api/v1/openapi.json"};
    for (size_t i = 0; i < sizeof readonly / sizeof readonly[0]; i++) {
        resp = gh_http (gh, "POST", readonly[i], gh->admin, "{}", NULL);
        GH_STATUS (resp, 405);
        GH_CHECK (strcmp (gh_header (resp, "Allow"), "GET, HEAD") == 0, resp);
        gh_resp_free (&resp);
    }
}

static void test_resources (gh_t *gh)
{
    gh_resp_t *resp =
        gh_http (gh, "POST", "/api/v1/projects", gh->admin,
                 "{\"code\":\"RES-1\",\"name\":\"Resources\",\"org_unit\":\"dft\"}", NULL);
    GH_STATUS (resp, 201);
    char id[64];
    snprintf (id, sizeof id, "%s", gh_str (resp, "id"));
    char path[128];
    snprintf (path, sizeof path, "/api/v1/projects/%s", id);
    GH_CHECK (strcmp (gh_header (resp, "Location"), path) == 0, resp);
    GH_CHECK (strcmp (gh_header (resp, "ETag"), "\"1\"") == 0, resp);
    gh_resp_free (&resp);

    resp = s_get (gh, path, gh->admin);
    GH_STATUS (resp, 200);
    GH_CHECK (strcmp (gh_str (resp, "phase"), "initiation") == 0, resp);
    char *current = strdup (resp->body);
    gh_resp_free (&resp);
    resp = gh_http (gh, "GET", path, gh->admin, NULL, "If-None-Match: \"1\"");
    GH_STATUS (resp, 304);
    gh_resp_free (&resp);

    //  PUT: If-Match required, stale refused, right one accepted
    resp = gh_http (gh, "PUT", path, gh->admin, current, NULL);
    GH_STATUS (resp, 428);
    GH_CHECK (strcmp (gh_str (resp, "field"), "If-Match") == 0, resp);
    gh_resp_free (&resp);
    resp = gh_http (gh, "PUT", path, gh->admin, current, "If-Match: \"7\"");
    GH_STATUS (resp, 412);
    gh_resp_free (&resp);
    resp = gh_http (gh, "PUT", path, gh->admin, current, "If-Match: \"1\"");
    GH_STATUS (resp, 200);
    GH_CHECK (strcmp (gh_header (resp, "ETag"), "\"2\"") == 0, resp);
    gh_resp_free (&resp);
    free (current);
    //  PATCH: merge patch over what is stored
    resp = gh_http (gh, "PATCH", path, gh->admin, "{\"name\":\"Renamed\",\"priority\":1}",
                    "If-Match: \"2\"\nContent-Type: application/merge-patch+json");
    GH_STATUS (resp, 200);
    GH_CHECK (strcmp (gh_str (resp, "name"), "Renamed") == 0, resp);
    GH_CHECK (strcmp (gh_str (resp, "code"), "RES-1") == 0, resp);
    GH_CHECK (json_integer_value (json_object_get (resp->json, "priority")) == 1, resp);
    gh_resp_free (&resp);
    resp = gh_http (gh, "PATCH", path, gh->admin, "{\"name\":\"Again\"}", "If-Match: \"2\"");
    GH_STATUS (resp, 412);
    gh_resp_free (&resp);

    //  Milestones, status reports, the phase gate and its decisions
    char sub[160];
    snprintf (sub, sizeof sub, "%s/milestones", path);
    resp = gh_http (gh, "POST", sub, gh->admin,
                    "{\"name\":\"Design done\",\"baseline_date\":\"2027-03-31\"}", NULL);
    GH_STATUS (resp, 201);
    GH_CHECK (strncmp (gh_header (resp, "Location"), "/api/v1/milestones/ms_", 22) == 0, resp);
    gh_resp_free (&resp);
    GH_CHECK (s_count (gh, sub) == 1, NULL);
    snprintf (sub, sizeof sub, "%s/status-reports", path);
    resp = gh_http (gh, "POST", sub, gh->admin,
                    "{\"period_end\":\"2026-11-20\",\"percent_complete\":10,\"overall\":\"amber\","
                    "\"pv_minor\":1000,\"ev_minor\":900,\"ac_minor\":950,\"has_ac\":true}",
                    NULL);
    GH_STATUS (resp, 201);
    gh_resp_free (&resp);
    GH_CHECK (s_count (gh, sub) == 1, NULL);
    snprintf (sub, sizeof sub, "%s/phase", path);
    resp = gh_http (gh, "POST", sub, gh->admin, "{\"to_phase\":\"planning\"}", NULL);
    GH_STATUS (resp, 428);
    gh_resp_free (&resp);
    resp = gh_http (gh, "POST", sub, gh->admin, "{\"to_phase\":\"planning\"}", "If-Match: \"3\"");
    GH_STATUS (resp, 200);
    GH_CHECK (strcmp (gh_str (resp, "phase"), "planning") == 0, resp);
    GH_CHECK (strcmp (gh_header (resp, "ETag"), "\"4\"") == 0, resp);
    gh_resp_free (&resp);
    //  A gate request: refused at its field, then pending for the approvers
    snprintf (sub, sizeof sub, "%s/gate-request", path);
    resp = gh_http (gh, "POST", sub, gh->admin, "{\"to_phase\":\"closed\"}", "If-Match: \"4\"");
    GH_STATUS (resp, 409);
    GH_CHECK (strcmp (gh_str (resp, "field"), "to_phase") == 0, resp);
    gh_resp_free (&resp);
    resp = gh_http (gh, "POST", sub, gh->admin,
                    "{\"to_phase\":\"execution\",\"note\":\"bell\\u0007\"}", "If-Match: \"4\"");
    GH_STATUS (resp, 400);
    GH_CHECK (strcmp (gh_str (resp, "field"), "note") == 0, resp);
    gh_resp_free (&resp);
    resp =
        gh_http (gh, "POST", sub, gh->admin,
                 "{\"to_phase\":\"execution\",\"note\":\"design signed off\"}", "If-Match: \"4\"");
    GH_STATUS (resp, 200);
    GH_CHECK (strcmp (gh_header (resp, "ETag"), "\"5\"") == 0, resp);
    GH_CHECK (strcmp (json_string_value (json_object_get (
                          json_object_get (resp->json, "gate_request"), "requested_by")),
                      "admin") == 0,
              resp);
    gh_resp_free (&resp);
    resp = s_get (gh, "/api/v1/gate-requests?to_decide=true", gh->admin);
    GH_STATUS (resp, 200);
    GH_CHECK (json_array_size (json_object_get (resp->json, "items")) == 1, resp);
    gh_resp_free (&resp);
    resp = s_get (gh, "/api/v1/gate-requests?limit=501", gh->admin);
    GH_STATUS (resp, 400);
    GH_CHECK (strcmp (gh_str (resp, "field"), "limit") == 0, resp);
    gh_resp_free (&resp);
    //  The decision closes it
    snprintf (sub, sizeof sub, "%s/gate-decisions", path);
    resp = gh_http (gh, "POST", sub, gh->admin,
                    "{\"to_phase\":\"execution\",\"outcome\":\"go\",\"rationale\":\"ready\"}",
                    "If-Match: \"5\"");
    GH_STATUS (resp, 201);
    GH_CHECK (strcmp (gh_str (resp, "outcome"), "go") == 0, resp);
    GH_CHECK (json_object_get (resp->json, "request"), resp);
    gh_resp_free (&resp);
    resp = s_get (gh, "/api/v1/gate-requests?to_decide=true", gh->admin);
    GH_STATUS (resp, 200);
    GH_CHECK (json_array_size (json_object_get (resp->json, "items")) == 0, resp);
    gh_resp_free (&resp);
    GH_CHECK (s_count (gh, sub) == 1, NULL);

    //  Lists: filters, paging with the cursor
    for (int i = 0; i < 3; i++) {
        char code[32];
        snprintf (code, sizeof code, "PAGE-%d", i);
        char *made = gh_project (gh, gh->admin, code, "dft-rail");
        free (made);
    }
    resp = s_get (gh, "/api/v1/projects?org_unit=dft-rail&limit=2", gh->admin);
    GH_STATUS (resp, 200);
    GH_CHECK (json_array_size (json_object_get (resp->json, "items")) == 2, resp);
    char next[128];
    snprintf (next, sizeof next, "/api/v1/projects?org_unit=dft-rail&limit=2&cursor=%s",
              gh_str (resp, "next_cursor"));
    gh_resp_free (&resp);
    resp = s_get (gh, next, gh->admin);
    GH_STATUS (resp, 200);
    GH_CHECK (json_array_size (json_object_get (resp->json, "items")) == 1, resp);
    gh_resp_free (&resp);
    resp = s_get (gh, "/api/v1/projects?phase=execution", gh->admin);
    GH_STATUS (resp, 200);
    GH_CHECK (json_array_size (json_object_get (resp->json, "items")) == 1, resp);
    gh_resp_free (&resp);

    //  DELETE archives, with If-Match
    resp = gh_http (gh, "DELETE", path, gh->admin, NULL, NULL);
    GH_STATUS (resp, 428);
    gh_resp_free (&resp);
    resp = gh_http (gh, "DELETE", path, gh->admin, NULL, "If-Match: \"6\"");
    GH_STATUS (resp, 200);
    GH_CHECK (json_is_true (json_object_get (resp->json, "archived")), resp);
    gh_resp_free (&resp);
}

static void test_bad_input (gh_t *gh)
{
    size_t before = s_count (gh, "/api/v1/projects?org_unit=dft&limit=500");
    struct {
        const char *method, *path, *body, *headers;
        long status;
        const char *field;
    } cases[] = {
        {"POST", "/api/v1/projects", "{\"code\":\"X\",", NULL, 400, ""},
        {"POST", "/api/v1/projects", "[1,2]", NULL, 400, ""},
        {"POST", "/api/v1/projects",
         "{\"code\":\"BAD-1\",\"name\":\"x\",\"org_unit\":\"dft\","
         "\"priority\":\"high\"}",
         NULL, 400, "priority"},
        {"POST", "/api/v1/projects",
         "{\"code\":\"BAD-1\",\"name\":\"x\",\"org_unit\":\"dft\",\"colour\":\"red\"}", NULL, 400,
         "colour"},
        {"POST", "/api/v1/projects",
         "{\"code\":\"BAD-1\",\"name\":\"x\",\"org_unit\":\"dft\",\"budget\":{\"baseline\":"
         "{\"minor\":\"lots\"}}}",
         NULL, 400, "budget.baseline.minor"},
        {"POST", "/api/v1/projects",
         "{\"code\":\"BAD-1\",\"name\":\"x\",\"org_unit\":\"dft\","
         "\"name\":\"y\"}",
         NULL, 400, ""},
        {"POST", "/api/v1/projects", "{\"code\":\"BAD-1\",\"name\":\"x\",\"org_unit\":\"nowhere\"}",
         NULL, 404, "org_unit"},
        {"POST", "/api/v1/projects", "code=x", "Content-Type: application/x-www-form-urlencoded",
         415, "Content-Type"},
        {"GET", "/api/v1/projects?colour=red", NULL, NULL, 400, "colour"},
        {"GET", "/api/v1/projects?limit=ten", NULL, NULL, 400, "limit"},
        {"GET", "/api/v1/projects?limit=1&limit=2", NULL, NULL, 400, "limit"},
        {"GET", "/api/v1/projects/pr_dft_999", NULL, NULL, 404, "id"},
        {"GET", "/api/v1/projects/no/such/thing", NULL, NULL, 404, ""},
        {"GET", "/api/v1/nothing", NULL, NULL, 404, ""},
        {"PUT", "/api/v1/projects", "{}", NULL, 405, ""},
        {"PUT", "/api/v1/projects/pr_dft_1", "{}", "If-Match: yesterday", 400, "If-Match"},
        {"POST", "/api/v1/projects/pr_dft_1", "{}", NULL, 405, ""},
        {"GET", "/api/v1/projects/pr_dft_1", "{\"x\":1}", NULL, 400, ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        gh_resp_t *resp = gh_http (gh, cases[i].method, cases[i].path, gh->admin, cases[i].body,
                                   cases[i].headers);
        if (resp->status != cases[i].status || strcmp (gh_str (resp, "field"), cases[i].field)) {
            fprintf (stderr, "case %zu: %s %s: want %ld field '%s'\n", i, cases[i].method,
                     cases[i].path, cases[i].status, cases[i].field);
            gh_fail ("bad input answered as expected", resp, __FILE__, __LINE__);
        }
        GH_CHECK (strcmp (gh_header (resp, "Content-Type"), "application/problem+json") == 0, resp);
        if (cases[i].status == 405)
            GH_CHECK (gh_header (resp, "Allow"), resp);
        gh_resp_free (&resp);
    }
    //  A body over the limit: refused before it is read
    size_t big = 200 * 1024;
    char *huge = malloc (big + 1);
    memset (huge, ' ', big);
    memcpy (huge, "{\"name\":\"", 9);
    huge[big - 2] = '"';
    huge[big - 1] = '}';
    huge[big] = 0;
    gh_resp_t *resp = gh_http (gh, "POST", "/api/v1/projects", gh->admin, huge, NULL);
    GH_STATUS (resp, 413);
    gh_resp_free (&resp);
    //  ... and sent in chunks without a length
    resp = gh_http (gh, "POST", "/api/v1/projects", gh->admin, huge, "Transfer-Encoding: chunked");
    GH_STATUS (resp, 413);
    gh_resp_free (&resp);
    free (huge);
    //  Nothing was written, and the gateway still serves
    GH_CHECK (s_count (gh, "/api/v1/projects?org_unit=dft&limit=500") == before, NULL);
}

static void test_access (gh_t *gh)
{
    char *dft_project = gh_project (gh, gh->admin, "ACC-1", "dft-rail");
    char *dhsc_project = gh_project (gh, gh->admin, "ACC-2", "dhsc");
    char *viewer = gh_token (gh, "viewer@dft", "viewer@dft");
    char *manager = gh_token (gh, "manager@dft", "pmo_manager@dft");
    char path[128];
    snprintf (path, sizeof path, "/api/v1/projects/%s", dft_project);
    gh_resp_t *resp = s_get (gh, path, viewer);
    GH_STATUS (resp, 200);
    gh_resp_free (&resp);
    //  A viewer cannot write; the registry says so
    resp = gh_http (gh, "POST", "/api/v1/projects", viewer,
                    "{\"code\":\"ACC-3\",\"name\":\"x\",\"org_unit\":\"dft\"}", NULL);
    GH_STATUS (resp, 403);
    gh_resp_free (&resp);
    //  Another division's project is not found, read or written, by id
    snprintf (path, sizeof path, "/api/v1/projects/%s", dhsc_project);
    resp = s_get (gh, path, manager);
    GH_STATUS (resp, 404);
    gh_resp_free (&resp);
    resp = gh_http (gh, "PATCH", path, manager, "{\"name\":\"mine now\"}", "If-Match: \"1\"");
    GH_STATUS (resp, 404);
    gh_resp_free (&resp);
    resp = gh_http (gh, "DELETE", path, manager, NULL, "If-Match: \"1\"");
    GH_STATUS (resp, 404);
    gh_resp_free (&resp);
    resp = gh_http (gh, "POST", "/api/v1/projects", manager,
                    "{\"code\":\"ACC-4\",\"name\":\"x\",\"org_unit\":\"dhsc\"}", NULL);
    GH_STATUS (resp, 403);
    gh_resp_free (&resp);
    //  Lists show only what the caller may see
    resp = s_get (gh, "/api/v1/projects?limit=500", manager);
    GH_STATUS (resp, 200);
    GH_CHECK (!strstr (resp->body, "\"division\":\"dhsc\""), resp);
    GH_CHECK (strstr (resp->body, dft_project), resp);
    gh_resp_free (&resp);
    //  Issuing tokens: a manager issues lower roles in the division only
    resp = gh_http (gh, "POST", "/api/v1/tokens", manager,
                    "{\"name\":\"x\",\"subject\":\"svc-a@dft\",\"grants\":[{\"role\":\"admin\","
                    "\"org_unit\":\"dft\"}]}",
                    NULL);
    GH_STATUS (resp, 403);
    GH_CHECK (strcmp (gh_str (resp, "field"), "grants[0]") == 0, resp);
    gh_resp_free (&resp);
    resp = gh_http (gh, "POST", "/api/v1/tokens", manager,
                    "{\"name\":\"x\",\"subject\":\"manager@dft\",\"grants\":[{\"role\":\"viewer\","
                    "\"org_unit\":\"dhsc\"}]}",
                    NULL);
    GH_STATUS (resp, 403);
    gh_resp_free (&resp);
    resp =
        gh_http (gh, "POST", "/api/v1/tokens", manager,
                 "{\"name\":\"rail viewer\",\"subject\":\"svc-v@dft-rail\",\"grants\":[{\"role\":"
                 "\"viewer\",\"org_unit\":\"dft-rail\"}]}",
                 NULL);
    GH_STATUS (resp, 201);
    gh_resp_free (&resp);
    resp = gh_http (gh, "POST", "/api/v1/tokens", viewer,
                    "{\"name\":\"x\",\"subject\":\"v2@dft\",\"grants\":[{\"role\":\"viewer\","
                    "\"org_unit\":\"dft\"}]}",
                    NULL);
    GH_STATUS (resp, 403);
    gh_resp_free (&resp);
    free (dft_project);
    free (dhsc_project);
    free (viewer);
    free (manager);
}

static void test_idempotency (gh_t *gh)
{
    const char *body = "{\"code\":\"IDEM-1\",\"name\":\"Once\",\"org_unit\":\"dft\"}";
    gh_resp_t *first =
        gh_http (gh, "POST", "/api/v1/projects", gh->admin, body, "Idempotency-Key: create-idem-1");
    GH_STATUS (first, 201);
    gh_resp_t *again =
        gh_http (gh, "POST", "/api/v1/projects", gh->admin, body, "Idempotency-Key: create-idem-1");
    GH_STATUS (again, 201);
    GH_CHECK (strcmp (gh_str (first, "id"), gh_str (again, "id")) == 0, again);
    GH_CHECK (strcmp (gh_header (first, "X-Request-Id") ? "" : "x", "x") != 0, first);
    gh_resp_free (&first);
    gh_resp_free (&again);
    //  Without the key, the same body is a second request: the code is taken
    gh_resp_t *other = gh_http (gh, "POST", "/api/v1/projects", gh->admin, body, NULL);
    GH_STATUS (other, 409);
    GH_CHECK (strcmp (gh_str (other, "code"), "already_exists") == 0, other);
    gh_resp_free (&other);
    //  The same key from another token is another request (keys are per token)
    char *analyst = gh_token (gh, "analyst@dft", "pmo_analyst@dft");
    other =
        gh_http (gh, "POST", "/api/v1/projects", analyst, body, "Idempotency-Key: create-idem-1");
    GH_STATUS (other, 409);
    gh_resp_free (&other);
    free (analyst);
    other = gh_http (gh, "POST", "/api/v1/projects", gh->admin, body, "Idempotency-Key: a b");
    GH_STATUS (other, 400);
    GH_CHECK (strcmp (gh_str (other, "field"), "Idempotency-Key") == 0, other);
    gh_resp_free (&other);
}

static void test_tokens (gh_t *gh)
{
    char *viewer = gh_token (gh, "revokable@dft", "viewer@dft");
    char id[17];
    memcpy (id, viewer + 4, 16);
    id[16] = 0;
    gh_resp_t *resp = s_get (gh, "/api/v1/tokens?limit=500", gh->admin);
    GH_STATUS (resp, 200);
    GH_CHECK (strstr (resp->body, id), resp);
    GH_CHECK (!strstr (resp->body, "hash") && !strstr (resp->body, "secret"), resp);
    GH_CHECK (!strstr (resp->body, viewer + 21), resp);
    gh_resp_free (&resp);
    char path[64];
    snprintf (path, sizeof path, "/api/v1/tokens/%s", id);
    resp = s_get (gh, path, gh->admin);
    GH_STATUS (resp, 200);
    GH_CHECK (strcmp (gh_str (resp, "subject"), "revokable@dft") == 0, resp);
    gh_resp_free (&resp);
    //  A token may not see others' tokens
    resp = s_get (gh, path, viewer);
    GH_STATUS (resp, 404);
    gh_resp_free (&resp);
    resp = s_get (gh, "/api/v1/whoami", viewer);
    GH_STATUS (resp, 200);
    gh_resp_free (&resp);
    resp = gh_http (gh, "DELETE", path, gh->admin, NULL, "If-Match: \"1\"");
    GH_STATUS (resp, 200);
    GH_CHECK (json_is_true (json_object_get (resp->json, "revoked")), resp);
    gh_resp_free (&resp);
    //  Refused at once, though it was cached a moment ago
    resp = s_get (gh, "/api/v1/whoami", viewer);
    GH_STATUS (resp, 401);
    gh_resp_free (&resp);
    resp = gh_http (gh, "DELETE", path, gh->admin, NULL, NULL);
    GH_STATUS (resp, 409);
    gh_resp_free (&resp);
    free (viewer);

    //  A token that expires is refused afterwards
    char body[256];
    snprintf (body, sizeof body,
              "{\"name\":\"short\",\"subject\":\"brief@dft\",\"expires_ms\":%lld,"
              "\"grants\":[{\"role\":\"viewer\",\"org_unit\":\"dft\"}]}",
              (long long)pmo_now_ms () + 1500);
    resp = gh_http (gh, "POST", "/api/v1/tokens", gh->admin, body, NULL);
    GH_STATUS (resp, 201);
    char *brief = strdup (gh_str (resp, "secret"));
    gh_resp_free (&resp);
    resp = s_get (gh, "/api/v1/whoami", brief);
    GH_STATUS (resp, 200);
    gh_resp_free (&resp);
    zclock_sleep (1700);
    resp = s_get (gh, "/api/v1/whoami", brief);
    GH_STATUS (resp, 401);
    gh_resp_free (&resp);
    free (brief);
    resp = gh_http (gh, "POST", "/api/v1/tokens", gh->admin,
                    "{\"name\":\"old\",\"subject\":\"x@dft\",\"expires_ms\":1000,"
                    "\"grants\":[{\"role\":\"viewer\",\"org_unit\":\"dft\"}]}",
                    NULL);
    GH_STATUS (resp, 400);
    GH_CHECK (strcmp (gh_str (resp, "field"), "expires_ms") == 0, resp);
    gh_resp_free (&resp);

    //  The same service over ZMQ, as pmoctl uses it
    pmo_client_t *client = pmo_client_new (gh->endpoint);
    assert (client);
    Pmo__GatewayRequest request = PMO__GATEWAY_REQUEST__INIT;
    Pmo__ListTokensRequest list = PMO__LIST_TOKENS_REQUEST__INIT;
    list.include_revoked = true;
    request.body_case = PMO__GATEWAY_REQUEST__BODY_LIST_TOKENS;
    request.list_tokens = &list;
    Pmo__Grant grant = PMO__GRANT__INIT;
    grant.role = PMO__ROLE__ROLE_ADMIN;
    grant.org_unit = "hub";
    Pmo__Grant *grants[1] = {&grant};
    Pmo__Identity who = PMO__IDENTITY__INIT;
    who.subject = "operator";
    who.grants = grants;
    who.n_grants = 1;
    Pmo__Header header;
    char request_id[40];
    pmo_header_init (&header, request_id, 3000, &who);
    request.header = &header;
    ProtobufCMessage *answer;
    assert (pmo_client_call (client, &request.base, &pmo__gateway_reply__descriptor, 3000, 1,
                             &answer) == 0);
    Pmo__GatewayReply *reply = (Pmo__GatewayReply *)answer;
    assert (!reply->error && reply->body_case == PMO__GATEWAY_REPLY__BODY_PAGE);
    bool found = false;
    for (size_t i = 0; i < reply->page->n_tokens; i++) {
        assert (!*reply->page->tokens[i]->hash);
        found = found ||
                (strcmp (reply->page->tokens[i]->id, id) == 0 && reply->page->tokens[i]->revoked);
    }
    assert (found);
    protobuf_c_message_free_unpacked (answer, NULL);
    //  No identity: refused by the envelope check
    who.n_grants = 0;
    who.subject = "";
    pmo_header_init (&header, request_id, 3000, &who);
    assert (pmo_client_call (client, &request.base, &pmo__gateway_reply__descriptor, 3000, 1,
                             &answer) == 0);
    reply = (Pmo__GatewayReply *)answer;
    assert (reply->error && reply->error->code == PMO__ERROR_CODE__ERROR_UNAUTHENTICATED);
    protobuf_c_message_free_unpacked (answer, NULL);
    pmo_client_destroy (&client);
}

//  ---------------------------------------------------------------------
//  Live events over a raw socket, to see the stream as a browser does

typedef struct {
    int fd;
    char buf[65536];
    size_t size;
} sse_t;

static sse_t *s_sse_open (gh_t *gh, const char *query, const char *token, const char *last_id)
{
    sse_t *sse = calloc (1, sizeof (sse_t));
    sse->fd = socket (AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET};
    addr.sin_port = htons ((uint16_t)atoi (strchr (gh->http, ':') + 1));
    inet_pton (AF_INET, "127.0.0.1", &addr.sin_addr);
    assert (connect (sse->fd, (struct sockaddr *)&addr, sizeof addr) == 0);
    char request[1024];
    int len = snprintf (request, sizeof request,
                        "GET /api/v1/events%s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
                        "Accept: text/event-stream\r\n%s%s%s\r\n",
                        query, token, last_id ? "Last-Event-ID: " : "", last_id ? last_id : "",
                        last_id ? "\r\n" : "");
    assert (write (sse->fd, request, (size_t)len) == len);
    return sse;
}

//  Read until needle has appeared count times (or timeout). True if it did.
static bool s_sse_wait (sse_t *sse, const char *needle, int count, int timeout_ms)
{
    int64_t deadline = pmo_mono_ms () + timeout_ms;
    while (true) {
        int seen = 0;
        for (const char *p = sse->buf; (p = strstr (p, needle)); p++)
            seen++;
        if (seen >= count)
            return true;
        int64_t left = deadline - pmo_mono_ms ();
        if (left <= 0)
            return false;
        struct pollfd item = {sse->fd, POLLIN, 0};
        if (poll (&item, 1, (int)left) <= 0)
            continue;
        ssize_t got = read (sse->fd, sse->buf + sse->size, sizeof sse->buf - sse->size - 1);
        if (got <= 0)
            return false;
        sse->size += (size_t)got;
        sse->buf[sse->size] = 0;
    }
}

//  The id of the last event received.
static void s_sse_last_id (sse_t *sse, char *id, size_t size)
{
    const char *last = NULL;
    for (const char *p = sse->buf; (p = strstr (p, "\nid: ")); p++)
        last = p + 5;
    assert (last);
    size_t n = strcspn (last, "\r\n");
    snprintf (id, size, "%.*s", (int)n, last);
}

static void s_sse_close (sse_t **sse_p)
{
    close ((*sse_p)->fd);
    free (*sse_p);
    *sse_p = NULL;
}

static void test_events (gh_t *gh)
{
    char *viewer = gh_token (gh, "watcher@dft", "viewer@dft");
    sse_t *sse = s_sse_open (gh, "?type=project.*", viewer, NULL);
    assert (s_sse_wait (sse, ": connected", 1, 3000));
    assert (strstr (sse->buf, "text/event-stream"));
    char *p1 = gh_project (gh, gh->admin, "EV-1", "dft-rail");
    char *p2 = gh_project (gh, gh->admin, "EV-2", "dhsc"); //  not visible to a dft viewer
    char *p3 = gh_project (gh, gh->admin, "EV-3", "dft");
    assert (s_sse_wait (sse, "event: project.created", 2, 5000));
    assert (strstr (sse->buf, p1) && strstr (sse->buf, p3) && !strstr (sse->buf, p2));
    //  The event says which API token acted, beside whose
    assert (strstr (sse->buf, "\"actor\":\"admin\"") &&
            strstr (sse->buf, "\"actor_via\":\"token:"));
    //  Heartbeats keep the line alive
    assert (s_sse_wait (sse, ": heartbeat", 1, 3000));
    char last[96];
    s_sse_last_id (sse, last, sizeof last);
    assert (strstr (last, "/dft"));
    s_sse_close (&sse);
    //  While away: two more in dft, one in dhsc
    char *p4 = gh_project (gh, gh->admin, "EV-4", "dft");
    char *p5 = gh_project (gh, gh->admin, "EV-5", "dhsc");
    char *p6 = gh_project (gh, gh->admin, "EV-6", "dft-rail");
    sse = s_sse_open (gh, "?type=project.*", viewer, last);
    assert (s_sse_wait (sse, "event: project.created", 2, 5000));
    assert (!s_sse_wait (sse, "event: project.created", 3, 1500));
    assert (strstr (sse->buf, p4) && strstr (sse->buf, p6));
    assert (!strstr (sse->buf, p1) && !strstr (sse->buf, p3) && !strstr (sse->buf, p5));
    s_sse_close (&sse);
    //  An admin resuming from the same point sees every division
    sse = s_sse_open (gh, "?type=project.created", gh->admin, last);
    assert (s_sse_wait (sse, "event: project.created", 3, 5000));
    const char *a = strstr (sse->buf, p4), *b = strstr (sse->buf, p5), *c = strstr (sse->buf, p6);
    //  Order is by stream id, then division: p5 and p6 may share a
    //  millisecond, and then dft's comes first
    assert (a && b && c && a < b && a < c);
    s_sse_close (&sse);
    //  Filters: one project, one org unit
    char query[128];
    snprintf (query, sizeof query, "?project=%s", p6);
    sse = s_sse_open (gh, query, gh->admin, "0-0");
    assert (s_sse_wait (sse, "event: project.created", 1, 5000));
    assert (!s_sse_wait (sse, "event: ", 2, 1000));
    s_sse_close (&sse);
    sse = s_sse_open (gh, "?org_unit=dft-rail&type=project.created", gh->admin, "0-0");
    assert (s_sse_wait (sse, p6, 1, 5000));
    assert (!strstr (sse->buf, p4) && !strstr (sse->buf, p5));
    s_sse_close (&sse);
    //  A bad Last-Event-ID is a 400
    sse = s_sse_open (gh, "", gh->admin, "yesterday");
    assert (s_sse_wait (sse, "400", 1, 3000));
    s_sse_close (&sse);
    //  Metrics count the live clients and the streams, with the consumer
    //  groups' backlog (a group that has read nothing yet lags by everything)
    redisReply *made =
        pmo_test_redis_command (gh->rh->redis, "XGROUP CREATE pmo:{dft}:events riskmon 0");
    assert (made && made->type == REDIS_REPLY_STATUS);
    freeReplyObject (made);
    gh_resp_t *resp = s_get (gh, "/metrics", gh->admin);
    GH_STATUS (resp, 200);
    GH_CHECK (strstr (resp->body, "pmo_gateway_requests_total{method=\"POST\",route=\"/api/v1/"
                                  "projects\",status=\"201\"}"),
              resp);
    GH_CHECK (strstr (resp->body, "pmo_stream_length{division=\"dft\"}"), resp);
    GH_CHECK (strstr (resp->body, "pmo_gateway_sse_clients"), resp);
    GH_CHECK (strstr (resp->body, "pmo_gateway_request_duration_seconds_bucket"), resp);
    GH_CHECK (strstr (resp->body, "pmo_stream_group_pending{division=\"dft\",group=\"riskmon\"} 0"),
              resp);
    const char *lag =
        strstr (resp->body, "pmo_stream_group_lag{division=\"dft\",group=\"riskmon\"} ");
    GH_CHECK (
        lag &&
            atoi (lag + strlen ("pmo_stream_group_lag{division=\"dft\",group=\"riskmon\"} ")) > 0,
        resp);
    gh_resp_free (&resp);
    //  The lag is what the group has not read, counted from the stream: a
    //  group at the last entry lags by 0 even when Redis's own counter
    //  (entries-read, as an AOF reload can leave it) says otherwise, and a
    //  group one entry short lags by 1
    redisReply *tail =
        pmo_test_redis_command (gh->rh->redis, "XREVRANGE pmo:{dft}:events + - COUNT 2");
    assert (tail && tail->type == REDIS_REPLY_ARRAY && tail->elements == 2);
    const char *ids[2] = {tail->element[0]->element[0]->str, tail->element[1]->element[0]->str};
    const char *want[2] = {"} 0\n", "} 1\n"};
    for (int i = 0; i < 2; i++) {
        made = pmo_test_redis_command (
            gh->rh->redis, "XGROUP SETID pmo:{dft}:events riskmon %s ENTRIESREAD 0", ids[i]);
        assert (made && made->type == REDIS_REPLY_STATUS);
        freeReplyObject (made);
        resp = s_get (gh, "/metrics", gh->admin);
        GH_STATUS (resp, 200);
        lag = strstr (resp->body, "pmo_stream_group_lag{division=\"dft\",group=\"riskmon\"");
        GH_CHECK (lag && strncmp (strchr (lag, '}'), want[i], strlen (want[i])) == 0, resp);
        gh_resp_free (&resp);
    }
    freeReplyObject (tail);
    //  A viewer may not read them at all; a metrics grant of dft may, and
    //  does not see another division's figures
    resp = s_get (gh, "/metrics", viewer);
    GH_STATUS (resp, 403);
    gh_resp_free (&resp);
    char *scraper = gh_token (gh, "svc-prometheus@dft", "metrics@dft");
    resp = s_get (gh, "/metrics", scraper);
    GH_STATUS (resp, 200);
    GH_CHECK (strstr (resp->body, "division=\"dft\"") && !strstr (resp->body, "division=\"dhsc\""),
              resp);
    gh_resp_free (&resp);
    //  ... and no data: no live events of dft
    resp = s_get (gh, "/api/v1/projects", scraper);
    GH_CHECK (resp->status == 200 || resp->status == 403, resp);
    GH_CHECK (!strstr (resp->body, "\"code\":"), resp);
    gh_resp_free (&resp);
    free (scraper);
    free (p1);
    free (p2);
    free (p3);
    free (p4);
    free (p5);
    free (p6);
    free (viewer);
}

static void test_upstream_down (gh_t *gh)
{
    rh_actor_stop (gh->rh);
    gh_resp_t *resp = s_get (gh, "/api/v1/projects", gh->admin);
    GH_STATUS (resp, 504);
    GH_CHECK (json_is_true (json_object_get (resp->json, "retryable")), resp);
    gh_resp_free (&resp);
    resp = s_get (gh, "/readyz", NULL);
    GH_STATUS (resp, 503);
    gh_resp_free (&resp);
    //  The reactor never waits for the registry: the org-unit tree it read
    //  before still says which streams a live-event client may read
    sse_t *sse = s_sse_open (gh, "", gh->admin, NULL);
    assert (s_sse_wait (sse, ": connected", 1, 3000));
    s_sse_close (&sse);
    rh_actor_start (gh->rh);
    //  The gateway's DEALER reconnects with a back-off that grows while the
    //  registry is away (up to 5 s, longer than a call's deadline here):
    //  wait until it says it is ready again, then it serves
    int64_t deadline = zclock_mono () + 30000;
    bool ready = false;
    while (!ready && zclock_mono () < deadline) {
        resp = s_get (gh, "/readyz", NULL);
        ready = resp->status == 200;
        gh_resp_free (&resp);
    }
    assert (ready);
    resp = s_get (gh, "/api/v1/projects", gh->admin);
    GH_STATUS (resp, 200);
    gh_resp_free (&resp);
    resp = s_get (gh, "/metrics", gh->admin);
    GH_CHECK (strstr (resp->body, "pmo_gateway_upstream_timeouts_total{service=\"registry\"} "),
              resp);
    GH_CHECK (!strstr (resp->body, "pmo_gateway_upstream_timeouts_total{service=\"registry\"} 0"),
              resp);
    gh_resp_free (&resp);
}

static void test_redis_down (gh_t *gh)
{
    //  A token never used yet is not cached: it needs the store
    char *fresh = gh_token (gh, "late@dft", "viewer@dft");
    //  AOF fsyncs every second: let the token reach the disk before the crash
    zclock_sleep (1500);
    pmo_test_redis_kill (gh->rh->redis);
    gh_resp_t *resp = s_get (gh, "/api/v1/whoami", fresh);
    GH_STATUS (resp, 503);
    GH_CHECK (gh_header (resp, "Retry-After"), resp);
    gh_resp_free (&resp);
    resp = s_get (gh, "/healthz", NULL);
    GH_STATUS (resp, 200);
    gh_resp_free (&resp);
    //  The registry answers "unavailable" too: 503, retryable
    resp = s_get (gh, "/api/v1/projects", gh->admin);
    GH_STATUS (resp, 503);
    GH_CHECK (json_is_true (json_object_get (resp->json, "retryable")), resp);
    gh_resp_free (&resp);
    assert (pmo_test_redis_restart (gh->rh->redis) == 0);
    //  Both reconnect by themselves (after their backoff)
    int64_t deadline = pmo_mono_ms () + 15000;
    long status = 0;
    while (status != 200 && pmo_mono_ms () < deadline) {
        resp = s_get (gh, "/api/v1/whoami", fresh);
        status = resp->status;
        gh_resp_free (&resp);
        if (status != 200)
            zclock_sleep (200);
    }
    assert (status == 200);
    free (fresh);
}

static void test_rate_limit (gh_t *gh)
{
    //  Stopping ends the live streams at once
    sse_t *sse = s_sse_open (gh, "", gh->admin, NULL);
    assert (s_sse_wait (sse, ": connected", 1, 3000));
    int64_t started = pmo_mono_ms ();
    gh_gateway_stop (gh);
    assert (pmo_mono_ms () - started < 3000);
    char tail[256];
    struct pollfd item = {sse->fd, POLLIN, 0};
    assert (poll (&item, 1, 1000) == 1);
    ssize_t got;
    while ((got = read (sse->fd, tail, sizeof tail)) > 0)
        ;
    assert (got == 0); //  the stream ended (EOF), it did not hang
    s_sse_close (&sse);
    gh->config.rate_per_s = 2;
    gh->config.rate_burst = 3;
    gh_gateway_start (gh);
    int limited = 0;
    gh_resp_t *resp = NULL;
    for (int i = 0; i < 6; i++) {
        gh_resp_free (&resp);
        resp = s_get (gh, "/api/v1/whoami", gh->admin);
        if (resp->status == 429) {
            limited++;
            GH_CHECK (atoi (gh_header (resp, "Retry-After")) >= 1, resp);
        }
    }
    GH_CHECK (limited >= 2, resp);
    gh_resp_free (&resp);
    //  The bucket refills
    zclock_sleep (1100);
    resp = s_get (gh, "/api/v1/whoami", gh->admin);
    GH_STATUS (resp, 200);
    gh_resp_free (&resp);
    //  Restarting did not make a second admin token
    resp = s_get (gh, "/api/v1/tokens?limit=500", gh->admin);
    size_t admins = 0, n = json_array_size (json_object_get (resp->json, "items"));
    for (size_t i = 0; i < n; i++)
        admins +=
            strcmp (json_string_value (json_object_get (
                        json_array_get (json_object_get (resp->json, "items"), i), "created_by")),
                    "pmo-gateway") == 0;
    GH_CHECK (admins == 1, resp);
    gh_resp_free (&resp);
}

int main (void)
{
    gh_t *gh = gh_start (NULL);
    test_health_and_pages (gh);
    test_auth (gh);
    gh_org (gh);
    test_resources (gh);
    test_bad_input (gh);
    test_access (gh);
    test_idempotency (gh);
    test_tokens (gh);
    test_events (gh);
    test_upstream_down (gh);
    test_redis_down (gh);
    test_rate_limit (gh);
    gh_stop (&gh);
    printf ("test_gateway: OK\n");
    return 0;
}
