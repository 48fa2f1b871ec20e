/*  portio_report_html.c: the portfolio report as one self-contained,
    printable HTML page with inline SVG charts (see portio_report.h).
*/
#include "portio_report.h"

#include "pmo_json.h"
#include "portio_csv.h"
#include "portio_internal.h"

#include <czmq.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define RED_LISTED 50 //  red projects listed by name at most
#define LISTED     50 //  over-allocated resources and alerts listed

static const char *s_rag_colours[4] = {"#9e9e9e", "#2e7d32", "#f9a825", "#c62828"};

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
                  x, s_rag_colours[i], x + 16, i ? portio_report_rag_names[i] : "no report",
                  rag[i]);
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
                      x, y, width, s_rag_colours[i], portio_report_rag_names[i], unit->rag[i]);
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

//  Computed health beside the reported RAG (risk monitor).
static void s_html_health (page_t *page, const portio_report_t *self)
{
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
}

//  The top risks by exposure (risk monitor).
static void s_html_risks (page_t *page, const portio_report_t *self)
{
    pmo_arena_t *arena = self->arena;
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
        const char *bands[5] = {portio_report_band_names[5], portio_report_band_names[4],
                                portio_report_band_names[3], portio_report_band_names[2],
                                portio_report_band_names[1]};
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
                          portio_report_band_names[r->residual_band < 6 ? r->residual_band : 0],
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
}

//  The resources over-allocated from this week (allocator).
static void s_html_overloads (page_t *page, const portio_report_t *self)
{
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
                      c->n_weeks, (unsigned long long)portio_report_over_hours (c),
                      c->n_weeks ? c->weeks[0]->week : "");
            for (size_t k = 0; k < c->n_claims; k++) {
                s_printf (page, "%s", k ? ", " : "");
                s_text (page, portio_report_claim_name (c->claims[k]));
                s_printf (page, " %uh/wk", c->claims[k]->hours_per_week);
            }
            s_printf (page, "</td></tr>");
        }
        s_printf (page, "</table>");
        if (self->n_overloads > LISTED)
            s_printf (page, "<p class=\"note\">and %zu more (see the overallocated CSV table)</p>",
                      self->n_overloads - LISTED);
    }
}

//  The open alerts (risk monitor).
static void s_html_alerts (page_t *page, const portio_report_t *self)
{
    pmo_arena_t *arena = self->arena;
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
                      portio_report_severity_names[a->severity < 4 ? a->severity : 0]);
            s_text (page, a->title);
            s_printf (page, "</td><td>");
            s_text (page, a->assignee);
            s_printf (page, "</td><td>%s</td></tr>",
                      portio_report_label (arena, &pmo__alert_state__descriptor, a->state));
        }
        s_printf (page, "</table>");
        if (self->n_alerts > LISTED)
            s_printf (page, "<p class=\"note\">and %zu more (see the alerts CSV table)</p>",
                      self->n_alerts - LISTED);
    }
}

//  The other services' sections: each a note saying why when its service
//  did not answer.
static void s_html_services (page_t *page, const portio_report_t *self)
{
    s_html_health (page, self);
    s_html_risks (page, self);
    s_html_overloads (page, self);
    s_html_alerts (page, self);
}

