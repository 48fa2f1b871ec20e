/*  notifier_model.c: the notifier's rules, without I/O: who may do what,
    what a valid channel and subscription are, secrets and their masks,
    routing, what an attempt's outcome means, and where requests may go.
    Notices are made in notifier_notice.c; payloads in notifier_format.c.
*/
#include "notifier_model.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <jansson.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define INVALID PMO__ERROR_CODE__ERROR_INVALID

//  ---------------------------------------------------------------------
//  Who may do what

//  Channel settings are PMO business: other roles receive the messages,
//  they do not see the plumbing
static const pmo_role_table_t s_roles = {
    .actions =
        {
            [PMO__ROLE__ROLE_ADMIN] = NOTIFIER_READ | NOTIFIER_MANAGE,
            [PMO__ROLE__ROLE_PMO_DIRECTOR] = NOTIFIER_READ | NOTIFIER_MANAGE,
            [PMO__ROLE__ROLE_PMO_MANAGER] = NOTIFIER_READ | NOTIFIER_MANAGE,
            [PMO__ROLE__ROLE_PMO_ANALYST] = NOTIFIER_READ,
        },
};

const pmo_role_table_t *notifier_roles (void)
{
    return &s_roles;
}

//  ---------------------------------------------------------------------
//  Validation

static bool s_starts (const char *s, const char *prefix)
{
    return s && strncmp (s, prefix, strlen (prefix)) == 0;
}

//  scheme://host[:port]/... with a non-empty host and no spaces
static bool s_url_shape (const char *url, const char *const *schemes)
{
    const char *rest = NULL;
    for (size_t i = 0; schemes[i] && !rest; i++)
        if (s_starts (url, schemes[i]))
            rest = url + strlen (schemes[i]);
    if (!rest || !*rest || *rest == '/' || *rest == ':')
        return false;
    for (const char *p = url; *p; p++)
        if ((unsigned char)*p <= ' ' || *p == '"' || *p == '<' || *p == '>' || *p == '\\')
            return false;
    //  userinfo in a webhook URL is a classic SSRF trick ("https://good@evil")
    const char *slash = strchr (rest, '/');
    const char *at = strchr (rest, '@');
    return !(at && (!slash || at < slash));
}

static bool s_email_valid (const char *address)
{
    if (!address || strlen (address) > 254)
        return false;
    const char *at = strchr (address, '@');
    if (!at || at == address || !at[1] || strchr (at + 1, '@') || !strchr (at + 1, '.'))
        return false;
    for (const char *p = address; *p; p++)
        if ((unsigned char)*p <= ' ' || *p == '<' || *p == '>' || *p == ',' || *p == '"' ||
            (unsigned char)*p >= 127)
            return false;
    return true;
}

int notifier_mailbox (const char *text, char *name, size_t name_size, char *address,
                      size_t address_size)
{
    if (!text || strlen (text) > 320)
        return -1;
    const char *open = strrchr (text, '<');
    const char *spec = text;
    size_t spec_len = strlen (text);
    size_t n = 0;
    if (open) {
        //  "Display Name <addr>": the name is a phrase, quoted or not
        const char *close = strchr (open, '>');
        if (!close || close[1])
            return -1;
        spec = open + 1;
        spec_len = (size_t)(close - spec);
        const char *from = text, *to = open;
        while (from < to && *from == ' ')
            from++;
        while (to > from && to[-1] == ' ')
            to--;
        bool quoted = to - from >= 2 && *from == '"' && to[-1] == '"';
        if (quoted)
            from++, to--;
        for (const char *p = from; p < to; p++) {
            unsigned char c = (unsigned char)*p;
            //  no control characters (header injection), no brackets, and
            //  quotes only escaped inside a quoted name
            if (c < ' ' || c == 127 || c == '<' || c == '>')
                return -1;
            if (c == '\\' && quoted && p + 1 < to)
                c = (unsigned char)*++p;
            else if (c == '"' || c == '\\')
                return -1;
            if (n + 1 >= name_size)
                return -1;
            name[n++] = (char)c;
        }
    }
    name[n] = 0;
    //  control characters were refused above: this checks the UTF-8
    if (!pmo_text_valid (name))
        return -1;
    if (spec_len == 0 || spec_len >= address_size)
        return -1;
    memcpy (address, spec, spec_len);
    address[spec_len] = 0;
    return s_email_valid (address) ? 0 : -1;
}

