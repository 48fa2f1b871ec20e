/*  =========================================================================
    pmo_json - any protobuf-c message to and from JSON

    Walks the message descriptor: field offsets, quantifiers (n_<field>,
    has_<field>, <oneof>_case) and types say where each value lives, so the
    same code serves every message. Decoding builds the message in exactly
    the layout protobuf_c_message_unpack produces (malloc'd strings, arrays
    and sub-messages) so that protobuf_c_message_free_unpacked releases it,
    including a half-built one when a field turns out to be bad.
    =========================================================================
*/

#include "pmo_json.h"
#include "pmo_util.h"

#include <assert.h>
#include <ctype.h>
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

//  A field's storage inside a message, from its offset in the descriptor
#define s_member_ptr(type, msg, offset)  ((type *)((char *)(msg) + (offset)))
#define s_member_cptr(type, msg, offset) ((const type *)((const char *)(msg) + (offset)))

//  Decoder state: where we are, for error reports
typedef struct {
    char path[256];          //  dotted path of the field being converted
    size_t path_len;         //  strlen (path)
    pmo_json_error_t *error; //  caller's error report, may be NULL
} decoder_t;

static const char s_base64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

//  --------------------------------------------------------------------------
//  Enum labels

//  Length of the prefix every value name shares, ending at an underscore.
//  It never swallows a whole name, so every label is at least one character.
static size_t s_enum_prefix_scan (const ProtobufCEnumDescriptor *desc)
{
    if (desc->n_values == 0)
        return 0;
    const char *first = desc->values[0].name;
    size_t common = strlen (first);
    size_t shortest = common;
    for (unsigned i = 1; i < desc->n_values; i++) {
        const char *name = desc->values[i].name;
        size_t k = 0;
        while (k < common && name[k] == first[k])
            k++;
        common = k;
        size_t len = strlen (name);
        if (len < shortest)
            shortest = len;
    }
    size_t prefix = 0;
    for (size_t k = 0; k < common && k + 1 < shortest; k++)
        if (first[k] == '_')
            prefix = k + 1;
    return prefix;
}

//  The same, remembered per thread for the last few enums seen: a scan
//  reads every value's name, and an item's enums were labelled on every
//  encode (2.6k instructions of a project read through the gateway).
//  Descriptors are static, so their address is their identity.
#define ENUM_PREFIX_SLOTS 16
static size_t s_enum_prefix_len (const ProtobufCEnumDescriptor *desc)
{
    static _Thread_local struct {
        const ProtobufCEnumDescriptor *desc;
        size_t prefix;
    } cache[ENUM_PREFIX_SLOTS];
    size_t slot = ((uintptr_t)desc >> 4) % ENUM_PREFIX_SLOTS;
    if (cache[slot].desc != desc) {
        cache[slot].prefix = s_enum_prefix_scan (desc);
        cache[slot].desc = desc;
    }
    return cache[slot].prefix;
}

const char *pmo_json_enum_label (const ProtobufCEnumDescriptor *desc, int value, char *buf,
                                 size_t size)
{
    assert (desc);
    assert (desc->magic == PROTOBUF_C__ENUM_DESCRIPTOR_MAGIC);
    assert (buf || size == 0);
    const ProtobufCEnumValue *entry = protobuf_c_enum_descriptor_get_value (desc, value);
    if (!entry)
        return NULL;
    const char *label = entry->name + s_enum_prefix_len (desc);
    size_t len = strlen (label);
    if (len + 1 > size)
        return NULL;
    for (size_t i = 0; i < len; i++)
        buf[i] = (char)tolower ((unsigned char)label[i]);
    buf[len] = '\0';
    return buf;
}

int pmo_json_enum_parse (const ProtobufCEnumDescriptor *desc, const char *label, int *value)
{
    assert (desc);
    assert (desc->magic == PROTOBUF_C__ENUM_DESCRIPTOR_MAGIC);
    assert (label);
    assert (value);
    //  Short labels first: they are what we write, so a short label that
    //  happens to equal another value's full name must still round-trip
    size_t prefix = s_enum_prefix_len (desc);
    for (unsigned i = 0; i < desc->n_values; i++)
        if (strcasecmp (desc->values[i].name + prefix, label) == 0) {
            *value = desc->values[i].value;
            return 0;
        }
    for (unsigned i = 0; i < desc->n_values; i++)
        if (strcasecmp (desc->values[i].name, label) == 0) {
            *value = desc->values[i].value;
            return 0;
        }
    return -1;
}

//  --------------------------------------------------------------------------
//  Shared helpers

//  Size of one element of a repeated field's array, as protobuf-c lays it out
static size_t s_element_size (ProtobufCType type)
{
    switch (type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        return sizeof (int32_t);
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        return sizeof (int64_t);
    case PROTOBUF_C_TYPE_FLOAT:
        return sizeof (float);
    case PROTOBUF_C_TYPE_DOUBLE:
        return sizeof (double);
    case PROTOBUF_C_TYPE_BOOL:
        return sizeof (protobuf_c_boolean);
    case PROTOBUF_C_TYPE_ENUM:
        return sizeof (int);
    case PROTOBUF_C_TYPE_STRING:
        return sizeof (char *);
    case PROTOBUF_C_TYPE_BYTES:
        return sizeof (ProtobufCBinaryData);
    case PROTOBUF_C_TYPE_MESSAGE:
        return sizeof (ProtobufCMessage *);
    }
    assert (false);
    return 0;
}

