/*  bench_import.c: how fast spreadsheets go in and reports come out.

    Starts its own redis-server (AOF, appendfsync everysec) and the registry
    actor on free ports, generates a CSV of --rows project rows (default
    100,000) over 10 divisions in the messy form people bring (dd/mm/yyyy
    dates, £ amounts with thousands separators, quoted names with commas,
    a status report per row with RAG and PV/EV/AC), and times:
    - the import (parse, plan, dry run of every batch, commit);
    - the same file again (every row unchanged: nothing written);
    - the portfolio report of one division of 10,000 projects (fetch from
      the registry and compute), and the compute step alone.
    Targets: import of 100,000 rows under 20 s (issue 15; issue 7 asked for
    30 s), report under 1 s. A benchmark reports; it never fails the build.

    usage: bench_import [--rows N]
*/
#include "portio_import.h"
#include "pmo_log.h"
#include "portio_report.h"
#include "pmo_testkit.h"
#include "registry_server.h"

#include <czmq.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DIVISIONS 10

static double s_seconds (int64_t since_us)
{
    return (double)(zclock_usecs () - since_us) / 1e6;
}

static const char *s_mapping =
    "{\"entity\": \"project\", \"key\": \"code\", \"currency\": \"GBP\","
    " \"org_units\": {\"kind\": \"division\", \"parent\": \"hub\"},"
    " \"columns\": ["
    "  {\"column\": \"Project ID\", \"field\": \"code\"},"
    "  {\"column\": \"Project\", \"field\": \"name\"},"
    "  {\"column\": \"Division\", \"field\": \"org_unit\", \"transform\": \"slug\"},"
    "  {\"column\": \"Manager\", \"field\": \"manager\"},"
    "  {\"column\": \"Start\", \"field\": \"baseline_start\"},"
    "  {\"column\": \"Finish\", \"field\": \"baseline_finish\"},"
    "  {\"column\": \"Budget\", \"field\": \"budget.baseline\"},"
    "  {\"column\": \"Status\", \"field\": \"status\"},"
    "  {\"column\": \"RAG\", \"field\": \"report.overall\","
    "   \"values\": {\"G\": \"green\", \"A\": \"amber\", \"R\": \"red\"}},"
    "  {\"column\": \"PV\", \"field\": \"report.pv_minor\"},"
    "  {\"column\": \"EV\", \"field\": \"report.ev_minor\"},"
    "  {\"column\": \"AC\", \"field\": \"report.ac_minor\"}"
    " ],"
    " \"defaults\": {\"phase\": \"execution\", \"report.period_end\": \"2026-10-30\"}}";

//  The CSV of n rows (caller frees).
static char *s_generate (size_t n, size_t *size)
{
    static const char *status[] = {"Active", "Approved", "On hold", "Proposed"};
    static const char *rag[] = {"G", "A", "R", "G", "A"};
    size_t max = n * 220 + 256, len = 0;
    char *csv = malloc (max);
    len += (size_t)snprintf (csv, max,
                             "Project ID,Project,Division,Manager,Start,Finish,Budget,Status,RAG,"
                             "PV,EV,AC\r\n");
    for (size_t i = 0; i < n; i++) {
        unsigned seed = (unsigned)(i * 2654435761u);
        unsigned day = 1 + seed % 28, month = 1 + (seed >> 5) % 12, year = 2024 + (seed >> 9) % 3;
        unsigned budget = 10000 + seed % 9000000;
        len += (size_t)snprintf (
            csv + len, max - len,
            "D%02zu-%06zu,\"Project %zu, phase %u\",D%02zu,Manager %u,%02u/%02u/%u,%02u/%02u/%u,"
            "\"\xC2\xA3%u,%03u.%02u\",%s,%s,%u.00,%u.00,%u.00\r\n",
            i % DIVISIONS, i, i, seed % 4, i % DIVISIONS, seed % 500, day, month, year, day, month,
            year + 2, budget / 1000, budget % 1000, seed % 100, status[seed % 4], rag[seed % 5],
            budget / 4, budget / 4 - seed % 1000, budget / 4 + seed % 700);
    }
    *size = len;
    return csv;
}

