/*  riskmon_requests.c: the health requests: a project's health and its
    history, the roll-up of a subtree, and the health thresholds a PMO unit
    sets and the thresholds in force at a unit.
*/
#include "riskmon_internal.h"

#include "pmo_reflect.h"

#include <math.h>
#include <string.h>

#define HISTORY_DEFAULT 100

void riskmon_handle_health (riskmon_t *self, pmo_request_t *req, Pmo__HealthRequest *health)
{
    uint64_t version;
    Pmo__ProjectHealth *ph =
        riskmon_request_project (self, req, health->project_id, "health.project_id", &version);
    if (!ph)
        return;
    Pmo__HealthHistory *out = pmo_arena_alloc (req->arena, sizeof (Pmo__HealthHistory));
    pmo__health_history__init (out);
    out->current = ph->current;
    if (!out->current) {
        //  Known to the registry but nothing has happened to it here yet
        Pmo__Thresholds t;
        riskmon_effective (self, req->arena, ph->inputs->org_unit_path, -1, &t, NULL);
        ph->inputs->reporting_period_days =
            riskmon_reporting_days (self, req->arena, ph->inputs->org_unit_path);
        out->current = pmo_arena_alloc (req->arena, sizeof (Pmo__HealthAssessment));
        riskmon_assess (ph->inputs, &t, riskmon_now (self), req->arena, out->current);
    }
    if (health->with_history && ph->history) {
        uint64_t limit = health->history_limit ? health->history_limit : HISTORY_DEFAULT;
        uint64_t first = ph->history > limit ? ph->history - limit + 1 : 1;
        size_t n = (size_t)(ph->history - first + 1);
        char *division = riskmon_division_of (req->arena, health->project_id);
        char **keys = pmo_arena_alloc (req->arena, n * sizeof (char *));
        for (size_t i = 0; i < n; i++)
            keys[i] = riskmon_key_history (req->arena, division, health->project_id, first + i);
        ProtobufCMessage **msgs = pmo_arena_alloc (req->arena, n * sizeof (void *));
        if (riskmon_store_get_many (self->store, req->arena, keys, n,
                                    &pmo__health_assessment__descriptor, msgs, NULL))
            return pmo_request_unavailable (req, STORE_NAME);
        for (size_t i = 0; i < n; i++)
            if (msgs[i])
                pmo_reflect_append (&out->base, "history", msgs[i], req->arena);
    }
    pmo_reflect_set_oneof (req->reply, "health", &out->base);
}

static Pmo__RollupMoney *s_money_for (pmo_arena_t *arena, Pmo__Rollup *rollup, const char *currency)
{
    for (size_t i = 0; i < rollup->n_money; i++)
        if (streq (rollup->money[i]->currency, currency))
            return rollup->money[i];
    Pmo__RollupMoney *money = pmo_arena_alloc (arena, sizeof (Pmo__RollupMoney));
    pmo__rollup_money__init (money);
    money->currency = pmo_arena_strdup (arena, currency);
    pmo_reflect_append (&rollup->base, "money", &money->base, arena);
    return money;
}

