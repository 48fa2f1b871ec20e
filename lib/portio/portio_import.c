/*  portio_import.c: spreadsheets in and out of the registry (see the header). */
#include "portio_import.h"
#include "portio_import_internal.h"

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

#define LIST_PAGE       500
#define VALUE_SHOWN     80 //  characters of a cell quoted in a problem
#define TEMPLATE_MAX    512
#define LATEST_PREFETCH 5 //  newest reports read per project (the registry's most)

//  ---------------------------------------------------------------------
//  Talking to the registry

Pmo__RegistryReply *portio_import_call (const portio_import_peer_t *peer, const char *member,
                                        ProtobufCMessage *body, char *why, size_t why_size)
{
    Pmo__RegistryRequest request = PMO__REGISTRY_REQUEST__INIT;
    Pmo__Header header;
    char request_id[40];
    int timeout = peer->timeout_ms > 0 ? peer->timeout_ms : 10000;
    int attempts = peer->attempts > 0 ? peer->attempts : 3;
    pmo_header_init (&header, request_id, timeout * attempts, (Pmo__Identity *)peer->identity);
    request.header = &header;
    pmo_reflect_set_oneof (&request.base, member, body);
    ProtobufCMessage *reply = NULL;
    if (pmo_client_call (peer->registry, &request.base, &pmo__registry_reply__descriptor, timeout,
                         attempts, &reply)) {
        snprintf (why, why_size, "no reply from the registry to %s within %d ms x %d", member,
                  timeout, attempts);
        return NULL;
    }
    return (Pmo__RegistryReply *)reply;
}

static void s_reply_error (const Pmo__RegistryReply *reply, char *why, size_t why_size)
{
    snprintf (why, why_size, "%s%s%s%s: %s", pmo_error_code_name (reply->error->code),
              *reply->error->field ? " [" : "", reply->error->field,
              *reply->error->field ? "]" : "", reply->error->message);
}

int portio_import_list (const portio_import_peer_t *peer, pmo_arena_t *arena, Pmo__EntityKind kind,
                        const char *org_unit, const char *project_id, bool archived,
                        ProtobufCMessage ***items, size_t *n, char *why, size_t why_size)
{
    static const char *fields[] = {NULL,       "org_units",  "portfolios",     "programmes",
                                   "projects", "milestones", "status_reports", "gate_decisions"};
    *items = NULL;
    *n = 0;
    size_t max = 0;
    char *cursor = NULL;
    for (;;) {
        Pmo__ListRequest list = PMO__LIST_REQUEST__INIT;
        list.kind = kind;
        list.org_unit = (char *)(org_unit ? org_unit : "");
        list.project_id = (char *)(project_id ? project_id : "");
        list.include_archived = archived;
        list.limit = LIST_PAGE;
        list.cursor = cursor ? cursor : "";
        Pmo__RegistryReply *reply = portio_import_call (peer, "list", &list.base, why, why_size);
        if (!reply)
            return -1;
        if (reply->error) {
            s_reply_error (reply, why, why_size);
            protobuf_c_message_free_unpacked (&reply->base, NULL);
            return -1;
        }
        Pmo__Page *page = reply->page;
        const ProtobufCFieldDescriptor *field =
            protobuf_c_message_descriptor_get_field_by_name (&pmo__page__descriptor, fields[kind]);
        size_t got = page ? *(size_t *)((char *)page + field->quantifier_offset) : 0;
        ProtobufCMessage **msgs =
            page ? *(ProtobufCMessage ***)((char *)page + field->offset) : NULL;
        if (*n + got > max) {
            size_t grown_max = (*n + got) * 2 + 16;
            ProtobufCMessage **grown = pmo_arena_alloc (arena, grown_max * sizeof (void *));
            if (*n)
                memcpy (grown, *items, *n * sizeof (void *));
            *items = grown;
            max = grown_max;
        }
        for (size_t i = 0; i < got; i++)
            (*items)[(*n)++] = pmo_reflect_copy (msgs[i], arena);
        bool more = page && !pmo_str_empty (page->next_cursor) &&
                    !(cursor && strcmp (cursor, page->next_cursor) == 0);
        cursor = more ? pmo_arena_strdup (arena, page->next_cursor) : NULL;
        protobuf_c_message_free_unpacked (&reply->base, NULL);
        if (!more)
            return 0;
    }
}

//  ---------------------------------------------------------------------
//  Mappings

static const entity_t s_entities[] = {
    {"org_unit", &pmo__org_unit__descriptor, "create_org_unit", "update_org_unit",
     PMO__ENTITY_KIND__ENTITY_KIND_ORG_UNIT, PORTIO_IMPORT_REGISTRY},
    {"project", &pmo__project__descriptor, "create_project", "update_project",
     PMO__ENTITY_KIND__ENTITY_KIND_PROJECT, PORTIO_IMPORT_REGISTRY},
    {"milestone", &pmo__milestone__descriptor, "create_milestone", "update_milestone",
     PMO__ENTITY_KIND__ENTITY_KIND_MILESTONE, PORTIO_IMPORT_REGISTRY},
    {"status_report", &pmo__status_report__descriptor, "submit_status_report", NULL,
     PMO__ENTITY_KIND__ENTITY_KIND_STATUS_REPORT, PORTIO_IMPORT_REGISTRY},
    //  Kept by the other services: portio_import_svc.c imports and exports them
    {"resource", &pmo__resource__descriptor, NULL, NULL, PMO__ENTITY_KIND__ENTITY_KIND_UNSPECIFIED,
     PORTIO_IMPORT_ALLOCATOR},
    {"allocation", &pmo__allocation__descriptor, NULL, NULL,
     PMO__ENTITY_KIND__ENTITY_KIND_UNSPECIFIED, PORTIO_IMPORT_ALLOCATOR},
    {"risk", &pmo__risk__descriptor, NULL, NULL, PMO__ENTITY_KIND__ENTITY_KIND_UNSPECIFIED,
     PORTIO_IMPORT_RISKMON},
    {"issue", &pmo__issue__descriptor, NULL, NULL, PMO__ENTITY_KIND__ENTITY_KIND_UNSPECIFIED,
     PORTIO_IMPORT_RISKMON},
};

static const entity_t *s_entity (const char *name)
{
    for (size_t i = 0; i < sizeof s_entities / sizeof s_entities[0]; i++)
        if (name && strcmp (s_entities[i].name, name) == 0)
            return &s_entities[i];
    return NULL;
}

bool portio_import_mapping_entity_known (const char *entity)
{
    return s_entity (entity) != NULL;
}

const char *portio_import_mapping_entity (const portio_import_mapping_t *self)
{
    return self->entity->name;
}

void portio_import_mapping_destroy (portio_import_mapping_t **self_p)
{
    assert (self_p);
    portio_import_mapping_t *self = *self_p;
    if (!self)
        return;
    json_decref (self->root);
    free (self->columns);
    free (self);
    *self_p = NULL;
}

static const char *s_str (json_t *object, const char *key, const char *fallback)
{
    json_t *value = json_object_get (object, key);
    return json_is_string (value) ? json_string_value (value) : fallback;
}

//  The leaf field of path in desc ("budget.baseline"), NULL if none.
static const ProtobufCFieldDescriptor *s_field_at (const ProtobufCMessageDescriptor *desc,
                                                   const char *path)
{
    char part[64];
    const ProtobufCFieldDescriptor *field = NULL;
    for (const char *p = path; desc;) {
        const char *dot = strchr (p, '.');
        size_t len = dot ? (size_t)(dot - p) : strlen (p);
        if (len >= sizeof part)
            return NULL;
        memcpy (part, p, len);
        part[len] = 0;
        field = protobuf_c_message_descriptor_get_field_by_name (desc, part);
        if (!field || !dot)
            return field;
        if (field->type != PROTOBUF_C_TYPE_MESSAGE || field->label == PROTOBUF_C_LABEL_REPEATED)
            return NULL;
        desc = field->descriptor;
        p = dot + 1;
    }
    return NULL;
}

