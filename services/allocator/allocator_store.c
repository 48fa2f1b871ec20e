/*  allocator_store.c: the allocator's Redis layout.

    pmo:{<div>}:rs:<id>             resource (hash v = version, d = protobuf)
    pmo:{<div>}:al:<id>             allocation (hash v, d)
    pmo:{<div>}:book:<resource>     the resource's booking ledger (hash v, d): its live
                                    bookings; every booking change checks its version
    pmo:{<div>}:ix:rs               zset of the division's resource ids, by sequence
    pmo:{<div>}:ix:al               zset of the division's allocation ids, by sequence
    pmo:{<div>}:alseq               hash "rs"/"al" -> last sequence number
    pmo:{<hub>}:alloc:divisions     set of divisions holding allocator data (for the reload)
    pmo:{<div>}:events              the division's event stream (shared with the registry;
                                    spelled by pmo_stream_key)
    pmo:{<div>}:idem:<request id>   the reply of a done request, 24 h (pmo_commit)

    Cross-division requests between stacks (allocator_xdiv.c):

    pmo:{<div>}:xa:<id>             ForeignAllocation (hash v, d), kept in the requesting
                                    division
    pmo:{<div>}:ix:xa               zset of the division's foreign request ids, by sequence
    pmo:{<div>}:xa:origin           hash foreign request id -> allocation id, in the owning
                                    division: one allocation per foreign request, for ever
    pmo:{<hub>}:xa:divisions        set of divisions holding foreign requests (for lists)
*/
#include "allocator_store.h"
#include "pmo_seq.h"
#include "pmo_log.h"
#include "pmo_reflect.h"
#include "pmo_stream.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#define LOAD_BATCH 500 //  entities per pipelined batch while reloading

struct _allocator_store_t {
    pmo_redis_t *redis; //  not owned
    char hub[40];
};

allocator_store_t *allocator_store_new (pmo_redis_t *redis, const char *hub)
{
    allocator_store_t *self = calloc (1, sizeof (allocator_store_t));
    assert (self);
    self->redis = redis;
    snprintf (self->hub, sizeof self->hub, "%s", hub);
    return self;
}

void allocator_store_destroy (allocator_store_t **self_p)
{
    assert (self_p);
    free (*self_p);
    *self_p = NULL;
}

int allocator_store_division (const char *id, const char *prefix, char *division, size_t size)
{
    return pmo_id_division (id, prefix, division, size);
}

static char *s_key (pmo_arena_t *arena, const char *prefix, const char *division, const char *id)
{
    return pmo_arena_printf (arena, "pmo:{%s}:%s:%s", division, prefix, id);
}

static const ProtobufCMessageDescriptor *s_desc (const char *prefix)
{
    if (strcmp (prefix, ALLOCATOR_PREFIX_FOREIGN) == 0)
        return &pmo__foreign_allocation__descriptor;
    return strcmp (prefix, ALLOCATOR_PREFIX_RESOURCE) == 0 ? &pmo__resource__descriptor
                                                           : &pmo__allocation__descriptor;
}

//  Decode [v, d] from HMGET; 1 if there was an entity.
static int s_decode (pmo_arena_t *arena, const ProtobufCMessageDescriptor *desc, redisReply *reply,
                     ProtobufCMessage **msg, uint64_t *version)
{
    *msg = NULL;
    if (!reply || reply->type != REDIS_REPLY_ARRAY || reply->elements != 2 ||
        reply->element[1]->type != REDIS_REPLY_STRING)
        return 0;
    *msg = protobuf_c_message_unpack (desc, pmo_arena_allocator (arena), reply->element[1]->len,
                                      (const uint8_t *)reply->element[1]->str);
    if (!*msg) {
        pmo_error ("store: undecodable %s blob", desc->short_name);
        return 0;
    }
    if (version)
        *version = reply->element[0]->type == REDIS_REPLY_STRING
                       ? strtoull (reply->element[0]->str, NULL, 10)
                       : 0;
    return 1;
}

static int s_read (allocator_store_t *self, pmo_arena_t *arena, const char *prefix, const char *id,
                   ProtobufCMessage **msg, uint64_t *version)
{
    *msg = NULL;
    char division[40];
    if (allocator_store_division (id, prefix, division, sizeof division))
        return 0;
    redisReply *reply =
        pmo_redis_command (self->redis, "HMGET %s v d", s_key (arena, prefix, division, id));
    if (!reply)
        return -1;
    int rc = s_decode (arena, s_desc (prefix), reply, msg, version);
    freeReplyObject (reply);
    return rc;
}

