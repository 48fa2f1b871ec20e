/*  gateway_session.c: single sign-on with OpenID Connect, on the reactor.

    The dashboard signs people in with the authorization code flow and
    PKCE (RFC 7636, S256):

      GET /auth/login     makes a state, a nonce and a code verifier, keeps
                          them in Redis for 10 minutes under the state, sets
                          a short cookie that binds the state to this
                          browser, and redirects to the provider.
      GET /auth/callback  takes the state back once (it must match the
                          cookie), has the provider's client exchange the
                          code with the verifier (gateway_idp, off the
                          reactor), verifies the ID token (signature by the
                          provider's key set, issuer, audience = our client,
                          expiry, nonce), maps its claims to grants and
                          opens a session: a random 256-bit cookie value,
                          HttpOnly, SameSite=Strict, Secure over TLS, whose
                          SHA-256 keys the session in Redis (so replicas
                          share it and a stolen Redis dump holds no cookie).
      POST /auth/logout   ends the session (and tells the dashboard where
                          the provider's own sign-out is).
      GET /auth/config    says whether single sign-on is on.

    A request signed in by cookie that changes something (any method but
    GET and HEAD) must also carry X-CSRF-Token, a value derived from the
    cookie that only the dashboard's own page can read (from whoami):
    SameSite=Strict already keeps other sites' requests from carrying the
    cookie; the token keeps it so in browsers that ignore SameSite.

    The API also accepts the provider's access tokens (JWTs) as bearer
    tokens beside pmo's own: verified with the key set, issuer, audience
    (the configured one) and expiry. A JWT signed by a key we do not hold
    makes us fetch the key set again (at most every jwks_min_interval_ms)
    and try once more: a rotated key is picked up, a foreign one refused.
*/
#include "gateway_internal.h"
#include "pmo_reflect.h"
#include "gateway_model.h"

#include "pmo_json.h"
#include "pmo_log.h"
#include "pmo_util.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#define LOGIN_TTL_S    600 //  a sign-in must come back from the provider within this
#define SESSION_COOKIE "pmo_session"
#define LOGIN_COOKIE   "pmo_login"

//  ---------------------------------------------------------------------
//  Start and stop

int gateway_sso_start (self_t *self, const char *path)
{
    char error[512];
    self->oidc = gateway_oidc_load (path, error, sizeof error);
    if (!self->oidc) {
        pmo_error ("gateway: bad single sign-on configuration %s", error);
        return -1;
    }
    self->idp_config = (gateway_idp_config_t){
        .issuer = gateway_oidc_issuer (self->oidc),
        .client_id = gateway_oidc_client_id (self->oidc),
        .client_secret = gateway_oidc_client_secret (self->oidc),
        .redirect_uri = gateway_oidc_redirect_uri (self->oidc),
        .refresh_s = gateway_oidc_jwks_refresh_s (self->oidc),
    };
    self->idp = zactor_new (gateway_idp_actor, &self->idp_config);
    assert (self->idp);
    //  The actor fetches the key set at once
    self->jwks_asking = true;
    self->jwks_asked_ms = pmo_mono_ms ();
    pmo_info ("gateway: single sign-on issuer=%s client=%s", gateway_oidc_issuer (self->oidc),
              gateway_oidc_client_id (self->oidc));
    return 0;
}

void gateway_sso_stop (self_t *self)
{
    zactor_destroy (&self->idp);
    gateway_oidc_destroy (&self->oidc);
}

//  ---------------------------------------------------------------------
//  Answers of the browser flows

//  A small page saying what went wrong, with the way back.
static enum MHD_Result s_page (request_t *req, int status, const char *title, const char *detail)
{
    char *body = zsys_sprintf (
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>pmo · %s</title>"
        "</head><body><h1>%s</h1><p>%s</p><p><a href=\"/\">Back to the dashboard</a></p>"
        "</body></html>",
        title, title, detail);
    size_t size = strlen (body);
    char *copy = malloc (size + 1);
    assert (copy);
    memcpy (copy, body, size + 1);
    zstr_free (&body);
    struct MHD_Response *response;
    gateway_http_send (req, status, "text/html; charset=utf-8", copy, size, &response);
    MHD_add_response_header (response, "Cache-Control", "no-store");
    MHD_add_response_header (response, "Content-Security-Policy",
                             "default-src 'none'; frame-ancestors 'none'");
    return gateway_http_queue (req, response);
}

