/*  portio_import.h: spreadsheets in and out of the registry, for pmoctl and
    the gateway alike.

    Import: a CSV file (portio_csv reads it) and a column mapping (JSON: which
    file column fills which field, with values maps, defaults and templates)
    become org units, projects (each row may also carry a status report),
    milestones or status reports. The importer reads what exists, matches
    each row by its key (a project's code or external id; a milestone's
    project and name; a report's project and period), and sends only what
    is new or changed, with the version it read, as import_batch requests
    (services/registry/registry_import.c). Every batch is first sent as a
    dry run, so every problem of the whole file is known before anything is
    written: a problem is a row, a column, the value and the reason.

    Modes: a dry run writes nothing. All or nothing (the default) writes
    only if no row has a problem; skip-bad writes the good rows and lists
    the bad. Each batch (up to 1000 rows of one division) is one atomic
    commit; an import bigger than one batch is validated whole before the
    first commit, so the only way it can stop half-way is a change made by
    someone else between the check and the commit, or Redis going away:
    then the result says which rows were written, and running the same
    import again completes it (rows already written are unchanged).

    Resources and allocations (the allocator) and risks and issues (the
    risk monitor) go through the same mappings, keys and modes, row by row
    through those services' own requests (portio_import_svc.c): see
    services/pmoctl/README-import.md for what all or nothing means there.

    Export: every entity kind as CSV whose header is the native mapping's,
    so an exported file imports back unchanged.

    Everything a result holds lives in its own arena.
*/
#ifndef PORTIO_IMPORT_H_INCLUDED
#define PORTIO_IMPORT_H_INCLUDED

#include "pmo_client.h"
#include "pmo_util.h"
#include "portio_csv.h"
#include "registry.pb-c.h"
#include "riskmon.pb-c.h"

#include <jansson.h>
#include <stdbool.h>

//  Rows of one import batch at most, and its size: under the registry's
//  2000 items and its 1 MB frame.
#define PORTIO_IMPORT_BATCH_ROWS  1000
#define PORTIO_IMPORT_BATCH_BYTES (700 * 1024)

//  ---------------------------------------------------------------------
//  Talking to the services (shared with portio_report)

//  Which service keeps an entity, and which of a peer's clients a call uses.
typedef enum {
    PORTIO_IMPORT_REGISTRY = 0,
    PORTIO_IMPORT_ALLOCATOR = 1,
    PORTIO_IMPORT_RISKMON = 2,
    PORTIO_IMPORT_PLANNER = 3,
} portio_import_service_t;

typedef struct {
    pmo_client_t *registry;        //  connected to the registry (not owned)
    const Pmo__Identity *identity; //  who is asking (not owned)
    int timeout_ms;                //  per attempt; 0 = 10000
    int attempts;                  //  same request id each time; 0 = 3
    pmo_client_t *allocator;       //  resources, allocations, reports; NULL: not asked (not owned)
    pmo_client_t *riskmon;         //  risks, issues, health, alerts; NULL: not asked (not owned)
    pmo_client_t *planner;         //  benefits; NULL: not asked (not owned)
} portio_import_peer_t;

//  Send body as RegistryRequest member `member`. Returns the reply (caller
//  frees with protobuf_c_message_free_unpacked), or NULL when none came in
//  time (why says so). A reply carrying an error is returned as is.
Pmo__RegistryReply *portio_import_call (const portio_import_peer_t *peer, const char *member,
                                        ProtobufCMessage *body, char *why, size_t why_size);
//  Every entity of kind under org_unit ("" = all the caller may see),
//  archived ones too if asked, copied into arena. Returns 0 or -1 (why).
int portio_import_list (const portio_import_peer_t *peer, pmo_arena_t *arena, Pmo__EntityKind kind,
                        const char *org_unit, const char *project_id, bool archived,
                        ProtobufCMessage ***items, size_t *n, char *why, size_t why_size);
