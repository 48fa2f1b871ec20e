/*  riskmon_store.h: the risk monitor's Redis layout. This is the only file
    that spells the risk monitor's keys; the service README lists them.

    Keys are built into the caller's arena. Reads decode into the caller's
    arena and return 1 (found), 0 (absent) or -1 (Redis unavailable);
    writes go through one pmo_commit.
*/
#ifndef RISKMON_STORE_H_INCLUDED
#define RISKMON_STORE_H_INCLUDED

#include "events.pb-c.h"
#include "pmo_commit.h"
#include "pmo_stream.h"
#include "pmo_util.h"
#include "riskmon.pb-c.h"

//  Id prefixes of what the risk monitor keeps
#define RISKMON_RISK   "rk"
#define RISKMON_ISSUE  "is"
#define RISKMON_CHANGE "cr"
#define RISKMON_RAID   "ra"
#define RISKMON_ALERT  "al"

typedef struct _riskmon_store_t riskmon_store_t;

riskmon_store_t *riskmon_store_new (pmo_redis_t *redis, const char *hub);
void riskmon_store_destroy (riskmon_store_t **self_p);
const char *riskmon_store_hub (riskmon_store_t *self);

//  ---------------------------------------------------------------------
//  Keys (in arena)

//  A project's health record (ProjectHealth).
char *riskmon_key_project (pmo_arena_t *arena, const char *division, const char *project);
//  The projects of a division the risk monitor knows.
char *riskmon_key_projects (pmo_arena_t *arena, const char *division);
//  When each project's time rules may fire next.
char *riskmon_key_due (pmo_arena_t *arena, const char *division);
//  The seq-th health assessment of a project.
char *riskmon_key_history (pmo_arena_t *arena, const char *division, const char *project,
                           uint64_t seq);
//  A register entry or alert, and its version kept for history.
char *riskmon_key_entry (pmo_arena_t *arena, const char *division, const char *prefix,
                         const char *id);
char *riskmon_key_entry_version (pmo_arena_t *arena, const char *division, const char *prefix,
                                 const char *id, uint64_t version);
//  Ids of a kind in the division (project NULL) or of one project.
char *riskmon_key_index (pmo_arena_t *arena, const char *division, const char *prefix,
                         const char *project);
//  Alerts waiting to climb, by the time they do.
char *riskmon_key_escalations (pmo_arena_t *arena, const char *division);
//  Counts the sweep's transactions refused by their version check; each
//  transaction WATCHes it (riskmon_batch_transactions).
char *riskmon_key_fence (pmo_arena_t *arena, const char *division);
//  A PMO unit's own thresholds (in the hub's slot).
char *riskmon_key_thresholds (pmo_arena_t *arena, const char *hub, const char *unit);
//  The units that set thresholds (in the hub's slot).
char *riskmon_key_thresholds_index (pmo_arena_t *arena, const char *hub);
//  The division's event stream (pmo_stream_key).
char *riskmon_key_events (pmo_arena_t *arena, const char *division);
//  The request id under which a stream entry's effect on a project is
//  recorded, so a redelivered entry changes nothing twice.
char *riskmon_event_request_id (pmo_arena_t *arena, const char *stream_division,
                                const char *entry_id, const char *project);

//  ---------------------------------------------------------------------
//  Reads

//  An entity hash (v, d) decoded as desc; *version may be NULL.
int riskmon_store_get (riskmon_store_t *self, pmo_arena_t *arena, const char *key,
                       const ProtobufCMessageDescriptor *desc, ProtobufCMessage **msg,
                       uint64_t *version);
//  Several in one round trip; absent ones are NULL (versions may be NULL).
int riskmon_store_get_many (riskmon_store_t *self, pmo_arena_t *arena, char *const *keys, size_t n,
                            const ProtobufCMessageDescriptor *desc, ProtobufCMessage **msgs,
                            uint64_t *versions);
