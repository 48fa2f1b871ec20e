/*  riskmon_server.c: the risk monitor actor: the stream reader, the time
    rules, the escalations and the request handlers.

    Every change to a project's health record goes through s_project_update:
    apply what happened to the inputs, recompute the health under the
    thresholds in force, and write the record, the history entry, the
    health.changed event, the alerts it raises or resolves and the
    project's next due time in ONE commit. A stream entry's effect carries
    the applied marker "rm.<division>.<entry>.<project>", so an entry
    delivered twice (a crash between the commit and XACK, or a dead
    consumer's entries taken over) changes nothing the second time. The
    reader's and the sweep's commits travel many to a script
    (riskmon_batch_t), each still judged and applied whole on its own.

    Request handlers follow the registry's order: check the caller may act
    here, answer a retried request id with the stored reply, validate,
    build the new state and commit it with its events and the reply.
*/
#include "riskmon_server.h"
#include "riskmon_model.h"
#include "riskmon_store.h"

#include "pmo_client.h"
#include "pmo_log.h"
#include "pmo_ping.h"
#include "pmo_reflect.h"
#include "pmo_server.h"
#include "pmo_stream.h"
#include "registry.pb-c.h"
#include "orgtree.h"

#include <assert.h>
#include <math.h>
#include <string.h>
#include <strings.h>

#define IDEM_TTL_S        86400       //  a done request's reply, for retries
#define APPLIED_TTL_S     (7 * 86400) //  an applied stream entry, against redelivery
#define LIST_DEFAULT      50
#define LIST_MAX          500
#define LIST_SCAN_MAX     5000 //  entries examined for one page at most
#define HISTORY_DEFAULT   100
#define STORE_NAME        "the risk monitor's store (Redis)" //  what is unavailable
#define UNITS_REFRESH_MS  30000 //  org units are re-read from the registry this often
#define UNITS_RETRY_MS    1000  //  ... or this soon after the registry did not answer
#define UNITS_TIMEOUT_MS  1000  //  one request to the registry for org units
#define THRESHOLDS_TTL_MS 2000  //  other replicas' threshold changes show within this
#define GROUP             "riskmon"
#define MAX_STREAMS       256
#define RETRIES           3
#define SWEEP_CHUNK       2000 //  due projects taken at once by the sweep
#define SWEEP_READ        250  //  of which records are read at once
#define ALERT_ID_BLOCK    256  //  alert ids reserved per round trip (a burst raises many)
#define BATCH_CHUNK       64   //  commits per batch script

//  An alert as the batch in hand wrote it (in the work arena).
typedef struct {
    Pmo__Alert *alert;
    uint64_t version;
} s_alert_seen_t;

//  A block of reserved alert sequence numbers of one division.
typedef struct {
    uint64_t next, end; //  next to hand out; end is one past the last
} s_ids_t;

typedef struct {
    riskmon_config_t config;
    pmo_redis_t *redis;
    riskmon_store_t *store;
    pmo_redis_t *side_redis; //  a second connection, for reads while commits are in flight
    riskmon_store_t *side;   //  on side_redis
    zhashx_t *batch_alerts;  //  alert id -> s_alert_seen_t: alerts the batch in hand wrote
    pmo_server_t *server;
    zsock_t *pub;
    zsock_t *wake;          //  SUB on the registry's and allocator's PUB, or NULL
    pmo_client_t *registry; //  calls a request must wait for (a project not seen yet)
    Pmo__Identity identity; //  the risk monitor's own, for calls to the registry
    Pmo__Grant grant;
    Pmo__Grant *grants[1];
    orgtree_t *tree;              //  the org units, as the registry has them
    uint64_t units_generation;    //  the tree's generation whose divisions are read
    int64_t units_next_ms;        //  monotonic: when to re-read them
    zhashx_t *thresholds;         //  unit id -> Pmo__Thresholds (owned copies)
    zhashx_t *alert_ids;          //  division -> s_ids_t: alert ids reserved in blocks
    int64_t thresholds_next_ms;   //  monotonic: when to re-read them
    char *streams[MAX_STREAMS];   //  stream keys being read
    char *divisions[MAX_STREAMS]; //  their divisions
    size_t n_streams;
    pmo_arena_t *work; //  the current batch, sweep or escalation
    bool in_batch;     //  commits are in flight on redis: reads go to side (s_reader)
    int64_t started_ms;
    //  counters (RiskmonStats)
    uint64_t applied, ignored, duplicate, health_changes, sweeps, swept, alerts_raised, escalations;
} riskmon_t;

static int64_t s_now (riskmon_t *self)
{
    return self->config.clock ? self->config.clock (self->config.clock_ctx) : pmo_now_ms ();
}

//  Where to read while building a batch: beside the commits in flight
//  (their answers are not read yet), on the main connection otherwise.
static riskmon_store_t *s_reader (riskmon_t *self)
{
    return self->in_batch ? self->side : self->store;
}

//  A batch begins or ends: what it wrote is no longer known for sure.
static void s_batch_mode (riskmon_t *self, bool on)
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

static void s_free_message (void **item)
{
    if (*item)
        protobuf_c_message_free_unpacked ((ProtobufCMessage *)*item, NULL);
    *item = NULL;
}

static void s_free_ids (void **item)
{
    free (*item);
    *item = NULL;
}

//  A heap copy of msg (freed with protobuf_c_message_free_unpacked).
static ProtobufCMessage *s_own_copy (const ProtobufCMessage *msg)
{
    size_t size = protobuf_c_message_get_packed_size (msg);
    uint8_t *buffer = malloc (size ? size : 1);
    assert (buffer);
    protobuf_c_message_pack (msg, buffer);
    ProtobufCMessage *copy = protobuf_c_message_unpack (msg->descriptor, NULL, size, buffer);
    free (buffer);
    assert (copy);
    return copy;
}

static char *s_division_of (pmo_arena_t *arena, const char *project_id)
{
    char division[40];
    if (riskmon_id_division (project_id, "pr", division, sizeof division))
        return NULL;
    return pmo_arena_strdup (arena, division);
}

//  ---------------------------------------------------------------------
//  Streams, org units and thresholds

static int s_stream_add (riskmon_t *self, const char *division)
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
    self->divisions[self->n_streams++] = strdup (division);
    pmo_info ("riskmon: reading stream=%s group=%s", key, GROUP);
    return 0;
}

//  The unit with id as the tree holds it, without asking the registry:
//  for the health computations, which must never wait on it. NULL if the
//  tree holds none. Valid until the next call on the tree that reads.
static const Pmo__OrgUnit *s_unit (riskmon_t *self, const char *id)
{
    return orgtree_held (self->tree, id);
}

//  The unit with id for a request (in arena): the registry is asked if the
//  tree does not hold it fresh (one it never held, one read before an
//  org-unit event or too long ago); if the registry does not answer, what
//  the tree held is used. NULL if there is no such unit.
static const Pmo__OrgUnit *s_unit_for (riskmon_t *self, pmo_arena_t *arena, const char *id)
{
    Pmo__OrgUnit *unit = NULL;
    int rc = orgtree_unit (self->tree, id, arena, &unit);
    if (rc >= 0)
        return rc ? unit : NULL;
    const Pmo__OrgUnit *held = s_unit (self, id);
    return held ? (Pmo__OrgUnit *)pmo_reflect_copy (&held->base, arena) : NULL;
}

//  Read the org units again when due (or invalidated by an org-unit event)
//  and read the stream of every division the tree knows. A refresh waits
//  for the registry one timeout at most, and the tree backs off from a
//  registry that does not answer, so the loop is held up rarely and briefly.
static void s_units_sync (riskmon_t *self)
{
    int rc = orgtree_refresh (self->tree, false);
    self->units_next_ms = pmo_mono_ms () + (rc == 0 ? UNITS_REFRESH_MS : UNITS_RETRY_MS);
    if (orgtree_generation (self->tree) == self->units_generation)
        return;
    self->units_generation = orgtree_generation (self->tree);
    const char *division;
    for (size_t i = 0; (division = orgtree_division_at (self->tree, i)); i++)
        s_stream_add (self, division);
}

//  The components of path, in arena; returns how many.
static size_t s_path_split (pmo_arena_t *arena, const char *path, char **parts, size_t max)
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
static uint32_t s_reporting_days (riskmon_t *self, pmo_arena_t *arena, const char *path)
{
    char *parts[32];
    size_t n = s_path_split (arena, path, parts, 32);
    for (size_t i = n; i > 0; i--) {
        const Pmo__OrgUnit *unit = s_unit (self, parts[i - 1]);
        if (unit && unit->policy && unit->policy->reporting_period_days)
            return unit->policy->reporting_period_days;
    }
    return 0;
}

//  The PMO type of the nearest PMO unit strictly above the last of path.
static Pmo__PmoType s_pmo_above (riskmon_t *self, pmo_arena_t *arena, const char *path)
{
    char *parts[32];
    size_t n = s_path_split (arena, path, parts, 32);
    for (size_t i = n > 0 ? n - 1 : 0; i > 0; i--) {
        const Pmo__OrgUnit *unit = s_unit (self, parts[i - 1]);
        if (unit && unit->pmo_type != PMO__PMO_TYPE__PMO_TYPE_NONE)
            return unit->pmo_type;
    }
    return PMO__PMO_TYPE__PMO_TYPE_NONE;
}

static int s_thresholds_reload (riskmon_t *self)
{
    pmo_arena_t *arena = pmo_arena_new ();
    Pmo__Thresholds **list;
    uint64_t *versions;
    size_t n;
    int rc = riskmon_store_thresholds (s_reader (self), arena, &list, &versions, &n);
    if (rc == 0) {
        zhashx_purge (self->thresholds);
        for (size_t i = 0; i < n; i++) {
            list[i]->version = versions[i];
            zhashx_update (self->thresholds, list[i]->org_unit, s_own_copy (&list[i]->base));
        }
        self->thresholds_next_ms = pmo_mono_ms () + THRESHOLDS_TTL_MS;
    }
    pmo_arena_destroy (&arena);
    return rc;
}

//  The thresholds in force at path: the defaults, then each unit's own
//  from the root down (the first `depth` components; all if depth < 0).
//  *from lists the units that set some.
static void s_effective (riskmon_t *self, pmo_arena_t *arena, const char *path, int depth,
                         Pmo__Thresholds *out, char **from)
{
    if (pmo_mono_ms () >= self->thresholds_next_ms)
        s_thresholds_reload (self);
    riskmon_thresholds_defaults (out);
    char *parts[32];
    size_t n = s_path_split (arena, path, parts, 32);
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

//  ---------------------------------------------------------------------
//  Events out

static Pmo__Event *s_event (pmo_arena_t *arena, const char *type, const char *division,
                            const char *org_unit, const char *path, const char *entity_id,
                            uint64_t version, const char *actor, const char *request_id,
                            const char *body_field, ProtobufCMessage *body, int64_t now)
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
    event->request_id = (char *)(request_id ? request_id : "");
    event->source = "riskmon";
    pmo_reflect_set_oneof (&event->base, body_field, body);
    return event;
}

//  The events one commit appends, in order.
typedef struct {
    Pmo__Event **events;
    size_t n, max;
    bool health_changed;
} s_change_t;

static void s_change_add (pmo_arena_t *arena, pmo_commit_t *commit, s_change_t *change,
                          const char *division, Pmo__Event *event)
{
    if (change->n == change->max) {
        size_t max = change->max ? change->max * 2 : 4;
        Pmo__Event **grown = pmo_arena_alloc (arena, max * sizeof (void *));
        if (change->n)
            memcpy (grown, change->events, change->n * sizeof (void *));
        change->events = grown;
        change->max = max;
    }
    change->events[change->n++] = event;
    riskmon_store_event (commit, arena, division, event);
}

//  The same for a risk monitor commit.
static void s_change_event (pmo_arena_t *arena, riskmon_commit_t *commit, s_change_t *change,
                            const char *division, Pmo__Event *event)
{
    if (change->n == change->max) {
        size_t max = change->max ? change->max * 2 : 4;
        Pmo__Event **grown = pmo_arena_alloc (arena, max * sizeof (void *));
        if (change->n)
            memcpy (grown, change->events, change->n * sizeof (void *));
        change->events = grown;
        change->max = max;
    }
    change->events[change->n++] = event;
    riskmon_commit_event (commit, division, event);
}

//  Send a commit's events on PUB, ids filled in.
static void s_send_events (riskmon_t *self, pmo_arena_t *arena, const char *division,
                           s_change_t *change, char **ids)
{
    for (size_t i = 0; i < change->n; i++) {
        Pmo__Event *event = change->events[i];
        event->id = ids[i];
        size_t size;
        uint8_t *blob = pmo_reflect_pack (&event->base, arena, &size);
        zmsg_t *msg = zmsg_new ();
        zmsg_addstrf (msg, "%s.%s", division, event->type);
        zmsg_addmem (msg, blob, size);
        zmsg_send (&msg, self->pub);
    }
}

