/*  allocator_index.c: the in-memory index of resources and allocations.

    Resources and allocations are kept as small structs (not protobuf
    messages: 50,000 allocations with their histories would cost far more
    memory than the few fields the views need). Names of skills and roles
    are interned once. Each resource keeps, over the range of weeks its
    bookings cover, the committed and proposed hours of every week, kept
    up to date as allocations change, so a free-hours question costs a
    subtraction per week.
*/
#include "allocator_index.h"
#include "allocator_model.h"

#include <assert.h>
#include <czmq.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct _ix_alloc_t ix_alloc_t;

typedef struct {
    char *id;
    char *division;
    uint64_t seq; //  the number in the id, for a stable order
    char *name;
    int32_t role; //  interned
    char *unit;
    char *path;
    uint32_t capacity; //  weekly, before exceptions
    int64_t cost_minor;
    char currency[4];
    bool archived;
    bool placeholder;
    uint64_t version;
    size_t n_skills;
    int32_t skills[ALLOCATOR_MAX_SKILLS]; //  interned names
    uint8_t levels[ALLOCATOR_MAX_SKILLS];
    size_t n_off; //  calendar exceptions as week ranges
    int32_t *off_first;
    int32_t *off_last;
    uint32_t *off_hours;
    int32_t base; //  first week of the load arrays
    size_t span;  //  weeks in them
    uint32_t *committed;
    uint32_t *proposed;
    ix_alloc_t **allocs; //  allocations booked on it (proposed, committed)
    size_t n_allocs, max_allocs;
} ix_resource_t;

struct _ix_alloc_t {
    char *id;
    char *division;
    uint64_t seq;
    char *project_id;
    char *project_code;
    char *project_path;
    char *resource_id;       //  "" while nobody is assigned
    ix_resource_t *resource; //  the resource its hours are booked on, if booked
    int32_t skill;           //  interned, -1 if none
    uint32_t priority;
    uint32_t hours;
    int32_t first, last;
    Pmo__AllocationState state;
    uint64_t version;
};

struct _allocator_index_t {
    uint32_t fte_hours;
    zhashx_t *names; //  interned skill and role names -> id + 1
    char **name_list;
    size_t n_names, max_names;
    bool *is_skill; //  per name: some resource has it as a skill
    bool *is_role;
    zhashx_t *resources; //  id -> ix_resource_t
    ix_resource_t **resource_list;
    size_t n_resources, max_resources;
    zhashx_t *allocations; //  id -> ix_alloc_t
    ix_alloc_t **alloc_list;
    size_t n_allocs, max_allocs;
    size_t orphans; //  booked allocations whose resource is not here yet
    size_t bytes;
};

static bool s_in (const char *path, const char *unit)
{
    return !unit || !*unit || pmo_path_contains (path, unit);
}

//  The view shows the booking a (on r: its resource, booked or named, or
//  NULL) in full (no view: everything).
static bool s_shows (const allocator_view_t *view, const ix_alloc_t *a, const ix_resource_t *r)
{
    return !view || view->booking (view->ctx, a->project_path, r ? r->path : NULL);
}

//  The view shows the resource itself (its home is in the reader's reach).
static bool s_shows_resource (const allocator_view_t *view, const ix_resource_t *r)
{
    return !view || view->booking (view->ctx, r->path, r->path);
}

#define GROW(array, count, max)                                                                    \
    do {                                                                                           \
        if ((count) == (max)) {                                                                    \
            (max) = (max) ? (max)*2 : 16;                                                          \
            (array) = realloc ((array), (max) * sizeof (*(array)));                                \
            assert (array);                                                                        \
        }                                                                                          \
    } while (0)

static char *s_dup (allocator_index_t *self, const char *s)
{
    char *copy = strdup (s ? s : "");
    assert (copy);
    self->bytes += strlen (copy) + 1;
    return copy;
}

static uint64_t s_seq_of (const char *id)
{
    const char *underscore = strrchr (id, '_');
    return underscore ? strtoull (underscore + 1, NULL, 10) : 0;
}

allocator_index_t *allocator_index_new (uint32_t fte_hours)
{
    allocator_index_t *self = calloc (1, sizeof (allocator_index_t));
    assert (self);
    self->fte_hours = fte_hours ? fte_hours : 40;
    self->names = zhashx_new ();
    self->resources = zhashx_new ();
    self->allocations = zhashx_new ();
    assert (self->names && self->resources && self->allocations);
    return self;
}

static void s_resource_free (ix_resource_t *r)
{
    free (r->id);
    free (r->division);
    free (r->name);
    free (r->unit);
    free (r->path);
    free (r->off_first);
    free (r->off_last);
    free (r->off_hours);
    free (r->committed);
    free (r->proposed);
    free (r->allocs);
    free (r);
}

static void s_alloc_free (ix_alloc_t *a)
{
    free (a->id);
    free (a->division);
    free (a->project_id);
    free (a->project_code);
    free (a->project_path);
    free (a->resource_id);
    free (a);
}

void allocator_index_clear (allocator_index_t *self)
{
    for (size_t i = 0; i < self->n_resources; i++)
        s_resource_free (self->resource_list[i]);
    for (size_t i = 0; i < self->n_allocs; i++)
        s_alloc_free (self->alloc_list[i]);
    for (size_t i = 0; i < self->n_names; i++)
        free (self->name_list[i]);
    zhashx_purge (self->names);
    zhashx_purge (self->resources);
    zhashx_purge (self->allocations);
    self->n_resources = self->n_allocs = self->n_names = 0;
    self->orphans = 0;
    self->bytes = 0;
}

void allocator_index_destroy (allocator_index_t **self_p)
{
    assert (self_p);
    allocator_index_t *self = *self_p;
    if (!self)
        return;
    allocator_index_clear (self);
    zhashx_destroy (&self->names);
    zhashx_destroy (&self->resources);
    zhashx_destroy (&self->allocations);
    free (self->name_list);
    free (self->is_skill);
    free (self->is_role);
    free (self->resource_list);
    free (self->alloc_list);
    free (self);
    *self_p = NULL;
}

//  The interned id of a name; -1 if unknown and not adding.
static int32_t s_name_id (allocator_index_t *self, const char *name, bool add)
{
    if (!name || !*name)
        return -1;
    void *found = zhashx_lookup (self->names, name);
    if (found)
        return (int32_t)((intptr_t)found - 1);
    if (!add)
        return -1;
    if (self->n_names == self->max_names) {
        self->max_names = self->max_names ? self->max_names * 2 : 64;
        self->name_list = realloc (self->name_list, self->max_names * sizeof (char *));
        self->is_skill = realloc (self->is_skill, self->max_names * sizeof (bool));
        self->is_role = realloc (self->is_role, self->max_names * sizeof (bool));
        assert (self->name_list && self->is_skill && self->is_role);
    }
    int32_t id = (int32_t)self->n_names++;
    self->name_list[id] = s_dup (self, name);
    self->is_skill[id] = false;
    self->is_role[id] = false;
    zhashx_insert (self->names, self->name_list[id], (void *)(intptr_t)(id + 1));
    return id;
}

