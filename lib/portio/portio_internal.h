/*  portio_internal.h: what the parts of lib/portio share: mappings
    (portio_mapping.c), cells to fields (portio_cells.c), talking to the
    services (portio_peer.c), the registry's import (portio_import.c), the
    other services' import (portio_import_svc.c), export of both
    (portio_export.c) and the report (portio_report*.c).
    Not for other callers, nor included from outside lib/portio: the public
    interface is portio_import.h (and portio_report.h, portio_csv.h).
*/
#ifndef PORTIO_INTERNAL_H_INCLUDED
#define PORTIO_INTERNAL_H_INCLUDED

#include <czmq.h>
#include <stdarg.h>
#include "allocator.pb-c.h"
#include "portio_import.h"

//  One mapped column: a file column (or a template over columns) to a field.
typedef struct {
    const char *column;    //  the file's column ("name", "name#2", "#7"); NULL otherwise
    const char **first_of; //  ... or the first non-blank of these columns; NULL otherwise
    size_t n_first_of;
    char *first_of_name;   //  "a / b", for problems (owned by the mapping)
    const char *tmpl;      //  "{department}-{project_name|acronym}"
    const char *field;     //  "name", "budget.baseline", "report.overall"
    const char *transform; //  upper, lower, slug, acronym, trim; NULL
    json_t *values;        //  text -> value, matched without case (borrowed)
    int64_t scale;         //  money: the unit of the figures (1000000: millions)
    bool create_only;      //  applied only to new records
    bool unique;           //  a derived code made unique in its division (-2, -3 ...)
    bool required;         //  a blank cell is a problem
    int index;             //  the column's position in the file being read
    int *indexes;          //  first_of: their positions (owned by the mapping)
} map_column_t;

//  A cell text the mapping says stands for no value ("TBC") or a value
//  withheld from publication: exact, or a prefix with a trailing '*',
//  without case.
typedef struct {
    const char *pattern; //  as the mapping spells it ("Early planning*")
    size_t length;       //  of what is compared (without the '*')
    bool prefix;         //  it ended with '*'
    bool withheld;       //  a "withheld" marker (else "blank")
} map_marker_t;

typedef struct {
    const char *name; //  "project"
    const ProtobufCMessageDescriptor *desc;
    const char *create_member; //  ImportItem members (registry entities)
    const char *update_member;
    Pmo__EntityKind kind;            //  the registry's kind; UNSPECIFIED for the others
    portio_import_service_t service; //  who keeps it
} entity_t;

struct _portio_import_mapping_t {
    json_t *root; //  owns every string below
    const entity_t *entity;
    portio_csv_options_t csv;
    portio_csv_date_order_t date_order;
    int pivot;
    portio_csv_decimal_t decimal; //  AUTO unless the mapping says decimal_comma
    const char *currency;         //  of amounts without a symbol
    const char *key;              //  projects: "code" or "external_id"
    Pmo__OrgUnitKind ou_kind;     //  org units the file names are created as this
    const char *ou_parent;        //  ... under this unit (NULL: the hub)
    json_t *ou_names;             //  id -> name of units to create (borrowed)
    map_column_t *columns;
    size_t n_columns;
    json_t *defaults;      //  field -> text, for new records (borrowed)
    bool partial;          //  a file may hold any subset of the columns (native)
    map_marker_t *markers; //  the mapping's blank and withheld markers
    size_t n_markers;
    const char *skip_blank; //  benefits: rows without a value for this field are left out
};

//  A rule a cell's reading fell back to, recorded while a row is converted
//  (a row may be converted twice: the last conversion counts).
typedef struct {
    portio_import_fallback_t kind;
    const char *marker; //  the marker (the mapping's pattern or a built-in one); NULL otherwise
    bool mapping;       //  the marker is the mapping's
} row_hit_t;

//  What converting one row needs.
typedef struct {
    const portio_import_mapping_t *map;
    pmo_arena_t *arena;
    portio_import_result_t *result;
    portio_csv_record_t *header;
    portio_csv_record_t *record;
    size_t row;
    bool creating;   //  the row makes a new record (defaults and create_only apply)
    bool bad;        //  a problem was found in this row
    row_hit_t *hits; //  the fallbacks of its last conversion (arena)
    size_t n_hits, max_hits;
} row_t;

//  What a row carries besides its record.
typedef struct {
    ProtobufCMessage *entity;  //  the record the row describes
    Pmo__StatusReport *report; //  a project row's status report, NULL if none
    bool report_touched;       //  a report field was given a value
    const char *project_code;  //  children: their project's code (pseudo field)
    const char *currency;      //  the "currency" pseudo field
} target_t;

//  portio_mapping.c: the entity called name ("project"), NULL if none.
const entity_t *portio_import_entity (const char *name);
//  The native columns of an entity (NULL-terminated), NULL if unknown or
//  entity is NULL.
const char *const *portio_import_native_fields (const char *entity);

//  portio_cells.c
//  Record a problem of row at column (value shown shortened).
void portio_import_problem (portio_import_result_t *result, size_t row, const char *column,
                            const char *value, const char *reason);