static bool s_mailbox_valid (const char *text)
{
    char name[256], address[256];
    return notifier_mailbox (text, name, sizeof name, address, sizeof address) == 0;
}

bool notifier_secret_valid (const char *secret)
{
    if (!s_starts (secret, "whsec_"))
        return false;
    const char *b64 = secret + 6;
    size_t len = strlen (b64);
    if (len == 0 || len % 4 != 0 || len > 128)
        return false;
    unsigned char key[128];
    int n = EVP_DecodeBlock (key, (const unsigned char *)b64, (int)len);
    if (n < 0)
        return false;
    //  EVP_DecodeBlock counts padding as bytes
    if (len >= 1 && b64[len - 1] == '=')
        n--;
    if (len >= 2 && b64[len - 2] == '=')
        n--;
    return n >= 24 && n <= 64;
}

//  Chat that answers back: the secret and the people who may click.
static int s_check_interact (const Pmo__Channel *channel, pmo_problem_t *problem)
{
    bool chat = notifier_kind_slack (channel->kind) ||
                channel->kind == PMO__CHANNEL_KIND__CHANNEL_KIND_MATTERMOST;
    const char *secret = channel->interact_secret;
    if (!pmo_str_empty (secret) && !chat)
        return pmo_problem (problem, INVALID, "interact_secret",
                            "only Slack and Mattermost channels take clicks");
    if (!pmo_str_empty (secret) && !notifier_is_masked (secret)) {
        size_t len = strlen (secret);
        bool printable = true;
        for (const char *p = secret; *p; p++)
            printable = printable && *p > ' ' && *p < 127;
        if (len < 16 || len > 128 || !printable)
            return pmo_problem (problem, INVALID, "interact_secret",
                                "interact_secret is 16 to 128 printable characters without spaces "
                                "(Slack: the app's signing secret)");
    }
    if (channel->n_chat_users && !chat)
        return pmo_problem (problem, INVALID, "chat_users",
                            "only Slack and Mattermost channels have chat users");
    if (channel->n_chat_users > NOTIFIER_CHAT_USERS_MAX)
        return pmo_problem (problem, INVALID, "chat_users", "at most %d chat users a channel",
                            NOTIFIER_CHAT_USERS_MAX);
    for (size_t i = 0; i < channel->n_chat_users; i++) {
        const Pmo__ChatUser *user = channel->chat_users[i];
        char field[64];
        snprintf (field, sizeof field, "chat_users[%zu].chat_user_id", i);
        const char *id = user->chat_user_id ? user->chat_user_id : "";
        bool ok = *id && strlen (id) <= 64;
        for (const char *p = id; *p; p++)
            ok = ok && (isalnum ((unsigned char)*p) || *p == '_' || *p == '-' || *p == '.');
        if (!ok)
            return pmo_problem (problem, INVALID, field,
                                "chat_user_id is the tool's user id (letters, digits, . _ -, "
                                "at most 64)");
        for (size_t j = 0; j < i; j++)
            if (strcmp (channel->chat_users[j]->chat_user_id, id) == 0)
                return pmo_problem (problem, INVALID, field, "'%s' is mapped twice", id);
        snprintf (field, sizeof field, "chat_users[%zu].subject", i);
        if (pmo_check_name (user->subject, field, 1, 120, problem))
            return -1;
        if (!pmo_str_empty (user->email) && !s_mailbox_valid (user->email)) {
            snprintf (field, sizeof field, "chat_users[%zu].email", i);
            return pmo_problem (problem, INVALID, field, "'%.80s' is not an email address",
                                user->email);
        }
        if (user->n_grants == 0 || user->n_grants > 16) {
            snprintf (field, sizeof field, "chat_users[%zu].grants", i);
            return pmo_problem (problem, INVALID, field, "a chat user needs 1..16 grants");
        }
        for (size_t g = 0; g < user->n_grants; g++)
            if (user->grants[g]->role == PMO__ROLE__ROLE_UNSPECIFIED ||
                pmo_str_empty (user->grants[g]->org_unit)) {
                snprintf (field, sizeof field, "chat_users[%zu].grants[%zu]", i, g);
                return pmo_problem (problem, INVALID, field,
                                    "a grant needs a role and an org_unit");
            }
    }
    return 0;
}

