/*  gateway_transfers.c: import, export and the portfolio report as HTTP
    requests. Each is checked here and run as a job on a thread of its own
    (gateway_jobs.c); the connection waits until the job pushes itself back.
*/
#include "gateway_internal.h"
#include "gateway_mappings.h"

#include "orgtree.h"
#include "pmo_json.h"
#include "pmo_util.h"
#include "portio_import.h"
#include "portio_mspdi.h"
#include "portio_report.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define IMPORT_MAX_DEFAULT (16 * 1024 * 1024) //  a CSV file to import, when not configured
#define JOBS_MAX           8 //  imports, exports and reports running at once (then 503)

static size_t s_import_max (self_t *self)
{
    return self->config.max_import ? self->config.max_import : IMPORT_MAX_DEFAULT;
}

//  The body limit of a request to url.
size_t gateway_body_max (self_t *self, const char *url, const char *method)
{
    return strcmp (method, "POST") == 0 && strcmp (url, "/api/v1/import") == 0
               ? s_import_max (self)
               : self->config.max_body;
}

//  A query flag: absent, "", "0", "false", "no" is false; "1", "true",
//  "yes" true. -1 for anything else.
static int s_flag (const json_t *query, const char *name)
{
    const char *value = json_string_value (json_object_get (query, name));
    if (!value || !*value || strcmp (value, "0") == 0 || strcmp (value, "false") == 0 ||
        strcmp (value, "no") == 0)
        return value && !*value ? 1 : 0; //  "?dry_run" alone means yes
    if (strcmp (value, "1") == 0 || strcmp (value, "true") == 0 || strcmp (value, "yes") == 0)
        return 1;
    return -1;
}

//  The query parameters, checked against those allowed (NULL-terminated).
//  NULL after answering 400.
static json_t *s_job_query (request_t *req, const char *const *allowed, enum MHD_Result *answered)
{
    gateway_query_t query = {.obj = json_object ()};
    MHD_get_connection_values (req->connection, MHD_GET_ARGUMENT_KIND, gateway_http_query_collect,
                               &query);
    char detail[200];
    if (query.duplicate) {
        snprintf (detail, sizeof detail, "query parameter '%s' is given twice", query.name);
        json_decref (query.obj);
        *answered =
            gateway_http_problem (req, 400, "invalid", query.name, detail, NULL, NULL, NULL);
        return NULL;
    }
    const char *key;
    json_t *value;
    json_object_foreach (query.obj, key, value)
    {
        bool known = false;
        for (size_t i = 0; allowed[i] && !known; i++)
            known = strcmp (allowed[i], key) == 0;
        if (!known) {
            snprintf (detail, sizeof detail, "unknown query parameter '%s'", key);
            *answered = gateway_http_problem (req, 400, "invalid", key, detail, NULL, NULL, NULL);
            json_decref (query.obj);
            return NULL;
        }
    }
    return query.obj;
}

//  Start the job; the connection waits for it.
static enum MHD_Result s_job_start (self_t *self, request_t *req, gateway_job_params_t *params)
{
    if (zlistx_size (self->jobs) >= JOBS_MAX)
        return gateway_http_problem (req, 503, "unavailable", "",
                                     "too many imports, exports and reports at once; retry shortly",
                                     NULL, "Retry-After", "2");
    params->registry = self->config.upstreams[GATEWAY_SVC_REGISTRY];
    params->allocator =
        self->dealers[GATEWAY_SVC_ALLOCATOR] ? self->config.upstreams[GATEWAY_SVC_ALLOCATOR] : NULL;
    params->riskmon =
        self->dealers[GATEWAY_SVC_RISKMON] ? self->config.upstreams[GATEWAY_SVC_RISKMON] : NULL;
    params->planner =
        self->dealers[GATEWAY_SVC_PLANNER] ? self->config.upstreams[GATEWAY_SVC_PLANNER] : NULL;
    params->hub = self->config.hub;
    params->identity = &req->caller.identity;
    params->notify = self->jobs_endpoint;
    gateway_job_t *job = gateway_job_start (params);
    if (!job)
        return gateway_http_problem (req, 503, "unavailable", "",
                                     "no thread could be started; retry shortly", NULL,
                                     "Retry-After", "1");
    gateway_job_set_owner (job, req);
    zlistx_add_end (self->jobs, job);
    req->job = job;
    req->kind = KIND_JOB;
    req->stage = STAGE_WAITING;
    MHD_suspend_connection (req->connection);
    return MHD_YES;
}

