/*  registry_model.c: the registry's domain rules, without I/O. */
#include "registry_model.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define INVALID PMO__ERROR_CODE__ERROR_INVALID

//  ---------------------------------------------------------------------
//  Who may do what

//  What each role may do in its subtree. Roles of the other services
//  (resource and risk managers) read the registry; they write elsewhere.
#define ALL_ACTIONS                                                                                \
    (REGISTRY_READ | REGISTRY_WRITE_PROJECT | REGISTRY_WRITE_PORTFOLIO | REGISTRY_ADMIN_ORG)
#define ROLE_ROWS(manager)                                                                         \
    [PMO__ROLE__ROLE_ADMIN] = ALL_ACTIONS, [PMO__ROLE__ROLE_PMO_DIRECTOR] = ALL_ACTIONS,           \
    [PMO__ROLE__ROLE_PMO_MANAGER] = (manager),                                                     \
    [PMO__ROLE__ROLE_PMO_ANALYST] =                                                                \
        REGISTRY_READ | REGISTRY_WRITE_PROJECT | REGISTRY_WRITE_PORTFOLIO,                         \
    [PMO__ROLE__ROLE_PROGRAMME_MANAGER] =                                                          \
        REGISTRY_READ | REGISTRY_WRITE_PROJECT | REGISTRY_WRITE_PORTFOLIO,                         \
    [PMO__ROLE__ROLE_PROJECT_MANAGER] = REGISTRY_READ | REGISTRY_WRITE_PROJECT,                    \
    [PMO__ROLE__ROLE_SPONSOR] = REGISTRY_READ, [PMO__ROLE__ROLE_RESOURCE_MANAGER] = REGISTRY_READ, \
    [PMO__ROLE__ROLE_RISK_MANAGER] = REGISTRY_READ, [PMO__ROLE__ROLE_TEAM_MEMBER] = REGISTRY_READ, \
    [PMO__ROLE__ROLE_VIEWER] = REGISTRY_READ

static const pmo_role_table_t s_roles = {.actions = {ROLE_ROWS (ALL_ACTIONS)}};

//  The same without a PMO manager's REGISTRY_ADMIN_ORG, and that grant
//  alone: registry_allowed checks it against the unit's parent.
static const pmo_role_table_t s_roles_but_manager = {
    .actions = {ROLE_ROWS (ALL_ACTIONS & ~REGISTRY_ADMIN_ORG)}};
static const pmo_role_table_t s_manager_admin = {
    .actions = {[PMO__ROLE__ROLE_PMO_MANAGER] = REGISTRY_ADMIN_ORG}};

const pmo_role_table_t *registry_roles (void)
{
    return &s_roles;
}

bool registry_allowed (const Pmo__Identity *who, registry_action_t action, const char *path)
{
    if (!who || !path)
        return false;
    if (action != REGISTRY_ADMIN_ORG)
        return pmo_access_allowed (who, &s_roles, action, path);
    if (pmo_access_allowed (who, &s_roles_but_manager, action, path))
        return true;
    //  A PMO manager runs a division's units, not the division itself: its
    //  grant must cover the unit's parent, i.e. sit strictly above the unit
    const char *slash = strrchr (path, '/');
    if (!slash)
        return false;
    size_t len = (size_t)(slash - path);
    char *parent = malloc (len + 1);
    assert (parent);
    memcpy (parent, path, len);
    parent[len] = 0;
    bool allowed = pmo_access_allowed (who, &s_manager_admin, action, parent);
    free (parent);
    return allowed;
}

size_t registry_gate_approver_roles (const Pmo__GateRequirement *gate, const Pmo__Role **roles)
{
    static const Pmo__Role defaults[] = {PMO__ROLE__ROLE_PMO_MANAGER, PMO__ROLE__ROLE_PMO_DIRECTOR,
                                         PMO__ROLE__ROLE_SPONSOR};
    if (gate && gate->n_approver_roles) {
        *roles = gate->approver_roles;
        return gate->n_approver_roles;
    }
    *roles = defaults;
    return sizeof defaults / sizeof defaults[0];
}

Pmo__Role registry_gate_approver (const Pmo__Identity *who, const char *path,
                                  const Pmo__GateRequirement *gate)
{
    const Pmo__Role *roles;
    size_t n = registry_gate_approver_roles (gate, &roles);
    for (size_t i = 0; i < who->n_grants; i++) {
        const Pmo__Grant *grant = who->grants[i];
        if (!pmo_path_contains (path, grant->org_unit))
            continue;
        if (grant->role == PMO__ROLE__ROLE_ADMIN)
            return grant->role;
        for (size_t r = 0; r < n; r++)
            if (roles[r] == grant->role)
                return grant->role;
    }
    return PMO__ROLE__ROLE_UNSPECIFIED;
}

