/*  pmo-gateway: the HTTP/JSON gateway, live events and the dashboard.
    Flags and environment, logging, signals; the work happens in
    gateway_server.c (HTTP) and gateway_admin.c (the token service).
*/
#include "gateway_server.h"
#include "pmo_config.h"
#include "pmo_endpoints.h"
#include "pmo_log.h"
#include "pmo_redis.h"
#include "pmo_service.h"

#include <czmq.h>

#include <libgen.h>
#include <limits.h>
#include <unistd.h>

//  Where the dashboard and the OpenAPI document are: installed, beside the
//  binary (PMO_GATEWAY_DATA_REL from its directory, e.g. ../share/pmo); in
//  a build tree, the source tree.
#ifndef PMO_GATEWAY_WWW
#define PMO_GATEWAY_WWW "www"
#endif
#ifndef PMO_GATEWAY_OPENAPI
#define PMO_GATEWAY_OPENAPI "openapi.json"
#endif
#ifndef PMO_GATEWAY_DATA_REL
#define PMO_GATEWAY_DATA_REL "../share/pmo"
#endif

//  The installed file name if it exists beside the binary, else fallback.
static const char *s_data_default (const char *name, const char *fallback, char *buf, size_t size)
{
    char exe[PATH_MAX];
    ssize_t len = readlink ("/proc/self/exe", exe, sizeof exe - 1);
    if (len <= 0)
        return fallback;
    exe[len] = 0;
    snprintf (buf, size, "%s/%s/%s", dirname (exe), PMO_GATEWAY_DATA_REL, name);
    return access (buf, R_OK) == 0 ? buf : fallback;
}

//  Print the route table as JSON (for tools/openapi.py).
static int s_print_routes (void)
{
    json_t *routes = json_array ();
    for (size_t i = 0; gateway_routes[i].method; i++)
        json_array_append_new (routes, gateway_route_describe (&gateway_routes[i]));
    json_dumpf (routes, stdout, JSON_INDENT (1));
    printf ("\n");
    json_decref (routes);
    return 0;
}