//  Publish a commit's events with their stream ids (the last is known; the
//  others, if any, are read back: the commit appended them contiguously).
static void s_publish (riskmon_t *self, pmo_arena_t *arena, const char *division,
                       s_change_t *change, const char *last_id)
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
    s_send_events (self, arena, division, change, ids);
}

//  ---------------------------------------------------------------------
//  A project's health record

//  A record as read: its current assessment speaks of its inputs.
static Pmo__ProjectHealth *s_health_read (ProtobufCMessage *msg)
{
    Pmo__ProjectHealth *ph = (Pmo__ProjectHealth *)msg;
    if (ph && ph->current && ph->inputs)
        ph->current->inputs = ph->inputs;
    return ph;
}

//  A fresh record for a project nobody has told us about yet.
static Pmo__ProjectHealth *s_health_new (pmo_arena_t *arena, const char *project_id,
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

//  Raise a new alert for a project (ids cost a round trip).
static int s_alert_raise (riskmon_t *self, pmo_arena_t *arena, riskmon_commit_t *commit,
                          s_change_t *change, Pmo__ProjectHealth *ph, const riskmon_want_t *want,
                          const Pmo__Thresholds *t, const char *division, int64_t now,
                          const char *actor, const char *request_id)
{
    Pmo__HealthInputs *in = ph->inputs;
    s_ids_t *ids = zhashx_lookup (self->alert_ids, division);
    if (!ids) {
        ids = calloc (1, sizeof (s_ids_t));
        assert (ids);
        zhashx_insert (self->alert_ids, division, ids);
    }
    if (ids->next == ids->end) {
        if (riskmon_store_reserve_ids (s_reader (self), RISKMON_ALERT, division, ALERT_ID_BLOCK,
                                       &ids->next))
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
    //  A freshly reserved id: nobody else can have written it
    riskmon_commit_create (commit, riskmon_key_entry (arena, division, RISKMON_ALERT, id),
                           &alert->base, 1);
    riskmon_commit_create (
        commit, riskmon_key_entry_version (arena, division, RISKMON_ALERT, id, 1), &alert->base, 1);
    double seq = riskmon_store_id_seq (id);
    riskmon_commit_zadd (commit, riskmon_key_index (arena, division, RISKMON_ALERT, NULL), seq, id);
    riskmon_commit_zadd (commit, riskmon_key_index (arena, division, RISKMON_ALERT, in->project_id),
                         seq, id);
    riskmon_commit_zadd (commit, riskmon_key_escalations (arena, division),
                         (double)alert->next_escalation_ms, id);
    s_change_event (arena, commit, change, division,
                    s_event (arena, "alert.raised", division, in->org_unit, in->org_unit_path, id,
                             1, actor, request_id, "alert", &alert->base, now));
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
                          s_change_t *change, const char *division, const char *alert_id,
                          const riskmon_want_t *want, const char *resolution, int64_t now,
                          const char *actor, const char *request_id)
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
        rc = riskmon_store_get (s_reader (self), arena,
                                riskmon_key_entry (arena, division, RISKMON_ALERT, alert_id),
                                &pmo__alert__descriptor, &msg, &version);
    if (rc < 0)
        return -1;
    Pmo__Alert *alert = (Pmo__Alert *)msg;
    if (rc == 0 || alert->state == PMO__ALERT_STATE__ALERT_STATE_RESOLVED)
        return 0;
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
    s_change_event (arena, commit, change, division,
                    s_event (arena, type, division, alert->org_unit, alert->org_unit_path, alert_id,
                             alert->version, actor, request_id, "alert", &alert->base, now));
    s_alert_seen (self, arena, alert, version + 1);
    return 0;
}

//  Recompute a project's health and add everything that follows to
//  commit: the record (expecting `version`), a history entry and
//  health.changed if it changed, the alerts raised, worsened or resolved,
//  and the next due time. *dirty says whether anything but the due time
//  changed; *due is that time (0 = none). 0, or -1 if Redis failed.
static int s_project_update (riskmon_t *self, pmo_arena_t *arena, riskmon_commit_t *commit,
                             Pmo__ProjectHealth *ph, uint64_t version, const char *trigger,
                             const char *actor, const char *request_id, s_change_t *change,
                             bool *dirty, int64_t *due, bool skip_clean)
{
    Pmo__HealthInputs *in = ph->inputs;
    const char *division = s_division_of (arena, in->project_id);
    assert (division);
    int64_t now = s_now (self);
    Pmo__Thresholds t;
    char *from = "";
    s_effective (self, arena, in->org_unit_path, -1, &t, &from);
    if (in->known)
        in->reporting_period_days = s_reporting_days (self, arena, in->org_unit_path);
    Pmo__HealthAssessment *a = pmo_arena_alloc (arena, sizeof (Pmo__HealthAssessment));
    riskmon_assess (in, &t, now, arena, a);
    a->thresholds_from = from;
    Pmo__HealthAssessment *prev = ph->current;
    bool changed =
        prev ? riskmon_health_differs (prev, a) : a->overall != PMO__RAG__RAG_UNSPECIFIED;
    if (skip_clean && !changed) {
        //  The sweep: most due projects have not changed; find out cheaply
        //  (on a copy of the alert state) before building anything
        riskmon_want_t *wants;
        size_t n_wants = riskmon_alerts_wanted (a, &t, arena, &wants);
        Pmo__AlertRef **copies = pmo_arena_alloc (arena, (ph->n_alerts + 1) * sizeof (void *));
        for (size_t i = 0; i < ph->n_alerts; i++) {
            copies[i] = pmo_arena_memdup (arena, ph->alerts[i], sizeof (Pmo__AlertRef));
        }
        riskmon_alert_action_t *actions;
        int64_t cooldown_due;
        bool live = riskmon_project_live (in);
        size_t n_actions = riskmon_alerts_reconcile (copies, ph->n_alerts, wants, n_wants, now,
                                                     live ? (int64_t)t.alert_cooldown_s * 1000 : 0,
                                                     arena, &actions, &cooldown_due);
        bool quiet = n_actions == 0;
        for (size_t i = 0; i < ph->n_alerts && quiet; i++)
            quiet = copies[i]->cleared_since_ms == ph->alerts[i]->cleared_since_ms;
        if (quiet) {
            int64_t next = a->next_due_ms;
            if (cooldown_due && (!next || cooldown_due < next))
                next = cooldown_due;
            *due = next;
            *dirty = false;
            return 0;
        }
    }
    if (changed) {
        a->seq = ++ph->history;
        a->previous = prev ? prev->overall : PMO__RAG__RAG_UNSPECIFIED;
        a->trigger = (char *)trigger;
        //  Numbered from the record, whose version the commit checks
        riskmon_commit_create (
            commit, riskmon_key_history (arena, division, in->project_id, a->seq), &a->base, 1);
        s_change_event (arena, commit, change, division,
                        s_event (arena, "health.changed", division, in->org_unit, in->org_unit_path,
                                 in->project_id, a->seq, actor, request_id, "health", &a->base,
                                 now));
        change->health_changed = true;
        self->health_changes++;
    } else if (prev) {
        a->seq = prev->seq;
        a->previous = prev->previous;
        a->trigger = prev->trigger;
    }
    ph->current = a;

    //  Alerts follow the health, with hysteresis
    int64_t *cleared = pmo_arena_alloc (arena, (ph->n_alerts + 1) * sizeof (int64_t));
    for (size_t i = 0; i < ph->n_alerts; i++)
        cleared[i] = ph->alerts[i]->cleared_since_ms;
    riskmon_want_t *wants;
    size_t n_wants = riskmon_alerts_wanted (a, &t, arena, &wants);
    bool live = riskmon_project_live (in);
    //  A project out of delivery keeps no alerts: no cool-down to wait for
    int64_t cooldown = live ? (int64_t)t.alert_cooldown_s * 1000 : 0;
    riskmon_alert_action_t *actions;
    int64_t cooldown_due;
    size_t n_refs = ph->n_alerts;
    size_t n_actions = riskmon_alerts_reconcile (ph->alerts, n_refs, wants, n_wants, now, cooldown,
                                                 arena, &actions, &cooldown_due);
    bool refs_changed = n_actions > 0;
    for (size_t i = 0; i < n_refs; i++)
        refs_changed = refs_changed || cleared[i] != ph->alerts[i]->cleared_since_ms;
    bool *drop = pmo_arena_alloc (arena, (n_refs + 1) * sizeof (bool));
    for (size_t i = 0; i < n_actions; i++) {
        riskmon_alert_action_t *action = &actions[i];
        if (action->op == RISKMON_ALERT_RAISE) {
            if (s_alert_raise (self, arena, commit, change, ph, &wants[action->want], &t, division,
                               now, actor, request_id))
                return -1;
        } else if (action->op == RISKMON_ALERT_RAISE_SEVERITY) {
            if (s_alert_touch (self, arena, commit, change, division,
                               ph->alerts[action->ref]->alert_id, &wants[action->want], NULL, now,
                               actor, request_id))
                return -1;
        } else {
            Pmo__AlertRef *ref = ph->alerts[action->ref];
            drop[action->ref] = true;
            if (!ref->suppressed &&
                s_alert_touch (self, arena, commit, change, division, ref->alert_id, NULL,
                               live ? "the condition stayed clear for the cool-down"
                                    : "the project is no longer in delivery",
                               now, actor, request_id))
                return -1;
        }
    }
    size_t kept = 0;
    for (size_t i = 0; i < ph->n_alerts; i++)
        if (i >= n_refs || !drop[i])
            ph->alerts[kept++] = ph->alerts[i];
    ph->n_alerts = kept;

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
//  Reading the streams

//  A project one batch touches, and its record as the batch sees it.
typedef struct {
    char *division;
    char *project_id;
    Pmo__ProjectHealth *ph;
    uint64_t version;
    bool broken; //  a commit for it failed: later ones in the batch are void
} s_target_t;

//  One stream entry's effect on one project (or one project the sweep
//  looks at).
typedef struct {
    size_t item;
    size_t target;
    size_t ticket; //  its commit in the batch
    bool sent;     //  queued in the batch
    bool ok;       //  committed, or found already applied
    bool publish;  //  committed: its events go out on PUB
    char **ids;    //  their stream ids
    size_t n_ids;
    s_change_t change;
    bool plain; //  sweep: unchanged, only its due time is written
    int64_t due;
} s_work_t;

//  Commits queued in a batch, in the order queued.
typedef struct {
    riskmon_t *self;
    riskmon_batch_t *batch;
    s_work_t *work;
    s_target_t *targets; //  NULL in the sweep
    size_t *order;       //  work indexes
    size_t n_sent, n_received;
} s_pipe_t;

//  Send what is queued and collect every answer so far.
static void s_pipe_flush (s_pipe_t *p)
{
    if (p->n_received == p->n_sent)
        return;
    riskmon_batch_send (p->batch);
    riskmon_batch_recv (p->batch);
    while (p->n_received < p->n_sent) {
        s_work_t *w = &p->work[p->order[p->n_received++]];
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
static void s_pipe_add (s_pipe_t *p, size_t k, const char *division, riskmon_commit_t *commit,
                        const char *applied_id)
{
    s_work_t *w = &p->work[k];
    w->ticket = riskmon_batch_add (p->batch, division, commit, applied_id, APPLIED_TTL_S);
    w->sent = true;
    p->order[p->n_sent++] = k;
}

//  Publish the events of every work item committed.
static void s_pipe_publish (riskmon_t *self, pmo_arena_t *arena, s_work_t *work, size_t n,
                            s_target_t *targets, const char *division)
{
    for (size_t k = 0; k < n; k++) {
        s_work_t *w = &work[k];
        if (!w->publish || w->change.n == 0)
            continue;
        char **ids = pmo_arena_alloc (arena, w->change.n * sizeof (char *));
        for (size_t e = 0; e < w->change.n; e++)
            ids[e] = e < w->n_ids ? w->ids[e] : "";
        s_send_events (self, arena, targets ? targets[w->target].division : division, &w->change,
                       ids);
    }
}

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
    const Pmo__OrgUnit *before = s_unit (self, unit->id);
    uint32_t old_days = before && before->policy ? before->policy->reporting_period_days : 0;
    uint32_t new_days = unit->policy ? unit->policy->reporting_period_days : 0;
    bool known = before != NULL;
    orgtree_invalidate (self->tree);
    self->units_next_ms = 0;
    if (unit->kind == PMO__ORG_UNIT_KIND__ORG_UNIT_KIND_DIVISION ||
        unit->kind == PMO__ORG_UNIT_KIND__ORG_UNIT_KIND_ENTERPRISE)
        s_stream_add (self, unit->division);
    if (known && old_days != new_days) {
        pmo_arena_t *arena = pmo_arena_new ();
        int64_t now = s_now (self);
        for (size_t i = 0; i < self->n_streams; i++)
            if (unit->kind == PMO__ORG_UNIT_KIND__ORG_UNIT_KIND_ENTERPRISE ||
                streq (self->divisions[i], unit->division))
                riskmon_store_due_all (self->store, arena, self->divisions[i], now);
        pmo_arena_destroy (&arena);
    }
}

//  Commit one work item now, re-reading the record (the slow path, after
//  a batch commit failed). 0 done (or already done), -1 leave pending.
static int s_work_alone (riskmon_t *self, pmo_arena_t *arena, s_item_t *item, s_target_t *target)
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
            rc ? s_health_read (msg) : s_health_new (arena, target->project_id, target->division);
        s_apply (arena, ph, item->event, item->entry->id);
        const char *rid =
            riskmon_event_request_id (arena, item->division, item->entry->id, target->project_id);
        riskmon_commit_t *commit = riskmon_commit_new (arena);
        s_work_t work = {0};
        bool dirty;
        int64_t due;
        if (s_project_update (self, arena, commit, ph, rc ? version : 0, item->event->type,
                              item->event->actor, item->event->request_id, &work.change, &dirty,
                              &due, false))
            return -1;
        riskmon_batch_t *batch = riskmon_batch_new (self->store, arena, 1);
        size_t order[1];
        s_pipe_t pipe = {self, batch, &work, NULL, order, 0, 0};
        s_pipe_add (&pipe, 0, target->division, commit, rid);
        s_pipe_flush (&pipe);
        pmo_commit_status_t status = riskmon_batch_result (batch, work.ticket)->status;
        riskmon_batch_destroy (&batch);
        if (status == PMO_COMMIT_OK) {
            s_pipe_publish (self, arena, &work, 1, target, NULL);
            return 0;
        }
        if (status == PMO_COMMIT_DUPLICATE)
            return 0;
        if (status != PMO_COMMIT_CONFLICT)
            return -1;
    }
    return -1;
}

//  Read a batch from the streams and act on it. Returns the entries read
//  (the caller reads again at once when the batch was full), -1 on failure.
static int s_consume (riskmon_t *self)
{
    if (self->n_streams == 0)
        return 0;
    pmo_stream_batch_t batch;
    if (riskmon_store_stream_read (self->store, GROUP, self->config.consumer,
                                   (const char **)self->streams, self->n_streams,
                                   (size_t)self->config.batch, self->config.claim_idle_ms, &batch))
        return -1;
    if (batch.count == 0) {
        pmo_stream_batch_clear (&batch);
        return 0;
    }
    pmo_arena_t *arena = self->work;
    pmo_arena_reset (arena);
    size_t n = batch.count;
    s_item_t *items = pmo_arena_alloc (arena, n * sizeof (s_item_t));
    s_target_t *targets = pmo_arena_alloc (arena, n * 4 * sizeof (s_target_t) + 1);
    size_t n_targets = 0, max_targets = n * 4;
    s_work_t *work = NULL;
    size_t n_work = 0, max_work = 0;
    bool units_changed = false;

    //  Decode, and find the projects each entry is about
    for (size_t i = 0; i < n; i++) {
        s_item_t *item = &items[i];
        item->entry = &batch.entries[i];
        pmo_stream_key_division (item->entry->stream, item->division, sizeof item->division);
        item->event = (Pmo__Event *)protobuf_c_message_unpack (
            &pmo__event__descriptor, pmo_arena_allocator (arena), item->entry->size,
            (const uint8_t *)item->entry->data);
        if (!item->event) {
            pmo_warn ("riskmon: undecodable entry stream=%s id=%s size=%zu (skipped)",
                      item->entry->stream, item->entry->id, item->entry->size);
            self->ignored++;
            continue;
        }
        if (streq (item->event->source, "riskmon")) {
            self->ignored++;
            continue;
        }
        if (item->event->body_case == PMO__EVENT__BODY_ORG_UNIT_SNAPSHOT) {
            s_org_unit_event (self, item->event);
            units_changed = true;
            self->ignored++;
            continue;
        }
        char **ids;
        size_t count = s_event_projects (item->event, &ids);
        if (count == 0) {
            self->ignored++;
            continue;
        }
        for (size_t p = 0; p < count; p++) {
            char *division = s_division_of (arena, ids[p]);
            if (!division) {
                pmo_warn ("riskmon: event names a malformed project id stream=%s id=%s",
                          item->entry->stream, item->entry->id);
                continue;
            }
            size_t t = 0;
            while (t < n_targets && !streq (targets[t].project_id, ids[p]))
                t++;
            if (t == n_targets) {
                if (n_targets == max_targets) {
                    s_target_t *grown =
                        pmo_arena_alloc (arena, 2 * max_targets * sizeof (s_target_t));
                    memcpy (grown, targets, n_targets * sizeof (s_target_t));
                    targets = grown;
                    max_targets *= 2;
                }
                targets[n_targets].division = division;
                targets[n_targets].project_id = ids[p];
                n_targets++;
            }
            if (n_work == max_work) {
                max_work = max_work ? max_work * 2 : n + 8;
                s_work_t *grown = pmo_arena_alloc (arena, max_work * sizeof (s_work_t));
                if (n_work)
                    memcpy (grown, work, n_work * sizeof (s_work_t));
                work = grown;
            }
            s_work_t *w = &work[n_work++];
            memset (w, 0, sizeof *w);
            w->item = i;
            w->target = t;
        }
    }
    //  Org units changed: the projects of this batch see them as they now are
    if (units_changed)
        s_units_sync (self);
    //  The records of every project touched, in one round trip
    if (n_targets) {
        char **keys = pmo_arena_alloc (arena, n_targets * sizeof (char *));
        for (size_t t = 0; t < n_targets; t++)
            keys[t] = riskmon_key_project (arena, targets[t].division, targets[t].project_id);
        ProtobufCMessage **msgs = pmo_arena_alloc (arena, n_targets * sizeof (void *));
        uint64_t *versions = pmo_arena_alloc (arena, n_targets * sizeof (uint64_t));
        if (riskmon_store_get_many (self->store, arena, keys, n_targets,
                                    &pmo__project_health__descriptor, msgs, versions)) {
            pmo_stream_batch_clear (&batch);
            return -1;
        }
        for (size_t t = 0; t < n_targets; t++) {
            targets[t].ph = msgs[t]
                                ? s_health_read (msgs[t])
                                : s_health_new (arena, targets[t].project_id, targets[t].division);
            targets[t].version = msgs[t] ? versions[t] : 0;
        }
    }
    //  Build every commit in order on the records in memory and queue it
    //  in the batch: scripts of BATCH_CHUNK commits go out as they fill,
    //  so Redis runs one while the next is built; answers are read at the
    //  end. Reads meanwhile (an alert to update, alert ids, thresholds) go
    //  to the second connection (s_reader)
    riskmon_batch_t *rbatch = riskmon_batch_new (self->store, arena, BATCH_CHUNK);
    s_pipe_t pipe = {
        self, rbatch, work, targets, pmo_arena_alloc (arena, (n_work + 1) * sizeof (size_t)), 0, 0};
    s_batch_mode (self, true);
    for (size_t k = 0; k < n_work; k++) {
        s_work_t *w = &work[k];
        s_item_t *item = &items[w->item];
        s_target_t *target = &targets[w->target];
        if (target->broken)
            continue; //  redone alone below
        s_apply (arena, target->ph, item->event, item->entry->id);
        const char *rid =
            riskmon_event_request_id (arena, item->division, item->entry->id, target->project_id);
        riskmon_commit_t *commit = riskmon_commit_new (arena);
        bool dirty;
        int64_t due;
        if (s_project_update (self, arena, commit, target->ph, target->version, item->event->type,
                              item->event->actor, item->event->request_id, &w->change, &dirty, &due,
                              false))
            break; //  Redis failed: what was not queued stays pending
        s_pipe_add (&pipe, k, target->division, commit, rid);
        target->version++;
    }
    s_pipe_flush (&pipe);
    s_batch_mode (self, false);
    riskmon_batch_destroy (&rbatch);
    s_pipe_publish (self, arena, work, n_work, targets, NULL);
    for (size_t k = 0; k < n_work; k++) {
        s_work_t *w = &work[k];
        if (w->ok)
            continue;
        if (s_work_alone (self, arena, &items[w->item], &targets[w->target]) == 0)
            w->ok = true;
        else
            items[w->item].failed = true;
    }
    //  Acknowledge what is done, per stream
    const char **ids = pmo_arena_alloc (arena, n * sizeof (char *));
    for (size_t s = 0; s < self->n_streams; s++) {
        size_t count = 0;
        for (size_t i = 0; i < n; i++)
            if (!items[i].failed && streq (items[i].entry->stream, self->streams[s]))
                ids[count++] = items[i].entry->id;
        if (count && riskmon_store_ack (self->store, self->streams[s], GROUP, ids, count))
            pmo_warn ("riskmon: ack failed stream=%s count=%zu (they will be redelivered)",
                      self->streams[s], count);
    }
    size_t failed = 0;
    for (size_t i = 0; i < n; i++)
        failed += items[i].failed;
    if (failed)
        pmo_warn ("riskmon: %zu of %zu entries left pending (retried later)", failed, n);
    pmo_stream_batch_clear (&batch);
    return (int)n;
}

//  ---------------------------------------------------------------------
//  Time rules and escalations

//  Re-assess the projects whose time rules are due, in chunks, until none
//  is due or the budget is spent. Returns the projects looked at.
static size_t s_sweep (riskmon_t *self, int budget_ms)
{
    int64_t started = pmo_mono_ms ();
    size_t total = 0;
    self->sweeps++;
    for (size_t s = 0; s < self->n_streams; s++) {
        const char *division = self->divisions[s];
        bool more = true;
        while (more && pmo_mono_ms () - started < budget_ms) {
            pmo_arena_t *arena = self->work;
            pmo_arena_reset (arena);
            int64_t now = s_now (self);
            char **ids;
            double *scores;
            size_t n;
            if (riskmon_store_zrange (self->store, arena, riskmon_key_due (arena, division), NULL,
                                      (double)now, SWEEP_CHUNK, &ids, &scores, &n) ||
                n == 0)
                break;
            char **keys = pmo_arena_alloc (arena, n * sizeof (char *));
            for (size_t i = 0; i < n; i++)
                keys[i] = riskmon_key_project (arena, division, ids[i]);
            ProtobufCMessage **msgs = pmo_arena_alloc (arena, n * sizeof (void *));
            uint64_t *versions = pmo_arena_alloc (arena, n * sizeof (uint64_t));
            size_t fetched = n < SWEEP_READ ? n : SWEEP_READ;
            if (riskmon_store_get_many (self->store, arena, keys, fetched,
                                        &pmo__project_health__descriptor, msgs, versions))
                return total;
            //  Changed records are committed (in batch scripts), unchanged
            //  ones only get their next due time (one ZADD for the chunk)
            s_work_t *work = pmo_arena_alloc (arena, n * sizeof (s_work_t));
            memset (work, 0, n * sizeof (s_work_t));
            riskmon_batch_t *batch = riskmon_batch_new (self->store, arena, BATCH_CHUNK);
            s_pipe_t pipe = {self, batch, work, NULL, pmo_arena_alloc (arena, n * sizeof (size_t)),
                             0,    0};
            s_batch_mode (self, true);
            bool failed = false;
            char **plain = pmo_arena_alloc (arena, n * sizeof (char *));
            int64_t *plain_due = pmo_arena_alloc (arena, n * sizeof (int64_t));
            size_t n_plain = 0;
            for (size_t i = 0; i < n; i++) {
                if (i == fetched) {
                    //  The next records, read beside the commits queued so
                    //  far while Redis runs them (other projects: the
                    //  commits in flight do not touch them)
                    size_t more_n = n - i < SWEEP_READ ? n - i : SWEEP_READ;
                    if (riskmon_store_get_many (s_reader (self), arena, keys + i, more_n,
                                                &pmo__project_health__descriptor, msgs + i,
                                                versions + i)) {
                        failed = true;
                        break;
                    }
                    fetched += more_n;
                }
                s_work_t *w = &work[i];
                int64_t due = 0;
                bool dirty = false;
                riskmon_commit_t *commit = riskmon_commit_new (arena);
                if (msgs[i] &&
                    s_project_update (self, arena, commit, s_health_read (msgs[i]), versions[i],
                                      "time", "riskmon", "", &w->change, &dirty, &due, true)) {
                    failed = true;
                    break;
                }
                if (dirty)
                    s_pipe_add (&pipe, i, division, commit, NULL);
                else {
                    w->plain = true;
                    plain[n_plain] = ids[i];
                    plain_due[n_plain++] = due;
                }
            }
            s_pipe_flush (&pipe);
            s_batch_mode (self, false);
            riskmon_batch_destroy (&batch);
            //  Then the schedule writes, once no commit answer is pending
            if (!failed) {
                int queued = riskmon_store_pipe_due_many (self->store, arena, division, plain,
                                                          plain_due, n_plain);
                if (queued > 0)
                    riskmon_store_pipe_done (self->store, (size_t)queued);
            }
            s_pipe_publish (self, arena, work, n, NULL, division);
            if (failed)
                break;
            total += n;
            self->swept += n;
            more = !failed && n == SWEEP_CHUNK;
        }
    }
    return total;
}

//  Alerts nobody acknowledged in time climb one step.
static void s_escalate (riskmon_t *self)
{
    for (size_t s = 0; s < self->n_streams; s++) {
        const char *division = self->divisions[s];
        pmo_arena_t *arena = self->work;
        pmo_arena_reset (arena);
        int64_t now = s_now (self);
        char **ids;
        double *scores;
        size_t n;
        if (riskmon_store_zrange (self->store, arena, riskmon_key_escalations (arena, division),
                                  NULL, (double)now, 200, &ids, &scores, &n))
            return;
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
            s_change_t change = {0};
            if (rc == 0 || alert->state != PMO__ALERT_STATE__ALERT_STATE_OPEN ||
                alert->level == PMO__ESCALATION_LEVEL__ESCALATION_LEVEL_HUB_PMO)
                pmo_commit_zrem (commit, riskmon_key_escalations (arena, division), ids[i]);
            else {
                const char *hub = riskmon_store_hub (self->store);
                bool in_hub = streq (alert->division, hub);
                alert->level = riskmon_escalation_next (alert->level, in_hub);
                alert->assignee = alert->level == PMO__ESCALATION_LEVEL__ESCALATION_LEVEL_HUB_PMO
                                      ? (char *)hub
                                      : alert->division;
                Pmo__Thresholds t;
                s_effective (self, arena, alert->org_unit_path, -1, &t, NULL);
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
                s_change_add (arena, commit, &change, division,
                              s_event (arena, "alert.escalated", division, alert->org_unit,
                                       alert->org_unit_path, alert->id, alert->version, "riskmon",
                                       "", "alert", &alert->base, now));
            }
            pmo_commit_result_t result;
            riskmon_store_exec (self->store, commit, &result);
            pmo_commit_destroy (&commit);
            if (result.status == PMO_COMMIT_OK && change.n) {
                self->escalations++;
                pmo_info ("riskmon: escalated alert=%s level=%d to=%s", ids[i],
                          ((Pmo__Alert *)msg)->level, ((Pmo__Alert *)msg)->assignee);
                s_publish (self, arena, division, &change, result.stream_id);
            }
            pmo_commit_result_clear (&result);
        }
    }
}

