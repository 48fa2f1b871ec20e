/*  notifier_chat.c: chat that answers back.

    A person clicks a pmo button in Slack or Mattermost; the chat tool
    calls the gateway's /api/v1/chat/{slack|mattermost}/<channel> (no API
    token: the request is authenticated by its chat signature), and the
    gateway hands the raw body and the signature headers here. Then:

    1. The channel's interact secret verifies the click (Slack: the v0
       signature of the whole body within five minutes; Mattermost: the
       button's token, an HMAC only pmo can make). Anything else is
       refused with the reason, and nothing is done.
    2. The clicker's chat user id is looked up in the channel's chat users,
       which a PMO manager of the channel's unit configures: the pmo
       subject and the grants the click carries. An unknown person is
       answered, not obeyed.
    3. The service is called as that person (get the entity for its
       version, then the step), so the service's own role checks decide:
       the risk monitor acknowledges an alert or decides a change request,
       the allocator commits (approved) or rejects an allocation.
    4. The answer: for Slack a POST to the click's response_url (the
       message replaced, its buttons gone, the outcome added; a refusal to
       the clicker alone in the message's thread); for Mattermost the HTTP
       answer itself (the post updated, or an ephemeral refusal).

    The calls are made by the click worker (notifier_act.c), a thread of
    its own, each within --chat-call-ms (1.2 s: two calls a click, under
    Slack's three seconds): the request is taken out of the server engine
    (pmo_server_detach) and answered when the click comes back, so a slow
    service holds up the click, never the deliveries or other requests.
    At most CLICKS_WAITING clicks wait for the worker; more are answered at
    once ("busy").
*/
#include "notifier_internal.h"

#include "pmo_log.h"
#include "pmo_reflect.h"

#include <jansson.h>
#include <string.h>

#define CLICKS_WAITING 64 //  clicks handed to the worker and not back, at most

//  The channel (from the cache, fresh as the generation says, and read
//  again once if it is not there yet: a channel made a moment ago on
//  another replica). NULL if none.
static const Pmo__Channel *s_channel (notifier_t *self, const char *id)
{
    notifier_cache_fresh (self);
    channel_state_t *st = zhash_lookup (self->channels, id);
    if (!st) {
        notifier_cache_reload (self);
        st = zhash_lookup (self->channels, id);
    }
    return st && !st->channel->archived ? st->channel : NULL;
}

static const Pmo__ChatUser *s_chat_user (const Pmo__Channel *ch, const char *user_id)
{
    for (size_t i = 0; i < ch->n_chat_users; i++)
        if (streq (ch->chat_users[i]->chat_user_id, user_id))
            return ch->chat_users[i];
    return NULL;
}

//  Slack hears the outcome at response_url: a POST on the delivery loop's
//  sender (its deadlines and address checks), not waited for.
static void s_respond (notifier_t *self, const char *channel_id, const char *url, const char *body)
{
    transfer_t *t = calloc (1, sizeof (transfer_t));
    assert (t);
    t->arena = pmo_arena_new ();
    snprintf (t->channel_id, sizeof t->channel_id, "%s", channel_id);
    const char *headers[] = {"Content-Type: application/json; charset=utf-8"};
    notifier_send_request_t request = {
        .url = url,
        .headers = headers,
        .n_headers = 1,
        .body = body,
        .size = strlen (body),
        .tag = t,
    };
    self->in_flight++;
    notifier_send_start (self->send, &request);
}

//  Slack Web API: the bot's message replaced by the answer (chat.update
//  takes the conversation, the message's ts, text and blocks).
static void s_update (notifier_t *self, const Pmo__Channel *ch, const char *ts, const char *answer,
                      pmo_arena_t *arena)
{
    json_t *root = json_loads (answer, 0, NULL);
    json_object_del (root, "replace_original");
    json_object_set_new (root, "channel", json_string (ch->slack_channel));
    json_object_set_new (root, "ts", json_string (ts));
    char *body = json_dumps (root, JSON_COMPACT);
    json_decref (root);
    transfer_t *t = calloc (1, sizeof (transfer_t));
    assert (t);
    t->arena = pmo_arena_new ();
    snprintf (t->channel_id, sizeof t->channel_id, "%s", ch->id);
    t->slack_api = true;
    const char *base = pmo_str_empty (ch->url) ? NOTIFIER_SLACK_API : ch->url;
    size_t blen = strlen (base);
    const char *headers[] = {"Content-Type: application/json; charset=utf-8",
                             pmo_arena_printf (arena, "Authorization: Bearer %s", ch->bot_token)};
    notifier_send_request_t request = {
        .url = pmo_arena_printf (arena, "%.*s/chat.update",
                                 (int)(blen && base[blen - 1] == '/' ? blen - 1 : blen), base),
        .headers = headers,
        .n_headers = 2,
        .body = body ? body : "{}",
        .size = body ? strlen (body) : 2,
        .tag = t,
    };
    self->in_flight++;
    notifier_send_start (self->send, &request);
    free (body);
}

