/*  test_federation_read.c: the uplink forwards only what the spoke's Redis
    replicas hold (federation_store_read waits for them as a commit does).

    Against a real master told to wait for a replica it does not have, an
    entry added to a division stream is read (delivered to the group) but
    not handed over for the hub: a failover could still lose it, and the
    hub would then hold an event the spoke never kept. With a real replica
    following, the same entry is handed over, and is on the replica. A
    one-node URL hands it over at once.

    Two readers of one stream (a standby taking over, a stalled uplink
    coming back): entries another reader was given are pending outside
    ours, so our newer ones must wait (federation_store_older_pending); the
    read takes over every pending entry before new ones and says where the
    new ones start (batch.reclaimed); the reader's lease is held by one
    uplink at a time, renewed by it, and taken by another once it lapses
    (federation_store_reader_lease).
*/
#include "federation_store.h"

#include "pmo_testkit.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

#define S_STREAM "pmo:{dft}:events"
#define S_OTHER  "pmo:{dwp}:events"

//  A store on master's URL with the given query ("" or "?replicas=...").
static federation_store_t *s_store (pmo_test_redis_t *master, const char *query, int timeout_ms,
                                    pmo_redis_t **redis)
{
    char url[256];
    snprintf (url, sizeof url, "%s%s", pmo_test_redis_url (master), query);
    *redis = pmo_redis_new (url, timeout_ms);
    assert (*redis);
    federation_store_t *store = federation_store_new (*redis, "hub");
    assert (store);
    return store;
}

static long long s_integer (pmo_test_redis_t *server, const char *command)
{
    redisReply *reply = pmo_test_redis_command (server, command);
    assert (reply && reply->type == REDIS_REPLY_INTEGER);
    long long value = reply->integer;
    freeReplyObject (reply);
    return value;
}

//  XADD an event to stream; its id into id.
static void s_add (pmo_test_redis_t *server, const char *stream, char *id, size_t size)
{
    redisReply *reply =
        pmo_test_redis_command (server, "XADD %s * type project.created data x", stream);
    assert (reply && reply->type == REDIS_REPLY_STRING);
    snprintf (id, size, "%s", reply->str);
    freeReplyObject (reply);
}

//  The hub group's new entries of stream given to consumer (raw XREADGROUP).
static size_t s_give (pmo_test_redis_t *server, const char *stream, const char *consumer)
{
    redisReply *reply = pmo_test_redis_command (
        server, "XREADGROUP GROUP hub %s COUNT 100 STREAMS %s >", consumer, stream);
    assert (reply && reply->type == REDIS_REPLY_ARRAY && reply->elements == 1);
    size_t n = reply->element[0]->element[1]->elements;
    freeReplyObject (reply);
    return n;
}

//  Two readers of one stream.
static void s_two_readers (pmo_test_redis_t *master)
{
    pmo_redis_t *redis;
    federation_store_t *store = s_store (master, "", 1000, &redis);
    assert (federation_store_group_ensure (store, S_OTHER) == 0);
    char ids[5][64], name[64];
    for (int i = 0; i < 3; i++)
        s_add (master, S_OTHER, ids[i], sizeof ids[i]);
    assert (s_give (master, S_OTHER, "uplink-a") == 3);
    for (int i = 3; i < 5; i++)
        s_add (master, S_OTHER, ids[i], sizeof ids[i]);
    assert (s_give (master, S_OTHER, "uplink-b") == 2);
    //  b's two are newer than the three a holds: they wait, unless b's
    //  batch holds those three too
    assert (federation_store_older_pending (store, S_OTHER, ids[3], 0) == 1);
    assert (federation_store_older_pending (store, S_OTHER, ids[3], 2) == 1);
    assert (federation_store_older_pending (store, S_OTHER, ids[3], 3) == 0);
    assert (federation_store_older_pending (store, S_OTHER, ids[0], 0) == 0);
    //  The reader's lease: one holder; renewed by it; taken by another
    //  once it lapsed (deleted here, as its expiry would)
    assert (federation_store_reader_lease (store, "spoke1", "uplink-a", 60000, name, sizeof name) ==
            1);
    assert (federation_store_reader_lease (store, "spoke1", "uplink-b", 60000, name, sizeof name) ==
            0);
    assert (strcmp (name, "uplink-a") == 0);
    assert (federation_store_reader_lease (store, "spoke1", "uplink-a", 60000, name, sizeof name) ==
            1);
    assert (s_integer (master, "PTTL pmo:{hub}:fed:uplink:spoke1:reader") > 0);
    assert (s_integer (master, "DEL pmo:{hub}:fed:uplink:spoke1:reader") == 1);
    assert (federation_store_reader_lease (store, "spoke1", "uplink-b", 60000, name, sizeof name) ==
            1);
    assert (federation_store_reader_lease (store, "spoke1", "uplink-a", 60000, name, sizeof name) ==
            0);
    assert (strcmp (name, "uplink-b") == 0);
    //  The uplink's read takes over all five pending (none new): in order,
    //  and all of them before anything new
    s_add (master, S_OTHER, ids[0], sizeof ids[0]);
    pmo_stream_batch_t batch;
    const char *streams[] = {S_OTHER};
    assert (federation_store_read (store, "uplink-b", streams, 1, 10, 0, &batch) == 0);
    assert (batch.count == 6 && batch.reclaimed == 5);
    assert (strcmp (batch.entries[5].id, ids[0]) == 0);
    assert (federation_store_older_pending (store, S_OTHER, ids[0], 5) == 0);
    pmo_stream_batch_clear (&batch);
    federation_store_destroy (&store);
    pmo_redis_destroy (&redis);
}

