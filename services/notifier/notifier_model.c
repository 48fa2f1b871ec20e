/*  notifier_model.c: the notifier's rules and formats, without I/O. */
#include "notifier_model.h"
#include "pmo_json.h"
#include "pmo_reflect.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <jansson.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
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

int notifier_check_channel (const Pmo__Channel *channel, bool allow_http, pmo_problem_t *problem)
{
    if (!channel->name || !pmo_text_valid (channel->name) || strlen (channel->name) == 0 ||
        strlen (channel->name) > 80)
        return pmo_problem (problem, INVALID, "name", "name is required (1..80 characters)");
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
        if (!s_email_valid (channel->mail_from))
            return pmo_problem (problem, INVALID, "mail_from",
                                "mail_from is required: an address like pmo@example.org");
        if (channel->n_mail_to == 0 || channel->n_mail_to > 50)
            return pmo_problem (problem, INVALID, "mail_to", "mail_to needs 1..50 addresses");
        for (size_t i = 0; i < channel->n_mail_to; i++)
            if (!s_email_valid (channel->mail_to[i])) {
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
    //  the SMTP URL may carry credentials too ("smtp://user:pw@host")
    if (channel->smtp_url && strchr (channel->smtp_url, '@'))
        channel->smtp_url = notifier_mask_url (channel->smtp_url, arena);
}

//  ---------------------------------------------------------------------
//  Events become notices

const char *notifier_severity_name (Pmo__Severity severity)
{
    switch (severity) {
    case PMO__SEVERITY__SEVERITY_LOW:
        return "low";
    case PMO__SEVERITY__SEVERITY_MEDIUM:
        return "medium";
    case PMO__SEVERITY__SEVERITY_HIGH:
        return "high";
    case PMO__SEVERITY__SEVERITY_CRITICAL:
        return "critical";
    default:
        return "info";
    }
}

//  The snapshot the event carries (its oneof member), NULL if none.
static const ProtobufCMessage *s_body (const Pmo__Event *event)
{
    const ProtobufCMessageDescriptor *desc = event->base.descriptor;
    for (unsigned i = 0; i < desc->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &desc->fields[i];
        if (!(f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) || f->type != PROTOBUF_C_TYPE_MESSAGE)
            continue;
        uint32_t which = *(const uint32_t *)((const char *)event + f->quantifier_offset);
        if (which == f->id)
            return *(ProtobufCMessage *const *)((const char *)event + f->offset);
    }
    return NULL;
}

//  The label of an enum field called name in msg ("red"), NULL if none.
static const char *s_enum_field (const ProtobufCMessage *msg, const char *name, char *buf,
                                 size_t size)
{
    if (!msg)
        return NULL;
    const ProtobufCFieldDescriptor *f =
        protobuf_c_message_descriptor_get_field_by_name (msg->descriptor, name);
    if (!f || f->type != PROTOBUF_C_TYPE_ENUM || f->label == PROTOBUF_C_LABEL_REPEATED)
        return NULL;
    int value = *(const int *)((const char *)msg + f->offset);
    if (value == 0)
        return NULL;
    return pmo_json_enum_label (f->descriptor, value, buf, size);
}

static Pmo__Severity s_severity_label (const char *label)
{
    if (!label)
        return 0;
    static const struct {
        const char *word;
        Pmo__Severity severity;
    } words[] = {
        {"critical", PMO__SEVERITY__SEVERITY_CRITICAL}, {"high", PMO__SEVERITY__SEVERITY_HIGH},
        {"medium", PMO__SEVERITY__SEVERITY_MEDIUM},     {"low", PMO__SEVERITY__SEVERITY_LOW},
        {"info", PMO__SEVERITY__SEVERITY_INFO},         {"minimal", PMO__SEVERITY__SEVERITY_INFO},
        {"red", PMO__SEVERITY__SEVERITY_HIGH},          {"amber", PMO__SEVERITY__SEVERITY_MEDIUM},
        {"green", PMO__SEVERITY__SEVERITY_LOW},
    };
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (strstr (label, words[i].word))
            return words[i].severity;
    return 0;
}

//  Days between two ISO dates (b - a); 0 if either is not a date.
static long s_days_between (const char *a, const char *b)
{
    if (!pmo_date_valid (a) || !pmo_date_valid (b))
        return 0;
    struct tm ta = {0}, tb = {0};
    sscanf (a, "%d-%d-%d", &ta.tm_year, &ta.tm_mon, &ta.tm_mday);
    sscanf (b, "%d-%d-%d", &tb.tm_year, &tb.tm_mon, &tb.tm_mday);
    ta.tm_year -= 1900, tb.tm_year -= 1900;
    ta.tm_mon--, tb.tm_mon--;
    return (long)((timegm (&tb) - timegm (&ta)) / 86400);
}

Pmo__Severity notifier_severity (const Pmo__Event *event)
{
    char buf[64];
    const ProtobufCMessage *body = s_body (event);
    //  1. Said outright, by a service that knows (on the event or its body)
    Pmo__Severity s = s_severity_label (s_enum_field (&event->base, "severity", buf, sizeof buf));
    if (!s)
        s = s_severity_label (s_enum_field (body, "severity", buf, sizeof buf));
    if (!s)
        s = s_severity_label (s_enum_field (body, "level", buf, sizeof buf));
    if (s)
        return s;
    const char *type = event->type ? event->type : "";
    //  2. The registry's events, by what they mean
    if (event->gate && strcmp (type, "project.gate_decided") == 0) {
        switch (event->gate->outcome) {
        case PMO__GATE_OUTCOME__GATE_OUTCOME_STOP:
            return PMO__SEVERITY__SEVERITY_HIGH;
        case PMO__GATE_OUTCOME__GATE_OUTCOME_HOLD:
        case PMO__GATE_OUTCOME__GATE_OUTCOME_RECYCLE:
            return PMO__SEVERITY__SEVERITY_MEDIUM;
        default:
            return PMO__SEVERITY__SEVERITY_LOW;
        }
    }
    if (event->body_case == PMO__EVENT__BODY_MILESTONE) {
        const Pmo__Milestone *m = event->milestone;
        if (pmo_str_empty (m->actual_date) &&
            s_days_between (m->baseline_date, m->forecast_date) > 0)
            return PMO__SEVERITY__SEVERITY_MEDIUM;
        return PMO__SEVERITY__SEVERITY_LOW;
    }
    if (event->body_case == PMO__EVENT__BODY_PROJECT &&
        (event->project->status == PMO__PROJECT_STATUS__PROJECT_STATUS_CANCELLED ||
         event->project->status == PMO__PROJECT_STATUS__PROJECT_STATUS_ON_HOLD) &&
        strcmp (type, "project.updated") == 0)
        return PMO__SEVERITY__SEVERITY_MEDIUM;
    //  3. A health-like field (status reports, health assessments)
    static const char *const rag_fields[] = {"overall", "rag", "health", "status_rag"};
    for (size_t i = 0; i < 4; i++) {
        s = s_severity_label (s_enum_field (body, rag_fields[i], buf, sizeof buf));
        if (s)
            return s;
    }
    //  4. The words of the type
    if (strstr (type, "critical"))
        return PMO__SEVERITY__SEVERITY_CRITICAL;
    if (strstr (type, "escalat") || strstr (type, "alert") || strstr (type, "breach"))
        return PMO__SEVERITY__SEVERITY_HIGH;
    if (strstr (type, "overallocated") || strstr (type, "conflict") || strstr (type, "overdue") ||
        strstr (type, "rejected"))
        return PMO__SEVERITY__SEVERITY_MEDIUM;
    if (strstr (type, "cleared") || strstr (type, "resolved") || strstr (type, "archived") ||
        strstr (type, "created") || strstr (type, "phase_changed") || strstr (type, "closed"))
        return PMO__SEVERITY__SEVERITY_LOW;
    return PMO__SEVERITY__SEVERITY_INFO;
}

const char *notifier_event_project (const Pmo__Event *event)
{
    const ProtobufCMessage *body = s_body (event);
    if (event->body_case == PMO__EVENT__BODY_PROJECT && event->project->id)
        return event->project->id;
    if (body && pmo_reflect_has (body->descriptor, "project_id")) {
        const char *id = pmo_reflect_str (body, "project_id");
        if (!pmo_str_empty (id))
            return id;
    }
    if (event->type && s_starts (event->type, "project.") && !pmo_str_empty (event->entity_id))
        return event->entity_id;
    return "";
}

const char *notifier_project_label (const Pmo__Event *event, pmo_arena_t *arena)
{
    if (event->body_case != PMO__EVENT__BODY_PROJECT || !event->project)
        return NULL;
    const Pmo__Project *p = event->project;
    if (pmo_str_empty (p->code))
        return pmo_str_empty (p->name) ? NULL : p->name;
    if (pmo_str_empty (p->name) || strcmp (p->name, p->code) == 0)
        return p->code;
    return pmo_arena_printf (arena, "%s %s", p->code, p->name);
}

char *notifier_truncate (const char *s, size_t max, pmo_arena_t *arena)
{
    if (!s)
        return "";
    size_t len = strlen (s);
    if (len <= max)
        return pmo_arena_strdup (arena, s);
    if (max < 4)
        return "";
    size_t cut = max - 3;
    //  back up to the start of a UTF-8 character
    while (cut > 0 && ((unsigned char)s[cut] & 0xC0) == 0x80)
        cut--;
    return pmo_arena_printf (arena, "%.*s" ELLIPSIS, (int)cut, s);
}

char *notifier_rfc3339 (int64_t ms, pmo_arena_t *arena)
{
    time_t seconds = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r (&seconds, &tm);
    return pmo_arena_printf (arena, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                             (int)(ms % 1000));
}

typedef struct {
    Pmo__Fact **facts;
    size_t n, max;
    pmo_arena_t *arena;
} facts_t;

static void s_fact (facts_t *facts, const char *title, const char *value)
{
    if (pmo_str_empty (value) || facts->n >= facts->max)
        return;
    Pmo__Fact *fact = pmo_arena_alloc (facts->arena, sizeof (Pmo__Fact));
    pmo__fact__init (fact);
    fact->title = (char *)title;
    fact->value = notifier_truncate (value, 300, facts->arena);
    facts->facts[facts->n++] = fact;
}

static const char *s_label (const ProtobufCEnumDescriptor *desc, int value, pmo_arena_t *arena)
{
    char buf[64];
    const char *label = pmo_json_enum_label (desc, value, buf, sizeof buf);
    if (!label)
        return "";
    char *copy = pmo_arena_strdup (arena, label);
    for (char *p = copy; *p; p++)
        if (*p == '_')
            *p = ' ';
    return copy;
}

static const char *s_upper (const char *s, pmo_arena_t *arena)
{
    char *copy = pmo_arena_strdup (arena, s);
    for (char *p = copy; *p; p++)
        *p = (char)toupper ((unsigned char)*p);
    return copy;
}

static const char *s_money (const Pmo__Money *money, pmo_arena_t *arena)
{
    if (!money || (!money->minor && pmo_str_empty (money->currency)))
        return "";
    long long minor = (long long)money->minor;
    const char *sign = minor < 0 ? "-" : "";
    if (minor < 0)
        minor = -minor;
    //  thousands separators for the major part
    char major[32], grouped[48];
    snprintf (major, sizeof major, "%lld", minor / 100);
    size_t len = strlen (major), g = 0;
    for (size_t i = 0; i < len; i++) {
        if (i && (len - i) % 3 == 0)
            grouped[g++] = ',';
        grouped[g++] = major[i];
    }
    grouped[g] = 0;
    return pmo_arena_printf (arena, "%s %s%s.%02lld", money->currency ? money->currency : "", sign,
                             grouped, minor % 100);
}

//  "project.phase_changed" -> "Project phase changed"
static const char *s_humanise (const char *type, pmo_arena_t *arena)
{
    char *copy = pmo_arena_strdup (arena, type && *type ? type : "event");
    for (char *p = copy; *p; p++)
        if (*p == '.' || *p == '_')
            *p = ' ';
    copy[0] = (char)toupper ((unsigned char)copy[0]);
    return copy;
}

//  Facts from any snapshot: its plain fields with a value, skipping the
//  bookkeeping ones, so events of services we do not know read well too.
static void s_generic_facts (facts_t *facts, const ProtobufCMessage *body, pmo_arena_t *arena)
{
    if (!body)
        return;
    static const char *const skip[] = {"id",         "version",    "created_ms", "updated_ms",
                                       "archived",   "division",   "org_unit",   "org_unit_path",
                                       "project_id", "created_by", "path"};
    const ProtobufCMessageDescriptor *desc = body->descriptor;
    for (unsigned i = 0; i < desc->n_fields && facts->n < facts->max; i++) {
        const ProtobufCFieldDescriptor *f = &desc->fields[i];
        bool skipped = false;
        for (size_t s = 0; s < sizeof skip / sizeof skip[0]; s++)
            skipped = skipped || strcmp (f->name, skip[s]) == 0;
        if (skipped)
            continue;
        const char *at = (const char *)body + f->offset;
        const char *value = NULL;
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            if (f->type != PROTOBUF_C_TYPE_STRING)
                continue;
            size_t n = *(const size_t *)((const char *)body + f->quantifier_offset);
            char *const *items = *(char *const *const *)at;
            if (!n)
                continue;
            char *joined = "";
            for (size_t k = 0; k < n && k < 10; k++)
                joined = pmo_arena_printf (arena, "%s%s%s", joined, k ? ", " : "", items[k]);
            if (n > 10)
                joined = pmo_arena_printf (arena, "%s and %zu more", joined, n - 10);
            value = joined;
        } else if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
            continue;
        else
            switch (f->type) {
            case PROTOBUF_C_TYPE_STRING:
                value = *(char *const *)at;
                break;
            case PROTOBUF_C_TYPE_ENUM:
                if (*(const int *)at)
                    value = s_label (f->descriptor, *(const int *)at, arena);
                break;
            case PROTOBUF_C_TYPE_UINT32:
            case PROTOBUF_C_TYPE_INT32:
                if (*(const int32_t *)at)
                    value = pmo_arena_printf (arena, "%d", *(const int32_t *)at);
                break;
            case PROTOBUF_C_TYPE_INT64:
            case PROTOBUF_C_TYPE_UINT64:
                if (*(const int64_t *)at && !strstr (f->name, "_ms"))
                    value = pmo_arena_printf (arena, "%lld", (long long)*(const int64_t *)at);
                break;
            case PROTOBUF_C_TYPE_BOOL:
                if (*(const protobuf_c_boolean *)at)
                    value = "yes";
                break;
            case PROTOBUF_C_TYPE_MESSAGE:
                if (*(ProtobufCMessage *const *)at &&
                    (*(ProtobufCMessage *const *)at)->descriptor == &pmo__money__descriptor)
                    value = s_money (*(Pmo__Money *const *)at, arena);
                break;
            default:
                break;
            }
        if (pmo_str_empty (value))
            continue;
        const char *title = s_humanise (f->name, arena);
        s_fact (facts, title, value);
    }
}

