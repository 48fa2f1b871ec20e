/*  pmoctl_print.c: replies for people and for scripts.

    People get aligned "key: value" blocks and tables. Both are built from
    the message descriptors: keys are the .proto field names (the same keys
    the JSON has), enums are their JSON labels, money reads "GBP 1,250.00"
    and Unix ms times read as UTC ISO 8601. Scripts get one JSON document
    per reply through pmo_json, never these renderings.
*/
#include "pmoctl.h"

#include "pmo_json.h"

#include <assert.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

//  ---------------------------------------------------------------------
//  Values

const char *pmoctl_format_amount (pmo_arena_t *arena, int64_t minor)
{
    //  The magnitude as unsigned so INT64_MIN cannot overflow
    uint64_t magnitude = minor < 0 ? (uint64_t)0 - (uint64_t)minor : (uint64_t)minor;
    char digits[32];
    int n = snprintf (digits, sizeof digits, "%" PRIu64, magnitude / 100);
    char out[48];
    size_t o = 0;
    if (minor < 0)
        out[o++] = '-';
    for (int i = 0; i < n; i++) {
        if (i > 0 && (n - i) % 3 == 0)
            out[o++] = ',';
        out[o++] = digits[i];
    }
    snprintf (out + o, sizeof out - o, ".%02u", (unsigned)(magnitude % 100));
    return pmo_arena_strdup (arena, out);
}

const char *pmoctl_format_money (pmo_arena_t *arena, const Pmo__Money *money)
{
    const char *amount = pmoctl_format_amount (arena, money->minor);
    if (pmo_str_empty (money->currency))
        return amount;
    return pmo_arena_printf (arena, "%s %s", money->currency, amount);
}

const char *pmoctl_format_time (pmo_arena_t *arena, int64_t ms, bool with_ms)
{
    time_t seconds = (time_t)(ms / 1000);
    struct tm tm;
    if (!gmtime_r (&seconds, &tm))
        return pmo_arena_printf (arena, "%" PRId64, ms);
    char text[40];
    strftime (text, sizeof text, "%Y-%m-%dT%H:%M:%S", &tm);
    if (with_ms)
        return pmo_arena_printf (arena, "%s.%03dZ", text, (int)(ms % 1000));
    return pmo_arena_printf (arena, "%sZ", text);
}

const char *pmoctl_format_enum (pmo_arena_t *arena, const ProtobufCEnumDescriptor *desc, int value)
{
    char label[64];
    if (pmo_json_enum_label (desc, value, label, sizeof label))
        return pmo_arena_strdup (arena, label);
    return pmo_arena_printf (arena, "%d", value);
}

const char *pmoctl_enum_choices (pmo_arena_t *arena, const ProtobufCEnumDescriptor *desc)
{
    const char *out = "";
    for (unsigned i = 0; i < desc->n_values; i++) {
        const char *label = pmoctl_format_enum (arena, desc, desc->values[i].value);
        if (strcmp (label, "unspecified") == 0)
            continue;
        out = *out ? pmo_arena_printf (arena, "%s|%s", out, label) : label;
    }
    return out;
}

static bool s_ends_with (const char *s, const char *suffix)
{
    size_t len = strlen (s), slen = strlen (suffix);
    return len >= slen && strcmp (s + len - slen, suffix) == 0;
}

//  Fields ending in _ms that hold a span of time rather than a Unix time
static bool s_duration (const char *name)
{
    static const char *const spans[] = {"retry_after_ms", "behind_ms", "duration_ms"};
    for (size_t i = 0; i < sizeof spans / sizeof spans[0]; i++)
        if (strcmp (name, spans[i]) == 0)
            return true;
    return false;
}