//  A cookie's Set-Cookie value (caller frees).
static char *s_cookie (self_t *self, const char *name, const char *value, const char *path,
                       const char *same_site, int max_age)
{
    return zsys_sprintf ("%s=%s; Path=%s; Max-Age=%d; HttpOnly; SameSite=%s%s", name, value, path,
                         max_age, same_site,
                         gateway_oidc_cookie_secure (self->oidc) ? "; Secure" : "");
}

//  303 to location, with up to two cookies set.
static enum MHD_Result s_redirect (request_t *req, const char *location, char *cookie1,
                                   char *cookie2)
{
    struct MHD_Response *response;
    gateway_http_send (req, 303, NULL, NULL, 0, &response);
    MHD_add_response_header (response, "Location", location);
    MHD_add_response_header (response, "Cache-Control", "no-store");
    if (cookie1)
        MHD_add_response_header (response, "Set-Cookie", cookie1);
    if (cookie2)
        MHD_add_response_header (response, "Set-Cookie", cookie2);
    zstr_free (&cookie1);
    zstr_free (&cookie2);
    return gateway_http_queue (req, response);
}

//  The CSRF token of a session: derived from the cookie's secret, so it
//  needs no storage, and unknown to anyone who cannot read the cookie.
static void s_csrf (const char *secret, char *out)
{
    char *text = zsys_sprintf ("pmo-csrf:%s", secret);
    gateway_sha256_hex (text, strlen (text), out);
    zstr_free (&text);
}

//  ---------------------------------------------------------------------
//  GET /auth/login

static enum MHD_Result s_login (self_t *self, request_t *req)
{
    const char *authorize = gateway_oidc_endpoint (self->oidc, "authorization_endpoint");
    if (!authorize)
        return s_page (req, 503, "Sign-in is not available yet",
                       "The identity provider has not been reached yet; try again shortly.");
    char state[65], nonce[65], verifier[65], challenge[64];
    if (gateway_oidc_random (state, 32) || gateway_oidc_random (nonce, 32) ||
        gateway_oidc_random (verifier, 32))
        return s_page (req, 503, "Sign-in failed", "No random numbers; try again.");
    gateway_oidc_pkce_challenge (verifier, challenge);
    json_t *record = json_pack ("{s:s, s:s}", "verifier", verifier, "nonce", nonce);
    char *text = json_dumps (record, JSON_COMPACT);
    json_decref (record);
    int rc = gateway_store_login_put (self->store, state, text, LOGIN_TTL_S);
    free (text);
    if (rc)
        return s_page (req, 503, "Sign-in is not available",
                       "The session store (Redis) is unavailable; try again shortly.");
    char *client = gateway_oidc_urlencode (gateway_oidc_client_id (self->oidc));
    char *redirect = gateway_oidc_urlencode (gateway_oidc_redirect_uri (self->oidc));
    char *scope = gateway_oidc_urlencode (gateway_oidc_scopes (self->oidc));
    char *location = zsys_sprintf (
        "%s%sresponse_type=code&client_id=%s&redirect_uri=%s&scope=%s&state=%s&nonce=%s"
        "&code_challenge=%s&code_challenge_method=S256",
        authorize, strchr (authorize, '?') ? "&" : "?", client, redirect, scope, state, nonce,
        challenge);
    free (client);
    free (redirect);
    free (scope);
    //  Lax: the provider sends the browser back with a top-level GET from
    //  its own site, which a Strict cookie would not come with
    enum MHD_Result answer = s_redirect (
        req, location, s_cookie (self, LOGIN_COOKIE, state, "/auth/", "Lax", LOGIN_TTL_S), NULL);
    zstr_free (&location);
    return answer;
}

