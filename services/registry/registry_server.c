/*  registry_server.c: the project registry actor and its request handlers.

    Every handler follows the same order: check the caller may act here,
    read what the request refers to, validate, build the new state, and
    write it with its event and the reply in one commit. A handler that
    fails at any step has written nothing. A change request whose request id
    was already done is answered with the stored reply.
*/
#include "registry_server.h"
#include "registry_import.h"
#include "registry_model.h"
#include "registry_store.h"

#include "pmo_log.h"
#include "pmo_ping.h"
#include "pmo_reflect.h"
#include "pmo_server.h"
#include "pmo_stream.h"

#include <assert.h>
#include <string.h>

#define IDEM_TTL_S    86400 //  how long a done request's reply is kept for retries
#define LIST_DEFAULT  50
#define LIST_MAX      500
#define LIST_SCAN_MAX 2000 //  entities examined for one page at most
#define ORG_UNITS_MAX 5000

//  A deferred create or update (see s_flush).
typedef struct {
    pmo_request_t *req;
    registry_read_t reads[3]; //  what it reads
    size_t n_first;           //  how many of them go in the batch's first round trip
    pmo_commit_t *commit;     //  its commit, once decided
    Pmo__Event *event;
    const char *division;
    bool sent;  //  queued on the connection
    bool retry; //  to run again on its own
} pending_t;

typedef struct {
    registry_config_t config;
    pmo_redis_t *redis;
    registry_store_t *store;
    pmo_server_t *server;
    zsock_t *pub;
    int64_t started_ms;
    pending_t pending[PMO_SERVER_BATCH]; //  creates and updates waiting for the flush
    size_t n_pending;
    registry_read_t reads[PMO_SERVER_BATCH * 3]; //  their first reads, in one pipeline
} registry_t;

//  ---------------------------------------------------------------------
//  Helpers shared by the handlers

