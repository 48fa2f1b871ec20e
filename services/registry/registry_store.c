/*  registry_store.c: the registry's Redis layout.

    pmo:{<hub>}:ou:<id>                  org unit (hash v, d)
    pmo:{<hub>}:ous                      zset of org unit ids by creation
    pmo:{<div>}:<prefix>:<id>            entity (hash v = version, d = protobuf)
    pmo:{<div>}:seq                      hash prefix -> last sequence number reserved
    pmo:{<div>}:code:<prefix>            hash code -> id (unique codes)
    pmo:{<div>}:ix:<prefix>:ou:<unit>    zset of ids in an org unit, by sequence
    pmo:{<div>}:ix:<prefix>:of:<project> zset of a project's milestones, reports, decisions
    pmo:{<div>}:events                   the division's event stream
    pmo:{<div>}:idem:<request id>        the reply of a done request (24 h)
*/
#include "registry_store.h"
#include "registry_model.h"

#include "pmo_stream.h"
#include "pmo_wire.h"
#include "pmo_log.h"

#include <assert.h>
#include <czmq.h>
#include <stdlib.h>
#include <string.h>

#define IDEM_TTL_S 86400

static const registry_kind_t s_kinds[] = {
    {PMO__ENTITY_KIND__ENTITY_KIND_ORG_UNIT, "org_unit", "ou", &pmo__org_unit__descriptor,
     "org_unit", "org_units", "org_unit_snapshot", false, false},
    {PMO__ENTITY_KIND__ENTITY_KIND_PORTFOLIO, "portfolio", "pf", &pmo__portfolio__descriptor,
     "portfolio", "portfolios", "portfolio", true, false},
    {PMO__ENTITY_KIND__ENTITY_KIND_PROGRAMME, "programme", "pg", &pmo__programme__descriptor,
     "programme", "programmes", "programme", true, false},
    {PMO__ENTITY_KIND__ENTITY_KIND_PROJECT, "project", "pr", &pmo__project__descriptor, "project",
     "projects", "project", true, false},
    {PMO__ENTITY_KIND__ENTITY_KIND_MILESTONE, "milestone", "ms", &pmo__milestone__descriptor,
     "milestone", "milestones", "milestone", false, true},
    {PMO__ENTITY_KIND__ENTITY_KIND_STATUS_REPORT, "status_report", "sr",
     &pmo__status_report__descriptor, "status_report", "status_reports", "status_report", false,
     true},
    {PMO__ENTITY_KIND__ENTITY_KIND_GATE_DECISION, "gate_decision", "gd",
     &pmo__gate_decision__descriptor, "gate_decision", "gate_decisions", "gate_decision", false,
     true},
};

const registry_kind_t *registry_kind (Pmo__EntityKind kind)
{
    for (size_t i = 0; i < sizeof s_kinds / sizeof s_kinds[0]; i++)
        if (s_kinds[i].kind == kind)
            return &s_kinds[i];
    return NULL;
}

const registry_kind_t *registry_kind_of (const ProtobufCMessageDescriptor *desc)
{
    for (size_t i = 0; i < sizeof s_kinds / sizeof s_kinds[0]; i++)
        if (s_kinds[i].desc == desc)
            return &s_kinds[i];
    return NULL;
}

//  Where an org unit sits: immutable once the unit exists.
typedef struct {
    char *division;
    char *path;
} place_t;

struct _registry_store_t {
    pmo_redis_t *redis; //  not owned
    char hub[40];
    zhashx_t *places; //  unit id -> place_t, filled as units are read
    zhashx_t *blocks; //  "<division> <prefix>" -> block_t
};

//  Id numbers are reserved in blocks: one counter call gives this registry
//  S_ID_BLOCK numbers more than it needs now, and the creates after it take
//  the rest without asking Redis. The counter is written before any number
//  of the block is used, and the commit that first uses one is confirmed by
//  the replicas after it (WAIT covers every earlier write of a
//  connection), so a number in use is never one the counter can give again,
//  even after a failover. Numbers reserved and not used are skipped: after
//  a restart, or when the connection to Redis is made again (it may be a new
//  master whose counter lost the reservation, so the rest of the block is
//  dropped). Several registries hold blocks of their own, so their ids are
//  unique but not in the order of creation across registries.
#define S_ID_BLOCK 64

