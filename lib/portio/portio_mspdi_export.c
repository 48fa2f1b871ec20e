/*  portio_mspdi_export.c: a pmo project out as a Microsoft Project plan
    (MSPDI XML), written with libxml2's text writer, that Project opens and
    that portio_mspdi_run reads back unchanged.

    The mapping (services/pmoctl/README-import.md has it for people):
    - Project: Name and Title the project's name, GUID the one of the plan
      it came from (external id "mspdi:<GUID>"), CurrencyCode the budget's
      currency, StartDate the baseline start, FinishDate the forecast
      finish, StatusDate the latest status report's period end; a
      standard calendar (Monday to Friday, 08:00-12:00
      and 13:00-17:00: 480 minutes a day, 2,400 a week).
    - The project summary task (UID 0): Start/Finish, Cost (budget
      forecast), ActualCost, the latest status report's % complete, its AC
      as ACWP and, when it has earned value, its PV and EV as BCWS and
      BCWP (none when it has none: the import of a plan pmo wrote then
      makes up none from the baseline cost), and
      its first baseline (Baseline Number 0: baseline start, finish and
      budget). It carries the project's pmo id in the task custom field
      Text1, aliased "pmo id": a plan pmo wrote is found again by it.
    - Each milestone: a milestone task at outline level 1 (no WBS, so the
      name comes back as it is), its baseline date as Baseline/Finish, its
      forecast as Start and Finish, its actual date as ActualFinish and
      100 % complete (else 0 %).
    - Each allocation of a named resource (requested, proposed or
      committed): a work task at outline level 1 named after the resource,
      from the Monday of its first week to the Friday of its last, marked
      with the allocation's id in Text1 (so the import does not read it as
      a phase), and one assignment, a proposed booking (BookingType 1)
      unless committed (0), whose timephased work (TimephasedData Type 1,
      one entry a weekday) is hours_per_week / 5 each day.
    - Each resource of those allocations: a work resource (Type 1) with
      MaxUnits = weekly capacity / 40, StandardRate its cost rate per hour,
      Group its role, GUID the one of the plan it came from, and its pmo
      id in the resource custom field Text1 ("pmo id").
    Role or skill demand (nobody named), released and rejected
    allocations book no hours of a person and are left out.
*/
#include "portio_mspdi.h"
#include "portio_internal.h"

#include "pmo_util.h"

#include <assert.h>
#include <ctype.h>
#include <czmq.h>
#include <libxml/xmlwriter.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MSPDI_NS "http://schemas.microsoft.com/project"

//  The custom fields pmo's ids travel in (Microsoft's field ids of the
//  task's and the resource's Text1)
#define FIELD_TASK_TEXT1     "188743731"
#define FIELD_RESOURCE_TEXT1 "205520904"

typedef struct {
    pmo_arena_t *arena;
    xmlTextWriterPtr w;
    const Pmo__Project *project;
    Pmo__Milestone **milestones;
    size_t n_milestones;
    const Pmo__StatusReport *report; //  the latest, NULL if none
    Pmo__Allocation **allocations;   //  the ones exported
    size_t n_allocations;
    Pmo__Resource **resources; //  of those allocations
    size_t n_resources;
} export_t;

static void s_el (export_t *e, const char *name, const char *text)
{
    int rc = xmlTextWriterWriteElement (e->w, BAD_CAST name, BAD_CAST text);
    assert (rc >= 0);
}

static void s_elf (export_t *e, const char *name, const char *format, ...)
    __attribute__ ((format (printf, 3, 4)));
static void s_elf (export_t *e, const char *name, const char *format, ...)
{
    va_list args;
    va_start (args, format);
    char *text = zsys_vprintf (format, args);
    va_end (args);
    s_el (e, name, text);
    zstr_free (&text);
}

static void s_open (export_t *e, const char *name)
{
    int rc = xmlTextWriterStartElement (e->w, BAD_CAST name);
    assert (rc >= 0);
}

static void s_close (export_t *e)
{
    int rc = xmlTextWriterEndElement (e->w);
    assert (rc >= 0);
}

