/*  test_import_svc.c: resources, allocations, risks and issues in and out
    of spreadsheets, and the report's risk, resource, alert and health
    sections, against the real registry, allocator and risk monitor actors
    (in-process, real ZeroMQ, one real redis-server).

    - a resource file in its own shape (a mapping with a key column, a
      transform, a values map, money with £ and defaults) imports; the same
      file again changes nothing; a changed row updates;
    - a bad resource file (a skill level out of range, an unknown unit, a
      capacity over 168 hours, a broken quote) gives every problem as row,
      column, value and reason and writes nothing (all or nothing); with
      skip-bad the good rows are written and the bad listed;
    - allocations name projects by code and people by staff number or name,
      weeks as ISO weeks or dates, and reach the state the file says
      (requested, proposed, committed); two commitments over-allocate a
      person;
    - risks and issues (one closed, one resolved) import, a row of two steps
      in the risk monitor's batch like the others; export -> import of
      all four registers changes nothing;
    - an assumption, decision or dependency closed in the file, and a
      change request closed in it (decided or not), is created closed in
      its batch's one commit (with a refused row, nothing is written; a dry
      run shows it), and the export's closed row imports back closed; a
      stored open change request the file closes is closed (alone, or
      after an update of its fields); a closed one stays as it is;
    - the report's open risks, critical count, exposure total, top risk,
      over-allocated resources and hours over, open alerts and computed
      health equal what this test computes from its own files (and what the
      risk monitor lists);
    - the ping a report asks first: each connected service answers, and one
      the peer has no client for does not.
*/
#include "allocator_harness.h"
#include "portio_import.h"
#include "pmo_reflect.h"
#include "portio_report.h"
#include "riskmon.pb-c.h"
#include "riskmon_server.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static ah_t *s_ah;
static zactor_t *s_riskmon_actor;
static pmo_client_t *s_riskmon;
static char s_riskmon_endpoint[64], s_riskmon_pub[64];

static portio_import_peer_t s_peer (void)
{
    return (portio_import_peer_t){s_ah->rh->client, &s_ah->rh->identity, 5000, 2,
                                  s_ah->client,     s_riskmon,           NULL};
}

static portio_import_result_t *s_import (const char *entity, const char *mapping_json,
                                         const char *csv, bool dry_run, bool skip_bad,
                                         int expect_rc)
{
    char why[512];
    portio_import_mapping_t *mapping =
        mapping_json
            ? portio_import_mapping_load (mapping_json, strlen (mapping_json), why, sizeof why)
            : portio_import_mapping_native (entity);
    if (!mapping) {
        fprintf (stderr, "test: mapping: %s\n", why);
        abort ();
    }
    portio_import_options_t options = {
        .peer = s_peer (), .hub = "hub", .dry_run = dry_run, .skip_bad = skip_bad};
    portio_import_result_t *result;
    int rc = portio_import_run (&options, mapping, csv, strlen (csv), &result);
    if (rc != expect_rc) {
        json_t *json = portio_import_result_json (result);
        char *text = json_dumps (json, JSON_INDENT (1));
        fprintf (stderr, "test: import of %s returned %d, expected %d:\n%s\n", entity, rc,
                 expect_rc, text);
        free (text);
        json_decref (json);
        abort ();
    }
    portio_import_mapping_destroy (&mapping);
    return result;
}

static bool s_has_problem (const portio_import_result_t *r, size_t row, const char *column,
                           const char *reason_part)
{
    for (size_t i = 0; i < r->n_problems; i++)
        if (r->problems[i].row == row && strcmp (r->problems[i].column, column) == 0 &&
            strstr (r->problems[i].reason, reason_part))
            return true;
    fprintf (stderr, "test: no problem at row %zu column %s about '%s'; problems:\n", row, column,
             reason_part);
    for (size_t i = 0; i < r->n_problems; i++)
        fprintf (stderr, "  %zu %s [%s] %s\n", r->problems[i].row, r->problems[i].column,
                 r->problems[i].value, r->problems[i].reason);
    return false;
}

static void s_expect (const portio_import_result_t *r, size_t created, size_t updated,
                      size_t unchanged, size_t bad)
{
    if (r->created != created || r->updated != updated || r->unchanged != unchanged ||
        r->bad != bad) {
        fprintf (stderr,
                 "test: %s: created %zu updated %zu unchanged %zu bad %zu, expected %zu %zu %zu "
                 "%zu (%s)\n",
                 r->entity, r->created, r->updated, r->unchanged, r->bad, created, updated,
                 unchanged, bad, r->error ? r->error : "");
        for (size_t i = 0; i < r->n_problems; i++)
            fprintf (stderr, "  %zu %s [%s] %s\n", r->problems[i].row, r->problems[i].column,
                     r->problems[i].value, r->problems[i].reason);
        abort ();
    }
}

