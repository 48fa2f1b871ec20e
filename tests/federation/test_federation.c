/*  test_federation.c: a hub and three spokes on one machine, each with its
    own redis-server and registry, the hub and the uplinks talking CurveZMQ.

    - Projects created in the spokes appear at the hub, by division.
    - A spoke's uplink stopped for a while: the hub shows it down, then it
      catches up with nothing lost or counted twice; a forced resend of the
      whole stream changes nothing at the hub; the hub itself stopped and
      restarted catches up too.
    - A policy change at the hub reaches every spoke's registry and each
      spoke reports the version it applies; a spoke division may tighten
      it and may not loosen it.
    - A client with a key the hub does not know is refused; a known spoke
      key cannot push for another division; a client pinning another key
      as the hub's cannot talk to the hub (no one else can pose as the hub).
    - People see the enterprise view with a role at the hub, one division's
      with a role there, nothing else.
*/
#include "federation_harness.h"
#include "pmo_log.h"
#include "pmo_util.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

static const char *s_names[] = {"dft", "dwp", "moj"};

static const Pmo__Spoke *s_spoke (const Pmo__HubReply *reply, const char *name)
{
    for (size_t i = 0; i < reply->spokes->n_spokes; i++)
        if (strcmp (reply->spokes->spokes[i]->name, name) == 0)
            return reply->spokes->spokes[i];
    return NULL;
}

static Pmo__SpokeState s_state (fh_t *fh, const char *name)
{
    Pmo__HubReply *reply = fh_spokes (fh);
    assert (!reply->error);
    const Pmo__Spoke *spoke = s_spoke (reply, name);
    assert (spoke);
    Pmo__SpokeState state = spoke->state;
    protobuf_c_message_free_unpacked (&reply->base, NULL);
    return state;
}

static bool s_wait_state (fh_t *fh, const char *name, Pmo__SpokeState want, int timeout_ms)
{
    int64_t deadline = pmo_mono_ms () + timeout_ms;
    while (s_state (fh, name) != want)
        if (pmo_mono_ms () > deadline)
            return false;
        else
            zclock_sleep (50);
    return true;
}

static void s_projects_reach_the_hub (fh_t *fh)
{
    for (size_t i = 0; i < fh->n_spokes; i++)
        fh_projects (fh, i, s_names[i], 1, 20);
    for (size_t i = 0; i < fh->n_spokes; i++)
        assert (fh_wait_projects (fh, s_names[i], 20, 10000) == 20);
    Pmo__HubReply *reply = fh_rollup (fh, "", "project");
    assert (!reply->error);
    Pmo__EnterpriseRollup *rollup = reply->rollup;
    assert (rollup->n_divisions == 3);
    assert (rollup->total->projects == 60);
    for (size_t i = 0; i < rollup->n_divisions; i++) {
        Pmo__DivisionRollup *d = rollup->divisions[i];
        assert (d->projects == 20);
        assert (strcmp (d->spoke, d->division) == 0);
        assert (fh_event_count (d, "project.created") == 20);
        assert (d->n_projects_by_status >= 1);
    }
    //  The entities themselves, each with the division it came from
    assert (rollup->n_entities == 60);
    for (size_t i = 0; i < rollup->n_entities; i++) {
        Pmo__RollupEntity *e = rollup->entities[i];
        assert (strcmp (e->kind, "project") == 0);
        assert (e->event && e->event->project);
        assert (strcmp (e->event->project->division, e->division) == 0);
        assert (strcmp (e->event->division, e->division) == 0);
        assert (*e->stream_id);
    }
    protobuf_c_message_free_unpacked (&reply->base, NULL);
    //  An update reaches the hub as the newer snapshot, not a second project
    Pmo__RegistryReply *got =
        rh_get (fh->spokes[0].stack, PMO__ENTITY_KIND__ENTITY_KIND_PROJECT, "pr_dft_1");
    rh_ok (got);
    Pmo__Project *project = got->project;
    char *old_name = project->name;
    project->name = "renamed at the spoke";
    Pmo__RegistryRequest update = PMO__REGISTRY_REQUEST__INIT;
    update.body_case = PMO__REGISTRY_REQUEST__BODY_UPDATE_PROJECT;
    update.update_project = project;
    Pmo__RegistryReply *done = rh_call (fh->spokes[0].stack, &update);
    rh_ok (done);
    rh_free (&done);
    project->name = old_name;
    rh_free (&got);
    bool seen = false;
    for (int k = 0; k < 200 && !seen; k++) {
        reply = fh_rollup (fh, "dft", "project");
        assert (!reply->error);
        for (size_t i = 0; i < reply->rollup->n_entities; i++)
            if (strcmp (reply->rollup->entities[i]->id, "pr_dft_1") == 0 &&
                strcmp (reply->rollup->entities[i]->event->project->name, "renamed at the spoke") ==
                    0)
                seen = true;
        assert (reply->rollup->divisions[0]->projects == 20);
        protobuf_c_message_free_unpacked (&reply->base, NULL);
        if (!seen)
            zclock_sleep (50);
    }
    assert (seen);
    printf ("ok: 60 projects from three spokes at the hub, an update as a newer snapshot\n");
}

