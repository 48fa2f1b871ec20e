/*  registry_handler.c: the steps every registry request handler takes.

    Every handler follows the same order: check the caller may act here,
    read what the request refers to, validate, build the new state, and
    write it with its event and the reply in one commit. A handler that
    fails at any step has written nothing. A change request whose request id
    was already done is answered with the stored reply.
*/
#include "registry_internal.h"

#include "pmo_log.h"
#include "pmo_wire.h"
#include "pmo_reflect.h"

#include <string.h>

Pmo__RegistryReply *registry_reply (pmo_request_t *req)
{
    return (Pmo__RegistryReply *)req->reply;
}

void registry_unavailable (pmo_request_t *req)
{
    pmo_request_unavailable (req, "the registry's store (Redis)");
}

bool registry_may (pmo_request_t *req, registry_action_t action, const char *path, const char *what)
{
    //  No path is nowhere, never "anywhere" as pmo_access reads NULL
    if (!path)
        path = "";
    //  Org units have the rule on top (registry_allowed): ask it, and word
    //  a refusal as pmo_request_may does
    if (action != REGISTRY_ADMIN_ORG)
        return pmo_request_may (req, registry_roles (), action, path, what) !=
               PMO__ROLE__ROLE_UNSPECIFIED;
    if (registry_allowed (pmo_request_who (req), action, path))
        return true;
    FAIL (req, FORBIDDEN, "", "%s may not %s in '%s'", pmo_request_who (req)->subject, what, path);
    return false;
}

void registry_warn (pmo_request_t *req, const char *text)
{
    Pmo__RegistryReply *reply = registry_reply (req);
    pmo_arena_append_string (req->arena, &reply->warnings, &reply->n_warnings, text);
}

//  True (and the reply is set) if this request id was already done.
bool registry_replayed (registry_t *self, pmo_request_t *req, const char *division)
{
    return pmo_request_replayed (req, self->redis, division, "the registry's store");
}

//  Read an entity the request names; fails the request if it cannot.
ProtobufCMessage *registry_fetch (registry_t *self, pmo_request_t *req, const registry_kind_t *kind,
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
        registry_unavailable (req);
        return NULL;
    }
    if (rc == 0) {
        FAIL (req, NOT_FOUND, field, "no %s with id '%.64s'", kind->name, id);
        return NULL;
    }
    return msg;
}

//  A live (not archived) org unit named by the request.
Pmo__OrgUnit *registry_fetch_unit (registry_t *self, pmo_request_t *req, const char *id,
                                   const char *field)
{
    Pmo__OrgUnit *unit = (Pmo__OrgUnit *)registry_fetch (
        self, req, registry_kind (PMO__ENTITY_KIND__ENTITY_KIND_ORG_UNIT), id, field, NULL);
    if (unit && unit->archived) {
        FAIL (req, FAILED_PRECONDITION, field, "org unit '%s' is archived", id);
        return NULL;
    }
    return unit;
}

//  A live project the caller may see; NOT_FOUND for one it may not, so ids
//  cannot be probed across divisions.
Pmo__Project *registry_fetch_project (registry_t *self, pmo_request_t *req, const char *id,
                                      const char *field, uint64_t *version)
{
    Pmo__Project *project = (Pmo__Project *)registry_fetch (
        self, req, registry_kind (PMO__ENTITY_KIND__ENTITY_KIND_PROJECT), id, field, version);
    if (project &&
        !registry_allowed (pmo_request_who (req), REGISTRY_READ, project->org_unit_path)) {
        FAIL (req, NOT_FOUND, field, "no project with id '%.64s'", id);
        return NULL;
    }
    return project;
}