//  True for the fields whose presence lives in a has_<field> flag
static bool s_has_flag (const ProtobufCFieldDescriptor *field)
{
    return field->label == PROTOBUF_C_LABEL_OPTIONAL &&
           !(field->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) && field->type != PROTOBUF_C_TYPE_STRING &&
           field->type != PROTOBUF_C_TYPE_MESSAGE;
}

//  A new message initialised with its defaults, or NULL if out of memory
static ProtobufCMessage *s_message_new (const ProtobufCMessageDescriptor *desc)
{
    ProtobufCMessage *msg = malloc (desc->sizeof_message);
    if (msg)
        desc->message_init (msg);
    return msg;
}

//  --------------------------------------------------------------------------
//  Message to JSON

static json_t *s_encode_message (const ProtobufCMessage *msg, int depth);

//  Standard base64 with padding, as a new JSON string
static json_t *s_encode_base64 (const ProtobufCBinaryData *data)
{
    if (data->len > (SIZE_MAX - 1) / 4 * 3 - 3)
        return NULL;
    size_t size = (data->len + 2) / 3 * 4;
    char *text = malloc (size + 1);
    if (!text)
        return NULL;
    const uint8_t *in = data->data;
    char *out = text;
    size_t i = 0;
    for (; i + 2 < data->len; i += 3) {
        uint32_t bits = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        *out++ = s_base64_alphabet[bits >> 18 & 63];
        *out++ = s_base64_alphabet[bits >> 12 & 63];
        *out++ = s_base64_alphabet[bits >> 6 & 63];
        *out++ = s_base64_alphabet[bits & 63];
    }
    if (i < data->len) {
        uint32_t bits = (uint32_t)in[i] << 16;
        if (i + 1 < data->len)
            bits |= (uint32_t)in[i + 1] << 8;
        *out++ = s_base64_alphabet[bits >> 18 & 63];
        *out++ = s_base64_alphabet[bits >> 12 & 63];
        *out++ = i + 1 < data->len ? s_base64_alphabet[bits >> 6 & 63] : '=';
        *out++ = '=';
    }
    json_t *json = json_stringn (text, size);
    free (text);
    return json;
}

//  proto3 JSON spells the values a JSON number cannot hold as strings
static json_t *s_encode_real (double value)
{
    if (isnan (value))
        return json_string ("NaN");
    if (isinf (value))
        return json_string (value > 0 ? "Infinity" : "-Infinity");
    return json_real (value);
}

static json_t *s_encode_enum (const ProtobufCEnumDescriptor *desc, int value)
{
    const ProtobufCEnumValue *entry = protobuf_c_enum_descriptor_get_value (desc, value);
    if (!entry)
        return json_integer (value); //  from a newer peer: keep the number
    size_t size = strlen (entry->name) + 1;
    char *label = malloc (size);
    if (!label)
        return NULL;
    json_t *json = NULL;
    if (pmo_json_enum_label (desc, value, label, size))
        json = json_string (label);
    free (label);
    return json;
}

//  One value (a singular field, or one element of a repeated one) as JSON
static json_t *s_encode_value (const ProtobufCFieldDescriptor *field, const void *member, int depth)
{
    switch (field->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
        return json_integer (*(const int32_t *)member);
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        return json_integer (*(const uint32_t *)member);
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        return json_integer (*(const int64_t *)member);
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64: {
        uint64_t value = *(const uint64_t *)member;
        if (value <= INT64_MAX)
            return json_integer ((json_int_t)value);
        //  jansson integers are signed 64-bit: the top half goes as text
        char text[24];
        snprintf (text, sizeof text, "%" PRIu64, value);
        return json_string (text);
    }
    case PROTOBUF_C_TYPE_FLOAT:
        return s_encode_real (*(const float *)member);
    case PROTOBUF_C_TYPE_DOUBLE:
        return s_encode_real (*(const double *)member);
    case PROTOBUF_C_TYPE_BOOL:
        return json_boolean (*(const protobuf_c_boolean *)member);
    case PROTOBUF_C_TYPE_ENUM:
        return s_encode_enum (field->descriptor, *(const int *)member);
    case PROTOBUF_C_TYPE_STRING: {
        const char *text = *(char *const *)member;
        return json_string (text ? text : "");
    }
    case PROTOBUF_C_TYPE_BYTES:
        return s_encode_base64 (member);
    case PROTOBUF_C_TYPE_MESSAGE: {
        const ProtobufCMessage *sub = *(ProtobufCMessage *const *)member;
        return sub ? s_encode_message (sub, depth + 1) : json_null ();
    }
    }
    return NULL;
}

static json_t *s_encode_repeated (const ProtobufCFieldDescriptor *field,
                                  const ProtobufCMessage *msg, int depth)
{
    size_t count = *s_member_cptr (size_t, msg, field->quantifier_offset);
    const char *array = *s_member_cptr (char *, msg, field->offset);
    size_t size = s_element_size (field->type);
    json_t *json = json_array ();
    if (!json)
        return NULL;
    for (size_t i = 0; i < count; i++)
        //  json_array_append_new takes the item even when it fails
        if (json_array_append_new (json, s_encode_value (field, array + i * size, depth))) {
            json_decref (json);
            return NULL;
        }
    return json;
}

