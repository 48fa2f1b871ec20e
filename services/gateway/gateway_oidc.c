/*  gateway_oidc.c: single sign-on, the rules without I/O: the
    configuration, the provider's documents, JWT verification (libcjose)
    and claims to grants. See gateway_oidc.h.
*/
#include "gateway_oidc.h"

#include "pmo_json.h"
#include "pmo_log.h"

#include <assert.h>
#include <cjose/cjose.h>
#include <nettle/sha2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#define KEYS_MAX    32 //  signing keys kept from a key set
#define RULES_MAX   256
#define TEXT_MAX    2048 //  longest configured URL or claim name
#define SESSION_MIN 60

//  One mapping rule: a claim holding (or containing) value gives grants.
typedef struct {
    char *claim;
    char *value;
    json_t *grants; //  array of Grant objects, checked at load
} rule_t;

typedef struct {
    cjose_jwk_t *jwk;
    char *kid; //  "" if the key has none
    cjose_jwk_kty_t kty;
} key_t_;

struct _gateway_oidc_t {
    char *issuer, *client_id, *client_secret, *redirect_uri, *post_logout_uri, *audience,
        *subject_claim, *scopes;
    int session_ttl_s;
    int jwks_refresh_s;
    int jwks_min_interval_ms;
    int clock_skew_s;
    rule_t rules[RULES_MAX];
    size_t n_rules;
    //  From the provider
    json_t *discovery;
    key_t_ keys[KEYS_MAX];
    size_t n_keys;
};

//  ---------------------------------------------------------------------
//  Configuration

static int s_fail (char *error, size_t size, const char *path, const char *what)
{
    snprintf (error, size, "%s: %s", path, what);
    return -1;
}

//  A string member (required or with a default). 0, or -1 (error said).
static int s_string (json_t *doc, const char *name, const char *fallback, char **out,
                     const char *path, char *error, size_t size)
{
    json_t *value = json_object_get (doc, name);
    if (!value && fallback) {
        *out = strdup (fallback);
        return 0;
    }
    char what[160];
    if (!json_is_string (value) || json_string_length (value) > TEXT_MAX ||
        (!fallback && json_string_length (value) == 0)) {
        snprintf (what, sizeof what, "\"%s\" must be %sa string of at most %d characters", name,
                  fallback ? "" : "a non-empty ", TEXT_MAX);
        return s_fail (error, size, path, what);
    }
    *out = strdup (json_string_value (value));
    return 0;
}

static int s_int (json_t *doc, const char *name, int fallback, int min, int max, int *out,
                  const char *path, char *error, size_t size)
{
    json_t *value = json_object_get (doc, name);
    *out = fallback;
    if (!value)
        return 0;
    if (!json_is_integer (value) || json_integer_value (value) < min ||
        json_integer_value (value) > max) {
        char what[160];
        snprintf (what, sizeof what, "\"%s\" must be an integer from %d to %d", name, min, max);
        return s_fail (error, size, path, what);
    }
    *out = (int)json_integer_value (value);
    return 0;
}

static bool s_http_url (const char *url)
{
    return strncmp (url, "https://", 8) == 0 || strncmp (url, "http://", 7) == 0;
}

static int s_rules (gateway_oidc_t *self, json_t *rules, const char *path, char *error, size_t size)
{
    char what[300];
    if (!json_is_array (rules) || json_array_size (rules) > RULES_MAX)
        return s_fail (error, size, path, "\"grants\" must be an array of at most 256 rules");
    size_t i;
    json_t *rule;
    json_array_foreach (rules, i, rule)
    {
        json_t *claim = json_object_get (rule, "claim");
        json_t *value = json_object_get (rule, "value");
        json_t *grants = json_object_get (rule, "grants");
        if (!json_is_object (rule) || !json_is_string (claim) || !json_string_length (claim) ||
            !json_is_string (value) || !json_string_length (value) || !json_is_array (grants) ||
            !json_array_size (grants) || json_object_size (rule) != 3) {
            snprintf (what, sizeof what,
                      "grants[%zu] must be {\"claim\": \"...\", \"value\": \"...\", \"grants\": "
                      "[{\"role\": \"viewer\", \"org_unit\": \"...\"}, ...]}",
                      i);
            return s_fail (error, size, path, what);
        }
        size_t j;
        json_t *grant;
        json_array_foreach (grants, j, grant)
        {
            ProtobufCMessage *parsed = NULL;
            pmo_json_error_t err;
            if (pmo_json_to_message (&pmo__grant__descriptor, grant, &parsed, &err)) {
                snprintf (what, sizeof what, "grants[%zu].grants[%zu].%.60s: %.160s", i, j,
                          err.field, err.message);
                return s_fail (error, size, path, what);
            }
            Pmo__Grant *g = (Pmo__Grant *)parsed;
            bool ok = g->role != PMO__ROLE__ROLE_UNSPECIFIED && g->org_unit && *g->org_unit;
            protobuf_c_message_free_unpacked (parsed, NULL);
            if (!ok) {
                snprintf (what, sizeof what, "grants[%zu].grants[%zu] needs a role and an org_unit",
                          i, j);
                return s_fail (error, size, path, what);
            }
        }
        rule_t *r = &self->rules[self->n_rules++];
        r->claim = strdup (json_string_value (claim));
        r->value = strdup (json_string_value (value));
        r->grants = json_incref (grants);
    }
    return 0;
}

