/*  pmo_wire.c: envelope reflection and validation. */
#include "pmo_wire.h"
#include "pmo_reflect.h"
#include "pmo_util.h"

#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static const ProtobufCFieldDescriptor *s_field (const ProtobufCMessage *msg, const char *name)
{
    return pmo_reflect_field (msg->descriptor, name);
}

ProtobufCMessage **pmo_wire_message_slot (ProtobufCMessage *msg, const char *name)
{
    const ProtobufCFieldDescriptor *field = s_field (msg, name);
    if (!field || field->type != PROTOBUF_C_TYPE_MESSAGE ||
        field->label == PROTOBUF_C_LABEL_REPEATED)
        return NULL;
    return (ProtobufCMessage **)((char *)msg + field->offset);
}

const Pmo__Header *pmo_wire_header (const ProtobufCMessage *msg)
{
    ProtobufCMessage **slot = pmo_wire_message_slot ((ProtobufCMessage *)msg, "header");
    if (!slot || !*slot || (*slot)->descriptor != &pmo__header__descriptor)
        return NULL;
    return (const Pmo__Header *)*slot;
}

static const ProtobufCFieldDescriptor *s_oneof_set (const ProtobufCMessage *msg)
{
    const ProtobufCMessageDescriptor *desc = msg->descriptor;
    for (unsigned i = 0; i < desc->n_fields; i++) {
        const ProtobufCFieldDescriptor *field = &desc->fields[i];
        if (field->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
            uint32_t which = *(const uint32_t *)((const char *)msg + field->quantifier_offset);
            if (which == field->id)
                return field;
        }
    }
    return NULL;
}

uint32_t pmo_wire_oneof_case (const ProtobufCMessage *msg)
{
    const ProtobufCFieldDescriptor *field = s_oneof_set (msg);
    return field ? field->id : 0;
}

const char *pmo_wire_oneof_name (const ProtobufCMessage *msg)
{
    const ProtobufCFieldDescriptor *field = s_oneof_set (msg);
    return field ? field->name : "";
}

static bool s_field_present (const ProtobufCMessage *msg, const ProtobufCFieldDescriptor *field)
{
    if (field->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
        return *(const uint32_t *)((const char *)msg + field->quantifier_offset) == field->id;
    return true;
}

//  Append ".name" (no dot at the start) and "[index]" unless index is
//  SIZE_MAX to the path of length len, cut to what fits; the new length.
//  Written without snprintf: every enum and message field of every request
//  is named on the way, and only a failure shows the name.
static size_t s_path_append (char *path, size_t path_size, size_t len, const char *name,
                             size_t index)
{
    char number[PMO_DIGITS_MAX];
    const char *digits = "";
    size_t ndigits = 0;
    if (index != SIZE_MAX) {
        digits = pmo_digits_u64 (number + sizeof number, index);
        ndigits = (size_t)(number + sizeof number - digits);
    }
    const char *parts[] = {len ? "." : "", name, ndigits ? "[" : "", digits, ndigits ? "]" : ""};
    size_t sizes[] = {len ? 1 : 0, strlen (name), ndigits ? 1 : 0, ndigits, ndigits ? 1 : 0};
    for (size_t p = 0; p < 5; p++) {
        size_t room = path_size - 1 - len;
        size_t take = sizes[p] < room ? sizes[p] : room;
        memcpy (path + len, parts[p], take);
        len += take;
    }
    path[len] = 0;
    return len;
}

static int s_validate (const ProtobufCMessage *msg, char *path, size_t path_size, size_t len,
                       char *why, size_t why_size, int depth)
{
    if (depth > 32) {
        snprintf (why, why_size, "nested too deeply");
        return -1;
    }
    if (msg->n_unknown_fields > 0) {
        snprintf (why, why_size, "unknown field number %u in %s", msg->unknown_fields[0].tag,
                  msg->descriptor->short_name);
        return -1;
    }
    const ProtobufCMessageDescriptor *desc = msg->descriptor;
    for (unsigned i = 0; i < desc->n_fields; i++) {
        const ProtobufCFieldDescriptor *field = &desc->fields[i];
        if (field->type != PROTOBUF_C_TYPE_ENUM && field->type != PROTOBUF_C_TYPE_MESSAGE)
            continue;
        if (!s_field_present (msg, field))
            continue;
        const char *base = (const char *)msg + field->offset;
        size_t count = 1;
        if (field->label == PROTOBUF_C_LABEL_REPEATED) {
            count = *(const size_t *)((const char *)msg + field->quantifier_offset);
            base = *(const char *const *)base;
        }
        for (size_t k = 0; k < count; k++) {
            size_t here = len;
            size_t next = s_path_append (path, path_size, len, field->name,
                                         field->label == PROTOBUF_C_LABEL_REPEATED ? k : SIZE_MAX);
            if (field->type == PROTOBUF_C_TYPE_ENUM) {
                int value = ((const int *)base)[k];
                if (!protobuf_c_enum_descriptor_get_value (field->descriptor, value)) {
                    snprintf (why, why_size, "%d is not a valid %s", value,
                              ((const ProtobufCEnumDescriptor *)field->descriptor)->short_name);
                    return -1;
                }
            } else {
                const ProtobufCMessage *sub = field->label == PROTOBUF_C_LABEL_REPEATED
                                                  ? ((const ProtobufCMessage *const *)base)[k]
                                                  : *(const ProtobufCMessage *const *)base;
                if (sub && s_validate (sub, path, path_size, next, why, why_size, depth + 1))
                    return -1;
            }
            path[here] = 0;
        }
    }
    return 0;
}

int pmo_wire_validate (const ProtobufCMessage *msg, char *path, size_t path_size, char *why,
                       size_t why_size)
{
    assert (path_size > 0);
    path[0] = 0;
    return s_validate (msg, path, path_size, 0, why, why_size, 0);
}

bool pmo_wire_request_id_valid (const char *id)
{
    if (!id)
        return false;
    size_t len = strlen (id);
    if (len == 0 || len > PMO_MAX_REQUEST_ID)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = id[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == ':' || c == '-'))
            return false;
    }
    return true;
}

