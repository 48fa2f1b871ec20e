/*  federation_model.h: the pure rules of hub and spoke: stream id order,
    which divisions a spoke key may speak for, a spoke's state from what
    it last reported, and the enterprise roll-up computed from the entity
    snapshots the hub holds. No I/O: the easiest part to test.
*/
#ifndef FEDERATION_MODEL_H_INCLUDED
#define FEDERATION_MODEL_H_INCLUDED

#include "events.pb-c.h"
#include "federation.pb-c.h"
#include "pmo_util.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

//  True if id is a Redis stream id "<ms>-<seq>" (both decimal).
bool federation_stream_id_valid (const char *id);
//  Order of two valid stream ids: <0, 0, >0. "0" or "" sorts first.
int federation_stream_id_cmp (const char *a, const char *b);
//  The milliseconds part of a stream id (0 if malformed).
int64_t federation_stream_id_ms (const char *id);

//  True if division is one of the n divisions (a spoke key's list).
bool federation_division_allowed (char *const *divisions, size_t n, const char *division);
//  Split "a,b,c" into slugs (arena); -1 if one is not a valid division id
//  or there are none or more than max.
int federation_divisions_parse (const char *text, pmo_arena_t *arena, char ***divisions, size_t *n,
                                size_t max);

//  When a spoke counts as lagging or down.
typedef struct {
    int64_t lag_ms;  //  events older than this waiting in the spoke: lagging
    int64_t down_ms; //  nothing heard for this long: down
} federation_thresholds_t;

//  The state of a spoke at now_ms from what it last reported.
Pmo__SpokeState federation_spoke_state (int64_t now_ms, int64_t last_seen_ms,
                                        uint64_t backlog_entries, int64_t behind_ms,
                                        const federation_thresholds_t *thresholds);

//  The roll-up key of the entity an event describes: "<kind>:<entity id>",
//  where kind is the event body's member name ("project", "health", ...).
//  NULL (nothing to hold) if the event has no body or no entity id.
//  Allocated in arena.
const char *federation_entity_field (const Pmo__Event *event, pmo_arena_t *arena);

//  Counters by label, in the arena, in first-seen order.
typedef struct {
    char **keys;
    uint64_t *values;
    size_t count;
    size_t capacity;
} federation_counts_t;
void federation_counts_add (federation_counts_t *self, pmo_arena_t *arena, const char *key,
                            uint64_t delta);

//  A division's (or the enterprise's) roll-up being added up.
typedef struct {
    uint64_t projects;
    federation_counts_t by_status;
    federation_counts_t by_phase;
    federation_counts_t health;
    uint64_t open_alerts;
    federation_counts_t capacity;
    uint64_t resources;
    federation_counts_t entities;
    int64_t updated_ms;
} federation_rollup_t;

//  The longest counter name of a roll-up ("c:" and a skill name).
#define FEDERATION_COUNTER_MAX 160

//  Add the entity an event carries (its latest snapshot). Reads fields by
//  name, so events of every service count without this code knowing their
//  types: projects (status, phase; archived ones are left out), health
//  assessments (overall RAG), alerts (open unless resolved or closed),
//  resources (weekly capacity by primary skill), and every kind by count.
void federation_rollup_add (federation_rollup_t *self, pmo_arena_t *arena, const Pmo__Event *event);
//  What the entity an event carries adds to its division's roll-up, as
//  the hub keeps it counted in Redis (lua/apply.lua): "<counter>\n<n>\n"
//  per counter, "" for nothing (no body, or archived). The same rules as
//  federation_rollup_add. Allocated in arena.
const char *federation_rollup_contribution (const Pmo__Event *event, pmo_arena_t *arena);
//  Add a stored counter (a field of the hub's counters, see
//  federation_rollup_contribution) to a roll-up; false if the name is not
//  a counter's.
bool federation_rollup_counter (federation_rollup_t *self, pmo_arena_t *arena, const char *counter,
                                uint64_t value);
//  Add another roll-up (a division into the enterprise total).
void federation_rollup_merge (federation_rollup_t *self, pmo_arena_t *arena,
                              const federation_rollup_t *other);
//  The message form (arena).
Pmo__DivisionRollup *federation_rollup_message (const federation_rollup_t *self, pmo_arena_t *arena,
                                                const char *division, const char *spoke);

#endif
