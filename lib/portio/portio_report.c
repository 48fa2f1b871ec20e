/*  portio_report.c: the portfolio report (see the header). */
#include "portio_report.h"

#include "pmo_json.h"
#include "pmo_reflect.h"
#include "portio_csv.h"
#include "portio_internal.h"

#include <assert.h>
#include <czmq.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DEFAULT_PERIOD_DAYS 30
#define DAY_MS              86400000LL
#define LATEST_CHUNK        500  //  the registry's latest_reports limit
#define RED_LISTED          50   //  red projects listed by name at most (HTML)
#define HEALTH_MAX          2000 //  projects whose computed health is asked one by one
#define LISTED              50   //  over-allocated resources and alerts listed (HTML)

static const char *s_rag_names[4] = {"none", "green", "amber", "red"};
static const char *s_rag_colours[4] = {"#9e9e9e", "#2e7d32", "#f9a825", "#c62828"};

Pmo__Rag portio_report_index_rag (double index)
{
    if (index < 0)
        return PMO__RAG__RAG_UNSPECIFIED;
    if (index >= 0.95 && index <= 1.05)
        return PMO__RAG__RAG_GREEN;
    if ((index >= 0.90 && index < 0.95) || (index > 1.05 && index <= 1.10))
        return PMO__RAG__RAG_AMBER;
    return PMO__RAG__RAG_RED;
}

static const char *s_label (pmo_arena_t *arena, const ProtobufCEnumDescriptor *desc, int value)
{
    char buf[64];
    const char *label = pmo_json_enum_label (desc, value, buf, sizeof buf);
    return pmo_arena_strdup (arena, label ? label : "unspecified");
}

static void s_date_of (int64_t ms, char out[11])
{
    time_t seconds = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r (&seconds, &tm);
    strftime (out, 11, "%Y-%m-%d", &tm);
}

//  ---------------------------------------------------------------------
//  Computing

//  The direct sub-unit of unit on path ("hub/dft/dft-rail" under "hub":
//  "dft"); unit itself for its own projects.
static const char *s_sub_unit (pmo_arena_t *arena, const char *path, const char *unit)
{
    size_t len = strlen (unit);
    for (const char *p = path; p && *p;) {
        const char *slash = strchr (p, '/');
        size_t part = slash ? (size_t)(slash - p) : strlen (p);
        if (part == len && strncmp (p, unit, len) == 0) {
            if (!slash)
                return unit;
            const char *next = slash + 1;
            const char *end = strchr (next, '/');
            return pmo_arena_printf (arena, "%.*s", (int)(end ? end - next : (long)strlen (next)),
                                     next);
        }
        p = slash ? slash + 1 : NULL;
    }
    return unit;
}

static void s_change (portio_report_t *self, size_t *max, const char *what,
                      const portio_report_project_t *project, const char *text)
{
    if (self->n_changes == *max) {
        *max = *max ? *max * 2 : 32;
        portio_report_change_t *grown = pmo_arena_alloc (self->arena, *max * sizeof *grown);
        if (self->n_changes)
            memcpy (grown, self->changes, self->n_changes * sizeof *grown);
        self->changes = grown;
    }
    self->changes[self->n_changes++] = (portio_report_change_t){what, project, text};
}

portio_report_t *portio_report_compute (const Pmo__OrgUnit *unit, Pmo__OrgUnit *const *units,
                                        size_t n_units, Pmo__Project *const *projects, size_t n,
                                        Pmo__ProjectReports *const *reports, size_t n_reports,
                                        int64_t since_ms, int64_t now_ms)
{
    pmo_arena_t *arena = pmo_arena_new ();
    portio_report_t *self = pmo_arena_alloc (arena, sizeof (portio_report_t));
    self->arena = arena;
    self->org_unit = pmo_arena_strdup (arena, unit->id);
    self->org_unit_name = pmo_arena_strdup (arena, unit->name);
    self->org_unit_path = pmo_arena_strdup (arena, unit->path);
    self->generated_ms = now_ms;
    self->since_ms = since_ms;
    s_date_of (since_ms, self->since);
    self->risks_note = "the risk monitor was not asked";
    self->resources_note = "the resource allocator was not asked";
    self->alerts_note = "the risk monitor was not asked";
    self->health_note = "the risk monitor was not asked";

    //  The sub-units: the unit itself, then its direct children
    self->units = pmo_arena_alloc (arena, (n_units + 1) * sizeof (portio_report_unit_t));
    zhashx_t *unit_index = zhashx_new (); //  id -> index + 1
    self->units[0] = (portio_report_unit_t){.id = self->org_unit, .name = self->org_unit_name};
    self->n_units = 1;
    zhashx_insert (unit_index, self->org_unit, (void *)1);
    for (size_t i = 0; i < n_units; i++)
        if (strcmp (units[i]->parent, unit->id) == 0 && !units[i]->archived) {
            self->units[self->n_units] =
                (portio_report_unit_t){.id = pmo_arena_strdup (arena, units[i]->id),
                                       .name = pmo_arena_strdup (arena, units[i]->name)};
            zhashx_insert (unit_index, units[i]->id, (void *)(self->n_units + 1));
            self->n_units++;
        }
    zhashx_t *latest = zhashx_new (); //  project id -> its ProjectReports
    for (size_t i = 0; i < n_reports; i++)
        zhashx_insert (latest, reports[i]->project_id, reports[i]);

    //  The currency of the totals: the one most budgets use
    zhashx_t *currencies = zhashx_new ();
    size_t best = 0;
    self->currency = "GBP";
    for (size_t i = 0; i < n; i++) {
        const Pmo__Budget *b = projects[i]->budget;
        const Pmo__Money *m = b ? (b->baseline ? b->baseline : b->forecast) : NULL;
        if (!m || pmo_str_empty (m->currency))
            continue;
        size_t count = (size_t)zhashx_lookup (currencies, m->currency) + 1;
        zhashx_update (currencies, m->currency, (void *)count);
        if (count > best) {
            best = count;
            self->currency = pmo_arena_strdup (arena, m->currency);
        }
    }
    zhashx_destroy (&currencies);

    self->projects = pmo_arena_alloc (arena, (n + 1) * sizeof (portio_report_project_t));
    size_t max_changes = 0;
    char since[11];
    s_date_of (since_ms, since);
    for (size_t i = 0; i < n; i++) {
        const Pmo__Project *p = projects[i];
        if (p->archived)
            continue;
        portio_report_project_t *rp = &self->projects[self->n_projects++];
        rp->project = p;
        rp->unit = s_sub_unit (arena, p->org_unit_path, unit->id);
        rp->period_end = "";
        Pmo__ProjectReports *mine = zhashx_lookup (latest, p->id);
        if (mine && mine->n_reports) {
            rp->latest = mine->reports[0];
            rp->rag = rp->latest->overall;
            rp->period_end = rp->latest->period_end;
            if (mine->n_reports > 1)
                rp->previous_rag = mine->reports[1]->overall;
        }
        self->rag[rp->rag < 4 ? rp->rag : 0]++;
        self->phase[p->phase < 6 ? p->phase : 0]++;
        self->status[p->status < 7 ? p->status : 0]++;
        size_t u = (size_t)zhashx_lookup (unit_index, rp->unit);
        portio_report_unit_t *ru = &self->units[u ? u - 1 : 0];
        ru->projects++;
        ru->rag[rp->rag < 4 ? rp->rag : 0]++;
        //  Budgets in the report's currency are summed; others are counted
        const Pmo__Budget *b = p->budget;
        const Pmo__Money *money[3] = {b ? b->baseline : NULL, b ? b->actual : NULL,
                                      b ? b->forecast : NULL};
        int64_t *totals[3] = {&self->baseline, &self->actual, &self->forecast};
        bool counted = false, other = false;
        for (int k = 0; k < 3; k++) {
            if (!money[k])
                continue;
            if (strcmp (money[k]->currency, self->currency) != 0) {
                other = true;
                continue;
            }
            *totals[k] += money[k]->minor;
            if (k == 0)
                ru->baseline += money[k]->minor;
            counted = true;
        }
        self->with_budget += counted;
        self->other_currency += other;
        //  Earned value: summed, never averaged
        if (rp->latest && (rp->latest->pv_minor || rp->latest->ev_minor)) {
            self->pv += rp->latest->pv_minor;
            self->ev += rp->latest->ev_minor;
            self->with_ev++;
            if (rp->latest->has_ac) {
                self->ac += rp->latest->ac_minor;
                self->ev_with_ac += rp->latest->ev_minor;
                self->with_ac++;
            }
        }
        //  What changed since the last period
        if (p->created_ms >= since_ms)
            s_change (
                self, &max_changes, "new", rp,
                pmo_arena_printf (arena, "new project %s %s in %s", p->code, p->name, p->org_unit));
        if ((p->status == PMO__PROJECT_STATUS__PROJECT_STATUS_COMPLETED ||
             p->status == PMO__PROJECT_STATUS__PROJECT_STATUS_CANCELLED) &&
            p->updated_ms >= since_ms)
            s_change (
                self, &max_changes, "closed", rp,
                pmo_arena_printf (arena, "%s %s is %s", p->code, p->name,
                                  s_label (arena, &pmo__project_status__descriptor, p->status)));
        if (rp->latest && strcmp (rp->period_end, since) >= 0) {
            if (!rp->previous_rag)
                s_change (self, &max_changes, "first_report", rp,
                          pmo_arena_printf (arena, "%s %s: first status report (%s), %s", p->code,
                                            p->name, rp->period_end, s_rag_names[rp->rag & 3]));
            else if (rp->previous_rag != rp->rag)
                s_change (self, &max_changes, rp->rag > rp->previous_rag ? "rag_down" : "rag_up",
                          rp,
                          pmo_arena_printf (arena, "%s %s: %s -> %s (report of %s)", p->code,
                                            p->name, s_rag_names[rp->previous_rag & 3],
                                            s_rag_names[rp->rag & 3], rp->period_end));
        }
    }
    zhashx_destroy (&latest);
    zhashx_destroy (&unit_index);
    self->spi = self->pv > 0 ? (double)self->ev / (double)self->pv : -1;
    self->cpi = self->ac > 0 ? (double)self->ev_with_ac / (double)self->ac : -1;
    return self;
}