//  A money amount in MSPDI's hundredths of the currency ("123456" for
//  1,234.56), from minor units of a currency with two decimals.
static void s_money (export_t *e, const char *name, const Pmo__Money *money)
{
    s_elf (e, name, "%lld", money ? (long long)money->minor : 0LL);
}

//  The days since 1970-01-01 of a date "YYYY-MM-DD"; -1 if it is not one.
static int64_t s_days (const char *date)
{
    int y, m, d;
    if (!date || !pmo_date_valid (date) || sscanf (date, "%4d-%2d-%2d", &y, &m, &d) != 3)
        return -1;
    return portio_days_from_civil (y, (unsigned)m, (unsigned)d);
}

//  The date of a day (days since 1970-01-01) as "YYYY-MM-DD" into out.
static void s_date_of (int64_t days, char out[11])
{
    time_t t = (time_t)days * 86400;
    struct tm tm;
    gmtime_r (&t, &tm);
    strftime (out, 11, "%Y-%m-%d", &tm);
}

//  The Monday of an ISO week "2026-W14" in days since 1970-01-01; -1.
static int64_t s_week_monday (const char *week)
{
    int y, w;
    if (!week || sscanf (week, "%4d-W%2d", &y, &w) != 2 || w < 1 || w > 53)
        return -1;
    int64_t jan4 = portio_days_from_civil (y, 1, 4);
    int64_t monday = jan4 - ((jan4 % 7 + 7 + 3) % 7);
    return monday + (int64_t)(w - 1) * 7;
}

//  An allocation's span: the Monday of its first week, the Friday of its
//  last (days since 1970-01-01); its number of weeks.
static int64_t s_span (const Pmo__Allocation *a, int64_t *first, int64_t *last)
{
    *first = s_week_monday (a->start_week);
    *last = s_week_monday (a->end_week) + 4;
    return (*last - 4 - *first) / 7 + 1;
}

//  A date-time of a day at hh:mm, MSPDI's form.
static void s_datetime (export_t *e, const char *name, int64_t days, const char *time)
{
    char date[11];
    s_date_of (days, date);
    s_elf (e, name, "%sT%s:00", date, time);
}

//  A duration of hours ("PT8H0M0S"; minutes kept).
static void s_duration (export_t *e, const char *name, double hours)
{
    long long minutes = llround (hours * 60);
    s_elf (e, name, "PT%lldH%lldM0S", minutes / 60, minutes % 60);
}

static void s_pmo_id (export_t *e, const char *field, const char *id)
{
    s_open (e, "ExtendedAttribute");
    s_el (e, "FieldID", field);
    s_el (e, "Value", id);
    s_close (e);
}

//  The GUID of the plan a record came from (external id "mspdi:<GUID>"),
//  NULL if it has none (made in pmo, or keyed "mspdi:<title>" by a plan
//  without a GUID, a title that may be 36 characters long).
static const char *s_guid (const char *external_id)
{
    if (strncmp (external_id, "mspdi:", 6) != 0 || strlen (external_id) != 6 + 36)
        return NULL;
    const char *g = external_id + 6;
    for (size_t i = 0; i < 36; i++)
        if (i == 8 || i == 13 || i == 18 || i == 23 ? g[i] != '-' : !isxdigit ((unsigned char)g[i]))
            return NULL;
    return g;
}

//  True if the project has a latest status report: the plan carries its
//  day (StatusDate), % complete and AC (ACWP).
static bool s_reported (const export_t *e)
{
    return e->report && s_days (e->report->period_end) >= 0;
}

//  True if that report has earned value (PV or EV): the plan carries it
//  too (BCWS, BCWP).
static bool s_earned (const export_t *e)
{
    return s_reported (e) && (e->report->pv_minor || e->report->ev_minor);
}

