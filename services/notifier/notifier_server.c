/*  notifier_server.c: the notifier actor: its loop, request dispatch, the
    org units and divisions it follows, the channel cache, and the helpers
    every request handler uses.

    Three kinds of work share the actor's one thread, none of them blocking
    for long: requests on the ROUTER (answered at once), the event streams
    (a read that waits inside Redis on its own connection, polled with the
    sockets; a batch's routes sent on a connection of their own, their
    answers awaited in the poll while the loop goes on, then acknowledged:
    notifier_route.c), and deliveries (claimed per channel as they fall due
    and the channel's rate allows, sent through libcurl multi, their
    outcomes gathered and recorded with the next tick's claims:
    notifier_deliveries.c). A slow endpoint only ever holds its own
    channel's few transfers. Channel and subscription requests are in
    notifier_channels.c.
*/
#include "notifier_internal.h"

#include "pmo_seal.h"
#include "pmo_auth.h"
#include "pmo_log.h"
#include "pmo_reflect.h"
#include "pmo_stream.h"

#include <assert.h>
#include <string.h>

#define ORG_RELOAD_MS  30000 //  re-read the whole org tree (new divisions to follow)
#define ORG_RETRY_MS   1000  //  ... this soon after the registry did not answer
#define POLL_ITEMS_MAX 1024

//  ---------------------------------------------------------------------
//  Org units and divisions (from the registry)

static void s_streams_rebuild (notifier_t *self)
{
    for (size_t i = 0; i < self->n_streams; i++)
        free (self->streams[i]);
    free (self->streams);
    self->n_streams = zlist_size (self->divisions);
    self->streams = calloc (self->n_streams + 1, sizeof (char *));
    assert (self->streams);
    free (self->ready_at);
    self->ready_at = calloc (self->n_streams + 1, sizeof (int64_t)); //  all unknown
    assert (self->ready_at);
    zhash_destroy (&self->division_index);
    self->division_index = zhash_new ();
    size_t i = 0;
    for (char *d = zlist_first (self->divisions); d; d = zlist_next (self->divisions)) {
        pmo_arena_t *arena = pmo_arena_new ();
        self->streams[i++] = strdup (pmo_stream_key (arena, d));
        pmo_arena_destroy (&arena);
        zhash_insert (self->division_index, d, (void *)(uintptr_t)i);
    }
    self->groups_ok = false;
    self->reader_streams_ok = false;
}

void notifier_ready_unknown (notifier_t *self, const char *division)
{
    uintptr_t index = division ? (uintptr_t)zhash_lookup (self->division_index, division) : 0;
    if (index)
        self->ready_at[index - 1] = 0;
    self->tick_now = true;
}

void notifier_ready_by (notifier_t *self, const char *division, int64_t at_ms)
{
    uintptr_t index = division ? (uintptr_t)zhash_lookup (self->division_index, division) : 0;
    if (index && self->ready_at[index - 1] > at_ms)
        self->ready_at[index - 1] = at_ms;
    else if (!index)
        self->tick_now = true;
}

static void s_division_add (notifier_t *self, const char *division)
{
    for (char *d = zlist_first (self->divisions); d; d = zlist_next (self->divisions))
        if (streq (d, division))
            return;
    zlist_append (self->divisions, (void *)division); //  autofree: the list copies it
    pmo_info ("notifier: following division=%s", division);
    s_streams_rebuild (self);
    //  Its channels and subscriptions are read before its events are
    //  routed: a division followed after the cache was loaded (the tree is
    //  read without waiting, so after the first load at start) is not in it
    self->cache_loaded_ms = 0;
}

//  Follow every division the tree knows (the hub's and each division's
//  stream); new ones are followed as they appear.
static void s_divisions_sync (notifier_t *self)
{
    uint64_t generation = orgtree_generation (self->tree);
    if (generation == self->org_generation)
        return;
    self->org_generation = generation;
    const char *division;
    for (size_t i = 0; (division = orgtree_division_at (self->tree, i)); i++)
        s_division_add (self, division);
}

//  Read the whole tree if it is old or was invalidated. 0 or -1 (the
//  registry did not answer, or the tree is backing off from it).
int notifier_org_refresh (notifier_t *self)
{
    int rc = orgtree_refresh (self->tree, false);
    orgtree_reader_done (self->org_reader, rc); //  the loop's next read is timed from this one
    if (rc)
        return -1;
    self->org_loaded = true;
    s_divisions_sync (self);
    return 0;
}

