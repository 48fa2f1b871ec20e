/*  riskmon_server.c: the risk monitor actor: its sockets and connections,
    the loop (requests, the stream reader, the time rules and escalations,
    the org units), the helpers every request handler shares, and the
    dispatch of requests to their handlers (riskmon_registers.c,
    riskmon_requests.c).
*/
#include "riskmon_internal.h"

#include "pmo_auth.h"
#include "pmo_client.h"
#include "pmo_log.h"
#include "pmo_ping.h"
#include "pmo_reflect.h"

#include <assert.h>
#include <string.h>

#define IDEM_TTL_S 86400 //  a done request's reply, for retries

static void s_free_message (void **item)
{
    if (*item)
        protobuf_c_message_free_unpacked ((ProtobufCMessage *)*item, NULL);
    *item = NULL;
}

static void s_free_ids (void **item)
{
    free (*item);
    *item = NULL;
}

//  ---------------------------------------------------------------------
//  Request helpers

Pmo__RiskmonReply *riskmon_reply (pmo_request_t *req)
{
    return (Pmo__RiskmonReply *)req->reply;
}

bool riskmon_replayed (riskmon_t *self, pmo_request_t *req, const char *division)
{
    return pmo_request_replayed (req, self->redis, division, "the risk monitor's store");
}

//  The health record of a project the caller may see (NOT_FOUND for one it
//  may not, so ids cannot be probed). A project the streams have not told
//  us about yet is asked of the registry. *version is 0 for a new record.
Pmo__ProjectHealth *riskmon_request_project (riskmon_t *self, pmo_request_t *req,
                                             const char *project_id, const char *field,
                                             uint64_t *version)
{
    if (pmo_str_empty (project_id)) {
        FAIL (req, INVALID, field, "%s is required", field);
        return NULL;
    }
    char *division = riskmon_division_of (req->arena, project_id);
    if (!division) {
        FAIL (req, INVALID, field, "'%.64s' is not a project id", project_id);
        return NULL;
    }
    ProtobufCMessage *msg;
    int rc = riskmon_store_get (self->store, req->arena,
                                riskmon_key_project (req->arena, division, project_id),
                                &pmo__project_health__descriptor, &msg, version);
    if (rc < 0) {
        pmo_request_unavailable (req, STORE_NAME);
        return NULL;
    }
    Pmo__ProjectHealth *ph = rc ? riskmon_health_read (msg) : NULL;
    if (!ph || !ph->inputs->known) {
        //  Not seen on the stream yet: the registry is the authority
        Pmo__Project *project;
        int found = orgtree_project (self->tree, project_id, req->arena, &project);
        if (found < 0) {
            FAIL (req, UNAVAILABLE, field,
                  "project '%s' is not known here yet and the registry did not answer", project_id);
            return NULL;
        }
        if (found == 0) {
            FAIL (req, NOT_FOUND, field, "no project with id '%.64s'", project_id);
            return NULL;
        }
        if (!ph) {
            ph = riskmon_health_new (req->arena, project_id, division);
            *version = 0;
        }
        riskmon_apply_project (ph->inputs, project);
    }
    if (!riskmon_allowed (pmo_request_who (req), RISKMON_READ, ph->inputs->org_unit_path)) {
        FAIL (req, NOT_FOUND, field, "no project with id '%.64s'", project_id);
        return NULL;
    }
    return ph;
}

