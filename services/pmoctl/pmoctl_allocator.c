/*  pmoctl_allocator.c: the resource allocator's commands.

    resource create|update|get|list|archive, alloc request|propose|commit|
    reject|release|reshape|get|list|match, capacity view|utilisation,
    conflicts and allocator ping: a row each in the table at the end, run
    by pmoctl_run_call. Requests are JSON objects converted to protobuf by
    the generic mapping, so each flag names the .proto field it fills (or
    the builder fills it). Steps of an allocation read it first and send the
    version read. The allocator is reached at $PMO_ALLOCATOR_ENDPOINT.
*/
#include "pmoctl.h"

#include "pmo_json.h"
#include "pmo_reflect.h"
#include "pmo_wire.h"
#include "allocator.pb-c.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static const pmoctl_flag_t s_resource_flags[] = {
    JSTR ("name", "TEXT", "name", 0, "the person's name, or the placeholder's (e.g. 'Tester 1')"),
    JSTR ("org-unit", "UNIT", "home_org_unit", 0, "the home org unit that owns the resource"),
    JSTR ("role", "ROLE", "role", 0, "e.g. developer, business-analyst"),
    JSTR ("kind", "person|placeholder", "kind", 0,
          "a named person (default) or a role placeholder"),
    F ("capacity", "HOURS", 0, "weekly capacity in hours, 0-168 (or give --fte)"),
    F ("fte", "FTE", 0, "weekly capacity as FTE of a 40 h week, e.g. 0.8"),
    F ("skill", "NAME:LEVEL", PMOCTL_REPEAT,
       "a skill and level 1-5, e.g. java:4 (repeatable; "
       "the first is primary; replaces all on update)"),
    F ("cost", "AMOUNT", 0, "cost rate per hour, e.g. 55.00"),
    F ("currency", "CODE", 0, "currency of --cost (default GBP)"),
    F ("leave", "WEEK[..WEEK]:HOURS[:REASON]", PMOCTL_REPEAT,
       "hours off per week, e.g. 2026-W14..2026-W15:40:annual leave (repeatable; replaces all "
       "on update)"),
    JSTR ("email", "ADDRESS", "email", 0, "how to reach the person"),
    END,
};

static const pmoctl_flag_t s_resource_list_flags[] = {
    JSTR ("org-unit", "UNIT", "org_unit", 0, "only this subtree"),
    JSTR ("role", "ROLE", "role", 0, "only this role"),
    JSTR ("skill", "NAME", "skill", 0, "only with this skill"),
    JINT ("min-level", "N", "min_level", 0, 0, 5, "... at this level or above"),
    JSWITCH ("archived", "include_archived", "archived ones too"),
    JINT ("limit", "N", "limit", 0, 1, 500, "at most N (default 50, at most 500)"),
    JSTR ("cursor", "CURSOR", "cursor", 0, "the page after this cursor"),
    END,
};

static const pmoctl_flag_t s_request_flags[] = {
    JSTR ("project", "ID|CODE", "project_id", PMOCTL_REQUIRED, "the project asking"),
    JSTR ("resource", "ID", "resource_id", 0, "a named resource; or give --role and/or --skill"),
    JSTR ("role", "ROLE", "role", 0, "the role wanted"),
    JSTR ("skill", "NAME", "skill", 0, "the skill wanted"),
    JINT ("min-level", "N", "min_level", 0, 0, 5, "minimum skill level 1-5"),
    F ("hours", "HOURS", 0, "hours per week, 1-168 (or give --fte)"),
    F ("fte", "FTE", 0, "per week as FTE of a 40 h week, e.g. 0.5"),
    JSTR ("start", "WEEK", "start_week", PMOCTL_REQUIRED, "first ISO week, e.g. 2026-W14"),
    JSTR ("end", "WEEK", "end_week", 0, "last ISO week (default: --start)"),
    JSTR ("pool", "UNIT", "pool_org_unit", 0, "look for candidates in this subtree only"),
    JSTR ("note", "TEXT", "note", 0, "what the person is wanted for"),
    END,
};

static const pmoctl_flag_t s_step_flags[] = {
    JSTR ("reason", "TEXT", "reason", 0, "why (kept in the history; required to reject)"),
    JSTR ("resource", "ID", "resource_id", 0, "propose: the resource to soft-book"),
    JSWITCH ("approve", "approve",
             "commit: approve it as a resource or PMO manager of the resource's unit"),
    END,
};

