/*  notifier_store.h: the notifier's Redis layout. This is the only file
    that spells the notifier's keys; the service README lists them.

    Channels and subscriptions are entities like the registry's (hash with
    version and protobuf, changed through pmo_commit with their event).
    Deliveries wait in a sorted set per channel scored by due time; three
    scripts move them: route (an event becomes a new delivery, or joins a
    project's burst or the channel's digest; at most once per event and
    channel), claim (lease the due ones of a channel for sending) and finish
    (record the attempt: delivered, due again later, or dead-lettered).

    Reads return 1 (found), 0 (absent) or -1 (Redis unavailable).
*/
#ifndef NOTIFIER_STORE_H_INCLUDED
#define NOTIFIER_STORE_H_INCLUDED

#include "events.pb-c.h"
#include "notifier.pb-c.h"
#include "pmo_commit.h"
#include "pmo_server.h"
#include "pmo_stream.h"
#include "pmo_util.h"

#include <stdbool.h>

typedef enum {
    NOTIFIER_CHANNEL = 0,
    NOTIFIER_SUBSCRIPTION = 1,
} notifier_entity_t;

typedef struct _notifier_store_t notifier_store_t;

typedef struct _pmo_seal_t pmo_seal_t;
//  seal (not owned) seals a channel's secrets before they are written and
//  opens them when read (pmo_seal.h): Redis never holds them in clear.
notifier_store_t *notifier_store_new (pmo_redis_t *redis, const pmo_seal_t *seal);
void notifier_store_destroy (notifier_store_t **self_p);

//  The division in an id ("ch_dft_3" -> "dft"); -1 if it is not an id of
//  that prefix ("ch", "sb", "dl").
int notifier_store_id_division (const char *id, const char *prefix, char *division, size_t size);
const char *notifier_store_prefix (notifier_entity_t entity);

//  ---------------------------------------------------------------------
//  Channels and subscriptions

int notifier_store_read (notifier_store_t *self, pmo_arena_t *arena, notifier_entity_t entity,
                         const char *id, ProtobufCMessage **msg, uint64_t *version);
//  Every channel (or subscription) of a division, in creation order. 0 or -1.
int notifier_store_list (notifier_store_t *self, pmo_arena_t *arena, notifier_entity_t entity,
                         const char *division, ProtobufCMessage ***msgs, size_t *n);
//  A new id ("ch_dft_4"). 0 or -1.
int notifier_store_next_id (notifier_store_t *self, pmo_arena_t *arena, notifier_entity_t entity,
                            const char *division, char **id);
//  Put an entity in a commit (expect = its stored version, 0 when new;
//  new ones join the division's index).
void notifier_store_put (notifier_store_t *self, pmo_commit_t *commit, pmo_arena_t *arena,
                         notifier_entity_t entity, const char *division,
                         const ProtobufCMessage *msg, uint64_t expect);
void notifier_store_event (notifier_store_t *self, pmo_commit_t *commit, pmo_arena_t *arena,
                           const char *division, const Pmo__Event *event);

//  ---------------------------------------------------------------------
//  Routing: events become deliveries

typedef struct {
    const char *division; //  the channel's
    const char *channel_id;
    int mode;                      //  notifier_route_t
    const char *seen;              //  "<event division>/<stream id>": at most once per channel
    const char *delivery_id;       //  the new delivery's id (digest: the period's)
    const char *fallback_id;       //  digest already sent: a delivery of its own
    const Pmo__Delivery *delivery; //  the new delivery (kind, created)
    const Pmo__Notice *notice;
    int64_t now_ms;
    int64_t due_ms;         //  when the new delivery is due (digest: period end)
    int64_t window_ms;      //  coalescing window
    const char *project_id; //  coalescing key
} notifier_route_args_t;

//  A delivery id: "dl_<division>_<16 hex>" from a hash of key (stable, so a
//  re-routed event finds the delivery it made). In arena.
char *notifier_store_delivery_id (pmo_arena_t *arena, const char *division, const char *key);

//  Route n notices: one script call per run of routes of the same
//  division, all of them pipelined (one round trip). results[i]: 0 done
//  (new, merged, or already routed before), -1 failed.
void notifier_store_route (notifier_store_t *self, pmo_arena_t *arena,
                           const notifier_route_args_t *const *args, size_t n, int *results);
//  The same without waiting for the answers: the calls are sent, and the
//  caller polls notifier_store_fd and calls notifier_store_route_poll until
//  it returns 1. NULL if nothing could be sent (results all -1). In arena.
typedef struct _notifier_route_pending_t notifier_route_pending_t;
notifier_route_pending_t *notifier_store_route_send (notifier_store_t *self, pmo_arena_t *arena,
                                                     const notifier_route_args_t *const *args,
                                                     size_t n, int *results);
//  Read the answers that have come (wait: all of them, waiting): 1 when
//  every call has answered or the connection failed (results set; -1 for
//  the routes of calls that did not answer), else 0.
int notifier_store_route_poll (notifier_store_t *self, notifier_route_pending_t *pending,
                               bool wait);