typedef struct {
    uint64_t next;      //  the next number to give out
    uint64_t last;      //  the last number reserved (next > last: none left)
    uint64_t connected; //  pmo_redis_connects when it was reserved
} block_t;

//  Numbers for new ids: HINCRBY, but never one this registry has issued
//  before. After a Sentinel failover that lost the master's last writes the
//  counter can be behind ids already handed out (and acknowledged); an id
//  issued again would name another entity. KEYS[1] the seq hash, ARGV the
//  prefix, how many, the highest issued; returns the last new number.
#define S_NEXT_IDS_LUA                                                                             \
    "local n = redis.call('HINCRBY', KEYS[1], ARGV[1], ARGV[2]) "                                  \
    "local least = tonumber(ARGV[3]) + tonumber(ARGV[2]) "                                         \
    "if n < least then redis.call('HSET', KEYS[1], ARGV[1], least) n = least end "                 \
    "return n"

static void s_place_destroy (void **item)
{
    place_t *place = *item;
    free (place->division);
    free (place->path);
    free (place);
    *item = NULL;
}

static void s_block_destroy (void **item)
{
    free (*item);
    *item = NULL;
}

registry_store_t *registry_store_new (pmo_redis_t *redis, const char *hub)
{
    registry_store_t *self = calloc (1, sizeof (registry_store_t));
    assert (self);
    self->redis = redis;
    snprintf (self->hub, sizeof self->hub, "%s", hub);
    self->places = zhashx_new ();
    assert (self->places);
    zhashx_set_destructor (self->places, s_place_destroy);
    self->blocks = zhashx_new ();
    assert (self->blocks);
    zhashx_set_destructor (self->blocks, s_block_destroy);
    return self;
}

void registry_store_destroy (registry_store_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        zhashx_destroy (&(*self_p)->places);
        zhashx_destroy (&(*self_p)->blocks);
    }
    free (*self_p);
    *self_p = NULL;
}

//  Remember where an org unit that was just read sits.
static void s_remember (registry_store_t *self, const ProtobufCMessage *msg)
{
    if (!msg || msg->descriptor != &pmo__org_unit__descriptor)
        return;
    const Pmo__OrgUnit *unit = (const Pmo__OrgUnit *)msg;
    if (zhashx_lookup (self->places, unit->id) || pmo_str_empty (unit->path))
        return;
    place_t *place = malloc (sizeof (place_t));
    assert (place);
    place->division = strdup (unit->division);
    place->path = strdup (unit->path);
    zhashx_insert (self->places, unit->id, place);
}

bool registry_store_place (registry_store_t *self, const char *unit, const char **division,
                           const char **path)
{
    place_t *place = unit ? zhashx_lookup (self->places, unit) : NULL;
    if (!place)
        return false;
    *division = place->division;
    *path = place->path;
    return true;
}

const char *registry_store_hub (registry_store_t *self)
{
    return self->hub;
}

pmo_redis_t *registry_store_redis (registry_store_t *self)
{
    return self->redis;
}

int registry_store_division (registry_store_t *self, const registry_kind_t *kind, const char *id,
                             char *division, size_t size)
{
    if (kind->kind == PMO__ENTITY_KIND__ENTITY_KIND_ORG_UNIT) {
        if (!pmo_slug_valid (id, 2, 32))
            return -1;
        snprintf (division, size, "%s", self->hub);
        return 0;
    }
    return pmo_id_division (id, kind->prefix, division, size);
}

static char *s_entity_key (pmo_arena_t *arena, const registry_kind_t *kind, const char *division,
                           const char *id)
{
    return pmo_arena_cat (arena, "pmo:{", division, "}:", kind->prefix, ":", id, NULL);
}

double registry_store_id_seq (const char *id)
{
    const char *underscore = strrchr (id, '_');
    return underscore ? strtod (underscore + 1, NULL) : 0;
}