static json_t *s_encode_message (const ProtobufCMessage *msg, int depth)
{
    assert (msg->descriptor->magic == PROTOBUF_C__MESSAGE_DESCRIPTOR_MAGIC);
    if (depth > PMO_JSON_MAX_DEPTH)
        return NULL;
    const ProtobufCMessageDescriptor *desc = msg->descriptor;
    json_t *json = json_object ();
    if (!json)
        return NULL;
    for (unsigned i = 0; i < desc->n_fields; i++) {
        const ProtobufCFieldDescriptor *field = desc->fields + i;
        const void *member = s_member_cptr (char, msg, field->offset);
        json_t *value;
        if (field->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
            //  Members of a oneof share storage; only the selected one is real
            if (*s_member_cptr (uint32_t, msg, field->quantifier_offset) != field->id)
                continue;
        } else if (s_has_flag (field) &&
                   !*s_member_cptr (protobuf_c_boolean, msg, field->quantifier_offset))
            continue;
        if (field->label == PROTOBUF_C_LABEL_REPEATED)
            value = s_encode_repeated (field, msg, depth);
        else {
            if (field->type == PROTOBUF_C_TYPE_MESSAGE && !*(ProtobufCMessage *const *)member)
                continue;
            value = s_encode_value (field, member, depth);
        }
        //  json_object_set_new takes the value even when it fails
        if (json_object_set_new (json, field->name, value)) {
            json_decref (json);
            return NULL;
        }
    }
    return json;
}

json_t *pmo_json_from_message (const ProtobufCMessage *msg)
{
    assert (msg);
    return s_encode_message (msg, 1);
}

//  --------------------------------------------------------------------------
//  Message to JSON text, without the tree: the same text json_dumps
//  (JSON_COMPACT) makes of pmo_json_from_message's object (test_json
//  checks it byte for byte), at a fraction of the cost. Building the tree
//  allocates a value per field and dumping it formats every container's
//  address into a hash table (jansson's loop check): the gateway spent an
//  eighth of its time on a read there.

//  A growing text; a failed allocation or a value jansson refuses sets
//  failed, and the text is dropped at the end.
typedef struct {
    char *data;
    size_t size, used;
    bool failed;
} text_t;

static void s_text_add (text_t *self, const char *bytes, size_t len)
{
    if (self->failed)
        return;
    if (self->used + len + 1 > self->size) {
        size_t size = self->size ? self->size : 1024; //  most items fit
        while (self->used + len + 1 > size)
            size *= 2;
        char *data = realloc (self->data, size);
        if (!data) {
            self->failed = true;
            return;
        }
        self->data = data;
        self->size = size;
    }
    memcpy (self->data + self->used, bytes, len);
    self->used += len; //  room for the final NUL is kept
}

static void s_text_char (text_t *self, char c)
{
    if (self->used + 2 <= self->size)
        self->data[self->used++] = c;
    else
        s_text_add (self, &c, 1);
}

//  The length of the UTF-8 sequence at text (at most len bytes), 0 if it
//  is not one jansson takes: overlong forms, surrogates and code points
//  above U+10FFFF are refused.
static size_t s_utf8_length (const unsigned char *text, size_t len)
{
    unsigned char c = text[0];
    if (c < 0x80)
        return 1;
    size_t need = c >= 0xc2 && c <= 0xdf   ? 2
                  : c >= 0xe0 && c <= 0xef ? 3
                  : c >= 0xf0 && c <= 0xf4 ? 4
                                           : 0;
    if (!need || need > len)
        return 0;
    uint32_t point = c & (need == 2 ? 0x1f : need == 3 ? 0x0f : 0x07);
    for (size_t i = 1; i < need; i++) {
        if ((text[i] & 0xc0) != 0x80)
            return 0;
        point = point << 6 | (text[i] & 0x3f);
    }
    if ((need == 3 && point < 0x800) || (need == 4 && point < 0x10000) || point > 0x10ffff ||
        (point >= 0xd800 && point <= 0xdfff))
        return 0;
    return need;
}

//  A JSON string: quotes, backslashes and control characters escaped as
//  jansson does; anything else (UTF-8 included) as it is.
static void s_text_string (text_t *self, const char *string, size_t len)
{
    const unsigned char *text = (const unsigned char *)string;
    s_text_char (self, '"');
    size_t start = 0, i = 0;
    while (i < len) {
        unsigned char c = text[i];
        if (c >= 0x20 && c != '"' && c != '\\') {
            size_t step = c < 0x80 ? 1 : s_utf8_length (text + i, len - i);
            if (!step) {
                self->failed = true;
                return;
            }
            i += step;
            continue;
        }
        s_text_add (self, string + start, i - start);
        char escape[8];
        const char *short_form = c == '"'    ? "\\\""
                                 : c == '\\' ? "\\\\"
                                 : c == '\b' ? "\\b"
                                 : c == '\f' ? "\\f"
                                 : c == '\n' ? "\\n"
                                 : c == '\r' ? "\\r"
                                 : c == '\t' ? "\\t"
                                             : NULL;
        if (!short_form) {
            snprintf (escape, sizeof escape, "\\u%04X", (unsigned)c);
            short_form = escape;
        }
        s_text_add (self, short_form, strlen (short_form));
        start = ++i;
    }
    s_text_add (self, string + start, len - start);
    s_text_char (self, '"');
}

