/*  portio_report.c: the portfolio report (see the header): computing it
    from the registry's records, the other services' sections, fetching
    what it needs, and its JSON. The CSV tables are portio_report_csv.c's,
    the HTML page portio_report_html.c's.
*/
#include "portio_report.h"

#include "pmo_access.h"
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
#define HEALTH_MAX          2000 //  projects whose computed health is asked one by one

const char *const portio_report_rag_names[4] = {"none", "green", "amber", "red"};
const char *const portio_report_band_names[6] = {"unspecified", "minimal", "low",
                                                 "medium",      "high",    "critical"};
const char *const portio_report_severity_names[4] = {"unspecified", "info", "warning", "critical"};

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

const char *portio_report_label (pmo_arena_t *arena, const ProtobufCEnumDescriptor *desc, int value)
{
    char buf[64];
    const char *label = pmo_json_enum_label (desc, value, buf, sizeof buf);
    return pmo_arena_strdup (arena, label ? label : "unspecified");
}

void portio_report_date_of (int64_t ms, char out[11])
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

//  The sub-units: the unit itself, then its direct children; unit_index
//  maps their ids to index + 1.
static void s_compute_units (portio_report_t *self, const Pmo__OrgUnit *unit,
                             Pmo__OrgUnit *const *units, size_t n_units, zhashx_t *unit_index)
{
    pmo_arena_t *arena = self->arena;
    self->units = pmo_arena_alloc (arena, (n_units + 1) * sizeof (portio_report_unit_t));
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
}

//  The currency of the totals: the one most budgets use.
static void s_compute_currency (portio_report_t *self, Pmo__Project *const *projects, size_t n)
{
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
            self->currency = pmo_arena_strdup (self->arena, m->currency);
        }
    }
    zhashx_destroy (&currencies);
}

//  A project's money: budgets in the report's currency are summed (others
//  are counted), and earned value is summed, never averaged.
static void s_add_money (portio_report_t *self, portio_report_unit_t *ru,
                         const portio_report_project_t *rp)
{
    const Pmo__Budget *b = rp->project->budget;
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
}

//  What changed about a project since the last period (since, as a date).
static void s_add_changes (portio_report_t *self, size_t *max_changes,
                           const portio_report_project_t *rp, const char *since)
{
    pmo_arena_t *arena = self->arena;
    const Pmo__Project *p = rp->project;
    if (p->created_ms >= self->since_ms)
        s_change (
            self, max_changes, "new", rp,
            pmo_arena_printf (arena, "new project %s %s in %s", p->code, p->name, p->org_unit));
    if ((p->status == PMO__PROJECT_STATUS__PROJECT_STATUS_COMPLETED ||
         p->status == PMO__PROJECT_STATUS__PROJECT_STATUS_CANCELLED) &&
        p->updated_ms >= self->since_ms)
        s_change (self, max_changes, "closed", rp,
                  pmo_arena_printf (
                      arena, "%s %s is %s", p->code, p->name,
                      portio_report_label (arena, &pmo__project_status__descriptor, p->status)));
    if (rp->latest && strcmp (rp->period_end, since) >= 0) {
        if (!rp->previous_rag)
            s_change (self, max_changes, "first_report", rp,
                      pmo_arena_printf (arena, "%s %s: first status report (%s), %s", p->code,
                                        p->name, rp->period_end,
                                        portio_report_rag_names[rp->rag & 3]));
        else if (rp->previous_rag != rp->rag)
            s_change (self, max_changes, rp->rag > rp->previous_rag ? "rag_down" : "rag_up", rp,
                      pmo_arena_printf (arena, "%s %s: %s -> %s (report of %s)", p->code, p->name,
                                        portio_report_rag_names[rp->previous_rag & 3],
                                        portio_report_rag_names[rp->rag & 3], rp->period_end));
    }
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
    self->covers = pmo_arena_printf (arena, "all of %s", unit->id);
    self->generated_ms = now_ms;
    self->since_ms = since_ms;
    portio_report_date_of (since_ms, self->since);
    self->risks_note = "the risk monitor was not asked";
    self->resources_note = "the resource allocator was not asked";
    self->alerts_note = "the risk monitor was not asked";
    self->health_note = "the risk monitor was not asked";

    zhashx_t *unit_index = zhashx_new (); //  id -> index + 1
    s_compute_units (self, unit, units, n_units, unit_index);
    zhashx_t *latest = zhashx_new (); //  project id -> its ProjectReports
    for (size_t i = 0; i < n_reports; i++)
        zhashx_insert (latest, reports[i]->project_id, reports[i]);
    s_compute_currency (self, projects, n);

    self->projects = pmo_arena_alloc (arena, (n + 1) * sizeof (portio_report_project_t));
    size_t max_changes = 0;
    char since[11];
    portio_report_date_of (since_ms, since);
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
        s_add_money (self, ru, rp);
        s_add_changes (self, &max_changes, rp, since);
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

uint64_t portio_report_over_hours (const Pmo__AllocationConflict *c)
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
    uint64_t hx = portio_report_over_hours (x), hy = portio_report_over_hours (y);
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
        self->over_hours += portio_report_over_hours (conflicts[i]);
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

const char *portio_report_claim_name (const Pmo__ConflictClaim *claim)
{
    return claim->project_code && *claim->project_code ? claim->project_code : "elsewhere";
}

//  A grant of a role that reads (not metrics)
static bool s_reads (const Pmo__Grant *g)
{
    return g && g->role != PMO__ROLE__ROLE_UNSPECIFIED && g->role != PMO__ROLE__ROLE_METRICS;
}

//  What a report on unit covers for who: all of it if a grant is held on
//  its path; else the units below it where who holds grants (the services
//  answer only those). Roles that read nothing (metrics) do not count.
static const char *s_covers (pmo_arena_t *arena, const Pmo__Identity *who, const Pmo__OrgUnit *unit,
                             Pmo__OrgUnit *const *units, size_t n_units)
{
    if (!who)
        return pmo_arena_printf (arena, "all of %s", unit->id);
    char *parts = NULL;
    for (size_t i = 0; i < who->n_grants; i++) {
        const Pmo__Grant *g = who->grants[i];
        if (!s_reads (g))
            continue;
        if (pmo_path_contains (unit->path, g->org_unit))
            return pmo_arena_printf (arena, "all of %s", unit->id);
        bool again = false; //  a unit named by an earlier grant that counted
        for (size_t j = 0; j < i && !again; j++)
            again = s_reads (who->grants[j]) && strcmp (who->grants[j]->org_unit, g->org_unit) == 0;
        for (size_t k = 0; k < n_units && !again; k++)
            if (strcmp (units[k]->id, g->org_unit) == 0 &&
                pmo_path_contains (units[k]->path, unit->id))
                parts = parts ? pmo_arena_printf (arena, "%s, %s", parts, g->org_unit)
                              : pmo_arena_strdup (arena, g->org_unit);
    }
    if (!parts)
        return pmo_arena_printf (arena,
                                 "none of %s beyond what everyone signed in sees (your grants "
                                 "reach no part of it)",
                                 unit->id);
    return pmo_arena_printf (arena,
                             "only %s of %s (the parts your grants reach): totals count nothing "
                             "else, and people elsewhere only as hours",
                             parts, unit->id);
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
    report->covers =
        s_covers (report->arena, peer->identity, unit, (Pmo__OrgUnit *const *)units, n_units);
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
        const char *name = desc ? (i ? portio_report_label (arena, desc, (int)i) : "unspecified")
                                : portio_report_rag_names[i];
        json_object_set_new (object, name, json_integer ((json_int_t)counts[i]));
    }
    return object;
}

