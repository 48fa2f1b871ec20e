/*  pmoctl_planner.c: the planner's commands.

    planner ping|policy, benefit create|update|get|list|measure|rollup,
    score set, ranking, scenario solve|frontier|list|get|compare|commit: a row
    each in the table at the end, run by pmoctl_run_call. Benefits and
    scenario specs are JSON files (the Benefit and ScenarioSpec messages of
    proto/planner.proto, enum labels in lower case, e.g. "kind":
    "cashable"); the rest are flags. Changes send the version read first.
    The planner is reached at $PMO_PLANNER_ENDPOINT.
*/
#include "pmoctl.h"

#include "planner.pb-c.h"
#include "pmo_json.h"
#include "pmo_reflect.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static const pmoctl_flag_t s_file_flags[] = {
    F ("file", "FILE", PMOCTL_REQUIRED, "the JSON document (see services/planner/README.md)"),
    END,
};

static const pmoctl_flag_t s_list_flags[] = {
    JSTR ("org-unit", "UNIT", "org_unit", 0, "a subtree (default: everything you may see)"),
    JSTR ("project", "ID", "project_id", 0, "benefits linked to this project"),
    JSTR ("programme", "ID", "programme_id", 0, "benefits linked to this programme"),
    JSWITCH ("lagging", "lagging_only", "only those behind their profile (the alert is up)"),
    END,
};

static const pmoctl_flag_t s_scenario_list_flags[] = {
    JSTR ("org-unit", "UNIT", "org_unit", 0, "a subtree (default: everything you may see)"),
    END,
};

static const pmoctl_flag_t s_measure_flags[] = {
    F ("period", "YYYY-MM", PMOCTL_REQUIRED, "the month measured"),
    F ("value", "NUMBER", PMOCTL_REQUIRED,
       "the measure's value then (money: minor units, e.g. pence)"),
    END,
};

static const pmoctl_flag_t s_rollup_flags[] = {
    JSTR ("org-unit", "UNIT", "org_unit", 0, "a subtree (default: everything you may see)"),
    JSTR ("by", "programme|portfolio|division|hub", "by", PMOCTL_REQUIRED, "how to group"),
    END,
};

static const pmoctl_flag_t s_policy_flags[] = {
    JSTR ("org-unit", "UNIT", "org_unit", PMOCTL_REQUIRED, "the PMO unit"),
    F ("file", "FILE", 0, "set the unit's own policy from this JSON PlannerPolicy"),
    END,
};

static const pmoctl_flag_t s_score_flags[] = {
    F ("value", "0-10", 0, "the value criterion"),
    F ("risk", "0-10", 0, "the risk criterion (10 = low risk)"),
    F ("urgency", "0-10", 0, "the urgency criterion"),
    F ("align", "THEME=0-10", PMOCTL_REPEAT, "alignment to a named strategic theme (repeatable)"),
    F ("mandatory", "REASON", 0, "mandatory or regulatory: in regardless of score, and why"),
    JINT ("version", "N", "version", 0, 0, 1000000000, "the score's version read (0: first)"),
    END,
};

static const pmoctl_flag_t s_ranking_flags[] = {
    JSTR ("org-unit", "UNIT", "org_unit", PMOCTL_REQUIRED, "a subtree"),
    JINT ("limit", "N", "limit", 0, 0, 100000, "the first N (default all)"),
    END,
};

static const pmoctl_flag_t s_frontier_flags[] = {
    F ("file", "FILE", PMOCTL_REQUIRED, "the JSON ScenarioSpec"),
    JINT ("points", "N", "points", 0, 0, 50, "how many budgets (default 20)"),
    END,
};

//  ---------------------------------------------------------------------
//  Requests

