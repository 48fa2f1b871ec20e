/*  planner_scores.c: planner policies (a unit's scoring model and lag
    threshold, inherited and tightened down the tree), project scores
    (per criterion, with who and when) and the ranked list.

    Policies live in the hub's slot (as the risk monitor's thresholds do):
    the policy in force at a unit merges those of every unit on its path.
*/
#include "planner_internal.h"

#include "pmo_reflect.h"

#include <string.h>

void planner_handle_set_policy (planner_t *self, pmo_request_t *req, Pmo__PlannerPolicy *own)
{
    const Pmo__OrgUnit *unit = planner_unit (self, req, own->org_unit, "set_policy.org_unit");
    if (!unit)
        return;
    if (!pmo_request_may (req, &planner_roles, PLANNER_POLICY, unit->path,
                          "set the planner policy"))
        return;
    const char *hub = self->config.hub;
    if (pmo_request_replayed (req, self->redis, hub, STORE_NAME))
        return;
    uint64_t version;
    ProtobufCMessage *stored;
    char *key = planner_key_policy (req->arena, hub, unit->id);
    if (planner_store_get (self->redis, req->arena, key, &pmo__planner_policy__descriptor, &stored,
                           &version) < 0) {
        pmo_request_unavailable (req, STORE_NAME);
        return;
    }
    if (version &&
        !pmo_request_version_matches (req, "set_policy.version", "policy", own->version, version))
        return;
    //  What the unit inherits: the policy in force at its parent
    int depth = pmo_path_depth (unit->path);
    const Pmo__PlannerPolicy *inherited = NULL;
    bool supportive = true;
    if (depth > 1) {
        Pmo__EffectivePolicy *above = planner_effective (self, req, unit->path, depth - 1);
        if (!above)
            return;
        inherited = above->policy;
        const Pmo__OrgUnit *parent = planner_unit (self, req, unit->parent, "set_policy.org_unit");
        if (!parent)
            return;
        supportive = parent->effective_pmo_type == PMO__PMO_TYPE__PMO_TYPE_SUPPORTIVE ||
                     parent->effective_pmo_type == PMO__PMO_TYPE__PMO_TYPE_NONE;
    }
    pmo_problem_t problem;
    if (planner_policy_check (own, inherited, supportive, &problem)) {
        pmo_request_fail_problem (req, &problem, "set_policy");
        return;
    }
    own->org_unit = unit->id;
    own->version = version + 1;
    own->updated_ms = pmo_now_ms ();
    own->updated_by = pmo_request_who (req)->subject;
    Pmo__EffectivePolicy *reply = pmo_arena_alloc (req->arena, sizeof *reply);
    pmo__effective_policy__init (reply);
    reply->policy = own;
    reply->criteria_from = own->n_criteria ? unit->id : "";
    reply->threshold_from = own->lag_threshold > 0 ? unit->id : "";
    pmo_reflect_set_oneof (req->reply, "policy", &reply->base);
    pmo_commit_t *commit = pmo_commit_new (hub, req->header->request_id);
    size_t size;
    uint8_t *blob = pmo_reflect_pack (&own->base, req->arena, &size);
    pmo_commit_put (commit, key, version, own->version, blob, size);
    Pmo__Event **events = NULL;
    size_t n = 0;
    planner_commit_event (req, commit, hub,
                          planner_event (self, req, "planner_policy.set", hub, unit->id, unit->path,
                                         unit->id, own->version, "planner_policy", &own->base),
                          &events, &n);
    planner_commit (self, req, commit, events, n);
}

void planner_handle_get_policy (planner_t *self, pmo_request_t *req, Pmo__PolicyRequest *get)
{
    const Pmo__OrgUnit *unit = planner_unit (self, req, get->org_unit, "get_policy.org_unit");
    if (!unit)
        return;
    if (!pmo_request_may (req, &planner_roles, PLANNER_READ, unit->path, "read planner policies"))
        return;
    Pmo__EffectivePolicy *effective = planner_effective (self, req, unit->path, -1);
    if (effective)
        pmo_reflect_set_oneof (req->reply, "policy", &effective->base);
}

