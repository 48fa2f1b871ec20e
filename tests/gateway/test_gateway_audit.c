/*  test_gateway_audit.c: the audit trail (GET /api/v1/audit, pmoctl audit)
    against a real gateway, registry and Redis over real HTTP and CurveZMQ:
    the actor is the authenticated principal however the request claims
    otherwise (an operator key's `--as` is ignored; a token's subject and
    id are recorded); a division's roles read only their subtree's trail
    and nobody without an audit role reads it at all; paging is stable
    while changes keep coming; the filters and bad input.
*/
#include "gateway_harness.h"

#include "pmo_testkit.h"
#include "pmo_util.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

static char s_pmoctl[1024];

//  Run pmoctl with key name and args; its exit status, stdout in out.
static int s_pmoctl_run (gh_t *gh, const char *key, const char *args, char *out, size_t size)
{
    char command[2048];
    snprintf (command, sizeof command,
              "PMO_GATEWAY_ENDPOINT=%s PMO_REGISTRY_ENDPOINT=%s %s --key %s %s 2>/dev/null",
              gh->endpoint, gh->rh->endpoint, s_pmoctl, key, args);
    FILE *pipe = popen (command, "r");
    assert (pipe);
    size_t got = fread (out, 1, size - 1, pipe);
    out[got] = 0;
    int status = pclose (pipe);
    return WIFEXITED (status) ? WEXITSTATUS (status) : -1;
}

//  GET path as token: the response (caller frees).
static gh_resp_t *s_get (gh_t *gh, const char *token, const char *path)
{
    return gh_http (gh, "GET", path, token, NULL, NULL);
}

static json_t *s_events (gh_resp_t *resp)
{
    json_t *events = json_object_get (resp->json, "items");
    GH_CHECK (json_is_array (events), resp);
    return events;
}

static const char *s_field (json_t *event, const char *name)
{
    json_t *value = json_object_get (event, name);
    return json_is_string (value) ? json_string_value (value) : "";
}

//  An operator's key claims to be the CEO with admin rights: the trail
//  says who the key is, by pmoctl and over HTTP alike.
static void test_forged_actor (gh_t *gh)
{
    assert (pmo_test_key ("ops", "operator", "jane@dft", "pmo_manager@dft") == 0);
    char out[65536];
    int rc = s_pmoctl_run (gh, "ops",
                           "--as ceo@board --grant admin@hub project create --code FORGE-1 "
                           "--name Forged --org-unit dft-rail",
                           out, sizeof out);
    assert (rc == 0);
    //  The operator reads its own division's trail with pmoctl
    rc =
        s_pmoctl_run (gh, "ops", "--json audit --unit dft --type project.created", out, sizeof out);
    assert (rc == 0);
    json_error_t error;
    json_t *page = json_loads (out, 0, &error);
    assert (page);
    json_t *events = json_object_get (page, "events");
    assert (json_array_size (events) >= 1);
    json_t *event = json_array_get (events, 0);
    assert (streq (s_field (event, "actor"), "jane@dft"));
    assert (streq (s_field (event, "actor_via"), "key:ops"));
    assert (streq (s_field (event, "type"), "project.created"));
    assert (json_object_get (event, "project"));
    json_decref (page);
    //  and as a table
    assert (s_pmoctl_run (gh, "ops", "audit --unit dft --limit 5", out, sizeof out) == 0);
    assert (strstr (out, "ACTOR") && strstr (out, "jane@dft") && strstr (out, "key:ops"));
    assert (!strstr (out, "ceo@board"));
    //  An enterprise admin over HTTP sees the same: never the claim
    gh_resp_t *resp = s_get (gh, gh->admin, "/api/v1/audit?type=project.created&org_unit=dft");
    GH_STATUS (resp, 200);
    events = s_events (resp);
    bool seen = false;
    for (size_t i = 0; i < json_array_size (events); i++) {
        json_t *e = json_array_get (events, i);
        GH_CHECK (!streq (s_field (e, "actor"), "ceo@board"), resp);
        seen |= streq (s_field (e, "actor"), "jane@dft");
    }
    GH_CHECK (seen, resp);
    gh_resp_free (&resp);
    //  A change over HTTP records the token's subject and the token's id
    char *token = gh_token (gh, "pm@dft", "project_manager@dft");
    char *id = gh_project (gh, token, "TOK-1", "dft-rail");
    char path[256];
    snprintf (path, sizeof path, "/api/v1/audit?project_id=%s", id);
    resp = s_get (gh, gh->admin, path);
    GH_STATUS (resp, 200);
    events = s_events (resp);
    GH_CHECK (json_array_size (events) == 1, resp);
    event = json_array_get (events, 0);
    GH_CHECK (streq (s_field (event, "actor"), "pm@dft"), resp);
    GH_CHECK (strncmp (s_field (event, "actor_via"), "token:", 6) == 0, resp);
    //  the token named is the one that acted: pmo_<id>_<secret>
    GH_CHECK (strncmp (s_field (event, "actor_via") + 6, token + 4, 16) == 0, resp);
    gh_resp_free (&resp);
    free (id);
    free (token);
}

