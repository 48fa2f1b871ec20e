/*  pmoctl_registry.c: the registry's commands.

    Each entity is described once (its message, request members, columns)
    and each command is a line in the command table with its flag table.
    Create, update, get, list and archive are generic over the entity; the
    runners that are not (ping, ou list, project get/phase/decide) follow.

    Update is read-modify-write: get the record, apply the flags to what was
    read, send it with the version read. The registry refuses with
    "conflict" if the record changed in between (optimistic concurrency);
    --version N sends N instead, for scripts that read earlier.
*/
#include "pmoctl.h"

#include "pmo_json.h"
#include "pmo_reflect.h"

#include <assert.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

//  The status reports `project get` shows
#define RECENT_REPORTS 5

//  ---------------------------------------------------------------------
//  Entities

static const pmoctl_column_t s_ou_columns[] = {
    {"ID", "id", 0, NULL}, //  indented by the tree runner
    {"NAME", "name", 28, NULL},    {"KIND", "kind", 0, NULL}, {"PMO TYPE", "pmo_type", 0, NULL},
    {"TIER", "pmo_tier", 0, NULL}, {"PATH", "path", 0, NULL}, {NULL, NULL, 0, NULL},
};

static const pmoctl_column_t s_portfolio_columns[] = {
    {"ID", "id", 0, NULL},         {"CODE", "code", 0, NULL},    {"NAME", "name", 32, NULL},
    {"UNIT", "org_unit", 0, NULL}, {"OWNER", "owner", 24, NULL}, {NULL, NULL, 0, NULL},
};

static const pmoctl_column_t s_programme_columns[] = {
    {"ID", "id", 0, NULL},
    {"CODE", "code", 0, NULL},
    {"NAME", "name", 32, NULL},
    {"UNIT", "org_unit", 0, NULL},
    {"PORTFOLIO", "portfolio_id", 0, NULL},
    {"MANAGER", "manager", 24, NULL},
    {NULL, NULL, 0, NULL},
};

static const pmoctl_column_t s_project_columns[] = {
    {"ID", "id", 0, NULL},         {"CODE", "code", 0, NULL},   {"NAME", "name", 32, NULL},
    {"UNIT", "org_unit", 0, NULL}, {"PHASE", "phase", 0, NULL}, {"STATUS", "status", 0, NULL},
    {"PRI", "priority", 0, NULL},  {NULL, NULL, 0, NULL},
};

static const char *s_cell_milestone_state (pmoctl_t *ctl, const ProtobufCMessage *msg)
{
    const Pmo__Milestone *m = (const Pmo__Milestone *)msg;
    if (!pmo_str_empty (m->actual_date))
        return "achieved";
    if (!pmo_str_empty (m->forecast_date) && strcmp (m->forecast_date, m->baseline_date) > 0)
        return "slipping";
    return "";
}

static const pmoctl_column_t s_milestone_columns[] = {
    {"ID", "id", 0, NULL},
    {"NAME", "name", 40, NULL},
    {"BASELINE", "baseline_date", 0, NULL},
    {"FORECAST", "forecast_date", 0, NULL},
    {"ACTUAL", "actual_date", 0, NULL},
    {"STATE", NULL, 0, s_cell_milestone_state},
    {NULL, NULL, 0, NULL},
};

//  Earned-value indices for people; money itself never goes through floats
static const char *s_ratio (pmoctl_t *ctl, int64_t over, int64_t under)
{
    if (under <= 0)
        return "n/a";
    return pmo_arena_printf (ctl->arena, "%.2f", (double)over / (double)under);
}

static const char *s_cell_ac (pmoctl_t *ctl, const ProtobufCMessage *msg)
{
    const Pmo__StatusReport *r = (const Pmo__StatusReport *)msg;
    return r->has_ac ? pmoctl_format_amount (ctl->arena, r->ac_minor) : "-";
}

static const char *s_cell_spi (pmoctl_t *ctl, const ProtobufCMessage *msg)
{
    const Pmo__StatusReport *r = (const Pmo__StatusReport *)msg;
    return s_ratio (ctl, r->ev_minor, r->pv_minor);
}

static const char *s_cell_cpi (pmoctl_t *ctl, const ProtobufCMessage *msg)
{
    const Pmo__StatusReport *r = (const Pmo__StatusReport *)msg;
    return r->has_ac ? s_ratio (ctl, r->ev_minor, r->ac_minor) : "n/a";
}

static const pmoctl_column_t s_report_columns[] = {
    {"ID", "id", 0, NULL},           {"PERIOD END", "period_end", 0, NULL},
    {"OVERALL", "overall", 0, NULL}, {"SCHED", "schedule", 0, NULL},
    {"COST", "cost", 0, NULL},       {"SCOPE", "scope", 0, NULL},
    {"RES", "resources", 0, NULL},   {"%", "percent_complete", 0, NULL},
    {"PV", "pv_minor", 0, NULL},     {"EV", "ev_minor", 0, NULL},
    {"AC", NULL, 0, s_cell_ac},      {"SPI", NULL, 0, s_cell_spi},
    {"CPI", NULL, 0, s_cell_cpi},    {NULL, NULL, 0, NULL},
};

static const pmoctl_column_t s_decision_columns[] = {
    {"ID", "id", 0, NULL},           {"FROM", "from_phase", 0, NULL},
    {"TO", "to_phase", 0, NULL},     {"OUTCOME", "outcome", 0, NULL},
    {"BY", "decided_by", 24, NULL},  {"AS", "decided_as", 0, NULL},
    {"WHEN", "decided_ms", 0, NULL}, {"WAIVED", "waived_artifacts", 0, NULL},
    {NULL, NULL, 0, NULL},
};

static const pmoctl_entity_t s_ou = {"org unit",
                                     PMO__ENTITY_KIND__ENTITY_KIND_ORG_UNIT,
                                     &pmo__org_unit__descriptor,
                                     NULL,
                                     "create_org_unit",
                                     "update_org_unit",
                                     "org_units",
                                     s_ou_columns};
static const pmoctl_entity_t s_portfolio = {"portfolio",
                                            PMO__ENTITY_KIND__ENTITY_KIND_PORTFOLIO,
                                            &pmo__portfolio__descriptor,
                                            "pf",
                                            "create_portfolio",
                                            "update_portfolio",
                                            "portfolios",
                                            s_portfolio_columns};
static const pmoctl_entity_t s_programme = {"programme",
                                            PMO__ENTITY_KIND__ENTITY_KIND_PROGRAMME,
                                            &pmo__programme__descriptor,
                                            "pg",
                                            "create_programme",
                                            "update_programme",
                                            "programmes",
                                            s_programme_columns};
static const pmoctl_entity_t s_project = {"project",
                                          PMO__ENTITY_KIND__ENTITY_KIND_PROJECT,
                                          &pmo__project__descriptor,
                                          "pr",
                                          "create_project",
                                          "update_project",
                                          "projects",
                                          s_project_columns};
static const pmoctl_entity_t s_milestone = {"milestone",
                                            PMO__ENTITY_KIND__ENTITY_KIND_MILESTONE,
                                            &pmo__milestone__descriptor,
                                            "ms",
                                            "create_milestone",
                                            "update_milestone",
                                            "milestones",
                                            s_milestone_columns};
static const pmoctl_entity_t s_report = {"status report",
                                         PMO__ENTITY_KIND__ENTITY_KIND_STATUS_REPORT,
                                         &pmo__status_report__descriptor,
                                         "sr",
                                         "submit_status_report",
                                         NULL,
                                         "status_reports",
                                         s_report_columns};