//  Fields a mapping may fill: the entity's own (not its bookkeeping), a
//  project row's status report ("report.<field>"), and the pseudo fields
//  "currency" (of every amount) and "project_code" (of a child's project).
static bool s_field_ok (const entity_t *entity, const char *field)
{
    static const char *bookkeeping[] = {
        "id",         "version",       "created_ms",       "updated_ms",
        "archived",   "org_unit_path", "division",         "path",
        "created_by", "author",        "effective_policy", "effective_pmo_type"};
    //  The other services' entities: an id in the file is the record's key;
    //  a resource's skills are one cell ("java:4;sql:3")
    if (entity->service != PORTIO_IMPORT_REGISTRY &&
        (strcmp (field, "id") == 0 ||
         (entity->desc == &pmo__resource__descriptor && strcmp (field, "skills") == 0)))
        return true;
    if (strcmp (field, "currency") == 0 || (strcmp (field, "project_code") == 0 &&
                                            entity->kind != PMO__ENTITY_KIND__ENTITY_KIND_PROJECT &&
                                            entity->kind != PMO__ENTITY_KIND__ENTITY_KIND_ORG_UNIT))
        return true;
    const ProtobufCMessageDescriptor *desc = entity->desc;
    if (strncmp (field, "report.", 7) == 0 &&
        entity->kind == PMO__ENTITY_KIND__ENTITY_KIND_PROJECT) {
        field += 7;
        desc = &pmo__status_report__descriptor;
        if (strcmp (field, "project_id") == 0)
            return false;
    }
    //  An org unit's id is its key and is given by the file
    bool id_ok = entity->kind == PMO__ENTITY_KIND__ENTITY_KIND_ORG_UNIT && desc == entity->desc;
    for (size_t i = 0; i < sizeof bookkeeping / sizeof bookkeeping[0]; i++)
        if (strcmp (field, bookkeeping[i]) == 0 && !(id_ok && strcmp (field, "id") == 0))
            return false;
    const ProtobufCFieldDescriptor *f = s_field_at (desc, field);
    if (!f)
        return false;
    //  Whole sub-messages other than Money are not cells
    return f->type != PROTOBUF_C_TYPE_MESSAGE || f->descriptor == &pmo__money__descriptor;
}

portio_import_mapping_t *portio_import_mapping_load (const char *text, size_t size, char *why,
                                                     size_t why_size)
{
    json_error_t error;
    json_t *root = json_loadb (text, size, JSON_REJECT_DUPLICATES, &error);
    if (!root) {
        snprintf (why, why_size, "the mapping is not JSON: line %d column %d: %s", error.line,
                  error.column, error.text);
        return NULL;
    }
    portio_import_mapping_t *self = calloc (1, sizeof (portio_import_mapping_t));
    assert (self);
    self->root = root;
    self->pivot = PORTIO_CSV_PIVOT_DEFAULT;
    self->ou_kind = PMO__ORG_UNIT_KIND__ORG_UNIT_KIND_DIVISION;
#define BAD(...)                                                                                   \
    do {                                                                                           \
        snprintf (why, why_size, __VA_ARGS__);                                                     \
        portio_import_mapping_destroy (&self);                                                     \
        return NULL;                                                                               \
    } while (0)
    if (!json_is_object (root))
        BAD ("the mapping is not a JSON object");
    static const char *known[] = {
        "entity",        "encoding", "delimiter", "date_order", "two_digit_year_pivot",
        "decimal_comma", "currency", "key",       "org_units",  "columns",
        "defaults",      "comment"};
    const char *name;
    json_t *value;
    json_object_foreach (root, name, value)
    {
        bool ok = false;
        for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
            ok = ok || strcmp (name, known[i]) == 0;
        if (!ok)
            BAD ("the mapping has an unknown key '%s'", name);
    }
    self->entity = s_entity (s_str (root, "entity", "project"));
    if (!self->entity)
        BAD ("entity must be org_unit, project, milestone, status_report, resource, allocation, "
             "risk or issue");
    if (portio_csv_encoding_parse (s_str (root, "encoding", "auto"), &self->csv.encoding))
        BAD ("encoding must be auto, utf-8 or windows-1252");
    const char *delimiter = s_str (root, "delimiter", "auto");
    if (strcmp (delimiter, "auto") == 0)
        self->csv.delimiter = 0;
    else if (strcmp (delimiter, "\\t") == 0 || strcmp (delimiter, "\t") == 0 ||
             strcmp (delimiter, "tab") == 0)
        self->csv.delimiter = '\t';
    else if (strlen (delimiter) == 1 && strchr (",;|", delimiter[0]))
        self->csv.delimiter = delimiter[0];
    else
        BAD ("delimiter must be auto, \",\", \";\", \"|\" or \"tab\"");
    const char *order = s_str (root, "date_order", "dmy");
    if (strcmp (order, "dmy") && strcmp (order, "mdy"))
        BAD ("date_order must be dmy (31/12/2040) or mdy (12/31/2040)");
    self->date_order = strcmp (order, "mdy") == 0 ? PORTIO_CSV_MDY : PORTIO_CSV_DMY;
    json_t *pivot = json_object_get (root, "two_digit_year_pivot");
    if (pivot) {
        if (!json_is_integer (pivot) || json_integer_value (pivot) < 0 ||
            json_integer_value (pivot) > 100)
            BAD ("two_digit_year_pivot is 0 to 100");
        self->pivot = (int)json_integer_value (pivot);
    }
    self->decimal_comma = json_is_true (json_object_get (root, "decimal_comma"));
    self->currency = s_str (root, "currency", "GBP");
    if (strlen (self->currency) != 3)
        BAD ("currency is an ISO 4217 code such as GBP");
    self->key = s_str (root, "key", "code");
    if (strcmp (self->key, "code") && strcmp (self->key, "external_id"))
        BAD ("key is code or external_id");
    json_t *ou = json_object_get (root, "org_units");
    if (ou) {
        if (!json_is_object (ou))
            BAD ("org_units is an object: {\"kind\": \"division\", \"parent\": \"hub\", "
                 "\"names\": {...}}");
        int kind;
        if (pmo_json_enum_parse (&pmo__org_unit_kind__descriptor, s_str (ou, "kind", "division"),
                                 &kind) ||
            kind < PMO__ORG_UNIT_KIND__ORG_UNIT_KIND_DIVISION)
            BAD ("org_units.kind is division or department");
        self->ou_kind = kind;
        self->ou_parent = s_str (ou, "parent", NULL);
        self->ou_names = json_object_get (ou, "names");
        if (self->ou_names && !json_is_object (self->ou_names))
            BAD ("org_units.names is an object: id -> name");
    }
    self->defaults = json_object_get (root, "defaults");
    if (self->defaults && !json_is_object (self->defaults))
        BAD ("defaults is an object: field -> value");
    json_object_foreach (self->defaults, name, value)
    {
        if (!json_is_string (value) || !s_field_ok (self->entity, name))
            BAD ("defaults.%s: not a field of %s that takes a text value", name,
                 self->entity->name);
    }
    json_t *columns = json_object_get (root, "columns");
    if (!json_is_array (columns) || json_array_size (columns) == 0)
        BAD ("columns is a list of {\"column\": ..., \"field\": ...}");
    self->n_columns = json_array_size (columns);
    self->columns = calloc (self->n_columns, sizeof (map_column_t));
    assert (self->columns);
    for (size_t i = 0; i < self->n_columns; i++) {
        json_t *c = json_array_get (columns, i);
        map_column_t *col = &self->columns[i];
        if (!json_is_object (c))
            BAD ("columns[%zu] is not an object", i);
        static const char *keys[] = {"column", "template",    "field",  "transform", "values",
                                     "scale",  "create_only", "unique", "required",  "comment"};
        json_object_foreach (c, name, value)
        {
            bool ok = false;
            for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++)
                ok = ok || strcmp (name, keys[k]) == 0;
            if (!ok)
                BAD ("columns[%zu] has an unknown key '%s'", i, name);
        }
        col->column = s_str (c, "column", NULL);
        col->tmpl = s_str (c, "template", NULL);
        col->field = s_str (c, "field", NULL);
        col->transform = s_str (c, "transform", NULL);
        col->values = json_object_get (c, "values");
        col->create_only = json_is_true (json_object_get (c, "create_only"));
        col->unique = json_is_true (json_object_get (c, "unique"));
        col->required = json_is_true (json_object_get (c, "required"));
        json_t *scale = json_object_get (c, "scale");
        col->scale = scale ? json_integer_value (scale) : 1;
        if (!col->column == !col->tmpl)
            BAD ("columns[%zu] needs either \"column\" or \"template\"", i);
        if (!col->field || !s_field_ok (self->entity, col->field))
            BAD ("columns[%zu].field '%s' is not a field of %s", i, col->field ? col->field : "",
                 self->entity->name);
        if (col->values && !json_is_object (col->values))
            BAD ("columns[%zu].values is an object: text -> value", i);
        if (scale && (!json_is_integer (scale) || col->scale < 1))
            BAD ("columns[%zu].scale is a whole number such as 1000000", i);
        if (col->transform && strcmp (col->transform, "upper") &&
            strcmp (col->transform, "lower") && strcmp (col->transform, "slug") &&
            strcmp (col->transform, "acronym") && strcmp (col->transform, "trim"))
            BAD ("columns[%zu].transform is upper, lower, slug, acronym or trim", i);
    }