//  ---------------------------------------------------------------------
//  Loads

static uint32_t s_capacity (const ix_resource_t *r, int32_t week)
{
    uint32_t off = 0;
    for (size_t i = 0; i < r->n_off; i++)
        if (week >= r->off_first[i] && week <= r->off_last[i])
            off += r->off_hours[i];
    return off >= r->capacity ? 0 : r->capacity - off;
}

//  Make the load arrays cover [first, last].
static void s_cover (allocator_index_t *self, ix_resource_t *r, int32_t first, int32_t last)
{
    if (r->span == 0) {
        r->base = first;
        r->span = (size_t)(last - first + 1);
        r->committed = calloc (r->span, sizeof (uint32_t));
        r->proposed = calloc (r->span, sizeof (uint32_t));
        assert (r->committed && r->proposed);
        self->bytes += r->span * 8;
        return;
    }
    int32_t lo = first < r->base ? first : r->base;
    int32_t old_hi = r->base + (int32_t)r->span - 1;
    int32_t hi = last > old_hi ? last : old_hi;
    if (lo == r->base && hi == old_hi)
        return;
    size_t span = (size_t)(hi - lo + 1);
    uint32_t *committed = calloc (span, sizeof (uint32_t));
    uint32_t *proposed = calloc (span, sizeof (uint32_t));
    assert (committed && proposed);
    memcpy (committed + (r->base - lo), r->committed, r->span * sizeof (uint32_t));
    memcpy (proposed + (r->base - lo), r->proposed, r->span * sizeof (uint32_t));
    free (r->committed);
    free (r->proposed);
    self->bytes += (span - r->span) * 8;
    r->committed = committed;
    r->proposed = proposed;
    r->base = lo;
    r->span = span;
}

static uint32_t s_load (const uint32_t *loads, const ix_resource_t *r, int32_t week)
{
    if (r->span == 0 || week < r->base || week >= r->base + (int32_t)r->span)
        return 0;
    return loads[week - r->base];
}

//  Add (sign 1) or take away (sign -1) an allocation's hours on its resource.
static void s_book (allocator_index_t *self, ix_alloc_t *a, int sign)
{
    ix_resource_t *r = a->resource;
    if (!r || !allocator_state_books (a->state))
        return;
    if (sign > 0) {
        s_cover (self, r, a->first, a->last);
        GROW (r->allocs, r->n_allocs, r->max_allocs);
        r->allocs[r->n_allocs++] = a;
    } else {
        for (size_t i = 0; i < r->n_allocs; i++)
            if (r->allocs[i] == a) {
                r->allocs[i] = r->allocs[--r->n_allocs];
                break;
            }
    }
    uint32_t *loads =
        a->state == PMO__ALLOCATION_STATE__ALLOCATION_STATE_COMMITTED ? r->committed : r->proposed;
    for (int32_t w = a->first; w <= a->last; w++) {
        uint32_t *cell = &loads[w - r->base];
        *cell = sign > 0 ? *cell + a->hours : (*cell >= a->hours ? *cell - a->hours : 0);
    }
}

//  ---------------------------------------------------------------------
//  Snapshots in

void allocator_index_put_resource (allocator_index_t *self, const Pmo__Resource *in)
{
    ix_resource_t *r = zhashx_lookup (self->resources, in->id);
    if (r && r->version >= in->version)
        return;
    bool is_new = r == NULL;
    if (is_new) {
        r = calloc (1, sizeof (ix_resource_t));
        assert (r);
        r->id = s_dup (self, in->id);
        r->seq = s_seq_of (in->id);
        self->bytes += sizeof (ix_resource_t);
        zhashx_insert (self->resources, r->id, r);
        GROW (self->resource_list, self->n_resources, self->max_resources);
        self->resource_list[self->n_resources++] = r;
    } else {
        free (r->division);
        free (r->name);
        free (r->unit);
        free (r->path);
        free (r->off_first);
        free (r->off_last);
        free (r->off_hours);
    }
    r->division = s_dup (self, in->division);
    r->name = s_dup (self, in->name);
    r->unit = s_dup (self, in->home_org_unit);
    r->path = s_dup (self, in->home_org_unit_path);
    r->role = s_name_id (self, in->role, true);
    if (r->role >= 0)
        self->is_role[r->role] = true;
    r->capacity = in->weekly_capacity_hours;
    r->cost_minor = in->cost_rate ? in->cost_rate->minor : 0;
    snprintf (r->currency, sizeof r->currency, "%s",
              in->cost_rate && in->cost_rate->currency ? in->cost_rate->currency : "");
    r->archived = in->archived;
    r->placeholder = in->kind == PMO__RESOURCE_KIND__RESOURCE_KIND_PLACEHOLDER;
    r->version = in->version;
    r->n_skills = 0;
    for (size_t i = 0; i < in->n_skills && i < ALLOCATOR_MAX_SKILLS; i++) {
        int32_t id = s_name_id (self, in->skills[i]->name, true);
        self->is_skill[id] = true;
        r->skills[r->n_skills] = id;
        r->levels[r->n_skills++] = (uint8_t)in->skills[i]->level;
    }
    r->n_off = 0;
    r->off_first = r->off_last = NULL;
    r->off_hours = NULL;
    if (in->n_exceptions) {
        r->off_first = malloc (in->n_exceptions * sizeof (int32_t));
        r->off_last = malloc (in->n_exceptions * sizeof (int32_t));
        r->off_hours = malloc (in->n_exceptions * sizeof (uint32_t));
        assert (r->off_first && r->off_last && r->off_hours);
        for (size_t i = 0; i < in->n_exceptions; i++) {
            const Pmo__CalendarException *e = in->exceptions[i];
            int32_t first, last;
            if (allocator_week_parse (e->start_week, &first))
                continue;
            if (pmo_str_empty (e->end_week) || allocator_week_parse (e->end_week, &last))
                last = first;
            r->off_first[r->n_off] = first;
            r->off_last[r->n_off] = last;
            r->off_hours[r->n_off++] = e->hours_off;
        }
    }
    //  Bookings that arrived before their resource
    if (is_new && self->orphans) {
        for (size_t i = 0; i < self->n_allocs; i++) {
            ix_alloc_t *a = self->alloc_list[i];
            if (!a->resource && strcmp (a->resource_id, r->id) == 0 &&
                allocator_state_books (a->state)) {
                a->resource = r;
                s_book (self, a, 1);
                self->orphans--;
            }
        }
    }
}

