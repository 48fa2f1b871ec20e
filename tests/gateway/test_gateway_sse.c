/*  test_gateway_sse.c: live events through the gateway's one shared reader
    (a real gateway, registry and Redis; clients on raw sockets, as a
    browser's EventSource reads them).

    - Clients of different grants connected at once share the reader and
      each sees exactly its own: a dft viewer dft's projects, a dhsc viewer
      dhsc's, an admin both.
    - A client that resumes (Last-Event-ID) while events keep coming gets
      its history, then the live events, each once, in order.
    - A client that stops reading is sent "dropped" once its queue (16 KiB
      here) is full and its stream ends; the others get every event; the
      drop is counted in /metrics. Resuming from its last event id loses
      nothing.
*/
#include "gateway_harness.h"

#include "pmo_util.h"

#include <arpa/inet.h>
#include <assert.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define QUEUE 16384

typedef struct {
    int fd;
    char *buf;
    size_t size, cap;
    bool closed; //  the server closed the connection
} client_t;

//  rcvbuf > 0: a small receive buffer (a client that will stop reading).
static client_t *s_open (gh_t *gh, const char *token, const char *last_id, int rcvbuf)
{
    client_t *c = calloc (1, sizeof (client_t));
    assert (c);
    c->fd = socket (AF_INET, SOCK_STREAM, 0);
    assert (c->fd >= 0);
    if (rcvbuf > 0)
        assert (setsockopt (c->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf) == 0);
    struct sockaddr_in addr = {.sin_family = AF_INET};
    addr.sin_port = htons ((uint16_t)atoi (strchr (gh->http, ':') + 1));
    inet_pton (AF_INET, "127.0.0.1", &addr.sin_addr);
    assert (connect (c->fd, (struct sockaddr *)&addr, sizeof addr) == 0);
    char request[1024];
    int len = snprintf (request, sizeof request,
                        "GET /api/v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
                        "Accept: text/event-stream\r\n%s%s%s\r\n",
                        token, last_id ? "Last-Event-ID: " : "", last_id ? last_id : "",
                        last_id ? "\r\n" : "");
    assert (write (c->fd, request, (size_t)len) == len);
    return c;
}

//  Occurrences of needle in buf[from, size).
static int s_count_from (const client_t *c, const char *needle, size_t from)
{
    int seen = 0;
    size_t len = strlen (needle);
    const char *end = c->buf + c->size;
    for (const char *p = c->buf + from; p && p + len <= end;) {
        p = memmem (p, (size_t)(end - p), needle, len);
        if (p) {
            seen++;
            p++;
        }
    }
    return seen;
}

static int s_count (const client_t *c, const char *needle)
{
    return c->buf ? s_count_from (c, needle, 0) : 0;
}

//  Read once what has arrived (poll said so).
static void s_read (client_t *c)
{
    if (c->size + 65536 + 1 > c->cap) {
        c->cap = c->cap ? c->cap * 2 : 131072;
        c->buf = realloc (c->buf, c->cap);
        assert (c->buf);
    }
    ssize_t got = read (c->fd, c->buf + c->size, c->cap - c->size - 1);
    if (got <= 0)
        c->closed = true;
    else
        c->size += (size_t)got;
    c->buf[c->size] = 0;
}

//  Read until needle has appeared count times, the stream ended, or the
//  timeout. True if it appeared.
static bool s_wait (client_t *c, const char *needle, int count, int timeout_ms)
{
    int64_t deadline = pmo_mono_ms () + timeout_ms;
    //  Counted once, then only in what each read adds (a needle may
    //  straddle two reads)
    int seen = s_count (c, needle);
    size_t len = strlen (needle);
    while (true) {
        if (seen >= count)
            return true;
        int64_t left = deadline - pmo_mono_ms ();
        if (left <= 0 || c->closed)
            return false;
        struct pollfd item = {c->fd, POLLIN, 0};
        if (poll (&item, 1, (int)left) > 0) {
            size_t before = c->size;
            s_read (c);
            size_t from = before >= len ? before - len + 1 : 0;
            seen += s_count_from (c, needle, from);
        }
    }
}

//  Read what has arrived, without waiting.
static void s_drain (client_t *c)
{
    struct pollfd item = {c->fd, POLLIN, 0};
    while (!c->closed && poll (&item, 1, 0) == 1)
        s_read (c);
}

//  The id of the last event received.
static void s_last_id (const client_t *c, char *id, size_t size)
{
    const char *last = NULL;
    for (const char *p = c->buf; (p = strstr (p, "\nid: ")); p++)
        last = p + 5;
    assert (last);
    snprintf (id, size, "%.*s", (int)strcspn (last, "\r\n"), last);
}

static void s_close (client_t **c_p)
{
    close ((*c_p)->fd);
    free ((*c_p)->buf);
    free (*c_p);
    *c_p = NULL;
}

static void s_tune (gateway_config_t *config)
{
    config->sse_queue = QUEUE;
}