//  An org unit by id (in arena), asking the registry at once if the tree
//  does not hold it: a unit is usable as soon as it exists. 1, 0 (no such
//  unit) or -1 (the registry did not answer).
int notifier_unit (notifier_t *self, pmo_arena_t *arena, const char *id, Pmo__OrgUnit **unit)
{
    int rc = orgtree_unit (self->tree, id, arena, unit);
    s_divisions_sync (self);
    return rc;
}

//  ---------------------------------------------------------------------
//  The channel and subscription cache

static void s_channel_state_free (void *item)
{
    channel_state_t *st = item;
    if (st->channel)
        protobuf_c_message_free_unpacked (&st->channel->base, NULL);
    free (st);
}

//  Put a channel (any allocator) into the cache, keeping its rate state.
static void s_cache_channel (notifier_t *self, const Pmo__Channel *channel)
{
    Pmo__Channel *copy = (Pmo__Channel *)pmo_reflect_dup (&channel->base);
    assert (copy);
    channel_state_t *st = zhash_lookup (self->channels, channel->id);
    if (!st) {
        st = calloc (1, sizeof (channel_state_t));
        assert (st);
        st->refill_ms = pmo_mono_ms ();
        st->tokens = 1;
        zhash_insert (self->channels, channel->id, st);
        zhash_freefn (self->channels, channel->id, s_channel_state_free);
    } else
        protobuf_c_message_free_unpacked (&st->channel->base, NULL);
    st->channel = copy;
    snprintf (st->division, sizeof st->division, "%s", channel->division);
    st->seen = true;
}

//  Read every division's channels and subscriptions. 0 or -1.
int notifier_cache_reload (notifier_t *self)
{
    pmo_arena_t *arena = pmo_arena_new ();
    size_t max = 64, n = 0;
    Pmo__Subscription **subs = pmo_arena_alloc (arena, max * sizeof (void *));
    for (channel_state_t *st = zhash_first (self->channels); st; st = zhash_next (self->channels))
        st->seen = false;
    int rc = 0;
    for (char *d = zlist_first (self->divisions); d && rc == 0; d = zlist_next (self->divisions)) {
        ProtobufCMessage **msgs;
        size_t count;
        if (notifier_store_list (self->store, arena, NOTIFIER_CHANNEL, d, &msgs, &count)) {
            rc = -1;
            break;
        }
        for (size_t i = 0; i < count; i++)
            s_cache_channel (self, (Pmo__Channel *)msgs[i]);
        if (notifier_store_list (self->store, arena, NOTIFIER_SUBSCRIPTION, d, &msgs, &count)) {
            rc = -1;
            break;
        }
        for (size_t i = 0; i < count; i++) {
            Pmo__Subscription *sub = (Pmo__Subscription *)msgs[i];
            if (sub->archived)
                continue;
            if (n == max) {
                Pmo__Subscription **bigger = pmo_arena_alloc (arena, 2 * max * sizeof (void *));
                memcpy (bigger, subs, max * sizeof (void *));
                subs = bigger;
                max *= 2;
            }
            subs[n++] = sub;
        }
    }
    if (rc) {
        //  keep the cache we had: better stale than empty
        pmo_arena_destroy (&arena);
        return -1;
    }
    //  Channels gone from Redis (not possible today: archived ones stay)
    zlist_t *gone = zlist_new ();
    for (channel_state_t *st = zhash_first (self->channels); st; st = zhash_next (self->channels))
        if (!st->seen && st->in_flight == 0)
            zlist_append (gone, (void *)zhash_cursor (self->channels));
    for (const char *id = zlist_first (gone); id; id = zlist_next (gone))
        zhash_delete (self->channels, id);
    zlist_destroy (&gone);
    pmo_arena_destroy (&self->subs_arena);
    self->subs_arena = arena;
    self->subs = subs;
    self->n_subs = n;
    self->cache_loaded_ms = pmo_mono_ms ();
    return 0;
}

//  ---------------------------------------------------------------------
//  Helpers shared by the handlers

