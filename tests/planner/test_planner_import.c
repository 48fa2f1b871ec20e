/*  test_planner_import.c: the benefits register in and out of spreadsheets
    through lib/portio, against the real registry and planner actors
    (in-process, real ZeroMQ, a real redis-server).

    - a register file (money with £ and thousands separators, a profile
      cell, projects by code, the org unit from the project): a dry run
      writes nothing, the run creates, the planner keeps money in pence;
      the same file again changes nothing and creates no second benefit; a
      changed figure updates the same benefit;
    - a bad file: every problem by row and column (a kind, a project, a
      profile, three decimals of money, and a currency on a non-financial
      benefit, which only the planner's own check refuses), nothing written;
    - export as CSV and as a workbook: each imports back unchanged;
    - the real GMPP 2019 file: its projects imported with
      deploy/data/gmpp-mapping.json, then the same file with a "baseline
      benefits" column (the 2019 file has none: this test adds one, £m,
      with a figure on some rows, "TBC" or nothing on the others) through a
      benefit mapping: one benefit per project with a figure, linked to it
      and in its division; the others skipped; again: unchanged.
*/
#include "planner.pb-c.h"
#include "planner_server.h"
#include "pmo_util.h"
#include "portio_import.h"
#include "portio_xlsx.h"
#include "registry_harness.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static rh_t *s_rh;
static pmo_client_t *s_planner;
static char s_endpoint[64], s_pub[64];

static portio_import_peer_t s_peer (void)
{
    return (portio_import_peer_t){.registry = s_rh->client,
                                  .identity = &s_rh->identity,
                                  .timeout_ms = 20000,
                                  .attempts = 1,
                                  .planner = s_planner};
}

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

static void s_print (const portio_import_result_t *r)
{
    fprintf (stderr, "test: %s: created %zu updated %zu unchanged %zu bad %zu skipped %zu (%s)\n",
             r->entity, r->created, r->updated, r->unchanged, r->bad, r->skipped,
             r->error ? r->error : "");
    for (size_t i = 0; i < r->n_problems; i++)
        fprintf (stderr, "  %zu %s [%s] %s\n", r->problems[i].row, r->problems[i].column,
                 r->problems[i].value, r->problems[i].reason);
}

static portio_import_result_t *s_import_data (const char *mapping_json, const char *data,
                                              size_t size, bool dry_run, bool org_units,
                                              int expect_rc)
{
    char why[512];
    portio_import_mapping_t *mapping =
        mapping_json
            ? portio_import_mapping_load (mapping_json, strlen (mapping_json), why, sizeof why)
            : portio_import_mapping_native ("benefit");
    if (!mapping) {
        fprintf (stderr, "test: mapping: %s\n", why);
        abort ();
    }
    portio_import_options_t options = {
        .peer = s_peer (), .hub = "hub", .dry_run = dry_run, .create_org_units = org_units};
    portio_import_result_t *result;
    int rc = portio_import_run (&options, mapping, data, size, &result);
    portio_import_mapping_destroy (&mapping);
    if (rc != expect_rc) {
        fprintf (stderr, "test: import returned %d, expected %d\n", rc, expect_rc);
        s_print (result);
        abort ();
    }
    return result;
}

static portio_import_result_t *s_import (const char *mapping_json, const char *csv, bool dry_run,
                                         int expect_rc)
{
    return s_import_data (mapping_json, csv, strlen (csv), dry_run, false, expect_rc);
}

static void s_expect (portio_import_result_t *r, size_t created, size_t updated, size_t unchanged,
                      size_t bad)
{
    if (r->created != created || r->updated != updated || r->unchanged != unchanged ||
        r->bad != bad) {
        fprintf (stderr, "test: expected created %zu updated %zu unchanged %zu bad %zu\n", created,
                 updated, unchanged, bad);
        s_print (r);
        abort ();
    }
}

static bool s_has_problem (const portio_import_result_t *r, size_t row, const char *column,
                           const char *reason_part)
{
    for (size_t i = 0; i < r->n_problems; i++)
        if (r->problems[i].row == row && strcmp (r->problems[i].column, column) == 0 &&
            strstr (r->problems[i].reason, reason_part))
            return true;
    fprintf (stderr, "test: no problem at row %zu column %s about '%s'\n", row, column,
             reason_part);
    s_print (r);
    return false;
}

