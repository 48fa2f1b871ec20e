/*  federation_hub.c: the hub actor: admits spokes by their CURVE keys,
    applies their events to the enterprise roll-up, pushes the hub policy
    down, and answers people about spokes and the roll-up.

    Trust: the CURVE handshake proves a spoke holds the secret key of a
    public key found in the spokes directory; the ZAP handler below maps the
    key to the spoke's name, which libzmq then attaches to every frame from
    that connection as "User-Id". What a spoke says about itself in a
    message is never trusted: a push is accepted only for a division listed
    in that spoke's key file, and every event in it must belong to that
    division. Spokes get nothing back but acknowledgements and the hub's
    own policy, so no spoke can read another's data.
*/
#include "federation_hub.h"
#include "federation_model.h"
#include "federation_store.h"
#include "federation_xdiv.h"

#include "orgtree.h"

#include "pmo_auth.h"
#include "pmo_log.h"
#include "pmo_ping.h"
#include "pmo_reflect.h"
#include "pmo_request.h"
#include "pmo_server.h"
#include "registry.pb-c.h"

#include <assert.h>
#include <dirent.h>
#include <sys/stat.h>
#include <string.h>

#define MAX_SPOKES        256
#define MAX_DIVISIONS     16 //  divisions one spoke key may speak for
#define ZAP_DOMAIN        "pmo-hub"
#define SPOKE_MAX_MESSAGE (16 * 1024 * 1024)
#define POLICY_REFRESH_MS 30000 //  safety net behind the registry's PUB
#define POLICY_RETRY_MS   2000  //  while the hub registry has not answered
#define REGISTRY_CALL_MS  300   //  the actor blocks this long at most per call
#define ROLLUP_LIST_MAX   500

typedef struct {
    char name[64];       //  the spoke's name (its key file's "spoke" metadata)
    char public_key[41]; //  Z85
    char *divisions[MAX_DIVISIONS];
    size_t n_divisions;
    int64_t last_seen_ms;     //  wall clock of its last message (0: not since start)
    uint64_t backlog_entries; //  as it last reported
    int64_t behind_ms;        //  age of its oldest waiting event at that report
    uint64_t policy_version;  //  hub policy version it applies
    char policy_error[256];   //  why it could not apply the last one
    uint64_t pushes;          //  pushes accepted since start
} spoke_t;

typedef struct {
    federation_hub_config_t config;
    pmo_redis_t *redis;
    federation_store_t *store;
    pmo_server_t *server;  //  admin ROUTER
    zsock_t *spokes_sock;  //  CURVE ROUTER
    zsock_t *zap;          //  ZAP handler (REP)
    zsock_t *pub;          //  applied events
    zsock_t *registry_sub; //  hub registry's PUB: policy changes
    orgtree_t *orgtree;    //  hub registry's org units, for the policy
    Pmo__Grant grant;      //  who the hub is to the registry: a viewer at the hub
    Pmo__Grant *grants[1];
    Pmo__Identity identity; //  ... (outlives the orgtree)
    zcert_t *cert;          //  the hub's keypair
    spoke_t spokes[MAX_SPOKES];
    size_t n_spokes;
    Pmo__OrgUnit *hub_unit;  //  the hub org unit as the registry last gave it (malloc)
    int64_t policy_next_ms;  //  monotonic time of the next policy refresh
    uint64_t events_applied; //  since start
    uint64_t refused_connections;
    int64_t started_ms;
    pmo_arena_t *arena; //  per spoke message
} hub_t;

//  ---------------------------------------------------------------------
//  Spokes and their keys

static spoke_t *s_spoke_find (hub_t *self, const char *name)
{
    for (size_t i = 0; name && i < self->n_spokes; i++)
        if (strcmp (self->spokes[i].name, name) == 0)
            return &self->spokes[i];
    return NULL;
}

static spoke_t *s_spoke_by_key (hub_t *self, const char *public_key)
{
    for (size_t i = 0; i < self->n_spokes; i++)
        if (strcmp (self->spokes[i].public_key, public_key) == 0)
            return &self->spokes[i];
    return NULL;
}

//  Load one public certificate: metadata "spoke" (default: file name) and
//  "divisions" (required).
static int s_spoke_load (hub_t *self, const char *dir, const char *file)
{
    char path[1024];
    snprintf (path, sizeof path, "%s/%s", dir, file);
    zcert_t *cert = zcert_load (path);
    if (!cert) {
        pmo_warn ("hub: unreadable spoke key file=%s", path);
        return -1;
    }
    spoke_t *spoke = &self->spokes[self->n_spokes];
    memset (spoke, 0, sizeof *spoke);
    const char *name = zcert_meta (cert, "spoke");
    char base[64];
    snprintf (base, sizeof base, "%s", file);
    char *dot = strrchr (base, '.');
    if (dot)
        *dot = 0;
    snprintf (spoke->name, sizeof spoke->name, "%s", name && *name ? name : base);
    snprintf (spoke->public_key, sizeof spoke->public_key, "%s", zcert_public_txt (cert));
    const char *divisions = zcert_meta (cert, "divisions");
    char copy[512];
    snprintf (copy, sizeof copy, "%s", divisions ? divisions : "");
    char *save = NULL;
    for (char *one = strtok_r (copy, ", ", &save); one && spoke->n_divisions < MAX_DIVISIONS;
         one = strtok_r (NULL, ", ", &save))
        if (pmo_slug_valid (one, 2, 32))
            spoke->divisions[spoke->n_divisions++] = strdup (one);
    zcert_destroy (&cert);
    if (spoke->n_divisions == 0 || !pmo_slug_valid (spoke->name, 2, 63) ||
        s_spoke_find (self, spoke->name) || s_spoke_by_key (self, spoke->public_key)) {
        pmo_warn ("hub: spoke key refused file=%s reason=\"no divisions, bad or duplicate name "
                  "or key\"",
                  path);
        for (size_t i = 0; i < spoke->n_divisions; i++)
            free (spoke->divisions[i]);
        return -1;
    }
    //  A division belongs to one spoke: a second key claiming it is refused
    for (size_t i = 0; i < self->n_spokes; i++)
        for (size_t d = 0; d < spoke->n_divisions; d++)
            if (federation_division_allowed (self->spokes[i].divisions, self->spokes[i].n_divisions,
                                             spoke->divisions[d])) {
                pmo_warn ("hub: spoke key refused file=%s reason=\"division %s belongs to %s\"",
                          path, spoke->divisions[d], self->spokes[i].name);
                for (size_t k = 0; k < spoke->n_divisions; k++)
                    free (spoke->divisions[k]);
                return -1;
            }
    pmo_info ("hub: spoke known name=%s divisions=%zu key=%.8s...", spoke->name, spoke->n_divisions,
              spoke->public_key);
    self->n_spokes++;
    return 0;
}

