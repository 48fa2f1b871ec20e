/*  planner_store.h: the planner's Redis layout. This is the only file that
    spells the planner's keys; the service README lists them.

    Keys are built into the caller's arena. Reads decode into the caller's
    arena and return 1 (found), 0 (absent) or -1 (Redis unavailable);
    writes go through one pmo_commit (planner_store_exec).
*/
#ifndef PLANNER_STORE_H_INCLUDED
#define PLANNER_STORE_H_INCLUDED

#include "pmo_commit.h"
#include "pmo_util.h"

#include <protobuf-c/protobuf-c.h>

//  Id prefixes of what the planner keeps
#define PLANNER_BENEFIT  "bn"
#define PLANNER_SCENARIO "sc"

//  A benefit, scenario (prefix) or a project's score record.
char *planner_key_entity (pmo_arena_t *arena, const char *division, const char *prefix,
                          const char *id);
char *planner_key_score (pmo_arena_t *arena, const char *division, const char *project_id);
//  The ids of a kind kept in a division (sorted set by creation).
char *planner_key_index (pmo_arena_t *arena, const char *division, const char *prefix);
//  A PMO unit's own planner policy (in the hub's slot).
char *planner_key_policy (pmo_arena_t *arena, const char *hub, const char *unit);

//  An entity hash (v, d) decoded as desc; *version may be NULL.
int planner_store_get (pmo_redis_t *redis, pmo_arena_t *arena, const char *key,
                       const ProtobufCMessageDescriptor *desc, ProtobufCMessage **msg,
                       uint64_t *version);
//  Several in one round trip; absent ones are NULL (versions may be NULL).
int planner_store_get_many (pmo_redis_t *redis, pmo_arena_t *arena, char *const *keys, size_t n,
                            const ProtobufCMessageDescriptor *desc, ProtobufCMessage **msgs,
                            uint64_t *versions);
//  A new id for prefix in division ("bn_dft_7").
int planner_store_next_id (pmo_redis_t *redis, pmo_arena_t *arena, const char *prefix,
                           const char *division, char **id);
//  Every member of a sorted set, in score order (at most max).
int planner_store_members (pmo_redis_t *redis, pmo_arena_t *arena, const char *key, size_t max,
                           char ***members, size_t *n);

#endif
