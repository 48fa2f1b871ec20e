/*  notifier_deliveries.c: deliveries: the requests people make about them
    (list, get, retry, discard) and the delivery loop that sends them.

    The loop claims what is due per channel within the channel's rate
    limit (a token bucket) and in-flight limits, formats and signs each
    message, hands it to libcurl multi (notifier_send.c), and records every
    attempt: delivered, due again after a backoff, or dead-lettered (410
    also disables the channel).
*/
#include "notifier_internal.h"

#include "pmo_log.h"
#include "pmo_reflect.h"

#include <assert.h>
#include <string.h>

#define TICK_MS 25 //  a due channel without tokens (or room anywhere) is tried again this soon
//  Outcomes wait this long to be recorded together with the next claims, and
//  the channels they make room on are claimed from then: on a quiet machine
//  the transfers end one by one, and recording and claiming after each
//  would make every script call, round trip and wake-up carry one delivery
//  (not once nothing is in flight any more: no outcome can come to gather)
#define GATHER_MS 2
#define TRIM_MS   1000 //  a channel's done set is trimmed this often, at most

#define LIST_DEFAULT 50
#define LIST_MAX     500

//  ---------------------------------------------------------------------
//  Requests about deliveries

void notifier_handle_list_deliveries (notifier_t *self, pmo_request_t *req,
                                      Pmo__ListDeliveriesRequest *list)
{
    if (list->limit > LIST_MAX)
        return (void)FAIL (req, INVALID, "list_deliveries.limit", "limit is at most %d", LIST_MAX);
    Pmo__DeliveryState state =
        list->state ? list->state : PMO__DELIVERY_STATE__DELIVERY_STATE_PENDING;
    size_t limit = list->limit ? list->limit : LIST_DEFAULT;
    Pmo__DeliveryPage *page = pmo_arena_alloc (req->arena, sizeof (Pmo__DeliveryPage));
    pmo__delivery_page__init (page);
    pmo_reflect_set_oneof (req->reply, "deliveries", &page->base);
    //  Which channels: one, or all the caller may see (cursor "<channel>|<score>")
    char cursor_channel[64] = "";
    const char *cursor_score = "";
    if (!pmo_str_empty (list->cursor)) {
        const char *bar = strchr (list->cursor, '|');
        if (!bar || (size_t)(bar - list->cursor) >= sizeof cursor_channel)
            return (void)FAIL (req, INVALID, "list_deliveries.cursor",
                               "cursor is not one this service returned");
        memcpy (cursor_channel, list->cursor, (size_t)(bar - list->cursor));
        cursor_channel[bar - list->cursor] = 0;
        cursor_score = bar + 1;
    }
    Pmo__Channel **channels;
    size_t n_channels = 0;
    if (!pmo_str_empty (list->channel_id)) {
        Pmo__Channel *ch = (Pmo__Channel *)notifier_fetch (
            self, req, NOTIFIER_CHANNEL, list->channel_id, "list_deliveries.channel_id", NULL);
        if (!ch)
            return;
        channels = pmo_arena_alloc (req->arena, sizeof (void *));
        channels[n_channels++] = ch;
    } else {
        if (!self->org_loaded && notifier_org_refresh (self))
            return pmo_request_unavailable (req, "the registry (org units)");
        size_t max = 16;
        channels = pmo_arena_alloc (req->arena, max * sizeof (void *));
        for (char *d = zlist_first (self->divisions); d; d = zlist_next (self->divisions)) {
            ProtobufCMessage **msgs;
            size_t n;
            if (notifier_store_list (self->store, req->arena, NOTIFIER_CHANNEL, d, &msgs, &n))
                return pmo_request_unavailable (req, "the notifier's store (Redis)");
            for (size_t i = 0; i < n; i++) {
                Pmo__Channel *ch = (Pmo__Channel *)msgs[i];
                if (!pmo_access_allowed (pmo_request_who (req), notifier_roles (), NOTIFIER_READ,
                                         ch->org_unit_path))
                    continue;
                if (n_channels == max) {
                    Pmo__Channel **bigger = pmo_arena_alloc (req->arena, 2 * max * sizeof (void *));
                    memcpy (bigger, channels, max * sizeof (void *));
                    channels = bigger;
                    max *= 2;
                }
                channels[n_channels++] = ch;
            }
        }
    }
    bool resuming = *cursor_channel != 0;
    for (size_t c = 0; c < n_channels && page->n_deliveries < limit; c++) {
        const char *after = "";
        if (resuming) {
            if (!streq (channels[c]->id, cursor_channel))
                continue;
            resuming = false;
            after = cursor_score;
        }
        Pmo__Delivery **found;
        size_t n;
        char *next;
        if (notifier_store_deliveries (self->store, req->arena, channels[c]->id, state, after,
                                       limit - page->n_deliveries, &found, &n, &next))
            return pmo_request_unavailable (req, "the notifier's store (Redis)");
        for (size_t i = 0; i < n; i++)
            pmo_reflect_append (&page->base, "deliveries", &found[i]->base, req->arena);
        if (*next) {
            page->next_cursor = pmo_arena_printf (req->arena, "%s|%s", channels[c]->id, next);
            return;
        }
        if (page->n_deliveries >= limit && c + 1 < n_channels) {
            page->next_cursor = pmo_arena_printf (req->arena, "%s|", channels[c + 1]->id);
            return;
        }
    }
}