gateway_oidc_t *gateway_oidc_load (const char *path, char *error, size_t size)
{
    json_error_t jerr;
    json_t *doc = json_load_file (path, JSON_REJECT_DUPLICATES, &jerr);
    if (!doc) {
        snprintf (error, size, "%s: line %d column %d: %s", path, jerr.line, jerr.column,
                  jerr.text);
        return NULL;
    }
    gateway_oidc_t *self = calloc (1, sizeof (gateway_oidc_t));
    assert (self);
    static const char *known[] = {"issuer",
                                  "client_id",
                                  "client_secret",
                                  "redirect_uri",
                                  "post_logout_redirect_uri",
                                  "audience",
                                  "subject_claim",
                                  "scopes",
                                  "session_ttl_s",
                                  "jwks_refresh_s",
                                  "jwks_min_interval_ms",
                                  "clock_skew_s",
                                  "grants",
                                  NULL};
    int rc = json_is_object (doc) ? 0 : s_fail (error, size, path, "must be a JSON object");
    const char *name;
    json_t *value;
    json_object_foreach (json_is_object (doc) ? doc : NULL, name, value)
    {
        bool ok = false;
        for (size_t i = 0; known[i] && !ok; i++)
            ok = strcmp (known[i], name) == 0;
        if (!ok && rc == 0) {
            char what[200];
            snprintf (what, sizeof what, "unknown member \"%.100s\"", name);
            rc = s_fail (error, size, path, what);
        }
    }
    if (rc == 0)
        rc = s_string (doc, "issuer", NULL, &self->issuer, path, error, size) ||
                     s_string (doc, "client_id", NULL, &self->client_id, path, error, size) ||
                     s_string (doc, "client_secret", "", &self->client_secret, path, error, size) ||
                     s_string (doc, "redirect_uri", NULL, &self->redirect_uri, path, error, size) ||
                     s_string (doc, "post_logout_redirect_uri", "", &self->post_logout_uri, path,
                               error, size) ||
                     s_string (doc, "audience", NULL, &self->audience, path, error, size) ||
                     s_string (doc, "subject_claim", "sub", &self->subject_claim, path, error,
                               size) ||
                     s_string (doc, "scopes", "openid profile email", &self->scopes, path, error,
                               size) ||
                     s_int (doc, "session_ttl_s", 8 * 3600, SESSION_MIN, 30 * 86400,
                            &self->session_ttl_s, path, error, size) ||
                     s_int (doc, "jwks_refresh_s", 300, 1, 86400, &self->jwks_refresh_s, path,
                            error, size) ||
                     s_int (doc, "jwks_min_interval_ms", 10000, 0, 3600000,
                            &self->jwks_min_interval_ms, path, error, size) ||
                     s_int (doc, "clock_skew_s", 60, 0, 600, &self->clock_skew_s, path, error,
                            size) ||
                     s_rules (self, json_object_get (doc, "grants"), path, error, size)
                 ? -1
                 : 0;
    if (rc == 0 && (!s_http_url (self->issuer) || !s_http_url (self->redirect_uri)))
        rc = s_fail (error, size, path, "\"issuer\" and \"redirect_uri\" must be http(s) URLs");
    if (rc == 0 && *self->post_logout_uri && !s_http_url (self->post_logout_uri))
        rc = s_fail (error, size, path, "\"post_logout_redirect_uri\" must be an http(s) URL");
    json_decref (doc);
    if (rc) {
        gateway_oidc_destroy (&self);
        return NULL;
    }
    return self;
}

