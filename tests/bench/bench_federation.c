/*  bench_federation.c: how fast the hub sees what happens in the spokes.

    A hub and three spokes on this machine (tests/federation's harness:
    four real redis-servers, four registry actors, the hub and three uplink
    actors, CurveZMQ between them). Two figures:

    1. Roll-up lag: projects are created in the spokes at a paced rate
       (default 1,000 events/s in all, round robin over the spokes) and a
       subscriber on the hub's PUB socket (published right after the hub's
       Redis commit) takes, for each event, now - the event's time in the
       spoke. Target: p99 under 200 ms.
    2. Catch-up: the hub stops, the spokes go on creating projects, the
       hub starts again; the rate at which it applies the backlog (events/s
       from the first to the last event applied), and the time from its
       start until it holds everything.

    Usage: PMO_BUILD_DIR=build build/tests/bench/bench_federation
           [--rate N] [--seconds S] [--backlog N] [--quick]
*/
#include "federation_harness.h"
#include "pmo_auth.h"
#include "pmo_log.h"
#include "pmo_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TARGET_P99_MS 200

static const char *s_names[] = {"dft", "dwp", "moj"};

//  The subscriber: counts events and records their lag.
typedef struct {
    const char *endpoint;
    int64_t *lags; //  ms, one per event
    size_t n_lags;
    size_t capacity;
    int64_t first_ms; //  monotonic time of the first event since the last reset
    int64_t last_ms;  //  ... and of the last
    size_t count;     //  events since the last reset
} sub_t;

static void s_subscriber (zsock_t *pipe, void *args)
{
    sub_t *self = args;
    zsock_t *sub = pmo_auth_sub_new (self->endpoint, "");
    zsock_set_rcvhwm (sub, 1000000);
    zsock_signal (pipe, 0);
    zpoller_t *poller = zpoller_new (pipe, sub, NULL);
    bool running = true;
    while (running) {
        void *which = zpoller_wait (poller, 100);
        if (which == pipe) {
            char *command = zstr_recv (pipe);
            if (!command || streq (command, "$TERM"))
                running = false;
            else if (streq (command, "RESET")) {
                self->n_lags = 0;
                self->count = 0;
                self->first_ms = self->last_ms = 0;
                zsock_signal (pipe, 0);
            } else if (streq (command, "COUNT"))
                zstr_sendf (pipe, "%zu", self->count);
            zstr_free (&command);
        } else if (which == sub) {
            zmsg_t *msg = zmsg_recv (sub);
            zframe_t *body = zmsg_last (msg);
            Pmo__Event *event =
                body ? pmo__event__unpack (NULL, zframe_size (body), zframe_data (body)) : NULL;
            if (event) {
                int64_t now = pmo_mono_ms ();
                if (!self->count)
                    self->first_ms = now;
                self->last_ms = now;
                self->count++;
                if (self->n_lags < self->capacity)
                    self->lags[self->n_lags++] = pmo_now_ms () - event->time_ms;
                protobuf_c_message_free_unpacked (&event->base, NULL);
            }
            zmsg_destroy (&msg);
        }
    }
    zpoller_destroy (&poller);
    zsock_destroy (&sub);
}

