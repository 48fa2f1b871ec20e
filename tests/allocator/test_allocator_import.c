/*  test_allocator_import.c: the allocator's import_batch over real ZeroMQ
    against a real redis-server and the real registry: all or nothing with
    the failing row named, dry run, skip_bad, one event per item in one
    commit, a retried request id answered from the stored reply, bookings of
    one batch seen by its later items (over-allocation, approval by PMO
    type), division and role checks, versions of updates, the index
    (lists, capacity) following the commit, and allocations ended in the
    file (released, rejected) reached step by step with nothing booked, the
    last step checked as release and reject check it.
*/
#include "allocator_harness.h"
#include "pmo_util.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

static char s_fin1[40], s_mod1[40];

//  An integer answer of command on key.
static long long s_int (ah_t *ah, const char *command, const char *key)
{
    redisReply *r = pmo_test_redis_command (ah->rh->redis, "%s %s", command, key);
    assert (r && r->type == REDIS_REPLY_INTEGER);
    long long n = r->integer;
    freeReplyObject (r);
    return n;
}

//  A resource item of a batch (JSON), row row.
static char *s_resource_item (uint32_t row, const char *name, const char *unit, uint32_t capacity)
{
    return zsys_sprintf ("{\"row\":%u,\"create_resource\":{\"name\":\"%s\",\"home_org_unit\":"
                         "\"%s\",\"role\":\"developer\",\"weekly_capacity_hours\":%u,"
                         "\"skills\":[{\"name\":\"java\",\"level\":3}]}}",
                         row, name, unit, capacity);
}

static char *s_allocation_item (uint32_t row, const char *project, const char *resource,
                                uint32_t hours, const char *state, bool approve)
{
    return zsys_sprintf ("{\"row\":%u,\"create_allocation\":{\"request\":{\"project_id\":\"%s\","
                         "\"resource_id\":\"%s\",\"hours_per_week\":%u,\"start_week\":"
                         "\"2027-W10\",\"end_week\":\"2027-W12\"},\"state\":\"%s\","
                         "\"approve\":%s}}",
                         row, project, resource, hours, state, approve ? "true" : "false");
}

static Pmo__AllocatorReply *s_batch (ah_t *ah, const char *request_id, const char *division,
                                     const char *flags, char **items, size_t n)
{
    char *list = strdup ("");
    for (size_t i = 0; i < n; i++) {
        char *grown = zsys_sprintf ("%s%s%s", list, i ? "," : "", items[i]);
        free (list);
        list = grown;
    }
    Pmo__AllocatorReply *reply = ah_call_with_id (
        ah, request_id, "{\"import_batch\":{\"division\":\"%s\"%s%s,\"items\":[%s]}}", division,
        *flags ? "," : "", flags, list);
    free (list);
    return reply;
}

static void s_free_items (char **items, size_t n)
{
    for (size_t i = 0; i < n; i++)
        zstr_free (&items[i]);
}