static const pmoctl_flag_t s_reshape_flags[] = {
    JSTR ("start", "WEEK", "start_week", 0, "new first week"),
    JSTR ("end", "WEEK", "end_week", 0, "new last week"),
    JINT ("hours", "HOURS", "hours_per_week", 0, 1, 168, "new hours per week"),
    JSTR ("reason", "TEXT", "reason", 0, "why"),
    END,
};

static const pmoctl_flag_t s_alloc_list_flags[] = {
    JSTR ("project", "ID|CODE", "project_id", 0, "only this project's"),
    JSTR ("resource", "ID", "resource_id", 0, "only this resource's"),
    JSTR ("org-unit", "UNIT", "org_unit", 0, "only this subtree"),
    JSTR ("state", "requested|proposed|committed|released|rejected", "state", 0,
          "only in this state"),
    JINT ("limit", "N", "limit", 0, 1, 500, "at most N (default 50)"),
    JSTR ("cursor", "CURSOR", "cursor", 0, "the page after this cursor"),
    END,
};

static const pmoctl_flag_t s_match_flags[] = {
    JSTR ("project", "ID|CODE", "project_id", 0,
          "the project (its division ranks home-division candidates first)"),
    JSTR ("role", "ROLE", "role", 0, "the role wanted"),
    JSTR ("skill", "NAME", "skill", 0, "the skill wanted"),
    JINT ("min-level", "N", "min_level", 0, 0, 5, "minimum skill level"),
    JINT ("hours", "HOURS", "hours_per_week", PMOCTL_REQUIRED, 1, 168, "hours per week"),
    JSTR ("start", "WEEK", "start_week", PMOCTL_REQUIRED, "first ISO week"),
    JSTR ("end", "WEEK", "end_week", 0, "last ISO week"),
    JSTR ("pool", "UNIT", "pool_org_unit", 0, "only candidates in this subtree"),
    JINT ("limit", "N", "limit", 0, 1, 100, "candidates shown (default 10)"),
    END,
};

static const pmoctl_flag_t s_capacity_flags[] = {
    JSTR ("org-unit", "UNIT", "org_unit", 0, "the subtree (default: the enterprise)"),
    JSTR ("start", "WEEK", "start_week", PMOCTL_REQUIRED, "first ISO week"),
    JSTR ("end", "WEEK", "end_week", 0, "last ISO week (at most 104 weeks)"),
    JSTR ("skill", "NAME", "skill", 0, "only this skill's row"),
    SW ("hours", "show committed/capacity hours instead of utilisation %"),
    END,
};

static const pmoctl_flag_t s_conflicts_flags[] = {
    JSTR ("org-unit", "UNIT", "org_unit", 0, "the subtree (default: the enterprise)"),
    JSTR ("start", "WEEK", "start_week", 0, "from this week"),
    JSTR ("end", "WEEK", "end_week", 0, "to this week"),
    END,
};

//  ---------------------------------------------------------------------
//  Requests

static int s_bad (const pmoctl_command_t *cmd, const char *flag, const char *value,
                  const char *want)
{
    return pmoctl_usage_error (cmd, "--%s '%s': %s", flag, value, want);
}

//  Hours from --hours (or --capacity) or --fte (of a 40 h week).
static int s_hours (json_t *obj, const pmoctl_command_t *cmd, const pmoctl_args_t *args,
                    const char *flag, const char *field, long min)
{
    const char *fte = pmoctl_args_get (args, "fte");
    if (fte && pmoctl_args_get (args, flag))
        return pmoctl_usage_error (cmd, "give --%s or --fte, not both", flag);
    if (fte) {
        char *end = NULL;
        double f = strtod (fte, &end);
        if (!*fte || *end || f < 0 || f > 4.2)
            return s_bad (cmd, "fte", fte, "an FTE from 0 to 4.2 (40 h = 1)");
        json_object_set_new (obj, field, json_integer ((long)(f * 40.0 + 0.5)));
        return 0;
    }
    return pmoctl_json_int (obj, cmd, args, flag, field, min, 168);
}

