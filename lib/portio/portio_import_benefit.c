/*  portio_import_benefit.c: the planner's benefits register in and out of
    spreadsheets: a benefits register file, or a project file whose
    "baseline benefits" column a mapping turns into one benefit per project.

    The mapping machinery is portio_mapping.c's and portio_cells.c's
    (columns, templates, first_of, values maps, blank and withheld markers,
    defaults); what is the register's own is here:
    - projects are named by code (a cell may list several: "DFT-HS2;
      DFT-CR"), or by external id (a project file's project name), or by
      id (project_ids); a benefit without an org unit takes its first
      project's;
    - money (the financial kinds) is written in major units ("1200.50",
      "£1.2m" with the column's scale) and kept by the planner in minor
      units; non-financial measures as written;
    - the profile is one cell: "2027-04: 1200; 2028-04: 2500".
    Keys: a row's id (what export writes), else its external id, else its
    title in its org unit (without case): importing the same file again
    changes nothing and creates no second benefit.

    Like the other services' registers it works in two passes: every row is
    converted and checked, first here, then by the planner itself
    (check_benefit: every rule and link of create_benefit and
    update_benefit, nothing written), and every problem of the whole file
    is reported by row and column; only then, if the mode allows, rows are
    written one request each, with the version read (a benefit changed
    meanwhile is a conflict, never overwritten). A refused write stops an
    all-or-nothing import: the rows before it stay written and running the
    same import again completes it.
*/
#include "portio_internal.h"

#include "planner.pb-c.h"
#include "pmo_reflect.h"
#include "pmo_wire.h"

#include <ctype.h>
#include <czmq.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

//  Money in pmo has two minor digits (pence, cents)
#define MINOR_PER_MAJOR 100.0

typedef struct {
    size_t row;    //  as a spreadsheet numbers it
    size_t record; //  in the CSV
    size_t out;    //  its row in the result's row_results
    bool bad, create, unchanged, written;
    Pmo__Benefit *entity;   //  what the row wants (over a copy of existing)
    Pmo__Benefit *existing; //  what was read, NULL for a new benefit
    const char *id;
} plan_t;

typedef struct {
    const portio_import_options_t *options;
    const portio_import_mapping_t *map;
    portio_import_result_t *result;
    pmo_arena_t *arena;
    portio_csv_t *csv;
    zhashx_t *projects; //  id -> Project
    zhashx_t *codes;    //  code, "x:<external id>" -> Project (ambiguous: the marker)
    zhashx_t *by_id;    //  id -> stored Benefit
    zhashx_t *by_key;   //  key -> stored Benefit (ambiguous: the marker)
    zhashx_t *used;     //  ids and keys of this file's rows
    plan_t *plans;
    size_t n_plans;
    char why[512];
} bim_t;

static bool s_financial (Pmo__BenefitKind kind)
{
    return kind == PMO__BENEFIT_KIND__BENEFIT_KIND_CASHABLE ||
           kind == PMO__BENEFIT_KIND__BENEFIT_KIND_NON_CASHABLE;
}

//  The key of a benefit without an id: its external id, else its title in
//  its org unit.
static char *s_key (pmo_arena_t *arena, const Pmo__Benefit *b, bool by_title)
{
    if (!by_title && !pmo_str_empty (b->external_id))
        return pmo_arena_printf (arena, "x\x1f%s", b->external_id);
    char *title = pmo_arena_strdup (arena, b->title ? b->title : "");
    for (char *c = title; *c; c++)
        *c = (char)tolower ((unsigned char)*c);
    return pmo_arena_printf (arena, "t\x1f%s\x1f%s", b->org_unit ? b->org_unit : "", title);
}

//  ---------------------------------------------------------------------
//  Talking to the planner