//  Export kind and import the file back: nothing may change.
static void s_round_trip (const char *entity, size_t rows)
{
    portio_import_peer_t peer = s_peer ();
    char *csv, why[512];
    size_t size;
    if (portio_export (&peer, entity, "", false, &csv, &size, why, sizeof why)) {
        fprintf (stderr, "test: export %s: %s\n", entity, why);
        abort ();
    }
    portio_import_result_t *r = s_import (entity, NULL, csv, false, false, 0);
    s_expect (r, 0, 0, rows, 0);
    assert (!r->written);
    portio_import_result_destroy (&r);
    free (csv);
}

static size_t s_count (const char *entity)
{
    pmo_arena_t *arena = pmo_arena_new ();
    portio_import_peer_t peer = s_peer ();
    ProtobufCMessage **items;
    size_t n;
    char why[256];
    assert (portio_import_svc_list (&peer, arena, entity, "", &items, &n, why, sizeof why) == 0);
    pmo_arena_destroy (&arena);
    return n;
}

//  The ISO week days from now, "2026-W14"
static const char *s_week (int days, int slot)
{
    static char weeks[8][16];
    time_t t = time (NULL) + (time_t)days * 86400;
    struct tm tm;
    gmtime_r (&t, &tm);
    strftime (weeks[slot & 7], sizeof weeks[0], "%G-W%V", &tm);
    return weeks[slot & 7];
}

static const char *s_date (int days, int slot)
{
    static char dates[8][16];
    time_t t = time (NULL) + (time_t)days * 86400;
    struct tm tm;
    gmtime_r (&t, &tm);
    strftime (dates[slot & 7], sizeof dates[0], "%d/%m/%Y", &tm);
    return dates[slot & 7];
}

static void s_start (void)
{
    s_ah = ah_start ();
    snprintf (s_riskmon_endpoint, sizeof s_riskmon_endpoint, "tcp://127.0.0.1:%d",
              pmo_test_free_port ());
    snprintf (s_riskmon_pub, sizeof s_riskmon_pub, "tcp://127.0.0.1:%d", pmo_test_free_port ());
    riskmon_config_t config = {
        .endpoint = s_riskmon_endpoint,
        .pub_endpoint = s_riskmon_pub,
        .redis_url = pmo_test_redis_url (s_ah->rh->redis),
        .hub = "hub",
        .registry = s_ah->rh->endpoint,
        .consumer = "riskmon-import-test",
        .redis_timeout_ms = 1000,
        .claim_idle_ms = 1000,
        .tick_ms = 50,
        .batch = 256,
    };
    s_riskmon_actor = zactor_new (riskmon_server_actor, &config);
    assert (s_riskmon_actor && !config.failed);
    s_riskmon = pmo_client_new (s_riskmon_endpoint);
    assert (s_riskmon);
}

static void s_stop (void)
{
    pmo_client_destroy (&s_riskmon);
    zactor_destroy (&s_riskmon_actor);
    ah_stop (&s_ah);
}

//  ---------------------------------------------------------------------

static const char *s_resource_mapping =
    "{\"entity\": \"resource\", \"currency\": \"GBP\","
    " \"columns\": ["
    "  {\"column\": \"Staff No\", \"field\": \"external_id\", \"required\": true},"
    "  {\"column\": \"Full name\", \"field\": \"name\"},"
    "  {\"column\": \"Team\", \"field\": \"home_org_unit\", \"transform\": \"lower\"},"
    "  {\"column\": \"Job\", \"field\": \"role\", \"values\": {\"Dev\": \"developer\","
    "     \"BA\": \"business-analyst\", \"PM\": \"project-manager\"}},"
    "  {\"column\": \"Skills\", \"field\": \"skills\"},"
    "  {\"column\": \"Hours\", \"field\": \"weekly_capacity_hours\"},"
    "  {\"column\": \"Day rate\", \"field\": \"cost_rate\"}"
    " ],"
    " \"defaults\": {\"kind\": \"person\", \"weekly_capacity_hours\": \"37\"}}";

