/*  pmoctl_xdiv.c: cross-division resource requests between stacks.

    foreign request|list|get: a row each in the table at the end, run by
    pmoctl_run_call. A project of this stack asks another division for a
    person (named, or by role/skill, matched there); the request goes
    through the hub, the owning division books it by its own rules, and its
    decision comes back here. In one stack the owning division is here too
    and the booking is made at once, by the same rules. The allocator is
    reached at $PMO_ALLOCATOR_ENDPOINT.
*/
#include "pmoctl.h"

#include "allocator.pb-c.h"
#include "pmo_json.h"
#include "pmo_reflect.h"
#include "pmo_wire.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

//  The allocation request's fields (the division is the request's own)
static const pmoctl_flag_t s_request_flags[] = {
    JSTR ("project", "ID|CODE", "project_id", PMOCTL_REQUIRED, "the project asking"),
    JSTR ("resource", "ID", "resource_id", 0,
          "a named resource of the other division (its id names it)"),
    F ("division", "DIV", 0, "the owning division (required with --role/--skill)"),
    JSTR ("role", "ROLE", "role", 0, "the role wanted"),
    JSTR ("skill", "NAME", "skill", 0, "the skill wanted"),
    JINT ("min-level", "N", "min_level", 0, 0, 5, "minimum skill level 1-5"),
    JINT ("hours", "HOURS", "hours_per_week", PMOCTL_REQUIRED, 1, 168, "hours per week, 1-168"),
    JSTR ("start", "WEEK", "start_week", PMOCTL_REQUIRED, "first ISO week, e.g. 2026-W14"),
    JSTR ("end", "WEEK", "end_week", 0, "last ISO week (default: --start)"),
    JSTR ("note", "TEXT", "note", 0, "what the person is wanted for"),
    END,
};

static const pmoctl_flag_t s_list_flags[] = {
    JSTR ("project", "ID|CODE", "project_id", 0, "only this project's"),
    JSTR ("division", "DIV", "target_division", 0, "only those asked of this division"),
    JSTR ("state", "requested|proposed|committed|released|rejected", "state", 0,
          "only in this state"),
    JINT ("limit", "N", "limit", 0, 1, 500, "at most N (default 50, at most 500)"),
    JSTR ("cursor", "CURSOR", "cursor", 0, "the page after this cursor"),
    END,
};

//  ---------------------------------------------------------------------
//  Requests

static int s_build_request (pmoctl_t *ctl, const pmoctl_command_t *cmd, pmoctl_args_t *args,
                            pmoctl_request_t *request)
{
    if (!pmoctl_args_get (args, "resource") && !pmoctl_args_get (args, "division"))
        return pmoctl_usage_error (cmd, "give --resource, or --division with --role/--skill");
    pmoctl_json_str (request->body, args, "division", "division");
    json_t *rq = json_object ();
    json_object_set_new (request->body, "request", rq);
    return pmoctl_args_json (cmd, args, rq);
}

static int s_build_get (pmoctl_t *ctl, const pmoctl_command_t *cmd, pmoctl_args_t *args,
                        pmoctl_request_t *request)
{
    json_object_set_new (request->body, "id", json_string (args->positional));
    return 0;
}

//  ---------------------------------------------------------------------
//  Output

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

static int s_show_request (pmoctl_t *ctl, const pmoctl_command_t *cmd, pmoctl_args_t *args,
                           ProtobufCMessage *msg)
{
    const Pmo__AllocatorReply *reply = (const Pmo__AllocatorReply *)msg;
    if (reply->body_case == PMO__ALLOCATOR_REPLY__BODY_FOREIGN)
        s_print (ctl, reply->foreign);
    else if (reply->allocation) {
        //  One stack: booked here at once by the owning unit's rules
        const Pmo__Allocation *a = reply->allocation;
        printf ("booked in this stack: %s %s in %s%s\n", a->id, s_state (ctl, a->state),
                a->division,
                pmo_str_empty (a->resource_id)
                    ? " (nobody fits yet: unfilled demand)"
                    : pmo_arena_printf (ctl->arena, ", %s %s", a->resource_name, a->resource_id));
        if (!pmo_str_empty (reply->approval_needed))
            printf ("approval needed: %s\n(pmoctl alloc commit %s --approve)\n",
                    reply->approval_needed, a->id);
    }
    return PMOCTL_OK;
}

static int s_show_foreign (pmoctl_t *ctl, const pmoctl_command_t *cmd, pmoctl_args_t *args,
                           ProtobufCMessage *msg)
{
    s_print (ctl, ((const Pmo__AllocatorReply *)msg)->foreign);
    return PMOCTL_OK;
}

static int s_show_list (pmoctl_t *ctl, const pmoctl_command_t *cmd, pmoctl_args_t *args,
                        ProtobufCMessage *msg)
{
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
    const Pmo__ForeignPage *page = ((const Pmo__AllocatorReply *)msg)->foreigns;
    pmoctl_print_items (ctl, &page->base, "foreigns", cols);
    if (!pmo_str_empty (page->next_cursor))
        printf ("more: --cursor %s\n", page->next_cursor);
    return PMOCTL_OK;
}

//  ---------------------------------------------------------------------
//  The commands: group, verb, ID, flags, request member, builder (NULL:
//  the flags' fields), printer, what --json prints (NULL: the reply)

#define CALL(...) PMOCTL_CALL (PMOCTL_ALLOCATOR, __VA_ARGS__)

const pmoctl_command_t pmoctl_xdiv_commands[] = {
    CALL ("foreign", "request", NULL, s_request_flags, "request_foreign", s_build_request,
          s_show_request, NULL,
          "ask another division (another stack, through the hub) for a resource"),
    CALL ("foreign", "list", NULL, s_list_flags, "list_foreign", NULL, s_show_list, "foreigns",
          "this stack's foreign requests and where each stands"),
    CALL ("foreign", "get", "ID", NULL, "get_foreign", s_build_get, s_show_foreign, "foreign",
          "a foreign request: the owning division's booking and who decided"),
    PMOCTL_END,
};
