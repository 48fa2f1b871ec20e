/*  test_federation_xdiv.c: cross-division resource requests through the hub.

    A hub and three spokes (dft, dwp, moj), each with its own Redis,
    registry and allocator, all real, on free ports; the uplinks talk to the
    hub over CurveZMQ. A project of dft asks for people of dwp (controlling:
    dwp's resource manager approves) and moj (directive: moj's resource
    manager rejects); the request travels through the hub, the owning
    division books it by its rules, and its decision comes back to dft with
    who and why. A resource or a division nobody has comes back refused.
    The owning spoke's uplink away, the hub away, the requesting allocator
    away: the request or the decision waits (visible at the hub) and then
    arrives, once. A delivery made again books nothing twice; the uplink's
    requests are refused to people.
*/
#include "federation_harness.h"
#include "pmo_json.h"
#include "pmo_util.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

#define WAIT_MS 15000

enum { DFT = 0, DWP = 1, MOJ = 2 };

static fh_t *s_fh;
static char s_project[40];
static char s_dana[40], s_mo[40];

static ah_t *s_alloc (size_t i)
{
    return s_fh->spokes[i].alloc;
}

//  Ask dft's allocator for resource (or skill) of division.
static Pmo__AllocatorReply *s_request (const char *division, const char *resource,
                                       const char *skill, uint32_t hours, const char *start,
                                       const char *end)
{
    ah_t *dft = s_alloc (DFT);
    ah_as (dft, "pm@dft", "project_manager@dft");
    return ah_call (dft,
                    "{\"request_foreign\":{\"division\":\"%s\",\"request\":{\"project_id\":\"%s\","
                    "\"resource_id\":\"%s\",\"skill\":\"%s\",\"hours_per_week\":%u,"
                    "\"start_week\":\"%s\",\"end_week\":\"%s\",\"note\":\"for the rail "
                    "review\"}}}",
                    division, s_project, resource, skill, hours, start, end);
}

//  Send a foreign request; its id into id (40 bytes).
static void s_sent (const char *division, const char *resource, const char *skill, uint32_t hours,
                    const char *start, const char *end, char *id)
{
    Pmo__AllocatorReply *reply = s_request (division, resource, skill, hours, start, end);
    ah_ok (reply);
    assert (reply->body_case == PMO__ALLOCATOR_REPLY__BODY_FOREIGN);
    assert (reply->foreign->delivery == PMO__FOREIGN_DELIVERY__FOREIGN_DELIVERY_SENT);
    snprintf (id, 40, "%s", reply->foreign->id);
    ah_free (&reply);
}

//  dft's record of a foreign request (caller frees).
static Pmo__AllocatorReply *s_get (const char *id)
{
    ah_t *dft = s_alloc (DFT);
    ah_as (dft, "viewer@dft", "viewer@dft");
    Pmo__AllocatorReply *reply = ah_call (dft, "{\"get_foreign\":{\"id\":\"%s\"}}", id);
    ah_ok (reply);
    return reply;
}

//  Wait until dft's record reaches state with delivery; abort after
//  timeout_ms. Caller frees.
static Pmo__AllocatorReply *s_wait (const char *id, Pmo__AllocationState state,
                                    Pmo__ForeignDelivery delivery, int timeout_ms)
{
    int64_t deadline = pmo_mono_ms () + timeout_ms;
    while (true) {
        Pmo__AllocatorReply *reply = s_get (id);
        if (reply->foreign->state == state && reply->foreign->delivery == delivery)
            return reply;
        if (pmo_mono_ms () > deadline) {
            fprintf (stderr, "test: %s is %d/%d, expected %d/%d\n", id, reply->foreign->state,
                     reply->foreign->delivery, state, delivery);
            abort ();
        }
        ah_free (&reply);
        zclock_sleep (50);
    }
}

//  The allocations of a division booked for foreign requests.
static size_t s_foreign_bookings (size_t i, const char *origin_id)
{
    ah_t *ah = s_alloc (i);
    ah_as (ah, "viewer@hub", "viewer@hub");
    Pmo__AllocatorReply *reply = ah_call (ah, "{\"list_allocations\":{\"limit\":500}}");
    ah_ok (reply);
    size_t n = 0;
    for (size_t k = 0; k < reply->allocations->n_allocations; k++) {
        const Pmo__Allocation *a = reply->allocations->allocations[k];
        if (*a->origin_id && (!origin_id || strcmp (a->origin_id, origin_id) == 0))
            n++;
    }
    ah_free (&reply);
    return n;
}

