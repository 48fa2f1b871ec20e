/*  riskmon_health.c: a project's health record, its alerts, and the time
    rules and escalations.

    Every change to a project's health record goes through
    riskmon_project_update: apply what happened to the inputs, recompute
    the health under the thresholds in force, and write the record, the
    history entry, the health.changed event, the alerts it raises or
    resolves and the project's next due time in ONE commit. The reader's
    and the sweep's commits travel many to a script (riskmon_batch_t, here
    queued with riskmon_pipe_*), each still judged and applied whole on its
    own. The events a commit appends go out on PUB once it is done.
*/
#include "riskmon_internal.h"

#include "pmo_auth.h"
#include "pmo_log.h"
#include "pmo_reflect.h"

#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ESCALATE_CHUNK 200 //  alerts escalated per division and tick

#define APPLIED_TTL_S  (7 * 86400) //  an applied stream entry, against redelivery
#define SWEEP_CHUNK    2000        //  due projects taken at once by the sweep
#define SWEEP_WRITE    250         //  unchanged ones whose due times are written together
#define ALERT_ID_BLOCK 256         //  alert ids reserved per round trip (a burst raises many)

//  An alert as the batch in hand wrote it (in the work arena).
typedef struct {
    Pmo__Alert *alert;
    uint64_t version;
} s_alert_seen_t;

//  A block of reserved alert sequence numbers of one division.
typedef struct {
    uint64_t next, end; //  next to hand out; end is one past the last
} s_ids_t;

//  ---------------------------------------------------------------------
//  Shared state of a batch

int64_t riskmon_now (riskmon_t *self)
{
    return self->config.clock ? self->config.clock (self->config.clock_ctx) : pmo_now_ms ();
}

//  Where to read while building a batch: beside the commits in flight
//  (their answers are not read yet), on the main connection otherwise.
riskmon_store_t *riskmon_reader (riskmon_t *self)
{
    return self->in_batch ? self->side : self->store;
}

//  A batch begins or ends: what it wrote is no longer known for sure.
void riskmon_batch_mode (riskmon_t *self, bool on)
{
    self->in_batch = on;
    zhashx_purge (self->batch_alerts);
}

//  Remember an alert the batch in hand writes (its later commits build on
//  it: the commit that writes it may not have run yet). If that commit is
//  refused, the ones built on it are refused too (versions) and redone.
static void s_alert_seen (riskmon_t *self, pmo_arena_t *arena, Pmo__Alert *alert, uint64_t version)
{
    if (!self->in_batch)
        return;
    s_alert_seen_t *seen = pmo_arena_alloc (arena, sizeof (s_alert_seen_t));
    seen->alert = alert;
    seen->version = version;
    zhashx_update (self->batch_alerts, alert->id, seen);
}

char *riskmon_division_of (pmo_arena_t *arena, const char *project_id)
{
    char division[40];
    if (pmo_id_division (project_id, "pr", division, sizeof division))
        return NULL;
    return pmo_arena_strdup (arena, division);
}

//  ---------------------------------------------------------------------
//  Events out

Pmo__Event *riskmon_event_new (pmo_arena_t *arena, const char *type, const char *division,
                               const char *org_unit, const char *path, const char *entity_id,
                               uint64_t version, const char *actor, const char *via,
                               const char *request_id, const char *body_field,
                               ProtobufCMessage *body, int64_t now)
{
    Pmo__Event *event = pmo_arena_alloc (arena, sizeof (Pmo__Event));
    pmo__event__init (event);
    event->type = (char *)type;
    event->division = (char *)division;
    event->org_unit = (char *)(org_unit ? org_unit : "");
    event->org_unit_path = (char *)(path ? path : "");
    event->entity_id = (char *)entity_id;
    event->entity_version = version;
    event->time_ms = now;
    event->actor = (char *)(actor ? actor : "riskmon");
    if (!actor || streq (actor, "riskmon"))
        event->actor_via = (char *)pmo_auth_via (arena);
    else
        event->actor_via = (char *)(via ? via : "");
    event->request_id = (char *)(request_id ? request_id : "");
    event->source = "riskmon";
    pmo_reflect_set_oneof (&event->base, body_field, body);
    return event;
}

//  Remember an event a commit appends and its encoding, to publish it
//  once committed.
static void s_change_remember (pmo_arena_t *arena, riskmon_change_t *change, Pmo__Event *event,
                               const uint8_t *blob, size_t size)
{
    if (change->n == change->max) {
        size_t max = change->max ? change->max * 2 : 4;
        Pmo__Event **events = pmo_arena_alloc (arena, max * sizeof (void *));
        const uint8_t **blobs = pmo_arena_alloc (arena, max * sizeof (void *));
        size_t *sizes = pmo_arena_alloc (arena, max * sizeof (size_t));
        if (change->n) {
            memcpy (events, change->events, change->n * sizeof (void *));
            memcpy (blobs, change->blobs, change->n * sizeof (void *));
            memcpy (sizes, change->sizes, change->n * sizeof (size_t));
        }
        change->events = events;
        change->blobs = blobs;
        change->sizes = sizes;
        change->max = max;
    }
    change->events[change->n] = event;
    change->blobs[change->n] = blob;
    change->sizes[change->n++] = size;
}

void riskmon_change_add (pmo_arena_t *arena, pmo_commit_t *commit, riskmon_change_t *change,
                         const char *division, Pmo__Event *event)
{
    size_t size;
    const uint8_t *blob = riskmon_store_event (commit, arena, division, event, &size);
    s_change_remember (arena, change, event, blob, size);
}