//  ---------------------------------------------------------------------
//  multipart/form-data: the file and its mapping in one request (what a
//  browser's FormData sends), read with libmicrohttpd's post processor
//  from the body already received.

#define PART_TEXT_MAX (1024 * 1024) //  a mapping, or a form field

typedef struct {
    char *data;
    size_t size;
    bool given;
} part_t;

typedef struct {
    part_t file;         //  "file": the spreadsheet
    part_t mapping;      //  "mapping": a mapping (JSON)
    part_t mapping_name; //  "mapping_name": a mapping kept on the gateway
    part_t entity;       //  "entity": a file in the export format of this entity
    char error[200];     //  what is wrong with the form, "" if nothing
    char field[64];      //  ... and which part
} form_t;

static void s_form_free (form_t *form)
{
    free (form->file.data);
    free (form->mapping.data);
    free (form->mapping_name.data);
    free (form->entity.data);
}

static enum MHD_Result s_form_part (void *cls, enum MHD_ValueKind kind, const char *key,
                                    const char *filename, const char *content_type,
                                    const char *transfer_encoding, const char *data, uint64_t off,
                                    size_t size)
{
    (void)kind, (void)filename, (void)content_type, (void)transfer_encoding;
    form_t *form = cls;
    part_t *part = !key                                ? NULL
                   : strcmp (key, "file") == 0         ? &form->file
                   : strcmp (key, "mapping") == 0      ? &form->mapping
                   : strcmp (key, "mapping_name") == 0 ? &form->mapping_name
                   : strcmp (key, "entity") == 0       ? &form->entity
                                                       : NULL;
    snprintf (form->field, sizeof form->field, "%.63s", key ? key : "");
    if (!part) {
        snprintf (form->error, sizeof form->error,
                  "unknown part '%.60s': the form has file, and mapping, mapping_name or entity",
                  key ? key : "");
        return MHD_NO;
    }
    if (off == 0 && part->given && size) {
        snprintf (form->error, sizeof form->error, "part '%s' is given twice", key);
        return MHD_NO;
    }
    part->given = true;
    if (part != &form->file && part->size + size > PART_TEXT_MAX) {
        snprintf (form->error, sizeof form->error, "part '%s' is larger than %d bytes", key,
                  PART_TEXT_MAX);
        return MHD_NO;
    }
    if (size) {
        part->data = realloc (part->data, part->size + size + 1);
        assert (part->data);
        memcpy (part->data + part->size, data, size);
        part->size += size;
        part->data[part->size] = 0;
    }
    return MHD_YES;
}

//  Read the form in req's body. 0, or -1 with form->error (and field) set.
static int s_form_read (request_t *req, form_t *form)
{
    struct MHD_PostProcessor *pp =
        MHD_create_post_processor (req->connection, 65536, s_form_part, form);
    if (!pp) {
        snprintf (form->error, sizeof form->error,
                  "multipart/form-data needs a boundary in its Content-Type");
        snprintf (form->field, sizeof form->field, "Content-Type");
        return -1;
    }
    enum MHD_Result ok = MHD_post_process (pp, req->body ? req->body : "", req->size);
    //  Destroying says whether the form was complete
    if (MHD_destroy_post_processor (pp) != MHD_YES)
        ok = MHD_NO;
    if (ok != MHD_YES && !*form->error) {
        snprintf (form->error, sizeof form->error,
                  "the multipart/form-data body cannot be read (a part or the closing "
                  "boundary is missing)");
        snprintf (form->field, sizeof form->field, "body");
    }
    if (ok == MHD_YES && !form->file.given) {
        snprintf (form->error, sizeof form->error, "the form has no part 'file' (the spreadsheet)");
        snprintf (form->field, sizeof form->field, "file");
        ok = MHD_NO;
    }
    return ok == MHD_YES ? 0 : -1;
}

