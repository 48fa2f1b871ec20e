/*  test_allocator_model.c: the allocator's pure rules: ISO weeks, windows,
    validation, who may do what, the state machine, capacity with calendar
    exceptions, over-allocation (strictly greater), approval by PMO type,
    and the in-memory index: ranking with explanations, the shortfall,
    capacity views and conflicts.
*/
#include "allocator_index.h"
#include "allocator_model.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

//  czmq defines it too when the model's headers bring it in
#ifndef streq
#define streq(a, b) (strcmp ((a), (b)) == 0)
#endif

static int32_t s_w (const char *text)
{
    int32_t week;
    assert (allocator_week_parse (text, &week) == 0);
    return week;
}

static void s_test_weeks (void)
{
    char buf[16];
    assert (s_w ("2000-W01") == 0);
    assert (s_w ("2000-W02") == 1);
    //  2020 has 53 ISO weeks, 2021 has 52
    assert (s_w ("2021-W01") == s_w ("2020-W53") + 1);
    int32_t w;
    assert (allocator_week_parse ("2021-W53", &w) == -1);
    assert (allocator_week_parse ("2026-W00", &w) == -1);
    assert (allocator_week_parse ("1999-W10", &w) == -1);
    assert (allocator_week_parse ("2100-W01", &w) == -1);
    assert (allocator_week_parse ("2026W14", &w) == -1);
    assert (allocator_week_parse ("2026-w14", &w) == -1);
    assert (allocator_week_parse ("2026-03-30", &w) == -1);
    assert (allocator_week_parse (NULL, &w) == -1);
    //  Round trip over the whole range
    for (int32_t i = 0; i < 5200; i++) {
        allocator_week_format (i, buf, sizeof buf);
        assert (s_w (buf) == i);
    }
    assert (streq (allocator_week_format (s_w ("2026-W14"), buf, sizeof buf), "2026-W14"));
    //  Monday 30 March 2026 is in 2026-W14; Sunday 3 January 2021 in 2020-W53
    assert (allocator_week_of_ms (1774828800000LL) == s_w ("2026-W14"));
    assert (allocator_week_of_ms (1609632000000LL) == s_w ("2020-W53"));

    pmo_problem_t p;
    int32_t first, last;
    assert (allocator_check_window ("2026-W10", "2026-W12", "start_week", "end_week", 104, &first,
                                    &last, &p) == 0);
    assert (last - first == 2);
    assert (allocator_check_window ("2026-W10", "", "s", "e", 104, &first, &last, &p) == 0);
    assert (first == last);
    assert (allocator_check_window ("2026-W12", "2026-W10", "s", "e", 104, &first, &last, &p));
    assert (streq (p.field, "e") && p.code == PMO__ERROR_CODE__ERROR_INVALID);
    assert (allocator_check_window ("2026-W01", "2028-W10", "s", "e", 104, &first, &last, &p));
    assert (strstr (p.message, "at most 104"));
    assert (allocator_check_window ("", "2026-W10", "s", "e", 104, &first, &last, &p));
    assert (streq (p.field, "s"));
    printf ("weeks: ok\n");
}

