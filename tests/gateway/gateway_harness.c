/*  gateway_harness.c: a real gateway (Redis + registry + gateway) and an
    HTTP client, for tests.
*/
#include "gateway_harness.h"
#include "pmo_util.h"

#include "pmo_log.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void (*s_tune) (gateway_config_t *config);

void gh_gateway_start (gh_t *self)
{
    //  A restart may find the old ROUTER's port still closing in libzmq's
    //  I/O thread: try again for a moment
    for (int attempt = 0; attempt < 50 && !self->gateway; attempt++) {
        self->gateway = gateway_new (&self->config);
        if (!self->gateway)
            zclock_sleep (100);
    }
    assert (self->gateway);
}

void gh_gateway_stop (gh_t *self)
{
    gateway_destroy (&self->gateway);
}

#define READY_WAIT_MS 15000 //  how long gh_start waits for /readyz

gh_t *gh_start (void (*tune) (gateway_config_t *config))
{
    s_tune = tune;
    gh_t *self = calloc (1, sizeof (gh_t));
    assert (self);
    self->rh = rh_start ();
    snprintf (self->dir, sizeof self->dir, "/tmp/pmo-gw-test-XXXXXX");
    assert (mkdtemp (self->dir));
    snprintf (self->token_file, sizeof self->token_file, "%s/admin-token", self->dir);
    int port = pmo_test_free_port ();
    snprintf (self->http, sizeof self->http, "127.0.0.1:%d", port);
    snprintf (self->base, sizeof self->base, "http://127.0.0.1:%d", port);
    snprintf (self->endpoint, sizeof self->endpoint, "tcp://127.0.0.1:%d", pmo_test_free_port ());
    self->config = (gateway_config_t){
        .http = self->http,
        .endpoint = self->endpoint,
        .upstreams = {[GATEWAY_SVC_REGISTRY] = self->rh->endpoint},
        .pubs = {[GATEWAY_SVC_REGISTRY] = self->rh->pub},
        .redis_url = pmo_test_redis_url (self->rh->redis),
        .hub = "hub",
        .www = PMO_GATEWAY_WWW,
        .openapi = PMO_GATEWAY_OPENAPI,
        .admin_token_file = self->token_file,
        .redis_timeout_ms = 1000,
        .upstream_timeout_ms = 2000,
        .max_body = 64 * 1024,
        .rate_per_s = 0,
        .rate_burst = 100,
        .heartbeat_ms = 500,
        .max_connections = 128,
        .token_cache_ms = 5000,
    };
    if (s_tune)
        s_tune (&self->config);
    gh_gateway_start (self);
    FILE *file = fopen (self->token_file, "r");
    assert (file);
    assert (fgets (self->admin, sizeof self->admin, file));
    fclose (file);
    self->admin[strcspn (self->admin, "\n")] = 0;
    curl_global_init (CURL_GLOBAL_ALL);
    self->curl = curl_easy_init ();
    assert (self->curl);
    //  Start as an operator or a load balancer would: once /readyz says so.
    //  Its pings give each service 500 ms, which a gateway and registry that
    //  have just started on a loaded machine may not yet make; a test that
    //  wants a gateway that is not ready makes it so afterwards.
    int64_t deadline = pmo_mono_ms () + READY_WAIT_MS;
    while (pmo_mono_ms () < deadline) {
        gh_resp_t *resp = gh_http (self, "GET", "/readyz", NULL, NULL, NULL);
        bool ready = resp->status == 200;
        gh_resp_free (&resp);
        if (ready)
            break;
        zclock_sleep (50);
    }
    return self;
}

void gh_stop (gh_t **self_p)
{
    gh_t *self = *self_p;
    if (!self)
        return;
    curl_easy_cleanup (self->curl);
    curl_global_cleanup ();
    gh_gateway_stop (self);
    rh_stop (&self->rh);
    unlink (self->token_file);
    rmdir (self->dir);
    free (self);
    *self_p = NULL;
}

static size_t s_body (char *data, size_t size, size_t n, void *arg)
{
    gh_resp_t *resp = arg;
    size_t len = size * n;
    resp->body = realloc (resp->body, resp->size + len + 1);
    assert (resp->body);
    memcpy (resp->body + resp->size, data, len);
    resp->size += len;
    resp->body[resp->size] = 0;
    return len;
}

static size_t s_head (char *data, size_t size, size_t n, void *arg)
{
    gh_resp_t *resp = arg;
    size_t len = size * n, used = strlen (resp->headers);
    if (used + len + 1 < sizeof resp->headers) {
        memcpy (resp->headers + used, data, len);
        resp->headers[used + len] = 0;
    }
    return len;
}

