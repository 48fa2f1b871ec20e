/*  test_gateway_codes.c: a project's code wherever its id is, over HTTP.

    The registry, the risk monitor, the allocator and the planner behind a
    real gateway. Two divisions use the same code (SAME-1); a third code
    (ONLY-1) exists in one division only. Table-driven: every route of the
    gateway's route table whose path names a project (/api/v1/projects/
    {id}...) is in the table below (the test fails on a route it does not
    know), and each is called with the code by a PMO manager of dft:
    - a read answers what the same read by id answers, about dft's project;
    - a write is done on dft's project (what it made names dft's id);
    - a PMO manager of dhsc typing SAME-1 gets dhsc's project, never dft's;
    - ONLY-1 (dhsc's) typed by dft's manager is 404 "no project with id or
      code 'ONLY-1'", word for word the answer to a code nobody uses;
    - the hub's admin, who reads both divisions, is told SAME-1 is ambiguous
      (400, give the id), and the id works for them.
    Project references in bodies (a risk's project_id) and queries
    (?project_id=) go through the same resolver. Then every pmoctl command
    that names a project, with the code of a project two divisions use,
    run as dft's manager (dft's project, never dhsc's) and as dhsc's. And
    pmoctl health thresholds, which shows each value set here or inherited
    from where (a value set equal to the inherited one is set here), keeps
    the rest of the unit's own set on --set, and inherits again on FIELD=0.
*/
#include "allocator_server.h"
#include "gateway_harness.h"
#include "planner_server.h"
#include "riskmon_server.h"

#include <assert.h>
#include <stdio.h>
#include <sys/wait.h>
#include <stdlib.h>
#include <string.h>

static riskmon_config_t s_riskmon;
static allocator_config_t s_allocator;
static planner_config_t s_planner;
static zactor_t *s_actors[3];
static char s_endpoints[3][2][64];

//  The services behind the gateway, started once the registry is up
static void s_tune (gateway_config_t *config)
{
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 2; j++)
            snprintf (s_endpoints[i][j], sizeof s_endpoints[i][j], "tcp://127.0.0.1:%d",
                      pmo_test_free_port ());
    const char *registry = config->upstreams[GATEWAY_SVC_REGISTRY];
    s_riskmon = (riskmon_config_t){.endpoint = s_endpoints[0][0],
                                   .pub_endpoint = s_endpoints[0][1],
                                   .redis_url = config->redis_url,
                                   .hub = "hub",
                                   .registry = registry,
                                   .consumer = "riskmon-codes",
                                   .redis_timeout_ms = 2000,
                                   .claim_idle_ms = 1000,
                                   .tick_ms = 200,
                                   .batch = 256};
    s_allocator = (allocator_config_t){.endpoint = s_endpoints[1][0],
                                       .pub_endpoint = s_endpoints[1][1],
                                       .redis_url = config->redis_url,
                                       .registry = registry,
                                       .hub = "hub",
                                       .redis_timeout_ms = 2000,
                                       .registry_timeout_ms = 2000,
                                       .registry_cache_ms = 200,
                                       .fte_hours = 40};
    s_planner = (planner_config_t){.endpoint = s_endpoints[2][0],
                                   .pub_endpoint = s_endpoints[2][1],
                                   .redis_url = config->redis_url,
                                   .hub = "hub",
                                   .registry = registry,
                                   .redis_timeout_ms = 2000,
                                   .month = "2026-12"};
    s_actors[0] = pmo_test_actor_new (riskmon_server_actor, &s_riskmon, &s_riskmon.failed);
    s_actors[1] = pmo_test_actor_new (allocator_server_actor, &s_allocator, &s_allocator.failed);
    s_actors[2] = pmo_test_actor_new (planner_server_actor, &s_planner, &s_planner.failed);
    assert (s_actors[0] && s_actors[1] && s_actors[2]);
    config->upstreams[GATEWAY_SVC_RISKMON] = s_endpoints[0][0];
    config->upstreams[GATEWAY_SVC_ALLOCATOR] = s_endpoints[1][0];
    config->upstreams[GATEWAY_SVC_PLANNER] = s_endpoints[2][0];
}

