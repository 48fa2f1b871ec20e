/*  notifier_route.c: the stream consumer: events become deliveries.

    Every division's stream is read with the consumer group "notifier";
    each event is matched against the cached subscriptions and becomes, per
    channel, a new delivery, part of a project's burst or of a digest (a
    batch's routes in one route.lua call per division and 64 routes, all
    pipelined). New entries are routed on a connection of their own whose
    answers the loop's poll awaits, so Redis routes while the loop sends
    and records deliveries; one batch at a time. Entries are acknowledged
    only when every route call of the batch succeeded: at least once, and
    routing is idempotent per event and channel.
*/
#include "notifier_internal.h"

#include "pmo_log.h"
#include "pmo_stream.h"

#include <assert.h>
#include <string.h>

#define PROJECTS_MAX 20000 //  project labels remembered

//  ---------------------------------------------------------------------
//  Routing: events become deliveries

static void s_remember_project (notifier_t *self, const Pmo__Event *event, pmo_arena_t *arena)
{
    const char *label = notifier_project_label (event, arena);
    if (!label)
        return;
    if (zhash_size (self->projects) >= PROJECTS_MAX &&
        !zhash_lookup (self->projects, event->project->id)) {
        //  forget everything rather than track ages: labels come back with
        //  the next event of each project
        zhash_destroy (&self->projects);
        self->projects = zhash_new ();
        zhash_autofree (self->projects);
    }
    zhash_update (self->projects, event->project->id, (void *)label);
}

//  Make sure every followed stream has the group, then read a batch. 0 (the
//  batch may be empty) or -1.
//  Make the group on every stream followed (once per change of streams).
static int s_groups_ensure (notifier_t *self)
{
    if (self->groups_ok)
        return 0;
    for (size_t i = 0; i < self->n_streams; i++)
        if (notifier_store_follow (self->store, self->streams[i], GROUP))
            return -1;
    self->groups_ok = true;
    return 0;
}

int notifier_reader_arm (notifier_t *self)
{
    if (!self->n_streams || s_groups_ensure (self))
        return -1;
    if (!self->reader_streams_ok) {
        pmo_stream_reader_set_streams (self->reader, (const char *const *)self->streams,
                                       self->n_streams);
        self->reader_streams_ok = true;
    }
    return pmo_stream_reader_arm (self->reader);
}

//  The event an entry holds (in arena), if it is news to route: NULL if it
//  is undecodable, our own, or older than max_event_age_s.
static Pmo__Event *s_decode (notifier_t *self, const pmo_stream_entry_t *entry, pmo_arena_t *arena,
                             int64_t now)
{
    Pmo__Event *event =
        pmo__event__unpack (pmo_arena_allocator (arena), entry->size, (const uint8_t *)entry->data);
    if (!event) {
        pmo_warn ("notifier: undecodable event stream=%s id=%s", entry->stream, entry->id);
        return NULL;
    }
    event->id = entry->id;
    if (pmo_str_empty (event->division)) {
        //  the stream says whose it is
        char division[64];
        if (pmo_stream_key_division (entry->stream, division, sizeof division))
            event->division = pmo_arena_strdup (arena, division);
    }
    //  A unit changed (renamed, moved, archived, its PMO type): read the
    //  tree again before it is used next
    if (strncmp (event->type ? event->type : "", "org_unit.", 9) == 0)
        orgtree_reader_now (self->org_reader);
    //  Our own events (channel changes, dead letters) are not news to
    //  route: sending them could loop through a broken channel
    if (streq (event->source ? event->source : "", "notifier"))
        return NULL;
    if (self->config.max_event_age_s > 0 &&
        now - event->time_ms > (int64_t)self->config.max_event_age_s * 1000) {
        self->skipped++;
        return NULL;
    }
    return event;
}

