/*  planner_scenarios.c: scenario requests: solve (and keep), the
    efficient frontier, get, compare side by side, and commit (which only
    proposes gate decisions: nothing in the registry changes).

    Candidates are the projects in the unit's subtree that are proposed,
    approved or active, as the registry has them now. A request may give
    its own candidates (costs, demand, values it wants to try); each must
    still be a project in that subtree, so a scenario never reaches into a
    division the caller may not see.
*/
#include "planner_internal.h"

#include "pmo_reflect.h"

#include <stdlib.h>
#include <string.h>

#define MAX_COMPARE 8
#define MAX_LIST    1000 //  scenarios listed per division (the newest)

static int s_month_index (const char *date)
{
    //  "YYYY-MM-DD" -> months since year 0
    if (!pmo_date_valid (date))
        return -1;
    return atoi (date) * 12 + atoi (date + 5) - 1;
}

static bool s_candidate_status (Pmo__ProjectStatus status)
{
    return status == PMO__PROJECT_STATUS__PROJECT_STATUS_PROPOSED ||
           status == PMO__PROJECT_STATUS__PROJECT_STATUS_APPROVED ||
           status == PMO__PROJECT_STATUS__PROJECT_STATUS_ACTIVE;
}

//  A candidate made from a project: its remaining baseline budget spread
//  evenly over its quarters from its start (or the scenario's, if it has
//  begun) to its finish; its value from the objective.
static Pmo__Candidate *s_from_project (pmo_request_t *req, const Pmo__ScenarioSpec *spec,
                                       const Pmo__Project *p, const Pmo__ProjectScore *score)
{
    Pmo__Candidate *c = pmo_arena_alloc (req->arena, sizeof *c);
    pmo__candidate__init (c);
    c->project_id = p->id;
    c->division = p->division;
    c->active = p->status == PMO__PROJECT_STATUS__PROJECT_STATUS_ACTIVE;
    c->depends_on = p->depends_on;
    c->n_depends_on = p->n_depends_on;
    c->mandatory = score && score->mandatory;
    int origin = s_month_index (spec->start);
    int start = s_month_index (p->baseline_start);
    int finish = s_month_index (p->baseline_finish);
    int first_q = start >= origin ? (start - origin) / 3 : 0;
    int last_q = finish >= origin ? (finish - origin) / 3 : first_q + 3;
    if (start < 0 || finish < 0 || last_q < first_q)
        last_q = first_q + 3;
    uint32_t horizon = spec->horizon_quarters ? spec->horizon_quarters : PLANNER_DEFAULT_HORIZON;
    if (first_q >= (int)horizon)
        first_q = (int)horizon - 1;
    c->start_quarter = (uint32_t)first_q;
    size_t quarters = (size_t)(last_q - first_q + 1);
    if (quarters > 40)
        quarters = 40;
    int64_t budget = 0;
    if (p->budget && p->budget->baseline) {
        budget = p->budget->baseline->minor;
        if (p->budget->actual && start < origin)
            budget -= p->budget->actual->minor; //  begun: what is left to spend
        if (budget < 0)
            budget = 0;
    }
    c->cost_by_quarter = pmo_arena_alloc (req->arena, quarters * sizeof (int64_t));
    c->n_cost_by_quarter = quarters;
    for (size_t k = 0; k < quarters; k++)
        c->cost_by_quarter[k] =
            budget / (int64_t)quarters + ((int64_t)k < budget % (int64_t)quarters);
    if (spec->objective == PMO__OBJECTIVE__OBJECTIVE_BENEFIT)
        c->value =
            p->benefits && p->benefits->planned ? (double)p->benefits->planned->minor / 100 : 0;
    else
        c->value = score && score->total > 0 ? score->total : (double)p->strategic_score;
    return c;
}