int notifier_check_channel (const Pmo__Channel *channel, bool allow_http, pmo_problem_t *problem)
{
    if (pmo_check_name (channel->name, "name", 1, 80, problem))
        return -1;
    if (channel->kind == PMO__CHANNEL_KIND__CHANNEL_KIND_UNSPECIFIED)
        return pmo_problem (problem, INVALID, "kind",
                            "kind is required: slack, teams, mattermost, google_chat, webhook "
                            "or email");
    if (pmo_str_empty (channel->org_unit))
        return pmo_problem (problem, INVALID, "org_unit", "org_unit is required");
    if (channel->rate_per_minute > 6000)
        return pmo_problem (problem, INVALID, "rate_per_minute", "rate_per_minute is at most 6000");
    if (channel->coalesce_s < -1 || channel->coalesce_s > 3600)
        return pmo_problem (problem, INVALID, "coalesce_s",
                            "coalesce_s is -1 (never), 0 (default 60) or up to 3600 seconds");
    if (channel->kind == PMO__CHANNEL_KIND__CHANNEL_KIND_EMAIL) {
        static const char *const smtp[] = {"smtp://", "smtps://", NULL};
        if (!s_url_shape (channel->smtp_url, smtp) && !notifier_is_masked (channel->smtp_url))
            return pmo_problem (problem, INVALID, "smtp_url",
                                "smtp_url is required: smtp://host:587 or smtps://host:465");
        if (!s_mailbox_valid (channel->mail_from))
            return pmo_problem (problem, INVALID, "mail_from",
                                "mail_from is required: an address like pmo@example.org or "
                                "PMO <pmo@example.org>");
        if (channel->n_mail_to == 0 || channel->n_mail_to > 50)
            return pmo_problem (problem, INVALID, "mail_to", "mail_to needs 1..50 addresses");
        for (size_t i = 0; i < channel->n_mail_to; i++)
            if (!s_mailbox_valid (channel->mail_to[i])) {
                char field[48];
                snprintf (field, sizeof field, "mail_to[%zu]", i);
                return pmo_problem (problem, INVALID, field, "'%.80s' is not an email address",
                                    channel->mail_to[i]);
            }
        if (!pmo_str_empty (channel->url))
            return pmo_problem (problem, INVALID, "url", "an email channel has no url");
        return 0;
    }
    static const char *const https[] = {"https://", NULL};
    static const char *const any[] = {"https://", "http://", NULL};
    if (channel->kind == PMO__CHANNEL_KIND__CHANNEL_KIND_SLACK_API) {
        const char *token = channel->bot_token;
        if (pmo_str_empty (token) ||
            (!notifier_is_masked (token) &&
             (strncmp (token, "xoxb-", 5) != 0 || strlen (token) > 255 || strchr (token, ' '))))
            return pmo_problem (problem, INVALID, "bot_token",
                                "bot_token is required: the Slack app's bot token (xoxb-...)");
        const char *conv = channel->slack_channel ? channel->slack_channel : "";
        bool ok = strlen (conv) >= 2 && strlen (conv) <= 32 && strchr ("CGD", conv[0]);
        for (const char *p = conv; ok && *p; p++)
            ok = isupper ((unsigned char)*p) || isdigit ((unsigned char)*p);
        if (!ok)
            return pmo_problem (problem, INVALID, "slack_channel",
                                "slack_channel is required: the conversation id (C0123ABCD; "
                                "invite the app to it)");
        if (!pmo_str_empty (channel->url) && !notifier_is_masked (channel->url) &&
            !s_url_shape (channel->url, allow_http ? any : https))
            return pmo_problem (problem, INVALID, "url",
                                "url is the Web API's base (default https://slack.com/api)");
        if (channel->n_mail_to || !pmo_str_empty (channel->smtp_url) || channel->n_signing_secrets)
            return pmo_problem (problem, INVALID, "smtp_url",
                                "a Slack Web API channel has a bot token, nothing else");
        return s_check_interact (channel, problem);
    }
    if (!pmo_str_empty (channel->bot_token) || !pmo_str_empty (channel->slack_channel))
        return pmo_problem (problem, INVALID, "bot_token",
                            "only slack_api channels have a bot token and a slack_channel");
    if (pmo_str_empty (channel->url))
        return pmo_problem (problem, INVALID, "url", "url is required (the webhook URL)");
    if (!notifier_is_masked (channel->url) && !s_url_shape (channel->url, allow_http ? any : https))
        return pmo_problem (problem, INVALID, "url",
                            allow_http ? "url must be an http(s):// URL with a host"
                                       : "url must be an https:// URL with a host");
    if (strlen (channel->url) > 2000)
        return pmo_problem (problem, INVALID, "url", "url is at most 2000 characters");
    if (channel->n_mail_to || !pmo_str_empty (channel->smtp_url))
        return pmo_problem (problem, INVALID, "smtp_url", "only email channels have SMTP settings");
    if (channel->kind != PMO__CHANNEL_KIND__CHANNEL_KIND_WEBHOOK && channel->n_signing_secrets)
        return pmo_problem (problem, INVALID, "signing_secrets",
                            "only generic webhooks are signed");
    if (s_check_interact (channel, problem))
        return -1;
    for (size_t i = 0; i < channel->n_signing_secrets; i++) {
        const char *secret = channel->signing_secrets[i]->secret;
        if (!notifier_is_masked (secret) && !notifier_secret_valid (secret)) {
            char field[64];
            snprintf (field, sizeof field, "signing_secrets[%zu].secret", i);
            return pmo_problem (problem, INVALID, field,
                                "a signing secret is \"whsec_\" and the base64 of 24 to 64 "
                                "random bytes");
        }
    }
    return 0;
}

