/*  test_gateway_openapi.c: the OpenAPI document against the real gateway.

    Every route of the gateway's table is documented; every documented
    operation is called for real (with fresh fixtures, the document's own
    example bodies, and If-Match from a real read), answers a status the
    document lists (a success, with these fixtures), and its JSON answer
    matches the documented schema: required properties, types, enum labels,
    no undocumented properties.
*/
#include "gateway_harness.h"
#include "gateway_routes.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static json_t *s_doc;
static int s_serial;
static char s_mappings[128]; //  the gateway's --mappings: one mapping, "fixture"

static void s_tune (gateway_config_t *config)
{
    config->mappings = s_mappings;
}

static json_t *s_resolve (json_t *schema)
{
    json_t *ref = json_object_get (schema, "$ref");
    if (!json_is_string (ref))
        return schema;
    const char *name = strrchr (json_string_value (ref), '/') + 1;
    const char *section =
        strstr (json_string_value (ref), "/parameters/") ? "parameters" : "schemas";
    json_t *found =
        json_object_get (json_object_get (json_object_get (s_doc, "components"), section), name);
    assert (found);
    return found;
}

//  Check value against schema; prints the path of a mismatch. 0 if it fits.
static int s_validate (json_t *schema, json_t *value, const char *path)
{
    schema = s_resolve (schema);
    const char *type = json_string_value (json_object_get (schema, "type"));
    if (!type)
        return 0;
    bool ok = (strcmp (type, "object") == 0 && json_is_object (value)) ||
              (strcmp (type, "array") == 0 && json_is_array (value)) ||
              (strcmp (type, "string") == 0 && json_is_string (value)) ||
              (strcmp (type, "integer") == 0 && json_is_integer (value)) ||
              (strcmp (type, "number") == 0 && json_is_number (value)) ||
              (strcmp (type, "boolean") == 0 && json_is_boolean (value));
    if (!ok) {
        fprintf (stderr, "openapi: %s is not of type %s\n", path, type);
        return -1;
    }
    json_t *choices = json_object_get (schema, "enum");
    if (choices && json_is_string (value)) {
        bool known = false;
        size_t i;
        json_t *choice;
        json_array_foreach (choices, i, choice) known =
            known || strcmp (json_string_value (choice), json_string_value (value)) == 0;
        if (!known) {
            fprintf (stderr, "openapi: %s = '%s' is not a documented label\n", path,
                     json_string_value (value));
            return -1;
        }
    }
    char sub[512];
    if (json_is_array (value)) {
        size_t i;
        json_t *item;
        json_array_foreach (value, i, item)
        {
            snprintf (sub, sizeof sub, "%s[%zu]", path, i);
            if (s_validate (json_object_get (schema, "items"), item, sub))
                return -1;
        }
        return 0;
    }
    if (!json_is_object (value))
        return 0;
    size_t i;
    json_t *name;
    json_array_foreach (json_object_get (schema, "required"), i, name)
    {
        if (!json_object_get (value, json_string_value (name))) {
            fprintf (stderr, "openapi: %s lacks required '%s'\n", path, json_string_value (name));
            return -1;
        }
    }
    json_t *props = json_object_get (schema, "properties");
    json_t *extra = json_object_get (schema, "additionalProperties");
    const char *key;
    json_t *member;
    json_object_foreach (value, key, member)
    {
        snprintf (sub, sizeof sub, "%s.%s", path, key);
        json_t *prop = json_object_get (props, key);
        if (prop) {
            if (s_validate (prop, member, sub))
                return -1;
        } else if (json_is_false (extra)) {
            fprintf (stderr, "openapi: %s is not documented\n", sub);
            return -1;
        } else if (json_is_object (extra) && s_validate (extra, member, sub))
            return -1;
    }
    return 0;
}

//  Fixtures: fresh ones for each operation, so that changes and archives
//  never meet each other.
static char *s_make (gh_t *gh, const char *path, const char *body, const char *headers)
{
    gh_resp_t *resp = gh_http (gh, "POST", path, gh->admin, body, headers);
    GH_CHECK (resp->status == 201, resp);
    json_t *id = json_object_get (resp->json, "id");
    if (!id)
        id = json_object_get (json_object_get (resp->json, "token"), "id");
    char *copy = strdup (json_string_value (id));
    gh_resp_free (&resp);
    return copy;
}

