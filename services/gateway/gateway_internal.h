/*  gateway_internal.h: what the reactor's files share, inside this folder
    only.

    The reactor (gateway_server.c) owns one self_t and a request_t per HTTP
    request; the other files serve one concern each on the reactor's
    thread, with its state: answers (gateway_http.c), who is asking
    (gateway_auth.c), calling a service (gateway_upstream.c), the resource
    routes (gateway_resources.c), live events and stream figures
    (gateway_live.c), the dashboard's files (gateway_static.c), and the
    import, export and report requests (gateway_transfers.c).
*/
#ifndef GATEWAY_INTERNAL_H_INCLUDED
#define GATEWAY_INTERNAL_H_INCLUDED

#include "gateway_admin.h"
#include "gateway_feed.h"
#include "gateway_idp.h"
#include "gateway_jobs.h"
#include "gateway_metrics.h"
#include "gateway_oidc.h"
#include "gateway_routes.h"
#include "gateway_server.h"
#include "gateway_store.h"

#include "orgtree.h"
#include "orgtree_reader.h"
#include "pmo_redis.h"
#include "pmo_util.h"

#include <czmq.h>
#include <jansson.h>
#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

//  A token read from the store, unpacked once, with when it was read. The
//  cache holds one reference and every request it authenticated one more:
//  a revocation drops the cache's, a request keeps its own until answered.
typedef struct {
    Pmo__ApiToken *token;
    int64_t read_ms; //  monotonic
    int refs;
    //  The keyed hash (SipHash-128, the reactor's own random key) of the
    //  presented token that last passed the check against token->hash:
    //  the same token presented again is known by it, without a SHA-256
    uint8_t seen[16];
    bool seen_set;
} cached_t;

//  A token's rate bucket.
typedef struct {
    double tokens;   //  requests it may still make now
    int64_t last_ms; //  monotonic: when tokens was last refilled
} bucket_t;

//  Who is asking.
typedef struct {
    Pmo__ApiToken *token;   //  who: the cached token (held), or, with single sign-on, made
                            //  from the session or the access token (freed with the request)
    cached_t *held;         //  the cache's entry token belongs to (a reference), or NULL
    Pmo__Identity identity; //  points into token
    char csrf[65];          //  signed in with a session cookie: its CSRF token; else ""
    char via[96];           //  how: "token:<id>", "session:<id>", "oidc:<jti>"; the identity's via
} caller_t;

typedef enum {
    STAGE_NEW,     //  its body is arriving
    STAGE_WAITING, //  sent to a service; the connection is suspended
    STAGE_READY,   //  the reply (or the failure) is here; answer it
    STAGE_DONE,    //  answered
} stage_t;

typedef enum {
    KIND_ROUTE,  //  a route of the table
    KIND_PATCH,  //  a PATCH reading the item first
    KIND_READYZ, //  pings to every service
    KIND_JOB,    //  an import, export or report on its own thread
    KIND_KEYS,   //  waits for the provider's key set, then is dispatched again
    KIND_SSO,    //  a sign-in callback: waits for the provider's token endpoint
    KIND_CHAT,   //  a click from a chat tool, handed to the notifier
} kind_t;

//  An open connection (gateway_edge.c).
typedef struct _gateway_conn_t gateway_conn_t;

//  One HTTP request.
typedef struct {
    struct MHD_Connection *connection;
    char *body; //  the upload so far
    size_t size;
    bool too_large;      //  the body passed max_body: dropped, 413
    int64_t started_us;  //  monotonic
    size_t label;        //  its metrics label (route index or special)
    int status;          //  what it was answered
    char request_id[80]; //  the caller's request id (Idempotency-Key)
    stage_t stage;
    kind_t kind;
    const gateway_route_t *route;
    char param[160]; //  the {id} of the path
    caller_t caller;
    uint64_t version; //  from If-Match, 0 if none
    json_t *patch;    //  PATCH: the body, merged once the item is read
    //  In flight
    gateway_svc_t svc;
    uint8_t *frame; //  the request sent, sent again on retry
    size_t frame_size;
    char wait_id[80]; //  the request id its reply echoes
    bool sent;        //  the frame left (IMMEDIATE holds it back until a service is connected)
    int64_t retry_at; //  monotonic: send the same frame again
    int64_t deadline; //  monotonic: then 504
    int fail;         //  0, or the status to answer (503, 504)
    ProtobufCMessage *reply;
    pmo_arena_t *reply_arena; //  ... unpacked into this (gateway_reply_drop gives it back)
    struct _pings_t *pings;   //  /readyz only
    gateway_job_t *job;       //  KIND_JOB: its job (running, or done with the answer)
    bool job_done;            //  ... the job has finished (its thread ends)
    //  Single sign-on
    bool keys_wait;  //  waits for the provider's key set (in pending)
    bool keys_fresh; //  the key set was fetched for it: an unknown key now is refused
    int idp_status;  //  KIND_SSO: the token endpoint's HTTP status (0: unreachable)
    char *idp_body;  //  ... and its answer
    char *login;     //  ... the sign-in's record (JSON: verifier, nonce)
} request_t;

