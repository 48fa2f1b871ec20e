/*  riskmon_internal.h: what the risk monitor's own files share (the
    actor's state, the shapes of a batch, and the functions one file
    offers the others). Used only inside services/riskmon.
*/
#ifndef RISKMON_INTERNAL_H_INCLUDED
#define RISKMON_INTERNAL_H_INCLUDED

#include "riskmon_model.h"
#include "riskmon_server.h"
#include "riskmon_store.h"

#include "orgtree.h"
#include "orgtree_reader.h"
#include "pmo_client.h"
#include "pmo_request.h"
#include "pmo_server.h"
#include "pmo_stream.h"
#include "registry.pb-c.h"

#define STORE_NAME       "the risk monitor's store (Redis)" //  what is unavailable
#define UNITS_REFRESH_MS 30000 //  org units are re-read from the registry this often
#define UNITS_RETRY_MS   1000  //  ... this soon after a failure
#define UNITS_TIMEOUT_MS 1000  //  one request to the registry for org units
#define GROUP            "riskmon"
#define MAX_STREAMS      4096
#define READ_BLOCK_MS    5000 //  a stream read waits this long in Redis
#define RECLAIM_STEP_MS  1000 //  reclaim a few streams this often ...
#define RECLAIM_STREAMS  2    //  ... this many at a time (all of them at start)
#define BATCH_CHUNK      64   //  commits per batch script

//  The actor's state: one thread (the actor's) owns all of it.
typedef struct {
    riskmon_config_t config;      //  as given, defaults filled in
    pmo_redis_t *redis;           //  the main connection: commits, stream reads, requests
    riskmon_store_t *store;       //  on redis
    pmo_redis_t *side_redis;      //  a second connection, for reads while commits are in flight
    riskmon_store_t *side;        //  on side_redis
    pmo_redis_t *ahead_redis;     //  a third, for the sweep's records read ahead of their turn
    riskmon_store_t *ahead;       //  on ahead_redis
    zhashx_t *batch_alerts;       //  alert id -> s_alert_seen_t: alerts the batch in hand wrote
    pmo_server_t *server;         //  the ROUTER and its request engine
    zsock_t *pub;                 //  live events (a convenience: the streams are what must arrive)
    pmo_client_t *registry;       //  calls a request must wait for (a project not seen yet)
    Pmo__Identity identity;       //  the risk monitor's own, for calls to the registry
    Pmo__Grant grant;             //  viewer at the hub
    Pmo__Grant *grants[1];        //  identity's grants
    orgtree_t *tree;              //  the org units, as the registry has them
    uint64_t units_generation;    //  the tree's generation whose divisions are read
    orgtree_reader_t *units;      //  the periodic re-read, never waiting (riskmon_units_due)
    zhashx_t *thresholds;         //  unit id -> Pmo__Thresholds (owned copies)
    zhashx_t *alert_ids;          //  division -> s_ids_t: alert ids reserved in blocks
    zhashx_t *portfolio;          //  project id -> its portfolio row at a record version
    int64_t thresholds_next_ms;   //  monotonic: when to re-read them
    char *streams[MAX_STREAMS];   //  stream keys being read
    char *divisions[MAX_STREAMS]; //  their divisions
    size_t n_streams;             //  how many of each
    pmo_stream_reader_t *reader;  //  new entries (waits in Redis on its own connection)
    bool reader_streams_ok;       //  the reader reads the streams above
    size_t reclaim_cursor;        //  the next stream to reclaim from
    size_t reclaim_passed;        //  streams reclaimed since start (the first pass is whole)
    //  When each division next has a project whose health time changes
    //  (sweep_at) and an alert to escalate (escalate_at), in riskmon_now's
    //  ms: 0 = unknown (ask Redis at the next tick), INT64_MAX = nothing.
    //  Learnt from the sweep and escalation themselves; what this replica
    //  commits makes its division unknown; one division a tick is re-read
    //  in turn for other replicas' commits.
    int64_t sweep_at[MAX_STREAMS];
    int64_t escalate_at[MAX_STREAMS];
    size_t refresh_cursor;
    pmo_arena_t *work;  //  the current batch, sweep or escalation
    bool in_batch;      //  commits are in flight on redis: reads go to side (riskmon_reader)
    int64_t started_ms; //  wall clock, for ping's uptime
    //  counters (RiskmonStats)
    uint64_t applied, ignored, duplicate, health_changes, sweeps, swept, alerts_raised, escalations;
} riskmon_t;

