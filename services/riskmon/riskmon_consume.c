/*  riskmon_consume.c: reading the division streams.

    A batch of entries is decoded, the projects it is about are read in one
    round trip, each entry's effect on each project is committed in batch
    scripts, and what is done is acknowledged. An effect carries the
    applied marker "rm.<division>.<entry>.<project>", so an entry delivered
    twice (a crash between the commit and XACK, or a dead consumer's
    entries taken over) changes nothing the second time. An entry whose
    commit fails is redone alone, and left pending if that fails too.
*/
#include "riskmon_internal.h"

#include "riskmon_benefits.h"

#include "pmo_log.h"

#include <string.h>

#define RETRIES 3

typedef struct {
    pmo_stream_entry_t *entry;
    Pmo__Event *event;
    char division[40]; //  of the stream
    bool failed;       //  leave it pending: it comes back
} s_item_t;

//  Apply one event to a project's record (in memory).
static void s_apply (pmo_arena_t *arena, Pmo__ProjectHealth *ph, const Pmo__Event *event,
                     const char *stream_id)
{
    Pmo__HealthInputs *in = ph->inputs;
    switch (event->body_case) {
    case PMO__EVENT__BODY_PROJECT:
        riskmon_apply_project (in, event->project);
        break;
    case PMO__EVENT__BODY_MILESTONE:
        riskmon_apply_milestone (in, event->milestone, arena);
        break;
    case PMO__EVENT__BODY_STATUS_REPORT:
        riskmon_apply_report (in, event->status_report);
        break;
    case PMO__EVENT__BODY_OVER_ALLOCATION: {
        const Pmo__OverAllocation *oa = event->over_allocation;
        riskmon_apply_overallocation (
            ph, in->project_id, oa->resource_id, oa->resource_name, oa->weeks, oa->n_weeks,
            oa->worst_week_booked_hours, oa->worst_week_capacity_hours,
            oa->over && strcmp (event->type, "resource.cleared") != 0, stream_id, arena);
        break;
    }
    case PMO__EVENT__BODY_BENEFIT:
        riskmon_apply_benefit (in, event->benefit, arena);
        break;
    default:
        break;
    }
    ph->events_applied++;
}

//  The projects an event is about (ids in arena); 0 if none.
static size_t s_event_projects (const Pmo__Event *event, char ***ids)
{
    static char *one[1];
    switch (event->body_case) {
    case PMO__EVENT__BODY_PROJECT:
        one[0] = event->project->id;
        break;
    case PMO__EVENT__BODY_MILESTONE:
        one[0] = event->milestone->project_id;
        break;
    case PMO__EVENT__BODY_STATUS_REPORT:
        one[0] = event->status_report->project_id;
        break;
    case PMO__EVENT__BODY_OVER_ALLOCATION:
        *ids = event->over_allocation->project_ids;
        return event->over_allocation->n_project_ids;
    case PMO__EVENT__BODY_BENEFIT: //  the planner's: every linked project
        *ids = event->benefit->project_ids;
        return event->benefit->n_project_ids;
    default:
        return 0;
    }
    *ids = one;
    return one[0] && *one[0] ? 1 : 0;
}

//  An org unit changed: the tree reads the units again (the caller syncs
//  it), a division's stream is read at once (the event says all it takes,
//  registry or not), and if its policy may have changed the reporting
//  period, its projects are looked at again.
static void s_org_unit_event (riskmon_t *self, const Pmo__Event *event)
{
    const Pmo__OrgUnit *unit = event->org_unit_snapshot;
    const Pmo__OrgUnit *before = riskmon_unit_held (self, unit->id);
    uint32_t old_days = before && before->policy ? before->policy->reporting_period_days : 0;
    uint32_t new_days = unit->policy ? unit->policy->reporting_period_days : 0;
    bool known = before != NULL;
    orgtree_reader_now (self->units); //  invalidates the tree
    if (unit->kind == PMO__ORG_UNIT_KIND__ORG_UNIT_KIND_DIVISION ||
        unit->kind == PMO__ORG_UNIT_KIND__ORG_UNIT_KIND_ENTERPRISE)
        riskmon_stream_add (self, unit->division);
    if (known && old_days != new_days) {
        pmo_arena_t *arena = pmo_arena_new ();
        for (size_t i = 0; i < self->n_streams; i++)
            if (unit->kind == PMO__ORG_UNIT_KIND__ORG_UNIT_KIND_ENTERPRISE ||
                streq (self->divisions[i], unit->division))
                riskmon_recheck (self, arena, self->divisions[i]);
        pmo_arena_destroy (&arena);
    }
}