static json_t *s_index (double value)
{
    return value < 0 ? json_null () : json_real ((double)(int64_t)(value * 1000 + 0.5) / 1000);
}

static json_t *s_risk_json (const portio_report_t *self, size_t i)
{
    const Pmo__Risk *r = self->risks[i];
    return json_pack ("{s:s, s:s, s:s, s:s, s:s, s:I, s:s, s:I, s:s, s:s}", "id", r->id, "project",
                      self->risk_projects[i], "title", r->title, "owner", r->owner, "kind",
                      portio_report_label (self->arena, &pmo__risk_kind__descriptor, r->kind),
                      "residual_score", (json_int_t)r->residual_score, "band",
                      portio_report_band_names[r->residual_band < 6 ? r->residual_band : 0],
                      "exposure_minor", (json_int_t)(r->exposure ? r->exposure->minor : 0),
                      "currency", r->exposure ? r->exposure->currency : "", "proximity",
                      portio_report_label (self->arena, &pmo__proximity__descriptor, r->proximity));
}

static json_t *s_risks_json (const portio_report_t *self)
{
    if (self->risks_note)
        return json_pack ("{s:b, s:s}", "available", 0, "note", self->risks_note);
    json_t *bands = json_object ();
    for (int b = 1; b < 6; b++)
        json_object_set_new (bands, portio_report_band_names[b],
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
            json_array_append_new (projects, json_string (portio_report_claim_name (c->claims[k])));
        json_array_append_new (list,
                               json_pack ("{s:s, s:s, s:s, s:I, s:I, s:s, s:o, s:s}", "resource_id",
                                          c->resource_id, "name", c->resource_name, "home_org_unit",
                                          c->home_org_unit, "weeks_over", (json_int_t)c->n_weeks,
                                          "over_hours", (json_int_t)portio_report_over_hours (c),
                                          "first_week", c->n_weeks ? c->weeks[0]->week : "",
                                          "projects", projects, "summary", c->summary));
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
        json_object_set_new (by, portio_report_severity_names[v],
                             json_integer ((json_int_t)self->alerts_severity[v]));
    json_t *list = json_array ();
    for (size_t i = 0; i < self->n_alerts; i++) {
        const Pmo__Alert *a = self->alerts[i];
        json_array_append_new (
            list,
            json_pack (
                "{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I}", "id", a->id, "project", a->project_id,
                "kind", portio_report_label (self->arena, &pmo__alert_kind__descriptor, a->kind),
                "severity", portio_report_severity_names[a->severity < 4 ? a->severity : 0],
                "state", portio_report_label (self->arena, &pmo__alert_state__descriptor, a->state),
                "title", a->title, "assignee", a->assignee, "raised_ms", (json_int_t)a->raised_ms));
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
            p->name, "unit", rp->unit, "rag", portio_report_rag_names[rp->rag & 3], "period_end",
            rp->period_end, "phase", portio_report_label (arena, &pmo__phase__descriptor, p->phase),
            "status", portio_report_label (arena, &pmo__project_status__descriptor, p->status),
            "budget_baseline_minor",
            (json_int_t)(p->budget && p->budget->baseline ? p->budget->baseline->minor : 0));
        json_object_set_new (one, "health",
                             json_string (self->health_note ? "unknown"
                                          : rp->health ? portio_report_rag_names[rp->health & 3]
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
    portio_report_date_of (self->generated_ms, generated);
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
        portio_report_rag_names[portio_report_index_rag (self->spi)], "cpi_rag",
        portio_report_rag_names[portio_report_index_rag (self->cpi)], "red_projects", red,
        "changes", changes, "projects_detail", projects);
    json_object_set_new (root, "covers", json_string (self->covers));
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