//  Finish a change: store the reply with the commit; publish on success.
void riskmon_request_commit (riskmon_t *self, pmo_request_t *req, pmo_commit_t *commit,
                             const char *division, riskmon_change_t *change)
{
    size_t size;
    uint8_t *blob = pmo_reflect_pack (req->reply, req->arena, &size);
    pmo_commit_reply (commit, blob, size, IDEM_TTL_S);
    pmo_commit_result_t result;
    riskmon_store_exec (self->store, commit, &result);
    pmo_commit_destroy (&commit);
    switch (result.status) {
    case PMO_COMMIT_OK:
        riskmon_schedule_touch (self, division);
        riskmon_publish (self, req->arena, division, change, result.stream_id);
        break;
    case PMO_COMMIT_DUPLICATE:
        req->raw_reply = pmo_arena_memdup (req->arena, result.previous, result.previous_size);
        req->raw_size = result.previous_size;
        break;
    case PMO_COMMIT_CONFLICT:
        FAIL (req, CONFLICT, "version",
              "it changed while this request was handled (%s is now version %llu); read it "
              "again and retry",
              result.key, (unsigned long long)result.actual_version);
        break;
    case PMO_COMMIT_TAKEN:
    case PMO_COMMIT_ERROR:
        FAIL (req, INTERNAL, "", "the store refused the commit; nothing was written");
        break;
    case PMO_COMMIT_UNAVAILABLE:
        pmo_request_unavailable (req, STORE_NAME);
        break;
    }
    pmo_commit_result_clear (&result);
}

static void s_handle_ping (riskmon_t *self, pmo_request_t *req)
{
    pmo_request_pong (req, "riskmon", self->redis, self->started_ms);
}

static void s_handle_stats (riskmon_t *self, pmo_request_t *req)
{
    Pmo__RiskmonStats *stats = pmo_arena_alloc (req->arena, sizeof (Pmo__RiskmonStats));
    pmo__riskmon_stats__init (stats);
    stats->events_applied = self->applied;
    stats->events_ignored = self->ignored;
    stats->events_duplicate = self->duplicate;
    stats->health_changes = self->health_changes;
    stats->sweeps = self->sweeps;
    stats->swept_projects = self->swept;
    stats->alerts_raised = self->alerts_raised;
    stats->escalations = self->escalations;
    stats->streams = self->streams;
    stats->n_streams = self->n_streams;
    pmo_reflect_set_oneof (req->reply, "stats", &stats->base);
}

//  Who may see a project's registers and health: orgtree_resolve_projects
static bool s_may_see (const Pmo__Identity *who, const char *path)
{
    return riskmon_allowed (who, RISKMON_READ, path);
}