//  Check the caller may plan at the spec's unit, and fill in (or check)
//  the candidates. 0, or -1 with req failed.
static int s_prepare (planner_t *self, pmo_request_t *req, Pmo__ScenarioSpec *spec,
                      const char *prefix, const Pmo__OrgUnit **unit_out)
{
    char field[64];
    snprintf (field, sizeof field, "%s.org_unit", prefix);
    const Pmo__OrgUnit *unit = planner_unit (self, req, spec->org_unit, field);
    if (!unit)
        return -1;
    if (!pmo_request_may (req, &planner_roles, PLANNER_PLAN, unit->path, "plan scenarios"))
        return -1;
    *unit_out = unit;
    if (spec->objective == PMO__OBJECTIVE__OBJECTIVE_UNSPECIFIED)
        spec->objective = PMO__OBJECTIVE__OBJECTIVE_SCORE;
    Pmo__Project **projects;
    size_t n;
    if (planner_projects (self, req, unit->id, &projects, &n))
        return -1;
    Pmo__EffectivePolicy *policy = planner_effective (self, req, unit->path, -1);
    if (!policy)
        return -1;
    Pmo__ProjectScore **scores;
    if (planner_scores_of (self, req, projects, n, policy, &scores))
        return -1;
    if (spec->n_candidates == 0) {
        //  The start is needed to place the projects
        if (!pmo_date_valid (spec->start)) {
            snprintf (field, sizeof field, "%s.start", prefix);
            FAIL (req, INVALID, field, "start must be a date YYYY-MM-DD");
            return -1;
        }
        spec->candidates = pmo_arena_alloc (req->arena, (n + 1) * sizeof (void *));
        for (size_t i = 0; i < n; i++)
            if (s_candidate_status (projects[i]->status) && !projects[i]->archived)
                spec->candidates[spec->n_candidates++] =
                    s_from_project (req, spec, projects[i], scores[i]);
        return planner_capacity_from_allocator (self, req, spec, unit, prefix);
    }
    for (size_t i = 0; i < spec->n_candidates; i++) {
        Pmo__Candidate *c = spec->candidates[i];
        size_t j = 0;
        while (j < n && !streq (projects[j]->id, c->project_id ? c->project_id : ""))
            j++;
        if (j == n) {
            snprintf (field, sizeof field, "%s.candidates[%zu].project_id", prefix, i);
            FAIL (req, NOT_FOUND, field, "no project '%.64s' in '%s'", c->project_id, unit->id);
            return -1;
        }
        c->division = projects[j]->division;
        //  A candidate named by its project alone (a choice among the
        //  registry's): its value, cost and start as the project has them
        Pmo__Candidate *made = s_from_project (req, spec, projects[j], scores[j]);
        if (c->value == 0)
            c->value = made->value;
        if (c->n_cost_by_quarter == 0 && c->n_demand == 0) {
            if (!pmo_date_valid (spec->start)) {
                snprintf (field, sizeof field, "%s.start", prefix);
                FAIL (req, INVALID, field, "start must be a date YYYY-MM-DD");
                return -1;
            }
            c->cost_by_quarter = made->cost_by_quarter;
            c->n_cost_by_quarter = made->n_cost_by_quarter;
            if (c->start_quarter == 0)
                c->start_quarter = made->start_quarter;
            c->active = c->active || made->active;
            if (c->n_depends_on == 0) {
                c->depends_on = made->depends_on;
                c->n_depends_on = made->n_depends_on;
            }
        }
        if (scores[j] && scores[j]->mandatory)
            c->mandatory = true;
    }
    return planner_capacity_from_allocator (self, req, spec, unit, prefix);
}

static bool s_check (pmo_request_t *req, const Pmo__ScenarioSpec *spec, const char *prefix)
{
    pmo_problem_t problem;
    if (planner_spec_check (spec, &problem)) {
        pmo_request_fail_problem (req, &problem, prefix);
        return false;
    }
    return true;
}

