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
//  count new ids for kind in division in one step (an import batch): the
//  first is "<prefix>_<division>_<*first>", the others follow in sequence.
int registry_store_next_ids (registry_store_t *self, const registry_kind_t *kind,
                             const char *division, uint64_t count, uint64_t *first);
//  The id holding a code in division, or 0 if the code is free.
int registry_store_code_owner (registry_store_t *self, pmo_arena_t *arena,
                               const registry_kind_t *kind, const char *division, const char *code,
                               char **id);
//  The owners of n codes of one kind in division, asked in one command:
//  ids[i] is the id holding codes[i] (in arena), or NULL if it is free.
int registry_store_code_owners (registry_store_t *self, pmo_arena_t *arena,
                                const registry_kind_t *kind, const char *division,
                                const char *const *codes, size_t n, char **ids);
//  Every org unit, in creation order.
int registry_store_org_units (registry_store_t *self, pmo_arena_t *arena, Pmo__OrgUnit ***units,
                              size_t *n);
//  The org units at positions start .. start+page-1 of the creation order
//  (page 0: to the end). *ids_read (if not NULL) is how many positions
//  there were, units read or not: fewer than page means the end.
int registry_store_org_units_page (registry_store_t *self, pmo_arena_t *arena, size_t start,
                                   size_t page, Pmo__OrgUnit ***units, size_t *n, size_t *ids_read);
//  The org tree's generation (in arena): every change of a unit is a
//  commit whose event goes to the hub's stream, so the id of that stream's
//  last entry moves whenever the tree may have changed (and, harmlessly,
//  when other hub entities do). NULL if Redis failed.
char *registry_store_org_generation (registry_store_t *self, pmo_arena_t *arena);
//  Ids in an index after a score, in score order: the entities of kind in an
//  org unit (owner = unit id), or under a project (owner = project id).
int registry_store_index_page (registry_store_t *self, pmo_arena_t *arena,
                               const registry_kind_t *kind, const char *division, const char *owner,
                               double after, size_t count, char ***ids, double **scores, size_t *n);
//  The last count ids (newest first) of several owners' indexes in one
//  round trip: ids[i] holds up to count ids of owners[i] (in divisions[i]).
int registry_store_index_last_many (registry_store_t *self, pmo_arena_t *arena,
                                    const registry_kind_t *kind, char *const *divisions,
                                    char *const *owners, size_t n, size_t count, char ***ids,
                                    size_t *found);
//  The division's projects with a pending gate request, by project
//  sequence, after score `after` (as registry_store_index_page).
int registry_store_gates_page (registry_store_t *self, pmo_arena_t *arena, const char *division,
                               double after, size_t count, char ***ids, double **scores, size_t *n);
//  How many entities an index holds (0 when none).
int registry_store_index_size (registry_store_t *self, const registry_kind_t *kind,
                               const char *division, const char *owner, long long *size);

//  Writes, gathered into one commit.
pmo_commit_t *registry_store_commit (registry_store_t *self, const char *division,
                                     const char *request_id);
//  An entity as packed into its commit, for its event and reply to reuse
//  (pmo_reflect_pack_with): kind is NULL where nothing was packed.
typedef struct {
    const registry_kind_t *kind;
    const ProtobufCMessage *msg; //  the entity packed
    const uint8_t *blob;
    size_t size;
} registry_entity_blob_t;

//  Put an entity, checking that the stored version is expect (0 = new);
//  returns it as packed (in arena).
registry_entity_blob_t registry_store_put (registry_store_t *self, pmo_commit_t *commit,
                                           pmo_arena_t *arena, const char *division,
                                           const ProtobufCMessage *msg, uint64_t expect);
void registry_store_index (registry_store_t *self, pmo_commit_t *commit, pmo_arena_t *arena,
                           const registry_kind_t *kind, const char *division, const char *owner,
                           const char *id, bool add);
//  Add a project to its division's pending gates, scored by the time its
//  request was asked (pending), or remove it (NULL).
void registry_store_gate_pending (registry_store_t *self, pmo_commit_t *commit, pmo_arena_t *arena,
                                  const char *division, const char *project_id,
                                  const Pmo__GateRequest *pending);
void registry_store_claim_code (registry_store_t *self, pmo_commit_t *commit, pmo_arena_t *arena,
                                const registry_kind_t *kind, const char *division, const char *code,
                                const char *id, bool claim);
//  Returns the event as packed into the commit (in arena) and its *size.
//  entity: its entity as already packed (registry_store_put), or NULL.
uint8_t *registry_store_event (registry_store_t *self, pmo_commit_t *commit, pmo_arena_t *arena,
                               const char *division, Pmo__Event *event,
                               const registry_entity_blob_t *entity, size_t *size);
//  The stream ids of the last n events of division's stream up to last_id,
//  oldest first, into ids[0..n) (in arena; NULL where not read: the event
//  is still published, without its id). 0, or -1 if Redis failed.
int registry_store_event_ids (registry_store_t *self, pmo_arena_t *arena, const char *division,
                              const char *last_id, size_t n, char **ids);
//  Trim division's event stream of what every consumer group is done with,
//  keeping keep_ms (pmo_stream_trim_acknowledged). Entries removed, or -1.
long long registry_store_trim_events (registry_store_t *self, const char *division,
                                      int64_t keep_ms);

//  The sequence number in an id ("pr_dft_43" -> 43).
double registry_store_id_seq (const char *id);

//  ---------------------------------------------------------------------
//  The reads of one request in one round trip (the hot paths)

typedef enum {
    REGISTRY_READ_ENTITY,  //  kind + id -> msg, version (found = 0 when absent)
    REGISTRY_READ_REPLAY,  //  division + request_id -> blob, size of a done request
    REGISTRY_READ_NEXT_ID, //  kind + division -> new_id, seq
} registry_read_op_t;

typedef struct {
    registry_read_op_t op;
    const registry_kind_t *kind;
    const char *id;
    const char *division;
    const char *request_id;
    pmo_arena_t *arena;    //  where to decode (a batch reads for many requests)
    int found;             //  1 when the entity or stored reply exists
    ProtobufCMessage *msg; //  in the arena
    uint64_t version;
    uint8_t *blob;
    size_t size;
    char *new_id;
    uint64_t seq;
} registry_read_t;

//  Send every read, then collect the answers: one round trip. Entity reads
//  with a malformed id are answered found = 0 without asking Redis; an
//  entity named by several reads is asked for once. Results
//  go to each read's arena, or to arena where it has none.
//  Returns 0, or -1 if Redis was unavailable.
int registry_store_read_all (registry_store_t *self, pmo_arena_t *arena, registry_read_t *reads,
                             size_t n);

//  The division and path of an org unit this process has read before. They
//  never change once the unit exists (units are not moved), so they are
//  kept without expiry and are safe to share between replicas' decisions.
//  Returns false if the unit has not been seen.
bool registry_store_place (registry_store_t *self, const char *unit, const char **division,
                           const char **path);

#endif
