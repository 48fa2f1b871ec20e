/*  portio_import.c: spreadsheets into the registry (see the header): the
    planning every row of a file against what the registry holds, then
    checking and writing the plans in batches per division. Mappings are
    portio_mapping.c's, cells to fields portio_cells.c's, talking to the
    registry portio_peer.c's, export portio_export.c's.
*/
#include "portio_import.h"
#include "portio_internal.h"
#include "portio_mspdi.h"
#include "portio_xlsx.h"

#include "allocator.pb-c.h"
#include "riskmon.pb-c.h"

#include "pmo_json.h"
#include "pmo_reflect.h"
#include "pmo_wire.h"

#include <assert.h>
#include <ctype.h>
#include <czmq.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define LATEST_PREFETCH 5 //  newest reports read per project (the registry's most)

//  ---------------------------------------------------------------------
//  The import

//  One data row's plan.
typedef struct {
    size_t row;
    size_t record;
    bool bad;
    bool create;
    bool unchanged;
    ProtobufCMessage *entity;   //  what to send (create or update)
    ProtobufCMessage *existing; //  what was read (updates, unchanged)
    Pmo__StatusReport *report;  //  a report to submit with the project, NULL if none
    const char *division;
    const char *project_code; //  children and reports: their project's code
    const char *id;           //  known or assigned id
    bool written;
} plan_t;

typedef struct {
    const portio_import_options_t *options;
    const portio_import_mapping_t *map;
    portio_import_result_t *result;
    pmo_arena_t *arena;
    const char *hub;
    portio_csv_t *csv;
    zhashx_t *units;           //  id -> OrgUnit (stored)
    zhashx_t *planned;         //  id -> OrgUnit to create
    Pmo__OrgUnit **plan_units; //  ... in order
    size_t n_plan_units;
    zhashx_t *by_code;    //  "division code" -> Project (stored)
    zhashx_t *by_xid;     //  external id -> Project (stored; ambiguous: the marker)
    zhashx_t *by_id;      //  id -> Project (stored)
    zhashx_t *codes_used; //  "division code" of rows of this file
    zhashx_t *children;   //  project id -> list of its milestones or reports (lazily)
    zhashx_t *latest;     //  project id -> its newest reports (ProjectReports), prefetched
    plan_t *plans;
    size_t n_plans;
    char why[512];
} import_t;

static char *s_key2 (pmo_arena_t *arena, const char *a, const char *b)
{
    return pmo_arena_printf (arena, "%s\x1f%s", a, b);
}

static int s_load_state (import_t *im)
{
    const portio_import_peer_t *peer = &im->options->peer;
    ProtobufCMessage **items;
    size_t n;
    if (portio_import_list (peer, im->arena, PMO__ENTITY_KIND__ENTITY_KIND_ORG_UNIT, "", NULL, true,
                            &items, &n, im->why, sizeof im->why))
        return -1;
    for (size_t i = 0; i < n; i++)
        zhashx_insert (im->units, ((Pmo__OrgUnit *)items[i])->id, items[i]);
    if (im->map->entity->kind == PMO__ENTITY_KIND__ENTITY_KIND_ORG_UNIT)
        return 0;
    if (portio_import_list (peer, im->arena, PMO__ENTITY_KIND__ENTITY_KIND_PROJECT, "", NULL, true,
                            &items, &n, im->why, sizeof im->why))
        return -1;
    //  Project rows that carry a report: the newest reports of every project,
    //  500 projects a request (instead of a list per project)
    bool reports = false;
    for (size_t i = 0; i < im->map->n_columns; i++)
        reports = reports || strncmp (im->map->columns[i].field, "report.", 7) == 0;
    for (size_t first = 0; reports && first < n; first += 500) {
        Pmo__LatestReportsRequest request = PMO__LATEST_REPORTS_REQUEST__INIT;
        request.n_project_ids = n - first < 500 ? n - first : 500;
        request.project_ids = pmo_arena_alloc (im->arena, request.n_project_ids * sizeof (char *));
        for (size_t i = 0; i < request.n_project_ids; i++)
            request.project_ids[i] = ((Pmo__Project *)items[first + i])->id;
        request.count = LATEST_PREFETCH;
        Pmo__RegistryReply *reply =
            portio_import_call (peer, "latest_reports", &request.base, im->why, sizeof im->why);
        if (!reply)
            return -1;
        if (reply->error || !reply->latest_reports) {
            if (reply->error)
                portio_import_error_text (reply->error, im->why, sizeof im->why);
            protobuf_c_message_free_unpacked (&reply->base, NULL);
            return -1;
        }
        Pmo__LatestReports *copy =
            (Pmo__LatestReports *)pmo_reflect_copy (&reply->latest_reports->base, im->arena);
        protobuf_c_message_free_unpacked (&reply->base, NULL);
        for (size_t i = 0; i < copy->n_projects; i++)
            zhashx_insert (im->latest, copy->projects[i]->project_id, copy->projects[i]);
    }
    for (size_t i = 0; i < n; i++) {
        Pmo__Project *p = (Pmo__Project *)items[i];
        zhashx_insert (im->by_code, s_key2 (im->arena, p->division, p->code), p);
        zhashx_insert (im->by_id, p->id, p);
        if (!pmo_str_empty (p->external_id)) {
            if (zhashx_lookup (im->by_xid, p->external_id))
                zhashx_update (im->by_xid, p->external_id, &portio_import_ambiguous);
            else
                zhashx_insert (im->by_xid, p->external_id, p);
        }
    }
    return 0;
}

