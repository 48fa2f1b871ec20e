/*  pmoctl_notifier.c: the notifier's commands.

    channel create|update|get|list|archive|rotate|test, subscription
    create|update|get|list|archive, deliveries list|get|retry|discard,
    deadletters list|retry|discard and notifier ping: a row each in the
    table at the end, run by pmoctl_run_call. Requests are JSON objects
    converted to protobuf by the generic mapping (enum flags take the JSON
    labels, e.g. --kind google_chat); updates, retries and discards read the
    record first and send the version read. A webhook channel created
    without --secret gets a fresh signing secret made here and printed
    once: the notifier never returns secrets in full. The notifier is
    reached at $PMO_NOTIFIER_ENDPOINT.
*/
#include "pmoctl.h"

#include "notifier.pb-c.h"
#include "pmo_json.h"
#include "pmo_reflect.h"
#include "pmo_wire.h"

#include <czmq.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static const pmoctl_flag_t s_channel_flags[] = {
    JSTR ("kind", "slack|slack_api|teams|mattermost|google_chat|webhook|email", "kind", 0,
          "required to create"),
    JSTR ("name", "TEXT", "name", 0, "what people call it (required to create)"),
    JSTR ("org-unit", "UNIT", "org_unit", 0, "the unit that owns it (required to create)"),
    JSTR ("url", "URL", "url", 0, "the webhook URL (a secret: shown masked afterwards)"),
    F ("secret", "whsec_...", 0, "webhook signing secret (default: a new one, printed once)"),
    JSTR ("smtp-url", "URL", "smtp_url", 0,
          "email: smtp://host:587 (STARTTLS) or smtps://host:465"),
    JSTR ("smtp-user", "NAME", "smtp_user", 0, "email: SMTP login"),
    JSTR ("smtp-password", "TEXT", "smtp_password", 0,
          "email: SMTP password (better: PMO_SMTP_PASSWORD)"),
    JSTR ("from", "ADDRESS", "mail_from", 0, "email: sender address"),
    JLIST ("to", "A,B", "mail_to", "email: recipients"),
    JINT ("rate", "N", "rate_per_minute", 0, 0, 6000,
          "messages per minute at most (0 = the kind's default)"),
    JSTR ("digest", "none|hourly|daily", "digest", 0, "batch low-severity events"),
    JSTR ("digest-below", "low|medium|high|critical", "digest_below", 0,
          "severities below this go to the digest"),
    JINT ("coalesce", "SECONDS", "coalesce_s", 0, -1, 3600,
          "a project's burst within this window is one message (-1 = never)"),
    JSTR ("bot-token", "xoxb-...", "bot_token", 0,
          "slack_api: the app's bot token (better: PMO_SLACK_BOT_TOKEN)"),
    JSTR ("slack-channel", "C0123ABCD", "slack_channel", 0,
          "slack_api: the conversation id (the app must be in it)"),
    JSTR ("interact-secret", "TEXT", "interact_secret", 0,
          "Slack, Mattermost: take clicks on pmo's buttons; Slack: the app's signing secret, "
          "Mattermost: a secret of your own (better: PMO_INTERACT_SECRET; \"\" = no buttons)"),
    F ("chat-user", "ID=SUBJECT:ROLE@UNIT,...", 0,
       "map a chat user id to the pmo identity their clicks act as (added or replaced)"),
    F ("drop-chat-user", "ID", 0, "forget a chat user"),
    SW ("disable", "stop sending (deliveries wait)"),
    SW ("enable", "send again (e.g. after the endpoint answered 410)"),
    END,
};

static const pmoctl_flag_t s_channel_list_flags[] = {
    JSTR ("org-unit", "UNIT", "org_unit", 0, "only this subtree"),
    JSWITCH ("archived", "include_archived", "archived ones too"),
    END,
};

