/*  registry_gates.c: phases and gates, milestones and status reports.

    A project moves to its next phase through a gate. What the gate asks
    depends on the PMO type in force at the project's unit: a supportive
    PMO warns, a controlling one requires artifacts, a directive one a
    recorded decision by an approver (registry_gate_evaluate).
*/
#include "registry_internal.h"

#include "pmo_reflect.h"

#include <string.h>

//  ---------------------------------------------------------------------
//  Phases and gates

int registry_gate_context (registry_t *self, pmo_request_t *req, Pmo__Project *project,
                           Pmo__PmoType *type, Pmo__Policy **policy)
{
    Pmo__OrgUnit **chain;
    size_t n;
    if (registry_chain (self, req, project->org_unit_path, &chain, &n))
        return -1;
    *type = registry_effective_type (chain, n);
    *policy = registry_effective_policy (chain, n, req->arena);
    return 0;
}

char *registry_join (pmo_arena_t *arena, char **items, size_t n)
{
    size_t len = 1;
    for (size_t i = 0; i < n; i++)
        len += strlen (items[i]) + 2;
    char *out = pmo_arena_alloc (arena, len);
    for (size_t i = 0; i < n; i++) {
        if (i)
            strcat (out, ", ");
        strcat (out, items[i]);
    }
    return out;
}

bool registry_next_phase_ok (pmo_request_t *req, Pmo__Project *project, Pmo__Phase to,
                             const char *field)
{
    Pmo__Phase next = registry_next_phase (project->phase);
    if (project->archived) {
        FAIL (req, FAILED_PRECONDITION, field, "project %s is archived", project->id);
        return false;
    }
    if (project->status == PMO__PROJECT_STATUS__PROJECT_STATUS_CANCELLED) {
        FAIL (req, FAILED_PRECONDITION, field, "project %s was stopped (cancelled)", project->id);
        return false;
    }
    if (to != next || next == PMO__PHASE__PHASE_UNSPECIFIED) {
        FAIL (req, FAILED_PRECONDITION, field, "project %s is in %s; the next gate leads into %s",
              project->id, registry_phase_name (project->phase),
              next ? registry_phase_name (next) : "nothing (it is closed)");
        return false;
    }
    return true;
}

static void s_enter_phase (Pmo__Project *project, Pmo__Phase to)
{
    project->phase = to;
    if (to == PMO__PHASE__PHASE_CLOSED)
        project->status = PMO__PROJECT_STATUS__PROJECT_STATUS_COMPLETED;
    else if (to == PMO__PHASE__PHASE_EXECUTION &&
             (project->status == PMO__PROJECT_STATUS__PROJECT_STATUS_PROPOSED ||
              project->status == PMO__PROJECT_STATUS__PROJECT_STATUS_APPROVED))
        project->status = PMO__PROJECT_STATUS__PROJECT_STATUS_ACTIVE;
}