void allocator_index_put_allocation (allocator_index_t *self, const Pmo__Allocation *in)
{
    ix_alloc_t *a = zhashx_lookup (self->allocations, in->id);
    if (a && a->version >= in->version)
        return;
    if (!a) {
        a = calloc (1, sizeof (ix_alloc_t));
        assert (a);
        a->id = s_dup (self, in->id);
        a->seq = s_seq_of (in->id);
        a->division = s_dup (self, in->division);
        a->project_id = s_dup (self, in->project_id);
        self->bytes += sizeof (ix_alloc_t);
        zhashx_insert (self->allocations, a->id, a);
        GROW (self->alloc_list, self->n_allocs, self->max_allocs);
        self->alloc_list[self->n_allocs++] = a;
    } else {
        //  Take the old booking away before booking the new one
        if (a->resource)
            s_book (self, a, -1);
        else if (allocator_state_books (a->state) && *a->resource_id)
            self->orphans--;
        free (a->project_code);
        free (a->project_path);
        free (a->resource_id);
    }
    a->project_code = s_dup (self, in->project_code);
    a->project_path = s_dup (self, in->project_org_unit_path);
    a->resource_id = s_dup (self, in->resource_id);
    a->skill = s_name_id (self, in->skill, true);
    a->priority = in->project_priority;
    a->hours = in->hours_per_week;
    a->state = in->state;
    a->version = in->version;
    if (allocator_week_parse (in->start_week, &a->first) ||
        allocator_week_parse (in->end_week, &a->last) || a->last < a->first)
        a->first = a->last = 0;
    a->resource = *a->resource_id ? zhashx_lookup (self->resources, a->resource_id) : NULL;
    if (a->resource)
        s_book (self, a, 1);
    else if (allocator_state_books (a->state) && *a->resource_id)
        self->orphans++;
}

size_t allocator_index_resource_count (allocator_index_t *self)
{
    return self->n_resources;
}

size_t allocator_index_allocation_count (allocator_index_t *self)
{
    return self->n_allocs;
}

bool allocator_index_has_skill (allocator_index_t *self, const char *skill)
{
    int32_t id = s_name_id (self, skill, false);
    return id >= 0 && self->is_skill[id];
}

bool allocator_index_has_role (allocator_index_t *self, const char *role)
{
    int32_t id = s_name_id (self, role, false);
    return id >= 0 && self->is_role[id];
}

size_t allocator_index_divisions (allocator_index_t *self, pmo_arena_t *arena, char ***divisions)
{
    zhashx_t *seen = zhashx_new ();
    for (size_t i = 0; i < self->n_resources; i++)
        zhashx_insert (seen, self->resource_list[i]->division, (void *)1);
    for (size_t i = 0; i < self->n_allocs; i++)
        zhashx_insert (seen, self->alloc_list[i]->division, (void *)1);
    size_t n = zhashx_size (seen);
    *divisions = pmo_arena_alloc (arena, (n + 1) * sizeof (char *));
    size_t k = 0;
    for (void *item = zhashx_first (seen); item; item = zhashx_next (seen))
        (*divisions)[k++] = pmo_arena_strdup (arena, zhashx_cursor (seen));
    zhashx_destroy (&seen);
    return k;
}

size_t allocator_index_resource_allocations (allocator_index_t *self, const char *resource_id,
                                             pmo_arena_t *arena, char ***ids)
{
    ix_resource_t *r = zhashx_lookup (self->resources, resource_id);
    *ids = NULL;
    if (!r)
        return 0;
    *ids = pmo_arena_alloc (arena, (r->n_allocs + 1) * sizeof (char *));
    for (size_t i = 0; i < r->n_allocs; i++)
        (*ids)[i] = pmo_arena_strdup (arena, r->allocs[i]->id);
    return r->n_allocs;
}

size_t allocator_index_elsewhere (allocator_index_t *self, const allocator_allocation_filter_t *f,
                                  size_t max, pmo_arena_t *arena, Pmo__BookedElsewhere ***out)
{
    *out = pmo_arena_alloc (arena, (max + 1) * sizeof (void *));
    //  Never for one project's list: it would tell whom a hidden project books
    if (!f->view || (f->project_id && *f->project_id))
        return 0;
    size_t n = 0;
    char lo_buf[16], hi_buf[16];
    for (size_t i = 0; i < self->n_resources && n < max; i++) {
        ix_resource_t *r = self->resource_list[i];
        if (f->resource_id && *f->resource_id && strcmp (r->id, f->resource_id) != 0)
            continue;
        if (!s_in (r->path, f->unit))
            continue;
        //  The live bookings on r the filter matches and the view hides
        int32_t lo = INT32_MAX, hi = INT32_MIN;
        uint32_t count = 0;
        for (size_t k = 0; k < r->n_allocs; k++) {
            const ix_alloc_t *a = r->allocs[k];
            if ((f->state && a->state != f->state) || s_shows (f->view, a, r))
                continue;
            count++;
            lo = a->first < lo ? a->first : lo;
            hi = a->last > hi ? a->last : hi;
        }
        if (!count)
            continue;
        size_t span = (size_t)(hi - lo + 1);
        uint32_t *committed = calloc (2 * span, sizeof (uint32_t));
        assert (committed);
        uint32_t *proposed = committed + span;
        for (size_t k = 0; k < r->n_allocs; k++) {
            const ix_alloc_t *a = r->allocs[k];
            if ((f->state && a->state != f->state) || s_shows (f->view, a, r))
                continue;
            uint32_t *hours = a->state == PMO__ALLOCATION_STATE__ALLOCATION_STATE_COMMITTED
                                  ? committed
                                  : proposed;
            for (int32_t w = a->first; w <= a->last; w++)
                hours[w - lo] += a->hours;
        }
        Pmo__BookedElsewhere *e = pmo_arena_alloc (arena, sizeof (Pmo__BookedElsewhere));
        pmo__booked_elsewhere__init (e);
        e->resource_id = r->id;
        e->resource_name = r->name;
        e->allocations = count;
        uint32_t busiest = 0;
        for (size_t w = 0; w < span; w++) {
            e->committed_hours =
                committed[w] > e->committed_hours ? committed[w] : e->committed_hours;
            e->proposed_hours = proposed[w] > e->proposed_hours ? proposed[w] : e->proposed_hours;
            busiest = committed[w] + proposed[w] > busiest ? committed[w] + proposed[w] : busiest;
        }
        free (committed);
        e->start_week = pmo_arena_strdup (arena, allocator_week_format (lo, lo_buf, sizeof lo_buf));
        e->end_week = pmo_arena_strdup (arena, allocator_week_format (hi, hi_buf, sizeof hi_buf));
        e->summary = pmo_arena_printf (arena,
                                       "%u h booked elsewhere in the busiest week of %s..%s "
                                       "(%u booking(s) of projects outside your reach)",
                                       busiest, e->start_week, e->end_week, count);
        (*out)[n++] = e;
    }
    return n;
}