void notifier_chat_sent (notifier_t *self, transfer_t *t, const notifier_send_result_t *result)
{
    self->in_flight--;
    notifier_verdict_t verdict;
    char ts[64];
    if (t->slack_api)
        notifier_classify_slack_api (result->status, result->error, result->body, result->location,
                                     &verdict, ts, sizeof ts);
    else
        notifier_classify_http (result->status, result->error, result->location, &verdict);
    if (verdict.outcome == NOTIFIER_DELIVERED)
        pmo_debug ("notifier: chat answer sent channel=%s status=%ld ms=%lld", t->channel_id,
                   result->status, (long long)result->duration_ms);
    else
        pmo_warn ("notifier: chat answer not taken channel=%s status=%ld reason=\"%s\"",
                  t->channel_id, result->status, verdict.reason);
    notifier_transfer_free (t);
}

//  Answer a click: its outcome logged, the message updated (Slack: through
//  response_url or chat.update; Mattermost: in the request's reply). ch may
//  be NULL (archived meanwhile).
static void s_answer_as (notifier_t *self, pmo_request_t *req, const Pmo__Channel *ch,
                         const char *channel_id, Pmo__ChannelKind tool,
                         const notifier_click_t *click, const Pmo__ChatUser *who, bool done,
                         const char *detail)
{
    if (!done)
        self->clicks_refused++;
    pmo_info ("notifier: click channel=%s user=%s subject=%s action=%s target=%s outcome=%s",
              channel_id, click->user_id, who ? who->subject : "-", click->action, click->target,
              done ? "done" : "refused");
    bool slack = tool == PMO__CHANNEL_KIND__CHANNEL_KIND_SLACK;
    char *answer = notifier_click_answer (tool, click, done, detail, req->arena);
    Pmo__ChatAnswer *reply = pmo_arena_alloc (req->arena, sizeof (Pmo__ChatAnswer));
    pmo__chat_answer__init (reply);
    reply->status = 200;
    reply->outcome = done ? "done" : "refused";
    reply->detail = (char *)detail;
    reply->subject = who ? who->subject : "";
    if (slack && done && ch && ch->kind == PMO__CHANNEL_KIND__CHANNEL_KIND_SLACK_API &&
        *click->message_ts)
        //  The bot posted the message: it updates it (chat.update)
        s_update (self, ch, click->message_ts, answer, req->arena);
    else if (slack)
        s_respond (self, channel_id, click->response_url, answer);
    else
        reply->body = answer;
    pmo_reflect_set_oneof (req->reply, "chat_answer", &reply->base);
}

static void s_answer (notifier_t *self, pmo_request_t *req, const Pmo__Channel *ch,
                      Pmo__ChannelKind tool, const notifier_click_t *click,
                      const Pmo__ChatUser *who, bool done, const char *detail)
{
    s_answer_as (self, req, ch, ch->id, tool, click, who, done, detail);
}