void notifier_cache_fresh (notifier_t *self)
{
    int64_t mono = pmo_mono_ms ();
    bool reload = !self->cache_loaded_ms || mono - self->cache_loaded_ms > CACHE_RELOAD_MS;
    if (!reload && mono < self->next_gen_ms)
        return;
    self->next_gen_ms = mono + GEN_CHECK_MS;
    //  The generation first: a change committed while reading is seen next
    //  time. Unreadable: reload only when due anyway (and look again later)
    long long gen = self->cache_gen;
    bool known = notifier_store_config_gen (self->store, self->config.hub, &gen) == 0;
    if (!known)
        pmo_warn ("notifier: the configuration generation is unreadable; channels are re-read "
                  "every %d s only",
                  CACHE_RELOAD_MS / 1000);
    if ((reload || (known && gen != self->cache_gen)) && notifier_cache_reload (self) == 0)
        self->cache_gen = gen;
}

//  An entity the caller names and may read; NOT_FOUND for one it may not
//  see, so ids cannot be probed across divisions.
ProtobufCMessage *notifier_fetch (notifier_t *self, pmo_request_t *req, notifier_entity_t entity,
                                  const char *id, const char *field, uint64_t *version)
{
    const char *name = entity == NOTIFIER_CHANNEL ? "channel" : "subscription";
    if (pmo_str_empty (id)) {
        FAIL (req, INVALID, field, "%s is required", field);
        return NULL;
    }
    ProtobufCMessage *msg = NULL;
    int rc = notifier_store_read (self->store, req->arena, entity, id, &msg, version);
    if (rc < 0) {
        pmo_request_unavailable (req, "the notifier's store (Redis)");
        return NULL;
    }
    if (rc == 0 || !pmo_access_allowed (pmo_request_who (req), notifier_roles (), NOTIFIER_READ,
                                        pmo_reflect_str (msg, "org_unit_path"))) {
        FAIL (req, NOT_FOUND, field, "no %s with id '%.64s'", name, id);
        return NULL;
    }
    return msg;
}

Pmo__Event *notifier_event (pmo_arena_t *arena, const char *type, const char *division,
                            const char *org_unit, const char *path, const char *entity_id,
                            uint64_t version, const Pmo__Identity *who, const char *request_id)
{
    Pmo__Event *event = pmo_arena_alloc (arena, sizeof (Pmo__Event));
    pmo__event__init (event);
    event->type = (char *)type;
    event->division = (char *)division;
    event->org_unit = (char *)org_unit;
    event->org_unit_path = (char *)path;
    event->entity_id = (char *)entity_id;
    event->entity_version = version;
    event->time_ms = pmo_now_ms ();
    //  The person (or service) whose request it was, and how they were
    //  authenticated; else the notifier on its own account, by its key
    event->actor = who ? who->subject : "notifier";
    event->actor_via = who ? who->via : (char *)pmo_auth_via (arena);
    event->request_id = (char *)request_id;
    event->source = "notifier";
    return event;
}

//  A masked copy of a channel, for replies and events.
Pmo__Channel *notifier_masked (pmo_arena_t *arena, const Pmo__Channel *channel)
{
    Pmo__Channel *copy = (Pmo__Channel *)pmo_reflect_copy (&channel->base, arena);
    notifier_mask_channel (copy, arena);
    return copy;
}