static int s_load (const pmoctl_command_t *cmd, const char *path, json_t **out)
{
    json_error_t error;
    *out = json_load_file (path, 0, &error);
    if (!*out)
        return pmoctl_usage_error (cmd, "%s:%d: %s", path, error.line, error.text);
    if (!json_is_object (*out)) {
        json_decref (*out);
        return pmoctl_usage_error (cmd, "%s: a JSON object is expected", path);
    }
    return 0;
}

//  The body is the file's object.
static int s_build_file (pmoctl_t *ctl, const pmoctl_command_t *cmd, pmoctl_args_t *args,
                         pmoctl_request_t *request)
{
    json_t *doc;
    int rc = s_load (cmd, pmoctl_args_get (args, "file"), &doc);
    if (rc)
        return rc;
    json_object_update (request->body, doc);
    json_decref (doc);
    if (args->positional)
        json_object_set_new (request->body, "id", json_string (args->positional));
    return 0;
}

static int s_build_id (pmoctl_t *ctl, const pmoctl_command_t *cmd, pmoctl_args_t *args,
                       pmoctl_request_t *request)
{
    json_object_set_new (request->body, "id", json_string (args->positional));
    return 0;
}

static Pmo__PlannerReply *s_get (pmoctl_t *ctl, const char *member, const char *id)
{
    json_t *get = json_object ();
    json_object_set_new (get, "id", json_string (id));
    Pmo__PlannerReply *reply =
        (Pmo__PlannerReply *)pmoctl_service_call (ctl, PMOCTL_PLANNER, member, get);
    json_decref (get);
    return reply;
}

//  An update sends the file with the version read.
static int s_build_update (pmoctl_t *ctl, const pmoctl_command_t *cmd, pmoctl_args_t *args,
                           pmoctl_request_t *request)
{
    Pmo__PlannerReply *reply = s_get (ctl, "get_benefit", args->positional);
    if (!reply)
        return ctl->status;
    int rc = s_build_file (ctl, cmd, args, request);
    if (!rc)
        json_object_set_new (request->body, "version",
                             json_integer ((json_int_t)reply->benefit->version));
    return rc;
}

static int s_build_measure (pmoctl_t *ctl, const pmoctl_command_t *cmd, pmoctl_args_t *args,
                            pmoctl_request_t *request)
{
    const char *value = pmoctl_args_get (args, "value");
    char *end = NULL;
    double v = strtod (value, &end);
    if (end == value || *end)
        return pmoctl_usage_error (cmd, "--value '%s' is not a number", value);
    Pmo__PlannerReply *reply = s_get (ctl, "get_benefit", args->positional);
    if (!reply)
        return ctl->status;
    json_object_set_new (request->body, "benefit_id", json_string (args->positional));
    json_object_set_new (request->body, "version",
                         json_integer ((json_int_t)reply->benefit->version));
    json_object_set_new (request->body, "period", json_string (pmoctl_args_get (args, "period")));
    json_object_set_new (request->body, "value", json_real (v));
    return 0;
}

static int s_build_policy (pmoctl_t *ctl, const pmoctl_command_t *cmd, pmoctl_args_t *args,
                           pmoctl_request_t *request)
{
    const char *unit = pmoctl_args_get (args, "org-unit");
    json_object_set_new (request->body, "org_unit", json_string (unit));
    if (!pmoctl_args_get (args, "file"))
        return 0;
    //  The version of the unit's own policy is in what set_policy last
    //  answered; a first policy names none
    json_t *doc;
    int rc = s_load (cmd, pmoctl_args_get (args, "file"), &doc);
    if (rc)
        return rc;
    request->member = "set_policy";
    json_object_update (request->body, doc);
    json_object_set_new (request->body, "org_unit", json_string (unit));
    json_decref (doc);
    return 0;
}

static int s_score_value (const pmoctl_command_t *cmd, const char *text, long *out)
{
    char *end = NULL;
    *out = strtol (text, &end, 10);
    if (end == text || *end || *out < 0 || *out > 10)
        return pmoctl_usage_error (cmd, "'%s' is not a score 0-10", text);
    return 0;
}