void planner_handle_score_project (planner_t *self, pmo_request_t *req,
                                   Pmo__ScoreProjectRequest *request)
{
    if (pmo_str_empty (request->project_id)) {
        FAIL (req, INVALID, "score_project.project_id", "project_id is required");
        return;
    }
    Pmo__Project *project;
    int found = orgtree_project (self->tree, request->project_id, req->arena, &project);
    if (found < 0) {
        pmo_request_unavailable (req, "the registry (projects)");
        return;
    }
    if (found == 0 || !pmo_access_allowed (pmo_request_who (req), &planner_roles, PLANNER_READ,
                                           project->org_unit_path)) {
        FAIL (req, NOT_FOUND, "score_project.project_id", "no project with id '%.64s'",
              request->project_id);
        return;
    }
    if (!pmo_request_may (req, &planner_roles, PLANNER_SCORE, project->org_unit_path,
                          "score projects"))
        return;
    if (pmo_request_replayed (req, self->redis, project->division, STORE_NAME))
        return;
    if (request->n_scores > 32) {
        FAIL (req, TOO_LARGE, "score_project.scores", "at most 32 criterion scores");
        return;
    }
    for (size_t i = 0; i < request->n_scores; i++) {
        const Pmo__CriterionScore *s = request->scores[i];
        char field[64];
        snprintf (field, sizeof field, "score_project.scores[%zu]", i);
        if (s->criterion == PMO__CRITERION__CRITERION_UNSPECIFIED || s->score > 10) {
            FAIL (req, INVALID, field, "a criterion score names its criterion and is 0..10");
            return;
        }
        bool alignment = s->criterion == PMO__CRITERION__CRITERION_ALIGNMENT;
        if (alignment != !pmo_str_empty (s->theme) || (s->theme && strlen (s->theme) > 64) ||
            (s->theme && !pmo_text_valid (s->theme))) {
            FAIL (req, INVALID, field, "an alignment score names its theme; the others do not");
            return;
        }
    }
    if (request->mandatory_reason && strlen (request->mandatory_reason) > 500) {
        FAIL (req, TOO_LARGE, "score_project.mandatory_reason", "at most 500 characters");
        return;
    }
    if (request->mandatory && pmo_str_empty (request->mandatory_reason)) {
        FAIL (req, INVALID, "score_project.mandatory_reason",
              "a mandatory or regulatory project says why");
        return;
    }
    char *key = planner_key_score (req->arena, project->division, project->id);
    ProtobufCMessage *msg;
    uint64_t version;
    if (planner_store_get (self->redis, req->arena, key, &pmo__project_score__descriptor, &msg,
                           &version) < 0) {
        pmo_request_unavailable (req, STORE_NAME);
        return;
    }
    //  The first scoring names version 0; later ones the version they read
    if (version && !pmo_request_version_matches (req, "score_project.version", "score",
                                                 request->version, version))
        return;
    if (!version && request->version) {
        FAIL (req, CONFLICT, "score_project.version", "the project has no score yet (version 0)");
        return;
    }
    Pmo__ProjectScore *score = msg ? (Pmo__ProjectScore *)msg : NULL;
    if (!score) {
        score = pmo_arena_alloc (req->arena, sizeof *score);
        pmo__project_score__init (score);
    }
    score->project_id = project->id;
    score->project_code = project->code;
    score->project_name = project->name;
    score->org_unit = project->org_unit;
    score->org_unit_path = project->org_unit_path;
    score->division = project->division;
    score->mandatory = request->mandatory;
    score->mandatory_reason = request->mandatory_reason ? request->mandatory_reason : "";
    int64_t now = pmo_now_ms ();
    for (size_t i = 0; i < request->n_scores; i++) {
        Pmo__CriterionScore *s = request->scores[i];
        s->scored_by = pmo_request_who (req)->subject;
        s->scored_ms = now;
        bool replaced = false;
        for (size_t j = 0; j < score->n_scores && !replaced; j++)
            if (score->scores[j]->criterion == s->criterion &&
                streq (score->scores[j]->theme, s->theme ? s->theme : "")) {
                score->scores[j] = s;
                replaced = true;
            }
        if (!replaced)
            pmo_reflect_append (&score->base, "scores", &s->base, req->arena);
    }
    Pmo__EffectivePolicy *policy = planner_effective (self, req, project->org_unit_path, -1);
    if (!policy)
        return;
    score->version = version + 1;
    score->total =
        planner_score_total (score, policy->policy->criteria, policy->policy->n_criteria);
    pmo_reflect_set_oneof (req->reply, "score", &score->base);
    pmo_commit_t *commit = pmo_commit_new (project->division, req->header->request_id);
    size_t size;
    uint8_t *blob = pmo_reflect_pack (&score->base, req->arena, &size);
    pmo_commit_put (commit, key, version, score->version, blob, size);
    Pmo__Event **events = NULL;
    size_t n = 0;
    planner_commit_event (req, commit, project->division,
                          planner_event (self, req, "project.scored", project->division,
                                         project->org_unit, project->org_unit_path, project->id,
                                         score->version, "project_score", &score->base),
                          &events, &n);
    planner_commit (self, req, commit, events, n);
}