//  A project's milestones or reports, read once.
static int s_children (import_t *im, const char *project_id, Pmo__EntityKind kind,
                       ProtobufCMessage ***items, size_t *n)
{
    typedef struct {
        ProtobufCMessage **items;
        size_t n;
    } list_t;
    list_t *list = zhashx_lookup (im->children, project_id);
    if (!list) {
        list = pmo_arena_alloc (im->arena, sizeof (list_t));
        if (portio_import_list (&im->options->peer, im->arena, kind, "", project_id, false,
                                &list->items, &list->n, im->why, sizeof im->why))
            return -1;
        zhashx_insert (im->children, project_id, list);
    }
    *items = list->items;
    *n = list->n;
    return 0;
}

//  The org unit a row names, created on request; NULL (and a problem) if
//  there is none.
static Pmo__OrgUnit *s_row_unit (import_t *im, row_t *r, const char *id, const char *column)
{
    Pmo__OrgUnit *unit = zhashx_lookup (im->units, id);
    if (!unit)
        unit = zhashx_lookup (im->planned, id);
    if (unit)
        return unit;
    const portio_import_mapping_t *map = im->map;
    const char *parent_id = map->ou_parent ? map->ou_parent : im->hub;
    Pmo__OrgUnit *parent = zhashx_lookup (im->units, parent_id);
    if (!im->options->create_org_units || !pmo_slug_valid (id, 2, 32) || !parent) {
        portio_import_problemf (
            im->result, r->row, column, id,
            !pmo_slug_valid (id, 2, 32) ? "not an org unit id (2 to 32 of a-z, 0-9 and '-')"
            : !im->options->create_org_units
                ? "no such org unit (ask to create the org units the file names, e.g. "
                  "pmoctl import --create-org-units)"
                : "no such org unit, and the parent to create it under is missing too");
        r->bad = true;
        return NULL;
    }
    unit = pmo_arena_alloc (im->arena, sizeof (Pmo__OrgUnit));
    pmo__org_unit__init (unit);
    unit->id = pmo_arena_strdup (im->arena, id);
    const char *name = portio_import_mapped (map->ou_names, id);
    unit->name = pmo_arena_strdup (im->arena, name && *name ? name : id);
    unit->kind = map->ou_kind;
    unit->parent = parent->id;
    unit->path = pmo_arena_printf (im->arena, "%s/%s", parent->path, id);
    unit->division =
        unit->kind == PMO__ORG_UNIT_KIND__ORG_UNIT_KIND_DIVISION ? unit->id : parent->division;
    zhashx_insert (im->planned, unit->id, unit);
    if (im->n_plan_units % 32 == 0) {
        Pmo__OrgUnit **grown =
            pmo_arena_alloc (im->arena, (im->n_plan_units + 32) * sizeof (void *));
        if (im->n_plan_units)
            memcpy (grown, im->plan_units, im->n_plan_units * sizeof (void *));
        im->plan_units = grown;
    }
    im->plan_units[im->n_plan_units++] = unit;
    return unit;
}

//  The n-th code derived from code (n = 1: code itself; then CODE-2, CODE-3 ...).
static void s_nth_code (const char *code, int n, char *out, size_t size)
{
    if (n == 1)
        snprintf (out, size, "%s", code);
    else
        snprintf (out, size, "%.28s-%d", code, n);
}

//  Make a derived code unique in its division: CODE, CODE-2, CODE-3 ...
//  (a code self holds already is its own, not a collision).
static const char *s_unique_code (import_t *im, const char *division, const char *code,
                                  const Pmo__Project *self)
{
    char candidate[40];
    for (int n = 1; n < 1000; n++) {
        s_nth_code (code, n, candidate, sizeof candidate);
        char *key = s_key2 (im->arena, division, candidate);
        Pmo__Project *holder = zhashx_lookup (im->by_code, key);
        if ((!holder || holder == self) && !zhashx_lookup (im->codes_used, key))
            break;
    }
    return pmo_arena_strdup (im->arena, candidate);
}

//  True if the mapping derives the project's code with "unique".
static bool s_unique_derived (const portio_import_mapping_t *map)
{
    for (size_t i = 0; i < map->n_columns; i++)
        if (strcmp (map->columns[i].field, "code") == 0 && map->columns[i].unique)
            return true;
    return false;
}

//  True if code is one derived from base (base, base-2, base-3 ...).
static bool s_derived_from (const char *code, const char *base)
{
    char candidate[40];
    for (int n = 1; n < 1000; n++) {
        s_nth_code (base, n, candidate, sizeof candidate);
        if (strcmp (code, candidate) == 0)
            return true;
        if (n > 1 && strncmp (code, candidate, strlen (candidate) - 1) != 0)
            return false; //  not even the prefix: no later one matches
    }
    return false;
}

//  A derived code keyed by code: the stored project among CODE, CODE-2 ...
//  that no earlier row of this file took and that has the row's name (the
//  first such, if the mapping names none). NULL: the row is a new project.
//  So a re-import finds each row's own record, never the one a suffix set
//  it apart from.
static Pmo__Project *s_derived_match (import_t *im, const char *division, const Pmo__Project *row)
{
    char candidate[40];
    for (int n = 1; n < 1000; n++) {
        s_nth_code (row->code, n, candidate, sizeof candidate);
        char *key = s_key2 (im->arena, division, candidate);
        Pmo__Project *p = zhashx_lookup (im->by_code, key);
        if (!p && n > 1)
            return NULL;
        if (p && !zhashx_lookup (im->codes_used, key) &&
            (pmo_str_empty (row->name) || strcmp (p->name, row->name) == 0))
            return p;
    }
    return NULL;
}