static char *s_fixture (gh_t *gh, const char *pattern)
{
    char body[512], path[160];
    int n = ++s_serial;
    if (strncmp (pattern, "/api/v1/org-units/", 18) == 0) {
        snprintf (body, sizeof body,
                  "{\"id\":\"fx-%d\",\"name\":\"Fixture\",\"kind\":\"department\",\"parent\":"
                  "\"dft\"}",
                  n);
        return s_make (gh, "/api/v1/org-units", body, NULL);
    }
    if (strncmp (pattern, "/api/v1/portfolios/", 19) == 0 ||
        strncmp (pattern, "/api/v1/programmes/", 19) == 0) {
        snprintf (body, sizeof body,
                  "{\"code\":\"FX-%d\",\"name\":\"Fixture\",\"org_unit\":\"dft\"}", n);
        snprintf (path, sizeof path, "%.18s", pattern);
        return s_make (gh, path, body, NULL);
    }
    if (strncmp (pattern, "/api/v1/tokens/", 15) == 0)
        return s_make (gh, "/api/v1/tokens",
                       "{\"name\":\"fixture\",\"subject\":\"fx@dft\",\"grants\":[{\"role\":"
                       "\"viewer\",\"org_unit\":\"dft\"}]}",
                       NULL);
    if (strncmp (pattern, "/api/v1/import/mappings/", 24) == 0)
        return strdup ("fixture");
    bool registry = strncmp (pattern, "/api/v1/projects/", 17) == 0 ||
                    strncmp (pattern, "/api/v1/milestones/", 19) == 0 ||
                    strncmp (pattern, "/api/v1/status-reports/", 23) == 0 ||
                    strncmp (pattern, "/api/v1/gate-decisions/", 23) == 0;
    if (!registry)
        return strdup ("x_dft_1"); //  another service's item: it is not running here
    snprintf (body, sizeof body, "{\"code\":\"FXP-%d\",\"name\":\"Fixture\",\"org_unit\":\"dft\"}",
              n);
    char *project = s_make (gh, "/api/v1/projects", body, NULL);
    if (strstr (pattern, "/gate-request/withdraw")) {
        //  Something to withdraw: the fixture's own pending request
        snprintf (path, sizeof path, "/api/v1/projects/%s/gate-request", project);
        gh_resp_t *resp =
            gh_http (gh, "POST", path, gh->admin, "{\"to_phase\":\"planning\"}", "If-Match: \"1\"");
        GH_STATUS (resp, 200);
        gh_resp_free (&resp);
    }
    if (strncmp (pattern, "/api/v1/projects/", 17) == 0)
        return project;
    char *id = NULL;
    if (strncmp (pattern, "/api/v1/milestones/", 19) == 0) {
        snprintf (path, sizeof path, "/api/v1/projects/%s/milestones", project);
        id = s_make (gh, path, "{\"name\":\"M\",\"baseline_date\":\"2027-01-31\"}", NULL);
    } else if (strncmp (pattern, "/api/v1/status-reports/", 23) == 0) {
        snprintf (path, sizeof path, "/api/v1/projects/%s/status-reports", project);
        id = s_make (gh, path, "{\"period_end\":\"2026-11-20\",\"overall\":\"green\"}", NULL);
    } else if (strncmp (pattern, "/api/v1/gate-decisions/", 23) == 0) {
        snprintf (path, sizeof path, "/api/v1/projects/%s/gate-decisions", project);
        id = s_make (gh, path,
                     "{\"to_phase\":\"planning\",\"outcome\":\"hold\",\"rationale\":\"r\"}",
                     "If-Match: \"1\"");
    }
    assert (id);
    free (project);
    return id;
}

//  Make an example body unique where the service wants unique values.
static void s_unique (json_t *body)
{
    char text[64];
    if (json_object_get (body, "code")) {
        snprintf (text, sizeof text, "EX-%d", ++s_serial);
        json_object_set_new (body, "code", json_string (text));
    }
    if (json_object_get (body, "id") && json_object_get (body, "kind")) {
        snprintf (text, sizeof text, "ex-%d", ++s_serial);
        json_object_set_new (body, "id", json_string (text));
    }
}

static bool s_documented (json_t *operation, long status)
{
    char code[8];
    snprintf (code, sizeof code, "%ld", status);
    return json_object_get (json_object_get (operation, "responses"), code) != NULL;
}

static bool s_has_if_match (json_t *operation)
{
    size_t i;
    json_t *param;
    json_array_foreach (json_object_get (operation, "parameters"), i, param)
    {
        json_t *resolved = s_resolve (param);
        if (strcmp (json_string_value (json_object_get (resolved, "name")), "If-Match") == 0)
            return true;
    }
    return false;
}

