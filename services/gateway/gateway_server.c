/*  gateway_server.c: the gateway's reactor. HTTP in (libmicrohttpd,
    external epoll mode), ZMQ out (one DEALER per service, many requests in
    flight), all on one thread. See gateway_server.h.

    A request's life: libmicrohttpd calls s_access as its parts arrive;
    when the body is complete it is authenticated, limited, built into the
    service's request and sent, and its connection is suspended. The reply
    (matched by its request id) or the deadline marks it ready and resumes
    the connection; libmicrohttpd then calls s_access again and the answer
    is queued. A PATCH sends two requests (the read, then the change) before
    it is ready; /readyz sends a ping to every service at once.
*/
#include "gateway_server.h"
#include "gateway_admin.h"
#include "gateway_jobs.h"
#include "gateway_metrics.h"
#include "gateway_model.h"
#include "gateway_sse.h"
#include "gateway_store.h"

#include "orgtree.h"
#include "portio_import.h"
#include "pmo_json.h"
#include "pmo_log.h"
#include "pmo_redis.h"
#include "pmo_reflect.h"
#include "portio_report.h"
#include "pmo_util.h"
#include "pmo_wire.h"
#include "registry.pb-c.h"

#include <arpa/inet.h>
#include <assert.h>
#include <czmq.h>
#include <errno.h>
#include <microhttpd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define PING_TIMEOUT_MS    500   //  readiness: a service that does not answer by then is down
#define ORGS_REFRESH_MS    5000  //  the org-unit snapshot is asked for again this often
#define TOKENS_MAX         10000 //  cached tokens; past this the cache starts over
#define STATIC_MAX         (4 * 1024 * 1024)
#define SWEEP_MS           1000 //  live-event clients read Redis at least this often
#define HOLD_MS            2    //  ... and this soon when entries wait for their ms to end
#define STOP_GRACE_MS      2000 //  at shutdown: time to flush the last answers
#define UNSENT_RETRY_MS    20   //  a frame no service could take yet is offered again this often
#define IMPORT_MAX_DEFAULT (16 * 1024 * 1024) //  a CSV file to import, when not configured
#define JOBS_MAX           8 //  imports, exports and reports running at once (then 503)

//  Routes of the table come first in the metrics, then these.
enum {
    SPECIAL_STATIC,
    SPECIAL_HEALTHZ,
    SPECIAL_READYZ,
    SPECIAL_METRICS,
    SPECIAL_EVENTS,
    SPECIAL_OPENAPI,
    SPECIAL_WHOAMI,
    SPECIAL_IMPORT,
    SPECIAL_EXPORT,
    SPECIAL_REPORT,
    SPECIAL_UNKNOWN,
    SPECIAL_COUNT
};
static const char *s_special_labels[SPECIAL_COUNT] = {
    "GET /{static}",
    "GET /healthz",
    "GET /readyz",
    "GET /metrics",
    "GET /api/v1/events",
    "GET /api/v1/openapi.json",
    "GET /api/v1/whoami",
    "POST /api/v1/import",
    "GET /api/v1/export/{entity}",
    "GET /api/v1/reports/{org_unit}",
    "ANY {unknown}",
};

//  A token read from the store, as its protobuf, with when it was read.
typedef struct {
    uint8_t *blob;
    size_t size;
    int64_t read_ms; //  monotonic
} cached_t;

//  A token's rate bucket.
typedef struct {
    double tokens;   //  requests it may still make now
    int64_t last_ms; //  monotonic: when tokens was last refilled
} bucket_t;

//  Who is asking.
typedef struct {
    Pmo__ApiToken *token;   //  unpacked copy; freed with the request
    Pmo__Identity identity; //  points into token
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
} kind_t;

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
    struct _pings_t *pings; //  /readyz only
    gateway_job_t *job;     //  KIND_JOB: its job (running, or done with the answer)
    bool job_done;          //  ... the job has finished (its thread ends)
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

//  The reactor's state.
typedef struct {
    gateway_config_t config;
    zsock_t *pipe;             //  to whoever started us
    struct MHD_Daemon *daemon; //  external epoll mode
    int mhd_fd;                //  its epoll fd, polled with the sockets
    zactor_t *admin;           //  the token service
    gateway_admin_config_t admin_config;
    zsock_t *dealers[GATEWAY_SVC_COUNT]; //  one per service; NULL if none
    zsock_t *sub;                        //  wake-ups from the services' PUB sockets
    pmo_redis_t *redis;                  //  tokens, live events, stream figures
    gateway_store_t *store;
    zhashx_t *tokens;       //  token id -> cached_t
    zhashx_t *buckets;      //  token id -> bucket_t
    zhashx_t *pending;      //  request id -> request_t waiting for a reply
    zlistx_t *sse;          //  live-event clients (gateway_sse_t)
    zlistx_t *jobs;         //  jobs still running (gateway_job_t)
    zsock_t *jobs_pull;     //  finished jobs push themselves here
    char jobs_endpoint[64]; //  ... its inproc address
    orgtree_t *orgs;        //  the org-unit tree, fed from our registry DEALER
    bool orgs_read;         //  ... it has been read whole at least once
    char orgs_wait[40];     //  the request id of the page asked for
    int64_t orgs_next;      //  monotonic: ask again then
    Pmo__Identity identity; //  the gateway's own (it reads the org structure)
    bool sse_woken;         //  read the streams now
    int64_t sse_next_sweep;
    gateway_metrics_t *metrics;
    size_t n_routes;
    char *openapi; //  the OpenAPI document; NULL if unreadable
    size_t openapi_size;
    bool stopping;
    char id_prefix[24]; //  random per run: "gw-<16 hex>-"
    uint64_t id_serial; //  ... then a counter
} self_t;

struct _gateway_t {
    zactor_t *actor;
};

//  What gateway_new hands the actor.
typedef struct {
    const gateway_config_t *config;
    bool failed;
} start_t;

//  A new request id: a random prefix per run and a counter, so ids stay
//  unique across restarts (the services keep done ids for a day) without a
//  system call per request. out holds 40 bytes.
static void s_new_id (self_t *self, char *out)
{
    static const char hex[] = "0123456789abcdef";
    uint64_t n = ++self->id_serial;
    size_t len = strlen (self->id_prefix);
    memcpy (out, self->id_prefix, len);
    char digits[17];
    int i = 16;
    digits[i] = 0;
    do {
        digits[--i] = hex[n & 15];
        n >>= 4;
    } while (n);
    memcpy (out + len, digits + i, (size_t)(17 - i));
}

//  ---------------------------------------------------------------------
//  Answers

static const char *s_reason (int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 304:
        return "Not Modified";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 409:
        return "Conflict";
    case 412:
        return "Precondition Failed";
    case 413:
        return "Content Too Large";
    case 415:
        return "Unsupported Media Type";
    case 428:
        return "Precondition Required";
    case 429:
        return "Too Many Requests";
    case 500:
        return "Internal Server Error";
    case 503:
        return "Service Unavailable";
    case 504:
        return "Gateway Timeout";
    default:
        return "Error";
    }
}