//  Decode an entity hash reply ([v, d] from HMGET).
static int s_decode (pmo_arena_t *arena, const registry_kind_t *kind, redisReply *reply,
                     ProtobufCMessage **msg, uint64_t *version)
{
    if (reply->type == REDIS_REPLY_ERROR) {
        //  Never "absent": the store could not say (a denied command, ...)
        pmo_error ("registry: read of a %s refused by redis: %s", kind->name, reply->str);
        return -1;
    }
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 2 ||
        reply->element[1]->type != REDIS_REPLY_STRING)
        return 0;
    *msg =
        protobuf_c_message_unpack (kind->desc, pmo_arena_allocator (arena), reply->element[1]->len,
                                   (const uint8_t *)reply->element[1]->str);
    if (!*msg)
        return 0;
    if (version)
        *version = reply->element[0]->type == REDIS_REPLY_STRING
                       ? strtoull (reply->element[0]->str, NULL, 10)
                       : 0;
    return 1;
}

int registry_store_read (registry_store_t *self, pmo_arena_t *arena, const registry_kind_t *kind,
                         const char *id, ProtobufCMessage **msg, uint64_t *version)
{
    *msg = NULL;
    char division[40];
    if (registry_store_division (self, kind, id, division, sizeof division))
        return 0;
    redisReply *reply =
        pmo_redis_command (self->redis, "HMGET %s v d", s_entity_key (arena, kind, division, id));
    if (!reply)
        return -1;
    int rc = s_decode (arena, kind, reply, msg, version);
    s_remember (self, *msg);
    freeReplyObject (reply);
    return rc;
}

int registry_store_read_many (registry_store_t *self, pmo_arena_t *arena,
                              const registry_kind_t *kind, char *const *ids, size_t n,
                              ProtobufCMessage **msgs)
{
    size_t sent = 0;
    for (size_t i = 0; i < n; i++) {
        msgs[i] = NULL;
        char division[40];
        if (registry_store_division (self, kind, ids[i], division, sizeof division))
            continue;
        if (pmo_redis_pipe (self->redis, "HMGET %s v d",
                            s_entity_key (arena, kind, division, ids[i])))
            return -1;
        sent++;
    }
    int rc = 0;
    for (size_t i = 0; i < n && sent; i++) {
        char division[40];
        if (registry_store_division (self, kind, ids[i], division, sizeof division))
            continue;
        sent--;
        redisReply *reply = pmo_redis_pipe_reply (self->redis);
        if (!reply) {
            rc = -1;
            continue;
        }
        if (s_decode (arena, kind, reply, &msgs[i], NULL) < 0)
            rc = -1;
        s_remember (self, msgs[i]);
        freeReplyObject (reply);
    }
    return rc;
}

int registry_store_replay (registry_store_t *self, pmo_arena_t *arena, const char *division,
                           const char *request_id, uint8_t **out, size_t *size)
{
    return pmo_commit_replay (self->redis, arena, division, request_id, out, size);
}

//  The block of prefix in division (made empty if new), the numbers left in
//  it (0 when the connection was made again since it was reserved: the rest
//  is dropped).
static block_t *s_block (registry_store_t *self, const char *division, const char *prefix,
                         uint64_t *left)
{
    char key[80];
    snprintf (key, sizeof key, "%s %s", division, prefix);
    block_t *block = zhashx_lookup (self->blocks, key);
    if (!block) {
        block = calloc (1, sizeof (block_t));
        assert (block);
        block->next = 1;
        zhashx_insert (self->blocks, key, block);
    }
    if (block->connected != pmo_redis_connects (self->redis))
        block->next = block->last + 1;
    *left = block->next <= block->last ? block->last - block->next + 1 : 0;
    return block;
}

//  Queue (pipelined) the script that reserves count numbers: never below
//  the last this registry reserved (block->last), which a failover may have
//  taken back from the counter.
static int s_reserve_pipe (registry_store_t *self, const char *division, const char *prefix,
                           uint64_t count, const block_t *block)
{
    return pmo_redis_pipe (self->redis, "EVAL %s 1 pmo:{%s}:seq %s %llu %llu", S_NEXT_IDS_LUA,
                           division, prefix, (unsigned long long)count,
                           (unsigned long long)block->last);
}

