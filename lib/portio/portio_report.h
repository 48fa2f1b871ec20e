/*  portio_report.h: the portfolio report of an org unit, for executives.

    What it says: projects by RAG (each project's latest status report),
    phase and status, and by the unit's direct sub-units; budget totals and
    earned-value totals with SPI and CPI computed from the SUMMED PV, EV and
    AC (never an average of ratios; CPI only over the projects that reported
    actual cost, since no AC means "not available", not "on budget"); the
    red projects; the changes since the last reporting period (new projects,
    RAG movements between a project's last two reports, projects closed);
    and from the other services: the open risks ranked by money exposure
    (then residual score) with their counts by residual band (risk
    monitor), the resources over-allocated from this week on with the
    claims on them (allocator conflicts), the open and acknowledged alerts
    (risk monitor), and each project's computed health beside its reported
    RAG (risk monitor). A service that does not answer leaves its section
    empty with a note saying why; the rest of the report stands.

    Three forms: JSON (for the gateway and scripts), CSV tables (one per
    section, for spreadsheets) and a self-contained printable HTML page
    with inline SVG charts (no network needed to view or print it).

    portio_report_compute is pure (tests and the benchmark call it on their own
    data); portio_report_build fetches what it needs from the registry first.
*/
#ifndef PORTIO_REPORT_H_INCLUDED
#define PORTIO_REPORT_H_INCLUDED

#include "allocator.pb-c.h"
#include "portio_import.h"
#include "riskmon.pb-c.h"

#include <jansson.h>
#include <stdint.h>

typedef struct {
    const Pmo__Project *project;
    const char *unit;       //  the direct sub-unit of the report's unit it falls in
    Pmo__Rag rag;           //  of its latest status report; UNSPECIFIED: none
    Pmo__Rag previous_rag;  //  of the report before it
    const char *period_end; //  of the latest report ("" if none)
    const Pmo__StatusReport *latest;
    Pmo__Rag health; //  computed by the risk monitor; UNSPECIFIED: not assessed (or unknown)
} portio_report_project_t;

typedef struct {
    const char *id;
    const char *name;
    size_t projects;
    size_t rag[4];    //  by Pmo__Rag (0 = no report)
    int64_t baseline; //  summed budget baseline, minor units
} portio_report_unit_t;

typedef struct {
    const char *what; //  "new", "rag_up", "rag_down", "first_report", "closed"
    const portio_report_project_t *project;
    const char *text; //  for people
} portio_report_change_t;

typedef struct {
    pmo_arena_t *arena;   //  owns everything below
    pmo_arena_t *fetched; //  what portio_report_build read (the projects point into it)
    const char *org_unit; //  the unit reported on
    const char *org_unit_name;
    const char *org_unit_path;
    //  What the figures cover: "all of hub", or for a caller whose grants
    //  reach only parts of the unit, which parts (README "Who sees what")
    const char *covers;
    int64_t generated_ms;
    int64_t since_ms;      //  "changes since": the last reporting period
    char since[11];        //  ... as a date
    const char *currency;  //  of the totals (the most common; others are counted apart)
    size_t other_currency; //  projects with budgets in another currency (not summed)
    size_t n_projects;
    portio_report_project_t *projects;
    size_t rag[4];
    size_t phase[6];
    size_t status[7];
    portio_report_unit_t *units;
    size_t n_units;
    int64_t baseline, actual, forecast; //  budget totals
    size_t with_budget;
    int64_t pv, ev, ac, ev_with_ac; //  earned value totals; ev_with_ac: EV of reports with AC
    size_t with_ev, with_ac;
    double spi, cpi; //  from the sums; < 0: not available
    portio_report_change_t *changes;
    size_t n_changes;
    const char *risks_note; //  why the risk section is empty (service not connected); NULL: filled
    const char *resources_note;
    const char *alerts_note;
    const char *health_note;
    //  Risks (risk monitor): the open ones under the unit
    size_t risks_open;
    size_t risks_band[6];       //  by residual Pmo__ScoreBand
    int64_t risk_exposure;      //  open threats' exposure in the report's currency, minor units
    size_t risk_exposure_other; //  open threats with an exposure in another currency
    const Pmo__Risk **risks;    //  every open risk, by exposure then residual score, highest first
    const char **risk_projects; //  ... the code of each one's project
    //  Over-allocated resources (allocator conflicts from this week on)
    const Pmo__AllocationConflict **overloads; //  by hours over, most first
    size_t n_overloads;
    uint64_t over_hours; //  committed hours beyond capacity, summed over resources and weeks
    //  Open alerts (open or acknowledged), most severe first, then oldest
    const Pmo__Alert **alerts;
    size_t n_alerts;
    size_t alerts_severity[4]; //  by Pmo__AlertSeverity
    //  Computed health (risk monitor): projects by overall RAG; [0]: not assessed
    size_t health[4];
} portio_report_t;

//  Risks listed by name in the HTML page and the JSON "top_risks".
#define PORTIO_REPORT_TOP_RISKS 10

//  Compute a report on unit (with its path and name) from what it holds:
//  every org unit, the projects of its subtree and each project's latest
//  reports (newest first; reports may be NULL). Copies what it keeps.
portio_report_t *portio_report_compute (const Pmo__OrgUnit *unit, Pmo__OrgUnit *const *units,
                                        size_t n_units, Pmo__Project *const *projects, size_t n,
                                        Pmo__ProjectReports *const *reports, size_t n_reports,
                                        int64_t since_ms, int64_t now_ms);
//  Fill the sections of the other services from what they answered (the
//  report copies what it keeps). Open risks: those of the report's
//  projects that are open; conflicts: the allocator's for the unit; alerts:
//  those not resolved; health: current assessments (one per project).
void portio_report_set_risks (portio_report_t *self, Pmo__Risk *const *risks, size_t n);
void portio_report_set_overloads (portio_report_t *self, Pmo__AllocationConflict *const *conflicts,
                                  size_t n);
void portio_report_set_alerts (portio_report_t *self, Pmo__Alert *const *alerts, size_t n);
void portio_report_set_health (portio_report_t *self, Pmo__HealthAssessment *const *health,
                               size_t n);

//  Fetch from the registry (and the allocator and risk monitor when the
//  peer has them) and compute. since_ms 0: one reporting period
//  of the unit back (its effective policy; 30 days if none). NULL with why.
portio_report_t *portio_report_build (const portio_import_peer_t *peer, const char *org_unit,
                                      int64_t since_ms, char *why, size_t why_size);
void portio_report_destroy (portio_report_t **self_p);

//  What names a claim on an over-allocated person: its project's code, or
//  "elsewhere" for the claims of projects the caller may not see.
const char *portio_report_claim_name (const Pmo__ConflictClaim *claim);

//  The report as JSON; caller json_decref's it.
json_t *portio_report_json (const portio_report_t *self);
//  The CSV tables: "summary", "rag", "phase", "status", "units", "projects",
//  "changes", "risks", "overallocated", "alerts" (NULL-terminated list).
const char *const *portio_report_tables (void);
//  One table as CSV (caller frees); NULL for an unknown table.
char *portio_report_csv (const portio_report_t *self, const char *table, bool bom, size_t *size);
//  The printable page (caller frees).
char *portio_report_html (const portio_report_t *self, size_t *size);

//  SPI/CPI band of docs/DOMAIN.md: green 0.95-1.05, amber 0.90-0.95 or
//  1.05-1.10, red otherwise; UNSPECIFIED when not available.
Pmo__Rag portio_report_index_rag (double index);

#endif