//  One value of a field (an element, for repeated fields) for people.
static const char *s_format_value (pmoctl_t *ctl, const ProtobufCFieldDescriptor *field,
                                   const void *member)
{
    pmo_arena_t *arena = ctl->arena;
    switch (field->type) {
    case PROTOBUF_C_TYPE_STRING: {
        const char *text = *(char *const *)member;
        return text ? text : "";
    }
    case PROTOBUF_C_TYPE_BOOL:
        return *(const protobuf_c_boolean *)member ? "yes" : "no";
    case PROTOBUF_C_TYPE_ENUM:
        return pmoctl_format_enum (arena, field->descriptor, *(const int *)member);
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
        return pmo_arena_printf (arena, "%" PRId32, *(const int32_t *)member);
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        return pmo_arena_printf (arena, "%" PRIu32, *(const uint32_t *)member);
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64: {
        int64_t value = *(const int64_t *)member;
        //  a few *_ms fields are spans, not instants: "20s", "1.5s"
        if (s_duration (field->name))
            return value % 1000 ? pmo_arena_printf (arena, "%.1fs", (double)value / 1000.0)
                                : pmo_arena_printf (arena, "%" PRId64 "s", value / 1000);
        if (s_ends_with (field->name, "_ms") && value > 0)
            return pmoctl_format_time (arena, value, false);
        if (s_ends_with (field->name, "_minor"))
            return pmoctl_format_amount (arena, value);
        return pmo_arena_printf (arena, "%" PRId64, value);
    }
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        return pmo_arena_printf (arena, "%" PRIu64, *(const uint64_t *)member);
    case PROTOBUF_C_TYPE_DOUBLE:
        return pmo_arena_printf (arena, "%.15g", *(const double *)member);
    case PROTOBUF_C_TYPE_FLOAT:
        return pmo_arena_printf (arena, "%.7g", (double)*(const float *)member);
    case PROTOBUF_C_TYPE_MESSAGE: {
        const ProtobufCMessage *sub = *(ProtobufCMessage *const *)member;
        if (!sub)
            return "";
        if (sub->descriptor == &pmo__money__descriptor)
            return pmoctl_format_money (arena, (const Pmo__Money *)sub);
        char *json = pmo_json_encode (sub);
        const char *out = pmo_arena_strdup (arena, json ? json : "?");
        free (json);
        return out;
    }
    default:
        return "?";
    }
}

//  Size of one element of a repeated field's array.
static size_t s_element_size (const ProtobufCFieldDescriptor *field)
{
    switch (field->type) {
    case PROTOBUF_C_TYPE_STRING:
    case PROTOBUF_C_TYPE_MESSAGE:
        return sizeof (void *);
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
    case PROTOBUF_C_TYPE_DOUBLE:
        return 8;
    case PROTOBUF_C_TYPE_BOOL:
        return sizeof (protobuf_c_boolean);
    case PROTOBUF_C_TYPE_BYTES:
        return sizeof (ProtobufCBinaryData);
    default:
        return 4;
    }
}

//  A repeated field's elements joined by ", ".
static const char *s_format_repeated (pmoctl_t *ctl, const ProtobufCMessage *msg,
                                      const ProtobufCFieldDescriptor *field)
{
    size_t n = *(const size_t *)((const char *)msg + field->quantifier_offset);
    const char *base = *(const char *const *)((const char *)msg + field->offset);
    const char *out = "";
    for (size_t i = 0; i < n; i++) {
        const char *item = s_format_value (ctl, field, base + i * s_element_size (field));
        out = i ? pmo_arena_printf (ctl->arena, "%s, %s", out, item) : item;
    }
    return out;
}