//  Every benefit under org_unit ("" = all the caller may see), in arena.
static int s_list (const portio_import_peer_t *peer, pmo_arena_t *arena, const char *org_unit,
                   Pmo__BenefitList **list_p, char *why, size_t why_size)
{
    Pmo__BenefitListRequest list = PMO__BENEFIT_LIST_REQUEST__INIT;
    list.org_unit = (char *)(org_unit ? org_unit : "");
    ProtobufCMessage *reply = portio_import_service_call (
        peer, PORTIO_IMPORT_PLANNER, "list_benefits", &list.base, why, why_size);
    if (!reply)
        return -1;
    const Pmo__Error *error = portio_import_reply_error (reply);
    ProtobufCMessage *got = error ? NULL : portio_import_reply_member (reply, "benefits");
    if (error)
        portio_import_error_text (error, why, why_size);
    else if (!got)
        snprintf (why, why_size, "list_benefits: the reply has no list");
    else
        *list_p = (Pmo__BenefitList *)pmo_reflect_copy (got, arena);
    protobuf_c_message_free_unpacked (reply, NULL);
    return got ? 0 : -1;
}

//  What the rows are checked against (portio_import_steps_t's load).
static int s_load (void *arg, const portio_csv_t *csv)
{
    bim_t *im = arg;
    im->plans = pmo_arena_alloc (im->arena, csv->n_records * sizeof (plan_t));
    const portio_import_peer_t *peer = &im->options->peer;
    ProtobufCMessage **items;
    size_t n;
    if (portio_import_list (peer, im->arena, PMO__ENTITY_KIND__ENTITY_KIND_PROJECT, "", NULL, true,
                            &items, &n, im->why, sizeof im->why))
        return -1;
    for (size_t i = 0; i < n; i++) {
        Pmo__Project *p = (Pmo__Project *)items[i];
        zhashx_insert (im->projects, p->id, p);
        portio_import_index (im->codes, p->code, p);
        if (!pmo_str_empty (p->external_id))
            portio_import_index (im->codes, pmo_arena_printf (im->arena, "x:%s", p->external_id),
                                 p);
    }
    Pmo__BenefitList *list;
    if (s_list (peer, im->arena, "", &list, im->why, sizeof im->why))
        return -1;
    for (size_t i = 0; i < list->n_benefits; i++) {
        Pmo__Benefit *b = list->benefits[i];
        zhashx_insert (im->by_id, b->id, b);
        if (!pmo_str_empty (b->external_id))
            portio_import_index (im->by_key, s_key (im->arena, b, false), b);
        portio_import_index (im->by_key, s_key (im->arena, b, true), b);
    }
    return 0;
}

//  ---------------------------------------------------------------------
//  Rows

//  The project a code names: a code, else a project's external id.
static Pmo__Project *s_project_named (bim_t *im, const char *name)
{
    Pmo__Project *p = zhashx_lookup (im->codes, name);
    if (!p)
        p = zhashx_lookup (im->codes, pmo_arena_printf (im->arena, "x:%s", name));
    return p;
}

//  Add id to the benefit's projects unless it is there.
static void s_link (bim_t *im, Pmo__Benefit *b, const char *id, size_t *max)
{
    for (size_t i = 0; i < b->n_project_ids; i++)
        if (strcmp (b->project_ids[i], id) == 0)
            return;
    if (b->n_project_ids == *max) {
        *max = *max * 2 + 4;
        char **grown = pmo_arena_alloc (im->arena, *max * sizeof (char *));
        if (b->n_project_ids)
            memcpy (grown, b->project_ids, b->n_project_ids * sizeof (char *));
        b->project_ids = grown;
    }
    b->project_ids[b->n_project_ids++] = (char *)id;
}

//  The row's projects: project_ids (ids, checked), then the projects its
//  project_code cell names (the whole cell, else each of "a; b").
static void s_links (bim_t *im, row_t *r, Pmo__Benefit *b, const char *codes)
{
    char **given = b->project_ids;
    size_t n_given = b->n_project_ids, max = 0;
    b->project_ids = NULL;
    b->n_project_ids = 0;
    for (size_t i = 0; i < n_given; i++) {
        Pmo__Project *p = zhashx_lookup (im->projects, given[i]);
        if (!p)
            p = s_project_named (im, given[i]);
        if (!p || p == (void *)&portio_import_ambiguous)
            return portio_import_bad (r, "project_ids", given[i], "no such project");
        s_link (im, b, p->id, &max);
    }
    if (pmo_str_empty (codes))
        return;
    Pmo__Project *whole = s_project_named (im, codes);
    if (whole && whole != (void *)&portio_import_ambiguous)
        return s_link (im, b, whole->id, &max);
    char *copy = pmo_arena_strdup (im->arena, codes), *save = NULL;
    for (char *code = strtok_r (copy, ";,", &save); code; code = strtok_r (NULL, ";,", &save)) {
        while (*code == ' ')
            code++;
        size_t len = strlen (code);
        while (len && code[len - 1] == ' ')
            code[--len] = 0;
        if (!*code)
            continue;
        Pmo__Project *p = s_project_named (im, code);
        if (p == (void *)&portio_import_ambiguous)
            return portio_import_bad (
                r, "project_code", code,
                "projects in several divisions have this code: give project_ids");
        if (!p)
            return portio_import_bad (r, "project_code", code,
                                      "no project has this code or external id");
        s_link (im, b, p->id, &max);
    }
}