static const pmoctl_entity_t s_decision = {"gate decision",
                                           PMO__ENTITY_KIND__ENTITY_KIND_GATE_DECISION,
                                           &pmo__gate_decision__descriptor,
                                           "gd",
                                           NULL,
                                           NULL,
                                           "gate_decisions",
                                           s_decision_columns};

//  ---------------------------------------------------------------------
//  Helpers

static ProtobufCMessage *s_new (pmoctl_t *ctl, const ProtobufCMessageDescriptor *desc)
{
    ProtobufCMessage *msg = pmo_arena_alloc (ctl->arena, desc->sizeof_message);
    protobuf_c_message_init (desc, msg);
    return msg;
}

static Pmo__RegistryReply *s_get (pmoctl_t *ctl, const pmoctl_entity_t *entity, const char *id)
{
    Pmo__GetRequest *get = (Pmo__GetRequest *)s_new (ctl, &pmo__get_request__descriptor);
    get->kind = entity->kind;
    get->id = (char *)id;
    return pmoctl_call (ctl, "get", &get->base);
}

//  The record named on the command line, read now (arena); NULL with
//  ctl->status set if it cannot be.
static ProtobufCMessage *s_read (pmoctl_t *ctl, const pmoctl_entity_t *entity, const char *text)
{
    //  A get resolves a code itself; other kinds' ids are checked here
    const char *id = text;
    int rc = pmo_reflect_has (entity->desc, "code") ? 0 : pmoctl_resolve (ctl, entity, text, &id);
    if (rc) {
        ctl->status = rc;
        return NULL;
    }
    Pmo__RegistryReply *reply = s_get (ctl, entity, id);
    ProtobufCMessage *body = reply ? pmoctl_reply_body (reply) : NULL;
    if (reply && (!body || body->descriptor != entity->desc)) {
        fprintf (stderr, "pmoctl: the registry answered get with no %s\n", entity->name);
        ctl->status = PMOCTL_REFUSED;
        return NULL;
    }
    return body;
}

//  The items of one repeated message field of msg.
static ProtobufCMessage **s_items (const ProtobufCMessage *msg, const char *name, size_t *n)
{
    const ProtobufCFieldDescriptor *field =
        protobuf_c_message_descriptor_get_field_by_name (msg->descriptor, name);
    assert (field && field->label == PROTOBUF_C_LABEL_REPEATED);
    *n = *(const size_t *)((const char *)msg + field->quantifier_offset);
    return *(ProtobufCMessage ***)((char *)msg + field->offset);
}

//  Append the items of every repeated field of page to merged.
static void s_page_merge (pmoctl_t *ctl, Pmo__Page *merged, const Pmo__Page *page)
{
    const ProtobufCMessageDescriptor *desc = &pmo__page__descriptor;
    for (unsigned i = 0; i < desc->n_fields; i++) {
        const ProtobufCFieldDescriptor *field = &desc->fields[i];
        if (field->label != PROTOBUF_C_LABEL_REPEATED)
            continue;
        size_t have, more;
        ProtobufCMessage **old = s_items (&merged->base, field->name, &have);
        ProtobufCMessage **add = s_items (&page->base, field->name, &more);
        if (!more)
            continue;
        ProtobufCMessage **all = pmo_arena_alloc (ctl->arena, (have + more) * sizeof (void *));
        if (have)
            memcpy (all, old, have * sizeof (void *));
        memcpy (all + have, add, more * sizeof (void *));
        *(size_t *)((char *)merged + field->quantifier_offset) = have + more;
        *(ProtobufCMessage ***)((char *)merged + field->offset) = all;
    }
}

//  List one page, or every page when all is set. Returns 0 with *out
//  (arena), or the exit status.
static int s_list (pmoctl_t *ctl, Pmo__ListRequest *list, bool all, Pmo__Page **out)
{
    Pmo__Page *merged = (Pmo__Page *)s_new (ctl, &pmo__page__descriptor);
    for (;;) {
        Pmo__RegistryReply *reply = pmoctl_call (ctl, "list", &list->base);
        if (!reply)
            return ctl->status;
        if (reply->body_case != PMO__REGISTRY_REPLY__BODY_PAGE) {
            fprintf (stderr, "pmoctl: the registry answered list with no page\n");
            return PMOCTL_REFUSED;
        }
        s_page_merge (ctl, merged, reply->page);
        const char *next = reply->page->next_cursor;
        //  A cursor that does not move would loop for ever
        bool stuck = !pmo_str_empty (list->cursor) && strcmp (list->cursor, next) == 0;
        if (!all || pmo_str_empty (next) || stuck) {
            merged->next_cursor = (char *)next;
            break;
        }
        list->cursor = (char *)next;
    }
    *out = merged;
    return 0;
}

static Pmo__ListRequest *s_list_request (pmoctl_t *ctl, const pmoctl_entity_t *entity)
{
    Pmo__ListRequest *list = (Pmo__ListRequest *)s_new (ctl, &pmo__list_request__descriptor);
    list->kind = entity->kind;
    return list;
}

int pmoctl_resolve (pmoctl_t *ctl, const pmoctl_entity_t *entity, const char *text, const char **id)
{
    *id = text;
    char division[40];
    if (!entity->prefix || pmo_id_division (text, entity->prefix, division, sizeof division) == 0)
        return 0;
    if (!pmo_reflect_has (entity->desc, "code")) {
        fprintf (stderr, "pmoctl: '%s' is not a %s id (%s_<division>_<n>)\n", text, entity->name,
                 entity->prefix);
        return PMOCTL_USAGE;
    }
    //  The registry's get resolves a code among what the caller may see
    //  (and says which ids when it names several)
    Pmo__RegistryReply *reply = s_get (ctl, entity, text);
    ProtobufCMessage *body = reply ? pmoctl_reply_body (reply) : NULL;
    if (!reply)
        return ctl->status;
    if (!body || body->descriptor != entity->desc) {
        fprintf (stderr, "pmoctl: the registry answered get with no %s\n", entity->name);
        return PMOCTL_REFUSED;
    }
    *id = pmo_reflect_str (body, "id");
    return 0;
}

int pmoctl_resolve_project (pmoctl_t *ctl, const char *text, const char **id)
{
    return pmoctl_resolve (ctl, &s_project, text, id);
}

//  Fill the currency of every amount in msg: --currency if given, else
//  the record's own currency, else GBP.
static void s_money_collect (ProtobufCMessage *msg, Pmo__Money **found, size_t *n, size_t max)
{
    const ProtobufCMessageDescriptor *desc = msg->descriptor;
    for (unsigned i = 0; i < desc->n_fields; i++) {
        const ProtobufCFieldDescriptor *field = &desc->fields[i];
        if (field->type != PROTOBUF_C_TYPE_MESSAGE || field->label == PROTOBUF_C_LABEL_REPEATED ||
            (field->flags & PROTOBUF_C_FIELD_FLAG_ONEOF))
            continue;
        ProtobufCMessage *sub = *(ProtobufCMessage **)((char *)msg + field->offset);
        if (!sub)
            continue;
        if (sub->descriptor == &pmo__money__descriptor) {
            if (*n < max)
                found[(*n)++] = (Pmo__Money *)sub;
        } else
            s_money_collect (sub, found, n, max);
    }
}