static void s_test_validation (void)
{
    pmo_problem_t p;
    char name[40] = "C++";
    assert (allocator_name_normalize (name) == 0 && streq (name, "c++"));
    char bad[40] = "no spaces";
    assert (allocator_name_normalize (bad) == -1);

    Pmo__ResourceSkill java = PMO__RESOURCE_SKILL__INIT;
    java.name = (char[]){"Java"};
    java.level = 4;
    Pmo__ResourceSkill *skills[] = {&java};
    Pmo__CalendarException leave = PMO__CALENDAR_EXCEPTION__INIT;
    leave.start_week = "2026-W14";
    leave.end_week = "2026-W15";
    leave.hours_off = 40;
    Pmo__CalendarException holiday = PMO__CALENDAR_EXCEPTION__INIT;
    holiday.start_week = "2026-W15";
    holiday.hours_off = 8;
    Pmo__CalendarException *exceptions[] = {&leave, &holiday};
    Pmo__Resource r = PMO__RESOURCE__INIT;
    r.name = "Ann";
    r.role = (char[]){"Developer"};
    r.home_org_unit = "fin";
    r.weekly_capacity_hours = 37;
    r.skills = skills;
    r.n_skills = 1;
    r.exceptions = exceptions;
    r.n_exceptions = 2;
    assert (allocator_check_resource (&r, &p) == 0);
    assert (streq (r.role, "developer") && streq (java.name, "java"));
    assert (r.kind == PMO__RESOURCE_KIND__RESOURCE_KIND_PERSON);
    //  A name is one line, without controls or bidi overrides
    r.name = "Ann\tB";
    assert (allocator_check_resource (&r, &p) && streq (p.field, "name") &&
            strstr (p.message, "control character"));
    r.name = "Ann \xe2\x81\xa6"
             "B";
    assert (allocator_check_resource (&r, &p) && streq (p.field, "name") &&
            strstr (p.message, "bidirectional"));
    r.name = "Ann";
    r.weekly_capacity_hours = 169;
    assert (allocator_check_resource (&r, &p) && streq (p.field, "weekly_capacity_hours"));
    r.weekly_capacity_hours = 37;
    java.level = 6;
    assert (allocator_check_resource (&r, &p) && streq (p.field, "skills[0].level"));
    java.level = 4;
    holiday.start_week = "2026-W99";
    assert (allocator_check_resource (&r, &p) && streq (p.field, "exceptions[1].start_week"));
    holiday.start_week = "2026-W15";
    holiday.hours_off = 0;
    assert (allocator_check_resource (&r, &p) && streq (p.field, "exceptions[1].hours_off"));
    holiday.hours_off = 8;

    //  Capacity: weekly minus every exception covering the week, not below 0
    assert (allocator_capacity_in_week (&r, s_w ("2026-W13")) == 37);
    assert (allocator_capacity_in_week (&r, s_w ("2026-W14")) == 0);
    assert (allocator_capacity_in_week (&r, s_w ("2026-W15")) == 0);
    leave.hours_off = 16;
    assert (allocator_capacity_in_week (&r, s_w ("2026-W14")) == 21);
    assert (allocator_capacity_in_week (&r, s_w ("2026-W15")) == 13);

    Pmo__AllocationRequest rq = PMO__ALLOCATION_REQUEST__INIT;
    int32_t first, last;
    rq.project_id = "pr_fin_1";
    rq.skill = (char[]){"java"};
    rq.hours_per_week = 20;
    rq.start_week = "2026-W10";
    rq.end_week = "2026-W12";
    assert (allocator_check_request (&rq, &first, &last, &p) == 0);
    rq.hours_per_week = 0;
    assert (allocator_check_request (&rq, &first, &last, &p) && streq (p.field, "hours_per_week"));
    rq.hours_per_week = 169;
    assert (allocator_check_request (&rq, &first, &last, &p) && streq (p.field, "hours_per_week"));
    rq.hours_per_week = 20;
    rq.end_week = "2026-W09";
    assert (allocator_check_request (&rq, &first, &last, &p) && streq (p.field, "end_week"));
    rq.end_week = "2026-W12";
    rq.skill = "";
    assert (allocator_check_request (&rq, &first, &last, &p) && streq (p.field, "resource_id"));
    rq.skill = (char[]){"java"};
    rq.min_level = 6;
    assert (allocator_check_request (&rq, &first, &last, &p) && streq (p.field, "min_level"));
    printf ("validation: ok\n");
}

static void s_test_access_and_states (void)
{
    Pmo__Grant g[2] = {PMO__GRANT__INIT, PMO__GRANT__INIT};
    Pmo__Grant *ptrs[] = {&g[0], &g[1]};
    Pmo__Identity who = PMO__IDENTITY__INIT;
    who.subject = "x";
    who.grants = ptrs;
    who.n_grants = 1;
    g[0].role = PMO__ROLE__ROLE_RESOURCE_MANAGER;
    g[0].org_unit = "fin";
    assert (allocator_role_for (&who, ALLOCATOR_RESOURCE, "hub/fin/fin-it"));
    assert (!allocator_role_for (&who, ALLOCATOR_RESOURCE, "hub/ops"));
    assert (!allocator_role_for (&who, ALLOCATOR_PROJECT, "hub/fin"));
    assert (allocator_role_for (&who, ALLOCATOR_READ, "hub/ops"));
    g[0].role = PMO__ROLE__ROLE_PROJECT_MANAGER;
    assert (allocator_role_for (&who, ALLOCATOR_PROJECT, "hub/fin") ==
            PMO__ROLE__ROLE_PROJECT_MANAGER);
    assert (!allocator_role_for (&who, ALLOCATOR_RESOURCE, "hub/fin"));
    //  The narrower role is the one recorded
    who.n_grants = 2;
    g[1].role = PMO__ROLE__ROLE_ADMIN;
    g[1].org_unit = "hub";
    g[0].role = PMO__ROLE__ROLE_PMO_MANAGER;
    assert (allocator_role_for (&who, ALLOCATOR_RESOURCE, "hub/fin") ==
            PMO__ROLE__ROLE_PMO_MANAGER);
    who.n_grants = 0;
    assert (!allocator_role_for (&who, ALLOCATOR_READ, "hub"));

    Pmo__AllocationState R = PMO__ALLOCATION_STATE__ALLOCATION_STATE_REQUESTED,
                         P = PMO__ALLOCATION_STATE__ALLOCATION_STATE_PROPOSED,
                         C = PMO__ALLOCATION_STATE__ALLOCATION_STATE_COMMITTED,
                         L = PMO__ALLOCATION_STATE__ALLOCATION_STATE_RELEASED,
                         J = PMO__ALLOCATION_STATE__ALLOCATION_STATE_REJECTED;
    assert (allocator_transition_allowed (R, P) && allocator_transition_allowed (P, C));
    assert (allocator_transition_allowed (C, L) && allocator_transition_allowed (R, J));
    assert (allocator_transition_allowed (P, J) && allocator_transition_allowed (P, L));
    assert (!allocator_transition_allowed (R, C) && !allocator_transition_allowed (C, J));
    assert (!allocator_transition_allowed (L, C) && !allocator_transition_allowed (J, P));
    assert (!allocator_transition_allowed (C, P) && !allocator_transition_allowed (R, L));
    printf ("access and states: ok\n");
}

