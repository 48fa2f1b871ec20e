/*  portio_mspdi.c: a Microsoft Project plan (MSPDI, the XML that Project
    desktop, Project Online and Project Server save) into the registry.

    The plan is read with libxml2 and becomes rows of the export formats
    (a project, its milestones, a status report), which go through the same
    import as a spreadsheet: the same checks, keys, dry run, all or nothing
    and re-import. Problems name the XML element and its line.

    The mapping (services/pmoctl/README-import.md has it for people):
    - Project: Title (else Name) is the name; "mspdi:" + GUID (else Name) the
      external id that finds it again; StartDate/FinishDate and the project
      summary task's (UID 0) first baseline give the baseline and forecast
      dates (a StartDate after the FinishDate, which Project writes in some
      files, gives way to the summary task's Start and Finish, with a
      warning naming all four); CurrencyCode the currency; the summary task's baseline cost,
      cost and actual cost the budget (MSPDI keeps money in hundredths).
    - Milestones: each milestone task, and each top-level task (a phase or
      work package: its end), named "<WBS> <Name>", with its first
      baseline's finish (its finish if the plan was never baselined), its
      finish (forecast) and its actual finish.
    - With a StatusDate: a status report for that day with the summary
      task's % complete, PV (BCWS), EV (BCWP) and AC (ACWP); its overall RAG
      is the band of the lower of SPI and CPI (DOMAIN.md), or in a plan pmo
      wrote the rating of the report pmo has for that day. In a plan pmo
      wrote, no BCWS nor BCWP means a report without earned value (PV and
      EV none). Where Project did not compute BCWS and BCWP (both 0 or
      absent), they come from the summary task's baseline cost (BAC): PV = BAC x the share of the
      baseline's weekdays elapsed by the status date, EV = BAC x % complete,
      AC = ActualCost (a warning says so). PV and EV are money (DOMAIN.md):
      a plan without costs (no BCWS, BCWP nor baseline cost) gives no PV or
      EV, so no status report, and a warning says why (baseline work alone
      is not turned into money).
    - With an allocator to write to: each work resource (Type 1) into the
      pool in the project's org unit, found again by "mspdi:" + its GUID
      (else the plan's key + "/" + UID): MaxUnits times the plan's week
      (MinutesPerWeek, else 40 hours) is its weekly capacity, StandardRate
      (per hour in MSPDI) its cost rate, Group its role (else "resource").
      Material (Type 0) and cost (Type 2, IsCostResource) resources are
      counted as skipped. Its assignments become allocations by ISO week,
      committed where every booking of the week is committed (BookingType
      0), else proposed (BookingType 1, or none given): each week's hours from the timephased work
   (TimephasedData Type 1) where the plan has it, else the assignment's Work spread evenly over the
   weekdays from Start to Finish; the weeks of all its assignments added up, and runs of consecutive
   weeks with the same whole hours one allocation each. Unassigned work is counted as skipped.
*/
#include "portio_mspdi.h"
#include "portio_internal.h"
#include "portio_report.h"

#include <assert.h>
#include <ctype.h>
#include <czmq.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MSPDI_NS "http://schemas.microsoft.com/project"

bool portio_mspdi_is (const void *data, size_t size)
{
    const char *p = data;
    size_t n = size < 4096 ? size : 4096;
    size_t i = n >= 3 && memcmp (p, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
    while (i < n && isspace ((unsigned char)p[i]))
        i++;
    if (i == n || p[i] != '<')
        return false;
    return memmem (p, n, MSPDI_NS, strlen (MSPDI_NS)) != NULL;
}

//  ---------------------------------------------------------------------
//  Reading the XML

//  The first child element of node called name (in any namespace), NULL.
static xmlNode *s_child (const xmlNode *node, const char *name)
{
    for (xmlNode *c = node ? node->children : NULL; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE && strcmp ((const char *)c->name, name) == 0)
            return c;
    return NULL;
}

//  The text of node's child name, copied into arena; "" if none.
static const char *s_text (pmo_arena_t *arena, const xmlNode *node, const char *name)
{
    xmlNode *c = s_child (node, name);
    if (!c)
        return "";
    xmlChar *text = xmlNodeGetContent (c);
    char *copy = pmo_arena_strdup (arena, text ? (const char *)text : "");
    xmlFree (text);
    //  Surrounding white space is layout
    while (*copy && isspace ((unsigned char)*copy))
        copy++;
    size_t len = strlen (copy);
    while (len && isspace ((unsigned char)copy[len - 1]))
        copy[--len] = 0;
    return copy;
}

//  A name (Title, a task's or resource's Name): spaces around it on its
//  line are part of it (a project named "Rail " in pmo comes back so);
//  white space that spans lines is layout.
static const char *s_name (pmo_arena_t *arena, const xmlNode *node, const char *name)
{
    xmlNode *c = s_child (node, name);
    if (!c)
        return "";
    xmlChar *text = xmlNodeGetContent (c);
    const char *copy = pmo_arena_strdup (arena, text ? (const char *)text : "");
    xmlFree (text);
    const char *trimmed = s_text (arena, node, name);
    return strpbrk (copy, "\r\n") || !*trimmed ? trimmed : copy;
}

//  The baseline of a task numbered number (0: the first, "Baseline"), NULL.
static xmlNode *s_baseline (const xmlNode *task, int number)
{
    for (xmlNode *c = task->children; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE && strcmp ((const char *)c->name, "Baseline") == 0) {
            xmlChar *text = NULL;
            xmlNode *n = s_child (c, "Number");
            if (n)
                text = xmlNodeGetContent (n);
            bool match = text && atoi ((const char *)text) == number;
            xmlFree (text);
            if (match)
                return c;
        }
    return NULL;
}

//  The FieldID of the custom field the plan's ExtendedAttributes alias
//  PORTIO_MSPDI_PMO_ID among the fields whose ids start with prefix
//  ("1887": a task's, "2055": a resource's); NULL if none.
static const char *s_pmo_field (pmo_arena_t *arena, const xmlNode *root, const char *prefix)
{
    xmlNode *list = s_child (root, "ExtendedAttributes");
    for (xmlNode *c = list ? list->children : NULL; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE || strcmp ((const char *)c->name, "ExtendedAttribute"))
            continue;
        const char *id = s_text (arena, c, "FieldID");
        if (strncmp (id, prefix, strlen (prefix)) == 0 &&
            strcmp (s_text (arena, c, "Alias"), PORTIO_MSPDI_PMO_ID) == 0)
            return id;
    }
    return NULL;
}

//  The value of a task's or resource's custom field (FieldID field); ""
//  if it has none (field NULL: the plan has no such field).
static const char *s_custom (pmo_arena_t *arena, const xmlNode *node, const char *field)
{
    for (xmlNode *c = field ? node->children : NULL; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE &&
            strcmp ((const char *)c->name, "ExtendedAttribute") == 0 &&
            strcmp (s_text (arena, c, "FieldID"), field) == 0)
            return s_text (arena, c, "Value");
    return "";
}

//  ---------------------------------------------------------------------
//  The plan as rows

//  Where a row's cells came from, to name the element of a problem.
typedef struct {
    int line;                //  of the element (Project or Task)
    const char *element;     //  "Project", "Task UID=12 'Design'"
    const char *const *from; //  per column of the CSV: the MSPDI field ("Baseline/Finish")
} origin_t;

//  Hours of work of a resource in one ISO week.
typedef struct {
    int64_t monday;  //  the week's Monday, in days since 1970-01-01
    double hours;    //  ... all of it
    double proposed; //  ... of proposed bookings (BookingType 1 or none)
} pool_week_t;