//  One route that names a project in its path. %s is the project (id or
//  code); a write's body; read: also asked by id and compared; made: the
//  member of the answer that names the project ("" the answer is the
//  project itself, NULL nothing to check).
typedef struct {
    const char *method;
    const char *pattern; //  as in the route table
    const char *body;
    bool if_match; //  the project's version as If-Match
    bool read;
    const char *made;
} s_route_t;

static const s_route_t s_routes[] = {
    {"GET", "/api/v1/projects/{id}", NULL, false, true, ""},
    {"PATCH", "/api/v1/projects/{id}", "{\"description\":\"patched by code\"}", true, false, ""},
    {"PUT", "/api/v1/projects/{id}", "", true, false, ""}, //  the project as read, without its id
    {"POST", "/api/v1/projects/{id}/milestones",
     "{\"name\":\"Design done\",\"baseline_date\":\"2027-03-31\"}", false, false, "project_id"},
    {"GET", "/api/v1/projects/{id}/milestones", NULL, false, true, NULL},
    {"POST", "/api/v1/projects/{id}/status-reports",
     "{\"period_end\":\"2026-11-20\",\"percent_complete\":10,\"overall\":\"amber\"}", false, false,
     "project_id"},
    {"GET", "/api/v1/projects/{id}/status-reports", NULL, false, true, NULL},
    {"POST", "/api/v1/projects/{id}/phase", "{\"to_phase\":\"planning\"}", true, false, ""},
    {"POST", "/api/v1/projects/{id}/gate-request", "{\"to_phase\":\"execution\"}", true, false, ""},
    {"POST", "/api/v1/projects/{id}/gate-request/withdraw", "{}", true, false, ""},
    {"POST", "/api/v1/projects/{id}/gate-decisions",
     "{\"to_phase\":\"execution\",\"outcome\":\"go\",\"rationale\":\"ready\"}", true, false,
     "project_id"},
    {"GET", "/api/v1/projects/{id}/gate-decisions", NULL, false, true, NULL},
    {"GET", "/api/v1/projects/{id}/allocations", NULL, false, true, NULL},
    {"GET", "/api/v1/projects/{id}/risks", NULL, false, true, NULL},
    {"GET", "/api/v1/projects/{id}/issues", NULL, false, true, NULL},
    {"GET", "/api/v1/projects/{id}/changes", NULL, false, true, NULL},
    {"GET", "/api/v1/projects/{id}/raid", NULL, false, true, NULL},
    {"GET", "/api/v1/projects/{id}/alerts", NULL, false, true, NULL},
    {"GET", "/api/v1/projects/{id}/health", NULL, false, true, NULL},
    {"POST", "/api/v1/projects/{id}/score",
     "{\"version\":0,\"scores\":[{\"criterion\":\"value\",\"score\":7}]}", false, false,
     "project_id"},
    {"DELETE", "/api/v1/projects/{id}", NULL, true, false, ""}, //  last: archives it
};
#define N_ROUTES (sizeof s_routes / sizeof s_routes[0])

static char *s_path (const char *pattern, const char *project)
{
    const char *at = strstr (pattern, "{id}");
    assert (at);
    char *path = malloc (256);
    assert (path);
    snprintf (path, 256, "%.*s%s%s", (int)(at - pattern), pattern, project, at + 4);
    return path;
}

//  The project's version now, as an If-Match header
static void s_if_match (gh_t *gh, const char *id, char *header, size_t size)
{
    char path[128];
    snprintf (path, sizeof path, "/api/v1/projects/%s", id);
    gh_resp_t *resp = gh_http (gh, "GET", path, gh->admin, NULL, NULL);
    GH_STATUS (resp, 200);
    snprintf (header, size, "If-Match: %s", gh_header (resp, "ETag"));
    gh_resp_free (&resp);
}

//  The body of a PUT: the project as read, without its id
static char *s_put_body (gh_t *gh, const char *id)
{
    char path[128];
    snprintf (path, sizeof path, "/api/v1/projects/%s", id);
    gh_resp_t *resp = gh_http (gh, "GET", path, gh->admin, NULL, NULL);
    GH_STATUS (resp, 200);
    json_object_del (resp->json, "id");
    json_object_set_new (resp->json, "name", json_string ("Put by code"));
    char *body = json_dumps (resp->json, JSON_COMPACT);
    gh_resp_free (&resp);
    return body;
}

