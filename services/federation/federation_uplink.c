/*  federation_uplink.c: forward a spoke's division streams to the hub and
    apply the hub's policy locally.

    Order and delivery: each read first reclaims every entry of the group
    still pending (XAUTOCLAIM with no idle time: with one uplink reading
    these are our own unacknowledged entries), then reads new ones. So what
    goes to the hub is always the oldest unacknowledged entries, in stream
    order, and a failed push is simply read and sent again. XACK happens
    only after the hub's acknowledgement; if the XACK itself is lost the
    entries are resent and the hub recognises them by stream id. One uplink
    of a spoke reads, holding a lease; others stand by (s_standing_by) and
    take over when it lapses. Should two read at once,
    new entries wait while older ones are pending at the other
    (s_held_elsewhere), so none is pushed ahead of an older one.
*/
#include "federation_uplink.h"
#include "federation_model.h"
#include "federation_store.h"
#include "federation_xdiv.h"

#include "orgtree.h"

#include "pmo_client.h"
#include "pmo_log.h"
#include "pmo_reflect.h"
#include "pmo_stream.h"
#include "registry.pb-c.h"

#include <assert.h>
#include <string.h>

#define HEARTBEAT_MS     1000
#define READ_BLOCK_MS    50 //  wait for new entries this long per read
#define BACKOFF_MIN_MS   100
#define BACKOFF_MAX_MS   2000
#define PUSH_MAX_BYTES   (4 * 1024 * 1024) //  a push is cut here (the hub takes 16 MiB)
#define REGISTRY_CALL_MS 1000
#define MAX_DIVISIONS    16

#define XDIV_POLL_MS 250  //  heartbeat period with an allocator attached
#define STANDBY_MS   1000 //  the reader's lease is renewed (or looked at) this often

typedef struct {
    federation_uplink_config_t config;
    pmo_redis_t *redis;
    federation_store_t *store;
    zsock_t *dealer;        //  CURVE client to the hub
    zpoller_t *poller;      //  the dealer
    zcert_t *cert;          //  our keypair
    pmo_client_t *registry; //  the spoke's registry (NULL: record the policy only)
    orgtree_t *orgtree;     //  ... its org units, read through the one tree client
    Pmo__Grant grant;       //  who the uplink is to the registry: an admin at the hub
    Pmo__Grant *grants[1];
    Pmo__Identity identity; //  ... (outlives the orgtree)
    pmo_arena_t *arena;     //  per loop
    pmo_arena_t *setup;     //  for the life of the actor
    char **divisions;
    size_t n_divisions;
    const char **streams;    //  one per division
    uint64_t policy_version; //  the hub policy version applied here
    char policy_error[256];
    int64_t next_heartbeat_ms; //  monotonic
    int64_t hold_until_ms;     //  monotonic: no pushes before (backoff after a failure)
    int backoff_ms;
    bool hub_up;       //  last call got an answer (for logs on change)
    uint64_t pushed;   //  entries sent (resends included)
    uint64_t acked;    //  entries acknowledged in the spoke
    uint64_t failures; //  calls that got no answer or an error

    federation_xdiv_uplink_t *xdiv; //  cross-division deliveries (NULL: no allocator)
    bool xdiv_more;                 //  deliveries handled or waiting: heartbeat again at once

    bool standing_by;         //  another uplink reads the streams
    int64_t standby_check_ms; //  monotonic: when to look again
} uplink_t;

//  ---------------------------------------------------------------------
//  Calls to the hub