//  Commit with its event and the stored reply; publish on success.
void notifier_commit (notifier_t *self, pmo_request_t *req, pmo_commit_t *commit,
                      const char *division, Pmo__Event *event)
{
    notifier_store_event (self->store, commit, req->arena, division, event);
    size_t size;
    uint8_t *blob = pmo_reflect_pack (req->reply, req->arena, &size);
    pmo_commit_reply (commit, blob, size, IDEM_TTL_S);
    pmo_commit_result_t result;
    notifier_store_commit (self->store, commit, &result);
    pmo_commit_destroy (&commit);
    switch (result.status) {
    case PMO_COMMIT_OK: {
        event->id = result.stream_id;
        size_t esize;
        uint8_t *eblob = pmo_reflect_pack (&event->base, req->arena, &esize);
        zmsg_t *msg = zmsg_new ();
        zmsg_addstrf (msg, "%s.%s", division, event->type);
        zmsg_addmem (msg, eblob, esize);
        zmsg_send (&msg, self->pub);
        notifier_ready_unknown (self, division); //  a retried delivery, say
        break;
    }
    case PMO_COMMIT_DUPLICATE:
        req->raw_reply = pmo_arena_memdup (req->arena, result.previous, result.previous_size);
        req->raw_size = result.previous_size;
        break;
    case PMO_COMMIT_CONFLICT:
        FAIL (req, CONFLICT, "version",
              "%s changed since you read it (now version %llu); read it again and retry",
              event->entity_id, (unsigned long long)result.actual_version);
        break;
    case PMO_COMMIT_TAKEN:
        FAIL (req, ALREADY_EXISTS, "", "already exists (%s)", result.key);
        break;
    case PMO_COMMIT_UNAVAILABLE:
        pmo_request_unavailable (req, "the notifier's store (Redis)");
        break;
    case PMO_COMMIT_ERROR:
        FAIL (req, INTERNAL, "", "the store refused the commit; nothing was written");
        break;
    }
    //  A commit that may have written (done; done before and retried; or
    //  written on the master and not confirmed by its replicas, which a
    //  retry acknowledges without writing again): the delivery loop uses
    //  the configuration as it now is, and the other replicas at their next
    //  look at the generation
    bool written = result.status == PMO_COMMIT_OK || result.status == PMO_COMMIT_DUPLICATE ||
                   result.status == PMO_COMMIT_UNAVAILABLE;
    if (written) {
        self->cache_loaded_ms = 0;
        if ((strncmp (event->type, "channel.", 8) == 0 ||
             strncmp (event->type, "subscription.", 13) == 0) &&
            notifier_store_config_bump (self->store, self->config.hub))
            pmo_warn ("notifier: could not bump the configuration generation; other replicas "
                      "see the change at their next full reload");
    }
    pmo_commit_result_clear (&result);
}

//  ---------------------------------------------------------------------
//  Requests

static void s_handle_ping (notifier_t *self, pmo_request_t *req)
{
    notifier_store_pong (self->store, req, self->started_ms);
    Pmo__NotifierReply *reply = (Pmo__NotifierReply *)req->reply;
    if (reply->body_case != PMO__NOTIFIER_REPLY__BODY_PONG)
        return;
    Pmo__Pong *pong = reply->pong;
    //  (routes go on the routing connection, outcomes on the delivery
    //  loop's, the rest on the main one)
    const notifier_store_counts_t *main = notifier_store_counts (self->store);
    const notifier_store_counts_t *routing = notifier_store_counts (self->route_store);
    const notifier_store_counts_t *ticks = notifier_store_counts (self->tick_store);
    notifier_store_counts_t sum = *main;
    sum.route_calls += routing->route_calls;
    sum.routes += routing->routes;
    sum.claim_calls += ticks->claim_calls;
    sum.claimed += ticks->claimed;
    sum.finish_calls += ticks->finish_calls;
    sum.finished += ticks->finished;
    const notifier_store_counts_t *store = &sum;
    const notifier_counters_t *loop = &self->counters;
    struct {
        const char *name;
        uint64_t value;
    } counts[] = {
        {"wakeups", loop->wakeups},
        {"stream_reads", loop->stream_reads},
        {"stream_entries", loop->stream_entries},
        {"route_calls", store->route_calls},
        {"routes", store->routes},
        {"ticks", loop->ticks},
        {"ready_reads", loop->ready_reads},
        {"claim_calls", store->claim_calls},
        {"claimed", store->claimed},
        {"curl_passes", loop->curl_passes},
        {"transfers_done", loop->transfers_done},
        {"finish_calls", store->finish_calls},
        {"finished", store->finished},
    };
    size_t n = sizeof counts / sizeof counts[0];
    pong->counters = pmo_arena_alloc (req->arena, n * sizeof (Pmo__Counter *));
    for (size_t i = 0; i < n; i++) {
        Pmo__Counter *c = pmo_arena_alloc (req->arena, sizeof (Pmo__Counter));
        pmo__counter__init (c);
        c->name = (char *)counts[i].name;
        c->value = counts[i].value;
        pong->counters[pong->n_counters++] = c;
    }
}