//  The same for a risk monitor commit.
void riskmon_change_event (pmo_arena_t *arena, riskmon_commit_t *commit, riskmon_change_t *change,
                           const char *division, Pmo__Event *event)
{
    size_t size;
    const uint8_t *blob = riskmon_commit_event (commit, division, event, &size);
    s_change_remember (arena, change, event, blob, size);
}

//  Send a commit's events on PUB, ids filled in.
void riskmon_send_events (riskmon_t *self, pmo_arena_t *arena, const char *division,
                          riskmon_change_t *change, char **ids)
{
    for (size_t i = 0; i < change->n; i++) {
        Pmo__Event *event = change->events[i];
        event->id = ids[i];
        size_t size;
        uint8_t *blob = riskmon_store_event_with_id (arena, change->blobs[i], change->sizes[i],
                                                     event->id, &size);
        zmsg_t *msg = zmsg_new ();
        zmsg_addstrf (msg, "%s.%s", division, event->type);
        zmsg_addmem (msg, blob, size);
        zmsg_send (&msg, self->pub);
    }
}

//  Publish a commit's events with their stream ids (the last is known; the
//  others, if any, are read back: the commit appended them contiguously).
void riskmon_publish (riskmon_t *self, pmo_arena_t *arena, const char *division,
                      riskmon_change_t *change, const char *last_id)
{
    if (change->n == 0)
        return;
    char **ids = pmo_arena_alloc (arena, change->n * sizeof (char *));
    if (change->n == 1)
        ids[0] = (char *)last_id;
    else if (riskmon_store_stream_ids (self->store, arena, division, last_id, change->n, ids)) {
        for (size_t i = 0; i < change->n; i++)
            ids[i] = "";
        ids[change->n - 1] = (char *)last_id;
    }
    riskmon_send_events (self, arena, division, change, ids);
}

//  ---------------------------------------------------------------------
//  A project's health record

//  A record as read: its current assessment speaks of its inputs.
Pmo__ProjectHealth *riskmon_health_read (ProtobufCMessage *msg)
{
    Pmo__ProjectHealth *ph = (Pmo__ProjectHealth *)msg;
    if (ph && ph->current && ph->inputs)
        ph->current->inputs = ph->inputs;
    return ph;
}

//  A fresh record for a project nobody has told us about yet.
Pmo__ProjectHealth *riskmon_health_new (pmo_arena_t *arena, const char *project_id,
                                        const char *division)
{
    Pmo__ProjectHealth *ph = pmo_arena_alloc (arena, sizeof (Pmo__ProjectHealth));
    pmo__project_health__init (ph);
    Pmo__HealthInputs *in = pmo_arena_alloc (arena, sizeof (Pmo__HealthInputs));
    pmo__health_inputs__init (in);
    in->project_id = pmo_arena_strdup (arena, project_id);
    in->division = pmo_arena_strdup (arena, division);
    ph->inputs = in;
    return ph;
}

static Pmo__AlertSeverity s_want_severity (const riskmon_want_t *want)
{
    return want->severity;
}

//  Whether the copy of alert id's first version is still to be written: 1
//  yes, 0 no (an alert raised before the copy waited for the first change
//  has it), -1 Redis failed.
static int s_alert_first_missing (riskmon_t *self, pmo_arena_t *arena, const char *division,
                                  const char *id)
{
    ProtobufCMessage *copy;
    uint64_t copy_version;
    int rc = riskmon_store_get (riskmon_reader (self), arena,
                                riskmon_key_entry_version (arena, division, RISKMON_ALERT, id, 1),
                                &pmo__alert__descriptor, &copy, &copy_version);
    return rc < 0 ? -1 : rc == 0;
}

int riskmon_alert_first (riskmon_t *self, pmo_commit_t *commit, pmo_arena_t *arena,
                         const char *division, const Pmo__Alert *alert, uint64_t version)
{
    if (version != 1)
        return 0;
    int missing = s_alert_first_missing (self, arena, division, alert->id);
    if (missing == 1)
        riskmon_store_put (commit, arena,
                           riskmon_key_entry_version (arena, division, RISKMON_ALERT, alert->id, 1),
                           &alert->base, 0, 1);
    return missing < 0 ? -1 : 0;
}