//  The document's head and style (print-ready), the title and the unit.
static void s_html_head (page_t *page, const portio_report_t *self)
{
    char generated[11];
    portio_report_date_of (self->generated_ms, generated);
    s_printf (page, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                    "<title>Portfolio report: ");
    s_text (page, self->org_unit_name);
    s_printf (
        page,
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
    s_text (page, self->org_unit_name);
    s_printf (page, "</h1><p class=\"sub\">");
    s_text (page, self->org_unit_path);
    s_printf (page, " &middot; %zu projects &middot; generated %s &middot; changes since %s",
              self->n_projects, generated, self->since);
    s_printf (page, " &middot; covers ");
    s_text (page, self->covers);
    s_printf (page, "</p>\n");
}

//  The headline figures and the projects by RAG, unit, phase and status.
static void s_html_headline (page_t *page, const portio_report_t *self)
{
    pmo_arena_t *arena = self->arena;
    s_printf (page, "<div class=\"kpis\">");
    s_printf (page, "<div class=\"kpi\"><b>%zu</b><span>projects</span></div>", self->n_projects);
    s_printf (page,
              "<div class=\"kpi\" style=\"border-color:%s\"><b style=\"color:%s\">%zu</b>"
              "<span>red</span></div>",
              s_rag_colours[3], s_rag_colours[3], self->rag[3]);
    s_printf (page, "<div class=\"kpi\"><b>%s</b><span>budget baseline (%zu projects)</span></div>",
              s_money (arena, self->baseline, self->currency), self->with_budget);
    s_index_cell (page, "SPI (summed EV / PV)", self->spi);
    s_index_cell (page, "CPI (summed EV / AC)", self->cpi);
    s_printf (page, "</div>\n<h2>Health</h2>");
    s_rag_bar (page, self->rag, self->n_projects);
    if (self->n_units > 1)
        s_unit_bars (page, self);
    const char *phases[6], *statuses[7];
    for (int i = 0; i < 6; i++)
        phases[i] = i ? portio_report_label (arena, &pmo__phase__descriptor, i) : "unspecified";
    for (int i = 0; i < 7; i++)
        statuses[i] =
            i ? portio_report_label (arena, &pmo__project_status__descriptor, i) : "unspecified";
    s_bars (page, "By phase", phases, self->phase, 6, "#1565c0");
    s_bars (page, "By status", statuses, self->status, 7, "#6a1b9a");
}

//  Budget and earned-value totals.
static void s_html_money (page_t *page, const portio_report_t *self)
{
    pmo_arena_t *arena = self->arena;
    s_printf (page, "<h2>Budget and earned value</h2><table><tr><th></th><th class=\"n\">"
                    "total</th><th class=\"n\">projects</th></tr>");
    s_printf (page,
              "<tr><td>Budget baseline</td><td class=\"n\">%s</td><td class=\"n\">%zu</td></tr>",
              s_money (arena, self->baseline, self->currency), self->with_budget);
    s_printf (page, "<tr><td>Budget forecast</td><td class=\"n\">%s</td><td></td></tr>",
              s_money (arena, self->forecast, self->currency));
    s_printf (page, "<tr><td>Actual cost to date</td><td class=\"n\">%s</td><td></td></tr>",
              s_money (arena, self->actual, self->currency));
    s_printf (page,
              "<tr><td>Planned value (PV)</td><td class=\"n\">%s</td><td class=\"n\">%zu</td></tr>"
              "<tr><td>Earned value (EV)</td><td class=\"n\">%s</td><td></td></tr>"
              "<tr><td>Actual cost (AC)</td><td class=\"n\">%s</td><td class=\"n\">%zu</td></tr>"
              "</table>",
              s_money (arena, self->pv, self->currency), self->with_ev,
              s_money (arena, self->ev, self->currency), s_money (arena, self->ac, self->currency),
              self->with_ac);
    s_printf (page,
              "<p class=\"note\">Indices come from the sums of PV, EV and AC over the "
              "projects' latest reports, never from an average of ratios; CPI counts only "
              "projects that reported actual cost.%s</p>",
              self->other_currency
                  ? pmo_arena_printf (arena,
                                      " %zu projects budget in another currency and are "
                                      "not in these totals.",
                                      self->other_currency)
                  : "");
}

//  The sub-units, one row each (none when the unit has no sub-units).
static void s_html_units (page_t *page, const portio_report_t *self)
{
    pmo_arena_t *arena = self->arena;
    if (self->n_units > 1) {
        s_printf (page, "<h2>By unit</h2><table><tr><th>unit</th><th>name</th><th class=\"n\">"
                        "projects</th><th class=\"n\">red</th><th class=\"n\">amber</th><th "
                        "class=\"n\">green</th><th class=\"n\">no report</th><th "
                        "class=\"n\">baseline</th></tr>");
        for (size_t i = 0; i < self->n_units; i++) {
            const portio_report_unit_t *u = &self->units[i];
            if (!u->projects)
                continue;
            s_printf (page, "<tr><td>");
            s_text (page, u->id);
            s_printf (page, "</td><td>");
            s_text (page, u->name);
            s_printf (page,
                      "</td><td class=\"n\">%zu</td><td class=\"n\">%zu</td><td class=\"n\">%zu"
                      "</td><td class=\"n\">%zu</td><td class=\"n\">%zu</td><td class=\"n\">%s"
                      "</td></tr>",
                      u->projects, u->rag[3], u->rag[2], u->rag[1], u->rag[0],
                      s_money (arena, u->baseline, self->currency));
        }
        s_printf (page, "</table>");
    }
}

//  The red projects (the first RED_LISTED).
static void s_html_red (page_t *page, const portio_report_t *self)
{
    pmo_arena_t *arena = self->arena;
    s_printf (page, "<h2>Red projects (%zu)</h2>", self->rag[3]);
    if (self->rag[3]) {
        s_printf (page, "<table><tr><th>code</th><th>project</th><th>unit</th><th>report</th>"
                        "<th class=\"n\">baseline</th></tr>");
        size_t listed = 0;
        for (size_t i = 0; i < self->n_projects && listed < RED_LISTED; i++) {
            const portio_report_project_t *rp = &self->projects[i];
            if (rp->rag != PMO__RAG__RAG_RED)
                continue;
            listed++;
            const Pmo__Project *p = rp->project;
            s_printf (page, "<tr><td>");
            s_text (page, p->code);
            s_printf (page, "</td><td><span class=\"dot\" style=\"background:%s\"></span>",
                      s_rag_colours[3]);
            s_text (page, p->name);
            s_printf (page, "</td><td>");
            s_text (page, rp->unit);
            s_printf (page, "</td><td>%s</td><td class=\"n\">%s</td></tr>", rp->period_end,
                      p->budget && p->budget->baseline
                          ? s_money (arena, p->budget->baseline->minor, self->currency)
                          : "");
        }
        s_printf (page, "</table>");
        if (self->rag[3] > listed)
            s_printf (page, "<p class=\"note\">and %zu more (see the projects CSV table)</p>",
                      self->rag[3] - listed);
    } else
        s_printf (page, "<p>None.</p>");
}

//  What changed since the last reporting period.
static void s_html_changes (page_t *page, const portio_report_t *self)
{
    s_printf (page, "<h2>Changes since %s (%zu)</h2>", self->since, self->n_changes);
    if (self->n_changes) {
        s_printf (page, "<ul>");
        for (size_t i = 0; i < self->n_changes && i < 200; i++) {
            s_printf (page, "<li>");
            s_text (page, self->changes[i].text);
            s_printf (page, "</li>");
        }
        s_printf (page, "</ul>");
    } else
        s_printf (page, "<p>None.</p>");
}

char *portio_report_html (const portio_report_t *self, size_t *size)
{
    page_t page = {0};
    s_html_head (&page, self);
    s_html_headline (&page, self);
    s_html_money (&page, self);
    s_html_units (&page, self);
    s_html_red (&page, self);
    s_html_changes (&page, self);
    s_html_services (&page, self);
    s_printf (&page, "\n</body></html>\n");
    if (size)
        *size = page.size;
    return page.data;
}