//  Take the script's reply for count numbers reserved after left numbers
//  still in block: the block then holds the left ones followed by the new
//  ones (*gap_at: the number after the last left one, *gap_to: the first
//  new one; numbers in between belong to others). -1 if the reply is not
//  one.
static int s_reserve_reply (registry_store_t *self, block_t *block, uint64_t left, uint64_t count,
                            redisReply *reply, uint64_t *gap_at, uint64_t *gap_to)
{
    if (!reply || reply->type != REDIS_REPLY_INTEGER || reply->integer < (long long)count) {
        //  a failover refusing writes for a while is said once (warning)
        if (reply && reply->type == REDIS_REPLY_ERROR &&
            !pmo_redis_refused_write (self->redis, reply, "registry: new ids"))
            pmo_error ("registry: new ids refused by redis: %s", reply->str);
        return -1;
    }
    uint64_t last = (uint64_t)reply->integer;
    *gap_at = left ? block->last + 1 : 0;
    *gap_to = last - count + 1;
    if (!left)
        block->next = *gap_to;
    block->last = last;
    block->connected = pmo_redis_connects (self->redis);
    return 0;
}

//  The next number of a block (reserved with s_reserve_reply).
static uint64_t s_take (block_t *block, uint64_t gap_at, uint64_t gap_to)
{
    if (gap_at && block->next == gap_at)
        block->next = gap_to;
    assert (block->next <= block->last);
    return block->next++;
}

int registry_store_next_id (registry_store_t *self, pmo_arena_t *arena, const registry_kind_t *kind,
                            const char *division, char **id, uint64_t *seq)
{
    uint64_t first;
    if (registry_store_next_ids (self, kind, division, 1, &first))
        return -1;
    *seq = first;
    *id = pmo_arena_printf (arena, "%s_%s_%llu", kind->prefix, division, (unsigned long long)first);
    return 0;
}

int registry_store_next_ids (registry_store_t *self, const registry_kind_t *kind,
                             const char *division, uint64_t count, uint64_t *first)
{
    uint64_t left;
    block_t *block = s_block (self, division, kind->prefix, &left);
    //  Consecutive numbers (an import batch's): what is left of the block
    //  if enough, else a reservation of their own (the rest of the block
    //  is dropped, so that ids keep growing)
    if (left < count) {
        uint64_t want = count + (count < S_ID_BLOCK ? S_ID_BLOCK : 0), gap_at, gap_to;
        if (s_reserve_pipe (self, division, kind->prefix, want, block))
            return -1;
        redisReply *reply = pmo_redis_pipe_reply (self->redis);
        if (!reply)
            return -1;
        int rc = s_reserve_reply (self, block, 0, want, reply, &gap_at, &gap_to);
        freeReplyObject (reply);
        if (rc)
            return -1;
    }
    *first = block->next;
    block->next += count;
    return 0;
}

int registry_store_code_owner (registry_store_t *self, pmo_arena_t *arena,
                               const registry_kind_t *kind, const char *division, const char *code,
                               char **id)
{
    redisReply *reply =
        pmo_redis_command (self->redis, "HGET pmo:{%s}:code:%s %s", division, kind->prefix, code);
    if (!reply)
        return -1;
    int rc = 0;
    if (reply->type == REDIS_REPLY_STRING) {
        *id = pmo_arena_strdup (arena, reply->str);
        rc = 1;
    }
    freeReplyObject (reply);
    return rc;
}

int registry_store_code_owners (registry_store_t *self, pmo_arena_t *arena,
                                const registry_kind_t *kind, const char *division,
                                const char *const *codes, size_t n, char **ids)
{
    if (n == 0)
        return 0;
    const char **argv = pmo_arena_alloc (arena, (n + 2) * sizeof (char *));
    argv[0] = "HMGET";
    argv[1] = pmo_arena_printf (arena, "pmo:{%s}:code:%s", division, kind->prefix);
    for (size_t i = 0; i < n; i++)
        argv[i + 2] = codes[i];
    redisReply *reply = pmo_redis_commandv (self->redis, (int)(n + 2), argv, NULL);
    if (!reply)
        return -1;
    int rc = 0;
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements != n)
        rc = -1;
    for (size_t i = 0; i < n; i++)
        ids[i] = rc == 0 && reply->element[i]->type == REDIS_REPLY_STRING
                     ? pmo_arena_strdup (arena, reply->element[i]->str)
                     : NULL;
    freeReplyObject (reply);
    return rc;
}