//  A work resource of the plan and the weeks of its assignments.
typedef struct {
    const char *uid;         //  its UID in the plan
    const char *external_id; //  its key in the pool (its name if it has none)
    const origin_t *origin;  //  its element
    pool_week_t *weeks;
    size_t n_weeks, max_weeks;
} pool_resource_t;

typedef struct {
    pmo_arena_t *arena;
    portio_import_result_t *result; //  the merged result (its problems name elements)
    const char *code;               //  the project's (for a new one)
    const char *external_id;        //  the project's key
    const char *currency;
    portio_csv_writer_t *project, *milestones, *report;
    origin_t project_origin;
    origin_t *milestone_origins;
    size_t n_milestones, max_milestones;
    origin_t report_origin;
    bool has_report;
    portio_csv_writer_t *resources, *allocations;
    zhashx_t *pool;               //  UID -> pool_resource_t, the work resources
    pool_resource_t **pool_order; //  ... in the plan's order
    origin_t *resource_origins, *allocation_origins;
    size_t n_pool, max_pool, n_allocations, max_allocations;
    size_t skipped_material, skipped_cost, skipped_assignments;
    //  A plan pmo wrote: the custom fields aliased "pmo id" (task and
    //  resource), and the records their ids name that the caller may see
    const char *task_field, *resource_field;
    const Pmo__Project *known;         //  the project, NULL if none
    Pmo__StatusReport **known_reports; //  ... and its status reports
    size_t n_known_reports;
    const xmlNode *root;       //  the Project element
    zhashx_t *known_resources; //  id -> Pmo__Resource, NULL if none
} plan_t;

//  A problem of an element and field, at its line.
static void s_problem (plan_t *plan, int line, const char *element, const char *field,
                       const char *value, const char *reason)
{
    char column[256];
    snprintf (column, sizeof column, "%s%s%s", element, *field ? "/" : "", field);
    portio_import_problem (plan->result, line > 0 ? (size_t)line : 0, column, value, reason);
}

//  A date-time of the plan ("2003-01-07T08:00:00") as a date; "" if empty;
//  NULL (and a problem) if it is not one.
static const char *s_date (plan_t *plan, const xmlNode *node, const char *element,
                           const char *field, const char *text)
{
    if (!*text)
        return "";
    char date[11];
    const char *why;
    if (strlen (text) < 10 ||
        portio_csv_parse_date (pmo_arena_printf (plan->arena, "%.10s", text), PORTIO_CSV_DMY,
                               PORTIO_CSV_PIVOT_DEFAULT, date, NULL, &why) != 0 ||
        text[4] != '-') {
        s_problem (plan, (int)xmlGetLineNo (node), element, field, text,
                   "not an MSPDI date-time (YYYY-MM-DDThh:mm:ss)");
        return NULL;
    }
    return pmo_arena_strdup (plan->arena, date);
}

//  An amount of the plan (hundredths of the currency) as a decimal of
//  major units ("12.34"); "" if empty; NULL (and a problem) if it is not one.
static const char *s_money (plan_t *plan, const xmlNode *node, const char *element,
                            const char *field, const char *text)
{
    if (!*text)
        return "";
    char *end;
    double hundredths = strtod (text, &end);
    if (end == text || *end || !isfinite (hundredths) || fabs (hundredths) > 9e15) {
        s_problem (plan, (int)xmlGetLineNo (node), element, field, text,
                   "not an MSPDI amount (a number of hundredths)");
        return NULL;
    }
    long long minor = llround (hundredths);
    char buf[40];
    return pmo_arena_strdup (plan->arena, portio_csv_format_minor (minor, 2, buf, sizeof buf));
}

//  A code from the project's title: upper case letters and digits, words
//  joined by '-', at most 24 characters ("MPXJ-SAMPLE").
static const char *s_code_of (pmo_arena_t *arena, const char *title)
{
    char code[25];
    size_t n = 0;
    bool dash = false;
    for (const char *p = title; *p && n < sizeof code - 1; p++) {
        if (isalnum ((unsigned char)*p)) {
            code[n++] = (char)toupper ((unsigned char)*p);
            dash = false;
        } else if (n && !dash) {
            code[n++] = '-';
            dash = true;
        }
    }
    while (n && code[n - 1] == '-')
        n--;
    code[n] = 0;
    return pmo_arena_strdup (arena, n ? code : "MSP-PLAN");
}

static void s_origin_of (plan_t *plan, origin_t *origin, const xmlNode *node, const char *element,
                         const char *const *from)
{
    origin->line = (int)xmlGetLineNo (node);
    origin->element = pmo_arena_strdup (plan->arena, element);
    origin->from = from;
}

//  The columns of the project part.
static const char *s_project_header[] = {"code",
                                         "name",
                                         "external_id",
                                         "org_unit",
                                         "baseline_start",
                                         "baseline_finish",
                                         "forecast_finish",
                                         "currency",
                                         "budget.baseline",
                                         "budget.forecast",
                                         "budget.actual",
                                         NULL};

