/*  test_allocator_exposure.c: nothing shown beyond need (issue 12,
    README "Who sees what"), over real ZeroMQ against a real redis-server,
    the real registry and the allocator.

    Two divisions, fin and ops, and a person shared between them: Ann (fin)
    is booked by FIN-1 (20 h) and by OPS-1 (12 h), over her 30 h; Bob (ops)
    by OPS-1 (30 h) and, proposed, by FIN-1 (10 h); Cat (ops) only by OPS-1,
    over her 10 h. Four callers read every view and the portfolio report of
    the hub: a viewer of fin, a resource manager of fin, a PMO manager of
    ops, an admin. Each sees the bookings of its own projects and of the people
    it stewards in full; of the rest only hours ("12 h booked elsewhere"),
    never a project's id, code or name; cost rates and the reasons of leave
    only for the people it stewards.
*/
#include "allocator_harness.h"
#include "pmo_json.h"
#include "pmo_util.h"
#include "portio_report.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static char s_fin1[40], s_ops1[40], s_ann[40], s_bob[40], s_cat[40];
static char s_first[16], s_last[16]; //  the weeks booked: next week and the two after
static char s_al[5][40];             //  ann/FIN-1, ann/OPS-1, bob/OPS-1, bob/FIN-1, cat/OPS-1

//  Request a named resource for a project and take it to state
//  ("proposed" or "committed") as admin; the allocation's id into id.
static void s_book (ah_t *ah, const char *project, const char *resource, uint32_t hours,
                    const char *state, char *id)
{
    Pmo__AllocatorReply *reply =
        ah_call (ah,
                 "{\"request_allocation\":{\"project_id\":\"%s\",\"resource_id\":\"%s\","
                 "\"hours_per_week\":%u,\"start_week\":\"%s\",\"end_week\":\"%s\"}}",
                 project, resource, hours, s_first, s_last);
    ah_ok (reply);
    snprintf (id, 40, "%s", reply->allocation->id);
    uint64_t version = reply->allocation->version;
    ah_free (&reply);
    const char *steps[] = {"propose", "commit"};
    for (size_t i = 0; i < (strcmp (state, "committed") == 0 ? 2u : 1u); i++) {
        reply = ah_call (ah, "{\"%s\":{\"allocation_id\":\"%s\",\"version\":%llu%s}}", steps[i], id,
                         (unsigned long long)version, i ? ",\"approve\":true" : "");
        ah_ok (reply);
        version = reply->allocation->version;
        ah_free (&reply);
    }
}

static void s_fixture (ah_t *ah)
{
    ah_unit (ah, "hub", "enterprise", NULL, "supportive");
    ah_unit (ah, "fin", "division", "hub", "supportive");
    ah_unit (ah, "ops", "division", "hub", "supportive");
    ah_project (ah, "FIN-1", "fin", 2, s_fin1);
    ah_project (ah, "OPS-1", "ops", 1, s_ops1);
    Pmo__AllocatorReply *reply =
        ah_call (ah, "{\"create_resource\":{\"name\":\"Ann Lee\",\"home_org_unit\":\"fin\","
                     "\"role\":\"engineer\",\"weekly_capacity_hours\":30,"
                     "\"skills\":[{\"name\":\"java\",\"level\":4}],"
                     "\"cost_rate\":{\"minor\":9100,\"currency\":\"GBP\"},"
                     "\"exceptions\":[{\"start_week\":\"2026-W20\",\"hours_off\":30,"
                     "\"reason\":\"medical leave\"}]}}");
    ah_ok (reply);
    snprintf (s_ann, sizeof s_ann, "%s", reply->resource->id);
    ah_free (&reply);
    snprintf (s_bob, sizeof s_bob, "%s",
              ah_resource (ah, "Bob Ray", "ops", "engineer", 40,
                           "[{\"name\":\"java\",\"level\":3}]", 8200));
    s_book (ah, s_fin1, s_ann, 20, "committed", s_al[0]);
    s_book (ah, s_ops1, s_ann, 12, "committed", s_al[1]);
    s_book (ah, s_ops1, s_bob, 30, "committed", s_al[2]);
    s_book (ah, s_fin1, s_bob, 10, "proposed", s_al[3]);
    snprintf (s_cat, sizeof s_cat, "%s",
              ah_resource (ah, "Cat Ode", "ops", "tester", 10,
                           "[{\"name\":\"testing\",\"level\":3}]", 7000));
    s_book (ah, s_ops1, s_cat, 15, "committed", s_al[4]);
}