//  The project's properties, custom fields and standard calendar.
static void s_properties (export_t *e, int64_t start, int64_t finish)
{
    const Pmo__Project *p = e->project;
    const Pmo__Budget *b = p->budget;
    const char *currency = "";
    if (b && b->baseline && !pmo_str_empty (b->baseline->currency))
        currency = b->baseline->currency;
    else if (b && b->forecast && !pmo_str_empty (b->forecast->currency))
        currency = b->forecast->currency;
    //  A project without a budget: the currency of its people's rates
    for (size_t i = 0; i < e->n_resources && !*currency; i++)
        if (e->resources[i]->cost_rate && !pmo_str_empty (e->resources[i]->cost_rate->currency))
            currency = e->resources[i]->cost_rate->currency;
    s_el (e, "SaveVersion", "14");
    s_el (e, "Name", p->name);
    s_el (e, "Title", p->name);
    if (!pmo_str_empty (p->manager))
        s_el (e, "Manager", p->manager);
    if (s_guid (p->external_id))
        s_el (e, "GUID", s_guid (p->external_id));
    s_el (e, "ScheduleFromStart", "1");
    s_datetime (e, "StartDate", start, "08:00");
    s_datetime (e, "FinishDate", finish, "17:00");
    s_el (e, "CurrencyDigits", "2");
    if (*currency)
        s_el (e, "CurrencyCode", currency);
    s_el (e, "CalendarUID", "1");
    s_el (e, "DefaultStartTime", "08:00:00");
    s_el (e, "DefaultFinishTime", "17:00:00");
    s_el (e, "MinutesPerDay", "480");
    s_el (e, "MinutesPerWeek", "2400");
    s_el (e, "DaysPerMonth", "20");
    s_el (e, "WeekStartDay", "1");
    //  The latest status report's day
    if (s_reported (e))
        s_datetime (e, "StatusDate", s_days (e->report->period_end), "17:00");
    s_open (e, "ExtendedAttributes");
    static const char *const fields[][2] = {{FIELD_TASK_TEXT1, "Text1"},
                                            {FIELD_RESOURCE_TEXT1, "Text1"}};
    for (size_t i = 0; i < 2; i++) {
        s_open (e, "ExtendedAttribute");
        s_el (e, "FieldID", fields[i][0]);
        s_el (e, "FieldName", fields[i][1]);
        s_el (e, "Alias", PORTIO_MSPDI_PMO_ID);
        s_close (e);
    }
    s_close (e);
    //  The standard calendar: weekdays 08:00-12:00 and 13:00-17:00
    s_open (e, "Calendars");
    s_open (e, "Calendar");
    s_el (e, "UID", "1");
    s_el (e, "Name", "Standard");
    s_el (e, "IsBaseCalendar", "1");
    s_el (e, "BaseCalendarUID", "-1");
    s_open (e, "WeekDays");
    for (int day = 1; day <= 7; day++) {
        s_open (e, "WeekDay");
        s_elf (e, "DayType", "%d", day);
        bool working = day != 1 && day != 7; //  1 is Sunday
        s_el (e, "DayWorking", working ? "1" : "0");
        if (working) {
            s_open (e, "WorkingTimes");
            static const char *const times[][2] = {{"08:00:00", "12:00:00"},
                                                   {"13:00:00", "17:00:00"}};
            for (size_t i = 0; i < 2; i++) {
                s_open (e, "WorkingTime");
                s_el (e, "FromTime", times[i][0]);
                s_el (e, "ToTime", times[i][1]);
                s_close (e);
            }
            s_close (e);
        }
        s_close (e);
    }
    s_close (e);
    s_close (e);
    s_close (e);
}