//  The org units from the root down to path's last unit, in order.
int registry_chain (registry_t *self, pmo_request_t *req, const char *path, Pmo__OrgUnit ***chain,
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
        registry_unavailable (req);
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

Pmo__Event *registry_event (pmo_request_t *req, const char *type, const char *division,
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
    pmo_request_stamp (req, event);
    event->request_id = req->header->request_id;
    event->source = "registry";
    const registry_kind_t *kind = registry_kind_of (entity->descriptor);
    pmo_reflect_set_oneof (&event->base, kind->event_field, entity);
    return event;
}

//  Finish a change: the reply (already filled) is stored with the commit;
//  on success the event is published with its stream id.
//  entity: the commit's entity as packed (or NULL), which the event and the
//  reply that hold it take as it is instead of packing it again.
void registry_commit_prepare (registry_t *self, pmo_request_t *req, pmo_commit_t *commit,
                              const char *division, Pmo__Event *event,
                              const registry_entity_blob_t *entity, registry_packed_t *packed)
{
    packed->blob = registry_store_event (self->store, commit, req->arena, division, event, entity,
                                         &packed->size);
    if (entity && entity->kind &&
        *pmo_wire_message_slot (req->reply, entity->kind->reply_field) == entity->msg)
        packed->reply = pmo_reflect_pack_with (req->reply, entity->kind->reply_field, entity->blob,
                                               entity->size, req->arena, &packed->reply_size);
    else
        packed->reply = pmo_reflect_pack (req->reply, req->arena, &packed->reply_size);
    pmo_commit_reply (commit, packed->reply, packed->reply_size, IDEM_TTL_S);
}

//  Answer from a commit's result: publish the event, or fail the request.
void registry_publish (zsock_t *pub, pmo_arena_t *arena, const char *division, const char *type,
                       const uint8_t *blob, size_t size, const char *stream_id)
{
    size_t id_size = stream_id ? strlen (stream_id) : 0;
    uint8_t *data = pmo_arena_alloc (arena, size + id_size + 12);
    memcpy (data, blob, size);
    size_t at = size;
    if (id_size) {
        //  Field 1 (Event.id), wire type 2 (length-delimited): tag, length
        //  as a varint, bytes (events.proto)
        data[at++] = (1 << 3) | 2;
        for (size_t left = id_size;; left >>= 7) {
            data[at++] = (uint8_t)((left & 0x7f) | (left >= 0x80 ? 0x80 : 0));
            if (left < 0x80)
                break;
        }
        memcpy (data + at, stream_id, id_size);
        at += id_size;
    }
    zmsg_t *msg = zmsg_new ();
    zmsg_addstrf (msg, "%s.%s", division, type);
    zmsg_addmem (msg, data, at);
    zmsg_send (&msg, pub);
}

void registry_commit_finish (registry_t *self, pmo_request_t *req, pmo_commit_result_t *result,
                             const char *division, Pmo__Event *event,
                             const registry_packed_t *packed)
{
    switch (result->status) {
    case PMO_COMMIT_OK: {
        event->id = result->stream_id;
        registry_publish (self->pub, req->arena, division, event->type, packed->blob, packed->size,
                          result->stream_id);
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
        registry_unavailable (req);
        break;
    case PMO_COMMIT_ERROR:
        FAIL (req, INTERNAL, "", "the store refused the commit; nothing was written");
        break;
    }
}

void registry_commit (registry_t *self, pmo_request_t *req, pmo_commit_t *commit,
                      const char *division, Pmo__Event *event)
{
    registry_packed_t packed;
    registry_commit_prepare (self, req, commit, division, event, NULL, &packed);
    pmo_commit_result_t result;
    pmo_commit_exec (commit, self->redis, &result);
    pmo_commit_destroy (&commit);
    registry_commit_finish (self, req, &result, division, event, &packed);
    pmo_commit_result_clear (&result);
}

void registry_set_reply (pmo_request_t *req, ProtobufCMessage *entity)
{
    pmo_reflect_set_oneof (req->reply, registry_kind_of (entity->descriptor)->reply_field, entity);
}

//  Stamp a new entity's bookkeeping fields.
void registry_stamp_new (pmo_request_t *req, ProtobufCMessage *msg, const char *id)
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
void registry_stamp_update (pmo_request_t *req, ProtobufCMessage *next,
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