//  A delivery the caller names, with its channel (for the path).
static Pmo__Delivery *s_fetch_delivery (notifier_t *self, pmo_request_t *req, const char *id,
                                        const char *field, bool notices, uint64_t *version,
                                        Pmo__Channel **channel)
{
    if (pmo_str_empty (id)) {
        FAIL (req, INVALID, field, "%s is required", field);
        return NULL;
    }
    Pmo__Delivery *d = NULL;
    uint64_t v = 0;
    int rc = notifier_store_delivery (self->store, req->arena, id, notices, &d, &v);
    if (rc < 0) {
        pmo_request_unavailable (req, "the notifier's store (Redis)");
        return NULL;
    }
    Pmo__Channel *ch = NULL;
    if (rc == 1) {
        ProtobufCMessage *msg = NULL;
        int got = notifier_store_read (self->store, req->arena, NOTIFIER_CHANNEL, d->channel_id,
                                       &msg, NULL);
        if (got < 0) {
            pmo_request_unavailable (req, "the notifier's store (Redis)");
            return NULL;
        }
        ch = (Pmo__Channel *)msg;
    }
    if (!d || !ch ||
        !pmo_access_allowed (pmo_request_who (req), notifier_roles (), NOTIFIER_READ,
                             ch->org_unit_path)) {
        FAIL (req, NOT_FOUND, field, "no delivery with id '%.64s'", id);
        return NULL;
    }
    if (version)
        *version = v;
    *channel = ch;
    return d;
}

void notifier_handle_get_delivery (notifier_t *self, pmo_request_t *req, Pmo__DeliveryRef *ref)
{
    Pmo__Channel *ch;
    Pmo__Delivery *d = s_fetch_delivery (self, req, ref->id, "get_delivery.id", true, NULL, &ch);
    if (d)
        pmo_reflect_set_oneof (req->reply, "delivery", &d->base);
}

void notifier_handle_delivery_change (notifier_t *self, pmo_request_t *req, Pmo__DeliveryRef *ref,
                                      bool retry)
{
    const char *field = retry ? "retry_delivery.id" : "discard_delivery.id";
    uint64_t version;
    Pmo__Channel *ch;
    Pmo__Delivery *d = s_fetch_delivery (self, req, ref->id, field, false, &version, &ch);
    if (!d || !pmo_request_may (req, notifier_roles (), NOTIFIER_MANAGE, ch->org_unit_path,
                                retry ? "retry deliveries" : "discard deliveries"))
        return;
    if (notifier_store_replayed (self->store, req, d->division))
        return;
    if (!pmo_request_version_matches (req, "version", "delivery", ref->version, version))
        return;
    bool dead = d->state == PMO__DELIVERY_STATE__DELIVERY_STATE_DEAD;
    bool pending = d->state == PMO__DELIVERY_STATE__DELIVERY_STATE_PENDING;
    if (!dead && !pending)
        return (void)FAIL (req, FAILED_PRECONDITION, field, "delivery '%s' is already %s", d->id,
                           d->state == PMO__DELIVERY_STATE__DELIVERY_STATE_DELIVERED ? "delivered"
                                                                                     : "discarded");
    if (d->in_flight)
        return (void)FAIL (req, FAILED_PRECONDITION, field,
                           "delivery '%s' is being sent right now; try again in a moment", d->id);
    int64_t now = pmo_now_ms ();
    d->version = version + 1;
    pmo_commit_t *commit = pmo_commit_new (d->division, req->header->request_id);
    if (retry) {
        d->state = PMO__DELIVERY_STATE__DELIVERY_STATE_PENDING;
        d->due_ms = now;
        d->done_ms = 0;
        notifier_store_retry (self->store, commit, req->arena, d, version, now);
    } else {
        d->state = PMO__DELIVERY_STATE__DELIVERY_STATE_DISCARDED;
        d->done_ms = now;
        notifier_store_discard (self->store, commit, req->arena, d, version, now);
    }
    Pmo__Event *event = notifier_event (
        req->arena, retry ? "delivery.retried" : "delivery.discarded", d->division, ch->org_unit,
        ch->org_unit_path, d->id, d->version, pmo_request_who (req), req->header->request_id);
    pmo_reflect_set_oneof (&event->base, "delivery", &d->base);
    pmo_reflect_set_oneof (req->reply, "delivery", &d->base);
    notifier_commit (self, req, commit, d->division, event);
    if (!pmo_request_failed (req)) {
        if (!retry)
            notifier_store_expire (self->store, d->id);
        self->tick_now = true;
        pmo_info ("notifier: delivery %s id=%s by=%s", retry ? "retried" : "discarded", d->id,
                  pmo_request_who (req)->subject);
    }
}