#undef BAD
    return self;
}

//  The export format of each entity: column = field, in this order.
static const char *s_native_project[] = {"code",
                                         "name",
                                         "description",
                                         "org_unit",
                                         "portfolio_id",
                                         "programme_id",
                                         "sponsor",
                                         "manager",
                                         "methodology",
                                         "phase",
                                         "status",
                                         "priority",
                                         "strategic_score",
                                         "baseline_start",
                                         "baseline_finish",
                                         "forecast_finish",
                                         "currency",
                                         "budget.baseline",
                                         "budget.actual",
                                         "budget.forecast",
                                         "benefits.planned",
                                         "benefits.realised",
                                         "depends_on",
                                         "artifacts",
                                         "external_id",
                                         NULL};
static const char *s_native_milestone[] = {"project_id",    "name",        "baseline_date",
                                           "forecast_date", "actual_date", NULL};
static const char *s_native_report[] = {
    "project_id", "period_end", "percent_complete", "overall",  "schedule",  "cost", "scope",
    "resources",  "pv_minor",   "ev_minor",         "ac_minor", "narrative", NULL};
static const char *s_native_org_unit[] = {
    "id", "name", "kind", "parent", "pmo_type", "pmo_tier", "policy.reporting_period_days", NULL};

//  The allocator's and the risk monitor's: the id first (the key of a
//  re-import), then what a PMO keeps in its spreadsheet.
static const char *s_native_resource[] = {
    "id",       "external_id", "name",          "kind",
    "role",     "skills",      "home_org_unit", "weekly_capacity_hours",
    "currency", "cost_rate",   "email",         NULL};
static const char *s_native_allocation[] = {
    "id",        "project_code",   "project_id", "resource_id", "resource_name", "role", "skill",
    "min_level", "hours_per_week", "start_week", "end_week",    "state",         "note", NULL};
static const char *s_native_risk[] = {"id",
                                      "project_code",
                                      "project_id",
                                      "title",
                                      "kind",
                                      "category",
                                      "cause",
                                      "event",
                                      "effect",
                                      "probability",
                                      "impact",
                                      "residual_probability",
                                      "residual_impact",
                                      "proximity",
                                      "response",
                                      "response_plan",
                                      "owner",
                                      "actionee",
                                      "currency",
                                      "cost_impact",
                                      "review_date",
                                      "status",
                                      "closure_note",
                                      NULL};
static const char *s_native_issue[] = {
    "id",       "project_code", "project_id", "title",      "description", "type",    "severity",
    "priority", "owner",        "status",     "resolution", "due_date",    "risk_id", NULL};

static const char *const *s_native_fields (const char *entity)
{
    if (strcmp (entity, "resource") == 0)
        return s_native_resource;
    if (strcmp (entity, "allocation") == 0)
        return s_native_allocation;
    if (strcmp (entity, "risk") == 0)
        return s_native_risk;
    if (strcmp (entity, "issue") == 0)
        return s_native_issue;
    if (strcmp (entity, "project") == 0)
        return s_native_project;
    if (strcmp (entity, "milestone") == 0)
        return s_native_milestone;
    if (strcmp (entity, "status_report") == 0)
        return s_native_report;
    if (strcmp (entity, "org_unit") == 0)
        return s_native_org_unit;
    return NULL;
}

portio_import_mapping_t *portio_import_mapping_native (const char *entity)
{
    const char *const *fields = entity ? s_native_fields (entity) : NULL;
    if (!fields)
        return NULL;
    json_t *columns = json_array ();
    for (size_t i = 0; fields[i]; i++)
        json_array_append_new (columns,
                               json_pack ("{s:s, s:s}", "column", fields[i], "field", fields[i]));
    json_t *root =
        json_pack ("{s:s, s:s, s:o}", "entity", entity, "encoding", "auto", "columns", columns);
    char *text = json_dumps (root, 0);
    json_decref (root);
    char why[256];
    portio_import_mapping_t *self =
        portio_import_mapping_load (text, strlen (text), why, sizeof why);
    free (text);
    assert (self); //  our own tables
    //  A file in the export format may leave out columns: those fields keep their values
    self->partial = true;
    return self;
}

//  ---------------------------------------------------------------------
//  Cells to fields

static void s_problem (portio_import_result_t *result, size_t row, const char *column,
                       const char *value, const char *format, ...)
    __attribute__ ((format (printf, 5, 6)));
static void s_problem (portio_import_result_t *result, size_t row, const char *column,
                       const char *value, const char *format, ...)
{
    pmo_arena_t *arena = result->arena;
    if (result->n_problems % 64 == 0) {
        portio_import_problem_t *grown =
            pmo_arena_alloc (arena, (result->n_problems + 64) * sizeof (portio_import_problem_t));
        if (result->n_problems)
            memcpy (grown, result->problems, result->n_problems * sizeof (portio_import_problem_t));
        result->problems = grown;
    }
    portio_import_problem_t *p = &result->problems[result->n_problems++];
    p->row = row;
    p->column = pmo_arena_strdup (arena, column ? column : "");
    char shown[VALUE_SHOWN * 4 + 8];
    snprintf (shown, sizeof shown, "%s", value ? value : "");
    if (value && strlen (value) > VALUE_SHOWN) {
        //  Cut at a character boundary, then mark it
        size_t cut = VALUE_SHOWN;
        while (cut && ((uint8_t)shown[cut] & 0xC0) == 0x80)
            cut--;
        snprintf (shown + cut, sizeof shown - cut, "...");
    }
    p->value = pmo_arena_strdup (arena, shown);
    char reason[512];
    va_list args;
    va_start (args, format);
    vsnprintf (reason, sizeof reason, format, args);
    va_end (args);
    p->reason = pmo_arena_strdup (arena, reason);
}

static const char *s_column_name (const map_column_t *col)
{
    return col->column ? col->column : col->tmpl;
}

static void s_cell_problem (row_t *r, const map_column_t *col, const char *value,
                            const char *format, ...) __attribute__ ((format (printf, 4, 5)));
static void s_cell_problem (row_t *r, const map_column_t *col, const char *value,
                            const char *format, ...)
{
    char reason[512];
    va_list args;
    va_start (args, format);
    vsnprintf (reason, sizeof reason, format, args);
    va_end (args);
    s_problem (r->result, r->row, s_column_name (col), value, "%s", reason);
    r->bad = true;
}

static const char *s_cell (const row_t *r, int index)
{
    return index >= 0 && (size_t)index < r->record->n_fields ? r->record->fields[index] : "";
}

static int s_header_index (const portio_csv_record_t *header, const char *name, size_t len)
{
    for (size_t i = 0; i < header->n_fields; i++) {
        const char *h = header->fields[i];
        while (*h == ' ')
            h++;
        size_t hlen = strlen (h);
        while (hlen && h[hlen - 1] == ' ')
            hlen--;
        if (hlen == len && strncasecmp (h, name, len) == 0)
            return (int)i;
    }
    return -1;
}

//  An acronym for a code: a parenthesised one at the end ("Geological
//  Disposal Facility Programme (GDF)" -> GDF), else the initials of the
//  words that matter, numbers kept whole ("Crossrail 2" -> C2).
static void s_acronym (const char *text, char *out, size_t size)
{
    const char *open = strrchr (text, '(');
    const char *close = open ? strchr (open, ')') : NULL;
    size_t n = 0;
    if (open && close && close - open >= 3 && close - open <= 13) {
        bool ok = true;
        for (const char *p = open + 1; p < close; p++)
            ok = ok && (isupper ((unsigned char)*p) || isdigit ((unsigned char)*p) || *p == '-');
        if (ok) {
            for (const char *p = open + 1; p < close && n + 1 < size; p++)
                out[n++] = *p;
            out[n] = 0;
            return;
        }
    }
    static const char *skip[] = {"and", "of", "the", "for", "a", "an", "to", "in", "on", "&"};
    for (const char *p = text; *p && n + 2 < size && n < 12;) {
        while (*p && !isalnum ((unsigned char)*p))
            p++;
        const char *word = p;
        while (*p && (isalnum ((unsigned char)*p) || (uint8_t)*p >= 0x80))
            p++;
        size_t len = (size_t)(p - word);
        if (!len)
            continue;
        bool skipped = false;
        for (size_t i = 0; i < sizeof skip / sizeof skip[0]; i++)
            skipped = skipped || (strlen (skip[i]) == len && strncasecmp (word, skip[i], len) == 0);
        if (skipped || (uint8_t)word[0] >= 0x80)
            continue;
        if (isdigit ((unsigned char)word[0]))
            for (size_t i = 0; i < len && n + 1 < size; i++)
                out[n++] = word[i];
        else
            out[n++] = (char)toupper ((unsigned char)word[0]);
    }
    out[n] = 0;
}

