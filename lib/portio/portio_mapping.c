/*  portio_mapping.c: mappings (which file column fills which field of which
    entity, and how its cells read) and the native format each entity is
    exported in and imported back from. See portio_import.h.
*/
#include "portio_import.h"
#include "portio_internal.h"

#include "allocator.pb-c.h"
#include "planner.pb-c.h"
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
    //  Kept by the other services: portio_import_svc.c imports them
    {"resource", &pmo__resource__descriptor, NULL, NULL, PMO__ENTITY_KIND__ENTITY_KIND_UNSPECIFIED,
     PORTIO_IMPORT_ALLOCATOR},
    {"allocation", &pmo__allocation__descriptor, NULL, NULL,
     PMO__ENTITY_KIND__ENTITY_KIND_UNSPECIFIED, PORTIO_IMPORT_ALLOCATOR},
    {"risk", &pmo__risk__descriptor, NULL, NULL, PMO__ENTITY_KIND__ENTITY_KIND_UNSPECIFIED,
     PORTIO_IMPORT_RISKMON},
    {"issue", &pmo__issue__descriptor, NULL, NULL, PMO__ENTITY_KIND__ENTITY_KIND_UNSPECIFIED,
     PORTIO_IMPORT_RISKMON},
    {"change_request", &pmo__change_request__descriptor, NULL, NULL,
     PMO__ENTITY_KIND__ENTITY_KIND_UNSPECIFIED, PORTIO_IMPORT_RISKMON},
    //  Assumptions, decisions and dependencies: one register, a kind column
    {"raid", &pmo__raid_entry__descriptor, NULL, NULL, PMO__ENTITY_KIND__ENTITY_KIND_UNSPECIFIED,
     PORTIO_IMPORT_RISKMON},
    //  The benefits register: portio_import_benefit.c
    {"benefit", &pmo__benefit__descriptor, NULL, NULL, PMO__ENTITY_KIND__ENTITY_KIND_UNSPECIFIED,
     PORTIO_IMPORT_PLANNER},
};

const entity_t *portio_import_entity (const char *name)
{
    for (size_t i = 0; i < sizeof s_entities / sizeof s_entities[0]; i++)
        if (name && strcmp (s_entities[i].name, name) == 0)
            return &s_entities[i];
    return NULL;
}

