/*  pmo_server.c: the ROUTER server engine. */
#include "pmo_server.h"
#include "pmo_auth.h"
#include "pmo_commit.h"
#include "pmo_log.h"

#include <assert.h>
#include <string.h>
#include <stdarg.h>

//  A request being handled: deferred ones stay here until the flush.
typedef struct {
    pmo_request_t request; //  the handler's view; its address stays valid
    zframe_t *peer;        //  who asked
    int64_t started;       //  when it was read, for the latency figure
} slot_t;

struct _pmo_server_t {
    pmo_server_config_t config;
    zsock_t *router;
    pmo_server_stats_t stats;
    slot_t slots[PMO_SERVER_BATCH];        //  the current batch
    pmo_arena_t *arenas[PMO_SERVER_BATCH]; //  one per slot, reset when it is answered
    size_t deferred;                       //  slots[0..deferred) wait for the flush
    size_t detached;                       //  requests the service answers later
};

pmo_server_t *pmo_server_new (const pmo_server_config_t *config, const char *endpoint)
{
    assert (config && config->request_desc && config->reply_desc && config->handler);
    pmo_server_t *self = calloc (1, sizeof (pmo_server_t));
    assert (self);
    self->config = *config;
    if (!self->config.max_message)
        self->config.max_message = PMO_MAX_MESSAGE;
    self->router = zsock_new (ZMQ_ROUTER);
    assert (self->router);
    zsock_set_router_mandatory (self->router, 1);
    //  Frames up to twice the limit are read and answered with too_large;
    //  larger ones make libzmq drop the peer before we allocate for them.
    zsock_set_maxmsgsize (self->router, (int64_t)self->config.max_message * 2);
    zsock_set_linger (self->router, 1000);
    zsock_set_sndtimeo (self->router, 1000);
    zsock_set_sndhwm (self->router, 10000);
    zsock_set_rcvhwm (self->router, 10000);
    //  The drain reads until nothing is waiting: a receive that does not
    //  wait, instead of asking ZMQ_EVENTS before each message (a poll()
    //  system call per request)
    zsock_set_rcvtimeo (self->router, 0);
    if (pmo_auth_server (self->router)) {
        zsock_destroy (&self->router);
        free (self);
        return NULL;
    }
    if (zsock_bind (self->router, "%s", endpoint) < 0) {
        pmo_error ("server: bind failed endpoint=%s error=\"%s\"", endpoint, zmq_strerror (errno));
        zsock_destroy (&self->router);
        free (self);
        return NULL;
    }
    for (size_t i = 0; i < PMO_SERVER_BATCH; i++)
        self->arenas[i] = pmo_arena_new ();
    return self;
}

void pmo_server_destroy (pmo_server_t **self_p)
{
    assert (self_p);
    pmo_server_t *self = *self_p;
    if (!self)
        return;
    zsock_destroy (&self->router);
    for (size_t i = 0; i < PMO_SERVER_BATCH; i++)
        pmo_arena_destroy (&self->arenas[i]);
    free (self);
    *self_p = NULL;
}

zsock_t *pmo_server_socket (pmo_server_t *self)
{
    return self->router;
}

const pmo_server_stats_t *pmo_server_stats (pmo_server_t *self)
{
    return &self->stats;
}

void pmo_request_fail (pmo_request_t *request, Pmo__ErrorCode code, const char *field,
                       const char *format, ...)
{
    if (request->code != PMO__ERROR_CODE__ERROR_NONE)
        return;
    Pmo__Error *error = pmo_arena_alloc (request->arena, sizeof (Pmo__Error));
    pmo__error__init (error);
    error->code = code;
    error->retryable = pmo_error_code_retryable (code);
    error->field = pmo_arena_strdup (request->arena, field ? field : "");
    va_list args;
    va_start (args, format);
    char text[512];
    vsnprintf (text, sizeof text, format, args);
    va_end (args);
    error->message = pmo_arena_strdup (request->arena, text);
    ProtobufCMessage **slot = pmo_wire_message_slot (request->reply, "error");
    assert (slot);
    *slot = &error->base;
    request->code = code;
}

bool pmo_request_failed (const pmo_request_t *request)
{
    return request->code != PMO__ERROR_CODE__ERROR_NONE;
}