static void s_spoke_outage (fh_t *fh)
{
    //  The uplink of dwp stops; dwp keeps working
    fh_uplink_stop (fh, 1);
    fh_projects (fh, 1, "dwp-off", 1, 40);
    assert (s_wait_state (fh, "dwp", PMO__SPOKE_STATE__SPOKE_STATE_DOWN, 5000));
    assert (fh_hub_projects (fh, "dwp") == 20);
    fh_uplink_start (fh, 1);
    assert (fh_wait_projects (fh, "dwp", 60, 10000) == 60);
    assert (s_wait_state (fh, "dwp", PMO__SPOKE_STATE__SPOKE_STATE_CONNECTED, 5000));
    Pmo__HubReply *reply = fh_rollup (fh, "dwp", NULL);
    assert (fh_event_count (reply->rollup->divisions[0], "project.created") == 60);
    protobuf_c_message_free_unpacked (&reply->base, NULL);

    //  Lost acknowledgements: make the whole stream look unsent, so the
    //  uplink sends all of it again; the hub must count nothing twice
    redisReply *r =
        pmo_test_redis_command (fh->spokes[1].stack->redis, "XGROUP SETID pmo:{dwp}:events hub 0");
    assert (r && r->type == REDIS_REPLY_STATUS);
    freeReplyObject (r);
    int64_t deadline = pmo_mono_ms () + 10000;
    uint64_t duplicates = 0;
    while (duplicates < 60 && pmo_mono_ms () < deadline) {
        zclock_sleep (100);
        reply = fh_spokes (fh);
        duplicates = s_spoke (reply, "dwp")->duplicates;
        protobuf_c_message_free_unpacked (&reply->base, NULL);
    }
    assert (duplicates >= 60);
    reply = fh_rollup (fh, "dwp", NULL);
    assert (reply->rollup->divisions[0]->projects == 60);
    assert (fh_event_count (reply->rollup->divisions[0], "project.created") == 60);
    protobuf_c_message_free_unpacked (&reply->base, NULL);

    //  The hub goes away; spokes keep working; the hub returns and catches up
    fh_hub_stop (fh);
    fh_projects (fh, 0, "dft-hubdown", 1, 30);
    fh_projects (fh, 2, "moj-hubdown", 1, 30);
    //  The spokes see it: their backlog is what the hub has not acknowledged
    zclock_sleep (300);
    fh_hub_start (fh);
    assert (fh_wait_projects (fh, "dft", 50, 10000) == 50);
    assert (fh_wait_projects (fh, "moj", 50, 10000) == 50);
    reply = fh_rollup (fh, "", NULL);
    assert (reply->rollup->total->projects == 160);
    for (size_t i = 0; i < reply->rollup->n_divisions; i++) {
        Pmo__DivisionRollup *d = reply->rollup->divisions[i];
        assert (fh_event_count (d, "project.created") == d->projects);
    }
    protobuf_c_message_free_unpacked (&reply->base, NULL);
    //  Nothing left waiting in any spoke
    for (size_t i = 0; i < fh->n_spokes; i++) {
        deadline = pmo_mono_ms () + 5000;
        long long pending = -1;
        while (pending != 0 && pmo_mono_ms () < deadline) {
            r = pmo_test_redis_command (fh->spokes[i].stack->redis, "XPENDING pmo:{%s}:events hub",
                                        s_names[i]);
            assert (r && r->type == REDIS_REPLY_ARRAY);
            pending = r->element[0]->integer;
            freeReplyObject (r);
            if (pending)
                zclock_sleep (50);
        }
        assert (pending == 0);
    }
    printf ("ok: a spoke and the hub away and back: nothing lost, nothing counted twice\n");
}