//  ---------------------------------------------------------------------
//  The delivery loop

//  Refill the channel's token bucket; true if one message may go now.
static bool s_has_token (channel_state_t *st)
{
    uint32_t rate = notifier_rate_per_minute (st->channel);
    if (rate == 0)
        return true;
    int64_t now = pmo_mono_ms ();
    //  a burst of one second's worth (at least one message)
    double burst = rate / 60.0 < 1 ? 1 : rate / 60.0;
    st->tokens += (double)(now - st->refill_ms) * rate / 60000.0;
    if (st->tokens > burst)
        st->tokens = burst;
    st->refill_ms = now;
    return st->tokens >= 1;
}

void notifier_transfer_free (void *tag)
{
    transfer_t *t = tag;
    pmo_arena_destroy (&t->arena);
    free (t);
}

static void s_start (notifier_t *self, channel_state_t *st, notifier_claimed_t *c,
                     pmo_arena_t *tick)
{
    Pmo__Channel *ch = st->channel;
    transfer_t *t = calloc (1, sizeof (transfer_t));
    assert (t);
    t->arena = pmo_arena_new ();
    t->delivery = (Pmo__Delivery *)pmo_reflect_copy (&c->delivery->base, t->arena);
    t->delivery->notice_count = c->total;
    t->version = c->version;
    snprintf (t->channel_id, sizeof t->channel_id, "%s", ch->id);
    t->smtp = ch->kind == PMO__CHANNEL_KIND__CHANNEL_KIND_EMAIL;
    int64_t now = pmo_now_ms ();
    notifier_message_t msg = {
        .kind = c->delivery->kind,
        .delivery_id = c->delivery->id,
        .notices = c->notices,
        .n_notices = c->n_notices,
        .total = c->total > c->n_notices ? c->total : (uint32_t)c->n_notices,
        .period = ch->digest,
        .coalesce_s = notifier_coalesce_ms (ch) / 1000,
        .dashboard = self->config.dashboard_url,
    };
    //  Slack Web API: a project's messages go into its thread, started by
    //  the first one (its ts kept when it is delivered)
    t->slack_api = ch->kind == PMO__CHANNEL_KIND__CHANNEL_KIND_SLACK_API;
    if (t->slack_api && c->n_notices && *c->notices[0]->project_id &&
        (c->delivery->kind == PMO__DELIVERY_KIND__DELIVERY_KIND_EVENT ||
         c->delivery->kind == PMO__DELIVERY_KIND__DELIVERY_KIND_COALESCED)) {
        snprintf (t->project, sizeof t->project, "%s", c->notices[0]->project_id);
        msg.thread_ts = notifier_store_thread (self->store, tick, ch->division, ch->id, t->project);
        t->threaded = msg.thread_ts != NULL;
    }
    notifier_payload_t payload;
    int rc = t->smtp ? notifier_format_email (ch, &msg, now, tick, &payload)
                     : notifier_format (ch, &msg, tick, &payload);
    notifier_send_request_t request = {.tag = t};
    const char *headers[8];
    size_t n_headers = 0;
    const char *problem = NULL;
    if (rc)
        problem = "the message could not be formatted (invalid text in the event)";
    else if (t->smtp) {
        request.smtp = true;
        request.url = ch->smtp_url;
        request.user = ch->smtp_user;
        request.password = ch->smtp_password;
        request.mail_from = ch->mail_from;
        request.rcpt = (const char *const *)ch->mail_to;
        request.n_rcpt = ch->n_mail_to;
    } else {
        request.url = *payload.query
                          ? pmo_arena_printf (tick, "%s%s%s", ch->url,
                                              strchr (ch->url, '?') ? "&" : "?", payload.query)
                          : ch->url;
        headers[n_headers++] = pmo_arena_printf (tick, "Content-Type: %s%s", payload.content_type,
                                                 t->slack_api ? "; charset=utf-8" : "");
        if (t->slack_api) {
            const char *base = pmo_str_empty (ch->url) ? NOTIFIER_SLACK_API : ch->url;
            size_t blen = strlen (base);
            request.url =
                pmo_arena_printf (tick, "%.*s/chat.postMessage",
                                  (int)(blen && base[blen - 1] == '/' ? blen - 1 : blen), base);
            headers[n_headers++] =
                pmo_arena_printf (tick, "Authorization: Bearer %s", ch->bot_token);
        }
        if (ch->kind == PMO__CHANNEL_KIND__CHANNEL_KIND_WEBHOOK) {
            //  Standard Webhooks: the id stays across retries, the
            //  timestamp is this attempt's, the signature covers both
            int64_t ts = now / 1000;
            char *signature = notifier_sign (c->delivery->id, ts, payload.body, payload.size,
                                             ch->signing_secrets, ch->n_signing_secrets, now, tick);
            if (!signature)
                problem = "no signing secret in force: rotate in a new one";
            headers[n_headers++] = pmo_arena_printf (tick, "webhook-id: %s", c->delivery->id);
            headers[n_headers++] =
                pmo_arena_printf (tick, "webhook-timestamp: %lld", (long long)ts);
            headers[n_headers++] =
                pmo_arena_printf (tick, "webhook-signature: %s", signature ? signature : "");
        }
        request.headers = headers;
        request.n_headers = n_headers;
    }
    st->in_flight++;
    self->in_flight++;
    if (problem) {
        notifier_send_result_t result = {.tag = t, .status = 0};
        snprintf (result.error, sizeof result.error, "refused by policy: %s", problem);
        notifier_finish (self, t, &result);
        return;
    }
    request.body = payload.body;
    request.size = payload.size;
    notifier_send_start (self->send, &request);
    pmo_debug ("notifier: sending delivery=%s channel=%s bytes=%zu notices=%zu/%u", c->delivery->id,
               ch->id, payload.size, payload.shown, msg.total);
}

