/*  notifier_internal.h: what the notifier actor's files share, and nothing
    outside services/notifier includes.

    The actor's state (notifier_t) lives on its thread; each file works on
    one concern of it: notifier_server.c (the actor, request dispatch, org
    units and divisions, the channel cache, the helpers every handler
    uses), notifier_channels.c (channel and subscription requests),
    notifier_route.c (the stream consumer: events become deliveries) and
    notifier_deliveries.c (delivery requests and the delivery loop).
*/
#ifndef NOTIFIER_INTERNAL_H_INCLUDED
#define NOTIFIER_INTERNAL_H_INCLUDED

#include "notifier_model.h"
#include "notifier_send.h"
#include "notifier_server.h"
#include "notifier_store.h"
#include "orgtree.h"
#include "orgtree_reader.h"

#include "pmo_seal.h"
#include "pmo_client.h"
#include "pmo_request.h"
#include "pmo_server.h"
#include "pmo_stream.h"

#include <czmq.h>

#define IDEM_TTL_S      86400      //  how long a done request's reply is kept for retries
#define BATCH           256        //  stream entries read at once
#define GROUP           "notifier" //  the consumer group on the division streams
#define CACHE_RELOAD_MS 600000 //  re-read channels and subscriptions whatever the generation says
#define GEN_CHECK_MS    1000   //  before using the cache, look at the generation this often at most
#define READ_BLOCK_MS   5000   //  a stream read waits this long in Redis
//  Housekeeping, at one deadline: reclaiming what other replicas left pending
//  and re-reading divisions' next due times for their work, a few streams
//  and divisions each time (all of them at start), so an idle notifier wakes
//  for it once in HOUSEKEEP_MS whatever the number of divisions
#define HOUSEKEEP_MS      5000
#define RECLAIM_STREAMS   10 //  streams reclaimed each time (2 a second)
#define REFRESH_DIVISIONS 5  //  divisions re-read each time (1 a second)

//  A channel as the delivery loop sees it
typedef struct {
    char division[40];
    Pmo__Channel *channel; //  owned (unpacked on the heap)
    double tokens;         //  token bucket for the endpoint's rate limit
    int64_t refill_ms;     //  monotonic time of the last refill
    int64_t paused_until;  //  wall ms: the endpoint asked us to wait (429, 503)
    int in_flight;         //  transfers running
    int64_t trimmed_ms;    //  monotonic: its done set last trimmed of old ids
    bool seen;             //  found by the latest reload
} channel_state_t;

//  One attempt on its way
typedef struct {
    pmo_arena_t *arena;
    Pmo__Delivery *delivery; //  as claimed (in arena)
    uint64_t version;        //  stored version to finish with (NULL delivery: a click's answer)
    char channel_id[64];
    bool smtp;
    bool slack_api;   //  Slack Web API: its answer is JSON (ok, error, ts)
    char project[64]; //  ... the project whose thread the message belongs to ("" none)
    bool threaded;    //  ... posted into the project's thread (else it may start it)
    //  The outcome to record (set when the transfer ended)
    notifier_finish_t finish;
    int64_t due_ms, now_ms;
    Pmo__Event *event; //  dead-lettered: its event (in arena), else NULL
} transfer_t;

typedef struct _notifier_routing_t notifier_routing_t;
typedef struct _notifier_recording_t notifier_recording_t;

//  What the loop counted since start (with the store's script calls, the
//  batch sizes the Ping answer reports)
typedef struct {
    uint64_t wakeups;        //  passes of the loop (each one poll)
    uint64_t stream_reads;   //  stream reads that returned entries ...
    uint64_t stream_entries; //  ... and the entries they returned
    uint64_t ticks;          //  delivery loop passes (record, then claim)
    uint64_t ready_reads;    //  reads of a division's due channels
    uint64_t curl_passes;    //  passes in which transfers ended ...
    uint64_t transfers_done; //  ... and how many
} notifier_counters_t;