//  The hub group's pending entries of the stream.
static long long s_pending (pmo_test_redis_t *server)
{
    redisReply *reply = pmo_test_redis_command (server, "XPENDING " S_STREAM " hub");
    assert (reply && reply->type == REDIS_REPLY_ARRAY && reply->elements >= 1);
    long long pending = reply->element[0]->integer;
    freeReplyObject (reply);
    return pending;
}

//  Read the hub group's oldest entries as the uplink does.
static int s_read (federation_store_t *store, pmo_stream_batch_t *batch)
{
    const char *streams[] = {S_STREAM};
    return federation_store_read (store, "uplink", streams, 1, 10, 0, batch);
}

int main (void)
{
    pmo_test_redis_t *master = pmo_test_redis_start (false);
    assert (master);
    redisReply *reply = pmo_test_redis_command (master, "XADD " S_STREAM " * type project.created "
                                                        "data x");
    assert (reply && reply->type == REDIS_REPLY_STRING);
    char id[64];
    snprintf (id, sizeof id, "%s", reply->str);
    freeReplyObject (reply);

    //  A lone master told to wait for a replica: delivered, not handed over
    pmo_redis_t *redis;
    federation_store_t *store = s_store (master, "?replicas=1&wait=100", 1000, &redis);
    assert (federation_store_group_ensure (store, S_STREAM) == 0);
    pmo_stream_batch_t batch;
    assert (s_read (store, &batch) == -1);
    assert (batch.count == 0);
    assert (s_pending (master) == 1);
    //  ... and again when read once more (reclaimed, still not confirmed)
    assert (s_read (store, &batch) == -1);
    assert (batch.count == 0);
    federation_store_destroy (&store);
    pmo_redis_destroy (&redis);

    //  A real replica follows: the same entry is handed over and is on the
    //  replica (a generous bound: WAIT returns when the replica confirms)
    pmo_test_redis_t *replica = pmo_test_redis_start (false);
    assert (replica && pmo_test_redis_follow (replica, master) == 0);
    store = s_store (master, "?replicas=1&wait=15000", 20000, &redis);
    assert (s_read (store, &batch) == 0);
    assert (batch.count == 1 && strcmp (batch.entries[0].id, id) == 0);
    assert (s_integer (replica, "XLEN " S_STREAM) == 1);
    pmo_stream_batch_clear (&batch);
    federation_store_destroy (&store);
    pmo_redis_destroy (&redis);
    pmo_test_redis_destroy (&replica);

    //  One node (the URL names no replica): handed over at once
    store = s_store (master, "", 1000, &redis);
    assert (s_read (store, &batch) == 0);
    assert (batch.count == 1 && strcmp (batch.entries[0].id, id) == 0);
    pmo_stream_batch_clear (&batch);
    federation_store_destroy (&store);
    pmo_redis_destroy (&redis);

    s_two_readers (master);
    pmo_test_redis_destroy (&master);
    printf ("test_federation_read: ok\n");
    return 0;
}