static void s_handle (void *state, pmo_request_t *req)
{
    notifier_t *self = state;
    Pmo__NotifierRequest *r = (Pmo__NotifierRequest *)req->request;
    switch (r->body_case) {
    case PMO__NOTIFIER_REQUEST__BODY_CREATE_CHANNEL:
        return notifier_handle_create_channel (self, req, r->create_channel);
    case PMO__NOTIFIER_REQUEST__BODY_UPDATE_CHANNEL:
        return notifier_handle_update_channel (self, req, r->update_channel);
    case PMO__NOTIFIER_REQUEST__BODY_GET_CHANNEL:
        return notifier_handle_get_channel (self, req, r->get_channel);
    case PMO__NOTIFIER_REQUEST__BODY_LIST_CHANNELS:
        return notifier_handle_list_channels (self, req, r->list_channels);
    case PMO__NOTIFIER_REQUEST__BODY_ARCHIVE_CHANNEL:
        return notifier_handle_archive_channel (self, req, r->archive_channel);
    case PMO__NOTIFIER_REQUEST__BODY_ROTATE_SECRET:
        return notifier_handle_rotate_secret (self, req, r->rotate_secret);
    case PMO__NOTIFIER_REQUEST__BODY_TEST_CHANNEL:
        return notifier_handle_test_channel (self, req, r->test_channel);
    case PMO__NOTIFIER_REQUEST__BODY_CREATE_SUBSCRIPTION:
        return notifier_handle_create_subscription (self, req, r->create_subscription);
    case PMO__NOTIFIER_REQUEST__BODY_UPDATE_SUBSCRIPTION:
        return notifier_handle_update_subscription (self, req, r->update_subscription);
    case PMO__NOTIFIER_REQUEST__BODY_GET_SUBSCRIPTION:
        return notifier_handle_get_subscription (self, req, r->get_subscription);
    case PMO__NOTIFIER_REQUEST__BODY_LIST_SUBSCRIPTIONS:
        return notifier_handle_list_subscriptions (self, req, r->list_subscriptions);
    case PMO__NOTIFIER_REQUEST__BODY_ARCHIVE_SUBSCRIPTION:
        return notifier_handle_archive_subscription (self, req, r->archive_subscription);
    case PMO__NOTIFIER_REQUEST__BODY_LIST_DELIVERIES:
        return notifier_handle_list_deliveries (self, req, r->list_deliveries);
    case PMO__NOTIFIER_REQUEST__BODY_GET_DELIVERY:
        return notifier_handle_get_delivery (self, req, r->get_delivery);
    case PMO__NOTIFIER_REQUEST__BODY_RETRY_DELIVERY:
        return notifier_handle_delivery_change (self, req, r->retry_delivery, true);
    case PMO__NOTIFIER_REQUEST__BODY_DISCARD_DELIVERY:
        return notifier_handle_delivery_change (self, req, r->discard_delivery, false);
    case PMO__NOTIFIER_REQUEST__BODY_PING:
        return s_handle_ping (self, req);
    case PMO__NOTIFIER_REQUEST__BODY_INTERACT:
        return notifier_handle_interact (self, req, r->interact);
    default:
        FAIL (req, UNSUPPORTED, "body", "unknown request type");
    }
}

//  ---------------------------------------------------------------------
//  The actor