const char *pmo_error_code_name (Pmo__ErrorCode code)
{
    switch (code) {
    case PMO__ERROR_CODE__ERROR_NONE:
        return "none";
    case PMO__ERROR_CODE__ERROR_INVALID:
        return "invalid";
    case PMO__ERROR_CODE__ERROR_NOT_FOUND:
        return "not_found";
    case PMO__ERROR_CODE__ERROR_CONFLICT:
        return "conflict";
    case PMO__ERROR_CODE__ERROR_ALREADY_EXISTS:
        return "already_exists";
    case PMO__ERROR_CODE__ERROR_FORBIDDEN:
        return "forbidden";
    case PMO__ERROR_CODE__ERROR_UNAUTHENTICATED:
        return "unauthenticated";
    case PMO__ERROR_CODE__ERROR_FAILED_PRECONDITION:
        return "failed_precondition";
    case PMO__ERROR_CODE__ERROR_UNAVAILABLE:
        return "unavailable";
    case PMO__ERROR_CODE__ERROR_DEADLINE_EXCEEDED:
        return "deadline_exceeded";
    case PMO__ERROR_CODE__ERROR_MALFORMED:
        return "malformed";
    case PMO__ERROR_CODE__ERROR_UNSUPPORTED:
        return "unsupported";
    case PMO__ERROR_CODE__ERROR_TOO_LARGE:
        return "too_large";
    case PMO__ERROR_CODE__ERROR_INTERNAL:
        return "internal";
    default:
        return "unknown";
    }
}

bool pmo_error_code_retryable (Pmo__ErrorCode code)
{
    return code == PMO__ERROR_CODE__ERROR_UNAVAILABLE ||
           code == PMO__ERROR_CODE__ERROR_DEADLINE_EXCEEDED;
}

void pmo_header_init (Pmo__Header *header, char *request_id, int timeout_ms,
                      Pmo__Identity *identity)
{
    pmo__header__init (header);
    pmo_uuid (request_id);
    header->protocol_version = PMO_PROTOCOL_VERSION;
    header->request_id = request_id;
    header->deadline_ms = timeout_ms > 0 ? pmo_now_ms () + timeout_ms : 0;
    header->identity = identity;
}