void registry_handle_change_phase (registry_t *self, pmo_request_t *req,
                                   Pmo__PhaseChangeRequest *change)
{
    uint64_t version;
    Pmo__Project *project =
        registry_fetch_project (self, req, change->project_id, "change_phase.project_id", &version);
    if (!project || !registry_may (req, REGISTRY_WRITE_PROJECT, project->org_unit_path,
                                   "change project phases"))
        return;
    if (registry_replayed (self, req, project->division))
        return;
    if (!pmo_request_version_matches (req, "version", "project", change->version, version) ||
        !registry_next_phase_ok (req, project, change->to_phase, "change_phase.to_phase"))
        return;
    Pmo__PmoType type;
    Pmo__Policy *policy;
    if (registry_gate_context (self, req, project, &type, &policy))
        return;
    registry_gate_t gate;
    registry_gate_evaluate (type, policy, project, change->to_phase, req->arena, &gate);
    const char *into = registry_phase_name (change->to_phase);
    switch (gate.verdict) {
    case REGISTRY_GATE_NEEDS_DECISION:
        return (void)FAIL (req, FAILED_PRECONDITION, "change_phase.to_phase",
                           "a directive PMO governs %s: the gate into %s needs a recorded "
                           "decision by an approver (ask for it with request_gate)",
                           project->org_unit_path, into);
    case REGISTRY_GATE_MISSING:
        registry_reply (req)->missing_artifacts = gate.missing;
        registry_reply (req)->n_missing_artifacts = gate.n_missing;
        return (void)FAIL (req, FAILED_PRECONDITION, "change_phase.to_phase",
                           "a controlling PMO requires these artifacts before the gate into "
                           "%s: %s (or an approver's waiver: request_gate)",
                           into, registry_join (req->arena, gate.missing, gate.n_missing));
    case REGISTRY_GATE_ALLOW_WARN:
        registry_warn (
            req,
            pmo_arena_printf (req->arena, "gate into %s: missing %s (supportive PMO: advice only)",
                              into, registry_join (req->arena, gate.missing, gate.n_missing)));
        registry_reply (req)->missing_artifacts = gate.missing;
        registry_reply (req)->n_missing_artifacts = gate.n_missing;
        break;
    case REGISTRY_GATE_ALLOW:
        break;
    }
    Pmo__Project *stored = (Pmo__Project *)pmo_reflect_copy (&project->base, req->arena);
    s_enter_phase (project, change->to_phase);
    //  Passing the gate closes a request for it (registry_gate_requests.c)
    project->gate_request = NULL;
    registry_stamp_update (req, &project->base, &stored->base, version);
    pmo_commit_t *commit =
        registry_store_commit (self->store, project->division, req->header->request_id);
    registry_store_put (self->store, commit, req->arena, project->division, &project->base,
                        version);
    if (stored->gate_request)
        registry_store_gate_pending (self->store, commit, req->arena, project->division,
                                     project->id, NULL);
    Pmo__Event *event = registry_event (req, "project.phase_changed", project->division,
                                        project->org_unit, project->org_unit_path, &project->base);
    registry_set_reply (req, &project->base);
    registry_commit (self, req, commit, project->division, event);
}