static Pmo__OrgUnit *s_unit (rh_t *stack, const char *id, Pmo__RegistryReply **keep)
{
    *keep = rh_get (stack, PMO__ENTITY_KIND__ENTITY_KIND_ORG_UNIT, id);
    rh_ok (*keep);
    return (*keep)->org_unit;
}

static void s_policy_push_down (fh_t *fh)
{
    //  The hub PMO changes its policy: a 14-day reporting period and a
    //  charter required at the planning gate
    Pmo__RegistryReply *keep;
    Pmo__OrgUnit *hub = s_unit (fh->hub_stack, "hub", &keep);
    Pmo__Policy policy = PMO__POLICY__INIT;
    policy.reporting_period_days = 14;
    Pmo__GateRequirement gate = PMO__GATE_REQUIREMENT__INIT;
    gate.phase = PMO__PHASE__PHASE_PLANNING;
    char *artifacts[] = {"charter"};
    gate.artifacts = artifacts;
    gate.n_artifacts = 1;
    Pmo__GateRequirement *gates[] = {&gate};
    policy.gates = gates;
    policy.n_gates = 1;
    Pmo__Policy *own = hub->policy, *effective = hub->effective_policy;
    hub->policy = &policy;
    hub->effective_policy = NULL;
    Pmo__RegistryRequest request = PMO__REGISTRY_REQUEST__INIT;
    request.body_case = PMO__REGISTRY_REQUEST__BODY_UPDATE_ORG_UNIT;
    request.update_org_unit = hub;
    Pmo__RegistryReply *done = rh_call (fh->hub_stack, &request);
    rh_ok (done);
    uint64_t version = done->org_unit->version;
    rh_free (&done);
    hub->policy = own;
    hub->effective_policy = effective;
    rh_free (&keep);

    //  Every spoke's registry gets it, and says so to the hub
    int64_t deadline = pmo_mono_ms () + 10000;
    size_t reached = 0;
    while (reached < fh->n_spokes && pmo_mono_ms () < deadline) {
        reached = 0;
        Pmo__HubReply *reply = fh_spokes (fh);
        for (size_t i = 0; i < fh->n_spokes; i++) {
            Pmo__OrgUnit *local = s_unit (fh->spokes[i].stack, "hub", &keep);
            bool applied = local->policy && local->policy->reporting_period_days == 14 &&
                           local->policy->n_gates == 1;
            rh_free (&keep);
            if (applied && s_spoke (reply, s_names[i])->policy_version == version)
                reached++;
        }
        protobuf_c_message_free_unpacked (&reply->base, NULL);
        if (reached < fh->n_spokes)
            zclock_sleep (100);
    }
    assert (reached == fh->n_spokes);
    //  The spoke division inherits it; it may tighten (7 days) ...
    Pmo__OrgUnit *division = s_unit (fh->spokes[0].stack, "dft", &keep);
    assert (division->effective_policy && division->effective_policy->reporting_period_days == 14);
    Pmo__Policy tighter = PMO__POLICY__INIT;
    tighter.reporting_period_days = 7;
    own = division->policy;
    effective = division->effective_policy;
    division->policy = &tighter;
    division->effective_policy = NULL;
    request.update_org_unit = division;
    done = rh_call (fh->spokes[0].stack, &request);
    rh_ok (done);
    rh_free (&done);
    division->policy = own;
    division->effective_policy = effective;
    rh_free (&keep);
    //  ... but not loosen (30 days) under a controlling hub
    division = s_unit (fh->spokes[1].stack, "dwp", &keep);
    Pmo__Policy looser = PMO__POLICY__INIT;
    looser.reporting_period_days = 30;
    own = division->policy;
    effective = division->effective_policy;
    division->policy = &looser;
    division->effective_policy = NULL;
    request.update_org_unit = division;
    done = rh_call (fh->spokes[1].stack, &request);
    rh_err (done, FAILED_PRECONDITION, "");
    rh_free (&done);
    division->policy = own;
    division->effective_policy = effective;
    rh_free (&keep);
    printf ("ok: the hub policy (version %llu) reached the three spokes\n",
            (unsigned long long)version);
}