//  Send request and wait for its reply (matched by request id) until the
//  deadline. Returns the reply (caller frees) or NULL.
static Pmo__HubReply *s_call (uplink_t *self, Pmo__HubRequest *request)
{
    size_t size = protobuf_c_message_get_packed_size (&request->base);
    uint8_t *blob = malloc (size ? size : 1);
    assert (blob);
    protobuf_c_message_pack (&request->base, blob);
    int64_t deadline = pmo_mono_ms () + self->config.timeout_ms;
    int rc;
    //  IMMEDIATE holds messages back until the CURVE handshake succeeded:
    //  a hub that refuses our key never receives anything
    while ((rc = zmq_send (zsock_resolve (self->dealer), blob, size, ZMQ_DONTWAIT)) < 0 &&
           (errno == EAGAIN || errno == EINTR) && pmo_mono_ms () < deadline)
        zclock_sleep (5);
    free (blob);
    if (rc < 0)
        return NULL;
    while (true) {
        int64_t left = deadline - pmo_mono_ms ();
        if (left <= 0 || zpoller_wait (self->poller, (int)left) != self->dealer)
            return NULL;
        zframe_t *frame = zframe_recv (self->dealer);
        if (!frame)
            return NULL;
        Pmo__HubReply *reply =
            pmo__hub_reply__unpack (NULL, zframe_size (frame), zframe_data (frame));
        zframe_destroy (&frame);
        if (reply && reply->header && reply->header->request_id &&
            strcmp (reply->header->request_id, request->header->request_id) == 0)
            return reply;
        if (reply)
            protobuf_c_message_free_unpacked (&reply->base, NULL);
    }
}

static void s_hub_state (uplink_t *self, bool up, const char *why)
{
    if (up) {
        if (!self->hub_up)
            pmo_info ("uplink: hub answers endpoint=%s", self->config.hub_endpoint);
        self->backoff_ms = BACKOFF_MIN_MS;
        self->hold_until_ms = 0;
    } else {
        self->failures++;
        if (self->hub_up)
            pmo_warn ("uplink: hub not answering endpoint=%s reason=\"%s\"",
                      self->config.hub_endpoint, why);
        self->hold_until_ms = pmo_mono_ms () + self->backoff_ms;
        self->backoff_ms =
            self->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : self->backoff_ms * 2;
    }
    self->hub_up = up;
}

//  ---------------------------------------------------------------------
//  The hub policy, applied through the spoke's registry

static Pmo__RegistryReply *s_registry_call (uplink_t *self, Pmo__RegistryRequest *request)
{
    Pmo__Header header;
    char request_id[40];
    pmo_header_init (&header, request_id, REGISTRY_CALL_MS * 2, &self->identity);
    request->header = &header;
    ProtobufCMessage *reply = NULL;
    int rc = pmo_client_call (self->registry, &request->base, &pmo__registry_reply__descriptor,
                              REGISTRY_CALL_MS, 2, &reply);
    request->header = NULL;
    return rc ? NULL : (Pmo__RegistryReply *)reply;
}

static bool s_same_policy (const Pmo__Policy *a, const Pmo__Policy *b, pmo_arena_t *arena)
{
    size_t asize = 0, bsize = 0;
    uint8_t *ablob = a ? pmo_reflect_pack (&a->base, arena, &asize) : NULL;
    uint8_t *bblob = b ? pmo_reflect_pack (&b->base, arena, &bsize) : NULL;
    return asize == bsize && (asize == 0 || memcmp (ablob, bblob, asize) == 0);
}