//  Raise a new alert for a project (ids cost a round trip).
static int s_alert_raise (riskmon_t *self, pmo_arena_t *arena, riskmon_commit_t *commit,
                          riskmon_change_t *change, Pmo__ProjectHealth *ph,
                          const riskmon_want_t *want, const Pmo__Thresholds *t,
                          const char *division, int64_t now, const char *actor, const char *via,
                          const char *request_id)
{
    Pmo__HealthInputs *in = ph->inputs;
    s_ids_t *ids = zhashx_lookup (self->alert_ids, division);
    if (!ids) {
        ids = calloc (1, sizeof (s_ids_t));
        assert (ids);
        zhashx_insert (self->alert_ids, division, ids);
    }
    if (ids->next == ids->end) {
        if (riskmon_store_reserve_ids (riskmon_reader (self), RISKMON_ALERT, division,
                                       ALERT_ID_BLOCK, &ids->next))
            return -1;
        ids->end = ids->next + ALERT_ID_BLOCK;
    }
    char *id = pmo_arena_printf (arena, "%s_%s_%llu", RISKMON_ALERT, division,
                                 (unsigned long long)ids->next++);
    Pmo__Alert *alert = pmo_arena_alloc (arena, sizeof (Pmo__Alert));
    pmo__alert__init (alert);
    alert->id = id;
    alert->project_id = in->project_id;
    alert->org_unit = in->org_unit;
    alert->org_unit_path = in->org_unit_path;
    alert->division = (char *)division;
    alert->kind = want->kind;
    alert->subject_id = (char *)want->subject_id;
    alert->severity = s_want_severity (want);
    alert->title = (char *)want->title;
    alert->detail = (char *)want->detail;
    alert->state = PMO__ALERT_STATE__ALERT_STATE_OPEN;
    alert->level = PMO__ESCALATION_LEVEL__ESCALATION_LEVEL_OWNER;
    alert->assignee = pmo_str_empty (want->assignee)
                          ? pmo_arena_printf (arena, "project manager of %s", in->project_id)
                          : (char *)want->assignee;
    Pmo__EscalationStep *step = pmo_arena_alloc (arena, sizeof (Pmo__EscalationStep));
    pmo__escalation_step__init (step);
    step->level = alert->level;
    step->to = alert->assignee;
    step->at_ms = now;
    alert->escalations = pmo_arena_alloc (arena, sizeof (void *));
    alert->escalations[0] = step;
    alert->n_escalations = 1;
    alert->raised_ms = alert->last_raised_ms = alert->updated_ms = now;
    alert->occurrences = 1;
    alert->version = 1;
    alert->next_escalation_ms =
        now + (int64_t)riskmon_escalation_deadline_s (alert->level, t) * 1000;
    //  A freshly reserved id: nobody else can have written it. Its first
    //  version is the alert itself until it changes (riskmon_alert_first):
    //  most alerts of a sweep are raised and never touched again
    riskmon_commit_create (commit, riskmon_key_entry (arena, division, RISKMON_ALERT, id),
                           &alert->base, 1);
    double seq = riskmon_store_id_seq (id);
    riskmon_commit_zadd (commit, riskmon_key_index (arena, division, RISKMON_ALERT, NULL), seq, id);
    riskmon_commit_zadd (commit, riskmon_key_index (arena, division, RISKMON_ALERT, in->project_id),
                         seq, id);
    riskmon_commit_zadd (commit, riskmon_key_escalations (arena, division),
                         (double)alert->next_escalation_ms, id);
    riskmon_change_event (arena, commit, change, division,
                          riskmon_event_new (arena, "alert.raised", division, in->org_unit,
                                             in->org_unit_path, id, 1, actor, via, request_id,
                                             "alert", &alert->base, now));
    //  The record's reference to it
    Pmo__AlertRef **refs = pmo_arena_alloc (arena, (ph->n_alerts + 1) * sizeof (void *));
    if (ph->n_alerts)
        memcpy (refs, ph->alerts, ph->n_alerts * sizeof (void *));
    Pmo__AlertRef *ref = pmo_arena_alloc (arena, sizeof (Pmo__AlertRef));
    pmo__alert_ref__init (ref);
    ref->kind = want->kind;
    ref->subject_id = (char *)want->subject_id;
    ref->alert_id = id;
    ref->severity = alert->severity;
    refs[ph->n_alerts++] = ref;
    ph->alerts = refs;
    self->alerts_raised++;
    s_alert_seen (self, arena, alert, 1);
    return 0;
}

//  Change a standing alert (worse severity, or resolved by the risk
//  monitor). 0, or -1 if Redis failed.
static int s_alert_touch (riskmon_t *self, pmo_arena_t *arena, riskmon_commit_t *commit,
                          riskmon_change_t *change, const char *division, const char *alert_id,
                          const riskmon_want_t *want, const char *resolution, int64_t now,
                          const char *actor, const char *via, const char *request_id)
{
    ProtobufCMessage *msg;
    uint64_t version;
    int rc;
    s_alert_seen_t *seen = self->in_batch ? zhashx_lookup (self->batch_alerts, alert_id) : NULL;
    if (seen) {
        //  A copy: the events of the commit that wrote it still refer to it
        size_t size;
        uint8_t *blob = pmo_reflect_pack (&seen->alert->base, arena, &size);
        msg = protobuf_c_message_unpack (&pmo__alert__descriptor, pmo_arena_allocator (arena), size,
                                         blob);
        version = seen->version;
        rc = msg ? 1 : -1;
    } else
        rc = riskmon_store_get (riskmon_reader (self), arena,
                                riskmon_key_entry (arena, division, RISKMON_ALERT, alert_id),
                                &pmo__alert__descriptor, &msg, &version);
    if (rc < 0)
        return -1;
    Pmo__Alert *alert = (Pmo__Alert *)msg;
    if (rc == 0 || alert->state == PMO__ALERT_STATE__ALERT_STATE_RESOLVED)
        return 0;
    //  Its first change: the copy of its first version, unless it has one
    //  (raised before that waited for it). A commit of a request writes it
    //  only if absent, so it is looked for; one raised in this batch has none
    if (version == 1) {
        int missing = seen ? 1 : s_alert_first_missing (self, arena, division, alert_id);
        if (missing < 0)
            return -1;
        if (missing)
            riskmon_commit_create (
                commit, riskmon_key_entry_version (arena, division, RISKMON_ALERT, alert_id, 1),
                &alert->base, 1);
    }
    const char *type;
    if (want) {
        alert->severity = s_want_severity (want);
        alert->title = (char *)want->title;
        alert->detail = (char *)want->detail;
        alert->occurrences++;
        alert->last_raised_ms = now;
        type = "alert.updated";
    } else {
        alert->state = PMO__ALERT_STATE__ALERT_STATE_RESOLVED;
        alert->resolved_ms = now;
        alert->resolved_by = "riskmon";
        alert->resolution = (char *)resolution;
        alert->next_escalation_ms = 0;
        riskmon_commit_zrem (commit, riskmon_key_escalations (arena, division), alert_id);
        type = "alert.resolved";
    }
    alert->updated_ms = now;
    alert->version = version + 1;
    riskmon_commit_put (commit, riskmon_key_entry (arena, division, RISKMON_ALERT, alert_id),
                        &alert->base, version, version + 1);
    //  Numbered from the version just checked
    riskmon_commit_create (
        commit, riskmon_key_entry_version (arena, division, RISKMON_ALERT, alert_id, version + 1),
        &alert->base, 1);
    riskmon_change_event (arena, commit, change, division,
                          riskmon_event_new (arena, type, division, alert->org_unit,
                                             alert->org_unit_path, alert_id, alert->version, actor,
                                             via, request_id, "alert", &alert->base, now));
    s_alert_seen (self, arena, alert, version + 1);
    return 0;
}

