/*  test_allocator_xdiv.c: cross-division requests in one allocator, over
    real ZeroMQ against a real redis-server and the real registry.

    One stack: request_foreign for a division this stack keeps books at once
    by the owning unit's PMO type (controlling: soft booking waiting for the
    owner's approver; supportive: committed with warnings, over-allocation
    included), and the plain request_allocation across divisions still
    works as before. The two ends of the federated flow, driven by hand as
    an uplink would: receive_foreign books a request of another stack's
    project once however often it is delivered, and that booking can be
    approved without the project being in this registry; request_foreign
    for a division kept elsewhere records a ForeignAllocation with its
    "foreign.requested" event, and foreign_update applies only newer
    reports. Bad input and people without the right change nothing.
*/
#include "allocator_harness.h"
#include "events.pb-c.h"
#include "pmo_util.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

static char s_dft1[40], s_dwp1[40];
static char s_dana[40], s_moe[40], s_tim[40];

#define FOREIGN_EXT7                                                                               \
    "{\"receive_foreign\":{\"foreign\":{\"id\":\"xa_ext_7\",\"division\":\"ext\","                 \
    "\"target_division\":\"dwp\",\"project_id\":\"pj_ext_1\",\"project_code\":\"EXT-1\","          \
    "\"project_name\":\"Elsewhere\",\"project_priority\":2,\"project_org_unit\":\"ext\","          \
    "\"project_org_unit_path\":\"hub/ext\",\"requested_by\":\"jo@ext\",\"request\":{"              \
    "\"project_id\":\"pj_ext_1\",\"resource_id\":\"%s\",\"hours_per_week\":4,"                     \
    "\"start_week\":\"2026-W45\",\"end_week\":\"2026-W46\"}}}}"

#define UPDATE_FAR                                                                                 \
    "{\"foreign_update\":{\"foreign_id\":\"%s\",\"remote\":{\"id\":\"al_far_3\","                  \
    "\"division\":\"far\",\"origin_id\":\"%s\",\"origin_division\":\"dft\","                       \
    "\"state\":\"%s\",\"version\":%d,\"resource_id\":\"rs_far_1\"}}}"

static void s_fixture (ah_t *ah)
{
    ah_unit (ah, "hub", "enterprise", NULL, "supportive");
    ah_unit (ah, "dft", "division", "hub", NULL);
    ah_unit (ah, "dwp", "division", "hub", "controlling");
    ah_unit (ah, "moj", "division", "hub", NULL); //  supportive, from the hub
    ah_project (ah, "DFT-1", "dft", 2, s_dft1);
    ah_project (ah, "DWP-1", "dwp", 1, s_dwp1);
    snprintf (s_dana, sizeof s_dana, "%s",
              ah_resource (ah, "Dana", "dwp", "developer", 40, "[{\"name\":\"java\",\"level\":4}]",
                           9000));
    snprintf (
        s_moe, sizeof s_moe, "%s",
        ah_resource (ah, "Moe", "moj", "tester", 10, "[{\"name\":\"testing\",\"level\":3}]", 5000));
    snprintf (
        s_tim, sizeof s_tim, "%s",
        ah_resource (ah, "Tim", "dft", "developer", 40, "[{\"name\":\"java\",\"level\":2}]", 6000));
}

static Pmo__AllocatorReply *s_foreign (ah_t *ah, const char *division, const char *project,
                                       const char *resource, const char *skill, uint32_t hours,
                                       const char *start, const char *end)
{
    return ah_call (ah,
                    "{\"request_foreign\":{\"division\":\"%s\",\"request\":{\"project_id\":\"%s\","
                    "\"resource_id\":\"%s\",\"skill\":\"%s\",\"hours_per_week\":%u,"
                    "\"start_week\":\"%s\",\"end_week\":\"%s\"}}}",
                    division, project, resource, skill, hours, start, end);
}

static bool s_has_warning (const Pmo__AllocatorReply *reply, const char *text)
{
    for (size_t i = 0; i < reply->n_warnings; i++)
        if (strstr (reply->warnings[i], text))
            return true;
    return false;
}