static void s_resources (ah_t *ah, char ids[3][40])
{
    long long events = s_int (ah, "XLEN", "pmo:{fin}:events");
    char *items[4] = {
        s_resource_item (2, "Ann Lee", "fin", 40), s_resource_item (3, "Bob Marr", "fin", 40),
        s_resource_item (4, "Cat Ode", "fin", 20), s_resource_item (5, "Too Many", "fin", 169)};
    //  All or nothing: the bad row is named, the others skipped, nothing written
    Pmo__AllocatorReply *reply = s_batch (ah, NULL, "fin", "", items, 4);
    ah_err (reply, INVALID, "import_batch.items[3].create_resource.weekly_capacity_hours");
    assert (strstr (reply->error->message, "row 5"));
    assert (reply->import_batch && reply->import_batch->n_results == 4);
    assert (reply->import_batch->results[0]->outcome ==
            PMO__IMPORT_OUTCOME__IMPORT_OUTCOME_SKIPPED);
    assert (reply->import_batch->results[3]->outcome == PMO__IMPORT_OUTCOME__IMPORT_OUTCOME_FAILED);
    assert (reply->import_batch->results[3]->row == 5);
    assert (!reply->import_batch->committed);
    ah_free (&reply);
    assert (s_int (ah, "EXISTS", "pmo:{fin}:ix:rs") == 0);

    //  A dry run says what would happen and writes nothing
    reply = s_batch (ah, NULL, "fin", "\"dry_run\":true", items, 3);
    ah_ok (reply);
    assert (reply->import_batch->created == 3 && !reply->import_batch->committed);
    ah_free (&reply);
    assert (s_int (ah, "EXISTS", "pmo:{fin}:ix:rs") == 0);

    //  A unit of another division is a problem of its row
    char *other = s_resource_item (9, "Out Side", "mod", 40);
    reply = s_batch (ah, NULL, "fin", "\"dry_run\":true", &other, 1);
    ah_ok (reply);
    assert (reply->import_batch->failed == 1);
    assert (streq (reply->import_batch->results[0]->error->field, "create_resource.home_org_unit"));
    ah_free (&reply);
    zstr_free (&other);

    //  Written in one commit, one event per item; a retry changes nothing
    reply = s_batch (ah, "import-resources-1", "fin", "", items, 3);
    ah_ok (reply);
    assert (reply->import_batch->created == 3 && reply->import_batch->committed);
    for (size_t i = 0; i < 3; i++) {
        assert (strncmp (reply->import_batch->results[i]->id, "rs_fin_", 7) == 0);
        snprintf (ids[i], 40, "%s", reply->import_batch->results[i]->id);
    }
    ah_free (&reply);
    assert (s_int (ah, "XLEN", "pmo:{fin}:events") == events + 3);
    reply = s_batch (ah, "import-resources-1", "fin", "", items, 3);
    ah_ok (reply);
    assert (streq (reply->import_batch->results[2]->id, ids[2]));
    ah_free (&reply);
    assert (s_int (ah, "XLEN", "pmo:{fin}:events") == events + 3);
    assert (s_int (ah, "ZCARD", "pmo:{fin}:ix:rs") == 3);
    s_free_items (items, 4);

    //  The index has them
    reply = ah_call (ah, "{\"list_resources\":{\"org_unit\":\"fin\"}}");
    ah_ok (reply);
    assert (reply->resources->n_resources == 3);
    ah_free (&reply);

    //  Updates name the version read; a stale one is its row's conflict
    char *update = zsys_sprintf (
        "{\"row\":7,\"update_resource\":{\"id\":\"%s\",\"version\":1,\"name\":\"Cat Ode\","
        "\"home_org_unit\":\"fin\",\"role\":\"developer\",\"weekly_capacity_hours\":16}}",
        ids[2]);
    reply = s_batch (ah, NULL, "fin", "", &update, 1);
    ah_ok (reply);
    assert (reply->import_batch->updated == 1 && reply->import_batch->results[0]->version == 2);
    ah_free (&reply);
    reply = s_batch (ah, NULL, "fin", "", &update, 1);
    ah_err (reply, CONFLICT, "import_batch.items[0].update_resource.version");
    ah_free (&reply);
    zstr_free (&update);
}