static void s_summary (export_t *e, int64_t start, int64_t finish, int64_t base_start,
                       int64_t base_finish)
{
    const Pmo__Project *p = e->project;
    const Pmo__Budget *b = p->budget;
    s_open (e, "Task");
    s_el (e, "UID", "0");
    s_el (e, "ID", "0");
    s_el (e, "Name", p->name);
    s_el (e, "Type", "1");
    s_el (e, "IsNull", "0");
    s_el (e, "OutlineNumber", "0");
    s_el (e, "OutlineLevel", "0");
    s_el (e, "Priority", "500");
    s_datetime (e, "Start", start, "08:00");
    s_datetime (e, "Finish", finish, "17:00");
    s_duration (e, "Duration", (double)portio_weekdays (start, finish) * 8);
    s_el (e, "DurationFormat", "7");
    double work = 0;
    for (size_t i = 0; i < e->n_allocations; i++) {
        int64_t first, last;
        work +=
            (double)s_span (e->allocations[i], &first, &last) * e->allocations[i]->hours_per_week;
    }
    s_duration (e, "Work", work);
    s_el (e, "Milestone", "0");
    s_el (e, "Summary", "1");
    s_elf (e, "PercentComplete", "%u", e->report ? e->report->percent_complete : 0);
    if (b && b->forecast)
        s_money (e, "Cost", b->forecast);
    if (b && b->actual)
        s_money (e, "ActualCost", b->actual);
    //  The latest report's earned value, in hundredths as Project keeps it
    if (s_reported (e) && e->report->has_ac)
        s_elf (e, "ACWP", "%lld", (long long)e->report->ac_minor);
    if (s_earned (e)) {
        s_elf (e, "BCWS", "%lld", (long long)e->report->pv_minor);
        s_elf (e, "BCWP", "%lld", (long long)e->report->ev_minor);
    }
    s_pmo_id (e, FIELD_TASK_TEXT1, p->id);
    {
        //  Always, even empty: without it the import would take StartDate
        //  and FinishDate for the baseline
        s_open (e, "Baseline");
        s_el (e, "Number", "0");
        if (base_start >= 0)
            s_datetime (e, "Start", base_start, "08:00");
        if (base_finish >= 0)
            s_datetime (e, "Finish", base_finish, "17:00");
        if (b && b->baseline)
            s_money (e, "Cost", b->baseline);
        s_close (e);
    }
    s_close (e);
}

//  A top-level task's first elements: its ids, name, type (0 fixed units,
//  1 fixed duration), outline position and priority.
static void s_task_head (export_t *e, size_t uid, const char *name, const char *type)
{
    s_open (e, "Task");
    s_elf (e, "UID", "%zu", uid);
    s_elf (e, "ID", "%zu", uid);
    s_el (e, "Name", name);
    s_el (e, "Type", type);
    s_el (e, "IsNull", "0");
    s_elf (e, "OutlineNumber", "%zu", uid);
    s_el (e, "OutlineLevel", "1");
    s_el (e, "Priority", "500");
}

static void s_milestone (export_t *e, const Pmo__Milestone *m, size_t uid)
{
    int64_t forecast = s_days (m->forecast_date);
    int64_t baseline = s_days (m->baseline_date);
    int64_t actual = s_days (m->actual_date);
    if (forecast < 0)
        forecast = baseline;
    s_task_head (e, uid, m->name, "1");
    s_datetime (e, "Start", forecast, "17:00");
    s_datetime (e, "Finish", forecast, "17:00");
    s_el (e, "Duration", "PT0H0M0S");
    s_el (e, "DurationFormat", "7");
    s_el (e, "Work", "PT0H0M0S");
    s_el (e, "Milestone", "1");
    s_el (e, "Summary", "0");
    s_el (e, "PercentComplete", actual >= 0 ? "100" : "0");
    if (actual >= 0) {
        s_datetime (e, "ActualStart", actual, "17:00");
        s_datetime (e, "ActualFinish", actual, "17:00");
    }
    if (baseline >= 0) {
        s_open (e, "Baseline");
        s_el (e, "Number", "0");
        s_datetime (e, "Start", baseline, "17:00");
        s_datetime (e, "Finish", baseline, "17:00");
        s_close (e);
    }
    s_close (e);
}

//  An allocation's task: its weeks, Monday 08:00 to Friday 17:00.
static void s_allocation_task (export_t *e, const Pmo__Allocation *a, size_t uid)
{
    int64_t first, last, weeks = s_span (a, &first, &last);
    s_task_head (e, uid, a->resource_name, "0");
    s_datetime (e, "Start", first, "08:00");
    s_datetime (e, "Finish", last, "17:00");
    s_duration (e, "Duration", (double)weeks * 40);
    s_el (e, "DurationFormat", "7");
    s_duration (e, "Work", (double)weeks * a->hours_per_week);
    s_el (e, "Milestone", "0");
    s_el (e, "Summary", "0");
    s_el (e, "PercentComplete", "0");
    s_pmo_id (e, FIELD_TASK_TEXT1, a->id);
    s_close (e);
}