static long s_stream_count (ah_t *ah, const char *division, const char *type)
{
    redisReply *r = pmo_test_redis_command (ah->rh->redis, "XRANGE pmo:{%s}:events - +", division);
    assert (r && r->type == REDIS_REPLY_ARRAY);
    long n = 0;
    for (size_t i = 0; i < r->elements; i++) {
        redisReply *fields = r->element[i]->element[1];
        for (size_t f = 0; f + 1 < fields->elements; f += 2)
            if (strcmp (fields->element[f]->str, "type") == 0 &&
                strcmp (fields->element[f + 1]->str, type) == 0)
                n++;
    }
    freeReplyObject (r);
    return n;
}

//  One stack: the owning unit's PMO type decides at once.
static void s_test_one_stack (ah_t *ah)
{
    ah_as (ah, "pm@dft", "project_manager@dft");
    //  controlling owner: soft booking, the owner's approver must commit
    Pmo__AllocatorReply *reply = s_foreign (ah, "", s_dft1, s_dana, "", 20, "2026-W10", "2026-W19");
    ah_ok (reply);
    assert (reply->body_case == PMO__ALLOCATOR_REPLY__BODY_ALLOCATION);
    Pmo__Allocation *a = reply->allocation;
    assert (a->state == PMO__ALLOCATION_STATE__ALLOCATION_STATE_PROPOSED);
    assert (strcmp (a->division, "dwp") == 0 && strcmp (a->project_division, "dft") == 0);
    assert (strcmp (a->resource_id, s_dana) == 0 && *a->origin_id == 0);
    assert (reply->approval_needed && strstr (reply->approval_needed, "crosses divisions"));
    assert (a->n_history == 2 && strcmp (a->history[0]->actor, "pm@dft") == 0);
    char id[40];
    snprintf (id, sizeof id, "%s", a->id);
    uint64_t version = a->version;
    ah_free (&reply);
    //  a retry answers the same and books nothing twice
    char first_id[40];
    snprintf (first_id, sizeof first_id, "%s", ah->request_id);
    reply = ah_call_with_id (ah, first_id,
                             "{\"request_foreign\":{\"request\":{\"project_id\":\"%s\","
                             "\"resource_id\":\"%s\",\"hours_per_week\":20,"
                             "\"start_week\":\"2026-W10\",\"end_week\":\"2026-W19\"}}}",
                             s_dft1, s_dana);
    ah_ok (reply);
    assert (strcmp (reply->allocation->id, id) == 0);
    ah_free (&reply);
    //  the requester cannot approve; the owner's resource manager can
    reply =
        ah_call (ah, "{\"commit\":{\"allocation_id\":\"%s\",\"version\":%llu,\"approve\":true}}",
                 id, (unsigned long long)version);
    ah_err (reply, FORBIDDEN, "commit.approve");
    ah_free (&reply);
    ah_as (ah, "rm@dwp", "resource_manager@dwp");
    reply =
        ah_call (ah, "{\"commit\":{\"allocation_id\":\"%s\",\"version\":%llu,\"approve\":true}}",
                 id, (unsigned long long)version);
    ah_ok (reply);
    assert (reply->allocation->state == PMO__ALLOCATION_STATE__ALLOCATION_STATE_COMMITTED);
    ah_free (&reply);

    //  supportive owner: committed at once, with the warnings, even over capacity
    ah_as (ah, "pm@dft", "project_manager@dft");
    reply = s_foreign (ah, "", s_dft1, s_moe, "", 12, "2026-W10", "2026-W11");
    ah_ok (reply);
    a = reply->allocation;
    assert (a->state == PMO__ALLOCATION_STATE__ALLOCATION_STATE_COMMITTED);
    assert (s_has_warning (reply, "crosses divisions") && s_has_warning (reply, "over-allocates"));
    assert (reply->over_allocation && reply->over_allocation->over);
    assert (a->n_history == 3 && a->history[2]->n_warnings == 2);
    assert (a->history[2]->pmo_type == PMO__PMO_TYPE__PMO_TYPE_SUPPORTIVE);
    ah_free (&reply);
    assert (s_stream_count (ah, "moj", "resource.overallocated") == 1);
    assert (s_stream_count (ah, "moj", "allocation.committed") == 1);

    //  a role/skill request is matched in the owning division only
    reply = s_foreign (ah, "dwp", s_dft1, "", "java", 10, "2026-W30", "2026-W31");
    ah_ok (reply);
    assert (strcmp (reply->allocation->resource_id, s_dana) == 0);
    assert (reply->match_detail &&
            reply->allocation->state == PMO__ALLOCATION_STATE__ALLOCATION_STATE_PROPOSED);
    ah_free (&reply);
    //  nobody fits: it waits there as unfilled demand
    reply = s_foreign (ah, "dwp", s_dft1, "", "java", 50, "2026-W30", "2026-W31");
    ah_ok (reply);
    assert (reply->allocation->state == PMO__ALLOCATION_STATE__ALLOCATION_STATE_REQUESTED);
    assert (strcmp (reply->allocation->division, "dwp") == 0);
    assert (s_has_warning (reply, "unfilled demand"));
    ah_free (&reply);

    //  the plain request across divisions works as before
    reply = ah_call (ah,
                     "{\"request_allocation\":{\"project_id\":\"%s\",\"resource_id\":\"%s\","
                     "\"hours_per_week\":5,\"start_week\":\"2026-W40\"}}",
                     s_dft1, s_dana);
    ah_ok (reply);
    assert (reply->allocation->state == PMO__ALLOCATION_STATE__ALLOCATION_STATE_REQUESTED);
    ah_free (&reply);
}