static void s_test_over_and_approval (void)
{
    Pmo__Resource r = PMO__RESOURCE__INIT;
    r.weekly_capacity_hours = 40;
    Pmo__Booking a = PMO__BOOKING__INIT, b = PMO__BOOKING__INIT, c = PMO__BOOKING__INIT;
    a.state = b.state = PMO__ALLOCATION_STATE__ALLOCATION_STATE_COMMITTED;
    c.state = PMO__ALLOCATION_STATE__ALLOCATION_STATE_PROPOSED;
    a.hours_per_week = 20;
    a.start_week = 10;
    a.end_week = 19;
    b.hours_per_week = 20;
    b.start_week = 15;
    b.end_week = 24;
    c.hours_per_week = 30;
    c.start_week = 10;
    c.end_week = 30;
    Pmo__Booking *bookings[] = {&a, &b, &c};
    Pmo__BookingLedger ledger = PMO__BOOKING_LEDGER__INIT;
    ledger.bookings = bookings;
    ledger.n_bookings = 3;
    pmo_arena_t *arena = pmo_arena_new ();
    allocator_over_week_t *over;
    //  Exactly full (40 of 40) is not over; proposed hours do not count
    assert (allocator_over_weeks (&r, &ledger, arena, &over) == 0);
    b.hours_per_week = 21;
    size_t n = allocator_over_weeks (&r, &ledger, arena, &over);
    assert (n == 5 && over[0].week == 15 && over[4].week == 19 && over[0].committed == 41);
    pmo_arena_destroy (&arena);

    allocator_approval_t ap;
    allocator_approval (PMO__PMO_TYPE__PMO_TYPE_DIRECTIVE, "mod", false, "", false, "", &ap);
    assert (ap.needed && strstr (ap.reason, "directive") && ap.n_warnings == 0);
    allocator_approval (PMO__PMO_TYPE__PMO_TYPE_CONTROLLING, "ops", false, "", false, "", &ap);
    assert (!ap.needed);
    allocator_approval (PMO__PMO_TYPE__PMO_TYPE_CONTROLLING, "ops", true, "over!", false, "", &ap);
    assert (ap.needed && strstr (ap.reason, "over-allocate") && ap.n_warnings == 1);
    allocator_approval (PMO__PMO_TYPE__PMO_TYPE_CONTROLLING, "ops", false, "", true, "cross!", &ap);
    assert (ap.needed && strstr (ap.reason, "cross divisions"));
    allocator_approval (PMO__PMO_TYPE__PMO_TYPE_SUPPORTIVE, "fin", true, "over!", true, "x", &ap);
    assert (!ap.needed && ap.n_warnings == 2 && streq (ap.warnings[0], "over!"));
    allocator_approval (PMO__PMO_TYPE__PMO_TYPE_NONE, "fin", true, "over!", false, "", &ap);
    assert (!ap.needed && ap.n_warnings == 1);
    printf ("over-allocation and approval: ok\n");
}