//  Make the spoke's copy of the hub unit carry the hub's type and policy.
//  Returns 0, or -1 with why in error.
static int s_policy_write (uplink_t *self, const Pmo__HubPolicy *policy, char *error,
                           size_t error_size)
{
    //  The update names the version it read: read the unit as it is now,
    //  not as the tree last held it
    orgtree_invalidate (self->orgtree);
    Pmo__OrgUnit *local = NULL;
    int found = orgtree_unit (self->orgtree, policy->hub, self->arena, &local);
    if (found < 0) {
        snprintf (error, error_size, "the spoke's registry did not answer");
        return -1;
    }
    Pmo__OrgUnit unit = PMO__ORG_UNIT__INIT;
    Pmo__RegistryRequest change = PMO__REGISTRY_REQUEST__INIT;
    if (found == 0) {
        //  A new spoke: its tree starts with the hub unit as the hub has it
        unit.id = policy->hub;
        unit.name = policy->hub;
        unit.kind = PMO__ORG_UNIT_KIND__ORG_UNIT_KIND_ENTERPRISE;
        unit.parent = "";
        unit.pmo_type = policy->pmo_type;
        unit.policy = policy->policy;
        change.body_case = PMO__REGISTRY_REQUEST__BODY_CREATE_ORG_UNIT;
        change.create_org_unit = &unit;
    } else {
        if (local->pmo_type == policy->pmo_type &&
            s_same_policy (local->policy, policy->policy, self->arena))
            return 0;
        unit.id = local->id;
        unit.name = local->name;
        unit.kind = local->kind;
        unit.parent = local->parent;
        unit.pmo_tier = local->pmo_tier;
        unit.version = local->version;
        unit.pmo_type = policy->pmo_type;
        unit.policy = policy->policy;
        change.body_case = PMO__REGISTRY_REQUEST__BODY_UPDATE_ORG_UNIT;
        change.update_org_unit = &unit;
    }
    Pmo__RegistryReply *done = s_registry_call (self, &change);
    if (!done) {
        snprintf (error, error_size, "the spoke's registry did not answer");
        return -1;
    }
    int rc = 0;
    if (done->error) {
        snprintf (error, error_size, "the spoke's registry refused: %s [%s]", done->error->message,
                  done->error->field);
        rc = -1;
    }
    protobuf_c_message_free_unpacked (&done->base, NULL);
    return rc;
}

static void s_policy_apply (uplink_t *self, const Pmo__HubPolicy *policy)
{
    if (!policy || policy->version == 0 || policy->version == self->policy_version)
        return;
    char error[256] = "";
    if (self->registry && s_policy_write (self, policy, error, sizeof error) == 0)
        *error = 0;
    if (*error) {
        if (strcmp (error, self->policy_error) != 0)
            pmo_warn ("uplink: policy not applied version=%llu reason=\"%s\"",
                      (unsigned long long)policy->version, error);
        snprintf (self->policy_error, sizeof self->policy_error, "%s", error);
        federation_store_policy_set (self->store, self->config.spoke, self->policy_version, error);
        return;
    }
    if (federation_store_policy_set (self->store, self->config.spoke, policy->version, ""))
        return; //  not recorded: apply again (harmless) next time
    self->policy_version = policy->version;
    *self->policy_error = 0;
    pmo_info ("uplink: policy applied version=%llu", (unsigned long long)policy->version);
}

//  ---------------------------------------------------------------------
//  Heartbeats and pushes

static Pmo__HubRequest *s_request (uplink_t *self)
{
    Pmo__HubRequest *request = pmo_arena_alloc (self->arena, sizeof (Pmo__HubRequest));
    pmo__hub_request__init (request);
    Pmo__Header *header = pmo_arena_alloc (self->arena, sizeof (Pmo__Header));
    char *request_id = pmo_arena_alloc (self->arena, 40);
    Pmo__Identity *identity = pmo_arena_alloc (self->arena, sizeof (Pmo__Identity));
    pmo__identity__init (identity);
    identity->subject = (char *)self->config.spoke;
    pmo_header_init (header, request_id, self->config.timeout_ms, identity);
    request->header = header;
    return request;
}

static void s_heartbeat (uplink_t *self)
{
    Pmo__SpokeHeartbeat *beat = pmo_arena_alloc (self->arena, sizeof (Pmo__SpokeHeartbeat));
    pmo__spoke_heartbeat__init (beat);
    beat->spoke = (char *)self->config.spoke;
    beat->version = PMO_VERSION;
    beat->policy_version = self->policy_version;
    beat->policy_error = self->policy_error;
    beat->backlog = pmo_arena_alloc (self->arena, self->n_divisions * sizeof (void *));
    for (size_t i = 0; i < self->n_divisions; i++) {
        Pmo__SpokeBacklog *one = pmo_arena_alloc (self->arena, sizeof (Pmo__SpokeBacklog));
        pmo__spoke_backlog__init (one);
        one->division = self->divisions[i];
        if (federation_store_backlog (self->store, self->streams[i], &one->entries,
                                      &one->oldest_ms))
            continue; //  Redis away: report what we can
        beat->backlog[beat->n_backlog++] = one;
    }
    Pmo__HubRequest *request = s_request (self);
    request->body_case = PMO__HUB_REQUEST__BODY_HEARTBEAT;
    request->heartbeat = beat;
    if (self->xdiv)
        federation_xdiv_uplink_prepare (self->xdiv, request, self->arena);
    Pmo__HubReply *reply = s_call (self, request);
    s_hub_state (self, reply && !reply->error, reply ? "refused" : "no reply");
    if (reply && !reply->error)
        s_policy_apply (self, reply->policy);
    if (self->xdiv)
        self->xdiv_more = federation_xdiv_uplink_take (self->xdiv, reply, self->arena);
    if (reply)
        protobuf_c_message_free_unpacked (&reply->base, NULL);
}