static void s_spokes_load (hub_t *self)
{
    DIR *dir = opendir (self->config.spokes_dir);
    if (!dir) {
        pmo_warn ("hub: no spokes directory path=%s: no spoke can connect",
                  self->config.spokes_dir);
        return;
    }
    //  Sorted, so the order of spokes is stable across restarts
    struct dirent **names = NULL;
    closedir (dir);
    int n = scandir (self->config.spokes_dir, &names, NULL, alphasort);
    for (int i = 0; i < n; i++) {
        const char *file = names[i]->d_name;
        size_t len = strlen (file);
        bool public_cert = len > 4 && strcmp (file + len - 4, ".key") == 0;
        if (public_cert && self->n_spokes < MAX_SPOKES)
            s_spoke_load (self, self->config.spokes_dir, file);
        free (names[i]);
    }
    free (names);
}

//  ZAP (RFC 27): libzmq asks us about every CURVE handshake on the spoke
//  socket. We admit known keys and name the spoke as the User-Id.
static void s_zap_handle (hub_t *self)
{
    zmsg_t *request = zmsg_recv (self->zap);
    if (!request)
        return;
    char *version = zmsg_popstr (request);
    char *request_id = zmsg_popstr (request);
    char *domain = zmsg_popstr (request);
    char *address = zmsg_popstr (request);
    char *routing = zmsg_popstr (request);
    char *mechanism = zmsg_popstr (request);
    zframe_t *key = zmsg_pop (request);
    const char *status = "400", *text = "unknown key", *user = "";
    spoke_t *spoke = NULL;
    if (version && streq (version, "1.0") && mechanism && streq (mechanism, "CURVE") && key &&
        zframe_size (key) == 32) {
        char z85[41];
        zmq_z85_encode (z85, zframe_data (key), 32);
        spoke = s_spoke_by_key (self, z85);
        if (spoke) {
            status = "200";
            text = "OK";
            user = spoke->name;
        } else
            pmo_warn ("hub: connection refused address=%s key=%.8s... reason=\"unknown key\"",
                      address ? address : "", z85);
    } else
        text = "CURVE only";
    if (!spoke)
        self->refused_connections++;
    zmsg_t *reply = zmsg_new ();
    zmsg_addstr (reply, "1.0");
    zmsg_addstr (reply, request_id ? request_id : "");
    zmsg_addstr (reply, status);
    zmsg_addstr (reply, text);
    zmsg_addstr (reply, user);
    zmsg_addmem (reply, "", 0);
    zmsg_send (&reply, self->zap);
    zstr_free (&version);
    zstr_free (&request_id);
    zstr_free (&domain);
    zstr_free (&address);
    zstr_free (&routing);
    zstr_free (&mechanism);
    zframe_destroy (&key);
    zmsg_destroy (&request);
}

//  ---------------------------------------------------------------------
//  The hub policy

static void s_policy_take (hub_t *self, const Pmo__OrgUnit *unit)
{
    if (self->hub_unit && self->hub_unit->version >= unit->version)
        return;
    Pmo__OrgUnit *copy = (Pmo__OrgUnit *)pmo_reflect_dup (&unit->base);
    if (!copy)
        return;
    if (self->hub_unit)
        protobuf_c_message_free_unpacked (&self->hub_unit->base, NULL);
    self->hub_unit = copy;
    pmo_info ("hub: policy version=%llu", (unsigned long long)copy->version);
}

//  Read the hub org unit through the org tree. The PUB feed normally tells
//  us of changes; this covers the start and anything PUB/SUB dropped. The
//  tree's max age is POLICY_REFRESH_MS, so a due refresh reads it again.
static void s_policy_refresh (hub_t *self)
{
    if (pmo_mono_ms () < self->policy_next_ms)
        return;
    pmo_arena_t *arena = pmo_arena_new ();
    Pmo__OrgUnit *unit = NULL;
    int rc = orgtree_unit (self->orgtree, self->config.hub, arena, &unit);
    if (rc == 1)
        s_policy_take (self, unit);
    else if (rc == 0)
        pmo_debug ("hub: policy not read: the registry has no unit hub=%s", self->config.hub);
    pmo_arena_destroy (&arena);
    self->policy_next_ms = pmo_mono_ms () + (rc == 1 ? POLICY_REFRESH_MS : POLICY_RETRY_MS);
}