//  Connect to Redis and the registry, bind the ROUTER and the PUB. 0, or -1
//  (logged, everything opened closed again).
static int s_open (notifier_t *self)
{
    self->redis = pmo_redis_new (self->config.redis_url, self->config.redis_timeout_ms);
    self->registry = pmo_client_new (self->config.registry_endpoint);
    if (!self->redis || !self->registry) {
        pmo_error ("notifier: bad %s", self->redis ? "registry endpoint" : "redis url");
        pmo_redis_destroy (&self->redis);
        pmo_client_destroy (&self->registry);
        return -1;
    }
    self->seal = pmo_seal_load (self->config.secrets_key ? self->config.secrets_key : "");
    if (!self->seal) {
        pmo_redis_destroy (&self->redis);
        pmo_client_destroy (&self->registry);
        return -1;
    }
    self->store = notifier_store_new (self->redis, self->seal);
    //  Routes go on a connection of their own, their answers awaited in the
    //  poll: Redis routes a batch while the loop sends and records
    self->route_redis = pmo_redis_new (self->config.redis_url, self->config.redis_timeout_ms);
    assert (self->route_redis); //  the same URL made self->redis
    self->route_store = notifier_store_new (self->route_redis, self->seal);
    //  ... and the delivery loop's outcomes on another: Redis records them
    //  while the loop formats and sends what it claimed
    self->tick_redis = pmo_redis_new (self->config.redis_url, self->config.redis_timeout_ms);
    assert (self->tick_redis);
    self->tick_store = notifier_store_new (self->tick_redis, self->seal);
    pmo_server_config_t server_config = {
        .name = "notifier",
        .request_desc = &pmo__notifier_request__descriptor,
        .reply_desc = &pmo__notifier_reply__descriptor,
        .handler = s_handle,
        .state = self,
    };
    self->server = pmo_server_new (&server_config, self->config.endpoint);
    self->pub = zsock_new (ZMQ_PUB);
    assert (self->pub);
    zsock_set_sndhwm (self->pub, 100000);
    if (!self->server || pmo_auth_server (self->pub) ||
        zsock_bind (self->pub, "%s", self->config.pub_endpoint) < 0) {
        pmo_error ("notifier: cannot bind endpoint=%s pub=%s", self->config.endpoint,
                   self->config.pub_endpoint);
        pmo_server_destroy (&self->server);
        zsock_destroy (&self->pub);
        notifier_store_destroy (&self->route_store);
        pmo_redis_destroy (&self->route_redis);
        notifier_store_destroy (&self->tick_store);
        pmo_redis_destroy (&self->tick_redis);
        notifier_store_destroy (&self->store);
        pmo_seal_destroy (&self->seal);
        pmo_client_destroy (&self->registry);
        pmo_redis_destroy (&self->redis);
        return -1;
    }
    return 0;
}

//  Everything else the actor holds: the sender, the identity it shows the
//  registry, the org tree, the cache and the hub's stream.
static void s_prepare (notifier_t *self)
{
    notifier_send_config_t send_config = {
        .connect_timeout_ms = self->config.connect_timeout_ms,
        .total_timeout_ms = self->config.http_timeout_ms,
        .allow = self->config.allow_networks,
        .smtp_tls_required = self->config.smtp_tls_required,
        .free_tag = notifier_transfer_free,
    };
    self->send = notifier_send_new (&send_config);
    self->grant = (Pmo__Grant)PMO__GRANT__INIT;
    self->grant.role = PMO__ROLE__ROLE_VIEWER;
    self->grant.org_unit = (char *)self->config.hub;
    self->grants[0] = &self->grant;
    self->service = (Pmo__Identity)PMO__IDENTITY__INIT;
    self->service.subject = "service:notifier";
    self->service.grants = self->grants;
    self->service.n_grants = 1;
    orgtree_config_t tree_config = {
        .registry = self->config.registry_endpoint,
        .identity = &self->service,
        .timeout_ms = self->config.redis_timeout_ms,
        .max_age_ms = ORG_RELOAD_MS,
    };
    self->tree = orgtree_new (&tree_config);
    assert (self->tree); //  the same endpoint made self->registry
    orgtree_reader_config_t reader_config = {
        .registry = self->config.registry_endpoint,
        .identity = &self->service,
        .timeout_ms = self->config.redis_timeout_ms,
        .refresh_ms = ORG_RELOAD_MS,
        .retry_ms = ORG_RETRY_MS,
        .name = "notifier",
    };
    self->org_reader = orgtree_reader_new (self->tree, &reader_config);
    assert (self->org_reader);
    self->divisions = zlist_new ();
    zlist_autofree (self->divisions);
    self->channels = zhash_new ();
    self->projects = zhash_new ();
    zhash_autofree (self->projects);
    self->reader = pmo_stream_reader_new (self->config.redis_url, self->config.redis_timeout_ms,
                                          GROUP, self->config.consumer, BATCH, READ_BLOCK_MS);
    assert (self->reader); //  the same URL made self->redis
    //  Clicks in chat act on the allocator and the risk monitor, from a
    //  thread of their own
    int rc = notifier_chat_open (self);
    assert (rc == 0);
    //  The hub's stream first; divisions as the registry names them: read
    //  once now, so that the first stream read takes them all in (a
    //  registry that is down costs one timeout, here only; the loop's
    //  reads never wait)
    s_division_add (self, self->config.hub);
    notifier_org_refresh (self);
}