//  ---------------------------------------------------------------------
//  Validation

static int s_date (const char *value, const char *field, bool required, pmo_problem_t *problem)
{
    if (pmo_str_empty (value))
        return required ? pmo_problem (problem, INVALID, field,
                                       "%s is required (a date as YYYY-MM-DD)", field)
                        : 0;
    if (!pmo_date_valid (value))
        return pmo_problem (problem, INVALID, field,
                            "%s '%.40s' is not a calendar date as YYYY-MM-DD", field, value);
    return 0;
}

//  A code people type: 1..32 of letters, digits and -_./
static int s_code (const char *value, const char *field, pmo_problem_t *problem)
{
    size_t len = value ? strlen (value) : 0;
    if (len == 0)
        return pmo_problem (problem, INVALID, field, "%s is required", field);
    if (len > 32)
        return pmo_problem (problem, INVALID, field, "%s is %zu characters; at most 32", field,
                            len);
    if (!pmo_code_valid (value))
        return pmo_problem (problem, INVALID, field,
                            "%s '%.40s' may hold only letters, digits and -_./", field, value);
    return 0;
}

static int s_money (const Pmo__Money *money, const char *field, pmo_problem_t *problem)
{
    if (!money)
        return 0;
    //  The field's name is written only for a problem (every valid
    //  project's amounts are checked)
    char name[96];
    if (money->minor < 0 || money->minor > (int64_t)1 << 53) {
        snprintf (name, sizeof name, "%s.minor", field);
        return pmo_problem (problem, INVALID, name,
                            money->minor < 0 ? "%s must not be negative" : "%s is out of range",
                            name);
    }
    const char *c = money->currency;
    if (!c || strlen (c) != 3 || c[0] < 'A' || c[0] > 'Z' || c[1] < 'A' || c[1] > 'Z' ||
        c[2] < 'A' || c[2] > 'Z') {
        snprintf (name, sizeof name, "%s.currency", field);
        return pmo_problem (problem, INVALID, name,
                            "%s must be an ISO 4217 code such as GBP, EUR or USD", name);
    }
    return 0;
}

static int s_artifact_list (char *const *items, size_t n, const char *field, pmo_problem_t *problem)
{
    if (n > 50)
        return pmo_problem (problem, INVALID, field, "%s has %zu entries; at most 50", field, n);
    for (size_t i = 0; i < n; i++) {
        char name[96];
        snprintf (name, sizeof name, "%s[%zu]", field, i);
        if (s_code (items[i], name, problem))
            return -1;
    }
    return 0;
}

//  A link to a document: empty, or an http(s) URL without spaces or
//  control characters, at most 1000 characters
static int s_link (const char *value, const char *field, pmo_problem_t *problem)
{
    size_t len = value ? strlen (value) : 0;
    if (len == 0)
        return 0;
    if (len > 1000)
        return pmo_problem (problem, INVALID, field, "%s is %zu characters; at most 1000", field,
                            len);
    if (strncmp (value, "https://", 8) != 0 && strncmp (value, "http://", 7) != 0)
        return pmo_problem (problem, INVALID, field,
                            "%s '%.60s' is not a link: it starts with https:// (or http://)", field,
                            value);
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)value[i] <= ' ' || value[i] == 0x7f)
            return pmo_problem (problem, INVALID, field,
                                "%s holds a space or a control character at %zu", field, i + 1);
    return 0;
}

static int s_policy (const Pmo__Policy *policy, pmo_problem_t *problem)
{
    if (!policy)
        return 0;
    if (policy->reporting_period_days > 366)
        return pmo_problem (problem, INVALID, "policy.reporting_period_days",
                            "policy.reporting_period_days must be 0 (inherit) to 366");
    if (policy->n_gates > 8)
        return pmo_problem (problem, INVALID, "policy.gates", "at most one gate per phase");
    for (size_t i = 0; i < policy->n_gates; i++) {
        const Pmo__GateRequirement *gate = policy->gates[i];
        char field[64];
        snprintf (field, sizeof field, "policy.gates[%zu].phase", i);
        if (gate->phase <= PMO__PHASE__PHASE_INITIATION)
            return pmo_problem (problem, INVALID, field,
                                "a gate leads into planning, execution, closing or closed");
        for (size_t j = 0; j < i; j++)
            if (policy->gates[j]->phase == gate->phase)
                return pmo_problem (problem, INVALID, field, "two gates into %s",
                                    registry_phase_name (gate->phase));
        snprintf (field, sizeof field, "policy.gates[%zu].artifacts", i);
        if (s_artifact_list (gate->artifacts, gate->n_artifacts, field, problem))
            return -1;
    }
    return 0;
}

