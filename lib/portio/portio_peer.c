/*  portio_peer.c: talking to the services a peer holds clients of: the
    registry's requests and paged lists, the allocator's, the risk
    monitor's and the planner's, and the quick ping before a report. Every call blocks, one
    request after another (see portio_import.h on threads).
*/
#include "portio_import.h"
#include "portio_internal.h"

#include "allocator.pb-c.h"
#include "planner.pb-c.h"
#include "riskmon.pb-c.h"

#include "pmo_reflect.h"
#include "pmo_wire.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#define LIST_PAGE 500

//  ---------------------------------------------------------------------
//  Talking to the registry

Pmo__RegistryReply *portio_import_call (const portio_import_peer_t *peer, const char *member,
                                        ProtobufCMessage *body, char *why, size_t why_size)
{
    Pmo__RegistryRequest request = PMO__REGISTRY_REQUEST__INIT;
    Pmo__Header header;
    char request_id[40];
    int timeout = peer->timeout_ms > 0 ? peer->timeout_ms : 10000;
    int attempts = peer->attempts > 0 ? peer->attempts : 3;
    pmo_header_init (&header, request_id, timeout * attempts, (Pmo__Identity *)peer->identity);
    request.header = &header;
    pmo_reflect_set_oneof (&request.base, member, body);
    ProtobufCMessage *reply = NULL;
    if (pmo_client_call (peer->registry, &request.base, &pmo__registry_reply__descriptor, timeout,
                         attempts, &reply)) {
        snprintf (why, why_size, "no reply from the registry to %s within %d ms x %d", member,
                  timeout, attempts);
        return NULL;
    }
    return (Pmo__RegistryReply *)reply;
}

void portio_import_error_text (const Pmo__Error *error, char *why, size_t why_size)
{
    snprintf (why, why_size, "%s%s%s%s: %s", pmo_error_code_name (error->code),
              *error->field ? " [" : "", error->field, *error->field ? "]" : "", error->message);
}

//  Copy a page's got records into arena at the end of *items (*n of them,
//  room for *max), growing it as needed.
static void s_append (pmo_arena_t *arena, ProtobufCMessage ***items, size_t *n, size_t *max,
                      ProtobufCMessage *const *msgs, size_t got)
{
    if (*n + got > *max) {
        size_t grown_max = (*n + got) * 2 + 16;
        ProtobufCMessage **grown = pmo_arena_alloc (arena, grown_max * sizeof (void *));
        if (*n)
            memcpy (grown, *items, *n * sizeof (void *));
        *items = grown;
        *max = grown_max;
    }
    for (size_t i = 0; i < got; i++)
        (*items)[(*n)++] = pmo_reflect_copy (msgs[i], arena);
}

int portio_import_list (const portio_import_peer_t *peer, pmo_arena_t *arena, Pmo__EntityKind kind,
                        const char *org_unit, const char *project_id, bool archived,
                        ProtobufCMessage ***items, size_t *n, char *why, size_t why_size)
{
    static const char *fields[] = {NULL,       "org_units",  "portfolios",     "programmes",
                                   "projects", "milestones", "status_reports", "gate_decisions"};
    *items = NULL;
    *n = 0;
    size_t max = 0;
    char *cursor = NULL;
    for (;;) {
        Pmo__ListRequest list = PMO__LIST_REQUEST__INIT;
        list.kind = kind;
        list.org_unit = (char *)(org_unit ? org_unit : "");
        list.project_id = (char *)(project_id ? project_id : "");
        list.include_archived = archived;
        list.limit = LIST_PAGE;
        list.cursor = cursor ? cursor : "";
        Pmo__RegistryReply *reply = portio_import_call (peer, "list", &list.base, why, why_size);
        if (!reply)
            return -1;
        if (reply->error) {
            portio_import_error_text (reply->error, why, why_size);
            protobuf_c_message_free_unpacked (&reply->base, NULL);
            return -1;
        }
        Pmo__Page *page = reply->page;
        const ProtobufCFieldDescriptor *field =
            protobuf_c_message_descriptor_get_field_by_name (&pmo__page__descriptor, fields[kind]);
        size_t got = page ? *(size_t *)((char *)page + field->quantifier_offset) : 0;
        ProtobufCMessage **msgs =
            page ? *(ProtobufCMessage ***)((char *)page + field->offset) : NULL;
        s_append (arena, items, n, &max, msgs, got);
        bool more = page && !pmo_str_empty (page->next_cursor) &&
                    !(cursor && strcmp (cursor, page->next_cursor) == 0);
        cursor = more ? pmo_arena_strdup (arena, page->next_cursor) : NULL;
        protobuf_c_message_free_unpacked (&reply->base, NULL);
        if (!more)
            return 0;
    }
}

