/*  pmoctl_riskmon.c: the risk monitor's commands.

    risk create|update|close|get|list, issue create|update|close|get|list,
    health show|rollup|thresholds, alerts list|ack|resolve and riskmon ping.
    Requests are built as JSON objects from the flags and converted to
    protobuf by the generic mapping (enum flags take the JSON labels, e.g.
    --response reduce); updates read the entry first, change what the flags
    say and send the version read. The risk monitor is reached at
    $PMO_RISKMON_ENDPOINT (default tcp://127.0.0.1:7103).
*/
#include "pmoctl.h"

#include "pmo_json.h"
#include "pmo_reflect.h"
#include "pmo_wire.h"
#include "riskmon.pb-c.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static const pmoctl_flag_t pmoctl_riskmon_flags_risk[] = {
    F ("project", "ID", 0, "the project (its id; required to create)"),
    F ("title", "TEXT", 0, "what the risk is (required to create)"),
    F ("owner", "PERSON", 0, "the one person accountable (required to create)"),
    F ("probability", "1-5", 0, "inherent probability (required to create)"),
    F ("impact", "1-5", 0, "inherent impact (required to create)"),
    F ("residual-probability", "1-5", 0, "after the response (default: inherent)"),
    F ("residual-impact", "1-5", 0, "after the response (default: inherent)"),
    F ("kind", "threat|opportunity", 0, "default threat"),
    F ("category", "TEXT", 0, "e.g. technical, commercial, legal"),
    F ("cause", "TEXT", 0, "PRINCE2 cause"),
    F ("event", "TEXT", 0, "PRINCE2 event"),
    F ("effect", "TEXT", 0, "PRINCE2 effect"),
    F ("proximity", "imminent|within_stage|within_project|beyond_project", 0,
       "when it would strike"),
    F ("response", "LABEL", 0,
       "threats: avoid, reduce, fallback, transfer, share, accept; opportunities: exploit, "
       "enhance, share, reject"),
    F ("plan", "TEXT", 0, "the response plan"),
    F ("actionee", "PERSON", 0, "who carries out the response"),
    F ("cost", "AMOUNT", 0, "cost impact if it happens, e.g. 250000.00 (exposure = P% x cost)"),
    F ("currency", "CODE", 0, "currency of --cost (default GBP)"),
    F ("review", "DATE", 0, "next review date, YYYY-MM-DD"),
    END,
};

static const pmoctl_flag_t pmoctl_riskmon_flags_issue[] = {
    F ("project", "ID", 0, "the project (its id; required to create)"),
    F ("title", "TEXT", 0, "what the issue is (required to create)"),
    F ("type", "request_for_change|off_specification|problem_concern", 0,
       "the PRINCE2 issue type (required to create)"),
    F ("description", "TEXT", 0, "details"),
    F ("severity", "low|medium|high|critical", 0, "default medium"),
    F ("priority", "1-5", 0, "1 highest (default 3)"),
    F ("owner", "PERSON", 0, "who deals with it"),
    F ("status", "open|in_progress|resolved", 0, "where it stands (close with issue close)"),
    F ("resolution", "TEXT", 0, "how it was resolved (required to resolve)"),
    F ("due", "DATE", 0, "due date, YYYY-MM-DD"),
    END,
};

static const pmoctl_flag_t pmoctl_riskmon_flags_close[] = {
    F ("note", "TEXT", 0, "closure note (an issue's resolution)"),
    SW ("occurred", "risks: it happened (closes as occurred)"),
    END,
};

static const pmoctl_flag_t pmoctl_riskmon_flags_get[] = {
    SW ("history", "every version, oldest first"),
    END,
};

static const pmoctl_flag_t pmoctl_riskmon_flags_list[] = {
    F ("project", "ID", 0, "one project's entries"),
    F ("org-unit", "UNIT", 0, "or a subtree (default: everything you may see)"),
    SW ("closed", "closed and resolved ones too"),
    F ("min-band", "minimal|low|medium|high|critical", 0, "risks: residual band at least"),
    F ("owner", "PERSON", 0, "this owner (alerts: this assignee)"),
    F ("category", "TEXT", 0, "risks: this category"),
    F ("min-severity", "info|warning|critical", 0, "alerts: at least this severe"),
    F ("limit", "N", 0, "at most N (default 50, at most 500)"),
    F ("cursor", "CURSOR", 0, "the page after this cursor"),
    END,
};

