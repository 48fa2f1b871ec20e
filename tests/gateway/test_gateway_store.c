/*  test_gateway_store.c: the gateway's own acknowledged writes outside a
    commit (a sign-in under way, a session, a sign-out) are answered only
    once the replicas the Redis URL names hold them, as commits are
    (pmo_redis_wait_replicas): against a real master told to wait for a
    replica it does not have, each is refused although the master wrote
    it; with a real replica following, each is accepted and on the replica
    the moment it is answered.
*/
#include "gateway_store.h"

#include "pmo_testkit.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

#define S_HUB "hub"

//  EXISTS key on server.
static long long s_exists (pmo_test_redis_t *server, const char *key)
{
    redisReply *reply = pmo_test_redis_command (server, "EXISTS %s", key);
    assert (reply && reply->type == REDIS_REPLY_INTEGER);
    long long found = reply->integer;
    freeReplyObject (reply);
    return found;
}

//  A store on master's URL with the given query ("" or "?replicas=...").
static gateway_store_t *s_store (pmo_test_redis_t *master, const char *query, int timeout_ms,
                                 pmo_redis_t **redis)
{
    char url[160];
    snprintf (url, sizeof url, "%s%s", pmo_test_redis_url (master), query);
    *redis = pmo_redis_new (url, timeout_ms);
    assert (*redis);
    return gateway_store_new (*redis, S_HUB);
}

int main (void)
{
    pmo_test_redis_t *master = pmo_test_redis_start (false);
    assert (master);
    const uint8_t blob[] = "caller";

    //  One node (redis://): nothing to wait for
    pmo_redis_t *redis;
    gateway_store_t *store = s_store (master, "", 2000, &redis);
    assert (gateway_store_login_put (store, "st-1", "{}", 60) == 0);
    assert (gateway_store_session_put (store, "h-1", blob, sizeof blob, "idt", 60) == 0);
    assert (gateway_store_session_drop (store, "h-1") == 0);
    gateway_store_destroy (&store);
    pmo_redis_destroy (&redis);

    //  Told to wait for a replica there is not: written on the master, but
    //  never acknowledged
    store = s_store (master, "?replicas=1&wait=100", 2000, &redis);
    assert (gateway_store_login_put (store, "st-2", "{}", 60) == -1);
    assert (s_exists (master, "pmo:{hub}:gw:login:st-2") == 1);
    assert (gateway_store_session_put (store, "h-2", blob, sizeof blob, "idt", 60) == -1);
    assert (s_exists (master, "pmo:{hub}:gw:ses:h-2") == 1);
    assert (gateway_store_session_drop (store, "h-2") == -1);
    assert (s_exists (master, "pmo:{hub}:gw:ses:h-2") == 0);
    gateway_store_destroy (&store);
    pmo_redis_destroy (&redis);

    //  A real replica follows: each is answered once the replica holds it
    //  (a generous bound: WAIT returns as soon as the replica acknowledges)
    pmo_test_redis_t *replica = pmo_test_redis_start (false);
    assert (replica && pmo_test_redis_follow (replica, master) == 0);
    store = s_store (master, "?replicas=1&wait=15000", 20000, &redis);
    assert (gateway_store_login_put (store, "st-3", "{}", 60) == 0);
    assert (s_exists (replica, "pmo:{hub}:gw:login:st-3") == 1);
    assert (gateway_store_session_put (store, "h-3", blob, sizeof blob, "idt", 60) == 0);
    assert (s_exists (replica, "pmo:{hub}:gw:ses:h-3") == 1);
    assert (gateway_store_session_drop (store, "h-3") == 0);
    assert (s_exists (replica, "pmo:{hub}:gw:ses:h-3") == 0);
    gateway_store_destroy (&store);
    pmo_redis_destroy (&redis);

    pmo_test_redis_destroy (&replica);
    pmo_test_redis_destroy (&master);
    printf ("test_gateway_store: ok\n");
    return 0;
}