//  Does the answer name the project (the member; every item's of a page;
//  somewhere in a view)?
static bool s_names (gh_resp_t *resp, const char *member, const char *id)
{
    if (!resp->json)
        return false;
    if (member) {
        json_t *value =
            *member ? json_object_get (resp->json, member) : json_object_get (resp->json, "id");
        return json_is_string (value) && strcmp (json_string_value (value), id) == 0;
    }
    json_t *items = json_object_get (resp->json, "items");
    if (!items)
        return strstr (resp->body, id) != NULL; //  a view about the project
    size_t i;
    json_t *item;
    json_array_foreach (items, i, item)
    {
        json_t *pid = json_object_get (item, "project_id");
        if (!json_is_string (pid) || strcmp (json_string_value (pid), id) != 0)
            return false;
    }
    return true;
}

//  Every route of the table naming a project is in s_routes
static void s_route_table_covered (void)
{
    size_t n = gateway_route_count ();
    size_t found = 0;
    for (size_t i = 0; i < n; i++) {
        const gateway_route_t *route = &gateway_routes[i];
        if (strncmp (route->pattern, "/api/v1/projects/{id}", 21) != 0)
            continue;
        bool known = false;
        for (size_t k = 0; k < N_ROUTES && !known; k++)
            known = streq (s_routes[k].method, route->method) &&
                    streq (s_routes[k].pattern, route->pattern);
        if (!known) {
            fprintf (stderr, "test_gateway_codes: %s %s names a project and is not tested\n",
                     route->method, route->pattern);
            abort ();
        }
        found++;
    }
    assert (found == N_ROUTES);
}

static char s_pmoctl[1024];

//  Run pmoctl as who (grants) with args; its exit status, stdout+stderr in out
static int s_ctl (gh_t *gh, const char *who, const char *args, char *out, size_t size)
{
    char command[2048];
    snprintf (command, sizeof command,
              "PMO_REGISTRY_ENDPOINT=%s PMO_RISKMON_ENDPOINT=%s PMO_ALLOCATOR_ENDPOINT=%s "
              "PMO_PLANNER_ENDPOINT=%s %s %s %s 2>&1",
              gh->rh->endpoint, s_endpoints[0][0], s_endpoints[1][0], s_endpoints[2][0], s_pmoctl,
              who, args);
    FILE *pipe = popen (command, "r");
    assert (pipe);
    size_t got = fread (out, 1, size - 1, pipe);
    out[got] = 0;
    int status = pclose (pipe);
    return WIFEXITED (status) ? WEXITSTATUS (status) : -1;
}

//  Every pmoctl command naming a project, with a code two divisions use
static void s_pmoctl_codes (gh_t *gh)
{
    char *dft = gh_project (gh, gh->admin, "CTL-1", "dft");
    char *dhsc = gh_project (gh, gh->admin, "CTL-1", "dhsc");
    const char *manager = "--as pm@dft --grant pmo_manager@dft";
    const char *other = "--as pm@dhsc --grant pmo_manager@dhsc";
    //  {arguments, what the output shows: dft's id, or NULL (a list that
    //  may be empty: its exit status is what counts)}
    const struct {
        const char *args;
        bool names;
    } commands[] = {
        {"--json project get CTL-1", true},
        {"--json project update CTL-1 --description 'updated by code'", true},
        {"--json milestone add --project CTL-1 --name Design --baseline 2027-03-31", true},
        {"--json milestone list --project CTL-1", true},
        {"--json report submit --project CTL-1 --period-end 2026-11-30 --overall amber", true},
        {"--json report list --project CTL-1", true},
        {"--json project phase CTL-1 --to planning", true},
        {"--json project request-gate CTL-1 --to execution", true},
        {"--json gate pending --project CTL-1", true},
        {"--json project withdraw-gate CTL-1", true},
        {"--json project decide CTL-1 --to execution --outcome go --why ready", true},
        {"--json health show CTL-1", true},
        {"--json risk list --project CTL-1", false},
        {"--json issue list --project CTL-1", false},
        {"--json alerts list --project CTL-1", false},
        {"--json alloc list --project CTL-1", false},
        {"--json benefit list --project CTL-1", false},
        {"--json score set CTL-1 --value 7 --version 0", true},
        {"--json project archive CTL-1", true},
    };
    char out[16384];
    for (size_t k = 0; k < sizeof commands / sizeof commands[0]; k++) {
        int rc = s_ctl (gh, manager, commands[k].args, out, sizeof out);
        if (rc != 0 || (commands[k].names && !strstr (out, dft)) || strstr (out, dhsc)) {
            fprintf (stderr, "test_gateway_codes: pmoctl %s (exit %d):\n%s\n", commands[k].args, rc,
                     out);
            abort ();
        }
    }
    //  dhsc's manager: dhsc's project; dft's is archived, not theirs
    int rc = s_ctl (gh, other, "project get CTL-1", out, sizeof out);
    assert (rc == 0 && strstr (out, dhsc) && !strstr (out, dft));
    //  An unknown code: not found, naming it
    rc = s_ctl (gh, manager, "health show NOBODY-9", out, sizeof out);
    assert (rc == 1 && strstr (out, "NOBODY-9"));
    rc = s_ctl (gh, manager, "milestone list --project NOBODY-9", out, sizeof out);
    assert (rc == 1 && strstr (out, "NOBODY-9"));
    free (dft);
    free (dhsc);
}

