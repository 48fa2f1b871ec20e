/*  federation_model.c: stream id order, spoke state and the roll-up. */
#include "federation_model.h"
#include "pmo_json.h"
#include "pmo_reflect.h"
#include "pmo_wire.h"

#include <errno.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//  Split a stream id; false if it is not "<digits>-<digits>".
static bool s_id_parts (const char *id, unsigned long long *ms, unsigned long long *seq)
{
    if (!id || !*id)
        return false;
    char *end;
    errno = 0;
    *ms = strtoull (id, &end, 10);
    if (end == id || *end != '-' || errno)
        return false;
    const char *rest = end + 1;
    *seq = strtoull (rest, &end, 10);
    return end != rest && *end == 0 && errno == 0 && *id != '-' && *rest != '-';
}

bool federation_stream_id_valid (const char *id)
{
    unsigned long long ms, seq;
    return s_id_parts (id, &ms, &seq);
}

int federation_stream_id_cmp (const char *a, const char *b)
{
    unsigned long long ams = 0, aseq = 0, bms = 0, bseq = 0;
    if (!s_id_parts (a, &ams, &aseq))
        ams = aseq = 0;
    if (!s_id_parts (b, &bms, &bseq))
        bms = bseq = 0;
    if (ams != bms)
        return ams < bms ? -1 : 1;
    if (aseq != bseq)
        return aseq < bseq ? -1 : 1;
    return 0;
}

int64_t federation_stream_id_ms (const char *id)
{
    unsigned long long ms, seq;
    return s_id_parts (id, &ms, &seq) ? (int64_t)ms : 0;
}

bool federation_division_allowed (char *const *divisions, size_t n, const char *division)
{
    for (size_t i = 0; i < n; i++)
        if (division && strcmp (divisions[i], division) == 0)
            return true;
    return false;
}

int federation_divisions_parse (const char *text, pmo_arena_t *arena, char ***divisions, size_t *n,
                                size_t max)
{
    *divisions = pmo_arena_alloc (arena, (max + 1) * sizeof (char *));
    *n = 0;
    char *copy = pmo_arena_strdup (arena, text ? text : "");
    char *save = NULL;
    for (char *one = strtok_r (copy, ", ", &save); one; one = strtok_r (NULL, ", ", &save)) {
        if (*n == max || !pmo_slug_valid (one, 2, 32))
            return -1;
        if (!federation_division_allowed (*divisions, *n, one))
            (*divisions)[(*n)++] = one;
    }
    return *n ? 0 : -1;
}

Pmo__SpokeState federation_spoke_state (int64_t now_ms, int64_t last_seen_ms,
                                        uint64_t backlog_entries, int64_t behind_ms,
                                        const federation_thresholds_t *thresholds)
{
    if (last_seen_ms <= 0 || now_ms - last_seen_ms > thresholds->down_ms)
        return PMO__SPOKE_STATE__SPOKE_STATE_DOWN;
    //  A backlog alone is not lag: under steady load a few events always
    //  wait. Lagging means they wait longer than the threshold.
    if (backlog_entries > 0 && behind_ms > thresholds->lag_ms)
        return PMO__SPOKE_STATE__SPOKE_STATE_LAGGING;
    return PMO__SPOKE_STATE__SPOKE_STATE_CONNECTED;
}

const char *federation_entity_field (const Pmo__Event *event, pmo_arena_t *arena)
{
    if (event->body_case == PMO__EVENT__BODY__NOT_SET || pmo_str_empty (event->entity_id))
        return NULL;
    const char *kind = pmo_wire_oneof_name (&event->base);
    if (!*kind)
        return NULL;
    return pmo_arena_printf (arena, "%s:%s", kind, event->entity_id);
}

void federation_counts_add (federation_counts_t *self, pmo_arena_t *arena, const char *key,
                            uint64_t delta)
{
    for (size_t i = 0; i < self->count; i++)
        if (strcmp (self->keys[i], key) == 0) {
            self->values[i] += delta;
            return;
        }
    if (self->count == self->capacity) {
        size_t capacity = self->capacity ? self->capacity * 2 : 8;
        char **keys = pmo_arena_alloc (arena, capacity * sizeof (char *));
        uint64_t *values = pmo_arena_alloc (arena, capacity * sizeof (uint64_t));
        if (self->count) {
            memcpy (keys, self->keys, self->count * sizeof (char *));
            memcpy (values, self->values, self->count * sizeof (uint64_t));
        }
        self->keys = keys;
        self->values = values;
        self->capacity = capacity;
    }
    self->keys[self->count] = pmo_arena_strdup (arena, key);
    self->values[self->count++] = delta;
}

//  The body snapshot of an event (NULL if none).
static const ProtobufCMessage *s_body (const Pmo__Event *event)
{
    const char *name = pmo_wire_oneof_name (&event->base);
    if (!*name)
        return NULL;
    const ProtobufCFieldDescriptor *field =
        protobuf_c_message_descriptor_get_field_by_name (event->base.descriptor, name);
    if (!field || field->type != PROTOBUF_C_TYPE_MESSAGE)
        return NULL;
    return *(const ProtobufCMessage **)((const char *)event + field->offset);
}