//  Check the envelope; 0 if the handler may see the request.
static int s_check_envelope (pmo_server_t *self, pmo_request_t *request)
{
    char path[256], why[256];
    if (pmo_wire_validate (request->request, path, sizeof path, why, sizeof why)) {
        pmo_request_fail (request, PMO__ERROR_CODE__ERROR_INVALID, path, "%s%s%s", path,
                          *path ? ": " : "", why);
        return -1;
    }
    const Pmo__Header *header = pmo_wire_header (request->request);
    if (!header) {
        pmo_request_fail (request, PMO__ERROR_CODE__ERROR_INVALID, "header",
                          "the request has no header");
        return -1;
    }
    if (header->protocol_version != PMO_PROTOCOL_VERSION) {
        pmo_request_fail (request, PMO__ERROR_CODE__ERROR_UNSUPPORTED, "header.protocol_version",
                          "protocol version %u is not supported; this service speaks %d",
                          header->protocol_version, PMO_PROTOCOL_VERSION);
        return -1;
    }
    if (!pmo_wire_request_id_valid (header->request_id)) {
        pmo_request_fail (request, PMO__ERROR_CODE__ERROR_INVALID, "header.request_id",
                          "request_id must be 1 to %d characters of letters, digits and ._:-",
                          PMO_MAX_REQUEST_ID);
        return -1;
    }
    if (!header->identity || pmo_str_empty (header->identity->subject)) {
        pmo_request_fail (request, PMO__ERROR_CODE__ERROR_UNAUTHENTICATED, "header.identity",
                          "the request carries no identity");
        return -1;
    }
    if (header->deadline_ms && header->deadline_ms < pmo_now_ms ()) {
        pmo_request_fail (request, PMO__ERROR_CODE__ERROR_DEADLINE_EXCEEDED, "header.deadline_ms",
                          "the deadline passed before the request was read");
        return -1;
    }
    if (pmo_wire_oneof_case (request->request) == 0) {
        pmo_request_fail (request, PMO__ERROR_CODE__ERROR_UNSUPPORTED, "body",
                          "unknown or missing request type for %s",
                          self->config.request_desc->short_name);
        return -1;
    }
    return 0;
}

//  Send the reply to peer; routing failures are counted, never fatal.
static void s_send (pmo_server_t *self, zframe_t *peer, const uint8_t *data, size_t size)
{
    zmsg_t *msg = zmsg_new ();
    zmsg_addmem (msg, zframe_data (peer), zframe_size (peer));
    zmsg_addmem (msg, data, size);
    if (zmsg_send (&msg, self->router) != 0) {
        self->stats.unroutable++;
        pmo_warn ("server: reply not delivered service=%s error=\"%s\"", self->config.name,
                  zmq_strerror (errno));
        zmsg_destroy (&msg);
    }
}

void pmo_request_defer (pmo_request_t *request)
{
    request->deferred = true;
}

//  Answer a slot's request, count it, and free what it used.
static void s_finish (pmo_server_t *self, slot_t *slot, pmo_arena_t *arena)
{
    pmo_request_t *request = &slot->request;
    self->stats.requests++;
    if (request->code != PMO__ERROR_CODE__ERROR_NONE) {
        self->stats.errors++;
        if ((unsigned)request->code < 16)
            self->stats.by_code[request->code]++;
    }
    if (request->raw_reply)
        s_send (self, slot->peer, request->raw_reply, request->raw_size);
    else {
        size_t packed = protobuf_c_message_get_packed_size (request->reply);
        uint8_t *buffer = pmo_arena_alloc (arena, packed ? packed : 1);
        protobuf_c_message_pack (request->reply, buffer);
        s_send (self, slot->peer, buffer, packed);
    }
    uint64_t took = (uint64_t)(zclock_usecs () - slot->started);
    self->stats.latency_us_sum += took;
    if (took > self->stats.latency_us_max)
        self->stats.latency_us_max = took;
    zframe_destroy (&slot->peer);
    pmo_arena_reset (arena);
}

pmo_request_t *pmo_server_detach (pmo_server_t *self, pmo_request_t *request)
{
    //  The request is the first member of its slot; the slot is one of the
    //  batch's, and its arena moves with it (the batch slot gets a new one)
    slot_t *slot = (slot_t *)request;
    size_t index = (size_t)(slot - self->slots);
    assert (index < PMO_SERVER_BATCH && !request->deferred && !request->detached);
    slot_t *kept = malloc (sizeof (slot_t));
    assert (kept);
    *kept = *slot;
    slot->peer = NULL;
    request->detached = true; //  the engine leaves the batch slot alone
    self->arenas[index] = pmo_arena_new ();
    self->detached++;
    return &kept->request;
}

void pmo_server_answer (pmo_server_t *self, pmo_request_t **request_p)
{
    assert (request_p);
    if (!*request_p)
        return;
    slot_t *slot = (slot_t *)*request_p;
    pmo_arena_t *arena = slot->request.arena;
    s_finish (self, slot, arena);
    pmo_arena_destroy (&arena);
    free (slot);
    assert (self->detached > 0);
    self->detached--;
    *request_p = NULL;
}

//  Let the service finish the deferred requests, then answer them.
static void s_flush (pmo_server_t *self)
{
    if (!self->deferred)
        return;
    assert (self->config.flush);
    self->config.flush (self->config.state);
    for (size_t i = 0; i < self->deferred; i++)
        s_finish (self, &self->slots[i], self->arenas[i]);
    self->deferred = 0;
}

