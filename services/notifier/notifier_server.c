/*  notifier_server.c: the notifier actor: requests, event routing and the
    delivery loop.

    Three kinds of work share the actor's one thread, none of them blocking
    for long: requests on the ROUTER (answered at once), the event streams
    (read without blocking, routed with one pipelined script call per event
    and channel, then acknowledged), and deliveries (claimed per channel as
    they fall due and the channel's rate allows, sent through libcurl multi,
    finished with one script call each). A slow endpoint only ever holds its
    own channel's few transfers.
*/
#include "notifier_server.h"
#include "notifier_model.h"
#include "notifier_send.h"
#include "notifier_store.h"
#include "orgtree.h"

#include "pmo_client.h"
#include "pmo_log.h"
#include "pmo_reflect.h"
#include "pmo_request.h"
#include "pmo_server.h"
#include "pmo_stream.h"
#include "registry.pb-c.h"

#include <assert.h>
#include <math.h>
#include <string.h>

#define IDEM_TTL_S      86400 //  how long a done request's reply is kept for retries
#define GROUP           "notifier"
#define BATCH           256   //  stream entries read at once
#define POLL_IDLE_MS    5     //  stream poll interval when the last read found nothing
#define TICK_MS         25    //  delivery loop interval when nothing triggers it
#define CACHE_RELOAD_MS 2000  //  re-read channels and subscriptions (other replicas' changes)
#define ORG_RELOAD_MS   30000 //  re-read the whole org tree (new divisions to follow)
#define ORG_CHECK_MS    1000  //  ask the tree whether it must be read again
#define LIST_DEFAULT    50
#define LIST_MAX        500
#define PROJECTS_MAX    20000 //  project labels remembered
#define POLL_ITEMS_MAX  1024

//  A channel as the delivery loop sees it
typedef struct {
    char division[40];
    Pmo__Channel *channel; //  owned (unpacked on the heap)
    double tokens;         //  token bucket for the endpoint's rate limit
    int64_t refill_ms;     //  monotonic time of the last refill
    int64_t paused_until;  //  wall ms: the endpoint asked us to wait (429, 503)
    int in_flight;         //  transfers running
    bool seen;             //  found by the latest reload
} channel_state_t;

//  One attempt on its way
typedef struct {
    pmo_arena_t *arena;
    Pmo__Delivery *delivery; //  as claimed (in arena)
    uint64_t version;        //  stored version to finish with
    char channel_id[64];
    bool smtp;
} transfer_t;

typedef struct {
    notifier_config_t config;
    pmo_redis_t *redis; //  owned; every command goes through store
    notifier_store_t *store;
    pmo_server_t *server;
    zsock_t *pub;
    notifier_send_t *send;
    pmo_client_t *registry; //  for projects (org units go through tree)
    Pmo__Identity service;  //  how the notifier introduces itself to the registry
    Pmo__Grant grant;
    Pmo__Grant *grants[1];
    //  Org units, from the registry
    orgtree_t *tree;
    bool org_loaded;         //  the whole tree was read at least once
    uint64_t org_generation; //  of the tree when its divisions were last followed
    int64_t org_next_ms;     //  monotonic: when to ask the tree again
    //  Divisions whose streams we read
    zlist_t *divisions; //  of strdup'd ids
    char **streams;     //  stream keys
    size_t n_streams;
    bool groups_ok;
    //  Channels and subscriptions, cached
    zhash_t *channels; //  id -> channel_state_t
    pmo_arena_t *subs_arena;
    Pmo__Subscription **subs;
    size_t n_subs;
    int64_t cache_loaded_ms; //  monotonic
    zhash_t *projects;       //  project id -> "CODE Name"
    //  Loop state
    bool tick_now;
    int64_t next_tick_ms, next_poll_ms;
    int in_flight;
    int64_t started_ms;
    uint64_t routed, delivered, failed, dead, skipped;
} notifier_t;

//  ---------------------------------------------------------------------
//  Org units and divisions (from the registry)

static void s_streams_rebuild (notifier_t *self)
{
    for (size_t i = 0; i < self->n_streams; i++)
        free (self->streams[i]);
    free (self->streams);
    self->n_streams = zlist_size (self->divisions);
    self->streams = calloc (self->n_streams + 1, sizeof (char *));
    assert (self->streams);
    size_t i = 0;
    for (char *d = zlist_first (self->divisions); d; d = zlist_next (self->divisions)) {
        pmo_arena_t *arena = pmo_arena_new ();
        self->streams[i++] = strdup (pmo_stream_key (arena, d));
        pmo_arena_destroy (&arena);
    }
    self->groups_ok = false;
}

static void s_division_add (notifier_t *self, const char *division)
{
    for (char *d = zlist_first (self->divisions); d; d = zlist_next (self->divisions))
        if (streq (d, division))
            return;
    zlist_append (self->divisions, (void *)division); //  autofree: the list copies it
    pmo_info ("notifier: following division=%s", division);
    s_streams_rebuild (self);
}

//  Follow every division the tree knows (the hub's and each division's
//  stream); new ones are followed as they appear.
static void s_divisions_sync (notifier_t *self)
{
    uint64_t generation = orgtree_generation (self->tree);
    if (generation == self->org_generation)
        return;
    self->org_generation = generation;
    const char *division;
    for (size_t i = 0; (division = orgtree_division_at (self->tree, i)); i++)
        s_division_add (self, division);
}

//  Read the whole tree if it is old or was invalidated. 0 or -1 (the
//  registry did not answer, or the tree is backing off from it).
static int s_org_refresh (notifier_t *self)
{
    if (orgtree_refresh (self->tree, false))
        return -1;
    self->org_loaded = true;
    s_divisions_sync (self);
    return 0;
}

//  An org unit by id (in arena), asking the registry at once if the tree
//  does not hold it: a unit is usable as soon as it exists. 1, 0 (no such
//  unit) or -1 (the registry did not answer).
static int s_unit (notifier_t *self, pmo_arena_t *arena, const char *id, Pmo__OrgUnit **unit)
{
    int rc = orgtree_unit (self->tree, id, arena, unit);
    s_divisions_sync (self);
    return rc;
}

//  A project as the registry knows it (its path and division), read with
//  the notifier's own viewer identity. 1 found, 0 absent, -1 unavailable.
static int s_project (notifier_t *self, pmo_arena_t *arena, const char *id, char **path,
                      char **label)
{
    Pmo__GetRequest get = PMO__GET_REQUEST__INIT;
    get.kind = PMO__ENTITY_KIND__ENTITY_KIND_PROJECT;
    get.id = (char *)id;
    Pmo__RegistryRequest request = PMO__REGISTRY_REQUEST__INIT;
    request.body_case = PMO__REGISTRY_REQUEST__BODY_GET;
    request.get = &get;
    Pmo__Header header;
    char request_id[37];
    pmo_header_init (&header, request_id, 1000, &self->service);
    request.header = &header;
    ProtobufCMessage *reply = NULL;
    if (pmo_client_call (self->registry, &request.base, &pmo__registry_reply__descriptor,
                         self->config.redis_timeout_ms, 1, &reply))
        return -1;
    Pmo__RegistryReply *r = (Pmo__RegistryReply *)reply;
    int rc = 0;
    if (!r->error && r->body_case == PMO__REGISTRY_REPLY__BODY_PROJECT) {
        *path = pmo_arena_strdup (arena, r->project->org_unit_path);
        *label = pmo_arena_printf (arena, "%s %s", r->project->code, r->project->name);
        rc = 1;
    } else if (r->error && r->error->code == PMO__ERROR_CODE__ERROR_UNAVAILABLE)
        rc = -1;
    protobuf_c_message_free_unpacked (reply, NULL);
    return rc;
}

//  ---------------------------------------------------------------------
//  The channel and subscription cache

static void s_channel_state_free (void *item)
{
    channel_state_t *st = item;
    if (st->channel)
        protobuf_c_message_free_unpacked (&st->channel->base, NULL);
    free (st);
}

//  Put a channel (any allocator) into the cache, keeping its rate state.
static void s_cache_channel (notifier_t *self, const Pmo__Channel *channel)
{
    size_t size = protobuf_c_message_get_packed_size (&channel->base);
    uint8_t *blob = malloc (size + 1);
    assert (blob);
    protobuf_c_message_pack (&channel->base, blob);
    Pmo__Channel *copy = pmo__channel__unpack (NULL, size, blob);
    free (blob);
    assert (copy);
    channel_state_t *st = zhash_lookup (self->channels, channel->id);
    if (!st) {
        st = calloc (1, sizeof (channel_state_t));
        assert (st);
        st->refill_ms = pmo_mono_ms ();
        st->tokens = 1;
        zhash_insert (self->channels, channel->id, st);
        zhash_freefn (self->channels, channel->id, s_channel_state_free);
    } else
        protobuf_c_message_free_unpacked (&st->channel->base, NULL);
    st->channel = copy;
    snprintf (st->division, sizeof st->division, "%s", channel->division);
    st->seen = true;
}

//  Read every division's channels and subscriptions. 0 or -1.
static int s_cache_reload (notifier_t *self)
{
    pmo_arena_t *arena = pmo_arena_new ();
    size_t max = 64, n = 0;
    Pmo__Subscription **subs = pmo_arena_alloc (arena, max * sizeof (void *));
    for (channel_state_t *st = zhash_first (self->channels); st; st = zhash_next (self->channels))
        st->seen = false;
    int rc = 0;
    for (char *d = zlist_first (self->divisions); d && rc == 0; d = zlist_next (self->divisions)) {
        ProtobufCMessage **msgs;
        size_t count;
        if (notifier_store_list (self->store, arena, NOTIFIER_CHANNEL, d, &msgs, &count)) {
            rc = -1;
            break;
        }
        for (size_t i = 0; i < count; i++)
            s_cache_channel (self, (Pmo__Channel *)msgs[i]);
        if (notifier_store_list (self->store, arena, NOTIFIER_SUBSCRIPTION, d, &msgs, &count)) {
            rc = -1;
            break;
        }
        for (size_t i = 0; i < count; i++) {
            Pmo__Subscription *sub = (Pmo__Subscription *)msgs[i];
            if (sub->archived)
                continue;
            if (n == max) {
                Pmo__Subscription **bigger = pmo_arena_alloc (arena, 2 * max * sizeof (void *));
                memcpy (bigger, subs, max * sizeof (void *));
                subs = bigger;
                max *= 2;
            }
            subs[n++] = sub;
        }
    }
    if (rc) {
        //  keep the cache we had: better stale than empty
        pmo_arena_destroy (&arena);
        return -1;
    }
    //  Channels gone from Redis (not possible today: archived ones stay)
    zlist_t *gone = zlist_new ();
    for (channel_state_t *st = zhash_first (self->channels); st; st = zhash_next (self->channels))
        if (!st->seen && st->in_flight == 0)
            zlist_append (gone, (void *)zhash_cursor (self->channels));
    for (const char *id = zlist_first (gone); id; id = zlist_next (gone))
        zhash_delete (self->channels, id);
    zlist_destroy (&gone);
    pmo_arena_destroy (&self->subs_arena);
    self->subs_arena = arena;
    self->subs = subs;
    self->n_subs = n;
    self->cache_loaded_ms = pmo_mono_ms ();
    return 0;
}