//  The reply as JSON holds text (a project's id, code or name)
static bool s_mentions (Pmo__AllocatorReply *reply, const char *text)
{
    char *json = pmo_json_encode (&reply->base);
    bool found = strstr (json, text) != NULL;
    free (json);
    return found;
}

//  What one caller sees, and what it must not
typedef struct {
    const char *who, *grants;
    bool sees[5];            //  each of s_al in full
    bool cost_ann, cost_bob; //  cost rate (and Ann's leave reason)
    uint32_t elsewhere_ann;  //  hours booked elsewhere on Ann in the busiest week
    uint32_t elsewhere_bob;  //  ... on Bob
    uint32_t elsewhere_cat;  //  ... on Cat
    size_t conflicts;        //  over-allocated people it sees (Ann, Cat)
    const char *hidden_code; //  the project it must never see named (NULL: none)
    const char *hidden_id;
} caller_t;

static void s_check (ah_t *ah, const caller_t *c)
{
    ah_as (ah, c->who, c->grants);
    //  get: an allocation it may not see is not there
    size_t seen = 0;
    for (size_t i = 0; i < 5; i++) {
        Pmo__AllocatorReply *reply = ah_call (
            ah, "{\"get\":{\"kind\":\"ALLOCATOR_KIND_ALLOCATION\",\"id\":\"%s\"}}", s_al[i]);
        if (c->sees[i]) {
            ah_ok (reply);
            seen++;
        } else
            ah_err (reply, NOT_FOUND, "get.id");
        ah_free (&reply);
    }
    //  list: the same ones, the rest as hours per person
    Pmo__AllocatorReply *reply = ah_call (ah, "{\"list_allocations\":{}}");
    ah_ok (reply);
    Pmo__AllocationPage *page = reply->allocations;
    assert (page->n_allocations == seen);
    for (size_t i = 0; i < page->n_allocations; i++) {
        size_t k = 0;
        while (k < 5 && strcmp (page->allocations[i]->id, s_al[k]) != 0)
            k++;
        assert (k < 5 && c->sees[k]);
    }
    uint32_t ann = 0, bob = 0, cat = 0;
    for (size_t i = 0; i < page->n_elsewhere; i++) {
        Pmo__BookedElsewhere *e = page->elsewhere[i];
        assert (streq (e->start_week, s_first) && streq (e->end_week, s_last));
        if (streq (e->resource_id, s_ann))
            ann = e->committed_hours + e->proposed_hours;
        else if (streq (e->resource_id, s_bob))
            bob = e->committed_hours + e->proposed_hours;
        else if (streq (e->resource_id, s_cat))
            cat = e->committed_hours + e->proposed_hours;
        else
            assert (!"an unknown resource booked elsewhere");
        printf ("%-22s %s\n", c->who, e->summary);
    }
    assert (ann == c->elsewhere_ann && bob == c->elsewhere_bob && cat == c->elsewhere_cat);
    if (c->hidden_code)
        assert (!s_mentions (reply, c->hidden_code) && !s_mentions (reply, c->hidden_id));
    printf ("%-22s list: %zu allocation(s), %zu person(s) booked elsewhere\n", c->who,
            page->n_allocations, page->n_elsewhere);
    ah_free (&reply);
    //  A person's list: Ann's own bookings the caller sees, the rest as hours
    reply = ah_call (ah, "{\"list_allocations\":{\"resource_id\":\"%s\"}}", s_ann);
    ah_ok (reply);
    assert (reply->allocations->n_allocations == (size_t)c->sees[0] + c->sees[1]);
    assert (reply->allocations->n_elsewhere == (c->elsewhere_ann ? 1u : 0u));
    ah_free (&reply);
    //  A project's list gives no hours elsewhere (it would tell whom it books)
    reply = ah_call (ah, "{\"list_allocations\":{\"project_id\":\"%s\"}}", s_ops1);
    ah_ok (reply);
    assert (reply->allocations->n_elsewhere == 0);
    assert (reply->allocations->n_allocations == (size_t)c->sees[1] + c->sees[2] + c->sees[4]);
    ah_free (&reply);

    //  Resources: the shared pool, with cost and leave reasons for stewards only
    reply = ah_call (ah, "{\"get\":{\"kind\":\"ALLOCATOR_KIND_RESOURCE\",\"id\":\"%s\"}}", s_ann);
    ah_ok (reply);
    Pmo__Resource *r = reply->resource;
    assert (streq (r->name, "Ann Lee") && r->weekly_capacity_hours == 30);
    assert (r->n_exceptions == 1 && r->exceptions[0]->hours_off == 30);
    assert ((r->cost_rate != NULL) == c->cost_ann);
    assert (streq (r->exceptions[0]->reason, c->cost_ann ? "medical leave" : ""));
    ah_free (&reply);
    reply = ah_call (ah, "{\"list_resources\":{}}");
    ah_ok (reply);
    assert (reply->resources->n_resources == 3);
    for (size_t i = 0; i < 3; i++) {
        Pmo__Resource *rr = reply->resources->resources[i];
        bool steward = streq (rr->id, s_ann) ? c->cost_ann : c->cost_bob; //  Cat: as Bob
        assert ((rr->cost_rate != NULL) == steward);
    }
    assert (c->cost_ann || !s_mentions (reply, "medical leave"));
    ah_free (&reply);
    //  Matching: candidates with their free hours, cost only for stewards
    reply = ah_call (ah, "{\"match\":{\"skill\":\"java\",\"hours_per_week\":1,"
                         "\"start_week\":\"2026-W10\"}}");
    ah_ok (reply);
    assert (reply->match->n_candidates == 2);
    for (size_t i = 0; i < 2; i++) {
        Pmo__MatchCandidate *m = reply->match->candidates[i];
        bool steward = streq (m->resource_id, s_ann) ? c->cost_ann : c->cost_bob;
        assert ((m->cost_rate != NULL) == steward);
    }
    ah_free (&reply);

    //  Conflicts: Ann is over (32 h of 30); whoever sees one of her claims
    //  or stewards her sees it, hidden claims as one "booked elsewhere"
    reply = ah_call (ah, "{\"conflicts\":{}}");
    ah_ok (reply);
    Pmo__ConflictList *list = reply->conflicts;
    assert (list->n_conflicts == c->conflicts);
    for (size_t n = 0; n < list->n_conflicts; n++) {
        Pmo__AllocationConflict *conflict = list->conflicts[n];
        if (streq (conflict->resource_id, s_cat)) {
            assert (c->sees[4] && conflict->n_claims == 1);
            continue;
        }
        assert (streq (conflict->resource_id, s_ann) && conflict->n_claims == 2);
        uint32_t hours = 0;
        for (size_t i = 0; i < 2; i++) {
            Pmo__ConflictClaim *claim = conflict->claims[i];
            hours += claim->hours_per_week;
            if (pmo_str_empty (claim->allocation_id))
                assert (pmo_str_empty (claim->project_id) && pmo_str_empty (claim->project_code) &&
                        claim->project_priority == 0 && strstr (claim->why, "booked elsewhere"));
        }
        assert (hours == 32);
        printf ("%-22s conflict: %s\n", c->who, conflict->summary);
        for (size_t i = 0; i < 2; i++)
            printf ("%-22s   claim %s %u h: %s\n", c->who,
                    *conflict->claims[i]->project_code ? conflict->claims[i]->project_code : "-",
                    conflict->claims[i]->hours_per_week, conflict->claims[i]->why);
    }
    if (c->hidden_code)
        assert (!s_mentions (reply, c->hidden_code) && !s_mentions (reply, c->hidden_id));
    ah_free (&reply);
}

