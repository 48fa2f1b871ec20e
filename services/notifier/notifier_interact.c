/*  notifier_interact.c: the checks a chat tool's request must pass before
    pmo acts on a click in it. Pure, like the rest of the model
    (notifier_model.h).

    - Slack ("Verifying requests from Slack"): X-Slack-Signature is "v0="
      and the hex HMAC-SHA256, keyed with the app's signing secret, of
      "v0:<X-Slack-Request-Timestamp>:<the raw body>"; a timestamp more
      than five minutes from now is refused (replay). An interaction's body
      is form-encoded: payload=<the JSON of the click>.
    - Mattermost (interactive message buttons): the button's integration
      URL gets the click with the button's "context", which pmo fills with
      a token: the hex HMAC-SHA256, keyed with the channel's own interact
      secret, of "<target>:<action>". Only whoever holds the secret (pmo)
      can make a token that passes.
    Comparisons are constant-time.
*/
#include "notifier_model.h"

#include <assert.h>
#include <ctype.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SLACK_WINDOW_S 300 //  Slack's documented replay window: five minutes

//  hex HMAC-SHA256 of the pieces joined, into out (65 bytes; "" on failure)
static void s_hmac_hex (const char *key, const char *const *pieces, const size_t *sizes, size_t n,
                        char out[65])
{
    size_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += sizes[i];
    unsigned char *message = malloc (total + 1), *m = message;
    assert (message);
    for (size_t i = 0; i < n; i++) {
        memcpy (m, pieces[i], sizes[i]);
        m += sizes[i];
    }
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (!HMAC (EVP_sha256 (), key, (int)strlen (key), message, total, mac, &len))
        len = 0;
    free (message);
    for (unsigned int i = 0; i < len; i++)
        snprintf (out + 2 * i, 3, "%02x", mac[i]);
    out[2 * len] = 0;
}

static bool s_same (const char *a, const char *b)
{
    size_t n = strlen (a);
    return n == strlen (b) && CRYPTO_memcmp (a, b, n) == 0;
}

int notifier_slack_verify (const char *signing_secret, const char *timestamp, const char *body,
                           size_t size, const char *signature, int64_t now_ms)
{
    if (pmo_str_empty (signing_secret) || pmo_str_empty (timestamp) || pmo_str_empty (signature))
        return NOTIFIER_REQUEST_UNSIGNED;
    char *end = NULL;
    long long ts = strtoll (timestamp, &end, 10);
    if (!isdigit ((unsigned char)*timestamp) || *end || ts <= 0)
        return NOTIFIER_REQUEST_UNSIGNED;
    long long skew = now_ms / 1000 - ts;
    if (skew > SLACK_WINDOW_S || skew < -SLACK_WINDOW_S)
        return NOTIFIER_REQUEST_STALE;
    const char *pieces[] = {"v0:", timestamp, ":", body};
    size_t sizes[] = {3, strlen (timestamp), 1, size};
    char hex[65], expected[70];
    s_hmac_hex (signing_secret, pieces, sizes, 4, hex);
    snprintf (expected, sizeof expected, "v0=%s", hex);
    return s_same (expected, signature) ? NOTIFIER_REQUEST_OK : NOTIFIER_REQUEST_FORGED;
}

char *notifier_action_token (const char *secret, const char *target, const char *action,
                             pmo_arena_t *arena)
{
    const char *pieces[] = {target, ":", action};
    size_t sizes[] = {strlen (target), 1, strlen (action)};
    char hex[65];
    s_hmac_hex (secret, pieces, sizes, 3, hex);
    return pmo_arena_strdup (arena, hex);
}

int notifier_action_verify (const char *secret, const char *target, const char *action,
                            const char *token)
{
    if (pmo_str_empty (secret) || pmo_str_empty (token) || !target || !action)
        return NOTIFIER_REQUEST_UNSIGNED;
    pmo_arena_t *arena = pmo_arena_new ();
    bool same = s_same (notifier_action_token (secret, target, action, arena), token);
    pmo_arena_destroy (&arena);
    return same ? NOTIFIER_REQUEST_OK : NOTIFIER_REQUEST_FORGED;
}

//  %xx and + of application/x-www-form-urlencoded, in place
static void s_form_decode (char *s)
{
    char *o = s;
    for (char *p = s; *p; p++) {
        if (*p == '+')
            *o++ = ' ';
        else if (*p == '%' && isxdigit ((unsigned char)p[1]) && isxdigit ((unsigned char)p[2])) {
            char hex[3] = {p[1], p[2], 0};
            *o++ = (char)strtol (hex, NULL, 16);
            p += 2;
        } else
            *o++ = *p;
    }
    *o = 0;
}