static void s_test_bad_input (ah_t *ah)
{
    ah_as (ah, "pm@dft", "project_manager@dft");
    Pmo__AllocatorReply *reply = s_foreign (ah, "dft", s_dft1, s_tim, "", 5, "2026-W10", "");
    ah_err (reply, INVALID, "request_foreign.division");
    ah_free (&reply);
    reply = s_foreign (ah, "", s_dft1, "", "java", 5, "2026-W10", "");
    ah_err (reply, INVALID, "request_foreign.division");
    ah_free (&reply);
    reply = s_foreign (ah, "moj", s_dft1, s_dana, "", 5, "2026-W10", "");
    ah_err (reply, INVALID, "request_foreign.division");
    ah_free (&reply);
    reply = s_foreign (ah, "", s_dft1, "rs_dwp_99", "", 5, "2026-W10", "");
    ah_err (reply, NOT_FOUND, "request_foreign.request.resource_id");
    ah_free (&reply);
    reply = s_foreign (ah, "", s_dft1, s_dana, "", 200, "2026-W10", "");
    ah_err (reply, INVALID, "request_foreign.request.hours_per_week");
    ah_free (&reply);
    reply = s_foreign (ah, "", s_dft1, s_dana, "", 5, "2026-W20", "2026-W10");
    ah_err (reply, INVALID, "request_foreign.request");
    ah_free (&reply);
    reply = s_foreign (ah, "", "pj_nope", s_dana, "", 5, "2026-W10", "");
    ah_err (reply, NOT_FOUND, "request_foreign.request.project_id");
    ah_free (&reply);
    ah_as (ah, "viewer@dft", "viewer@dft");
    reply = s_foreign (ah, "", s_dft1, s_dana, "", 5, "2026-W10", "");
    ah_err (reply, FORBIDDEN, "");
    ah_free (&reply);
    //  the uplink's requests are for the uplink only
    ah_as (ah, "pm@dft", "pmo_manager@hub");
    reply = ah_call (ah, "{\"foreign_update\":{\"foreign_id\":\"xa_dft_1\",\"refusal\":{"
                         "\"code\":\"ERROR_NOT_FOUND\",\"message\":\"x\"}}}");
    ah_err (reply, FORBIDDEN, "");
    ah_free (&reply);
    reply = ah_call (ah, "{\"receive_foreign\":{\"foreign\":{\"id\":\"xa_ext_1\"}}}");
    ah_err (reply, FORBIDDEN, "");
    ah_free (&reply);
}