int registry_check_org_unit (const Pmo__OrgUnit *unit, pmo_problem_t *problem)
{
    if (!pmo_slug_valid (unit->id, 2, 32))
        return pmo_problem (problem, INVALID, "id",
                            "id '%.40s' must be 2 to 32 of a-z, 0-9 and '-' (not first)",
                            unit->id ? unit->id : "");
    if (pmo_check_name (unit->name, "name", 1, 200, problem))
        return -1;
    if (unit->kind == PMO__ORG_UNIT_KIND__ORG_UNIT_KIND_UNSPECIFIED)
        return pmo_problem (problem, INVALID, "kind",
                            "kind is required: enterprise, division or department");
    bool root = unit->kind == PMO__ORG_UNIT_KIND__ORG_UNIT_KIND_ENTERPRISE;
    if (root && !pmo_str_empty (unit->parent))
        return pmo_problem (problem, INVALID, "parent", "the enterprise has no parent");
    if (!root && pmo_str_empty (unit->parent))
        return pmo_problem (
            problem, INVALID, "parent", "parent is required for a %s",
            unit->kind == PMO__ORG_UNIT_KIND__ORG_UNIT_KIND_DIVISION ? "division" : "department");
    if (unit->pmo_type == PMO__PMO_TYPE__PMO_TYPE_NONE &&
        unit->pmo_tier != PMO__PMO_TIER__PMO_TIER_NONE)
        return pmo_problem (problem, INVALID, "pmo_tier",
                            "only a PMO unit (pmo_type set) is a hub or a spoke");
    return s_policy (unit->policy, problem);
}

int registry_check_portfolio (const Pmo__Portfolio *portfolio, pmo_problem_t *problem)
{
    if (s_code (portfolio->code, "code", problem) ||
        pmo_check_name (portfolio->name, "name", 1, 200, problem) ||
        pmo_check_text (portfolio->description, "description", 0, 10000, problem) ||
        pmo_check_name (portfolio->owner, "owner", 0, 200, problem))
        return -1;
    if (pmo_str_empty (portfolio->org_unit))
        return pmo_problem (problem, INVALID, "org_unit", "org_unit is required");
    return 0;
}

int registry_check_programme (const Pmo__Programme *programme, pmo_problem_t *problem)
{
    if (s_code (programme->code, "code", problem) ||
        pmo_check_name (programme->name, "name", 1, 200, problem) ||
        pmo_check_text (programme->description, "description", 0, 10000, problem) ||
        pmo_check_name (programme->sponsor, "sponsor", 0, 200, problem) ||
        pmo_check_name (programme->manager, "manager", 0, 200, problem))
        return -1;
    if (pmo_str_empty (programme->org_unit))
        return pmo_problem (problem, INVALID, "org_unit", "org_unit is required");
    return 0;
}

