/*  test_orgtree.c: the org-unit tree client against a real registry.

    Proves what every service relies on: a unit is usable as soon as it is
    created (a miss asks the registry, and "no such unit" is never kept),
    a unit's effective PMO type comes from the registry, a change is seen
    after an org-unit event invalidates the tree, the whole tree is read
    however large (the registry answers org units in one page today; the
    tree follows next_cursor should it page them, which the fed tree's
    test covers with pages of its own), a tree fed by a caller that cannot wait (the gateway's
    reactor) holds what the pages say and asks nothing itself, and a
    registry that does not answer is backed off from while what was read
    before still gives paths and units (held). The reader (orgtree_reader)
    keeps a tree fresh without waiting: it reads the whole tree over its
    own socket, gives up on a registry that does not answer and reads it
    again once it is back.
*/
#include "orgtree.h"
#include "orgtree_reader.h"
#include "registry_harness.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

static Pmo__Identity s_service;
static Pmo__Grant s_grant;
static Pmo__Grant *s_grants[1];

static orgtree_t *s_tree (rh_t *rh, int max_age_ms)
{
    pmo__identity__init (&s_service);
    pmo__grant__init (&s_grant);
    s_service.subject = "test-service";
    s_grant.role = PMO__ROLE__ROLE_ADMIN;
    s_grant.org_unit = "hub";
    s_grants[0] = &s_grant;
    s_service.grants = s_grants;
    s_service.n_grants = 1;
    orgtree_config_t config = {.registry = rh->endpoint,
                               .identity = &s_service,
                               //  a loaded machine's time (with 500 ms the
                               //  read of 523 units failed once at a load
                               //  of 25); only the dead-registry cases wait
                               //  it out
                               .timeout_ms = 2000,
                               .max_age_ms = max_age_ms};
    orgtree_t *tree = orgtree_new (&config);
    assert (tree);
    return tree;
}

static void s_unit_ok (rh_t *rh, const char *id, const char *kind, const char *parent,
                       const char *pmo_type)
{
    Pmo__RegistryReply *reply = rh_unit (rh, id, kind, parent, pmo_type);
    rh_ok (reply);
    rh_free (&reply);
}

static size_t s_count (orgtree_t *tree)
{
    size_t n = 0;
    while (orgtree_at (tree, n))
        n++;
    return n;
}

static void s_set_pmo_type (rh_t *rh, const char *id, Pmo__PmoType type)
{
    Pmo__RegistryReply *got = rh_get (rh, PMO__ENTITY_KIND__ENTITY_KIND_ORG_UNIT, id);
    rh_ok (got);
    Pmo__OrgUnit *unit = got->org_unit;
    unit->pmo_type = type;
    Pmo__RegistryRequest request = PMO__REGISTRY_REQUEST__INIT;
    request.body_case = PMO__REGISTRY_REQUEST__BODY_UPDATE_ORG_UNIT;
    request.update_org_unit = unit;
    Pmo__RegistryReply *reply = rh_call (rh, &request);
    rh_ok (reply);
    rh_free (&reply);
    rh_free (&got);
}

//  A unit created after the tree was read is found at once, and a unit
//  that did not exist is found once it does.
static void s_new_units_are_found_at_once (rh_t *rh)
{
    orgtree_t *tree = s_tree (rh, 60000);
    assert (orgtree_refresh (tree, true) == 0);
    assert (orgtree_path (tree, "hub") && streq (orgtree_path (tree, "hub"), "hub"));
    pmo_arena_t *arena = pmo_arena_new ();
    Pmo__OrgUnit *unit = NULL;
    assert (orgtree_unit (tree, "fin", arena, &unit) == 0 && !unit);
    assert (!orgtree_path (tree, "fin"));

    s_unit_ok (rh, "fin", "division", "hub", "controlling");
    assert (orgtree_unit (tree, "fin", arena, &unit) == 1);
    assert (streq (unit->path, "hub/fin") && streq (unit->division, "fin"));
    assert (orgtree_path (tree, "fin") && streq (orgtree_path (tree, "fin"), "hub/fin"));

    //  A department has no PMO of its own: the registry fills in its division's
    s_unit_ok (rh, "fin-ap", "department", "fin", NULL);
    assert (orgtree_unit (tree, "fin-ap", arena, &unit) == 1);
    assert (unit->effective_pmo_type == PMO__PMO_TYPE__PMO_TYPE_CONTROLLING);
    assert (streq (orgtree_division (tree, "fin-ap"), "fin"));

    //  Malformed ids are simply not units
    assert (orgtree_unit (tree, "NOT A SLUG", arena, &unit) == 0);
    assert (orgtree_unit (tree, "", arena, &unit) == 0);
    pmo_arena_destroy (&arena);
    orgtree_destroy (&tree);
}