//  ---------------------------------------------------------------------
//  GET /auth/callback

static bool s_token_like (const char *text, size_t max)
{
    size_t len = text ? strlen (text) : 0;
    if (!len || len > max)
        return false;
    for (const char *c = text; *c; c++)
        if (*c <= 32 || *c >= 127)
            return false;
    return true;
}

static enum MHD_Result s_callback (self_t *self, request_t *req)
{
    struct MHD_Connection *c = req->connection;
    const char *error = MHD_lookup_connection_value (c, MHD_GET_ARGUMENT_KIND, "error");
    const char *code = MHD_lookup_connection_value (c, MHD_GET_ARGUMENT_KIND, "code");
    const char *state = MHD_lookup_connection_value (c, MHD_GET_ARGUMENT_KIND, "state");
    const char *cookie = MHD_lookup_connection_value (c, MHD_COOKIE_KIND, LOGIN_COOKIE);
    if (error) {
        //  The provider's own words are not shown: they are not ours to vouch for
        pmo_info ("gateway: sign-in refused by the provider error=%.40s",
                  s_token_like (error, 40) ? error : "?");
        return s_page (req, 403, "Sign-in refused",
                       "The identity provider did not sign you in (you may have cancelled).");
    }
    if (!s_token_like (state, 64) || !s_token_like (code, 2048))
        return s_page (req, 400, "Sign-in failed",
                       "The provider's answer lacks its code or state; start again.");
    //  The state must be the one this browser was given: a sign-in started
    //  elsewhere cannot be finished here (login CSRF)
    if (!cookie || strcmp (cookie, state) != 0)
        return s_page (req, 400, "Sign-in failed",
                       "This sign-in was not started in this browser (or took too long); start "
                       "again.");
    char *login = NULL;
    int rc = gateway_store_login_take (self->store, state, &login);
    if (rc < 0)
        return s_page (req, 503, "Sign-in is not available",
                       "The session store (Redis) is unavailable; try again shortly.");
    if (rc == 0)
        return s_page (req, 400, "Sign-in failed",
                       "This sign-in is unknown, was already used or took too long; start again.");
    json_t *record = json_loads (login, 0, NULL);
    const char *verifier = json_string_value (json_object_get (record, "verifier"));
    req->kind = KIND_SSO;
    req->login = login;
    gateway_new_id (self, req->wait_id);
    zstr_sendx (zactor_sock (self->idp), "TOKEN", req->wait_id, code, verifier ? verifier : "",
                NULL);
    json_decref (record);
    req->deadline = pmo_mono_ms () + self->config.upstream_timeout_ms;
    req->retry_at = 0;
    gateway_pending_add (self, req, req->wait_id);
    req->stage = STAGE_WAITING;
    MHD_suspend_connection (req->connection);
    return MHD_YES;
}

//  Wait for the provider's key set (asked for now unless it was asked for
//  very recently). false when it may not be asked for again yet.
static bool s_keys_wait (self_t *self, request_t *req)
{
    int64_t now = pmo_mono_ms ();
    if (req->keys_fresh)
        return false;
    if (!self->jwks_asking) {
        if (now - self->jwks_asked_ms < gateway_oidc_jwks_min_interval_ms (self->oidc))
            return false;
        zstr_send (zactor_sock (self->idp), "JWKS");
        self->jwks_asking = true;
        self->jwks_asked_ms = now;
    }
    req->keys_wait = true;
    req->keys_fresh = true;
    gateway_new_id (self, req->wait_id);
    req->deadline = now + self->config.upstream_timeout_ms;
    req->retry_at = 0;
    gateway_pending_add (self, req, req->wait_id);
    if (req->stage != STAGE_WAITING) {
        req->stage = STAGE_WAITING;
        MHD_suspend_connection (req->connection);
    }
    return true;
}