void planner_handle_solve (planner_t *self, pmo_request_t *req, Pmo__ScenarioSpec *spec)
{
    const Pmo__OrgUnit *unit;
    if (s_prepare (self, req, spec, "solve_scenario", &unit))
        return;
    if (pmo_request_replayed (req, self->redis, unit->division, STORE_NAME))
        return;
    if (!s_check (req, spec, "solve_scenario"))
        return;
    if (pmo_str_empty (spec->name) || strlen (spec->name) > 200 || !pmo_text_valid (spec->name)) {
        FAIL (req, INVALID, "solve_scenario.name", "a scenario has a name (up to 200 characters)");
        return;
    }
    Pmo__Scenario *scenario = pmo_arena_alloc (req->arena, sizeof *scenario);
    pmo__scenario__init (scenario);
    if (planner_store_next_id (self->redis, req->arena, PLANNER_SCENARIO, unit->division,
                               &scenario->id)) {
        pmo_request_unavailable (req, STORE_NAME);
        return;
    }
    scenario->spec = spec;
    scenario->result = planner_solve (spec, -1, req->arena);
    scenario->division = unit->division;
    scenario->org_unit_path = unit->path;
    scenario->version = 1;
    scenario->created_ms = pmo_now_ms ();
    scenario->created_by = pmo_request_who (req)->subject;
    pmo_reflect_set_oneof (req->reply, "scenario", &scenario->base);
    pmo_commit_t *commit = pmo_commit_new (unit->division, req->header->request_id);
    size_t size;
    uint8_t *blob = pmo_reflect_pack (&scenario->base, req->arena, &size);
    pmo_commit_put (commit,
                    planner_key_entity (req->arena, unit->division, PLANNER_SCENARIO, scenario->id),
                    0, 1, blob, size);
    pmo_commit_zadd (commit, planner_key_index (req->arena, unit->division, PLANNER_SCENARIO),
                     (double)scenario->created_ms, scenario->id);
    //  The event carries the result, not the inputs (they can be large)
    Pmo__Scenario *brief = (Pmo__Scenario *)pmo_reflect_copy (&scenario->base, req->arena);
    brief->spec = NULL;
    Pmo__Event **events = NULL;
    size_t n = 0;
    planner_commit_event (req, commit, unit->division,
                          planner_event (self, req, "scenario.solved", unit->division, unit->id,
                                         unit->path, scenario->id, 1, "scenario", &brief->base),
                          &events, &n);
    planner_commit (self, req, commit, events, n);
}

void planner_handle_frontier (planner_t *self, pmo_request_t *req, Pmo__FrontierRequest *request)
{
    if (!request->spec) {
        FAIL (req, INVALID, "frontier.spec", "spec is required");
        return;
    }
    if (request->points > 50) {
        FAIL (req, INVALID, "frontier.points", "at most 50 points");
        return;
    }
    const Pmo__OrgUnit *unit;
    if (s_prepare (self, req, request->spec, "frontier.spec", &unit))
        return;
    if (!s_check (req, request->spec, "frontier.spec"))
        return;
    Pmo__Scenario *scenario = pmo_arena_alloc (req->arena, sizeof *scenario);
    pmo__scenario__init (scenario);
    scenario->spec = request->spec;
    scenario->division = unit->division;
    scenario->org_unit_path = unit->path;
    scenario->frontier =
        planner_frontier (request->spec, request->points, req->arena, &scenario->n_frontier);
    pmo_reflect_set_oneof (req->reply, "scenario", &scenario->base);
}

static int s_newer_first (const void *a, const void *b)
{
    const Pmo__Scenario *x = *(Pmo__Scenario *const *)a;
    const Pmo__Scenario *y = *(Pmo__Scenario *const *)b;
    if (x->created_ms != y->created_ms)
        return x->created_ms < y->created_ms ? 1 : -1;
    return strcmp (y->id, x->id);
}

