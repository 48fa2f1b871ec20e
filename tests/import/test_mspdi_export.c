/*  test_mspdi_export.c: a pmo project out as a Microsoft Project plan
    (MSPDI XML) and back, against the real registry and allocator
    (in-process actors, real ZeroMQ, real redis-server).

    - Plans Project saved (tests/import/mspdi/mspdiresource.xml,
      assignment-assignments-project2019-mspdi.xml and
      task-baselines-project2010-mspdi.xml, which has no GUID and a name of
      a GUID's length, from the MPXJ project's test data) are imported,
      their projects exported: the
      export keeps the structure of the files Project saved
      (tests/import/mspdi_structure.py, which learns it from them with
      Python's ElementTree, and is shown to refuse three broken copies);
      its re-import changes nothing (project, milestones, resources,
      allocations unchanged); the plan's GUID is kept.
    - A project made in pmo (no external ids: found again by the pmo ids
      the plan carries) with a budget, milestones (one achieved), status
      reports (the latest as StatusDate, BCWS, BCWP and ACWP, its rating
      kept on re-import), two resources and requested, proposed and
      committed allocations (BookingType proposed or committed): the same checks,
      the plan's figures read back with ElementTree (the assignments'
      weekly work) and by another program's reader of Project files (GNOME
      Planner's msp2planner.xsl, Debian's planner-data, whose output must
      be valid against Planner's DTD), and its re-import changes nothing. A requested
      allocation (nobody named) is left out.
    - A project whose baseline budget is 0 comes back with 0 (not none),
      its name with its trailing space.
    - A project whose latest report has no earned value: its plan has the
      StatusDate and ACWP (no BCWS nor BCWP), and its re-import makes up no
      PV or EV from the baseline cost: unchanged.
    - Into another pmo (the plan's project id unknown there): a new
      project with its milestones, resources and allocations, committed
      and proposed as their BookingType says.
    - Bad requests: no project, an unknown one.
*/
#include "allocator_harness.h"
#include "portio_import.h"
#include "portio_mspdi.h"
#include "pmo_reflect.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char s_source[1024];
static ah_t *s_ah;

