/*  registry_server.c: the project registry actor and its dispatch.

    The actor owns the ROUTER (through the server engine), the PUB socket
    and the Redis connection. Requests go to the handlers by what they
    change (see registry_internal.h); project creates and updates are
    deferred and finished together in the engine's flush. Once a minute it
    trims the division event streams of what every consumer is done with.
*/
#include "registry_import.h"
#include "registry_internal.h"

#include "pmo_auth.h"
#include "pmo_log.h"
#include "pmo_ping.h"

#include <assert.h>
#include <string.h>

//  ---------------------------------------------------------------------
//  Dispatch

static void s_handle_ping (registry_t *self, pmo_request_t *req)
{
    pmo_request_pong (req, "registry", self->redis, self->started_ms);
}

static void s_handle (void *state, pmo_request_t *req)
{
    registry_t *self = state;
    Pmo__RegistryRequest *r = (Pmo__RegistryRequest *)req->request;
    pmo_problem_t problem;
    //  Projects may be named by code wherever an id is asked for
    if (registry_resolve_projects (self, req))
        return;
    switch (r->body_case) {
    case PMO__REGISTRY_REQUEST__BODY_CREATE_ORG_UNIT:
        return registry_handle_create_org_unit (self, req, r->create_org_unit);
    case PMO__REGISTRY_REQUEST__BODY_UPDATE_ORG_UNIT:
        return registry_handle_update_org_unit (self, req, r->update_org_unit);
    case PMO__REGISTRY_REQUEST__BODY_CREATE_PORTFOLIO:
        return registry_create_grouping (self, req, &r->create_portfolio->base, "create_portfolio");
    case PMO__REGISTRY_REQUEST__BODY_UPDATE_PORTFOLIO:
        return registry_update_grouping (self, req, &r->update_portfolio->base, "update_portfolio");
    case PMO__REGISTRY_REQUEST__BODY_CREATE_PROGRAMME:
        return registry_create_grouping (self, req, &r->create_programme->base, "create_programme");
    case PMO__REGISTRY_REQUEST__BODY_UPDATE_PROGRAMME:
        return registry_update_grouping (self, req, &r->update_programme->base, "update_programme");
    case PMO__REGISTRY_REQUEST__BODY_CREATE_PROJECT:
        return registry_begin_create_project (self, req, r->create_project);
    case PMO__REGISTRY_REQUEST__BODY_UPDATE_PROJECT:
        return registry_begin_update_project (self, req, r->update_project);
    case PMO__REGISTRY_REQUEST__BODY_CREATE_MILESTONE:
        if (registry_check_milestone (r->create_milestone, &problem))
            return pmo_request_fail_problem (req, &problem, "create_milestone");
        return registry_handle_create_child (self, req, &r->create_milestone->base,
                                             "create_milestone");
    case PMO__REGISTRY_REQUEST__BODY_UPDATE_MILESTONE:
        return registry_handle_update_milestone (self, req, r->update_milestone);
    case PMO__REGISTRY_REQUEST__BODY_SUBMIT_STATUS_REPORT:
        if (registry_check_status_report (r->submit_status_report, &problem))
            return pmo_request_fail_problem (req, &problem, "submit_status_report");
        return registry_handle_create_child (self, req, &r->submit_status_report->base,
                                             "submit_status_report");
    case PMO__REGISTRY_REQUEST__BODY_CHANGE_PHASE:
        return registry_handle_change_phase (self, req, r->change_phase);
    case PMO__REGISTRY_REQUEST__BODY_DECIDE_GATE:
        return registry_handle_decide_gate (self, req, r->decide_gate);
    case PMO__REGISTRY_REQUEST__BODY_REQUEST_GATE:
        return registry_handle_request_gate (self, req, r->request_gate);
    case PMO__REGISTRY_REQUEST__BODY_WITHDRAW_GATE:
        return registry_handle_withdraw_gate (self, req, r->withdraw_gate);
    case PMO__REGISTRY_REQUEST__BODY_PENDING_GATES:
        return registry_handle_pending_gates (self, req, r->pending_gates);
    case PMO__REGISTRY_REQUEST__BODY_GET:
        return registry_handle_get (self, req, r->get);
    case PMO__REGISTRY_REQUEST__BODY_LIST:
        return registry_handle_list (self, req, r->list);
    case PMO__REGISTRY_REQUEST__BODY_ARCHIVE:
        return registry_handle_archive (self, req, r->archive);
    case PMO__REGISTRY_REQUEST__BODY_PING:
        return s_handle_ping (self, req);
    case PMO__REGISTRY_REQUEST__BODY_IMPORT_BATCH:
    case PMO__REGISTRY_REQUEST__BODY_LATEST_REPORTS:
        return registry_import_handle (self->store, self->pub, req);
    default:
        FAIL (req, UNSUPPORTED, "body", "unknown request type");
    }
}

//  ---------------------------------------------------------------------
//  Keeping the event streams in bounds

#define TRIM_EVERY_MS   60000
#define TRIM_UNITS      64
#define KEEP_DEFAULT_MS (7LL * 24 * 3600 * 1000)

