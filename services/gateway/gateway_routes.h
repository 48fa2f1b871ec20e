/*  gateway_routes.h: the HTTP API as a table, and the generic mapping
    between HTTP/JSON and the services' protobuf requests.

    Every resource route is one row: method, path pattern, the service, the
    member of the service's request oneof it fills, fixed JSON for that
    member (e.g. {"kind":"project"}), which field the {id} in the path
    fills, and which member of the reply is the answer. JSON bodies and
    query parameters become the member's message through pmo_json, from the
    descriptors, so field names and types are the .proto's. Adding a
    service is adding rows (and its entry in gateway_services).
*/
#ifndef GATEWAY_ROUTES_H_INCLUDED
#define GATEWAY_ROUTES_H_INCLUDED

#include "pmo_json.h"
#include "pmo_wire.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

//  The services the gateway reaches, in the order of gateway_services.
typedef enum {
    GATEWAY_SVC_REGISTRY = 0,
    GATEWAY_SVC_GATEWAY = 1, //  its own token service
    GATEWAY_SVC_ALLOCATOR = 2,
    GATEWAY_SVC_RISKMON = 3,
    GATEWAY_SVC_NOTIFIER = 4,
    GATEWAY_SVC_PLANNER = 5,
    GATEWAY_SVC_COUNT = 6,
} gateway_svc_t;

typedef struct {
    const char *name;                               //  "registry": flags --<name>, metrics labels
    const char *title;                              //  "the project registry", for people
    const ProtobufCMessageDescriptor *request_desc; //  NULL: its proto is not there yet
    const ProtobufCMessageDescriptor *reply_desc;
} gateway_service_t;

extern const gateway_service_t gateway_services[GATEWAY_SVC_COUNT];

typedef enum {
    GATEWAY_OP_CREATE,  //  POST a collection: body is the member's message
    GATEWAY_OP_GET,     //  GET an item: fixed + {id}
    GATEWAY_OP_LIST,    //  GET a collection: fixed + query parameters (+ {id} of the owner)
    GATEWAY_OP_UPDATE,  //  PUT an item: body, {id}, version from If-Match
    GATEWAY_OP_PATCH,   //  PATCH an item: read it, merge the body (RFC 7396), update
    GATEWAY_OP_ARCHIVE, //  DELETE an item: fixed + {id} + version from If-Match
    GATEWAY_OP_ACTION,  //  POST to an item's action: body + {id} + version (If-Match or body)
} gateway_op_t;

typedef struct {
    const char *method;
    const char *pattern; //  "/api/v1/projects/{id}/milestones"
    gateway_svc_t service;
    gateway_op_t op;
    const char *member;        //  the request's oneof member, e.g. "create_project"
    const char *fixed;         //  JSON object merged into the member, NULL if none
    const char *id_field;      //  the member's field that {id} fills, NULL if none
    const char *version_field; //  the member's field that If-Match fills, NULL if none
    const char *reply;         //  the reply's member returned, e.g. "project" or "page"
    const char *items;         //  lists: the page's repeated field, e.g. "projects"
    const char *read_member;   //  PATCH: the member that reads the item ...
    const char *read_fixed;    //  ... with this JSON and "id"
    const char *location;      //  creates: the item's path prefix for Location
    int status;                //  on success: 200, 201
    const char *summary;       //  one line for people
} gateway_route_t;

//  The table ends with a row whose method is NULL.
extern const gateway_route_t gateway_routes[];
size_t gateway_route_count (void);

//  Why a request cannot be built: the HTTP status, the field (path in the
//  body or the parameter's name) and a message.
typedef struct {
    int status;
    const char *code; //  "invalid", "precondition_required", ...
    char field[256];
    char detail[512];
} gateway_problem_t;

//  Find the route for method and path. On success returns it and copies the
//  {id} segment into param (or "" if the route has none). NULL if none
//  matches; then *allow lists the methods the path has ("" if the path is
//  unknown: 404; otherwise 405).
const gateway_route_t *gateway_route_match (const char *method, const char *path, char *param,
                                            size_t param_size, char *allow, size_t allow_size);

//  Build the JSON of the route's member from the request: body (a JSON
//  object or NULL), query (an object of string values, may be NULL), the
//  {id} and the version from If-Match (0 if none). Returns a new object
//  (caller decrefs), or NULL with the problem filled.
json_t *gateway_route_member (const gateway_route_t *route, const json_t *body, const json_t *query,
                              const char *param, uint64_t version, gateway_problem_t *problem);

//  Turn the member JSON into the service's request message (a new message,
//  freed by the caller with protobuf_c_message_free_unpacked after it has
//  detached the header). NULL with the problem filled (fields are reported
//  relative to the member, as the client wrote them).
ProtobufCMessage *gateway_route_request (const gateway_route_t *route, json_t *member,
                                         gateway_problem_t *problem);

//  A description of the route for documents (the OpenAPI generator):
//  method, pattern, service, op, member and reply with their message types,
//  the query parameters a list takes. New reference.
json_t *gateway_route_describe (const gateway_route_t *route);

//  RFC 7396 merge patch: apply patch onto target (both objects; target is
//  changed in place).
void gateway_merge_patch (json_t *target, const json_t *patch);

//  out = a then b (either may be NULL), cut to fit size, without printf:
//  these copies are on every request's path. Returns out.
char *gateway_join (char *out, size_t size, const char *a, const char *b);

//  The ETag of an item's version, the number in quotes ("\"3\""), written
//  into out (GATEWAY_ETAG_SIZE bytes) without printf. Returns out.
#define GATEWAY_ETAG_SIZE 24
char *gateway_etag (uint64_t version, char *out);

//  The HTTP status of a service error code (stale with If-Match: 412).
int gateway_http_status (Pmo__ErrorCode code, bool if_match);

//  The field a service reported, relative to the member ("create_project.
//  budget" -> "budget"). Returns a pointer into field.
const char *gateway_relative_field (const gateway_route_t *route, const char *field);

#endif