//  A resource snapshot for the index.
static void s_put_resource (allocator_index_t *ix, const char *id, const char *division,
                            const char *path, const char *skill, uint32_t level, uint32_t capacity,
                            int64_t cost)
{
    Pmo__ResourceSkill s = PMO__RESOURCE_SKILL__INIT;
    s.name = (char *)skill;
    s.level = level;
    Pmo__ResourceSkill *skills[] = {&s};
    Pmo__Money money = PMO__MONEY__INIT;
    money.minor = cost;
    money.currency = "GBP";
    Pmo__Resource r = PMO__RESOURCE__INIT;
    r.id = (char *)id;
    r.name = (char *)id;
    r.role = "developer";
    r.division = (char *)division;
    r.home_org_unit_path = (char *)path;
    r.home_org_unit = strrchr (path, '/') + 1;
    r.weekly_capacity_hours = capacity;
    r.skills = skills;
    r.n_skills = 1;
    r.cost_rate = &money;
    r.version = 1;
    allocator_index_put_resource (ix, &r);
}

static void s_put_allocation (allocator_index_t *ix, const char *id, const char *resource,
                              const char *project, uint32_t priority, const char *state,
                              uint32_t hours, const char *start, const char *end, uint64_t version)
{
    Pmo__Allocation a = PMO__ALLOCATION__INIT;
    a.id = (char *)id;
    a.division = "fin";
    a.resource_id = (char *)resource;
    a.project_id = (char *)project;
    a.project_code = (char *)project;
    a.project_priority = priority;
    a.project_org_unit_path = "hub/fin";
    a.skill = "java";
    a.hours_per_week = hours;
    a.start_week = (char *)start;
    a.end_week = (char *)end;
    a.state = streq (state, "committed")  ? PMO__ALLOCATION_STATE__ALLOCATION_STATE_COMMITTED
              : streq (state, "proposed") ? PMO__ALLOCATION_STATE__ALLOCATION_STATE_PROPOSED
              : streq (state, "released") ? PMO__ALLOCATION_STATE__ALLOCATION_STATE_RELEASED
                                          : PMO__ALLOCATION_STATE__ALLOCATION_STATE_REQUESTED;
    a.version = version;
    allocator_index_put_allocation (ix, &a);
}