//  Disable a channel whose endpoint said it is gone (410), with its event.
static void s_disable_channel (notifier_t *self, const char *channel_id, const char *why,
                               const char *request_id)
{
    pmo_arena_t *arena = pmo_arena_new ();
    ProtobufCMessage *msg = NULL;
    uint64_t version;
    if (notifier_store_read (self->store, arena, NOTIFIER_CHANNEL, channel_id, &msg, &version) ==
        1) {
        Pmo__Channel *ch = (Pmo__Channel *)msg;
        if (!ch->disabled) {
            ch->disabled = true;
            ch->disabled_reason = pmo_arena_printf (arena, "%s (at %s)", why,
                                                    notifier_rfc3339 (pmo_now_ms (), arena));
            ch->version = version + 1;
            ch->updated_ms = pmo_now_ms ();
            pmo_commit_t *commit = pmo_commit_new (ch->division, request_id);
            notifier_store_put (self->store, commit, arena, NOTIFIER_CHANNEL, ch->division,
                                &ch->base, version);
            Pmo__Event *event =
                notifier_event (arena, "channel.disabled", ch->division, ch->org_unit,
                                ch->org_unit_path, ch->id, ch->version, NULL, request_id);
            Pmo__Channel *masked = notifier_masked (arena, ch);
            pmo_reflect_set_oneof (&event->base, "channel", &masked->base);
            notifier_store_event (self->store, commit, arena, ch->division, event);
            pmo_commit_reply (commit, "", 0, IDEM_TTL_S);
            pmo_commit_result_t result;
            notifier_store_commit (self->store, commit, &result);
            pmo_commit_destroy (&commit);
            pmo_commit_result_clear (&result);
            pmo_warn ("notifier: channel disabled id=%s reason=\"%s\"", ch->id, why);
            channel_state_t *st = zhash_lookup (self->channels, ch->id);
            if (st)
                st->channel->disabled = true;
        }
    }
    pmo_arena_destroy (&arena);
}