int allocator_store_read_resource (allocator_store_t *self, pmo_arena_t *arena, const char *id,
                                   Pmo__Resource **resource, uint64_t *version)
{
    return s_read (self, arena, ALLOCATOR_PREFIX_RESOURCE, id, (ProtobufCMessage **)resource,
                   version);
}

int allocator_store_read_allocation (allocator_store_t *self, pmo_arena_t *arena, const char *id,
                                     Pmo__Allocation **allocation, uint64_t *version)
{
    return s_read (self, arena, ALLOCATOR_PREFIX_ALLOCATION, id, (ProtobufCMessage **)allocation,
                   version);
}

//  A resource and its ledger from the two replies of their HMGETs: 1, 0
//  (no such resource) or -1; NULL replies (Redis failed) are -1.
static int s_booked_decode (pmo_arena_t *arena, const char *id, redisReply *r1, redisReply *r2,
                            Pmo__Resource **resource, uint64_t *version,
                            Pmo__BookingLedger **ledger, uint64_t *ledger_version)
{
    int rc = -1;
    if (r1 && r2) {
        rc = s_decode (arena, &pmo__resource__descriptor, r1, (ProtobufCMessage **)resource,
                       version);
        if (!s_decode (arena, &pmo__booking_ledger__descriptor, r2, (ProtobufCMessage **)ledger,
                       ledger_version)) {
            *ledger = pmo_arena_alloc (arena, sizeof (Pmo__BookingLedger));
            pmo__booking_ledger__init (*ledger);
            (*ledger)->resource_id = pmo_arena_strdup (arena, id);
            *ledger_version = 0;
        }
    }
    if (r1)
        freeReplyObject (r1);
    if (r2)
        freeReplyObject (r2);
    return rc;
}

int allocator_store_read_booked (allocator_store_t *self, pmo_arena_t *arena, const char *id,
                                 Pmo__Resource **resource, uint64_t *version,
                                 Pmo__BookingLedger **ledger, uint64_t *ledger_version)
{
    allocator_booked_t one = {.id = id};
    int rc = allocator_store_read_booked_many (self, arena, &one, 1);
    *resource = one.resource;
    *version = one.version;
    *ledger = one.ledger;
    *ledger_version = one.ledger_version;
    return rc < 0 ? -1 : one.resource ? 1 : 0;
}

int allocator_store_read_booked_many (allocator_store_t *self, pmo_arena_t *arena,
                                      allocator_booked_t *booked, size_t n)
{
    bool *sent = pmo_arena_alloc (arena, (n + 1) * sizeof (bool));
    for (size_t i = 0; i < n; i++) {
        allocator_booked_t *b = &booked[i];
        b->resource = NULL;
        b->ledger = NULL;
        char division[40];
        sent[i] = false;
        if (allocator_store_division (b->id, ALLOCATOR_PREFIX_RESOURCE, division, sizeof division))
            continue;
        if (pmo_redis_pipe (self->redis, "HMGET %s v d",
                            s_key (arena, ALLOCATOR_PREFIX_RESOURCE, division, b->id)) ||
            pmo_redis_pipe (self->redis, "HMGET %s v d", s_key (arena, "book", division, b->id)))
            return -1;
        sent[i] = true;
    }
    //  Every reply is read, even after a failure, so the pipe stays in step
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        if (!sent[i])
            continue;
        allocator_booked_t *b = &booked[i];
        redisReply *r1 = pmo_redis_pipe_reply (self->redis);
        redisReply *r2 = pmo_redis_pipe_reply (self->redis);
        if (s_booked_decode (arena, b->id, r1, r2, &b->resource, &b->version, &b->ledger,
                             &b->ledger_version) < 0)
            rc = -1;
        else if (!b->resource)
            b->ledger = NULL;
    }
    return rc;
}

int allocator_store_read_many (allocator_store_t *self, pmo_arena_t *arena, const char *prefix,
                               char *const *ids, size_t n, ProtobufCMessage **msgs)
{
    bool *sent = pmo_arena_alloc (arena, (n + 1) * sizeof (bool));
    for (size_t i = 0; i < n; i++) {
        msgs[i] = NULL;
        char division[40];
        if (allocator_store_division (ids[i], prefix, division, sizeof division))
            continue;
        if (pmo_redis_pipe (self->redis, "HMGET %s v d", s_key (arena, prefix, division, ids[i])))
            return -1;
        sent[i] = true;
    }
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        if (!sent[i])
            continue;
        redisReply *reply = pmo_redis_pipe_reply (self->redis);
        if (!reply) {
            rc = -1;
            continue;
        }
        s_decode (arena, s_desc (prefix), reply, &msgs[i], NULL);
        freeReplyObject (reply);
    }
    return rc;
}