//  The project row from the Project element and its summary task.
static int s_project (plan_t *plan, const portio_import_options_t *options, const xmlNode *root,
                      const xmlNode *summary)
{
    //  Where each column comes from: the summary task's baseline, else the project's dates
    static const char *from_baseline[] = {"Title",          "Title",
                                          "GUID",           "org_unit (--org-unit, ?org_unit=)",
                                          "Baseline/Start", "Baseline/Finish",
                                          "FinishDate",     "CurrencyCode",
                                          "Baseline/Cost",  "Cost",
                                          "ActualCost",     NULL};
    static const char *from_dates[] = {
        "Title",     "Title",      "GUID",       "org_unit (--org-unit, ?org_unit=)",
        "StartDate", "FinishDate", "FinishDate", "CurrencyCode",
        "",          "Cost",       "ActualCost", NULL};
    pmo_arena_t *arena = plan->arena;
    const char *title = s_name (arena, root, "Title");
    if (!*title)
        title = s_name (arena, root, "Name");
    const char *guid = s_text (arena, root, "GUID");
    const char *currency = s_text (arena, root, "CurrencyCode");
    plan->currency = *currency ? currency : "";
    s_origin_of (plan, &plan->project_origin, root, "Project", from_dates);
    if (!*title) {
        s_problem (plan, (int)xmlGetLineNo (root), "Project", "Title", "",
                   "the plan has no Title nor Name: pmo needs a project name");
        return -1;
    }
    plan->code = options->code && *options->code ? options->code : s_code_of (arena, title);
    const xmlNode *baseline = summary ? s_baseline (summary, 0) : NULL;
    if (baseline)
        plan->project_origin.from = from_baseline;
    const char *start = s_date (
        plan, baseline ? baseline : root, "Project", baseline ? "Baseline/Start" : "StartDate",
        baseline ? s_text (arena, baseline, "Start") : s_text (arena, root, "StartDate"));
    const char *finish = s_date (
        plan, baseline ? baseline : root, "Project", baseline ? "Baseline/Finish" : "FinishDate",
        baseline ? s_text (arena, baseline, "Finish") : s_text (arena, root, "FinishDate"));
    const char *forecast =
        s_date (plan, root, "Project", "FinishDate", s_text (arena, root, "FinishDate"));
    //  Project writes a StartDate after the FinishDate in some files (the
    //  day the plan was saved, it seems, over tasks that ended before):
    //  the summary task's dates are what the tasks say, so they win, and
    //  the result says so
    if (!baseline && summary && start && finish && *start && *finish &&
        strcmp (finish, start) < 0) {
        const char *task_start =
            s_date (plan, summary, "Task UID=0", "Start", s_text (arena, summary, "Start"));
        const char *task_finish =
            s_date (plan, summary, "Task UID=0", "Finish", s_text (arena, summary, "Finish"));
        if (task_start && task_finish && *task_start && *task_finish &&
            strcmp (task_start, task_finish) <= 0) {
            portio_import_warn (plan->result,
                                "Project/StartDate %s is after Project/FinishDate %s; the plan's "
                                "tasks run from %s to %s (Task UID=0 Start and Finish), so "
                                "those dates are the project's baseline and forecast",
                                start, finish, task_start, task_finish);
            start = task_start;
            finish = forecast = task_finish;
        }
    }
    const char *budget = baseline ? s_money (plan, baseline, "Project", "Baseline/Cost",
                                             s_text (arena, baseline, "Cost"))
                                  : "";
    const char *cost =
        summary ? s_money (plan, summary, "Task UID=0", "Cost", s_text (arena, summary, "Cost"))
                : "";
    const char *actual = summary ? s_money (plan, summary, "Task UID=0", "ActualCost",
                                            s_text (arena, summary, "ActualCost"))
                                 : "";
    if (!start || !finish || !forecast || !budget || !cost || !actual)
        return -1;
    const Pmo__Project *known = plan->known;
    //  A baseline that was never set is all zeros: no budget rather than
    //  0, unless pmo wrote the 0 of a project whose baseline budget is 0
    if (strcmp (budget, "0.00") == 0 &&
        !(known && known->budget && known->budget->baseline && !known->budget->baseline->minor))
        budget = "";
    //  (the key of a plan without a GUID: its title without surrounding spaces)
    plan->external_id = pmo_arena_printf (
        arena, "mspdi:%s",
        *guid ? guid : s_text (arena, root, *s_text (arena, root, "Title") ? "Title" : "Name"));
    //  A plan pmo wrote of a project the caller may see: that project (by
    //  its code in its unit), whatever its external id
    if (known) {
        plan->code = known->code;
        plan->external_id = known->external_id;
        //  Without a forecast in pmo, the FinishDate pmo wrote is the
        //  plan's span (Project needs one), not a forecast: none is read
        if (pmo_str_empty (known->forecast_finish))
            forecast = "";
    }
    const char *row[] = {plan->code,
                         title,
                         plan->external_id,
                         known               ? known->org_unit
                         : options->org_unit ? options->org_unit
                                             : "",
                         start,
                         finish,
                         forecast,
                         *budget || *cost || *actual ? plan->currency : "",
                         budget,
                         cost,
                         actual};
    portio_csv_writer_row (plan->project, s_project_header, 11);
    portio_csv_writer_row (plan->project, row, 11);
    return 0;
}

static void s_grow_origins (plan_t *plan, origin_t **origins, size_t n, size_t *max)
{
    if (n < *max)
        return;
    *max = *max ? *max * 2 : 32;
    origin_t *grown = pmo_arena_alloc (plan->arena, *max * sizeof (origin_t));
    if (n)
        memcpy (grown, *origins, n * sizeof (origin_t));
    *origins = grown;
}

//  A milestone row from a milestone task or a top-level summary task.
static void s_milestone (plan_t *plan, const xmlNode *task)
{
    static const char *from[] = {"", "WBS Name", "Baseline/Finish", "Finish", "ActualFinish", NULL};
    pmo_arena_t *arena = plan->arena;
    const char *uid = s_text (arena, task, "UID");
    const char *name = s_name (arena, task, "Name");
    const char *wbs = s_text (arena, task, "WBS");
    const char *element = pmo_arena_printf (arena, "Task UID=%s", uid);
    const xmlNode *baseline = s_baseline (task, 0);
    const char *planned = baseline ? s_date (plan, baseline, element, "Baseline/Finish",
                                             s_text (arena, baseline, "Finish"))
                                   : "";
    const char *forecast = s_date (plan, task, element, "Finish", s_text (arena, task, "Finish"));
    const char *actual =
        s_date (plan, task, element, "ActualFinish", s_text (arena, task, "ActualFinish"));
    if (!planned || !forecast || !actual)
        return;
    //  A plan never baselined: the plan as imported is its first baseline
    if (!*planned)
        planned = forecast;
    if (!*planned) {
        s_problem (plan, (int)xmlGetLineNo (task), element, "Finish", "",
                   "the task has neither a baseline finish nor a finish");
        return;
    }
    s_grow_origins (plan, &plan->milestone_origins, plan->n_milestones, &plan->max_milestones);
    s_origin_of (plan, &plan->milestone_origins[plan->n_milestones++], task, element, from);
    const char *row[] = {plan->code, *wbs ? pmo_arena_printf (arena, "%s %s", wbs, name) : name,
                         planned, forecast, actual};
    portio_csv_writer_row (plan->milestones, row, 5);
}

static int s_day (plan_t *plan, const xmlNode *node, const char *element, const char *field,
                  const char *text, int64_t *day);

//  PV and EV (decimals of major units) from the summary task's baseline
//  cost where Project computed no BCWS or BCWP: 0, -1 (a problem), or 1
//  if the plan has no costs at all (a warning says there is no report).
static int s_earned_from_baseline (plan_t *plan, const xmlNode *summary, const char *day,
                                   const char **pv, const char **ev)
{
    pmo_arena_t *arena = plan->arena;
    const xmlNode *baseline = s_baseline (summary, 0);
    const char *bac = baseline ? s_money (plan, baseline, "Task UID=0", "Baseline/Cost",
                                          s_text (arena, baseline, "Cost"))
                               : "";
    if (!bac)
        return -1;
    if (!*bac || atof (bac) <= 0) {
        portio_import_warn (plan->result,
                            "Project/StatusDate %s: the plan has no costs (no BCWS nor BCWP on "
                            "the project summary task, no baseline Cost): PV and EV are money, "
                            "so no status report is made from it (baseline work is not turned "
                            "into money)",
                            day);
        return 1;
    }
    int64_t first, last, status;
    const char *status_text = s_text (arena, plan->root, "StatusDate");
    if (s_day (plan, baseline, "Task UID=0", "Baseline/Start", s_text (arena, baseline, "Start"),
               &first) ||
        s_day (plan, baseline, "Task UID=0", "Baseline/Finish", s_text (arena, baseline, "Finish"),
               &last) ||
        s_day (plan, plan->root, "Project", "StatusDate", status_text, &status))
        return -1;
    int64_t total = last >= first ? portio_weekdays (first, last) : 0;
    int64_t elapsed = status < first ? 0 : portio_weekdays (first, status < last ? status : last);
    double share = total > 0 ? (double)elapsed / (double)total : status >= first ? 1.0 : 0.0;
    const char *pc_text = s_text (arena, summary, "PercentComplete");
    double percent = *pc_text ? atof (pc_text) : 0;
    percent = percent < 0 ? 0 : percent > 100 ? 100 : percent;
    long long bac_minor = llround (atof (bac) * 100);
    char buf[40];
    *pv = pmo_arena_strdup (
        arena, portio_csv_format_minor (llround ((double)bac_minor * share), 2, buf, sizeof buf));
    *ev = pmo_arena_strdup (
        arena,
        portio_csv_format_minor (llround ((double)bac_minor * percent / 100), 2, buf, sizeof buf));
    portio_import_warn (plan->result,
                        "Project/StatusDate %s: the summary task has no BCWS nor BCWP, so PV %s is "
                        "its baseline Cost %s x %lld of the baseline's %lld weekdays (%.10s to "
                        "%.10s) and EV %s is that Cost x %g%% complete",
                        day, *pv, bac, (long long)elapsed, (long long)total,
                        s_text (arena, baseline, "Start"), s_text (arena, baseline, "Finish"), *ev,
                        percent);
    return 0;
}

