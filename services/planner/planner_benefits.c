/*  planner_benefits.c: the benefits register's requests: create, update,
    record a measurement (each re-evaluates realisation against the profile
    and raises or clears the lag alert in the same commit), get, list and
    roll up.

    The lag alert is the benefit's own state (realisation.lagging) with a
    "benefit.lagging" or "benefit.recovered" event on the division's
    stream beside the change that moved it, so the notifier routes it like
    any alert and a replayed request changes nothing twice. Time raises it
    too: the lag sweep (planner_sweep_lag, on the actor's timer) finds the
    benefits whose profile passed a period with no measurement and raises
    their alert the same way, in a commit of its own per benefit.
*/
#include "planner_internal.h"

#include "pmo_log.h"
#include "pmo_reflect.h"

#include <malloc.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#define MAX_LIST 5000 //  benefits read for one list or roll-up per division

static const char *s_lag_event (int changed)
{
    return changed > 0 ? "benefit.lagging" : "benefit.recovered";
}

//  Read a benefit the caller may see; NULL (req failed) otherwise.
static Pmo__Benefit *s_read (planner_t *self, pmo_request_t *req, const char *id, const char *field,
                             uint64_t *version)
{
    if (pmo_str_empty (id)) {
        FAIL (req, INVALID, field, "%s is required", field);
        return NULL;
    }
    //  "bn_<division>_<n>"
    const char *first = strchr (id, '_');
    const char *last = strrchr (id, '_');
    if (strncmp (id, PLANNER_BENEFIT "_", 3) != 0 || !first || last <= first + 1 ||
        strlen (id) > 96) {
        FAIL (req, NOT_FOUND, field, "no benefit with id '%.64s'", id);
        return NULL;
    }
    char *division = pmo_arena_strdup (req->arena, first + 1);
    division[last - first - 1] = '\0';
    ProtobufCMessage *msg;
    int rc = planner_store_get (self->redis, req->arena,
                                planner_key_entity (req->arena, division, PLANNER_BENEFIT, id),
                                &pmo__benefit__descriptor, &msg, version);
    if (rc < 0) {
        pmo_request_unavailable (req, STORE_NAME);
        return NULL;
    }
    Pmo__Benefit *b = (Pmo__Benefit *)msg;
    if (rc == 0 || !pmo_access_allowed (pmo_request_who (req), &planner_roles, PLANNER_READ,
                                        b->org_unit_path)) {
        FAIL (req, NOT_FOUND, field, "no benefit with id '%.64s'", id);
        return NULL;
    }
    return b;
}

//  Evaluate, then commit the benefit (expecting version) with its events:
//  type (NULL: none) and the lag event if the alert moved.
static void s_store (planner_t *self, pmo_request_t *req, Pmo__Benefit *b, uint64_t version,
                     const char *type)
{
    Pmo__EffectivePolicy *policy = planner_effective (self, req, b->org_unit_path, -1);
    if (!policy)
        return;
    int changed;
    planner_benefit_evaluate (b, policy->policy->lag_threshold, planner_month_now (self),
                              req->arena, &changed);
    b->version = version + 1;
    b->updated_ms = pmo_now_ms ();
    pmo_reflect_set_oneof (req->reply, "benefit", &b->base);
    pmo_commit_t *commit = pmo_commit_new (b->division, req->header->request_id);
    size_t size;
    uint8_t *blob = pmo_reflect_pack (&b->base, req->arena, &size);
    pmo_commit_put (commit, planner_key_entity (req->arena, b->division, PLANNER_BENEFIT, b->id),
                    version, b->version, blob, size);
    if (version == 0)
        pmo_commit_zadd (commit, planner_key_index (req->arena, b->division, PLANNER_BENEFIT),
                         (double)b->created_ms, b->id);
    Pmo__Event **events = NULL;
    size_t n = 0;
    if (type)
        planner_commit_event (req, commit, b->division,
                              planner_event (self, req, type, b->division, b->org_unit,
                                             b->org_unit_path, b->id, b->version, "benefit",
                                             &b->base),
                              &events, &n);
    if (changed)
        planner_commit_event (req, commit, b->division,
                              planner_event (self, req, s_lag_event (changed), b->division,
                                             b->org_unit, b->org_unit_path, b->id, b->version,
                                             "benefit", &b->base),
                              &events, &n);
    planner_commit (self, req, commit, events, n);
}

static void s_stamp_measurements (pmo_request_t *req, Pmo__Benefit *b)
{
    for (size_t i = 0; i < b->n_measurements; i++) {
        if (pmo_str_empty (b->measurements[i]->recorded_by))
            b->measurements[i]->recorded_by = pmo_request_who (req)->subject;
        if (!b->measurements[i]->recorded_ms)
            b->measurements[i]->recorded_ms = pmo_now_ms ();
    }
}