static void s_test_index (void)
{
    allocator_index_t *ix = allocator_index_new (40);
    pmo_arena_t *arena = pmo_arena_new ();
    s_put_resource (ix, "rs_fin_1", "fin", "hub/fin", "java", 5, 40, 9000);
    s_put_resource (ix, "rs_fin_2", "fin", "hub/fin", "java", 3, 40, 5000);
    s_put_resource (ix, "rs_ops_1", "ops", "hub/ops", "java", 4, 40, 4000);
    s_put_resource (ix, "rs_ops_2", "ops", "hub/ops", "python", 5, 40, 4000);
    //  An allocation before its resource is known is kept and booked later
    s_put_allocation (ix, "al_fin_9", "rs_fin_3", "P9", 3, "committed", 10, "2026-W10", "2026-W10",
                      1);
    s_put_resource (ix, "rs_fin_3", "fin", "hub/fin/fin-it", "java", 2, 20, 3000);
    //  rs_fin_1 is busy 30 h in W11
    s_put_allocation (ix, "al_fin_1", "rs_fin_1", "P1", 2, "committed", 30, "2026-W11", "2026-W11",
                      1);
    allocator_match_query_t q = {.skill = "java",
                                 .min_level = 3,
                                 .hours = 20,
                                 .first = s_w ("2026-W10"),
                                 .last = s_w ("2026-W12"),
                                 .division = "fin",
                                 .limit = 10};
    Pmo__MatchResult *m = allocator_index_match (ix, &q, arena);
    //  Level 3+: rs_fin_1 (short in W11), rs_fin_2, rs_ops_1; rs_fin_3 is level 2
    assert (m->considered == 3 && m->fits && m->n_candidates == 3);
    //  Both fitting candidates rank above the busy one; same division beats cheaper
    assert (streq (m->candidates[0]->resource_id, "rs_fin_2"));
    assert (streq (m->candidates[1]->resource_id, "rs_ops_1"));
    assert (streq (m->candidates[2]->resource_id, "rs_fin_1"));
    assert (!m->candidates[2]->fits && m->candidates[2]->weeks_covered == 2);
    assert (m->candidates[2]->min_free_hours == 10);
    assert (strstr (m->candidates[2]->explanation, "short in 1 of 3 weeks"));
    assert (strstr (m->candidates[0]->explanation, "in the project's division"));
    assert (strstr (m->candidates[1]->explanation, "from division ops"));
    assert (strstr (m->candidates[1]->explanation, "below #1"));
    //  Re-applying an older or equal snapshot changes nothing
    s_put_allocation (ix, "al_fin_1", "rs_fin_1", "P1", 2, "released", 30, "2026-W11", "2026-W11",
                      1);
    m = allocator_index_match (ix, &q, arena);
    assert (!m->candidates[2]->fits);
    //  Nobody has 45 h: the shortfall by week
    q.hours = 45;
    m = allocator_index_match (ix, &q, arena);
    assert (!m->fits && m->n_shortfall == 3);
    assert (m->shortfall[1]->best_free_hours == 40 && m->shortfall[1]->shortfall_hours == 5);
    assert (m->shortfall[1]->total_free_hours == 90);
    assert (streq (m->shortfall[0]->week, "2026-W10"));
    //  A pool limits the candidates
    q.hours = 20;
    q.pool_unit = "ops";
    m = allocator_index_match (ix, &q, arena);
    assert (m->considered == 1 && streq (m->candidates[0]->resource_id, "rs_ops_1"));
    q.pool_unit = NULL;
    q.skill = "cobol";
    m = allocator_index_match (ix, &q, arena);
    assert (m->considered == 0 && !m->fits && strstr (m->summary, "nobody"));

    //  Over-allocate rs_fin_2 in W12: 30 + 20 committed of 40
    s_put_allocation (ix, "al_fin_2", "rs_fin_2", "P2", 4, "committed", 30, "2026-W12", "2026-W13",
                      1);
    s_put_allocation (ix, "al_fin_3", "rs_fin_2", "P1", 2, "committed", 20, "2026-W12", "2026-W12",
                      1);
    s_put_allocation (ix, "al_fin_4", "", "P3", 3, "requested", 8, "2026-W12", "2026-W12", 1);
    size_t too_many;
    Pmo__CapacityView *v = allocator_index_capacity (ix, "fin", s_w ("2026-W10"), s_w ("2026-W12"),
                                                     NULL, false, 10, arena, &too_many);
    assert (v && v->n_weeks == 3 && v->total->resources == 3);
    assert (v->total->cells[0]->capacity_hours == 100);
    assert (v->total->cells[0]->committed_hours == 10);
    assert (v->total->cells[2]->committed_hours == 50 && v->total->cells[2]->unfilled_hours == 8);
    assert (v->n_skills == 1 && streq (v->skills[0]->skill, "java"));
    assert (v->skills[0]->cells[2]->utilisation_pct == 50.0);
    assert (v->total->cells[0]->capacity_fte == 2.5);
    v = allocator_index_capacity (ix, "fin", s_w ("2026-W10"), s_w ("2026-W12"), NULL, true, 2,
                                  arena, &too_many);
    assert (!v && too_many == 3);
    Pmo__ConflictList *c = allocator_index_conflicts (ix, NULL, INT32_MIN, INT32_MAX, NULL, arena);
    assert (c->n_conflicts == 1 && streq (c->conflicts[0]->resource_id, "rs_fin_2"));
    assert (c->conflicts[0]->n_weeks == 1 && c->conflicts[0]->weeks[0]->over_by_hours == 10);
    assert (c->conflicts[0]->n_claims == 2);
    assert (streq (c->conflicts[0]->claims[0]->project_id, "P1"));
    assert (c->conflicts[0]->claims[0]->prevails && !c->conflicts[0]->claims[1]->prevails);
    assert (strstr (c->conflicts[0]->claims[1]->why, "lower than P1's 2"));
    //  Releasing clears it at once
    s_put_allocation (ix, "al_fin_3", "rs_fin_2", "P1", 2, "released", 20, "2026-W12", "2026-W12",
                      2);
    c = allocator_index_conflicts (ix, NULL, INT32_MIN, INT32_MAX, NULL, arena);
    assert (c->n_conflicts == 0);
    //  Lists page in a stable order
    allocator_resource_filter_t f = {.skill = "java"};
    char **ids, *next;
    size_t n = allocator_index_list_resources (ix, &f, NULL, 2, arena, &ids, &next);
    assert (n == 2 && streq (ids[0], "rs_fin_1") && streq (ids[1], "rs_fin_2") && next);
    n = allocator_index_list_resources (ix, &f, next, 2, arena, &ids, &next);
    assert (n == 2 && streq (ids[0], "rs_fin_3") && streq (ids[1], "rs_ops_1") && !next);
    pmo_arena_destroy (&arena);
    allocator_index_destroy (&ix);
    printf ("index: ok\n");
}

int main (void)
{
    s_test_weeks ();
    s_test_validation ();
    s_test_access_and_states ();
    s_test_over_and_approval ();
    s_test_index ();
    return 0;
}