//  With a status date: the report of that day from the summary task.
static void s_report (plan_t *plan, const xmlNode *root, const xmlNode *summary)
{
    static const char *from[] = {"",     "StatusDate", "PercentComplete", "", "BCWS", "BCWP",
                                 "ACWP", NULL};
    static const char *from_baseline[] = {"",
                                          "StatusDate",
                                          "PercentComplete",
                                          "",
                                          "Baseline/Cost x elapsed",
                                          "Baseline/Cost x PercentComplete",
                                          "ActualCost",
                                          NULL};
    pmo_arena_t *arena = plan->arena;
    const char *status = s_text (arena, root, "StatusDate");
    if (!*status || !summary)
        return;
    const char *day = s_date (plan, root, "Project", "StatusDate", status);
    const char *pv = s_money (plan, summary, "Task UID=0", "BCWS", s_text (arena, summary, "BCWS"));
    const char *ev = s_money (plan, summary, "Task UID=0", "BCWP", s_text (arena, summary, "BCWP"));
    const char *ac = s_money (plan, summary, "Task UID=0", "ACWP", s_text (arena, summary, "ACWP"));
    if (!day || !pv || !ev || !ac || !*day)
        return;
    //  Project computed no earned value: from the baseline cost, if any;
    //  in a plan pmo wrote, the report has none
    bool computed = (*pv && atof (pv) != 0) || (*ev && atof (ev) != 0);
    if (!computed && plan->task_field)
        pv = ev = "";
    else if (!computed) {
        if (s_earned_from_baseline (plan, summary, day, &pv, &ev))
            return;
        ac = s_money (plan, summary, "Task UID=0", "ActualCost",
                      s_text (arena, summary, "ActualCost"));
        if (!ac)
            return;
    }
    //  The overall rating: the band of the lower of SPI and CPI; in a plan
    //  pmo wrote, the rating of the report pmo has for that day (people
    //  rate a project, the indices only suggest it)
    double spi = *pv && atof (pv) > 0 ? atof (ev) / atof (pv) : 1.0;
    double cpi = *ac && atof (ac) > 0 ? atof (ev) / atof (ac) : 1.0;
    Pmo__Rag rag = portio_report_index_rag (spi < cpi ? spi : cpi);
    for (size_t i = 0; i < plan->n_known_reports; i++)
        if (strcmp (plan->known_reports[i]->period_end, day) == 0 &&
            plan->known_reports[i]->overall != PMO__RAG__RAG_UNSPECIFIED)
            rag = plan->known_reports[i]->overall;
    const char *overall = rag == PMO__RAG__RAG_RED     ? "red"
                          : rag == PMO__RAG__RAG_AMBER ? "amber"
                                                       : "green";
    static const char *header[] = {"project_code", "period_end", "percent_complete", "overall",
                                   "pv_minor",     "ev_minor",   "ac_minor"};
    const char *row[] = {plan->code, day, s_text (arena, summary, "PercentComplete"), overall, pv,
                         ev,         ac};
    portio_csv_writer_row (plan->report, header, 7);
    portio_csv_writer_row (plan->report, row, 7);
    s_origin_of (plan, &plan->report_origin, root, "Project",
                 computed || plan->task_field ? from : from_baseline);
    plan->has_report = true;
}

//  ---------------------------------------------------------------------
//  The pool: work resources and their assignments

//  Hours of an MSPDI duration ("PT8H30M0S"); -1 if it is not one.
static double s_hours (const char *text)
{
    if (strncmp (text, "PT", 2) != 0 || !text[2])
        return -1;
    double hours = 0;
    for (const char *p = text + 2; *p;) {
        char *end;
        double v = strtod (p, &end);
        if (end == p || !isfinite (v) || v < 0)
            return -1;
        if (*end == 'H')
            hours += v;
        else if (*end == 'M')
            hours += v / 60;
        else if (*end == 'S')
            hours += v / 3600;
        else
            return -1;
        p = end + 1;
    }
    return hours;
}

//  The day (days since 1970-01-01) of a date-time the plan wrote; 0 with
//  *day, or -1 (and a problem) if it is not one.
static int s_day (plan_t *plan, const xmlNode *node, const char *element, const char *field,
                  const char *text, int64_t *day)
{
    const char *date = s_date (plan, node, element, field, text);
    int y, m, d;
    if (!date || sscanf (date, "%4d-%2d-%2d", &y, &m, &d) != 3) {
        if (date)
            s_problem (plan, (int)xmlGetLineNo (node), element, field, text,
                       "a date-time is required here");
        return -1;
    }
    *day = portio_days_from_civil (y, (unsigned)m, (unsigned)d);
    return 0;
}

//  Add hours of work on day to the resource's weeks (by the week's Monday).
static void s_add_work (plan_t *plan, pool_resource_t *r, int64_t day, double hours, bool proposed)
{
    int64_t monday = day - ((day % 7 + 7 + 3) % 7);
    for (size_t i = 0; i < r->n_weeks; i++)
        if (r->weeks[i].monday == monday) {
            r->weeks[i].hours += hours;
            r->weeks[i].proposed += proposed ? hours : 0;
            return;
        }
    if (r->n_weeks == r->max_weeks) {
        r->max_weeks = r->max_weeks ? r->max_weeks * 2 : 16;
        pool_week_t *grown = pmo_arena_alloc (plan->arena, r->max_weeks * sizeof (pool_week_t));
        if (r->n_weeks)
            memcpy (grown, r->weeks, r->n_weeks * sizeof (pool_week_t));
        r->weeks = grown;
    }
    r->weeks[r->n_weeks++] = (pool_week_t){monday, hours, proposed ? hours : 0};
}

//  A Group as an allocator role: lower case, [a-z0-9.+#-], at most 32;
//  "resource" if nothing is left.
static const char *s_role_of (pmo_arena_t *arena, const char *group)
{
    char role[33];
    size_t n = 0;
    for (const char *p = group; *p && n < 32; p++) {
        char c = (char)tolower ((unsigned char)*p);
        if (isalnum ((unsigned char)c) || strchr (".+#-", c))
            role[n++] = c;
        else if ((c == ' ' || c == '_' || c == '/') && n && role[n - 1] != '-')
            role[n++] = '-';
    }
    while (n && role[n - 1] == '-')
        n--;
    role[n] = 0;
    return pmo_arena_strdup (arena, n ? role : "resource");
}