//  What a transfer's outcome makes of its delivery (t->delivery updated,
//  t->finish, due_ms, now_ms and event set), with what must happen at once
//  (a Slack thread kept, a gone channel disabled). False if there is
//  nothing to record: a click's answer (t freed).
static bool s_finish_prepare (notifier_t *self, transfer_t *t, const notifier_send_result_t *result)
{
    if (!t->delivery) {
        notifier_chat_sent (self, t, result);
        return false;
    }
    //  Its slot is free at once (the lease keeps the delivery from being
    //  claimed again until the outcome is recorded); a retry, the next of
    //  the channel's deliveries or room for more are looked at with the
    //  outcomes that end meanwhile
    channel_state_t *slot = zhash_lookup (self->channels, t->channel_id);
    if (slot)
        slot->in_flight--;
    self->in_flight--;
    //  ... but once the last transfer in flight has ended there is nothing
    //  more to gather: waiting out GATHER_MS then only leaves the loop idle
    //  between a batch's outcomes and the next claims
    notifier_ready_by (self, t->delivery->division,
                       pmo_now_ms () + (self->in_flight ? GATHER_MS : 0));
    Pmo__Delivery *d = t->delivery;
    pmo_arena_t *arena = t->arena;
    int64_t now = pmo_now_ms ();
    notifier_verdict_t verdict;
    char ts[64] = "";
    if (t->smtp)
        notifier_classify_smtp (result->status, result->error, &verdict);
    else if (t->slack_api)
        notifier_classify_slack_api (result->status, result->error, result->body, result->location,
                                     &verdict, ts, sizeof ts);
    else
        notifier_classify_http (result->status, result->error, result->location, &verdict);
    if (verdict.outcome == NOTIFIER_DELIVERED && *ts && *t->project && !t->threaded &&
        notifier_store_thread_start (self->store, d->division, t->channel_id, t->project, ts))
        pmo_warn ("notifier: could not keep the thread of project=%s channel=%s (Redis)",
                  t->project, t->channel_id);
    //  Record the attempt (the latest few kept; attempt_count counts all)
    Pmo__Attempt *attempt = pmo_arena_alloc (arena, sizeof (Pmo__Attempt));
    pmo__attempt__init (attempt);
    attempt->time_ms = now - result->duration_ms;
    attempt->status = (uint32_t)result->status;
    attempt->error =
        verdict.outcome == NOTIFIER_DELIVERED ? "" : pmo_arena_strdup (arena, verdict.reason);
    attempt->duration_ms = (uint32_t)result->duration_ms;
    int64_t retry_after = notifier_retry_after_ms (result->retry_after, now);
    attempt->retry_after_ms = retry_after > 0 ? retry_after : 0;
    size_t keep =
        d->n_attempts < NOTIFIER_ATTEMPTS_KEPT ? d->n_attempts : NOTIFIER_ATTEMPTS_KEPT - 1;
    Pmo__Attempt **attempts = pmo_arena_alloc (arena, (keep + 1) * sizeof (void *));
    if (keep)
        memcpy (attempts, d->attempts + (d->n_attempts - keep), keep * sizeof (void *));
    attempts[keep] = attempt;
    d->attempts = attempts;
    d->n_attempts = keep + 1;
    d->attempt_count++;
    d->notices = NULL;
    d->n_notices = 0;
    d->in_flight = false;

    notifier_finish_t finish = NOTIFIER_FINISH_DEAD;
    int64_t due = 0;
    channel_state_t *st = zhash_lookup (self->channels, t->channel_id);
    switch (verdict.outcome) {
    case NOTIFIER_DELIVERED:
        finish = NOTIFIER_FINISH_DELIVERED;
        d->state = PMO__DELIVERY_STATE__DELIVERY_STATE_DELIVERED;
        d->done_ms = now;
        d->last_error = "";
        self->delivered++;
        break;
    case NOTIFIER_RETRY:
        self->failed++;
        if (d->attempt_count >= (uint32_t)self->config.max_attempts) {
            d->state = PMO__DELIVERY_STATE__DELIVERY_STATE_DEAD;
            d->done_ms = now;
            d->last_error = pmo_arena_printf (arena, "gave up after %u attempts; last: %s",
                                              d->attempt_count, verdict.reason);
            break;
        }
        finish = NOTIFIER_FINISH_RETRY;
        int64_t wait = notifier_backoff_ms (d->attempt_count, self->config.retry_base_ms,
                                            self->config.retry_max_ms,
                                            (double)random () / ((double)RAND_MAX + 1));
        //  The endpoint's own word wins when it asks for longer
        if (retry_after > wait)
            wait = retry_after;
        due = now + wait;
        d->due_ms = due;
        d->last_error = pmo_arena_strdup (arena, verdict.reason);
        if (verdict.throttle && st && now + wait > st->paused_until)
            st->paused_until = now + wait;
        break;
    case NOTIFIER_DISABLE:
        s_disable_channel (self, t->channel_id, verdict.reason,
                           pmo_arena_printf (arena, "disable-%s-%u", d->id, d->attempt_count));
        //  fall through
    case NOTIFIER_DEAD:
        d->state = PMO__DELIVERY_STATE__DELIVERY_STATE_DEAD;
        d->done_ms = now;
        d->last_error = pmo_arena_strdup (arena, verdict.reason);
        break;
    }
    Pmo__Event *event = NULL;
    if (d->state == PMO__DELIVERY_STATE__DELIVERY_STATE_DEAD) {
        self->dead++;
        //  The event is packed when the outcome is recorded, after a
        //  configuration reload may have freed the cached channel: its
        //  unit is copied, not pointed at
        const Pmo__Channel *ch = st ? st->channel : NULL;
        event = notifier_event (arena, "delivery.dead_lettered", d->division,
                                ch ? pmo_arena_strdup (arena, ch->org_unit) : "",
                                ch ? pmo_arena_strdup (arena, ch->org_unit_path) : "", d->id,
                                t->version + 1, NULL, "");
        pmo_reflect_set_oneof (&event->base, "delivery", &d->base);
        pmo_warn ("notifier: dead letter delivery=%s channel=%s attempts=%u reason=\"%s\"", d->id,
                  t->channel_id, d->attempt_count, d->last_error);
    } else if (verdict.outcome == NOTIFIER_RETRY)
        pmo_info ("notifier: retry delivery=%s channel=%s attempt=%u in_ms=%lld reason=\"%s\"",
                  d->id, t->channel_id, d->attempt_count, (long long)(due - now), verdict.reason);
    d->version = t->version + 1;
    t->finish = finish;
    t->due_ms = due;
    t->now_ms = now;
    t->event = event;
    return true;
}