static uint64_t s_waiting_at_hub (const char *spoke)
{
    Pmo__HubReply *reply = fh_spokes (s_fh);
    assert (!reply->error);
    uint64_t waiting = 0;
    for (size_t i = 0; i < reply->spokes->n_spokes; i++)
        if (strcmp (reply->spokes->spokes[i]->name, spoke) == 0)
            waiting = reply->spokes->spokes[i]->xdiv_waiting;
    protobuf_c_message_free_unpacked (&reply->base, NULL);
    return waiting;
}

static void s_setup (void)
{
    const char *names[] = {"dft", "dwp", "moj"};
    s_fh = fh_start (names, 3);
    fh_xdiv_start (s_fh);
    fh_spoke_ready (s_fh, DFT, WAIT_MS);
    fh_spoke_ready (s_fh, DWP, WAIT_MS);                    //  controlling, from the hub
    fh_spoke_ready_typed (s_fh, MOJ, "directive", WAIT_MS); //  tightened
    ah_project (s_alloc (DFT), "DFT-RAIL", "dft", 2, s_project);
    snprintf (s_dana, sizeof s_dana, "%s",
              ah_resource (s_alloc (DWP), "Dana", "dwp", "developer", 40,
                           "[{\"name\":\"java\",\"level\":4}]", 9000));
    snprintf (s_mo, sizeof s_mo, "%s",
              ah_resource (s_alloc (MOJ), "Mo", "moj", "tester", 30,
                           "[{\"name\":\"testing\",\"level\":3}]", 5000));
}

//  dwp (controlling) soft-books, its resource manager approves, dft learns.
static void s_test_approved (void)
{
    char id[40];
    s_sent ("", s_dana, "", 20, "2026-W10", "2026-W19", id);
    Pmo__AllocatorReply *reply = s_wait (id, PMO__ALLOCATION_STATE__ALLOCATION_STATE_PROPOSED,
                                         PMO__FOREIGN_DELIVERY__FOREIGN_DELIVERY_RECEIVED, WAIT_MS);
    const Pmo__Allocation *remote = reply->foreign->remote;
    assert (strcmp (remote->resource_id, s_dana) == 0 && strcmp (remote->division, "dwp") == 0);
    assert (strcmp (remote->origin_id, id) == 0 && strcmp (remote->project_division, "dft") == 0);
    assert (strcmp (remote->history[0]->actor, "pm@dft") == 0);
    assert (remote->n_history == 2 && remote->history[1]->n_warnings >= 1 &&
            strstr (remote->history[1]->warnings[0], "approval needed"));
    char allocation[40];
    snprintf (allocation, sizeof allocation, "%s", remote->id);
    uint64_t version = remote->version;
    ah_free (&reply);

    //  In dwp it is an allocation like any other: the owner approves it
    //  (dwp's project manager, who neither reads the project nor stewards
    //  the person, is told it is not there)
    ah_t *dwp = s_alloc (DWP);
    ah_as (dwp, "pm@dwp", "project_manager@dwp");
    reply = ah_call (dwp, "{\"commit\":{\"allocation_id\":\"%s\",\"version\":%llu}}", allocation,
                     (unsigned long long)version);
    ah_err (reply, NOT_FOUND, "commit.allocation_id");
    ah_free (&reply);
    ah_as (dwp, "rm@dwp", "resource_manager@dwp");
    reply = ah_call (dwp, "{\"commit\":{\"allocation_id\":\"%s\",\"version\":%llu}}", allocation,
                     (unsigned long long)version);
    ah_err (reply, FAILED_PRECONDITION, "commit.approve");
    assert (strstr (reply->approval_needed, "crosses divisions"));
    ah_free (&reply);
    reply = ah_call (dwp,
                     "{\"commit\":{\"allocation_id\":\"%s\",\"version\":%llu,\"approve\":true,"
                     "\"reason\":\"rail review agreed with DfT\"}}",
                     allocation, (unsigned long long)version);
    ah_ok (reply);
    ah_free (&reply);

    reply = s_wait (id, PMO__ALLOCATION_STATE__ALLOCATION_STATE_COMMITTED,
                    PMO__FOREIGN_DELIVERY__FOREIGN_DELIVERY_RECEIVED, WAIT_MS);
    remote = reply->foreign->remote;
    const Pmo__AllocationTransition *last = remote->history[remote->n_history - 1];
    assert (strcmp (last->actor, "rm@dwp") == 0 && last->approved);
    assert (strcmp (last->reason, "rail review agreed with DfT") == 0);
    assert (last->pmo_type == PMO__PMO_TYPE__PMO_TYPE_CONTROLLING);
    ah_free (&reply);
    //  dwp's capacity counts the hours; one booking for the request
    assert (s_foreign_bookings (DWP, id) == 1);
}