//  ---------------------------------------------------------------------
//  The other services' sections

static int s_risk_cmp (const void *a, const void *b)
{
    const Pmo__Risk *x = *(const Pmo__Risk *const *)a, *y = *(const Pmo__Risk *const *)b;
    int64_t ex = x->exposure ? x->exposure->minor : 0, ey = y->exposure ? y->exposure->minor : 0;
    if (ex != ey)
        return ex > ey ? -1 : 1;
    if (x->residual_score != y->residual_score)
        return x->residual_score > y->residual_score ? -1 : 1;
    return strcmp (x->id, y->id);
}

void portio_report_set_risks (portio_report_t *self, Pmo__Risk *const *risks, size_t n)
{
    pmo_arena_t *arena = self->arena;
    self->risks = pmo_arena_alloc (arena, (n + 1) * sizeof (Pmo__Risk *));
    self->risks_open = 0;
    for (size_t i = 0; i < n; i++)
        if (risks[i]->status == PMO__RISK_STATUS__RISK_STATUS_OPEN)
            self->risks[self->risks_open++] =
                (const Pmo__Risk *)pmo_reflect_copy (&risks[i]->base, arena);
    //  qsort wants a valid array even for nothing to sort
    if (self->risks_open > 1)
        qsort (self->risks, self->risks_open, sizeof (Pmo__Risk *), s_risk_cmp);
    zhashx_t *codes = zhashx_new ();
    for (size_t i = 0; i < self->n_projects; i++)
        zhashx_insert (codes, self->projects[i].project->id,
                       (void *)self->projects[i].project->code);
    self->risk_projects = pmo_arena_alloc (arena, (self->risks_open + 1) * sizeof (char *));
    memset (self->risks_band, 0, sizeof self->risks_band);
    self->risk_exposure = 0;
    self->risk_exposure_other = 0;
    for (size_t i = 0; i < self->risks_open; i++) {
        const Pmo__Risk *r = self->risks[i];
        const char *code = zhashx_lookup (codes, r->project_id);
        self->risk_projects[i] = code ? code : r->project_id;
        self->risks_band[r->residual_band < 6 ? r->residual_band : 0]++;
        //  Exposure adds up threats only: an opportunity's is a gain
        if (r->kind == PMO__RISK_KIND__RISK_KIND_OPPORTUNITY || !r->exposure)
            continue;
        if (strcmp (r->exposure->currency, self->currency) == 0)
            self->risk_exposure += r->exposure->minor;
        else if (r->exposure->minor)
            self->risk_exposure_other++;
    }
    zhashx_destroy (&codes);
    self->risks_note = NULL;
}

static uint64_t s_over_hours (const Pmo__AllocationConflict *c)
{
    uint64_t hours = 0;
    for (size_t w = 0; w < c->n_weeks; w++)
        hours += c->weeks[w]->over_by_hours;
    return hours;
}

static int s_overload_cmp (const void *a, const void *b)
{
    const Pmo__AllocationConflict *x = *(const Pmo__AllocationConflict *const *)a;
    const Pmo__AllocationConflict *y = *(const Pmo__AllocationConflict *const *)b;
    uint64_t hx = s_over_hours (x), hy = s_over_hours (y);
    if (hx != hy)
        return hx > hy ? -1 : 1;
    return strcmp (x->resource_id, y->resource_id);
}

void portio_report_set_overloads (portio_report_t *self, Pmo__AllocationConflict *const *conflicts,
                                  size_t n)
{
    self->overloads = pmo_arena_alloc (self->arena, (n + 1) * sizeof (void *));
    self->n_overloads = 0;
    self->over_hours = 0;
    for (size_t i = 0; i < n; i++) {
        if (!conflicts[i]->n_weeks)
            continue;
        self->overloads[self->n_overloads++] =
            (const Pmo__AllocationConflict *)pmo_reflect_copy (&conflicts[i]->base, self->arena);
        self->over_hours += s_over_hours (conflicts[i]);
    }
    //  qsort wants a valid array even for nothing to sort
    if (self->n_overloads > 1)
        qsort (self->overloads, self->n_overloads, sizeof (void *), s_overload_cmp);
    self->resources_note = NULL;
}

static int s_alert_cmp (const void *a, const void *b)
{
    const Pmo__Alert *x = *(const Pmo__Alert *const *)a, *y = *(const Pmo__Alert *const *)b;
    if (x->severity != y->severity)
        return x->severity > y->severity ? -1 : 1;
    if (x->raised_ms != y->raised_ms)
        return x->raised_ms < y->raised_ms ? -1 : 1;
    return strcmp (x->id, y->id);
}

void portio_report_set_alerts (portio_report_t *self, Pmo__Alert *const *alerts, size_t n)
{
    self->alerts = pmo_arena_alloc (self->arena, (n + 1) * sizeof (void *));
    self->n_alerts = 0;
    memset (self->alerts_severity, 0, sizeof self->alerts_severity);
    for (size_t i = 0; i < n; i++) {
        if (alerts[i]->state == PMO__ALERT_STATE__ALERT_STATE_RESOLVED)
            continue;
        self->alerts[self->n_alerts++] =
            (const Pmo__Alert *)pmo_reflect_copy (&alerts[i]->base, self->arena);
        self->alerts_severity[alerts[i]->severity < 4 ? alerts[i]->severity : 0]++;
    }
    //  qsort wants a valid array even for nothing to sort
    if (self->n_alerts > 1)
        qsort (self->alerts, self->n_alerts, sizeof (void *), s_alert_cmp);
    self->alerts_note = NULL;
}

void portio_report_set_health (portio_report_t *self, Pmo__HealthAssessment *const *health,
                               size_t n)
{
    zhashx_t *by_id = zhashx_new ();
    for (size_t i = 0; i < n; i++)
        if (health[i])
            zhashx_update (by_id, health[i]->project_id, health[i]);
    memset (self->health, 0, sizeof self->health);
    for (size_t i = 0; i < self->n_projects; i++) {
        portio_report_project_t *rp = &self->projects[i];
        const Pmo__HealthAssessment *a = zhashx_lookup (by_id, rp->project->id);
        rp->health = a && a->overall < 4 ? a->overall : PMO__RAG__RAG_UNSPECIFIED;
        self->health[rp->health]++;
    }
    zhashx_destroy (&by_id);
    self->health_note = NULL;
}

//  This ISO week ("2026-W14"): over-allocation from now on is what a report shows.
static void s_this_week (int64_t ms, char out[16])
{
    time_t seconds = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r (&seconds, &tm);
    strftime (out, 16, "%G-W%V", &tm);
}