//  ---------------------------------------------------------------------
//  Helpers shared by the handlers

static bool s_replayed (notifier_t *self, pmo_request_t *req, const char *division)
{
    return notifier_store_replayed (self->store, req, division);
}

//  An entity the caller names and may read; NOT_FOUND for one it may not
//  see, so ids cannot be probed across divisions.
static ProtobufCMessage *s_fetch (notifier_t *self, pmo_request_t *req, notifier_entity_t entity,
                                  const char *id, const char *field, uint64_t *version)
{
    const char *name = entity == NOTIFIER_CHANNEL ? "channel" : "subscription";
    if (pmo_str_empty (id)) {
        FAIL (req, INVALID, field, "%s is required", field);
        return NULL;
    }
    ProtobufCMessage *msg = NULL;
    int rc = notifier_store_read (self->store, req->arena, entity, id, &msg, version);
    if (rc < 0) {
        pmo_request_unavailable (req, "the notifier's store (Redis)");
        return NULL;
    }
    if (rc == 0 || !pmo_access_allowed (pmo_request_who (req), notifier_roles (), NOTIFIER_READ,
                                        pmo_reflect_str (msg, "org_unit_path"))) {
        FAIL (req, NOT_FOUND, field, "no %s with id '%.64s'", name, id);
        return NULL;
    }
    return msg;
}

static Pmo__Event *s_event (pmo_arena_t *arena, const char *type, const char *division,
                            const char *org_unit, const char *path, const char *entity_id,
                            uint64_t version, const char *actor, const char *request_id)
{
    Pmo__Event *event = pmo_arena_alloc (arena, sizeof (Pmo__Event));
    pmo__event__init (event);
    event->type = (char *)type;
    event->division = (char *)division;
    event->org_unit = (char *)org_unit;
    event->org_unit_path = (char *)path;
    event->entity_id = (char *)entity_id;
    event->entity_version = version;
    event->time_ms = pmo_now_ms ();
    event->actor = (char *)actor;
    event->request_id = (char *)request_id;
    event->source = "notifier";
    return event;
}

//  A masked copy of a channel, for replies and events.
static Pmo__Channel *s_masked (pmo_arena_t *arena, const Pmo__Channel *channel)
{
    Pmo__Channel *copy = (Pmo__Channel *)pmo_reflect_copy (&channel->base, arena);
    notifier_mask_channel (copy, arena);
    return copy;
}

//  Commit with its event and the stored reply; publish on success.
static void s_commit (notifier_t *self, pmo_request_t *req, pmo_commit_t *commit,
                      const char *division, Pmo__Event *event)
{
    notifier_store_event (self->store, commit, req->arena, division, event);
    size_t size;
    uint8_t *blob = pmo_reflect_pack (req->reply, req->arena, &size);
    pmo_commit_reply (commit, blob, size, IDEM_TTL_S);
    pmo_commit_result_t result;
    notifier_store_commit (self->store, commit, &result);
    pmo_commit_destroy (&commit);
    switch (result.status) {
    case PMO_COMMIT_OK: {
        event->id = result.stream_id;
        size_t esize;
        uint8_t *eblob = pmo_reflect_pack (&event->base, req->arena, &esize);
        zmsg_t *msg = zmsg_new ();
        zmsg_addstrf (msg, "%s.%s", division, event->type);
        zmsg_addmem (msg, eblob, esize);
        zmsg_send (&msg, self->pub);
        //  our own change: the delivery loop sees it now, not at the next reload
        self->cache_loaded_ms = 0;
        break;
    }
    case PMO_COMMIT_DUPLICATE:
        req->raw_reply = pmo_arena_memdup (req->arena, result.previous, result.previous_size);
        req->raw_size = result.previous_size;
        break;
    case PMO_COMMIT_CONFLICT:
        FAIL (req, CONFLICT, "version",
              "%s changed since you read it (now version %llu); read it again and retry",
              event->entity_id, (unsigned long long)result.actual_version);
        break;
    case PMO_COMMIT_TAKEN:
        FAIL (req, ALREADY_EXISTS, "", "already exists (%s)", result.key);
        break;
    case PMO_COMMIT_UNAVAILABLE:
        pmo_request_unavailable (req, "the notifier's store (Redis)");
        break;
    case PMO_COMMIT_ERROR:
        FAIL (req, INTERNAL, "", "the store refused the commit; nothing was written");
        break;
    }
    pmo_commit_result_clear (&result);
}

//  ---------------------------------------------------------------------
//  Channels

static void s_handle_create_channel (notifier_t *self, pmo_request_t *req, Pmo__Channel *ch)
{
    pmo_problem_t problem;
    if (notifier_check_channel (ch, self->config.allow_http, &problem))
        return pmo_request_fail_problem (req, &problem, "create_channel");
    if (notifier_is_masked (ch->url) || notifier_is_masked (ch->smtp_password))
        return (void)FAIL (req, INVALID, "create_channel.url",
                           "a new channel needs its real secrets, not masked ones");
    if (ch->kind == PMO__CHANNEL_KIND__CHANNEL_KIND_WEBHOOK && ch->n_signing_secrets != 1)
        return (void)FAIL (req, INVALID, "create_channel.signing_secrets",
                           "a generic webhook needs one signing secret (\"whsec_\" + base64 of "
                           "24..64 random bytes); rotate it later with rotate_secret");
    Pmo__OrgUnit *unit;
    int found = s_unit (self, req->arena, ch->org_unit, &unit);
    if (found < 0)
        return pmo_request_unavailable (req, "the registry (org units)");
    if (found == 0 || unit->archived)
        return (void)FAIL (req, NOT_FOUND, "create_channel.org_unit", "no org unit '%.64s'",
                           ch->org_unit);
    if (!pmo_request_may (req, notifier_roles (), NOTIFIER_MANAGE, unit->path, "manage channels"))
        return;
    if (s_replayed (self, req, unit->division))
        return;
    char *id;
    if (notifier_store_next_id (self->store, req->arena, NOTIFIER_CHANNEL, unit->division, &id))
        return pmo_request_unavailable (req, "the notifier's store (Redis)");
    int64_t now = pmo_now_ms ();
    ch->id = id;
    ch->org_unit_path = unit->path;
    ch->division = unit->division;
    ch->version = 1;
    ch->created_ms = ch->updated_ms = now;
    ch->archived = false;
    ch->created_by = pmo_request_who (req)->subject;
    if (!ch->disabled)
        ch->disabled_reason = "";
    for (size_t i = 0; i < ch->n_signing_secrets; i++) {
        ch->signing_secrets[i]->created_ms = now;
        ch->signing_secrets[i]->expires_ms = 0;
    }
    pmo_commit_t *commit = pmo_commit_new (unit->division, req->header->request_id);
    notifier_store_put (self->store, commit, req->arena, NOTIFIER_CHANNEL, unit->division,
                        &ch->base, 0);
    Pmo__Channel *masked = s_masked (req->arena, ch);
    Pmo__Event *event =
        s_event (req->arena, "channel.created", unit->division, unit->id, unit->path, id, 1,
                 pmo_request_who (req)->subject, req->header->request_id);
    pmo_reflect_set_oneof (&event->base, "channel", &masked->base);
    pmo_reflect_set_oneof (req->reply, "channel", &masked->base);
    s_commit (self, req, commit, unit->division, event);
    pmo_info ("notifier: channel created id=%s kind=%d unit=%s", id, ch->kind, unit->id);
}

static void s_handle_update_channel (notifier_t *self, pmo_request_t *req, Pmo__Channel *next)
{
    uint64_t version;
    Pmo__Channel *stored = (Pmo__Channel *)s_fetch (self, req, NOTIFIER_CHANNEL, next->id,
                                                    "update_channel.id", &version);
    if (!stored || !pmo_request_may (req, notifier_roles (), NOTIFIER_MANAGE, stored->org_unit_path,
                                     "manage channels"))
        return;
    if (s_replayed (self, req, stored->division))
        return;
    if (next->kind != stored->kind ||
        !streq (next->org_unit ? next->org_unit : "", stored->org_unit))
        return (void)FAIL (req, INVALID, "update_channel.kind",
                           "a channel's kind and org unit do not change");
    //  Secrets: empty or masked means "keep"; signing secrets change only
    //  through rotate_secret
    if (pmo_str_empty (next->url) || notifier_is_masked (next->url))
        next->url = stored->url;
    if (pmo_str_empty (next->smtp_password) || notifier_is_masked (next->smtp_password))
        next->smtp_password = stored->smtp_password;
    if (pmo_str_empty (next->smtp_url) || notifier_is_masked (next->smtp_url))
        next->smtp_url = stored->smtp_url;
    for (size_t i = 0; i < next->n_signing_secrets; i++)
        if (!notifier_is_masked (next->signing_secrets[i]->secret))
            return (void)FAIL (req, INVALID, "update_channel.signing_secrets",
                               "signing secrets change through rotate_secret");
    next->signing_secrets = stored->signing_secrets;
    next->n_signing_secrets = stored->n_signing_secrets;
    pmo_problem_t problem;
    if (notifier_check_channel (next, self->config.allow_http, &problem))
        return pmo_request_fail_problem (req, &problem, "update_channel");
    if (!pmo_request_version_matches (req, "version", "channel", next->version, version))
        return;
    next->org_unit_path = stored->org_unit_path;
    next->division = stored->division;
    next->created_ms = stored->created_ms;
    next->created_by = stored->created_by;
    next->archived = stored->archived;
    next->updated_ms = pmo_now_ms ();
    next->version = version + 1;
    if (!next->disabled)
        next->disabled_reason = "";
    else if (pmo_str_empty (next->disabled_reason))
        next->disabled_reason =
            pmo_arena_printf (req->arena, "disabled by %s", pmo_request_who (req)->subject);
    pmo_commit_t *commit = pmo_commit_new (stored->division, req->header->request_id);
    notifier_store_put (self->store, commit, req->arena, NOTIFIER_CHANNEL, stored->division,
                        &next->base, version);
    Pmo__Channel *masked = s_masked (req->arena, next);
    Pmo__Event *event = s_event (req->arena, "channel.updated", stored->division, stored->org_unit,
                                 stored->org_unit_path, next->id, next->version,
                                 pmo_request_who (req)->subject, req->header->request_id);
    pmo_reflect_set_oneof (&event->base, "channel", &masked->base);
    pmo_reflect_set_oneof (req->reply, "channel", &masked->base);
    s_commit (self, req, commit, stored->division, event);
}