static int s_build_score (pmoctl_t *ctl, const pmoctl_command_t *cmd, pmoctl_args_t *args,
                          pmoctl_request_t *request)
{
    json_object_set_new (request->body, "project_id", json_string (args->positional));
    json_t *scores = json_array ();
    json_object_set_new (request->body, "scores", scores);
    static const char *const plain[] = {"value", "risk", "urgency", NULL};
    for (size_t i = 0; plain[i]; i++) {
        const char *text = pmoctl_args_get (args, plain[i]);
        long score;
        if (!text)
            continue;
        if (s_score_value (cmd, text, &score))
            return PMOCTL_USAGE;
        json_array_append_new (scores,
                               json_pack ("{s:s,s:i}", "criterion", plain[i], "score", (int)score));
    }
    for (size_t i = 0; i < args->count; i++) {
        if (!streq (args->flags[i]->name, "align"))
            continue;
        const char *eq = strrchr (args->values[i], '=');
        long score;
        if (!eq || eq == args->values[i])
            return pmoctl_usage_error (cmd, "--align '%s': THEME=SCORE", args->values[i]);
        if (s_score_value (cmd, eq + 1, &score))
            return PMOCTL_USAGE;
        char *theme = pmo_arena_strdup (ctl->arena, args->values[i]);
        theme[eq - args->values[i]] = 0;
        json_array_append_new (scores, json_pack ("{s:s,s:s,s:i}", "criterion", "alignment",
                                                  "theme", theme, "score", (int)score));
    }
    const char *reason = pmoctl_args_get (args, "mandatory");
    if (reason) {
        json_object_set_new (request->body, "mandatory", json_true ());
        json_object_set_new (request->body, "mandatory_reason", json_string (reason));
    }
    return pmoctl_args_json (cmd, args, request->body);
}

static int s_build_frontier (pmoctl_t *ctl, const pmoctl_command_t *cmd, pmoctl_args_t *args,
                             pmoctl_request_t *request)
{
    json_t *doc;
    int rc = s_load (cmd, pmoctl_args_get (args, "file"), &doc);
    if (rc)
        return rc;
    json_object_set_new (request->body, "spec", doc);
    return pmoctl_args_json (cmd, args, request->body);
}

static int s_build_compare (pmoctl_t *ctl, const pmoctl_command_t *cmd, pmoctl_args_t *args,
                            pmoctl_request_t *request)
{
    json_t *ids = json_array ();
    char *list = pmo_arena_strdup (ctl->arena, args->positional);
    char *save = NULL;
    for (char *id = strtok_r (list, ",", &save); id; id = strtok_r (NULL, ",", &save))
        json_array_append_new (ids, json_string (id));
    json_object_set_new (request->body, "ids", ids);
    return 0;
}

static int s_build_commit (pmoctl_t *ctl, const pmoctl_command_t *cmd, pmoctl_args_t *args,
                           pmoctl_request_t *request)
{
    Pmo__PlannerReply *reply = s_get (ctl, "get_scenario", args->positional);
    if (!reply)
        return ctl->status;
    json_object_set_new (request->body, "id", json_string (args->positional));
    json_object_set_new (request->body, "version",
                         json_integer ((json_int_t)reply->scenario->version));
    return 0;
}

//  ---------------------------------------------------------------------
//  Output

static const char *s_label (const ProtobufCEnumDescriptor *desc, int value, pmoctl_t *ctl)
{
    char buf[48];
    const char *label = pmo_json_enum_label (desc, value, buf, sizeof buf);
    return pmo_arena_strdup (ctl->arena, label ? label : "?");
}