//  Queue a response (taking ownership of body, malloc'd) with the headers
//  every answer carries. With out, the caller adds headers and queues.
static enum MHD_Result s_send (request_t *req, int status, const char *type, char *body,
                               size_t size, struct MHD_Response **out)
{
    struct MHD_Response *response = MHD_create_response_from_buffer (
        size, body ? body : "", body ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    if (type)
        MHD_add_response_header (response, "Content-Type", type);
    MHD_add_response_header (response, "X-Content-Type-Options", "nosniff");
    if (*req->request_id)
        MHD_add_response_header (response, "X-Request-Id", req->request_id);
    req->status = status;
    req->stage = STAGE_DONE;
    if (out) {
        *out = response;
        return MHD_YES;
    }
    enum MHD_Result rc = MHD_queue_response (req->connection, (unsigned)status, response);
    MHD_destroy_response (response);
    return rc;
}

static enum MHD_Result s_queue (request_t *req, struct MHD_Response *response)
{
    enum MHD_Result rc = MHD_queue_response (req->connection, (unsigned)req->status, response);
    MHD_destroy_response (response);
    return rc;
}

//  A problem document (RFC 9457). extra (may be NULL, stolen) adds members.
static enum MHD_Result s_problem (request_t *req, int status, const char *code, const char *field,
                                  const char *detail, json_t *extra, const char *header,
                                  const char *header_value)
{
    char type[96];
    snprintf (type, sizeof type, "urn:pmo:problem:%s", code ? code : "error");
    json_t *doc = json_pack ("{s:s, s:s, s:i, s:s, s:s, s:s, s:b}", "type", type, "title",
                             s_reason (status), "status", status, "detail", detail ? detail : "",
                             "code", code ? code : "error", "field", field ? field : "",
                             "retryable", status == 429 || status == 503 || status == 504);
    if (*req->request_id)
        json_object_set_new (doc, "request_id", json_string (req->request_id));
    if (extra) {
        json_object_update (doc, extra);
        json_decref (extra);
    }
    char *text = json_dumps (doc, JSON_COMPACT);
    json_decref (doc);
    struct MHD_Response *response;
    s_send (req, status, "application/problem+json", text, strlen (text), &response);
    MHD_add_response_header (response, "Cache-Control", "no-store");
    if (header)
        MHD_add_response_header (response, header, header_value);
    return s_queue (req, response);
}

static enum MHD_Result s_json (request_t *req, int status, json_t *doc, uint64_t version,
                               const char *location, const char *warning)
{
    char *text = json_dumps (doc, JSON_COMPACT);
    json_decref (doc);
    if (!text)
        return s_problem (req, 500, "internal", "", "the answer is not valid JSON", NULL, NULL,
                          NULL);
    struct MHD_Response *response;
    s_send (req, status, "application/json", text, strlen (text), &response);
    MHD_add_response_header (response, "Cache-Control", "no-store");
    if (version) {
        char etag[32];
        snprintf (etag, sizeof etag, "\"%llu\"", (unsigned long long)version);
        MHD_add_response_header (response, "ETag", etag);
    }
    if (location)
        MHD_add_response_header (response, "Location", location);
    if (warning && *warning)
        MHD_add_response_header (response, "Warning", warning);
    return s_queue (req, response);
}

//  ---------------------------------------------------------------------
//  Who is asking, and may they now

static void s_caller_clear (caller_t *caller)
{
    if (caller->token)
        pmo__api_token__free_unpacked (caller->token, NULL);
    caller->token = NULL;
}

static void s_cached_free (void **item)
{
    cached_t *cached = *item;
    if (cached) {
        free (cached->blob);
        free (cached);
    }
    *item = NULL;
}

static void s_bucket_free (void **item)
{
    free (*item);
    *item = NULL;
}

//  The stored token of id, from the cache or Redis. 1 found, 0 not, -1
//  Redis failed. *token is a new unpacked copy.
static int s_token_read (self_t *self, const char *id, Pmo__ApiToken **token)
{
    *token = NULL;
    int64_t now = pmo_mono_ms ();
    cached_t *cached = zhashx_lookup (self->tokens, id);
    if (cached && now - cached->read_ms < self->config.token_cache_ms) {
        *token = pmo__api_token__unpack (NULL, cached->size, cached->blob);
        return *token ? 1 : -1;
    }
    pmo_arena_t *arena = pmo_arena_new ();
    Pmo__ApiToken *stored;
    int rc = gateway_store_read (self->store, arena, id, &stored, NULL);
    if (rc == 1) {
        cached_t *fresh = calloc (1, sizeof (cached_t));
        assert (fresh);
        fresh->size = protobuf_c_message_get_packed_size (&stored->base);
        fresh->blob = malloc (fresh->size ? fresh->size : 1);
        assert (fresh->blob);
        protobuf_c_message_pack (&stored->base, fresh->blob);
        fresh->read_ms = now;
        *token = pmo__api_token__unpack (NULL, fresh->size, fresh->blob);
        if (zhashx_size (self->tokens) >= TOKENS_MAX)
            zhashx_purge (self->tokens);
        zhashx_delete (self->tokens, id);
        zhashx_insert (self->tokens, id, fresh);
    }
    pmo_arena_destroy (&arena);
    return rc;
}

//  Authenticate the bearer token. 0, or an answer was queued (*answered).
static int s_authenticate (self_t *self, request_t *req, enum MHD_Result *answered)
{
    const char *header =
        MHD_lookup_connection_value (req->connection, MHD_HEADER_KIND, "Authorization");
    char id[GATEWAY_TOKEN_ID_LEN + 1];
    const char *presented = NULL;
    if (header && strncasecmp (header, "Bearer ", 7) == 0) {
        presented = header + 7;
        while (*presented == ' ')
            presented++;
    }
    const char *why = "send Authorization: Bearer <token>";
    if (presented && gateway_token_parse (presented, id) == 0) {
        Pmo__ApiToken *token = NULL;
        int rc = s_token_read (self, id, &token);
        if (rc < 0) {
            *answered = s_problem (req, 503, "unavailable", "",
                                   "the token store (Redis) is unavailable; retry shortly", NULL,
                                   "Retry-After", "1");
            return -1;
        }
        char hash[GATEWAY_HASH_HEX];
        gateway_sha256_hex (presented, strlen (presented), hash);
        if (rc == 1 && gateway_hash_equal (hash, token->hash) && !token->revoked &&
            (!token->expires_ms || token->expires_ms > pmo_now_ms ())) {
            req->caller.token = token;
            pmo__identity__init (&req->caller.identity);
            req->caller.identity.subject = token->subject;
            req->caller.identity.grants = token->grants;
            req->caller.identity.n_grants = token->n_grants;
            return 0;
        }
        //  The id is public; the secret never reaches a log
        pmo_warn ("gateway: refused token=%s reason=%s", id,
                  rc == 0                                   ? "unknown"
                  : !gateway_hash_equal (hash, token->hash) ? "wrong secret"
                  : token->revoked                          ? "revoked"
                                                            : "expired");
        if (token)
            pmo__api_token__free_unpacked (token, NULL);
        why = "the token is unknown, revoked or expired";
    } else if (presented)
        why = "that is not a pmo API token (pmo_<id>_<secret>)";
    *answered = s_problem (req, 401, "unauthenticated", "Authorization", why, NULL,
                           "WWW-Authenticate", "Bearer realm=\"pmo\"");
    return -1;
}

//  Take one request from the caller's bucket. 0, or the seconds to wait.
static int s_rate_take (self_t *self, const Pmo__ApiToken *token)
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

//  ---------------------------------------------------------------------
//  Calling a service: send, suspend, and wake on the reply or the deadline

//  Send request (freed here) to svc as the caller under wait_id; the
//  connection waits. 0, or -1 when the service is not configured here.
static int s_call (self_t *self, request_t *req, gateway_svc_t svc, ProtobufCMessage *request,
                   const Pmo__Identity *identity, const char *wait_id, int timeout_ms)
{
    zsock_t *dealer = self->dealers[svc];
    if (!dealer) {
        protobuf_c_message_free_unpacked (request, NULL);
        return -1;
    }
    Pmo__Header header = PMO__HEADER__INIT;
    header.protocol_version = PMO_PROTOCOL_VERSION;
    header.request_id = (char *)wait_id;
    header.deadline_ms = pmo_now_ms () + timeout_ms;
    header.identity = (Pmo__Identity *)identity;
    ProtobufCMessage **slot = pmo_wire_message_slot (request, "header");
    assert (slot);
    if (*slot)
        protobuf_c_message_free_unpacked (*slot, NULL);
    *slot = &header.base;
    free (req->frame);
    req->frame_size = protobuf_c_message_get_packed_size (request);
    req->frame = malloc (req->frame_size ? req->frame_size : 1);
    assert (req->frame);
    protobuf_c_message_pack (request, req->frame);
    *slot = NULL;
    protobuf_c_message_free_unpacked (request, NULL);
    snprintf (req->wait_id, sizeof req->wait_id, "%s", wait_id);
    req->svc = svc;
    int64_t now = pmo_mono_ms ();
    req->deadline = now + timeout_ms;
    zhashx_update (self->pending, wait_id, req);
    //  IMMEDIATE: while no service is connected (just started, or down) the
    //  frame is offered again every few ms until the deadline. Once sent, one
    //  retry at half time under the same id: a frame lost on the way is sent
    //  again, and the service answers a repeat with its first reply
    req->sent = zmq_send (zsock_resolve (dealer), req->frame, req->frame_size, ZMQ_DONTWAIT) >= 0;
    req->retry_at = req->sent ? now + timeout_ms / 2 : now + UNSENT_RETRY_MS;
    if (req->stage != STAGE_WAITING) {
        req->stage = STAGE_WAITING;
        MHD_suspend_connection (req->connection);
    }
    return 0;
}

//  The request is ready to be answered: wake its connection.
static void s_ready (request_t *req)
{
    if (req->stage == STAGE_WAITING) {
        req->stage = STAGE_READY;
        MHD_resume_connection (req->connection);
    }
}

//  The reply's error, NULL if it has none.
static const Pmo__Error *s_reply_error (const ProtobufCMessage *reply)
{
    ProtobufCMessage **slot = pmo_wire_message_slot ((ProtobufCMessage *)reply, "error");
    return slot && *slot ? (const Pmo__Error *)*slot : NULL;
}

//  Answer a service's error as a problem document; its other non-empty
//  repeated fields (e.g. missing_artifacts) come along as members.
static enum MHD_Result s_service_problem (self_t *self, request_t *req,
                                          const gateway_route_t *route,
                                          const ProtobufCMessage *reply, bool if_match)
{
    const Pmo__Error *error = s_reply_error (reply);
    int status = gateway_http_status (error->code, if_match);
    if (error->code == PMO__ERROR_CODE__ERROR_UNAVAILABLE)
        gateway_metrics_upstream (self->metrics, route->service, false);
    json_t *whole = pmo_json_from_message (reply);
    json_t *extra = json_object ();
    const char *key;
    json_t *value;
    json_object_foreach (whole, key, value)
    {
        if (json_is_array (value) && json_array_size (value) > 0)
            json_object_set (extra, key, value);
    }
    json_decref (whole);
    const char *field = gateway_relative_field (route, error->field ? error->field : "");
    if (status == 412 && strcmp (field, "version") == 0)
        field = "If-Match";
    return s_problem (req, status, pmo_error_code_name (error->code), field, error->message, extra,
                      status == 503 ? "Retry-After" : NULL, "1");
}

typedef struct {
    json_t *obj;
    bool duplicate;
    char name[64];
} query_t;

static enum MHD_Result s_query_collect (void *cls, enum MHD_ValueKind kind, const char *key,
                                        const char *value)
{
    query_t *query = cls;
    if (json_object_get (query->obj, key)) {
        query->duplicate = true;
        snprintf (query->name, sizeof query->name, "%s", key);
    }
    json_object_set_new (query->obj, key, json_string (value ? value : ""));
    return MHD_YES;
}

//  The version in If-Match ("N" or W/"N"); 0 if absent; -1 if malformed.
static int s_if_match (struct MHD_Connection *connection, uint64_t *version)
{
    *version = 0;
    const char *value = MHD_lookup_connection_value (connection, MHD_HEADER_KIND, "If-Match");
    if (!value)
        return 0;
    if (strncmp (value, "W/", 2) == 0)
        value += 2;
    if (*value == '"')
        value++;
    char *end = NULL;
    errno = 0;
    unsigned long long parsed = strtoull (value, &end, 10);
    if (errno || end == value || (*end != '"' && *end != 0) || parsed == 0)
        return -1;
    *version = parsed;
    return 0;
}

//  Remove every member called name, at any depth (token hashes never
//  leave the gateway, not even empty).
static void s_strip (json_t *doc, const char *name)
{
    if (json_is_object (doc)) {
        json_object_del (doc, name);
        const char *key;
        json_t *value;
        json_object_foreach (doc, key, value) s_strip (value, name);
    } else if (json_is_array (doc)) {
        size_t i;
        json_t *value;
        json_array_foreach (doc, i, value) s_strip (value, name);
    }
}

//  The id of a created item in its JSON: "id", or a member object's "id".
static const char *s_created_id (json_t *doc)
{
    json_t *id = json_object_get (doc, "id");
    if (json_is_string (id))
        return json_string_value (id);
    const char *key;
    json_t *value;
    json_object_foreach (doc, key, value)
    {
        if (json_is_object (value) && json_is_string (json_object_get (value, "id")))
            return json_string_value (json_object_get (value, "id"));
    }
    return NULL;
}

//  ---------------------------------------------------------------------
//  The resource routes

static bool s_json_type (struct MHD_Connection *connection)
{
    const char *type = MHD_lookup_connection_value (connection, MHD_HEADER_KIND, "Content-Type");
    if (!type)
        return true; //  curl -d without -H: be kind, the body is checked anyway
    return strncasecmp (type, "application/json", 16) == 0 ||
           strncasecmp (type, "application/merge-patch+json", 28) == 0;
}

//  Build the route's request from the member JSON and send it as the
//  caller under the caller's request id.
static enum MHD_Result s_route_send (self_t *self, request_t *req, const gateway_route_t *route,
                                     json_t *member)
{
    gateway_problem_t problem;
    ProtobufCMessage *request = gateway_route_request (route, member, &problem);
    json_decref (member);
    if (!request)
        return s_problem (req, problem.status, problem.code, problem.field, problem.detail, NULL,
                          NULL, NULL);
    if (s_call (self, req, route->service, request, &req->caller.identity, req->request_id,
                self->config.upstream_timeout_ms))
        return s_problem (req, 503, "unavailable", "",
                          "the service is not configured in this gateway", NULL, NULL, NULL);
    return MHD_YES;
}

//  A new request for a route: check it, build it, send it.
static enum MHD_Result s_route_begin (self_t *self, request_t *req)
{
    const gateway_route_t *route = req->route;
    struct MHD_Connection *connection = req->connection;
    bool takes_body = route->op == GATEWAY_OP_CREATE || route->op == GATEWAY_OP_UPDATE ||
                      route->op == GATEWAY_OP_PATCH || route->op == GATEWAY_OP_ACTION;
    json_t *body = NULL;
    if (takes_body) {
        if (!s_json_type (connection))
            return s_problem (req, 415, "unsupported_media_type", "Content-Type",
                              "send the body as application/json", NULL, NULL, NULL);
        json_error_t error;
        body = json_loadb (req->body ? req->body : "", req->size, JSON_REJECT_DUPLICATES, &error);
        if (!body) {
            char detail[300];
            snprintf (detail, sizeof detail, "the body is not valid JSON: %s (line %d, column %d)",
                      error.text, error.line, error.column);
            return s_problem (req, 400, "malformed", "", detail, NULL, NULL, NULL);
        }
    } else if (req->size > 0)
        return s_problem (req, 400, "invalid", "", "this request takes no body", NULL, NULL, NULL);
    query_t query = {.obj = json_object ()};
    MHD_get_connection_values (connection, MHD_GET_ARGUMENT_KIND, s_query_collect, &query);
    gateway_problem_t problem = {0};
    json_t *member = NULL;
    if (query.duplicate) {
        problem = (gateway_problem_t){.status = 400, .code = "invalid"};
        snprintf (problem.field, sizeof problem.field, "%s", query.name);
        snprintf (problem.detail, sizeof problem.detail, "query parameter '%s' is given twice",
                  query.name);
    } else if (s_if_match (connection, &req->version)) {
        problem = (gateway_problem_t){.status = 400, .code = "invalid", .field = "If-Match"};
        snprintf (problem.detail, sizeof problem.detail,
                  "If-Match is the ETag you read: a version in quotes, e.g. \"3\"");
    } else if (route->op == GATEWAY_OP_PATCH && !req->version) {
        problem = (gateway_problem_t){
            .status = 428, .code = "precondition_required", .field = "If-Match"};
        snprintf (problem.detail, sizeof problem.detail,
                  "send If-Match with the ETag (version) you read");
    } else if (route->op == GATEWAY_OP_PATCH) {
        //  Read the item first; the change follows when it comes
        gateway_route_t read = *route;
        read.op = GATEWAY_OP_GET;
        read.member = route->read_member;
        read.fixed = route->read_fixed;
        read.id_field = "id";
        read.version_field = NULL;
        member = gateway_route_member (&read, NULL, NULL, req->param, 0, &problem);
        ProtobufCMessage *request = member ? gateway_route_request (&read, member, &problem) : NULL;
        json_decref (member);
        if (request) {
            json_decref (query.obj);
            if (!json_is_object (body)) {
                json_decref (body);
                return s_problem (req, 400, "invalid", "", "the body must be a JSON object", NULL,
                                  NULL, NULL);
            }
            req->patch = body;
            req->kind = KIND_PATCH;
            char read_id[40];
            s_new_id (self, read_id);
            if (s_call (self, req, route->service, request, &req->caller.identity, read_id,
                        self->config.upstream_timeout_ms))
                return s_problem (req, 503, "unavailable", "",
                                  "the service is not configured in this gateway", NULL, NULL,
                                  NULL);
            return MHD_YES;
        }
    } else
        member = gateway_route_member (route, body, query.obj, req->param, req->version, &problem);
    json_decref (body);
    json_decref (query.obj);
    if (!member)
        return s_problem (req, problem.status, problem.code, problem.field, problem.detail, NULL,
                          NULL, NULL);
    return s_route_send (self, req, route, member);
}

//  A PATCH's read came back: merge the body into the item and send the change.
static void s_patch_continue (self_t *self, request_t *req)
{
    ProtobufCMessage *reply = req->reply;
    req->reply = NULL;
    ProtobufCMessage **slot = pmo_wire_message_slot (reply, req->route->reply);
    json_t *current = slot && *slot ? pmo_json_from_message (*slot) : NULL;
    protobuf_c_message_free_unpacked (reply, NULL);
    gateway_problem_t problem;
    json_t *member = NULL;
    if (current) {
        gateway_merge_patch (current, req->patch);
        member =
            gateway_route_member (req->route, current, NULL, req->param, req->version, &problem);
        json_decref (current);
    }
    ProtobufCMessage *request =
        member ? gateway_route_request (req->route, member, &problem) : NULL;
    json_decref (member);
    req->kind = KIND_ROUTE;
    if (!request || s_call (self, req, req->route->service, request, &req->caller.identity,
                            req->request_id, self->config.upstream_timeout_ms)) {
        //  Answered when it resumes: an internal failure of the merge
        req->fail = 500;
        s_ready (req);
    }
}

//  Warnings (rules that advised without blocking) as one Warning header.
static void s_warnings (const ProtobufCMessage *reply, char *warning, size_t size)
{
    *warning = 0;
    const ProtobufCFieldDescriptor *field =
        protobuf_c_message_descriptor_get_field_by_name (reply->descriptor, "warnings");
    if (!field || field->type != PROTOBUF_C_TYPE_STRING)
        return;
    size_t n = *(const size_t *)((const char *)reply + field->quantifier_offset);
    char *const *list = *(char *const *const *)((const char *)reply + field->offset);
    for (size_t i = 0; i < n; i++) {
        size_t used = strlen (warning);
        snprintf (warning + used, size - used, "%s199 pmo \"", i ? ", " : "");
        used = strlen (warning);
        for (const char *c = list[i]; *c && used + 3 < size; c++)
            if (*c != '"' && *c != '\\' && (unsigned char)*c >= 32)
                warning[used++] = *c;
        warning[used] = 0;
        snprintf (warning + used, size - used, "\"");
    }
}

//  The reply of a route came: answer it.
static enum MHD_Result s_route_finish (self_t *self, request_t *req)
{
    const gateway_route_t *route = req->route;
    if (req->fail == 504)
        return s_problem (req, 504, "deadline_exceeded", "",
                          "the service did not answer in time; retry with the same "
                          "Idempotency-Key to learn whether it was done",
                          NULL, NULL, NULL);
    if (req->fail)
        return s_problem (req, 500, "internal", "", "the change could not be built from the item",
                          NULL, NULL, NULL);
    ProtobufCMessage *reply = req->reply;
    if (s_reply_error (reply))
        return s_service_problem (self, req, route, reply, req->version != 0);
    ProtobufCMessage **slot = pmo_wire_message_slot (reply, route->reply);
    json_t *doc = slot && *slot ? pmo_json_from_message (*slot) : NULL;
    uint64_t etag = slot && *slot && pmo_reflect_has ((*slot)->descriptor, "version")
                        ? pmo_reflect_u64 (*slot, "version")
                        : 0;
    char warning[1024];
    s_warnings (reply, warning, sizeof warning);
    if (!doc)
        return s_problem (req, 500, "internal", "", "the service's answer is empty", NULL, NULL,
                          NULL);
    if (route->service == GATEWAY_SVC_GATEWAY)
        s_strip (doc, "hash");
    if (route->op == GATEWAY_OP_LIST && route->items) {
        json_t *items = json_object_get (doc, route->items);
        json_t *next = json_object_get (doc, "next_cursor");
        json_t *page = json_pack ("{s:O, s:O}", "items", items ? items : json_array (),
                                  "next_cursor", next ? next : json_string (""));
        json_decref (doc);
        doc = page;
        etag = 0;
    }
    if (route->op == GATEWAY_OP_LIST)
        etag = 0;
    if (route->op == GATEWAY_OP_GET && etag) {
        const char *none =
            MHD_lookup_connection_value (req->connection, MHD_HEADER_KIND, "If-None-Match");
        char tag[32];
        snprintf (tag, sizeof tag, "\"%llu\"", (unsigned long long)etag);
        if (none && strcmp (none, tag) == 0) {
            json_decref (doc);
            struct MHD_Response *response;
            s_send (req, 304, NULL, NULL, 0, &response);
            MHD_add_response_header (response, "ETag", tag);
            return s_queue (req, response);
        }
    }
    char location[300];
    const char *created = route->location ? s_created_id (doc) : NULL;
    if (created)
        snprintf (location, sizeof location, "%s%s", route->location, created);
    return s_json (req, route->status, doc, etag, created ? location : NULL, warning);
}

//  ---------------------------------------------------------------------
//  Readiness: a ping to every service at once

static enum MHD_Result s_readyz_begin (self_t *self, request_t *req)
{
    req->kind = KIND_READYZ;
    req->pings = calloc (1, sizeof (pings_t));
    assert (req->pings);
    Pmo__Identity identity = PMO__IDENTITY__INIT;
    identity.subject = "pmo-gateway";
    for (int svc = 0; svc < GATEWAY_SVC_COUNT; svc++) {
        req->pings->status[svc] = "absent";
        const gateway_service_t *service = &gateway_services[svc];
        if (!self->dealers[svc] || !service->request_desc)
            continue;
        json_t *doc = json_pack ("{s:{}}", "ping");
        ProtobufCMessage *request = NULL;
        pmo_json_to_message (service->request_desc, doc, &request, NULL);
        json_decref (doc);
        if (!request)
            continue;
        s_new_id (self, req->pings->ids[svc]);
        req->pings->status[svc] = "down";
        req->pings->waiting++;
        s_call (self, req, (gateway_svc_t)svc, request, &identity, req->pings->ids[svc],
                PING_TIMEOUT_MS);
        req->pings->frames[svc] = req->frame;
        req->pings->sizes[svc] = req->frame_size;
        req->pings->sent[svc] = req->sent;
        req->frame = NULL;
    }
    //  A ping that left is not sent again: a service that misses it is
    //  down for this answer (one not connected yet is offered again)
    req->retry_at = 0;
    if (!req->pings->waiting)
        req->stage = STAGE_READY; //  nothing to wait for (not suspended)
    return MHD_YES;
}

static enum MHD_Result s_readyz_finish (self_t *self, request_t *req)
{
    json_t *services = json_object ();
    bool ready = true;
    for (int svc = 0; svc < GATEWAY_SVC_COUNT; svc++) {
        const char *status = req->pings->status[svc];
        json_object_set_new (
            services, gateway_services[svc].name,
            json_pack ("{s:s, s:s}", "status", status, "title", gateway_services[svc].title));
        //  The gateway serves when the registry and its own token store do;
        //  the other services' routes answer 503 while they are away
        if ((svc == GATEWAY_SVC_REGISTRY || svc == GATEWAY_SVC_GATEWAY) && strcmp (status, "up"))
            ready = false;
    }
    json_t *doc = json_pack ("{s:b, s:o}", "ready", ready, "services", services);
    return s_json (req, ready ? 200 : 503, doc, 0, NULL, NULL);
}

//  A ping reply for one of the readiness pings.
static void s_readyz_reply (request_t *req, const char *wait_id, ProtobufCMessage *reply)
{
    for (int svc = 0; svc < GATEWAY_SVC_COUNT; svc++) {
        if (strcmp (req->pings->ids[svc], wait_id) != 0)
            continue;
        ProtobufCMessage **slot = pmo_wire_message_slot (reply, "pong");
        if (slot && *slot)
            req->pings->status[svc] = ((Pmo__Pong *)*slot)->redis_ok ? "up" : "degraded";
        *req->pings->ids[svc] = 0;
        req->pings->waiting--;
    }
    if (req->pings->waiting == 0)
        s_ready (req);
}

//  ---------------------------------------------------------------------
//  Live events, metrics, whoami

//  The divisions who may read live events of (NULL-terminated, caller
//  frees each and the list), and whether that is all of them. -1 if the
//  org units are not known yet.
static int s_visible_divisions (self_t *self, const Pmo__Identity *who, char ***out, bool *all)
{
    if (!self->orgs_read)
        return -1;
    size_t cap = 2;
    for (size_t i = 0; orgtree_division_at (self->orgs, i); i++)
        cap++;
    char **list = calloc (cap, sizeof (char *));
    assert (list);
    size_t n = 0;
    list[n++] = strdup (self->config.hub); //  the org structure is everyone's
    *all = false;
    for (size_t g = 0; g < who->n_grants; g++) {
        const char *path = orgtree_path (self->orgs, who->grants[g]->org_unit);
        if (path && !strchr (path, '/'))
            *all = true;
    }
    for (size_t i = 0; orgtree_division_at (self->orgs, i); i++) {
        const char *division = orgtree_division_at (self->orgs, i);
        bool take = *all;
        for (size_t g = 0; g < who->n_grants && !take; g++) {
            const char *of = orgtree_division (self->orgs, who->grants[g]->org_unit);
            take = of && strcmp (of, division) == 0;
        }
        bool known = false;
        for (size_t k = 0; k < n; k++)
            known = known || strcmp (list[k], division) == 0;
        if (take && !known)
            list[n++] = strdup (division);
    }
    *out = list;
    return 0;
}

static void s_strv_free (char **list)
{
    for (size_t i = 0; list && list[i]; i++)
        free (list[i]);
    free (list);
}

static enum MHD_Result s_events (self_t *self, request_t *req)
{
    struct MHD_Connection *connection = req->connection;
    char **divisions = NULL;
    bool all = false;
    if (s_visible_divisions (self, &req->caller.identity, &divisions, &all))
        return s_problem (req, 503, "unavailable", "",
                          "the org units are not known yet (the registry decides which streams "
                          "you may read); retry shortly",
                          NULL, "Retry-After", "1");
    const char *last = MHD_lookup_connection_value (connection, MHD_HEADER_KIND, "Last-Event-ID");
    const char *since = MHD_lookup_connection_value (connection, MHD_GET_ARGUMENT_KIND, "since");
    gateway_sse_config_t config = {
        .connection = connection,
        .divisions = (const char *const *)divisions,
        .all_divisions = all,
        .token = req->caller.token,
        .filter =
            {
                .org_unit =
                    MHD_lookup_connection_value (connection, MHD_GET_ARGUMENT_KIND, "org_unit"),
                .project =
                    MHD_lookup_connection_value (connection, MHD_GET_ARGUMENT_KIND, "project"),
                .types = MHD_lookup_connection_value (connection, MHD_GET_ARGUMENT_KIND, "type"),
            },
        //  An EventSource cannot set headers on its first connection: ?since=
        //  does what Last-Event-ID does
        .last_event_id = last ? last : since,
        .heartbeat_ms = self->config.heartbeat_ms,
        .metrics = self->metrics,
        .clients = self->sse,
    };
    bool bad_id;
    gateway_sse_t *sse = gateway_sse_new (&config, self->store, &bad_id);
    s_strv_free (divisions);
    if (!sse)
        return bad_id ? s_problem (req, 400, "invalid", "Last-Event-ID",
                                   "Last-Event-ID is an id this stream sent "
                                   "(<stream id>/<division>)",
                                   NULL, NULL, NULL)
                      : s_problem (req, 503, "unavailable", "",
                                   "the event store (Redis) is unavailable; retry shortly", NULL,
                                   "Retry-After", "1");
    //  A resume has history to send: read it now
    self->sse_woken = true;
    struct MHD_Response *response = MHD_create_response_from_callback (
        MHD_SIZE_UNKNOWN, 8192, gateway_sse_read, sse, gateway_sse_free);
    MHD_add_response_header (response, "Content-Type", "text/event-stream");
    MHD_add_response_header (response, "Cache-Control", "no-store");
    MHD_add_response_header (response, "X-Accel-Buffering", "no");
    req->status = 200;
    req->stage = STAGE_DONE;
    return s_queue (req, response);
}

static enum MHD_Result s_metrics (self_t *self, request_t *req)
{
    char *text = NULL;
    size_t size = 0;
    gateway_metrics_render (self->metrics, &text, &size);
    //  Queue depths and consumer lag of the division streams the caller may see
    char **divisions = NULL;
    bool all;
    if (s_visible_divisions (self, &req->caller.identity, &divisions, &all) == 0) {
        gateway_metrics_printf (&text, &size,
                                "# HELP pmo_stream_length Entries in a division's event "
                                "stream.\n# TYPE pmo_stream_length gauge\n");
        char *groups = NULL;
        size_t groups_size = 0;
        gateway_metrics_printf (&groups, &groups_size,
                                "# HELP pmo_stream_group_pending Entries delivered to a consumer "
                                "group and not yet acknowledged.\n# TYPE pmo_stream_group_pending "
                                "gauge\n# HELP pmo_stream_group_lag Entries not yet delivered to "
                                "a consumer group.\n# TYPE pmo_stream_group_lag gauge\n");
        for (size_t i = 0; divisions[i]; i++) {
            long long length;
            gateway_group_figures_t figures[16];
            size_t n;
            gateway_store_stream_figures (self->store, divisions[i], &length, figures, 16, &n);
            if (length >= 0)
                gateway_metrics_printf (&text, &size, "pmo_stream_length{division=\"%s\"} %lld\n",
                                        divisions[i], length);
            for (size_t g = 0; g < n; g++) {
                if (figures[g].pending >= 0)
                    gateway_metrics_printf (
                        &groups, &groups_size,
                        "pmo_stream_group_pending{division=\"%s\",group=\"%s\"} %lld\n",
                        divisions[i], figures[g].name, figures[g].pending);
                if (figures[g].lag >= 0)
                    gateway_metrics_printf (
                        &groups, &groups_size,
                        "pmo_stream_group_lag{division=\"%s\",group=\"%s\"} %lld\n", divisions[i],
                        figures[g].name, figures[g].lag);
            }
        }
        gateway_metrics_printf (&text, &size, "%s", groups);
        free (groups);
        s_strv_free (divisions);
    }
    struct MHD_Response *response;
    s_send (req, 200, "text/plain; version=0.0.4; charset=utf-8", text, size, &response);
    MHD_add_response_header (response, "Cache-Control", "no-store");
    return s_queue (req, response);
}

static enum MHD_Result s_whoami (self_t *self, request_t *req)
{
    json_t *token = pmo_json_from_message (&req->caller.token->base);
    s_strip (token, "hash");
    json_t *doc =
        json_pack ("{s:s, s:O, s:O, s:s}", "subject", req->caller.token->subject, "grants",
                   json_object_get (token, "grants"), "token", token, "hub", self->config.hub);
    json_decref (token);
    return s_json (req, 200, doc, 0, NULL, NULL);
}

//  ---------------------------------------------------------------------
//  Static files (the dashboard)

static const char *s_content_type (const char *path)
{
    const char *dot = strrchr (path, '.');
    if (!dot)
        return "application/octet-stream";
    if (strcmp (dot, ".html") == 0)
        return "text/html; charset=utf-8";
    if (strcmp (dot, ".js") == 0)
        return "text/javascript; charset=utf-8";
    if (strcmp (dot, ".css") == 0)
        return "text/css; charset=utf-8";
    if (strcmp (dot, ".svg") == 0)
        return "image/svg+xml";
    if (strcmp (dot, ".json") == 0)
        return "application/json";
    if (strcmp (dot, ".png") == 0)
        return "image/png";
    return "application/octet-stream";
}

//  Read a whole file (malloc'd). NULL if it cannot be read or is too big.
static char *s_read_file (const char *path, size_t *size)
{
    FILE *file = fopen (path, "rb");
    if (!file)
        return NULL;
    struct stat info;
    char *data = NULL;
    if (fstat (fileno (file), &info) == 0 && S_ISREG (info.st_mode) && info.st_size <= STATIC_MAX) {
        data = malloc ((size_t)info.st_size + 1);
        assert (data);
        *size = fread (data, 1, (size_t)info.st_size, file);
        data[*size] = 0;
    }
    fclose (file);
    return data;
}

static enum MHD_Result s_static (self_t *self, request_t *req, const char *url)
{
    const char *name = strcmp (url, "/") == 0 ? "index.html" : url + 1;
    //  Only plain names below www/: no "..", no hidden files
    bool ok = *name && *name != '.' && strlen (name) < 200 && !strstr (name, "..");
    for (const char *c = name; ok && *c; c++)
        ok = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
             *c == '-' || *c == '_' || *c == '.' || *c == '/';
    char path[512];
    size_t size = 0;
    char *data = NULL;
    if (ok) {
        snprintf (path, sizeof path, "%s/%s", self->config.www, name);
        data = s_read_file (path, &size);
    }
    if (!data)
        return s_problem (req, 404, "not_found", "", "no such page", NULL, NULL, NULL);
    struct MHD_Response *response;
    s_send (req, 200, s_content_type (name), data, size, &response);
    MHD_add_response_header (response, "Cache-Control", "no-cache");
    MHD_add_response_header (response, "Content-Security-Policy",
                             "default-src 'self'; img-src 'self' data:; style-src 'self'; "
                             "script-src 'self'; connect-src 'self'; frame-ancestors 'none'; "
                             "base-uri 'none'; form-action 'self'");
    MHD_add_response_header (response, "X-Frame-Options", "DENY");
    MHD_add_response_header (response, "Referrer-Policy", "no-referrer");
    return s_queue (req, response);
}

//  ---------------------------------------------------------------------
//  Import, export and the portfolio report: jobs on their own threads

static size_t s_import_max (self_t *self)
{
    return self->config.max_import ? self->config.max_import : IMPORT_MAX_DEFAULT;
}

//  The body limit of a request to url.
static size_t s_body_max (self_t *self, const char *url, const char *method)
{
    return strcmp (method, "POST") == 0 && strcmp (url, "/api/v1/import") == 0
               ? s_import_max (self)
               : self->config.max_body;
}

//  A query flag: absent, "", "0", "false", "no" is false; "1", "true",
//  "yes" true. -1 for anything else.
static int s_flag (const json_t *query, const char *name)
{
    const char *value = json_string_value (json_object_get (query, name));
    if (!value || !*value || strcmp (value, "0") == 0 || strcmp (value, "false") == 0 ||
        strcmp (value, "no") == 0)
        return value && !*value ? 1 : 0; //  "?dry_run" alone means yes
    if (strcmp (value, "1") == 0 || strcmp (value, "true") == 0 || strcmp (value, "yes") == 0)
        return 1;
    return -1;
}

//  The query parameters, checked against those allowed (NULL-terminated).
//  NULL after answering 400.
static json_t *s_job_query (request_t *req, const char *const *allowed, enum MHD_Result *answered)
{
    query_t query = {.obj = json_object ()};
    MHD_get_connection_values (req->connection, MHD_GET_ARGUMENT_KIND, s_query_collect, &query);
    char detail[200];
    if (query.duplicate) {
        snprintf (detail, sizeof detail, "query parameter '%s' is given twice", query.name);
        json_decref (query.obj);
        *answered = s_problem (req, 400, "invalid", query.name, detail, NULL, NULL, NULL);
        return NULL;
    }
    const char *key;
    json_t *value;
    json_object_foreach (query.obj, key, value)
    {
        bool known = false;
        for (size_t i = 0; allowed[i] && !known; i++)
            known = strcmp (allowed[i], key) == 0;
        if (!known) {
            snprintf (detail, sizeof detail, "unknown query parameter '%s'", key);
            *answered = s_problem (req, 400, "invalid", key, detail, NULL, NULL, NULL);
            json_decref (query.obj);
            return NULL;
        }
    }
    return query.obj;
}

//  Start the job; the connection waits for it.
static enum MHD_Result s_job_start (self_t *self, request_t *req, gateway_job_params_t *params)
{
    if (zlistx_size (self->jobs) >= JOBS_MAX)
        return s_problem (req, 503, "unavailable", "",
                          "too many imports, exports and reports at once; retry shortly", NULL,
                          "Retry-After", "2");
    params->registry = self->config.upstreams[GATEWAY_SVC_REGISTRY];
    params->allocator =
        self->dealers[GATEWAY_SVC_ALLOCATOR] ? self->config.upstreams[GATEWAY_SVC_ALLOCATOR] : NULL;
    params->riskmon =
        self->dealers[GATEWAY_SVC_RISKMON] ? self->config.upstreams[GATEWAY_SVC_RISKMON] : NULL;
    params->hub = self->config.hub;
    params->identity = &req->caller.identity;
    params->notify = self->jobs_endpoint;
    gateway_job_t *job = gateway_job_start (params);
    if (!job)
        return s_problem (req, 503, "unavailable", "", "no thread could be started; retry shortly",
                          NULL, "Retry-After", "1");
    gateway_job_set_owner (job, req);
    zlistx_add_end (self->jobs, job);
    req->job = job;
    req->kind = KIND_JOB;
    req->stage = STAGE_WAITING;
    MHD_suspend_connection (req->connection);
    return MHD_YES;
}

static bool s_csv_type (struct MHD_Connection *connection)
{
    const char *type = MHD_lookup_connection_value (connection, MHD_HEADER_KIND, "Content-Type");
    return !type || strncasecmp (type, "text/csv", 8) == 0 ||
           strncasecmp (type, "text/plain", 10) == 0 ||
           strncasecmp (type, "application/csv", 15) == 0 ||
           strncasecmp (type, "application/octet-stream", 24) == 0 ||
           strncasecmp (type, "application/x-www-form-urlencoded", 33) == 0;
}

static enum MHD_Result s_import_begin (self_t *self, request_t *req)
{
    static const char *const allowed[] = {"entity",   "mapping",          "dry_run",
                                          "skip_bad", "create_org_units", NULL};
    if (!s_csv_type (req->connection))
        return s_problem (req, 415, "unsupported_media_type", "Content-Type",
                          "send the file as text/csv", NULL, NULL, NULL);
    enum MHD_Result answered;
    json_t *query = s_job_query (req, allowed, &answered);
    if (!query)
        return answered;
    const char *entity = json_string_value (json_object_get (query, "entity"));
    const char *name = json_string_value (json_object_get (query, "mapping"));
    int dry_run = s_flag (query, "dry_run"), skip_bad = s_flag (query, "skip_bad"),
        create = s_flag (query, "create_org_units");
    const char *bad = dry_run < 0    ? "dry_run"
                      : skip_bad < 0 ? "skip_bad"
                      : create < 0   ? "create_org_units"
                                     : NULL;
    char detail[300];
    char *mapping = NULL;
    size_t mapping_size = 0;
    enum MHD_Result rc = MHD_YES;
    if (bad) {
        snprintf (detail, sizeof detail, "%s is 1 or 0 (true or false)", bad);
        rc = s_problem (req, 400, "invalid", bad, detail, NULL, NULL, NULL);
    } else if (!entity == !name)
        rc = s_problem (req, 400, "invalid", "entity",
                        "give entity=<kind> (a file in the export format) or mapping=<name>", NULL,
                        NULL, NULL);
    else if (entity && !portio_import_mapping_entity_known (entity))
        rc = s_problem (req, 400, "invalid", "entity",
                        "entity is org_unit, project, milestone, status_report, resource, "
                        "allocation, risk or issue",
                        NULL, NULL, NULL);
    else if (name) {
        //  A mapping kept on the server: a plain name in the mappings directory
        bool ok = *name && strlen (name) <= 64;
        for (const char *c = name; ok && *c; c++)
            ok = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
                 *c == '-' || *c == '_';
        char path[600];
        if (ok && self->config.mappings && *self->config.mappings) {
            snprintf (path, sizeof path, "%s/%s.json", self->config.mappings, name);
            mapping = s_read_file (path, &mapping_size);
        }
        if (!mapping) {
            snprintf (detail, sizeof detail,
                      "no mapping '%.64s' on this gateway (a name of a file in its "
                      "mappings directory, without .json)",
                      name);
            rc = s_problem (req, 400, "invalid", "mapping", detail, NULL, NULL, NULL);
        }
    }
    if (rc == MHD_YES && req->stage != STAGE_DONE) {
        gateway_job_params_t params = {
            .kind = GATEWAY_JOB_IMPORT,
            .entity = entity,
            .mapping = mapping,
            .mapping_size = mapping_size,
            .data = req->body,
            .size = req->size,
            .dry_run = dry_run == 1,
            .skip_bad = skip_bad == 1,
            .create_org_units = create == 1,
        };
        req->body = NULL; //  the job's now
        req->size = 0;
        rc = s_job_start (self, req, &params);
        if (!req->job) {
            req->body = params.data; //  not started: still ours
            req->size = params.size;
        }
    }
    free (mapping);
    json_decref (query);
    return rc;
}

//  The segment after prefix in url: one path segment of safe characters
//  (copied into out). false if there is none.
static bool s_segment (const char *url, const char *prefix, char *out, size_t size)
{
    size_t len = strlen (prefix);
    if (strncmp (url, prefix, len) != 0)
        return false;
    const char *segment = url + len;
    bool ok = *segment && strlen (segment) < size;
    for (const char *c = segment; ok && *c; c++)
        ok = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
             *c == '-' || *c == '_' || *c == '.';
    if (ok)
        snprintf (out, size, "%s", segment);
    return ok;
}

static enum MHD_Result s_export_begin (self_t *self, request_t *req)
{
    static const char *const allowed[] = {"org_unit", "bom", NULL};
    if (!portio_import_mapping_entity_known (req->param))
        return s_problem (req, 404, "not_found", "entity",
                          "export org_unit, project, milestone, status_report, resource, "
                          "allocation, risk or issue",
                          NULL, NULL, NULL);
    enum MHD_Result answered;
    json_t *query = s_job_query (req, allowed, &answered);
    if (!query)
        return answered;
    int bom = s_flag (query, "bom");
    enum MHD_Result rc;
    if (bom < 0)
        rc = s_problem (req, 400, "invalid", "bom", "bom is 1 or 0 (true or false)", NULL, NULL,
                        NULL);
    else {
        gateway_job_params_t params = {
            .kind = GATEWAY_JOB_EXPORT,
            .entity = req->param,
            .org_unit = json_string_value (json_object_get (query, "org_unit")),
            .bom = bom == 1,
        };
        rc = s_job_start (self, req, &params);
    }
    json_decref (query);
    return rc;
}

static enum MHD_Result s_report_begin (self_t *self, request_t *req)
{
    static const char *const allowed[] = {"format", "table", "since", "bom", NULL};
    enum MHD_Result answered;
    json_t *query = s_job_query (req, allowed, &answered);
    if (!query)
        return answered;
    const char *format = json_string_value (json_object_get (query, "format"));
    const char *table = json_string_value (json_object_get (query, "table"));
    const char *since = json_string_value (json_object_get (query, "since"));
    int bom = s_flag (query, "bom");
    format = format ? format : "json";
    bool known_table = !table;
    for (const char *const *t = portio_report_tables (); *t && !known_table; t++)
        known_table = strcmp (*t, table) == 0;
    struct tm tm = {0};
    const char *end = since ? strptime (since, "%Y-%m-%d", &tm) : NULL;
    enum MHD_Result rc;
    if (strcmp (format, "json") && strcmp (format, "html") && strcmp (format, "csv"))
        rc = s_problem (req, 400, "invalid", "format", "format is json, html or csv", NULL, NULL,
                        NULL);
    else if (!known_table || (table && strcmp (format, "csv")))
        rc = s_problem (req, 400, "invalid", "table",
                        "table (with format=csv) is summary, rag, phase, status, units, projects, "
                        "changes, risks, overallocated or alerts",
                        NULL, NULL, NULL);
    else if (since && (!pmo_date_valid (since) || !end || *end))
        rc = s_problem (req, 400, "invalid", "since", "since is a date, YYYY-MM-DD", NULL, NULL,
                        NULL);
    else if (bom < 0)
        rc = s_problem (req, 400, "invalid", "bom", "bom is 1 or 0 (true or false)", NULL, NULL,
                        NULL);
    else {
        gateway_job_params_t params = {
            .kind = GATEWAY_JOB_REPORT,
            .org_unit = req->param,
            .format = format,
            .table = table ? table : "summary",
            .since_ms = since ? (int64_t)timegm (&tm) * 1000 : 0,
            .bom = bom == 1,
        };
        rc = s_job_start (self, req, &params);
    }
    json_decref (query);
    return rc;
}

//  A job pushed itself: it is done. Answer its request (if the client is
//  still there) or let it go.
static void s_job_done (self_t *self)
{
    gateway_job_t *job = NULL;
    if (zsock_recv (self->jobs_pull, "p", &job) || !job)
        return;
    void *handle = zlistx_find (self->jobs, job);
    if (handle)
        zlistx_delete (self->jobs, handle);
    request_t *req = gateway_job_owner (job);
    if (!req) {
        gateway_job_destroy (&job); //  the client went away, or we are stopping
        return;
    }
    req->job_done = true;
    s_ready (req);
}

static enum MHD_Result s_job_finish (self_t *self, request_t *req)
{
    (void)self;
    if (!req->job) //  stopping before it ended
        return s_problem (req, 503, "unavailable", "", "the gateway is stopping; retry shortly",
                          NULL, "Retry-After", "1");
    gateway_job_answer_t *answer = gateway_job_answer (req->job);
    if (!answer->body) {
        json_t *extra = answer->extra;
        answer->extra = NULL;
        return s_problem (req, answer->status, answer->code, answer->field, answer->detail, extra,
                          answer->status == 503 ? "Retry-After" : NULL, "1");
    }
    struct MHD_Response *response;
    s_send (req, answer->status, answer->type, answer->body, answer->size, &response);
    answer->body = NULL; //  the response frees it
    MHD_add_response_header (response, "Cache-Control", "no-store");
    if (*answer->filename) {
        char disposition[160];
        snprintf (disposition, sizeof disposition, "attachment; filename=\"%s\"", answer->filename);
        MHD_add_response_header (response, "Content-Disposition", disposition);
    }
    if (strncmp (answer->type, "text/html", 9) == 0)
        //  The report page is self-contained: inline styles and SVG, no scripts
        MHD_add_response_header (response, "Content-Security-Policy",
                                 "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
                                 "frame-ancestors 'none'");
    return s_queue (req, response);
}

//  ---------------------------------------------------------------------
//  Dispatch

static enum MHD_Result s_dispatch (self_t *self, request_t *req, const char *url,
                                   const char *method)
{
    bool get = strcmp (method, "GET") == 0 || strcmp (method, "HEAD") == 0;
    if (get && strcmp (url, "/healthz") == 0) {
        req->label = self->n_routes + SPECIAL_HEALTHZ;
        return s_json (req, 200, json_pack ("{s:s}", "status", "ok"), 0, NULL, NULL);
    }
    if (get && strcmp (url, "/readyz") == 0) {
        req->label = self->n_routes + SPECIAL_READYZ;
        s_readyz_begin (self, req);
        return req->stage == STAGE_READY ? s_readyz_finish (self, req) : MHD_YES;
    }
    bool api = strncmp (url, "/api/", 5) == 0 || strcmp (url, "/api") == 0;
    if (!api && strcmp (url, "/metrics") != 0) {
        req->label = self->n_routes + SPECIAL_STATIC;
        if (!get)
            return s_problem (req, 405, "method_not_allowed", "", "pages are read-only", NULL,
                              "Allow", "GET, HEAD");
        return s_static (self, req, url);
    }
    //  Everything else needs a token
    req->label = self->n_routes + SPECIAL_UNKNOWN;
    if (req->too_large) {
        char detail[120];
        snprintf (detail, sizeof detail, "the body is larger than %zu bytes",
                  s_body_max (self, url, method));
        return s_problem (req, 413, "too_large", "", detail, NULL, NULL, NULL);
    }
    enum MHD_Result answered;
    if (s_authenticate (self, req, &answered))
        return answered;
    int wait = s_rate_take (self, req->caller.token);
    if (wait) {
        gateway_metrics_rate_limited (self->metrics);
        char seconds[16];
        snprintf (seconds, sizeof seconds, "%d", wait);
        return s_problem (req, 429, "rate_limited", "",
                          "this token sends requests faster than its limit; wait and retry", NULL,
                          "Retry-After", seconds);
    }
    //  The request id: the Idempotency-Key, scoped to the token so that
    //  nobody can replay (and read) another caller's answer by guessing keys
    const char *key =
        MHD_lookup_connection_value (req->connection, MHD_HEADER_KIND, "Idempotency-Key");
    if (key) {
        bool ok = *key && strlen (key) <= 200;
        for (const char *c = key; ok && *c; c++)
            ok = *c > 32 && *c < 127;
        if (!ok)
            return s_problem (req, 400, "invalid", "Idempotency-Key",
                              "Idempotency-Key is 1 to 200 printable characters", NULL, NULL, NULL);
        char hash[GATEWAY_HASH_HEX];
        gateway_sha256_hex (key, strlen (key), hash);
        snprintf (req->request_id, sizeof req->request_id, "%s.%.40s", req->caller.token->id, hash);
    } else
        s_new_id (self, req->request_id);
    char allow[128];
    if (get && strcmp (url, "/metrics") == 0) {
        req->label = self->n_routes + SPECIAL_METRICS;
        return s_metrics (self, req);
    }
    if (get && strcmp (url, "/api/v1/events") == 0) {
        req->label = self->n_routes + SPECIAL_EVENTS;
        return s_events (self, req);
    }
    if (get && strcmp (url, "/api/v1/whoami") == 0) {
        req->label = self->n_routes + SPECIAL_WHOAMI;
        return s_whoami (self, req);
    }
    if (get && strcmp (url, "/api/v1/openapi.json") == 0) {
        req->label = self->n_routes + SPECIAL_OPENAPI;
        if (!self->openapi)
            return s_problem (req, 404, "not_found", "",
                              "the OpenAPI document was not found at start", NULL, NULL, NULL);
        char *copy = malloc (self->openapi_size);
        assert (copy);
        memcpy (copy, self->openapi, self->openapi_size);
        return s_send (req, 200, "application/json", copy, self->openapi_size, NULL);
    }
    //  Import, export and reports: on a thread of their own
    bool import = strcmp (url, "/api/v1/import") == 0;
    bool export = s_segment (url, "/api/v1/export/", req->param, sizeof req->param);
    bool report = s_segment (url, "/api/v1/reports/", req->param, sizeof req->param);
    if (import || export || report) {
        req->label = self->n_routes + (import   ? SPECIAL_IMPORT
                                       : export ? SPECIAL_EXPORT
                                                : SPECIAL_REPORT);
        if (import != (strcmp (method, "POST") == 0) || (!import && !get))
            return s_problem (req, 405, "method_not_allowed", "", "see Allow", NULL, "Allow",
                              import ? "POST" : "GET, HEAD");
        if (!import && req->size > 0)
            return s_problem (req, 400, "invalid", "", "this request takes no body", NULL, NULL,
                              NULL);
        return import   ? s_import_begin (self, req)
               : export ? s_export_begin (self, req)
                        : s_report_begin (self, req);
    }
    req->route =
        gateway_route_match (method, url, req->param, sizeof req->param, allow, sizeof allow);
    if (req->route) {
        req->label = (size_t)(req->route - gateway_routes);
        return s_route_begin (self, req);
    }
    if (*allow)
        return s_problem (req, 405, "method_not_allowed", "", "see Allow", NULL, "Allow", allow);
    return s_problem (req, 404, "not_found", "", "no such resource", NULL, NULL, NULL);
}

static enum MHD_Result s_access (void *cls, struct MHD_Connection *connection, const char *url,
                                 const char *method, const char *version, const char *upload_data,
                                 size_t *upload_data_size, void **con_cls)
{
    self_t *self = cls;
    request_t *req = *con_cls;
    if (!req) {
        req = calloc (1, sizeof (request_t));
        assert (req);
        req->connection = connection;
        req->started_us = zclock_usecs ();
        req->label = self->n_routes + SPECIAL_UNKNOWN;
        *con_cls = req;
        const char *length =
            MHD_lookup_connection_value (connection, MHD_HEADER_KIND, "Content-Length");
        if (length && strtoull (length, NULL, 10) > s_body_max (self, url, method)) {
            //  Refuse before reading it; the connection closes after this
            char detail[120];
            snprintf (detail, sizeof detail, "the body is larger than %zu bytes",
                      s_body_max (self, url, method));
            return s_problem (req, 413, "too_large", "", detail, NULL, NULL, NULL);
        }
        return MHD_YES;
    }
    if (req->stage == STAGE_DONE || req->stage == STAGE_WAITING) {
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (req->stage == STAGE_READY) {
        if (req->kind == KIND_READYZ)
            return s_readyz_finish (self, req);
        if (req->kind == KIND_JOB)
            return s_job_finish (self, req);
        return s_route_finish (self, req);
    }
    if (*upload_data_size) {
        if (!req->too_large && req->size + *upload_data_size <= s_body_max (self, url, method)) {
            req->body = realloc (req->body, req->size + *upload_data_size + 1);
            assert (req->body);
            memcpy (req->body + req->size, upload_data, *upload_data_size);
            req->size += *upload_data_size;
            req->body[req->size] = 0;
        } else {
            req->too_large = true;
            free (req->body);
            req->body = NULL;
            req->size = 0;
        }
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (self->stopping)
        return s_problem (req, 503, "unavailable", "", "the gateway is stopping", NULL,
                          "Retry-After", "1");
    return s_dispatch (self, req, url, method);
}

static void s_completed (void *cls, struct MHD_Connection *connection, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    self_t *self = cls;
    request_t *req = *con_cls;
    if (!req)
        return;
    //  A request still waiting (the client went away): forget it
    if (*req->wait_id && zhashx_lookup (self->pending, req->wait_id) == req)
        zhashx_delete (self->pending, req->wait_id);
    for (int svc = 0; req->pings && svc < GATEWAY_SVC_COUNT; svc++) {
        if (*req->pings->ids[svc] && zhashx_lookup (self->pending, req->pings->ids[svc]) == req)
            zhashx_delete (self->pending, req->pings->ids[svc]);
        free (req->pings->frames[svc]);
    }
    free (req->pings);
    //  A job still running finds nobody to answer and is let go when it
    //  ends; a finished one goes now
    if (req->job && req->job_done)
        gateway_job_destroy (&req->job);
    else if (req->job)
        gateway_job_set_owner (req->job, NULL);
    int64_t took = zclock_usecs () - req->started_us;
    gateway_metrics_request (self->metrics, req->label, req->status ? req->status : 499, took);
    s_caller_clear (&req->caller);
    json_decref (req->patch);
    if (req->reply)
        protobuf_c_message_free_unpacked (req->reply, NULL);
    free (req->frame);
    free (req->body);
    free (req);
    *con_cls = NULL;
}

//  libmicrohttpd's own messages (mostly clients that went away) go to our
//  log at debug level.
static void s_mhd_log (void *cls, const char *format, va_list args)
{
    char line[512];
    vsnprintf (line, sizeof line, format, args);
    line[strcspn (line, "\n")] = 0;
    pmo_debug ("gateway: http %s", line);
}

static int s_parse_listen (const char *text, struct sockaddr_in *addr)
{
    char host[64];
    const char *colon = strrchr (text, ':');
    if (!colon || (size_t)(colon - text) >= sizeof host)
        return -1;
    memcpy (host, text, (size_t)(colon - text));
    host[colon - text] = 0;
    char *end = NULL;
    long port = strtol (colon + 1, &end, 10);
    if (!end || *end || port <= 0 || port > 65535)
        return -1;
    memset (addr, 0, sizeof *addr);
    addr->sin_family = AF_INET;
    addr->sin_port = htons ((uint16_t)port);
    if (inet_pton (AF_INET, *host ? host : "0.0.0.0", &addr->sin_addr) != 1)
        return -1;
    return 0;
}

//  ---------------------------------------------------------------------
//  The reactor

//  Ask the registry for a page of the org units (after cursor; NULL: the
//  first) on our own DEALER, as the gateway (the org structure is visible
//  to everyone signed in). The reactor never waits for the registry: the
//  reply is fed to the tree when it comes (s_orgs_take).
static void s_orgs_ask (self_t *self, int64_t now, const char *cursor)
{
    zsock_t *dealer = self->dealers[GATEWAY_SVC_REGISTRY];
    if (!dealer)
        return;
    Pmo__RegistryRequest request = PMO__REGISTRY_REQUEST__INIT;
    Pmo__ListRequest list;
    orgtree_list_page (self->orgs, &list, cursor);
    request.body_case = PMO__REGISTRY_REQUEST__BODY_LIST;
    request.list = &list;
    Pmo__Header header;
    pmo_header_init (&header, self->orgs_wait, self->config.upstream_timeout_ms, &self->identity);
    request.header = &header;
    size_t size = protobuf_c_message_get_packed_size (&request.base);
    uint8_t *buffer = malloc (size);
    assert (buffer);
    protobuf_c_message_pack (&request.base, buffer);
    zmq_send (zsock_resolve (dealer), buffer, size, ZMQ_DONTWAIT);
    free (buffer);
    //  Soon again while the tree was never read; then every few seconds
    self->orgs_next = now + (self->orgs_read ? ORGS_REFRESH_MS : 500);
}

//  A page of org units came: feed it to the tree, and ask for the next.
static void s_orgs_take (self_t *self, const Pmo__RegistryReply *reply)
{
    const char *cursor = NULL;
    int rc = orgtree_feed (self->orgs, reply, &cursor);
    *self->orgs_wait = 0;
    if (rc == 1)
        self->orgs_read = true;
    else if (rc == 0)
        s_orgs_ask (self, pmo_mono_ms (), cursor);
}

//  A reply from a service: wake the request that waits for it.
static void s_handle_replies (self_t *self, gateway_svc_t svc)
{
    zsock_t *dealer = self->dealers[svc];
    void *handle = zsock_resolve (dealer);
    zmq_msg_t frame;
    zmq_msg_init (&frame);
    while (zmq_msg_recv (&frame, handle, ZMQ_DONTWAIT) >= 0) {
        ProtobufCMessage *reply = protobuf_c_message_unpack (
            gateway_services[svc].reply_desc, NULL, zmq_msg_size (&frame), zmq_msg_data (&frame));
        const Pmo__Header *header = reply ? pmo_wire_header (reply) : NULL;
        const char *id = header && header->request_id ? header->request_id : "";
        request_t *req = *id ? zhashx_lookup (self->pending, id) : NULL;
        if (svc == GATEWAY_SVC_REGISTRY && *id && strcmp (id, self->orgs_wait) == 0)
            s_orgs_take (self, (Pmo__RegistryReply *)reply);
        else if (req) {
            zhashx_delete (self->pending, id);
            if (req->kind == KIND_READYZ) {
                s_readyz_reply (req, id, reply);
                protobuf_c_message_free_unpacked (reply, NULL);
                reply = NULL;
            } else {
                req->reply = reply;
                reply = NULL;
                if (req->kind == KIND_PATCH && !s_reply_error (req->reply))
                    s_patch_continue (self, req);
                else
                    s_ready (req);
            }
        }
        //  Else a late reply to a request that timed out or went away
        if (reply)
            protobuf_c_message_free_unpacked (reply, NULL);
    }
    zmq_msg_close (&frame);
}

//  Retries and deadlines of requests waiting for a service. Returns the
//  next moment one is due (monotonic), or INT64_MAX.
static int64_t s_check_pending (self_t *self, int64_t now)
{
    int64_t next = INT64_MAX;
    zlistx_t *expired = zlistx_new ();
    zlistx_set_destructor (expired, (zlistx_destructor_fn *)zstr_free);
    for (request_t *req = zhashx_first (self->pending); req; req = zhashx_next (self->pending)) {
        const char *key = zhashx_cursor (self->pending);
        if (now >= req->deadline) {
            zlistx_add_end (expired, strdup (key));
            continue;
        }
        if (req->kind == KIND_READYZ) {
            for (int svc = 0; svc < GATEWAY_SVC_COUNT; svc++) {
                if (strcmp (req->pings->ids[svc], key) != 0 || req->pings->sent[svc])
                    continue;
                req->pings->sent[svc] =
                    zmq_send (zsock_resolve (self->dealers[svc]), req->pings->frames[svc],
                              req->pings->sizes[svc], ZMQ_DONTWAIT) >= 0;
                if (!req->pings->sent[svc] && now + UNSENT_RETRY_MS < next)
                    next = now + UNSENT_RETRY_MS;
            }
        } else if (req->retry_at && now >= req->retry_at) {
            bool sent = zmq_send (zsock_resolve (self->dealers[req->svc]), req->frame,
                                  req->frame_size, ZMQ_DONTWAIT) >= 0;
            if (!req->sent)
                req->retry_at = sent ? now + (req->deadline - now) / 2 : now + UNSENT_RETRY_MS;
            else
                req->retry_at = 0;
            req->sent = req->sent || sent;
        }
        if (req->retry_at && req->retry_at < next)
            next = req->retry_at;
        if (req->deadline < next)
            next = req->deadline;
    }
    for (char *key = zlistx_first (expired); key; key = zlistx_next (expired)) {
        request_t *req = zhashx_lookup (self->pending, key);
        zhashx_delete (self->pending, key);
        if (!req)
            continue;
        if (req->kind == KIND_READYZ) {
            for (int svc = 0; svc < GATEWAY_SVC_COUNT; svc++)
                if (strcmp (req->pings->ids[svc], key) == 0) {
                    *req->pings->ids[svc] = 0;
                    req->pings->waiting--;
                }
            if (req->pings->waiting == 0)
                s_ready (req);
            continue;
        }
        gateway_metrics_upstream (self->metrics, req->svc, true);
        pmo_warn ("gateway: no reply service=%s request_id=%s", gateway_services[req->svc].name,
                  key);
        req->fail = 504;
        s_ready (req);
    }
    zlistx_destroy (&expired);
    return next;
}

//  Live-event clients: read their streams when woken or on the sweep, add
//  due heartbeats, and let those with something to send go on.
static void s_pump_events (self_t *self, int64_t now)
{
    bool read = self->sse_woken || now >= self->sse_next_sweep;
    self->sse_woken = false;
    if (read)
        self->sse_next_sweep = now + SWEEP_MS;
    gateway_sse_t *client = zlistx_first (self->sse);
    while (client) {
        //  The next one first: a client never leaves the list here, but
        //  keep the loop safe if one day it does
        gateway_sse_t *next = zlistx_next (self->sse);
        if (read && gateway_sse_pump (client, self->store) == 1)
            self->sse_woken = true;
        gateway_sse_tick (client, now);
        gateway_sse_wake (client);
        client = next;
    }
}

static void s_drain_sub (self_t *self, int64_t now)
{
    void *handle = zsock_resolve (self->sub);
    zmq_msg_t part;
    zmq_msg_init (&part);
    while (zmq_msg_recv (&part, handle, ZMQ_DONTWAIT) >= 0) {
        //  The topic is "<division>.<type>": new org units mean a new snapshot
        const char *data = zmq_msg_data (&part);
        size_t size = zmq_msg_size (&part);
        if (size < 200 && memmem (data, size, ".org_unit.", 10)) {
            orgtree_invalidate (self->orgs);
            self->orgs_next = now;
        }
        while (zmq_msg_more (&part) && zmq_msg_recv (&part, handle, ZMQ_DONTWAIT) >= 0)
            ;
        self->sse_woken = true;
    }
    zmq_msg_close (&part);
}

static void s_self_destroy (self_t *self)
{
    //  Jobs still running end within their service deadlines; wait for
    //  them (their answers go nowhere: the connections are gone)
    for (gateway_job_t *job = zlistx_first (self->jobs); job; job = zlistx_next (self->jobs))
        gateway_job_destroy (&job);
    zlistx_destroy (&self->jobs);
    zsock_destroy (&self->jobs_pull);
    zactor_destroy (&self->admin);
    for (int svc = 0; svc < GATEWAY_SVC_COUNT; svc++)
        zsock_destroy (&self->dealers[svc]);
    zsock_destroy (&self->sub);
    gateway_store_destroy (&self->store);
    pmo_redis_destroy (&self->redis);
    zhashx_destroy (&self->pending);
    zhashx_destroy (&self->tokens);
    zhashx_destroy (&self->buckets);
    zlistx_destroy (&self->sse);
    orgtree_destroy (&self->orgs);
    gateway_metrics_destroy (&self->metrics);
    free (self->openapi);
}

//  Everything but libmicrohttpd. 0, or -1 (logged).
static int s_self_init (self_t *self)
{
    self->redis = pmo_redis_new (self->config.redis_url, self->config.redis_timeout_ms);
    if (!self->redis) {
        pmo_error ("gateway: bad redis url");
        return -1;
    }
    self->store = gateway_store_new (self->redis, self->config.hub);
    pmo__identity__init (&self->identity);
    self->identity.subject = "pmo-gateway";
    //  No registry of its own: the tree is fed from our DEALER (s_orgs_ask)
    orgtree_config_t orgs = {.identity = &self->identity};
    self->orgs = orgtree_new (&orgs);
    assert (self->orgs);
    self->pending = zhashx_new ();
    self->tokens = zhashx_new ();
    zhashx_set_destructor (self->tokens, s_cached_free);
    self->buckets = zhashx_new ();
    zhashx_set_destructor (self->buckets, s_bucket_free);
    self->sse = zlistx_new ();
    self->jobs = zlistx_new ();
    snprintf (self->jobs_endpoint, sizeof self->jobs_endpoint, "inproc://gateway-jobs-%p",
              (void *)self);
    self->jobs_pull = zsock_new_pull (self->jobs_endpoint);
    if (!self->jobs_pull) {
        pmo_error ("gateway: cannot bind %s", self->jobs_endpoint);
        return -1;
    }
    self->n_routes = gateway_route_count ();
    const char **labels = calloc (self->n_routes + SPECIAL_COUNT, sizeof (char *));
    assert (labels);
    for (size_t i = 0; i < self->n_routes; i++)
        labels[i] = zsys_sprintf ("%s %s", gateway_routes[i].method, gateway_routes[i].pattern);
    for (size_t i = 0; i < SPECIAL_COUNT; i++)
        labels[self->n_routes + i] = s_special_labels[i];
    const char *names[GATEWAY_SVC_COUNT];
    for (size_t i = 0; i < GATEWAY_SVC_COUNT; i++)
        names[i] = gateway_services[i].name;
    self->metrics =
        gateway_metrics_new (labels, self->n_routes + SPECIAL_COUNT, names, GATEWAY_SVC_COUNT);
    for (size_t i = 0; i < self->n_routes; i++)
        zstr_free ((char **)&labels[i]);
    free (labels);
    self->openapi = s_read_file (self->config.openapi, &self->openapi_size);
    if (!self->openapi)
        pmo_warn ("gateway: no OpenAPI document at path=%s", self->config.openapi);

    self->admin_config = (gateway_admin_config_t){
        .endpoint = self->config.endpoint,
        .redis_url = self->config.redis_url,
        .hub = self->config.hub,
        .registry = self->config.upstreams[GATEWAY_SVC_REGISTRY],
        .admin_token_file = self->config.admin_token_file,
        .redis_timeout_ms = self->config.redis_timeout_ms,
        .upstream_timeout_ms = self->config.upstream_timeout_ms,
    };
    self->admin = zactor_new (gateway_admin_actor, &self->admin_config);
    if (!self->admin || self->admin_config.failed) {
        zactor_destroy (&self->admin);
        return -1;
    }
    self->config.upstreams[GATEWAY_SVC_GATEWAY] = self->config.endpoint;
    for (int svc = 0; svc < GATEWAY_SVC_COUNT; svc++) {
        const char *endpoints = self->config.upstreams[svc];
        if (!endpoints || !*endpoints || !gateway_services[svc].request_desc)
            continue;
        zsock_t *dealer = zsock_new (ZMQ_DEALER);
        assert (dealer);
        //  Requests are only queued to a connected service (a frame for a
        //  service that is down waits for its retry, then 504); replies of
        //  any size a service may send are read
        zsock_set_immediate (dealer, 1);
        zsock_set_linger (dealer, 0);
        zsock_set_sndhwm (dealer, 100000);
        zsock_set_rcvhwm (dealer, 100000);
        zsock_set_maxmsgsize (dealer, PMO_MAX_MESSAGE * 4);
        //  A service that is not running is tried again ever more rarely
        zsock_set_reconnect_ivl_max (dealer, 5000);
        char *list = strdup (endpoints), *save = NULL;
        int rc = 0;
        for (char *ep = strtok_r (list, ",", &save); ep && rc == 0;
             ep = strtok_r (NULL, ",", &save))
            rc = zsock_connect (dealer, "%s", ep);
        free (list);
        if (rc) {
            pmo_error ("gateway: bad endpoint service=%s endpoints=%s", gateway_services[svc].name,
                       endpoints);
            zsock_destroy (&dealer);
            return -1;
        }
        self->dealers[svc] = dealer;
    }
    self->sub = zsock_new (ZMQ_SUB);
    assert (self->sub);
    zsock_set_subscribe (self->sub, "");
    zsock_set_rcvhwm (self->sub, 100000);
    zsock_set_reconnect_ivl_max (self->sub, 5000);
    for (int svc = 0; svc < GATEWAY_SVC_COUNT; svc++)
        if (self->config.pubs[svc] && *self->config.pubs[svc] &&
            zsock_connect (self->sub, "%s", self->config.pubs[svc])) {
            pmo_error ("gateway: bad PUB endpoint %s", self->config.pubs[svc]);
            return -1;
        }
    char random[37];
    pmo_uuid (random);
    snprintf (self->id_prefix, sizeof self->id_prefix, "gw-%.8s%.4s-", random, random + 9);
    gateway_store_ready (self->store);
    return 0;
}

static void s_actor (zsock_t *pipe, void *args)
{
    start_t *start = args;
    self_t self = {.config = *start->config, .pipe = pipe};
    struct sockaddr_in addr;
    if (s_parse_listen (self.config.http, &addr)) {
        pmo_error ("gateway: bad listen address http=%s (want host:port)", self.config.http);
        start->failed = true;
        zsock_signal (pipe, 1);
        return;
    }
    if (s_self_init (&self) == 0)
        self.daemon = MHD_start_daemon (
            MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_TURBO | MHD_USE_ERROR_LOG, 0, NULL,
            NULL, s_access, &self, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
            MHD_OPTION_NOTIFY_COMPLETED, s_completed, &self, MHD_OPTION_CONNECTION_LIMIT,
            (unsigned)self.config.max_connections, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)120,
            MHD_OPTION_LISTENING_ADDRESS_REUSE, (unsigned)1, MHD_OPTION_EXTERNAL_LOGGER, s_mhd_log,
            NULL, MHD_OPTION_END);
    const union MHD_DaemonInfo *info =
        self.daemon ? MHD_get_daemon_info (self.daemon, MHD_DAEMON_INFO_EPOLL_FD) : NULL;
    if (!self.daemon || !info) {
        if (self.redis)
            pmo_error ("gateway: cannot listen http=%s error=\"%s\"", self.config.http,
                       strerror (errno));
        if (self.daemon)
            MHD_stop_daemon (self.daemon);
        s_self_destroy (&self);
        start->failed = true;
        zsock_signal (pipe, 1);
        return;
    }
    self.mhd_fd = info->epoll_fd;
    pmo_info ("gateway: ready http=%s endpoint=%s registry=%s", self.config.http,
              self.config.endpoint, self.config.upstreams[GATEWAY_SVC_REGISTRY]);
    zsock_signal (pipe, 0);

    int64_t stop_by = 0;
    while (true) {
        int64_t now = pmo_mono_ms ();
        if (!self.stopping && now >= self.orgs_next)
            s_orgs_ask (&self, now, NULL);
        int64_t next = s_check_pending (&self, now);
        s_pump_events (&self, now);
        //  Answer what became ready
        MHD_run (self.daemon);
        if (self.stopping && (zlistx_size (self.sse) == 0 || now >= stop_by))
            break;
        //  How long to wait: libmicrohttpd's timeout, retries and deadlines,
        //  the org snapshot, the live-event sweep and heartbeats
        int64_t wait = 1000;
        MHD_UNSIGNED_LONG_LONG mhd_wait;
        if (MHD_get_timeout (self.daemon, &mhd_wait) == MHD_YES && (int64_t)mhd_wait < wait)
            wait = (int64_t)mhd_wait;
        if (next != INT64_MAX && next - now < wait)
            wait = next - now;
        if (self.orgs_next - now < wait)
            wait = self.orgs_next - now;
        if (zlistx_size (self.sse)) {
            int64_t sweep = self.sse_woken ? HOLD_MS : self.sse_next_sweep - now;
            if (sweep < wait)
                wait = sweep;
            if (wait > 100)
                wait = 100; //  heartbeats are checked at this grain
        }
        if (self.stopping && wait > 10)
            wait = 10;
        if (wait < 0)
            wait = 0;
        zmq_pollitem_t items[5 + GATEWAY_SVC_COUNT];
        int n = 0;
        items[n++] = (zmq_pollitem_t){zsock_resolve (pipe), 0, ZMQ_POLLIN, 0};
        items[n++] = (zmq_pollitem_t){zsock_resolve (zactor_sock (self.admin)), 0, ZMQ_POLLIN, 0};
        items[n++] = (zmq_pollitem_t){NULL, self.mhd_fd, ZMQ_POLLIN, 0};
        items[n++] = (zmq_pollitem_t){zsock_resolve (self.sub), 0, ZMQ_POLLIN, 0};
        items[n++] = (zmq_pollitem_t){zsock_resolve (self.jobs_pull), 0, ZMQ_POLLIN, 0};
        int first_dealer = n;
        gateway_svc_t order[GATEWAY_SVC_COUNT];
        for (int svc = 0; svc < GATEWAY_SVC_COUNT; svc++)
            if (self.dealers[svc]) {
                order[n - first_dealer] = (gateway_svc_t)svc;
                items[n++] = (zmq_pollitem_t){zsock_resolve (self.dealers[svc]), 0, ZMQ_POLLIN, 0};
            }
        if (zmq_poll (items, n, (long)wait) < 0 && errno != EINTR)
            break;
        now = pmo_mono_ms ();
        if (items[0].revents & ZMQ_POLLIN) {
            char *command = zstr_recv (pipe);
            if (!command || streq (command, "$TERM")) {
                //  Stop: answer everything waiting, end the live streams,
                //  and give the answers a moment to leave
                self.stopping = true;
                stop_by = now + STOP_GRACE_MS;
                for (request_t *req = zhashx_first (self.pending); req;
                     req = zhashx_next (self.pending)) {
                    req->fail = 504;
                    if (req->pings)
                        req->pings->waiting = 0;
                    s_ready (req);
                }
                zhashx_purge (self.pending);
                //  Jobs cannot be stopped half-way: their requests are
                //  answered 503 now and the jobs let go when they end
                for (gateway_job_t *job = zlistx_first (self.jobs); job;
                     job = zlistx_next (self.jobs)) {
                    request_t *req = gateway_job_owner (job);
                    gateway_job_set_owner (job, NULL);
                    if (req) {
                        req->job = NULL;
                        s_ready (req);
                    }
                }
                for (gateway_sse_t *client = zlistx_first (self.sse); client;
                     client = zlistx_next (self.sse))
                    gateway_sse_stop (client);
            }
            zstr_free (&command);
        }
        if (items[1].revents & ZMQ_POLLIN) {
            char *command = NULL, *id = NULL;
            if (zstr_recvx (zactor_sock (self.admin), &command, &id, NULL) >= 1 && command && id &&
                streq (command, "REVOKED"))
                zhashx_delete (self.tokens, id); //  refused from the next request on
            zstr_free (&command);
            zstr_free (&id);
        }
        if (items[3].revents & ZMQ_POLLIN)
            s_drain_sub (&self, now);
        while (zsock_events (self.jobs_pull) & ZMQ_POLLIN)
            s_job_done (&self);
        for (int i = first_dealer; i < n; i++)
            if (items[i].revents & ZMQ_POLLIN)
                s_handle_replies (&self, order[i - first_dealer]);
    }
    MHD_stop_daemon (self.daemon);
    s_self_destroy (&self);
}

gateway_t *gateway_new (const gateway_config_t *config)
{
    gateway_t *self = calloc (1, sizeof (gateway_t));
    assert (self);
    start_t start = {.config = config};
    self->actor = zactor_new (s_actor, &start);
    if (!self->actor || start.failed) {
        zactor_destroy (&self->actor);
        free (self);
        return NULL;
    }
    return self;
}

void gateway_destroy (gateway_t **self_p)
{
    assert (self_p);
    gateway_t *self = *self_p;
    if (!self)
        return;
    zactor_destroy (&self->actor);
    free (self);
    *self_p = NULL;
}