static void s_handle_get_channel (notifier_t *self, pmo_request_t *req, Pmo__ChannelRef *ref)
{
    Pmo__Channel *ch =
        (Pmo__Channel *)s_fetch (self, req, NOTIFIER_CHANNEL, ref->id, "get_channel.id", NULL);
    if (ch)
        pmo_reflect_set_oneof (req->reply, "channel", &s_masked (req->arena, ch)->base);
}

//  Every division whose keys may hold channels: the ones we follow.
static void s_handle_list_channels (notifier_t *self, pmo_request_t *req,
                                    Pmo__ListChannelsRequest *list)
{
    if (!self->org_loaded && s_org_refresh (self))
        return pmo_request_unavailable (req, "the registry (org units)");
    Pmo__ChannelPage *page = pmo_arena_alloc (req->arena, sizeof (Pmo__ChannelPage));
    pmo__channel_page__init (page);
    pmo_reflect_set_oneof (req->reply, "channels", &page->base);
    for (char *d = zlist_first (self->divisions); d; d = zlist_next (self->divisions)) {
        ProtobufCMessage **msgs;
        size_t n;
        if (notifier_store_list (self->store, req->arena, NOTIFIER_CHANNEL, d, &msgs, &n))
            return pmo_request_unavailable (req, "the notifier's store (Redis)");
        for (size_t i = 0; i < n; i++) {
            Pmo__Channel *ch = (Pmo__Channel *)msgs[i];
            if ((ch->archived && !list->include_archived) ||
                !pmo_access_allowed (pmo_request_who (req), notifier_roles (), NOTIFIER_READ,
                                     ch->org_unit_path) ||
                (!pmo_str_empty (list->org_unit) &&
                 !pmo_path_contains (ch->org_unit_path, list->org_unit)))
                continue;
            pmo_reflect_append (&page->base, "channels", &s_masked (req->arena, ch)->base,
                                req->arena);
        }
    }
}

static void s_handle_archive_channel (notifier_t *self, pmo_request_t *req, Pmo__ChannelRef *ref)
{
    uint64_t version;
    Pmo__Channel *ch = (Pmo__Channel *)s_fetch (self, req, NOTIFIER_CHANNEL, ref->id,
                                                "archive_channel.id", &version);
    if (!ch || !pmo_request_may (req, notifier_roles (), NOTIFIER_MANAGE, ch->org_unit_path,
                                 "manage channels"))
        return;
    if (s_replayed (self, req, ch->division))
        return;
    if (!pmo_request_version_matches (req, "version", "channel", ref->version, version))
        return;
    if (ch->archived)
        return (void)FAIL (req, FAILED_PRECONDITION, "archive_channel.id",
                           "channel '%s' is already archived", ch->id);
    ch->archived = true;
    ch->version = version + 1;
    ch->updated_ms = pmo_now_ms ();
    pmo_commit_t *commit = pmo_commit_new (ch->division, req->header->request_id);
    notifier_store_put (self->store, commit, req->arena, NOTIFIER_CHANNEL, ch->division, &ch->base,
                        version);
    Pmo__Channel *masked = s_masked (req->arena, ch);
    Pmo__Event *event =
        s_event (req->arena, "channel.archived", ch->division, ch->org_unit, ch->org_unit_path,
                 ch->id, ch->version, pmo_request_who (req)->subject, req->header->request_id);
    pmo_reflect_set_oneof (&event->base, "channel", &masked->base);
    pmo_reflect_set_oneof (req->reply, "channel", &masked->base);
    s_commit (self, req, commit, ch->division, event);
}

static void s_handle_rotate_secret (notifier_t *self, pmo_request_t *req,
                                    Pmo__RotateSecretRequest *rotate)
{
    uint64_t version;
    Pmo__Channel *ch = (Pmo__Channel *)s_fetch (self, req, NOTIFIER_CHANNEL, rotate->channel_id,
                                                "rotate_secret.channel_id", &version);
    if (!ch || !pmo_request_may (req, notifier_roles (), NOTIFIER_MANAGE, ch->org_unit_path,
                                 "manage channels"))
        return;
    if (ch->kind != PMO__CHANNEL_KIND__CHANNEL_KIND_WEBHOOK)
        return (void)FAIL (req, FAILED_PRECONDITION, "rotate_secret.channel_id",
                           "only generic webhook channels are signed");
    if (!notifier_secret_valid (rotate->secret))
        return (void)FAIL (req, INVALID, "rotate_secret.secret",
                           "a signing secret is \"whsec_\" and the base64 of 24 to 64 random "
                           "bytes");
    if (rotate->previous_valid_s > 30 * 86400)
        return (void)FAIL (req, INVALID, "rotate_secret.previous_valid_s",
                           "the old secret may sign for at most 30 days");
    if (s_replayed (self, req, ch->division))
        return;
    if (!pmo_request_version_matches (req, "version", "channel", rotate->version, version))
        return;
    for (size_t i = 0; i < ch->n_signing_secrets; i++)
        if (streq (ch->signing_secrets[i]->secret, rotate->secret))
            return (void)FAIL (req, INVALID, "rotate_secret.secret",
                               "that secret is already in use: generate a new one");
    int64_t now = pmo_now_ms ();
    int64_t until = now + (rotate->previous_valid_s ? rotate->previous_valid_s : 86400) * 1000LL;
    //  The new secret signs first; the current one keeps signing until the
    //  receivers have switched (two signatures meanwhile); expired ones go
    Pmo__SigningSecret **secrets =
        pmo_arena_alloc (req->arena, (ch->n_signing_secrets + 1) * sizeof (void *));
    size_t n = 0;
    Pmo__SigningSecret *fresh = pmo_arena_alloc (req->arena, sizeof (Pmo__SigningSecret));
    pmo__signing_secret__init (fresh);
    fresh->secret = rotate->secret;
    fresh->created_ms = now;
    secrets[n++] = fresh;
    for (size_t i = 0; i < ch->n_signing_secrets; i++) {
        Pmo__SigningSecret *old = ch->signing_secrets[i];
        if (old->expires_ms && old->expires_ms <= now)
            continue;
        if (!old->expires_ms || old->expires_ms > until)
            old->expires_ms = until;
        secrets[n++] = old;
    }
    ch->signing_secrets = secrets;
    ch->n_signing_secrets = n;
    ch->version = version + 1;
    ch->updated_ms = now;
    pmo_commit_t *commit = pmo_commit_new (ch->division, req->header->request_id);
    notifier_store_put (self->store, commit, req->arena, NOTIFIER_CHANNEL, ch->division, &ch->base,
                        version);
    Pmo__Channel *masked = s_masked (req->arena, ch);
    Pmo__Event *event = s_event (req->arena, "channel.secret_rotated", ch->division, ch->org_unit,
                                 ch->org_unit_path, ch->id, ch->version,
                                 pmo_request_who (req)->subject, req->header->request_id);
    pmo_reflect_set_oneof (&event->base, "channel", &masked->base);
    pmo_reflect_set_oneof (req->reply, "channel", &masked->base);
    s_commit (self, req, commit, ch->division, event);
}

static void s_handle_test_channel (notifier_t *self, pmo_request_t *req, Pmo__ChannelRef *ref)
{
    Pmo__Channel *ch =
        (Pmo__Channel *)s_fetch (self, req, NOTIFIER_CHANNEL, ref->id, "test_channel.id", NULL);
    if (!ch || !pmo_request_may (req, notifier_roles (), NOTIFIER_MANAGE, ch->org_unit_path,
                                 "test channels"))
        return;
    if (ch->archived)
        return (void)FAIL (req, FAILED_PRECONDITION, "test_channel.id", "channel '%s' is archived",
                           ch->id);
    int64_t now = pmo_now_ms ();
    //  The request id names the test delivery: a retried request finds the
    //  one it queued instead of queueing another
    const char *key = pmo_arena_printf (req->arena, "test/%s", req->header->request_id);
    Pmo__Delivery *d = pmo_arena_alloc (req->arena, sizeof (Pmo__Delivery));
    pmo__delivery__init (d);
    d->id = notifier_store_delivery_id (req->arena, ch->division, key);
    d->channel_id = ch->id;
    d->division = ch->division;
    d->kind = PMO__DELIVERY_KIND__DELIVERY_KIND_TEST;
    d->state = PMO__DELIVERY_STATE__DELIVERY_STATE_PENDING;
    d->created_ms = now;
    d->due_ms = now;
    d->channel_kind = ch->kind;
    Pmo__Notice *n = pmo_arena_alloc (req->arena, sizeof (Pmo__Notice));
    pmo__notice__init (n);
    n->event_id = (char *)key;
    n->type = "notifier.test";
    n->severity = PMO__SEVERITY__SEVERITY_INFO;
    n->title = pmo_arena_printf (req->arena, "Test message for channel %s", ch->name);
    n->summary = pmo_arena_printf (req->arena, "%s asked pmo to test this channel (%s).",
                                   pmo_request_who (req)->subject, ch->id);
    n->division = ch->division;
    n->org_unit_path = ch->org_unit_path;
    n->entity_id = ch->id;
    n->actor = pmo_request_who (req)->subject;
    n->time_ms = now;
    n->source = "notifier";
    n->link = pmo_arena_printf (
        req->arena, "%s%s#/", self->config.dashboard_url,
        self->config.dashboard_url[0] &&
                self->config.dashboard_url[strlen (self->config.dashboard_url) - 1] == '/'
            ? ""
            : "/");
    notifier_route_args_t args = {
        .division = ch->division,
        .channel_id = ch->id,
        .mode = NOTIFIER_ROUTE_SINGLE,
        .seen = key,
        .delivery_id = d->id,
        .delivery = d,
        .notice = n,
        .now_ms = now,
        .due_ms = now,
    };
    if (notifier_store_scripts_ready (self->store) ||
        notifier_store_route_pipe (self->store, req->arena, &args) ||
        notifier_store_route_reply (self->store))
        return pmo_request_unavailable (req, "the notifier's store (Redis)");
    d->notice_count = 1;
    pmo_reflect_set_oneof (req->reply, "delivery", &d->base);
    self->tick_now = true;
    pmo_info ("notifier: test queued channel=%s delivery=%s", ch->id, d->id);
}