//  An amount in major units as minor units; a problem if it has more
//  decimals than the minor unit holds.
static void s_minor (bim_t *im, row_t *r, const char *field, double *value)
{
    double minor = round (*value * MINOR_PER_MAJOR);
    if (fabs (minor - *value * MINOR_PER_MAJOR) > 1e-6 * fmax (1.0, fabs (minor)))
        return portio_import_bad (r, field, pmo_arena_printf (im->arena, "%.15g", *value),
                                  "money has at most two decimals");
    *value = minor;
}

//  What the row says once the cells are read: currency and unit of money,
//  money in minor units. kind and currency come from existing when the
//  file leaves them out.
static void s_values (bim_t *im, row_t *r, const target_t *t, Pmo__Benefit *b,
                      const Pmo__Benefit *existing)
{
    if (!b->kind && existing)
        b->kind = existing->kind;
    b->currency = (char *)(t->currency ? t->currency : "");
    if (!s_financial (b->kind))
        return;
    if (pmo_str_empty (b->currency))
        b->currency = (char *)(existing && !pmo_str_empty (existing->currency) ? existing->currency
                                                                               : im->map->currency);
    if (pmo_str_empty (b->unit))
        b->unit = b->currency;
    s_minor (im, r, "baseline", &b->baseline);
    s_minor (im, r, "target", &b->target);
    for (size_t i = 0; i < b->n_profile; i++)
        s_minor (im, r, "profile", &b->profile[i]->value);
}

//  The stored benefit the row means (by id, else by key) into *existing_p,
//  NULL for a new one. -1 (the row bad) if no benefit has the id, several
//  have the key, or another row of the file means the same benefit.
static int s_find (bim_t *im, row_t *r, const Pmo__Benefit *probe, Pmo__Benefit **existing_p)
{
    Pmo__Benefit *existing = NULL;
    char *key = s_key (im->arena, probe, false);
    if (!pmo_str_empty (probe->id)) {
        existing = zhashx_lookup (im->by_id, probe->id);
        if (!existing) {
            portio_import_bad (r, "id", probe->id,
                               "no benefit with this id (leave id empty to create one)");
            return -1;
        }
    } else {
        existing = zhashx_lookup (im->by_key, key);
        //  An external id new to the register may name a benefit kept by title
        if (!existing && !pmo_str_empty (probe->external_id)) {
            Pmo__Benefit *titled = zhashx_lookup (im->by_key, s_key (im->arena, probe, true));
            if (titled && titled != (void *)&portio_import_ambiguous &&
                pmo_str_empty (titled->external_id))
                existing = titled;
        }
        if (existing == (void *)&portio_import_ambiguous) {
            portio_import_bad (r, NULL, "", "several benefits match this row's key; give their id");
            return -1;
        }
    }
    const char *used = existing ? existing->id : key;
    if (zhashx_lookup (im->used, used)) {
        portio_import_bad (r, existing ? "id" : NULL, existing ? used : "",
                           "another row of this file means the same benefit");
        return -1;
    }
    zhashx_insert (im->used, used, (void *)1);
    *existing_p = existing;
    return 0;
}

