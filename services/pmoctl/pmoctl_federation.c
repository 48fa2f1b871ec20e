/*  pmoctl_federation.c: "pmoctl hub ping|status|spokes|rollup", the
    enterprise view from the hub (services/federation): a row each in the
    table at the end, run by pmoctl_run_call. Tables for people, JSON
    documents with --json. The hub is reached at $PMO_HUB_ENDPOINT.
*/
#include "pmoctl.h"
#include "federation.pb-c.h"
#include "pmo_reflect.h"
#include "pmo_wire.h"

#include <stdlib.h>
#include <string.h>

static const pmoctl_flag_t s_rollup_flags[] = {
    F ("division", "ID", 0, "only this division"),
    F ("list", "KIND", 0,
       "also list the entities of a kind: project, health, alert, resource, ..."),
    F ("limit", "N", 0, "entities per page, 1-500 (default 50)"),
    F ("cursor", "TEXT", 0, "the next page (with --division)"),
    END,
};

static const char *s_age (pmoctl_t *ctl, int64_t ms)
{
    if (ms <= 0)
        return "-";
    if (ms < 10000)
        return pmo_arena_printf (ctl->arena, "%.1f s", ms / 1000.0);
    if (ms < 3600000)
        return pmo_arena_printf (ctl->arena, "%lld s", (long long)(ms / 1000));
    return pmo_arena_printf (ctl->arena, "%.1f h", ms / 3600000.0);
}

static const char *s_count (const Pmo__Count *const *counts, size_t n, const char *key,
                            pmoctl_t *ctl)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp (counts[i]->key, key) == 0)
            return pmo_arena_printf (ctl->arena, "%llu", (unsigned long long)counts[i]->value);
    return "0";
}

static const pmoctl_column_t s_spoke_columns[] = {
    {"SPOKE", NULL, 24, NULL},    {"DIVISIONS", NULL, 30, NULL}, {"STATE", NULL, 0, NULL},
    {"LAST SEEN", NULL, 0, NULL}, {"WAITING", NULL, 0, NULL},    {"BEHIND", NULL, 0, NULL},
    {"POLICY", NULL, 0, NULL},    {"APPLIED", NULL, 0, NULL},    {"RESENT", NULL, 0, NULL},
    {"XDIV", NULL, 0, NULL}, //  cross-division deliveries waiting at the hub for it
    {NULL, NULL, 0, NULL},
};

static int s_show_spokes (pmoctl_t *ctl, const pmoctl_command_t *cmd, pmoctl_args_t *args,
                          ProtobufCMessage *msg)
{
    const Pmo__HubReply *reply = (const Pmo__HubReply *)msg;
    pmoctl_table_t *table = pmoctl_table_new (ctl->arena, s_spoke_columns);
    int64_t now = pmo_now_ms ();
    for (size_t i = 0; i < reply->spokes->n_spokes; i++) {
        const Pmo__Spoke *s = reply->spokes->spokes[i];
        char *divisions = pmo_arena_strdup (ctl->arena, "");
        for (size_t d = 0; d < s->n_divisions; d++)
            divisions =
                pmo_arena_printf (ctl->arena, "%s%s%s", divisions, d ? "," : "", s->divisions[d]);
        const char *cells[] = {
            s->name,
            divisions,
            pmoctl_format_enum (ctl->arena, &pmo__spoke_state__descriptor, s->state),
            s->last_seen_ms
                ? pmo_arena_printf (ctl->arena, "%s ago", s_age (ctl, now - s->last_seen_ms))
                : "never",
            pmo_arena_printf (ctl->arena, "%llu", (unsigned long long)s->backlog_entries),
            s_age (ctl, s->behind_ms),
            pmo_arena_printf (ctl->arena, "%llu%s", (unsigned long long)s->policy_version,
                              pmo_str_empty (s->policy_error) ? "" : " (error)"),
            pmo_arena_printf (ctl->arena, "%llu", (unsigned long long)s->events_applied),
            pmo_arena_printf (ctl->arena, "%llu", (unsigned long long)s->duplicates),
            pmo_arena_printf (ctl->arena, "%llu", (unsigned long long)s->xdiv_waiting),
        };
        pmoctl_table_add (table, cells);
    }
    pmoctl_table_print (table, stdout);
    for (size_t i = 0; i < reply->spokes->n_spokes; i++)
        if (!pmo_str_empty (reply->spokes->spokes[i]->policy_error))
            printf ("%s: policy not applied: %s\n", reply->spokes->spokes[i]->name,
                    reply->spokes->spokes[i]->policy_error);
    return PMOCTL_OK;
}

