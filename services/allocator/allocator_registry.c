/*  allocator_registry.c: what the allocator asks the registry.

    Org units come from the one org-unit tree client (lib/orgtree), which
    keeps what it read for registry_cache_ms and backs off by itself when
    the registry does not answer. Projects are asked with a get each time
    (their status and priority must be fresh when hours are booked), with a
    pause of their own: when the registry does not answer, project reads
    fail at once for a second, so a dead registry costs a caller nothing.
*/
#include "allocator_internal.h"

#include "pmo_log.h"
#include "pmo_reflect.h"
#include "pmo_wire.h"

#include <assert.h>

#define REGISTRY_PAUSE_MS 1000 //  after the registry failed to answer, fail fast this long

allocator_registry_t *allocator_registry_new (const char *endpoint, const Pmo__Identity *service,
                                              int timeout_ms, int cache_ms)
{
    pmo_client_t *client = pmo_client_new (endpoint);
    //  orgtree reads 0 as its default age: a configured 0 means "always
    //  ask again", which 1 ms is in practice
    orgtree_config_t tree_config = {
        .registry = endpoint,
        .identity = service,
        .timeout_ms = timeout_ms,
        .max_age_ms = cache_ms > 0 ? cache_ms : 1,
    };
    orgtree_t *tree = client ? orgtree_new (&tree_config) : NULL;
    if (!tree) {
        pmo_client_destroy (&client);
        return NULL;
    }
    allocator_registry_t *self = calloc (1, sizeof (allocator_registry_t));
    assert (self);
    self->client = client;
    self->tree = tree;
    self->endpoint = endpoint;
    self->service = service;
    self->timeout_ms = timeout_ms;
    return self;
}

void allocator_registry_destroy (allocator_registry_t **self_p)
{
    assert (self_p);
    allocator_registry_t *self = *self_p;
    if (!self)
        return;
    orgtree_destroy (&self->tree);
    pmo_client_destroy (&self->client);
    free (self);
    *self_p = NULL;
}

int allocator_registry_project (allocator_registry_t *self, pmo_arena_t *arena, const char *id,
                                Pmo__Project **project)
{
    *project = NULL;
    if (pmo_mono_ms () < self->down_until)
        return -1;
    Pmo__GetRequest get = PMO__GET_REQUEST__INIT;
    get.kind = PMO__ENTITY_KIND__ENTITY_KIND_PROJECT;
    get.id = (char *)id;
    Pmo__Header header;
    char request_id[40];
    pmo_header_init (&header, request_id, self->timeout_ms, (Pmo__Identity *)self->service);
    Pmo__RegistryRequest request = PMO__REGISTRY_REQUEST__INIT;
    request.header = &header;
    request.body_case = PMO__REGISTRY_REQUEST__BODY_GET;
    request.get = &get;
    ProtobufCMessage *raw = NULL;
    if (pmo_client_call (self->client, &request.base, &pmo__registry_reply__descriptor,
                         self->timeout_ms, 1, &raw)) {
        self->down_until = pmo_mono_ms () + REGISTRY_PAUSE_MS;
        pmo_warn ("allocator: registry did not answer endpoint=%s timeout_ms=%d", self->endpoint,
                  self->timeout_ms);
        return -1;
    }
    Pmo__RegistryReply *reply = (Pmo__RegistryReply *)raw;
    int rc = -1;
    //  A malformed id names no project either (as orgtree reads units)
    if (reply->error && (reply->error->code == PMO__ERROR_CODE__ERROR_NOT_FOUND ||
                         reply->error->code == PMO__ERROR_CODE__ERROR_INVALID))
        rc = 0;
    else if (reply->error)
        pmo_warn ("allocator: registry refused get id=%.64s code=%s", id,
                  pmo_error_code_name (reply->error->code));
    else if (reply->project) {
        *project = (Pmo__Project *)pmo_reflect_copy (&reply->project->base, arena);
        rc = 1;
    }
    protobuf_c_message_free_unpacked (raw, NULL);
    return rc;
}

int allocator_registry_unit (allocator_registry_t *self, pmo_arena_t *arena, const char *id,
                             Pmo__OrgUnit **unit)
{
    return orgtree_unit (self->tree, id, arena, unit);
}

void allocator_registry_invalidate (allocator_registry_t *self)
{
    orgtree_invalidate (self->tree);
}

Pmo__Project *allocator_project (allocator_registry_t *self, pmo_request_t *req, const char *id,
                                 const char *field)
{
    if (pmo_str_empty (id)) {
        FAIL (req, INVALID, field, "%s is required", field);
        return NULL;
    }
    Pmo__Project *project;
    int rc = allocator_registry_project (self, req->arena, id, &project);
    if (rc < 0) {
        pmo_request_unavailable (req, ALLOCATOR_REGISTRY);
        return NULL;
    }
    if (rc == 0) {
        FAIL (req, NOT_FOUND, field, "no project with id '%.64s'", id);
        return NULL;
    }
    if (project->archived || project->status == PMO__PROJECT_STATUS__PROJECT_STATUS_CANCELLED ||
        project->status == PMO__PROJECT_STATUS__PROJECT_STATUS_COMPLETED) {
        FAIL (req, FAILED_PRECONDITION, field, "project %s is %s: it takes no bookings",
              project->code,
              project->archived                                                  ? "archived"
              : project->status == PMO__PROJECT_STATUS__PROJECT_STATUS_CANCELLED ? "cancelled"
                                                                                 : "completed");
        return NULL;
    }
    return project;
}

Pmo__OrgUnit *allocator_unit (allocator_registry_t *self, pmo_request_t *req, const char *id,
                              const char *field)
{
    if (pmo_str_empty (id) || !pmo_slug_valid (id, 2, 32)) {
        FAIL (req, INVALID, field, "%s '%.40s' is not an org unit id", field, id ? id : "");
        return NULL;
    }
    Pmo__OrgUnit *unit;
    int rc = allocator_registry_unit (self, req->arena, id, &unit);
    if (rc < 0) {
        pmo_request_unavailable (req, ALLOCATOR_REGISTRY);
        return NULL;
    }
    if (rc == 0) {
        FAIL (req, NOT_FOUND, field, "no org unit '%s'", id);
        return NULL;
    }
    if (unit->archived) {
        FAIL (req, FAILED_PRECONDITION, field, "org unit '%s' is archived", id);
        return NULL;
    }
    return unit;
}
