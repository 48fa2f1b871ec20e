/*  notifier_format.c: the exact payload of every channel kind: Slack,
    Microsoft Teams (Adaptive Card), Mattermost, Google Chat, the generic
    webhook (CloudEvents) and email (RFC 5322, multipart text + HTML),
    each within its tool's size limits; and the Standard Webhooks
    signature. Pure, like the rest of the model (notifier_model.h).
*/
#include "notifier_model.h"

#include <ctype.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

//  ---------------------------------------------------------------------
//  Payloads

//  What a message is about, in words, for every format.
typedef struct {
    const char *heading; //  one line
    const char *intro;   //  why several events are in one message ("" if one)
} view_t;

static void s_view (const notifier_message_t *msg, pmo_arena_t *arena, view_t *view)
{
    Pmo__Notice *first = msg->n_notices ? msg->notices[0] : NULL;
    view->intro = "";
    switch (msg->kind) {
    case PMO__DELIVERY_KIND__DELIVERY_KIND_TEST:
        view->heading = "pmo: test message";
        view->intro = "This channel is set up correctly: the PMO's notifications will arrive "
                      "here.";
        break;
    case PMO__DELIVERY_KIND__DELIVERY_KIND_DIGEST:
        //  a channel without digests has one only after quiet hours
        view->heading = pmo_arena_printf (
            arena, "PMO %s digest: %u event%s",
            msg->period == PMO__DIGEST_PERIOD__DIGEST_PERIOD_DAILY    ? "daily"
            : msg->period == PMO__DIGEST_PERIOD__DIGEST_PERIOD_HOURLY ? "hourly"
                                                                      : "quiet hours",
            msg->total, msg->total == 1 ? "" : "s");
        view->intro = msg->period == PMO__DIGEST_PERIOD__DIGEST_PERIOD_NONE
                          ? "Events of the quiet hours (all but critical ones) are collected "
                            "here."
                          : "Low-severity events are collected here instead of one message "
                            "each.";
        break;
    case PMO__DELIVERY_KIND__DELIVERY_KIND_COALESCED:
        if (msg->total > 1) {
            const char *project =
                first && *first->project_label ? first->project_label : "a project";
            view->heading = pmo_arena_printf (arena, "%s: %u events", project, msg->total);
            view->intro = pmo_arena_printf (
                arena,
                "%u events on %s within %llds were combined into this one message so the channel "
                "is not flooded.",
                msg->total, project, (long long)msg->coalesce_s);
            break;
        }
        //  a burst of one reads like any single event
        //  fall through
    default:
        view->heading = first ? first->title : "pmo event";
        break;
    }
}

static const char *s_sev_marker (Pmo__Severity s)
{
    switch (s) {
    case PMO__SEVERITY__SEVERITY_CRITICAL:
        return "\xf0\x9f\x9a\xa8"; //  rotating light
    case PMO__SEVERITY__SEVERITY_HIGH:
        return "\xf0\x9f\x94\xb4"; //  red circle
    case PMO__SEVERITY__SEVERITY_MEDIUM:
        return "\xf0\x9f\x9f\xa0"; //  orange circle
    case PMO__SEVERITY__SEVERITY_LOW:
        return "\xf0\x9f\x9f\xa2"; //  green circle
    default:
        return "\xe2\x84\xb9\xef\xb8\x8f"; //  information
    }
}

static const char *s_color (Pmo__Severity s)
{
    switch (s) {
    case PMO__SEVERITY__SEVERITY_CRITICAL:
    case PMO__SEVERITY__SEVERITY_HIGH:
        return "#d62728";
    case PMO__SEVERITY__SEVERITY_MEDIUM:
        return "#ff9f1c";
    case PMO__SEVERITY__SEVERITY_LOW:
        return "#2ca02c";
    default:
        return "#5b7083";
    }
}

//  The place an event happened: "dft-rail in division dft"
static const char *s_where (const Pmo__Notice *n, pmo_arena_t *arena)
{
    return pmo_arena_printf (arena, "%s", *n->org_unit_path ? n->org_unit_path : n->division);
}

//  Text from data, inert in a markup (notifier_escape.c)
#define INERT(markup, text) notifier_inert (NOTIFIER_MARKUP_##markup, (text), arena)

//  One notice as Slack mrkdwn: *bold* labels, every piece of data inert.
static const char *s_notice_slack (const Pmo__Notice *n, size_t max, pmo_arena_t *arena)
{
    const char *text = pmo_arena_printf (
        arena, "%s *%s*\n%s\n*Severity:* %s · *Where:* %s", s_sev_marker (n->severity),
        INERT (SLACK, n->title), INERT (SLACK, n->summary), notifier_severity_name (n->severity),
        INERT (SLACK, s_where (n, arena)));
    if (*n->project_id)
        text =
            pmo_arena_printf (arena, "%s · *Project:* %s", text, INERT (SLACK, n->project_label));
    for (size_t i = 0; i < n->n_facts; i++)
        text = pmo_arena_printf (arena, "%s\n*%s:* %s", text, INERT (SLACK, n->facts[i]->title),
                                 INERT (SLACK, n->facts[i]->value));
    text = pmo_arena_printf (arena, "%s\n<%s|Open in the PMO dashboard>", text, n->link);
    if (*n->action_link)
        text = pmo_arena_printf (arena, "%s · <%s|%s>", text, n->action_link, n->action);
    return notifier_truncate (text, max, arena);
}

