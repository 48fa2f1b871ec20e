/*  test_gateway_edge.c: the HTTP edge over real sockets, against a real
    gateway, registry and Redis: Idempotency-Key bound to its request
    (422 on reuse with another), strict If-Match, Content-Length with
    Transfer-Encoding (400 and closed), control characters in the path and
    query, the size of a request's head (431 past it), the deadline of a
    trickled request, the cap of connections per
    address (another address is still served), and the limit on requests
    without a valid token per address.
*/
#include "gateway_harness.h"

#include "pmo_util.h"

#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define REQUEST_TIMEOUT_MS 1500
#define PER_ADDRESS        4
#define WAIT_MS            20000 //  generous: the machine may be loaded

static void s_tune (gateway_config_t *config)
{
    config->request_timeout_ms = REQUEST_TIMEOUT_MS;
    config->max_per_address = PER_ADDRESS;
    config->auth_fail_rate = 1;
    config->auth_fail_burst = 5;
}

static size_t s_count (gh_t *gh, const char *path)
{
    gh_resp_t *resp = gh_http (gh, "GET", path, gh->admin, NULL, NULL);
    GH_STATUS (resp, 200);
    size_t n = json_array_size (json_object_get (resp->json, "items"));
    gh_resp_free (&resp);
    return n;
}

//  A TCP connection to the gateway from source address from (127.0.0.x).
static int s_connect (gh_t *gh, const char *from)
{
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    assert (fd >= 0);
    struct sockaddr_in local = {.sin_family = AF_INET};
    assert (inet_pton (AF_INET, from, &local.sin_addr) == 1);
    assert (bind (fd, (struct sockaddr *)&local, sizeof local) == 0);
    struct sockaddr_in addr = {.sin_family = AF_INET};
    const char *colon = strrchr (gh->http, ':');
    addr.sin_port = htons ((uint16_t)atoi (colon + 1));
    assert (inet_pton (AF_INET, "127.0.0.1", &addr.sin_addr) == 1);
    assert (connect (fd, (struct sockaddr *)&addr, sizeof addr) == 0);
    return fd;
}

//  Read until the peer closes or timeout_ms passes; returns what came
//  (malloc'd) and sets *closed.
static char *s_read_all (int fd, int timeout_ms, bool *closed)
{
    char *text = calloc (1, 1);
    size_t size = 0;
    *closed = false;
    int64_t deadline = pmo_mono_ms () + timeout_ms;
    while (pmo_mono_ms () < deadline) {
        struct pollfd item = {.fd = fd, .events = POLLIN};
        if (poll (&item, 1, 100) <= 0)
            continue;
        char buffer[4096];
        ssize_t got = recv (fd, buffer, sizeof buffer, 0);
        if (got <= 0) {
            *closed = true;
            break;
        }
        text = realloc (text, size + (size_t)got + 1);
        memcpy (text + size, buffer, (size_t)got);
        size += (size_t)got;
        text[size] = 0;
    }
    return text;
}