//  Every project a benefit names exists and the caller may see it.
static bool s_links (planner_t *self, pmo_request_t *req, const Pmo__Benefit *b, const char *prefix)
{
    for (size_t i = 0; i < b->n_project_ids; i++) {
        Pmo__Project *project;
        int found = orgtree_project (self->tree, b->project_ids[i], req->arena, &project);
        if (found < 0) {
            pmo_request_unavailable (req, "the registry (projects)");
            return false;
        }
        if (found == 0 || !pmo_access_allowed (pmo_request_who (req), &planner_roles, PLANNER_READ,
                                               project->org_unit_path)) {
            char field[64];
            snprintf (field, sizeof field, "%s.project_ids[%zu]", prefix, i);
            FAIL (req, NOT_FOUND, field, "no project with id '%.64s'", b->project_ids[i]);
            return false;
        }
    }
    return true;
}

//  A new benefit, written or (check) only checked: the reply is then the
//  benefit as it would be stored, without its id.
static void s_create (planner_t *self, pmo_request_t *req, Pmo__Benefit *b, bool check)
{
    const char *member = check ? "check_benefit" : "create_benefit";
    const Pmo__OrgUnit *unit = planner_unit (
        self, req, b->org_unit, check ? "check_benefit.org_unit" : "create_benefit.org_unit");
    if (!unit)
        return;
    if (!pmo_request_may (req, &planner_roles, PLANNER_BENEFITS, unit->path, "keep benefits"))
        return;
    if (!check && pmo_request_replayed (req, self->redis, unit->division, STORE_NAME))
        return;
    pmo_problem_t problem;
    if (planner_benefit_check (b, &problem)) {
        pmo_request_fail_problem (req, &problem, member);
        return;
    }
    if (!s_links (self, req, b, member))
        return;
    if (b->status == PMO__BENEFIT_STATUS__BENEFIT_STATUS_UNSPECIFIED)
        b->status = PMO__BENEFIT_STATUS__BENEFIT_STATUS_IDENTIFIED;
    if (pmo_str_empty (b->unit) && !pmo_str_empty (b->currency))
        b->unit = b->currency;
    b->org_unit_path = unit->path;
    b->division = unit->division;
    b->realisation = NULL;
    b->created_ms = pmo_now_ms ();
    b->created_by = pmo_request_who (req)->subject;
    s_stamp_measurements (req, b);
    if (check) {
        pmo_reflect_set_oneof (req->reply, "benefit", &b->base);
        return;
    }
    if (planner_store_next_id (self->redis, req->arena, PLANNER_BENEFIT, unit->division, &b->id)) {
        pmo_request_unavailable (req, STORE_NAME);
        return;
    }
    s_store (self, req, b, 0, "benefit.created");
}

void planner_handle_create_benefit (planner_t *self, pmo_request_t *req, Pmo__Benefit *b)
{
    s_create (self, req, b, false);
}

//  A benefit's editable fields replaced, written or (check) only checked.
static void s_update (planner_t *self, pmo_request_t *req, Pmo__Benefit *next, bool check)
{
    const char *member = check ? "check_benefit" : "update_benefit";
    char field[48];
    uint64_t version;
    snprintf (field, sizeof field, "%s.id", member);
    Pmo__Benefit *b = s_read (self, req, next->id, field, &version);
    if (!b)
        return;
    if (!pmo_request_may (req, &planner_roles, PLANNER_BENEFITS, b->org_unit_path, "keep benefits"))
        return;
    if (!check && pmo_request_replayed (req, self->redis, b->division, STORE_NAME))
        return;
    snprintf (field, sizeof field, "%s.version", member);
    if (!pmo_request_version_matches (req, field, "benefit", next->version, version))
        return;
    if (!pmo_str_empty (next->org_unit) && !streq (next->org_unit, b->org_unit)) {
        snprintf (field, sizeof field, "%s.org_unit", member);
        FAIL (req, INVALID, field, "a benefit stays in its unit; create it again in the other");
        return;
    }
    //  The editable fields; measurements are kept (record_measurement adds them)
    next->measurements = b->measurements;
    next->n_measurements = b->n_measurements;
    if (pmo_str_empty (next->unit) && !pmo_str_empty (next->currency))
        next->unit = next->currency;
    pmo_problem_t problem;
    if (planner_benefit_check (next, &problem)) {
        pmo_request_fail_problem (req, &problem, member);
        return;
    }
    if (!s_links (self, req, next, member))
        return;
    if (next->status == PMO__BENEFIT_STATUS__BENEFIT_STATUS_UNSPECIFIED)
        next->status = b->status;
    next->org_unit = b->org_unit;
    next->org_unit_path = b->org_unit_path;
    next->division = b->division;
    next->realisation = b->realisation;
    next->created_ms = b->created_ms;
    next->created_by = b->created_by;
    if (check) {
        pmo_reflect_set_oneof (req->reply, "benefit", &next->base);
        return;
    }
    s_store (self, req, next, version, "benefit.updated");
}