static char *s_dump (json_t *root, pmo_arena_t *arena, size_t *size)
{
    char *text = json_dumps (root, JSON_COMPACT);
    json_decref (root);
    if (!text)
        return NULL;
    *size = strlen (text);
    char *copy = pmo_arena_memdup (arena, text, *size + 1);
    free (text);
    return copy;
}

static const char *s_more (size_t omitted, pmo_arena_t *arena)
{
    return pmo_arena_printf (arena, "… and %zu more event%s: see the PMO dashboard.", omitted,
                             omitted == 1 ? "" : "s");
}

//  The buttons of a notice (see Notice.buttons): action name, label,
//  style. An alert is acknowledged; an allocation or a change request
//  approved or rejected.
typedef struct {
    notifier_act_t act;
    const char *label;
    const char *style; //  Slack: primary, danger
    const char *id;    //  Mattermost: the action's id (letters only)
} button_t;

static size_t s_buttons (const Pmo__Channel *channel, const Pmo__Notice *n, button_t out[2])
{
    if (pmo_str_empty (channel->interact_secret) || pmo_str_empty (n->buttons) ||
        pmo_str_empty (n->entity_id))
        return 0;
    if (strcmp (n->buttons, "alert") == 0) {
        out[0] = (button_t){NOTIFIER_ACT_ALERT_ACK, "Acknowledge", "primary", "ack"};
        return 1;
    }
    if (strcmp (n->buttons, "allocation") == 0) {
        out[0] = (button_t){NOTIFIER_ACT_ALLOCATION_APPROVE, "Approve", "primary", "approve"};
        out[1] = (button_t){NOTIFIER_ACT_ALLOCATION_REJECT, "Reject", "danger", "reject"};
        return 2;
    }
    if (strcmp (n->buttons, "change") == 0) {
        out[0] = (button_t){NOTIFIER_ACT_CHANGE_APPROVE, "Approve", "primary", "approve"};
        out[1] = (button_t){NOTIFIER_ACT_CHANGE_REJECT, "Reject", "danger", "reject"};
        return 2;
    }
    return 0;
}

//  Slack: an actions block for the notice's buttons (NULL if none). The
//  click comes back to the gateway's /api/v1/chat/slack/<channel> (the
//  Slack app's interactivity Request URL), signed with the app's signing
//  secret; the block id lets the answer take the buttons away.
static json_t *s_slack_actions (const Pmo__Channel *channel, const Pmo__Notice *n, size_t index,
                                pmo_arena_t *arena)
{
    if (strcmp (n->buttons, "link") == 0 && *n->action_link)
        //  A link button (the action happens on the dashboard): no secret
        //  needed; with interactivity on, Slack reports its click too
        return json_pack (
            "{s:s, s:s, s:[{s:s, s:s, s:{s:s, s:s}, s:s, s:s, s:s}]}", "type", "actions",
            "block_id", pmo_arena_printf (arena, "pmo:%zu", index), "elements", "type", "button",
            "action_id",
            pmo_arena_printf (arena, "pmo:%s", notifier_act_name (NOTIFIER_ACT_LINK_OPEN)), "text",
            "type", "plain_text", "text", n->action, "url", n->action_link, "value", n->entity_id,
            "style", "primary");
    button_t buttons[2];
    size_t count = s_buttons (channel, n, buttons);
    if (!count)
        return NULL;
    json_t *elements = json_array ();
    for (size_t b = 0; b < count; b++)
        json_array_append_new (
            elements,
            json_pack ("{s:s, s:s, s:{s:s, s:s}, s:s, s:s}", "type", "button", "action_id",
                       pmo_arena_printf (arena, "pmo:%s", notifier_act_name (buttons[b].act)),
                       "text", "type", "plain_text", "text", buttons[b].label, "value",
                       n->entity_id, "style", buttons[b].style));
    return json_pack ("{s:s, s:s, s:o}", "type", "actions", "block_id",
                      pmo_arena_printf (arena, "pmo:%zu", index), "elements", elements);
}

//  Mattermost: the attachment's buttons (NULL if none). Each calls the
//  gateway's /api/v1/chat/mattermost/<channel> with a context that carries
//  a token only pmo can make (HMAC of target and action with the channel's
//  interact secret).
static json_t *s_mm_actions (const Pmo__Channel *channel, const notifier_message_t *msg,
                             const Pmo__Notice *n, pmo_arena_t *arena)
{
    button_t buttons[2];
    size_t count = s_buttons (channel, n, buttons);
    if (!count)
        return NULL;
    const char *base = msg->dashboard && *msg->dashboard ? msg->dashboard : "http://127.0.0.1:8080";
    size_t blen = strlen (base);
    const char *url = pmo_arena_printf (arena, "%.*s/api/v1/chat/mattermost/%s",
                                        (int)(blen && base[blen - 1] == '/' ? blen - 1 : blen),
                                        base, channel->id);
    json_t *actions = json_array ();
    for (size_t b = 0; b < count; b++) {
        const char *act = notifier_act_name (buttons[b].act);
        json_array_append_new (
            actions,
            json_pack ("{s:s, s:s, s:s, s:{s:s, s:{s:s, s:s, s:s}}}", "id", buttons[b].id, "name",
                       buttons[b].label, "style", buttons[b].style, "integration", "url", url,
                       "context", "action", act, "target", n->entity_id, "token",
                       notifier_action_token (channel->interact_secret, n->entity_id, act, arena)));
    }
    return actions;
}

