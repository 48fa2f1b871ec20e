/*  pmo_client.c: DEALER client with deadline and retry.

    A request written to a DEALER goes down the pipe of one connection. If
    that connection dies before the peer reads it (the service restarted,
    its replica went away), ZeroMQ drops the request without a word, and a
    caller would wait out its whole deadline for a reply that cannot come.
    A DEALER only stops using a dead connection's pipe once its own thread
    has processed the I/O thread's news of the death, which zmq_send may
    put off for up to a millisecond.

    So the client watches its own connections (a socket monitor) and, when
    a connection drops while a request is in flight or just before it was
    sent, sends the same bytes again under the same request id: shortly
    after the drop (the monitor hears of it before the DEALER has let go of
    the dead pipe, so at once would be too soon) and again when a
    connection is made anew. The service dedupes by request id, so a
    request that did arrive twice is done once and answered from its
    stored reply; the extra reply is dropped by id like any late one. A
    request lost on a healthy connection is not resent: it times out as
    before.
*/
#include "pmo_client.h"
#include "pmo_auth.h"
#include "pmo_log.h"
#include "pmo_util.h"

#include <assert.h>
#include <czmq.h>
#include <stdatomic.h>
#include <string.h>

//  After a drop, wait this long for the DEALER to let go of the dead pipe
//  before sending again.
#define RESEND_AFTER_DROP_MS 20

struct _pmo_client_t {
    zsock_t *dealer;
    zsock_t *monitor; //  PAIR receiving the DEALER's disconnect events
    zpoller_t *poller;
    uint64_t resent; //  sends repeated because a connection dropped
};

//  What the monitor said since it was last read.
typedef struct {
    bool dropped;   //  a connection was lost
    bool connected; //  a connection was made (handshake done)
} heard_t;

static atomic_uint s_monitors;

//  Watch the DEALER's disconnects on a PAIR of our own. 0 or -1.
static int s_monitor_start (pmo_client_t *self)
{
    char name[64];
    snprintf (name, sizeof name, "inproc://pmo-client-%u-%p", atomic_fetch_add (&s_monitors, 1),
              (void *)self);
    if (zmq_socket_monitor (zsock_resolve (self->dealer), name,
                            ZMQ_EVENT_DISCONNECTED | ZMQ_EVENT_HANDSHAKE_SUCCEEDED) != 0)
        return -1;
    self->monitor = zsock_new (ZMQ_PAIR);
    assert (self->monitor);
    if (zsock_connect (self->monitor, "%s", name) != 0) {
        zsock_destroy (&self->monitor);
        return -1;
    }
    return 0;
}

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
    //  Come back soon after a service restarts, backing off (doubling up to
    //  a second) while it stays away
    zsock_set_reconnect_ivl (self->dealer, 10);
    zsock_set_reconnect_ivl_max (self->dealer, 1000);
    zsock_set_maxmsgsize (self->dealer, PMO_MAX_MESSAGE * 4);
    if (s_monitor_start (self)) {
        pmo_error ("client: cannot monitor the socket error=\"%s\"", zmq_strerror (errno));
        zsock_destroy (&self->dealer);
        free (self);
        return NULL;
    }
    char *list = strdup (endpoints);
    assert (list);
    char *save = NULL;
    int connected = 0;
    for (char *ep = strtok_r (list, ",", &save); ep; ep = strtok_r (NULL, ",", &save)) {
        //  CURVE options are taken at connect, so each endpoint gets the
        //  server key it serves with
        pmo_auth_client (self->dealer, ep);
        if (zsock_connect (self->dealer, "%s", ep) < 0) {
            pmo_error ("client: cannot connect endpoint=%s", ep);
            connected = -1;
            break;
        }
        connected++;
    }
    free (list);
    if (connected <= 0) {
        zsock_destroy (&self->monitor);
        zsock_destroy (&self->dealer);
        free (self);
        return NULL;
    }
    self->poller = zpoller_new (self->dealer, self->monitor, NULL);
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
    //  Stop the monitor before closing what it watches
    zmq_socket_monitor (zsock_resolve (self->dealer), NULL, 0);
    zsock_destroy (&self->monitor);
    zsock_destroy (&self->dealer);
    free (self);
    *self_p = NULL;
}

uint64_t pmo_client_resent (const pmo_client_t *self)
{
    return self->resent;
}

