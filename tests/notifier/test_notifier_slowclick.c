/*  test_notifier_slowclick.c: a click waiting on a slow service holds up
    that click, never the notifier.

    A real allocator runs as a process and is stopped (SIGSTOP) while a
    Mattermost click asks it to reject an allocation: the notifier's click
    worker waits for it (each call may take up to --chat-call-ms, set long
    here). Meanwhile an event is committed: its delivery must arrive, and
    other requests must be answered, while the click is still unanswered
    (a ping sent after the click on the same connection is answered first).
    Then the allocator goes on (SIGCONT), answers, and the click is answered
    with the allocator's own words. With the calls made on the actor's
    thread (as before), the delivery could only come after the click's
    answer, and the test fails.
*/
#include "notifier_harness.h"
#include "notifier_model.h"

#include "allocator.pb-c.h"
#include "pmo_auth.h"
#include "pmo_client.h"
#include "pmo_log.h"
#include "pmo_testkit.h"
#include "pmo_util.h"
#include "pmo_wire.h"

#include <assert.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#define MM_SECRET "mm-interact-secret-0123456789abcdef"

//  The gateway's side, on a thread of its own: one connection sends the
//  click and then a ping (args: the notifier's endpoint and the two
//  requests). The notifier reads them in that order; each reply is sent up
//  the pipe as it comes ("click" or "ping", and the Pmo__NotifierReply *).
//  Answering the ping before the click shows the notifier took the click
//  and went on without waiting for it.
typedef struct {
    const char *endpoint;
    Pmo__NotifierRequest *click;
    Pmo__NotifierRequest *ping;
} click_args_t;

static void s_send (zsock_t *dealer, Pmo__NotifierRequest *request)
{
    size_t size = protobuf_c_message_get_packed_size (&request->base);
    zframe_t *frame = zframe_new (NULL, size);
    protobuf_c_message_pack (&request->base, zframe_data (frame));
    int rc = zframe_send (&frame, dealer, 0);
    assert (rc == 0);
}

static void s_clicker (zsock_t *pipe, void *args)
{
    click_args_t *a = args;
    zsock_t *dealer = zsock_new (ZMQ_DEALER);
    assert (dealer);
    int rc = pmo_auth_client (dealer, a->endpoint);
    assert (rc == 0);
    rc = zsock_connect (dealer, "%s", a->endpoint);
    assert (rc == 0);
    zsock_signal (pipe, 0);
    s_send (dealer, a->click);
    s_send (dealer, a->ping);
    zpoller_t *poller = zpoller_new (pipe, dealer, NULL);
    for (int got = 0; got < 2;) {
        void *which = zpoller_wait (poller, -1);
        if (which == pipe || !which)
            break; //  $TERM
        zframe_t *frame = zframe_recv (dealer);
        Pmo__NotifierReply *reply =
            frame ? pmo__notifier_reply__unpack (NULL, zframe_size (frame), zframe_data (frame))
                  : NULL;
        zframe_destroy (&frame);
        if (!reply)
            continue;
        bool is_click = streq (reply->header->request_id, a->click->header->request_id);
        zsock_send (pipe, "sp", is_click ? "click" : "ping", reply);
        got++;
    }
    zpoller_destroy (&poller);
    zsock_destroy (&dealer);
    //  wait for $TERM
    char *command = zstr_recv (pipe);
    zstr_free (&command);
}

//  Whether the allocator answers a ping within a second.
static bool s_allocator_up (pmo_client_t *allocator)
{
    Pmo__PingRequest ping = PMO__PING_REQUEST__INIT;
    Pmo__AllocatorRequest request = PMO__ALLOCATOR_REQUEST__INIT;
    request.body_case = PMO__ALLOCATOR_REQUEST__BODY_PING;
    request.ping = &ping;
    Pmo__Header header;
    char id[40];
    Pmo__Identity who = PMO__IDENTITY__INIT;
    who.subject = "test";
    pmo_header_init (&header, id, 1000, &who);
    request.header = &header;
    ProtobufCMessage *reply = NULL;
    bool up = pmo_client_call (allocator, &request.base, &pmo__allocator_reply__descriptor, 1000, 1,
                               &reply) == 0;
    if (reply)
        protobuf_c_message_free_unpacked (reply, NULL);
    return up;
}

