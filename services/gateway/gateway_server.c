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
#include "gateway_internal.h"
#include "gateway_model.h"
#include "gateway_sse.h"

#include "pmo_auth.h"
#include "pmo_log.h"
#include "pmo_util.h"
#include "pmo_wire.h"
#include "registry.pb-c.h"

#include <arpa/inet.h>
#include <assert.h>
#include <czmq.h>
#include <errno.h>
#include <microhttpd.h>
#include <poll.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ORGS_REFRESH_MS 5000 //  the org-unit tree is asked for again this often
#define SWEEP_MS        1000 //  live-event clients read Redis at least this often
#define HOLD_MS         2    //  ... and this soon when entries wait for their ms to end
#define STOP_GRACE_MS   2000 //  at shutdown: time to flush the last answers
//  libmicrohttpd's memory per connection (its default is 32 KiB): the
//  request line and headers are read into it, so it bounds them (a larger
//  head is answered 431 and the connection closed), and it is zeroed after
//  every request of a keep-alive connection: 32 KiB of memset per request
//  was 5-6% of the gateway's CPU on a read. 16 KiB takes a head of up to
//  about 15 KiB (tests/gateway/test_gateway_edge.c: 12 KiB passes, 20 KiB
//  is 431).
#define CONNECTION_MEMORY (16 * 1024)

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
    SPECIAL_AUTH,
    SPECIAL_CHAT,
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
    "ANY /auth/{step}",
    "POST /api/v1/chat/{tool}/{channel}",
    "ANY {unknown}",
};

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
void gateway_new_id (self_t *self, char *out)
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
//  Dispatch

