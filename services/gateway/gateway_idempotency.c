/*  gateway_idempotency.c: the Idempotency-Key header
    (draft-ietf-httpapi-idempotency-key-header).

    A key is bound to the request it first came with: the token, the
    method, the path with its query and the SHA-256 of the body. The same
    key with the same request gets the first answer (the services replay
    what they stored under the request id); the same key with any other
    request (another body, path, method or service) is 422 and never
    reaches a service, so it can neither replay another request's answer
    nor wait for a reply that will not come.

    The request id carries the request's fingerprint as well as the key,
    so even once the binding has expired (a day, as long as the services
    keep done request ids) a different request cannot get a stored answer
    that is not its own.
*/
#include "gateway_internal.h"
#include "gateway_model.h"

#include "pmo_log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KEY_MAX 200 //  the longest key taken

//  The query parameters in the order they came, as "k=v&..." appended to
//  a growing buffer.
typedef struct {
    char *text;
    size_t size;
} query_text_t;

static enum MHD_Result s_query_append (void *cls, enum MHD_ValueKind kind, const char *key,
                                       const char *value)
{
    (void)kind;
    query_text_t *query = cls;
    size_t add = strlen (key) + (value ? strlen (value) : 0) + 2;
    query->text = realloc (query->text, query->size + add + 1);
    if (!query->text)
        abort ();
    query->size +=
        (size_t)snprintf (query->text + query->size, add + 1, "%s=%s&", key, value ? value : "");
    return MHD_YES;
}

//  The request's fingerprint: SHA-256 of the method, the path, the query
//  and the SHA-256 of the body (GATEWAY_HASH_HEX bytes).
static void s_fingerprint (request_t *req, const char *url, const char *method, char *out)
{
    query_text_t query = {0};
    MHD_get_connection_values (req->connection, MHD_GET_ARGUMENT_KIND, s_query_append, &query);
    char body[GATEWAY_HASH_HEX];
    gateway_sha256_hex (req->body ? req->body : "", req->size, body);
    char *text = NULL;
    size_t size = 0;
    FILE *stream = open_memstream (&text, &size);
    if (!stream)
        abort ();
    fprintf (stream, "%s\n%s\n%s\n%s", method, url, query.text ? query.text : "", body);
    fclose (stream);
    gateway_sha256_hex (text, size, out);
    free (text);
    free (query.text);
}

//  The request id of the caller's request: from its Idempotency-Key if it
//  has one. 0, or an answer was queued (*answered).
int gateway_idempotency_take (self_t *self, request_t *req, const char *url, const char *method,
                              enum MHD_Result *answered)
{
    const char *key =
        MHD_lookup_connection_value (req->connection, MHD_HEADER_KIND, "Idempotency-Key");
    if (!key) {
        gateway_new_id (self, req->request_id);
        return 0;
    }
    bool ok = *key && strlen (key) <= KEY_MAX;
    for (const char *c = key; ok && *c; c++)
        ok = *c > 32 && *c < 127;
    if (!ok) {
        *answered = gateway_http_problem (req, 400, "invalid", "Idempotency-Key",
                                          "Idempotency-Key is 1 to 200 printable characters", NULL,
                                          NULL, NULL);
        return -1;
    }
    //  Scoped to the token, so that nobody can replay (and read) another
    //  caller's answer by guessing keys
    char key_hash[GATEWAY_HASH_HEX], fingerprint[GATEWAY_HASH_HEX];
    gateway_sha256_hex (key, strlen (key), key_hash);
    s_fingerprint (req, url, method, fingerprint);
    char binding[GATEWAY_TOKEN_ID_LEN + 48];
    snprintf (binding, sizeof binding, "%s.%.40s", req->caller.token->id, key_hash);
    int rc = gateway_store_idem_bind (self->store, binding, fingerprint);
    if (rc < 0) {
        *answered = gateway_http_problem (req, 503, "unavailable", "",
                                          "the gateway's store (Redis) is unavailable; retry "
                                          "shortly",
                                          NULL, "Retry-After", "1");
        return -1;
    }
    if (rc == 0) {
        pmo_warn ("gateway: idempotency key reused token=%s method=%s", req->caller.token->id,
                  method);
        *answered = gateway_http_problem (
            req, 422, "key_reused", "Idempotency-Key",
            "this Idempotency-Key was used with another request (method, path or body); use a "
            "new key for a new request",
            NULL, NULL, NULL);
        return -1;
    }
    char both[2 * GATEWAY_HASH_HEX + 2], id_hash[GATEWAY_HASH_HEX];
    snprintf (both, sizeof both, "%s\n%s", key_hash, fingerprint);
    gateway_sha256_hex (both, strlen (both), id_hash);
    snprintf (req->request_id, sizeof req->request_id, "%s.%.40s", req->caller.token->id, id_hash);
    return 0;
}
