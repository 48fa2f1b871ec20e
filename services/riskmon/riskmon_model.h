/*  riskmon_model.h: the risk monitor's domain rules, without I/O.

    Who may do what (roles held in org units, valid for their subtree), what
    a valid register entry is (PRINCE2 risk scores and bands, the responses
    that fit threats and opportunities), how health thresholds are merged
    down the tree and checked, how a project's health is computed from its
    inputs (and which rules fired, and when a time rule may fire next), and
    how alerts follow the health with hysteresis and climb the PMO
    structure. Everything here is pure: tests/riskmon/test_riskmon_model.c
    tests it directly.
*/
#ifndef RISKMON_MODEL_H_INCLUDED
#define RISKMON_MODEL_H_INCLUDED

#include "pmo_access.h"
#include "pmo_request.h"
#include "pmo_util.h"
#include "riskmon.pb-c.h"

#include <stdbool.h>
#include <stdint.h>

#define RISKMON_DAY_MS (86400 * (int64_t)1000)

//  ---------------------------------------------------------------------
//  Who may do what

typedef enum {
    RISKMON_READ = 1,      //  registers, health, alerts, roll-ups
    RISKMON_WRITE = 2,     //  risks, issues, change requests, RAID entries
    RISKMON_DECIDE = 4,    //  approve or reject change requests
    RISKMON_CONFIGURE = 8, //  health thresholds and escalation deadlines
    RISKMON_ALERTS = 16,   //  acknowledge and resolve alerts
} riskmon_action_t;

//  What each role may do in its subtree (a table of riskmon_action_t bits).
const pmo_role_table_t *riskmon_roles (void);
//  pmo_access_allowed with riskmon_roles; a NULL path is nowhere (an entry
//  without a path is nobody's).
bool riskmon_allowed (const Pmo__Identity *who, riskmon_action_t action, const char *path);

//  ---------------------------------------------------------------------
//  Dates (the division of an id: pmo_id_division)

//  Unix ms of a date's 00:00 UTC; -1 if empty or not a date.
int64_t riskmon_date_ms (const char *date);

//  ---------------------------------------------------------------------
//  Registers

//  P x I and its band on the 5x5 grid.
uint32_t riskmon_score (uint32_t probability, uint32_t impact);
Pmo__ScoreBand riskmon_band (uint32_t score);
//  The probability scale as a percentage for money exposure:
//  1 = 10 %, 2 = 30 %, 3 = 50 %, 4 = 70 %, 5 = 90 %.
uint32_t riskmon_probability_percent (uint32_t probability);
//  Whether a response fits the kind of risk.
bool riskmon_response_fits (Pmo__RiskKind kind, Pmo__RiskResponse response);

//  Check what the caller sent and fill what is computed (scores, bands,
//  exposure, defaults). Field names are relative to the entry.
int riskmon_check_risk (Pmo__Risk *risk, pmo_arena_t *arena, pmo_problem_t *problem);
int riskmon_check_issue (Pmo__Issue *issue, pmo_problem_t *problem);
int riskmon_check_change (Pmo__ChangeRequest *change, pmo_problem_t *problem);
int riskmon_check_raid (Pmo__RaidEntry *entry, pmo_problem_t *problem);
//  True if the entry counts as open (health, default lists).
bool riskmon_risk_open (const Pmo__Risk *risk);

//  ---------------------------------------------------------------------
//  Thresholds

//  docs/DOMAIN.md's defaults (FEMA bands for SPI and CPI) and ours.
void riskmon_thresholds_defaults (Pmo__Thresholds *t);
//  Overlay the fields over sets (non-zero) onto into.
void riskmon_thresholds_merge (Pmo__Thresholds *into, const Pmo__Thresholds *over);
//  Where each threshold in force at the last of n units comes from:
//  own[i] is units[i]'s own set (NULL: it sets none), root first. One
//  source per threshold, in the arena; *count says how many.
Pmo__ThresholdSource **riskmon_thresholds_sources (pmo_arena_t *arena,
                                                   const Pmo__Thresholds *const *own,
                                                   char *const *units, size_t n, size_t *count);
//  Check a unit's own fields are in range.
int riskmon_thresholds_check (const Pmo__Thresholds *own, pmo_problem_t *problem);
//  Check a merged set does not contradict itself (amber stricter than red).
int riskmon_thresholds_consistent (const Pmo__Thresholds *effective, pmo_problem_t *problem);
//  Under a controlling or directive PMO a unit may tighten the inherited
//  thresholds, not loosen them.
int riskmon_thresholds_tightens (const Pmo__Thresholds *inherited, const Pmo__Thresholds *effective,
                                 Pmo__PmoType above, pmo_problem_t *problem);

//  ---------------------------------------------------------------------
//  Inputs: what the events said, applied so that order and repetition do
//  not matter (the newest version of each snapshot wins)