enum MHD_Result gateway_sso_finish (self_t *self, request_t *req)
{
    if (req->fail || req->idp_status == 0) {
        if (self->stopping)
            return s_page (req, 503, "Sign-in failed", "The gateway is stopping; try again.");
        return s_page (req, 502, "Sign-in failed",
                       "The identity provider could not be reached; try again shortly.");
    }
    json_t *answer = json_loads (req->idp_body ? req->idp_body : "", 0, NULL);
    const char *id_token = json_string_value (json_object_get (answer, "id_token"));
    if (req->idp_status != 200 || !id_token) {
        const char *err = json_string_value (json_object_get (answer, "error"));
        pmo_warn ("gateway: code exchange refused status=%d error=%.40s", req->idp_status,
                  s_token_like (err, 40) ? err : "?");
        json_decref (answer);
        return s_page (req, 502, "Sign-in failed",
                       "The identity provider refused to exchange the sign-in code; start again.");
    }
    json_t *login = json_loads (req->login ? req->login : "", 0, NULL);
    const char *nonce = json_string_value (json_object_get (login, "nonce"));
    json_t *claims = NULL;
    char why[200];
    gateway_jwt_t rc =
        gateway_oidc_verify (self->oidc, id_token, gateway_oidc_client_id (self->oidc),
                             nonce ? nonce : "", pmo_now_ms (), &claims, why, sizeof why);
    if (rc == GATEWAY_JWT_UNKNOWN_KEY && s_keys_wait (self, req)) {
        json_decref (answer);
        json_decref (login);
        return MHD_YES; //  finished again when the key set came
    }
    enum MHD_Result result;
    if (rc != GATEWAY_JWT_OK) {
        pmo_warn ("gateway: ID token refused reason=\"%s\"", why);
        result =
            s_page (req, 403, "Sign-in refused", "The identity provider's answer was refused.");
    } else {
        char secret[65], hash[GATEWAY_HASH_HEX], id[24];
        int ttl = gateway_oidc_session_ttl_s (self->oidc);
        gateway_oidc_random (secret, 32);
        gateway_sha256_hex (secret, strlen (secret), hash);
        snprintf (id, sizeof id, "sso-%.12s", hash);
        Pmo__ApiToken *caller = gateway_oidc_caller (
            self->oidc, claims, id, pmo_now_ms () + (int64_t)ttl * 1000, why, sizeof why);
        if (!caller) {
            pmo_warn ("gateway: sign-in refused reason=\"%s\"", why);
            result = s_page (req, 403, "Sign-in refused", why);
        } else if (caller->n_grants == 0) {
            pmo_info ("gateway: sign-in without grants subject=%s", caller->subject);
            result = s_page (req, 403, "No access",
                             "You are signed in with the identity provider, but no role in any "
                             "org unit is mapped to you. Ask your pmo administrator.");
        } else {
            size_t size = protobuf_c_message_get_packed_size (&caller->base);
            uint8_t *blob = malloc (size ? size : 1);
            assert (blob);
            protobuf_c_message_pack (&caller->base, blob);
            int stored = gateway_store_session_put (self->store, hash, blob, size, id_token, ttl);
            free (blob);
            if (stored)
                result = s_page (req, 503, "Sign-in failed",
                                 "The session store (Redis) is unavailable; try again shortly.");
            else {
                pmo_info ("gateway: signed in subject=%s session=%s grants=%zu", caller->subject,
                          id, caller->n_grants);
                result = s_redirect (req, "/",
                                     s_cookie (self, SESSION_COOKIE, secret, "/", "Strict", ttl),
                                     s_cookie (self, LOGIN_COOKIE, "", "/auth/", "Lax", 0));
            }
        }
        if (caller)
            pmo__api_token__free_unpacked (caller, NULL);
    }
    json_decref (claims);
    json_decref (answer);
    json_decref (login);
    return result;
}

//  ---------------------------------------------------------------------
//  POST /auth/logout

