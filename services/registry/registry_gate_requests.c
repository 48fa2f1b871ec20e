/*  registry_gate_requests.c: pending gate requests, what waits on a gate's
    approvers.

    A project manager asks for the gate into the project's next phase
    (request_gate). The request lives on the project record (gate_request)
    and in the division's pending-gates index until one commit closes it:
    the gate's decision (decide_gate, registry_gates.c), the requester's
    withdrawal (withdraw_gate), or a change_phase that passes the gate.
    pending_gates lists them for the people who may see them, or only for
    those who may decide them.
*/
#include "registry_internal.h"

#include "pmo_reflect.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define NOTE_MAX     2000
#define PENDING_MAX  500
#define PENDING_DEF  50
#define PENDING_SCAN 2000 //  requests read from one division for one page at most

//  Write project (read at version) with its event; the pending-gates index
//  follows project->gate_request.
static void s_commit (registry_t *self, pmo_request_t *req, Pmo__Project *project, uint64_t version,
                      const char *type, Pmo__GateRequest *request)
{
    registry_stamp_update (req, &project->base, &project->base, version);
    pmo_commit_t *commit =
        registry_store_commit (self->store, project->division, req->header->request_id);
    registry_store_put (self->store, commit, req->arena, project->division, &project->base,
                        version);
    registry_store_gate_pending (self->store, commit, req->arena, project->division, project->id,
                                 project->gate_request);
    Pmo__Event *event = registry_event (req, type, project->division, project->org_unit,
                                        project->org_unit_path, &project->base);
    event->gate_request = request;
    registry_set_reply (req, &project->base);
    registry_commit (self, req, commit, project->division, event);
}

void registry_handle_request_gate (registry_t *self, pmo_request_t *req,
                                   Pmo__GateRequestRequest *ask)
{
    uint64_t version;
    Pmo__Project *project =
        registry_fetch_project (self, req, ask->project_id, "request_gate.project_id", &version);
    if (!project ||
        !registry_may (req, REGISTRY_WRITE_PROJECT, project->org_unit_path, "request gates"))
        return;
    //  A retry is answered before the checks below: the first attempt has
    //  changed the project's version and made the request pending
    if (registry_replayed (self, req, project->division))
        return;
    if (ask->note && (strlen (ask->note) > NOTE_MAX || !pmo_text_valid (ask->note)))
        return (void)FAIL (req, INVALID, "request_gate.note",
                           "note is text of at most %d characters, without control characters",
                           NOTE_MAX);
    if (!pmo_request_version_matches (req, "version", "project", ask->version, version) ||
        !registry_next_phase_ok (req, project, ask->to_phase, "request_gate.to_phase"))
        return;
    const char *into = registry_phase_name (ask->to_phase);
    if (project->gate_request)
        return (void)FAIL (req, FAILED_PRECONDITION, "request_gate.to_phase",
                           "the gate into %s was already requested by %s; it waits for a "
                           "decision, or for its requester to withdraw it",
                           into, project->gate_request->requested_by);
    Pmo__PmoType type;
    Pmo__Policy *policy;
    if (registry_gate_context (self, req, project, &type, &policy))
        return;
    registry_gate_t gate;
    registry_gate_evaluate (type, policy, project, ask->to_phase, req->arena, &gate);

    Pmo__GateRequest *request = pmo_arena_alloc (req->arena, sizeof (Pmo__GateRequest));
    pmo__gate_request__init (request);
    request->from_phase = project->phase;
    request->to_phase = ask->to_phase;
    request->requested_by = pmo_request_who (req)->subject;
    request->requested_ms = pmo_now_ms ();
    request->note = pmo_str_empty (ask->note) ? "" : ask->note;
    request->pmo_type = type;
    size_t required = gate.gate ? gate.gate->n_artifacts : 0;
    request->artifacts_present = pmo_arena_alloc (req->arena, (required + 1) * sizeof (char *));
    for (size_t i = 0; i < required; i++) {
        bool missing = false;
        for (size_t m = 0; m < gate.n_missing; m++)
            missing = missing || strcmp (gate.missing[m], gate.gate->artifacts[i]) == 0;
        if (!missing)
            request->artifacts_present[request->n_artifacts_present++] = gate.gate->artifacts[i];
    }
    request->artifacts_missing = gate.missing;
    request->n_artifacts_missing = gate.n_missing;
    const Pmo__Role *roles;
    request->n_approver_roles = registry_gate_approver_roles (gate.gate, &roles);
    request->approver_roles =
        pmo_arena_alloc (req->arena, request->n_approver_roles * sizeof (Pmo__Role));
    memcpy (request->approver_roles, roles, request->n_approver_roles * sizeof (Pmo__Role));
    if (gate.n_missing)
        registry_warn (req,
                       pmo_arena_printf (req->arena, "gate into %s: missing %s", into,
                                         registry_join (req->arena, gate.missing, gate.n_missing)));
    project->gate_request = request;
    s_commit (self, req, project, version, "project.gate_requested", request);
}