static bool s_form_type (struct MHD_Connection *connection)
{
    const char *type = MHD_lookup_connection_value (connection, MHD_HEADER_KIND, "Content-Type");
    return type && strncasecmp (type, "multipart/form-data", 19) == 0;
}

static bool s_csv_type (struct MHD_Connection *connection)
{
    const char *type = MHD_lookup_connection_value (connection, MHD_HEADER_KIND, "Content-Type");
    return !type || strncasecmp (type, "text/csv", 8) == 0 ||
           strncasecmp (type, "text/plain", 10) == 0 ||
           strncasecmp (type, "application/csv", 15) == 0 ||
           strncasecmp (type, "application/octet-stream", 24) == 0 ||
           strncasecmp (type, "application/x-www-form-urlencoded", 33) == 0 ||
           strncasecmp (type, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        65) == 0 ||
           strncasecmp (type, "application/xml", 15) == 0 || strncasecmp (type, "text/xml", 8) == 0;
}

static const char *s_path_of (void *ctx, const char *unit)
{
    return orgtree_path ((orgtree_t *)ctx, unit);
}

enum MHD_Result gateway_import_begin (self_t *self, request_t *req)
{
    static const char *const allowed[] = {
        "entity", "mapping",  "dry_run", "skip_bad", "create_org_units",
        "sheet",  "org_unit", "code",    NULL};
    bool multipart = s_form_type (req->connection);
    if (!multipart && !s_csv_type (req->connection))
        return gateway_http_problem (
            req, 415, "unsupported_media_type", "Content-Type",
            "send the file as text/csv, or as multipart/form-data with its mapping", NULL, NULL,
            NULL);
    enum MHD_Result answered;
    json_t *query = s_job_query (req, allowed, &answered);
    if (!query)
        return answered;
    form_t form = {0};
    if (multipart && s_form_read (req, &form)) {
        answered =
            gateway_http_problem (req, 400, "invalid", form.field, form.error, NULL, NULL, NULL);
        s_form_free (&form);
        json_decref (query);
        return answered;
    }
    //  The entity, or a stored mapping's name, from the query or the form
    const char *entity = json_string_value (json_object_get (query, "entity"));
    const char *name = json_string_value (json_object_get (query, "mapping"));
    bool twice = (entity && form.entity.given) || (name && form.mapping_name.given);
    entity = entity              ? entity
             : form.entity.given ? (form.entity.data ? form.entity.data : "")
                                 : NULL;
    name = name                      ? name
           : form.mapping_name.given ? (form.mapping_name.data ? form.mapping_name.data : "")
                                     : NULL;
    //  A Microsoft Project plan (known by its content) needs no mapping
    const char *file = multipart ? form.file.data : req->body;
    size_t file_size = multipart ? form.file.size : req->size;
    if (file && portio_mspdi_is (file, file_size) && !entity && !name && !form.mapping.given)
        entity = "project";
    int dry_run = s_flag (query, "dry_run"), skip_bad = s_flag (query, "skip_bad"),
        create = s_flag (query, "create_org_units");
    const char *bad = dry_run < 0    ? "dry_run"
                      : skip_bad < 0 ? "skip_bad"
                      : create < 0   ? "create_org_units"
                                     : NULL;
    char detail[300];
    char *mapping = NULL;
    size_t mapping_size = 0;
    enum MHD_Result rc = MHD_YES;
    if (bad) {
        snprintf (detail, sizeof detail, "%s is 1 or 0 (true or false)", bad);
        rc = gateway_http_problem (req, 400, "invalid", bad, detail, NULL, NULL, NULL);
    } else if (twice)
        rc = gateway_http_problem (
            req, 400, "invalid", entity && form.entity.given ? "entity" : "mapping",
            "give it in the query or as a part of the form, not both", NULL, NULL, NULL);
    else if ((entity != NULL) + (name != NULL) + form.mapping.given != 1)
        rc = gateway_http_problem (
            req, 400, "invalid", "entity",
            multipart ? "give one of: a part 'mapping' (the mapping's JSON), a part or query "
                        "parameter 'mapping_name' / mapping=<name> (a mapping kept on the "
                        "gateway), or entity=<kind> (a file in the export format)"
                      : "give entity=<kind> (a file in the export format) or mapping=<name>",
            NULL, NULL, NULL);
    else if (entity && !portio_import_mapping_entity_known (entity))
        rc = gateway_http_problem (
            req, 400, "invalid", "entity",
            "entity is org_unit, project, milestone, status_report, resource, "
            "allocation, risk or issue",
            NULL, NULL, NULL);
    else if (name) {
        //  The reactor's tree answers from what it holds (it never waits)
        mapping =
            gateway_mapping_read (self->config.mappings, name, &req->caller.identity, s_path_of,
                                  self->orgs, &mapping_size, detail, sizeof detail);
        if (!mapping)
            rc = gateway_http_problem (req, 400, "invalid",
                                       form.mapping_name.given ? "mapping_name" : "mapping", detail,
                                       NULL, NULL, NULL);
    } else if (form.mapping.given) {
        //  The caller's own mapping: checked by the job like a stored one
        mapping = form.mapping.data ? form.mapping.data : strdup ("");
        mapping_size = form.mapping.size;
        form.mapping.data = NULL;
    }
    if (rc == MHD_YES && req->stage != STAGE_DONE) {
        char *data = multipart ? form.file.data : req->body;
        size_t size = multipart ? form.file.size : req->size;
        gateway_job_params_t params = {
            .kind = GATEWAY_JOB_IMPORT,
            .entity = entity,
            .mapping = mapping,
            .mapping_size = mapping_size,
            .data = data ? data : strdup (""),
            .size = size,
            .dry_run = dry_run == 1,
            .skip_bad = skip_bad == 1,
            .create_org_units = create == 1,
            .sheet = json_string_value (json_object_get (query, "sheet")),
            .plan_unit = json_string_value (json_object_get (query, "org_unit")),
            .plan_code = json_string_value (json_object_get (query, "code")),
        };
        rc = s_job_start (self, req, &params);
        if (req->job) {
            //  The data is the job's now
            if (multipart)
                form.file.data = NULL;
            else
                req->body = NULL, req->size = 0;
        } else if (!data)
            free (params.data);
    }
    free (mapping);
    s_form_free (&form);
    json_decref (query);
    return rc;
}

