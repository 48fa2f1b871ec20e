/*  portio_import_svc.c: spreadsheets into the allocator (resources,
    allocations) and the risk monitor (risks, issues, change requests, RAID
    entries); their export is portio_export.c's, the requests
    portio_peer.c's.

    The mapping machinery is portio_mapping.c's and portio_cells.c's
    (columns, values maps, defaults, templates, dates, money, withheld
    cells); what differs is where rows go.
    An import here works in two passes: first every row is converted and
    checked against what the services hold (the org units and projects of
    the registry, the resources, allocations, risks and issues already
    there: keys, references, ranges, state transitions), and every problem
    of the whole file is reported as row, column, value and reason; only
    then, if the mode allows, rows are written in file order, each with the
    version it read (a record changed meanwhile is a conflict, never
    overwritten). Resources and new allocations of named resources go to the
    allocator's import_batch, new and changed register entries (risks,
    issues, change requests, RAID entries) to the risk monitor's: up to
    1,000 rows of one division in one request and one atomic commit; the
    other rows (role requests, which are matched one by one, steps of stored
    allocations, a risk's closure, an issue's later status, a change's
    decision) are written one request at a time. The services apply their
    own rules again on every write; a row they refuse is reported like any
    other problem. In all-or-nothing mode the first refused write stops the
    import: the rows (and batches) before it stay written, a refused batch
    writes nothing, the result says which, and running the same import
    again completes it, because every row is matched by its key and rows
    already written come out unchanged.

    Keys: a row's "id" when given (what export writes); else a resource's
    external id, or its name and home unit; an allocation's project, its
    resource (or role and skill) and its first week; a risk's or issue's
    project and title (without case).
*/
#include "portio_internal.h"

#include "allocator.pb-c.h"
#include "pmo_reflect.h"
#include "pmo_wire.h"
#include "riskmon.pb-c.h"

#include <assert.h>
#include <ctype.h>
#include <czmq.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

//  ---------------------------------------------------------------------
//  ISO weeks: "2026-W14", or a date in the week

int64_t portio_days_from_civil (int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

int64_t portio_weekdays (int64_t first, int64_t last)
{
    int64_t n = 0;
    for (int64_t d = first; d <= last; d++)
        n += (d % 7 + 7 + 3) % 7 < 5;
    return n;
}

static int64_t s_year_of_days (int64_t z)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t y = (int64_t)yoe + era * 400;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    unsigned m = mp < 10 ? mp + 3 : mp - 9;
    return y + (m <= 2);
}

//  Monday = 0
static int s_weekday (int64_t days)
{
    return (int)(((days % 7) + 7 + 3) % 7);
}

static int s_weeks_in_year (int64_t year)
{
    int64_t jan1 = portio_days_from_civil (year, 1, 1);
    int wd = s_weekday (jan1);
    bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return wd == 3 || (leap && wd == 2) ? 53 : 52;
}

//  text as "YYYY-Www" into out (9 bytes); accepts "2026-W14", "2026W14",
//  and any date the mapping reads (its week). 0, or -1.
static int s_week (const portio_import_mapping_t *map, const char *text, char out[9])
{
    while (*text == ' ')
        text++;
    int year, week, used = 0;
    if ((sscanf (text, "%4d-%*[Ww]%2d%n", &year, &week, &used) == 2 ||
         sscanf (text, "%4d%*[Ww]%2d%n", &year, &week, &used) == 2) &&
        text[used] == 0) {
        if (year < 2000 || year > 2099 || week < 1 || week > s_weeks_in_year (year))
            return -1;
        snprintf (out, 9, "%04d-W%02d", year, week);
        return 0;
    }
    char date[11];
    const char *why;
    if (portio_csv_parse_date (text, map->date_order, map->pivot, date, NULL, &why) != 0)
        return -1;
    int y, m, d;
    sscanf (date, "%d-%d-%d", &y, &m, &d);
    return portio_iso_week (portio_days_from_civil (y, (unsigned)m, (unsigned)d), out);
}

int portio_iso_week (int64_t days, char out[9])
{
    int64_t thursday = days - s_weekday (days) + 3;
    int64_t iso_year = s_year_of_days (thursday);
    int64_t w = (thursday - portio_days_from_civil (iso_year, 1, 1)) / 7 + 1;
    if (iso_year < 2000 || iso_year > 2099)
        return -1;
    snprintf (out, 9, "%04d-W%02d", (int)iso_year, (int)w);
    return 0;
}

//  ---------------------------------------------------------------------
//  The import

//  One step to write for a row.
typedef enum {
    OP_CREATE = 1,  //  create_resource, request_allocation, create_risk, create_issue
    OP_UPDATE,      //  update_resource, update_risk, update_issue
    OP_PROPOSE,     //  allocations
    OP_COMMIT,      //  ... with approve: the file records a commitment made
    OP_RELEASE,     //  ...
    OP_REJECT,      //  ...
    OP_RESHAPE,     //  ...
    OP_CLOSE,       //  risks: closed or occurred; change requests; RAID entries created closed
    OP_ISSUE_STATE, //  issues created open, changes created pending: then set as the row says
} op_t;

#define MAX_OPS 4

typedef struct {
    size_t row;
    size_t record;
    bool bad;
    bool create;
    bool unchanged;
    bool written;
    ProtobufCMessage *entity;   //  what the row wants (a copy of existing with the row over it)
    ProtobufCMessage *existing; //  what was read, NULL for a new record
    const char *id;             //  known or assigned
    size_t out;                 //  its row in the result's row_results
    op_t ops[MAX_OPS];
    size_t n_ops;
} svc_plan_t;

typedef struct {
    const portio_import_options_t *options;
    const portio_import_mapping_t *map;
    const entity_t *entity;
    portio_import_result_t *result;
    pmo_arena_t *arena;
    portio_csv_t *csv;
    zhashx_t *units;     //  id -> OrgUnit
    zhashx_t *projects;  //  id -> Project
    zhashx_t *codes;     //  code -> Project (ambiguous: the marker)
    zhashx_t *resources; //  id -> Resource
    zhashx_t *res_keys;  //  "x:<external id>", "n:<name>" -> Resource (ambiguous: the marker)
    zhashx_t *by_id;     //  id -> the entity's stored records
    zhashx_t *by_key;    //  key -> stored record
    zhashx_t *used;      //  keys (and ids) of this file's rows
    svc_plan_t *plans;
    size_t n_plans;
    char why[512];
} svc_t;

static bool s_is (const svc_t *im, const char *name)
{
    return strcmp (im->entity->name, name) == 0;
}

//  The risk monitor's name of the entity in its requests (create_change,
//  update_raid) and in its replies (change_request, raid_entry).
static const char *s_request_name (const svc_t *im)
{
    return s_is (im, "change_request") ? "change" : im->entity->name;
}

static const char *s_reply_name (const svc_t *im)
{
    return s_is (im, "raid") ? "raid_entry" : im->entity->name;
}

static char *s_lower (pmo_arena_t *arena, const char *text)
{
    char *copy = pmo_arena_strdup (arena, text ? text : "");
    for (char *c = copy; *c; c++)
        *c = (char)tolower ((unsigned char)*c);
    return copy;
}

//  The key of a resource: external id, else name and home unit.
static char *s_resource_key (pmo_arena_t *arena, const Pmo__Resource *r)
{
    if (!pmo_str_empty (r->external_id))
        return pmo_arena_printf (arena, "x\x1f%s", r->external_id);
    return pmo_arena_printf (arena, "n\x1f%s\x1f%s", s_lower (arena, r->name), r->home_org_unit);
}

//  The key of an allocation: project, resource (or role and skill), first week.
static char *s_allocation_key (pmo_arena_t *arena, const Pmo__Allocation *a)
{
    //  A named resource is the key; the skill the allocator fills in is not
    if (!pmo_str_empty (a->resource_id))
        return pmo_arena_printf (arena, "%s\x1f%s\x1f%s", a->project_id, a->resource_id,
                                 a->start_week);
    return pmo_arena_printf (arena, "%s\x1f\x1f%s\x1f%s\x1f%s", a->project_id,
                             a->role ? a->role : "", a->skill ? a->skill : "", a->start_week);
}

