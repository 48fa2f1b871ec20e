/*  pmo_seq.h: numbers for new ids, never issued twice across a failover.

    Ids are "<prefix>_<division>_<n>" with n from a counter field in Redis
    (HINCRBY). A Sentinel failover, or a master restarted from an append-only
    file synced once a second, can lose the master's last writes: the
    counter's last increments and what was created with them. Nothing of it
    was acknowledged (commits wait for a replica, pmo_redis_wait_replicas),
    but readers of the old master saw it: another replica's in-memory index,
    the division stream's consumers (the hub, the notifier, SSE clients).
    Handing out those numbers again would give a new entity the id of one
    they saw, and they would take the new one for a change of the old.

    So the counter's hash remembers the replication id of the master that
    last counted (field "#replid"; Redis gives a master a new one when a
    replica is promoted and when it restarts). When a count finds another
    master's, it skips PMO_SEQ_FENCE numbers first: far more than can be
    issued between a write and its replication. The first count ever does
    not skip. Gaps in the numbers are expected and harmless.
*/
#ifndef PMO_SEQ_H_INCLUDED
#define PMO_SEQ_H_INCLUDED

#include "pmo_redis.h"
#include "pmo_util.h"

#include <stdint.h>

#define PMO_SEQ_FENCE 10000

//  Take n (>= 1) numbers from field of the counter hash key: *first is the
//  first of them (the others follow it). 0, or -1 if Redis failed or
//  refused (nothing taken).
int pmo_seq_take (pmo_redis_t *redis, const char *key, const char *field, uint64_t n,
                  long long *first);

//  One new id, "<prefix>_<division>_<n>" in arena, n from field prefix of
//  the counter hash key. 0, or -1 if Redis failed.
int pmo_seq_id (pmo_redis_t *redis, pmo_arena_t *arena, const char *key, const char *prefix,
                const char *division, char **id);

#endif