static void s_handle (void *state, pmo_request_t *req)
{
    riskmon_t *self = state;
    Pmo__RiskmonRequest *r = (Pmo__RiskmonRequest *)req->request;
    //  Projects may be named by code wherever an id is asked for
    if (orgtree_resolve_projects (self->tree, req, s_may_see, "the registry"))
        return;
    switch (r->body_case) {
    case PMO__RISKMON_REQUEST__BODY_CREATE_RISK:
        return riskmon_handle_create_entry (self, req, &r->create_risk->base, "create_risk");
    case PMO__RISKMON_REQUEST__BODY_UPDATE_RISK:
        return riskmon_handle_update_entry (self, req, &r->update_risk->base, "update_risk");
    case PMO__RISKMON_REQUEST__BODY_CREATE_ISSUE:
        return riskmon_handle_create_entry (self, req, &r->create_issue->base, "create_issue");
    case PMO__RISKMON_REQUEST__BODY_UPDATE_ISSUE:
        return riskmon_handle_update_entry (self, req, &r->update_issue->base, "update_issue");
    case PMO__RISKMON_REQUEST__BODY_CREATE_CHANGE:
        return riskmon_handle_create_entry (self, req, &r->create_change->base, "create_change");
    case PMO__RISKMON_REQUEST__BODY_UPDATE_CHANGE:
        return riskmon_handle_update_entry (self, req, &r->update_change->base, "update_change");
    case PMO__RISKMON_REQUEST__BODY_CREATE_RAID:
        return riskmon_handle_create_entry (self, req, &r->create_raid->base, "create_raid");
    case PMO__RISKMON_REQUEST__BODY_UPDATE_RAID:
        return riskmon_handle_update_entry (self, req, &r->update_raid->base, "update_raid");
    case PMO__RISKMON_REQUEST__BODY_CLOSE:
        return riskmon_handle_close (self, req, r->close);
    case PMO__RISKMON_REQUEST__BODY_GET:
        return riskmon_handle_get (self, req, r->get);
    case PMO__RISKMON_REQUEST__BODY_LIST:
        return riskmon_handle_list (self, req, r->list);
    case PMO__RISKMON_REQUEST__BODY_HEALTH:
        return riskmon_handle_health (self, req, r->health);
    case PMO__RISKMON_REQUEST__BODY_ROLLUP:
        return riskmon_handle_rollup (self, req, r->rollup);
    case PMO__RISKMON_REQUEST__BODY_PORTFOLIO:
        return riskmon_handle_portfolio (self, req, r->portfolio);
    case PMO__RISKMON_REQUEST__BODY_ACKNOWLEDGE_ALERT:
        return riskmon_handle_alert_action (self, req, r->acknowledge_alert, false);
    case PMO__RISKMON_REQUEST__BODY_RESOLVE_ALERT:
        return riskmon_handle_alert_action (self, req, r->resolve_alert, true);
    case PMO__RISKMON_REQUEST__BODY_SET_THRESHOLDS:
        return riskmon_handle_set_thresholds (self, req, r->set_thresholds);
    case PMO__RISKMON_REQUEST__BODY_GET_THRESHOLDS:
        return riskmon_handle_get_thresholds (self, req, r->get_thresholds);
    case PMO__RISKMON_REQUEST__BODY_IMPORT_BATCH:
        return riskmon_handle_import (self, req, r->import_batch);
    case PMO__RISKMON_REQUEST__BODY_PING:
        return s_handle_ping (self, req);
    case PMO__RISKMON_REQUEST__BODY_STATS:
        return s_handle_stats (self, req);
    default:
        FAIL (req, UNSUPPORTED, "body", "unknown request type");
    }
}

//  ---------------------------------------------------------------------
//  The actor

static void s_destroy (riskmon_t *self)
{
    pmo_server_destroy (&self->server);
    pmo_stream_reader_destroy (&self->reader);
    zsock_destroy (&self->pub);
    pmo_client_destroy (&self->registry);
    orgtree_reader_destroy (&self->units);
    orgtree_destroy (&self->tree);
    zhashx_destroy (&self->thresholds);
    zhashx_destroy (&self->alert_ids);
    zhashx_destroy (&self->portfolio);
    for (size_t i = 0; i < self->n_streams; i++) {
        free (self->streams[i]);
        free (self->divisions[i]);
    }
    zhashx_destroy (&self->batch_alerts);
    riskmon_store_destroy (&self->ahead);
    pmo_redis_destroy (&self->ahead_redis);
    riskmon_store_destroy (&self->side);
    pmo_redis_destroy (&self->side_redis);
    riskmon_store_destroy (&self->store);
    pmo_redis_destroy (&self->redis);
    pmo_arena_destroy (&self->work);
}

