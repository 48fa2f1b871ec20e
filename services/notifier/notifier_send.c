/*  notifier_send.c: libcurl multi, driven from the actor's poll loop. */
#include "notifier_send.h"
#include "notifier_model.h"
#include "pmo_log.h"
#include "pmo_util.h"

#include <assert.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RESPONSE_MAX (64 * 1024) //  bytes of a response we read at most
#define IDLE_MAX     64          //  finished easy handles kept for the next transfers

typedef struct _transfer_t transfer_t;
struct _transfer_t {
    notifier_send_t *owner;
    CURL *easy;
    struct curl_slist *headers; //  HTTP headers or SMTP recipients
    char *body;                 //  what is sent
    size_t size, sent;          //  SMTP upload position
    void *tag;
    int64_t started_ms;
    size_t received; //  response bytes (counted; the first NOTIFIER_RESPONSE_KEPT kept)
    char response[NOTIFIER_RESPONSE_KEPT];
    char retry_after[64];
    char location[256];
    char refused[160]; //  set when the address policy refused the connection
    char errbuf[CURL_ERROR_SIZE];
    bool added;                      //  was in the multi handle (its easy handle may be reused)
    transfer_t *next;                //  in the done list
    transfer_t *run_prev, *run_next; //  in the running list
};

typedef struct {
    curl_socket_t fd;
    int what; //  CURL_POLL_IN / OUT / INOUT
} watch_t;

struct _notifier_send_t {
    notifier_send_config_t config;
    CURLM *multi;
    watch_t *watches; //  sockets curl wants watched
    size_t n_watches, max_watches;
    int64_t timer_at; //  monotonic ms when curl's timer fires; -1 none
    size_t active;
    transfer_t *done_head, *done_tail; //  finished, not yet collected
    transfer_t *running;               //  added to the multi handle
    CURL *idle[IDLE_MAX];              //  finished handles, reset and used again
    size_t n_idle;
};

static int s_socket_cb (CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
    notifier_send_t *self = userp;
    for (size_t i = 0; i < self->n_watches; i++)
        if (self->watches[i].fd == fd) {
            if (what == CURL_POLL_REMOVE)
                self->watches[i] = self->watches[--self->n_watches];
            else
                self->watches[i].what = what;
            return 0;
        }
    if (what == CURL_POLL_REMOVE)
        return 0;
    if (self->n_watches == self->max_watches) {
        self->max_watches = self->max_watches ? self->max_watches * 2 : 64;
        self->watches = realloc (self->watches, self->max_watches * sizeof (watch_t));
        assert (self->watches);
    }
    self->watches[self->n_watches++] = (watch_t){fd, what};
    return 0;
}

static int s_timer_cb (CURLM *multi, long timeout_ms, void *userp)
{
    notifier_send_t *self = userp;
    self->timer_at = timeout_ms < 0 ? -1 : pmo_mono_ms () + timeout_ms;
    return 0;
}

notifier_send_t *notifier_send_new (const notifier_send_config_t *config)
{
    static bool initialised = false;
    if (!initialised) {
        curl_global_init (CURL_GLOBAL_DEFAULT);
        initialised = true;
    }
    notifier_send_t *self = calloc (1, sizeof (notifier_send_t));
    assert (self);
    self->config = *config;
    self->timer_at = -1;
    self->multi = curl_multi_init ();
    assert (self->multi);
    curl_multi_setopt (self->multi, CURLMOPT_SOCKETFUNCTION, s_socket_cb);
    curl_multi_setopt (self->multi, CURLMOPT_SOCKETDATA, self);
    curl_multi_setopt (self->multi, CURLMOPT_TIMERFUNCTION, s_timer_cb);
    curl_multi_setopt (self->multi, CURLMOPT_TIMERDATA, self);
    //  keep connections to endpoints we post to often
    curl_multi_setopt (self->multi, CURLMOPT_MAXCONNECTS, 256L);
    return self;
}

//  Free a transfer. Its easy handle, if it finished (removed from the
//  multi handle), is kept for a later transfer while there is room:
//  making one costs a dozen allocations, some large.
static void s_transfer_free (notifier_send_t *self, transfer_t *t, bool reuse)
{
    if (t->easy && reuse && self->n_idle < IDLE_MAX)
        self->idle[self->n_idle++] = t->easy;
    else if (t->easy)
        curl_easy_cleanup (t->easy);
    curl_slist_free_all (t->headers);
    free (t->body);
    free (t);
}