char *notifier_form_field (const char *body, size_t size, const char *name, pmo_arena_t *arena)
{
    size_t nlen = strlen (name);
    const char *p = body, *end = body + size;
    while (p < end) {
        const char *amp = memchr (p, '&', (size_t)(end - p));
        const char *stop = amp ? amp : end;
        if ((size_t)(stop - p) > nlen && strncmp (p, name, nlen) == 0 && p[nlen] == '=') {
            char *value = pmo_arena_alloc (arena, (size_t)(stop - p) - nlen);
            memcpy (value, p + nlen + 1, (size_t)(stop - p) - nlen - 1);
            value[(size_t)(stop - p) - nlen - 1] = 0;
            s_form_decode (value);
            return value;
        }
        p = stop + 1;
    }
    return NULL;
}

//  ---------------------------------------------------------------------
//  Clicks

static const char *const s_acts[] = {"",
                                     "alert.ack",
                                     "allocation.approve",
                                     "allocation.reject",
                                     "change.approve",
                                     "change.reject",
                                     "link.open"};

const char *notifier_act_name (notifier_act_t act)
{
    return act > 0 && (size_t)act < sizeof s_acts / sizeof *s_acts ? s_acts[act] : "";
}

notifier_act_t notifier_act_parse (const char *name)
{
    for (size_t i = 1; name && i < sizeof s_acts / sizeof *s_acts; i++)
        if (strcmp (name, s_acts[i]) == 0)
            return (notifier_act_t)i;
    return NOTIFIER_ACT_NONE;
}

//  A string member at a path of objects ("user", "id"), copied into arena;
//  "" if absent or not a string.
static const char *s_str (json_t *root, const char *a, const char *b, pmo_arena_t *arena)
{
    json_t *v = json_object_get (root, a);
    if (b)
        v = json_object_get (v, b);
    return json_is_string (v) ? pmo_arena_strdup (arena, json_string_value (v)) : "";
}

//  An id from a chat tool: short, printable, no spaces.
static bool s_id_ok (const char *id, size_t max)
{
    size_t n = strlen (id);
    if (n == 0 || n > max)
        return false;
    for (const char *p = id; *p; p++)
        if (*p <= ' ' || *p >= 127)
            return false;
    return true;
}

int notifier_click_parse (Pmo__ChannelKind kind, const char *body, size_t size, pmo_arena_t *arena,
                          notifier_click_t *click, char *why, size_t why_size)
{
    memset (click, 0, sizeof *click);
    click->action = click->target = click->user_id = click->user_name = click->token = "";
    click->response_url = click->message_ts = click->blocks = "";
    const char *text = body;
    size_t length = size;
    if (kind == PMO__CHANNEL_KIND__CHANNEL_KIND_SLACK) {
        text = notifier_form_field (body, size, "payload", arena);
        if (!text) {
            snprintf (why, why_size, "the body has no payload= field (Slack sends one)");
            return -1;
        }
        length = strlen (text);
    } else if (kind != PMO__CHANNEL_KIND__CHANNEL_KIND_MATTERMOST) {
        snprintf (why, why_size, "only Slack and Mattermost send clicks");
        return -1;
    }
    json_error_t error;
    json_t *root = json_loadb (text, length, JSON_REJECT_DUPLICATES, &error);
    if (!json_is_object (root)) {
        snprintf (why, why_size, "the %s is not a JSON object (%s at %d)",
                  kind == PMO__CHANNEL_KIND__CHANNEL_KIND_SLACK ? "payload" : "body", error.text,
                  error.position);
        json_decref (root);
        return -1;
    }
    if (kind == PMO__CHANNEL_KIND__CHANNEL_KIND_SLACK) {
        const char *type = s_str (root, "type", NULL, arena);
        json_t *actions = json_object_get (root, "actions");
        json_t *first = json_array_get (actions, 0);
        if (strcmp (type, "block_actions") != 0 || !json_is_object (first)) {
            snprintf (why, why_size,
                      "payload.type is '%.40s': only block_actions with an action "
                      "are taken",
                      type);
            json_decref (root);
            return -1;
        }
        //  action_id "pmo:alert.ack", value the target
        const char *action_id = s_str (first, "action_id", NULL, arena);
        click->action = strncmp (action_id, "pmo:", 4) == 0 ? action_id + 4 : action_id;
        click->target = s_str (first, "value", NULL, arena);
        click->user_id = s_str (root, "user", "id", arena);
        click->user_name = s_str (root, "user", "username", arena);
        click->response_url = s_str (root, "response_url", NULL, arena);
        click->message_ts = s_str (root, "container", "message_ts", arena);
        if (!*click->message_ts)
            click->message_ts = s_str (root, "message", "ts", arena);
        json_t *blocks = json_object_get (json_object_get (root, "message"), "blocks");
        if (json_is_array (blocks)) {
            char *dump = json_dumps (blocks, JSON_COMPACT);
            click->blocks = dump ? pmo_arena_strdup (arena, dump) : "";
            free (dump);
        }
    } else {
        click->user_id = s_str (root, "user_id", NULL, arena);
        click->user_name = s_str (root, "user_name", NULL, arena);
        click->action = s_str (root, "context", "action", arena);
        click->target = s_str (root, "context", "target", arena);
        click->token = s_str (root, "context", "token", arena);
    }
    json_decref (root);
    click->act = notifier_act_parse (click->action);
    const char *missing = NULL;
    if (click->act == NOTIFIER_ACT_NONE)
        missing = "the action (not one of pmo's buttons)";
    else if (!s_id_ok (click->target, 64))
        missing = "the target";
    else if (!s_id_ok (click->user_id, 64))
        missing = "the user id";
    else if (kind == PMO__CHANNEL_KIND__CHANNEL_KIND_SLACK &&
             (strncmp (click->response_url, "https://", 8) != 0 &&
              strncmp (click->response_url, "http://", 7) != 0))
        missing = "response_url";
    if (missing) {
        snprintf (why, why_size, "the click has no usable %s", missing);
        return -1;
    }
    return 0;
}

