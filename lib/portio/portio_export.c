/*  portio_export.c: records out as CSV in the native format, the one
    portio_import_mapping_native reads back unchanged (see portio_import.h):
    the registry's entities, and the allocator's and the risk monitor's.
*/
#include "portio_import.h"
#include "portio_internal.h"

#include "allocator.pb-c.h"
#include "riskmon.pb-c.h"

#include "pmo_json.h"
#include "pmo_reflect.h"
#include "pmo_wire.h"

#include <assert.h>
#include <ctype.h>
#include <czmq.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

//  ---------------------------------------------------------------------
//  Export

char *portio_import_take_csv (portio_csv_writer_t **writer_p, size_t *size)
{
    size_t len;
    const char *data = portio_csv_writer_data (*writer_p, &len);
    char *csv = malloc (len + 1);
    assert (csv);
    memcpy (csv, data, len + 1);
    if (size)
        *size = len;
    portio_csv_writer_destroy (writer_p);
    return csv;
}

//  A field's value as a cell, in the form the native mapping reads back.
const char *portio_import_cell (pmo_arena_t *arena, const ProtobufCMessage *msg, const char *path)
{
    if (strcmp (path, "currency") == 0) {
        //  The currency of the first amount that has one
        const ProtobufCMessageDescriptor *desc = msg->descriptor;
        for (unsigned i = 0; i < desc->n_fields; i++) {
            const ProtobufCFieldDescriptor *f = &desc->fields[i];
            if (f->type != PROTOBUF_C_TYPE_MESSAGE || f->label == PROTOBUF_C_LABEL_REPEATED ||
                (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF))
                continue;
            const ProtobufCMessage *sub = *(ProtobufCMessage **)((char *)msg + f->offset);
            if (!sub)
                continue;
            if (sub->descriptor == &pmo__money__descriptor) {
                if (!pmo_str_empty (((Pmo__Money *)sub)->currency))
                    return ((Pmo__Money *)sub)->currency;
            } else {
                const char *inner = portio_import_cell (arena, sub, "currency");
                if (*inner)
                    return inner;
            }
        }
        return "";
    }
    char part[64];
    const ProtobufCMessage *owner = msg;
    const ProtobufCFieldDescriptor *f = NULL;
    for (const char *p = path;;) {
        const char *dot = strchr (p, '.');
        size_t len = dot ? (size_t)(dot - p) : strlen (p);
        snprintf (part, sizeof part, "%.*s", (int)len, p);
        f = protobuf_c_message_descriptor_get_field_by_name (owner->descriptor, part);
        if (!f)
            return "";
        if (!dot)
            break;
        owner = *(ProtobufCMessage **)((char *)owner + f->offset);
        if (!owner)
            return "";
        p = dot + 1;
    }
    const void *slot = (const char *)owner + f->offset;
    char buf[48];
    if (owner->descriptor == &pmo__resource__descriptor && strcmp (f->name, "skills") == 0) {
        const Pmo__Resource *resource = (const Pmo__Resource *)owner;
        char *out = pmo_arena_strdup (arena, "");
        for (size_t i = 0; i < resource->n_skills; i++)
            out = pmo_arena_printf (arena, "%s%s%s:%u", out, i ? ";" : "",
                                    resource->skills[i]->name, resource->skills[i]->level);
        return out;
    }
    if (f->label == PROTOBUF_C_LABEL_REPEATED) {
        size_t n = *(const size_t *)((const char *)owner + f->quantifier_offset);
        char **items = *(char ***)slot;
        char *out = pmo_arena_strdup (arena, "");
        for (size_t i = 0; i < n; i++)
            out = pmo_arena_printf (arena, "%s%s%s", out, i ? ";" : "", items[i]);
        return out;
    }
    switch (f->type) {
    case PROTOBUF_C_TYPE_STRING:
        return *(char **)slot ? *(char **)slot : "";
    case PROTOBUF_C_TYPE_ENUM: {
        int value = *(const int *)slot;
        if (!value)
            return "";
        const char *label = pmo_json_enum_label (f->descriptor, value, buf, sizeof buf);
        return pmo_arena_strdup (arena, label ? label : "");
    }
    case PROTOBUF_C_TYPE_UINT32:
        return *(const uint32_t *)slot ? pmo_arena_printf (arena, "%u", *(const uint32_t *)slot)
                                       : "";
    case PROTOBUF_C_TYPE_INT32:
        return *(const int32_t *)slot ? pmo_arena_printf (arena, "%d", *(const int32_t *)slot) : "";
    case PROTOBUF_C_TYPE_INT64: {
        int64_t minor = *(const int64_t *)slot;
        if (strcmp (f->name, "ac_minor") == 0 &&
            owner->descriptor == &pmo__status_report__descriptor &&
            !((const Pmo__StatusReport *)owner)->has_ac)
            return "";
        return pmo_arena_strdup (arena, portio_csv_format_minor (minor, 2, buf, sizeof buf));
    }
    case PROTOBUF_C_TYPE_BOOL:
        return *(const protobuf_c_boolean *)slot ? "true" : "";
    case PROTOBUF_C_TYPE_MESSAGE: {
        const Pmo__Money *money = *(Pmo__Money **)slot;
        if (!money)
            return "";
        return pmo_arena_strdup (arena, portio_csv_format_minor (money->minor, 2, buf, sizeof buf));
    }
    default:
        return "";
    }
}