//  Decode, check and hand one request to the service, in the next free slot.
static void s_handle_frame (pmo_server_t *self, zframe_t **peer_p, zframe_t *body)
{
    size_t index = self->deferred;
    slot_t *slot = &self->slots[index];
    pmo_arena_t *arena = self->arenas[index];
    memset (slot, 0, sizeof *slot);
    slot->started = zclock_usecs ();
    slot->peer = *peer_p;
    *peer_p = NULL;
    pmo_request_t *request = &slot->request;
    request->arena = arena;
    ProtobufCMessage *reply = pmo_arena_alloc (arena, self->config.reply_desc->sizeof_message);
    self->config.reply_desc->message_init (reply);
    request->reply = reply;
    Pmo__Header *echo = pmo_arena_alloc (arena, sizeof (Pmo__Header));
    pmo__header__init (echo);
    echo->protocol_version = PMO_PROTOCOL_VERSION;
    *pmo_wire_message_slot (reply, "header") = &echo->base;

    size_t size = body ? zframe_size (body) : 0;
    if (!body) {
        self->stats.malformed++;
        pmo_request_fail (request, PMO__ERROR_CODE__ERROR_MALFORMED, "",
                          "a request is exactly one frame holding one %s",
                          self->config.request_desc->short_name);
    } else if (size > self->config.max_message) {
        self->stats.malformed++;
        pmo_request_fail (request, PMO__ERROR_CODE__ERROR_TOO_LARGE, "",
                          "the request is %zu bytes; the limit is %zu", size,
                          self->config.max_message);
    } else {
        request->request = protobuf_c_message_unpack (
            self->config.request_desc, pmo_arena_allocator (arena), size, zframe_data (body));
        if (!request->request) {
            self->stats.malformed++;
            pmo_request_fail (request, PMO__ERROR_CODE__ERROR_MALFORMED, "",
                              "the frame (%zu bytes) is not a valid %s message", size,
                              self->config.request_desc->short_name);
        }
    }
    if (request->request) {
        Pmo__Header *header = (Pmo__Header *)pmo_wire_header (request->request);
        if (header && pmo_wire_request_id_valid (header->request_id))
            echo->request_id = header->request_id;
        //  Who asks is who the connection's key says (pmo_auth.h): the
        //  identity the request claims counts only for edges
        char why[128] = "";
        const Pmo__Identity *who = NULL;
        if (header && pmo_auth_identity (zframe_meta (body, "User-Id"), header->identity, arena,
                                         &who, why, sizeof why)) {
            self->stats.unauthenticated++;
            pmo_request_fail (request, PMO__ERROR_CODE__ERROR_UNAUTHENTICATED, "header.identity",
                              "%s", why);
        } else if (header)
            header->identity = (Pmo__Identity *)who;
        if (!pmo_request_failed (request) && s_check_envelope (self, request) == 0) {
            request->header = header;
            self->config.handler (self->config.state, request);
        }
    }
    if (request->detached)
        ; //  the service answers it later (pmo_server_answer)
    else if (request->deferred) {
        //  Kept, with its arena, until the flush
        if (++self->deferred == PMO_SERVER_BATCH)
            s_flush (self);
    } else
        s_finish (self, slot, arena);
}

int pmo_server_drain (pmo_server_t *self, int max)
{
    int handled = 0;
    zmsg_t *msg;
    while (handled < max && (msg = zmsg_recv (self->router))) {
        handled++;
        zframe_t *peer = zmsg_pop (msg);
        if (!peer) {
            zmsg_destroy (&msg);
            continue;
        }
        //  Exactly one body frame; anything else is answered as malformed
        zframe_t *body = zmsg_size (msg) == 1 ? zmsg_pop (msg) : NULL;
        if (!body)
            pmo_warn ("server: malformed request service=%s frames=%zu", self->config.name,
                      zmsg_size (msg));
        s_handle_frame (self, &peer, body);
        zframe_destroy (&body);
        zmsg_destroy (&msg);
    }
    //  Everything waiting has been read: finish the batch
    s_flush (self);
    return handled;
}

bool pmo_request_replayed (pmo_request_t *request, pmo_redis_t *redis, const char *division,
                           const char *store)
{
    uint8_t *blob;
    size_t size;
    int rc = pmo_commit_replay (redis, request->arena, division, request->header->request_id, &blob,
                                &size);
    if (rc < 0) {
        pmo_request_fail (request, PMO__ERROR_CODE__ERROR_UNAVAILABLE, "",
                          "%s (Redis) is unavailable; retry shortly", store);
        return true;
    }
    if (rc == 1) {
        request->raw_reply = blob;
        request->raw_size = size;
        pmo_debug ("server: replay request_id=%s", request->header->request_id);
        return true;
    }
    return false;
}
