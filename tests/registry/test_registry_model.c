/*  test_registry_model.c: the registry's domain rules without I/O: who may
    do what, id parsing, policy inheritance and loosening, and what a gate
    allows under each PMO type.
*/
#include "registry_model.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

static Pmo__Identity *s_who (Pmo__Grant *grants, size_t n, Pmo__Grant **ptrs)
{
    static Pmo__Identity who;
    pmo__identity__init (&who);
    who.subject = "someone";
    for (size_t i = 0; i < n; i++)
        ptrs[i] = &grants[i];
    who.grants = ptrs;
    who.n_grants = n;
    return &who;
}

static void s_test_access (void)
{
    Pmo__Grant grants[2] = {PMO__GRANT__INIT, PMO__GRANT__INIT};
    Pmo__Grant *ptrs[2];
    grants[0].role = PMO__ROLE__ROLE_PMO_MANAGER;
    grants[0].org_unit = "dft";
    Pmo__Identity *who = s_who (grants, 1, ptrs);
    assert (pmo_path_contains ("hub/dft/dft-rail", "dft"));
    assert (!pmo_path_contains ("hub/dft-rail", "dft"));
    assert (!pmo_path_contains ("hub/dftx", "dft"));
    assert (registry_allowed (who, REGISTRY_READ, "hub/dft"));
    assert (registry_allowed (who, REGISTRY_WRITE_PROJECT, "hub/dft/dft-rail"));
    assert (!registry_allowed (who, REGISTRY_READ, "hub"));
    assert (!registry_allowed (who, REGISTRY_READ, "hub/ops"));
    //  Runs units below the division, not the division itself
    assert (registry_allowed (who, REGISTRY_ADMIN_ORG, "hub/dft/dft-rail"));
    assert (!registry_allowed (who, REGISTRY_ADMIN_ORG, "hub/dft"));
    //  Viewers and sponsors read only; a project manager cannot run org units
    grants[0].role = PMO__ROLE__ROLE_VIEWER;
    assert (registry_allowed (who, REGISTRY_READ, "hub/dft"));
    assert (!registry_allowed (who, REGISTRY_WRITE_PROJECT, "hub/dft"));
    grants[0].role = PMO__ROLE__ROLE_PROJECT_MANAGER;
    assert (registry_allowed (who, REGISTRY_WRITE_PROJECT, "hub/dft"));
    assert (!registry_allowed (who, REGISTRY_WRITE_PORTFOLIO, "hub/dft"));
    assert (!registry_allowed (who, REGISTRY_ADMIN_ORG, "hub/dft/x"));
    //  Two grants: the union
    grants[1].role = PMO__ROLE__ROLE_PMO_DIRECTOR;
    grants[1].org_unit = "ops";
    who = s_who (grants, 2, ptrs);
    assert (registry_allowed (who, REGISTRY_ADMIN_ORG, "hub/ops"));
    assert (!registry_allowed (who, REGISTRY_ADMIN_ORG, "hub/dft/x"));
    assert (!registry_allowed (NULL, REGISTRY_READ, "hub"));

    //  Gate approvers: the gate's roles, or the defaults
    Pmo__GateRequirement gate = PMO__GATE_REQUIREMENT__INIT;
    grants[0].role = PMO__ROLE__ROLE_SPONSOR;
    grants[0].org_unit = "dft";
    who = s_who (grants, 1, ptrs);
    assert (registry_gate_approver (who, "hub/dft/x", NULL) == PMO__ROLE__ROLE_SPONSOR);
    assert (registry_gate_approver (who, "hub/ops", NULL) == PMO__ROLE__ROLE_UNSPECIFIED);
    Pmo__Role only_director[] = {PMO__ROLE__ROLE_PMO_DIRECTOR};
    gate.approver_roles = only_director;
    gate.n_approver_roles = 1;
    assert (registry_gate_approver (who, "hub/dft", &gate) == PMO__ROLE__ROLE_UNSPECIFIED);
    printf ("access: ok\n");
}

static void s_test_ids (void)
{
    char division[40];
    assert (pmo_id_division ("pr_dft_42", "pr", division, sizeof division) == 0);
    assert (streq (division, "dft"));
    assert (pmo_id_division ("pr_dft-rail_7", "pr", division, sizeof division) == 0);
    assert (streq (division, "dft-rail"));
    assert (pmo_id_division ("pf_dft_1", "pr", division, sizeof division) == -1);
    assert (pmo_id_division ("pr_dft_", "pr", division, sizeof division) == -1);
    assert (pmo_id_division ("pr__1", "pr", division, sizeof division) == -1);
    assert (pmo_id_division ("pr_DFT_1", "pr", division, sizeof division) == -1);
    assert (pmo_id_division ("pr_dft_1x", "pr", division, sizeof division) == -1);
    assert (pmo_id_division (NULL, "pr", division, sizeof division) == -1);
    printf ("ids: ok\n");
}