static void s_fill_currency (pmoctl_t *ctl, ProtobufCMessage *msg)
{
    Pmo__Money *found[32];
    size_t n = 0;
    s_money_collect (msg, found, &n, 32);
    const char *currency = ctl->currency;
    for (size_t i = 0; i < n && !currency; i++)
        if (!pmo_str_empty (found[i]->currency))
            currency = found[i]->currency;
    if (!currency)
        currency = "GBP";
    for (size_t i = 0; i < n; i++)
        if (ctl->currency || pmo_str_empty (found[i]->currency))
            found[i]->currency = (char *)currency;
}

//  "created project pr_fin_3 (FIN-2026-003), version 1"
static int s_done (pmoctl_t *ctl, const pmoctl_command_t *cmd, const Pmo__RegistryReply *reply)
{
    ProtobufCMessage *body = pmoctl_reply_body (reply);
    if (!body) {
        fprintf (stderr, "pmoctl: the registry's reply has no body\n");
        return PMOCTL_REFUSED;
    }
    if (ctl->json)
        return pmoctl_print_json (body);
    const char *verb = cmd->verb;
    const char *past = strcmp (verb, "add") == 0      ? "added"
                       : strcmp (verb, "submit") == 0 ? "submitted"
                                                      : pmo_arena_printf (ctl->arena, "%sd", verb);
    const char *code = pmo_reflect_str (body, "code");
    printf ("%s %s %s%s%s%s, version %llu\n", past, cmd->entity->name, pmo_reflect_str (body, "id"),
            *code ? " (" : "", code, *code ? ")" : "",
            (unsigned long long)pmo_reflect_u64 (body, "version"));
    return PMOCTL_OK;
}

//  ---------------------------------------------------------------------
//  Generic runners

static int s_run_create (pmoctl_t *ctl, const pmoctl_command_t *cmd, pmoctl_args_t *args)
{
    ProtobufCMessage *msg = s_new (ctl, cmd->entity->desc);
    int rc = pmoctl_args_apply (ctl, args, msg);
    if (rc)
        return rc;
    s_fill_currency (ctl, msg);
    Pmo__RegistryReply *reply = pmoctl_call (ctl, cmd->entity->create_field, msg);
    return reply ? s_done (ctl, cmd, reply) : ctl->status;
}

static int s_run_update (pmoctl_t *ctl, const pmoctl_command_t *cmd, pmoctl_args_t *args)
{
    if (!pmoctl_args_any_field (args))
        return pmoctl_usage_error (cmd, "nothing to change: give at least one option");
    ProtobufCMessage *msg = s_read (ctl, cmd->entity, args->positional);
    if (!msg)
        return ctl->status;
    int rc = pmoctl_args_apply (ctl, args, msg);
    if (rc)
        return rc;
    s_fill_currency (ctl, msg);
    Pmo__RegistryReply *reply = pmoctl_call (ctl, cmd->entity->update_field, msg);
    return reply ? s_done (ctl, cmd, reply) : ctl->status;
}

static int s_run_get (pmoctl_t *ctl, const pmoctl_command_t *cmd, pmoctl_args_t *args)
{
    ProtobufCMessage *msg = s_read (ctl, cmd->entity, args->positional);
    if (!msg)
        return ctl->status;
    if (ctl->json)
        return pmoctl_print_json (msg);
    pmoctl_print_entity (ctl, msg, stdout);
    return PMOCTL_OK;
}

static int s_run_archive (pmoctl_t *ctl, const pmoctl_command_t *cmd, pmoctl_args_t *args)
{
    ProtobufCMessage *msg = s_read (ctl, cmd->entity, args->positional);
    if (!msg)
        return ctl->status;
    Pmo__ArchiveRequest *archive =
        (Pmo__ArchiveRequest *)s_new (ctl, &pmo__archive_request__descriptor);
    archive->kind = cmd->entity->kind;
    archive->id = (char *)pmo_reflect_str (msg, "id");
    archive->version = pmo_reflect_u64 (msg, "version");
    int rc = pmoctl_args_apply (ctl, args, &archive->base);
    if (rc)
        return rc;
    Pmo__RegistryReply *reply = pmoctl_call (ctl, "archive", &archive->base);
    return reply ? s_done (ctl, cmd, reply) : ctl->status;
}

static void s_print_more (const Pmo__Page *page)
{
    if (!pmo_str_empty (page->next_cursor))
        fprintf (stderr, "pmoctl: more: --cursor '%s' for the next page, or --all\n",
                 page->next_cursor);
}

static int s_run_list (pmoctl_t *ctl, const pmoctl_command_t *cmd, pmoctl_args_t *args)
{
    Pmo__ListRequest *list = s_list_request (ctl, cmd->entity);
    int rc = pmoctl_args_apply (ctl, args, &list->base);
    if (rc)
        return rc;
    Pmo__Page *page;
    rc = s_list (ctl, list, pmoctl_args_get (args, "all") != NULL, &page);
    if (rc)
        return rc;
    if (ctl->json)
        return pmoctl_print_json (&page->base);
    size_t n;
    ProtobufCMessage **items = s_items (&page->base, cmd->entity->page_field, &n);
    if (n == 0)
        printf ("no %ss\n", cmd->entity->name);
    else {
        pmoctl_table_t *table = pmoctl_table_new (ctl->arena, cmd->entity->columns);
        for (size_t i = 0; i < n; i++)
            pmoctl_table_add_message (ctl, table, items[i]);
        pmoctl_table_print (table, stdout);
    }
    s_print_more (page);
    return PMOCTL_OK;
}

//  ---------------------------------------------------------------------
//  Org units

//  Paths compare component by component, so a unit's subtree follows it
//  ("hub/fin" < "hub/fin/ap" < "hub/fin-x").
static int s_path_compare (const void *a, const void *b)
{
    const char *p = (*(const Pmo__OrgUnit *const *)a)->path;
    const char *q = (*(const Pmo__OrgUnit *const *)b)->path;
    for (; *p && *p == *q; p++, q++)
        ;
    int x = *p == '/' ? 1 : (unsigned char)*p;
    int y = *q == '/' ? 1 : (unsigned char)*q;
    return x - y;
}

static int s_depth (const char *path)
{
    int depth = 0;
    for (; *path; path++)
        depth += *path == '/';
    return depth;
}

static int s_run_ou_list (pmoctl_t *ctl, const pmoctl_command_t *cmd, pmoctl_args_t *args)
{
    Pmo__ListRequest *list = s_list_request (ctl, &s_ou);
    int rc = pmoctl_args_apply (ctl, args, &list->base);
    if (rc)
        return rc;
    Pmo__Page *page;
    rc = s_list (ctl, list, true, &page);
    if (rc)
        return rc;
    //  qsort wants a valid array even for nothing to sort
    if (page->n_org_units > 1)
        qsort (page->org_units, page->n_org_units, sizeof (void *), s_path_compare);
    if (ctl->json)
        return pmoctl_print_json (&page->base);
    if (page->n_org_units == 0) {
        printf ("no org units\n");
        return PMOCTL_OK;
    }
    int top = INT_MAX;
    for (size_t i = 0; i < page->n_org_units; i++)
        if (s_depth (page->org_units[i]->path) < top)
            top = s_depth (page->org_units[i]->path);
    pmoctl_table_t *table = pmoctl_table_new (ctl->arena, s_ou_columns);
    for (size_t i = 0; i < page->n_org_units; i++) {
        const Pmo__OrgUnit *unit = page->org_units[i];
        const char *cells[6];
        cells[0] = pmo_arena_printf (ctl->arena, "%*s%s%s", 2 * (s_depth (unit->path) - top), "",
                                     unit->id, unit->archived ? " (archived)" : "");
        for (size_t c = 1; c < 6; c++)
            cells[c] = pmoctl_format_field (ctl, &unit->base, s_ou_columns[c].field);
        pmoctl_table_add (table, cells);
    }
    pmoctl_table_print (table, stdout);
    return PMOCTL_OK;
}