int registry_check_project (const Pmo__Project *p, pmo_problem_t *problem)
{
    if (s_code (p->code, "code", problem) || pmo_check_name (p->name, "name", 1, 200, problem) ||
        pmo_check_text (p->description, "description", 0, 10000, problem) ||
        pmo_check_name (p->sponsor, "sponsor", 0, 200, problem) ||
        pmo_check_name (p->manager, "manager", 0, 200, problem) ||
        pmo_check_name (p->external_id, "external_id", 0, 128, problem))
        return -1;
    if (pmo_str_empty (p->org_unit))
        return pmo_problem (problem, INVALID, "org_unit", "org_unit is required");
    if (p->priority > 5)
        return pmo_problem (problem, INVALID, "priority",
                            "priority must be 1 (highest) to 5 (lowest), or 0 for the default 3");
    if (p->strategic_score > 100)
        return pmo_problem (problem, INVALID, "strategic_score",
                            "strategic_score must be 0 to 100");
    if (s_date (p->baseline_start, "baseline_start", false, problem) ||
        s_date (p->baseline_finish, "baseline_finish", false, problem) ||
        s_date (p->forecast_finish, "forecast_finish", false, problem))
        return -1;
    if (!pmo_str_empty (p->baseline_start) && !pmo_str_empty (p->baseline_finish) &&
        strcmp (p->baseline_start, p->baseline_finish) > 0)
        return pmo_problem (problem, INVALID, "baseline_finish",
                            "baseline_finish %s is before baseline_start %s", p->baseline_finish,
                            p->baseline_start);
    if (p->budget && (s_money (p->budget->baseline, "budget.baseline", problem) ||
                      s_money (p->budget->actual, "budget.actual", problem) ||
                      s_money (p->budget->forecast, "budget.forecast", problem)))
        return -1;
    if (p->benefits && (s_money (p->benefits->planned, "benefits.planned", problem) ||
                        s_money (p->benefits->realised, "benefits.realised", problem)))
        return -1;
    if (p->n_depends_on > 100)
        return pmo_problem (problem, INVALID, "depends_on", "at most 100 dependencies");
    for (size_t i = 0; i < p->n_depends_on; i++) {
        char field[48], division[40];
        snprintf (field, sizeof field, "depends_on[%zu]", i);
        if (pmo_id_division (p->depends_on[i], "pr", division, sizeof division))
            return pmo_problem (problem, INVALID, field, "'%.40s' is not a project id",
                                p->depends_on[i]);
        if (p->id && strcmp (p->depends_on[i], p->id) == 0)
            return pmo_problem (problem, INVALID, field, "a project cannot depend on itself");
    }
    if (s_artifact_list (p->artifacts, p->n_artifacts, "artifacts", problem))
        return -1;
    if (p->n_artifact_records > 50)
        return pmo_problem (problem, INVALID, "artifact_records",
                            "artifact_records has %zu entries; at most 50", p->n_artifact_records);
    for (size_t i = 0; i < p->n_artifact_records; i++) {
        const Pmo__ArtifactRecord *r = p->artifact_records[i];
        char field[64];
        snprintf (field, sizeof field, "artifact_records[%zu].name", i);
        if (s_code (r->name, field, problem))
            return -1;
        for (size_t j = 0; j < i; j++)
            if (strcmp (p->artifact_records[j]->name, r->name) == 0)
                return pmo_problem (problem, INVALID, field, "'%s' is recorded twice", r->name);
        snprintf (field, sizeof field, "artifact_records[%zu].link", i);
        if (s_link (r->link, field, problem))
            return -1;
    }
    return 0;
}

int registry_check_milestone (const Pmo__Milestone *m, pmo_problem_t *problem)
{
    if (pmo_str_empty (m->project_id))
        return pmo_problem (problem, INVALID, "project_id", "project_id is required");
    if (pmo_check_name (m->name, "name", 1, 200, problem) ||
        s_date (m->baseline_date, "baseline_date", true, problem) ||
        s_date (m->forecast_date, "forecast_date", false, problem) ||
        s_date (m->actual_date, "actual_date", false, problem))
        return -1;
    return 0;
}

int registry_check_status_report (const Pmo__StatusReport *r, pmo_problem_t *problem)
{
    if (pmo_str_empty (r->project_id))
        return pmo_problem (problem, INVALID, "project_id", "project_id is required");
    if (s_date (r->period_end, "period_end", true, problem) ||
        pmo_check_text (r->narrative, "narrative", 0, 20000, problem))
        return -1;
    if (r->percent_complete > 100)
        return pmo_problem (problem, INVALID, "percent_complete",
                            "percent_complete must be 0 to 100");
    if (r->pv_minor < 0 || r->ev_minor < 0 || r->ac_minor < 0)
        return pmo_problem (problem, INVALID,
                            r->pv_minor < 0   ? "pv_minor"
                            : r->ev_minor < 0 ? "ev_minor"
                                              : "ac_minor",
                            "earned-value figures must not be negative");
    if (!r->has_ac && r->ac_minor != 0)
        return pmo_problem (
            problem, INVALID, "has_ac",
            "ac_minor is set but has_ac is false; set has_ac to report actual cost");
    if (r->overall == PMO__RAG__RAG_UNSPECIFIED)
        return pmo_problem (problem, INVALID, "overall", "overall RAG is required");
    return 0;
}

//  ---------------------------------------------------------------------
//  Policies

Pmo__PmoType registry_effective_type (Pmo__OrgUnit *const *chain, size_t n)
{
    for (size_t i = n; i > 0; i--)
        if (chain[i - 1]->pmo_type != PMO__PMO_TYPE__PMO_TYPE_NONE)
            return chain[i - 1]->pmo_type;
    return PMO__PMO_TYPE__PMO_TYPE_NONE;
}