void notifier_handle_interact (notifier_t *self, pmo_request_t *req, Pmo__ChatInteraction *in)
{
    const char *id = in->channel_id ? in->channel_id : "";
    const Pmo__Channel *ch = *id ? s_channel (self, id) : NULL;
    bool kind_ok = ch && (ch->kind == in->kind ||
                          (notifier_kind_slack (ch->kind) && notifier_kind_slack (in->kind)));
    if (!kind_ok || pmo_str_empty (ch->interact_secret))
        return (void)FAIL (
            req, NOT_FOUND, "interact.channel_id",
            "no %s channel '%.64s' takes clicks (it needs an interact_secret)",
            in->kind == PMO__CHANNEL_KIND__CHANNEL_KIND_SLACK ? "Slack" : "Mattermost", id);
    const char *body = in->body.data ? (const char *)in->body.data : "";
    //  The body as a string (the bytes field is not terminated)
    char *text = pmo_arena_alloc (req->arena, in->body.len + 1);
    memcpy (text, body, in->body.len);
    text[in->body.len] = 0;
    bool slack = notifier_kind_slack (ch->kind);
    Pmo__ChannelKind tool = slack ? PMO__CHANNEL_KIND__CHANNEL_KIND_SLACK : ch->kind;
    if (slack) {
        int rc = notifier_slack_verify (ch->interact_secret, in->slack_timestamp, text,
                                        in->body.len, in->slack_signature, pmo_now_ms ());
        if (rc != NOTIFIER_REQUEST_OK) {
            self->clicks_refused++;
            pmo_warn ("notifier: slack click refused channel=%s why=%d", id, rc);
            return (void)FAIL (
                req, UNAUTHENTICATED, "interact.slack_signature", "%s",
                rc == NOTIFIER_REQUEST_STALE
                    ? "X-Slack-Request-Timestamp is more than five minutes from now (a replay?)"
                : rc == NOTIFIER_REQUEST_FORGED
                    ? "X-Slack-Signature does not match the body (signed with another secret, "
                      "or changed on the way)"
                    : "X-Slack-Signature and X-Slack-Request-Timestamp are required");
        }
    }
    notifier_click_t click;
    char why[256];
    if (notifier_click_parse (tool, text, in->body.len, req->arena, &click, why, sizeof why)) {
        self->clicks_refused++;
        return (void)FAIL (req, INVALID, "interact.body", "%s", why);
    }
    if (!slack) {
        int rc =
            notifier_action_verify (ch->interact_secret, click.target, click.action, click.token);
        if (rc != NOTIFIER_REQUEST_OK) {
            self->clicks_refused++;
            pmo_warn ("notifier: mattermost click refused channel=%s why=%d", id, rc);
            return (void)FAIL (req, UNAUTHENTICATED, "interact.body.context.token",
                               "the button's token does not match (not a button pmo made for "
                               "this channel)");
        }
    }
    //  Signed by the tool: from here on the click is answered, whatever
    //  becomes of it
    self->clicks++;
    if (click.act == NOTIFIER_ACT_LINK_OPEN) {
        //  A link button: the browser opened the dashboard; Slack still
        //  tells the app, which acknowledges and changes nothing
        Pmo__ChatAnswer *opened = pmo_arena_alloc (req->arena, sizeof (Pmo__ChatAnswer));
        pmo__chat_answer__init (opened);
        opened->status = 200;
        opened->outcome = "opened";
        opened->detail = "a link: nothing to do in pmo";
        pmo_reflect_set_oneof (req->reply, "chat_answer", &opened->base);
        return;
    }
    const Pmo__ChatUser *who = s_chat_user (ch, click.user_id);
    //  A click repeated within the replay window (sent again by the tool,
    //  or by someone who captured it) is answered with the first outcome,
    //  not done again; one still being done is not done twice
    const char *key = notifier_action_token (click.user_id, click.target, click.action, req->arena);
    char *before = NULL;
    if (who &&
        notifier_store_click_done (self->store, req->arena, ch->division, ch->id, key, &before) ==
            0 &&
        before)
        return s_answer (
            self, req, ch, tool, &click, who, true,
            pmo_arena_printf (req->arena,
                              "%s (this click was already done: a repeat within %d minutes is "
                              "answered as the first and not done again)",
                              before, NOTIFIER_CLICK_REPLAY_S / 60));
    for (notifier_job_t *job = zlist_first (self->jobs); who && job; job = zlist_next (self->jobs))
        if (streq (job->channel_id, ch->id) && streq (job->replay_key, key))
            return s_answer (self, req, ch, tool, &click, who, false,
                             "this click is already being done; its outcome will show here");
    if (!who || zlist_size (self->jobs) >= CLICKS_WAITING) {
        const char *detail =
            who ? "PMO is busy with other clicks; try again in a moment"
                : pmo_arena_printf (req->arena,
                                    "%s (%s) is not mapped to a PMO identity in this channel; a "
                                    "PMO manager maps chat users with pmoctl channel update %s "
                                    "--chat-user",
                                    click.user_id, *click.user_name ? click.user_name : "?",
                                    ch->id);
        return s_answer (self, req, ch, tool, &click, who, false, detail);
    }
    //  The services are asked off the actor: the request is answered when
    //  the click comes back (notifier_chat_returned)
    notifier_job_t *job = calloc (1, sizeof (notifier_job_t));
    assert (job);
    job->arena = pmo_arena_new ();
    job->act = click.act;
    job->target = pmo_arena_strdup (job->arena, click.target);
    job->deadline_ms = req->header->deadline_ms;
    size_t size;
    uint8_t *packed = pmo_reflect_pack (&who->base, job->arena, &size);
    job->who = pmo__chat_user__unpack (pmo_arena_allocator (job->arena), size, packed);
    assert (job->who);
    job->click = click;
    snprintf (job->channel_id, sizeof job->channel_id, "%s", ch->id);
    snprintf (job->division, sizeof job->division, "%s", ch->division);
    snprintf (job->replay_key, sizeof job->replay_key, "%s", key);
    job->tool = tool;
    job->started_ms = pmo_mono_ms ();
    job->req = pmo_server_detach (self->server, req);
    zlist_append (self->jobs, job);
    zsock_send (self->clicker, "sp", "JOB", job);
}

