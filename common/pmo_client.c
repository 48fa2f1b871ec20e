/*  pmo_client.c: DEALER client with deadline and retry. */
#include "pmo_client.h"
#include "pmo_log.h"
#include "pmo_util.h"

#include <assert.h>
#include <czmq.h>
#include <string.h>

struct _pmo_client_t {
    zsock_t *dealer;
    zpoller_t *poller;
};

pmo_client_t *pmo_client_new (const char *endpoints)
{
    assert (endpoints);
    pmo_client_t *self = calloc (1, sizeof (pmo_client_t));
    assert (self);
    self->dealer = zsock_new (ZMQ_DEALER);
    assert (self->dealer);
    //  Keep unsent requests at close for a moment (CZMQ's default linger
    //  is 0, which would drop a CLI's last message), and queue only to
    //  connected peers so a retry can reach a replica that is up.
    zsock_set_linger (self->dealer, 200);
    zsock_set_immediate (self->dealer, 1);
    zsock_set_maxmsgsize (self->dealer, PMO_MAX_MESSAGE * 4);
    char *list = strdup (endpoints);
    assert (list);
    char *save = NULL;
    int connected = 0;
    for (char *ep = strtok_r (list, ",", &save); ep; ep = strtok_r (NULL, ",", &save)) {
        if (zsock_connect (self->dealer, "%s", ep) < 0) {
            pmo_error ("client: cannot connect endpoint=%s", ep);
            connected = -1;
            break;
        }
        connected++;
    }
    free (list);
    if (connected <= 0) {
        zsock_destroy (&self->dealer);
        free (self);
        return NULL;
    }
    self->poller = zpoller_new (self->dealer, NULL);
    assert (self->poller);
    return self;
}

void pmo_client_destroy (pmo_client_t **self_p)
{
    assert (self_p);
    pmo_client_t *self = *self_p;
    if (!self)
        return;
    zpoller_destroy (&self->poller);
    zsock_destroy (&self->dealer);
    free (self);
    *self_p = NULL;
}

//  Wait until the monotonic deadline for one frame; NULL on timeout.
static zframe_t *s_recv_until (pmo_client_t *self, int64_t deadline)
{
    int64_t left = deadline - pmo_mono_ms ();
    if (left <= 0)
        return NULL;
    void *which = zpoller_wait (self->poller, (int)left);
    if (which != self->dealer)
        return NULL;
    return zframe_recv (self->dealer);
}

//  Send without blocking; while no peer is connected (IMMEDIATE holds the
//  message back) try again until the deadline. 0 when sent.
static int s_send_until (pmo_client_t *self, const void *data, size_t size, int64_t deadline)
{
    while (true) {
        if (zmq_send (zsock_resolve (self->dealer), data, size, ZMQ_DONTWAIT) >= 0)
            return 0;
        if (errno != EAGAIN && errno != EINTR)
            return -1;
        int64_t left = deadline - pmo_mono_ms ();
        if (left <= 0)
            return -1;
        zclock_sleep (left < 10 ? (int)left : 10);
    }
}

int pmo_client_call (pmo_client_t *self, const ProtobufCMessage *request,
                     const ProtobufCMessageDescriptor *reply_desc, int timeout_ms, int attempts,
                     ProtobufCMessage **reply)
{
    assert (reply);
    *reply = NULL;
    const Pmo__Header *header = pmo_wire_header (request);
    assert (header && header->request_id);
    size_t size = protobuf_c_message_get_packed_size (request);
    uint8_t *buffer = malloc (size ? size : 1);
    assert (buffer);
    protobuf_c_message_pack (request, buffer);
    if (attempts < 1)
        attempts = 1;
    int rc = -1;
    for (int attempt = 0; attempt < attempts && rc != 0; attempt++) {
        if (attempt > 0)
            pmo_debug ("client: retry request_id=%s attempt=%d", header->request_id, attempt + 1);
        int64_t deadline = pmo_mono_ms () + timeout_ms;
        if (s_send_until (self, buffer, size, deadline))
            continue; //  no service reachable during this attempt
        zframe_t *answer;
        while ((answer = s_recv_until (self, deadline))) {
            ProtobufCMessage *decoded = protobuf_c_message_unpack (
                reply_desc, NULL, zframe_size (answer), zframe_data (answer));
            zframe_destroy (&answer);
            if (!decoded)
                continue;
            const Pmo__Header *echo = pmo_wire_header (decoded);
            if (echo && echo->request_id && strcmp (echo->request_id, header->request_id) == 0) {
                *reply = decoded;
                rc = 0;
                break;
            }
            //  A late reply to an earlier request: not ours
            protobuf_c_message_free_unpacked (decoded, NULL);
        }
    }
    free (buffer);
    return rc;
}

zframe_t *pmo_client_call_raw (pmo_client_t *self, const void *data, size_t size, int timeout_ms)
{
    int64_t deadline = pmo_mono_ms () + timeout_ms;
    if (s_send_until (self, data, size, deadline))
        return NULL;
    return s_recv_until (self, deadline);
}