//  A problem of the row at the column of field (NULL: the whole row),
//  value as read (NULL: none); the row is bad.
void portio_import_bad (row_t *r, const char *field, const char *value, const char *format, ...)
    __attribute__ ((format (printf, 4, 5)));
//  What an index holds for a key several records share.
extern char portio_import_ambiguous;
//  Index item under key; a key another item already holds is ambiguous.
void portio_import_index (zhashx_t *index, const char *key, void *item);
//  Record a warning: the file contradicts itself and the import says what
//  it read instead (never silently).
void portio_import_warn (portio_import_result_t *result, const char *format, ...)
    __attribute__ ((format (printf, 2, 3)));
//  True for a text field that holds a date ("baseline_start", "due_date",
//  "period_end"): read and written as a date.
bool portio_import_date_field (const char *name);
//  The same with the reason formatted.
void portio_import_problemf (portio_import_result_t *result, size_t row, const char *column,
                             const char *value, const char *format, ...)
    __attribute__ ((format (printf, 5, 6)));
//  What a problem of col calls its column: the file's column or the template.
const char *portio_import_column_name (const map_column_t *col);
//  The value a values map gives text, matched without case or surrounding
//  spaces; NULL if the map has none for it (values may be NULL).
const char *portio_import_mapped (json_t *values, const char *text);
//  Fill t->entity from the row: every mapped column, then (creating) the
//  defaults of the fields the row left blank. Problems go to r->result.
void portio_import_convert (row_t *r, target_t *t, bool creating);
//  True if no column of the row mapped to field holds a value (empty, a
//  blank or a withheld marker; a template always holds one).
bool portio_import_field_blank (const row_t *r, const char *field);
//  True if the two records are equal once empty sub-messages are dropped.
bool portio_import_same (pmo_arena_t *arena, ProtobufCMessage *a, ProtobufCMessage *b);
//  The file column the mapping fills field from (field itself if none).
const char *portio_import_column_of (const portio_import_mapping_t *map, const char *field);
//  The column index of name in the header: a header's text ("Budget"),
//  the n-th of several with that text ("colour_rating#2"), or a position
//  ("#7"). -1 if absent, -2 if several columns have that text (name one).
int portio_import_header_index (const portio_csv_record_t *header, const char *name);
//  Add what the row's last conversion fell back to (blank and withheld
//  markers, two-digit years) to the result's counts. Call once per row.
void portio_import_row_tally (row_t *r);
//  Settle a planned row: its id, and its action counted in the result
//  (bad, unchanged, created or updated, in that order of precedence).
void portio_import_row_settle (portio_import_result_t *result, portio_import_row_t *out,
                               const char *id, bool bad, bool unchanged, bool create);
//  One data row of a file being planned (portio_import_plan_rows): r is
//  ready to convert (r->bad already set if the record itself is broken),
//  out its place in result->row_results. False: the row is left out (not a
//  row of the import: counted as skipped).
typedef bool (*portio_import_plan_fn) (void *arg, row_t *r, size_t out);
//  Plan every data row of csv in file order, for every import (the
//  registry's, the other services', the planner's): result's row results
//  are made (an empty line is noted as blank and not planned); every other
//  row is counted, checked as read, given to plan, and what its reading
//  fell back to is tallied.
void portio_import_plan_rows (const portio_import_mapping_t *map, pmo_arena_t *arena,
                              portio_import_result_t *result, portio_csv_t *csv,
                              portio_import_plan_fn plan, void *arg);
//  Settle every planned row in file order (blank ones passed over): settle
//  gets the plan's index (the order plan was called in, less the rows left
//  out) and its row result, and calls portio_import_row_settle.
void portio_import_settle_rows (portio_import_result_t *result,
                                void (*settle) (void *arg, size_t plan, portio_import_row_t *out),
                                void *arg);
//  The steps of an import whose rows are checked against what a service
//  holds, then written (the allocator's and risk monitor's, the planner's).
typedef struct {
    //  Read what the rows are checked against, and make room for csv's
    //  plans; 0, or -1 with the reason in the run's why
    int (*load) (void *arg, const portio_csv_t *csv);
    portio_import_plan_fn plan; //  plan one row
    void (*settle) (void *arg, size_t plan, portio_import_row_t *out);
    int (*write) (void *arg); //  write the planned rows (not for a dry run)
} portio_import_steps_t;
//  Run such an import: open the file as CSV (*csv), load (a failure is the
//  import's error, the text in why), plan every row
//  (portio_import_plan_rows), settle them; then, unless a dry run or (all
//  or nothing) some row is bad, write. Same contract as portio_import_run.
int portio_import_run_steps (const portio_import_options_t *options,
                             const portio_import_mapping_t *map, pmo_arena_t *arena,
                             portio_import_result_t *result, const void *data, size_t size,
                             const portio_import_steps_t *steps, void *arg, portio_csv_t **csv,
                             const char *why);
