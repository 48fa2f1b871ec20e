/*  test_import.c: spreadsheets in and out, end to end, against a real
    registry (in-process actor, real ZeroMQ, real redis-server).

    - gmpp-2019.csv with deploy/data/gmpp-mapping.json: a dry run writes
      nothing; without --create-org-units every row is refused; the real
      run gives 133 projects in 16 divisions with every rating, cost and
      date as an independent reading of the file (gmpp_expect.py: Python's
      csv module, cp1252, Decimal) says;
    - importing the same file again changes nothing; a changed row updates;
    - export -> import round trips of projects, milestones, status reports
      and org units change nothing;
    - a malformed file (bad encoding, broken quoting, impossible dates,
      a stale duplicate) gives row-level problems and writes nothing in all
      or nothing mode; skip-bad writes the good rows and lists the bad;
    - the portfolio report's counts and totals match the independent ones.
*/
#include "portio_import.h"
#include "pmo_json.h"
#include "portio_report.h"
#include "registry_harness.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char s_source[1024];

static char *s_read_file (const char *path, size_t *size)
{
    FILE *f = fopen (path, "rb");
    if (!f) {
        fprintf (stderr, "test: cannot open %s\n", path);
        abort ();
    }
    fseek (f, 0, SEEK_END);
    long len = ftell (f);
    fseek (f, 0, SEEK_SET);
    char *data = malloc ((size_t)len + 1);
    assert (data && fread (data, 1, (size_t)len, f) == (size_t)len);
    data[len] = 0;
    fclose (f);
    *size = (size_t)len;
    return data;
}

static json_t *s_expected (void)
{
    char command[2300];
    snprintf (command, sizeof command,
              "python3 %s/tests/import/gmpp_expect.py %s/deploy/data/gmpp-2019.csv", s_source,
              s_source);
    FILE *pipe = popen (command, "r");
    assert (pipe);
    json_error_t error;
    json_t *expected = json_loadf (pipe, 0, &error);
    assert (pclose (pipe) == 0);
    if (!expected) {
        fprintf (stderr, "test: gmpp_expect.py: %s\n", error.text);
        abort ();
    }
    return expected;
}

static long long s_stream_length (rh_t *rh, const char *division)
{
    redisReply *reply = pmo_test_redis_command (rh->redis, "XLEN pmo:{%s}:events", division);
    assert (reply && reply->type == REDIS_REPLY_INTEGER);
    long long n = reply->integer;
    freeReplyObject (reply);
    return n;
}

//  Events in every stream: nothing written means this does not move
static long long s_all_events (rh_t *rh)
{
    redisReply *keys = pmo_test_redis_command (rh->redis, "KEYS pmo:*:events");
    assert (keys && keys->type == REDIS_REPLY_ARRAY);
    long long total = 0;
    for (size_t i = 0; i < keys->elements; i++) {
        redisReply *n = pmo_test_redis_command (rh->redis, "XLEN %s", keys->element[i]->str);
        total += n->integer;
        freeReplyObject (n);
    }
    freeReplyObject (keys);
    return total;
}

static portio_import_result_t *s_import (portio_import_options_t *options,
                                         const portio_import_mapping_t *map, const char *data,
                                         size_t size, int expect_rc)
{
    portio_import_result_t *result = NULL;
    int rc = portio_import_run (options, map, data, size, &result);
    if (rc != expect_rc || getenv ("PMO_TEST_VERBOSE")) {
        json_t *json = portio_import_result_json (result);
        json_object_del (json, "rows_detail");
        char *text = json_dumps (json, JSON_INDENT (1));
        fprintf (stderr, "import rc=%d (expected %d): %s\n", rc, expect_rc, text);
        free (text);
        json_decref (json);
        if (rc != expect_rc)
            abort ();
    }
    return result;
}

static bool s_has_problem (const portio_import_result_t *result, size_t row, const char *column,
                           const char *reason_part)
{
    for (size_t i = 0; i < result->n_problems; i++) {
        const portio_import_problem_t *p = &result->problems[i];
        if (p->row == row && (!column || strcmp (p->column, column) == 0) &&
            strstr (p->reason, reason_part))
            return true;
    }
    fprintf (stderr, "test: no problem at row %zu column %s with '%s'; problems:\n", row,
             column ? column : "*", reason_part);
    for (size_t i = 0; i < result->n_problems; i++)
        fprintf (stderr, "  row %zu [%s] '%s': %s\n", result->problems[i].row,
                 result->problems[i].column, result->problems[i].value, result->problems[i].reason);
    return false;
}

