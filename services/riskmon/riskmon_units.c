/*  riskmon_units.c: what the risk monitor knows of the org units: the
    streams it reads (one per division), the units themselves (orgtree:
    health computations use what the tree holds and never wait on the
    registry; requests ask it when the tree does not hold a unit fresh),
    the reporting period and PMO type in force along a path, and the
    health thresholds in force at a unit.
*/
#include "riskmon_internal.h"

#include "pmo_log.h"
#include "pmo_reflect.h"

#include <assert.h>
#include <string.h>

#define THRESHOLDS_TTL_MS 2000 //  other replicas' threshold changes show within this

//  ---------------------------------------------------------------------
//  Streams

int riskmon_stream_add (riskmon_t *self, const char *division)
{
    for (size_t i = 0; i < self->n_streams; i++)
        if (streq (self->divisions[i], division))
            return 0;
    if (self->n_streams == MAX_STREAMS || !pmo_slug_valid (division, 1, 32))
        return -1;
    char key[96];
    if (pmo_stream_key_buf (key, sizeof key, division) ||
        riskmon_store_stream_open (self->store, division, GROUP))
        return -1;
    self->streams[self->n_streams] = strdup (key);
    assert (self->streams[self->n_streams]);
    self->sweep_at[self->n_streams] = 0;
    self->escalate_at[self->n_streams] = 0;
    self->divisions[self->n_streams++] = strdup (division);
    self->reader_streams_ok = false;
    pmo_info ("riskmon: reading stream=%s group=%s", key, GROUP);
    return 0;
}

//  ---------------------------------------------------------------------
//  Org units

//  The unit with id as the tree holds it, without asking the registry:
//  for the health computations, which must never wait on it. NULL if the
//  tree holds none. Valid until the next call on the tree that reads.
const Pmo__OrgUnit *riskmon_unit_held (riskmon_t *self, const char *id)
{
    return orgtree_held (self->tree, id);
}

//  The unit with id for a request (in arena): the registry is asked if the
//  tree does not hold it fresh (one it never held, one read before an
//  org-unit event or too long ago); if the registry does not answer, what
//  the tree held is used. NULL if there is no such unit.
const Pmo__OrgUnit *riskmon_unit_for (riskmon_t *self, pmo_arena_t *arena, const char *id)
{
    Pmo__OrgUnit *unit = NULL;
    int rc = orgtree_unit (self->tree, id, arena, &unit);
    if (rc >= 0)
        return rc ? unit : NULL;
    const Pmo__OrgUnit *held = riskmon_unit_held (self, id);
    return held ? (Pmo__OrgUnit *)pmo_reflect_copy (&held->base, arena) : NULL;
}

//  The stream of every division the tree knows, once the tree changed.
static void s_units_read (riskmon_t *self)
{
    if (orgtree_generation (self->tree) == self->units_generation)
        return;
    self->units_generation = orgtree_generation (self->tree);
    const char *division;
    for (size_t i = 0; (division = orgtree_division_at (self->tree, i)); i++)
        riskmon_stream_add (self, division);
}

void riskmon_units_sync (riskmon_t *self)
{
    orgtree_reader_done (self->units, orgtree_refresh (self->tree, false));
    s_units_read (self);
}

int riskmon_units_open (riskmon_t *self)
{
    orgtree_reader_config_t config = {.registry = self->config.registry,
                                      .identity = &self->identity,
                                      .timeout_ms = UNITS_TIMEOUT_MS,
                                      .refresh_ms = UNITS_REFRESH_MS,
                                      .retry_ms = UNITS_RETRY_MS,
                                      .name = "riskmon"};
    self->units = orgtree_reader_new (self->tree, &config);
    return self->units ? 0 : -1;
}

void riskmon_units_due (riskmon_t *self)
{
    orgtree_reader_due (self->units);
}

void riskmon_units_take (riskmon_t *self)
{
    if (orgtree_reader_take (self->units))
        s_units_read (self);
}

//  ---------------------------------------------------------------------
//  Along a path

//  The components of path, in arena; returns how many.
size_t riskmon_path_split (pmo_arena_t *arena, const char *path, char **parts, size_t max)
{
    char *copy = pmo_arena_strdup (arena, path ? path : "");
    size_t n = 0;
    char *save = NULL;
    for (char *p = strtok_r (copy, "/", &save); p && n < max; p = strtok_r (NULL, "/", &save))
        parts[n++] = p;
    return n;
}

//  The reporting period in force at path: the nearest policy that sets one
//  (the registry's inheritance rule); 0 if none does.
uint32_t riskmon_reporting_days (riskmon_t *self, pmo_arena_t *arena, const char *path)
{
    char *parts[32];
    size_t n = riskmon_path_split (arena, path, parts, 32);
    for (size_t i = n; i > 0; i--) {
        const Pmo__OrgUnit *unit = riskmon_unit_held (self, parts[i - 1]);
        if (unit && unit->policy && unit->policy->reporting_period_days)
            return unit->policy->reporting_period_days;
    }
    return 0;
}

//  The PMO type of the nearest PMO unit strictly above the last of path.
Pmo__PmoType riskmon_pmo_above (riskmon_t *self, pmo_arena_t *arena, const char *path)
{
    char *parts[32];
    size_t n = riskmon_path_split (arena, path, parts, 32);
    for (size_t i = n > 0 ? n - 1 : 0; i > 0; i--) {
        const Pmo__OrgUnit *unit = riskmon_unit_held (self, parts[i - 1]);
        if (unit && unit->pmo_type != PMO__PMO_TYPE__PMO_TYPE_NONE)
            return unit->pmo_type;
    }
    return PMO__PMO_TYPE__PMO_TYPE_NONE;
}

//  ---------------------------------------------------------------------
//  Thresholds

int riskmon_thresholds_reload (riskmon_t *self)
{
    pmo_arena_t *arena = pmo_arena_new ();
    Pmo__Thresholds **list;
    uint64_t *versions;
    size_t n;
    int rc = riskmon_store_thresholds (riskmon_reader (self), arena, &list, &versions, &n);
    if (rc == 0) {
        zhashx_purge (self->thresholds);
        for (size_t i = 0; i < n; i++) {
            list[i]->version = versions[i];
            zhashx_update (self->thresholds, list[i]->org_unit, pmo_reflect_dup (&list[i]->base));
        }
        self->thresholds_next_ms = pmo_mono_ms () + THRESHOLDS_TTL_MS;
    }
    pmo_arena_destroy (&arena);
    return rc;
}

//  The thresholds in force at path: the defaults, then each unit's own
//  from the root down (the first `depth` components; all if depth < 0).
//  *from lists the units that set some.
void riskmon_effective (riskmon_t *self, pmo_arena_t *arena, const char *path, int depth,
                        Pmo__Thresholds *out, char **from)
{
    if (pmo_mono_ms () >= self->thresholds_next_ms)
        riskmon_thresholds_reload (self);
    riskmon_thresholds_defaults (out);
    char *parts[32];
    size_t n = riskmon_path_split (arena, path, parts, 32);
    if (depth >= 0 && (size_t)depth < n)
        n = (size_t)depth;
    char *list = pmo_arena_strdup (arena, "");
    for (size_t i = 0; i < n; i++) {
        Pmo__Thresholds *own = zhashx_lookup (self->thresholds, parts[i]);
        if (!own)
            continue;
        riskmon_thresholds_merge (out, own);
        list = pmo_arena_printf (arena, "%s%s%s", list, *list ? "," : "", parts[i]);
    }
    if (from)
        *from = list;
}