static int s_show_ranking (pmoctl_t *ctl, const pmoctl_command_t *cmd, pmoctl_args_t *args,
                           ProtobufCMessage *msg)
{
    const Pmo__Ranking *r = ((const Pmo__PlannerReply *)msg)->ranking;
    printf ("unit: %s   model:", r->org_unit);
    for (size_t i = 0; i < r->n_model; i++)
        printf (" %s%s%s x%g", s_label (&pmo__criterion__descriptor, r->model[i]->criterion, ctl),
                *r->model[i]->theme ? ":" : "", r->model[i]->theme, r->model[i]->weight);
    printf ("%s\n", r->n_model ? "" : " (none set: every total is 0)");
    printf ("%-5s %-14s %-32s %7s %s\n", "RANK", "PROJECT", "NAME", "SCORE", "MANDATORY");
    for (size_t i = 0; i < r->n_projects; i++) {
        const Pmo__ProjectScore *s = r->projects[i];
        printf ("%-5u %-14s %-32.32s %7.1f %s\n", s->rank,
                *s->project_code ? s->project_code : s->project_id, s->project_name, s->total,
                s->mandatory ? s->mandatory_reason : "");
    }
    return PMOCTL_OK;
}

static void s_print_result (pmoctl_t *ctl, const Pmo__ScenarioResult *r)
{
    if (!r)
        return;
    if (!r->feasible) {
        printf ("infeasible: these constraints conflict:\n");
        for (size_t i = 0; i < r->n_conflicts; i++)
            printf ("  %s\n", r->conflicts[i]);
        return;
    }
    printf ("value:     %.2f (%s, gap %.4f%%, %u ms)\ncost:      %s\n", r->objective,
            r->optimal && r->gap == 0 ? "optimal"
            : r->optimal              ? "within the allowed gap of the optimum"
                                      : "best found in the time limit",
            r->gap * 100, r->solve_ms, pmoctl_format_amount (ctl->arena, r->cost_minor));
    printf ("%-16s %-8s %6s %14s  %s\n", "PROJECT", "PLACE", "VALUE", "COST", "WHY OUT");
    for (size_t i = 0; i < r->n_candidates; i++) {
        const Pmo__CandidateResult *c = r->candidates[i];
        const char *place = s_label (&pmo__placement__descriptor, c->placement, ctl);
        if (c->placement == PMO__PLACEMENT__PLACEMENT_SHIFTED)
            place = pmo_arena_printf (ctl->arena, "+%uq", c->shift_quarters);
        printf ("%-16s %-8s %6.1f %14s  %s\n", c->project_id, place, c->value,
                pmoctl_format_amount (ctl->arena, c->cost_minor), c->reason);
    }
    for (size_t i = 0; i < r->n_binding; i++)
        printf ("binding:   %s (%.0f of %.0f)\n", r->binding[i]->name, r->binding[i]->used,
                r->binding[i]->limit);
}

static int s_show_scenario (pmoctl_t *ctl, const pmoctl_command_t *cmd, pmoctl_args_t *args,
                            ProtobufCMessage *msg)
{
    const Pmo__Scenario *s = ((const Pmo__PlannerReply *)msg)->scenario;
    if (!pmo_str_empty (s->id))
        printf ("scenario:  %s (%s)%s\n", s->id, s->spec ? s->spec->name : "",
                s->committed ? " committed" : "");
    for (size_t i = 0; i < s->n_frontier; i++)
        printf ("%sbudget %s: value %.2f, spends %s, %u projects\n", i ? "" : "frontier:\n",
                pmoctl_format_amount (ctl->arena, s->frontier[i]->budget_minor),
                s->frontier[i]->value,
                pmoctl_format_amount (ctl->arena, s->frontier[i]->cost_minor),
                s->frontier[i]->selected);
    if (!s->n_frontier)
        s_print_result (ctl, s->result);
    return PMOCTL_OK;
}

