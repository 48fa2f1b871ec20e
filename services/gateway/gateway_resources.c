/*  gateway_resources.c: the resource routes of the table (gateway_routes.c)
    as HTTP: the body and headers checked, the service's request built and
    sent, a PATCH read first and merged, and the reply answered as JSON
    with its ETag, Location and warnings, or as a problem document.
*/
#include "gateway_internal.h"
#include "gateway_model.h"

#include "pmo_json.h"
#include "pmo_reflect.h"
#include "pmo_wire.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

//  Answer a service's error as a problem document; its other non-empty
//  repeated fields (e.g. missing_artifacts) come along as members.
static enum MHD_Result s_service_problem (self_t *self, request_t *req,
                                          const gateway_route_t *route,
                                          const ProtobufCMessage *reply, bool if_match)
{
    const Pmo__Error *error = gateway_reply_error (reply);
    int status = gateway_http_status (error->code, if_match);
    if (error->code == PMO__ERROR_CODE__ERROR_UNAVAILABLE)
        gateway_metrics_upstream (self->metrics, route->service, false);
    json_t *whole = pmo_json_from_message (reply);
    json_t *extra = json_object ();
    const char *key;
    json_t *value;
    json_object_foreach (whole, key, value)
    {
        if (json_is_array (value) && json_array_size (value) > 0)
            json_object_set (extra, key, value);
    }
    json_decref (whole);
    const char *field = gateway_relative_field (route, error->field ? error->field : "");
    if (status == 412 && strcmp (field, "version") == 0)
        field = "If-Match";
    return gateway_http_problem (req, status, pmo_error_code_name (error->code), field,
                                 error->message, extra, status == 503 ? "Retry-After" : NULL, "1");
}

//  The version in If-Match; 0 if absent; -1 if malformed, -2 if weak.
static int s_if_match (struct MHD_Connection *connection, uint64_t *version)
{
    *version = 0;
    const char *value = MHD_lookup_connection_value (connection, MHD_HEADER_KIND, "If-Match");
    return value ? gateway_if_match_parse (value, version) : 0;
}