void riskmon_handle_rollup (riskmon_t *self, pmo_request_t *req, Pmo__RollupRequest *request)
{
    const char *hub = riskmon_store_hub (self->store);
    const char *unit_id = pmo_str_empty (request->org_unit) ? hub : request->org_unit;
    const Pmo__OrgUnit *unit = riskmon_unit_for (self, req->arena, unit_id);
    if (!unit)
        return (void)FAIL (req, NOT_FOUND, "rollup.org_unit", "no org unit '%s'", unit_id);
    if (!pmo_request_may (req, riskmon_roles (), RISKMON_READ, unit->path, "see the roll-up"))
        return;
    Pmo__Thresholds t;
    riskmon_effective (self, req->arena, unit->path, -1, &t, NULL);
    Pmo__Rollup *rollup = pmo_arena_alloc (req->arena, sizeof (Pmo__Rollup));
    pmo__rollup__init (rollup);
    rollup->org_unit = unit->id;
    rollup->org_unit_path = unit->path;
    pmo_arena_t *scratch = pmo_arena_new ();
    bool failed = false;
    for (size_t s = 0; s < self->n_streams && !failed; s++) {
        const char *division = self->divisions[s];
        if (!streq (unit->id, hub) && !streq (unit->division, division))
            continue;
        double after = -1;
        while (!failed) {
            pmo_arena_reset (scratch);
            char **ids;
            double *scores;
            size_t n;
            if (riskmon_store_zrange (self->store, scratch,
                                      riskmon_key_projects (scratch, division), &after, INFINITY,
                                      1000, &ids, &scores, &n)) {
                failed = true;
                break;
            }
            if (n == 0)
                break;
            after = scores[n - 1];
            char **keys = pmo_arena_alloc (scratch, n * sizeof (char *));
            for (size_t i = 0; i < n; i++)
                keys[i] = riskmon_key_project (scratch, division, ids[i]);
            ProtobufCMessage **msgs = pmo_arena_alloc (scratch, n * sizeof (void *));
            if (riskmon_store_get_many (self->store, scratch, keys, n,
                                        &pmo__project_health__descriptor, msgs, NULL)) {
                failed = true;
                break;
            }
            for (size_t i = 0; i < n; i++) {
                Pmo__ProjectHealth *ph = riskmon_health_read (msgs[i]);
                if (!ph || !riskmon_project_live (ph->inputs) ||
                    !pmo_path_contains (ph->inputs->org_unit_path, unit->id))
                    continue;
                Pmo__HealthInputs *in = ph->inputs;
                rollup->projects++;
                Pmo__Rag rag = ph->current ? ph->current->overall : PMO__RAG__RAG_UNSPECIFIED;
                if (rag == PMO__RAG__RAG_GREEN)
                    rollup->green++;
                else if (rag == PMO__RAG__RAG_AMBER)
                    rollup->amber++;
                else if (rag == PMO__RAG__RAG_RED)
                    rollup->red++;
                else
                    rollup->unassessed++;
                //  Sums first, indices after: ratios are never averaged
                Pmo__RollupMoney *money = s_money_for (req->arena, rollup, in->currency);
                money->projects++;
                if (!pmo_str_empty (in->report_id)) {
                    money->pv_minor += in->pv_minor;
                    money->ev_minor += in->ev_minor;
                    if (in->has_ac) {
                        money->ac_minor += in->ac_minor;
                        money->ev_with_ac_minor += in->ev_minor;
                    }
                }
                for (size_t r = 0; r < in->n_open_risks; r++) {
                    const Pmo__OpenRisk *risk = in->open_risks[r];
                    rollup->risks_open++;
                    if (risk->residual_score >= t.risk_critical_score)
                        rollup->risks_critical++;
                    else if (risk->residual_score >= t.risk_high_score)
                        rollup->risks_high++;
                    if (risk->exposure_minor)
                        s_money_for (req->arena, rollup, risk->currency)->risk_exposure_minor +=
                            risk->exposure_minor;
                }
                for (size_t a = 0; a < ph->n_alerts; a++)
                    rollup->alerts_open += !ph->alerts[a]->suppressed;
            }
            if (n < 1000)
                break;
        }
    }
    pmo_arena_destroy (&scratch);
    if (failed)
        return pmo_request_unavailable (req, STORE_NAME);
    for (size_t i = 0; i < rollup->n_money; i++) {
        Pmo__RollupMoney *money = rollup->money[i];
        money->has_spi = riskmon_ev_index (money->ev_minor, money->pv_minor, &money->spi);
        money->has_cpi = riskmon_ev_index (money->ev_with_ac_minor, money->ac_minor, &money->cpi);
    }
    rollup->computed_ms = riskmon_now (self);
    pmo_reflect_set_oneof (req->reply, "rollup", &rollup->base);
}