//  The events one commit appends, in order, each with its encoding as
//  appended (published with its stream id added, not encoded again).
typedef struct {
    Pmo__Event **events;
    const uint8_t **blobs;
    size_t *sizes;
    size_t n, max;
    bool health_changed;
} riskmon_change_t;

//  A project one batch touches, and its record as the batch sees it.
typedef struct {
    char *division;
    char *project_id;
    Pmo__ProjectHealth *ph;
    uint64_t version;
    bool broken; //  a commit for it failed: later ones in the batch are void
} riskmon_target_t;

//  One stream entry's effect on one project (or one project the sweep
//  looks at).
typedef struct {
    size_t item;
    size_t target;
    size_t ticket; //  its commit in the batch
    bool sent;     //  queued in the batch
    bool ok;       //  committed, or found already applied
    bool publish;  //  committed: its events go out on PUB
    char **ids;    //  their stream ids
    size_t n_ids;
    riskmon_change_t change;
    bool plain; //  sweep: unchanged, only its due time is written
    int64_t due;
} riskmon_work_t;

//  Commits queued in a batch, in the order queued.
typedef struct {
    riskmon_t *self;
    riskmon_batch_t *batch;
    riskmon_work_t *work;
    riskmon_target_t *targets; //  NULL in the sweep
    size_t *order;             //  work indexes
    size_t n_sent, n_received;
} riskmon_pipe_t;

//  Raising an alert writes the alert and no copy of its first version (the
//  alert is it, until it changes: most alerts of a sweep never do). Before
//  its first change (version is 1) this writes that copy into commit,
//  unless an alert raised before this rule has it already (one read).
//  0, or -1 if Redis failed. (The sweep's batch commits, whose puts need no
//  check, write it themselves.)
int riskmon_alert_first (riskmon_t *self, pmo_commit_t *commit, pmo_arena_t *arena,
                         const char *division, const Pmo__Alert *alert, uint64_t version);

//  ---------------------------------------------------------------------
//  riskmon_units.c: streams, org units, thresholds

//  Read division's stream from now on (once; the group is made if
//  missing). 0, or -1 if the division is not valid or Redis failed.
int riskmon_stream_add (riskmon_t *self, const char *division);

//  The unit with id as the tree holds it, without asking the registry:
//  for the health computations, which must never wait on it. NULL if the
//  tree holds none. Valid until the next call on the tree that reads.
const Pmo__OrgUnit *riskmon_unit_held (riskmon_t *self, const char *id);

//  The unit with id for a request (in arena): the registry is asked if the
//  tree does not hold it fresh (one it never held, one read before an
//  org-unit event or too long ago); if the registry does not answer, what
//  the tree held is used. NULL if there is no such unit.
const Pmo__OrgUnit *riskmon_unit_for (riskmon_t *self, pmo_arena_t *arena, const char *id);

//  Read the org units now, waiting for the registry (one timeout at most;
//  the tree backs off from a registry that does not answer), and read the
//  stream of every division the tree knows: at the start, and before the
//  projects of a batch with an org-unit event are assessed.
void riskmon_units_sync (riskmon_t *self);

//  The periodic re-read (every UNITS_REFRESH_MS, and at once after an
//  org-unit event), which never holds up the loop (lib/orgtree's
//  orgtree_reader): the loop calls riskmon_units_due at
//  orgtree_reader_next_ms and riskmon_units_take when the reader's socket
//  has replies; each follows the divisions of a tree read in full. A
//  registry that is down or slow costs staleness, never a wait.
//  riskmon_units_open makes the reader (0, or -1 for a bad endpoint).
int riskmon_units_open (riskmon_t *self);
void riskmon_units_due (riskmon_t *self);
void riskmon_units_take (riskmon_t *self);

//  The components of path, in arena; returns how many.
size_t riskmon_path_split (pmo_arena_t *arena, const char *path, char **parts, size_t max);