static void s_keys_clear (gateway_oidc_t *self)
{
    for (size_t i = 0; i < self->n_keys; i++) {
        cjose_jwk_release (self->keys[i].jwk);
        free (self->keys[i].kid);
    }
    self->n_keys = 0;
}

void gateway_oidc_destroy (gateway_oidc_t **self_p)
{
    assert (self_p);
    gateway_oidc_t *self = *self_p;
    if (!self)
        return;
    free (self->issuer);
    free (self->client_id);
    free (self->client_secret);
    free (self->redirect_uri);
    free (self->post_logout_uri);
    free (self->audience);
    free (self->subject_claim);
    free (self->scopes);
    for (size_t i = 0; i < self->n_rules; i++) {
        free (self->rules[i].claim);
        free (self->rules[i].value);
        json_decref (self->rules[i].grants);
    }
    json_decref (self->discovery);
    s_keys_clear (self);
    free (self);
    *self_p = NULL;
}

const char *gateway_oidc_issuer (gateway_oidc_t *self)
{
    return self->issuer;
}
const char *gateway_oidc_client_id (gateway_oidc_t *self)
{
    return self->client_id;
}
const char *gateway_oidc_client_secret (gateway_oidc_t *self)
{
    return self->client_secret;
}
const char *gateway_oidc_redirect_uri (gateway_oidc_t *self)
{
    return self->redirect_uri;
}
const char *gateway_oidc_post_logout_uri (gateway_oidc_t *self)
{
    return self->post_logout_uri;
}
const char *gateway_oidc_audience (gateway_oidc_t *self)
{
    return self->audience;
}
int gateway_oidc_session_ttl_s (gateway_oidc_t *self)
{
    return self->session_ttl_s;
}
int gateway_oidc_jwks_refresh_s (gateway_oidc_t *self)
{
    return self->jwks_refresh_s;
}
int gateway_oidc_jwks_min_interval_ms (gateway_oidc_t *self)
{
    return self->jwks_min_interval_ms;
}
bool gateway_oidc_cookie_secure (gateway_oidc_t *self)
{
    return strncmp (self->redirect_uri, "https://", 8) == 0;
}
const char *gateway_oidc_scopes (gateway_oidc_t *self)
{
    return self->scopes;
}

//  ---------------------------------------------------------------------
//  The provider's documents

int gateway_oidc_set_discovery (gateway_oidc_t *self, const char *text, size_t size, char *why,
                                size_t why_size)
{
    json_t *doc = json_loadb (text, size, 0, NULL);
    const char *issuer = json_string_value (json_object_get (doc, "issuer"));
    const char *missing = !json_is_object (doc) ? "a JSON object"
                          : !issuer             ? "issuer"
                          : !json_is_string (json_object_get (doc, "authorization_endpoint"))
                              ? "authorization_endpoint"
                          : !json_is_string (json_object_get (doc, "token_endpoint"))
                              ? "token_endpoint"
                          : !json_is_string (json_object_get (doc, "jwks_uri")) ? "jwks_uri"
                                                                                : NULL;
    if (missing) {
        snprintf (why, why_size, "the discovery document lacks %s", missing);
        json_decref (doc);
        return -1;
    }
    //  OpenID Connect Discovery 1.0 section 4.3: the issuer must be exactly
    //  the one configured, or a document from elsewhere could name its keys
    if (strcmp (issuer, self->issuer) != 0) {
        snprintf (why, why_size, "the discovery document names issuer \"%.200s\", not \"%.200s\"",
                  issuer, self->issuer);
        json_decref (doc);
        return -1;
    }
    json_decref (self->discovery);
    self->discovery = doc;
    return 0;
}

const char *gateway_oidc_endpoint (gateway_oidc_t *self, const char *name)
{
    if (!self->discovery)
        return NULL;
    const char *value = json_string_value (json_object_get (self->discovery, name));
    return value ? value : "";
}

static bool s_base64url (const char *text)
{
    if (!text || !*text)
        return false;
    for (const char *c = text; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
              *c == '-' || *c == '_'))
            return false;
    return true;
}

