/*  pmo_reflect.c: field access by name through protobuf-c descriptors. */
#include "pmo_reflect.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#define S_FIELD_CACHE 256 //  entries per thread, a power of two

typedef struct {
    const ProtobufCMessageDescriptor *desc;
    const char *name;
    const ProtobufCFieldDescriptor *field;
} cached_field_t;

static _Thread_local cached_field_t s_fields[S_FIELD_CACHE];

const ProtobufCFieldDescriptor *pmo_reflect_field (const ProtobufCMessageDescriptor *desc,
                                                   const char *name)
{
    uintptr_t hash = (uintptr_t)desc * 31 + (uintptr_t)name;
    hash ^= hash >> 7;
    hash ^= hash >> 13;
    cached_field_t *cached = &s_fields[hash & (S_FIELD_CACHE - 1)];
    if (cached->desc == desc && cached->name == name && strcmp (cached->field->name, name) == 0)
        return cached->field;
    const ProtobufCFieldDescriptor *field =
        protobuf_c_message_descriptor_get_field_by_name (desc, name);
    if (field)
        *cached = (cached_field_t){desc, name, field};
    return field;
}

static const ProtobufCFieldDescriptor *s_field (const ProtobufCMessage *msg, const char *name,
                                                ProtobufCType type)
{
    const ProtobufCFieldDescriptor *field = pmo_reflect_field (msg->descriptor, name);
    if (field && (field->type != type || field->label == PROTOBUF_C_LABEL_REPEATED))
        return NULL;
    return field;
}

#define SLOT(msg, field, type) ((type *)((char *)(msg) + (field)->offset))

const char *pmo_reflect_str (const ProtobufCMessage *msg, const char *name)
{
    const ProtobufCFieldDescriptor *f = s_field (msg, name, PROTOBUF_C_TYPE_STRING);
    if (!f)
        return "";
    const char *value = *SLOT (msg, f, const char *);
    return value ? value : "";
}

void pmo_reflect_set_str (ProtobufCMessage *msg, const char *name, const char *value,
                          pmo_arena_t *arena)
{
    const ProtobufCFieldDescriptor *f = s_field (msg, name, PROTOBUF_C_TYPE_STRING);
    assert (f);
    *SLOT (msg, f, char *) = pmo_arena_strdup (arena, value);
}

uint64_t pmo_reflect_u64 (const ProtobufCMessage *msg, const char *name)
{
    const ProtobufCFieldDescriptor *f = s_field (msg, name, PROTOBUF_C_TYPE_UINT64);
    return f ? *SLOT (msg, f, uint64_t) : 0;
}

void pmo_reflect_set_u64 (ProtobufCMessage *msg, const char *name, uint64_t value)
{
    const ProtobufCFieldDescriptor *f = s_field (msg, name, PROTOBUF_C_TYPE_UINT64);
    assert (f);
    *SLOT (msg, f, uint64_t) = value;
}

int64_t pmo_reflect_i64 (const ProtobufCMessage *msg, const char *name)
{
    const ProtobufCFieldDescriptor *f = s_field (msg, name, PROTOBUF_C_TYPE_INT64);
    return f ? *SLOT (msg, f, int64_t) : 0;
}

void pmo_reflect_set_i64 (ProtobufCMessage *msg, const char *name, int64_t value)
{
    const ProtobufCFieldDescriptor *f = s_field (msg, name, PROTOBUF_C_TYPE_INT64);
    assert (f);
    *SLOT (msg, f, int64_t) = value;
}

bool pmo_reflect_bool (const ProtobufCMessage *msg, const char *name)
{
    const ProtobufCFieldDescriptor *f = s_field (msg, name, PROTOBUF_C_TYPE_BOOL);
    return f ? *SLOT (msg, f, protobuf_c_boolean) : false;
}

void pmo_reflect_set_bool (ProtobufCMessage *msg, const char *name, bool value)
{
    const ProtobufCFieldDescriptor *f = s_field (msg, name, PROTOBUF_C_TYPE_BOOL);
    assert (f);
    *SLOT (msg, f, protobuf_c_boolean) = value;
}

bool pmo_reflect_has (const ProtobufCMessageDescriptor *desc, const char *name)
{
    return pmo_reflect_field (desc, name) != NULL;
}