//  Copy field (a Benefit field's name) from src into dst: shallow, both
//  live in the import's arena.
static void s_copy_field (ProtobufCMessage *dst, const ProtobufCMessage *src, const char *field)
{
    const ProtobufCFieldDescriptor *f =
        protobuf_c_message_descriptor_get_field_by_name (src->descriptor, field);
    if (!f)
        return;
    size_t size;
    if (f->label == PROTOBUF_C_LABEL_REPEATED) {
        *(size_t *)((char *)dst + f->quantifier_offset) =
            *(const size_t *)((const char *)src + f->quantifier_offset);
        size = sizeof (void *);
    } else if (f->type == PROTOBUF_C_TYPE_DOUBLE || f->type == PROTOBUF_C_TYPE_INT64 ||
               f->type == PROTOBUF_C_TYPE_UINT64)
        size = 8;
    else if (f->type == PROTOBUF_C_TYPE_BOOL)
        size = sizeof (protobuf_c_boolean);
    else if (f->type == PROTOBUF_C_TYPE_STRING || f->type == PROTOBUF_C_TYPE_MESSAGE)
        size = sizeof (void *);
    else
        size = 4; //  enums, 32-bit numbers
    memcpy ((char *)dst + f->offset, (const char *)src + f->offset, size);
}

//  True if the file has what col reads (a column, one of first_of's, or a
//  template).
static bool s_present (const map_column_t *col)
{
    if (col->tmpl)
        return true;
    if (col->first_of) {
        for (size_t j = 0; j < col->n_first_of; j++)
            if (col->indexes[j] >= 0)
                return true;
        return false;
    }
    return col->index >= 0;
}

//  A stored benefit with the fields the file has replaced by the row's.
static Pmo__Benefit *s_desired (bim_t *im, const Pmo__Benefit *probe, const Pmo__Benefit *existing)
{
    Pmo__Benefit *want = (Pmo__Benefit *)pmo_reflect_copy (&existing->base, im->arena);
    for (size_t i = 0; i < im->map->n_columns; i++) {
        const map_column_t *col = &im->map->columns[i];
        if (!s_present (col) || strcmp (col->field, "id") == 0)
            continue;
        const char *field = strcmp (col->field, "project_code") == 0 ? "project_ids" : col->field;
        s_copy_field (&want->base, &probe->base, field);
        if (strcmp (field, "currency") == 0 || strcmp (field, "kind") == 0) {
            s_copy_field (&want->base, &probe->base, "currency");
            s_copy_field (&want->base, &probe->base, "unit");
        }
    }
    //  The money fields follow the row's kind (read in minor units above)
    want->kind = probe->kind;
    if (!want->status)
        want->status = existing->status;
    return want;
}

static void s_plan (bim_t *im, row_t *r, plan_t *plan)
{
    pmo_arena_t *arena = im->arena;
    target_t t = {0};
    Pmo__Benefit *probe = pmo_arena_alloc (arena, sizeof (Pmo__Benefit));
    pmo__benefit__init (probe);
    t.entity = &probe->base;
    portio_import_convert (r, &t, true);
    if (r->bad)
        return;
    s_links (im, r, probe, t.project_code);
    if (r->bad)
        return;
    if (pmo_str_empty (probe->org_unit) && probe->n_project_ids) {
        Pmo__Project *first = zhashx_lookup (im->projects, probe->project_ids[0]);
        probe->org_unit = first->org_unit;
    }
    Pmo__Benefit *existing = NULL;
    if (s_find (im, r, probe, &existing))
        return;
    s_values (im, r, &t, probe, existing);
    if (r->bad)
        return;
    if (!existing) {
        plan->create = true;
        plan->entity = probe;
        return;
    }
    plan->existing = existing;
    plan->id = existing->id;
    plan->entity = s_desired (im, probe, existing);
    plan->unchanged = portio_import_same (arena, pmo_reflect_copy (&plan->entity->base, arena),
                                          pmo_reflect_copy (&existing->base, arena));
}

