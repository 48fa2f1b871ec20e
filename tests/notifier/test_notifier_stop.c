/*  test_notifier_stop.c: the sender stops cleanly whatever its transfers
    are doing.

    A notifier stopping with hundreds of deliveries in flight abandons them
    (their leases run out and they go out again). Those transfers may be
    anywhere: curl's resolver thread still looking up a name that does not
    resolve (hooks.invalid), connected to an endpoint that never answers (a
    real listening socket that never accepts), or finished and not yet
    collected. Each round here starts 256 such transfers on a real curl
    multi handle, lets them run for a different time (none at all, a few
    polls, until some have failed), then destroys the sender: every
    transfer's tag must come back exactly once (as a result or at destroy),
    and nothing may be touched after it is freed (the suite runs this under
    ASan and valgrind). Once seen: glibc's "malloc_consolidate(): invalid
    chunk size" right after "stopping ... in_flight=256".

    Then the whole notifier (the actor, with a real Redis, registry and
    receiver): 256 deliveries in flight, half to hooks.invalid and half to
    an endpoint that holds every request, and the actor stopped, three
    times over. A stop must not wait for the name lookups either: until
    then, curl joined each lookup's thread when its transfer was removed,
    so a stop (and any transfer timing out while its name was looked up)
    held the actor until the resolver gave up, seconds per lookup when the
    DNS server drops queries (this machine's does when 100 lookups run at
    once).
*/
#include "notifier_harness.h"
#include "notifier_model.h"
#include "notifier_send.h"

#include "pmo_log.h"
#include "pmo_testkit.h"
#include "pmo_util.h"

#include <arpa/inet.h>
#include <assert.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define TRANSFERS 256
#define ROUNDS    24

typedef struct {
    int id;
    int returned; //  as a result or at destroy: exactly once
    char guard[64];
} tag_t;

static int s_freed;

static void s_free_tag (void *tag)
{
    tag_t *t = tag;
    t->returned++;
    s_freed++;
}

//  A TCP listener that never accepts: the kernel completes the handshake,
//  nobody ever reads the request. Returns its port.
static int s_black_hole (int *fd_p)
{
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    assert (fd >= 0);
    struct sockaddr_in address = {.sin_family = AF_INET};
    address.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    int rc = bind (fd, (struct sockaddr *)&address, sizeof address);
    assert (rc == 0);
    rc = listen (fd, 1024);
    assert (rc == 0);
    socklen_t len = sizeof address;
    rc = getsockname (fd, (struct sockaddr *)&address, &len);
    assert (rc == 0);
    *fd_p = fd;
    return ntohs (address.sin_port);
}

//  Drive the sender for up to ms, collecting results into the tags.
static size_t s_run (notifier_send_t *send, int ms)
{
    size_t results = 0;
    int64_t until = pmo_mono_ms () + ms;
    zmq_pollitem_t items[1024];
    do {
        int n = notifier_send_pollitems (send, items, 1024);
        long wait = notifier_send_timeout (send);
        if (wait < 0 || wait > 20)
            wait = 20;
        zmq_poll (items, n, wait);
        notifier_send_perform (send, items, n);
        notifier_send_result_t result;
        while (notifier_send_result (send, &result)) {
            tag_t *t = result.tag;
            assert (streq (t->guard, "guard"));
            t->returned++;
            results++;
        }
    } while (pmo_mono_ms () < until);
    return results;
}

//  The notifier stopped with 256 deliveries in flight, cycles times.
static void s_notifier_stops (int cycles)
{
    nh_t *nh = nh_start ();
    nh_actor_stop (nh);
    nh->config.max_in_flight = 256;
    nh->config.endpoint_in_flight = 64;
    //  nothing ends on its own while the test looks
    nh->config.connect_timeout_ms = 60000;
    nh->config.http_timeout_ms = 90000;
    nh_actor_start (nh);
    nh->coalesce_s = -1; //  each event a delivery of its own
    const char *secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    char *channels[4];
    for (int i = 0; i < 4; i++) {
        char path[32];
        snprintf (path, sizeof path, "/hang/stop%d", i);
        channels[i] = nh_channel (nh, PMO__CHANNEL_KIND__CHANNEL_KIND_WEBHOOK, "dft",
                                  i < 2 ? nh_url (nh, path) : "http://hooks.invalid/pmo", secret);
        free (nh_subscribe (nh, channels[i], "dft", "project.created", 0));
    }
    int projects = 0;
    int64_t longest = 0;
    for (int cycle = 0; cycle < cycles; cycle++) {
        //  64 projects: 64 deliveries per channel, each channel's whole
        //  allowance, 256 in all
        for (int i = 0; i < 64; i++) {
            char code[32];
            snprintf (code, sizeof code, "STOP-%d", ++projects);
            free (nh_project (nh, code, "dft"));
        }
        //  Both hanging channels hold their 64 (the lookups cannot be seen
        //  from here: they were started in the same ticks)
        json_t *hung = nh_wait_requests (nh, "/hang/", (size_t)128 * (cycle + 1), nh_scale (60000));
        assert (json_array_size (hung) >= (size_t)128 * (cycle + 1));
        json_decref (hung);
        int64_t started = pmo_mono_ms ();
        nh_actor_stop (nh);
        int64_t took = pmo_mono_ms () - started;
        longest = took > longest ? took : longest;
        nh_actor_start (nh);
    }
    for (int i = 0; i < 4; i++)
        free (channels[i]);
    nh_stop (&nh);
    printf ("the notifier stopped %d times with 256 deliveries in flight (128 hanging, 128 "
            "looking up hooks.invalid), the longest stop %lld ms: ok\n",
            cycles, (long long)longest);
}

