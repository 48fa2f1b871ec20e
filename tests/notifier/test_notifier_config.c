/*  test_notifier_config.c: a configuration change made through one
    replica is in force at another that was idle.

    An idle notifier does not poll the configuration generation
    (pmo:{hub}:nt:config-gen): it looks at it before it uses its cache
    (routing a batch, the delivery loop), at most once a second. So a
    replica that sat idle while another replica created a channel and its
    subscription routes the next event with them. Without that look it
    would route with what it read at start until its full reload (ten
    minutes), and the event below would never reach the new channel.

    Two notifier actors share Redis and the consumer group (consumers "a"
    and "b"). B starts, reads its configuration and sits idle; the channel
    and subscription are made through A, which then stops, so B alone
    reads the division's stream; a new project must reach the channel.
*/
#include "notifier_harness.h"

#include "pmo_log.h"
#include "pmo_testkit.h"
#include "pmo_util.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

#define SECRET "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

int main (void)
{
    pmo_log_init ("test", getenv ("PMO_TEST_VERBOSE") ? "debug" : "error");
    nh_t *nh = nh_start ();
    nh_actor_stop (nh);
    nh->config.consumer = "a";
    nh_actor_start (nh);

    //  Replica B: the same configuration, its own endpoints and consumer name
    notifier_config_t b_config = nh->config;
    char b_endpoint[64], b_pub[64];
    snprintf (b_endpoint, sizeof b_endpoint, "tcp://127.0.0.1:%d", pmo_test_free_port ());
    snprintf (b_pub, sizeof b_pub, "tcp://127.0.0.1:%d", pmo_test_free_port ());
    b_config.endpoint = b_endpoint;
    b_config.pub_endpoint = b_pub;
    b_config.consumer = "b";
    zactor_t *b = pmo_test_actor_new (notifier_server_actor, &b_config, &b_config.failed);
    assert (b);
    //  B has read its configuration (at its first tick) and been idle for
    //  longer than it waits between two looks at the generation
    zclock_sleep (nh_scale (2000));

    char *channel = nh_channel (nh, PMO__CHANNEL_KIND__CHANNEL_KIND_WEBHOOK, "moj",
                                nh_url (nh, "/ok/config"), SECRET);
    free (nh_subscribe (nh, channel, "moj", "project.created", 0));
    nh_actor_stop (nh); //  A is gone: B reads every event from now on
    free (nh_project (nh, "CFG-1", "moj"));
    json_t *got = nh_wait_requests (nh, "/ok/config", 1, nh_scale (15000));
    if (json_array_size (got) != 1) {
        fprintf (stderr,
                 "test_notifier_config: the idle replica did not route with the new "
                 "subscription: %zu requests to /ok/config\n",
                 json_array_size (got));
        return 1;
    }
    json_decref (got);
    printf ("a change made through one replica is in force at the one that was idle: ok\n");

    const char *const endpoints[] = {b_endpoint, b_pub, NULL};
    int rc = pmo_test_actor_destroy (&b, endpoints);
    assert (rc == 0);
    nh_actor_start (nh); //  nh_stop stops it
    free (channel);
    nh_stop (&nh);
    printf ("test_notifier_config: ok\n");
    return 0;
}