int main (int argc, char **argv)
{
    size_t rows = 100000;
    for (int a = 1; a < argc; a++)
        if (strcmp (argv[a], "--rows") == 0 && a + 1 < argc)
            rows = strtoul (argv[++a], NULL, 10);
        else {
            fprintf (stderr, "usage: bench_import [--rows N]\n");
            return 2;
        }
    pmo_log_init ("bench", "error");
    pmo_test_redis_t *redis = pmo_test_redis_start (false);
    if (!redis)
        return 1;
    char endpoint[64], pub[64];
    snprintf (endpoint, sizeof endpoint, "tcp://127.0.0.1:%d", pmo_test_free_port ());
    snprintf (pub, sizeof pub, "tcp://127.0.0.1:%d", pmo_test_free_port ());
    registry_config_t config = {.endpoint = endpoint,
                                .pub_endpoint = pub,
                                .redis_url = pmo_test_redis_url (redis),
                                .hub = "hub",
                                .redis_timeout_ms = 5000};
    zactor_t *actor = zactor_new (registry_server_actor, &config);
    pmo_client_t *client = pmo_client_new (endpoint);
    Pmo__Grant grant = PMO__GRANT__INIT;
    grant.role = PMO__ROLE__ROLE_ADMIN;
    grant.org_unit = "hub";
    Pmo__Grant *grants[] = {&grant};
    Pmo__Identity identity = PMO__IDENTITY__INIT;
    identity.subject = "bench@hub";
    identity.grants = grants;
    identity.n_grants = 1;
    portio_import_peer_t peer = {
        .registry = client, .identity = &identity, .timeout_ms = 60000, .attempts = 1};
    char why[512];
    //  The enterprise unit
    Pmo__OrgUnit hub = PMO__ORG_UNIT__INIT;
    hub.id = "hub";
    hub.name = "Bench Group";
    hub.kind = PMO__ORG_UNIT_KIND__ORG_UNIT_KIND_ENTERPRISE;
    Pmo__RegistryReply *reply =
        portio_import_call (&peer, "create_org_unit", &hub.base, why, sizeof why);
    if (!reply || reply->error) {
        fprintf (stderr, "bench: cannot create the hub\n");
        return 1;
    }
    protobuf_c_message_free_unpacked (&reply->base, NULL);

    size_t size;
    int64_t start = zclock_usecs ();
    char *csv = s_generate (rows, &size);
    printf ("generated %zu rows, %.1f MB, in %.2f s\n", rows, (double)size / 1e6,
            s_seconds (start));
    portio_import_mapping_t *map =
        portio_import_mapping_load (s_mapping, strlen (s_mapping), why, sizeof why);
    if (!map) {
        fprintf (stderr, "bench: mapping: %s\n", why);
        return 1;
    }
    portio_import_options_t options = {.peer = peer, .hub = "hub", .create_org_units = true};
    portio_import_result_t *result;
    start = zclock_usecs ();
    int rc = portio_import_run (&options, map, csv, size, &result);
    double seconds = s_seconds (start);
    printf ("import:    %zu rows -> %zu projects + %zu status reports created, %zu bad, in "
            "%.2f s (%.0f rows/s; target < 20 s) %s\n",
            result->rows, result->created, result->reports_created, result->bad, seconds,
            (double)rows / seconds, rc == 0 && seconds < 20 ? "OK" : "MISSED");
    if (rc)
        fprintf (stderr, "bench: %s\n", result->error ? result->error : "failed");
    portio_import_result_destroy (&result);

    start = zclock_usecs ();
    rc = portio_import_run (&options, map, csv, size, &result);
    seconds = s_seconds (start);
    printf ("re-import: %zu rows, %zu unchanged, written: %s, in %.2f s (%.0f rows/s)\n",
            result->rows, result->unchanged, result->written ? "yes" : "no", seconds,
            (double)rows / seconds);
    portio_import_result_destroy (&result);

    //  The report of one division: rows / 10 projects
    start = zclock_usecs ();
    portio_report_t *report = portio_report_build (&peer, "d00", 0, why, sizeof why);
    seconds = s_seconds (start);
    if (!report) {
        fprintf (stderr, "bench: report: %s\n", why);
        return 1;
    }
    printf ("report:    %zu projects (red %zu, amber %zu, green %zu; SPI %.3f, CPI %.3f) built "
            "in %.3f s (fetch + compute; target < 1 s) %s\n",
            report->n_projects, report->rag[3], report->rag[2], report->rag[1], report->spi,
            report->cpi, seconds, seconds < 1 ? "OK" : "MISSED");
    start = zclock_usecs ();
    size_t html_size;
    char *html = portio_report_html (report, &html_size);
    json_t *json = portio_report_json (report);
    char *text = json_dumps (json, JSON_COMPACT);
    printf ("render:    html %.0f KB + json %.0f KB in %.3f s\n", (double)html_size / 1024,
            (double)strlen (text) / 1024, s_seconds (start));
    free (text);
    json_decref (json);
    free (html);
    portio_report_destroy (&report);

    portio_import_mapping_destroy (&map);
    free (csv);
    pmo_client_destroy (&client);
    zactor_destroy (&actor);
    pmo_test_redis_destroy (&redis);
    return 0;
}