static void s_allocations (ah_t *ah, char ids[3][40])
{
    long long events = s_int (ah, "XLEN", "pmo:{fin}:events");
    //  Ann: committed 30 h and proposed 10 h; Bob requested; Cat (16 h since
    //  the update) committed 12 h then 8 h more: over-allocated in the
    //  second item, which the supportive fin PMO only warns about
    char *items[5] = {
        s_allocation_item (2, s_fin1, ids[0], 30, "committed", true),
        s_allocation_item (3, s_fin1, ids[0], 10, "proposed", false),
        s_allocation_item (4, s_fin1, ids[1], 20, "requested", false),
        s_allocation_item (5, s_fin1, ids[2], 12, "committed", false),
        s_allocation_item (6, s_fin1, ids[2], 8, "committed", false),
    };
    Pmo__AllocatorReply *reply = s_batch (ah, "import-allocations-1", "fin", "", items, 5);
    ah_ok (reply);
    Pmo__ImportBatchReply *out = reply->import_batch;
    assert (out->created == 5 && out->committed);
    char cat_second[40];
    snprintf (cat_second, sizeof cat_second, "%s", out->results[4]->id);
    ah_free (&reply);
    //  Five allocation events and Cat's over-allocation, in one commit
    assert (s_int (ah, "XLEN", "pmo:{fin}:events") == events + 6);
    redisReply *last = pmo_test_redis_command (ah->rh->redis, "XREVRANGE pmo:{fin}:events + - "
                                                              "COUNT 1");
    assert (streq (last->element[0]->element[1]->element[1]->str, "resource.overallocated"));
    freeReplyObject (last);

    //  The history is the single requests' one: requested, proposed, committed
    reply = ah_call (ah, "{\"get\":{\"kind\":\"allocation\",\"id\":\"%s\"}}", cat_second);
    ah_ok (reply);
    Pmo__Allocation *a = reply->allocation;
    assert (a->state == PMO__ALLOCATION_STATE__ALLOCATION_STATE_COMMITTED && a->version == 1);
    assert (a->n_history == 3);
    assert (a->history[2]->pmo_type == PMO__PMO_TYPE__PMO_TYPE_SUPPORTIVE);
    assert (a->history[2]->n_warnings == 1 && strstr (a->history[2]->warnings[0], "over-alloc"));
    ah_free (&reply);

    //  The index follows: capacity of Ann's week counts 30 committed, 10 proposed
    reply = ah_call (ah, "{\"capacity\":{\"org_unit\":\"fin\",\"start_week\":\"2027-W11\","
                         "\"end_week\":\"2027-W11\",\"by_resource\":true}}");
    ah_ok (reply);
    assert (reply->capacity->total->cells[0]->committed_hours == 30 + 20);
    assert (reply->capacity->total->cells[0]->proposed_hours == 10);
    ah_free (&reply);
    reply = ah_call (ah, "{\"conflicts\":{\"org_unit\":\"fin\"}}");
    ah_ok (reply);
    assert (reply->conflicts->n_conflicts == 1);
    assert (streq (reply->conflicts->conflicts[0]->resource_id, ids[2]));
    ah_free (&reply);
    s_free_items (items, 5);
}

//  Allocations ended in the file: released (requested, proposed, released)
//  and rejected (requested, rejected), each with its history and event,
//  nothing booked; a rejection without a reason fails as reject does.
static void s_ended (ah_t *ah, char ids[3][40])
{
    long long events = s_int (ah, "XLEN", "pmo:{fin}:events");
    char *items[2] = {
        s_allocation_item (2, s_fin1, ids[0], 30, "released", false),
        s_allocation_item (3, s_fin1, ids[0], 30, "rejected", false),
    };
    //  The item builder gives no reason: the rejection is refused
    Pmo__AllocatorReply *reply = s_batch (ah, NULL, "fin", "", items, 2);
    ah_err (reply, INVALID, "import_batch.items[1].create_allocation.state.reason");
    assert (strstr (reply->error->message, "a rejection needs a reason"));
    ah_free (&reply);
    assert (s_int (ah, "XLEN", "pmo:{fin}:events") == events);
    char *with_reason =
        zsys_sprintf ("%.*s,\"reason\":\"not needed\"}}", (int)strlen (items[1]) - 2, items[1]);
    zstr_free (&items[1]);
    items[1] = with_reason;
    reply = s_batch (ah, NULL, "fin", "", items, 2);
    ah_ok (reply);
    Pmo__ImportBatchReply *out = reply->import_batch;
    assert (out->created == 2 && out->committed);
    char released[40], rejected[40];
    snprintf (released, sizeof released, "%s", out->results[0]->id);
    snprintf (rejected, sizeof rejected, "%s", out->results[1]->id);
    ah_free (&reply);
    assert (s_int (ah, "XLEN", "pmo:{fin}:events") == events + 2);
    redisReply *last = pmo_test_redis_command (ah->rh->redis, "XREVRANGE pmo:{fin}:events + - "
                                                              "COUNT 2");
    assert (streq (last->element[0]->element[1]->element[1]->str, "allocation.rejected"));
    assert (streq (last->element[1]->element[1]->element[1]->str, "allocation.released"));
    freeReplyObject (last);
    reply = ah_call (ah, "{\"get\":{\"kind\":\"allocation\",\"id\":\"%s\"}}", released);
    ah_ok (reply);
    Pmo__Allocation *a = reply->allocation;
    assert (a->state == PMO__ALLOCATION_STATE__ALLOCATION_STATE_RELEASED && a->n_history == 3);
    assert (a->history[1]->to_state == PMO__ALLOCATION_STATE__ALLOCATION_STATE_PROPOSED);
    ah_free (&reply);
    reply = ah_call (ah, "{\"get\":{\"kind\":\"allocation\",\"id\":\"%s\"}}", rejected);
    ah_ok (reply);
    a = reply->allocation;
    assert (a->state == PMO__ALLOCATION_STATE__ALLOCATION_STATE_REJECTED && a->n_history == 2);
    assert (streq (a->history[1]->reason, "not needed"));
    ah_free (&reply);
    //  Nothing booked: Ann's week as s_allocations left it
    reply = ah_call (ah, "{\"capacity\":{\"org_unit\":\"fin\",\"start_week\":\"2027-W11\","
                         "\"end_week\":\"2027-W11\",\"by_resource\":true}}");
    ah_ok (reply);
    assert (reply->capacity->total->cells[0]->committed_hours == 30 + 20);
    assert (reply->capacity->total->cells[0]->proposed_hours == 10);
    ah_free (&reply);
    s_free_items (items, 2);
}