//  The pings of one /readyz.
typedef struct _pings_t {
    char ids[GATEWAY_SVC_COUNT][40];    //  the request id of each ping ("" = answered)
    uint8_t *frames[GATEWAY_SVC_COUNT]; //  each ping, until it could be sent
    size_t sizes[GATEWAY_SVC_COUNT];
    bool sent[GATEWAY_SVC_COUNT];
    const char *status[GATEWAY_SVC_COUNT]; //  up, degraded, down, absent
    int waiting;                           //  pings not answered yet
} pings_t;

//  Arenas kept for the replies to come, at most.
#define GATEWAY_ARENAS_KEPT 64

//  The reactor's state.
typedef struct {
    gateway_config_t config;
    zsock_t *pipe;             //  to whoever started us
    struct MHD_Daemon *daemon; //  external epoll mode
    int mhd_fd;                //  its epoll fd, polled with the sockets
    zactor_t *admin;           //  the token service
    gateway_admin_config_t admin_config;
    zsock_t *dealers[GATEWAY_SVC_COUNT]; //  one per service; NULL if none
    bool sent[GATEWAY_SVC_COUNT];        //  sent on since the reactor last read its events
    zsock_t *sub;                        //  wake-ups from the services' PUB sockets
    pmo_redis_t *redis;                  //  tokens, live events, stream figures
    gateway_store_t *store;
    zhashx_t *tokens;     //  token id -> cached_t
    zhashx_t *buckets;    //  token id -> bucket_t
    zhashx_t *failures;   //  client address -> bucket_t of requests without a valid token
    zlistx_t *conns;      //  open connections (gateway_conn_t)
    int64_t conns_next;   //  monotonic: no connection deadline passes before
    zhashx_t *pending;    //  request id -> request_t waiting for a reply
    int64_t pending_next; //  monotonic: no retry or deadline in pending is due before
    //  Replies are unpacked into arenas, reused: a reply's strings and
    //  messages were a malloc each, and freeing it walked them all again
    pmo_arena_t *arenas[GATEWAY_ARENAS_KEPT];
    size_t n_arenas;
    zlistx_t *sse;          //  live-event clients (gateway_sse_t)
    gateway_feed_t *feed;   //  the one reader of the streams for them
    zlistx_t *jobs;         //  jobs still running (gateway_job_t)
    zsock_t *jobs_pull;     //  finished jobs push themselves here
    char jobs_endpoint[64]; //  ... its inproc address
    orgtree_t *orgs;        //  the org-unit tree, fed from our registry DEALER
    //  ... by this, never waiting (NULL: no registry configured)
    orgtree_reader_t *orgs_reader;
    Pmo__Identity identity; //  the gateway's own (it reads the org structure)
    bool sse_woken;         //  read the streams now
    int64_t sse_next_sweep;
    gateway_metrics_t *metrics;
    size_t n_routes;
    char *openapi; //  the OpenAPI document; NULL if unreadable
    size_t openapi_size;
    bool stopping;
    uint8_t seen_key[16]; //  random per run: the key of cached_t.seen
    char id_prefix[24];   //  random per run: "gw-<16 hex>-"
    uint64_t id_serial;   //  ... then a counter
    //  Single sign-on (NULL without --oidc)
    gateway_oidc_t *oidc;
    zactor_t *idp; //  the provider's client (gateway_idp)
    gateway_idp_config_t idp_config;
    int64_t jwks_asked_ms; //  monotonic: the key set was last asked for then
    bool jwks_asking;      //  ... and has not come yet
} self_t;

//  The query parameters of a request, as a JSON object of strings.
typedef struct {
    json_t *obj;
    bool duplicate;
    char name[64];
} gateway_query_t;

//  gateway_server.c: the reactor
//  A new request id (40 bytes): a random prefix per run and a counter.
void gateway_new_id (self_t *self, char *out);