static void s_transform (const char *how, const char *text, char *out, size_t size)
{
    if (!how || strcmp (how, "trim") == 0) {
        snprintf (out, size, "%s", text);
        return;
    }
    if (strcmp (how, "acronym") == 0)
        return s_acronym (text, out, size);
    size_t n = 0;
    bool dash = false;
    for (const char *p = text; *p && n + 1 < size; p++) {
        char c = *p;
        if (strcmp (how, "upper") == 0)
            out[n++] = (char)toupper ((unsigned char)c);
        else if (strcmp (how, "lower") == 0)
            out[n++] = (char)tolower ((unsigned char)c);
        else if (isalnum ((unsigned char)c)) { //  slug: [a-z0-9-]
            out[n++] = (char)tolower ((unsigned char)c);
            dash = false;
        } else if (n && !dash) {
            out[n++] = '-';
            dash = true;
        }
    }
    while (n && out[n - 1] == '-')
        n--;
    out[n] = 0;
}

//  Expand "{column}" and "{column|transform}" over the row's cells.
static int s_expand (row_t *r, const map_column_t *col, char *out, size_t size)
{
    size_t n = 0;
    for (const char *p = col->tmpl; *p;) {
        if (*p != '{') {
            if (n + 1 < size)
                out[n++] = *p;
            p++;
            continue;
        }
        const char *close = strchr (p, '}');
        if (!close) {
            s_cell_problem (r, col, col->tmpl, "the template has a '{' without '}'");
            return -1;
        }
        const char *bar = memchr (p, '|', (size_t)(close - p));
        size_t name_len = (size_t)((bar ? bar : close) - p - 1);
        int index = s_header_index (r->header, p + 1, name_len);
        if (index < 0) {
            s_cell_problem (r, col, col->tmpl, "the template names a column the file lacks");
            return -1;
        }
        char how[16] = "";
        if (bar && (size_t)(close - bar - 1) < sizeof how) {
            memcpy (how, bar + 1, (size_t)(close - bar - 1));
            how[close - bar - 1] = 0;
        }
        char piece[TEMPLATE_MAX];
        s_transform (*how ? how : NULL, s_cell (r, index), piece, sizeof piece);
        for (const char *q = piece; *q && n + 1 < size; q++)
            out[n++] = *q;
        p = close + 1;
    }
    out[n] = 0;
    return 0;
}

static bool s_is_date_field (const char *name)
{
    size_t len = strlen (name);
    return (len > 5 && strcmp (name + len - 5, "_date") == 0) ||
           (len > 6 && strcmp (name + len - 6, "_start") == 0) ||
           (len > 7 && strcmp (name + len - 7, "_finish") == 0) || strcmp (name, "period_end") == 0;
}

//  The message holding path's last part in msg, creating sub-messages.
static ProtobufCMessage *s_owner (pmo_arena_t *arena, ProtobufCMessage *msg, const char *path,
                                  const ProtobufCFieldDescriptor **leaf)
{
    char part[64];
    for (const char *p = path;;) {
        const char *dot = strchr (p, '.');
        size_t len = dot ? (size_t)(dot - p) : strlen (p);
        snprintf (part, sizeof part, "%.*s", (int)len, p);
        const ProtobufCFieldDescriptor *field =
            protobuf_c_message_descriptor_get_field_by_name (msg->descriptor, part);
        assert (field); //  checked when the mapping was loaded
        if (!dot) {
            *leaf = field;
            return msg;
        }
        ProtobufCMessage **slot = (ProtobufCMessage **)((char *)msg + field->offset);
        if (!*slot) {
            const ProtobufCMessageDescriptor *sub = field->descriptor;
            *slot = pmo_arena_alloc (arena, sub->sizeof_message);
            protobuf_c_message_init (field->descriptor, *slot);
        }
        msg = *slot;
        p = dot + 1;
    }
}

//  Set one field from a cell's text (already mapped through values).
//  Returns 0, or -1 with the reason in why.
static int s_set (row_t *r, const map_column_t *col, ProtobufCMessage *msg, const char *path,
                  const char *text, char *why, size_t why_size)
{
    pmo_arena_t *arena = r->arena;
    const portio_import_mapping_t *map = r->map;
    const ProtobufCFieldDescriptor *f;
    ProtobufCMessage *owner = s_owner (arena, msg, path, &f);
    void *slot = (char *)owner + f->offset;
    bool blank = portio_csv_blank (text);
    //  "Exempt under Section 43 ..." in a date, amount, rating or number:
    //  published without the value. Free text is kept as written.
    bool plain_text = f->type == PROTOBUF_C_TYPE_STRING && !s_is_date_field (f->name);
    if (!blank && !plain_text && portio_csv_withheld (text)) {
        r->result->withheld++;
        text = "";
        blank = true;
    }
    const char *reason = NULL;
    if (f->type == PROTOBUF_C_TYPE_MESSAGE) { //  Money
        if (blank) {
            *(ProtobufCMessage **)slot = NULL;
            return 0;
        }
        portio_csv_money_options_t money = {map->decimal_comma, col ? col->scale : 1, 2};
        int64_t minor;
        char currency[4];
        if (portio_csv_parse_money (text, &money, &minor, currency, &reason) < 0) {
            snprintf (why, why_size, "%s", reason);
            return -1;
        }
        if (minor < 0) {
            snprintf (why, why_size, "an amount here must not be negative");
            return -1;
        }
        Pmo__Money *m = pmo_arena_alloc (arena, sizeof (Pmo__Money));
        pmo__money__init (m);
        m->minor = minor;
        m->currency = pmo_arena_strdup (arena, *currency ? currency : map->currency);
        *(Pmo__Money **)slot = m;
        return 0;
    }
    if (f->label == PROTOBUF_C_LABEL_REPEATED) { //  "a;b;c" or "a, b"
        char *copy = pmo_arena_strdup (arena, blank ? "" : text);
        size_t max = 1;
        for (char *p = copy; *p; p++)
            max += *p == ';' || *p == ',';
        char **items = pmo_arena_alloc (arena, max * sizeof (char *));
        size_t n = 0;
        char *save = NULL;
        for (char *item = strtok_r (copy, ";,", &save); item; item = strtok_r (NULL, ";,", &save)) {
            while (*item == ' ')
                item++;
            size_t len = strlen (item);
            while (len && item[len - 1] == ' ')
                item[--len] = 0;
            if (*item)
                items[n++] = item;
        }
        *(size_t *)((char *)owner + f->quantifier_offset) = n;
        *(char ***)slot = items;
        return 0;
    }
    switch (f->type) {
    case PROTOBUF_C_TYPE_STRING: {
        if (blank) {
            *(char **)slot = "";
            return 0;
        }
        if (s_is_date_field (f->name)) {
            char date[11];
            if (portio_csv_parse_date (text, map->date_order, map->pivot, date, &reason) < 0) {
                snprintf (why, why_size, "%s", reason);
                return -1;
            }
            *(char **)slot = pmo_arena_strdup (arena, date);
        } else
            *(char **)slot = pmo_arena_strdup (arena, text);
        return 0;
    }
    case PROTOBUF_C_TYPE_ENUM: {
        if (blank) {
            *(int *)slot = 0;
            return 0;
        }
        char label[64];
        size_t n = 0;
        for (const char *p = text; *p && n + 1 < sizeof label; p++)
            label[n++] = (*p == ' ' || *p == '-') ? '_' : *p;
        label[n] = 0;
        int value;
        if (pmo_json_enum_parse (f->descriptor, label, &value)) {
            const ProtobufCEnumDescriptor *e = f->descriptor;
            size_t used = (size_t)snprintf (why, why_size, "not one of:");
            for (unsigned i = 1; i < e->n_values && used < why_size; i++) {
                char name[64];
                pmo_json_enum_label (e, e->values[i].value, name, sizeof name);
                used += (size_t)snprintf (why + used, why_size - used, " %s", name);
            }
            return -1;
        }
        *(int *)slot = value;
        return 0;
    }
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_INT32: {
        if (blank) {
            *(uint32_t *)slot = 0;
            return 0;
        }
        char *end;
        long value = strtol (text, &end, 10);
        while (*end == ' ' || *end == '%')
            end++;
        if (end == text || *end || value < 0 || value > 1000000000L) {
            snprintf (why, why_size, "not a whole number");
            return -1;
        }
        *(uint32_t *)slot = (uint32_t)value;
        return 0;
    }
    case PROTOBUF_C_TYPE_INT64: { //  *_minor: an amount in the project's currency
        int64_t minor = 0;
        bool has = !blank;
        if (has) {
            portio_csv_money_options_t money = {map->decimal_comma, col ? col->scale : 1, 2};
            char currency[4];
            if (portio_csv_parse_money (text, &money, &minor, currency, &reason) < 0) {
                snprintf (why, why_size, "%s", reason);
                return -1;
            }
        }
        *(int64_t *)slot = minor;
        if (strcmp (f->name, "ac_minor") == 0 &&
            owner->descriptor == &pmo__status_report__descriptor)
            ((Pmo__StatusReport *)owner)->has_ac = has;
        return 0;
    }
    case PROTOBUF_C_TYPE_BOOL:
        *(protobuf_c_boolean *)slot =
            !blank && (strcasecmp (text, "true") == 0 || strcasecmp (text, "yes") == 0 ||
                       strcmp (text, "1") == 0);
        return 0;
    default:
        snprintf (why, why_size, "this field cannot be filled from a cell");
        return -1;
    }
}