//  A row the service refused when written: bad now, no longer counted as
//  created or updated.
void portio_import_row_refused (portio_import_result_t *result, portio_import_row_t *out);
//  True if the record is an empty line (nothing to import, not a problem).
bool portio_import_blank_row (const portio_csv_record_t *record);
//  Report what is wrong with the record as read (broken quoting, a wrong
//  number of cells) as a problem of row; true if the row is bad.
bool portio_import_record_bad (portio_import_result_t *result, const portio_csv_record_t *header,
                               const portio_csv_record_t *record, size_t row);
//  Record the import's error (the first one wins); returns -1.
int portio_import_fail (portio_import_result_t *result, pmo_arena_t *arena, const char *format, ...)
    __attribute__ ((format (printf, 3, 4)));
//  Parse the file with the mapping's CSV settings, check its header and find
//  every mapped column (missing ones are problems of row 1). Returns 0 with
//  *csv set, or -1 with the import's error recorded.
int portio_import_open_csv (pmo_arena_t *arena, const portio_import_mapping_t *map,
                            const void *data, size_t size, portio_import_result_t *result,
                            portio_csv_t **csv);

//  portio_export.c: what the writer wrote, as a NUL-terminated copy the
//  caller frees (its length in *size if size); destroys the writer.
char *portio_import_take_csv (portio_csv_writer_t **writer_p, size_t *size);
//  A field's value as a cell of the native format, the
//  form the native mapping reads back (arena or msg owns it).
const char *portio_import_cell (pmo_arena_t *arena, const ProtobufCMessage *msg, const char *path);

//  portio_peer.c: the text of a service's error: "CODE [field]: message".
void portio_import_error_text (const Pmo__Error *error, char *why, size_t why_size);
//  The error an allocator or risk monitor reply carries, NULL if none.
const Pmo__Error *portio_import_reply_error (const ProtobufCMessage *reply);
//  A oneof member of msg if it is the one set, else NULL (msg owns it).
ProtobufCMessage *portio_import_reply_member (const ProtobufCMessage *msg, const char *name);
//  Send body as member of an AllocatorRequest, a RiskmonRequest or a
//  PlannerRequest (service is PORTIO_IMPORT_ALLOCATOR, _RISKMON or
//  _PLANNER). Returns the reply
//  (caller frees with protobuf_c_message_free_unpacked; it may carry an
//  error), or NULL with why when the service is not connected or did not
//  answer in time.
ProtobufCMessage *portio_import_service_call (const portio_import_peer_t *peer,
                                              portio_import_service_t service, const char *member,
                                              ProtobufCMessage *body, char *why, size_t why_size);

//  portio_report.c: what the report's renderings share.
//  The names of the ratings, by Pmo__Rag: none, green, amber, red.
extern const char *const portio_report_rag_names[4];
//  The names of the residual risk bands, by Pmo__ScoreBand.
extern const char *const portio_report_band_names[6];
//  The names of the alert severities, by Pmo__AlertSeverity.
extern const char *const portio_report_severity_names[4];
//  The hours a conflict's resource is over-allocated by, over its weeks.
uint64_t portio_report_over_hours (const Pmo__AllocationConflict *c);
//  The label of an enum value ("in_flight"; "unspecified" if none), in arena.
const char *portio_report_label (pmo_arena_t *arena, const ProtobufCEnumDescriptor *desc,
                                 int value);
//  The UTC date of ms as "YYYY-MM-DD".
void portio_report_date_of (int64_t ms, char out[11]);

//  portio_import_svc.c and portio_export.c: import and export of
//  resources, allocations, risks and issues (the mapping's entity is kept
//  by the allocator or the risk monitor). Same contract as
//  portio_import_run and portio_export.
int portio_import_svc_run (const portio_import_options_t *options,
                           const portio_import_mapping_t *mapping, const void *data, size_t size,
                           portio_import_result_t *result);
//  projects: NULL, or the ids of the projects to keep (the portfolio's
//  filters; portio_export_filtered), mapped to their place in its order.
int portio_import_svc_export (const portio_import_peer_t *peer, const entity_t *entity,
                              const char *org_unit, zhashx_t *projects, bool bom, char **csv,
                              size_t *size, char *why, size_t why_size);
//  portio_import_benefit.c: the planner's benefits register, in and out.
//  Same contract as portio_import_run and portio_export.
int portio_import_benefit_run (const portio_import_options_t *options,
                               const portio_import_mapping_t *mapping, const void *data,
                               size_t size, portio_import_result_t *result);
int portio_import_benefit_export (const portio_import_peer_t *peer, const char *org_unit, bool bom,
                                  char **csv, size_t *size, char *why, size_t why_size);
//  ISO weeks (portio_import_svc.c): the days since 1970-01-01 of a civil
//  date, and the ISO week of such a day as "2026-W14" into out; 0, or -1
//  outside the years 2000 to 2099 (the allocator's).
int64_t portio_days_from_civil (int64_t y, unsigned m, unsigned d);
//  The weekdays (Monday to Friday) from first to last, such days, both counted.
int64_t portio_weekdays (int64_t first, int64_t last);
int portio_iso_week (int64_t days, char out[9]);

#endif
