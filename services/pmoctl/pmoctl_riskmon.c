/*  pmoctl_riskmon.c: the risk monitor's commands.

    risk create|update|close|get|list, issue create|update|close|get|list,
    health show|rollup|thresholds, alerts list|ack|resolve and riskmon ping:
    a row each in the table at the end, run by pmoctl_run_call. Requests are
    JSON objects converted to protobuf by the generic mapping (enum flags
    take the JSON labels, e.g. --response reduce); updates read the entry
    first, change what the flags say and send the version read. The risk
    monitor is reached at $PMO_RISKMON_ENDPOINT.
*/
#include "pmoctl.h"

#include "pmo_json.h"
#include "pmo_reflect.h"
#include "pmo_wire.h"
#include "riskmon.pb-c.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static const pmoctl_flag_t s_risk_flags[] = {
    JSTR ("project", "ID|CODE", "project_id", 0, "the project (required to create)"),
    JSTR ("title", "TEXT", "title", 0, "what the risk is (required to create)"),
    JSTR ("owner", "PERSON", "owner", 0, "the one person accountable (required to create)"),
    JINT ("probability", "1-5", "probability", 0, 0, 5,
          "inherent probability (required to create)"),
    JINT ("impact", "1-5", "impact", 0, 0, 5, "inherent impact (required to create)"),
    JINT ("residual-probability", "1-5", "residual_probability", 0, 0, 5,
          "after the response (default: inherent)"),
    JINT ("residual-impact", "1-5", "residual_impact", 0, 0, 5,
          "after the response (default: inherent)"),
    JSTR ("kind", "threat|opportunity", "kind", 0, "default threat"),
    JSTR ("category", "TEXT", "category", 0, "e.g. technical, commercial, legal"),
    JSTR ("cause", "TEXT", "cause", 0, "PRINCE2 cause"),
    JSTR ("event", "TEXT", "event", 0, "PRINCE2 event"),
    JSTR ("effect", "TEXT", "effect", 0, "PRINCE2 effect"),
    JSTR ("proximity", "imminent|within_stage|within_project|beyond_project", "proximity", 0,
          "when it would strike"),
    JSTR ("response", "LABEL", "response", 0,
          "threats: avoid, reduce, fallback, transfer, share, accept; opportunities: exploit, "
          "enhance, share, reject"),
    JSTR ("plan", "TEXT", "response_plan", 0, "the response plan"),
    JSTR ("actionee", "PERSON", "actionee", 0, "who carries out the response"),
    F ("cost", "AMOUNT", 0, "cost impact if it happens, e.g. 250000.00 (exposure = P% x cost)"),
    F ("currency", "CODE", 0, "currency of --cost (default GBP)"),
    JSTR ("review", "DATE", "review_date", 0, "next review date, YYYY-MM-DD"),
    END,
};

static const pmoctl_flag_t s_issue_flags[] = {
    JSTR ("project", "ID|CODE", "project_id", 0, "the project (required to create)"),
    JSTR ("title", "TEXT", "title", 0, "what the issue is (required to create)"),
    JSTR ("type", "request_for_change|off_specification|problem_concern", "type", 0,
          "the PRINCE2 issue type (required to create)"),
    JSTR ("description", "TEXT", "description", 0, "details"),
    JSTR ("severity", "low|medium|high|critical", "severity", 0, "default medium"),
    JINT ("priority", "1-5", "priority", 0, 0, 5, "1 highest (default 3)"),
    JSTR ("owner", "PERSON", "owner", 0, "who deals with it"),
    JSTR ("status", "open|in_progress|resolved", "status", 0,
          "where it stands (close with issue close)"),
    JSTR ("resolution", "TEXT", "resolution", 0, "how it was resolved (required to resolve)"),
    JSTR ("due", "DATE", "due_date", 0, "due date, YYYY-MM-DD"),
    END,
};

static const pmoctl_flag_t s_close_flags[] = {
    JSTR ("note", "TEXT", "note", 0, "closure note (an issue's resolution)"),
    SW ("occurred", "risks: it happened (closes as occurred)"),
    END,
};

static const pmoctl_flag_t s_get_flags[] = {
    JSWITCH ("history", "with_history", "every version, oldest first"),
    END,
};