//  The stored project a project row means (by external id, or by code in
//  its division) into *existing, NULL for a new one. -1 (the row bad, a
//  problem recorded) if the key is missing or ambiguous, or the project
//  would leave its division.
static int s_project_of (import_t *im, row_t *r, const Pmo__Project *first,
                         const Pmo__OrgUnit *unit, Pmo__Project **existing_p)
{
    const portio_import_mapping_t *map = im->map;
    Pmo__Project *existing = NULL;
    if (strcmp (map->key, "external_id") == 0) {
        if (pmo_str_empty (first->external_id)) {
            portio_import_problemf (im->result, r->row,
                                    portio_import_column_of (map, "external_id"), "",
                                    "the key (external_id) is required");
            r->bad = true;
            return -1;
        }
        existing = zhashx_lookup (im->by_xid, first->external_id);
        if (existing == (void *)&portio_import_ambiguous) {
            portio_import_problemf (
                im->result, r->row, portio_import_column_of (map, "external_id"),
                first->external_id,
                "several projects have this external id: make them unique first");
            r->bad = true;
            return -1;
        }
    } else if (!pmo_str_empty (first->code) && s_unique_derived (map))
        existing = s_derived_match (im, unit->division, first);
    else if (!pmo_str_empty (first->code))
        existing = zhashx_lookup (im->by_code, s_key2 (im->arena, unit->division, first->code));
    if (existing && strcmp (existing->division, unit->division) != 0) {
        portio_import_problemf (
            im->result, r->row, portio_import_column_of (map, "org_unit"), first->org_unit,
            "project %s is in division '%s': a project moves only within its division",
            existing->code, existing->division);
        r->bad = true;
        return -1;
    }
    *existing_p = existing;
    return 0;
}

//  The status report a project row carries: planned to be submitted with
//  the project, unless the project already has the same one for its period
//  (nothing to do) or one that says otherwise (a problem: reports are a
//  permanent record).
static void s_plan_report (import_t *im, row_t *r, plan_t *plan, const target_t *probe,
                           const Pmo__Project *existing)
{
    pmo_arena_t *arena = im->arena;
    Pmo__StatusReport *report = probe->report;
    if (!report || !probe->report_touched)
        return;
    if (report->overall == PMO__RAG__RAG_UNSPECIFIED)
        return; //  no rating (withheld or blank): no report for this row
    if (existing) {
        ProtobufCMessage **reports = NULL;
        size_t n = 0;
        //  The newest reports were prefetched; an older period needs them all
        Pmo__ProjectReports *newest = zhashx_lookup (im->latest, existing->id);
        bool seen = false;
        for (size_t i = 0; newest && i < newest->n_reports; i++)
            seen = seen || strcmp (newest->reports[i]->period_end, report->period_end) == 0;
        if (seen || (newest && newest->n_reports < LATEST_PREFETCH)) {
            reports = (ProtobufCMessage **)newest->reports;
            n = newest->n_reports;
        } else if (s_children (im, existing->id, PMO__ENTITY_KIND__ENTITY_KIND_STATUS_REPORT,
                               &reports, &n)) {
            portio_import_problemf (im->result, r->row, "", "", "%s", im->why);
            r->bad = true;
            return;
        }
        for (size_t i = 0; i < n; i++) {
            Pmo__StatusReport *old = (Pmo__StatusReport *)reports[i];
            if (strcmp (old->period_end, report->period_end) != 0)
                continue;
            Pmo__StatusReport *mine = (Pmo__StatusReport *)pmo_reflect_copy (&old->base, arena);
            mine->overall = report->overall, mine->schedule = report->schedule;
            mine->cost = report->cost, mine->scope = report->scope;
            mine->resources = report->resources;
            mine->percent_complete = report->percent_complete;
            mine->narrative = report->narrative;
            mine->pv_minor = report->pv_minor, mine->ev_minor = report->ev_minor;
            mine->ac_minor = report->ac_minor, mine->has_ac = report->has_ac;
            if (!portio_import_same (arena, &mine->base, pmo_reflect_copy (&old->base, arena))) {
                portio_import_problemf (im->result, r->row,
                                        portio_import_column_of (im->map, "report.overall"), "",
                                        "project %s already has a status report for %s that "
                                        "says otherwise; reports are a permanent record: give "
                                        "another period",
                                        existing->code, report->period_end);
                r->bad = true;
            }
            return; //  the same report: nothing to do
        }
    }
    report->project_id = existing ? existing->id : "";
    plan->report = report;
}