//  ---------------------------------------------------------------------
//  Request helpers

static Pmo__RiskmonReply *s_reply (pmo_request_t *req)
{
    return (Pmo__RiskmonReply *)req->reply;
}

static bool s_replayed (riskmon_t *self, pmo_request_t *req, const char *division)
{
    return pmo_request_replayed (req, self->redis, division, "the risk monitor's store");
}

//  The health record of a project the caller may see (NOT_FOUND for one it
//  may not, so ids cannot be probed). A project the streams have not told
//  us about yet is asked of the registry. *version is 0 for a new record.
static Pmo__ProjectHealth *s_project (riskmon_t *self, pmo_request_t *req, const char *project_id,
                                      const char *field, uint64_t *version)
{
    if (pmo_str_empty (project_id)) {
        FAIL (req, INVALID, field, "%s is required", field);
        return NULL;
    }
    char *division = s_division_of (req->arena, project_id);
    if (!division) {
        FAIL (req, INVALID, field, "'%.64s' is not a project id", project_id);
        return NULL;
    }
    ProtobufCMessage *msg;
    int rc = riskmon_store_get (self->store, req->arena,
                                riskmon_key_project (req->arena, division, project_id),
                                &pmo__project_health__descriptor, &msg, version);
    if (rc < 0) {
        pmo_request_unavailable (req, STORE_NAME);
        return NULL;
    }
    Pmo__ProjectHealth *ph = rc ? s_health_read (msg) : NULL;
    if (!ph || !ph->inputs->known) {
        //  Not seen on the stream yet: the registry is the authority
        Pmo__GetRequest get = PMO__GET_REQUEST__INIT;
        get.kind = PMO__ENTITY_KIND__ENTITY_KIND_PROJECT;
        get.id = (char *)project_id;
        Pmo__RegistryRequest request = PMO__REGISTRY_REQUEST__INIT;
        request.body_case = PMO__REGISTRY_REQUEST__BODY_GET;
        request.get = &get;
        Pmo__Header header;
        char request_id[37];
        pmo_header_init (&header, request_id, 1000, &self->identity);
        request.header = &header;
        ProtobufCMessage *answer = NULL;
        if (pmo_client_call (self->registry, &request.base, &pmo__registry_reply__descriptor, 1000,
                             2, &answer)) {
            FAIL (req, UNAVAILABLE, field,
                  "project '%s' is not known here yet and the registry did not answer", project_id);
            return NULL;
        }
        Pmo__RegistryReply *reply = (Pmo__RegistryReply *)answer;
        if (reply->error || !reply->project) {
            protobuf_c_message_free_unpacked (answer, NULL);
            FAIL (req, NOT_FOUND, field, "no project with id '%.64s'", project_id);
            return NULL;
        }
        Pmo__Project *project =
            (Pmo__Project *)pmo_reflect_copy (&reply->project->base, req->arena);
        protobuf_c_message_free_unpacked (answer, NULL);
        if (!ph) {
            ph = s_health_new (req->arena, project_id, division);
            *version = 0;
        }
        riskmon_apply_project (ph->inputs, project);
    }
    if (!riskmon_allowed (pmo_request_who (req), RISKMON_READ, ph->inputs->org_unit_path)) {
        FAIL (req, NOT_FOUND, field, "no project with id '%.64s'", project_id);
        return NULL;
    }
    return ph;
}

