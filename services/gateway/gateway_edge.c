/*  gateway_edge.c: the HTTP edge, before a request is anyone's: what
    libmicrohttpd lets through that pmo refuses, and how long and how
    often one client may hold the gateway.

    - Framing (RFC 9112 6.3): Content-Length together with
      Transfer-Encoding is a request smuggling attempt: 400 and the
      connection is closed.
    - The path and the query hold no control characters (%00 included:
      libmicrohttpd would end the path there, so "/projects/%00" would
      list projects): 400.
    - Every connection has a deadline for its next whole request (headers
      and body) counted from when it opened or its last answer went out,
      so a client trickling a byte at a time cannot keep it open past the
      deadline (libmicrohttpd's own timeout restarts at every byte). A
      request being served (waiting for a service, a live-event stream)
      is not cut. Connections per address are capped by libmicrohttpd
      (MHD_OPTION_PER_IP_CONNECTION_LIMIT).
    - Requests without a valid token are limited per address: each 401
      takes from the address's bucket; when it is empty the address gets
      429 until it refills: at once without a token or with a malformed
      one, after the lookup for a well-formed one, so that a good token
      behind the same address keeps working.
*/
#include "gateway_internal.h"
#include "gateway_model.h"

#include "pmo_log.h"
#include "pmo_util.h"

#include <arpa/inet.h>
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#define ADDRESSES_MAX 10000 //  failure buckets kept; past this they start over

//  One open connection.
struct _gateway_conn_t {
    int fd;
    int64_t since_ms; //  monotonic: the next request is awaited since then
    bool serving;     //  a whole request came and is being answered
    void *handle;     //  in self->conns
};

//  libmicrohttpd unescapes the path and the query with this: as its own
//  unescape, but %00 becomes DEL (0x7f) instead of ending the string
//  there, so that it is seen (and refused) like any control character.
size_t gateway_edge_unescape (void *cls, struct MHD_Connection *connection, char *uri)
{
    (void)cls;
    (void)connection;
    for (char *at = strstr (uri, "%00"); at; at = strstr (at + 3, "%00"))
        memcpy (at, "%7f", 3);
    return MHD_http_unescape (uri);
}

//  A connection's deadline starts at since: the sweep is due by then.
static void s_deadline_from (self_t *self, int64_t since)
{
    if (since + self->config.request_timeout_ms < self->conns_next)
        self->conns_next = since + self->config.request_timeout_ms;
}

void gateway_edge_notify (void *cls, struct MHD_Connection *connection, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
    self_t *self = cls;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        gateway_conn_t *conn = calloc (1, sizeof (gateway_conn_t));
        assert (conn);
        const union MHD_ConnectionInfo *info =
            MHD_get_connection_info (connection, MHD_CONNECTION_INFO_CONNECTION_FD);
        conn->fd = info ? info->connect_fd : -1;
        conn->since_ms = pmo_mono_ms ();
        s_deadline_from (self, conn->since_ms);
        conn->handle = zlistx_add_end (self->conns, conn);
        *socket_context = conn;
    } else if (*socket_context) {
        gateway_conn_t *conn = *socket_context;
        zlistx_delete (self->conns, conn->handle);
        free (conn);
        *socket_context = NULL;
    }
}