//  The segment after prefix in url: one path segment of safe characters
//  (copied into out). false if there is none.
bool gateway_url_segment (const char *url, const char *prefix, char *out, size_t size)
{
    size_t len = strlen (prefix);
    if (strncmp (url, prefix, len) != 0)
        return false;
    const char *segment = url + len;
    bool ok = *segment && strlen (segment) < size;
    for (const char *c = segment; ok && *c; c++)
        ok = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
             *c == '-' || *c == '_' || *c == '.';
    if (ok)
        snprintf (out, size, "%s", segment);
    return ok;
}

//  The portfolio's filters an export may follow: the query parameters of
//  GET /api/v1/portfolio (the risk monitor applies them)
static const char *const s_portfolio_filters[] = {
    "q", "portfolio_id", "programme_id", "phase", "status", "reported", "computed", "sort", NULL};

//  The filters given as a portfolio request: 0 and *out (NULL when none
//  is given), or -1 with the problem answered
static int s_export_filter (request_t *req, json_t *query, Pmo__PortfolioRequest **out,
                            enum MHD_Result *answered)
{
    *out = NULL;
    json_t *given = json_object ();
    for (size_t i = 0; s_portfolio_filters[i]; i++) {
        json_t *value = json_object_get (query, s_portfolio_filters[i]);
        if (value && *json_string_value (value))
            json_object_set (given, s_portfolio_filters[i], value);
    }
    int rc = 0;
    if (json_object_size (given)) {
        pmo_json_error_t err;
        ProtobufCMessage *msg = NULL;
        if (pmo_json_to_message (&pmo__portfolio_request__descriptor, given, &msg, &err)) {
            char detail[600];
            snprintf (detail, sizeof detail, "%s: %s", err.field, err.message);
            *answered =
                gateway_http_problem (req, 400, "invalid", err.field, detail, NULL, NULL, NULL);
            rc = -1;
        } else
            *out = (Pmo__PortfolioRequest *)msg;
    }
    json_decref (given);
    return rc;
}