//  A planner's error as a problem of the row, at the column of its field
//  ("check_benefit.profile[1].period" -> the profile's column).
static void s_refused (bim_t *im, plan_t *plan, const char *member, const Pmo__Error *error)
{
    char field[64] = "";
    const char *dot = strchr (error->field, '.');
    if (dot)
        snprintf (field, sizeof field, "%s", dot + 1);
    field[strcspn (field, "[.")] = 0;
    const char *column = "";
    if (*field) {
        bool by_code = strcmp (field, "project_ids") == 0 &&
                       strcmp (portio_import_column_of (im->map, field), field) == 0;
        column = portio_import_column_of (im->map, by_code ? "project_code" : field);
    }
    const char *value = "";
    int index = *column ? portio_import_header_index (&im->csv->records[0], column) : -1;
    if (index >= 0 && (size_t)index < im->csv->records[plan->record].n_fields)
        value = im->csv->records[plan->record].fields[index];
    else if (index < 0)
        column = "";
    char reason[600];
    snprintf (reason, sizeof reason, "the planner refused %s: %s", member, error->message);
    portio_import_problem (im->result, plan->row, column, value, reason);
}

//  Send the row's benefit as member (check_benefit, create_benefit,
//  update_benefit): 0, or -1 with the row's problem recorded.
static int s_send (bim_t *im, plan_t *plan, const char *member)
{
    Pmo__Benefit *b = plan->entity;
    if (plan->existing) {
        b->id = plan->existing->id;
        b->version = plan->existing->version;
    }
    ProtobufCMessage *reply = portio_import_service_call (
        &im->options->peer, PORTIO_IMPORT_PLANNER, member, &b->base, im->why, sizeof im->why);
    if (!reply) {
        portio_import_problem (im->result, plan->row, "", "", im->why);
        return -1;
    }
    const Pmo__Error *error = portio_import_reply_error (reply);
    Pmo__Benefit *stored =
        error ? NULL : (Pmo__Benefit *)portio_import_reply_member (reply, "benefit");
    if (error)
        s_refused (im, plan, member, error);
    else if (!stored)
        portio_import_problemf (im->result, plan->row, "", "", "%s: the reply has no benefit",
                                member);
    else if (strcmp (member, "check_benefit") != 0) {
        plan->id = pmo_arena_strdup (im->arena, stored->id);
        plan->written = true;
    }
    protobuf_c_message_free_unpacked (reply, NULL);
    return stored ? 0 : -1;
}

//  Plan one data row of the file (portio_import_plan_rows); a row with no
//  value for the mapping's skip_blank field is left out.
static bool s_plan_row (void *arg, row_t *r, size_t out)
{
    bim_t *im = arg;
    if (!r->bad && im->map->skip_blank && portio_import_field_blank (r, im->map->skip_blank))
        return false; //  no figure, no benefit (a project file's row without one)
    plan_t *plan = &im->plans[im->n_plans++];
    plan->out = out;
    plan->row = r->row;
    plan->record = r->row - 1;
    if (!r->bad)
        s_plan (im, r, plan);
    //  The planner checks what it would write with its own rules
    if (!r->bad && !plan->unchanged && s_send (im, plan, "check_benefit"))
        r->bad = true;
    plan->bad = r->bad;
    return true;
}

static void s_settle (void *arg, size_t p, portio_import_row_t *out)
{
    bim_t *im = arg;
    plan_t *plan = &im->plans[p];
    portio_import_row_settle (im->result, out, plan->id, plan->bad, plan->unchanged, plan->create);
}

//  Write in file order; a refused row is bad now and, all or nothing,
//  stops the import (the rows before it stay written).
static int s_write_rows (void *arg)
{
    bim_t *im = arg;
    portio_import_result_t *result = im->result;
    for (size_t p = 0; p < im->n_plans; p++) {
        plan_t *plan = &im->plans[p];
        if (plan->bad || plan->unchanged)
            continue;
        portio_import_row_t *out = &result->row_results[plan->out];
        int rc = s_send (im, plan, plan->create ? "create_benefit" : "update_benefit");
        result->written = result->written || plan->written;
        out->id = plan->id;
        out->written = plan->written;
        if (rc == 0)
            continue;
        portio_import_row_refused (result, out);
        if (!im->options->skip_bad)
            return portio_import_fail (
                result, im->arena,
                "row %zu was refused when written; the rows before it were written: fix it and "
                "run the same import again to complete it (written rows come out unchanged)",
                plan->row);
    }
    return 0;
}

static int s_run (bim_t *im, const void *data, size_t size)
{
    static const portio_import_steps_t steps = {s_load, s_plan_row, s_settle, s_write_rows};
    return portio_import_run_steps (im->options, im->map, im->arena, im->result, data, size, &steps,
                                    im, &im->csv, im->why);
}