int main (void)
{
    pmo_log_init ("test", getenv ("PMO_TEST_VERBOSE") ? "debug" : "error");
    nh_t *nh = nh_start ();
    //  A real allocator, as a process of its own (so that it can be stopped)
    char alloc_ep[64], alloc_pub[64], path[512];
    snprintf (alloc_ep, sizeof alloc_ep, "tcp://127.0.0.1:%d", pmo_test_free_port ());
    snprintf (alloc_pub, sizeof alloc_pub, "tcp://127.0.0.1:%d", pmo_test_free_port ());
    pmo_test_build_path ("services/allocator/pmo-allocator", path, sizeof path);
    char *argv[] = {path,
                    "--endpoint",
                    alloc_ep,
                    "--pub",
                    alloc_pub,
                    "--redis",
                    (char *)pmo_test_redis_url (nh->rh->redis),
                    "--registry",
                    nh->rh->endpoint,
                    "--log-level",
                    "error",
                    NULL};
    pmo_test_proc_t *allocator = pmo_test_proc_start (argv);
    assert (allocator);
    pmo_client_t *alloc_client = pmo_client_new (alloc_ep);
    bool up = false;
    for (int i = 0; i < 60 && !up; i++)
        up = s_allocator_up (alloc_client);
    assert (up);
    //  The notifier clicks on it, each call allowed a long time
    nh_actor_stop (nh);
    nh->config.allocator_endpoint = alloc_ep;
    nh->config.chat_call_ms = nh_scale (60000);
    nh_actor_start (nh);

    //  A Mattermost channel whose clicks act as a resource manager, and a
    //  webhook channel that gets every new project
    rh_as (nh->rh, "admin@hub", "admin@hub");
    Pmo__Grant grant = PMO__GRANT__INIT;
    grant.role = PMO__ROLE__ROLE_RESOURCE_MANAGER;
    grant.org_unit = "dft";
    Pmo__Grant *grants[] = {&grant};
    Pmo__ChatUser user = PMO__CHAT_USER__INIT;
    user.chat_user_id = "mmrm1234";
    user.subject = "rm@dft";
    user.grants = grants;
    user.n_grants = 1;
    Pmo__ChatUser *users[] = {&user};
    Pmo__Channel ch = PMO__CHANNEL__INIT;
    ch.name = "dft mm";
    ch.kind = PMO__CHANNEL_KIND__CHANNEL_KIND_MATTERMOST;
    ch.org_unit = "dft";
    ch.url = (char *)nh_url (nh, "/ok/mattermost");
    ch.interact_secret = MM_SECRET;
    ch.chat_users = users;
    ch.n_chat_users = 1;
    Pmo__NotifierRequest create = PMO__NOTIFIER_REQUEST__INIT;
    create.body_case = PMO__NOTIFIER_REQUEST__BODY_CREATE_CHANNEL;
    create.create_channel = &ch;
    Pmo__NotifierReply *reply = nh_call (nh, &create);
    nh_ok (reply);
    char mm[64];
    snprintf (mm, sizeof mm, "%s", reply->channel->id);
    nh_free (&reply);
    char *hook = nh_channel (nh, PMO__CHANNEL_KIND__CHANNEL_KIND_WEBHOOK, "dft",
                             nh_url (nh, "/ok/flow"), "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
    free (nh_subscribe (nh, hook, "dft", "project.created", 0));
    //  The first project's delivery: the channel is in the cache
    free (nh_project (nh, "FLOW-1", "dft"));
    json_decref (nh_wait_requests (nh, "/ok/flow", 1, nh_scale (15000)));

    //  The allocator stops answering; a click asks it
    assert (pmo_test_proc_signal (allocator, SIGSTOP) == 0);
    pmo_arena_t *arena = pmo_arena_new ();
    const char *target = "al_dft_4711";
    const char *token = notifier_action_token (MM_SECRET, target, "allocation.reject", arena);
    char *body = pmo_arena_printf (
        arena,
        "{\"user_id\":\"mmrm1234\",\"user_name\":\"rm\",\"channel_id\":\"c\",\"post_id\":\"p\","
        "\"type\":\"\",\"context\":{\"action\":\"allocation.reject\",\"target\":\"%s\","
        "\"token\":\"%s\"}}",
        target, token);
    Pmo__ChatInteraction in = PMO__CHAT_INTERACTION__INIT;
    in.kind = PMO__CHANNEL_KIND__CHANNEL_KIND_MATTERMOST;
    in.channel_id = mm;
    in.body.data = (uint8_t *)body;
    in.body.len = strlen (body);
    Pmo__NotifierRequest click = PMO__NOTIFIER_REQUEST__INIT;
    click.body_case = PMO__NOTIFIER_REQUEST__BODY_INTERACT;
    click.interact = &in;
    Pmo__Header header, ping_header;
    char id[40], ping_id[40];
    Pmo__Identity gateway = PMO__IDENTITY__INIT;
    gateway.subject = "test";
    pmo_header_init (&header, id, nh_scale (120000), &gateway);
    click.header = &header;
    Pmo__PingRequest ping_body = PMO__PING_REQUEST__INIT;
    Pmo__NotifierRequest ping = PMO__NOTIFIER_REQUEST__INIT;
    ping.body_case = PMO__NOTIFIER_REQUEST__BODY_PING;
    ping.ping = &ping_body;
    pmo_header_init (&ping_header, ping_id, nh_scale (120000), &gateway);
    ping.header = &ping_header;
    click_args_t args = {nh->endpoint, &click, &ping};
    zactor_t *clicker = zactor_new (s_clicker, &args);
    //  The ping, sent after the click on the same connection, is answered
    //  first: the notifier took the click and did not wait for it
    zsock_set_rcvtimeo (zactor_sock (clicker), nh_scale (15000));
    char *what = NULL;
    void *answer = NULL;
    assert (zsock_recv (clicker, "sp", &what, &answer) == 0);
    assert (what && streq (what, "ping") && answer);
    zstr_free (&what);
    pmo__notifier_reply__free_unpacked (answer, NULL);
    //  While the click waits: a new project is delivered, and the notifier
    //  answers other requests
    free (nh_project (nh, "FLOW-2", "dft"));
    json_t *got = nh_wait_requests (nh, "/ok/flow", 2, nh_scale (15000));
    assert (json_array_size (got) == 2);
    json_decref (got);
    Pmo__ChannelRef ref = PMO__CHANNEL_REF__INIT;
    ref.id = mm;
    Pmo__NotifierRequest get = PMO__NOTIFIER_REQUEST__INIT;
    get.body_case = PMO__NOTIFIER_REQUEST__BODY_GET_CHANNEL;
    get.get_channel = &ref;
    reply = nh_call (nh, &get);
    nh_ok (reply);
    nh_free (&reply);
    //  Still unanswered (the train's suite once saw it answered here, 0.56 s
    //  into the run, cause not found: say what the answer was if it recurs)
    if (zsock_events (zactor_sock (clicker)) & ZMQ_POLLIN) {
        answer = NULL;
        if (zsock_recv (clicker, "sp", &what, &answer) == 0 && answer) {
            Pmo__NotifierReply *early = answer;
            fprintf (stderr, "the click was answered while the allocator was stopped: %s %s\n",
                     early->chat_answer ? early->chat_answer->outcome : "(no chat answer)",
                     early->chat_answer ? early->chat_answer->detail
                     : early->error     ? early->error->message
                                        : "");
        }
        assert (!"the click was answered while the allocator was stopped");
    }
    printf ("a click waiting on a stopped allocator: deliveries and requests go on: ok\n");

    //  The allocator goes on: the click is answered with its words
    assert (pmo_test_proc_signal (allocator, SIGCONT) == 0);
    zsock_set_rcvtimeo (zactor_sock (clicker), nh_scale (30000));
    answer = NULL;
    assert (zsock_recv (clicker, "sp", &what, &answer) == 0);
    assert (what && streq (what, "click"));
    zstr_free (&what);
    Pmo__NotifierReply *answered = answer;
    assert (answered && !answered->error && answered->chat_answer);
    assert (streq (answered->chat_answer->outcome, "refused"));
    assert (strstr (answered->chat_answer->detail, "the allocator refused"));
    assert (!strstr (answered->chat_answer->detail, "did not answer"));
    assert (streq (answered->chat_answer->subject, "rm@dft"));
    pmo__notifier_reply__free_unpacked (answered, NULL);
    zactor_destroy (&clicker);
    printf ("then answered with the allocator's own words: ok\n");

    pmo_arena_destroy (&arena);
    free (hook);
    pmo_client_destroy (&alloc_client);
    nh_stop (&nh);
    pmo_test_proc_destroy (&allocator);
    printf ("test_notifier_slowclick: ok\n");
    return 0;
}