static void s_resource (export_t *e, const Pmo__Resource *r, size_t uid)
{
    s_open (e, "Resource");
    s_elf (e, "UID", "%zu", uid);
    if (s_guid (r->external_id))
        s_el (e, "GUID", s_guid (r->external_id));
    s_elf (e, "ID", "%zu", uid);
    s_el (e, "Name", r->name);
    s_el (e, "Type", "1");
    s_el (e, "IsNull", "0");
    s_el (e, "Group", r->role);
    if (!pmo_str_empty (r->email))
        s_el (e, "EmailAddress", r->email);
    s_elf (e, "MaxUnits", "%.2f", r->weekly_capacity_hours / 40.0);
    //  Per hour, in the currency's units (whole as Project writes them);
    //  none if the resource has no cost rate
    if (r->cost_rate && !pmo_str_empty (r->cost_rate->currency)) {
        long long minor = (long long)r->cost_rate->minor;
        if (minor % 100)
            s_elf (e, "StandardRate", "%lld.%02lld", minor / 100, minor % 100);
        else
            s_elf (e, "StandardRate", "%lld", minor / 100);
        s_el (e, "StandardRateFormat", "2");
    }
    s_pmo_id (e, FIELD_RESOURCE_TEXT1, r->id);
    s_close (e);
}

static void s_assignment (export_t *e, const Pmo__Allocation *a, size_t uid, size_t task_uid,
                          size_t resource_uid)
{
    int64_t first, last, weeks = s_span (a, &first, &last);
    s_open (e, "Assignment");
    s_elf (e, "UID", "%zu", uid);
    s_elf (e, "TaskUID", "%zu", task_uid);
    s_elf (e, "ResourceUID", "%zu", resource_uid);
    s_datetime (e, "Finish", last, "17:00");
    s_datetime (e, "Start", first, "08:00");
    s_elf (e, "Units", "%.2f", a->hours_per_week / 40.0);
    s_duration (e, "Work", (double)weeks * a->hours_per_week);
    s_el (e, "WorkContour", "0");
    //  Project's booking types: 0 committed, 1 proposed
    s_el (e, "BookingType",
          a->state == PMO__ALLOCATION_STATE__ALLOCATION_STATE_COMMITTED ? "0" : "1");
    //  Each weekday's work: the week's hours over five days
    for (int64_t d = first; d <= last; d++) {
        if ((d % 7 + 7 + 3) % 7 >= 5)
            continue;
        s_open (e, "TimephasedData");
        s_el (e, "Type", "1");
        s_elf (e, "UID", "%zu", uid);
        s_datetime (e, "Start", d, "08:00");
        s_datetime (e, "Finish", d, "17:00");
        s_el (e, "Unit", "2");
        s_duration (e, "Value", a->hours_per_week / 5.0);
        s_close (e);
    }
    s_close (e);
}

static size_t s_resource_index (export_t *e, const char *id)
{
    for (size_t i = 0; i < e->n_resources; i++)
        if (strcmp (e->resources[i]->id, id) == 0)
            return i;
    return SIZE_MAX;
}