//  The reporting period in force at path: the nearest policy that sets one
//  (the registry's inheritance rule); 0 if none does.
uint32_t riskmon_reporting_days (riskmon_t *self, pmo_arena_t *arena, const char *path);

//  The PMO type of the nearest PMO unit strictly above the last of path.
Pmo__PmoType riskmon_pmo_above (riskmon_t *self, pmo_arena_t *arena, const char *path);

//  Read every unit's own thresholds again. 0 or -1.
int riskmon_thresholds_reload (riskmon_t *self);

//  The thresholds in force at path: the defaults, then each unit's own
//  from the root down (the first `depth` components; all if depth < 0).
//  *from lists the units that set some.
void riskmon_effective (riskmon_t *self, pmo_arena_t *arena, const char *path, int depth,
                        Pmo__Thresholds *out, char **from);

//  ---------------------------------------------------------------------
//  riskmon_health.c: health records, alerts, batches, time rules

//  Unix ms on the configured clock (tests move it).
int64_t riskmon_now (riskmon_t *self);

//  Where to read while building a batch: beside the commits in flight
//  (their answers are not read yet), on the main connection otherwise.
riskmon_store_t *riskmon_reader (riskmon_t *self);

//  A batch begins or ends: what it wrote is no longer known for sure.
void riskmon_batch_mode (riskmon_t *self, bool on);

//  The division of a project id, in arena; NULL if it is malformed.
char *riskmon_division_of (pmo_arena_t *arena, const char *project_id);

//  An event from the risk monitor, body set as body_field, in arena. Its
//  actor is the one of the event or request that caused it, with via (how
//  that actor was authenticated); actor NULL or "riskmon": the risk monitor
//  on its own account, via its key.
Pmo__Event *riskmon_event_new (pmo_arena_t *arena, const char *type, const char *division,
                               const char *org_unit, const char *path, const char *entity_id,
                               uint64_t version, const char *actor, const char *via,
                               const char *request_id, const char *body_field,
                               ProtobufCMessage *body, int64_t now);

//  Add an event to a request's commit and remember it for PUB.
void riskmon_change_add (pmo_arena_t *arena, pmo_commit_t *commit, riskmon_change_t *change,
                         const char *division, Pmo__Event *event);

//  The same for a risk monitor commit.
void riskmon_change_event (pmo_arena_t *arena, riskmon_commit_t *commit, riskmon_change_t *change,
                           const char *division, Pmo__Event *event);

//  Send a commit's events on PUB, ids filled in.
void riskmon_send_events (riskmon_t *self, pmo_arena_t *arena, const char *division,
                          riskmon_change_t *change, char **ids);

//  Publish a commit's events with their stream ids (the last is known; the
//  others, if any, are read back: the commit appended them contiguously).
void riskmon_publish (riskmon_t *self, pmo_arena_t *arena, const char *division,
                      riskmon_change_t *change, const char *last_id);

//  A record as read: its current assessment speaks of its inputs.
Pmo__ProjectHealth *riskmon_health_read (ProtobufCMessage *msg);

//  A fresh record for a project nobody has told us about yet.
Pmo__ProjectHealth *riskmon_health_new (pmo_arena_t *arena, const char *project_id,
                                        const char *division);

//  Recompute a project's health and add everything that follows to
//  commit: the record (expecting `version`), a history entry and
//  health.changed if it changed, the alerts raised, worsened or resolved,
//  and the next due time. *dirty says whether anything but the due time
//  changed; *due is that time (0 = none). 0, or -1 if Redis failed.
int riskmon_project_update (riskmon_t *self, pmo_arena_t *arena, riskmon_commit_t *commit,
                            Pmo__ProjectHealth *ph, uint64_t version, const char *trigger,
                            const char *actor, const char *via, const char *request_id,
                            riskmon_change_t *change, bool *dirty, int64_t *due, bool skip_clean);

//  Send what is queued and collect every answer so far.
void riskmon_pipe_flush (riskmon_pipe_t *p);

//  Queue a work item's commit.
void riskmon_pipe_add (riskmon_pipe_t *p, size_t k, const char *division, riskmon_commit_t *commit,
                       const char *applied_id);

