/*  test_mspdi.c: Microsoft Project plans (MSPDI XML) into a real registry
    (in-process actor, real ZeroMQ, real redis-server), through the same
    portio_import_run as a spreadsheet (the format known by content).

    - every file of tests/import/mspdi/ (real Project 2002-2019 output from
      the MPXJ project's test data, see its README) imports: one project
      and the milestones its milestone and top-level tasks make (the counts
      below, from an independent reading with Python's ElementTree), and a
      second import changes nothing; or (the two assignment files, whose
      project finishes before it starts) gives that problem by element;
    - sample1.xml: a dry run writes nothing; the project's name, dates and
      its milestones' names and dates are the plan's; a task moved in the
      plan updates its milestone;
    - a plan with a status date gives a status report with its earned
      value (BCWS, BCWP, ACWP are hundredths); where Project computed no
      BCWS nor BCWP, PV and EV come from the baseline cost (the figures
      worked out by hand below), with a warning; a plan without costs gives
      no report, and its dry run says why;
    - a file that is not XML, XML that is not MSPDI, a task with a date
      that is not one: problems naming the element and its line, nothing
      written.
*/
#include "portio_import.h"
#include "portio_mspdi.h"
#include "registry_harness.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char s_source[1024];

static char *s_read (const char *name, size_t *size)
{
    char path[1400];
    snprintf (path, sizeof path, "%s/tests/import/mspdi/%s", s_source, name);
    FILE *file = fopen (path, "rb");
    assert (file);
    fseek (file, 0, SEEK_END);
    long length = ftell (file);
    fseek (file, 0, SEEK_SET);
    char *data = malloc ((size_t)length + 1);
    assert (data && fread (data, 1, (size_t)length, file) == (size_t)length);
    data[length] = 0;
    fclose (file);
    *size = (size_t)length;
    return data;
}

static portio_import_result_t *s_import (const portio_import_peer_t *peer, const char *data,
                                         size_t size, bool dry_run, int expect_rc)
{
    portio_import_mapping_t *map = portio_import_mapping_native ("project");
    portio_import_options_t options = {.peer = *peer,
                                       .hub = "hub",
                                       .create_org_units = true,
                                       .dry_run = dry_run,
                                       .org_unit = "msp"};
    portio_import_result_t *result = NULL;
    int rc = portio_import_run (&options, map, data, size, &result);
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
    portio_import_mapping_destroy (&map);
    return result;
}

static bool s_has_problem (const portio_import_result_t *result, const char *column,
                           const char *reason)
{
    for (size_t i = 0; i < result->n_problems; i++)
        if (strstr (result->problems[i].column, column) &&
            strstr (result->problems[i].reason, reason) && result->problems[i].row > 0)
            return true;
    fprintf (stderr, "no problem [%s] '%s' among %zu (error: %s)\n", column, reason,
             result->n_problems, result->error ? result->error : "");
    for (size_t i = 0; i < result->n_problems; i++)
        fprintf (stderr, "  line %zu [%s] %s\n", result->problems[i].row,
                 result->problems[i].column, result->problems[i].reason);
    return false;
}

//  The project imported from a plan, by its external id.
static Pmo__Project *s_project (const portio_import_peer_t *peer, pmo_arena_t *arena,
                                const char *external_id)
{
    char why[512];
    ProtobufCMessage **items;
    size_t n;
    assert (portio_import_list (peer, arena, PMO__ENTITY_KIND__ENTITY_KIND_PROJECT, "", NULL, false,
                                &items, &n, why, sizeof why) == 0);
    for (size_t i = 0; i < n; i++)
        if (strcmp (((Pmo__Project *)items[i])->external_id, external_id) == 0)
            return (Pmo__Project *)items[i];
    return NULL;
}