void registry_handle_withdraw_gate (registry_t *self, pmo_request_t *req,
                                    Pmo__GateWithdrawRequest *withdraw)
{
    uint64_t version;
    Pmo__Project *project = registry_fetch_project (self, req, withdraw->project_id,
                                                    "withdraw_gate.project_id", &version);
    if (!project || !registry_may (req, REGISTRY_WRITE_PROJECT, project->org_unit_path,
                                   "withdraw gate requests"))
        return;
    if (registry_replayed (self, req, project->division))
        return;
    Pmo__GateRequest *request = project->gate_request;
    if (!request)
        return (void)FAIL (req, FAILED_PRECONDITION, "withdraw_gate.project_id",
                           "project %s has no pending gate request", project->id);
    if (strcmp (request->requested_by, pmo_request_who (req)->subject) != 0)
        return (void)FAIL (req, FORBIDDEN, "withdraw_gate",
                           "only %s, who requested the gate into %s, may withdraw the request",
                           request->requested_by, registry_phase_name (request->to_phase));
    if (!pmo_request_version_matches (req, "version", "project", withdraw->version, version))
        return;
    project->gate_request = NULL;
    s_commit (self, req, project, version, "project.gate_withdrawn", request);
}

//  ---------------------------------------------------------------------
//  Listing

//  The chain of org units from the root to path's last unit, from the
//  units already read (in arena); 0 units if one is missing.
static size_t s_chain (Pmo__OrgUnit **units, size_t n_units, const char *path, pmo_arena_t *arena,
                       Pmo__OrgUnit ***chain)
{
    char *copy = pmo_arena_strdup (arena, path);
    *chain = pmo_arena_alloc (arena, 64 * sizeof (Pmo__OrgUnit *));
    size_t n = 0;
    char *save = NULL;
    for (char *part = strtok_r (copy, "/", &save); part && n < 64;
         part = strtok_r (NULL, "/", &save)) {
        Pmo__OrgUnit *unit = NULL;
        for (size_t i = 0; i < n_units && !unit; i++)
            if (strcmp (units[i]->id, part) == 0)
                unit = units[i];
        if (!unit)
            return 0;
        (*chain)[n++] = unit;
    }
    return n;
}

//  True if the pending request on project belongs in the answer.
static bool s_pending_match (pmo_request_t *req, const Pmo__PendingGatesRequest *ask,
                             Pmo__OrgUnit **units, size_t n_units, const Pmo__Project *project)
{
    if (!project || project->archived || !project->gate_request)
        return false;
    const Pmo__Identity *who = pmo_request_who (req);
    if (!registry_allowed (who, REGISTRY_READ, project->org_unit_path))
        return false;
    if (!pmo_str_empty (ask->org_unit) &&
        !pmo_path_contains (project->org_unit_path, ask->org_unit))
        return false;
    if (!ask->to_decide)
        return true;
    //  The approvers of the gate as the policy in force says now
    Pmo__OrgUnit **chain;
    size_t n = s_chain (units, n_units, project->org_unit_path, req->arena, &chain);
    Pmo__Policy *policy = n ? registry_effective_policy (chain, n, req->arena) : NULL;
    const Pmo__GateRequirement *gate = registry_gate_for (policy, project->gate_request->to_phase);
    return registry_gate_approver (who, project->org_unit_path, gate) !=
           PMO__ROLE__ROLE_UNSPECIFIED;
}

//  One pending request in the listing: where it is (the time it was asked,
//  its index score, then the project's id) and its record.
typedef struct {
    double asked_ms;
    char *id;
    Pmo__Project *project;
} s_pending_t;

static int s_pending_compare (const void *a, const void *b)
{
    const s_pending_t *x = a, *y = b;
    if (x->asked_ms != y->asked_ms)
        return x->asked_ms < y->asked_ms ? -1 : 1;
    return strcmp (x->id, y->id);
}

