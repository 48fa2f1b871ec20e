/*  notifier_send.h: concurrent HTTP and SMTP requests with deadlines.

    One libcurl multi handle drives every transfer from the notifier's
    actor thread: the actor polls curl's sockets alongside its ZeroMQ
    sockets, so a slow endpoint holds only its own transfers. Each transfer
    has a connect deadline and a total deadline; redirects are never
    followed; the address actually connected to is checked against the
    private, loopback and link-local ranges (after DNS, so a name that
    resolves inside the network is refused too); response bodies are read
    up to 64 KB, the first 2 KB kept for the caller.
*/
#ifndef NOTIFIER_SEND_H_INCLUDED
#define NOTIFIER_SEND_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <zmq.h>

#define NOTIFIER_RESPONSE_KEPT 2048 //  bytes of a response body kept for the caller

typedef struct {
    int connect_timeout_ms;       //  TCP (and TLS) connect deadline
    int total_timeout_ms;         //  whole request deadline
    unsigned allow;               //  NOTIFIER_NET_* classes allowed besides public addresses
    bool smtp_tls_required;       //  STARTTLS required on smtp:// (always TLS on smtps://)
    void (*free_tag) (void *tag); //  frees the tag of a transfer abandoned at destroy
} notifier_send_config_t;

typedef struct {
    bool smtp;                  //  an email (else an HTTP POST)
    const char *url;            //  copied
    const char *const *headers; //  HTTP: "Name: value" lines, copied
    size_t n_headers;
    const char *body; //  copied
    size_t size;
    const char *user; //  SMTP login (NULL or "" = none)
    const char *password;
    const char *mail_from;
    const char *const *rcpt; //  SMTP recipients
    size_t n_rcpt;
    void *tag; //  the caller's, returned with the result
} notifier_send_request_t;

typedef struct {
    void *tag;
    long status;                       //  HTTP status or SMTP reply code; 0 if none came
    char error[256];                   //  transport error, "" when a status came back
    char retry_after[64];              //  the Retry-After header, "" if none
    char location[256];                //  the Location header of a redirect
    char body[NOTIFIER_RESPONSE_KEPT]; //  the response's first bytes (Slack's Web API answers)
    int64_t duration_ms;
} notifier_send_result_t;

typedef struct _notifier_send_t notifier_send_t;

notifier_send_t *notifier_send_new (const notifier_send_config_t *config);
void notifier_send_destroy (notifier_send_t **self_p);

//  Start a transfer. Returns 0, or -1 if curl refused it (the result then
//  comes back at once with an error).
int notifier_send_start (notifier_send_t *self, const notifier_send_request_t *request);
//  Poll items for curl's sockets (up to max). Returns how many.
int notifier_send_pollitems (notifier_send_t *self, zmq_pollitem_t *items, int max);
//  Milliseconds until curl needs to run again (-1: no transfer waits on time).
long notifier_send_timeout (notifier_send_t *self);
//  Let curl work on the sockets that are ready (items as filled and polled)
//  and on its timers.
void notifier_send_perform (notifier_send_t *self, const zmq_pollitem_t *items, int count);
//  The next finished transfer; false if none.
bool notifier_send_result (notifier_send_t *self, notifier_send_result_t *result);
//  Transfers running.
size_t notifier_send_active (notifier_send_t *self);

#endif