static bool s_is_set (const ProtobufCMessage *msg, const ProtobufCFieldDescriptor *field)
{
    if (field->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
        return *(const uint32_t *)((const char *)msg + field->quantifier_offset) == field->id;
    return true;
}

const char *pmoctl_format_field (pmoctl_t *ctl, const ProtobufCMessage *msg, const char *path)
{
    char part[64];
    while (msg) {
        const char *dot = strchr (path, '.');
        size_t len = dot ? (size_t)(dot - path) : strlen (path);
        assert (len < sizeof part);
        memcpy (part, path, len);
        part[len] = 0;
        const ProtobufCFieldDescriptor *field =
            protobuf_c_message_descriptor_get_field_by_name (msg->descriptor, part);
        assert (field); //  column tables name real fields
        if (!s_is_set (msg, field))
            return "";
        if (field->label == PROTOBUF_C_LABEL_REPEATED)
            return s_format_repeated (ctl, msg, field);
        const void *member = (const char *)msg + field->offset;
        if (!dot)
            return s_format_value (ctl, field, member);
        msg = *(ProtobufCMessage *const *)member;
        path = dot + 1;
    }
    return "";
}

//  ---------------------------------------------------------------------
//  Key: value blocks

typedef struct {
    pmo_arena_t *arena;
    const char **keys;
    const char **values;
    size_t count;
    size_t capacity;
} rows_t;

static void s_row (rows_t *rows, const char *key, const char *value)
{
    if (rows->count == rows->capacity) {
        size_t capacity = rows->capacity ? rows->capacity * 2 : 32;
        const char **keys = pmo_arena_alloc (rows->arena, capacity * sizeof (char *));
        const char **values = pmo_arena_alloc (rows->arena, capacity * sizeof (char *));
        if (rows->count) {
            memcpy (keys, rows->keys, rows->count * sizeof (char *));
            memcpy (values, rows->values, rows->count * sizeof (char *));
        }
        rows->keys = keys;
        rows->values = values;
        rows->capacity = capacity;
    }
    rows->keys[rows->count] = key;
    rows->values[rows->count] = value;
    rows->count++;
}

//  "charter, business_case (approvers: pmo_director)"
static const char *s_format_gate (pmoctl_t *ctl, const Pmo__GateRequirement *gate)
{
    const char *artifacts = "no artifacts";
    for (size_t i = 0; i < gate->n_artifacts; i++)
        artifacts = i ? pmo_arena_printf (ctl->arena, "%s, %s", artifacts, gate->artifacts[i])
                      : gate->artifacts[i];
    if (!gate->n_approver_roles)
        return artifacts;
    const char *roles = "";
    for (size_t i = 0; i < gate->n_approver_roles; i++) {
        const char *role =
            pmoctl_format_enum (ctl->arena, &pmo__role__descriptor, gate->approver_roles[i]);
        roles = i ? pmo_arena_printf (ctl->arena, "%s, %s", roles, role) : role;
    }
    return pmo_arena_printf (ctl->arena, "%s (approvers: %s)", artifacts, roles);
}

static void s_collect (pmoctl_t *ctl, rows_t *rows, const ProtobufCMessage *msg, const char *prefix)
{
    const ProtobufCMessageDescriptor *desc = msg->descriptor;
    for (unsigned i = 0; i < desc->n_fields; i++) {
        const ProtobufCFieldDescriptor *field = &desc->fields[i];
        if (!s_is_set (msg, field))
            continue;
        const char *key = pmo_arena_printf (ctl->arena, "%s%s", prefix, field->name);
        const void *member = (const char *)msg + field->offset;
        if (field->label == PROTOBUF_C_LABEL_REPEATED) {
            size_t n = *(const size_t *)((const char *)msg + field->quantifier_offset);
            if (n == 0)
                continue;
            if (field->type != PROTOBUF_C_TYPE_MESSAGE) {
                s_row (rows, key, s_format_repeated (ctl, msg, field));
                continue;
            }
            ProtobufCMessage *const *items = *(ProtobufCMessage *const *const *)member;
            for (size_t k = 0; k < n; k++) {
                if (items[k]->descriptor == &pmo__gate_requirement__descriptor) {
                    const Pmo__GateRequirement *gate = (const Pmo__GateRequirement *)items[k];
                    s_row (rows,
                           pmo_arena_printf (ctl->arena, "%sgate into %s", prefix,
                                             pmoctl_format_enum (
                                                 ctl->arena, &pmo__phase__descriptor, gate->phase)),
                           s_format_gate (ctl, gate));
                } else
                    s_collect (ctl, rows, items[k],
                               pmo_arena_printf (ctl->arena, "%s[%zu].", key, k));
            }
            continue;
        }
        if (field->type == PROTOBUF_C_TYPE_MESSAGE) {
            const ProtobufCMessage *sub = *(ProtobufCMessage *const *)member;
            if (!sub)
                continue;
            if (sub->descriptor == &pmo__money__descriptor)
                s_row (rows, key, pmoctl_format_money (ctl->arena, (const Pmo__Money *)sub));
            else
                s_collect (ctl, rows, sub, pmo_arena_printf (ctl->arena, "%s.", key));
            continue;
        }
        const char *value = s_format_value (ctl, field, member);
        //  Unset text, "unspecified" enums and zero times say nothing
        if (!*value || strcmp (value, "unspecified") == 0 ||
            (s_ends_with (field->name, "_ms") && *(const int64_t *)member == 0))
            continue;
        s_row (rows, key, value);
    }
}

void pmoctl_print_entity (pmoctl_t *ctl, const ProtobufCMessage *msg, FILE *out)
{
    rows_t rows = {.arena = ctl->arena};
    s_collect (ctl, &rows, msg, "");
    size_t width = 0;
    for (size_t i = 0; i < rows.count; i++)
        if (strlen (rows.keys[i]) > width)
            width = strlen (rows.keys[i]);
    for (size_t i = 0; i < rows.count; i++)
        fprintf (out, "%s:%*s %s\n", rows.keys[i], (int)(width - strlen (rows.keys[i])), "",
                 rows.values[i]);
}

int pmoctl_print_json (const ProtobufCMessage *msg)
{
    char *text = pmo_json_encode (msg);
    if (!text) {
        fprintf (stderr, "pmoctl: the reply cannot be written as JSON\n");
        return PMOCTL_REFUSED;
    }
    printf ("%s\n", text);
    free (text);
    return PMOCTL_OK;
}

//  ---------------------------------------------------------------------
//  Tables

struct _pmoctl_table_t {
    pmo_arena_t *arena;
    const pmoctl_column_t *columns;
    size_t n_columns;
    const char ***rows;
    size_t n_rows;
    size_t capacity;
};

//  Columns on a terminal: UTF-8 continuation bytes take none.
static size_t s_width (const char *s)
{
    size_t width = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80)
            width++;
    return width;
}

