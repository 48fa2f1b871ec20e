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

    The calls wait (up to CHAT_CALL_MS each) on the actor's thread: a click
    costs the delivery loop the services' answer time, a few ms, and Slack
    wants its answer within three seconds anyway.
*/
#include "notifier_internal.h"

#include "allocator.pb-c.h"
#include "pmo_log.h"
#include "pmo_reflect.h"
#include "pmo_wire.h"
#include "riskmon.pb-c.h"

#include <jansson.h>
#include <string.h>

#define CHAT_CALL_MS 1200 //  each service call of a click (two per click, under Slack's 3 s)

//  The channel (from the cache, read again once if it is not there yet:
//  a channel made a moment ago on another replica). NULL if none.
static const Pmo__Channel *s_channel (notifier_t *self, const char *id)
{
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

//  A call as who: the reply (caller frees) or NULL when the service did
//  not answer in time; its error into *error (NULL if none).
static ProtobufCMessage *s_call (pmo_client_t *client, ProtobufCMessage *request,
                                 const ProtobufCMessageDescriptor *reply_desc,
                                 const Pmo__ChatUser *who, const Pmo__Error **error)
{
    Pmo__Identity identity = PMO__IDENTITY__INIT;
    identity.subject = who->subject;
    identity.grants = who->grants;
    identity.n_grants = who->n_grants;
    //  How the person was authenticated: a click signed by the chat tool,
    //  from this chat user (the audit trail's actor_via)
    char via[160];
    snprintf (via, sizeof via, "chat:%s", who->chat_user_id ? who->chat_user_id : "");
    identity.via = via;
    Pmo__Header header;
    char request_id[40];
    pmo_header_init (&header, request_id, CHAT_CALL_MS, &identity);
    ProtobufCMessage **slot = pmo_wire_message_slot (request, "header");
    *slot = &header.base;
    ProtobufCMessage *reply = NULL;
    int rc = pmo_client_call (client, request, reply_desc, CHAT_CALL_MS, 1, &reply);
    *slot = NULL;
    *error = NULL;
    if (rc)
        return NULL;
    ProtobufCMessage **error_slot = pmo_wire_message_slot (reply, "error");
    const Pmo__Error *e = error_slot ? (const Pmo__Error *)*error_slot : NULL;
    if (e && e->code != PMO__ERROR_CODE__ERROR_NONE)
        *error = e;
    return reply;
}

//  What a refusal says: the service's words, or why it could not be asked.
static const char *s_refusal (const Pmo__Error *error, const char *service, pmo_arena_t *arena)
{
    if (!error)
        return pmo_arena_printf (arena, "%s did not answer in time; try again", service);
    return pmo_arena_printf (arena, "%s refused: %s (%s)", service,
                             error->message ? error->message : "",
                             pmo_error_code_name (error->code));
}

//  Acknowledge an alert as who. true with *detail what was done, false
//  with *detail why not.
static bool s_alert_ack (notifier_t *self, const Pmo__ChatUser *who, const char *id,
                         pmo_arena_t *arena, const char **detail)
{
    if (!self->riskmon)
        return *detail = "this notifier has no risk monitor to ask", false;
    Pmo__RiskmonRequest request = PMO__RISKMON_REQUEST__INIT;
    Pmo__RiskmonGetRequest get = PMO__RISKMON_GET_REQUEST__INIT;
    get.kind = PMO__REGISTER_KIND__REGISTER_KIND_ALERT;
    get.id = (char *)id;
    request.body_case = PMO__RISKMON_REQUEST__BODY_GET;
    request.get = &get;
    const Pmo__Error *error;
    Pmo__RiskmonReply *read = (Pmo__RiskmonReply *)s_call (
        self->riskmon, &request.base, &pmo__riskmon_reply__descriptor, who, &error);
    bool done = false;
    if (!read || error || read->body_case != PMO__RISKMON_REPLY__BODY_ALERT)
        *detail = s_refusal (error, "the risk monitor", arena);
    else {
        Pmo__AlertActionRequest ack = PMO__ALERT_ACTION_REQUEST__INIT;
        ack.id = (char *)id;
        ack.version = read->alert->version;
        request.body_case = PMO__RISKMON_REQUEST__BODY_ACKNOWLEDGE_ALERT;
        request.acknowledge_alert = &ack;
        Pmo__RiskmonReply *reply = (Pmo__RiskmonReply *)s_call (
            self->riskmon, &request.base, &pmo__riskmon_reply__descriptor, who, &error);
        if (!reply || error)
            *detail = s_refusal (error, "the risk monitor", arena);
        else {
            done = true;
            *detail = pmo_arena_printf (arena, "Alert %s (%s) acknowledged by %s", id,
                                        read->alert->title ? read->alert->title : "", who->subject);
        }
        if (reply)
            protobuf_c_message_free_unpacked (&reply->base, NULL);
    }
    if (read)
        protobuf_c_message_free_unpacked (&read->base, NULL);
    return done;
}

//  Approve or reject a change request as who (the risk monitor decides
//  whether who may: sponsors, programme managers, PMO).
static bool s_change_decide (notifier_t *self, const Pmo__ChatUser *who, const char *id,
                             bool approve, pmo_arena_t *arena, const char **detail)
{
    if (!self->riskmon)
        return *detail = "this notifier has no risk monitor to ask", false;
    Pmo__RiskmonRequest request = PMO__RISKMON_REQUEST__INIT;
    Pmo__RiskmonGetRequest get = PMO__RISKMON_GET_REQUEST__INIT;
    get.kind = PMO__REGISTER_KIND__REGISTER_KIND_CHANGE_REQUEST;
    get.id = (char *)id;
    request.body_case = PMO__RISKMON_REQUEST__BODY_GET;
    request.get = &get;
    const Pmo__Error *error;
    Pmo__RiskmonReply *read = (Pmo__RiskmonReply *)s_call (
        self->riskmon, &request.base, &pmo__riskmon_reply__descriptor, who, &error);
    bool done = false;
    if (!read || error || read->body_case != PMO__RISKMON_REPLY__BODY_CHANGE_REQUEST)
        *detail = s_refusal (error, "the risk monitor", arena);
    else {
        //  The change request as read, with the decision: the version read
        //  makes a stale click a conflict
        Pmo__ChangeRequest *change = read->change_request;
        char *note = change->decision_note;
        change->decision = approve ? PMO__CHANGE_DECISION__CHANGE_DECISION_APPROVED
                                   : PMO__CHANGE_DECISION__CHANGE_DECISION_REJECTED;
        change->decision_note = pmo_arena_printf (arena, "%s from chat by %s",
                                                  approve ? "approved" : "rejected", who->subject);
        request.body_case = PMO__RISKMON_REQUEST__BODY_UPDATE_CHANGE;
        request.update_change = change;
        Pmo__RiskmonReply *reply = (Pmo__RiskmonReply *)s_call (
            self->riskmon, &request.base, &pmo__riskmon_reply__descriptor, who, &error);
        if (!reply || error)
            *detail = s_refusal (error, "the risk monitor", arena);
        else {
            done = true;
            *detail = pmo_arena_printf (arena, "Change request %s (%s) %s by %s", id,
                                        change->title ? change->title : "",
                                        approve ? "approved" : "rejected", who->subject);
        }
        if (reply)
            protobuf_c_message_free_unpacked (&reply->base, NULL);
        change->decision_note = note; //  the arena's is not freed with read
    }
    if (read)
        protobuf_c_message_free_unpacked (&read->base, NULL);
    return done;
}

//  Approve (commit, approved) or reject an allocation as who.
static bool s_allocation_step (notifier_t *self, const Pmo__ChatUser *who, const char *id,
                               bool approve, pmo_arena_t *arena, const char **detail)
{
    if (!self->allocator)
        return *detail = "this notifier has no allocator to ask", false;
    Pmo__AllocatorRequest request = PMO__ALLOCATOR_REQUEST__INIT;
    Pmo__AllocatorGetRequest get = PMO__ALLOCATOR_GET_REQUEST__INIT;
    get.kind = PMO__ALLOCATOR_KIND__ALLOCATOR_KIND_ALLOCATION;
    get.id = (char *)id;
    request.body_case = PMO__ALLOCATOR_REQUEST__BODY_GET;
    request.get = &get;
    const Pmo__Error *error;
    Pmo__AllocatorReply *read = (Pmo__AllocatorReply *)s_call (
        self->allocator, &request.base, &pmo__allocator_reply__descriptor, who, &error);
    bool done = false;
    if (!read || error || read->body_case != PMO__ALLOCATOR_REPLY__BODY_ALLOCATION)
        *detail = s_refusal (error, "the allocator", arena);
    else {
        const Pmo__Allocation *a = read->allocation;
        Pmo__AllocationStep step = PMO__ALLOCATION_STEP__INIT;
        step.allocation_id = (char *)id;
        step.version = a->version;
        if (approve) {
            step.approve = true;
            request.body_case = PMO__ALLOCATOR_REQUEST__BODY_COMMIT;
            request.commit = &step;
        } else {
            step.reason = pmo_arena_printf (arena, "rejected from chat by %s", who->subject);
            request.body_case = PMO__ALLOCATOR_REQUEST__BODY_REJECT;
            request.reject = &step;
        }
        Pmo__AllocatorReply *reply = (Pmo__AllocatorReply *)s_call (
            self->allocator, &request.base, &pmo__allocator_reply__descriptor, who, &error);
        if (!reply || error)
            *detail = s_refusal (error, "the allocator", arena);
        else {
            done = true;
            *detail = pmo_arena_printf (
                arena, "Allocation %s (%s, %u h/week %s..%s) %s by %s", id,
                a->resource_name && *a->resource_name ? a->resource_name : (a->role ? a->role : ""),
                a->hours_per_week, a->start_week ? a->start_week : "",
                a->end_week ? a->end_week : "", approve ? "approved and committed" : "rejected",
                who->subject);
        }
        if (reply)
            protobuf_c_message_free_unpacked (&reply->base, NULL);
    }
    if (read)
        protobuf_c_message_free_unpacked (&read->base, NULL);
    return done;
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
    const Pmo__ChatUser *who = s_chat_user (ch, click.user_id);
    const char *detail;
    bool done = false;
    if (!who)
        detail = pmo_arena_printf (req->arena,
                                   "%s (%s) is not mapped to a PMO identity in this channel; a "
                                   "PMO manager maps chat users with pmoctl channel update %s "
                                   "--chat-user",
                                   click.user_id, *click.user_name ? click.user_name : "?", ch->id);
    else if (click.act == NOTIFIER_ACT_ALERT_ACK)
        done = s_alert_ack (self, who, click.target, req->arena, &detail);
    else if (click.act == NOTIFIER_ACT_CHANGE_APPROVE || click.act == NOTIFIER_ACT_CHANGE_REJECT)
        done = s_change_decide (self, who, click.target, click.act == NOTIFIER_ACT_CHANGE_APPROVE,
                                req->arena, &detail);
    else
        done =
            s_allocation_step (self, who, click.target,
                               click.act == NOTIFIER_ACT_ALLOCATION_APPROVE, req->arena, &detail);
    if (!done)
        self->clicks_refused++;
    pmo_info ("notifier: click channel=%s user=%s subject=%s action=%s target=%s outcome=%s", id,
              click.user_id, who ? who->subject : "-", click.action, click.target,
              done ? "done" : "refused");
    char *answer = notifier_click_answer (tool, &click, done, detail, req->arena);
    Pmo__ChatAnswer *reply = pmo_arena_alloc (req->arena, sizeof (Pmo__ChatAnswer));
    pmo__chat_answer__init (reply);
    reply->status = 200;
    reply->outcome = done ? "done" : "refused";
    reply->detail = (char *)detail;
    reply->subject = who ? who->subject : "";
    if (slack && done && ch->kind == PMO__CHANNEL_KIND__CHANNEL_KIND_SLACK_API && *click.message_ts)
        //  The bot posted the message: it updates it (chat.update)
        s_update (self, ch, click.message_ts, answer, req->arena);
    else if (slack)
        s_respond (self, ch->id, click.response_url, answer);
    else
        reply->body = answer;
    pmo_reflect_set_oneof (req->reply, "chat_answer", &reply->base);
}