//  The work resources of the plan as resource rows (material and cost
//  resources are counted and left out: the pool books people's hours).
static void s_pool_resources (plan_t *plan, const portio_import_options_t *options,
                              const xmlNode *root, const char *plan_key)
{
    static const char *from[] = {"GUID",  "Name",     "org_unit (--org-unit, ?org_unit=)",
                                 "Group", "MaxUnits", "StandardRate",
                                 NULL};
    pmo_arena_t *arena = plan->arena;
    const char *minutes = s_text (arena, root, "MinutesPerWeek");
    double week_hours = *minutes && atof (minutes) > 0 ? atof (minutes) / 60 : 40;
    xmlNode *list = s_child (root, "Resources");
    for (xmlNode *x = list ? list->children : NULL; x; x = x->next) {
        if (x->type != XML_ELEMENT_NODE || strcmp ((const char *)x->name, "Resource") != 0 ||
            strcmp (s_text (arena, x, "IsNull"), "1") == 0)
            continue;
        const char *uid = s_text (arena, x, "UID");
        const char *name = s_name (arena, x, "Name");
        if (!*name)
            continue; //  the unnamed resource Project keeps at UID 0
        const char *type = s_text (arena, x, "Type");
        if (strcmp (s_text (arena, x, "IsCostResource"), "1") == 0 || strcmp (type, "2") == 0) {
            plan->skipped_cost++;
            continue;
        }
        if (strcmp (type, "0") == 0) {
            plan->skipped_material++;
            continue;
        }
        const char *element = pmo_arena_printf (arena, "Resource UID=%s", uid);
        int line = (int)xmlGetLineNo (x);
        const char *max = s_text (arena, x, "MaxUnits");
        char *end = NULL;
        double units = *max ? strtod (max, &end) : 1.0;
        if ((*max && *end) || !isfinite (units) || units < 0) {
            s_problem (plan, line, element, "MaxUnits", max, "not a number of units (1 = 100%)");
            continue;
        }
        long long capacity = llround (units * week_hours);
        if (capacity > 168) {
            s_problem (plan, line, element, "MaxUnits", max,
                       pmo_arena_printf (arena,
                                         "%s x %.0f hours a week is %lld hours: a week has 168",
                                         max, week_hours, capacity));
            continue;
        }
        const char *rate_text = s_text (arena, x, "StandardRate");
        double rate = *rate_text ? strtod (rate_text, &end) : 0;
        if ((*rate_text && *end) || !isfinite (rate) || rate < 0 || rate > 1e12) {
            s_problem (plan, line, element, "StandardRate", rate_text, "not an amount per hour");
            continue;
        }
        const char *guid = s_text (arena, x, "GUID");
        const char *external = *guid ? pmo_arena_printf (arena, "mspdi:%s", guid)
                                     : pmo_arena_printf (arena, "mspdi:%s/%s", plan_key, uid);
        const char *home = options->org_unit ? options->org_unit : "";
        //  A resource of a plan pmo wrote that the caller may see: that
        //  resource (by its external id, else by name in its home unit)
        const Pmo__Resource *known =
            plan->known_resources
                ? zhashx_lookup (plan->known_resources, s_custom (arena, x, plan->resource_field))
                : NULL;
        if (known) {
            external = known->external_id;
            home = known->home_org_unit;
        }
        //  A rate of 0 is no rate in a plan Project saved; pmo wrote the
        //  rate its resource has, 0 included
        const char *cost = (rate > 0 || (known && *rate_text)) && *plan->currency
                               ? pmo_arena_printf (arena, "%s %.2f", plan->currency, rate)
                               : "";
        const char *row[] = {external,
                             name,
                             home,
                             s_role_of (arena, s_text (arena, x, "Group")),
                             pmo_arena_printf (arena, "%lld", capacity),
                             cost};
        portio_csv_writer_row (plan->resources, row, 6);
        s_grow_origins (plan, &plan->resource_origins, plan->n_pool, &plan->max_pool);
        s_origin_of (plan, &plan->resource_origins[plan->n_pool], x, element, from);
        pool_resource_t *r = pmo_arena_alloc (arena, sizeof (pool_resource_t));
        memset (r, 0, sizeof *r);
        r->uid = uid;
        r->external_id = *external ? external : name;
        r->origin = &plan->resource_origins[plan->n_pool];
        zhashx_insert (plan->pool, uid, r);
        plan->pool_order[plan->n_pool++] = r;
    }
}

//  One assignment's work into its resource's weeks: from its timephased
//  work (TimephasedData of Type 1) where the plan has it, else its Work
//  spread evenly over the weekdays from Start to Finish.
static void s_pool_assignment (plan_t *plan, const xmlNode *x)
{
    pmo_arena_t *arena = plan->arena;
    pool_resource_t *r = zhashx_lookup (plan->pool, s_text (arena, x, "ResourceUID"));
    if (!r) {
        //  Unassigned work (ResourceUID -65535), or a material or cost resource
        plan->skipped_assignments++;
        return;
    }
    const char *element = pmo_arena_printf (arena, "Assignment UID=%s", s_text (arena, x, "UID"));
    int line = (int)xmlGetLineNo (x);
    //  Project's booking types: 0 committed, 1 proposed; a plan that says
    //  neither proposes
    const char *booking = s_text (arena, x, "BookingType");
    if (*booking && strcmp (booking, "0") != 0 && strcmp (booking, "1") != 0) {
        s_problem (plan, line, element, "BookingType", booking,
                   "a booking type is 0 (committed) or 1 (proposed)");
        return;
    }
    bool proposed = strcmp (booking, "0") != 0;
    double timephased = 0;
    for (xmlNode *t = x->children; t; t = t->next) {
        if (t->type != XML_ELEMENT_NODE || strcmp ((const char *)t->name, "TimephasedData") != 0 ||
            strcmp (s_text (arena, t, "Type"), "1") != 0)
            continue;
        const char *value = s_text (arena, t, "Value");
        if (!*value)
            continue; //  a day without work
        double hours = s_hours (value);
        int64_t day;
        if (hours < 0) {
            s_problem (plan, (int)xmlGetLineNo (t), element, "TimephasedData/Value", value,
                       "not an MSPDI duration (PT8H0M0S)");
            return;
        }
        if (s_day (plan, t, element, "TimephasedData/Start", s_text (arena, t, "Start"), &day))
            return;
        if (hours > 0)
            s_add_work (plan, r, day, hours, proposed);
        timephased += hours;
    }
    if (timephased > 0)
        return;
    const char *work_text = s_text (arena, x, "Work");
    double work = *work_text ? s_hours (work_text) : 0;
    if (work < 0) {
        s_problem (plan, line, element, "Work", work_text, "not an MSPDI duration (PT8H0M0S)");
        return;
    }
    if (work == 0)
        return;
    int64_t first, last;
    if (s_day (plan, x, element, "Start", s_text (arena, x, "Start"), &first) ||
        s_day (plan, x, element, "Finish", s_text (arena, x, "Finish"), &last))
        return;
    if (last < first) {
        s_problem (plan, line, element, "Finish", s_text (arena, x, "Finish"),
                   "the assignment finishes before it starts");
        return;
    }
    int64_t weekdays = portio_weekdays (first, last);
    if (!weekdays) {
        s_add_work (plan, r, first, work, proposed);
        return;
    }
    for (int64_t d = first; d <= last; d++)
        if ((d % 7 + 7 + 3) % 7 < 5)
            s_add_work (plan, r, d, work / (double)weekdays, proposed);
}

static int s_by_monday (const void *a, const void *b)
{
    int64_t x = ((const pool_week_t *)a)->monday, y = ((const pool_week_t *)b)->monday;
    return x < y ? -1 : x > y;
}