//  The value a values map gives text, matched without case or surrounding
//  spaces; NULL if the map has none for it.
static const char *s_mapped (json_t *values, const char *text)
{
    if (!values)
        return NULL;
    char buf[512];
    snprintf (buf, sizeof buf, "%s", text);
    char *t = buf;
    while (*t == ' ')
        t++;
    size_t len = strlen (t);
    while (len && t[len - 1] == ' ')
        t[--len] = 0;
    const char *key;
    json_t *value;
    json_object_foreach (values, key, value)
    {
        if (strcasecmp (key, t) == 0)
            return json_is_string (value) ? json_string_value (value) : "";
    }
    return NULL;
}

//  A resource's skills from one cell: "java:4; sql:3" (name:level, level
//  1 to 5, the first is the primary skill), or blank for none.
static void s_apply_skills (row_t *r, const map_column_t *col, const char *raw, const char *text,
                            Pmo__Resource *resource)
{
    char *copy = pmo_arena_strdup (r->arena, portio_csv_blank (text) ? "" : text);
    size_t max = 1;
    for (char *p = copy; *p; p++)
        max += *p == ';' || *p == ',';
    Pmo__ResourceSkill **skills = pmo_arena_alloc (r->arena, max * sizeof (void *));
    size_t n = 0;
    char *save = NULL;
    for (char *item = strtok_r (copy, ";,", &save); item; item = strtok_r (NULL, ";,", &save)) {
        while (*item == ' ')
            item++;
        if (!*item)
            continue;
        char *colon = strchr (item, ':');
        char *end = NULL;
        long level = colon ? strtol (colon + 1, &end, 10) : 0;
        while (end && *end == ' ')
            end++;
        if (!colon || end == colon + 1 || (end && *end) || level < 1 || level > 5) {
            if (col)
                s_cell_problem (r, col, raw,
                                "skills are name:level with level 1 to 5, e.g. \"java:4; sql:3\"");
            else {
                s_problem (r->result, r->row, "skills", raw,
                           "the mapping's default: skills are name:level, e.g. java:4");
                r->bad = true;
            }
            return;
        }
        *colon = 0;
        size_t len = strlen (item);
        while (len && item[len - 1] == ' ')
            item[--len] = 0;
        for (char *c = item; *c; c++)
            *c = (char)tolower ((unsigned char)*c);
        Pmo__ResourceSkill *skill = pmo_arena_alloc (r->arena, sizeof (Pmo__ResourceSkill));
        pmo__resource_skill__init (skill);
        skill->name = item;
        skill->level = (uint32_t)level;
        skills[n++] = skill;
    }
    resource->skills = skills;
    resource->n_skills = n;
}

//  Apply one mapped column (or a default) to the row's target.
static void s_apply (row_t *r, const map_column_t *col, const char *field, const char *raw,
                     target_t *t)
{
    char why[512];
    const char *text = raw;
    const char *mapped = s_mapped (col ? col->values : NULL, raw);
    if (mapped)
        text = mapped;
    //  Otherwise the field's own parsing reads it (so "green" works with a
    //  values map too), and a withheld value is left empty (see s_set)
    if (col && col->required && portio_csv_blank (text))
        return s_cell_problem (r, col, raw, "a value is required");
    if (strcmp (field, "currency") == 0) {
        if (!portio_csv_blank (text)) {
            if (strlen (text) != 3)
                return s_cell_problem (r, col, raw, "not an ISO 4217 currency code such as GBP");
            t->currency = pmo_arena_strdup (r->arena, text);
        }
        return;
    }
    if (strcmp (field, "project_code") == 0) {
        t->project_code = pmo_str_empty (text) ? NULL : pmo_arena_strdup (r->arena, text);
        return;
    }
    if (strcmp (field, "skills") == 0 && t->entity->descriptor == &pmo__resource__descriptor)
        return s_apply_skills (r, col, raw, text, (Pmo__Resource *)t->entity);
    ProtobufCMessage *target = t->entity;
    if (strncmp (field, "report.", 7) == 0) {
        field += 7;
        if (!t->report) {
            t->report = pmo_arena_alloc (r->arena, sizeof (Pmo__StatusReport));
            pmo__status_report__init (t->report);
        }
        target = &t->report->base;
        if (!portio_csv_blank (text))
            t->report_touched = true;
    }
    if (s_set (r, col, target, field, text, why, sizeof why)) {
        if (col)
            s_cell_problem (r, col, raw, "%s", why);
        else {
            s_problem (r->result, r->row, field, raw, "the mapping's default: %s", why);
            r->bad = true;
        }
    }
}

//  Fill the currency of every amount of msg that has none given.
static void s_fill_currency (ProtobufCMessage *msg, const char *currency)
{
    const ProtobufCMessageDescriptor *desc = msg->descriptor;
    for (unsigned i = 0; i < desc->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &desc->fields[i];
        if (f->type != PROTOBUF_C_TYPE_MESSAGE || f->label == PROTOBUF_C_LABEL_REPEATED ||
            (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF))
            continue;
        ProtobufCMessage *sub = *(ProtobufCMessage **)((char *)msg + f->offset);
        if (!sub)
            continue;
        if (sub->descriptor == &pmo__money__descriptor)
            ((Pmo__Money *)sub)->currency = (char *)currency;
        else
            s_fill_currency (sub, currency);
    }
}

//  Drop sub-messages that hold nothing, so that a record compares equal
//  to itself however its empty parts were built.
static void s_normalize (ProtobufCMessage *msg)
{
    const ProtobufCMessageDescriptor *desc = msg->descriptor;
    for (unsigned i = 0; i < desc->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &desc->fields[i];
        if (f->type != PROTOBUF_C_TYPE_MESSAGE || f->label == PROTOBUF_C_LABEL_REPEATED ||
            (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF))
            continue;
        ProtobufCMessage **slot = (ProtobufCMessage **)((char *)msg + f->offset);
        if (!*slot)
            continue;
        s_normalize (*slot);
        if (protobuf_c_message_get_packed_size (*slot) == 0)
            *slot = NULL;
    }
}

static bool s_same (pmo_arena_t *arena, ProtobufCMessage *a, ProtobufCMessage *b)
{
    s_normalize (a);
    s_normalize (b);
    size_t na, nb;
    uint8_t *pa = pmo_reflect_pack (a, arena, &na);
    uint8_t *pb = pmo_reflect_pack (b, arena, &nb);
    return na == nb && memcmp (pa, pb, na) == 0;
}

