/*  gateway_idp.c: the OpenID provider's client (libcurl), on its own
    thread. See gateway_idp.h.
*/
#include "gateway_idp.h"

#include "pmo_log.h"
#include "pmo_util.h"

#include <assert.h>
#include <curl/curl.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#define BODY_MAX       (1024 * 1024) //  a provider's document or token answer
#define CONNECT_MS     3000
#define TOTAL_MS       5000
#define BACKOFF_MS     1000 //  discovery failed: try again after this, doubling
#define BACKOFF_MAX_MS 30000

typedef struct {
    char *data;
    size_t size;
    bool too_big;
} body_t;

typedef struct {
    gateway_idp_config_t config;
    zsock_t *pipe;
    CURL *curl;
    char *token_endpoint; //  from discovery; NULL until it came
    char *jwks_uri;
} idp_t;

static size_t s_write (char *data, size_t size, size_t n, void *arg)
{
    body_t *body = arg;
    size_t bytes = size * n;
    if (body->size + bytes > BODY_MAX) {
        body->too_big = true;
        return 0;
    }
    body->data = realloc (body->data, body->size + bytes + 1);
    assert (body->data);
    memcpy (body->data + body->size, data, bytes);
    body->size += bytes;
    body->data[body->size] = 0;
    return bytes;
}