//  Each resource's weeks as allocation rows: runs of consecutive weeks
//  with the same whole hours (a week under half an hour ends a run) and
//  the same state: committed if every hour of the week is a committed
//  booking, else proposed.
static void s_pool_allocations (plan_t *plan, const xmlNode *root)
{
    static const char *from[] = {"",      "ResourceUID", "TimephasedData (else Work)",
                                 "Start", "Finish",      "BookingType",
                                 "",      NULL};
    pmo_arena_t *arena = plan->arena;
    xmlNode *list = s_child (root, "Assignments");
    for (xmlNode *x = list ? list->children : NULL; x; x = x->next)
        if (x->type == XML_ELEMENT_NODE && strcmp ((const char *)x->name, "Assignment") == 0)
            s_pool_assignment (plan, x);
    for (size_t i = 0; i < plan->n_pool; i++) {
        pool_resource_t *r = plan->pool_order[i];
        if (r->n_weeks)
            qsort (r->weeks, r->n_weeks, sizeof (pool_week_t), s_by_monday);
        for (size_t w = 0; w < r->n_weeks;) {
            long long hours = llround (r->weeks[w].hours);
            bool proposed = r->weeks[w].proposed > 0;
            size_t end = w + 1;
            while (end < r->n_weeks && r->weeks[end].monday == r->weeks[end - 1].monday + 7 &&
                   llround (r->weeks[end].hours) == hours &&
                   (r->weeks[end].proposed > 0) == proposed)
                end++;
            char first[9], last[9];
            const origin_t *o = r->origin;
            if (hours > 168)
                s_problem (plan, o->line, o->element, "Assignments",
                           pmo_arena_printf (arena, "%lld", hours),
                           "its assignments add up to more than the 168 hours of a week");
            else if (portio_iso_week (r->weeks[w].monday, first) ||
                     portio_iso_week (r->weeks[end - 1].monday, last))
                s_problem (plan, o->line, o->element, "Assignments", "",
                           "work outside the years 2000 to 2099, which the allocator keeps");
            else if (hours > 0) {
                const char *row[] = {plan->code,
                                     r->external_id,
                                     pmo_arena_printf (arena, "%lld", hours),
                                     first,
                                     last,
                                     proposed ? "proposed" : "committed",
                                     "from Microsoft Project"};
                portio_csv_writer_row (plan->allocations, row, 7);
                s_grow_origins (plan, &plan->allocation_origins, plan->n_allocations,
                                &plan->max_allocations);
                plan->allocation_origins[plan->n_allocations] = *o;
                plan->allocation_origins[plan->n_allocations++].from = from;
            }
            w = end;
        }
    }
}

//  ---------------------------------------------------------------------
//  Importing the rows

//  The columns of the three parts (s_project_header: above)
static const char *s_milestone_header[] = {"project_code",  "name",        "baseline_date",
                                           "forecast_date", "actual_date", NULL};
static const char *s_report_header[] = {"project_code", "period_end", "percent_complete", "overall",
                                        "pv_minor",     "ev_minor",   "ac_minor",         NULL};
static const char *s_resource_header[] = {
    "external_id", "name", "home_org_unit", "role", "weekly_capacity_hours", "cost_rate", NULL};
static const char *s_allocation_header[] = {
    "project_code", "resource_name", "hours_per_week", "start_week",
    "end_week",     "state",         "note",           NULL};

//  Add a part's result to the merged one, its problems named by origin.
static void s_merge (plan_t *plan, const portio_import_result_t *part, const origin_t *origins,
                     size_t n_origins, const char *const *header, bool report)
{
    portio_import_result_t *result = plan->result;
    result->rows += part->rows;
    //  A submitted report is counted as a report, like a spreadsheet's
    if (report)
        result->reports_created += part->created;
    else
        result->created += part->created;
    result->updated += part->updated;
    result->unchanged += part->unchanged;
    result->bad += part->bad;
    result->reports_created += part->reports_created;
    result->org_units_created += part->org_units_created;
    result->written = result->written || part->written;
    if (part->error && !result->error)
        result->error = pmo_arena_strdup (result->arena, part->error);
    for (size_t i = 0; i < part->n_problems; i++) {
        const portio_import_problem_t *p = &part->problems[i];
        //  Data row r of the CSV is origins[r - 2]; its column the field's source
        const origin_t *o = p->row >= 2 && p->row - 2 < n_origins ? &origins[p->row - 2] : NULL;
        const char *field = "";
        for (size_t c = 0; o && header[c]; c++)
            if (strcmp (header[c], p->column) == 0)
                field = o->from[c];
        s_problem (plan, o ? o->line : 0, o ? o->element : "Project", field, p->value, p->reason);
    }
    size_t at = result->n_rows;
    portio_import_row_t *grown =
        pmo_arena_alloc (result->arena, (at + part->n_rows + 1) * sizeof (portio_import_row_t));
    if (at)
        memcpy (grown, result->row_results, at * sizeof (portio_import_row_t));
    for (size_t i = 0; i < part->n_rows; i++) {
        grown[at + i] = part->row_results[i];
        const origin_t *o =
            part->row_results[i].row >= 2 && part->row_results[i].row - 2 < n_origins
                ? &origins[part->row_results[i].row - 2]
                : NULL;
        grown[at + i].row = o && o->line > 0 ? (size_t)o->line : 0;
        grown[at + i].id =
            pmo_arena_strdup (result->arena, grown[at + i].id ? grown[at + i].id : "");
    }
    result->row_results = grown;
    result->n_rows = at + part->n_rows;
}

//  Import csv with the mapping text; merges the result.
static int s_part (plan_t *plan, const portio_import_options_t *options, const char *mapping_text,
                   const char *csv, size_t size, const origin_t *origins, size_t n_origins,
                   const char *const *header)
{
    char why[512];
    portio_import_mapping_t *mapping =
        portio_import_mapping_load (mapping_text, strlen (mapping_text), why, sizeof why);
    assert (mapping); //  our own
    portio_import_result_t *part = NULL;
    int rc = portio_import_run (options, mapping, csv, size, &part);
    s_merge (plan, part, origins, n_origins, header, header == s_report_header);
    portio_import_result_destroy (&part);
    portio_import_mapping_destroy (&mapping);
    return rc;
}

//  The mappings of the three parts: the project found again by its
//  external id (its code is given only when it is created); milestones by
//  project and name; the report by project and period.
#define PROJECT_MAPPING                                                                            \
    "{\"entity\": \"project\", \"key\": \"external_id\", \"encoding\": "                           \
    "\"utf-8\", "                                                                                  \
    "\"delimiter\": \",\", \"decimal_comma\": false, \"columns\": ["                               \
    "{\"column\": \"code\", \"field\": \"code\", \"create_only\": true, "                          \
    "\"unique\": true},"                                                                           \
    "{\"column\": \"name\", \"field\": \"name\"},"                                                 \
    "{\"column\": \"external_id\", \"field\": \"external_id\"},"                                   \
    "{\"column\": \"org_unit\", \"field\": \"org_unit\", \"create_only\": "                        \
    "true},"                                                                                       \
    "{\"column\": \"baseline_start\", \"field\": \"baseline_start\"},"                             \
    "{\"column\": \"baseline_finish\", \"field\": \"baseline_finish\"},"                           \
    "{\"column\": \"forecast_finish\", \"field\": \"forecast_finish\"},"                           \
    "{\"column\": \"currency\", \"field\": \"currency\"},"                                         \
    "{\"column\": \"budget.baseline\", \"field\": \"budget.baseline\"},"                           \
    "{\"column\": \"budget.forecast\", \"field\": \"budget.forecast\"},"                           \
    "{\"column\": \"budget.actual\", \"field\": \"budget.actual\"}]}"