//  ---------------------------------------------------------------------
//  Talking to the allocator and the risk monitor

ProtobufCMessage *portio_import_service_call (const portio_import_peer_t *peer,
                                              portio_import_service_t service, const char *member,
                                              ProtobufCMessage *body, char *why, size_t why_size)
{
    bool allocator = service == PORTIO_IMPORT_ALLOCATOR;
    bool planner = service == PORTIO_IMPORT_PLANNER;
    pmo_client_t *client = allocator ? peer->allocator : planner ? peer->planner : peer->riskmon;
    const char *name = allocator ? "allocator" : planner ? "planner" : "risk monitor";
    if (!client) {
        snprintf (why, why_size, "the %s is not connected (give its endpoint)", name);
        return NULL;
    }
    const ProtobufCMessageDescriptor *reply_desc = allocator ? &pmo__allocator_reply__descriptor
                                                   : planner ? &pmo__planner_reply__descriptor
                                                             : &pmo__riskmon_reply__descriptor;
    //  The three requests are {header, oneof body}: built through the descriptor
    Pmo__AllocatorRequest allocator_request = PMO__ALLOCATOR_REQUEST__INIT;
    Pmo__RiskmonRequest riskmon_request = PMO__RISKMON_REQUEST__INIT;
    Pmo__PlannerRequest planner_request = PMO__PLANNER_REQUEST__INIT;
    ProtobufCMessage *request = allocator ? &allocator_request.base
                                : planner ? &planner_request.base
                                          : &riskmon_request.base;
    Pmo__Header header;
    char request_id[40];
    int timeout = peer->timeout_ms > 0 ? peer->timeout_ms : 10000;
    int attempts = peer->attempts > 0 ? peer->attempts : 3;
    pmo_header_init (&header, request_id, timeout * attempts, (Pmo__Identity *)peer->identity);
    allocator_request.header = riskmon_request.header = planner_request.header = &header;
    pmo_reflect_set_oneof (request, member, body);
    ProtobufCMessage *reply = NULL;
    if (pmo_client_call (client, request, reply_desc, timeout, attempts, &reply)) {
        snprintf (why, why_size, "no reply from the %s to %s within %d ms x %d", name, member,
                  timeout, attempts);
        return NULL;
    }
    return reply;
}

bool portio_import_answers (const portio_import_peer_t *peer, portio_import_service_t service,
                            int timeout_ms)
{
    portio_import_peer_t quick = *peer;
    quick.timeout_ms = timeout_ms;
    quick.attempts = 1;
    Pmo__PingRequest ping = PMO__PING_REQUEST__INIT;
    char why[256];
    ProtobufCMessage *reply = NULL;
    if (service != PORTIO_IMPORT_REGISTRY)
        reply = portio_import_service_call (&quick, service, "ping", &ping.base, why, sizeof why);
    else if (quick.registry)
        reply =
            (ProtobufCMessage *)portio_import_call (&quick, "ping", &ping.base, why, sizeof why);
    if (reply)
        protobuf_c_message_free_unpacked (reply, NULL);
    return reply != NULL;
}

const Pmo__Error *portio_import_reply_error (const ProtobufCMessage *reply)
{
    const ProtobufCFieldDescriptor *f =
        protobuf_c_message_descriptor_get_field_by_name (reply->descriptor, "error");
    const Pmo__Error *error = *(Pmo__Error *const *)((const char *)reply + f->offset);
    return error && error->code != PMO__ERROR_CODE__ERROR_NONE ? error : NULL;
}