static enum MHD_Result s_dispatch (self_t *self, request_t *req, const char *url,
                                   const char *method)
{
    bool get = strcmp (method, "GET") == 0 || strcmp (method, "HEAD") == 0;
    if (get && strcmp (url, "/healthz") == 0) {
        req->label = self->n_routes + SPECIAL_HEALTHZ;
        return gateway_http_json (req, 200, json_pack ("{s:s}", "status", "ok"), 0, NULL, NULL);
    }
    if (get && strcmp (url, "/readyz") == 0) {
        req->label = self->n_routes + SPECIAL_READYZ;
        gateway_readyz_begin (self, req);
        return req->stage == STAGE_READY ? gateway_readyz_finish (self, req) : MHD_YES;
    }
    if (strncmp (url, "/auth/", 6) == 0) {
        req->label = self->n_routes + SPECIAL_AUTH;
        return gateway_sso_dispatch (self, req, url, method);
    }
    bool api = strncmp (url, "/api/", 5) == 0 || strcmp (url, "/api") == 0;
    if (!api && strcmp (url, "/metrics") != 0) {
        req->label = self->n_routes + SPECIAL_STATIC;
        if (!get)
            return gateway_http_problem (req, 405, "method_not_allowed", "", "pages are read-only",
                                         NULL, "Allow", "GET, HEAD");
        return gateway_static_serve (self, req, url);
    }
    //  Clicks from chat tools carry the tool's signature, not a token
    if (strncmp (url, "/api/v1/chat/", 13) == 0) {
        req->label = self->n_routes + SPECIAL_CHAT;
        return gateway_chat_begin (self, req, url, method);
    }
    //  Everything else needs a token
    req->label = self->n_routes + SPECIAL_UNKNOWN;
    if (req->too_large) {
        char detail[120];
        snprintf (detail, sizeof detail, "the body is larger than %zu bytes",
                  gateway_body_max (self, url, method));
        return gateway_http_problem (req, 413, "too_large", "", detail, NULL, NULL, NULL);
    }
    enum MHD_Result answered;
    if (gateway_authenticate (self, req, method, &answered))
        return answered;
    int wait = gateway_rate_take (self, req->caller.token);
    if (wait) {
        gateway_metrics_rate_limited (self->metrics);
        char seconds[16];
        snprintf (seconds, sizeof seconds, "%d", wait);
        return gateway_http_problem (
            req, 429, "rate_limited", "",
            "this token sends requests faster than its limit; wait and retry", NULL, "Retry-After",
            seconds);
    }
    //  The request id: the Idempotency-Key bound to this request, or new
    if (gateway_idempotency_take (self, req, url, method, &answered))
        return answered;
    char allow[128];
    //  The read-only special resources: another method is 405, not 404
    if (!get && (strcmp (url, "/metrics") == 0 || strcmp (url, "/api/v1/events") == 0 ||
                 strcmp (url, "/api/v1/whoami") == 0 || strcmp (url, "/api/v1/openapi.json") == 0))
        return gateway_http_problem (req, 405, "method_not_allowed", "",
                                     "this resource is read-only", NULL, "Allow", "GET, HEAD");
    if (get && strcmp (url, "/metrics") == 0) {
        req->label = self->n_routes + SPECIAL_METRICS;
        return gateway_live_metrics (self, req);
    }
    if (get && strcmp (url, "/api/v1/events") == 0) {
        req->label = self->n_routes + SPECIAL_EVENTS;
        return gateway_live_events (self, req);
    }
    if (get && strcmp (url, "/api/v1/whoami") == 0) {
        req->label = self->n_routes + SPECIAL_WHOAMI;
        return gateway_whoami (self, req);
    }
    if (get && strcmp (url, "/api/v1/openapi.json") == 0) {
        req->label = self->n_routes + SPECIAL_OPENAPI;
        if (!self->openapi)
            return gateway_http_problem (req, 404, "not_found", "",
                                         "the OpenAPI document was not found at start", NULL, NULL,
                                         NULL);
        char *copy = malloc (self->openapi_size);
        assert (copy);
        memcpy (copy, self->openapi, self->openapi_size);
        return gateway_http_send (req, 200, "application/json", copy, self->openapi_size, NULL);
    }
    //  Import, export and reports: on a thread of their own
    bool import = strcmp (url, "/api/v1/import") == 0;
    bool export = gateway_url_segment (url, "/api/v1/export/", req->param, sizeof req->param);
    bool report = gateway_url_segment (url, "/api/v1/reports/", req->param, sizeof req->param);
    if (import || export || report) {
        req->label = self->n_routes + (import   ? SPECIAL_IMPORT
                                       : export ? SPECIAL_EXPORT
                                                : SPECIAL_REPORT);
        if (import != (strcmp (method, "POST") == 0) || (!import && !get))
            return gateway_http_problem (req, 405, "method_not_allowed", "", "see Allow", NULL,
                                         "Allow", import ? "POST" : "GET, HEAD");
        if (!import && req->size > 0)
            return gateway_http_problem (req, 400, "invalid", "", "this request takes no body",
                                         NULL, NULL, NULL);
        return import   ? gateway_import_begin (self, req)
               : export ? gateway_export_begin (self, req)
                        : gateway_report_begin (self, req);
    }
    req->route =
        gateway_route_match (method, url, req->param, sizeof req->param, allow, sizeof allow);
    if (req->route) {
        req->label = (size_t)(req->route - gateway_routes);
        return gateway_resource_begin (self, req);
    }
    if (*allow)
        return gateway_http_problem (req, 405, "method_not_allowed", "", "see Allow", NULL, "Allow",
                                     allow);
    return gateway_http_problem (req, 404, "not_found", "", "no such resource", NULL, NULL, NULL);
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
        enum MHD_Result answered;
        if (gateway_edge_check (self, req, url, &answered))
            return answered;
        const char *length =
            MHD_lookup_connection_value (connection, MHD_HEADER_KIND, "Content-Length");
        if (length && strtoull (length, NULL, 10) > gateway_body_max (self, url, method)) {
            //  Refuse before reading it; the connection closes after this
            char detail[120];
            snprintf (detail, sizeof detail, "the body is larger than %zu bytes",
                      gateway_body_max (self, url, method));
            return gateway_http_problem (req, 413, "too_large", "", detail, NULL, NULL, NULL);
        }
        return MHD_YES;
    }
    if (req->stage == STAGE_DONE || req->stage == STAGE_WAITING) {
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (req->stage == STAGE_READY) {
        if (req->kind == KIND_READYZ)
            return gateway_readyz_finish (self, req);
        if (req->kind == KIND_JOB)
            return gateway_job_finish (self, req);
        if (req->kind == KIND_SSO)
            return gateway_sso_finish (self, req);
        if (req->kind == KIND_CHAT)
            return gateway_chat_finish (self, req);
        if (req->kind == KIND_KEYS) {
            //  The provider's key set came (or not in time): authenticate again
            req->stage = STAGE_NEW;
            req->kind = KIND_ROUTE;
            if (self->stopping)
                return gateway_http_problem (req, 503, "unavailable", "", "the gateway is stopping",
                                             NULL, "Retry-After", "1");
            return s_dispatch (self, req, url, method);
        }
        return gateway_resource_finish (self, req);
    }
    if (*upload_data_size) {
        if (!req->too_large &&
            req->size + *upload_data_size <= gateway_body_max (self, url, method)) {
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
        return gateway_http_problem (req, 503, "unavailable", "", "the gateway is stopping", NULL,
                                     "Retry-After", "1");
    //  The whole request is here: no deadline while it is served
    gateway_edge_serving (self, connection, true);
    return s_dispatch (self, req, url, method);
}

static void s_completed (void *cls, struct MHD_Connection *connection, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    self_t *self = cls;
    request_t *req = *con_cls;
    gateway_edge_serving (self, connection, false);
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
    gateway_caller_clear (&req->caller);
    json_decref (req->patch);
    free (req->idp_body);
    free (req->login);
    gateway_reply_drop (self, req);
    free (req->frame);
    free (req->body);
    free (req);
    *con_cls = NULL;
}

//  libmicrohttpd's own messages (mostly clients that went away) go to our
//  log at debug level.
static void s_mhd_log (void *cls, const char *format, va_list args)
    __attribute__ ((format (printf, 2, 0)));
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

//  A reply from a service: wake the request that waits for it.
static void s_handle_replies (self_t *self, gateway_svc_t svc)
{
    zsock_t *dealer = self->dealers[svc];
    void *handle = zsock_resolve (dealer);
    zmq_msg_t frame;
    zmq_msg_init (&frame);
    while (zmq_msg_recv (&frame, handle, ZMQ_DONTWAIT) >= 0) {
        pmo_arena_t *arena = NULL;
        ProtobufCMessage *reply =
            gateway_reply_unpack (self, gateway_services[svc].reply_desc, zmq_msg_data (&frame),
                                  zmq_msg_size (&frame), &arena);
        const Pmo__Header *header = reply ? pmo_wire_header (reply) : NULL;
        const char *id = header && header->request_id ? header->request_id : "";
        request_t *req = *id ? zhashx_lookup (self->pending, id) : NULL;
        //  A page of org units (the tree's reader asks on this DEALER as the
        //  gateway: the org structure is visible to everyone signed in)
        if (svc == GATEWAY_SVC_REGISTRY && *id && self->orgs_reader &&
            strcmp (id, orgtree_reader_awaits (self->orgs_reader)) == 0) {
            orgtree_reader_feed (self->orgs_reader, (Pmo__RegistryReply *)reply);
            self->sent[GATEWAY_SVC_REGISTRY] = true; //  it may have asked for the next page
        } else if (req) {
            zhashx_delete (self->pending, id);
            if (req->kind == KIND_READYZ)
                gateway_readyz_reply (req, id, reply);
            else {
                req->reply = reply;
                req->reply_arena = arena;
                arena = NULL;
                if (req->kind == KIND_PATCH && !gateway_reply_error (req->reply))
                    gateway_resource_patch (self, req);
                else
                    gateway_ready (req);
            }
        }
        //  Else a late reply to a request that timed out or went away
        gateway_arena_give (self, &arena);
    }
    zmq_msg_close (&frame);
}

//  An org_unit.* event was seen (a wake-up, or in a stream a live-event
//  client read: wake-ups may be lost): read the tree again now.
static void s_orgs_changed (self_t *self, int64_t now)
{
    if (self->orgs_reader)
        orgtree_reader_now (self->orgs_reader);
    else
        orgtree_invalidate (self->orgs);
}

//  Hand an entry the shared reader read to every client that takes its
//  events from it.
static bool s_offer_all (void *ctx, gateway_feed_entry_t *entry)
{
    self_t *self = ctx;
    for (gateway_sse_t *client = zlistx_first (self->sse); client; client = zlistx_next (self->sse))
        if (gateway_sse_live (client))
            gateway_sse_offer (client, entry);
    return true;
}

//  Live-event clients: read the streams when woken or on the sweep (the
//  shared reader first, then the clients catching up on their own), add
//  due heartbeats, and let those with something to send go on.
static void s_pump_events (self_t *self, int64_t now)
{
    bool read = self->sse_woken || now >= self->sse_next_sweep;
    self->sse_woken = false;
    if (read)
        self->sse_next_sweep = now + SWEEP_MS;
    bool org_units = false;
    if (read && zlistx_size (self->sse) &&
        gateway_feed_pump (self->feed, self->store, s_offer_all, self, &org_units) == 1)
        self->sse_woken = true;
    if (org_units)
        s_orgs_changed (self, now);
    gateway_sse_t *client = zlistx_first (self->sse);
    while (client) {
        //  The next one first: a client never leaves the list here, but
        //  keep the loop safe if one day it does
        gateway_sse_t *next = zlistx_next (self->sse);
        if (read && !gateway_sse_live (client)) {
            if (gateway_sse_catch_up (client, self->feed, self->store, &org_units) == 1)
                self->sse_woken = true;
            if (org_units)
                s_orgs_changed (self, now);
        }
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
        if (size < 200 && memmem (data, size, ".org_unit.", 10))
            s_orgs_changed (self, now);
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
    gateway_sso_stop (self);
    for (int svc = 0; svc < GATEWAY_SVC_COUNT; svc++)
        zsock_destroy (&self->dealers[svc]);
    zsock_destroy (&self->sub);
    gateway_store_destroy (&self->store);
    pmo_redis_destroy (&self->redis);
    zhashx_destroy (&self->pending);
    while (self->n_arenas)
        pmo_arena_destroy (&self->arenas[--self->n_arenas]);
    zhashx_destroy (&self->tokens);
    zhashx_destroy (&self->buckets);
    zhashx_destroy (&self->failures);
    zlistx_destroy (&self->conns);
    zlistx_destroy (&self->sse);
    gateway_feed_destroy (&self->feed);
    orgtree_reader_destroy (&self->orgs_reader);
    orgtree_destroy (&self->orgs);
    gateway_metrics_destroy (&self->metrics);
    free (self->openapi);
}

//  One DEALER per configured service and the SUB socket for their
//  wake-ups. 0, or -1 (logged) for a bad endpoint.
static int s_connect_services (self_t *self)
{
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
             ep = strtok_r (NULL, ",", &save)) {
            pmo_auth_client (dealer, ep);
            rc = zsock_connect (dealer, "%s", ep);
        }
        free (list);
        if (rc) {
            pmo_error ("gateway: bad endpoint service=%s endpoints=%s", gateway_services[svc].name,
                       endpoints);
            zsock_destroy (&dealer);
            return -1;
        }
        self->dealers[svc] = dealer;
    }
    //  The org-unit tree is read on the registry's DEALER, never waiting:
    //  soon again while it was never read, then every ORGS_REFRESH_MS
    if (self->dealers[GATEWAY_SVC_REGISTRY]) {
        orgtree_reader_config_t orgs = {.socket = self->dealers[GATEWAY_SVC_REGISTRY],
                                        .identity = &self->identity,
                                        .timeout_ms = self->config.upstream_timeout_ms,
                                        .refresh_ms = ORGS_REFRESH_MS,
                                        .retry_ms = ORGS_REFRESH_MS,
                                        .first_retry_ms = 500,
                                        .name = "gateway"};
        self->orgs_reader = orgtree_reader_new (self->orgs, &orgs);
    }
    self->sub = zsock_new (ZMQ_SUB);
    assert (self->sub);
    zsock_set_subscribe (self->sub, "");
    zsock_set_rcvhwm (self->sub, 100000);
    zsock_set_reconnect_ivl_max (self->sub, 5000);
    //  Each service's PUB endpoints: one per replica, comma-separated like
    //  its ROUTERs (every replica publishes the events it commits)
    for (int svc = 0; svc < GATEWAY_SVC_COUNT; svc++) {
        if (!self->config.pubs[svc] || !*self->config.pubs[svc])
            continue;
        char *list = strdup (self->config.pubs[svc]), *save = NULL;
        assert (list);
        int rc = 0;
        for (char *ep = strtok_r (list, ",", &save); ep && rc == 0;
             ep = strtok_r (NULL, ",", &save))
            rc = pmo_auth_client (self->sub, ep) || zsock_connect (self->sub, "%s", ep);
        free (list);
        if (rc) {
            pmo_error ("gateway: bad PUB endpoint %s", self->config.pubs[svc]);
            return -1;
        }
    }
    return 0;
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
    //  No registry of its own: the tree is fed from our DEALER (orgs_reader)
    orgtree_config_t orgs = {.identity = &self->identity};
    self->orgs = orgtree_new (&orgs);
    assert (self->orgs);
    self->pending = zhashx_new ();
    self->tokens = zhashx_new ();
    zhashx_set_destructor (self->tokens, gateway_cached_free);
    self->buckets = zhashx_new ();
    zhashx_set_destructor (self->buckets, gateway_bucket_free);
    self->failures = zhashx_new ();
    zhashx_set_destructor (self->failures, gateway_bucket_free);
    self->conns = zlistx_new ();
    self->sse = zlistx_new ();
    self->feed = gateway_feed_new (true);
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
    self->openapi = gateway_read_file (self->config.openapi, &self->openapi_size);
    if (!self->openapi)
        pmo_warn ("gateway: no OpenAPI document at path=%s",
                  self->config.openapi ? self->config.openapi : "(none given)");

    self->admin_config = (gateway_admin_config_t){
        .endpoint = self->config.endpoint,
        .redis_url = self->config.redis_url,
        .hub = self->config.hub,
        .registry = self->config.upstreams[GATEWAY_SVC_REGISTRY],
        .admin_token_file = self->config.admin_token_file,
        .redis_timeout_ms = self->config.redis_timeout_ms,
        .upstream_timeout_ms = self->config.upstream_timeout_ms,
        .token_rate_max = (uint32_t)self->config.token_rate_max,
        .token_days = self->config.token_days,
        .mappings = self->config.mappings,
    };
    self->admin = zactor_new (gateway_admin_actor, &self->admin_config);
    if (!self->admin || self->admin_config.failed) {
        zactor_destroy (&self->admin);
        return -1;
    }
    self->config.upstreams[GATEWAY_SVC_GATEWAY] = self->config.endpoint;
    if (s_connect_services (self))
        return -1;
    if (self->config.oidc && *self->config.oidc && gateway_sso_start (self, self->config.oidc))
        return -1;
    if (sodium_init () < 0) {
        pmo_error ("gateway: libsodium does not start");
        return -1;
    }
    randombytes_buf (self->seen_key, sizeof self->seen_key);
    char random[37];
    pmo_uuid (random);
    snprintf (self->id_prefix, sizeof self->id_prefix, "gw-%.8s%.4s-", random, random + 9);
    gateway_store_ready (self->store);
    return 0;
}

//  How long the reactor may wait: libmicrohttpd's timeout, retries and
//  deadlines of the requests waiting for a service (pending_next, which
//  counts those sent while libmicrohttpd ran: a frame no service could take
//  yet is offered again UNSENT_RETRY_MS later, not at the next wake-up),
//  the connections' deadlines, the org-unit tree, the live-event sweep and
//  heartbeats.
static int64_t s_wait_ms (self_t *self, int64_t now)
{
    int64_t wait = 1000;
    MHD_UNSIGNED_LONG_LONG mhd_wait;
    if (MHD_get_timeout (self->daemon, &mhd_wait) == MHD_YES && (int64_t)mhd_wait < wait)
        wait = (int64_t)mhd_wait;
    if (self->pending_next != INT64_MAX && self->pending_next - now < wait)
        wait = self->pending_next - now;
    if (self->orgs_reader && orgtree_reader_next_ms (self->orgs_reader) - now < wait)
        wait = orgtree_reader_next_ms (self->orgs_reader) - now;
    if (self->conns_next - now < wait)
        wait = self->conns_next - now;
    if (zlistx_size (self->sse)) {
        int64_t sweep = self->sse_woken ? HOLD_MS : self->sse_next_sweep - now;
        if (sweep < wait)
            wait = sweep;
        if (wait > 100)
            wait = 100; //  heartbeats are checked at this grain
    }
    if (self->stopping && wait > 10)
        wait = 10;
    return wait < 0 ? 0 : wait;
}

//  zmq_poll for the reactor, with fewer system calls. zmq_poll reads every
//  socket's ZMQ_EVENTS (a poll() and a getpid() each, inside libzmq) on a
//  first pass without waiting and again after its wait: with six sockets,
//  26 calls per wake-up, and several wake-ups per HTTP request under load
//  (perf counted 17-28 system calls per read through the gateway).
//  Here only the sockets marked hot[i] have their events read before the
//  wait: the dealers sent on since the last wait (their edge-triggered
//  ZMQ_FD is only true after a send once ZMQ_EVENTS is read again, as
//  libzmq documents; a dealer only received from is drained to empty like
//  the others), the provider's client, and all of them on the first pass. The others are drained to
//  empty by their handlers, so their ZMQ_FD wakes the wait when anything arrives. The wait is one
//  poll() of the descriptors; after it only the sockets whose descriptor woke are read. Items with
//  no events asked are skipped. The ready count, or -1.
static int s_poll (zmq_pollitem_t *items, const bool *hot, int n, long timeout)
{
    struct pollfd fds[6 + GATEWAY_SVC_COUNT]; //  as many as the reactor's items
    assert (n <= (int)(sizeof fds / sizeof fds[0]));
    int ready = 0;
    for (int i = 0; i < n; i++) {
        items[i].revents = 0;
        fds[i] = (struct pollfd){-1, 0, 0};
        if (!items[i].events)
            continue;
        if (!items[i].socket) {
            fds[i] = (struct pollfd){items[i].fd, (short)items[i].events, 0};
            continue;
        }
        size_t size = sizeof fds[i].fd;
        if (zmq_getsockopt (items[i].socket, ZMQ_FD, &fds[i].fd, &size))
            return -1;
        fds[i].events = POLLIN;
        if (hot[i]) {
            uint32_t events = 0;
            size = sizeof events;
            if (zmq_getsockopt (items[i].socket, ZMQ_EVENTS, &events, &size))
                return -1;
            items[i].revents = (short)(events & (uint32_t)items[i].events);
            if (items[i].revents)
                ready++;
        }
    }
    if (poll (fds, (nfds_t)n, ready ? 0 : (int)timeout) < 0)
        return errno == EINTR ? ready : -1;
    for (int i = 0; i < n; i++) {
        if (!fds[i].revents)
            continue;
        if (!items[i].socket) {
            items[i].revents = fds[i].revents;
            ready++;
        } else if (!items[i].revents) {
            uint32_t events = 0;
            size_t size = sizeof events;
            if (zmq_getsockopt (items[i].socket, ZMQ_EVENTS, &events, &size))
                return -1;
            items[i].revents = (short)(events & (uint32_t)items[i].events);
            if (items[i].revents)
                ready++;
        }
    }
    return ready;
}

//  Stop: answer everything waiting (503 with Retry-After: the gateway is
//  going away, not the service), end the live streams; the reactor then
//  gives the answers a moment to leave.
static void s_stop (self_t *self)
{
    self->stopping = true;
    for (request_t *req = zhashx_first (self->pending); req; req = zhashx_next (self->pending)) {
        req->fail = 503;
        if (req->pings)
            req->pings->waiting = 0;
        gateway_ready (req);
    }
    zhashx_purge (self->pending);
    //  Jobs cannot be stopped half-way: their requests are answered 503 now
    //  and the jobs let go when they end
    for (gateway_job_t *job = zlistx_first (self->jobs); job; job = zlistx_next (self->jobs)) {
        request_t *req = gateway_job_owner (job);
        gateway_job_set_owner (job, NULL);
        if (req) {
            req->job = NULL;
            gateway_ready (req);
        }
    }
    for (gateway_sse_t *client = zlistx_first (self->sse); client; client = zlistx_next (self->sse))
        gateway_sse_stop (client);
}

//  The token service said something: a revoked token is refused from the
//  next request on.
static void s_admin_said (self_t *self)
{
    char *command = NULL, *id = NULL;
    if (zstr_recvx (zactor_sock (self->admin), &command, &id, NULL) >= 1 && command && id &&
        streq (command, "REVOKED"))
        zhashx_delete (self->tokens, id);
    zstr_free (&command);
    zstr_free (&id);
}

static void s_actor (zsock_t *pipe, void *args)
{
    start_t *start = args;
    self_t self = {.config = *start->config, .pipe = pipe};
    if (self.config.max_per_address <= 0)
        self.config.max_per_address = 64;
    if (self.config.request_timeout_ms <= 0)
        self.config.request_timeout_ms = 30000;
    if (self.config.auth_fail_rate == 0)
        self.config.auth_fail_rate = 10;
    if (self.config.auth_fail_burst <= 0)
        self.config.auth_fail_burst = 20;
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
            MHD_OPTION_NOTIFY_COMPLETED, s_completed, &self, MHD_OPTION_NOTIFY_CONNECTION,
            gateway_edge_notify, &self, MHD_OPTION_UNESCAPE_CALLBACK, gateway_edge_unescape, &self,
            MHD_OPTION_CONNECTION_LIMIT, (unsigned)self.config.max_connections,
            MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)self.config.max_per_address,
            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)120, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
            (size_t)CONNECTION_MEMORY, MHD_OPTION_LISTENING_ADDRESS_REUSE, (unsigned)1,
            MHD_OPTION_EXTERNAL_LOGGER, s_mhd_log, NULL, MHD_OPTION_END);
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
    bool settled = false; //  every socket's events read once (s_poll)
    while (true) {
        int64_t now = pmo_mono_ms ();
        if (!self.stopping && self.orgs_reader &&
            now >= orgtree_reader_next_ms (self.orgs_reader)) {
            orgtree_reader_due (self.orgs_reader);
            //  it asks on the registry's DEALER: its events are read (s_poll)
            self.sent[GATEWAY_SVC_REGISTRY] = true;
        }
        gateway_check_pending (&self, now);
        self.conns_next = gateway_edge_sweep (&self, now);
        s_pump_events (&self, now);
        //  Answer what became ready
        MHD_run (self.daemon);
        if (self.stopping && (zlistx_size (self.sse) == 0 || now >= stop_by))
            break;
        int64_t wait = s_wait_ms (&self, now);
        zmq_pollitem_t items[6 + GATEWAY_SVC_COUNT];
        //  The first five are only received from, each drained to empty
        //  below: their events are read before the wait on the first pass
        //  only (see s_poll); the provider's client and the dealers are
        //  sent on
        bool hot[6 + GATEWAY_SVC_COUNT] = {!settled, !settled, !settled, !settled, !settled};
        int n = 0;
        items[n++] = (zmq_pollitem_t){zsock_resolve (pipe), 0, ZMQ_POLLIN, 0};
        items[n++] = (zmq_pollitem_t){zsock_resolve (zactor_sock (self.admin)), 0, ZMQ_POLLIN, 0};
        items[n++] = (zmq_pollitem_t){NULL, self.mhd_fd, ZMQ_POLLIN, 0};
        items[n++] = (zmq_pollitem_t){zsock_resolve (self.sub), 0, ZMQ_POLLIN, 0};
        items[n++] = (zmq_pollitem_t){zsock_resolve (self.jobs_pull), 0, ZMQ_POLLIN, 0};
        //  The provider's client (single sign-on), else a socket never ready
        items[n++] =
            (zmq_pollitem_t){zsock_resolve (self.idp ? zactor_sock (self.idp) : self.jobs_pull), 0,
                             self.idp ? ZMQ_POLLIN : 0, 0};
        int first_dealer = n;
        gateway_svc_t order[GATEWAY_SVC_COUNT];
        for (int svc = 0; svc < GATEWAY_SVC_COUNT; svc++)
            if (self.dealers[svc]) {
                order[n - first_dealer] = (gateway_svc_t)svc;
                items[n++] = (zmq_pollitem_t){zsock_resolve (self.dealers[svc]), 0, ZMQ_POLLIN, 0};
            }
        hot[5] = true;
        for (int i = first_dealer; i < n; i++)
            hot[i] = !settled || self.sent[order[i - first_dealer]];
        memset (self.sent, 0, sizeof self.sent);
        if (s_poll (items, hot, n, (long)wait) < 0)
            break;
        settled = true;
        now = pmo_mono_ms ();
        while ((items[0].revents & ZMQ_POLLIN) && (zsock_events (pipe) & ZMQ_POLLIN)) {
            char *command = zstr_recv (pipe);
            if (!command || streq (command, "$TERM")) {
                if (!self.stopping) {
                    s_stop (&self);
                    stop_by = now + STOP_GRACE_MS;
                }
                if (!command)
                    break;
            }
            zstr_free (&command);
        }
        if (items[1].revents & ZMQ_POLLIN)
            while (zsock_events (zactor_sock (self.admin)) & ZMQ_POLLIN)
                s_admin_said (&self);
        if (items[3].revents & ZMQ_POLLIN)
            s_drain_sub (&self, now);
        if (items[4].revents & ZMQ_POLLIN)
            while (zsock_events (self.jobs_pull) & ZMQ_POLLIN)
                gateway_job_done (&self);
        if (items[5].revents & ZMQ_POLLIN)
            while (zsock_events (zactor_sock (self.idp)) & ZMQ_POLLIN)
                gateway_sso_idp_said (&self);
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