//  A stored scenario the caller may see; NULL (req failed) otherwise.
static Pmo__Scenario *s_read (planner_t *self, pmo_request_t *req, const char *id,
                              const char *field, uint64_t *version)
{
    const char *first = id ? strchr (id, '_') : NULL;
    const char *last = id ? strrchr (id, '_') : NULL;
    if (pmo_str_empty (id) || strncmp (id, PLANNER_SCENARIO "_", 3) != 0 || !first ||
        last <= first + 1 || strlen (id) > 96) {
        FAIL (req, NOT_FOUND, field, "no scenario with id '%.64s'", id ? id : "");
        return NULL;
    }
    char *division = pmo_arena_strdup (req->arena, first + 1);
    division[last - first - 1] = '\0';
    ProtobufCMessage *msg;
    int rc = planner_store_get (self->redis, req->arena,
                                planner_key_entity (req->arena, division, PLANNER_SCENARIO, id),
                                &pmo__scenario__descriptor, &msg, version);
    if (rc < 0) {
        pmo_request_unavailable (req, STORE_NAME);
        return NULL;
    }
    Pmo__Scenario *s = (Pmo__Scenario *)msg;
    if (rc == 0 || !pmo_access_allowed (pmo_request_who (req), &planner_roles, PLANNER_READ,
                                        s->org_unit_path)) {
        FAIL (req, NOT_FOUND, field, "no scenario with id '%.64s'", id);
        return NULL;
    }
    return s;
}

void planner_handle_get_scenario (planner_t *self, pmo_request_t *req, Pmo__ScenarioGetRequest *get)
{
    Pmo__Scenario *s = s_read (self, req, get->id, "get_scenario.id", NULL);
    if (s)
        pmo_reflect_set_oneof (req->reply, "scenario", &s->base);
}

//  Side by side and in lists: the results, not every input again
static void s_brief (Pmo__Scenario *s)
{
    if (s->spec) {
        s->spec->candidates = NULL;
        s->spec->n_candidates = 0;
        s->spec->capacity = NULL;
        s->spec->n_capacity = 0;
    }
}

void planner_handle_list_scenarios (planner_t *self, pmo_request_t *req,
                                    Pmo__ScenarioListRequest *list)
{
    ProtobufCMessage **msgs;
    size_t n;
    if (planner_read_scope (self, req, list->org_unit, PLANNER_SCENARIO, &pmo__scenario__descriptor,
                            MAX_LIST, &msgs, &n))
        return;
    Pmo__ScenarioList *reply = pmo_arena_alloc (req->arena, sizeof *reply);
    pmo__scenario_list__init (reply);
    reply->scenarios = pmo_arena_alloc (req->arena, (n + 1) * sizeof (void *));
    for (size_t i = 0; i < n; i++) {
        Pmo__Scenario *s = (Pmo__Scenario *)msgs[i];
        s_brief (s);
        reply->scenarios[reply->n_scenarios++] = s;
    }
    //  Newest first across divisions (each division's index is oldest first)
    qsort (reply->scenarios, reply->n_scenarios, sizeof (void *), s_newer_first);
    pmo_reflect_set_oneof (req->reply, "scenarios", &reply->base);
}