static void s_registry_event (hub_t *self)
{
    zmsg_t *msg = zmsg_recv (self->registry_sub);
    if (!msg)
        return;
    zframe_t *topic = zmsg_first (msg);
    zframe_t *body = zmsg_next (msg);
    (void)topic;
    if (body) {
        Pmo__Event *event = pmo__event__unpack (NULL, zframe_size (body), zframe_data (body));
        //  Any org-unit change: the tree reads again on its next use
        if (event)
            orgtree_invalidate (self->orgtree);
        if (event && event->body_case == PMO__EVENT__BODY_ORG_UNIT_SNAPSHOT &&
            strcmp (event->entity_id, self->config.hub) == 0)
            s_policy_take (self, event->org_unit_snapshot);
        if (event)
            protobuf_c_message_free_unpacked (&event->base, NULL);
    }
    zmsg_destroy (&msg);
}

static Pmo__HubPolicy *s_policy_message (hub_t *self, pmo_arena_t *arena)
{
    Pmo__HubPolicy *policy = pmo_arena_alloc (arena, sizeof (Pmo__HubPolicy));
    pmo__hub_policy__init (policy);
    policy->hub = (char *)self->config.hub;
    if (self->hub_unit) {
        policy->version = self->hub_unit->version;
        policy->pmo_type = self->hub_unit->pmo_type;
        policy->policy = self->hub_unit->policy;
    }
    return policy;
}

//  ---------------------------------------------------------------------
//  The spoke socket

static void s_spoke_report (hub_t *self, spoke_t *spoke, const Pmo__SpokeHeartbeat *beat)
{
    spoke->last_seen_ms = pmo_now_ms ();
    if (!beat)
        return;
    uint64_t entries = 0;
    int64_t oldest = 0;
    for (size_t i = 0; i < beat->n_backlog; i++) {
        //  Only what the key may speak for counts
        if (!federation_division_allowed (spoke->divisions, spoke->n_divisions,
                                          beat->backlog[i]->division))
            continue;
        entries += beat->backlog[i]->entries;
        if (beat->backlog[i]->oldest_ms && (!oldest || beat->backlog[i]->oldest_ms < oldest))
            oldest = beat->backlog[i]->oldest_ms;
    }
    spoke->backlog_entries = entries;
    spoke->behind_ms = oldest ? spoke->last_seen_ms - oldest : 0;
    if (spoke->behind_ms < 0)
        spoke->behind_ms = 0;
    spoke->policy_version = beat->policy_version;
    snprintf (spoke->policy_error, sizeof spoke->policy_error, "%s",
              beat->policy_error ? beat->policy_error : "");
}

static void s_spoke_save (hub_t *self, spoke_t *spoke)
{
    Pmo__Spoke msg = PMO__SPOKE__INIT;
    msg.name = spoke->name;
    msg.last_seen_ms = spoke->last_seen_ms;
    msg.backlog_entries = spoke->backlog_entries;
    msg.behind_ms = spoke->behind_ms;
    msg.policy_version = spoke->policy_version;
    msg.policy_error = spoke->policy_error;
    federation_store_spoke_save (self->store, &msg);
}

static void s_push_fail (Pmo__HubReply *reply, pmo_arena_t *arena, Pmo__ErrorCode code,
                         const char *field, const char *text)
{
    Pmo__Error *error = pmo_arena_alloc (arena, sizeof (Pmo__Error));
    pmo__error__init (error);
    error->code = code;
    error->field = pmo_arena_strdup (arena, field);
    error->message = pmo_arena_strdup (arena, text);
    error->retryable = pmo_error_code_retryable (code);
    reply->error = error;
}

//  Cross-division requests go only to divisions a known spoke serves
static bool s_division_served (void *state, const char *division)
{
    hub_t *self = state;
    for (size_t i = 0; i < self->n_spokes; i++)
        if (federation_division_allowed (self->spokes[i].divisions, self->spokes[i].n_divisions,
                                         division))
            return true;
    return false;
}

