/*  portio_report_csv.c: the portfolio report as CSV tables, one per
    section, for spreadsheets (see portio_report.h).
*/
#include "portio_report.h"

#include "pmo_json.h"
#include "portio_csv.h"
#include "portio_internal.h"

#include <assert.h>
#include <czmq.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

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

//  One row per measure: the totals and the counts of each section.
static void s_summary (const portio_report_t *self, portio_csv_writer_t *w, const char *table)
{
    pmo_arena_t *arena = self->arena;
    const char *head[] = {"measure", "value"};
    portio_csv_writer_row (w, head, 2);
    const char *rows[][2] = {
        {"org_unit", self->org_unit},
        {"covers", self->covers},
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
        {"risks_open", self->risks_note ? "" : pmo_arena_printf (arena, "%zu", self->risks_open)},
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
        {"open_alerts", self->alerts_note ? "" : pmo_arena_printf (arena, "%zu", self->n_alerts)},
        {"health_green", self->health_note ? "" : pmo_arena_printf (arena, "%zu", self->health[1])},
        {"health_amber", self->health_note ? "" : pmo_arena_printf (arena, "%zu", self->health[2])},
        {"health_red", self->health_note ? "" : pmo_arena_printf (arena, "%zu", self->health[3])},
        {"health_not_assessed",
         self->health_note ? "" : pmo_arena_printf (arena, "%zu", self->health[0])},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        portio_csv_writer_row (w, rows[i], 2);
}

//  rag, phase or status: the projects of each value.
static void s_counts (const portio_report_t *self, portio_csv_writer_t *w, const char *table)
{
    pmo_arena_t *arena = self->arena;
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
        const char *row[] = {desc ? (i ? portio_report_label (arena, desc, (int)i) : "unspecified")
                                  : portio_report_rag_names[i],
                             pmo_arena_printf (arena, "%zu", counts[i])};
        portio_csv_writer_row (w, row, 2);
    }
}

//  One row per sub-unit: its projects by RAG and its baseline budget.
static void s_units (const portio_report_t *self, portio_csv_writer_t *w, const char *table)
{
    pmo_arena_t *arena = self->arena;
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
}

//  One row per project: its latest report, phase, dates, money and health.
static void s_projects (const portio_report_t *self, portio_csv_writer_t *w, const char *table)
{
    pmo_arena_t *arena = self->arena;
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
        const char *row[] = {
            p->code,
            p->name,
            rp->unit,
            portio_report_rag_names[rp->rag & 3],
            rp->period_end,
            portio_report_label (arena, &pmo__phase__descriptor, p->phase),
            portio_report_label (arena, &pmo__project_status__descriptor, p->status),
            p->baseline_finish,
            p->forecast_finish,
            p->budget && p->budget->baseline ? s_amount (arena, p->budget->baseline->minor) : "",
            r ? s_amount (arena, r->pv_minor) : "",
            r ? s_amount (arena, r->ev_minor) : "",
            r && r->has_ac ? s_amount (arena, r->ac_minor) : "",
            self->health_note ? ""
            : rp->health      ? portio_report_rag_names[rp->health & 3]
                              : "not_assessed"};
        portio_csv_writer_row (w, row, 14);
    }
}

//  What changed since the last reporting period.
static void s_changes (const portio_report_t *self, portio_csv_writer_t *w, const char *table)
{
    const char *head[] = {"what", "code", "name", "text"};
    portio_csv_writer_row (w, head, 4);
    for (size_t i = 0; i < self->n_changes; i++) {
        const portio_report_change_t *c = &self->changes[i];
        const char *row[] = {c->what, c->project->project->code, c->project->project->name,
                             c->text};
        portio_csv_writer_row (w, row, 4);
    }
}