static bool s_has (char *const *items, size_t n, const char *value)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp (items[i], value) == 0)
            return true;
    return false;
}

Pmo__Policy *registry_effective_policy (Pmo__OrgUnit *const *chain, size_t n, pmo_arena_t *arena)
{
    Pmo__Policy *policy = pmo_arena_alloc (arena, sizeof (Pmo__Policy));
    pmo__policy__init (policy);
    //  At most one gate per phase after initiation
    Pmo__GateRequirement **gates = pmo_arena_alloc (arena, 8 * sizeof (void *));
    policy->gates = gates;
    for (size_t u = 0; u < n; u++) {
        const Pmo__Policy *own = chain[u]->policy;
        Pmo__PmoType above = registry_effective_type (chain, u);
        bool may_replace =
            above == PMO__PMO_TYPE__PMO_TYPE_NONE || above == PMO__PMO_TYPE__PMO_TYPE_SUPPORTIVE;
        if (!own)
            continue;
        if (own->reporting_period_days)
            policy->reporting_period_days = own->reporting_period_days;
        for (size_t g = 0; g < own->n_gates; g++) {
            const Pmo__GateRequirement *gate = own->gates[g];
            Pmo__GateRequirement *merged = NULL;
            for (size_t k = 0; k < policy->n_gates; k++)
                if (gates[k]->phase == gate->phase)
                    merged = gates[k];
            if (!merged) {
                if (policy->n_gates >= 8)
                    continue;
                merged = pmo_arena_alloc (arena, sizeof (Pmo__GateRequirement));
                pmo__gate_requirement__init (merged);
                merged->phase = gate->phase;
                gates[policy->n_gates++] = merged;
            } else if (may_replace) {
                merged->n_artifacts = 0;
                merged->n_approver_roles = 0;
            }
            char **artifacts = pmo_arena_alloc (
                arena, (merged->n_artifacts + gate->n_artifacts) * sizeof (char *) + 1);
            if (merged->n_artifacts)
                memcpy (artifacts, merged->artifacts, merged->n_artifacts * sizeof (char *));
            size_t na = merged->n_artifacts;
            for (size_t a = 0; a < gate->n_artifacts; a++)
                if (!s_has (artifacts, na, gate->artifacts[a]))
                    artifacts[na++] = pmo_arena_strdup (arena, gate->artifacts[a]);
            merged->artifacts = artifacts;
            merged->n_artifacts = na;
            if (gate->n_approver_roles) {
                Pmo__Role *roles =
                    pmo_arena_alloc (arena, (merged->n_approver_roles + gate->n_approver_roles) *
                                                sizeof (Pmo__Role));
                size_t nr = 0;
                for (size_t r = 0; r < merged->n_approver_roles; r++)
                    roles[nr++] = merged->approver_roles[r];
                for (size_t r = 0; r < gate->n_approver_roles; r++) {
                    bool seen = false;
                    for (size_t k = 0; k < nr; k++)
                        seen = seen || roles[k] == gate->approver_roles[r];
                    if (!seen)
                        roles[nr++] = gate->approver_roles[r];
                }
                merged->approver_roles = roles;
                merged->n_approver_roles = nr;
            }
        }
    }
    return policy;
}

int registry_check_policy (Pmo__OrgUnit *const *ancestors, size_t n, const Pmo__OrgUnit *unit,
                           pmo_problem_t *problem)
{
    Pmo__PmoType above = registry_effective_type (ancestors, n);
    if (above == PMO__PMO_TYPE__PMO_TYPE_NONE || above == PMO__PMO_TYPE__PMO_TYPE_SUPPORTIVE)
        return 0;
    uint32_t own = unit->policy ? unit->policy->reporting_period_days : 0;
    if (own) {
        Pmo__Policy inherited = PMO__POLICY__INIT;
        for (size_t i = n; i > 0; i--)
            if (ancestors[i - 1]->policy && ancestors[i - 1]->policy->reporting_period_days) {
                inherited.reporting_period_days = ancestors[i - 1]->policy->reporting_period_days;
                break;
            }
        if (inherited.reporting_period_days && own > inherited.reporting_period_days)
            return pmo_problem (
                problem, PMO__ERROR_CODE__ERROR_FAILED_PRECONDITION, "policy.reporting_period_days",
                "reporting every %u days loosens the inherited %u days under a "
                "%s PMO",
                own, inherited.reporting_period_days, registry_pmo_type_name (above));
    }
    return 0;
}