//  Plan one project row.
static void s_plan_project (import_t *im, row_t *r, plan_t *plan)
{
    const portio_import_mapping_t *map = im->map;
    pmo_arena_t *arena = im->arena;
    //  First pass: the fields, to find the key and the org unit
    target_t probe = {0};
    probe.entity = pmo_arena_alloc (arena, sizeof (Pmo__Project));
    pmo__project__init ((Pmo__Project *)probe.entity);
    bool had_bad = r->bad;
    size_t problems = im->result->n_problems;
    portio_import_convert (r, &probe, true);
    Pmo__Project *first = (Pmo__Project *)probe.entity;
    if (pmo_str_empty (first->org_unit)) {
        if (!r->bad)
            portio_import_problemf (im->result, r->row, portio_import_column_of (map, "org_unit"),
                                    "", "the org unit is required");
        r->bad = true;
        return;
    }
    Pmo__OrgUnit *unit =
        s_row_unit (im, r, first->org_unit, portio_import_column_of (map, "org_unit"));
    if (!unit)
        return;
    plan->division = unit->division;
    Pmo__Project *existing = NULL;
    if (s_project_of (im, r, first, unit, &existing))
        return;
    //  Second pass: over a copy of what exists (unmapped fields are kept)
    Pmo__Project *desired = first;
    if (existing) {
        im->result->n_problems = problems; //  the problems come again
        r->bad = had_bad;
        target_t t = {0};
        t.entity = pmo_reflect_copy (&existing->base, arena);
        portio_import_convert (r, &t, false);
        desired = (Pmo__Project *)t.entity;
        probe = t;
        //  A derived code the record got a suffix of stays its own; one
        //  derived anew is made unique (the record's own code is no collision)
        if (s_unique_derived (map) && strcmp (desired->code, existing->code) != 0) {
            if (s_derived_from (existing->code, desired->code))
                desired->code = existing->code;
            else
                desired->code = (char *)s_unique_code (im, unit->division, desired->code, existing);
        }
    } else if (s_unique_derived (map))
        //  A derived code: unique in its division, among this file's rows too
        desired->code = (char *)s_unique_code (im, unit->division, desired->code, NULL);
    if (r->bad)
        return;
    plan->create = !existing;
    plan->existing = existing ? &existing->base : NULL;
    plan->entity = &desired->base;
    plan->project_code = desired->code;
    char *key = s_key2 (arena, unit->division, desired->code);
    if (zhashx_lookup (im->codes_used, key)) {
        portio_import_problemf (
            im->result, r->row, portio_import_column_of (map, "code"), desired->code,
            "another row of this file has the same code in division '%s'", unit->division);
        r->bad = true;
        return;
    }
    zhashx_insert (im->codes_used, key, (void *)1);
    if (existing) {
        plan->id = existing->id;
        desired->version = existing->version;
        plan->unchanged = portio_import_same (arena, pmo_reflect_copy (&desired->base, arena),
                                              pmo_reflect_copy (&existing->base, arena));
    }
    s_plan_report (im, r, plan, &probe, existing);
}

//  Plan one milestone or status report row: key (project, name or period).
static void s_plan_child (import_t *im, row_t *r, plan_t *plan)
{
    const portio_import_mapping_t *map = im->map;
    pmo_arena_t *arena = im->arena;
    bool report = map->entity->kind == PMO__ENTITY_KIND__ENTITY_KIND_STATUS_REPORT;
    target_t t = {0};
    t.entity = pmo_arena_alloc (arena, map->entity->desc->sizeof_message);
    protobuf_c_message_init (map->entity->desc, t.entity);
    portio_import_convert (r, &t, true);
    if (r->bad)
        return;
    //  The project: by id, else by code (which must name one project)
    const char *id = pmo_reflect_str (t.entity, "project_id");
    Pmo__Project *project = NULL;
    if (!pmo_str_empty (id))
        project = zhashx_lookup (im->by_id, id);
    else if (t.project_code) {
        Pmo__Project *p;
        for (p = zhashx_first (im->by_id); p; p = zhashx_next (im->by_id))
            if (strcmp (p->code, t.project_code) == 0) {
                if (project) {
                    portio_import_problemf (
                        im->result, r->row, portio_import_column_of (map, "project_code"),
                        t.project_code,
                        "projects in several divisions have this code: give project_id");
                    r->bad = true;
                    return;
                }
                project = p;
            }
    }
    if (!project) {
        const char *shown = pmo_str_empty (id) ? t.project_code : id;
        portio_import_problemf (
            im->result, r->row,
            portio_import_column_of (map, pmo_str_empty (id) ? "project_code" : "project_id"),
            shown,
            shown ? "no such project"
                  : "the project (project_id or project_code) is "
                    "required");
        r->bad = true;
        return;
    }
    pmo_reflect_set_str (t.entity, "project_id", project->id, arena);
    plan->division = project->division;
    plan->project_code = project->code;
    ProtobufCMessage **siblings;
    size_t n;
    if (s_children (im, project->id,
                    report ? PMO__ENTITY_KIND__ENTITY_KIND_STATUS_REPORT
                           : PMO__ENTITY_KIND__ENTITY_KIND_MILESTONE,
                    &siblings, &n)) {
        portio_import_problemf (im->result, r->row, "", "", "%s", im->why);
        r->bad = true;
        return;
    }
    const char *key_field = report ? "period_end" : "name";
    const char *key = pmo_reflect_str (t.entity, key_field);
    ProtobufCMessage *existing = NULL;
    for (size_t i = 0; i < n && !existing; i++)
        if (strcmp (pmo_reflect_str (siblings[i], key_field), key) == 0)
            existing = siblings[i];
    char *used = pmo_arena_printf (arena, "%s\x1f%s", project->id, key);
    if (zhashx_lookup (im->codes_used, used)) {
        portio_import_problemf (im->result, r->row, portio_import_column_of (map, key_field), key,
                                "another row of this file has the same project and %s", key_field);
        r->bad = true;
        return;
    }
    zhashx_insert (im->codes_used, used, (void *)1);
    if (!existing) {
        plan->create = true;
        plan->entity = t.entity;
        return;
    }
    //  Over a copy of what exists
    target_t again = {0};
    again.entity = pmo_reflect_copy (existing, arena);
    portio_import_convert (r, &again, false);
    plan->existing = existing;
    plan->entity = again.entity;
    plan->id = pmo_reflect_str (existing, "id");
    pmo_reflect_set_u64 (again.entity, "version", pmo_reflect_u64 (existing, "version"));
    plan->unchanged = portio_import_same (arena, pmo_reflect_copy (again.entity, arena),
                                          pmo_reflect_copy (existing, arena));
    if (!plan->unchanged && report) {
        portio_import_problemf (
            im->result, r->row, portio_import_column_of (map, "overall"), "",
            "project %s already has a status report for %s that says otherwise; reports "
            "are a permanent record: give another period",
            project->code, key);
        r->bad = true;
    }
}