//  An integer in decimal (as %lld writes it, without printf's cost: a
//  reply holds dozens)
static void s_text_integer (text_t *self, long long value)
{
    char number[PMO_DIGITS_MAX];
    char *end = number + sizeof number, *at = pmo_digits_i64 (end, value);
    s_text_add (self, at, (size_t)(end - at));
}

//  A real as jansson writes one: %.17g, a ".0" when it would read back as
//  an integer, and the exponent without its '+' or leading zeros.
static void s_text_real (text_t *self, double value)
{
    if (isnan (value) || isinf (value)) {
        const char *name = isnan (value) ? "NaN" : value > 0 ? "Infinity" : "-Infinity";
        s_text_string (self, name, strlen (name));
        return;
    }
    char number[40];
    int len = snprintf (number, sizeof number, "%.17g", value);
    if (len < 0 || (size_t)len + 3 > sizeof number) {
        self->failed = true;
        return;
    }
    char *exponent = strchr (number, 'e');
    if (!exponent && !strchr (number, '.')) {
        memcpy (number + len, ".0", 3);
        len += 2;
    }
    if (exponent) {
        char *digits = exponent + 1;
        if (*digits == '-')
            digits++;
        char *from = exponent + 1 + (exponent[1] == '+' || exponent[1] == '-');
        while (*from == '0' && from[1])
            from++;
        memmove (digits, from, strlen (from) + 1);
        len = (int)strlen (number);
    }
    s_text_add (self, number, (size_t)len);
}

static void s_text_message (text_t *self, const ProtobufCMessage *msg, int depth);

static void s_text_value (text_t *self, const ProtobufCFieldDescriptor *field, const void *member,
                          int depth)
{
    switch (field->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
        s_text_integer (self, *(const int32_t *)member);
        break;
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        s_text_integer (self, *(const uint32_t *)member);
        break;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        s_text_integer (self, *(const int64_t *)member);
        break;
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64: {
        uint64_t value = *(const uint64_t *)member;
        if (value <= INT64_MAX)
            s_text_integer (self, (long long)value);
        else {
            //  Past jansson's signed integers: as text, like the tree
            char text[24];
            int len = snprintf (text, sizeof text, "%" PRIu64, value);
            s_text_string (self, text, (size_t)len);
        }
        break;
    }
    case PROTOBUF_C_TYPE_FLOAT:
        s_text_real (self, *(const float *)member);
        break;
    case PROTOBUF_C_TYPE_DOUBLE:
        s_text_real (self, *(const double *)member);
        break;
    case PROTOBUF_C_TYPE_BOOL:
        s_text_add (self, *(const protobuf_c_boolean *)member ? "true" : "false",
                    *(const protobuf_c_boolean *)member ? 4 : 5);
        break;
    case PROTOBUF_C_TYPE_ENUM: {
        int value = *(const int *)member;
        const ProtobufCEnumValue *entry =
            protobuf_c_enum_descriptor_get_value (field->descriptor, value);
        char label[256];
        if (!entry)
            s_text_integer (self, value); //  from a newer peer: keep the number
        else if (pmo_json_enum_label (field->descriptor, value, label, sizeof label))
            s_text_string (self, label, strlen (label));
        else
            self->failed = true;
        break;
    }
    case PROTOBUF_C_TYPE_STRING: {
        const char *text = *(char *const *)member;
        s_text_string (self, text ? text : "", text ? strlen (text) : 0);
        break;
    }
    case PROTOBUF_C_TYPE_BYTES: {
        json_t *json = s_encode_base64 (member);
        if (json)
            s_text_string (self, json_string_value (json), json_string_length (json));
        else
            self->failed = true;
        json_decref (json);
        break;
    }
    case PROTOBUF_C_TYPE_MESSAGE: {
        const ProtobufCMessage *sub = *(ProtobufCMessage *const *)member;
        if (sub)
            s_text_message (self, sub, depth + 1);
        else
            s_text_add (self, "null", 4);
        break;
    }
    }
}