//  "22:00-07:00" as minutes of the day; -1 if malformed or empty.
static int s_quiet_parse (const char *text, int *from, int *to)
{
    int h1, m1, h2, m2, used = 0;
    if (sscanf (text, "%2d:%2d-%2d:%2d%n", &h1, &m1, &h2, &m2, &used) != 4 ||
        (size_t)used != strlen (text) || strlen (text) != 11 || h1 > 23 || h2 > 23 || m1 > 59 ||
        m2 > 59 || h1 < 0 || h2 < 0 || m1 < 0 || m2 < 0)
        return -1;
    *from = h1 * 60 + m1;
    *to = h2 * 60 + m2;
    return *from == *to ? -1 : 0;
}

int64_t notifier_quiet_until (const char *quiet_hours, int64_t now_ms)
{
    int from, to;
    if (pmo_str_empty (quiet_hours) || s_quiet_parse (quiet_hours, &from, &to))
        return 0;
    const int64_t day = 86400000LL, minute = 60000LL;
    int64_t midnight = now_ms - now_ms % day;
    int64_t in_day = now_ms - midnight;
    int64_t start = from * minute, end = to * minute;
    if (from < to) //  within a day: 12:00-14:00
        return in_day >= start && in_day < end ? midnight + end : 0;
    //  across midnight: 22:00-07:00
    if (in_day >= start)
        return midnight + day + end;
    if (in_day < end)
        return midnight + end;
    return 0;
}

int notifier_check_subscription (const Pmo__Subscription *sub, pmo_problem_t *problem)
{
    if (pmo_str_empty (sub->channel_id))
        return pmo_problem (problem, INVALID, "channel_id", "channel_id is required");
    if (sub->n_event_types > 50)
        return pmo_problem (problem, INVALID, "event_types", "at most 50 event types");
    for (size_t i = 0; i < sub->n_event_types; i++) {
        const char *t = sub->event_types[i];
        size_t len = t ? strlen (t) : 0;
        bool ok = len > 0 && len <= 80;
        for (size_t c = 0; ok && c < len; c++)
            ok = isalnum ((unsigned char)t[c]) || t[c] == '_' || t[c] == '.' || t[c] == '-' ||
                 (t[c] == '*' && c == len - 1 && (len == 1 || t[c - 1] == '.'));
        if (!ok) {
            char field[48];
            snprintf (field, sizeof field, "event_types[%zu]", i);
            return pmo_problem (problem, INVALID, field,
                                "'%.80s' is not an event type: \"project.created\", "
                                "\"project.*\" or \"*\"",
                                t ? t : "");
        }
    }
    int from, to;
    if (!pmo_str_empty (sub->quiet_hours) && s_quiet_parse (sub->quiet_hours, &from, &to))
        return pmo_problem (problem, INVALID, "quiet_hours",
                            "'%.40s' is not quiet hours: \"HH:MM-HH:MM\" in UTC, e.g. "
                            "\"22:00-07:00\"",
                            sub->quiet_hours);
    return 0;
}

