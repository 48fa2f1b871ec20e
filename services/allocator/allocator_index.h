/*  allocator_index.h: the allocator's in-memory index, without I/O.

    Ranking candidates and the capacity/demand views need every resource's
    free hours week by week; reading 10,000 resources from Redis for each
    request would be far too slow. So the allocator keeps a compact copy of
    resources and allocations in memory: per resource its capacity,
    calendar exceptions, skills and the committed and proposed hours of
    each week; per allocation what the views need.

    The index is a cache, never the source of truth. It is filled from
    Redis when the allocator starts (allocator_store_load) and again when
    it finds Redis to be another master (a failover may have lost what it
    took in from the old one: allocator_server.c, s_follow), updated with
    every snapshot the allocator commits, and idempotent: a snapshot older
    than (or as old as) the one held is ignored, so replaying one changes
    nothing. Decisions that must be exact (the capacity check of a commit)
    read Redis inside the atomic commit, never the index.
*/
#ifndef ALLOCATOR_INDEX_H_INCLUDED
#define ALLOCATOR_INDEX_H_INCLUDED

#include "allocator.pb-c.h"
#include "pmo_util.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct _allocator_index_t allocator_index_t;

//  fte_hours: the standard week, for FTE views (e.g. 40).
allocator_index_t *allocator_index_new (uint32_t fte_hours);
void allocator_index_destroy (allocator_index_t **self_p);
//  Forget everything (before a reload).
void allocator_index_clear (allocator_index_t *self);

//  Take in a snapshot (copied). Ignored if not newer than the one held.
void allocator_index_put_resource (allocator_index_t *self, const Pmo__Resource *resource);
void allocator_index_put_allocation (allocator_index_t *self, const Pmo__Allocation *allocation);

size_t allocator_index_resource_count (allocator_index_t *self);
size_t allocator_index_allocation_count (allocator_index_t *self);
//  True if any resource (archived or not) has the skill.
bool allocator_index_has_skill (allocator_index_t *self, const char *skill);
//  True if any resource has the role.
bool allocator_index_has_role (allocator_index_t *self, const char *role);
//  The divisions that hold resources (arena copy). Returns how many.
size_t allocator_index_divisions (allocator_index_t *self, pmo_arena_t *arena, char ***divisions);
//  The ids of the live allocations booked on a resource (arena).
size_t allocator_index_resource_allocations (allocator_index_t *self, const char *resource_id,
                                             pmo_arena_t *arena, char ***ids);

//  ---------------------------------------------------------------------
//  What the reader may see. The index does not decide it: the caller's
//  rule (pmo_access_sees_booking, pmo_access_steward) through these. A
//  NULL view shows everything.

typedef struct {
    //  A booking of the project at project_path on the resource at
    //  resource_path (NULL: nobody yet) is shown in full
    bool (*booking) (void *ctx, const char *project_path, const char *resource_path);
    //  The private side (cost rate) of a resource at path is shown
    bool (*steward) (void *ctx, const char *resource_path);
    void *ctx;
} allocator_view_t;

//  ---------------------------------------------------------------------
//  Matching

typedef struct {
    const char *role;             //  NULL or "" = any
    const char *skill;            //  NULL or "" = any
    uint32_t min_level;           //  of skill
    uint32_t hours;               //  per week
    int32_t first, last;          //  weeks
    const char *pool_unit;        //  subtree to search; NULL or "" = all
    const char *division;         //  the project's division (home-division preference); may be NULL
    size_t limit;                 //  candidates returned
    const allocator_view_t *view; //  cost rates only where view->steward
} allocator_match_query_t;

//  Rank the candidates for q into a MatchResult built in arena. When the
//  best does not fit every week, the result lists the shortfall per week.
Pmo__MatchResult *allocator_index_match (allocator_index_t *self, const allocator_match_query_t *q,
                                         pmo_arena_t *arena);

//  ---------------------------------------------------------------------
//  Views

//  Capacity and demand per skill and week for a subtree (NULL/"" = all),
//  in arena. With by_resource, also a row per resource; returns NULL (and
//  sets *too_many) when that would be more than max_resources rows.
Pmo__CapacityView *allocator_index_capacity (allocator_index_t *self, const char *unit,
                                             int32_t first, int32_t last, const char *skill,
                                             bool by_resource, size_t max_resources,
                                             pmo_arena_t *arena, size_t *too_many);

//  Over-allocated resources in a subtree within [first, last], with the
//  claims on them by project priority. Through view: a resource appears if
//  the reader sees it (booking (path, path)) or one of its claims; claims
//  it may not see are one claim "booked elsewhere" with their hours, no
//  project, and no text names a project it may not see.
Pmo__ConflictList *allocator_index_conflicts (allocator_index_t *self, const char *unit,
                                              int32_t first, int32_t last,
                                              const allocator_view_t *view, pmo_arena_t *arena);

//  ---------------------------------------------------------------------
//  Lists: ids in a stable order (division, then sequence), after cursor

typedef struct {
    const char *unit; //  subtree
    const char *role;
    const char *skill;
    uint32_t min_level;
    bool include_archived;
} allocator_resource_filter_t;

typedef struct {
    const char *project_id;
    const char *resource_id;
    const char *unit;
    Pmo__AllocationState state;   //  0 = any
    const allocator_view_t *view; //  only the bookings it shows in full
} allocator_allocation_filter_t;

//  Up to limit ids after cursor ("" = from the start); *next is the cursor
//  of the following page or NULL when this is the last (arena).
size_t allocator_index_list_resources (allocator_index_t *self,
                                       const allocator_resource_filter_t *filter,
                                       const char *cursor, size_t limit, pmo_arena_t *arena,
                                       char ***ids, char **next);
size_t allocator_index_list_allocations (allocator_index_t *self,
                                         const allocator_allocation_filter_t *filter,
                                         const char *cursor, size_t limit, pmo_arena_t *arena,
                                         char ***ids, char **next);

//  What the filter matches that its view hides, as hours per resource
//  (live bookings only), at most max resources, in arena. Returns how many.
size_t allocator_index_elsewhere (allocator_index_t *self,
                                  const allocator_allocation_filter_t *filter, size_t max,
                                  pmo_arena_t *arena, Pmo__BookedElsewhere ***out);

//  Bytes held, roughly, for logs and the benchmark.
size_t allocator_index_bytes (allocator_index_t *self);

#endif