//  The flags of a resource into r (a new one, or the one read).
static int s_resource_body (pmoctl_t *ctl, const pmoctl_command_t *cmd, const pmoctl_args_t *args,
                            json_t *r)
{
    pmoctl_args_json (cmd, args, r);
    if (s_hours (r, cmd, args, "capacity", "weekly_capacity_hours", 0) ||
        pmoctl_json_money (r, cmd, args, "cost", "currency", "cost_rate",
                           "an amount such as 55.00"))
        return PMOCTL_USAGE;
    json_t *skills = NULL, *leave = NULL;
    for (size_t i = 0; i < args->count; i++) {
        const char *name = args->flags[i]->name;
        const char *value = args->values[i];
        if (strcmp (name, "skill") == 0) {
            const char *colon = strchr (value, ':');
            char *end = NULL;
            long level = colon ? strtol (colon + 1, &end, 10) : 0;
            if (!colon || colon == value || !*(colon + 1) || *end)
                return s_bad (cmd, "skill", value, "NAME:LEVEL, e.g. java:4");
            json_t *skill = json_object ();
            json_object_set_new (skill, "name", json_stringn (value, (size_t)(colon - value)));
            json_object_set_new (skill, "level", json_integer (level));
            if (!skills)
                skills = json_array ();
            json_array_append_new (skills, skill);
        } else if (strcmp (name, "leave") == 0) {
            //  WEEK[..WEEK]:HOURS[:REASON]
            char *copy = pmo_arena_strdup (ctl->arena, value);
            char *hours = strchr (copy, ':');
            if (!hours)
                return s_bad (cmd, "leave", value, "WEEK[..WEEK]:HOURS[:REASON]");
            *hours++ = 0;
            char *reason = strchr (hours, ':');
            if (reason)
                *reason++ = 0;
            char *dots = strstr (copy, "..");
            if (dots)
                *dots = 0;
            char *end = NULL;
            long h = strtol (hours, &end, 10);
            if (!*hours || *end)
                return s_bad (cmd, "leave", value, "WEEK[..WEEK]:HOURS[:REASON]");
            json_t *e = json_object ();
            json_object_set_new (e, "start_week", json_string (copy));
            if (dots)
                json_object_set_new (e, "end_week", json_string (dots + 2));
            json_object_set_new (e, "hours_off", json_integer (h));
            if (reason)
                json_object_set_new (e, "reason", json_string (reason));
            if (!leave)
                leave = json_array ();
            json_array_append_new (leave, e);
        }
    }
    if (skills)
        json_object_set_new (r, "skills", skills);
    if (leave)
        json_object_set_new (r, "exceptions", leave);
    return 0;
}

//  Read a resource or an allocation. NULL after saying why (status set).
static Pmo__AllocatorReply *s_get (pmoctl_t *ctl, const char *kind, const char *id)
{
    json_t *get = json_object ();
    json_object_set_new (get, "kind", json_string (kind));
    json_object_set_new (get, "id", json_string (id));
    Pmo__AllocatorReply *reply =
        (Pmo__AllocatorReply *)pmoctl_service_call (ctl, PMOCTL_ALLOCATOR, "get", get);
    json_decref (get);
    return reply;
}

static int s_build_resource_create (pmoctl_t *ctl, const pmoctl_command_t *cmd, pmoctl_args_t *args,
                                    pmoctl_request_t *request)
{
    if (!pmoctl_args_get (args, "name") || !pmoctl_args_get (args, "org-unit") ||
        !pmoctl_args_get (args, "role"))
        return pmoctl_usage_error (cmd, "--name, --org-unit and --role are required");
    return s_resource_body (ctl, cmd, args, request->body);
}

//  Read, change what the flags say, write with the version read.
static int s_build_resource_update (pmoctl_t *ctl, const pmoctl_command_t *cmd, pmoctl_args_t *args,
                                    pmoctl_request_t *request)
{
    Pmo__AllocatorReply *reply = s_get (ctl, "resource", args->positional);
    if (!reply)
        return ctl->status;
    json_t *current = pmo_json_from_message (&reply->resource->base);
    //  Computed fields are not the caller's to send
    static const char *computed[] = {"home_org_unit_path", "division", "created_ms",
                                     "updated_ms",         "archived", NULL};
    for (size_t i = 0; computed[i]; i++)
        json_object_del (current, computed[i]);
    json_object_update (request->body, current);
    json_decref (current);
    return s_resource_body (ctl, cmd, args, request->body);
}