//  ---------------------------------------------------------------------
//  Subscriptions

//  Check a subscription's scope against its channel; fills path/division.
static int s_scope (notifier_t *self, pmo_request_t *req, Pmo__Subscription *sub,
                    const Pmo__Channel *ch, const char *field)
{
    if (pmo_str_empty (sub->org_unit))
        sub->org_unit = ch->org_unit;
    Pmo__OrgUnit *unit;
    int found = s_unit (self, req->arena, sub->org_unit, &unit);
    if (found < 0) {
        pmo_request_unavailable (req, "the registry (org units)");
        return -1;
    }
    if (found == 0) {
        FAIL (req, NOT_FOUND, pmo_arena_printf (req->arena, "%s.org_unit", field),
              "no org unit '%.64s'", sub->org_unit);
        return -1;
    }
    //  A channel of a division hears only that division's subtree: nothing
    //  of another division reaches its people
    if (!pmo_path_contains (unit->path, ch->org_unit)) {
        FAIL (req, INVALID, pmo_arena_printf (req->arena, "%s.org_unit", field),
              "'%s' is not at or below the channel's unit '%s'", unit->id, ch->org_unit);
        return -1;
    }
    if (!pmo_str_empty (sub->project_id)) {
        char *path, *label;
        int rc = s_project (self, req->arena, sub->project_id, &path, &label);
        if (rc < 0) {
            pmo_request_unavailable (req, "the registry (projects)");
            return -1;
        }
        if (rc == 0 || !pmo_path_contains (path, unit->id)) {
            FAIL (req, NOT_FOUND, pmo_arena_printf (req->arena, "%s.project_id", field),
                  "no project '%.64s' in '%s'", sub->project_id, unit->path);
            return -1;
        }
    }
    sub->org_unit_path = unit->path;
    sub->division = ch->division;
    return 0;
}

static void s_handle_create_subscription (notifier_t *self, pmo_request_t *req,
                                          Pmo__Subscription *sub)
{
    pmo_problem_t problem;
    if (notifier_check_subscription (sub, &problem))
        return pmo_request_fail_problem (req, &problem, "create_subscription");
    Pmo__Channel *ch = (Pmo__Channel *)s_fetch (self, req, NOTIFIER_CHANNEL, sub->channel_id,
                                                "create_subscription.channel_id", NULL);
    if (!ch || !pmo_request_may (req, notifier_roles (), NOTIFIER_MANAGE, ch->org_unit_path,
                                 "manage subscriptions"))
        return;
    if (ch->archived)
        return (void)FAIL (req, FAILED_PRECONDITION, "create_subscription.channel_id",
                           "channel '%s' is archived", ch->id);
    if (s_replayed (self, req, ch->division))
        return;
    if (s_scope (self, req, sub, ch, "create_subscription"))
        return;
    char *id;
    if (notifier_store_next_id (self->store, req->arena, NOTIFIER_SUBSCRIPTION, ch->division, &id))
        return pmo_request_unavailable (req, "the notifier's store (Redis)");
    sub->id = id;
    sub->version = 1;
    sub->created_ms = sub->updated_ms = pmo_now_ms ();
    sub->archived = false;
    pmo_commit_t *commit = pmo_commit_new (ch->division, req->header->request_id);
    notifier_store_put (self->store, commit, req->arena, NOTIFIER_SUBSCRIPTION, ch->division,
                        &sub->base, 0);
    Pmo__Event *event = s_event (req->arena, "subscription.created", ch->division, sub->org_unit,
                                 sub->org_unit_path, id, 1, pmo_request_who (req)->subject,
                                 req->header->request_id);
    pmo_reflect_set_oneof (&event->base, "subscription", &sub->base);
    pmo_reflect_set_oneof (req->reply, "subscription", &sub->base);
    s_commit (self, req, commit, ch->division, event);
}

static void s_handle_update_subscription (notifier_t *self, pmo_request_t *req,
                                          Pmo__Subscription *next)
{
    uint64_t version;
    Pmo__Subscription *stored = (Pmo__Subscription *)s_fetch (
        self, req, NOTIFIER_SUBSCRIPTION, next->id, "update_subscription.id", &version);
    if (!stored || !pmo_request_may (req, notifier_roles (), NOTIFIER_MANAGE, stored->org_unit_path,
                                     "manage subscriptions"))
        return;
    if (s_replayed (self, req, stored->division))
        return;
    if (!streq (next->channel_id ? next->channel_id : "", stored->channel_id))
        return (void)FAIL (req, INVALID, "update_subscription.channel_id",
                           "a subscription stays with its channel");
    pmo_problem_t problem;
    if (notifier_check_subscription (next, &problem))
        return pmo_request_fail_problem (req, &problem, "update_subscription");
    if (!pmo_request_version_matches (req, "version", "subscription", next->version, version))
        return;
    Pmo__Channel *ch = (Pmo__Channel *)s_fetch (self, req, NOTIFIER_CHANNEL, stored->channel_id,
                                                "update_subscription.channel_id", NULL);
    if (!ch || s_scope (self, req, next, ch, "update_subscription"))
        return;
    next->version = version + 1;
    next->created_ms = stored->created_ms;
    next->updated_ms = pmo_now_ms ();
    next->archived = stored->archived;
    pmo_commit_t *commit = pmo_commit_new (stored->division, req->header->request_id);
    notifier_store_put (self->store, commit, req->arena, NOTIFIER_SUBSCRIPTION, stored->division,
                        &next->base, version);
    Pmo__Event *event = s_event (req->arena, "subscription.updated", stored->division,
                                 next->org_unit, next->org_unit_path, next->id, next->version,
                                 pmo_request_who (req)->subject, req->header->request_id);
    pmo_reflect_set_oneof (&event->base, "subscription", &next->base);
    pmo_reflect_set_oneof (req->reply, "subscription", &next->base);
    s_commit (self, req, commit, stored->division, event);
}

static void s_handle_get_subscription (notifier_t *self, pmo_request_t *req, Pmo__ChannelRef *ref)
{
    ProtobufCMessage *sub =
        s_fetch (self, req, NOTIFIER_SUBSCRIPTION, ref->id, "get_subscription.id", NULL);
    if (sub)
        pmo_reflect_set_oneof (req->reply, "subscription", sub);
}

static void s_handle_list_subscriptions (notifier_t *self, pmo_request_t *req,
                                         Pmo__ListSubscriptionsRequest *list)
{
    Pmo__SubscriptionPage *page = pmo_arena_alloc (req->arena, sizeof (Pmo__SubscriptionPage));
    pmo__subscription_page__init (page);
    pmo_reflect_set_oneof (req->reply, "subscriptions", &page->base);
    if (!pmo_str_empty (list->channel_id)) {
        Pmo__Channel *ch = (Pmo__Channel *)s_fetch (self, req, NOTIFIER_CHANNEL, list->channel_id,
                                                    "list_subscriptions.channel_id", NULL);
        if (!ch)
            return;
    }
    if (!self->org_loaded && s_org_refresh (self))
        return pmo_request_unavailable (req, "the registry (org units)");
    for (char *d = zlist_first (self->divisions); d; d = zlist_next (self->divisions)) {
        ProtobufCMessage **msgs;
        size_t n;
        if (notifier_store_list (self->store, req->arena, NOTIFIER_SUBSCRIPTION, d, &msgs, &n))
            return pmo_request_unavailable (req, "the notifier's store (Redis)");
        for (size_t i = 0; i < n; i++) {
            Pmo__Subscription *sub = (Pmo__Subscription *)msgs[i];
            if ((sub->archived && !list->include_archived) ||
                !pmo_access_allowed (pmo_request_who (req), notifier_roles (), NOTIFIER_READ,
                                     sub->org_unit_path) ||
                (!pmo_str_empty (list->channel_id) && !streq (sub->channel_id, list->channel_id)) ||
                (!pmo_str_empty (list->org_unit) &&
                 !pmo_path_contains (sub->org_unit_path, list->org_unit)))
                continue;
            pmo_reflect_append (&page->base, "subscriptions", &sub->base, req->arena);
        }
    }
}

static void s_handle_archive_subscription (notifier_t *self, pmo_request_t *req,
                                           Pmo__ChannelRef *ref)
{
    uint64_t version;
    Pmo__Subscription *sub = (Pmo__Subscription *)s_fetch (
        self, req, NOTIFIER_SUBSCRIPTION, ref->id, "archive_subscription.id", &version);
    if (!sub || !pmo_request_may (req, notifier_roles (), NOTIFIER_MANAGE, sub->org_unit_path,
                                  "manage subscriptions"))
        return;
    if (s_replayed (self, req, sub->division))
        return;
    if (!pmo_request_version_matches (req, "version", "subscription", ref->version, version))
        return;
    if (sub->archived)
        return (void)FAIL (req, FAILED_PRECONDITION, "archive_subscription.id",
                           "subscription '%s' is already archived", sub->id);
    sub->archived = true;
    sub->version = version + 1;
    sub->updated_ms = pmo_now_ms ();
    pmo_commit_t *commit = pmo_commit_new (sub->division, req->header->request_id);
    notifier_store_put (self->store, commit, req->arena, NOTIFIER_SUBSCRIPTION, sub->division,
                        &sub->base, version);
    Pmo__Event *event = s_event (req->arena, "subscription.archived", sub->division, sub->org_unit,
                                 sub->org_unit_path, sub->id, sub->version,
                                 pmo_request_who (req)->subject, req->header->request_id);
    pmo_reflect_set_oneof (&event->base, "subscription", &sub->base);
    pmo_reflect_set_oneof (req->reply, "subscription", &sub->base);
    s_commit (self, req, commit, sub->division, event);
}