static int s_division_of (uplink_t *self, const char *stream)
{
    for (size_t i = 0; i < self->n_divisions; i++)
        if (strcmp (self->streams[i], stream) == 0)
            return (int)i;
    return -1;
}

//  Push the entries [from, to) of one stream; on success acknowledge them.
//  Returns 0, or -1 (nothing acknowledged: they will be read again).
static int s_push (uplink_t *self, pmo_stream_entry_t *entries, size_t from, size_t to,
                   int division)
{
    Pmo__PushEvents *push = pmo_arena_alloc (self->arena, sizeof (Pmo__PushEvents));
    pmo__push_events__init (push);
    push->division = self->divisions[division];
    push->events = pmo_arena_alloc (self->arena, (to - from) * sizeof (void *));
    for (size_t i = from; i < to; i++) {
        Pmo__ForwardedEvent *fe = pmo_arena_alloc (self->arena, sizeof (Pmo__ForwardedEvent));
        pmo__forwarded_event__init (fe);
        fe->stream_id = entries[i].id;
        fe->type = entries[i].type;
        fe->data.data = (uint8_t *)entries[i].data;
        fe->data.len = entries[i].size;
        push->events[push->n_events++] = fe;
    }
    Pmo__HubRequest *request = s_request (self);
    request->body_case = PMO__HUB_REQUEST__BODY_PUSH;
    request->push = push;
    self->pushed += push->n_events;
    Pmo__HubReply *reply = s_call (self, request);
    int rc = -1;
    if (!reply)
        s_hub_state (self, false, "no reply to a push");
    else if (reply->error) {
        //  Refused (not our division, bad data) or the hub's Redis away:
        //  either way nothing is acknowledged and we try again later
        pmo_warn ("uplink: push refused division=%s code=%s reason=\"%s\"", push->division,
                  pmo_error_code_name (reply->error->code), reply->error->message);
        s_hub_state (self, false, "push refused");
    } else {
        s_hub_state (self, true, "");
        s_policy_apply (self, reply->policy);
        const char **ids = pmo_arena_alloc (self->arena, (to - from) * sizeof (char *));
        for (size_t i = from; i < to; i++)
            ids[i - from] = entries[i].id;
        if (federation_store_ack (self->store, self->streams[division], ids, to - from) == 0) {
            self->acked += to - from;
            rc = 0;
        }
    }
    if (reply)
        protobuf_c_message_free_unpacked (&reply->base, NULL);
    return rc;
}

//  Whether new entries of a stream, from batch->entries[first] on, must
//  wait because older entries of the stream are pending outside this batch.
//  With one uplink reading, every pending entry was taken over before the
//  new ones were read, so none is. With two (a standby taking over, or one
//  that was stalled), the other may have been given entries after our
//  take-over and before our read: pushed first, ours would move the hub's
//  mark past them, and they would count there as duplicates (lost).
static bool s_held_elsewhere (uplink_t *self, const pmo_stream_batch_t *batch, size_t first)
{
    const pmo_stream_entry_t *entry = &batch->entries[first];
    size_t ours = 0;
    for (size_t i = 0; i < batch->reclaimed; i++)
        ours += strcmp (batch->entries[i].stream, entry->stream) == 0;
    int rc = federation_store_older_pending (self->store, entry->stream, entry->id, ours);
    if (rc == 1)
        pmo_debug ("uplink: new entries wait stream=%s first=%s reason=\"older entries pending at "
                   "another reader\"",
                   entry->stream, entry->id);
    return rc != 0;
}