//  The portfolio report of the hub as the caller: what it covers, the
//  projects it counts, the over-allocated people, and in none of its three
//  forms a project the caller may not see
static void s_report (ah_t *ah, const caller_t *c, size_t projects, const char *covers)
{
    ah_as (ah, c->who, c->grants);
    portio_import_peer_t peer = {ah->rh->client, &ah->identity, 5000, 2, ah->client, NULL, NULL};
    char why[512];
    portio_report_t *report = portio_report_build (&peer, "hub", 0, why, sizeof why);
    assert (report);
    printf ("%-22s report of hub: %zu project(s), %zu over-allocated, covers %s\n", c->who,
            report->n_projects, report->n_overloads, report->covers);
    assert (report->n_projects == projects && streq (report->covers, covers));
    assert (report->n_overloads == c->conflicts);
    json_t *json = portio_report_json (report);
    char *text = json_dumps (json, 0);
    json_decref (json);
    size_t size;
    char *forms[3] = {text, portio_report_csv (report, "overallocated", false, &size),
                      portio_report_html (report, &size)};
    for (size_t i = 0; i < 3; i++) {
        if (c->hidden_code)
            assert (!strstr (forms[i], c->hidden_code) && !strstr (forms[i], c->hidden_id));
        //  Cat (ops, booked by ops only) never reaches a caller of fin
        assert (c->sees[4] || !strstr (forms[i], "Cat Ode"));
        free (forms[i]);
    }
    char *summary = portio_report_csv (report, "summary", false, &size);
    assert (strstr (summary, "covers,"));
    free (summary);
    portio_report_destroy (&report);
}