//  ---------------------------------------------------------------------
//  Deliveries

static void s_handle_list_deliveries (notifier_t *self, pmo_request_t *req,
                                      Pmo__ListDeliveriesRequest *list)
{
    if (list->limit > LIST_MAX)
        return (void)FAIL (req, INVALID, "list_deliveries.limit", "limit is at most %d", LIST_MAX);
    Pmo__DeliveryState state =
        list->state ? list->state : PMO__DELIVERY_STATE__DELIVERY_STATE_PENDING;
    size_t limit = list->limit ? list->limit : LIST_DEFAULT;
    Pmo__DeliveryPage *page = pmo_arena_alloc (req->arena, sizeof (Pmo__DeliveryPage));
    pmo__delivery_page__init (page);
    pmo_reflect_set_oneof (req->reply, "deliveries", &page->base);
    //  Which channels: one, or all the caller may see (cursor "<channel>|<score>")
    char cursor_channel[64] = "";
    const char *cursor_score = "";
    if (!pmo_str_empty (list->cursor)) {
        const char *bar = strchr (list->cursor, '|');
        if (!bar || (size_t)(bar - list->cursor) >= sizeof cursor_channel)
            return (void)FAIL (req, INVALID, "list_deliveries.cursor",
                               "cursor is not one this service returned");
        memcpy (cursor_channel, list->cursor, (size_t)(bar - list->cursor));
        cursor_channel[bar - list->cursor] = 0;
        cursor_score = bar + 1;
    }
    Pmo__Channel **channels;
    size_t n_channels = 0;
    if (!pmo_str_empty (list->channel_id)) {
        Pmo__Channel *ch = (Pmo__Channel *)s_fetch (self, req, NOTIFIER_CHANNEL, list->channel_id,
                                                    "list_deliveries.channel_id", NULL);
        if (!ch)
            return;
        channels = pmo_arena_alloc (req->arena, sizeof (void *));
        channels[n_channels++] = ch;
    } else {
        if (!self->org_loaded && s_org_refresh (self))
            return pmo_request_unavailable (req, "the registry (org units)");
        size_t max = 16;
        channels = pmo_arena_alloc (req->arena, max * sizeof (void *));
        for (char *d = zlist_first (self->divisions); d; d = zlist_next (self->divisions)) {
            ProtobufCMessage **msgs;
            size_t n;
            if (notifier_store_list (self->store, req->arena, NOTIFIER_CHANNEL, d, &msgs, &n))
                return pmo_request_unavailable (req, "the notifier's store (Redis)");
            for (size_t i = 0; i < n; i++) {
                Pmo__Channel *ch = (Pmo__Channel *)msgs[i];
                if (!pmo_access_allowed (pmo_request_who (req), notifier_roles (), NOTIFIER_READ,
                                         ch->org_unit_path))
                    continue;
                if (n_channels == max) {
                    Pmo__Channel **bigger = pmo_arena_alloc (req->arena, 2 * max * sizeof (void *));
                    memcpy (bigger, channels, max * sizeof (void *));
                    channels = bigger;
                    max *= 2;
                }
                channels[n_channels++] = ch;
            }
        }
    }
    bool resuming = *cursor_channel != 0;
    for (size_t c = 0; c < n_channels && page->n_deliveries < limit; c++) {
        const char *after = "";
        if (resuming) {
            if (!streq (channels[c]->id, cursor_channel))
                continue;
            resuming = false;
            after = cursor_score;
        }
        Pmo__Delivery **found;
        size_t n;
        char *next;
        if (notifier_store_deliveries (self->store, req->arena, channels[c]->id, state, after,
                                       limit - page->n_deliveries, &found, &n, &next))
            return pmo_request_unavailable (req, "the notifier's store (Redis)");
        for (size_t i = 0; i < n; i++)
            pmo_reflect_append (&page->base, "deliveries", &found[i]->base, req->arena);
        if (*next) {
            page->next_cursor = pmo_arena_printf (req->arena, "%s|%s", channels[c]->id, next);
            return;
        }
        if (page->n_deliveries >= limit && c + 1 < n_channels) {
            page->next_cursor = pmo_arena_printf (req->arena, "%s|", channels[c + 1]->id);
            return;
        }
    }
}

//  A delivery the caller names, with its channel (for the path).
static Pmo__Delivery *s_fetch_delivery (notifier_t *self, pmo_request_t *req, const char *id,
                                        const char *field, bool notices, uint64_t *version,
                                        Pmo__Channel **channel)
{
    if (pmo_str_empty (id)) {
        FAIL (req, INVALID, field, "%s is required", field);
        return NULL;
    }
    Pmo__Delivery *d = NULL;
    uint64_t v = 0;
    int rc = notifier_store_delivery (self->store, req->arena, id, notices, &d, &v);
    if (rc < 0) {
        pmo_request_unavailable (req, "the notifier's store (Redis)");
        return NULL;
    }
    Pmo__Channel *ch = NULL;
    if (rc == 1) {
        ProtobufCMessage *msg = NULL;
        int got = notifier_store_read (self->store, req->arena, NOTIFIER_CHANNEL, d->channel_id,
                                       &msg, NULL);
        if (got < 0) {
            pmo_request_unavailable (req, "the notifier's store (Redis)");
            return NULL;
        }
        ch = (Pmo__Channel *)msg;
    }
    if (!d || !ch ||
        !pmo_access_allowed (pmo_request_who (req), notifier_roles (), NOTIFIER_READ,
                             ch->org_unit_path)) {
        FAIL (req, NOT_FOUND, field, "no delivery with id '%.64s'", id);
        return NULL;
    }
    if (version)
        *version = v;
    *channel = ch;
    return d;
}

static void s_handle_get_delivery (notifier_t *self, pmo_request_t *req, Pmo__DeliveryRef *ref)
{
    Pmo__Channel *ch;
    Pmo__Delivery *d = s_fetch_delivery (self, req, ref->id, "get_delivery.id", true, NULL, &ch);
    if (d)
        pmo_reflect_set_oneof (req->reply, "delivery", &d->base);
}

static void s_delivery_change (notifier_t *self, pmo_request_t *req, Pmo__DeliveryRef *ref,
                               bool retry)
{
    const char *field = retry ? "retry_delivery.id" : "discard_delivery.id";
    uint64_t version;
    Pmo__Channel *ch;
    Pmo__Delivery *d = s_fetch_delivery (self, req, ref->id, field, false, &version, &ch);
    if (!d || !pmo_request_may (req, notifier_roles (), NOTIFIER_MANAGE, ch->org_unit_path,
                                retry ? "retry deliveries" : "discard deliveries"))
        return;
    if (s_replayed (self, req, d->division))
        return;
    if (!pmo_request_version_matches (req, "version", "delivery", ref->version, version))
        return;
    bool dead = d->state == PMO__DELIVERY_STATE__DELIVERY_STATE_DEAD;
    bool pending = d->state == PMO__DELIVERY_STATE__DELIVERY_STATE_PENDING;
    if (!dead && !pending)
        return (void)FAIL (req, FAILED_PRECONDITION, field, "delivery '%s' is already %s", d->id,
                           d->state == PMO__DELIVERY_STATE__DELIVERY_STATE_DELIVERED ? "delivered"
                                                                                     : "discarded");
    if (d->in_flight)
        return (void)FAIL (req, FAILED_PRECONDITION, field,
                           "delivery '%s' is being sent right now; try again in a moment", d->id);
    int64_t now = pmo_now_ms ();
    d->version = version + 1;
    pmo_commit_t *commit = pmo_commit_new (d->division, req->header->request_id);
    if (retry) {
        d->state = PMO__DELIVERY_STATE__DELIVERY_STATE_PENDING;
        d->due_ms = now;
        d->done_ms = 0;
        notifier_store_retry (self->store, commit, req->arena, d, version, now);
    } else {
        d->state = PMO__DELIVERY_STATE__DELIVERY_STATE_DISCARDED;
        d->done_ms = now;
        notifier_store_discard (self->store, commit, req->arena, d, version, now);
    }
    Pmo__Event *event = s_event (req->arena, retry ? "delivery.retried" : "delivery.discarded",
                                 d->division, ch->org_unit, ch->org_unit_path, d->id, d->version,
                                 pmo_request_who (req)->subject, req->header->request_id);
    pmo_reflect_set_oneof (&event->base, "delivery", &d->base);
    pmo_reflect_set_oneof (req->reply, "delivery", &d->base);
    s_commit (self, req, commit, d->division, event);
    if (!pmo_request_failed (req)) {
        if (!retry)
            notifier_store_expire (self->store, d->id);
        self->tick_now = true;
        pmo_info ("notifier: delivery %s id=%s by=%s", retry ? "retried" : "discarded", d->id,
                  pmo_request_who (req)->subject);
    }
}

static void s_handle_ping (notifier_t *self, pmo_request_t *req)
{
    notifier_store_pong (self->store, req, self->started_ms);
}

