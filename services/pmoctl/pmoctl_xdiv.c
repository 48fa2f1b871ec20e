/*  pmoctl_xdiv.c: cross-division resource requests between stacks.

    foreign request|list|get. A project of this stack asks another
    division for a person (named, or by role/skill, matched there); the
    request goes through the hub, the owning division books it by its own
    rules, and its decision comes back here. In one stack the owning
    division is here too and the booking is made at once, by the same rules.
    The allocator is reached at $PMO_ALLOCATOR_ENDPOINT (default
    tcp://127.0.0.1:7102).
*/
#include "pmoctl.h"

#include "allocator.pb-c.h"
#include "pmo_json.h"
#include "pmo_reflect.h"
#include "pmo_wire.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static const pmoctl_flag_t pmoctl_xdiv_flags_request[] = {
    F ("project", "ID", PMOCTL_REQUIRED, "the project asking (its id)"),
    F ("resource", "ID", 0, "a named resource of the other division (its id names it)"),
    F ("division", "DIV", 0, "the owning division (required with --role/--skill)"),
    F ("role", "ROLE", 0, "the role wanted"),
    F ("skill", "NAME", 0, "the skill wanted"),
    F ("min-level", "N", 0, "minimum skill level 1-5"),
    F ("hours", "HOURS", PMOCTL_REQUIRED, "hours per week, 1-168"),
    F ("start", "WEEK", PMOCTL_REQUIRED, "first ISO week, e.g. 2026-W14"),
    F ("end", "WEEK", 0, "last ISO week (default: --start)"),
    F ("note", "TEXT", 0, "what the person is wanted for"),
    END,
};

static const pmoctl_flag_t pmoctl_xdiv_flags_list[] = {
    F ("project", "ID", 0, "only this project's"),
    F ("division", "DIV", 0, "only those asked of this division"),
    F ("state", "requested|proposed|committed|released|rejected", 0, "only in this state"),
    F ("limit", "N", 0, "at most N (default 50, at most 500)"),
    F ("cursor", "CURSOR", 0, "the page after this cursor"),
    END,
};

//  Send body as the AllocatorRequest member; the reply in the arena, or
//  NULL after printing why (status set).
static Pmo__AllocatorReply *s_call (pmoctl_t *ctl, const char *member, json_t *body)
{
    return (Pmo__AllocatorReply *)pmoctl_service_call (ctl, PMOCTL_ALLOCATOR, member, body);
}

static const char *s_state (pmoctl_t *ctl, int state)
{
    return pmoctl_format_enum (ctl->arena, &pmo__allocation_state__descriptor, state);
}

//  Where the request stands, in a word or two.
static const char *s_standing (pmoctl_t *ctl, const Pmo__ForeignAllocation *f)
{
    switch (f->delivery) {
    case PMO__FOREIGN_DELIVERY__FOREIGN_DELIVERY_SENT:
        return "sent (on its way through the hub)";
    case PMO__FOREIGN_DELIVERY__FOREIGN_DELIVERY_REFUSED:
        return "refused";
    default:
        return pmo_arena_printf (ctl->arena, "%s in %s", s_state (ctl, f->state),
                                 f->target_division);
    }
}