//  The finish items of n prepared transfers (in arena).
static notifier_finish_item_t *s_finish_items (notifier_t *self, transfer_t **ts, size_t n,
                                               pmo_arena_t *arena)
{
    notifier_finish_item_t *items =
        pmo_arena_alloc (arena, (n + 1) * sizeof (notifier_finish_item_t));
    int64_t mono = pmo_mono_ms ();
    for (size_t i = 0; i < n; i++) {
        transfer_t *t = ts[i];
        //  the channel's done set loses what is older than it keeps, now
        //  and then rather than with every delivery
        channel_state_t *st = zhash_lookup (self->channels, t->channel_id);
        bool trim = st && mono - st->trimmed_ms >= TRIM_MS;
        if (trim)
            st->trimmed_ms = mono;
        items[i] = (notifier_finish_item_t){
            .delivery = t->delivery,
            .expect = t->version,
            .finish = t->finish,
            .due_ms = t->due_ms,
            .now_ms = t->now_ms,
            .event = t->event,
            .trim = trim,
        };
    }
    return items;
}

//  Say what became of n recorded outcomes (results), look at the divisions
//  they make due again, and free them.
static void s_finish_done (notifier_t *self, transfer_t **ts, size_t n, const int *results)
{
    for (size_t i = 0; i < n; i++) {
        transfer_t *t = ts[i];
        if (results[i] < 0)
            //  the lease runs out and the delivery is tried again: at least once
            pmo_warn ("notifier: could not record attempt delivery=%s (Redis); it will be retried",
                      t->delivery->id);
        else if (results[i] == 1) {
            pmo_info ("notifier: delivery=%s changed by an operator during the attempt",
                      t->delivery->id);
            notifier_ready_unknown (self, t->delivery->division);
        } else if (t->finish == NOTIFIER_FINISH_RETRY)
            //  (recorded after the claims that read the division's next due time)
            notifier_ready_by (self, t->delivery->division, t->due_ms);
        pmo_arena_destroy (&t->arena);
        free (t);
    }
}