//  A change is read again once the tree is invalidated (an org-unit event)
//  or the unit is older than max_age_ms, not before.
static void s_changes_are_seen_after_invalidation (rh_t *rh)
{
    orgtree_t *tree = s_tree (rh, 60000);
    pmo_arena_t *arena = pmo_arena_new ();
    Pmo__OrgUnit *unit = NULL;
    assert (orgtree_unit (tree, "fin-ap", arena, &unit) == 1);
    assert (unit->effective_pmo_type == PMO__PMO_TYPE__PMO_TYPE_CONTROLLING);
    uint64_t generation = orgtree_generation (tree);

    s_set_pmo_type (rh, "fin", PMO__PMO_TYPE__PMO_TYPE_DIRECTIVE);
    assert (orgtree_unit (tree, "fin-ap", arena, &unit) == 1);
    assert (unit->effective_pmo_type == PMO__PMO_TYPE__PMO_TYPE_CONTROLLING);
    assert (orgtree_generation (tree) == generation);

    orgtree_invalidate (tree);
    assert (orgtree_unit (tree, "fin-ap", arena, &unit) == 1);
    assert (unit->effective_pmo_type == PMO__PMO_TYPE__PMO_TYPE_DIRECTIVE);
    assert (orgtree_generation (tree) > generation);
    orgtree_destroy (&tree);

    //  With a short max age the change is seen without an event
    tree = s_tree (rh, 50);
    assert (orgtree_unit (tree, "fin-ap", arena, &unit) == 1);
    s_set_pmo_type (rh, "fin", PMO__PMO_TYPE__PMO_TYPE_SUPPORTIVE);
    zclock_sleep (60);
    assert (orgtree_unit (tree, "fin-ap", arena, &unit) == 1);
    assert (unit->effective_pmo_type == PMO__PMO_TYPE__PMO_TYPE_SUPPORTIVE);
    pmo_arena_destroy (&arena);
    orgtree_destroy (&tree);
}

//  The whole tree is read, more units than the registry's largest page of
//  other entities (500).
static void s_whole_tree_is_read (rh_t *rh)
{
    for (int i = 0; i < 520; i++) {
        char id[32];
        snprintf (id, sizeof id, "fin-d%03d", i);
        s_unit_ok (rh, id, "department", "fin", NULL);
    }
    orgtree_t *tree = s_tree (rh, 60000);
    assert (orgtree_refresh (tree, false) == 0);
    //  hub, fin, fin-ap and the 520 departments
    assert (s_count (tree) == 523);
    assert (streq (orgtree_path (tree, "fin-d519"), "hub/fin/fin-d519"));
    //  The divisions, the hub's included, once each
    size_t divisions = 0;
    bool hub = false, fin = false;
    for (const char *d; (d = orgtree_division_at (tree, divisions)); divisions++) {
        hub = hub || streq (d, "hub");
        fin = fin || streq (d, "fin");
    }
    assert (divisions == 2 && hub && fin);
    //  Fresh: a second refresh reads nothing and keeps the same units
    uint64_t generation = orgtree_generation (tree);
    assert (orgtree_refresh (tree, false) == 0);
    assert (orgtree_generation (tree) == generation);
    orgtree_destroy (&tree);

    //  Old but unchanged: the registry answers "not modified" (a whole read
    //  would store every unit again and move the generation); changed: the
    //  whole tree comes again
    tree = s_tree (rh, 1);
    assert (orgtree_refresh (tree, false) == 0);
    generation = orgtree_generation (tree);
    zclock_sleep (5);
    assert (orgtree_refresh (tree, false) == 0);
    assert (orgtree_generation (tree) == generation && s_count (tree) == 523);
    //  (any entry of the hub's stream moves the registry's generation)
    redisReply *moved =
        pmo_test_redis_command (rh->redis, "XADD pmo:{hub}:events * type test.moved data x");
    assert (moved && moved->type == REDIS_REPLY_STRING);
    freeReplyObject (moved);
    zclock_sleep (5);
    assert (orgtree_refresh (tree, false) == 0);
    assert (orgtree_generation (tree) > generation && s_count (tree) == 523);
    orgtree_destroy (&tree);
}

