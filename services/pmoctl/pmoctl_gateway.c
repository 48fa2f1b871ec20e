/*  pmoctl_gateway.c: API tokens (token create|list|get|revoke), the audit
    trail (audit), the import mappings kept on the gateway (mapping
    list|get) and gateway ping, through the gateway's token service
    (GatewayRequest): a row each in the table at the end, run by
    pmoctl_run_call.

    Requests are built as JSON objects from the flags and converted to
    protobuf by the generic mapping. A new token's secret is printed once,
    on its own line, and is never stored by pmoctl. The token service is
    reached at $PMO_GATEWAY_ENDPOINT.
*/
#include "pmoctl.h"

#include "gateway.pb-c.h"
#include "pmo_json.h"
#include "pmo_reflect.h"
#include "pmo_wire.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const pmoctl_flag_t s_create_flags[] = {
    JSTR ("name", "TEXT", "name", PMOCTL_REQUIRED, "what the token is for, e.g. \"ci export\""),
    JSTR ("subject", "WHO", "subject", PMOCTL_REQUIRED, "who acts with it, e.g. jane@dft"),
    F ("grant", "ROLE@UNIT", PMOCTL_REQUIRED | PMOCTL_REPEAT,
       "a role held in an org unit, e.g. pmo_manager@dft (repeatable)"),
    F ("expires", "DATE", 0, "refused after this day (YYYY-MM-DD, UTC); default never"),
    F ("rate", "N", 0, "its own limit in requests per second (default: the gateway's)"),
    END,
};

static const pmoctl_flag_t s_list_flags[] = {
    JSWITCH ("revoked", "include_revoked", "include revoked tokens"),
    F ("limit", "N", 0, "tokens per page, 1-500 (default 50)"),
    JSTR ("cursor", "CURSOR", "cursor", 0, "the next page, as printed by the previous one"),
    END,
};

static const pmoctl_flag_t s_revoke_flags[] = {
    JSTR ("version", "N", "version", 0, "the version you read (refused if it changed since)"),
    END,
};

//  ---------------------------------------------------------------------
//  Requests

//  --grant role@unit (repeated) into grants[].
static int s_grants (pmoctl_t *ctl, json_t *body, const pmoctl_command_t *cmd,
                     const pmoctl_args_t *args)
{
    json_t *grants = json_array ();
    json_object_set_new (body, "grants", grants);
    for (size_t i = 0; i < args->count; i++) {
        if (strcmp (args->flags[i]->name, "grant") != 0)
            continue;
        const char *value = args->values[i];
        const char *at = strchr (value, '@');
        int role;
        char name[64];
        if (!at || at == value || (size_t)(at - value) >= sizeof name || !at[1])
            return pmoctl_usage_error (cmd, "--grant '%s': ROLE@UNIT, e.g. viewer@dft", value);
        memcpy (name, value, (size_t)(at - value));
        name[at - value] = 0;
        if (pmo_json_enum_parse (&pmo__role__descriptor, name, &role) || role == 0)
            return pmoctl_usage_error (cmd, "--grant '%s': no role '%s' (%s)", value, name,
                                       pmoctl_enum_choices (ctl->arena, &pmo__role__descriptor));
        json_array_append_new (grants, json_pack ("{s:s, s:s}", "role", name, "org_unit", at + 1));
    }
    return 0;
}

static int s_build_create (pmoctl_t *ctl, const pmoctl_command_t *cmd, pmoctl_args_t *args,
                           pmoctl_request_t *request)
{
    json_t *body = request->body;
    pmoctl_args_json (cmd, args, body);
    int rc = s_grants (ctl, body, cmd, args);
    if (rc)
        return rc;
    const char *expires = pmoctl_args_get (args, "expires");
    if (expires) {
        if (!pmo_date_valid (expires))
            return pmoctl_usage_error (cmd, "--expires '%s': a date, YYYY-MM-DD", expires);
        struct tm tm = {0};
        strptime (expires, "%Y-%m-%d", &tm);
        //  The end of that day, UTC
        json_object_set_new (body, "expires_ms",
                             json_integer (((long long)timegm (&tm) + 86400) * 1000));
    }
    const char *rate = pmoctl_args_get (args, "rate");
    if (rate) {
        char *end = NULL;
        long n = strtol (rate, &end, 10);
        if (!*rate || *end || n < 1 || n > 100000)
            return pmoctl_usage_error (cmd, "--rate '%s': 1 to 100000 requests per second", rate);
        json_object_set_new (body, "rate_per_s", json_integer (n));
    }
    return 0;
}

static int s_build_list (pmoctl_t *ctl, const pmoctl_command_t *cmd, pmoctl_args_t *args,
                         pmoctl_request_t *request)
{
    const char *limit = pmoctl_args_get (args, "limit");
    if (limit)
        json_object_set_new (request->body, "limit", json_integer (atoi (limit)));
    return pmoctl_args_json (cmd, args, request->body);
}

static int s_build_token (pmoctl_t *ctl, const pmoctl_command_t *cmd, pmoctl_args_t *args,
                          pmoctl_request_t *request)
{
    json_object_set_new (request->body, "id", json_string (args->positional));
    return pmoctl_args_json (cmd, args, request->body);
}