//  --gate PHASE:artifact,artifact[:role,role]; "PHASE:" removes that gate.
static int s_set_gate (pmoctl_t *ctl, const pmoctl_flag_t *flag, ProtobufCMessage *msg,
                       const char *value)
{
    Pmo__OrgUnit *unit = (Pmo__OrgUnit *)msg;
    char *copy = pmo_arena_strdup (ctl->arena, value);
    char *artifacts = strchr (copy, ':');
    int phase;
    if (!artifacts) {
        fprintf (stderr,
                 "pmoctl: --gate: '%s' is not PHASE:artifact,artifact[:role,role], e.g. "
                 "planning:charter,business_case\n",
                 value);
        return PMOCTL_USAGE;
    }
    *artifacts++ = 0;
    char *roles = strchr (artifacts, ':');
    if (roles)
        *roles++ = 0;
    if (pmo_json_enum_parse (&pmo__phase__descriptor, copy, &phase) ||
        phase == PMO__PHASE__PHASE_UNSPECIFIED) {
        fprintf (stderr, "pmoctl: --gate: '%s' is not a phase: %s\n", copy,
                 pmoctl_enum_choices (ctl->arena, &pmo__phase__descriptor));
        return PMOCTL_USAGE;
    }
    Pmo__GateRequirement *gate =
        (Pmo__GateRequirement *)s_new (ctl, &pmo__gate_requirement__descriptor);
    gate->phase = phase;
    const ProtobufCFieldDescriptor *field =
        protobuf_c_message_descriptor_get_field_by_name (gate->base.descriptor, "artifacts");
    char *save = NULL;
    for (char *a = strtok_r (artifacts, ",", &save); a; a = strtok_r (NULL, ",", &save))
        pmoctl_strings_append (ctl->arena, &gate->base, field, a);
    size_t n_roles = 1;
    for (const char *c = roles; c && *c; c++)
        n_roles += *c == ',';
    gate->approver_roles = pmo_arena_alloc (ctl->arena, n_roles * sizeof (Pmo__Role));
    save = NULL;
    for (char *r = roles ? strtok_r (roles, ",", &save) : NULL; r;
         r = strtok_r (NULL, ",", &save)) {
        int role;
        if (pmo_json_enum_parse (&pmo__role__descriptor, r, &role) ||
            role == PMO__ROLE__ROLE_UNSPECIFIED) {
            fprintf (stderr, "pmoctl: --gate: '%s' is not a role: %s\n", r,
                     pmoctl_enum_choices (ctl->arena, &pmo__role__descriptor));
            return PMOCTL_USAGE;
        }
        gate->approver_roles[gate->n_approver_roles++] = role;
    }
    if (!unit->policy)
        unit->policy = (Pmo__Policy *)s_new (ctl, &pmo__policy__descriptor);
    Pmo__Policy *policy = unit->policy;
    //  The gate given replaces the unit's own gate into the same phase
    Pmo__GateRequirement **gates =
        pmo_arena_alloc (ctl->arena, (policy->n_gates + 1) * sizeof (void *));
    size_t n = 0;
    for (size_t i = 0; i < policy->n_gates; i++)
        if (policy->gates[i]->phase != gate->phase)
            gates[n++] = policy->gates[i];
    if (gate->n_artifacts || gate->n_approver_roles)
        gates[n++] = gate;
    policy->gates = gates;
    policy->n_gates = n;
    return 0;
}

//  ---------------------------------------------------------------------
//  Projects

static int s_set_artifact (pmoctl_t *ctl, ProtobufCMessage *msg, const char *value, bool add)
{
    Pmo__Project *project = (Pmo__Project *)msg;
    size_t n = 0;
    char **kept = pmo_arena_alloc (ctl->arena, (project->n_artifacts + 1) * sizeof (char *));
    bool present = false;
    for (size_t i = 0; i < project->n_artifacts; i++) {
        if (strcmp (project->artifacts[i], value) == 0) {
            present = true;
            if (!add)
                continue;
        }
        kept[n++] = project->artifacts[i];
    }
    if (add && !present)
        kept[n++] = pmo_arena_strdup (ctl->arena, value);
    if (!add && !present)
        fprintf (stderr, "pmoctl: warning: artifact '%s' was not listed\n", value);
    project->artifacts = kept;
    project->n_artifacts = n;
    return 0;
}

static int s_add_artifact (pmoctl_t *ctl, const pmoctl_flag_t *flag, ProtobufCMessage *msg,
                           const char *value)
{
    return s_set_artifact (ctl, msg, value, true);
}

static int s_remove_artifact (pmoctl_t *ctl, const pmoctl_flag_t *flag, ProtobufCMessage *msg,
                              const char *value)
{
    return s_set_artifact (ctl, msg, value, false);
}

//  --ac reports actual cost: has_ac says it was reported, even when 0.
static int s_set_ac (pmoctl_t *ctl, const pmoctl_flag_t *flag, ProtobufCMessage *msg,
                     const char *value)
{
    int rc = pmoctl_set_amount (ctl, flag, msg, value);
    if (rc == 0)
        ((Pmo__StatusReport *)msg)->has_ac = 1;
    return rc;
}

static int s_compare_reports (const void *a, const void *b)
{
    const Pmo__StatusReport *x = *(const Pmo__StatusReport *const *)a;
    const Pmo__StatusReport *y = *(const Pmo__StatusReport *const *)b;
    int c = strcmp (x->period_end, y->period_end);
    if (c)
        return c;
    return (x->created_ms > y->created_ms) - (x->created_ms < y->created_ms);
}

//  Every record of `entity` that belongs to the project (arena).
static int s_project_children (pmoctl_t *ctl, const char *project_id, const pmoctl_entity_t *entity,
                               Pmo__Page **page)
{
    Pmo__ListRequest *list = s_list_request (ctl, entity);
    list->project_id = (char *)project_id;
    list->limit = 500;
    return s_list (ctl, list, true, page);
}

static void s_print_section (pmoctl_t *ctl, const char *title, const pmoctl_entity_t *entity,
                             ProtobufCMessage *const *items, size_t n)
{
    printf ("\n%s:%s\n", title, n ? "" : " none");
    if (!n)
        return;
    pmoctl_table_t *table = pmoctl_table_new (ctl->arena, entity->columns);
    for (size_t i = 0; i < n; i++)
        pmoctl_table_add_message (ctl, table, items[i]);
    pmoctl_table_print (table, stdout);
}

static json_t *s_json_array (ProtobufCMessage *const *items, size_t n)
{
    json_t *array = json_array ();
    for (size_t i = 0; i < n; i++)
        json_array_append_new (array, pmo_json_from_message (items[i]));
    return array;
}

