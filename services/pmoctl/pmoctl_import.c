/*  pmoctl_import.c: import, export and report.

    The work is done by the portio library (lib/portio: portio_import,
    portio_report), which the gateway calls too, and which makes its own
    calls to the services over pmoctl's clients; this file reads files,
    writes files and prints for people (or JSON for scripts). Its three
    commands are rows with their own runners in the table at the end.

    pmoctl import FILE --mapping MAP.json [--dry-run] [--skip-bad] [--create-org-units]
    pmoctl import FILE --stored-mapping NAME  (a mapping kept on the gateway)
    pmoctl import FILE --entity project       (a file in the export format)
    pmoctl export project|resource|allocation|risk|issue|... [--org-unit ID] [--out FILE]
    pmoctl export mspdi --project CODE [--out FILE]   (a Microsoft Project plan)

    Resources and allocations go to the allocator ($PMO_ALLOCATOR_ENDPOINT),
    risks and issues to the risk monitor ($PMO_RISKMON_ENDPOINT), over
    pmoctl's clients (pmoctl_call.c); the report asks both for its risk,
    resource, alert and health sections when they answer.
    pmoctl report [--org-unit ID] [--format html|json|csv] [--out PATH] [--since DATE]
*/
#include "pmoctl.h"

#include "gateway.pb-c.h"

#include "portio_csv.h"
#include "portio_import.h"
#include "portio_report.h"
#include "portio_mspdi.h"
#include "portio_xlsx.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

//  Files people import are spreadsheets, not databases
#define FILE_MAX (512L * 1024 * 1024)
//  Problems printed before "... and N more" (all of them with --json)
#define PROBLEMS_SHOWN 50

static const pmoctl_flag_t s_import_flags[] = {
    F ("mapping", "FILE", 0, "the column mapping (JSON); see deploy/data/gmpp-mapping.json"),
    F ("stored-mapping", "NAME", 0,
       "a mapping kept on the gateway that you may use (pmoctl mapping list), read from it"),
    F ("entity", "KIND", 0,
       "without --mapping: a file in the export format of org_unit, project, milestone, "
       "status_report, resource, allocation, risk, issue, change_request, raid or benefit"),
    SW ("dry-run", "check every row and write nothing"),
    SW ("skip-bad", "write the good rows and list the bad (default: all or nothing)"),
    SW ("create-org-units",
        "create the org units the file names that do not exist (as the mapping says)"),
    F ("hub", "ID", 0, "the enterprise unit's id (default: $PMO_HUB or hub)"),
    F ("sheet", "NAME", 0, "an Excel workbook (.xlsx): the sheet to read (default: the first)"),
    F ("org-unit", "ID", 0, "a Microsoft Project plan (.xml): the org unit of a new project"),
    F ("code", "CODE", 0,
       "a Microsoft Project plan: a new project's code (default: from its title)"),
    END,
};

static const pmoctl_flag_t s_export_flags[] = {
    F ("format", "csv|xlsx", 0, "csv (default) or an Excel workbook with typed cells"),
    F ("org-unit", "ID", 0, "only this subtree (default: all you may see)"),
    F ("out", "FILE", 0, "write here (default: standard output)"),
    F ("project", "CODE", 0, "export mspdi: the project (its code, or its id)"),
    SW ("no-bom",
        "no UTF-8 byte order mark (Excel needs it to show \xC2\xA3 right; scripts may not)"),
    END,
};

static const pmoctl_flag_t s_report_flags[] = {
    F ("org-unit", "ID", 0, "the unit reported on (default: the hub)"),
    F ("format", "html|json|csv|xlsx", 0,
       "html (default), json, csv tables, or an Excel workbook (a sheet per table)"),
    F ("out", "PATH", 0,
       "a file (html, json, xlsx), or for csv a directory that receives every table"),
    F ("table", "NAME", 0,
       "csv: one table to standard output: summary, rag, phase, status, units, projects, "
       "changes, risks, overallocated, alerts"),
    F ("since", "DATE", 0,
       "changes since this date (default: one reporting period of the unit back)"),
    END,
};

//  ---------------------------------------------------------------------
//  Helpers