static enum MHD_Result s_logout (self_t *self, request_t *req)
{
    const char *secret =
        MHD_lookup_connection_value (req->connection, MHD_COOKIE_KIND, SESSION_COOKIE);
    const char *csrf_sent =
        MHD_lookup_connection_value (req->connection, MHD_HEADER_KIND, "X-CSRF-Token");
    char end_session[4096] = "";
    if (secret && s_token_like (secret, 64)) {
        char csrf[GATEWAY_HASH_HEX];
        s_csrf (secret, csrf);
        if (!csrf_sent || !gateway_hash_equal (csrf, csrf_sent))
            return gateway_http_problem (req, 403, "forbidden", "X-CSRF-Token",
                                         "signing out needs the session's X-CSRF-Token", NULL, NULL,
                                         NULL);
        char hash[GATEWAY_HASH_HEX];
        gateway_sha256_hex (secret, strlen (secret), hash);
        pmo_arena_t *arena = pmo_arena_new ();
        Pmo__ApiToken *token = NULL;
        char *id_token = NULL;
        int rc = gateway_store_session_get (self->store, arena, hash, &token, &id_token);
        if (rc >= 0)
            rc = gateway_store_session_drop (self->store, hash);
        if (rc < 0) {
            pmo_arena_destroy (&arena);
            return gateway_http_problem (req, 503, "unavailable", "",
                                         "the session store (Redis) is unavailable; retry shortly",
                                         NULL, "Retry-After", "1");
        }
        //  The provider's own sign-out (RP-Initiated Logout 1.0), when it
        //  offers one and we have somewhere to come back to
        const char *endpoint = gateway_oidc_endpoint (self->oidc, "end_session_endpoint");
        const char *back = gateway_oidc_post_logout_uri (self->oidc);
        if (token && endpoint && *endpoint && *back && id_token && *id_token) {
            char *hint = gateway_oidc_urlencode (id_token);
            char *uri = gateway_oidc_urlencode (back);
            char *client = gateway_oidc_urlencode (gateway_oidc_client_id (self->oidc));
            snprintf (end_session, sizeof end_session,
                      "%s%sid_token_hint=%s&post_logout_redirect_uri=%s&client_id=%s", endpoint,
                      strchr (endpoint, '?') ? "&" : "?", hint, uri, client);
            if (strlen (end_session) >= sizeof end_session - 1)
                *end_session = 0; //  too long for a URL anyone should follow
            free (hint);
            free (uri);
            free (client);
        }
        if (token)
            pmo_info ("gateway: signed out subject=%s", token->subject);
        pmo_arena_destroy (&arena);
    }
    json_t *doc = json_pack ("{s:b, s:s}", "signed_out", 1, "end_session", end_session);
    char *body = json_dumps (doc, JSON_COMPACT);
    json_decref (doc);
    struct MHD_Response *response;
    gateway_http_send (req, 200, "application/json", body, strlen (body), &response);
    char *clear = s_cookie (self, SESSION_COOKIE, "", "/", "Strict", 0);
    MHD_add_response_header (response, "Set-Cookie", clear);
    MHD_add_response_header (response, "Cache-Control", "no-store");
    zstr_free (&clear);
    return gateway_http_queue (req, response);
}

//  ---------------------------------------------------------------------
//  Dispatch of /auth/...

enum MHD_Result gateway_sso_dispatch (self_t *self, request_t *req, const char *url,
                                      const char *method)
{
    bool get = strcmp (method, "GET") == 0 || strcmp (method, "HEAD") == 0;
    bool post = strcmp (method, "POST") == 0;
    if (strcmp (url, "/auth/config") == 0 && get) {
        json_t *doc = self->oidc ? json_pack ("{s:b, s:s, s:s}", "sso", 1, "login", "/auth/login",
                                              "issuer", gateway_oidc_issuer (self->oidc))
                                 : json_pack ("{s:b}", "sso", 0);
        return gateway_http_json (req, 200, doc, 0, NULL, NULL);
    }
    bool known = strcmp (url, "/auth/login") == 0 || strcmp (url, "/auth/callback") == 0 ||
                 strcmp (url, "/auth/logout") == 0;
    if (!known || !self->oidc)
        return gateway_http_problem (req, 404, "not_found", "",
                                     known ? "single sign-on is not configured on this gateway"
                                           : "no such resource",
                                     NULL, NULL, NULL);
    bool logout = strcmp (url, "/auth/logout") == 0;
    if (logout ? !post : !get)
        return gateway_http_problem (req, 405, "method_not_allowed", "", "see Allow", NULL, "Allow",
                                     logout ? "POST" : "GET, HEAD");
    if (req->size > 0)
        return gateway_http_problem (req, 400, "invalid", "", "this request takes no body", NULL,
                                     NULL, NULL);
    if (logout)
        return s_logout (self, req);
    return strcmp (url, "/auth/login") == 0 ? s_login (self, req) : s_callback (self, req);
}