static const pmoctl_flag_t s_list_flags[] = {
    JSTR ("project", "ID|CODE", "project_id", 0, "one project's entries"),
    JSTR ("org-unit", "UNIT", "org_unit", 0, "or a subtree (default: everything you may see)"),
    JSWITCH ("closed", "include_closed", "closed and resolved ones too"),
    JSTR ("min-band", "minimal|low|medium|high|critical", "min_band", 0,
          "risks: residual band at least"),
    JSTR ("owner", "PERSON", "owner", 0, "this owner (alerts: this assignee)"),
    JSTR ("category", "TEXT", "category", 0, "risks: this category"),
    JSTR ("min-severity", "info|warning|critical", "min_severity", 0,
          "alerts: at least this severe"),
    JINT ("limit", "N", "limit", 0, 0, 500, "at most N (default 50, at most 500)"),
    JSTR ("cursor", "CURSOR", "cursor", 0, "the page after this cursor"),
    END,
};

static const pmoctl_flag_t s_health_flags[] = {
    JSWITCH ("history", "with_history", "every recorded change, oldest first"),
    JINT ("limit", "N", "history_limit", 0, 0, 100000, "with --history: the last N (default 100)"),
    END,
};

static const pmoctl_flag_t s_unit_flags[] = {
    JSTR ("org-unit", "UNIT", "org_unit", 0, "a division, the hub or any unit (default: the hub)"),
    END,
};

static const pmoctl_flag_t s_thresholds_flags[] = {
    F ("org-unit", "UNIT", 0, "the PMO unit (default: the hub)"),
    F ("set", "FIELD=VALUE", PMOCTL_REPEAT,
       "set one of the unit's own thresholds, e.g. spi_red_below=0.85 or escalate_owner_s=3600 "
       "(repeatable; 0 = inherit)"),
    END,
};

static const pmoctl_flag_t s_alert_flags[] = {
    JSTR ("note", "TEXT", "note", 0, "what was done (resolve)"),
    END,
};

//  ---------------------------------------------------------------------
//  Requests

//  What a command's group keeps: "risk", "issue" or "alert".
static const char *s_kind (const pmoctl_command_t *cmd)
{
    return streq (cmd->group, "risk") ? "risk" : streq (cmd->group, "issue") ? "issue" : "alert";
}

//  --cost and --currency into cost_impact.
static int s_cost (json_t *obj, const pmoctl_command_t *cmd, const pmoctl_args_t *args)
{
    if (!pmoctl_args_get (args, "cost") && pmoctl_args_get (args, "currency"))
        return pmoctl_usage_error (cmd, "--currency goes with --cost");
    return pmoctl_json_money (obj, cmd, args, "cost", "currency", "cost_impact",
                              "an amount such as 250000.00");
}

//  The flags of a risk or an issue into body (a new one, or the one read).
static int s_entry (const pmoctl_command_t *cmd, const pmoctl_args_t *args, json_t *body)
{
    int rc = pmoctl_args_json (cmd, args, body);
    return rc || !streq (cmd->group, "risk") ? rc : s_cost (body, cmd, args);
}

//  Read the entry named on the command line. NULL after saying why.
static Pmo__RiskmonReply *s_get (pmoctl_t *ctl, const char *kind, const char *id)
{
    json_t *get = json_object ();
    json_object_set_new (get, "kind", json_string (kind));
    json_object_set_new (get, "id", json_string (id));
    Pmo__RiskmonReply *reply =
        (Pmo__RiskmonReply *)pmoctl_service_call (ctl, PMOCTL_RISKMON, "get", get);
    json_decref (get);
    return reply;
}

static int s_build_create (pmoctl_t *ctl, const pmoctl_command_t *cmd, pmoctl_args_t *args,
                           pmoctl_request_t *request)
{
    bool risk = streq (cmd->group, "risk");
    if (risk && (!pmoctl_args_get (args, "project") || !pmoctl_args_get (args, "title") ||
                 !pmoctl_args_get (args, "owner") || !pmoctl_args_get (args, "probability") ||
                 !pmoctl_args_get (args, "impact")))
        return pmoctl_usage_error (
            cmd, "--project, --title, --owner, --probability and --impact are required");
    if (!risk && (!pmoctl_args_get (args, "project") || !pmoctl_args_get (args, "title") ||
                  !pmoctl_args_get (args, "type")))
        return pmoctl_usage_error (cmd, "--project, --title and --type are required");
    return s_entry (cmd, args, request->body);
}