//  The projects the registry holds, by name.
static Pmo__Project *s_by_name (ProtobufCMessage **items, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp (((Pmo__Project *)items[i])->name, name) == 0)
            return (Pmo__Project *)items[i];
    return NULL;
}

static void s_test_gmpp (rh_t *rh, portio_import_peer_t *peer, json_t *expected)
{
    char path[1200], why[512];
    size_t size, map_size;
    snprintf (path, sizeof path, "%s/deploy/data/gmpp-2019.csv", s_source);
    char *data = s_read_file (path, &size);
    snprintf (path, sizeof path, "%s/deploy/data/gmpp-mapping.json", s_source);
    char *map_text = s_read_file (path, &map_size);
    portio_import_mapping_t *map = portio_import_mapping_load (map_text, map_size, why, sizeof why);
    if (!map) {
        fprintf (stderr, "mapping: %s\n", why);
        abort ();
    }
    portio_import_options_t options = {.peer = *peer, .hub = "hub"};
    long long events = s_all_events (rh);

    //  Without permission to create the departments: every row refused, nothing written
    portio_import_result_t *result = s_import (&options, map, data, size, -1);
    assert (result->bad == 133 && !result->written);
    assert (s_has_problem (result, 2, "department", "create-org-units"));
    assert (s_all_events (rh) == events);
    portio_import_result_destroy (&result);

    //  A dry run: all would be created, nothing written
    options.create_org_units = true;
    options.dry_run = true;
    result = s_import (&options, map, data, size, 0);
    assert (strcmp (result->encoding, "windows-1252") == 0 && result->delimiter == ',');
    assert (result->rows == 133 && result->created == 133 && result->bad == 0);
    assert (result->org_units_created == 16 && result->reports_created == 130);
    assert (result->n_problems == 0 && !result->written);
    assert (s_all_events (rh) == events);
    portio_import_result_destroy (&result);

    //  The real run
    options.dry_run = false;
    result = s_import (&options, map, data, size, 0);
    assert (result->created == 133 && result->written && result->org_units_created == 16);
    assert ((json_int_t)result->reports_created ==
            json_integer_value (json_object_get (expected, "rated")));
    //  three ratings, and many dates and figures, are withheld
    assert (result->withheld > 3);
    portio_import_result_destroy (&result);

    //  What the registry holds, against the independent reading
    pmo_arena_t *arena = pmo_arena_new ();
    ProtobufCMessage **units, **projects;
    size_t n_units, n_projects;
    assert (portio_import_list (peer, arena, PMO__ENTITY_KIND__ENTITY_KIND_ORG_UNIT, "", NULL,
                                false, &units, &n_units, why, sizeof why) == 0);
    size_t divisions = 0;
    for (size_t i = 0; i < n_units; i++) {
        Pmo__OrgUnit *unit = (Pmo__OrgUnit *)units[i];
        if (unit->kind == PMO__ORG_UNIT_KIND__ORG_UNIT_KIND_DIVISION) {
            divisions++;
            assert (strcmp (unit->parent, "hub") == 0);
        }
        if (strcmp (unit->id, "mod") == 0)
            assert (strcmp (unit->name, "Ministry of Defence") == 0);
    }
    assert (divisions == 16);
    assert (portio_import_list (peer, arena, PMO__ENTITY_KIND__ENTITY_KIND_PROJECT, "", NULL, false,
                                &projects, &n_projects, why, sizeof why) == 0);
    assert (n_projects == 133);
    json_t *names = json_object_get (expected, "names");
    const char *name;
    json_t *want;
    long long wlc = 0;
    json_object_foreach (names, name, want)
    {
        Pmo__Project *p = s_by_name (projects, n_projects, name);
        if (!p) {
            fprintf (stderr, "test: project '%s' missing\n", name);
            abort ();
        }
        const char *start = json_string_value (json_object_get (want, "start"));
        const char *finish = json_string_value (json_object_get (want, "finish"));
        long long pence = json_integer_value (json_object_get (want, "wlc"));
        if (strcmp (p->baseline_start, start) || strcmp (p->baseline_finish, finish) ||
            (pence >= 0) != (p->budget && p->budget->baseline) ||
            (pence >= 0 && p->budget->baseline->minor != pence)) {
            fprintf (stderr, "test: '%s': start %s/%s finish %s/%s wlc %lld\n", name,
                     p->baseline_start, start, p->baseline_finish, finish, pence);
            abort ();
        }
        assert (p->status == PMO__PROJECT_STATUS__PROJECT_STATUS_ACTIVE);
        assert (p->phase == PMO__PHASE__PHASE_EXECUTION);
        assert (strcmp (p->external_id, name) == 0);
        wlc += pence > 0 ? pence : 0;
    }
    assert (wlc == json_integer_value (json_object_get (expected, "wlc_pence")));
    //  The code derived from the name
    Pmo__Project *gdf =
        s_by_name (projects, n_projects, "Geological Disposal Facility Programme (GDF)");
    assert (gdf && strcmp (gdf->code, "BEIS-GDF") == 0 && strcmp (gdf->division, "beis") == 0);
    pmo_arena_destroy (&arena);

    //  The same file again: nothing changes, nothing is written
    events = s_all_events (rh);
    result = s_import (&options, map, data, size, 0);
    assert (result->unchanged == 133 && result->created == 0 && result->updated == 0);
    assert (!result->written && s_all_events (rh) == events);
    portio_import_result_destroy (&result);

    //  One changed figure: that row updates, with the version read
    char *changed = strdup (data);
    char *at = strstr (changed, "\"\xA3"
                                "12,343.96\"");
    assert (at);
    memcpy (at,
            "\"\xA3"
            "12,343.97\"",
            12);
    long long beis = s_stream_length (rh, "beis");
    result = s_import (&options, map, changed, size, 0);
    assert (result->updated == 1 && result->unchanged == 132);
    assert (s_stream_length (rh, "beis") == beis + 1);
    portio_import_result_destroy (&result);
    //  ... and back
    result = s_import (&options, map, data, size, 0);
    assert (result->updated == 1);
    portio_import_result_destroy (&result);
    free (changed);

    portio_import_mapping_destroy (&map);
    free (map_text);
    free (data);
}

