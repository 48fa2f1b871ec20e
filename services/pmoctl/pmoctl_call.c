/*  pmoctl_call.c: the services pmoctl talks to, and the one way it calls them.

    The table below is where pmoctl's default endpoints are written (from
    common/pmo_endpoints.h); a variable overrides each, and --registry and
    --registry-pub override the registry's. Every request, whichever command
    makes it and however it built its body (a message, or JSON converted by
    the generic mapping), goes through pmoctl_send: a DEALER client per
    service (pmo_client), a timeout per attempt and retries with the same
    request id, and one way of saying what went wrong, which is also the
    exit status: 1 the service refused, 2 a malformed endpoint or body,
    3 no reply.
*/
#include "pmoctl.h"
#include "pmo_auth.h"

#include "allocator.pb-c.h"
#include "federation.pb-c.h"
#include "gateway.pb-c.h"
#include "notifier.pb-c.h"
#include "planner.pb-c.h"
#include "riskmon.pb-c.h"

#include "pmo_endpoints.h"
#include "pmo_json.h"
#include "pmo_reflect.h"
#include "pmo_wire.h"

#include <assert.h>
#include <stdlib.h>

const pmoctl_endpoint_t pmoctl_endpoints[PMOCTL_SERVICES] = {
    [PMOCTL_REGISTRY] = {"the registry", "PMO_REGISTRY_ENDPOINT", PMO_ENDPOINT_REGISTRY, true, "it",
                         &pmo__registry_request__descriptor, &pmo__registry_reply__descriptor},
    [PMOCTL_REGISTRY_PUB] = {"the registry's events", "PMO_REGISTRY_PUB", PMO_PUB_REGISTRY, true,
                             "it", NULL, NULL},
    [PMOCTL_ALLOCATOR] = {"the allocator", "PMO_ALLOCATOR_ENDPOINT", PMO_ENDPOINT_ALLOCATOR, false,
                          "it", &pmo__allocator_request__descriptor,
                          &pmo__allocator_reply__descriptor},
    [PMOCTL_RISKMON] = {"the risk monitor", "PMO_RISKMON_ENDPOINT", PMO_ENDPOINT_RISKMON, false,
                        "it", &pmo__riskmon_request__descriptor, &pmo__riskmon_reply__descriptor},
    [PMOCTL_NOTIFIER] = {"the notifier", "PMO_NOTIFIER_ENDPOINT", PMO_ENDPOINT_NOTIFIER, false,
                         "it", &pmo__notifier_request__descriptor,
                         &pmo__notifier_reply__descriptor},
    [PMOCTL_GATEWAY] = {"the gateway's token service", "PMO_GATEWAY_ENDPOINT", PMO_ENDPOINT_GATEWAY,
                        false, "it", &pmo__gateway_request__descriptor,
                        &pmo__gateway_reply__descriptor},
    [PMOCTL_HUB] = {"the hub", "PMO_HUB_ENDPOINT", PMO_ENDPOINT_HUB, false, "pmo-hub",
                    &pmo__hub_request__descriptor, &pmo__hub_reply__descriptor},
    [PMOCTL_PLANNER] = {"the planner", "PMO_PLANNER_ENDPOINT", PMO_ENDPOINT_PLANNER, false, "it",
                        &pmo__planner_request__descriptor, &pmo__planner_reply__descriptor},
};

void pmoctl_endpoints_init (pmoctl_t *ctl)
{
    for (size_t i = 0; i < PMOCTL_SERVICES; i++) {
        const char *value = getenv (pmoctl_endpoints[i].env);
        ctl->endpoints[i] = value && *value ? value : pmoctl_endpoints[i].fallback;
    }
}

int pmoctl_keys (pmoctl_t *ctl)
{
    if (ctl->keys_loaded)
        return 0;
    //  The services know us by our key alone; without it there is nothing
    //  to ask them (pmo_auth_setup has logged which file is missing)
    if (pmo_auth_setup (ctl->keys_dir, ctl->key_name)) {
        fprintf (stderr,
                 "pmoctl: cannot use the key '%s' in %s (--keys DIR, --key NAME; "
                 "./deploy/pmo up makes them; see SECURITY.md)\n",
                 ctl->key_name, ctl->keys_dir);
        ctl->status = PMOCTL_NO_KEY;
        return -1;
    }
    ctl->keys_loaded = true;
    return 0;
}