static json_t *s_slack (const Pmo__Channel *channel, const notifier_message_t *msg,
                        const view_t *view, size_t shown, pmo_arena_t *arena)
{
    json_t *blocks = json_array ();
    json_array_append_new (blocks,
                           json_pack ("{s:s, s:{s:s, s:s, s:b}}", "type", "header", "text", "type",
                                      "plain_text", "text",
                                      notifier_truncate (view->heading, 150, arena), "emoji", 1));
    if (*view->intro)
        json_array_append_new (blocks, json_pack ("{s:s, s:[{s:s, s:s, s:b}]}", "type", "context",
                                                  "elements", "type", "mrkdwn", "text",
                                                  INERT (SLACK, view->intro), "verbatim", 1));
    for (size_t i = 0; i < shown; i++) {
        if (i)
            json_array_append_new (blocks, json_pack ("{s:s}", "type", "divider"));
        json_array_append_new (
            blocks,
            json_pack ("{s:s, s:{s:s, s:s, s:b}}", "type", "section", "text", "type", "mrkdwn",
                       "text", s_notice_slack (msg->notices[i], NOTIFIER_SLACK_SECTION_MAX, arena),
                       "verbatim", 1));
        json_t *actions = s_slack_actions (channel, msg->notices[i], i, arena);
        if (actions)
            json_array_append_new (blocks, actions);
    }
    size_t omitted = msg->total > shown ? msg->total - shown : 0;
    const char *context = pmo_arena_printf (arena, "pmo · delivery `%s`", msg->delivery_id);
    if (omitted)
        context = pmo_arena_printf (arena, "%s\n%s", s_more (omitted, arena), context);
    json_array_append_new (blocks,
                           json_pack ("{s:s, s:[{s:s, s:s, s:b}]}", "type", "context", "elements",
                                      "type", "mrkdwn", "text", context, "verbatim", 1));
    //  text is the notification and the fallback where blocks do not show
    const char *text = view->heading;
    if (shown == 1 && msg->total == 1)
        text = pmo_arena_printf (arena, "%s (%s, %s)", view->heading,
                                 notifier_severity_name (msg->notices[0]->severity),
                                 s_where (msg->notices[0], arena));
    return json_pack ("{s:s, s:o}", "text", INERT (SLACK, notifier_truncate (text, 3000, arena)),
                      "blocks", blocks);
}

//  A Mattermost attachment field: the title is plain, the value markdown.
static json_t *s_mm_field (const char *title, const char *value, pmo_arena_t *arena)
{
    return json_pack ("{s:s, s:s, s:b}", "title", INERT (PLAIN, title), "value",
                      INERT (MATTERMOST, value), "short", 1);
}

//  An attachment's text: the summary, and the action's link if any
static const char *s_mm_text (const Pmo__Notice *n, pmo_arena_t *arena)
{
    const char *text = INERT (MATTERMOST, n->summary);
    if (*n->action_link)
        text = pmo_arena_printf (arena, "%s\n[%s](%s)", text, n->action, n->action_link);
    return text;
}

static json_t *s_mattermost (const Pmo__Channel *channel, const notifier_message_t *msg,
                             const view_t *view, size_t shown, pmo_arena_t *arena)
{
    json_t *attachments = json_array ();
    for (size_t i = 0; i < shown && i < 20; i++) {
        const Pmo__Notice *n = msg->notices[i];
        json_t *fields = json_array ();
        json_array_append_new (
            fields, s_mm_field ("Severity", notifier_severity_name (n->severity), arena));
        json_array_append_new (fields, s_mm_field ("Where", s_where (n, arena), arena));
        if (*n->project_id)
            json_array_append_new (fields, s_mm_field ("Project", n->project_label, arena));
        for (size_t f = 0; f < n->n_facts; f++)
            json_array_append_new (fields,
                                   s_mm_field (n->facts[f]->title, n->facts[f]->value, arena));
        json_t *attachment =
            json_pack ("{s:s, s:s, s:s, s:s, s:s, s:o}", "fallback", INERT (PLAIN, n->title),
                       "color", s_color (n->severity), "title", INERT (MATTERMOST, n->title),
                       "title_link", n->link, "text", s_mm_text (n, arena), "fields", fields);
        json_t *actions = s_mm_actions (channel, msg, n, arena);
        if (actions)
            json_object_set_new (attachment, "actions", actions);
        json_array_append_new (attachments, attachment);
    }
    size_t omitted = msg->total > shown ? msg->total - shown : 0;
    const char *text = pmo_arena_printf (arena, "#### %s", INERT (MATTERMOST, view->heading));
    if (*view->intro)
        text = pmo_arena_printf (arena, "%s\n%s", text, INERT (MATTERMOST, view->intro));
    if (omitted)
        text = pmo_arena_printf (arena, "%s\n%s", text, s_more (omitted, arena));
    return json_pack ("{s:s, s:s, s:o, s:{s:s}}", "username", "pmo", "text",
                      notifier_truncate (text, 4000, arena), "attachments", attachments, "props",
                      "card", pmo_arena_printf (arena, "pmo delivery %s", msg->delivery_id));
}