//  Re-read the earliest due time of a few divisions in turn: deliveries
//  routed or retried by another replica, or leased by one that died (due
//  again when the lease ends), are found this way.
static void s_refresh (notifier_t *self)
{
    size_t n = self->n_streams < REFRESH_DIVISIONS ? self->n_streams : REFRESH_DIVISIONS;
    for (size_t k = 0; k < n; k++) {
        if (self->refresh_cursor >= self->n_streams)
            self->refresh_cursor = 0;
        size_t i = self->refresh_cursor++;
        const char *division = zlist_first (self->divisions);
        for (size_t j = 0; j < i && division; j++)
            division = zlist_next (self->divisions);
        int64_t at;
        if (!division || notifier_store_first_ready (self->store, division, &at))
            return;
        if (at < self->ready_at[i])
            self->ready_at[i] = at;
    }
}

//  The timers: org units, housekeeping (reclaiming, the due channels of
//  other replicas) and the delivery loop. Housekeeping runs at one
//  deadline, and none of them reads Redis unless it is due, so an idle
//  notifier costs a few commands a second whatever the number of
//  divisions. (The configuration is looked at when it is used.)
static void s_timers (notifier_t *self)
{
    int64_t mono = pmo_mono_ms ();
    //  The tree is read again every ORG_RELOAD_MS and at once after an
    //  org-unit event, without waiting: the replies come on the reader's
    //  socket (s_poll), so a registry that is away never holds up the
    //  deliveries
    if (mono >= orgtree_reader_next_ms (self->org_reader))
        orgtree_reader_due (self->org_reader);
    if (mono >= self->next_housekeep_ms) {
        notifier_reclaim (self);
        s_refresh (self);
        self->next_housekeep_ms = pmo_mono_ms () + HOUSEKEEP_MS;
    }
    int64_t now = pmo_now_ms ();
    bool due = self->tick_now;
    for (size_t i = 0; i < self->n_streams && !due; i++)
        due = self->ready_at[i] <= now;
    if (due) {
        self->tick_now = false;
        notifier_tick (self);
    }
}

//  How long the loop may sleep, ms.
static long s_wait_ms (notifier_t *self)
{
    int64_t mono = pmo_mono_ms (), now = pmo_now_ms ();
    int64_t wait = HOUSEKEEP_MS;
    int64_t timers[] = {orgtree_reader_next_ms (self->org_reader) - mono,
                        self->next_housekeep_ms - mono, pmo_stream_reader_wait_ms (self->reader),
                        notifier_routing_wait_ms (self), notifier_recording_wait_ms (self)};
    for (size_t i = 0; i < sizeof timers / sizeof timers[0]; i++)
        if (timers[i] < wait)
            wait = timers[i];
    for (size_t i = 0; i < self->n_streams; i++)
        if (self->ready_at[i] != INT64_MAX && self->ready_at[i] - now < wait)
            wait = self->ready_at[i] - now;
    long curl_wait = notifier_send_timeout (self->send);
    if (curl_wait >= 0 && curl_wait < wait)
        wait = curl_wait;
    return self->tick_now || wait < 0 ? 0 : (long)wait;
}

