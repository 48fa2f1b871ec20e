/*  test_access.c: the one access rule (pmo_access) and the request helpers
    every handler uses (pmo_request). */
#include "pmo_request.h"
#include "registry.pb-c.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

enum { READ = 1, WRITE = 2, DECIDE = 4 };

static const pmo_role_table_t s_table = {.actions = {
                                             [PMO__ROLE__ROLE_ADMIN] = READ | WRITE | DECIDE,
                                             [PMO__ROLE__ROLE_PMO_MANAGER] = READ | WRITE,
                                             [PMO__ROLE__ROLE_SPONSOR] = READ | DECIDE,
                                             [PMO__ROLE__ROLE_VIEWER] = READ,
                                         }};

static Pmo__Grant s_grants[4];
static Pmo__Grant *s_grant_ptrs[4];
static Pmo__Identity s_who;

//  An identity with grants "role@unit" (Pmo__Role values), n of them.
static const Pmo__Identity *s_identity (size_t n, const Pmo__Role *roles, const char **units)
{
    pmo__identity__init (&s_who);
    s_who.subject = "ann";
    for (size_t i = 0; i < n; i++) {
        pmo__grant__init (&s_grants[i]);
        s_grants[i].role = roles[i];
        s_grants[i].org_unit = (char *)units[i];
        s_grant_ptrs[i] = &s_grants[i];
    }
    s_who.grants = s_grant_ptrs;
    s_who.n_grants = n;
    return &s_who;
}

static void s_paths (void)
{
    assert (pmo_path_contains ("hub/dft/dft-rail", "hub"));
    assert (pmo_path_contains ("hub/dft/dft-rail", "dft"));
    assert (pmo_path_contains ("hub/dft/dft-rail", "dft-rail"));
    //  Whole components only: a prefix or a suffix of one is not it
    assert (!pmo_path_contains ("hub/dft/dft-rail", "df"));
    assert (!pmo_path_contains ("hub/dft/dft-rail", "rail"));
    assert (!pmo_path_contains ("hub/dft/dft-rail", "hub/dft"));
    assert (!pmo_path_contains ("hub/dft", ""));
    assert (!pmo_path_contains (NULL, "hub"));
    assert (!pmo_path_contains ("hub", NULL));
    assert (pmo_path_position ("hub/dft/dft-rail", "hub") == 0);
    assert (pmo_path_position ("hub/dft/dft-rail", "dft-rail") == 2);
    assert (pmo_path_position ("hub/dft/dft-rail", "mod") == -1);
    assert (pmo_path_depth ("hub/dft/dft-rail") == 3);
    assert (pmo_path_depth ("hub") == 1);
    assert (pmo_path_depth ("") == 0 && pmo_path_depth (NULL) == 0);
}

static void s_roles (void)
{
    //  A grant covers its unit's subtree, not its parent or siblings
    Pmo__Role manager[] = {PMO__ROLE__ROLE_PMO_MANAGER};
    const char *dft[] = {"dft"};
    const Pmo__Identity *who = s_identity (1, manager, dft);
    assert (pmo_access_role (who, &s_table, WRITE, "hub/dft/dft-rail") ==
            PMO__ROLE__ROLE_PMO_MANAGER);
    assert (pmo_access_role (who, &s_table, WRITE, "hub") == PMO__ROLE__ROLE_UNSPECIFIED);
    assert (pmo_access_role (who, &s_table, WRITE, "hub/mod") == PMO__ROLE__ROLE_UNSPECIFIED);
    //  The role must allow every bit asked for
    assert (pmo_access_role (who, &s_table, DECIDE, "hub/dft") == PMO__ROLE__ROLE_UNSPECIFIED);
    assert (pmo_access_role (who, &s_table, WRITE | DECIDE, "hub/dft") ==
            PMO__ROLE__ROLE_UNSPECIFIED);
    //  path NULL: anywhere
    assert (pmo_access_role (who, &s_table, READ, NULL) == PMO__ROLE__ROLE_PMO_MANAGER);
    //  Admin wins only when nothing narrower allows it
    Pmo__Role both[] = {PMO__ROLE__ROLE_ADMIN, PMO__ROLE__ROLE_SPONSOR};
    const char *units[] = {"hub", "dft"};
    who = s_identity (2, both, units);
    assert (pmo_access_role (who, &s_table, DECIDE, "hub/dft") == PMO__ROLE__ROLE_SPONSOR);
    assert (pmo_access_role (who, &s_table, WRITE, "hub/dft") == PMO__ROLE__ROLE_ADMIN);
    assert (pmo_access_role (who, &s_table, DECIDE, "hub/mod") == PMO__ROLE__ROLE_ADMIN);
    //  Roles the table does not know, or out of range, allow nothing
    Pmo__Role odd[] = {PMO__ROLE__ROLE_TEAM_MEMBER, (Pmo__Role)99};
    who = s_identity (2, odd, units);
    assert (!pmo_access_allowed (who, &s_table, READ, "hub"));
    assert (!pmo_access_allowed (NULL, &s_table, READ, "hub"));
}

