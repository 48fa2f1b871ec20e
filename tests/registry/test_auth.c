/*  test_auth.c: every ZeroMQ endpoint authenticates (pmo_auth.h), tried on
    a real registry over TCP as an attacker on the same machine would.

    - a plain connection (no CURVE) and a CURVE key the keyring does not
      know get no reply, on the ROUTER and on the PUB, and the refusal is
      counted;
    - a service key acts as itself and an operator key as the identity its
      key file configures, whatever the request claims (the project's
      created_by and the event's actor say so);
    - an edge key carries the identity it was given, and so does a key that
      may impersonate;
    - pmoctl run by another Unix user (nobody) cannot read the keys and so
      gets nothing (only when the test runs as root).
*/
#include "events.pb-c.h"
#include "pmo_auth.h"
#include "registry_harness.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

//  How long a refused connection is watched for its handshake failure. A
//  plain client's greeting to a CURVE server sometimes gets no answer at
//  all (libzmq then drops it after its handshake interval, 30 s): either
//  way it gets nothing, which is what is checked.
#define HANDSHAKE_WAIT_MS 2000
#define REFUSAL_WAIT_MS   20000 //  for the ZAP handler's count: generous, the machine is shared

//  Wait for the monitored socket to report one of events, up to
//  HANDSHAKE_WAIT_MS; true if it did.
static bool s_wait_event (zsock_t *monitor, int events)
{
    zpoller_t *poller = zpoller_new (monitor, NULL);
    bool seen = false;
    int64_t deadline = zclock_mono () + HANDSHAKE_WAIT_MS;
    while (!seen && zclock_mono () < deadline) {
        if (!zpoller_wait (poller, 200))
            continue;
        zmsg_t *msg = zmsg_recv (monitor);
        zframe_t *head = msg ? zmsg_first (msg) : NULL;
        if (head && zframe_size (head) >= 2) {
            uint16_t event;
            memcpy (&event, zframe_data (head), 2);
            seen = (event & events) != 0;
        }
        zmsg_destroy (&msg);
    }
    zpoller_destroy (&poller);
    return seen;
}

//  A ping on a socket that may never be admitted: it must get no answer.
//  curve: NULL for plain, else the client's key; zap: the ZAP handler
//  must have refused it (an unknown key; not when the server key is wrong,
//  which fails before the server knows who asks).
static void s_refused (const char *endpoint, int type, zcert_t *curve, const char *server_key,
                       bool zap)
{
    static int n;
    char name[64];
    snprintf (name, sizeof name, "inproc://test-auth-monitor-%d", n++);
    zsock_t *sock = zsock_new (type);
    assert (sock);
    if (curve) {
        zcert_apply (curve, sock);
        zsock_set_curve_serverkey (sock, server_key);
    }
    int watch = ZMQ_EVENT_DISCONNECTED | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL |
                ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH;
    assert (zmq_socket_monitor (zsock_resolve (sock), name, watch) == 0);
    zsock_t *monitor = zsock_new (ZMQ_PAIR);
    assert (monitor && zsock_connect (monitor, "%s", name) == 0);
    uint64_t refused = pmo_auth_refused ();
    if (type == ZMQ_SUB)
        zsock_set_subscribe (sock, "");
    assert (zsock_connect (sock, "%s", endpoint) == 0);
    if (type == ZMQ_DEALER)
        zstr_send (sock, "ping");
    if (zap) {
        //  The ZAP handler said no
        int64_t deadline = zclock_mono () + REFUSAL_WAIT_MS;
        while (pmo_auth_refused () == refused && zclock_mono () < deadline)
            zclock_sleep (10);
        assert (pmo_auth_refused () > refused);
    }
    s_wait_event (monitor, watch);
    zsock_set_rcvtimeo (sock, 0);
    zframe_t *frame = zframe_recv (sock);
    assert (!frame);
    //  Stop the monitor before closing what it watches (as pmo_client does:
    //  a monitor left running stalls the connections made after it)
    zmq_socket_monitor (zsock_resolve (sock), NULL, 0);
    zsock_destroy (&monitor);
    zsock_destroy (&sock);
}

//  Reconnect the harness's client with the key name (our keyring's dir).
static void s_key (rh_t *rh, const char *name)
{
    assert (pmo_auth_setup (pmo_test_keys (), name) == 0);
    pmo_client_destroy (&rh->client);
    rh->client = pmo_client_new (rh->endpoint);
    assert (rh->client);
}

//  The actor of the newest event in division's stream, and how it was
//  authenticated (via, "" if NULL).
static char *s_last_actor (rh_t *rh, const char *division, char *via, size_t via_size)
{
    redisReply *r =
        pmo_test_redis_command (rh->redis, "XREVRANGE pmo:{%s}:events + - COUNT 1", division);
    assert (r && r->type == REDIS_REPLY_ARRAY && r->elements == 1);
    redisReply *fields = r->element[0]->element[1];
    Pmo__Event *event = NULL;
    for (size_t i = 0; i + 1 < fields->elements; i += 2)
        if (streq (fields->element[i]->str, "data"))
            event = pmo__event__unpack (NULL, fields->element[i + 1]->len,
                                        (uint8_t *)fields->element[i + 1]->str);
    assert (event);
    char *actor = strdup (event->actor);
    snprintf (via, via_size, "%s", event->actor_via);
    pmo__event__free_unpacked (event, NULL);
    freeReplyObject (r);
    return actor;
}