//  Read ahead: the HMGETs of keys[0..n) sent now, their answers taken one
//  at a time, in order, later, so Redis reads while the caller works on
//  what came before (the sweep's records). Only for a connection nothing
//  else uses while answers are owed. 0, or -1 if Redis failed.
int riskmon_store_ahead (riskmon_store_t *self, char *const *keys, size_t n);
//  The next answer read ahead, decoded as desc into arena: 1, 0 if the key
//  holds none, -1 if Redis failed.
int riskmon_store_ahead_take (riskmon_store_t *self, pmo_arena_t *arena,
                              const ProtobufCMessageDescriptor *desc, ProtobufCMessage **msg,
                              uint64_t *version);
//  The answers still owed, read and dropped (the connection is in step).
void riskmon_store_ahead_drop (riskmon_store_t *self);
//  Send what is queued on the connection now (Redis works on it while the
//  caller goes on). 0, or -1 if Redis failed.
int riskmon_store_push (riskmon_store_t *self);
//  Every project of a division and the version of its record (0: absent),
//  in one step (lua/versions.lua); ids and versions in arena.
int riskmon_store_project_versions (riskmon_store_t *self, pmo_arena_t *arena, const char *division,
                                    char ***ids, uint64_t **versions, size_t *n);
//  The same for several divisions in one round trip: out[d] for
//  divisions[d]. 0, or -1 if Redis failed.
typedef struct {
    char **ids;
    uint64_t *versions;
    size_t n;
} riskmon_versions_t;
int riskmon_store_project_versions_many (riskmon_store_t *self, pmo_arena_t *arena,
                                         char *const *divisions, size_t n, riskmon_versions_t *out);
//  A new id for prefix in division ("rk_dft_7").
int riskmon_store_next_id (riskmon_store_t *self, pmo_arena_t *arena, const char *prefix,
                           const char *division, char **id);
//  Reserve count sequence numbers for prefix in division at once: the
//  first is *first (ids "<prefix>_<division>_<n>"). Unused ones leave gaps.
int riskmon_store_reserve_ids (riskmon_store_t *self, const char *prefix, const char *division,
                               uint64_t count, uint64_t *first);
//  The lowest score in the sorted set key: 0 and *score set (INT64_MAX if
//  the set is empty), or -1.
int riskmon_store_zfirst (riskmon_store_t *self, const char *key, int64_t *score);
//  Members of a sorted set with min < score <= max (min -inf if after is
//  NULL), in score order, up to count.
int riskmon_store_zrange (riskmon_store_t *self, pmo_arena_t *arena, const char *key,
                          const double *after, double max, size_t count, char ***members,
                          double **scores, size_t *n);
//  The members (not their scores: the sweep needs none, and Redis formats
//  each score as text) with score <= max, up to count, queued behind what
//  is in flight on the store's connection, and sent;
//  riskmon_store_zrange_take reads its answer once every reply queued
//  before it was read. 0 or -1.
int riskmon_store_pipe_zrange (riskmon_store_t *self, const char *key, double max, size_t count);
int riskmon_store_zrange_take (riskmon_store_t *self, pmo_arena_t *arena, char ***members,
                               size_t *n);
//  Every PMO unit's own thresholds.
int riskmon_store_thresholds (riskmon_store_t *self, pmo_arena_t *arena, Pmo__Thresholds ***list,
                              uint64_t **versions, size_t *n);
//  Divisions known to have streams (remembered across restarts).
int riskmon_store_divisions (riskmon_store_t *self, pmo_arena_t *arena, char ***list, size_t *n);
int riskmon_store_add_division (riskmon_store_t *self, const char *division);

//  ---------------------------------------------------------------------
//  Writes outside commits: schedule entries only (derived, idempotent)