//  The key of a risk or an issue: project and title.
static char *s_register_key (pmo_arena_t *arena, const ProtobufCMessage *entry)
{
    return pmo_arena_printf (arena, "%s\x1f%s", pmo_reflect_str (entry, "project_id"),
                             s_lower (arena, pmo_reflect_str (entry, "title")));
}

static char *s_key_of (svc_t *im, const ProtobufCMessage *msg)
{
    if (s_is (im, "resource"))
        return s_resource_key (im->arena, (const Pmo__Resource *)msg);
    if (s_is (im, "allocation"))
        return s_allocation_key (im->arena, (const Pmo__Allocation *)msg);
    return s_register_key (im->arena, msg);
}

static bool s_allocation_live (const Pmo__Allocation *a)
{
    return a->state >= PMO__ALLOCATION_STATE__ALLOCATION_STATE_REQUESTED &&
           a->state <= PMO__ALLOCATION_STATE__ALLOCATION_STATE_COMMITTED;
}

//  What the rows are checked against (portio_import_steps_t's load).
static int s_load (void *arg, const portio_csv_t *csv)
{
    svc_t *im = arg;
    im->plans = pmo_arena_alloc (im->arena, csv->n_records * sizeof (svc_plan_t));
    const portio_import_peer_t *peer = &im->options->peer;
    ProtobufCMessage **items;
    size_t n;
    if (portio_import_list (peer, im->arena, PMO__ENTITY_KIND__ENTITY_KIND_ORG_UNIT, "", NULL, true,
                            &items, &n, im->why, sizeof im->why))
        return -1;
    for (size_t i = 0; i < n; i++)
        zhashx_insert (im->units, ((Pmo__OrgUnit *)items[i])->id, items[i]);
    if (!s_is (im, "resource")) {
        if (portio_import_list (peer, im->arena, PMO__ENTITY_KIND__ENTITY_KIND_PROJECT, "", NULL,
                                true, &items, &n, im->why, sizeof im->why))
            return -1;
        for (size_t i = 0; i < n; i++) {
            Pmo__Project *p = (Pmo__Project *)items[i];
            zhashx_insert (im->projects, p->id, p);
            portio_import_index (im->codes, p->code, p);
        }
    }
    if (s_is (im, "resource") || s_is (im, "allocation")) {
        if (portio_import_svc_list (peer, im->arena, "resource", "", &items, &n, im->why,
                                    sizeof im->why))
            return -1;
        for (size_t i = 0; i < n; i++) {
            Pmo__Resource *r = (Pmo__Resource *)items[i];
            zhashx_insert (im->resources, r->id, r);
            if (!pmo_str_empty (r->external_id))
                portio_import_index (im->res_keys,
                                     pmo_arena_printf (im->arena, "x:%s", r->external_id), r);
            portio_import_index (im->res_keys,
                                 pmo_arena_printf (im->arena, "n:%s", s_lower (im->arena, r->name)),
                                 r);
            if (s_is (im, "resource")) {
                zhashx_insert (im->by_id, r->id, r);
                portio_import_index (im->by_key, s_resource_key (im->arena, r), r);
                //  A row without an external id finds a stored one by name and unit too
                portio_import_index (im->by_key,
                                     pmo_arena_printf (im->arena, "n\x1f%s\x1f%s",
                                                       s_lower (im->arena, r->name),
                                                       r->home_org_unit),
                                     r);
            }
        }
    }
    if (s_is (im, "resource"))
        return 0;
    if (portio_import_svc_list (peer, im->arena, im->entity->name, "", &items, &n, im->why,
                                sizeof im->why))
        return -1;
    for (size_t i = 0; i < n; i++) {
        zhashx_insert (im->by_id, pmo_reflect_str (items[i], "id"), items[i]);
        char *key = s_key_of (im, items[i]);
        if (s_is (im, "allocation")) {
            //  A live allocation is the one a row means; ended ones only if no live one
            Pmo__Allocation *had = zhashx_lookup (im->by_key, key);
            Pmo__Allocation *a = (Pmo__Allocation *)items[i];
            if (!had || (!s_allocation_live (had) && s_allocation_live (a)))
                zhashx_update (im->by_key, key, a);
            else if (s_allocation_live (had) && s_allocation_live (a))
                zhashx_update (im->by_key, key, &portio_import_ambiguous);
        } else
            portio_import_index (im->by_key, key, items[i]);
    }
    return 0;
}

//  The project a row names (project_id, else the project_code pseudo
//  field); NULL after a problem.
static Pmo__Project *s_row_project (svc_t *im, row_t *r, ProtobufCMessage *msg, const char *code)
{
    const char *id = pmo_reflect_str (msg, "project_id");
    if (!pmo_str_empty (id)) {
        Pmo__Project *p = zhashx_lookup (im->projects, id);
        if (!p)
            portio_import_bad (r, "project_id", id, "no such project");
        return p;
    }
    if (pmo_str_empty (code)) {
        portio_import_bad (r, "project_code", "",
                           "the project (project_code or project_id) is required");
        return NULL;
    }
    Pmo__Project *p = zhashx_lookup (im->codes, code);
    if (p == (void *)&portio_import_ambiguous) {
        portio_import_bad (r, "project_code", code,
                           "projects in several divisions have this code: give project_id");
        return NULL;
    }
    if (!p)
        portio_import_bad (r, "project_code", code, "no such project");
    return p;
}

//  The resource an allocation row names: resource_id, else resource_name
//  (an external id, else a name); NULL if none is named (*bad on a problem).
static Pmo__Resource *s_row_resource (svc_t *im, row_t *r, Pmo__Allocation *a)
{
    if (!pmo_str_empty (a->resource_id)) {
        Pmo__Resource *res = zhashx_lookup (im->resources, a->resource_id);
        if (!res)
            portio_import_bad (r, "resource_id", a->resource_id, "no such resource");
        return res;
    }
    if (pmo_str_empty (a->resource_name))
        return NULL;
    Pmo__Resource *res =
        zhashx_lookup (im->res_keys, pmo_arena_printf (im->arena, "x:%s", a->resource_name));
    if (!res)
        res =
            zhashx_lookup (im->res_keys, pmo_arena_printf (im->arena, "n:%s",
                                                           s_lower (im->arena, a->resource_name)));
    if (res == (void *)&portio_import_ambiguous) {
        portio_import_bad (
            r, "resource_name", a->resource_name,
            "several resources have this name: give their external id or resource_id");
        return NULL;
    }
    if (!res)
        portio_import_bad (r, "resource_name", a->resource_name,
                           "no resource has this external id or name");
    return res;
}

static void s_op (svc_plan_t *plan, op_t op)
{
    assert (plan->n_ops < MAX_OPS);
    plan->ops[plan->n_ops++] = op;
}

//  What checking a resource row needs beyond the conversion.
static void s_check_resource (svc_t *im, row_t *r, Pmo__Resource *res)
{
    if (pmo_str_empty (res->name))
        portio_import_bad (r, "name", "", "a resource has a name");
    if (pmo_str_empty (res->home_org_unit))
        portio_import_bad (r, "home_org_unit", "", "a resource has a home org unit");
    else if (!zhashx_lookup (im->units, res->home_org_unit))
        portio_import_bad (r, "home_org_unit", res->home_org_unit, "no such org unit");
    if (res->weekly_capacity_hours > 168)
        portio_import_bad (r, "weekly_capacity_hours",
                           pmo_arena_printf (im->arena, "%u", res->weekly_capacity_hours),
                           "a week has 168 hours");
    if (res->n_skills > 20)
        portio_import_bad (r, "skills", "", "at most 20 skills");
    if (!res->kind)
        res->kind = PMO__RESOURCE_KIND__RESOURCE_KIND_PERSON;
}