static const pmoctl_flag_t pmoctl_riskmon_flags_health[] = {
    SW ("history", "every recorded change, oldest first"),
    F ("limit", "N", 0, "with --history: the last N (default 100)"),
    END,
};

static const pmoctl_flag_t pmoctl_riskmon_flags_unit[] = {
    F ("org-unit", "UNIT", 0, "a division, the hub or any unit (default: the hub)"),
    END,
};

static const pmoctl_flag_t pmoctl_riskmon_flags_thresholds[] = {
    F ("org-unit", "UNIT", 0, "the PMO unit (default: the hub)"),
    F ("set", "FIELD=VALUE", PMOCTL_REPEAT,
       "set one of the unit's own thresholds, e.g. spi_red_below=0.85 or escalate_owner_s=3600 "
       "(repeatable; 0 = inherit)"),
    END,
};

static const pmoctl_flag_t pmoctl_riskmon_flags_alert[] = {
    F ("note", "TEXT", 0, "what was done (resolve)"),
    END,
};

//  Send body (JSON, owned by the caller) as the RiskmonRequest member.
//  Returns the reply in the arena, or NULL after printing why (status set).
static Pmo__RiskmonReply *s_call (pmoctl_t *ctl, const char *member, json_t *body)
{
    return (Pmo__RiskmonReply *)pmoctl_service_call (ctl, PMOCTL_RISKMON, member, body);
}

//  ---------------------------------------------------------------------
//  Flags into JSON

typedef struct {
    const char *flag;
    const char *field;
    char type; //  's' string (and enum labels), 'i' integer 0..max
    long max;
} s_map_t;

static const s_map_t s_risk_map[] = {
    {"project", "project_id", 's', 0},
    {"title", "title", 's', 0},
    {"owner", "owner", 's', 0},
    {"probability", "probability", 'i', 5},
    {"impact", "impact", 'i', 5},
    {"residual-probability", "residual_probability", 'i', 5},
    {"residual-impact", "residual_impact", 'i', 5},
    {"kind", "kind", 's', 0},
    {"category", "category", 's', 0},
    {"cause", "cause", 's', 0},
    {"event", "event", 's', 0},
    {"effect", "effect", 's', 0},
    {"proximity", "proximity", 's', 0},
    {"response", "response", 's', 0},
    {"plan", "response_plan", 's', 0},
    {"actionee", "actionee", 's', 0},
    {"review", "review_date", 's', 0},
    {NULL, NULL, 0, 0},
};

static const s_map_t s_issue_map[] = {
    {"project", "project_id", 's', 0},
    {"title", "title", 's', 0},
    {"type", "type", 's', 0},
    {"description", "description", 's', 0},
    {"severity", "severity", 's', 0},
    {"priority", "priority", 'i', 5},
    {"owner", "owner", 's', 0},
    {"status", "status", 's', 0},
    {"resolution", "resolution", 's', 0},
    {"due", "due_date", 's', 0},
    {NULL, NULL, 0, 0},
};

static const s_map_t s_list_map[] = {
    {"project", "project_id", 's', 0},
    {"org-unit", "org_unit", 's', 0},
    {"min-band", "min_band", 's', 0},
    {"owner", "owner", 's', 0},
    {"category", "category", 's', 0},
    {"min-severity", "min_severity", 's', 0},
    {"limit", "limit", 'i', 500},
    {"cursor", "cursor", 's', 0},
    {NULL, NULL, 0, 0},
};