//  Plan one org unit row: key id.
static void s_plan_org_unit (import_t *im, row_t *r, plan_t *plan)
{
    pmo_arena_t *arena = im->arena;
    target_t t = {0};
    t.entity = pmo_arena_alloc (arena, sizeof (Pmo__OrgUnit));
    pmo__org_unit__init ((Pmo__OrgUnit *)t.entity);
    portio_import_convert (r, &t, true);
    if (r->bad)
        return;
    Pmo__OrgUnit *unit = (Pmo__OrgUnit *)t.entity;
    plan->division = im->hub;
    Pmo__OrgUnit *existing = zhashx_lookup (im->units, unit->id);
    if (zhashx_lookup (im->codes_used, unit->id)) {
        portio_import_problemf (im->result, r->row, portio_import_column_of (im->map, "id"),
                                unit->id, "another row of this file has the same id");
        r->bad = true;
        return;
    }
    zhashx_insert (im->codes_used, unit->id, (void *)1);
    if (!existing) {
        plan->create = true;
        plan->entity = &unit->base;
        return;
    }
    target_t again = {0};
    again.entity = pmo_reflect_copy (&existing->base, arena);
    portio_import_convert (r, &again, false);
    Pmo__OrgUnit *desired = (Pmo__OrgUnit *)again.entity;
    plan->existing = &existing->base;
    plan->entity = again.entity;
    plan->id = existing->id;
    desired->version = existing->version;
    plan->unchanged = portio_import_same (arena, pmo_reflect_copy (again.entity, arena),
                                          pmo_reflect_copy (&existing->base, arena));
}

//  ---------------------------------------------------------------------
//  Batches

typedef struct {
    const char *division;
    Pmo__ImportItem **items;
    size_t n, max;
    size_t bytes;
    size_t *plan_of; //  item -> plan index (SIZE_MAX: a planned org unit)
    bool *is_report; //  item is the status report of its plan's project row
} batch_t;

static void s_batch_add (import_t *im, batch_t *b, Pmo__ImportItem *item, size_t plan,
                         bool is_report)
{
    if (b->n == b->max) {
        size_t max = b->max ? b->max * 2 : 64;
        Pmo__ImportItem **items = pmo_arena_alloc (im->arena, max * sizeof (void *));
        size_t *plans = pmo_arena_alloc (im->arena, max * sizeof (size_t));
        bool *reports = pmo_arena_alloc (im->arena, max * sizeof (bool));
        if (b->n) {
            memcpy (items, b->items, b->n * sizeof (void *));
            memcpy (plans, b->plan_of, b->n * sizeof (size_t));
            memcpy (reports, b->is_report, b->n * sizeof (bool));
        }
        b->items = items, b->plan_of = plans, b->is_report = reports, b->max = max;
    }
    b->bytes += protobuf_c_message_get_packed_size (&item->base) + 8;
    b->plan_of[b->n] = plan;
    b->is_report[b->n] = is_report;
    b->items[b->n++] = item;
}

static Pmo__ImportItem *s_item (import_t *im, size_t row, const char *member,
                                ProtobufCMessage *body)
{
    Pmo__ImportItem *item = pmo_arena_alloc (im->arena, sizeof (Pmo__ImportItem));
    pmo__import_item__init (item);
    item->row = (uint32_t)row;
    pmo_reflect_set_oneof (&item->base, member, body);
    return item;
}

//  Cut the plans into batches: org units first (the hub), then per
//  division in file order, each under the row and byte limits; a project
//  and its report stay in one batch.
static batch_t *s_batches (import_t *im, size_t *n_batches)
{
    size_t max = 8, n = 0;
    batch_t *batches = pmo_arena_alloc (im->arena, max * sizeof (batch_t));
    if (im->n_plan_units) {
        batch_t *b = &batches[n++];
        b->division = im->hub;
        for (size_t i = 0; i < im->n_plan_units; i++)
            s_batch_add (im, b,
                         s_item (im, 0, "create_org_unit",
                                 pmo_reflect_copy (&im->plan_units[i]->base, im->arena)),
                         SIZE_MAX, false);
    }
    //  Divisions in the order they first appear
    zhashx_t *open = zhashx_new (); //  division -> index + 1 of its open batch
    const entity_t *entity = im->map->entity;
    for (size_t p = 0; p < im->n_plans; p++) {
        plan_t *plan = &im->plans[p];
        if (plan->bad || (plan->unchanged && !plan->report))
            continue;
        size_t index = (size_t)zhashx_lookup (open, plan->division);
        batch_t *b = index ? &batches[index - 1] : NULL;
        if (b && (b->n + 2 > PORTIO_IMPORT_BATCH_ROWS || b->bytes > PORTIO_IMPORT_BATCH_BYTES))
            b = NULL;
        if (!b) {
            if (n == max) {
                batch_t *grown = pmo_arena_alloc (im->arena, max * 2 * sizeof (batch_t));
                memcpy (grown, batches, max * sizeof (batch_t));
                batches = grown;
                max *= 2;
            }
            b = &batches[n++];
            b->division = plan->division;
            zhashx_update (open, plan->division, (void *)n);
        }
        if (!plan->unchanged)
            s_batch_add (im, b,
                         s_item (im, plan->row,
                                 plan->create ? entity->create_member : entity->update_member,
                                 plan->entity),
                         p, false);
        if (plan->report) {
            Pmo__ImportItem *item =
                s_item (im, plan->row, "submit_status_report", &plan->report->base);
            item->project_code = (char *)plan->project_code;
            s_batch_add (im, b, item, p, true);
        }
    }
    zhashx_destroy (&open);
    *n_batches = n;
    return batches;
}