//  Calls answered so far (progress, for the caller's deadline).
size_t notifier_store_route_answered (const notifier_route_pending_t *pending);
//  The connection's descriptor to poll for answers, or -1.
int notifier_store_fd (notifier_store_t *self);
//  Drop the connection (answers owed for too long).
void notifier_store_drop (notifier_store_t *self, const char *why);
//  Load the scripts on this connection if it is new. 0 or -1.
int notifier_store_scripts_ready (notifier_store_t *self);

//  Acknowledge stream entries for the group (one pipeline). 0, or -1 if Redis failed.
int notifier_store_ack (notifier_store_t *self, const char *group, const char *const *streams,
                        const char *const *ids, size_t n);

//  Channel ids of a division with a delivery due at now_ms. 0 or -1.
int notifier_store_ready (notifier_store_t *self, pmo_arena_t *arena, const char *division,
                          int64_t now_ms, char ***channels, size_t *n);

//  A delivery leased for sending.
typedef struct {
    Pmo__Delivery *delivery; //  as stored (attempts so far)
    uint64_t version;        //  to finish with
    Pmo__Notice **notices;   //  kept notices, in order
    size_t n_notices;
    uint32_t total; //  events carried (kept or not)
} notifier_claimed_t;

//  One channel's claim: lease up to max of its due deliveries.
typedef struct {
    const char *channel_id;
    size_t max;
    notifier_claimed_t *claimed; //  out: the leased ones (in arena)
    size_t n;                    //  out: how many
    int rc;                      //  out: 0, or -1 (Redis failed: nothing leased)
} notifier_claim_t;

//  Lease the due deliveries of n channels of a division until
//  lease_until_ms: one claim.lua call each, all of them pipelined, with,
//  after them, when the division's earliest channel is next due after
//  now_ms (*next_at, as notifier_store_next_ready) in the same round trip.
//  0, or -1 if Redis failed (each claim's rc says which were done; *next_at
//  is then 0: unknown).
int notifier_store_claim (notifier_store_t *self, pmo_arena_t *arena, const char *division,
                          int64_t now_ms, int64_t lease_until_ms, notifier_claim_t *claims,
                          size_t n, int64_t *next_at);

typedef enum {
    NOTIFIER_FINISH_DELIVERED = 0,
    NOTIFIER_FINISH_RETRY = 1,
    NOTIFIER_FINISH_DEAD = 2,
} notifier_finish_t;

//  An attempt to record: delivery (updated: state, attempts) replaces the
//  stored one if its version is still expect. RETRY makes it due at due_ms;
//  DEAD moves it to the channel's dead letters and appends event (if not
//  NULL) to the division's stream; trim also drops the channel's delivered
//  ids older than NOTIFIER_KEEP_S from its done set.
typedef struct {
    const Pmo__Delivery *delivery;
    uint64_t expect;
    notifier_finish_t finish;
    int64_t due_ms, now_ms;
    const Pmo__Event *event;
    bool trim;
} notifier_finish_item_t;

//  Record n attempts: one script call per run of items of the same
//  division, all of them pipelined (one round trip). results[i]: 0, 1 if
//  an operator changed the delivery meanwhile (nothing written), -1 if
//  Redis failed.
void notifier_store_finish (notifier_store_t *self, pmo_arena_t *arena,
                            const notifier_finish_item_t *items, size_t n, int *results);
//  The same without waiting (the delivery loop's outcomes, whose answers the
//  loop's poll awaits): queue the calls (returns how many: one answer each;
//  *runs: the first item of each call, then n, in arena; results all -1
//  until taken), send them with notifier_store_push, take each answer with
//  notifier_store_poll (pmo_redis_pipe_poll: 1, 0 not yet, -1 the
//  connection failed) and notifier_store_finish_take (reply freed; NULL:
//  none came), in order.
size_t notifier_store_finish_queue (notifier_store_t *self, pmo_arena_t *arena,
                                    const notifier_finish_item_t *items, size_t n, int *results,
                                    size_t **runs);
void notifier_store_finish_take (notifier_store_t *self, const notifier_finish_item_t *items,
                                 const size_t *runs, size_t call, int *results, redisReply *reply);
int notifier_store_push (notifier_store_t *self);
int notifier_store_poll (notifier_store_t *self, redisReply **reply);

//  ---------------------------------------------------------------------
//  Deliveries for people

//  One delivery with its state, notice count, due time, in-flight flag and
//  (if with_notices) its notices.
int notifier_store_delivery (notifier_store_t *self, pmo_arena_t *arena, const char *id,
                             bool with_notices, Pmo__Delivery **delivery, uint64_t *version);
//  A page of a channel's deliveries in a state: pending oldest due first,
//  the others newest first; after is the cursor ("" for the first page).
int notifier_store_deliveries (notifier_store_t *self, pmo_arena_t *arena, const char *channel_id,
                               Pmo__DeliveryState state, const char *after, size_t limit,
                               Pmo__Delivery ***deliveries, size_t *n, char **next);