static void s_test_resources (void)
{
    const char *good = "Staff No;Full name;Team;Job;Skills;Hours;Day rate\r\n"
                       "E001;Alice Archer;DIV-A;Dev;java:4, sql:3;37;\xC2\xA3"
                       "55.00\r\n"
                       "E002;Bob Baker;div-a;BA;analysis:3;;\xC2\xA3"
                       "48.50\r\n"
                       "E003;Carla Cruz;div-b;PM;prince2:5;30;\xC2\xA3"
                       "60\r\n";
    //  A dry run writes nothing
    portio_import_result_t *r = s_import ("resource", s_resource_mapping, good, true, false, 0);
    s_expect (r, 3, 0, 0, 0);
    assert (r->delimiter == ';');
    portio_import_result_destroy (&r);
    assert (s_count ("resource") == 0);
    r = s_import ("resource", s_resource_mapping, good, false, false, 0);
    s_expect (r, 3, 0, 0, 0);
    assert (r->written);
    portio_import_result_destroy (&r);
    assert (s_count ("resource") == 3);
    //  Again: nothing changes
    r = s_import ("resource", s_resource_mapping, good, false, false, 0);
    s_expect (r, 0, 0, 3, 0);
    assert (!r->written);
    portio_import_result_destroy (&r);
    //  A changed row updates (Bob now works 30 hours)
    const char *changed = "Staff No;Full name;Team;Job;Skills;Hours;Day rate\r\n"
                          "E001;Alice Archer;DIV-A;Dev;java:4, sql:3;37;\xC2\xA3"
                          "55.00\r\n"
                          "E002;Bob Baker;div-a;BA;analysis:3;30;\xC2\xA3"
                          "48.50\r\n";
    r = s_import ("resource", s_resource_mapping, changed, false, false, 0);
    s_expect (r, 0, 1, 1, 0);
    portio_import_result_destroy (&r);

    //  A bad file: every problem, nothing written
    const char *bad = "Staff No,Full name,Team,Job,Skills,Hours,Day rate\n"
                      "E010,Dan Diaz,div-a,Dev,java:9,37,50\n"
                      "E011,Eve Ek,nowhere,Dev,java:2,37,50\n"
                      "E012,Fay Fox,div-b,Dev,java:2,200,50\n"
                      "E013,\"Gil Gray,div-b,Dev,java:2,37,50\n";
    r = s_import ("resource", s_resource_mapping, bad, false, false, -1);
    assert (r->bad == 4 && !r->written);
    assert (s_has_problem (r, 2, "Skills", "level 1 to 5"));
    assert (s_has_problem (r, 3, "Team", "no such org unit"));
    assert (s_has_problem (r, 4, "Hours", "168"));
    assert (r->n_problems >= 4 && r->problems[r->n_problems - 1].row == 5);
    portio_import_result_destroy (&r);
    assert (s_count ("resource") == 3);
    //  Skip bad: the good row is written, the bad listed
    const char *mixed = "Staff No,Full name,Team,Job,Skills,Hours,Day rate\n"
                        "E020,Hal Hart,div-b,Dev,java:3;c++:2,37,52\n"
                        "E021,Ida Ito,div-b,Dev,java:0,37,50\n";
    r = s_import ("resource", s_resource_mapping, mixed, false, true, 0);
    s_expect (r, 1, 0, 0, 1);
    assert (r->row_results[0].written && !r->row_results[1].written);
    portio_import_result_destroy (&r);
    assert (s_count ("resource") == 4);

    //  Rows go to the allocator in batches (one request and one commit per
    //  division): a row it refuses (a role name the file's checks let
    //  through) is named, and nothing of its batch is written; with
    //  batches of two divisions, each is sent as a dry run first, so the
    //  other division's batch is not written either
    const char *refused = "name,home_org_unit,role,weekly_capacity_hours\n"
                          "Zed One,div-a,developer,37\n"
                          "Zed Two,div-a,not a role!,37\n";
    r = s_import ("resource", NULL, refused, false, false, -1);
    assert (s_has_problem (r, 3, "role", "the allocator refused import_batch"));
    assert (!r->written && !r->row_results[0].written && r->bad == 1);
    assert (strstr (r->error, "nothing of its batch was written"));
    portio_import_result_destroy (&r);
    const char *two = "name,home_org_unit,role,weekly_capacity_hours\n"
                      "Zed One,div-a,developer,37\n"
                      "Zed Two,div-b,not a role!,37\n";
    r = s_import ("resource", NULL, two, false, false, -1);
    assert (s_has_problem (r, 3, "role", "the allocator refused import_batch"));
    assert (!r->written && r->bad == 1);
    assert (strstr (r->error, "nothing was written"));
    portio_import_result_destroy (&r);
    assert (s_count ("resource") == 4);
    r = s_import ("resource", NULL, refused, false, true, 0);
    s_expect (r, 1, 0, 0, 1);
    assert (r->row_results[0].written && !r->row_results[1].written);
    portio_import_result_destroy (&r);
    assert (s_count ("resource") == 5);
}

//  The stored allocation of resource_name from week: in state state, with
//  its steps in its history (released: 3, rejected: 2).
static void s_expect_allocation_state (const char *resource_name, const char *week,
                                       Pmo__AllocationState state)
{
    pmo_arena_t *arena = pmo_arena_new ();
    portio_import_peer_t peer = s_peer ();
    ProtobufCMessage **items;
    size_t n, found = 0;
    char why[256];
    assert (portio_import_svc_list (&peer, arena, "allocation", "", &items, &n, why, sizeof why) ==
            0);
    for (size_t i = 0; i < n; i++) {
        const Pmo__Allocation *a = (const Pmo__Allocation *)items[i];
        if (strcmp (a->resource_name, resource_name) == 0 && strcmp (a->start_week, week) == 0) {
            assert (a->state == state);
            assert (a->n_history ==
                    (state == PMO__ALLOCATION_STATE__ALLOCATION_STATE_RELEASED ? 3u : 2u));
            found++;
        }
    }
    assert (found == 1);
    pmo_arena_destroy (&arena);
}