//  msg's field called name if it is set, else NULL (an unset oneof
//  member is not in the JSON).
static const ProtobufCFieldDescriptor *s_set_field (const ProtobufCMessage *msg, const char *name)
{
    const ProtobufCFieldDescriptor *field =
        protobuf_c_message_descriptor_get_field_by_name (msg->descriptor, name);
    if (field && (field->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
        *(const uint32_t *)((const char *)msg + field->quantifier_offset) != field->id)
        return NULL;
    return field;
}

//  The id of a created item, as its JSON shows it: the string "id", or
//  that of the first member message that has one.
static const char *s_created_id (const ProtobufCMessage *item)
{
    const ProtobufCFieldDescriptor *id = s_set_field (item, "id");
    if (id && id->type == PROTOBUF_C_TYPE_STRING && id->label != PROTOBUF_C_LABEL_REPEATED)
        return pmo_reflect_str (item, "id");
    for (unsigned i = 0; i < item->descriptor->n_fields; i++) {
        const ProtobufCFieldDescriptor *field = item->descriptor->fields + i;
        if (field->type != PROTOBUF_C_TYPE_MESSAGE || field->label == PROTOBUF_C_LABEL_REPEATED ||
            s_set_field (item, field->name) != field)
            continue;
        const ProtobufCMessage *member =
            *(ProtobufCMessage *const *)((const char *)item + field->offset);
        const ProtobufCFieldDescriptor *member_id = member ? s_set_field (member, "id") : NULL;
        if (member_id && member_id->type == PROTOBUF_C_TYPE_STRING &&
            member_id->label != PROTOBUF_C_LABEL_REPEATED)
            return pmo_reflect_str (member, "id");
    }
    return NULL;
}

static bool s_json_type (struct MHD_Connection *connection)
{
    const char *type = MHD_lookup_connection_value (connection, MHD_HEADER_KIND, "Content-Type");
    if (!type)
        return true; //  curl -d without -H: be kind, the body is checked anyway
    return strncasecmp (type, "application/json", 16) == 0 ||
           strncasecmp (type, "application/merge-patch+json", 28) == 0;
}

//  Build the route's request from the member JSON and send it as the
//  caller under the caller's request id.
static enum MHD_Result s_route_send (self_t *self, request_t *req, const gateway_route_t *route,
                                     json_t *member)
{
    gateway_problem_t problem;
    ProtobufCMessage *request = gateway_route_request (route, member, &problem);
    json_decref (member);
    if (!request)
        return gateway_http_problem (req, problem.status, problem.code, problem.field,
                                     problem.detail, NULL, NULL, NULL);
    if (gateway_call (self, req, route->service, request, &req->caller.identity, req->request_id,
                      self->config.upstream_timeout_ms))
        return gateway_http_problem (req, 503, "unavailable", "",
                                     "the service is not configured in this gateway", NULL, NULL,
                                     NULL);
    return MHD_YES;
}

//  A new request for a route: check it, build it, send it.
enum MHD_Result gateway_resource_begin (self_t *self, request_t *req)
{
    const gateway_route_t *route = req->route;
    struct MHD_Connection *connection = req->connection;
    bool takes_body = route->op == GATEWAY_OP_CREATE || route->op == GATEWAY_OP_UPDATE ||
                      route->op == GATEWAY_OP_PATCH || route->op == GATEWAY_OP_ACTION;
    json_t *body = NULL;
    if (takes_body) {
        if (!s_json_type (connection))
            return gateway_http_problem (req, 415, "unsupported_media_type", "Content-Type",
                                         "send the body as application/json", NULL, NULL, NULL);
        json_error_t error;
        body = json_loadb (req->body ? req->body : "", req->size, JSON_REJECT_DUPLICATES, &error);
        if (!body) {
            char detail[300];
            snprintf (detail, sizeof detail, "the body is not valid JSON: %s (line %d, column %d)",
                      error.text, error.line, error.column);
            return gateway_http_problem (req, 400, "malformed", "", detail, NULL, NULL, NULL);
        }
    } else if (req->size > 0)
        return gateway_http_problem (req, 400, "invalid", "", "this request takes no body", NULL,
                                     NULL, NULL);
    //  No query parameters (most requests): no object for them
    gateway_query_t query = {0};
    if (MHD_get_connection_values (connection, MHD_GET_ARGUMENT_KIND, NULL, NULL) > 0) {
        query.obj = json_object ();
        MHD_get_connection_values (connection, MHD_GET_ARGUMENT_KIND, gateway_http_query_collect,
                                   &query);
    }
    gateway_problem_t problem = {0};
    json_t *member = NULL;
    int if_match;
    if (query.duplicate) {
        problem = (gateway_problem_t){.status = 400, .code = "invalid"};
        snprintf (problem.field, sizeof problem.field, "%s", query.name);
        snprintf (problem.detail, sizeof problem.detail, "query parameter '%s' is given twice",
                  query.name);
    } else if ((if_match = s_if_match (connection, &req->version)) != 0) {
        problem = (gateway_problem_t){.status = 400, .code = "invalid", .field = "If-Match"};
        snprintf (problem.detail, sizeof problem.detail, "%s",
                  if_match == -2 ? "a weak validator (W/\"...\") cannot guard a write: send the "
                                   "ETag you read, e.g. \"3\""
                                 : "If-Match is the ETag you read: a version in quotes, e.g. "
                                   "\"3\"");
    } else if (route->op == GATEWAY_OP_PATCH && !req->version) {
        problem = (gateway_problem_t){
            .status = 428, .code = "precondition_required", .field = "If-Match"};
        snprintf (problem.detail, sizeof problem.detail,
                  "send If-Match with the ETag (version) you read");
    } else if (route->op == GATEWAY_OP_PATCH) {
        //  Read the item first; the change follows when it comes
        gateway_route_t read = *route;
        read.op = GATEWAY_OP_GET;
        read.member = route->read_member;
        read.fixed = route->read_fixed;
        read.id_field = "id";
        read.version_field = NULL;
        member = gateway_route_member (&read, NULL, NULL, req->param, 0, &problem);
        ProtobufCMessage *request = member ? gateway_route_request (&read, member, &problem) : NULL;
        json_decref (member);
        if (request) {
            json_decref (query.obj);
            if (!json_is_object (body)) {
                json_decref (body);
                return gateway_http_problem (req, 400, "invalid", "",
                                             "the body must be a JSON object", NULL, NULL, NULL);
            }
            req->patch = body;
            req->kind = KIND_PATCH;
            char read_id[40];
            gateway_new_id (self, read_id);
            if (gateway_call (self, req, route->service, request, &req->caller.identity, read_id,
                              self->config.upstream_timeout_ms))
                return gateway_http_problem (req, 503, "unavailable", "",
                                             "the service is not configured in this gateway", NULL,
                                             NULL, NULL);
            return MHD_YES;
        }
    } else
        member = gateway_route_member (route, body, query.obj, req->param, req->version, &problem);
    json_decref (body);
    json_decref (query.obj);
    if (!member)
        return gateway_http_problem (req, problem.status, problem.code, problem.field,
                                     problem.detail, NULL, NULL, NULL);
    return s_route_send (self, req, route, member);
}

//  A PATCH's read came back: merge the body into the item and send the change.
void gateway_resource_patch (self_t *self, request_t *req)
{
    ProtobufCMessage **slot = pmo_wire_message_slot (req->reply, req->route->reply);
    json_t *current = slot && *slot ? pmo_json_from_message (*slot) : NULL;
    gateway_reply_drop (self, req);
    gateway_problem_t problem;
    json_t *member = NULL;
    if (current) {
        //  The path may name the item by its code: the change names it by
        //  the id that was read (a body naming another id is still refused)
        json_t *read_id = json_object_get (current, "id");
        char *id = strdup (json_is_string (read_id) && *json_string_value (read_id)
                               ? json_string_value (read_id)
                               : req->param);
        assert (id);
        gateway_merge_patch (current, req->patch);
        member = gateway_route_member (req->route, current, NULL, id, req->version, &problem);
        free (id);
        json_decref (current);
    }
    ProtobufCMessage *request =
        member ? gateway_route_request (req->route, member, &problem) : NULL;
    json_decref (member);
    req->kind = KIND_ROUTE;
    if (!request || gateway_call (self, req, req->route->service, request, &req->caller.identity,
                                  req->request_id, self->config.upstream_timeout_ms)) {
        //  Answered when it resumes: an internal failure of the merge
        req->fail = 500;
        gateway_ready (req);
    }
}

//  Warnings (rules that advised without blocking) as one Warning header.

//  page is the service's own page of its items field ("AllocationPage" of
//  repeated Allocation), not a message shared by several lists.
static bool s_own_page (const ProtobufCMessage *page, const char *items)
{
    const ProtobufCFieldDescriptor *field =
        protobuf_c_message_descriptor_get_field_by_name (page->descriptor, items);
    if (!field || field->type != PROTOBUF_C_TYPE_MESSAGE)
        return false;
    const ProtobufCMessageDescriptor *item = field->descriptor;
    size_t len = strlen (item->short_name);
    return strncmp (page->descriptor->short_name, item->short_name, len) == 0 &&
           strcmp (page->descriptor->short_name + len, "Page") == 0;
}
static void s_warnings (const ProtobufCMessage *reply, char *warning, size_t size)
{
    *warning = 0;
    const ProtobufCFieldDescriptor *field =
        protobuf_c_message_descriptor_get_field_by_name (reply->descriptor, "warnings");
    if (!field || field->type != PROTOBUF_C_TYPE_STRING)
        return;
    size_t n = *(const size_t *)((const char *)reply + field->quantifier_offset);
    char *const *list = *(char *const *const *)((const char *)reply + field->offset);
    for (size_t i = 0; i < n; i++) {
        size_t used = strlen (warning);
        snprintf (warning + used, size - used, "%s199 pmo \"", i ? ", " : "");
        used = strlen (warning);
        for (const char *c = list[i]; *c && used + 3 < size; c++)
            if (*c != '"' && *c != '\\' && (unsigned char)*c >= 32)
                warning[used++] = *c;
        warning[used] = 0;
        snprintf (warning + used, size - used, "\"");
    }
}

//  The reply of a route came: answer it.
enum MHD_Result gateway_resource_finish (self_t *self, request_t *req)
{
    const gateway_route_t *route = req->route;
    if (req->fail == 503)
        return gateway_http_problem (req, 503, "unavailable", "",
                                     "the gateway is stopping; retry shortly with the same "
                                     "Idempotency-Key to learn whether it was done",
                                     NULL, "Retry-After", "1");
    if (req->fail == 409)
        return gateway_http_problem (req, 409, "conflict", "Idempotency-Key",
                                     "a request with this Idempotency-Key is still in progress; "
                                     "retry it once that one is answered",
                                     NULL, "Retry-After", "1");
    if (req->fail == 504)
        return gateway_http_problem (req, 504, "deadline_exceeded", "",
                                     "the service did not answer in time; retry with the same "
                                     "Idempotency-Key to learn whether it was done",
                                     NULL, NULL, NULL);
    if (req->fail)
        return gateway_http_problem (req, 500, "internal", "",
                                     "the change could not be built from the item", NULL, NULL,
                                     NULL);
    ProtobufCMessage *reply = req->reply;
    if (gateway_reply_error (reply))
        return s_service_problem (self, req, route, reply, req->version != 0);
    ProtobufCMessage **slot = pmo_wire_message_slot (reply, route->reply);
    const ProtobufCMessage *item = slot ? *slot : NULL;
    uint64_t etag =
        item && route->op != GATEWAY_OP_LIST && pmo_reflect_has (item->descriptor, "version")
            ? pmo_reflect_u64 (item, "version")
            : 0;
    if (item && route->op == GATEWAY_OP_GET && etag) {
        const char *none =
            MHD_lookup_connection_value (req->connection, MHD_HEADER_KIND, "If-None-Match");
        char tag[GATEWAY_ETAG_SIZE];
        if (none && strcmp (none, gateway_etag (etag, tag)) == 0) {
            struct MHD_Response *response;
            gateway_http_send (req, 304, NULL, NULL, 0, &response);
            MHD_add_response_header (response, "ETag", tag);
            return gateway_http_queue (req, response);
        }
    }
    char warning[1024];
    s_warnings (reply, warning, sizeof warning);
    char location[300];
    const char *created = item && route->location ? s_created_id (item) : NULL;
    if (created)
        gateway_join (location, sizeof location, route->location, created);
    //  An item as the service sent it: its JSON written straight from the
    //  message (no tree: the most common answers cost the least)
    if (item && route->op != GATEWAY_OP_LIST && route->service != GATEWAY_SVC_GATEWAY) {
        char *text = pmo_json_encode (item);
        if (!text)
            return gateway_http_problem (req, 500, "internal", "", "the service's answer is empty",
                                         NULL, NULL, NULL);
        return gateway_http_json_text (req, route->status, text, etag, created ? location : NULL,
                                       warning);
    }
    json_t *doc = item ? pmo_json_from_message (item) : NULL;
    if (!doc)
        return gateway_http_problem (req, 500, "internal", "", "the service's answer is empty",
                                     NULL, NULL, NULL);
    //  The token service's answers lose their hashes
    if (route->service == GATEWAY_SVC_GATEWAY)
        gateway_json_strip (doc, "hash");
    if (route->op == GATEWAY_OP_LIST && route->items) {
        json_t *items = json_object_get (doc, route->items);
        json_t *next = json_object_get (doc, "next_cursor");
        //  "o" takes the reference: borrowed members are increfed, and a
        //  reply without items or a cursor (a list that is never paged)
        //  gets fresh ones that the page then owns
        json_t *page =
            json_pack ("{s:o, s:o}", "items", items ? json_incref (items) : json_array (),
                       "next_cursor", next ? json_incref (next) : json_string (""));
        //  What else a service's own page of these items says (an
        //  AllocationPage's hours booked elsewhere; openapi.py documents it)
        if (s_own_page (item, route->items)) {
            const char *key;
            json_t *value;
            json_object_foreach (doc, key,
                                 value) if (value != items && strcmp (key, "next_cursor") != 0)
                json_object_set (page, key, value);
        }
        json_decref (doc);
        doc = page;
    }
    return gateway_http_json (req, route->status, doc, etag, created ? location : NULL, warning);
}
