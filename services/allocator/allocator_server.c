/*  allocator_server.c: the resource allocator actor and its dispatch.

    The actor owns the ROUTER, the PUB socket, the Redis connection, the
    registry client and the in-memory index, all on one thread; it fills
    the index from Redis, follows what replicas write, and hands each
    request to its handler:

    - allocator_resources.c    resources: create, update, archive
    - allocator_allocations.c  the allocation state machine: request,
                               propose, commit, reject, release, reshape
    - allocator_views.c        reads, lists, matching, capacity, conflicts
    - allocator_xdiv.c         cross-division requests between stacks

    Every change follows the registry's order: read what the request names,
    check the caller may act there, answer a retry from the stored reply,
    validate, build the new state, and write it with its events and the
    reply in one commit (allocator_commit, here).

    The registry is asked (over ZeroMQ) whether a project exists and what
    its priority, org unit and division are, and for org units with their
    effective PMO type (allocator_registry.c: org units through the org-unit
    tree client, kept for a few seconds). When the registry does not
    answer, the request fails with "unavailable" and for a while further
    requests that need it fail at once; everything else (reads, views,
    releases) goes on.
*/
#include "allocator_server.h"
#include "allocator_internal.h"
#include "allocator_xdiv.h"

#include "pmo_auth.h"
#include "pmo_log.h"
#include "pmo_ping.h"
#include "pmo_server.h"

#include <assert.h>
#include <string.h>

#define LOAD_RETRY_MS 1000 //  while the index is not loaded, try again this often

//  ---------------------------------------------------------------------
//  Helpers

bool allocator_replayed_in (allocator_t *self, pmo_request_t *req, const char *division)
{
    char *one[] = {(char *)division};
    return allocator_replayed (self->store, req, one, 1);
}

//  The index must hold everything before it answers for Redis
bool allocator_ready (allocator_t *self, pmo_request_t *req)
{
    if (self->loaded)
        return true;
    FAIL (req, UNAVAILABLE, "",
          "the allocator is still loading its index from Redis (or Redis is down); retry shortly");
    return false;
}

//  ---------------------------------------------------------------------
//  Events and commits

//  Finish a change: its events and the reply (already filled) go in the
//  commit; on success the events are published with their stream ids.
int allocator_commit (allocator_t *self, pmo_request_t *req, pmo_commit_t *commit,
                      const char *division, Pmo__Event **events, size_t n_events)
{
    pmo_commit_result_t result;
    int rc = COMMIT_FAIL;
    switch (allocator_commit_write (self->store, self->pub, req, commit, division, events, n_events,
                                    &result)) {
    case PMO_COMMIT_OK:
    case PMO_COMMIT_DUPLICATE:
        rc = COMMIT_DONE;
        break;
    case PMO_COMMIT_CONFLICT:
        if (allocator_store_is_ledger_key (result.key)) {
            pmo_debug ("allocator: ledger moved key=%s now=%llu", result.key,
                       (unsigned long long)result.actual_version);
            rc = COMMIT_RETRY;
        } else
            FAIL (req, CONFLICT, "version",
                  "%s changed since you read it (now version %llu); read it again and retry",
                  events[0]->entity_id, (unsigned long long)result.actual_version);
        break;
    case PMO_COMMIT_TAKEN:
        FAIL (req, CONFLICT, "", "a unique key is taken (%s)", result.key);
        break;
    case PMO_COMMIT_UNAVAILABLE:
        //  It may have happened: the index may now miss it; reload to be exact
        self->loaded = false;
        break;
    case PMO_COMMIT_ERROR:
        break;
    }
    pmo_commit_result_clear (&result);
    return rc;
}

//  ---------------------------------------------------------------------
//  Dispatch

static void s_handle_ping (allocator_t *self, pmo_request_t *req)
{
    pmo_request_pong (req, "allocator", self->redis, self->started_ms);
}

typedef int (try_fn) (allocator_t *self, pmo_request_t *req, void *body);

static void s_follow (allocator_t *self);