//  The fields s_encode_message writes, in the same order.
static void s_text_message (text_t *self, const ProtobufCMessage *msg, int depth)
{
    assert (msg->descriptor->magic == PROTOBUF_C__MESSAGE_DESCRIPTOR_MAGIC);
    if (depth > PMO_JSON_MAX_DEPTH) {
        self->failed = true;
        return;
    }
    const ProtobufCMessageDescriptor *desc = msg->descriptor;
    s_text_char (self, '{');
    bool first = true;
    for (unsigned i = 0; i < desc->n_fields && !self->failed; i++) {
        const ProtobufCFieldDescriptor *field = desc->fields + i;
        const void *member = s_member_cptr (char, msg, field->offset);
        if (field->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
            if (*s_member_cptr (uint32_t, msg, field->quantifier_offset) != field->id)
                continue;
        } else if (s_has_flag (field) &&
                   !*s_member_cptr (protobuf_c_boolean, msg, field->quantifier_offset))
            continue;
        if (field->label != PROTOBUF_C_LABEL_REPEATED && field->type == PROTOBUF_C_TYPE_MESSAGE &&
            !*(ProtobufCMessage *const *)member)
            continue;
        if (!first)
            s_text_char (self, ',');
        first = false;
        //  A field's name is an identifier of the .proto (letters, digits,
        //  underscores): nothing to escape, so it is not scanned for it
        s_text_char (self, '"');
        s_text_add (self, field->name, strlen (field->name));
        s_text_add (self, "\":", 2);
        if (field->label == PROTOBUF_C_LABEL_REPEATED) {
            size_t count = *s_member_cptr (size_t, msg, field->quantifier_offset);
            const char *array = *s_member_cptr (char *, msg, field->offset);
            size_t size = s_element_size (field->type);
            s_text_char (self, '[');
            for (size_t k = 0; k < count && !self->failed; k++) {
                if (k)
                    s_text_char (self, ',');
                s_text_value (self, field, array + k * size, depth);
            }
            s_text_char (self, ']');
        } else
            s_text_value (self, field, member, depth);
    }
    s_text_char (self, '}');
}

char *pmo_json_encode (const ProtobufCMessage *msg)
{
    assert (msg);
    text_t text = {0};
    s_text_message (&text, msg, 1);
    if (text.failed) {
        free (text.data);
        return NULL;
    }
    text.data[text.used] = 0;
    return text.data;
}

//  --------------------------------------------------------------------------
//  JSON to message

static const char *s_type_name (const json_t *json)
{
    switch (json_typeof (json)) {
    case JSON_OBJECT:
        return "object";
    case JSON_ARRAY:
        return "array";
    case JSON_STRING:
        return "string";
    case JSON_INTEGER:
        return "integer";
    case JSON_REAL:
        return "real";
    case JSON_TRUE:
    case JSON_FALSE:
        return "boolean";
    case JSON_NULL:
        return "null";
    }
    return "unknown";
}

//  Record an error at the current path; always returns -1
__attribute__ ((format (printf, 2, 3))) static int s_fail (decoder_t *self, const char *format, ...)
{
    if (self->error) {
        snprintf (self->error->field, sizeof self->error->field, "%s", self->path);
        va_list args;
        va_start (args, format);
        vsnprintf (self->error->message, sizeof self->error->message, format, args);
        va_end (args);
    }
    return -1;
}

//  Append ".name" (or "name" at the root) to the path; returns the length
//  to restore with s_path_pop. A path too long for the buffer is truncated.
static size_t s_path_push_name (decoder_t *self, const char *name)
{
    //  Without printf: every key of every request passes here
    size_t mark = self->path_len;
    size_t room = sizeof self->path - 1 - mark; //  the NUL's place kept
    size_t at = mark;
    if (mark && room) {
        self->path[at++] = '.';
        room--;
    }
    size_t len = strlen (name);
    if (len > room)
        len = room;
    memcpy (self->path + at, name, len);
    at += len;
    self->path[at] = '\0';
    self->path_len = at;
    return mark;
}

static size_t s_path_push_index (decoder_t *self, size_t index)
{
    size_t mark = self->path_len;
    size_t room = sizeof self->path - mark;
    int written = snprintf (self->path + mark, room, "[%zu]", index);
    self->path_len =
        written < 0 ? mark : mark + ((size_t)written < room ? (size_t)written : room - 1);
    return mark;
}

static void s_path_pop (decoder_t *self, size_t mark)
{
    self->path_len = mark;
    self->path[mark] = '\0';
}

//  The text of a JSON string; C strings end at NUL, so a JSON string that
//  holds one would silently lose its tail
static int s_decode_text (decoder_t *self, const json_t *json, const char **text, size_t *len)
{
    *text = json_string_value (json);
    *len = json_string_length (json);
    if (memchr (*text, '\0', *len))
        return s_fail (self, "string contains a NUL character");
    return 0;
}

//  Parse an optionally signed decimal integer filling the whole text.
//  Returns false if it is not one; sets *overflow if it exceeds 64 bits.
static bool s_parse_decimal (const char *text, size_t len, bool *negative, uint64_t *magnitude,
                             bool *overflow)
{
    size_t i = 0;
    *negative = len > 0 && text[0] == '-';
    if (*negative)
        i++;
    if (i == len)
        return false;
    *magnitude = 0;
    *overflow = false;
    for (; i < len; i++) {
        if (text[i] < '0' || text[i] > '9')
            return false;
        unsigned digit = (unsigned)(text[i] - '0');
        if (*magnitude > (UINT64_MAX - digit) / 10)
            *overflow = true;
        else
            *magnitude = *magnitude * 10 + digit;
    }
    return true;
}