//  The portfolio report against the independent reading of the file.
static void s_test_report (portio_import_peer_t *peer, json_t *expected)
{
    char why[512];
    portio_report_t *report = portio_report_build (peer, "hub", 0, why, sizeof why);
    if (!report) {
        fprintf (stderr, "report: %s\n", why);
        abort ();
    }
    json_t *rag = json_object_get (expected, "rag");
    assert (report->n_projects == 133);
    assert ((json_int_t)report->rag[PMO__RAG__RAG_GREEN] ==
            json_integer_value (json_object_get (rag, "green")));
    assert ((json_int_t)report->rag[PMO__RAG__RAG_AMBER] ==
            json_integer_value (json_object_get (rag, "amber")));
    assert ((json_int_t)report->rag[PMO__RAG__RAG_RED] ==
            json_integer_value (json_object_get (rag, "red")));
    assert (report->rag[0] ==
            133 - (size_t)json_integer_value (json_object_get (expected, "rated")));
    assert (report->baseline == json_integer_value (json_object_get (expected, "wlc_pence")));
    assert ((json_int_t)report->with_budget ==
            json_integer_value (json_object_get (expected, "wlc_count")));
    assert (strcmp (report->currency, "GBP") == 0);
    assert (report->phase[PMO__PHASE__PHASE_EXECUTION] == 133);
    assert (report->status[PMO__PROJECT_STATUS__PROJECT_STATUS_ACTIVE] == 133);
    //  GMPP publishes no earned value: the indices are not available, not 1.0
    assert (report->spi < 0 && report->cpi < 0 && report->with_ev == 0);
    //  Every division, its count, its RAG split and its whole-life cost
    json_t *divisions = json_object_get (expected, "divisions");
    assert (report->n_units == 17);
    for (size_t i = 1; i < report->n_units; i++) {
        const portio_report_unit_t *u = &report->units[i];
        json_t *per = json_object_get (json_object_get (expected, "rag_by_division"), u->id);
        if ((json_int_t)u->projects != json_integer_value (json_object_get (divisions, u->id)) ||
            (json_int_t)u->rag[3] != json_integer_value (json_object_get (per, "red")) ||
            (json_int_t)u->rag[1] != json_integer_value (json_object_get (per, "green")) ||
            u->baseline != json_integer_value (json_object_get (
                               json_object_get (expected, "wlc_by_division"), u->id))) {
            fprintf (stderr, "report: unit %s differs\n", u->id);
            abort ();
        }
    }
    //  Every project is new in this period; their reports speak for 2019, long before it
    assert (report->n_changes == 133 && strcmp (report->changes[0].what, "new") == 0);
    //  The forms
    json_t *json = portio_report_json (report);
    assert (json_integer_value (json_object_get (json_object_get (json, "by_rag"), "red")) == 42);
    assert (json_is_null (json_object_get (json_object_get (json, "earned_value"), "spi")));
    json_decref (json);
    size_t size;
    char *html = portio_report_html (report, &size);
    assert (size == strlen (html) && strstr (html, "<svg") && strstr (html, "Ministry of"));
    //  Self-contained: nothing fetched from anywhere when it is opened
    assert (!strstr (html, "src=") && !strstr (html, "http") && !strstr (html, "@import"));
    free (html);
    char *csv = portio_report_csv (report, "units", false, &size);
    pmo_arena_t *arena = pmo_arena_new ();
    portio_csv_t *table = portio_csv_parse (csv, size, NULL, arena);
    bool mod = false;
    for (size_t i = 1; i < table->n_records; i++)
        if (strcmp (table->records[i].fields[0], "mod") == 0)
            mod = strcmp (table->records[i].fields[2], "35") == 0;
    assert (mod);
    pmo_arena_destroy (&arena);
    free (csv);
    for (const char *const *t = portio_report_tables (); *t; t++) {
        csv = portio_report_csv (report, *t, true, &size);
        assert (csv && size > 3);
        free (csv);
    }
    portio_report_destroy (&report);
}