//  Wait for requests, new stream entries, curl's sockets or the next
//  timer, and serve what came. False once the actor is told to stop.
static bool s_poll (notifier_t *self, zsock_t *pipe, zmq_pollitem_t *items)
{
    items[0] = (zmq_pollitem_t){.socket = zsock_resolve (pipe), .events = ZMQ_POLLIN};
    items[1] = (zmq_pollitem_t){.socket = zsock_resolve (pmo_server_socket (self->server)),
                                .events = ZMQ_POLLIN};
    items[2] = (zmq_pollitem_t){.socket = zsock_resolve (zactor_sock (self->clicker)),
                                .events = ZMQ_POLLIN};
    items[3] = (zmq_pollitem_t){.socket = zsock_resolve (orgtree_reader_socket (self->org_reader)),
                                .events = ZMQ_POLLIN};
    int fixed = 4;
    //  New entries while no batch is being routed, else that batch's answers
    int reader_fd = notifier_reader_arm (self);
    int routing_fd = notifier_routing_fd (self);
    int wait_fd = routing_fd >= 0 ? routing_fd : reader_fd;
    if (wait_fd >= 0)
        items[fixed++] = (zmq_pollitem_t){.fd = wait_fd, .events = ZMQ_POLLIN};
    //  Recorded outcomes' answers
    int recording_fd = notifier_recording_fd (self);
    if (recording_fd >= 0)
        items[fixed++] = (zmq_pollitem_t){.fd = recording_fd, .events = ZMQ_POLLIN};
    int count = fixed + notifier_send_pollitems (self->send, items + fixed, POLL_ITEMS_MAX - fixed);
    self->counters.wakeups++;
    if (zmq_poll (items, count, s_wait_ms (self)) < 0 && zmq_errno () == ETERM)
        return false;
    bool running = true;
    if (items[0].revents & ZMQ_POLLIN) {
        char *command = zstr_recv (pipe);
        running = !(command && streq (command, "$TERM"));
        zstr_free (&command);
    }
    if (items[1].revents & ZMQ_POLLIN)
        pmo_server_drain (self->server, 256);
    if (items[2].revents & ZMQ_POLLIN)
        notifier_chat_returned (self);
    if ((items[3].revents & ZMQ_POLLIN) && orgtree_reader_take (self->org_reader)) {
        self->org_loaded = true;
        s_divisions_sync (self);
    }
    //  A batch's answers are looked for on every pass (its deadline may
    //  have passed); once it is done, the next read may have come meanwhile
    if (self->routing) {
        notifier_routing_poll (self);
        if (!self->routing)
            notifier_consume (self);
    } else if (reader_fd >= 0 && (items[4].revents & (ZMQ_POLLIN | ZMQ_POLLERR)))
        notifier_consume (self);
    notifier_send_perform (self->send, items + fixed, count - fixed);
    notifier_finish_results (self);
    //  (looked for on every pass: the deadline may have passed)
    notifier_recording_poll (self, false);
    return running;
}

static void s_close (notifier_t *self)
{
    //  Answer what was already received; transfers still running are left
    //  leased and go out again after the lease (at least once)
    pmo_server_drain (self->server, 100000);
    notifier_chat_close (self);
    //  Outcomes already known are recorded (else they go out again after the lease)
    notifier_finish_flush (self);
    free (self->finishing);
    pmo_info ("notifier: stopping routed=%llu delivered=%llu failed_attempts=%llu dead=%llu "
              "skipped_old=%llu in_flight=%d",
              (unsigned long long)self->routed, (unsigned long long)self->delivered,
              (unsigned long long)self->failed, (unsigned long long)self->dead,
              (unsigned long long)self->skipped, self->in_flight);
    notifier_send_destroy (&self->send);
    pmo_stream_reader_destroy (&self->reader);
    notifier_routing_free (&self->routing);
    notifier_store_destroy (&self->route_store);
    pmo_redis_destroy (&self->route_redis);
    notifier_store_destroy (&self->tick_store);
    pmo_redis_destroy (&self->tick_redis);
    zhash_destroy (&self->division_index);
    free (self->ready_at);
    zhash_destroy (&self->channels);
    zhash_destroy (&self->projects);
    zlist_destroy (&self->divisions);
    for (size_t i = 0; i < self->n_streams; i++)
        free (self->streams[i]);
    free (self->streams);
    pmo_arena_destroy (&self->subs_arena);
    orgtree_reader_destroy (&self->org_reader);
    orgtree_destroy (&self->tree);
    pmo_server_destroy (&self->server);
    zsock_destroy (&self->pub);
    notifier_store_destroy (&self->store);
    pmo_seal_destroy (&self->seal);
    pmo_client_destroy (&self->registry);
    pmo_redis_destroy (&self->redis);
}

void notifier_server_actor (zsock_t *pipe, void *args)
{
    notifier_t self = {.config = *(notifier_config_t *)args};
    self.started_ms = pmo_now_ms ();
    srandom ((unsigned)(pmo_now_ms () ^ getpid ()));
    if (s_open (&self)) {
        ((notifier_config_t *)args)->failed = true;
        zsock_signal (pipe, 1);
        return;
    }
    s_prepare (&self);
    notifier_store_connected (self.store);
    pmo_info ("notifier: ready endpoint=%s pub=%s redis=%s registry=%s consumer=%s",
              self.config.endpoint, self.config.pub_endpoint, pmo_redis_safe_url (self.redis),
              self.config.registry_endpoint, self.config.consumer);
    zsock_signal (pipe, 0);
    zmq_pollitem_t items[POLL_ITEMS_MAX];
    do
        s_timers (&self);
    while (s_poll (&self, pipe, items));
    s_close (&self);
}