typedef struct {
    notifier_config_t config;
    pmo_redis_t *redis; //  owned; every command goes through store
    notifier_store_t *store;
    pmo_seal_t *seal; //  owned: opens and seals channel secrets
    pmo_server_t *server;
    zsock_t *pub;
    notifier_send_t *send;
    pmo_client_t *registry; //  for projects (org units go through tree)
    zactor_t *clicker;      //  the click worker: calls the allocator and the risk monitor
    zlist_t *jobs;          //  clicks handed to it and not back yet (notifier_job_t)
    uint64_t clicks, clicks_refused;
    Pmo__Identity service; //  how the notifier introduces itself to the registry
    Pmo__Grant grant;
    Pmo__Grant *grants[1];
    //  Org units, from the registry
    orgtree_t *tree;
    bool org_loaded;              //  the whole tree was read at least once
    uint64_t org_generation;      //  of the tree when its divisions were last followed
    orgtree_reader_t *org_reader; //  reads the tree again, never waiting (lib/orgtree)
    //  Divisions whose streams we read
    zlist_t *divisions; //  of strdup'd ids
    char **streams;     //  stream keys
    size_t n_streams;
    bool groups_ok;
    bool reader_streams_ok;      //  the reader reads the streams above
    pmo_stream_reader_t *reader; //  new entries (waits in Redis on its own connection)
    pmo_redis_t *route_redis;    //  owned: the routing connection (answers awaited in the poll)
    notifier_store_t *route_store;
    notifier_routing_t *routing;     //  the batch whose routes are on their way, or NULL
    pmo_redis_t *tick_redis;         //  owned: the delivery loop's outcomes go on it
    notifier_store_t *tick_store;    //
    notifier_recording_t *recording; //  the outcomes whose answers are awaited, or NULL
    size_t reclaim_cursor;           //  the next stream to reclaim from
    size_t reclaim_passed;           //  streams reclaimed since start (the first pass is whole)
    int64_t next_housekeep_ms;       //  monotonic
    //  When each division (in the order of streams) next has a channel
    //  due: wall ms; 0 = unknown (ask Redis at the next tick); INT64_MAX =
    //  nothing waits. This replica learns it from what it routes, claims and
    //  finishes; other replicas' work is found by re-reading a few
    //  divisions' earliest due time at each housekeeping, in turn.
    int64_t *ready_at;
    zhash_t *division_index; //  division id -> index + 1 (as a pointer)
    size_t refresh_cursor;
    //  Channels and subscriptions, cached
    zhash_t *channels; //  id -> channel_state_t
    pmo_arena_t *subs_arena;
    Pmo__Subscription **subs;
    size_t n_subs;
    int64_t cache_loaded_ms; //  monotonic
    long long cache_gen;     //  the configuration generation the cache was read at
    int64_t next_gen_ms;     //  monotonic
    zhash_t *projects;       //  project id -> "CODE Name"
    //  Loop state
    bool tick_now;
    int in_flight;
    transfer_t **finishing; //  outcomes prepared, recorded at the next tick
    size_t n_finishing, max_finishing;
    notifier_counters_t counters;
    int64_t started_ms;
    uint64_t routed, delivered, failed, dead, skipped;
} notifier_t;

//  ---------------------------------------------------------------------
//  notifier_server.c: org units, the cache and the handlers' helpers

//  An org unit by id (in arena), asking the registry at once if the tree
//  does not hold it: a unit is usable as soon as it exists. Follows its
//  division. 1, 0 (no such unit) or -1 (the registry did not answer).
int notifier_unit (notifier_t *self, pmo_arena_t *arena, const char *id, Pmo__OrgUnit **unit);
//  Read the whole tree if it is old or was invalidated, and follow its
//  divisions. 0 or -1 (the registry did not answer, or the tree is backing
//  off from it).
int notifier_org_refresh (notifier_t *self);
//  Read every division's channels and subscriptions into the cache. 0 or
//  -1 (the cache stays as it was).
int notifier_cache_reload (notifier_t *self);
//  Reload the cache if it is old or the configuration generation moved
//  (looked at every GEN_CHECK_MS at most). Called before the cache is used
//  (routing, the delivery loop), never on a timer: an idle notifier does
//  not look, and one that was idle looks before it acts.
void notifier_cache_fresh (notifier_t *self);
//  Something may have fallen due in division: look at it at the next tick.
void notifier_ready_unknown (notifier_t *self, const char *division);
//  ... look at it at at_ms (wall) at the latest.
void notifier_ready_by (notifier_t *self, const char *division, int64_t at_ms);