//  A page of a list of org units, as the registry answers (cursor: the
//  next page's, "" for the last).
typedef struct {
    Pmo__RegistryReply reply;
    Pmo__Page page;
    Pmo__OrgUnit unit;
    Pmo__OrgUnit *units[1];
} page_t;

static void s_page_init (page_t *page, const char *id, const char *path, const char *division,
                         const char *cursor)
{
    pmo__registry_reply__init (&page->reply);
    pmo__page__init (&page->page);
    pmo__org_unit__init (&page->unit);
    page->unit.id = (char *)id;
    page->unit.path = (char *)path;
    page->unit.division = (char *)division;
    page->units[0] = &page->unit;
    page->page.org_units = page->units;
    page->page.n_org_units = 1;
    page->page.next_cursor = (char *)cursor;
    page->reply.body_case = PMO__REGISTRY_REPLY__BODY_PAGE;
    page->reply.page = &page->page;
}

//  A tree made without a registry asks nothing: a caller that cannot wait
//  reads the pages itself and feeds them in. The tree changes only with
//  the last page, a read started again drops what the unfinished one
//  gathered, and an error reply leaves the tree as it was.
static void s_fed_tree_holds_what_the_pages_say (rh_t *rh)
{
    orgtree_config_t config = {.identity = &s_service};
    orgtree_t *tree = orgtree_new (&config);
    assert (tree);
    assert (!orgtree_path (tree, "hub") && !orgtree_backing_off (tree));
    assert (orgtree_refresh (tree, true) == -1 && !orgtree_backing_off (tree));

    //  The registry's own answer to the request the tree makes
    Pmo__ListRequest list;
    orgtree_list_page (tree, &list, NULL);
    assert (list.kind == PMO__ENTITY_KIND__ENTITY_KIND_ORG_UNIT && list.include_archived);
    Pmo__RegistryRequest request = PMO__REGISTRY_REQUEST__INIT;
    request.body_case = PMO__REGISTRY_REQUEST__BODY_LIST;
    request.list = &list;
    Pmo__RegistryReply *reply = rh_call (rh, &request);
    const char *cursor = "";
    assert (orgtree_feed (tree, reply, &cursor) == 1 && !cursor);
    rh_free (&reply);
    //  hub, fin, fin-ap and the 520 departments
    assert (s_count (tree) == 523);
    assert (streq (orgtree_path (tree, "fin-d519"), "hub/fin/fin-d519"));
    assert (streq (orgtree_division (tree, "fin-ap"), "fin"));
    uint64_t generation = orgtree_generation (tree);

    //  Pages: nothing changes before the last; a read started again drops
    //  the first read's pages
    page_t first, again, last;
    s_page_init (&first, "gone", "hub/gone", "gone", "c1");
    s_page_init (&again, "hub", "hub", "hub", "c2");
    s_page_init (&last, "ops", "hub/ops", "ops", "");
    orgtree_list_page (tree, &list, NULL);
    assert (orgtree_feed (tree, &first.reply, &cursor) == 0 && streq (cursor, "c1"));
    assert (s_count (tree) == 523 && orgtree_generation (tree) == generation);
    orgtree_list_page (tree, &list, NULL);
    assert (orgtree_feed (tree, &again.reply, &cursor) == 0 && streq (cursor, "c2"));
    orgtree_list_page (tree, &list, cursor);
    assert (streq (list.cursor, "c2"));
    assert (orgtree_feed (tree, &last.reply, &cursor) == 1);
    assert (s_count (tree) == 2 && orgtree_generation (tree) > generation);
    assert (streq (orgtree_path (tree, "ops"), "hub/ops"));
    assert (!orgtree_path (tree, "gone") && !orgtree_path (tree, "fin-ap"));
    generation = orgtree_generation (tree);

    //  An error reply changes nothing
    Pmo__RegistryReply refused = PMO__REGISTRY_REPLY__INIT;
    Pmo__Error error = PMO__ERROR__INIT;
    error.code = PMO__ERROR_CODE__ERROR_UNAVAILABLE;
    error.message = "down";
    refused.error = &error;
    orgtree_list_page (tree, &list, NULL);
    assert (orgtree_feed (tree, &refused, &cursor) == -1 && !cursor);
    assert (s_count (tree) == 2 && orgtree_generation (tree) == generation);
    //  A unit it does not hold is unknown for now, without asking
    assert (!orgtree_path (tree, "nowhere") && !orgtree_backing_off (tree));
    orgtree_destroy (&tree);
}