//  A project with a long description: its event is about 3 KB of JSON.
static void s_big_project (gh_t *gh, const char *code, const char *unit)
{
    char description[2801];
    memset (description, 'x', sizeof description - 1);
    description[sizeof description - 1] = 0;
    char *body = NULL;
    int len = asprintf (&body,
                        "{\"code\":\"%s\",\"name\":\"Project %s\",\"org_unit\":\"%s\","
                        "\"description\":\"%s\",\"budget\":{\"baseline\":{\"minor\":1000,"
                        "\"currency\":\"GBP\"}}}",
                        code, code, unit, description);
    assert (len > 0);
    gh_resp_t *resp = gh_http (gh, "POST", "/api/v1/projects", gh->admin, body, NULL);
    GH_STATUS (resp, 201);
    gh_resp_free (&resp);
    free (body);
}

int main (void)
{
    gh_t *gh = gh_start (s_tune);
    gh_org (gh);
    char *dft = gh_token (gh, "watcher@dft", "viewer@dft");
    char *dhsc = gh_token (gh, "watcher@dhsc", "viewer@dhsc");

    //  Three grants at once, one reader
    client_t *a = s_open (gh, dft, NULL, 0), *b = s_open (gh, dhsc, NULL, 0),
             *all = s_open (gh, gh->admin, NULL, 0);
    assert (s_wait (a, ": connected", 1, 5000) && s_wait (b, ": connected", 1, 5000) &&
            s_wait (all, ": connected", 1, 5000));
    char *p1 = gh_project (gh, gh->admin, "SH-1", "dft");
    char *p2 = gh_project (gh, gh->admin, "SH-2", "dhsc");
    char *p3 = gh_project (gh, gh->admin, "SH-3", "dft-rail");
    assert (s_wait (all, "event: project.created", 3, 5000));
    assert (s_wait (a, "event: project.created", 2, 5000));
    assert (s_wait (b, "event: project.created", 1, 5000));
    assert (!s_wait (a, "event: project.created", 3, 500));
    assert (strstr (a->buf, p1) && strstr (a->buf, p3) && !strstr (a->buf, p2));
    assert (strstr (b->buf, p2) && !strstr (b->buf, p1) && !strstr (b->buf, p3));
    assert (strstr (all->buf, p1) && strstr (all->buf, p2) && strstr (all->buf, p3));

    //  A resume while events keep coming: history, then live, each once
    char last[128];
    s_last_id (a, last, sizeof last);
    s_close (&a);
    char codes[8][16];
    for (int i = 0; i < 4; i++) {
        snprintf (codes[i], sizeof codes[i], "RS-%d", i);
        free (gh_project (gh, gh->admin, codes[i], "dft"));
    }
    a = s_open (gh, dft, last, 0);
    for (int i = 4; i < 8; i++) {
        snprintf (codes[i], sizeof codes[i], "RS-%d", i);
        free (gh_project (gh, gh->admin, codes[i], "dft"));
    }
    assert (s_wait (a, "event: project.created", 8, 8000));
    assert (!s_wait (a, "event: project.created", 9, 1000));
    const char *at = a->buf;
    for (int i = 0; i < 8; i++) {
        char needle[160];
        snprintf (needle, sizeof needle, "\"code\":\"%s\"", codes[i]);
        const char *found = strstr (at, needle);
        assert (found);
        assert (!strstr (found + 1, needle));
        at = found;
    }

    //  A client that stops reading: its queue fills, it is dropped; the
    //  one that reads gets everything (the others go: they would fall
    //  behind too, unread)
    s_close (&a);
    s_close (&b);
    client_t *slow = s_open (gh, gh->admin, NULL, 4096);
    assert (s_wait (slow, ": connected", 1, 5000));
    int events = 120; //  about 360 KB: more than the queue and the sockets hold
    for (int i = 0; i < events; i++) {
        char code[16];
        snprintf (code, sizeof code, "SL-%d", i);
        s_big_project (gh, code, "dhsc");
        s_drain (all); //  this one keeps up
    }
    assert (s_wait (all, "\"code\":\"SL-", events, 20000));
    assert (s_wait (slow, "event: dropped", 1, 20000));
    //  ... after which its stream ends (the last chunk)
    assert (s_wait (slow, "\r\n0\r\n\r\n", 1, 5000));
    assert (s_count (slow, "event: dropped") == 1);
    assert (strstr (slow->buf, "\"reason\":\"the client reads too slowly\""));
    //  What it got before the drop is a prefix: it resumes from there
    s_last_id (slow, last, sizeof last);
    int got = s_count (slow, "\"code\":\"SL-");
    assert (got < events);
    s_close (&slow);
    slow = s_open (gh, gh->admin, last, 0);
    assert (s_wait (slow, "\"code\":\"SL-", events - got, 20000));
    assert (!s_wait (slow, "\"code\":\"SL-", events - got + 1, 1000));
    gh_resp_t *resp = gh_http (gh, "GET", "/metrics", gh->admin, NULL, NULL);
    GH_STATUS (resp, 200);
    GH_CHECK (strstr (resp->body, "pmo_gateway_sse_dropped_total 1\n"), resp);
    gh_resp_free (&resp);

    s_close (&slow);
    s_close (&all);
    free (p1);
    free (p2);
    free (p3);
    free (dft);
    free (dhsc);
    gh_stop (&gh);
    printf ("test_gateway_sse: OK\n");
    return 0;
}
