/*  gateway_harness.h: a real gateway for tests.

    A real redis-server and the registry actor (through the registry's
    harness), the gateway in-process on free ports, and an HTTP client
    (libcurl, keep-alive) for talking to it like any caller would. The
    first admin token is made by the gateway itself (--admin-token-file).
*/
#ifndef GATEWAY_HARNESS_H_INCLUDED
#define GATEWAY_HARNESS_H_INCLUDED

#include "gateway_server.h"
#include "registry_harness.h"

#include <curl/curl.h>
#include <jansson.h>

typedef struct {
    rh_t *rh; //  Redis, the registry actor and a ZMQ client
    gateway_t *gateway;
    gateway_config_t config;
    char http[64];     //  "127.0.0.1:<port>"
    char base[80];     //  "http://127.0.0.1:<port>"
    char endpoint[64]; //  the token service's ROUTER
    char dir[128];     //  temp directory (admin token file)
    char token_file[256];
    char admin[128]; //  the admin token
    CURL *curl;      //  one handle: connections are kept alive
} gh_t;

//  An HTTP answer.
typedef struct {
    long status;
    char *body;
    size_t size;
    json_t *json;       //  the body parsed, NULL if not JSON
    char headers[8192]; //  raw header lines
} gh_resp_t;

//  tune (may be NULL) adjusts the gateway's config before it starts.
gh_t *gh_start (void (*tune) (gateway_config_t *config));
void gh_stop (gh_t **self_p);
//  Start and stop only the gateway (Redis and the registry stay).
void gh_gateway_start (gh_t *self);
void gh_gateway_stop (gh_t *self);

//  One request. token NULL: no Authorization. headers: extra header lines
//  separated by '\n' (may be NULL). body NULL: none.
gh_resp_t *gh_http (gh_t *self, const char *method, const char *path, const char *token,
                    const char *body, const char *headers);
void gh_resp_free (gh_resp_t **resp_p);
//  A response header's value (copied into a static buffer), NULL if absent.
const char *gh_header (gh_resp_t *resp, const char *name);
//  A string member of the JSON body, "" if absent.
const char *gh_str (gh_resp_t *resp, const char *key);

//  Make an API token for subject with grants "role@unit,..." (as admin);
//  returns the secret (caller frees).
char *gh_token (gh_t *self, const char *subject, const char *grants);
//  The usual org tree: hub (directive), divisions dft and dhsc (supportive),
//  department dft-rail under dft.
void gh_org (gh_t *self);
//  Create a project in unit with code; returns its id (caller frees).
char *gh_project (gh_t *self, const char *token, const char *code, const char *unit);

//  Check a condition; on failure print where and the response, abort.
#define GH_CHECK(cond, resp)                                                                       \
    do {                                                                                           \
        if (!(cond))                                                                               \
            gh_fail (#cond, resp, __FILE__, __LINE__);                                             \
    } while (0)
#define GH_STATUS(resp, code) GH_CHECK ((resp)->status == (code), resp)
void gh_fail (const char *what, gh_resp_t *resp, const char *file, int line)
    __attribute__ ((noreturn));

#endif