static void s_request_helpers (void)
{
    pmo_arena_t *arena = pmo_arena_new ();
    Pmo__Header header = PMO__HEADER__INIT;
    Pmo__Role viewer[] = {PMO__ROLE__ROLE_VIEWER};
    const char *dft[] = {"dft"};
    header.identity = (Pmo__Identity *)s_identity (1, viewer, dft);
    Pmo__RegistryReply reply = PMO__REGISTRY_REPLY__INIT;
    pmo_request_t req = {.arena = arena, .header = &header, .reply = &reply.base};

    assert (pmo_request_who (&req) == header.identity);
    assert (pmo_request_may (&req, &s_table, READ, "hub/dft", "read") == PMO__ROLE__ROLE_VIEWER);
    assert (!pmo_request_failed (&req));
    assert (pmo_request_version_matches (&req, "version", "project", 3, 3));
    assert (!pmo_request_failed (&req));

    assert (pmo_request_may (&req, &s_table, WRITE, "hub/dft", "change projects") ==
            PMO__ROLE__ROLE_UNSPECIFIED);
    assert (req.code == PMO__ERROR_CODE__ERROR_FORBIDDEN && reply.error);
    assert (streq (reply.error->message, "ann may not change projects in 'hub/dft'"));
    //  Only the first failure counts
    pmo_request_unavailable (&req, "the store");
    assert (req.code == PMO__ERROR_CODE__ERROR_FORBIDDEN);

    req = (pmo_request_t){.arena = arena, .header = &header, .reply = &reply.base};
    reply.error = NULL;
    assert (!pmo_request_version_matches (&req, "update.version", "project", 0, 3));
    assert (req.code == PMO__ERROR_CODE__ERROR_INVALID &&
            streq (reply.error->field, "update.version"));
    req = (pmo_request_t){.arena = arena, .header = &header, .reply = &reply.base};
    reply.error = NULL;
    assert (!pmo_request_version_matches (&req, "version", "project", 2, 3));
    assert (req.code == PMO__ERROR_CODE__ERROR_CONFLICT);
    assert (strstr (reply.error->message, "you have version 2, it is now 3"));

    req = (pmo_request_t){.arena = arena, .header = &header, .reply = &reply.base};
    reply.error = NULL;
    pmo_request_unavailable (&req, "the registry's store (Redis)");
    assert (req.code == PMO__ERROR_CODE__ERROR_UNAVAILABLE && reply.error->retryable);
    assert (
        streq (reply.error->message, "the registry's store (Redis) is unavailable; retry shortly"));

    //  A model's problem keeps its code and gets the request's field prefix
    pmo_problem_t problem;
    assert (pmo_problem (&problem, PMO__ERROR_CODE__ERROR_INVALID, "budget.amount", "negative %d",
                         -5) == -1);
    req = (pmo_request_t){.arena = arena, .header = &header, .reply = &reply.base};
    reply.error = NULL;
    pmo_request_fail_problem (&req, &problem, "create_project");
    assert (req.code == PMO__ERROR_CODE__ERROR_INVALID);
    assert (streq (reply.error->field, "create_project.budget.amount"));
    assert (streq (reply.error->message, "negative -5"));
    pmo_arena_destroy (&arena);
}

//  Least exposure: who stewards a resource, who sees a booking in full
static void s_exposure (void)
{
    const char *fin = "hub/fin", *fin_it = "hub/fin/fin-it", *ops = "hub/ops";
    Pmo__Role rm = PMO__ROLE__ROLE_RESOURCE_MANAGER, viewer = PMO__ROLE__ROLE_VIEWER;
    Pmo__Role pmo = PMO__ROLE__ROLE_PMO_MANAGER, admin = PMO__ROLE__ROLE_ADMIN;
    Pmo__Role pm = PMO__ROLE__ROLE_PROJECT_MANAGER, director = PMO__ROLE__ROLE_PMO_DIRECTOR;
    const char *at_fin[] = {"fin"}, *at_hub[] = {"hub"};
    //  Stewards: resource, PMO managers and above, on the home unit's path
    assert (pmo_access_steward (s_identity (1, &rm, at_fin), fin_it));
    assert (pmo_access_steward (s_identity (1, &pmo, at_fin), fin));
    assert (!pmo_access_steward (s_identity (1, &rm, at_fin), ops));
    assert (!pmo_access_steward (s_identity (1, &viewer, at_fin), fin));
    assert (!pmo_access_steward (s_identity (1, &pm, at_fin), fin));
    assert (pmo_access_steward (s_identity (1, &director, at_hub), ops));
    assert (pmo_access_steward (s_identity (1, &admin, at_hub), ops));
    assert (!pmo_access_steward (s_identity (1, &admin, at_hub), ""));
    assert (!pmo_access_steward (s_identity (1, &admin, at_hub), NULL));
    //  A booking: read on the project's path, or stewardship of the resource
    assert (pmo_access_sees_booking (s_identity (1, &viewer, at_fin), &s_table, 1, fin, ops));
    assert (!pmo_access_sees_booking (s_identity (1, &viewer, at_fin), &s_table, 1, ops, fin));
    assert (pmo_access_sees_booking (s_identity (1, &rm, at_fin), &s_table, 1, ops, fin));
    assert (!pmo_access_sees_booking (s_identity (1, &rm, at_fin), &s_table, 1, ops, NULL));
    assert (!pmo_access_sees_booking (s_identity (1, &pmo, at_fin), &s_table, 1, "", ops));
}

int main (void)
{
    s_paths ();
    s_roles ();
    s_exposure ();
    s_request_helpers ();
    printf ("test_access: ok\n");
    return 0;
}