static void test_idempotency (gh_t *gh)
{
    const char *body = "{\"code\":\"EDGE-1\",\"name\":\"Once\",\"org_unit\":\"dft\"}";
    gh_resp_t *first =
        gh_http (gh, "POST", "/api/v1/projects", gh->admin, body, "Idempotency-Key: edge-1");
    GH_STATUS (first, 201);
    char id[64], path[128];
    snprintf (id, sizeof id, "%s", gh_str (first, "id"));
    snprintf (path, sizeof path, "/api/v1/projects/%s", id);
    //  The same request again: the first answer
    gh_resp_t *again =
        gh_http (gh, "POST", "/api/v1/projects", gh->admin, body, "Idempotency-Key: edge-1");
    GH_STATUS (again, 201);
    GH_CHECK (strcmp (gh_str (again, "id"), id) == 0, again);
    gh_resp_free (&again);
    gh_resp_free (&first);
    size_t projects = s_count (gh, "/api/v1/projects");
    //  Another body: 422, nothing created
    again = gh_http (gh, "POST", "/api/v1/projects", gh->admin,
                     "{\"code\":\"EDGE-2\",\"name\":\"Twice\",\"org_unit\":\"dft\"}",
                     "Idempotency-Key: edge-1");
    GH_STATUS (again, 422);
    GH_CHECK (strcmp (gh_str (again, "field"), "Idempotency-Key") == 0, again);
    GH_CHECK (strcmp (gh_str (again, "code"), "key_reused") == 0, again);
    GH_CHECK (strstr (gh_header (again, "Content-Type"), "problem+json"), again);
    gh_resp_free (&again);
    assert (s_count (gh, "/api/v1/projects") == projects);
    //  Another path of the same service: a PATCH of another project with
    //  the key is 422 and changes nothing (it used to answer the first
    //  project's body)
    char *other = gh_project (gh, gh->admin, "EDGE-3", "dft");
    char other_path[128];
    snprintf (other_path, sizeof other_path, "/api/v1/projects/%s", other);
    again = gh_http (gh, "PATCH", other_path, gh->admin, "{\"name\":\"Renamed\"}",
                     "Idempotency-Key: edge-1\nIf-Match: \"1\"\n"
                     "Content-Type: application/merge-patch+json");
    GH_STATUS (again, 422);
    gh_resp_free (&again);
    again = gh_http (gh, "GET", other_path, gh->admin, NULL, NULL);
    GH_STATUS (again, 200);
    GH_CHECK (strcmp (gh_str (again, "name"), "Project EDGE-3") == 0, again);
    GH_CHECK (strcmp (gh_header (again, "ETag"), "\"1\"") == 0, again);
    gh_resp_free (&again);
    //  Another method on the same path, another service (the token
    //  service): 422 at once, never a replay and never a time-out
    again = gh_http (gh, "GET", "/api/v1/projects", gh->admin, NULL, "Idempotency-Key: edge-1");
    GH_STATUS (again, 422);
    gh_resp_free (&again);
    again = gh_http (gh, "POST", "/api/v1/tokens", gh->admin,
                     "{\"name\":\"x\",\"subject\":\"x@dft\",\"grants\":[{\"role\":\"viewer\","
                     "\"org_unit\":\"dft\"}]}",
                     "Idempotency-Key: edge-1");
    GH_STATUS (again, 422);
    gh_resp_free (&again);
    //  The same body with another query is another request
    again = gh_http (gh, "POST", "/api/v1/projects?dry_run=1", gh->admin, body,
                     "Idempotency-Key: edge-1");
    GH_STATUS (again, 422);
    gh_resp_free (&again);
    //  A new key for a new request works as before
    again = gh_http (gh, "PATCH", other_path, gh->admin, "{\"name\":\"Renamed\"}",
                     "Idempotency-Key: edge-2\nIf-Match: \"1\"\n"
                     "Content-Type: application/merge-patch+json");
    GH_STATUS (again, 200);
    GH_CHECK (strcmp (gh_str (again, "name"), "Renamed") == 0, again);
    gh_resp_free (&again);
    //  ... and its retry gets the same answer, changing nothing twice
    again = gh_http (gh, "PATCH", other_path, gh->admin, "{\"name\":\"Renamed\"}",
                     "Idempotency-Key: edge-2\nIf-Match: \"1\"\n"
                     "Content-Type: application/merge-patch+json");
    GH_STATUS (again, 200);
    GH_CHECK (strcmp (gh_header (again, "ETag"), "\"2\"") == 0, again);
    gh_resp_free (&again);
    free (other);
}

static void test_if_match (gh_t *gh)
{
    char *id = gh_project (gh, gh->admin, "EDGE-IFM", "dft");
    char path[128];
    snprintf (path, sizeof path, "/api/v1/projects/%s", id);
    const char *bad[] = {
        "If-Match: \"-1\"", "If-Match: W/\"1\"",      "If-Match: 1",
        "If-Match: \"1",    "If-Match: \"\"",         "If-Match: \"0\"",
        "If-Match: \" 1\"", "If-Match: \"1\", \"2\"", "If-Match: \"18446744073709551616\"",
        "If-Match: *"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char headers[160];
        snprintf (headers, sizeof headers, "%s\nContent-Type: application/merge-patch+json",
                  bad[i]);
        gh_resp_t *resp = gh_http (gh, "PATCH", path, gh->admin, "{\"name\":\"X\"}", headers);
        GH_STATUS (resp, 400);
        GH_CHECK (strcmp (gh_str (resp, "field"), "If-Match") == 0, resp);
        if (strstr (bad[i], "W/"))
            GH_CHECK (strstr (gh_str (resp, "detail"), "weak"), resp);
        gh_resp_free (&resp);
        resp = gh_http (gh, "DELETE", path, gh->admin, NULL, bad[i]);
        GH_STATUS (resp, 400);
        gh_resp_free (&resp);
    }
    gh_resp_t *resp = gh_http (gh, "GET", path, gh->admin, NULL, NULL);
    GH_STATUS (resp, 200);
    GH_CHECK (strcmp (gh_header (resp, "ETag"), "\"1\"") == 0, resp);
    gh_resp_free (&resp);
    //  The strong ETag works
    resp = gh_http (gh, "PATCH", path, gh->admin, "{\"name\":\"Strong\"}",
                    "If-Match: \"1\"\nContent-Type: application/merge-patch+json");
    GH_STATUS (resp, 200);
    gh_resp_free (&resp);
    free (id);
}