//  Trim the event streams of the next TRIM_UNITS org units after *cursor
//  (positions in creation order, going round) of what all their consumer
//  groups (risk monitor, notifier, the hub's uplink) are done with, keeping
//  the replay window. Without this the streams grow for ever; trimming past
//  an entry a group has not acknowledged would lose it (see pmo_stream.h).
//  A pass is bounded, not the whole tree: an idle registry asks Redis as
//  much with 1,000 divisions as with 10, and its requests never wait for
//  thousands of reads; a stream is trimmed at least every units/TRIM_UNITS
//  passes (16 minutes at 1,000 divisions), against a window of days.
static void s_trim_streams (registry_t *self, size_t *cursor)
{
    size_t page = self->config.trim_units > 0 ? (size_t)self->config.trim_units : TRIM_UNITS;
    pmo_arena_t *arena = pmo_arena_new ();
    Pmo__OrgUnit **units;
    size_t n, positions;
    if (registry_store_org_units_page (self->store, arena, *cursor, page, &units, &n, &positions) ==
        0) {
        *cursor = positions < page ? 0 : *cursor + positions;
        int64_t keep =
            self->config.stream_keep_ms > 0 ? self->config.stream_keep_ms : KEEP_DEFAULT_MS;
        for (size_t i = 0; i < n; i++) {
            if (units[i]->kind == PMO__ORG_UNIT_KIND__ORG_UNIT_KIND_DEPARTMENT)
                continue;
            long long removed = registry_store_trim_events (self->store, units[i]->division, keep);
            if (removed > 0)
                pmo_info ("registry: trimmed division=%s removed=%lld", units[i]->division,
                          removed);
        }
    }
    pmo_arena_destroy (&arena);
}

//  ---------------------------------------------------------------------
//  The actor

void registry_server_actor (zsock_t *pipe, void *args)
{
    registry_t self = {.config = *(registry_config_t *)args};
    self.started_ms = pmo_now_ms ();
    self.redis = pmo_redis_new (self.config.redis_url, self.config.redis_timeout_ms);
    if (!self.redis) {
        pmo_error ("registry: bad redis url");
        ((registry_config_t *)args)->failed = true;
        zsock_signal (pipe, 1);
        return;
    }
    self.store = registry_store_new (self.redis, self.config.hub);
    pmo_server_config_t server_config = {
        .name = "registry",
        .request_desc = &pmo__registry_request__descriptor,
        .reply_desc = &pmo__registry_reply__descriptor,
        .handler = s_handle,
        .flush = registry_flush,
        .state = &self,
    };
    self.server = pmo_server_new (&server_config, self.config.endpoint);
    self.pub = zsock_new (ZMQ_PUB);
    assert (self.pub);
    zsock_set_sndhwm (self.pub, 100000);
    if (!self.server || pmo_auth_server (self.pub) ||
        zsock_bind (self.pub, "%s", self.config.pub_endpoint) < 0) {
        pmo_error ("registry: cannot bind endpoint=%s pub=%s", self.config.endpoint,
                   self.config.pub_endpoint);
        pmo_server_destroy (&self.server);
        zsock_destroy (&self.pub);
        registry_store_destroy (&self.store);
        pmo_redis_destroy (&self.redis);
        ((registry_config_t *)args)->failed = true;
        zsock_signal (pipe, 1);
        return;
    }
    //  Connect now so the first request does not pay for it; if Redis is
    //  down we still serve, answering "unavailable" until it returns.
    pmo_redis_ready (self.redis);
    pmo_info ("registry: ready endpoint=%s pub=%s redis=%s hub=%s", self.config.endpoint,
              self.config.pub_endpoint, pmo_redis_safe_url (self.redis), self.config.hub);
    zsock_signal (pipe, 0);

    zpoller_t *poller = zpoller_new (pipe, pmo_server_socket (self.server), NULL);
    bool running = true;
    int trim_every = self.config.trim_every_ms > 0 ? self.config.trim_every_ms : TRIM_EVERY_MS;
    int64_t next_trim = pmo_mono_ms () + trim_every;
    size_t trim_cursor = 0;
    while (running) {
        void *which = zpoller_wait (poller, trim_every < 1000 ? trim_every : 1000);
        if (pmo_mono_ms () >= next_trim) {
            s_trim_streams (&self, &trim_cursor);
            next_trim = pmo_mono_ms () + trim_every;
        }
        if (which == pipe) {
            char *command = zstr_recv (pipe);
            running = !(command && streq (command, "$TERM"));
            zstr_free (&command);
        } else if (which == pmo_server_socket (self.server))
            pmo_server_drain (self.server, 256);
        else if (zpoller_terminated (poller))
            running = false;
    }
    //  Answer what was already received before going
    pmo_server_drain (self.server, 100000);
    const pmo_server_stats_t *stats = pmo_server_stats (self.server);
    pmo_info ("registry: stopping requests=%llu errors=%llu malformed=%llu",
              (unsigned long long)stats->requests, (unsigned long long)stats->errors,
              (unsigned long long)stats->malformed);
    zpoller_destroy (&poller);
    pmo_server_destroy (&self.server);
    zsock_destroy (&self.pub);
    registry_store_destroy (&self.store);
    pmo_redis_destroy (&self.redis);
}