//  Publish the events of every work item committed.
void riskmon_pipe_publish (riskmon_t *self, pmo_arena_t *arena, riskmon_work_t *work, size_t n,
                           riskmon_target_t *targets, const char *division);

//  Re-assess the projects whose time rules are due, in chunks, until none
//  is due or the budget is spent. Returns the projects looked at.
size_t riskmon_sweep (riskmon_t *self, int budget_ms);

//  Every project of division is to be looked at again (its thresholds or
//  reporting period changed): the next sweep walks them all and writes
//  only what moved (riskmon_store_recheck_mark; the schedule is touched).
void riskmon_recheck (riskmon_t *self, pmo_arena_t *arena, const char *division);

//  Alerts nobody acknowledged in time climb one step.
void riskmon_escalate (riskmon_t *self);
//  The earliest of the division sweep and escalation times (riskmon_now's
//  ms; INT64_MAX if none is known to come).
int64_t riskmon_schedule_next (riskmon_t *self);

//  ---------------------------------------------------------------------
//  riskmon_consume.c: the stream reader

//  Make sure a read of new entries waits in Redis; the descriptor to poll,
//  or -1 (nothing to read, or Redis away: call again after a while).
int riskmon_reader_arm (riskmon_t *self);
//  Act on what the waiting read returned, if it has. Returns the entries
//  read, -1 on failure.
int riskmon_consume (riskmon_t *self);
//  Take over, a few streams at a time (all at the first call), entries
//  another consumer left pending longer than claim_idle_ms, and act on them.
void riskmon_reclaim (riskmon_t *self);
//  The sweep and escalation times of division are unknown: something was
//  committed there.
void riskmon_schedule_touch (riskmon_t *self, const char *division);

//  ---------------------------------------------------------------------
//  riskmon_server.c: request helpers

//  The request's reply, typed.
Pmo__RiskmonReply *riskmon_reply (pmo_request_t *req);

//  A retried request id: the stored reply is the answer (true).
bool riskmon_replayed (riskmon_t *self, pmo_request_t *req, const char *division);

//  The health record of a project the caller may see (NOT_FOUND for one it
//  may not, so ids cannot be probed). A project the streams have not told
//  us about yet is asked of the registry. *version is 0 for a new record.
Pmo__ProjectHealth *riskmon_request_project (riskmon_t *self, pmo_request_t *req,
                                             const char *project_id, const char *field,
                                             uint64_t *version);

//  Finish a change: store the reply with the commit; publish on success.
void riskmon_request_commit (riskmon_t *self, pmo_request_t *req, pmo_commit_t *commit,
                             const char *division, riskmon_change_t *change);

//  ---------------------------------------------------------------------
//  riskmon_registers.c: register requests (field names the request's
//  body member, e.g. "create_risk")

//  What a create or an update does, shared by the single requests and the
//  import batch. Each returns 0, or -1 after failing req (field: the
//  entry's request member, e.g. "create_risk"; replay: a retried request id
//  is answered with the stored reply first).

//  The entry's own checks (riskmon_model.c's).
int riskmon_entry_check (ProtobufCMessage *entry, pmo_arena_t *arena, pmo_problem_t *problem);
//  Its id prefix ("rk").
const char *riskmon_entry_prefix (const ProtobufCMessage *entry);
//  A stored entry the caller may see (NOT_FOUND otherwise), its version and
//  division; NULL after failing req.
ProtobufCMessage *riskmon_entry_fetch (riskmon_t *self, pmo_request_t *req,
                                       const ProtobufCMessageDescriptor *desc, const char *id,
                                       const char *field, uint64_t *version, char **division);
//  A new entry of the project in: who may record it, the project still in
//  delivery, the state a new entry starts in; then its org unit, division,
//  version 1, times and people are set (not its id).
int riskmon_entry_new (riskmon_t *self, pmo_request_t *req, ProtobufCMessage *entry,
                       const char *field, const Pmo__HealthInputs *in, bool replay, int64_t now);