//  An enum field's label ("on_hold"); NULL if the message has no such
//  enum field or it is unset (zero: "unspecified").
static const char *s_enum_label (const ProtobufCMessage *msg, const char *name, char *buf,
                                 size_t size)
{
    const ProtobufCFieldDescriptor *field =
        protobuf_c_message_descriptor_get_field_by_name (msg->descriptor, name);
    if (!field || field->type != PROTOBUF_C_TYPE_ENUM || field->label == PROTOBUF_C_LABEL_REPEATED)
        return NULL;
    int value = *(const int *)((const char *)msg + field->offset);
    if (value == 0)
        return NULL;
    return pmo_json_enum_label (field->descriptor, value, buf, size);
}

static uint64_t s_uint (const ProtobufCMessage *msg, const char *name)
{
    const ProtobufCFieldDescriptor *field =
        protobuf_c_message_descriptor_get_field_by_name (msg->descriptor, name);
    if (!field || field->label == PROTOBUF_C_LABEL_REPEATED)
        return 0;
    if (field->type == PROTOBUF_C_TYPE_UINT32)
        return *(const uint32_t *)((const char *)msg + field->offset);
    if (field->type == PROTOBUF_C_TYPE_UINT64)
        return *(const uint64_t *)((const char *)msg + field->offset);
    return 0;
}

//  The first element of a repeated message field, NULL if empty.
static const ProtobufCMessage *s_first (const ProtobufCMessage *msg, const char *name)
{
    const ProtobufCFieldDescriptor *field =
        protobuf_c_message_descriptor_get_field_by_name (msg->descriptor, name);
    if (!field || field->type != PROTOBUF_C_TYPE_MESSAGE ||
        field->label != PROTOBUF_C_LABEL_REPEATED)
        return NULL;
    size_t n = *(const size_t *)((const char *)msg + field->quantifier_offset);
    ProtobufCMessage *const *items =
        *(ProtobufCMessage *const **)((const char *)msg + field->offset);
    return n ? items[0] : NULL;
}

//  The counters an entity adds to its division's roll-up, each given to
//  emit with its delta: "p" projects, "s:<status>", "f:<phase>",
//  "h:<overall RAG>", "a" open alerts, "r" resources, "c:<primary skill>"
//  (weekly hours), "e:<kind>". Archived entities have left the portfolio:
//  they count nowhere. One classification for the full recomputation and
//  for the counters the hub keeps as events arrive, so the two agree.
typedef void (s_emit_fn) (void *ctx, const char *counter, uint64_t delta);

static void s_contributions (const Pmo__Event *event, s_emit_fn *emit, void *ctx)
{
    const ProtobufCMessage *body = s_body (event);
    if (!body || pmo_reflect_bool (body, "archived"))
        return;
    const char *kind = pmo_wire_oneof_name (&event->base);
    char counter[FEDERATION_COUNTER_MAX];
    snprintf (counter, sizeof counter, "e:%s", kind);
    emit (ctx, counter, 1);
    char buf[64];
    const char *label;
    if (strcmp (kind, "project") == 0) {
        emit (ctx, "p", 1);
        if ((label = s_enum_label (body, "status", buf, sizeof buf))) {
            snprintf (counter, sizeof counter, "s:%s", label);
            emit (ctx, counter, 1);
        }
        if ((label = s_enum_label (body, "phase", buf, sizeof buf))) {
            snprintf (counter, sizeof counter, "f:%s", label);
            emit (ctx, counter, 1);
        }
    } else if (strcmp (kind, "health") == 0) {
        if ((label = s_enum_label (body, "overall", buf, sizeof buf))) {
            snprintf (counter, sizeof counter, "h:%s", label);
            emit (ctx, counter, 1);
        }
    } else if (strcmp (kind, "alert") == 0) {
        label = s_enum_label (body, "state", buf, sizeof buf);
        if (!label || (strcmp (label, "resolved") != 0 && strcmp (label, "closed") != 0))
            emit (ctx, "a", 1);
    } else if (strcmp (kind, "resource") == 0) {
        emit (ctx, "r", 1);
        const ProtobufCMessage *skill = s_first (body, "skills");
        const char *name = skill ? pmo_reflect_str (skill, "name") : "";
        snprintf (counter, sizeof counter, "c:%s", *name ? name : "(none)");
        //  The counter travels in a newline-separated list: a skill name
        //  from a spoke must not break it (names are one line anyway)
        for (char *c = counter; *c; c++)
            if ((unsigned char)*c < 0x20)
                *c = '?';
        emit (ctx, counter, s_uint (body, "weekly_capacity_hours"));
    }
}

typedef struct {
    federation_rollup_t *rollup;
    pmo_arena_t *arena;
} s_add_ctx_t;

static void s_emit_add (void *ctx, const char *counter, uint64_t delta)
{
    s_add_ctx_t *add = ctx;
    federation_rollup_counter (add->rollup, add->arena, counter, delta);
}