//  ---------------------------------------------------------------------
//  Secrets

#define ELLIPSIS "\xe2\x80\xa6"

bool notifier_is_masked (const char *text)
{
    return text && strstr (text, ELLIPSIS) != NULL;
}

static const char *s_last4 (const char *s)
{
    size_t len = strlen (s);
    return len > 4 ? s + len - 4 : "";
}

char *notifier_mask_url (const char *url, pmo_arena_t *arena)
{
    if (pmo_str_empty (url))
        return "";
    const char *host = strstr (url, "://");
    host = host ? host + 3 : url;
    const char *end = host;
    while (*end && *end != '/' && *end != '?' && *end != '#')
        end++;
    return pmo_arena_printf (arena, "%.*s/" ELLIPSIS "%s", (int)(end - url), url,
                             strlen (end) > 12 ? s_last4 (url) : "");
}

void notifier_mask_channel (Pmo__Channel *channel, pmo_arena_t *arena)
{
    channel->url = notifier_mask_url (channel->url, arena);
    for (size_t i = 0; i < channel->n_signing_secrets; i++) {
        Pmo__SigningSecret *copy = pmo_arena_alloc (arena, sizeof (Pmo__SigningSecret));
        *copy = *channel->signing_secrets[i];
        copy->secret = pmo_arena_printf (arena, "whsec_" ELLIPSIS "%s", s_last4 (copy->secret));
        channel->signing_secrets[i] = copy;
    }
    if (!pmo_str_empty (channel->smtp_password))
        channel->smtp_password = ELLIPSIS;
    if (!pmo_str_empty (channel->interact_secret))
        channel->interact_secret = ELLIPSIS;
    if (!pmo_str_empty (channel->bot_token))
        channel->bot_token = ELLIPSIS;
    //  the SMTP URL may carry credentials too ("smtp://user:pw@host")
    if (channel->smtp_url && strchr (channel->smtp_url, '@'))
        channel->smtp_url = notifier_mask_url (channel->smtp_url, arena);
}

//  ---------------------------------------------------------------------
//  Routing

bool notifier_type_matches (const char *pattern, const char *type)
{
    if (!pattern || !type)
        return false;
    size_t len = strlen (pattern);
    if (len == 1 && pattern[0] == '*')
        return true;
    if (len >= 2 && pattern[len - 1] == '*' && pattern[len - 2] == '.')
        return strncmp (pattern, type, len - 1) == 0;
    return strcmp (pattern, type) == 0;
}

bool notifier_event_folded (const Pmo__Event *event)
{
    //  riskmon assesses a project as soon as it learns of it: a green first
    //  assessment says nothing the creation message did not
    if (event->body_case != PMO__EVENT__BODY_HEALTH || !event->health)
        return false;
    const Pmo__HealthAssessment *a = event->health;
    return a->previous == PMO__RAG__RAG_UNSPECIFIED && a->seq <= 1 &&
           a->overall == PMO__RAG__RAG_GREEN;
}

bool notifier_subscription_matches (const Pmo__Subscription *sub, const Pmo__Notice *notice)
{
    if (sub->archived)
        return false;
    if (sub->min_severity && notice->severity < sub->min_severity)
        return false;
    if (!pmo_str_empty (sub->project_id) && strcmp (sub->project_id, notice->project_id) != 0)
        return false;
    //  A subtree's subscription covers its departments and their projects
    if (!pmo_str_empty (sub->org_unit) && !pmo_path_contains (notice->org_unit_path, sub->org_unit))
        return false;
    if (sub->n_event_types == 0)
        return true;
    for (size_t i = 0; i < sub->n_event_types; i++)
        if (notifier_type_matches (sub->event_types[i], notice->type))
            return true;
    return false;
}

bool notifier_notice_actionable (const Pmo__Notice *notice)
{
    return !pmo_str_empty (notice->buttons);
}