void registry_handle_decide_gate (registry_t *self, pmo_request_t *req,
                                  Pmo__GateDecisionRequest *decide)
{
    uint64_t version;
    Pmo__Project *project =
        registry_fetch_project (self, req, decide->project_id, "decide_gate.project_id", &version);
    if (!project)
        return;
    //  A retry is answered before the checks below: the first attempt has
    //  changed the project's version and phase.
    if (registry_replayed (self, req, project->division))
        return;
    if (decide->outcome == PMO__GATE_OUTCOME__GATE_OUTCOME_UNSPECIFIED)
        return (void)FAIL (req, INVALID, "decide_gate.outcome",
                           "outcome is required: go, conditional_go, hold, recycle or stop");
    if (pmo_str_empty (decide->rationale) || strlen (decide->rationale) > 10000 ||
        !pmo_text_valid (decide->rationale))
        return (void)FAIL (req, INVALID, "decide_gate.rationale",
                           "rationale is required (why the gate decided this), up to 10000 "
                           "characters");
    if (decide->outcome == PMO__GATE_OUTCOME__GATE_OUTCOME_CONDITIONAL_GO &&
        pmo_str_empty (decide->conditions))
        return (void)FAIL (req, INVALID, "decide_gate.conditions",
                           "a conditional go states its conditions");
    if (decide->conditions && strlen (decide->conditions) > 10000)
        return (void)FAIL (req, INVALID, "decide_gate.conditions",
                           "conditions are at most 10000 characters");
    if (!pmo_request_version_matches (req, "version", "project", decide->version, version) ||
        !registry_next_phase_ok (req, project, decide->to_phase, "decide_gate.to_phase"))
        return;
    Pmo__PmoType type;
    Pmo__Policy *policy;
    if (registry_gate_context (self, req, project, &type, &policy))
        return;
    registry_gate_t gate;
    registry_gate_evaluate (type, policy, project, decide->to_phase, req->arena, &gate);
    Pmo__Role role =
        registry_gate_approver (pmo_request_who (req), project->org_unit_path, gate.gate);
    const char *into = registry_phase_name (decide->to_phase);
    if (role == PMO__ROLE__ROLE_UNSPECIFIED)
        return (void)FAIL (req, FORBIDDEN, "decide_gate",
                           "%s is not an approver of the gate into %s for '%s'",
                           pmo_request_who (req)->subject, into, project->org_unit_path);
    bool go = decide->outcome == PMO__GATE_OUTCOME__GATE_OUTCOME_GO ||
              decide->outcome == PMO__GATE_OUTCOME__GATE_OUTCOME_CONDITIONAL_GO;
    //  Artifacts still missing after the waivers
    char **unwaived = pmo_arena_alloc (req->arena, (gate.n_missing + 1) * sizeof (char *));
    size_t n_unwaived = 0;
    for (size_t i = 0; i < gate.n_missing; i++) {
        bool waived = false;
        for (size_t w = 0; w < decide->n_waived_artifacts; w++)
            waived = waived || strcmp (decide->waived_artifacts[w], gate.missing[i]) == 0;
        if (!waived)
            unwaived[n_unwaived++] = gate.missing[i];
    }
    if (go && n_unwaived && type != PMO__PMO_TYPE__PMO_TYPE_SUPPORTIVE &&
        type != PMO__PMO_TYPE__PMO_TYPE_NONE) {
        registry_reply (req)->missing_artifacts = unwaived;
        registry_reply (req)->n_missing_artifacts = n_unwaived;
        return (void)FAIL (req, FAILED_PRECONDITION, "decide_gate.waived_artifacts",
                           "the gate into %s requires %s: provide them or waive them in the "
                           "decision",
                           into, registry_join (req->arena, unwaived, n_unwaived));
    }
    if (go && n_unwaived)
        registry_warn (req,
                       pmo_arena_printf (req->arena, "gate into %s: missing %s (advice only)", into,
                                         registry_join (req->arena, unwaived, n_unwaived)));
    const registry_kind_t *kind = registry_kind (PMO__ENTITY_KIND__ENTITY_KIND_GATE_DECISION);
    char *id;
    uint64_t seq;
    if (registry_store_next_id (self->store, req->arena, kind, project->division, &id, &seq))
        return registry_unavailable (req);
    Pmo__GateDecision *decision = pmo_arena_alloc (req->arena, sizeof (Pmo__GateDecision));
    pmo__gate_decision__init (decision);
    decision->id = id;
    decision->project_id = project->id;
    decision->from_phase = project->phase;
    decision->to_phase = decide->to_phase;
    decision->outcome = decide->outcome;
    decision->decided_by = pmo_request_who (req)->subject;
    decision->decided_as = role;
    decision->decided_ms = pmo_now_ms ();
    decision->rationale = decide->rationale;
    decision->waived_artifacts = decide->waived_artifacts;
    decision->n_waived_artifacts = decide->n_waived_artifacts;
    decision->conditions = decide->conditions;
    decision->version = 1;
    //  The decision closes the pending request for this gate
    decision->request = project->gate_request;
    project->gate_request = NULL;

    Pmo__Project *stored = (Pmo__Project *)pmo_reflect_copy (&project->base, req->arena);
    if (go)
        s_enter_phase (project, decide->to_phase);
    else if (decide->outcome == PMO__GATE_OUTCOME__GATE_OUTCOME_STOP)
        project->status = PMO__PROJECT_STATUS__PROJECT_STATUS_CANCELLED;
    else if (decide->outcome == PMO__GATE_OUTCOME__GATE_OUTCOME_HOLD)
        project->status = PMO__PROJECT_STATUS__PROJECT_STATUS_ON_HOLD;
    //  Every decision bumps the project's version: the decision is part of
    //  its record, and a stale reader must not miss it.
    registry_stamp_update (req, &project->base, &stored->base, version);

    pmo_commit_t *commit =
        registry_store_commit (self->store, project->division, req->header->request_id);
    registry_store_put (self->store, commit, req->arena, project->division, &decision->base, 0);
    registry_store_index (self->store, commit, req->arena, kind, project->division, project->id, id,
                          true);
    registry_store_put (self->store, commit, req->arena, project->division, &project->base,
                        version);
    if (decision->request)
        registry_store_gate_pending (self->store, commit, req->arena, project->division,
                                     project->id, NULL);
    Pmo__Event *event = registry_event (req, "project.gate_decided", project->division,
                                        project->org_unit, project->org_unit_path, &project->base);
    event->gate = decision;
    event->actor_role = role;
    registry_set_reply (req, &decision->base);
    registry_reply (req)->moved_project = project;
    registry_commit (self, req, commit, project->division, event);
}