enum MHD_Result gateway_export_begin (self_t *self, request_t *req)
{
    static const char *const allowed[] = {"org_unit",     "bom",          "format", "q",
                                          "portfolio_id", "programme_id", "phase",  "status",
                                          "reported",     "computed",     "sort",   NULL};
    static const char *const allowed_plan[] = {"project", NULL};
    enum MHD_Result answered;
    if (strcmp (req->param, "mspdi") == 0) {
        //  One project as a Microsoft Project plan: ?project=CODE (or id)
        json_t *query = s_job_query (req, allowed_plan, &answered);
        if (!query)
            return answered;
        const char *project = json_string_value (json_object_get (query, "project"));
        enum MHD_Result rc;
        if (!project || !*project)
            rc = gateway_http_problem (req, 400, "invalid", "project",
                                       "project is required: the code (or id) of the project "
                                       "to export as a Microsoft Project plan",
                                       NULL, NULL, NULL);
        else {
            gateway_job_params_t params = {
                .kind = GATEWAY_JOB_EXPORT,
                .format = "xml",
                .entity = "mspdi",
                .plan_code = project,
            };
            rc = s_job_start (self, req, &params);
        }
        json_decref (query);
        return rc;
    }
    if (!portio_import_mapping_entity_known (req->param))
        return gateway_http_problem (
            req, 404, "not_found", "entity",
            "export org_unit, project, milestone, status_report, resource, "
            "allocation, risk or issue; or mspdi?project=CODE (a Microsoft Project plan)",
            NULL, NULL, NULL);
    json_t *query = s_job_query (req, allowed, &answered);
    if (!query)
        return answered;
    Pmo__PortfolioRequest *filter;
    if (s_export_filter (req, query, &filter, &answered)) {
        json_decref (query);
        return answered;
    }
    int bom = s_flag (query, "bom");
    const char *format = json_string_value (json_object_get (query, "format"));
    format = format ? format : "csv";
    enum MHD_Result rc;
    if (bom < 0)
        rc = gateway_http_problem (req, 400, "invalid", "bom", "bom is 1 or 0 (true or false)",
                                   NULL, NULL, NULL);
    else if (filter &&
             (strcmp (req->param, "org_unit") == 0 || strcmp (req->param, "resource") == 0))
        rc = gateway_http_problem (req, 400, "invalid", "entity",
                                   "the portfolio's filters apply to projects and their records "
                                   "(project, milestone, status_report, allocation, risk, issue), "
                                   "not to org units or resources",
                                   NULL, NULL, NULL);
    else if (strcmp (format, "csv") && strcmp (format, "xlsx"))
        rc = gateway_http_problem (req, 400, "invalid", "format", "format is csv or xlsx", NULL,
                                   NULL, NULL);
    else if (filter && !self->dealers[GATEWAY_SVC_RISKMON])
        rc = gateway_http_problem (req, 503, "unavailable", "",
                                   "the portfolio's filters are the risk monitor's, which is not "
                                   "configured; export without them",
                                   NULL, NULL, NULL);
    else {
        gateway_job_params_t params = {
            .kind = GATEWAY_JOB_EXPORT,
            .format = format,
            .entity = req->param,
            .org_unit = json_string_value (json_object_get (query, "org_unit")),
            .bom = bom == 1,
            .portfolio = filter,
        };
        rc = s_job_start (self, req, &params);
    }
    if (filter)
        pmo__portfolio_request__free_unpacked (filter, NULL);
    json_decref (query);
    return rc;
}