//  A project is read fresh each time, through the tree's client.
static void s_projects_are_read_fresh (rh_t *rh)
{
    orgtree_t *tree = s_tree (rh, 60000);
    pmo_arena_t *arena = pmo_arena_new ();
    Pmo__RegistryReply *reply = rh_project (rh, "FIN-1", "fin-ap");
    rh_ok (reply);
    char *id = strdup (reply->project->id);
    rh_free (&reply);
    Pmo__Project *project = NULL;
    assert (orgtree_project (tree, id, arena, &project) == 1);
    assert (streq (project->code, "FIN-1") && streq (project->org_unit_path, "hub/fin/fin-ap"));
    //  No such project, a malformed id, no id: none
    assert (orgtree_project (tree, "pj_fin_999999", arena, &project) == 0 && !project);
    assert (orgtree_project (tree, "NOT AN ID", arena, &project) == 0);
    assert (orgtree_project (tree, "", arena, &project) == 0);
    //  A dead registry: -1, then backed off from
    rh_actor_stop (rh);
    assert (orgtree_project (tree, id, arena, &project) == -1 && orgtree_backing_off (tree));
    assert (orgtree_project (tree, id, arena, &project) == -1);
    rh_actor_start (rh);
    free (id);
    pmo_arena_destroy (&arena);
    orgtree_destroy (&tree);
}

//  A registry that does not answer is backed off from; what the tree holds
//  still gives paths; it is asked again once it is back.
static void s_dead_registry_is_backed_off_from (rh_t *rh)
{
    orgtree_t *tree = s_tree (rh, 60000);
    assert (orgtree_refresh (tree, true) == 0);
    rh_actor_stop (rh);
    pmo_arena_t *arena = pmo_arena_new ();
    Pmo__OrgUnit *unit = NULL;
    assert (!orgtree_backing_off (tree));
    assert (orgtree_unit (tree, "ops", arena, &unit) == -1);
    assert (orgtree_backing_off (tree));
    //  While backing off nothing is sent: the answer is the same, at once
    assert (orgtree_unit (tree, "ops", arena, &unit) == -1);
    assert (orgtree_refresh (tree, true) == -1);
    assert (streq (orgtree_path (tree, "fin-ap"), "hub/fin/fin-ap"));
    //  What it holds is there without asking; what it does not, is not
    const Pmo__OrgUnit *held = orgtree_held (tree, "fin");
    assert (held && streq (held->path, "hub/fin"));
    assert (held->pmo_type == PMO__PMO_TYPE__PMO_TYPE_SUPPORTIVE);
    assert (!orgtree_held (tree, "ops") && !orgtree_held (tree, "") && !orgtree_held (tree, NULL));
    //  A request that may be answered from the tree: what it holds, marked
    //  stale; what it does not hold is still unanswered
    bool stale = false;
    assert (orgtree_unit_or_held (tree, "fin", arena, &unit, &stale) == 1);
    assert (stale && streq (unit->path, "hub/fin"));
    assert (orgtree_unit_or_held (tree, "ops", arena, &unit, &stale) == -1);

    rh_actor_start (rh);
    s_unit_ok (rh, "ops", "division", "hub", "supportive");
    int rc = -1;
    for (int tries = 0; tries < 200 && rc != 1; tries++) {
        rc = orgtree_unit (tree, "ops", arena, &unit);
        if (rc != 1)
            zclock_sleep (50);
    }
    assert (rc == 1 && streq (unit->path, "hub/ops"));
    assert (!orgtree_backing_off (tree));
    //  The registry answers again: read now, not stale
    stale = true;
    assert (orgtree_unit_or_held (tree, "fin", arena, &unit, &stale) == 1);
    assert (!stale && streq (unit->path, "hub/fin"));
    pmo_arena_destroy (&arena);
    orgtree_destroy (&tree);
}