//  ---------------------------------------------------------------------
//  The provider's client said something

void gateway_sso_idp_said (self_t *self)
{
    zmsg_t *msg = zmsg_recv (zactor_sock (self->idp));
    char *command = msg ? zmsg_popstr (msg) : NULL;
    if (command && streq (command, "DISCOVERY")) {
        char *text = zmsg_popstr (msg), why[512];
        if (text && gateway_oidc_set_discovery (self->oidc, text, strlen (text), why, sizeof why))
            pmo_warn ("gateway: %s", why);
        zstr_free (&text);
    } else if (command && streq (command, "JWKS")) {
        char *text = zmsg_popstr (msg);
        if (text && *text) {
            int n = gateway_oidc_set_jwks (self->oidc, text, strlen (text));
            if (n < 0)
                pmo_warn ("gateway: the provider's key set is not a JWKS");
            else
                pmo_info ("gateway: provider key set keys=%d", n);
        }
        zstr_free (&text);
        self->jwks_asking = false;
        //  Everyone waiting for the keys goes on (and is refused if its key
        //  is still unknown)
        zlistx_t *ready = zlistx_new ();
        for (request_t *req = zhashx_first (self->pending); req; req = zhashx_next (self->pending))
            if (req->keys_wait)
                zlistx_add_end (ready, req);
        for (request_t *req = zlistx_first (ready); req; req = zlistx_next (ready)) {
            zhashx_delete (self->pending, req->wait_id);
            req->keys_wait = false;
            gateway_ready (req);
        }
        zlistx_destroy (&ready);
    } else if (command && streq (command, "TOKEN")) {
        char *wait_id = zmsg_popstr (msg), *status = zmsg_popstr (msg), *body = zmsg_popstr (msg);
        request_t *req = wait_id ? zhashx_lookup (self->pending, wait_id) : NULL;
        if (req && req->kind == KIND_SSO && !req->keys_wait) {
            zhashx_delete (self->pending, wait_id);
            req->idp_status = status ? atoi (status) : 0;
            req->idp_body = body;
            body = NULL;
            gateway_ready (req);
        }
        zstr_free (&wait_id);
        zstr_free (&status);
        zstr_free (&body);
    }
    zstr_free (&command);
    zmsg_destroy (&msg);
}

//  ---------------------------------------------------------------------
//  Who is asking: an access token, or a session

//  A caller from a verified token: set req->caller.
static void s_set_caller (request_t *req, Pmo__ApiToken *token)
{
    req->caller.token = token;
    pmo__identity__init (&req->caller.identity);
    req->caller.identity.subject = token->subject;
    req->caller.identity.grants = token->grants;
    req->caller.identity.n_grants = token->n_grants;
    req->caller.identity.token_id = token->id;
    //  Events record how the person signed in: the provider's access token
    //  or the dashboard session (its stored token's id)
    snprintf (req->caller.via, sizeof req->caller.via, "sso:%s", token->id ? token->id : "");
    req->caller.identity.via = req->caller.via;
}