static void s_check_allocation (svc_t *im, row_t *r, Pmo__Allocation *a)
{
    char week[9];
    if (pmo_str_empty (a->start_week))
        portio_import_bad (r, "start_week", "", "the first week is required (2026-W14 or a date)");
    else if (s_week (im->map, a->start_week, week))
        portio_import_bad (r, "start_week", a->start_week,
                           "not an ISO week such as 2026-W14 (or a date) of 2000 to 2099");
    else
        a->start_week = pmo_arena_strdup (im->arena, week);
    if (pmo_str_empty (a->end_week))
        a->end_week = a->start_week;
    else if (s_week (im->map, a->end_week, week))
        portio_import_bad (r, "end_week", a->end_week,
                           "not an ISO week such as 2026-W14 (or a date) of 2000 to 2099");
    else
        a->end_week = pmo_arena_strdup (im->arena, week);
    if (!r->bad && strcmp (a->start_week, a->end_week) > 0)
        portio_import_bad (r, "end_week", a->end_week, "ends before it starts (%s)", a->start_week);
    if (a->hours_per_week < 1 || a->hours_per_week > 168)
        portio_import_bad (r, "hours_per_week",
                           pmo_arena_printf (im->arena, "%u", a->hours_per_week),
                           "hours per week are 1 to 168");
    if (a->min_level > 5)
        portio_import_bad (r, "min_level", pmo_arena_printf (im->arena, "%u", a->min_level),
                           "levels are 0 (any) to 5");
    if (pmo_str_empty (a->resource_id) && pmo_str_empty (a->role) && pmo_str_empty (a->skill))
        portio_import_bad (
            r, "resource_name", "",
            "name a resource (resource_name or resource_id) or ask for a role or skill");
    for (char *c = a->role; c && *c; c++)
        *c = (char)tolower ((unsigned char)*c);
    for (char *c = a->skill; c && *c; c++)
        *c = (char)tolower ((unsigned char)*c);
    if (!a->state)
        a->state = PMO__ALLOCATION_STATE__ALLOCATION_STATE_REQUESTED;
}

static void s_check_scale (svc_t *im, row_t *r, const char *field, uint32_t value, uint32_t min)
{
    if (value < min || value > 5)
        portio_import_bad (r, field, pmo_arena_printf (im->arena, "%u", value),
                           min ? "a rating 1 to 5 is required" : "a rating 1 to 5 (or blank)");
}

static void s_check_risk (svc_t *im, row_t *r, Pmo__Risk *risk)
{
    if (pmo_str_empty (risk->title))
        portio_import_bad (r, "title", "", "a risk has a title");
    s_check_scale (im, r, "probability", risk->probability, 1);
    s_check_scale (im, r, "impact", risk->impact, 1);
    s_check_scale (im, r, "residual_probability", risk->residual_probability, 0);
    s_check_scale (im, r, "residual_impact", risk->residual_impact, 0);
    if (!risk->status)
        risk->status = PMO__RISK_STATUS__RISK_STATUS_OPEN;
    if (!risk->kind)
        risk->kind = PMO__RISK_KIND__RISK_KIND_THREAT;
}

static void s_check_issue (svc_t *im, row_t *r, Pmo__Issue *issue)
{
    if (pmo_str_empty (issue->title))
        portio_import_bad (r, "title", "", "an issue has a title");
    if (issue->type == PMO__ISSUE_TYPE__ISSUE_TYPE_UNSPECIFIED)
        portio_import_bad (
            r, "type", "",
            "the type is required: request_for_change, off_specification or problem_concern");
    if (issue->priority > 5)
        portio_import_bad (r, "priority", pmo_arena_printf (im->arena, "%u", issue->priority),
                           "priority is 1 (highest) to 5");
    if (!issue->status)
        issue->status = PMO__ISSUE_STATUS__ISSUE_STATUS_OPEN;
    if (issue->status >= PMO__ISSUE_STATUS__ISSUE_STATUS_RESOLVED &&
        pmo_str_empty (issue->resolution))
        portio_import_bad (r, "resolution", "", "a resolved or closed issue says how (resolution)");
}

//  A change request or an assumption, decision or dependency: a title,
//  a RAID entry's kind; the values the risk monitor gives what is left out.
static void s_check_entry (svc_t *im, row_t *r, ProtobufCMessage *entry)
{
    if (pmo_str_empty (pmo_reflect_str (entry, "title")))
        portio_import_bad (r, "title", "", "a %s has a title", im->entity->name);
    if (entry->descriptor == &pmo__raid_entry__descriptor) {
        Pmo__RaidEntry *e = (Pmo__RaidEntry *)entry;
        if (e->kind == PMO__RAID_KIND__RAID_KIND_UNSPECIFIED)
            portio_import_bad (r, "kind", "",
                               "the kind is required: assumption, decision or dependency");
        if (!e->status)
            e->status = PMO__RAID_STATUS__RAID_STATUS_OPEN;
    } else {
        Pmo__ChangeRequest *c = (Pmo__ChangeRequest *)entry;
        if (!c->decision)
            c->decision = PMO__CHANGE_DECISION__CHANGE_DECISION_PENDING;
    }
}

//  What the risk monitor fills in for values left out, so that a row
//  compares equal to what the service stored from it.
static void s_register_defaults (ProtobufCMessage *msg)
{
    if (msg->descriptor == &pmo__risk__descriptor) {
        Pmo__Risk *r = (Pmo__Risk *)msg;
        if (!r->kind)
            r->kind = PMO__RISK_KIND__RISK_KIND_THREAT;
        if (!r->residual_probability)
            r->residual_probability = r->probability;
        if (!r->residual_impact)
            r->residual_impact = r->impact;
    } else if (msg->descriptor == &pmo__issue__descriptor) {
        Pmo__Issue *i = (Pmo__Issue *)msg;
        if (!i->priority)
            i->priority = 3;
        if (!i->severity)
            i->severity = PMO__ISSUE_SEVERITY__ISSUE_SEVERITY_MEDIUM;
    }
}

//  The steps from one allocation state to another, appended to plan; -1
//  if the state machine has no such path.
static int s_allocation_path (svc_plan_t *plan, Pmo__AllocationState from_state,
                              Pmo__AllocationState to_state, bool named)
{
    enum { RQ = 1, PR = 2, CO = 3, RE = 4, RJ = 5 };
    int from = (int)from_state, to = (int)to_state;
    if (from == to)
        return 0;
    if (from == RQ && to == PR)
        s_op (plan, OP_PROPOSE);
    else if (from == RQ && to == CO) {
        if (!named)
            return -1; //  nobody to commit
        s_op (plan, OP_PROPOSE);
        s_op (plan, OP_COMMIT);
    } else if (from == PR && to == CO)
        s_op (plan, OP_COMMIT);
    else if ((from == PR || from == CO) && to == RE)
        s_op (plan, OP_RELEASE);
    else if ((from == RQ || from == PR) && to == RJ)
        s_op (plan, OP_REJECT);
    else
        return -1;
    return 0;
}

static const char *s_enum_text (pmo_arena_t *arena, const ProtobufCMessage *msg, const char *field)
{
    return portio_import_cell (arena, msg, field);
}

//  Convert a row and check it, on its own and against what the services
//  hold: its project (every entity but resources), an allocation's
//  resource. 0 with t->entity the row's record, or -1 (the row bad).
static int s_probe (svc_t *im, row_t *r, target_t *t, Pmo__Project **project_p,
                    Pmo__Resource **resource_p)
{
    pmo_arena_t *arena = im->arena;
    const ProtobufCMessageDescriptor *desc = im->entity->desc;
    t->entity = pmo_arena_alloc (arena, desc->sizeof_message);
    protobuf_c_message_init (desc, t->entity);
    portio_import_convert (r, t, true);
    if (r->bad)
        return -1;
    ProtobufCMessage *probe = t->entity;
    if (!s_is (im, "resource")) {
        *project_p = s_row_project (im, r, probe, t->project_code);
        if (!*project_p)
            return -1;
        pmo_reflect_set_str (probe, "project_id", (*project_p)->id, arena);
    }
    if (s_is (im, "allocation")) {
        Pmo__Allocation *a = (Pmo__Allocation *)probe;
        Pmo__Resource *resource = *resource_p = s_row_resource (im, r, a);
        if (r->bad)
            return -1;
        if (resource)
            a->resource_id = resource->id;
        s_check_allocation (im, r, a);
    } else if (s_is (im, "resource"))
        s_check_resource (im, r, (Pmo__Resource *)probe);
    else if (s_is (im, "risk"))
        s_check_risk (im, r, (Pmo__Risk *)probe);
    else if (s_is (im, "issue"))
        s_check_issue (im, r, (Pmo__Issue *)probe);
    else
        s_check_entry (im, r, probe);
    return r->bad ? -1 : 0;
}