//  At most max columns, ending in an ellipsis when cut.
static const char *s_truncate (pmo_arena_t *arena, const char *s, size_t max)
{
    if (max == 0 || s_width (s) <= max)
        return s;
    size_t width = 0;
    const char *p = s;
    for (; *p; p++)
        if (((unsigned char)*p & 0xC0) != 0x80 && ++width == max)
            break;
    return pmo_arena_printf (arena, "%.*s…", (int)(p - s), s);
}

pmoctl_table_t *pmoctl_table_new (pmo_arena_t *arena, const pmoctl_column_t *columns)
{
    pmoctl_table_t *self = pmo_arena_alloc (arena, sizeof (pmoctl_table_t));
    self->arena = arena;
    self->columns = columns;
    while (columns[self->n_columns].header)
        self->n_columns++;
    return self;
}

void pmoctl_table_add (pmoctl_table_t *self, const char *const *cells)
{
    if (self->n_rows == self->capacity) {
        size_t capacity = self->capacity ? self->capacity * 2 : 64;
        const char ***rows = pmo_arena_alloc (self->arena, capacity * sizeof (char **));
        if (self->n_rows)
            memcpy (rows, self->rows, self->n_rows * sizeof (char **));
        self->rows = rows;
        self->capacity = capacity;
    }
    const char **row = pmo_arena_alloc (self->arena, self->n_columns * sizeof (char *));
    for (size_t c = 0; c < self->n_columns; c++) {
        //  One line per row, whatever the text holds
        char *cell = pmo_arena_strdup (self->arena, cells[c] ? cells[c] : "");
        for (char *p = cell; *p; p++)
            if (*p == '\n' || *p == '\t' || *p == '\r')
                *p = ' ';
        row[c] = s_truncate (self->arena, cell, self->columns[c].max);
    }
    self->rows[self->n_rows++] = row;
}

void pmoctl_table_add_message (pmoctl_t *ctl, pmoctl_table_t *self, const ProtobufCMessage *msg)
{
    const char **cells = pmo_arena_alloc (ctl->arena, self->n_columns * sizeof (char *));
    for (size_t c = 0; c < self->n_columns; c++) {
        const pmoctl_column_t *column = &self->columns[c];
        cells[c] =
            column->cell ? column->cell (ctl, msg) : pmoctl_format_field (ctl, msg, column->field);
        //  An enum nobody set reads as a dash, not as "unspecified"
        if (strcmp (cells[c], "unspecified") == 0)
            cells[c] = "-";
    }
    pmoctl_table_add (self, cells);
}

static void s_print_line (const pmoctl_table_t *self, const char *const *cells,
                          const size_t *widths, FILE *out)
{
    //  No trailing blanks: pad only up to the last cell with text
    size_t used = self->n_columns;
    while (used > 0 && !*cells[used - 1])
        used--;
    for (size_t c = 0; c < used; c++) {
        fputs (cells[c], out);
        if (c + 1 < used)
            fprintf (out, "%*s", (int)(widths[c] - s_width (cells[c]) + 2), "");
    }
    fputc ('\n', out);
}

void pmoctl_table_print (pmoctl_table_t *self, FILE *out)
{
    size_t *widths = pmo_arena_alloc (self->arena, self->n_columns * sizeof (size_t));
    const char **headers = pmo_arena_alloc (self->arena, self->n_columns * sizeof (char *));
    for (size_t c = 0; c < self->n_columns; c++) {
        headers[c] = self->columns[c].header;
        widths[c] = s_width (headers[c]);
        for (size_t r = 0; r < self->n_rows; r++)
            if (s_width (self->rows[r][c]) > widths[c])
                widths[c] = s_width (self->rows[r][c]);
    }
    s_print_line (self, headers, widths, out);
    for (size_t r = 0; r < self->n_rows; r++)
        s_print_line (self, self->rows[r], widths, out);
}

void pmoctl_print_items (pmoctl_t *ctl, const ProtobufCMessage *msg, const char *items,
                         const pmoctl_column_t *columns)
{
    const ProtobufCFieldDescriptor *field =
        protobuf_c_message_descriptor_get_field_by_name (msg->descriptor, items);
    assert (field && field->label == PROTOBUF_C_LABEL_REPEATED &&
            field->type == PROTOBUF_C_TYPE_MESSAGE);
    size_t n = *(const size_t *)((const char *)msg + field->quantifier_offset);
    ProtobufCMessage *const *item =
        *(ProtobufCMessage *const *const *)((const char *)msg + field->offset);
    pmoctl_table_t *table = pmoctl_table_new (ctl->arena, columns);
    for (size_t i = 0; i < n; i++)
        pmoctl_table_add_message (ctl, table, item[i]);
    pmoctl_table_print (table, stdout);
}