int allocator_store_replay (allocator_store_t *self, pmo_arena_t *arena, char *const *divisions,
                            size_t n, const char *request_id, uint8_t **out, size_t *size)
{
    for (size_t i = 0; i < n; i++) {
        char *key = pmo_commit_idem_key (divisions[i], request_id);
        int rc = pmo_redis_pipe (self->redis, "GET %s", key);
        free (key);
        if (rc)
            return -1;
    }
    int found = 0;
    for (size_t i = 0; i < n; i++) {
        redisReply *reply = pmo_redis_pipe_reply (self->redis);
        if (!reply) {
            found = -1;
            continue;
        }
        if (found == 0 && reply->type == REDIS_REPLY_STRING) {
            *out = pmo_arena_memdup (arena, reply->str, reply->len);
            *size = reply->len;
            found = 1;
        }
        freeReplyObject (reply);
    }
    return found;
}

int allocator_store_next_id (allocator_store_t *self, pmo_arena_t *arena, const char *prefix,
                             const char *division, char **id)
{
    char key[128];
    snprintf (key, sizeof key, "pmo:{%s}:alseq", division);
    return pmo_seq_id (self->redis, arena, key, prefix, division, id);
}

int allocator_store_note_division (allocator_store_t *self, const char *division)
{
    redisReply *reply =
        pmo_redis_command (self->redis, "SADD pmo:{%s}:alloc:divisions %s", self->hub, division);
    if (!reply)
        return -1;
    int rc = reply->type == REDIS_REPLY_INTEGER ? 0 : -1;
    freeReplyObject (reply);
    return rc;
}

int allocator_store_next_ids (allocator_store_t *self, pmo_arena_t *arena, const char *prefix,
                              const char *division, size_t n, char **ids)
{
    char key[128];
    snprintf (key, sizeof key, "pmo:{%s}:alseq", division);
    long long first;
    if (n == 0)
        return 0;
    if (pmo_seq_take (self->redis, key, prefix, n, &first))
        return -1;
    for (size_t i = 0; i < n; i++)
        ids[i] = pmo_arena_printf (arena, "%s_%s_%lld", prefix, division, first + (long long)i);
    return 0;
}

int allocator_store_event_ids (allocator_store_t *self, pmo_arena_t *arena, const char *division,
                               const char *last_id, size_t n, char **ids)
{
    return pmo_stream_last_ids (self->redis, arena, division, last_id, n, ids);
}

//  Load one division's entities of a kind into the index, in batches.
static int s_load_kind (allocator_store_t *self, allocator_index_t *index, const char *division,
                        const char *prefix, size_t *count)
{
    redisReply *ids =
        pmo_redis_command (self->redis, "ZRANGE pmo:{%s}:ix:%s 0 -1", division, prefix);
    if (!ids)
        return -1;
    int rc = 0;
    size_t n = ids->type == REDIS_REPLY_ARRAY ? ids->elements : 0;
    pmo_arena_t *arena = pmo_arena_new ();
    for (size_t at = 0; at < n && rc == 0; at += LOAD_BATCH) {
        size_t batch = n - at < LOAD_BATCH ? n - at : LOAD_BATCH;
        char **list = pmo_arena_alloc (arena, batch * sizeof (char *));
        for (size_t i = 0; i < batch; i++)
            list[i] = ids->element[at + i]->str;
        ProtobufCMessage **msgs = pmo_arena_alloc (arena, batch * sizeof (void *));
        rc = allocator_store_read_many (self, arena, prefix, list, batch, msgs);
        for (size_t i = 0; i < batch && rc == 0; i++) {
            if (!msgs[i])
                continue;
            if (msgs[i]->descriptor == &pmo__resource__descriptor)
                allocator_index_put_resource (index, (Pmo__Resource *)msgs[i]);
            else
                allocator_index_put_allocation (index, (Pmo__Allocation *)msgs[i]);
            (*count)++;
        }
        pmo_arena_reset (arena);
    }
    pmo_arena_destroy (&arena);
    freeReplyObject (ids);
    return rc;
}