//  Finish a change: store the reply with the commit; publish on success.
static void s_commit (riskmon_t *self, pmo_request_t *req, pmo_commit_t *commit,
                      const char *division, s_change_t *change)
{
    size_t size;
    uint8_t *blob = pmo_reflect_pack (req->reply, req->arena, &size);
    pmo_commit_reply (commit, blob, size, IDEM_TTL_S);
    pmo_commit_result_t result;
    riskmon_store_exec (self->store, commit, &result);
    pmo_commit_destroy (&commit);
    switch (result.status) {
    case PMO_COMMIT_OK:
        s_publish (self, req->arena, division, change, result.stream_id);
        break;
    case PMO_COMMIT_DUPLICATE:
        req->raw_reply = pmo_arena_memdup (req->arena, result.previous, result.previous_size);
        req->raw_size = result.previous_size;
        break;
    case PMO_COMMIT_CONFLICT:
        FAIL (req, CONFLICT, "version",
              "it changed while this request was handled (%s is now version %llu); read it "
              "again and retry",
              result.key, (unsigned long long)result.actual_version);
        break;
    case PMO_COMMIT_TAKEN:
    case PMO_COMMIT_ERROR:
        FAIL (req, INTERNAL, "", "the store refused the commit; nothing was written");
        break;
    case PMO_COMMIT_UNAVAILABLE:
        pmo_request_unavailable (req, STORE_NAME);
        break;
    }
    pmo_commit_result_clear (&result);
}

//  ---------------------------------------------------------------------
//  Registers: what the generic handlers need to know about each kind

typedef struct {
    Pmo__RegisterKind kind;
    const char *name;   //  "risk"
    const char *prefix; //  "rk"
    const ProtobufCMessageDescriptor *desc;
    const char *reply_field; //  its member of RiskmonReply's body
    const char *page_field;  //  its list in RiskmonPage
    const char *event_field; //  its member of Event's body
    const char *event_name;  //  "risk" -> "risk.created"
} s_kind_t;

static const s_kind_t s_kinds[] = {
    {PMO__REGISTER_KIND__REGISTER_KIND_RISK, "risk", RISKMON_RISK, &pmo__risk__descriptor, "risk",
     "risks", "risk", "risk"},
    {PMO__REGISTER_KIND__REGISTER_KIND_ISSUE, "issue", RISKMON_ISSUE, &pmo__issue__descriptor,
     "issue", "issues", "issue", "issue"},
    {PMO__REGISTER_KIND__REGISTER_KIND_CHANGE_REQUEST, "change request", RISKMON_CHANGE,
     &pmo__change_request__descriptor, "change_request", "change_requests", "change_request",
     "change_request"},
    {PMO__REGISTER_KIND__REGISTER_KIND_RAID, "RAID entry", RISKMON_RAID,
     &pmo__raid_entry__descriptor, "raid_entry", "raid_entries", "raid_entry", "raid"},
    {PMO__REGISTER_KIND__REGISTER_KIND_ALERT, "alert", RISKMON_ALERT, &pmo__alert__descriptor,
     "alert", "alerts", "alert", "alert"},
};

static const s_kind_t *s_kind (Pmo__RegisterKind kind)
{
    for (size_t i = 0; i < sizeof s_kinds / sizeof s_kinds[0]; i++)
        if (s_kinds[i].kind == kind)
            return &s_kinds[i];
    return NULL;
}

static const s_kind_t *s_kind_of (const ProtobufCMessageDescriptor *desc)
{
    for (size_t i = 0; i < sizeof s_kinds / sizeof s_kinds[0]; i++)
        if (s_kinds[i].desc == desc)
            return &s_kinds[i];
    return NULL;
}

static int s_check_entry (ProtobufCMessage *msg, pmo_arena_t *arena, pmo_problem_t *problem)
{
    if (msg->descriptor == &pmo__risk__descriptor)
        return riskmon_check_risk ((Pmo__Risk *)msg, arena, problem);
    if (msg->descriptor == &pmo__issue__descriptor)
        return riskmon_check_issue ((Pmo__Issue *)msg, problem);
    if (msg->descriptor == &pmo__change_request__descriptor)
        return riskmon_check_change ((Pmo__ChangeRequest *)msg, problem);
    return riskmon_check_raid ((Pmo__RaidEntry *)msg, problem);
}

//  Read an entry the request names; fails the request if it cannot, or if
//  the caller may not see it.
static ProtobufCMessage *s_fetch (riskmon_t *self, pmo_request_t *req, const s_kind_t *kind,
                                  const char *id, const char *field, uint64_t *version,
                                  char **division_out)
{
    char division[40];
    if (pmo_str_empty (id)) {
        FAIL (req, INVALID, field, "%s is required", field);
        return NULL;
    }
    if (riskmon_id_division (id, kind->prefix, division, sizeof division)) {
        FAIL (req, INVALID, field, "'%.64s' is not a %s id", id, kind->name);
        return NULL;
    }
    ProtobufCMessage *msg;
    int rc = riskmon_store_get (self->store, req->arena,
                                riskmon_key_entry (req->arena, division, kind->prefix, id),
                                kind->desc, &msg, version);
    if (rc < 0) {
        pmo_request_unavailable (req, STORE_NAME);
        return NULL;
    }
    if (rc == 0 || !riskmon_allowed (pmo_request_who (req), RISKMON_READ,
                                     pmo_reflect_str (msg, "org_unit_path"))) {
        FAIL (req, NOT_FOUND, field, "no %s with id '%.64s'", kind->name, id);
        return NULL;
    }
    if (division_out)
        *division_out = pmo_arena_strdup (req->arena, division);
    return msg;
}

static Pmo__Event *s_entry_event (pmo_request_t *req, const s_kind_t *kind, const char *what,
                                  const char *division, ProtobufCMessage *entry, int64_t now)
{
    return s_event (req->arena, pmo_arena_printf (req->arena, "%s.%s", kind->event_name, what),
                    division, pmo_reflect_str (entry, "org_unit"),
                    pmo_reflect_str (entry, "org_unit_path"), pmo_reflect_str (entry, "id"),
                    pmo_reflect_u64 (entry, "version"), pmo_request_who (req)->subject,
                    req->header->request_id, kind->event_field, entry, now);
}

//  Write an entry (and the version kept for its history) into commit.
static void s_put_entry (pmo_request_t *req, pmo_commit_t *commit, const s_kind_t *kind,
                         const char *division, ProtobufCMessage *entry, uint64_t expect)
{
    const char *id = pmo_reflect_str (entry, "id");
    uint64_t version = pmo_reflect_u64 (entry, "version");
    riskmon_store_put (commit, req->arena,
                       riskmon_key_entry (req->arena, division, kind->prefix, id), entry, expect,
                       version);
    riskmon_store_put (commit, req->arena,
                       riskmon_key_entry_version (req->arena, division, kind->prefix, id, version),
                       entry, 0, 1);
}

//  A risk changed: the project's health follows in the same commit.
static int s_risk_health (riskmon_t *self, pmo_request_t *req, pmo_commit_t *commit,
                          Pmo__ProjectHealth *ph, uint64_t ph_version, const Pmo__Risk *risk,
                          s_change_t *change)
{
    riskmon_apply_risk (ph->inputs, risk, req->arena);
    bool dirty;
    int64_t due;
    riskmon_commit_t *health = riskmon_commit_new (req->arena);
    if (s_project_update (self, req->arena, health, ph, ph_version, "risk",
                          pmo_request_who (req)->subject, req->header->request_id, change, &dirty,
                          &due, false)) {
        pmo_request_unavailable (req, STORE_NAME);
        return -1;
    }
    //  One commit with the entry: the request's reply is kept with both
    riskmon_commit_copy_into (health, commit);
    return 0;
}