//  Read, change what the flags say, write with the version read.
static int s_build_update (pmoctl_t *ctl, const pmoctl_command_t *cmd, pmoctl_args_t *args,
                           pmoctl_request_t *request)
{
    Pmo__RiskmonReply *reply = s_get (ctl, s_kind (cmd), args->positional);
    if (!reply)
        return ctl->status;
    bool risk = streq (cmd->group, "risk");
    json_t *current = pmo_json_from_message (risk ? &reply->risk->base : &reply->issue->base);
    //  What the service computes is not the caller's to send
    static const char *computed[] = {"org_unit",      "org_unit_path",
                                     "division",      "inherent_score",
                                     "inherent_band", "residual_score",
                                     "residual_band", "exposure",
                                     "created_ms",    "updated_ms",
                                     "created_by",    "updated_by",
                                     "raised_by",     NULL};
    for (size_t i = 0; computed[i]; i++)
        json_object_del (current, computed[i]);
    json_object_update (request->body, current);
    json_decref (current);
    return s_entry (cmd, args, request->body);
}

//  Close a risk or an issue, or act on an alert, with the version read.
static int s_build_close (pmoctl_t *ctl, const pmoctl_command_t *cmd, pmoctl_args_t *args,
                          pmoctl_request_t *request)
{
    const char *kind = s_kind (cmd);
    Pmo__RiskmonReply *reply = s_get (ctl, kind, args->positional);
    if (!reply)
        return ctl->status;
    uint64_t version = streq (kind, "risk")    ? reply->risk->version
                       : streq (kind, "issue") ? reply->issue->version
                                               : reply->alert->version;
    if (!streq (kind, "alert"))
        json_object_set_new (request->body, "kind", json_string (kind));
    json_object_set_new (request->body, "id", json_string (args->positional));
    json_object_set_new (request->body, "version", json_integer ((json_int_t)version));
    pmoctl_args_json (cmd, args, request->body);
    if (streq (kind, "risk") && pmoctl_args_get (args, "occurred"))
        json_object_set_new (request->body, "risk_status", json_string ("occurred"));
    return 0;
}

//  get and list name the kind first
static int s_build_kind (pmoctl_t *ctl, const pmoctl_command_t *cmd, pmoctl_args_t *args,
                         pmoctl_request_t *request)
{
    json_object_set_new (request->body, "kind", json_string (s_kind (cmd)));
    if (args->positional)
        json_object_set_new (request->body, "id", json_string (args->positional));
    return pmoctl_args_json (cmd, args, request->body);
}

static int s_build_health (pmoctl_t *ctl, const pmoctl_command_t *cmd, pmoctl_args_t *args,
                           pmoctl_request_t *request)
{
    //  An id or a code: the risk monitor resolves codes, as every service does
    json_object_set_new (request->body, "project_id", json_string (args->positional));
    return pmoctl_args_json (cmd, args, request->body);
}

//  A threshold's value as JSON: a count or seconds as an integer.
static json_t *s_number (double value)
{
    return value == (double)(long long)value ? json_integer ((json_int_t)value) : json_real (value);
}

//  Without --set, read the thresholds in force; with it, read the unit's
//  own set (the version guards it) and send it changed.
static int s_build_thresholds (pmoctl_t *ctl, const pmoctl_command_t *cmd, pmoctl_args_t *args,
                               pmoctl_request_t *request)
{
    const char *unit = pmoctl_args_get (args, "org-unit");
    if (unit)
        json_object_set_new (request->body, "org_unit", json_string (unit));
    if (!pmoctl_args_get (args, "set"))
        return 0;
    Pmo__RiskmonReply *reply = (Pmo__RiskmonReply *)pmoctl_service_call (
        ctl, PMOCTL_RISKMON, "get_thresholds", request->body);
    if (!reply)
        return ctl->status;
    json_object_clear (request->body);
    request->member = "set_thresholds";
    json_object_set_new (request->body, "org_unit", json_string (reply->thresholds->org_unit));
    json_object_set_new (request->body, "version",
                         json_integer ((json_int_t)reply->thresholds->version));
    //  The set replaces the unit's own: keep what it sets and --set leaves
    for (size_t i = 0; i < reply->thresholds->n_sources; i++) {
        const Pmo__ThresholdSource *source = reply->thresholds->sources[i];
        if (source->set_here)
            json_object_set_new (request->body, source->field, s_number (source->value));
    }
    for (size_t i = 0; i < args->count; i++) {
        if (!streq (args->flags[i]->name, "set"))
            continue;
        const char *eq = strchr (args->values[i], '=');
        char *end = NULL;
        double value = eq ? strtod (eq + 1, &end) : 0;
        if (!eq || eq == args->values[i] || !end || *end || end == eq + 1)
            return pmoctl_usage_error (cmd, "--set '%s': FIELD=NUMBER", args->values[i]);
        char *field = pmo_arena_strdup (ctl->arena, args->values[i]);
        field[eq - args->values[i]] = 0;
        json_object_set_new (request->body, field, s_number (value));
    }
    return 0;
}

