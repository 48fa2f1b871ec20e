/*  gateway_auth.c: who is asking, and may they now. Bearer tokens are
    read from the store (and cached for token_cache_ms; a revocation drops
    one at once), checked against their hash, and limited by a bucket per
    token. With single sign-on, a JWT bearer (the provider's access token)
    and the dashboard's session cookie are checked by gateway_session.c.
*/
#include "gateway_internal.h"
#include "gateway_model.h"

#include "pmo_json.h"
#include "pmo_log.h"
#include "pmo_reflect.h"
#include "pmo_util.h"

#include <assert.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define TOKENS_MAX 10000 //  cached tokens (and rate buckets); past this the cache starts over

//  Let go of one reference to a cached token.
static void s_cached_release (cached_t *cached)
{
    if (cached && --cached->refs == 0) {
        pmo__api_token__free_unpacked (cached->token, NULL);
        free (cached);
    }
}

void gateway_caller_clear (caller_t *caller)
{
    if (caller->held)
        s_cached_release (caller->held);
    else if (caller->token)
        pmo__api_token__free_unpacked (caller->token, NULL);
    caller->held = NULL;
    caller->token = NULL;
}

void gateway_cached_free (void **item)
{
    s_cached_release (*item);
    *item = NULL;
}

void gateway_bucket_free (void **item)
{
    free (*item);
    *item = NULL;
}

//  The stored token of id, from the cache or Redis. 1 found, 0 not, -1
//  Redis failed. *held is a reference to the cache's entry (unpacked once
//  per read from the store, not per request), released with
//  s_cached_release.
static int s_token_read (self_t *self, const char *id, cached_t **held)
{
    *held = NULL;
    int64_t now = pmo_mono_ms ();
    cached_t *cached = zhashx_lookup (self->tokens, id);
    if (cached && now - cached->read_ms < self->config.token_cache_ms) {
        cached->refs++;
        *held = cached;
        return 1;
    }
    pmo_arena_t *arena = pmo_arena_new ();
    Pmo__ApiToken *stored;
    int rc = gateway_store_read (self->store, arena, id, &stored, NULL);
    if (rc == 1) {
        //  A copy of its own, outside the arena
        Pmo__ApiToken *token = (Pmo__ApiToken *)pmo_reflect_dup (&stored->base);
        if (token) {
            cached_t *fresh = calloc (1, sizeof (cached_t));
            assert (fresh);
            fresh->token = token;
            fresh->read_ms = now;
            fresh->refs = 2; //  the cache's and the caller's
            if (zhashx_size (self->tokens) >= TOKENS_MAX)
                zhashx_purge (self->tokens);
            zhashx_delete (self->tokens, id);
            zhashx_insert (self->tokens, id, fresh);
            *held = fresh;
        } else
            rc = -1;
    }
    pmo_arena_destroy (&arena);
    return rc;
}

//  A request without a valid token: 401, or 429 once its address has sent
//  too many (wait: the seconds until it may again).
static int s_refuse (self_t *self, request_t *req, const char *why, int wait,
                     enum MHD_Result *answered)
{
    if (wait) {
        gateway_metrics_rate_limited (self->metrics);
        char seconds[16];
        snprintf (seconds, sizeof seconds, "%d", wait);
        *answered = gateway_http_problem (
            req, 429, "rate_limited", "Authorization",
            "too many requests without a valid token from this address; wait and retry", NULL,
            "Retry-After", seconds);
        return -1;
    }
    gateway_edge_failed (self, req);
    *answered = gateway_http_problem (req, 401, "unauthenticated", "Authorization", why, NULL,
                                      "WWW-Authenticate", "Bearer realm=\"pmo\"");
    return -1;
}