//  The route that takes notice to channel ch: a delivery of its own, a
//  part of the project's burst or of the channel's digest (in arena).
//  quiet_until (Unix ms, 0 = none) is when the quiet hours of every
//  subscription that wants it end: below critical it waits for then, in a
//  digest of its own.
static notifier_route_args_t *s_route_to (const Pmo__Channel *ch, const Pmo__Event *event,
                                          const Pmo__Notice *notice, pmo_arena_t *arena,
                                          int64_t now, int64_t quiet_until)
{
    notifier_route_t mode = notifier_route_mode (ch, notice);
    bool quiet = quiet_until > now && notice->severity < PMO__SEVERITY__SEVERITY_CRITICAL;
    //  Quiet hours hold a notice back: in a digest of its own, or, if it
    //  has actions (never combined), as its own message when they end
    bool actionable = notifier_notice_actionable (notice);
    if (quiet && !actionable)
        mode = NOTIFIER_ROUTE_DIGEST;
    const char *key = pmo_arena_printf (arena, "%s/%s/%s", event->division, event->id, ch->id);
    Pmo__Delivery *d = pmo_arena_alloc (arena, sizeof (Pmo__Delivery));
    pmo__delivery__init (d);
    d->channel_id = ch->id;
    d->division = ch->division;
    d->state = PMO__DELIVERY_STATE__DELIVERY_STATE_PENDING;
    d->created_ms = now;
    d->channel_kind = ch->kind;
    d->project_id = notice->project_id;
    char *single_id = notifier_store_delivery_id (arena, ch->division, key);
    notifier_route_args_t *route = pmo_arena_alloc (arena, sizeof (notifier_route_args_t));
    notifier_route_args_t args = {
        .division = ch->division,
        .channel_id = ch->id,
        .mode = mode,
        .seen = pmo_arena_printf (arena, "%s/%s", event->division, event->id),
        .delivery_id = single_id,
        .fallback_id = single_id,
        .delivery = d,
        .notice = notice,
        .now_ms = now,
        .due_ms = quiet && actionable ? quiet_until : now,
        .window_ms = notifier_coalesce_ms (ch),
        .project_id = notice->project_id,
    };
    if (mode == NOTIFIER_ROUTE_DIGEST) {
        d->kind = PMO__DELIVERY_KIND__DELIVERY_KIND_DIGEST;
        d->period_end_ms = quiet ? quiet_until : notifier_digest_period_end (ch->digest, now);
        args.due_ms = d->period_end_ms;
        args.delivery_id = notifier_store_delivery_id (
            arena, ch->division,
            pmo_arena_printf (arena, "digest/%s/%lld", ch->id, (long long)d->period_end_ms));
    } else
        d->kind = mode == NOTIFIER_ROUTE_COALESCE ? PMO__DELIVERY_KIND__DELIVERY_KIND_COALESCED
                                                  : PMO__DELIVERY_KIND__DELIVERY_KIND_EVENT;
    d->id = (char *)args.delivery_id;
    *route = args;
    return route;
}

//  The routes of one event, once per matching channel, added to routes
//  (*n of them so far; room for every subscription; matched too).
static void s_route_event (notifier_t *self, Pmo__Event *event, const char **matched,
                           pmo_arena_t *arena, int64_t now, const notifier_route_args_t **routes,
                           size_t *n)
{
    if (event->body_case == PMO__EVENT__BODY_PROJECT && event->project->id)
        s_remember_project (self, event, arena);
    if (notifier_event_folded (event)) {
        self->skipped++;
        return;
    }
    const char *pid = notifier_event_project (event);
    Pmo__Notice *notice = notifier_notice (event, self->config.dashboard_url,
                                           *pid ? zhash_lookup (self->projects, pid) : NULL, arena);
    //  Channels wanting it, each with when its quiet hours end: 0 as soon
    //  as one subscription to it is not quiet now
    size_t n_matched = 0;
    int64_t *quiet = pmo_arena_alloc (arena, (self->n_subs + 1) * sizeof (int64_t));
    for (size_t s = 0; s < self->n_subs; s++) {
        Pmo__Subscription *sub = self->subs[s];
        if (!notifier_subscription_matches (sub, notice))
            continue;
        int64_t until = notifier_quiet_until (sub->quiet_hours, now);
        size_t m = 0;
        while (m < n_matched && !streq (matched[m], sub->channel_id))
            m++;
        if (m == n_matched) {
            matched[n_matched++] = sub->channel_id;
            quiet[m] = until;
        } else if (!until || !quiet[m])
            quiet[m] = 0;
        else if (until < quiet[m])
            quiet[m] = until;
    }
    for (size_t m = 0; m < n_matched; m++) {
        channel_state_t *st = zhash_lookup (self->channels, matched[m]);
        //  a disabled or archived channel receives nothing meanwhile
        if (!st || st->channel->archived || st->channel->disabled)
            continue;
        routes[(*n)++] = s_route_to (st->channel, event, notice, arena, now, quiet[m]);
    }
}