//  Ask the allocator and the risk monitor for their sections; a service
//  that does not answer leaves a note instead.
static void s_fetch_services (const portio_import_peer_t *peer, portio_report_t *report,
                              pmo_arena_t *arena)
{
    char why[512];
    ProtobufCMessage **items;
    size_t n;
    if (peer->riskmon) {
        if (portio_import_svc_list (peer, arena, "risk", report->org_unit, &items, &n, why,
                                    sizeof why) == 0)
            portio_report_set_risks (report, (Pmo__Risk *const *)items, n);
        else
            report->risks_note = pmo_arena_printf (report->arena, "the risk monitor: %s", why);
        if (portio_import_svc_list (peer, arena, "alert", report->org_unit, &items, &n, why,
                                    sizeof why) == 0)
            portio_report_set_alerts (report, (Pmo__Alert *const *)items, n);
        else
            report->alerts_note = pmo_arena_printf (report->arena, "the risk monitor: %s", why);
        if (report->n_projects <= HEALTH_MAX) {
            Pmo__HealthAssessment **health =
                pmo_arena_alloc (arena, (report->n_projects + 1) * sizeof (void *));
            size_t got = 0;
            bool answered = true;
            for (size_t i = 0; i < report->n_projects && answered; i++) {
                Pmo__HealthRequest request = PMO__HEALTH_REQUEST__INIT;
                request.project_id = (char *)report->projects[i].project->id;
                ProtobufCMessage *reply = portio_import_service_call (
                    peer, PORTIO_IMPORT_RISKMON, "health", &request.base, why, sizeof why);
                if (!reply) {
                    answered = false;
                    break;
                }
                Pmo__RiskmonReply *rr = (Pmo__RiskmonReply *)reply;
                //  A project the risk monitor has not assessed yet is "not assessed"
                if (!rr->error && rr->body_case == PMO__RISKMON_REPLY__BODY_HEALTH &&
                    rr->health->current)
                    health[got++] = (Pmo__HealthAssessment *)pmo_reflect_copy (
                        &rr->health->current->base, arena);
                protobuf_c_message_free_unpacked (reply, NULL);
            }
            if (answered)
                portio_report_set_health (report, health, got);
            else
                report->health_note = pmo_arena_printf (report->arena, "the risk monitor: %s", why);
        } else
            report->health_note =
                pmo_arena_printf (report->arena,
                                  "computed health is asked project by project up to %d projects; "
                                  "see pmoctl health rollup for bigger units",
                                  HEALTH_MAX);
    }
    if (peer->allocator) {
        Pmo__ConflictsRequest request = PMO__CONFLICTS_REQUEST__INIT;
        char week[16];
        s_this_week (report->generated_ms, week);
        request.org_unit = (char *)report->org_unit;
        request.start_week = week;
        ProtobufCMessage *reply = portio_import_service_call (
            peer, PORTIO_IMPORT_ALLOCATOR, "conflicts", &request.base, why, sizeof why);
        Pmo__AllocatorReply *ar = (Pmo__AllocatorReply *)reply;
        if (ar && !ar->error && ar->body_case == PMO__ALLOCATOR_REPLY__BODY_CONFLICTS)
            portio_report_set_overloads (report, ar->conflicts->conflicts,
                                         ar->conflicts->n_conflicts);
        else
            report->resources_note = pmo_arena_printf (report->arena, "the resource allocator: %s",
                                                       ar && ar->error ? ar->error->message
                                                       : ar            ? "no conflicts in the reply"
                                                                       : why);
        if (reply)
            protobuf_c_message_free_unpacked (reply, NULL);
    }
}

void portio_report_destroy (portio_report_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        pmo_arena_t *fetched = (*self_p)->fetched;
        pmo_arena_t *arena = (*self_p)->arena;
        pmo_arena_destroy (&arena);
        pmo_arena_destroy (&fetched);
        *self_p = NULL;
    }
}

portio_report_t *portio_report_build (const portio_import_peer_t *peer, const char *org_unit,
                                      int64_t since_ms, char *why, size_t why_size)
{
    pmo_arena_t *arena = pmo_arena_new ();
    portio_report_t *report = NULL;
    ProtobufCMessage **units, **projects;
    size_t n_units, n_projects;
    Pmo__OrgUnit *unit = NULL;
    if (portio_import_list (peer, arena, PMO__ENTITY_KIND__ENTITY_KIND_ORG_UNIT, "", NULL, false,
                            &units, &n_units, why, why_size))
        goto done;
    for (size_t i = 0; i < n_units; i++)
        if (strcmp (((Pmo__OrgUnit *)units[i])->id, org_unit) == 0)
            unit = (Pmo__OrgUnit *)units[i];
    if (!unit) {
        snprintf (why, why_size, "no org unit '%s'", org_unit);
        goto done;
    }
    if (!since_ms) {
        //  One reporting period back, as the unit's effective policy says
        Pmo__GetRequest get = PMO__GET_REQUEST__INIT;
        get.kind = PMO__ENTITY_KIND__ENTITY_KIND_ORG_UNIT;
        get.id = (char *)org_unit;
        Pmo__RegistryReply *reply = portio_import_call (peer, "get", &get.base, why, why_size);
        if (!reply)
            goto done;
        uint32_t days = reply->org_unit && reply->org_unit->effective_policy
                            ? reply->org_unit->effective_policy->reporting_period_days
                            : 0;
        protobuf_c_message_free_unpacked (&reply->base, NULL);
        since_ms = pmo_now_ms () - (int64_t)(days ? days : DEFAULT_PERIOD_DAYS) * DAY_MS;
    }
    if (portio_import_list (peer, arena, PMO__ENTITY_KIND__ENTITY_KIND_PROJECT, org_unit, NULL,
                            false, &projects, &n_projects, why, why_size))
        goto done;
    //  The latest two reports of every project, 500 projects a request
    Pmo__ProjectReports **reports =
        pmo_arena_alloc (arena, (n_projects + 1) * sizeof (Pmo__ProjectReports *));
    size_t n_reports = 0;
    for (size_t first = 0; first < n_projects; first += LATEST_CHUNK) {
        size_t count = n_projects - first < LATEST_CHUNK ? n_projects - first : LATEST_CHUNK;
        Pmo__LatestReportsRequest request = PMO__LATEST_REPORTS_REQUEST__INIT;
        request.project_ids = pmo_arena_alloc (arena, count * sizeof (char *));
        for (size_t i = 0; i < count; i++)
            request.project_ids[i] = ((Pmo__Project *)projects[first + i])->id;
        request.n_project_ids = count;
        request.count = 2;
        Pmo__RegistryReply *reply =
            portio_import_call (peer, "latest_reports", &request.base, why, why_size);
        if (!reply)
            goto done;
        if (reply->error || !reply->latest_reports) {
            snprintf (why, why_size, "latest_reports: %s",
                      reply->error ? reply->error->message : "no body");
            protobuf_c_message_free_unpacked (&reply->base, NULL);
            goto done;
        }
        Pmo__LatestReports *copy =
            (Pmo__LatestReports *)pmo_reflect_copy (&reply->latest_reports->base, arena);
        protobuf_c_message_free_unpacked (&reply->base, NULL);
        for (size_t i = 0; i < copy->n_projects; i++)
            reports[n_reports++] = copy->projects[i];
    }
    report = portio_report_compute (unit, (Pmo__OrgUnit *const *)units, n_units,
                                    (Pmo__Project *const *)projects, n_projects, reports, n_reports,
                                    since_ms, pmo_now_ms ());
    s_fetch_services (peer, report, arena);
    //  The report points into what was fetched: it keeps that arena too
    report->fetched = arena;
    arena = NULL;
done:
    pmo_arena_destroy (&arena);
    return report;
}

//  ---------------------------------------------------------------------
//  JSON

static json_t *s_counts (const size_t *counts, size_t n, const ProtobufCEnumDescriptor *desc,
                         pmo_arena_t *arena)
{
    json_t *object = json_object ();
    for (size_t i = 0; i < n; i++) {
        const char *name =
            desc ? (i ? s_label (arena, desc, (int)i) : "unspecified") : s_rag_names[i];
        json_object_set_new (object, name, json_integer ((json_int_t)counts[i]));
    }
    return object;
}

static json_t *s_index (double value)
{
    return value < 0 ? json_null () : json_real ((double)(int64_t)(value * 1000 + 0.5) / 1000);
}

static const char *s_band_names[6] = {"unspecified", "minimal", "low",
                                      "medium",      "high",    "critical"};