//  True if any event of the page lies outside unit's subtree.
static bool s_outside (json_t *events, const char *unit)
{
    for (size_t i = 0; i < json_array_size (events); i++) {
        const char *path = s_field (json_array_get (events, i), "org_unit_path");
        char with[96];
        snprintf (with, sizeof with, "/%s/", unit);
        char padded[512];
        snprintf (padded, sizeof padded, "/%s/", path);
        if (!strstr (padded, with))
            return true;
    }
    return false;
}

static void test_scope (gh_t *gh)
{
    char *dft = gh_project (gh, gh->admin, "SCOPE-1", "dft-rail");
    char *dhsc = gh_project (gh, gh->admin, "SCOPE-2", "dhsc");
    //  No audit role: refused, whatever the unit
    char *viewer = gh_token (gh, "v@dft", "viewer@dft");
    char *pm = gh_token (gh, "pm@dft", "project_manager@dft");
    const char *refused[] = {viewer, pm};
    for (int i = 0; i < 2; i++) {
        gh_resp_t *resp = s_get (gh, refused[i], "/api/v1/audit");
        GH_STATUS (resp, 403);
        gh_resp_free (&resp);
        resp = s_get (gh, refused[i], "/api/v1/audit?org_unit=dft");
        GH_STATUS (resp, 403);
        gh_resp_free (&resp);
    }
    //  Another division's PMO manager: refused for dft, and its own trail
    //  holds nothing of dft
    char *other = gh_token (gh, "m@dhsc", "pmo_manager@dhsc");
    gh_resp_t *resp = s_get (gh, other, "/api/v1/audit?org_unit=dft");
    GH_STATUS (resp, 403);
    gh_resp_free (&resp);
    char path[256];
    snprintf (path, sizeof path, "/api/v1/audit?project_id=%s", dft);
    resp = s_get (gh, other, path);
    GH_STATUS (resp, 200);
    GH_CHECK (json_array_size (s_events (resp)) == 0, resp);
    gh_resp_free (&resp);
    resp = s_get (gh, other, "/api/v1/audit?limit=500");
    GH_STATUS (resp, 200);
    GH_CHECK (json_array_size (s_events (resp)) >= 1, resp);
    GH_CHECK (!s_outside (s_events (resp), "dhsc"), resp);
    gh_resp_free (&resp);
    //  An auditor of a department: that department only
    char *auditor = gh_token (gh, "a@dft", "auditor@dft-rail");
    resp = s_get (gh, auditor, "/api/v1/audit?limit=500");
    GH_STATUS (resp, 200);
    GH_CHECK (json_array_size (s_events (resp)) >= 1, resp);
    GH_CHECK (!s_outside (s_events (resp), "dft-rail"), resp);
    gh_resp_free (&resp);
    //  ... asking for its division gets the part it audits
    resp = s_get (gh, auditor, "/api/v1/audit?org_unit=dft&limit=500");
    GH_STATUS (resp, 200);
    GH_CHECK (!s_outside (s_events (resp), "dft-rail"), resp);
    gh_resp_free (&resp);
    snprintf (path, sizeof path, "/api/v1/audit?project_id=%s", dhsc);
    resp = s_get (gh, auditor, path);
    GH_STATUS (resp, 200);
    GH_CHECK (json_array_size (s_events (resp)) == 0, resp);
    gh_resp_free (&resp);
    //  The enterprise admin reads both
    resp = s_get (gh, gh->admin, "/api/v1/audit?type=project.created&limit=500");
    GH_STATUS (resp, 200);
    bool seen_dft = false, seen_dhsc = false;
    json_t *events = s_events (resp);
    for (size_t i = 0; i < json_array_size (events); i++) {
        const char *entity = s_field (json_array_get (events, i), "entity_id");
        seen_dft |= streq (entity, dft);
        seen_dhsc |= streq (entity, dhsc);
    }
    GH_CHECK (seen_dft && seen_dhsc, resp);
    gh_resp_free (&resp);
    free (dft);
    free (dhsc);
    free (viewer);
    free (pm);
    free (other);
    free (auditor);
}