//  gateway_http.c: answers
//  Queue a response (taking ownership of body, malloc'd) with the headers
//  every answer carries. With out, the caller adds headers and queues.
enum MHD_Result gateway_http_send (request_t *req, int status, const char *type, char *body,
                                   size_t size, struct MHD_Response **out);
//  Queue a response made by gateway_http_send (out) with req's status.
enum MHD_Result gateway_http_queue (request_t *req, struct MHD_Response *response);
//  A problem document (RFC 9457). extra (may be NULL, stolen) adds
//  members; header (may be NULL) is one more header to send.
enum MHD_Result gateway_http_problem (request_t *req, int status, const char *code,
                                      const char *field, const char *detail, json_t *extra,
                                      const char *header, const char *header_value);
//  A JSON answer (doc stolen), with an ETag if version, and Location and
//  Warning headers if given.
enum MHD_Result gateway_http_json (request_t *req, int status, json_t *doc, uint64_t version,
                                   const char *location, const char *warning);
//  The same with the JSON already text (stolen, malloc'd; NULL: 500).
enum MHD_Result gateway_http_json_text (request_t *req, int status, char *text, uint64_t version,
                                        const char *location, const char *warning);
//  libmicrohttpd iterator: collects query parameters into a gateway_query_t.
enum MHD_Result gateway_http_query_collect (void *cls, enum MHD_ValueKind kind, const char *key,
                                            const char *value);
//  Remove every member called name, at any depth.
void gateway_json_strip (json_t *doc, const char *name);

//  gateway_auth.c: who is asking, and may they now
void gateway_caller_clear (caller_t *caller);
void gateway_cached_free (void **item);
void gateway_bucket_free (void **item);
//  Authenticate the bearer token. 0, or an answer was queued (*answered).
int gateway_authenticate (self_t *self, request_t *req, const char *method,
                          enum MHD_Result *answered);
//  Take one request from the caller's bucket. 0, or the seconds to wait.
int gateway_rate_take (self_t *self, const Pmo__ApiToken *token);
//  GET /api/v1/whoami
enum MHD_Result gateway_whoami (self_t *self, request_t *req);

//  gateway_session.c: single sign-on (OpenID Connect) and its sessions
//  Start it (--oidc). 0, or -1 (logged).
int gateway_sso_start (self_t *self, const char *path);
void gateway_sso_stop (self_t *self);
//  /auth/...: config, login, callback, logout.
enum MHD_Result gateway_sso_dispatch (self_t *self, request_t *req, const char *url,
                                      const char *method);
//  A sign-in callback is ready (the provider answered, or not in time).
enum MHD_Result gateway_sso_finish (self_t *self, request_t *req);
//  The provider's client said something.
void gateway_sso_idp_said (self_t *self);
//  A JWT bearer: the provider's access token. 0 (req->caller is set), or
//  -1: answered, or waiting for the key set (req->stage STAGE_WAITING).
int gateway_sso_bearer (self_t *self, request_t *req, const char *jwt, enum MHD_Result *answered);
//  The session cookie: 0 (req->caller is set), 1 (no cookie), or -1
//  (answered).
int gateway_sso_cookie (self_t *self, request_t *req, const char *method,
                        enum MHD_Result *answered);
//  gateway_edge.c: the HTTP edge (framing, control characters, deadlines,
//  failed authentication per address)
//  libmicrohttpd's unescape callback: %00 survives as DEL, to be refused.
size_t gateway_edge_unescape (void *cls, struct MHD_Connection *connection, char *uri);
//  libmicrohttpd's connection callback: keeps self->conns.
void gateway_edge_notify (void *cls, struct MHD_Connection *connection, void **socket_context,
                          enum MHD_ConnectionNotificationCode code);
//  A whole request came and is being served (true), or was answered
//  (false: the deadline for the next one starts now).
void gateway_edge_serving (self_t *self, struct MHD_Connection *connection, bool serving);
//  Close the connections whose request deadline passed (they are walked
//  only once one may have: conns_next). Returns the next deadline
//  (monotonic), or INT64_MAX.
int64_t gateway_edge_sweep (self_t *self, int64_t now);
//  Content-Length with Transfer-Encoding, control characters in the path
//  or query. 0, or an answer was queued (*answered).
int gateway_edge_check (self_t *self, request_t *req, const char *url, enum MHD_Result *answered);
//  Seconds the caller's address must wait before a request without a valid
//  token is looked at; 0 now.
int gateway_edge_failures_wait (self_t *self, request_t *req);
//  A request from the caller's address had no valid token.
void gateway_edge_failed (self_t *self, request_t *req);

