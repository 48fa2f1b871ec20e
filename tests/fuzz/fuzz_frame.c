/*  fuzz_frame.c: libFuzzer target for the ZeroMQ frame decoder: what
    common/pmo_server.c does with each frame a ROUTER receives before a
    service sees it (s_handle_frame, s_check_envelope): unpack the frame
    into an arena as the service's request type, check what the decoder let
    through (pmo_wire_validate: unknown fields and enum values at any
    depth), read the header (request id, identity, deadline) and the body's
    oneof; then what the gateway does with a reply frame: unpack it and turn
    it into JSON (common/pmo_json).

    The first byte picks the message type (each service's request and
    reply); the rest is the frame. Built only with -DPMO_FUZZ=ON and clang
    (tests/fuzz/run.sh).
*/
#include "allocator.pb-c.h"
#include "gateway.pb-c.h"
#include "notifier.pb-c.h"
#include "registry.pb-c.h"
#include "riskmon.pb-c.h"

#include "pmo_json.h"
#include "pmo_util.h"
#include "pmo_wire.h"

#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

//  libFuzzer's entry points
int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static const ProtobufCMessageDescriptor *s_types[] = {
    &pmo__registry_request__descriptor, &pmo__allocator_request__descriptor,
    &pmo__riskmon_request__descriptor,  &pmo__notifier_request__descriptor,
    &pmo__gateway_request__descriptor,  &pmo__registry_reply__descriptor,
    &pmo__allocator_reply__descriptor,  &pmo__riskmon_reply__descriptor,
    &pmo__notifier_reply__descriptor,   &pmo__gateway_reply__descriptor,
};
#define TYPES (sizeof s_types / sizeof s_types[0])

static pmo_arena_t *s_arena;

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (size < 1 || size > PMO_MAX_MESSAGE)
        return 0;
    const ProtobufCMessageDescriptor *type = s_types[data[0] % TYPES];
    if (!s_arena)
        s_arena = pmo_arena_new ();
    pmo_arena_reset (s_arena);
    ProtobufCMessage *msg =
        protobuf_c_message_unpack (type, pmo_arena_allocator (s_arena), size - 1, data + 1);
    if (!msg)
        return 0;
    char path[256], why[256];
    bool valid = pmo_wire_validate (msg, path, sizeof path, why, sizeof why) == 0;
    const Pmo__Header *header = pmo_wire_header (msg);
    if (header) {
        pmo_wire_request_id_valid (header->request_id);
        if (header->identity)
            pmo_str_empty (header->identity->subject);
    }
    pmo_wire_oneof_case (msg);
    pmo_wire_oneof_name (msg);
    //  The gateway answers a reply as JSON (only what validated goes there)
    if (valid) {
        json_t *json = pmo_json_from_message (msg);
        char *text = json_dumps (json, JSON_COMPACT);
        free (text);
        json_decref (json);
    }
    return 0;
}