//  Read the oldest unacknowledged entries and push them, per stream in
//  order. Returns how many were acknowledged, -1 if Redis failed.
static int s_forward (uplink_t *self, int block_ms)
{
    pmo_stream_batch_t batch;
    if (federation_store_read (self->store, self->config.consumer, self->streams, self->n_divisions,
                               (size_t)self->config.batch, block_ms, &batch))
        return -1;
    int done = 0;
    //  The pending entries taken over come first, then the new ones; the
    //  entries of one stream are ascending and contiguous in each part. Cut
    //  a push at a stream change, at the end of the first part, or at the
    //  size limit.
    size_t start = 0;
    bool failed = false;
    while (start < batch.count && !failed) {
        const char *stream = batch.entries[start].stream;
        int division = s_division_of (self, stream);
        size_t end = start, bytes = 0;
        while (end < batch.count && strcmp (batch.entries[end].stream, stream) == 0 &&
               (end == start || end != batch.reclaimed) &&
               (end == start || bytes + batch.entries[end].size < PUSH_MAX_BYTES)) {
            bytes += batch.entries[end].size + 64;
            end++;
        }
        if (division < 0)
            failed = true; //  cannot happen: we read only our streams
        else if (start >= batch.reclaimed && s_held_elsewhere (self, &batch, start)) {
            //  Older entries of this stream are pending at another reader:
            //  its new ones wait (still pending: the next read takes them)
            while (end < batch.count && strcmp (batch.entries[end].stream, stream) == 0)
                end++;
        } else if (s_push (self, batch.entries, start, end, division) == 0)
            done += (int)(end - start);
        else
            failed = true; //  later entries of this stream must not overtake
        start = end;
    }
    pmo_stream_batch_clear (&batch);
    return done;
}

//  ---------------------------------------------------------------------
//  The actor

static void s_destroy (uplink_t *self)
{
    zpoller_destroy (&self->poller);
    zsock_destroy (&self->dealer);
    zcert_destroy (&self->cert);
    pmo_client_destroy (&self->registry);
    orgtree_destroy (&self->orgtree);
    federation_xdiv_uplink_destroy (&self->xdiv);
    federation_store_destroy (&self->store);
    pmo_redis_destroy (&self->redis);
    pmo_arena_destroy (&self->arena);
    pmo_arena_destroy (&self->setup);
}

