/*  pmoctl_allocator.c: the resource allocator's commands.

    resource create|update|get|list|archive, alloc request|propose|commit|
    reject|release|reshape|get|list|match, capacity view|utilisation,
    conflicts and allocator ping. Requests are built as JSON objects from
    the flags and converted to protobuf by the generic mapping, so each
    flag names the .proto field it fills. Steps of an allocation read it
    first and send the version read. The allocator is reached at
    $PMO_ALLOCATOR_ENDPOINT (default tcp://127.0.0.1:7102).
*/
#include "pmoctl.h"

#include "pmo_json.h"
#include "pmo_reflect.h"
#include "pmo_wire.h"
#include "allocator.pb-c.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static const pmoctl_flag_t pmoctl_allocator_flags_resource[] = {
    F ("name", "TEXT", 0, "the person's name, or the placeholder's (e.g. 'Tester 1')"),
    F ("org-unit", "UNIT", 0, "the home org unit that owns the resource"),
    F ("role", "ROLE", 0, "e.g. developer, business-analyst"),
    F ("kind", "person|placeholder", 0, "a named person (default) or a role placeholder"),
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
    F ("email", "ADDRESS", 0, "how to reach the person"),
    END,
};

static const pmoctl_flag_t pmoctl_allocator_flags_resource_list[] = {
    F ("org-unit", "UNIT", 0, "only this subtree"),
    F ("role", "ROLE", 0, "only this role"),
    F ("skill", "NAME", 0, "only with this skill"),
    F ("min-level", "N", 0, "... at this level or above"),
    SW ("archived", "archived ones too"),
    F ("limit", "N", 0, "at most N (default 50, at most 500)"),
    F ("cursor", "CURSOR", 0, "the page after this cursor"),
    END,
};

static const pmoctl_flag_t pmoctl_allocator_flags_request[] = {
    F ("project", "ID", PMOCTL_REQUIRED, "the project asking (its id)"),
    F ("resource", "ID", 0, "a named resource; or give --role and/or --skill"),
    F ("role", "ROLE", 0, "the role wanted"),
    F ("skill", "NAME", 0, "the skill wanted"),
    F ("min-level", "N", 0, "minimum skill level 1-5"),
    F ("hours", "HOURS", 0, "hours per week, 1-168 (or give --fte)"),
    F ("fte", "FTE", 0, "per week as FTE of a 40 h week, e.g. 0.5"),
    F ("start", "WEEK", PMOCTL_REQUIRED, "first ISO week, e.g. 2026-W14"),
    F ("end", "WEEK", 0, "last ISO week (default: --start)"),
    F ("pool", "UNIT", 0, "look for candidates in this subtree only"),
    F ("note", "TEXT", 0, "what the person is wanted for"),
    END,
};

static const pmoctl_flag_t pmoctl_allocator_flags_step[] = {
    F ("reason", "TEXT", 0, "why (kept in the history; required to reject)"),
    F ("resource", "ID", 0, "propose: the resource to soft-book"),
    SW ("approve", "commit: approve it as a resource or PMO manager of the resource's unit"),
    END,
};

static const pmoctl_flag_t pmoctl_allocator_flags_reshape[] = {
    F ("start", "WEEK", 0, "new first week"),
    F ("end", "WEEK", 0, "new last week"),
    F ("hours", "HOURS", 0, "new hours per week"),
    F ("reason", "TEXT", 0, "why"),
    END,
};

static const pmoctl_flag_t pmoctl_allocator_flags_alloc_list[] = {
    F ("project", "ID", 0, "only this project's"),
    F ("resource", "ID", 0, "only this resource's"),
    F ("org-unit", "UNIT", 0, "only this subtree"),
    F ("state", "requested|proposed|committed|released|rejected", 0, "only in this state"),
    F ("limit", "N", 0, "at most N (default 50)"),
    F ("cursor", "CURSOR", 0, "the page after this cursor"),
    END,
};

static const pmoctl_flag_t pmoctl_allocator_flags_match[] = {
    F ("project", "ID", 0, "the project (its division ranks home-division candidates first)"),
    F ("role", "ROLE", 0, "the role wanted"),
    F ("skill", "NAME", 0, "the skill wanted"),
    F ("min-level", "N", 0, "minimum skill level"),
    F ("hours", "HOURS", PMOCTL_REQUIRED, "hours per week"),
    F ("start", "WEEK", PMOCTL_REQUIRED, "first ISO week"),
    F ("end", "WEEK", 0, "last ISO week"),
    F ("pool", "UNIT", 0, "only candidates in this subtree"),
    F ("limit", "N", 0, "candidates shown (default 10)"),
    END,
};