static void s_print (pmoctl_t *ctl, const Pmo__ForeignAllocation *f)
{
    const Pmo__AllocationRequest *rq = f->request;
    printf ("id:        %s (version %llu)\n", f->id, (unsigned long long)f->version);
    printf ("state:     %s\n", s_standing (ctl, f));
    printf ("project:   %s %s (priority %u, %s)\n", f->project_code, f->project_id,
            f->project_priority, f->project_org_unit_path);
    printf ("asked of:  division %s, by %s at %s\n", f->target_division, f->requested_by,
            pmoctl_format_time (ctl->arena, f->created_ms, false));
    if (rq) {
        if (!pmo_str_empty (rq->resource_id))
            printf ("resource:  %s\n", rq->resource_id);
        else
            printf (
                "wanted:    %s%s%s%s\n", rq->role, *rq->role && *rq->skill ? " / " : "", rq->skill,
                rq->min_level ? pmo_arena_printf (ctl->arena, " level %u+", rq->min_level) : "");
        printf ("hours:     %u h/week, %s .. %s\n", rq->hours_per_week, rq->start_week,
                rq->end_week);
        if (!pmo_str_empty (rq->note))
            printf ("note:      %s\n", rq->note);
    }
    if (f->refusal)
        printf ("refused:   %s%s%s: %s\n", pmo_error_code_name (f->refusal->code),
                *f->refusal->field ? " " : "",
                *f->refusal->field ? pmo_arena_printf (ctl->arena, "[%s]", f->refusal->field) : "",
                f->refusal->message);
    const Pmo__Allocation *a = f->remote;
    if (!a)
        return;
    printf ("booking:   %s in %s (version %llu)\n", a->id, a->division,
            (unsigned long long)a->version);
    printf ("resource:  %s\n", pmo_str_empty (a->resource_id)
                                   ? "(nobody yet: unfilled demand there)"
                                   : pmo_arena_printf (ctl->arena, "%s %s (%s)", a->resource_name,
                                                       a->resource_id, a->resource_org_unit_path));
    printf ("history (in %s):\n", a->division);
    for (size_t i = 0; i < a->n_history; i++) {
        const Pmo__AllocationTransition *t = a->history[i];
        printf ("  %s  %-9s -> %-9s by %s%s%s%s\n",
                pmoctl_format_time (ctl->arena, t->time_ms, false), s_state (ctl, t->from_state),
                s_state (ctl, t->to_state), t->actor, t->approved ? " approved" : "",
                *t->reason ? ": " : "", t->reason);
        for (size_t w = 0; w < t->n_warnings; w++)
            printf ("      warning: %s\n", t->warnings[w]);
    }
}

static const char *s_cell_state (pmoctl_t *ctl, const ProtobufCMessage *msg)
{
    return s_standing (ctl, (const Pmo__ForeignAllocation *)msg);
}

static const char *s_cell_asked (pmoctl_t *ctl, const ProtobufCMessage *msg)
{
    const Pmo__AllocationRequest *rq = ((const Pmo__ForeignAllocation *)msg)->request;
    if (!rq)
        return "";
    return pmo_str_empty (rq->resource_id)
               ? pmo_arena_printf (ctl->arena, "%s%s%s", rq->role,
                                   *rq->role && *rq->skill ? "/" : "", rq->skill)
               : rq->resource_id;
}

static const char *s_cell_who (pmoctl_t *ctl, const ProtobufCMessage *msg)
{
    const Pmo__Allocation *a = ((const Pmo__ForeignAllocation *)msg)->remote;
    (void)ctl;
    return a && !pmo_str_empty (a->resource_name) ? a->resource_name : "";
}

static const char *s_cell_weeks (pmoctl_t *ctl, const ProtobufCMessage *msg)
{
    const Pmo__AllocationRequest *rq = ((const Pmo__ForeignAllocation *)msg)->request;
    return rq ? pmo_arena_printf (ctl->arena, "%u h %s..%s", rq->hours_per_week, rq->start_week,
                                  rq->end_week)
              : "";
}