//  moj (directive) by skill: matched there, rejected by its owner, dft learns why.
static void s_test_rejected (void)
{
    char id[40];
    s_sent ("moj", "", "testing", 10, "2026-W20", "2026-W21", id);
    Pmo__AllocatorReply *reply = s_wait (id, PMO__ALLOCATION_STATE__ALLOCATION_STATE_PROPOSED,
                                         PMO__FOREIGN_DELIVERY__FOREIGN_DELIVERY_RECEIVED, WAIT_MS);
    assert (strcmp (reply->foreign->remote->resource_id, s_mo) == 0);
    assert (strstr (reply->foreign->remote->history[1]->reason, "best match"));
    char allocation[40];
    snprintf (allocation, sizeof allocation, "%s", reply->foreign->remote->id);
    uint64_t version = reply->foreign->remote->version;
    ah_free (&reply);
    ah_t *moj = s_alloc (MOJ);
    ah_as (moj, "rm@moj", "resource_manager@moj");
    reply = ah_call (moj,
                     "{\"reject\":{\"allocation_id\":\"%s\",\"version\":%llu,\"reason\":\"Mo is "
                     "needed for the courts backlog\"}}",
                     allocation, (unsigned long long)version);
    ah_ok (reply);
    ah_free (&reply);
    reply = s_wait (id, PMO__ALLOCATION_STATE__ALLOCATION_STATE_REJECTED,
                    PMO__FOREIGN_DELIVERY__FOREIGN_DELIVERY_RECEIVED, WAIT_MS);
    const Pmo__Allocation *remote = reply->foreign->remote;
    assert (strstr (remote->history[remote->n_history - 1]->reason, "courts backlog"));
    assert (strcmp (remote->history[remote->n_history - 1]->actor, "rm@moj") == 0);
    ah_free (&reply);
}

//  Nothing to book: the owner (or the hub) refuses, and dft learns why.
static void s_test_refused (void)
{
    char unknown[40], nowhere[40];
    s_sent ("", "rs_dwp_99", "", 5, "2026-W10", "", unknown);
    s_sent ("dwx", "", "java", 5, "2026-W10", "", nowhere);
    Pmo__AllocatorReply *reply = s_wait (unknown, PMO__ALLOCATION_STATE__ALLOCATION_STATE_REJECTED,
                                         PMO__FOREIGN_DELIVERY__FOREIGN_DELIVERY_REFUSED, WAIT_MS);
    assert (reply->foreign->refusal->code == PMO__ERROR_CODE__ERROR_NOT_FOUND);
    assert (strstr (reply->foreign->refusal->field, "resource_id"));
    ah_free (&reply);
    reply = s_wait (nowhere, PMO__ALLOCATION_STATE__ALLOCATION_STATE_REJECTED,
                    PMO__FOREIGN_DELIVERY__FOREIGN_DELIVERY_REFUSED, WAIT_MS);
    assert (strstr (reply->foreign->refusal->message, "no spoke"));
    ah_free (&reply);
    //  A request to the project's own division is not a foreign request
    reply = s_request ("dft", "", "java", 5, "2026-W10", "");
    ah_err (reply, INVALID, "request_foreign.division");
    ah_free (&reply);
}