static int s_build_get (pmoctl_t *ctl, const pmoctl_command_t *cmd, pmoctl_args_t *args,
                        pmoctl_request_t *request)
{
    const char *kind = streq (cmd->group, "resource") ? "resource" : "allocation";
    json_object_set_new (request->body, "kind", json_string (kind));
    json_object_set_new (request->body, "id", json_string (args->positional));
    return 0;
}

static int s_build_resource_archive (pmoctl_t *ctl, const pmoctl_command_t *cmd,
                                     pmoctl_args_t *args, pmoctl_request_t *request)
{
    Pmo__AllocatorReply *reply = s_get (ctl, "resource", args->positional);
    if (!reply)
        return ctl->status;
    json_object_set_new (request->body, "id", json_string (args->positional));
    json_object_set_new (request->body, "version",
                         json_integer ((json_int_t)reply->resource->version));
    return 0;
}

static int s_build_request (pmoctl_t *ctl, const pmoctl_command_t *cmd, pmoctl_args_t *args,
                            pmoctl_request_t *request)
{
    int rc = pmoctl_args_json (cmd, args, request->body);
    return rc ? rc : s_hours (request->body, cmd, args, "hours", "hours_per_week", 1);
}

//  A step of an allocation: read it for its version, then the flags.
static int s_build_step (pmoctl_t *ctl, const pmoctl_command_t *cmd, pmoctl_args_t *args,
                         pmoctl_request_t *request)
{
    Pmo__AllocatorReply *reply = s_get (ctl, "allocation", args->positional);
    if (!reply)
        return ctl->status;
    json_object_set_new (request->body, "allocation_id", json_string (args->positional));
    json_object_set_new (request->body, "version",
                         json_integer ((json_int_t)reply->allocation->version));
    return pmoctl_args_json (cmd, args, request->body);
}

static int s_build_capacity (pmoctl_t *ctl, const pmoctl_command_t *cmd, pmoctl_args_t *args,
                             pmoctl_request_t *request)
{
    pmoctl_args_json (cmd, args, request->body);
    if (streq (cmd->verb, "utilisation"))
        json_object_set_new (request->body, "by_resource", json_true ());
    return 0;
}

//  ---------------------------------------------------------------------
//  Output

static const char *s_state (pmoctl_t *ctl, int state)
{
    return pmoctl_format_enum (ctl->arena, &pmo__allocation_state__descriptor, state);
}

static void s_print_allocation (pmoctl_t *ctl, const Pmo__Allocation *a)
{
    printf ("id:        %s (version %llu)\n", a->id, (unsigned long long)a->version);
    printf ("state:     %s\n", s_state (ctl, a->state));
    printf ("project:   %s %s (priority %u, %s)\n", a->project_code, a->project_id,
            a->project_priority, a->project_org_unit_path);
    printf ("resource:  %s\n", pmo_str_empty (a->resource_id)
                                   ? "(nobody yet: unfilled demand)"
                                   : pmo_arena_printf (ctl->arena, "%s %s (%s)", a->resource_name,
                                                       a->resource_id, a->resource_org_unit_path));
    if (!pmo_str_empty (a->role) || !pmo_str_empty (a->skill))
        printf ("asked:     %s%s%s%s\n", a->role, *a->role && *a->skill ? " / " : "", a->skill,
                a->min_level ? pmo_arena_printf (ctl->arena, " level %u+", a->min_level) : "");
    printf ("hours:     %u h/week (%.2f FTE), %s .. %s\n", a->hours_per_week,
            a->hours_per_week / 40.0, a->start_week, a->end_week);
    if (!pmo_str_empty (a->note))
        printf ("note:      %s\n", a->note);
    printf ("history:\n");
    for (size_t i = 0; i < a->n_history; i++) {
        const Pmo__AllocationTransition *t = a->history[i];
        printf ("  %s  %-9s -> %-9s by %s (%s)%s%s%s%s\n",
                pmoctl_format_time (ctl->arena, t->time_ms, false), s_state (ctl, t->from_state),
                s_state (ctl, t->to_state), t->actor,
                pmoctl_format_enum (ctl->arena, &pmo__role__descriptor, t->actor_role),
                t->approved ? " approved" : "", *t->reason ? ": " : "", t->reason,
                *t->change ? pmo_arena_printf (ctl->arena, " [%s]", t->change) : "");
        for (size_t w = 0; w < t->n_warnings; w++)
            printf ("      warning: %s\n", t->warnings[w]);
    }
}