//  The stored record a row means, by id, else by key, into *existing_p
//  (NULL for a new one). -1 (the row bad) if no record has the id, several
//  have the key, or another row of this file means the same record.
static int s_find (svc_t *im, row_t *r, ProtobufCMessage *probe, ProtobufCMessage **existing_p)
{
    const char *id = pmo_reflect_str (probe, "id");
    ProtobufCMessage *existing = NULL;
    char *key = s_key_of (im, probe);
    if (!pmo_str_empty (id)) {
        existing = zhashx_lookup (im->by_id, id);
        if (!existing) {
            portio_import_bad (r, "id", id, "no %s with this id (leave id empty to create one)",
                               im->entity->name);
            return -1;
        }
    } else {
        existing = zhashx_lookup (im->by_key, key);
        if (existing == (void *)&portio_import_ambiguous) {
            portio_import_bad (r, NULL, "",
                               "several %ss match this row's key; give their id to say which",
                               im->entity->name);
            return -1;
        }
    }
    const char *used = existing ? pmo_reflect_str (existing, "id") : key;
    if (zhashx_lookup (im->used, used)) {
        portio_import_bad (r, existing ? "id" : NULL, existing ? used : "",
                           "another row of this file means the same %s", im->entity->name);
        return -1;
    }
    zhashx_insert (im->used, used, (void *)1);
    *existing_p = existing;
    return 0;
}

//  A new record: created, then booked (allocations), closed (risks, RAID
//  entries) or moved on (issues, change requests) as the row says.
static void s_plan_new (svc_t *im, row_t *r, svc_plan_t *plan, ProtobufCMessage *probe)
{
    pmo_arena_t *arena = im->arena;
    plan->create = true;
    plan->entity = probe;
    s_op (plan, OP_CREATE);
    if (s_is (im, "allocation")) {
        Pmo__Allocation *a = (Pmo__Allocation *)probe;
        //  A named resource is requested first, then booked as the row
        //  says; one released was proposed first, one rejected was requested
        bool released = a->state == PMO__ALLOCATION_STATE__ALLOCATION_STATE_RELEASED;
        if (released && pmo_str_empty (a->resource_id))
            return portio_import_bad (r, "state", s_enum_text (arena, probe, "state"),
                                      "a released allocation names its resource");
        if (s_allocation_path (plan, PMO__ALLOCATION_STATE__ALLOCATION_STATE_REQUESTED,
                               released ? PMO__ALLOCATION_STATE__ALLOCATION_STATE_PROPOSED
                                        : a->state,
                               !pmo_str_empty (a->resource_id)))
            return portio_import_bad (r, "state", s_enum_text (arena, probe, "state"),
                                      "a committed allocation names its resource");
        if (released)
            s_op (plan, OP_RELEASE);
    } else if (s_is (im, "risk") &&
               ((Pmo__Risk *)probe)->status != PMO__RISK_STATUS__RISK_STATUS_OPEN)
        s_op (plan, OP_CLOSE);
    else if (s_is (im, "issue") &&
             ((Pmo__Issue *)probe)->status >= PMO__ISSUE_STATUS__ISSUE_STATUS_RESOLVED)
        s_op (plan, OP_ISSUE_STATE);
    //  A change request is raised pending; a decision and its closing are
    //  steps of their own
    else if (s_is (im, "change_request")) {
        const Pmo__ChangeRequest *change = (const Pmo__ChangeRequest *)probe;
        if (change->decision != PMO__CHANGE_DECISION__CHANGE_DECISION_PENDING)
            s_op (plan, OP_ISSUE_STATE);
        if (change->closed)
            s_op (plan, OP_CLOSE);
    }
    //  An assumption, decision or dependency is created open, then closed
    else if (s_is (im, "raid") &&
             ((Pmo__RaidEntry *)probe)->status == PMO__RAID_STATUS__RAID_STATUS_CLOSED)
        s_op (plan, OP_CLOSE);
}

//  True if the mapping sets field only on new records (create_only).
static bool s_create_only (const portio_import_mapping_t *map, const char *field)
{
    for (size_t i = 0; i < map->n_columns; i++)
        if (strcmp (map->columns[i].field, field) == 0)
            return map->columns[i].create_only;
    return false;
}

//  The steps from a stored allocation to what its row asks: another
//  resource, other weeks or hours, another state. -1 (the row bad) if the
//  allocation cannot get there.
static int s_plan_allocation (svc_t *im, row_t *r, svc_plan_t *plan, ProtobufCMessage *probe,
                              ProtobufCMessage *desired, ProtobufCMessage *existing,
                              const Pmo__Resource *resource)
{
    pmo_arena_t *arena = im->arena;
    Pmo__Allocation *want = (Pmo__Allocation *)desired, *was = (Pmo__Allocation *)existing;
    Pmo__Allocation *asked = (Pmo__Allocation *)probe;
    want->start_week = asked->start_week;
    want->end_week = asked->end_week;
    want->hours_per_week = asked->hours_per_week;
    //  A state set only on creation (a plan proposes; pmo commits) stays
    want->state = s_create_only (im->map, "state") ? was->state : asked->state;
    want->resource_id = resource ? resource->id : was->resource_id;
    if (strcmp (want->resource_id, was->resource_id) != 0) {
        if (was->state > PMO__ALLOCATION_STATE__ALLOCATION_STATE_PROPOSED) {
            portio_import_bad (r, "resource_name", asked->resource_name,
                               "allocation %s is %s with %s: release it and import a new row to "
                               "book someone else",
                               was->id, s_enum_text (arena, existing, "state"), was->resource_name);
            return -1;
        }
        s_op (plan, OP_PROPOSE);
    }
    if (strcmp (want->start_week, was->start_week) || strcmp (want->end_week, was->end_week) ||
        want->hours_per_week != was->hours_per_week) {
        if (!s_allocation_live (was)) {
            portio_import_bad (r, "hours_per_week", "",
                               "allocation %s is %s: its weeks and hours stay as they were",
                               was->id, s_enum_text (arena, existing, "state"));
            return -1;
        }
        s_op (plan, OP_RESHAPE);
    }
    Pmo__AllocationState from = was->state;
    if (plan->n_ops && plan->ops[0] == OP_PROPOSE && from == 1)
        from = PMO__ALLOCATION_STATE__ALLOCATION_STATE_PROPOSED;
    if (s_allocation_path (plan, from, want->state, !pmo_str_empty (want->resource_id))) {
        portio_import_bad (r, "state", s_enum_text (arena, desired, "state"),
                           "allocation %s is %s: it cannot become %s (requested -> proposed -> "
                           "committed -> released, or rejected)",
                           was->id, s_enum_text (arena, existing, "state"),
                           s_enum_text (arena, desired, "state"));
        return -1;
    }
    return 0;
}