notifier_route_t notifier_route_mode (const Pmo__Channel *channel, const Pmo__Notice *notice)
{
    if (notifier_notice_actionable (notice))
        return NOTIFIER_ROUTE_SINGLE;
    Pmo__Severity below =
        channel->digest_below ? channel->digest_below : PMO__SEVERITY__SEVERITY_MEDIUM;
    if (channel->digest != PMO__DIGEST_PERIOD__DIGEST_PERIOD_NONE && notice->severity < below)
        return NOTIFIER_ROUTE_DIGEST;
    if (!pmo_str_empty (notice->project_id) && notifier_coalesce_ms (channel) > 0)
        return NOTIFIER_ROUTE_COALESCE;
    return NOTIFIER_ROUTE_SINGLE;
}

int64_t notifier_digest_period_end (Pmo__DigestPeriod period, int64_t now_ms)
{
    int64_t span = period == PMO__DIGEST_PERIOD__DIGEST_PERIOD_DAILY ? 86400000LL : 3600000LL;
    return (now_ms / span + 1) * span;
}

uint32_t notifier_rate_per_minute (const Pmo__Channel *channel)
{
    if (channel->rate_per_minute)
        return channel->rate_per_minute;
    switch (channel->kind) {
    case PMO__CHANNEL_KIND__CHANNEL_KIND_SLACK:
    case PMO__CHANNEL_KIND__CHANNEL_KIND_SLACK_API: //  chat.postMessage: about 1/s a channel
    case PMO__CHANNEL_KIND__CHANNEL_KIND_GOOGLE_CHAT:
    case PMO__CHANNEL_KIND__CHANNEL_KIND_TEAMS:
        return 60; //  about one a second per webhook (space for Google Chat)
    case PMO__CHANNEL_KIND__CHANNEL_KIND_MATTERMOST:
        return 600;
    case PMO__CHANNEL_KIND__CHANNEL_KIND_EMAIL:
        return 120;
    default:
        return 0; //  generic webhooks: the receiver's to say (429)
    }
}

int64_t notifier_coalesce_ms (const Pmo__Channel *channel)
{
    if (channel->coalesce_s < 0)
        return 0;
    return (channel->coalesce_s ? channel->coalesce_s : 60) * 1000LL;
}

//  ---------------------------------------------------------------------
//  Outcomes and retries

void notifier_classify_http (long status, const char *transport_error, const char *location,
                             notifier_verdict_t *v)
{
    memset (v, 0, sizeof *v);
    if (transport_error && *transport_error) {
        //  refused by our own address policy: retrying cannot help
        if (strstr (transport_error, "refused by policy")) {
            v->outcome = NOTIFIER_DEAD;
            snprintf (v->reason, sizeof v->reason, "%s", transport_error);
            return;
        }
        v->outcome = NOTIFIER_RETRY;
        snprintf (v->reason, sizeof v->reason, "%s", transport_error);
        return;
    }
    if (status >= 200 && status < 300) {
        v->outcome = NOTIFIER_DELIVERED;
        snprintf (v->reason, sizeof v->reason, "HTTP %ld", status);
    } else if (status >= 300 && status < 400) {
        //  never followed (a redirect can point anywhere, inside the
        //  network too); retrying the same URL gives the same answer, so
        //  the operator fixes the URL and retries the dead letter
        v->outcome = NOTIFIER_DEAD;
        snprintf (v->reason, sizeof v->reason, "HTTP %ld redirect to %.100s not followed", status,
                  location && *location ? location : "(no location)");
    } else if (status == 410) {
        v->outcome = NOTIFIER_DISABLE;
        snprintf (v->reason, sizeof v->reason, "HTTP 410 Gone: the endpoint was removed");
    } else if (status == 429 || status == 503) {
        v->outcome = NOTIFIER_RETRY;
        v->throttle = true;
        snprintf (v->reason, sizeof v->reason, "HTTP %ld: the endpoint asks us to slow down",
                  status);
    } else if (status == 408 || status >= 500) {
        v->outcome = NOTIFIER_RETRY;
        v->throttle = status == 502 || status == 504;
        snprintf (v->reason, sizeof v->reason, "HTTP %ld", status);
    } else {
        //  other 4xx: the request itself is refused; the same bytes will be
        //  refused again, so no blind retries
        v->outcome = NOTIFIER_DEAD;
        snprintf (v->reason, sizeof v->reason, "HTTP %ld: refused by the endpoint", status);
    }
}

bool notifier_kind_slack (Pmo__ChannelKind kind)
{
    return kind == PMO__CHANNEL_KIND__CHANNEL_KIND_SLACK ||
           kind == PMO__CHANNEL_KIND__CHANNEL_KIND_SLACK_API;
}