void planner_handle_compare (planner_t *self, pmo_request_t *req, Pmo__CompareRequest *compare)
{
    if (compare->n_ids < 2 || compare->n_ids > MAX_COMPARE) {
        FAIL (req, INVALID, "compare.ids", "compare 2 to %d scenarios", MAX_COMPARE);
        return;
    }
    Pmo__Comparison *c = pmo_arena_alloc (req->arena, sizeof *c);
    pmo__comparison__init (c);
    c->scenarios = pmo_arena_alloc (req->arena, compare->n_ids * sizeof (void *));
    for (size_t i = 0; i < compare->n_ids; i++) {
        char field[48];
        snprintf (field, sizeof field, "compare.ids[%zu]", i);
        Pmo__Scenario *s = s_read (self, req, compare->ids[i], field, NULL);
        if (!s)
            return;
        s_brief (s);
        c->scenarios[c->n_scenarios++] = s;
    }
    //  One row per project any of them considered, in first-seen order
    for (size_t i = 0; i < c->n_scenarios; i++) {
        const Pmo__ScenarioResult *r = c->scenarios[i]->result;
        for (size_t k = 0; r && k < r->n_candidates; k++) {
            const char *id = r->candidates[k]->project_id;
            bool seen = false;
            for (size_t j = 0; j < c->n_rows && !seen; j++)
                seen = streq (c->rows[j]->project_id, id);
            if (seen)
                continue;
            Pmo__ComparisonRow *row = pmo_arena_alloc (req->arena, sizeof *row);
            pmo__comparison_row__init (row);
            row->project_id = (char *)id;
            row->placements =
                pmo_arena_alloc (req->arena, c->n_scenarios * sizeof (Pmo__Placement));
            row->shifts = pmo_arena_alloc (req->arena, c->n_scenarios * sizeof (uint32_t));
            row->n_placements = row->n_shifts = c->n_scenarios;
            for (size_t s = 0; s < c->n_scenarios; s++) {
                const Pmo__ScenarioResult *rs = c->scenarios[s]->result;
                for (size_t m = 0; rs && m < rs->n_candidates; m++)
                    if (streq (rs->candidates[m]->project_id, id)) {
                        row->placements[s] = rs->candidates[m]->placement;
                        row->shifts[s] = rs->candidates[m]->shift_quarters;
                    }
            }
            pmo_reflect_append (&c->base, "rows", &row->base, req->arena);
        }
    }
    pmo_reflect_set_oneof (req->reply, "comparison", &c->base);
}

void planner_handle_commit_scenario (planner_t *self, pmo_request_t *req,
                                     Pmo__CommitScenarioRequest *request)
{
    uint64_t version;
    Pmo__Scenario *s = s_read (self, req, request->id, "commit_scenario.id", &version);
    if (!s)
        return;
    if (!pmo_request_may (req, &planner_roles, PLANNER_COMMIT, s->org_unit_path,
                          "commit scenarios"))
        return;
    if (pmo_request_replayed (req, self->redis, s->division, STORE_NAME))
        return;
    if (!pmo_request_version_matches (req, "commit_scenario.version", "scenario", request->version,
                                      version))
        return;
    if (s->committed) {
        FAIL (req, FAILED_PRECONDITION, "commit_scenario.id", "scenario '%s' is already committed",
              s->id);
        return;
    }
    if (!s->result || !s->result->feasible) {
        FAIL (req, FAILED_PRECONDITION, "commit_scenario.id",
              "scenario '%s' has no feasible portfolio to commit", s->id);
        return;
    }
    Pmo__Proposals *proposals = pmo_arena_alloc (req->arena, sizeof *proposals);
    pmo__proposals__init (proposals);
    proposals->scenario_id = s->id;
    proposals->decisions = planner_proposals (s, req->arena, &proposals->n_decisions);
    pmo_reflect_set_oneof (req->reply, "proposals", &proposals->base);
    s->committed = true;
    s->version = version + 1;
    //  Kept with it, so whoever opens the scenario later sees what it proposed
    s->proposals = proposals->decisions;
    s->n_proposals = proposals->n_decisions;
    pmo_commit_t *commit = pmo_commit_new (s->division, req->header->request_id);
    size_t size;
    uint8_t *blob = pmo_reflect_pack (&s->base, req->arena, &size);
    pmo_commit_put (commit, planner_key_entity (req->arena, s->division, PLANNER_SCENARIO, s->id),
                    version, s->version, blob, size);
    const char *unit = s->spec ? s->spec->org_unit : "";
    Pmo__Event **events = NULL;
    size_t n = 0;
    planner_commit_event (req, commit, s->division,
                          planner_event (self, req, "scenario.committed", s->division, unit,
                                         s->org_unit_path, s->id, s->version, "proposals",
                                         &proposals->base),
                          &events, &n);
    planner_commit (self, req, commit, events, n);
}