static void s_test_allocations (void)
{
    char csv[2048];
    //  Alice is committed 30 + 20 hours in two weeks of capacity 37: 13 over each
    snprintf (csv, sizeof csv,
              "project_code,resource_name,hours_per_week,start_week,end_week,state,note\n"
              "P-A,E001,30,%s,%s,committed,build\n"
              "P-B,E001,20,%s,%s,committed,integration\n"
              "P-A,Bob Baker,10,%s,%s,proposed,analysis\n"
              "P-B,E003,5,%s,,requested,\n",
              s_week (14, 0), s_week (28, 1), s_week (21, 2), s_week (35, 3), s_date (14, 4),
              s_date (21, 5), s_week (14, 6));
    portio_import_result_t *r = s_import ("allocation", NULL, csv, false, false, 0);
    s_expect (r, 4, 0, 0, 0);
    portio_import_result_destroy (&r);
    r = s_import ("allocation", NULL, csv, false, false, 0);
    s_expect (r, 0, 0, 4, 0);
    portio_import_result_destroy (&r);
    //  A committed allocation cannot go back to requested; a project that does not exist
    char bad[1024];
    snprintf (bad, sizeof bad,
              "project_code,resource_name,hours_per_week,start_week,end_week,state\n"
              "P-A,E001,30,%s,%s,requested\n"
              "P-Z,E001,30,%s,%s,requested\n"
              "P-A,E001,30,2026-W60,,requested\n",
              s_week (14, 0), s_week (28, 1), s_week (14, 0), s_week (28, 1));
    r = s_import ("allocation", NULL, bad, true, false, 0);
    assert (r->bad == 3);
    assert (s_has_problem (r, 2, "state", "cannot become requested"));
    assert (s_has_problem (r, 3, "project_code", "no such project"));
    assert (s_has_problem (r, 4, "start_week", "ISO week"));
    portio_import_result_destroy (&r);
    s_round_trip ("allocation", 4);
    //  Ended in the file: released (proposed, then released) and rejected,
    //  in the allocator's batch; a released role request names nobody
    snprintf (csv, sizeof csv,
              "project_code,resource_name,role,hours_per_week,start_week,end_week,state\n"
              "P-A,Bob Baker,,10,%s,%s,released\n"
              "P-B,E003,,5,%s,,rejected\n",
              s_week (42, 0), s_week (49, 1), s_week (42, 2));
    r = s_import ("allocation", NULL, csv, true, false, 0);
    s_expect (r, 2, 0, 0, 0);
    portio_import_result_destroy (&r);
    assert (s_count ("allocation") == 4);
    r = s_import ("allocation", NULL, csv, false, false, 0);
    s_expect (r, 2, 0, 0, 0);
    portio_import_result_destroy (&r);
    s_expect_allocation_state ("Bob Baker", s_week (42, 0),
                               PMO__ALLOCATION_STATE__ALLOCATION_STATE_RELEASED);
    s_expect_allocation_state ("Carla Cruz", s_week (42, 2),
                               PMO__ALLOCATION_STATE__ALLOCATION_STATE_REJECTED);
    r = s_import ("allocation", NULL, csv, false, false, 0);
    s_expect (r, 0, 0, 2, 0);
    portio_import_result_destroy (&r);
    s_round_trip ("allocation", 6);
    r = s_import ("allocation", NULL,
                  "project_code,role,hours_per_week,start_week,state\n"
                  "P-A,tester,5,2027-W10,released\n",
                  true, false, 0);
    assert (r->bad == 1 &&
            s_has_problem (r, 2, "state", "a released allocation names its resource"));
    portio_import_result_destroy (&r);
}

//  The stored entry of entity (raid, change_request) titled title: closed
//  in its steps (versions), its note as the file had it.
static void s_expect_closed (const char *entity, const char *title, const char *note,
                             uint64_t version)
{
    pmo_arena_t *arena = pmo_arena_new ();
    portio_import_peer_t peer = s_peer ();
    ProtobufCMessage **items;
    size_t n, found = 0;
    char why[256];
    assert (portio_import_svc_list (&peer, arena, entity, "", &items, &n, why, sizeof why) == 0);
    for (size_t i = 0; i < n; i++) {
        if (strcmp (pmo_reflect_str (items[i], "title"), title) != 0)
            continue;
        if (items[i]->descriptor == &pmo__raid_entry__descriptor) {
            const Pmo__RaidEntry *e = (const Pmo__RaidEntry *)items[i];
            assert (e->status == PMO__RAID_STATUS__RAID_STATUS_CLOSED && e->version == version &&
                    strcmp (e->note, note) == 0);
        } else {
            const Pmo__ChangeRequest *c = (const Pmo__ChangeRequest *)items[i];
            if (!c->closed || c->version != version || strcmp (c->decision_note, note) != 0)
                fprintf (stderr, "test: %s: closed %d version %llu note '%s'\n", title, c->closed,
                         (unsigned long long)c->version, c->decision_note);
            assert (c->closed && c->version == version && strcmp (c->decision_note, note) == 0);
        }
        found++;
    }
    assert (found == 1);
    pmo_arena_destroy (&arena);
}