//  The services as the portio library reaches them: pmoctl's clients
//  (pmoctl_call.c), closed when pmoctl exits. A malformed endpoint leaves
//  its client NULL, which the library reports as the service not
//  connected when it is asked.
static portio_import_peer_t s_peer (pmoctl_t *ctl)
{
    return (portio_import_peer_t){pmoctl_connect (ctl, PMOCTL_REGISTRY, true),
                                  &ctl->identity,
                                  ctl->timeout_ms,
                                  ctl->attempts,
                                  pmoctl_connect (ctl, PMOCTL_ALLOCATOR, true),
                                  pmoctl_connect (ctl, PMOCTL_RISKMON, true),
                                  pmoctl_connect (ctl, PMOCTL_PLANNER, true)};
}

//  A whole file (caller frees), or NULL after saying why.
static char *s_read (const char *path, size_t *size)
{
    FILE *file = fopen (path, "rb");
    if (!file) {
        fprintf (stderr, "pmoctl: cannot read %s: %s\n", path, strerror (errno));
        return NULL;
    }
    struct stat st;
    if (fstat (fileno (file), &st) || st.st_size > FILE_MAX) {
        fprintf (stderr, "pmoctl: %s is over %ld MB\n", path, FILE_MAX >> 20);
        fclose (file);
        return NULL;
    }
    char *data = malloc ((size_t)st.st_size + 1);
    size_t got = data ? fread (data, 1, (size_t)st.st_size, file) : 0;
    fclose (file);
    if (!data || got != (size_t)st.st_size) {
        fprintf (stderr, "pmoctl: cannot read %s\n", path);
        free (data);
        return NULL;
    }
    data[got] = 0;
    *size = got;
    return data;
}

static int s_write (const char *path, const char *data, size_t size)
{
    if (!path) {
        fwrite (data, 1, size, stdout);
        return PMOCTL_OK;
    }
    FILE *file = fopen (path, "wb");
    if (!file || fwrite (data, 1, size, file) != size || fclose (file)) {
        fprintf (stderr, "pmoctl: cannot write %s: %s\n", path, strerror (errno));
        return PMOCTL_REFUSED;
    }
    return PMOCTL_OK;
}

//  ---------------------------------------------------------------------
//  import

//  The result for people; workbook: the file was an Excel workbook, read
//  from sheet (NULL: the first).
static void s_print_result (const portio_import_result_t *r, bool workbook, const char *sheet)
{
    //  A plan's rows are what it became (project, milestones, ...), not lines of text
    char source[160];
    if (strcmp (r->entity, "mspdi") == 0)
        snprintf (source, sizeof source, "from a Microsoft Project plan");
    else if (workbook && sheet && *sheet)
        snprintf (source, sizeof source, "from the sheet '%.100s' of an Excel workbook", sheet);
    else if (workbook)
        snprintf (source, sizeof source, "from the first sheet of an Excel workbook");
    else
        snprintf (source, sizeof source, "%s, '%s' separated", r->encoding,
                  r->delimiter == '\t' ? "tab" : (char[]){r->delimiter, 0});
    printf ("%s%s: %zu rows (%s): %zu %screated, %zu %supdated, %zu unchanged, "
            "%zu with problems\n",
            r->dry_run ? "dry run of " : "", r->entity, r->rows, source, r->created,
            r->dry_run ? "to be " : "", r->updated, r->dry_run ? "to be " : "", r->unchanged,
            r->bad);
    if (r->org_units_created)
        printf ("org units %screated: %zu\n", r->dry_run ? "to be " : "", r->org_units_created);
    if (r->reports_created)
        printf ("status reports %ssubmitted: %zu\n", r->dry_run ? "to be " : "",
                r->reports_created);
    if (r->withheld)
        printf ("cells withheld from publication (left empty): %zu\n", r->withheld);
    for (size_t i = 0; i < r->n_warnings; i++)
        printf ("warning: %s\n", r->warnings[i]);
    if (r->n_problems) {
        printf ("\n%-6s %-24s %-30s %s\n", "ROW", "COLUMN", "VALUE", "PROBLEM");
        for (size_t i = 0; i < r->n_problems && i < PROBLEMS_SHOWN; i++) {
            const portio_import_problem_t *p = &r->problems[i];
            char value[34];
            snprintf (value, sizeof value, "%s", p->value);
            for (char *c = value; *c; c++)
                if (*c == '\n' || *c == '\r')
                    *c = ' ';
            printf ("%-6zu %-24.24s %-30s %s\n", p->row, p->column, value, p->reason);
        }
        if (r->n_problems > PROBLEMS_SHOWN)
            printf ("... and %zu more (--json lists them all)\n", r->n_problems - PROBLEMS_SHOWN);
    }
    if (r->error)
        fprintf (stderr, "pmoctl: %s\n", r->error);
    else if (!r->dry_run)
        printf ("%s\n", r->written ? "written" : "nothing to write");
}

