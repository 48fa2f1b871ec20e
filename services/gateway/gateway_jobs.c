/*  gateway_jobs.c: CSV import, export and the portfolio report on a
    thread of their own. See gateway_jobs.h.
*/
#include "gateway_jobs.h"

#include "orgtree.h"
#include "pmo_log.h"
#include "portio_import.h"
#include "portio_report.h"
#include "portio_mspdi.h"
#include "portio_xlsx.h"

#include <assert.h>
#include <czmq.h>
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PING_MS   1000  //  report: a service that does not answer a ping by then is left out
#define ORGS_MS   5000  //  the org units, read for the access check
#define CALL_MS   10000 //  each service call of the libraries, per attempt
#define ATTEMPTS  2     //  ... under the same request id
#define XLSX_TYPE "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

struct _gateway_job_t {
    gateway_job_params_t params;      //  the strings below are our copies
    Pmo__Identity *identity;          //  unpacked copy of the caller
    Pmo__PortfolioRequest *portfolio; //  unpacked copy of the export's filters, or NULL
    char *registry, *allocator, *riskmon, *planner, *hub, *notify, *entity, *mapping, *org_unit,
        *format, *sheet, *plan_unit, *plan_code, *table; //  copies
    pthread_t thread;
    bool started; //  the thread runs (join it)
    gateway_job_answer_t answer;
    void *owner; //  the reactor's request (never read here)
};

static char *s_dup (const char *text)
{
    return text ? strdup (text) : NULL;
}

//  A problem answer.
static void s_fail (gateway_job_answer_t *answer, int status, const char *code, const char *field,
                    const char *detail)
{
    answer->status = status;
    answer->code = code;
    snprintf (answer->field, sizeof answer->field, "%s", field ? field : "");
    snprintf (answer->detail, sizeof answer->detail, "%s", detail ? detail : "");
}

//  The libraries say why they failed as "<code> [field]: message" (a
//  service's error) or "no reply ..." (nothing came in time), an import's
//  batch as "batch N of M (division 'd') was not written: <that>" and its
//  dry run as "the registry refused the check: <that>": the HTTP status of
//  that (a batch or a check refused as unavailable is a 503 to retry, not a
//  502).
static void s_fail_why (gateway_job_answer_t *answer, const char *why)
{
    static const char check[] = "the registry refused the check: ";
    const char *cause = why;
    const char *batch = strstr (why, " was not written: ");
    if (strncmp (why, "batch ", 6) == 0 && batch)
        cause = batch + strlen (" was not written: ");
    else if (strncmp (why, check, strlen (check)) == 0)
        cause = why + strlen (check);
    static const struct {
        const char *prefix;
        int status;
        const char *code;
    } map[] = {
        {"invalid", 400, "invalid"},
        {"malformed", 400, "invalid"},
        {"forbidden", 403, "forbidden"},
        {"not_found", 404, "not_found"},
        {"no org unit", 404, "not_found"},
        {"conflict", 409, "conflict"},
        {"already_exists", 409, "already_exists"},
        {"failed_precondition", 409, "failed_precondition"},
        {"unavailable", 503, "unavailable"},
        {"deadline_exceeded", 504, "deadline_exceeded"},
        {"no reply", 504, "deadline_exceeded"},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strncmp (cause, map[i].prefix, strlen (map[i].prefix)) == 0)
            return s_fail (answer, map[i].status, map[i].code, "", why);
    s_fail (answer, 502, "upstream", "", why);
}

static void s_body (gateway_job_answer_t *answer, int status, const char *type, char *body,
                    size_t size)
{
    answer->status = status;
    answer->type = type;
    answer->body = body;
    answer->size = size;
}

//  The path of a unit in the org-unit tree (for gateway_job_may_read).
static const char *s_orgs_path (void *arg, const char *unit)
{
    return orgtree_path ((orgtree_t *)arg, unit);
}

//  The unit exists and the caller may read it: 0, or the answer is a
//  problem (404 no such unit, 403 not yours, 503 the registry is away).
//  A job lives for one request: its tree is read once, as the caller.
static int s_check_unit (gateway_job_t *self, const char *unit)
{
    orgtree_config_t config = {
        .registry = self->registry, .identity = self->identity, .timeout_ms = ORGS_MS};
    orgtree_t *orgs = orgtree_new (&config);
    if (!orgs || orgtree_refresh (orgs, true)) {
        orgtree_destroy (&orgs);
        s_fail (&self->answer, 503, "unavailable", "",
                "the registry did not answer with the org units; retry shortly");
        return -1;
    }
    //  Ours: the tree's copy lasts only until its next call
    char *path = s_dup (orgtree_path (orgs, unit));
    int rc = 0;
    char detail[300];
    if (!path) {
        snprintf (detail, sizeof detail, "no org unit '%s'", unit);
        s_fail (&self->answer, 404, "not_found", "org_unit", detail);
        rc = -1;
    } else if (!gateway_job_may_read (self->identity, path, s_orgs_path, orgs)) {
        snprintf (detail, sizeof detail, "your grants do not cover org unit '%s'", unit);
        s_fail (&self->answer, 403, "forbidden", "org_unit", detail);
        rc = -1;
    }
    free (path);
    orgtree_destroy (&orgs);
    return rc;
}