static void s_handle_create_entry (riskmon_t *self, pmo_request_t *req, ProtobufCMessage *entry,
                                   const char *field)
{
    const s_kind_t *kind = s_kind_of (entry->descriptor);
    pmo_reflect_set_str (entry, "id", "", req->arena);
    pmo_problem_t problem;
    if (s_check_entry (entry, req->arena, &problem))
        return pmo_request_fail_problem (req, &problem, field);
    uint64_t ph_version;
    Pmo__ProjectHealth *ph =
        s_project (self, req, pmo_reflect_str (entry, "project_id"),
                   pmo_arena_printf (req->arena, "%s.project_id", field), &ph_version);
    if (!ph)
        return;
    Pmo__HealthInputs *in = ph->inputs;
    if (!pmo_request_may (req, riskmon_roles (), RISKMON_WRITE, in->org_unit_path,
                          pmo_arena_printf (req->arena, "record %ss", kind->name)))
        return;
    char *division = s_division_of (req->arena, in->project_id);
    if (s_replayed (self, req, division))
        return;
    if (!riskmon_project_live (in))
        return (void)FAIL (
            req, FAILED_PRECONDITION, pmo_arena_printf (req->arena, "%s.project_id", field),
            "project %s is no longer in delivery (archived, closed or cancelled)", in->project_id);
    //  A new entry starts open; closing is its own request
    if (entry->descriptor == &pmo__risk__descriptor)
        ((Pmo__Risk *)entry)->status = PMO__RISK_STATUS__RISK_STATUS_OPEN;
    else if (entry->descriptor == &pmo__issue__descriptor &&
             ((Pmo__Issue *)entry)->status >= PMO__ISSUE_STATUS__ISSUE_STATUS_RESOLVED)
        return (void)FAIL (req, INVALID, pmo_arena_printf (req->arena, "%s.status", field),
                           "a new issue is open or in progress");
    else if (entry->descriptor == &pmo__change_request__descriptor) {
        Pmo__ChangeRequest *change = (Pmo__ChangeRequest *)entry;
        if (change->decision != PMO__CHANGE_DECISION__CHANGE_DECISION_PENDING)
            return (void)FAIL (req, INVALID, pmo_arena_printf (req->arena, "%s.decision", field),
                               "a new change request is pending; decide it with an update");
        change->closed = false;
        if (pmo_str_empty (change->requested_by))
            change->requested_by = (char *)pmo_request_who (req)->subject;
    } else if (entry->descriptor == &pmo__raid_entry__descriptor &&
               ((Pmo__RaidEntry *)entry)->status == PMO__RAID_STATUS__RAID_STATUS_CLOSED)
        return (void)FAIL (req, INVALID, pmo_arena_printf (req->arena, "%s.status", field),
                           "a new entry is not closed");
    char *id;
    if (riskmon_store_next_id (self->store, req->arena, kind->prefix, division, &id))
        return pmo_request_unavailable (req, STORE_NAME);
    int64_t now = s_now (self);
    pmo_reflect_set_str (entry, "id", id, req->arena);
    pmo_reflect_set_str (entry, "org_unit", in->org_unit, req->arena);
    pmo_reflect_set_str (entry, "org_unit_path", in->org_unit_path, req->arena);
    pmo_reflect_set_str (entry, "division", division, req->arena);
    pmo_reflect_set_u64 (entry, "version", 1);
    pmo_reflect_set_i64 (entry, "created_ms", now);
    pmo_reflect_set_i64 (entry, "updated_ms", now);
    if (pmo_reflect_has (entry->descriptor, "created_by"))
        pmo_reflect_set_str (entry, "created_by", pmo_request_who (req)->subject, req->arena);
    if (pmo_reflect_has (entry->descriptor, "raised_by"))
        pmo_reflect_set_str (entry, "raised_by", pmo_request_who (req)->subject, req->arena);
    pmo_reflect_set_str (entry, "updated_by", pmo_request_who (req)->subject, req->arena);
    pmo_commit_t *commit = riskmon_store_commit (division, req->header->request_id);
    s_put_entry (req, commit, kind, division, entry, 0);
    double seq = riskmon_store_id_seq (id);
    pmo_commit_zadd (commit, riskmon_key_index (req->arena, division, kind->prefix, NULL), seq, id);
    pmo_commit_zadd (commit, riskmon_key_index (req->arena, division, kind->prefix, in->project_id),
                     seq, id);
    s_change_t change = {0};
    s_change_add (req->arena, commit, &change, division,
                  s_entry_event (req, kind, "created", division, entry, now));
    if (entry->descriptor == &pmo__risk__descriptor &&
        s_risk_health (self, req, commit, ph, ph_version, (Pmo__Risk *)entry, &change)) {
        pmo_commit_destroy (&commit);
        return;
    }
    pmo_reflect_set_oneof (req->reply, kind->reply_field, entry);
    s_commit (self, req, commit, division, &change);
}

static void s_handle_update_entry (riskmon_t *self, pmo_request_t *req, ProtobufCMessage *next,
                                   const char *field)
{
    const s_kind_t *kind = s_kind_of (next->descriptor);
    uint64_t version;
    char *division;
    ProtobufCMessage *stored =
        s_fetch (self, req, kind, pmo_reflect_str (next, "id"),
                 pmo_arena_printf (req->arena, "%s.id", field), &version, &division);
    if (!stored)
        return;
    const char *path = pmo_reflect_str (stored, "org_unit_path");
    //  Sponsors do not keep the registers but they decide change requests
    bool decider = next->descriptor == &pmo__change_request__descriptor &&
                   riskmon_allowed (pmo_request_who (req), RISKMON_DECIDE, path);
    if (!decider && !pmo_request_may (req, riskmon_roles (), RISKMON_WRITE, path,
                                      pmo_arena_printf (req->arena, "change %ss", kind->name)))
        return;
    if (s_replayed (self, req, division))
        return;
    if (strcmp (pmo_reflect_str (next, "project_id"), pmo_reflect_str (stored, "project_id")) != 0)
        return (void)FAIL (req, INVALID, pmo_arena_printf (req->arena, "%s.project_id", field),
                           "a %s stays with its project", kind->name);
    if (!pmo_request_version_matches (req, pmo_arena_printf (req->arena, "%s.version", field),
                                      kind->name, pmo_reflect_u64 (next, "version"), version))
        return;
    pmo_problem_t problem;
    if (s_check_entry (next, req->arena, &problem))
        return pmo_request_fail_problem (req, &problem, field);
    int64_t now = s_now (self);
    //  Status changes go through close; decisions need a decider
    if (next->descriptor == &pmo__risk__descriptor) {
        Pmo__Risk *risk = (Pmo__Risk *)next, *was = (Pmo__Risk *)stored;
        if (!riskmon_risk_open (was))
            return (void)FAIL (req, FAILED_PRECONDITION, field, "risk %s is closed", was->id);
        risk->status = was->status;
        risk->created_by = was->created_by;
    } else if (next->descriptor == &pmo__issue__descriptor) {
        Pmo__Issue *issue = (Pmo__Issue *)next, *was = (Pmo__Issue *)stored;
        if (was->status == PMO__ISSUE_STATUS__ISSUE_STATUS_CLOSED)
            return (void)FAIL (req, FAILED_PRECONDITION, field, "issue %s is closed", was->id);
        issue->raised_by = was->raised_by;
    } else if (next->descriptor == &pmo__change_request__descriptor) {
        Pmo__ChangeRequest *change = (Pmo__ChangeRequest *)next,
                           *was = (Pmo__ChangeRequest *)stored;
        if (was->closed)
            return (void)FAIL (req, FAILED_PRECONDITION, field, "change request %s is closed",
                               was->id);
        change->closed = false;
        change->approver = was->approver;
        change->approver_role = was->approver_role;
        change->decided_ms = was->decided_ms;
        if (change->decision != was->decision) {
            if (was->decision == PMO__CHANGE_DECISION__CHANGE_DECISION_APPROVED ||
                was->decision == PMO__CHANGE_DECISION__CHANGE_DECISION_REJECTED)
                return (void)FAIL (req, FAILED_PRECONDITION,
                                   pmo_arena_printf (req->arena, "%s.decision", field),
                                   "change request %s was already decided", was->id);
            if (change->decision == PMO__CHANGE_DECISION__CHANGE_DECISION_PENDING)
                return (void)FAIL (req, INVALID,
                                   pmo_arena_printf (req->arena, "%s.decision", field),
                                   "a decision is approved, rejected or deferred");
            Pmo__Role role =
                pmo_access_role (pmo_request_who (req), riskmon_roles (), RISKMON_DECIDE, path);
            if (role == PMO__ROLE__ROLE_UNSPECIFIED)
                return (void)FAIL (req, FORBIDDEN,
                                   pmo_arena_printf (req->arena, "%s.decision", field),
                                   "%s may not decide change requests in '%s' (sponsor, "
                                   "programme manager or PMO)",
                                   pmo_request_who (req)->subject, path);
            change->approver = (char *)pmo_request_who (req)->subject;
            change->approver_role = role;
            change->decided_ms = now;
        }
    } else {
        Pmo__RaidEntry *entry = (Pmo__RaidEntry *)next, *was = (Pmo__RaidEntry *)stored;
        if (was->status == PMO__RAID_STATUS__RAID_STATUS_CLOSED)
            return (void)FAIL (req, FAILED_PRECONDITION, field, "entry %s is closed", was->id);
        if (entry->kind != was->kind)
            return (void)FAIL (req, INVALID, pmo_arena_printf (req->arena, "%s.kind", field),
                               "an entry keeps its kind");
        entry->created_by = was->created_by;
    }
    pmo_reflect_set_str (next, "org_unit", pmo_reflect_str (stored, "org_unit"), req->arena);
    pmo_reflect_set_str (next, "org_unit_path", path, req->arena);
    pmo_reflect_set_str (next, "division", division, req->arena);
    pmo_reflect_set_u64 (next, "version", version + 1);
    pmo_reflect_set_i64 (next, "created_ms", pmo_reflect_i64 (stored, "created_ms"));
    pmo_reflect_set_i64 (next, "updated_ms", now);
    pmo_reflect_set_str (next, "updated_by", pmo_request_who (req)->subject, req->arena);
    pmo_commit_t *commit = riskmon_store_commit (division, req->header->request_id);
    s_put_entry (req, commit, kind, division, next, version);
    s_change_t change = {0};
    s_change_add (req->arena, commit, &change, division,
                  s_entry_event (req, kind, "updated", division, next, now));
    if (next->descriptor == &pmo__risk__descriptor) {
        uint64_t ph_version;
        Pmo__ProjectHealth *ph =
            s_project (self, req, pmo_reflect_str (next, "project_id"), field, &ph_version);
        if (!ph || s_risk_health (self, req, commit, ph, ph_version, (Pmo__Risk *)next, &change)) {
            pmo_commit_destroy (&commit);
            return;
        }
    }
    pmo_reflect_set_oneof (req->reply, kind->reply_field, next);
    s_commit (self, req, commit, division, &change);
}