//  A stored risk's steps: an update of its fields and a closure, never a
//  change to a closed risk. -1 (the row bad) for one.
static int s_plan_risk (svc_t *im, row_t *r, svc_plan_t *plan, ProtobufCMessage *probe,
                        ProtobufCMessage *desired, ProtobufCMessage *existing)
{
    pmo_arena_t *arena = im->arena;
    Pmo__Risk *want = (Pmo__Risk *)desired, *was = (Pmo__Risk *)existing;
    Pmo__RiskStatus status = ((Pmo__Risk *)probe)->status;
    want->status = was->status;
    bool fields = !portio_import_same (arena, pmo_reflect_copy (desired, arena),
                                       pmo_reflect_copy (existing, arena));
    bool open = was->status == PMO__RISK_STATUS__RISK_STATUS_OPEN;
    if (!open && (fields || status != was->status)) {
        portio_import_bad (r, fields ? NULL : "status", s_enum_text (arena, probe, "status"),
                           "risk %s is %s: a closed risk is a record and stays as it is", was->id,
                           s_enum_text (arena, existing, "status"));
        return -1;
    }
    if (fields)
        s_op (plan, OP_UPDATE);
    want->status = status;
    if (status != was->status)
        s_op (plan, OP_CLOSE);
    return 0;
}

//  A stored issue's steps: an update of its fields, never of a closed
//  issue. -1 (the row bad) for one.
static int s_plan_issue (svc_t *im, row_t *r, svc_plan_t *plan, ProtobufCMessage *probe,
                         ProtobufCMessage *desired, ProtobufCMessage *existing)
{
    pmo_arena_t *arena = im->arena;
    Pmo__Issue *want = (Pmo__Issue *)desired, *was = (Pmo__Issue *)existing;
    want->status = ((Pmo__Issue *)probe)->status;
    bool fields = !portio_import_same (arena, pmo_reflect_copy (desired, arena),
                                       pmo_reflect_copy (existing, arena));
    if (fields && was->status == PMO__ISSUE_STATUS__ISSUE_STATUS_CLOSED) {
        portio_import_bad (r, NULL, "", "issue %s is closed: it stays as it is", was->id);
        return -1;
    }
    if (fields)
        s_op (plan, OP_UPDATE);
    return 0;
}

//  Plan one row of any of the four entities.
static void s_plan (svc_t *im, row_t *r, svc_plan_t *plan)
{
    pmo_arena_t *arena = im->arena;
    target_t t = {0};
    Pmo__Project *project = NULL;
    Pmo__Resource *resource = NULL;
    ProtobufCMessage *existing = NULL;
    if (s_probe (im, r, &t, &project, &resource) || s_find (im, r, t.entity, &existing))
        return;
    ProtobufCMessage *probe = t.entity;
    if (!existing)
        return s_plan_new (im, r, plan, probe);
    //  Over a copy of what exists: columns the file lacks keep their values
    target_t again = {0};
    again.entity = pmo_reflect_copy (existing, arena);
    size_t problems = im->result->n_problems;
    portio_import_convert (r, &again, false);
    im->result->n_problems = problems; //  the same cells: their problems were found above
    ProtobufCMessage *desired = again.entity;

    //  The id is the key, never data: a blank id cell does not clear it
    pmo_reflect_set_str (desired, "id", pmo_reflect_str (existing, "id"), arena);
    s_register_defaults (desired);
    plan->existing = existing;
    plan->entity = desired;
    plan->id = pmo_reflect_str (existing, "id");
    if (!s_is (im, "resource"))
        pmo_reflect_set_str (desired, "project_id", pmo_reflect_str (existing, "project_id"),
                             arena);
    if (!s_is (im, "resource") && project &&
        strcmp (project->id, pmo_reflect_str (existing, "project_id")) != 0)
        return portio_import_bad (
            r, "project_code", t.project_code ? t.project_code : project->id,
            "this %s belongs to another project: entries stay with their project",
            im->entity->name);
    if (s_is (im, "resource")) {
        Pmo__Resource *want = (Pmo__Resource *)desired;
        if (!want->kind)
            want->kind = ((Pmo__Resource *)existing)->kind;
        if (!portio_import_same (arena, pmo_reflect_copy (desired, arena),
                                 pmo_reflect_copy (existing, arena)))
            s_op (plan, OP_UPDATE);
    } else if (s_is (im, "allocation")) {
        if (s_plan_allocation (im, r, plan, probe, desired, existing, resource))
            return;
    } else if (s_is (im, "risk")) {
        if (s_plan_risk (im, r, plan, probe, desired, existing))
            return;
    } else if (s_is (im, "issue")) {
        if (s_plan_issue (im, r, plan, probe, desired, existing))
            return;
    } else {
        //  Change requests and RAID entries: their fields (the risk monitor
        //  says which changes it allows: a decided change stays decided)
        s_check_entry (im, r, desired);
        bool closed = false, close = false;
        if (s_is (im, "change_request")) {
            Pmo__ChangeRequest *want = (Pmo__ChangeRequest *)desired,
                               *was = (Pmo__ChangeRequest *)existing;
            //  Who raised a change is kept when the file leaves it out
            if (pmo_str_empty (want->requested_by))
                want->requested_by = was->requested_by;
            //  Closing is a step of its own, after any update; reopening is none
            closed = was->closed;
            close = want->closed && !was->closed;
            if (was->closed && !want->closed)
                return portio_import_bad (
                    r, "closed", "", "change request %s is closed: it stays as it is", plan->id);
            want->closed = was->closed;
        } else
            closed = ((Pmo__RaidEntry *)existing)->status == PMO__RAID_STATUS__RAID_STATUS_CLOSED;
        bool fields = !portio_import_same (arena, pmo_reflect_copy (desired, arena),
                                           pmo_reflect_copy (existing, arena));
        if (fields && closed)
            return portio_import_bad (r, NULL, "", "%s %s is closed: it stays as it is",
                                      s_is (im, "raid") ? "entry" : "change request", plan->id);
        if (fields)
            s_op (plan, OP_UPDATE);
        if (close) {
            ((Pmo__ChangeRequest *)desired)->closed = true;
            s_op (plan, OP_CLOSE);
        }
    }
    plan->unchanged = plan->n_ops == 0;
}

//  ---------------------------------------------------------------------
//  Writing

//  The bodies a step may send, kept by the caller for the call's time.
typedef struct {
    Pmo__AllocationRequest request;
    Pmo__AllocationStep step;
    Pmo__AllocationReshape reshape;
    Pmo__CloseRequest close;
} bodies_t;

//  The request of an allocation's step, in bodies; *member_p its name.
static ProtobufCMessage *s_allocation_body (svc_plan_t *plan, op_t op, uint64_t version,
                                            bodies_t *bodies, const char **member_p)
{
    Pmo__AllocationRequest request = PMO__ALLOCATION_REQUEST__INIT;
    Pmo__AllocationStep step = PMO__ALLOCATION_STEP__INIT;
    Pmo__AllocationReshape reshape = PMO__ALLOCATION_RESHAPE__INIT;
    bodies->request = request, bodies->step = step, bodies->reshape = reshape;
    ProtobufCMessage *entity = plan->entity;
    ProtobufCMessage *body = NULL;
    const char *member = NULL;
    Pmo__Allocation *a = (Pmo__Allocation *)entity;
    bodies->step.allocation_id = bodies->reshape.allocation_id = (char *)plan->id;
    bodies->step.version = bodies->reshape.version = version;
    bodies->step.reason = bodies->reshape.reason = "imported from a spreadsheet";
    switch (op) {
    case OP_CREATE:
        bodies->request.project_id = a->project_id;
        bodies->request.resource_id = a->resource_id;
        bodies->request.role = a->role;
        bodies->request.skill = a->skill;
        bodies->request.min_level = a->min_level;
        bodies->request.hours_per_week = a->hours_per_week;
        bodies->request.start_week = a->start_week;
        bodies->request.end_week = a->end_week;
        bodies->request.note = a->note;
        body = &bodies->request.base, member = "request_allocation";
        break;
    case OP_PROPOSE:
        bodies->step.resource_id = a->resource_id;
        body = &bodies->step.base, member = "propose";
        break;
    case OP_COMMIT:
        bodies->step.approve = true;
        body = &bodies->step.base, member = "commit";
        break;
    case OP_RELEASE:
        body = &bodies->step.base, member = "release";
        break;
    case OP_REJECT:
        body = &bodies->step.base, member = "reject";
        break;
    default:
        bodies->reshape.start_week = a->start_week;
        bodies->reshape.end_week = a->end_week;
        bodies->reshape.hours_per_week = a->hours_per_week;
        body = &bodies->reshape.base, member = "reshape";
        break;
    }
    *member_p = member;
    return body;
}