static void s_handle (void *state, pmo_request_t *req)
{
    notifier_t *self = state;
    Pmo__NotifierRequest *r = (Pmo__NotifierRequest *)req->request;
    switch (r->body_case) {
    case PMO__NOTIFIER_REQUEST__BODY_CREATE_CHANNEL:
        return s_handle_create_channel (self, req, r->create_channel);
    case PMO__NOTIFIER_REQUEST__BODY_UPDATE_CHANNEL:
        return s_handle_update_channel (self, req, r->update_channel);
    case PMO__NOTIFIER_REQUEST__BODY_GET_CHANNEL:
        return s_handle_get_channel (self, req, r->get_channel);
    case PMO__NOTIFIER_REQUEST__BODY_LIST_CHANNELS:
        return s_handle_list_channels (self, req, r->list_channels);
    case PMO__NOTIFIER_REQUEST__BODY_ARCHIVE_CHANNEL:
        return s_handle_archive_channel (self, req, r->archive_channel);
    case PMO__NOTIFIER_REQUEST__BODY_ROTATE_SECRET:
        return s_handle_rotate_secret (self, req, r->rotate_secret);
    case PMO__NOTIFIER_REQUEST__BODY_TEST_CHANNEL:
        return s_handle_test_channel (self, req, r->test_channel);
    case PMO__NOTIFIER_REQUEST__BODY_CREATE_SUBSCRIPTION:
        return s_handle_create_subscription (self, req, r->create_subscription);
    case PMO__NOTIFIER_REQUEST__BODY_UPDATE_SUBSCRIPTION:
        return s_handle_update_subscription (self, req, r->update_subscription);
    case PMO__NOTIFIER_REQUEST__BODY_GET_SUBSCRIPTION:
        return s_handle_get_subscription (self, req, r->get_subscription);
    case PMO__NOTIFIER_REQUEST__BODY_LIST_SUBSCRIPTIONS:
        return s_handle_list_subscriptions (self, req, r->list_subscriptions);
    case PMO__NOTIFIER_REQUEST__BODY_ARCHIVE_SUBSCRIPTION:
        return s_handle_archive_subscription (self, req, r->archive_subscription);
    case PMO__NOTIFIER_REQUEST__BODY_LIST_DELIVERIES:
        return s_handle_list_deliveries (self, req, r->list_deliveries);
    case PMO__NOTIFIER_REQUEST__BODY_GET_DELIVERY:
        return s_handle_get_delivery (self, req, r->get_delivery);
    case PMO__NOTIFIER_REQUEST__BODY_RETRY_DELIVERY:
        return s_delivery_change (self, req, r->retry_delivery, true);
    case PMO__NOTIFIER_REQUEST__BODY_DISCARD_DELIVERY:
        return s_delivery_change (self, req, r->discard_delivery, false);
    case PMO__NOTIFIER_REQUEST__BODY_PING:
        return s_handle_ping (self, req);
    default:
        FAIL (req, UNSUPPORTED, "body", "unknown request type");
    }
}

//  ---------------------------------------------------------------------
//  Routing: events become deliveries

static void s_remember_project (notifier_t *self, const Pmo__Event *event, pmo_arena_t *arena)
{
    const char *label = notifier_project_label (event, arena);
    if (!label)
        return;
    if (zhash_size (self->projects) >= PROJECTS_MAX &&
        !zhash_lookup (self->projects, event->project->id)) {
        //  forget everything rather than track ages: labels come back with
        //  the next event of each project
        zhash_destroy (&self->projects);
        self->projects = zhash_new ();
        zhash_autofree (self->projects);
    }
    zhash_update (self->projects, event->project->id, (void *)label);
}

//  Read what the streams hold and route it. Returns entries handled.
static size_t s_consume (notifier_t *self)
{
    if (!self->n_streams)
        return 0;
    if (!self->groups_ok) {
        bool ok = true;
        for (size_t i = 0; i < self->n_streams && ok; i++)
            ok = notifier_store_follow (self->store, self->streams[i], GROUP) == 0;
        if (!ok)
            return 0;
        self->groups_ok = true;
    }
    pmo_stream_batch_t batch;
    if (notifier_store_read_events (self->store, GROUP, self->config.consumer,
                                    (const char **)self->streams, self->n_streams, BATCH,
                                    self->config.reclaim_ms, &batch)) {
        //  a stream or its group may be gone (Redis restarted empty)
        self->groups_ok = false;
        return 0;
    }
    if (batch.count == 0) {
        pmo_stream_batch_clear (&batch);
        return 0;
    }
    if (!self->cache_loaded_ms || pmo_mono_ms () - self->cache_loaded_ms > CACHE_RELOAD_MS)
        s_cache_reload (self);
    pmo_arena_t *arena = pmo_arena_new ();
    int64_t now = pmo_now_ms ();
    //  routes[i] = route calls queued for entry i; -1 = do not acknowledge
    int *routes = pmo_arena_alloc (arena, batch.count * sizeof (int));
    bool pipeline_ok = notifier_store_scripts_ready (self->store) == 0;
    size_t queued = 0;
    const char **matched = pmo_arena_alloc (arena, (self->n_subs + 1) * sizeof (char *));
    for (size_t e = 0; e < batch.count && pipeline_ok; e++) {
        pmo_stream_entry_t *entry = &batch.entries[e];
        Pmo__Event *event = pmo__event__unpack (pmo_arena_allocator (arena), entry->size,
                                                (const uint8_t *)entry->data);
        if (!event) {
            pmo_warn ("notifier: undecodable event stream=%s id=%s", entry->stream, entry->id);
            continue;
        }
        event->id = entry->id;
        if (pmo_str_empty (event->division)) {
            //  the stream says whose it is
            char division[64];
            if (pmo_stream_key_division (entry->stream, division, sizeof division))
                event->division = pmo_arena_strdup (arena, division);
        }
        //  A unit changed (renamed, moved, archived, its PMO type): read
        //  the tree again before it is used next
        if (strncmp (event->type ? event->type : "", "org_unit.", 9) == 0)
            orgtree_invalidate (self->tree);
        //  Our own events (channel changes, dead letters) are not news to
        //  route: sending them could loop through a broken channel
        if (streq (event->source ? event->source : "", "notifier"))
            continue;
        if (self->config.max_event_age_s > 0 &&
            now - event->time_ms > (int64_t)self->config.max_event_age_s * 1000) {
            self->skipped++;
            continue;
        }
        if (event->body_case == PMO__EVENT__BODY_PROJECT && event->project->id)
            s_remember_project (self, event, arena);
        const char *pid = notifier_event_project (event);
        Pmo__Notice *notice =
            notifier_notice (event, self->config.dashboard_url,
                             *pid ? zhash_lookup (self->projects, pid) : NULL, arena);
        size_t n_matched = 0;
        for (size_t s = 0; s < self->n_subs; s++) {
            Pmo__Subscription *sub = self->subs[s];
            if (!notifier_subscription_matches (sub, notice))
                continue;
            bool dup = false;
            for (size_t m = 0; m < n_matched && !dup; m++)
                dup = streq (matched[m], sub->channel_id);
            if (!dup)
                matched[n_matched++] = sub->channel_id;
        }
        for (size_t m = 0; m < n_matched; m++) {
            channel_state_t *st = zhash_lookup (self->channels, matched[m]);
            //  a disabled or archived channel receives nothing meanwhile
            if (!st || st->channel->archived || st->channel->disabled)
                continue;
            Pmo__Channel *ch = st->channel;
            notifier_route_t mode = notifier_route_mode (ch, notice);
            const char *key =
                pmo_arena_printf (arena, "%s/%s/%s", event->division, event->id, ch->id);
            Pmo__Delivery *d = pmo_arena_alloc (arena, sizeof (Pmo__Delivery));
            pmo__delivery__init (d);
            d->channel_id = ch->id;
            d->division = ch->division;
            d->state = PMO__DELIVERY_STATE__DELIVERY_STATE_PENDING;
            d->created_ms = now;
            d->channel_kind = ch->kind;
            d->project_id = notice->project_id;
            char *single_id = notifier_store_delivery_id (arena, ch->division, key);
            notifier_route_args_t args = {
                .division = ch->division,
                .channel_id = ch->id,
                .mode = mode,
                .seen = pmo_arena_printf (arena, "%s/%s", event->division, event->id),
                .delivery_id = single_id,
                .fallback_id = single_id,
                .delivery = d,
                .notice = notice,
                .now_ms = now,
                .due_ms = now,
                .window_ms = notifier_coalesce_ms (ch),
                .project_id = notice->project_id,
            };
            if (mode == NOTIFIER_ROUTE_DIGEST) {
                d->kind = PMO__DELIVERY_KIND__DELIVERY_KIND_DIGEST;
                d->period_end_ms = notifier_digest_period_end (ch->digest, now);
                args.due_ms = d->period_end_ms;
                args.delivery_id =
                    notifier_store_delivery_id (arena, ch->division,
                                                pmo_arena_printf (arena, "digest/%s/%lld", ch->id,
                                                                  (long long)d->period_end_ms));
            } else
                d->kind = mode == NOTIFIER_ROUTE_COALESCE
                              ? PMO__DELIVERY_KIND__DELIVERY_KIND_COALESCED
                              : PMO__DELIVERY_KIND__DELIVERY_KIND_EVENT;
            d->id = (char *)args.delivery_id;
            if (notifier_store_route_pipe (self->store, arena, &args)) {
                pipeline_ok = false;
                break;
            }
            routes[e]++;
            queued++;
        }
    }
    //  Collect every reply (a failed pipeline yields NULLs for the rest)
    bool all_ok = pipeline_ok;
    for (size_t e = 0; e < batch.count; e++)
        for (int r = 0; r < routes[e]; r++)
            if (notifier_store_route_reply (self->store)) {
                routes[e] = -1;
                all_ok = false;
                break;
            }
    //  Acknowledge what was routed (or needs no route); anything else stays
    //  pending and is taken over again after reclaim_ms
    size_t handled = 0;
    const char **streams = pmo_arena_alloc (arena, batch.count * sizeof (char *));
    const char **ids = pmo_arena_alloc (arena, batch.count * sizeof (char *));
    if (all_ok) {
        for (size_t e = 0; e < batch.count; e++) {
            streams[handled] = batch.entries[e].stream;
            ids[handled++] = batch.entries[e].id;
        }
        self->routed += queued;
        if (notifier_store_ack (self->store, GROUP, streams, ids, handled))
            pmo_warn ("notifier: acknowledging failed (entries will be re-read, routing is "
                      "idempotent)");
    } else
        pmo_warn ("notifier: routing failed for a batch of %zu events; they stay pending",
                  batch.count);
    if (queued)
        self->tick_now = true;
    pmo_arena_destroy (&arena);
    pmo_stream_batch_clear (&batch);
    return handled;
}

//  ---------------------------------------------------------------------
//  The delivery loop