//  Export every kind, import it back with the native mapping: unchanged.
static void s_test_round_trip (rh_t *rh, portio_import_peer_t *peer)
{
    //  A few milestones first, so that they have something to round trip
    Pmo__RegistryReply *reply = rh_get (rh, PMO__ENTITY_KIND__ENTITY_KIND_ORG_UNIT, "dft");
    rh_ok (reply);
    rh_free (&reply);
    pmo_arena_t *arena = pmo_arena_new ();
    char why[512];
    ProtobufCMessage **projects;
    size_t n;
    assert (portio_import_list (peer, arena, PMO__ENTITY_KIND__ENTITY_KIND_PROJECT, "dft", NULL,
                                false, &projects, &n, why, sizeof why) == 0);
    assert (n == 18);
    for (size_t i = 0; i < 3; i++) {
        Pmo__Milestone m = PMO__MILESTONE__INIT;
        m.project_id = ((Pmo__Project *)projects[i])->id;
        m.name = "Gate \"B\", full business case";
        m.baseline_date = "2020-06-30";
        m.forecast_date = "2020-09-30";
        Pmo__RegistryRequest request = PMO__REGISTRY_REQUEST__INIT;
        request.body_case = PMO__REGISTRY_REQUEST__BODY_CREATE_MILESTONE;
        request.create_milestone = &m;
        reply = rh_call (rh, &request);
        rh_ok (reply);
        rh_free (&reply);
    }
    pmo_arena_destroy (&arena);

    const char *kinds[] = {"org_unit", "project", "milestone", "status_report"};
    for (size_t k = 0; k < 4; k++) {
        char *csv;
        size_t size;
        assert (portio_export (peer, kinds[k], "", true, &csv, &size, why, sizeof why) == 0);
        assert (size > 3 && memcmp (csv, "\xEF\xBB\xBF", 3) == 0);
        portio_import_mapping_t *map = portio_import_mapping_native (kinds[k]);
        long long events = s_all_events (rh);
        portio_import_options_t options = {.peer = *peer, .hub = "hub"};
        portio_import_result_t *result = s_import (&options, map, csv, size, 0);
        size_t expect = k == 0 ? 17 : k == 1 ? 133 : k == 2 ? 3 : 130;
        if (result->unchanged != expect || result->rows != expect) {
            fprintf (stderr, "round trip %s: %zu rows, %zu unchanged (expected %zu)\n", kinds[k],
                     result->rows, result->unchanged, expect);
            abort ();
        }
        assert (s_all_events (rh) == events);
        portio_import_result_destroy (&result);
        portio_import_mapping_destroy (&map);
        free (csv);
    }
}