static void s_rules (ah_t *ah, char ids[3][40])
{
    //  A directive PMO needs an approver: without approve the row fails;
    //  skip_bad writes the good rows and lists the bad
    ah_as (ah, "rm@mod", "resource_manager@mod");
    char *res = s_resource_item (2, "Dan Sql", "mod", 40);
    Pmo__AllocatorReply *reply = s_batch (ah, NULL, "mod", "", &res, 1);
    ah_ok (reply);
    char dan[40];
    snprintf (dan, sizeof dan, "%s", reply->import_batch->results[0]->id);
    ah_free (&reply);
    zstr_free (&res);
    ah_as (ah, "pmo@mod", "pmo_manager@mod");
    long long events = s_int (ah, "XLEN", "pmo:{mod}:events");
    char *items[3] = {
        s_allocation_item (2, s_mod1, dan, 10, "committed", false),
        s_allocation_item (3, s_mod1, dan, 10, "committed", true),
        s_allocation_item (4, s_fin1, ids[0], 10, "requested", false),
    };
    reply = s_batch (ah, NULL, "mod", "\"skip_bad\":true", items, 3);
    ah_ok (reply);
    Pmo__ImportBatchReply *out = reply->import_batch;
    assert (out->created == 1 && out->failed == 2 && out->committed);
    assert (out->results[0]->error->code == PMO__ERROR_CODE__ERROR_FAILED_PRECONDITION);
    assert (streq (out->results[0]->error->field, "create_allocation.approve"));
    assert (strstr (out->results[0]->error->message, "approval needed"));
    //  Ann is kept in fin: not an item of a batch of mod
    assert (streq (out->results[2]->error->field, "create_allocation.request.resource_id"));
    ah_free (&reply);
    assert (s_int (ah, "XLEN", "pmo:{mod}:events") == events + 1);

    //  Who may: a viewer's rows are forbidden, each named
    ah_as (ah, "viewer@fin", "viewer@fin");
    char *row = s_allocation_item (8, s_fin1, ids[1], 5, "requested", false);
    reply = s_batch (ah, NULL, "fin", "", &row, 1);
    ah_err (reply, FORBIDDEN, "import_batch.items[0].create_allocation");
    assert (strstr (reply->error->message, "row 8"));
    ah_free (&reply);
    zstr_free (&row);
    s_free_items (items, 3);

    //  Bad batches as a whole
    ah_as (ah, "admin@test", "admin@hub");
    reply = ah_call (ah, "{\"import_batch\":{\"division\":\"fin\"}}");
    ah_err (reply, INVALID, "import_batch.items");
    ah_free (&reply);
    reply = ah_call (ah, "{\"import_batch\":{\"items\":[{\"row\":1}]}}");
    ah_err (reply, INVALID, "import_batch.division");
    ah_free (&reply);
    reply = ah_call (ah, "{\"import_batch\":{\"division\":\"fin\",\"items\":[{\"row\":1}]}}");
    ah_err (reply, INVALID, "import_batch.items[0].item");
    ah_free (&reply);
}

int main (void)
{
    ah_t *ah = ah_start ();
    ah_unit (ah, "hub", "enterprise", NULL, "supportive");
    ah_unit (ah, "fin", "division", "hub", "supportive");
    ah_unit (ah, "mod", "division", "hub", "directive");
    ah_project (ah, "FIN-1", "fin", 2, s_fin1);
    ah_project (ah, "MOD-1", "mod", 3, s_mod1);
    char ids[3][40];
    s_resources (ah, ids);
    s_allocations (ah, ids);
    s_ended (ah, ids);
    s_rules (ah, ids);
    ah_stop (&ah);
    return 0;
}