static void s_print_match (pmoctl_t *ctl, const Pmo__MatchResult *m)
{
    printf ("%s\n", m->summary);
    for (size_t i = 0; i < m->n_candidates; i++) {
        const Pmo__MatchCandidate *c = m->candidates[i];
        printf ("%2u. %-24s %-14s %s %s\n    %s\n", c->rank, c->resource_name, c->resource_id,
                c->fits ? "fits" : "short", c->home_org_unit, c->explanation);
    }
    if (m->n_shortfall) {
        static const pmoctl_column_t cols[] = {
            {"WEEK", NULL, 0, NULL},     {"NEEDED", NULL, 0, NULL},    {"BEST FREE", NULL, 0, NULL},
            {"ALL FREE", NULL, 0, NULL}, {"SHORTFALL", NULL, 0, NULL}, {NULL, NULL, 0, NULL},
        };
        pmoctl_table_t *table = pmoctl_table_new (ctl->arena, cols);
        for (size_t i = 0; i < m->n_shortfall; i++) {
            const Pmo__WeekShortfall *s = m->shortfall[i];
            const char *cells[] = {s->week, pmo_arena_printf (ctl->arena, "%u", s->needed_hours),
                                   pmo_arena_printf (ctl->arena, "%u", s->best_free_hours),
                                   pmo_arena_printf (ctl->arena, "%u", s->total_free_hours),
                                   pmo_arena_printf (ctl->arena, "%u", s->shortfall_hours)};
            pmoctl_table_add (table, cells);
        }
        printf ("shortfall by week:\n");
        pmoctl_table_print (table, stdout);
    }
}

//  A heatmap-like table: one row per capacity row, one column per week.
static void s_print_capacity (pmoctl_t *ctl, const Pmo__CapacityView *v, bool by_resource,
                              bool hours)
{
    size_t n_cols = v->n_weeks + 2;
    pmoctl_column_t *cols = pmo_arena_alloc (ctl->arena, (n_cols + 1) * sizeof (pmoctl_column_t));
    cols[0].header = by_resource ? "RESOURCE" : "SKILL";
    cols[1].header = "N";
    for (size_t k = 0; k < v->n_weeks; k++)
        cols[k + 2].header = v->weeks[k] + 5; //  "W14"
    pmoctl_table_t *table = pmoctl_table_new (ctl->arena, cols);
    size_t n_rows = by_resource ? v->n_resources : v->n_skills + 1;
    for (size_t r = 0; r < n_rows; r++) {
        const Pmo__CapacityRow *row =
            by_resource ? v->resources[r] : (r < v->n_skills ? v->skills[r] : v->total);
        const char **cells = pmo_arena_alloc (ctl->arena, n_cols * sizeof (char *));
        cells[0] = by_resource       ? pmo_arena_printf (ctl->arena, "%s %s", row->resource_name,
                                                         row->resource_id)
                   : r < v->n_skills ? row->skill
                                     : "all (each once)";
        cells[1] = pmo_arena_printf (ctl->arena, "%u", row->resources);
        for (size_t k = 0; k < row->n_cells; k++) {
            const Pmo__CapacityCell *c = row->cells[k];
            if (hours)
                cells[k + 2] = pmo_arena_printf (
                    ctl->arena, "%u/%u%s%s", c->committed_hours, c->capacity_hours,
                    c->over ? "!" : "",
                    c->unfilled_hours ? pmo_arena_printf (ctl->arena, "+%u?", c->unfilled_hours)
                                      : "");
            else
                cells[k + 2] = c->capacity_hours
                                   ? pmo_arena_printf (ctl->arena, "%.0f%%%s", c->utilisation_pct,
                                                       c->over ? "!" : "")
                               : c->committed_hours ? "over!"
                                                    : "-";
        }
        pmoctl_table_add (table, cells);
    }
    printf ("%s, %s .. %s: %s (! over capacity%s)\n",
            pmo_str_empty (v->org_unit) ? "enterprise" : v->org_unit, v->weeks[0],
            v->weeks[v->n_weeks - 1],
            hours ? "committed/capacity hours" : "utilisation = committed / capacity",
            hours ? "; +N? unfilled demand" : "");
    pmoctl_table_print (table, stdout);
}