static Pmo__OrgUnit s_unit (const char *id, Pmo__PmoType type, Pmo__Policy *policy)
{
    Pmo__OrgUnit unit = PMO__ORG_UNIT__INIT;
    unit.id = (char *)id;
    unit.pmo_type = type;
    unit.policy = policy;
    return unit;
}

static void s_test_policy (void)
{
    pmo_arena_t *arena = pmo_arena_new ();
    char *charter[] = {"charter"};
    char *case_[] = {"business_case", "charter"};
    Pmo__GateRequirement hub_gate = PMO__GATE_REQUIREMENT__INIT;
    hub_gate.phase = PMO__PHASE__PHASE_PLANNING;
    hub_gate.artifacts = charter;
    hub_gate.n_artifacts = 1;
    Pmo__GateRequirement *hub_gates[] = {&hub_gate};
    Pmo__Policy hub_policy = PMO__POLICY__INIT;
    hub_policy.reporting_period_days = 14;
    hub_policy.gates = hub_gates;
    hub_policy.n_gates = 1;
    Pmo__GateRequirement div_gate = PMO__GATE_REQUIREMENT__INIT;
    div_gate.phase = PMO__PHASE__PHASE_PLANNING;
    div_gate.artifacts = case_;
    div_gate.n_artifacts = 2;
    Pmo__GateRequirement *div_gates[] = {&div_gate};
    Pmo__Policy div_policy = PMO__POLICY__INIT;
    div_policy.gates = div_gates;
    div_policy.n_gates = 1;

    //  Under a controlling hub, the division adds to the hub's gate
    Pmo__OrgUnit hub = s_unit ("hub", PMO__PMO_TYPE__PMO_TYPE_CONTROLLING, &hub_policy);
    Pmo__OrgUnit div = s_unit ("dft", PMO__PMO_TYPE__PMO_TYPE_NONE, &div_policy);
    Pmo__OrgUnit *chain[] = {&hub, &div};
    Pmo__Policy *policy = registry_effective_policy (chain, 2, arena);
    assert (policy->reporting_period_days == 14);
    const Pmo__GateRequirement *gate = registry_gate_for (policy, PMO__PHASE__PHASE_PLANNING);
    assert (gate && gate->n_artifacts == 2); //  charter once, business case added
    assert (registry_effective_type (chain, 2) == PMO__PMO_TYPE__PMO_TYPE_CONTROLLING);
    //  Under a supportive hub, the division replaces it
    hub.pmo_type = PMO__PMO_TYPE__PMO_TYPE_SUPPORTIVE;
    char *only_case[] = {"business_case"};
    div_gate.artifacts = only_case;
    div_gate.n_artifacts = 1;
    policy = registry_effective_policy (chain, 2, arena);
    gate = registry_gate_for (policy, PMO__PHASE__PHASE_PLANNING);
    assert (gate->n_artifacts == 1 && streq (gate->artifacts[0], "business_case"));

    //  Loosening the reporting period
    pmo_problem_t problem;
    Pmo__Policy slow = PMO__POLICY__INIT;
    slow.reporting_period_days = 30;
    Pmo__OrgUnit child = s_unit ("x", PMO__PMO_TYPE__PMO_TYPE_SUPPORTIVE, &slow);
    Pmo__OrgUnit *ancestors[] = {&hub};
    assert (registry_check_policy (ancestors, 1, &child, &problem) == 0); //  supportive hub
    hub.pmo_type = PMO__PMO_TYPE__PMO_TYPE_DIRECTIVE;
    assert (registry_check_policy (ancestors, 1, &child, &problem) == -1);
    assert (problem.code == PMO__ERROR_CODE__ERROR_FAILED_PRECONDITION);
    assert (streq (problem.field, "policy.reporting_period_days"));
    slow.reporting_period_days = 7; //  tightening is always fine
    assert (registry_check_policy (ancestors, 1, &child, &problem) == 0);
    pmo_arena_destroy (&arena);
    printf ("policy: ok\n");
}