//  The planner's benefits under unit ("" = all), caller frees.
static Pmo__PlannerReply *s_list (const char *unit)
{
    Pmo__BenefitListRequest list = PMO__BENEFIT_LIST_REQUEST__INIT;
    list.org_unit = (char *)unit;
    Pmo__PlannerRequest request = PMO__PLANNER_REQUEST__INIT;
    request.body_case = PMO__PLANNER_REQUEST__BODY_LIST_BENEFITS;
    request.list_benefits = &list;
    Pmo__Header header;
    char id[40];
    pmo_header_init (&header, id, 20000, &s_rh->identity);
    request.header = &header;
    ProtobufCMessage *reply = NULL;
    assert (pmo_client_call (s_planner, &request.base, &pmo__planner_reply__descriptor, 20000, 1,
                             &reply) == 0);
    Pmo__PlannerReply *r = (Pmo__PlannerReply *)reply;
    assert (!r->error && r->benefits);
    return r;
}

static const Pmo__Benefit *s_find (const Pmo__PlannerReply *list, const char *external_id)
{
    for (size_t i = 0; i < list->benefits->n_benefits; i++)
        if (streq (list->benefits->benefits[i]->external_id, external_id))
            return list->benefits->benefits[i];
    fprintf (stderr, "test: no benefit %s\n", external_id);
    abort ();
}

static size_t s_count (const char *unit)
{
    Pmo__PlannerReply *list = s_list (unit);
    size_t n = list->benefits->n_benefits;
    protobuf_c_message_free_unpacked (&list->base, NULL);
    return n;
}

static const char *s_register =
    "external_id,title,kind,owner,measure,unit,currency,baseline,target,profile,project_code,"
    "status\r\n"
    "B-1,Lower running cost,cashable,finance.director,running cost saved,,GBP,0,\"£1,200.50\","
    "\"2027-01: 300; 2027-07: 600.25; 2028-01: 1,200.50\",DFT-A,planned\r\n"
    "B-2,Faster approvals,non_financial,ops.lead,days to approve,days,,30,12,"
    "\"2027-06: 20; 2028-01: 12\",DFT-A;DFT-B,\r\n";

static void s_register_file (const char *project_a, const char *project_b)
{
    //  A dry run: both would be created, nothing is written
    portio_import_result_t *r = s_import (NULL, s_register, true, 0);
    s_expect (r, 2, 0, 0, 0);
    assert (!r->written && s_count ("") == 0);
    portio_import_result_destroy (&r);

    r = s_import (NULL, s_register, false, 0);
    s_expect (r, 2, 0, 0, 0);
    assert (r->written);
    portio_import_result_destroy (&r);
    Pmo__PlannerReply *list = s_list ("");
    assert (list->benefits->n_benefits == 2);
    const Pmo__Benefit *b1 = s_find (list, "B-1");
    //  Money in pence, the unit its currency, the unit from the project
    assert (b1->target == 120050 && b1->baseline == 0 && streq (b1->currency, "GBP"));
    assert (streq (b1->unit, "GBP") && streq (b1->org_unit, "dft"));
    assert (b1->n_profile == 3 && b1->profile[1]->value == 60025 &&
            streq (b1->profile[2]->period, "2028-01") && b1->profile[2]->value == 120050);
    assert (b1->n_project_ids == 1 && streq (b1->project_ids[0], project_a));
    assert (b1->status == PMO__BENEFIT_STATUS__BENEFIT_STATUS_PLANNED);
    const Pmo__Benefit *b2 = s_find (list, "B-2");
    assert (b2->kind == PMO__BENEFIT_KIND__BENEFIT_KIND_NON_FINANCIAL && b2->target == 12);
    assert (streq (b2->unit, "days") && pmo_str_empty (b2->currency));
    assert (b2->n_project_ids == 2 && streq (b2->project_ids[1], project_b));
    char *b1_id = strdup (b1->id);
    uint64_t b1_version = b1->version;
    protobuf_c_message_free_unpacked (&list->base, NULL);

    //  The same file again: nothing changes, no second benefit
    r = s_import (NULL, s_register, false, 0);
    s_expect (r, 0, 0, 2, 0);
    assert (!r->written && s_count ("") == 2);
    portio_import_result_destroy (&r);

    //  A changed figure updates the same benefit
    char *changed = strdup (s_register);
    char *at = strstr (changed, "1,200.50\",\"2027");
    assert (at);
    memcpy (at, "1,300.50", 8);
    r = s_import (NULL, changed, false, 0);
    s_expect (r, 0, 1, 1, 0);
    free (changed);
    portio_import_result_destroy (&r);
    list = s_list ("");
    b1 = s_find (list, "B-1");
    assert (list->benefits->n_benefits == 2 && streq (b1->id, b1_id));
    assert (b1->target == 130050 && b1->version == b1_version + 1);
    protobuf_c_message_free_unpacked (&list->base, NULL);
    free (b1_id);
}