//  The projects the portfolio view shows for filter under org_unit, each
//  id mapped to its place in the view's order (1, 2, ...), read page by
//  page from the risk monitor. NULL with why if it cannot be read.
static zhashx_t *s_portfolio (const portio_import_peer_t *peer, const char *org_unit,
                              const Pmo__PortfolioRequest *filter, char *why, size_t why_size)
{
    zhashx_t *order = zhashx_new ();
    char *cursor = strdup ("");
    assert (cursor);
    size_t place = 0;
    for (;;) {
        Pmo__PortfolioRequest q = *filter;
        q.org_unit = (char *)(org_unit ? org_unit : "");
        q.limit = 500;
        q.cursor = cursor;
        ProtobufCMessage *reply = portio_import_service_call (peer, PORTIO_IMPORT_RISKMON,
                                                              "portfolio", &q.base, why, why_size);
        if (!reply) {
            free (cursor);
            zhashx_destroy (&order);
            return NULL;
        }
        const Pmo__Error *error = portio_import_reply_error (reply);
        const Pmo__PortfolioPage *page =
            error ? NULL : (Pmo__PortfolioPage *)portio_import_reply_member (reply, "portfolio");
        if (!page) {
            if (error)
                portio_import_error_text (error, why, why_size);
            else
                snprintf (why, why_size, "portfolio: the reply has no page");
            protobuf_c_message_free_unpacked (reply, NULL);
            free (cursor);
            zhashx_destroy (&order);
            return NULL;
        }
        for (size_t i = 0; i < page->n_rows; i++)
            zhashx_insert (order, page->rows[i]->project_id, (void *)(uintptr_t)++place);
        bool more = page->n_rows && !pmo_str_empty (page->next_cursor) &&
                    strcmp (page->next_cursor, cursor) != 0;
        free (cursor);
        cursor = more ? strdup (page->next_cursor) : NULL;
        protobuf_c_message_free_unpacked (reply, NULL);
        if (!more)
            return order;
        assert (cursor);
    }
}

typedef struct {
    size_t place;
    ProtobufCMessage *item;
} s_placed_t;

static int s_by_place (const void *a, const void *b)
{
    size_t x = ((const s_placed_t *)a)->place, y = ((const s_placed_t *)b)->place;
    return x < y ? -1 : x > y;
}