//  Read every event the monitor holds.
static heard_t s_hear (pmo_client_t *self)
{
    heard_t heard = {false, false};
    while (zsock_events (self->monitor) & ZMQ_POLLIN) {
        zmsg_t *event = zmsg_recv (self->monitor);
        if (!event)
            break;
        //  Frame 1: 16-bit event id and 32-bit value; frame 2: the endpoint
        zframe_t *head = zmsg_first (event);
        if (head && zframe_size (head) >= 2) {
            uint16_t id;
            memcpy (&id, zframe_data (head), sizeof id);
            heard.dropped = heard.dropped || id == ZMQ_EVENT_DISCONNECTED;
            heard.connected = heard.connected || id == ZMQ_EVENT_HANDSHAKE_SUCCEEDED;
        }
        zmsg_destroy (&event);
    }
    return heard;
}

//  Send without blocking; while no peer is connected (IMMEDIATE holds the
//  message back) try again until the deadline. 0 when sent.
static int s_send_until (pmo_client_t *self, const void *data, size_t size, int64_t deadline)
{
    //  ZMQ_EVENTS makes the socket take in its pending commands now, so a
    //  pipe the I/O thread has already seen die is gone before we send
    (void)zsock_events (self->dealer);
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

//  What a call knows of its connections while it waits for its reply.
typedef struct {
    bool dropped;      //  a connection dropped since just before the send
    int64_t resend_at; //  send once more then (monotonic ms), 0 for never
} waiting_t;

//  Wait until the monotonic deadline for one reply frame. If data is not
//  NULL, send it again after a drop (see the file's header). NULL on
//  timeout.
static zframe_t *s_recv_until (pmo_client_t *self, const void *data, size_t size, int64_t deadline,
                               waiting_t *waiting)
{
    while (true) {
        int64_t now = pmo_mono_ms ();
        int64_t left = deadline - now;
        if (left <= 0)
            return NULL;
        int64_t wait =
            waiting->resend_at && waiting->resend_at - now < left ? waiting->resend_at - now : left;
        void *which = zpoller_wait (self->poller, wait > 0 ? (int)wait : 0);
        if (which == self->dealer)
            return zframe_recv (self->dealer);
        if (!which && zpoller_terminated (self->poller))
            return NULL;
        bool again = false;
        if (which == self->monitor) {
            heard_t heard = s_hear (self);
            if (heard.dropped) {
                waiting->dropped = true;
                waiting->resend_at = pmo_mono_ms () + RESEND_AFTER_DROP_MS;
            }
            //  A connection made after a drop: the surest way back
            again = heard.connected && waiting->dropped;
        }
        if (waiting->resend_at && pmo_mono_ms () >= waiting->resend_at) {
            again = true;
            waiting->resend_at = 0;
        }
        if (again && data) {
            self->resent++;
            pmo_debug ("client: a connection dropped with a request in flight; sending it again");
            if (s_send_until (self, data, size, deadline))
                return NULL;
        }
    }
}

//  Send data, then wait for a frame until deadline.
static zframe_t *s_exchange (pmo_client_t *self, const void *data, size_t size, int64_t deadline,
                             waiting_t *waiting)
{
    //  A drop heard just before the send may not have reached the DEALER
    //  yet: the request may go down the dead pipe
    waiting->dropped = s_hear (self).dropped;
    waiting->resend_at = 0;
    if (s_send_until (self, data, size, deadline))
        return NULL;
    if (waiting->dropped)
        waiting->resend_at = pmo_mono_ms () + RESEND_AFTER_DROP_MS;
    return s_recv_until (self, data, size, deadline, waiting);
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
        waiting_t waiting;
        zframe_t *answer = s_exchange (self, buffer, size, deadline, &waiting);
        while (answer) {
            ProtobufCMessage *decoded = protobuf_c_message_unpack (
                reply_desc, NULL, zframe_size (answer), zframe_data (answer));
            zframe_destroy (&answer);
            if (decoded) {
                const Pmo__Header *echo = pmo_wire_header (decoded);
                if (echo && echo->request_id &&
                    strcmp (echo->request_id, header->request_id) == 0) {
                    *reply = decoded;
                    rc = 0;
                    break;
                }
                //  A late reply to an earlier request: not ours
                protobuf_c_message_free_unpacked (decoded, NULL);
            }
            //  A late reply does not end the wait, nor a resend that is due
            answer = s_recv_until (self, buffer, size, deadline, &waiting);
        }
    }
    free (buffer);
    return rc;
}

zframe_t *pmo_client_call_raw (pmo_client_t *self, const void *data, size_t size, int timeout_ms)
{
    //  Raw frames may be garbage the service cannot dedupe: never resent
    int64_t deadline = pmo_mono_ms () + timeout_ms;
    if (s_send_until (self, data, size, deadline))
        return NULL;
    waiting_t waiting = {false, 0};
    return s_recv_until (self, NULL, 0, deadline, &waiting);
}