//  Run a change, reading again while a booking ledger moves under it.
static void s_retrying (allocator_t *self, pmo_request_t *req, try_fn *fn, void *body)
{
    for (int attempt = 0; attempt < RACE_RETRIES; attempt++) {
        if (fn (self, req, body) != COMMIT_RETRY)
            return;
        pmo_debug ("allocator: ledger moved, deciding again request_id=%s attempt=%d",
                   req->header->request_id, attempt + 1);
    }
    FAIL (req, CONFLICT, "", "the resource's bookings kept changing while this was decided; retry");
}

//  Who may name a project by its code: who reads it
static bool s_may_see (const Pmo__Identity *who, const char *path)
{
    return pmo_access_allowed (who, allocator_roles (), ALLOCATOR_READ, path);
}

static void s_handle (void *state, pmo_request_t *req)
{
    allocator_t *self = state;
    Pmo__AllocatorRequest *r = (Pmo__AllocatorRequest *)req->request;
    //  Projects may be named by code wherever an id is asked for, among
    //  those the caller reads (by id, any project: a steward books for
    //  projects of other units)
    if (orgtree_resolve_projects (self->registry, req, s_may_see, ALLOCATOR_REGISTRY))
        return;
    switch (r->body_case) {
    case PMO__ALLOCATOR_REQUEST__BODY_REQUEST_ALLOCATION:
    case PMO__ALLOCATOR_REQUEST__BODY_PROPOSE:
    case PMO__ALLOCATOR_REQUEST__BODY_ARCHIVE_RESOURCE:
    case PMO__ALLOCATOR_REQUEST__BODY_LIST_RESOURCES:
    case PMO__ALLOCATOR_REQUEST__BODY_LIST_ALLOCATIONS:
    case PMO__ALLOCATOR_REQUEST__BODY_MATCH:
    case PMO__ALLOCATOR_REQUEST__BODY_CAPACITY:
    case PMO__ALLOCATOR_REQUEST__BODY_CONFLICTS:
    case PMO__ALLOCATOR_REQUEST__BODY_REQUEST_FOREIGN:
    case PMO__ALLOCATOR_REQUEST__BODY_RECEIVE_FOREIGN:
    case PMO__ALLOCATOR_REQUEST__BODY_IMPORT_BATCH:
        //  Read what other replicas wrote, so the index answers for Redis
        s_follow (self);
        break;
    default:
        break;
    }
    switch (r->body_case) {
    case PMO__ALLOCATOR_REQUEST__BODY_CREATE_RESOURCE:
        return allocator_handle_create_resource (self, req, r->create_resource);
    case PMO__ALLOCATOR_REQUEST__BODY_UPDATE_RESOURCE:
        return s_retrying (self, req, (try_fn *)allocator_try_update_resource, r->update_resource);
    case PMO__ALLOCATOR_REQUEST__BODY_ARCHIVE_RESOURCE:
        return allocator_handle_archive_resource (self, req, r->archive_resource);
    case PMO__ALLOCATOR_REQUEST__BODY_REQUEST_ALLOCATION:
        return s_retrying (self, req, (try_fn *)allocator_try_request, r->request_allocation);
    case PMO__ALLOCATOR_REQUEST__BODY_PROPOSE:
        return s_retrying (self, req, (try_fn *)allocator_try_propose, r->propose);
    case PMO__ALLOCATOR_REQUEST__BODY_COMMIT:
        return s_retrying (self, req, (try_fn *)allocator_try_commit, r->commit);
    case PMO__ALLOCATOR_REQUEST__BODY_REJECT:
        return s_retrying (self, req, (try_fn *)allocator_try_reject, r->reject);
    case PMO__ALLOCATOR_REQUEST__BODY_RELEASE:
        return s_retrying (self, req, (try_fn *)allocator_try_release, r->release);
    case PMO__ALLOCATOR_REQUEST__BODY_RESHAPE:
        return s_retrying (self, req, (try_fn *)allocator_try_reshape, r->reshape);
    case PMO__ALLOCATOR_REQUEST__BODY_IMPORT_BATCH:
        return s_retrying (self, req, (try_fn *)allocator_try_import, r->import_batch);
    case PMO__ALLOCATOR_REQUEST__BODY_GET:
        return allocator_handle_get (self, req, r->get);
    case PMO__ALLOCATOR_REQUEST__BODY_LIST_RESOURCES:
        return allocator_handle_list_resources (self, req, r->list_resources);
    case PMO__ALLOCATOR_REQUEST__BODY_LIST_ALLOCATIONS:
        return allocator_handle_list_allocations (self, req, r->list_allocations);
    case PMO__ALLOCATOR_REQUEST__BODY_MATCH:
        return allocator_handle_match (self, req, r->match);
    case PMO__ALLOCATOR_REQUEST__BODY_CAPACITY:
        return allocator_handle_capacity (self, req, r->capacity);
    case PMO__ALLOCATOR_REQUEST__BODY_CONFLICTS:
        return allocator_handle_conflicts (self, req, r->conflicts);
    case PMO__ALLOCATOR_REQUEST__BODY_PING:
        return s_handle_ping (self, req);
    case PMO__ALLOCATOR_REQUEST__BODY_REQUEST_FOREIGN:
    case PMO__ALLOCATOR_REQUEST__BODY_RECEIVE_FOREIGN:
    case PMO__ALLOCATOR_REQUEST__BODY_FOREIGN_UPDATE:
    case PMO__ALLOCATOR_REQUEST__BODY_LIST_FOREIGN:
    case PMO__ALLOCATOR_REQUEST__BODY_GET_FOREIGN: {
        //  Cross-division requests between stacks: allocator_xdiv.c
        allocator_xdiv_env_t env = {
            .store = self->store,
            .index = self->index,
            .pub = self->pub,
            .registry = self->registry,
            .hub = self->config.hub,
            .loaded = self->loaded,
        };
        return allocator_xdiv_handle (&env, req, r);
    }
    default:
        FAIL (req, UNSUPPORTED, "body", "unknown request type");
    }
}