static void s_handle_close (riskmon_t *self, pmo_request_t *req, Pmo__CloseRequest *close)
{
    const s_kind_t *kind = s_kind (close->kind);
    if (!kind || kind->kind == PMO__REGISTER_KIND__REGISTER_KIND_ALERT)
        return (void)FAIL (req, INVALID, "close.kind",
                           "kind is required: risk, issue, change_request or raid (alerts are "
                           "resolved)");
    uint64_t version;
    char *division;
    ProtobufCMessage *entry = s_fetch (self, req, kind, close->id, "close.id", &version, &division);
    if (!entry)
        return;
    const char *path = pmo_reflect_str (entry, "org_unit_path");
    if (!pmo_request_may (req, riskmon_roles (), RISKMON_WRITE, path,
                          pmo_arena_printf (req->arena, "close %ss", kind->name)))
        return;
    if (s_replayed (self, req, division))
        return;
    if (!pmo_request_version_matches (req, "close.version", kind->name, close->version, version))
        return;
    if (close->note && (strlen (close->note) > 4000 || !pmo_text_valid (close->note)))
        return (void)FAIL (req, INVALID, "close.note", "note is text of at most 4000 characters");
    const char *closed_already = NULL;
    if (entry->descriptor == &pmo__risk__descriptor) {
        Pmo__Risk *risk = (Pmo__Risk *)entry;
        if (!riskmon_risk_open (risk))
            closed_already = "risk";
        if (close->risk_status != PMO__RISK_STATUS__RISK_STATUS_UNSPECIFIED &&
            close->risk_status != PMO__RISK_STATUS__RISK_STATUS_CLOSED &&
            close->risk_status != PMO__RISK_STATUS__RISK_STATUS_OCCURRED)
            return (void)FAIL (req, INVALID, "close.risk_status",
                               "a risk closes as closed or occurred");
        risk->status = close->risk_status == PMO__RISK_STATUS__RISK_STATUS_OCCURRED
                           ? PMO__RISK_STATUS__RISK_STATUS_OCCURRED
                           : PMO__RISK_STATUS__RISK_STATUS_CLOSED;
        risk->closure_note = close->note;
    } else if (entry->descriptor == &pmo__issue__descriptor) {
        Pmo__Issue *issue = (Pmo__Issue *)entry;
        if (issue->status == PMO__ISSUE_STATUS__ISSUE_STATUS_CLOSED)
            closed_already = "issue";
        if (!pmo_str_empty (close->note))
            issue->resolution = close->note;
        if (pmo_str_empty (issue->resolution))
            return (void)FAIL (req, INVALID, "close.note",
                               "closing an issue states its resolution");
        issue->status = PMO__ISSUE_STATUS__ISSUE_STATUS_CLOSED;
    } else if (entry->descriptor == &pmo__change_request__descriptor) {
        Pmo__ChangeRequest *change = (Pmo__ChangeRequest *)entry;
        if (change->closed)
            closed_already = "change request";
        change->closed = true;
        if (!pmo_str_empty (close->note))
            change->decision_note = close->note;
    } else {
        Pmo__RaidEntry *raid = (Pmo__RaidEntry *)entry;
        if (raid->status == PMO__RAID_STATUS__RAID_STATUS_CLOSED)
            closed_already = "entry";
        raid->status = PMO__RAID_STATUS__RAID_STATUS_CLOSED;
        if (!pmo_str_empty (close->note))
            raid->note = close->note;
    }
    if (closed_already)
        return (void)FAIL (req, FAILED_PRECONDITION, "close.id", "that %s is already closed",
                           closed_already);
    int64_t now = s_now (self);
    pmo_reflect_set_u64 (entry, "version", version + 1);
    pmo_reflect_set_i64 (entry, "updated_ms", now);
    pmo_reflect_set_str (entry, "updated_by", pmo_request_who (req)->subject, req->arena);
    pmo_commit_t *commit = riskmon_store_commit (division, req->header->request_id);
    s_put_entry (req, commit, kind, division, entry, version);
    s_change_t change = {0};
    s_change_add (req->arena, commit, &change, division,
                  s_entry_event (req, kind, "closed", division, entry, now));
    if (entry->descriptor == &pmo__risk__descriptor) {
        uint64_t ph_version;
        Pmo__ProjectHealth *ph =
            s_project (self, req, pmo_reflect_str (entry, "project_id"), "close.id", &ph_version);
        if (!ph || s_risk_health (self, req, commit, ph, ph_version, (Pmo__Risk *)entry, &change)) {
            pmo_commit_destroy (&commit);
            return;
        }
    }
    pmo_reflect_set_oneof (req->reply, kind->reply_field, entry);
    s_commit (self, req, commit, division, &change);
}

static void s_handle_get (riskmon_t *self, pmo_request_t *req, Pmo__RiskmonGetRequest *get)
{
    const s_kind_t *kind = s_kind (get->kind);
    if (!kind)
        return (void)FAIL (req, INVALID, "get.kind",
                           "kind is required: risk, issue, change_request, raid or alert");
    uint64_t version;
    char *division;
    ProtobufCMessage *entry = s_fetch (self, req, kind, get->id, "get.id", &version, &division);
    if (!entry)
        return;
    pmo_reflect_set_oneof (req->reply, kind->reply_field, entry);
    if (!get->with_history)
        return;
    Pmo__RiskmonPage *history = pmo_arena_alloc (req->arena, sizeof (Pmo__RiskmonPage));
    pmo__riskmon_page__init (history);
    size_t n = (size_t)version;
    char **keys = pmo_arena_alloc (req->arena, (n + 1) * sizeof (char *));
    for (size_t v = 0; v < n; v++)
        keys[v] = riskmon_key_entry_version (req->arena, division, kind->prefix, get->id, v + 1);
    ProtobufCMessage **msgs = pmo_arena_alloc (req->arena, (n + 1) * sizeof (void *));
    if (riskmon_store_get_many (self->store, req->arena, keys, n, kind->desc, msgs, NULL))
        return pmo_request_unavailable (req, STORE_NAME);
    for (size_t v = 0; v < n; v++)
        if (msgs[v])
            pmo_reflect_append (&history->base, kind->page_field, msgs[v], req->arena);
    s_reply (req)->history = history;
}

//  Does an entry pass the list's filters?
static bool s_list_match (pmo_request_t *req, const Pmo__RiskmonListRequest *list,
                          ProtobufCMessage *msg)
{
    const char *path = pmo_reflect_str (msg, "org_unit_path");
    if (!riskmon_allowed (pmo_request_who (req), RISKMON_READ, path))
        return false;
    if (!pmo_str_empty (list->org_unit) && !pmo_path_contains (path, list->org_unit))
        return false;
    const char *owner = pmo_reflect_has (msg->descriptor, "owner")
                            ? pmo_reflect_str (msg, "owner")
                            : pmo_reflect_str (msg, "assignee");
    if (!pmo_str_empty (list->owner) && strcmp (owner, list->owner) != 0)
        return false;
    if (msg->descriptor == &pmo__risk__descriptor) {
        Pmo__Risk *r = (Pmo__Risk *)msg;
        if (!list->include_closed && !riskmon_risk_open (r))
            return false;
        if (list->min_band && r->residual_band < list->min_band)
            return false;
        if (!pmo_str_empty (list->category) && strcasecmp (r->category, list->category) != 0)
            return false;
    } else if (msg->descriptor == &pmo__issue__descriptor) {
        Pmo__Issue *i = (Pmo__Issue *)msg;
        if (!list->include_closed && i->status >= PMO__ISSUE_STATUS__ISSUE_STATUS_RESOLVED)
            return false;
    } else if (msg->descriptor == &pmo__change_request__descriptor) {
        if (!list->include_closed && ((Pmo__ChangeRequest *)msg)->closed)
            return false;
    } else if (msg->descriptor == &pmo__raid_entry__descriptor) {
        Pmo__RaidEntry *e = (Pmo__RaidEntry *)msg;
        if (!list->include_closed && e->status == PMO__RAID_STATUS__RAID_STATUS_CLOSED)
            return false;
        if (list->raid_kind && e->kind != list->raid_kind)
            return false;
    } else {
        Pmo__Alert *a = (Pmo__Alert *)msg;
        if (!list->include_closed && a->state == PMO__ALERT_STATE__ALERT_STATE_RESOLVED)
            return false;
        if (list->min_severity && a->severity < list->min_severity)
            return false;
    }
    return true;
}

//  Fill the page from one index after score `after`. 1 when the page is
//  full or the scan budget spent (*last = where to resume), 0 when the
//  index is exhausted, -1 on failure.
static int s_list_index (riskmon_t *self, pmo_request_t *req, const s_kind_t *kind,
                         const Pmo__RiskmonListRequest *list, Pmo__RiskmonPage *page,
                         const char *division, const char *project, double after, size_t limit,
                         size_t *count, size_t *scanned, double *last)
{
    while (*count < limit && *scanned < LIST_SCAN_MAX) {
        char **ids;
        double *scores;
        size_t n;
        size_t want = limit - *count;
        if (want < 50)
            want = 50;
        if (riskmon_store_zrange (self->store, req->arena,
                                  riskmon_key_index (req->arena, division, kind->prefix, project),
                                  &after, INFINITY, want, &ids, &scores, &n)) {
            pmo_request_unavailable (req, STORE_NAME);
            return -1;
        }
        if (n == 0)
            return 0;
        char **keys = pmo_arena_alloc (req->arena, n * sizeof (char *));
        for (size_t i = 0; i < n; i++)
            keys[i] = riskmon_key_entry (req->arena, division, kind->prefix, ids[i]);
        ProtobufCMessage **msgs = pmo_arena_alloc (req->arena, n * sizeof (void *));
        if (riskmon_store_get_many (self->store, req->arena, keys, n, kind->desc, msgs, NULL)) {
            pmo_request_unavailable (req, STORE_NAME);
            return -1;
        }
        for (size_t i = 0; i < n; i++) {
            (*scanned)++;
            after = scores[i];
            if (msgs[i] && s_list_match (req, list, msgs[i])) {
                pmo_reflect_append (&page->base, kind->page_field, msgs[i], req->arena);
                if (++*count == limit)
                    break;
            }
        }
        if (n < want && *count < limit)
            return 0;
    }
    *last = after;
    return 1;
}

static void s_handle_list (riskmon_t *self, pmo_request_t *req, Pmo__RiskmonListRequest *list)
{
    const s_kind_t *kind = s_kind (list->kind);
    if (!kind)
        return (void)FAIL (req, INVALID, "list.kind",
                           "kind is required: risk, issue, change_request, raid or alert");
    if (list->limit > LIST_MAX)
        return (void)FAIL (req, INVALID, "list.limit", "limit is at most %d", LIST_MAX);
    size_t limit = list->limit ? list->limit : LIST_DEFAULT;
    Pmo__RiskmonPage *page = pmo_arena_alloc (req->arena, sizeof (Pmo__RiskmonPage));
    pmo__riskmon_page__init (page);
    pmo_reflect_set_oneof (req->reply, "page", &page->base);
    //  Cursor: "<division>|<score>" where to resume
    char cursor_division[40] = "";
    double after = 0;
    if (!pmo_str_empty (list->cursor)) {
        const char *bar = strchr (list->cursor, '|');
        char *end = NULL;
        if (bar && (size_t)(bar - list->cursor) < sizeof cursor_division)
            after = strtod (bar + 1, &end);
        if (!bar || !end || *end || bar == list->cursor)
            return (void)FAIL (req, INVALID, "list.cursor",
                               "cursor is not one this service returned");
        memcpy (cursor_division, list->cursor, (size_t)(bar - list->cursor));
        cursor_division[bar - list->cursor] = 0;
    }
    size_t count = 0, scanned = 0;
    double last;
    if (!pmo_str_empty (list->project_id)) {
        uint64_t version;
        Pmo__ProjectHealth *ph =
            s_project (self, req, list->project_id, "list.project_id", &version);
        if (!ph)
            return;
        char *division = s_division_of (req->arena, list->project_id);
        int rc = s_list_index (self, req, kind, list, page, division, list->project_id,
                               *cursor_division ? after : 0, limit, &count, &scanned, &last);
        if (rc == 1)
            page->next_cursor = pmo_arena_printf (req->arena, "%s|%.17g", division, last);
        return;
    }
    const char *hub = riskmon_store_hub (self->store);
    const Pmo__OrgUnit *unit = NULL;
    if (!pmo_str_empty (list->org_unit) && !(unit = s_unit_for (self, req->arena, list->org_unit)))
        return (void)FAIL (req, NOT_FOUND, "list.org_unit", "no org unit '%s'", list->org_unit);
    //  The divisions the subtree spans, in a stable order
    char **divisions = pmo_arena_alloc (req->arena, (self->n_streams + 1) * sizeof (char *));
    size_t n_div = 0;
    for (size_t i = 0; i < self->n_streams; i++)
        if (!unit || streq (unit->id, hub) || streq (unit->division, self->divisions[i]))
            divisions[n_div++] = self->divisions[i];
    for (size_t i = 1; i < n_div; i++)
        for (size_t j = i; j > 0 && strcmp (divisions[j - 1], divisions[j]) > 0; j--) {
            char *swap = divisions[j];
            divisions[j] = divisions[j - 1];
            divisions[j - 1] = swap;
        }
    bool resuming = *cursor_division != 0;
    for (size_t i = 0; i < n_div; i++) {
        double from = 0;
        if (resuming) {
            if (strcmp (divisions[i], cursor_division) < 0)
                continue;
            if (streq (divisions[i], cursor_division))
                from = after;
            resuming = false;
        }
        int rc = s_list_index (self, req, kind, list, page, divisions[i], NULL, from, limit, &count,
                               &scanned, &last);
        if (rc < 0)
            return;
        if (rc == 1) {
            page->next_cursor = pmo_arena_printf (req->arena, "%s|%.17g", divisions[i], last);
            return;
        }
    }
}

static void s_handle_health (riskmon_t *self, pmo_request_t *req, Pmo__HealthRequest *health)
{
    uint64_t version;
    Pmo__ProjectHealth *ph =
        s_project (self, req, health->project_id, "health.project_id", &version);
    if (!ph)
        return;
    Pmo__HealthHistory *out = pmo_arena_alloc (req->arena, sizeof (Pmo__HealthHistory));
    pmo__health_history__init (out);
    out->current = ph->current;
    if (!out->current) {
        //  Known to the registry but nothing has happened to it here yet
        Pmo__Thresholds t;
        s_effective (self, req->arena, ph->inputs->org_unit_path, -1, &t, NULL);
        ph->inputs->reporting_period_days =
            s_reporting_days (self, req->arena, ph->inputs->org_unit_path);
        out->current = pmo_arena_alloc (req->arena, sizeof (Pmo__HealthAssessment));
        riskmon_assess (ph->inputs, &t, s_now (self), req->arena, out->current);
    }
    if (health->with_history && ph->history) {
        uint64_t limit = health->history_limit ? health->history_limit : HISTORY_DEFAULT;
        uint64_t first = ph->history > limit ? ph->history - limit + 1 : 1;
        size_t n = (size_t)(ph->history - first + 1);
        char *division = s_division_of (req->arena, health->project_id);
        char **keys = pmo_arena_alloc (req->arena, n * sizeof (char *));
        for (size_t i = 0; i < n; i++)
            keys[i] = riskmon_key_history (req->arena, division, health->project_id, first + i);
        ProtobufCMessage **msgs = pmo_arena_alloc (req->arena, n * sizeof (void *));
        if (riskmon_store_get_many (self->store, req->arena, keys, n,
                                    &pmo__health_assessment__descriptor, msgs, NULL))
            return pmo_request_unavailable (req, STORE_NAME);
        for (size_t i = 0; i < n; i++)
            if (msgs[i])
                pmo_reflect_append (&out->base, "history", msgs[i], req->arena);
    }
    pmo_reflect_set_oneof (req->reply, "health", &out->base);
}