static int s_run_project_get (pmoctl_t *ctl, const pmoctl_command_t *cmd, pmoctl_args_t *args)
{
    Pmo__Project *project = (Pmo__Project *)s_read (ctl, &s_project, args->positional);
    if (!project)
        return ctl->status;
    Pmo__Page *milestones, *reports, *decisions;
    int rc = s_project_children (ctl, project->id, &s_milestone, &milestones);
    if (!rc)
        rc = s_project_children (ctl, project->id, &s_report, &reports);
    if (!rc)
        rc = s_project_children (ctl, project->id, &s_decision, &decisions);
    if (rc)
        return rc;
    //  qsort wants a valid array even for nothing to sort
    if (reports->n_status_reports > 1)
        qsort (reports->status_reports, reports->n_status_reports, sizeof (void *),
               s_compare_reports);
    size_t skip =
        reports->n_status_reports > RECENT_REPORTS ? reports->n_status_reports - RECENT_REPORTS : 0;
    ProtobufCMessage **recent = (ProtobufCMessage **)reports->status_reports + skip;
    size_t n_recent = reports->n_status_reports - skip;
    if (ctl->json) {
        //  One document for the whole answer
        json_t *doc = json_object ();
        json_object_set_new (doc, "project", pmo_json_from_message (&project->base));
        json_object_set_new (
            doc, "milestones",
            s_json_array ((ProtobufCMessage **)milestones->milestones, milestones->n_milestones));
        json_object_set_new (doc, "status_reports", s_json_array (recent, n_recent));
        json_object_set_new (doc, "gate_decisions",
                             s_json_array ((ProtobufCMessage **)decisions->gate_decisions,
                                           decisions->n_gate_decisions));
        char *text = json_dumps (doc, JSON_COMPACT);
        json_decref (doc);
        if (!text) {
            fprintf (stderr, "pmoctl: the reply cannot be written as JSON\n");
            return PMOCTL_REFUSED;
        }
        printf ("%s\n", text);
        free (text);
        return PMOCTL_OK;
    }
    pmoctl_print_entity (ctl, &project->base, stdout);
    s_print_section (ctl, "milestones", &s_milestone, (ProtobufCMessage **)milestones->milestones,
                     milestones->n_milestones);
    const char *title = skip ? pmo_arena_printf (ctl->arena, "status reports (last %d of %zu)",
                                                 RECENT_REPORTS, reports->n_status_reports)
                             : "status reports";
    s_print_section (ctl, title, &s_report, recent, n_recent);
    s_print_section (ctl, "gate decisions", &s_decision,
                     (ProtobufCMessage **)decisions->gate_decisions, decisions->n_gate_decisions);
    return PMOCTL_OK;
}

static void s_print_project_state (pmoctl_t *ctl, const Pmo__Project *project)
{
    printf ("project %s (%s) is in %s, status %s, version %llu\n", project->id, project->code,
            pmoctl_format_enum (ctl->arena, &pmo__phase__descriptor, project->phase),
            pmoctl_format_enum (ctl->arena, &pmo__project_status__descriptor, project->status),
            (unsigned long long)project->version);
}

static int s_run_project_phase (pmoctl_t *ctl, const pmoctl_command_t *cmd, pmoctl_args_t *args)
{
    Pmo__Project *project = (Pmo__Project *)s_read (ctl, &s_project, args->positional);
    if (!project)
        return ctl->status;
    Pmo__PhaseChangeRequest *change =
        (Pmo__PhaseChangeRequest *)s_new (ctl, &pmo__phase_change_request__descriptor);
    change->project_id = project->id;
    change->version = project->version;
    int rc = pmoctl_args_apply (ctl, args, &change->base);
    if (rc)
        return rc;
    Pmo__RegistryReply *reply = pmoctl_call (ctl, "change_phase", &change->base);
    if (!reply)
        return ctl->status;
    if (reply->body_case != PMO__REGISTRY_REPLY__BODY_PROJECT) {
        fprintf (stderr, "pmoctl: the registry answered change_phase with no project\n");
        return PMOCTL_REFUSED;
    }
    if (ctl->json)
        return pmoctl_print_json (&reply->project->base);
    s_print_project_state (ctl, reply->project);
    return PMOCTL_OK;
}

static int s_run_project_decide (pmoctl_t *ctl, const pmoctl_command_t *cmd, pmoctl_args_t *args)
{
    Pmo__Project *project = (Pmo__Project *)s_read (ctl, &s_project, args->positional);
    if (!project)
        return ctl->status;
    Pmo__GateDecisionRequest *decide =
        (Pmo__GateDecisionRequest *)s_new (ctl, &pmo__gate_decision_request__descriptor);
    decide->project_id = project->id;
    decide->version = project->version;
    int rc = pmoctl_args_apply (ctl, args, &decide->base);
    if (rc)
        return rc;
    Pmo__RegistryReply *reply = pmoctl_call (ctl, "decide_gate", &decide->base);
    if (!reply)
        return ctl->status;
    if (reply->body_case != PMO__REGISTRY_REPLY__BODY_GATE_DECISION) {
        fprintf (stderr, "pmoctl: the registry answered decide_gate with no decision\n");
        return PMOCTL_REFUSED;
    }
    if (ctl->json)
        return pmoctl_print_json (&reply->gate_decision->base);
    const Pmo__GateDecision *d = reply->gate_decision;
    printf ("gate into %s: %s, decided by %s as %s (%s)\n",
            pmoctl_format_enum (ctl->arena, &pmo__phase__descriptor, d->to_phase),
            pmoctl_format_enum (ctl->arena, &pmo__gate_outcome__descriptor, d->outcome),
            d->decided_by, pmoctl_format_enum (ctl->arena, &pmo__role__descriptor, d->decided_as),
            d->id);
    if (reply->moved_project)
        s_print_project_state (ctl, reply->moved_project);
    return PMOCTL_OK;
}

//  ---------------------------------------------------------------------
//  Gate requests: what waits on a gate's approvers

static void s_print_gate_request (pmoctl_t *ctl, const Pmo__Project *project)
{
    const Pmo__GateRequest *r = project->gate_request;
    printf ("%s (%s, %s): gate into %s requested by %s at %s\n", project->code, project->id,
            project->name, pmoctl_format_enum (ctl->arena, &pmo__phase__descriptor, r->to_phase),
            r->requested_by, pmoctl_format_time (ctl->arena, r->requested_ms, false));
    const char *roles = "";
    for (size_t i = 0; i < r->n_approver_roles; i++)
        roles = pmo_arena_printf (
            ctl->arena, "%s%s%s", roles, i ? ", " : "",
            pmoctl_format_enum (ctl->arena, &pmo__role__descriptor, r->approver_roles[i]));
    printf ("  decided by: %s\n", roles);
    for (int missing = 0; missing < 2; missing++) {
        char **items = missing ? r->artifacts_missing : r->artifacts_present;
        size_t n = missing ? r->n_artifacts_missing : r->n_artifacts_present;
        const char *list = n ? "" : "none";
        for (size_t i = 0; i < n; i++)
            list = pmo_arena_printf (ctl->arena, "%s%s%s", list, i ? ", " : "", items[i]);
        printf ("  artifacts %s: %s\n", missing ? "missing" : "present", list);
    }
    if (!pmo_str_empty (r->note))
        printf ("  note: %s\n", r->note);
}

//  request-gate and withdraw-gate: the project's version read now unless
//  --version says which
static int s_run_project_gate (pmoctl_t *ctl, const pmoctl_command_t *cmd, pmoctl_args_t *args)
{
    Pmo__Project *project = (Pmo__Project *)s_read (ctl, &s_project, args->positional);
    if (!project)
        return ctl->status;
    ProtobufCMessage *msg = s_new (ctl, cmd->desc);
    pmo_reflect_set_str (msg, "project_id", project->id, ctl->arena);
    pmo_reflect_set_u64 (msg, "version", project->version);
    int rc = pmoctl_args_apply (ctl, args, msg);
    if (rc)
        return rc;
    bool withdraw = msg->descriptor == &pmo__gate_withdraw_request__descriptor;
    const char *member = withdraw ? "withdraw_gate" : "request_gate";
    Pmo__RegistryReply *reply = pmoctl_call (ctl, member, msg);
    if (!reply)
        return ctl->status;
    if (reply->body_case != PMO__REGISTRY_REPLY__BODY_PROJECT) {
        fprintf (stderr, "pmoctl: the registry answered %s with no project\n", member);
        return PMOCTL_REFUSED;
    }
    if (ctl->json)
        return pmoctl_print_json (&reply->project->base);
    if (withdraw)
        printf ("gate request withdrawn\n");
    else
        s_print_gate_request (ctl, reply->project);
    s_print_project_state (ctl, reply->project);
    return PMOCTL_OK;
}