static int s_start (riskmon_t *self)
{
    self->redis = pmo_redis_new (self->config.redis_url, self->config.redis_timeout_ms);
    if (!self->redis) {
        pmo_error ("riskmon: bad redis url");
        return -1;
    }
    self->store = riskmon_store_new (self->redis, self->config.hub);
    self->side_redis = pmo_redis_new (self->config.redis_url, self->config.redis_timeout_ms);
    assert (self->side_redis);
    self->side = riskmon_store_new (self->side_redis, self->config.hub);
    self->ahead_redis = pmo_redis_new (self->config.redis_url, self->config.redis_timeout_ms);
    assert (self->ahead_redis);
    self->ahead = riskmon_store_new (self->ahead_redis, self->config.hub);
    self->reader =
        pmo_stream_reader_new (self->config.redis_url, self->config.redis_timeout_ms, GROUP,
                               self->config.consumer, (size_t)self->config.batch, READ_BLOCK_MS);
    assert (self->reader);
    self->batch_alerts = zhashx_new ();
    self->work = pmo_arena_new ();
    self->thresholds = zhashx_new ();
    zhashx_set_destructor (self->thresholds, s_free_message);
    self->alert_ids = zhashx_new ();
    zhashx_set_destructor (self->alert_ids, s_free_ids);
    self->portfolio = riskmon_portfolio_cache_new ();
    pmo__identity__init (&self->identity);
    pmo__grant__init (&self->grant);
    self->identity.subject = "riskmon";
    self->grant.role = PMO__ROLE__ROLE_VIEWER;
    self->grant.org_unit = (char *)self->config.hub;
    self->grants[0] = &self->grant;
    self->identity.grants = self->grants;
    self->identity.n_grants = 1;
    self->registry = pmo_client_new (self->config.registry);
    if (!self->registry) {
        pmo_error ("riskmon: bad registry endpoint=%s", self->config.registry);
        return -1;
    }
    orgtree_config_t tree_config = {.registry = self->config.registry,
                                    .identity = &self->identity,
                                    .timeout_ms = UNITS_TIMEOUT_MS,
                                    .max_age_ms = UNITS_REFRESH_MS};
    self->tree = orgtree_new (&tree_config);
    if (!self->tree || riskmon_units_open (self)) {
        pmo_error ("riskmon: bad registry endpoint=%s", self->config.registry);
        return -1;
    }
    pmo_server_config_t server_config = {
        .name = "riskmon",
        .request_desc = &pmo__riskmon_request__descriptor,
        .reply_desc = &pmo__riskmon_reply__descriptor,
        .handler = s_handle,
        .state = self,
    };
    self->server = pmo_server_new (&server_config, self->config.endpoint);
    self->pub = zsock_new (ZMQ_PUB);
    assert (self->pub);
    zsock_set_sndhwm (self->pub, 100000);
    if (!self->server || pmo_auth_server (self->pub) ||
        zsock_bind (self->pub, "%s", self->config.pub_endpoint) < 0) {
        pmo_error ("riskmon: cannot bind endpoint=%s pub=%s", self->config.endpoint,
                   self->config.pub_endpoint);
        return -1;
    }
    return 0;
}

//  Start reading every division remembered, then ask the registry.
static void s_discover (riskmon_t *self)
{
    pmo_arena_t *arena = pmo_arena_new ();
    char **list;
    size_t n;
    if (riskmon_stream_add (self, self->config.hub) == 0 &&
        riskmon_store_divisions (self->store, arena, &list, &n) == 0)
        for (size_t i = 0; i < n; i++)
            riskmon_stream_add (self, list[i]);
    pmo_arena_destroy (&arena);
    riskmon_units_sync (self);
}