//  The export's closed row titled title, without its id and under another
//  title (as long), is a new entry: created closed as the export says.
static void s_closed_round_trip (const char *entity, const char *title, const char *other,
                                 const char *note, uint64_t version)
{
    portio_import_peer_t peer = s_peer ();
    char *csv, why[512];
    size_t size;
    assert (portio_export (&peer, entity, "", false, &csv, &size, why, sizeof why) == 0);
    char *line = strstr (csv, title);
    assert (line && strlen (title) == strlen (other));
    while (line > csv && line[-1] != '\n')
        line--;
    const char *end = strchr (line, '\n');
    const char *header_end = strchr (csv, '\n');
    assert (end && header_end && strncmp (csv, "id,", 3) == 0);
    //  The header, then the row from its second cell with a blank id
    char *again = malloc (size + 16);
    size_t at = (size_t)(header_end + 1 - csv);
    memcpy (again, csv, at);
    const char *rest = strchr (line, ',');
    size_t n = (size_t)(end + 1 - rest);
    memcpy (again + at, rest, n);
    again[at + n] = 0;
    memcpy (strstr (again + at, title), other, strlen (other));
    portio_import_result_t *r = s_import (entity, NULL, again, false, false, 0);
    s_expect (r, 1, 0, 0, 0);
    portio_import_result_destroy (&r);
    s_expect_closed (entity, other, note, version);
    r = s_import (entity, NULL, again, false, false, 0);
    s_expect (r, 0, 0, 1, 0);
    portio_import_result_destroy (&r);
    free (again);
    free (csv);
}

//  Change requests closed in the file: created (decided) and closed in the
//  batch's one commit, or closed as a step of its own when stored open.
static void s_test_closed_changes (void)
{
    size_t before = s_count ("change_request");
    const char *changes = "project_code,title,reason,requested_by,decision,decision_note,closed\n"
                          "P-A,Retire the fax line,cost,ann,approved,done by March,true\n"
                          "P-B,Withdrawn request,scope,ben,,asked in error,yes\n"
                          "P-B,Keep the helpdesk,service,ben,,,\n";
    //  With a row only the risk monitor refuses (a title too long), nothing
    //  is written; a dry run shows the rows created and writes nothing
    char *refused = malloc (strlen (changes) + 300);
    sprintf (refused, "%sP-B,%0250d,why,ben,,,\n", changes, 0);
    portio_import_result_t *r = s_import ("change_request", NULL, refused, false, false, -1);
    assert (s_has_problem (r, 5, "title", "the risk monitor refused import_batch"));
    assert (!r->written && r->bad == 1);
    portio_import_result_destroy (&r);
    free (refused);
    r = s_import ("change_request", NULL, changes, true, false, 0);
    s_expect (r, 3, 0, 0, 0);
    assert (!r->written);
    portio_import_result_destroy (&r);
    assert (s_count ("change_request") == before);
    r = s_import ("change_request", NULL, changes, false, false, 0);
    s_expect (r, 3, 0, 0, 0);
    portio_import_result_destroy (&r);
    //  Created, decided, closed: version 3; created and closed: version 2
    s_expect_closed ("change_request", "Retire the fax line", "done by March", 3);
    s_expect_closed ("change_request", "Withdrawn request", "asked in error", 2);
    r = s_import ("change_request", NULL, changes, false, false, 0);
    s_expect (r, 0, 0, 3, 0);
    portio_import_result_destroy (&r);
    s_round_trip ("change_request", before + 3);
    s_closed_round_trip ("change_request", "Retire the fax line", "Retire the fax room",
                         "done by March", 3);
    //  A stored open one closed by the file: its close step (step by step),
    //  then with a changed field too (one batch item: update, then close)
    r = s_import ("change_request", NULL,
                  "project_code,title,reason,requested_by,closed\n"
                  "P-B,Keep the helpdesk,service,ben,true\n",
                  false, false, 0);
    s_expect (r, 0, 1, 0, 0);
    portio_import_result_destroy (&r);
    s_expect_closed ("change_request", "Keep the helpdesk", "", 2);
    r = s_import ("change_request", NULL,
                  "project_code,title,reason,requested_by,decision,decision_note,closed\n"
                  "P-A,Add a second data centre,resilience,ann,rejected,too dear,true\n",
                  false, false, 0);
    s_expect (r, 0, 1, 0, 0);
    portio_import_result_destroy (&r);
    s_expect_closed ("change_request", "Add a second data centre", "too dear", 3);
    //  A closed change request is a record: a row changing or reopening it
    //  is a problem
    r = s_import ("change_request", NULL,
                  "project_code,title,reason,closed\nP-B,Withdrawn request,other reason,true\n",
                  false, false, -1);
    assert (s_has_problem (r, 2, "", "is closed: it stays as it is") && !r->written);
    portio_import_result_destroy (&r);
    r = s_import ("change_request", NULL, "project_code,title,closed\nP-B,Withdrawn request,\n",
                  false, false, -1);
    assert (s_has_problem (r, 2, "closed", "is closed: it stays as it is") && !r->written);
    portio_import_result_destroy (&r);
}