static const pmoctl_column_t s_rollup_columns[] = {
    {"DIVISION", NULL, 24, NULL}, {"SPOKE", NULL, 24, NULL},    {"PROJECTS", NULL, 0, NULL},
    {"GREEN", NULL, 0, NULL},     {"AMBER", NULL, 0, NULL},     {"RED", NULL, 0, NULL},
    {"ALERTS", NULL, 0, NULL},    {"RESOURCES", NULL, 0, NULL}, {"HOURS/WEEK", NULL, 0, NULL},
    {"UPDATED", NULL, 0, NULL},   {NULL, NULL, 0, NULL},
};

static void s_rollup_row (pmoctl_t *ctl, pmoctl_table_t *table, const Pmo__DivisionRollup *d,
                          const char *name)
{
    unsigned long long hours = 0;
    for (size_t i = 0; i < d->n_capacity_by_skill; i++)
        hours += d->capacity_by_skill[i]->value;
    const char *cells[] = {
        name,
        d->spoke,
        pmo_arena_printf (ctl->arena, "%llu", (unsigned long long)d->projects),
        s_count ((const Pmo__Count *const *)d->health, d->n_health, "green", ctl),
        s_count ((const Pmo__Count *const *)d->health, d->n_health, "amber", ctl),
        s_count ((const Pmo__Count *const *)d->health, d->n_health, "red", ctl),
        pmo_arena_printf (ctl->arena, "%llu", (unsigned long long)d->open_alerts),
        pmo_arena_printf (ctl->arena, "%llu", (unsigned long long)d->resources),
        pmo_arena_printf (ctl->arena, "%llu", hours),
        d->updated_ms ? pmoctl_format_time (ctl->arena, d->updated_ms, false) : "-",
    };
    pmoctl_table_add (table, cells);
}

static const pmoctl_column_t s_entity_columns[] = {
    {"DIVISION", NULL, 24, NULL}, {"KIND", NULL, 0, NULL},       {"ID", NULL, 0, NULL},
    {"VERSION", NULL, 0, NULL},   {"LAST EVENT", NULL, 0, NULL}, {"NAME", NULL, 40, NULL},
    {NULL, NULL, 0, NULL},
};

//  The request as a message: the hub's own check of --limit, and the
//  values sent as they were typed.
static int s_build_rollup (pmoctl_t *ctl, const pmoctl_command_t *cmd, pmoctl_args_t *args,
                           pmoctl_request_t *request)
{
    Pmo__EnterpriseRollupRequest *ask =
        pmo_arena_alloc (ctl->arena, sizeof (Pmo__EnterpriseRollupRequest));
    pmo__enterprise_rollup_request__init (ask);
    const char *value;
    if ((value = pmoctl_args_get (args, "division")))
        ask->division = (char *)value;
    if ((value = pmoctl_args_get (args, "list")))
        ask->list_kind = (char *)value;
    if ((value = pmoctl_args_get (args, "cursor")))
        ask->cursor = (char *)value;
    if ((value = pmoctl_args_get (args, "limit"))) {
        char *end;
        long limit = strtol (value, &end, 10);
        if (*end || limit < 1 || limit > 500)
            return pmoctl_usage_error (args->command, "--limit is a number from 1 to 500");
        ask->limit = (uint32_t)limit;
    }
    request->message = &ask->base;
    return 0;
}