//  A plan pmo wrote of a project the caller may see: found by its code in
//  its unit (the row holds the stored project's code, unit and external id)
#define PROJECT_MAPPING_PMO                                                                        \
    "{\"entity\": \"project\", \"key\": \"code\", \"encoding\": \"utf-8\", "                       \
    "\"delimiter\": \",\", \"decimal_comma\": false, \"columns\": ["                               \
    "{\"column\": \"code\", \"field\": \"code\"},"                                                 \
    "{\"column\": \"name\", \"field\": \"name\"},"                                                 \
    "{\"column\": \"external_id\", \"field\": \"external_id\"},"                                   \
    "{\"column\": \"org_unit\", \"field\": \"org_unit\", \"create_only\": true},"                  \
    "{\"column\": \"baseline_start\", \"field\": \"baseline_start\"},"                             \
    "{\"column\": \"baseline_finish\", \"field\": \"baseline_finish\"},"                           \
    "{\"column\": \"forecast_finish\", \"field\": \"forecast_finish\"},"                           \
    "{\"column\": \"currency\", \"field\": \"currency\"},"                                         \
    "{\"column\": \"budget.baseline\", \"field\": \"budget.baseline\"},"                           \
    "{\"column\": \"budget.forecast\", \"field\": \"budget.forecast\"},"                           \
    "{\"column\": \"budget.actual\", \"field\": \"budget.actual\"}]}"
#define MILESTONE_MAPPING                                                                          \
    "{\"entity\": \"milestone\", \"encoding\": \"utf-8\", \"delimiter\": "                         \
    "\",\", \"columns\": ["                                                                        \
    "{\"column\": \"project_code\", \"field\": \"project_code\"},"                                 \
    "{\"column\": \"name\", \"field\": \"name\"},"                                                 \
    "{\"column\": \"baseline_date\", \"field\": \"baseline_date\"},"                               \
    "{\"column\": \"forecast_date\", \"field\": \"forecast_date\"},"                               \
    "{\"column\": \"actual_date\", \"field\": \"actual_date\"}]}"
#define REPORT_MAPPING                                                                             \
    "{\"entity\": \"status_report\", \"encoding\": \"utf-8\", \"delimiter\": "                     \
    "\",\", "                                                                                      \
    "\"decimal_comma\": false, \"columns\": ["                                                     \
    "{\"column\": \"project_code\", \"field\": \"project_code\"},"                                 \
    "{\"column\": \"period_end\", \"field\": \"period_end\"},"                                     \
    "{\"column\": \"percent_complete\", \"field\": \"percent_complete\"},"                         \
    "{\"column\": \"overall\", \"field\": \"overall\"},"                                           \
    "{\"column\": \"pv_minor\", \"field\": \"pv_minor\"},"                                         \
    "{\"column\": \"ev_minor\", \"field\": \"ev_minor\"},"                                         \
    "{\"column\": \"ac_minor\", \"field\": \"ac_minor\"}]}"

//  Work resources found again by their external id; the home unit is
//  the plan's org unit when a resource is created (moved in pmo, it stays).
#define RESOURCE_MAPPING                                                                           \
    "{\"entity\": \"resource\", \"encoding\": \"utf-8\", \"delimiter\": \",\", "                   \
    "\"decimal_comma\": false, \"columns\": ["                                                     \
    "{\"column\": \"external_id\", \"field\": \"external_id\"},"                                   \
    "{\"column\": \"name\", \"field\": \"name\"},"                                                 \
    "{\"column\": \"home_org_unit\", \"field\": \"home_org_unit\", \"create_only\": true},"        \
    "{\"column\": \"role\", \"field\": \"role\"},"                                                 \
    "{\"column\": \"weekly_capacity_hours\", \"field\": \"weekly_capacity_hours\"},"               \
    "{\"column\": \"cost_rate\", \"field\": \"cost_rate\"}]}"
//  Allocations by project, resource and first week; the state (the plan's
//  booking type) only when one is created: afterwards pmo's steps decide.
#define ALLOCATION_MAPPING                                                                         \
    "{\"entity\": \"allocation\", \"encoding\": \"utf-8\", \"delimiter\": \",\", \"columns\": ["   \
    "{\"column\": \"project_code\", \"field\": \"project_code\"},"                                 \
    "{\"column\": \"resource_name\", \"field\": \"resource_name\"},"                               \
    "{\"column\": \"hours_per_week\", \"field\": \"hours_per_week\"},"                             \
    "{\"column\": \"start_week\", \"field\": \"start_week\"},"                                     \
    "{\"column\": \"end_week\", \"field\": \"end_week\"},"                                         \
    "{\"column\": \"state\", \"field\": \"state\", \"create_only\": true},"                        \
    "{\"column\": \"note\", \"field\": \"note\", \"create_only\": true}]}"

//  The project's code as the registry holds it (a re-import keeps the code
//  the project got), "" if the plan's project is not there yet.
static const char *s_stored_code (plan_t *plan, const portio_import_options_t *options,
                                  const char *external_id)
{
    ProtobufCMessage **items;
    size_t n;
    char why[512];
    if (portio_import_list (&options->peer, plan->arena, PMO__ENTITY_KIND__ENTITY_KIND_PROJECT, "",
                            NULL, false, &items, &n, why, sizeof why))
        return "";
    for (size_t i = 0; i < n; i++)
        if (strcmp (((Pmo__Project *)items[i])->external_id, external_id) == 0)
            return ((Pmo__Project *)items[i])->code;
    return "";
}

//  The rows of writer (the milestones or the report) with the code the
//  project has in the registry in their first cell (a re-import keeps the
//  code the project got when it was created), in arena.
static char *s_with_code (pmo_arena_t *arena, portio_csv_writer_t *writer, const char *code,
                          size_t *size)
{
    size_t len;
    const char *csv = portio_csv_writer_data (writer, &len);
    portio_csv_options_t options = {PORTIO_CSV_UTF8, ','};
    portio_csv_t *table = portio_csv_parse (csv, len, &options, arena);
    portio_csv_writer_t *out = portio_csv_writer_new (',', false);
    for (size_t r = 0; r < table->n_records; r++) {
        portio_csv_record_t *record = &table->records[r];
        if (r > 0 && record->n_fields)
            record->fields[0] = (char *)code;
        portio_csv_writer_row (out, (const char *const *)record->fields, record->n_fields);
    }
    char *copy = pmo_arena_strdup (arena, portio_csv_writer_data (out, size));
    portio_csv_writer_destroy (&out);
    return copy;
}

//  The pool's rows: resources, then (once the project and the resources
//  exist) allocations; a dry run of what does not exist yet counts them.
//  Without an allocator to write to, nothing of the pool is imported: it is
//  counted as skipped.
static int s_pool_import (plan_t *plan, const portio_import_options_t *options, const char *stored)
{
    portio_import_result_t *result = plan->result;
    if (!plan->n_pool)
        return 0;
    if (!options->peer.allocator) {
        result->skipped += plan->n_pool + plan->n_allocations;
        return 0;
    }
    if (options->dry_run && result->org_units_created) {
        //  The project's org unit is new too: nothing to check the pool against
        result->rows += plan->n_pool + plan->n_allocations;
        result->created += plan->n_pool + plan->n_allocations;
        return 0;
    }
    size_t len;
    const char *csv = portio_csv_writer_data (plan->resources, &len);
    size_t created = result->created;
    int rc = s_part (plan, options, RESOURCE_MAPPING, csv, len, plan->resource_origins,
                     plan->n_pool, s_resource_header);
    if (rc || !plan->n_allocations)
        return rc;
    if (!*stored || (options->dry_run && result->created > created)) {
        result->rows += plan->n_allocations;
        result->created += plan->n_allocations;
        return 0;
    }
    csv = s_with_code (plan->arena, plan->allocations, stored, &len);
    return s_part (plan, options, ALLOCATION_MAPPING, csv, len, plan->allocation_origins,
                   plan->n_allocations, s_allocation_header);
}