static void s_test_gates (void)
{
    pmo_arena_t *arena = pmo_arena_new ();
    char *needed[] = {"charter", "business_case"};
    Pmo__GateRequirement gate = PMO__GATE_REQUIREMENT__INIT;
    gate.phase = PMO__PHASE__PHASE_PLANNING;
    gate.artifacts = needed;
    gate.n_artifacts = 2;
    Pmo__GateRequirement *gates[] = {&gate};
    Pmo__Policy policy = PMO__POLICY__INIT;
    policy.gates = gates;
    policy.n_gates = 1;
    char *have[] = {"charter"};
    Pmo__Project project = PMO__PROJECT__INIT;
    project.phase = PMO__PHASE__PHASE_INITIATION;
    project.artifacts = have;
    project.n_artifacts = 1;
    registry_gate_t verdict;
    registry_gate_evaluate (PMO__PMO_TYPE__PMO_TYPE_SUPPORTIVE, &policy, &project,
                            PMO__PHASE__PHASE_PLANNING, arena, &verdict);
    assert (verdict.verdict == REGISTRY_GATE_ALLOW_WARN && verdict.n_missing == 1);
    assert (streq (verdict.missing[0], "business_case"));
    registry_gate_evaluate (PMO__PMO_TYPE__PMO_TYPE_CONTROLLING, &policy, &project,
                            PMO__PHASE__PHASE_PLANNING, arena, &verdict);
    assert (verdict.verdict == REGISTRY_GATE_MISSING);
    registry_gate_evaluate (PMO__PMO_TYPE__PMO_TYPE_DIRECTIVE, &policy, &project,
                            PMO__PHASE__PHASE_PLANNING, arena, &verdict);
    assert (verdict.verdict == REGISTRY_GATE_NEEDS_DECISION);
    //  No requirement for that gate: allowed, even when controlling
    registry_gate_evaluate (PMO__PMO_TYPE__PMO_TYPE_CONTROLLING, &policy, &project,
                            PMO__PHASE__PHASE_EXECUTION, arena, &verdict);
    assert (verdict.verdict == REGISTRY_GATE_ALLOW && verdict.gate == NULL);
    assert (registry_next_phase (PMO__PHASE__PHASE_CLOSING) == PMO__PHASE__PHASE_CLOSED);
    assert (registry_next_phase (PMO__PHASE__PHASE_CLOSED) == PMO__PHASE__PHASE_UNSPECIFIED);
    pmo_arena_destroy (&arena);
    printf ("gates: ok\n");
}