char *registry_store_org_generation (registry_store_t *self, pmo_arena_t *arena)
{
    char key[96];
    if (pmo_stream_key_buf (key, sizeof key, self->hub))
        return NULL;
    redisReply *reply = pmo_redis_command (self->redis, "XREVRANGE %s + - COUNT 1", key);
    if (!reply)
        return NULL;
    char *generation = NULL;
    if (reply->type == REDIS_REPLY_ARRAY && reply->elements == 1 &&
        reply->element[0]->type == REDIS_REPLY_ARRAY && reply->element[0]->elements >= 1)
        generation = pmo_arena_strdup (arena, reply->element[0]->element[0]->str);
    else if (reply->type == REDIS_REPLY_ARRAY)
        generation = pmo_arena_strdup (arena, "0");
    freeReplyObject (reply);
    return generation;
}

int registry_store_org_units (registry_store_t *self, pmo_arena_t *arena, Pmo__OrgUnit ***units,
                              size_t *n)
{
    return registry_store_org_units_page (self, arena, 0, 0, units, n, NULL);
}

int registry_store_org_units_page (registry_store_t *self, pmo_arena_t *arena, size_t start,
                                   size_t page, Pmo__OrgUnit ***units, size_t *n, size_t *ids_read)
{
    *units = NULL;
    *n = 0;
    if (ids_read)
        *ids_read = 0;
    long long stop = page ? (long long)(start + page - 1) : -1;
    redisReply *ids = pmo_redis_command (self->redis, "ZRANGE pmo:{%s}:ous %llu %lld", self->hub,
                                         (unsigned long long)start, stop);
    if (!ids)
        return -1;
    if (ids_read && ids->type == REDIS_REPLY_ARRAY)
        *ids_read = ids->elements;
    if (ids->type != REDIS_REPLY_ARRAY || ids->elements == 0) {
        freeReplyObject (ids);
        return 0;
    }
    char **list = pmo_arena_alloc (arena, ids->elements * sizeof (char *));
    for (size_t i = 0; i < ids->elements; i++)
        list[i] = pmo_arena_strdup (arena, ids->element[i]->str);
    size_t count = ids->elements;
    freeReplyObject (ids);
    ProtobufCMessage **msgs = pmo_arena_alloc (arena, count * sizeof (void *));
    if (registry_store_read_many (
            self, arena, registry_kind (PMO__ENTITY_KIND__ENTITY_KIND_ORG_UNIT), list, count, msgs))
        return -1;
    *units = pmo_arena_alloc (arena, count * sizeof (void *));
    for (size_t i = 0; i < count; i++)
        if (msgs[i])
            (*units)[(*n)++] = (Pmo__OrgUnit *)msgs[i];
    return 0;
}

static char *s_index_key (pmo_arena_t *arena, const registry_kind_t *kind, const char *division,
                          const char *owner)
{
    if (kind->kind == PMO__ENTITY_KIND__ENTITY_KIND_ORG_UNIT)
        return pmo_arena_cat (arena, "pmo:{", division, "}:ous", NULL);
    return pmo_arena_cat (arena, "pmo:{", division, "}:ix:", kind->prefix,
                          kind->of_project ? ":of:" : ":ou:", owner, NULL);
}

static char *s_gates_key (pmo_arena_t *arena, const char *division)
{
    return pmo_arena_printf (arena, "pmo:{%s}:gates", division);
}

//  A page of a sorted set after score `after`.
static int s_zpage (registry_store_t *self, pmo_arena_t *arena, const char *key, double after,
                    size_t count, char ***ids, double **scores, size_t *n)
{
    *n = 0;
    char min[40];
    snprintf (min, sizeof min, "(%.17g", after);
    redisReply *reply =
        pmo_redis_command (self->redis, "ZRANGEBYSCORE %s %s +inf WITHSCORES LIMIT 0 %llu", key,
                           min, (unsigned long long)count);
    if (!reply)
        return -1;
    if (reply->type == REDIS_REPLY_ARRAY && reply->elements >= 2) {
        size_t found = reply->elements / 2;
        *ids = pmo_arena_alloc (arena, found * sizeof (char *));
        *scores = pmo_arena_alloc (arena, found * sizeof (double));
        for (size_t i = 0; i < found; i++) {
            (*ids)[i] = pmo_arena_strdup (arena, reply->element[2 * i]->str);
            (*scores)[i] = strtod (reply->element[2 * i + 1]->str, NULL);
        }
        *n = found;
    }
    freeReplyObject (reply);
    return 0;
}