//  A malformed file: each problem at its row and column; nothing written
//  in all or nothing mode; skip-bad writes the good rows only.
static void s_test_malformed (rh_t *rh, portio_import_peer_t *peer)
{
    //  UTF-8 (the pound signs are), with a stray Windows-1252 byte in row 3,
    //  an impossible date in row 4, a broken quote in row 5 and a good row 6
    const char *data = "code,name,org_unit,baseline_start,budget.baseline,currency\n"
                       "BAD-1,\"Fine, quoted\",dft,2024-01-31,\"\xC2\xA3"
                       "1,200.00\",GBP\n"
                       "BAD-2,Caf\xE9 project,dft,2024-01-31,\xC2\xA3"
                       "5.00,GBP\n"
                       "BAD-3,Leap,dft,31.02.19,7,GBP\n"
                       "BAD-4,\"Broken \"quote,dft,2024-01-31,7,GBP\n"
                       "BAD-5,Good too,dft,29.02.24,(1),GBP\n";
    size_t size = strlen (data);
    portio_import_mapping_t *map = portio_import_mapping_native ("project");
    portio_import_options_t options = {.peer = *peer, .hub = "hub"};
    long long events = s_all_events (rh);
    portio_import_result_t *result = s_import (&options, map, data, size, -1);
    assert (strcmp (result->encoding, "utf-8") == 0);
    assert (s_has_problem (result, 3, "name", "not UTF-8"));
    assert (s_has_problem (result, 4, "baseline_start", "impossible date"));
    assert (s_has_problem (result, 5, "name", "closing quote"));
    assert (s_has_problem (result, 6, "budget.baseline", "negative"));
    assert (result->bad == 4 && !result->written);
    assert (s_all_events (rh) == events);
    portio_import_result_destroy (&result);

    //  A quote never closed swallows the rest of the file: one problem, at its row
    const char *open = "code,name,org_unit\nQ-1,ok,dft\nQ-2,\"never closed,dft\nQ-3,x,dft\n";
    result = s_import (&options, map, open, strlen (open), -1);
    assert (s_has_problem (result, 3, "name", "never closed"));
    assert (s_all_events (rh) == events);
    portio_import_result_destroy (&result);

    //  Server-side rules are problems of their rows too (finish before start)
    const char *late = "code,name,org_unit,baseline_start,baseline_finish\n"
                       "L-1,Late,dft,2024-05-01,2024-04-01\n";
    result = s_import (&options, map, late, strlen (late), -1);
    assert (s_has_problem (result, 2, "baseline_finish", "before baseline_start"));
    portio_import_result_destroy (&result);

    //  skip-bad: the good row is written, the bad ones listed
    options.skip_bad = true;
    result = s_import (&options, map, data, size, 0);
    assert (result->created == 1 && result->bad == 4 && result->written);
    assert (s_all_events (rh) == events + 1);
    portio_import_result_destroy (&result);
    portio_import_mapping_destroy (&map);
}

static portio_import_mapping_t *s_mapping (const char *text)
{
    char why[512];
    portio_import_mapping_t *map =
        portio_import_mapping_load (text, strlen (text), why, sizeof why);
    if (!map) {
        fprintf (stderr, "mapping: %s\n", why);
        abort ();
    }
    return map;
}

//  The count of marker (kind) in the result, 0 if it was not met.
static size_t s_marker_count (const portio_import_result_t *result, const char *kind,
                              const char *marker)
{
    for (size_t i = 0; i < result->n_markers; i++)
        if (strcmp (result->markers[i].kind, kind) == 0 &&
            strcmp (result->markers[i].marker, marker) == 0)
            return result->markers[i].count;
    return 0;
}