static const char *s_severity_names[4] = {"unspecified", "info", "warning", "critical"};

static json_t *s_risk_json (const portio_report_t *self, size_t i)
{
    const Pmo__Risk *r = self->risks[i];
    return json_pack ("{s:s, s:s, s:s, s:s, s:s, s:I, s:s, s:I, s:s, s:s}", "id", r->id, "project",
                      self->risk_projects[i], "title", r->title, "owner", r->owner, "kind",
                      s_label (self->arena, &pmo__risk_kind__descriptor, r->kind), "residual_score",
                      (json_int_t)r->residual_score, "band",
                      s_band_names[r->residual_band < 6 ? r->residual_band : 0], "exposure_minor",
                      (json_int_t)(r->exposure ? r->exposure->minor : 0), "currency",
                      r->exposure ? r->exposure->currency : "", "proximity",
                      s_label (self->arena, &pmo__proximity__descriptor, r->proximity));
}

static json_t *s_risks_json (const portio_report_t *self)
{
    if (self->risks_note)
        return json_pack ("{s:b, s:s}", "available", 0, "note", self->risks_note);
    json_t *bands = json_object ();
    for (int b = 1; b < 6; b++)
        json_object_set_new (bands, s_band_names[b],
                             json_integer ((json_int_t)self->risks_band[b]));
    json_t *top = json_array ();
    for (size_t i = 0; i < self->risks_open && i < PORTIO_REPORT_TOP_RISKS; i++)
        json_array_append_new (top, s_risk_json (self, i));
    return json_pack ("{s:b, s:I, s:o, s:I, s:s, s:I, s:o}", "available", 1, "open",
                      (json_int_t)self->risks_open, "by_band", bands, "exposure_minor",
                      (json_int_t)self->risk_exposure, "currency", self->currency,
                      "exposure_other_currency", (json_int_t)self->risk_exposure_other, "top", top);
}

static json_t *s_overloads_json (const portio_report_t *self)
{
    if (self->resources_note)
        return json_pack ("{s:b, s:s}", "available", 0, "note", self->resources_note);
    json_t *list = json_array ();
    for (size_t i = 0; i < self->n_overloads; i++) {
        const Pmo__AllocationConflict *c = self->overloads[i];
        json_t *projects = json_array ();
        for (size_t k = 0; k < c->n_claims; k++)
            json_array_append_new (projects, json_string (c->claims[k]->project_code));
        json_array_append_new (list,
                               json_pack ("{s:s, s:s, s:s, s:I, s:I, s:s, s:o, s:s}", "resource_id",
                                          c->resource_id, "name", c->resource_name, "home_org_unit",
                                          c->home_org_unit, "weeks_over", (json_int_t)c->n_weeks,
                                          "over_hours", (json_int_t)s_over_hours (c), "first_week",
                                          c->n_weeks ? c->weeks[0]->week : "", "projects", projects,
                                          "summary", c->summary));
    }
    return json_pack ("{s:b, s:I, s:I, s:o}", "available", 1, "count",
                      (json_int_t)self->n_overloads, "over_hours", (json_int_t)self->over_hours,
                      "resources", list);
}

static json_t *s_alerts_json (const portio_report_t *self)
{
    if (self->alerts_note)
        return json_pack ("{s:b, s:s}", "available", 0, "note", self->alerts_note);
    json_t *by = json_object ();
    for (int v = 1; v < 4; v++)
        json_object_set_new (by, s_severity_names[v],
                             json_integer ((json_int_t)self->alerts_severity[v]));
    json_t *list = json_array ();
    for (size_t i = 0; i < self->n_alerts; i++) {
        const Pmo__Alert *a = self->alerts[i];
        json_array_append_new (
            list,
            json_pack ("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I}", "id", a->id, "project",
                       a->project_id, "kind",
                       s_label (self->arena, &pmo__alert_kind__descriptor, a->kind), "severity",
                       s_severity_names[a->severity < 4 ? a->severity : 0], "state",
                       s_label (self->arena, &pmo__alert_state__descriptor, a->state), "title",
                       a->title, "assignee", a->assignee, "raised_ms", (json_int_t)a->raised_ms));
    }
    return json_pack ("{s:b, s:I, s:o, s:o}", "available", 1, "count", (json_int_t)self->n_alerts,
                      "by_severity", by, "alerts", list);
}

json_t *portio_report_json (const portio_report_t *self)
{
    pmo_arena_t *arena = self->arena;
    json_t *units = json_array ();
    for (size_t i = 0; i < self->n_units; i++) {
        const portio_report_unit_t *u = &self->units[i];
        json_array_append_new (units, json_pack ("{s:s, s:s, s:I, s:o, s:I}", "id", u->id, "name",
                                                 u->name, "projects", (json_int_t)u->projects,
                                                 "rag", s_counts (u->rag, 4, NULL, arena),
                                                 "budget_baseline_minor", (json_int_t)u->baseline));
    }
    json_t *red = json_array ();
    json_t *projects = json_array ();
    for (size_t i = 0; i < self->n_projects; i++) {
        const portio_report_project_t *rp = &self->projects[i];
        const Pmo__Project *p = rp->project;
        json_t *one = json_pack (
            "{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I}", "id", p->id, "code", p->code, "name",
            p->name, "unit", rp->unit, "rag", s_rag_names[rp->rag & 3], "period_end",
            rp->period_end, "phase", s_label (arena, &pmo__phase__descriptor, p->phase), "status",
            s_label (arena, &pmo__project_status__descriptor, p->status), "budget_baseline_minor",
            (json_int_t)(p->budget && p->budget->baseline ? p->budget->baseline->minor : 0));
        json_object_set_new (one, "health",
                             json_string (self->health_note ? "unknown"
                                          : rp->health      ? s_rag_names[rp->health & 3]
                                                            : "not_assessed"));
        if (rp->rag == PMO__RAG__RAG_RED)
            json_array_append (red, one);
        json_array_append_new (projects, one);
    }
    json_t *changes = json_array ();
    for (size_t i = 0; i < self->n_changes; i++)
        json_array_append_new (changes, json_pack ("{s:s, s:s, s:s}", "what", self->changes[i].what,
                                                   "project", self->changes[i].project->project->id,
                                                   "text", self->changes[i].text));
    char generated[11];
    s_date_of (self->generated_ms, generated);
    json_t *root = json_pack (
        "{s:{s:s, s:s, s:s}, s:I, s:s, s:s, s:I, s:o, s:o, s:o, s:o, "
        "s:{s:s, s:I, s:I, s:I, s:I, s:I}, "
        "s:{s:I, s:I, s:I, s:I, s:I, s:o, s:o, s:s, s:s}, "
        "s:o, s:o, s:o}",
        "org_unit", "id", self->org_unit, "name", self->org_unit_name, "path", self->org_unit_path,
        "generated_ms", (json_int_t)self->generated_ms, "generated", generated, "since",
        self->since, "projects", (json_int_t)self->n_projects, "by_rag",
        s_counts (self->rag, 4, NULL, arena), "by_phase",
        s_counts (self->phase, 6, &pmo__phase__descriptor, arena), "by_status",
        s_counts (self->status, 7, &pmo__project_status__descriptor, arena), "by_unit", units,
        "budget", "currency", self->currency, "baseline_minor", (json_int_t)self->baseline,
        "actual_minor", (json_int_t)self->actual, "forecast_minor", (json_int_t)self->forecast,
        "projects_with_budget", (json_int_t)self->with_budget, "projects_other_currency",
        (json_int_t)self->other_currency, "earned_value", "pv_minor", (json_int_t)self->pv,
        "ev_minor", (json_int_t)self->ev, "ac_minor", (json_int_t)self->ac, "projects_with_ev",
        (json_int_t)self->with_ev, "projects_with_ac", (json_int_t)self->with_ac, "spi",
        s_index (self->spi), "cpi", s_index (self->cpi), "spi_rag",
        s_rag_names[portio_report_index_rag (self->spi)], "cpi_rag",
        s_rag_names[portio_report_index_rag (self->cpi)], "red_projects", red, "changes", changes,
        "projects_detail", projects);
    json_object_set_new (root, "risks", s_risks_json (self));
    json_object_set_new (root, "over_allocated_resources", s_overloads_json (self));
    json_object_set_new (root, "open_alerts", s_alerts_json (self));
    json_t *health = json_pack ("{s:b, s:s?}", "available", self->health_note == NULL, "note",
                                self->health_note);
    if (!self->health_note)
        json_object_set_new (health, "by_rag", s_counts (self->health, 4, NULL, arena));
    json_object_set_new (root, "health", health);
    return root;
}