ProtobufCMessage *portio_import_reply_member (const ProtobufCMessage *msg, const char *name)
{
    const ProtobufCFieldDescriptor *f =
        protobuf_c_message_descriptor_get_field_by_name (msg->descriptor, name);
    assert (f);
    if (*(const uint32_t *)((const char *)msg + f->quantifier_offset) != f->id)
        return NULL;
    return *(ProtobufCMessage *const *)((const char *)msg + f->offset);
}

//  Every record of one of the four entities under org_unit ("" = all the
//  caller may see), closed and released ones too, copied into arena.
int portio_import_svc_list (const portio_import_peer_t *peer, pmo_arena_t *arena,
                            const char *entity, const char *org_unit, ProtobufCMessage ***items,
                            size_t *n, char *why, size_t why_size)
{
    *items = NULL;
    *n = 0;
    size_t max = 0;
    const char *cursor = "";
    bool risk = strcmp (entity, "risk") == 0, issue = strcmp (entity, "issue") == 0;
    bool change = strcmp (entity, "change_request") == 0, raid = strcmp (entity, "raid") == 0;
    bool alert = strcmp (entity, "alert") == 0;
    bool resource = strcmp (entity, "resource") == 0;
    for (;;) {
        Pmo__ResourceListRequest resources = PMO__RESOURCE_LIST_REQUEST__INIT;
        Pmo__AllocationListRequest allocations = PMO__ALLOCATION_LIST_REQUEST__INIT;
        Pmo__RiskmonListRequest registers = PMO__RISKMON_LIST_REQUEST__INIT;
        ProtobufCMessage *body;
        const char *member, *page_member, *list;
        portio_import_service_t service = PORTIO_IMPORT_ALLOCATOR;
        if (resource) {
            resources.org_unit = (char *)org_unit;
            resources.limit = LIST_PAGE;
            resources.cursor = (char *)cursor;
            body = &resources.base, member = "list_resources", page_member = "resources";
            list = "resources";
        } else if (!risk && !issue && !alert && !change && !raid) {
            allocations.org_unit = (char *)org_unit;
            allocations.limit = LIST_PAGE;
            allocations.cursor = (char *)cursor;
            body = &allocations.base, member = "list_allocations", page_member = "allocations";
            list = "allocations";
        } else {
            registers.kind = risk     ? PMO__REGISTER_KIND__REGISTER_KIND_RISK
                             : alert  ? PMO__REGISTER_KIND__REGISTER_KIND_ALERT
                             : change ? PMO__REGISTER_KIND__REGISTER_KIND_CHANGE_REQUEST
                             : raid   ? PMO__REGISTER_KIND__REGISTER_KIND_RAID
                                      : PMO__REGISTER_KIND__REGISTER_KIND_ISSUE;
            registers.org_unit = (char *)org_unit;
            registers.include_closed = true;
            registers.limit = LIST_PAGE;
            registers.cursor = (char *)cursor;
            body = &registers.base, member = "list", page_member = "page";
            list = risk     ? "risks"
                   : alert  ? "alerts"
                   : change ? "change_requests"
                   : raid   ? "raid_entries"
                            : "issues";
            service = PORTIO_IMPORT_RISKMON;
        }
        ProtobufCMessage *reply =
            portio_import_service_call (peer, service, member, body, why, why_size);
        if (!reply)
            return -1;
        const Pmo__Error *error = portio_import_reply_error (reply);
        ProtobufCMessage *page = error ? NULL : portio_import_reply_member (reply, page_member);
        if (error || !page) {
            if (error)
                portio_import_error_text (error, why, why_size);
            else
                snprintf (why, why_size, "%s: the reply has no page", member);
            protobuf_c_message_free_unpacked (reply, NULL);
            return -1;
        }
        const ProtobufCFieldDescriptor *f =
            protobuf_c_message_descriptor_get_field_by_name (page->descriptor, list);
        size_t got = *(size_t *)((char *)page + f->quantifier_offset);
        ProtobufCMessage **msgs = *(ProtobufCMessage ***)((char *)page + f->offset);
        s_append (arena, items, n, &max, msgs, got);
        const char *next = pmo_reflect_str (page, "next_cursor");
        bool more = got && !pmo_str_empty (next) && strcmp (next, cursor) != 0;
        cursor = more ? pmo_arena_strdup (arena, next) : "";
        protobuf_c_message_free_unpacked (reply, NULL);
        if (!more)
            return 0;
    }
}