//  Write the flags given into obj. 0 or a usage status.
static int s_apply (json_t *obj, const pmoctl_command_t *cmd, const pmoctl_args_t *args,
                    const s_map_t *map)
{
    for (const s_map_t *m = map; m->flag; m++) {
        const char *value = pmoctl_args_get (args, m->flag);
        if (!value)
            continue;
        if (m->type == 's') {
            json_object_set_new (obj, m->field, json_string (value));
            continue;
        }
        char *end = NULL;
        long n = strtol (value, &end, 10);
        if (!*value || *end || n < 0 || n > m->max)
            return pmoctl_usage_error (cmd, "--%s '%s': a whole number from 0 to %ld", m->flag,
                                       value, m->max);
        json_object_set_new (obj, m->field, json_integer (n));
    }
    return 0;
}

//  --cost and --currency into cost_impact.
static int s_cost (json_t *obj, const pmoctl_command_t *cmd, const pmoctl_args_t *args)
{
    const char *cost = pmoctl_args_get (args, "cost");
    const char *currency = pmoctl_args_get (args, "currency");
    if (!cost)
        return currency ? pmoctl_usage_error (cmd, "--currency goes with --cost") : 0;
    int64_t minor;
    if (pmoctl_parse_amount (cost, &minor))
        return pmoctl_usage_error (cmd, "--cost '%s': an amount such as 250000.00", cost);
    json_t *money = json_object ();
    json_object_set_new (money, "minor", json_integer (minor));
    json_object_set_new (money, "currency", json_string (currency ? currency : "GBP"));
    json_object_set_new (obj, "cost_impact", money);
    return 0;
}

//  Drop what the service computes, so a read entry can be sent back.
static void s_strip (json_t *entry)
{
    static const char *computed[] = {"org_unit",      "org_unit_path",
                                     "division",      "inherent_score",
                                     "inherent_band", "residual_score",
                                     "residual_band", "exposure",
                                     "created_ms",    "updated_ms",
                                     "created_by",    "updated_by",
                                     "raised_by",     NULL};
    for (size_t i = 0; computed[i]; i++)
        json_object_del (entry, computed[i]);
}