//  The public members of a JWK, each checked, or NULL. libcjose asserts
//  (aborts the process) on base64url with padding or other characters in
//  the middle (found by tests/fuzz/fuzz_http), and a key set comes from
//  the network: nothing unchecked reaches it, and no private member.
static json_t *s_public_jwk (json_t *key)
{
    const char *kty = json_string_value (json_object_get (key, "kty"));
    const char *kid = json_string_value (json_object_get (key, "kid"));
    const char *crv = json_string_value (json_object_get (key, "crv"));
    static const char *rsa[] = {"n", "e", NULL}, *ec[] = {"x", "y", NULL};
    const char **members = !kty                       ? NULL
                           : strcmp (kty, "RSA") == 0 ? rsa
                           : strcmp (kty, "EC") == 0  ? ec
                                                      : NULL;
    if (!members || (kid && strlen (kid) > 200) || (members == ec && !crv))
        return NULL;
    json_t *clean = json_pack ("{s:s}", "kty", kty);
    if (kid)
        json_object_set_new (clean, "kid", json_string (kid));
    if (crv)
        json_object_set_new (clean, "crv", json_string (crv));
    for (size_t i = 0; members[i]; i++) {
        const char *value = json_string_value (json_object_get (key, members[i]));
        if (!s_base64url (value) || strlen (value) > 2048) {
            json_decref (clean);
            return NULL;
        }
        json_object_set_new (clean, members[i], json_string (value));
    }
    return clean;
}

int gateway_oidc_set_jwks (gateway_oidc_t *self, const char *text, size_t size)
{
    json_t *doc = json_loadb (text, size, 0, NULL);
    json_t *keys = json_object_get (doc, "keys");
    if (!json_is_array (keys)) {
        json_decref (doc);
        return -1;
    }
    s_keys_clear (self);
    size_t i;
    json_t *key;
    json_array_foreach (keys, i, key)
    {
        if (self->n_keys == KEYS_MAX)
            break;
        const char *use = json_string_value (json_object_get (key, "use"));
        if (use && strcmp (use, "sig") != 0)
            continue; //  an encryption key is not for us
        json_t *clean = s_public_jwk (key);
        char *one = clean ? json_dumps (clean, JSON_COMPACT) : NULL;
        json_decref (clean);
        if (!one)
            continue;
        cjose_err err;
        cjose_jwk_t *jwk = cjose_jwk_import (one, strlen (one), &err);
        free (one);
        if (!jwk)
            continue;
        cjose_jwk_kty_t kty = cjose_jwk_get_kty (jwk, &err);
        if (kty != CJOSE_JWK_KTY_RSA && kty != CJOSE_JWK_KTY_EC) {
            cjose_jwk_release (jwk); //  a shared secret never verifies a provider's token
            continue;
        }
        const char *kid = json_string_value (json_object_get (key, "kid"));
        self->keys[self->n_keys++] = (key_t_){jwk, strdup (kid ? kid : ""), kty};
    }
    json_decref (doc);
    return (int)self->n_keys;
}

size_t gateway_oidc_key_count (gateway_oidc_t *self)
{
    return self->n_keys;
}

//  ---------------------------------------------------------------------
//  Verifying a JWT

bool gateway_oidc_is_jwt (const char *text)
{
    int dots = 0;
    size_t len = 0;
    for (const char *c = text; *c; c++, len++) {
        if (*c == '.')
            dots++;
        else if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
                   (*c >= '0' && *c <= '9') || *c == '-' || *c == '_'))
            return false;
    }
    return dots == 2 && len > 10;
}