//  Apply a push. Returns with reply->ack or reply->error set.
static void s_handle_push (hub_t *self, spoke_t *spoke, const Pmo__PushEvents *push,
                           Pmo__HubReply *reply, pmo_arena_t *arena)
{
    if (!federation_division_allowed (spoke->divisions, spoke->n_divisions, push->division)) {
        pmo_warn ("hub: push refused spoke=%s division=%.40s reason=\"not its division\"",
                  spoke->name, push->division);
        federation_store_spoke_refused (self->store, spoke->name);
        return s_push_fail (reply, arena, PMO__ERROR_CODE__ERROR_FORBIDDEN, "push.division",
                            pmo_arena_printf (arena,
                                              "spoke '%s' may not speak for division '%.40s'",
                                              spoke->name, push->division));
    }
    federation_apply_t *apply =
        pmo_arena_alloc (arena, (push->n_events + 1) * sizeof (federation_apply_t));
    Pmo__Event **decoded = pmo_arena_alloc (arena, (push->n_events + 1) * sizeof (Pmo__Event *));
    const char *previous = "0-0";
    for (size_t i = 0; i < push->n_events; i++) {
        const Pmo__ForwardedEvent *fe = push->events[i];
        char *field = pmo_arena_printf (arena, "push.events[%zu]", i);
        if (!federation_stream_id_valid (fe->stream_id) ||
            federation_stream_id_cmp (fe->stream_id, previous) <= 0)
            return s_push_fail (reply, arena, PMO__ERROR_CODE__ERROR_INVALID,
                                pmo_arena_printf (arena, "%s.stream_id", field),
                                "stream ids must be valid and strictly ascending");
        previous = fe->stream_id;
        federation_apply_t *one = &apply[i];
        one->stream_id = fe->stream_id;
        one->type = pmo_str_empty (fe->type) ? "unknown" : fe->type;
        Pmo__Event *event =
            pmo__event__unpack (pmo_arena_allocator (arena), fe->data.len, fe->data.data);
        if (!event) {
            //  Not ours to judge: count it so the stream moves on, hold nothing
            pmo_warn ("hub: undecodable event spoke=%s division=%s stream_id=%s", spoke->name,
                      push->division, fe->stream_id);
            continue;
        }
        if (strcmp (event->division ? event->division : "", push->division) != 0) {
            pmo_warn ("hub: push refused spoke=%s division=%s reason=\"event of division %.40s\"",
                      spoke->name, push->division, event->division);
            federation_store_spoke_refused (self->store, spoke->name);
            return s_push_fail (reply, arena, PMO__ERROR_CODE__ERROR_FORBIDDEN,
                                pmo_arena_printf (arena, "%s.division", field),
                                "an event of another division");
        }
        event->id = (char *)fe->stream_id;
        decoded[i] = event;
        one->field = federation_entity_field (event, arena);
        one->version = event->entity_version;
        one->contribution = federation_rollup_contribution (event, arena);
        one->time_ms = event->time_ms;
        one->blob = pmo_reflect_pack (&event->base, arena, &one->size);
    }
    //  What the new events carry for other divisions is queued first: if
    //  that fails nothing is applied and the spoke sends the push again
    if (federation_xdiv_route (self->store, push->division, decoded, apply, push->n_events,
                               s_division_served, self, arena))
        return s_push_fail (reply, arena, PMO__ERROR_CODE__ERROR_UNAVAILABLE, "",
                            "the hub's store (Redis) is unavailable; resend shortly");
    uint32_t applied = 0, duplicates = 0;
    char last_id[64] = "";
    if (federation_store_apply (self->store, spoke->name, push->division, apply, push->n_events,
                                &applied, &duplicates, last_id, sizeof last_id))
        return s_push_fail (reply, arena, PMO__ERROR_CODE__ERROR_UNAVAILABLE, "",
                            "the hub's store (Redis) is unavailable; resend shortly");
    //  The batch is ascending and duplicates are exactly those at or below
    //  the mark, so the applied ones are its tail: publish those.
    for (size_t i = push->n_events - applied; i < push->n_events; i++) {
        if (!decoded[i])
            continue;
        zmsg_t *msg = zmsg_new ();
        zmsg_addstrf (msg, "%s.%s", push->division, apply[i].type);
        zmsg_addmem (msg, apply[i].blob, apply[i].size);
        zmsg_send (&msg, self->pub);
    }
    self->events_applied += applied;
    spoke->pushes++;
    Pmo__PushAck *ack = pmo_arena_alloc (arena, sizeof (Pmo__PushAck));
    pmo__push_ack__init (ack);
    ack->division = push->division;
    ack->applied = applied;
    ack->duplicates = duplicates;
    ack->last_id = pmo_arena_strdup (arena, last_id);
    reply->body_case = PMO__HUB_REPLY__BODY_ACK;
    reply->ack = ack;
    pmo_debug ("hub: applied spoke=%s division=%s applied=%u duplicates=%u last_id=%s", spoke->name,
               push->division, applied, duplicates, last_id);
}

static void s_spoke_message (hub_t *self)
{
    zframe_t *routing = zframe_recv (self->spokes_sock);
    if (!routing)
        return;
    if (!zsock_rcvmore (self->spokes_sock)) {
        zframe_destroy (&routing);
        return;
    }
    zframe_t *frame = zframe_recv (self->spokes_sock);
    while (zsock_rcvmore (self->spokes_sock)) { //  one frame per message: drop extras
        zframe_t *extra = zframe_recv (self->spokes_sock);
        zframe_destroy (&extra);
    }
    if (!frame) {
        zframe_destroy (&routing);
        return;
    }
    pmo_arena_reset (self->arena);
    pmo_arena_t *arena = self->arena;
    const char *user = zframe_meta (frame, "User-Id");
    spoke_t *spoke = s_spoke_find (self, user);
    Pmo__HubReply reply = PMO__HUB_REPLY__INIT;
    Pmo__Header header = PMO__HEADER__INIT;
    header.protocol_version = PMO_PROTOCOL_VERSION;
    reply.header = &header;
    Pmo__HubRequest *request = pmo__hub_request__unpack (pmo_arena_allocator (arena),
                                                         zframe_size (frame), zframe_data (frame));
    char path[128], why[128];
    if (!spoke)
        //  Cannot happen with the ZAP handler in place; never trust it anyway
        s_push_fail (&reply, arena, PMO__ERROR_CODE__ERROR_UNAUTHENTICATED, "",
                     "no spoke key behind this connection");
    else if (!request || pmo_wire_validate (&request->base, path, sizeof path, why, sizeof why))
        s_push_fail (&reply, arena, PMO__ERROR_CODE__ERROR_MALFORMED, request ? path : "",
                     request ? why : "not a HubRequest");
    else if (!request->header || !pmo_wire_request_id_valid (request->header->request_id))
        s_push_fail (&reply, arena, PMO__ERROR_CODE__ERROR_INVALID, "header.request_id",
                     "a request id is required");
    else {
        header.request_id = request->header->request_id;
        s_spoke_report (self, spoke,
                        request->body_case == PMO__HUB_REQUEST__BODY_HEARTBEAT ? request->heartbeat
                                                                               : request->spoke);
        if (request->body_case == PMO__HUB_REQUEST__BODY_PUSH)
            s_handle_push (self, spoke, request->push, &reply, arena);
        else if (request->body_case == PMO__HUB_REQUEST__BODY_HEARTBEAT)
            s_spoke_save (self, spoke);
        else
            s_push_fail (&reply, arena, PMO__ERROR_CODE__ERROR_UNSUPPORTED, "body",
                         "spokes may push and send heartbeats, nothing else");
        //  Cross-division deliveries ride on the replies (federation_xdiv.c)
        if (!reply.error && (request->xdiv_ready || request->n_xdiv_done) &&
            federation_xdiv_exchange (self->store, spoke->divisions, spoke->n_divisions, request,
                                      &reply, s_division_served, self, arena))
            reply.n_xdiv = 0;
    }
    if (spoke && !reply.error)
        reply.policy = s_policy_message (self, arena);
    size_t size;
    uint8_t *blob = pmo_reflect_pack (&reply.base, arena, &size);
    zframe_t *out = zframe_new (blob, size);
    zframe_send (&routing, self->spokes_sock, ZFRAME_MORE);
    if (zframe_send (&out, self->spokes_sock, 0))
        pmo_debug ("hub: reply to a spoke that has gone spoke=%s", spoke ? spoke->name : "?");
    zframe_destroy (&routing);
    zframe_destroy (&out);
    zframe_destroy (&frame);
}