static int s_run_gate_pending (pmoctl_t *ctl, const pmoctl_command_t *cmd, pmoctl_args_t *args)
{
    Pmo__PendingGatesRequest *ask =
        (Pmo__PendingGatesRequest *)s_new (ctl, &pmo__pending_gates_request__descriptor);
    int rc = pmoctl_args_apply (ctl, args, &ask->base);
    if (rc)
        return rc;
    bool all = pmoctl_args_get (args, "all") != NULL;
    Pmo__Page *merged = (Pmo__Page *)s_new (ctl, &pmo__page__descriptor);
    for (;;) {
        Pmo__RegistryReply *reply = pmoctl_call (ctl, "pending_gates", &ask->base);
        if (!reply)
            return ctl->status;
        if (reply->body_case != PMO__REGISTRY_REPLY__BODY_PAGE) {
            fprintf (stderr, "pmoctl: the registry answered pending_gates with no page\n");
            return PMOCTL_REFUSED;
        }
        s_page_merge (ctl, merged, reply->page);
        const char *next = reply->page->next_cursor;
        bool stuck = !pmo_str_empty (ask->cursor) && strcmp (ask->cursor, next) == 0;
        if (!all || pmo_str_empty (next) || stuck) {
            merged->next_cursor = (char *)next;
            break;
        }
        ask->cursor = (char *)next;
    }
    if (ctl->json)
        return pmoctl_print_json (&merged->base);
    if (merged->n_projects == 0)
        printf ("no gate requests waiting%s\n", ask->to_decide ? " on you" : "");
    for (size_t i = 0; i < merged->n_projects; i++)
        s_print_gate_request (ctl, merged->projects[i]);
    s_print_more (merged);
    return PMOCTL_OK;
}

//  ---------------------------------------------------------------------
//  Ping

static int s_run_ping (pmoctl_t *ctl, const pmoctl_command_t *cmd, pmoctl_args_t *args)
{
    Pmo__PingRequest *ping = (Pmo__PingRequest *)s_new (ctl, &pmo__ping_request__descriptor);
    Pmo__RegistryReply *reply = pmoctl_call (ctl, "ping", &ping->base);
    if (!reply)
        return ctl->status;
    if (reply->body_case != PMO__REGISTRY_REPLY__BODY_PONG) {
        fprintf (stderr, "pmoctl: the registry answered ping with no pong\n");
        return PMOCTL_REFUSED;
    }
    const Pmo__Pong *pong = reply->pong;
    if (ctl->json) {
        int rc = pmoctl_print_json (&pong->base);
        if (rc)
            return rc;
    } else {
        int64_t s = pong->uptime_ms / 1000;
        printf ("service:  %s\nversion:  %s\nredis_ok: %s\nuptime:   %lldd %02lld:%02lld:%02lld\n",
                pong->service, pong->version, pong->redis_ok ? "yes" : "no", (long long)(s / 86400),
                (long long)(s / 3600 % 24), (long long)(s / 60 % 60), (long long)(s % 60));
    }
    if (!pong->redis_ok) {
        fprintf (stderr, "pmoctl: the %s answers but cannot reach its Redis\n", pong->service);
        return PMOCTL_REFUSED;
    }
    return PMOCTL_OK;
}

//  ---------------------------------------------------------------------
//  Flag tables: name, placeholder, field, setter, flags, range, entity, help

#define REQ    PMOCTL_REQUIRED
#define CREATE PMOCTL_CREATE_ONLY
#define UPDATE PMOCTL_UPDATE_ONLY
#define REPEAT PMOCTL_REPEAT

#define TEXT(name, meta, field, flags, help)                                                       \
    {                                                                                              \
        name, meta, field, pmoctl_set_text, flags, 0, 0, NULL, help                                \
    }
#define INT(name, field, flags, min, max, help)                                                    \
    {                                                                                              \
        name, "N", field, pmoctl_set_int, flags, min, max, NULL, help                              \
    }
#define ENUM(name, field, flags, help)                                                             \
    {                                                                                              \
        name, NULL, field, pmoctl_set_enum, flags, 0, 0, NULL, help                                \
    }
#define DATE(name, field, flags, help)                                                             \
    {                                                                                              \
        name, "DATE", field, pmoctl_set_date, flags, 0, 0, NULL, help                              \
    }
#define AMOUNT(name, field, help)                                                                  \
    {                                                                                              \
        name, "AMOUNT", field, pmoctl_set_amount, 0, 0, 0, NULL, help                              \
    }
#define LIST(name, meta, field, help)                                                              \
    {                                                                                              \
        name, meta, field, pmoctl_set_list, 0, 0, 0, NULL, help                                    \
    }
#define REF(name, field, entity, flags, help)                                                      \
    {                                                                                              \
        name, "ID", field, pmoctl_set_ref, flags, 0, 0, entity, help                               \
    }
#define SWITCH(name, field, help)                                                                  \
    {                                                                                              \
        name, NULL, field, pmoctl_set_switch, PMOCTL_SWITCH, 0, 0, NULL, help                      \
    }
#define OWN(name, meta, flags, help)                                                               \
    {                                                                                              \
        name, meta, NULL, NULL, flags, 0, 0, NULL, help                                            \
    }
#define VERSION(flags)                                                                             \
    INT ("version", "version", flags, 1, LONG_MAX,                                                 \
         "the version you read; the registry refuses (conflict) if it moved on")
static const pmoctl_flag_t s_ou_flags[] = {
    TEXT ("id", "ID", "id", REQ | CREATE, "the unit's id: a-z, 0-9 and '-', 2..32 characters"),
    TEXT ("name", "NAME", "name", REQ, "the unit's name"),
    ENUM ("kind", "kind", REQ | CREATE, "enterprise (the hub's unit), division or department"),
    TEXT ("parent", "ID", "parent", CREATE, "the parent unit (all but the enterprise)"),
    ENUM ("pmo-type", "pmo_type", 0, "the PMO on this unit, if any"),
    ENUM ("tier", "pmo_tier", 0, "hub (the enterprise's PMO) or spoke (a division's)"),
    INT ("reporting-days", "policy.reporting_period_days", 0, 0, 366,
         "status reports due every N days (0: inherit)"),
    {"gate", "PHASE:ARTIFACTS[:ROLES]", "policy.gates", s_set_gate, REPEAT, 0, 0, NULL,
     "the gate into PHASE needs these artifacts (a,b), decided by these roles "
     "(c,d); 'PHASE:' removes the unit's gate"},
    VERSION (UPDATE),
    END,
};

static const pmoctl_flag_t s_ou_list_flags[] = {
    TEXT ("under", "ID", "org_unit", 0, "only this unit and the units below it"),
    SWITCH ("archived", "include_archived", "include archived units"),
    END,
};

static const pmoctl_flag_t s_portfolio_flags[] = {
    TEXT ("code", "CODE", "code", REQ, "short code, unique in the division, e.g. FIN-CORE"),
    TEXT ("name", "NAME", "name", REQ, "the portfolio's name"),
    TEXT ("org-unit", "ID", "org_unit", REQ | CREATE, "the org unit that owns it"),
    TEXT ("owner", "NAME", "owner", 0, "who owns it"),
    TEXT ("description", "TEXT", "description", 0, "what it is for"),
    VERSION (UPDATE),
    END,
};