//  An easy handle with no options set: a kept one (reset), or a new one.
static CURL *s_easy (notifier_send_t *self)
{
    if (!self->n_idle)
        return curl_easy_init ();
    CURL *e = self->idle[--self->n_idle];
    curl_easy_reset (e);
    return e;
}

static void s_unlink (notifier_send_t *self, transfer_t *t)
{
    if (t->run_prev)
        t->run_prev->run_next = t->run_next;
    else
        self->running = t->run_next;
    if (t->run_next)
        t->run_next->run_prev = t->run_prev;
    t->run_prev = t->run_next = NULL;
}

void notifier_send_destroy (notifier_send_t **self_p)
{
    assert (self_p);
    notifier_send_t *self = *self_p;
    if (!self)
        return;
    //  Transfers still running are abandoned: their deliveries stay leased
    //  in Redis and become due again when the lease ends.
    while (self->running) {
        transfer_t *t = self->running;
        s_unlink (self, t);
        curl_multi_remove_handle (self->multi, t->easy);
        if (self->config.free_tag)
            self->config.free_tag (t->tag);
        s_transfer_free (self, t, false);
    }
    while (self->done_head) {
        transfer_t *t = self->done_head;
        self->done_head = t->next;
        if (self->config.free_tag)
            self->config.free_tag (t->tag);
        s_transfer_free (self, t, false);
    }
    while (self->n_idle)
        curl_easy_cleanup (self->idle[--self->n_idle]);
    curl_multi_cleanup (self->multi);
    free (self->watches);
    free (self);
    *self_p = NULL;
}

static size_t s_write_cb (char *data, size_t size, size_t nmemb, void *userp)
{
    transfer_t *t = userp;
    size_t bytes = size * nmemb;
    if (t->received < sizeof t->response - 1) {
        size_t room = sizeof t->response - 1 - t->received;
        memcpy (t->response + t->received, data, bytes < room ? bytes : room);
        t->response[t->received + (bytes < room ? bytes : room)] = 0;
    }
    t->received += bytes;
    //  only the first bytes are kept (Slack Web API answers); a huge answer is cut off
    return t->received > RESPONSE_MAX ? 0 : bytes;
}

static void s_header_value (const char *line, size_t len, const char *name, char *out, size_t size)
{
    size_t nlen = strlen (name);
    if (len <= nlen || strncasecmp (line, name, nlen) != 0)
        return;
    const char *v = line + nlen;
    size_t vlen = len - nlen;
    while (vlen && (*v == ' ' || *v == '\t'))
        v++, vlen--;
    while (vlen && (v[vlen - 1] == '\r' || v[vlen - 1] == '\n' || v[vlen - 1] == ' '))
        vlen--;
    if (vlen >= size)
        vlen = size - 1;
    memcpy (out, v, vlen);
    out[vlen] = 0;
}

static size_t s_header_cb (char *line, size_t size, size_t nmemb, void *userp)
{
    transfer_t *t = userp;
    size_t len = size * nmemb;
    s_header_value (line, len, "retry-after:", t->retry_after, sizeof t->retry_after);
    s_header_value (line, len, "location:", t->location, sizeof t->location);
    return len;
}

static size_t s_read_cb (char *buffer, size_t size, size_t nitems, void *userp)
{
    transfer_t *t = userp;
    size_t room = size * nitems, left = t->size - t->sent;
    size_t n = left < room ? left : room;
    memcpy (buffer, t->body + t->sent, n);
    t->sent += n;
    return n;
}

//  Check the address curl is about to connect to, after name resolution,
//  so neither a literal nor a DNS name can reach inside the network.
static curl_socket_t s_open_cb (void *clientp, curlsocktype purpose, struct curl_sockaddr *address)
{
    transfer_t *t = clientp;
    if (!notifier_address_allowed (&address->addr, t->owner->config.allow)) {
        unsigned cls = notifier_address_class (&address->addr);
        snprintf (t->refused, sizeof t->refused,
                  "connection refused by policy: the endpoint resolves to a %s address "
                  "(see --allow-networks)",
                  cls == NOTIFIER_NET_LOOPBACK     ? "loopback"
                  : cls == NOTIFIER_NET_PRIVATE    ? "private"
                  : cls == NOTIFIER_NET_LINK_LOCAL ? "link-local"
                                                   : "reserved");
        return CURL_SOCKET_BAD;
    }
    return socket (address->family, address->socktype, address->protocol);
}

static void s_done_push (notifier_send_t *self, transfer_t *t)
{
    t->next = NULL;
    if (self->done_tail)
        self->done_tail->next = t;
    else
        self->done_head = t;
    self->done_tail = t;
}

