/*  pmo_server.h: the ROUTER server engine every service runs.

    The engine owns the ROUTER socket. For each request frame it decodes the
    message with the service's request descriptor into a per-request arena,
    checks the envelope (decodable, no unknown fields or enum values,
    protocol version, request id, identity, deadline, a known request type),
    calls the service's handler, packs the reply and sends it back to the
    peer that asked. Anything wrong with the envelope is answered with a typed
    error and never reaches the handler.

    Replies are sent with ROUTER_MANDATORY, so a reply to a peer that has gone
    is reported (and counted) instead of silently dropped; inbound frames
    larger than twice max_message make libzmq drop the connection before they
    are read (ZMQ_MAXMSGSIZE).

    With a keyring set up (pmo_auth.h) the ROUTER is a CURVE server that
    admits only known keys, and the identity a handler sees is the one the
    connection's principal acts as (pmo_auth_identity), not the one the
    request claims, unless the principal is an edge.
*/
#ifndef PMO_SERVER_H_INCLUDED
#define PMO_SERVER_H_INCLUDED

#include "pmo_util.h"
#include "pmo_wire.h"

#include <czmq.h>

//  One request being handled. Everything allocated for it lives in arena and
//  is freed after the reply is sent.
typedef struct {
    pmo_arena_t *arena;
    const ProtobufCMessage *request; //  decoded and checked
    const Pmo__Header *header;       //  the request's header (never NULL)
    ProtobufCMessage *reply;         //  initialised, header echoed; the handler fills it
    const uint8_t *raw_reply;        //  if set, sent instead of packing reply
    size_t raw_size;                 //  (a stored reply replayed for a retry)
    Pmo__ErrorCode code;             //  the error set, NONE if the request succeeded
    bool deferred;                   //  the handler finishes it in the flush callback
    bool detached;                   //  the service answers it later (pmo_server_detach)
} pmo_request_t;

typedef struct _pmo_server_t pmo_server_t;

typedef void (pmo_handler_fn) (void *state, pmo_request_t *request);
//  Finish every request the handler deferred (see pmo_request_defer).
typedef void (pmo_flush_fn) (void *state);

typedef struct {
    const char *name;                               //  service name for logs
    const ProtobufCMessageDescriptor *request_desc; //  e.g. the RegistryRequest descriptor
    const ProtobufCMessageDescriptor *reply_desc;   //  e.g. the RegistryReply descriptor
    pmo_handler_fn *handler;
    void *state;         //  passed to the handler
    size_t max_message;  //  0 = PMO_MAX_MESSAGE
    pmo_flush_fn *flush; //  needed only if the handler defers requests
} pmo_server_config_t;

typedef struct {
    uint64_t requests;        //  frames received
    uint64_t errors;          //  replies carrying an error
    uint64_t malformed;       //  frames refused before the handler
    uint64_t unroutable;      //  replies whose peer had gone
    uint64_t unauthenticated; //  requests whose key no longer maps to a principal
    uint64_t by_code[16];     //  replies by error code
    uint64_t latency_us_sum;  //  handling time, for a mean
    uint64_t latency_us_max;
} pmo_server_stats_t;

//  Bind a ROUTER on endpoint. Returns NULL (and logs why) if it cannot bind.
pmo_server_t *pmo_server_new (const pmo_server_config_t *config, const char *endpoint);
void pmo_server_destroy (pmo_server_t **self_p);
//  The socket, to wait on in the service's poller.
zsock_t *pmo_server_socket (pmo_server_t *self);
//  Answer up to max requests already waiting (never blocks). Returns how many.
int pmo_server_drain (pmo_server_t *self, int max);
const pmo_server_stats_t *pmo_server_stats (pmo_server_t *self);

//  Fail the request: sets the reply's error (code, field, message, retryable).
//  Only the first failure counts.
void pmo_request_fail (pmo_request_t *request, Pmo__ErrorCode code, const char *field,
                       const char *format, ...) __attribute__ ((format (printf, 4, 5)));
bool pmo_request_failed (const pmo_request_t *request);

typedef struct _pmo_redis_t pmo_redis_t;
//  True if the request is done with: its request id was already done in
//  division (the stored reply is sent again), or Redis failed (the request
//  fails as unavailable, naming store, e.g. "the registry's store").
//  Handlers ask this right after authorisation, before any check that
//  depends on state the first attempt may have changed.
bool pmo_request_replayed (pmo_request_t *request, pmo_redis_t *redis, const char *division,
                           const char *store);

//  Batching: the handler may start a request and leave it unfinished. The
//  engine keeps it (and its arena) and, once every request waiting on the
//  socket has been read (or PMO_SERVER_BATCH are pending), calls the flush
//  callback, which must finish them all; then it sends their replies. A
//  service uses this to answer many requests with one Redis round trip for
//  their reads and one for their commits.
#define PMO_SERVER_BATCH 64
void pmo_request_defer (pmo_request_t *request);

//  Answering later: a handler whose request waits on something slow (a
//  call another thread makes) takes it out of the engine, which then
//  answers nothing when the handler returns. Returns the request to keep
//  (with its arena: everything in it stays valid); the service fills its
//  reply later, on the server's thread, and sends it with
//  pmo_server_answer, which frees it. Every detached request must be
//  answered (at the latest before pmo_server_destroy).
pmo_request_t *pmo_server_detach (pmo_server_t *self, pmo_request_t *request);
void pmo_server_answer (pmo_server_t *self, pmo_request_t **request_p);

#endif