static json_t *s_teams (const notifier_message_t *msg, const view_t *view, size_t shown,
                        pmo_arena_t *arena)
{
    json_t *body = json_array ();
    json_array_append_new (body, json_pack ("{s:s, s:s, s:s, s:s, s:b}", "type", "TextBlock",
                                            "size", "Large", "weight", "Bolder", "text",
                                            INERT (MARKDOWN, view->heading), "wrap", 1));
    if (*view->intro)
        json_array_append_new (body,
                               json_pack ("{s:s, s:s, s:b, s:b}", "type", "TextBlock", "text",
                                          INERT (MARKDOWN, view->intro), "wrap", 1, "isSubtle", 1));
    for (size_t i = 0; i < shown; i++) {
        const Pmo__Notice *n = msg->notices[i];
        json_t *facts = json_array ();
        json_array_append_new (facts, json_pack ("{s:s, s:s}", "title", "Severity", "value",
                                                 notifier_severity_name (n->severity)));
        json_array_append_new (facts, json_pack ("{s:s, s:s}", "title", "Where", "value",
                                                 INERT (MARKDOWN, s_where (n, arena))));
        if (*n->project_id)
            json_array_append_new (facts, json_pack ("{s:s, s:s}", "title", "Project", "value",
                                                     INERT (MARKDOWN, n->project_label)));
        for (size_t f = 0; f < n->n_facts; f++)
            json_array_append_new (facts, json_pack ("{s:s, s:s}", "title",
                                                     INERT (MARKDOWN, n->facts[f]->title), "value",
                                                     INERT (MARKDOWN, n->facts[f]->value)));
        json_t *items = json_array ();
        if (shown > 1 || msg->total > 1)
            json_array_append_new (
                items,
                json_pack ("{s:s, s:s, s:s, s:b}", "type", "TextBlock", "weight", "Bolder", "text",
                           pmo_arena_printf (arena, "%s %s", s_sev_marker (n->severity),
                                             INERT (MARKDOWN, n->title)),
                           "wrap", 1));
        json_array_append_new (items, json_pack ("{s:s, s:s, s:b}", "type", "TextBlock", "text",
                                                 INERT (MARKDOWN, n->summary), "wrap", 1));
        json_array_append_new (items, json_pack ("{s:s, s:o}", "type", "FactSet", "facts", facts));
        const char *links = pmo_arena_printf (arena, "[Open in the PMO dashboard](%s)", n->link);
        if (*n->action_link)
            links = pmo_arena_printf (arena, "%s · [%s](%s)", links, n->action, n->action_link);
        json_array_append_new (items, json_pack ("{s:s, s:s, s:s, s:b}", "type", "TextBlock",
                                                 "text", links, "size", "Small", "wrap", 1));
        json_array_append_new (body, json_pack ("{s:s, s:o, s:b}", "type", "Container", "items",
                                                items, "separator", i > 0));
    }
    size_t omitted = msg->total > shown ? msg->total - shown : 0;
    if (omitted)
        json_array_append_new (body, json_pack ("{s:s, s:s, s:b}", "type", "TextBlock", "text",
                                                s_more (omitted, arena), "wrap", 1));
    const char *url = msg->n_notices ? msg->notices[0]->link : msg->dashboard;
    json_t *card =
        json_pack ("{s:s, s:s, s:s, s:o, s:[{s:s, s:s, s:s}], s:{s:s}}", "$schema",
                   "http://adaptivecards.io/schemas/adaptive-card.json", "type", "AdaptiveCard",
                   "version", "1.4", "body", body, "actions", "type", "Action.OpenUrl", "title",
                   "Open in PMO", "url", url ? url : "", "msteams", "width", "Full");
    //  Teams cannot call back into pmo: the action is a deep link into the
    //  dashboard, where the services' own role checks decide
    if (msg->n_notices && *msg->notices[0]->action_link)
        json_array_append_new (json_object_get (card, "actions"),
                               json_pack ("{s:s, s:s, s:s}", "type", "Action.OpenUrl", "title",
                                          msg->notices[0]->action, "url",
                                          msg->notices[0]->action_link));
    return json_pack ("{s:s, s:[{s:s, s:n, s:o}]}", "type", "message", "attachments", "contentType",
                      "application/vnd.microsoft.card.adaptive", "contentUrl", "content", card);
}

static json_t *s_gchat (const notifier_message_t *msg, const view_t *view, size_t shown,
                        pmo_arena_t *arena, const char **thread)
{
    json_t *sections = json_array ();
    for (size_t i = 0; i < shown; i++) {
        const Pmo__Notice *n = msg->notices[i];
        json_t *widgets = json_array ();
        //  maxLines is an integer in the Chat API (a boolean is refused)
        json_array_append_new (widgets, json_pack ("{s:{s:s, s:i}}", "textParagraph", "text",
                                                   INERT (HTML, n->summary), "maxLines", 6));
        json_array_append_new (widgets,
                               json_pack ("{s:{s:s, s:s}}", "decoratedText", "topLabel", "Severity",
                                          "text", notifier_severity_name (n->severity)));
        json_array_append_new (widgets,
                               json_pack ("{s:{s:s, s:s}}", "decoratedText", "topLabel", "Where",
                                          "text", INERT (HTML, s_where (n, arena))));
        if (*n->project_id)
            json_array_append_new (widgets,
                                   json_pack ("{s:{s:s, s:s}}", "decoratedText", "topLabel",
                                              "Project", "text", INERT (HTML, n->project_label)));
        for (size_t f = 0; f < n->n_facts; f++)
            json_array_append_new (widgets, json_pack ("{s:{s:s, s:s}}", "decoratedText",
                                                       "topLabel", n->facts[f]->title, "text",
                                                       INERT (HTML, n->facts[f]->value)));
        json_t *buttons = json_pack ("[{s:s, s:{s:{s:s}}}]", "text", "Open in PMO", "onClick",
                                     "openLink", "url", n->link);
        if (*n->action_link)
            json_array_append_new (buttons,
                                   json_pack ("{s:s, s:{s:{s:s}}}", "text", n->action, "onClick",
                                              "openLink", "url", n->action_link));
        json_array_append_new (widgets, json_pack ("{s:{s:o}}", "buttonList", "buttons", buttons));
        json_array_append_new (sections, json_pack ("{s:s, s:o}", "header", INERT (HTML, n->title),
                                                    "widgets", widgets));
    }
    size_t omitted = msg->total > shown ? msg->total - shown : 0;
    if (omitted)
        json_array_append_new (sections, json_pack ("{s:[{s:{s:s}}]}", "widgets", "textParagraph",
                                                    "text", s_more (omitted, arena)));
    Pmo__Notice *first = msg->n_notices ? msg->notices[0] : NULL;
    const char *subtitle = *view->intro ? view->intro
                           : first ? pmo_arena_printf (arena, "%s · %s", s_where (first, arena),
                                                       notifier_severity_name (first->severity))
                                   : "";
    json_t *root =
        json_pack ("{s:s, s:[{s:s, s:{s:{s:s, s:s}, s:o}}]}", "text",
                   pmo_arena_printf (arena, "*%s*", INERT (GCHAT_TEXT, view->heading)), "cardsV2",
                   "cardId", msg->delivery_id, "card", "header", "title",
                   INERT (PLAIN, notifier_truncate (view->heading, 200, arena)), "subtitle",
                   INERT (PLAIN, notifier_truncate (subtitle, 200, arena)), "sections", sections);
    //  One thread per project: every message about it lands together
    *thread = NULL;
    if (first && *first->project_id) {
        *thread = pmo_arena_printf (arena, "pmo-%s", first->project_id);
        json_object_set_new (root, "thread", json_pack ("{s:s}", "threadKey", *thread));
    }
    return root;
}