//  The whole plan into the writer.
static void s_plan (export_t *e)
{
    const Pmo__Project *p = e->project;
    //  The plan's span: the baseline start (else the earliest date) to the
    //  forecast finish (else the latest)
    int64_t base_start = s_days (p->baseline_start), base_finish = s_days (p->baseline_finish);
    int64_t forecast = s_days (p->forecast_finish);
    int64_t lo = INT64_MAX, hi = INT64_MIN;
    int64_t dates[3] = {base_start, base_finish, forecast};
    for (size_t i = 0; i < 3; i++)
        if (dates[i] >= 0) {
            lo = dates[i] < lo ? dates[i] : lo;
            hi = dates[i] > hi ? dates[i] : hi;
        }
    for (size_t i = 0; i < e->n_milestones; i++) {
        int64_t d = s_days (e->milestones[i]->forecast_date);
        if (d < 0)
            d = s_days (e->milestones[i]->baseline_date);
        if (d >= 0) {
            lo = d < lo ? d : lo;
            hi = d > hi ? d : hi;
        }
    }
    for (size_t i = 0; i < e->n_allocations; i++) {
        int64_t first, last;
        s_span (e->allocations[i], &first, &last);
        lo = first < lo ? first : lo;
        hi = last > hi ? last : hi;
    }
    if (lo == INT64_MAX) {
        //  A project without a date: today
        lo = hi = (int64_t)(time (NULL) / 86400);
    }
    int64_t start = base_start >= 0 ? base_start : lo;
    int64_t finish = forecast >= 0 ? forecast : hi;
    int rc = xmlTextWriterStartDocument (e->w, "1.0", "UTF-8", "yes");
    assert (rc >= 0);
    rc = xmlTextWriterStartElementNS (e->w, NULL, BAD_CAST "Project", BAD_CAST MSPDI_NS);
    assert (rc >= 0);
    s_properties (e, start, finish);
    s_open (e, "Tasks");
    s_summary (e, start, finish, base_start, base_finish);
    size_t uid = 1;
    for (size_t i = 0; i < e->n_milestones; i++)
        s_milestone (e, e->milestones[i], uid++);
    size_t first_task = uid;
    for (size_t i = 0; i < e->n_allocations; i++)
        s_allocation_task (e, e->allocations[i], uid++);
    s_close (e);
    s_open (e, "Resources");
    for (size_t i = 0; i < e->n_resources; i++)
        s_resource (e, e->resources[i], i + 1);
    s_close (e);
    s_open (e, "Assignments");
    for (size_t i = 0; i < e->n_allocations; i++)
        s_assignment (e, e->allocations[i], i + 1, first_task + i,
                      s_resource_index (e, e->allocations[i]->resource_id) + 1);
    s_close (e);
    s_close (e);
    rc = xmlTextWriterEndDocument (e->w);
    assert (rc >= 0);
}

static int s_by_name (const void *a, const void *b)
{
    const Pmo__Milestone *x = *(Pmo__Milestone *const *)a, *y = *(Pmo__Milestone *const *)b;
    int c = strcmp (x->forecast_date, y->forecast_date);
    return c ? c : strcmp (x->name, y->name);
}

static int s_by_week (const void *a, const void *b)
{
    const Pmo__Allocation *x = *(Pmo__Allocation *const *)a, *y = *(Pmo__Allocation *const *)b;
    int c = strcmp (x->resource_name, y->resource_name);
    if (!c)
        c = strcmp (x->start_week, y->start_week);
    return c ? c : strcmp (x->id, y->id);
}