void federation_rollup_add (federation_rollup_t *self, pmo_arena_t *arena, const Pmo__Event *event)
{
    if (event->time_ms > self->updated_ms)
        self->updated_ms = event->time_ms;
    s_add_ctx_t ctx = {self, arena};
    s_contributions (event, s_emit_add, &ctx);
}

bool federation_rollup_counter (federation_rollup_t *self, pmo_arena_t *arena, const char *counter,
                                uint64_t value)
{
    if (strcmp (counter, "p") == 0)
        self->projects += value;
    else if (strcmp (counter, "a") == 0)
        self->open_alerts += value;
    else if (strcmp (counter, "r") == 0)
        self->resources += value;
    else if (strncmp (counter, "s:", 2) == 0)
        federation_counts_add (&self->by_status, arena, counter + 2, value);
    else if (strncmp (counter, "f:", 2) == 0)
        federation_counts_add (&self->by_phase, arena, counter + 2, value);
    else if (strncmp (counter, "h:", 2) == 0)
        federation_counts_add (&self->health, arena, counter + 2, value);
    else if (strncmp (counter, "c:", 2) == 0)
        federation_counts_add (&self->capacity, arena, counter + 2, value);
    else if (strncmp (counter, "e:", 2) == 0)
        federation_counts_add (&self->entities, arena, counter + 2, value);
    else
        return false;
    return true;
}

typedef struct {
    char *text;
    size_t len;
    size_t cap;
    pmo_arena_t *arena;
} s_text_t;

static void s_emit_text (void *ctx, const char *counter, uint64_t delta)
{
    s_text_t *out = ctx;
    char number[24];
    int digits = snprintf (number, sizeof number, "%llu", (unsigned long long)delta);
    size_t need = out->len + strlen (counter) + (size_t)digits + 3;
    if (need > out->cap) {
        size_t cap = need * 2;
        char *grown = pmo_arena_alloc (out->arena, cap);
        memcpy (grown, out->text, out->len);
        out->text = grown;
        out->cap = cap;
    }
    out->len += (size_t)sprintf (out->text + out->len, "%s\n%s\n", counter, number);
}

const char *federation_rollup_contribution (const Pmo__Event *event, pmo_arena_t *arena)
{
    s_text_t out = {pmo_arena_alloc (arena, 128), 0, 128, arena};
    out.text[0] = 0;
    s_contributions (event, s_emit_text, &out);
    return out.text;
}

static void s_merge_counts (federation_counts_t *into, pmo_arena_t *arena,
                            const federation_counts_t *from)
{
    for (size_t i = 0; i < from->count; i++)
        federation_counts_add (into, arena, from->keys[i], from->values[i]);
}

void federation_rollup_merge (federation_rollup_t *self, pmo_arena_t *arena,
                              const federation_rollup_t *other)
{
    self->projects += other->projects;
    self->open_alerts += other->open_alerts;
    self->resources += other->resources;
    s_merge_counts (&self->by_status, arena, &other->by_status);
    s_merge_counts (&self->by_phase, arena, &other->by_phase);
    s_merge_counts (&self->health, arena, &other->health);
    s_merge_counts (&self->capacity, arena, &other->capacity);
    s_merge_counts (&self->entities, arena, &other->entities);
    if (other->updated_ms > self->updated_ms)
        self->updated_ms = other->updated_ms;
}

static Pmo__Count **s_counts (const federation_counts_t *counts, pmo_arena_t *arena, size_t *n)
{
    *n = counts->count;
    Pmo__Count **out = pmo_arena_alloc (arena, (counts->count + 1) * sizeof (Pmo__Count *));
    for (size_t i = 0; i < counts->count; i++) {
        out[i] = pmo_arena_alloc (arena, sizeof (Pmo__Count));
        pmo__count__init (out[i]);
        out[i]->key = counts->keys[i];
        out[i]->value = counts->values[i];
    }
    return out;
}

Pmo__DivisionRollup *federation_rollup_message (const federation_rollup_t *self, pmo_arena_t *arena,
                                                const char *division, const char *spoke)
{
    Pmo__DivisionRollup *msg = pmo_arena_alloc (arena, sizeof (Pmo__DivisionRollup));
    pmo__division_rollup__init (msg);
    msg->division = pmo_arena_strdup (arena, division ? division : "");
    msg->spoke = pmo_arena_strdup (arena, spoke ? spoke : "");
    msg->projects = self->projects;
    msg->projects_by_status = s_counts (&self->by_status, arena, &msg->n_projects_by_status);
    msg->projects_by_phase = s_counts (&self->by_phase, arena, &msg->n_projects_by_phase);
    msg->health = s_counts (&self->health, arena, &msg->n_health);
    msg->open_alerts = self->open_alerts;
    msg->capacity_by_skill = s_counts (&self->capacity, arena, &msg->n_capacity_by_skill);
    msg->resources = self->resources;
    msg->entities = s_counts (&self->entities, arena, &msg->n_entities);
    msg->updated_ms = self->updated_ms;
    return msg;
}