int registry_store_index_page (registry_store_t *self, pmo_arena_t *arena,
                               const registry_kind_t *kind, const char *division, const char *owner,
                               double after, size_t count, char ***ids, double **scores, size_t *n)
{
    return s_zpage (self, arena, s_index_key (arena, kind, division, owner), after, count, ids,
                    scores, n);
}

int registry_store_gates_page (registry_store_t *self, pmo_arena_t *arena, const char *division,
                               double after, size_t count, char ***ids, double **scores, size_t *n)
{
    return s_zpage (self, arena, s_gates_key (arena, division), after, count, ids, scores, n);
}

int registry_store_index_last_many (registry_store_t *self, pmo_arena_t *arena,
                                    const registry_kind_t *kind, char *const *divisions,
                                    char *const *owners, size_t n, size_t count, char ***ids,
                                    size_t *found)
{
    for (size_t i = 0; i < n; i++)
        if (pmo_redis_pipe (self->redis, "ZREVRANGE %s 0 %llu",
                            s_index_key (arena, kind, divisions[i], owners[i]),
                            (unsigned long long)(count ? count - 1 : 0)))
            return -1;
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        ids[i] = NULL;
        found[i] = 0;
        redisReply *reply = pmo_redis_pipe_reply (self->redis);
        if (!reply) {
            rc = -1;
            continue;
        }
        if (reply->type == REDIS_REPLY_ARRAY && reply->elements) {
            ids[i] = pmo_arena_alloc (arena, reply->elements * sizeof (char *));
            for (size_t k = 0; k < reply->elements; k++)
                ids[i][k] = pmo_arena_strdup (arena, reply->element[k]->str);
            found[i] = reply->elements;
        }
        freeReplyObject (reply);
    }
    return rc;
}

int registry_store_index_size (registry_store_t *self, const registry_kind_t *kind,
                               const char *division, const char *owner, long long *size)
{
    pmo_arena_t *arena = pmo_arena_new ();
    redisReply *reply =
        pmo_redis_command (self->redis, "ZCARD %s", s_index_key (arena, kind, division, owner));
    pmo_arena_destroy (&arena);
    if (!reply)
        return -1;
    *size = reply->type == REDIS_REPLY_INTEGER ? reply->integer : 0;
    freeReplyObject (reply);
    return 0;
}

pmo_commit_t *registry_store_commit (registry_store_t *self, const char *division,
                                     const char *request_id)
{
    return pmo_commit_new (division, request_id);
}

registry_entity_blob_t registry_store_put (registry_store_t *self, pmo_commit_t *commit,
                                           pmo_arena_t *arena, const char *division,
                                           const ProtobufCMessage *msg, uint64_t expect)
{
    const registry_kind_t *kind = registry_kind_of (msg->descriptor);
    assert (kind);
    size_t size;
    uint8_t *blob = pmo_reflect_pack (msg, arena, &size);
    const char *id = pmo_reflect_str (msg, "id");
    pmo_commit_put (commit, s_entity_key (arena, kind, division, id), expect,
                    pmo_reflect_u64 (msg, "version"), blob, size);
    return (registry_entity_blob_t){.kind = kind, .msg = msg, .blob = blob, .size = size};
}

void registry_store_index (registry_store_t *self, pmo_commit_t *commit, pmo_arena_t *arena,
                           const registry_kind_t *kind, const char *division, const char *owner,
                           const char *id, bool add)
{
    char *key = s_index_key (arena, kind, division, owner);
    if (add)
        pmo_commit_zadd (commit, key, registry_store_id_seq (id), id);
    else
        pmo_commit_zrem (commit, key, id);
}

