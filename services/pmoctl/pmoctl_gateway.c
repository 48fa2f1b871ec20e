/*  pmoctl_gateway.c: API tokens: token create|list|get|revoke and
    gateway ping, through the gateway's token service (GatewayRequest).

    Requests are built as JSON objects from the flags and converted to
    protobuf by the generic mapping. A new token's secret is printed once,
    on its own line, and is never stored by pmoctl. The token service is
    reached at $PMO_GATEWAY_ENDPOINT (default tcp://127.0.0.1:7105).
*/
#include "pmoctl.h"

#include "gateway.pb-c.h"
#include "pmo_json.h"
#include "pmo_reflect.h"
#include "pmo_wire.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const pmoctl_flag_t pmoctl_gateway_flags_create[] = {
    F ("name", "TEXT", PMOCTL_REQUIRED, "what the token is for, e.g. \"ci export\""),
    F ("subject", "WHO", PMOCTL_REQUIRED, "who acts with it, e.g. jane@dft"),
    F ("grant", "ROLE@UNIT", PMOCTL_REQUIRED | PMOCTL_REPEAT,
       "a role held in an org unit, e.g. pmo_manager@dft (repeatable)"),
    F ("expires", "DATE", 0, "refused after this day (YYYY-MM-DD, UTC); default never"),
    F ("rate", "N", 0, "its own limit in requests per second (default: the gateway's)"),
    END,
};

static const pmoctl_flag_t pmoctl_gateway_flags_list[] = {
    SW ("revoked", "include revoked tokens"),
    F ("limit", "N", 0, "tokens per page, 1-500 (default 50)"),
    F ("cursor", "CURSOR", 0, "the next page, as printed by the previous one"),
    END,
};

static const pmoctl_flag_t pmoctl_gateway_flags_revoke[] = {
    F ("version", "N", 0, "the version you read (refused if it changed since)"),
    END,
};

//  Send body (JSON, owned by the caller) as the GatewayRequest member.
static Pmo__GatewayReply *s_call (pmoctl_t *ctl, const char *member, json_t *body)
{
    return (Pmo__GatewayReply *)pmoctl_service_call (ctl, PMOCTL_GATEWAY, member, body);
}

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

static const pmoctl_column_t s_columns[] = {
    {"ID", "id", 0, NULL},
    {"NAME", "name", 30, NULL},
    {"SUBJECT", "subject", 24, NULL},
    {"REVOKED", "revoked", 0, NULL},
    {"CREATED BY", "created_by", 20, NULL},
    {NULL, NULL, 0, NULL},
};

static void s_print_token (pmoctl_t *ctl, const Pmo__ApiToken *token)
{
    pmoctl_print_entity (ctl, &token->base, stdout);
}