static void s_bad_file (void)
{
    const char *bad =
        "external_id,title,kind,owner,measure,unit,currency,baseline,target,profile,project_code\n"
        "C-1,Wrong kind,financialish,o,m,,GBP,0,10,,DFT-A\n"
        "C-2,No project,cashable,o,m,,GBP,0,10,,NOPE\n"
        "C-3,Bad profile,cashable,o,m,,GBP,0,10,2027-13: 5,DFT-A\n"
        "C-4,Three decimals,cashable,o,m,,GBP,0,1.005,,DFT-A\n"
        "C-5,Currency on a measure,non_financial,o,m,%,EUR,0,10,,DFT-A\n"
        "C-6,Fine,cashable,o,m,,GBP,0,10,,DFT-B\n";
    portio_import_result_t *r = s_import (NULL, bad, false, -1);
    s_expect (r, 1, 0, 0, 5);
    assert (!r->written);
    assert (s_has_problem (r, 2, "kind", "not one of"));
    assert (s_has_problem (r, 3, "project_code", "no project"));
    assert (s_has_problem (r, 4, "profile", "month: value"));
    assert (s_has_problem (r, 5, "target", "two decimals"));
    //  Only the planner's own rules say this one
    assert (s_has_problem (r, 6, "currency", "only a financial benefit has a currency"));
    assert (s_count ("") == 2);
    portio_import_result_destroy (&r);
}

static void s_round_trips (void)
{
    portio_import_peer_t peer = s_peer ();
    char *csv, why[512];
    size_t size;
    assert (portio_export (&peer, "benefit", "", false, &csv, &size, why, sizeof why) == 0);
    assert (strstr (csv, "1300.50") && strstr (csv, "2027-07: 600.25") &&
            strstr (csv, "DFT-A;DFT-B"));
    portio_import_result_t *r = s_import (NULL, csv, false, 0);
    s_expect (r, 0, 0, 2, 0);
    assert (!r->written);
    portio_import_result_destroy (&r);
    free (csv);
    assert (portio_xlsx_export (&peer, "benefit", "", NULL, &csv, &size, why, sizeof why) == 0);
    assert (portio_xlsx_is (csv, size));
    r = s_import_data (NULL, csv, size, false, false, 0);
    s_expect (r, 0, 0, 2, 0);
    portio_import_result_destroy (&r);
    free (csv);
    //  Another division's person sees none of them
    rh_as (s_rh, "pm@moj", "project_manager@moj");
    peer = s_peer ();
    assert (portio_export (&peer, "benefit", "", false, &csv, &size, why, sizeof why) == 0);
    assert (!strstr (csv, "B-1") && !strstr (csv, "B-2"));
    free (csv);
    rh_as (s_rh, "admin@test", "admin@hub");
}

//  The real GMPP file with a "baseline_benefits" column added: a figure
//  (£m) on every ninth row, "TBC" on every ninth row after it, nothing on
//  the others.
static char *s_gmpp_with_benefits (const char *data, size_t size, size_t *figures, size_t *out_size)
{
    pmo_arena_t *arena = pmo_arena_new ();
    portio_csv_options_t options = {0};
    portio_csv_t *csv = portio_csv_parse (data, size, &options, arena);
    assert (!csv->problem && csv->n_records == 134);
    portio_csv_writer_t *writer = portio_csv_writer_new (',', false);
    *figures = 0;
    for (size_t i = 0; i < csv->n_records; i++) {
        portio_csv_record_t *record = &csv->records[i];
        for (size_t f = 0; f < record->n_fields; f++)
            portio_csv_writer_field (writer, record->fields[f]);
        char figure[32] = "";
        if (i == 0)
            snprintf (figure, sizeof figure, "baseline_benefits");
        else if (i % 9 == 1) {
            snprintf (figure, sizeof figure, "£%zu.25", 100 + i);
            (*figures)++;
        } else if (i % 9 == 2)
            snprintf (figure, sizeof figure, "TBC");
        portio_csv_writer_field (writer, figure);
        portio_csv_writer_end_row (writer);
    }
    size_t len;
    const char *text = portio_csv_writer_data (writer, &len);
    char *copy = malloc (len + 1);
    memcpy (copy, text, len + 1);
    *out_size = len;
    portio_csv_writer_destroy (&writer);
    pmo_arena_destroy (&arena);
    return copy;
}

static const char *s_gmpp_benefits_mapping =
    "{\"entity\": \"benefit\", \"currency\": \"GBP\", \"skip_blank\": \"target\","
    " \"columns\": ["
    "  {\"column\": \"project_name\", \"field\": \"project_code\"},"
    "  {\"template\": \"{project_name} benefits\", \"field\": \"title\"},"
    "  {\"column\": \"baseline_benefits\", \"field\": \"target\", \"scale\": 1000000}],"
    " \"defaults\": {\"kind\": \"cashable\", \"owner\": \"Senior Responsible Owner\","
    "  \"measure\": \"baseline benefits (whole life)\", \"status\": \"planned\"}}";