int main (void)
{
    //  From next week on: the report shows over-allocation from this week on
    time_t now = time (NULL);
    for (int i = 0; i < 2; i++) {
        time_t t = now + (i ? 21 : 7) * 86400;
        struct tm tm;
        gmtime_r (&t, &tm);
        strftime (i ? s_last : s_first, 16, "%G-W%V", &tm);
    }
    ah_t *ah = ah_start ();
    s_fixture (ah);
    //  (who, grants, sees ann/FIN-1 ann/OPS-1 bob/OPS-1 bob/FIN-1 cat/OPS-1,
    //  cost of Ann, of Bob and Cat, hours elsewhere on Ann, Bob, Cat,
    //  over-allocated people seen, the project never named)
    const caller_t callers[] = {
        {"viewer@fin",
         "viewer@fin",
         {true, false, false, true, false},
         false,
         false,
         12,
         30,
         15,
         1,
         "OPS-1",
         s_ops1},
        {"rm@fin",
         "resource_manager@fin",
         {true, true, false, true, false},
         true,
         false,
         0,
         30,
         15,
         1,
         NULL,
         NULL},
        {"pmo@ops",
         "pmo_manager@ops",
         {false, true, true, true, true},
         false,
         true,
         20,
         0,
         0,
         2,
         NULL,
         NULL},
        {"admin@hub",
         "admin@hub",
         {true, true, true, true, true},
         true,
         true,
         0,
         0,
         0,
         2,
         NULL,
         NULL},
    };
    for (size_t i = 0; i < sizeof callers / sizeof callers[0]; i++)
        s_check (ah, &callers[i]);
    s_report (ah, &callers[0], 1,
              "only fin of hub (the parts your grants reach): totals count nothing else, and "
              "people elsewhere only as hours");
    s_report (ah, &callers[2], 1,
              "only ops of hub (the parts your grants reach): totals count nothing else, and "
              "people elsewhere only as hours");
    s_report (ah, &callers[3], 2, "all of hub");
    //  The PMO manager of ops never sees FIN-1 named outside Bob's bookings:
    //  Ann's conflict shows it FIN-1's hours only
    ah_as (ah, "pmo@ops", "pmo_manager@ops");
    Pmo__AllocatorReply *reply = ah_call (ah, "{\"conflicts\":{\"org_unit\":\"fin\"}}");
    ah_ok (reply);
    assert (reply->conflicts->n_conflicts == 1 && !s_mentions (reply, "FIN-1") &&
            !s_mentions (reply, s_fin1));
    ah_free (&reply);
    //  Writes cannot probe ids either: a step on an allocation the caller
    //  may not see is not found, at the step's field; one it sees without a
    //  role to change it is forbidden
    ah_as (ah, "viewer@fin", "viewer@fin");
    const char *steps[] = {"release", "reject", "commit"};
    for (size_t i = 0; i < 3; i++) {
        reply =
            ah_call (ah, "{\"%s\":{\"allocation_id\":\"%s\",\"version\":1}}", steps[i], s_al[4]);
        char field[40];
        snprintf (field, sizeof field, "%s.allocation_id", steps[i]);
        ah_err (reply, NOT_FOUND, field);
        assert (!s_mentions (reply, s_ops1) && !s_mentions (reply, "OPS-1"));
        ah_free (&reply);
    }
    reply = ah_call (ah,
                     "{\"reshape\":{\"allocation_id\":\"%s\",\"version\":1,\"hours_per_week\":1,"
                     "\"reason\":\"probe\"}}",
                     s_al[4]);
    ah_err (reply, NOT_FOUND, "reshape.allocation_id");
    ah_free (&reply);
    reply = ah_call (ah, "{\"release\":{\"allocation_id\":\"%s\",\"version\":1}}", s_al[0]);
    ah_err (reply, FORBIDDEN, NULL);
    ah_free (&reply);
    //  No grant at all: nothing (the read right is checked first)
    ah_as (ah, "nobody", "");
    reply = ah_call (ah, "{\"list_allocations\":{}}");
    ah_err (reply, FORBIDDEN, NULL);
    ah_free (&reply);
    ah_stop (&ah);
    printf ("test_allocator_exposure: ok\n");
    return 0;
}