int gateway_sso_bearer (self_t *self, request_t *req, const char *jwt, enum MHD_Result *answered)
{
    json_t *claims = NULL;
    char why[200];
    gateway_jwt_t rc = gateway_oidc_verify (self->oidc, jwt, gateway_oidc_audience (self->oidc),
                                            NULL, pmo_now_ms (), &claims, why, sizeof why);
    if (rc == GATEWAY_JWT_UNKNOWN_KEY && s_keys_wait (self, req)) {
        req->kind = KIND_KEYS;
        *answered = MHD_YES; //  dispatched again when the key set came
        return -1;
    }
    Pmo__ApiToken *token = NULL;
    if (rc == GATEWAY_JWT_OK) {
        //  The rate bucket and idempotency keys are the person's, whichever
        //  of their access tokens they send
        const char *sub = json_string_value (json_object_get (claims, "sub"));
        char *who = zsys_sprintf ("%s\n%s", gateway_oidc_issuer (self->oidc), sub ? sub : "");
        char hash[GATEWAY_HASH_HEX], id[24];
        gateway_sha256_hex (who, strlen (who), hash);
        zstr_free (&who);
        snprintf (id, sizeof id, "jwt-%.12s", hash);
        json_t *exp = json_object_get (claims, "exp");
        token = gateway_oidc_caller (self->oidc, claims, id,
                                     (int64_t)json_number_value (exp) * 1000, why, sizeof why);
        json_decref (claims);
    }
    if (token) {
        s_set_caller (req, token);
        return 0;
    }
    pmo_warn ("gateway: refused access token reason=\"%s\"", why);
    char *detail = zsys_sprintf ("the access token was refused: %s", why);
    *answered =
        gateway_http_problem (req, 401, "unauthenticated", "Authorization", detail, NULL,
                              "WWW-Authenticate", "Bearer realm=\"pmo\", error=\"invalid_token\"");
    zstr_free (&detail);
    return -1;
}

int gateway_sso_cookie (self_t *self, request_t *req, const char *method, enum MHD_Result *answered)
{
    const char *secret =
        MHD_lookup_connection_value (req->connection, MHD_COOKIE_KIND, SESSION_COOKIE);
    if (!self->oidc || !secret || !*secret)
        return 1;
    const char *why = "the session is unknown or has ended; sign in again";
    if (s_token_like (secret, 64)) {
        char hash[GATEWAY_HASH_HEX];
        gateway_sha256_hex (secret, strlen (secret), hash);
        pmo_arena_t *arena = pmo_arena_new ();
        Pmo__ApiToken *stored = NULL;
        char *id_token = NULL;
        int rc = gateway_store_session_get (self->store, arena, hash, &stored, &id_token);
        if (rc < 0) {
            pmo_arena_destroy (&arena);
            *answered =
                gateway_http_problem (req, 503, "unavailable", "",
                                      "the session store (Redis) is unavailable; retry shortly",
                                      NULL, "Retry-After", "1");
            return -1;
        }
        Pmo__ApiToken *token = NULL;
        if (rc == 1 && stored->expires_ms > pmo_now_ms ()) {
            //  A copy the request owns (the arena goes now)
            token = (Pmo__ApiToken *)pmo_reflect_dup (&stored->base);
        }
        pmo_arena_destroy (&arena);
        if (token) {
            s_csrf (secret, req->caller.csrf);
            bool safe = strcmp (method, "GET") == 0 || strcmp (method, "HEAD") == 0;
            const char *sent =
                MHD_lookup_connection_value (req->connection, MHD_HEADER_KIND, "X-CSRF-Token");
            if (safe || (sent && gateway_hash_equal (req->caller.csrf, sent))) {
                s_set_caller (req, token);
                return 0;
            }
            pmo__api_token__free_unpacked (token, NULL);
            *req->caller.csrf = 0;
            *answered = gateway_http_problem (
                req, 403, "forbidden", "X-CSRF-Token",
                "a change signed in by session cookie needs the session's X-CSRF-Token header",
                NULL, NULL, NULL);
            return -1;
        }
    }
    *answered = gateway_http_problem (req, 401, "unauthenticated", "Cookie", why, NULL,
                                      "WWW-Authenticate", "Bearer realm=\"pmo\"");
    return -1;
}