static const pmoctl_flag_t s_rotate_flags[] = {
    F ("secret", "whsec_...", 0, "the new signing secret (default: a new one, printed once)"),
    F ("previous-valid", "SECONDS", 0, "how long the old secret still signs (default 86400)"),
    END,
};

static const pmoctl_flag_t s_test_flags[] = {
    F ("wait", "SECONDS", 0, "wait this long for the outcome (default 20; 0 = do not wait)"),
    END,
};

static const pmoctl_flag_t s_subscription_flags[] = {
    JSTR ("channel", "ID", "channel_id", 0, "the channel (required to create)"),
    JSTR ("org-unit", "UNIT", "org_unit", 0, "the subtree covered (default: the channel's unit)"),
    JSTR ("project", "ID|CODE", "project_id", 0, "only this project's events (id or code)"),
    JLIST ("types", "A,B", "event_types",
           "event types: project.created, project.*, * (default: all)"),
    JSTR ("min-severity", "info|low|medium|high|critical", "min_severity", 0,
          "only events at least this bad"),
    JSTR ("quiet-hours", "HH:MM-HH:MM", "quiet_hours", 0,
          "UTC; meanwhile all but critical events wait and come as one digest (\"\" = none)"),
    END,
};

static const pmoctl_flag_t s_subscription_list_flags[] = {
    JSTR ("channel", "ID", "channel_id", 0, "one channel's"),
    JSTR ("org-unit", "UNIT", "org_unit", 0, "only this subtree"),
    JSWITCH ("archived", "include_archived", "archived ones too"),
    END,
};

static const pmoctl_flag_t s_deliveries_flags[] = {
    JSTR ("channel", "ID", "channel_id", 0, "one channel (default: every channel you may see)"),
    JSTR ("state", "pending|delivered|dead|discarded", "state", 0,
          "default pending (deadletters: dead)"),
    JINT ("limit", "N", "limit", 0, 1, 500, "1..500 (default 50)"),
    JSTR ("cursor", "TEXT", "cursor", 0, "the next page, as printed after a full page"),
    END,
};

//  ---------------------------------------------------------------------
//  Requests

//  A new Standard Webhooks secret: "whsec_" + base64 of 32 random bytes.
static char *s_new_secret (pmoctl_t *ctl)
{
    unsigned char key[32];
    FILE *random = fopen ("/dev/urandom", "rb");
    size_t got = random ? fread (key, 1, sizeof key, random) : 0;
    if (random)
        fclose (random);
    if (got != sizeof key)
        return NULL;
    //  standard base64 with padding (pmoctl does not link OpenSSL)
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char b64[64], *o = b64;
    for (size_t i = 0; i < sizeof key; i += 3) {
        unsigned v = (unsigned)key[i] << 16 | (i + 1 < sizeof key ? (unsigned)key[i + 1] << 8 : 0) |
                     (i + 2 < sizeof key ? key[i + 2] : 0);
        *o++ = alphabet[(v >> 18) & 63];
        *o++ = alphabet[(v >> 12) & 63];
        *o++ = i + 1 < sizeof key ? alphabet[(v >> 6) & 63] : '=';
        *o++ = i + 2 < sizeof key ? alphabet[v & 63] : '=';
    }
    *o = 0;
    return pmo_arena_printf (ctl->arena, "whsec_%s", b64);
}

//  Read a record as JSON (for an update), stripped of what the service
//  computes. NULL after printing why.
static json_t *s_read (pmoctl_t *ctl, const char *member, const char *id, const char *reply_field)
{
    json_t *ref = json_pack ("{s:s}", "id", id);
    ProtobufCMessage *reply = pmoctl_service_call (ctl, PMOCTL_NOTIFIER, member, ref);
    json_decref (ref);
    if (!reply)
        return NULL;
    ProtobufCMessage **slot = pmo_wire_message_slot (reply, reply_field);
    json_t *entry = slot && *slot ? pmo_json_from_message (*slot) : NULL;
    static const char *computed[] = {"org_unit_path", "division", "created_ms",      "updated_ms",
                                     "created_by",    "archived", "disabled_reason", NULL};
    for (size_t i = 0; entry && computed[i]; i++)
        json_object_del (entry, computed[i]);
    return entry;
}