static int s_show_proposals (pmoctl_t *ctl, const pmoctl_command_t *cmd, pmoctl_args_t *args,
                             ProtobufCMessage *msg)
{
    const Pmo__Proposals *p = ((const Pmo__PlannerReply *)msg)->proposals;
    printf ("scenario %s committed; gate decisions proposed to the approvers:\n", p->scenario_id);
    for (size_t i = 0; i < p->n_decisions; i++)
        printf ("  %-16s %-5s %s\n", p->decisions[i]->project_id,
                s_label (&pmo__gate_proposal__descriptor, p->decisions[i]->decision, ctl),
                p->decisions[i]->reason);
    return PMOCTL_OK;
}

static int s_show_rollup (pmoctl_t *ctl, const pmoctl_command_t *cmd, pmoctl_args_t *args,
                          ProtobufCMessage *msg)
{
    const Pmo__BenefitRollup *r = ((const Pmo__PlannerReply *)msg)->rollup;
    printf ("%-20s %-6s %4s %4s %16s %16s %16s %16s\n", "GROUP", "UNIT", "N", "LAG", "PLANNED",
            "EXPECTED", "REALISED", "FORECAST");
    for (size_t i = 0; i < r->n_rows; i++) {
        const Pmo__BenefitRollupRow *row = r->rows[i];
        if (row->financial)
            printf ("%-20s %-6s %4u %4u %16s %16s %16s %16s\n", row->group, row->unit,
                    row->benefits, row->lagging,
                    pmoctl_format_amount (ctl->arena, (int64_t)row->planned),
                    pmoctl_format_amount (ctl->arena, (int64_t)row->expected),
                    pmoctl_format_amount (ctl->arena, (int64_t)row->realised),
                    pmoctl_format_amount (ctl->arena, (int64_t)row->forecast));
        else
            printf ("%-20s %-6s %4u %4u %16.2f %16.2f %16.2f %16.2f\n", row->group, row->unit,
                    row->benefits, row->lagging, row->planned, row->expected, row->realised,
                    row->forecast);
    }
    return PMOCTL_OK;
}

static int s_show_benefits (pmoctl_t *ctl, const pmoctl_command_t *cmd, pmoctl_args_t *args,
                            ProtobufCMessage *msg)
{
    static const pmoctl_column_t cols[] = {
        {"ID", "id", 0, NULL},        {"TITLE", "title", 32, NULL}, {"KIND", "kind", 0, NULL},
        {"OWNER", "owner", 20, NULL}, {"UNIT", "unit", 0, NULL},    {"STATUS", "status", 0, NULL},
        {NULL, NULL, 0, NULL},
    };
    const Pmo__BenefitList *list = ((const Pmo__PlannerReply *)msg)->benefits;
    pmoctl_print_items (ctl, &list->base, "benefits", cols);
    for (size_t i = 0; i < list->n_benefits; i++)
        if (list->benefits[i]->realisation && list->benefits[i]->realisation->lagging)
            printf ("lagging: %s at %.0f%% of its profile in %s\n", list->benefits[i]->id,
                    list->benefits[i]->realisation->ratio * 100,
                    list->benefits[i]->realisation->period);
    return PMOCTL_OK;
}

static int s_show_scenarios (pmoctl_t *ctl, const pmoctl_command_t *cmd, pmoctl_args_t *args,
                             ProtobufCMessage *msg)
{
    (void)cmd;
    (void)args;
    (void)ctl;
    const Pmo__ScenarioList *list = ((const Pmo__PlannerReply *)msg)->scenarios;
    printf ("%-14s %-28s %-9s %8s %6s %s\n", "ID", "NAME", "FEASIBLE", "IN/OUT", "COMMIT",
            "CREATED BY");
    for (size_t i = 0; i < list->n_scenarios; i++) {
        const Pmo__Scenario *s = list->scenarios[i];
        size_t in = 0, out = 0;
        for (size_t k = 0; s->result && k < s->result->n_candidates; k++)
            if (s->result->candidates[k]->placement == PMO__PLACEMENT__PLACEMENT_OUT)
                out++;
            else
                in++;
        char counts[24];
        snprintf (counts, sizeof counts, "%zu/%zu", in, out);
        printf ("%-14s %-28.28s %-9s %8s %6s %s\n", s->id, s->spec ? s->spec->name : "",
                s->result && s->result->feasible ? "yes" : "no", counts,
                s->committed ? "yes" : "no", s->created_by);
    }
    if (!list->n_scenarios)
        printf ("no scenarios\n");
    return PMOCTL_OK;
}