//  Fill target from the row: every mapped column, then (for new records)
//  the defaults of fields the row left blank.
static void s_convert (row_t *r, target_t *t, bool creating)
{
    const portio_import_mapping_t *map = r->map;
    r->creating = creating;
    for (size_t i = 0; i < map->n_columns; i++) {
        const map_column_t *col = &map->columns[i];
        if (col->create_only && !creating)
            continue;
        char buf[TEMPLATE_MAX];
        const char *raw;
        if (col->tmpl) {
            if (s_expand (r, col, buf, sizeof buf))
                continue;
            raw = buf;
        } else {
            if (col->index < 0)
                continue; //  a column this file does not have (partial mappings)
            raw = s_cell (r, col->index);
            if (col->transform) {
                s_transform (col->transform, raw, buf, sizeof buf);
                raw = buf;
            }
        }
        s_apply (r, col, col->field, raw, t);
    }
    //  A report carried by a row is a new record each time: its defaults always apply
    if (map->defaults) {
        const char *field;
        json_t *value;
        json_object_foreach (map->defaults, field, value)
        {
            //  A default fills what the row left empty
            //  (on an update too when the file has the column but the row leaves it
            //  blank, so that importing a file again gives what the first import did)
            bool given = false, blank_column = false;
            for (size_t i = 0; i < map->n_columns; i++) {
                const map_column_t *col = &map->columns[i];
                if (strcmp (col->field, field) == 0 && !portio_csv_blank (s_cell (r, col->index)) &&
                    !(col->column && portio_csv_withheld (s_cell (r, col->index))))
                    given = given || col->column;
                else if (strcmp (col->field, field) == 0 && col->column && col->index >= 0 &&
                         !col->create_only)
                    blank_column = true;
            }
            if (!given && (creating || blank_column || strncmp (field, "report.", 7) == 0))
                s_apply (r, NULL, field, json_string_value (value), t);
        }
    }
    const char *currency = t->currency ? t->currency : NULL;
    if (currency)
        s_fill_currency (t->entity, currency);
}

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

