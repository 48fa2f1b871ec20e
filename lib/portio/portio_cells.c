/*  portio_cells.c: cells to fields: a row of a file, read through its
    mapping (values maps, templates, transforms, dates, money, withheld
    cells, defaults), into the record it describes, every problem by row,
    column and value. Shared by the registry's import (portio_import.c) and
    the other services' (portio_import_svc.c).
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
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define VALUE_SHOWN  80 //  characters of a cell quoted in a problem
#define TEMPLATE_MAX 512

//  ---------------------------------------------------------------------
//  Cells to fields

void portio_import_warn (portio_import_result_t *result, const char *format, ...)
{
    pmo_arena_t *arena = result->arena;
    if (result->n_warnings % 8 == 0) {
        const char **grown = pmo_arena_alloc (arena, (result->n_warnings + 8) * sizeof (char *));
        if (result->n_warnings)
            memcpy (grown, result->warnings, result->n_warnings * sizeof (char *));
        result->warnings = grown;
    }
    char text[512];
    va_list args;
    va_start (args, format);
    vsnprintf (text, sizeof text, format, args);
    va_end (args);
    result->warnings[result->n_warnings++] = pmo_arena_strdup (arena, text);
}

void portio_import_problemf (portio_import_result_t *result, size_t row, const char *column,
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

const char *portio_import_column_name (const map_column_t *col)
{
    return col->column ? col->column : col->first_of_name ? col->first_of_name : col->tmpl;
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
    portio_import_problemf (r->result, r->row, portio_import_column_name (col), value, "%s",
                            reason);
    r->bad = true;
}

static const char *s_cell (const row_t *r, int index)
{
    return index >= 0 && (size_t)index < r->record->n_fields ? r->record->fields[index] : "";
}

//  True if header cell h is name (len bytes), without case or surrounding spaces.
static bool s_header_is (const char *h, const char *name, size_t len)
{
    while (*h == ' ')
        h++;
    size_t hlen = strlen (h);
    while (hlen && h[hlen - 1] == ' ')
        hlen--;
    return hlen == len && strncasecmp (h, name, len) == 0;
}

//  The n-th (1-based) column called name, -1 if none; *count: how many are.
static int s_header_nth (const portio_csv_record_t *header, const char *name, size_t len, size_t n,
                         size_t *count)
{
    int found = -1;
    *count = 0;
    for (size_t i = 0; i < header->n_fields; i++)
        if (s_header_is (header->fields[i], name, len) && ++*count == n)
            found = (int)i;
    return found;
}

//  A number of 1 to 4 digits at text (len bytes), else 0.
static size_t s_ordinal (const char *text, size_t len)
{
    size_t n = 0;
    if (len == 0 || len > 4)
        return 0;
    for (size_t i = 0; i < len; i++) {
        if (!isdigit ((unsigned char)text[i]))
            return 0;
        n = n * 10 + (size_t)(text[i] - '0');
    }
    return n;
}

//  See portio_import_header_index: "name", "name#2" or "#7".
static int s_header_index (const portio_csv_record_t *header, const char *name, size_t len)
{
    size_t count;
    int found = s_header_nth (header, name, len, 1, &count);
    if (count > 1)
        return -2; //  which one? The mapping must say
    if (found >= 0)
        return found;
    const char *hash = NULL;
    for (size_t i = len; i > 0 && !hash; i--)
        if (name[i - 1] == '#')
            hash = name + i - 1;
    if (!hash)
        return -1;
    size_t n = s_ordinal (hash + 1, len - (size_t)(hash + 1 - name));
    if (n == 0)
        return -1;
    if (hash == name) //  "#7": by position
        return n <= header->n_fields ? (int)n - 1 : -1;
    return s_header_nth (header, name, (size_t)(hash - name), n, &count);
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
        if (index == -2) {
            s_cell_problem (r, col, col->tmpl,
                            "the template names a column several columns of the file are "
                            "called: name one, e.g. {%.*s#2}",
                            (int)name_len, p + 1);
            return -1;
        }
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

//  What a cell stands for besides its text.
typedef enum {
    MARK_NONE = 0,     //  a value
    MARK_EMPTY = 1,    //  nothing at all
    MARK_BLANK = 2,    //  a blank marker: no value ("TBC", the mapping's)
    MARK_WITHHELD = 3, //  withheld from publication
} mark_t;

//  The marker text is, the mapping's first, then the built-in ones; label
//  and mapping say which. Withheld markers count only where typed (a date,
//  amount, rating or number): free text is kept as written.
static mark_t s_mark (const portio_import_mapping_t *map, const char *text, bool typed,
                      const char **label, bool *mapping)
{
    *label = NULL;
    *mapping = false;
    while (*text == ' ')
        text++;
    size_t len = strlen (text);
    while (len && text[len - 1] == ' ')
        len--;
    if (len == 0)
        return MARK_EMPTY;
    for (size_t i = 0; i < map->n_markers; i++) {
        const map_marker_t *m = &map->markers[i];
        if ((m->prefix ? len >= m->length : len == m->length) &&
            strncasecmp (text, m->pattern, m->length) == 0 && (typed || !m->withheld)) {
            *label = m->pattern;
            *mapping = true;
            return m->withheld ? MARK_WITHHELD : MARK_BLANK;
        }
    }
    const char *builtin = portio_csv_blank_marker (text);
    if (builtin) {
        *label = builtin;
        return *builtin ? MARK_BLANK : MARK_EMPTY;
    }
    if (typed && (*label = portio_csv_withheld_marker (text)))
        return MARK_WITHHELD;
    return MARK_NONE;
}

//  True if text holds no value for the mapping (empty, a blank or a
//  withheld marker).
static bool s_no_value (const portio_import_mapping_t *map, const char *text)
{
    const char *label;
    bool mapping;
    return s_mark (map, text, true, &label, &mapping) != MARK_NONE;
}

//  True if text is empty or a blank marker (withheld is a value not shown).
static bool s_blank (const portio_import_mapping_t *map, const char *text)
{
    const char *label;
    bool mapping;
    return s_mark (map, text, false, &label, &mapping) != MARK_NONE;
}

//  Record a fallback of the row's conversion (columns only, not defaults).
static void s_hit (row_t *r, const map_column_t *col, portio_import_fallback_t kind,
                   const char *marker, bool mapping)
{
    if (!col)
        return;
    if (r->n_hits == r->max_hits) {
        r->max_hits = r->max_hits ? r->max_hits * 2 : 8;
        row_hit_t *grown = pmo_arena_alloc (r->arena, r->max_hits * sizeof (row_hit_t));
        if (r->n_hits)
            memcpy (grown, r->hits, r->n_hits * sizeof (row_hit_t));
        r->hits = grown;
    }
    r->hits[r->n_hits++] = (row_hit_t){kind, marker, mapping};
}

char portio_import_ambiguous;

void portio_import_bad (row_t *r, const char *field, const char *value, const char *format, ...)
{
    char reason[512];
    va_list args;
    va_start (args, format);
    vsnprintf (reason, sizeof reason, format, args);
    va_end (args);
    portio_import_problem (r->result, r->row, field ? portio_import_column_of (r->map, field) : "",
                           value ? value : "", reason);
    r->bad = true;
}

void portio_import_index (zhashx_t *index, const char *key, void *item)
{
    void *had = zhashx_lookup (index, key);
    if (!had)
        zhashx_insert (index, key, item);
    else if (had != item)
        zhashx_update (index, key, &portio_import_ambiguous);
}

void portio_import_row_settle (portio_import_result_t *result, portio_import_row_t *out,
                               const char *id, bool bad, bool unchanged, bool create)
{
    out->id = id;
    if (bad) {
        out->action = PORTIO_IMPORT_ROW_BAD;
        result->bad++;
    } else if (unchanged) {
        out->action = PORTIO_IMPORT_ROW_UNCHANGED;
        result->unchanged++;
    } else if (create) {
        out->action = PORTIO_IMPORT_ROW_CREATE;
        result->created++;
    } else {
        out->action = PORTIO_IMPORT_ROW_UPDATE;
        result->updated++;
    }
}

void portio_import_plan_rows (const portio_import_mapping_t *map, pmo_arena_t *arena,
                              portio_import_result_t *result, portio_csv_t *csv,
                              portio_import_plan_fn plan, void *arg)
{
    portio_csv_record_t *header = &csv->records[0];
    result->row_results = pmo_arena_alloc (arena, csv->n_records * sizeof (portio_import_row_t));
    for (size_t i = 1; i < csv->n_records; i++) {
        portio_csv_record_t *record = &csv->records[i];
        size_t k = result->n_rows++;
        portio_import_row_t *out = &result->row_results[k];
        out->row = i + 1;
        if (portio_import_blank_row (record)) {
            out->action = PORTIO_IMPORT_ROW_BLANK;
            continue;
        }
        row_t r = {.map = map,
                   .arena = arena,
                   .result = result,
                   .header = header,
                   .record = record,
                   .row = i + 1};
        r.bad = portio_import_record_bad (result, header, record, r.row);
        if (!plan (arg, &r, k)) {
            out->action = PORTIO_IMPORT_ROW_BLANK;
            result->skipped++;
            continue;
        }
        result->rows++;
        portio_import_row_tally (&r);
    }
}

void portio_import_settle_rows (portio_import_result_t *result,
                                void (*settle) (void *arg, size_t plan, portio_import_row_t *out),
                                void *arg)
{
    for (size_t p = 0, k = 0; k < result->n_rows; k++) {
        portio_import_row_t *out = &result->row_results[k];
        if (out->action != PORTIO_IMPORT_ROW_BLANK)
            settle (arg, p++, out);
    }
}

int portio_import_run_steps (const portio_import_options_t *options,
                             const portio_import_mapping_t *map, pmo_arena_t *arena,
                             portio_import_result_t *result, const void *data, size_t size,
                             const portio_import_steps_t *steps, void *arg, portio_csv_t **csv,
                             const char *why)
{
    if (portio_import_open_csv (arena, map, data, size, result, csv))
        return -1;
    if (steps->load (arg, *csv))
        return portio_import_fail (result, arena, "%s", why);
    portio_import_plan_rows (map, arena, result, *csv, steps->plan, arg);
    portio_import_settle_rows (result, steps->settle, arg);
    if (options->dry_run)
        return 0;
    if (result->bad && !options->skip_bad)
        return portio_import_fail (
            result, arena, "%zu of %zu rows have problems; nothing was written (all or nothing)",
            result->bad, result->rows);
    return steps->write (arg);
}

void portio_import_row_refused (portio_import_result_t *result, portio_import_row_t *out)
{
    if (out->action == PORTIO_IMPORT_ROW_CREATE)
        result->created--;
    else if (out->action == PORTIO_IMPORT_ROW_UPDATE)
        result->updated--;
    out->action = PORTIO_IMPORT_ROW_BAD;
    result->bad++;
}

void portio_import_row_tally (row_t *r)
{
    portio_import_result_t *result = r->result;
    for (size_t i = 0; i < r->n_hits; i++) {
        const row_hit_t *hit = &r->hits[i];
        if (hit->kind == PORTIO_IMPORT_FALLBACK_TWO_DIGIT_YEAR) {
            result->two_digit_years++;
            continue;
        }
        bool withheld = hit->kind == PORTIO_IMPORT_FALLBACK_WITHHELD;
        if (withheld)
            result->withheld++;
        else
            result->blanked++;
        const char *kind = withheld ? "withheld" : "blank";
        portio_import_marker_t *m = NULL;
        for (size_t j = 0; j < result->n_markers && !m; j++)
            if (result->markers[j].mapping == hit->mapping &&
                strcmp (result->markers[j].kind, kind) == 0 &&
                strcmp (result->markers[j].marker, hit->marker) == 0)
                m = &result->markers[j];
        if (!m) {
            if (result->n_markers % 16 == 0) {
                portio_import_marker_t *grown = pmo_arena_alloc (
                    result->arena, (result->n_markers + 16) * sizeof (portio_import_marker_t));
                if (result->n_markers)
                    memcpy (grown, result->markers,
                            result->n_markers * sizeof (portio_import_marker_t));
                result->markers = grown;
            }
            m = &result->markers[result->n_markers++];
            *m = (portio_import_marker_t){kind, hit->marker, hit->mapping, 0};
        }
        m->count++;
    }
    r->n_hits = 0;
}

bool portio_import_date_field (const char *name)
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

//  A Money field from a cell ("£1.2m", "1 200,50"); blank clears it.
static int s_set_money (row_t *r, const map_column_t *col, void *slot, const char *text, bool blank,
                        char *why, size_t why_size)
{
    const portio_import_mapping_t *map = r->map;
    if (blank) {
        *(ProtobufCMessage **)slot = NULL;
        return 0;
    }
    portio_csv_money_options_t money = {map->decimal, col ? col->scale : 1, 2};
    int64_t minor;
    char currency[4];
    if (portio_csv_parse_money (text, &money, &minor, currency, why, why_size) < 0)
        return -1;
    //  A change request's impacts may be savings; other amounts are not negative
    if (minor < 0 && r->map->entity->desc != &pmo__change_request__descriptor) {
        snprintf (why, why_size, "an amount here must not be negative");
        return -1;
    }
    Pmo__Money *m = pmo_arena_alloc (r->arena, sizeof (Pmo__Money));
    pmo__money__init (m);
    m->minor = minor;
    m->currency = pmo_arena_strdup (r->arena, *currency ? currency : map->currency);
    *(Pmo__Money **)slot = m;
    return 0;
}

//  A repeated text field from one cell: "a;b;c" or "a, b".
static void s_set_list (pmo_arena_t *arena, ProtobufCMessage *owner,
                        const ProtobufCFieldDescriptor *f, void *slot, const char *text, bool blank)
{
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
}

//  A text field; a date field ("baseline_finish") is read as a date.
static int s_set_string (row_t *r, const map_column_t *col, const ProtobufCFieldDescriptor *f,
                         void *slot, const char *text, bool blank, char *why, size_t why_size)
{
    if (blank) {
        *(char **)slot = "";
        return 0;
    }
    if (portio_import_date_field (f->name)) {
        char date[11];
        const char *reason = NULL;
        bool two_digit_year = false;
        if (portio_csv_parse_date (text, r->map->date_order, r->map->pivot, date, &two_digit_year,
                                   &reason) < 0) {
            snprintf (why, why_size, "%s", reason);
            return -1;
        }
        if (two_digit_year)
            s_hit (r, col, PORTIO_IMPORT_FALLBACK_TWO_DIGIT_YEAR, NULL, false);
        *(char **)slot = pmo_arena_strdup (r->arena, date);
    } else
        *(char **)slot = pmo_arena_strdup (r->arena, text);
    return 0;
}

//  An enum field by its label ("in flight", "in-flight", "IN_FLIGHT");
//  the reason of a miss lists the labels.
static int s_set_enum (const ProtobufCFieldDescriptor *f, void *slot, const char *text, bool blank,
                       char *why, size_t why_size)
{
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

//  A whole number ("40", "75 %"), 0 to a billion.
static int s_set_count (void *slot, const char *text, bool blank, char *why, size_t why_size)
{
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

//  A whole number that may be negative ("-14": a finish 14 days earlier).
static int s_set_signed (void *slot, const char *text, bool blank, char *why, size_t why_size)
{
    if (blank) {
        *(int32_t *)slot = 0;
        return 0;
    }
    char *end;
    long value = strtol (text, &end, 10);
    while (*end == ' ')
        end++;
    if (end == text || *end || value < -1000000000L || value > 1000000000L) {
        snprintf (why, why_size, "not a whole number");
        return -1;
    }
    *(int32_t *)slot = (int32_t)value;
    return 0;
}

//  An amount in minor units (*_minor: in the project's currency); a
//  status report's actual cost given or not is has_ac.
static int s_set_minor (row_t *r, const map_column_t *col, ProtobufCMessage *owner,
                        const ProtobufCFieldDescriptor *f, void *slot, const char *text, bool blank,
                        char *why, size_t why_size)
{
    int64_t minor = 0;
    bool has = !blank;
    if (has) {
        portio_csv_money_options_t money = {r->map->decimal, col ? col->scale : 1, 2};
        char currency[4];
        if (portio_csv_parse_money (text, &money, &minor, currency, why, why_size) < 0)
            return -1;
    }
    *(int64_t *)slot = minor;
    if (strcmp (f->name, "ac_minor") == 0 && owner->descriptor == &pmo__status_report__descriptor)
        ((Pmo__StatusReport *)owner)->has_ac = has;
    return 0;
}

//  A number in a measure's unit or an amount ("12.5", "85 %", "-3",
//  "£1.2m", "1,200.50"), times the column's scale; blank is 0.
static int s_parse_number (row_t *r, const map_column_t *col, const char *text, double *out,
                           char *why, size_t why_size)
{
    portio_csv_money_options_t money = {r->map->decimal, col ? col->scale : 1, 6};
    int64_t micro;
    char currency[4];
    if (portio_csv_parse_money (text, &money, &micro, currency, why, why_size) == 0) {
        *out = (double)micro / 1e6;
        return 0;
    }
    char *end;
    double value = strtod (text, &end);
    while (*end == ' ' || *end == '%')
        end++;
    if (end == text || *end || !isfinite (value))
        return -1; //  why: the amount's reason
    *out = value * (double)(col ? col->scale : 1);
    return 0;
}

//  A benefit's expected profile from one cell: "2027-04: 1200; 2028-04:
//  2500" (month and value, months ascending), or blank for none.
static int s_set_profile (row_t *r, const map_column_t *col, ProtobufCMessage *owner,
                          const ProtobufCFieldDescriptor *f, const char *text, bool blank,
                          char *why, size_t why_size)
{
    char *copy = pmo_arena_strdup (r->arena, blank ? "" : text);
    size_t max = 1;
    for (char *p = copy; *p; p++)
        max += *p == ';' || *p == '\n' || *p == '|';
    Pmo__BenefitPoint **points = pmo_arena_alloc (r->arena, max * sizeof (void *));
    size_t n = 0;
    char *save = NULL;
    for (char *item = strtok_r (copy, ";|\n", &save); item; item = strtok_r (NULL, ";|\n", &save)) {
        while (*item == ' ' || *item == '\r')
            item++;
        if (!*item)
            continue;
        int year, month, used = 0;
        if (sscanf (item, "%4d-%2d%n", &year, &month, &used) != 2 || used != 7 || month < 1 ||
            month > 12 || !strchr (":=", item[7] == ' ' ? item[8] : item[7])) {
            snprintf (why, why_size,
                      "the profile is month: value pairs, e.g. \"2027-04: 1200; 2028-04: 2500\" "
                      "('%.20s' is not)",
                      item);
            return -1;
        }
        char *value = item + 8 + (item[7] == ' ');
        while (*value == ' ')
            value++;
        Pmo__BenefitPoint *point = pmo_arena_alloc (r->arena, sizeof (Pmo__BenefitPoint));
        pmo__benefit_point__init (point);
        point->period = pmo_arena_printf (r->arena, "%04d-%02d", year, month);
        char reason[256];
        if (s_parse_number (r, col, value, &point->value, reason, sizeof reason)) {
            snprintf (why, why_size, "%s: '%.20s' is not a number (%s)", point->period, value,
                      reason);
            return -1;
        }
        if (n && strcmp (points[n - 1]->period, point->period) >= 0) {
            snprintf (why, why_size, "the profile's months go up: %s comes after %s", point->period,
                      points[n - 1]->period);
            return -1;
        }
        points[n++] = point;
    }
    *(size_t *)((char *)owner + f->quantifier_offset) = n;
    *(Pmo__BenefitPoint ***)((char *)owner + f->offset) = points;
    return 0;
}

//  Set one field from a cell's text (already mapped through values).
//  Returns 0, or -1 with the reason in why.
static int s_set (row_t *r, const map_column_t *col, ProtobufCMessage *msg, const char *path,
                  const char *text, char *why, size_t why_size)
{
    const ProtobufCFieldDescriptor *f;
    ProtobufCMessage *owner = s_owner (r->arena, msg, path, &f);
    void *slot = (char *)owner + f->offset;
    //  "Exempt under Section 43 ..." in a date, amount, rating or number:
    //  published without the value. Free text is kept as written. A blank
    //  marker ("TBC", the mapping's) is no value anywhere. Each is counted.
    bool plain_text = f->type == PROTOBUF_C_TYPE_STRING && !portio_import_date_field (f->name);
    const char *label;
    bool mapping;
    mark_t mark = s_mark (r->map, text, !plain_text, &label, &mapping);
    bool blank = mark != MARK_NONE;
    if (mark == MARK_BLANK || mark == MARK_WITHHELD)
        s_hit (r, col,
               mark == MARK_BLANK ? PORTIO_IMPORT_FALLBACK_BLANK : PORTIO_IMPORT_FALLBACK_WITHHELD,
               label, mapping);
    if (blank)
        text = "";
    if (f->type == PROTOBUF_C_TYPE_MESSAGE && f->descriptor == &pmo__benefit_point__descriptor)
        return s_set_profile (r, col, owner, f, text, blank, why, why_size);
    if (f->type == PROTOBUF_C_TYPE_MESSAGE) //  Money
        return s_set_money (r, col, slot, text, blank, why, why_size);
    if (f->label == PROTOBUF_C_LABEL_REPEATED) {
        s_set_list (r->arena, owner, f, slot, text, blank);
        return 0;
    }
    switch (f->type) {
    case PROTOBUF_C_TYPE_STRING:
        return s_set_string (r, col, f, slot, text, blank, why, why_size);
    case PROTOBUF_C_TYPE_ENUM:
        return s_set_enum (f, slot, text, blank, why, why_size);
    case PROTOBUF_C_TYPE_UINT32:
        return s_set_count (slot, text, blank, why, why_size);
    case PROTOBUF_C_TYPE_INT32:
        return s_set_signed (slot, text, blank, why, why_size);
    case PROTOBUF_C_TYPE_INT64:
        return s_set_minor (r, col, owner, f, slot, text, blank, why, why_size);
    case PROTOBUF_C_TYPE_DOUBLE:
        *(double *)slot = 0;
        return blank ? 0 : s_parse_number (r, col, text, (double *)slot, why, why_size);
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
const char *portio_import_mapped (json_t *values, const char *text)
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
    char *copy = pmo_arena_strdup (r->arena, s_blank (r->map, text) ? "" : text);
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
                portio_import_problemf (
                    r->result, r->row, "skills", raw,
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
    const char *mapped = portio_import_mapped (col ? col->values : NULL, raw);
    if (mapped)
        text = mapped;
    //  Otherwise the field's own parsing reads it (so "green" works with a
    //  values map too), and a withheld value is left empty (see s_set)
    if (col && col->required && s_blank (r->map, text))
        return s_cell_problem (r, col, raw, "a value is required");
    if (strcmp (field, "currency") == 0) {
        if (!s_blank (r->map, text)) {
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
        if (!s_blank (r->map, text))
            t->report_touched = true;
    }
    if (s_set (r, col, target, field, text, why, sizeof why)) {
        if (col)
            s_cell_problem (r, col, raw, "%s", why);
        else {
            portio_import_problemf (r->result, r->row, field, raw, "the mapping's default: %s",
                                    why);
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

//  The file column the mapping fills field from (field itself if none).
const char *portio_import_column_of (const portio_import_mapping_t *map, const char *field)
{
    for (size_t i = 0; i < map->n_columns; i++)
        if (strcmp (map->columns[i].field, field) == 0)
            return portio_import_column_name (&map->columns[i]);
    return field;
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

bool portio_import_same (pmo_arena_t *arena, ProtobufCMessage *a, ProtobufCMessage *b)
{
    s_normalize (a);
    s_normalize (b);
    size_t na, nb;
    uint8_t *pa = pmo_reflect_pack (a, arena, &na);
    uint8_t *pb = pmo_reflect_pack (b, arena, &nb);
    return na == nb && memcmp (pa, pb, na) == 0;
}

//  The cell a column-mapped col reads in this row: its column's, or for
//  first_of the first that holds a value (else the first withheld one, so
//  that it is counted, else the first blank marker); NULL for a column the
//  file does not have (partial mappings).
static const char *s_column_cell (const row_t *r, const map_column_t *col)
{
    if (!col->first_of)
        return col->index < 0 ? NULL : s_cell (r, col->index);
    const char *withheld = NULL, *blank = NULL;
    for (size_t j = 0; j < col->n_first_of; j++) {
        const char *cell = s_cell (r, col->indexes[j]);
        const char *label;
        bool mapping;
        switch (s_mark (r->map, cell, true, &label, &mapping)) {
        case MARK_NONE:
            return cell;
        case MARK_WITHHELD:
            withheld = withheld ? withheld : cell;
            break;
        case MARK_BLANK:
            blank = blank ? blank : cell;
            break;
        case MARK_EMPTY:
            break;
        }
    }
    return withheld ? withheld : blank ? blank : "";
}

bool portio_import_field_blank (const row_t *r, const char *field)
{
    for (size_t i = 0; i < r->map->n_columns; i++) {
        const map_column_t *col = &r->map->columns[i];
        if (strcmp (col->field, field) != 0)
            continue;
        if (col->tmpl)
            return false;
        const char *cell = s_column_cell (r, col);
        if (cell && !s_no_value (r->map, cell))
            return false;
    }
    return true;
}

//  Fill target from the row: every mapped column, then (for new records)
//  the defaults of fields the row left blank.
void portio_import_convert (row_t *r, target_t *t, bool creating)
{
    const portio_import_mapping_t *map = r->map;
    r->creating = creating;
    r->n_hits = 0; //  a row converted again counts once
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
            raw = s_column_cell (r, col);
            if (!raw)
                continue; //  a column this file does not have (partial mappings)
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
                if (strcmp (col->field, field) != 0 || col->tmpl)
                    continue;
                const char *cell = s_column_cell (r, col);
                if (cell && !s_no_value (map, cell))
                    given = true;
                else if (cell && !col->create_only)
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
//  Reading a file and its rows (shared with portio_import_svc.c)

void portio_import_problem (portio_import_result_t *result, size_t row, const char *column,
                            const char *value, const char *reason)
{
    portio_import_problemf (result, row, column, value, "%s", reason);
}

int portio_import_header_index (const portio_csv_record_t *header, const char *name)
{
    return s_header_index (header, name, strlen (name));
}

int portio_import_fail (portio_import_result_t *result, pmo_arena_t *arena, const char *format, ...)
{
    char text[700];
    va_list args;
    va_start (args, format);
    vsnprintf (text, sizeof text, format, args);
    va_end (args);
    if (!result->error)
        result->error = pmo_arena_strdup (arena, text);
    return -1;
}

//  The header texts several columns share, for the dry run.
static void s_list_duplicates (pmo_arena_t *arena, const portio_csv_record_t *header,
                               portio_import_result_t *result)
{
    for (size_t i = 0; i < header->n_fields; i++) {
        const char *name = header->fields[i];
        while (*name == ' ')
            name++;
        size_t len = strlen (name), count;
        while (len && name[len - 1] == ' ')
            len--;
        bool earlier = false;
        for (size_t j = 0; j < i && !earlier; j++)
            earlier = s_header_is (header->fields[j], name, len);
        if (earlier || len == 0)
            continue;
        s_header_nth (header, name, len, 0, &count);
        if (count < 2)
            continue;
        char positions[256] = "";
        size_t used = 0;
        for (size_t j = i; j < header->n_fields && used < sizeof positions; j++)
            if (s_header_is (header->fields[j], name, len))
                used += (size_t)snprintf (positions + used, sizeof positions - used, "%s%zu",
                                          used ? ", " : "", j + 1);
        if (result->n_duplicates % 8 == 0) {
            portio_import_duplicate_t *grown = pmo_arena_alloc (
                arena, (result->n_duplicates + 8) * sizeof (portio_import_duplicate_t));
            if (result->n_duplicates)
                memcpy (grown, result->duplicates,
                        result->n_duplicates * sizeof (portio_import_duplicate_t));
            result->duplicates = grown;
        }
        result->duplicates[result->n_duplicates++] =
            (portio_import_duplicate_t){pmo_arena_printf (arena, "%.*s", (int)len, name),
                                        pmo_arena_strdup (arena, positions), count};
    }
}

int portio_import_open_csv (pmo_arena_t *arena, const portio_import_mapping_t *map,
                            const void *data, size_t size, portio_import_result_t *result,
                            portio_csv_t **csv_p)
{
    portio_csv_t *csv = *csv_p = portio_csv_parse (data, size, &map->csv, arena);
    result->encoding = portio_csv_encoding_name (csv->encoding);
    result->delimiter = csv->delimiter;
    //  What is wrong with the file as a whole is the sender's to fix
    result->file_error = true;
    if (csv->problem)
        return portio_import_fail (result, arena, "%s", csv->problem);
    if (csv->n_records == 0 || csv->records[0].n_fields == 0)
        return portio_import_fail (result, arena, "the file is empty: a header row is expected");
    portio_csv_record_t *header = &csv->records[0];
    if (header->problem)
        return portio_import_fail (result, arena, "the header row cannot be read: %s",
                                   header->problem);
    result->file_error = false;
    s_list_duplicates (arena, header, result);
    //  Every mapped column must be in the file, and name one column
    bool missing = false;
    for (size_t i = 0; i < map->n_columns; i++) {
        map_column_t *column = &map->columns[i];
        size_t n = column->first_of ? column->n_first_of : column->column ? 1 : 0;
        for (size_t j = 0; j < n; j++) {
            const char *name = column->first_of ? column->first_of[j] : column->column;
            int index = portio_import_header_index (header, name);
            if (column->first_of)
                column->indexes[j] = index;
            else
                column->index = index;
            if (index == -2) {
                portio_import_problemf (result, 1, name, "",
                                        "several columns of the file are called this: name one "
                                        "as \"%s#1\", \"%s#2\" ... or take the first that "
                                        "holds a value with \"first_of\"",
                                        name, name);
                missing = true;
            } else if (index < 0 && (!map->partial || column->first_of)) {
                portio_import_problemf (result, 1, name, "",
                                        "the file has no such column (its header is row 1)");
                missing = true;
            }
        }
        if (!column->column)
            column->index = -1;
    }
    if (missing)
        return portio_import_fail (result, arena,
                                   "the file lacks columns the mapping names, or has several "
                                   "of one name");
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
        portio_import_problemf (result, row, column, value, "%s", record->problem);
        return true;
    }
    if (record->n_fields != header->n_fields) {
        portio_import_problemf (
            result, row, "", "",
            "the row has %zu cells but the header has %zu (a delimiter too many or too "
            "few, or a broken quote above)",
            record->n_fields, header->n_fields);
        return true;
    }
    return false;
}
