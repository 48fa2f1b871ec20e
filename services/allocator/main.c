/*  pmo-allocator: the resource allocator service. Flags and environment,
    logging, signals; the work happens in allocator_server_actor.
*/
#include "allocator_server.h"
#include "pmo_config.h"
#include "pmo_endpoints.h"
#include "pmo_log.h"
#include "pmo_redis.h"
#include "pmo_service.h"

#include <czmq.h>

int main (int argc, char **argv)
{
    pmo_option_t options[] = {
        {"endpoint", "PMO_ALLOCATOR_ENDPOINT", PMO_ENDPOINT_ALLOCATOR,
         "ROUTER endpoint for requests", NULL},
        {"pub", "PMO_ALLOCATOR_PUB", PMO_PUB_ALLOCATOR, "PUB endpoint for live events", NULL},
        {"redis", "PMO_REDIS_URL", "redis://127.0.0.1:6390",
         "Redis URL (redis://[user:pass@]host:port or unix:///path)", NULL},
        {"redis-auth-file", "PMO_REDIS_AUTH_FILE", "",
         "file whose first line is USER:PASSWORD of Redis (keeps the password off the command "
         "line)",
         NULL},
        {"registry", "PMO_REGISTRY_ENDPOINT", PMO_ENDPOINT_REGISTRY,
         "the registry's ROUTER endpoint(s), comma-separated", NULL},
        {"hub", "PMO_HUB", "hub", "id of the enterprise (hub) org unit", NULL},
        {"redis-timeout", "PMO_REDIS_TIMEOUT_MS", "1000", "deadline of each Redis command, ms",
         NULL},
        {"registry-timeout", "PMO_REGISTRY_TIMEOUT_MS", "1000",
         "deadline of each registry call, ms (then requests needing it fail fast for 1 s)", NULL},
        {"registry-cache", "PMO_REGISTRY_CACHE_MS", "5000",
         "how long an org unit read from the registry is reused, ms", NULL},
        {"fte-hours", "PMO_FTE_HOURS", "40", "hours of a standard week (1 FTE), for FTE views",
         NULL},
        {"log-level", "PMO_LOG_LEVEL", "info", "debug, info, warn or error", NULL},
        PMO_SERVICE_KEY_OPTIONS ("allocator"),
    };
    size_t count = sizeof options / sizeof options[0];
    int rc = pmo_config_parse (options, count, argc, argv,
                               "pmo-allocator: the resource allocator (resources, skills, "
                               "capacity, allocation requests and approvals, conflicts)");
    if (rc)
        return rc > 0 ? 0 : 2;
    long redis_timeout, registry_timeout, cache, fte;
    if (pmo_config_int (options, count, "redis-timeout", 10, 60000, &redis_timeout) ||
        pmo_config_int (options, count, "registry-timeout", 10, 60000, &registry_timeout) ||
        pmo_config_int (options, count, "registry-cache", 0, 3600000, &cache) ||
        pmo_config_int (options, count, "fte-hours", 1, 168, &fte))
        return 2;
    if (pmo_service_init ("allocator", options, count))
        return 2;
    char *redis_url = pmo_redis_url_auth (pmo_config_get (options, count, "redis"),
                                          pmo_config_get (options, count, "redis-auth-file"));
    if (!redis_url)
        return 2;
    allocator_config_t config = {
        .endpoint = pmo_config_get (options, count, "endpoint"),
        .pub_endpoint = pmo_config_get (options, count, "pub"),
        .redis_url = redis_url,
        .registry = pmo_config_get (options, count, "registry"),
        .hub = pmo_config_get (options, count, "hub"),
        .redis_timeout_ms = (int)redis_timeout,
        .registry_timeout_ms = (int)registry_timeout,
        .registry_cache_ms = (int)cache,
        .fte_hours = (uint32_t)fte,
    };
    int status = pmo_service_run ("allocator", allocator_server_actor, &config, &config.failed);
    free (redis_url);
    return status;
}