//  Spokes and the hub away: the request and the decision wait, then arrive once.
static void s_test_outages (void)
{
    //  The owning spoke's uplink away: the request waits at the hub
    fh_uplink_stop (s_fh, DWP);
    char id[40];
    s_sent ("", s_dana, "", 4, "2026-W30", "2026-W31", id);
    int64_t deadline = pmo_mono_ms () + WAIT_MS;
    while (s_waiting_at_hub ("dwp") == 0 && pmo_mono_ms () < deadline)
        zclock_sleep (50);
    assert (s_waiting_at_hub ("dwp") == 1);
    zclock_sleep (500);
    Pmo__AllocatorReply *reply = s_get (id);
    assert (reply->foreign->delivery == PMO__FOREIGN_DELIVERY__FOREIGN_DELIVERY_SENT);
    ah_free (&reply);
    assert (s_foreign_bookings (DWP, id) == 0);
    fh_uplink_start (s_fh, DWP);
    reply = s_wait (id, PMO__ALLOCATION_STATE__ALLOCATION_STATE_PROPOSED,
                    PMO__FOREIGN_DELIVERY__FOREIGN_DELIVERY_RECEIVED, WAIT_MS);
    char allocation[40];
    snprintf (allocation, sizeof allocation, "%s", reply->foreign->remote->id);
    uint64_t version = reply->foreign->remote->version;
    ah_free (&reply);
    deadline = pmo_mono_ms () + WAIT_MS;
    while (s_waiting_at_hub ("dwp") != 0 && pmo_mono_ms () < deadline)
        zclock_sleep (50);
    assert (s_waiting_at_hub ("dwp") == 0);

    //  The hub away: a new request waits in dft's stream
    fh_hub_stop (s_fh);
    char second[40];
    s_sent ("", s_dana, "", 2, "2026-W32", "", second);
    zclock_sleep (700);
    reply = s_get (second);
    assert (reply->foreign->delivery == PMO__FOREIGN_DELIVERY__FOREIGN_DELIVERY_SENT);
    ah_free (&reply);
    fh_hub_start (s_fh);
    reply = s_wait (second, PMO__ALLOCATION_STATE__ALLOCATION_STATE_PROPOSED,
                    PMO__FOREIGN_DELIVERY__FOREIGN_DELIVERY_RECEIVED, WAIT_MS);
    ah_free (&reply);

    //  The requesting allocator away: the decision waits, then arrives
    ah_actor_stop (s_alloc (DFT));
    ah_t *dwp = s_alloc (DWP);
    ah_as (dwp, "rm@dwp", "resource_manager@dwp");
    reply =
        ah_call (dwp, "{\"commit\":{\"allocation_id\":\"%s\",\"version\":%llu,\"approve\":true}}",
                 allocation, (unsigned long long)version);
    ah_ok (reply);
    ah_free (&reply);
    deadline = pmo_mono_ms () + WAIT_MS;
    while (s_waiting_at_hub ("dft") == 0 && pmo_mono_ms () < deadline)
        zclock_sleep (50);
    assert (s_waiting_at_hub ("dft") >= 1);
    ah_actor_start (s_alloc (DFT));
    reply = s_wait (id, PMO__ALLOCATION_STATE__ALLOCATION_STATE_COMMITTED,
                    PMO__FOREIGN_DELIVERY__FOREIGN_DELIVERY_RECEIVED, WAIT_MS);
    ah_free (&reply);

    //  Once each, whatever was resent
    assert (s_foreign_bookings (DWP, id) == 1);
    assert (s_foreign_bookings (DWP, second) == 1);
}

//  A delivery made again (a resend) books nothing twice; people cannot pose
//  as the uplink.
static void s_test_redelivery (void)
{
    Pmo__AllocatorReply *reply;
    ah_t *dft = s_alloc (DFT);
    ah_as (dft, "viewer@dft", "viewer@dft");
    reply = ah_call (dft, "{\"list_foreign\":{\"project_id\":\"%s\",\"target_division\":\"dwp\"}}",
                     s_project);
    ah_ok (reply);
    assert (reply->foreigns->n_foreigns == 4);
    //  The oldest (approved in s_test_approved): deliver it to dwp again
    Pmo__ForeignAllocation *f = reply->foreigns->foreigns[reply->foreigns->n_foreigns - 1];
    assert (f->state == PMO__ALLOCATION_STATE__ALLOCATION_STATE_COMMITTED);
    char *json = pmo_json_encode (&f->base);
    char id[40];
    snprintf (id, sizeof id, "%s", f->id);
    ah_free (&reply);
    size_t before = s_foreign_bookings (DWP, NULL);
    ah_t *dwp = s_alloc (DWP);
    ah_as (dwp, "pm@dwp", "pmo_manager@dwp");
    reply = ah_call (dwp, "{\"receive_foreign\":{\"foreign\":%s}}", json);
    ah_err (reply, FORBIDDEN, "");
    ah_free (&reply);
    ah_as (dwp, "pmo-uplink@dwp", "admin@hub");
    reply = ah_call (dwp, "{\"receive_foreign\":{\"foreign\":%s}}", json);
    ah_ok (reply);
    assert (strcmp (reply->allocation->origin_id, id) == 0);
    assert (reply->allocation->state == PMO__ALLOCATION_STATE__ALLOCATION_STATE_COMMITTED);
    ah_free (&reply);
    free (json);
    assert (s_foreign_bookings (DWP, NULL) == before);
}

//  The hub's roll-up holds dft's foreign requests like any other entity.
static void s_test_rollup (void)
{
    Pmo__HubReply *reply = fh_rollup (s_fh, "dft", "foreign_allocation");
    assert (!reply->error);
    assert (reply->rollup->n_entities == 6);
    assert (fh_event_count (reply->rollup->divisions[0], "foreign.requested") == 6);
    protobuf_c_message_free_unpacked (&reply->base, NULL);
}

int main (void)
{
    s_setup ();
    s_test_approved ();
    s_test_rejected ();
    s_test_refused ();
    s_test_outages ();
    s_test_redelivery ();
    s_test_rollup ();
    fh_stop (&s_fh);
    printf ("test_federation_xdiv: OK\n");
    return 0;
}