//  The owning end as an uplink drives it: once however often delivered.
static void s_test_receive (ah_t *ah)
{
    ah_as (ah, "pmo-uplink@dwp", "admin@hub");
    Pmo__AllocatorReply *reply = ah_call (ah, FOREIGN_EXT7, s_dana);
    ah_ok (reply);
    Pmo__Allocation *a = reply->allocation;
    assert (strcmp (a->origin_id, "xa_ext_7") == 0 && strcmp (a->origin_division, "ext") == 0);
    assert (a->state == PMO__ALLOCATION_STATE__ALLOCATION_STATE_PROPOSED);
    assert (strcmp (a->history[0]->actor, "jo@ext") == 0);
    assert (a->history[1]->n_warnings >= 1 &&
            strstr (a->history[1]->warnings[0], "approval needed"));
    char id[40];
    snprintf (id, sizeof id, "%s", a->id);
    uint64_t version = a->version;
    ah_free (&reply);
    long before = s_stream_count (ah, "dwp", "allocation.proposed");
    //  delivered again under another request id (a hub resend): the same
    reply = ah_call (ah, FOREIGN_EXT7, s_dana);
    ah_ok (reply);
    assert (strcmp (reply->allocation->id, id) == 0);
    ah_free (&reply);
    assert (s_stream_count (ah, "dwp", "allocation.proposed") == before);
    //  a delivery naming a resource of another division is refused for good
    reply = ah_call (ah,
                     "{\"receive_foreign\":{\"foreign\":{\"id\":\"xa_ext_8\",\"division\":\"ext\","
                     "\"target_division\":\"dwp\",\"project_id\":\"p\",\"project_code\":\"E\","
                     "\"requested_by\":\"jo@ext\",\"request\":{\"project_id\":\"p\","
                     "\"resource_id\":\"%s\",\"hours_per_week\":4,\"start_week\":\"2026-W45\"}}}}",
                     s_moe);
    ah_err (reply, INVALID, "resource_id");
    assert (!reply->error->retryable);
    ah_free (&reply);
    //  the owner approves without the project being in this registry
    ah_as (ah, "rm@dwp", "resource_manager@dwp");
    reply =
        ah_call (ah, "{\"commit\":{\"allocation_id\":\"%s\",\"version\":%llu,\"approve\":true}}",
                 id, (unsigned long long)version);
    ah_ok (reply);
    assert (reply->allocation->state == PMO__ALLOCATION_STATE__ALLOCATION_STATE_COMMITTED);
    ah_free (&reply);
}

