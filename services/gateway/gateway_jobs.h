/*  gateway_jobs.h: CSV import, CSV export and the portfolio report, run
    off the reactor.

    The import, export and report library (lib/portio: portio_import,
    portio_report) makes blocking calls to the services, one after another,
    for seconds on a large file: they must never run on the reactor thread,
    which serves every other connection. So each such request becomes a
    job: its own thread, with its own DEALER sockets (pmo_client_t) to the
    services and its own copy of the caller's Identity (the services
    enforce it, exactly as for any other route). When the job is done it
    pushes its pointer to the reactor over an inproc PUSH/PULL pair (the
    only thing crossing threads); the reactor joins the thread and resumes
    the suspended connection with the answer the job prepared.

    A job touches nothing of the reactor's; the reactor reads a job's
    answer only after the job has said it is done.
*/
#ifndef GATEWAY_JOBS_H_INCLUDED
#define GATEWAY_JOBS_H_INCLUDED

#include "pmo_wire.h"
#include "riskmon.pb-c.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
    GATEWAY_JOB_IMPORT, //  POST /api/v1/import
    GATEWAY_JOB_EXPORT, //  GET /api/v1/export/{entity}
    GATEWAY_JOB_REPORT, //  GET /api/v1/reports/{org_unit}
} gateway_job_kind_t;

//  What a job is asked to do. Everything is copied by gateway_job_start
//  except data, which the job takes over.
typedef struct {
    gateway_job_kind_t kind;
    const char *registry;          //  the services' ROUTER endpoints
    const char *allocator;         //  "" or NULL: not configured
    const char *riskmon;           //  ditto
    const char *planner;           //  ditto
    const char *hub;               //  the enterprise unit's id
    const Pmo__Identity *identity; //  the caller (copied)
    const char *notify;            //  inproc endpoint the job pushes itself to when done
    const char *entity;            //  import / export: "project", ...
    const char *mapping;           //  import: a mapping's JSON text; NULL: the native format
    size_t mapping_size;           //  ... its length
    char *data;                    //  import: the CSV body (taken over, malloc'd)
    size_t size;                   //  ... its length
    bool dry_run;                  //  import: check only
    bool skip_bad;                 //  import: write the good rows (else all or nothing)
    bool create_org_units;         //  import: create units the file names
    const char *org_unit;          //  export: "" = all the caller may see; report: the unit
    const char *format;    //  report: "json", "html", "csv" or "xlsx"; export: "csv" or "xlsx"
    const char *sheet;     //  import: an Excel workbook's sheet by name (NULL: the first)
    const char *plan_unit; //  import of a Microsoft Project plan: a new project's org unit
    const char *plan_code; //  ... and its code (NULL: from its title); export of entity
                           //  "mspdi": the project (its code or id)
    const char *table;     //  report, csv: the table
    int64_t since_ms;      //  report: changes since (0: one reporting period)
    bool bom;              //  CSV answers start with a UTF-8 byte order mark
    //  export: the portfolio's filters (NULL: none; copied), applied by the
    //  risk monitor (portio_export_filtered)
    const Pmo__PortfolioRequest *portfolio;
} gateway_job_params_t;

//  A finished job's answer. Either a body (status < 400, or an import's
//  422 with its per-row problems in extra) or a problem.
typedef struct {
    int status;        //  HTTP status
    const char *type;  //  body's Content-Type (static)
    char *body;        //  malloc'd; NULL for a problem
    size_t size;       //  ... its length
    const char *code;  //  problem: the stable error code (static)
    char field[64];    //  problem: the parameter at fault ("" if none)
    char detail[512];  //  problem: for people
    json_t *extra;     //  problem: members added to the problem document (owned)
    char filename[96]; //  Content-Disposition file name ("" = none)
} gateway_job_answer_t;

typedef struct _gateway_job_t gateway_job_t;

//  Start a job on its own thread. NULL if no thread could be made (then
//  params->data is still the caller's).
gateway_job_t *gateway_job_start (const gateway_job_params_t *params);
//  The answer, once the job has pushed itself to notify.
gateway_job_answer_t *gateway_job_answer (gateway_job_t *self);
//  The reactor's own link from a job to its request (the job never reads it).
void *gateway_job_owner (gateway_job_t *self);
void gateway_job_set_owner (gateway_job_t *self, void *owner);
//  Wait for the thread to end (at once if it has pushed itself) and free
//  the job.
void gateway_job_destroy (gateway_job_t **self_p);

//  May who read the contents of the unit at path? Yes if a grant is held
//  in the unit or an ancestor (the whole unit), or in a unit below it (the
//  part of it the grant covers: the services filter the rest). paths maps
//  a grant's unit to its path (NULL if unknown).
bool gateway_job_may_read (const Pmo__Identity *who, const char *path,
                           const char *(*path_of) (void *arg, const char *unit), void *arg);

#endif