//  A resource or an allocation changed or read, and what the allocator
//  says about it.
static int s_show_done (pmoctl_t *ctl, const pmoctl_command_t *cmd, pmoctl_args_t *args,
                        ProtobufCMessage *msg)
{
    const Pmo__AllocatorReply *reply = (const Pmo__AllocatorReply *)msg;
    bool allocation = reply->body_case == PMO__ALLOCATOR_REPLY__BODY_ALLOCATION;
    if (allocation)
        s_print_allocation (ctl, reply->allocation);
    else if (reply->body_case == PMO__ALLOCATOR_REPLY__BODY_RESOURCE)
        pmoctl_print_entity (ctl, &reply->resource->base, stdout);
    if (reply->match_detail && (reply->match_detail->n_shortfall || !allocation ||
                                pmo_str_empty (reply->allocation->resource_id))) {
        printf ("matching:\n");
        s_print_match (ctl, reply->match_detail);
    }
    if (reply->over_allocation)
        printf ("%s %s: weeks %s%s\n", reply->over_allocation->resource_name,
                reply->over_allocation->over ? "is now OVER-ALLOCATED" : "is clear again",
                reply->over_allocation->n_weeks ? reply->over_allocation->weeks[0] : "-",
                reply->over_allocation->n_weeks > 1 ? " ..." : "");
    return PMOCTL_OK;
}

static int s_show_resources (pmoctl_t *ctl, const pmoctl_command_t *cmd, pmoctl_args_t *args,
                             ProtobufCMessage *msg)
{
    static const pmoctl_column_t cols[] = {
        {"ID", "id", 0, NULL},
        {"NAME", "name", 30, NULL},
        {"ROLE", "role", 20, NULL},
        {"UNIT", "home_org_unit", 0, NULL},
        {"H/WEEK", "weekly_capacity_hours", 0, NULL},
        {"COST/H", "cost_rate", 0, NULL},
        {NULL, NULL, 0, NULL},
    };
    const Pmo__ResourcePage *page = ((const Pmo__AllocatorReply *)msg)->resources;
    pmoctl_print_items (ctl, &page->base, "resources", cols);
    if (!pmo_str_empty (page->next_cursor))
        printf ("more: --cursor %s\n", page->next_cursor);
    return PMOCTL_OK;
}

static int s_show_allocations (pmoctl_t *ctl, const pmoctl_command_t *cmd, pmoctl_args_t *args,
                               ProtobufCMessage *msg)
{
    static const pmoctl_column_t cols[] = {
        {"ID", "id", 0, NULL},
        {"STATE", "state", 0, NULL},
        {"PROJECT", "project_code", 16, NULL},
        {"PRIO", "project_priority", 0, NULL},
        {"RESOURCE", "resource_name", 24, NULL},
        {"SKILL", "skill", 16, NULL},
        {"H/WEEK", "hours_per_week", 0, NULL},
        {"FROM", "start_week", 0, NULL},
        {"TO", "end_week", 0, NULL},
        {NULL, NULL, 0, NULL},
    };
    const Pmo__AllocationPage *page = ((const Pmo__AllocatorReply *)msg)->allocations;
    pmoctl_print_items (ctl, &page->base, "allocations", cols);
    if (!pmo_str_empty (page->next_cursor))
        printf ("more: --cursor %s\n", page->next_cursor);
    return PMOCTL_OK;
}

static int s_show_match (pmoctl_t *ctl, const pmoctl_command_t *cmd, pmoctl_args_t *args,
                         ProtobufCMessage *msg)
{
    s_print_match (ctl, ((const Pmo__AllocatorReply *)msg)->match);
    return PMOCTL_OK;
}

static int s_show_capacity (pmoctl_t *ctl, const pmoctl_command_t *cmd, pmoctl_args_t *args,
                            ProtobufCMessage *msg)
{
    s_print_capacity (ctl, ((const Pmo__AllocatorReply *)msg)->capacity,
                      streq (cmd->verb, "utilisation"), pmoctl_args_get (args, "hours"));
    return PMOCTL_OK;
}

