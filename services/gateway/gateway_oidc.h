/*  gateway_oidc.h: single sign-on with an OpenID Connect provider, the
    rules without I/O.

    The configuration file (--oidc FILE, JSON) names the provider (its
    issuer), the dashboard's client, the audience of the provider's access
    tokens the API accepts, and the rules that map claims (or groups) to
    grants per org unit. The provider's discovery document and its key set
    (JWKS) are fetched by gateway_idp (libcurl, off the reactor) and handed
    in here as text; every JWT (an ID token at sign-in, an access token on
    the API) is verified here with libcjose against that key set: the
    signature with the key its "kid" names (an allow-list of asymmetric
    algorithms: never "none" or a shared secret), the issuer, the audience,
    the expiry and not-before (with the configured clock skew), and for an
    ID token the nonce of the sign-in. An unknown "kid" says the provider
    may have rotated its keys: the caller fetches the key set again and
    tries once more.
*/
#ifndef GATEWAY_OIDC_H_INCLUDED
#define GATEWAY_OIDC_H_INCLUDED

#include "gateway.pb-c.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct _gateway_oidc_t gateway_oidc_t;

//  What gateway_oidc_verify says of a JWT.
typedef enum {
    GATEWAY_JWT_OK = 0,
    GATEWAY_JWT_REFUSED = -1,   //  bad form, signature, issuer, audience, time or nonce
    GATEWAY_JWT_UNKNOWN_KEY = 1 //  no key of that kid (yet): fetch the key set, try again
} gateway_jwt_t;

//  Read the configuration file. NULL if it cannot be read or is wrong;
//  then error (size bytes) says what and where.
gateway_oidc_t *gateway_oidc_load (const char *path, char *error, size_t size);
void gateway_oidc_destroy (gateway_oidc_t **self_p);

//  The configured values.
const char *gateway_oidc_issuer (gateway_oidc_t *self);
const char *gateway_oidc_client_id (gateway_oidc_t *self);
const char *gateway_oidc_client_secret (gateway_oidc_t *self); //  "" for a public client
const char *gateway_oidc_redirect_uri (gateway_oidc_t *self);
const char *gateway_oidc_post_logout_uri (gateway_oidc_t *self); //  "" = none
const char *gateway_oidc_scopes (gateway_oidc_t *self);
int gateway_oidc_session_ttl_s (gateway_oidc_t *self);
int gateway_oidc_jwks_refresh_s (gateway_oidc_t *self);
int gateway_oidc_jwks_min_interval_ms (gateway_oidc_t *self);
//  The cookie is Secure when the dashboard is served over TLS (an https
//  redirect URI).
bool gateway_oidc_cookie_secure (gateway_oidc_t *self);

//  The discovery document (text, as fetched). 0, or -1 when it is not
//  JSON, lacks an endpoint, or names another issuer (why says which).
int gateway_oidc_set_discovery (gateway_oidc_t *self, const char *text, size_t size, char *why,
                                size_t why_size);
//  Endpoints from discovery; NULL (or "" for end_session) until it came.
const char *gateway_oidc_endpoint (gateway_oidc_t *self, const char *name);
//  The key set (text, as fetched): replaces the keys held. Returns the
//  number of signing keys imported, or -1 when it is not a JWKS.
int gateway_oidc_set_jwks (gateway_oidc_t *self, const char *text, size_t size);
//  Keys held now.
size_t gateway_oidc_key_count (gateway_oidc_t *self);

//  Verify a compact JWT. audience: the "aud" it must carry; nonce: the one
//  an ID token must carry (NULL for an access token). On GATEWAY_JWT_OK
//  *claims is its payload (caller decrefs); else why (why_size bytes) says
//  what failed (never the token).
gateway_jwt_t gateway_oidc_verify (gateway_oidc_t *self, const char *jwt, const char *audience,
                                   const char *nonce, int64_t now_ms, json_t **claims, char *why,
                                   size_t why_size);
//  The audience the API's access tokens must carry.
const char *gateway_oidc_audience (gateway_oidc_t *self);
//  Does text look like a compact JWS (three base64url parts)?
bool gateway_oidc_is_jwt (const char *text);

//  The caller verified claims make: an ApiToken (not stored anywhere) with
//  id, the subject (the configured claim), the grants the rules give and
//  expires_ms. NULL when the subject claim is missing (why says so); a
//  token with no grants when no rule matches. Caller frees with
//  pmo__api_token__free_unpacked.
Pmo__ApiToken *gateway_oidc_caller (gateway_oidc_t *self, const json_t *claims, const char *id,
                                    int64_t expires_ms, char *why, size_t why_size);

//  Random URL-safe text of bytes random bytes (state, nonce, PKCE verifier,
//  session ids): out holds 2 * bytes + 1. 0, or -1 if the kernel's CSPRNG
//  failed.
int gateway_oidc_random (char *out, size_t bytes);
//  The PKCE S256 challenge of verifier: BASE64URL(SHA-256(verifier)), 44
//  bytes with its NUL.
void gateway_oidc_pkce_challenge (const char *verifier, char *challenge);
//  Percent-encode text for a query string (caller frees).
char *gateway_oidc_urlencode (const char *text);

#endif