//  ---------------------------------------------------------------------
//  Milestones and status reports

void registry_handle_create_child (registry_t *self, pmo_request_t *req, ProtobufCMessage *msg,
                                   const char *field)
{
    const registry_kind_t *kind = registry_kind_of (msg->descriptor);
    Pmo__Project *project =
        registry_fetch_project (self, req, pmo_reflect_str (msg, "project_id"),
                                pmo_arena_printf (req->arena, "%s.project_id", field), NULL);
    if (!project || !registry_may (req, REGISTRY_WRITE_PROJECT, project->org_unit_path,
                                   pmo_arena_printf (req->arena, "add %ss", kind->name)))
        return;
    if (project->archived)
        return (void)FAIL (req, FAILED_PRECONDITION,
                           pmo_arena_printf (req->arena, "%s.project_id", field),
                           "project %s is archived", project->id);
    if (registry_replayed (self, req, project->division))
        return;
    char *id;
    uint64_t seq;
    if (registry_store_next_id (self->store, req->arena, kind, project->division, &id, &seq))
        return registry_unavailable (req);
    registry_stamp_new (req, msg, id);
    const char *type = "milestone.created";
    if (kind->kind == PMO__ENTITY_KIND__ENTITY_KIND_STATUS_REPORT) {
        ((Pmo__StatusReport *)msg)->author = pmo_request_who (req)->subject;
        type = "status_report.submitted";
    }
    pmo_commit_t *commit =
        registry_store_commit (self->store, project->division, req->header->request_id);
    registry_store_put (self->store, commit, req->arena, project->division, msg, 0);
    registry_store_index (self->store, commit, req->arena, kind, project->division, project->id, id,
                          true);
    Pmo__Event *event = registry_event (req, type, project->division, project->org_unit,
                                        project->org_unit_path, msg);
    registry_set_reply (req, msg);
    registry_commit (self, req, commit, project->division, event);
}

void registry_handle_update_milestone (registry_t *self, pmo_request_t *req, Pmo__Milestone *next)
{
    uint64_t version;
    Pmo__Milestone *stored = (Pmo__Milestone *)registry_fetch (
        self, req, registry_kind (PMO__ENTITY_KIND__ENTITY_KIND_MILESTONE), next->id,
        "update_milestone.id", &version);
    if (!stored)
        return;
    //  A milestone of a project the caller may not see is not found as a
    //  milestone: naming its project would tell which project it is of
    Pmo__Project *project = (Pmo__Project *)registry_fetch (
        self, req, registry_kind (PMO__ENTITY_KIND__ENTITY_KIND_PROJECT), stored->project_id,
        "update_milestone.id", NULL);
    if (project && !registry_allowed (pmo_request_who (req), REGISTRY_READ, project->org_unit_path))
        return (void)FAIL (req, NOT_FOUND, "update_milestone.id", "no milestone with id '%.64s'",
                           next->id);
    if (!project ||
        !registry_may (req, REGISTRY_WRITE_PROJECT, project->org_unit_path, "change milestones"))
        return;
    if (registry_replayed (self, req, project->division))
        return;
    if (strcmp (next->project_id ? next->project_id : "", stored->project_id) != 0)
        return (void)FAIL (req, INVALID, "update_milestone.project_id",
                           "a milestone stays with its project");
    pmo_problem_t problem;
    if (registry_check_milestone (next, &problem))
        return pmo_request_fail_problem (req, &problem, "update_milestone");
    if (!pmo_request_version_matches (req, "version", "milestone", next->version, version))
        return;
    registry_stamp_update (req, &next->base, &stored->base, version);
    pmo_commit_t *commit =
        registry_store_commit (self->store, project->division, req->header->request_id);
    registry_store_put (self->store, commit, req->arena, project->division, &next->base, version);
    Pmo__Event *event = registry_event (req, "milestone.updated", project->division,
                                        project->org_unit, project->org_unit_path, &next->base);
    registry_set_reply (req, &next->base);
    registry_commit (self, req, commit, project->division, event);
}