//  ---------------------------------------------------------------------
//  CSV tables

static const char *s_tables[] = {"summary", "rag",   "phase",         "status", "units", "projects",
                                 "changes", "risks", "overallocated", "alerts", NULL};

const char *const *portio_report_tables (void)
{
    return s_tables;
}

static const char *s_amount (pmo_arena_t *arena, int64_t minor)
{
    char buf[40];
    return pmo_arena_strdup (arena, portio_csv_format_minor (minor, 2, buf, sizeof buf));
}

static const char *s_ratio_text (pmo_arena_t *arena, double value)
{
    return value < 0 ? "" : pmo_arena_printf (arena, "%.3f", value);
}

char *portio_report_csv (const portio_report_t *self, const char *table, bool bom, size_t *size)
{
    pmo_arena_t *arena = self->arena;
    portio_csv_writer_t *w = portio_csv_writer_new (',', bom);
    if (strcmp (table, "summary") == 0) {
        const char *head[] = {"measure", "value"};
        portio_csv_writer_row (w, head, 2);
        const char *rows[][2] = {
            {"org_unit", self->org_unit},
            {"since", self->since},
            {"projects", pmo_arena_printf (arena, "%zu", self->n_projects)},
            {"currency", self->currency},
            {"budget_baseline", s_amount (arena, self->baseline)},
            {"budget_actual", s_amount (arena, self->actual)},
            {"budget_forecast", s_amount (arena, self->forecast)},
            {"projects_with_budget", pmo_arena_printf (arena, "%zu", self->with_budget)},
            {"pv", s_amount (arena, self->pv)},
            {"ev", s_amount (arena, self->ev)},
            {"ac", s_amount (arena, self->ac)},
            {"spi", s_ratio_text (arena, self->spi)},
            {"cpi", s_ratio_text (arena, self->cpi)},
            {"risks_open",
             self->risks_note ? "" : pmo_arena_printf (arena, "%zu", self->risks_open)},
            {"risks_high",
             self->risks_note ? "" : pmo_arena_printf (arena, "%zu", self->risks_band[4])},
            {"risks_critical",
             self->risks_note ? "" : pmo_arena_printf (arena, "%zu", self->risks_band[5])},
            {"risk_exposure", self->risks_note ? "" : s_amount (arena, self->risk_exposure)},
            {"overallocated_resources",
             self->resources_note ? "" : pmo_arena_printf (arena, "%zu", self->n_overloads)},
            {"overallocated_hours",
             self->resources_note
                 ? ""
                 : pmo_arena_printf (arena, "%llu", (unsigned long long)self->over_hours)},
            {"open_alerts",
             self->alerts_note ? "" : pmo_arena_printf (arena, "%zu", self->n_alerts)},
            {"health_green",
             self->health_note ? "" : pmo_arena_printf (arena, "%zu", self->health[1])},
            {"health_amber",
             self->health_note ? "" : pmo_arena_printf (arena, "%zu", self->health[2])},
            {"health_red",
             self->health_note ? "" : pmo_arena_printf (arena, "%zu", self->health[3])},
            {"health_not_assessed",
             self->health_note ? "" : pmo_arena_printf (arena, "%zu", self->health[0])},
        };
        for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
            portio_csv_writer_row (w, rows[i], 2);
    } else if (strcmp (table, "rag") == 0 || strcmp (table, "phase") == 0 ||
               strcmp (table, "status") == 0) {
        const size_t *counts = table[0] == 'r'   ? self->rag
                               : table[0] == 'p' ? self->phase
                                                 : self->status;
        size_t n = table[0] == 'r' ? 4 : table[0] == 'p' ? 6 : 7;
        const ProtobufCEnumDescriptor *desc = table[0] == 'r'   ? NULL
                                              : table[0] == 'p' ? &pmo__phase__descriptor
                                                                : &pmo__project_status__descriptor;
        const char *head[] = {table, "projects"};
        portio_csv_writer_row (w, head, 2);
        for (size_t i = 0; i < n; i++) {
            const char *row[] = {desc ? (i ? s_label (arena, desc, (int)i) : "unspecified")
                                      : s_rag_names[i],
                                 pmo_arena_printf (arena, "%zu", counts[i])};
            portio_csv_writer_row (w, row, 2);
        }
    } else if (strcmp (table, "units") == 0) {
        const char *head[] = {"unit",  "name", "projects",  "green",
                              "amber", "red",  "no_report", "budget_baseline"};
        portio_csv_writer_row (w, head, 8);
        for (size_t i = 0; i < self->n_units; i++) {
            const portio_report_unit_t *u = &self->units[i];
            const char *row[] = {u->id,
                                 u->name,
                                 pmo_arena_printf (arena, "%zu", u->projects),
                                 pmo_arena_printf (arena, "%zu", u->rag[1]),
                                 pmo_arena_printf (arena, "%zu", u->rag[2]),
                                 pmo_arena_printf (arena, "%zu", u->rag[3]),
                                 pmo_arena_printf (arena, "%zu", u->rag[0]),
                                 s_amount (arena, u->baseline)};
            portio_csv_writer_row (w, row, 8);
        }
    } else if (strcmp (table, "projects") == 0) {
        const char *head[] = {"code",
                              "name",
                              "unit",
                              "rag",
                              "period_end",
                              "phase",
                              "status",
                              "baseline_finish",
                              "forecast_finish",
                              "budget_baseline",
                              "pv",
                              "ev",
                              "ac",
                              "health"};
        portio_csv_writer_row (w, head, 14);
        for (size_t i = 0; i < self->n_projects; i++) {
            const portio_report_project_t *rp = &self->projects[i];
            const Pmo__Project *p = rp->project;
            const Pmo__StatusReport *r = rp->latest;
            const char *row[] = {p->code,
                                 p->name,
                                 rp->unit,
                                 s_rag_names[rp->rag & 3],
                                 rp->period_end,
                                 s_label (arena, &pmo__phase__descriptor, p->phase),
                                 s_label (arena, &pmo__project_status__descriptor, p->status),
                                 p->baseline_finish,
                                 p->forecast_finish,
                                 p->budget && p->budget->baseline
                                     ? s_amount (arena, p->budget->baseline->minor)
                                     : "",
                                 r ? s_amount (arena, r->pv_minor) : "",
                                 r ? s_amount (arena, r->ev_minor) : "",
                                 r && r->has_ac ? s_amount (arena, r->ac_minor) : "",
                                 self->health_note ? ""
                                 : rp->health      ? s_rag_names[rp->health & 3]
                                                   : "not_assessed"};
            portio_csv_writer_row (w, row, 14);
        }
    } else if (strcmp (table, "changes") == 0) {
        const char *head[] = {"what", "code", "name", "text"};
        portio_csv_writer_row (w, head, 4);
        for (size_t i = 0; i < self->n_changes; i++) {
            const portio_report_change_t *c = &self->changes[i];
            const char *row[] = {c->what, c->project->project->code, c->project->project->name,
                                 c->text};
            portio_csv_writer_row (w, row, 4);
        }
    } else if (strcmp (table, "risks") == 0) {
        const char *head[] = {"rank",           "id",   "project",  "title",   "kind", "owner",
                              "residual_score", "band", "exposure", "currency"};
        portio_csv_writer_row (w, head, 10);
        for (size_t i = 0; i < self->risks_open && !self->risks_note; i++) {
            const Pmo__Risk *r = self->risks[i];
            const char *row[] = {pmo_arena_printf (arena, "%zu", i + 1),
                                 r->id,
                                 self->risk_projects[i],
                                 r->title,
                                 s_label (arena, &pmo__risk_kind__descriptor, r->kind),
                                 r->owner,
                                 pmo_arena_printf (arena, "%u", r->residual_score),
                                 s_band_names[r->residual_band < 6 ? r->residual_band : 0],
                                 s_amount (arena, r->exposure ? r->exposure->minor : 0),
                                 r->exposure ? r->exposure->currency : ""};
            portio_csv_writer_row (w, row, 10);
        }
    } else if (strcmp (table, "overallocated") == 0) {
        const char *head[] = {"resource_id", "name",       "home_org_unit", "weeks_over",
                              "over_hours",  "first_week", "projects",      "summary"};
        portio_csv_writer_row (w, head, 8);
        for (size_t i = 0; i < self->n_overloads; i++) {
            const Pmo__AllocationConflict *c = self->overloads[i];
            char *projects = pmo_arena_strdup (arena, "");
            for (size_t k = 0; k < c->n_claims; k++)
                projects = pmo_arena_printf (arena, "%s%s%s", projects, k ? ";" : "",
                                             c->claims[k]->project_code);
            const char *row[] = {
                c->resource_id,
                c->resource_name,
                c->home_org_unit,
                pmo_arena_printf (arena, "%zu", c->n_weeks),
                pmo_arena_printf (arena, "%llu", (unsigned long long)s_over_hours (c)),
                c->n_weeks ? c->weeks[0]->week : "",
                projects,
                c->summary};
            portio_csv_writer_row (w, row, 8);
        }
    } else if (strcmp (table, "alerts") == 0) {
        const char *head[] = {"id", "project", "kind", "severity", "state", "title", "assignee"};
        portio_csv_writer_row (w, head, 7);
        for (size_t i = 0; i < self->n_alerts; i++) {
            const Pmo__Alert *a = self->alerts[i];
            const char *row[] = {a->id,
                                 a->project_id,
                                 s_label (arena, &pmo__alert_kind__descriptor, a->kind),
                                 s_severity_names[a->severity < 4 ? a->severity : 0],
                                 s_label (arena, &pmo__alert_state__descriptor, a->state),
                                 a->title,
                                 a->assignee};
            portio_csv_writer_row (w, row, 7);
        }
    } else {
        portio_csv_writer_destroy (&w);
        return NULL;
    }
    size_t len;
    const char *data = portio_csv_writer_data (w, &len);
    char *out = malloc (len + 1);
    assert (out);
    memcpy (out, data, len + 1);
    if (size)
        *size = len;
    portio_csv_writer_destroy (&w);
    return out;
}