//  The record the command names: "channel" or "subscription".
static const char *s_record (const pmoctl_command_t *cmd)
{
    return streq (cmd->group, "channel") ? "channel" : "subscription";
}

//  An update starts from the record read; NULL after saying why.
static json_t *s_start (pmoctl_t *ctl, const pmoctl_command_t *cmd, pmoctl_args_t *args)
{
    if (streq (cmd->verb, "create"))
        return json_object ();
    const char *record = s_record (cmd);
    return s_read (ctl, pmo_arena_printf (ctl->arena, "get_%s", record), args->positional, record);
}

//  --chat-user ID=SUBJECT:ROLE@UNIT,... adds (or replaces) a chat user;
//  --drop-chat-user ID removes one. The notifier checks the rest.
static int s_chat_users (const pmoctl_command_t *cmd, pmoctl_args_t *args, json_t *body)
{
    const char *add = pmoctl_args_get (args, "chat-user");
    const char *drop = pmoctl_args_get (args, "drop-chat-user");
    if (!add && !drop)
        return 0;
    json_t *users = json_object_get (body, "chat_users");
    if (!json_is_array (users)) {
        users = json_array ();
        json_object_set_new (body, "chat_users", users);
    }
    char id[128] = "";
    const char *eq = add ? strchr (add, '=') : NULL;
    const char *colon = eq ? strchr (eq, ':') : NULL;
    if (add && (!eq || !colon || eq == add || colon == eq + 1 || !colon[1] ||
                (size_t)(eq - add) >= sizeof id))
        return pmoctl_usage_error (cmd, "--chat-user is ID=SUBJECT:ROLE@UNIT[,ROLE@UNIT...], "
                                        "e.g. U024BE7LH=jane@dft:resource_manager@dft");
    if (add)
        snprintf (id, sizeof id, "%.*s", (int)(eq - add), add);
    //  The one named goes (to be replaced, or dropped)
    for (size_t i = json_array_size (users); i-- > 0;) {
        const char *have =
            json_string_value (json_object_get (json_array_get (users, i), "chat_user_id"));
        if (have && ((add && streq (have, id)) || (drop && streq (have, drop))))
            json_array_remove (users, i);
    }
    if (!add)
        return 0;
    json_t *grants = json_array ();
    char *list = strdup (colon + 1), *save = NULL;
    for (char *g = strtok_r (list, ",", &save); g; g = strtok_r (NULL, ",", &save)) {
        while (*g == ' ')
            g++;
        char *at = strchr (g, '@');
        if (!at || at == g || !at[1]) {
            free (list);
            json_decref (grants);
            return pmoctl_usage_error (cmd, "--chat-user: a grant is ROLE@UNIT");
        }
        *at = 0;
        json_array_append_new (grants, json_pack ("{s:s, s:s}", "role", g, "org_unit", at + 1));
    }
    free (list);
    json_array_append_new (users, json_pack ("{s:s, s:s%, s:o}", "chat_user_id", id, "subject",
                                             eq + 1, (size_t)(colon - eq - 1), "grants", grants));
    return 0;
}