bool portio_import_mapping_entity_known (const char *entity)
{
    return portio_import_entity (entity) != NULL;
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
    for (size_t i = 0; i < self->n_columns; i++) {
        free (self->columns[i].first_of);
        free (self->columns[i].first_of_name);
        free (self->columns[i].indexes);
    }
    free (self->columns);
    free (self->markers);
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
    //  a benefit's profile is one cell ("2027-04: 1200; 2028-04: 2500")
    if (entity->service != PORTIO_IMPORT_REGISTRY &&
        (strcmp (field, "id") == 0 ||
         (entity->desc == &pmo__resource__descriptor && strcmp (field, "skills") == 0) ||
         (entity->desc == &pmo__benefit__descriptor && strcmp (field, "profile") == 0)))
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

//  Any key of object not in known (NULL-terminated): its name, else NULL.
static const char *s_unknown_key (json_t *object, const char *const *known)
{
    const char *name;
    json_t *value;
    json_object_foreach (object, name, value)
    {
        bool ok = false;
        for (size_t i = 0; known[i]; i++)
            ok = ok || strcmp (name, known[i]) == 0;
        if (!ok)
            return name;
    }
    return NULL;
}

//  A step of loading a mapping: 0, or -1 with why set.
#define BAD(...)                                                                                   \
    do {                                                                                           \
        snprintf (why, why_size, __VA_ARGS__);                                                     \
        return -1;                                                                                 \
    } while (0)

//  The settings of how the file reads: entity, encoding, delimiter, dates,
//  amounts and the projects' key.
static int s_load_settings (portio_import_mapping_t *self, json_t *root, char *why, size_t why_size)
{
    self->entity = portio_import_entity (s_str (root, "entity", "project"));
    if (!self->entity)
        BAD ("entity must be org_unit, project, milestone, status_report, resource, allocation, "
             "risk, issue, change_request, raid or benefit");
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
    //  Unset, an amount that reads two ways is a problem rather than a guess
    json_t *comma = json_object_get (root, "decimal_comma");
    if (comma && !json_is_boolean (comma))
        BAD ("decimal_comma is true (1.234,56) or false (1,234.56)");
    self->decimal = !comma                 ? PORTIO_CSV_DECIMAL_AUTO
                    : json_is_true (comma) ? PORTIO_CSV_DECIMAL_COMMA
                                           : PORTIO_CSV_DECIMAL_POINT;
    self->currency = s_str (root, "currency", "GBP");
    if (strlen (self->currency) != 3)
        BAD ("currency is an ISO 4217 code such as GBP");
    self->key = s_str (root, "key", "code");
    if (strcmp (self->key, "code") && strcmp (self->key, "external_id"))
        BAD ("key is code or external_id");
    return 0;
}

//  The org units a file names that the import creates, and the defaults.
static int s_load_org_units (portio_import_mapping_t *self, json_t *root, char *why,
                             size_t why_size)
{
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
    const char *name;
    json_t *value;
    json_object_foreach (self->defaults, name, value)
    {
        if (!json_is_string (value) || !s_field_ok (self->entity, name))
            BAD ("defaults.%s: not a field of %s that takes a text value", name,
                 self->entity->name);
    }
    return 0;
}

//  The mapping's "blank" and "withheld" markers: lists of cell texts, each
//  exact or a prefix ending in '*'.
#define MARKERS_MAX 64
static int s_load_markers (portio_import_mapping_t *self, json_t *root, char *why, size_t why_size)
{
    static const char *kinds[] = {"blank", "withheld"};
    size_t total = 0;
    for (size_t k = 0; k < 2; k++) {
        json_t *list = json_object_get (root, kinds[k]);
        if (list && !json_is_array (list))
            BAD ("%s is a list of cell texts, e.g. [\"TBC\", \"Early planning*\"]", kinds[k]);
        total += json_array_size (list);
    }
    if (total > MARKERS_MAX)
        BAD ("blank and withheld hold %d markers at most", MARKERS_MAX);
    self->markers = calloc (total ? total : 1, sizeof (map_marker_t));
    assert (self->markers);
    for (size_t k = 0; k < 2; k++) {
        json_t *list = json_object_get (root, kinds[k]);
        size_t i;
        json_t *item;
        json_array_foreach (list, i, item)
        {
            const char *text = json_string_value (item);
            if (!text || !*text || strcmp (text, "*") == 0 || strlen (text) > 200)
                BAD ("%s[%zu] is a cell text (exact, or a prefix ending in '*')", kinds[k], i);
            map_marker_t *m = &self->markers[self->n_markers++];
            m->pattern = text;
            m->length = strlen (text);
            m->prefix = text[m->length - 1] == '*';
            if (m->prefix)
                m->length--;
            m->withheld = k == 1;
        }
    }
    return 0;
}

//  A first_of column: the list of columns and its name for problems.
static int s_load_first_of (map_column_t *col, size_t i, json_t *list, char *why, size_t why_size)
{
    if (!json_is_array (list) || json_array_size (list) < 2 || json_array_size (list) > 16)
        BAD ("columns[%zu].first_of is a list of 2 to 16 columns", i);
    col->n_first_of = json_array_size (list);
    col->first_of = calloc (col->n_first_of, sizeof (char *));
    col->indexes = calloc (col->n_first_of, sizeof (int));
    assert (col->first_of && col->indexes);
    size_t length = 1;
    for (size_t j = 0; j < col->n_first_of; j++) {
        col->first_of[j] = json_string_value (json_array_get (list, j));
        if (!col->first_of[j] || !*col->first_of[j])
            BAD ("columns[%zu].first_of[%zu] is a column's name", i, j);
        length += strlen (col->first_of[j]) + 3;
    }
    col->first_of_name = calloc (1, length);
    assert (col->first_of_name);
    for (size_t j = 0; j < col->n_first_of; j++) {
        if (j)
            strcat (col->first_of_name, " / ");
        strcat (col->first_of_name, col->first_of[j]);
    }
    return 0;
}

//  Mapped column i from its JSON object c.
static int s_load_column (portio_import_mapping_t *self, size_t i, json_t *c, char *why,
                          size_t why_size)
{
    static const char *keys[] = {"column",    "template", "first_of", "field",
                                 "transform", "values",   "scale",    "create_only",
                                 "unique",    "required", "comment",  NULL};
    map_column_t *col = &self->columns[i];
    if (!json_is_object (c))
        BAD ("columns[%zu] is not an object", i);
    const char *unknown = s_unknown_key (c, keys);
    if (unknown)
        BAD ("columns[%zu] has an unknown key '%s'", i, unknown);
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
    json_t *first_of = json_object_get (c, "first_of");
    if ((col->column != NULL) + (col->tmpl != NULL) + (first_of != NULL) != 1)
        BAD ("columns[%zu] needs one of \"column\", \"template\" or \"first_of\"", i);
    if (first_of && s_load_first_of (col, i, first_of, why, why_size))
        return -1;
    if (!col->field || !s_field_ok (self->entity, col->field))
        BAD ("columns[%zu].field '%s' is not a field of %s", i, col->field ? col->field : "",
             self->entity->name);
    if (col->values && !json_is_object (col->values))
        BAD ("columns[%zu].values is an object: text -> value", i);
    if (scale && (!json_is_integer (scale) || col->scale < 1))
        BAD ("columns[%zu].scale is a whole number such as 1000000", i);
    if (col->transform && strcmp (col->transform, "upper") && strcmp (col->transform, "lower") &&
        strcmp (col->transform, "slug") && strcmp (col->transform, "acronym") &&
        strcmp (col->transform, "trim"))
        BAD ("columns[%zu].transform is upper, lower, slug, acronym or trim", i);
    return 0;
}

static int s_load (portio_import_mapping_t *self, json_t *root, char *why, size_t why_size)
{
    static const char *known[] = {
        "entity",        "encoding", "delimiter",  "date_order", "two_digit_year_pivot",
        "decimal_comma", "currency", "key",        "org_units",  "columns",
        "defaults",      "comment",
        "org_unit", //  whose it is, on the gateway
        "blank",         "withheld", "skip_blank", NULL};
    if (!json_is_object (root))
        BAD ("the mapping is not a JSON object");
    const char *unknown = s_unknown_key (root, known);
    if (unknown)
        BAD ("the mapping has an unknown key '%s'", unknown);
    if (s_load_settings (self, root, why, why_size) ||
        s_load_org_units (self, root, why, why_size) || s_load_markers (self, root, why, why_size))
        return -1;
    json_t *columns = json_object_get (root, "columns");
    if (!json_is_array (columns) || json_array_size (columns) == 0)
        BAD ("columns is a list of {\"column\": ..., \"field\": ...}");
    self->n_columns = json_array_size (columns);
    self->columns = calloc (self->n_columns, sizeof (map_column_t));
    assert (self->columns);
    for (size_t i = 0; i < self->n_columns; i++)
        if (s_load_column (self, i, json_array_get (columns, i), why, why_size))
            return -1;
    //  A project file's rows without a benefits figure make no benefit
    json_t *skip = json_object_get (root, "skip_blank");
    if (skip) {
        self->skip_blank = json_string_value (skip);
        bool mapped = false;
        for (size_t i = 0; self->skip_blank && i < self->n_columns; i++)
            mapped = mapped || strcmp (self->columns[i].field, self->skip_blank) == 0;
        if (self->entity->service != PORTIO_IMPORT_PLANNER || !mapped)
            BAD ("skip_blank names a field the mapping's columns fill (benefits only), e.g. "
                 "\"target\"");
    }
    return 0;
}
#undef BAD

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
    if (s_load (self, root, why, why_size))
        portio_import_mapping_destroy (&self);
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

static const char *s_native_change[] = {"id",
                                        "project_code",
                                        "project_id",
                                        "title",
                                        "description",
                                        "reason",
                                        "requested_by",
                                        "currency",
                                        "cost_impact",
                                        "schedule_impact_days",
                                        "scope_impact",
                                        "benefits_impact",
                                        "decision",
                                        "decision_note",
                                        "closed",
                                        "issue_id",
                                        NULL};
static const char *s_native_raid[] = {
    "id",     "project_code", "project_id",         "kind",       "title", "description", "owner",
    "status", "due_date",     "depends_on_project", "decided_by", "note",  NULL};

//  The planner's benefits: money in major units (pounds), the profile as
//  "period: value" pairs, the projects by code (and id).
static const char *s_native_benefit[] = {
    "id",           "external_id", "title",         "description",  "org_unit",
    "kind",         "dis_benefit", "owner",         "measure",      "unit",
    "currency",     "baseline",    "target",        "profile",      "status",
    "project_code", "project_ids", "programme_ids", "portfolio_id", NULL};

const char *const *portio_import_native_fields (const char *entity)
{
    if (!entity)
        return NULL;
    if (strcmp (entity, "benefit") == 0)
        return s_native_benefit;
    if (strcmp (entity, "change_request") == 0)
        return s_native_change;
    if (strcmp (entity, "raid") == 0)
        return s_native_raid;
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
    const char *const *fields = entity ? portio_import_native_fields (entity) : NULL;
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