//  Send one batch; dry runs carry the org units the import creates first.
static Pmo__RegistryReply *s_send (import_t *im, batch_t *b, bool dry_run)
{
    Pmo__ImportBatchRequest request = PMO__IMPORT_BATCH_REQUEST__INIT;
    request.division = (char *)b->division;
    request.dry_run = dry_run;
    request.skip_bad = im->options->skip_bad;
    request.items = b->items;
    request.n_items = b->n;
    if (dry_run && strcmp (b->division, im->hub) != 0) {
        request.planned_org_units = im->plan_units;
        request.n_planned_org_units = im->n_plan_units;
    }
    return portio_import_call (&im->options->peer, "import_batch", &request.base, im->why,
                               sizeof im->why);
}

//  Turn a batch's item errors into problems of their rows.
static void s_item_problems (import_t *im, batch_t *b, const Pmo__ImportBatchReply *reply)
{
    for (size_t i = 0; i < reply->n_results && i < b->n; i++) {
        const Pmo__ImportItemResult *res = reply->results[i];
        if (!res->error)
            continue;
        size_t p = b->plan_of[i];
        //  The field after the item's member ("create_project.baseline_finish")
        const char *field = strchr (res->error->field, '.');
        field = field ? field + 1 : "";
        if (p == SIZE_MAX) {
            portio_import_problemf (im->result, 1, "", im->plan_units[i]->id,
                                    "creating org unit '%s': %s", im->plan_units[i]->id,
                                    res->error->message);
            continue;
        }
        plan_t *plan = &im->plans[p];
        const char *column =
            *field ? portio_import_column_of (
                         im->map,
                         b->is_report[i] ? pmo_arena_printf (im->arena, "report.%s", field) : field)
                   : "";
        const char *value = "";
        for (size_t c = 0; c < im->map->n_columns; c++)
            if (strcmp (portio_import_column_name (&im->map->columns[c]), column) == 0 &&
                im->map->columns[c].column)
                value =
                    im->csv->records[plan->record].n_fields > (size_t)im->map->columns[c].index &&
                            im->map->columns[c].index >= 0
                        ? im->csv->records[plan->record].fields[im->map->columns[c].index]
                        : "";
        portio_import_problemf (im->result, plan->row, column, value, "%s%s",
                                b->is_report[i] ? "status report: " : "", res->error->message);
        plan->bad = true;
    }
}

//  Plan one data row of the file (portio_import_plan_rows).
static bool s_plan_row (void *arg, row_t *r, size_t out)
{
    import_t *im = arg;
    (void)out;
    plan_t *plan = &im->plans[im->n_plans++];
    plan->row = r->row;
    plan->record = r->row - 1;
    if (!r->bad) {
        switch (im->map->entity->kind) {
        case PMO__ENTITY_KIND__ENTITY_KIND_PROJECT:
            s_plan_project (im, r, plan);
            break;
        case PMO__ENTITY_KIND__ENTITY_KIND_ORG_UNIT:
            s_plan_org_unit (im, r, plan);
            break;
        default:
            s_plan_child (im, r, plan);
            break;
        }
    }
    plan->bad = r->bad;
    return true;
}

//  Plan every data row of the file (blank rows are noted and skipped).
static void s_plan_rows (import_t *im)
{
    im->plans = pmo_arena_alloc (im->arena, im->csv->n_records * sizeof (plan_t));
    portio_import_plan_rows (im->map, im->arena, im->result, im->csv, s_plan_row, im);
}

//  Check every batch with the registry (a dry run of each) before writing
//  any: what it refuses becomes problems of the rows.
static int s_check_batches (import_t *im)
{
    size_t n_batches;
    batch_t *batches = s_batches (im, &n_batches);
    for (size_t i = 0; i < n_batches; i++) {
        Pmo__RegistryReply *reply = s_send (im, &batches[i], true);
        if (!reply)
            return portio_import_fail (im->result, im->arena, "%s", im->why);
        if (reply->error && reply->body_case != PMO__REGISTRY_REPLY__BODY_IMPORT_BATCH) {
            portio_import_error_text (reply->error, im->why, sizeof im->why);
            protobuf_c_message_free_unpacked (&reply->base, NULL);
            return portio_import_fail (im->result, im->arena, "the registry refused the check: %s",
                                       im->why);
        }
        s_item_problems (im, &batches[i], reply->import_batch);
        protobuf_c_message_free_unpacked (&reply->base, NULL);
    }
    return 0;
}