//  The body of any other step: a risk's closure, or a resource, risk or
//  issue created or updated (a copy of the row's record); in bodies or
//  the arena, *member_p its name.
static ProtobufCMessage *s_record_body (svc_t *im, svc_plan_t *plan, op_t op, uint64_t version,
                                        bodies_t *bodies, const char **member_p)
{
    pmo_arena_t *arena = im->arena;
    ProtobufCMessage *entity = plan->entity;
    ProtobufCMessage *body = NULL;
    const char *member = NULL;
    if (op == OP_CLOSE) {
        Pmo__CloseRequest close = PMO__CLOSE_REQUEST__INIT;
        bodies->close = close;
        bodies->close.id = (char *)plan->id;
        bodies->close.version = version;
        //  A RAID entry's note and a change request's decision note are
        //  the row's already (its create or update): the close keeps them
        if (s_is (im, "raid"))
            bodies->close.kind = PMO__REGISTER_KIND__REGISTER_KIND_RAID;
        else if (s_is (im, "change_request"))
            bodies->close.kind = PMO__REGISTER_KIND__REGISTER_KIND_CHANGE_REQUEST;
        else {
            Pmo__Risk *risk = (Pmo__Risk *)entity;
            bodies->close.kind = PMO__REGISTER_KIND__REGISTER_KIND_RISK;
            bodies->close.note = risk->closure_note;
            bodies->close.risk_status = risk->status;
        }
        body = &bodies->close.base, member = "close";
    } else {
        body = pmo_reflect_copy (entity, arena);
        if (op == OP_CREATE) {
            pmo_reflect_set_str (body, "id", "", arena);
            if (s_is (im, "issue"))
                ((Pmo__Issue *)body)->status =
                    ((Pmo__Issue *)body)->status >= PMO__ISSUE_STATUS__ISSUE_STATUS_RESOLVED
                        ? PMO__ISSUE_STATUS__ISSUE_STATUS_OPEN
                        : ((Pmo__Issue *)body)->status;
            if (s_is (im, "change_request")) {
                ((Pmo__ChangeRequest *)body)->decision =
                    PMO__CHANGE_DECISION__CHANGE_DECISION_PENDING;
                ((Pmo__ChangeRequest *)body)->closed = false;
            }
            if (s_is (im, "raid") &&
                ((Pmo__RaidEntry *)body)->status == PMO__RAID_STATUS__RAID_STATUS_CLOSED)
                ((Pmo__RaidEntry *)body)->status = PMO__RAID_STATUS__RAID_STATUS_OPEN;
        } else {
            pmo_reflect_set_str (body, "id", plan->id, arena);
            pmo_reflect_set_u64 (body, "version", version);
        }
        member = pmo_arena_printf (arena, "%s_%s", op == OP_CREATE ? "create" : "update",
                                   s_request_name (im));
    }
    *member_p = member;
    return body;
}

//  A step the service refused: a problem of the row, at the column of the
//  field the error names when the mapping has one.
static void s_refused (svc_t *im, svc_plan_t *plan, const char *member, const Pmo__Error *error)
{
    bool allocator = im->entity->service == PORTIO_IMPORT_ALLOCATOR;
    //  "create_risk.probability" -> the file's column for probability
    const char *field = strchr (error->field, '.');
    field = field ? field + 1 : "";
    char reason[600];
    snprintf (reason, sizeof reason, "%s refused %s: %s",
              allocator ? "the allocator" : "the risk monitor", member, error->message);
    const char *column = *field ? portio_import_column_of (im->map, field) : "";
    //  A batch item's field is deeper ("create_allocation.request.hours_per_week")
    const char *leaf = strrchr (error->field, '.');
    if (!*column && leaf)
        column = portio_import_column_of (im->map, leaf + 1);
    const char *value = "";
    int index = *column ? portio_import_header_index (&im->csv->records[0], column) : -1;
    if (index >= 0 && (size_t)index < im->csv->records[plan->record].n_fields)
        value = im->csv->records[plan->record].fields[index];
    portio_import_problem (im->result, plan->row, column, value, reason);
}

//  What the service now holds after a step: the id and version of the
//  next step.
static void s_note_stored (svc_t *im, svc_plan_t *plan, op_t op, ProtobufCMessage *reply)
{
    pmo_arena_t *arena = im->arena;
    ProtobufCMessage *stored = portio_import_reply_member (reply, s_reply_name (im));
    if (stored) {
        plan->existing = pmo_reflect_copy (stored, arena);
        plan->id = pmo_reflect_str (plan->existing, "id");
        if (op == OP_CREATE && s_is (im, "allocation")) {
            //  A role request may have been matched and proposed at once
            Pmo__Allocation *now = (Pmo__Allocation *)plan->existing;
            Pmo__Allocation *want = (Pmo__Allocation *)plan->entity;
            if (pmo_str_empty (want->resource_id) && !pmo_str_empty (now->resource_id))
                want->resource_id = now->resource_id;
            for (size_t i = 1; i < plan->n_ops; i++)
                if (plan->ops[i] == OP_PROPOSE &&
                    now->state == PMO__ALLOCATION_STATE__ALLOCATION_STATE_PROPOSED)
                    plan->ops[i] = 0; //  already proposed
        }
    }
}

//  Send one step of a plan; 0, or -1 with the problem recorded.
static int s_write_op (svc_t *im, svc_plan_t *plan, op_t op)
{
    const portio_import_peer_t *peer = &im->options->peer;
    bool allocator = im->entity->service == PORTIO_IMPORT_ALLOCATOR;
    //  The version of the record as it now is (the previous step moved it)
    uint64_t version = plan->existing ? pmo_reflect_u64 (plan->existing, "version") : 0;
    bodies_t bodies;
    const char *member = NULL;
    ProtobufCMessage *body = s_is (im, "allocation")
                                 ? s_allocation_body (plan, op, version, &bodies, &member)
                                 : s_record_body (im, plan, op, version, &bodies, &member);
    ProtobufCMessage *reply = portio_import_service_call (
        peer, allocator ? PORTIO_IMPORT_ALLOCATOR : PORTIO_IMPORT_RISKMON, member, body, im->why,
        sizeof im->why);
    if (!reply) {
        portio_import_problem (im->result, plan->row, "", "", im->why);
        return -1;
    }
    const Pmo__Error *error = portio_import_reply_error (reply);
    if (error) {
        s_refused (im, plan, member, error);
        protobuf_c_message_free_unpacked (reply, NULL);
        return -1;
    }
    s_note_stored (im, plan, op, reply);
    protobuf_c_message_free_unpacked (reply, NULL);
    return 0;
}

//  Write every step of one plan; 0, or -1 (a problem recorded).
static int s_write (svc_t *im, svc_plan_t *plan)
{
    for (size_t i = 0; i < plan->n_ops; i++) {
        if (!plan->ops[i])
            continue;
        if (s_write_op (im, plan, plan->ops[i]))
            return -1;
        plan->written = true;
    }
    return 0;
}

//  Check one data row of the file (portio_import_plan_rows).
static bool s_plan_row (void *arg, row_t *r, size_t out)
{
    svc_t *im = arg;
    svc_plan_t *plan = &im->plans[im->n_plans++];
    plan->out = out;
    plan->row = r->row;
    plan->record = r->row - 1;
    if (!r->bad)
        s_plan (im, r, plan);
    plan->bad = r->bad;
    return true;
}

static void s_settle (void *arg, size_t p, portio_import_row_t *out)
{
    svc_t *im = arg;
    svc_plan_t *plan = &im->plans[p];
    portio_import_row_settle (im->result, out, plan->id, plan->bad, plan->unchanged, plan->create);
}