//  ---------------------------------------------------------------------
//  Output

static void s_print_health (const Pmo__HealthAssessment *a)
{
    char buf[32];
    printf ("project:    %s\n", a->project_id);
    printf ("unit:       %s\n", a->org_unit_path);
    printf ("overall:    %s\n",
            pmo_json_enum_label (&pmo__rag__descriptor, a->overall, buf, sizeof buf));
    const struct {
        const char *name;
        Pmo__Rag rag;
    } dims[] = {{"schedule", a->schedule},   {"cost", a->cost},
                {"risk", a->risk},           {"resources", a->resources},
                {"reporting", a->reporting}, {"governance", a->governance}};
    for (size_t i = 0; i < 6; i++)
        printf ("  %-10s %s\n", dims[i].name,
                dims[i].rag
                    ? pmo_json_enum_label (&pmo__rag__descriptor, dims[i].rag, buf, sizeof buf)
                    : "n/a");
    if (a->has_spi)
        printf ("SPI:        %.2f\n", a->spi);
    printf ("CPI:        ");
    if (a->has_cpi)
        printf ("%.2f\n", a->cpi);
    else
        printf ("not available\n");
    printf ("why:\n");
    for (size_t i = 0; i < a->n_fired; i++)
        printf ("  [%s] %s: %s\n",
                a->fired[i]->rag
                    ? pmo_json_enum_label (&pmo__rag__descriptor, a->fired[i]->rag, buf, sizeof buf)
                    : "n/a",
                a->fired[i]->rule, a->fired[i]->detail);
    if (a->n_fired == 0)
        printf ("  no rule fired\n");
    printf ("assessment: #%llu (%s)\n", (unsigned long long)a->seq, a->trigger ? a->trigger : "");
}

//  A risk, an issue, an alert or thresholds changed or read, and a risk's
//  history if asked for.
static int s_show_done (pmoctl_t *ctl, const pmoctl_command_t *cmd, pmoctl_args_t *args,
                        ProtobufCMessage *msg)
{
    const Pmo__RiskmonReply *reply = (const Pmo__RiskmonReply *)msg;
    ProtobufCMessage *body = reply->risk             ? &reply->risk->base
                             : reply->issue          ? &reply->issue->base
                             : reply->change_request ? &reply->change_request->base
                             : reply->alert          ? &reply->alert->base
                             : reply->thresholds     ? &reply->thresholds->base
                                                     : NULL;
    if (body)
        pmoctl_print_entity (ctl, body, stdout);
    if (reply->history && reply->history->n_risks) {
        printf ("history:\n");
        for (size_t i = 0; i < reply->history->n_risks; i++) {
            const Pmo__Risk *r = reply->history->risks[i];
            printf ("  v%llu %s by %s: P%u x I%u = %u\n", (unsigned long long)r->version,
                    pmoctl_format_time (ctl->arena, r->updated_ms, false), r->updated_by,
                    r->residual_probability, r->residual_impact, r->residual_score);
        }
    }
    return PMOCTL_OK;
}