//  Keep the items whose field (a project's id) is in projects; in the
//  portfolio's order if asked (else their own order). Returns how many.
static size_t s_keep (pmo_arena_t *arena, ProtobufCMessage **items, size_t n, const char *field,
                      zhashx_t *projects, bool in_order)
{
    s_placed_t *kept = pmo_arena_alloc (arena, (n + 1) * sizeof (s_placed_t));
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        size_t place = (uintptr_t)zhashx_lookup (projects, pmo_reflect_str (items[i], field));
        if (place)
            kept[m++] = (s_placed_t){in_order ? place : i + 1, items[i]};
    }
    if (m > 1)
        qsort (kept, m, sizeof *kept, s_by_place);
    for (size_t i = 0; i < m; i++)
        items[i] = kept[i].item;
    return m;
}

int portio_export (const portio_import_peer_t *peer, const char *entity_name, const char *org_unit,
                   bool bom, char **csv, size_t *size, char *why, size_t why_size)
{
    return portio_export_filtered (peer, entity_name, org_unit, NULL, bom, csv, size, why,
                                   why_size);
}

int portio_export_filtered (const portio_import_peer_t *peer, const char *entity_name,
                            const char *org_unit, const Pmo__PortfolioRequest *filter, bool bom,
                            char **csv, size_t *size, char *why, size_t why_size)
{
    const entity_t *entity = portio_import_entity (entity_name);
    const char *const *fields = entity_name ? portio_import_native_fields (entity_name) : NULL;
    if (!entity || !fields) {
        snprintf (why, why_size,
                  "'%s' is not one of org_unit, project, milestone, status_report, resource, "
                  "allocation, risk, issue, change_request, raid, benefit",
                  entity_name ? entity_name : "");
        return -1;
    }
    bool of_project = entity->kind == PMO__ENTITY_KIND__ENTITY_KIND_MILESTONE ||
                      entity->kind == PMO__ENTITY_KIND__ENTITY_KIND_STATUS_REPORT;
    zhashx_t *projects = NULL;
    if (filter) {
        bool applies = entity->service == PORTIO_IMPORT_REGISTRY
                           ? of_project || entity->kind == PMO__ENTITY_KIND__ENTITY_KIND_PROJECT
                           : strcmp (entity->name, "resource") != 0 &&
                                 entity->service != PORTIO_IMPORT_PLANNER;
        if (!applies) {
            snprintf (why, why_size,
                      "invalid [entity]: the portfolio's filters apply to projects and their "
                      "records, not to %s",
                      entity->name);
            return -1;
        }
        projects = s_portfolio (peer, org_unit, filter, why, why_size);
        if (!projects)
            return -1;
    }
    if (entity->service == PORTIO_IMPORT_PLANNER)
        return portio_import_benefit_export (peer, org_unit, bom, csv, size, why, why_size);
    if (entity->service != PORTIO_IMPORT_REGISTRY) {
        int rc = portio_import_svc_export (peer, entity, org_unit, projects, bom, csv, size, why,
                                           why_size);
        zhashx_destroy (&projects);
        return rc;
    }
    pmo_arena_t *arena = pmo_arena_new ();
    ProtobufCMessage **items;
    size_t n;
    int rc = 0;
    //  Milestones and reports are listed project by project
    if (of_project) {
        ProtobufCMessage **projects_list;
        size_t n_projects;
        rc = portio_import_list (peer, arena, PMO__ENTITY_KIND__ENTITY_KIND_PROJECT, org_unit, NULL,
                                 false, &projects_list, &n_projects, why, why_size);
        if (rc == 0 && projects)
            n_projects = s_keep (arena, projects_list, n_projects, "id", projects, true);
        size_t max = 0;
        n = 0;
        items = NULL;
        for (size_t i = 0; i < n_projects && rc == 0; i++) {
            ProtobufCMessage **some;
            size_t got;
            rc = portio_import_list (peer, arena, entity->kind, "",
                                     pmo_reflect_str (projects_list[i], "id"), false, &some, &got,
                                     why, why_size);
            if (rc || !got)
                continue;
            if (n + got > max) {
                max = (n + got) * 2;
                ProtobufCMessage **grown = pmo_arena_alloc (arena, max * sizeof (void *));
                if (n)
                    memcpy (grown, items, n * sizeof (void *));
                items = grown;
            }
            memcpy (items + n, some, got * sizeof (void *));
            n += got;
        }
    } else {
        rc = portio_import_list (peer, arena, entity->kind,
                                 entity->kind == PMO__ENTITY_KIND__ENTITY_KIND_ORG_UNIT ? ""
                                                                                        : org_unit,
                                 NULL, false, &items, &n, why, why_size);
        if (rc == 0 && projects)
            n = s_keep (arena, items, n, "id", projects, true);
    }
    zhashx_destroy (&projects);
    if (rc) {
        pmo_arena_destroy (&arena);
        return -1;
    }
    portio_csv_writer_t *writer = portio_csv_writer_new (',', bom);
    size_t count = 0;
    while (fields[count])
        count++;
    portio_csv_writer_row (writer, fields, count);
    for (size_t i = 0; i < n; i++) {
        //  Org units: the subtree asked for
        if (entity->kind == PMO__ENTITY_KIND__ENTITY_KIND_ORG_UNIT && !pmo_str_empty (org_unit)) {
            const char *path = ((Pmo__OrgUnit *)items[i])->path;
            char needle[48];
            snprintf (needle, sizeof needle, "/%s/", org_unit);
            char *padded = pmo_arena_printf (arena, "/%s/", path);
            if (!strstr (padded, needle))
                continue;
        }
        for (size_t f = 0; f < count; f++)
            portio_csv_writer_field (writer, portio_import_cell (arena, items[i], fields[f]));
        portio_csv_writer_end_row (writer);
    }
    *csv = portio_import_take_csv (&writer, size);
    pmo_arena_destroy (&arena);
    return 0;
}