int main (int argc, char **argv)
{
    if (argc == 2 && strcmp (argv[1], "--routes") == 0)
        return s_print_routes ();
    char www[PATH_MAX + 64], openapi[PATH_MAX + 64];
    pmo_option_t options[] = {
        {"http", "PMO_GATEWAY_HTTP", "127.0.0.1:8080", "HTTP listen address (host:port)", NULL},
        {"endpoint", "PMO_GATEWAY_ENDPOINT", PMO_ENDPOINT_GATEWAY,
         "ROUTER endpoint of the token service (pmoctl token ...)", NULL},
        {"registry", "PMO_REGISTRY_ENDPOINT", PMO_ENDPOINT_REGISTRY, "registry ROUTER endpoint(s)",
         NULL},
        {"registry-pub", "PMO_REGISTRY_PUB", PMO_PUB_REGISTRY,
         "registry PUB endpoint(s), one per replica", NULL},
        {"allocator", "PMO_ALLOCATOR_ENDPOINT", PMO_ENDPOINT_ALLOCATOR,
         "allocator ROUTER endpoint(s); \"\" = none", NULL},
        {"allocator-pub", "PMO_ALLOCATOR_PUB", PMO_PUB_ALLOCATOR, "allocator PUB endpoint(s)",
         NULL},
        {"riskmon", "PMO_RISKMON_ENDPOINT", PMO_ENDPOINT_RISKMON,
         "risk monitor ROUTER endpoint(s); \"\" = none", NULL},
        {"riskmon-pub", "PMO_RISKMON_PUB", PMO_PUB_RISKMON, "risk monitor PUB endpoint(s)", NULL},
        {"notifier", "PMO_NOTIFIER_ENDPOINT", PMO_ENDPOINT_NOTIFIER,
         "notifier ROUTER endpoint(s); \"\" = none", NULL},
        {"notifier-pub", "PMO_NOTIFIER_PUB", PMO_PUB_NOTIFIER, "notifier PUB endpoint(s)", NULL},
        {"planner", "PMO_PLANNER_ENDPOINT", PMO_ENDPOINT_PLANNER,
         "planner ROUTER endpoint(s); \"\" = none", NULL},
        {"planner-pub", "PMO_PLANNER_PUB", PMO_PUB_PLANNER, "planner PUB endpoint(s)", NULL},
        {"redis", "PMO_REDIS_URL", "redis://127.0.0.1:6390",
         "Redis URL (tokens; event streams are read for replay only)", NULL},
        {"redis-auth-file", "PMO_REDIS_AUTH_FILE", "",
         "file whose first line is USER:PASSWORD of Redis (keeps the password off the command "
         "line)",
         NULL},
        {"hub", "PMO_HUB", "hub", "id of the enterprise (hub) org unit", NULL},
        {"www", "PMO_GATEWAY_WWW", s_data_default ("www", PMO_GATEWAY_WWW, www, sizeof www),
         "directory of the dashboard's files", NULL},
        {"openapi", "PMO_GATEWAY_OPENAPI",
         s_data_default ("openapi.json", PMO_GATEWAY_OPENAPI, openapi, sizeof openapi),
         "the OpenAPI document served", NULL},
        {"admin-token-file", "PMO_ADMIN_TOKEN_FILE", "",
         "create the first admin token into this file (0600) if it does not exist", NULL},
        {"redis-timeout", "PMO_REDIS_TIMEOUT_MS", "1000", "deadline of each Redis command, ms",
         NULL},
        {"upstream-timeout", "PMO_GATEWAY_UPSTREAM_TIMEOUT_MS", "5000",
         "deadline of a service call, ms (then 504)", NULL},
        {"max-body", "PMO_GATEWAY_MAX_BODY", "1048576", "largest request body, bytes (then 413)",
         NULL},
        {"max-import", "PMO_GATEWAY_MAX_IMPORT", "16777216",
         "largest CSV file POSTed to /api/v1/import, bytes (then 413)", NULL},
        {"mappings", "PMO_GATEWAY_MAPPINGS", "",
         "directory of import mappings (<name>.json) for /api/v1/import?mapping=<name>", NULL},
        {"rate", "PMO_GATEWAY_RATE", "100", "requests per second per token; 0 = unlimited", NULL},
        {"burst", "PMO_GATEWAY_BURST", "200", "requests a token may send at once", NULL},
        {"heartbeat", "PMO_GATEWAY_HEARTBEAT_MS", "15000", "live events: heartbeat period, ms",
         NULL},
        {"sse-queue", "PMO_GATEWAY_SSE_QUEUE", "262144",
         "live events: bytes waiting for one client at most; a client that falls further behind "
         "is sent the event \"dropped\" and the stream ends (it resumes with Last-Event-ID)",
         NULL},
        {"max-connections", "PMO_GATEWAY_MAX_CONNECTIONS", "512", "concurrent HTTP connections",
         NULL},
        {"token-cache", "PMO_GATEWAY_TOKEN_CACHE_MS", "5000",
         "how long a token read from Redis is trusted, ms", NULL},
        {"oidc", "PMO_GATEWAY_OIDC", "",
         "single sign-on: the OpenID Connect configuration file (see README)", NULL},
        {"max-per-address", "PMO_GATEWAY_MAX_PER_ADDRESS", "64",
         "concurrent HTTP connections from one client address", NULL},
        {"request-timeout", "PMO_GATEWAY_REQUEST_TIMEOUT_MS", "30000",
         "a whole request (headers and body) must arrive within this, ms, counted from the "
         "connection or the last answer; trickling does not extend it",
         NULL},
        {"auth-fail-rate", "PMO_GATEWAY_AUTH_FAIL_RATE", "10",
         "requests per second without a valid token from one address (then 429); 0 = unlimited",
         NULL},
        {"auth-fail-burst", "PMO_GATEWAY_AUTH_FAIL_BURST", "20",
         "requests without a valid token one address may send at once", NULL},
        {"token-rate-max", "PMO_GATEWAY_TOKEN_RATE_MAX", "1000",
         "the highest rate_per_s a new token may be given", NULL},
        {"token-days", "PMO_GATEWAY_TOKEN_DAYS", "90",
         "a new token's lifetime in days unless it asks for another (at most 366)", NULL},
        {"log-level", "PMO_LOG_LEVEL", "info", "debug, info, warn or error", NULL},
        PMO_SERVICE_KEY_OPTIONS ("gateway"),
    };
    size_t count = sizeof options / sizeof options[0];
    int rc = pmo_config_parse (options, count, argc, argv,
                               "pmo-gateway: the HTTP/JSON API, live events and the dashboard\n"
                               "(TMPDIR: where Excel files are built, default /tmp)");
    if (rc)
        return rc > 0 ? 0 : 2;
    long redis_timeout, upstream_timeout, max_body, max_import, rate, burst, heartbeat, connections,
        cache, per_address, request_timeout, fail_rate, fail_burst, token_rate_max, token_days,
        sse_queue;
    if (pmo_config_int (options, count, "redis-timeout", 10, 60000, &redis_timeout) ||
        pmo_config_int (options, count, "upstream-timeout", 20, 120000, &upstream_timeout) ||
        pmo_config_int (options, count, "max-body", 1024, 64 * 1024 * 1024, &max_body) ||
        pmo_config_int (options, count, "max-import", 1024, 1024L * 1024 * 1024, &max_import) ||
        pmo_config_int (options, count, "rate", 0, 1000000, &rate) ||
        pmo_config_int (options, count, "burst", 1, 1000000, &burst) ||
        pmo_config_int (options, count, "heartbeat", 100, 600000, &heartbeat) ||
        pmo_config_int (options, count, "sse-queue", 4096, 64L * 1024 * 1024, &sse_queue) ||
        pmo_config_int (options, count, "max-connections", 4, 65536, &connections) ||
        pmo_config_int (options, count, "token-cache", 0, 600000, &cache) ||
        pmo_config_int (options, count, "max-per-address", 1, 65536, &per_address) ||
        pmo_config_int (options, count, "request-timeout", 100, 3600000, &request_timeout) ||
        pmo_config_int (options, count, "auth-fail-rate", 0, 1000000, &fail_rate) ||
        pmo_config_int (options, count, "auth-fail-burst", 1, 1000000, &fail_burst) ||
        pmo_config_int (options, count, "token-rate-max", 1, 100000, &token_rate_max) ||
        pmo_config_int (options, count, "token-days", 1, 366, &token_days))
        return 2;
    if (pmo_log_init ("gateway", pmo_config_get (options, count, "log-level"))) {
        fprintf (stderr, "pmo-gateway: unknown log level\n");
        return 2;
    }
    zsys_init ();
    zsys_set_logstream (NULL);
    if (pmo_service_keys (options, count))
        return 2;
    char *redis_url = pmo_redis_url_auth (pmo_config_get (options, count, "redis"),
                                          pmo_config_get (options, count, "redis-auth-file"));
    if (!redis_url)
        return 2;
    gateway_config_t config = {
        .http = pmo_config_get (options, count, "http"),
        .endpoint = pmo_config_get (options, count, "endpoint"),
        .upstreams =
            {
                [GATEWAY_SVC_REGISTRY] = pmo_config_get (options, count, "registry"),
                [GATEWAY_SVC_ALLOCATOR] = pmo_config_get (options, count, "allocator"),
                [GATEWAY_SVC_RISKMON] = pmo_config_get (options, count, "riskmon"),
                [GATEWAY_SVC_NOTIFIER] = pmo_config_get (options, count, "notifier"),
                [GATEWAY_SVC_PLANNER] = pmo_config_get (options, count, "planner"),
            },
        .pubs =
            {
                [GATEWAY_SVC_REGISTRY] = pmo_config_get (options, count, "registry-pub"),
                [GATEWAY_SVC_ALLOCATOR] = pmo_config_get (options, count, "allocator-pub"),
                [GATEWAY_SVC_RISKMON] = pmo_config_get (options, count, "riskmon-pub"),
                [GATEWAY_SVC_NOTIFIER] = pmo_config_get (options, count, "notifier-pub"),
                [GATEWAY_SVC_PLANNER] = pmo_config_get (options, count, "planner-pub"),
            },
        .redis_url = redis_url,
        .hub = pmo_config_get (options, count, "hub"),
        .www = pmo_config_get (options, count, "www"),
        .openapi = pmo_config_get (options, count, "openapi"),
        .admin_token_file = pmo_config_get (options, count, "admin-token-file"),
        .redis_timeout_ms = (int)redis_timeout,
        .upstream_timeout_ms = (int)upstream_timeout,
        .max_body = (size_t)max_body,
        .max_import = (size_t)max_import,
        .mappings = pmo_config_get (options, count, "mappings"),
        .rate_per_s = (int)rate,
        .rate_burst = (int)burst,
        .heartbeat_ms = (int)heartbeat,
        .sse_queue = (size_t)sse_queue,
        .max_connections = (int)connections,
        .token_cache_ms = (int)cache,
        .oidc = pmo_config_get (options, count, "oidc"),
        .max_per_address = (int)per_address,
        .request_timeout_ms = (int)request_timeout,
        .auth_fail_rate = fail_rate ? (int)fail_rate : -1,
        .auth_fail_burst = (int)fail_burst,
        .token_rate_max = (int)token_rate_max,
        .token_days = (int)token_days,
    };
    gateway_t *gateway = gateway_new (&config);
    if (!gateway) {
        free (redis_url);
        return 1;
    }
    //  CZMQ's handler sets zsys_interrupted on SIGINT and SIGTERM
    while (!zsys_interrupted)
        zclock_sleep (200);
    pmo_info ("gateway: shutting down");
    gateway_destroy (&gateway);
    free (redis_url);
    return 0;
}