void registry_store_gate_pending (registry_store_t *self, pmo_commit_t *commit, pmo_arena_t *arena,
                                  const char *division, const char *project_id,
                                  const Pmo__GateRequest *pending)
{
    char *key = s_gates_key (arena, division);
    if (pending)
        pmo_commit_zadd (commit, key, (double)pending->requested_ms, project_id);
    else
        pmo_commit_zrem (commit, key, project_id);
}

void registry_store_claim_code (registry_store_t *self, pmo_commit_t *commit, pmo_arena_t *arena,
                                const registry_kind_t *kind, const char *division, const char *code,
                                const char *id, bool claim)
{
    char *key = pmo_arena_cat (arena, "pmo:{", division, "}:code:", kind->prefix, NULL);
    if (claim)
        pmo_commit_claim (commit, key, code, id);
    else
        pmo_commit_unclaim (commit, key, code);
}

int registry_store_event_ids (registry_store_t *self, pmo_arena_t *arena, const char *division,
                              const char *last_id, size_t n, char **ids)
{
    return pmo_stream_last_ids (self->redis, arena, division, last_id, n, ids);
}

long long registry_store_trim_events (registry_store_t *self, const char *division, int64_t keep_ms)
{
    char key[128];
    if (pmo_stream_key_buf (key, sizeof key, division))
        return -1;
    return pmo_stream_trim_acknowledged (self->redis, key, keep_ms);
}

uint8_t *registry_store_event (registry_store_t *self, pmo_commit_t *commit, pmo_arena_t *arena,
                               const char *division, Pmo__Event *event,
                               const registry_entity_blob_t *entity, size_t *size)
{
    uint8_t *blob =
        entity && entity->kind &&
                *pmo_wire_message_slot (&event->base, entity->kind->event_field) == entity->msg
            ? pmo_reflect_pack_with (&event->base, entity->kind->event_field, entity->blob,
                                     entity->size, arena, size)
            : pmo_reflect_pack (&event->base, arena, size);
    pmo_commit_event (commit, pmo_stream_key (arena, division), event->type, blob, *size);
    return blob;
}