//  One request: GET url, or POST form (with basic auth user:password if
//  user). Returns the HTTP status (0: no answer) and the body (malloc'd,
//  NUL-terminated, caller frees).
static long s_http (idp_t *self, const char *url, const char *form, const char *user,
                    const char *password, char **out)
{
    body_t body = {0};
    CURL *e = self->curl;
    curl_easy_reset (e);
    curl_easy_setopt (e, CURLOPT_URL, url);
    curl_easy_setopt (e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt (e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt (e, CURLOPT_CONNECTTIMEOUT_MS, (long)CONNECT_MS);
    curl_easy_setopt (e, CURLOPT_TIMEOUT_MS, (long)TOTAL_MS);
    curl_easy_setopt (e, CURLOPT_WRITEFUNCTION, s_write);
    curl_easy_setopt (e, CURLOPT_WRITEDATA, &body);
    //  A provider's documents are never redirected somewhere else for us
    curl_easy_setopt (e, CURLOPT_FOLLOWLOCATION, 0L);
    struct curl_slist *headers = curl_slist_append (NULL, "Accept: application/json");
    curl_easy_setopt (e, CURLOPT_HTTPHEADER, headers);
    if (form) {
        curl_easy_setopt (e, CURLOPT_POSTFIELDS, form);
        if (user) {
            curl_easy_setopt (e, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
            curl_easy_setopt (e, CURLOPT_USERNAME, user);
            curl_easy_setopt (e, CURLOPT_PASSWORD, password);
        }
    }
    CURLcode rc = curl_easy_perform (e);
    long status = 0;
    if (rc == CURLE_OK)
        curl_easy_getinfo (e, CURLINFO_RESPONSE_CODE, &status);
    else
        pmo_warn ("gateway: provider unreachable url=%s error=\"%s\"", url,
                  body.too_big ? "answer too large" : curl_easy_strerror (rc));
    curl_slist_free_all (headers);
    if (!body.data)
        body.data = strdup ("");
    *out = body.data;
    return status;
}

//  Fetch the discovery document. 0 (sent to the reactor), or -1.
static int s_discover (idp_t *self)
{
    const char *issuer = self->config.issuer;
    size_t len = strlen (issuer);
    while (len && issuer[len - 1] == '/')
        len--;
    char *url = zsys_sprintf ("%.*s/.well-known/openid-configuration", (int)len, issuer);
    char *text = NULL;
    long status = s_http (self, url, NULL, NULL, NULL, &text);
    int rc = -1;
    json_t *doc = status == 200 ? json_loads (text, 0, NULL) : NULL;
    const char *token = json_string_value (json_object_get (doc, "token_endpoint"));
    const char *jwks = json_string_value (json_object_get (doc, "jwks_uri"));
    const char *named = json_string_value (json_object_get (doc, "issuer"));
    if (token && jwks && named && strcmp (named, issuer) == 0) {
        free (self->token_endpoint);
        free (self->jwks_uri);
        self->token_endpoint = strdup (token);
        self->jwks_uri = strdup (jwks);
        zstr_sendx (self->pipe, "DISCOVERY", text, NULL);
        pmo_info ("gateway: provider discovered issuer=%s", issuer);
        rc = 0;
    } else if (status)
        pmo_warn ("gateway: provider discovery refused url=%s status=%ld (want 200, a JSON "
                  "document naming issuer=%s)",
                  url, status, issuer);
    json_decref (doc);
    free (text);
    zstr_free (&url);
    return rc;
}

//  Fetch the key set and send it (or "" when it failed) to the reactor.
static void s_fetch_jwks (idp_t *self)
{
    char *text = NULL;
    long status = self->jwks_uri || s_discover (self) == 0
                      ? s_http (self, self->jwks_uri, NULL, NULL, NULL, &text)
                      : 0;
    if (status != 200 && status)
        pmo_warn ("gateway: provider key set refused url=%s status=%ld", self->jwks_uri, status);
    zstr_sendx (self->pipe, "JWKS", status == 200 ? text : "", NULL);
    free (text);
}

//  Exchange an authorization code (RFC 6749 4.1.3 with RFC 7636's
//  code_verifier).
static void s_exchange (idp_t *self, const char *wait_id, const char *code, const char *verifier)
{
    char *text = NULL;
    long status = 0;
    if (self->token_endpoint || s_discover (self) == 0) {
        CURL *e = self->curl;
        char *c = curl_easy_escape (e, code, 0), *v = curl_easy_escape (e, verifier, 0),
             *r = curl_easy_escape (e, self->config.redirect_uri, 0),
             *id = curl_easy_escape (e, self->config.client_id, 0);
        char *form = zsys_sprintf (
            "grant_type=authorization_code&code=%s&code_verifier=%s&redirect_uri=%s&client_id=%s",
            c, v, r, id);
        bool secret = self->config.client_secret && *self->config.client_secret;
        //  client_secret_basic (RFC 6749 2.3.1): both parts form-encoded
        char *user = secret ? curl_easy_escape (e, self->config.client_id, 0) : NULL;
        char *password = secret ? curl_easy_escape (e, self->config.client_secret, 0) : NULL;
        status = s_http (self, self->token_endpoint, form, user, password, &text);
        curl_free (c);
        curl_free (v);
        curl_free (r);
        curl_free (id);
        curl_free (user);
        curl_free (password);
        zstr_free (&form);
    }
    char number[16];
    snprintf (number, sizeof number, "%ld", status);
    zstr_sendx (self->pipe, "TOKEN", wait_id, number, text ? text : "", NULL);
    free (text);
}

void gateway_idp_actor (zsock_t *pipe, void *args)
{
    idp_t self = {.config = *(gateway_idp_config_t *)args, .pipe = pipe};
    self.curl = curl_easy_init ();
    assert (self.curl);
    zsock_signal (pipe, 0);
    int64_t backoff = BACKOFF_MS;
    int64_t next_fetch = pmo_mono_ms ();
    zpoller_t *poller = zpoller_new (pipe, NULL);
    while (true) {
        int64_t now = pmo_mono_ms ();
        if (now >= next_fetch) {
            s_fetch_jwks (&self);
            //  Not discovered yet: the provider is down; ask again soon
            if (!self.jwks_uri) {
                next_fetch = now + backoff;
                backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
            } else
                next_fetch = now + (int64_t)self.config.refresh_s * 1000;
        }
        int64_t wait = next_fetch - pmo_mono_ms ();
        zsock_t *which = zpoller_wait (poller, wait < 0 ? 0 : (int)wait);
        if (zpoller_terminated (poller))
            break;
        if (which != pipe)
            continue;
        zmsg_t *msg = zmsg_recv (pipe);
        if (!msg)
            break;
        char *command = zmsg_popstr (msg);
        if (command && streq (command, "$TERM")) {
            zstr_free (&command);
            zmsg_destroy (&msg);
            break;
        }
        if (command && streq (command, "JWKS")) {
            s_fetch_jwks (&self);
            if (self.jwks_uri)
                next_fetch = pmo_mono_ms () + (int64_t)self.config.refresh_s * 1000;
        } else if (command && streq (command, "TOKEN")) {
            char *wait_id = zmsg_popstr (msg), *code = zmsg_popstr (msg),
                 *verifier = zmsg_popstr (msg);
            if (wait_id && code && verifier)
                s_exchange (&self, wait_id, code, verifier);
            zstr_free (&wait_id);
            zstr_free (&code);
            zstr_free (&verifier);
        }
        zstr_free (&command);
        zmsg_destroy (&msg);
    }
    zpoller_destroy (&poller);
    curl_easy_cleanup (self.curl);
    free (self.token_endpoint);
    free (self.jwks_uri);
}