enum MHD_Result gateway_report_begin (self_t *self, request_t *req)
{
    static const char *const allowed[] = {"format", "table", "since", "bom", NULL};
    enum MHD_Result answered;
    json_t *query = s_job_query (req, allowed, &answered);
    if (!query)
        return answered;
    const char *format = json_string_value (json_object_get (query, "format"));
    const char *table = json_string_value (json_object_get (query, "table"));
    const char *since = json_string_value (json_object_get (query, "since"));
    int bom = s_flag (query, "bom");
    format = format ? format : "json";
    bool known_table = !table;
    for (const char *const *t = portio_report_tables (); *t && !known_table; t++)
        known_table = strcmp (*t, table) == 0;
    struct tm tm = {0};
    const char *end = since ? strptime (since, "%Y-%m-%d", &tm) : NULL;
    enum MHD_Result rc;
    if (strcmp (format, "json") && strcmp (format, "html") && strcmp (format, "csv") &&
        strcmp (format, "xlsx"))
        rc = gateway_http_problem (req, 400, "invalid", "format",
                                   "format is json, html, csv or xlsx", NULL, NULL, NULL);
    else if (!known_table || (table && strcmp (format, "csv")))
        rc = gateway_http_problem (
            req, 400, "invalid", "table",
            "table (with format=csv) is summary, rag, phase, status, units, projects, "
            "changes, risks, overallocated or alerts",
            NULL, NULL, NULL);
    else if (since && (!pmo_date_valid (since) || !end || *end))
        rc = gateway_http_problem (req, 400, "invalid", "since", "since is a date, YYYY-MM-DD",
                                   NULL, NULL, NULL);
    else if (bom < 0)
        rc = gateway_http_problem (req, 400, "invalid", "bom", "bom is 1 or 0 (true or false)",
                                   NULL, NULL, NULL);
    else {
        gateway_job_params_t params = {
            .kind = GATEWAY_JOB_REPORT,
            .org_unit = req->param,
            .format = format,
            .table = table ? table : "summary",
            .since_ms = since ? (int64_t)timegm (&tm) * 1000 : 0,
            .bom = bom == 1,
        };
        rc = s_job_start (self, req, &params);
    }
    json_decref (query);
    return rc;
}

//  A job pushed itself: it is done. Answer its request (if the client is
//  still there) or let it go.
void gateway_job_done (self_t *self)
{
    gateway_job_t *job = NULL;
    if (zsock_recv (self->jobs_pull, "p", &job) || !job)
        return;
    void *handle = zlistx_find (self->jobs, job);
    if (handle)
        zlistx_delete (self->jobs, handle);
    request_t *req = gateway_job_owner (job);
    if (!req) {
        gateway_job_destroy (&job); //  the client went away, or we are stopping
        return;
    }
    req->job_done = true;
    gateway_ready (req);
}

enum MHD_Result gateway_job_finish (self_t *self, request_t *req)
{
    (void)self;
    if (!req->job) //  stopping before it ended
        return gateway_http_problem (req, 503, "unavailable", "",
                                     "the gateway is stopping; retry shortly", NULL, "Retry-After",
                                     "1");
    gateway_job_answer_t *answer = gateway_job_answer (req->job);
    if (!answer->body) {
        json_t *extra = answer->extra;
        answer->extra = NULL;
        return gateway_http_problem (req, answer->status, answer->code, answer->field,
                                     answer->detail, extra,
                                     answer->status == 503 ? "Retry-After" : NULL, "1");
    }
    struct MHD_Response *response;
    gateway_http_send (req, answer->status, answer->type, answer->body, answer->size, &response);
    answer->body = NULL; //  the response frees it
    MHD_add_response_header (response, "Cache-Control", "no-store");
    if (*answer->filename) {
        char disposition[160];
        snprintf (disposition, sizeof disposition, "attachment; filename=\"%s\"", answer->filename);
        MHD_add_response_header (response, "Content-Disposition", disposition);
    }
    if (strncmp (answer->type, "text/html", 9) == 0)
        //  The report page is self-contained: inline styles and SVG, no scripts
        MHD_add_response_header (response, "Content-Security-Policy",
                                 "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
                                 "frame-ancestors 'none'");
    return gateway_http_queue (req, response);
}