size_t allocator_index_bytes (allocator_index_t *self)
{
    return self->bytes + (self->max_resources + self->max_allocs) * sizeof (void *) * 3;
}

//  ---------------------------------------------------------------------
//  Matching

//  What one candidate offers over the window.
typedef struct {
    ix_resource_t *r;
    uint32_t level;
    uint32_t covered;   //  weeks with enough free hours
    uint32_t min_free;  //  in the tightest week
    uint32_t usable;    //  sum over weeks of min(free, asked)
    int32_t short_week; //  the first week without enough, or INT32_MIN
    uint32_t short_free;
    bool same_division;
    double score;
    double s_cover, s_level, s_division, s_cost;
} metric_t;

static int s_by_score (const void *a, const void *b)
{
    const metric_t *x = a, *y = b;
    if (x->score != y->score)
        return x->score > y->score ? -1 : 1;
    int d = strcmp (x->r->division, y->r->division);
    return d ? d : (x->r->seq < y->r->seq ? -1 : x->r->seq > y->r->seq);
}

static const char *s_amount (pmo_arena_t *arena, int64_t minor, const char *currency)
{
    return pmo_arena_printf (arena, "%s%s%lld.%02lld", currency, *currency ? " " : "",
                             (long long)(minor / 100), (long long)(minor % 100));
}

//  The resources that can do what q asks (role, skill and level, pool),
//  into m, with what each offers week by week; best_free and total_free
//  (zeroed, one per week) receive the most and the sum free in each week.
//  Returns how many.
static size_t s_measure (allocator_index_t *self, const allocator_match_query_t *q, int32_t skill,
                         int32_t role, size_t weeks, metric_t *m, uint32_t *best_free,
                         uint32_t *total_free)
{
    size_t n = 0;
    for (size_t i = 0; i < self->n_resources && skill != -2; i++) {
        ix_resource_t *r = self->resource_list[i];
        if (r->archived)
            continue;
        if (role >= 0 && r->role != role)
            continue;
        uint32_t level = 0;
        if (skill >= 0) {
            for (size_t k = 0; k < r->n_skills; k++)
                if (r->skills[k] == skill)
                    level = r->levels[k];
            if (level == 0 || level < q->min_level)
                continue;
        }
        if (q->pool_unit && *q->pool_unit && !pmo_path_contains (r->path, q->pool_unit))
            continue;
        metric_t *c = &m[n++];
        memset (c, 0, sizeof *c);
        c->r = r;
        c->level = level;
        c->min_free = UINT32_MAX;
        c->short_week = INT32_MIN;
        c->same_division = q->division && strcmp (q->division, r->division) == 0;
        for (size_t k = 0; k < weeks; k++) {
            int32_t w = q->first + (int32_t)k;
            uint32_t capacity = s_capacity (r, w);
            uint32_t booked = s_load (r->committed, r, w) + s_load (r->proposed, r, w);
            uint32_t free_hours = booked >= capacity ? 0 : capacity - booked;
            if (free_hours >= q->hours)
                c->covered++;
            else if (c->short_week == INT32_MIN) {
                c->short_week = w;
                c->short_free = free_hours;
            }
            c->min_free = free_hours < c->min_free ? free_hours : c->min_free;
            c->usable += free_hours < q->hours ? free_hours : q->hours;
            best_free[k] = free_hours > best_free[k] ? free_hours : best_free[k];
            total_free[k] += free_hours;
        }
    }
    return n;
}

//  Score: fitting every week first of all, then how much of the ask is
//  free, then skill level above the minimum, home division, and cost.
static void s_score (metric_t *m, size_t n, const allocator_match_query_t *q, int32_t skill,
                     size_t weeks)
{
    int64_t cost_min = INT64_MAX, cost_max = 0;
    for (size_t i = 0; i < n; i++) {
        if (m[i].r->cost_minor < cost_min)
            cost_min = m[i].r->cost_minor;
        if (m[i].r->cost_minor > cost_max)
            cost_max = m[i].r->cost_minor;
    }
    for (size_t i = 0; i < n; i++) {
        metric_t *c = &m[i];
        c->s_cover = 50.0 * c->usable / ((double)q->hours * (double)weeks);
        if (skill >= 0) {
            uint32_t floor = q->min_level ? q->min_level : 1;
            c->s_level = floor >= ALLOCATOR_MAX_LEVEL
                             ? 20.0
                             : 20.0 * (c->level - floor) / (double)(ALLOCATOR_MAX_LEVEL - floor);
        }
        c->s_division = c->same_division ? 15.0 : 0.0;
        c->s_cost = cost_max > cost_min ? 15.0 * (double)(cost_max - c->r->cost_minor) /
                                              (double)(cost_max - cost_min)
                                        : 15.0;
        c->score = (c->covered == weeks ? 100.0 : 0.0) + c->s_cover + c->s_level + c->s_division +
                   c->s_cost;
    }
}

//  Candidate i of the ranked m, with the explanation of its rank.
static Pmo__MatchCandidate *s_candidate (allocator_index_t *self, const allocator_match_query_t *q,
                                         pmo_arena_t *arena, const metric_t *m, size_t i,
                                         int32_t skill, size_t weeks)
{
    char wbuf[16];
    const metric_t *c = &m[i];
    ix_resource_t *r = c->r;
    Pmo__MatchCandidate *out = pmo_arena_alloc (arena, sizeof (Pmo__MatchCandidate));
    pmo__match_candidate__init (out);
    out->rank = (uint32_t)i + 1;
    out->resource_id = r->id;
    out->resource_name = r->name;
    out->role = r->role >= 0 ? self->name_list[r->role] : "";
    out->home_org_unit = r->unit;
    out->division = r->division;
    out->skill_level = c->level;
    out->fits = c->covered == weeks;
    out->weeks_covered = c->covered;
    out->weeks = (uint32_t)weeks;
    out->min_free_hours = c->min_free == UINT32_MAX ? 0 : c->min_free;
    out->free_hours = c->usable;
    out->same_division = c->same_division;
    if (*r->currency && (!q->view || q->view->steward (q->view->ctx, r->path))) {
        Pmo__Money *money = pmo_arena_alloc (arena, sizeof (Pmo__Money));
        pmo__money__init (money);
        money->minor = r->cost_minor;
        money->currency = r->currency;
        out->cost_rate = money;
    }
    out->score = c->score;
    const char *fit =
        out->fits ? pmo_arena_printf (arena, "free in all %zu weeks (tightest week %u h free)",
                                      weeks, out->min_free_hours)
                  : pmo_arena_printf (arena,
                                      "short in %zu of %zu weeks (first %s: %u h free of %u asked)",
                                      weeks - c->covered, weeks,
                                      allocator_week_format (c->short_week, wbuf, sizeof wbuf),
                                      c->short_free, q->hours);
    const char *level = skill >= 0
                            ? pmo_arena_printf (arena, "; %s level %u (%u asked)",
                                                self->name_list[skill], c->level, q->min_level)
                            : "";
    const char *division =
        q->division
            ? (c->same_division
                   ? pmo_arena_printf (arena, "; in the project's division (%s)", r->division)
                   : pmo_arena_printf (arena, "; from division %s, not the project's %s",
                                       r->division, q->division))
            : "";
    const char *cost =
        *r->currency
            ? pmo_arena_printf (arena, "; cost %s/h", s_amount (arena, r->cost_minor, r->currency))
            : "";
    const char *below = i > 0 ? pmo_arena_printf (arena, "; below #%zu (%s) by %.1f points", i,
                                                  m[i - 1].r->id, m[i - 1].score - c->score)
                              : "";
    out->explanation = pmo_arena_printf (
        arena,
        "%s%s%s%s%s%s; score %.1f = fit %.0f + cover %.1f + level %.1f + division "
        "%.0f + cost %.1f%s",
        fit, level, division, cost, r->placeholder ? "; a placeholder, not a person" : "", below,
        c->score, out->fits ? 100.0 : 0.0, c->s_cover, c->s_level, c->s_division, c->s_cost, "");
    return out;
}