//  Each division stream's last id now ("0-0" if empty), into positions.
static int s_tails (allocator_store_t *self, redisReply *divisions, zhashx_t *positions)
{
    size_t n = divisions->elements;
    for (size_t i = 0; i < n; i++) {
        char key[128];
        if (pmo_stream_key_buf (key, sizeof key, divisions->element[i]->str) ||
            pmo_redis_pipe (self->redis, "XREVRANGE %s + - COUNT 1", key))
            return -1;
    }
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        redisReply *reply = pmo_redis_pipe_reply (self->redis);
        if (!reply) {
            rc = -1;
            continue;
        }
        const char *id = "0-0";
        if (reply->type == REDIS_REPLY_ARRAY && reply->elements == 1)
            id = reply->element[0]->element[0]->str;
        zhashx_update (positions, divisions->element[i]->str, strdup (id));
        freeReplyObject (reply);
    }
    return rc;
}

int allocator_store_load (allocator_store_t *self, allocator_index_t *index, zhashx_t *positions)
{
    redisReply *divisions =
        pmo_redis_command (self->redis, "SMEMBERS pmo:{%s}:alloc:divisions", self->hub);
    if (!divisions)
        return -1;
    size_t resources = 0, allocations = 0;
    size_t n = divisions->type == REDIS_REPLY_ARRAY ? divisions->elements : 0;
    //  Where the streams stand before reading: what is written while we
    //  read is applied again by following, which changes nothing twice
    int rc = n ? s_tails (self, divisions, positions) : 0;
    //  Resources first, so allocations find the resource they book
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = s_load_kind (self, index, divisions->element[i]->str, ALLOCATOR_PREFIX_RESOURCE,
                          &resources);
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = s_load_kind (self, index, divisions->element[i]->str, ALLOCATOR_PREFIX_ALLOCATION,
                          &allocations);
    pmo_info ("store: loaded divisions=%zu resources=%zu allocations=%zu ok=%s", n, resources,
              allocations, rc == 0 ? "yes" : "no");
    freeReplyObject (divisions);
    return rc;
}

//  Apply one stream entry ([id, [field, value, ...]]) if it is ours; note
//  an org-unit event in *org_units.
static int s_apply_entry (allocator_index_t *index, redisReply *entry, bool *org_units)
{
    if (entry->type != REDIS_REPLY_ARRAY || entry->elements != 2 ||
        entry->element[1]->type != REDIS_REPLY_ARRAY)
        return 0;
    redisReply *fields = entry->element[1];
    const char *type = NULL;
    redisReply *data = NULL;
    for (size_t f = 0; f + 1 < fields->elements; f += 2) {
        if (strcmp (fields->element[f]->str, "type") == 0)
            type = fields->element[f + 1]->str;
        else if (strcmp (fields->element[f]->str, "data") == 0)
            data = fields->element[f + 1];
    }
    if (type && strncmp (type, "org_unit.", 9) == 0)
        *org_units = true;
    if (!type || !data ||
        (strncmp (type, "resource.", 9) != 0 && strncmp (type, "allocation.", 11) != 0))
        return 0;
    Pmo__Event *event = pmo__event__unpack (NULL, data->len, (const uint8_t *)data->str);
    if (!event)
        return 0;
    int applied = 1;
    if (event->body_case == PMO__EVENT__BODY_RESOURCE)
        allocator_index_put_resource (index, event->resource);
    else if (event->body_case == PMO__EVENT__BODY_ALLOCATION)
        allocator_index_put_allocation (index, event->allocation);
    else
        applied = 0;
    pmo__event__free_unpacked (event, NULL);
    return applied;
}

