/*  test_orgtree.c: the org-unit tree client against a real registry.

    Proves what every service relies on: a unit is usable as soon as it is
    created (a miss asks the registry, and "no such unit" is never kept),
    a unit's effective PMO type comes from the registry, a change is seen
    after an org-unit event invalidates the tree, the whole tree is read
    past one page, and a registry that does not answer is backed off from
    while what was read before still gives paths and units (held).
*/
#include "orgtree.h"
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
                               .timeout_ms = 500,
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

//  The whole tree is read past the registry's largest page (500).
static void s_whole_tree_is_read_past_one_page (rh_t *rh)
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
    pmo_arena_destroy (&arena);
    orgtree_destroy (&tree);
}

int main (void)
{
    rh_t *rh = rh_start ();
    s_unit_ok (rh, "hub", "enterprise", NULL, "controlling");
    s_new_units_are_found_at_once (rh);
    s_changes_are_seen_after_invalidation (rh);
    s_whole_tree_is_read_past_one_page (rh);
    s_dead_registry_is_backed_off_from (rh);
    rh_stop (&rh);
    printf ("test_orgtree: ok\n");
    return 0;
}