static const pmoctl_flag_t s_programme_flags[] = {
    TEXT ("code", "CODE", "code", REQ, "short code, unique in the division"),
    TEXT ("name", "NAME", "name", REQ, "the programme's name"),
    TEXT ("org-unit", "ID", "org_unit", REQ | CREATE, "the org unit that owns it"),
    REF ("portfolio", "portfolio_id", &s_portfolio, 0, "the portfolio it belongs to (id or code)"),
    TEXT ("sponsor", "NAME", "sponsor", 0, "the sponsor"),
    TEXT ("manager", "NAME", "manager", 0, "the programme manager"),
    TEXT ("description", "TEXT", "description", 0, "what it is for"),
    VERSION (UPDATE),
    END,
};

static const pmoctl_flag_t s_grouping_list_flags[] = {
    TEXT ("org-unit", "ID", "org_unit", 0, "only this unit and the units below it"),
    SWITCH ("archived", "include_archived", "include archived records"),
    END,
};

static const pmoctl_flag_t s_programme_list_flags[] = {
    TEXT ("org-unit", "ID", "org_unit", 0, "only this unit and the units below it"),
    REF ("portfolio", "portfolio_id", &s_portfolio, 0, "only this portfolio's (id or code)"),
    SWITCH ("archived", "include_archived", "include archived records"),
    END,
};

static const pmoctl_flag_t s_project_flags[] = {
    TEXT ("code", "CODE", "code", REQ, "short code, unique in the division, e.g. FIN-2026-014"),
    TEXT ("name", "NAME", "name", REQ, "the project's name"),
    TEXT ("org-unit", "ID", "org_unit", REQ, "the org unit (moves stay within the division)"),
    TEXT ("description", "TEXT", "description", 0, "what it delivers"),
    REF ("portfolio", "portfolio_id", &s_portfolio, 0, "its portfolio (id or code)"),
    REF ("programme", "programme_id", &s_programme, 0, "its programme (id or code)"),
    TEXT ("sponsor", "NAME", "sponsor", 0, "the project sponsor"),
    TEXT ("manager", "NAME", "manager", 0, "the project manager"),
    ENUM ("methodology", "methodology", 0, "how it is run"),
    ENUM ("phase", "phase", CREATE,
          "the phase it starts in (later: project phase / project decide)"),
    ENUM ("status", "status", 0, "its status"),
    INT ("priority", "priority", 0, 1, 5, "1 (highest) to 5 (lowest); default 3"),
    INT ("strategic-score", "strategic_score", 0, 0, 100, "strategic alignment, 0 to 100"),
    DATE ("start", "baseline_start", 0, "baseline start"),
    DATE ("finish", "baseline_finish", 0, "baseline finish"),
    DATE ("forecast-finish", "forecast_finish", 0, "forecast finish"),
    {"currency", "CODE", NULL, pmoctl_set_currency, 0, 0, 0, NULL,
     "ISO 4217 currency of the amounts (default: the project's, else GBP)"},
    AMOUNT ("budget", "budget.baseline", "baseline budget, e.g. 1,250,000.00"),
    AMOUNT ("actual", "budget.actual", "actual cost to date"),
    AMOUNT ("forecast-cost", "budget.forecast", "forecast cost at completion"),
    AMOUNT ("benefits-planned", "benefits.planned", "planned benefits"),
    AMOUNT ("benefits-realised", "benefits.realised", "benefits realised so far"),
    {"depends-on", "ID,ID", "depends_on", pmoctl_set_refs, 0, 0, 0, &s_project,
     "the projects it depends on (ids or codes; replaces the list)"},
    LIST ("artifacts", "A,B", "artifacts", "gate artifacts that exist (replaces the list)"),
    {"add-artifact", "NAME", "artifacts", s_add_artifact, UPDATE | REPEAT, 0, 0, NULL,
     "record that an artifact now exists, e.g. charter"},
    {"remove-artifact", "NAME", "artifacts", s_remove_artifact, UPDATE | REPEAT, 0, 0, NULL,
     "remove an artifact from the list"},
    TEXT ("external-id", "KEY", "external_id", 0, "its key in another system"),
    VERSION (UPDATE),
    END,
};

static const pmoctl_flag_t s_project_list_flags[] = {
    TEXT ("org-unit", "ID", "org_unit", 0, "only this unit and the units below it"),
    REF ("portfolio", "portfolio_id", &s_portfolio, 0, "only this portfolio's (id or code)"),
    REF ("programme", "programme_id", &s_programme, 0, "only this programme's (id or code)"),
    ENUM ("phase", "phase", 0, "only projects in this phase"),
    ENUM ("status", "status", 0, "only projects with this status"),
    INT ("limit", "limit", 0, 1, 500, "at most N per page (default 50)"),
    TEXT ("cursor", "CURSOR", "cursor", 0, "the page after this cursor (from the last page)"),
    OWN ("all", NULL, PMOCTL_SWITCH, "every page, following the cursors"),
    SWITCH ("archived", "include_archived", "include archived projects"),
    END,
};

static const pmoctl_flag_t s_phase_flags[] = {
    ENUM ("to", "to_phase", REQ, "the next phase"),
    TEXT ("why", "TEXT", "rationale", 0, "why, for the record"),
    INT ("version", "version", 0, 1, LONG_MAX,
         "the version you read; the registry refuses (conflict) if it moved on"),
    END,
};

static const pmoctl_flag_t s_decide_flags[] = {
    ENUM ("to", "to_phase", REQ, "the phase the gate leads into"),
    ENUM ("outcome", "outcome", REQ, "the decision"),
    TEXT ("why", "TEXT", "rationale", REQ, "the rationale, for the record"),
    LIST ("waive", "A,B", "waived_artifacts", "required artifacts waived by this decision"),
    TEXT ("conditions", "TEXT", "conditions", 0, "the conditions of a conditional_go"),
    INT ("version", "version", 0, 1, LONG_MAX,
         "the version you read; the registry refuses (conflict) if it moved on"),
    END,
};

static const pmoctl_flag_t s_request_gate_flags[] = {
    ENUM ("to", "to_phase", REQ, "the next phase"),
    TEXT ("note", "TEXT", "note", 0, "a note to the approvers (up to 2000 characters)"),
    INT ("version", "version", 0, 1, LONG_MAX,
         "the version you read; the registry refuses (conflict) if it moved on"),
    END,
};

static const pmoctl_flag_t s_withdraw_gate_flags[] = {
    INT ("version", "version", 0, 1, LONG_MAX,
         "the version you read; the registry refuses (conflict) if it moved on"),
    END,
};

static const pmoctl_flag_t s_gate_pending_flags[] = {
    SWITCH ("to-decide", "to_decide", "only the gates you may decide (an approver role)"),
    TEXT ("org-unit", "ID", "org_unit", 0, "only this unit and the units below it"),
    REF ("project", "project_id", &s_project, 0, "only this project (id or code)"),
    INT ("limit", "limit", 0, 1, 500, "at most N per page (default 50)"),
    TEXT ("cursor", "CURSOR", "cursor", 0, "the page after this cursor (from the last page)"),
    OWN ("all", NULL, PMOCTL_SWITCH, "every page, following the cursors"),
    END,
};

static const pmoctl_flag_t s_archive_flags[] = {
    INT ("version", "version", 0, 1, LONG_MAX,
         "the version you read; the registry refuses (conflict) if it moved on"),
    END,
};