pmo_client_t *pmoctl_connect (pmoctl_t *ctl, pmoctl_service_t service, bool quiet)
{
    if (ctl->clients[service])
        return ctl->clients[service];
    if (pmoctl_keys (ctl))
        return NULL;
    const pmoctl_endpoint_t *about = &pmoctl_endpoints[service];
    ctl->clients[service] = pmo_client_new (ctl->endpoints[service]);
    if (!ctl->clients[service]) {
        if (!quiet && about->example)
            fprintf (stderr, "pmoctl: '%s' is not a ZeroMQ endpoint (e.g. %s)\n",
                     ctl->endpoints[service], about->fallback);
        else if (!quiet)
            fprintf (stderr, "pmoctl: '%s' is not a ZeroMQ endpoint\n", ctl->endpoints[service]);
        ctl->status = PMOCTL_USAGE;
    }
    return ctl->clients[service];
}

void pmoctl_clients_destroy (pmoctl_t *ctl)
{
    for (size_t i = 0; i < PMOCTL_SERVICES; i++)
        pmo_client_destroy (&ctl->clients[i]);
}

//  The items of a repeated string field of msg (0 if it has none).
static size_t s_strings (const ProtobufCMessage *msg, const char *name, char ***items)
{
    const ProtobufCFieldDescriptor *field =
        protobuf_c_message_descriptor_get_field_by_name (msg->descriptor, name);
    if (!field || field->label != PROTOBUF_C_LABEL_REPEATED ||
        field->type != PROTOBUF_C_TYPE_STRING)
        return 0;
    *items = *(char ***)((char *)msg + field->offset);
    return *(size_t *)((char *)msg + field->quantifier_offset);
}

//  "pmoctl: conflict [version]: ..." and, for a controlling gate's refusal,
//  the artifacts it misses.
static void s_print_error (const ProtobufCMessage *reply, const Pmo__Error *error)
{
    if (pmo_str_empty (error->field))
        fprintf (stderr, "pmoctl: %s: %s\n", pmo_error_code_name (error->code), error->message);
    else
        fprintf (stderr, "pmoctl: %s [%s]: %s\n", pmo_error_code_name (error->code), error->field,
                 error->message);
    char **missing = NULL;
    size_t n_missing = s_strings (reply, "missing_artifacts", &missing);
    if (n_missing) {
        fputs ("pmoctl: missing artifacts:", stderr);
        for (size_t i = 0; i < n_missing; i++)
            fprintf (stderr, "%s %s", i ? "," : "", missing[i]);
        fputc ('\n', stderr);
    }
}

ProtobufCMessage *pmoctl_send (pmoctl_t *ctl, pmoctl_service_t service, ProtobufCMessage *request,
                               const pmoctl_wait_t *wait)
{
    const pmoctl_endpoint_t *about = &pmoctl_endpoints[service];
    assert (about->request_desc && request->descriptor == about->request_desc);
    pmoctl_wait_t given = {ctl->timeout_ms, ctl->attempts, false};
    if (!wait)
        wait = &given;
    pmo_client_t *client = pmoctl_connect (ctl, service, wait->quiet);
    if (!client)
        return NULL;
    //  The deadline covers every attempt: a retry carries the same header
    Pmo__Header header;
    char request_id[40];
    pmo_header_init (&header, request_id, wait->timeout_ms * wait->attempts, &ctl->identity);
    ProtobufCMessage **header_slot = pmo_wire_message_slot (request, "header");
    *header_slot = &header.base;
    ProtobufCMessage *raw = NULL;
    int rc = pmo_client_call (client, request, about->reply_desc, wait->timeout_ms, wait->attempts,
                              &raw);
    *header_slot = NULL;
    if (rc) {
        if (!wait->quiet)
            fprintf (stderr,
                     "pmoctl: no reply from %s at %s within %d ms (is %s running? ./deploy/pmo "
                     "status)\n",
                     about->name, ctl->endpoints[service], wait->timeout_ms, about->running);
        ctl->status = PMOCTL_NO_REPLY;
        return NULL;
    }
    ProtobufCMessage *reply = pmo_reflect_copy (raw, ctl->arena);
    protobuf_c_message_free_unpacked (raw, NULL);
    char **warnings = NULL;
    size_t n_warnings = wait->quiet ? 0 : s_strings (reply, "warnings", &warnings);
    for (size_t i = 0; i < n_warnings; i++)
        fprintf (stderr, "pmoctl: warning: %s\n", warnings[i]);
    ProtobufCMessage **error_slot = pmo_wire_message_slot (reply, "error");
    const Pmo__Error *error = error_slot ? (const Pmo__Error *)*error_slot : NULL;
    if (error && error->code != PMO__ERROR_CODE__ERROR_NONE) {
        if (!wait->quiet)
            s_print_error (reply, error);
        ctl->status = PMOCTL_REFUSED;
        return NULL;
    }
    return reply;
}