static void test_control_characters (gh_t *gh)
{
    const char *paths[] = {"/api/v1/projects/%00",          "/api/v1/projects/a%00b",
                           "/api/v1/projects/a%0Ab",        "/api/v1/projects/%7F",
                           "/api/v1/projects?org_unit=%01", "/api/v1/projects?org%00=dft"};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        gh_resp_t *resp = gh_http (gh, "GET", paths[i], gh->admin, NULL, NULL);
        GH_STATUS (resp, 400);
        GH_CHECK (strstr (gh_str (resp, "detail"), "control characters"), resp);
        gh_resp_free (&resp);
    }
    //  Escaped printable characters still work
    gh_resp_t *resp = gh_http (gh, "GET", "/api/v1/projects?org_unit=%64ft", gh->admin, NULL, NULL);
    GH_STATUS (resp, 200);
    gh_resp_free (&resp);
}

//  Names refuse line breaks, other control characters and bidirectional
//  overrides (the registry's rule, common to every service), naming the
//  field; nothing is stored.
static void test_names (gh_t *gh)
{
    size_t projects = s_count (gh, "/api/v1/projects");
    const char *names[] = {"Line\\r\\nbreak",    "Line\\nbreak",   "Tab\\there",
                           "Bell\\u0007",        "Del\\u007f",     "C1\\u0085",
                           "Evil\\u202etxt.exe", "Iso\\u2066late", "Sep\\u2028arator"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char body[256];
        snprintf (body, sizeof body, "{\"code\":\"NAME-%zu\",\"name\":\"%s\",\"org_unit\":\"dft\"}",
                  i, names[i]);
        gh_resp_t *resp = gh_http (gh, "POST", "/api/v1/projects", gh->admin, body, NULL);
        GH_STATUS (resp, 400);
        GH_CHECK (strcmp (gh_str (resp, "field"), "name") == 0, resp);
        gh_resp_free (&resp);
    }
    //  A title of a milestone, a sponsor: the same rule
    char *id = gh_project (gh, gh->admin, "NAME-OK", "dft");
    char path[128];
    snprintf (path, sizeof path, "/api/v1/projects/%s", id);
    gh_resp_t *resp = gh_http (gh, "PATCH", path, gh->admin, "{\"sponsor\":\"Jane\\u202eEvil\"}",
                               "If-Match: \"1\"\nContent-Type: application/merge-patch+json");
    GH_STATUS (resp, 400);
    GH_CHECK (strcmp (gh_str (resp, "field"), "sponsor") == 0, resp);
    GH_CHECK (strstr (gh_str (resp, "detail"), "bidirectional"), resp);
    gh_resp_free (&resp);
    //  Descriptions may have lines
    resp = gh_http (gh, "PATCH", path, gh->admin, "{\"description\":\"One\\nTwo\"}",
                    "If-Match: \"1\"\nContent-Type: application/merge-patch+json");
    GH_STATUS (resp, 200);
    gh_resp_free (&resp);
    //  Other scripts and marks are fine
    resp = gh_http (gh, "POST", "/api/v1/projects", gh->admin,
                    "{\"code\":\"NAME-UTF\",\"name\":\"Caf\\u00e9 \\u05e9\\u05dc\\u05d5\\u05dd "
                    "\\u200f\",\"org_unit\":\"dft\"}",
                    NULL);
    GH_STATUS (resp, 201);
    gh_resp_free (&resp);
    assert (s_count (gh, "/api/v1/projects") == projects + 2);
    free (id);
}