//  Refill the channel's token bucket; true if one message may go now.
static bool s_has_token (channel_state_t *st)
{
    uint32_t rate = notifier_rate_per_minute (st->channel);
    if (rate == 0)
        return true;
    int64_t now = pmo_mono_ms ();
    //  a burst of one second's worth (at least one message)
    double burst = rate / 60.0 < 1 ? 1 : rate / 60.0;
    st->tokens += (double)(now - st->refill_ms) * rate / 60000.0;
    if (st->tokens > burst)
        st->tokens = burst;
    st->refill_ms = now;
    return st->tokens >= 1;
}

static void s_finish (notifier_t *self, transfer_t *t, const notifier_send_result_t *result);

static void s_transfer_free (void *tag)
{
    transfer_t *t = tag;
    pmo_arena_destroy (&t->arena);
    free (t);
}

static void s_start (notifier_t *self, channel_state_t *st, notifier_claimed_t *c,
                     pmo_arena_t *tick)
{
    Pmo__Channel *ch = st->channel;
    transfer_t *t = calloc (1, sizeof (transfer_t));
    assert (t);
    t->arena = pmo_arena_new ();
    t->delivery = (Pmo__Delivery *)pmo_reflect_copy (&c->delivery->base, t->arena);
    t->delivery->notice_count = c->total;
    t->version = c->version;
    snprintf (t->channel_id, sizeof t->channel_id, "%s", ch->id);
    t->smtp = ch->kind == PMO__CHANNEL_KIND__CHANNEL_KIND_EMAIL;
    int64_t now = pmo_now_ms ();
    notifier_message_t msg = {
        .kind = c->delivery->kind,
        .delivery_id = c->delivery->id,
        .notices = c->notices,
        .n_notices = c->n_notices,
        .total = c->total > c->n_notices ? c->total : (uint32_t)c->n_notices,
        .period = ch->digest,
        .coalesce_s = notifier_coalesce_ms (ch) / 1000,
        .dashboard = self->config.dashboard_url,
    };
    notifier_payload_t payload;
    int rc = t->smtp ? notifier_format_email (ch, &msg, now, tick, &payload)
                     : notifier_format (ch, &msg, tick, &payload);
    notifier_send_request_t request = {.tag = t};
    const char *headers[8];
    size_t n_headers = 0;
    const char *problem = NULL;
    if (rc)
        problem = "the message could not be formatted (invalid text in the event)";
    else if (t->smtp) {
        request.smtp = true;
        request.url = ch->smtp_url;
        request.user = ch->smtp_user;
        request.password = ch->smtp_password;
        request.mail_from = ch->mail_from;
        request.rcpt = (const char *const *)ch->mail_to;
        request.n_rcpt = ch->n_mail_to;
    } else {
        request.url = *payload.query
                          ? pmo_arena_printf (tick, "%s%s%s", ch->url,
                                              strchr (ch->url, '?') ? "&" : "?", payload.query)
                          : ch->url;
        headers[n_headers++] = pmo_arena_printf (tick, "Content-Type: %s", payload.content_type);
        if (ch->kind == PMO__CHANNEL_KIND__CHANNEL_KIND_WEBHOOK) {
            //  Standard Webhooks: the id stays across retries, the
            //  timestamp is this attempt's, the signature covers both
            int64_t ts = now / 1000;
            char *signature = notifier_sign (c->delivery->id, ts, payload.body, payload.size,
                                             ch->signing_secrets, ch->n_signing_secrets, now, tick);
            if (!signature)
                problem = "no signing secret in force: rotate in a new one";
            headers[n_headers++] = pmo_arena_printf (tick, "webhook-id: %s", c->delivery->id);
            headers[n_headers++] =
                pmo_arena_printf (tick, "webhook-timestamp: %lld", (long long)ts);
            headers[n_headers++] =
                pmo_arena_printf (tick, "webhook-signature: %s", signature ? signature : "");
        }
        request.headers = headers;
        request.n_headers = n_headers;
    }
    st->in_flight++;
    self->in_flight++;
    if (problem) {
        notifier_send_result_t result = {.tag = t, .status = 0};
        snprintf (result.error, sizeof result.error, "refused by policy: %s", problem);
        s_finish (self, t, &result);
        return;
    }
    request.body = payload.body;
    request.size = payload.size;
    notifier_send_start (self->send, &request);
    pmo_debug ("notifier: sending delivery=%s channel=%s bytes=%zu notices=%zu/%u", c->delivery->id,
               ch->id, payload.size, payload.shown, msg.total);
}

//  Disable a channel whose endpoint said it is gone (410), with its event.
static void s_disable_channel (notifier_t *self, const char *channel_id, const char *why,
                               const char *request_id)
{
    pmo_arena_t *arena = pmo_arena_new ();
    ProtobufCMessage *msg = NULL;
    uint64_t version;
    if (notifier_store_read (self->store, arena, NOTIFIER_CHANNEL, channel_id, &msg, &version) ==
        1) {
        Pmo__Channel *ch = (Pmo__Channel *)msg;
        if (!ch->disabled) {
            ch->disabled = true;
            ch->disabled_reason = pmo_arena_printf (arena, "%s (at %s)", why,
                                                    notifier_rfc3339 (pmo_now_ms (), arena));
            ch->version = version + 1;
            ch->updated_ms = pmo_now_ms ();
            pmo_commit_t *commit = pmo_commit_new (ch->division, request_id);
            notifier_store_put (self->store, commit, arena, NOTIFIER_CHANNEL, ch->division,
                                &ch->base, version);
            Pmo__Event *event =
                s_event (arena, "channel.disabled", ch->division, ch->org_unit, ch->org_unit_path,
                         ch->id, ch->version, "notifier", request_id);
            Pmo__Channel *masked = s_masked (arena, ch);
            pmo_reflect_set_oneof (&event->base, "channel", &masked->base);
            notifier_store_event (self->store, commit, arena, ch->division, event);
            pmo_commit_reply (commit, "", 0, IDEM_TTL_S);
            pmo_commit_result_t result;
            notifier_store_commit (self->store, commit, &result);
            pmo_commit_destroy (&commit);
            pmo_commit_result_clear (&result);
            pmo_warn ("notifier: channel disabled id=%s reason=\"%s\"", ch->id, why);
            channel_state_t *st = zhash_lookup (self->channels, ch->id);
            if (st)
                st->channel->disabled = true;
        }
    }
    pmo_arena_destroy (&arena);
}

static void s_finish (notifier_t *self, transfer_t *t, const notifier_send_result_t *result)
{
    Pmo__Delivery *d = t->delivery;
    pmo_arena_t *arena = t->arena;
    int64_t now = pmo_now_ms ();
    notifier_verdict_t verdict;
    if (t->smtp)
        notifier_classify_smtp (result->status, result->error, &verdict);
    else
        notifier_classify_http (result->status, result->error, result->location, &verdict);
    //  Record the attempt (the latest few kept; attempt_count counts all)
    Pmo__Attempt *attempt = pmo_arena_alloc (arena, sizeof (Pmo__Attempt));
    pmo__attempt__init (attempt);
    attempt->time_ms = now - result->duration_ms;
    attempt->status = (uint32_t)result->status;
    attempt->error =
        verdict.outcome == NOTIFIER_DELIVERED ? "" : pmo_arena_strdup (arena, verdict.reason);
    attempt->duration_ms = (uint32_t)result->duration_ms;
    int64_t retry_after = notifier_retry_after_ms (result->retry_after, now);
    attempt->retry_after_ms = retry_after > 0 ? retry_after : 0;
    size_t keep =
        d->n_attempts < NOTIFIER_ATTEMPTS_KEPT ? d->n_attempts : NOTIFIER_ATTEMPTS_KEPT - 1;
    Pmo__Attempt **attempts = pmo_arena_alloc (arena, (keep + 1) * sizeof (void *));
    if (keep)
        memcpy (attempts, d->attempts + (d->n_attempts - keep), keep * sizeof (void *));
    attempts[keep] = attempt;
    d->attempts = attempts;
    d->n_attempts = keep + 1;
    d->attempt_count++;
    d->notices = NULL;
    d->n_notices = 0;
    d->in_flight = false;

    notifier_finish_t finish = NOTIFIER_FINISH_DEAD;
    int64_t due = 0;
    channel_state_t *st = zhash_lookup (self->channels, t->channel_id);
    switch (verdict.outcome) {
    case NOTIFIER_DELIVERED:
        finish = NOTIFIER_FINISH_DELIVERED;
        d->state = PMO__DELIVERY_STATE__DELIVERY_STATE_DELIVERED;
        d->done_ms = now;
        d->last_error = "";
        self->delivered++;
        break;
    case NOTIFIER_RETRY:
        self->failed++;
        if (d->attempt_count >= (uint32_t)self->config.max_attempts) {
            d->state = PMO__DELIVERY_STATE__DELIVERY_STATE_DEAD;
            d->done_ms = now;
            d->last_error = pmo_arena_printf (arena, "gave up after %u attempts; last: %s",
                                              d->attempt_count, verdict.reason);
            break;
        }
        finish = NOTIFIER_FINISH_RETRY;
        int64_t wait = notifier_backoff_ms (d->attempt_count, self->config.retry_base_ms,
                                            self->config.retry_max_ms,
                                            (double)random () / ((double)RAND_MAX + 1));
        //  The endpoint's own word wins when it asks for longer
        if (retry_after > wait)
            wait = retry_after;
        due = now + wait;
        d->due_ms = due;
        d->last_error = pmo_arena_strdup (arena, verdict.reason);
        if (verdict.throttle && st && now + wait > st->paused_until)
            st->paused_until = now + wait;
        break;
    case NOTIFIER_DISABLE:
        s_disable_channel (self, t->channel_id, verdict.reason,
                           pmo_arena_printf (arena, "disable-%s-%u", d->id, d->attempt_count));
        //  fall through
    case NOTIFIER_DEAD:
        d->state = PMO__DELIVERY_STATE__DELIVERY_STATE_DEAD;
        d->done_ms = now;
        d->last_error = pmo_arena_strdup (arena, verdict.reason);
        break;
    }
    Pmo__Event *event = NULL;
    if (d->state == PMO__DELIVERY_STATE__DELIVERY_STATE_DEAD) {
        self->dead++;
        const Pmo__Channel *ch = st ? st->channel : NULL;
        event = s_event (arena, "delivery.dead_lettered", d->division, ch ? ch->org_unit : "",
                         ch ? ch->org_unit_path : "", d->id, t->version + 1, "notifier", "");
        pmo_reflect_set_oneof (&event->base, "delivery", &d->base);
        pmo_warn ("notifier: dead letter delivery=%s channel=%s attempts=%u reason=\"%s\"", d->id,
                  t->channel_id, d->attempt_count, d->last_error);
    } else if (verdict.outcome == NOTIFIER_RETRY)
        pmo_info ("notifier: retry delivery=%s channel=%s attempt=%u in_ms=%lld reason=\"%s\"",
                  d->id, t->channel_id, d->attempt_count, (long long)(due - now), verdict.reason);
    d->version = t->version + 1;
    int rc = notifier_store_finish (self->store, arena, d, t->version, finish, due, now, event);
    if (rc < 0)
        //  the lease runs out and the delivery is tried again: at least once
        pmo_warn ("notifier: could not record attempt delivery=%s (Redis); it will be retried",
                  d->id);
    else if (rc == 1)
        pmo_info ("notifier: delivery=%s changed by an operator during the attempt", d->id);
    if (st)
        st->in_flight--;
    self->in_flight--;
    self->tick_now = true;
    pmo_arena_destroy (&t->arena);
    free (t);
}

