/*  registry_store.h: the registry's Redis layout. This is the only file
    that spells the registry's keys; the service README lists them.

    Every read decodes into the caller's arena. Reads return 1 (found),
    0 (absent) or -1 (Redis unavailable); writes go through one pmo_commit.
*/
#ifndef REGISTRY_STORE_H_INCLUDED
#define REGISTRY_STORE_H_INCLUDED

#include "events.pb-c.h"
#include "pmo_commit.h"
#include "pmo_reflect.h"
#include "pmo_util.h"
#include "registry.pb-c.h"

//  What the generic code needs to know about each kind of entity.
typedef struct {
    Pmo__EntityKind kind;
    const char *name;   //  "project"
    const char *prefix; //  id and key prefix, "pr"
    const ProtobufCMessageDescriptor *desc;
    const char *reply_field; //  its member of RegistryReply's body
    const char *page_field;  //  its list in Page
    const char *event_field; //  its member of Event's body
    bool has_code;           //  a unique human code per division
    bool of_project;         //  lives under a project (milestones, reports, decisions)
} registry_kind_t;

const registry_kind_t *registry_kind (Pmo__EntityKind kind);
const registry_kind_t *registry_kind_of (const ProtobufCMessageDescriptor *desc);

typedef struct _registry_store_t registry_store_t;

registry_store_t *registry_store_new (pmo_redis_t *redis, const char *hub);
void registry_store_destroy (registry_store_t **self_p);
const char *registry_store_hub (registry_store_t *self);
pmo_redis_t *registry_store_redis (registry_store_t *self);

//  The division whose slot holds an entity: the one in its id, or the hub
//  for org units. -1 if the id is malformed for the kind.
int registry_store_division (registry_store_t *self, const registry_kind_t *kind, const char *id,
                             char *division, size_t size);

//  One entity by id; *version is its stored version.
int registry_store_read (registry_store_t *self, pmo_arena_t *arena, const registry_kind_t *kind,
                         const char *id, ProtobufCMessage **msg, uint64_t *version);
//  Several entities of one kind in one round trip; absent ones are NULL.
int registry_store_read_many (registry_store_t *self, pmo_arena_t *arena,
                              const registry_kind_t *kind, char *const *ids, size_t n,
                              ProtobufCMessage **msgs);
//  The stored reply of a request already done in division (1), or 0.
int registry_store_replay (registry_store_t *self, pmo_arena_t *arena, const char *division,
                           const char *request_id, uint8_t **reply, size_t *size);
//  A new id for kind in division ("pr_dft_43") and its sequence number.
int registry_store_next_id (registry_store_t *self, pmo_arena_t *arena, const registry_kind_t *kind,
                            const char *division, char **id, uint64_t *seq);
//  The id holding a code in division, or 0 if the code is free.
int registry_store_code_owner (registry_store_t *self, pmo_arena_t *arena,
                               const registry_kind_t *kind, const char *division, const char *code,
                               char **id);
//  Every org unit, in creation order.
int registry_store_org_units (registry_store_t *self, pmo_arena_t *arena, Pmo__OrgUnit ***units,
                              size_t *n);
//  Ids in an index after a score, in score order: the entities of kind in an
//  org unit (owner = unit id), or under a project (owner = project id).
int registry_store_index_page (registry_store_t *self, pmo_arena_t *arena,
                               const registry_kind_t *kind, const char *division, const char *owner,
                               double after, size_t count, char ***ids, double **scores, size_t *n);
//  How many entities an index holds (0 when none).
int registry_store_index_size (registry_store_t *self, const registry_kind_t *kind,
                               const char *division, const char *owner, long long *size);

//  Writes, gathered into one commit.
pmo_commit_t *registry_store_commit (registry_store_t *self, const char *division,
                                     const char *request_id);
//  Put an entity, checking that the stored version is expect (0 = new).
void registry_store_put (registry_store_t *self, pmo_commit_t *commit, pmo_arena_t *arena,
                         const char *division, const ProtobufCMessage *msg, uint64_t expect);
void registry_store_index (registry_store_t *self, pmo_commit_t *commit, pmo_arena_t *arena,
                           const registry_kind_t *kind, const char *division, const char *owner,
                           const char *id, bool add);
void registry_store_claim_code (registry_store_t *self, pmo_commit_t *commit, pmo_arena_t *arena,
                                const registry_kind_t *kind, const char *division, const char *code,
                                const char *id, bool claim);
void registry_store_event (registry_store_t *self, pmo_commit_t *commit, pmo_arena_t *arena,
                           const char *division, const Pmo__Event *event);
//  The stream of a division's events.
char *registry_store_events_key (pmo_arena_t *arena, const char *division);

//  The sequence number in an id ("pr_dft_43" -> 43).
double registry_store_id_seq (const char *id);

#endif