static int s_show_page (pmoctl_t *ctl, const pmoctl_command_t *cmd, pmoctl_args_t *args,
                        ProtobufCMessage *msg)
{
    static const pmoctl_column_t risk_cols[] = {
        {"ID", "id", 0, NULL},
        {"PROJECT", "project_id", 0, NULL},
        {"TITLE", "title", 32, NULL},
        {"P", "residual_probability", 0, NULL},
        {"I", "residual_impact", 0, NULL},
        {"SCORE", "residual_score", 0, NULL},
        {"BAND", "residual_band", 0, NULL},
        {"OWNER", "owner", 20, NULL},
        {"STATUS", "status", 0, NULL},
        {NULL, NULL, 0, NULL},
    };
    static const pmoctl_column_t issue_cols[] = {
        {"ID", "id", 0, NULL},
        {"PROJECT", "project_id", 0, NULL},
        {"TITLE", "title", 32, NULL},
        {"TYPE", "type", 0, NULL},
        {"SEVERITY", "severity", 0, NULL},
        {"PRI", "priority", 0, NULL},
        {"OWNER", "owner", 20, NULL},
        {"STATUS", "status", 0, NULL},
        {NULL, NULL, 0, NULL},
    };
    static const pmoctl_column_t alert_cols[] = {
        {"ID", "id", 0, NULL},        {"PROJECT", "project_id", 0, NULL},
        {"KIND", "kind", 0, NULL},    {"SEVERITY", "severity", 0, NULL},
        {"STATE", "state", 0, NULL},  {"WITH", "assignee", 20, NULL},
        {"TITLE", "title", 36, NULL}, {NULL, NULL, 0, NULL},
    };
    const Pmo__RiskmonPage *page = ((const Pmo__RiskmonReply *)msg)->page;
    const char *kind = s_kind (cmd);
    if (streq (kind, "risk"))
        pmoctl_print_items (ctl, &page->base, "risks", risk_cols);
    else if (streq (kind, "issue"))
        pmoctl_print_items (ctl, &page->base, "issues", issue_cols);
    else
        pmoctl_print_items (ctl, &page->base, "alerts", alert_cols);
    if (!pmo_str_empty (page->next_cursor))
        printf ("more: --cursor %s\n", page->next_cursor);
    return PMOCTL_OK;
}

static int s_show_health (pmoctl_t *ctl, const pmoctl_command_t *cmd, pmoctl_args_t *args,
                          ProtobufCMessage *msg)
{
    const Pmo__HealthHistory *health = ((const Pmo__RiskmonReply *)msg)->health;
    s_print_health (health->current);
    char buf[32];
    for (size_t i = 0; i < health->n_history; i++) {
        const Pmo__HealthAssessment *h = health->history[i];
        printf ("%s #%llu %s (%s)\n", i ? "" : "history:\n", (unsigned long long)h->seq,
                pmo_json_enum_label (&pmo__rag__descriptor, h->overall, buf, sizeof buf) ? buf
                                                                                         : "n/a",
                pmoctl_format_time (ctl->arena, h->assessed_ms, false));
    }
    return PMOCTL_OK;
}

//  The thresholds in force at a unit, each with where it comes from.
static int s_show_thresholds (pmoctl_t *ctl, const pmoctl_command_t *cmd, pmoctl_args_t *args,
                              ProtobufCMessage *msg)
{
    const Pmo__Thresholds *t = ((const Pmo__RiskmonReply *)msg)->thresholds;
    if (!t->n_sources) //  --set: the unit's own set as stored
        return s_show_done (ctl, cmd, args, msg);
    printf ("unit:    %s (own set: version %llu)\n", t->org_unit, (unsigned long long)t->version);
    printf ("%-22s %-10s %s\n", "THRESHOLD", "IN FORCE", "WHERE FROM");
    for (size_t i = 0; i < t->n_sources; i++) {
        const Pmo__ThresholdSource *s = t->sources[i];
        const char *from = *s->inherited_from ? s->inherited_from : "the default";
        if (s->set_here)
            printf ("%-22s %-10g set here (else %g from %s)\n", s->field, s->value, s->inherited,
                    from);
        else
            printf ("%-22s %-10g inherited from %s\n", s->field, s->value,
                    *s->org_unit ? s->org_unit : "the default");
    }
    return PMOCTL_OK;
}