static const pmoctl_flag_t pmoctl_allocator_flags_capacity[] = {
    F ("org-unit", "UNIT", 0, "the subtree (default: the enterprise)"),
    F ("start", "WEEK", PMOCTL_REQUIRED, "first ISO week"),
    F ("end", "WEEK", 0, "last ISO week (at most 104 weeks)"),
    F ("skill", "NAME", 0, "only this skill's row"),
    SW ("hours", "show committed/capacity hours instead of utilisation %"),
    END,
};

static const pmoctl_flag_t pmoctl_allocator_flags_conflicts[] = {
    F ("org-unit", "UNIT", 0, "the subtree (default: the enterprise)"),
    F ("start", "WEEK", 0, "from this week"),
    F ("end", "WEEK", 0, "to this week"),
    END,
};

//  ---------------------------------------------------------------------
//  Calls

//  Send body (JSON, owned by the caller) as the AllocatorRequest member.
//  Returns the reply in the arena, or NULL after printing why (status set).
static Pmo__AllocatorReply *s_call (pmoctl_t *ctl, const char *member, json_t *body)
{
    return (Pmo__AllocatorReply *)pmoctl_service_call (ctl, PMOCTL_ALLOCATOR, member, body);
}

//  ---------------------------------------------------------------------
//  Flags into JSON

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