//  A signed integer in [min, max]; 64-bit fields also take a decimal string
static int s_decode_signed (decoder_t *self, const json_t *json, bool strings_ok, int64_t min,
                            int64_t max, const char *type_name, int64_t *value)
{
    if (json_is_integer (json)) {
        json_int_t number = json_integer_value (json);
        if (number < min || number > max)
            return s_fail (self, "value %" JSON_INTEGER_FORMAT " is out of range for %s", number,
                           type_name);
        *value = number;
        return 0;
    }
    if (strings_ok && json_is_string (json)) {
        const char *text;
        size_t len;
        bool negative, overflow;
        uint64_t magnitude;
        if (s_decode_text (self, json, &text, &len))
            return -1;
        if (!s_parse_decimal (text, len, &negative, &magnitude, &overflow))
            return s_fail (self, "\"%.64s\" is not a decimal integer", text);
        if (overflow || magnitude > (uint64_t)INT64_MAX + negative)
            return s_fail (self, "value %.64s is out of range for %s", text, type_name);
        //  -2^63 has no positive twin: negate in unsigned arithmetic
        *value = negative ? (int64_t)(0 - magnitude) : (int64_t)magnitude;
        return 0;
    }
    return s_fail (self, "expected an integer%s, got %s", strings_ok ? " or a decimal string" : "",
                   s_type_name (json));
}

//  An unsigned integer up to max; 64-bit fields also take a decimal string
static int s_decode_unsigned (decoder_t *self, const json_t *json, bool strings_ok, uint64_t max,
                              const char *type_name, uint64_t *value)
{
    if (json_is_integer (json)) {
        json_int_t number = json_integer_value (json);
        if (number < 0 || (uint64_t)number > max)
            return s_fail (self, "value %" JSON_INTEGER_FORMAT " is out of range for %s", number,
                           type_name);
        *value = (uint64_t)number;
        return 0;
    }
    if (strings_ok && json_is_string (json)) {
        const char *text;
        size_t len;
        bool negative, overflow;
        uint64_t magnitude;
        if (s_decode_text (self, json, &text, &len))
            return -1;
        if (!s_parse_decimal (text, len, &negative, &magnitude, &overflow))
            return s_fail (self, "\"%.64s\" is not a decimal integer", text);
        if (overflow || (negative && magnitude) || magnitude > max)
            return s_fail (self, "value %.64s is out of range for %s", text, type_name);
        *value = magnitude;
        return 0;
    }
    return s_fail (self, "expected an integer%s, got %s", strings_ok ? " or a decimal string" : "",
                   s_type_name (json));
}

static int s_decode_real (decoder_t *self, const json_t *json, bool is_float, double *value)
{
    if (json_is_integer (json))
        *value = (double)json_integer_value (json);
    else if (json_is_real (json))
        *value = json_real_value (json);
    else if (json_is_string (json)) {
        const char *text = json_string_value (json);
        size_t len = json_string_length (json);
        if (len == strlen ("NaN") && strcmp (text, "NaN") == 0)
            *value = NAN;
        else if (len == strlen ("Infinity") && strcmp (text, "Infinity") == 0)
            *value = INFINITY;
        else if (len == strlen ("-Infinity") && strcmp (text, "-Infinity") == 0)
            *value = -INFINITY;
        else
            return s_fail (self, "expected a number, got \"%.64s\"", text);
    } else
        return s_fail (self, "expected a number, got %s", s_type_name (json));
    if (is_float && isfinite (*value) && fabs (*value) > FLT_MAX)
        return s_fail (self, "value %g is out of range for float", *value);
    return 0;
}

static int s_decode_enum (decoder_t *self, const ProtobufCEnumDescriptor *desc, const json_t *json,
                          int *value)
{
    if (json_is_string (json)) {
        const char *text;
        size_t len;
        if (s_decode_text (self, json, &text, &len))
            return -1;
        if (pmo_json_enum_parse (desc, text, value))
            return s_fail (self, "unknown value \"%.64s\" for enum %s", text, desc->name);
        return 0;
    }
    if (json_is_integer (json)) {
        json_int_t number = json_integer_value (json);
        if (number < INT32_MIN || number > INT32_MAX ||
            !protobuf_c_enum_descriptor_get_value (desc, (int)number))
            return s_fail (self, "unknown value %" JSON_INTEGER_FORMAT " for enum %s", number,
                           desc->name);
        *value = (int)number;
        return 0;
    }
    return s_fail (self, "expected an enum label, got %s", s_type_name (json));
}

//  Strict standard base64: padding optional but correct if present, no
//  whitespace, no stray bits in the last character
static int s_decode_base64 (decoder_t *self, const json_t *json, ProtobufCBinaryData *data)
{
    if (!json_is_string (json))
        return s_fail (self, "expected a base64 string, got %s", s_type_name (json));
    const char *text = json_string_value (json);
    size_t len = json_string_length (json);
    if (len % 4 == 0 && len > 0 && text[len - 1] == '=')
        len -= text[len - 2] == '=' ? 2 : 1;
    if (len % 4 == 1)
        return s_fail (self, "invalid base64");
    size_t size = len / 4 * 3 + (len % 4 ? len % 4 - 1 : 0);
    uint8_t *bytes = NULL;
    if (size > 0 && !(bytes = malloc (size)))
        return s_fail (self, "out of memory");
    uint32_t bits = 0;
    size_t out = 0;
    for (size_t i = 0; i < len; i++) {
        const char *found = text[i] ? strchr (s_base64_alphabet, text[i]) : NULL;
        if (!found) {
            free (bytes);
            return s_fail (self, "invalid base64");
        }
        bits = bits << 6 | (uint32_t)(found - s_base64_alphabet);
        if (i % 4 == 3) {
            bytes[out++] = (uint8_t)(bits >> 16);
            bytes[out++] = (uint8_t)(bits >> 8);
            bytes[out++] = (uint8_t)bits;
            bits = 0;
        }
    }
    //  A short last group carries 12 or 18 bits for 8 or 16 bits of data;
    //  the spare bits must be zero or two texts would mean the same bytes
    if (len % 4 == 2) {
        if (bits & 0x0f) {
            free (bytes);
            return s_fail (self, "invalid base64");
        }
        bytes[out++] = (uint8_t)(bits >> 4);
    } else if (len % 4 == 3) {
        if (bits & 0x03) {
            free (bytes);
            return s_fail (self, "invalid base64");
        }
        bytes[out++] = (uint8_t)(bits >> 10);
        bytes[out++] = (uint8_t)(bits >> 2);
    }
    assert (out == size);
    data->data = bytes;
    data->len = size;
    return 0;
}