//  Commit one work item now, re-reading the record (the slow path, after
//  a batch commit failed). 0 done (or already done), -1 leave pending.
static int s_work_alone (riskmon_t *self, pmo_arena_t *arena, s_item_t *item,
                         riskmon_target_t *target)
{
    for (int attempt = 0; attempt < RETRIES; attempt++) {
        ProtobufCMessage *msg;
        uint64_t version;
        int rc = riskmon_store_get (
            self->store, arena, riskmon_key_project (arena, target->division, target->project_id),
            &pmo__project_health__descriptor, &msg, &version);
        if (rc < 0)
            return -1;
        Pmo__ProjectHealth *ph =
            rc ? riskmon_health_read (msg)
               : riskmon_health_new (arena, target->project_id, target->division);
        s_apply (arena, ph, item->event, item->entry->id);
        const char *rid =
            riskmon_event_request_id (arena, item->division, item->entry->id, target->project_id);
        riskmon_commit_t *commit = riskmon_commit_new (arena);
        riskmon_work_t work = {0};
        bool dirty;
        int64_t due;
        if (riskmon_project_update (self, arena, commit, ph, rc ? version : 0, item->event->type,
                                    item->event->actor, item->event->actor_via,
                                    item->event->request_id, &work.change, &dirty, &due, false))
            return -1;
        riskmon_batch_t *batch = riskmon_batch_new (self->store, arena, 1);
        size_t order[1];
        riskmon_pipe_t pipe = {self, batch, &work, NULL, order, 0, 0};
        riskmon_pipe_add (&pipe, 0, target->division, commit, rid);
        riskmon_pipe_flush (&pipe);
        pmo_commit_status_t status = riskmon_batch_result (batch, work.ticket)->status;
        riskmon_batch_destroy (&batch);
        if (status == PMO_COMMIT_OK) {
            riskmon_pipe_publish (self, arena, &work, 1, target, NULL);
            return 0;
        }
        if (status == PMO_COMMIT_DUPLICATE)
            return 0;
        if (status != PMO_COMMIT_CONFLICT)
            return -1;
    }
    return -1;
}

//  One batch of stream entries as it is worked through (in the work arena).
typedef struct {
    pmo_stream_batch_t entries;
    s_item_t *items; //  one per entry
    size_t n;
    riskmon_target_t *targets; //  the projects the entries are about, once each
    size_t n_targets, max_targets;
    size_t *slots; //  their index: open addressing on the project id, target + 1 (0 free)
    size_t n_slots;
    riskmon_work_t *work; //  one per entry and project, in stream order
    size_t n_work, max_work;
    bool units_changed; //  an org-unit event was among them
} s_batch_t;

//  Where a project id's search starts among n_slots (a power of two).
static size_t s_slot (const char *project_id, size_t n_slots)
{
    uint64_t hash = 14695981039346656037ULL; //  FNV-1a
    for (const char *c = project_id; *c; c++)
        hash = (hash ^ (uint8_t)*c) * 1099511628211ULL;
    return (size_t)hash & (n_slots - 1);
}