//  next over stored (read at version in division): who may change it (or
//  decide, for a change request), same project, version read, its checks,
//  the state rules (status goes through close, a decision once); then what
//  the stored one keeps is carried over and the version moved on.
int riskmon_entry_next (riskmon_t *self, pmo_request_t *req, ProtobufCMessage *next,
                        ProtobufCMessage *stored, uint64_t version, const char *division,
                        const char *field, bool replay, int64_t now);
//  Put the entry into commit: itself (expecting version `expect`, 0 =
//  new), its version for history, a new one's index entries, and its event
//  (<kind>.created or .updated).
void riskmon_entry_write (pmo_request_t *req, pmo_commit_t *commit, riskmon_change_t *change,
                          ProtobufCMessage *entry, uint64_t expect, int64_t now);
//  The same for an entry that took several steps in one request (the
//  import's final_state): each of the n_steps before it (steps[i]) its
//  version for history and its event <kind>.<events[i]> (events[0]
//  "created" or "updated"), then the entry (its event events[n_steps]).
void riskmon_entry_write_steps (pmo_request_t *req, pmo_commit_t *commit, riskmon_change_t *change,
                                ProtobufCMessage *const *steps, size_t n_steps,
                                ProtobufCMessage *entry, const char *const *events, uint64_t expect,
                                int64_t now);
#define RISKMON_STEPS_MAX 2 //  steps before the last one (create, decide: then close)
//  Whether the caller may close entry, as the close request asks: 0, or -1
//  with req failed (FORBIDDEN).
int riskmon_entry_may_close (pmo_request_t *req, const ProtobufCMessage *entry);
//  Close entry as the close request does (its note, a risk's closed or
//  occurred, an issue's resolution; FAILED_PRECONDITION if already closed;
//  problems under field, e.g. "close.note"); then its version moved on.
int riskmon_entry_close (pmo_request_t *req, ProtobufCMessage *entry,
                         const Pmo__CloseRequest *close, const char *field, int64_t now);
//  The project's health after its risks changed (already applied to ph's
//  inputs), into commit.
int riskmon_entry_health (riskmon_t *self, pmo_request_t *req, pmo_commit_t *commit,
                          Pmo__ProjectHealth *ph, uint64_t ph_version, riskmon_change_t *change);

void riskmon_handle_create_entry (riskmon_t *self, pmo_request_t *req, ProtobufCMessage *entry,
                                  const char *field);

void riskmon_handle_update_entry (riskmon_t *self, pmo_request_t *req, ProtobufCMessage *next,
                                  const char *field);

void riskmon_handle_close (riskmon_t *self, pmo_request_t *req, Pmo__CloseRequest *close);

void riskmon_handle_get (riskmon_t *self, pmo_request_t *req, Pmo__RiskmonGetRequest *get);

void riskmon_handle_list (riskmon_t *self, pmo_request_t *req, Pmo__RiskmonListRequest *list);

//  Acknowledge (stop the climb) or resolve an alert.
void riskmon_handle_alert_action (riskmon_t *self, pmo_request_t *req,
                                  Pmo__AlertActionRequest *action, bool resolve);

//  ---------------------------------------------------------------------
//  riskmon_import.c: many register entries of one division at once

#define RISKMON_IMPORT_MAX 1000 //  items of one import_batch

void riskmon_handle_import (riskmon_t *self, pmo_request_t *req, Pmo__RiskmonImportBatch *batch);

//  ---------------------------------------------------------------------
//  riskmon_requests.c: health requests

void riskmon_handle_health (riskmon_t *self, pmo_request_t *req, Pmo__HealthRequest *health);

void riskmon_handle_rollup (riskmon_t *self, pmo_request_t *req, Pmo__RollupRequest *request);
//  The portfolio of a subtree: filtered, searched, sorted, paged, with
//  totals over the filtered set (riskmon_portfolio.c).
void riskmon_handle_portfolio (riskmon_t *self, pmo_request_t *req, Pmo__PortfolioRequest *q);
//  The rows the portfolio keeps between requests (a cache of the records).
zhashx_t *riskmon_portfolio_cache_new (void);

void riskmon_handle_set_thresholds (riskmon_t *self, pmo_request_t *req, Pmo__Thresholds *own);

void riskmon_handle_get_thresholds (riskmon_t *self, pmo_request_t *req,
                                    Pmo__ThresholdsRequest *get);

#endif