static int s_show_conflicts (pmoctl_t *ctl, const pmoctl_command_t *cmd, pmoctl_args_t *args,
                             ProtobufCMessage *msg)
{
    const Pmo__ConflictList *list = ((const Pmo__AllocatorReply *)msg)->conflicts;
    if (!list->n_conflicts)
        printf ("no over-allocated resources\n");
    for (size_t i = 0; i < list->n_conflicts; i++) {
        const Pmo__AllocationConflict *c = list->conflicts[i];
        printf ("%s (%s, home %s)\n", c->summary, c->resource_id, c->home_org_unit);
        for (size_t w = 0; w < c->n_weeks; w++)
            printf ("  %s  %u h committed of %u h (over by %u)\n", c->weeks[w]->week,
                    c->weeks[w]->committed_hours, c->weeks[w]->capacity_hours,
                    c->weeks[w]->over_by_hours);
        for (size_t k = 0; k < c->n_claims; k++) {
            const Pmo__ConflictClaim *cl = c->claims[k];
            printf ("  %s %-14s priority %u, %u h/week, %s: %s\n", cl->prevails ? "*" : " ",
                    cl->project_code, cl->project_priority, cl->hours_per_week, cl->allocation_id,
                    cl->why);
        }
    }
    return PMOCTL_OK;
}

//  ---------------------------------------------------------------------
//  The commands: group, verb, ID, flags, request member, builder (NULL:
//  the flags' fields), printer, what --json prints (NULL: the reply)

#define CALL(...) PMOCTL_CALL (PMOCTL_ALLOCATOR, __VA_ARGS__)

const pmoctl_command_t pmoctl_allocator_commands[] = {
    CALL ("allocator", "ping", NULL, NULL, "ping", NULL, pmoctl_show_pong, PMOCTL_JSON_BY_SHOW,
          "is the allocator up, and its Redis? (exit 0 only if both)"),
    CALL ("resource", "create", NULL, s_resource_flags, "create_resource", s_build_resource_create,
          s_show_done, NULL, "add a person or role placeholder to the pool"),
    CALL ("resource", "update", "ID", s_resource_flags, "update_resource", s_build_resource_update,
          s_show_done, NULL, "change a resource (the flags given replace those fields)"),
    CALL ("resource", "get", "ID", NULL, "get", s_build_get, s_show_done, NULL, "show a resource"),
    CALL ("resource", "list", NULL, s_resource_list_flags, "list_resources", NULL, s_show_resources,
          "resources", "list resources by unit, role, skill"),
    CALL ("resource", "archive", "ID", NULL, "archive_resource", s_build_resource_archive,
          s_show_done, NULL, "archive a resource"),
    CALL ("alloc", "request", NULL, s_request_flags, "request_allocation", s_build_request,
          s_show_done, NULL, "ask for a named resource, or a role/skill (matched at once)"),
    CALL ("alloc", "propose", "ID", s_step_flags, "propose", s_build_step, s_show_done, NULL,
          "soft-book a resource for a request"),
    CALL ("alloc", "commit", "ID", s_step_flags, "commit", s_build_step, s_show_done, NULL,
          "hard-book a proposal (--approve as a resource or PMO manager)"),
    CALL ("alloc", "reject", "ID", s_step_flags, "reject", s_build_step, s_show_done, NULL,
          "refuse or withdraw a request (--reason required)"),
    CALL ("alloc", "release", "ID", s_step_flags, "release", s_build_step, s_show_done, NULL,
          "end an allocation: its hours are free at once"),
    CALL ("alloc", "reshape", "ID", s_reshape_flags, "reshape", s_build_step, s_show_done, NULL,
          "change weeks or hours (a commitment only shrinks)"),
    CALL ("alloc", "get", "ID", NULL, "get", s_build_get, s_show_done, NULL,
          "show an allocation and its history"),
    CALL ("alloc", "list", NULL, s_alloc_list_flags, "list_allocations", NULL, s_show_allocations,
          "allocations", "list allocations by project, resource, unit, state"),
    CALL ("alloc", "match", NULL, s_match_flags, "match", NULL, s_show_match, "match",
          "rank candidates for a role/skill, with why (books nothing)"),
    CALL ("capacity", "view", NULL, s_capacity_flags, "capacity", s_build_capacity, s_show_capacity,
          "capacity", "capacity and demand per skill and week (the heatmap)"),
    CALL ("capacity", "utilisation", NULL, s_capacity_flags, "capacity", s_build_capacity,
          s_show_capacity, "capacity", "the utilisation table of a unit: a row per resource"),
    CALL ("conflicts", NULL, NULL, s_conflicts_flags, "conflicts", NULL, s_show_conflicts,
          "conflicts", "over-allocated resources, and whose claim prevails"),
    PMOCTL_END,
};