static json_t *s_get_body (const char *kind, const char *id, bool history)
{
    json_t *get = json_object ();
    json_object_set_new (get, "kind", json_string (kind));
    json_object_set_new (get, "id", json_string (id));
    if (history)
        json_object_set_new (get, "with_history", json_true ());
    return get;
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

static int s_print_page (pmoctl_t *ctl, const Pmo__RiskmonPage *page, const char *kind)
{
    if (ctl->json)
        return pmoctl_print_json (&page->base);
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
    const pmoctl_column_t *cols = streq (kind, "risk")    ? risk_cols
                                  : streq (kind, "issue") ? issue_cols
                                                          : alert_cols;
    pmoctl_table_t *table = pmoctl_table_new (ctl->arena, cols);
    if (streq (kind, "risk"))
        for (size_t i = 0; i < page->n_risks; i++)
            pmoctl_table_add_message (ctl, table, &page->risks[i]->base);
    else if (streq (kind, "issue"))
        for (size_t i = 0; i < page->n_issues; i++)
            pmoctl_table_add_message (ctl, table, &page->issues[i]->base);
    else
        for (size_t i = 0; i < page->n_alerts; i++)
            pmoctl_table_add_message (ctl, table, &page->alerts[i]->base);
    pmoctl_table_print (table, stdout);
    if (!pmo_str_empty (page->next_cursor))
        printf ("more: --cursor %s\n", page->next_cursor);
    return PMOCTL_OK;
}

static int s_finish (pmoctl_t *ctl, Pmo__RiskmonReply *reply)
{
    if (!reply)
        return ctl->status;
    if (ctl->json)
        return pmoctl_print_json (&reply->base);
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

static int pmoctl_run_riskmon (pmoctl_t *ctl, const pmoctl_command_t *cmd, pmoctl_args_t *args)
{
    const char *group = cmd->group, *verb = cmd->verb ? cmd->verb : "";
    const char *id = args->positional;
    json_t *body = json_object ();
    Pmo__RiskmonReply *reply = NULL;
    int rc = PMOCTL_OK;
#define IS(g, v) (strcmp (group, g) == 0 && strcmp (verb, v) == 0)
    bool risk = streq (group, "risk");
    const char *kind = risk ? "risk" : streq (group, "issue") ? "issue" : "alert";
    if (IS ("riskmon", "ping")) {
        reply = s_call (ctl, "ping", body);
        if (reply && ctl->json)
            rc = pmoctl_print_json (&reply->pong->base);
        else if (reply)
            printf ("service:  %s\nversion:  %s\nredis_ok: %s\nuptime:   %lld s\n",
                    reply->pong->service, reply->pong->version,
                    reply->pong->redis_ok ? "yes" : "no",
                    (long long)(reply->pong->uptime_ms / 1000));
        if (!reply)
            rc = ctl->status;
        else if (!reply->pong->redis_ok) {
            fprintf (stderr, "pmoctl: the risk monitor answers but cannot reach its Redis\n");
            rc = PMOCTL_REFUSED;
        }
    } else if (IS ("risk", "create") || IS ("issue", "create")) {
        if (risk && (!pmoctl_args_get (args, "project") || !pmoctl_args_get (args, "title") ||
                     !pmoctl_args_get (args, "owner") || !pmoctl_args_get (args, "probability") ||
                     !pmoctl_args_get (args, "impact")))
            rc = pmoctl_usage_error (
                cmd, "--project, --title, --owner, --probability and --impact are required");
        else if (!risk && (!pmoctl_args_get (args, "project") || !pmoctl_args_get (args, "title") ||
                           !pmoctl_args_get (args, "type")))
            rc = pmoctl_usage_error (cmd, "--project, --title and --type are required");
        else if (!(rc = s_apply (body, cmd, args, risk ? s_risk_map : s_issue_map)) &&
                 !(rc = risk ? s_cost (body, cmd, args) : 0))
            rc = s_finish (ctl, reply = s_call (ctl, risk ? "create_risk" : "create_issue", body));
    } else if (IS ("risk", "update") || IS ("issue", "update")) {
        json_t *get = s_get_body (kind, id, false);
        reply = s_call (ctl, "get", get);
        json_decref (get);
        if (!reply)
            rc = ctl->status;
        else {
            json_t *current =
                pmo_json_from_message (risk ? &reply->risk->base : &reply->issue->base);
            s_strip (current);
            if (!(rc = s_apply (current, cmd, args, risk ? s_risk_map : s_issue_map)) &&
                !(rc = risk ? s_cost (current, cmd, args) : 0))
                rc = s_finish (
                    ctl, reply = s_call (ctl, risk ? "update_risk" : "update_issue", current));
            json_decref (current);
        }
    } else if (IS ("risk", "close") || IS ("issue", "close")) {
        json_t *get = s_get_body (kind, id, false);
        reply = s_call (ctl, "get", get);
        json_decref (get);
        if (!reply)
            rc = ctl->status;
        else {
            json_object_set_new (body, "kind", json_string (kind));
            json_object_set_new (body, "id", json_string (id));
            json_object_set_new (
                body, "version",
                json_integer ((json_int_t)(risk ? reply->risk->version : reply->issue->version)));
            if (pmoctl_args_get (args, "note"))
                json_object_set_new (body, "note", json_string (pmoctl_args_get (args, "note")));
            if (risk && pmoctl_args_get (args, "occurred"))
                json_object_set_new (body, "risk_status", json_string ("occurred"));
            rc = s_finish (ctl, reply = s_call (ctl, "close", body));
        }
    } else if (IS ("risk", "get") || IS ("issue", "get")) {
        json_decref (body);
        body = s_get_body (kind, id, pmoctl_args_get (args, "history") != NULL);
        rc = s_finish (ctl, reply = s_call (ctl, "get", body));
    } else if (IS ("risk", "list") || IS ("issue", "list") || IS ("alerts", "list")) {
        json_object_set_new (body, "kind", json_string (kind));
        if (pmoctl_args_get (args, "closed"))
            json_object_set_new (body, "include_closed", json_true ());
        if (!(rc = s_apply (body, cmd, args, s_list_map))) {
            reply = s_call (ctl, "list", body);
            rc = reply ? s_print_page (ctl, reply->page, kind) : ctl->status;
        }
    } else if (IS ("health", "show")) {
        json_object_set_new (body, "project_id", json_string (id));
        if (pmoctl_args_get (args, "history"))
            json_object_set_new (body, "with_history", json_true ());
        static const s_map_t limit[] = {{"limit", "history_limit", 'i', 100000},
                                        {NULL, NULL, 0, 0}};
        if (!(rc = s_apply (body, cmd, args, limit))) {
            reply = s_call (ctl, "health", body);
            if (!reply)
                rc = ctl->status;
            else if (ctl->json)
                rc = pmoctl_print_json (&reply->health->base);
            else {
                s_print_health (reply->health->current);
                char buf[32];
                for (size_t i = 0; i < reply->health->n_history; i++) {
                    const Pmo__HealthAssessment *h = reply->health->history[i];
                    printf ("%s #%llu %s (%s)\n", i ? "" : "history:\n", (unsigned long long)h->seq,
                            pmo_json_enum_label (&pmo__rag__descriptor, h->overall, buf, sizeof buf)
                                ? buf
                                : "n/a",
                            pmoctl_format_time (ctl->arena, h->assessed_ms, false));
                }
            }
        }
    } else if (IS ("health", "rollup")) {
        static const s_map_t unit[] = {{"org-unit", "org_unit", 's', 0}, {NULL, NULL, 0, 0}};
        s_apply (body, cmd, args, unit);
        reply = s_call (ctl, "rollup", body);
        if (!reply)
            rc = ctl->status;
        else if (ctl->json)
            rc = pmoctl_print_json (&reply->rollup->base);
        else {
            const Pmo__Rollup *r = reply->rollup;
            printf ("unit:      %s\nprojects:  %u (green %u, amber %u, red %u, not assessed %u)\n"
                    "risks:     %u open (%u high, %u critical)\nalerts:    %u standing\n",
                    r->org_unit_path, r->projects, r->green, r->amber, r->red, r->unassessed,
                    r->risks_open, r->risks_high, r->risks_critical, r->alerts_open);
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
        }
    } else if (IS ("health", "thresholds")) {
        const char *unit = pmoctl_args_get (args, "org-unit");
        json_t *get = json_object ();
        if (unit)
            json_object_set_new (get, "org_unit", json_string (unit));
        bool setting = false;
        for (size_t i = 0; i < args->count; i++)
            setting = setting || streq (args->flags[i]->name, "set");
        if (!setting) {
            rc = s_finish (ctl, reply = s_call (ctl, "get_thresholds", get));
        } else {
            //  The unit's own set is what the version guards: read it first
            reply = s_call (ctl, "get_thresholds", get);
            if (!reply)
                rc = ctl->status;
            else {
                json_object_set_new (body, "org_unit", json_string (reply->thresholds->org_unit));
                json_object_set_new (body, "version",
                                     json_integer ((json_int_t)reply->thresholds->version));
                for (size_t i = 0; i < args->count && !rc; i++) {
                    if (!streq (args->flags[i]->name, "set"))
                        continue;
                    const char *eq = strchr (args->values[i], '=');
                    char *end = NULL;
                    double value = eq ? strtod (eq + 1, &end) : 0;
                    if (!eq || eq == args->values[i] || !end || *end || end == eq + 1)
                        rc = pmoctl_usage_error (cmd, "--set '%s': FIELD=NUMBER", args->values[i]);
                    else {
                        char *field = pmo_arena_strdup (ctl->arena, args->values[i]);
                        field[eq - args->values[i]] = 0;
                        json_object_set_new (body, field,
                                             value == (double)(long long)value
                                                 ? json_integer ((json_int_t)value)
                                                 : json_real (value));
                    }
                }
                if (!rc)
                    rc = s_finish (ctl, reply = s_call (ctl, "set_thresholds", body));
            }
        }
        json_decref (get);
    } else if (IS ("alerts", "ack") || IS ("alerts", "resolve")) {
        json_t *get = s_get_body ("alert", id, false);
        reply = s_call (ctl, "get", get);
        json_decref (get);
        if (!reply)
            rc = ctl->status;
        else {
            json_object_set_new (body, "id", json_string (id));
            json_object_set_new (body, "version", json_integer ((json_int_t)reply->alert->version));
            if (pmoctl_args_get (args, "note"))
                json_object_set_new (body, "note", json_string (pmoctl_args_get (args, "note")));
            rc = s_finish (
                ctl, reply = s_call (
                         ctl, IS ("alerts", "ack") ? "acknowledge_alert" : "resolve_alert", body));
        }
    } else
        rc = pmoctl_usage_error (cmd, "unknown command");
#undef IS
    json_decref (body);
    return rc;
}

//  ---------------------------------------------------------------------
//  The commands

#define PMOCTL_RISKMON_CMD(group, verb, pos, flags, summary)                                       \
    PMOCTL_RUN (group, verb, pos, flags, PMOCTL_MODE_OTHER, pmoctl_run_riskmon, NULL, NULL, summary)

//  The entries of the command table
#define PMOCTL_RISKMON_COMMANDS                                                                    \
    PMOCTL_RISKMON_CMD ("riskmon", "ping", NULL, NULL,                                             \
                        "is the risk monitor up, and its Redis? (exit 0 only if both)"),           \
        PMOCTL_RISKMON_CMD ("risk", "create", NULL, pmoctl_riskmon_flags_risk,                     \
                            "record a risk (P and I 1-5; health follows at once)"),                \
        PMOCTL_RISKMON_CMD ("risk", "update", "ID", pmoctl_riskmon_flags_risk,                     \
                            "change a risk (the flags given replace those fields)"),               \
        PMOCTL_RISKMON_CMD ("risk", "close", "ID", pmoctl_riskmon_flags_close,                     \
                            "close a risk (--occurred if it happened)"),                           \
        PMOCTL_RISKMON_CMD ("risk", "get", "ID", pmoctl_riskmon_flags_get,                         \
                            "show a risk (--history: every version)"),                             \
        PMOCTL_RISKMON_CMD ("risk", "list", NULL, pmoctl_riskmon_flags_list,                       \
                            "list risks by project or subtree, band, owner, category"),            \
        PMOCTL_RISKMON_CMD ("issue", "create", NULL, pmoctl_riskmon_flags_issue,                   \
                            "record an issue (request for change, off-spec, problem)"),            \
        PMOCTL_RISKMON_CMD ("issue", "update", "ID", pmoctl_riskmon_flags_issue,                   \
                            "change an issue"),                                                    \
        PMOCTL_RISKMON_CMD ("issue", "close", "ID", pmoctl_riskmon_flags_close,                    \
                            "close an issue with its resolution (--note)"),                        \
        PMOCTL_RISKMON_CMD ("issue", "get", "ID", pmoctl_riskmon_flags_get, "show an issue"),      \
        PMOCTL_RISKMON_CMD ("issue", "list", NULL, pmoctl_riskmon_flags_list,                      \
                            "list issues by project or subtree"),                                  \
        PMOCTL_RISKMON_CMD ("health", "show", "PROJECT", pmoctl_riskmon_flags_health,              \
                            "a project's health and why (--history: every change)"),               \
        PMOCTL_RISKMON_CMD ("health", "rollup", NULL, pmoctl_riskmon_flags_unit,                   \
                            "a division's or the enterprise's health: sums, RAG counts"),          \
        PMOCTL_RISKMON_CMD ("health", "thresholds", NULL, pmoctl_riskmon_flags_thresholds,         \
                            "the thresholds in force at a unit; --set FIELD=VALUE changes them"),  \
        PMOCTL_RISKMON_CMD ("alerts", "list", NULL, pmoctl_riskmon_flags_list,                     \
                            "open alerts by project or subtree (--closed: resolved too)"),         \
        PMOCTL_RISKMON_CMD ("alerts", "ack", "ID", pmoctl_riskmon_flags_alert,                     \
                            "acknowledge an alert: it stops climbing"),                            \
        PMOCTL_RISKMON_CMD ("alerts", "resolve", "ID", pmoctl_riskmon_flags_alert,                 \
                            "resolve an alert (--note)")

const pmoctl_command_t pmoctl_riskmon_commands[] = {
    PMOCTL_RISKMON_COMMANDS,
    PMOCTL_END,
};