int allocator_store_follow (allocator_store_t *self, allocator_index_t *index, zhashx_t *positions,
                            bool *org_units)
{
    *org_units = false;
    redisReply *divisions =
        pmo_redis_command (self->redis, "SMEMBERS pmo:{%s}:alloc:divisions", self->hub);
    if (!divisions)
        return -1;
    size_t n = divisions->type == REDIS_REPLY_ARRAY ? divisions->elements : 0;
    for (size_t i = 0; i < n; i++)
        if (!zhashx_lookup (positions, divisions->element[i]->str))
            zhashx_insert (positions, divisions->element[i]->str, strdup ("0-0"));
    int applied = 0;
    bool more = n > 0;
    while (more) {
        //  XREAD COUNT c STREAMS k1 .. kn id1 .. idn
        size_t argc = 4 + 2 * n;
        const char **argv = malloc (argc * sizeof (char *));
        size_t *lens = malloc (argc * sizeof (size_t));
        char **keys = malloc (n * sizeof (char *));
        assert (argv && lens && keys);
        argv[0] = "XREAD";
        argv[1] = "COUNT";
        argv[2] = "500";
        argv[3] = "STREAMS";
        for (size_t i = 0; i < n; i++) {
            keys[i] = malloc (128);
            assert (keys[i]);
            int rc = pmo_stream_key_buf (keys[i], 128, divisions->element[i]->str);
            assert (rc == 0); //  division ids are slugs of at most 32 characters
            argv[4 + i] = keys[i];
            argv[4 + n + i] = zhashx_lookup (positions, divisions->element[i]->str);
        }
        for (size_t i = 0; i < argc; i++)
            lens[i] = strlen (argv[i]);
        redisReply *reply = pmo_redis_commandv (self->redis, (int)argc, argv, lens);
        for (size_t i = 0; i < n; i++)
            free (keys[i]);
        free (keys);
        free (argv);
        free (lens);
        if (!reply) {
            applied = -1;
            break;
        }
        more = false;
        //  [[key, [entries]], ...] or nil when nothing is new
        for (size_t s = 0; reply->type == REDIS_REPLY_ARRAY && s < reply->elements; s++) {
            redisReply *stream = reply->element[s];
            char division[64];
            if (!pmo_stream_key_division (stream->element[0]->str, division, sizeof division))
                continue;
            redisReply *entries = stream->element[1];
            for (size_t e = 0; e < entries->elements; e++)
                applied += s_apply_entry (index, entries->element[e], org_units);
            if (entries->elements) {
                redisReply *last = entries->element[entries->elements - 1];
                zhashx_update (positions, division, strdup (last->element[0]->str));
            }
            more = more || entries->elements == 500;
        }
        freeReplyObject (reply);
    }
    freeReplyObject (divisions);
    return applied;
}

pmo_commit_t *allocator_store_commit (allocator_store_t *self, const char *division,
                                      const char *request_id)
{
    return pmo_commit_new (division, request_id);
}

static void s_put (pmo_commit_t *commit, pmo_arena_t *arena, const char *prefix,
                   const char *division, const ProtobufCMessage *msg, uint64_t expect)
{
    size_t size;
    uint8_t *blob = pmo_reflect_pack (msg, arena, &size);
    pmo_commit_put (commit, s_key (arena, prefix, division, pmo_reflect_str (msg, "id")), expect,
                    pmo_reflect_u64 (msg, "version"), blob, size);
}

void allocator_store_put_resource (allocator_store_t *self, pmo_commit_t *commit,
                                   pmo_arena_t *arena, const Pmo__Resource *resource,
                                   uint64_t expect)
{
    s_put (commit, arena, ALLOCATOR_PREFIX_RESOURCE, resource->division, &resource->base, expect);
}

void allocator_store_put_allocation (allocator_store_t *self, pmo_commit_t *commit,
                                     pmo_arena_t *arena, const Pmo__Allocation *allocation,
                                     uint64_t expect)
{
    s_put (commit, arena, ALLOCATOR_PREFIX_ALLOCATION, allocation->division, &allocation->base,
           expect);
}

void allocator_store_put_ledger (allocator_store_t *self, pmo_commit_t *commit, pmo_arena_t *arena,
                                 const char *division, const Pmo__BookingLedger *ledger,
                                 uint64_t expect)
{
    size_t size;
    uint8_t *blob = pmo_reflect_pack (&ledger->base, arena, &size);
    pmo_commit_put (commit, s_key (arena, "book", division, ledger->resource_id), expect,
                    expect + 1, blob, size);
}

void allocator_store_check_ledger (allocator_store_t *self, pmo_commit_t *commit,
                                   pmo_arena_t *arena, const char *division,
                                   const char *resource_id, uint64_t expect)
{
    pmo_commit_check (commit, s_key (arena, "book", division, resource_id), expect);
}

void allocator_store_index (allocator_store_t *self, pmo_commit_t *commit, pmo_arena_t *arena,
                            const char *prefix, const char *division, const char *id)
{
    const char *underscore = strrchr (id, '_');
    double seq = underscore ? strtod (underscore + 1, NULL) : 0;
    pmo_commit_zadd (commit, pmo_arena_printf (arena, "pmo:{%s}:ix:%s", division, prefix), seq, id);
}

void allocator_store_event (allocator_store_t *self, pmo_commit_t *commit, pmo_arena_t *arena,
                            const char *division, const Pmo__Event *event)
{
    size_t size;
    uint8_t *blob = pmo_reflect_pack (&event->base, arena, &size);
    pmo_commit_event (commit, pmo_stream_key (arena, division), event->type, blob, size);
}