static int s_resource_body (pmoctl_t *ctl, const pmoctl_command_t *cmd, const pmoctl_args_t *args,
                            json_t *r)
{
    pmoctl_json_str (r, args, "name", "name");
    pmoctl_json_str (r, args, "org-unit", "home_org_unit");
    pmoctl_json_str (r, args, "role", "role");
    pmoctl_json_str (r, args, "kind", "kind");
    pmoctl_json_str (r, args, "email", "email");
    if (s_hours (r, cmd, args, "capacity", "weekly_capacity_hours", 0))
        return PMOCTL_USAGE;
    const char *cost = pmoctl_args_get (args, "cost");
    if (cost) {
        int64_t minor;
        if (pmoctl_parse_amount (cost, &minor))
            return s_bad (cmd, "cost", cost, "an amount such as 55.00");
        const char *currency = pmoctl_args_get (args, "currency");
        json_t *money = json_object ();
        json_object_set_new (money, "minor", json_integer (minor));
        json_object_set_new (money, "currency", json_string (currency ? currency : "GBP"));
        json_object_set_new (r, "cost_rate", money);
    }
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

//  ---------------------------------------------------------------------
//  The runner

//  Read an allocation (for its version).
static Pmo__Allocation *s_read (pmoctl_t *ctl, const char *id)
{
    json_t *get = json_object ();
    json_object_set_new (get, "kind", json_string ("allocation"));
    json_object_set_new (get, "id", json_string (id));
    Pmo__AllocatorReply *reply = s_call (ctl, "get", get);
    json_decref (get);
    return reply ? reply->allocation : NULL;
}

static int s_finish (pmoctl_t *ctl, Pmo__AllocatorReply *reply)
{
    if (!reply)
        return ctl->status;
    if (ctl->json)
        return pmoctl_print_json (&reply->base);
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

static int pmoctl_run_allocator (pmoctl_t *ctl, const pmoctl_command_t *cmd, pmoctl_args_t *args)
{
    const char *group = cmd->group, *verb = cmd->verb ? cmd->verb : "";
    const char *id = args->positional;
    json_t *body = json_object ();
    Pmo__AllocatorReply *reply = NULL;
    int rc = PMOCTL_OK;
#define IS(g, v) (strcmp (group, g) == 0 && strcmp (verb, v) == 0)
    if (IS ("allocator", "ping")) {
        reply = s_call (ctl, "ping", body);
        if (!reply)
            rc = ctl->status;
        else if (ctl->json)
            rc = pmoctl_print_json (&reply->pong->base);
        else
            printf ("service:  %s\nversion:  %s\nredis_ok: %s\nuptime:   %lld s\n",
                    reply->pong->service, reply->pong->version,
                    reply->pong->redis_ok ? "yes" : "no",
                    (long long)(reply->pong->uptime_ms / 1000));
        if (reply && !reply->pong->redis_ok) {
            fprintf (stderr, "pmoctl: the allocator answers but cannot reach its Redis\n");
            rc = PMOCTL_REFUSED;
        }
    } else if (IS ("resource", "create")) {
        if (!pmoctl_args_get (args, "name") || !pmoctl_args_get (args, "org-unit") ||
            !pmoctl_args_get (args, "role"))
            rc = pmoctl_usage_error (cmd, "--name, --org-unit and --role are required");
        else if (!(rc = s_resource_body (ctl, cmd, args, body)))
            rc = s_finish (ctl, reply = s_call (ctl, "create_resource", body));
    } else if (IS ("resource", "update")) {
        //  Read, change what the flags say, write with the version read
        json_t *get = json_object ();
        json_object_set_new (get, "kind", json_string ("resource"));
        json_object_set_new (get, "id", json_string (id));
        reply = s_call (ctl, "get", get);
        json_decref (get);
        if (!reply)
            rc = ctl->status;
        else {
            json_t *current = pmo_json_from_message (&reply->resource->base);
            //  Computed fields are not the caller's to send
            json_object_del (current, "home_org_unit_path");
            json_object_del (current, "division");
            json_object_del (current, "created_ms");
            json_object_del (current, "updated_ms");
            json_object_del (current, "archived");
            if (!(rc = s_resource_body (ctl, cmd, args, current)))
                rc = s_finish (ctl, reply = s_call (ctl, "update_resource", current));
            json_decref (current);
        }
    } else if (IS ("resource", "get") || IS ("alloc", "get")) {
        json_object_set_new (body, "kind", json_string (*group == 'r' ? "resource" : "allocation"));
        json_object_set_new (body, "id", json_string (id));
        rc = s_finish (ctl, reply = s_call (ctl, "get", body));
    } else if (IS ("resource", "archive")) {
        json_t *get = json_object ();
        json_object_set_new (get, "kind", json_string ("resource"));
        json_object_set_new (get, "id", json_string (id));
        reply = s_call (ctl, "get", get);
        json_decref (get);
        if (!reply)
            rc = ctl->status;
        else {
            json_object_set_new (body, "id", json_string (id));
            json_object_set_new (body, "version",
                                 json_integer ((json_int_t)reply->resource->version));
            rc = s_finish (ctl, reply = s_call (ctl, "archive_resource", body));
        }
    } else if (IS ("resource", "list")) {
        pmoctl_json_str (body, args, "org-unit", "org_unit");
        pmoctl_json_str (body, args, "role", "role");
        pmoctl_json_str (body, args, "skill", "skill");
        pmoctl_json_str (body, args, "cursor", "cursor");
        if (pmoctl_args_get (args, "archived"))
            json_object_set_new (body, "include_archived", json_true ());
        if (!(rc = pmoctl_json_int (body, cmd, args, "min-level", "min_level", 0, 5)) &&
            !(rc = pmoctl_json_int (body, cmd, args, "limit", "limit", 1, 500))) {
            reply = s_call (ctl, "list_resources", body);
            if (!reply)
                rc = ctl->status;
            else if (ctl->json)
                rc = pmoctl_print_json (&reply->resources->base);
            else {
                static const pmoctl_column_t cols[] = {
                    {"ID", "id", 0, NULL},
                    {"NAME", "name", 30, NULL},
                    {"ROLE", "role", 20, NULL},
                    {"UNIT", "home_org_unit", 0, NULL},
                    {"H/WEEK", "weekly_capacity_hours", 0, NULL},
                    {"COST/H", "cost_rate", 0, NULL},
                    {NULL, NULL, 0, NULL},
                };
                pmoctl_table_t *table = pmoctl_table_new (ctl->arena, cols);
                for (size_t i = 0; i < reply->resources->n_resources; i++)
                    pmoctl_table_add_message (ctl, table, &reply->resources->resources[i]->base);
                pmoctl_table_print (table, stdout);
                if (!pmo_str_empty (reply->resources->next_cursor))
                    printf ("more: --cursor %s\n", reply->resources->next_cursor);
            }
        }
    } else if (IS ("alloc", "request")) {
        pmoctl_json_str (body, args, "project", "project_id");
        pmoctl_json_str (body, args, "resource", "resource_id");
        pmoctl_json_str (body, args, "role", "role");
        pmoctl_json_str (body, args, "skill", "skill");
        pmoctl_json_str (body, args, "start", "start_week");
        pmoctl_json_str (body, args, "end", "end_week");
        pmoctl_json_str (body, args, "pool", "pool_org_unit");
        pmoctl_json_str (body, args, "note", "note");
        if (!(rc = pmoctl_json_int (body, cmd, args, "min-level", "min_level", 0, 5)) &&
            !(rc = s_hours (body, cmd, args, "hours", "hours_per_week", 1)))
            rc = s_finish (ctl, reply = s_call (ctl, "request_allocation", body));
    } else if (strcmp (group, "alloc") == 0 &&
               (IS ("alloc", "propose") || IS ("alloc", "commit") || IS ("alloc", "reject") ||
                IS ("alloc", "release") || IS ("alloc", "reshape"))) {
        Pmo__Allocation *a = s_read (ctl, id);
        if (!a)
            rc = ctl->status;
        else {
            json_object_set_new (body, "allocation_id", json_string (id));
            json_object_set_new (body, "version", json_integer ((json_int_t)a->version));
            pmoctl_json_str (body, args, "reason", "reason");
            if (IS ("alloc", "reshape")) {
                pmoctl_json_str (body, args, "start", "start_week");
                pmoctl_json_str (body, args, "end", "end_week");
                rc = pmoctl_json_int (body, cmd, args, "hours", "hours_per_week", 1, 168);
            } else {
                pmoctl_json_str (body, args, "resource", "resource_id");
                if (pmoctl_args_get (args, "approve"))
                    json_object_set_new (body, "approve", json_true ());
            }
            if (!rc)
                rc = s_finish (ctl, reply = s_call (ctl, verb, body));
        }
    } else if (IS ("alloc", "list")) {
        pmoctl_json_str (body, args, "project", "project_id");
        pmoctl_json_str (body, args, "resource", "resource_id");
        pmoctl_json_str (body, args, "org-unit", "org_unit");
        pmoctl_json_str (body, args, "state", "state");
        pmoctl_json_str (body, args, "cursor", "cursor");
        if (!(rc = pmoctl_json_int (body, cmd, args, "limit", "limit", 1, 500))) {
            reply = s_call (ctl, "list_allocations", body);
            if (!reply)
                rc = ctl->status;
            else if (ctl->json)
                rc = pmoctl_print_json (&reply->allocations->base);
            else {
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
                pmoctl_table_t *table = pmoctl_table_new (ctl->arena, cols);
                for (size_t i = 0; i < reply->allocations->n_allocations; i++)
                    pmoctl_table_add_message (ctl, table,
                                              &reply->allocations->allocations[i]->base);
                pmoctl_table_print (table, stdout);
                if (!pmo_str_empty (reply->allocations->next_cursor))
                    printf ("more: --cursor %s\n", reply->allocations->next_cursor);
            }
        }
    } else if (IS ("alloc", "match")) {
        pmoctl_json_str (body, args, "project", "project_id");
        pmoctl_json_str (body, args, "role", "role");
        pmoctl_json_str (body, args, "skill", "skill");
        pmoctl_json_str (body, args, "start", "start_week");
        pmoctl_json_str (body, args, "end", "end_week");
        pmoctl_json_str (body, args, "pool", "pool_org_unit");
        if (!(rc = pmoctl_json_int (body, cmd, args, "min-level", "min_level", 0, 5)) &&
            !(rc = pmoctl_json_int (body, cmd, args, "hours", "hours_per_week", 1, 168)) &&
            !(rc = pmoctl_json_int (body, cmd, args, "limit", "limit", 1, 100))) {
            reply = s_call (ctl, "match", body);
            if (!reply)
                rc = ctl->status;
            else if (ctl->json)
                rc = pmoctl_print_json (&reply->match->base);
            else
                s_print_match (ctl, reply->match);
        }
    } else if (strcmp (group, "capacity") == 0) {
        bool table = strcmp (verb, "utilisation") == 0;
        pmoctl_json_str (body, args, "org-unit", "org_unit");
        pmoctl_json_str (body, args, "start", "start_week");
        pmoctl_json_str (body, args, "end", "end_week");
        pmoctl_json_str (body, args, "skill", "skill");
        if (table)
            json_object_set_new (body, "by_resource", json_true ());
        reply = s_call (ctl, "capacity", body);
        if (!reply)
            rc = ctl->status;
        else if (ctl->json)
            rc = pmoctl_print_json (&reply->capacity->base);
        else
            s_print_capacity (ctl, reply->capacity, table, pmoctl_args_get (args, "hours"));
    } else if (strcmp (group, "conflicts") == 0) {
        pmoctl_json_str (body, args, "org-unit", "org_unit");
        pmoctl_json_str (body, args, "start", "start_week");
        pmoctl_json_str (body, args, "end", "end_week");
        reply = s_call (ctl, "conflicts", body);
        if (!reply)
            rc = ctl->status;
        else if (ctl->json)
            rc = pmoctl_print_json (&reply->conflicts->base);
        else {
            const Pmo__ConflictList *list = reply->conflicts;
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
                            cl->project_code, cl->project_priority, cl->hours_per_week,
                            cl->allocation_id, cl->why);
                }
            }
        }
    } else
        rc = pmoctl_usage_error (cmd, "unknown allocator command");