static int s_build_channel (pmoctl_t *ctl, const pmoctl_command_t *cmd, pmoctl_args_t *args,
                            pmoctl_request_t *request)
{
    bool create = streq (cmd->verb, "create");
    json_t *body = s_start (ctl, cmd, args);
    if (!body)
        return ctl->status;
    json_object_update (request->body, body);
    json_decref (body);
    body = request->body;
    if (!create && (pmoctl_args_get (args, "kind") || pmoctl_args_get (args, "org-unit")))
        return pmoctl_usage_error (cmd, "a channel's kind and org unit do not change");
    if (create && (!pmoctl_args_get (args, "kind") || !pmoctl_args_get (args, "name") ||
                   !pmoctl_args_get (args, "org-unit")))
        return pmoctl_usage_error (cmd, "--kind, --name and --org-unit are required");
    int rc = pmoctl_args_json (cmd, args, body);
    if (rc)
        return rc;
    //  an SMTP password from the environment stays out of shell history
    const char *password = getenv ("PMO_SMTP_PASSWORD");
    if (password && *password && !pmoctl_args_get (args, "smtp-password"))
        json_object_set_new (body, "smtp_password", json_string (password));
    const char *bot = getenv ("PMO_SLACK_BOT_TOKEN");
    if (bot && *bot && !pmoctl_args_get (args, "bot-token"))
        json_object_set_new (body, "bot_token", json_string (bot));
    const char *interact = getenv ("PMO_INTERACT_SECRET");
    if (interact && *interact && !pmoctl_args_get (args, "interact-secret"))
        json_object_set_new (body, "interact_secret", json_string (interact));
    rc = s_chat_users (cmd, args, body);
    if (rc)
        return rc;
    if (pmoctl_args_get (args, "disable"))
        json_object_set_new (body, "disabled", json_true ());
    if (pmoctl_args_get (args, "enable"))
        json_object_set_new (body, "disabled", json_false ());
    const char *secret = pmoctl_args_get (args, "secret");
    if (create && !secret && streq (pmoctl_args_get (args, "kind"), "webhook")) {
        secret = s_new_secret (ctl);
        request->notice = pmo_arena_printf (ctl->arena,
                                            "pmoctl: the channel's signing secret (shown only "
                                            "now; give it to the receiver):\n%s\n",
                                            secret);
    }
    if (secret && !create)
        return pmoctl_usage_error (cmd, "change a signing secret with: pmoctl channel rotate");
    if (secret)
        json_object_set_new (body, "signing_secrets", json_pack ("[{s:s}]", "secret", secret));
    return 0;
}

static int s_build_subscription (pmoctl_t *ctl, const pmoctl_command_t *cmd, pmoctl_args_t *args,
                                 pmoctl_request_t *request)
{
    json_t *body = s_start (ctl, cmd, args);
    if (!body)
        return ctl->status;
    json_object_update (request->body, body);
    json_decref (body);
    if (streq (cmd->verb, "create") && !pmoctl_args_get (args, "channel"))
        return pmoctl_usage_error (cmd, "--channel is required");
    int rc = pmoctl_args_json (cmd, args, request->body);
    //  a project by its code, as everywhere else
    const char *project = json_string_value (json_object_get (request->body, "project_id"));
    if (!rc && project && *project) {
        const char *id;
        rc = pmoctl_resolve_project (ctl, project, &id);
        if (!rc)
            json_object_set_new (request->body, "project_id", json_string (id));
    }
    return rc;
}

static int s_build_id (pmoctl_t *ctl, const pmoctl_command_t *cmd, pmoctl_args_t *args,
                       pmoctl_request_t *request)
{
    json_object_set_new (request->body, "id", json_string (args->positional));
    return 0;
}

//  Archive a channel or a subscription with the version read.
static int s_build_archive (pmoctl_t *ctl, const pmoctl_command_t *cmd, pmoctl_args_t *args,
                            pmoctl_request_t *request)
{
    const char *record = s_record (cmd);
    json_t *entry =
        s_read (ctl, pmo_arena_printf (ctl->arena, "get_%s", record), args->positional, record);
    if (!entry)
        return ctl->status;
    json_object_set_new (request->body, "id", json_string (args->positional));
    json_object_set (request->body, "version", json_object_get (entry, "version"));
    json_decref (entry);
    return 0;
}