//  Drive a reader as a service loop does (poll its socket, call due when
//  its time comes) until a whole read completes or, with give_up, until
//  an ask was given up (nothing awaited, the next ask later). Returns
//  whether a read completed; aborts after 20 s.
static bool s_reader_run (orgtree_reader_t *reader, bool give_up)
{
    zpoller_t *poller = zpoller_new (orgtree_reader_socket (reader), NULL);
    bool asked = false, completed = false;
    for (int i = 0; i < 400 && !completed; i++) {
        int64_t now = pmo_mono_ms ();
        if (now >= orgtree_reader_next_ms (reader)) {
            if (asked && give_up && !*orgtree_reader_awaits (reader))
                break; //  the ask was given up (or could not be sent) and is due again
            orgtree_reader_due (reader);
            asked = true;
        }
        if (zpoller_wait (poller, 50))
            completed = orgtree_reader_take (reader);
        if (give_up && asked && !*orgtree_reader_awaits (reader) &&
            orgtree_reader_next_ms (reader) > pmo_mono_ms ())
            break;
    }
    zpoller_destroy (&poller);
    assert (completed || give_up);
    return completed;
}

//  The reader reads the whole tree without waiting, and a registry that
//  does not answer costs staleness only: what the tree held stays, and it
//  is read again once the registry is back.
static void s_reader_never_waits (rh_t *rh)
{
    orgtree_t *tree = s_tree (rh, 60000);
    orgtree_reader_config_t config = {.registry = rh->endpoint,
                                      .identity = &s_service,
                                      .timeout_ms = 500,
                                      .refresh_ms = 60000,
                                      .retry_ms = 200,
                                      .name = "test"};
    orgtree_reader_t *reader = orgtree_reader_new (tree, &config);
    assert (reader && !orgtree_reader_read_once (reader));
    assert (orgtree_reader_next_ms (reader) <= pmo_mono_ms ()); //  asks at once
    uint64_t generation = orgtree_generation (tree);
    assert (s_reader_run (reader, false));
    assert (orgtree_reader_read_once (reader) && orgtree_generation (tree) != generation);
    const Pmo__OrgUnit *held = orgtree_held (tree, "fin-ap");
    assert (held && streq (held->path, "hub/fin/fin-ap"));
    //  Read: the next read comes after refresh_ms
    assert (orgtree_reader_next_ms (reader) > pmo_mono_ms () + 30000);

    //  The registry stops; a unit changed (an org-unit event): read now,
    //  which is given up, and what was held stays
    rh_actor_stop (rh);
    orgtree_reader_now (reader);
    assert (orgtree_reader_next_ms (reader) <= pmo_mono_ms ());
    assert (!s_reader_run (reader, true));
    held = orgtree_held (tree, "fin-ap");
    assert (held && streq (held->path, "hub/fin/fin-ap"));
    //  ... and asked again after retry_ms, not refresh_ms
    assert (orgtree_reader_next_ms (reader) <= pmo_mono_ms () + 200);

    //  Back: a unit made meanwhile is in the tree after the next read
    rh_actor_start (rh);
    s_unit_ok (rh, "ops-r", "division", "hub", "supportive");
    bool seen = false;
    for (int tries = 0; tries < 20 && !seen; tries++) {
        if (s_reader_run (reader, true))
            seen = orgtree_held (tree, "ops-r") != NULL;
        else
            zclock_sleep (100);
    }
    assert (seen && streq (orgtree_held (tree, "ops-r")->path, "hub/ops-r"));
    orgtree_reader_destroy (&reader);
    orgtree_destroy (&tree);
}

int main (void)
{
    rh_t *rh = rh_start ();
    s_unit_ok (rh, "hub", "enterprise", NULL, "controlling");
    s_new_units_are_found_at_once (rh);
    s_changes_are_seen_after_invalidation (rh);
    s_whole_tree_is_read (rh);
    s_fed_tree_holds_what_the_pages_say (rh);
    s_projects_are_read_fresh (rh);
    s_dead_registry_is_backed_off_from (rh);
    s_reader_never_waits (rh);
    rh_stop (&rh);
    printf ("test_orgtree: ok\n");
    return 0;
}