//  ---------------------------------------------------------------------
//  The commands: group, verb, ID, flags, request member, builder (NULL:
//  the flags' fields), printer, what --json prints

#define CALL(...) PMOCTL_CALL (PMOCTL_PLANNER, __VA_ARGS__)

const pmoctl_command_t pmoctl_planner_commands[] = {
    CALL ("planner", "ping", NULL, NULL, "ping", NULL, pmoctl_show_pong, PMOCTL_JSON_BY_SHOW,
          "is the planner up, and its Redis? (exit 0 only if both)"),
    CALL ("planner", "policy", NULL, s_policy_flags, "get_policy", s_build_policy,
          pmoctl_show_entity, "policy",
          "the scoring model and lag threshold in force at a unit; --file sets the unit's own"),
    CALL ("benefit", "create", NULL, s_file_flags, "create_benefit", s_build_file,
          pmoctl_show_entity, "benefit",
          "register a benefit from a JSON file (kind, owner, measure, profile, links)"),
    CALL ("benefit", "update", "ID", s_file_flags, "update_benefit", s_build_update,
          pmoctl_show_entity, "benefit", "replace a benefit's editable fields from a JSON file"),
    CALL ("benefit", "get", "ID", NULL, "get_benefit", s_build_id, pmoctl_show_entity, "benefit",
          "a benefit with its profile, measurements and realisation"),
    CALL ("benefit", "list", NULL, s_list_flags, "list_benefits", NULL, s_show_benefits, "benefits",
          "benefits by subtree, project, programme; --lagging"),
    CALL ("benefit", "measure", "ID", s_measure_flags, "record_measurement", s_build_measure,
          pmoctl_show_entity, "benefit",
          "record what a benefit measured in a month (the lag alert follows)"),
    CALL ("benefit", "rollup", NULL, s_rollup_flags, "rollup_benefits", NULL, s_show_rollup,
          "rollup", "planned, expected, realised and forecast by group and currency"),
    CALL ("score", "set", "PROJECT", s_score_flags, "score_project", s_build_score,
          pmoctl_show_entity, "score",
          "score a project on the criteria (who and when are recorded)"),
    CALL ("ranking", "show", NULL, s_ranking_flags, "ranking", NULL, s_show_ranking, "ranking",
          "the projects of a subtree ranked under the model in force there"),
    CALL ("scenario", "solve", NULL, s_file_flags, "solve_scenario", s_build_file, s_show_scenario,
          "scenario", "the best portfolio for a JSON ScenarioSpec (kept, with its id)"),
    CALL ("scenario", "frontier", NULL, s_frontier_flags, "frontier", s_build_frontier,
          s_show_scenario, "scenario", "value against budget: the best portfolio at each budget"),
    CALL ("scenario", "list", NULL, s_scenario_list_flags, "list_scenarios", NULL, s_show_scenarios,
          "scenarios", "the scenarios of a subtree, newest first (in/out counts, committed)"),
    CALL ("scenario", "get", "ID", NULL, "get_scenario", s_build_id, s_show_scenario, "scenario",
          "a kept scenario and its result"),
    CALL ("scenario", "compare", "ID,ID...", NULL, "compare", s_build_compare, pmoctl_show_entity,
          "comparison", "scenarios side by side: each project in, out or shifted"),
    CALL ("scenario", "commit", "ID", NULL, "commit_scenario", s_build_commit, s_show_proposals,
          "proposals", "propose the scenario's gate decisions (go, hold, stop) to the approvers"),
    PMOCTL_END,
};