static int s_build_rotate (pmoctl_t *ctl, const pmoctl_command_t *cmd, pmoctl_args_t *args,
                           pmoctl_request_t *request)
{
    json_t *entry = s_read (ctl, "get_channel", args->positional, "channel");
    if (!entry)
        return ctl->status;
    const char *secret = pmoctl_args_get (args, "secret");
    if (!secret) {
        secret = s_new_secret (ctl);
        request->notice = pmo_arena_printf (
            ctl->arena, "pmoctl: the new signing secret (shown only now):\n%s\n", secret);
    }
    json_object_set_new (request->body, "channel_id", json_string (args->positional));
    json_object_set (request->body, "version", json_object_get (entry, "version"));
    json_object_set_new (request->body, "secret", json_string (secret));
    json_decref (entry);
    const char *previous = pmoctl_args_get (args, "previous-valid");
    if (previous)
        json_object_set_new (request->body, "previous_valid_s", json_integer (atol (previous)));
    return 0;
}

//  --wait: how long channel test follows its delivery, in seconds.
static long s_wait_s (pmoctl_args_t *args)
{
    const char *wait_text = pmoctl_args_get (args, "wait");
    return wait_text ? strtol (wait_text, NULL, 10) : 20;
}

static int s_build_test (pmoctl_t *ctl, const pmoctl_command_t *cmd, pmoctl_args_t *args,
                         pmoctl_request_t *request)
{
    long wait_s = s_wait_s (args);
    if (wait_s < 0 || wait_s > 600)
        return pmoctl_usage_error (cmd, "--wait is 0..600 seconds");
    return s_build_id (ctl, cmd, args, request);
}

static int s_build_deliveries (pmoctl_t *ctl, const pmoctl_command_t *cmd, pmoctl_args_t *args,
                               pmoctl_request_t *request)
{
    int rc = pmoctl_args_json (cmd, args, request->body);
    if (streq (cmd->group, "deadletters") && !json_object_get (request->body, "state"))
        json_object_set_new (request->body, "state", json_string ("dead"));
    return rc;
}

//  Retry or discard: read the delivery for its version.
static int s_build_delivery_change (pmoctl_t *ctl, const pmoctl_command_t *cmd, pmoctl_args_t *args,
                                    pmoctl_request_t *request)
{
    json_t *ref = json_pack ("{s:s}", "id", args->positional);
    Pmo__NotifierReply *reply =
        (Pmo__NotifierReply *)pmoctl_service_call (ctl, PMOCTL_NOTIFIER, "get_delivery", ref);
    json_decref (ref);
    if (!reply)
        return ctl->status;
    json_object_set_new (request->body, "id", json_string (args->positional));
    json_object_set_new (request->body, "version",
                         json_integer ((json_int_t)reply->delivery->version));
    return 0;
}

//  ---------------------------------------------------------------------
//  Output

static int s_show_channels (pmoctl_t *ctl, const pmoctl_command_t *cmd, pmoctl_args_t *args,
                            ProtobufCMessage *reply)
{
    static const pmoctl_column_t cols[] = {
        {"ID", "id", 0, NULL},
        {"NAME", "name", 30, NULL},
        {"KIND", "kind", 0, NULL},
        {"UNIT", "org_unit_path", 30, NULL},
        {"URL", "url", 40, NULL},
        {"DIGEST", "digest", 0, NULL},
        {"DISABLED", "disabled_reason", 40, NULL},
        {NULL, NULL, 0, NULL},
    };
    pmoctl_print_items (ctl, &((Pmo__NotifierReply *)reply)->channels->base, "channels", cols);
    return PMOCTL_OK;
}