//  An entity the caller names and may read (in req's arena), with its
//  stored version if version is not NULL; NULL after failing req (NOT_FOUND
//  for one the caller may not see, so ids cannot be probed across
//  divisions).
ProtobufCMessage *notifier_fetch (notifier_t *self, pmo_request_t *req, notifier_entity_t entity,
                                  const char *id, const char *field, uint64_t *version);
//  A notifier event (in arena; the strings are borrowed). Its actor is who
//  (the request's identity: subject and via); NULL: the notifier itself,
//  authenticated by its key.
Pmo__Event *notifier_event (pmo_arena_t *arena, const char *type, const char *division,
                            const char *org_unit, const char *path, const char *entity_id,
                            uint64_t version, const Pmo__Identity *who, const char *request_id);
//  A copy of channel with its secrets masked (in arena), for replies and events.
Pmo__Channel *notifier_masked (pmo_arena_t *arena, const Pmo__Channel *channel);
//  Run commit (destroyed) with event and req's reply as the stored reply;
//  publish the event on success, else fail req.
void notifier_commit (notifier_t *self, pmo_request_t *req, pmo_commit_t *commit,
                      const char *division, Pmo__Event *event);

//  ---------------------------------------------------------------------
//  notifier_channels.c: channel and subscription requests

void notifier_handle_create_channel (notifier_t *self, pmo_request_t *req, Pmo__Channel *ch);
void notifier_handle_update_channel (notifier_t *self, pmo_request_t *req, Pmo__Channel *next);
void notifier_handle_get_channel (notifier_t *self, pmo_request_t *req, Pmo__ChannelRef *ref);
void notifier_handle_list_channels (notifier_t *self, pmo_request_t *req,
                                    Pmo__ListChannelsRequest *list);
void notifier_handle_archive_channel (notifier_t *self, pmo_request_t *req, Pmo__ChannelRef *ref);
void notifier_handle_rotate_secret (notifier_t *self, pmo_request_t *req,
                                    Pmo__RotateSecretRequest *rotate);
void notifier_handle_test_channel (notifier_t *self, pmo_request_t *req, Pmo__ChannelRef *ref);
void notifier_handle_create_subscription (notifier_t *self, pmo_request_t *req,
                                          Pmo__Subscription *sub);
void notifier_handle_update_subscription (notifier_t *self, pmo_request_t *req,
                                          Pmo__Subscription *next);
void notifier_handle_get_subscription (notifier_t *self, pmo_request_t *req, Pmo__ChannelRef *ref);
void notifier_handle_list_subscriptions (notifier_t *self, pmo_request_t *req,
                                         Pmo__ListSubscriptionsRequest *list);
void notifier_handle_archive_subscription (notifier_t *self, pmo_request_t *req,
                                           Pmo__ChannelRef *ref);

//  ---------------------------------------------------------------------
//  notifier_route.c: the stream consumer

//  Make sure a read of new entries waits in Redis; the descriptor to poll,
//  or -1 (nothing to read, or Redis away: the loop's timers call again).
int notifier_reader_arm (notifier_t *self);
//  Send the routes of what the waiting read returned, if it has, on the
//  routing connection (one batch at a time). Returns entries taken.
size_t notifier_consume (notifier_t *self);
//  The routing connection's descriptor to poll while a batch is on its way
//  (else -1), and how long the loop may wait for its answers, ms.
int notifier_routing_fd (notifier_t *self);
int notifier_routing_wait_ms (notifier_t *self);
//  Take the answers that came; once all have (or the connection failed, or
//  they did not come within the Redis deadline), acknowledge the batch.
//  Returns entries acknowledged.
size_t notifier_routing_poll (notifier_t *self);
//  Drop a batch on its way (not acknowledged: reclaimed later).
void notifier_routing_free (notifier_routing_t **self_p);
//  Take over, a few streams at a time, entries another consumer left
//  pending longer than reclaim_ms, and route them.
void notifier_reclaim (notifier_t *self);