//  A file as portfolios publish them: two columns of one name (a rating per
//  source, the first mostly blank), a long "not applicable" text in date and
//  amount cells, TBC, two-digit years, an amount that reads two ways, and
//  codes derived with unique that must come out the same on a re-import.
static void s_test_mapping_rules (rh_t *rh, portio_import_peer_t *peer)
{
    const char *data =
        "project_name,department,rating,rating,end_date,wlc\n"
        "Alpha Beta,mk,,Amber,31.03.24,\"\xC2\xA3"
        "1,234.5\"\n"
        "Apple Banana,mk,Red,Green,TBC,\"\xC2\xA3"
        "2m\"\n"
        "Another Bridge,mk,,,Early planning GMPP project (This project has not yet reached "
        "the stage where a date is set),Early planning GMPP project (no figure yet)\n"
        "Ash Birch,mk,,Amber/Red,2030-01-01,\"\xC2\xA3"
        "1,2m\"\n";
    size_t size = strlen (data);
    portio_import_options_t options = {
        .peer = *peer, .hub = "hub", .create_org_units = true, .dry_run = true};

    //  The plain name of a column the file has twice is no guess: a problem
    //  naming the ways to say which; the dry run lists the duplicates
    portio_import_mapping_t *map = s_mapping (
        "{\"entity\": \"project\", \"columns\": ["
        "{\"column\": \"project_name\", \"field\": \"name\"},"
        "{\"column\": \"department\", \"field\": \"org_unit\"},"
        "{\"template\": \"{department|upper}-{project_name|acronym}\", \"field\": \"code\", "
        "\"unique\": true, \"create_only\": true},"
        "{\"column\": \"rating\", \"field\": \"report.overall\"}]}");
    portio_import_result_t *result = s_import (&options, map, data, size, -1);
    assert (s_has_problem (result, 1, "rating", "rating#2"));
    assert (result->n_duplicates == 1 && strcmp (result->duplicates[0].name, "rating") == 0 &&
            strcmp (result->duplicates[0].positions, "3, 4") == 0);
    json_t *json = portio_import_result_json (result);
    assert (json_array_size (json_object_get (json, "duplicate_columns")) == 1);
    json_decref (json);
    portio_import_result_destroy (&result);
    portio_import_mapping_destroy (&map);

    //  first_of, #n and "#6" by position; the mapping's markers; the
    //  amount "1,2m" reads two ways, and the problem names both readings
#define RULES(extra)                                                                               \
    "{\"entity\": \"project\", \"blank\": [\"early planning*\"], \"withheld\": "                   \
    "[\"Redacted by the PMO\"], " extra " \"columns\": ["                                          \
    "{\"column\": \"project_name\", \"field\": \"name\"},"                                         \
    "{\"column\": \"department\", \"field\": \"org_unit\"},"                                       \
    "{\"template\": \"{department|upper}-{project_name|acronym}\", \"field\": \"code\", "          \
    "\"unique\": true, \"create_only\": true},"                                                    \
    "{\"first_of\": [\"rating#1\", \"rating#2\"], \"field\": \"report.overall\", "                 \
    "\"values\": {\"Amber/Red\": \"red\"}},"                                                       \
    "{\"column\": \"rating#2\", \"field\": \"report.narrative\"},"                                 \
    "{\"column\": \"end_date\", \"field\": \"baseline_finish\"},"                                  \
    "{\"column\": \"#6\", \"field\": \"budget.baseline\"}],"                                       \
    "\"defaults\": {\"report.period_end\": \"2024-03-31\"}}"
    map = s_mapping (RULES (""));
    result = s_import (&options, map, data, size, 0);
    assert (result->bad == 1);
    assert (s_has_problem (result, 5, "#6", "reads two ways: 1200000.00"));
    assert (s_has_problem (result, 5, "#6", "or 12000000.00"));
    assert (s_has_problem (result, 5, "#6", "decimal_comma"));
    //  Every fallback is counted, per marker
    assert (s_marker_count (result, "blank", "early planning*") == 2);
    assert (s_marker_count (result, "blank", "tbc") == 1);
    assert (result->blanked == 3 && result->two_digit_years == 1);
    json = portio_import_result_json (result);
    json_t *fallbacks = json_object_get (json, "fallbacks");
    assert (json_integer_value (json_object_get (fallbacks, "blank")) == 3);
    assert (json_integer_value (json_object_get (fallbacks, "two_digit_year")) == 1);
    assert (json_array_size (json_object_get (fallbacks, "markers")) == 2);
    json_decref (json);
    portio_import_result_destroy (&result);
    portio_import_mapping_destroy (&map);

    //  The mapping says which: a decimal comma; now the file imports
    map = s_mapping (RULES ("\"decimal_comma\": false,"));
    result = s_import (&options, map, data, size, 0);
    assert (s_has_problem (result, 5, "#6", "followed by 3 digits"));
    portio_import_result_destroy (&result);
    portio_import_mapping_destroy (&map);
    //  With a decimal comma "£1,234.5" is the one that is wrong
    map = s_mapping (RULES ("\"decimal_comma\": true,"));
    result = s_import (&options, map, data, size, 0);
    assert (result->bad == 1 && s_has_problem (result, 2, "#6", "not an amount"));
    portio_import_result_destroy (&result);
    portio_import_mapping_destroy (&map);

    //  Without the ambiguous row, for real: four projects, codes derived
    //  with unique (MK-AB, MK-AB-2, MK-AB-3, MK-AB-4)
    const char *cut = strstr (data, "Ash Birch");
    size_t good = (size_t)(cut - data);
    map = s_mapping (RULES (""));
    options.dry_run = false;
    result = s_import (&options, map, data, good, 0);
    assert (result->created == 3 && result->written && result->reports_created == 2);
    assert (result->blanked == 3);
    portio_import_result_destroy (&result);
    pmo_arena_t *arena = pmo_arena_new ();
    char why[512];
    ProtobufCMessage **projects;
    size_t n;
    assert (portio_import_list (peer, arena, PMO__ENTITY_KIND__ENTITY_KIND_PROJECT, "mk", NULL,
                                false, &projects, &n, why, sizeof why) == 0);
    assert (n == 3);
    Pmo__Project *ab = s_by_name (projects, n, "Alpha Beta");
    Pmo__Project *ab2 = s_by_name (projects, n, "Apple Banana");
    Pmo__Project *ab3 = s_by_name (projects, n, "Another Bridge");
    assert (strcmp (ab->code, "MK-AB") == 0 && strcmp (ab2->code, "MK-AB-2") == 0 &&
            strcmp (ab3->code, "MK-AB-3") == 0);
    assert (ab->budget->baseline->minor == 123450 && ab2->budget->baseline->minor == 200000000);
    assert (strcmp (ab->baseline_finish, "2024-03-31") == 0 && !*ab2->baseline_finish &&
            (!ab3->budget || !ab3->budget->baseline));
    pmo_arena_destroy (&arena);

    //  Re-import: each row finds its own record (the code key does not send
    //  the second row to the first's MK-AB); nothing changes
    long long events = s_all_events (rh);
    result = s_import (&options, map, data, good, 0);
    assert (result->unchanged == 3 && result->bad == 0 && !result->written);
    assert (s_all_events (rh) == events);
    portio_import_result_destroy (&result);
    portio_import_mapping_destroy (&map);

    //  Keyed by external id with the code derived on every import (not
    //  create_only): the suffix a record got stays its own
    const char *by_xid =
        "{\"entity\": \"project\", \"key\": \"external_id\", \"columns\": ["
        "{\"column\": \"project_name\", \"field\": \"name\"},"
        "{\"column\": \"project_name\", \"field\": \"external_id\"},"
        "{\"column\": \"department\", \"field\": \"org_unit\"},"
        "{\"template\": \"{department|upper}-X{project_name|acronym}\", \"field\": \"code\", "
        "\"unique\": true}]}";
    map = s_mapping (by_xid);
    result = s_import (&options, map, data, good, 0);
    assert (result->created == 3);
    portio_import_result_destroy (&result);
    events = s_all_events (rh);
    result = s_import (&options, map, data, good, 0);
    assert (result->unchanged == 3 && result->bad == 0 && !result->written);
    assert (s_all_events (rh) == events);
    portio_import_result_destroy (&result);
    portio_import_mapping_destroy (&map);
}

