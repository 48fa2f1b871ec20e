/*  pmo_wire.h: the envelope conventions every service shares.

    One ZeroMQ frame carries one protobuf message. A request message has the
    Header in field "header" and its body in a oneof; a reply has "header"
    (echoing the request id) and a typed "error". These helpers work on any
    such message through protobuf-c's descriptors.
*/
#ifndef PMO_WIRE_H_INCLUDED
#define PMO_WIRE_H_INCLUDED

#include "pmo.pb-c.h"

#include <stdbool.h>
#include <stddef.h>

#define PMO_PROTOCOL_VERSION 1
//  Largest request or reply frame; bigger inbound frames are refused.
#define PMO_MAX_MESSAGE    (1024 * 1024)
#define PMO_MAX_REQUEST_ID 64

//  The address of the named sub-message field's pointer in msg (NULL if the
//  message has no such field or it is not a message).
ProtobufCMessage **pmo_wire_message_slot (ProtobufCMessage *msg, const char *name);
//  The header of a request or reply (NULL if absent).
const Pmo__Header *pmo_wire_header (const ProtobufCMessage *msg);
//  The case of the message's (first) oneof: the field number set, 0 if none.
uint32_t pmo_wire_oneof_case (const ProtobufCMessage *msg);
//  The name of the oneof member set ("" if none).
const char *pmo_wire_oneof_name (const ProtobufCMessage *msg);

//  Check what the decoder lets through: unknown fields and enum values that
//  the .proto does not define, at any depth. Returns 0, or -1 with the field
//  path in path and the reason in why.
int pmo_wire_validate (const ProtobufCMessage *msg, char *path, size_t path_size, char *why,
                       size_t why_size);

//  A request id we accept: 1..64 characters of [A-Za-z0-9._:-].
bool pmo_wire_request_id_valid (const char *id);

//  Stable lower-case name of an error code, e.g. "not_found".
const char *pmo_error_code_name (Pmo__ErrorCode code);
//  Whether a request that failed with code may succeed when retried as is.
bool pmo_error_code_retryable (Pmo__ErrorCode code);

//  Fill a header for a new request: a fresh request id (buffer of 37 bytes
//  owned by the caller), a deadline timeout_ms from now, and the identity.
void pmo_header_init (Pmo__Header *header, char *request_id, int timeout_ms,
                      Pmo__Identity *identity);

#endif