static char *s_read (const char *path, size_t *size)
{
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

static portio_import_peer_t s_peer (void)
{
    return (portio_import_peer_t){.registry = s_ah->rh->client,
                                  .identity = &s_ah->rh->identity,
                                  .timeout_ms = 10000,
                                  .attempts = 1,
                                  .allocator = s_ah->client};
}

static portio_import_result_t *s_import (const char *data, size_t size, const char *org_unit)
{
    portio_import_mapping_t *map = portio_import_mapping_native ("project");
    portio_import_options_t options = {.peer = s_peer (), .hub = "hub", .org_unit = org_unit};
    portio_import_result_t *result = NULL;
    int rc = portio_import_run (&options, map, data, size, &result);
    if (rc != 0 || result->bad || getenv ("PMO_TEST_VERBOSE")) {
        json_t *json = portio_import_result_json (result);
        char *text = json_dumps (json, JSON_INDENT (1));
        fprintf (stderr, "import rc=%d: %s\n", rc, text);
        free (text);
        json_decref (json);
        if (rc != 0 || result->bad)
            abort ();
    }
    portio_import_mapping_destroy (&map);
    return result;
}

//  A CSV in the native format into pmo (aborts on any problem).
static void s_csv (const char *entity, const char *csv)
{
    portio_import_mapping_t *map = portio_import_mapping_native (entity);
    portio_import_options_t options = {.peer = s_peer (), .hub = "hub"};
    portio_import_result_t *result = NULL;
    int rc = portio_import_run (&options, map, csv, strlen (csv), &result);
    if (rc != 0 || result->bad || !result->written) {
        json_t *json = portio_import_result_json (result);
        char *text = json_dumps (json, JSON_INDENT (1));
        fprintf (stderr, "%s: import rc=%d: %s\n", entity, rc, text);
        abort ();
    }
    portio_import_result_destroy (&result);
    portio_import_mapping_destroy (&map);
}

//  Export project as a plan into path (and return it; caller frees).
static char *s_export (const char *project, const char *path, size_t *size)
{
    portio_import_peer_t peer = s_peer ();
    char *xml, why[512];
    if (portio_mspdi_export (&peer, project, &xml, size, why, sizeof why)) {
        fprintf (stderr, "export %s: %s\n", project, why);
        abort ();
    }
    assert (portio_mspdi_is (xml, *size));
    FILE *file = fopen (path, "wb");
    assert (file && fwrite (xml, 1, *size, file) == *size);
    fclose (file);
    return xml;
}

//  Run a Python check of the source tree on path; its exit status.
static int s_python (const char *script, const char *args, const char *path)
{
    char command[4096];
    snprintf (command, sizeof command, "/usr/bin/python3 %s/tests/import/%s %s %s", s_source,
              script, args, path);
    int status = system (command);
    return WIFEXITED (status) ? WEXITSTATUS (status) : -1;
}

//  The id of the project whose code is code.
static const char *s_project_id (pmo_arena_t *arena, const char *code)
{
    portio_import_peer_t peer = s_peer ();
    ProtobufCMessage **items;
    size_t n;
    char why[512];
    assert (portio_import_list (&peer, arena, PMO__ENTITY_KIND__ENTITY_KIND_PROJECT, "", NULL,
                                false, &items, &n, why, sizeof why) == 0);
    for (size_t i = 0; i < n; i++)
        if (strcmp (((Pmo__Project *)items[i])->code, code) == 0)
            return ((Pmo__Project *)items[i])->id;
    return NULL;
}

static size_t s_count (const char *entity)
{
    pmo_arena_t *arena = pmo_arena_new ();
    portio_import_peer_t peer = s_peer ();
    ProtobufCMessage **items;
    size_t n;
    char why[512];
    if (strcmp (entity, "project") == 0 || strcmp (entity, "milestone") == 0)
        assert (portio_import_list (&peer, arena,
                                    strcmp (entity, "project") == 0
                                        ? PMO__ENTITY_KIND__ENTITY_KIND_PROJECT
                                        : PMO__ENTITY_KIND__ENTITY_KIND_MILESTONE,
                                    "", NULL, false, &items, &n, why, sizeof why) == 0);
    else
        assert (portio_import_svc_list (&peer, arena, entity, "", &items, &n, why, sizeof why) ==
                0);
    pmo_arena_destroy (&arena);
    return n;
}

//  Export, check the structure (and that the check fails on broken
//  copies), re-import: nothing changes, nothing is created.
static char *s_round_trip (const char *project, const char *path, size_t rows, size_t *size)
{
    char *xml = s_export (project, path, size);
    assert (s_python ("mspdi_structure.py", "", path) == 0);
    assert (s_python ("mspdi_structure.py", "--broken", path) == 0);
    size_t projects = s_count ("project"), resources = s_count ("resource");
    portio_import_result_t *result = s_import (xml, *size, NULL);
    if (result->unchanged != rows || result->created || result->updated || result->written) {
        fprintf (stderr, "%s: re-import: %zu unchanged (expected %zu), %zu created, %zu updated\n",
                 project, result->unchanged, rows, result->created, result->updated);
        for (size_t r = 0; r < result->n_rows; r++)
            if (result->row_results[r].action != PORTIO_IMPORT_ROW_UNCHANGED)
                fprintf (stderr, "  row %zu: %s, action %d\n", r, result->row_results[r].id,
                         (int)result->row_results[r].action);
        abort ();
    }
    portio_import_result_destroy (&result);
    assert (s_count ("project") == projects && s_count ("resource") == resources);
    return xml;
}

//  Import a plan Project saved, export its project, round trip.
static void s_from_project (const char *file, const char *out)
{
    char path[1400];
    size_t size;
    snprintf (path, sizeof path, "%s/tests/import/mspdi/%s", s_source, file);
    char *data = s_read (path, &size);
    portio_import_result_t *result = s_import (data, size, "msp");
    size_t rows = result->created;
    assert (rows > 1 && result->written);
    portio_import_result_destroy (&result);
    //  The plan's project: the one with the newest id
    pmo_arena_t *arena = pmo_arena_new ();
    portio_import_peer_t peer = s_peer ();
    ProtobufCMessage **items;
    size_t n;
    char why[512];
    assert (portio_import_list (&peer, arena, PMO__ENTITY_KIND__ENTITY_KIND_PROJECT, "", NULL,
                                false, &items, &n, why, sizeof why) == 0);
    const Pmo__Project *project = NULL;
    for (size_t i = 0; i < n; i++) {
        const Pmo__Project *p = (Pmo__Project *)items[i];
        if (strncmp (p->external_id, "mspdi:", 6) == 0 &&
            (!project || p->created_ms >= project->created_ms))
            project = p;
    }
    assert (project);
    char *xml = s_round_trip (project->code, out, rows, &size);
    //  A plan with a GUID keeps it (and its resources theirs); one without
    //  (keyed by its title) has none, whatever the title's length
    const char *key = project->external_id + 6;
    bool guid = strlen (key) == 36 && key[8] == '-' && key[13] == '-' && key[23] == '-';
    char element[1024];
    snprintf (element, sizeof element, "<GUID>%s</GUID>", key);
    assert (guid ? strstr (xml, element) != NULL : strstr (xml, element) == NULL);
    printf ("%s: %zu rows exported and re-imported unchanged\n", file, rows);
    free (xml);
    free (data);
    pmo_arena_destroy (&arena);
}

static void s_from_pmo (void)
{
    s_csv ("project", "code,name,org_unit,baseline_start,baseline_finish,forecast_finish,"
                      "currency,budget.baseline,budget.forecast,budget.actual\n"
                      "EXP-1,Export & \"round\" <trip>,msp,2026-01-05,2026-06-30,2026-07-31,"
                      "GBP,120000.00,130000.50,40000.25\n");
    pmo_arena_t *arena = pmo_arena_new ();
    const char *project = s_project_id (arena, "EXP-1");
    assert (project);
    char milestones[512];
    snprintf (milestones, sizeof milestones,
              "project_id,name,baseline_date,forecast_date,actual_date\n"
              "%s,Design signed off,2026-02-27,2026-03-06,2026-03-06\n"
              "%s,Go live,2026-06-30,2026-07-31,\n",
              project, project);
    s_csv ("milestone", milestones);
    //  Its latest status report (an older one first): rated green by its
    //  people, though SPI 0.90 alone would not be
    char reports[512];
    snprintf (reports, sizeof reports,
              "project_id,period_end,percent_complete,overall,pv_minor,ev_minor,ac_minor\n"
              "%s,2026-02-27,15,green,20000.00,18000.00,19000.00\n"
              "%s,2026-03-31,40,green,50000.00,45000.00,47000.50\n",
              project, project);
    s_csv ("status_report", reports);
    char ana[40], bo[40];
    snprintf (ana, sizeof ana, "%s",
              ah_resource (s_ah, "Ana Lima", "msp", "analyst", 37, NULL, 6550));
    snprintf (bo, sizeof bo, "%s", ah_resource (s_ah, "Bo Chen", "msp", "developer", 40, NULL, 0));
    //  Ana: 20 h proposed W02-W05 and 12 h committed W10-W12; Bo: 40 h
    //  proposed W03-W04 and 10 h requested W20-W21 (a proposed booking in
    //  the plan); a requested role (nobody named): left out
    const char *asks[][4] = {{ana, "20", "2026-W02", "2026-W05"},
                             {ana, "12", "2026-W10", "2026-W12"},
                             {bo, "40", "2026-W03", "2026-W04"},
                             {bo, "10", "2026-W20", "2026-W21"}};
    for (size_t i = 0; i < 4; i++) {
        Pmo__AllocatorReply *reply =
            ah_call (s_ah,
                     "{\"request_allocation\":{\"project_id\":\"%s\",\"resource_id\":\"%s\","
                     "\"hours_per_week\":%s,\"start_week\":\"%s\",\"end_week\":\"%s\"}}",
                     project, asks[i][0], asks[i][1], asks[i][2], asks[i][3]);
        ah_ok (reply);
        char id[40];
        snprintf (id, sizeof id, "%s", reply->allocation->id);
        uint64_t version = reply->allocation->version;
        ah_free (&reply);
        if (i == 3)
            continue; //  stays requested
        reply = ah_call (s_ah, "{\"propose\":{\"allocation_id\":\"%s\",\"version\":%llu}}", id,
                         (unsigned long long)version);
        ah_ok (reply);
        version = reply->allocation->version;
        ah_free (&reply);
        if (i == 1) {
            reply = ah_call (
                s_ah, "{\"commit\":{\"allocation_id\":\"%s\",\"version\":%llu,\"approve\":true}}",
                id, (unsigned long long)version);
            ah_ok (reply);
            ah_free (&reply);
        }
    }
    Pmo__AllocatorReply *reply = ah_call (
        s_ah,
        "{\"request_allocation\":{\"project_id\":\"%s\",\"role\":\"architect\",\"skill\":\"uml\","
        "\"hours_per_week\":8,\"start_week\":\"2026-W02\",\"end_week\":\"2026-W03\"}}",
        project);
    ah_free (&reply);
    //  The project, 2 milestones, the latest report, 2 resources, 4
    //  allocations
    size_t size;
    char *xml = s_round_trip ("EXP-1", "exp-1.xml", 1 + 2 + 1 + 2 + 4, &size);
    //  A baseline budget of 0 (a plan's unset baseline is also 0) stays 0,
    //  and a name's trailing space stays (the GMPP file has such names)
    s_csv ("project", "code,name,org_unit,baseline_start,baseline_finish,currency,"
                      "budget.baseline\n"
                      "EXP-0,\"No money yet \",msp,2026-01-05,2026-06-30,GBP,0.00\n");
    size_t zero_size;
    free (s_round_trip ("EXP-0", "exp-0.xml", 1, &zero_size));
    //  A latest report without earned value: the plan still has its day
    //  (StatusDate) and AC, no BCWS nor BCWP, and its re-import makes up no
    //  PV or EV from the baseline cost (the report comes back unchanged)
    s_csv ("project", "code,name,org_unit,baseline_start,baseline_finish,currency,"
                      "budget.baseline\n"
                      "EXP-2,No earned value,msp,2026-01-05,2026-12-18,GBP,100000.00\n");
    pmo_arena_t *arena2 = pmo_arena_new ();
    char report2[256];
    snprintf (report2, sizeof report2,
              "project_id,period_end,percent_complete,overall,ac_minor\n"
              "%s,2026-04-30,25,amber,30000.00\n",
              s_project_id (arena2, "EXP-2"));
    s_csv ("status_report", report2);
    pmo_arena_destroy (&arena2);
    char *plain = s_round_trip ("EXP-2", "exp-2.xml", 2, &zero_size);
    assert (strstr (plain, "<StatusDate>2026-04-30T17:00:00</StatusDate>") &&
            strstr (plain, "<ACWP>3000000</ACWP>") && !strstr (plain, "<BCWS>") &&
            !strstr (plain, "<BCWP>"));
    free (plain);
    //  What the plan says, read by ElementTree
    assert (s_python ("mspdi_export_expect.py", "", "exp-1.xml") == 0);
    //  ... and by GNOME Planner's import of Project files (another program)
    assert (s_python ("mspdi_export_expect.py", "--planner", "exp-1.xml") == 0);
    //  By id too: the same plan
    size_t size2;
    char *again = s_export (project, "exp-1-by-id.xml", &size2);
    assert (size2 == size && memcmp (xml, again, size) == 0);
    free (again);

    //  Into another pmo: the plan's ids are not there, so it is new there
    //  (the same actors: the project's pmo id is made unknown by editing it)
    char *copy = strdup (xml);
    char *at = strstr (copy, project);
    assert (at);
    at[0] = 'x'; //  "pr_..." -> "xr_...": a project this pmo does not have
    ah_unit (s_ah, "other", "division", "hub", "supportive");
    size_t projects = s_count ("project");
    portio_import_result_t *result = s_import (copy, size, "other");
    assert (s_count ("project") == projects + 1);
    //  All new there: the project, 2 milestones, 2 resources (in the
    //  plan's unit: the pmo ids of its resources are read only with its
    //  project's), 4 allocations, and its report (rated from its indices
    //  there)
    if (result->created != 1 + 2 + 2 + 4 || result->reports_created != 1 ||
        result->unchanged != 0) {
        fprintf (stderr, "into another pmo: %zu created, %zu reports, %zu unchanged, %zu updated\n",
                 result->created, result->reports_created, result->unchanged, result->updated);
        abort ();
    }
    portio_import_result_destroy (&result);
    //  Their booking types kept: Ana's commitment committed there too, the
    //  requested and proposed ones proposed
    ProtobufCMessage **items;
    size_t n, committed = 0, proposed = 0;
    char why[512];
    portio_import_peer_t peer = s_peer ();
    assert (portio_import_svc_list (&peer, arena, "allocation", "", &items, &n, why, sizeof why) ==
            0);
    for (size_t i = 0; i < n; i++) {
        const Pmo__Allocation *a = (const Pmo__Allocation *)items[i];
        if (strcmp (a->project_org_unit, "other") != 0)
            continue;
        committed += a->state == PMO__ALLOCATION_STATE__ALLOCATION_STATE_COMMITTED;
        proposed += a->state == PMO__ALLOCATION_STATE__ALLOCATION_STATE_PROPOSED;
    }
    if (committed != 1 || proposed != 3) {
        fprintf (stderr, "into another pmo: %zu committed, %zu proposed\n", committed, proposed);
        abort ();
    }
    free (copy);
    free (xml);
    pmo_arena_destroy (&arena);
}

static void s_bad (void)
{
    portio_import_peer_t peer = s_peer ();
    char *xml, why[512];
    size_t size;
    assert (portio_mspdi_export (&peer, "", &xml, &size, why, sizeof why) == -1);
    assert (strstr (why, "name the project") && !xml);
    assert (portio_mspdi_export (&peer, "NOPE-9", &xml, &size, why, sizeof why) == -1);
    assert (strstr (why, "not_found") && strstr (why, "NOPE-9"));
}

int main (void)
{
    const char *source = getenv ("PMO_SOURCE_DIR");
    snprintf (s_source, sizeof s_source, "%s", source ? source : SOURCE_DIR);
    s_ah = ah_start ();
    ah_unit (s_ah, "hub", "enterprise", NULL, "supportive");
    ah_unit (s_ah, "msp", "division", "hub", "supportive");
    s_from_project ("mspdiresource.xml", "mspdiresource-export.xml");
    s_from_project ("assignment-assignments-project2019-mspdi.xml", "assignments-2019-export.xml");
    //  No GUID, and a name of a GUID's length (36 characters)
    s_from_project ("task-baselines-project2010-mspdi.xml", "task-baselines-2010-export.xml");
    s_from_pmo ();
    s_bad ();
    ah_stop (&s_ah);
    return 0;
}