//  ---------------------------------------------------------------------
//  The admin socket: people and dashboards

static bool s_grant_at (const Pmo__Identity *who, const char *unit)
{
    for (size_t i = 0; who && i < who->n_grants; i++)
        if (who->grants[i]->role != PMO__ROLE__ROLE_UNSPECIFIED && who->grants[i]->org_unit &&
            strcmp (who->grants[i]->org_unit, unit) == 0)
            return true;
    return false;
}

//  The enterprise view needs a role held at the hub; a division's view a
//  role held at the hub or at that division.
static bool s_may_see (hub_t *self, const Pmo__Identity *who, const char *division)
{
    return s_grant_at (who, self->config.hub) || (division && s_grant_at (who, division));
}

static Pmo__Spoke *s_spoke_message_of (hub_t *self, spoke_t *spoke, pmo_arena_t *arena, bool *ok)
{
    Pmo__Spoke *msg = pmo_arena_alloc (arena, sizeof (Pmo__Spoke));
    pmo__spoke__init (msg);
    msg->name = spoke->name;
    msg->divisions = spoke->divisions;
    msg->n_divisions = spoke->n_divisions;
    //  Counters and the last report survive a hub restart in Redis, where
    //  every hub replica saves the heartbeats it receives: what this one
    //  heard itself is shown only if it is the latest
    if (federation_store_spoke_load (self->store, msg, arena))
        *ok = false;
    if (spoke->last_seen_ms && spoke->last_seen_ms >= msg->last_seen_ms) {
        msg->last_seen_ms = spoke->last_seen_ms;
        msg->backlog_entries = spoke->backlog_entries;
        msg->behind_ms = spoke->behind_ms;
        msg->policy_version = spoke->policy_version;
        msg->policy_error = spoke->policy_error;
    }
    msg->xdiv_waiting = federation_xdiv_waiting (self->store, spoke->divisions, spoke->n_divisions);
    federation_thresholds_t thresholds = {self->config.lag_ms, self->config.down_ms};
    msg->state = federation_spoke_state (pmo_now_ms (), msg->last_seen_ms, msg->backlog_entries,
                                         msg->behind_ms, &thresholds);
    if (msg->state == PMO__SPOKE_STATE__SPOKE_STATE_DOWN && msg->last_seen_ms) {
        //  Down: what waits there grows unseen; show the age as of now
        int64_t since = pmo_now_ms () - msg->last_seen_ms;
        msg->behind_ms += since;
    }
    return msg;
}

static void s_handle_spokes (hub_t *self, pmo_request_t *req)
{
    if (!s_may_see (self, req->header->identity, NULL))
        return (void)FAIL (req, FORBIDDEN, "", "the spokes are seen with a role held at '%s'",
                           self->config.hub);
    Pmo__SpokeList *list = pmo_arena_alloc (req->arena, sizeof (Pmo__SpokeList));
    pmo__spoke_list__init (list);
    list->spokes = pmo_arena_alloc (req->arena, (self->n_spokes + 1) * sizeof (Pmo__Spoke *));
    bool ok = true;
    for (size_t i = 0; i < self->n_spokes; i++)
        list->spokes[list->n_spokes++] =
            s_spoke_message_of (self, &self->spokes[i], req->arena, &ok);
    if (!ok)
        return pmo_request_unavailable (req, "the hub's store (Redis)");
    pmo_reflect_set_oneof (req->reply, "spokes", &list->base);
}