//  Apply a project snapshot; false if an equal or newer one was applied.
bool riskmon_apply_project (Pmo__HealthInputs *in, const Pmo__Project *project);
//  Apply a milestone snapshot (archived ones stay as tombstones).
bool riskmon_apply_milestone (Pmo__HealthInputs *in, const Pmo__Milestone *milestone,
                              pmo_arena_t *arena);
//  Apply a status report: the latest by period end (then submission) is
//  the one health uses; every report counts in reports_seen.
bool riskmon_apply_report (Pmo__HealthInputs *in, const Pmo__StatusReport *report);
//  Apply a resource's over-allocation (or its clearing) from the stream
//  entry stream_id; false if a later entry for that resource was applied.
bool riskmon_apply_overallocation (Pmo__ProjectHealth *health, const char *project_id,
                                   const char *resource_id, const char *resource_name,
                                   char *const *weeks, size_t n_weeks, uint32_t booked,
                                   uint32_t capacity, bool over, const char *stream_id,
                                   pmo_arena_t *arena);
//  Apply a risk as it now is: open threats count, others do not.
void riskmon_apply_risk (Pmo__HealthInputs *in, const Pmo__Risk *risk, pmo_arena_t *arena);
//  Compare stream ids "ms-seq": <0, 0, >0.
int riskmon_stream_id_cmp (const char *a, const char *b);

//  ---------------------------------------------------------------------
//  Health

//  Compute a project's health at now from its inputs under thresholds t
//  (complete: defaults merged). Fills out (fired rules, the inputs and
//  strings live in arena); out->next_due_ms is the next moment a time rule
//  could change the result (0 = none).
void riskmon_assess (const Pmo__HealthInputs *in, const Pmo__Thresholds *t, int64_t now,
                     pmo_arena_t *arena, Pmo__HealthAssessment *out);
//  An earned-value index: SPI = EV / PV, CPI = EV / AC (for a sum, EV of
//  the projects that reported AC). False when there is no base to divide by.
bool riskmon_ev_index (int64_t earned, int64_t base, double *index);
//  True if the project is still being delivered (assessed at all).
bool riskmon_project_live (const Pmo__HealthInputs *in);
//  True if two assessments differ in a way people see (any colour).
bool riskmon_health_differs (const Pmo__HealthAssessment *a, const Pmo__HealthAssessment *b);
const char *riskmon_rag_name (Pmo__Rag rag);

//  ---------------------------------------------------------------------
//  Alerts

//  An alert the health asks for.
typedef struct {
    Pmo__AlertKind kind;
    const char *subject_id;
    Pmo__AlertSeverity severity;
    const char *title;    //  arena
    const char *detail;   //  arena
    const char *assignee; //  the owner or the project manager
} riskmon_want_t;

//  What to do with one alert.
typedef enum {
    RISKMON_ALERT_RAISE = 1,          //  new alert (event alert.raised)
    RISKMON_ALERT_RAISE_SEVERITY = 2, //  a standing alert got worse (alert.updated)
    RISKMON_ALERT_RESOLVE = 3,        //  clear for the whole cool-down (alert.resolved)
} riskmon_alert_op_t;

typedef struct {
    riskmon_alert_op_t op;
    size_t want; //  RAISE, RAISE_SEVERITY: index in wants
    size_t ref;  //  RAISE_SEVERITY, RESOLVE: index in the refs before
} riskmon_alert_action_t;

//  The alerts an assessment asks for, in arena.
size_t riskmon_alerts_wanted (const Pmo__HealthAssessment *a, const Pmo__Thresholds *t,
                              pmo_arena_t *arena, riskmon_want_t **wants);
//  Reconcile the standing alerts (refs, changed in place: hysteresis
//  state; new refs for raises are the caller's to append) with the wanted
//  ones at now. A condition that clears starts the cool-down; one that
//  returns within it is absorbed silently; only a condition clear for the
//  whole cool-down resolves its alert. Returns the actions (arena) and
//  sets *due to the next moment a cool-down ends (0 = none).
size_t riskmon_alerts_reconcile (Pmo__AlertRef **refs, size_t n_refs, const riskmon_want_t *wants,
                                 size_t n_wants, int64_t now, int64_t cooldown_ms,
                                 pmo_arena_t *arena, riskmon_alert_action_t **actions,
                                 int64_t *due);
//  The escalation step after level, and the deadline to stay there
//  (seconds; 0 = it climbs no further).
Pmo__EscalationLevel riskmon_escalation_next (Pmo__EscalationLevel level, bool hub_is_division);
uint32_t riskmon_escalation_deadline_s (Pmo__EscalationLevel level, const Pmo__Thresholds *t);
const char *riskmon_alert_kind_name (Pmo__AlertKind kind);

#endif
