/*  test_federation_rollup.c: the hub's roll-up counters, kept in a real
    Redis by lua/apply.lua as pushes arrive, against the recomputation from
    every snapshot held (federation_rollup_add over the entities).

    - Projects (status, phase, archived), health, alerts and resources of
      a division, pushed in several batches: the counters equal the
      recomputation.
    - A push sent again (at-least-once): all duplicates, nothing changes.
    - The same snapshots under later stream ids (a replay past the mark):
      counted once, nothing changes.
    - Entities that move (a status change, an archival, an alert
      resolved, a skill changed) and an older version arriving late: the
      counters still equal the recomputation.
    - Snapshots held from before the hub kept counters: the roll-up adds
      them up; the next push builds the counters, equal again.
*/
#include "federation_model.h"
#include "federation_store.h"
#include "pmo_reflect.h"
#include "pmo_testkit.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *s_skills[] = {"java", "c++", "prince2"};

//  A stream id after every one used so far.
static char *s_next_id (pmo_arena_t *arena)
{
    static unsigned long long seq;
    return pmo_arena_printf (arena, "1700000000000-%llu", ++seq);
}

static Pmo__Event *s_event (pmo_arena_t *arena, const char *type, const char *id, uint64_t version)
{
    Pmo__Event *event = pmo_arena_alloc (arena, sizeof (Pmo__Event));
    pmo__event__init (event);
    event->type = (char *)type;
    event->division = "dft";
    event->org_unit = "dft";
    event->org_unit_path = "hub/dft";
    event->entity_id = (char *)id;
    event->entity_version = version;
    event->time_ms = 1700000000000LL + (int64_t)version * 1000;
    return event;
}

static Pmo__Event *s_project (pmo_arena_t *arena, int n, uint64_t version,
                              Pmo__ProjectStatus status, Pmo__Phase phase, bool archived)
{
    Pmo__Event *event =
        s_event (arena, "project.updated", pmo_arena_printf (arena, "pr_dft_%d", n), version);
    Pmo__Project *project = pmo_arena_alloc (arena, sizeof (Pmo__Project));
    pmo__project__init (project);
    project->id = event->entity_id;
    project->status = status;
    project->phase = phase;
    project->archived = archived;
    event->body_case = PMO__EVENT__BODY_PROJECT;
    event->project = project;
    return event;
}

static Pmo__Event *s_health (pmo_arena_t *arena, int n, uint64_t version, Pmo__Rag overall)
{
    Pmo__Event *event =
        s_event (arena, "health.changed", pmo_arena_printf (arena, "pr_dft_%d", n), version);
    Pmo__HealthAssessment *health = pmo_arena_alloc (arena, sizeof (Pmo__HealthAssessment));
    pmo__health_assessment__init (health);
    health->overall = overall;
    event->body_case = PMO__EVENT__BODY_HEALTH;
    event->health = health;
    return event;
}

static Pmo__Event *s_alert (pmo_arena_t *arena, int n, uint64_t version, Pmo__AlertState state)
{
    Pmo__Event *event =
        s_event (arena, "alert.raised", pmo_arena_printf (arena, "al_dft_%d", n), version);
    Pmo__Alert *alert = pmo_arena_alloc (arena, sizeof (Pmo__Alert));
    pmo__alert__init (alert);
    alert->id = event->entity_id;
    alert->state = state;
    event->body_case = PMO__EVENT__BODY_ALERT;
    event->alert = alert;
    return event;
}

static Pmo__Event *s_resource (pmo_arena_t *arena, int n, uint64_t version, const char *skill,
                               uint32_t hours)
{
    Pmo__Event *event =
        s_event (arena, "resource.updated", pmo_arena_printf (arena, "rs_dft_%d", n), version);
    Pmo__Resource *resource = pmo_arena_alloc (arena, sizeof (Pmo__Resource));
    pmo__resource__init (resource);
    resource->id = event->entity_id;
    resource->weekly_capacity_hours = hours;
    Pmo__ResourceSkill *first = pmo_arena_alloc (arena, sizeof (Pmo__ResourceSkill));
    pmo__resource_skill__init (first);
    first->name = (char *)skill;
    first->level = 3;
    resource->skills = pmo_arena_alloc (arena, sizeof (Pmo__ResourceSkill *));
    resource->skills[0] = first;
    resource->n_skills = 1;
    event->body_case = PMO__EVENT__BODY_RESOURCE;
    event->resource = resource;
    return event;
}