//  ---------------------------------------------------------------------
//  HTML

typedef struct {
    char *data;
    size_t size, max;
} page_t;

static void s_put (page_t *page, const char *text, size_t len)
{
    if (page->size + len + 1 > page->max) {
        while (page->size + len + 1 > page->max)
            page->max = page->max ? page->max * 2 : 65536;
        page->data = realloc (page->data, page->max);
        assert (page->data);
    }
    memcpy (page->data + page->size, text, len);
    page->size += len;
    page->data[page->size] = 0;
}

static void s_printf (page_t *page, const char *format, ...)
    __attribute__ ((format (printf, 2, 3)));
static void s_printf (page_t *page, const char *format, ...)
{
    va_list args;
    va_start (args, format);
    char *text = NULL;
    int len = vasprintf (&text, format, args);
    va_end (args);
    assert (len >= 0);
    s_put (page, text, (size_t)len);
    free (text);
}

//  Text for HTML: & < > " escaped.
static void s_text (page_t *page, const char *text)
{
    for (const char *p = text ? text : ""; *p;) {
        size_t run = strcspn (p, "&<>\"");
        s_put (page, p, run);
        p += run;
        if (!*p)
            break;
        const char *entity = *p == '&'   ? "&amp;"
                             : *p == '<' ? "&lt;"
                             : *p == '>' ? "&gt;"
                                         : "&quot;";
        s_put (page, entity, strlen (entity));
        p++;
    }
}

//  Money for people: £44,179.9m, £12,300
static const char *s_money (pmo_arena_t *arena, int64_t minor, const char *currency)
{
    const char *symbol = strcmp (currency, "GBP") == 0   ? "\xC2\xA3"
                         : strcmp (currency, "EUR") == 0 ? "\xE2\x82\xAC"
                         : strcmp (currency, "USD") == 0 ? "$"
                                                         : currency;
    int64_t major = minor / 100;
    if (major >= 1000000 || major <= -1000000) {
        int64_t tenths = (major / 100000 + (major % 100000 >= 50000 ? 1 : 0));
        char digits[32];
        int n = snprintf (digits, sizeof digits, "%" PRId64, tenths / 10);
        char grouped[48];
        size_t o = 0;
        for (int i = 0; i < n; i++) {
            if (i > 0 && digits[i - 1] != '-' && (n - i) % 3 == 0)
                grouped[o++] = ',';
            grouped[o++] = digits[i];
        }
        grouped[o] = 0;
        return pmo_arena_printf (arena, "%s%s.%" PRId64 "m", symbol, grouped,
                                 (tenths < 0 ? -tenths : tenths) % 10);
    }
    return pmo_arena_printf (arena, "%s%" PRId64, symbol, major);
}

//  A horizontal bar chart: one bar per label, its count written beside it.
static void s_bars (page_t *page, const char *title, const char *const *labels,
                    const size_t *counts, size_t n, const char *colour)
{
    size_t max = 1, shown = 0;
    for (size_t i = 0; i < n; i++) {
        max = counts[i] > max ? counts[i] : max;
        shown += counts[i] > 0;
    }
    int height = (int)(shown ? shown : 1) * 24 + 8;
    s_printf (page,
              "<figure><figcaption>%s</figcaption><svg viewBox=\"0 0 420 %d\" "
              "width=\"420\" height=\"%d\" role=\"img\">",
              title, height, height);
    int y = 4;
    for (size_t i = 0; i < n; i++) {
        if (!counts[i])
            continue;
        double width = 250.0 * (double)counts[i] / (double)max;
        s_printf (page, "<text x=\"120\" y=\"%d\" text-anchor=\"end\" class=\"l\">", y + 15);
        s_text (page, labels[i]);
        s_printf (page,
                  "</text><rect x=\"128\" y=\"%d\" width=\"%.1f\" height=\"18\" fill=\"%s\"/>"
                  "<text x=\"%.1f\" y=\"%d\" class=\"v\">%zu</text>",
                  y, width, colour, 128 + width + 4, y + 15, counts[i]);
        y += 24;
    }
    s_printf (page, "</svg></figure>");
}

//  The RAG split of the whole portfolio as one stacked bar with a legend.
static void s_rag_bar (page_t *page, const size_t *rag, size_t total)
{
    s_printf (page, "<figure class=\"wide\"><figcaption>Projects by RAG (latest status "
                    "report)</figcaption><svg viewBox=\"0 0 720 64\" width=\"720\" height=\"64\" "
                    "role=\"img\">");
    double x = 0;
    static const int order[] = {3, 2, 1, 0};
    for (int k = 0; k < 4; k++) {
        int i = order[k];
        if (!rag[i] || !total)
            continue;
        double width = 720.0 * (double)rag[i] / (double)total;
        s_printf (page, "<rect x=\"%.1f\" y=\"0\" width=\"%.1f\" height=\"32\" fill=\"%s\"/>", x,
                  width, s_rag_colours[i]);
        if (width > 24)
            s_printf (page,
                      "<text x=\"%.1f\" y=\"21\" text-anchor=\"middle\" class=\"in\">%zu</text>",
                      x + width / 2, rag[i]);
        x += width;
    }
    x = 0;
    for (int k = 0; k < 4; k++) {
        int i = order[k];
        s_printf (page,
                  "<rect x=\"%.0f\" y=\"44\" width=\"12\" height=\"12\" fill=\"%s\"/>"
                  "<text x=\"%.0f\" y=\"55\" class=\"l\">%s %zu</text>",
                  x, s_rag_colours[i], x + 16, i ? s_rag_names[i] : "no report", rag[i]);
        x += 140;
    }
    s_printf (page, "</svg></figure>");
}

//  Each sub-unit's projects as a stacked RAG bar.
static void s_unit_bars (page_t *page, const portio_report_t *self)
{
    size_t max = 1, shown = 0;
    for (size_t i = 0; i < self->n_units; i++) {
        max = self->units[i].projects > max ? self->units[i].projects : max;
        shown += self->units[i].projects > 0;
    }
    int height = (int)(shown ? shown : 1) * 22 + 8;
    s_printf (page,
              "<figure class=\"wide\"><figcaption>Projects by unit and RAG</figcaption><svg "
              "viewBox=\"0 0 720 %d\" width=\"720\" height=\"%d\" role=\"img\">",
              height, height);
    int y = 4;
    static const int order[] = {3, 2, 1, 0};
    for (size_t u = 0; u < self->n_units; u++) {
        const portio_report_unit_t *unit = &self->units[u];
        if (!unit->projects)
            continue;
        s_printf (page, "<text x=\"150\" y=\"%d\" text-anchor=\"end\" class=\"l\">", y + 14);
        s_text (page, unit->id);
        s_printf (page, "</text>");
        double x = 158;
        for (int k = 0; k < 4; k++) {
            int i = order[k];
            if (!unit->rag[i])
                continue;
            double width = 500.0 * (double)unit->rag[i] / (double)max;
            s_printf (page,
                      "<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"16\" fill=\"%s\"><title>"
                      "%s: %zu</title></rect>",
                      x, y, width, s_rag_colours[i], s_rag_names[i], unit->rag[i]);
            x += width;
        }
        s_printf (page, "<text x=\"%.1f\" y=\"%d\" class=\"v\">%zu</text>", x + 4, y + 14,
                  unit->projects);
        y += 22;
    }
    s_printf (page, "</svg></figure>");
}