//  A plan pmo wrote (its summary task carries a project's pmo id): the
//  project and resources it names that the caller may see, so that its
//  re-import finds them whatever their keys (a project or resource of
//  another pmo, or one the caller may not see, is new).
static void s_known (plan_t *plan, const portio_import_options_t *options, const xmlNode *summary)
{
    const char *id = summary ? s_custom (plan->arena, summary, plan->task_field) : "";
    if (!*id)
        return;
    ProtobufCMessage **items;
    size_t n;
    char why[512];
    if (portio_import_list (&options->peer, plan->arena, PMO__ENTITY_KIND__ENTITY_KIND_PROJECT, "",
                            NULL, false, &items, &n, why, sizeof why))
        return; //  the project's import says why
    for (size_t i = 0; i < n && !plan->known; i++)
        if (strcmp (((Pmo__Project *)items[i])->id, id) == 0)
            plan->known = (Pmo__Project *)items[i];
    if (plan->known && portio_import_list (
                           &options->peer, plan->arena, PMO__ENTITY_KIND__ENTITY_KIND_STATUS_REPORT,
                           "", plan->known->id, false, &items, &n, why, sizeof why) == 0) {
        plan->known_reports = (Pmo__StatusReport **)items;
        plan->n_known_reports = n;
    }
    if (!plan->known || !plan->resource_field || !options->peer.allocator ||
        portio_import_svc_list (&options->peer, plan->arena, "resource", "", &items, &n, why,
                                sizeof why))
        return;
    plan->known_resources = zhashx_new ();
    for (size_t i = 0; i < n; i++)
        zhashx_insert (plan->known_resources, ((Pmo__Resource *)items[i])->id, items[i]);
}

int portio_mspdi_run (const portio_import_options_t *options, const void *data, size_t size,
                      portio_import_result_t **result_p)
{
    pmo_arena_t *arena = pmo_arena_new ();
    portio_import_result_t *result = pmo_arena_alloc (arena, sizeof (portio_import_result_t));
    result->arena = arena;
    result->entity = "mspdi";
    result->encoding = "utf-8";
    result->delimiter = ',';
    result->dry_run = options->dry_run;
    *result_p = result;
    xmlInitParser ();
    xmlDoc *doc = size <= INT32_MAX
                      ? xmlReadMemory (data, (int)size, "plan.xml", NULL,
                                       XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING)
                      : NULL;
    if (!doc) {
        const xmlError *error = xmlGetLastError ();
        char message[300];
        snprintf (message, sizeof message, "%s",
                  error && error->message ? error->message : "unreadable");
        message[strcspn (message, "\r\n")] = 0;
        return portio_import_fail (result, arena, "not a Microsoft Project XML file: line %d: %s",
                                   error ? error->line : 0, message);
    }
    xmlNode *root = xmlDocGetRootElement (doc);
    if (!root || strcmp ((const char *)root->name, "Project") != 0 || !root->ns ||
        strcmp ((const char *)root->ns->href, MSPDI_NS) != 0) {
        xmlFreeDoc (doc);
        return portio_import_fail (result, arena,
                                   "not a Microsoft Project XML file: the root element is not "
                                   "Project in %s",
                                   MSPDI_NS);
    }
    plan_t plan = {.arena = arena, .result = result};
    plan.project = portio_csv_writer_new (',', false);
    plan.milestones = portio_csv_writer_new (',', false);
    plan.report = portio_csv_writer_new (',', false);
    plan.resources = portio_csv_writer_new (',', false);
    plan.allocations = portio_csv_writer_new (',', false);
    plan.pool = zhashx_new ();
    portio_csv_writer_row (plan.milestones, s_milestone_header, 5);
    portio_csv_writer_row (plan.resources, s_resource_header, 6);
    portio_csv_writer_row (plan.allocations, s_allocation_header, 7);
    xmlNode *resources = s_child (root, "Resources");
    size_t n_elements = 1;
    for (xmlNode *x = resources ? resources->children : NULL; x; x = x->next)
        n_elements++;
    plan.pool_order = pmo_arena_alloc (arena, n_elements * sizeof (void *));
    //  The project's summary task (UID 0), and the tasks that become milestones
    xmlNode *tasks = s_child (root, "Tasks"), *summary = NULL;
    for (xmlNode *t = tasks ? tasks->children : NULL; t; t = t->next)
        if (t->type == XML_ELEMENT_NODE && strcmp (s_text (arena, t, "UID"), "0") == 0)
            summary = t;
    plan.root = root;
    plan.task_field = s_pmo_field (arena, root, "1887");
    plan.resource_field = s_pmo_field (arena, root, "2055");
    s_known (&plan, options, summary);
    int rc = s_project (&plan, options, root, summary);
    if (rc == 0) {
        for (xmlNode *t = tasks ? tasks->children : NULL; t; t = t->next) {
            if (t->type != XML_ELEMENT_NODE || t == summary ||
                strcmp (s_text (arena, t, "IsNull"), "1") == 0)
                continue;
            bool milestone = strcmp (s_text (arena, t, "Milestone"), "1") == 0;
            //  A top-level task pmo wrote for an allocation (it carries the
            //  allocation's id) is not a phase
            bool phase = strcmp (s_text (arena, t, "OutlineLevel"), "1") == 0 &&
                         !*s_custom (arena, t, plan.task_field);
            if (milestone || phase)
                s_milestone (&plan, t);
        }
        s_report (&plan, root, summary);
        const char *guid = s_text (arena, root, "GUID");
        s_pool_resources (&plan, options, root, *guid ? guid : s_text (arena, root, "Title"));
        s_pool_allocations (&plan, root);
        result->skipped = plan.skipped_material + plan.skipped_cost + plan.skipped_assignments;
    }
    xmlFreeDoc (doc);
    if (rc || result->n_problems) {
        result->bad = 1;
        rc = portio_import_fail (result, arena, "the plan has problems: nothing was imported");
    } else {
        //  The project first; its milestones and report once it exists (a
        //  dry run of a new plan counts them without asking the registry)
        size_t len;
        const char *csv = portio_csv_writer_data (plan.project, &len);
        rc = s_part (&plan, options, plan.known ? PROJECT_MAPPING_PMO : PROJECT_MAPPING, csv, len,
                     &plan.project_origin, 1, s_project_header);
        const char *stored = rc != 0      ? ""
                             : plan.known ? plan.known->code
                                          : s_stored_code (&plan, options, plan.external_id);
        if (rc == 0 && !*stored) {
            result->rows += plan.n_milestones + plan.has_report;
            result->created += plan.n_milestones;
            result->reports_created += plan.has_report;
        } else if (rc == 0) {
            if (plan.n_milestones) {
                csv = s_with_code (arena, plan.milestones, stored, &len);
                rc = s_part (&plan, options, MILESTONE_MAPPING, csv, len, plan.milestone_origins,
                             plan.n_milestones, s_milestone_header);
            }
            if (rc == 0 && plan.has_report) {
                csv = s_with_code (arena, plan.report, stored, &len);
                rc = s_part (&plan, options, REPORT_MAPPING, csv, len, &plan.report_origin, 1,
                             s_report_header);
            }
        }
        if (rc == 0)
            rc = s_pool_import (&plan, options, stored);
    }
    portio_csv_writer_destroy (&plan.project);
    portio_csv_writer_destroy (&plan.milestones);
    portio_csv_writer_destroy (&plan.report);
    portio_csv_writer_destroy (&plan.resources);
    portio_csv_writer_destroy (&plan.allocations);
    zhashx_destroy (&plan.pool);
    zhashx_destroy (&plan.known_resources);
    return rc;
}