static json_t *s_notice_json_base (const Pmo__Notice *n);

static json_t *s_notice_json (const Pmo__Notice *n)
{
    json_t *json = s_notice_json_base (n);
    if (*n->action_link) {
        json_object_set_new (json, "action", json_string (n->action));
        json_object_set_new (json, "action_link", json_string (n->action_link));
    }
    return json;
}

static json_t *s_notice_json_base (const Pmo__Notice *n)
{
    json_t *facts = json_object ();
    for (size_t f = 0; f < n->n_facts; f++)
        json_object_set_new (facts, n->facts[f]->title, json_string (n->facts[f]->value));
    return json_pack (
        "{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:s, s:o}", "event_id",
        n->event_id, "type", n->type, "severity", notifier_severity_name (n->severity), "title",
        n->title, "summary", n->summary, "division", n->division, "org_unit_path", n->org_unit_path,
        "entity_id", n->entity_id, "project_id", n->project_id, "project", n->project_label,
        "actor", n->actor, "time_ms", (json_int_t)n->time_ms, "link", n->link, "facts", facts);
}

static json_t *s_cloudevent (const notifier_message_t *msg, const view_t *view, size_t shown,
                             pmo_arena_t *arena)
{
    Pmo__Notice *first = msg->n_notices ? msg->notices[0] : NULL;
    bool single = msg->kind == PMO__DELIVERY_KIND__DELIVERY_KIND_EVENT ||
                  (msg->kind == PMO__DELIVERY_KIND__DELIVERY_KIND_COALESCED && msg->total == 1);
    const char *type = single && first ? pmo_arena_printf (arena, "pmo.%s", first->type)
                       : msg->kind == PMO__DELIVERY_KIND__DELIVERY_KIND_DIGEST
                           ? "pmo.notifier.digest"
                       : msg->kind == PMO__DELIVERY_KIND__DELIVERY_KIND_TEST ? "pmo.notifier.test"
                                                                             : "pmo.notifier.burst";
    json_t *data;
    if (single && first)
        data = json_pack ("{s:o}", "event", s_notice_json (first));
    else {
        json_t *events = json_array ();
        for (size_t i = 0; i < shown; i++)
            json_array_append_new (events, s_notice_json (msg->notices[i]));
        data = json_pack ("{s:s, s:s, s:i, s:i, s:o}", "heading", view->heading, "intro",
                          view->intro, "count", (int)msg->total, "omitted",
                          (int)(msg->total > shown ? msg->total - shown : 0), "events", events);
    }
    int64_t time_ms = first ? first->time_ms : 0;
    json_t *root = json_pack (
        "{s:s, s:s, s:s, s:s, s:s, s:s, s:o}", "specversion", "1.0", "id", msg->delivery_id,
        "source", pmo_arena_printf (arena, "/pmo/%s", first ? first->division : "notifier"), "type",
        type, "time", notifier_rfc3339 (time_ms ? time_ms : 0, arena), "datacontenttype",
        "application/json", "data", data);
    if (first && (*first->project_id || *first->entity_id))
        json_object_set_new (
            root, "subject",
            json_string (*first->project_id ? first->project_id : first->entity_id));
    return root;
}

