/*  bench_xdiv.c: how long a cross-division request takes through the hub.

    A hub and two spokes on this machine (tests/federation's harness: real
    redis-servers, registries and allocators per spoke, the hub and the
    uplinks over CurveZMQ). A project of dft asks dwp (controlling) for
    named people; a subscriber on dft's allocator PUB socket timestamps the
    events that record what came back. Three figures:

    1. Request round trip, paced: request_foreign in dft -> the hub -> dwp
       books it (soft, approval needed) -> the hub -> "foreign.proposed" in
       dft. Per request, p50 / p99 / max.
    2. Decision round trip, paced: dwp's resource manager approves ->
       "foreign.committed" in dft.
    3. Burst: many requests at once; requests per second end to end (from
       the first sent to the last answered in dft).

    Usage: PMO_BUILD_DIR=build build/tests/bench/bench_xdiv
           [--paced N] [--rate R] [--burst N] [--quick]
*/
#include "federation_harness.h"
#include "pmo_auth.h"
#include "pmo_log.h"
#include "pmo_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RESOURCES 100
#define WAIT_MS   60000

//  What the subscriber saw: per foreign request id, when it was proposed
//  and committed in dft (monotonic ms, 0 = not yet).
typedef struct {
    const char *endpoint;
    zhashx_t *proposed; //  id -> int64_t*
    zhashx_t *committed;
} sub_t;

static void s_destructor (void **item)
{
    free (*item);
    *item = NULL;
}

static void s_subscriber (zsock_t *pipe, void *args)
{
    sub_t *self = args;
    zsock_t *sub = pmo_auth_sub_new (self->endpoint, "dft.foreign.");
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
            else if (streq (command, "COUNT"))
                zstr_sendf (pipe, "%zu %zu", zhashx_size (self->proposed),
                            zhashx_size (self->committed));
            zstr_free (&command);
        } else if (which == sub) {
            zmsg_t *msg = zmsg_recv (sub);
            int64_t now = pmo_mono_ms ();
            char *topic = zmsg_popstr (msg);
            zframe_t *body = zmsg_pop (msg);
            Pmo__Event *event =
                body ? pmo__event__unpack (NULL, zframe_size (body), zframe_data (body)) : NULL;
            zhashx_t *into = !topic                                         ? NULL
                             : strcmp (topic, "dft.foreign.proposed") == 0  ? self->proposed
                             : strcmp (topic, "dft.foreign.committed") == 0 ? self->committed
                                                                            : NULL;
            if (event && into && !zhashx_lookup (into, event->entity_id)) {
                int64_t *at = malloc (sizeof (int64_t));
                *at = now;
                zhashx_insert (into, event->entity_id, at);
            }
            if (event)
                pmo__event__free_unpacked (event, NULL);
            zframe_destroy (&body);
            zstr_free (&topic);
            zmsg_destroy (&msg);
        }
    }
    zpoller_destroy (&poller);
    zsock_destroy (&sub);
}

static void s_counts (zactor_t *sub, size_t *proposed, size_t *committed)
{
    zstr_send (sub, "COUNT");
    char *reply = zstr_recv (sub);
    if (sscanf (reply ? reply : "", "%zu %zu", proposed, committed) != 2)
        *proposed = *committed = 0;
    zstr_free (&reply);
}