static Pmo__RollupMoney *s_money_for (pmo_arena_t *arena, Pmo__Rollup *rollup, const char *currency)
{
    for (size_t i = 0; i < rollup->n_money; i++)
        if (streq (rollup->money[i]->currency, currency))
            return rollup->money[i];
    Pmo__RollupMoney *money = pmo_arena_alloc (arena, sizeof (Pmo__RollupMoney));
    pmo__rollup_money__init (money);
    money->currency = pmo_arena_strdup (arena, currency);
    pmo_reflect_append (&rollup->base, "money", &money->base, arena);
    return money;
}

static void s_handle_rollup (riskmon_t *self, pmo_request_t *req, Pmo__RollupRequest *request)
{
    const char *hub = riskmon_store_hub (self->store);
    const char *unit_id = pmo_str_empty (request->org_unit) ? hub : request->org_unit;
    const Pmo__OrgUnit *unit = s_unit_for (self, req->arena, unit_id);
    if (!unit)
        return (void)FAIL (req, NOT_FOUND, "rollup.org_unit", "no org unit '%s'", unit_id);
    if (!pmo_request_may (req, riskmon_roles (), RISKMON_READ, unit->path, "see the roll-up"))
        return;
    Pmo__Thresholds t;
    s_effective (self, req->arena, unit->path, -1, &t, NULL);
    Pmo__Rollup *rollup = pmo_arena_alloc (req->arena, sizeof (Pmo__Rollup));
    pmo__rollup__init (rollup);
    rollup->org_unit = unit->id;
    rollup->org_unit_path = unit->path;
    pmo_arena_t *scratch = pmo_arena_new ();
    bool failed = false;
    for (size_t s = 0; s < self->n_streams && !failed; s++) {
        const char *division = self->divisions[s];
        if (!streq (unit->id, hub) && !streq (unit->division, division))
            continue;
        double after = -1;
        while (!failed) {
            pmo_arena_reset (scratch);
            char **ids;
            double *scores;
            size_t n;
            if (riskmon_store_zrange (self->store, scratch,
                                      riskmon_key_projects (scratch, division), &after, INFINITY,
                                      1000, &ids, &scores, &n)) {
                failed = true;
                break;
            }
            if (n == 0)
                break;
            after = scores[n - 1];
            char **keys = pmo_arena_alloc (scratch, n * sizeof (char *));
            for (size_t i = 0; i < n; i++)
                keys[i] = riskmon_key_project (scratch, division, ids[i]);
            ProtobufCMessage **msgs = pmo_arena_alloc (scratch, n * sizeof (void *));
            if (riskmon_store_get_many (self->store, scratch, keys, n,
                                        &pmo__project_health__descriptor, msgs, NULL)) {
                failed = true;
                break;
            }
            for (size_t i = 0; i < n; i++) {
                Pmo__ProjectHealth *ph = s_health_read (msgs[i]);
                if (!ph || !riskmon_project_live (ph->inputs) ||
                    !pmo_path_contains (ph->inputs->org_unit_path, unit->id))
                    continue;
                Pmo__HealthInputs *in = ph->inputs;
                rollup->projects++;
                Pmo__Rag rag = ph->current ? ph->current->overall : PMO__RAG__RAG_UNSPECIFIED;
                if (rag == PMO__RAG__RAG_GREEN)
                    rollup->green++;
                else if (rag == PMO__RAG__RAG_AMBER)
                    rollup->amber++;
                else if (rag == PMO__RAG__RAG_RED)
                    rollup->red++;
                else
                    rollup->unassessed++;
                //  Sums first, indices after: ratios are never averaged
                Pmo__RollupMoney *money = s_money_for (req->arena, rollup, in->currency);
                money->projects++;
                if (!pmo_str_empty (in->report_id)) {
                    money->pv_minor += in->pv_minor;
                    money->ev_minor += in->ev_minor;
                    if (in->has_ac) {
                        money->ac_minor += in->ac_minor;
                        money->ev_with_ac_minor += in->ev_minor;
                    }
                }
                for (size_t r = 0; r < in->n_open_risks; r++) {
                    const Pmo__OpenRisk *risk = in->open_risks[r];
                    rollup->risks_open++;
                    if (risk->residual_score >= t.risk_critical_score)
                        rollup->risks_critical++;
                    else if (risk->residual_score >= t.risk_high_score)
                        rollup->risks_high++;
                    if (risk->exposure_minor)
                        s_money_for (req->arena, rollup, risk->currency)->risk_exposure_minor +=
                            risk->exposure_minor;
                }
                for (size_t a = 0; a < ph->n_alerts; a++)
                    rollup->alerts_open += !ph->alerts[a]->suppressed;
            }
            if (n < 1000)
                break;
        }
    }
    pmo_arena_destroy (&scratch);
    if (failed)
        return pmo_request_unavailable (req, STORE_NAME);
    for (size_t i = 0; i < rollup->n_money; i++) {
        Pmo__RollupMoney *money = rollup->money[i];
        if (money->pv_minor > 0) {
            money->has_spi = true;
            money->spi = (double)money->ev_minor / (double)money->pv_minor;
        }
        if (money->ac_minor > 0) {
            money->has_cpi = true;
            money->cpi = (double)money->ev_with_ac_minor / (double)money->ac_minor;
        }
    }
    rollup->computed_ms = s_now (self);
    pmo_reflect_set_oneof (req->reply, "rollup", &rollup->base);
}

//  Acknowledge (stop the climb) or resolve an alert.
static void s_handle_alert_action (riskmon_t *self, pmo_request_t *req,
                                   Pmo__AlertActionRequest *action, bool resolve)
{
    const char *field = resolve ? "resolve_alert" : "acknowledge_alert";
    const s_kind_t *kind = s_kind (PMO__REGISTER_KIND__REGISTER_KIND_ALERT);
    uint64_t version;
    char *division;
    Pmo__Alert *alert =
        (Pmo__Alert *)s_fetch (self, req, kind, action->id,
                               pmo_arena_printf (req->arena, "%s.id", field), &version, &division);
    if (!alert)
        return;
    if (!pmo_request_may (req, riskmon_roles (), RISKMON_ALERTS, alert->org_unit_path,
                          resolve ? "resolve alerts" : "acknowledge alerts"))
        return;
    if (s_replayed (self, req, division))
        return;
    if (!pmo_request_version_matches (req, pmo_arena_printf (req->arena, "%s.version", field),
                                      "alert", action->version, version))
        return;
    if (action->note && (strlen (action->note) > 4000 || !pmo_text_valid (action->note)))
        return (void)FAIL (req, INVALID, pmo_arena_printf (req->arena, "%s.note", field),
                           "note is text of at most 4000 characters");
    if (alert->state == PMO__ALERT_STATE__ALERT_STATE_RESOLVED)
        return (void)FAIL (req, FAILED_PRECONDITION, pmo_arena_printf (req->arena, "%s.id", field),
                           "alert %s is resolved", alert->id);
    if (!resolve && alert->state == PMO__ALERT_STATE__ALERT_STATE_ACKNOWLEDGED)
        return (void)FAIL (req, FAILED_PRECONDITION, pmo_arena_printf (req->arena, "%s.id", field),
                           "alert %s was already acknowledged by %s", alert->id,
                           alert->acknowledged_by);
    int64_t now = s_now (self);
    pmo_commit_t *commit = riskmon_store_commit (division, req->header->request_id);
    if (resolve) {
        alert->state = PMO__ALERT_STATE__ALERT_STATE_RESOLVED;
        alert->resolved_ms = now;
        alert->resolved_by = (char *)pmo_request_who (req)->subject;
        alert->resolution = pmo_str_empty (action->note) ? "resolved" : action->note;
        //  The project's record keeps the alert as suppressed while its
        //  condition holds, so it is not raised again until it clears
        uint64_t ph_version;
        Pmo__ProjectHealth *ph =
            s_project (self, req, alert->project_id, "resolve_alert.id", &ph_version);
        if (!ph) {
            pmo_commit_destroy (&commit);
            return;
        }
        bool found = false;
        for (size_t i = 0; i < ph->n_alerts; i++)
            if (streq (ph->alerts[i]->alert_id, alert->id)) {
                ph->alerts[i]->suppressed = true;
                found = true;
            }
        if (found) {
            ph->version = ph_version + 1;
            riskmon_store_put (commit, req->arena,
                               riskmon_key_project (req->arena, division, alert->project_id),
                               &ph->base, ph_version, ph_version + 1);
        }
    } else {
        alert->state = PMO__ALERT_STATE__ALERT_STATE_ACKNOWLEDGED;
        alert->acknowledged_ms = now;
        alert->acknowledged_by = (char *)pmo_request_who (req)->subject;
    }
    alert->next_escalation_ms = 0;
    alert->version = version + 1;
    alert->updated_ms = now;
    pmo_commit_zrem (commit, riskmon_key_escalations (req->arena, division), alert->id);
    s_put_entry (req, commit, kind, division, &alert->base, version);
    s_change_t change = {0};
    s_change_add (req->arena, commit, &change, division,
                  s_entry_event (req, kind, resolve ? "resolved" : "acknowledged", division,
                                 &alert->base, now));
    pmo_reflect_set_oneof (req->reply, "alert", &alert->base);
    s_commit (self, req, commit, division, &change);
}

static void s_handle_set_thresholds (riskmon_t *self, pmo_request_t *req, Pmo__Thresholds *own)
{
    const char *hub = riskmon_store_hub (self->store);
    const Pmo__OrgUnit *unit = s_unit_for (self, req->arena, own->org_unit);
    if (!unit)
        return (void)FAIL (req, NOT_FOUND, "set_thresholds.org_unit", "no org unit '%s'",
                           own->org_unit ? own->org_unit : "");
    if (!pmo_request_may (req, riskmon_roles (), RISKMON_CONFIGURE, unit->path,
                          "set health thresholds"))
        return;
    if (s_replayed (self, req, hub))
        return;
    if (unit->pmo_type == PMO__PMO_TYPE__PMO_TYPE_NONE)
        return (void)FAIL (req, FAILED_PRECONDITION, "set_thresholds.org_unit",
                           "'%s' is not a PMO unit; thresholds are set by PMO units", unit->id);
    pmo_problem_t problem;
    if (riskmon_thresholds_check (own, &problem))
        return pmo_request_fail_problem (req, &problem, "set_thresholds");
    //  What the unit inherits, and what would be in force with this set
    Pmo__Thresholds inherited, effective;
    s_thresholds_reload (self);
    char *parts[32];
    size_t depth = s_path_split (req->arena, unit->path, parts, 32);
    s_effective (self, req->arena, unit->path, (int)depth - 1, &inherited, NULL);
    effective = inherited;
    riskmon_thresholds_merge (&effective, own);
    if (riskmon_thresholds_consistent (&effective, &problem) ||
        riskmon_thresholds_tightens (&inherited, &effective,
                                     s_pmo_above (self, req->arena, unit->path), &problem))
        return pmo_request_fail_problem (req, &problem, "set_thresholds");
    ProtobufCMessage *stored;
    uint64_t version;
    char *key = riskmon_key_thresholds (req->arena, hub, unit->id);
    if (riskmon_store_get (self->store, req->arena, key, &pmo__thresholds__descriptor, &stored,
                           &version) < 0)
        return pmo_request_unavailable (req, STORE_NAME);
    if (!pmo_request_version_matches (req, "set_thresholds.version", "thresholds", own->version,
                                      version))
        return;
    int64_t now = s_now (self);
    own->org_unit = unit->id;
    own->version = version + 1;
    own->updated_ms = now;
    own->updated_by = (char *)pmo_request_who (req)->subject;
    pmo_commit_t *commit = riskmon_store_commit (hub, req->header->request_id);
    riskmon_store_put (commit, req->arena, key, &own->base, version, version + 1);
    pmo_commit_zadd (commit, riskmon_key_thresholds_index (req->arena, hub), 0, unit->id);
    s_change_t change = {0};
    s_change_add (req->arena, commit, &change, hub,
                  s_event (req->arena, "thresholds.updated", hub, unit->id, unit->path, unit->id,
                           own->version, pmo_request_who (req)->subject, req->header->request_id,
                           "thresholds", &own->base, now));
    pmo_reflect_set_oneof (req->reply, "thresholds", &own->base);
    s_commit (self, req, commit, hub, &change);
    if (pmo_request_failed (req) || req->raw_reply)
        return;
    //  Health under the new thresholds: every project of the subtree is
    //  looked at again by the next sweep
    s_thresholds_reload (self);
    for (size_t i = 0; i < self->n_streams; i++)
        if (streq (unit->id, hub) || streq (unit->division, self->divisions[i]))
            riskmon_store_due_all (self->store, req->arena, self->divisions[i], 1);
}