int notifier_format (const Pmo__Channel *channel, const notifier_message_t *msg, pmo_arena_t *arena,
                     notifier_payload_t *out)
{
    view_t view;
    s_view (msg, arena, &view);
    memset (out, 0, sizeof *out);
    out->content_type = "application/json";
    out->query = "";
    size_t budget = NOTIFIER_WEBHOOK_BUDGET;
    size_t cap = msg->n_notices; //  notices shown at most
    size_t per;
    switch (channel->kind) {
    case PMO__CHANNEL_KIND__CHANNEL_KIND_SLACK:
    case PMO__CHANNEL_KIND__CHANNEL_KIND_SLACK_API:
        budget = NOTIFIER_SLACK_BUDGET;
        //  header, intro, trailer, and a divider + section (+ buttons) per notice
        per = pmo_str_empty (channel->interact_secret) ? 2 : 3;
        cap = cap < (NOTIFIER_SLACK_BLOCKS_MAX - 3) / per ? cap
                                                          : (NOTIFIER_SLACK_BLOCKS_MAX - 3) / per;
        break;
    case PMO__CHANNEL_KIND__CHANNEL_KIND_TEAMS:
        budget = NOTIFIER_TEAMS_BUDGET;
        break;
    case PMO__CHANNEL_KIND__CHANNEL_KIND_MATTERMOST:
        budget = NOTIFIER_MATTERMOST_BUDGET;
        cap = cap < 20 ? cap : 20;
        break;
    case PMO__CHANNEL_KIND__CHANNEL_KIND_GOOGLE_CHAT:
        budget = NOTIFIER_GCHAT_BUDGET;
        cap = cap < 100 ? cap : 100;
        break;
    default:
        out->content_type = "application/cloudevents+json; charset=utf-8";
        break;
    }
    //  Show as many notices as fit; the rest are counted, so a message is
    //  shortened instead of refused for its size.
    for (size_t shown = cap;; shown = shown > 8 ? shown * 3 / 4 : shown - 1) {
        json_t *root;
        const char *thread = NULL;
        switch (channel->kind) {
        case PMO__CHANNEL_KIND__CHANNEL_KIND_SLACK:
            root = s_slack (channel, msg, &view, shown, arena);
            break;
        case PMO__CHANNEL_KIND__CHANNEL_KIND_SLACK_API:
            //  chat.postMessage: the same message, into the conversation,
            //  in the project's thread once it has one
            root = s_slack (channel, msg, &view, shown, arena);
            json_object_set_new (root, "channel", json_string (channel->slack_channel));
            json_object_set_new (root, "unfurl_links", json_false ());
            json_object_set_new (root, "unfurl_media", json_false ());
            if (msg->thread_ts && *msg->thread_ts)
                json_object_set_new (root, "thread_ts", json_string (msg->thread_ts));
            break;
        case PMO__CHANNEL_KIND__CHANNEL_KIND_TEAMS:
            root = s_teams (msg, &view, shown, arena);
            break;
        case PMO__CHANNEL_KIND__CHANNEL_KIND_MATTERMOST:
            root = s_mattermost (channel, msg, &view, shown, arena);
            break;
        case PMO__CHANNEL_KIND__CHANNEL_KIND_GOOGLE_CHAT:
            root = s_gchat (msg, &view, shown, arena, &thread);
            break;
        default:
            root = s_cloudevent (msg, &view, shown, arena);
            break;
        }
        if (!root)
            return -1;
        out->body = s_dump (root, arena, &out->size);
        if (!out->body)
            return -1;
        out->shown = shown;
        if (thread)
            out->query = "messageReplyOption=REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD";
        if (out->size <= budget || shown == 0)
            return 0;
    }
}

//  ---------------------------------------------------------------------
//  Email

static char *s_base64 (const void *data, size_t size, pmo_arena_t *arena)
{
    char *out = pmo_arena_alloc (arena, 4 * ((size + 2) / 3) + 1);
    EVP_EncodeBlock ((unsigned char *)out, data, (int)size);
    return out;
}

//  base64 in lines of 76 characters (RFC 2045), CRLF-terminated
static char *s_base64_lines (const char *text, pmo_arena_t *arena)
{
    char *b64 = s_base64 (text, strlen (text), arena);
    size_t len = strlen (b64);
    char *out = pmo_arena_alloc (arena, len + 2 * (len / 76 + 2) + 1), *o = out;
    for (size_t i = 0; i < len; i += 76) {
        size_t chunk = len - i < 76 ? len - i : 76;
        memcpy (o, b64 + i, chunk);
        o += chunk;
        *o++ = '\r';
        *o++ = '\n';
    }
    *o = 0;
    return out;
}

static bool s_ascii (const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s >= 127 || (unsigned char)*s < ' ')
            return false;
    return true;
}

//  A header value: as is if plain ASCII, else RFC 2047 encoded-words of at
//  most 45 input bytes each (75 characters encoded), cut on UTF-8 boundaries
static const char *s_header_text (const char *text, pmo_arena_t *arena)
{
    if (s_ascii (text))
        return text;
    const char *out = "";
    size_t len = strlen (text);
    for (size_t i = 0; i < len;) {
        size_t chunk = len - i < 45 ? len - i : 45;
        while (i + chunk < len && ((unsigned char)text[i + chunk] & 0xC0) == 0x80)
            chunk--;
        out = pmo_arena_printf (arena, "%s%s=?UTF-8?B?%s?=", out, *out ? "\r\n " : "",
                                s_base64 (text + i, chunk, arena));
        i += chunk;
    }
    return out;
}

//  A mailbox header value (RFC 5322 name-addr): the display name as a
//  quoted-string, or RFC 2047 encoded-words when it is not ASCII;
//  fallback_name when the channel gave none (NULL: the bare address).
static const char *s_mailbox_header (const char *text, const char *fallback_name,
                                     pmo_arena_t *arena)
{
    char name[256], address[256];
    if (notifier_mailbox (text, name, sizeof name, address, sizeof address))
        return "undisclosed-recipients:;"; //  validated when the channel was saved
    const char *display = *name ? name : fallback_name;
    if (!display)
        return pmo_arena_strdup (arena, address);
    if (!s_ascii (display))
        return pmo_arena_printf (arena, "%s <%s>", s_header_text (display, arena), address);
    //  words of atext (RFC 5322 3.2.3) go as they are; anything else quoted
    bool atoms = *display != ' ';
    for (const char *p = display; *p && atoms; p++)
        atoms = isalnum ((unsigned char)*p) || *p == ' ' || strchr ("!#$%&'*+-/=?^_`{|}~", *p);
    if (atoms)
        return pmo_arena_printf (arena, "%s <%s>", display, address);
    char *quoted = pmo_arena_alloc (arena, 2 * strlen (display) + 3), *q = quoted;
    *q++ = '"';
    for (const char *p = display; *p; p++) {
        if (*p == '"' || *p == '\\')
            *q++ = '\\';
        *q++ = *p;
    }
    *q++ = '"';
    *q = 0;
    return pmo_arena_printf (arena, "%s <%s>", quoted, address);
}