gh_resp_t *gh_http (gh_t *self, const char *method, const char *path, const char *token,
                    const char *body, const char *headers)
{
    gh_resp_t *resp = calloc (1, sizeof (gh_resp_t));
    assert (resp);
    CURL *curl = self->curl;
    curl_easy_reset (curl);
    char url[1024];
    snprintf (url, sizeof url, "%s%s", self->base, path);
    curl_easy_setopt (curl, CURLOPT_URL, url);
    curl_easy_setopt (curl, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt (curl, CURLOPT_TIMEOUT_MS, 15000L);
    curl_easy_setopt (curl, CURLOPT_WRITEFUNCTION, s_body);
    curl_easy_setopt (curl, CURLOPT_WRITEDATA, resp);
    curl_easy_setopt (curl, CURLOPT_HEADERFUNCTION, s_head);
    curl_easy_setopt (curl, CURLOPT_HEADERDATA, resp);
    if (strcmp (method, "HEAD") == 0)
        curl_easy_setopt (curl, CURLOPT_NOBODY, 1L);
    struct curl_slist *list = NULL;
    char line[512];
    if (token) {
        snprintf (line, sizeof line, "Authorization: Bearer %s", token);
        list = curl_slist_append (list, line);
    }
    bool typed = false;
    if (headers) {
        char *copy = strdup (headers), *save = NULL;
        for (char *h = strtok_r (copy, "\n", &save); h; h = strtok_r (NULL, "\n", &save)) {
            typed = typed || strncasecmp (h, "Content-Type:", 13) == 0;
            list = curl_slist_append (list, h);
        }
        free (copy);
    }
    if (body) {
        if (!typed)
            list = curl_slist_append (list, "Content-Type: application/json");
        curl_easy_setopt (curl, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt (curl, CURLOPT_POSTFIELDSIZE, (long)strlen (body));
    }
    //  No "Expect: 100-continue" pause on larger bodies
    list = curl_slist_append (list, "Expect:");
    curl_easy_setopt (curl, CURLOPT_HTTPHEADER, list);
    CURLcode rc = curl_easy_perform (curl);
    curl_slist_free_all (list);
    if (rc != CURLE_OK) {
        fprintf (stderr, "harness: %s %s failed: %s\n", method, path, curl_easy_strerror (rc));
        abort ();
    }
    curl_easy_getinfo (curl, CURLINFO_RESPONSE_CODE, &resp->status);
    if (resp->body)
        resp->json = json_loadb (resp->body, resp->size, 0, NULL);
    return resp;
}

void gh_resp_free (gh_resp_t **resp_p)
{
    gh_resp_t *resp = *resp_p;
    if (!resp)
        return;
    json_decref (resp->json);
    free (resp->body);
    free (resp);
    *resp_p = NULL;
}

const char *gh_header (gh_resp_t *resp, const char *name)
{
    static char value[1024];
    size_t len = strlen (name);
    const char *line = resp->headers;
    while (line && *line) {
        if (strncasecmp (line, name, len) == 0 && line[len] == ':') {
            const char *start = line + len + 1;
            while (*start == ' ')
                start++;
            size_t n = strcspn (start, "\r\n");
            snprintf (value, sizeof value, "%.*s", (int)n, start);
            return value;
        }
        line = strchr (line, '\n');
        if (line)
            line++;
    }
    return NULL;
}

const char *gh_str (gh_resp_t *resp, const char *key)
{
    json_t *value = resp->json ? json_object_get (resp->json, key) : NULL;
    return json_is_string (value) ? json_string_value (value) : "";
}

void gh_fail (const char *what, gh_resp_t *resp, const char *file, int line)
{
    fprintf (stderr, "%s:%d: check failed: %s\n", file, line, what);
    if (resp)
        fprintf (stderr, "  status %ld\n  headers:\n%s  body: %s\n", resp->status, resp->headers,
                 resp->body ? resp->body : "(none)");
    abort ();
}

char *gh_token (gh_t *self, const char *subject, const char *grants)
{
    json_t *list = json_array ();
    char copy[256];
    snprintf (copy, sizeof copy, "%s", grants);
    char *save = NULL;
    for (char *one = strtok_r (copy, ",", &save); one; one = strtok_r (NULL, ",", &save)) {
        char *at = strchr (one, '@');
        assert (at);
        *at = 0;
        json_array_append_new (list, json_pack ("{s:s, s:s}", "role", one, "org_unit", at + 1));
    }
    json_t *doc = json_pack ("{s:s, s:s, s:o}", "name", "test", "subject", subject, "grants", list);
    char *text = json_dumps (doc, JSON_COMPACT);
    json_decref (doc);
    gh_resp_t *resp = gh_http (self, "POST", "/api/v1/tokens", self->admin, text, NULL);
    free (text);
    GH_STATUS (resp, 201);
    char *secret = strdup (gh_str (resp, "secret"));
    GH_CHECK (strncmp (secret, "pmo_", 4) == 0, resp);
    gh_resp_free (&resp);
    return secret;
}

static void s_unit (gh_t *self, const char *body)
{
    gh_resp_t *resp = gh_http (self, "POST", "/api/v1/org-units", self->admin, body, NULL);
    GH_STATUS (resp, 201);
    gh_resp_free (&resp);
}

void gh_org (gh_t *self)
{
    s_unit (self, "{\"id\":\"hub\",\"name\":\"Enterprise\",\"kind\":\"enterprise\","
                  "\"pmo_type\":\"directive\",\"pmo_tier\":\"hub\"}");
    s_unit (self, "{\"id\":\"dft\",\"name\":\"Transport\",\"kind\":\"division\",\"parent\":"
                  "\"hub\",\"pmo_type\":\"supportive\",\"pmo_tier\":\"spoke\"}");
    s_unit (self, "{\"id\":\"dhsc\",\"name\":\"Health\",\"kind\":\"division\",\"parent\":"
                  "\"hub\",\"pmo_type\":\"supportive\",\"pmo_tier\":\"spoke\"}");
    s_unit (self, "{\"id\":\"dft-rail\",\"name\":\"Rail\",\"kind\":\"department\",\"parent\":"
                  "\"dft\"}");
}

char *gh_project (gh_t *self, const char *token, const char *code, const char *unit)
{
    char body[512];
    snprintf (body, sizeof body,
              "{\"code\":\"%s\",\"name\":\"Project %s\",\"org_unit\":\"%s\","
              "\"budget\":{\"baseline\":{\"minor\":1000000,\"currency\":\"GBP\"}}}",
              code, code, unit);
    gh_resp_t *resp = gh_http (self, "POST", "/api/v1/projects", token, body, NULL);
    GH_STATUS (resp, 201);
    char *id = strdup (gh_str (resp, "id"));
    gh_resp_free (&resp);
    return id;
}