static const char *s_ratio (int64_t num, int64_t den, pmo_arena_t *arena)
{
    if (den <= 0)
        return "n/a";
    return pmo_arena_printf (arena, "%.2f", (double)num / (double)den);
}

Pmo__Notice *notifier_notice (const Pmo__Event *event, const char *dashboard,
                              const char *project_label, pmo_arena_t *arena)
{
    Pmo__Notice *n = pmo_arena_alloc (arena, sizeof (Pmo__Notice));
    pmo__notice__init (n);
    const char *type = event->type ? event->type : "";
    n->event_id = pmo_arena_printf (arena, "%s/%s", event->division ? event->division : "",
                                    event->id ? event->id : "");
    n->type = (char *)type;
    n->severity = notifier_severity (event);
    n->division = event->division ? event->division : "";
    n->org_unit_path = event->org_unit_path ? event->org_unit_path : "";
    n->entity_id = event->entity_id ? event->entity_id : "";
    n->project_id = (char *)notifier_event_project (event);
    const char *own_label = notifier_project_label (event, arena);
    const char *label = own_label ? own_label : project_label;
    n->project_label = (char *)(label ? label : n->project_id);
    n->actor = event->actor ? event->actor : "";
    n->time_ms = event->time_ms;
    n->source = event->source ? event->source : "";
    const char *base = dashboard && *dashboard ? dashboard : "http://127.0.0.1:8080";
    size_t blen = strlen (base);
    const char *slash = blen && base[blen - 1] == '/' ? "" : "/";
    n->link = *n->project_id
                  ? pmo_arena_printf (arena, "%s%s#/projects/%s", base, slash, n->project_id)
                  : pmo_arena_printf (arena, "%s%s#/", base, slash);

    facts_t facts = {pmo_arena_alloc (arena, 12 * sizeof (Pmo__Fact *)), 0, 12, arena};
    const char *what = *n->project_id ? n->project_label : n->entity_id;
    const char *title = NULL, *summary = NULL;
    const ProtobufCMessage *body = s_body (event);

    if (event->body_case == PMO__EVENT__BODY_PROJECT) {
        const Pmo__Project *p = event->project;
        const char *phase = s_label (&pmo__phase__descriptor, p->phase, arena);
        const char *status = s_label (&pmo__project_status__descriptor, p->status, arena);
        if (strcmp (type, "project.created") == 0) {
            title = pmo_arena_printf (arena, "New project: %s", what);
            summary = pmo_arena_printf (arena, "%s registered %s in %s.", n->actor, what,
                                        n->org_unit_path);
        } else if (strcmp (type, "project.phase_changed") == 0) {
            title = pmo_arena_printf (arena, "%s moved to %s", what, phase);
            summary = pmo_arena_printf (arena, "%s is now in the %s phase.", what, phase);
        } else if (strcmp (type, "project.gate_decided") == 0 && event->gate) {
            const char *outcome =
                s_label (&pmo__gate_outcome__descriptor, event->gate->outcome, arena);
            const char *to = s_label (&pmo__phase__descriptor, event->gate->to_phase, arena);
            title = pmo_arena_printf (arena, "Gate into %s for %s: %s", to, what,
                                      s_upper (outcome, arena));
            summary = pmo_arena_printf (
                arena, "%s decided %s at the gate into %s%s%s", event->gate->decided_by, outcome,
                to, pmo_str_empty (event->gate->rationale) ? "." : ": ",
                pmo_str_empty (event->gate->rationale)
                    ? ""
                    : notifier_truncate (event->gate->rationale, 400, arena));
            s_fact (&facts, "Conditions", event->gate->conditions);
        } else if (strcmp (type, "project.archived") == 0) {
            title = pmo_arena_printf (arena, "%s archived", what);
        } else {
            title = pmo_arena_printf (arena, "%s updated", what);
            summary = pmo_arena_printf (arena, "%s changed %s (now %s, %s).", n->actor, what,
                                        status, phase);
        }
        s_fact (&facts, "Phase", phase);
        s_fact (&facts, "Status", status);
        s_fact (&facts, "Manager", p->manager);
        s_fact (&facts, "Sponsor", p->sponsor);
        if (!pmo_str_empty (p->forecast_finish) && !pmo_str_empty (p->baseline_finish) &&
            strcmp (p->forecast_finish, p->baseline_finish) != 0) {
            long slip = s_days_between (p->baseline_finish, p->forecast_finish);
            s_fact (&facts, "Forecast finish",
                    pmo_arena_printf (arena, "%s (%s%ld days against baseline %s)",
                                      p->forecast_finish, slip > 0 ? "+" : "", slip,
                                      p->baseline_finish));
        } else
            s_fact (&facts, "Baseline finish", p->baseline_finish);
        if (p->budget)
            s_fact (&facts, "Budget", s_money (p->budget->baseline, arena));
    } else if (event->body_case == PMO__EVENT__BODY_STATUS_REPORT) {
        const Pmo__StatusReport *r = event->status_report;
        const char *overall = s_upper (s_label (&pmo__rag__descriptor, r->overall, arena), arena);
        title = pmo_arena_printf (arena, "%s status %s", what, *overall ? overall : "reported");
        summary =
            pmo_str_empty (r->narrative) ? NULL : notifier_truncate (r->narrative, 600, arena);
        s_fact (&facts, "Period end", r->period_end);
        s_fact (&facts, "Complete", pmo_arena_printf (arena, "%u%%", r->percent_complete));
        s_fact (&facts, "Schedule", s_label (&pmo__rag__descriptor, r->schedule, arena));
        s_fact (&facts, "Cost", s_label (&pmo__rag__descriptor, r->cost, arena));
        s_fact (&facts, "Scope", s_label (&pmo__rag__descriptor, r->scope, arena));
        s_fact (&facts, "Resources", s_label (&pmo__rag__descriptor, r->resources, arena));
        if (r->pv_minor || r->ev_minor) {
            s_fact (&facts, "SPI", s_ratio (r->ev_minor, r->pv_minor, arena));
            //  no actual cost reported: CPI is not available, not "on budget"
            s_fact (&facts, "CPI", r->has_ac ? s_ratio (r->ev_minor, r->ac_minor, arena) : "n/a");
        }
    } else if (event->body_case == PMO__EVENT__BODY_MILESTONE) {
        const Pmo__Milestone *m = event->milestone;
        long slip = s_days_between (m->baseline_date, m->forecast_date);
        if (!pmo_str_empty (m->actual_date))
            title = pmo_arena_printf (arena, "Milestone achieved: %s (%s)", m->name, what);
        else if (slip > 0)
            title =
                pmo_arena_printf (arena, "Milestone %s (%s) slipped %ld days", m->name, what, slip);
        else
            title = pmo_arena_printf (arena, "Milestone %s (%s) %s", m->name, what,
                                      strstr (type, "created") ? "added" : "updated");
        s_fact (&facts, "Baseline", m->baseline_date);
        s_fact (&facts, "Forecast", m->forecast_date);
        s_fact (&facts, "Actual", m->actual_date);
    } else if (event->body_case == PMO__EVENT__BODY_ORG_UNIT_SNAPSHOT) {
        const Pmo__OrgUnit *u = event->org_unit_snapshot;
        const char *verb = strrchr (type, '.');
        title = pmo_arena_printf (arena, "Org unit %s (%s) %s", u->name, u->id,
                                  verb ? verb + 1 : "changed");
        s_fact (&facts, "Kind", s_label (&pmo__org_unit_kind__descriptor, u->kind, arena));
        s_fact (&facts, "PMO type", s_label (&pmo__pmo_type__descriptor, u->pmo_type, arena));
    } else {
        //  Anything else (other services, future events): a readable
        //  sentence from the type and the snapshot's own fields
        const char *subject = "";
        static const char *const names[] = {"name", "title", "resource_name"};
        for (size_t i = 0; body && i < 3 && pmo_str_empty (subject); i++)
            subject = pmo_reflect_str (body, names[i]);
        title = pmo_arena_printf (arena, "%s: %s", s_humanise (type, arena),
                                  !pmo_str_empty (subject) ? subject
                                  : *what                  ? what
                                                           : n->org_unit_path);
        s_generic_facts (&facts, body, arena);
    }
    if (!summary)
        summary = pmo_arena_printf (arena, "%s in %s, by %s.", s_humanise (type, arena),
                                    *n->org_unit_path ? n->org_unit_path : n->division,
                                    *n->actor ? n->actor : "the system");
    n->title = notifier_truncate (title, 150, arena);
    n->summary = notifier_truncate (summary, 700, arena);
    n->facts = facts.facts;
    n->n_facts = facts.n;
    return n;
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

notifier_route_t notifier_route_mode (const Pmo__Channel *channel, const Pmo__Notice *notice)
{
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
        view->heading = pmo_arena_printf (
            arena, "PMO %s digest: %u event%s",
            msg->period == PMO__DIGEST_PERIOD__DIGEST_PERIOD_DAILY ? "daily" : "hourly", msg->total,
            msg->total == 1 ? "" : "s");
        view->intro = "Low-severity events are collected here instead of one message each.";
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

//  Slack and Mattermost speak different markdown; both need &, < and >
//  escaped in text they render.
static const char *s_slack_escape (const char *s, pmo_arena_t *arena)
{
    size_t len = strlen (s), extra = 0;
    for (size_t i = 0; i < len; i++)
        extra += s[i] == '&' ? 4 : (s[i] == '<' || s[i] == '>') ? 3 : 0;
    if (!extra)
        return s;
    char *out = pmo_arena_alloc (arena, len + extra + 1), *o = out;
    for (size_t i = 0; i < len; i++) {
        const char *rep = s[i] == '&'   ? "&amp;"
                          : s[i] == '<' ? "&lt;"
                          : s[i] == '>' ? "&gt;"
                                        : NULL;
        if (rep) {
            memcpy (o, rep, strlen (rep));
            o += strlen (rep);
        } else
            *o++ = s[i];
    }
    *o = 0;
    return out;
}

//  One notice as Slack mrkdwn (bold is *x*) or Mattermost markdown (**x**).
static const char *s_notice_markdown (const Pmo__Notice *n, bool slack, size_t max,
                                      pmo_arena_t *arena)
{
    const char *b = slack ? "*" : "**";
    const char *text = pmo_arena_printf (
        arena, "%s %s%s%s\n%s\n%sSeverity:%s %s · %sWhere:%s %s", s_sev_marker (n->severity), b,
        s_slack_escape (n->title, arena), b, s_slack_escape (n->summary, arena), b, b,
        notifier_severity_name (n->severity), b, b, s_slack_escape (s_where (n, arena), arena));
    if (*n->project_id)
        text = pmo_arena_printf (arena, "%s · %sProject:%s %s", text, b, b,
                                 s_slack_escape (n->project_label, arena));
    for (size_t i = 0; i < n->n_facts; i++)
        text = pmo_arena_printf (arena, "%s\n%s%s:%s %s", text, b,
                                 s_slack_escape (n->facts[i]->title, arena), b,
                                 s_slack_escape (n->facts[i]->value, arena));
    text = slack ? pmo_arena_printf (arena, "%s\n<%s|Open in the PMO dashboard>", text, n->link)
                 : pmo_arena_printf (arena, "%s\n[Open in the PMO dashboard](%s)", text, n->link);
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

static json_t *s_slack (const notifier_message_t *msg, const view_t *view, size_t shown,
                        pmo_arena_t *arena)
{
    json_t *blocks = json_array ();
    json_array_append_new (blocks,
                           json_pack ("{s:s, s:{s:s, s:s, s:b}}", "type", "header", "text", "type",
                                      "plain_text", "text",
                                      notifier_truncate (view->heading, 150, arena), "emoji", 1));
    if (*view->intro)
        json_array_append_new (blocks,
                               json_pack ("{s:s, s:[{s:s, s:s}]}", "type", "context", "elements",
                                          "type", "mrkdwn", "text", view->intro));
    for (size_t i = 0; i < shown; i++) {
        if (i)
            json_array_append_new (blocks, json_pack ("{s:s}", "type", "divider"));
        json_array_append_new (blocks,
                               json_pack ("{s:s, s:{s:s, s:s}}", "type", "section", "text", "type",
                                          "mrkdwn", "text",
                                          s_notice_markdown (msg->notices[i], true,
                                                             NOTIFIER_SLACK_SECTION_MAX, arena)));
    }
    size_t omitted = msg->total > shown ? msg->total - shown : 0;
    const char *context = pmo_arena_printf (arena, "pmo · delivery `%s`", msg->delivery_id);
    if (omitted)
        context = pmo_arena_printf (arena, "%s\n%s", s_more (omitted, arena), context);
    json_array_append_new (blocks, json_pack ("{s:s, s:[{s:s, s:s}]}", "type", "context",
                                              "elements", "type", "mrkdwn", "text", context));
    //  text is the notification and the fallback where blocks do not show
    const char *text = view->heading;
    if (shown == 1 && msg->total == 1)
        text = pmo_arena_printf (arena, "%s (%s, %s)", view->heading,
                                 notifier_severity_name (msg->notices[0]->severity),
                                 s_where (msg->notices[0], arena));
    return json_pack ("{s:s, s:o}", "text",
                      s_slack_escape (notifier_truncate (text, 3000, arena), arena), "blocks",
                      blocks);
}

static json_t *s_mattermost (const notifier_message_t *msg, const view_t *view, size_t shown,
                             pmo_arena_t *arena)
{
    json_t *attachments = json_array ();
    for (size_t i = 0; i < shown && i < 20; i++) {
        const Pmo__Notice *n = msg->notices[i];
        json_t *fields = json_array ();
        json_array_append_new (fields,
                               json_pack ("{s:s, s:s, s:b}", "title", "Severity", "value",
                                          notifier_severity_name (n->severity), "short", 1));
        json_array_append_new (fields, json_pack ("{s:s, s:s, s:b}", "title", "Where", "value",
                                                  s_where (n, arena), "short", 1));
        if (*n->project_id)
            json_array_append_new (fields, json_pack ("{s:s, s:s, s:b}", "title", "Project",
                                                      "value", n->project_label, "short", 1));
        for (size_t f = 0; f < n->n_facts; f++)
            json_array_append_new (fields,
                                   json_pack ("{s:s, s:s, s:b}", "title", n->facts[f]->title,
                                              "value", n->facts[f]->value, "short", 1));
        json_array_append_new (attachments, json_pack ("{s:s, s:s, s:s, s:s, s:s, s:o}", "fallback",
                                                       n->title, "color", s_color (n->severity),
                                                       "title", n->title, "title_link", n->link,
                                                       "text", n->summary, "fields", fields));
    }
    size_t omitted = msg->total > shown ? msg->total - shown : 0;
    const char *text = pmo_arena_printf (arena, "#### %s", view->heading);
    if (*view->intro)
        text = pmo_arena_printf (arena, "%s\n%s", text, view->intro);
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
                                            view->heading, "wrap", 1));
    if (*view->intro)
        json_array_append_new (body, json_pack ("{s:s, s:s, s:b, s:b}", "type", "TextBlock", "text",
                                                view->intro, "wrap", 1, "isSubtle", 1));
    for (size_t i = 0; i < shown; i++) {
        const Pmo__Notice *n = msg->notices[i];
        json_t *facts = json_array ();
        json_array_append_new (facts, json_pack ("{s:s, s:s}", "title", "Severity", "value",
                                                 notifier_severity_name (n->severity)));
        json_array_append_new (
            facts, json_pack ("{s:s, s:s}", "title", "Where", "value", s_where (n, arena)));
        if (*n->project_id)
            json_array_append_new (
                facts, json_pack ("{s:s, s:s}", "title", "Project", "value", n->project_label));
        for (size_t f = 0; f < n->n_facts; f++)
            json_array_append_new (facts, json_pack ("{s:s, s:s}", "title", n->facts[f]->title,
                                                     "value", n->facts[f]->value));
        json_t *items = json_array ();
        if (shown > 1 || msg->total > 1)
            json_array_append_new (
                items,
                json_pack ("{s:s, s:s, s:s, s:b}", "type", "TextBlock", "weight", "Bolder", "text",
                           pmo_arena_printf (arena, "%s %s", s_sev_marker (n->severity), n->title),
                           "wrap", 1));
        json_array_append_new (items, json_pack ("{s:s, s:s, s:b}", "type", "TextBlock", "text",
                                                 n->summary, "wrap", 1));
        json_array_append_new (items, json_pack ("{s:s, s:o}", "type", "FactSet", "facts", facts));
        json_array_append_new (
            items, json_pack ("{s:s, s:s, s:s, s:b}", "type", "TextBlock", "text",
                              pmo_arena_printf (arena, "[Open in the PMO dashboard](%s)", n->link),
                              "size", "Small", "wrap", 1));
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
        json_array_append_new (widgets, json_pack ("{s:{s:s, s:b}}", "textParagraph", "text",
                                                   n->summary, "maxLines", 6));
        json_array_append_new (widgets,
                               json_pack ("{s:{s:s, s:s}}", "decoratedText", "topLabel", "Severity",
                                          "text", notifier_severity_name (n->severity)));
        json_array_append_new (widgets, json_pack ("{s:{s:s, s:s}}", "decoratedText", "topLabel",
                                                   "Where", "text", s_where (n, arena)));
        if (*n->project_id)
            json_array_append_new (widgets,
                                   json_pack ("{s:{s:s, s:s}}", "decoratedText", "topLabel",
                                              "Project", "text", n->project_label));
        for (size_t f = 0; f < n->n_facts; f++)
            json_array_append_new (widgets,
                                   json_pack ("{s:{s:s, s:s}}", "decoratedText", "topLabel",
                                              n->facts[f]->title, "text", n->facts[f]->value));
        json_array_append_new (widgets, json_pack ("{s:{s:[{s:s, s:{s:{s:s}}}]}}", "buttonList",
                                                   "buttons", "text", "Open in PMO", "onClick",
                                                   "openLink", "url", n->link));
        json_array_append_new (sections,
                               json_pack ("{s:s, s:o}", "header", n->title, "widgets", widgets));
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
    json_t *root = json_pack ("{s:s, s:[{s:s, s:{s:{s:s, s:s}, s:o}}]}", "text",
                              pmo_arena_printf (arena, "*%s*", view->heading), "cardsV2", "cardId",
                              msg->delivery_id, "card", "header", "title",
                              notifier_truncate (view->heading, 200, arena), "subtitle",
                              notifier_truncate (subtitle, 200, arena), "sections", sections);
    //  One thread per project: every message about it lands together
    *thread = NULL;
    if (first && *first->project_id) {
        *thread = pmo_arena_printf (arena, "pmo-%s", first->project_id);
        json_object_set_new (root, "thread", json_pack ("{s:s}", "threadKey", *thread));
    }
    return root;
}

static json_t *s_notice_json (const Pmo__Notice *n)
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
    switch (channel->kind) {
    case PMO__CHANNEL_KIND__CHANNEL_KIND_SLACK:
        budget = NOTIFIER_SLACK_BUDGET;
        //  header, intro, trailer, and a divider + section per notice
        cap = cap < (NOTIFIER_SLACK_BLOCKS_MAX - 3) / 2 ? cap : (NOTIFIER_SLACK_BLOCKS_MAX - 3) / 2;
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
            root = s_slack (msg, &view, shown, arena);
            break;
        case PMO__CHANNEL_KIND__CHANNEL_KIND_TEAMS:
            root = s_teams (msg, &view, shown, arena);
            break;
        case PMO__CHANNEL_KIND__CHANNEL_KIND_MATTERMOST:
            root = s_mattermost (msg, &view, shown, arena);
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

static const char *s_html_escape (const char *s, pmo_arena_t *arena)
{
    size_t len = strlen (s);
    char *out = pmo_arena_alloc (arena, len * 6 + 1), *o = out;
    for (size_t i = 0; i < len; i++) {
        const char *rep = s[i] == '&'   ? "&amp;"
                          : s[i] == '<' ? "&lt;"
                          : s[i] == '>' ? "&gt;"
                          : s[i] == '"' ? "&quot;"
                                        : NULL;
        if (rep) {
            memcpy (o, rep, strlen (rep));
            o += strlen (rep);
        } else
            *o++ = s[i];
    }
    *o = 0;
    return out;
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
        s_html_escape (view.heading, arena));
    if (*view.intro)
        html = pmo_arena_printf (arena, "%s<p><em>%s</em></p>", html,
                                 s_html_escape (view.intro, arena));
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
            html, s_color (n->severity), s_html_escape (n->title, arena),
            s_html_escape (n->summary, arena), notifier_severity_name (n->severity),
            s_html_escape (s_where (n, arena), arena), *n->project_id ? " · Project: " : "",
            *n->project_id ? s_html_escape (n->project_label, arena) : "");
        for (size_t f = 0; f < n->n_facts; f++) {
            text = pmo_arena_printf (arena, "%s  %s: %s\n", text, n->facts[f]->title,
                                     n->facts[f]->value);
            html = pmo_arena_printf (arena, "%s<li>%s: %s</li>", html,
                                     s_html_escape (n->facts[f]->title, arena),
                                     s_html_escape (n->facts[f]->value, arena));
        }
        text = pmo_arena_printf (arena, "%s  %s\n\n", text, n->link);
        html = pmo_arena_printf (arena, "%s</ul><a href=\"%s\">Open in the PMO dashboard</a></div>",
                                 html, s_html_escape (n->link, arena));
    }
    if (msg->total > shown) {
        text = pmo_arena_printf (arena, "%s%s\n", text, s_more (msg->total - shown, arena));
        html = pmo_arena_printf (arena, "%s<p>%s</p>", html,
                                 s_html_escape (s_more (msg->total - shown, arena), arena));
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
        to = pmo_arena_printf (arena, "%s%s%s", to, i ? ",\r\n " : "", channel->mail_to[i]);
    const char *boundary = pmo_arena_printf (arena, "=_pmo_%s", msg->delivery_id);
    const char *domain = strchr (channel->mail_from, '@');
    Pmo__Notice *first = msg->n_notices ? msg->notices[0] : NULL;
    out->body = pmo_arena_printf (
        arena,
        "Date: %s\r\n"
        "From: pmo <%s>\r\n"
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
        date, channel->mail_from, to,
        s_header_text (pmo_arena_printf (arena, "[pmo] %s", view.heading), arena), msg->delivery_id,
        domain ? domain : "@pmo.invalid",
        first && *first->division ? first->division : "notifications",
        first && *first->division ? first->division : "notifications", msg->delivery_id, boundary,
        boundary, s_base64_lines (text, arena), boundary, s_base64_lines (html, arena), boundary);
    out->size = strlen (out->body);
    return 0;
}

//  ---------------------------------------------------------------------
//  Standard Webhooks signing

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
    //  signed content: "{id}.{timestamp}.{body}", the exact bytes sent
    char prefix[160];
    int plen = snprintf (prefix, sizeof prefix, "%s.%lld.", msg_id, (long long)timestamp_s);
    if (plen < 0 || (size_t)plen >= sizeof prefix)
        return NULL;
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mac_len = 0;
    unsigned char *content = pmo_arena_alloc (arena, (size_t)plen + size + 1);
    memcpy (content, prefix, (size_t)plen);
    memcpy (content + plen, body, size);
    if (!HMAC (EVP_sha256 (), key, klen, content, (size_t)plen + size, mac, &mac_len))
        return NULL;
    return s_base64 (mac, mac_len, arena);
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