//  ---------------------------------------------------------------------
//  notifier_deliveries.c: delivery requests and the delivery loop

void notifier_handle_list_deliveries (notifier_t *self, pmo_request_t *req,
                                      Pmo__ListDeliveriesRequest *list);
void notifier_handle_get_delivery (notifier_t *self, pmo_request_t *req, Pmo__DeliveryRef *ref);
//  retry_delivery (retry) or discard_delivery.
void notifier_handle_delivery_change (notifier_t *self, pmo_request_t *req, Pmo__DeliveryRef *ref,
                                      bool retry);
//  Claim and start what is due, channel by channel, within each channel's
//  rate and in-flight limits; then send the outcomes prepared so far.
void notifier_tick (notifier_t *self);
//  The delivery connection's descriptor to poll while outcomes sent are
//  owed answers (else -1), and how long the loop may wait for them, ms.
int notifier_recording_fd (notifier_t *self);
int notifier_recording_wait_ms (notifier_t *self);
//  Take the answers that came (wait: all of them, waiting); once all have
//  (or the connection failed, or they did not come within the Redis
//  deadline) the transfers are done with.
void notifier_recording_poll (notifier_t *self, bool wait);
//  Record a transfer's outcome (frees t).
void notifier_finish (notifier_t *self, transfer_t *t, const notifier_send_result_t *result);
//  Prepare the outcomes of every transfer that ended (recorded at the next tick).
void notifier_finish_results (notifier_t *self);
//  Record the outcomes prepared so far, pipelined.
void notifier_finish_flush (notifier_t *self);
//  notifier_send's free_tag: a transfer dropped unfinished.
void notifier_transfer_free (void *tag);

//  ---------------------------------------------------------------------
//  notifier_act.c: a click's calls to the services, off the actor

//  A click on its way: the actor hands it to the click worker, which asks
//  the service as the mapped person and hands it back with the outcome.
typedef struct {
    pmo_arena_t *arena;  //  owned: what the worker reads and writes
    notifier_act_t act;  //  what to do
    const char *target;  //  ... to what (in arena)
    int64_t deadline_ms; //  Unix ms the caller gives up at (0 none): not started after it
    Pmo__ChatUser *who;  //  ... as whom (a copy, in arena)
    bool done;           //  out: the service did it
    const char *detail;  //  out: what was done, or why not (in arena)
    //  The actor's alone (the worker does not touch them)
    pmo_request_t *req;     //  detached: answered when the click is back
    notifier_click_t click; //  as parsed (strings in req's arena)
    char channel_id[64];
    char division[40];     //  the channel's
    char replay_key[72];   //  the click's, for replay protection
    Pmo__ChannelKind tool; //  SLACK or MATTERMOST
    int64_t started_ms;    //  monotonic
} notifier_job_t;

typedef struct {
    const char *allocator_endpoint; //  NULL or "": no allocator
    const char *riskmon_endpoint;   //  NULL or "": no risk monitor
    int call_ms;                    //  each call's deadline
} notifier_worker_config_t;

//  zactor function (args: a notifier_worker_config_t, read before it
//  signals): takes "JOB" + a notifier_job_t pointer on its pipe, acts, and
//  sends the pointer back; one click at a time.
void notifier_act_worker (zsock_t *pipe, void *args);

//  ---------------------------------------------------------------------
//  notifier_chat.c: chat that answers back

//  A click in Slack or Mattermost (from the gateway): verify it with the
//  channel's interact secret, act as the person the channel maps the
//  clicker to, and answer (Slack through response_url).
void notifier_handle_interact (notifier_t *self, pmo_request_t *req, Pmo__ChatInteraction *in);
//  The answer to a Slack click was sent (or not): log it, free t.
void notifier_chat_sent (notifier_t *self, transfer_t *t, const notifier_send_result_t *result);
//  Start the click worker. 0 or -1.
int notifier_chat_open (notifier_t *self);
//  Answer the clicks the worker handed back.
void notifier_chat_returned (notifier_t *self);
//  Stop the worker; the clicks it still held are answered unavailable.
void notifier_chat_close (notifier_t *self);

#endif