static const pmoctl_flag_t s_milestone_flags[] = {
    REF ("project", "project_id", &s_project, REQ | CREATE, "the project (id or code)"),
    TEXT ("name", "NAME", "name", REQ, "the milestone's name"),
    DATE ("baseline", "baseline_date", REQ, "the baseline date"),
    DATE ("forecast", "forecast_date", 0, "the forecast date"),
    DATE ("actual", "actual_date", 0, "the date it was achieved"),
    VERSION (UPDATE),
    END,
};

static const pmoctl_flag_t s_children_list_flags[] = {
    REF ("project", "project_id", &s_project, REQ, "the project (id or code)"),
    INT ("limit", "limit", 0, 1, 500, "at most N per page (default 50)"),
    TEXT ("cursor", "CURSOR", "cursor", 0, "the page after this cursor (from the last page)"),
    OWN ("all", NULL, PMOCTL_SWITCH, "every page, following the cursors"),
    END,
};

static const pmoctl_flag_t s_report_flags[] = {
    REF ("project", "project_id", &s_project, REQ, "the project (id or code)"),
    DATE ("period-end", "period_end", REQ, "the date the report speaks for"),
    ENUM ("overall", "overall", REQ, "overall RAG"),
    ENUM ("schedule", "schedule", 0, "schedule RAG"),
    ENUM ("cost", "cost", 0, "cost RAG"),
    ENUM ("scope", "scope", 0, "scope RAG"),
    ENUM ("resources", "resources", 0, "resources RAG"),
    INT ("percent", "percent_complete", 0, 0, 100, "percent complete"),
    AMOUNT ("pv", "pv_minor", "planned value to date"),
    AMOUNT ("ev", "ev_minor", "earned value to date"),
    {"ac", "AMOUNT", "ac_minor", s_set_ac, 0, 0, 0, NULL,
     "actual cost to date (leave out when not known: CPI is then n/a)"},
    TEXT ("narrative", "TEXT", "narrative", 0, "what happened, what is next"),
    END,
};

//  ---------------------------------------------------------------------
//  The commands

#define C_OTHER  PMOCTL_MODE_OTHER
#define C_CREATE PMOCTL_MODE_CREATE
#define C_UPDATE PMOCTL_MODE_UPDATE

#define CRUD(group, e, desc, flags, list_flags, list_run, one, many)                               \
    PMOCTL_RUN (group, "create", NULL, flags, C_CREATE, s_run_create, &e, desc, "create " one),    \
        PMOCTL_RUN (group, "update", "ID", flags, C_UPDATE, s_run_update, &e, desc,                \
                    "change " one " (read, change, write with the version read)"),                 \
        PMOCTL_RUN (group, "get", "ID", NULL, C_OTHER, s_run_get, &e, NULL, "show " one),          \
        PMOCTL_RUN (group, "list", NULL, list_flags, C_OTHER, list_run, &e,                        \
                    &pmo__list_request__descriptor, "list " many),                                 \
        PMOCTL_RUN (group, "archive", "ID", s_archive_flags, C_OTHER, s_run_archive, &e,           \
                    &pmo__archive_request__descriptor, "archive " one)

const pmoctl_command_t pmoctl_registry_ping_commands[] = {
    PMOCTL_RUN ("ping", NULL, NULL, NULL, C_OTHER, s_run_ping, NULL, NULL,
                "is the registry up, and its Redis? (exit 0 only if both)"),
    PMOCTL_END,
};

const pmoctl_command_t pmoctl_registry_commands[] = {
    CRUD ("ou", s_ou, &pmo__org_unit__descriptor, s_ou_flags, s_ou_list_flags, s_run_ou_list,
          "an org unit", "org units as a tree"),
    CRUD ("portfolio", s_portfolio, &pmo__portfolio__descriptor, s_portfolio_flags,
          s_grouping_list_flags, s_run_list, "a portfolio", "portfolios"),
    CRUD ("programme", s_programme, &pmo__programme__descriptor, s_programme_flags,
          s_programme_list_flags, s_run_list, "a programme", "programmes"),
    PMOCTL_RUN ("project", "create", NULL, s_project_flags, C_CREATE, s_run_create, &s_project,
                &pmo__project__descriptor, "create a project"),
    PMOCTL_RUN ("project", "update", "ID", s_project_flags, C_UPDATE, s_run_update, &s_project,
                &pmo__project__descriptor,
                "change a project (read, change, write with the version read)"),
    PMOCTL_RUN ("project", "get", "ID", NULL, C_OTHER, s_run_project_get, &s_project, NULL,
                "show a project with its milestones, recent status reports and gate decisions"),
    PMOCTL_RUN ("project", "list", NULL, s_project_list_flags, C_OTHER, s_run_list, &s_project,
                &pmo__list_request__descriptor, "list projects"),
    PMOCTL_RUN ("project", "archive", "ID", s_archive_flags, C_OTHER, s_run_archive, &s_project,
                &pmo__archive_request__descriptor, "archive a project"),
    PMOCTL_RUN ("project", "phase", "ID", s_phase_flags, C_OTHER, s_run_project_phase, &s_project,
                &pmo__phase_change_request__descriptor,
                "move a project through the gate into its next phase"),
    PMOCTL_RUN ("project", "decide", "ID", s_decide_flags, C_OTHER, s_run_project_decide,
                &s_project, &pmo__gate_decision_request__descriptor,
                "record a gate decision (go moves the project; stop cancels it)"),
    PMOCTL_RUN ("project", "request-gate", "ID", s_request_gate_flags, C_OTHER, s_run_project_gate,
                &s_project, &pmo__gate_request_request__descriptor,
                "ask the gate's approvers to decide the gate into the next phase"),
    PMOCTL_RUN ("project", "withdraw-gate", "ID", s_withdraw_gate_flags, C_OTHER,
                s_run_project_gate, &s_project, &pmo__gate_withdraw_request__descriptor,
                "withdraw your pending gate request"),
    PMOCTL_RUN ("gate", "pending", NULL, s_gate_pending_flags, C_OTHER, s_run_gate_pending, NULL,
                &pmo__pending_gates_request__descriptor,
                "projects whose gate request waits for a decision (--to-decide: on you)"),
    PMOCTL_RUN ("milestone", "add", NULL, s_milestone_flags, C_CREATE, s_run_create, &s_milestone,
                &pmo__milestone__descriptor, "add a milestone to a project"),
    PMOCTL_RUN ("milestone", "update", "ID", s_milestone_flags, C_UPDATE, s_run_update,
                &s_milestone, &pmo__milestone__descriptor,
                "change a milestone (read, change, write with the version read)"),
    PMOCTL_RUN ("milestone", "get", "ID", NULL, C_OTHER, s_run_get, &s_milestone, NULL,
                "show a milestone"),
    PMOCTL_RUN ("milestone", "list", NULL, s_children_list_flags, C_OTHER, s_run_list, &s_milestone,
                &pmo__list_request__descriptor, "list a project's milestones"),
    PMOCTL_RUN ("report", "submit", NULL, s_report_flags, C_CREATE, s_run_create, &s_report,
                &pmo__status_report__descriptor, "submit a status report for a project"),
    PMOCTL_RUN ("report", "get", "ID", NULL, C_OTHER, s_run_get, &s_report, NULL,
                "show a status report"),
    PMOCTL_RUN ("report", "list", NULL, s_children_list_flags, C_OTHER, s_run_list, &s_report,
                &pmo__list_request__descriptor, "list a project's status reports"),
    PMOCTL_END,
};