//  pmoctl health thresholds: each value set here or inherited from where;
//  --set keeps the rest of the unit's own set, FIELD=0 inherits again
static void s_pmoctl_thresholds (gh_t *gh)
{
    const char *manager = "--as pm@dft --grant pmo_manager@dft";
    char out[16384];
    int rc = s_ctl (gh, manager, "health thresholds --org-unit dft --set milestone_red_days=10",
                    out, sizeof out);
    assert (rc == 0);
    //  14 is what dft inherits: set here all the same
    rc = s_ctl (gh, manager, "health thresholds --org-unit dft --set gate_red_days=14", out,
                sizeof out);
    assert (rc == 0);
    rc = s_ctl (gh, manager, "health thresholds --org-unit dft", out, sizeof out);
    if (rc != 0 ||
        !strstr (out, "milestone_red_days     10         set here (else 14 from the "
                      "default)") ||
        !strstr (out, "gate_red_days          14         set here (else 14 from the default)") ||
        !strstr (out, "slip_red_days          30         inherited from the default")) {
        fprintf (stderr, "test_gateway_codes: pmoctl health thresholds:\n%s\n", out);
        abort ();
    }
    rc = s_ctl (gh, manager, "health thresholds --org-unit dft-rail", out, sizeof out);
    assert (rc == 0 && strstr (out, "milestone_red_days     10         inherited from dft"));
    rc = s_ctl (gh, manager, "health thresholds --org-unit dft --set milestone_red_days=0", out,
                sizeof out);
    assert (rc == 0);
    rc = s_ctl (gh, manager, "health thresholds --org-unit dft", out, sizeof out);
    assert (rc == 0 &&
            strstr (out, "milestone_red_days     14         inherited from the default") &&
            strstr (out, "gate_red_days          14         set here"));
}