//  A batch of entries whose routes were sent on the routing connection;
//  acknowledged when every answer has come
struct _notifier_routing_t {
    pmo_arena_t *arena;
    pmo_stream_batch_t batch;
    notifier_route_pending_t *pending; //  NULL: nothing could be sent
    int *results;
    size_t n_routes;
    const char **divisions; //  of the routes (copied: the cache may change meanwhile)
    size_t answered;        //  calls answered when last looked at ...
    int64_t deadline_ms;    //  ... and when the next must have come (monotonic)
};

//  Acknowledge the batch if every one of its queued routes succeeded
//  (results), and look at the divisions it routed to. Returns entries
//  handled.
static size_t s_acknowledge (notifier_t *self, const pmo_stream_batch_t *batch, const int *results,
                             size_t queued, const char *const *divisions, pmo_arena_t *arena)
{
    bool all_ok = true;
    for (size_t r = 0; r < queued; r++)
        all_ok = all_ok && results[r] == 0;
    //  Acknowledge what was routed (or needs no route); anything else stays
    //  pending and is taken over again after reclaim_ms
    size_t handled = 0;
    const char **streams = pmo_arena_alloc (arena, batch->count * sizeof (char *));
    const char **ids = pmo_arena_alloc (arena, batch->count * sizeof (char *));
    if (all_ok) {
        for (size_t e = 0; e < batch->count; e++) {
            streams[handled] = batch->entries[e].stream;
            ids[handled++] = batch->entries[e].id;
        }
        self->routed += queued;
        if (notifier_store_ack (self->store, GROUP, streams, ids, handled))
            pmo_warn ("notifier: acknowledging failed (entries will be re-read, routing is "
                      "idempotent)");
    } else
        pmo_warn ("notifier: routing failed for a batch of %zu events; they stay pending",
                  batch->count);
    //  New deliveries (or ones that may be): their divisions are looked at now
    for (size_t r = 0; r < queued; r++)
        if (results[r] == 0 && (r == 0 || !streq (divisions[r], divisions[r - 1])))
            notifier_ready_unknown (self, divisions[r]);
    return handled;
}

//  The routes of a batch of entries (in arena; *n of them), with their
//  divisions.
static const notifier_route_args_t **s_routes (notifier_t *self, const pmo_stream_batch_t *batch,
                                               pmo_arena_t *arena, size_t *n,
                                               const char ***divisions)
{
    notifier_cache_fresh (self);
    int64_t now = pmo_now_ms ();
    const char **matched = pmo_arena_alloc (arena, (self->n_subs + 1) * sizeof (char *));
    const notifier_route_args_t **all =
        pmo_arena_alloc (arena, (batch->count * (self->n_subs + 1) + 1) * sizeof (void *));
    *n = 0;
    for (size_t e = 0; e < batch->count; e++) {
        Pmo__Event *event = s_decode (self, &batch->entries[e], arena, now);
        if (event)
            s_route_event (self, event, matched, arena, now, all, n);
    }
    *divisions = pmo_arena_alloc (arena, (*n + 1) * sizeof (char *));
    for (size_t r = 0; r < *n; r++)
        (*divisions)[r] = r && streq (all[r]->division, (*divisions)[r - 1])
                              ? (*divisions)[r - 1]
                              : pmo_arena_strdup (arena, all[r]->division);
    return all;
}

//  Route a batch of entries and acknowledge them, waiting for Redis (clears
//  batch). Returns entries handled.
static size_t s_route_batch (notifier_t *self, pmo_stream_batch_t *batch)
{
    if (batch->count == 0) {
        pmo_stream_batch_clear (batch);
        return 0;
    }
    pmo_arena_t *arena = pmo_arena_new ();
    size_t queued;
    const char **divisions;
    const notifier_route_args_t **all = s_routes (self, batch, arena, &queued, &divisions);
    int *results = pmo_arena_alloc (arena, (queued + 1) * sizeof (int));
    notifier_store_route (self->store, arena, all, queued, results);
    size_t handled = s_acknowledge (self, batch, results, queued, divisions, arena);
    pmo_arena_destroy (&arena);
    pmo_stream_batch_clear (batch);
    return handled;
}