static int s_cmp (const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static void s_report (const char *what, int64_t *values, size_t n)
{
    if (n == 0) {
        printf ("%-46s no samples\n", what);
        return;
    }
    qsort (values, n, sizeof (int64_t), s_cmp);
    printf (
        "%-46s n=%zu p50 %lld ms, p99 %lld ms, max %lld ms\n", what, n, (long long)values[n / 2],
        (long long)values[(n * 99) / 100 >= n ? n - 1 : (n * 99) / 100], (long long)values[n - 1]);
}

//  Send one foreign request for resource k; its id into id (40 bytes).
static void s_send (ah_t *dft, const char *project, const char *resource, int week, char *id)
{
    Pmo__AllocatorReply *reply =
        ah_call (dft,
                 "{\"request_foreign\":{\"request\":{\"project_id\":\"%s\",\"resource_id\":\"%s\","
                 "\"hours_per_week\":1,\"start_week\":\"2026-W%02d\"}}}",
                 project, resource, week);
    ah_ok (reply);
    snprintf (id, 40, "%s", reply->foreign->id);
    ah_free (&reply);
}

//  Wait until the subscriber saw want proposals and commitments.
static bool s_wait (zactor_t *sub, size_t proposed, size_t committed)
{
    int64_t deadline = pmo_mono_ms () + WAIT_MS;
    size_t p = 0, c = 0;
    while (pmo_mono_ms () < deadline) {
        s_counts (sub, &p, &c);
        if (p >= proposed && c >= committed)
            return true;
        zclock_sleep (5);
    }
    fprintf (stderr, "bench: only %zu/%zu proposed, %zu/%zu committed\n", p, proposed, c,
             committed);
    return false;
}

int main (int argc, char **argv)
{
    int paced = 200, rate = 20, burst = 1000;
    for (int i = 1; i < argc; i++) {
        if (streq (argv[i], "--quick")) {
            paced = 40;
            burst = 200;
        } else if (streq (argv[i], "--paced") && i + 1 < argc)
            paced = atoi (argv[++i]);
        else if (streq (argv[i], "--rate") && i + 1 < argc)
            rate = atoi (argv[++i]);
        else if (streq (argv[i], "--burst") && i + 1 < argc)
            burst = atoi (argv[++i]);
    }
    if (paced < 1 || rate < 1 || burst < 1) {
        fprintf (stderr, "usage: bench_xdiv [--paced N] [--rate R] [--burst N] [--quick]\n");
        return 2;
    }
    pmo_log_init ("bench", "warn");
    const char *names[] = {"dft", "dwp"};
    fh_t *fh = fh_start (names, 2);
    fh_xdiv_start (fh);
    fh_spoke_ready (fh, 0, 10000);
    fh_spoke_ready (fh, 1, 10000);
    ah_t *dft = fh->spokes[0].alloc, *dwp = fh->spokes[1].alloc;
    char project[40];
    ah_project (dft, "DFT-BENCH", "dft", 2, project);
    char (*resources)[40] = calloc (RESOURCES, 40);
    for (int k = 0; k < RESOURCES; k++) {
        char name[32];
        snprintf (name, sizeof name, "Person %03d", k);
        snprintf (resources[k], 40, "%s",
                  ah_resource (dwp, name, "dwp", "developer", 40,
                               "[{\"name\":\"java\",\"level\":3}]", 7000));
    }
    sub_t state = {.endpoint = dft->pub};
    state.proposed = zhashx_new ();
    state.committed = zhashx_new ();
    zhashx_set_destructor (state.proposed, s_destructor);
    zhashx_set_destructor (state.committed, s_destructor);
    zactor_t *sub = zactor_new (s_subscriber, &state);
    zclock_sleep (300); //  the subscription reaches the PUB socket
    ah_as (dft, "pm@dft", "project_manager@dft");
    printf ("bench_xdiv: hub + 2 spokes, %d people in dwp, %d paced requests at %d/s, burst of "
            "%d\n",
            RESOURCES, paced, rate, burst);

    //  1. Request round trip, paced
    char (*ids)[40] = calloc ((size_t)(paced + burst), 40);
    int64_t *sent = calloc ((size_t)(paced + burst), sizeof (int64_t));
    int64_t start = pmo_mono_ms ();
    for (int i = 0; i < paced; i++) {
        int64_t due = start + (int64_t)i * 1000 / rate;
        while (pmo_mono_ms () < due)
            zclock_sleep (1);
        sent[i] = pmo_mono_ms ();
        s_send (dft, project, resources[i % RESOURCES], 10 + i / RESOURCES, ids[i]);
    }
    bool ok = s_wait (sub, (size_t)paced, 0);

    //  2. Decision round trip, paced: dwp's owner approves each
    int64_t *approved = calloc ((size_t)paced, sizeof (int64_t));
    ah_as (dwp, "viewer@hub", "viewer@hub");
    Pmo__AllocatorReply *list =
        ah_call (dwp, "{\"list_allocations\":{\"state\":\"proposed\",\"limit\":500}}");
    ah_ok (list);
    ah_as (dwp, "rm@dwp", "resource_manager@dwp");
    start = pmo_mono_ms ();
    size_t n_approved = 0;
    for (size_t k = 0; ok && k < list->allocations->n_allocations && (int)k < paced; k++) {
        const Pmo__Allocation *a = list->allocations->allocations[k];
        int i = -1;
        for (int j = 0; j < paced && i < 0; j++)
            if (strcmp (ids[j], a->origin_id) == 0)
                i = j;
        if (i < 0)
            continue;
        int64_t due = start + (int64_t)n_approved * 1000 / rate;
        while (pmo_mono_ms () < due)
            zclock_sleep (1);
        Pmo__AllocatorReply *reply = ah_call (
            dwp, "{\"commit\":{\"allocation_id\":\"%s\",\"version\":%llu,\"approve\":true}}", a->id,
            (unsigned long long)a->version);
        ah_ok (reply);
        ah_free (&reply);
        approved[i] = pmo_mono_ms ();
        n_approved++;
    }
    ah_free (&list);
    ok = ok && s_wait (sub, (size_t)paced, n_approved);

    //  3. Burst
    int64_t burst_start = pmo_mono_ms ();
    for (int i = paced; ok && i < paced + burst; i++) {
        sent[i] = pmo_mono_ms ();
        s_send (dft, project, resources[i % RESOURCES], 30 + (i - paced) / RESOURCES, ids[i]);
    }
    int64_t burst_sent = pmo_mono_ms ();
    ok = ok && s_wait (sub, (size_t)(paced + burst), n_approved);
    zactor_destroy (&sub);

    int64_t *lat = calloc ((size_t)(paced + burst), sizeof (int64_t));
    size_t n = 0;
    for (int i = 0; i < paced; i++) {
        int64_t *at = zhashx_lookup (state.proposed, ids[i]);
        if (at)
            lat[n++] = *at - sent[i];
    }
    s_report ("request -> booked in dwp -> back in dft:", lat, n);
    n = 0;
    for (int i = 0; i < paced; i++) {
        int64_t *at = zhashx_lookup (state.committed, ids[i]);
        if (at && approved[i])
            lat[n++] = *at - approved[i];
    }
    s_report ("approved in dwp -> committed in dft:", lat, n);
    int64_t last = 0;
    size_t answered = 0;
    for (int i = paced; i < paced + burst; i++) {
        int64_t *at = zhashx_lookup (state.proposed, ids[i]);
        if (at) {
            answered++;
            last = *at > last ? *at : last;
        }
    }
    if (answered)
        printf ("%-46s %zu requests sent in %lld ms, all answered in dft after %lld ms: %.0f "
                "requests/s end to end\n",
                "burst:", answered, (long long)(burst_sent - burst_start),
                (long long)(last - burst_start), answered * 1000.0 / (double)(last - burst_start));
    zhashx_destroy (&state.proposed);
    zhashx_destroy (&state.committed);
    free (lat);
    free (approved);
    free (sent);
    free (ids);
    free (resources);
    fh_stop (&fh);
    return ok ? 0 : 1;
}