int main (void)
{
    pmo_test_build_path ("services/pmoctl/pmoctl", s_pmoctl, sizeof s_pmoctl);
    s_route_table_covered ();
    gh_t *gh = gh_start (s_tune);
    gh_org (gh);
    char *dft = gh_project (gh, gh->admin, "SAME-1", "dft");
    char *dhsc = gh_project (gh, gh->admin, "SAME-1", "dhsc");
    char *only = gh_project (gh, gh->admin, "ONLY-1", "dhsc");
    char *manager = gh_token (gh, "pm@dft", "pmo_manager@dft");
    char *other = gh_token (gh, "pm@dhsc", "pmo_manager@dhsc");
    //  A scoring model in force, so a score may be recorded
    gh_resp_t *resp = gh_http (gh, "PUT", "/api/v1/org-units/hub/planner-policy", gh->admin,
                               "{\"version\":0,\"criteria\":[{\"criterion\":\"value\",\"weight\":"
                               "1}]}",
                               NULL);
    GH_STATUS (resp, 200);
    gh_resp_free (&resp);

    for (size_t k = 0; k < N_ROUTES; k++) {
        const s_route_t *r = &s_routes[k];
        char if_match[64] = "";
        char *put = r->body && !*r->body ? s_put_body (gh, dft) : NULL;
        const char *body = put ? put : r->body;
        char *path = s_path (r->pattern, "SAME-1");
        //  dhsc's manager first (reads only): SAME-1 is dhsc's project
        if (r->read) {
            resp = gh_http (gh, r->method, path, other, NULL, NULL);
            GH_STATUS (resp, 200);
            GH_CHECK (s_names (resp, r->made, dhsc), resp);
            GH_CHECK (!strstr (resp->body, dft), resp);
            gh_resp_free (&resp);
        }
        //  dft's manager: dft's project, as by id
        if (r->if_match)
            s_if_match (gh, dft, if_match, sizeof if_match);
        resp = gh_http (gh, r->method, path, manager, body, if_match);
        GH_CHECK (resp->status >= 200 && resp->status < 300, resp);
        GH_CHECK (s_names (resp, r->made, dft), resp);
        GH_CHECK (!strstr (resp->body, dhsc), resp);
        //  The lists of what this table made are not empty
        GH_CHECK (!r->read || strstr (r->pattern, "/api/v1/projects/{id}/") == NULL ||
                      !strstr ("milestones status-reports gate-decisions",
                               strrchr (r->pattern, '/') + 1) ||
                      json_array_size (json_object_get (resp->json, "items")) > 0,
                  resp);
        if (r->read) {
            char *by_id = s_path (r->pattern, dft);
            gh_resp_t *same = gh_http (gh, r->method, by_id, manager, NULL, NULL);
            GH_STATUS (same, resp->status);
            GH_CHECK (json_equal (same->json, resp->json), same);
            gh_resp_free (&same);
            free (by_id);
        }
        gh_resp_free (&resp);
        //  Another division's code and a code nobody uses: the same 404
        if (!streq (r->method, "DELETE")) {
            char *theirs = s_path (r->pattern, "ONLY-1");
            char *nobody = s_path (r->pattern, "NOBODY-9");
            gh_resp_t *a = gh_http (gh, r->method, theirs, manager, body, if_match);
            gh_resp_t *b = gh_http (gh, r->method, nobody, manager, body, if_match);
            GH_STATUS (a, 404);
            GH_STATUS (b, 404);
            GH_CHECK (strstr (a->body, "no project with id or code 'ONLY-1'"), a);
            GH_CHECK (strstr (b->body, "no project with id or code 'NOBODY-9'"), b);
            GH_CHECK (!strstr (a->body, only), a);
            gh_resp_free (&a);
            gh_resp_free (&b);
            free (theirs);
            free (nobody);
            //  The hub's admin reads both divisions: ambiguous, the id works
            if (r->read) {
                a = gh_http (gh, r->method, path, gh->admin, NULL, NULL);
                GH_STATUS (a, 400);
                GH_CHECK (strstr (a->body, "SAME-1") && strstr (a->body, "give"), a);
                gh_resp_free (&a);
            }
        }
        free (put);
        free (path);
    }

    //  References in a body and a query: the risk is stored with the id
    resp = gh_http (gh, "POST", "/api/v1/risks", other,
                    "{\"project_id\":\"SAME-1\",\"title\":\"Supplier late\",\"owner\":\"ops@dhsc\","
                    "\"probability\":3,\"impact\":3}",
                    NULL);
    GH_STATUS (resp, 201);
    GH_CHECK (streq (gh_str (resp, "project_id"), dhsc), resp);
    gh_resp_free (&resp);
    resp = gh_http (gh, "GET", "/api/v1/risks?project_id=SAME-1", other, NULL, NULL);
    GH_STATUS (resp, 200);
    GH_CHECK (json_array_size (json_object_get (resp->json, "items")) == 1, resp);
    gh_resp_free (&resp);
    resp = gh_http (gh, "GET", "/api/v1/risks?project_id=SAME-1", manager, NULL, NULL);
    GH_STATUS (resp, 200);
    GH_CHECK (json_array_size (json_object_get (resp->json, "items")) == 0, resp);
    gh_resp_free (&resp);

    s_pmoctl_codes (gh);
    s_pmoctl_thresholds (gh);

    free (dft);
    free (dhsc);
    free (only);
    free (manager);
    free (other);
    for (int i = 0; i < 3; i++) {
        const char *const endpoints[] = {s_endpoints[i][0], s_endpoints[i][1], NULL};
        int rc = pmo_test_actor_destroy (&s_actors[i], endpoints);
        assert (rc == 0);
        (void)rc;
    }
    gh_stop (&gh);
    printf ("test_gateway_codes: %zu routes naming a project take its code\n", N_ROUTES);
    return 0;
}
