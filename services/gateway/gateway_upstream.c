/*  gateway_upstream.c: calling a service. A request is sent on the
    service's DEALER and its connection suspended; the reply (matched by
    request id by the reactor) or the deadline makes it ready. Readiness
    (/readyz) pings every service at once.
*/
#include "gateway_internal.h"

#include "pmo_json.h"
#include "pmo_log.h"
#include "pmo_util.h"
#include "pmo_wire.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#define PING_TIMEOUT_MS 500 //  readiness: a service that does not answer by then is down
#define UNSENT_RETRY_MS 20  //  a frame no service could take yet is offered again this often

//  Send request (freed here) to svc as the caller under wait_id; the
//  connection waits. 0, or -1 when the service is not configured here.
int gateway_call (self_t *self, request_t *req, gateway_svc_t svc, ProtobufCMessage *request,
                  const Pmo__Identity *identity, const char *wait_id, int timeout_ms)
{
    //  Stopping, or another request under the same id (the same
    //  Idempotency-Key) still waiting: answered at once (503 / 409), never
    //  left suspended where nothing would wake it
    request_t *holder = zhashx_lookup (self->pending, wait_id);
    int refuse = self->stopping ? 503 : holder && holder != req ? 409 : 0;
    if (refuse) {
        protobuf_c_message_free_unpacked (request, NULL);
        req->fail = refuse;
        if (req->stage != STAGE_WAITING) {
            req->stage = STAGE_WAITING;
            MHD_suspend_connection (req->connection);
        }
        gateway_ready (req);
        return 0;
    }
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
    gateway_join (req->wait_id, sizeof req->wait_id, wait_id, NULL);
    req->svc = svc;
    int64_t now = pmo_mono_ms ();
    req->deadline = now + timeout_ms;
    //  IMMEDIATE: while no service is connected (just started, or down) the
    //  frame is offered again every few ms until the deadline. Once sent, one
    //  retry at half time under the same id: a frame lost on the way is sent
    //  again, and the service answers a repeat with its first reply
    req->sent = gateway_send (self, svc, req->frame, req->frame_size);
    req->retry_at = req->sent ? now + timeout_ms / 2 : now + UNSENT_RETRY_MS;
    gateway_pending_add (self, req, wait_id);
    if (req->stage != STAGE_WAITING) {
        req->stage = STAGE_WAITING;
        MHD_suspend_connection (req->connection);
    }
    return 0;
}

bool gateway_send (self_t *self, gateway_svc_t svc, const void *frame, size_t size)
{
    //  A send handles libzmq's pending commands: a reply's arrival may
    //  be taken in without its ZMQ_FD waking again (see s_poll)
    self->sent[svc] = true;
    return zmq_send (zsock_resolve (self->dealers[svc]), frame, size, ZMQ_DONTWAIT) >= 0;
}

//  The request is ready to be answered: wake its connection.
void gateway_ready (request_t *req)
{
    if (req->stage == STAGE_WAITING) {
        req->stage = STAGE_READY;
        MHD_resume_connection (req->connection);
    }
}

//  The reply's error, NULL if it has none.
const Pmo__Error *gateway_reply_error (const ProtobufCMessage *reply)
{
    ProtobufCMessage **slot = pmo_wire_message_slot ((ProtobufCMessage *)reply, "error");
    return slot && *slot ? (const Pmo__Error *)*slot : NULL;
}

ProtobufCMessage *gateway_reply_unpack (self_t *self, const ProtobufCMessageDescriptor *desc,
                                        const void *data, size_t size, pmo_arena_t **arena)
{
    *arena = self->n_arenas ? self->arenas[--self->n_arenas] : pmo_arena_new ();
    ProtobufCMessage *reply =
        protobuf_c_message_unpack (desc, pmo_arena_allocator (*arena), size, data);
    if (!reply)
        gateway_arena_give (self, arena);
    return reply;
}

void gateway_arena_give (self_t *self, pmo_arena_t **arena_p)
{
    if (!*arena_p)
        return;
    if (self->n_arenas < GATEWAY_ARENAS_KEPT) {
        //  A reset keeps one block: a long list's extra blocks are freed
        pmo_arena_reset (*arena_p);
        self->arenas[self->n_arenas++] = *arena_p;
        *arena_p = NULL;
    } else
        pmo_arena_destroy (arena_p);
}

void gateway_reply_drop (self_t *self, request_t *req)
{
    req->reply = NULL;
    gateway_arena_give (self, &req->reply_arena);
}

enum MHD_Result gateway_readyz_begin (self_t *self, request_t *req)
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
        gateway_new_id (self, req->pings->ids[svc]);
        req->pings->status[svc] = "down";
        req->pings->waiting++;
        gateway_call (self, req, (gateway_svc_t)svc, request, &identity, req->pings->ids[svc],
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

enum MHD_Result gateway_readyz_finish (self_t *self, request_t *req)
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
    return gateway_http_json (req, ready ? 200 : 503, doc, 0, NULL, NULL);
}

//  A ping reply for one of the readiness pings.
void gateway_readyz_reply (request_t *req, const char *wait_id, ProtobufCMessage *reply)
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
        gateway_ready (req);
}

void gateway_pending_add (self_t *self, request_t *req, const char *id)
{
    zhashx_update (self->pending, id, req);
    if (req->deadline < self->pending_next)
        self->pending_next = req->deadline;
    if (req->retry_at && req->retry_at < self->pending_next)
        self->pending_next = req->retry_at;
}

//  Retries and deadlines of requests waiting for a service. Returns the
//  next moment one is due (monotonic), or INT64_MAX. The requests are only
//  walked once something may be due (pending_next): not on every turn of
//  the reactor.
int64_t gateway_check_pending (self_t *self, int64_t now)
{
    if (now < self->pending_next)
        return self->pending_next;
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
                req->pings->sent[svc] = gateway_send (
                    self, (gateway_svc_t)svc, req->pings->frames[svc], req->pings->sizes[svc]);
                if (!req->pings->sent[svc] && now + UNSENT_RETRY_MS < next)
                    next = now + UNSENT_RETRY_MS;
            }
        } else if (req->retry_at && now >= req->retry_at) {
            bool sent = gateway_send (self, req->svc, req->frame, req->frame_size);
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
        //  Single sign-on: the key set or the provider's token endpoint did
        //  not come in time (a request for the keys is then authenticated
        //  again with the keys held)
        if (req->keys_wait || req->kind == KIND_SSO) {
            req->fail = req->keys_wait ? 0 : 504;
            req->keys_wait = false;
            gateway_ready (req);
            continue;
        }
        if (req->kind == KIND_READYZ) {
            for (int svc = 0; svc < GATEWAY_SVC_COUNT; svc++)
                if (strcmp (req->pings->ids[svc], key) == 0) {
                    *req->pings->ids[svc] = 0;
                    req->pings->waiting--;
                }
            if (req->pings->waiting == 0)
                gateway_ready (req);
            continue;
        }
        gateway_metrics_upstream (self->metrics, req->svc, true);
        pmo_warn ("gateway: no reply service=%s request_id=%s", gateway_services[req->svc].name,
                  key);
        req->fail = 504;
        gateway_ready (req);
    }
    zlistx_destroy (&expired);
    self->pending_next = next;
    return next;
}