//  The tally of what would be done, row by row.
static void s_settle (void *arg, size_t p, portio_import_row_t *out)
{
    import_t *im = arg;
    plan_t *plan = &im->plans[p];
    portio_import_row_settle (im->result, out, plan->id, plan->bad, plan->unchanged, plan->create);
    if (!plan->bad && plan->report)
        im->result->reports_created++;
}

static void s_tally (import_t *im)
{
    portio_import_settle_rows (im->result, s_settle, im);
    im->result->org_units_created = im->n_plan_units;
}

//  Note what a written batch says of each of its items: the id assigned,
//  or the item refused (skip-bad).
static void s_note_written (import_t *im, batch_t *b, const Pmo__ImportBatchReply *out)
{
    for (size_t k = 0; k < out->n_results && k < b->n; k++) {
        const Pmo__ImportItemResult *res = out->results[k];
        size_t p = b->plan_of[k];
        if (p == SIZE_MAX || b->is_report[k])
            continue;
        plan_t *plan = &im->plans[p];
        if (res->error) {
            plan->bad = true;
            continue;
        }
        plan->id = pmo_arena_strdup (im->arena, res->id);
        plan->written = true;
    }
    if (out->failed)
        s_item_problems (im, b, out);
}

//  Write: the batches again without the rows that failed their check. A
//  batch refused stops the import; the ones before it stay written.
static int s_write_batches (import_t *im)
{
    size_t n_batches;
    batch_t *batches = s_batches (im, &n_batches);
    for (size_t i = 0; i < n_batches; i++) {
        batch_t *b = &batches[i];
        if (b->n == 0)
            continue;
        Pmo__RegistryReply *reply = s_send (im, b, false);
        if (!reply)
            return portio_import_fail (
                im->result, im->arena,
                "%s (batch %zu of %zu; the batches before it were written: run the "
                "same import again to complete it)",
                im->why, i + 1, n_batches);
        const Pmo__ImportBatchReply *out = reply->import_batch;
        if (reply->error || !out || !out->committed) {
            if (out)
                s_item_problems (im, b, out);
            bool error = reply->error != NULL;
            if (error)
                portio_import_error_text (reply->error, im->why, sizeof im->why);
            protobuf_c_message_free_unpacked (&reply->base, NULL);
            return portio_import_fail (
                im->result, im->arena, "batch %zu of %zu (division '%s') was not written: %s%s",
                i + 1, n_batches, b->division, error ? im->why : "refused",
                i ? "; the batches before it were: run the same import again to "
                    "complete it"
                  : "");
        }
        im->result->written = true;
        s_note_written (im, b, out);
        protobuf_c_message_free_unpacked (&reply->base, NULL);
    }
    return 0;
}

//  After the write: each row's id and whether it was written; a row
//  refused at the commit (skip-bad) is counted as bad now.
static void s_recount (import_t *im)
{
    portio_import_result_t *result = im->result;
    for (size_t p = 0, k = 0; k < result->n_rows; k++) {
        portio_import_row_t *out = &result->row_results[k];
        if (out->action == PORTIO_IMPORT_ROW_BLANK)
            continue;
        plan_t *plan = &im->plans[p++];
        out->id = plan->id;
        out->written = plan->written;
        if (plan->bad && out->action != PORTIO_IMPORT_ROW_BAD) {
            if (out->action == PORTIO_IMPORT_ROW_CREATE)
                result->created--;
            else if (out->action == PORTIO_IMPORT_ROW_UPDATE)
                result->updated--;
            out->action = PORTIO_IMPORT_ROW_BAD;
            result->bad++;
        }
    }
}

static int s_run (import_t *im, const void *data, size_t size)
{
    portio_import_result_t *result = im->result;
    if (portio_import_open_csv (im->arena, im->map, data, size, result, &im->csv))
        return -1;
    if (s_load_state (im))
        return portio_import_fail (im->result, im->arena, "%s", im->why);
    s_plan_rows (im);
    if (s_check_batches (im))
        return -1;
    s_tally (im);
    if (im->options->dry_run)
        return 0;
    if (result->bad && !im->options->skip_bad)
        return portio_import_fail (
            im->result, im->arena,
            "%zu of %zu rows have problems; nothing was written (all or nothing)", result->bad,
            result->rows);
    if (s_write_batches (im))
        return -1;
    s_recount (im);
    return 0;
}