static int s_show_subscriptions (pmoctl_t *ctl, const pmoctl_command_t *cmd, pmoctl_args_t *args,
                                 ProtobufCMessage *reply)
{
    static const pmoctl_column_t cols[] = {
        {"ID", "id", 0, NULL},
        {"CHANNEL", "channel_id", 0, NULL},
        {"SUBTREE", "org_unit_path", 30, NULL},
        {"PROJECT", "project_id", 0, NULL},
        {"TYPES", "event_types", 40, NULL},
        {"MIN SEVERITY", "min_severity", 0, NULL},
        {NULL, NULL, 0, NULL},
    };
    pmoctl_print_items (ctl, &((Pmo__NotifierReply *)reply)->subscriptions->base, "subscriptions",
                        cols);
    return PMOCTL_OK;
}

static const char *s_when (pmoctl_t *ctl, const ProtobufCMessage *msg)
{
    const Pmo__Delivery *d = (const Pmo__Delivery *)msg;
    int64_t ms = d->state == PMO__DELIVERY_STATE__DELIVERY_STATE_PENDING ? d->due_ms : d->done_ms;
    if (d->in_flight)
        return "sending";
    return ms ? pmoctl_format_time (ctl->arena, ms, false) : "";
}

static int s_show_deliveries (pmoctl_t *ctl, const pmoctl_command_t *cmd, pmoctl_args_t *args,
                              ProtobufCMessage *reply)
{
    static const pmoctl_column_t cols[] = {
        {"ID", "id", 0, NULL},
        {"CHANNEL", "channel_id", 0, NULL},
        {"KIND", "kind", 0, NULL},
        {"STATE", "state", 0, NULL},
        {"EVENTS", "notice_count", 0, NULL},
        {"ATTEMPTS", "attempt_count", 0, NULL},
        {"DUE/DONE", NULL, 0, s_when},
        {"LAST ERROR", "last_error", 60, NULL},
        {NULL, NULL, 0, NULL},
    };
    const Pmo__DeliveryPage *page = ((Pmo__NotifierReply *)reply)->deliveries;
    pmoctl_print_items (ctl, &page->base, "deliveries", cols);
    if (!pmo_str_empty (page->next_cursor))
        printf ("more: --cursor '%s'\n", page->next_cursor);
    return PMOCTL_OK;
}

//  Follow a test message's delivery until it is settled or --wait is up;
//  not delivered is exit 1. Prints --json too.
static int s_show_test (pmoctl_t *ctl, const pmoctl_command_t *cmd, pmoctl_args_t *args,
                        ProtobufCMessage *msg)
{
    Pmo__NotifierReply *reply = (Pmo__NotifierReply *)msg;
    long wait_s = s_wait_s (args);
    char *id = pmo_arena_strdup (ctl->arena, reply->delivery->id);
    int64_t deadline = pmo_mono_ms () + wait_s * 1000;
    while (wait_s > 0) {
        json_t *ref = json_pack ("{s:s}", "id", id);
        reply =
            (Pmo__NotifierReply *)pmoctl_service_call (ctl, PMOCTL_NOTIFIER, "get_delivery", ref);
        json_decref (ref);
        if (!reply)
            return ctl->status;
        Pmo__Delivery *d = reply->delivery;
        if (d->state != PMO__DELIVERY_STATE__DELIVERY_STATE_PENDING || pmo_mono_ms () > deadline)
            break;
        zclock_sleep (250);
    }
    ProtobufCMessage *delivery = pmoctl_reply_member (&reply->base, "delivery");
    int rc = PMOCTL_OK;
    if (ctl->json)
        rc = pmoctl_print_json (delivery);
    else
        pmoctl_print_entity (ctl, delivery, stdout);
    if (rc == PMOCTL_OK &&
        reply->delivery->state != PMO__DELIVERY_STATE__DELIVERY_STATE_DELIVERED && wait_s > 0) {
        fprintf (stderr, "pmoctl: the test message was not delivered%s%s\n",
                 *reply->delivery->last_error ? ": " : " yet", reply->delivery->last_error);
        rc = PMOCTL_REFUSED;
    }
    return rc;
}