//  A CURVE DEALER to the hub with a given keypair and a given server key;
//  sends a heartbeat and returns the reply (NULL if none in timeout_ms).
static Pmo__HubReply *s_raw_call (fh_t *fh, const char *cert_path, const char *server_key,
                                  Pmo__HubRequest *request, int timeout_ms)
{
    zcert_t *cert = zcert_load (cert_path);
    assert (cert);
    zsock_t *dealer = zsock_new (ZMQ_DEALER);
    zcert_apply (cert, dealer);
    zsock_set_curve_serverkey (dealer, server_key);
    zsock_set_linger (dealer, 0);
    assert (zsock_connect (dealer, "%s", fh->spoke_endpoint) == 0);
    Pmo__Header header;
    char request_id[40];
    Pmo__Identity identity = PMO__IDENTITY__INIT;
    identity.subject = "someone";
    pmo_header_init (&header, request_id, timeout_ms, &identity);
    request->header = &header;
    size_t size = protobuf_c_message_get_packed_size (&request->base);
    uint8_t *blob = malloc (size);
    protobuf_c_message_pack (&request->base, blob);
    request->header = NULL;
    zframe_t *frame = zframe_new (blob, size);
    free (blob);
    zframe_send (&frame, dealer, 0);
    zpoller_t *poller = zpoller_new (dealer, NULL);
    Pmo__HubReply *reply = NULL;
    if (zpoller_wait (poller, timeout_ms) == dealer) {
        frame = zframe_recv (dealer);
        reply = pmo__hub_reply__unpack (NULL, zframe_size (frame), zframe_data (frame));
        zframe_destroy (&frame);
    }
    zpoller_destroy (&poller);
    zsock_destroy (&dealer);
    zcert_destroy (&cert);
    return reply;
}

static uint64_t s_refused (fh_t *fh)
{
    Pmo__StatusRequest ask = PMO__STATUS_REQUEST__INIT;
    Pmo__HubRequest request = PMO__HUB_REQUEST__INIT;
    request.body_case = PMO__HUB_REQUEST__BODY_STATUS;
    request.status = &ask;
    Pmo__HubReply *reply = fh_call (fh, &request);
    assert (!reply->error);
    uint64_t refused = reply->status->refused_connections;
    assert (reply->status->spokes == 3);
    protobuf_c_message_free_unpacked (&reply->base, NULL);
    return refused;
}

static void s_keys (fh_t *fh)
{
    Pmo__SpokeHeartbeat beat = PMO__SPOKE_HEARTBEAT__INIT;
    beat.spoke = "dft"; //  a lie: the key decides who it is
    Pmo__HubRequest request = PMO__HUB_REQUEST__INIT;
    request.body_case = PMO__HUB_REQUEST__BODY_HEARTBEAT;
    request.heartbeat = &beat;
    //  A key the hub does not know: refused at the handshake, no answer
    uint64_t refused = s_refused (fh);
    Pmo__HubReply *reply = s_raw_call (fh, fh->rogue_cert, fh->hub_public, &request, 1000);
    assert (reply == NULL);
    assert (s_refused (fh) > refused);
    //  A known key with the right hub key gets an answer and the policy
    reply = s_raw_call (fh, fh->spokes[2].cert, fh->hub_public, &request, 3000);
    assert (reply && !reply->error && reply->policy && reply->policy->version > 0);
    protobuf_c_message_free_unpacked (&reply->base, NULL);
    //  ... but it cannot push for another division
    Pmo__Event event = PMO__EVENT__INIT;
    event.type = "project.created";
    event.division = "dft";
    event.entity_id = "pr_dft_999";
    uint8_t blob[256];
    size_t size = pmo__event__pack (&event, blob);
    Pmo__ForwardedEvent fe = PMO__FORWARDED_EVENT__INIT;
    fe.stream_id = "9999999999999-0";
    fe.type = "project.created";
    fe.data.data = blob;
    fe.data.len = size;
    Pmo__ForwardedEvent *events[] = {&fe};
    Pmo__PushEvents push = PMO__PUSH_EVENTS__INIT;
    push.division = "dft";
    push.events = events;
    push.n_events = 1;
    Pmo__HubRequest push_request = PMO__HUB_REQUEST__INIT;
    push_request.body_case = PMO__HUB_REQUEST__BODY_PUSH;
    push_request.push = &push;
    reply = s_raw_call (fh, fh->spokes[2].cert, fh->hub_public, &push_request, 3000);
    assert (reply && reply->error && reply->error->code == PMO__ERROR_CODE__ERROR_FORBIDDEN);
    protobuf_c_message_free_unpacked (&reply->base, NULL);
    //  ... nor slip another division's event into its own push
    push.division = "moj";
    reply = s_raw_call (fh, fh->spokes[2].cert, fh->hub_public, &push_request, 3000);
    assert (reply && reply->error && reply->error->code == PMO__ERROR_CODE__ERROR_FORBIDDEN);
    assert (strstr (reply->error->field, "division"));
    protobuf_c_message_free_unpacked (&reply->base, NULL);
    assert (fh_hub_projects (fh, "dft") == 50);
    //  Someone posing as the hub: a client pinning another key as the
    //  hub's (here a spoke's public key) never completes the handshake
    zcert_t *other = zcert_load (fh->spokes[0].cert);
    char other_public[41];
    snprintf (other_public, sizeof other_public, "%s", zcert_public_txt (other));
    zcert_destroy (&other);
    reply = s_raw_call (fh, fh->spokes[2].cert, other_public, &request, 1000);
    assert (reply == NULL);
    printf ("ok: unknown keys refused, a spoke key speaks only for its own division\n");
}