int notifier_send_start (notifier_send_t *self, const notifier_send_request_t *r)
{
    transfer_t *t = calloc (1, sizeof (transfer_t));
    assert (t);
    t->owner = self;
    t->tag = r->tag;
    t->started_ms = pmo_mono_ms ();
    t->body = malloc (r->size + 1);
    assert (t->body);
    memcpy (t->body, r->body, r->size);
    t->body[r->size] = 0;
    t->size = r->size;
    t->easy = s_easy (self);
    CURL *e = t->easy;
    if (!e) {
        snprintf (t->errbuf, sizeof t->errbuf, "curl_easy_init failed");
        s_done_push (self, t);
        return -1;
    }
    curl_easy_setopt (e, CURLOPT_PRIVATE, t);
    curl_easy_setopt (e, CURLOPT_URL, r->url);
    curl_easy_setopt (e, CURLOPT_NOSIGNAL, 1L);
    //  A transfer ended while its name is still being looked up (its
    //  deadline passed, or the notifier stops) leaves the lookup's thread
    //  to finish on its own and free what it holds: without this, curl
    //  joins the thread, and the actor waits for the resolver to give up
    //  (seconds per name when the DNS server drops queries), serving
    //  nothing meanwhile (test_notifier_stop)
    curl_easy_setopt (e, CURLOPT_QUICK_EXIT, 1L);
    curl_easy_setopt (e, CURLOPT_ERRORBUFFER, t->errbuf);
    curl_easy_setopt (e, CURLOPT_CONNECTTIMEOUT_MS, (long)self->config.connect_timeout_ms);
    curl_easy_setopt (e, CURLOPT_TIMEOUT_MS, (long)self->config.total_timeout_ms);
    curl_easy_setopt (e, CURLOPT_OPENSOCKETFUNCTION, s_open_cb);
    curl_easy_setopt (e, CURLOPT_OPENSOCKETDATA, t);
    //  Proxies from the environment would bypass the address check
    curl_easy_setopt (e, CURLOPT_PROXY, "");
    curl_easy_setopt (e, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt (e, CURLOPT_WRITEFUNCTION, s_write_cb);
    curl_easy_setopt (e, CURLOPT_WRITEDATA, t);
    curl_easy_setopt (e, CURLOPT_HEADERFUNCTION, s_header_cb);
    curl_easy_setopt (e, CURLOPT_HEADERDATA, t);
    curl_easy_setopt (e, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt (e, CURLOPT_SSL_VERIFYHOST, 2L);
    if (r->smtp) {
        curl_easy_setopt (e, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
        curl_easy_setopt (e, CURLOPT_USE_SSL,
                          self->config.smtp_tls_required ? (long)CURLUSESSL_ALL
                                                         : (long)CURLUSESSL_TRY);
        if (r->user && *r->user) {
            curl_easy_setopt (e, CURLOPT_USERNAME, r->user);
            curl_easy_setopt (e, CURLOPT_PASSWORD, r->password ? r->password : "");
        }
        //  the envelope carries bare addresses; display names are headers
        char from[300], name[256], address[256];
        if (notifier_mailbox (r->mail_from, name, sizeof name, address, sizeof address))
            snprintf (address, sizeof address, "%s", r->mail_from);
        snprintf (from, sizeof from, "<%s>", address);
        curl_easy_setopt (e, CURLOPT_MAIL_FROM, from);
        for (size_t i = 0; i < r->n_rcpt; i++) {
            char rcpt[300];
            if (notifier_mailbox (r->rcpt[i], name, sizeof name, address, sizeof address))
                snprintf (address, sizeof address, "%s", r->rcpt[i]);
            snprintf (rcpt, sizeof rcpt, "<%s>", address);
            t->headers = curl_slist_append (t->headers, rcpt);
        }
        curl_easy_setopt (e, CURLOPT_MAIL_RCPT, t->headers);
        curl_easy_setopt (e, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt (e, CURLOPT_READFUNCTION, s_read_cb);
        curl_easy_setopt (e, CURLOPT_READDATA, t);
        curl_easy_setopt (e, CURLOPT_INFILESIZE_LARGE, (curl_off_t)t->size);
    } else {
        curl_easy_setopt (e, CURLOPT_PROTOCOLS_STR, "http,https");
        for (size_t i = 0; i < r->n_headers; i++)
            t->headers = curl_slist_append (t->headers, r->headers[i]);
        //  no "Expect: 100-continue" round trip for our small bodies
        t->headers = curl_slist_append (t->headers, "Expect:");
        curl_easy_setopt (e, CURLOPT_HTTPHEADER, t->headers);
        curl_easy_setopt (e, CURLOPT_USERAGENT, "pmo-notifier/" PMO_VERSION);
        curl_easy_setopt (e, CURLOPT_POST, 1L);
        curl_easy_setopt (e, CURLOPT_POSTFIELDS, t->body);
        curl_easy_setopt (e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)t->size);
    }
    if (curl_multi_add_handle (self->multi, e) != CURLM_OK) {
        snprintf (t->errbuf, sizeof t->errbuf, "curl refused the transfer");
        s_done_push (self, t);
        return -1;
    }
    t->added = true;
    self->active++;
    t->run_next = self->running;
    if (self->running)
        self->running->run_prev = t;
    self->running = t;
    return 0;
}

int notifier_send_pollitems (notifier_send_t *self, zmq_pollitem_t *items, int max)
{
    int n = 0;
    for (size_t i = 0; i < self->n_watches && n < max; i++) {
        items[n] = (zmq_pollitem_t){0};
        items[n].fd = self->watches[i].fd;
        int what = self->watches[i].what;
        items[n].events = (short)(((what & CURL_POLL_IN) ? ZMQ_POLLIN : 0) |
                                  ((what & CURL_POLL_OUT) ? ZMQ_POLLOUT : 0));
        n++;
    }
    return n;
}

long notifier_send_timeout (notifier_send_t *self)
{
    if (self->timer_at < 0)
        return -1;
    int64_t left = self->timer_at - pmo_mono_ms ();
    return left > 0 ? (long)left : 0;
}

static void s_collect (notifier_send_t *self)
{
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read (self->multi, &left))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        CURL *easy = msg->easy_handle;
        CURLcode code = msg->data.result;
        transfer_t *t = NULL;
        curl_easy_getinfo (easy, CURLINFO_PRIVATE, (char **)&t);
        curl_multi_remove_handle (self->multi, easy);
        self->active--;
        if (!t)
            continue;
        s_unlink (self, t);
        if (code == CURLE_OK || (code == CURLE_WRITE_ERROR && t->received > RESPONSE_MAX))
            //  done; an oversized answer is cut off after its status came
            t->errbuf[0] = 0;
        else if (!*t->errbuf)
            snprintf (t->errbuf, sizeof t->errbuf, "%s", curl_easy_strerror (code));
        if (*t->refused)
            snprintf (t->errbuf, sizeof t->errbuf, "%s", t->refused);
        s_done_push (self, t);
    }
}

void notifier_send_perform (notifier_send_t *self, const zmq_pollitem_t *items, int count)
{
    int running;
    for (int i = 0; i < count; i++) {
        if (!items[i].revents)
            continue;
        int flags = ((items[i].revents & ZMQ_POLLIN) ? CURL_CSELECT_IN : 0) |
                    ((items[i].revents & ZMQ_POLLOUT) ? CURL_CSELECT_OUT : 0) |
                    ((items[i].revents & ZMQ_POLLERR) ? CURL_CSELECT_ERR : 0);
        curl_multi_socket_action (self->multi, items[i].fd, flags, &running);
    }
    if (self->timer_at >= 0 && pmo_mono_ms () >= self->timer_at) {
        self->timer_at = -1;
        curl_multi_socket_action (self->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    }
    s_collect (self);
}

bool notifier_send_result (notifier_send_t *self, notifier_send_result_t *result)
{
    transfer_t *t = self->done_head;
    if (!t)
        return false;
    self->done_head = t->next;
    if (!self->done_head)
        self->done_tail = NULL;
    memset (result, 0, sizeof *result);
    result->tag = t->tag;
    long status = 0;
    if (t->easy)
        curl_easy_getinfo (t->easy, CURLINFO_RESPONSE_CODE, &status);
    result->status = status;
    snprintf (result->error, sizeof result->error, "%s", t->errbuf);
    snprintf (result->retry_after, sizeof result->retry_after, "%s", t->retry_after);
    snprintf (result->location, sizeof result->location, "%s", t->location);
    snprintf (result->body, sizeof result->body, "%s", t->response);
    result->duration_ms = pmo_mono_ms () - t->started_ms;
    //  a transfer curl refused was never added: its handle is not reused
    s_transfer_free (self, t, t->added);
    return true;
}

size_t notifier_send_active (notifier_send_t *self)
{
    return self->active;
}
