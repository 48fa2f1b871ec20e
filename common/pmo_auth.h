/*  pmo_auth.h: who is at the other end of a ZeroMQ socket (CurveZMQ + ZAP).

    Every principal (each service, the gateway, the hub, an uplink, each
    operator using pmoctl) holds a CURVE keypair. One directory of keys (the
    keyring, `.pmo/keys/` for `./deploy/pmo up`) holds:

      server.key, server.key_secret  the stack's server key: every ROUTER and
                                     PUB socket of the stack serves with it,
                                     and every client checks it
      NAME.key                       a known principal's public key, with
                                     what it may do (its metadata, below)
      NAME.key_secret                the secret key of a principal that runs
                                     on this machine (mode 0600)

    The metadata of NAME.key is the server-side allow-list entry:
      kind     service     acts as itself: subject and grants below replace
                           whatever identity its requests claim
               operator    a person using pmoctl: the same, subject and grants
                           are configured here, never taken from the request
               edge        a trusted edge (gateway, hub, uplink) that carries
                           the identity of the person it authenticated
               impersonate may claim any identity (tests, break-glass tools)
      subject  the identity's subject (service, operator)
      grants   ROLE@UNIT,... (service, operator)

    A process sets its keyring up once (pmo_auth_setup); from then on every
    server socket it makes (pmo_server, PUB) requires CURVE and admits only
    known principals, and every client (pmo_client, SUB) presents its own
    key. The ZAP handler (one per process, RFC 27) names the principal as the
    connection's User-Id, which libzmq attaches to every frame; the server
    engine turns it into the request's identity with pmo_auth_identity.
    Without a keyring (pmo_auth_off) sockets are plain: only for tests.

    Thread-safe: the keyring is read under a lock by the ZAP thread and by
    every actor.
*/
#ifndef PMO_AUTH_H_INCLUDED
#define PMO_AUTH_H_INCLUDED

#include "pmo.pb-c.h"
#include "pmo_util.h"

#include <czmq.h>
#include <stdbool.h>

typedef enum {
    PMO_PRINCIPAL_SERVICE = 1,
    PMO_PRINCIPAL_OPERATOR,
    PMO_PRINCIPAL_EDGE,
    PMO_PRINCIPAL_IMPERSONATE,
    PMO_PRINCIPAL_SERVER, //  the stack's server key: never admitted as a client
} pmo_principal_kind_t;

//  The ZAP domain of the stack's own sockets.
#define PMO_AUTH_DOMAIN "pmo"

//  Load the keyring in dir and act as principal (its NAME.key_secret is our
//  client key; server.key_secret, if readable, our server key). Starts the
//  ZAP handler. Returns 0, or -1 after logging what is missing or wrong
//  (which file). Calling it again replaces the keyring for sockets made
//  from then on.
int pmo_auth_setup (const char *dir, const char *principal);

//  Forget the keyring: sockets made from now on are plain (tests, and the
//  CURVE-off run of the benchmark).
void pmo_auth_off (void);

//  A keyring is set up.
bool pmo_auth_on (void);

//  How this process is authenticated, for the events it writes on its own
//  account (Event.actor_via): "key:<principal>", or "" while auth is off;
//  copied into arena.
const char *pmo_auth_via (pmo_arena_t *arena);

//  Make sock (ROUTER or PUB, before bind) a CURVE server admitting the known
//  principals. Does nothing while auth is off. Returns 0 or -1 (no server
//  key: this principal cannot serve).
int pmo_auth_server (zsock_t *sock);

//  Make sock (DEALER or SUB, before connect) a CURVE client with our key,
//  checking the server key that endpoint serves with (the key of a
//  server-*.key whose "endpoints" metadata lists it, else server.key). Call
//  before each connect. Does nothing while auth is off. Returns 0 or -1.
int pmo_auth_client (zsock_t *sock, const char *endpoint);

//  A SUB socket on the comma-separated endpoints, subscribed to prefix,
//  authenticated like any client. NULL (logged) if an endpoint is bad.
zsock_t *pmo_auth_sub_new (const char *endpoints, const char *prefix);

//  The identity a request from principal (the frame's User-Id; NULL or ""
//  when the connection is plain) acts as, into *who: the claimed one for
//  edges and impersonators (and when auth is off), the configured one for
//  services and operators (allocated in arena). Returns 0, or -1 with why
//  filled when auth is on and the principal is unknown or missing.
int pmo_auth_identity (const char *principal, const Pmo__Identity *claimed, pmo_arena_t *arena,
                       const Pmo__Identity **who, char *why, size_t why_size);

//  Relay ZAP requests of domain to an inproc REP handler the caller
//  connects to the endpoint written into endpoint (a service with its own
//  allow-list, e.g. the hub's spokes). Starts the process's ZAP handler.
//  While no handler is connected, handshakes of domain are refused. 0 or -1.
int pmo_auth_zap_relay (const char *domain, char *endpoint, size_t size);

//  Handshakes refused by the ZAP handler since the process started.
uint64_t pmo_auth_refused (void);

//  Make a keypair NAME.key (public, with the metadata) and NAME.key_secret
//  (mode 0600) in dir (made 0700 if missing). kind is "service",
//  "operator", "edge", "impersonate" or "server"; subject and grants may be
//  NULL. Refuses to overwrite an existing key. Returns 0, or -1 and writes
//  why.
int pmo_auth_keygen (const char *dir, const char *name, const char *kind, const char *subject,
                     const char *grants, char *why, size_t why_size);

//  Check "ROLE@UNIT,ROLE@UNIT" (spaces allowed after commas). 0, or -1 with
//  why.
int pmo_auth_grants_check (const char *grants, char *why, size_t why_size);

#endif