//  The key type an allowed algorithm needs; 0 for one we refuse.
static cjose_jwk_kty_t s_alg_kty (const char *alg)
{
    static const char *rsa[] = {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"};
    static const char *ec[] = {"ES256", "ES384", "ES512"};
    for (size_t i = 0; alg && i < sizeof rsa / sizeof rsa[0]; i++)
        if (strcmp (alg, rsa[i]) == 0)
            return CJOSE_JWK_KTY_RSA;
    for (size_t i = 0; alg && i < sizeof ec / sizeof ec[0]; i++)
        if (strcmp (alg, ec[i]) == 0)
            return CJOSE_JWK_KTY_EC;
    return 0;
}

static bool s_has_audience (const json_t *aud, const char *audience)
{
    if (json_is_string (aud))
        return strcmp (json_string_value (aud), audience) == 0;
    size_t i;
    json_t *one;
    json_array_foreach (aud, i,
                        one) if (json_is_string (one) &&
                                 strcmp (json_string_value (one), audience) == 0) return true;
    return false;
}

//  The claims' own checks: issuer, audience, times, nonce.
static gateway_jwt_t s_check_claims (gateway_oidc_t *self, json_t *claims, const char *audience,
                                     const char *nonce, int64_t now_ms, char *why, size_t why_size)
{
    const char *iss = json_string_value (json_object_get (claims, "iss"));
    json_t *exp = json_object_get (claims, "exp");
    json_t *nbf = json_object_get (claims, "nbf");
    int64_t now = now_ms / 1000, skew = self->clock_skew_s;
    const char *fault = NULL;
    if (!iss || strcmp (iss, self->issuer) != 0)
        fault = "it was issued by another issuer";
    else if (!s_has_audience (json_object_get (claims, "aud"), audience))
        fault = "it is not meant for this audience";
    else if (!json_is_number (exp))
        fault = "it has no expiry (exp)";
    else if ((int64_t)json_number_value (exp) + skew <= now)
        fault = "it has expired";
    else if (nbf && (!json_is_number (nbf) || (int64_t)json_number_value (nbf) - skew > now))
        fault = "it is not valid yet (nbf)";
    else if (nonce) {
        const char *got = json_string_value (json_object_get (claims, "nonce"));
        if (!got || strcmp (got, nonce) != 0)
            fault = "its nonce is not the one of this sign-in";
    }
    if (fault) {
        snprintf (why, why_size, "%s", fault);
        return GATEWAY_JWT_REFUSED;
    }
    return GATEWAY_JWT_OK;
}

gateway_jwt_t gateway_oidc_verify (gateway_oidc_t *self, const char *jwt, const char *audience,
                                   const char *nonce, int64_t now_ms, json_t **claims, char *why,
                                   size_t why_size)
{
    *claims = NULL;
    cjose_err err;
    cjose_jws_t *jws =
        gateway_oidc_is_jwt (jwt) ? cjose_jws_import (jwt, strlen (jwt), &err) : NULL;
    if (!jws) {
        snprintf (why, why_size, "it is not a well-formed JWT");
        return GATEWAY_JWT_REFUSED;
    }
    cjose_header_t *header = cjose_jws_get_protected (jws);
    const char *alg = header ? cjose_header_get (header, CJOSE_HDR_ALG, &err) : NULL;
    const char *kid = header ? cjose_header_get (header, CJOSE_HDR_KID, &err) : NULL;
    cjose_jwk_kty_t kty = s_alg_kty (alg);
    gateway_jwt_t rc = GATEWAY_JWT_REFUSED;
    if (!kty) {
        snprintf (why, why_size, "its algorithm is not an allowed asymmetric signature");
        cjose_jws_release (jws);
        return rc;
    }
    //  The key its kid names; without a kid, any key of the right type
    bool known = false, verified = false;
    for (size_t i = 0; i < self->n_keys && !verified; i++) {
        if (self->keys[i].kty != kty || (kid && strcmp (kid, self->keys[i].kid) != 0))
            continue;
        known = true;
        verified = cjose_jws_verify (jws, self->keys[i].jwk, &err);
    }
    if (!known) {
        snprintf (why, why_size, "no key of the provider's key set signed it");
        cjose_jws_release (jws);
        return GATEWAY_JWT_UNKNOWN_KEY;
    }
    uint8_t *plain = NULL;
    size_t plain_size = 0;
    if (!verified)
        snprintf (why, why_size, "its signature does not verify");
    else if (!cjose_jws_get_plaintext (jws, &plain, &plain_size, &err) ||
             !(*claims = json_loadb ((const char *)plain, plain_size, 0, NULL)) ||
             !json_is_object (*claims))
        snprintf (why, why_size, "its claims are not a JSON object");
    else
        rc = s_check_claims (self, *claims, audience, nonce, now_ms, why, why_size);
    cjose_jws_release (jws);
    if (rc != GATEWAY_JWT_OK) {
        json_decref (*claims);
        *claims = NULL;
    }
    return rc;
}

//  ---------------------------------------------------------------------
//  Claims to grants

static bool s_claim_holds (const json_t *claim, const char *value)
{
    if (json_is_string (claim))
        return strcmp (json_string_value (claim), value) == 0;
    size_t i;
    json_t *one;
    json_array_foreach (claim, i, one) if (json_is_string (one) && strcmp (json_string_value (one),
                                                                           value) == 0) return true;
    return false;
}

static bool s_grant_equal (const json_t *a, const json_t *b)
{
    return json_equal ((json_t *)a, (json_t *)b);
}

Pmo__ApiToken *gateway_oidc_caller (gateway_oidc_t *self, const json_t *claims, const char *id,
                                    int64_t expires_ms, char *why, size_t why_size)
{
    const char *subject = json_string_value (json_object_get (claims, self->subject_claim));
    if (!subject || !*subject || strlen (subject) > 200) {
        snprintf (why, why_size, "the token has no \"%.100s\" claim to name you by",
                  self->subject_claim);
        return NULL;
    }
    json_t *grants = json_array ();
    for (size_t i = 0; i < self->n_rules; i++) {
        rule_t *rule = &self->rules[i];
        if (!s_claim_holds (json_object_get (claims, rule->claim), rule->value))
            continue;
        size_t j;
        json_t *grant;
        json_array_foreach (rule->grants, j, grant)
        {
            bool have = false;
            size_t k;
            json_t *held;
            json_array_foreach (grants, k, held) have = have || s_grant_equal (held, grant);
            if (!have)
                json_array_append (grants, grant);
        }
    }
    json_t *doc = json_pack ("{s:s, s:s, s:s, s:o, s:I, s:s}", "id", id, "name", "single sign-on",
                             "subject", subject, "grants", grants, "expires_ms",
                             (json_int_t)expires_ms, "created_by", self->issuer);
    ProtobufCMessage *token = NULL;
    pmo_json_error_t err;
    if (pmo_json_to_message (&pmo__api_token__descriptor, doc, &token, &err))
        snprintf (why, why_size, "the claims make no identity: %s %s", err.field, err.message);
    json_decref (doc);
    return (Pmo__ApiToken *)token;
}

//  ---------------------------------------------------------------------
//  Random values, PKCE, URLs

int gateway_oidc_random (char *out, size_t bytes)
{
    static const char hex[] = "0123456789abcdef";
    uint8_t raw[64];
    assert (bytes <= sizeof raw);
    size_t done = 0;
    while (done < bytes) {
        ssize_t got = getrandom (raw + done, bytes - done, 0);
        if (got <= 0)
            return -1;
        done += (size_t)got;
    }
    for (size_t i = 0; i < bytes; i++) {
        out[2 * i] = hex[raw[i] >> 4];
        out[2 * i + 1] = hex[raw[i] & 15];
    }
    out[2 * bytes] = 0;
    return 0;
}

void gateway_oidc_pkce_challenge (const char *verifier, char *challenge)
{
    //  RFC 7636 section 4.2: BASE64URL-ENCODE(SHA256(ASCII(code_verifier)))
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    struct sha256_ctx ctx;
    uint8_t d[SHA256_DIGEST_SIZE];
    sha256_init (&ctx);
    sha256_update (&ctx, strlen (verifier), (const uint8_t *)verifier);
    sha256_digest (&ctx, sizeof d, d);
    size_t o = 0;
    for (size_t i = 0; i < sizeof d; i += 3) {
        uint32_t n = (uint32_t)d[i] << 16;
        if (i + 1 < sizeof d)
            n |= (uint32_t)d[i + 1] << 8;
        if (i + 2 < sizeof d)
            n |= d[i + 2];
        challenge[o++] = b64[(n >> 18) & 63];
        challenge[o++] = b64[(n >> 12) & 63];
        if (i + 1 < sizeof d)
            challenge[o++] = b64[(n >> 6) & 63];
        if (i + 2 < sizeof d)
            challenge[o++] = b64[n & 63];
    }
    challenge[o] = 0;
}

char *gateway_oidc_urlencode (const char *text)
{
    static const char hex[] = "0123456789ABCDEF";
    char *out = malloc (strlen (text) * 3 + 1);
    assert (out);
    char *o = out;
    for (const unsigned char *c = (const unsigned char *)text; *c; c++) {
        if ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
            *c == '-' || *c == '_' || *c == '.' || *c == '~')
            *o++ = (char)*c;
        else {
            *o++ = '%';
            *o++ = hex[*c >> 4];
            *o++ = hex[*c & 15];
        }
    }
    *o = 0;
    return out;
}