//  Send the routes of a batch of new entries on the routing connection
//  (takes batch): Redis works on them while the loop goes on sending and
//  recording deliveries; notifier_routing_poll acknowledges them.
static void s_route_send (notifier_t *self, pmo_stream_batch_t *batch)
{
    notifier_routing_t *r = calloc (1, sizeof (notifier_routing_t));
    assert (r);
    r->arena = pmo_arena_new ();
    r->batch = *batch;
    *batch = (pmo_stream_batch_t){0};
    const notifier_route_args_t **all =
        s_routes (self, &r->batch, r->arena, &r->n_routes, &r->divisions);
    r->results = pmo_arena_alloc (r->arena, (r->n_routes + 1) * sizeof (int));
    r->pending =
        notifier_store_route_send (self->route_store, r->arena, all, r->n_routes, r->results);
    r->deadline_ms = pmo_mono_ms () + self->config.redis_timeout_ms;
    self->routing = r;
    //  Nothing sent (no routes, or Redis away): done at once
    if (!r->pending || notifier_store_route_poll (self->route_store, r->pending, false))
        notifier_routing_poll (self);
}

int notifier_routing_fd (notifier_t *self)
{
    return self->routing ? notifier_store_fd (self->route_store) : -1;
}

int notifier_routing_wait_ms (notifier_t *self)
{
    if (!self->routing)
        return 1000;
    int64_t left = self->routing->deadline_ms - pmo_mono_ms ();
    return left < 0 ? 0 : (int)left;
}

size_t notifier_routing_poll (notifier_t *self)
{
    notifier_routing_t *r = self->routing;
    if (!r)
        return 0;
    int done = r->pending ? notifier_store_route_poll (self->route_store, r->pending, false) : 1;
    if (!done) {
        //  Each answer must come within the Redis deadline of the one before
        size_t answered = notifier_store_route_answered (r->pending);
        if (answered > r->answered) {
            r->answered = answered;
            r->deadline_ms = pmo_mono_ms () + self->config.redis_timeout_ms;
        } else if (pmo_mono_ms () > r->deadline_ms) {
            notifier_store_drop (self->route_store, "routing answers did not come in time");
            done = notifier_store_route_poll (self->route_store, r->pending, false);
        }
        if (!done)
            return 0;
    }
    size_t handled =
        s_acknowledge (self, &r->batch, r->results, r->n_routes, r->divisions, r->arena);
    notifier_routing_free (&self->routing);
    return handled;
}

void notifier_routing_free (notifier_routing_t **self_p)
{
    notifier_routing_t *r = *self_p;
    if (!r)
        return;
    //  (a batch never acknowledged stays pending: reclaimed, at least once)
    pmo_stream_batch_clear (&r->batch);
    pmo_arena_destroy (&r->arena);
    free (r);
    *self_p = NULL;
}

size_t notifier_consume (notifier_t *self)
{
    if (self->routing)
        return 0; //  one batch on its way at a time; the next read waits
    pmo_stream_batch_t batch;
    int rc = pmo_stream_reader_take (self->reader, &batch);
    if (rc == 1) {
        self->counters.stream_reads++;
        self->counters.stream_entries += batch.count;
    }
    if (rc < 0)
        //  a stream or its group may be gone (Redis restarted empty)
        self->groups_ok = false;
    if (rc != 1)
        return 0;
    size_t count = batch.count;
    s_route_send (self, &batch);
    return count;
}

void notifier_reclaim (notifier_t *self)
{
    if (!self->n_streams || s_groups_ensure (self))
        return;
    //  The whole first pass at start (what this consumer's predecessor
    //  left), then a few streams a step
    size_t max = self->reclaim_passed < self->n_streams ? self->n_streams : RECLAIM_STREAMS;
    pmo_stream_batch_t batch;
    if (notifier_store_reclaim_events (
            self->store, GROUP, self->config.consumer, (const char *const *)self->streams,
            self->n_streams, &self->reclaim_cursor, max, BATCH, self->config.reclaim_ms, &batch)) {
        self->groups_ok = false;
        return;
    }
    self->reclaim_passed += max;
    s_route_batch (self, &batch);
}