//  ---------------------------------------------------------------------
//  Output

static int s_show_ping (pmoctl_t *ctl, const pmoctl_command_t *cmd, pmoctl_args_t *args,
                        ProtobufCMessage *msg)
{
    const Pmo__Pong *pong = ((const Pmo__GatewayReply *)msg)->pong;
    int rc = PMOCTL_OK;
    if (ctl->json)
        rc = pmoctl_print_json (&pong->base);
    else
        printf ("service:  %s\nversion:  %s\nredis_ok: %s\n", pong->service, pong->version,
                pong->redis_ok ? "yes" : "no");
    return pong->redis_ok ? rc : PMOCTL_REFUSED;
}

static int s_show_created (pmoctl_t *ctl, const pmoctl_command_t *cmd, pmoctl_args_t *args,
                           ProtobufCMessage *msg)
{
    const Pmo__CreatedToken *created = ((const Pmo__GatewayReply *)msg)->created;
    pmoctl_print_entity (ctl, &created->token->base, stdout);
    //  The secret, once: on stdout alone so a script can capture it
    fprintf (stderr, "pmoctl: the token follows; it is shown this once, keep it safe\n");
    printf ("%s\n", created->secret);
    return PMOCTL_OK;
}

static const pmoctl_column_t s_columns[] = {
    {"ID", "id", 0, NULL},
    {"NAME", "name", 30, NULL},
    {"SUBJECT", "subject", 24, NULL},
    {"REVOKED", "revoked", 0, NULL},
    {"CREATED BY", "created_by", 20, NULL},
    {NULL, NULL, 0, NULL},
};

static int s_show_page (pmoctl_t *ctl, const pmoctl_command_t *cmd, pmoctl_args_t *args,
                        ProtobufCMessage *msg)
{
    const Pmo__TokenPage *page = ((const Pmo__GatewayReply *)msg)->page;
    pmoctl_print_items (ctl, &page->base, "tokens", s_columns);
    if (page->n_tokens && !pmo_str_empty (page->next_cursor))
        printf ("more: --cursor %s\n", page->next_cursor);
    return PMOCTL_OK;
}

//  ---------------------------------------------------------------------
//  The audit trail

static const pmoctl_flag_t s_audit_flags[] = {
    JSTR ("unit", "UNIT", "org_unit", 0, "events in this org unit's subtree"),
    JSTR ("project", "ID", "project_id", 0,
          "events of this project and its milestones, reports, risks, ..."),
    JSTR ("entity", "ID", "entity_id", 0, "events of this one entity (a token, a resource, ...)"),
    JSTR ("actor", "WHO", "actor", 0, "events by this subject, e.g. jane@dft"),
    JSTR ("type", "TYPES", "type", 0, "comma-separated event types; project.* matches a prefix"),
    F ("since", "TIME", 0, "events at or after: YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ or Unix ms"),
    F ("until", "TIME", 0, "events at or before: YYYY-MM-DD (its end), ...THH:MM:SSZ or Unix ms"),
    JINT ("limit", "N", "limit", 0, 1, 500, "events per page, 1-500 (default 50)"),
    JSTR ("cursor", "CURSOR", "cursor", 0, "the next page, as printed by the previous one"),
    END,
};

//  A time flag as Unix ms: a day (its start, or with end_of_day its last
//  ms), a UTC time of day, or ms. -1 if it is none of them.
static long long s_time_ms (const char *text, bool end_of_day)
{
    struct tm tm = {0};
    const char *end = strptime (text, "%Y-%m-%dT%H:%M:%SZ", &tm);
    if (end && !*end)
        return (long long)timegm (&tm) * 1000;
    memset (&tm, 0, sizeof tm);
    if (pmo_date_valid (text)) {
        strptime (text, "%Y-%m-%d", &tm);
        return ((long long)timegm (&tm) + (end_of_day ? 86400 : 0)) * 1000 - (end_of_day ? 1 : 0);
    }
    char *rest = NULL;
    long long ms = strtoll (text, &rest, 10);
    if (!*text || *rest || ms < 0)
        return -1;
    return ms;
}

static int s_build_audit (pmoctl_t *ctl, const pmoctl_command_t *cmd, pmoctl_args_t *args,
                          pmoctl_request_t *request)
{
    const char *names[] = {"since", "until"};
    for (int i = 0; i < 2; i++) {
        const char *value = pmoctl_args_get (args, names[i]);
        if (!value)
            continue;
        long long ms = s_time_ms (value, i == 1);
        if (ms < 0)
            return pmoctl_usage_error (
                cmd, "--%s '%s': YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ (UTC) or Unix ms", names[i],
                value);
        json_object_set_new (request->body, i == 0 ? "since_ms" : "until_ms", json_integer (ms));
    }
    return pmoctl_args_json (cmd, args, request->body);
}

static const char *s_cell_time (pmoctl_t *ctl, const ProtobufCMessage *msg)
{
    return pmoctl_format_time (ctl->arena, ((const Pmo__Event *)msg)->time_ms, false);
}