//  The sweep's cheap look, on a copy of the alert state: would
//  re-assessing change nothing but the due time? If so *due is it.
static bool s_quiet (Pmo__ProjectHealth *ph, Pmo__HealthAssessment *a, const Pmo__Thresholds *t,
                     int64_t now, pmo_arena_t *arena, int64_t *due)
{
    riskmon_want_t *wants;
    size_t n_wants = riskmon_alerts_wanted (a, t, arena, &wants);
    Pmo__AlertRef **copies = pmo_arena_alloc (arena, (ph->n_alerts + 1) * sizeof (void *));
    for (size_t i = 0; i < ph->n_alerts; i++) {
        copies[i] = pmo_arena_memdup (arena, ph->alerts[i], sizeof (Pmo__AlertRef));
    }
    riskmon_alert_action_t *actions;
    int64_t cooldown_due;
    bool live = riskmon_project_live (ph->inputs);
    size_t n_actions = riskmon_alerts_reconcile (copies, ph->n_alerts, wants, n_wants, now,
                                                 live ? (int64_t)t->alert_cooldown_s * 1000 : 0,
                                                 arena, &actions, &cooldown_due);
    bool quiet = n_actions == 0;
    for (size_t i = 0; i < ph->n_alerts && quiet; i++)
        quiet = copies[i]->cleared_since_ms == ph->alerts[i]->cleared_since_ms;
    if (quiet) {
        int64_t next = a->next_due_ms;
        if (cooldown_due && (!next || cooldown_due < next))
            next = cooldown_due;
        *due = next;
    }
    return quiet;
}

//  Where a project's alert changes go (the context of s_alerts_follow).
typedef struct {
    riskmon_commit_t *commit;
    riskmon_change_t *change;
    const char *division;
    int64_t now;
    const char *actor;
    const char *via;
    const char *request_id;
} s_alert_ctx_t;

//  Alerts follow the health (ph->current), with hysteresis: raise, worsen
//  or resolve them into the commit and keep the record's references in
//  step. *refs_changed says whether the references changed; *cooldown_due
//  is when a cool-down ends (0 = none). 0, or -1 if Redis failed.
static int s_alerts_follow (riskmon_t *self, pmo_arena_t *arena, const s_alert_ctx_t *c,
                            Pmo__ProjectHealth *ph, const Pmo__Thresholds *t, bool *refs_changed,
                            int64_t *cooldown_due)
{
    Pmo__HealthAssessment *a = ph->current;
    int64_t *cleared = pmo_arena_alloc (arena, (ph->n_alerts + 1) * sizeof (int64_t));
    for (size_t i = 0; i < ph->n_alerts; i++)
        cleared[i] = ph->alerts[i]->cleared_since_ms;
    riskmon_want_t *wants;
    size_t n_wants = riskmon_alerts_wanted (a, t, arena, &wants);
    bool live = riskmon_project_live (ph->inputs);
    //  A project out of delivery keeps no alerts: no cool-down to wait for
    int64_t cooldown = live ? (int64_t)t->alert_cooldown_s * 1000 : 0;
    riskmon_alert_action_t *actions;
    size_t n_refs = ph->n_alerts;
    size_t n_actions = riskmon_alerts_reconcile (ph->alerts, n_refs, wants, n_wants, c->now,
                                                 cooldown, arena, &actions, cooldown_due);
    *refs_changed = n_actions > 0;
    for (size_t i = 0; i < n_refs; i++)
        *refs_changed = *refs_changed || cleared[i] != ph->alerts[i]->cleared_since_ms;
    bool *drop = pmo_arena_alloc (arena, (n_refs + 1) * sizeof (bool));
    for (size_t i = 0; i < n_actions; i++) {
        riskmon_alert_action_t *action = &actions[i];
        if (action->op == RISKMON_ALERT_RAISE) {
            if (s_alert_raise (self, arena, c->commit, c->change, ph, &wants[action->want], t,
                               c->division, c->now, c->actor, c->via, c->request_id))
                return -1;
        } else if (action->op == RISKMON_ALERT_RAISE_SEVERITY) {
            if (s_alert_touch (self, arena, c->commit, c->change, c->division,
                               ph->alerts[action->ref]->alert_id, &wants[action->want], NULL,
                               c->now, c->actor, c->via, c->request_id))
                return -1;
        } else {
            Pmo__AlertRef *ref = ph->alerts[action->ref];
            drop[action->ref] = true;
            if (!ref->suppressed &&
                s_alert_touch (self, arena, c->commit, c->change, c->division, ref->alert_id, NULL,
                               live ? "the condition stayed clear for the cool-down"
                                    : "the project is no longer in delivery",
                               c->now, c->actor, c->via, c->request_id))
                return -1;
        }
    }
    size_t kept = 0;
    for (size_t i = 0; i < ph->n_alerts; i++)
        if (i >= n_refs || !drop[i])
            ph->alerts[kept++] = ph->alerts[i];
    ph->n_alerts = kept;
    return 0;
}