void pmo_reflect_set_oneof (ProtobufCMessage *msg, const char *name, ProtobufCMessage *value)
{
    const ProtobufCFieldDescriptor *f = pmo_reflect_field (msg->descriptor, name);
    assert (f && (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) && f->type == PROTOBUF_C_TYPE_MESSAGE);
    *SLOT (msg, f, ProtobufCMessage *) = value;
    *(uint32_t *)((char *)msg + f->quantifier_offset) = f->id;
}

void pmo_reflect_append (ProtobufCMessage *msg, const char *name, ProtobufCMessage *value,
                         pmo_arena_t *arena)
{
    const ProtobufCFieldDescriptor *f = pmo_reflect_field (msg->descriptor, name);
    assert (f && f->label == PROTOBUF_C_LABEL_REPEATED && f->type == PROTOBUF_C_TYPE_MESSAGE);
    size_t *count = (size_t *)((char *)msg + f->quantifier_offset);
    ProtobufCMessage ***items = SLOT (msg, f, ProtobufCMessage **);
    //  Grow by doubling; the arena never frees, so copy to a larger array
    size_t n = *count;
    if ((n & (n - 1)) == 0) {
        ProtobufCMessage **bigger = pmo_arena_alloc (arena, (n ? n * 2 : 1) * sizeof (void *));
        if (n)
            memcpy (bigger, *items, n * sizeof (void *));
        *items = bigger;
    }
    (*items)[n] = value;
    *count = n + 1;
}

uint8_t *pmo_reflect_pack (const ProtobufCMessage *msg, pmo_arena_t *arena, size_t *size)
{
    *size = protobuf_c_message_get_packed_size (msg);
    uint8_t *buffer = pmo_arena_alloc (arena, *size ? *size : 1);
    protobuf_c_message_pack (msg, buffer);
    return buffer;
}

//  A varint into out (room for 10 bytes); returns its length.
static size_t s_varint (uint8_t *out, uint64_t value)
{
    size_t n = 0;
    for (; value >= 0x80; value >>= 7)
        out[n++] = (uint8_t)(value | 0x80);
    out[n++] = (uint8_t)value;
    return n;
}

uint8_t *pmo_reflect_pack_with (ProtobufCMessage *msg, const char *name, const uint8_t *packed,
                                size_t packed_size, pmo_arena_t *arena, size_t *size)
{
    const ProtobufCFieldDescriptor *f = pmo_reflect_field (msg->descriptor, name);
    assert (f && f->type == PROTOBUF_C_TYPE_MESSAGE && f->label != PROTOBUF_C_LABEL_REPEATED);
    ProtobufCMessage **slot = SLOT (msg, f, ProtobufCMessage *);
    assert (*slot);
    //  Field f, wire type 2 (length-delimited): tag, length, bytes
    uint8_t head[20];
    size_t head_size = s_varint (head, (uint64_t)f->id << 3 | 2);
    head_size += s_varint (head + head_size, packed_size);
    ProtobufCMessage *held = *slot;
    *slot = NULL; //  protobuf-c packs no message field (oneof member or not) that is NULL
    size_t outer = protobuf_c_message_get_packed_size (msg);
    uint8_t *buffer = pmo_arena_alloc (arena, outer + head_size + packed_size);
    protobuf_c_message_pack (msg, buffer);
    *slot = held;
    memcpy (buffer + outer, head, head_size);
    memcpy (buffer + outer + head_size, packed, packed_size);
    *size = outer + head_size + packed_size;
    return buffer;
}

ProtobufCMessage *pmo_reflect_copy (const ProtobufCMessage *msg, pmo_arena_t *arena)
{
    size_t size;
    uint8_t *packed = pmo_reflect_pack (msg, arena, &size);
    return protobuf_c_message_unpack (msg->descriptor, pmo_arena_allocator (arena), size, packed);
}

ProtobufCMessage *pmo_reflect_dup (const ProtobufCMessage *msg)
{
    size_t size = protobuf_c_message_get_packed_size (msg);
    uint8_t *packed = malloc (size ? size : 1);
    assert (packed);
    protobuf_c_message_pack (msg, packed);
    ProtobufCMessage *copy = protobuf_c_message_unpack (msg->descriptor, NULL, size, packed);
    free (packed);
    return copy;
}