static void s_handle_status (hub_t *self, pmo_request_t *req)
{
    if (!s_may_see (self, req->header->identity, NULL))
        return (void)FAIL (req, FORBIDDEN, "", "the hub status is seen with a role held at '%s'",
                           self->config.hub);
    Pmo__HubStatus *status = pmo_arena_alloc (req->arena, sizeof (Pmo__HubStatus));
    pmo__hub_status__init (status);
    status->hub = (char *)self->config.hub;
    status->spokes = self->n_spokes;
    bool ok = true;
    for (size_t i = 0; i < self->n_spokes; i++) {
        Pmo__Spoke *spoke = s_spoke_message_of (self, &self->spokes[i], req->arena, &ok);
        status->events_applied += spoke->events_applied;
        if (spoke->state == PMO__SPOKE_STATE__SPOKE_STATE_CONNECTED)
            status->connected++;
        else if (spoke->state == PMO__SPOKE_STATE__SPOKE_STATE_LAGGING)
            status->lagging++;
        else
            status->down++;
    }
    if (!ok)
        return pmo_request_unavailable (req, "the hub's store (Redis)");
    status->policy = s_policy_message (self, req->arena);
    status->refused_connections = self->refused_connections;
    status->uptime_ms = pmo_now_ms () - self->started_ms;
    pmo_reflect_set_oneof (req->reply, "status", &status->base);
}

//  An event body member name: [a-z_], 2..40 (it goes into an HSCAN
//  pattern, so nothing glob-like may pass).
static bool s_kind_valid (const char *kind)
{
    size_t len = strlen (kind);
    if (len < 2 || len > 40)
        return false;
    for (const char *c = kind; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || *c == '_'))
            return false;
    return true;
}

static void s_handle_rollup (hub_t *self, pmo_request_t *req,
                             const Pmo__EnterpriseRollupRequest *ask)
{
    const Pmo__Identity *who = req->header->identity;
    if (!pmo_str_empty (ask->list_kind) && !s_kind_valid (ask->list_kind))
        return (void)FAIL (req, INVALID, "rollup.list_kind", "not an entity kind");
    if (ask->limit > ROLLUP_LIST_MAX)
        return (void)FAIL (req, INVALID, "rollup.limit", "limit is at most %d", ROLLUP_LIST_MAX);
    if (!pmo_str_empty (ask->cursor) && pmo_str_empty (ask->division))
        return (void)FAIL (req, INVALID, "rollup.cursor", "a cursor goes with one division");
    bool found = pmo_str_empty (ask->division);
    Pmo__EnterpriseRollup *rollup = pmo_arena_alloc (req->arena, sizeof (Pmo__EnterpriseRollup));
    pmo__enterprise_rollup__init (rollup);
    size_t cap = 1;
    for (size_t i = 0; i < self->n_spokes; i++)
        cap += self->spokes[i].n_divisions;
    rollup->divisions = pmo_arena_alloc (req->arena, cap * sizeof (Pmo__DivisionRollup *));
    //  The divisions asked for and visible to the caller, then their
    //  counters in one round trip: the hub keeps them as events arrive
    //  (lua/apply.lua), so the answer does not grow with the entities held
    const char **names = pmo_arena_alloc (req->arena, cap * sizeof (char *));
    const char **spoke_of = pmo_arena_alloc (req->arena, cap * sizeof (char *));
    size_t n_names = 0;
    for (size_t i = 0; i < self->n_spokes; i++) {
        spoke_t *spoke = &self->spokes[i];
        for (size_t d = 0; d < spoke->n_divisions; d++) {
            const char *division = spoke->divisions[d];
            if (!pmo_str_empty (ask->division) && strcmp (ask->division, division) != 0)
                continue;
            found = true;
            if (!s_may_see (self, who, division))
                continue;
            spoke_of[n_names] = spoke->name;
            names[n_names++] = division;
        }
    }
    federation_rollup_t *ones = pmo_arena_alloc (req->arena, cap * sizeof (federation_rollup_t));
    memset (ones, 0, cap * sizeof (federation_rollup_t));
    bool *built = pmo_arena_alloc (req->arena, cap * sizeof (bool));
    Pmo__Count ***types = pmo_arena_alloc (req->arena, cap * sizeof (Pmo__Count **));
    size_t *n_types = pmo_arena_alloc (req->arena, cap * sizeof (size_t));
    if (n_names && federation_store_rollups (self->store, req->arena, names, n_names, ones, built,
                                             types, n_types))
        return pmo_request_unavailable (req, "the hub's store (Redis)");
    federation_rollup_t total = {0};
    for (size_t i = 0; i < n_names; i++) {
        const char *division = names[i];
        Pmo__Event **events;
        size_t n;
        if (!built[i]) {
            //  Held since before the hub kept counters, and nothing
            //  arrived since (the next push builds them): add it up
            if (federation_store_entities (self->store, req->arena, division, &events, &n))
                return pmo_request_unavailable (req, "the hub's store (Redis)");
            for (size_t e = 0; e < n; e++)
                federation_rollup_add (&ones[i], req->arena, events[e]);
        }
        federation_rollup_merge (&total, req->arena, &ones[i]);
        Pmo__DivisionRollup *msg =
            federation_rollup_message (&ones[i], req->arena, division, spoke_of[i]);
        msg->events = types[i];
        msg->n_events = n_types[i];
        rollup->divisions[rollup->n_divisions++] = msg;
        if (!pmo_str_empty (ask->list_kind)) {
            char *next;
            size_t limit = ask->limit ? ask->limit : 50;
            if (federation_store_entity_page (self->store, req->arena, division, ask->list_kind,
                                              ask->cursor, limit, &events, &n, &next))
                return pmo_request_unavailable (req, "the hub's store (Redis)");
            Pmo__RollupEntity **grown = pmo_arena_alloc (
                req->arena, (rollup->n_entities + n + 1) * sizeof (Pmo__RollupEntity *));
            if (rollup->n_entities)
                memcpy (grown, rollup->entities, rollup->n_entities * sizeof (Pmo__RollupEntity *));
            rollup->entities = grown;
            for (size_t e = 0; e < n; e++) {
                Pmo__RollupEntity *entity =
                    pmo_arena_alloc (req->arena, sizeof (Pmo__RollupEntity));
                pmo__rollup_entity__init (entity);
                entity->division = (char *)division;
                entity->kind = (char *)pmo_wire_oneof_name (&events[e]->base);
                entity->id = events[e]->entity_id;
                entity->version = events[e]->entity_version;
                entity->type = events[e]->type;
                entity->stream_id = events[e]->id;
                entity->event = events[e];
                rollup->entities[rollup->n_entities++] = entity;
            }
            if (!pmo_str_empty (ask->division))
                rollup->next_cursor = next;
        }
    }
    if (!found)
        return (void)FAIL (req, NOT_FOUND, "rollup.division", "no spoke holds division '%.40s'",
                           ask->division);
    if (rollup->n_divisions == 0 && !s_may_see (self, who, NULL))
        return (void)FAIL (req, FORBIDDEN, "",
                           "the roll-up is seen with a role held at the hub or a division");
    rollup->total = federation_rollup_message (&total, req->arena, "", "");
    pmo_reflect_set_oneof (req->reply, "rollup", &rollup->base);
}