//  Push events as the hub does (federation_hub.c: field, version, blob,
//  what it adds) under the given stream ids; NULL ids: fresh ones.
static void s_push (federation_store_t *store, pmo_arena_t *arena, Pmo__Event **events, size_t n,
                    char **ids, uint32_t *applied, uint32_t *duplicates)
{
    federation_apply_t *apply = pmo_arena_alloc (arena, (n + 1) * sizeof (federation_apply_t));
    for (size_t i = 0; i < n; i++) {
        apply[i].stream_id = ids ? ids[i] : s_next_id (arena);
        apply[i].field = federation_entity_field (events[i], arena);
        apply[i].version = events[i]->entity_version;
        apply[i].blob = pmo_reflect_pack (&events[i]->base, arena, &apply[i].size);
        apply[i].type = events[i]->type;
        apply[i].contribution = federation_rollup_contribution (events[i], arena);
        apply[i].time_ms = events[i]->time_ms;
        if (ids == NULL)
            events[i]->id = (char *)apply[i].stream_id;
    }
    char last[64];
    uint32_t a = 0, d = 0;
    assert (federation_store_apply (store, "spoke1", "dft", apply, n, &a, &d, last, sizeof last) ==
            0);
    if (applied)
        *applied = a;
    if (duplicates)
        *duplicates = d;
}

//  A roll-up as sorted text, so two can be compared whatever their order.
static int s_cmp (const void *a, const void *b)
{
    return strcmp (*(char *const *)a, *(char *const *)b);
}

static char *s_text (const federation_rollup_t *rollup, pmo_arena_t *arena, bool with_time)
{
    Pmo__DivisionRollup *msg = federation_rollup_message (rollup, arena, "dft", "");
    const struct {
        const char *name;
        Pmo__Count **counts;
        size_t n;
    } lists[] = {{"status", msg->projects_by_status, msg->n_projects_by_status},
                 {"phase", msg->projects_by_phase, msg->n_projects_by_phase},
                 {"health", msg->health, msg->n_health},
                 {"capacity", msg->capacity_by_skill, msg->n_capacity_by_skill},
                 {"entities", msg->entities, msg->n_entities}};
    char *lines[256];
    size_t n = 0;
    lines[n++] = pmo_arena_printf (
        arena, "projects=%llu open_alerts=%llu resources=%llu", (unsigned long long)msg->projects,
        (unsigned long long)msg->open_alerts, (unsigned long long)msg->resources);
    if (with_time)
        lines[n++] = pmo_arena_printf (arena, "updated=%lld", (long long)msg->updated_ms);
    for (size_t l = 0; l < sizeof lists / sizeof lists[0]; l++)
        for (size_t i = 0; i < lists[l].n; i++) {
            assert (n < 256);
            lines[n++] =
                pmo_arena_printf (arena, "%s:%s=%llu", lists[l].name, lists[l].counts[i]->key,
                                  (unsigned long long)lists[l].counts[i]->value);
        }
    qsort (lines, n, sizeof (char *), s_cmp);
    char *text = "";
    for (size_t i = 0; i < n; i++)
        text = pmo_arena_printf (arena, "%s%s\n", text, lines[i]);
    return text;
}

//  The counters the hub keeps for dft; *built whether it has them.
static char *s_counted (federation_store_t *store, pmo_arena_t *arena, bool *built)
{
    const char *divisions[] = {"dft"};
    federation_rollup_t rollup = {0};
    Pmo__Count **types;
    size_t n_types;
    assert (federation_store_rollups (store, arena, divisions, 1, &rollup, built, &types,
                                      &n_types) == 0);
    return s_text (&rollup, arena, true);
}

//  The same, recomputed from every snapshot held.
static char *s_recomputed (federation_store_t *store, pmo_arena_t *arena)
{
    Pmo__Event **events;
    size_t n;
    assert (federation_store_entities (store, arena, "dft", &events, &n) == 0);
    federation_rollup_t rollup = {0};
    for (size_t i = 0; i < n; i++)
        federation_rollup_add (&rollup, arena, events[i]);
    return s_text (&rollup, arena, true);
}

static void s_agree (federation_store_t *store, pmo_arena_t *arena, const char *when)
{
    bool built = false;
    char *counted = s_counted (store, arena, &built);
    char *recomputed = s_recomputed (store, arena);
    if (!built || strcmp (counted, recomputed) != 0) {
        fprintf (stderr, "%s: counted (built %d):\n%s\nrecomputed:\n%s\n", when, built, counted,
                 recomputed);
        assert (false);
    }
}