static void s_test_validation (void)
{
    pmo_problem_t problem;
    Pmo__Project project = PMO__PROJECT__INIT;
    project.code = "FIN-2026-014";
    project.name = "Ledger";
    project.org_unit = "fin";
    assert (registry_check_project (&project, &problem) == 0);
    project.code = "has space";
    assert (registry_check_project (&project, &problem) == -1 && streq (problem.field, "code"));
    project.code = "FIN-2026-014";
    project.strategic_score = 101;
    assert (registry_check_project (&project, &problem) == -1);
    assert (streq (problem.field, "strategic_score"));
    project.strategic_score = 50;
    project.forecast_finish = "2026-02-29";
    assert (registry_check_project (&project, &problem) == -1);
    assert (streq (problem.field, "forecast_finish"));
    project.forecast_finish = "";
    //  Amounts: not negative, within 2^53, an ISO 4217 currency; the field
    //  is named only when one is wrong
    Pmo__Money baseline = PMO__MONEY__INIT, forecast = PMO__MONEY__INIT;
    baseline.minor = 125000;
    baseline.currency = "GBP";
    forecast.minor = 130000;
    forecast.currency = "GBP";
    Pmo__Budget budget = PMO__BUDGET__INIT;
    budget.baseline = &baseline;
    budget.forecast = &forecast;
    project.budget = &budget;
    assert (registry_check_project (&project, &problem) == 0);
    forecast.minor = -1;
    assert (registry_check_project (&project, &problem) == -1);
    assert (streq (problem.field, "budget.forecast.minor"));
    assert (streq (problem.message, "budget.forecast.minor must not be negative"));
    forecast.minor = ((int64_t)1 << 53) + 1;
    assert (registry_check_project (&project, &problem) == -1);
    assert (streq (problem.message, "budget.forecast.minor is out of range"));
    forecast.minor = (int64_t)1 << 53;
    assert (registry_check_project (&project, &problem) == 0);
    baseline.currency = "gbp";
    assert (registry_check_project (&project, &problem) == -1);
    assert (streq (problem.field, "budget.baseline.currency"));
    assert (strstr (problem.message, "budget.baseline.currency must be an ISO 4217 code"));
    project.budget = NULL;
    //  Gate artifacts with a link: the link is a URL, each name once
    Pmo__ArtifactRecord charter = PMO__ARTIFACT_RECORD__INIT, plan = PMO__ARTIFACT_RECORD__INIT;
    charter.name = "charter";
    charter.link = "https://docs.example.org/charter.pdf";
    plan.name = "plan";
    plan.link = "";
    Pmo__ArtifactRecord *records[] = {&charter, &plan};
    project.artifact_records = records;
    project.n_artifact_records = 2;
    assert (registry_check_project (&project, &problem) == 0);
    charter.link = "ftp://docs/charter";
    assert (registry_check_project (&project, &problem) == -1);
    assert (streq (problem.field, "artifact_records[0].link"));
    charter.link = "https://docs.example.org/a charter.pdf";
    assert (registry_check_project (&project, &problem) == -1);
    assert (streq (problem.field, "artifact_records[0].link"));
    charter.link = "https://docs.example.org/charter.pdf";
    plan.name = "charter";
    assert (registry_check_project (&project, &problem) == -1);
    assert (streq (problem.field, "artifact_records[1].name"));
    plan.name = "plan";
    //  Stamped by the registry: new ones now, unchanged ones keep theirs,
    //  a changed link is stamped again; every name joins artifacts
    charter.recorded_by = "forged";
    pmo_arena_t *arena = pmo_arena_new ();
    registry_stamp_artifacts (&project, NULL, "pm@fin", 1000, arena);
    assert (streq (charter.recorded_by, "pm@fin") && charter.recorded_ms == 1000);
    assert (project.n_artifacts == 2 && streq (project.artifacts[0], "charter"));
    Pmo__Project next = project;
    Pmo__ArtifactRecord charter2 = charter, plan2 = plan;
    plan2.link = "https://docs.example.org/plan-v2";
    Pmo__ArtifactRecord *records2[] = {&charter2, &plan2};
    next.artifact_records = records2;
    registry_stamp_artifacts (&next, &project, "director@hub", 2000, arena);
    assert (streq (charter2.recorded_by, "pm@fin") && charter2.recorded_ms == 1000);
    assert (streq (plan2.recorded_by, "director@hub") && plan2.recorded_ms == 2000);
    assert (next.n_artifacts == 2);
    pmo_arena_destroy (&arena);
    project.artifact_records = NULL;
    project.n_artifact_records = 0;
    project.artifacts = NULL;
    project.n_artifacts = 0;

    Pmo__OrgUnit unit = PMO__ORG_UNIT__INIT;
    unit.id = "fin";
    unit.name = "Finance";
    unit.kind = PMO__ORG_UNIT_KIND__ORG_UNIT_KIND_DIVISION;
    unit.parent = "hub";
    assert (registry_check_org_unit (&unit, &problem) == 0);
    unit.pmo_tier = PMO__PMO_TIER__PMO_TIER_SPOKE;
    assert (registry_check_org_unit (&unit, &problem) == -1 && streq (problem.field, "pmo_tier"));
    unit.pmo_type = PMO__PMO_TYPE__PMO_TYPE_CONTROLLING;
    assert (registry_check_org_unit (&unit, &problem) == 0);
    Pmo__GateRequirement initiation = PMO__GATE_REQUIREMENT__INIT;
    initiation.phase = PMO__PHASE__PHASE_INITIATION;
    Pmo__GateRequirement *gates[] = {&initiation};
    Pmo__Policy policy = PMO__POLICY__INIT;
    policy.gates = gates;
    policy.n_gates = 1;
    unit.policy = &policy;
    assert (registry_check_org_unit (&unit, &problem) == -1);
    assert (streq (problem.field, "policy.gates[0].phase"));

    Pmo__StatusReport report = PMO__STATUS_REPORT__INIT;
    report.project_id = "pr_fin_1";
    report.period_end = "2026-06-30";
    report.overall = PMO__RAG__RAG_RED;
    assert (registry_check_status_report (&report, &problem) == 0);
    report.ev_minor = -1;
    assert (registry_check_status_report (&report, &problem) == -1);
    assert (streq (problem.field, "ev_minor"));
    printf ("validation: ok\n");
}

int main (void)
{
    s_test_access ();
    s_test_ids ();
    s_test_policy ();
    s_test_gates ();
    s_test_validation ();
    printf ("test_registry_model: ok\n");
    return 0;
}
