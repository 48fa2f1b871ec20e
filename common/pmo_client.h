/*  pmo_client.h: the DEALER client every caller of a service uses (pmoctl,
    the gateway, one service asking another).

    A call sends one request frame and waits for the reply whose header
    echoes the request id, up to timeout_ms. If none comes it sends the very
    same bytes again (same request id, so the service answers a retry of a
    change with the first reply instead of changing anything twice), up to
    attempts times. Replies to earlier attempts or earlier calls that arrive
    late are recognised by their request id and dropped.

    A request whose connection drops before it is answered (the service
    restarted) is sent again at once under the same request id, so a
    restart costs the caller a reconnect, not a deadline.

    A client connects to one or more endpoints (comma-separated); DEALER
    spreads requests over the replicas. Not thread-safe.
*/
#ifndef PMO_CLIENT_H_INCLUDED
#define PMO_CLIENT_H_INCLUDED

#include "pmo_wire.h"

#include <czmq.h>

typedef struct _pmo_client_t pmo_client_t;

//  Returns NULL if an endpoint is malformed.
pmo_client_t *pmo_client_new (const char *endpoints);
void pmo_client_destroy (pmo_client_t **self_p);

//  Send request (its header must carry a request id) and wait for its reply.
//  Returns 0 and sets *reply (decoded with reply_desc; caller frees with
//  protobuf_c_message_free_unpacked (*reply, NULL)), or -1 when no reply came
//  in time on any attempt (the request may or may not have been done: retry
//  it with the same request id to find out safely).
int pmo_client_call (pmo_client_t *self, const ProtobufCMessage *request,
                     const ProtobufCMessageDescriptor *reply_desc, int timeout_ms, int attempts,
                     ProtobufCMessage **reply);

//  How many sends were repeated because a connection dropped.
uint64_t pmo_client_resent (const pmo_client_t *self);

//  Send raw bytes and return the raw reply frame (any reply; for tests of
//  malformed input). Caller destroys the frame. NULL on timeout.
zframe_t *pmo_client_call_raw (pmo_client_t *self, const void *data, size_t size, int timeout_ms);

#endif