//  A row the service refused when written: counted as bad now.
static void s_row_refused (svc_t *im, svc_plan_t *plan)
{
    portio_import_row_refused (im->result, &im->result->row_results[plan->out]);
}

//  All or nothing: the import stops at a refused row (batch: in a refused
//  batch, of which nothing was written).
static int s_stop (svc_t *im, svc_plan_t *plan, bool batch)
{
    return portio_import_fail (
        im->result, im->arena,
        "row %zu was refused when written%s; %s: fix it and run the same import again to "
        "complete it (written rows come out unchanged)",
        plan->row, plan->written ? " half-way (its first steps were)" : "",
        batch ? "nothing of its batch was written, the batches before it were"
              : "the rows before it were written");
}

//  ---------------------------------------------------------------------
//  Batches: the allocator's import_batch takes resources and new
//  allocations of named resources, the risk monitor's takes new and
//  changed register entries: up to IMPORT_BATCH rows of one division in
//  one request and one atomic commit.

#define IMPORT_BATCH 1000

typedef struct {
    const char *division;
    svc_plan_t **plans;
    size_t n;
} batch_t;

//  The division a row is written in if it goes in a batch, else NULL
//  (written step by step: role requests are matched one by one, and steps
//  of stored allocations are single requests). A register row of more
//  steps (a risk closed, an issue created resolved, a change created
//  decided, closed or both, a RAID entry created closed) is one item of
//  the risk monitor's batch (final_state).
static const char *s_batch_division (svc_t *im, const svc_plan_t *plan)
{
    if (im->entity->service == PORTIO_IMPORT_RISKMON) {
        if (plan->n_ops < 1 || (plan->ops[0] != OP_CREATE && plan->ops[0] != OP_UPDATE))
            return NULL;
        for (size_t i = 1; i < plan->n_ops; i++)
            if (plan->ops[i] != OP_CLOSE && plan->ops[i] != OP_ISSUE_STATE)
                return NULL;
        const Pmo__Project *p =
            zhashx_lookup (im->projects, pmo_reflect_str (plan->entity, "project_id"));
        return p ? p->division : NULL;
    }
    if (s_is (im, "resource") && plan->n_ops == 1) {
        const Pmo__Resource *r = (const Pmo__Resource *)plan->entity;
        if (plan->ops[0] == OP_UPDATE)
            return ((const Pmo__Resource *)plan->existing)->division;
        const Pmo__OrgUnit *unit = zhashx_lookup (im->units, r->home_org_unit);
        return plan->ops[0] == OP_CREATE && unit ? unit->division : NULL;
    }
    if (!s_is (im, "allocation") || !plan->n_ops || plan->ops[0] != OP_CREATE)
        return NULL;
    const Pmo__Allocation *a = (const Pmo__Allocation *)plan->entity;
    if (pmo_str_empty (a->resource_id))
        return NULL;
    //  Created, then proposed and committed, or proposed and released, or
    //  rejected: the allocator's batch reaches the row's state
    static const op_t paths[3][3] = {{OP_CREATE, OP_PROPOSE, OP_COMMIT},
                                     {OP_CREATE, OP_PROPOSE, OP_RELEASE},
                                     {OP_CREATE, OP_REJECT}};
    bool fits = false;
    for (size_t k = 0; k < 3 && !fits; k++) {
        fits = plan->n_ops <= 3;
        for (size_t i = 1; i < plan->n_ops && fits; i++)
            fits = plan->ops[i] == paths[k][i];
    }
    if (!fits)
        return NULL;
    const Pmo__Resource *r = zhashx_lookup (im->resources, a->resource_id);
    return r ? r->division : NULL;
}

//  The risk monitor's batch item of a row.
static Pmo__RiskmonImportItem *s_register_item (svc_t *im, svc_plan_t *plan)
{
    Pmo__RiskmonImportItem *item = pmo_arena_alloc (im->arena, sizeof *item);
    pmo__riskmon_import_item__init (item);
    item->row = (uint32_t)plan->row;
    bodies_t bodies;
    const char *member;
    uint64_t version = plan->existing ? pmo_reflect_u64 (plan->existing, "version") : 0;
    ProtobufCMessage *body = s_record_body (im, plan, plan->ops[0], version, &bodies, &member);
    if (plan->n_ops >= 2) {
        //  More steps: the row's record as it ends, which the risk monitor
        //  reaches in the same commit
        item->final_state = true;
        ProtobufCMessage *state = pmo_reflect_copy (plan->entity, im->arena);
        pmo_reflect_set_str (state, "id", pmo_reflect_str (body, "id"), im->arena);
        pmo_reflect_set_u64 (state, "version", pmo_reflect_u64 (body, "version"));
        body = state;
    }
    pmo_reflect_set_oneof (&item->base, member, body);
    return item;
}

//  The allocator's batch item of a row.
static Pmo__AllocatorImportItem *s_batch_item (svc_t *im, svc_plan_t *plan)
{
    pmo_arena_t *arena = im->arena;
    Pmo__AllocatorImportItem *item = pmo_arena_alloc (arena, sizeof *item);
    pmo__allocator_import_item__init (item);
    item->row = (uint32_t)plan->row;
    if (s_is (im, "resource")) {
        bodies_t bodies;
        const char *member;
        uint64_t version = plan->existing ? pmo_reflect_u64 (plan->existing, "version") : 0;
        Pmo__Resource *r =
            (Pmo__Resource *)s_record_body (im, plan, plan->ops[0], version, &bodies, &member);
        if (plan->ops[0] == OP_CREATE)
            item->body_case = PMO__ALLOCATOR_IMPORT_ITEM__BODY_CREATE_RESOURCE,
            item->create_resource = r;
        else
            item->body_case = PMO__ALLOCATOR_IMPORT_ITEM__BODY_UPDATE_RESOURCE,
            item->update_resource = r;
        return item;
    }
    Pmo__Allocation *a = (Pmo__Allocation *)plan->entity;
    Pmo__AllocationRequest *rq = pmo_arena_alloc (arena, sizeof *rq);
    pmo__allocation_request__init (rq);
    rq->project_id = a->project_id;
    rq->resource_id = a->resource_id;
    rq->role = a->role;
    rq->skill = a->skill;
    rq->min_level = a->min_level;
    rq->hours_per_week = a->hours_per_week;
    rq->start_week = a->start_week;
    rq->end_week = a->end_week;
    rq->note = a->note;
    Pmo__AllocationImport *imp = pmo_arena_alloc (arena, sizeof *imp);
    pmo__allocation_import__init (imp);
    imp->request = rq;
    imp->state = a->state;
    //  The file records a commitment made, as the step by step commit does
    imp->approve = a->state == PMO__ALLOCATION_STATE__ALLOCATION_STATE_COMMITTED;
    imp->reason = "imported from a spreadsheet";
    item->body_case = PMO__ALLOCATOR_IMPORT_ITEM__BODY_CREATE_ALLOCATION;
    item->create_allocation = imp;
    return item;
}