static void s_handle_ping (hub_t *self, pmo_request_t *req)
{
    pmo_request_pong (req, "hub", self->redis, self->started_ms);
}

static void s_handle (void *state, pmo_request_t *req)
{
    hub_t *self = state;
    Pmo__HubRequest *r = (Pmo__HubRequest *)req->request;
    switch (r->body_case) {
    case PMO__HUB_REQUEST__BODY_STATUS:
        return s_handle_status (self, req);
    case PMO__HUB_REQUEST__BODY_SPOKES:
        return s_handle_spokes (self, req);
    case PMO__HUB_REQUEST__BODY_ROLLUP:
        return s_handle_rollup (self, req, r->rollup);
    case PMO__HUB_REQUEST__BODY_PING:
        return s_handle_ping (self, req);
    case PMO__HUB_REQUEST__BODY_PUSH:
    case PMO__HUB_REQUEST__BODY_HEARTBEAT:
        return (void)FAIL (req, UNSUPPORTED, "body",
                           "spokes push to the hub's CURVE endpoint, not here");
    default:
        FAIL (req, UNSUPPORTED, "body", "unknown request type");
    }
}

//  ---------------------------------------------------------------------
//  The actor

static void s_destroy (hub_t *self)
{
    pmo_server_destroy (&self->server);
    zsock_destroy (&self->spokes_sock);
    zsock_destroy (&self->zap);
    zsock_destroy (&self->pub);
    zsock_destroy (&self->registry_sub);
    orgtree_destroy (&self->orgtree);
    zcert_destroy (&self->cert);
    federation_store_destroy (&self->store);
    pmo_redis_destroy (&self->redis);
    pmo_arena_destroy (&self->arena);
    if (self->hub_unit)
        protobuf_c_message_free_unpacked (&self->hub_unit->base, NULL);
    for (size_t i = 0; i < self->n_spokes; i++)
        for (size_t d = 0; d < self->spokes[i].n_divisions; d++)
            free (self->spokes[i].divisions[d]);
}

//  The hub reads its policy as a viewer at the hub; the identity lives in
//  self because the tree keeps a pointer to it.
static void s_orgtree_start (hub_t *self)
{
    pmo__grant__init (&self->grant);
    self->grant.role = PMO__ROLE__ROLE_VIEWER;
    self->grant.org_unit = (char *)self->config.hub;
    self->grants[0] = &self->grant;
    pmo__identity__init (&self->identity);
    self->identity.subject = "pmo-hub";
    self->identity.grants = self->grants;
    self->identity.n_grants = 1;
    orgtree_config_t tree = {.registry = self->config.registry,
                             .identity = &self->identity,
                             .timeout_ms = REGISTRY_CALL_MS,
                             .max_age_ms = POLICY_REFRESH_MS};
    //  The hub needs its registry (an orgtree without one would never ask)
    self->orgtree = pmo_str_empty (self->config.registry) ? NULL : orgtree_new (&tree);
}