static void s_import (gateway_job_t *self, portio_import_peer_t *peer)
{
    gateway_job_answer_t *answer = &self->answer;
    char why[512];
    portio_import_mapping_t *mapping =
        self->mapping
            ? portio_import_mapping_load (self->mapping, self->params.mapping_size, why, sizeof why)
            : portio_import_mapping_native (self->entity);
    if (!mapping) {
        if (self->mapping)
            s_fail (answer, 400, "invalid", "mapping", why);
        else
            s_fail (answer, 400, "invalid", "entity",
                    "entity is org_unit, project, milestone, status_report, resource, "
                    "allocation, risk or issue");
        return;
    }
    portio_import_options_t options = {
        .peer = *peer,
        .hub = self->hub,
        .dry_run = self->params.dry_run,
        .skip_bad = self->params.skip_bad,
        .create_org_units = self->params.create_org_units,
        .sheet = self->sheet,
        .org_unit = self->plan_unit,
        .code = self->plan_code,
    };
    portio_import_result_t *result = NULL;
    int rc = portio_import_run (&options, mapping, self->params.data, self->params.size, &result);
    json_t *json = portio_import_result_json (result);
    if (result->n_problems && (rc || result->dry_run)) {
        //  Rows with problems and nothing written for them: 422 with every
        //  problem (row, column, value, reason) and the whole result
        char detail[200];
        snprintf (detail, sizeof detail, "%zu row%s of %zu ha%s problems; %s", result->bad,
                  result->bad == 1 ? "" : "s", result->rows, result->bad == 1 ? "s" : "ve",
                  result->dry_run   ? "dry run: nothing written"
                  : result->written ? "the good rows were written"
                                    : "nothing written");
        s_fail (answer, 422, "invalid", "", detail);
        answer->extra = json; //  its members join the problem document
        json = NULL;
    } else if (result->error && result->file_error) {
        //  The file itself cannot be imported (empty, a BOM alone, not
        //  text, no header row): the sender's problem, not a service's
        s_fail (answer, 422, "invalid", "file", result->error);
        answer->extra = json_pack ("{s:O}", "result", json);
    } else if (rc || result->error) {
        s_fail_why (answer, result->error ? result->error : "the import failed");
        answer->extra = json_pack ("{s:O}", "result", json);
    } else {
        char *text = json_dumps (json, JSON_COMPACT);
        s_body (answer, 200, "application/json", text, strlen (text));
    }
    json_decref (json);
    portio_import_result_destroy (&result);
    portio_import_mapping_destroy (&mapping);
}

static void s_export (gateway_job_t *self, portio_import_peer_t *peer)
{
    if (*self->org_unit && s_check_unit (self, self->org_unit))
        return;
    char *csv = NULL, why[512];
    size_t size = 0;
    if (strcmp (self->entity, "mspdi") == 0) {
        //  One project as a Microsoft Project plan
        if (portio_mspdi_export (peer, self->plan_code, &csv, &size, why, sizeof why)) {
            s_fail_why (&self->answer, why);
            snprintf (self->answer.field, sizeof self->answer.field, "project");
            return;
        }
        s_body (&self->answer, 200, "application/xml; charset=utf-8", csv, size);
        snprintf (self->answer.filename, sizeof self->answer.filename, "%.80s.xml",
                  self->plan_code);
        return;
    }
    bool xlsx = strcmp (self->format, "xlsx") == 0;
    if (xlsx ? portio_xlsx_export (peer, self->entity, self->org_unit, self->portfolio, &csv, &size,
                                   why, sizeof why)
             : portio_export_filtered (peer, self->entity, self->org_unit, self->portfolio,
                                       self->params.bom, &csv, &size, why, sizeof why)) {
        s_fail_why (&self->answer, why);
        //  A filter the risk monitor refused is named as the query names it
        const char *field = strstr (why, " [portfolio.");
        if (field && strchr (field, ']'))
            snprintf (self->answer.field, sizeof self->answer.field, "%.*s",
                      (int)(strchr (field, ']') - field - 12), field + 12);
        return;
    }
    s_body (&self->answer, 200, xlsx ? XLSX_TYPE : "text/csv; charset=utf-8", csv, size);
    snprintf (self->answer.filename, sizeof self->answer.filename, "%s%s%s.%s", self->entity,
              *self->org_unit ? "-" : "", self->org_unit, xlsx ? "xlsx" : "csv");
}