int portio_import_benefit_run (const portio_import_options_t *options,
                               const portio_import_mapping_t *mapping, const void *data,
                               size_t size, portio_import_result_t *result)
{
    bim_t im = {.options = options, .map = mapping, .result = result, .arena = result->arena};
    im.projects = zhashx_new ();
    im.codes = zhashx_new ();
    im.by_id = zhashx_new ();
    im.by_key = zhashx_new ();
    im.used = zhashx_new ();
    int rc = s_run (&im, data, size);
    zhashx_destroy (&im.projects);
    zhashx_destroy (&im.codes);
    zhashx_destroy (&im.by_id);
    zhashx_destroy (&im.by_key);
    zhashx_destroy (&im.used);
    return rc;
}

//  ---------------------------------------------------------------------
//  Export

//  A value of b as a cell: money in major units, measures as they are.
static const char *s_value_cell (pmo_arena_t *arena, const Pmo__Benefit *b, double value)
{
    char buf[48];
    if (s_financial (b->kind))
        return pmo_arena_strdup (
            arena, portio_csv_format_minor ((int64_t)llround (value), 2, buf, sizeof buf));
    return pmo_arena_printf (arena, "%.15g", value);
}

static const char *s_cell (pmo_arena_t *arena, zhashx_t *codes, const Pmo__Benefit *b,
                           const char *field)
{
    if (strcmp (field, "baseline") == 0)
        return s_value_cell (arena, b, b->baseline);
    if (strcmp (field, "target") == 0)
        return s_value_cell (arena, b, b->target);
    if (strcmp (field, "dis_benefit") == 0)
        return b->dis_benefit ? "yes" : "";
    if (strcmp (field, "currency") == 0)
        return b->currency ? b->currency : "";
    if (strcmp (field, "profile") == 0) {
        char *out = "";
        for (size_t i = 0; i < b->n_profile; i++)
            out = pmo_arena_printf (arena, "%s%s%s: %s", out, i ? "; " : "", b->profile[i]->period,
                                    s_value_cell (arena, b, b->profile[i]->value));
        return out;
    }
    if (strcmp (field, "project_code") == 0) {
        char *out = "";
        for (size_t i = 0; i < b->n_project_ids; i++) {
            const char *code = zhashx_lookup (codes, b->project_ids[i]);
            out = pmo_arena_printf (arena, "%s%s%s", out, i ? ";" : "",
                                    code ? code : b->project_ids[i]);
        }
        return out;
    }
    return portio_import_cell (arena, &b->base, field);
}

int portio_import_benefit_export (const portio_import_peer_t *peer, const char *org_unit, bool bom,
                                  char **csv, size_t *size, char *why, size_t why_size)
{
    const char *const *fields = portio_import_native_fields ("benefit");
    pmo_arena_t *arena = pmo_arena_new ();
    Pmo__BenefitList *list;
    ProtobufCMessage **projects;
    size_t n_projects;
    if (s_list (peer, arena, org_unit, &list, why, why_size) ||
        portio_import_list (peer, arena, PMO__ENTITY_KIND__ENTITY_KIND_PROJECT, "", NULL, true,
                            &projects, &n_projects, why, why_size)) {
        pmo_arena_destroy (&arena);
        return -1;
    }
    zhashx_t *codes = zhashx_new ();
    for (size_t i = 0; i < n_projects; i++)
        zhashx_insert (codes, ((Pmo__Project *)projects[i])->id,
                       ((Pmo__Project *)projects[i])->code);
    portio_csv_writer_t *writer = portio_csv_writer_new (',', bom);
    size_t count = 0;
    while (fields[count])
        count++;
    portio_csv_writer_row (writer, fields, count);
    for (size_t i = 0; i < list->n_benefits; i++) {
        for (size_t f = 0; f < count; f++)
            portio_csv_writer_field (writer, s_cell (arena, codes, list->benefits[i], fields[f]));
        portio_csv_writer_end_row (writer);
    }
    zhashx_destroy (&codes);
    *csv = portio_import_take_csv (&writer, size);
    pmo_arena_destroy (&arena);
    return 0;
}