static void s_call (gh_t *gh, const char *pattern, const char *method, json_t *operation)
{
    char path[256] = "", upper[16];
    snprintf (upper, sizeof upper, "%s", method);
    for (char *c = upper; *c; c++)
        *c = (char)(*c - 32);
    //  Routes of services that are not running here answer 503
    char param[160], allow[128];
    char probe[256];
    snprintf (probe, sizeof probe, "%s", pattern);
    char *brace = strstr (probe, "{id}");
    if (brace)
        memcpy (brace, "x-_1", 4);
    const gateway_route_t *route =
        gateway_route_match (upper, probe, param, sizeof param, allow, sizeof allow);
    bool absent =
        route && route->service != GATEWAY_SVC_REGISTRY && route->service != GATEWAY_SVC_GATEWAY;
    char *id = strstr (pattern, "{id}") ? s_fixture (gh, pattern) : NULL;
    if (id) {
        const char *at = strstr (pattern, "{id}");
        snprintf (path, sizeof path, "%.*s%s%s", (int)(at - pattern), pattern, id, at + 4);
    } else
        snprintf (path, sizeof path, "%s", pattern);
    //  Path parameters other than {id} and query parameters: their examples
    size_t pi;
    json_t *param_doc;
    json_array_foreach (json_object_get (operation, "parameters"), pi, param_doc)
    {
        const char *name = json_string_value (json_object_get (param_doc, "name"));
        const char *in = json_string_value (json_object_get (param_doc, "in"));
        const char *value = json_string_value (json_object_get (param_doc, "example"));
        if (!name || !in || !value)
            continue;
        char slot[80], rest[256];
        snprintf (slot, sizeof slot, "{%s}", name);
        char *at = strstr (path, slot);
        if (strcmp (in, "path") == 0 && at) {
            snprintf (rest, sizeof rest, "%s", at + strlen (slot));
            snprintf (at, sizeof path - (size_t)(at - path), "%s%s", value, rest);
        } else if (strcmp (in, "query") == 0) {
            size_t used = strlen (path);
            snprintf (path + used, sizeof path - used, "%s%s=%s", strchr (path, '?') ? "&" : "?",
                      name, value);
        }
    }
    char item[256];
    snprintf (item, sizeof item, "%s", path);
    //  The item whose version If-Match carries: the path up to the id
    if (id)
        item[strstr (item, id) - item + strlen (id)] = 0;
    char headers[256] = "";
    json_t *current = NULL;
    if (id && s_has_if_match (operation) && absent)
        snprintf (headers, sizeof headers, "If-Match: \"1\"");
    else if (id && s_has_if_match (operation)) {
        gh_resp_t *read = gh_http (gh, "GET", item, gh->admin, NULL, NULL);
        GH_STATUS (read, 200);
        snprintf (headers, sizeof headers, "If-Match: %s", gh_header (read, "ETag"));
        current = json_incref (read->json);
        gh_resp_free (&read);
    }
    json_t *example = json_object_get (
        json_object_get (json_object_get (json_object_get (operation, "requestBody"), "content"),
                         "application/json"),
        "example");
    char *body = NULL;
    if (example) {
        json_t *copy = json_deep_copy (example);
        if (strcmp (upper, "PUT") == 0 && current) {
            //  Replace with what was read, changed as the example says
            json_t *merged = json_deep_copy (current);
            const char *key;
            json_t *value;
            json_object_foreach (copy, key, value)
            {
                if (strcmp (key, "code") && strcmp (key, "id") && strcmp (key, "org_unit") &&
                    strcmp (key, "parent") && strcmp (key, "kind"))
                    json_object_set (merged, key, value);
            }
            json_decref (copy);
            copy = merged;
        } else
            s_unique (copy);
        body = json_dumps (copy, JSON_COMPACT);
        json_decref (copy);
    }
    json_decref (current);
    //  A file upload (the import): its example, as text/csv
    json_t *csv = json_object_get (
        json_object_get (json_object_get (json_object_get (operation, "requestBody"), "content"),
                         "text/csv"),
        "example");
    if (json_is_string (csv)) {
        free (body);
        body = strdup (json_string_value (csv));
        snprintf (headers, sizeof headers, "Content-Type: text/csv");
    }
    if (strcmp (pattern, "/api/v1/events") == 0)
        //  A stream does not end; a malformed resume point answers at once
        snprintf (headers, sizeof headers, "Last-Event-ID: not-an-id");
    gh_resp_t *resp =
        gh_http (gh, upper, path,
                 strstr (pattern, "z") == pattern + 1 &&
                         (strcmp (pattern, "/healthz") == 0 || strcmp (pattern, "/readyz") == 0)
                     ? NULL
                     : gh->admin,
                 body, *headers ? headers : NULL);
    free (body);
    //  Chat clicks go to the notifier, which is not running here
    bool expected = strcmp (pattern, "/api/v1/events") == 0                 ? resp->status == 400
                    : absent || strncmp (pattern, "/api/v1/chat/", 13) == 0 ? resp->status == 503
                                                                            : resp->status < 300;
    if (!s_documented (operation, resp->status) || !expected) {
        fprintf (stderr, "openapi: %s %s answered %ld\n", upper, path, resp->status);
        gh_fail ("a documented success", resp, __FILE__, __LINE__);
    }
    char status[8];
    snprintf (status, sizeof status, "%ld", resp->status);
    json_t *content = json_object_get (
        json_object_get (json_object_get (operation, "responses"), status), "content");
    json_t *schema =
        json_object_get (json_object_get (content, resp->status < 300 ? "application/json"
                                                                      : "application/problem+json"),
                         "schema");
    if (schema) {
        GH_CHECK (resp->json, resp);
        char where[300];
        snprintf (where, sizeof where, "%s %s", upper, pattern);
        if (s_validate (schema, resp->json, where))
            gh_fail ("the answer matches the documented schema", resp, __FILE__, __LINE__);
    }
    if (json_object_get (content, "text/plain"))
        GH_CHECK (strstr (gh_header (resp, "Content-Type"), "text/plain"), resp);
    gh_resp_free (&resp);
    free (id);
}