static gateway_conn_t *s_conn_of (struct MHD_Connection *connection)
{
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info (connection, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return info ? info->socket_context : NULL;
}

void gateway_edge_serving (self_t *self, struct MHD_Connection *connection, bool serving)
{
    gateway_conn_t *conn = s_conn_of (connection);
    if (conn) {
        conn->serving = serving;
        conn->since_ms = pmo_mono_ms ();
        if (!serving)
            s_deadline_from (self, conn->since_ms);
    }
}

int64_t gateway_edge_sweep (self_t *self, int64_t now)
{
    if (now < self->conns_next)
        return self->conns_next;
    int64_t limit = self->config.request_timeout_ms;
    int64_t next = INT64_MAX;
    for (gateway_conn_t *conn = zlistx_first (self->conns); conn;
         conn = zlistx_next (self->conns)) {
        if (conn->serving || conn->fd < 0)
            continue;
        if (now - conn->since_ms >= limit) {
            //  libmicrohttpd sees the end of the stream and closes it
            pmo_debug ("gateway: request deadline passed fd=%d", conn->fd);
            shutdown (conn->fd, SHUT_RDWR);
            conn->fd = -1;
        } else if (conn->since_ms + limit < next)
            next = conn->since_ms + limit;
    }
    return next;
}

static bool s_has_control (const char *text)
{
    for (const unsigned char *c = (const unsigned char *)text; *c; c++)
        if (*c < 0x20 || *c == 0x7f)
            return true;
    return false;
}

static enum MHD_Result s_query_control (void *cls, enum MHD_ValueKind kind, const char *key,
                                        const char *value)
{
    (void)kind;
    const char **bad = cls;
    if (s_has_control (key) || (value && s_has_control (value))) {
        *bad = key;
        return MHD_NO;
    }
    return MHD_YES;
}

int gateway_edge_check (self_t *self, request_t *req, const char *url, enum MHD_Result *answered)
{
    (void)self;
    struct MHD_Connection *connection = req->connection;
    const char *length =
        MHD_lookup_connection_value (connection, MHD_HEADER_KIND, "Content-Length");
    const char *coding =
        MHD_lookup_connection_value (connection, MHD_HEADER_KIND, "Transfer-Encoding");
    if (length && coding) {
        pmo_warn ("gateway: refused Content-Length with Transfer-Encoding");
        *answered = gateway_http_problem (
            req, 400, "malformed", "Transfer-Encoding",
            "a request may not carry both Content-Length and Transfer-Encoding (RFC 9112 6.3); "
            "the connection is closed",
            NULL, "Connection", "close");
        return -1;
    }
    const char *bad = NULL;
    if (s_has_control (url))
        bad = "path";
    else
        MHD_get_connection_values (connection, MHD_GET_ARGUMENT_KIND, s_query_control, &bad);
    if (bad) {
        char field[80];
        snprintf (field, sizeof field, "%s", bad);
        for (char *c = field; *c; c++)
            if ((unsigned char)*c < 0x20 || *c == 0x7f)
                *c = '?';
        *answered = gateway_http_problem (req, 400, "invalid", field,
                                          "control characters (such as %00) are not allowed in "
                                          "the path or the query",
                                          NULL, NULL, NULL);
        return -1;
    }
    return 0;
}

//  The client's address as text ("" if unknown), into out (64 bytes).
static void s_address (struct MHD_Connection *connection, char *out, size_t size)
{
    *out = 0;
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info (connection, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (!info || !info->client_addr)
        return;
    const struct sockaddr *addr = info->client_addr;
    if (addr->sa_family == AF_INET)
        inet_ntop (AF_INET, &((const struct sockaddr_in *)addr)->sin_addr, out, (socklen_t)size);
    else if (addr->sa_family == AF_INET6)
        inet_ntop (AF_INET6, &((const struct sockaddr_in6 *)addr)->sin6_addr, out, (socklen_t)size);
}

//  The address's failure bucket, refilled to now (created full).
static bucket_t *s_failures (self_t *self, const char *address, int64_t now)
{
    double rate = self->config.auth_fail_rate;
    double burst = self->config.auth_fail_burst;
    bucket_t *bucket = zhashx_lookup (self->failures, address);
    if (!bucket) {
        if (zhashx_size (self->failures) >= ADDRESSES_MAX)
            zhashx_purge (self->failures);
        bucket = calloc (1, sizeof (bucket_t));
        assert (bucket);
        bucket->tokens = burst;
        bucket->last_ms = now;
        zhashx_insert (self->failures, address, bucket);
    }
    bucket->tokens += (double)(now - bucket->last_ms) * rate / 1000.0;
    if (bucket->tokens > burst)
        bucket->tokens = burst;
    bucket->last_ms = now;
    return bucket;
}

int gateway_edge_failures_wait (self_t *self, request_t *req)
{
    if (self->config.auth_fail_rate <= 0)
        return 0;
    char address[64];
    s_address (req->connection, address, sizeof address);
    bucket_t *bucket = s_failures (self, address, pmo_mono_ms ());
    if (bucket->tokens >= 1)
        return 0;
    return (int)((1 - bucket->tokens) / self->config.auth_fail_rate) + 1;
}

void gateway_edge_failed (self_t *self, request_t *req)
{
    if (self->config.auth_fail_rate <= 0)
        return;
    char address[64];
    s_address (req->connection, address, sizeof address);
    bucket_t *bucket = s_failures (self, address, pmo_mono_ms ());
    bucket->tokens = bucket->tokens >= 1 ? bucket->tokens - 1 : 0;
}