//  Recompute a project's health and add everything that follows to
//  commit: the record (expecting `version`), a history entry and
//  health.changed if it changed, the alerts raised, worsened or resolved,
//  and the next due time. *dirty says whether anything but the due time
//  changed; *due is that time (0 = none). 0, or -1 if Redis failed.
int riskmon_project_update (riskmon_t *self, pmo_arena_t *arena, riskmon_commit_t *commit,
                            Pmo__ProjectHealth *ph, uint64_t version, const char *trigger,
                            const char *actor, const char *via, const char *request_id,
                            riskmon_change_t *change, bool *dirty, int64_t *due, bool skip_clean)
{
    Pmo__HealthInputs *in = ph->inputs;
    const char *division = riskmon_division_of (arena, in->project_id);
    assert (division);
    int64_t now = riskmon_now (self);
    Pmo__Thresholds t;
    char *from = "";
    riskmon_effective (self, arena, in->org_unit_path, -1, &t, &from);
    if (in->known)
        in->reporting_period_days = riskmon_reporting_days (self, arena, in->org_unit_path);
    Pmo__HealthAssessment *a = pmo_arena_alloc (arena, sizeof (Pmo__HealthAssessment));
    riskmon_assess (in, &t, now, arena, a);
    a->thresholds_from = from;
    Pmo__HealthAssessment *prev = ph->current;
    bool changed =
        prev ? riskmon_health_differs (prev, a) : a->overall != PMO__RAG__RAG_UNSPECIFIED;
    //  The sweep: most due projects have not changed; find out cheaply
    //  before building anything
    if (skip_clean && !changed && s_quiet (ph, a, &t, now, arena, due)) {
        *dirty = false;
        return 0;
    }
    if (changed) {
        a->seq = ++ph->history;
        a->previous = prev ? prev->overall : PMO__RAG__RAG_UNSPECIFIED;
        a->trigger = (char *)trigger;
        //  Numbered from the record, whose version the commit checks
        riskmon_commit_create (
            commit, riskmon_key_history (arena, division, in->project_id, a->seq), &a->base, 1);
        riskmon_change_event (arena, commit, change, division,
                              riskmon_event_new (arena, "health.changed", division, in->org_unit,
                                                 in->org_unit_path, in->project_id, a->seq, actor,
                                                 via, request_id, "health", &a->base, now));
        change->health_changed = true;
        self->health_changes++;
    } else if (prev) {
        a->seq = prev->seq;
        a->previous = prev->previous;
        a->trigger = prev->trigger;
    }
    ph->current = a;

    s_alert_ctx_t ctx = {commit, change, division, now, actor, via, request_id};
    bool refs_changed;
    int64_t cooldown_due;
    if (s_alerts_follow (self, arena, &ctx, ph, &t, &refs_changed, &cooldown_due))
        return -1;

    int64_t next = a->next_due_ms;
    if (cooldown_due && (!next || cooldown_due < next))
        next = cooldown_due;
    a->next_due_ms = next;
    *due = next;
    char *due_key = riskmon_key_due (arena, division);
    if (next)
        riskmon_commit_zadd (commit, due_key, (double)next, in->project_id);
    else
        riskmon_commit_zrem (commit, due_key, in->project_id);
    if (version == 0) //  a new record: the division's list of projects gets it
        riskmon_commit_zadd (commit, riskmon_key_projects (arena, division),
                             riskmon_store_id_seq (in->project_id), in->project_id);
    ph->version = version + 1;
    //  The record holds the inputs once: its current assessment is stored
    //  without its own copy of them (history entries and events keep theirs)
    a->inputs = NULL;
    riskmon_commit_put (commit, riskmon_key_project (arena, division, in->project_id), &ph->base,
                        version, version + 1);
    a->inputs = in;
    *dirty = changed || refs_changed;
    return 0;
}

//  ---------------------------------------------------------------------
//  Commits queued in batch scripts

//  Send what is queued and collect every answer so far.
void riskmon_pipe_flush (riskmon_pipe_t *p)
{
    if (p->n_received == p->n_sent)
        return;
    riskmon_batch_send (p->batch);
    riskmon_batch_recv (p->batch);
    while (p->n_received < p->n_sent) {
        riskmon_work_t *w = &p->work[p->order[p->n_received++]];
        const riskmon_batch_result_t *result = riskmon_batch_result (p->batch, w->ticket);
        if (result->status == PMO_COMMIT_OK) {
            w->ok = w->publish = true;
            w->ids = result->ids;
            w->n_ids = result->n_ids;
            p->self->applied++;
        } else {
            //  Already applied (a redelivery), a conflict, or Redis failed:
            //  this project's later commits in the batch were built on a
            //  state that is not the stored one, so they are redone alone
            if (p->targets)
                p->targets[w->target].broken = true;
            if (result->status == PMO_COMMIT_DUPLICATE) {
                w->ok = true;
                p->self->duplicate++;
            }
        }
    }
}

//  Queue a work item's commit.
void riskmon_pipe_add (riskmon_pipe_t *p, size_t k, const char *division, riskmon_commit_t *commit,
                       const char *applied_id)
{
    riskmon_work_t *w = &p->work[k];
    w->ticket = riskmon_batch_add (p->batch, division, commit, applied_id, APPLIED_TTL_S);
    w->sent = true;
    p->order[p->n_sent++] = k;
}

//  Publish the events of every work item committed.
void riskmon_pipe_publish (riskmon_t *self, pmo_arena_t *arena, riskmon_work_t *work, size_t n,
                           riskmon_target_t *targets, const char *division)
{
    for (size_t k = 0; k < n; k++) {
        riskmon_work_t *w = &work[k];
        if (!w->publish || w->change.n == 0)
            continue;
        char **ids = pmo_arena_alloc (arena, w->change.n * sizeof (char *));
        for (size_t e = 0; e < w->change.n; e++)
            ids[e] = e < w->n_ids ? w->ids[e] : "";
        riskmon_send_events (self, arena, targets ? targets[w->target].division : division,
                             &w->change, ids);
    }
}