//  Write a batch: 0, or -1 with its rows' problems recorded (all or
//  nothing: the import stops; nothing of the batch was written).
static int s_send (svc_t *im, batch_t *batch, bool dry_run)
{
    if (!batch->n)
        return 0;
    portio_import_result_t *result = im->result;
    bool allocator = im->entity->service == PORTIO_IMPORT_ALLOCATOR;
    const char *service = allocator ? "the allocator" : "the risk monitor";
    Pmo__AllocatorImportBatch to_allocator = PMO__ALLOCATOR_IMPORT_BATCH__INIT;
    Pmo__RiskmonImportBatch to_riskmon = PMO__RISKMON_IMPORT_BATCH__INIT;
    void **items = pmo_arena_alloc (im->arena, batch->n * sizeof (void *));
    for (size_t i = 0; i < batch->n; i++)
        items[i] = allocator ? (void *)s_batch_item (im, batch->plans[i])
                             : (void *)s_register_item (im, batch->plans[i]);
    to_allocator.division = to_riskmon.division = (char *)batch->division;
    to_allocator.dry_run = to_riskmon.dry_run = dry_run;
    to_allocator.skip_bad = to_riskmon.skip_bad = im->options->skip_bad;
    to_allocator.n_items = to_riskmon.n_items = batch->n;
    to_allocator.items = (Pmo__AllocatorImportItem **)items;
    to_riskmon.items = (Pmo__RiskmonImportItem **)items;
    size_t n = batch->n;
    batch->n = 0;
    ProtobufCMessage *reply = portio_import_service_call (
        &im->options->peer, allocator ? PORTIO_IMPORT_ALLOCATOR : PORTIO_IMPORT_RISKMON,
        "import_batch", allocator ? &to_allocator.base : &to_riskmon.base, im->why, sizeof im->why);
    const Pmo__Error *error = reply ? portio_import_reply_error (reply) : NULL;
    Pmo__ImportBatchReply *out =
        reply ? (Pmo__ImportBatchReply *)portio_import_reply_member (reply, "import_batch") : NULL;
    if (!out || out->n_results != n) {
        //  The request as a whole failed: every row of it is refused
        for (size_t i = 0; i < n; i++) {
            portio_import_problem (result, batch->plans[i]->row, "", "",
                                   reply ? (error ? error->message : "no results") : im->why);
            s_row_refused (im, batch->plans[i]);
        }
        if (reply)
            protobuf_c_message_free_unpacked (reply, NULL);
        if (im->options->skip_bad)
            return 0;
        return dry_run ? portio_import_fail (result, im->arena,
                                             "%s refused a batch; nothing was written (all or "
                                             "nothing)",
                                             service)
                       : s_stop (im, batch->plans[0], true);
    }
    svc_plan_t *first_refused = NULL;
    for (size_t i = 0; i < n; i++) {
        svc_plan_t *plan = batch->plans[i];
        const Pmo__ImportItemResult *one = out->results[i];
        portio_import_row_t *row = &result->row_results[plan->out];
        if (one->outcome == PMO__IMPORT_OUTCOME__IMPORT_OUTCOME_FAILED) {
            s_refused (im, plan, "import_batch", one->error);
            s_row_refused (im, plan);
            if (!first_refused)
                first_refused = plan;
        } else if (!dry_run && out->committed &&
                   (one->outcome == PMO__IMPORT_OUTCOME__IMPORT_OUTCOME_CREATED ||
                    one->outcome == PMO__IMPORT_OUTCOME__IMPORT_OUTCOME_UPDATED)) {
            plan->id = pmo_arena_strdup (im->arena, one->id);
            plan->written = true;
            row->id = plan->id;
            row->written = true;
            result->written = true;
        }
    }
    size_t failed = out->failed;
    protobuf_c_message_free_unpacked (reply, NULL);
    if (!first_refused || im->options->skip_bad)
        return 0;
    return dry_run ? portio_import_fail (result, im->arena,
                                         "%s refused %zu row(s) (first: row %zu); nothing was "
                                         "written (all or nothing)",
                                         service, failed, first_refused->row)
                   : s_stop (im, first_refused, true);
}

static int s_flush (svc_t *im, batch_t *batch)
{
    return s_send (im, batch, false);
}

//  The batch of division among batches (a new one if there is room).
static batch_t *s_batch_of (svc_t *im, batch_t *batches, size_t *n_batches, const char *division)
{
    for (size_t i = 0; i < *n_batches; i++)
        if (strcmp (batches[i].division, division) == 0)
            return &batches[i];
    batch_t *b = &batches[(*n_batches)++];
    b->division = division;
    b->plans = pmo_arena_alloc (im->arena, IMPORT_BATCH * sizeof (void *));
    b->n = 0;
    return b;
}

//  All or nothing over several batches: when every row to write goes in a
//  batch, each is sent as a dry run first, so that a row only the service
//  refuses stops the import before anything is written (it can still stop
//  between batches if a record changes in between or a service goes away).
static int s_check_batches (svc_t *im)
{
    if (im->options->skip_bad)
        return 0;
    size_t cap = zhashx_size (im->units) + 1, n_batches = 0, rows = 0;
    batch_t *batches = pmo_arena_alloc (im->arena, cap * sizeof (batch_t));
    for (size_t p = 0; p < im->n_plans; p++) {
        svc_plan_t *plan = &im->plans[p];
        if (plan->bad || plan->unchanged)
            continue;
        const char *division = s_batch_division (im, plan);
        if (!division)
            return 0; //  rows step by step too: their order decides
        rows++;
        batch_t *b = s_batch_of (im, batches, &n_batches, division);
        b->plans[b->n++] = plan;
        if (b->n == IMPORT_BATCH && s_send (im, b, true))
            return -1;
    }
    if (rows <= IMPORT_BATCH && n_batches <= 1)
        return 0; //  one batch: its own commit is all or nothing
    for (size_t i = 0; i < n_batches; i++)
        if (s_send (im, &batches[i], true))
            return -1;
    return 0;
}

static int s_flush_all (svc_t *im, batch_t *batches, size_t n_batches)
{
    for (size_t i = 0; i < n_batches; i++)
        if (s_flush (im, &batches[i]))
            return -1;
    return 0;
}

//  Write in file order: rows that go in batches gather by division until a
//  batch is full or a row written step by step comes (the batches before
//  it are written first, so every row sees what the rows above it did).
//  A row refused is counted as bad now; in all-or-nothing mode it stops
//  the import (the rows before it stay written).
static int s_write_rows (void *arg)
{
    svc_t *im = arg;
    portio_import_result_t *result = im->result;
    //  A division per org unit at most
    size_t cap = zhashx_size (im->units) + 1, n_batches = 0;
    batch_t *batches = pmo_arena_alloc (im->arena, cap * sizeof (batch_t));
    if (s_check_batches (im))
        return -1;
    for (size_t p = 0; p < im->n_plans; p++) {
        svc_plan_t *plan = &im->plans[p];
        if (plan->bad || plan->unchanged)
            continue;
        const char *division = s_batch_division (im, plan);
        if (division) {
            batch_t *b = s_batch_of (im, batches, &n_batches, division);
            b->plans[b->n++] = plan;
            if (b->n == IMPORT_BATCH && s_flush (im, b))
                return -1;
            continue;
        }
        if (s_flush_all (im, batches, n_batches))
            return -1;
        portio_import_row_t *out = &result->row_results[plan->out];
        int rc = s_write (im, plan);
        result->written = result->written || plan->written;
        out->id = plan->id;
        out->written = plan->written;
        if (rc == 0)
            continue;
        s_row_refused (im, plan);
        if (!im->options->skip_bad)
            return s_stop (im, plan, false);
    }
    return s_flush_all (im, batches, n_batches);
}

static int s_run (svc_t *im, const void *data, size_t size)
{
    static const portio_import_steps_t steps = {s_load, s_plan_row, s_settle, s_write_rows};
    return portio_import_run_steps (im->options, im->map, im->arena, im->result, data, size, &steps,
                                    im, &im->csv, im->why);
}

int portio_import_svc_run (const portio_import_options_t *options,
                           const portio_import_mapping_t *mapping, const void *data, size_t size,
                           portio_import_result_t *result)
{
    svc_t im = {.options = options,
                .map = mapping,
                .entity = mapping->entity,
                .result = result,
                .arena = result->arena};
    im.units = zhashx_new ();
    im.projects = zhashx_new ();
    im.codes = zhashx_new ();
    im.resources = zhashx_new ();
    im.res_keys = zhashx_new ();
    im.by_id = zhashx_new ();
    im.by_key = zhashx_new ();
    im.used = zhashx_new ();
    int rc = s_run (&im, data, size);
    zhashx_destroy (&im.units);
    zhashx_destroy (&im.projects);
    zhashx_destroy (&im.codes);
    zhashx_destroy (&im.resources);
    zhashx_destroy (&im.res_keys);
    zhashx_destroy (&im.by_id);
    zhashx_destroy (&im.by_key);
    zhashx_destroy (&im.used);
    return rc;
}