static void s_test_registers (void)
{
    const char *risks =
        "project_code,title,category,probability,impact,residual_probability,"
        "residual_impact,cost_impact,owner,status,closure_note\n"
        "P-A,Vendor late,commercial,4,5,4,5,\"100,000\",ann,open,\n"
        "P-A,Key person leaves,people,3,4,2,3,50000,ann,open,\n"
        "P-B,Budget cut,financial,5,5,,,\xC2\xA3"
        "200k,ben,open,\n"
        "P-B,Old supplier risk,commercial,2,2,,,1000,ben,closed,supplier replaced\n";
    portio_import_result_t *r = s_import ("risk", NULL, risks, false, false, 0);
    s_expect (r, 4, 0, 0, 0);
    portio_import_result_destroy (&r);
    r = s_import ("risk", NULL, risks, false, false, 0);
    s_expect (r, 0, 0, 4, 0);
    portio_import_result_destroy (&r);
    //  A probability of 6 and a missing title are problems; nothing is written
    const char *bad = "project_code,title,probability,impact\n"
                      "P-A,Too likely,6,3\n"
                      "P-A,,2,2\n";
    r = s_import ("risk", NULL, bad, false, false, -1);
    assert (r->bad == 2 && !r->written);
    assert (s_has_problem (r, 2, "probability", "1 to 5"));
    assert (s_has_problem (r, 3, "title", "title"));
    portio_import_result_destroy (&r);
    s_round_trip ("risk", 4);
    //  Rows go to the risk monitor in batches (one request and one commit
    //  per division): a row only it refuses (a blank owner) is named and
    //  nothing of the file is written, in one division or in two (each
    //  batch is sent as a dry run first)
    const char *one = "project_code,title,probability,impact,owner\n"
                      "P-A,Batch one,2,2,ann\n"
                      "P-A,Batch two,3,3,ann\n"
                      "P-A,Batch three,3,3,\n";
    r = s_import ("risk", NULL, one, false, false, -1);
    assert (s_has_problem (r, 4, "owner", "the risk monitor refused import_batch"));
    assert (!r->written && r->bad == 1 && strstr (r->error, "nothing of its batch was written"));
    portio_import_result_destroy (&r);
    const char *both = "project_code,title,probability,impact,owner\n"
                       "P-A,Batch one,2,2,ann\n"
                       "P-B,Batch two,3,3,ben\n"
                       "P-B,Batch three,3,3,\n";
    r = s_import ("risk", NULL, both, false, false, -1);
    assert (s_has_problem (r, 4, "owner", "the risk monitor refused import_batch"));
    assert (!r->written && r->bad == 1 && strstr (r->error, "nothing was written"));
    portio_import_result_destroy (&r);
    assert (s_count ("risk") == 4);
    //  A row of two steps (a risk created closed) is one item of the batch
    //  too (final_state): a row only the risk monitor refuses after it
    //  leaves nothing written (step by step, the closed risk was written)
    const char *closing = "project_code,title,probability,impact,owner,status,closure_note\n"
                          "P-A,Closed on arrival,2,2,ann,closed,gone\n"
                          "P-A,Batch four,3,3,,open,\n";
    r = s_import ("risk", NULL, closing, false, false, -1);
    assert (s_has_problem (r, 3, "owner", "the risk monitor refused import_batch"));
    assert (!r->written && r->bad == 1);
    portio_import_result_destroy (&r);
    assert (s_count ("risk") == 4);
    //  skip_bad writes the good rows of both divisions
    r = s_import ("risk", NULL, both, false, true, 0);
    s_expect (r, 2, 0, 0, 1);
    assert (r->row_results[0].written && r->row_results[1].written && !r->row_results[2].written);
    portio_import_result_destroy (&r);
    assert (s_count ("risk") == 6);
    s_round_trip ("risk", 6);

    const char *issues = "project_code,title,type,severity,priority,owner,status,resolution\n"
                         "P-A,Test environment down,problem concern,high,1,ops,open,\n"
                         "P-B,Spec gap,off specification,medium,2,ba,resolved,Spec amended\n";
    r = s_import ("issue", NULL, issues, false, false, 0);
    s_expect (r, 2, 0, 0, 0);
    portio_import_result_destroy (&r);
    r = s_import ("issue", NULL, issues, false, false, 0);
    s_expect (r, 0, 0, 2, 0);
    portio_import_result_destroy (&r);
    s_round_trip ("issue", 2);
    s_round_trip ("resource", 5);

    //  Change requests (a saving is negative; a decision is a step after
    //  the request) and assumptions, decisions and dependencies
    const char *changes =
        "project_code,title,reason,requested_by,currency,cost_impact,schedule_impact_days,"
        "decision,decision_note\n"
        "P-A,Add a second data centre,resilience,ann,GBP,\"250,000\",30,,\n"
        "P-B,Drop the mobile app,budget,ben,GBP,-120000,-14,deferred,next year\n";
    r = s_import ("change_request", NULL, changes, false, false, 0);
    s_expect (r, 2, 0, 0, 0);
    portio_import_result_destroy (&r);
    r = s_import ("change_request", NULL, changes, false, false, 0);
    s_expect (r, 0, 0, 2, 0);
    portio_import_result_destroy (&r);
    s_round_trip ("change_request", 2);
    s_test_closed_changes ();
    const char *raid = "project_code,kind,title,owner,status,due_date,note\n"
                       "P-A,assumption,Vendor keeps its price,ann,open,2026-12-31,\n"
                       "P-A,decision,Cloud first,ben,confirmed,,board minute 12\n"
                       "P-B,dependency,Network upgrade delivered,ops,open,2027-03-31,\n"
                       "P-B,decision,Paper forms retired,ben,closed,,superseded by minute 14\n";
    //  An entry closed in the file (created open, then closed) is one item
    //  of the batch: with a row only the risk monitor refuses (a title too
    //  long), nothing is written; a dry run shows it created
    char *refused = malloc (strlen (raid) + 300);
    sprintf (refused, "%sP-B,decision,%0250d,ben,open,,\n", raid, 0);
    r = s_import ("raid", NULL, refused, false, false, -1);
    assert (s_has_problem (r, 6, "title", "the risk monitor refused import_batch"));
    assert (!r->written && r->bad == 1);
    portio_import_result_destroy (&r);
    free (refused);
    assert (s_count ("raid") == 0);
    r = s_import ("raid", NULL, raid, true, false, 0);
    s_expect (r, 4, 0, 0, 0);
    assert (!r->written);
    portio_import_result_destroy (&r);
    assert (s_count ("raid") == 0);
    r = s_import ("raid", NULL, raid, false, false, 0);
    s_expect (r, 4, 0, 0, 0);
    portio_import_result_destroy (&r);
    s_expect_closed ("raid", "Paper forms retired", "superseded by minute 14", 2);
    r = s_import ("raid", NULL, raid, false, false, 0);
    s_expect (r, 0, 0, 4, 0);
    portio_import_result_destroy (&r);
    s_round_trip ("raid", 4);
    s_closed_round_trip ("raid", "Paper forms retired", "Paper forms removed",
                         "superseded by minute 14", 2);
    //  A closed entry is a record: a row changing it is a problem
    r = s_import ("raid", NULL,
                  "project_code,kind,title,owner,status\nP-B,decision,Paper forms retired,ann,"
                  "closed\n",
                  false, false, -1);
    assert (s_has_problem (r, 2, "", "is closed: it stays as it is") && !r->written);
    portio_import_result_destroy (&r);
    //  A RAID entry without its kind is a problem; nothing is written
    r = s_import ("raid", NULL, "project_code,title\nP-A,What kind\n", false, false, -1);
    assert (r->bad == 1 && s_has_problem (r, 2, "kind", "kind is required") && !r->written);
    portio_import_result_destroy (&r);
}

