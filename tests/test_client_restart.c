/*  test_client_restart.c: a request sent right after its service restarted
    is answered, not lost.

    A long-lived DEALER (the gateway's, one service's client of another,
    a test harness's) keeps its connection's pipe for a moment after the
    service behind it has gone; a request written then went down the dead
    pipe and the caller waited out its deadline ("harness: no reply", about
    one restart in a hundred on a loaded machine). The client now sends it
    again when a connection drops. This restarts a real ROUTER server on
    the same port many times and sends one request at once after each
    restart, with a single attempt: every one must be answered.
*/
#include "pmo_client.h"
#include "pmo_log.h"
#include "pmo_server.h"
#include "pmo_testkit.h"
#include "registry.pb-c.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

#define ROUNDS 300

static void s_handle (void *state, pmo_request_t *request)
{
    (void)state;
    (void)request; //  the engine's reply echoes the request id: enough
}

//  A ROUTER server on the endpoint given in args, until $TERM.
static void s_server (zsock_t *pipe, void *args)
{
    pmo_server_config_t config = {.name = "echo",
                                  .request_desc = &pmo__registry_request__descriptor,
                                  .reply_desc = &pmo__registry_reply__descriptor,
                                  .handler = s_handle};
    pmo_server_t *server = NULL;
    //  The old server's port may take a moment to be released
    for (int attempt = 0; attempt < 500 && !server; attempt++) {
        server = pmo_server_new (&config, (const char *)args);
        if (!server)
            zclock_sleep (10);
    }
    assert (server);
    zsock_signal (pipe, 0);
    zpoller_t *poller = zpoller_new (pipe, pmo_server_socket (server), NULL);
    while (true) {
        void *which = zpoller_wait (poller, -1);
        if (which == pipe)
            break; //  $TERM
        if (which == pmo_server_socket (server))
            pmo_server_drain (server, 100);
        else
            break;
    }
    pmo_server_drain (server, 1000);
    zpoller_destroy (&poller);
    pmo_server_destroy (&server);
}

int main (void)
{
    pmo_log_init ("test", "warn");
    char endpoint[64];
    snprintf (endpoint, sizeof endpoint, "tcp://127.0.0.1:%d", pmo_test_free_port ());
    pmo_client_t *client = pmo_client_new (endpoint);
    assert (client);
    zactor_t *server = zactor_new (s_server, endpoint);

    Pmo__Identity who = PMO__IDENTITY__INIT;
    who.subject = "test";
    Pmo__PingRequest ping = PMO__PING_REQUEST__INIT;
    Pmo__RegistryRequest request = PMO__REGISTRY_REQUEST__INIT;
    request.body_case = PMO__REGISTRY_REQUEST__BODY_PING;
    request.ping = &ping;
    int lost = 0;
    for (int round = 0; round < ROUNDS; round++) {
        zactor_destroy (&server);
        server = zactor_new (s_server, endpoint);
        Pmo__Header header;
        char request_id[40];
        pmo_header_init (&header, request_id, 2000, &who);
        request.header = &header;
        ProtobufCMessage *reply = NULL;
        uint64_t before = pmo_client_resent (client);
        if (pmo_client_call (client, &request.base, &pmo__registry_reply__descriptor, 2000, 1,
                             &reply)) {
            lost++;
            fprintf (stderr, "round %d: no reply to request_id=%s (sent again %llu times)\n", round,
                     request_id, (unsigned long long)(pmo_client_resent (client) - before));
        } else
            protobuf_c_message_free_unpacked (reply, NULL);
    }
    printf ("%d restarts, %d requests lost, %llu sent again after a drop\n", ROUNDS, lost,
            (unsigned long long)pmo_client_resent (client));
    zactor_destroy (&server);
    pmo_client_destroy (&client);
    assert (lost == 0);
    printf ("test_client_restart: ok\n");
    return 0;
}