//  The slot of a project id: the one holding it, or the free one where it
//  goes (the table is never more than half full).
static size_t *s_slot_find (s_batch_t *b, const char *project_id)
{
    size_t at = s_slot (project_id, b->n_slots);
    while (b->slots[at] && !streq (b->targets[b->slots[at] - 1].project_id, project_id))
        at = (at + 1) & (b->n_slots - 1);
    return &b->slots[at];
}

//  An index of twice the targets' room, filled with those there are.
static void s_slots_build (s_batch_t *b, pmo_arena_t *arena)
{
    b->n_slots = 16;
    while (b->n_slots < 2 * b->max_targets)
        b->n_slots *= 2;
    b->slots = pmo_arena_alloc (arena, b->n_slots * sizeof (size_t));
    memset (b->slots, 0, b->n_slots * sizeof (size_t));
    for (size_t t = 0; t < b->n_targets; t++)
        *s_slot_find (b, b->targets[t].project_id) = t + 1;
}

//  The target index of a project, added if the batch has not met it yet
//  (found through the index: a batch of 512 entries may name hundreds of
//  projects, and comparing each with every one before it showed in the
//  profile).
static size_t s_target (s_batch_t *b, pmo_arena_t *arena, char *division, char *project_id)
{
    size_t *slot = s_slot_find (b, project_id);
    if (*slot)
        return *slot - 1;
    size_t t = b->n_targets;
    if (b->n_targets == b->max_targets) {
        riskmon_target_t *grown =
            pmo_arena_alloc (arena, 2 * b->max_targets * sizeof (riskmon_target_t));
        memcpy (grown, b->targets, b->n_targets * sizeof (riskmon_target_t));
        b->targets = grown;
        b->max_targets *= 2;
    }
    b->targets[t].division = division;
    b->targets[t].project_id = project_id;
    b->n_targets++;
    if (2 * b->max_targets > b->n_slots)
        s_slots_build (b, arena); //  grown: a larger index, this one in it
    else
        *slot = t + 1;
    return t;
}

//  Add a work item: entry i's effect on target t.
static void s_work_add (s_batch_t *b, pmo_arena_t *arena, size_t i, size_t t)
{
    if (b->n_work == b->max_work) {
        b->max_work = b->max_work ? b->max_work * 2 : b->n + 8;
        riskmon_work_t *grown = pmo_arena_alloc (arena, b->max_work * sizeof (riskmon_work_t));
        if (b->n_work)
            memcpy (grown, b->work, b->n_work * sizeof (riskmon_work_t));
        b->work = grown;
    }
    riskmon_work_t *w = &b->work[b->n_work++];
    memset (w, 0, sizeof *w);
    w->item = i;
    w->target = t;
}

//  Decode entry i and note the projects it is about (org-unit events are
//  acted on here: they are about no project).
static void s_decode (riskmon_t *self, s_batch_t *b, pmo_arena_t *arena, size_t i)
{
    s_item_t *item = &b->items[i];
    item->entry = &b->entries.entries[i];
    pmo_stream_key_division (item->entry->stream, item->division, sizeof item->division);
    item->event = (Pmo__Event *)protobuf_c_message_unpack (
        &pmo__event__descriptor, pmo_arena_allocator (arena), item->entry->size,
        (const uint8_t *)item->entry->data);
    if (!item->event) {
        pmo_warn ("riskmon: undecodable entry stream=%s id=%s size=%zu (skipped)",
                  item->entry->stream, item->entry->id, item->entry->size);
        self->ignored++;
        return;
    }
    if (streq (item->event->source, "riskmon")) {
        self->ignored++;
        return;
    }
    if (item->event->body_case == PMO__EVENT__BODY_ORG_UNIT_SNAPSHOT) {
        s_org_unit_event (self, item->event);
        b->units_changed = true;
        self->ignored++;
        return;
    }
    char **ids;
    size_t count = s_event_projects (item->event, &ids);
    if (count == 0) {
        self->ignored++;
        return;
    }
    for (size_t p = 0; p < count; p++) {
        char *division = riskmon_division_of (arena, ids[p]);
        if (!division) {
            pmo_warn ("riskmon: event names a malformed project id stream=%s id=%s",
                      item->entry->stream, item->entry->id);
            continue;
        }
        s_work_add (b, arena, i, s_target (b, arena, division, ids[p]));
    }
}