#define FAIL(req, code, field, ...)                                                                \
    pmo_request_fail (req, PMO__ERROR_CODE__ERROR_##code, field, __VA_ARGS__)

static Pmo__RegistryReply *s_reply (pmo_request_t *req)
{
    return (Pmo__RegistryReply *)req->reply;
}

static const Pmo__Identity *s_who (pmo_request_t *req)
{
    return req->header->identity;
}

static void s_unavailable (pmo_request_t *req)
{
    FAIL (req, UNAVAILABLE, "", "the registry's store (Redis) is unavailable; retry shortly");
}

static void s_problem (pmo_request_t *req, const pmo_problem_t *problem, const char *prefix)
{
    char field[160];
    snprintf (field, sizeof field, "%s%s%s", prefix, *problem->field && *prefix ? "." : "",
              problem->field);
    pmo_request_fail (req, problem->code, field, "%s", problem->message);
}

static void s_warn (pmo_request_t *req, const char *text)
{
    Pmo__RegistryReply *reply = s_reply (req);
    char **warnings = pmo_arena_alloc (req->arena, (reply->n_warnings + 1) * sizeof (char *));
    if (reply->n_warnings)
        memcpy (warnings, reply->warnings, reply->n_warnings * sizeof (char *));
    warnings[reply->n_warnings++] = pmo_arena_strdup (req->arena, text);
    reply->warnings = warnings;
}

//  True (and the reply is set) if this request id was already done.
static bool s_replayed (registry_t *self, pmo_request_t *req, const char *division)
{
    return pmo_request_replayed (req, self->redis, division, "the registry's store");
}

//  Read an entity the request names; fails the request if it cannot.
static ProtobufCMessage *s_fetch (registry_t *self, pmo_request_t *req, const registry_kind_t *kind,
                                  const char *id, const char *field, uint64_t *version)
{
    char division[40];
    if (pmo_str_empty (id)) {
        FAIL (req, INVALID, field, "%s is required", field);
        return NULL;
    }
    if (registry_store_division (self->store, kind, id, division, sizeof division)) {
        FAIL (req, INVALID, field, "'%.64s' is not a %s id", id, kind->name);
        return NULL;
    }
    ProtobufCMessage *msg = NULL;
    int rc = registry_store_read (self->store, req->arena, kind, id, &msg, version);
    if (rc < 0) {
        s_unavailable (req);
        return NULL;
    }
    if (rc == 0) {
        FAIL (req, NOT_FOUND, field, "no %s with id '%.64s'", kind->name, id);
        return NULL;
    }
    return msg;
}

//  A live (not archived) org unit named by the request.
static Pmo__OrgUnit *s_fetch_unit (registry_t *self, pmo_request_t *req, const char *id,
                                   const char *field)
{
    Pmo__OrgUnit *unit = (Pmo__OrgUnit *)s_fetch (
        self, req, registry_kind (PMO__ENTITY_KIND__ENTITY_KIND_ORG_UNIT), id, field, NULL);
    if (unit && unit->archived) {
        FAIL (req, FAILED_PRECONDITION, field, "org unit '%s' is archived", id);
        return NULL;
    }
    return unit;
}

//  A live project the caller may see; NOT_FOUND for one it may not, so ids
//  cannot be probed across divisions.
static Pmo__Project *s_fetch_project (registry_t *self, pmo_request_t *req, const char *id,
                                      const char *field, uint64_t *version)
{
    Pmo__Project *project = (Pmo__Project *)s_fetch (
        self, req, registry_kind (PMO__ENTITY_KIND__ENTITY_KIND_PROJECT), id, field, version);
    if (project && !registry_allowed (s_who (req), REGISTRY_READ, project->org_unit_path)) {
        FAIL (req, NOT_FOUND, field, "no project with id '%.64s'", id);
        return NULL;
    }
    return project;
}

static bool s_may (pmo_request_t *req, registry_action_t action, const char *path, const char *what)
{
    if (registry_allowed (s_who (req), action, path))
        return true;
    FAIL (req, FORBIDDEN, "", "%s is not allowed to %s in '%s'", s_who (req)->subject, what, path);
    return false;
}

//  The org units from the root down to path's last unit, in order.
static int s_chain (registry_t *self, pmo_request_t *req, const char *path, Pmo__OrgUnit ***chain,
                    size_t *n)
{
    char *copy = pmo_arena_strdup (req->arena, path);
    char *ids[64];
    size_t count = 0;
    char *save = NULL;
    for (char *part = strtok_r (copy, "/", &save); part && count < 64;
         part = strtok_r (NULL, "/", &save))
        ids[count++] = part;
    ProtobufCMessage **msgs = pmo_arena_alloc (req->arena, (count + 1) * sizeof (void *));
    if (registry_store_read_many (self->store, req->arena,
                                  registry_kind (PMO__ENTITY_KIND__ENTITY_KIND_ORG_UNIT), ids,
                                  count, msgs)) {
        s_unavailable (req);
        return -1;
    }
    for (size_t i = 0; i < count; i++)
        if (!msgs[i]) {
            FAIL (req, INTERNAL, "", "org unit '%s' on path '%s' is missing", ids[i], path);
            return -1;
        }
    *chain = (Pmo__OrgUnit **)msgs;
    *n = count;
    return 0;
}

static Pmo__Event *s_event (pmo_request_t *req, const char *type, const char *division,
                            const char *org_unit, const char *path, ProtobufCMessage *entity)
{
    Pmo__Event *event = pmo_arena_alloc (req->arena, sizeof (Pmo__Event));
    pmo__event__init (event);
    event->type = (char *)type;
    event->division = (char *)division;
    event->org_unit = (char *)org_unit;
    event->org_unit_path = (char *)path;
    event->entity_id = (char *)pmo_reflect_str (entity, "id");
    event->entity_version = pmo_reflect_u64 (entity, "version");
    event->time_ms = pmo_now_ms ();
    event->actor = s_who (req)->subject;
    event->request_id = req->header->request_id;
    event->source = "registry";
    const registry_kind_t *kind = registry_kind_of (entity->descriptor);
    pmo_reflect_set_oneof (&event->base, kind->event_field, entity);
    return event;
}

//  Finish a change: the reply (already filled) is stored with the commit;
//  on success the event is published with its stream id.
static void s_commit_prepare (registry_t *self, pmo_request_t *req, pmo_commit_t *commit,
                              const char *division, Pmo__Event *event)
{
    registry_store_event (self->store, commit, req->arena, division, event);
    size_t size;
    uint8_t *blob = pmo_reflect_pack (req->reply, req->arena, &size);
    pmo_commit_reply (commit, blob, size, IDEM_TTL_S);
}

//  Answer from a commit's result: publish the event, or fail the request.
static void s_commit_finish (registry_t *self, pmo_request_t *req, pmo_commit_result_t *result,
                             const char *division, Pmo__Event *event)
{
    switch (result->status) {
    case PMO_COMMIT_OK: {
        event->id = result->stream_id;
        size_t esize;
        uint8_t *eblob = pmo_reflect_pack (&event->base, req->arena, &esize);
        zmsg_t *msg = zmsg_new ();
        zmsg_addstrf (msg, "%s.%s", division, event->type);
        zmsg_addmem (msg, eblob, esize);
        zmsg_send (&msg, self->pub);
        pmo_debug ("registry: committed type=%s id=%s stream_id=%s", event->type, event->entity_id,
                   result->stream_id);
        break;
    }
    case PMO_COMMIT_DUPLICATE:
        req->raw_reply = pmo_arena_memdup (req->arena, result->previous, result->previous_size);
        req->raw_size = result->previous_size;
        break;
    case PMO_COMMIT_CONFLICT:
        FAIL (req, CONFLICT, "version",
              "the %s changed since you read it (now version %llu); read it again and retry",
              event->entity_id, (unsigned long long)result->actual_version);
        break;
    case PMO_COMMIT_TAKEN:
        FAIL (req, ALREADY_EXISTS, "code", "that code is already used in the division (%s)",
              result->key);
        break;
    case PMO_COMMIT_UNAVAILABLE:
        s_unavailable (req);
        break;
    case PMO_COMMIT_ERROR:
        FAIL (req, INTERNAL, "", "the store refused the commit; nothing was written");
        break;
    }
}

static void s_commit (registry_t *self, pmo_request_t *req, pmo_commit_t *commit,
                      const char *division, Pmo__Event *event)
{
    s_commit_prepare (self, req, commit, division, event);
    pmo_commit_result_t result;
    pmo_commit_exec (commit, self->redis, &result);
    pmo_commit_destroy (&commit);
    s_commit_finish (self, req, &result, division, event);
    pmo_commit_result_clear (&result);
}

static void s_set_reply (pmo_request_t *req, ProtobufCMessage *entity)
{
    pmo_reflect_set_oneof (req->reply, registry_kind_of (entity->descriptor)->reply_field, entity);
}

//  Stamp a new entity's bookkeeping fields.
static void s_stamp_new (pmo_request_t *req, ProtobufCMessage *msg, const char *id)
{
    int64_t now = pmo_now_ms ();
    pmo_reflect_set_str (msg, "id", id, req->arena);
    pmo_reflect_set_u64 (msg, "version", 1);
    if (pmo_reflect_has (msg->descriptor, "created_ms"))
        pmo_reflect_set_i64 (msg, "created_ms", now);
    if (pmo_reflect_has (msg->descriptor, "updated_ms"))
        pmo_reflect_set_i64 (msg, "updated_ms", now);
    if (pmo_reflect_has (msg->descriptor, "archived"))
        pmo_reflect_set_bool (msg, "archived", false);
}

//  Carry an entity's bookkeeping over an update and bump its version.
static void s_stamp_update (pmo_request_t *req, ProtobufCMessage *next,
                            const ProtobufCMessage *stored, uint64_t version)
{
    pmo_reflect_set_u64 (next, "version", version + 1);
    if (pmo_reflect_has (next->descriptor, "created_ms"))
        pmo_reflect_set_i64 (next, "created_ms", pmo_reflect_i64 (stored, "created_ms"));
    if (pmo_reflect_has (next->descriptor, "updated_ms"))
        pmo_reflect_set_i64 (next, "updated_ms", pmo_now_ms ());
    if (pmo_reflect_has (next->descriptor, "archived"))
        pmo_reflect_set_bool (next, "archived", pmo_reflect_bool (stored, "archived"));
}

static bool s_version_matches (pmo_request_t *req, const char *what, uint64_t asked,
                               uint64_t stored)
{
    if (asked == stored)
        return true;
    if (asked == 0)
        FAIL (req, INVALID, "version", "version is required: the version of the %s you read", what);
    else
        FAIL (req, CONFLICT, "version",
              "the %s changed since you read it: you have version %llu, it is now %llu", what,
              (unsigned long long)asked, (unsigned long long)stored);
    return false;
}

//  ---------------------------------------------------------------------
//  Org units

static void s_fill_effective (registry_t *self, pmo_request_t *req, Pmo__OrgUnit *unit)
{
    Pmo__OrgUnit **chain;
    size_t n;
    if (s_chain (self, req, unit->path, &chain, &n))
        return;
    chain[n - 1] = unit;
    unit->effective_pmo_type = registry_effective_type (chain, n);
    unit->effective_policy = registry_effective_policy (chain, n, req->arena);
}

static void s_handle_create_org_unit (registry_t *self, pmo_request_t *req, Pmo__OrgUnit *unit)
{
    pmo_problem_t problem;
    if (registry_check_org_unit (unit, &problem))
        return s_problem (req, &problem, "create_org_unit");
    const char *hub = registry_store_hub (self->store);
    Pmo__OrgUnit *parent = NULL;
    Pmo__OrgUnit **ancestors = NULL;
    size_t n_ancestors = 0;
    if (unit->kind == PMO__ORG_UNIT_KIND__ORG_UNIT_KIND_ENTERPRISE) {
        if (strcmp (unit->id, hub) != 0)
            return (void)FAIL (req, INVALID, "create_org_unit.id",
                               "the enterprise unit's id must be '%s' (the hub id this "
                               "registry is configured with)",
                               hub);
        unit->path = unit->id;
        unit->division = unit->id;
    } else {
        parent = s_fetch_unit (self, req, unit->parent, "create_org_unit.parent");
        if (!parent)
            return;
        bool division = unit->kind == PMO__ORG_UNIT_KIND__ORG_UNIT_KIND_DIVISION;
        if (division && parent->kind != PMO__ORG_UNIT_KIND__ORG_UNIT_KIND_ENTERPRISE)
            return (void)FAIL (req, INVALID, "create_org_unit.parent",
                               "a division's parent is the enterprise, not '%s'", parent->id);
        if (!division && parent->kind == PMO__ORG_UNIT_KIND__ORG_UNIT_KIND_ENTERPRISE)
            return (void)FAIL (req, INVALID, "create_org_unit.parent",
                               "a department sits in a division or department, not the "
                               "enterprise");
        if (strcmp (unit->id, hub) == 0)
            return (void)FAIL (req, ALREADY_EXISTS, "create_org_unit.id", "'%s' is the hub's id",
                               unit->id);
        unit->path = pmo_arena_printf (req->arena, "%s/%s", parent->path, unit->id);
        unit->division = division ? unit->id : parent->division;
        if (s_chain (self, req, parent->path, &ancestors, &n_ancestors))
            return;
        if (registry_check_policy (ancestors, n_ancestors, unit, &problem))
            return s_problem (req, &problem, "create_org_unit");
    }
    if (!s_may (req, REGISTRY_ADMIN_ORG, unit->path, "create org units"))
        return;
    if (s_replayed (self, req, hub))
        return;
    const registry_kind_t *kind = registry_kind (PMO__ENTITY_KIND__ENTITY_KIND_ORG_UNIT);
    ProtobufCMessage *existing;
    int rc = registry_store_read (self->store, req->arena, kind, unit->id, &existing, NULL);
    if (rc < 0)
        return s_unavailable (req);
    if (rc == 1)
        return (void)FAIL (req, ALREADY_EXISTS, "create_org_unit.id",
                           "an org unit with id '%s' exists", unit->id);
    s_stamp_new (req, &unit->base, unit->id);
    unit->effective_policy = NULL;
    unit->effective_pmo_type = PMO__PMO_TYPE__PMO_TYPE_NONE;
    pmo_commit_t *commit = registry_store_commit (self->store, hub, req->header->request_id);
    registry_store_put (self->store, commit, req->arena, hub, &unit->base, 0);
    registry_store_index (self->store, commit, req->arena, kind, hub, NULL, unit->id, true);
    Pmo__Event *event = s_event (req, "org_unit.created", hub, unit->id, unit->path, &unit->base);
    s_set_reply (req, &unit->base);
    s_commit (self, req, commit, hub, event);
}

static void s_handle_update_org_unit (registry_t *self, pmo_request_t *req, Pmo__OrgUnit *next)
{
    const char *hub = registry_store_hub (self->store);
    uint64_t version;
    Pmo__OrgUnit *stored =
        (Pmo__OrgUnit *)s_fetch (self, req, registry_kind (PMO__ENTITY_KIND__ENTITY_KIND_ORG_UNIT),
                                 next->id, "update_org_unit.id", &version);
    if (!stored)
        return;
    if (!s_may (req, REGISTRY_ADMIN_ORG, stored->path, "change org units"))
        return;
    if (s_replayed (self, req, hub))
        return;
    if (next->kind != stored->kind ||
        strcmp (next->parent ? next->parent : "", stored->parent) != 0)
        return (void)FAIL (req, INVALID, "update_org_unit.parent",
                           "an org unit's kind and parent do not change");
    pmo_problem_t problem;
    if (registry_check_org_unit (next, &problem))
        return s_problem (req, &problem, "update_org_unit");
    if (!s_version_matches (req, "org unit", next->version, version))
        return;
    if (!pmo_str_empty (stored->parent)) {
        Pmo__OrgUnit **ancestors;
        size_t n;
        const char *slash = strrchr (stored->path, '/');
        char *parent_path = pmo_arena_strdup (req->arena, stored->path);
        parent_path[slash - stored->path] = 0;
        if (s_chain (self, req, parent_path, &ancestors, &n))
            return;
        if (registry_check_policy (ancestors, n, next, &problem))
            return s_problem (req, &problem, "update_org_unit");
    }
    next->path = stored->path;
    next->division = stored->division;
    next->effective_policy = NULL;
    next->effective_pmo_type = PMO__PMO_TYPE__PMO_TYPE_NONE;
    s_stamp_update (req, &next->base, &stored->base, version);
    pmo_commit_t *commit = registry_store_commit (self->store, hub, req->header->request_id);
    registry_store_put (self->store, commit, req->arena, hub, &next->base, version);
    Pmo__Event *event = s_event (req, "org_unit.updated", hub, next->id, next->path, &next->base);
    s_set_reply (req, &next->base);
    s_commit (self, req, commit, hub, event);
}

//  ---------------------------------------------------------------------
//  Portfolios and programmes

//  Check that the container (a portfolio or programme) can hold something in
//  the unit at path: it must be in the same division and sit at or above the
//  unit, and it must be live unless the record already belonged to it (kept):
//  archiving a portfolio stops new members, it does not freeze the old ones.
static ProtobufCMessage *s_container (registry_t *self, pmo_request_t *req, Pmo__EntityKind kind,
                                      const char *id, const char *field, const char *division,
                                      const char *path, const char *kept)
{
    ProtobufCMessage *msg = s_fetch (self, req, registry_kind (kind), id, field, NULL);
    if (!msg)
        return NULL;
    const char *unit = pmo_reflect_str (msg, "org_unit");
    char their[40];
    registry_store_division (self->store, registry_kind (kind), id, their, sizeof their);
    if (pmo_reflect_bool (msg, "archived") && !(kept && strcmp (kept, id) == 0)) {
        FAIL (req, FAILED_PRECONDITION, field, "'%s' is archived", id);
        return NULL;
    }
    if (strcmp (their, division) != 0 || !pmo_path_contains (path, unit)) {
        FAIL (req, INVALID, field, "'%s' belongs to '%s', which is not at or above '%s'", id, unit,
              path);
        return NULL;
    }
    return msg;
}

static void s_create_grouping (registry_t *self, pmo_request_t *req, ProtobufCMessage *msg,
                               const char *field)
{
    const registry_kind_t *kind = registry_kind_of (msg->descriptor);
    Pmo__OrgUnit *unit = s_fetch_unit (self, req, pmo_reflect_str (msg, "org_unit"),
                                       pmo_arena_printf (req->arena, "%s.org_unit", field));
    if (!unit || !s_may (req, REGISTRY_WRITE_PORTFOLIO, unit->path, "create portfolios"))
        return;
    if (s_replayed (self, req, unit->division))
        return;
    if (kind->kind == PMO__ENTITY_KIND__ENTITY_KIND_PROGRAMME) {
        Pmo__Programme *programme = (Pmo__Programme *)msg;
        if (!pmo_str_empty (programme->portfolio_id) &&
            !s_container (self, req, PMO__ENTITY_KIND__ENTITY_KIND_PORTFOLIO,
                          programme->portfolio_id,
                          pmo_arena_printf (req->arena, "%s.portfolio_id", field), unit->division,
                          unit->path, NULL))
            return;
    }
    char *id;
    uint64_t seq;
    if (registry_store_next_id (self->store, req->arena, kind, unit->division, &id, &seq))
        return s_unavailable (req);
    s_stamp_new (req, msg, id);
    pmo_reflect_set_str (msg, "org_unit_path", unit->path, req->arena);
    pmo_commit_t *commit =
        registry_store_commit (self->store, unit->division, req->header->request_id);
    registry_store_put (self->store, commit, req->arena, unit->division, msg, 0);
    registry_store_claim_code (self->store, commit, req->arena, kind, unit->division,
                               pmo_reflect_str (msg, "code"), id, true);
    registry_store_index (self->store, commit, req->arena, kind, unit->division, unit->id, id,
                          true);
    Pmo__Event *event = s_event (req, pmo_arena_printf (req->arena, "%s.created", kind->name),
                                 unit->division, unit->id, unit->path, msg);
    s_set_reply (req, msg);
    s_commit (self, req, commit, unit->division, event);
}

static void s_update_grouping (registry_t *self, pmo_request_t *req, ProtobufCMessage *next,
                               const char *field)
{
    const registry_kind_t *kind = registry_kind_of (next->descriptor);
    uint64_t version;
    ProtobufCMessage *stored = s_fetch (self, req, kind, pmo_reflect_str (next, "id"),
                                        pmo_arena_printf (req->arena, "%s.id", field), &version);
    if (!stored)
        return;
    const char *path = pmo_reflect_str (stored, "org_unit_path");
    if (!registry_allowed (s_who (req), REGISTRY_READ, path))
        return (void)FAIL (req, NOT_FOUND, pmo_arena_printf (req->arena, "%s.id", field),
                           "no %s with id '%s'", kind->name, pmo_reflect_str (next, "id"));
    if (!s_may (req, REGISTRY_WRITE_PORTFOLIO, path, "change portfolios"))
        return;
    char division[40];
    registry_store_division (self->store, kind, pmo_reflect_str (next, "id"), division,
                             sizeof division);
    if (s_replayed (self, req, division))
        return;
    if (strcmp (pmo_reflect_str (next, "org_unit"), pmo_reflect_str (stored, "org_unit")) != 0)
        return (void)FAIL (req, INVALID, pmo_arena_printf (req->arena, "%s.org_unit", field),
                           "a %s stays in its org unit", kind->name);
    if (!s_version_matches (req, kind->name, pmo_reflect_u64 (next, "version"), version))
        return;
    if (kind->kind == PMO__ENTITY_KIND__ENTITY_KIND_PROGRAMME) {
        Pmo__Programme *programme = (Pmo__Programme *)next;
        if (!pmo_str_empty (programme->portfolio_id) &&
            !s_container (self, req, PMO__ENTITY_KIND__ENTITY_KIND_PORTFOLIO,
                          programme->portfolio_id,
                          pmo_arena_printf (req->arena, "%s.portfolio_id", field), division, path,
                          pmo_reflect_str (stored, "portfolio_id")))
            return;
    }
    s_stamp_update (req, next, stored, version);
    pmo_reflect_set_str (next, "org_unit_path", path, req->arena);
    pmo_commit_t *commit = registry_store_commit (self->store, division, req->header->request_id);
    registry_store_put (self->store, commit, req->arena, division, next, version);
    const char *old_code = pmo_reflect_str (stored, "code");
    const char *new_code = pmo_reflect_str (next, "code");
    if (strcmp (old_code, new_code) != 0) {
        registry_store_claim_code (self->store, commit, req->arena, kind, division, old_code, NULL,
                                   false);
        registry_store_claim_code (self->store, commit, req->arena, kind, division, new_code,
                                   pmo_reflect_str (next, "id"), true);
    }
    Pmo__Event *event = s_event (req, pmo_arena_printf (req->arena, "%s.updated", kind->name),
                                 division, pmo_reflect_str (next, "org_unit"), path, next);
    s_set_reply (req, next);
    s_commit (self, req, commit, division, event);
}

static int s_check_grouping (pmo_request_t *req, ProtobufCMessage *msg, const char *field)
{
    pmo_problem_t problem;
    int rc = msg->descriptor == &pmo__portfolio__descriptor
                 ? registry_check_portfolio ((Pmo__Portfolio *)msg, &problem)
                 : registry_check_programme ((Pmo__Programme *)msg, &problem);
    if (rc)
        s_problem (req, &problem, field);
    return rc;
}

//  ---------------------------------------------------------------------
//  Projects

//  Check a project's references: portfolio, programme and dependencies.
static int s_check_references (registry_t *self, pmo_request_t *req, Pmo__Project *project,
                               const Pmo__Project *stored, const char *field, Pmo__OrgUnit *unit)
{
    if (!pmo_str_empty (project->programme_id)) {
        Pmo__Programme *programme = (Pmo__Programme *)s_container (
            self, req, PMO__ENTITY_KIND__ENTITY_KIND_PROGRAMME, project->programme_id,
            pmo_arena_printf (req->arena, "%s.programme_id", field), unit->division, unit->path,
            stored ? stored->programme_id : NULL);
        if (!programme)
            return -1;
        if (!pmo_str_empty (programme->portfolio_id)) {
            if (pmo_str_empty (project->portfolio_id))
                project->portfolio_id = programme->portfolio_id;
            else if (strcmp (project->portfolio_id, programme->portfolio_id) != 0) {
                FAIL (req, INVALID, pmo_arena_printf (req->arena, "%s.portfolio_id", field),
                      "programme '%s' is in portfolio '%s', not '%s'", programme->id,
                      programme->portfolio_id, project->portfolio_id);
                return -1;
            }
        }
    }
    if (!pmo_str_empty (project->portfolio_id) &&
        !s_container (self, req, PMO__ENTITY_KIND__ENTITY_KIND_PORTFOLIO, project->portfolio_id,
                      pmo_arena_printf (req->arena, "%s.portfolio_id", field), unit->division,
                      unit->path, stored ? stored->portfolio_id : NULL))
        return -1;
    if (project->n_depends_on) {
        ProtobufCMessage **found =
            pmo_arena_alloc (req->arena, project->n_depends_on * sizeof (void *));
        if (registry_store_read_many (self->store, req->arena,
                                      registry_kind (PMO__ENTITY_KIND__ENTITY_KIND_PROJECT),
                                      project->depends_on, project->n_depends_on, found)) {
            s_unavailable (req);
            return -1;
        }
        for (size_t i = 0; i < project->n_depends_on; i++)
            if (!found[i]) {
                FAIL (req, NOT_FOUND, pmo_arena_printf (req->arena, "%s.depends_on[%zu]", field, i),
                      "no project with id '%s'", project->depends_on[i]);
                return -1;
            }
    }
    return 0;
}

//  ---------------------------------------------------------------------
//  Creating and updating projects: the hot writes, answered in batches
//
//  The engine hands over every request waiting on the socket before it asks
//  for a flush. A create or update only declares what it must read and is
//  deferred; the flush then sends the reads of the whole batch in one Redis
//  round trip, decides each request on what came back, and sends all their
//  commits in a second round trip. Requests of one batch decide on the same
//  snapshot; that is safe because each commit re-checks, atomically, what it
//  relies on (versions, unique codes, the request id).

//  A stored reply read with the request's other reads: answer with it.
static bool s_replay_found (pmo_request_t *req, const registry_read_t *replay)
{
    if (!replay->found)
        return false;
    req->raw_reply = replay->blob;
    req->raw_size = replay->size;
    pmo_debug ("registry: replay request_id=%s", req->header->request_id);
    return true;
}

//  The org unit a request names, read with its other reads: a live unit, or
//  the request fails naming the field.
static Pmo__OrgUnit *s_unit_read (pmo_request_t *req, const registry_read_t *read,
                                  const char *field)
{
    if (pmo_str_empty (read->id))
        FAIL (req, INVALID, field, "%s is required", field);
    else if (!read->found)
        FAIL (req, NOT_FOUND, field, "no org_unit with id '%.64s'", read->id);
    else if (((Pmo__OrgUnit *)read->msg)->archived)
        FAIL (req, FAILED_PRECONDITION, field, "org unit '%s' is archived", read->id);
    else
        return (Pmo__OrgUnit *)read->msg;
    return NULL;
}

//  Queue a deferred request with its reads for the flush.
static void s_pend (registry_t *self, pmo_request_t *req, const registry_read_t *reads, size_t n)
{
    pending_t *pending = &self->pending[self->n_pending++];
    memset (pending, 0, sizeof *pending);
    pending->req = req;
    for (size_t i = 0; i < 3; i++) {
        pending->reads[i] = reads[i];
        pending->reads[i].arena = req->arena;
    }
    pending->n_first = n;
    pmo_request_defer (req);
}

static void s_begin_create_project (registry_t *self, pmo_request_t *req, Pmo__Project *project)
{
    pmo_problem_t problem;
    project->id = NULL;
    if (registry_check_project (project, &problem))
        return s_problem (req, &problem, "create_project");
    //  When this process knows where the unit sits (its division never
    //  changes), the unit, the stored reply of a retry and a new id are read
    //  together; otherwise the unit first, and the rest when deciding.
    const char *division = NULL, *path = NULL;
    bool placed = registry_store_place (self->store, project->org_unit, &division, &path);
    registry_read_t reads[3] = {
        {.op = REGISTRY_READ_ENTITY,
         .kind = registry_kind (PMO__ENTITY_KIND__ENTITY_KIND_ORG_UNIT),
         .id = project->org_unit},
        {.op = REGISTRY_READ_REPLAY, .division = division, .request_id = req->header->request_id},
        {.op = REGISTRY_READ_NEXT_ID,
         .kind = registry_kind (PMO__ENTITY_KIND__ENTITY_KIND_PROJECT),
         .division = division},
    };
    s_pend (self, req, reads, placed ? 3 : 1);
}

static void s_decide_create_project (registry_t *self, pending_t *pending)
{
    pmo_request_t *req = pending->req;
    Pmo__Project *project = ((Pmo__RegistryRequest *)req->request)->create_project;
    const registry_kind_t *kind = registry_kind (PMO__ENTITY_KIND__ENTITY_KIND_PROJECT);
    registry_read_t *reads = pending->reads;
    Pmo__OrgUnit *unit = s_unit_read (req, &reads[0], "create_project.org_unit");
    if (!unit || !s_may (req, REGISTRY_WRITE_PROJECT, unit->path, "create projects"))
        return;
    if (pending->n_first == 1) {
        //  The first project in this unit since start: now the division is known
        reads[1].division = reads[2].division = unit->division;
        if (registry_store_read_all (self->store, req->arena, reads + 1, 2))
            return s_unavailable (req);
    }
    if (s_replay_found (req, &reads[1]))
        return;
    if (s_check_references (self, req, project, NULL, "create_project", unit))
        return;
    char *id = reads[2].new_id;
    s_stamp_new (req, &project->base, id);
    project->org_unit_path = unit->path;
    project->division = unit->division;
    project->created_by = s_who (req)->subject;
    if (!project->priority)
        project->priority = 3;
    if (project->phase == PMO__PHASE__PHASE_UNSPECIFIED)
        project->phase = PMO__PHASE__PHASE_INITIATION;
    if (project->status == PMO__PROJECT_STATUS__PROJECT_STATUS_UNSPECIFIED)
        project->status = PMO__PROJECT_STATUS__PROJECT_STATUS_PROPOSED;
    pmo_commit_t *commit =
        registry_store_commit (self->store, unit->division, req->header->request_id);
    registry_store_put (self->store, commit, req->arena, unit->division, &project->base, 0);
    registry_store_claim_code (self->store, commit, req->arena, kind, unit->division, project->code,
                               id, true);
    registry_store_index (self->store, commit, req->arena, kind, unit->division, unit->id, id,
                          true);
    pending->event =
        s_event (req, "project.created", unit->division, unit->id, unit->path, &project->base);
    s_set_reply (req, &project->base);
    pending->division = unit->division;
    pending->commit = commit;
}

static void s_begin_update_project (registry_t *self, pmo_request_t *req, Pmo__Project *next)
{
    char *division = pmo_arena_alloc (req->arena, 40);
    if (pmo_str_empty (next->id))
        return (void)FAIL (req, INVALID, "update_project.id", "update_project.id is required");
    if (registry_store_division (self->store, registry_kind (PMO__ENTITY_KIND__ENTITY_KIND_PROJECT),
                                 next->id, division, 40))
        return (void)FAIL (req, INVALID, "update_project.id", "'%.64s' is not a project id",
                           next->id);
    registry_read_t reads[3] = {
        {.op = REGISTRY_READ_ENTITY,
         .kind = registry_kind (PMO__ENTITY_KIND__ENTITY_KIND_PROJECT),
         .id = next->id},
        {.op = REGISTRY_READ_REPLAY, .division = division, .request_id = req->header->request_id},
        {.op = REGISTRY_READ_ENTITY,
         .kind = registry_kind (PMO__ENTITY_KIND__ENTITY_KIND_ORG_UNIT),
         .id = next->org_unit},
    };
    s_pend (self, req, reads, 3);
}

static void s_decide_update_project (registry_t *self, pending_t *pending)
{
    pmo_request_t *req = pending->req;
    Pmo__Project *next = ((Pmo__RegistryRequest *)req->request)->update_project;
    const registry_kind_t *kind = registry_kind (PMO__ENTITY_KIND__ENTITY_KIND_PROJECT);
    registry_read_t *reads = pending->reads;
    Pmo__Project *stored = (Pmo__Project *)reads[0].msg;
    uint64_t version = reads[0].version;
    //  Not found and not visible look the same, so ids cannot be probed
    if (!reads[0].found || !registry_allowed (s_who (req), REGISTRY_READ, stored->org_unit_path))
        return (void)FAIL (req, NOT_FOUND, "update_project.id", "no project with id '%.64s'",
                           next->id);
    if (!s_may (req, REGISTRY_WRITE_PROJECT, stored->org_unit_path, "change projects"))
        return;
    if (s_replay_found (req, &reads[1]))
        return;
    pmo_problem_t problem;
    if (registry_check_project (next, &problem))
        return s_problem (req, &problem, "update_project");
    if (!s_version_matches (req, "project", next->version, version))
        return;
    if (next->phase != stored->phase)
        return (void)FAIL (req, FAILED_PRECONDITION, "update_project.phase",
                           "the phase changes only through its gate: use change_phase or "
                           "decide_gate");
    Pmo__OrgUnit *unit = s_unit_read (req, &reads[2], "update_project.org_unit");
    if (!unit)
        return;
    if (strcmp (unit->division, stored->division) != 0)
        return (void)FAIL (req, INVALID, "update_project.org_unit",
                           "a project moves only within its division ('%s')", stored->division);
    bool moved = strcmp (unit->id, stored->org_unit) != 0;
    if (moved && !s_may (req, REGISTRY_WRITE_PROJECT, unit->path, "move projects"))
        return;
    if (s_check_references (self, req, next, stored, "update_project", unit))
        return;
    s_stamp_update (req, &next->base, &stored->base, version);
    next->org_unit_path = unit->path;
    next->division = stored->division;
    next->created_by = stored->created_by;
    if (!next->priority)
        next->priority = 3;
    pmo_commit_t *commit =
        registry_store_commit (self->store, stored->division, req->header->request_id);
    registry_store_put (self->store, commit, req->arena, stored->division, &next->base, version);
    if (strcmp (stored->code, next->code) != 0) {
        registry_store_claim_code (self->store, commit, req->arena, kind, stored->division,
                                   stored->code, NULL, false);
        registry_store_claim_code (self->store, commit, req->arena, kind, stored->division,
                                   next->code, next->id, true);
    }
    if (moved) {
        registry_store_index (self->store, commit, req->arena, kind, stored->division,
                              stored->org_unit, next->id, false);
        registry_store_index (self->store, commit, req->arena, kind, stored->division, unit->id,
                              next->id, true);
    }
    pending->event =
        s_event (req, "project.updated", stored->division, unit->id, unit->path, &next->base);
    s_set_reply (req, &next->base);
    pending->division = stored->division;
    pending->commit = commit;
}

//  Finish every deferred request: one round trip for all their reads, one
//  for all their commits.
static void s_flush (void *state)
{
    registry_t *self = state;
    size_t n_reads = 0;
    for (size_t i = 0; i < self->n_pending; i++)
        for (size_t j = 0; j < self->pending[i].n_first; j++)
            self->reads[n_reads++] = self->pending[i].reads[j];
    if (registry_store_read_all (self->store, NULL, self->reads, n_reads)) {
        for (size_t i = 0; i < self->n_pending; i++)
            s_unavailable (self->pending[i].req);
        self->n_pending = 0;
        return;
    }
    n_reads = 0;
    for (size_t i = 0; i < self->n_pending; i++)
        for (size_t j = 0; j < self->pending[i].n_first; j++)
            self->pending[i].reads[j] = self->reads[n_reads++];
    for (size_t i = 0; i < self->n_pending; i++) {
        pending_t *pending = &self->pending[i];
        Pmo__RegistryRequest *r = (Pmo__RegistryRequest *)pending->req->request;
        if (r->body_case == PMO__REGISTRY_REQUEST__BODY_CREATE_PROJECT)
            s_decide_create_project (self, pending);
        else
            s_decide_update_project (self, pending);
    }
    //  Queue every commit, then read their results in order
    for (size_t i = 0; i < self->n_pending; i++) {
        pending_t *pending = &self->pending[i];
        if (!pending->commit)
            continue;
        s_commit_prepare (self, pending->req, pending->commit, pending->division, pending->event);
        pending->sent = pmo_commit_send (pending->commit, self->redis) == 0;
    }
    for (size_t i = 0; i < self->n_pending; i++) {
        pending_t *pending = &self->pending[i];
        if (!pending->commit)
            continue;
        pmo_commit_result_t result = {.status = PMO_COMMIT_UNAVAILABLE};
        if (pending->sent)
            pmo_commit_recv (self->redis, &result);
        //  Not sent, or lost with the connection, or Redis forgot the script
        //  (a restart): try once more on its own. Safe, because a commit that
        //  did happen answers with its stored reply.
        if (result.status == PMO_COMMIT_UNAVAILABLE) {
            pending->retry = true;
            continue;
        }
        s_commit_finish (self, pending->req, &result, pending->division, pending->event);
        pmo_commit_result_clear (&result);
    }
    for (size_t i = 0; i < self->n_pending; i++) {
        pending_t *pending = &self->pending[i];
        if (pending->retry) {
            pmo_commit_result_t result;
            pmo_commit_exec (pending->commit, self->redis, &result);
            s_commit_finish (self, pending->req, &result, pending->division, pending->event);
            pmo_commit_result_clear (&result);
        }
        pmo_commit_destroy (&pending->commit);
    }
    self->n_pending = 0;
}

//  The gate into to_phase for a project: its PMO type and policy in force.
static int s_gate_context (registry_t *self, pmo_request_t *req, Pmo__Project *project,
                           Pmo__PmoType *type, Pmo__Policy **policy)
{
    Pmo__OrgUnit **chain;
    size_t n;
    if (s_chain (self, req, project->org_unit_path, &chain, &n))
        return -1;
    *type = registry_effective_type (chain, n);
    *policy = registry_effective_policy (chain, n, req->arena);
    return 0;
}

static char *s_join (pmo_arena_t *arena, char **items, size_t n)
{
    size_t len = 1;
    for (size_t i = 0; i < n; i++)
        len += strlen (items[i]) + 2;
    char *out = pmo_arena_alloc (arena, len);
    for (size_t i = 0; i < n; i++) {
        if (i)
            strcat (out, ", ");
        strcat (out, items[i]);
    }
    return out;
}

static bool s_next_phase_ok (pmo_request_t *req, Pmo__Project *project, Pmo__Phase to,
                             const char *field)
{
    Pmo__Phase next = registry_next_phase (project->phase);
    if (project->archived) {
        FAIL (req, FAILED_PRECONDITION, field, "project %s is archived", project->id);
        return false;
    }
    if (project->status == PMO__PROJECT_STATUS__PROJECT_STATUS_CANCELLED) {
        FAIL (req, FAILED_PRECONDITION, field, "project %s was stopped (cancelled)", project->id);
        return false;
    }
    if (to != next || next == PMO__PHASE__PHASE_UNSPECIFIED) {
        FAIL (req, FAILED_PRECONDITION, field, "project %s is in %s; the next gate leads into %s",
              project->id, registry_phase_name (project->phase),
              next ? registry_phase_name (next) : "nothing (it is closed)");
        return false;
    }
    return true;
}

static void s_enter_phase (Pmo__Project *project, Pmo__Phase to)
{
    project->phase = to;
    if (to == PMO__PHASE__PHASE_CLOSED)
        project->status = PMO__PROJECT_STATUS__PROJECT_STATUS_COMPLETED;
    else if (to == PMO__PHASE__PHASE_EXECUTION &&
             (project->status == PMO__PROJECT_STATUS__PROJECT_STATUS_PROPOSED ||
              project->status == PMO__PROJECT_STATUS__PROJECT_STATUS_APPROVED))
        project->status = PMO__PROJECT_STATUS__PROJECT_STATUS_ACTIVE;
}

static void s_handle_change_phase (registry_t *self, pmo_request_t *req,
                                   Pmo__PhaseChangeRequest *change)
{
    uint64_t version;
    Pmo__Project *project =
        s_fetch_project (self, req, change->project_id, "change_phase.project_id", &version);
    if (!project ||
        !s_may (req, REGISTRY_WRITE_PROJECT, project->org_unit_path, "change project phases"))
        return;
    if (s_replayed (self, req, project->division))
        return;
    if (!s_version_matches (req, "project", change->version, version) ||
        !s_next_phase_ok (req, project, change->to_phase, "change_phase.to_phase"))
        return;
    Pmo__PmoType type;
    Pmo__Policy *policy;
    if (s_gate_context (self, req, project, &type, &policy))
        return;
    registry_gate_t gate;
    registry_gate_evaluate (type, policy, project, change->to_phase, req->arena, &gate);
    const char *into = registry_phase_name (change->to_phase);
    switch (gate.verdict) {
    case REGISTRY_GATE_NEEDS_DECISION:
        return (void)FAIL (req, FAILED_PRECONDITION, "change_phase.to_phase",
                           "a directive PMO governs %s: the gate into %s needs a recorded "
                           "decision by an approver (decide_gate)",
                           project->org_unit_path, into);
    case REGISTRY_GATE_MISSING:
        s_reply (req)->missing_artifacts = gate.missing;
        s_reply (req)->n_missing_artifacts = gate.n_missing;
        return (void)FAIL (req, FAILED_PRECONDITION, "change_phase.to_phase",
                           "a controlling PMO requires these artifacts before the gate into "
                           "%s: %s",
                           into, s_join (req->arena, gate.missing, gate.n_missing));
    case REGISTRY_GATE_ALLOW_WARN:
        s_warn (req, pmo_arena_printf (req->arena,
                                       "gate into %s: missing %s (supportive PMO: advice only)",
                                       into, s_join (req->arena, gate.missing, gate.n_missing)));
        s_reply (req)->missing_artifacts = gate.missing;
        s_reply (req)->n_missing_artifacts = gate.n_missing;
        break;
    case REGISTRY_GATE_ALLOW:
        break;
    }
    Pmo__Project *stored = (Pmo__Project *)pmo_reflect_copy (&project->base, req->arena);
    s_enter_phase (project, change->to_phase);
    s_stamp_update (req, &project->base, &stored->base, version);
    pmo_commit_t *commit =
        registry_store_commit (self->store, project->division, req->header->request_id);
    registry_store_put (self->store, commit, req->arena, project->division, &project->base,
                        version);
    Pmo__Event *event = s_event (req, "project.phase_changed", project->division, project->org_unit,
                                 project->org_unit_path, &project->base);
    s_set_reply (req, &project->base);
    s_commit (self, req, commit, project->division, event);
}

static void s_handle_decide_gate (registry_t *self, pmo_request_t *req,
                                  Pmo__GateDecisionRequest *decide)
{
    uint64_t version;
    Pmo__Project *project =
        s_fetch_project (self, req, decide->project_id, "decide_gate.project_id", &version);
    if (!project)
        return;
    //  A retry is answered before the checks below: the first attempt has
    //  changed the project's version and phase.
    if (s_replayed (self, req, project->division))
        return;
    if (decide->outcome == PMO__GATE_OUTCOME__GATE_OUTCOME_UNSPECIFIED)
        return (void)FAIL (req, INVALID, "decide_gate.outcome",
                           "outcome is required: go, conditional_go, hold, recycle or stop");
    if (pmo_str_empty (decide->rationale) || strlen (decide->rationale) > 10000 ||
        !pmo_text_valid (decide->rationale))
        return (void)FAIL (req, INVALID, "decide_gate.rationale",
                           "rationale is required (why the gate decided this), up to 10000 "
                           "characters");
    if (decide->outcome == PMO__GATE_OUTCOME__GATE_OUTCOME_CONDITIONAL_GO &&
        pmo_str_empty (decide->conditions))
        return (void)FAIL (req, INVALID, "decide_gate.conditions",
                           "a conditional go states its conditions");
    if (decide->conditions && strlen (decide->conditions) > 10000)
        return (void)FAIL (req, INVALID, "decide_gate.conditions",
                           "conditions are at most 10000 characters");
    if (!s_version_matches (req, "project", decide->version, version) ||
        !s_next_phase_ok (req, project, decide->to_phase, "decide_gate.to_phase"))
        return;
    Pmo__PmoType type;
    Pmo__Policy *policy;
    if (s_gate_context (self, req, project, &type, &policy))
        return;
    registry_gate_t gate;
    registry_gate_evaluate (type, policy, project, decide->to_phase, req->arena, &gate);
    Pmo__Role role = registry_gate_approver (s_who (req), project->org_unit_path, gate.gate);
    const char *into = registry_phase_name (decide->to_phase);
    if (role == PMO__ROLE__ROLE_UNSPECIFIED)
        return (void)FAIL (req, FORBIDDEN, "decide_gate",
                           "%s is not an approver of the gate into %s for '%s'",
                           s_who (req)->subject, into, project->org_unit_path);
    bool go = decide->outcome == PMO__GATE_OUTCOME__GATE_OUTCOME_GO ||
              decide->outcome == PMO__GATE_OUTCOME__GATE_OUTCOME_CONDITIONAL_GO;
    //  Artifacts still missing after the waivers
    char **unwaived = pmo_arena_alloc (req->arena, (gate.n_missing + 1) * sizeof (char *));
    size_t n_unwaived = 0;
    for (size_t i = 0; i < gate.n_missing; i++) {
        bool waived = false;
        for (size_t w = 0; w < decide->n_waived_artifacts; w++)
            waived = waived || strcmp (decide->waived_artifacts[w], gate.missing[i]) == 0;
        if (!waived)
            unwaived[n_unwaived++] = gate.missing[i];
    }
    if (go && n_unwaived && type != PMO__PMO_TYPE__PMO_TYPE_SUPPORTIVE &&
        type != PMO__PMO_TYPE__PMO_TYPE_NONE) {
        s_reply (req)->missing_artifacts = unwaived;
        s_reply (req)->n_missing_artifacts = n_unwaived;
        return (void)FAIL (req, FAILED_PRECONDITION, "decide_gate.waived_artifacts",
                           "the gate into %s requires %s: provide them or waive them in the "
                           "decision",
                           into, s_join (req->arena, unwaived, n_unwaived));
    }
    if (go && n_unwaived)
        s_warn (req, pmo_arena_printf (req->arena, "gate into %s: missing %s (advice only)", into,
                                       s_join (req->arena, unwaived, n_unwaived)));
    const registry_kind_t *kind = registry_kind (PMO__ENTITY_KIND__ENTITY_KIND_GATE_DECISION);
    char *id;
    uint64_t seq;
    if (registry_store_next_id (self->store, req->arena, kind, project->division, &id, &seq))
        return s_unavailable (req);
    Pmo__GateDecision *decision = pmo_arena_alloc (req->arena, sizeof (Pmo__GateDecision));
    pmo__gate_decision__init (decision);
    decision->id = id;
    decision->project_id = project->id;
    decision->from_phase = project->phase;
    decision->to_phase = decide->to_phase;
    decision->outcome = decide->outcome;
    decision->decided_by = s_who (req)->subject;
    decision->decided_as = role;
    decision->decided_ms = pmo_now_ms ();
    decision->rationale = decide->rationale;
    decision->waived_artifacts = decide->waived_artifacts;
    decision->n_waived_artifacts = decide->n_waived_artifacts;
    decision->conditions = decide->conditions;
    decision->version = 1;

    Pmo__Project *stored = (Pmo__Project *)pmo_reflect_copy (&project->base, req->arena);
    if (go)
        s_enter_phase (project, decide->to_phase);
    else if (decide->outcome == PMO__GATE_OUTCOME__GATE_OUTCOME_STOP)
        project->status = PMO__PROJECT_STATUS__PROJECT_STATUS_CANCELLED;
    else if (decide->outcome == PMO__GATE_OUTCOME__GATE_OUTCOME_HOLD)
        project->status = PMO__PROJECT_STATUS__PROJECT_STATUS_ON_HOLD;
    //  Every decision bumps the project's version: the decision is part of
    //  its record, and a stale reader must not miss it.
    s_stamp_update (req, &project->base, &stored->base, version);

    pmo_commit_t *commit =
        registry_store_commit (self->store, project->division, req->header->request_id);
    registry_store_put (self->store, commit, req->arena, project->division, &decision->base, 0);
    registry_store_index (self->store, commit, req->arena, kind, project->division, project->id, id,
                          true);
    registry_store_put (self->store, commit, req->arena, project->division, &project->base,
                        version);
    Pmo__Event *event = s_event (req, "project.gate_decided", project->division, project->org_unit,
                                 project->org_unit_path, &project->base);
    event->gate = decision;
    event->actor_role = role;
    s_set_reply (req, &decision->base);
    s_reply (req)->moved_project = project;
    s_commit (self, req, commit, project->division, event);
}

//  ---------------------------------------------------------------------
//  Milestones and status reports

static void s_handle_create_child (registry_t *self, pmo_request_t *req, ProtobufCMessage *msg,
                                   const char *field)
{
    const registry_kind_t *kind = registry_kind_of (msg->descriptor);
    Pmo__Project *project =
        s_fetch_project (self, req, pmo_reflect_str (msg, "project_id"),
                         pmo_arena_printf (req->arena, "%s.project_id", field), NULL);
    if (!project || !s_may (req, REGISTRY_WRITE_PROJECT, project->org_unit_path,
                            pmo_arena_printf (req->arena, "add %ss", kind->name)))
        return;
    if (project->archived)
        return (void)FAIL (req, FAILED_PRECONDITION,
                           pmo_arena_printf (req->arena, "%s.project_id", field),
                           "project %s is archived", project->id);
    if (s_replayed (self, req, project->division))
        return;
    char *id;
    uint64_t seq;
    if (registry_store_next_id (self->store, req->arena, kind, project->division, &id, &seq))
        return s_unavailable (req);
    s_stamp_new (req, msg, id);
    const char *type = "milestone.created";
    if (kind->kind == PMO__ENTITY_KIND__ENTITY_KIND_STATUS_REPORT) {
        ((Pmo__StatusReport *)msg)->author = s_who (req)->subject;
        type = "status_report.submitted";
    }
    pmo_commit_t *commit =
        registry_store_commit (self->store, project->division, req->header->request_id);
    registry_store_put (self->store, commit, req->arena, project->division, msg, 0);
    registry_store_index (self->store, commit, req->arena, kind, project->division, project->id, id,
                          true);
    Pmo__Event *event =
        s_event (req, type, project->division, project->org_unit, project->org_unit_path, msg);
    s_set_reply (req, msg);
    s_commit (self, req, commit, project->division, event);
}

static void s_handle_update_milestone (registry_t *self, pmo_request_t *req, Pmo__Milestone *next)
{
    uint64_t version;
    Pmo__Milestone *stored = (Pmo__Milestone *)s_fetch (
        self, req, registry_kind (PMO__ENTITY_KIND__ENTITY_KIND_MILESTONE), next->id,
        "update_milestone.id", &version);
    if (!stored)
        return;
    Pmo__Project *project =
        s_fetch_project (self, req, stored->project_id, "update_milestone.project_id", NULL);
    if (!project ||
        !s_may (req, REGISTRY_WRITE_PROJECT, project->org_unit_path, "change milestones"))
        return;
    if (s_replayed (self, req, project->division))
        return;
    if (strcmp (next->project_id ? next->project_id : "", stored->project_id) != 0)
        return (void)FAIL (req, INVALID, "update_milestone.project_id",
                           "a milestone stays with its project");
    pmo_problem_t problem;
    if (registry_check_milestone (next, &problem))
        return s_problem (req, &problem, "update_milestone");
    if (!s_version_matches (req, "milestone", next->version, version))
        return;
    s_stamp_update (req, &next->base, &stored->base, version);
    pmo_commit_t *commit =
        registry_store_commit (self->store, project->division, req->header->request_id);
    registry_store_put (self->store, commit, req->arena, project->division, &next->base, version);
    Pmo__Event *event = s_event (req, "milestone.updated", project->division, project->org_unit,
                                 project->org_unit_path, &next->base);
    s_set_reply (req, &next->base);
    s_commit (self, req, commit, project->division, event);
}

//  ---------------------------------------------------------------------
//  Get, list, archive

//  The org unit path that decides who may see msg.
static const char *s_path_of (registry_t *self, pmo_request_t *req, ProtobufCMessage *msg)
{
    const registry_kind_t *kind = registry_kind_of (msg->descriptor);
    if (kind->kind == PMO__ENTITY_KIND__ENTITY_KIND_ORG_UNIT)
        return ((Pmo__OrgUnit *)msg)->path;
    if (!kind->of_project)
        return pmo_reflect_str (msg, "org_unit_path");
    ProtobufCMessage *project;
    int rc = registry_store_read (self->store, req->arena,
                                  registry_kind (PMO__ENTITY_KIND__ENTITY_KIND_PROJECT),
                                  pmo_reflect_str (msg, "project_id"), &project, NULL);
    if (rc < 0)
        s_unavailable (req);
    return rc == 1 ? ((Pmo__Project *)project)->org_unit_path : NULL;
}

static void s_handle_get (registry_t *self, pmo_request_t *req, Pmo__GetRequest *get)
{
    const registry_kind_t *kind = registry_kind (get->kind);
    if (!kind)
        return (void)FAIL (req, INVALID, "get.kind", "kind is required (project, org_unit, ...)");
    ProtobufCMessage *msg = s_fetch (self, req, kind, get->id, "get.id", NULL);
    if (!msg)
        return;
    const char *path = s_path_of (self, req, msg);
    if (pmo_request_failed (req))
        return;
    //  The org structure is visible to everyone signed in; the rest only
    //  within the caller's subtrees.
    if (kind->kind != PMO__ENTITY_KIND__ENTITY_KIND_ORG_UNIT &&
        (!path || !registry_allowed (s_who (req), REGISTRY_READ, path)))
        return (void)FAIL (req, NOT_FOUND, "get.id", "no %s with id '%s'", kind->name, get->id);
    if (kind->kind == PMO__ENTITY_KIND__ENTITY_KIND_ORG_UNIT)
        s_fill_effective (self, req, (Pmo__OrgUnit *)msg);
    s_set_reply (req, msg);
}

//  The page being built and where it stops.
typedef struct {
    Pmo__Page *page;
    const registry_kind_t *kind;
    size_t limit;
    size_t count;
    size_t scanned;
} page_t;

static bool s_list_match (const Pmo__ListRequest *list, ProtobufCMessage *msg)
{
    if (!list->include_archived && pmo_reflect_bool (msg, "archived"))
        return false;
    if (!pmo_str_empty (list->portfolio_id) &&
        strcmp (pmo_reflect_str (msg, "portfolio_id"), list->portfolio_id) != 0)
        return false;
    if (msg->descriptor == &pmo__project__descriptor) {
        Pmo__Project *p = (Pmo__Project *)msg;
        if (!pmo_str_empty (list->programme_id) && strcmp (p->programme_id, list->programme_id))
            return false;
        if (list->phase && p->phase != list->phase)
            return false;
        if (list->status && p->status != list->status)
            return false;
    }
    return true;
}

//  Add the entities of one index after score `after`; returns 0 when the
//  index is exhausted, 1 when the page is full (*last = the score to resume
//  after), -1 on failure.
static int s_list_index (registry_t *self, pmo_request_t *req, page_t *page,
                         const Pmo__ListRequest *list, const char *division, const char *owner,
                         double after, double *last)
{
    while (page->count < page->limit && page->scanned < LIST_SCAN_MAX) {
        char **ids;
        double *scores;
        size_t n;
        size_t want = page->limit - page->count;
        if (registry_store_index_page (self->store, req->arena, page->kind, division, owner, after,
                                       want, &ids, &scores, &n)) {
            s_unavailable (req);
            return -1;
        }
        if (n == 0)
            return 0;
        ProtobufCMessage **msgs = pmo_arena_alloc (req->arena, n * sizeof (void *));
        if (registry_store_read_many (self->store, req->arena, page->kind, ids, n, msgs)) {
            s_unavailable (req);
            return -1;
        }
        for (size_t i = 0; i < n; i++) {
            page->scanned++;
            after = scores[i];
            if (msgs[i] && s_list_match (list, msgs[i])) {
                pmo_reflect_append (&page->page->base, page->kind->page_field, msgs[i], req->arena);
                page->count++;
            }
        }
        if (n < want)
            return 0;
    }
    *last = after;
    return 1;
}

static void s_handle_list (registry_t *self, pmo_request_t *req, Pmo__ListRequest *list)
{
    const registry_kind_t *kind = registry_kind (list->kind);
    if (!kind)
        return (void)FAIL (req, INVALID, "list.kind", "kind is required (project, org_unit, ...)");
    if (list->limit > LIST_MAX)
        return (void)FAIL (req, INVALID, "list.limit", "limit is at most %d", LIST_MAX);
    Pmo__Page *result = pmo_arena_alloc (req->arena, sizeof (Pmo__Page));
    pmo__page__init (result);
    page_t page = {result, kind, list->limit ? list->limit : LIST_DEFAULT, 0, 0};
    pmo_reflect_set_oneof (req->reply, "page", &result->base);
    //  Cursor: "<owner>|<score>" where to resume
    char owner_cursor[80] = "";
    double after = -1;
    if (!pmo_str_empty (list->cursor)) {
        const char *bar = strchr (list->cursor, '|');
        char *end = NULL;
        if (bar && (size_t)(bar - list->cursor) < sizeof owner_cursor)
            after = strtod (bar + 1, &end);
        if (!bar || !end || *end || bar == list->cursor)
            return (void)FAIL (req, INVALID, "list.cursor",
                               "cursor is not one this service returned");
        memcpy (owner_cursor, list->cursor, (size_t)(bar - list->cursor));
        owner_cursor[bar - list->cursor] = 0;
    }
    if (kind->of_project) {
        Pmo__Project *project =
            s_fetch_project (self, req, list->project_id, "list.project_id", NULL);
        if (!project)
            return;
        double last;
        int rc =
            s_list_index (self, req, &page, list, project->division, project->id, after, &last);
        if (rc == 1)
            result->next_cursor = pmo_arena_printf (req->arena, "%s|%.17g", project->id, last);
        return;
    }
    Pmo__OrgUnit **units;
    size_t n_units;
    if (registry_store_org_units (self->store, req->arena, &units, &n_units))
        return s_unavailable (req);
    if (!pmo_str_empty (list->org_unit)) {
        bool found = false;
        for (size_t i = 0; i < n_units; i++)
            found = found || strcmp (units[i]->id, list->org_unit) == 0;
        if (!found)
            return (void)FAIL (req, NOT_FOUND, "list.org_unit", "no org unit '%s'", list->org_unit);
    }
    bool resuming = *owner_cursor != 0;
    for (size_t i = 0; i < n_units; i++) {
        Pmo__OrgUnit *unit = units[i];
        if (!pmo_str_empty (list->org_unit) && !pmo_path_contains (unit->path, list->org_unit))
            continue;
        if (kind->kind == PMO__ENTITY_KIND__ENTITY_KIND_ORG_UNIT) {
            if (s_list_match (list, &unit->base))
                pmo_reflect_append (&result->base, "org_units", &unit->base, req->arena);
            continue;
        }
        if (resuming) {
            if (strcmp (unit->id, owner_cursor) != 0)
                continue;
            resuming = false;
        } else
            after = -1;
        if (!registry_allowed (s_who (req), REGISTRY_READ, unit->path))
            continue;
        double last;
        int rc = s_list_index (self, req, &page, list, unit->division, unit->id, after, &last);
        if (rc < 0)
            return;
        if (rc == 1) {
            result->next_cursor = pmo_arena_printf (req->arena, "%s|%.17g", unit->id, last);
            return;
        }
    }
}

static void s_handle_archive (registry_t *self, pmo_request_t *req, Pmo__ArchiveRequest *archive)
{
    const registry_kind_t *kind = registry_kind (archive->kind);
    if (!kind)
        return (void)FAIL (req, INVALID, "archive.kind", "kind is required");
    if (kind->kind == PMO__ENTITY_KIND__ENTITY_KIND_STATUS_REPORT ||
        kind->kind == PMO__ENTITY_KIND__ENTITY_KIND_GATE_DECISION)
        return (void)FAIL (req, FAILED_PRECONDITION, "archive.kind",
                           "%ss are a permanent record and are not archived", kind->name);
    uint64_t version;
    ProtobufCMessage *msg = s_fetch (self, req, kind, archive->id, "archive.id", &version);
    if (!msg)
        return;
    const char *path = s_path_of (self, req, msg);
    if (pmo_request_failed (req))
        return;
    if (!path || !registry_allowed (s_who (req), REGISTRY_READ, path))
        return (void)FAIL (req, NOT_FOUND, "archive.id", "no %s with id '%s'", kind->name,
                           archive->id);
    registry_action_t action = kind->kind == PMO__ENTITY_KIND__ENTITY_KIND_ORG_UNIT
                                   ? REGISTRY_ADMIN_ORG
                               : kind->kind == PMO__ENTITY_KIND__ENTITY_KIND_PORTFOLIO ||
                                       kind->kind == PMO__ENTITY_KIND__ENTITY_KIND_PROGRAMME
                                   ? REGISTRY_WRITE_PORTFOLIO
                                   : REGISTRY_WRITE_PROJECT;
    if (!s_may (req, action, path, pmo_arena_printf (req->arena, "archive %ss", kind->name)))
        return;
    char division[40];
    registry_store_division (self->store, kind, archive->id, division, sizeof division);
    if (s_replayed (self, req, division))
        return;
    if (!s_version_matches (req, kind->name, archive->version, version))
        return;
    if (pmo_reflect_bool (msg, "archived"))
        return (void)FAIL (req, FAILED_PRECONDITION, "archive.id", "%s '%s' is already archived",
                           kind->name, archive->id);
    if (kind->kind == PMO__ENTITY_KIND__ENTITY_KIND_ORG_UNIT) {
        Pmo__OrgUnit *unit = (Pmo__OrgUnit *)msg;
        Pmo__OrgUnit **units;
        size_t n;
        if (registry_store_org_units (self->store, req->arena, &units, &n))
            return s_unavailable (req);
        for (size_t i = 0; i < n; i++)
            if (!units[i]->archived && strcmp (units[i]->parent, unit->id) == 0)
                return (void)FAIL (req, FAILED_PRECONDITION, "archive.id",
                                   "org unit '%s' still has unit '%s' under it", unit->id,
                                   units[i]->id);
        static const Pmo__EntityKind held[] = {PMO__ENTITY_KIND__ENTITY_KIND_PROJECT,
                                               PMO__ENTITY_KIND__ENTITY_KIND_PROGRAMME,
                                               PMO__ENTITY_KIND__ENTITY_KIND_PORTFOLIO};
        for (size_t k = 0; k < 3; k++) {
            long long size;
            if (registry_store_index_size (self->store, registry_kind (held[k]), unit->division,
                                           unit->id, &size))
                return s_unavailable (req);
            if (size > 0)
                return (void)FAIL (req, FAILED_PRECONDITION, "archive.id",
                                   "org unit '%s' holds %lld %s record(s); move or archive them "
                                   "first",
                                   unit->id, size, registry_kind (held[k])->name);
        }
    }
    ProtobufCMessage *stored = pmo_reflect_copy (msg, req->arena);
    s_stamp_update (req, msg, stored, version);
    pmo_reflect_set_bool (msg, "archived", true);
    pmo_commit_t *commit = registry_store_commit (self->store, division, req->header->request_id);
    registry_store_put (self->store, commit, req->arena, division, msg, version);
    const char *unit_id = kind->kind == PMO__ENTITY_KIND__ENTITY_KIND_ORG_UNIT
                              ? archive->id
                              : pmo_reflect_str (msg, "org_unit");
    Pmo__Event *event = s_event (req, pmo_arena_printf (req->arena, "%s.archived", kind->name),
                                 division, unit_id, path, msg);
    s_set_reply (req, msg);
    s_commit (self, req, commit, division, event);
}

static void s_handle_ping (registry_t *self, pmo_request_t *req)
{
    pmo_request_pong (req, "registry", self->redis, self->started_ms);
}

//  ---------------------------------------------------------------------
//  Dispatch

static void s_handle (void *state, pmo_request_t *req)
{
    registry_t *self = state;
    Pmo__RegistryRequest *r = (Pmo__RegistryRequest *)req->request;
    pmo_problem_t problem;
    switch (r->body_case) {
    case PMO__REGISTRY_REQUEST__BODY_CREATE_ORG_UNIT:
        return s_handle_create_org_unit (self, req, r->create_org_unit);
    case PMO__REGISTRY_REQUEST__BODY_UPDATE_ORG_UNIT:
        return s_handle_update_org_unit (self, req, r->update_org_unit);
    case PMO__REGISTRY_REQUEST__BODY_CREATE_PORTFOLIO:
        if (s_check_grouping (req, &r->create_portfolio->base, "create_portfolio"))
            return;
        return s_create_grouping (self, req, &r->create_portfolio->base, "create_portfolio");
    case PMO__REGISTRY_REQUEST__BODY_UPDATE_PORTFOLIO:
        if (s_check_grouping (req, &r->update_portfolio->base, "update_portfolio"))
            return;
        return s_update_grouping (self, req, &r->update_portfolio->base, "update_portfolio");
    case PMO__REGISTRY_REQUEST__BODY_CREATE_PROGRAMME:
        if (s_check_grouping (req, &r->create_programme->base, "create_programme"))
            return;
        return s_create_grouping (self, req, &r->create_programme->base, "create_programme");
    case PMO__REGISTRY_REQUEST__BODY_UPDATE_PROGRAMME:
        if (s_check_grouping (req, &r->update_programme->base, "update_programme"))
            return;
        return s_update_grouping (self, req, &r->update_programme->base, "update_programme");
    case PMO__REGISTRY_REQUEST__BODY_CREATE_PROJECT:
        return s_begin_create_project (self, req, r->create_project);
    case PMO__REGISTRY_REQUEST__BODY_UPDATE_PROJECT:
        return s_begin_update_project (self, req, r->update_project);
    case PMO__REGISTRY_REQUEST__BODY_CREATE_MILESTONE:
        if (registry_check_milestone (r->create_milestone, &problem))
            return s_problem (req, &problem, "create_milestone");
        return s_handle_create_child (self, req, &r->create_milestone->base, "create_milestone");
    case PMO__REGISTRY_REQUEST__BODY_UPDATE_MILESTONE:
        return s_handle_update_milestone (self, req, r->update_milestone);
    case PMO__REGISTRY_REQUEST__BODY_SUBMIT_STATUS_REPORT:
        if (registry_check_status_report (r->submit_status_report, &problem))
            return s_problem (req, &problem, "submit_status_report");
        return s_handle_create_child (self, req, &r->submit_status_report->base,
                                      "submit_status_report");
    case PMO__REGISTRY_REQUEST__BODY_CHANGE_PHASE:
        return s_handle_change_phase (self, req, r->change_phase);
    case PMO__REGISTRY_REQUEST__BODY_DECIDE_GATE:
        return s_handle_decide_gate (self, req, r->decide_gate);
    case PMO__REGISTRY_REQUEST__BODY_GET:
        return s_handle_get (self, req, r->get);
    case PMO__REGISTRY_REQUEST__BODY_LIST:
        return s_handle_list (self, req, r->list);
    case PMO__REGISTRY_REQUEST__BODY_ARCHIVE:
        return s_handle_archive (self, req, r->archive);
    case PMO__REGISTRY_REQUEST__BODY_PING:
        return s_handle_ping (self, req);
    case PMO__REGISTRY_REQUEST__BODY_IMPORT_BATCH:
    case PMO__REGISTRY_REQUEST__BODY_LATEST_REPORTS:
        return registry_import_handle (self->store, self->pub, req);
    default:
        FAIL (req, UNSUPPORTED, "body", "unknown request type");
    }
}

//  ---------------------------------------------------------------------
//  Keeping the event streams in bounds

#define TRIM_EVERY_MS   60000
#define KEEP_DEFAULT_MS (7LL * 24 * 3600 * 1000)

//  Trim every division's event stream of what all its consumer groups (risk
//  monitor, notifier, the hub's uplink) are done with, keeping the replay
//  window. Without this the streams grow for ever; trimming past an entry a
//  group has not acknowledged would lose it (see pmo_stream.h).
static void s_trim_streams (registry_t *self)
{
    pmo_arena_t *arena = pmo_arena_new ();
    Pmo__OrgUnit **units;
    size_t n;
    if (registry_store_org_units (self->store, arena, &units, &n) == 0) {
        int64_t keep =
            self->config.stream_keep_ms > 0 ? self->config.stream_keep_ms : KEEP_DEFAULT_MS;
        for (size_t i = 0; i < n; i++) {
            if (units[i]->kind == PMO__ORG_UNIT_KIND__ORG_UNIT_KIND_DEPARTMENT)
                continue;
            long long removed = registry_store_trim_events (self->store, units[i]->division, keep);
            if (removed > 0)
                pmo_info ("registry: trimmed division=%s removed=%lld", units[i]->division,
                          removed);
        }
    }
    pmo_arena_destroy (&arena);
}

//  ---------------------------------------------------------------------
//  The actor

void registry_server_actor (zsock_t *pipe, void *args)
{
    registry_t self = {.config = *(registry_config_t *)args};
    self.started_ms = pmo_now_ms ();
    self.redis = pmo_redis_new (self.config.redis_url, self.config.redis_timeout_ms);
    if (!self.redis) {
        pmo_error ("registry: bad redis url");
        ((registry_config_t *)args)->failed = true;
        zsock_signal (pipe, 1);
        return;
    }
    self.store = registry_store_new (self.redis, self.config.hub);
    pmo_server_config_t server_config = {
        .name = "registry",
        .request_desc = &pmo__registry_request__descriptor,
        .reply_desc = &pmo__registry_reply__descriptor,
        .handler = s_handle,
        .flush = s_flush,
        .state = &self,
    };
    self.server = pmo_server_new (&server_config, self.config.endpoint);
    self.pub = zsock_new (ZMQ_PUB);
    assert (self.pub);
    zsock_set_sndhwm (self.pub, 100000);
    if (!self.server || zsock_bind (self.pub, "%s", self.config.pub_endpoint) < 0) {
        pmo_error ("registry: cannot bind endpoint=%s pub=%s", self.config.endpoint,
                   self.config.pub_endpoint);
        pmo_server_destroy (&self.server);
        zsock_destroy (&self.pub);
        registry_store_destroy (&self.store);
        pmo_redis_destroy (&self.redis);
        ((registry_config_t *)args)->failed = true;
        zsock_signal (pipe, 1);
        return;
    }
    //  Connect now so the first request does not pay for it; if Redis is
    //  down we still serve, answering "unavailable" until it returns.
    pmo_redis_ready (self.redis);
    pmo_info ("registry: ready endpoint=%s pub=%s redis=%s hub=%s", self.config.endpoint,
              self.config.pub_endpoint, pmo_redis_safe_url (self.redis), self.config.hub);
    zsock_signal (pipe, 0);

    zpoller_t *poller = zpoller_new (pipe, pmo_server_socket (self.server), NULL);
    bool running = true;
    int64_t next_trim = pmo_mono_ms () + TRIM_EVERY_MS;
    while (running) {
        void *which = zpoller_wait (poller, 1000);
        if (pmo_mono_ms () >= next_trim) {
            s_trim_streams (&self);
            next_trim = pmo_mono_ms () + TRIM_EVERY_MS;
        }
        if (which == pipe) {
            char *command = zstr_recv (pipe);
            running = !(command && streq (command, "$TERM"));
            zstr_free (&command);
        } else if (which == pmo_server_socket (self.server))
            pmo_server_drain (self.server, 256);
        else if (zpoller_terminated (poller))
            running = false;
    }
    //  Answer what was already received before going
    pmo_server_drain (self.server, 100000);
    const pmo_server_stats_t *stats = pmo_server_stats (self.server);
    pmo_info ("registry: stopping requests=%llu errors=%llu malformed=%llu",
              (unsigned long long)stats->requests, (unsigned long long)stats->errors,
              (unsigned long long)stats->malformed);
    zpoller_destroy (&poller);
    pmo_server_destroy (&self.server);
    zsock_destroy (&self.pub);
    registry_store_destroy (&self.store);
    pmo_redis_destroy (&self.redis);
}