//  The project (by id, else by code) and what the plan holds of it into e;
//  0, or -1 with why.
static int s_gather (export_t *e, const portio_import_peer_t *peer, const char *project, char *why,
                     size_t why_size)
{
    pmo_arena_t *arena = e->arena;
    ProtobufCMessage **items;
    size_t n;
    if (portio_import_list (peer, arena, PMO__ENTITY_KIND__ENTITY_KIND_PROJECT, "", NULL, false,
                            &items, &n, why, why_size))
        return -1;
    for (size_t i = 0; i < n; i++) {
        Pmo__Project *p = (Pmo__Project *)items[i];
        if (strcmp (p->id, project) == 0) {
            e->project = p;
            break;
        }
        if (strcmp (p->code, project) == 0) {
            if (e->project) {
                snprintf (why, why_size,
                          "invalid [project]: projects in several divisions have the code "
                          "'%s': give the project's id",
                          project);
                return -1;
            }
            e->project = p;
        }
    }
    if (!e->project) {
        snprintf (why, why_size,
                  "not_found [project]: no project '%s' you may see (give its code "
                  "or id)",
                  project);
        return -1;
    }
    const char *id = e->project->id;
    if (portio_import_list (peer, arena, PMO__ENTITY_KIND__ENTITY_KIND_MILESTONE, "", id, false,
                            &items, &n, why, why_size))
        return -1;
    e->milestones = (Pmo__Milestone **)items;
    e->n_milestones = n;
    if (n) //  (qsort of no elements still wants a base that is not NULL)
        qsort (e->milestones, n, sizeof (void *), s_by_name);
    if (portio_import_list (peer, arena, PMO__ENTITY_KIND__ENTITY_KIND_STATUS_REPORT, "", id, false,
                            &items, &n, why, why_size))
        return -1;
    for (size_t i = 0; i < n; i++) {
        const Pmo__StatusReport *r = (Pmo__StatusReport *)items[i];
        if (!e->report || strcmp (r->period_end, e->report->period_end) > 0)
            e->report = r;
    }
    if (!peer->allocator)
        return 0; //  no pool to ask: the plan has no resources
    if (portio_import_svc_list (peer, arena, "allocation", "", &items, &n, why, why_size))
        return -1;
    e->allocations = pmo_arena_alloc (arena, (n + 1) * sizeof (void *));
    for (size_t i = 0; i < n; i++) {
        Pmo__Allocation *a = (Pmo__Allocation *)items[i];
        if (strcmp (a->project_id, id) == 0 && !pmo_str_empty (a->resource_id) &&
            a->state >= PMO__ALLOCATION_STATE__ALLOCATION_STATE_REQUESTED &&
            a->state <= PMO__ALLOCATION_STATE__ALLOCATION_STATE_COMMITTED &&
            s_week_monday (a->start_week) >= 0 && s_week_monday (a->end_week) >= 0)
            e->allocations[e->n_allocations++] = a;
    }
    if (e->n_allocations)
        qsort (e->allocations, e->n_allocations, sizeof (void *), s_by_week);
    if (!e->n_allocations)
        return 0;
    if (portio_import_svc_list (peer, arena, "resource", "", &items, &n, why, why_size))
        return -1;
    e->resources = pmo_arena_alloc (arena, (n + 1) * sizeof (void *));
    for (size_t i = 0; i < n; i++) {
        Pmo__Resource *r = (Pmo__Resource *)items[i];
        bool used = false;
        for (size_t k = 0; k < e->n_allocations && !used; k++)
            used = strcmp (e->allocations[k]->resource_id, r->id) == 0;
        if (used)
            e->resources[e->n_resources++] = r;
    }
    //  An allocation whose resource is not visible (another division's
    //  person) is left out: the plan names only people the caller may see
    size_t kept = 0;
    for (size_t k = 0; k < e->n_allocations; k++)
        if (s_resource_index (e, e->allocations[k]->resource_id) != SIZE_MAX)
            e->allocations[kept++] = e->allocations[k];
    e->n_allocations = kept;
    return 0;
}

int portio_mspdi_export (const portio_import_peer_t *peer, const char *project, char **xml,
                         size_t *size, char *why, size_t why_size)
{
    *xml = NULL;
    *size = 0;
    if (!project || !*project) {
        snprintf (why, why_size, "invalid [project]: name the project to export (its code or id)");
        return -1;
    }
    export_t e = {.arena = pmo_arena_new ()};
    int rc = s_gather (&e, peer, project, why, why_size);
    if (rc == 0) {
        xmlInitParser ();
        xmlBufferPtr buffer = xmlBufferCreate ();
        assert (buffer);
        e.w = xmlNewTextWriterMemory (buffer, 0);
        assert (e.w);
        xmlTextWriterSetIndent (e.w, 1);
        xmlTextWriterSetIndentString (e.w, BAD_CAST "\t");
        s_plan (&e);
        xmlFreeTextWriter (e.w);
        *size = (size_t)xmlBufferLength (buffer);
        *xml = malloc (*size + 1);
        assert (*xml);
        memcpy (*xml, xmlBufferContent (buffer), *size);
        (*xml)[*size] = 0;
        xmlBufferFree (buffer);
    }
    pmo_arena_destroy (&e.arena);
    return rc;
}