//  Authenticate the bearer token. 0, or an answer was queued (*answered).
//  An address that sent too many requests without a valid token gets 429
//  for those: at once for no token or a malformed one, after the lookup for
//  a well-formed one (so that a good token behind that address still
//  works).
int gateway_authenticate (self_t *self, request_t *req, const char *method,
                          enum MHD_Result *answered)
{
    const char *header =
        MHD_lookup_connection_value (req->connection, MHD_HEADER_KIND, "Authorization");
    //  No Authorization: the dashboard's single sign-on session, if any
    int session = header ? 1 : gateway_sso_cookie (self, req, method, answered);
    if (session <= 0)
        return session;
    char id[GATEWAY_TOKEN_ID_LEN + 1];
    const char *presented = NULL;
    if (header && strncasecmp (header, "Bearer ", 7) == 0) {
        presented = header + 7;
        while (*presented == ' ')
            presented++;
    }
    const char *why = "send Authorization: Bearer <token>";
    bool parsed = presented && gateway_token_parse (presented, id) == 0;
    //  The address's failures are looked at only for a request that may be
    //  refused: a well-formed token's after its lookup failed (formatting
    //  the address and finding its bucket cost a valid request 2k
    //  instructions for nothing)
    int wait = 0;
    if (!parsed && !(presented && self->oidc && gateway_oidc_is_jwt (presented))) {
        wait = gateway_edge_failures_wait (self, req);
        if (wait)
            return s_refuse (self, req, why, wait, answered);
    }
    if (parsed) {
        cached_t *held = NULL;
        int rc = s_token_read (self, id, &held);
        const Pmo__ApiToken *token = held ? held->token : NULL;
        if (rc < 0) {
            *answered = gateway_http_problem (
                req, 503, "unavailable", "",
                "the token store (Redis) is unavailable; retry shortly", NULL, "Retry-After", "1");
            return -1;
        }
        //  The secret is checked against the stored SHA-256 once per cache
        //  entry; the same token presented again is known by a keyed hash
        //  of it (SipHash-128 with a key of this run's: 0.3k instructions
        //  where the SHA-256 took 6k). Anything else, another secret
        //  included, gets the full check.
        uint8_t seen[sizeof held->seen] = {0};
        bool known = false;
        if (rc == 1) {
            crypto_shorthash_siphashx24 (seen, (const unsigned char *)presented, strlen (presented),
                                         self->seen_key);
            known = held->seen_set && sodium_memcmp (seen, held->seen, sizeof seen) == 0;
        }
        char hash[GATEWAY_HASH_HEX] = "";
        if (rc == 1 && !known)
            gateway_sha256_hex (presented, strlen (presented), hash);
        bool matches = known || (rc == 1 && gateway_hash_equal (hash, token->hash));
        if (matches && !known) {
            memcpy (held->seen, seen, sizeof seen);
            held->seen_set = true;
        }
        if (rc == 1 && matches && !token->revoked &&
            (!token->expires_ms || token->expires_ms > pmo_now_ms ())) {
            req->caller.token = held->token;
            req->caller.held = held;
            pmo__identity__init (&req->caller.identity);
            req->caller.identity.subject = token->subject;
            req->caller.identity.grants = token->grants;
            req->caller.identity.n_grants = token->n_grants;
            req->caller.identity.token_id = token->id;
            //  Events record which token acted, not only whose
            gateway_join (req->caller.via, sizeof req->caller.via, "token:", token->id);
            req->caller.identity.via = req->caller.via;
            return 0;
        }
        //  The id is public; the secret never reaches a log
        pmo_warn ("gateway: refused token=%s reason=%s", id,
                  rc == 0          ? "unknown"
                  : !matches       ? "wrong secret"
                  : token->revoked ? "revoked"
                                   : "expired");
        s_cached_release (held);
        why = "the token is unknown, revoked or expired";
        wait = gateway_edge_failures_wait (self, req);
    } else if (presented && self->oidc && gateway_oidc_is_jwt (presented))
        return gateway_sso_bearer (self, req, presented, answered);
    else if (presented)
        why = self->oidc ? "that is neither a pmo API token (pmo_<id>_<secret>) nor an access "
                           "token (JWT)"
                         : "that is not a pmo API token (pmo_<id>_<secret>)";
    return s_refuse (self, req, why, wait, answered);
}

//  Take one request from the caller's bucket. 0, or the seconds to wait.
int gateway_rate_take (self_t *self, const Pmo__ApiToken *token)
{
    double rate = token->rate_per_s ? (double)token->rate_per_s : (double)self->config.rate_per_s;
    if (rate <= 0)
        return 0;
    double burst = self->config.rate_burst > rate ? self->config.rate_burst : rate;
    int64_t now = pmo_mono_ms ();
    bucket_t *bucket = zhashx_lookup (self->buckets, token->id);
    if (!bucket) {
        if (zhashx_size (self->buckets) >= TOKENS_MAX)
            zhashx_purge (self->buckets);
        bucket = calloc (1, sizeof (bucket_t));
        assert (bucket);
        bucket->tokens = burst;
        bucket->last_ms = now;
        zhashx_insert (self->buckets, token->id, bucket);
    }
    bucket->tokens += (double)(now - bucket->last_ms) * rate / 1000.0;
    if (bucket->tokens > burst)
        bucket->tokens = burst;
    bucket->last_ms = now;
    if (bucket->tokens >= 1) {
        bucket->tokens -= 1;
        return 0;
    }
    return (int)((1 - bucket->tokens) / rate) + 1;
}

enum MHD_Result gateway_whoami (self_t *self, request_t *req)
{
    json_t *token = pmo_json_from_message (&req->caller.token->base);
    gateway_json_strip (token, "hash");
    json_t *doc =
        json_pack ("{s:s, s:O, s:O, s:s}", "subject", req->caller.token->subject, "grants",
                   json_object_get (token, "grants"), "token", token, "hub", self->config.hub);
    json_decref (token);
    //  Signed in by session cookie: the dashboard sends this back with
    //  every change (X-CSRF-Token)
    if (*req->caller.csrf)
        json_object_set_new (doc, "csrf", json_string (req->caller.csrf));
    return gateway_http_json (req, 200, doc, 0, NULL, NULL);
}