int main (void)
{
    snprintf (s_mappings, sizeof s_mappings, "/tmp/pmo-openapi-XXXXXX");
    assert (mkdtemp (s_mappings));
    char mapping[256];
    snprintf (mapping, sizeof mapping, "%s/fixture.json", s_mappings);
    FILE *file = fopen (mapping, "w");
    assert (file);
    fputs (
        "{\"comment\": \"a fixture\", \"columns\": [{\"column\": \"Ref\", \"field\": \"code\"}]}",
        file);
    fclose (file);
    gh_t *gh = gh_start (s_tune);
    json_error_t error;
    s_doc = json_load_file (PMO_GATEWAY_OPENAPI, 0, &error);
    if (!s_doc) {
        fprintf (stderr, "openapi: %s: %s\n", PMO_GATEWAY_OPENAPI, error.text);
        return 1;
    }
    //  The served document is the one in the repository
    gh_resp_t *resp = gh_http (gh, "GET", "/api/v1/openapi.json", gh->admin, NULL, NULL);
    GH_STATUS (resp, 200);
    GH_CHECK (resp->json && json_equal (resp->json, s_doc), resp);
    gh_resp_free (&resp);
    json_t *paths = json_object_get (s_doc, "paths");
    //  Every route of the table is documented
    for (size_t i = 0; gateway_routes[i].method; i++) {
        char method[16];
        snprintf (method, sizeof method, "%s", gateway_routes[i].method);
        for (char *c = method; *c; c++)
            *c = (char)(*c + 32);
        if (!json_object_get (json_object_get (paths, gateway_routes[i].pattern), method)) {
            fprintf (stderr, "openapi: %s %s is not documented\n", gateway_routes[i].method,
                     gateway_routes[i].pattern);
            return 1;
        }
    }
    gh_org (gh);
    size_t operations = 0;
    //  Reads and writes first, archives and revokes last
    for (int pass = 0; pass < 2; pass++) {
        const char *pattern;
        json_t *item;
        json_object_foreach (paths, pattern, item)
        {
            const char *method;
            json_t *operation;
            json_object_foreach (item, method, operation)
            {
                if (strcmp (method, "parameters") == 0 ||
                    (strcmp (method, "delete") == 0) != (pass == 1))
                    continue;
                s_call (gh, pattern, method, operation);
                operations++;
            }
        }
    }
    printf ("test_gateway_openapi: %zu operations match the document: OK\n", operations);
    assert (operations > 60);
    json_decref (s_doc);
    gh_stop (&gh);
    unlink (mapping);
    rmdir (s_mappings);
    return 0;
}
