/*  test_registry_trim.c: the registry trims the division event streams a
    page of org units at a time, going round the tree.

    A real Redis and the registry actor in-process. The streams are set up
    while the actor runs with the default pass (a minute away); then it is
    started again with a pass every PASS_MS over 4 org units (the hub, 10
    divisions and a department: three pages). Each division's stream holds
    entries its consumer group is done with (the group made at the end of
    the stream); the test watches the streams and checks that:
    - every division's stream is trimmed to its last entry (what the group
      was last given stays, so ids stay comparable);
    - the passes go in creation order, a page each: the first page's streams
      are trimmed PASS_MS * 2 before the last page's (one pass does not read
      the whole tree, which is what keeps an idle registry's cost the same
      for 10 divisions or 1,000);
    - the cursor comes round: entries added to the first and the last
      division after they were trimmed are trimmed again.
    What a trim keeps (pending entries, the window) is pmo_stream's, tested
    in test_common.
*/
#include "pmo_stream.h"
#include "registry_harness.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

#define DIVISIONS 10
#define PASS_MS   1000

static long long s_xlen (rh_t *rh, const char *division)
{
    char key[128];
    assert (pmo_stream_key_buf (key, sizeof key, division) == 0);
    redisReply *reply = pmo_test_redis_command (rh->redis, "XLEN %s", key);
    assert (reply && reply->type == REDIS_REPLY_INTEGER);
    long long len = reply->integer;
    freeReplyObject (reply);
    return len;
}

static void s_command (rh_t *rh, const char *format, const char *key, const char *arg)
{
    redisReply *reply = pmo_test_redis_command (rh->redis, format, key, arg);
    if (!reply || reply->type == REDIS_REPLY_ERROR) {
        fprintf (stderr, "test_registry_trim: %s %s: %s\n", format, key,
                 reply ? reply->str : "no reply");
        assert (false);
    }
    freeReplyObject (reply);
}

//  Three entries in division's stream, then the group "g" made at (or
//  moved to) its end: everything in it is done with.
static void s_fill_done (rh_t *rh, const char *division, bool group_exists)
{
    char key[128];
    assert (pmo_stream_key_buf (key, sizeof key, division) == 0);
    for (int i = 0; i < 3; i++)
        s_command (rh, "XADD %s * type test.event data %s", key, division);
    if (group_exists)
        s_command (rh, "XGROUP SETID %s %s $", key, "g");
    else
        s_command (rh, "XGROUP CREATE %s %s $", key, "g");
}

//  Polls the division streams until every one is down to one entry; round
//  [d] is the poll round in which division d was first seen trimmed.
static void s_wait_trimmed (rh_t *rh, char names[][16], int *round)
{
    for (int d = 0; d < DIVISIONS; d++)
        round[d] = -1;
    for (int r = 0; r < 3000; r++) {
        int left = 0;
        for (int d = 0; d < DIVISIONS; d++) {
            if (round[d] < 0 && s_xlen (rh, names[d]) == 1)
                round[d] = r;
            left += round[d] < 0;
        }
        if (!left)
            return;
        zclock_sleep (10);
    }
    for (int d = 0; d < DIVISIONS; d++)
        fprintf (stderr, "test_registry_trim: %s has %lld entries\n", names[d],
                 s_xlen (rh, names[d]));
    assert (!"every division's stream trimmed within 30 s");
}

int main (void)
{
    rh_t *rh = rh_start ();

    //  Positions in creation order: hub 0, divisions 1-10, a department 11
    Pmo__RegistryReply *reply = rh_unit (rh, "hub", "enterprise", NULL, NULL);
    rh_ok (reply);
    rh_free (&reply);
    char names[DIVISIONS][16];
    for (int d = 0; d < DIVISIONS; d++) {
        snprintf (names[d], sizeof names[d], "div%02d", d);
        reply = rh_unit (rh, names[d], "division", "hub", NULL);
        rh_ok (reply);
        rh_free (&reply);
    }
    reply = rh_unit (rh, "div00-ops", "department", "div00", NULL);
    rh_ok (reply);
    rh_free (&reply);
    for (int d = 0; d < DIVISIONS; d++)
        s_fill_done (rh, names[d], false);
    for (int d = 0; d < DIVISIONS; d++)
        assert (s_xlen (rh, names[d]) >= 3);

    //  The first pass comes PASS_MS after the start, the next ones PASS_MS
    //  apart: page 1 (hub, div00-div02), page 2 (div03-div06), page 3
    //  (div07-div09, the department), then round again
    rh_actor_stop (rh);
    rh->config.trim_every_ms = PASS_MS;
    rh->config.trim_units = 4;
    rh->config.stream_keep_ms = 1;
    rh_actor_start (rh);
    int round[DIVISIONS];
    s_wait_trimmed (rh, names, round);
    int page1 = 0, page3 = 3000;
    for (int d = 0; d < 3; d++)
        page1 = round[d] > page1 ? round[d] : page1;
    for (int d = 7; d < DIVISIONS; d++)
        page3 = round[d] < page3 ? round[d] : page3;
    printf ("poll rounds (10 ms apart): page 1 trimmed by %d, page 3 from %d\n", page1, page3);
    assert (page1 < page3);

    //  Round again: new entries at both ends are trimmed again
    s_fill_done (rh, names[0], true);
    s_fill_done (rh, names[DIVISIONS - 1], true);
    assert (s_xlen (rh, names[0]) == 4 && s_xlen (rh, names[DIVISIONS - 1]) == 4);
    s_wait_trimmed (rh, names, round);

    rh_stop (&rh);
    printf ("test_registry_trim: OK\n");
    return 0;
}