static int pmoctl_run_gateway (pmoctl_t *ctl, const pmoctl_command_t *cmd, pmoctl_args_t *args)
{
    const char *group = cmd->group, *verb = cmd->verb ? cmd->verb : "";
    json_t *body = json_object ();
    Pmo__GatewayReply *reply = NULL;
    int rc = PMOCTL_OK;
    if (strcmp (group, "gateway") == 0) {
        reply = s_call (ctl, "ping", body);
        if (reply && ctl->json)
            rc = pmoctl_print_json (&reply->pong->base);
        else if (reply)
            printf ("service:  %s\nversion:  %s\nredis_ok: %s\n", reply->pong->service,
                    reply->pong->version, reply->pong->redis_ok ? "yes" : "no");
        rc = !reply ? ctl->status : reply->pong->redis_ok ? rc : PMOCTL_REFUSED;
    } else if (strcmp (verb, "create") == 0) {
        json_object_set_new (body, "name", json_string (pmoctl_args_get (args, "name")));
        json_object_set_new (body, "subject", json_string (pmoctl_args_get (args, "subject")));
        const char *expires = pmoctl_args_get (args, "expires");
        const char *rate = pmoctl_args_get (args, "rate");
        if ((rc = s_grants (ctl, body, cmd, args)))
            goto done;
        if (expires) {
            if (!pmo_date_valid (expires)) {
                rc = pmoctl_usage_error (cmd, "--expires '%s': a date, YYYY-MM-DD", expires);
                goto done;
            }
            struct tm tm = {0};
            strptime (expires, "%Y-%m-%d", &tm);
            //  The end of that day, UTC
            json_object_set_new (body, "expires_ms",
                                 json_integer (((long long)timegm (&tm) + 86400) * 1000));
        }
        if (rate) {
            char *end = NULL;
            long n = strtol (rate, &end, 10);
            if (!*rate || *end || n < 1 || n > 100000) {
                rc = pmoctl_usage_error (cmd, "--rate '%s': 1 to 100000 requests per second", rate);
                goto done;
            }
            json_object_set_new (body, "rate_per_s", json_integer (n));
        }
        reply = s_call (ctl, "create_token", body);
        if (!reply)
            rc = ctl->status;
        else if (ctl->json)
            rc = pmoctl_print_json (&reply->created->base);
        else {
            s_print_token (ctl, reply->created->token);
            //  The secret, once: on stdout alone so a script can capture it
            fprintf (stderr, "pmoctl: the token follows; it is shown this once, keep it safe\n");
            printf ("%s\n", reply->created->secret);
        }
    } else if (strcmp (verb, "list") == 0) {
        if (pmoctl_args_get (args, "revoked"))
            json_object_set_new (body, "include_revoked", json_true ());
        const char *limit = pmoctl_args_get (args, "limit");
        if (limit)
            json_object_set_new (body, "limit", json_integer (atoi (limit)));
        if (pmoctl_args_get (args, "cursor"))
            json_object_set_new (body, "cursor", json_string (pmoctl_args_get (args, "cursor")));
        reply = s_call (ctl, "list_tokens", body);
        if (!reply)
            rc = ctl->status;
        else if (ctl->json)
            rc = pmoctl_print_json (&reply->page->base);
        else {
            pmoctl_table_t *table = pmoctl_table_new (ctl->arena, s_columns);
            for (size_t i = 0; i < reply->page->n_tokens; i++)
                pmoctl_table_add_message (ctl, table, &reply->page->tokens[i]->base);
            pmoctl_table_print (table, stdout);
            if (reply->page->n_tokens && !pmo_str_empty (reply->page->next_cursor))
                printf ("more: --cursor %s\n", reply->page->next_cursor);
        }
    } else {
        json_object_set_new (body, "id", json_string (args->positional));
        const char *version = pmoctl_args_get (args, "version");
        if (version)
            json_object_set_new (body, "version", json_string (version));
        reply = s_call (ctl, strcmp (verb, "get") == 0 ? "get_token" : "revoke_token", body);
        if (!reply)
            rc = ctl->status;
        else if (ctl->json)
            rc = pmoctl_print_json (&reply->token->base);
        else
            s_print_token (ctl, reply->token);
    }
done:
    json_decref (body);
    return rc;
}

//  ---------------------------------------------------------------------
//  The commands

#define PMOCTL_GATEWAY_CMD(group, verb, pos, flags, summary)                                       \
    PMOCTL_RUN (group, verb, pos, flags, PMOCTL_MODE_OTHER, pmoctl_run_gateway, NULL, NULL, summary)

//  The entries of the command table
#define PMOCTL_GATEWAY_COMMANDS                                                                    \
    PMOCTL_GATEWAY_CMD ("gateway", "ping", NULL, NULL,                                             \
                        "is the gateway's token service up, and its Redis?"),                      \
        PMOCTL_GATEWAY_CMD ("token", "create", NULL, pmoctl_gateway_flags_create,                  \
                            "issue an API token (its secret is shown once)"),                      \
        PMOCTL_GATEWAY_CMD ("token", "list", NULL, pmoctl_gateway_flags_list,                      \
                            "list the API tokens you may see (never their secrets)"),              \
        PMOCTL_GATEWAY_CMD ("token", "get", "ID", NULL, "show an API token"),                      \
        PMOCTL_GATEWAY_CMD ("token", "revoke", "ID", pmoctl_gateway_flags_revoke,                  \
                            "revoke an API token (refused at once by the gateway)")

const pmoctl_command_t pmoctl_gateway_commands[] = {
    PMOCTL_GATEWAY_COMMANDS,
    PMOCTL_END,
};