static int s_show_rollup (pmoctl_t *ctl, const pmoctl_command_t *cmd, pmoctl_args_t *args,
                          ProtobufCMessage *msg)
{
    const Pmo__EnterpriseRollup *rollup = ((const Pmo__HubReply *)msg)->rollup;
    pmoctl_table_t *table = pmoctl_table_new (ctl->arena, s_rollup_columns);
    for (size_t i = 0; i < rollup->n_divisions; i++)
        s_rollup_row (ctl, table, rollup->divisions[i], rollup->divisions[i]->division);
    if (rollup->total && rollup->n_divisions > 1)
        s_rollup_row (ctl, table, rollup->total, "(enterprise)");
    pmoctl_table_print (table, stdout);
    if (rollup->n_entities) {
        printf ("\n");
        table = pmoctl_table_new (ctl->arena, s_entity_columns);
        for (size_t i = 0; i < rollup->n_entities; i++) {
            const Pmo__RollupEntity *e = rollup->entities[i];
            const char *name = "";
            if (e->event) {
                const char *member = pmo_wire_oneof_name (&e->event->base);
                const ProtobufCFieldDescriptor *field =
                    protobuf_c_message_descriptor_get_field_by_name (e->event->base.descriptor,
                                                                     member);
                const ProtobufCMessage *body =
                    field ? *(const ProtobufCMessage **)((const char *)e->event + field->offset)
                          : NULL;
                if (body && field->type == PROTOBUF_C_TYPE_MESSAGE)
                    name = pmo_reflect_str (body, "name");
            }
            const char *cells[] = {
                e->division, e->kind,
                e->id,       pmo_arena_printf (ctl->arena, "%llu", (unsigned long long)e->version),
                e->type,     name,
            };
            pmoctl_table_add (table, cells);
        }
        pmoctl_table_print (table, stdout);
        if (!pmo_str_empty (rollup->next_cursor))
            printf ("more: --cursor %s\n", rollup->next_cursor);
    }
    return PMOCTL_OK;
}

static int s_show_ping (pmoctl_t *ctl, const pmoctl_command_t *cmd, pmoctl_args_t *args,
                        ProtobufCMessage *msg)
{
    const Pmo__Pong *pong = ((const Pmo__HubReply *)msg)->pong;
    if (ctl->json)
        pmoctl_print_json (&pong->base);
    else
        printf ("hub %s: up %lld s, redis %s\n", pong->version, (long long)(pong->uptime_ms / 1000),
                pong->redis_ok ? "ok" : "UNAVAILABLE");
    return pong->redis_ok ? PMOCTL_OK : PMOCTL_REFUSED;
}

//  ---------------------------------------------------------------------
//  The commands: group, verb, ID, flags, request member, builder (NULL:
//  an empty body), printer, what --json prints

#define CALL(...) PMOCTL_CALL (PMOCTL_HUB, __VA_ARGS__)

const pmoctl_command_t pmoctl_hub_commands[] = {
    CALL ("hub", "ping", NULL, NULL, "ping", NULL, s_show_ping, PMOCTL_JSON_BY_SHOW,
          "is the hub up, and its Redis? (exit 0 only if both)"),
    CALL ("hub", "status", NULL, NULL, "status", NULL, pmoctl_show_entity, "status",
          "the hub: spokes connected, lagging, down; the policy it pushes"),
    CALL ("hub", "spokes", NULL, NULL, "spokes", NULL, s_show_spokes, "spokes",
          "each spoke: state, last seen, events waiting and how old, policy"),
    CALL ("hub", "rollup", NULL, s_rollup_flags, "rollup", s_build_rollup, s_show_rollup, "rollup",
          "the enterprise roll-up by division (--list KIND: the entities)"),
    PMOCTL_END,
};