static void s_test_report (void)
{
    //  Independently: exposure = residual probability as % (1..5 = 10, 30,
    //  50, 70, 90 %) x cost impact, over the open threats
    int64_t expected_exposure =
        70 * 10000000LL / 100 + 30 * 5000000LL / 100 + 90 * 20000000LL / 100; //  pence
    portio_import_peer_t peer = s_peer ();
    char why[512];
    portio_report_t *report = NULL;
    //  Alerts follow the risks as the risk monitor assesses them
    for (int attempt = 0; attempt < 100; attempt++) {
        portio_report_destroy (&report);
        report = portio_report_build (&peer, "hub", 0, why, sizeof why);
        assert (report);
        if (!report->alerts_note && report->alerts_severity[3] >= 2)
            break;
        zclock_sleep (50);
    }
    assert (!report->risks_note && !report->resources_note && !report->alerts_note &&
            !report->health_note);
    //  The file's three open threats and the two of the batch test
    //  (4 and 9, without a cost impact)
    assert (report->risks_open == 5);
    assert (report->risks_band[5] == 2); //  critical: 20 (vendor) and 25 (budget)
    assert (report->risks_band[3] == 2); //  medium: 6 and 9
    assert (report->risks_band[2] == 1); //  low: 4
    assert (report->risk_exposure == expected_exposure);
    assert (strcmp (report->risks[0]->title, "Budget cut") == 0);
    assert (strcmp (report->risk_projects[0], "P-B") == 0);
    assert (report->n_overloads == 1);
    assert (strcmp (report->overloads[0]->resource_name, "Alice Archer") == 0);
    //  Weeks both commitments cover: from the later start to the earlier end
    size_t both = report->overloads[0]->n_weeks;
    assert (both >= 2 && both <= 3);
    assert (report->over_hours == both * 13);
    //  Open alerts: what the risk monitor lists as not resolved
    pmo_arena_t *arena = pmo_arena_new ();
    ProtobufCMessage **alerts;
    size_t n_alerts, open = 0, critical_risk = 0;
    assert (portio_import_svc_list (&peer, arena, "alert", "", &alerts, &n_alerts, why,
                                    sizeof why) == 0);
    for (size_t i = 0; i < n_alerts; i++) {
        Pmo__Alert *a = (Pmo__Alert *)alerts[i];
        open += a->state != PMO__ALERT_STATE__ALERT_STATE_RESOLVED;
        critical_risk += a->kind == PMO__ALERT_KIND__ALERT_KIND_RISK_CRITICAL &&
                         a->state != PMO__ALERT_STATE__ALERT_STATE_RESOLVED;
    }
    pmo_arena_destroy (&arena);
    assert (report->n_alerts == open && critical_risk == 2);
    //  Computed health: each project once; two critical risks make P-A and P-B red
    size_t assessed = 0;
    for (int i = 0; i < 4; i++)
        assessed += report->health[i];
    assert (assessed == report->n_projects && report->health[3] == 2);
    //  The three forms carry the sections
    json_t *json = portio_report_json (report);
    assert (json_integer_value (json_object_get (json_object_get (json, "risks"), "open")) == 5);
    assert (json_integer_value (json_object_get (json_object_get (json, "risks"),
                                                 "exposure_minor")) == expected_exposure);
    assert (json_integer_value (json_object_get (json_object_get (json, "over_allocated_resources"),
                                                 "count")) == 1);
    json_decref (json);
    size_t size;
    char *csv = portio_report_csv (report, "risks", false, &size);
    assert (strstr (csv, "1,") && strstr (csv, "Budget cut"));
    free (csv);
    csv = portio_report_csv (report, "summary", false, &size);
    assert (strstr (csv, "risk_exposure,265000.00"));
    assert (strstr (csv, "overallocated_resources,1"));
    free (csv);
    char *html = portio_report_html (report, &size);
    assert (strstr (html, "Top risks by exposure") && strstr (html, "Alice Archer") &&
            strstr (html, "Budget cut"));
    free (html);
    portio_report_destroy (&report);

    //  Without the other services the report still stands, and says so
    peer.allocator = NULL;
    peer.riskmon = NULL;
    report = portio_report_build (&peer, "hub", 0, why, sizeof why);
    assert (report && report->risks_note && report->resources_note);
    portio_report_destroy (&report);
}