static int s_run_import (pmoctl_t *ctl, const pmoctl_command_t *cmd, pmoctl_args_t *args)
{
    const char *mapping_path = pmoctl_args_get (args, "mapping");
    const char *entity = pmoctl_args_get (args, "entity");
    const char *stored = pmoctl_args_get (args, "stored-mapping");
    size_t size;
    char *data = s_read (args->positional, &size);
    if (!data)
        return PMOCTL_USAGE;
    //  A Microsoft Project plan (known by its content) needs no mapping
    bool plan = portio_mspdi_is (data, size);
    if (plan && !mapping_path && !entity && !stored)
        entity = "project";
    if ((mapping_path != NULL) + (entity != NULL) + (stored != NULL) != 1) {
        free (data);
        return pmoctl_usage_error (
            cmd, "give one of --mapping FILE, --stored-mapping NAME, --entity KIND");
    }
    portio_import_mapping_t *mapping = NULL;
    char why[512];
    if (stored) {
        //  The gateway's token service says whether the caller may use it
        json_t *body = json_pack ("{s:s}", "name", stored);
        ProtobufCMessage *reply = pmoctl_service_call (ctl, PMOCTL_GATEWAY, "get_mapping", body);
        json_decref (body);
        const Pmo__StoredMapping *kept = reply ? ((Pmo__GatewayReply *)reply)->mapping : NULL;
        if (!kept) {
            free (data);
            return reply ? PMOCTL_REFUSED : ctl->status;
        }
        mapping =
            portio_import_mapping_load (kept->mapping, strlen (kept->mapping), why, sizeof why);
        if (!mapping) {
            fprintf (stderr, "pmoctl: the gateway's mapping %s: %s\n", stored, why);
            free (data);
            return PMOCTL_USAGE;
        }
    } else if (mapping_path) {
        size_t text_size;
        char *text = s_read (mapping_path, &text_size);
        if (!text) {
            free (data);
            return PMOCTL_USAGE;
        }
        mapping = portio_import_mapping_load (text, text_size, why, sizeof why);
        free (text);
        if (!mapping) {
            fprintf (stderr, "pmoctl: %s: %s\n", mapping_path, why);
            free (data);
            return PMOCTL_USAGE;
        }
    } else if (!(mapping = portio_import_mapping_native (entity))) {
        free (data);
        return pmoctl_usage_error (cmd, "--entity is org_unit, project, milestone, "
                                        "status_report, resource, allocation, risk, issue, "
                                        "change_request, raid or benefit");
    }
    const char *hub = pmoctl_args_get (args, "hub");
    if (!hub)
        hub = getenv ("PMO_HUB") && *getenv ("PMO_HUB") ? getenv ("PMO_HUB") : "hub";
    portio_import_options_t options = {
        .peer = s_peer (ctl),
        .hub = hub,
        .dry_run = pmoctl_args_get (args, "dry-run") != NULL,
        .skip_bad = pmoctl_args_get (args, "skip-bad") != NULL,
        .create_org_units = pmoctl_args_get (args, "create-org-units") != NULL,
        .sheet = pmoctl_args_get (args, "sheet"),
        .org_unit = pmoctl_args_get (args, "org-unit"),
        .code = pmoctl_args_get (args, "code"),
    };
    portio_import_result_t *result;
    int rc = portio_import_run (&options, mapping, data, size, &result);
    if (ctl->json) {
        json_t *json = portio_import_result_json (result);
        char *text = json_dumps (json, JSON_COMPACT);
        printf ("%s\n", text);
        free (text);
        json_decref (json);
    } else
        s_print_result (result, portio_xlsx_is (data, size), options.sheet);
    //  A dry run that found problems is not a success for a script either
    int status = rc || (result->dry_run && result->bad) ? PMOCTL_REFUSED : PMOCTL_OK;
    portio_import_result_destroy (&result);
    portio_import_mapping_destroy (&mapping);
    free (data);
    return status;
}