//  Create a project in ops claiming to be the CEO with admin rights; the
//  reply's created_by and the event's actor must be expected (NULL: the
//  request is refused as forbidden).
static void s_create_as_ceo (rh_t *rh, const char *code, const char *expected,
                             const char *expected_via, const char *claim_via)
{
    rh_as (rh, "ceo@board", "admin@hub");
    rh->identity.via = (char *)claim_via;
    Pmo__RegistryReply *reply = rh_project (rh, code, "ops");
    if (!expected) {
        rh->identity.via = NULL;
        rh_err (reply, FORBIDDEN, "");
        rh_free (&reply);
        return;
    }
    rh->identity.via = NULL;
    rh_ok (reply);
    assert (streq (reply->project->created_by, expected));
    rh_free (&reply);
    char via[128];
    char *actor = s_last_actor (rh, "ops", via, sizeof via);
    assert (streq (actor, expected));
    assert (streq (via, expected_via));
    free (actor);
}

static void s_pmoctl_as_nobody (rh_t *rh)
{
    if (geteuid () != 0) {
        printf ("test_auth: not root: pmoctl as another user not tried\n");
        return;
    }
    char pmoctl[1024], ping[1200];
    pmo_test_build_path ("services/pmoctl/pmoctl", pmoctl, sizeof pmoctl);
    //  As ourselves (the key's owner) it works...
    snprintf (ping, sizeof ping, "PMO_PRINCIPAL=test '%s' --registry %s ping >/dev/null", pmoctl,
              rh->endpoint);
    int status = system (ping);
    assert (WIFEXITED (status) && WEXITSTATUS (status) == 0);
    //  ...as nobody the keys cannot be read (0700 directory, 0600 secrets):
    //  exit 4, nothing sent
    snprintf (ping, sizeof ping,
              "PMO_PRINCIPAL=test setpriv --reuid=65534 --regid=65534 --clear-groups "
              "'%s' --registry %s ping 2>/dev/null",
              pmoctl, rh->endpoint);
    status = system (ping);
    assert (WIFEXITED (status) && WEXITSTATUS (status) == 4);
}

int main (void)
{
    rh_t *rh = rh_start ();
    const char *dir = pmo_test_keys ();
    assert (dir);
    Pmo__RegistryReply *reply = rh_unit (rh, "hub", "enterprise", NULL, NULL);
    rh_ok (reply);
    rh_free (&reply);
    reply = rh_unit (rh, "ops", "division", "hub", NULL);
    rh_ok (reply);
    rh_free (&reply);

    //  Principals: a service, an operator, an edge (and "test", which
    //  may impersonate, from the kit)
    assert (pmo_test_key ("svc", "service", "pmo-svc", "viewer@hub") == 0);
    assert (pmo_test_key ("ops", "operator", "jane@ops", "pmo_manager@ops") == 0);
    assert (pmo_test_key ("gw", "edge", NULL, NULL) == 0);

    //  Nobody without a known key gets anything: plain, or an unknown key,
    //  on the request endpoint and on the event feed
    char server_key[41];
    char path[1200];
    snprintf (path, sizeof path, "%s/server.key", dir);
    zcert_t *server = zcert_load (path);
    assert (server);
    snprintf (server_key, sizeof server_key, "%s", zcert_public_txt (server));
    zcert_destroy (&server);
    zcert_t *stranger = zcert_new ();
    s_refused (rh->endpoint, ZMQ_DEALER, NULL, NULL, false);
    s_refused (rh->endpoint, ZMQ_DEALER, stranger, server_key, true);
    s_refused (rh->pub, ZMQ_SUB, NULL, NULL, false);
    s_refused (rh->pub, ZMQ_SUB, stranger, server_key, true);
    //  A known client key that expects another server key fails too (the
    //  client checks the server: a stranger cannot pose as the registry)
    snprintf (path, sizeof path, "%s/test.key_secret", dir);
    zcert_t *known = zcert_load (path);
    zcert_t *fake_server = zcert_new ();
    assert (known);
    s_refused (rh->endpoint, ZMQ_DEALER, known, zcert_public_txt (fake_server), false);
    zcert_destroy (&fake_server);
    zcert_destroy (&known);
    zcert_destroy (&stranger);

    //  Claims count only for keys that may carry them
    s_key (rh, "ops");
    //  (an operator claiming a token does not get it recorded either)
    s_create_as_ceo (rh, "AUTH-OPS", "jane@ops", "key:ops", "token:forged");
    s_key (rh, "svc");
    s_create_as_ceo (rh, "AUTH-SVC", NULL, NULL, NULL); //  a viewer may not create
    s_key (rh, "gw");
    //  An edge says how it authenticated the person (the gateway: the token)
    s_create_as_ceo (rh, "AUTH-GW", "ceo@board", "token:tok_test", "token:tok_test");
    s_key (rh, "test");
    s_create_as_ceo (rh, "AUTH-TEST", "ceo@board", "", NULL);

    //  The server's key cannot be used as a client's
    s_key (rh, "server");
    rh_as (rh, "admin@test", "admin@hub");
    Pmo__PingRequest ping = PMO__PING_REQUEST__INIT;
    Pmo__RegistryRequest request = PMO__REGISTRY_REQUEST__INIT;
    request.body_case = PMO__REGISTRY_REQUEST__BODY_PING;
    request.ping = &ping;
    Pmo__Header header = PMO__HEADER__INIT;
    header.protocol_version = 1;
    header.request_id = "server-as-client";
    header.identity = &rh->identity;
    request.header = &header;
    ProtobufCMessage *answer = NULL;
    assert (pmo_client_call (rh->client, &request.base, &pmo__registry_reply__descriptor, 500, 1,
                             &answer) == -1);
    s_key (rh, "test");

    s_pmoctl_as_nobody (rh);
    rh_stop (&rh);
    printf ("test_auth: OK\n");
    return 0;
}