//  The records of every project touched, in one round trip. 0 or -1.
static int s_read_targets (riskmon_t *self, s_batch_t *b, pmo_arena_t *arena)
{
    size_t n = b->n_targets;
    if (n == 0)
        return 0;
    char **keys = pmo_arena_alloc (arena, n * sizeof (char *));
    for (size_t t = 0; t < n; t++)
        keys[t] = riskmon_key_project (arena, b->targets[t].division, b->targets[t].project_id);
    ProtobufCMessage **msgs = pmo_arena_alloc (arena, n * sizeof (void *));
    uint64_t *versions = pmo_arena_alloc (arena, n * sizeof (uint64_t));
    if (riskmon_store_get_many (self->store, arena, keys, n, &pmo__project_health__descriptor, msgs,
                                versions))
        return -1;
    for (size_t t = 0; t < n; t++) {
        riskmon_target_t *target = &b->targets[t];
        target->ph = msgs[t] ? riskmon_health_read (msgs[t])
                             : riskmon_health_new (arena, target->project_id, target->division);
        target->version = msgs[t] ? versions[t] : 0;
    }
    return 0;
}

//  Build every commit in order on the records in memory and queue it in
//  the batch: scripts of BATCH_CHUNK commits go out as they fill, so Redis
//  runs one while the next is built; answers are read at the end. Reads
//  meanwhile (an alert to update, alert ids, thresholds) go to the second
//  connection (riskmon_reader). What failed is redone alone, or left
//  pending.
static void s_commit_all (riskmon_t *self, s_batch_t *b, pmo_arena_t *arena)
{
    riskmon_batch_t *rbatch = riskmon_batch_new (self->store, arena, BATCH_CHUNK);
    riskmon_pipe_t pipe = {self,
                           rbatch,
                           b->work,
                           b->targets,
                           pmo_arena_alloc (arena, (b->n_work + 1) * sizeof (size_t)),
                           0,
                           0};
    riskmon_batch_mode (self, true);
    for (size_t k = 0; k < b->n_work; k++) {
        riskmon_work_t *w = &b->work[k];
        s_item_t *item = &b->items[w->item];
        riskmon_target_t *target = &b->targets[w->target];
        if (target->broken)
            continue; //  redone alone below
        s_apply (arena, target->ph, item->event, item->entry->id);
        const char *rid =
            riskmon_event_request_id (arena, item->division, item->entry->id, target->project_id);
        riskmon_commit_t *commit = riskmon_commit_new (arena);
        bool dirty;
        int64_t due;
        if (riskmon_project_update (self, arena, commit, target->ph, target->version,
                                    item->event->type, item->event->actor, item->event->actor_via,
                                    item->event->request_id, &w->change, &dirty, &due, false))
            break; //  Redis failed: what was not queued stays pending
        riskmon_pipe_add (&pipe, k, target->division, commit, rid);
        target->version++;
    }
    riskmon_pipe_flush (&pipe);
    riskmon_batch_mode (self, false);
    riskmon_batch_destroy (&rbatch);
    riskmon_pipe_publish (self, arena, b->work, b->n_work, b->targets, NULL);
    for (size_t k = 0; k < b->n_work; k++) {
        riskmon_work_t *w = &b->work[k];
        if (w->ok)
            continue;
        if (s_work_alone (self, arena, &b->items[w->item], &b->targets[w->target]) == 0)
            w->ok = true;
        else
            b->items[w->item].failed = true;
    }
}