#undef IS
    json_decref (body);
    return rc;
}

//  ---------------------------------------------------------------------
//  The commands

#define PMOCTL_ALLOC_CMD(group, verb, pos, flags, summary)                                         \
    {                                                                                              \
        group, verb, pos, flags, PMOCTL_MODE_OTHER, pmoctl_run_allocator, NULL, NULL, summary      \
    }

//  The entries of the command table
#define PMOCTL_ALLOCATOR_COMMANDS                                                                  \
    PMOCTL_ALLOC_CMD ("allocator", "ping", NULL, NULL,                                             \
                      "is the allocator up, and its Redis? (exit 0 only if both)"),                \
        PMOCTL_ALLOC_CMD ("resource", "create", NULL, pmoctl_allocator_flags_resource,             \
                          "add a person or role placeholder to the pool"),                         \
        PMOCTL_ALLOC_CMD ("resource", "update", "ID", pmoctl_allocator_flags_resource,             \
                          "change a resource (the flags given replace those fields)"),             \
        PMOCTL_ALLOC_CMD ("resource", "get", "ID", NULL, "show a resource"),                       \
        PMOCTL_ALLOC_CMD ("resource", "list", NULL, pmoctl_allocator_flags_resource_list,          \
                          "list resources by unit, role, skill"),                                  \
        PMOCTL_ALLOC_CMD ("resource", "archive", "ID", NULL, "archive a resource"),                \
        PMOCTL_ALLOC_CMD ("alloc", "request", NULL, pmoctl_allocator_flags_request,                \
                          "ask for a named resource, or a role/skill (matched at once)"),          \
        PMOCTL_ALLOC_CMD ("alloc", "propose", "ID", pmoctl_allocator_flags_step,                   \
                          "soft-book a resource for a request"),                                   \
        PMOCTL_ALLOC_CMD ("alloc", "commit", "ID", pmoctl_allocator_flags_step,                    \
                          "hard-book a proposal (--approve as a resource or PMO manager)"),        \
        PMOCTL_ALLOC_CMD ("alloc", "reject", "ID", pmoctl_allocator_flags_step,                    \
                          "refuse or withdraw a request (--reason required)"),                     \
        PMOCTL_ALLOC_CMD ("alloc", "release", "ID", pmoctl_allocator_flags_step,                   \
                          "end an allocation: its hours are free at once"),                        \
        PMOCTL_ALLOC_CMD ("alloc", "reshape", "ID", pmoctl_allocator_flags_reshape,                \
                          "change weeks or hours (a commitment only shrinks)"),                    \
        PMOCTL_ALLOC_CMD ("alloc", "get", "ID", NULL, "show an allocation and its history"),       \
        PMOCTL_ALLOC_CMD ("alloc", "list", NULL, pmoctl_allocator_flags_alloc_list,                \
                          "list allocations by project, resource, unit, state"),                   \
        PMOCTL_ALLOC_CMD ("alloc", "match", NULL, pmoctl_allocator_flags_match,                    \
                          "rank candidates for a role/skill, with why (books nothing)"),           \
        PMOCTL_ALLOC_CMD ("capacity", "view", NULL, pmoctl_allocator_flags_capacity,               \
                          "capacity and demand per skill and week (the heatmap)"),                 \
        PMOCTL_ALLOC_CMD ("capacity", "utilisation", NULL, pmoctl_allocator_flags_capacity,        \
                          "the utilisation table of a unit: a row per resource"),                  \
        PMOCTL_ALLOC_CMD ("conflicts", NULL, NULL, pmoctl_allocator_flags_conflicts,               \
                          "over-allocated resources, and whose claim prevails")

const pmoctl_command_t pmoctl_allocator_commands[] = {
    PMOCTL_ALLOCATOR_COMMANDS,
    PMOCTL_END,
};