//  The same for n projects at once (at[i] 0 = none): one ZADD and one
//  ZREM at most. Returns the replies to collect, or -1.
int riskmon_store_pipe_due_many (riskmon_store_t *self, pmo_arena_t *arena, const char *division,
                                 char *const *projects, const int64_t *at, size_t n);
//  Collect n queued replies; -1 if any failed.
int riskmon_store_pipe_done (riskmon_store_t *self, size_t n);
//  Every project of division is to be looked at again (thresholds or a
//  policy changed): one marker in its due set, "*<token>:0" at score 0,
//  that the sweep walks the projects set from (riskmon_health.c). token
//  tells markers apart (one written while another is walked is a new
//  re-check). 0 or -1.
int riskmon_store_recheck_mark (riskmon_store_t *self, pmo_arena_t *arena, const char *division,
                                int64_t token);
//  A re-check moved on: next (NULL when it is done) replaces marker. 0 or -1.
int riskmon_store_recheck_move (riskmon_store_t *self, pmo_arena_t *arena, const char *division,
                                const char *marker, const char *next);
//  The scores of n members of a sorted set in one step (0 for one that is
//  absent). 0 or -1.
int riskmon_store_zmscore (riskmon_store_t *self, pmo_arena_t *arena, const char *key,
                           char *const *members, size_t n, int64_t *scores);

//  ---------------------------------------------------------------------
//  Commits

//  A commit in division (the request id is the idempotency key).
pmo_commit_t *riskmon_store_commit (const char *division, const char *request_id);
//  Put msg at key, checking that the stored version is expect (0 = new).
void riskmon_store_put (pmo_commit_t *commit, pmo_arena_t *arena, const char *key,
                        const ProtobufCMessage *msg, uint64_t expect, uint64_t version);
//  Append the event to the division's stream. Returns its encoding (in
//  arena), *size its length.
const uint8_t *riskmon_store_event (pmo_commit_t *commit, pmo_arena_t *arena, const char *division,
                                    const Pmo__Event *event, size_t *size);
//  The event encoded as blob (size bytes, its id empty) with its stream id
//  added, in arena; *out_size its length.
uint8_t *riskmon_store_event_with_id (pmo_arena_t *arena, const uint8_t *blob, size_t size,
                                      const char *id, size_t *out_size);
//  ---------------------------------------------------------------------
//  The risk monitor's commits, and batches of them
//
//  A riskmon_commit_t records what one commit writes (ops in the arena).
//  It runs in one of two ways, with the same all-or-nothing effect:
//  - copied into a pmo_commit (requests: the reply is kept under the
//    request id; riskmon_commit_copy_into);
//  - as one step of a batch script (stream entries, the time rules): one
//    EVALSHA carries up to a chunk of commits of one division and runs them
//    in order, each checked on its own (applied markers, versions) and
//    either applied whole or refused whole, so a refused commit writes
//    nothing while the others in the script still apply. Writes to the
//    same entity or sorted set within one script are folded into one
//    Redis command at the end of it (invisible to anyone: the script is
//    atomic), which is what makes a batch cheap for Redis.

typedef struct _riskmon_commit_t riskmon_commit_t;

riskmon_commit_t *riskmon_commit_new (pmo_arena_t *arena);
//  Put msg at key, checking that the stored version is expect (0 = new).
void riskmon_commit_put (riskmon_commit_t *self, const char *key, const ProtobufCMessage *msg,
                         uint64_t expect, uint64_t version);
//  Put msg at a key that cannot exist yet because another check of the
//  same commit guards it (a history entry numbered from a version-checked
//  record, an alert under a freshly reserved id). A batch writes it
//  without reading it; a pmo_commit still checks it is absent.
void riskmon_commit_create (riskmon_commit_t *self, const char *key, const ProtobufCMessage *msg,
                            uint64_t version);
void riskmon_commit_zadd (riskmon_commit_t *self, const char *key, double score,
                          const char *member);