static void s_index_cell (page_t *page, const char *name, double value)
{
    Pmo__Rag rag = portio_report_index_rag (value);
    if (value < 0)
        s_printf (page, "<div class=\"kpi\"><b>n/a</b><span>%s</span></div>", name);
    else
        s_printf (page,
                  "<div class=\"kpi\" style=\"border-color:%s\"><b style=\"color:%s\">%.2f</b>"
                  "<span>%s</span></div>",
                  s_rag_colours[rag], s_rag_colours[rag], value, name);
}

static void s_note (page_t *page, const char *note)
{
    s_printf (page, "<p class=\"note\">");
    s_text (page, note);
    s_printf (page, "</p>");
}

//  The sections the risk monitor and the allocator fill.
static void s_html_services (page_t *page, const portio_report_t *self)
{
    pmo_arena_t *arena = self->arena;
    //  Computed health beside the reported RAG
    s_printf (page, "<h2>Computed health (risk monitor)</h2>");
    if (self->health_note)
        s_note (page, self->health_note);
    else {
        const char *labels[4] = {"not assessed", "green", "amber", "red"};
        size_t counts[4] = {self->health[3], self->health[2], self->health[1], self->health[0]};
        const char *ordered[4] = {labels[3], labels[2], labels[1], labels[0]};
        s_bars (page, "Projects by computed health", ordered, counts, 4, "#455a64");
        s_printf (page,
                  "<p class=\"note\">Computed from earned value, milestones, forecast finish, "
                  "open risks, over-allocated resources and stale reports, by the thresholds of "
                  "each project's PMO unit; the RAG above is what project managers reported.</p>");
    }
    //  Risks
    s_printf (page, "<h2>Top risks by exposure</h2>");
    if (self->risks_note)
        s_note (page, self->risks_note);
    else {
        s_printf (page,
                  "<div class=\"kpis\"><div class=\"kpi\"><b>%zu</b><span>open risks</span></div>"
                  "<div class=\"kpi\" style=\"border-color:%s\"><b style=\"color:%s\">%zu</b>"
                  "<span>critical (residual 20-25)</span></div><div class=\"kpi\"><b>%zu</b>"
                  "<span>high (12-19)</span></div><div class=\"kpi\"><b>%s</b><span>exposure of "
                  "open threats</span></div></div>",
                  self->risks_open, s_rag_colours[3], s_rag_colours[3], self->risks_band[5],
                  self->risks_band[4], s_money (arena, self->risk_exposure, self->currency));
        const char *bands[5] = {s_band_names[5], s_band_names[4], s_band_names[3], s_band_names[2],
                                s_band_names[1]};
        size_t counts[5] = {self->risks_band[5], self->risks_band[4], self->risks_band[3],
                            self->risks_band[2], self->risks_band[1]};
        s_bars (page, "Open risks by residual band", bands, counts, 5, "#c62828");
        if (self->risks_open) {
            s_printf (page, "<table><tr><th>#</th><th>project</th><th>risk</th><th>owner</th>"
                            "<th class=\"n\">score</th><th class=\"n\">exposure</th></tr>");
            for (size_t i = 0; i < self->risks_open && i < PORTIO_REPORT_TOP_RISKS; i++) {
                const Pmo__Risk *r = self->risks[i];
                s_printf (page, "<tr><td>%zu</td><td>", i + 1);
                s_text (page, self->risk_projects[i]);
                s_printf (page, "</td><td>");
                s_text (page, r->title);
                s_printf (page, "</td><td>");
                s_text (page, r->owner);
                s_printf (page, "</td><td class=\"n\">%u (%s)</td><td class=\"n\">%s</td></tr>",
                          r->residual_score,
                          s_band_names[r->residual_band < 6 ? r->residual_band : 0],
                          r->exposure ? s_money (arena, r->exposure->minor,
                                                 pmo_str_empty (r->exposure->currency)
                                                     ? self->currency
                                                     : r->exposure->currency)
                                      : "");
            }
            s_printf (page, "</table>");
        }
        if (self->risk_exposure_other)
            s_printf (page,
                      "<p class=\"note\">%zu open threats have an exposure in another currency "
                      "and are not in the total.</p>",
                      self->risk_exposure_other);
    }
    //  Over-allocated resources
    s_printf (page, "<h2>Over-allocated resources (from this week)</h2>");
    if (self->resources_note)
        s_note (page, self->resources_note);
    else if (!self->n_overloads)
        s_printf (page, "<p>None: no one is committed beyond capacity.</p>");
    else {
        s_printf (page,
                  "<p>%zu resources are committed beyond capacity, %llu hours over in all.</p>"
                  "<table><tr><th>resource</th><th>unit</th><th class=\"n\">weeks over</th>"
                  "<th class=\"n\">hours over</th><th>from</th><th>claims (by priority)</th></tr>",
                  self->n_overloads, (unsigned long long)self->over_hours);
        for (size_t i = 0; i < self->n_overloads && i < LISTED; i++) {
            const Pmo__AllocationConflict *c = self->overloads[i];
            s_printf (page, "<tr><td>");
            s_text (page, c->resource_name);
            s_printf (page, "</td><td>");
            s_text (page, c->home_org_unit);
            s_printf (page, "</td><td class=\"n\">%zu</td><td class=\"n\">%llu</td><td>%s</td><td>",
                      c->n_weeks, (unsigned long long)s_over_hours (c),
                      c->n_weeks ? c->weeks[0]->week : "");
            for (size_t k = 0; k < c->n_claims; k++) {
                s_printf (page, "%s", k ? ", " : "");
                s_text (page, c->claims[k]->project_code);
                s_printf (page, " %uh/wk", c->claims[k]->hours_per_week);
            }
            s_printf (page, "</td></tr>");
        }
        s_printf (page, "</table>");
        if (self->n_overloads > LISTED)
            s_printf (page, "<p class=\"note\">and %zu more (see the overallocated CSV table)</p>",
                      self->n_overloads - LISTED);
    }
    //  Open alerts
    s_printf (page, "<h2>Open alerts (%zu)</h2>", self->alerts_note ? (size_t)0 : self->n_alerts);
    if (self->alerts_note)
        s_note (page, self->alerts_note);
    else if (!self->n_alerts)
        s_printf (page, "<p>None.</p>");
    else {
        s_printf (page,
                  "<p>%zu critical, %zu warning, %zu info.</p><table><tr><th>severity</th>"
                  "<th>alert</th><th>with</th><th>state</th></tr>",
                  self->alerts_severity[3], self->alerts_severity[2], self->alerts_severity[1]);
        for (size_t i = 0; i < self->n_alerts && i < LISTED; i++) {
            const Pmo__Alert *a = self->alerts[i];
            s_printf (page,
                      "<tr><td><span class=\"dot\" style=\"background:%s\"></span>%s</td><td>",
                      s_rag_colours[a->severity == 3   ? 3
                                    : a->severity == 2 ? 2
                                                       : 0],
                      s_severity_names[a->severity < 4 ? a->severity : 0]);
            s_text (page, a->title);
            s_printf (page, "</td><td>");
            s_text (page, a->assignee);
            s_printf (page, "</td><td>%s</td></tr>",
                      s_label (arena, &pmo__alert_state__descriptor, a->state));
        }
        s_printf (page, "</table>");
        if (self->n_alerts > LISTED)
            s_printf (page, "<p class=\"note\">and %zu more (see the alerts CSV table)</p>",
                      self->n_alerts - LISTED);
    }
}