//  Exports and the report's CSV: cells a spreadsheet would run as formulas
//  come out as text (OWASP CSV injection), and the export still imports
//  back unchanged.
static void test_csv_formulas (gh_t *gh)
{
    const char *names[] = {"=HYPERLINK(\\\"http://evil\\\",\\\"x\\\")", "+cmd|' /C calc'!A0",
                           "@SUM(1+1)*cmd|' /C calc'!A0", "-2+3+cmd|' /C calc'!A0"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char body[256];
        snprintf (body, sizeof body,
                  "{\"code\":\"FORM-%zu\",\"name\":\"%s\",\"org_unit\":\"dhsc\"}", i, names[i]);
        gh_resp_t *resp = gh_http (gh, "POST", "/api/v1/projects", gh->admin, body, NULL);
        GH_STATUS (resp, 201);
        gh_resp_free (&resp);
    }
    const char *paths[] = {"/api/v1/export/project?org_unit=dhsc",
                           "/api/v1/reports/dhsc?format=csv&table=projects"};
    for (size_t p = 0; p < 2; p++) {
        gh_resp_t *resp = gh_http (gh, "GET", paths[p], gh->admin, NULL, NULL);
        GH_STATUS (resp, 200);
        GH_CHECK (strstr (resp->body, "\"'=HYPERLINK(") && strstr (resp->body, ",'+cmd|") &&
                      strstr (resp->body, ",'@SUM(") && strstr (resp->body, ",'-2+3"),
                  resp);
        //  No cell starts with a formula character (after a delimiter, a
        //  quote or a line start)
        GH_CHECK (!strstr (resp->body, ",=") && !strstr (resp->body, ",+") &&
                      !strstr (resp->body, ",@") && !strstr (resp->body, "\"=") &&
                      !strstr (resp->body, ",-2"),
                  resp);
        if (p == 0) {
            char *exported = strndup (resp->body, resp->size);
            gh_resp_t *again = gh_http (gh, "POST", "/api/v1/import?entity=project", gh->admin,
                                        exported, "Content-Type: text/csv");
            GH_STATUS (again, 200);
            GH_CHECK (json_integer_value (json_object_get (again->json, "unchanged")) == 4 &&
                          json_integer_value (json_object_get (again->json, "updated")) == 0,
                      again);
            gh_resp_free (&again);
            free (exported);
        }
        gh_resp_free (&resp);
    }
}

//  CSV bodies that are no CSV at all are the client's problem: 400 or 422
//  naming it, never 502.
static void test_csv_bodies (gh_t *gh)
{
    const char *bodies[] = {"",
                            "\xEF\xBB\xBF",
                            "\xEF\xBB\xBF\r\n",
                            "\r\n\r\n",
                            "\x89PNG\r\n\x1a\n\x01\x02\x03\x04",
                            "\xff\xfe=\x01A\x02",
                            "PK\x03\x04\x14\x06\x08\x01\x02"};
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        gh_resp_t *resp = gh_http (gh, "POST", "/api/v1/import?entity=project", gh->admin,
                                   bodies[i], "Content-Type: text/csv");
        GH_CHECK (resp->status == 400 || resp->status == 422, resp);
        GH_CHECK (strstr (gh_header (resp, "Content-Type"), "problem+json"), resp);
        gh_resp_free (&resp);
    }
}

static void test_smuggling (gh_t *gh)
{
    int fd = s_connect (gh, "127.0.0.1");
    char request[512];
    snprintf (request, sizeof request,
              "POST /api/v1/projects HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
              "Content-Type: application/json\r\nContent-Length: 4\r\n"
              "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
              "GET /api/v1/whoami HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n\r\n",
              gh->admin, gh->admin);
    assert (send (fd, request, strlen (request), MSG_NOSIGNAL) == (ssize_t)strlen (request));
    bool closed;
    char *answer = s_read_all (fd, WAIT_MS, &closed);
    if (strncmp (answer, "HTTP/1.1 400", 12) != 0 || !closed || strstr (answer + 12, "HTTP/1.1")) {
        fprintf (stderr, "test_smuggling: closed=%d answer:\n%s\n", closed, answer);
        abort ();
    }
    assert (strstr (answer, "Transfer-Encoding"));
    free (answer);
    close (fd);
}

//  The answer to a GET of whoami whose head carries a header of pad bytes
//  (Connection: close, so the answer ends with the connection).
static char *s_padded (gh_t *gh, size_t pad)
{
    int fd = s_connect (gh, "127.0.0.1");
    char *request = malloc (pad + 512);
    assert (request);
    int len = snprintf (request, pad + 512,
                        "GET /api/v1/whoami HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
                        "Connection: close\r\nX-Pad: ",
                        gh->admin);
    memset (request + len, 'a', pad);
    memcpy (request + len + pad, "\r\n\r\n", 5);
    size_t size = (size_t)len + pad + 4;
    assert (send (fd, request, size, MSG_NOSIGNAL) == (ssize_t)size);
    free (request);
    bool closed;
    char *answer = s_read_all (fd, WAIT_MS, &closed);
    close (fd);
    return answer;
}