//  Operator changes, in a commit with their event: retry (due now) or
//  discard a pending or dead delivery.
void notifier_store_retry (notifier_store_t *self, pmo_commit_t *commit, pmo_arena_t *arena,
                           const Pmo__Delivery *delivery, uint64_t expect, int64_t now_ms);
void notifier_store_discard (notifier_store_t *self, pmo_commit_t *commit, pmo_arena_t *arena,
                             const Pmo__Delivery *delivery, uint64_t expect, int64_t now_ms);
//  Let a finished delivery's record expire after the retention. 0 or -1.
int notifier_store_expire (notifier_store_t *self, const char *id);

//  Deliveries of a division waiting (all channels). 0 or -1.
int notifier_store_backlog (notifier_store_t *self, pmo_arena_t *arena, const char *division,
                            long long *pending);

//  ---------------------------------------------------------------------
//  The connection, the event streams and commits

//  The connection is up (reconnecting if it is due to).
bool notifier_store_connected (notifier_store_t *self);
//  Create the group on a division's stream if missing. 0 or -1.
int notifier_store_follow (notifier_store_t *self, const char *stream, const char *group);
//  Entries for the group's consumer from the streams, reclaimed ones first
//  (see pmo_stream_group_read); never blocks. 0 or -1.
int notifier_store_read_events (notifier_store_t *self, const char *group, const char *consumer,
                                const char **streams, size_t n, size_t count, int min_idle_ms,
                                pmo_stream_batch_t *batch);
//  Run a commit (entity, event, stored reply) as one atomic step.
void notifier_store_commit (notifier_store_t *self, pmo_commit_t *commit,
                            pmo_commit_result_t *result);
//  True if req was done before (its stored reply is set as req's reply).
bool notifier_store_replayed (notifier_store_t *self, pmo_request_t *req, const char *division);
//  Answer a ping with the store's health.
void notifier_store_pong (notifier_store_t *self, pmo_request_t *req, int64_t started_ms);

//  The script calls made since start, and what they carried (the batch
//  sizes the notifier's Ping answer reports).
typedef struct {
    uint64_t route_calls, routes;    //  route.lua calls, routes in them
    uint64_t claim_calls, claimed;   //  claim.lua calls, deliveries leased by them
    uint64_t finish_calls, finished; //  finish.lua calls, outcomes in them
} notifier_store_counts_t;
const notifier_store_counts_t *notifier_store_counts (notifier_store_t *self);

//  How long delivered and discarded records are kept.
#define NOTIFIER_KEEP_S (7 * 86400)
//  Notices kept per delivery (a digest counts the rest).
#define NOTIFIER_NOTICES_MAX 200
//  Attempts kept per delivery (attempt_count counts all).
#define NOTIFIER_ATTEMPTS_KEPT 20

//  The generation of the channels and subscriptions: bumped after each
//  change is committed, so every replica sees it with one GET instead of
//  re-reading every division (a crash between the commit and the bump is
//  covered by the periodic full reload). 0 or -1.
//  The Slack thread (thread_ts) of a project in a slack_api channel (in
//  arena), NULL if none yet or Redis failed.
char *notifier_store_thread (notifier_store_t *self, pmo_arena_t *arena, const char *division,
                             const char *channel, const char *project);
//  Chat clicks already done (replay protection): the answer of a click
//  done in the last NOTIFIER_CLICK_REPLAY_S, by key (what was clicked, by
//  whom: notifier_chat.c makes it), into *detail (in arena; NULL if none).
//  0 or -1.
#define NOTIFIER_CLICK_REPLAY_S 300
int notifier_store_click_done (notifier_store_t *self, pmo_arena_t *arena, const char *division,
                               const char *channel, const char *key, char **detail);
//  Remember a click as done with its answer for NOTIFIER_CLICK_REPLAY_S.
//  0 or -1.
int notifier_store_click_remember (notifier_store_t *self, const char *division,
                                   const char *channel, const char *key, const char *detail);
//  Remember ts as the project's thread unless it has one. 0 or -1.
int notifier_store_thread_start (notifier_store_t *self, const char *division, const char *channel,
                                 const char *project, const char *ts);
int notifier_store_config_bump (notifier_store_t *self, const char *hub);
int notifier_store_config_gen (notifier_store_t *self, const char *hub, long long *gen);

//  When division's earliest channel is next due after now_ms (wall ms;
//  INT64_MAX if none). A channel already due that the caller did not claim
//  from (paused, full, disabled; or due no more: a ready time may be early)
//  is the caller's to time. 0 or -1.
int notifier_store_next_ready (notifier_store_t *self, const char *division, int64_t now_ms,
                               int64_t *at_ms);

//  When division's earliest channel is due (wall ms; may be past; INT64_MAX
//  if none). 0 or -1.
int notifier_store_first_ready (notifier_store_t *self, const char *division, int64_t *at_ms);

//  Reclaim entries other consumers left pending (pmo_stream_group_reclaim).
int notifier_store_reclaim_events (notifier_store_t *self, const char *group, const char *consumer,
                                   const char *const *streams, size_t n, size_t *cursor,
                                   size_t max_streams, size_t count, int min_idle_ms,
                                   pmo_stream_batch_t *batch);

#endif