int main (void)
{
    pmo_test_redis_t *redis = pmo_test_redis_start (false);
    assert (redis);
    pmo_redis_t *conn = pmo_redis_new (pmo_test_redis_url (redis), 5000);
    federation_store_t *store = federation_store_new (conn, "hub");
    pmo_arena_t *arena = pmo_arena_new ();

    //  A division's portfolio in three pushes
    Pmo__ProjectStatus statuses[] = {PMO__PROJECT_STATUS__PROJECT_STATUS_ACTIVE,
                                     PMO__PROJECT_STATUS__PROJECT_STATUS_ON_HOLD,
                                     PMO__PROJECT_STATUS__PROJECT_STATUS_PROPOSED};
    Pmo__Phase phases[] = {PMO__PHASE__PHASE_EXECUTION, PMO__PHASE__PHASE_PLANNING,
                           PMO__PHASE__PHASE_INITIATION};
    Pmo__Rag rags[] = {PMO__RAG__RAG_GREEN, PMO__RAG__RAG_AMBER, PMO__RAG__RAG_RED};
    Pmo__Event *first[120];
    size_t n = 0;
    for (int p = 1; p <= 40; p++) {
        first[n++] = s_project (arena, p, 1, statuses[p % 3], phases[p % 3], p % 10 == 0);
        first[n++] = s_health (arena, p, 1, rags[p % 3]);
    }
    for (int a = 1; a <= 20; a++)
        first[n++] = s_alert (arena, a, 1,
                              a % 4 == 0 ? PMO__ALERT_STATE__ALERT_STATE_RESOLVED
                                         : PMO__ALERT_STATE__ALERT_STATE_OPEN);
    for (int r = 1; r <= 20; r++)
        first[n++] = s_resource (arena, r, 1, s_skills[r % 3], 20 + (uint32_t)r);
    assert (n == 120);
    uint32_t applied, duplicates;
    s_push (store, arena, first, 50, NULL, &applied, NULL);
    assert (applied == 50);
    s_push (store, arena, first + 50, 40, NULL, NULL, NULL);
    s_push (store, arena, first + 90, 30, NULL, NULL, NULL);
    s_agree (store, arena, "after the first pushes");
    bool built;
    char *before = s_counted (store, arena, &built);
    assert (strstr (before, "projects=36 open_alerts=15 resources=20\n"));

    //  The last push sent again: every event a duplicate, nothing moves
    char **ids = pmo_arena_alloc (arena, 30 * sizeof (char *));
    for (size_t i = 0; i < 30; i++)
        ids[i] = first[90 + i]->id;
    s_push (store, arena, first + 90, 30, ids, &applied, &duplicates);
    assert (applied == 0 && duplicates == 30);
    assert (strcmp (s_counted (store, arena, &built), before) == 0);
    //  The same snapshots again under later stream ids: applied, and the
    //  counters stay where they were
    s_push (store, arena, first, 120, NULL, &applied, NULL);
    assert (applied == 120);
    assert (strcmp (s_counted (store, arena, &built), before) == 0);
    s_agree (store, arena, "after the replays");

    //  Entities move: a status change, an archival, an alert resolved, a
    //  skill changed; and an older version arriving after a newer one
    Pmo__Event *moves[] = {
        s_project (arena, 1, 2, PMO__PROJECT_STATUS__PROJECT_STATUS_COMPLETED,
                   PMO__PHASE__PHASE_CLOSED, false),
        s_project (arena, 2, 2, statuses[2], phases[2], true),
        s_health (arena, 3, 2, PMO__RAG__RAG_RED),
        s_alert (arena, 1, 2, PMO__ALERT_STATE__ALERT_STATE_RESOLVED),
        s_resource (arena, 1, 2, "rust", 37),
        s_project (arena, 1, 1, statuses[0], phases[0], false),
    };
    s_push (store, arena, moves, 6, NULL, &applied, NULL);
    assert (applied == 6);
    char *after = s_counted (store, arena, &built);
    assert (strcmp (after, before) != 0);
    assert (strstr (after, "projects=35 open_alerts=14 resources=20\n"));
    assert (strstr (after, "status:completed=1\n"));
    assert (strstr (after, "capacity:rust=37\n"));
    s_agree (store, arena, "after the moves");

    //  Held from before the hub kept counters: the roll-up adds them up
    //  until the next push builds the counters
    redisReply *reply = pmo_test_redis_command (redis, "DEL pmo:{hub}:fed:roll:dft "
                                                       "pmo:{hub}:fed:contrib:dft");
    freeReplyObject (reply);
    s_counted (store, arena, &built);
    assert (!built);
    Pmo__Event *late[] = {s_project (arena, 41, 1, statuses[0], phases[0], false)};
    s_push (store, arena, late, 1, NULL, &applied, NULL);
    assert (applied == 1);
    s_agree (store, arena, "after the build");
    assert (strstr (s_counted (store, arena, &built), "projects=36 "));

    pmo_arena_destroy (&arena);
    federation_store_destroy (&store);
    pmo_redis_destroy (&conn);
    pmo_test_redis_destroy (&redis);
    printf ("test_federation_rollup: ok\n");
    return 0;
}