static int s_start (hub_t *self)
{
    self->redis = pmo_redis_new (self->config.redis_url, self->config.redis_timeout_ms);
    if (!self->redis) {
        pmo_error ("hub: bad redis url");
        return -1;
    }
    self->store = federation_store_new (self->redis, self->config.hub);
    self->arena = pmo_arena_new ();
    if (!zsys_file_exists (self->config.cert)) {
        //  First start: make the hub's keypair (like a host key), so a
        //  one-machine stack runs without setup; spokes need its public file
        zcert_t *fresh = zcert_new ();
        zcert_set_meta (fresh, "hub", "%s", self->config.hub);
        char public_path[1024];
        snprintf (public_path, sizeof public_path, "%s", self->config.cert);
        char *suffix = strstr (public_path, "_secret");
        if (suffix && suffix[7] == 0)
            *suffix = 0;
        else
            strncat (public_path, ".pub", sizeof public_path - strlen (public_path) - 1);
        mode_t old = umask (077);
        int rc =
            zcert_save_public (fresh, public_path) || zcert_save_secret (fresh, self->config.cert);
        umask (old);
        if (rc == 0)
            pmo_info ("hub: made a new keypair cert=%s public=%s key=%s", self->config.cert,
                      public_path, zcert_public_txt (fresh));
        zcert_destroy (&fresh);
    }
    self->cert = zcert_load (self->config.cert);
    if (!self->cert || !zcert_secret_txt (self->cert) ||
        streq (zcert_secret_txt (self->cert), "0000000000000000000000000000000000000000")) {
        pmo_error ("hub: no secret key in cert=%s (pmo-hub keygen makes one)", self->config.cert);
        return -1;
    }
    s_spokes_load (self);
    //  The ZAP handler must be bound before the CURVE socket accepts
    //  anyone: without a handler libzmq admits every client key. The
    //  process has one (pmo_auth.c); it relays our domain to us, and
    //  refuses it while we are not connected.
    char zap_endpoint[128];
    self->zap = zsock_new (ZMQ_REP);
    assert (self->zap);
    if (pmo_auth_zap_relay (ZAP_DOMAIN, zap_endpoint, sizeof zap_endpoint) ||
        zsock_connect (self->zap, "%s", zap_endpoint) < 0) {
        pmo_error ("hub: cannot connect the ZAP handler endpoint=%s", zap_endpoint);
        return -1;
    }
    self->spokes_sock = zsock_new (ZMQ_ROUTER);
    assert (self->spokes_sock);
    zsock_set_router_mandatory (self->spokes_sock, 1);
    zsock_set_maxmsgsize (self->spokes_sock, SPOKE_MAX_MESSAGE);
    zsock_set_zap_domain (self->spokes_sock, ZAP_DOMAIN);
    zcert_apply (self->cert, self->spokes_sock);
    zsock_set_curve_server (self->spokes_sock, 1);
    if (zsock_bind (self->spokes_sock, "%s", self->config.spoke_endpoint) < 0) {
        pmo_error ("hub: cannot bind spoke_endpoint=%s", self->config.spoke_endpoint);
        return -1;
    }
    pmo_server_config_t server_config = {
        .name = "hub",
        .request_desc = &pmo__hub_request__descriptor,
        .reply_desc = &pmo__hub_reply__descriptor,
        .handler = s_handle,
        .state = self,
        .max_message = 4 * PMO_MAX_MESSAGE,
    };
    self->server = pmo_server_new (&server_config, self->config.endpoint);
    self->pub = zsock_new (ZMQ_PUB);
    assert (self->pub);
    zsock_set_sndhwm (self->pub, 100000);
    if (!self->server || pmo_auth_server (self->pub) ||
        zsock_bind (self->pub, "%s", self->config.pub_endpoint) < 0) {
        pmo_error ("hub: cannot bind endpoint=%s pub=%s", self->config.endpoint,
                   self->config.pub_endpoint);
        return -1;
    }
    s_orgtree_start (self);
    //  Every registry replica's PUB (comma-separated): each publishes what
    //  it commits
    char topic[80];
    snprintf (topic, sizeof topic, "%s.org_unit.", self->config.hub);
    self->registry_sub = pmo_auth_sub_new (self->config.registry_pub, topic);
    if (!self->orgtree || !self->registry_sub) {
        pmo_error ("hub: bad registry endpoint=%s pub=%s", self->config.registry,
                   self->config.registry_pub);
        return -1;
    }
    return 0;
}

void federation_hub_actor (zsock_t *pipe, void *args)
{
    hub_t *self = calloc (1, sizeof (hub_t));
    assert (self);
    self->config = *(federation_hub_config_t *)args;
    self->started_ms = pmo_now_ms ();
    if (s_start (self)) {
        s_destroy (self);
        free (self);
        ((federation_hub_config_t *)args)->failed = true;
        zsock_signal (pipe, 1);
        return;
    }
    pmo_redis_ready (self->redis);
    pmo_info ("hub: ready spokes=%zu spoke_endpoint=%s endpoint=%s pub=%s redis=%s hub=%s",
              self->n_spokes, self->config.spoke_endpoint, self->config.endpoint,
              self->config.pub_endpoint, pmo_redis_safe_url (self->redis), self->config.hub);
    zsock_signal (pipe, 0);

    zpoller_t *poller = zpoller_new (pipe, self->zap, self->spokes_sock,
                                     pmo_server_socket (self->server), self->registry_sub, NULL);
    bool running = true;
    while (running) {
        void *which = zpoller_wait (poller, 200);
        if (which == pipe) {
            char *command = zstr_recv (pipe);
            running = !(command && streq (command, "$TERM"));
            zstr_free (&command);
        } else if (which == self->zap)
            s_zap_handle (self);
        else if (which == self->spokes_sock) {
            //  Several spokes may wait: serve a few before looking elsewhere
            for (int i = 0; i < 32 && (zsock_events (self->spokes_sock) & ZMQ_POLLIN); i++)
                s_spoke_message (self);
        } else if (which == pmo_server_socket (self->server))
            pmo_server_drain (self->server, 64);
        else if (which == self->registry_sub)
            s_registry_event (self);
        else if (zpoller_terminated (poller))
            running = false;
        s_policy_refresh (self);
    }
    pmo_server_drain (self->server, 100000);
    pmo_info ("hub: stopping events_applied=%llu refused_connections=%llu",
              (unsigned long long)self->events_applied,
              (unsigned long long)self->refused_connections);
    zpoller_destroy (&poller);
    s_destroy (self);
    free (self);
}
