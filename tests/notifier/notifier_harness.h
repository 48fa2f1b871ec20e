/*  notifier_harness.h: a real notifier for tests.

    A real redis-server and the registry actor (through the registry
    harness), the notifier actor in-process on free ports, a real HTTP
    receiver (receiver.py, a separate process that records every request it
    gets and answers per path: 200, 500, 429 + Retry-After, 410, a redirect,
    a hang) and, on demand, a real SMTP server (Debian's python3-aiosmtpd)
    writing to a Maildir. The org tree is hub > dft > dft-rail, and hub > moj.
*/
#ifndef NOTIFIER_HARNESS_H_INCLUDED
#define NOTIFIER_HARNESS_H_INCLUDED

#include "notifier.pb-c.h"
#include "notifier_server.h"
#include "registry_harness.h"

#include <jansson.h>

typedef struct {
    rh_t *rh; //  Redis, registry, and the identity calls are made as
    notifier_config_t config;
    zactor_t *actor;
    char endpoint[64];
    char pub[64];
    pmo_client_t *client;
    pmo_test_proc_t *receiver;
    int receiver_port;
    char receiver_log[256];
    pmo_test_proc_t *smtp;
    int smtp_port;
    char maildir[256];   //  temp directory; the Maildir is its Maildir/
    char request_id[40]; //  of the last call
    int coalesce_s;      //  given to channels nh_channel creates (0 = default)
    char secrets[8][96]; //  signing secrets in use (for the conformance check)
    int n_secrets;
} nh_t;

//  Everything the receiver and the SMTP server got is kept for the
//  conformance check (tests/notifier/conformance) when PMO_NOTIFIER_CAPTURES
//  names a directory: at nh_stop, as <program>.jsonl (one request a line,
//  with the signing secrets in force as <program>.secrets) and
//  <program>-mail/ (the messages).

//  Everything above, with test settings: loopback and http allowed, retries
//  from 200 ms (doubling to 2 s), 4 attempts, 1.5 s HTTP deadline.
nh_t *nh_start (void);
//  The same, with the notifier acting on the allocator and the risk monitor
//  at these endpoints (clicks in chat; NULL: none; the services may start
//  later: clients connect lazily).
nh_t *nh_start_with (const char *allocator_endpoint, const char *riskmon_endpoint);
void nh_stop (nh_t **self_p);
void nh_actor_start (nh_t *self);
void nh_actor_stop (nh_t *self);
//  Kill the receiver (SIGKILL) / start it again on the same port.
void nh_receiver_kill (nh_t *self);
void nh_receiver_start (nh_t *self);
//  Start the SMTP server (python3-aiosmtpd, installed by apt-get if missing).
void nh_smtp_start (nh_t *self);

//  A signing secret the test uses (nh_channel's are known already).
void nh_secret (nh_t *self, const char *secret);

//  A wait in ms, stretched under valgrind (PMO_UNDER_VALGRIND) and nothing else.
int nh_scale (int ms);

//  Call the notifier as the harness identity (rh_as changes it).
Pmo__NotifierReply *nh_call (nh_t *self, Pmo__NotifierRequest *request);
Pmo__NotifierReply *nh_call_with_id (nh_t *self, Pmo__NotifierRequest *request,
                                     const char *request_id);
void nh_free (Pmo__NotifierReply **reply_p);
void nh_ok_at (Pmo__NotifierReply *reply, const char *where, int line);
void nh_err_at (Pmo__NotifierReply *reply, Pmo__ErrorCode code, const char *field,
                const char *where, int line);
#define nh_ok(reply) nh_ok_at (reply, __FILE__, __LINE__)
#define nh_err(reply, code, field)                                                                 \
    nh_err_at (reply, PMO__ERROR_CODE__ERROR_##code, field, __FILE__, __LINE__)

//  The receiver's URL for a path ("/ok/slack"); static buffer.
const char *nh_url (nh_t *self, const char *path);
//  A channel (returns its id; caller frees). secret is for webhooks.
char *nh_channel (nh_t *self, Pmo__ChannelKind kind, const char *unit, const char *url,
                  const char *secret);
//  A subscription of channel to unit's subtree (NULL = the channel's unit),
//  types "a,b" (NULL = all), min severity. Returns its id (caller frees).
char *nh_subscribe (nh_t *self, const char *channel, const char *unit, const char *types,
                    Pmo__Severity min);
//  A project in unit through the registry; its id (caller frees).
char *nh_project (nh_t *self, const char *code, const char *unit);

//  Requests the receiver recorded whose path starts with prefix: an array
//  of {path, headers, body, time, status} (caller decrefs).
json_t *nh_requests (nh_t *self, const char *prefix);
//  Wait (up to timeout_ms) until at least count such requests are recorded.
json_t *nh_wait_requests (nh_t *self, const char *prefix, size_t count, int timeout_ms);
//  The body of a recorded request as JSON (owned by the request).
json_t *nh_body (json_t *request);
//  A delivery by id (caller frees the reply).
Pmo__NotifierReply *nh_delivery (nh_t *self, const char *id);

#endif
