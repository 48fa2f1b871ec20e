/*  orgtree_reader.c: keeping an org tree fresh without ever waiting. */
#include "orgtree_reader.h"

#include "pmo_auth.h"
#include "pmo_log.h"
#include "pmo_util.h"
#include "pmo_wire.h"

#include <assert.h>
#include <string.h>

struct _orgtree_reader_t {
    orgtree_t *tree; //  not owned
    zsock_t *socket; //  the DEALER asked on
    bool owned;      //  made by the reader
    Pmo__Identity *identity;
    char registry[256]; //  for the log
    char name[32];
    int timeout_ms, refresh_ms, retry_ms, first_retry_ms;
    char wait[40];   //  the request id of the page awaited ("" none)
    int64_t next_ms; //  monotonic: when to ask again (or give up waiting)
    bool read_once;
};

orgtree_reader_t *orgtree_reader_new (orgtree_t *tree, const orgtree_reader_config_t *config)
{
    assert (tree && config && config->identity && (config->registry || config->socket));
    orgtree_reader_t *self = calloc (1, sizeof (orgtree_reader_t));
    assert (self);
    self->tree = tree;
    self->identity = (Pmo__Identity *)config->identity;
    self->timeout_ms = config->timeout_ms > 0 ? config->timeout_ms : 1000;
    self->refresh_ms = config->refresh_ms > 0 ? config->refresh_ms : 30000;
    self->retry_ms = config->retry_ms > 0 ? config->retry_ms : 1000;
    self->first_retry_ms = config->first_retry_ms > 0 ? config->first_retry_ms : self->retry_ms;
    snprintf (self->name, sizeof self->name, "%s", config->name ? config->name : "orgtree");
    snprintf (self->registry, sizeof self->registry, "%s",
              config->registry ? config->registry : "(the caller's)");
    if (config->socket) {
        self->socket = config->socket;
        return self;
    }
    self->owned = true;
    self->socket = zsock_new (ZMQ_DEALER);
    assert (self->socket);
    //  Sent only to a registry that is connected (else tried again later);
    //  a page of units may be large
    zsock_set_immediate (self->socket, 1);
    zsock_set_linger (self->socket, 0);
    zsock_set_reconnect_ivl (self->socket, 10);
    zsock_set_reconnect_ivl_max (self->socket, 1000);
    zsock_set_maxmsgsize (self->socket, PMO_MAX_MESSAGE * 4);
    char *list = strdup (config->registry), *save = NULL;
    assert (list);
    int rc = 0;
    for (char *ep = strtok_r (list, ",", &save); ep && rc == 0; ep = strtok_r (NULL, ",", &save))
        if (pmo_auth_client (self->socket, ep) || zsock_connect (self->socket, "%s", ep))
            rc = -1;
    free (list);
    if (rc)
        orgtree_reader_destroy (&self);
    return self;
}

void orgtree_reader_destroy (orgtree_reader_t **self_p)
{
    assert (self_p);
    orgtree_reader_t *self = *self_p;
    if (!self)
        return;
    if (self->owned)
        zsock_destroy (&self->socket);
    free (self);
    *self_p = NULL;
}

zsock_t *orgtree_reader_socket (orgtree_reader_t *self)
{
    return self->socket;
}

int64_t orgtree_reader_next_ms (orgtree_reader_t *self)
{
    return self->next_ms;
}

const char *orgtree_reader_awaits (orgtree_reader_t *self)
{
    return self->wait;
}

bool orgtree_reader_read_once (orgtree_reader_t *self)
{
    return self->read_once;
}

//  The next try after a failure.
static int64_t s_retry_at (orgtree_reader_t *self)
{
    return pmo_mono_ms () + (self->read_once ? self->retry_ms : self->first_retry_ms);
}

//  Ask for a page of the org units (after cursor; NULL: the first).
static void s_ask (orgtree_reader_t *self, const char *cursor)
{
    Pmo__ListRequest list;
    orgtree_list_page (self->tree, &list, cursor);
    Pmo__RegistryRequest request = PMO__REGISTRY_REQUEST__INIT;
    request.body_case = PMO__REGISTRY_REQUEST__BODY_LIST;
    request.list = &list;
    Pmo__Header header;
    pmo_header_init (&header, self->wait, self->timeout_ms, self->identity);
    request.header = &header;
    size_t size = protobuf_c_message_get_packed_size (&request.base);
    uint8_t *buffer = malloc (size);
    assert (buffer);
    protobuf_c_message_pack (&request.base, buffer);
    int rc = zmq_send (zsock_resolve (self->socket), buffer, size, ZMQ_DONTWAIT);
    free (buffer);
    if (rc < 0) {
        //  No registry connected: nothing waits, it is asked again later
        self->wait[0] = 0;
        self->next_ms = s_retry_at (self);
        return;
    }
    self->next_ms = pmo_mono_ms () + self->timeout_ms; //  the reply's deadline
}

void orgtree_reader_due (orgtree_reader_t *self)
{
    if (*self->wait) {
        pmo_warn ("%s: the registry did not answer a list of org units within %d ms "
                  "endpoint=%s; asking again in %d ms",
                  self->name, self->timeout_ms, self->registry,
                  self->read_once ? self->retry_ms : self->first_retry_ms);
        self->wait[0] = 0;
        self->next_ms = s_retry_at (self);
        return;
    }
    s_ask (self, NULL);
}

bool orgtree_reader_feed (orgtree_reader_t *self, const Pmo__RegistryReply *reply)
{
    const Pmo__Header *header = reply ? pmo_wire_header (&reply->base) : NULL;
    //  Only the reply awaited: a late one (after its deadline, or of a read
    //  let go) is dropped
    if (!*self->wait || !header || !header->request_id || !streq (header->request_id, self->wait))
        return false;
    self->wait[0] = 0;
    const char *cursor = NULL;
    int rc = orgtree_feed (self->tree, reply, &cursor);
    if (rc == 0) {
        s_ask (self, cursor); //  the next page (cursor is in reply)
        return false;
    }
    if (rc == 1) {
        self->read_once = true;
        self->next_ms = pmo_mono_ms () + self->refresh_ms;
        return true;
    }
    self->next_ms = s_retry_at (self);
    return false;
}

bool orgtree_reader_take (orgtree_reader_t *self)
{
    assert (self->owned);
    void *handle = zsock_resolve (self->socket);
    bool completed = false;
    zmq_msg_t frame;
    zmq_msg_init (&frame);
    while (zmq_msg_recv (&frame, handle, ZMQ_DONTWAIT) >= 0) {
        Pmo__RegistryReply *reply =
            pmo__registry_reply__unpack (NULL, zmq_msg_size (&frame), zmq_msg_data (&frame));
        completed |= orgtree_reader_feed (self, reply);
        if (reply)
            protobuf_c_message_free_unpacked (&reply->base, NULL);
    }
    zmq_msg_close (&frame);
    return completed;
}

void orgtree_reader_now (orgtree_reader_t *self)
{
    orgtree_invalidate (self->tree);
    self->wait[0] = 0;
    self->next_ms = 0;
}

void orgtree_reader_done (orgtree_reader_t *self, int rc)
{
    self->wait[0] = 0;
    if (rc == 0)
        self->read_once = true;
    self->next_ms = rc == 0 ? pmo_mono_ms () + self->refresh_ms : s_retry_at (self);
}