//  ---------------------------------------------------------------------
//  export

static int s_run_export (pmoctl_t *ctl, const pmoctl_command_t *cmd, pmoctl_args_t *args)
{
    const char *org_unit = pmoctl_args_get (args, "org-unit");
    portio_import_peer_t peer = s_peer (ctl);
    char *csv, why[512];
    size_t size;
    const char *project = pmoctl_args_get (args, "project");
    if (strcmp (args->positional, "mspdi") == 0) {
        //  One project as a Microsoft Project plan
        if (!project)
            return pmoctl_usage_error (cmd, "export mspdi needs --project CODE");
        if (portio_mspdi_export (&peer, project, &csv, &size, why, sizeof why)) {
            fprintf (stderr, "pmoctl: export: %s\n", why);
            return PMOCTL_REFUSED;
        }
        int rc = s_write (pmoctl_args_get (args, "out"), csv, size);
        free (csv);
        return rc;
    }
    if (project)
        return pmoctl_usage_error (cmd, "--project is for export mspdi");
    if (!portio_import_mapping_entity_known (args->positional))
        return pmoctl_usage_error (cmd, "KIND is org_unit, project, milestone, status_report, "
                                        "resource, allocation, risk, issue, change_request, "
                                        "raid, benefit, or mspdi (a project as a Microsoft "
                                        "Project plan)");
    const char *format = pmoctl_args_get (args, "format");
    if (format && strcmp (format, "csv") && strcmp (format, "xlsx"))
        return pmoctl_usage_error (cmd, "--format is csv or xlsx");
    int failed = format && strcmp (format, "xlsx") == 0
                     ? portio_xlsx_export (&peer, args->positional, org_unit ? org_unit : "", NULL,
                                           &csv, &size, why, sizeof why)
                     : portio_export (&peer, args->positional, org_unit ? org_unit : "",
                                      pmoctl_args_get (args, "no-bom") == NULL, &csv, &size, why,
                                      sizeof why);
    if (failed) {
        fprintf (stderr, "pmoctl: export: %s\n", why);
        return PMOCTL_REFUSED;
    }
    int rc = s_write (pmoctl_args_get (args, "out"), csv, size);
    free (csv);
    return rc;
}

//  ---------------------------------------------------------------------
//  report

//  The report of unit; its sections of a service that does not answer say
//  so instead. NULL after saying why.
static portio_report_t *s_report_build (pmoctl_t *ctl, const char *unit, int64_t since_ms)
{
    portio_import_peer_t peer = s_peer (ctl);
    //  A ping within a second first: a report does not wait out every retry
    //  for a service that is not running
    bool allocator = portio_import_answers (&peer, PORTIO_IMPORT_ALLOCATOR, 1000);
    bool riskmon = portio_import_answers (&peer, PORTIO_IMPORT_RISKMON, 1000);
    if (!allocator)
        peer.allocator = NULL;
    if (!riskmon)
        peer.riskmon = NULL;
    char why[512];
    portio_report_t *report = portio_report_build (&peer, unit, since_ms, why, sizeof why);
    if (report && !allocator)
        report->resources_note = "the resource allocator did not answer (is it running?)";
    if (report && !riskmon)
        report->risks_note = report->alerts_note = report->health_note =
            "the risk monitor did not answer (is it running?)";
    if (!report)
        fprintf (stderr, "pmoctl: report: %s\n", why);
    return report;
}

//  Every table of the report as DIR/<table>.csv.
static int s_report_csv_dir (portio_report_t *report, const char *out)
{
    int rc = PMOCTL_OK;
    if (mkdir (out, 0755) && errno != EEXIST) {
        fprintf (stderr, "pmoctl: cannot make %s: %s\n", out, strerror (errno));
        rc = PMOCTL_REFUSED;
    }
    for (const char *const *t = portio_report_tables (); *t && rc == PMOCTL_OK; t++) {
        size_t size;
        char *csv = portio_report_csv (report, *t, true, &size);
        char path[4096];
        snprintf (path, sizeof path, "%s/%s.csv", out, *t);
        rc = s_write (path, csv, size);
        free (csv);
    }
    if (rc == PMOCTL_OK)
        fprintf (stderr,
                 "pmoctl: wrote %s/{summary,rag,phase,status,units,projects,changes,risks,"
                 "overallocated,alerts}.csv\n",
                 out);
    return rc;
}