int notifier_format_email (const Pmo__Channel *channel, const notifier_message_t *msg,
                           int64_t now_ms, pmo_arena_t *arena, notifier_payload_t *out)
{
    view_t view;
    s_view (msg, arena, &view);
    memset (out, 0, sizeof *out);
    out->content_type = "message/rfc822";
    out->query = "";
    //  Email has room: a digest lists up to 500 events, the rest counted
    size_t shown = msg->n_notices < 500 ? msg->n_notices : 500;
    out->shown = shown;
    const char *text = pmo_arena_printf (arena, "%s\n\n", view.heading);
    if (*view.intro)
        text = pmo_arena_printf (arena, "%s%s\n\n", text, view.intro);
    const char *html = pmo_arena_printf (
        arena, "<!DOCTYPE html><html><body style=\"font-family:sans-serif\"><h2>%s</h2>",
        INERT (HTML, view.heading));
    if (*view.intro)
        html = pmo_arena_printf (arena, "%s<p><em>%s</em></p>", html, INERT (HTML, view.intro));
    for (size_t i = 0; i < shown; i++) {
        const Pmo__Notice *n = msg->notices[i];
        text = pmo_arena_printf (arena, "%s* %s\n  %s\n  Severity: %s. Where: %s.%s%s\n", text,
                                 n->title, n->summary, notifier_severity_name (n->severity),
                                 s_where (n, arena), *n->project_id ? " Project: " : "",
                                 *n->project_id ? n->project_label : "");
        html = pmo_arena_printf (
            arena,
            "%s<div style=\"border-left:4px solid %s;padding-left:8px;margin:12px 0\">"
            "<strong>%s</strong><br>%s<br><small>Severity: %s · Where: %s%s%s</small><ul>",
            html, s_color (n->severity), INERT (HTML, n->title), INERT (HTML, n->summary),
            notifier_severity_name (n->severity), INERT (HTML, s_where (n, arena)),
            *n->project_id ? " · Project: " : "",
            *n->project_id ? INERT (HTML, n->project_label) : "");
        for (size_t f = 0; f < n->n_facts; f++) {
            text = pmo_arena_printf (arena, "%s  %s: %s\n", text, n->facts[f]->title,
                                     n->facts[f]->value);
            html = pmo_arena_printf (arena, "%s<li>%s: %s</li>", html,
                                     INERT (HTML, n->facts[f]->title),
                                     INERT (HTML, n->facts[f]->value));
        }
        text = pmo_arena_printf (arena, "%s  %s\n", text, n->link);
        if (*n->action_link)
            text = pmo_arena_printf (arena, "%s  %s: %s\n", text, n->action, n->action_link);
        text = pmo_arena_printf (arena, "%s\n", text);
        html = pmo_arena_printf (arena, "%s</ul><a href=\"%s\">Open in the PMO dashboard</a>", html,
                                 INERT (HTML, n->link));
        if (*n->action_link)
            html = pmo_arena_printf (arena, "%s · <a href=\"%s\">%s</a>", html,
                                     INERT (HTML, n->action_link), n->action);
        html = pmo_arena_printf (arena, "%s</div>", html);
    }
    if (msg->total > shown) {
        text = pmo_arena_printf (arena, "%s%s\n", text, s_more (msg->total - shown, arena));
        html = pmo_arena_printf (arena, "%s<p>%s</p>", html,
                                 INERT (HTML, s_more (msg->total - shown, arena)));
    }
    text = pmo_arena_printf (arena, "%s--\nSent by pmo (delivery %s).\n", text, msg->delivery_id);
    html = pmo_arena_printf (arena,
                             "%s<hr><p><small>Sent by pmo (delivery %s).</small></p></body></html>",
                             html, msg->delivery_id);

    //  Headers (libcurl adds none): RFC 5322 date, ids, and RFC 3834 so
    //  auto-responders stay quiet
    time_t seconds = (time_t)(now_ms / 1000);
    struct tm tm;
    gmtime_r (&seconds, &tm);
    char date[64];
    strftime (date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);
    const char *to = "";
    for (size_t i = 0; i < channel->n_mail_to; i++)
        to = pmo_arena_printf (arena, "%s%s%s", to, i ? ",\r\n " : "",
                               s_mailbox_header (channel->mail_to[i], NULL, arena));
    const char *boundary = pmo_arena_printf (arena, "=_pmo_%s", msg->delivery_id);
    const char *from = s_mailbox_header (channel->mail_from, "pmo", arena);
    char from_name[256], from_address[256];
    const char *domain = notifier_mailbox (channel->mail_from, from_name, sizeof from_name,
                                           from_address, sizeof from_address) == 0
                             ? strrchr (from_address, '@')
                             : NULL;
    Pmo__Notice *first = msg->n_notices ? msg->notices[0] : NULL;
    out->body = pmo_arena_printf (
        arena,
        "Date: %s\r\n"
        "From: %s\r\n"
        "To: %s\r\n"
        "Subject: %s\r\n"
        "Message-ID: <%s%s>\r\n"
        "List-Id: pmo %s <%s.pmo>\r\n"
        "Auto-Submitted: auto-generated\r\n"
        "X-Pmo-Delivery: %s\r\n"
        "MIME-Version: 1.0\r\n"
        "Content-Type: multipart/alternative; boundary=\"%s\"\r\n"
        "\r\n"
        "This is a multi-part message in MIME format.\r\n"
        "--%s\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        "Content-Transfer-Encoding: base64\r\n"
        "\r\n"
        "%s"
        "--%s\r\n"
        "Content-Type: text/html; charset=utf-8\r\n"
        "Content-Transfer-Encoding: base64\r\n"
        "\r\n"
        "%s"
        "--%s--\r\n",
        date, from, to, s_header_text (pmo_arena_printf (arena, "[pmo] %s", view.heading), arena),
        msg->delivery_id, domain ? domain : "@pmo.invalid",
        first && *first->division ? first->division : "notifications",
        first && *first->division ? first->division : "notifications", msg->delivery_id, boundary,
        boundary, s_base64_lines (text, arena), boundary, s_base64_lines (html, arena), boundary);
    out->size = strlen (out->body);
    return 0;
}