int main (void)
{
    const char *source = getenv ("PMO_SOURCE_DIR");
    snprintf (s_source, sizeof s_source, "%s", source ? source : SOURCE_DIR);
    rh_t *rh = rh_start ();
    Pmo__RegistryReply *reply = rh_unit (rh, "hub", "enterprise", NULL, "directive");
    rh_ok (reply);
    rh_free (&reply);
    portio_import_peer_t peer = {
        .registry = rh->client, .identity = &rh->identity, .timeout_ms = 10000, .attempts = 1};

    //  sample1.xml: a dry run first, then for real
    size_t size;
    char *sample = s_read ("sample1.xml", &size);
    assert (portio_mspdi_is (sample, size));
    portio_import_result_t *result = s_import (&peer, sample, size, true, 0);
    assert (result->created == 5 && result->bad == 0 && !result->written);
    portio_import_result_destroy (&result);
    pmo_arena_t *arena = pmo_arena_new ();
    assert (!s_project (&peer, arena, "mspdi:MPXJ Sample"));
    result = s_import (&peer, sample, size, false, 0);
    assert (result->created == 5 && result->written);
    portio_import_result_destroy (&result);
    Pmo__Project *p = s_project (&peer, arena, "mspdi:MPXJ Sample");
    assert (p && strcmp (p->name, "MPXJ Sample") == 0 && strcmp (p->code, "MPXJ-SAMPLE") == 0 &&
            strcmp (p->baseline_start, "2003-01-07") == 0 &&
            strcmp (p->forecast_finish, "2003-03-18") == 0 && strcmp (p->division, "msp") == 0);
    char why[512];
    ProtobufCMessage **items;
    size_t n;
    assert (portio_import_list (&peer, arena, PMO__ENTITY_KIND__ENTITY_KIND_MILESTONE, "", p->id,
                                false, &items, &n, why, sizeof why) == 0);
    assert (n == 4);
    bool found = false;
    for (size_t i = 0; i < n; i++) {
        Pmo__Milestone *m = (Pmo__Milestone *)items[i];
        if (strcmp (m->name, "1 First Task") == 0)
            found = strcmp (m->forecast_date, "2003-03-18") == 0;
    }
    assert (found);
    //  Again: nothing changes
    result = s_import (&peer, sample, size, false, 0);
    assert (result->unchanged == 5 && result->created == 0 && !result->written);
    portio_import_result_destroy (&result);
    //  A task moved in the plan: its milestone updates
    char *moved = strdup (sample);
    char *at = strstr (moved, "<Name>First Task</Name>");
    assert (at);
    at = strstr (at, "<Finish>2003-03-18");
    assert (at);
    memcpy (at, "<Finish>2003-04-18", 18);
    result = s_import (&peer, moved, size, false, 0);
    assert (result->updated >= 1 && result->bad == 0);
    portio_import_result_destroy (&result);
    free (moved);

    //  A status date: a report with the earned value
    const char *with_status =
        "<?xml version=\"1.0\"?><Project "
        "xmlns=\"http://schemas.microsoft.com/project\">"
        "<Name>ev.xml</Name><Title>Earned Value Plan</Title><GUID>6C1A-EV</GUID>"
        "<StartDate>2026-01-05T08:00:00</"
        "StartDate><FinishDate>2026-12-18T17:00:00</FinishDate>"
        "<StatusDate>2026-06-30T17:00:00</StatusDate><CurrencyCode>EUR</"
        "CurrencyCode>"
        "<Tasks><Task><UID>0</UID><Name>Earned Value "
        "Plan</Name><OutlineLevel>0</OutlineLevel>"
        "<Summary>1</Summary><PercentComplete>40</PercentComplete><Cost>2000000</"
        "Cost>"
        "<ActualCost>900000</ActualCost><BCWS>1000000</BCWS><BCWP>800000</BCWP>"
        "<ACWP>900000</ACWP><Baseline><Number>0</"
        "Number><Start>2026-01-05T08:00:00</Start>"
        "<Finish>2026-11-30T17:00:00</Finish><Cost>1800000</Cost></Baseline></"
        "Task>"
        "<Task><UID>1</UID><WBS>1</WBS><Name>Go "
        "live</Name><OutlineLevel>1</OutlineLevel>"
        "<Milestone>1</Milestone><Finish>2026-12-18T17:00:00</Finish>"
        "<Baseline><Number>0</Number><Finish>2026-11-30T17:00:00</Finish></"
        "Baseline></Task>"
        "</Tasks></Project>";
    result = s_import (&peer, with_status, strlen (with_status), false, 0);
    assert (result->created == 2 && result->reports_created == 1);
    portio_import_result_destroy (&result);
    p = s_project (&peer, arena, "mspdi:6C1A-EV");
    assert (p && p->budget && p->budget->baseline->minor == 1800000 &&
            strcmp (p->budget->baseline->currency, "EUR") == 0 &&
            strcmp (p->baseline_finish, "2026-11-30") == 0);
    assert (portio_import_list (&peer, arena, PMO__ENTITY_KIND__ENTITY_KIND_STATUS_REPORT, "",
                                p->id, false, &items, &n, why, sizeof why) == 0 &&
            n == 1);
    Pmo__StatusReport *r = (Pmo__StatusReport *)items[0];
    //  SPI 0.8, CPI 0.89: red
    assert (strcmp (r->period_end, "2026-06-30") == 0 && r->percent_complete == 40 &&
            r->pv_minor == 1000000 && r->ev_minor == 800000 && r->ac_minor == 900000 &&
            r->overall == PMO__RAG__RAG_RED);
    result = s_import (&peer, with_status, strlen (with_status), false, 0);
    assert (result->unchanged == 3 && !result->written);
    portio_import_result_destroy (&result);

    //  No BCWS nor BCWP: PV and EV from the baseline cost. Baseline
    //  2026-01-05 (Mon) to 2026-06-26 (Fri): 125 weekdays; by the status
    //  date 2026-03-27 (Fri): 60. BAC 1,200.00: PV 576.00; 44 % complete:
    //  EV 528.00; AC 520.00. SPI 0.917 (amber), CPI 1.015 (green): amber
    const char *from_baseline =
        "<?xml version=\"1.0\"?><Project xmlns=\"http://schemas.microsoft.com/project\">"
        "<Title>Baseline Cost Plan</Title><GUID>6C1A-BAC</GUID>"
        "<StartDate>2026-01-05T08:00:00</StartDate><FinishDate>2026-06-26T17:00:00</FinishDate>"
        "<StatusDate>2026-03-27T17:00:00</StatusDate><CurrencyCode>GBP</CurrencyCode>"
        "<Tasks><Task><UID>0</UID><Name>Baseline Cost Plan</Name><OutlineLevel>0</OutlineLevel>"
        "<Summary>1</Summary><PercentComplete>44</PercentComplete><Cost>130000</Cost>"
        "<ActualCost>52000</ActualCost><BCWS>0.00</BCWS><BCWP>0.00</BCWP><ACWP>0.00</ACWP>"
        "<Baseline><Number>0</Number><Start>2026-01-05T08:00:00</Start>"
        "<Finish>2026-06-26T17:00:00</Finish><Cost>120000</Cost></Baseline></Task>"
        "</Tasks></Project>";
    result = s_import (&peer, from_baseline, strlen (from_baseline), true, 0);
    assert (result->reports_created == 1 && result->n_warnings == 1 &&
            strstr (result->warnings[0], "PV 576.00") &&
            strstr (result->warnings[0], "60 of the baseline's 125 weekdays") &&
            strstr (result->warnings[0], "EV 528.00"));
    portio_import_result_destroy (&result);
    result = s_import (&peer, from_baseline, strlen (from_baseline), false, 0);
    assert (result->reports_created == 1);
    portio_import_result_destroy (&result);
    p = s_project (&peer, arena, "mspdi:6C1A-BAC");
    assert (p &&
            portio_import_list (&peer, arena, PMO__ENTITY_KIND__ENTITY_KIND_STATUS_REPORT, "",
                                p->id, false, &items, &n, why, sizeof why) == 0 &&
            n == 1);
    r = (Pmo__StatusReport *)items[0];
    assert (strcmp (r->period_end, "2026-03-27") == 0 && r->percent_complete == 44 &&
            r->pv_minor == 57600 && r->ev_minor == 52800 && r->ac_minor == 52000 &&
            r->overall == PMO__RAG__RAG_AMBER);
    //  Without costs: no PV nor EV, so no report; the dry run says why
    char *no_costs = strdup (from_baseline);
    char *cost = strstr (no_costs, "<Cost>120000</Cost>");
    memcpy (cost, "<Cost>000000</Cost>", strlen ("<Cost>000000</Cost>"));
    memcpy (strstr (no_costs, "6C1A-BAC"), "6C1A-NOC", 8);
    result = s_import (&peer, no_costs, strlen (no_costs), true, 0);
    assert (result->reports_created == 0 && result->created == 1 && result->n_warnings == 1 &&
            strstr (result->warnings[0], "the plan has no costs") &&
            strstr (result->warnings[0], "no status report"));
    portio_import_result_destroy (&result);
    free (no_costs);

    //  What is wrong is named by element and line; nothing is written
    const char *broken = "<?xml version=\"1.0\"?>\n<Project xmlns=\"http://schemas.microsoft.com/"
                         "project\">\n<Title>x</Title>\n<Tasks>\n</Project>\n";
    result = s_import (&peer, broken, strlen (broken), false, -1);
    assert (result->error && strstr (result->error, "not a Microsoft Project XML file: line 6") &&
            strstr (result->error, "tag Project line 2"));
    portio_import_result_destroy (&result);
    const char *other = "<?xml version=\"1.0\"?><Plan xmlns=\"http://schemas.microsoft.com/"
                        "project\"><Title>x</Title></Plan>";
    result = s_import (&peer, other, strlen (other), false, -1);
    assert (result->error && strstr (result->error, "root element"));
    portio_import_result_destroy (&result);
    char *bad_date = strdup (sample);
    at = strstr (bad_date, "<Name>Third task</Name>");
    assert (at);
    at = strstr (at, "<Finish>2003-01-07");
    memcpy (at, "<Finish>2003-13-07", 18);
    result = s_import (&peer, bad_date, size, false, -1);
    assert (s_has_problem (result, "Task UID=3/Finish", "not an MSPDI date"));
    assert (!result->written);
    portio_import_result_destroy (&result);
    free (bad_date);
    free (sample);

    //  Every file of the folder: one project and its milestones, then unchanged
    //  (the two assignment files end before they start: Project's FinishDate
    //  2016-01-15 is earlier than its StartDate, the day it was saved; their
    //  tasks run 2016-01-04 to 2016-01-15, which the import takes, with a
    //  warning naming the four dates)
    static const struct {
        const char *file;
        size_t milestones;
        const char *warning; //  what the import says it decided
    } files[] = {{"assignment-assignments-project2010-mspdi.xml", 3,
                  "Project/StartDate 2016-03-10 is after Project/FinishDate 2016-01-15; the "
                  "plan's tasks run from 2016-01-04 to 2016-01-15"},
                 {"assignment-assignments-project2019-mspdi.xml", 3,
                  "Project/StartDate 2018-10-18 is after Project/FinishDate 2016-01-15; the "
                  "plan's tasks run from 2016-01-04 to 2016-01-15"},
                 {"baselines.xml", 1, NULL},
                 {"calendar-calendars-project2010-mspdi.xml", 0, NULL},
                 {"calendar-calendars-project2019-mspdi.xml", 0, NULL},
                 {"enterprise.xml", 1, NULL},
                 {"mspdirelations.xml", 5, NULL},
                 {"mspdiresource.xml", 3, NULL},
                 {"mspdisplittask.xml", 2, NULL},
                 {"resource-misc-project2010-mspdi.xml", 0, NULL},
                 {"resource-misc-project2019-mspdi.xml", 0, NULL},
                 {"resource-type-project2010-mspdi.xml", 0, NULL},
                 {"task-baselines-project2010-mspdi.xml", 110, NULL},
                 {"task-baselines-project2019-mspdi.xml", 110, NULL},
                 {"task-costs-project2010-mspdi.xml", 10, NULL},
                 {"task-costs-project2019-mspdi.xml", 10, NULL},
                 {"task-dates-project2010-mspdi.xml", 10, NULL},
                 {"task-dates-project2019-mspdi.xml", 10, NULL},
                 {"task-finishes-project2010-mspdi.xml", 10, NULL},
                 {"task-finishes-project2019-mspdi.xml", 10, NULL}};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char *data = s_read (files[i].file, &size);
        result = s_import (&peer, data, size, false, 0);
        if (result->created != 1 + files[i].milestones) {
            fprintf (stderr, "%s: %zu created, expected %zu\n", files[i].file, result->created,
                     1 + files[i].milestones);
            abort ();
        }
        if (files[i].warning) {
            assert (result->n_warnings == 1 && strstr (result->warnings[0], files[i].warning));
            json_t *json = portio_import_result_json (result);
            assert (json_array_size (json_object_get (json, "warnings")) == 1);
            json_decref (json);
            printf ("%-46s warning: %s\n", files[i].file, result->warnings[0]);
        } else
            assert (result->n_warnings == 0);
        portio_import_result_destroy (&result);
        result = s_import (&peer, data, size, false, 0);
        assert (result->unchanged == 1 + files[i].milestones && !result->written);
        portio_import_result_destroy (&result);
        printf ("%-46s 1 project, %3zu milestones; again: unchanged\n", files[i].file,
                files[i].milestones);
        free (data);
    }
    pmo_arena_destroy (&arena);
    rh_stop (&rh);
    printf ("test_mspdi: OK\n");
    return 0;
}
