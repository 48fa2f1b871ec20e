/*  pmo-planner: the planner service (benefits register, scores and
    rankings, portfolio scenarios). Flags and environment, logging,
    signals; the work happens in planner_server_actor.
*/
#include "planner_server.h"
#include "pmo_config.h"
#include "pmo_endpoints.h"
#include "pmo_redis.h"
#include "pmo_service.h"

#include <stdlib.h>

int main (int argc, char **argv)
{
    pmo_option_t options[] = {
        {"endpoint", "PMO_PLANNER_ENDPOINT", PMO_ENDPOINT_PLANNER, "ROUTER endpoint for requests",
         NULL},
        {"pub", "PMO_PLANNER_PUB", PMO_PUB_PLANNER, "PUB endpoint for live events", NULL},
        {"redis", "PMO_REDIS_URL", "redis://127.0.0.1:6390",
         "Redis URL (redis://[user:pass@]host:port or unix:///path)", NULL},
        {"redis-auth-file", "PMO_REDIS_AUTH_FILE", "",
         "file whose first line is USER:PASSWORD of Redis (keeps the password off the command "
         "line)",
         NULL},
        {"hub", "PMO_HUB", "hub", "id of the enterprise (hub) org unit", NULL},
        {"registry", "PMO_REGISTRY_ENDPOINT", PMO_ENDPOINT_REGISTRY,
         "the registry's ROUTER endpoint (org units, projects)", NULL},
        {"allocator", "PMO_ALLOCATOR_ENDPOINT", PMO_ENDPOINT_ALLOCATOR,
         "the allocator's ROUTER endpoint (scenario capacity); empty: none", NULL},
        {"redis-timeout", "PMO_REDIS_TIMEOUT_MS", "1000", "deadline of each Redis command, ms",
         NULL},
        {"lag-sweep", "PMO_PLANNER_LAG_SWEEP_S", "3600",
         "seconds between lag sweeps (a benefit whose profile passed a period with no "
         "measurement raises its lag alert); 0: never",
         NULL},
        {"log-level", "PMO_LOG_LEVEL", "info", "debug, info, warn or error", NULL},
        PMO_SERVICE_KEY_OPTIONS ("planner"),
    };
    size_t count = sizeof options / sizeof options[0];
    int rc = pmo_config_parse (options, count, argc, argv,
                               "pmo-planner: benefits register, project scores and rankings, "
                               "portfolio scenarios solved exactly (GLPK and CBC)");
    if (rc)
        return rc > 0 ? 0 : 2;
    long timeout, sweep;
    if (pmo_config_int (options, count, "redis-timeout", 10, 60000, &timeout) ||
        pmo_config_int (options, count, "lag-sweep", 0, 86400, &sweep))
        return 2;
    if (pmo_service_init ("planner", options, count))
        return 2;
    char *redis_url = pmo_redis_url_auth (pmo_config_get (options, count, "redis"),
                                          pmo_config_get (options, count, "redis-auth-file"));
    if (!redis_url)
        return 2;
    planner_config_t config = {
        .endpoint = pmo_config_get (options, count, "endpoint"),
        .pub_endpoint = pmo_config_get (options, count, "pub"),
        .redis_url = redis_url,
        .hub = pmo_config_get (options, count, "hub"),
        .registry = pmo_config_get (options, count, "registry"),
        .allocator = pmo_config_get (options, count, "allocator"),
        .redis_timeout_ms = (int)timeout,
        .lag_sweep_ms = (int)sweep * 1000,
    };
    int status = pmo_service_run ("planner", planner_server_actor, &config, &config.failed);
    free (redis_url);
    return status;
}