int portio_import_run (const portio_import_options_t *options,
                       const portio_import_mapping_t *mapping, const void *data, size_t size,
                       portio_import_result_t **result_p)
{
    if (portio_mspdi_is (data, size))
        return portio_mspdi_run (options, data, size, result_p);
    pmo_arena_t *arena = pmo_arena_new ();
    portio_import_result_t *result = pmo_arena_alloc (arena, sizeof (portio_import_result_t));
    result->arena = arena;
    result->entity = mapping->entity->name;
    result->dry_run = options->dry_run;
    *result_p = result;
    //  A workbook: its sheet as CSV, read with a decimal point (Excel keeps
    //  numbers as numbers) unless the mapping says otherwise
    portio_import_mapping_t workbook;
    char *csv = NULL;
    if (portio_xlsx_is (data, size)) {
        char why[512];
        size_t csv_size = 0;
        csv = portio_xlsx_to_csv (data, size, options->sheet, &csv_size, why, sizeof why);
        if (!csv) {
            result->file_error = true;
            return portio_import_fail (result, arena, "%s", why);
        }
        workbook = *mapping;
        workbook.csv = (portio_csv_options_t){PORTIO_CSV_UTF8, ','};
        if (workbook.decimal == PORTIO_CSV_DECIMAL_AUTO)
            workbook.decimal = PORTIO_CSV_DECIMAL_POINT;
        mapping = &workbook;
        data = pmo_arena_alloc (arena, csv_size + 1);
        memcpy ((char *)data, csv, csv_size + 1);
        size = csv_size;
        free (csv);
    }
    import_t im = {.options = options,
                   .map = mapping,
                   .result = result,
                   .arena = arena,
                   .hub = options->hub ? options->hub : "hub"};
    if (mapping->entity->service == PORTIO_IMPORT_PLANNER)
        return portio_import_benefit_run (options, mapping, data, size, result);
    if (mapping->entity->service != PORTIO_IMPORT_REGISTRY)
        return portio_import_svc_run (options, mapping, data, size, result);
    im.units = zhashx_new ();
    im.planned = zhashx_new ();
    im.by_code = zhashx_new ();
    im.by_xid = zhashx_new ();
    im.by_id = zhashx_new ();
    im.codes_used = zhashx_new ();
    im.children = zhashx_new ();
    im.latest = zhashx_new ();
    int rc = s_run (&im, data, size);
    zhashx_destroy (&im.units);
    zhashx_destroy (&im.planned);
    zhashx_destroy (&im.by_code);
    zhashx_destroy (&im.by_xid);
    zhashx_destroy (&im.by_id);
    zhashx_destroy (&im.codes_used);
    zhashx_destroy (&im.children);
    zhashx_destroy (&im.latest);
    return rc;
}

void portio_import_result_destroy (portio_import_result_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        pmo_arena_t *arena = (*self_p)->arena;
        pmo_arena_destroy (&arena);
        *self_p = NULL;
    }
}

json_t *portio_import_result_json (const portio_import_result_t *self)
{
    static const char *actions[] = {"bad", "create", "update", "unchanged", "blank"};
    json_t *problems = json_array ();
    for (size_t i = 0; i < self->n_problems; i++) {
        const portio_import_problem_t *p = &self->problems[i];
        json_array_append_new (problems, json_pack ("{s:I, s:s, s:s, s:s}", "row",
                                                    (json_int_t)p->row, "column", p->column,
                                                    "value", p->value, "reason", p->reason));
    }
    json_t *rows = json_array ();
    for (size_t i = 0; i < self->n_rows; i++) {
        const portio_import_row_t *r = &self->row_results[i];
        if (r->action == PORTIO_IMPORT_ROW_BLANK)
            continue;
        json_array_append_new (rows, json_pack ("{s:I, s:s, s:s, s:b}", "row", (json_int_t)r->row,
                                                "action", actions[r->action], "id",
                                                r->id ? r->id : "", "written", r->written));
    }
    json_t *markers = json_array ();
    for (size_t i = 0; i < self->n_markers; i++) {
        const portio_import_marker_t *m = &self->markers[i];
        json_array_append_new (markers,
                               json_pack ("{s:s, s:s, s:s, s:I}", "kind", m->kind, "marker",
                                          m->marker, "from", m->mapping ? "mapping" : "built-in",
                                          "count", (json_int_t)m->count));
    }
    json_t *duplicates = json_array ();
    for (size_t i = 0; i < self->n_duplicates; i++) {
        const portio_import_duplicate_t *d = &self->duplicates[i];
        json_array_append_new (duplicates,
                               json_pack ("{s:s, s:s, s:I}", "column", d->name, "positions",
                                          d->positions, "count", (json_int_t)d->count));
    }
    //  Every reading that fell back to a rule, so that nothing is a silent guess
    json_t *fallbacks = json_pack ("{s:I, s:I, s:I, s:o}", "blank", (json_int_t)self->blanked,
                                   "withheld", (json_int_t)self->withheld, "two_digit_year",
                                   (json_int_t)self->two_digit_years, "markers", markers);
    char delimiter[3] = {self->delimiter == '\t' ? '\\' : self->delimiter,
                         self->delimiter == '\t' ? 't' : 0, 0};
    json_t *out =
        json_pack ("{s:s, s:s, s:s, s:b, s:b, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:s?, "
                   "s:o, s:o}",
                   "entity", self->entity, "encoding", self->encoding ? self->encoding : "",
                   "delimiter", delimiter, "dry_run", self->dry_run, "written", self->written,
                   "rows", (json_int_t)self->rows, "created", (json_int_t)self->created, "updated",
                   (json_int_t)self->updated, "unchanged", (json_int_t)self->unchanged, "bad",
                   (json_int_t)self->bad, "reports_created", (json_int_t)self->reports_created,
                   "org_units_created", (json_int_t)self->org_units_created, "withheld",
                   (json_int_t)self->withheld, "error", self->error, "problems", problems,
                   "rows_detail", rows);
    json_object_set_new (out, "skipped", json_integer ((json_int_t)self->skipped));
    json_t *warnings = json_array ();
    for (size_t i = 0; i < self->n_warnings; i++)
        json_array_append_new (warnings, json_string (self->warnings[i]));
    json_object_set_new (out, "warnings", warnings);
    json_object_set_new (out, "fallbacks", fallbacks);
    json_object_set_new (out, "duplicate_columns", duplicates);
    return out;
}