//  Slack Web API errors ("error" of {"ok":false}) that no retry mends and
//  that mean the channel's set-up is wrong: the channel is disabled until
//  someone fixes it.
static const char *const s_slack_setup_errors[] = {"invalid_auth",
                                                   "not_authed",
                                                   "account_inactive",
                                                   "token_revoked",
                                                   "token_expired",
                                                   "no_permission",
                                                   "missing_scope",
                                                   "channel_not_found",
                                                   "not_in_channel",
                                                   "is_archived",
                                                   "org_login_required",
                                                   "ekm_access_denied",
                                                   "team_access_not_granted",
                                                   NULL};
//  ... and those worth another try later
static const char *const s_slack_retry_errors[] = {
    "ratelimited",     "internal_error",    "fatal_error", "service_unavailable",
    "request_timeout", "team_added_to_org", NULL};

void notifier_classify_slack_api (long status, const char *transport_error, const char *body,
                                  const char *location, notifier_verdict_t *v, char *ts,
                                  size_t ts_size)
{
    *ts = 0;
    notifier_classify_http (status, transport_error, location, v);
    if (v->outcome != NOTIFIER_DELIVERED && status != 429)
        return;
    //  The Web API answers 200 with {"ok":false,"error":"..."} for most
    //  refusals, and 429 + Retry-After + {"ok":false,"error":"ratelimited"}
    json_t *root = json_loads (body ? body : "", 0, NULL);
    json_t *ok = json_object_get (root, "ok");
    const char *error = json_string_value (json_object_get (root, "error"));
    const char *stamp = json_string_value (json_object_get (root, "ts"));
    if (status == 429) {
        json_decref (root);
        return; //  classify_http's throttled retry (and its Retry-After)
    }
    if (json_is_true (ok)) {
        snprintf (ts, ts_size, "%s", stamp ? stamp : "");
        snprintf (v->reason, sizeof v->reason, "HTTP %ld ok", status);
    } else if (!json_is_false (ok)) {
        v->outcome = NOTIFIER_RETRY;
        snprintf (v->reason, sizeof v->reason, "HTTP %ld: not a Slack Web API answer", status);
    } else {
        const char *e = error ? error : "unknown";
        v->outcome = NOTIFIER_DEAD;
        for (size_t i = 0; s_slack_setup_errors[i]; i++)
            if (strcmp (e, s_slack_setup_errors[i]) == 0)
                v->outcome = NOTIFIER_DISABLE;
        for (size_t i = 0; s_slack_retry_errors[i]; i++)
            if (strcmp (e, s_slack_retry_errors[i]) == 0) {
                v->outcome = NOTIFIER_RETRY;
                v->throttle = strcmp (e, "ratelimited") == 0;
            }
        snprintf (v->reason, sizeof v->reason, "Slack Web API: %.80s", e);
    }
    json_decref (root);
}

void notifier_classify_smtp (long code, const char *transport_error, notifier_verdict_t *v)
{
    memset (v, 0, sizeof *v);
    if (code >= 200 && code < 300 && (!transport_error || !*transport_error)) {
        v->outcome = NOTIFIER_DELIVERED;
        snprintf (v->reason, sizeof v->reason, "SMTP %ld", code);
    } else if (code >= 500) {
        v->outcome = NOTIFIER_DEAD;
        snprintf (v->reason, sizeof v->reason, "SMTP %ld: permanent failure%s%.100s", code,
                  transport_error && *transport_error ? ": " : "",
                  transport_error ? transport_error : "");
    } else {
        v->outcome = NOTIFIER_RETRY;
        snprintf (v->reason, sizeof v->reason, "SMTP %ld: %.120s", code,
                  transport_error && *transport_error ? transport_error : "transient failure");
    }
}

int64_t notifier_backoff_ms (uint32_t failures, int64_t base_ms, int64_t max_ms, double random01)
{
    if (failures == 0)
        return 0;
    int64_t delay = base_ms;
    for (uint32_t i = 1; i < failures && delay < max_ms; i++)
        delay *= 2;
    if (delay > max_ms)
        delay = max_ms;
    //  equal jitter: never less than half, so retries still back off, and
    //  spread so endpoints that failed together do not retry together
    return delay / 2 + (int64_t)((double)(delay - delay / 2) * random01);
}