static int s_start (uplink_t *self)
{
    self->setup = pmo_arena_new ();
    self->arena = pmo_arena_new ();
    if (federation_divisions_parse (self->config.divisions, self->setup, &self->divisions,
                                    &self->n_divisions, MAX_DIVISIONS)) {
        pmo_error ("uplink: bad divisions '%s' (1 to %d division ids)", self->config.divisions,
                   MAX_DIVISIONS);
        return -1;
    }
    self->streams = pmo_arena_alloc (self->setup, self->n_divisions * sizeof (char *));
    for (size_t i = 0; i < self->n_divisions; i++)
        self->streams[i] = pmo_stream_key (self->setup, self->divisions[i]);
    if (self->config.batch < 1 || !self->config.consumer || !*self->config.consumer) {
        pmo_error ("uplink: batch must be positive and consumer named");
        return -1;
    }
    self->redis = pmo_redis_new (self->config.redis_url, self->config.redis_timeout_ms);
    if (!self->redis) {
        pmo_error ("uplink: bad redis url");
        return -1;
    }
    self->store = federation_store_new (self->redis, self->config.hub);
    self->cert = zcert_load (self->config.cert);
    if (!self->cert ||
        streq (zcert_secret_txt (self->cert), "0000000000000000000000000000000000000000")) {
        pmo_error ("uplink: no secret key in cert=%s (pmo-hub keygen makes one)",
                   self->config.cert);
        return -1;
    }
    char hub_key[41] = "";
    const char *key = self->config.hub_key ? self->config.hub_key : "";
    uint8_t raw[32];
    //  Z85 uses '/' too: a key is what decodes, anything else a file
    if (strlen (key) == 40 && zmq_z85_decode (raw, key))
        snprintf (hub_key, sizeof hub_key, "%s", key);
    else {
        zcert_t *hub = zcert_load (key);
        if (hub)
            snprintf (hub_key, sizeof hub_key, "%s", zcert_public_txt (hub));
        zcert_destroy (&hub);
    }
    if (strlen (hub_key) != 40 || !zmq_z85_decode (raw, hub_key)) {
        pmo_error ("uplink: the hub's public key is required (40 Z85 characters or a cert file)");
        return -1;
    }
    self->dealer = zsock_new (ZMQ_DEALER);
    assert (self->dealer);
    zcert_apply (self->cert, self->dealer);
    zsock_set_curve_serverkey (self->dealer, hub_key);
    zsock_set_immediate (self->dealer, 1);
    zsock_set_linger (self->dealer, 0);
    zsock_set_maxmsgsize (self->dealer, PMO_MAX_MESSAGE * 4);
    //  Every hub replica's endpoint (comma-separated): the replicas share
    //  one keypair and one Redis, so any of them applies a push; a call
    //  that gets no answer is made again and reaches a live one
    char *list = pmo_arena_strdup (self->setup, self->config.hub_endpoint);
    char *save = NULL;
    size_t connected = 0;
    for (char *ep = strtok_r (list, ",", &save); ep; ep = strtok_r (NULL, ",", &save), connected++)
        if (zsock_connect (self->dealer, "%s", ep) < 0) {
            pmo_error ("uplink: bad hub endpoint=%s", ep);
            return -1;
        }
    if (connected == 0) {
        pmo_error ("uplink: no hub endpoint");
        return -1;
    }
    self->poller = zpoller_new (self->dealer, NULL);
    if (self->config.registry && *self->config.registry) {
        self->registry = pmo_client_new (self->config.registry);
        pmo__grant__init (&self->grant);
        self->grant.role = PMO__ROLE__ROLE_ADMIN;
        self->grant.org_unit = (char *)self->config.hub;
        self->grants[0] = &self->grant;
        pmo__identity__init (&self->identity);
        self->identity.subject =
            pmo_arena_printf (self->setup, "pmo-uplink@%s", self->config.spoke);
        self->identity.grants = self->grants;
        self->identity.n_grants = 1;
        orgtree_config_t tree = {.registry = self->config.registry,
                                 .identity = &self->identity,
                                 .timeout_ms = REGISTRY_CALL_MS};
        self->orgtree = orgtree_new (&tree);
        if (!self->registry || !self->orgtree) {
            pmo_error ("uplink: bad registry endpoint=%s", self->config.registry);
            return -1;
        }
    }
    if (self->config.allocator && *self->config.allocator) {
        self->xdiv = federation_xdiv_uplink_new (self->config.allocator, self->config.spoke,
                                                 self->config.hub);
        if (!self->xdiv) {
            pmo_error ("uplink: bad allocator endpoint=%s", self->config.allocator);
            return -1;
        }
    }
    self->backoff_ms = BACKOFF_MIN_MS;
    self->hub_up = true; //  so the first failure is logged
    return 0;
}

//  Whether another uplink of the spoke reads the streams now: the one that
//  holds the reader's lease, which the reader renews once a second for
//  takeover_ms. While Redis does not answer we stay as we were.
static bool s_standing_by (uplink_t *self)
{
    if (self->config.takeover_ms <= 0 || pmo_mono_ms () < self->standby_check_ms)
        return self->standing_by;
    self->standby_check_ms = pmo_mono_ms () + STANDBY_MS;
    char holder[128];
    int rc = federation_store_reader_lease (self->store, self->config.spoke, self->config.consumer,
                                            self->config.takeover_ms, holder, sizeof holder);
    if (rc < 0 || (rc == 0) == self->standing_by)
        return self->standing_by;
    self->standing_by = rc == 0;
    if (self->standing_by)
        pmo_info ("uplink: standing by consumer=%s reader=%s", self->config.consumer, holder);
    else
        pmo_info ("uplink: reading consumer=%s", self->config.consumer);
    return self->standing_by;
}

