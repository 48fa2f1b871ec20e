/*  pmo-registry: the project registry service. Flags and environment,
    logging, signals; the work happens in registry_server_actor.
*/
#include "pmo_config.h"
#include "pmo_endpoints.h"
#include "pmo_log.h"
#include "pmo_redis.h"
#include "pmo_service.h"
#include "registry_server.h"

#include <czmq.h>

int main (int argc, char **argv)
{
    pmo_option_t options[] = {
        {"endpoint", "PMO_REGISTRY_ENDPOINT", PMO_ENDPOINT_REGISTRY, "ROUTER endpoint for requests",
         NULL},
        {"pub", "PMO_REGISTRY_PUB", PMO_PUB_REGISTRY, "PUB endpoint for live events", NULL},
        {"redis", "PMO_REDIS_URL", "redis://127.0.0.1:6390",
         "Redis URL (redis://[user:pass@]host:port or unix:///path)", NULL},
        {"redis-auth-file", "PMO_REDIS_AUTH_FILE", "",
         "file whose first line is USER:PASSWORD of Redis (keeps the password off the command "
         "line)",
         NULL},
        {"hub", "PMO_HUB", "hub", "id of the enterprise (hub) org unit", NULL},
        {"redis-timeout", "PMO_REDIS_TIMEOUT_MS", "1000", "deadline of each Redis command, ms",
         NULL},
        {"stream-keep-days", "PMO_STREAM_KEEP_DAYS", "7",
         "event streams keep at least this many days (then what every consumer group has "
         "acknowledged is trimmed)",
         NULL},
        {"log-level", "PMO_LOG_LEVEL", "info", "debug, info, warn or error", NULL},
        PMO_SERVICE_KEY_OPTIONS ("registry"),
    };
    size_t count = sizeof options / sizeof options[0];
    int rc = pmo_config_parse (options, count, argc, argv,
                               "pmo-registry: the project registry (org units, portfolios, "
                               "programmes, projects, gates, status reports)");
    if (rc)
        return rc > 0 ? 0 : 2;
    long timeout;
    long keep_days;
    if (pmo_config_int (options, count, "redis-timeout", 10, 60000, &timeout) ||
        pmo_config_int (options, count, "stream-keep-days", 1, 3650, &keep_days))
        return 2;
    if (pmo_service_init ("registry", options, count))
        return 2;
    char *redis_url = pmo_redis_url_auth (pmo_config_get (options, count, "redis"),
                                          pmo_config_get (options, count, "redis-auth-file"));
    if (!redis_url)
        return 2;
    registry_config_t config = {
        .endpoint = pmo_config_get (options, count, "endpoint"),
        .pub_endpoint = pmo_config_get (options, count, "pub"),
        .redis_url = redis_url,
        .hub = pmo_config_get (options, count, "hub"),
        .redis_timeout_ms = (int)timeout,
        .stream_keep_ms = (int64_t)keep_days * 24 * 3600 * 1000,
    };
    int status = pmo_service_run ("registry", registry_server_actor, &config, &config.failed);
    free (redis_url);
    return status;
}