static void s_test_answers (void)
{
    portio_import_peer_t peer = s_peer ();
    assert (portio_import_answers (&peer, PORTIO_IMPORT_REGISTRY, 5000));
    assert (portio_import_answers (&peer, PORTIO_IMPORT_ALLOCATOR, 5000));
    assert (portio_import_answers (&peer, PORTIO_IMPORT_RISKMON, 5000));
    peer.registry = peer.allocator = peer.riskmon = NULL;
    assert (!portio_import_answers (&peer, PORTIO_IMPORT_REGISTRY, 5000));
    assert (!portio_import_answers (&peer, PORTIO_IMPORT_ALLOCATOR, 5000));
    assert (!portio_import_answers (&peer, PORTIO_IMPORT_RISKMON, 5000));
}

int main (void)
{
    s_start ();
    ah_unit (s_ah, "hub", "enterprise", NULL, "directive");
    ah_unit (s_ah, "div-a", "division", "hub", "controlling");
    ah_unit (s_ah, "div-b", "division", "hub", "supportive");
    char id[40];
    ah_project (s_ah, "P-A", "div-a", 1, id);
    ah_project (s_ah, "P-B", "div-b", 2, id);
    s_test_resources ();
    s_test_allocations ();
    s_test_registers ();
    s_test_report ();
    s_test_answers ();
    s_stop ();
    printf ("test_import_svc: OK\n");
    return 0;
}
