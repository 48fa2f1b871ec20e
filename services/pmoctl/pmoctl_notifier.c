/*  pmoctl_notifier.c: the notifier's commands.

    channel create|update|get|list|archive|rotate|test, subscription
    create|update|get|list|archive, deliveries list|get|retry|discard,
    deadletters list|retry|discard and notifier ping. Requests are built as
    JSON objects from the flags and converted to protobuf by the generic
    mapping (enum flags take the JSON labels, e.g. --kind google_chat);
    updates, retries and discards read the record first and send the
    version read. A webhook channel created without --secret gets a fresh
    signing secret made here and printed once: the notifier never returns
    secrets in full. The notifier is reached at $PMO_NOTIFIER_ENDPOINT
    (default tcp://127.0.0.1:7104).
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

static const pmoctl_flag_t pmoctl_notifier_flags_channel[] = {
    F ("kind", "slack|teams|mattermost|google_chat|webhook|email", 0, "required to create"),
    F ("name", "TEXT", 0, "what people call it (required to create)"),
    F ("org-unit", "UNIT", 0, "the unit that owns it (required to create)"),
    F ("url", "URL", 0, "the webhook URL (a secret: shown masked afterwards)"),
    F ("secret", "whsec_...", 0, "webhook signing secret (default: a new one, printed once)"),
    F ("smtp-url", "URL", 0, "email: smtp://host:587 (STARTTLS) or smtps://host:465"),
    F ("smtp-user", "NAME", 0, "email: SMTP login"),
    F ("smtp-password", "TEXT", 0, "email: SMTP password (better: PMO_SMTP_PASSWORD)"),
    F ("from", "ADDRESS", 0, "email: sender address"),
    F ("to", "A,B", 0, "email: recipients"),
    F ("rate", "N", 0, "messages per minute at most (0 = the kind's default)"),
    F ("digest", "none|hourly|daily", 0, "batch low-severity events"),
    F ("digest-below", "low|medium|high|critical", 0, "severities below this go to the digest"),
    F ("coalesce", "SECONDS", 0,
       "a project's burst within this window is one message (-1 = never)"),
    SW ("disable", "stop sending (deliveries wait)"),
    SW ("enable", "send again (e.g. after the endpoint answered 410)"),
    END,
};

static const pmoctl_flag_t pmoctl_notifier_flags_channel_list[] = {
    F ("org-unit", "UNIT", 0, "only this subtree"),
    SW ("archived", "archived ones too"),
    END,
};

static const pmoctl_flag_t pmoctl_notifier_flags_rotate[] = {
    F ("secret", "whsec_...", 0, "the new signing secret (default: a new one, printed once)"),
    F ("previous-valid", "SECONDS", 0, "how long the old secret still signs (default 86400)"),
    END,
};

static const pmoctl_flag_t pmoctl_notifier_flags_test[] = {
    F ("wait", "SECONDS", 0, "wait this long for the outcome (default 20; 0 = do not wait)"),
    END,
};

static const pmoctl_flag_t pmoctl_notifier_flags_subscription[] = {
    F ("channel", "ID", 0, "the channel (required to create)"),
    F ("org-unit", "UNIT", 0, "the subtree covered (default: the channel's unit)"),
    F ("project", "ID", 0, "only this project's events"),
    F ("types", "A,B", 0, "event types: project.created, project.*, * (default: all)"),
    F ("min-severity", "info|low|medium|high|critical", 0, "only events at least this bad"),
    END,
};

static const pmoctl_flag_t pmoctl_notifier_flags_subscription_list[] = {
    F ("channel", "ID", 0, "one channel's"),
    F ("org-unit", "UNIT", 0, "only this subtree"),
    SW ("archived", "archived ones too"),
    END,
};

static const pmoctl_flag_t pmoctl_notifier_flags_deliveries[] = {
    F ("channel", "ID", 0, "one channel (default: every channel you may see)"),
    F ("state", "pending|delivered|dead|discarded", 0, "default pending (deadletters: dead)"),
    F ("limit", "N", 0, "1..500 (default 50)"),
    F ("cursor", "TEXT", 0, "the next page, as printed after a full page"),
    END,
};

//  Send body (JSON, owned by the caller) as the NotifierRequest member.
//  Returns the reply in the arena, or NULL after printing why (status set).
static Pmo__NotifierReply *s_call (pmoctl_t *ctl, const char *member, json_t *body)
{
    return (Pmo__NotifierReply *)pmoctl_service_call (ctl, PMOCTL_NOTIFIER, member, body);
}

//  ---------------------------------------------------------------------
//  Flags into JSON

typedef struct {
    const char *flag;
    const char *field;
    char type; //  's' string (and enum labels), 'i' integer, 'l' list "a,b"
    long min, max;
} map_t;

static const map_t s_channel_map[] = {
    {"kind", "kind", 's', 0, 0},
    {"name", "name", 's', 0, 0},
    {"org-unit", "org_unit", 's', 0, 0},
    {"url", "url", 's', 0, 0},
    {"smtp-url", "smtp_url", 's', 0, 0},
    {"smtp-user", "smtp_user", 's', 0, 0},
    {"smtp-password", "smtp_password", 's', 0, 0},
    {"from", "mail_from", 's', 0, 0},
    {"to", "mail_to", 'l', 0, 0},
    {"rate", "rate_per_minute", 'i', 0, 6000},
    {"digest", "digest", 's', 0, 0},
    {"digest-below", "digest_below", 's', 0, 0},
    {"coalesce", "coalesce_s", 'i', -1, 3600},
    {NULL, NULL, 0, 0, 0},
};

static const map_t s_subscription_map[] = {
    {"channel", "channel_id", 's', 0, 0},        {"org-unit", "org_unit", 's', 0, 0},
    {"project", "project_id", 's', 0, 0},        {"types", "event_types", 'l', 0, 0},
    {"min-severity", "min_severity", 's', 0, 0}, {NULL, NULL, 0, 0, 0},
};

static const map_t s_deliveries_map[] = {
    {"channel", "channel_id", 's', 0, 0},
    {"state", "state", 's', 0, 0},
    {"limit", "limit", 'i', 1, 500},
    {"cursor", "cursor", 's', 0, 0},
    {NULL, NULL, 0, 0, 0},
};

//  Write the flags given into obj. 0 or a usage status.
static int s_apply (json_t *obj, const pmoctl_command_t *cmd, const pmoctl_args_t *args,
                    const map_t *map)
{
    for (const map_t *m = map; m->flag; m++) {
        const char *value = pmoctl_args_get (args, m->flag);
        if (!value)
            continue;
        if (m->type == 's')
            json_object_set_new (obj, m->field, json_string (value));
        else if (m->type == 'l') {
            json_t *list = json_array ();
            char *copy = strdup (value), *save = NULL;
            for (char *one = strtok_r (copy, ",", &save); one; one = strtok_r (NULL, ",", &save))
                json_array_append_new (list, json_string (one));
            free (copy);
            json_object_set_new (obj, m->field, list);
        } else {
            char *end = NULL;
            long n = strtol (value, &end, 10);
            if (!*value || *end || n < m->min || n > m->max)
                return pmoctl_usage_error (cmd, "--%s '%s': a whole number from %ld to %ld",
                                           m->flag, value, m->min, m->max);
            json_object_set_new (obj, m->field, json_integer (n));
        }
    }
    return 0;
}

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

static int s_show (pmoctl_t *ctl, Pmo__NotifierReply *reply)
{
    if (!reply)
        return ctl->status;
    ProtobufCMessage *body = NULL;
    switch (reply->body_case) {
    case PMO__NOTIFIER_REPLY__BODY_CHANNEL:
        body = &reply->channel->base;
        break;
    case PMO__NOTIFIER_REPLY__BODY_SUBSCRIPTION:
        body = &reply->subscription->base;
        break;
    case PMO__NOTIFIER_REPLY__BODY_DELIVERY:
        body = &reply->delivery->base;
        break;
    default:
        body = &reply->base;
        break;
    }
    if (ctl->json)
        return pmoctl_print_json (body);
    pmoctl_print_entity (ctl, body, stdout);
    return PMOCTL_OK;
}

//  Read a record as JSON (for an update), stripped of what the service
//  computes. NULL after printing why.
static json_t *s_read (pmoctl_t *ctl, const char *member, const char *id, const char *reply_field)
{
    json_t *ref = json_pack ("{s:s}", "id", id);
    Pmo__NotifierReply *reply = s_call (ctl, member, ref);
    json_decref (ref);
    if (!reply)
        return NULL;
    ProtobufCMessage **slot = pmo_wire_message_slot (&reply->base, reply_field);
    json_t *entry = slot && *slot ? pmo_json_from_message (*slot) : NULL;
    static const char *computed[] = {"org_unit_path", "division", "created_ms",      "updated_ms",
                                     "created_by",    "archived", "disabled_reason", NULL};
    for (size_t i = 0; entry && computed[i]; i++)
        json_object_del (entry, computed[i]);
    return entry;
}

static const char *s_when (pmoctl_t *ctl, const ProtobufCMessage *msg)
{
    const Pmo__Delivery *d = (const Pmo__Delivery *)msg;
    int64_t ms = d->state == PMO__DELIVERY_STATE__DELIVERY_STATE_PENDING ? d->due_ms : d->done_ms;
    if (d->in_flight)
        return "sending";
    return ms ? pmoctl_format_time (ctl->arena, ms, false) : "";
}

static int s_deliveries (pmoctl_t *ctl, const pmoctl_command_t *cmd, pmoctl_args_t *args, bool dead)
{
    json_t *body = json_object ();
    int rc = s_apply (body, cmd, args, s_deliveries_map);
    if (dead && !json_object_get (body, "state"))
        json_object_set_new (body, "state", json_string ("dead"));
    if (rc) {
        json_decref (body);
        return rc;
    }
    Pmo__NotifierReply *reply = s_call (ctl, "list_deliveries", body);
    json_decref (body);
    if (!reply)
        return ctl->status;
    Pmo__DeliveryPage *page = reply->deliveries;
    if (ctl->json)
        return pmoctl_print_json (&page->base);
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
    pmoctl_table_t *table = pmoctl_table_new (ctl->arena, cols);
    for (size_t i = 0; i < page->n_deliveries; i++)
        pmoctl_table_add_message (ctl, table, &page->deliveries[i]->base);
    pmoctl_table_print (table, stdout);
    if (!pmo_str_empty (page->next_cursor))
        printf ("more: --cursor '%s'\n", page->next_cursor);
    return PMOCTL_OK;
}

//  Retry or discard: read the delivery for its version, then act.
static int s_delivery_change (pmoctl_t *ctl, const char *id, bool retry)
{
    json_t *ref = json_pack ("{s:s}", "id", id);
    Pmo__NotifierReply *reply = s_call (ctl, "get_delivery", ref);
    json_decref (ref);
    if (!reply)
        return ctl->status;
    ref = json_pack ("{s:s, s:I}", "id", id, "version", (json_int_t)reply->delivery->version);
    reply = s_call (ctl, retry ? "retry_delivery" : "discard_delivery", ref);
    json_decref (ref);
    return s_show (ctl, reply);
}

//  Send a test message and follow its delivery until it is settled.
static int s_test (pmoctl_t *ctl, const pmoctl_command_t *cmd, pmoctl_args_t *args)
{
    const char *wait_text = pmoctl_args_get (args, "wait");
    long wait_s = wait_text ? strtol (wait_text, NULL, 10) : 20;
    if (wait_s < 0 || wait_s > 600)
        return pmoctl_usage_error (cmd, "--wait is 0..600 seconds");
    json_t *ref = json_pack ("{s:s}", "id", args->positional);
    Pmo__NotifierReply *reply = s_call (ctl, "test_channel", ref);
    json_decref (ref);
    if (!reply)
        return ctl->status;
    char *id = pmo_arena_strdup (ctl->arena, reply->delivery->id);
    int64_t deadline = pmo_mono_ms () + wait_s * 1000;
    while (wait_s > 0) {
        ref = json_pack ("{s:s}", "id", id);
        reply = s_call (ctl, "get_delivery", ref);
        json_decref (ref);
        if (!reply)
            return ctl->status;
        Pmo__Delivery *d = reply->delivery;
        if (d->state != PMO__DELIVERY_STATE__DELIVERY_STATE_PENDING || pmo_mono_ms () > deadline)
            break;
        zclock_sleep (250);
    }
    int rc = s_show (ctl, reply);
    if (rc == PMOCTL_OK &&
        reply->delivery->state != PMO__DELIVERY_STATE__DELIVERY_STATE_DELIVERED && wait_s > 0) {
        fprintf (stderr, "pmoctl: the test message was not delivered%s%s\n",
                 *reply->delivery->last_error ? ": " : " yet", reply->delivery->last_error);
        rc = PMOCTL_REFUSED;
    }
    return rc;
}

static int s_run (pmoctl_t *ctl, const pmoctl_command_t *cmd, pmoctl_args_t *args)
{
    const char *group = cmd->group, *verb = cmd->verb ? cmd->verb : "";
    const char *id = args->positional;
    int rc = PMOCTL_OK;
    Pmo__NotifierReply *reply = NULL;
#define IS(g, v) (strcmp (group, g) == 0 && strcmp (verb, v) == 0)
    if (IS ("notifier", "ping")) {
        json_t *body = json_object ();
        reply = s_call (ctl, "ping", body);
        json_decref (body);
        if (!reply)
            return ctl->status;
        if (ctl->json)
            rc = pmoctl_print_json (&reply->pong->base);
        else
            printf ("service:  %s\nversion:  %s\nredis_ok: %s\nuptime:   %lld s\n",
                    reply->pong->service, reply->pong->version,
                    reply->pong->redis_ok ? "yes" : "no",
                    (long long)(reply->pong->uptime_ms / 1000));
        if (!reply->pong->redis_ok) {
            fprintf (stderr, "pmoctl: the notifier answers but cannot reach its Redis\n");
            rc = PMOCTL_REFUSED;
        }
        return rc;
    }
    if (IS ("channel", "create") || IS ("channel", "update")) {
        bool create = IS ("channel", "create");
        json_t *body = create ? json_object () : s_read (ctl, "get_channel", id, "channel");
        if (!body)
            return ctl->status;
        if (!create && (pmoctl_args_get (args, "kind") || pmoctl_args_get (args, "org-unit"))) {
            json_decref (body);
            return pmoctl_usage_error (cmd, "a channel's kind and org unit do not change");
        }
        if (create && (!pmoctl_args_get (args, "kind") || !pmoctl_args_get (args, "name") ||
                       !pmoctl_args_get (args, "org-unit"))) {
            json_decref (body);
            return pmoctl_usage_error (cmd, "--kind, --name and --org-unit are required");
        }
        if ((rc = s_apply (body, cmd, args, s_channel_map))) {
            json_decref (body);
            return rc;
        }
        //  an SMTP password from the environment stays out of shell history
        const char *password = getenv ("PMO_SMTP_PASSWORD");
        if (password && *password && !pmoctl_args_get (args, "smtp-password"))
            json_object_set_new (body, "smtp_password", json_string (password));
        if (pmoctl_args_get (args, "disable"))
            json_object_set_new (body, "disabled", json_true ());
        if (pmoctl_args_get (args, "enable"))
            json_object_set_new (body, "disabled", json_false ());
        const char *secret = pmoctl_args_get (args, "secret");
        bool generated = false;
        if (create && !secret && streq (pmoctl_args_get (args, "kind"), "webhook")) {
            secret = s_new_secret (ctl);
            generated = true;
        }
        if (secret && !create) {
            json_decref (body);
            return pmoctl_usage_error (cmd, "change a signing secret with: pmoctl channel rotate");
        }
        if (secret)
            json_object_set_new (body, "signing_secrets", json_pack ("[{s:s}]", "secret", secret));
        reply = s_call (ctl, create ? "create_channel" : "update_channel", body);
        json_decref (body);
        if (reply && generated)
            fprintf (stderr,
                     "pmoctl: the channel's signing secret (shown only now; give it to the "
                     "receiver):\n%s\n",
                     secret);
        return s_show (ctl, reply);
    }
    if (IS ("channel", "get") || IS ("subscription", "get")) {
        json_t *ref = json_pack ("{s:s}", "id", id);
        reply = s_call (ctl, streq (group, "channel") ? "get_channel" : "get_subscription", ref);
        json_decref (ref);
        return s_show (ctl, reply);
    }
    if (IS ("channel", "list")) {
        json_t *body = json_object ();
        if (pmoctl_args_get (args, "org-unit"))
            json_object_set_new (body, "org_unit",
                                 json_string (pmoctl_args_get (args, "org-unit")));
        if (pmoctl_args_get (args, "archived"))
            json_object_set_new (body, "include_archived", json_true ());
        reply = s_call (ctl, "list_channels", body);
        json_decref (body);
        if (!reply)
            return ctl->status;
        if (ctl->json)
            return pmoctl_print_json (&reply->channels->base);
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
        pmoctl_table_t *table = pmoctl_table_new (ctl->arena, cols);
        for (size_t i = 0; i < reply->channels->n_channels; i++)
            pmoctl_table_add_message (ctl, table, &reply->channels->channels[i]->base);
        pmoctl_table_print (table, stdout);
        return PMOCTL_OK;
    }
    if (IS ("channel", "archive") || IS ("subscription", "archive")) {
        bool channel = streq (group, "channel");
        json_t *entry = s_read (ctl, channel ? "get_channel" : "get_subscription", id,
                                channel ? "channel" : "subscription");
        if (!entry)
            return ctl->status;
        json_t *ref =
            json_pack ("{s:s, s:O}", "id", id, "version", json_object_get (entry, "version"));
        json_decref (entry);
        reply = s_call (ctl, channel ? "archive_channel" : "archive_subscription", ref);
        json_decref (ref);
        return s_show (ctl, reply);
    }
    if (IS ("channel", "rotate")) {
        json_t *entry = s_read (ctl, "get_channel", id, "channel");
        if (!entry)
            return ctl->status;
        const char *secret = pmoctl_args_get (args, "secret");
        bool generated = !secret;
        if (!secret)
            secret = s_new_secret (ctl);
        json_t *body = json_pack ("{s:s, s:O, s:s}", "channel_id", id, "version",
                                  json_object_get (entry, "version"), "secret", secret);
        json_decref (entry);
        const char *previous = pmoctl_args_get (args, "previous-valid");
        if (previous)
            json_object_set_new (body, "previous_valid_s", json_integer (atol (previous)));
        reply = s_call (ctl, "rotate_secret", body);
        json_decref (body);
        if (reply && generated)
            fprintf (stderr, "pmoctl: the new signing secret (shown only now):\n%s\n", secret);
        return s_show (ctl, reply);
    }
    if (IS ("channel", "test"))
        return s_test (ctl, cmd, args);
    if (IS ("subscription", "create") || IS ("subscription", "update")) {
        bool create = IS ("subscription", "create");
        json_t *body =
            create ? json_object () : s_read (ctl, "get_subscription", id, "subscription");
        if (!body)
            return ctl->status;
        if (create && !pmoctl_args_get (args, "channel")) {
            json_decref (body);
            return pmoctl_usage_error (cmd, "--channel is required");
        }
        if ((rc = s_apply (body, cmd, args, s_subscription_map))) {
            json_decref (body);
            return rc;
        }
        reply = s_call (ctl, create ? "create_subscription" : "update_subscription", body);
        json_decref (body);
        return s_show (ctl, reply);
    }
    if (IS ("subscription", "list")) {
        json_t *body = json_object ();
        if (pmoctl_args_get (args, "channel"))
            json_object_set_new (body, "channel_id",
                                 json_string (pmoctl_args_get (args, "channel")));
        if (pmoctl_args_get (args, "org-unit"))
            json_object_set_new (body, "org_unit",
                                 json_string (pmoctl_args_get (args, "org-unit")));
        if (pmoctl_args_get (args, "archived"))
            json_object_set_new (body, "include_archived", json_true ());
        reply = s_call (ctl, "list_subscriptions", body);
        json_decref (body);
        if (!reply)
            return ctl->status;
        if (ctl->json)
            return pmoctl_print_json (&reply->subscriptions->base);
        static const pmoctl_column_t cols[] = {
            {"ID", "id", 0, NULL},
            {"CHANNEL", "channel_id", 0, NULL},
            {"SUBTREE", "org_unit_path", 30, NULL},
            {"PROJECT", "project_id", 0, NULL},
            {"TYPES", "event_types", 40, NULL},
            {"MIN SEVERITY", "min_severity", 0, NULL},
            {NULL, NULL, 0, NULL},
        };
        pmoctl_table_t *table = pmoctl_table_new (ctl->arena, cols);
        for (size_t i = 0; i < reply->subscriptions->n_subscriptions; i++)
            pmoctl_table_add_message (ctl, table, &reply->subscriptions->subscriptions[i]->base);
        pmoctl_table_print (table, stdout);
        return PMOCTL_OK;
    }
    if (IS ("deliveries", "list") || IS ("deadletters", "list"))
        return s_deliveries (ctl, cmd, args, streq (group, "deadletters"));
    if (IS ("deliveries", "get")) {
        json_t *ref = json_pack ("{s:s}", "id", id);
        reply = s_call (ctl, "get_delivery", ref);
        json_decref (ref);
        return s_show (ctl, reply);
    }
    if (streq (verb, "retry") || streq (verb, "discard"))
        return s_delivery_change (ctl, id, streq (verb, "retry"));
#undef IS
    return pmoctl_usage_error (cmd, "unknown command");
}

static int pmoctl_run_notifier (pmoctl_t *ctl, const pmoctl_command_t *cmd, pmoctl_args_t *args)
{
    return s_run (ctl, cmd, args);
}

//  ---------------------------------------------------------------------
//  The commands

#define PMOCTL_NOTIFIER_CMD(group, verb, pos, flags, summary)                                      \
    PMOCTL_RUN (group, verb, pos, flags, PMOCTL_MODE_OTHER, pmoctl_run_notifier, NULL, NULL,       \
                summary)

//  The entries of the command table
#define PMOCTL_NOTIFIER_COMMANDS                                                                   \
    PMOCTL_NOTIFIER_CMD ("notifier", "ping", NULL, NULL,                                           \
                         "is the notifier up, and its Redis? (exit 0 only if both)"),              \
        PMOCTL_NOTIFIER_CMD ("channel", "create", NULL, pmoctl_notifier_flags_channel,             \
                             "a Slack, Teams, Mattermost, Google Chat, webhook or email channel"), \
        PMOCTL_NOTIFIER_CMD (                                                                      \
            "channel", "update", "ID", pmoctl_notifier_flags_channel,                              \
            "change a channel (--enable after a 410; secrets kept unless given)"),                 \
        PMOCTL_NOTIFIER_CMD ("channel", "get", "ID", NULL, "show a channel (secrets masked)"),     \
        PMOCTL_NOTIFIER_CMD ("channel", "list", NULL, pmoctl_notifier_flags_channel_list,          \
                             "list channels"),                                                     \
        PMOCTL_NOTIFIER_CMD ("channel", "archive", "ID", NULL, "archive a channel"),               \
        PMOCTL_NOTIFIER_CMD ("channel", "rotate", "ID", pmoctl_notifier_flags_rotate,              \
                             "rotate a webhook's signing secret (both sign for a while)"),         \
        PMOCTL_NOTIFIER_CMD ("channel", "test", "ID", pmoctl_notifier_flags_test,                  \
                             "send a test message and show how it went"),                          \
        PMOCTL_NOTIFIER_CMD ("subscription", "create", NULL, pmoctl_notifier_flags_subscription,   \
                             "route events (types, severity, subtree or project) to a channel"),   \
        PMOCTL_NOTIFIER_CMD ("subscription", "update", "ID", pmoctl_notifier_flags_subscription,   \
                             "change a subscription"),                                             \
        PMOCTL_NOTIFIER_CMD ("subscription", "get", "ID", NULL, "show a subscription"),            \
        PMOCTL_NOTIFIER_CMD ("subscription", "list", NULL,                                         \
                             pmoctl_notifier_flags_subscription_list, "list subscriptions"),       \
        PMOCTL_NOTIFIER_CMD ("subscription", "archive", "ID", NULL, "archive a subscription"),     \
        PMOCTL_NOTIFIER_CMD ("deliveries", "list", NULL, pmoctl_notifier_flags_deliveries,         \
                             "deliveries by channel and state (default: pending)"),                \
        PMOCTL_NOTIFIER_CMD ("deliveries", "get", "ID", NULL,                                      \
                             "a delivery with its events and every attempt"),                      \
        PMOCTL_NOTIFIER_CMD ("deliveries", "retry", "ID", NULL, "send a delivery again now"),      \
        PMOCTL_NOTIFIER_CMD ("deliveries", "discard", "ID", NULL,                                  \
                             "drop a pending or dead delivery"),                                   \
        PMOCTL_NOTIFIER_CMD ("deadletters", "list", NULL, pmoctl_notifier_flags_deliveries,        \
                             "deliveries given up on (dead letters)"),                             \
        PMOCTL_NOTIFIER_CMD ("deadletters", "retry", "ID", NULL, "send a dead letter again now"),  \
        PMOCTL_NOTIFIER_CMD ("deadletters", "discard", "ID", NULL, "drop a dead letter")

const pmoctl_command_t pmoctl_notifier_commands[] = {
    PMOCTL_NOTIFIER_COMMANDS,
    PMOCTL_END,
};