//  gateway_idempotency.c: the Idempotency-Key header
//  Set req's request id: from its Idempotency-Key bound to this request
//  (method, path, query, body), or a new one. 0, or an answer was queued
//  (*answered: 400 for a bad key, 422 for a key used with another request).
int gateway_idempotency_take (self_t *self, request_t *req, const char *url, const char *method,
                              enum MHD_Result *answered);

//  gateway_upstream.c: calling a service, readiness, deadlines
//  Send request (freed here) to svc as identity under wait_id; the
//  connection waits. 0, or -1 when the service is not configured here.
int gateway_call (self_t *self, request_t *req, gateway_svc_t svc, ProtobufCMessage *request,
                  const Pmo__Identity *identity, const char *wait_id, int timeout_ms);
//  The request is ready to be answered: wake its connection.
void gateway_ready (request_t *req);
//  Send a frame to svc without waiting: true if it left. Use this for
//  every send on a dealer: the reactor reads the events of those sent on.
bool gateway_send (self_t *self, gateway_svc_t svc, const void *frame, size_t size);
//  The reply's error, NULL if it has none.
const Pmo__Error *gateway_reply_error (const ProtobufCMessage *reply);
//  A service's reply of desc unpacked into an arena (*arena: taken from
//  the pool, the caller's until given back). NULL if it does not unpack
//  (the arena is then back in the pool).
ProtobufCMessage *gateway_reply_unpack (self_t *self, const ProtobufCMessageDescriptor *desc,
                                        const void *data, size_t size, pmo_arena_t **arena);
//  Give an arena back: reset and kept for the next reply, or destroyed.
void gateway_arena_give (self_t *self, pmo_arena_t **arena_p);
//  Let go of req's reply (and the arena it lives in).
void gateway_reply_drop (self_t *self, request_t *req);
//  GET /readyz: a ping to every service at once, answered when all came.
enum MHD_Result gateway_readyz_begin (self_t *self, request_t *req);
enum MHD_Result gateway_readyz_finish (self_t *self, request_t *req);
void gateway_readyz_reply (request_t *req, const char *wait_id, ProtobufCMessage *reply);
//  req waits under id (its deadline and retry_at set): it is put in pending.
void gateway_pending_add (self_t *self, request_t *req, const char *id);
//  Retries and deadlines of requests waiting for a service. Returns the
//  next moment one is due (monotonic), or INT64_MAX.
int64_t gateway_check_pending (self_t *self, int64_t now);

//  gateway_resources.c: the resource routes of the table
//  A new request for req->route: check it, build it, send it.
enum MHD_Result gateway_resource_begin (self_t *self, request_t *req);
//  A PATCH's read came: merge the patch and send the change.
void gateway_resource_patch (self_t *self, request_t *req);
//  The reply of a route came (or its deadline passed): answer it.
enum MHD_Result gateway_resource_finish (self_t *self, request_t *req);

//  gateway_live.c: live events and the streams' figures
//  GET /api/v1/events
enum MHD_Result gateway_live_events (self_t *self, request_t *req);
//  GET /metrics: the counters and the caller's streams' figures
enum MHD_Result gateway_live_metrics (self_t *self, request_t *req);

//  gateway_static.c: the dashboard's files
//  Read a whole file (malloc'd, caller frees). NULL if it cannot be read or
//  is too big.
char *gateway_read_file (const char *path, size_t *size);
enum MHD_Result gateway_static_serve (self_t *self, request_t *req, const char *url);

//  gateway_chat.c: clicks from chat tools (no token: the tool signs them)
//  POST /api/v1/chat/{slack|mattermost}/{channel}: hand it to the notifier.
enum MHD_Result gateway_chat_begin (self_t *self, request_t *req, const char *url,
                                    const char *method);
//  The notifier's answer came (or not in time): answer the tool.
enum MHD_Result gateway_chat_finish (self_t *self, request_t *req);

//  gateway_transfers.c: import, export and the report (jobs)
//  The body limit of a request to url.
size_t gateway_body_max (self_t *self, const char *url, const char *method);
//  The segment after prefix in url (copied into out); false if none.
bool gateway_url_segment (const char *url, const char *prefix, char *out, size_t size);
enum MHD_Result gateway_import_begin (self_t *self, request_t *req);
enum MHD_Result gateway_export_begin (self_t *self, request_t *req);
enum MHD_Result gateway_report_begin (self_t *self, request_t *req);
//  A job pushed itself to the reactor: it is done.
void gateway_job_done (self_t *self);
enum MHD_Result gateway_job_finish (self_t *self, request_t *req);

#endif