ProtobufCMessage *pmoctl_call_member (pmoctl_t *ctl, pmoctl_service_t service, const char *member,
                                      ProtobufCMessage *body, const pmoctl_wait_t *wait)
{
    const ProtobufCMessageDescriptor *desc = pmoctl_endpoints[service].request_desc;
    ProtobufCMessage *request = pmo_arena_alloc (ctl->arena, desc->sizeof_message);
    protobuf_c_message_init (desc, request);
    pmo_reflect_set_oneof (request, member, body);
    return pmoctl_send (ctl, service, request, wait);
}

ProtobufCMessage *pmoctl_service_call (pmoctl_t *ctl, pmoctl_service_t service, const char *member,
                                       json_t *body)
{
    //  A malformed endpoint is said before a malformed body
    if (!pmoctl_connect (ctl, service, false))
        return NULL;
    json_t *doc = json_object ();
    json_object_set (doc, member, body);
    ProtobufCMessage *request = NULL;
    pmo_json_error_t err;
    int rc = pmo_json_to_message (pmoctl_endpoints[service].request_desc, doc, &request, &err);
    json_decref (doc);
    if (rc) {
        fprintf (stderr, "pmoctl: %s: %s\n", *err.field ? err.field : member, err.message);
        ctl->status = PMOCTL_USAGE;
        return NULL;
    }
    ProtobufCMessage *reply = pmoctl_send (ctl, service, request, NULL);
    protobuf_c_message_free_unpacked (request, NULL);
    return reply;
}

Pmo__RegistryReply *pmoctl_call (pmoctl_t *ctl, const char *member, ProtobufCMessage *body)
{
    return (Pmo__RegistryReply *)pmoctl_call_member (ctl, PMOCTL_REGISTRY, member, body, NULL);
}

ProtobufCMessage *pmoctl_reply_body (const Pmo__RegistryReply *reply)
{
    const char *name = pmo_wire_oneof_name (&reply->base);
    ProtobufCMessage **slot =
        *name ? pmo_wire_message_slot ((ProtobufCMessage *)reply, name) : NULL;
    return slot ? *slot : NULL;
}

//  ---------------------------------------------------------------------
//  The services' commands

ProtobufCMessage *pmoctl_reply_member (ProtobufCMessage *reply, const char *name)
{
    ProtobufCMessage **slot = name ? pmo_wire_message_slot (reply, name) : NULL;
    return slot && *slot ? *slot : reply;
}

int pmoctl_run_call (pmoctl_t *ctl, const pmoctl_command_t *cmd, pmoctl_args_t *args)
{
    pmoctl_request_t request = {cmd->member, json_object (), NULL, NULL};
    int rc = cmd->build ? cmd->build (ctl, cmd, args, &request)
                        : pmoctl_args_json (cmd, args, request.body);
    ProtobufCMessage *reply = NULL;
    if (rc == PMOCTL_OK) {
        reply = request.message
                    ? pmoctl_call_member (ctl, cmd->service, request.member, request.message, NULL)
                    : pmoctl_service_call (ctl, cmd->service, request.member, request.body);
        rc = reply ? PMOCTL_OK : ctl->status;
    }
    json_decref (request.body);
    if (rc)
        return rc;
    if (request.notice)
        fputs (request.notice, stderr);
    bool show_prints_json = cmd->json && !*cmd->json;
    if (ctl->json && !show_prints_json)
        return pmoctl_print_json (pmoctl_reply_member (reply, cmd->json));
    return cmd->show ? cmd->show (ctl, cmd, args, reply) : PMOCTL_OK;
}

int pmoctl_show_entity (pmoctl_t *ctl, const pmoctl_command_t *cmd, pmoctl_args_t *args,
                        ProtobufCMessage *reply)
{
    pmoctl_print_entity (ctl, pmoctl_reply_member (reply, cmd->json), stdout);
    return PMOCTL_OK;
}

int pmoctl_show_pong (pmoctl_t *ctl, const pmoctl_command_t *cmd, pmoctl_args_t *args,
                      ProtobufCMessage *reply)
{
    const Pmo__Pong *pong = (const Pmo__Pong *)pmoctl_reply_member (reply, "pong");
    if (pong->base.descriptor != &pmo__pong__descriptor) {
        fprintf (stderr, "pmoctl: %s answered ping with no pong\n",
                 pmoctl_endpoints[cmd->service].name);
        return PMOCTL_REFUSED;
    }
    int rc = PMOCTL_OK;
    if (ctl->json)
        rc = pmoctl_print_json (&pong->base);
    else
        printf ("service:  %s\nversion:  %s\nredis_ok: %s\nuptime:   %lld s\n", pong->service,
                pong->version, pong->redis_ok ? "yes" : "no", (long long)(pong->uptime_ms / 1000));
    if (!pong->redis_ok) {
        fprintf (stderr, "pmoctl: %s answers but cannot reach its Redis\n",
                 pmoctl_endpoints[cmd->service].name);
        rc = PMOCTL_REFUSED;
    }
    return rc;
}
