/*  pmo_reflect.h: read and write a message's plain fields by name.

    Services keep common fields under the same names in every entity (id,
    version, org_unit_path, archived, created_ms, updated_ms), so generic code
    (get, list, archive) can handle every kind through the descriptor instead
    of a switch per message type. Strings written here point into the arena.
*/
#ifndef PMO_REFLECT_H_INCLUDED
#define PMO_REFLECT_H_INCLUDED

#include "pmo_util.h"

#include <stdbool.h>
#include <stdint.h>

//  The string field's value, "" if the message has no such field.
const char *pmo_reflect_str (const ProtobufCMessage *msg, const char *name);
void pmo_reflect_set_str (ProtobufCMessage *msg, const char *name, const char *value,
                          pmo_arena_t *arena);
uint64_t pmo_reflect_u64 (const ProtobufCMessage *msg, const char *name);
void pmo_reflect_set_u64 (ProtobufCMessage *msg, const char *name, uint64_t value);
int64_t pmo_reflect_i64 (const ProtobufCMessage *msg, const char *name);
void pmo_reflect_set_i64 (ProtobufCMessage *msg, const char *name, int64_t value);
bool pmo_reflect_bool (const ProtobufCMessage *msg, const char *name);
void pmo_reflect_set_bool (ProtobufCMessage *msg, const char *name, bool value);
//  True if the message type has a field of that name.
bool pmo_reflect_has (const ProtobufCMessageDescriptor *desc, const char *name);
//  The field of desc named name, or NULL: protobuf-c's binary search by
//  name (some 200 instructions, and a request asks for about 25), behind a
//  small cache per thread keyed by the descriptor and the name's address;
//  a hit is checked against the field's own name, so a reused buffer
//  holding another name is looked up again.
const ProtobufCFieldDescriptor *pmo_reflect_field (const ProtobufCMessageDescriptor *desc,
                                                   const char *name);

//  Set the oneof member `name` of msg to value (a message), clearing the case.
void pmo_reflect_set_oneof (ProtobufCMessage *msg, const char *name, ProtobufCMessage *value);
//  Append value to the repeated message field `name`, growing it in the arena.
void pmo_reflect_append (ProtobufCMessage *msg, const char *name, ProtobufCMessage *value,
                         pmo_arena_t *arena);
//  Pack into the arena.
uint8_t *pmo_reflect_pack (const ProtobufCMessage *msg, pmo_arena_t *arena, size_t *size);
//  Pack msg into the arena with its message field `name` taken as already
//  packed (packed, size packed_size) instead of packed again: msg is packed
//  without the field, then the field is appended (tag, length, bytes), as
//  protobuf allows fields in any order. The same bytes as pmo_reflect_pack
//  once unpacked; used where one entity is packed into the commit, its
//  event and the reply. The field must be set (a oneof's member or a plain
//  message field); msg is left as it was.
uint8_t *pmo_reflect_pack_with (ProtobufCMessage *msg, const char *name, const uint8_t *packed,
                                size_t packed_size, pmo_arena_t *arena, size_t *size);
//  A deep copy in the arena.
ProtobufCMessage *pmo_reflect_copy (const ProtobufCMessage *msg, pmo_arena_t *arena);
//  A deep copy on the heap, for what outlives an arena (freed with
//  protobuf_c_message_free_unpacked). NULL if it could not be unpacked.
ProtobufCMessage *pmo_reflect_dup (const ProtobufCMessage *msg);

#endif