//  ---------------------------------------------------------------------
//  The actor

//  Fill the index from Redis if it is not filled yet.
static void s_load (allocator_t *self)
{
    if (self->loaded || pmo_mono_ms () < self->next_load_ms)
        return;
    int64_t started = pmo_mono_ms ();
    allocator_index_clear (self->index);
    zhashx_purge (self->positions);
    const char *replid = pmo_redis_ready (self->redis) ? pmo_redis_replid (self->redis) : NULL;
    if (replid) //  read before the load: a later one may be another master's
        snprintf (self->replid, sizeof self->replid, "%s", replid);
    if (replid && allocator_store_load (self->store, self->index, self->positions) == 0) {
        self->loaded = true;
        pmo_info ("allocator: index loaded resources=%zu allocations=%zu ms=%lld bytes=%zu",
                  allocator_index_resource_count (self->index),
                  allocator_index_allocation_count (self->index),
                  (long long)(pmo_mono_ms () - started), allocator_index_bytes (self->index));
    } else {
        allocator_index_clear (self->index);
        self->next_load_ms = pmo_mono_ms () + LOAD_RETRY_MS;
        pmo_warn ("allocator: cannot load the index yet (Redis unavailable); retrying");
    }
}

//  Apply what was committed since the index last looked (by this allocator
//  or a replica). If Redis does not answer, the index answers as it is.
static void s_follow (allocator_t *self)
{
    if (!self->loaded)
        return;
    bool org_units = false;
    int applied = allocator_store_follow (self->store, self->index, self->positions, &org_units);
    //  The registry writes org-unit events to the same division streams
    if (org_units)
        orgtree_invalidate (self->registry);
    if (applied > 0)
        pmo_debug ("allocator: followed snapshots=%d", applied);
    //  Redis answered, so the connection says which master this is. Another
    //  one (a failover, or Redis restarted) may have lost what the index
    //  took in from the old one (written, never acknowledged, never
    //  replicated): read everything again
    const char *replid = applied >= 0 ? pmo_redis_replid (self->redis) : NULL;
    if (replid && strcmp (replid, self->replid) != 0) {
        pmo_warn ("allocator: Redis is another master now (replid %.8s, was %.8s); reading the "
                  "index again",
                  replid, self->replid);
        self->loaded = false;
        self->next_load_ms = 0;
        s_load (self);
    }
}

static void s_string_free (void **item)
{
    free (*item);
    *item = NULL;
}

