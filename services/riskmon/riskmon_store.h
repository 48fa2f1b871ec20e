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
//  A PMO unit's own thresholds (in the hub's slot).
char *riskmon_key_thresholds (pmo_arena_t *arena, const char *hub, const char *unit);
//  The division's event stream.
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
//  The stored reply of a request already done in division (1), or 0.
int riskmon_store_replay (riskmon_store_t *self, pmo_arena_t *arena, const char *division,
                          const char *request_id, uint8_t **reply, size_t *size);
//  A new id for prefix in division ("rk_dft_7").
int riskmon_store_next_id (riskmon_store_t *self, pmo_arena_t *arena, const char *prefix,
                           const char *division, char **id);
//  Reserve count sequence numbers for prefix in division at once: the
//  first is *first (ids "<prefix>_<division>_<n>"). Unused ones leave gaps.
int riskmon_store_reserve_ids (riskmon_store_t *self, const char *prefix, const char *division,
                               uint64_t count, uint64_t *first);
//  Members of a sorted set with min < score <= max (min -inf if after is
//  NULL), in score order, up to count.
int riskmon_store_zrange (riskmon_store_t *self, pmo_arena_t *arena, const char *key,
                          const double *after, double max, size_t count, char ***members,
                          double **scores, size_t *n);
//  Every PMO unit's own thresholds.
int riskmon_store_thresholds (riskmon_store_t *self, pmo_arena_t *arena, Pmo__Thresholds ***list,
                              uint64_t **versions, size_t *n);
//  Divisions known to have streams (remembered across restarts).
int riskmon_store_divisions (riskmon_store_t *self, pmo_arena_t *arena, char ***list, size_t *n);
int riskmon_store_add_division (riskmon_store_t *self, const char *division);

//  ---------------------------------------------------------------------
//  Writes outside commits: schedule entries only (derived, idempotent)

//  Queue ZADD (at > 0) or ZREM (at == 0) of project in the due set; read
//  the replies with riskmon_store_pipe_done.
int riskmon_store_pipe_due (riskmon_store_t *self, pmo_arena_t *arena, const char *division,
                            const char *project, int64_t at);
//  Collect n queued replies; -1 if any failed.
int riskmon_store_pipe_done (riskmon_store_t *self, size_t n);
//  Make every project of division due at `at` (after thresholds or a
//  policy changed).
int riskmon_store_due_all (riskmon_store_t *self, pmo_arena_t *arena, const char *division,
                           int64_t at);

//  ---------------------------------------------------------------------
//  Commits

//  A commit in division (the request id is the idempotency key).
pmo_commit_t *riskmon_store_commit (const char *division, const char *request_id);
//  Put msg at key, checking that the stored version is expect (0 = new).
void riskmon_store_put (pmo_commit_t *commit, pmo_arena_t *arena, const char *key,
                        const ProtobufCMessage *msg, uint64_t expect, uint64_t version);
//  Append the event to the division's stream.
void riskmon_store_event (pmo_commit_t *commit, pmo_arena_t *arena, const char *division,
                          const Pmo__Event *event);
//  The ids of the last n entries of a stream up to last_id, oldest first
//  (the events one commit appended). 0 or -1.
int riskmon_store_stream_ids (riskmon_store_t *self, pmo_arena_t *arena, const char *division,
                              const char *last_id, size_t n, char **ids);
//  The same, pipelined: queue the read, then collect it (in order).
int riskmon_store_pipe_stream_ids (riskmon_store_t *self, pmo_arena_t *arena, const char *division,
                                   const char *last_id, size_t n);
int riskmon_store_pipe_stream_ids_reply (riskmon_store_t *self, pmo_arena_t *arena, size_t n,
                                         char **ids);
//  Acknowledge entries of one stream for group. 0 or -1.
int riskmon_store_ack (riskmon_store_t *self, const char *stream, const char *group,
                       const char **ids, size_t n);

//  The sequence number in an id ("rk_dft_43" -> 43).
double riskmon_store_id_seq (const char *id);

#endif