//  ---------------------------------------------------------------------
//  Time rules and escalations

//  One chunk of the sweep: re-assess division's projects ids[0..n) (their
//  records asked for at once on the connection kept for it, self->ahead,
//  and taken one at a time: Redis reads the next while this one is
//  assessed). Changed records are committed in batch scripts; an unchanged
//  one only gets its next due time (one ZADD and one ZREM per SWEEP_WRITE
//  of them, sent on self->ahead behind the reads while the chunk goes on),
//  and not even that when held (the due time each has as stored, 0 =
//  none; NULL = not known) says it has it already. With prefetch, the next
//  chunk of due projects is queued behind the writes before their answers
//  are read (*prefetched says whether it was). 0, or -1 if Redis failed.
static int s_chunk (riskmon_t *self, pmo_arena_t *arena, const char *division, char **ids, size_t n,
                    const int64_t *held, bool prefetch, int64_t started, int budget_ms,
                    bool *prefetched)
{
    *prefetched = false;
    char **keys = pmo_arena_alloc (arena, n * sizeof (char *));
    for (size_t i = 0; i < n; i++)
        keys[i] = riskmon_key_project (arena, division, ids[i]);
    //  Every record of the chunk is asked for now, on a connection of its
    //  own: the commits sent while they are taken are of this chunk's
    //  projects (each once in it, and its record read before its commit is
    //  built), and the last chunk's were answered before this one began
    if (riskmon_store_ahead (self->ahead, keys, n)) {
        riskmon_store_ahead_drop (self->ahead);
        return -1;
    }
    riskmon_work_t *work = pmo_arena_alloc (arena, n * sizeof (riskmon_work_t));
    memset (work, 0, n * sizeof (riskmon_work_t));
    riskmon_batch_t *batch = riskmon_batch_new (self->store, arena, BATCH_CHUNK);
    //  One project once per chunk, no markers: transactions, not scripts
    riskmon_batch_transactions (batch);
    riskmon_pipe_t pipe = {self, batch, work, NULL, pmo_arena_alloc (arena, n * sizeof (size_t)),
                           0,    0};
    riskmon_batch_mode (self, true);
    bool failed = false;
    char **plain = pmo_arena_alloc (arena, n * sizeof (char *));
    int64_t *plain_due = pmo_arena_alloc (arena, n * sizeof (int64_t));
    size_t n_plain = 0, plain_sent = 0;
    int ahead_writes = 0; //  schedule writes queued behind the reads
    for (size_t i = 0; i < n; i++) {
        //  Most projects turn out unchanged: what was built to find out is
        //  forgotten, so the chunk works in the same few blocks of memory
        //  instead of touching fresh pages for 2,000 records (page faults
        //  and zeroing were a third of the sweep's CPU)
        pmo_arena_mark_t mark = pmo_arena_mark (arena);
        ProtobufCMessage *msg;
        uint64_t version;
        if (riskmon_store_ahead_take (self->ahead, arena, &pmo__project_health__descriptor, &msg,
                                      &version) < 0) {
            failed = true;
            break;
        }
        riskmon_work_t *w = &work[i];
        int64_t due = 0;
        bool dirty = false;
        riskmon_commit_t *commit = riskmon_commit_new (arena);
        if (msg &&
            riskmon_project_update (self, arena, commit, riskmon_health_read (msg), version, "time",
                                    "riskmon", NULL, "", &w->change, &dirty, &due, true)) {
            failed = true;
            break;
        }
        if (dirty)
            riskmon_pipe_add (&pipe, i, division, commit, NULL);
        else {
            pmo_arena_rewind (arena, mark);
            if (!held || held[i] != due) {
                w->plain = true;
                plain[n_plain] = ids[i];
                plain_due[n_plain++] = due;
            }
        }
        if (n_plain - plain_sent == SWEEP_WRITE) {
            //  Their next due times written now, behind the reads, so
            //  Redis moves them while the rest are assessed (these are
            //  projects no commit of the chunk touches)
            int queued =
                riskmon_store_pipe_due_many (self->ahead, arena, division, plain + plain_sent,
                                             plain_due + plain_sent, SWEEP_WRITE);
            if (queued < 0 || riskmon_store_push (self->ahead)) {
                failed = true;
                break;
            }
            ahead_writes += queued;
            plain_sent = n_plain;
        }
    }
    if (!failed && n_plain > plain_sent) {
        int queued = riskmon_store_pipe_due_many (self->ahead, arena, division, plain + plain_sent,
                                                  plain_due + plain_sent, n_plain - plain_sent);
        if (queued < 0 || riskmon_store_push (self->ahead))
            failed = true;
        if (queued > 0)
            ahead_writes += queued;
    }
    riskmon_batch_send (batch);
    //  The reads a failure left owed, then the answers of the schedule
    //  writes (in the order queued: every read came first)
    riskmon_store_ahead_drop (self->ahead);
    if (ahead_writes > 0 && riskmon_store_pipe_done (self->ahead, (size_t)ahead_writes))
        failed = true;
    //  Behind the last scripts, without waiting for them: the next
    //  chunk's read (the schedule writes are done: it sees them, and the
    //  scripts before it on the same connection), so Redis works on it
    //  while the answers are read and the events published
    if (prefetch && !failed && pmo_mono_ms () - started < budget_ms)
        *prefetched = riskmon_store_pipe_zrange (self->store, riskmon_key_due (arena, division),
                                                 (double)riskmon_now (self), SWEEP_CHUNK) == 0;
    riskmon_pipe_flush (&pipe);
    riskmon_batch_mode (self, false);
    riskmon_batch_destroy (&batch);
    riskmon_pipe_publish (self, arena, work, n, NULL, division);
    if (!failed)
        self->swept += n;
    return failed ? -1 : 0;
}

