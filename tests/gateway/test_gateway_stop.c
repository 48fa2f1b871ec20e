/*  test_gateway_stop: the gateway stops cleanly with requests in flight.

    The registry is paused: in its place a ROUTER on its endpoint takes the
    request and never answers (as a registry stopped with SIGSTOP would), so
    the request waits in the gateway, and the test knows when it does. A
    second request with the same Idempotency-Key is answered 409 at once
    (never left suspended where nothing would wake it). Then the gateway is stopped, as SIGTERM
   does: the waiting request is answered 503 with Retry-After (not 504), and the gateway's HTTP
   daemon stops without aborting over suspended connections.
*/
#include "gateway_harness.h"
#include "pmo_auth.h"
#include <assert.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define KEY  "Idempotency-Key: stop-test-1"
#define BODY "{\"code\":\"STOP-1\",\"name\":\"Stop\",\"org_unit\":\"dft\"}"

typedef struct {
    gh_t *gh;
    long status;
    char headers[4096];
    char body[4096];
} inflight_t;

static size_t s_collect (char *data, size_t size, size_t n, void *buf)
{
    size_t len = strlen (buf), add = size * n;
    if (len + add < 4096) {
        memcpy ((char *)buf + len, data, add);
        ((char *)buf)[len + add] = 0;
    }
    return size * n;
}

//  The request that waits: its own connection, on its own thread
static void *s_inflight (void *args)
{
    inflight_t *self = args;
    CURL *curl = curl_easy_init ();
    char url[128], auth[200];
    snprintf (url, sizeof url, "%s/api/v1/projects", self->gh->base);
    snprintf (auth, sizeof auth, "Authorization: Bearer %s", self->gh->admin);
    struct curl_slist *headers = curl_slist_append (NULL, auth);
    headers = curl_slist_append (headers, KEY);
    headers = curl_slist_append (headers, "Content-Type: application/json");
    curl_easy_setopt (curl, CURLOPT_URL, url);
    curl_easy_setopt (curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt (curl, CURLOPT_POSTFIELDS, BODY);
    curl_easy_setopt (curl, CURLOPT_HEADERFUNCTION, s_collect);
    curl_easy_setopt (curl, CURLOPT_HEADERDATA, self->headers);
    curl_easy_setopt (curl, CURLOPT_WRITEFUNCTION, s_collect);
    curl_easy_setopt (curl, CURLOPT_WRITEDATA, self->body);
    curl_easy_setopt (curl, CURLOPT_TIMEOUT, 120L);
    if (curl_easy_perform (curl) == CURLE_OK)
        curl_easy_getinfo (curl, CURLINFO_RESPONSE_CODE, &self->status);
    curl_slist_free_all (headers);
    curl_easy_cleanup (curl);
    return NULL;
}

static void s_tune (gateway_config_t *config)
{
    //  The waiting request must still wait when the gateway is stopped
    config->upstream_timeout_ms = 120000;
}

int main (void)
{
    gh_t *gh = gh_start (s_tune);
    gh_org (gh);
    rh_actor_stop (gh->rh);
    //  The paused registry (the stopped actor's port may still be closing)
    zsock_t *paused = zsock_new (ZMQ_ROUTER);
    assert (pmo_auth_server (paused) == 0); //  a CURVE server like the real one
    int bound = -1;
    for (int tries = 0; tries < 50 && bound < 0; tries++) {
        bound = zsock_bind (paused, "%s", gh->rh->endpoint);
        if (bound < 0)
            zclock_sleep (100);
    }
    assert (bound >= 0);

    inflight_t inflight = {.gh = gh};
    pthread_t thread;
    assert (pthread_create (&thread, NULL, s_inflight, &inflight) == 0);
    //  The request reached the registry: it waits in the gateway
    zsock_set_rcvtimeo (paused, 30000);
    zmsg_t *taken = zmsg_recv (paused);
    assert (taken);
    zmsg_destroy (&taken);
    gh_resp_t *resp = gh_http (gh, "POST", "/api/v1/projects", gh->admin, BODY, KEY);
    GH_STATUS (resp, 409);
    GH_CHECK (strcmp (gh_str (resp, "field"), "Idempotency-Key") == 0, resp);
    GH_CHECK (gh_header (resp, "Retry-After"), resp);
    gh_resp_free (&resp);
    printf ("a second request with the key of a waiting one: 409\n");

    //  Stop the gateway as SIGTERM does: the waiting request gets 503
    gh_gateway_stop (gh);
    assert (pthread_join (thread, NULL) == 0);
    if (inflight.status != 503 || !strstr (inflight.headers, "Retry-After: 1")) {
        fprintf (stderr, "in flight at stop: %ld\n%s\n%s\n", inflight.status, inflight.headers,
                 inflight.body);
        assert (!"the request in flight at stop was not answered 503 with Retry-After");
    }
    assert (strstr (inflight.body, "\"retryable\":true"));
    printf ("in flight at stop: 503, Retry-After: 1; the gateway stopped cleanly\n");

    //  Started again (and the registry back), the same key works: nothing
    //  was left behind
    zsock_destroy (&paused);
    rh_actor_start (gh->rh);
    gh_gateway_start (gh);
    resp = NULL;
    for (int tries = 0; tries < 50; tries++) {
        resp = gh_http (gh, "POST", "/api/v1/projects", gh->admin, BODY, KEY);
        if (resp->status == 201)
            break;
        gh_resp_free (&resp);
        zclock_sleep (100);
    }
    assert (resp);
    GH_STATUS (resp, 201);
    gh_resp_free (&resp);
    gh_stop (&gh);
    printf ("test_gateway_stop: ok\n");
    return 0;
}