//  The open risks, ranked.
static void s_risks (const portio_report_t *self, portio_csv_writer_t *w, const char *table)
{
    pmo_arena_t *arena = self->arena;
    const char *head[] = {"rank",           "id",   "project",  "title",   "kind", "owner",
                          "residual_score", "band", "exposure", "currency"};
    portio_csv_writer_row (w, head, 10);
    for (size_t i = 0; i < self->risks_open && !self->risks_note; i++) {
        const Pmo__Risk *r = self->risks[i];
        const char *row[] = {pmo_arena_printf (arena, "%zu", i + 1),
                             r->id,
                             self->risk_projects[i],
                             r->title,
                             portio_report_label (arena, &pmo__risk_kind__descriptor, r->kind),
                             r->owner,
                             pmo_arena_printf (arena, "%u", r->residual_score),
                             portio_report_band_names[r->residual_band < 6 ? r->residual_band : 0],
                             s_amount (arena, r->exposure ? r->exposure->minor : 0),
                             r->exposure ? r->exposure->currency : ""};
        portio_csv_writer_row (w, row, 10);
    }
}

//  The resources over-allocated, with the projects claiming them.
static void s_overallocated (const portio_report_t *self, portio_csv_writer_t *w, const char *table)
{
    pmo_arena_t *arena = self->arena;
    const char *head[] = {"resource_id", "name",       "home_org_unit", "weeks_over",
                          "over_hours",  "first_week", "projects",      "summary"};
    portio_csv_writer_row (w, head, 8);
    for (size_t i = 0; i < self->n_overloads; i++) {
        const Pmo__AllocationConflict *c = self->overloads[i];
        char *projects = pmo_arena_strdup (arena, "");
        for (size_t k = 0; k < c->n_claims; k++)
            projects = pmo_arena_printf (arena, "%s%s%s", projects, k ? ";" : "",
                                         portio_report_claim_name (c->claims[k]));
        const char *row[] = {
            c->resource_id,
            c->resource_name,
            c->home_org_unit,
            pmo_arena_printf (arena, "%zu", c->n_weeks),
            pmo_arena_printf (arena, "%llu", (unsigned long long)portio_report_over_hours (c)),
            c->n_weeks ? c->weeks[0]->week : "",
            projects,
            c->summary};
        portio_csv_writer_row (w, row, 8);
    }
}

//  The open and acknowledged alerts.
static void s_alerts (const portio_report_t *self, portio_csv_writer_t *w, const char *table)
{
    pmo_arena_t *arena = self->arena;
    const char *head[] = {"id", "project", "kind", "severity", "state", "title", "assignee"};
    portio_csv_writer_row (w, head, 7);
    for (size_t i = 0; i < self->n_alerts; i++) {
        const Pmo__Alert *a = self->alerts[i];
        const char *row[] = {a->id,
                             a->project_id,
                             portio_report_label (arena, &pmo__alert_kind__descriptor, a->kind),
                             portio_report_severity_names[a->severity < 4 ? a->severity : 0],
                             portio_report_label (arena, &pmo__alert_state__descriptor, a->state),
                             a->title,
                             a->assignee};
        portio_csv_writer_row (w, row, 7);
    }
}

//  The tables and who writes them (rag, phase and status share one).
static const struct {
    const char *name;
    void (*write) (const portio_report_t *self, portio_csv_writer_t *w, const char *table);
} s_writers[] = {
    {"summary", s_summary}, {"rag", s_counts},  {"phase", s_counts},
    {"status", s_counts},   {"units", s_units}, {"projects", s_projects},
    {"changes", s_changes}, {"risks", s_risks}, {"overallocated", s_overallocated},
    {"alerts", s_alerts},
};

char *portio_report_csv (const portio_report_t *self, const char *table, bool bom, size_t *size)
{
    size_t t = 0;
    while (t < sizeof s_writers / sizeof s_writers[0] && strcmp (s_writers[t].name, table) != 0)
        t++;
    if (t == sizeof s_writers / sizeof s_writers[0])
        return NULL;
    portio_csv_writer_t *w = portio_csv_writer_new (',', bom);
    s_writers[t].write (self, w, table);
    return portio_import_take_csv (&w, size);
}