int planner_scores_of (planner_t *self, pmo_request_t *req, Pmo__Project **projects, size_t n,
                       const Pmo__EffectivePolicy *policy, Pmo__ProjectScore ***scores)
{
    *scores = pmo_arena_alloc (req->arena, (n + 1) * sizeof (void *));
    if (!n)
        return 0;
    char **keys = pmo_arena_alloc (req->arena, n * sizeof (char *));
    for (size_t i = 0; i < n; i++)
        keys[i] = planner_key_score (req->arena, projects[i]->division, projects[i]->id);
    if (planner_store_get_many (self->redis, req->arena, keys, n, &pmo__project_score__descriptor,
                                (ProtobufCMessage **)*scores, NULL)) {
        pmo_request_unavailable (req, STORE_NAME);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        Pmo__ProjectScore *s = (*scores)[i];
        if (s)
            s->total =
                planner_score_total (s, policy->policy->criteria, policy->policy->n_criteria);
    }
    return 0;
}

void planner_handle_ranking (planner_t *self, pmo_request_t *req, Pmo__RankingRequest *request)
{
    const Pmo__OrgUnit *unit = planner_unit (self, req, request->org_unit, "ranking.org_unit");
    if (!unit)
        return;
    if (!pmo_request_may (req, &planner_roles, PLANNER_READ, unit->path, "rank projects"))
        return;
    Pmo__EffectivePolicy *policy = planner_effective (self, req, unit->path, -1);
    if (!policy)
        return;
    Pmo__Project **projects;
    size_t n;
    if (planner_projects (self, req, unit->id, &projects, &n))
        return;
    Pmo__ProjectScore **scores;
    if (planner_scores_of (self, req, projects, n, policy, &scores))
        return;
    //  A project nobody scored yet is ranked with 0 (and says so: no scores)
    for (size_t i = 0; i < n; i++)
        if (!scores[i]) {
            Pmo__ProjectScore *s = pmo_arena_alloc (req->arena, sizeof *s);
            pmo__project_score__init (s);
            s->project_id = projects[i]->id;
            s->org_unit = projects[i]->org_unit;
            s->org_unit_path = projects[i]->org_unit_path;
            s->division = projects[i]->division;
            scores[i] = s;
        }
    for (size_t i = 0; i < n; i++) {
        scores[i]->project_code = projects[i]->code;
        scores[i]->project_name = projects[i]->name;
    }
    planner_rank (scores, n);
    Pmo__Ranking *ranking = pmo_arena_alloc (req->arena, sizeof *ranking);
    pmo__ranking__init (ranking);
    ranking->org_unit = unit->id;
    ranking->model = policy->policy->criteria;
    ranking->n_model = policy->policy->n_criteria;
    ranking->projects = scores;
    ranking->n_projects = request->limit && request->limit < n ? request->limit : n;
    pmo_reflect_set_oneof (req->reply, "ranking", &ranking->base);
}