static int s_run_report (pmoctl_t *ctl, const pmoctl_command_t *cmd, pmoctl_args_t *args)
{
    const char *unit = pmoctl_args_get (args, "org-unit");
    if (!unit)
        unit = getenv ("PMO_HUB") && *getenv ("PMO_HUB") ? getenv ("PMO_HUB") : "hub";
    const char *format = pmoctl_args_get (args, "format");
    format = format ? format : "html";
    const char *out = pmoctl_args_get (args, "out");
    const char *table = pmoctl_args_get (args, "table");
    if (strcmp (format, "html") && strcmp (format, "json") && strcmp (format, "csv") &&
        strcmp (format, "xlsx"))
        return pmoctl_usage_error (cmd, "--format is html, json, csv or xlsx");
    if (strcmp (format, "csv") == 0 && !out && !table)
        return pmoctl_usage_error (cmd, "csv: give --out DIR (every table) or --table NAME");
    int64_t since_ms = 0;
    const char *since = pmoctl_args_get (args, "since");
    if (since) {
        char iso[11];
        const char *why;
        struct tm tm = {0};
        if (portio_csv_parse_date (since, PORTIO_CSV_DMY, PORTIO_CSV_PIVOT_DEFAULT, iso, NULL,
                                   &why) != 0 ||
            !strptime (iso, "%Y-%m-%d", &tm))
            return pmoctl_usage_error (cmd, "--since '%s' is not a date", since);
        since_ms = (int64_t)timegm (&tm) * 1000;
    }
    portio_report_t *report = s_report_build (ctl, unit, since_ms);
    if (!report)
        return PMOCTL_REFUSED;
    int rc = PMOCTL_OK;
    if (strcmp (format, "html") == 0) {
        size_t size;
        char *html = portio_report_html (report, &size);
        rc = s_write (out, html, size);
        free (html);
    } else if (strcmp (format, "json") == 0) {
        json_t *json = portio_report_json (report);
        char *text = json_dumps (json, ctl->json ? JSON_COMPACT : JSON_INDENT (2));
        size_t len = strlen (text);
        text[len] = '\n';
        rc = s_write (out, text, len + 1);
        free (text);
        json_decref (json);
    } else if (strcmp (format, "xlsx") == 0) {
        size_t size;
        char why[512];
        char *xlsx = portio_xlsx_report (report, &size, why, sizeof why);
        if (!xlsx) {
            fprintf (stderr, "pmoctl: report: %s\n", why);
            rc = PMOCTL_REFUSED;
        } else
            rc = s_write (out, xlsx, size);
        free (xlsx);
    } else if (table) {
        size_t size;
        char *csv = portio_report_csv (report, table, false, &size);
        if (!csv)
            rc = pmoctl_usage_error (cmd, "no table '%s'", table);
        else
            rc = s_write (out, csv, size);
        free (csv);
    } else
        rc = s_report_csv_dir (report, out);
    portio_report_destroy (&report);
    return rc;
}

//  ---------------------------------------------------------------------
//  The commands

const pmoctl_command_t pmoctl_import_commands[] = {
    PMOCTL_RUN ("import", NULL, "FILE", s_import_flags, PMOCTL_MODE_OTHER, s_run_import, NULL, NULL,
                "import a CSV file, Excel workbook or Microsoft Project plan (projects, "
                "milestones, reports, org units, resources, allocations, risks, issues, change "
                "requests, assumptions, decisions and dependencies, benefits)"),
    PMOCTL_RUN ("export", NULL, "KIND", s_export_flags, PMOCTL_MODE_OTHER, s_run_export, NULL, NULL,
                "export org_unit, project, milestone, status_report, resource, allocation, risk, "
                "issue, change_request, raid or benefit as CSV or an Excel workbook, or a project "
                "as a Microsoft Project plan (mspdi)"),
    PMOCTL_RUN ("report", NULL, NULL, s_report_flags, PMOCTL_MODE_OTHER, s_run_report, NULL, NULL,
                "the portfolio report of an org unit (html, json, csv or xlsx)"),
    PMOCTL_END,
};