int registry_store_read_all (registry_store_t *self, pmo_arena_t *arena, registry_read_t *reads,
                             size_t n)
{
    //  New ids of one kind in one division come from its block (s_block)
    //  for the whole batch: the first such read takes all of them (count)
    //  and the others join it (leader), taking the next numbers in order.
    //  Only when the block holds too few is the counter asked, for the
    //  numbers missing and a block more.
    size_t *leader = malloc ((n ? n : 1) * sizeof (size_t));
    uint64_t *count = calloc (n ? n : 1, sizeof (uint64_t));
    uint64_t *left = calloc (n ? n : 1, sizeof (uint64_t));
    block_t **blocks = calloc (n ? n : 1, sizeof (block_t *));
    bool *sent = calloc (n ? n : 1, sizeof (bool));
    assert (leader && count && left && blocks && sent);
    //  An entity read by several requests of the batch (their org unit, as
    //  a rule) is asked of Redis once: the first such read leads, and its
    //  answer is decoded for each of the others too (into their arenas)
    for (size_t i = 0; i < n; i++) {
        leader[i] = i;
        if (reads[i].op == REGISTRY_READ_ENTITY && reads[i].id) {
            for (size_t j = 0; j < i; j++)
                if (reads[j].op == REGISTRY_READ_ENTITY && leader[j] == j &&
                    reads[j].kind == reads[i].kind && reads[j].id &&
                    strcmp (reads[j].id, reads[i].id) == 0) {
                    leader[i] = j;
                    break;
                }
            continue;
        }
        if (reads[i].op != REGISTRY_READ_NEXT_ID)
            continue;
        for (size_t j = 0; j < i; j++)
            if (reads[j].op == REGISTRY_READ_NEXT_ID && leader[j] == j &&
                reads[j].kind == reads[i].kind &&
                strcmp (reads[j].division, reads[i].division) == 0) {
                leader[i] = j;
                break;
            }
        count[leader[i]]++;
    }
    //  Queue every command first; entity reads with a malformed id send
    //  nothing and are answered "absent".
    int result = 0;
    for (size_t i = 0; i < n; i++) {
        registry_read_t *r = &reads[i];
        pmo_arena_t *into = r->arena ? r->arena : arena;
        r->found = 0;
        int rc = 0;
        char division[40];
        switch (r->op) {
        case REGISTRY_READ_ENTITY:
            if (leader[i] != i ||
                registry_store_division (self, r->kind, r->id, division, sizeof division))
                continue; //  answered with its leader, or malformed: absent
            //  Arguments, not a format string: hiredis's formatter costs
            //  several thousand instructions a command
            const char *hmget[] = {"HMGET", s_entity_key (into, r->kind, division, r->id), "v",
                                   "d"};
            rc = pmo_redis_pipev (self->redis, 4, hmget, NULL);
            break;
        case REGISTRY_READ_REPLAY: {
            char *key = pmo_commit_idem_key (r->division, r->request_id);
            const char *get[] = {"GET", key};
            rc = pmo_redis_pipev (self->redis, 2, get, NULL);
            free (key);
            break;
        }
        case REGISTRY_READ_NEXT_ID:
            if (leader[i] != i)
                continue;
            blocks[i] = s_block (self, r->division, r->kind->prefix, &left[i]);
            if (left[i] >= count[i])
                continue; //  taken from the block below
            rc = s_reserve_pipe (self, r->division, r->kind->prefix,
                                 count[i] - left[i] + S_ID_BLOCK, blocks[i]);
            break;
        }
        if (rc) {
            result = -1;
            break;
        }
        sent[i] = true;
    }
    //  Every reply sent is read, also after a failure (the pipeline stays
    //  in step)
    for (size_t i = 0; i < n; i++) {
        registry_read_t *r = &reads[i];
        bool from_block =
            r->op == REGISTRY_READ_NEXT_ID && leader[i] == i && blocks[i] && left[i] >= count[i];
        if (!sent[i] && !from_block)
            continue;
        pmo_arena_t *into = r->arena ? r->arena : arena;
        redisReply *reply = sent[i] ? pmo_redis_pipe_reply (self->redis) : NULL;
        if (sent[i] && !reply) {
            result = -1;
            continue;
        }
        if (reply && reply->type == REDIS_REPLY_ERROR && r->op != REGISTRY_READ_NEXT_ID) {
            //  Never "absent" (a replay not found would commit twice)
            pmo_error ("registry: a read refused by redis: %s", reply->str);
            result = -1;
        } else if (r->op == REGISTRY_READ_ENTITY) {
            r->found = s_decode (into, r->kind, reply, &r->msg, &r->version);
            s_remember (self, r->msg);
            for (size_t j = i + 1; j < n; j++)
                if (reads[j].op == REGISTRY_READ_ENTITY && leader[j] == i) {
                    registry_read_t *joined = &reads[j];
                    joined->found = s_decode (joined->arena ? joined->arena : arena, joined->kind,
                                              reply, &joined->msg, &joined->version);
                }
        } else if (r->op == REGISTRY_READ_REPLAY && reply->type == REDIS_REPLY_STRING) {
            r->blob = pmo_arena_memdup (into, reply->str, reply->len);
            r->size = reply->len;
            r->found = 1;
        } else if (r->op == REGISTRY_READ_NEXT_ID) {
            uint64_t gap_at = 0, gap_to = 0;
            bool reserved = !reply || s_reserve_reply (self, blocks[i], left[i],
                                                       count[i] - left[i] + S_ID_BLOCK, reply,
                                                       &gap_at, &gap_to) == 0;
            if (!reserved)
                result = -1;
            //  The leader's numbers, in the order of its reads
            for (size_t j = i; j < n && reserved; j++)
                if (leader[j] == i) {
                    registry_read_t *joined = &reads[j];
                    joined->seq = s_take (blocks[i], gap_at, gap_to);
                    joined->new_id = pmo_arena_printf (joined->arena ? joined->arena : arena,
                                                       "%s_%s_%llu", r->kind->prefix, r->division,
                                                       (unsigned long long)joined->seq);
                    joined->found = 1;
                }
        }
        if (reply)
            freeReplyObject (reply);
    }
    free (sent);
    free (blocks);
    free (left);
    free (count);
    free (leader);
    return result;
}
