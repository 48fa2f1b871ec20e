/*  test_mspdi_pool.c: the resources and assignments of Microsoft Project
    plans (MSPDI XML) into the real allocator's pool (in-process registry
    and allocator actors, real ZeroMQ, real redis-server), through the same
    portio_import_run as any file.

    The expected figures come from an independent reading of the same
    rules with Python's ElementTree and datetime.isocalendar
    (tests/import/mspdi_pool_expect.py), for the files of tests/import/mspdi
    (real Project output from the MPXJ project's test data, see its README):
    - mspdiresource.xml: three work resources (capacity from MaxUnits and
      the plan's week, cost rate from StandardRate), a material resource
      skipped, seven allocations by ISO week from the timephased work,
      committed as the assignments' BookingType 0 says; a dry run writes
      nothing; again, nothing changes; an allocation released in pmo since
      stays released on re-import;
    - sample1.xml: no timephased data, so each assignment's Work is spread
      over the weekdays from Start to Finish: eight allocations, among them
      20 h a week from 2003-W04 to 2003-W11, proposed (no BookingType);
    - resource-type-project2010-mspdi.xml: five work resources in, five
      material and five cost resources counted as skipped;
    - every other file that imports: its resources and allocations as the
      independent reading says, and a second import writes nothing.
*/
#include "allocator_harness.h"
#include "portio_import.h"
#include "portio_mspdi.h"
#include "pmo_reflect.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char s_source[1024];
static ah_t *s_ah;

static char *s_read (const char *name, size_t *size)
{
    char path[1400];
    snprintf (path, sizeof path, "%s/tests/import/mspdi/%s", s_source, name);
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

static portio_import_result_t *s_import (const char *file, bool dry_run)
{
    size_t size;
    char *data = s_read (file, &size);
    assert (portio_mspdi_is (data, size));
    portio_import_mapping_t *map = portio_import_mapping_native ("project");
    portio_import_options_t options = {
        .peer = s_peer (), .hub = "hub", .dry_run = dry_run, .org_unit = "msp"};
    portio_import_result_t *result = NULL;
    int rc = portio_import_run (&options, map, data, size, &result);
    if (rc != 0 || result->bad || getenv ("PMO_TEST_VERBOSE")) {
        json_t *json = portio_import_result_json (result);
        json_object_del (json, "rows_detail");
        char *text = json_dumps (json, JSON_INDENT (1));
        fprintf (stderr, "%s: import rc=%d: %s\n", file, rc, text);
        free (text);
        json_decref (json);
        if (rc != 0 || result->bad)
            abort ();
    }
    portio_import_mapping_destroy (&map);
    free (data);
    return result;
}

//  The pool's resources whose external id starts with prefix.
static size_t s_resources (pmo_arena_t *arena, const char *prefix, Pmo__Resource ***out)
{
    portio_import_peer_t peer = s_peer ();
    ProtobufCMessage **items;
    size_t n, k = 0;
    char why[512];
    assert (portio_import_svc_list (&peer, arena, "resource", "", &items, &n, why, sizeof why) ==
            0);
    *out = pmo_arena_alloc (arena, (n + 1) * sizeof (void *));
    for (size_t i = 0; i < n; i++)
        if (strncmp (((Pmo__Resource *)items[i])->external_id, prefix, strlen (prefix)) == 0)
            (*out)[k++] = (Pmo__Resource *)items[i];
    return k;
}

//  The allocations of resource id.
static size_t s_allocations (pmo_arena_t *arena, const char *resource_id, Pmo__Allocation ***out)
{
    Pmo__AllocatorReply *reply = ah_call (
        s_ah, "{\"list_allocations\":{\"resource_id\":\"%s\",\"limit\":500}}", resource_id);
    ah_ok (reply);
    size_t n = reply->allocations->n_allocations;
    *out = pmo_arena_alloc (arena, (n + 1) * sizeof (void *));
    for (size_t i = 0; i < n; i++)
        (*out)[i] =
            (Pmo__Allocation *)pmo_reflect_copy (&reply->allocations->allocations[i]->base, arena);
    ah_free (&reply);
    return n;
}

static Pmo__Allocation *s_week (Pmo__Allocation **a, size_t n, const char *start)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp (a[i]->start_week, start) == 0)
            return a[i];
    return NULL;
}

