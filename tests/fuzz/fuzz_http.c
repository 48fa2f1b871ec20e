/*  fuzz_http.c: libFuzzer target for the gateway's HTTP request handling
    that runs without a server, as gateway_resources.c and gateway_session.c
    call it:

      mode 0  a request: "METHOD\nURL\nIF-MATCH\nBODY" -> route match, the
              query parameters, the JSON body, the route's member
              (gateway_route_member) and the service's protobuf request
              (gateway_route_request, through common/pmo_json)
      mode 1  a bearer value: gateway_oidc_is_jwt and gateway_oidc_verify
              against a key set holding a real RSA key (libcjose)
      mode 2  a provider's documents: gateway_oidc_set_jwks and
              gateway_oidc_set_discovery
      mode 3  a PATCH: "TARGET\nPATCH" -> gateway_merge_patch (RFC 7396)

    The first byte picks the mode. Built only with -DPMO_FUZZ=ON and clang
    (tests/fuzz/run.sh).
*/
#include "gateway_oidc.h"
#include "gateway_routes.h"

#include <assert.h>
#include <cjose/cjose.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

//  libFuzzer's entry points
int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static gateway_oidc_t *s_oidc;  //  with a key set: JWTs are verified against it
static gateway_oidc_t *s_blank; //  documents are fed to this one

static gateway_oidc_t *s_config (void)
{
    char path[] = "/tmp/fuzz_http_oidc_XXXXXX";
    int fd = mkstemp (path);
    assert (fd >= 0);
    const char *text =
        "{\"issuer\": \"https://idp.example\", \"client_id\": \"pmo\", \"redirect_uri\": "
        "\"https://pmo.example/auth/callback\", \"audience\": \"urn:pmo:api\", \"grants\": "
        "[{\"claim\": \"groups\", \"value\": \"g\", \"grants\": [{\"role\": \"viewer\", "
        "\"org_unit\": \"fin\"}]}]}";
    assert (write (fd, text, strlen (text)) == (ssize_t)strlen (text));
    close (fd);
    char error[256];
    gateway_oidc_t *oidc = gateway_oidc_load (path, error, sizeof error);
    unlink (path);
    assert (oidc);
    return oidc;
}

int LLVMFuzzerInitialize (int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    s_oidc = s_config ();
    s_blank = s_config ();
    cjose_err err;
    static const uint8_t e[] = {1, 0, 1};
    cjose_jwk_t *key = cjose_jwk_create_RSA_random (2048, e, sizeof e, &err);
    assert (key);
    char *pub = cjose_jwk_to_json (key, false, &err);
    json_t *jwk = json_loads (pub, 0, NULL);
    json_object_set_new (jwk, "kid", json_string ("k1"));
    json_t *set = json_pack ("{s:[o]}", "keys", jwk);
    char *jwks = json_dumps (set, JSON_COMPACT);
    assert (gateway_oidc_set_jwks (s_oidc, jwks, strlen (jwks)) == 1);
    free (jwks);
    json_decref (set);
    free (pub);
    cjose_jwk_release (key);
    return 0;
}

//  The next line of text (cut at '\n'); *rest moves past it.
static char *s_line (char **rest)
{
    char *line = *rest;
    char *end = strchr (line, '\n');
    if (end) {
        *end = 0;
        *rest = end + 1;
    } else
        *rest = line + strlen (line);
    return line;
}

static void s_request (char *text)
{
    char *rest = text;
    char *method = s_line (&rest);
    char *url = s_line (&rest);
    char *if_match = s_line (&rest);
    char *body_text = rest;
    json_t *query = json_object ();
    char *question = strchr (url, '?');
    if (question) {
        *question = 0;
        char *save = NULL;
        for (char *pair = strtok_r (question + 1, "&", &save); pair;
             pair = strtok_r (NULL, "&", &save)) {
            char *eq = strchr (pair, '=');
            if (eq)
                *eq = 0;
            json_object_set_new (query, pair, json_string (eq ? eq + 1 : ""));
        }
    }
    char param[160], allow[128];
    const gateway_route_t *route =
        gateway_route_match (method, url, param, sizeof param, allow, sizeof allow);
    if (route) {
        json_t *body = *body_text ? json_loads (body_text, JSON_REJECT_DUPLICATES, NULL) : NULL;
        uint64_t version = strtoull (if_match, NULL, 10);
        gateway_problem_t problem;
        json_t *member = (!*body_text || json_is_object (body))
                             ? gateway_route_member (route, body, query, param, version, &problem)
                             : NULL;
        if (member) {
            ProtobufCMessage *request = gateway_route_request (route, member, &problem);
            if (request) {
                const char *field = gateway_relative_field (route, "x.y");
                assert (field);
                protobuf_c_message_free_unpacked (request, NULL);
            }
            json_decref (member);
        }
        json_decref (body);
    }
    json_decref (query);
}

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (size < 1 || size > 64 * 1024)
        return 0;
    char *text = malloc (size);
    memcpy (text, data + 1, size - 1);
    text[size - 1] = 0;
    char why[200];
    switch (data[0] % 4) {
    case 0:
        s_request (text);
        break;
    case 1: {
        json_t *claims = NULL;
        if (gateway_oidc_is_jwt (text) &&
            gateway_oidc_verify (s_oidc, text, "urn:pmo:api", NULL, 1700000000000LL, &claims, why,
                                 sizeof why) == GATEWAY_JWT_OK) {
            Pmo__ApiToken *caller =
                gateway_oidc_caller (s_oidc, claims, "jwt-1", 1, why, sizeof why);
            if (caller)
                pmo__api_token__free_unpacked (caller, NULL);
        }
        json_decref (claims);
        break;
    }
    case 2:
        gateway_oidc_set_jwks (s_blank, text, strlen (text));
        gateway_oidc_set_discovery (s_blank, text, strlen (text), why, sizeof why);
        break;
    default: {
        char *rest = text;
        char *first = s_line (&rest);
        json_t *target = json_loads (first, 0, NULL);
        json_t *patch = json_loads (rest, 0, NULL);
        if (json_is_object (target) && patch)
            gateway_merge_patch (target, patch);
        json_decref (target);
        json_decref (patch);
    }
    }
    free (text);
    return 0;
}