static void s_report (gateway_job_t *self, portio_import_peer_t *peer)
{
    gateway_job_answer_t *answer = &self->answer;
    if (s_check_unit (self, self->org_unit))
        return;
    //  A report does not wait out every retry for a service that is not running
    bool allocator =
        peer->allocator && portio_import_answers (peer, PORTIO_IMPORT_ALLOCATOR, PING_MS);
    bool riskmon = peer->riskmon && portio_import_answers (peer, PORTIO_IMPORT_RISKMON, PING_MS);
    if (!allocator)
        peer->allocator = NULL;
    if (!riskmon)
        peer->riskmon = NULL;
    char why[512];
    portio_report_t *report =
        portio_report_build (peer, self->org_unit, self->params.since_ms, why, sizeof why);
    if (!report)
        return s_fail_why (answer, why);
    if (!allocator)
        report->resources_note = "the resource allocator did not answer (is it running?)";
    if (!riskmon)
        report->risks_note = report->alerts_note = report->health_note =
            "the risk monitor did not answer (is it running?)";
    size_t size = 0;
    if (strcmp (self->format, "html") == 0) {
        char *html = portio_report_html (report, &size);
        s_body (answer, 200, "text/html; charset=utf-8", html, size);
    } else if (strcmp (self->format, "xlsx") == 0) {
        char *xlsx = portio_xlsx_report (report, &size, why, sizeof why);
        if (xlsx) {
            s_body (answer, 200, XLSX_TYPE, xlsx, size);
            snprintf (answer->filename, sizeof answer->filename, "report-%s.xlsx", self->org_unit);
        } else
            s_fail_why (answer, why);
    } else if (strcmp (self->format, "csv") == 0) {
        char *csv = portio_report_csv (report, self->table, self->params.bom, &size);
        if (csv) {
            s_body (answer, 200, "text/csv; charset=utf-8", csv, size);
            snprintf (answer->filename, sizeof answer->filename, "report-%s-%s.csv", self->org_unit,
                      self->table);
        } else
            s_fail (answer, 400, "invalid", "table",
                    "table is summary, rag, phase, status, units, projects, changes, risks, "
                    "overallocated or alerts");
    } else {
        json_t *json = portio_report_json (report);
        char *text = json_dumps (json, JSON_COMPACT);
        json_decref (json);
        s_body (answer, 200, "application/json", text, strlen (text));
    }
    portio_report_destroy (&report);
}

static void *s_run (void *arg)
{
    gateway_job_t *self = arg;
    pmo_client_t *registry = pmo_client_new (self->registry);
    pmo_client_t *allocator =
        self->allocator && *self->allocator ? pmo_client_new (self->allocator) : NULL;
    pmo_client_t *riskmon = self->riskmon && *self->riskmon ? pmo_client_new (self->riskmon) : NULL;
    pmo_client_t *planner = self->planner && *self->planner ? pmo_client_new (self->planner) : NULL;
    portio_import_peer_t peer = {registry,  self->identity, CALL_MS, ATTEMPTS,
                                 allocator, riskmon,        planner};
    if (!registry)
        s_fail (&self->answer, 503, "unavailable", "", "the registry is not configured");
    else if (self->params.kind == GATEWAY_JOB_IMPORT)
        s_import (self, &peer);
    else if (self->params.kind == GATEWAY_JOB_EXPORT)
        s_export (self, &peer);
    else
        s_report (self, &peer);
    pmo_client_destroy (&registry);
    pmo_client_destroy (&allocator);
    pmo_client_destroy (&riskmon);
    pmo_client_destroy (&planner);
    //  The CSV can be large: let it go before the reactor gets to us
    free (self->params.data);
    self->params.data = NULL;
    //  Done: tell the reactor (it joins us and reads the answer)
    zsock_t *push = zsock_new_push (self->notify);
    if (push) {
        zsock_set_sndtimeo (push, 5000);
        zsock_send (push, "p", self);
        zsock_destroy (&push);
    } else
        pmo_error ("gateway: a finished job cannot reach the reactor at %s", self->notify);
    return NULL;
}