static void s_mspdiresource (void)
{
    //  A dry run: the project, 3 milestones, 3 resources, 7 allocations
    portio_import_result_t *result = s_import ("mspdiresource.xml", true);
    assert (result->created == 1 + 3 + 3 + 7 && result->skipped == 1 && !result->written);
    portio_import_result_destroy (&result);
    pmo_arena_t *arena = pmo_arena_new ();
    Pmo__Resource **rs;
    assert (s_resources (arena, "mspdi:", &rs) == 0);
    result = s_import ("mspdiresource.xml", false);
    assert (result->created == 1 + 3 + 3 + 7 && result->skipped == 1 && result->written);
    portio_import_result_destroy (&result);
    size_t n = s_resources (arena, "mspdi:", &rs);
    assert (n == 3);
    Pmo__Resource *wade = NULL;
    for (size_t i = 0; i < n; i++)
        if (strcmp (rs[i]->name, "Wade Golden") == 0)
            wade = rs[i];
    //  MaxUnits 1.00 of a 2,400-minute week; StandardRate 50 an hour
    assert (wade && wade->weekly_capacity_hours == 40 && strcmp (wade->home_org_unit, "msp") == 0);
    assert (wade->cost_rate && wade->cost_rate->minor == 5000);
    Pmo__Allocation **as;
    size_t m = s_allocations (arena, wade->id, &as);
    assert (m == 3);
    Pmo__Allocation *w35 = s_week (as, m, "2006-W35");
    assert (w35 && w35->hours_per_week == 49 && strcmp (w35->end_week, "2006-W35") == 0 &&
            w35->state == PMO__ALLOCATION_STATE__ALLOCATION_STATE_COMMITTED);
    assert (s_week (as, m, "2006-W34")->hours_per_week == 8 &&
            s_week (as, m, "2006-W36")->hours_per_week == 23);
    //  Again: nothing changes
    result = s_import ("mspdiresource.xml", false);
    assert (result->unchanged == 1 + 3 + 3 + 7 && !result->written);
    portio_import_result_destroy (&result);
    //  Released in pmo since: a re-import of the plan leaves it released
    Pmo__Allocation *w34 = s_week (as, m, "2006-W34");
    Pmo__AllocatorReply *reply =
        ah_call (s_ah, "{\"release\":{\"allocation_id\":\"%s\",\"version\":%llu}}", w34->id,
                 (unsigned long long)w34->version);
    ah_ok (reply);
    ah_free (&reply);
    result = s_import ("mspdiresource.xml", false);
    assert (result->unchanged == 1 + 3 + 3 + 7 && !result->written);
    portio_import_result_destroy (&result);
    pmo_arena_destroy (&arena);
}

static void s_sample (void)
{
    portio_import_result_t *result = s_import ("sample1.xml", false);
    assert (result->created == 1 + 4 + 2 + 8 && result->skipped == 0);
    portio_import_result_destroy (&result);
    pmo_arena_t *arena = pmo_arena_new ();
    Pmo__Resource **rs;
    size_t n = s_resources (arena, "mspdi:", &rs);
    Pmo__Resource *first = NULL;
    for (size_t i = 0; i < n; i++)
        if (strcmp (rs[i]->name, "First Resource") == 0)
            first = rs[i];
    assert (first && first->weekly_capacity_hours == 40);
    Pmo__Allocation **as;
    size_t m = s_allocations (arena, first->id, &as);
    assert (m == 4);
    Pmo__Allocation *run = s_week (as, m, "2003-W04");
    //  No BookingType in this plan: proposed
    assert (run && run->hours_per_week == 20 && strcmp (run->end_week, "2003-W11") == 0 &&
            run->state == PMO__ALLOCATION_STATE__ALLOCATION_STATE_PROPOSED);
    assert (s_week (as, m, "2003-W02")->hours_per_week == 48);
    pmo_arena_destroy (&arena);
}

int main (void)
{
    const char *source = getenv ("PMO_SOURCE_DIR");
    snprintf (s_source, sizeof s_source, "%s", source ? source : SOURCE_DIR);
    s_ah = ah_start ();
    ah_unit (s_ah, "hub", "enterprise", NULL, "supportive");
    ah_unit (s_ah, "msp", "division", "hub", "supportive");
    s_mspdiresource ();
    s_sample ();

    //  Every file that imports: resources (work ones), skipped ones and
    //  allocations as the independent reading says; then nothing changes
    static const struct {
        const char *file;
        size_t work, skipped, allocations;
    } files[] = {{"assignment-assignments-project2010-mspdi.xml", 3, 0, 3},
                 {"assignment-assignments-project2019-mspdi.xml", 3, 0, 4},
                 {"baselines.xml", 1, 1, 0},
                 {"calendar-calendars-project2010-mspdi.xml", 2, 0, 0},
                 {"calendar-calendars-project2019-mspdi.xml", 2, 0, 0},
                 {"enterprise.xml", 1, 1, 0},
                 {"mspdirelations.xml", 0, 5, 0},
                 {"mspdisplittask.xml", 0, 2, 0},
                 {"resource-misc-project2010-mspdi.xml", 2, 0, 0},
                 {"resource-misc-project2019-mspdi.xml", 3, 2, 0},
                 {"resource-type-project2010-mspdi.xml", 5, 10, 0},
                 {"task-baselines-project2010-mspdi.xml", 0, 110, 0},
                 {"task-costs-project2019-mspdi.xml", 0, 10, 0}};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        portio_import_result_t *dry = s_import (files[i].file, true);
        portio_import_result_t *result = s_import (files[i].file, false);
        assert (result->skipped == files[i].skipped && dry->skipped == files[i].skipped);
        assert (dry->created + dry->updated + dry->unchanged ==
                result->created + result->updated + result->unchanged);
        portio_import_result_destroy (&dry);
        //  The resources and allocations among the rows: the pool's own count
        size_t pool = 0;
        for (size_t r = 0; r < result->n_rows; r++)
            pool += result->row_results[r].id && strncmp (result->row_results[r].id, "rs_", 3) == 0;
        size_t allocations = 0;
        for (size_t r = 0; r < result->n_rows; r++)
            allocations +=
                result->row_results[r].id && strncmp (result->row_results[r].id, "al_", 3) == 0;
        if (pool != files[i].work || allocations != files[i].allocations) {
            fprintf (stderr, "%s: %zu resources, %zu allocations; expected %zu, %zu\n",
                     files[i].file, pool, allocations, files[i].work, files[i].allocations);
            abort ();
        }
        portio_import_result_destroy (&result);
        result = s_import (files[i].file, false);
        assert (!result->written && result->created == 0 && result->updated == 0);
        portio_import_result_destroy (&result);
        printf ("%-46s %zu work resources, %zu skipped, %zu allocations\n", files[i].file,
                files[i].work, files[i].skipped, files[i].allocations);
    }
    ah_stop (&s_ah);
    return 0;
}