static char s_ambiguous; //  the marker of an external id held by several projects

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
                s_reply_error (reply, im->why, sizeof im->why);
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
                zhashx_update (im->by_xid, p->external_id, &s_ambiguous);
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
        s_problem (im->result, r->row, column, id,
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
    const char *name = s_mapped (map->ou_names, id);
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

static const char *s_column_of (const portio_import_mapping_t *map, const char *field)
{
    for (size_t i = 0; i < map->n_columns; i++)
        if (strcmp (map->columns[i].field, field) == 0)
            return s_column_name (&map->columns[i]);
    return field;
}

//  Make a derived code unique in its division: CODE, CODE-2, CODE-3 ...
static const char *s_unique_code (import_t *im, const char *division, const char *code)
{
    char candidate[40];
    snprintf (candidate, sizeof candidate, "%s", code);
    for (int n = 2; n < 1000; n++) {
        char *key = s_key2 (im->arena, division, candidate);
        if (!zhashx_lookup (im->by_code, key) && !zhashx_lookup (im->codes_used, key))
            break;
        snprintf (candidate, sizeof candidate, "%.28s-%d", code, n);
    }
    return pmo_arena_strdup (im->arena, candidate);
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
    size_t withheld = im->result->withheld;
    s_convert (r, &probe, true);
    Pmo__Project *first = (Pmo__Project *)probe.entity;
    if (pmo_str_empty (first->org_unit)) {
        if (!r->bad)
            s_problem (im->result, r->row, s_column_of (map, "org_unit"), "",
                       "the org unit is required");
        r->bad = true;
        return;
    }
    Pmo__OrgUnit *unit = s_row_unit (im, r, first->org_unit, s_column_of (map, "org_unit"));
    if (!unit)
        return;
    plan->division = unit->division;
    Pmo__Project *existing = NULL;
    bool by_xid = strcmp (map->key, "external_id") == 0;
    if (by_xid) {
        if (pmo_str_empty (first->external_id)) {
            s_problem (im->result, r->row, s_column_of (map, "external_id"), "",
                       "the key (external_id) is required");
            r->bad = true;
            return;
        }
        existing = zhashx_lookup (im->by_xid, first->external_id);
        if (existing == (void *)&s_ambiguous) {
            s_problem (im->result, r->row, s_column_of (map, "external_id"), first->external_id,
                       "several projects have this external id: make them unique first");
            r->bad = true;
            return;
        }
    } else if (!pmo_str_empty (first->code))
        existing = zhashx_lookup (im->by_code, s_key2 (arena, unit->division, first->code));
    if (existing && strcmp (existing->division, unit->division) != 0) {
        s_problem (im->result, r->row, s_column_of (map, "org_unit"), first->org_unit,
                   "project %s is in division '%s': a project moves only within its division",
                   existing->code, existing->division);
        r->bad = true;
        return;
    }
    //  Second pass: over a copy of what exists (unmapped fields are kept)
    Pmo__Project *desired = first;
    if (existing) {
        im->result->n_problems = problems; //  the problems come again
        im->result->withheld = withheld;
        r->bad = had_bad;
        target_t t = {0};
        t.entity = pmo_reflect_copy (&existing->base, arena);
        s_convert (r, &t, false);
        desired = (Pmo__Project *)t.entity;
        probe = t;
    } else {
        //  A derived code: unique in its division, among this file's rows too
        for (size_t i = 0; i < map->n_columns; i++)
            if (strcmp (map->columns[i].field, "code") == 0 && map->columns[i].unique)
                desired->code = (char *)s_unique_code (im, unit->division, desired->code);
    }
    if (r->bad)
        return;
    plan->create = !existing;
    plan->existing = existing ? &existing->base : NULL;
    plan->entity = &desired->base;
    plan->project_code = desired->code;
    char *key = s_key2 (arena, unit->division, desired->code);
    if (zhashx_lookup (im->codes_used, key)) {
        s_problem (im->result, r->row, s_column_of (map, "code"), desired->code,
                   "another row of this file has the same code in division '%s'", unit->division);
        r->bad = true;
        return;
    }
    zhashx_insert (im->codes_used, key, (void *)1);
    if (existing) {
        plan->id = existing->id;
        desired->version = existing->version;
        plan->unchanged = s_same (arena, pmo_reflect_copy (&desired->base, arena),
                                  pmo_reflect_copy (&existing->base, arena));
    }
    //  The status report the row carries
    Pmo__StatusReport *report = probe.report;
    if (report && probe.report_touched) {
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
                s_problem (im->result, r->row, "", "", "%s", im->why);
                r->bad = true;
                return;
            }
            if (n)
                for (size_t i = 0; i < n; i++) {
                    Pmo__StatusReport *old = (Pmo__StatusReport *)reports[i];
                    if (strcmp (old->period_end, report->period_end) != 0)
                        continue;
                    Pmo__StatusReport *mine =
                        (Pmo__StatusReport *)pmo_reflect_copy (&old->base, arena);
                    mine->overall = report->overall, mine->schedule = report->schedule;
                    mine->cost = report->cost, mine->scope = report->scope;
                    mine->resources = report->resources;
                    mine->percent_complete = report->percent_complete;
                    mine->narrative = report->narrative;
                    mine->pv_minor = report->pv_minor, mine->ev_minor = report->ev_minor;
                    mine->ac_minor = report->ac_minor, mine->has_ac = report->has_ac;
                    if (!s_same (arena, &mine->base, pmo_reflect_copy (&old->base, arena))) {
                        s_problem (im->result, r->row, s_column_of (map, "report.overall"), "",
                                   "project %s already has a status report for %s that says "
                                   "otherwise; reports are a permanent record: give another "
                                   "period",
                                   existing->code, report->period_end);
                        r->bad = true;
                    }
                    return; //  the same report: nothing to do
                }
        }
        report->project_id = existing ? existing->id : "";
        plan->report = report;
    }
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
    s_convert (r, &t, true);
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
                    s_problem (im->result, r->row, s_column_of (map, "project_code"),
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
        s_problem (im->result, r->row,
                   s_column_of (map, pmo_str_empty (id) ? "project_code" : "project_id"), shown,
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
        s_problem (im->result, r->row, "", "", "%s", im->why);
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
        s_problem (im->result, r->row, s_column_of (map, key_field), key,
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
    s_convert (r, &again, false);
    plan->existing = existing;
    plan->entity = again.entity;
    plan->id = pmo_reflect_str (existing, "id");
    pmo_reflect_set_u64 (again.entity, "version", pmo_reflect_u64 (existing, "version"));
    plan->unchanged =
        s_same (arena, pmo_reflect_copy (again.entity, arena), pmo_reflect_copy (existing, arena));
    if (!plan->unchanged && report) {
        s_problem (im->result, r->row, s_column_of (map, "overall"), "",
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
    s_convert (r, &t, true);
    if (r->bad)
        return;
    Pmo__OrgUnit *unit = (Pmo__OrgUnit *)t.entity;
    plan->division = im->hub;
    Pmo__OrgUnit *existing = zhashx_lookup (im->units, unit->id);
    if (zhashx_lookup (im->codes_used, unit->id)) {
        s_problem (im->result, r->row, s_column_of (im->map, "id"), unit->id,
                   "another row of this file has the same id");
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
    s_convert (r, &again, false);
    Pmo__OrgUnit *desired = (Pmo__OrgUnit *)again.entity;
    plan->existing = &existing->base;
    plan->entity = again.entity;
    plan->id = existing->id;
    desired->version = existing->version;
    plan->unchanged = s_same (arena, pmo_reflect_copy (again.entity, arena),
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
            s_problem (im->result, 1, "", im->plan_units[i]->id, "creating org unit '%s': %s",
                       im->plan_units[i]->id, res->error->message);
            continue;
        }
        plan_t *plan = &im->plans[p];
        const char *column =
            *field ? s_column_of (im->map, b->is_report[i]
                                               ? pmo_arena_printf (im->arena, "report.%s", field)
                                               : field)
                   : "";
        const char *value = "";
        for (size_t c = 0; c < im->map->n_columns; c++)
            if (strcmp (s_column_name (&im->map->columns[c]), column) == 0 &&
                im->map->columns[c].column)
                value =
                    im->csv->records[plan->record].n_fields > (size_t)im->map->columns[c].index &&
                            im->map->columns[c].index >= 0
                        ? im->csv->records[plan->record].fields[im->map->columns[c].index]
                        : "";
        s_problem (im->result, plan->row, column, value, "%s%s",
                   b->is_report[i] ? "status report: " : "", res->error->message);
        plan->bad = true;
    }
}

static int s_fail (import_t *im, const char *format, ...) __attribute__ ((format (printf, 2, 3)));
static int s_fail (import_t *im, const char *format, ...)
{
    va_list args;
    va_start (args, format);
    portio_import_failv (im->result, im->arena, format, args);
    va_end (args);
    return -1;
}

static int s_run (import_t *im, const void *data, size_t size)
{
    portio_import_result_t *result = im->result;
    const portio_import_mapping_t *map = im->map;
    if (portio_import_open_csv (im->arena, map, data, size, result, &im->csv))
        return -1;
    portio_csv_t *csv = im->csv;
    portio_csv_record_t *header = &csv->records[0];
    if (s_load_state (im))
        return s_fail (im, "%s", im->why);

    //  Plan every row
    im->plans = pmo_arena_alloc (im->arena, csv->n_records * sizeof (plan_t));
    result->row_results =
        pmo_arena_alloc (im->arena, csv->n_records * sizeof (portio_import_row_t));
    for (size_t i = 1; i < csv->n_records; i++) {
        portio_csv_record_t *record = &csv->records[i];
        plan_t *plan = &im->plans[im->n_plans];
        portio_import_row_t *out = &result->row_results[result->n_rows++];
        out->row = plan->row = i + 1;
        if (portio_import_blank_row (record)) {
            out->action = PORTIO_IMPORT_ROW_BLANK;
            continue;
        }
        im->n_plans++;
        plan->record = i;
        result->rows++;
        row_t r = {.map = map,
                   .arena = im->arena,
                   .result = result,
                   .header = header,
                   .record = record,
                   .row = i + 1};
        r.bad = portio_import_record_bad (result, header, record, r.row);
        if (!r.bad) {
            switch (map->entity->kind) {
            case PMO__ENTITY_KIND__ENTITY_KIND_PROJECT:
                s_plan_project (im, &r, plan);
                break;
            case PMO__ENTITY_KIND__ENTITY_KIND_ORG_UNIT:
                s_plan_org_unit (im, &r, plan);
                break;
            default:
                s_plan_child (im, &r, plan);
                break;
            }
        }
        plan->bad = r.bad;
    }
    //  Check every batch with the registry before writing any
    size_t n_batches;
    batch_t *batches = s_batches (im, &n_batches);
    for (size_t i = 0; i < n_batches; i++) {
        Pmo__RegistryReply *reply = s_send (im, &batches[i], true);
        if (!reply)
            return s_fail (im, "%s", im->why);
        if (reply->error && reply->body_case != PMO__REGISTRY_REPLY__BODY_IMPORT_BATCH) {
            s_reply_error (reply, im->why, sizeof im->why);
            protobuf_c_message_free_unpacked (&reply->base, NULL);
            return s_fail (im, "the registry refused the check: %s", im->why);
        }
        s_item_problems (im, &batches[i], reply->import_batch);
        protobuf_c_message_free_unpacked (&reply->base, NULL);
    }
    //  The tally of what would be done
    for (size_t p = 0, k = 0; k < result->n_rows; k++) {
        portio_import_row_t *out = &result->row_results[k];
        if (out->action == PORTIO_IMPORT_ROW_BLANK)
            continue;
        plan_t *plan = &im->plans[p++];
        out->id = plan->id;
        if (plan->bad) {
            out->action = PORTIO_IMPORT_ROW_BAD;
            result->bad++;
        } else if (plan->unchanged) {
            out->action = PORTIO_IMPORT_ROW_UNCHANGED;
            result->unchanged++;
        } else if (plan->create) {
            out->action = PORTIO_IMPORT_ROW_CREATE;
            result->created++;
        } else {
            out->action = PORTIO_IMPORT_ROW_UPDATE;
            result->updated++;
        }
        if (!plan->bad && plan->report)
            result->reports_created++;
    }
    result->org_units_created = im->n_plan_units;
    if (im->options->dry_run)
        return 0;
    if (result->bad && !im->options->skip_bad)
        return s_fail (im, "%zu of %zu rows have problems; nothing was written (all or nothing)",
                       result->bad, result->rows);
    //  Write: batches again without the rows that failed their check
    batches = s_batches (im, &n_batches);
    for (size_t i = 0; i < n_batches; i++) {
        batch_t *b = &batches[i];
        if (b->n == 0)
            continue;
        Pmo__RegistryReply *reply = s_send (im, b, false);
        if (!reply)
            return s_fail (im,
                           "%s (batch %zu of %zu; the batches before it were written: run the "
                           "same import again to complete it)",
                           im->why, i + 1, n_batches);
        const Pmo__ImportBatchReply *out = reply->import_batch;
        if (reply->error || !out || !out->committed) {
            if (out)
                s_item_problems (im, b, out);
            if (reply->error)
                s_reply_error (reply, im->why, sizeof im->why);
            protobuf_c_message_free_unpacked (&reply->base, NULL);
            return s_fail (im, "batch %zu of %zu (division '%s') was not written: %s%s", i + 1,
                           n_batches, b->division, reply->error ? im->why : "refused",
                           i ? "; the batches before it were: run the same import again to "
                               "complete it"
                             : "");
        }
        result->written = true;
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
        protobuf_c_message_free_unpacked (&reply->base, NULL);
    }
    for (size_t p = 0, k = 0; k < result->n_rows; k++) {
        portio_import_row_t *out = &result->row_results[k];
        if (out->action == PORTIO_IMPORT_ROW_BLANK)
            continue;
        plan_t *plan = &im->plans[p++];
        out->id = plan->id;
        out->written = plan->written;
        if (plan->bad && out->action != PORTIO_IMPORT_ROW_BAD) {
            //  Refused at the commit (skip-bad): count it as bad now
            if (out->action == PORTIO_IMPORT_ROW_CREATE)
                result->created--;
            else if (out->action == PORTIO_IMPORT_ROW_UPDATE)
                result->updated--;
            out->action = PORTIO_IMPORT_ROW_BAD;
            result->bad++;
        }
    }
    return 0;
}

int portio_import_run (const portio_import_options_t *options,
                       const portio_import_mapping_t *mapping, const void *data, size_t size,
                       portio_import_result_t **result_p)
{
    pmo_arena_t *arena = pmo_arena_new ();
    portio_import_result_t *result = pmo_arena_alloc (arena, sizeof (portio_import_result_t));
    result->arena = arena;
    result->entity = mapping->entity->name;
    result->dry_run = options->dry_run;
    *result_p = result;
    import_t im = {.options = options,
                   .map = mapping,
                   .result = result,
                   .arena = arena,
                   .hub = options->hub ? options->hub : "hub"};
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
    char delimiter[3] = {self->delimiter == '\t' ? '\\' : self->delimiter,
                         self->delimiter == '\t' ? 't' : 0, 0};
    return json_pack ("{s:s, s:s, s:s, s:b, s:b, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:s?, "
                      "s:o, s:o}",
                      "entity", self->entity, "encoding", self->encoding ? self->encoding : "",
                      "delimiter", delimiter, "dry_run", self->dry_run, "written", self->written,
                      "rows", (json_int_t)self->rows, "created", (json_int_t)self->created,
                      "updated", (json_int_t)self->updated, "unchanged",
                      (json_int_t)self->unchanged, "bad", (json_int_t)self->bad, "reports_created",
                      (json_int_t)self->reports_created, "org_units_created",
                      (json_int_t)self->org_units_created, "withheld", (json_int_t)self->withheld,
                      "error", self->error, "problems", problems, "rows_detail", rows);
}

//  ---------------------------------------------------------------------
//  Export

//  A field's value as a cell, in the form the native mapping reads back.
static const char *s_format (pmo_arena_t *arena, const ProtobufCMessage *msg, const char *path)
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
                const char *inner = s_format (arena, sub, "currency");
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
    case PROTOBUF_C_TYPE_INT64: {
        int64_t minor = *(const int64_t *)slot;
        if (strcmp (f->name, "ac_minor") == 0 &&
            owner->descriptor == &pmo__status_report__descriptor &&
            !((const Pmo__StatusReport *)owner)->has_ac)
            return "";
        return pmo_arena_strdup (arena, portio_csv_format_minor (minor, 2, buf, sizeof buf));
    }
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

int portio_export (const portio_import_peer_t *peer, const char *entity_name, const char *org_unit,
                   bool bom, char **csv, size_t *size, char *why, size_t why_size)
{
    const entity_t *entity = s_entity (entity_name);
    const char *const *fields = entity_name ? s_native_fields (entity_name) : NULL;
    if (!entity || !fields) {
        snprintf (why, why_size,
                  "'%s' is not one of org_unit, project, milestone, status_report, resource, "
                  "allocation, risk, issue",
                  entity_name ? entity_name : "");
        return -1;
    }
    if (entity->service != PORTIO_IMPORT_REGISTRY)
        return portio_import_svc_export (peer, entity, org_unit, bom, csv, size, why, why_size);
    pmo_arena_t *arena = pmo_arena_new ();
    ProtobufCMessage **items;
    size_t n;
    int rc = 0;
    bool of_project = entity->kind == PMO__ENTITY_KIND__ENTITY_KIND_MILESTONE ||
                      entity->kind == PMO__ENTITY_KIND__ENTITY_KIND_STATUS_REPORT;
    //  Milestones and reports are listed project by project
    if (of_project) {
        ProtobufCMessage **projects;
        size_t n_projects;
        rc = portio_import_list (peer, arena, PMO__ENTITY_KIND__ENTITY_KIND_PROJECT, org_unit, NULL,
                                 false, &projects, &n_projects, why, why_size);
        size_t max = 0;
        n = 0;
        items = NULL;
        for (size_t i = 0; i < n_projects && rc == 0; i++) {
            ProtobufCMessage **some;
            size_t got;
            rc = portio_import_list (peer, arena, entity->kind, "",
                                     pmo_reflect_str (projects[i], "id"), false, &some, &got, why,
                                     why_size);
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
    } else
        rc = portio_import_list (peer, arena, entity->kind,
                                 entity->kind == PMO__ENTITY_KIND__ENTITY_KIND_ORG_UNIT ? ""
                                                                                        : org_unit,
                                 NULL, false, &items, &n, why, why_size);
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
            portio_csv_writer_field (writer, s_format (arena, items[i], fields[f]));
        portio_csv_writer_end_row (writer);
    }
    size_t len;
    const char *data = portio_csv_writer_data (writer, &len);
    *csv = malloc (len + 1);
    assert (*csv);
    memcpy (*csv, data, len + 1);
    if (size)
        *size = len;
    portio_csv_writer_destroy (&writer);
    pmo_arena_destroy (&arena);
    return 0;
}

//  ---------------------------------------------------------------------
//  Shared with portio_import_svc.c (portio_import_internal.h)

void portio_import_problem (portio_import_result_t *result, size_t row, const char *column,
                            const char *value, const char *reason)
{
    s_problem (result, row, column, value, "%s", reason);
}

void portio_import_convert (row_t *r, target_t *t, bool creating)
{
    s_convert (r, t, creating);
}

bool portio_import_same (pmo_arena_t *arena, ProtobufCMessage *a, ProtobufCMessage *b)
{
    return s_same (arena, a, b);
}

const char *portio_import_column_of (const portio_import_mapping_t *map, const char *field)
{
    return s_column_of (map, field);
}

const char *portio_import_cell (pmo_arena_t *arena, const ProtobufCMessage *msg, const char *path)
{
    return s_format (arena, msg, path);
}

const char *const *portio_import_native_fields (const char *entity)
{
    return entity ? s_native_fields (entity) : NULL;
}

int portio_import_header_index (const portio_csv_record_t *header, const char *name)
{
    return s_header_index (header, name, strlen (name));
}

int portio_import_failv (portio_import_result_t *result, pmo_arena_t *arena, const char *format,
                         va_list args)
{
    char text[700];
    vsnprintf (text, sizeof text, format, args);
    if (!result->error)
        result->error = pmo_arena_strdup (arena, text);
    return -1;
}

static int s_failf (portio_import_result_t *result, pmo_arena_t *arena, const char *format, ...)
    __attribute__ ((format (printf, 3, 4)));
static int s_failf (portio_import_result_t *result, pmo_arena_t *arena, const char *format, ...)
{
    va_list args;
    va_start (args, format);
    portio_import_failv (result, arena, format, args);
    va_end (args);
    return -1;
}

int portio_import_open_csv (pmo_arena_t *arena, const portio_import_mapping_t *map,
                            const void *data, size_t size, portio_import_result_t *result,
                            portio_csv_t **csv_p)
{
    portio_csv_t *csv = *csv_p = portio_csv_parse (data, size, &map->csv, arena);
    result->encoding = portio_csv_encoding_name (csv->encoding);
    result->delimiter = csv->delimiter;
    if (csv->problem)
        return s_failf (result, arena, "%s", csv->problem);
    if (csv->n_records == 0 || csv->records[0].n_fields == 0)
        return s_failf (result, arena, "the file is empty: a header row is expected");
    portio_csv_record_t *header = &csv->records[0];
    if (header->problem)
        return s_failf (result, arena, "the header row cannot be read: %s", header->problem);
    //  Every mapped column must be in the file
    bool missing = false;
    for (size_t i = 0; i < map->n_columns; i++) {
        map_column_t *column = &map->columns[i];
        column->index = column->column ? portio_import_header_index (header, column->column) : -1;
        if (column->column && column->index < 0 && !map->partial) {
            s_problem (result, 1, column->column, "",
                       "the file has no such column (its header is row 1)");
            missing = true;
        }
    }
    if (missing)
        return s_failf (result, arena, "the file lacks columns the mapping names");
    return 0;
}

bool portio_import_blank_row (const portio_csv_record_t *record)
{
    return record->n_fields == 0 ||
           (record->n_fields == 1 && portio_csv_blank (record->fields[0]) && !record->problem);
}

bool portio_import_record_bad (portio_import_result_t *result, const portio_csv_record_t *header,
                               const portio_csv_record_t *record, size_t row)
{
    if (record->problem) {
        const char *column = record->problem_field && record->problem_field <= header->n_fields
                                 ? header->fields[record->problem_field - 1]
                                 : "";
        const char *value = record->problem_field && record->problem_field <= record->n_fields
                                ? record->fields[record->problem_field - 1]
                                : "";
        s_problem (result, row, column, value, "%s", record->problem);
        return true;
    }
    if (record->n_fields != header->n_fields) {
        s_problem (result, row, "", "",
                   "the row has %zu cells but the header has %zu (a delimiter too many or too "
                   "few, or a broken quote above)",
                   record->n_fields, header->n_fields);
        return true;
    }
    return false;
}