//  The requesting end: a record, its event, and newer reports only.
static void s_test_requesting (ah_t *ah)
{
    ah_as (ah, "pm@dft", "project_manager@dft");
    Pmo__AllocatorReply *reply = s_foreign (ah, "far", s_dft1, "", "cobol", 10, "2026-W20", "");
    ah_ok (reply);
    assert (reply->body_case == PMO__ALLOCATOR_REPLY__BODY_FOREIGN);
    Pmo__ForeignAllocation *f = reply->foreign;
    assert (f->delivery == PMO__FOREIGN_DELIVERY__FOREIGN_DELIVERY_SENT);
    assert (f->state == PMO__ALLOCATION_STATE__ALLOCATION_STATE_REQUESTED);
    assert (strcmp (f->division, "dft") == 0 && strcmp (f->target_division, "far") == 0);
    assert (strcmp (f->project_code, "DFT-1") == 0 && strcmp (f->requested_by, "pm@dft") == 0);
    char id[40];
    snprintf (id, sizeof id, "%s", f->id);
    ah_free (&reply);
    assert (s_stream_count (ah, "dft", "foreign.requested") == 1);

    ah_as (ah, "pmo-uplink@dft", "admin@hub");
    reply = ah_call (ah, UPDATE_FAR, id, id, "ALLOCATION_STATE_COMMITTED", 3);
    ah_ok (reply);
    assert (reply->foreign->state == PMO__ALLOCATION_STATE__ALLOCATION_STATE_COMMITTED);
    assert (reply->foreign->delivery == PMO__FOREIGN_DELIVERY__FOREIGN_DELIVERY_RECEIVED);
    assert (reply->foreign->version == 2);
    ah_free (&reply);
    //  an older report arriving late changes nothing, nor does a late refusal
    reply = ah_call (ah, UPDATE_FAR, id, id, "ALLOCATION_STATE_PROPOSED", 2);
    ah_ok (reply);
    assert (reply->foreign->state == PMO__ALLOCATION_STATE__ALLOCATION_STATE_COMMITTED);
    assert (reply->foreign->version == 2);
    ah_free (&reply);
    reply = ah_call (ah,
                     "{\"foreign_update\":{\"foreign_id\":\"%s\",\"refusal\":{\"code\":"
                     "\"ERROR_NOT_FOUND\",\"message\":\"late\"}}}",
                     id);
    ah_ok (reply);
    assert (reply->foreign->version == 2);
    ah_free (&reply);
    //  a report about another division's booking is refused
    reply = ah_call (ah,
                     "{\"foreign_update\":{\"foreign_id\":\"%s\",\"remote\":{\"id\":\"al_x_3\","
                     "\"division\":\"x\",\"origin_id\":\"%s\",\"version\":9}}}",
                     id, id);
    ah_err (reply, INVALID, "foreign_update.remote.origin_id");
    ah_free (&reply);
    assert (s_stream_count (ah, "dft", "foreign.committed") == 1);

    //  a second one refused at the hub
    ah_as (ah, "pm@dft", "project_manager@dft");
    reply = s_foreign (ah, "far", s_dft1, "", "cobol", 5, "2026-W21", "");
    ah_ok (reply);
    snprintf (id, sizeof id, "%s", reply->foreign->id);
    ah_free (&reply);
    ah_as (ah, "pmo-uplink@dft", "admin@hub");
    reply = ah_call (ah,
                     "{\"foreign_update\":{\"foreign_id\":\"%s\",\"refusal\":{\"code\":"
                     "\"ERROR_NOT_FOUND\",\"field\":\"request_foreign.division\",\"message\":"
                     "\"no spoke serves far\"}}}",
                     id);
    ah_ok (reply);
    assert (reply->foreign->delivery == PMO__FOREIGN_DELIVERY__FOREIGN_DELIVERY_REFUSED);
    assert (reply->foreign->state == PMO__ALLOCATION_STATE__ALLOCATION_STATE_REJECTED);
    assert (reply->foreign->refusal->code == PMO__ERROR_CODE__ERROR_NOT_FOUND);
    ah_free (&reply);

    //  lists and gets, for anyone whose reach covers the project
    ah_as (ah, "viewer@dft", "viewer@dft");
    reply = ah_call (ah, "{\"list_foreign\":{\"project_id\":\"%s\"}}", s_dft1);
    ah_ok (reply);
    assert (reply->foreigns->n_foreigns == 2);
    ah_free (&reply);
    reply = ah_call (ah, "{\"list_foreign\":{\"state\":\"ALLOCATION_STATE_REJECTED\"}}");
    ah_ok (reply);
    assert (reply->foreigns->n_foreigns == 1 && strcmp (reply->foreigns->foreigns[0]->id, id) == 0);
    ah_free (&reply);
    reply = ah_call (ah, "{\"list_foreign\":{\"limit\":1}}");
    ah_ok (reply);
    assert (reply->foreigns->n_foreigns == 1 && *reply->foreigns->next_cursor);
    char cursor[40];
    snprintf (cursor, sizeof cursor, "%s", reply->foreigns->next_cursor);
    ah_free (&reply);
    reply = ah_call (ah, "{\"list_foreign\":{\"limit\":1,\"cursor\":\"%s\"}}", cursor);
    ah_ok (reply);
    assert (reply->foreigns->n_foreigns == 1 && *reply->foreigns->next_cursor == 0);
    ah_free (&reply);
    reply = ah_call (ah, "{\"get_foreign\":{\"id\":\"%s\"}}", id);
    ah_ok (reply);
    assert (strcmp (reply->foreign->id, id) == 0);
    ah_free (&reply);
    reply = ah_call (ah, "{\"get_foreign\":{\"id\":\"xa_dft_99\"}}");
    ah_err (reply, NOT_FOUND, "get_foreign.id");
    ah_free (&reply);
    //  ... and for nobody else (README "Who sees what"): moj's viewer sees
    //  none of dft's requests, not even by id
    ah_as (ah, "viewer@moj", "viewer@moj");
    reply = ah_call (ah, "{\"list_foreign\":{}}");
    ah_ok (reply);
    assert (reply->foreigns->n_foreigns == 0);
    ah_free (&reply);
    reply = ah_call (ah, "{\"get_foreign\":{\"id\":\"%s\"}}", id);
    ah_err (reply, NOT_FOUND, "get_foreign.id");
    ah_free (&reply);
}

int main (void)
{
    ah_t *ah = ah_start ();
    s_fixture (ah);
    s_test_one_stack (ah);
    s_test_bad_input (ah);
    s_test_receive (ah);
    s_test_requesting (ah);
    //  A restart keeps it all: the index counts the foreign bookings again
    ah_actor_stop (ah);
    ah_actor_start (ah);
    //  (Dana's resource manager sees every booking on her)
    ah_as (ah, "rm@dwp", "resource_manager@dwp");
    Pmo__AllocatorReply *reply =
        ah_call (ah, "{\"list_allocations\":{\"resource_id\":\"%s\"}}", s_dana);
    ah_ok (reply);
    assert (reply->allocations->n_allocations == 4);
    ah_free (&reply);
    ah_stop (&ah);
    printf ("test_allocator_xdiv: OK\n");
    return 0;
}
