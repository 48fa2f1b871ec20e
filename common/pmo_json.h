/*  =========================================================================
    pmo_json - any protobuf-c message to and from JSON

    The mapping is driven by the message descriptor alone, so every message
    in proto/ gets JSON for free (pmoctl output, the gateway, test fixtures)
    and no per-message code can drift from the .proto files.

    Mapping:
    - Keys are the .proto field names as written (snake_case).
    - Every scalar field is written, default values included, so scripts
      see a stable shape. Repeated fields are always written ([] if empty).
      Unset sub-messages are left out; of a oneof only the set member is
      written. proto2/proto3 `optional` scalars are written only when set.
    - 32-bit integers are JSON integers. 64-bit integers are JSON integers
      too: JavaScript loses precision beyond 2^53, which our money (minor
      units) and times (Unix ms) stay well inside. A uint64 above INT64_MAX
      does not fit a JSON integer here and is written as a decimal string.
    - float/double are JSON reals; NaN and infinities are the strings
      "NaN", "Infinity" and "-Infinity" (as in proto3 JSON).
    - Enums are short lowercase labels: the value name without the enum's
      common prefix (PROJECT_STATUS_ON_HOLD -> "on_hold"). A value the
      descriptor does not know is written as its integer.
    - bytes are standard base64 with padding.

    Reading is strict: unknown keys, wrong JSON types, out-of-range
    numbers, unknown enum labels or values, bad base64, strings with NUL
    characters and a second member of a oneof are all errors naming the
    field path. null means "leave the default". 64-bit integers may also
    be given as decimal strings; enums as the short label, the full value
    name (case-insensitive) or a known integer value.
    =========================================================================
*/

#ifndef PMO_JSON_H_INCLUDED
#define PMO_JSON_H_INCLUDED

#include <stddef.h>
#include <jansson.h>
#include <protobuf-c/protobuf-c.h>

#ifdef __cplusplus
extern "C" {
#endif

//  Deepest message nesting converted either way (the root message is 1).
#define PMO_JSON_MAX_DEPTH 32

//  Why a conversion failed: the path of the offending field, e.g.
//  "create_project.budget.baseline.minor" or "depends_on[2]" ("" for the
//  whole document), and a message for people. Both are always terminated.
typedef struct {
    char field[256];
    char message[256];
} pmo_json_error_t;

//  Convert a message to a new JSON object. Caller owns the result and
//  releases it with json_decref. Returns NULL when out of memory, when a
//  string field is not valid UTF-8 or when nesting exceeds PMO_JSON_MAX_DEPTH.
json_t *pmo_json_from_message (const ProtobufCMessage *msg);

//  Serialize a message as compact JSON text. Caller owns the result and
//  frees it with free(). Returns NULL on the same failures as
//  pmo_json_from_message.
char *pmo_json_encode (const ProtobufCMessage *msg);

//  Build a message of type `desc` from a JSON object, which stays owned by
//  the caller. On success returns 0 and sets *out to a new message that the
//  caller owns and frees with protobuf_c_message_free_unpacked (*out, NULL).
//  On failure returns -1, leaves *out NULL and, if err is not NULL, fills it
//  with the field path and a message such as "expected an integer, got
//  string".
int pmo_json_to_message (const ProtobufCMessageDescriptor *desc, const json_t *json,
                         ProtobufCMessage **out, pmo_json_error_t *err);

//  Parse `len` bytes of JSON text, then convert as pmo_json_to_message does.
//  Duplicate keys are rejected. A parse error returns -1 with field "" and a
//  message that names the line and column.
int pmo_json_decode (const ProtobufCMessageDescriptor *desc, const char *text, size_t len,
                     ProtobufCMessage **out, pmo_json_error_t *err);

//  Write the label of enum value `value` into buf: the value name without
//  the enum's common prefix, lowercased (PHASE_EXECUTION -> "execution",
//  ROLE_PMO_MANAGER -> "pmo_manager"). The prefix is the longest common
//  prefix of all value names that ends at an underscore. Returns buf, or
//  NULL if the enum has no such value or the label does not fit in `size`.
const char *pmo_json_enum_label (const ProtobufCEnumDescriptor *desc, int value, char *buf,
                                 size_t size);

//  Parse an enum label: the short form or the full value name, both
//  case-insensitive. Returns 0 and sets *value, or -1 if unknown.
int pmo_json_enum_parse (const ProtobufCEnumDescriptor *desc, const char *label, int *value);

#ifdef __cplusplus
}
#endif

#endif