static int s_decode_message (decoder_t *self, const ProtobufCMessageDescriptor *desc,
                             const json_t *json, ProtobufCMessage *msg, int depth);

//  A new sub-message in *slot. The slot owns it from the moment it exists,
//  so freeing the root also frees a half-built one.
static int s_decode_submessage (decoder_t *self, const ProtobufCMessageDescriptor *desc,
                                const json_t *json, ProtobufCMessage **slot, int depth)
{
    if (!json_is_object (json))
        return s_fail (self, "expected an object, got %s", s_type_name (json));
    if (depth + 1 > PMO_JSON_MAX_DEPTH)
        return s_fail (self, "messages nested deeper than %d", PMO_JSON_MAX_DEPTH);
    *slot = s_message_new (desc);
    if (!*slot)
        return s_fail (self, "out of memory");
    return s_decode_message (self, desc, json, *slot, depth + 1);
}

//  One value into `member` (a singular field, or one array element). Writes
//  only on success, except for sub-messages (see s_decode_submessage).
static int s_decode_value (decoder_t *self, const ProtobufCFieldDescriptor *field,
                           const json_t *json, void *member, int depth)
{
    int64_t signed_value;
    uint64_t unsigned_value;
    double real_value;
    switch (field->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
        if (s_decode_signed (self, json, false, INT32_MIN, INT32_MAX, "int32", &signed_value))
            return -1;
        *(int32_t *)member = (int32_t)signed_value;
        return 0;
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        if (s_decode_unsigned (self, json, false, UINT32_MAX, "uint32", &unsigned_value))
            return -1;
        *(uint32_t *)member = (uint32_t)unsigned_value;
        return 0;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        if (s_decode_signed (self, json, true, INT64_MIN, INT64_MAX, "int64", &signed_value))
            return -1;
        *(int64_t *)member = signed_value;
        return 0;
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        if (s_decode_unsigned (self, json, true, UINT64_MAX, "uint64", &unsigned_value))
            return -1;
        *(uint64_t *)member = unsigned_value;
        return 0;
    case PROTOBUF_C_TYPE_FLOAT:
        if (s_decode_real (self, json, true, &real_value))
            return -1;
        *(float *)member = (float)real_value;
        return 0;
    case PROTOBUF_C_TYPE_DOUBLE:
        if (s_decode_real (self, json, false, &real_value))
            return -1;
        *(double *)member = real_value;
        return 0;
    case PROTOBUF_C_TYPE_BOOL:
        if (!json_is_boolean (json))
            return s_fail (self, "expected a boolean, got %s", s_type_name (json));
        *(protobuf_c_boolean *)member = json_is_true (json);
        return 0;
    case PROTOBUF_C_TYPE_ENUM:
        return s_decode_enum (self, field->descriptor, json, (int *)member);
    case PROTOBUF_C_TYPE_STRING: {
        if (!json_is_string (json))
            return s_fail (self, "expected a string, got %s", s_type_name (json));
        const char *text;
        size_t len;
        if (s_decode_text (self, json, &text, &len))
            return -1;
        char *copy = malloc (len + 1);
        if (!copy)
            return s_fail (self, "out of memory");
        memcpy (copy, text, len + 1);
        //  The old value is the descriptor's default (protobuf_c_empty_string
        //  in proto3), which is not ours to free
        *(char **)member = copy;
        return 0;
    }
    case PROTOBUF_C_TYPE_BYTES:
        return s_decode_base64 (self, json, member);
    case PROTOBUF_C_TYPE_MESSAGE:
        return s_decode_submessage (self, field->descriptor, json, member, depth);
    }
    return s_fail (self, "unsupported field type %d", (int)field->type);
}