//  The registry's import_batch itself: a retry under the same request id
//  changes nothing twice; a stale version is a conflict of its item; the
//  batch limit is enforced; latest_reports leaves out what one may not see.
static void s_test_batch (rh_t *rh)
{
    Pmo__Project project = PMO__PROJECT__INIT;
    project.code = "BATCH-1";
    project.name = "Batch one";
    project.org_unit = "dft";
    Pmo__ImportItem item = PMO__IMPORT_ITEM__INIT;
    item.row = 2;
    item.body_case = PMO__IMPORT_ITEM__BODY_CREATE_PROJECT;
    item.create_project = &project;
    Pmo__ImportItem *items[] = {&item};
    Pmo__ImportBatchRequest batch = PMO__IMPORT_BATCH_REQUEST__INIT;
    batch.division = "dft";
    batch.items = items;
    batch.n_items = 1;
    Pmo__RegistryRequest request = PMO__REGISTRY_REQUEST__INIT;
    request.body_case = PMO__REGISTRY_REQUEST__BODY_IMPORT_BATCH;
    request.import_batch = &batch;
    long long events = s_stream_length (rh, "dft");
    Pmo__RegistryReply *first = rh_call_with_id (rh, &request, "batch-retry-1");
    rh_ok (first);
    assert (first->import_batch->committed && first->import_batch->created == 1);
    char id[40];
    snprintf (id, sizeof id, "%s", first->import_batch->results[0]->id);
    Pmo__RegistryReply *again = rh_call_with_id (rh, &request, "batch-retry-1");
    rh_ok (again);
    assert (strcmp (again->import_batch->results[0]->id, id) == 0);
    assert (s_stream_length (rh, "dft") == events + 1);
    rh_free (&first);
    rh_free (&again);
    //  A stale version: the item fails with conflict, nothing is written
    item.body_case = PMO__IMPORT_ITEM__BODY_UPDATE_PROJECT;
    item.update_project = &project;
    project.id = id;
    project.version = 7;
    project.name = "Batch one, renamed";
    Pmo__RegistryReply *reply = rh_call (rh, &request);
    rh_err (reply, CONFLICT, "import_batch.items[0].update_project.version");
    assert (!reply->import_batch->committed &&
            reply->import_batch->results[0]->outcome == PMO__IMPORT_OUTCOME__IMPORT_OUTCOME_FAILED);
    rh_free (&reply);
    assert (s_stream_length (rh, "dft") == events + 1);
    //  An item of another division
    project.version = 1;
    batch.division = "mod";
    reply = rh_call (rh, &request);
    rh_err (reply, INVALID, "items[0]");
    rh_free (&reply);
    //  Too many items
    batch.division = "dft";
    batch.n_items = 2001;
    Pmo__ImportItem **many = calloc (2001, sizeof (void *));
    for (size_t i = 0; i < 2001; i++)
        many[i] = &item;
    batch.items = many;
    reply = rh_call (rh, &request);
    rh_err (reply, INVALID, "import_batch.items");
    rh_free (&reply);
    free (many);
    //  latest_reports: a viewer of one division sees only its projects
    Pmo__LatestReportsRequest latest = PMO__LATEST_REPORTS_REQUEST__INIT;
    char *ids[] = {id, "pr_mod_1"};
    latest.project_ids = ids;
    latest.n_project_ids = 2;
    request.body_case = PMO__REGISTRY_REQUEST__BODY_LATEST_REPORTS;
    request.latest_reports = &latest;
    rh_as (rh, "viewer@dft", "viewer@dft");
    reply = rh_call (rh, &request);
    rh_ok (reply);
    assert (reply->latest_reports->n_projects == 1);
    rh_free (&reply);
    rh_as (rh, "admin@test", "admin@hub");
}

int main (void)
{
    const char *source = getenv ("PMO_SOURCE_DIR");
    snprintf (s_source, sizeof s_source, "%s", source ? source : SOURCE_DIR);
    json_t *expected = s_expected ();
    assert (json_integer_value (json_object_get (expected, "projects")) == 133);
    rh_t *rh = rh_start ();
    Pmo__RegistryReply *reply = rh_unit (rh, "hub", "enterprise", NULL, "directive");
    rh_ok (reply);
    rh_free (&reply);
    portio_import_peer_t peer = {
        .registry = rh->client, .identity = &rh->identity, .timeout_ms = 10000, .attempts = 1};
    s_test_gmpp (rh, &peer, expected);
    printf ("gmpp import: ok\n");
    s_test_report (&peer, expected);
    printf ("report: ok\n");
    s_test_round_trip (rh, &peer);
    printf ("round trip: ok\n");
    s_test_malformed (rh, &peer);
    printf ("malformed: ok\n");
    s_test_batch (rh);
    printf ("batch: ok\n");
    s_test_mapping_rules (rh, &peer);
    printf ("mapping rules: ok\n");
    json_decref (expected);
    rh_stop (&rh);
    return 0;
}