//  Page through type=project.created in dft with limit 4 while projects
//  keep being made: every project made before the first page is seen
//  once, in order, and none made after it.
static void test_paging (gh_t *gh)
{
    char *before[10];
    for (int i = 0; i < 10; i++) {
        char code[32];
        snprintf (code, sizeof code, "PAGE-%d", i);
        before[i] = gh_project (gh, gh->admin, code, i % 2 ? "dft-rail" : "dhsc");
    }
    json_t *seen = json_object ();
    char cursor[256] = "";
    char last[256] = "";
    char *during[6];
    int pages = 0, made = 0;
    while (true) {
        char path[512];
        snprintf (path, sizeof path, "/api/v1/audit?type=project.created&limit=4%s%s",
                  *cursor ? "&cursor=" : "", cursor);
        gh_resp_t *resp = s_get (gh, gh->admin, path);
        GH_STATUS (resp, 200);
        json_t *events = s_events (resp);
        GH_CHECK (json_array_size (events) <= 4, resp);
        for (size_t i = 0; i < json_array_size (events); i++) {
            json_t *e = json_array_get (events, i);
            const char *entity = s_field (e, "entity_id");
            GH_CHECK (!json_object_get (seen, entity), resp); //  never twice
            json_object_set_new (seen, entity, json_true ());
            //  newest first: ids (ms-seq) never increase
            char key[256];
            snprintf (key, sizeof key, "%s", s_field (e, "id"));
            if (*last) {
                unsigned long long a, b, c, d;
                assert (sscanf (last, "%llu-%llu", &a, &b) == 2);
                assert (sscanf (key, "%llu-%llu", &c, &d) == 2);
                GH_CHECK (c < a || (c == a && d <= b), resp);
            }
            snprintf (last, sizeof last, "%s", key);
        }
        snprintf (cursor, sizeof cursor, "%s", gh_str (resp, "next_cursor"));
        gh_resp_free (&resp);
        pages++;
        //  Changes while paging
        if (made < 6) {
            char code[32];
            snprintf (code, sizeof code, "LATE-%d", made);
            during[made] = gh_project (gh, gh->admin, code, "dft-rail");
            made++;
        }
        if (!*cursor)
            break;
        //  a cursor travels as a query parameter: '/' needs no escaping
        assert (!strchr (cursor, '&') && !strchr (cursor, ' '));
    }
    assert (pages >= 3);
    for (int i = 0; i < 10; i++)
        assert (json_object_get (seen, before[i]));
    for (int i = 0; i < made; i++)
        assert (!json_object_get (seen, during[i]));
    //  A new first page starts with the newest
    gh_resp_t *resp = s_get (gh, gh->admin, "/api/v1/audit?type=project.created&limit=1");
    GH_STATUS (resp, 200);
    GH_CHECK (streq (s_field (json_array_get (s_events (resp), 0), "entity_id"), during[made - 1]),
              resp);
    gh_resp_free (&resp);
    json_decref (seen);
    for (int i = 0; i < 10; i++)
        free (before[i]);
    for (int i = 0; i < made; i++)
        free (during[i]);
}

//  Filters by actor, type prefix and time, and bad input named.
static void test_filters (gh_t *gh)
{
    int64_t start = pmo_now_ms ();
    char *token = gh_token (gh, "filter@dft", "pmo_manager@dft");
    char *id = gh_project (gh, token, "FILT-1", "dft");
    int64_t end = pmo_now_ms ();
    char path[512];
    snprintf (path, sizeof path, "/api/v1/audit?actor=filter@dft&type=project.*");
    gh_resp_t *resp = s_get (gh, gh->admin, path);
    GH_STATUS (resp, 200);
    GH_CHECK (json_array_size (s_events (resp)) == 1, resp);
    GH_CHECK (streq (s_field (json_array_get (s_events (resp), 0), "entity_id"), id), resp);
    gh_resp_free (&resp);
    //  Time: inside the window, and a window before it
    snprintf (path, sizeof path, "/api/v1/audit?actor=filter@dft&since_ms=%lld&until_ms=%lld",
              (long long)start, (long long)end);
    resp = s_get (gh, gh->admin, path);
    GH_STATUS (resp, 200);
    GH_CHECK (json_array_size (s_events (resp)) == 1, resp);
    gh_resp_free (&resp);
    snprintf (path, sizeof path, "/api/v1/audit?actor=filter@dft&until_ms=%lld",
              (long long)start - 1);
    resp = s_get (gh, gh->admin, path);
    GH_STATUS (resp, 200);
    GH_CHECK (json_array_size (s_events (resp)) == 0, resp);
    gh_resp_free (&resp);
    //  Bad input: a clear error naming the parameter
    const struct {
        const char *query;
        long status;
        const char *field;
    } bad[] = {
        {"cursor=nonsense", 400, "cursor"},
        {"cursor=1-0", 400, "cursor"},
        {"limit=501", 400, "limit"},
        {"since_ms=-5", 400, "since_ms"},
        {"since_ms=20&until_ms=10", 400, "until_ms"},
        {"org_unit=nowhere", 404, "org_unit"},
        {"wizard=1", 400, "wizard"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf (path, sizeof path, "/api/v1/audit?%s", bad[i].query);
        resp = s_get (gh, gh->admin, path);
        GH_STATUS (resp, bad[i].status);
        GH_CHECK (strstr (gh_str (resp, "field"), bad[i].field), resp);
        gh_resp_free (&resp);
    }
    free (id);
    free (token);
}

int main (void)
{
    pmo_test_build_path ("services/pmoctl/pmoctl", s_pmoctl, sizeof s_pmoctl);
    gh_t *gh = gh_start (NULL);
    gh_org (gh);
    test_forged_actor (gh);
    test_scope (gh);
    test_paging (gh);
    test_filters (gh);
    gh_stop (&gh);
    printf ("test_gateway_audit: OK\n");
    return 0;
}