//  From each division the caller may read, its pending requests asked at
//  or after from_ms (oldest first, at most PENDING_SCAN of each), into
//  *list. *horizon: the newest time every division was read up to (a
//  division cut at PENDING_SCAN was read no further than its last). 0, or
//  -1 after failing req.
static int s_pending_collect (registry_t *self, pmo_request_t *req, Pmo__OrgUnit **units,
                              size_t n_units, double from_ms, s_pending_t **list, size_t *n,
                              double *horizon)
{
    *list = NULL;
    *n = 0;
    *horizon = INFINITY;
    size_t room = 0;
    //  Each division once; a division none of whose units the caller may
    //  read is not looked at
    for (size_t i = 0; i < n_units; i++) {
        const char *division = units[i]->division;
        bool seen = false, readable = false;
        for (size_t k = 0; k < i && !seen; k++)
            seen = strcmp (units[k]->division, division) == 0;
        for (size_t k = i; k < n_units && !seen && !readable; k++)
            readable = strcmp (units[k]->division, division) == 0 &&
                       registry_allowed (pmo_request_who (req), REGISTRY_READ, units[k]->path);
        if (seen || !readable)
            continue;
        char **ids;
        double *scores;
        size_t got;
        //  Scores are whole milliseconds: after from_ms - 1 is from from_ms
        if (registry_store_gates_page (self->store, req->arena, division, from_ms - 1, PENDING_SCAN,
                                       &ids, &scores, &got)) {
            registry_unavailable (req);
            return -1;
        }
        if (got == PENDING_SCAN && scores[got - 1] < *horizon)
            *horizon = scores[got - 1];
        if (*n + got > room) {
            room = (*n + got) * 2;
            s_pending_t *grown = pmo_arena_alloc (req->arena, room * sizeof (s_pending_t));
            if (*n)
                memcpy (grown, *list, *n * sizeof (s_pending_t));
            *list = grown;
        }
        for (size_t k = 0; k < got; k++)
            (*list)[(*n)++] = (s_pending_t){.asked_ms = scores[k], .id = ids[k]};
    }
    if (*n == 0)
        return 0;
    qsort (*list, *n, sizeof (s_pending_t), s_pending_compare);
    char **ids = pmo_arena_alloc (req->arena, *n * sizeof (char *));
    ProtobufCMessage **msgs = pmo_arena_alloc (req->arena, *n * sizeof (void *));
    for (size_t k = 0; k < *n; k++)
        ids[k] = (*list)[k].id;
    if (registry_store_read_many (self->store, req->arena,
                                  registry_kind (PMO__ENTITY_KIND__ENTITY_KIND_PROJECT), ids, *n,
                                  msgs)) {
        registry_unavailable (req);
        return -1;
    }
    for (size_t k = 0; k < *n; k++)
        (*list)[k].project = (Pmo__Project *)msgs[k];
    return 0;
}

void registry_handle_pending_gates (registry_t *self, pmo_request_t *req,
                                    Pmo__PendingGatesRequest *ask)
{
    if (ask->limit > PENDING_MAX)
        return (void)FAIL (req, INVALID, "pending_gates.limit", "limit is at most %d", PENDING_MAX);
    size_t limit = ask->limit ? ask->limit : PENDING_DEF;
    Pmo__Page *page = pmo_arena_alloc (req->arena, sizeof (Pmo__Page));
    pmo__page__init (page);
    pmo_reflect_set_oneof (req->reply, "page", &page->base);
    Pmo__OrgUnit **units;
    size_t n_units;
    if (registry_store_org_units (self->store, req->arena, &units, &n_units))
        return registry_unavailable (req);
    if (!pmo_str_empty (ask->project_id)) {
        Pmo__Project *project =
            registry_fetch_project (self, req, ask->project_id, "pending_gates.project_id", NULL);
        if (project && s_pending_match (req, ask, units, n_units, project))
            pmo_reflect_append (&page->base, "projects", &project->base, req->arena);
        return;
    }
    if (!pmo_str_empty (ask->org_unit)) {
        bool found = false;
        for (size_t i = 0; i < n_units; i++)
            found = found || strcmp (units[i]->id, ask->org_unit) == 0;
        if (!found)
            return (void)FAIL (req, NOT_FOUND, "pending_gates.org_unit", "no org unit '%.64s'",
                               ask->org_unit);
    }
    //  Cursor: "<ms>|<project id>", the place of the last request looked at
    s_pending_t after = {.asked_ms = -1, .id = ""};
    if (!pmo_str_empty (ask->cursor)) {
        const char *bar = strchr (ask->cursor, '|');
        char *end = NULL;
        long long ms = bar ? strtoll (ask->cursor, &end, 10) : -1;
        if (!bar || end != bar || ms < 0 || !bar[1] || strlen (bar + 1) > 40)
            return (void)FAIL (req, INVALID, "pending_gates.cursor",
                               "cursor is not one this service returned");
        after = (s_pending_t){.asked_ms = (double)ms, .id = (char *)bar + 1};
    }
    //  Every division's requests from the cursor's time, merged by the time
    //  they were asked
    s_pending_t *list;
    size_t n;
    double horizon;
    if (s_pending_collect (self, req, units, n_units, after.asked_ms < 0 ? 0 : after.asked_ms,
                           &list, &n, &horizon))
        return;
    const s_pending_t *last = NULL;
    for (size_t k = 0; k < n; k++) {
        if (s_pending_compare (&list[k], &after) <= 0)
            continue;
        //  Past what a division cut short was read to, or the page is full:
        //  the next page goes on from the last looked at
        if (list[k].asked_ms > horizon || page->n_projects == limit) {
            if (last)
                page->next_cursor =
                    pmo_arena_printf (req->arena, "%.0f|%s", last->asked_ms, last->id);
            return;
        }
        last = &list[k];
        if (s_pending_match (req, ask, units, n_units, list[k].project))
            pmo_reflect_append (&page->base, "projects", &list[k].project->base, req->arena);
    }
}