//  A re-check of every project of division (riskmon_recheck's marker,
//  "*<token>:<seq>": the projects whose id sequence is above seq are still
//  to be looked at), walking the projects set chunk by chunk while the
//  budget lasts. A project whose health and due time did not move writes
//  nothing. *total counts the projects looked at. 0 done (the marker is
//  gone), 1 the budget ran out (the marker moved on), -1 Redis failed.
static int s_recheck (riskmon_t *self, const char *division, const char *marker, int64_t started,
                      int budget_ms, size_t *total)
{
    char mark[96], next[96];
    snprintf (mark, sizeof mark, "%s", marker);
    const char *colon = strrchr (mark, ':');
    double after = colon ? strtod (colon + 1, NULL) : 0;
    int token = colon ? (int)(colon - mark) : (int)strlen (mark);
    while (true) {
        pmo_arena_t *arena = self->work;
        pmo_arena_reset (arena);
        char **ids;
        double *seqs;
        size_t n;
        if (riskmon_store_zrange (self->store, arena, riskmon_key_projects (arena, division),
                                  &after, INFINITY, SWEEP_CHUNK, &ids, &seqs, &n))
            return -1;
        int64_t *held = pmo_arena_alloc (arena, (n + 1) * sizeof (int64_t));
        bool prefetched;
        if (n &&
            (riskmon_store_zmscore (self->store, arena, riskmon_key_due (arena, division), ids, n,
                                    held) ||
             s_chunk (self, arena, division, ids, n, held, false, started, budget_ms, &prefetched)))
            return -1;
        *total += n;
        bool done = n < SWEEP_CHUNK;
        if (!done) {
            after = seqs[n - 1];
            snprintf (next, sizeof next, "%.*s:%.0f", token, mark, after);
        }
        if (riskmon_store_recheck_move (self->store, arena, division, mark, done ? NULL : next))
            return -1;
        if (done)
            return 0;
        memcpy (mark, next, sizeof mark);
        if (pmo_mono_ms () - started >= budget_ms)
            return 1;
    }
}

void riskmon_recheck (riskmon_t *self, pmo_arena_t *arena, const char *division)
{
    if (riskmon_store_recheck_mark (self->store, arena, division, riskmon_now (self)))
        pmo_warn ("riskmon: could not mark division=%s for a re-check", division);
    riskmon_schedule_touch (self, division);
}

//  Re-assess the projects whose time rules are due, in chunks, until none
//  is due or the budget is spent; a division marked for a re-check has
//  every project looked at first. Returns the projects looked at.
size_t riskmon_sweep (riskmon_t *self, int budget_ms)
{
    int64_t started = pmo_mono_ms ();
    int64_t now = riskmon_now (self); //  once: a tick looks at every division
    size_t total = 0;
    self->sweeps++;
    for (size_t s = 0; s < self->n_streams; s++) {
        const char *division = self->divisions[s];
        if (self->sweep_at[s] > now)
            continue; //  nothing of this division is due yet
        if (self->sweep_at[s] == 0) {
            //  Unknown (re-read in turn, or committed to): its first due
            //  time alone says whether there is anything to do (one
            //  command; at rest there never is)
            int64_t first;
            if (riskmon_store_zfirst (self->store, riskmon_key_due (self->work, division),
                                      &first) == 0) {
                self->sweep_at[s] = first; //  0 with a re-check marker
                if (first > now)
                    continue;
            }
        }
        bool more = true, drained = false;
        bool prefetched = false; //  the next chunk's ZRANGEBYSCORE is in flight
        while (more && pmo_mono_ms () - started < budget_ms) {
            pmo_arena_t *arena = self->work;
            pmo_arena_reset (arena);
            char **ids;
            size_t n;
            //  The chunk read ahead, or read now (behind nothing)
            int rc =
                prefetched
                    ? 0
                    : riskmon_store_pipe_zrange (self->store, riskmon_key_due (arena, division),
                                                 (double)riskmon_now (self), SWEEP_CHUNK);
            if (rc == 0)
                rc = riskmon_store_zrange_take (self->store, arena, &ids, &n);
            prefetched = false;
            if (rc)
                break;
            if (n == 0) {
                drained = true;
                break;
            }
            if (ids[0][0] == '*') {
                //  A re-check marker (score 0: first): walk it, then read
                //  what is due again (the walk moved due times)
                rc = s_recheck (self, division, ids[0], started, budget_ms, &total);
                if (rc)
                    break;
                continue;
            }
            //  Markers come first: a chunk that starts with a project has none
            rc = s_chunk (self, arena, division, ids, n, NULL, n == SWEEP_CHUNK, started, budget_ms,
                          &prefetched);
            if (rc)
                break;
            total += n;
            more = n == SWEEP_CHUNK;
            drained = !more;
        }
        if (prefetched) {
            //  The budget ran out: the chunk read ahead is not wanted now
            char **ids;
            size_t n;
            riskmon_store_zrange_take (self->store, self->work, &ids, &n);
        }
        //  Done with what was due: when is the next? (Unknown while the
        //  budget ran out or Redis failed: looked at again next tick.)
        int64_t next = 0;
        if (drained &&
            riskmon_store_zfirst (self->store, riskmon_key_due (self->work, division), &next) == 0)
            self->sweep_at[s] = next;
        else
            self->sweep_at[s] = 0;
    }
    return total;
}