static int s_show_rollup (pmoctl_t *ctl, const pmoctl_command_t *cmd, pmoctl_args_t *args,
                          ProtobufCMessage *msg)
{
    const Pmo__Rollup *r = ((const Pmo__RiskmonReply *)msg)->rollup;
    printf ("unit:      %s\nprojects:  %u (green %u, amber %u, red %u, not assessed %u)\n"
            "risks:     %u open (%u high, %u critical)\nalerts:    %u standing\n",
            r->org_unit_path, r->projects, r->green, r->amber, r->red, r->unassessed, r->risks_open,
            r->risks_high, r->risks_critical, r->alerts_open);
    for (size_t i = 0; i < r->n_money; i++) {
        const Pmo__RollupMoney *m = r->money[i];
        printf ("%s: PV %s  EV %s  AC %s  SPI %s  CPI %s  exposure %s\n",
                *m->currency ? m->currency : "(no currency)",
                pmoctl_format_amount (ctl->arena, m->pv_minor),
                pmoctl_format_amount (ctl->arena, m->ev_minor),
                pmoctl_format_amount (ctl->arena, m->ac_minor),
                m->has_spi ? pmo_arena_printf (ctl->arena, "%.2f", m->spi) : "n/a",
                m->has_cpi ? pmo_arena_printf (ctl->arena, "%.2f", m->cpi) : "n/a",
                pmoctl_format_amount (ctl->arena, m->risk_exposure_minor));
    }
    return PMOCTL_OK;
}

//  ---------------------------------------------------------------------
//  The commands: group, verb, ID, flags, request member, builder (NULL:
//  the flags' fields), printer, what --json prints (NULL: the reply)

#define CALL(...) PMOCTL_CALL (PMOCTL_RISKMON, __VA_ARGS__)

const pmoctl_command_t pmoctl_riskmon_commands[] = {
    CALL ("riskmon", "ping", NULL, NULL, "ping", NULL, pmoctl_show_pong, PMOCTL_JSON_BY_SHOW,
          "is the risk monitor up, and its Redis? (exit 0 only if both)"),
    CALL ("risk", "create", NULL, s_risk_flags, "create_risk", s_build_create, s_show_done, NULL,
          "record a risk (P and I 1-5; health follows at once)"),
    CALL ("risk", "update", "ID", s_risk_flags, "update_risk", s_build_update, s_show_done, NULL,
          "change a risk (the flags given replace those fields)"),
    CALL ("risk", "close", "ID", s_close_flags, "close", s_build_close, s_show_done, NULL,
          "close a risk (--occurred if it happened)"),
    CALL ("risk", "get", "ID", s_get_flags, "get", s_build_kind, s_show_done, NULL,
          "show a risk (--history: every version)"),
    CALL ("risk", "list", NULL, s_list_flags, "list", s_build_kind, s_show_page, "page",
          "list risks by project or subtree, band, owner, category"),
    CALL ("issue", "create", NULL, s_issue_flags, "create_issue", s_build_create, s_show_done, NULL,
          "record an issue (request for change, off-spec, problem)"),
    CALL ("issue", "update", "ID", s_issue_flags, "update_issue", s_build_update, s_show_done, NULL,
          "change an issue"),
    CALL ("issue", "close", "ID", s_close_flags, "close", s_build_close, s_show_done, NULL,
          "close an issue with its resolution (--note)"),
    CALL ("issue", "get", "ID", s_get_flags, "get", s_build_kind, s_show_done, NULL,
          "show an issue"),
    CALL ("issue", "list", NULL, s_list_flags, "list", s_build_kind, s_show_page, "page",
          "list issues by project or subtree"),
    CALL ("health", "show", "PROJECT", s_health_flags, "health", s_build_health, s_show_health,
          "health", "a project's health and why (--history: every change)"),
    CALL ("health", "rollup", NULL, s_unit_flags, "rollup", NULL, s_show_rollup, "rollup",
          "a division's or the enterprise's health: sums, RAG counts"),
    CALL ("health", "thresholds", NULL, s_thresholds_flags, "get_thresholds", s_build_thresholds,
          s_show_thresholds, NULL,
          "the thresholds in force at a unit, each set here or inherited from where; --set "
          "FIELD=VALUE changes the unit's own (FIELD=0: inherit again)"),
    CALL ("alerts", "list", NULL, s_list_flags, "list", s_build_kind, s_show_page, "page",
          "open alerts by project or subtree (--closed: resolved too)"),
    CALL ("alerts", "ack", "ID", s_alert_flags, "acknowledge_alert", s_build_close, s_show_done,
          NULL, "acknowledge an alert: it stops climbing"),
    CALL ("alerts", "resolve", "ID", s_alert_flags, "resolve_alert", s_build_close, s_show_done,
          NULL, "resolve an alert (--note)"),
    PMOCTL_END,
};
