/*  pmo_seq.c: numbers for new ids, fenced against a failover (pmo_seq.h). */
#include "pmo_seq.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

//  KEYS[1] the counter hash; ARGV: the field, how many, the replication id
//  of this master, the fence. Returns the last number taken.
static pmo_script_t s_take = {.source = "local add = tonumber(ARGV[2]) "
                                        "local seen = redis.call('HGET', KEYS[1], '#replid') "
                                        "if seen ~= ARGV[3] then "
                                        "  if seen then add = add + tonumber(ARGV[4]) end "
                                        "  redis.call('HSET', KEYS[1], '#replid', ARGV[3]) "
                                        "end "
                                        "return redis.call('HINCRBY', KEYS[1], ARGV[1], add)"};

int pmo_seq_take (pmo_redis_t *redis, const char *key, const char *field, uint64_t n,
                  long long *first)
{
    assert (redis && key && field && first && n >= 1);
    char count[24], fence[24];
    snprintf (count, sizeof count, "%llu", (unsigned long long)n);
    snprintf (fence, sizeof fence, "%d", PMO_SEQ_FENCE);
    //  The script must run on the connection whose master the replication
    //  id names: if Redis was reconnected in between (perhaps to a new
    //  master holding the old one's id in the hash), what it took is left
    //  as a gap and taken again
    for (int attempt = 0; attempt < 3; attempt++) {
        const char *replid = pmo_redis_replid (redis);
        if (!replid)
            return -1;
        uint64_t connection = pmo_redis_connects (redis);
        const char *argv[] = {key, field, count, replid, fence};
        size_t lens[5];
        for (size_t i = 0; i < 5; i++)
            lens[i] = strlen (argv[i]);
        redisReply *reply = pmo_redis_eval (redis, &s_take, 1, 5, argv, lens);
        if (!reply)
            return -1;
        int rc = -1;
        if (reply->type == REDIS_REPLY_INTEGER && reply->integer >= (long long)n) {
            *first = reply->integer - (long long)n + 1;
            rc = 0;
        }
        freeReplyObject (reply);
        if (rc || pmo_redis_connects (redis) == connection)
            return rc;
    }
    return -1;
}

int pmo_seq_id (pmo_redis_t *redis, pmo_arena_t *arena, const char *key, const char *prefix,
                const char *division, char **id)
{
    long long n;
    if (pmo_seq_take (redis, key, prefix, 1, &n))
        return -1;
    *id = pmo_arena_printf (arena, "%s_%s_%lld", prefix, division, n);
    return 0;
}