static void s_handle_get_thresholds (riskmon_t *self, pmo_request_t *req,
                                     Pmo__ThresholdsRequest *get)
{
    const char *hub = riskmon_store_hub (self->store);
    const char *id = pmo_str_empty (get->org_unit) ? hub : get->org_unit;
    const Pmo__OrgUnit *unit = s_unit_for (self, req->arena, id);
    if (!unit)
        return (void)FAIL (req, NOT_FOUND, "get_thresholds.org_unit", "no org unit '%s'", id);
    s_thresholds_reload (self);
    Pmo__Thresholds *t = pmo_arena_alloc (req->arena, sizeof (Pmo__Thresholds));
    char *from;
    s_effective (self, req->arena, unit->path, -1, t, &from);
    t->org_unit = unit->id;
    Pmo__Thresholds *own = zhashx_lookup (self->thresholds, unit->id);
    t->version = own ? own->version : 0;
    if (*from)
        t->updated_by = pmo_arena_printf (req->arena, "inherited from: %s", from);
    pmo_reflect_set_oneof (req->reply, "thresholds", &t->base);
}

static void s_handle_ping (riskmon_t *self, pmo_request_t *req)
{
    pmo_request_pong (req, "riskmon", self->redis, self->started_ms);
}

static void s_handle_stats (riskmon_t *self, pmo_request_t *req)
{
    Pmo__RiskmonStats *stats = pmo_arena_alloc (req->arena, sizeof (Pmo__RiskmonStats));
    pmo__riskmon_stats__init (stats);
    stats->events_applied = self->applied;
    stats->events_ignored = self->ignored;
    stats->events_duplicate = self->duplicate;
    stats->health_changes = self->health_changes;
    stats->sweeps = self->sweeps;
    stats->swept_projects = self->swept;
    stats->alerts_raised = self->alerts_raised;
    stats->escalations = self->escalations;
    stats->streams = self->streams;
    stats->n_streams = self->n_streams;
    pmo_reflect_set_oneof (req->reply, "stats", &stats->base);
}

//  ---------------------------------------------------------------------
//  Dispatch

static void s_handle (void *state, pmo_request_t *req)
{
    riskmon_t *self = state;
    Pmo__RiskmonRequest *r = (Pmo__RiskmonRequest *)req->request;
    switch (r->body_case) {
    case PMO__RISKMON_REQUEST__BODY_CREATE_RISK:
        return s_handle_create_entry (self, req, &r->create_risk->base, "create_risk");
    case PMO__RISKMON_REQUEST__BODY_UPDATE_RISK:
        return s_handle_update_entry (self, req, &r->update_risk->base, "update_risk");
    case PMO__RISKMON_REQUEST__BODY_CREATE_ISSUE:
        return s_handle_create_entry (self, req, &r->create_issue->base, "create_issue");
    case PMO__RISKMON_REQUEST__BODY_UPDATE_ISSUE:
        return s_handle_update_entry (self, req, &r->update_issue->base, "update_issue");
    case PMO__RISKMON_REQUEST__BODY_CREATE_CHANGE:
        return s_handle_create_entry (self, req, &r->create_change->base, "create_change");
    case PMO__RISKMON_REQUEST__BODY_UPDATE_CHANGE:
        return s_handle_update_entry (self, req, &r->update_change->base, "update_change");
    case PMO__RISKMON_REQUEST__BODY_CREATE_RAID:
        return s_handle_create_entry (self, req, &r->create_raid->base, "create_raid");
    case PMO__RISKMON_REQUEST__BODY_UPDATE_RAID:
        return s_handle_update_entry (self, req, &r->update_raid->base, "update_raid");
    case PMO__RISKMON_REQUEST__BODY_CLOSE:
        return s_handle_close (self, req, r->close);
    case PMO__RISKMON_REQUEST__BODY_GET:
        return s_handle_get (self, req, r->get);
    case PMO__RISKMON_REQUEST__BODY_LIST:
        return s_handle_list (self, req, r->list);
    case PMO__RISKMON_REQUEST__BODY_HEALTH:
        return s_handle_health (self, req, r->health);
    case PMO__RISKMON_REQUEST__BODY_ROLLUP:
        return s_handle_rollup (self, req, r->rollup);
    case PMO__RISKMON_REQUEST__BODY_ACKNOWLEDGE_ALERT:
        return s_handle_alert_action (self, req, r->acknowledge_alert, false);
    case PMO__RISKMON_REQUEST__BODY_RESOLVE_ALERT:
        return s_handle_alert_action (self, req, r->resolve_alert, true);
    case PMO__RISKMON_REQUEST__BODY_SET_THRESHOLDS:
        return s_handle_set_thresholds (self, req, r->set_thresholds);
    case PMO__RISKMON_REQUEST__BODY_GET_THRESHOLDS:
        return s_handle_get_thresholds (self, req, r->get_thresholds);
    case PMO__RISKMON_REQUEST__BODY_PING:
        return s_handle_ping (self, req);
    case PMO__RISKMON_REQUEST__BODY_STATS:
        return s_handle_stats (self, req);
    default:
        FAIL (req, UNSUPPORTED, "body", "unknown request type");
    }
}

//  ---------------------------------------------------------------------
//  The actor

static void s_destroy (riskmon_t *self)
{
    pmo_server_destroy (&self->server);
    zsock_destroy (&self->pub);
    zsock_destroy (&self->wake);
    pmo_client_destroy (&self->registry);
    orgtree_destroy (&self->tree);
    zhashx_destroy (&self->thresholds);
    zhashx_destroy (&self->alert_ids);
    for (size_t i = 0; i < self->n_streams; i++) {
        free (self->streams[i]);
        free (self->divisions[i]);
    }
    zhashx_destroy (&self->batch_alerts);
    riskmon_store_destroy (&self->side);
    pmo_redis_destroy (&self->side_redis);
    riskmon_store_destroy (&self->store);
    pmo_redis_destroy (&self->redis);
    pmo_arena_destroy (&self->work);
}

static int s_start (riskmon_t *self)
{
    self->redis = pmo_redis_new (self->config.redis_url, self->config.redis_timeout_ms);
    if (!self->redis) {
        pmo_error ("riskmon: bad redis url");
        return -1;
    }
    self->store = riskmon_store_new (self->redis, self->config.hub);
    self->side_redis = pmo_redis_new (self->config.redis_url, self->config.redis_timeout_ms);
    assert (self->side_redis);
    self->side = riskmon_store_new (self->side_redis, self->config.hub);
    self->batch_alerts = zhashx_new ();
    self->work = pmo_arena_new ();
    self->thresholds = zhashx_new ();
    zhashx_set_destructor (self->thresholds, s_free_message);
    self->alert_ids = zhashx_new ();
    zhashx_set_destructor (self->alert_ids, s_free_ids);
    pmo__identity__init (&self->identity);
    pmo__grant__init (&self->grant);
    self->identity.subject = "riskmon";
    self->grant.role = PMO__ROLE__ROLE_VIEWER;
    self->grant.org_unit = (char *)self->config.hub;
    self->grants[0] = &self->grant;
    self->identity.grants = self->grants;
    self->identity.n_grants = 1;
    self->registry = pmo_client_new (self->config.registry);
    if (!self->registry) {
        pmo_error ("riskmon: bad registry endpoint=%s", self->config.registry);
        return -1;
    }
    orgtree_config_t tree_config = {.registry = self->config.registry,
                                    .identity = &self->identity,
                                    .timeout_ms = UNITS_TIMEOUT_MS,
                                    .max_age_ms = UNITS_REFRESH_MS};
    self->tree = orgtree_new (&tree_config);
    if (!self->tree) {
        pmo_error ("riskmon: bad registry endpoint=%s", self->config.registry);
        return -1;
    }
    pmo_server_config_t server_config = {
        .name = "riskmon",
        .request_desc = &pmo__riskmon_request__descriptor,
        .reply_desc = &pmo__riskmon_reply__descriptor,
        .handler = s_handle,
        .state = self,
    };
    self->server = pmo_server_new (&server_config, self->config.endpoint);
    self->pub = zsock_new (ZMQ_PUB);
    assert (self->pub);
    zsock_set_sndhwm (self->pub, 100000);
    if (!self->server || zsock_bind (self->pub, "%s", self->config.pub_endpoint) < 0) {
        pmo_error ("riskmon: cannot bind endpoint=%s pub=%s", self->config.endpoint,
                   self->config.pub_endpoint);
        return -1;
    }
    if (!pmo_str_empty (self->config.wake)) {
        self->wake = zsock_new (ZMQ_SUB);
        assert (self->wake);
        zsock_set_subscribe (self->wake, "");
        //  Only a wake-up: a few queued are as good as many
        zsock_set_rcvhwm (self->wake, 1000);
        char *list = strdup (self->config.wake);
        char *save = NULL;
        for (char *ep = strtok_r (list, ",", &save); ep; ep = strtok_r (NULL, ",", &save))
            if (zsock_connect (self->wake, "%s", ep) < 0)
                pmo_warn ("riskmon: cannot subscribe endpoint=%s", ep);
        free (list);
    }
    return 0;
}

//  Start reading every division remembered, then ask the registry.
static void s_discover (riskmon_t *self)
{
    pmo_arena_t *arena = pmo_arena_new ();
    char **list;
    size_t n;
    if (s_stream_add (self, self->config.hub) == 0 &&
        riskmon_store_divisions (self->store, arena, &list, &n) == 0)
        for (size_t i = 0; i < n; i++)
            s_stream_add (self, list[i]);
    pmo_arena_destroy (&arena);
    s_units_sync (self);
}

void riskmon_server_actor (zsock_t *pipe, void *args)
{
    riskmon_t self = {.config = *(riskmon_config_t *)args};
    self.started_ms = pmo_now_ms ();
    if (self.config.batch <= 0)
        self.config.batch = 512;
    if (self.config.poll_ms <= 0)
        self.config.poll_ms = 200;
    if (self.config.tick_ms <= 0)
        self.config.tick_ms = 1000;
    if (self.config.sweep_budget_ms <= 0)
        self.config.sweep_budget_ms = 250;
    if (self.config.claim_idle_ms <= 0)
        self.config.claim_idle_ms = 30000;
    if (pmo_str_empty (self.config.consumer))
        self.config.consumer = "riskmon-1";
    if (s_start (&self)) {
        s_destroy (&self);
        ((riskmon_config_t *)args)->failed = true;
        zsock_signal (pipe, 1);
        return;
    }
    pmo_redis_ready (self.redis);
    pmo_info ("riskmon: ready endpoint=%s pub=%s redis=%s hub=%s registry=%s consumer=%s",
              self.config.endpoint, self.config.pub_endpoint, pmo_redis_safe_url (self.redis),
              self.config.hub, self.config.registry, self.config.consumer);
    zsock_signal (pipe, 0);
    s_discover (&self);

    zpoller_t *poller = zpoller_new (pipe, pmo_server_socket (self.server), NULL);
    if (self.wake)
        zpoller_add (poller, self.wake);
    int64_t next_read = 0, next_tick = 0;
    bool running = true;
    while (running) {
        int64_t now = pmo_mono_ms ();
        int64_t wait = (next_read < next_tick ? next_read : next_tick) - now;
        if (wait < 0)
            wait = 0;
        if (wait > 1000)
            wait = 1000;
        void *which = zpoller_wait (poller, (int)wait);
        if (which == pipe) {
            char *command = zstr_recv (pipe);
            running = !(command && streq (command, "$TERM"));
            zstr_free (&command);
            continue;
        }
        if (which == pmo_server_socket (self.server))
            pmo_server_drain (self.server, 256);
        else if (which && which == self.wake) {
            //  Something was committed upstream: read now
            while (zsock_events (self.wake) & ZMQ_POLLIN) {
                zmsg_t *msg = zmsg_recv (self.wake);
                zmsg_destroy (&msg);
            }
            next_read = 0;
        } else if (zpoller_terminated (poller))
            break;
        now = pmo_mono_ms ();
        if (now >= self.units_next_ms)
            s_units_sync (&self);
        if (now >= next_read) {
            int read = s_consume (&self);
            //  A full batch: more is waiting (requests are served between)
            next_read = read >= self.config.batch ? now : now + self.config.poll_ms;
        }
        if (now >= next_tick) {
            s_sweep (&self, self.config.sweep_budget_ms);
            s_escalate (&self);
            next_tick = pmo_mono_ms () + self.config.tick_ms;
        }
    }
    pmo_server_drain (self.server, 100000);
    const pmo_server_stats_t *stats = pmo_server_stats (self.server);
    pmo_info ("riskmon: stopping requests=%llu errors=%llu applied=%llu duplicate=%llu",
              (unsigned long long)stats->requests, (unsigned long long)stats->errors,
              (unsigned long long)self.applied, (unsigned long long)self.duplicate);
    zpoller_destroy (&poller);
    s_destroy (&self);
}