void riskmon_handle_set_thresholds (riskmon_t *self, pmo_request_t *req, Pmo__Thresholds *own)
{
    const char *hub = riskmon_store_hub (self->store);
    const Pmo__OrgUnit *unit = riskmon_unit_for (self, req->arena, own->org_unit);
    if (!unit)
        return (void)FAIL (req, NOT_FOUND, "set_thresholds.org_unit", "no org unit '%s'",
                           own->org_unit ? own->org_unit : "");
    if (!pmo_request_may (req, riskmon_roles (), RISKMON_CONFIGURE, unit->path,
                          "set health thresholds"))
        return;
    if (riskmon_replayed (self, req, hub))
        return;
    if (unit->pmo_type == PMO__PMO_TYPE__PMO_TYPE_NONE)
        return (void)FAIL (req, FAILED_PRECONDITION, "set_thresholds.org_unit",
                           "'%s' is not a PMO unit; thresholds are set by PMO units", unit->id);
    own->n_sources = 0; //  what a get answers, not stored
    own->sources = NULL;
    pmo_problem_t problem;
    if (riskmon_thresholds_check (own, &problem))
        return pmo_request_fail_problem (req, &problem, "set_thresholds");
    //  What the unit inherits, and what would be in force with this set
    Pmo__Thresholds inherited, effective;
    riskmon_thresholds_reload (self);
    char *parts[32];
    size_t depth = riskmon_path_split (req->arena, unit->path, parts, 32);
    riskmon_effective (self, req->arena, unit->path, (int)depth - 1, &inherited, NULL);
    effective = inherited;
    riskmon_thresholds_merge (&effective, own);
    if (riskmon_thresholds_consistent (&effective, &problem) ||
        riskmon_thresholds_tightens (&inherited, &effective,
                                     riskmon_pmo_above (self, req->arena, unit->path), &problem))
        return pmo_request_fail_problem (req, &problem, "set_thresholds");
    ProtobufCMessage *stored;
    uint64_t version;
    char *key = riskmon_key_thresholds (req->arena, hub, unit->id);
    if (riskmon_store_get (self->store, req->arena, key, &pmo__thresholds__descriptor, &stored,
                           &version) < 0)
        return pmo_request_unavailable (req, STORE_NAME);
    if (!pmo_request_version_matches (req, "set_thresholds.version", "thresholds", own->version,
                                      version))
        return;
    int64_t now = riskmon_now (self);
    own->org_unit = unit->id;
    own->version = version + 1;
    own->updated_ms = now;
    own->updated_by = (char *)pmo_request_who (req)->subject;
    pmo_commit_t *commit = riskmon_store_commit (hub, req->header->request_id);
    riskmon_store_put (commit, req->arena, key, &own->base, version, version + 1);
    pmo_commit_zadd (commit, riskmon_key_thresholds_index (req->arena, hub), 0, unit->id);
    riskmon_change_t change = {0};
    riskmon_change_add (
        req->arena, commit, &change, hub,
        riskmon_event_new (req->arena, "thresholds.updated", hub, unit->id, unit->path, unit->id,
                           own->version, pmo_request_who (req)->subject, pmo_request_who (req)->via,
                           req->header->request_id, "thresholds", &own->base, now));
    pmo_reflect_set_oneof (req->reply, "thresholds", &own->base);
    riskmon_request_commit (self, req, commit, hub, &change);
    if (pmo_request_failed (req) || req->raw_reply)
        return;
    //  Health under the new thresholds: every project of the subtree is
    //  looked at again by the next sweep
    riskmon_thresholds_reload (self);
    for (size_t i = 0; i < self->n_streams; i++)
        if (streq (unit->id, hub) || streq (unit->division, self->divisions[i]))
            riskmon_recheck (self, req->arena, self->divisions[i]);
}

void riskmon_handle_get_thresholds (riskmon_t *self, pmo_request_t *req,
                                    Pmo__ThresholdsRequest *get)
{
    const char *hub = riskmon_store_hub (self->store);
    const char *id = pmo_str_empty (get->org_unit) ? hub : get->org_unit;
    const Pmo__OrgUnit *unit = riskmon_unit_for (self, req->arena, id);
    if (!unit)
        return (void)FAIL (req, NOT_FOUND, "get_thresholds.org_unit", "no org unit '%s'", id);
    riskmon_thresholds_reload (self);
    Pmo__Thresholds *t = pmo_arena_alloc (req->arena, sizeof (Pmo__Thresholds));
    char *from;
    riskmon_effective (self, req->arena, unit->path, -1, t, &from);
    t->org_unit = unit->id;
    Pmo__Thresholds *own = zhashx_lookup (self->thresholds, unit->id);
    t->version = own ? own->version : 0;
    if (*from)
        t->updated_by = pmo_arena_printf (req->arena, "inherited from: %s", from);
    //  Each threshold's origin: the own sets down the unit's path
    char *parts[32];
    size_t depth = riskmon_path_split (req->arena, unit->path, parts, 32);
    const Pmo__Thresholds **sets = pmo_arena_alloc (req->arena, (depth + 1) * sizeof *sets);
    for (size_t i = 0; i < depth; i++)
        sets[i] = zhashx_lookup (self->thresholds, parts[i]);
    t->sources = riskmon_thresholds_sources (req->arena, sets, parts, depth, &t->n_sources);
    pmo_reflect_set_oneof (req->reply, "thresholds", &t->base);
}