//  ---------------------------------------------------------------------
//  The allocator's and the risk monitor's entities

int portio_import_svc_export (const portio_import_peer_t *peer, const entity_t *entity,
                              const char *org_unit, zhashx_t *projects, bool bom, char **csv,
                              size_t *size, char *why, size_t why_size)
{
    const char *const *fields = portio_import_native_fields (entity->name);
    pmo_arena_t *arena = pmo_arena_new ();
    ProtobufCMessage **items;
    size_t n;
    if (portio_import_svc_list (peer, arena, entity->name, org_unit ? org_unit : "", &items, &n,
                                why, why_size)) {
        pmo_arena_destroy (&arena);
        return -1;
    }
    //  The portfolio's projects only, each register in its own order
    if (projects)
        n = s_keep (arena, items, n, "project_id", projects, false);
    //  Risks and issues carry the project's id; the file shows its code too
    zhashx_t *codes = zhashx_new ();
    if (entity->service == PORTIO_IMPORT_RISKMON) {
        ProtobufCMessage **all;
        size_t n_all;
        if (portio_import_list (peer, arena, PMO__ENTITY_KIND__ENTITY_KIND_PROJECT, "", NULL, true,
                                &all, &n_all, why, why_size)) {
            zhashx_destroy (&codes);
            pmo_arena_destroy (&arena);
            return -1;
        }
        for (size_t i = 0; i < n_all; i++)
            zhashx_insert (codes, ((Pmo__Project *)all[i])->id, ((Pmo__Project *)all[i])->code);
    }
    portio_csv_writer_t *writer = portio_csv_writer_new (',', bom);
    size_t count = 0;
    while (fields[count])
        count++;
    portio_csv_writer_row (writer, fields, count);
    for (size_t i = 0; i < n; i++) {
        for (size_t f = 0; f < count; f++) {
            const char *cell;
            if (strcmp (fields[f], "project_code") == 0 &&
                !pmo_reflect_has (items[i]->descriptor, "project_code")) {
                cell = zhashx_lookup (codes, pmo_reflect_str (items[i], "project_id"));
                cell = cell ? cell : "";
            } else
                cell = portio_import_cell (arena, items[i], fields[f]);
            portio_csv_writer_field (writer, cell);
        }
        portio_csv_writer_end_row (writer);
    }
    zhashx_destroy (&codes);
    *csv = portio_import_take_csv (&writer, size);
    pmo_arena_destroy (&arena);
    return 0;
}