//  Outcomes on their way on the delivery connection, their answers awaited
//  in the loop's poll (one batch at a time)
struct _notifier_recording_t {
    pmo_arena_t *arena;
    transfer_t **ts; //  owned
    size_t n;
    notifier_finish_item_t *items;
    int *results;
    size_t *runs; //  the first item of each call, then n
    size_t calls, answered;
    int64_t deadline_ms; //  monotonic: the next answer must have come by then
};

static void s_recording_send (notifier_t *self);

//  The batch on its way is answered (or never will be): done with it, and
//  the outcomes that ended meanwhile go now (not at the next tick, which may
//  be far off: their leases must not run out first).
static void s_recording_end (notifier_t *self)
{
    notifier_recording_t *r = self->recording;
    s_finish_done (self, r->ts, r->n, r->results);
    pmo_arena_destroy (&r->arena);
    free (r);
    self->recording = NULL;
    s_recording_send (self);
}

//  Send the outcomes gathered so far on the delivery connection, unless a
//  batch is still on its way (they go with the next).
static void s_recording_send (notifier_t *self)
{
    if (self->recording || !self->n_finishing)
        return;
    notifier_recording_t *r = calloc (1, sizeof (notifier_recording_t));
    assert (r);
    r->arena = pmo_arena_new ();
    r->n = self->n_finishing;
    r->ts = pmo_arena_alloc (r->arena, r->n * sizeof (transfer_t *));
    memcpy (r->ts, self->finishing, r->n * sizeof (transfer_t *));
    self->n_finishing = 0;
    r->items = s_finish_items (self, r->ts, r->n, r->arena);
    r->results = pmo_arena_alloc (r->arena, r->n * sizeof (int));
    r->calls = notifier_store_finish_queue (self->tick_store, r->arena, r->items, r->n, r->results,
                                            &r->runs);
    r->deadline_ms = pmo_mono_ms () + self->config.redis_timeout_ms;
    self->recording = r;
    if (r->calls && notifier_store_push (self->tick_store))
        r->calls = 0; //  dropped: nothing will answer
    notifier_recording_poll (self, false);
}

int notifier_recording_fd (notifier_t *self)
{
    return self->recording ? notifier_store_fd (self->tick_store) : -1;
}

int notifier_recording_wait_ms (notifier_t *self)
{
    if (!self->recording)
        return 1000;
    int64_t left = self->recording->deadline_ms - pmo_mono_ms ();
    return left < 0 ? 0 : (int)left;
}

void notifier_recording_poll (notifier_t *self, bool wait)
{
    notifier_recording_t *r = self->recording;
    if (!r)
        return;
    while (r->answered < r->calls) {
        redisReply *reply = NULL;
        int rc = wait ? ((reply = pmo_redis_pipe_reply (self->tick_redis)) ? 1 : -1)
                      : notifier_store_poll (self->tick_store, &reply);
        if (rc == 0) {
            if (pmo_mono_ms () <= r->deadline_ms)
                return;
            notifier_store_drop (self->tick_store, "outcome answers did not come in time");
            rc = -1;
        }
        if (rc < 0)
            //  the connection is gone, and the answers still owed with it
            break;
        notifier_store_finish_take (self->tick_store, r->items, r->runs, r->answered++, r->results,
                                    reply);
        r->deadline_ms = pmo_mono_ms () + self->config.redis_timeout_ms;
    }
    s_recording_end (self);
}

//  Record the outcomes of n prepared transfers, waiting (one script call
//  per division, one round trip to Redis for all of them), then free them.
static void s_finish_record (notifier_t *self, transfer_t **ts, size_t n)
{
    if (!n)
        return;
    pmo_arena_t *arena = pmo_arena_new ();
    notifier_finish_item_t *items = s_finish_items (self, ts, n, arena);
    int *results = pmo_arena_alloc (arena, n * sizeof (int));
    notifier_store_finish (self->tick_store, arena, items, n, results);
    s_finish_done (self, ts, n, results);
    pmo_arena_destroy (&arena);
}

//  Keep a prepared outcome for the next tick's record.
static void s_finish_keep (notifier_t *self, transfer_t *t)
{
    if (self->n_finishing == self->max_finishing) {
        self->max_finishing = self->max_finishing ? 2 * self->max_finishing : 64;
        self->finishing = realloc (self->finishing, self->max_finishing * sizeof (transfer_t *));
        assert (self->finishing);
    }
    self->finishing[self->n_finishing++] = t;
}