int64_t riskmon_schedule_next (riskmon_t *self)
{
    int64_t next = INT64_MAX;
    for (size_t s = 0; s < self->n_streams; s++) {
        if (self->sweep_at[s] < next)
            next = self->sweep_at[s];
        if (self->escalate_at[s] < next)
            next = self->escalate_at[s];
    }
    return next;
}

void riskmon_schedule_touch (riskmon_t *self, const char *division)
{
    for (size_t s = 0; s < self->n_streams; s++)
        if (streq (self->divisions[s], division)) {
            self->sweep_at[s] = 0;
            self->escalate_at[s] = 0;
            return;
        }
}

//  Alerts nobody acknowledged in time climb one step.
void riskmon_escalate (riskmon_t *self)
{
    int64_t tick = riskmon_now (self); //  once: a tick looks at every division
    for (size_t s = 0; s < self->n_streams; s++) {
        const char *division = self->divisions[s];
        if (self->escalate_at[s] > tick)
            continue; //  nothing of this division is due yet
        pmo_arena_t *arena = self->work;
        pmo_arena_reset (arena);
        int64_t now = riskmon_now (self);
        if (self->escalate_at[s] == 0) {
            //  Unknown: the first deadline alone says whether any is due
            int64_t first;
            if (riskmon_store_zfirst (self->store, riskmon_key_escalations (arena, division),
                                      &first) == 0) {
                self->escalate_at[s] = first;
                if (first > now)
                    continue;
            }
        }
        char **ids;
        double *scores;
        size_t n;
        if (riskmon_store_zrange (self->store, arena, riskmon_key_escalations (arena, division),
                                  NULL, (double)now, ESCALATE_CHUNK, &ids, &scores, &n))
            return;
        //  Learn the next time once what is due now is done (this pass
        //  moves each alert it escalates to its next deadline)
        self->escalate_at[s] = 0;
        int64_t next = 0;
        if (n < ESCALATE_CHUNK &&
            riskmon_store_zfirst (self->store, riskmon_key_escalations (arena, division), &next) ==
                0 &&
            next > now)
            self->escalate_at[s] = next;
        for (size_t i = 0; i < n; i++) {
            ProtobufCMessage *msg;
            uint64_t version;
            char *key = riskmon_key_entry (arena, division, RISKMON_ALERT, ids[i]);
            int rc = riskmon_store_get (self->store, arena, key, &pmo__alert__descriptor, &msg,
                                        &version);
            if (rc < 0)
                return;
            pmo_commit_t *commit = riskmon_store_commit (division, "rm.escalate");
            Pmo__Alert *alert = (Pmo__Alert *)msg;
            riskmon_change_t change = {0};
            if (rc == 0 || alert->state != PMO__ALERT_STATE__ALERT_STATE_OPEN ||
                alert->level == PMO__ESCALATION_LEVEL__ESCALATION_LEVEL_HUB_PMO)
                pmo_commit_zrem (commit, riskmon_key_escalations (arena, division), ids[i]);
            else {
                if (riskmon_alert_first (self, commit, arena, division, alert, version)) {
                    pmo_commit_destroy (&commit);
                    return;
                }
                const char *hub = riskmon_store_hub (self->store);
                bool in_hub = streq (alert->division, hub);
                alert->level = riskmon_escalation_next (alert->level, in_hub);
                alert->assignee = alert->level == PMO__ESCALATION_LEVEL__ESCALATION_LEVEL_HUB_PMO
                                      ? (char *)hub
                                      : alert->division;
                Pmo__Thresholds t;
                riskmon_effective (self, arena, alert->org_unit_path, -1, &t, NULL);
                uint32_t wait = riskmon_escalation_deadline_s (alert->level, &t);
                alert->next_escalation_ms = wait ? now + (int64_t)wait * 1000 : 0;
                Pmo__EscalationStep *step = pmo_arena_alloc (arena, sizeof (Pmo__EscalationStep));
                pmo__escalation_step__init (step);
                step->level = alert->level;
                step->to = alert->assignee;
                step->at_ms = now;
                Pmo__EscalationStep **steps =
                    pmo_arena_alloc (arena, (alert->n_escalations + 1) * sizeof (void *));
                if (alert->n_escalations)
                    memcpy (steps, alert->escalations, alert->n_escalations * sizeof (void *));
                steps[alert->n_escalations++] = step;
                alert->escalations = steps;
                alert->version = version + 1;
                alert->updated_ms = now;
                riskmon_store_put (commit, arena, key, &alert->base, version, version + 1);
                riskmon_store_put (
                    commit, arena,
                    riskmon_key_entry_version (arena, division, RISKMON_ALERT, ids[i], version + 1),
                    &alert->base, 0, 1);
                if (alert->next_escalation_ms)
                    pmo_commit_zadd (commit, riskmon_key_escalations (arena, division),
                                     (double)alert->next_escalation_ms, ids[i]);
                else
                    pmo_commit_zrem (commit, riskmon_key_escalations (arena, division), ids[i]);
                riskmon_change_add (arena, commit, &change, division,
                                    riskmon_event_new (arena, "alert.escalated", division,
                                                       alert->org_unit, alert->org_unit_path,
                                                       alert->id, alert->version, "riskmon", NULL,
                                                       "", "alert", &alert->base, now));
            }
            pmo_commit_result_t result;
            riskmon_store_exec (self->store, commit, &result);
            pmo_commit_destroy (&commit);
            if (result.status == PMO_COMMIT_OK && change.n) {
                self->escalations++;
                pmo_info ("riskmon: escalated alert=%s level=%d to=%s", ids[i],
                          ((Pmo__Alert *)msg)->level, ((Pmo__Alert *)msg)->assignee);
                riskmon_publish (self, arena, division, &change, result.stream_id);
            }
            pmo_commit_result_clear (&result);
        }
    }
}