//  Why nobody fits: the shortfall week by week, and a summary.
static void s_shortfall (Pmo__MatchResult *result, const allocator_match_query_t *q,
                         pmo_arena_t *arena, size_t n, size_t weeks, const uint32_t *best_free,
                         const uint32_t *total_free)
{
    char wbuf[16];
    result->shortfall = pmo_arena_alloc (arena, weeks * sizeof (void *));
    uint32_t short_weeks = 0;
    for (size_t k = 0; k < weeks; k++) {
        Pmo__WeekShortfall *s = pmo_arena_alloc (arena, sizeof (Pmo__WeekShortfall));
        pmo__week_shortfall__init (s);
        s->week = pmo_arena_strdup (
            arena, allocator_week_format (q->first + (int32_t)k, wbuf, sizeof wbuf));
        s->needed_hours = q->hours;
        s->best_free_hours = best_free[k];
        s->total_free_hours = total_free[k];
        s->shortfall_hours = best_free[k] >= q->hours ? 0 : q->hours - best_free[k];
        short_weeks += s->shortfall_hours > 0;
        result->shortfall[result->n_shortfall++] = s;
    }
    result->summary =
        n == 0 ? pmo_arena_printf (arena, "nobody in the pool has %s%s%s%s",
                                   q->role && *q->role ? "role " : "",
                                   q->role && *q->role ? q->role : "",
                                   q->role && *q->role && q->skill && *q->skill ? " and " : "",
                                   q->skill && *q->skill
                                       ? pmo_arena_printf (arena, "skill %s level %u+", q->skill,
                                                           q->min_level ? q->min_level : 1)
                                       : "")
               : pmo_arena_printf (arena,
                                   "nobody has %u h free in every week: %u of %zu weeks "
                                   "are short even for the best candidate",
                                   q->hours, short_weeks, weeks);
}

Pmo__MatchResult *allocator_index_match (allocator_index_t *self, const allocator_match_query_t *q,
                                         pmo_arena_t *arena)
{
    Pmo__MatchResult *result = pmo_arena_alloc (arena, sizeof (Pmo__MatchResult));
    pmo__match_result__init (result);
    int32_t skill = s_name_id (self, q->skill, false);
    int32_t role = s_name_id (self, q->role, false);
    size_t weeks = (size_t)(q->last - q->first + 1);
    if ((q->skill && *q->skill && skill < 0) || (q->role && *q->role && role < 0))
        skill = role = -2; //  nobody can match
    metric_t *m = pmo_arena_alloc (arena, (self->n_resources + 1) * sizeof (metric_t));
    uint32_t *best_free = pmo_arena_alloc (arena, weeks * sizeof (uint32_t));
    uint32_t *total_free = pmo_arena_alloc (arena, weeks * sizeof (uint32_t));
    size_t n = s_measure (self, q, skill, role, weeks, m, best_free, total_free);
    result->considered = (uint32_t)n;
    s_score (m, n, q, skill, weeks);
    //  qsort wants a valid array even for nothing to sort
    if (n > 1)
        qsort (m, n, sizeof (metric_t), s_by_score);
    size_t limit = q->limit ? q->limit : 10;
    size_t shown = n < limit ? n : limit;
    result->candidates = pmo_arena_alloc (arena, (shown + 1) * sizeof (void *));
    for (size_t i = 0; i < shown; i++)
        result->candidates[result->n_candidates++] =
            s_candidate (self, q, arena, m, i, skill, weeks);
    result->fits = n > 0 && m[0].covered == weeks;
    if (!result->fits)
        s_shortfall (result, q, arena, n, weeks, best_free, total_free);
    else
        result->summary = pmo_arena_printf (arena, "%s (%s) fits; %zu candidate(s) considered",
                                            m[0].r->name, m[0].r->id, n);
    return result;
}

//  ---------------------------------------------------------------------
//  Views

typedef struct {
    uint64_t capacity, committed, proposed, unfilled;
    uint32_t over; //  people over their own capacity
} acc_t;

static Pmo__CapacityRow *s_row (allocator_index_t *self, pmo_arena_t *arena, const acc_t *cells,
                                size_t weeks, const char *skill, uint32_t resources)
{
    Pmo__CapacityRow *row = pmo_arena_alloc (arena, sizeof (Pmo__CapacityRow));
    pmo__capacity_row__init (row);
    row->skill = (char *)skill;
    row->resources = resources;
    row->cells = pmo_arena_alloc (arena, weeks * sizeof (void *));
    Pmo__CapacityCell *block = pmo_arena_alloc (arena, weeks * sizeof (Pmo__CapacityCell));
    for (size_t k = 0; k < weeks; k++) {
        Pmo__CapacityCell *cell = &block[k];
        pmo__capacity_cell__init (cell);
        const acc_t *a = &cells[k];
        cell->capacity_hours = (uint32_t)a->capacity;
        cell->committed_hours = (uint32_t)a->committed;
        cell->proposed_hours = (uint32_t)a->proposed;
        cell->unfilled_hours = (uint32_t)a->unfilled;
        if (a->capacity) {
            cell->utilisation_pct = 100.0 * (double)a->committed / (double)a->capacity;
            cell->booked_pct = 100.0 * (double)(a->committed + a->proposed) / (double)a->capacity;
        }
        cell->capacity_fte = (double)a->capacity / self->fte_hours;
        cell->over = a->committed > a->capacity;
        cell->over_resources = a->over;
        row->cells[row->n_cells++] = cell;
    }
    return row;
}