//  Every resource, allocation, risk, issue or alert (entity) under org_unit
//  ("" = all the caller may see), closed and released ones too, from the
//  allocator or the risk monitor. The records and the array are copied into
//  arena (the caller's: they live as long as it does). Returns 0 or -1 (why).
int portio_import_svc_list (const portio_import_peer_t *peer, pmo_arena_t *arena,
                            const char *entity, const char *org_unit, ProtobufCMessage ***items,
                            size_t *n, char *why, size_t why_size);
//  True if service answers a ping within timeout_ms, in one attempt: ask
//  before a report, so that it does not wait out every retry for a service
//  that is not running. False for a service the peer has no client for.
bool portio_import_answers (const portio_import_peer_t *peer, portio_import_service_t service,
                            int timeout_ms);

//  ---------------------------------------------------------------------
//  Mappings

typedef struct _portio_import_mapping_t portio_import_mapping_t;

//  Load a mapping from JSON text (see services/pmoctl/README-import.md and
//  deploy/data/gmpp-mapping.json). NULL with why on a bad mapping.
portio_import_mapping_t *portio_import_mapping_load (const char *text, size_t size, char *why,
                                                     size_t why_size);
//  The mapping of the export format of an entity ("project", "milestone",
//  "status_report", "org_unit", "resource", "allocation", "risk",
//  "issue", "change_request", "raid", "benefit"); NULL for an unknown entity.
portio_import_mapping_t *portio_import_mapping_native (const char *entity);
void portio_import_mapping_destroy (portio_import_mapping_t **self_p);
//  True for an entity the import and export know ("project", ...).
bool portio_import_mapping_entity_known (const char *entity);
//  The entity the mapping imports.
const char *portio_import_mapping_entity (const portio_import_mapping_t *self);

//  ---------------------------------------------------------------------
//  Import

typedef struct {
    portio_import_peer_t peer;
    const char *hub;       //  the enterprise unit's id; NULL = "hub"
    bool dry_run;          //  check everything, write nothing
    bool skip_bad;         //  write the good rows, list the bad (else all or nothing)
    bool create_org_units; //  create the org units the file names that do not exist
    const char *sheet;     //  an Excel workbook's sheet by name (NULL or "": the first)
    const char *org_unit;  //  a Microsoft Project plan: the org unit of a new project
    const char *code;      //  ... and its code (NULL: from its title)
} portio_import_options_t;

typedef struct {
    size_t row;         //  as a spreadsheet numbers it (the header is row 1)
    const char *column; //  the file's column ("" for the whole row)
    const char *value;  //  what the cell holds (shortened)
    const char *reason; //  for people
} portio_import_problem_t;

//  What a cell's reading fell back to, counted in the result.
typedef enum {
    PORTIO_IMPORT_FALLBACK_BLANK = 0,    //  a blank marker ("TBC", the mapping's) left it empty
    PORTIO_IMPORT_FALLBACK_WITHHELD = 1, //  withheld from publication: left empty
    PORTIO_IMPORT_FALLBACK_TWO_DIGIT_YEAR = 2, //  the pivot decided the century
} portio_import_fallback_t;

//  How often a marker was met.
typedef struct {
    const char *kind;   //  "blank" or "withheld"
    const char *marker; //  the mapping's pattern ("Early planning*") or a built-in one ("tbc")
    bool mapping;       //  from the mapping (else built in)
    size_t count;       //  cells
} portio_import_marker_t;

//  Columns of the file that share a header text.
typedef struct {
    const char *name;      //  the header text
    const char *positions; //  "3, 9" (1-based)
    size_t count;
} portio_import_duplicate_t;

typedef enum {
    PORTIO_IMPORT_ROW_BAD = 0,       //  has problems; not written
    PORTIO_IMPORT_ROW_CREATE = 1,    //  new (dry run: would be created)
    PORTIO_IMPORT_ROW_UPDATE = 2,    //  changed (dry run: would be updated)
    PORTIO_IMPORT_ROW_UNCHANGED = 3, //  nothing to do
    PORTIO_IMPORT_ROW_BLANK = 4,     //  an empty line
} portio_import_action_t;