//  ---------------------------------------------------------------------
//  Gates

Pmo__Phase registry_next_phase (Pmo__Phase phase)
{
    switch (phase) {
    case PMO__PHASE__PHASE_INITIATION:
        return PMO__PHASE__PHASE_PLANNING;
    case PMO__PHASE__PHASE_PLANNING:
        return PMO__PHASE__PHASE_EXECUTION;
    case PMO__PHASE__PHASE_EXECUTION:
        return PMO__PHASE__PHASE_CLOSING;
    case PMO__PHASE__PHASE_CLOSING:
        return PMO__PHASE__PHASE_CLOSED;
    default:
        return PMO__PHASE__PHASE_UNSPECIFIED;
    }
}

const Pmo__GateRequirement *registry_gate_for (const Pmo__Policy *policy, Pmo__Phase phase)
{
    if (!policy)
        return NULL;
    for (size_t i = 0; i < policy->n_gates; i++)
        if (policy->gates[i]->phase == phase)
            return policy->gates[i];
    return NULL;
}

void registry_gate_evaluate (Pmo__PmoType type, const Pmo__Policy *policy,
                             const Pmo__Project *project, Pmo__Phase to, pmo_arena_t *arena,
                             registry_gate_t *out)
{
    memset (out, 0, sizeof *out);
    out->gate = registry_gate_for (policy, to);
    if (out->gate && out->gate->n_artifacts) {
        out->missing = pmo_arena_alloc (arena, out->gate->n_artifacts * sizeof (char *));
        for (size_t i = 0; i < out->gate->n_artifacts; i++)
            if (!s_has (project->artifacts, project->n_artifacts, out->gate->artifacts[i]))
                out->missing[out->n_missing++] = out->gate->artifacts[i];
    }
    if (type == PMO__PMO_TYPE__PMO_TYPE_DIRECTIVE)
        out->verdict = REGISTRY_GATE_NEEDS_DECISION;
    else if (out->n_missing == 0)
        out->verdict = REGISTRY_GATE_ALLOW;
    else if (type == PMO__PMO_TYPE__PMO_TYPE_CONTROLLING)
        out->verdict = REGISTRY_GATE_MISSING;
    else
        out->verdict = REGISTRY_GATE_ALLOW_WARN;
}

const char *registry_phase_name (Pmo__Phase phase)
{
    switch (phase) {
    case PMO__PHASE__PHASE_INITIATION:
        return "initiation";
    case PMO__PHASE__PHASE_PLANNING:
        return "planning";
    case PMO__PHASE__PHASE_EXECUTION:
        return "execution";
    case PMO__PHASE__PHASE_CLOSING:
        return "closing";
    case PMO__PHASE__PHASE_CLOSED:
        return "closed";
    default:
        return "unspecified";
    }
}

const char *registry_pmo_type_name (Pmo__PmoType type)
{
    switch (type) {
    case PMO__PMO_TYPE__PMO_TYPE_SUPPORTIVE:
        return "supportive";
    case PMO__PMO_TYPE__PMO_TYPE_CONTROLLING:
        return "controlling";
    case PMO__PMO_TYPE__PMO_TYPE_DIRECTIVE:
        return "directive";
    default:
        return "no";
    }
}

void registry_stamp_artifacts (Pmo__Project *next, const Pmo__Project *stored, const char *subject,
                               int64_t now, pmo_arena_t *arena)
{
    for (size_t i = 0; i < next->n_artifact_records; i++) {
        Pmo__ArtifactRecord *r = next->artifact_records[i];
        const Pmo__ArtifactRecord *before = NULL;
        for (size_t j = 0; stored && j < stored->n_artifact_records && !before; j++)
            if (strcmp (stored->artifact_records[j]->name, r->name) == 0)
                before = stored->artifact_records[j];
        if (before && strcmp (before->link, r->link) == 0) {
            r->recorded_by = before->recorded_by;
            r->recorded_ms = before->recorded_ms;
        } else {
            r->recorded_by = (char *)(subject ? subject : "");
            r->recorded_ms = now;
        }
        if (!s_has (next->artifacts, next->n_artifacts, r->name)) {
            char **grown = pmo_arena_alloc (arena, (next->n_artifacts + 1) * sizeof (char *));
            if (next->n_artifacts)
                memcpy (grown, next->artifacts, next->n_artifacts * sizeof (char *));
            grown[next->n_artifacts++] = r->name;
            next->artifacts = grown;
        }
    }
}