int main (int argc, char *argv[])
{
    pmo_log_init ("test", getenv ("PMO_TEST_VERBOSE") ? "debug" : "error");
    //  more rounds by hand: test_notifier_stop 200
    //  (fewer under valgrind, which runs every thread in turn)
    bool slow = getenv ("PMO_UNDER_VALGRIND") != NULL;
    int rounds = argc > 1 ? atoi (argv[1]) : slow ? ROUNDS / 8 : ROUNDS;
    int hole_fd;
    int port = s_black_hole (&hole_fd);
    char hang_url[64];
    snprintf (hang_url, sizeof hang_url, "http://127.0.0.1:%d/hang", port);
    const char *urls[] = {"http://hooks.invalid/pmo", "https://hooks.invalid/pmo", hang_url};
    const char *headers[] = {"Content-Type: application/json", "webhook-id: dl_test"};
    //  Rounds run for different times: destroyed at once (transfers still
    //  in the multi handle's init state), after a poll or two (resolver
    //  threads running), after some failed (results waiting uncollected)
    const int run_ms[] = {0, 1, 5, 20, 60, 150};
    size_t total_results = 0, total_abandoned = 0;
    for (int round = 0; round < rounds; round++) {
        notifier_send_config_t config = {
            .connect_timeout_ms = 5000,
            .total_timeout_ms = 10000,
            .allow = NOTIFIER_NET_LOOPBACK,
            .free_tag = s_free_tag,
        };
        notifier_send_t *send = notifier_send_new (&config);
        tag_t *tags = calloc (TRANSFERS, sizeof (tag_t));
        assert (tags);
        s_freed = 0;
        for (int i = 0; i < TRANSFERS; i++) {
            tags[i].id = i;
            snprintf (tags[i].guard, sizeof tags[i].guard, "guard");
            char body[64];
            snprintf (body, sizeof body, "{\"n\":%d}", i);
            notifier_send_request_t request = {
                .url = urls[(i + round) % 3],
                .headers = headers,
                .n_headers = 2,
                .body = body,
                .size = strlen (body),
                .tag = &tags[i],
            };
            notifier_send_start (send, &request);
        }
        size_t results = s_run (send, run_ms[round % 6]);
        //  Some finished while others still run, then more finish without
        //  being collected: destroy frees both kinds
        if (round % 3 == 2) {
            zmq_pollitem_t items[1024];
            int n = notifier_send_pollitems (send, items, 1024);
            zmq_poll (items, n, 30);
            notifier_send_perform (send, items, n);
        }
        notifier_send_destroy (&send);
        assert (!send);
        for (int i = 0; i < TRANSFERS; i++) {
            if (tags[i].returned != 1)
                fprintf (stderr, "round %d: transfer %d returned %d times\n", round, i,
                         tags[i].returned);
            assert (tags[i].returned == 1);
        }
        assert (results + (size_t)s_freed == TRANSFERS);
        total_results += results;
        total_abandoned += (size_t)s_freed;
        free (tags);
    }
    close (hole_fd);
    printf ("%d rounds of %d transfers (unresolvable names, a black hole): %zu finished, %zu "
            "abandoned at destroy, each returned exactly once: ok\n",
            rounds, TRANSFERS, total_results, total_abandoned);
    s_notifier_stops (argc > 2 ? atoi (argv[2]) : slow ? 1 : 3);
    printf ("test_notifier_stop: ok\n");
    return 0;
}