typedef struct {
    size_t row;
    portio_import_action_t action;
    const char *id; //  the entity's id once written (or when unchanged)
    bool written;   //  committed by this run
} portio_import_row_t;

typedef struct {
    pmo_arena_t *arena;   //  owns everything below
    const char *entity;   //  what was imported
    const char *encoding; //  of the file, detected or given
    char delimiter;       //  ditto
    size_t rows;          //  data rows (blank lines not counted)
    size_t created, updated, unchanged, bad;
    size_t reports_created;          //  status reports carried by project rows
    size_t skipped;                  //  parts of the file left out by rule (Microsoft Project:
                                     //  material and cost resources, unassigned work)
    const char **warnings;           //  what the import decided for a file that contradicts
    size_t n_warnings;               //  itself (Microsoft Project: a finish before the start)
    size_t org_units_created;        //  (dry run: that would be)
    size_t withheld;                 //  cells withheld from publication (left empty)
    size_t blanked;                  //  cells a blank marker left empty ("TBC", the mapping's)
    size_t two_digit_years;          //  dates whose century the two-digit year pivot decided
    portio_import_marker_t *markers; //  each marker met, with its count
    size_t n_markers;
    portio_import_duplicate_t *duplicates; //  header texts several columns share
    size_t n_duplicates;
    bool dry_run;
    bool written;      //  something was committed
    const char *error; //  the import could not run (file, mapping, no reply)
    bool file_error;   //  ... because of the file itself (empty, not text, no header row,
                       //  an unreadable workbook): the sender's to fix, not a service's
    portio_import_problem_t *problems;
    size_t n_problems;
    portio_import_row_t *row_results; //  one per data row, in file order
    size_t n_rows;
} portio_import_result_t;

//  Import a file: CSV, an Excel workbook (.xlsx, known by its content: see
//  portio_xlsx.h; its numbers have a decimal point), or a Microsoft Project
//  plan (MSPDI XML, known by its content; the mapping is not used: see
//  portio_mspdi.h). Returns 0 if the import did what the mode
//  asks (a dry run that found problems still returns 0: see the result), -1 if it could not run or
//  refused (problems in all-or-nothing mode, a failed commit); the result always says why. Caller
//  destroys the result.
int portio_import_run (const portio_import_options_t *options,
                       const portio_import_mapping_t *mapping, const void *data, size_t size,
                       portio_import_result_t **result);
void portio_import_result_destroy (portio_import_result_t **self_p);
//  The result as JSON (counts, problems, rows); caller json_decref's it.
json_t *portio_import_result_json (const portio_import_result_t *self);

//  ---------------------------------------------------------------------
//  Export

//  Every entity of kind ("project", "milestone", "status_report",
//  "org_unit", "resource", "allocation", "risk", "issue", "change_request", "raid",
//  "benefit") under org_unit ("" = all the caller may
//  see) as CSV in the native mapping's format. *csv is the caller's to free. Returns 0 or -1 with
//  why.
int portio_export (const portio_import_peer_t *peer, const char *entity, const char *org_unit,
                   bool bom, char **csv, size_t *size, char *why, size_t why_size);
//  The same, following the portfolio's filters: filter is the risk
//  monitor's portfolio request (search, portfolio, programme, phase,
//  status, reported and computed RAG, sort; its org_unit, limit and cursor
//  are ignored: org_unit is the one above). The export holds the projects
//  the portfolio view shows for those filters, in its order, or the
//  records of those projects (milestones, status reports, allocations,
//  risks, issues...). The risk monitor applies the filters (one copy of
//  the rule): the peer needs it. Org units and resources belong to no
//  project: refused. filter NULL: portio_export.
int portio_export_filtered (const portio_import_peer_t *peer, const char *entity,
                            const char *org_unit, const Pmo__PortfolioRequest *filter, bool bom,
                            char **csv, size_t *size, char *why, size_t why_size);

#endif