int64_t notifier_retry_after_ms (const char *value, int64_t now_ms)
{
    if (!value)
        return -1;
    while (*value == ' ')
        value++;
    if (!*value)
        return -1;
    int64_t ms = -1;
    if (isdigit ((unsigned char)*value)) {
        char *end;
        long long seconds = strtoll (value, &end, 10);
        while (*end == ' ' || *end == '\r' || *end == '\n')
            end++;
        if (*end == 0 && seconds >= 0)
            ms = seconds * 1000;
    } else {
        struct tm tm = {0};
        const char *end = strptime (value, "%a, %d %b %Y %H:%M:%S GMT", &tm);
        if (end) {
            int64_t at = (int64_t)timegm (&tm) * 1000;
            ms = at > now_ms ? at - now_ms : 0;
        }
    }
    if (ms > 86400000LL)
        ms = 86400000LL;
    return ms;
}

//  ---------------------------------------------------------------------
//  Addresses

static unsigned s_ipv4_class (uint32_t a)
{
    uint8_t b0 = (uint8_t)(a >> 24), b1 = (uint8_t)(a >> 16);
    if (b0 == 127)
        return NOTIFIER_NET_LOOPBACK;
    if (b0 == 10 || (b0 == 172 && (b1 & 0xF0) == 16) || (b0 == 192 && b1 == 168) ||
        (b0 == 100 && (b1 & 0xC0) == 64))
        return NOTIFIER_NET_PRIVATE;
    if (b0 == 169 && b1 == 254)
        return NOTIFIER_NET_LINK_LOCAL;
    if (b0 == 0 || b0 >= 224 || (b0 == 192 && b1 == 0 && (uint8_t)(a >> 8) == 0) ||
        (b0 == 198 && (b1 & 0xFE) == 18))
        return NOTIFIER_NET_SPECIAL;
    return 0;
}

unsigned notifier_address_class (const struct sockaddr *address)
{
    if (address->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)address;
        return s_ipv4_class (ntohl (in->sin_addr.s_addr));
    }
    if (address->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)address;
        const uint8_t *b = in6->sin6_addr.s6_addr;
        static const uint8_t zero[16] = {0};
        if (IN6_IS_ADDR_LOOPBACK (&in6->sin6_addr))
            return NOTIFIER_NET_LOOPBACK;
        //  IPv4-mapped (::ffff:a.b.c.d) and NAT64 (64:ff9b::/96): the v4 rules
        if (IN6_IS_ADDR_V4MAPPED (&in6->sin6_addr) ||
            (b[0] == 0 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b &&
             memcmp (b + 4, zero, 8) == 0))
            return s_ipv4_class ((uint32_t)b[12] << 24 | (uint32_t)b[13] << 16 |
                                 (uint32_t)b[14] << 8 | b[15]);
        if ((b[0] & 0xFE) == 0xFC)
            return NOTIFIER_NET_PRIVATE;
        if (b[0] == 0xFE && (b[1] & 0xC0) == 0x80)
            return NOTIFIER_NET_LINK_LOCAL;
        if (memcmp (b, zero, 16) == 0 || b[0] == 0xFF || IN6_IS_ADDR_V4COMPAT (&in6->sin6_addr))
            return NOTIFIER_NET_SPECIAL;
        return 0;
    }
    return NOTIFIER_NET_SPECIAL;
}

bool notifier_address_allowed (const struct sockaddr *address, unsigned allow)
{
    unsigned cls = notifier_address_class (address);
    return cls == 0 || (cls & allow) != 0;
}

int notifier_parse_allow (const char *text, unsigned *allow)
{
    *allow = 0;
    char copy[128];
    snprintf (copy, sizeof copy, "%s", text ? text : "");
    char *save = NULL;
    for (char *word = strtok_r (copy, ", ", &save); word; word = strtok_r (NULL, ", ", &save)) {
        if (strcmp (word, "none") == 0)
            continue;
        else if (strcmp (word, "loopback") == 0)
            *allow |= NOTIFIER_NET_LOOPBACK;
        else if (strcmp (word, "private") == 0)
            *allow |= NOTIFIER_NET_PRIVATE;
        else if (strcmp (word, "link-local") == 0)
            *allow |= NOTIFIER_NET_LINK_LOCAL;
        else
            return -1;
    }
    return 0;
}