//  Claim and start what is due, channel by channel, within each channel's
//  rate and in-flight limits.
static void s_tick (notifier_t *self)
{
    if (!self->cache_loaded_ms || pmo_mono_ms () - self->cache_loaded_ms > CACHE_RELOAD_MS)
        s_cache_reload (self);
    if (!notifier_store_connected (self->store))
        return;
    pmo_arena_t *arena = pmo_arena_new ();
    int64_t now = pmo_now_ms ();
    for (char *div = zlist_first (self->divisions); div; div = zlist_next (self->divisions)) {
        char **ids;
        size_t n;
        if (notifier_store_ready (self->store, arena, div, now, &ids, &n))
            break;
        for (size_t i = 0; i < n && self->in_flight < self->config.max_in_flight; i++) {
            channel_state_t *st = zhash_lookup (self->channels, ids[i]);
            if (!st || st->channel->disabled || st->channel->archived || st->paused_until > now)
                continue;
            int room = self->config.endpoint_in_flight - st->in_flight;
            int global = self->config.max_in_flight - self->in_flight;
            if (global < room)
                room = global;
            if (room <= 0 || !s_has_token (st))
                continue;
            if (notifier_rate_per_minute (st->channel) && room > (int)st->tokens)
                room = (int)st->tokens;
            notifier_claimed_t *claimed;
            size_t got;
            if (notifier_store_claim (self->store, arena, div, ids[i], now,
                                      now + self->config.http_timeout_ms +
                                          self->config.connect_timeout_ms + 5000,
                                      (size_t)room, &claimed, &got))
                break;
            for (size_t k = 0; k < got; k++) {
                if (notifier_rate_per_minute (st->channel))
                    st->tokens -= 1;
                s_start (self, st, &claimed[k], arena);
            }
        }
    }
    pmo_arena_destroy (&arena);
}

//  ---------------------------------------------------------------------
//  The actor

void notifier_server_actor (zsock_t *pipe, void *args)
{
    notifier_t self = {.config = *(notifier_config_t *)args};
    self.started_ms = pmo_now_ms ();
    srandom ((unsigned)(pmo_now_ms () ^ getpid ()));
    self.redis = pmo_redis_new (self.config.redis_url, self.config.redis_timeout_ms);
    self.registry = pmo_client_new (self.config.registry_endpoint);
    if (!self.redis || !self.registry) {
        pmo_error ("notifier: bad %s", self.redis ? "registry endpoint" : "redis url");
        pmo_redis_destroy (&self.redis);
        pmo_client_destroy (&self.registry);
        ((notifier_config_t *)args)->failed = true;
        zsock_signal (pipe, 1);
        return;
    }
    self.store = notifier_store_new (self.redis);
    pmo_server_config_t server_config = {
        .name = "notifier",
        .request_desc = &pmo__notifier_request__descriptor,
        .reply_desc = &pmo__notifier_reply__descriptor,
        .handler = s_handle,
        .state = &self,
    };
    self.server = pmo_server_new (&server_config, self.config.endpoint);
    self.pub = zsock_new (ZMQ_PUB);
    assert (self.pub);
    zsock_set_sndhwm (self.pub, 100000);
    if (!self.server || zsock_bind (self.pub, "%s", self.config.pub_endpoint) < 0) {
        pmo_error ("notifier: cannot bind endpoint=%s pub=%s", self.config.endpoint,
                   self.config.pub_endpoint);
        pmo_server_destroy (&self.server);
        zsock_destroy (&self.pub);
        notifier_store_destroy (&self.store);
        pmo_client_destroy (&self.registry);
        pmo_redis_destroy (&self.redis);
        ((notifier_config_t *)args)->failed = true;
        zsock_signal (pipe, 1);
        return;
    }
    notifier_send_config_t send_config = {
        .connect_timeout_ms = self.config.connect_timeout_ms,
        .total_timeout_ms = self.config.http_timeout_ms,
        .allow = self.config.allow_networks,
        .smtp_tls_required = self.config.smtp_tls_required,
        .free_tag = s_transfer_free,
    };
    self.send = notifier_send_new (&send_config);
    self.grant = (Pmo__Grant)PMO__GRANT__INIT;
    self.grant.role = PMO__ROLE__ROLE_VIEWER;
    self.grant.org_unit = (char *)self.config.hub;
    self.grants[0] = &self.grant;
    self.service = (Pmo__Identity)PMO__IDENTITY__INIT;
    self.service.subject = "service:notifier";
    self.service.grants = self.grants;
    self.service.n_grants = 1;
    orgtree_config_t tree_config = {
        .registry = self.config.registry_endpoint,
        .identity = &self.service,
        .timeout_ms = self.config.redis_timeout_ms,
        .max_age_ms = ORG_RELOAD_MS,
    };
    self.tree = orgtree_new (&tree_config);
    assert (self.tree); //  the same endpoint made self.registry
    self.divisions = zlist_new ();
    zlist_autofree (self.divisions);
    self.channels = zhash_new ();
    self.projects = zhash_new ();
    zhash_autofree (self.projects);
    //  The hub's stream first; divisions as the registry names them
    s_division_add (&self, self.config.hub);
    notifier_store_connected (self.store);
    pmo_info ("notifier: ready endpoint=%s pub=%s redis=%s registry=%s consumer=%s",
              self.config.endpoint, self.config.pub_endpoint, pmo_redis_safe_url (self.redis),
              self.config.registry_endpoint, self.config.consumer);
    zsock_signal (pipe, 0);

    zmq_pollitem_t items[POLL_ITEMS_MAX];
    bool running = true;
    while (running) {
        int64_t mono = pmo_mono_ms ();
        //  Timers: org units, stream poll, delivery loop
        if (mono >= self.org_next_ms) {
            //  The tree reads the registry only when it is older than
            //  ORG_RELOAD_MS or an org-unit event invalidated it; while the
            //  registry is away it backs off and answers at once
            s_org_refresh (&self);
            self.org_next_ms = pmo_mono_ms () + ORG_CHECK_MS;
        }
        if (mono >= self.next_poll_ms) {
            size_t handled = s_consume (&self);
            //  a full batch means more is waiting: read again at once
            self.next_poll_ms = handled >= BATCH ? mono : pmo_mono_ms () + POLL_IDLE_MS;
        }
        if (self.tick_now || pmo_mono_ms () >= self.next_tick_ms) {
            self.tick_now = false;
            s_tick (&self);
            self.next_tick_ms = pmo_mono_ms () + TICK_MS;
        }
        //  Wait for requests, curl's sockets or the next timer
        items[0] = (zmq_pollitem_t){.socket = zsock_resolve (pipe), .events = ZMQ_POLLIN};
        items[1] = (zmq_pollitem_t){.socket = zsock_resolve (pmo_server_socket (self.server)),
                                    .events = ZMQ_POLLIN};
        int count = 2 + notifier_send_pollitems (self.send, items + 2, POLL_ITEMS_MAX - 2);
        int64_t now = pmo_mono_ms ();
        long wait = (long)(self.next_poll_ms - now);
        if (self.next_tick_ms - now < wait)
            wait = (long)(self.next_tick_ms - now);
        long curl_wait = notifier_send_timeout (self.send);
        if (curl_wait >= 0 && curl_wait < wait)
            wait = curl_wait;
        if (self.tick_now || wait < 0)
            wait = 0;
        if (zmq_poll (items, count, wait) < 0 && zmq_errno () == ETERM)
            break;
        if (items[0].revents & ZMQ_POLLIN) {
            char *command = zstr_recv (pipe);
            running = !(command && streq (command, "$TERM"));
            zstr_free (&command);
        }
        if (items[1].revents & ZMQ_POLLIN)
            pmo_server_drain (self.server, 256);
        notifier_send_perform (self.send, items + 2, count - 2);
        notifier_send_result_t result;
        while (notifier_send_result (self.send, &result))
            s_finish (&self, result.tag, &result);
    }
    //  Answer what was already received; transfers still running are left
    //  leased and go out again after the lease (at least once)
    pmo_server_drain (self.server, 100000);
    pmo_info ("notifier: stopping routed=%llu delivered=%llu failed_attempts=%llu dead=%llu "
              "skipped_old=%llu in_flight=%d",
              (unsigned long long)self.routed, (unsigned long long)self.delivered,
              (unsigned long long)self.failed, (unsigned long long)self.dead,
              (unsigned long long)self.skipped, self.in_flight);
    notifier_send_destroy (&self.send);
    zhash_destroy (&self.channels);
    zhash_destroy (&self.projects);
    zlist_destroy (&self.divisions);
    for (size_t i = 0; i < self.n_streams; i++)
        free (self.streams[i]);
    free (self.streams);
    pmo_arena_destroy (&self.subs_arena);
    orgtree_destroy (&self.tree);
    pmo_server_destroy (&self.server);
    zsock_destroy (&self.pub);
    notifier_store_destroy (&self.store);
    pmo_client_destroy (&self.registry);
    pmo_redis_destroy (&self.redis);
}