static int pmoctl_run_xdiv (pmoctl_t *ctl, const pmoctl_command_t *cmd, pmoctl_args_t *args)
{
    const char *verb = cmd->verb ? cmd->verb : "";
    json_t *body = json_object ();
    Pmo__AllocatorReply *reply = NULL;
    int rc = PMOCTL_OK;
    if (strcmp (verb, "request") == 0) {
        json_t *rq = json_object ();
        pmoctl_json_str (rq, args, "project", "project_id");
        pmoctl_json_str (rq, args, "resource", "resource_id");
        pmoctl_json_str (rq, args, "role", "role");
        pmoctl_json_str (rq, args, "skill", "skill");
        pmoctl_json_str (rq, args, "start", "start_week");
        pmoctl_json_str (rq, args, "end", "end_week");
        pmoctl_json_str (rq, args, "note", "note");
        pmoctl_json_str (body, args, "division", "division");
        if (!pmoctl_args_get (args, "resource") && !pmoctl_args_get (args, "division"))
            rc = pmoctl_usage_error (cmd, "give --resource, or --division with --role/--skill");
        else if (!(rc = pmoctl_json_int (rq, cmd, args, "min-level", "min_level", 0, 5)) &&
                 !(rc = pmoctl_json_int (rq, cmd, args, "hours", "hours_per_week", 1, 168))) {
            json_object_set_new (body, "request", rq);
            rq = NULL;
            reply = s_call (ctl, "request_foreign", body);
            if (!reply)
                rc = ctl->status;
            else if (ctl->json)
                rc = pmoctl_print_json (&reply->base);
            else if (reply->body_case == PMO__ALLOCATOR_REPLY__BODY_FOREIGN)
                s_print (ctl, reply->foreign);
            else if (reply->allocation) {
                //  One stack: booked here at once by the owning unit's rules
                const Pmo__Allocation *a = reply->allocation;
                printf ("booked in this stack: %s %s in %s%s\n", a->id, s_state (ctl, a->state),
                        a->division,
                        pmo_str_empty (a->resource_id)
                            ? " (nobody fits yet: unfilled demand)"
                            : pmo_arena_printf (ctl->arena, ", %s %s", a->resource_name,
                                                a->resource_id));
                if (!pmo_str_empty (reply->approval_needed))
                    printf ("approval needed: %s\n(pmoctl alloc commit %s --approve)\n",
                            reply->approval_needed, a->id);
            }
        }
        json_decref (rq);
    } else if (strcmp (verb, "get") == 0) {
        json_object_set_new (body, "id", json_string (args->positional));
        reply = s_call (ctl, "get_foreign", body);
        if (!reply)
            rc = ctl->status;
        else if (ctl->json)
            rc = pmoctl_print_json (&reply->foreign->base);
        else
            s_print (ctl, reply->foreign);
    } else if (strcmp (verb, "list") == 0) {
        pmoctl_json_str (body, args, "project", "project_id");
        pmoctl_json_str (body, args, "division", "target_division");
        pmoctl_json_str (body, args, "state", "state");
        pmoctl_json_str (body, args, "cursor", "cursor");
        if (!(rc = pmoctl_json_int (body, cmd, args, "limit", "limit", 1, 500))) {
            reply = s_call (ctl, "list_foreign", body);
            if (!reply)
                rc = ctl->status;
            else if (ctl->json)
                rc = pmoctl_print_json (&reply->foreigns->base);
            else {
                static const pmoctl_column_t cols[] = {
                    {"ID", "id", 0, NULL},
                    {"PROJECT", "project_code", 16, NULL},
                    {"OF", "target_division", 0, NULL},
                    {"ASKED", NULL, 24, s_cell_asked},
                    {"WEEKS", NULL, 0, s_cell_weeks},
                    {"STATE", NULL, 0, s_cell_state},
                    {"WHO", NULL, 24, s_cell_who},
                    {NULL, NULL, 0, NULL},
                };
                pmoctl_table_t *table = pmoctl_table_new (ctl->arena, cols);
                for (size_t i = 0; i < reply->foreigns->n_foreigns; i++)
                    pmoctl_table_add_message (ctl, table, &reply->foreigns->foreigns[i]->base);
                pmoctl_table_print (table, stdout);
                if (!pmo_str_empty (reply->foreigns->next_cursor))
                    printf ("more: --cursor %s\n", reply->foreigns->next_cursor);
            }
        }
    }
    json_decref (body);
    return rc;
}

//  ---------------------------------------------------------------------
//  The commands

#define PMOCTL_XDIV_CMD(verb, pos, flags, summary)                                                 \
    PMOCTL_RUN ("foreign", verb, pos, flags, PMOCTL_MODE_OTHER, pmoctl_run_xdiv, NULL, NULL,       \
                summary)

//  The entries of the command table
#define PMOCTL_XDIV_COMMANDS                                                                       \
    PMOCTL_XDIV_CMD ("request", NULL, pmoctl_xdiv_flags_request,                                   \
                     "ask another division (another stack, through the hub) for a resource"),      \
        PMOCTL_XDIV_CMD ("list", NULL, pmoctl_xdiv_flags_list,                                     \
                         "this stack's foreign requests and where each stands"),                   \
        PMOCTL_XDIV_CMD ("get", "ID", NULL,                                                        \
                         "a foreign request: the owning division's booking and who decided")

const pmoctl_command_t pmoctl_xdiv_commands[] = {
    PMOCTL_XDIV_COMMANDS,
    PMOCTL_END,
};