//  Acknowledge what is done, per stream.
static void s_ack (riskmon_t *self, s_batch_t *b, pmo_arena_t *arena)
{
    const char **ids = pmo_arena_alloc (arena, b->n * sizeof (char *));
    for (size_t s = 0; s < self->n_streams; s++) {
        size_t count = 0;
        for (size_t i = 0; i < b->n; i++)
            if (!b->items[i].failed && streq (b->items[i].entry->stream, self->streams[s]))
                ids[count++] = b->items[i].entry->id;
        if (count && riskmon_store_ack (self->store, self->streams[s], GROUP, ids, count))
            pmo_warn ("riskmon: ack failed stream=%s count=%zu (they will be redelivered)",
                      self->streams[s], count);
    }
    size_t failed = 0;
    for (size_t i = 0; i < b->n; i++)
        failed += b->items[i].failed;
    if (failed)
        pmo_warn ("riskmon: %zu of %zu entries left pending (retried later)", failed, b->n);
}

//  Act on a batch of entries (cleared). With read_ahead, the stream read
//  for the next batch is sent once this one is decoded, so Redis reads it
//  while this one is applied (unless this one changed org units: they may
//  add streams, which the next read must name). Returns the entries, -1 on
//  failure.
static int s_handle_batch (riskmon_t *self, s_batch_t *b, bool read_ahead)
{
    if (b->entries.count == 0) {
        pmo_stream_batch_clear (&b->entries);
        return 0;
    }
    //  What is committed below may move the divisions' sweep and escalation
    //  times (entries of one stream come together)
    const char *last = NULL;
    for (size_t i = 0; i < b->entries.count; i++) {
        const char *stream = b->entries.entries[i].stream;
        if (last && streq (last, stream))
            continue;
        last = stream;
        char division[64];
        if (pmo_stream_key_division (stream, division, sizeof division))
            riskmon_schedule_touch (self, division);
    }
    pmo_arena_t *arena = self->work;
    pmo_arena_reset (arena);
    b->n = b->entries.count;
    b->items = pmo_arena_alloc (arena, b->n * sizeof (s_item_t));
    b->max_targets = b->n * 4;
    b->targets = pmo_arena_alloc (arena, b->max_targets * sizeof (riskmon_target_t) + 1);
    s_slots_build (b, arena);
    for (size_t i = 0; i < b->n; i++)
        s_decode (self, b, arena, i);
    //  Org units changed: the projects of this batch see them as they now are
    if (b->units_changed)
        riskmon_units_sync (self);
    else if (read_ahead)
        riskmon_reader_arm (self); //  the loop finds it waiting
    if (s_read_targets (self, b, arena)) {
        pmo_stream_batch_clear (&b->entries);
        return -1;
    }
    s_commit_all (self, b, arena);
    s_ack (self, b, arena);
    int n = (int)b->n;
    pmo_stream_batch_clear (&b->entries);
    return n;
}

int riskmon_reader_arm (riskmon_t *self)
{
    if (self->n_streams == 0)
        return -1;
    if (!self->reader_streams_ok) {
        pmo_stream_reader_set_streams (self->reader, (const char *const *)self->streams,
                                       self->n_streams);
        self->reader_streams_ok = true;
    }
    return pmo_stream_reader_arm (self->reader);
}

int riskmon_consume (riskmon_t *self)
{
    s_batch_t b = {0};
    int rc = pmo_stream_reader_take (self->reader, &b.entries);
    return rc == 1 ? s_handle_batch (self, &b, true) : rc;
}

void riskmon_reclaim (riskmon_t *self)
{
    if (self->n_streams == 0)
        return;
    size_t max = self->reclaim_passed < self->n_streams ? self->n_streams : RECLAIM_STREAMS;
    s_batch_t b = {0};
    if (riskmon_store_stream_reclaim (self->store, GROUP, self->config.consumer,
                                      (const char *const *)self->streams, self->n_streams,
                                      &self->reclaim_cursor, max, (size_t)self->config.batch,
                                      self->config.claim_idle_ms, &b.entries))
        return;
    self->reclaim_passed += max;
    s_handle_batch (self, &b, false);
}