char *portio_report_html (const portio_report_t *self, size_t *size)
{
    pmo_arena_t *arena = self->arena;
    page_t page = {0};
    char generated[11];
    s_date_of (self->generated_ms, generated);
    s_printf (&page, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                     "<title>Portfolio report: ");
    s_text (&page, self->org_unit_name);
    s_printf (
        &page,
        "</title><style>"
        "body{font:14px/1.4 system-ui,-apple-system,'Segoe UI',Roboto,Arial,sans-serif;"
        "color:#222;max-width:980px;margin:24px auto;padding:0 16px}"
        "h1{font-size:24px;margin:0}h2{font-size:17px;border-bottom:2px solid #ddd;"
        "padding-bottom:4px;margin-top:28px}.sub{color:#666}"
        ".kpis{display:flex;gap:12px;flex-wrap:wrap}.kpi{border:2px solid #ddd;border-radius:6px;"
        "padding:8px 14px;min-width:120px}.kpi b{display:block;font-size:22px}"
        ".kpi span{color:#666;font-size:12px}"
        "figure{display:inline-block;margin:8px 16px 8px 0;vertical-align:top}"
        "figure.wide{display:block}figcaption{font-weight:600;margin-bottom:4px}"
        "svg text{font-size:12px}svg .in{fill:#fff;font-weight:600}svg .v{fill:#333}"
        "table{border-collapse:collapse;width:100%%;font-size:13px}"
        "th,td{text-align:left;padding:4px 6px;border-bottom:1px solid #eee;vertical-align:top}"
        "td.n,th.n{text-align:right}.dot{display:inline-block;width:10px;height:10px;"
        "border-radius:50%%;margin-right:6px}.note{color:#666;font-style:italic}"
        "@media print{body{margin:0;max-width:none}h2{break-after:avoid}"
        "figure,tr{break-inside:avoid}@page{size:A4;margin:14mm}}"
        "</style></head><body>\n<h1>Portfolio report: ");
    s_text (&page, self->org_unit_name);
    s_printf (&page, "</h1><p class=\"sub\">");
    s_text (&page, self->org_unit_path);
    s_printf (&page, " &middot; %zu projects &middot; generated %s &middot; changes since %s</p>\n",
              self->n_projects, generated, self->since);

    //  Headline figures
    s_printf (&page, "<div class=\"kpis\">");
    s_printf (&page, "<div class=\"kpi\"><b>%zu</b><span>projects</span></div>", self->n_projects);
    s_printf (&page,
              "<div class=\"kpi\" style=\"border-color:%s\"><b style=\"color:%s\">%zu</b>"
              "<span>red</span></div>",
              s_rag_colours[3], s_rag_colours[3], self->rag[3]);
    s_printf (&page,
              "<div class=\"kpi\"><b>%s</b><span>budget baseline (%zu projects)</span></div>",
              s_money (arena, self->baseline, self->currency), self->with_budget);
    s_index_cell (&page, "SPI (summed EV / PV)", self->spi);
    s_index_cell (&page, "CPI (summed EV / AC)", self->cpi);
    s_printf (&page, "</div>\n<h2>Health</h2>");
    s_rag_bar (&page, self->rag, self->n_projects);
    if (self->n_units > 1)
        s_unit_bars (&page, self);
    const char *phases[6], *statuses[7];
    for (int i = 0; i < 6; i++)
        phases[i] = i ? s_label (arena, &pmo__phase__descriptor, i) : "unspecified";
    for (int i = 0; i < 7; i++)
        statuses[i] = i ? s_label (arena, &pmo__project_status__descriptor, i) : "unspecified";
    s_bars (&page, "By phase", phases, self->phase, 6, "#1565c0");
    s_bars (&page, "By status", statuses, self->status, 7, "#6a1b9a");

    //  Money
    s_printf (&page, "<h2>Budget and earned value</h2><table><tr><th></th><th class=\"n\">"
                     "total</th><th class=\"n\">projects</th></tr>");
    s_printf (&page,
              "<tr><td>Budget baseline</td><td class=\"n\">%s</td><td class=\"n\">%zu</td></tr>",
              s_money (arena, self->baseline, self->currency), self->with_budget);
    s_printf (&page, "<tr><td>Budget forecast</td><td class=\"n\">%s</td><td></td></tr>",
              s_money (arena, self->forecast, self->currency));
    s_printf (&page, "<tr><td>Actual cost to date</td><td class=\"n\">%s</td><td></td></tr>",
              s_money (arena, self->actual, self->currency));
    s_printf (&page,
              "<tr><td>Planned value (PV)</td><td class=\"n\">%s</td><td class=\"n\">%zu</td></tr>"
              "<tr><td>Earned value (EV)</td><td class=\"n\">%s</td><td></td></tr>"
              "<tr><td>Actual cost (AC)</td><td class=\"n\">%s</td><td class=\"n\">%zu</td></tr>"
              "</table>",
              s_money (arena, self->pv, self->currency), self->with_ev,
              s_money (arena, self->ev, self->currency), s_money (arena, self->ac, self->currency),
              self->with_ac);
    s_printf (&page,
              "<p class=\"note\">Indices come from the sums of PV, EV and AC over the "
              "projects' latest reports, never from an average of ratios; CPI counts only "
              "projects that reported actual cost.%s</p>",
              self->other_currency
                  ? pmo_arena_printf (arena,
                                      " %zu projects budget in another currency and are "
                                      "not in these totals.",
                                      self->other_currency)
                  : "");

    //  The sub-units
    if (self->n_units > 1) {
        s_printf (&page, "<h2>By unit</h2><table><tr><th>unit</th><th>name</th><th class=\"n\">"
                         "projects</th><th class=\"n\">red</th><th class=\"n\">amber</th><th "
                         "class=\"n\">green</th><th class=\"n\">no report</th><th "
                         "class=\"n\">baseline</th></tr>");
        for (size_t i = 0; i < self->n_units; i++) {
            const portio_report_unit_t *u = &self->units[i];
            if (!u->projects)
                continue;
            s_printf (&page, "<tr><td>");
            s_text (&page, u->id);
            s_printf (&page, "</td><td>");
            s_text (&page, u->name);
            s_printf (&page,
                      "</td><td class=\"n\">%zu</td><td class=\"n\">%zu</td><td class=\"n\">%zu"
                      "</td><td class=\"n\">%zu</td><td class=\"n\">%zu</td><td class=\"n\">%s"
                      "</td></tr>",
                      u->projects, u->rag[3], u->rag[2], u->rag[1], u->rag[0],
                      s_money (arena, u->baseline, self->currency));
        }
        s_printf (&page, "</table>");
    }

    //  Red projects
    s_printf (&page, "<h2>Red projects (%zu)</h2>", self->rag[3]);
    if (self->rag[3]) {
        s_printf (&page, "<table><tr><th>code</th><th>project</th><th>unit</th><th>report</th>"
                         "<th class=\"n\">baseline</th></tr>");
        size_t listed = 0;
        for (size_t i = 0; i < self->n_projects && listed < RED_LISTED; i++) {
            const portio_report_project_t *rp = &self->projects[i];
            if (rp->rag != PMO__RAG__RAG_RED)
                continue;
            listed++;
            const Pmo__Project *p = rp->project;
            s_printf (&page, "<tr><td>");
            s_text (&page, p->code);
            s_printf (&page, "</td><td><span class=\"dot\" style=\"background:%s\"></span>",
                      s_rag_colours[3]);
            s_text (&page, p->name);
            s_printf (&page, "</td><td>");
            s_text (&page, rp->unit);
            s_printf (&page, "</td><td>%s</td><td class=\"n\">%s</td></tr>", rp->period_end,
                      p->budget && p->budget->baseline
                          ? s_money (arena, p->budget->baseline->minor, self->currency)
                          : "");
        }
        s_printf (&page, "</table>");
        if (self->rag[3] > listed)
            s_printf (&page, "<p class=\"note\">and %zu more (see the projects CSV table)</p>",
                      self->rag[3] - listed);
    } else
        s_printf (&page, "<p>None.</p>");

    //  Changes
    s_printf (&page, "<h2>Changes since %s (%zu)</h2>", self->since, self->n_changes);
    if (self->n_changes) {
        s_printf (&page, "<ul>");
        for (size_t i = 0; i < self->n_changes && i < 200; i++) {
            s_printf (&page, "<li>");
            s_text (&page, self->changes[i].text);
            s_printf (&page, "</li>");
        }
        s_printf (&page, "</ul>");
    } else
        s_printf (&page, "<p>None.</p>");

    s_html_services (&page, self);
    s_printf (&page, "\n</body></html>\n");
    if (size)
        *size = page.size;
    return page.data;
}