static void s_who_sees_what (fh_t *fh)
{
    //  A division's PMO manager sees that division, not the others
    fh_as (fh, PMO__ROLE__ROLE_PMO_MANAGER, "dwp");
    Pmo__HubReply *reply = fh_rollup (fh, "", NULL);
    assert (!reply->error && reply->rollup->n_divisions == 1);
    assert (strcmp (reply->rollup->divisions[0]->division, "dwp") == 0);
    protobuf_c_message_free_unpacked (&reply->base, NULL);
    reply = fh_rollup (fh, "dft", "project");
    assert (reply->error && reply->error->code == PMO__ERROR_CODE__ERROR_FORBIDDEN);
    protobuf_c_message_free_unpacked (&reply->base, NULL);
    reply = fh_spokes (fh);
    assert (reply->error && reply->error->code == PMO__ERROR_CODE__ERROR_FORBIDDEN);
    protobuf_c_message_free_unpacked (&reply->base, NULL);
    //  Nobody without a grant
    fh_as (fh, PMO__ROLE__ROLE_VIEWER, "elsewhere");
    reply = fh_rollup (fh, "", NULL);
    assert (reply->error && reply->error->code == PMO__ERROR_CODE__ERROR_FORBIDDEN);
    protobuf_c_message_free_unpacked (&reply->base, NULL);
    //  Bad input names the field
    fh_as (fh, PMO__ROLE__ROLE_VIEWER, "hub");
    reply = fh_rollup (fh, "nowhere", NULL);
    assert (reply->error && reply->error->code == PMO__ERROR_CODE__ERROR_NOT_FOUND);
    assert (strcmp (reply->error->field, "rollup.division") == 0);
    protobuf_c_message_free_unpacked (&reply->base, NULL);
    reply = fh_rollup (fh, "dft", "pro*");
    assert (reply->error && reply->error->code == PMO__ERROR_CODE__ERROR_INVALID);
    protobuf_c_message_free_unpacked (&reply->base, NULL);
    //  Spoke requests on the admin endpoint are refused
    Pmo__SpokeHeartbeat beat = PMO__SPOKE_HEARTBEAT__INIT;
    Pmo__HubRequest request = PMO__HUB_REQUEST__INIT;
    request.body_case = PMO__HUB_REQUEST__BODY_HEARTBEAT;
    request.heartbeat = &beat;
    reply = fh_call (fh, &request);
    assert (reply->error && reply->error->code == PMO__ERROR_CODE__ERROR_UNSUPPORTED);
    protobuf_c_message_free_unpacked (&reply->base, NULL);
    fh_as (fh, PMO__ROLE__ROLE_PMO_DIRECTOR, "hub");
    printf ("ok: the enterprise view at the hub, a division's view in the division\n");
}

int main (void)
{
    zsys_init ();
    fh_t *fh = fh_start (s_names, 3);
    for (size_t i = 0; i < fh->n_spokes; i++)
        fh_spoke_ready (fh, i, 10000);
    s_projects_reach_the_hub (fh);
    s_spoke_outage (fh);
    s_policy_push_down (fh);
    s_keys (fh);
    s_who_sees_what (fh);
    fh_stop (&fh);
    printf ("test_federation: all passed\n");
    return 0;
}
