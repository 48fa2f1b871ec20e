/*  gateway_http.c: the answers: headers every answer carries, problem
    documents (RFC 9457), JSON with its ETag, and the small helpers of
    reading a request (query parameters) and shaping an answer.
*/
#include "gateway_internal.h"

#include <stdio.h>
#include <string.h>

static const char *s_reason (int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 304:
        return "Not Modified";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 409:
        return "Conflict";
    case 412:
        return "Precondition Failed";
    case 413:
        return "Content Too Large";
    case 415:
        return "Unsupported Media Type";
    case 422:
        return "Unprocessable Content";
    case 428:
        return "Precondition Required";
    case 429:
        return "Too Many Requests";
    case 500:
        return "Internal Server Error";
    case 503:
        return "Service Unavailable";
    case 504:
        return "Gateway Timeout";
    default:
        return "Error";
    }
}

//  Queue a response (taking ownership of body, malloc'd) with the headers
//  every answer carries. With out, the caller adds headers and queues.
enum MHD_Result gateway_http_send (request_t *req, int status, const char *type, char *body,
                                   size_t size, struct MHD_Response **out)
{
    struct MHD_Response *response = MHD_create_response_from_buffer (
        size, body ? body : "", body ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    if (type)
        MHD_add_response_header (response, "Content-Type", type);
    MHD_add_response_header (response, "X-Content-Type-Options", "nosniff");
    if (*req->request_id)
        MHD_add_response_header (response, "X-Request-Id", req->request_id);
    req->status = status;
    req->stage = STAGE_DONE;
    if (out) {
        *out = response;
        return MHD_YES;
    }
    enum MHD_Result rc = MHD_queue_response (req->connection, (unsigned)status, response);
    MHD_destroy_response (response);
    return rc;
}

enum MHD_Result gateway_http_queue (request_t *req, struct MHD_Response *response)
{
    enum MHD_Result rc = MHD_queue_response (req->connection, (unsigned)req->status, response);
    MHD_destroy_response (response);
    return rc;
}

//  A problem document (RFC 9457). extra (may be NULL, stolen) adds members.
enum MHD_Result gateway_http_problem (request_t *req, int status, const char *code,
                                      const char *field, const char *detail, json_t *extra,
                                      const char *header, const char *header_value)
{
    char type[96];
    snprintf (type, sizeof type, "urn:pmo:problem:%s", code ? code : "error");
    json_t *doc = json_pack ("{s:s, s:s, s:i, s:s, s:s, s:s, s:b}", "type", type, "title",
                             s_reason (status), "status", status, "detail", detail ? detail : "",
                             "code", code ? code : "error", "field", field ? field : "",
                             "retryable", status == 429 || status == 503 || status == 504);
    if (*req->request_id)
        json_object_set_new (doc, "request_id", json_string (req->request_id));
    if (extra) {
        json_object_update (doc, extra);
        json_decref (extra);
    }
    char *text = json_dumps (doc, JSON_COMPACT);
    json_decref (doc);
    struct MHD_Response *response;
    gateway_http_send (req, status, "application/problem+json", text, strlen (text), &response);
    MHD_add_response_header (response, "Cache-Control", "no-store");
    if (header)
        MHD_add_response_header (response, header, header_value);
    return gateway_http_queue (req, response);
}

enum MHD_Result gateway_http_json (request_t *req, int status, json_t *doc, uint64_t version,
                                   const char *location, const char *warning)
{
    char *text = json_dumps (doc, JSON_COMPACT);
    json_decref (doc);
    return gateway_http_json_text (req, status, text, version, location, warning);
}

enum MHD_Result gateway_http_json_text (request_t *req, int status, char *text, uint64_t version,
                                        const char *location, const char *warning)
{
    if (!text)
        return gateway_http_problem (req, 500, "internal", "", "the answer is not valid JSON", NULL,
                                     NULL, NULL);
    struct MHD_Response *response;
    gateway_http_send (req, status, "application/json", text, strlen (text), &response);
    MHD_add_response_header (response, "Cache-Control", "no-store");
    if (version) {
        char etag[GATEWAY_ETAG_SIZE];
        MHD_add_response_header (response, "ETag", gateway_etag (version, etag));
    }
    if (location)
        MHD_add_response_header (response, "Location", location);
    if (warning && *warning)
        MHD_add_response_header (response, "Warning", warning);
    return gateway_http_queue (req, response);
}

enum MHD_Result gateway_http_query_collect (void *cls, enum MHD_ValueKind kind, const char *key,
                                            const char *value)
{
    gateway_query_t *query = cls;
    if (json_object_get (query->obj, key)) {
        query->duplicate = true;
        snprintf (query->name, sizeof query->name, "%s", key);
    }
    json_object_set_new (query->obj, key, json_string (value ? value : ""));
    return MHD_YES;
}

//  Remove every member called name, at any depth (token hashes never
//  leave the gateway, not even empty).
void gateway_json_strip (json_t *doc, const char *name)
{
    if (json_is_object (doc)) {
        json_object_del (doc, name);
        const char *key;
        json_t *value;
        json_object_foreach (doc, key, value) gateway_json_strip (value, name);
    } else if (json_is_array (doc)) {
        size_t i;
        json_t *value;
        json_array_foreach (doc, i, value) gateway_json_strip (value, name);
    }
}