//  Create the groups (idempotent) and read back what policy we apply.
static bool s_prepare (uplink_t *self)
{
    for (size_t i = 0; i < self->n_divisions; i++)
        if (federation_store_group_ensure (self->store, self->streams[i]))
            return false;
    return federation_store_policy_get (self->store, self->config.spoke, &self->policy_version,
                                        self->policy_error, sizeof self->policy_error) == 0;
}

void federation_uplink_actor (zsock_t *pipe, void *args)
{
    uplink_t *self = calloc (1, sizeof (uplink_t));
    assert (self);
    self->config = *(federation_uplink_config_t *)args;
    if (s_start (self)) {
        s_destroy (self);
        free (self);
        ((federation_uplink_config_t *)args)->failed = true;
        zsock_signal (pipe, 1);
        return;
    }
    pmo_info ("uplink: ready spoke=%s divisions=%s hub=%s redis=%s", self->config.spoke,
              self->config.divisions, self->config.hub_endpoint, pmo_redis_safe_url (self->redis));
    zsock_signal (pipe, 0);
    zpoller_t *pipe_poller = zpoller_new (pipe, NULL);
    bool prepared = false, running = true;
    while (running) {
        pmo_arena_reset (self->arena);
        int wait_ms = 0;
        if (!prepared && !(prepared = s_prepare (self)))
            wait_ms = 200; //  Redis away: try again shortly
        else if (s_standing_by (self))
            wait_ms = STANDBY_MS; //  no reads, no pushes, no heartbeats
        else if (pmo_mono_ms () >= self->next_heartbeat_ms) {
            s_heartbeat (self);
            //  Cross-division deliveries ride on heartbeat replies: with an
            //  allocator attached beat more often so they wait little, and
            //  at once after handling some (to report them and take more)
            int64_t period = self->xdiv ? XDIV_POLL_MS : HEARTBEAT_MS;
            self->next_heartbeat_ms = pmo_mono_ms () + (self->xdiv_more ? 0 : period);
        } else if (pmo_mono_ms () < self->hold_until_ms)
            wait_ms = (int)(self->hold_until_ms - pmo_mono_ms ());
        else {
            //  Block briefly for new entries only when there is no
            //  backlog to send; the heartbeat stays on time either way
            int64_t until_beat = self->next_heartbeat_ms - pmo_mono_ms ();
            int block =
                until_beat < READ_BLOCK_MS ? (int)(until_beat > 1 ? until_beat : 1) : READ_BLOCK_MS;
            if (block >= self->config.redis_timeout_ms)
                block = self->config.redis_timeout_ms / 2;
            if (s_forward (self, block) < 0)
                wait_ms = 100;
        }
        void *which = zpoller_wait (pipe_poller, wait_ms);
        if (which == pipe) {
            char *command = zstr_recv (pipe);
            if (!command || streq (command, "$TERM"))
                running = false;
            else if (streq (command, "STATS"))
                zstr_sendf (pipe, "pushed=%llu acked=%llu failures=%llu policy=%llu",
                            (unsigned long long)self->pushed, (unsigned long long)self->acked,
                            (unsigned long long)self->failures,
                            (unsigned long long)self->policy_version);
            zstr_free (&command);
        } else if (zpoller_terminated (pipe_poller))
            running = false;
    }
    pmo_info ("uplink: stopping pushed=%llu acked=%llu failures=%llu",
              (unsigned long long)self->pushed, (unsigned long long)self->acked,
              (unsigned long long)self->failures);
    zpoller_destroy (&pipe_poller);
    s_destroy (self);
    free (self);
}