static int s_by_id (const void *a, const void *b)
{
    const ix_resource_t *x = *(ix_resource_t *const *)a, *y = *(ix_resource_t *const *)b;
    int d = strcmp (x->division, y->division);
    return d ? d : (x->seq < y->seq ? -1 : x->seq > y->seq);
}

//  The resources of a subtree in a stable order (division, then sequence),
//  whatever order they were loaded in (arena). Returns how many.
static size_t s_subtree (allocator_index_t *self, const char *unit, bool live, pmo_arena_t *arena,
                         ix_resource_t ***out)
{
    ix_resource_t **list = pmo_arena_alloc (arena, (self->n_resources + 1) * sizeof (void *));
    size_t n = 0;
    for (size_t i = 0; i < self->n_resources; i++) {
        ix_resource_t *r = self->resource_list[i];
        if ((!live || !r->archived) && s_in (r->path, unit))
            list[n++] = r;
    }
    //  qsort wants a valid array even for nothing to sort
    if (n > 1)
        qsort (list, n, sizeof (void *), s_by_id);
    *out = list;
    return n;
}

//  Add the live allocations in unit's subtree over first..last to total
//  and to their skill's row of rows (committed, proposed or unfilled by
//  state); row_used marks the skills they name.
static void s_demand (allocator_index_t *self, const char *unit, int32_t first, int32_t last,
                      int32_t only, acc_t *rows, bool *row_used, acc_t *total)
{
    size_t weeks = (size_t)(last - first + 1);
    for (size_t i = 0; i < self->n_allocs; i++) {
        ix_alloc_t *a = self->alloc_list[i];
        if (!allocator_state_live (a->state) || a->last < first || a->first > last)
            continue;
        const char *path = a->resource ? a->resource->path : a->project_path;
        if (!s_in (path, unit))
            continue;
        int32_t lo = a->first > first ? a->first : first;
        int32_t hi = a->last < last ? a->last : last;
        acc_t *row = a->skill >= 0 && (only < 0 || a->skill == only)
                         ? &rows[(size_t)a->skill * weeks]
                         : NULL;
        if (row)
            row_used[a->skill] = true;
        for (int32_t w = lo; w <= hi; w++) {
            size_t k = (size_t)(w - first);
            uint64_t *t =
                a->state == PMO__ALLOCATION_STATE__ALLOCATION_STATE_COMMITTED  ? &total[k].committed
                : a->state == PMO__ALLOCATION_STATE__ALLOCATION_STATE_PROPOSED ? &total[k].proposed
                                                                               : &total[k].unfilled;
            *t += a->hours;
            if (row) {
                acc_t *cell = &row[k];
                uint64_t *c = a->state == PMO__ALLOCATION_STATE__ALLOCATION_STATE_COMMITTED
                                  ? &cell->committed
                              : a->state == PMO__ALLOCATION_STATE__ALLOCATION_STATE_PROPOSED
                                  ? &cell->proposed
                                  : &cell->unfilled;
                *c += a->hours;
            }
        }
    }
}

Pmo__CapacityView *allocator_index_capacity (allocator_index_t *self, const char *unit,
                                             int32_t first, int32_t last, const char *skill,
                                             bool by_resource, size_t max_resources,
                                             pmo_arena_t *arena, size_t *too_many)
{
    *too_many = 0;
    size_t weeks = (size_t)(last - first + 1);
    int32_t only = skill && *skill ? s_name_id (self, skill, false) : -1;
    size_t names = self->n_names ? self->n_names : 1;
    //  One row of accumulators per interned name (most are skills)
    acc_t *rows = calloc (names * weeks, sizeof (acc_t));
    uint32_t *row_resources = calloc (names, sizeof (uint32_t));
    bool *row_used = calloc (names, sizeof (bool));
    acc_t *total = pmo_arena_alloc (arena, weeks * sizeof (acc_t));
    uint32_t counted = 0;
    uint32_t *caps = pmo_arena_alloc (arena, weeks * sizeof (uint32_t));
    uint32_t *committed = pmo_arena_alloc (arena, weeks * sizeof (uint32_t));
    uint32_t *over = pmo_arena_alloc (arena, weeks * sizeof (uint32_t));
    assert (rows && row_resources && row_used);

    Pmo__CapacityView *view = pmo_arena_alloc (arena, sizeof (Pmo__CapacityView));
    pmo__capacity_view__init (view);
    view->org_unit = (char *)(unit ? unit : "");
    view->fte_hours = self->fte_hours;
    ix_resource_t **tree;
    size_t in_tree = s_subtree (self, unit, true, arena, &tree);
    if (by_resource) {
        if (in_tree > max_resources) {
            *too_many = in_tree;
            free (rows);
            free (row_resources);
            free (row_used);
            return NULL;
        }
        view->resources = pmo_arena_alloc (arena, (in_tree + 1) * sizeof (void *));
    }
    acc_t *mine = by_resource ? pmo_arena_alloc (arena, weeks * sizeof (acc_t)) : NULL;
    for (size_t i = 0; i < in_tree; i++) {
        ix_resource_t *r = tree[i];
        counted++;
        //  Over is the person's own ledger: their committed hours against
        //  their own capacity, counted once in each of their skills' rows
        for (size_t k = 0; k < weeks; k++) {
            int32_t w = first + (int32_t)k;
            caps[k] = s_capacity (r, w);
            committed[k] = s_load (r->committed, r, w);
            over[k] = committed[k] > caps[k];
            total[k].capacity += caps[k];
            total[k].over += over[k];
        }
        for (size_t s = 0; s < r->n_skills; s++) {
            int32_t id = r->skills[s];
            if (only >= 0 && id != only)
                continue;
            acc_t *row = &rows[(size_t)id * weeks];
            for (size_t k = 0; k < weeks; k++) {
                row[k].capacity += caps[k];
                row[k].over += over[k];
            }
            row_resources[id]++;
            row_used[id] = true;
        }
        if (by_resource) {
            for (size_t k = 0; k < weeks; k++)
                mine[k] = (acc_t){caps[k], committed[k],
                                  s_load (r->proposed, r, first + (int32_t)k), 0, over[k]};
            Pmo__CapacityRow *row = s_row (self, arena, mine, weeks,
                                           r->n_skills ? self->name_list[r->skills[0]] : "", 1);
            row->resource_id = r->id;
            row->resource_name = r->name;
            row->skill_names = pmo_arena_alloc (arena, (r->n_skills + 1) * sizeof (char *));
            for (size_t s = 0; s < r->n_skills; s++)
                row->skill_names[row->n_skill_names++] = self->name_list[r->skills[s]];
            view->resources[view->n_resources++] = row;
        }
    }
    s_demand (self, unit, first, last, only, rows, row_used, total);
    char wbuf[16];
    view->weeks = pmo_arena_alloc (arena, weeks * sizeof (char *));
    for (size_t k = 0; k < weeks; k++)
        view->weeks[view->n_weeks++] =
            pmo_arena_strdup (arena, allocator_week_format (first + (int32_t)k, wbuf, sizeof wbuf));
    //  Skill rows in name order, for a stable heatmap
    size_t used = 0;
    for (size_t id = 0; id < self->n_names; id++)
        used += row_used[id];
    view->skills = pmo_arena_alloc (arena, (used + 1) * sizeof (void *));
    for (size_t id = 0; id < self->n_names; id++)
        if (row_used[id])
            view->skills[view->n_skills++] = s_row (self, arena, &rows[id * weeks], weeks,
                                                    self->name_list[id], row_resources[id]);
    for (size_t i = 1; i < view->n_skills; i++)
        for (size_t j = i; j > 0 && strcmp (view->skills[j - 1]->skill, view->skills[j]->skill) > 0;
             j--) {
            Pmo__CapacityRow *tmp = view->skills[j];
            view->skills[j] = view->skills[j - 1];
            view->skills[j - 1] = tmp;
        }
    view->total = s_row (self, arena, total, weeks, "*", counted);
    free (rows);
    free (row_resources);
    free (row_used);
    return view;
}

