/*  test_notifier_replicas.c: what the notifier acknowledges survives a
    failover; what it only keeps for itself does not wait for one.

    The notifier's Redis URL names a replica (?replicas=1) that does not
    exist yet, as when the replica is down:
    - a subscription change is not acknowledged: answered unavailable
      (written on the master, not claimed), however often it is retried;
    - deliveries go on: routing an event and recording an attempt do not
      wait for a replica (a mark a failover loses means one more delivery
      under the same webhook-id, which the receiver drops), and do not fail.
    The unacknowledged subscription is in force at once, as everything
    written on the master is for its readers: the notifier re-reads its
    configuration after any commit that may have written, whatever its
    answer was (before, only after one answered OK, so a change answered
    unavailable and then acknowledged by its retry waited for the next full
    reload, ten minutes). Then a real replica follows the master: the same
    retry (same request id) is answered with the first reply and the
    subscription is on the replica.
*/
#include "notifier_harness.h"

#include "pmo_log.h"
#include "pmo_testkit.h"
#include "pmo_util.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

#define SECRET "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

static Pmo__NotifierReply *s_subscribe (nh_t *nh, const char *channel, const char *request_id)
{
    Pmo__Subscription sub = PMO__SUBSCRIPTION__INIT;
    sub.channel_id = (char *)channel;
    sub.org_unit = "moj";
    char *types[] = {"project.created"};
    sub.event_types = types;
    sub.n_event_types = 1;
    Pmo__NotifierRequest request = PMO__NOTIFIER_REQUEST__INIT;
    request.body_case = PMO__NOTIFIER_REQUEST__BODY_CREATE_SUBSCRIPTION;
    request.create_subscription = &sub;
    return nh_call_with_id (nh, &request, request_id);
}

static long long s_exists (pmo_test_redis_t *redis, const char *key)
{
    redisReply *reply = pmo_test_redis_command (redis, "EXISTS %s", key);
    assert (reply && reply->type == REDIS_REPLY_INTEGER);
    long long n = reply->integer;
    freeReplyObject (reply);
    return n;
}

int main (void)
{
    pmo_log_init ("test", getenv ("PMO_TEST_VERBOSE") ? "debug" : "error");
    nh_t *nh = nh_start ();
    pmo_test_redis_t *master = nh->rh->redis;
    //  Two channels of moj: the first subscribed while the store has no
    //  replica to wait for
    char *first = nh_channel (nh, PMO__CHANNEL_KIND__CHANNEL_KIND_WEBHOOK, "moj",
                              nh_url (nh, "/ok/first"), SECRET);
    char *second = nh_channel (nh, PMO__CHANNEL_KIND__CHANNEL_KIND_WEBHOOK, "moj",
                               nh_url (nh, "/ok/second"), SECRET);
    free (nh_subscribe (nh, first, "moj", "project.created", 0));

    //  The notifier now waits for one replica, which is not there
    //  (each WAIT bounded by what the loaded machine needs once it is)
    char url[160];
    snprintf (url, sizeof url, "%s?replicas=1&wait=%d", pmo_test_redis_url (master),
              nh_scale (1500));
    nh_actor_stop (nh);
    nh->config.redis_url = url;
    nh->config.redis_timeout_ms = nh_scale (4000);
    nh_actor_start (nh);
    Pmo__NotifierReply *reply = s_subscribe (nh, second, "sub-second-1");
    assert (reply->error && reply->error->code == PMO__ERROR_CODE__ERROR_UNAVAILABLE);
    nh_free (&reply);
    reply = s_subscribe (nh, second, "sub-second-1");
    assert (reply->error && reply->error->code == PMO__ERROR_CODE__ERROR_UNAVAILABLE);
    nh_free (&reply);
    printf ("no replica: a subscription change is answered unavailable: ok\n");

    //  Deliveries do not wait for it. The unacknowledged subscription is in
    //  force, as everything written on the master is for its readers (the
    //  notifier re-reads its configuration after any commit that may have
    //  written): the event goes to both channels
    free (nh_project (nh, "REP-1", "moj"));
    json_t *got = nh_wait_requests (nh, "/ok/first", 1, nh_scale (15000));
    assert (json_array_size (got) == 1);
    json_decref (got);
    got = nh_wait_requests (nh, "/ok/second", 1, nh_scale (15000));
    assert (json_array_size (got) == 1);
    json_decref (got);
    printf ("no replica: events are routed and delivered, the unacknowledged subscription too: "
            "ok\n");

    //  A replica follows the master
    pmo_test_redis_t *replica = pmo_test_redis_start (false);
    assert (replica && pmo_test_redis_follow (replica, master) == 0);
    //  A connection that last wrote before the replica's full sync is not
    //  confirmed by WAIT until it writes again (Redis 7.0; test_common
    //  connects again too): the notifier restarts, as after a failover
    nh_actor_stop (nh);
    nh_actor_start (nh);
    //  The same retry is answered with the first reply; the replica holds it
    reply = s_subscribe (nh, second, "sub-second-1");
    nh_ok (reply);
    char key[160];
    snprintf (key, sizeof key, "pmo:{moj}:nt:sb:%s", reply->subscription->id);
    assert (s_exists (replica, key) == 1);
    nh_free (&reply);
    printf ("with a replica: the retry is answered with the first reply, held by the replica: "
            "ok\n");
    //  ... and in force: the next project goes to both channels
    free (nh_project (nh, "REP-2", "moj"));
    got = nh_wait_requests (nh, "/ok/second", 2, nh_scale (15000));
    assert (json_array_size (got) == 2);
    json_decref (got);
    got = nh_wait_requests (nh, "/ok/first", 2, nh_scale (15000));
    assert (json_array_size (got) == 2);
    json_decref (got);
    printf ("the acknowledged subscription is in force: ok\n");

    free (first);
    free (second);
    nh_stop (&nh);
    pmo_test_redis_destroy (&replica);
    printf ("test_notifier_replicas: ok\n");
    return 0;
}