gateway_job_t *gateway_job_start (const gateway_job_params_t *params)
{
    gateway_job_t *self = calloc (1, sizeof (gateway_job_t));
    assert (self);
    self->params = *params;
    size_t size = pmo__identity__get_packed_size (params->identity);
    uint8_t *packed = malloc (size ? size : 1);
    assert (packed);
    pmo__identity__pack (params->identity, packed);
    self->identity = pmo__identity__unpack (NULL, size, packed);
    free (packed);
    assert (self->identity);
    if (params->portfolio) {
        size = pmo__portfolio_request__get_packed_size (params->portfolio);
        packed = malloc (size ? size : 1);
        assert (packed);
        pmo__portfolio_request__pack (params->portfolio, packed);
        self->portfolio = pmo__portfolio_request__unpack (NULL, size, packed);
        free (packed);
        assert (self->portfolio);
    }
    self->params.portfolio = NULL; //  ours is self->portfolio
    self->registry = s_dup (params->registry);
    self->allocator = s_dup (params->allocator);
    self->riskmon = s_dup (params->riskmon);
    self->planner = s_dup (params->planner);
    self->hub = s_dup (params->hub ? params->hub : "hub");
    self->notify = s_dup (params->notify);
    self->entity = s_dup (params->entity ? params->entity : "");
    self->org_unit = s_dup (params->org_unit ? params->org_unit : "");
    self->format = s_dup (params->format ? params->format : "json");
    self->sheet = params->sheet && *params->sheet ? s_dup (params->sheet) : NULL;
    self->plan_unit = params->plan_unit && *params->plan_unit ? s_dup (params->plan_unit) : NULL;
    self->plan_code = params->plan_code && *params->plan_code ? s_dup (params->plan_code) : NULL;
    self->table = s_dup (params->table ? params->table : "summary");
    if (params->mapping) {
        self->mapping = malloc (params->mapping_size + 1);
        assert (self->mapping);
        memcpy (self->mapping, params->mapping, params->mapping_size);
        self->mapping[params->mapping_size] = 0;
    }
    self->started = pthread_create (&self->thread, NULL, s_run, self) == 0;
    if (!self->started) {
        self->params.data = NULL; //  still the caller's
        gateway_job_destroy (&self);
        return NULL;
    }
    return self;
}

gateway_job_answer_t *gateway_job_answer (gateway_job_t *self)
{
    return &self->answer;
}

void *gateway_job_owner (gateway_job_t *self)
{
    return self->owner;
}

void gateway_job_set_owner (gateway_job_t *self, void *owner)
{
    self->owner = owner;
}

void gateway_job_destroy (gateway_job_t **self_p)
{
    assert (self_p);
    gateway_job_t *self = *self_p;
    if (!self)
        return;
    if (self->started)
        pthread_join (self->thread, NULL);
    //  The job's big buffers (the file, its rows, the result) are freed by
    //  now, but glibc kept those heap pages: a gateway grew by megabytes
    //  with imports under load and never gave them back (bench_soak with
    //  three replicas: +25-44% in 4 minutes, +43-122% over 10; neither one
    //  arena nor a fixed mmap threshold changed it). Jobs are rare and
    //  heavy; returning the free pages after each costs little.
    malloc_trim (0);
    if (self->identity)
        pmo__identity__free_unpacked (self->identity, NULL);
    if (self->portfolio)
        pmo__portfolio_request__free_unpacked (self->portfolio, NULL);
    free (self->registry);
    free (self->allocator);
    free (self->riskmon);
    free (self->planner);
    free (self->hub);
    free (self->notify);
    free (self->entity);
    free (self->mapping);
    free (self->org_unit);
    free (self->format);
    free (self->sheet);
    free (self->plan_unit);
    free (self->plan_code);
    free (self->table);
    free (self->params.data);
    free (self->answer.body);
    json_decref (self->answer.extra);
    free (self);
    *self_p = NULL;
}

//  Is unit (a path) at or below the unit at path "top"?
static bool s_within (const char *path, const char *top)
{
    size_t len = strlen (top);
    return strncmp (path, top, len) == 0 && (path[len] == 0 || path[len] == '/');
}

bool gateway_job_may_read (const Pmo__Identity *who, const char *path,
                           const char *(*path_of) (void *arg, const char *unit), void *arg)
{
    for (size_t i = 0; who && path && i < who->n_grants; i++) {
        const char *held = path_of (arg, who->grants[i]->org_unit);
        if (held && (s_within (path, held) || s_within (held, path)))
            return true;
    }
    return false;
}
