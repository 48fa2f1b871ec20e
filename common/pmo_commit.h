/*  pmo_commit.h: one commit, one event.

    A commit gathers everything one request changes in one division: entities
    (with optimistic version checks), their indexes, unique-key claims, the
    domain event for the division's stream, and the idempotency record (the
    reply, kept under the request id). pmo_commit_exec runs it as one Lua
    script, so either all of it happens or none of it does.

    Every key must carry the division's hash tag "{division}" so that the
    script stays valid on Redis Cluster.

    Entities are Redis hashes with two fields: "v" (the version, 1 on create)
    and "d" (the protobuf blob).
*/
#ifndef PMO_COMMIT_H_INCLUDED
#define PMO_COMMIT_H_INCLUDED

#include "pmo_redis.h"
#include "pmo_util.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct _pmo_commit_t pmo_commit_t;

typedef enum {
    PMO_COMMIT_OK = 0,          //  everything written; stream_id is the event's id
    PMO_COMMIT_DUPLICATE = 1,   //  the request id was seen: previous holds the first reply
    PMO_COMMIT_CONFLICT = 2,    //  key's version is not the one expected; nothing written
    PMO_COMMIT_TAKEN = 3,       //  a claimed unique field belongs to someone else
    PMO_COMMIT_UNAVAILABLE = 4, //  Redis could not be reached or did not answer in time,
                                //  or the replicas did not confirm it in time: the
                                //  commit may or may not have happened (retry)
    PMO_COMMIT_ERROR = 5,       //  Redis refused the script (a bug or misconfiguration)
} pmo_commit_status_t;

typedef struct {
    pmo_commit_status_t status;
    char stream_id[64];      //  OK: the event's stream id
    char key[256];           //  CONFLICT/TAKEN: the key (and field) that failed
    uint64_t actual_version; //  CONFLICT: the version found (0 = absent)
    char *previous;          //  DUPLICATE: the stored reply (caller frees with free)
    size_t previous_size;
} pmo_commit_result_t;

//  division names the hash tag; request_id keys the idempotency record.
pmo_commit_t *pmo_commit_new (const char *division, const char *request_id);
void pmo_commit_destroy (pmo_commit_t **self_p);

//  Write an entity: the stored version must be expect (0 = must not exist);
//  afterwards it is new_version.
void pmo_commit_put (pmo_commit_t *self, const char *key, uint64_t expect, uint64_t new_version,
                     const void *blob, size_t size);
//  Require key's version to be expect without writing it.
void pmo_commit_check (pmo_commit_t *self, const char *key, uint64_t expect);
//  Claim field in hash key for value: fails with TAKEN if it holds another.
void pmo_commit_claim (pmo_commit_t *self, const char *key, const char *field, const char *value);
void pmo_commit_unclaim (pmo_commit_t *self, const char *key, const char *field);
void pmo_commit_zadd (pmo_commit_t *self, const char *key, double score, const char *member);
void pmo_commit_zrem (pmo_commit_t *self, const char *key, const char *member);
//  The event, appended to stream key with fields "type" and "data".
void pmo_commit_event (pmo_commit_t *self, const char *key, const char *type, const void *blob,
                       size_t size);
//  The reply to keep for retries of this request, for ttl_s seconds.
void pmo_commit_reply (pmo_commit_t *self, const void *blob, size_t size, int ttl_s);

//  The idempotency key of a request in a division; caller frees.
char *pmo_commit_idem_key (const char *division, const char *request_id);

//  The stored reply of a request already done in division: 1 with *reply
//  (in arena) and *size, 0 if it was not done, -1 if Redis failed or the
//  replicas did not confirm it (pmo_commit_confirm_replay).
int pmo_commit_replay (pmo_redis_t *redis, pmo_arena_t *arena, const char *division,
                       const char *request_id, uint8_t **reply, size_t *size);

//  Run it. Returns 0 when status is OK, -1 otherwise (see result). OK and
//  DUPLICATE are answered only once the URL's replicas hold the commit
//  (pmo_commit_confirm); when they do not confirm in time the result is
//  UNAVAILABLE: retry with the same request id.
int pmo_commit_exec (pmo_commit_t *self, pmo_redis_t *redis, pmo_commit_result_t *result);

//  The one rule before a commit is acknowledged: the replicas the Redis URL
//  names must hold it (pmo_redis_wait_replicas), since a failover loses what
//  only the master had. One WAIT for a group of results read from this
//  connection (pmo_commit_recv; also one fsync, one round trip): 0 if they
//  are confirmed or none is OK/DUPLICATE; -1 after turning every OK and
//  DUPLICATE among them into UNAVAILABLE (what they wrote may not survive a
//  failover; a retry with the same request id answers the stored reply once
//  it is confirmed). pmo_commit_exec applies it to its own result.
int pmo_commit_confirm (pmo_redis_t *redis, pmo_commit_result_t *results, size_t n);

//  Before answering a stored reply again (a retried request found done),
//  make sure the replicas hold it too: it may come from a commit whose
//  confirmation failed. 0 or -1 (answer unavailable). pmo_commit_replay
//  does this itself.
int pmo_commit_confirm_replay (pmo_redis_t *redis, const char *division, const char *request_id);

//  Pipelining (added for the risk monitor's batches; pmo_commit_exec is
//  unchanged): pmo_commit_send queues the commit on the connection without
//  waiting (0, or -1 if Redis is unreachable); pmo_commit_recv reads the
//  result of the oldest commit sent, in order, and returns as
//  pmo_commit_exec but without waiting for the replicas: call
//  pmo_commit_confirm on the group's results before answering any of them.
//  Redis runs each queued commit atomically, in order.
int pmo_commit_send (pmo_commit_t *self, pmo_redis_t *redis);
int pmo_commit_recv (pmo_redis_t *redis, pmo_commit_result_t *result);

//  Group commit: n commits of one division (n > 0) in one script call, so
//  that Redis dispatches one command, logs one AOF entry and, with
//  appendfsync always, they share one fsync. Each commit is decided as if
//  it ran alone after the ones before it in commits[] (a later commit sees
//  the earlier ones written; one that fails writes nothing of its own and
//  the others go on). pmo_commit_send_group queues it like pmo_commit_send;
//  pmo_commit_recv_group reads its n results (0 if every one is OK, else
//  -1; all UNAVAILABLE if Redis failed, nothing written then), in the
//  order the groups and single commits were sent. Confirm them as above.
int pmo_commit_send_group (pmo_commit_t **commits, size_t n, pmo_redis_t *redis);
int pmo_commit_recv_group (pmo_redis_t *redis, pmo_commit_result_t *results, size_t n);

//  Release what a result holds.
void pmo_commit_result_clear (pmo_commit_result_t *result);

#endif