void planner_handle_update_benefit (planner_t *self, pmo_request_t *req, Pmo__Benefit *next)
{
    s_update (self, req, next, false);
}

void planner_handle_check_benefit (planner_t *self, pmo_request_t *req, Pmo__Benefit *b)
{
    if (pmo_str_empty (b->id))
        s_create (self, req, b, true);
    else
        s_update (self, req, b, true);
}

void planner_handle_record_measurement (planner_t *self, pmo_request_t *req,
                                        Pmo__RecordMeasurementRequest *record)
{
    uint64_t version;
    Pmo__Benefit *b =
        s_read (self, req, record->benefit_id, "record_measurement.benefit_id", &version);
    if (!b)
        return;
    if (!pmo_request_may (req, &planner_roles, PLANNER_BENEFITS, b->org_unit_path,
                          "record benefit measurements"))
        return;
    if (pmo_request_replayed (req, self->redis, b->division, STORE_NAME))
        return;
    if (!pmo_request_version_matches (req, "record_measurement.version", "benefit", record->version,
                                      version))
        return;
    if (!planner_period_valid (record->period, NULL)) {
        FAIL (req, INVALID, "record_measurement.period", "'%.16s' is not a month YYYY-MM",
              record->period);
        return;
    }
    bool money = !pmo_str_empty (b->currency);
    if (!isfinite (record->value) || (money && record->value != floor (record->value))) {
        FAIL (req, INVALID, "record_measurement.value",
              money ? "money is a whole number of minor units" : "the value must be a number");
        return;
    }
    if (b->n_measurements >= PLANNER_MAX_POINTS) {
        FAIL (req, TOO_LARGE, "record_measurement", "at most %d measurements", PLANNER_MAX_POINTS);
        return;
    }
    Pmo__BenefitPoint point = PMO__BENEFIT_POINT__INIT;
    point.period = record->period;
    point.value = record->value;
    point.recorded_by = pmo_request_who (req)->subject;
    point.recorded_ms = pmo_now_ms ();
    planner_benefit_measure (b, &point, req->arena);
    if (b->status < PMO__BENEFIT_STATUS__BENEFIT_STATUS_REALISING)
        b->status = PMO__BENEFIT_STATUS__BENEFIT_STATUS_REALISING;
    s_store (self, req, b, version, "benefit.measured");
}

void planner_handle_get_benefit (planner_t *self, pmo_request_t *req, Pmo__BenefitGetRequest *get)
{
    Pmo__Benefit *b = s_read (self, req, get->id, "get_benefit.id", NULL);
    if (b)
        pmo_reflect_set_oneof (req->reply, "benefit", &b->base);
}

static bool s_has (char **list, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (streq (list[i], s))
            return true;
    return false;
}

//  Every benefit in org_unit's subtree (every unit when empty) that the
//  caller may see and that the filter lets through.
static int s_gather (planner_t *self, pmo_request_t *req, const char *org_unit,
                     const Pmo__BenefitListRequest *filter, Pmo__Benefit ***out, size_t *n_out)
{
    ProtobufCMessage **msgs;
    size_t n;
    if (planner_read_scope (self, req, org_unit, PLANNER_BENEFIT, &pmo__benefit__descriptor,
                            MAX_LIST, &msgs, &n))
        return -1;
    *out = pmo_arena_alloc (req->arena, (n + 1) * sizeof (void *));
    *n_out = 0;
    for (size_t i = 0; i < n; i++) {
        Pmo__Benefit *b = (Pmo__Benefit *)msgs[i];
        if (filter && !pmo_str_empty (filter->project_id) &&
            !s_has (b->project_ids, b->n_project_ids, filter->project_id))
            continue;
        if (filter && !pmo_str_empty (filter->programme_id) &&
            !s_has (b->programme_ids, b->n_programme_ids, filter->programme_id))
            continue;
        if (filter && filter->lagging_only && !(b->realisation && b->realisation->lagging))
            continue;
        (*out)[(*n_out)++] = b;
    }
    return 0;
}

void planner_handle_list_benefits (planner_t *self, pmo_request_t *req,
                                   Pmo__BenefitListRequest *list)
{
    Pmo__Benefit **benefits;
    size_t n;
    if (s_gather (self, req, list->org_unit, list, &benefits, &n))
        return;
    Pmo__BenefitList *reply = pmo_arena_alloc (req->arena, sizeof *reply);
    pmo__benefit_list__init (reply);
    reply->benefits = benefits;
    reply->n_benefits = n;
    pmo_reflect_set_oneof (req->reply, "benefits", &reply->base);
}