void riskmon_server_actor (zsock_t *pipe, void *args)
{
    riskmon_t self = {.config = *(riskmon_config_t *)args};
    self.started_ms = pmo_now_ms ();
    if (self.config.batch <= 0)
        self.config.batch = 512;
    if (self.config.tick_ms <= 0)
        self.config.tick_ms = 1000;
    if (self.config.sweep_budget_ms <= 0)
        self.config.sweep_budget_ms = 250;
    if (self.config.claim_idle_ms <= 0)
        self.config.claim_idle_ms = 30000;
    if (pmo_str_empty (self.config.consumer))
        self.config.consumer = "riskmon-1";
    if (s_start (&self)) {
        s_destroy (&self);
        ((riskmon_config_t *)args)->failed = true;
        zsock_signal (pipe, 1);
        return;
    }
    pmo_redis_ready (self.redis);
    pmo_info ("riskmon: ready endpoint=%s pub=%s redis=%s hub=%s registry=%s consumer=%s",
              self.config.endpoint, self.config.pub_endpoint, pmo_redis_safe_url (self.redis),
              self.config.hub, self.config.registry, self.config.consumer);
    zsock_signal (pipe, 0);
    s_discover (&self);

    //  Nothing here polls: new entries wake the loop through the reader
    //  (which waits in Redis), the sweep and escalation run when a
    //  division's next time comes, reclaiming and re-reading one division's
    //  times (other replicas' commits) are slow timers
    int64_t next_tick = 0, next_reclaim = 0, next_refresh = 0;
    bool running = true;
    while (running) {
        zmq_pollitem_t items[4] = {
            {.socket = zsock_resolve (pipe), .events = ZMQ_POLLIN},
            {.socket = zsock_resolve (pmo_server_socket (self.server)), .events = ZMQ_POLLIN},
            {.socket = zsock_resolve (orgtree_reader_socket (self.units)), .events = ZMQ_POLLIN}};
        int count = 3, reader_item = -1;
        int fd = riskmon_reader_arm (&self);
        if (fd >= 0) {
            reader_item = count;
            items[count++] = (zmq_pollitem_t){.fd = fd, .events = ZMQ_POLLIN};
        }
        int64_t now = pmo_mono_ms ();
        int64_t wait = next_reclaim - now;
        if (next_refresh - now < wait)
            wait = next_refresh - now;
        if (orgtree_reader_next_ms (self.units) - now < wait)
            wait = orgtree_reader_next_ms (self.units) - now;
        int64_t due = riskmon_schedule_next (&self);
        if (due != INT64_MAX) {
            //  not before the tick (the sweep's budget is spent per tick)
            int64_t at = due - riskmon_now (&self) + now;
            if (at < next_tick)
                at = next_tick;
            if (at - now < wait)
                wait = at - now;
        }
        if (fd < 0 && pmo_stream_reader_wait_ms (self.reader) < wait)
            wait = pmo_stream_reader_wait_ms (self.reader);
        if (wait < 0)
            wait = 0;
        if (wait > 5000)
            wait = 5000;
        if (zmq_poll (items, count, (long)wait) < 0 && zmq_errno () == ETERM)
            break;
        if (items[0].revents & ZMQ_POLLIN) {
            char *command = zstr_recv (pipe);
            running = !(command && streq (command, "$TERM"));
            zstr_free (&command);
            continue;
        }
        if (items[1].revents & ZMQ_POLLIN)
            pmo_server_drain (self.server, 256);
        if (items[2].revents & ZMQ_POLLIN)
            riskmon_units_take (&self);
        if (reader_item >= 0 && (items[reader_item].revents & (ZMQ_POLLIN | ZMQ_POLLERR)))
            riskmon_consume (&self);
        now = pmo_mono_ms ();
        if (now >= orgtree_reader_next_ms (self.units))
            riskmon_units_due (&self);
        //  The slow timers count from this wake's time, so timers of one
        //  period stay in step and an idle loop wakes once a second
        if (now >= next_reclaim) {
            riskmon_reclaim (&self);
            next_reclaim = now + RECLAIM_STEP_MS;
        }
        if (now >= next_refresh && self.n_streams) {
            if (self.refresh_cursor >= self.n_streams)
                self.refresh_cursor = 0;
            self.sweep_at[self.refresh_cursor] = 0;
            self.escalate_at[self.refresh_cursor++] = 0;
            next_refresh = now + self.config.tick_ms;
        }
        if (now >= next_tick && riskmon_schedule_next (&self) <= riskmon_now (&self)) {
            riskmon_sweep (&self, self.config.sweep_budget_ms);
            riskmon_escalate (&self);
            next_tick = pmo_mono_ms () + self.config.tick_ms;
        }
    }
    pmo_server_drain (self.server, 100000);
    const pmo_server_stats_t *stats = pmo_server_stats (self.server);
    pmo_info ("riskmon: stopping requests=%llu errors=%llu applied=%llu duplicate=%llu",
              (unsigned long long)stats->requests, (unsigned long long)stats->errors,
              (unsigned long long)self.applied, (unsigned long long)self.duplicate);
    s_destroy (&self);
}