bool allocator_store_is_ledger_key (const char *key)
{
    return key && strstr (key, "}:book:") != NULL;
}

bool allocator_store_is_foreign_key (const char *key)
{
    return key && strstr (key, "}:" ALLOCATOR_PREFIX_FOREIGN ":") != NULL;
}

void allocator_store_exec (allocator_store_t *self, pmo_commit_t *commit,
                           pmo_commit_result_t *result)
{
    pmo_commit_exec (commit, self->redis, result);
}

//  ---------------------------------------------------------------------
//  Cross-division requests between stacks

static char *s_origin_key (pmo_arena_t *arena, const char *division)
{
    return pmo_arena_printf (arena, "pmo:{%s}:%s:origin", division, ALLOCATOR_PREFIX_FOREIGN);
}

int allocator_store_read_foreign (allocator_store_t *self, pmo_arena_t *arena, const char *id,
                                  Pmo__ForeignAllocation **foreign, uint64_t *version)
{
    return s_read (self, arena, ALLOCATOR_PREFIX_FOREIGN, id, (ProtobufCMessage **)foreign,
                   version);
}

int allocator_store_booked_for (allocator_store_t *self, pmo_arena_t *arena, const char *division,
                                const char *origin_id, Pmo__Allocation **allocation)
{
    *allocation = NULL;
    redisReply *reply =
        pmo_redis_command (self->redis, "HGET %s %s", s_origin_key (arena, division), origin_id);
    if (!reply)
        return -1;
    int rc = 0;
    if (reply->type == REDIS_REPLY_STRING) {
        uint64_t version;
        rc = allocator_store_read_allocation (self, arena, reply->str, allocation, &version);
    }
    freeReplyObject (reply);
    return rc;
}

int allocator_store_note_foreign_division (allocator_store_t *self, const char *division)
{
    redisReply *reply = pmo_redis_command (self->redis, "SADD pmo:{%s}:%s:divisions %s", self->hub,
                                           ALLOCATOR_PREFIX_FOREIGN, division);
    if (!reply)
        return -1;
    int rc = reply->type == REDIS_REPLY_INTEGER ? 0 : -1;
    freeReplyObject (reply);
    return rc;
}

//  The strings of an array reply, copied into arena (NULL-terminated).
static size_t s_strings (pmo_arena_t *arena, redisReply *reply, char ***out)
{
    size_t n = reply->type == REDIS_REPLY_ARRAY ? reply->elements : 0;
    char **list = pmo_arena_alloc (arena, (n + 1) * sizeof (char *));
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (reply->element[i]->type == REDIS_REPLY_STRING)
            list[k++] = pmo_arena_strdup (arena, reply->element[i]->str);
    list[k] = NULL;
    *out = list;
    return k;
}

int allocator_store_foreign_divisions (allocator_store_t *self, pmo_arena_t *arena,
                                       char ***divisions, size_t *n)
{
    redisReply *reply = pmo_redis_command (self->redis, "SMEMBERS pmo:{%s}:%s:divisions", self->hub,
                                           ALLOCATOR_PREFIX_FOREIGN);
    if (!reply)
        return -1;
    *n = s_strings (arena, reply, divisions);
    freeReplyObject (reply);
    return 0;
}

int allocator_store_foreign_ids (allocator_store_t *self, pmo_arena_t *arena, const char *division,
                                 char ***ids, size_t *n)
{
    redisReply *reply = pmo_redis_command (self->redis, "ZREVRANGE pmo:{%s}:ix:%s 0 -1", division,
                                           ALLOCATOR_PREFIX_FOREIGN);
    if (!reply)
        return -1;
    *n = s_strings (arena, reply, ids);
    freeReplyObject (reply);
    return 0;
}

void allocator_store_put_foreign (allocator_store_t *self, pmo_commit_t *commit, pmo_arena_t *arena,
                                  const Pmo__ForeignAllocation *foreign, uint64_t expect)
{
    s_put (commit, arena, ALLOCATOR_PREFIX_FOREIGN, foreign->division, &foreign->base, expect);
}

void allocator_store_claim_origin (allocator_store_t *self, pmo_commit_t *commit,
                                   pmo_arena_t *arena, const char *division, const char *origin_id,
                                   const char *allocation_id)
{
    pmo_commit_claim (commit, s_origin_key (arena, division), origin_id, allocation_id);
}