void planner_handle_rollup (planner_t *self, pmo_request_t *req, Pmo__BenefitRollupRequest *request)
{
    if (request->by == PMO__ROLLUP_BY__ROLLUP_BY_UNSPECIFIED)
        request->by = PMO__ROLLUP_BY__ROLLUP_BY_DIVISION;
    Pmo__Benefit **benefits;
    size_t n;
    if (s_gather (self, req, request->org_unit, NULL, &benefits, &n))
        return;
    planner_rollup_t rollup = {.arena = req->arena};
    for (size_t i = 0; i < n; i++) {
        Pmo__Benefit *b = benefits[i];
        switch (request->by) {
        case PMO__ROLLUP_BY__ROLLUP_BY_PROGRAMME:
            //  A benefit shared by two programmes counts in each
            for (size_t p = 0; p < b->n_programme_ids; p++)
                planner_rollup_add (&rollup, b->programme_ids[p], b);
            if (!b->n_programme_ids)
                planner_rollup_add (&rollup, "(no programme)", b);
            break;
        case PMO__ROLLUP_BY__ROLLUP_BY_PORTFOLIO:
            planner_rollup_add (
                &rollup, pmo_str_empty (b->portfolio_id) ? "(no portfolio)" : b->portfolio_id, b);
            break;
        case PMO__ROLLUP_BY__ROLLUP_BY_DIVISION:
            planner_rollup_add (&rollup, b->division, b);
            break;
        default:
            planner_rollup_add (&rollup, self->config.hub, b);
            break;
        }
    }
    planner_rollup_sort (&rollup);
    Pmo__BenefitRollup *reply = pmo_arena_alloc (req->arena, sizeof *reply);
    pmo__benefit_rollup__init (reply);
    reply->rows = rollup.rows;
    reply->n_rows = rollup.n;
    pmo_reflect_set_oneof (req->reply, "rollup", &reply->base);
}

//  ---------------------------------------------------------------------
//  The lag sweep

//  Whether time has moved the benefit's alert (evaluated on a copy)
static bool s_moved_by_time (planner_t *self, pmo_request_t *req, const Pmo__Benefit *stored)
{
    Pmo__Benefit *copy = (Pmo__Benefit *)pmo_reflect_copy (&stored->base, req->arena);
    Pmo__EffectivePolicy *policy = planner_effective (self, req, copy->org_unit_path, -1);
    if (!policy)
        return false;
    int changed;
    planner_benefit_evaluate (copy, policy->policy->lag_threshold, planner_month_now (self),
                              req->arena, &changed);
    return changed != 0;
}

int planner_sweep_lag (planner_t *self)
{
    //  The sweep acts as the planner itself, one internal request per
    //  benefit it changes (each its own commit and request id, so each
    //  is done once); a benefit changed meanwhile by a person is left to
    //  the next sweep (its version no longer matches)
    pmo_arena_t *arena = pmo_arena_new ();
    Pmo__PlannerReply reply = PMO__PLANNER_REPLY__INIT;
    Pmo__Header header;
    char id[40];
    pmo_header_init (&header, id, 10000, &self->identity);
    pmo_request_t scan = {.arena = arena, .header = &header, .reply = &reply.base};
    ProtobufCMessage **msgs;
    size_t n;
    int raised = 0;
    if (planner_read_scope (self, &scan, "", PLANNER_BENEFIT, &pmo__benefit__descriptor, MAX_LIST,
                            &msgs, &n) == 0) {
        for (size_t i = 0; i < n; i++) {
            Pmo__Benefit *b = (Pmo__Benefit *)msgs[i];
            if (!s_moved_by_time (self, &scan, b))
                continue;
            Pmo__PlannerReply one = PMO__PLANNER_REPLY__INIT;
            Pmo__Header one_header;
            char one_id[40];
            pmo_header_init (&one_header, one_id, 10000, &self->identity);
            pmo_request_t req = {.arena = arena, .header = &one_header, .reply = &one.base};
            s_store (self, &req, b, b->version, NULL);
            if (req.code == PMO__ERROR_CODE__ERROR_NONE) {
                raised++;
                pmo_info ("planner: lag sweep benefit=%s lagging=%d overdue=%s", b->id,
                          b->realisation && b->realisation->lagging,
                          b->realisation && b->realisation->overdue ? b->realisation->overdue_period
                                                                    : "no");
            }
        }
    } else
        pmo_warn ("planner: lag sweep skipped: %s", reply.error ? reply.error->message : "");
    pmo_arena_destroy (&arena);
    //  The sweep read every benefit at once: give the freed heap back, or
    //  the process keeps the high-water mark of every sweep (bench_soak)
    malloc_trim (0);
    return raised;
}