//  ---------------------------------------------------------------------
//  The commands: group, verb, ID, flags, request member, builder (NULL:
//  the flags' fields), printer, what --json prints (NULL: the reply)

#define CALL(...) PMOCTL_CALL (PMOCTL_NOTIFIER, __VA_ARGS__)
#define ENTITY    pmoctl_show_entity

const pmoctl_command_t pmoctl_notifier_commands[] = {
    CALL ("notifier", "ping", NULL, NULL, "ping", NULL, pmoctl_show_pong, PMOCTL_JSON_BY_SHOW,
          "is the notifier up, and its Redis? (exit 0 only if both)"),
    CALL ("channel", "create", NULL, s_channel_flags, "create_channel", s_build_channel, ENTITY,
          "channel", "a Slack, Teams, Mattermost, Google Chat, webhook or email channel"),
    CALL ("channel", "update", "ID", s_channel_flags, "update_channel", s_build_channel, ENTITY,
          "channel", "change a channel (--enable after a 410; secrets kept unless given)"),
    CALL ("channel", "get", "ID", NULL, "get_channel", s_build_id, ENTITY, "channel",
          "show a channel (secrets masked)"),
    CALL ("channel", "list", NULL, s_channel_list_flags, "list_channels", NULL, s_show_channels,
          "channels", "list channels"),
    CALL ("channel", "archive", "ID", NULL, "archive_channel", s_build_archive, ENTITY, "channel",
          "archive a channel"),
    CALL ("channel", "rotate", "ID", s_rotate_flags, "rotate_secret", s_build_rotate, ENTITY,
          "channel", "rotate a webhook's signing secret (both sign for a while)"),
    CALL ("channel", "test", "ID", s_test_flags, "test_channel", s_build_test, s_show_test,
          PMOCTL_JSON_BY_SHOW, "send a test message and show how it went"),
    CALL ("subscription", "create", NULL, s_subscription_flags, "create_subscription",
          s_build_subscription, ENTITY, "subscription",
          "route events (types, severity, subtree or project) to a channel"),
    CALL ("subscription", "update", "ID", s_subscription_flags, "update_subscription",
          s_build_subscription, ENTITY, "subscription", "change a subscription"),
    CALL ("subscription", "get", "ID", NULL, "get_subscription", s_build_id, ENTITY, "subscription",
          "show a subscription"),
    CALL ("subscription", "list", NULL, s_subscription_list_flags, "list_subscriptions", NULL,
          s_show_subscriptions, "subscriptions", "list subscriptions"),
    CALL ("subscription", "archive", "ID", NULL, "archive_subscription", s_build_archive, ENTITY,
          "subscription", "archive a subscription"),
    CALL ("deliveries", "list", NULL, s_deliveries_flags, "list_deliveries", s_build_deliveries,
          s_show_deliveries, "deliveries", "deliveries by channel and state (default: pending)"),
    CALL ("deliveries", "get", "ID", NULL, "get_delivery", s_build_id, ENTITY, "delivery",
          "a delivery with its events and every attempt"),
    CALL ("deliveries", "retry", "ID", NULL, "retry_delivery", s_build_delivery_change, ENTITY,
          "delivery", "send a delivery again now"),
    CALL ("deliveries", "discard", "ID", NULL, "discard_delivery", s_build_delivery_change, ENTITY,
          "delivery", "drop a pending or dead delivery"),
    CALL ("deadletters", "list", NULL, s_deliveries_flags, "list_deliveries", s_build_deliveries,
          s_show_deliveries, "deliveries", "deliveries given up on (dead letters)"),
    CALL ("deadletters", "retry", "ID", NULL, "retry_delivery", s_build_delivery_change, ENTITY,
          "delivery", "send a dead letter again now"),
    CALL ("deadletters", "discard", "ID", NULL, "discard_delivery", s_build_delivery_change, ENTITY,
          "delivery", "drop a dead letter"),
    PMOCTL_END,
};