//  Free a job that is back (or never went).
static void s_job_free (notifier_job_t **job_p)
{
    notifier_job_t *job = *job_p;
    pmo_arena_destroy (&job->arena);
    free (job);
    *job_p = NULL;
}

void notifier_chat_returned (notifier_t *self)
{
    while (zsock_events (zactor_sock (self->clicker)) & ZMQ_POLLIN) {
        void *ptr = NULL;
        if (zsock_recv (self->clicker, "p", &ptr) < 0 || !ptr)
            break;
        notifier_job_t *job = ptr;
        zlist_remove (self->jobs, job);
        pmo_request_t *req = job->req;
        //  The channel as it is now (NULL if archived meanwhile: Slack is
        //  still answered at response_url)
        channel_state_t *st = zhash_lookup (self->channels, job->channel_id);
        const Pmo__Channel *ch = st && !st->channel->archived ? st->channel : NULL;
        pmo_debug ("notifier: click back from the worker channel=%s ms=%lld", job->channel_id,
                   (long long)(pmo_mono_ms () - job->started_ms));
        const char *detail = pmo_arena_strdup (req->arena, job->detail ? job->detail : "");
        //  Done: a repeat within the replay window gets the same answer
        if (job->done && notifier_store_click_remember (self->store, job->division, job->channel_id,
                                                        job->replay_key, detail))
            pmo_warn ("notifier: could not remember a click channel=%s (Redis): a repeat would "
                      "go to the service, whose own checks refuse it",
                      job->channel_id);
        s_answer_as (self, req, ch, job->channel_id, job->tool, &job->click, job->who, job->done,
                     detail);
        pmo_server_answer (self->server, &req);
        s_job_free (&job);
    }
}

int notifier_chat_open (notifier_t *self)
{
    self->jobs = zlist_new ();
    notifier_worker_config_t config = {
        .allocator_endpoint = self->config.allocator_endpoint,
        .riskmon_endpoint = self->config.riskmon_endpoint,
        .call_ms = self->config.chat_call_ms,
    };
    self->clicker = zactor_new (notifier_act_worker, &config);
    return self->clicker ? 0 : -1;
}

void notifier_chat_close (notifier_t *self)
{
    //  The worker finishes the call it is in, if any, and stops; what it
    //  still held (or handed back unread) is answered here
    zactor_destroy (&self->clicker);
    notifier_job_t *job;
    while (self->jobs && (job = zlist_pop (self->jobs))) {
        pmo_request_t *req = job->req;
        FAIL (req, UNAVAILABLE, "", "the notifier is stopping; click again");
        pmo_server_answer (self->server, &req);
        s_job_free (&job);
    }
    zlist_destroy (&self->jobs);
}