//  The head of a request (line and headers) may take about 12 KiB: the
//  gateway gives each connection 16 KiB. A larger one is answered 431
//  and the gateway goes on serving.
static void test_head_size (gh_t *gh)
{
    char *answer = s_padded (gh, 12 * 1024);
    if (strncmp (answer, "HTTP/1.1 200", 12) != 0) {
        fprintf (stderr, "test_head_size: a 12 KiB header was answered:\n%.300s\n", answer);
        abort ();
    }
    free (answer);
    answer = s_padded (gh, 20 * 1024);
    if (strncmp (answer, "HTTP/1.1 431", 12) != 0) {
        fprintf (stderr, "test_head_size: a 20 KiB header was answered:\n%.300s\n", answer);
        abort ();
    }
    free (answer);
    gh_resp_t *resp = gh_http (gh, "GET", "/api/v1/whoami", gh->admin, NULL, NULL);
    GH_STATUS (resp, 200);
    gh_resp_free (&resp);
}

//  A client trickling its request a byte at a time is cut at the deadline.
static void test_trickle (gh_t *gh)
{
    int fd = s_connect (gh, "127.0.0.1");
    const char *request =
        "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaa"
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n";
    //  A byte every 100 ms: the whole request would take 25 s, far past the
    //  deadline (1.5 s); the gateway closes the connection long before
    bool closed = false;
    size_t sent = 0;
    int64_t started = pmo_mono_ms ();
    while (request[sent] && !closed) {
        if (send (fd, request + sent, 1, MSG_NOSIGNAL) != 1) {
            closed = true;
            break;
        }
        sent++;
        struct pollfd item = {.fd = fd, .events = POLLIN};
        if (poll (&item, 1, 100) > 0) {
            char buffer[512];
            closed = recv (fd, buffer, sizeof buffer, 0) <= 0;
        }
    }
    assert (closed);
    assert (request[sent] != 0);
    printf ("test_gateway_edge: trickled connection closed after %zu bytes, %lld ms\n", sent,
            (long long)(pmo_mono_ms () - started));
    close (fd);
    //  A request body trickled after complete headers is cut as well
    fd = s_connect (gh, "127.0.0.1");
    char head[512];
    snprintf (head, sizeof head,
              "POST /api/v1/projects HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
              "Content-Type: application/json\r\nContent-Length: 400\r\n\r\n",
              gh->admin);
    assert (send (fd, head, strlen (head), MSG_NOSIGNAL) == (ssize_t)strlen (head));
    closed = false;
    for (int i = 0; i < 400 && !closed; i++) {
        if (send (fd, " ", 1, MSG_NOSIGNAL) != 1)
            break;
        struct pollfd item = {.fd = fd, .events = POLLIN};
        if (poll (&item, 1, 100) > 0) {
            char buffer[512];
            closed = recv (fd, buffer, sizeof buffer, 0) <= 0;
        }
    }
    assert (closed);
    close (fd);
    //  A connection kept open idle between requests is closed as well; a
    //  client such as curl opens a new one
    gh_resp_t *resp = gh_http (gh, "GET", "/healthz", NULL, NULL, NULL);
    GH_STATUS (resp, 200);
    gh_resp_free (&resp);
}