static void s_gmpp (void)
{
    char path[1200];
    size_t size, map_size;
    snprintf (path, sizeof path, "%s/deploy/data/gmpp-2019.csv", SOURCE_DIR);
    char *data = s_read_file (path, &size);
    snprintf (path, sizeof path, "%s/deploy/data/gmpp-mapping.json", SOURCE_DIR);
    char *map_text = s_read_file (path, &map_size);
    portio_import_result_t *r = s_import_data (map_text, data, size, false, true, 0);
    assert (r->created == 133);
    portio_import_result_destroy (&r);
    free (map_text);

    size_t figures, with_size;
    char *with = s_gmpp_with_benefits (data, size, &figures, &with_size);
    free (data);
    size_t before = s_count ("");
    r = s_import_data (s_gmpp_benefits_mapping, with, with_size, false, false, 0);
    s_expect (r, figures, 0, 0, 0);
    assert (r->skipped == 133 - figures);
    portio_import_result_destroy (&r);
    assert (s_count ("") == before + figures);
    //  The first row's: the Geological Disposal Facility, BEIS, £101.25m
    Pmo__PlannerReply *list = s_list ("beis");
    const Pmo__Benefit *gdf = NULL;
    for (size_t i = 0; i < list->benefits->n_benefits; i++)
        if (strstr (list->benefits->benefits[i]->title, "Geological Disposal"))
            gdf = list->benefits->benefits[i];
    assert (gdf && gdf->target == 10125000000.0 && streq (gdf->division, "beis"));
    assert (gdf->n_project_ids == 1);
    Pmo__RegistryReply *project =
        rh_get (s_rh, PMO__ENTITY_KIND__ENTITY_KIND_PROJECT, gdf->project_ids[0]);
    rh_ok (project);
    assert (strstr (project->project->name, "Geological Disposal Facility"));
    rh_free (&project);
    protobuf_c_message_free_unpacked (&list->base, NULL);

    //  Again: the title in the unit is the key, nothing is created twice
    r = s_import_data (s_gmpp_benefits_mapping, with, with_size, false, false, 0);
    s_expect (r, 0, 0, figures, 0);
    portio_import_result_destroy (&r);
    assert (s_count ("") == before + figures);
    free (with);
}

int main (void)
{
    s_rh = rh_start ();
    Pmo__RegistryReply *reply = rh_unit (s_rh, "hub", "enterprise", NULL, "controlling");
    rh_ok (reply);
    rh_free (&reply);
    reply = rh_unit (s_rh, "dft", "division", "hub", "controlling");
    rh_ok (reply);
    rh_free (&reply);
    reply = rh_unit (s_rh, "moj", "division", "hub", "supportive");
    rh_ok (reply);
    rh_free (&reply);
    reply = rh_project (s_rh, "DFT-A", "dft");
    rh_ok (reply);
    char *project_a = strdup (reply->project->id);
    rh_free (&reply);
    reply = rh_project (s_rh, "DFT-B", "dft");
    rh_ok (reply);
    char *project_b = strdup (reply->project->id);
    rh_free (&reply);
    snprintf (s_endpoint, sizeof s_endpoint, "tcp://127.0.0.1:%d", pmo_test_free_port ());
    snprintf (s_pub, sizeof s_pub, "tcp://127.0.0.1:%d", pmo_test_free_port ());
    planner_config_t config = {
        .endpoint = s_endpoint,
        .pub_endpoint = s_pub,
        .redis_url = pmo_test_redis_url (s_rh->redis),
        .hub = "hub",
        .registry = s_rh->endpoint,
        .redis_timeout_ms = 2000,
        .month = "2026-12",
    };
    zactor_t *actor = pmo_test_actor_new (planner_server_actor, &config, &config.failed);
    assert (actor);
    s_planner = pmo_client_new (s_endpoint);

    s_register_file (project_a, project_b);
    printf ("register file: ok\n");
    s_bad_file ();
    printf ("bad file: ok\n");
    s_round_trips ();
    printf ("export and back: ok\n");
    s_gmpp ();
    printf ("gmpp baseline benefits: ok\n");

    free (project_a);
    free (project_b);
    pmo_client_destroy (&s_planner);
    zactor_destroy (&actor);
    rh_stop (&s_rh);
    printf ("test_planner_import: ok\n");
    return 0;
}