//  What changed: the entity and its version
static const char *s_cell_target (pmoctl_t *ctl, const ProtobufCMessage *msg)
{
    const Pmo__Event *event = (const Pmo__Event *)msg;
    if (!event->entity_version)
        return event->entity_id;
    return pmo_arena_printf (ctl->arena, "%s v%" PRIu64, event->entity_id, event->entity_version);
}

static const pmoctl_column_t s_audit_columns[] = {
    {"TIME", NULL, 0, s_cell_time},
    {"ACTOR", "actor", 24, NULL},
    {"VIA", "actor_via", 24, NULL},
    {"ACTION", "type", 28, NULL},
    {"TARGET", NULL, 32, s_cell_target},
    {"UNIT", "org_unit", 16, NULL},
    {NULL, NULL, 0, NULL},
};

static int s_show_audit (pmoctl_t *ctl, const pmoctl_command_t *cmd, pmoctl_args_t *args,
                         ProtobufCMessage *msg)
{
    const Pmo__AuditPage *page = ((const Pmo__GatewayReply *)msg)->audit;
    pmoctl_print_items (ctl, &page->base, "events", s_audit_columns);
    if (!pmo_str_empty (page->next_cursor))
        printf ("more: --cursor %s\n", page->next_cursor);
    return PMOCTL_OK;
}

//  ---------------------------------------------------------------------
//  Import mappings kept on the gateway

static const pmoctl_flag_t s_mapping_list_flags[] = {
    JSTR ("entity", "KIND", "entity", 0, "only mappings importing this entity, e.g. project"),
    END,
};

static int s_build_mapping (pmoctl_t *ctl, const pmoctl_command_t *cmd, pmoctl_args_t *args,
                            pmoctl_request_t *request)
{
    json_object_set_new (request->body, "name", json_string (args->positional));
    return pmoctl_args_json (cmd, args, request->body);
}

static const pmoctl_column_t s_mapping_columns[] = {
    {"NAME", "name", 28, NULL},       {"ENTITY", "entity", 14, NULL},
    {"UNIT", "org_unit", 12, NULL},   {"COLUMNS", "columns", 0, NULL},
    {"COMMENT", "comment", 60, NULL}, {NULL, NULL, 0, NULL},
};

static int s_show_mappings (pmoctl_t *ctl, const pmoctl_command_t *cmd, pmoctl_args_t *args,
                            ProtobufCMessage *msg)
{
    const Pmo__MappingList *list = ((const Pmo__GatewayReply *)msg)->mappings;
    pmoctl_print_items (ctl, &list->base, "mappings", s_mapping_columns);
    return PMOCTL_OK;
}

//  The mapping's JSON as it is kept: save it and pass it to import --mapping
static int s_show_mapping (pmoctl_t *ctl, const pmoctl_command_t *cmd, pmoctl_args_t *args,
                           ProtobufCMessage *msg)
{
    const Pmo__StoredMapping *mapping = ((const Pmo__GatewayReply *)msg)->mapping;
    if (ctl->json)
        return pmoctl_print_json (&mapping->base);
    fputs (mapping->mapping, stdout);
    size_t len = strlen (mapping->mapping);
    if (!len || mapping->mapping[len - 1] != '\n')
        putchar ('\n');
    return PMOCTL_OK;
}

//  ---------------------------------------------------------------------
//  The commands: group, verb, ID, flags, request member, builder (NULL:
//  the flags' fields), printer, what --json prints

#define CALL(...) PMOCTL_CALL (PMOCTL_GATEWAY, __VA_ARGS__)

const pmoctl_command_t pmoctl_gateway_commands[] = {
    CALL ("gateway", "ping", NULL, NULL, "ping", NULL, s_show_ping, PMOCTL_JSON_BY_SHOW,
          "is the gateway's token service up, and its Redis?"),
    CALL ("token", "create", NULL, s_create_flags, "create_token", s_build_create, s_show_created,
          "created", "issue an API token (its secret is shown once)"),
    CALL ("token", "list", NULL, s_list_flags, "list_tokens", s_build_list, s_show_page, "page",
          "list the API tokens you may see (never their secrets)"),
    CALL ("token", "get", "ID", NULL, "get_token", s_build_token, pmoctl_show_entity, "token",
          "show an API token"),
    CALL ("token", "revoke", "ID", s_revoke_flags, "revoke_token", s_build_token,
          pmoctl_show_entity, "token", "revoke an API token (refused at once by the gateway)"),
    CALL ("mapping", "list", NULL, s_mapping_list_flags, "list_mappings", NULL, s_show_mappings,
          "mappings", "the import mappings kept on the gateway that you may use"),
    CALL ("mapping", "get", "NAME", NULL, "get_mapping", s_build_mapping, s_show_mapping,
          PMOCTL_JSON_BY_SHOW,
          "print a mapping kept on the gateway (JSON: save it for import --mapping)"),
    CALL ("audit", NULL, NULL, s_audit_flags, "audit", s_build_audit, s_show_audit, "audit",
          "the audit trail: who changed what, how they were authenticated (newest first)"),
    PMOCTL_END,
};