void notifier_finish (notifier_t *self, transfer_t *t, const notifier_send_result_t *result)
{
    if (s_finish_prepare (self, t, result))
        s_finish_keep (self, t);
}

void notifier_finish_results (notifier_t *self)
{
    //  Prepare every outcome now (which may read or write Redis); they are
    //  recorded together at the next tick
    notifier_send_result_t result;
    size_t n = 0;
    while (notifier_send_result (self->send, &result)) {
        n++;
        notifier_finish (self, result.tag, &result);
    }
    if (n) {
        self->counters.curl_passes++;
        self->counters.transfers_done += n;
    }
}

void notifier_finish_flush (notifier_t *self)
{
    //  (what is on its way first, and what it sends when answered)
    while (self->recording)
        notifier_recording_poll (self, true);
    //  (the store splits them into script calls, all in one round trip)
    s_finish_record (self, self->finishing, self->n_finishing);
    self->n_finishing = 0;
}

//  Claim and start what is due, channel by channel, within each channel's
//  rate and in-flight limits: one round trip to find a division's due
//  channels, one for all their claims. The outcomes prepared since the last
//  tick are sent on the delivery connection once the claims have answered
//  (so Redis claims first), and recorded while the loop formats and sends.
void notifier_tick (notifier_t *self)
{
    self->counters.ticks++;
    notifier_cache_fresh (self);
    if (!notifier_store_connected (self->store)) {
        s_recording_send (self);
        return;
    }
    pmo_arena_t *arena = pmo_arena_new ();
    int64_t now = pmo_now_ms ();
    size_t index = 0;
    for (char *div = zlist_first (self->divisions); div;
         div = zlist_next (self->divisions), index++) {
        if (index >= self->n_streams || self->ready_at[index] > now)
            continue; //  nothing due there yet
        char **ids;
        size_t n;
        self->counters.ready_reads++;
        if (notifier_store_ready (self->store, arena, div, now, &ids, &n)) {
            self->ready_at[index] = now + TICK_MS;
            break;
        }
        //  A channel due without room or tokens is tried again soon, or
        //  when one of its transfers ends
        int64_t next = INT64_MAX;
        int global = self->config.max_in_flight - self->in_flight;
        notifier_claim_t *claims = pmo_arena_alloc (arena, (n + 1) * sizeof (notifier_claim_t));
        channel_state_t **states = pmo_arena_alloc (arena, (n + 1) * sizeof (channel_state_t *));
        size_t n_claims = 0;
        for (size_t i = 0; i < n; i++) {
            channel_state_t *st = zhash_lookup (self->channels, ids[i]);
            if (!st || st->channel->disabled || st->channel->archived)
                continue;
            if (st->paused_until > now) {
                next = st->paused_until < next ? st->paused_until : next;
                continue;
            }
            int room = self->config.endpoint_in_flight - st->in_flight;
            if (global < room)
                room = global;
            if (room <= 0 || !s_has_token (st)) {
                //  a transfer of the channel ending makes room (and looks
                //  again); tokens, and room freed on other divisions'
                //  channels, come back with time
                if ((room > 0 || global <= 0) && now + TICK_MS < next)
                    next = now + TICK_MS;
                continue;
            }
            if (notifier_rate_per_minute (st->channel) && room > (int)st->tokens)
                room = (int)st->tokens;
            global -= room;
            claims[n_claims] = (notifier_claim_t){.channel_id = ids[i], .max = (size_t)room};
            states[n_claims++] = st;
        }
        int64_t later = 0;
        int64_t lease = now + self->config.http_timeout_ms + self->config.connect_timeout_ms + 5000;
        if (n_claims)
            notifier_store_claim (self->store, arena, div, now, lease, claims, n_claims, &later);
        else if (notifier_store_next_ready (self->store, div, now, &later))
            later = 0;
        //  Unknown (Redis failed): soon again. Set before the transfers
        //  start: one refused at once is looked at again sooner
        if (!later)
            later = now + TICK_MS;
        self->ready_at[index] = later < next ? later : next;
        s_recording_send (self);
        for (size_t c = 0; c < n_claims; c++)
            for (size_t k = 0; k < claims[c].n; k++) {
                if (notifier_rate_per_minute (states[c]->channel))
                    states[c]->tokens -= 1;
                s_start (self, states[c], &claims[c].claimed[k], arena);
            }
    }
    s_recording_send (self);
    pmo_arena_destroy (&arena);
}