void allocator_server_actor (zsock_t *pipe, void *args)
{
    allocator_t self = {.config = *(allocator_config_t *)args};
    self.started_ms = pmo_now_ms ();
    if (self.config.registry_timeout_ms <= 0)
        self.config.registry_timeout_ms = 1000;
    if (self.config.registry_cache_ms < 0)
        self.config.registry_cache_ms = 0;
    pmo__identity__init (&self.service);
    pmo__grant__init (&self.service_grant);
    self.service.subject = "pmo-allocator";
    self.service_grant.role = PMO__ROLE__ROLE_ADMIN;
    self.service_grant.org_unit = (char *)self.config.hub;
    self.service_grants[0] = &self.service_grant;
    self.service.grants = self.service_grants;
    self.service.n_grants = 1;
    self.redis = pmo_redis_new (self.config.redis_url, self.config.redis_timeout_ms);
    self.registry =
        allocator_registry_new (self.config.registry, &self.service,
                                self.config.registry_timeout_ms, self.config.registry_cache_ms);
    if (!self.redis || !self.registry) {
        pmo_error ("allocator: bad %s", self.redis ? "registry endpoint" : "redis url");
        pmo_redis_destroy (&self.redis);
        orgtree_destroy (&self.registry);
        ((allocator_config_t *)args)->failed = true;
        zsock_signal (pipe, 1);
        return;
    }
    self.store = allocator_store_new (self.redis, self.config.hub);
    self.index = allocator_index_new (self.config.fte_hours);
    self.positions = zhashx_new ();
    zhashx_set_destructor (self.positions, s_string_free);
    pmo_server_config_t server_config = {
        .name = "allocator",
        .request_desc = &pmo__allocator_request__descriptor,
        .reply_desc = &pmo__allocator_reply__descriptor,
        .handler = s_handle,
        .state = &self,
    };
    self.server = pmo_server_new (&server_config, self.config.endpoint);
    self.pub = zsock_new (ZMQ_PUB);
    assert (self.pub);
    zsock_set_sndhwm (self.pub, 100000);
    if (!self.server || pmo_auth_server (self.pub) ||
        zsock_bind (self.pub, "%s", self.config.pub_endpoint) < 0) {
        pmo_error ("allocator: cannot bind endpoint=%s pub=%s", self.config.endpoint,
                   self.config.pub_endpoint);
        pmo_server_destroy (&self.server);
        zsock_destroy (&self.pub);
        zhashx_destroy (&self.positions);
        allocator_index_destroy (&self.index);
        allocator_store_destroy (&self.store);
        orgtree_destroy (&self.registry);
        pmo_redis_destroy (&self.redis);
        ((allocator_config_t *)args)->failed = true;
        zsock_signal (pipe, 1);
        return;
    }
    //  Everything in memory comes back from Redis: nothing is lost by a restart
    s_load (&self);
    pmo_info ("allocator: ready endpoint=%s pub=%s redis=%s registry=%s hub=%s loaded=%s",
              self.config.endpoint, self.config.pub_endpoint, pmo_redis_safe_url (self.redis),
              self.config.registry, self.config.hub, self.loaded ? "yes" : "no");
    zsock_signal (pipe, 0);

    zpoller_t *poller = zpoller_new (pipe, pmo_server_socket (self.server), NULL);
    bool running = true;
    while (running) {
        void *which = zpoller_wait (poller, self.loaded ? 1000 : 200);
        if (which == pipe) {
            char *command = zstr_recv (pipe);
            running = !(command && streq (command, "$TERM"));
            zstr_free (&command);
        } else if (which == pmo_server_socket (self.server)) {
            s_load (&self);
            pmo_server_drain (self.server, 256);
        } else if (zpoller_terminated (poller))
            running = false;
        else
            s_follow (&self);
        s_load (&self);
    }
    pmo_server_drain (self.server, 100000);
    const pmo_server_stats_t *stats = pmo_server_stats (self.server);
    pmo_info ("allocator: stopping requests=%llu errors=%llu malformed=%llu",
              (unsigned long long)stats->requests, (unsigned long long)stats->errors,
              (unsigned long long)stats->malformed);
    zpoller_destroy (&poller);
    pmo_server_destroy (&self.server);
    zsock_destroy (&self.pub);
    zhashx_destroy (&self.positions);
    allocator_index_destroy (&self.index);
    allocator_store_destroy (&self.store);
    orgtree_destroy (&self.registry);
    pmo_redis_destroy (&self.redis);
}