static int s_cmp (const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static size_t s_count (zactor_t *actor)
{
    zstr_send (actor, "COUNT");
    char *text = zstr_recv (actor);
    size_t n = text ? strtoull (text, NULL, 10) : 0;
    zstr_free (&text);
    return n;
}

//  Events the hub has applied, all time (from its status); -1 if no answer.
static long long s_applied (fh_t *fh)
{
    Pmo__StatusRequest ask = PMO__STATUS_REQUEST__INIT;
    Pmo__HubRequest request = PMO__HUB_REQUEST__INIT;
    request.body_case = PMO__HUB_REQUEST__BODY_STATUS;
    request.status = &ask;
    Pmo__HubReply *reply = fh_call (fh, &request);
    long long applied = reply->error ? -1 : (long long)reply->status->events_applied;
    protobuf_c_message_free_unpacked (&reply->base, NULL);
    return applied;
}

static void s_create (fh_t *fh, size_t spoke, int n)
{
    char code[40];
    snprintf (code, sizeof code, "B-%07d", n);
    Pmo__RegistryReply *reply = rh_project (fh->spokes[spoke].stack, code, s_names[spoke]);
    rh_ok (reply);
    rh_free (&reply);
}

int main (int argc, char **argv)
{
    int rate = 1000, seconds = 10, backlog = 30000;
    for (int i = 1; i < argc; i++) {
        if (streq (argv[i], "--quick")) {
            seconds = 3;
            backlog = 6000;
        } else if (streq (argv[i], "--rate") && i + 1 < argc)
            rate = atoi (argv[++i]);
        else if (streq (argv[i], "--seconds") && i + 1 < argc)
            seconds = atoi (argv[++i]);
        else if (streq (argv[i], "--backlog") && i + 1 < argc)
            backlog = atoi (argv[++i]);
        else {
            fprintf (stderr, "usage: bench_federation [--rate N] [--seconds S] [--backlog N] "
                             "[--quick]\n");
            return 2;
        }
    }
    zsys_init ();
    fh_t *fh = fh_start (s_names, 3);
    for (size_t i = 0; i < 3; i++)
        fh_spoke_ready (fh, i, 10000);
    sub_t sub = {.endpoint = fh->pub, .capacity = (size_t)(rate * seconds + backlog + 100)};
    sub.lags = calloc (sub.capacity, sizeof (int64_t));
    zactor_t *subscriber = zactor_new (s_subscriber, &sub);
    zclock_sleep (300); //  the SUB connects before the first event

    //  1. Lag at a paced rate
    int total = rate * seconds;
    int64_t start = pmo_mono_ms ();
    int late = 0;
    for (int n = 0; n < total; n++) {
        int64_t due = start + (int64_t)n * 1000 / rate;
        int64_t now = pmo_mono_ms ();
        if (due > now)
            zclock_sleep ((int)(due - now));
        else if (now - due > 50)
            late++;
        s_create (fh, (size_t)n % 3, n);
    }
    double offered = total * 1000.0 / (double)(pmo_mono_ms () - start);
    int64_t deadline = pmo_mono_ms () + 30000;
    while (s_count (subscriber) < (size_t)total && pmo_mono_ms () < deadline)
        zclock_sleep (20);
    size_t seen = s_count (subscriber);
    qsort (sub.lags, sub.n_lags, sizeof (int64_t), s_cmp);
    int64_t p50 = sub.n_lags ? sub.lags[sub.n_lags / 2] : -1;
    int64_t p99 = sub.n_lags ? sub.lags[sub.n_lags * 99 / 100] : -1;
    int64_t max = sub.n_lags ? sub.lags[sub.n_lags - 1] : -1;
    printf ("roll-up lag: %d events in 3 spokes at %.0f events/s offered (%d sent late): %zu seen "
            "at the hub; lag p50 %lld ms, p99 %lld ms, max %lld ms (target p99 < %d ms: %s)\n",
            total, offered, late, seen, (long long)p50, (long long)p99, (long long)max,
            TARGET_P99_MS, p99 >= 0 && p99 < TARGET_P99_MS ? "met" : "NOT met");

    //  2. Catch-up after a hub outage. Measured from the hub's own count of
    //  events applied (the PUB feed may miss the first events while the
    //  subscriber reconnects to the restarted hub).
    long long before = s_applied (fh);
    fh_hub_stop (fh);
    int64_t made = pmo_mono_ms ();
    for (int n = 0; n < backlog; n++)
        s_create (fh, (size_t)n % 3, total + n);
    made = pmo_mono_ms () - made;
    int64_t restarted = pmo_mono_ms ();
    fh_hub_start (fh);
    deadline = pmo_mono_ms () + 120000;
    int64_t first = 0;
    long long applied = before;
    while (applied < before + backlog && pmo_mono_ms () < deadline) {
        zclock_sleep (5);
        applied = s_applied (fh);
        if (!first && applied > before)
            first = pmo_mono_ms ();
    }
    int64_t done_ms = pmo_mono_ms ();
    long long caught = applied - before;
    double from_start = done_ms > restarted ? caught * 1000.0 / (double)(done_ms - restarted) : 0;
    printf ("catch-up: %d events waited in 3 spokes (made in %lld ms while the hub was down); "
            "the hub applied %lld of them in %lld ms after its start: %.0f events/s counting "
            "from the start (reconnect backoff of the uplinks included, at most 2 s)",
            backlog, (long long)made, caught, (long long)(done_ms - restarted), from_start);
    if (first && done_ms > first + 50)
        printf ("; %.0f events/s from the first event applied to the last",
                caught * 1000.0 / (double)(done_ms - first));
    printf ("\n");
    long held = 0;
    for (size_t i = 0; i < 3; i++)
        held += fh_hub_projects (fh, s_names[i]);
    printf ("hub holds %ld projects; the spokes made %d\n", held, total + backlog);
    zactor_destroy (&subscriber);
    free (sub.lags);
    fh_stop (&fh);
    return 0;
}