static int s_decode_repeated (decoder_t *self, const ProtobufCFieldDescriptor *field,
                              const json_t *json, ProtobufCMessage *msg, int depth)
{
    if (!json_is_array (json))
        return s_fail (self, "expected an array, got %s", s_type_name (json));
    size_t count = json_array_size (json);
    if (count == 0)
        return 0;
    size_t size = s_element_size (field->type);
    char *array = calloc (count, size);
    if (!array)
        return s_fail (self, "out of memory");
    //  n_<field> counts only the elements already filled in, so freeing a
    //  half-built array releases exactly what it holds
    size_t *filled = s_member_ptr (size_t, msg, field->quantifier_offset);
    *s_member_ptr (char *, msg, field->offset) = array;
    *filled = 0;
    for (size_t i = 0; i < count; i++) {
        size_t mark = s_path_push_index (self, i);
        const json_t *item = json_array_get (json, i);
        if (json_is_null (item))
            return s_fail (self, "null is not allowed in an array");
        void *slot = array + i * size;
        int rc = s_decode_value (self, field, item, slot, depth);
        if (rc == 0 || (field->type == PROTOBUF_C_TYPE_MESSAGE && *(ProtobufCMessage **)slot))
            *filled = i + 1;
        if (rc)
            return -1;
        s_path_pop (self, mark);
    }
    return 0;
}

static int s_decode_field (decoder_t *self, const ProtobufCMessageDescriptor *desc,
                           const ProtobufCFieldDescriptor *field, const json_t *json,
                           ProtobufCMessage *msg, int depth)
{
    if (field->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
        uint32_t *selected = s_member_ptr (uint32_t, msg, field->quantifier_offset);
        if (*selected != 0 && *selected != field->id) {
            const ProtobufCFieldDescriptor *other =
                protobuf_c_message_descriptor_get_field (desc, *selected);
            return s_fail (self, "only one of \"%s\" and \"%s\" may be set",
                           other ? other->name : "?", field->name);
        }
        //  Select the member before filling it, so that freeing the message
        //  looks at it (a half-built sub-message lives there)
        *selected = field->id;
    }
    if (field->label == PROTOBUF_C_LABEL_REPEATED)
        return s_decode_repeated (self, field, json, msg, depth);
    if (s_decode_value (self, field, json, s_member_ptr (char, msg, field->offset), depth))
        return -1;
    if (s_has_flag (field))
        *s_member_ptr (protobuf_c_boolean, msg, field->quantifier_offset) = 1;
    return 0;
}

static int s_decode_message (decoder_t *self, const ProtobufCMessageDescriptor *desc,
                             const json_t *json, ProtobufCMessage *msg, int depth)
{
    if (!json_is_object (json))
        return s_fail (self, "expected an object, got %s", s_type_name (json));
    //  Iterating never changes the object; jansson just has no const iterator
    json_t *object = (json_t *)json;
    for (void *iter = json_object_iter (object); iter;
         iter = json_object_iter_next (object, iter)) {
        const char *key = json_object_iter_key (iter);
        const json_t *value = json_object_iter_value (iter);
        size_t mark = s_path_push_name (self, key);
        //  A key with a NUL inside must not pass for the field named by its head
        const ProtobufCFieldDescriptor *field =
            strlen (key) == json_object_iter_key_len (iter)
                ? protobuf_c_message_descriptor_get_field_by_name (desc, key)
                : NULL;
        if (!field)
            return s_fail (self, "unknown field \"%.64s\" in %s", key, desc->name);
        if (!json_is_null (value) && s_decode_field (self, desc, field, value, msg, depth))
            return -1;
        s_path_pop (self, mark);
    }
    //  proto2 only: required fields without a default must be present
    for (unsigned i = 0; i < desc->n_fields; i++) {
        const ProtobufCFieldDescriptor *field = desc->fields + i;
        if (field->label != PROTOBUF_C_LABEL_REQUIRED || field->default_value)
            continue;
        const json_t *value = json_object_get (json, field->name);
        if (!value || json_is_null (value)) {
            s_path_push_name (self, field->name);
            return s_fail (self, "required field is missing");
        }
    }
    return 0;
}

int pmo_json_to_message (const ProtobufCMessageDescriptor *desc, const json_t *json,
                         ProtobufCMessage **out, pmo_json_error_t *err)
{
    assert (desc);
    assert (desc->magic == PROTOBUF_C__MESSAGE_DESCRIPTOR_MAGIC);
    assert (json);
    assert (out);
    *out = NULL;
    decoder_t self = {.path_len = 0, .error = err};
    if (err)
        err->field[0] = err->message[0] = '\0';
    ProtobufCMessage *msg = s_message_new (desc);
    if (!msg)
        return s_fail (&self, "out of memory");
    if (s_decode_message (&self, desc, json, msg, 1)) {
        protobuf_c_message_free_unpacked (msg, NULL);
        return -1;
    }
    *out = msg;
    return 0;
}

int pmo_json_decode (const ProtobufCMessageDescriptor *desc, const char *text, size_t len,
                     ProtobufCMessage **out, pmo_json_error_t *err)
{
    assert (desc);
    assert (text);
    assert (out);
    *out = NULL;
    //  DECODE_ANY so that "[]" or "42" get the same "expected an object"
    //  answer as any other wrong type
    json_error_t parse_error;
    json_t *json = json_loadb (text, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &parse_error);
    if (!json) {
        if (err) {
            err->field[0] = '\0';
            snprintf (err->message, sizeof err->message, "invalid JSON at line %d, column %d: %s",
                      parse_error.line, parse_error.column, parse_error.text);
        }
        return -1;
    }
    int rc = pmo_json_to_message (desc, json, out, err);
    json_decref (json);
    return rc;
}