void riskmon_commit_zrem (riskmon_commit_t *self, const char *key, const char *member);
//  Append the event to the division's stream. Returns its encoding (in
//  the commit's arena), *size its length.
const uint8_t *riskmon_commit_event (riskmon_commit_t *self, const char *division,
                                     const Pmo__Event *event, size_t *size);
//  Add every op, in order, to a pmo_commit.
void riskmon_commit_copy_into (riskmon_commit_t *self, pmo_commit_t *commit);

//  What became of one commit of a batch.
typedef struct {
    pmo_commit_status_t status; //  OK, DUPLICATE (already applied), CONFLICT, UNAVAILABLE, ERROR
    char **ids;                 //  OK: the stream ids of its events, in order
    size_t n_ids;
} riskmon_batch_result_t;

typedef struct _riskmon_batch_t riskmon_batch_t;

//  Everything lives in arena (kept until the batch is destroyed); chunk is
//  the number of commits per script.
riskmon_batch_t *riskmon_batch_new (riskmon_store_t *store, pmo_arena_t *arena, size_t chunk);
void riskmon_batch_destroy (riskmon_batch_t **self_p);
//  From now on a script's worth of commits without applied markers goes
//  as one MULTI/EXEC transaction (WATCH and a version check before it),
//  which costs Redis about half what lua/batch.lua does; all or nothing:
//  one stale version refuses every commit of it as CONFLICT. Commits that
//  chain on each other's puts, or carry markers, still go as the script.
//  For the time-rule sweep, whose refused commits stay due.
void riskmon_batch_transactions (riskmon_batch_t *self);
//  Queue commit in division. applied_id (or NULL) is the request id that
//  marks it applied (kept ttl_s): if the marker exists the commit is
//  refused as DUPLICATE. Returns the commit's ticket. A full script is
//  sent at once (pipelined; its answer is read by riskmon_batch_recv).
size_t riskmon_batch_add (riskmon_batch_t *self, const char *division, riskmon_commit_t *commit,
                          const char *applied_id, int ttl_s);
//  Send every script not yet sent.
void riskmon_batch_send (riskmon_batch_t *self);
//  Read the answers of every script sent (a commit that could not be sent
//  or answered is UNAVAILABLE: it may or may not have happened).
void riskmon_batch_recv (riskmon_batch_t *self);
//  The result of a ticket whose script was answered.
const riskmon_batch_result_t *riskmon_batch_result (riskmon_batch_t *self, size_t ticket);

//  The ids of the last n entries of a stream up to last_id, oldest first
//  (the events one commit appended). 0 or -1.
int riskmon_store_stream_ids (riskmon_store_t *self, pmo_arena_t *arena, const char *division,
                              const char *last_id, size_t n, char **ids);
//  Acknowledge entries of one stream for group. 0 or -1.
int riskmon_store_ack (riskmon_store_t *self, const char *stream, const char *group,
                       const char **ids, size_t n);

//  Read division's stream with group from now on: the group is made if
//  missing (from the stream's beginning) and the division remembered, so
//  a restart reads it before the registry answers. 0 or -1.
int riskmon_store_stream_open (riskmon_store_t *self, const char *division, const char *group);
//  Entries other consumers of group left pending longer than min_idle_ms,
//  from up to max_streams of streams starting at *cursor
//  (pmo_stream_group_reclaim). 0 or -1.
int riskmon_store_stream_reclaim (riskmon_store_t *self, const char *group, const char *consumer,
                                  const char *const *streams, size_t n, size_t *cursor,
                                  size_t max_streams, size_t count, int min_idle_ms,
                                  pmo_stream_batch_t *batch);
//  Run a request's or an escalation's commit (pmo_commit_exec).
void riskmon_store_exec (riskmon_store_t *self, pmo_commit_t *commit, pmo_commit_result_t *result);

//  The sequence number in an id ("rk_dft_43" -> 43).
double riskmon_store_id_seq (const char *id);

#endif