//  ---------------------------------------------------------------------
//  Standard Webhooks signing

static EVP_MD *s_sha256_md;

static void s_sha256_fetch (void)
{
    s_sha256_md = EVP_MD_fetch (NULL, "SHA256", NULL);
}

const EVP_MD *notifier_sha256 (void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once (&once, s_sha256_fetch);
    return s_sha256_md;
}

//  HMAC-SHA256 (RFC 2104) of the pieces a and b joined, into mac (32
//  bytes); 0 or -1. With SHA-256 fetched once: OpenSSL 3's one-shot HMAC()
//  looks the algorithm up on every call, which was 40% of signing's
//  instructions (callgrind, bench_notifier); libsodium's SHA-256, in plain
//  C, took more than OpenSSL's assembly saves.
static int s_hmac_sha256 (const unsigned char *key, size_t klen, const void *a, size_t alen,
                          const void *b, size_t blen, unsigned char mac[32])
{
    const EVP_MD *md = notifier_sha256 ();
    EVP_MD_CTX *ctx = md ? EVP_MD_CTX_new () : NULL;
    if (!ctx)
        return -1;
    unsigned char k[64] = {0}, pad[64], inner[32];
    int ok = 1;
    if (klen > sizeof k)
        //  a key longer than a block is its digest
        ok = EVP_DigestInit_ex2 (ctx, md, NULL) && EVP_DigestUpdate (ctx, key, klen) &&
             EVP_DigestFinal_ex (ctx, k, NULL);
    else
        memcpy (k, key, klen);
    for (size_t i = 0; i < sizeof pad; i++)
        pad[i] = k[i] ^ 0x36;
    ok = ok && EVP_DigestInit_ex2 (ctx, md, NULL) && EVP_DigestUpdate (ctx, pad, sizeof pad) &&
         EVP_DigestUpdate (ctx, a, alen) && EVP_DigestUpdate (ctx, b, blen) &&
         EVP_DigestFinal_ex (ctx, inner, NULL);
    for (size_t i = 0; i < sizeof pad; i++)
        pad[i] = k[i] ^ 0x5c;
    ok = ok && EVP_DigestInit_ex2 (ctx, md, NULL) && EVP_DigestUpdate (ctx, pad, sizeof pad) &&
         EVP_DigestUpdate (ctx, inner, sizeof inner) && EVP_DigestFinal_ex (ctx, mac, NULL);
    EVP_MD_CTX_free (ctx);
    OPENSSL_cleanse (k, sizeof k);
    OPENSSL_cleanse (pad, sizeof pad);
    return ok ? 0 : -1;
}

char *notifier_sign_one (const char *secret, const char *msg_id, int64_t timestamp_s,
                         const char *body, size_t size, pmo_arena_t *arena)
{
    if (!notifier_secret_valid (secret))
        return NULL;
    const char *b64 = secret + 6;
    size_t len = strlen (b64);
    unsigned char key[128];
    int klen = EVP_DecodeBlock (key, (const unsigned char *)b64, (int)len);
    if (b64[len - 1] == '=')
        klen--;
    if (b64[len - 2] == '=')
        klen--;
    //  signed content: "{id}.{timestamp}.{body}", the exact bytes sent,
    //  hashed in place
    char prefix[160];
    int plen = snprintf (prefix, sizeof prefix, "%s.%lld.", msg_id, (long long)timestamp_s);
    if (plen < 0 || (size_t)plen >= sizeof prefix || klen < 0)
        return NULL;
    unsigned char mac[32];
    if (s_hmac_sha256 (key, (size_t)klen, prefix, (size_t)plen, body, size, mac))
        return NULL;
    return s_base64 (mac, sizeof mac, arena);
}

char *notifier_sign (const char *msg_id, int64_t timestamp_s, const char *body, size_t size,
                     Pmo__SigningSecret *const *secrets, size_t n, int64_t now_ms,
                     pmo_arena_t *arena)
{
    char *header = NULL;
    for (size_t i = 0; i < n; i++) {
        if (secrets[i]->expires_ms && secrets[i]->expires_ms <= now_ms)
            continue;
        char *one = notifier_sign_one (secrets[i]->secret, msg_id, timestamp_s, body, size, arena);
        if (!one)
            continue;
        header = header ? pmo_arena_printf (arena, "%s v1,%s", header, one)
                        : pmo_arena_printf (arena, "v1,%s", one);
    }
    return header;
}