//  Slack: the message's blocks without pmo's buttons, and a line saying
//  what became of the click.
static json_t *s_slack_done (const notifier_click_t *click, const char *detail)
{
    json_t *blocks = *click->blocks ? json_loads (click->blocks, 0, NULL) : NULL;
    if (!json_is_array (blocks)) {
        json_decref (blocks);
        blocks = json_array ();
    }
    size_t i = 0;
    while (i < json_array_size (blocks)) {
        json_t *block = json_array_get (blocks, i);
        const char *type = json_string_value (json_object_get (block, "type"));
        const char *id = json_string_value (json_object_get (block, "block_id"));
        if (type && strcmp (type, "actions") == 0 && id && strncmp (id, "pmo:", 4) == 0)
            json_array_remove (blocks, i);
        else
            i++;
    }
    json_array_append_new (blocks,
                           json_pack ("{s:s, s:[{s:s, s:s, s:b}]}", "type", "context", "elements",
                                      "type", "mrkdwn", "text", detail, "verbatim", 1));
    return blocks;
}

char *notifier_click_answer (Pmo__ChannelKind kind, const notifier_click_t *click, bool done,
                             const char *detail, pmo_arena_t *arena)
{
    const char *line = pmo_arena_printf (arena, "%s %s", done ? "✅" : "⛔", detail);
    json_t *root;
    if (kind == PMO__CHANNEL_KIND__CHANNEL_KIND_SLACK) {
        //  mrkdwn: the detail is pmo's words around ids and names; keep
        //  them inert all the same
        line = notifier_inert (NOTIFIER_MARKUP_SLACK, line, arena);
        if (done)
            root = json_pack ("{s:b, s:s, s:o}", "replace_original", 1, "text", line, "blocks",
                              s_slack_done (click, line));
        else {
            root = json_pack ("{s:s, s:b, s:s}", "response_type", "ephemeral", "replace_original",
                              0, "text", line);
            if (*click->message_ts)
                json_object_set_new (root, "thread_ts", json_string (click->message_ts));
        }
    } else {
        line = notifier_inert (NOTIFIER_MARKUP_MATTERMOST, line, arena);
        if (done)
            root = json_pack ("{s:{s:s, s:{s:[{s:s, s:s}]}}}", "update", "message", line, "props",
                              "attachments", "text", line, "color", "#2ca02c");
        else
            root = json_pack ("{s:s}", "ephemeral_text", line);
    }
    char *text = json_dumps (root, JSON_COMPACT);
    json_decref (root);
    char *copy = pmo_arena_strdup (arena, text ? text : "{}");
    free (text);
    return copy;
}