//  Claims on one resource, by priority (1 first), then the earlier booking.
static int s_by_priority (const void *a, const void *b)
{
    const ix_alloc_t *x = *(ix_alloc_t *const *)a, *y = *(ix_alloc_t *const *)b;
    uint32_t px = x->priority ? x->priority : 3, py = y->priority ? y->priority : 3;
    if (px != py)
        return px < py ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

Pmo__ConflictList *allocator_index_conflicts (allocator_index_t *self, const char *unit,
                                              int32_t first, int32_t last,
                                              const allocator_view_t *view, pmo_arena_t *arena)
{
    Pmo__ConflictList *list = pmo_arena_alloc (arena, sizeof (Pmo__ConflictList));
    pmo__conflict_list__init (list);
    size_t max = 0;
    char wbuf[16];
    ix_resource_t **tree;
    size_t in_tree = s_subtree (self, unit, false, arena, &tree);
    for (size_t i = 0; i < in_tree; i++) {
        ix_resource_t *r = tree[i];
        if (r->span == 0)
            continue;
        int32_t lo = r->base > first ? r->base : first;
        int32_t hi = r->base + (int32_t)r->span - 1;
        hi = hi < last ? hi : last;
        Pmo__AllocationConflict *conflict = NULL;
        int32_t *over = NULL;
        size_t n_over = 0;
        for (int32_t w = lo; w <= hi; w++) {
            uint32_t committed = r->committed[w - r->base];
            uint32_t capacity = s_capacity (r, w);
            if (committed <= capacity)
                continue;
            if (!conflict) {
                conflict = pmo_arena_alloc (arena, sizeof (Pmo__AllocationConflict));
                pmo__allocation_conflict__init (conflict);
                conflict->resource_id = r->id;
                conflict->resource_name = r->name;
                conflict->home_org_unit = r->unit;
                conflict->weeks = pmo_arena_alloc (arena, (size_t)(hi - w + 1) * sizeof (void *));
                over = pmo_arena_alloc (arena, (size_t)(hi - w + 1) * sizeof (int32_t));
            }
            Pmo__ConflictWeek *cw = pmo_arena_alloc (arena, sizeof (Pmo__ConflictWeek));
            pmo__conflict_week__init (cw);
            cw->week = pmo_arena_strdup (arena, allocator_week_format (w, wbuf, sizeof wbuf));
            cw->capacity_hours = capacity;
            cw->committed_hours = committed;
            cw->over_by_hours = committed - capacity;
            conflict->weeks[conflict->n_weeks++] = cw;
            over[n_over++] = w;
        }
        if (!conflict)
            continue;
        //  The committed claims that share an over-allocated week
        ix_alloc_t **claims = pmo_arena_alloc (arena, (r->n_allocs + 1) * sizeof (void *));
        size_t n_claims = 0;
        for (size_t k = 0; k < r->n_allocs; k++) {
            ix_alloc_t *a = r->allocs[k];
            if (a->state == PMO__ALLOCATION_STATE__ALLOCATION_STATE_COMMITTED &&
                a->last >= over[0] && a->first <= over[n_over - 1])
                claims[n_claims++] = a;
        }
        //  qsort wants a valid array even for nothing to sort
        if (n_claims > 1)
            qsort (claims, n_claims, sizeof (void *), s_by_priority);
        //  Shown: the resource if the reader sees it, or a claim it sees
        bool *shown = pmo_arena_alloc (arena, (n_claims + 1) * sizeof (bool));
        bool any_shown = s_shows_resource (view, r);
        for (size_t k = 0; k < n_claims; k++)
            any_shown |= shown[k] = s_shows (view, claims[k], r);
        if (!any_shown)
            continue;
        conflict->claims = pmo_arena_alloc (arena, (n_claims + 1) * sizeof (void *));
        ix_alloc_t *top = n_claims ? claims[0] : NULL;
        //  What names the prevailing claim: its code, unless hidden
        const char *top_code = !top ? "" : shown[0] ? top->project_code : "a project elsewhere";
        Pmo__ConflictClaim *elsewhere = NULL;
        size_t n_elsewhere = 0;
        for (size_t k = 0; k < n_claims; k++) {
            ix_alloc_t *a = claims[k];
            if (!shown[k]) {
                uint32_t weeks_over = 0;
                for (size_t o = 0; o < n_over; o++)
                    weeks_over += over[o] >= a->first && over[o] <= a->last;
                if (!elsewhere) {
                    elsewhere = pmo_arena_alloc (arena, sizeof (Pmo__ConflictClaim));
                    pmo__conflict_claim__init (elsewhere);
                    elsewhere->prevails = k == 0;
                    conflict->claims[conflict->n_claims++] = elsewhere;
                }
                elsewhere->hours_per_week += a->hours;
                if (weeks_over > elsewhere->weeks_over)
                    elsewhere->weeks_over = weeks_over;
                elsewhere->why = pmo_arena_printf (
                    arena,
                    "booked elsewhere: %u h a week of %zu committed claim(s) of projects "
                    "outside your reach",
                    elsewhere->hours_per_week, ++n_elsewhere);
                continue;
            }
            Pmo__ConflictClaim *claim = pmo_arena_alloc (arena, sizeof (Pmo__ConflictClaim));
            pmo__conflict_claim__init (claim);
            claim->allocation_id = a->id;
            claim->project_id = a->project_id;
            claim->project_code = a->project_code;
            claim->project_priority = a->priority;
            claim->hours_per_week = a->hours;
            for (size_t o = 0; o < n_over; o++)
                claim->weeks_over += over[o] >= a->first && over[o] <= a->last;
            claim->prevails = k == 0;
            if (k == 0)
                claim->why = n_claims > 1 ? "highest priority claim: it keeps its hours"
                                          : "the only committed claim: the resource's capacity "
                                            "is below it";
            else if (!shown[0])
                claim->why = pmo_arena_printf (
                    arena,
                    "a claim of a project outside your reach prevails: %s gives way in %u "
                    "week(s)",
                    a->project_code, claim->weeks_over);
            else if (a->priority != top->priority)
                claim->why = pmo_arena_printf (
                    arena, "priority %u is lower than %s's %u: %s gives way in %u week(s)",
                    a->priority, top->project_code, top->priority, a->project_code,
                    claim->weeks_over);
            else
                claim->why = pmo_arena_printf (
                    arena,
                    "same priority %u as %s, which was booked first (%s): settle it "
                    "between the two projects",
                    a->priority, top->project_code, top->id);
            conflict->claims[conflict->n_claims++] = claim;
        }
        conflict->summary = pmo_arena_printf (
            arena,
            "%s is over capacity in %zu week(s) from %s, worst %u h booked of %u h; "
            "%zu committed claim(s)%s%s",
            r->name, conflict->n_weeks, conflict->weeks[0]->week,
            conflict->weeks[0]->committed_hours, conflict->weeks[0]->capacity_hours, n_claims,
            top ? "; prevails: " : "", top_code);
        //  Report the worst week in the summary
        for (size_t k = 1; k < conflict->n_weeks; k++)
            if (conflict->weeks[k]->over_by_hours > conflict->weeks[0]->over_by_hours) {
                Pmo__ConflictWeek *worst = conflict->weeks[k];
                conflict->summary = pmo_arena_printf (
                    arena,
                    "%s is over capacity in %zu week(s) from %s, worst %s: %u h booked of "
                    "%u h; %zu committed claim(s)%s%s",
                    r->name, conflict->n_weeks, conflict->weeks[0]->week, worst->week,
                    worst->committed_hours, worst->capacity_hours, n_claims,
                    top ? "; prevails: " : "", top_code);
                break;
            }
        if (list->n_conflicts == max) {
            max = max ? max * 2 : 16;
            Pmo__AllocationConflict **grown = pmo_arena_alloc (arena, max * sizeof (void *));
            if (list->n_conflicts)
                memcpy (grown, list->conflicts, list->n_conflicts * sizeof (void *));
            list->conflicts = grown;
        }
        list->conflicts[list->n_conflicts++] = conflict;
    }
    return list;
}

//  ---------------------------------------------------------------------
//  Lists

typedef struct {
    const char *division;
    uint64_t seq;
    const char *id;
} key_t_;

static int s_by_key (const void *a, const void *b)
{
    const key_t_ *x = a, *y = b;
    int d = strcmp (x->division, y->division);
    if (d)
        return d;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

//  Keys after the cursor "division|seq", sorted; up to limit into ids.
static size_t s_page (key_t_ *keys, size_t n, const char *cursor, size_t limit, pmo_arena_t *arena,
                      char ***ids, char **next)
{
    //  qsort wants a valid array even for nothing to sort
    if (n > 1)
        qsort (keys, n, sizeof (key_t_), s_by_key);
    size_t start = 0;
    if (cursor && *cursor) {
        const char *bar = strchr (cursor, '|');
        key_t_ from = {"", 0, NULL};
        char division[64] = "";
        if (bar && (size_t)(bar - cursor) < sizeof division) {
            memcpy (division, cursor, (size_t)(bar - cursor));
            division[bar - cursor] = 0;
            from.division = division;
            from.seq = strtoull (bar + 1, NULL, 10);
        }
        while (start < n && s_by_key (&keys[start], &from) <= 0)
            start++;
    }
    size_t count = n - start < limit ? n - start : limit;
    *ids = pmo_arena_alloc (arena, (count + 1) * sizeof (char *));
    for (size_t i = 0; i < count; i++)
        (*ids)[i] = pmo_arena_strdup (arena, keys[start + i].id);
    *next = NULL;
    if (start + count < n && count > 0)
        *next = pmo_arena_printf (arena, "%s|%llu", keys[start + count - 1].division,
                                  (unsigned long long)keys[start + count - 1].seq);
    return count;
}

size_t allocator_index_list_resources (allocator_index_t *self,
                                       const allocator_resource_filter_t *f, const char *cursor,
                                       size_t limit, pmo_arena_t *arena, char ***ids, char **next)
{
    key_t_ *keys = malloc ((self->n_resources + 1) * sizeof (key_t_));
    assert (keys);
    int32_t role = f->role && *f->role ? s_name_id (self, f->role, false) : -1;
    int32_t skill = f->skill && *f->skill ? s_name_id (self, f->skill, false) : -1;
    bool impossible = (f->role && *f->role && role < 0) || (f->skill && *f->skill && skill < 0);
    size_t n = 0;
    for (size_t i = 0; i < self->n_resources && !impossible; i++) {
        ix_resource_t *r = self->resource_list[i];
        if ((r->archived && !f->include_archived) || !s_in (r->path, f->unit))
            continue;
        if (role >= 0 && r->role != role)
            continue;
        if (skill >= 0) {
            uint32_t level = 0;
            for (size_t k = 0; k < r->n_skills; k++)
                if (r->skills[k] == skill)
                    level = r->levels[k];
            if (!level || level < f->min_level)
                continue;
        }
        keys[n++] = (key_t_){r->division, r->seq, r->id};
    }
    size_t count = s_page (keys, n, cursor, limit, arena, ids, next);
    free (keys);
    return count;
}

size_t allocator_index_list_allocations (allocator_index_t *self,
                                         const allocator_allocation_filter_t *f, const char *cursor,
                                         size_t limit, pmo_arena_t *arena, char ***ids, char **next)
{
    key_t_ *keys = malloc ((self->n_allocs + 1) * sizeof (key_t_));
    assert (keys);
    size_t n = 0;
    for (size_t i = 0; i < self->n_allocs; i++) {
        ix_alloc_t *a = self->alloc_list[i];
        if (f->state && a->state != f->state)
            continue;
        if (f->project_id && *f->project_id && strcmp (a->project_id, f->project_id) != 0)
            continue;
        if (f->resource_id && *f->resource_id && strcmp (a->resource_id, f->resource_id) != 0)
            continue;
        ix_resource_t *r = a->resource;
        if (!r && *a->resource_id && (f->view || (f->unit && *f->unit)))
            r = zhashx_lookup (self->resources, a->resource_id);
        if (f->unit && *f->unit && !s_in (r ? r->path : a->project_path, f->unit))
            continue;
        if (!s_shows (f->view, a, r))
            continue;
        keys[n++] = (key_t_){a->division, a->seq, a->id};
    }
    size_t count = s_page (keys, n, cursor, limit, arena, ids, next);
    free (keys);
    return count;
}