//  One address can hold only so many connections; another is still served.
static void test_per_address (gh_t *gh)
{
    //  Live-event streams: served for as long as they stay, so no deadline
    //  cuts them
    int held[PER_ADDRESS];
    for (int i = 0; i < PER_ADDRESS; i++) {
        held[i] = s_connect (gh, "127.0.0.3");
        char request[256];
        snprintf (request, sizeof request,
                  "GET /api/v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n\r\n",
                  gh->admin);
        assert (send (held[i], request, strlen (request), MSG_NOSIGNAL) ==
                (ssize_t)strlen (request));
        //  Its answer has begun before the next
        char buffer[256];
        struct pollfd item = {.fd = held[i], .events = POLLIN};
        assert (poll (&item, 1, WAIT_MS) == 1);
        assert (recv (held[i], buffer, sizeof buffer, 0) > 0);
        assert (strncmp (buffer, "HTTP/1.1 200", 12) == 0);
    }
    //  The gateway accepts them in its own time: wait until one more from
    //  that address is refused (closed without an answer)
    bool refused = false;
    int64_t deadline = pmo_mono_ms () + WAIT_MS;
    while (!refused && pmo_mono_ms () < deadline) {
        int extra = s_connect (gh, "127.0.0.3");
        const char *request = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
        send (extra, request, strlen (request), MSG_NOSIGNAL);
        bool closed;
        char *answer = s_read_all (extra, 300, &closed);
        refused = closed && *answer == 0;
        free (answer);
        close (extra);
    }
    assert (refused);
    //  Another address (curl from 127.0.0.1) is served meanwhile
    gh_resp_t *resp = gh_http (gh, "GET", "/healthz", NULL, NULL, NULL);
    GH_STATUS (resp, 200);
    gh_resp_free (&resp);
    for (int i = 0; i < PER_ADDRESS; i++)
        close (held[i]);
}

//  Send requests without a valid token until one is 429; returns how many
//  were 401 before it.
static int s_drain (gh_t *gh)
{
    int refused = 0;
    for (int i = 0; i < 200; i++) {
        gh_resp_t *resp =
            gh_http (gh, "GET", "/api/v1/projects", i % 2 ? NULL : "pmo_bad", NULL, NULL);
        GH_CHECK (resp->status == 401 || resp->status == 429, resp);
        if (resp->status == 429) {
            GH_CHECK (gh_header (resp, "Retry-After"), resp);
            GH_CHECK (strcmp (gh_str (resp, "code"), "rate_limited") == 0, resp);
            gh_resp_free (&resp);
            return refused;
        }
        refused++;
        gh_resp_free (&resp);
    }
    assert (!"never limited");
    return refused;
}

static void test_failed_auth_rate (gh_t *gh)
{
    char *fresh = gh_token (gh, "fresh@dft", "viewer@dft");
    //  The admin token is known good (cached) from the requests before
    gh_resp_t *resp = gh_http (gh, "GET", "/api/v1/whoami", gh->admin, NULL, NULL);
    GH_STATUS (resp, 200);
    gh_resp_free (&resp);
    //  The burst (5) of failures is answered 401, then 429 with Retry-After
    //  (the bucket refills at 1/s, so a slow machine may see more 401s)
    int refused = s_drain (gh);
    assert (refused >= 5);
    //  A well-formed token that is not good is 429 as well (no oracle)
    bool limited = false;
    for (int i = 0; i < 20 && !limited; i++) {
        if (i)
            s_drain (gh);
        resp = gh_http (gh, "GET", "/api/v1/projects",
                        "pmo_0123456789abcdef_00000000000000000000000000000000000000000000000000"
                        "00000000000000",
                        NULL, NULL);
        GH_CHECK (resp->status == 429 || resp->status == 401, resp);
        limited = resp->status == 429;
        gh_resp_free (&resp);
    }
    assert (limited);
    //  A good token still works from the same address: a new one too
    resp = gh_http (gh, "GET", "/api/v1/whoami", gh->admin, NULL, NULL);
    GH_STATUS (resp, 200);
    gh_resp_free (&resp);
    s_drain (gh);
    resp = gh_http (gh, "GET", "/api/v1/whoami", fresh, NULL, NULL);
    GH_STATUS (resp, 200);
    gh_resp_free (&resp);
    free (fresh);
    //  Another address has its own bucket (curl from 127.0.0.2)
    int fd = s_connect (gh, "127.0.0.2");
    const char *request = "GET /api/v1/projects HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    assert (send (fd, request, strlen (request), MSG_NOSIGNAL) == (ssize_t)strlen (request));
    bool closed;
    char *answer = s_read_all (fd, WAIT_MS, &closed);
    assert (strncmp (answer, "HTTP/1.1 401", 12) == 0);
    free (answer);
    close (fd);
}

int main (void)
{
    gh_t *gh = gh_start (s_tune);
    gh_org (gh);
    test_idempotency (gh);
    test_if_match (gh);
    test_control_characters (gh);
    test_names (gh);
    test_csv_formulas (gh);
    test_csv_bodies (gh);
    test_smuggling (gh);
    test_head_size (gh);
    test_trickle (gh);
    test_per_address (gh);
    test_failed_auth_rate (gh);
    gh_stop (&gh);
    printf ("test_gateway_edge: OK\n");
    return 0;
}
