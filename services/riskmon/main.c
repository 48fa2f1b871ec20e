/*  pmo-riskmon: the risk monitor service. Flags and environment, logging,
    signals; the work happens in riskmon_server_actor.
*/
#include "pmo_config.h"
#include "pmo_endpoints.h"
#include "pmo_log.h"
#include "pmo_redis.h"
#include "pmo_service.h"
#include "riskmon_server.h"

#include <czmq.h>
#include <unistd.h>

int main (int argc, char **argv)
{
    char host[64] = "localhost";
    gethostname (host, sizeof host - 1);
    char consumer[96];
    snprintf (consumer, sizeof consumer, "riskmon-%s", host);
    pmo_option_t options[] = {
        {"endpoint", "PMO_RISKMON_ENDPOINT", PMO_ENDPOINT_RISKMON, "ROUTER endpoint for requests",
         NULL},
        {"pub", "PMO_RISKMON_PUB", PMO_PUB_RISKMON, "PUB endpoint for live events", NULL},
        {"redis", "PMO_REDIS_URL", "redis://127.0.0.1:6390",
         "Redis URL (redis://[user:pass@]host:port or unix:///path)", NULL},
        {"redis-auth-file", "PMO_REDIS_AUTH_FILE", "",
         "file whose first line is USER:PASSWORD of Redis (keeps the password off the command "
         "line)",
         NULL},
        {"hub", "PMO_HUB", "hub", "id of the enterprise (hub) org unit", NULL},
        {"registry", "PMO_REGISTRY_ENDPOINT", PMO_ENDPOINT_REGISTRY,
         "the registry's ROUTER endpoint (org units, projects not seen yet)", NULL},
        {"consumer", "PMO_RISKMON_CONSUMER", consumer,
         "this instance's name in the consumer group (stable across restarts)", NULL},
        {"claim-idle", "PMO_RISKMON_CLAIM_IDLE_MS", "30000",
         "take over stream entries another consumer left pending this long, ms", NULL},
        {"tick", "PMO_RISKMON_TICK_MS", "1000", "check time rules and escalations this often, ms",
         NULL},
        {"batch", "PMO_RISKMON_BATCH", "512", "stream entries read at once", NULL},
        {"redis-timeout", "PMO_REDIS_TIMEOUT_MS", "1000", "deadline of each Redis command, ms",
         NULL},
        {"log-level", "PMO_LOG_LEVEL", "info", "debug, info, warn or error", NULL},
        PMO_SERVICE_KEY_OPTIONS ("riskmon"),
    };
    size_t count = sizeof options / sizeof options[0];
    int rc = pmo_config_parse (options, count, argc, argv,
                               "pmo-riskmon: the risk monitor (RAID registers, computed project "
                               "health, alerts and escalation)");
    if (rc)
        return rc > 0 ? 0 : 2;
    long timeout, claim_idle, tick, batch;
    if (pmo_config_int (options, count, "redis-timeout", 10, 60000, &timeout) ||
        pmo_config_int (options, count, "claim-idle", 100, 86400000, &claim_idle) ||
        pmo_config_int (options, count, "tick", 10, 3600000, &tick) ||
        pmo_config_int (options, count, "batch", 1, 10000, &batch))
        return 2;
    if (pmo_service_init ("riskmon", options, count))
        return 2;
    char *redis_url = pmo_redis_url_auth (pmo_config_get (options, count, "redis"),
                                          pmo_config_get (options, count, "redis-auth-file"));
    if (!redis_url)
        return 2;
    riskmon_config_t config = {
        .endpoint = pmo_config_get (options, count, "endpoint"),
        .pub_endpoint = pmo_config_get (options, count, "pub"),
        .redis_url = redis_url,
        .hub = pmo_config_get (options, count, "hub"),
        .registry = pmo_config_get (options, count, "registry"),
        .consumer = pmo_config_get (options, count, "consumer"),
        .redis_timeout_ms = (int)timeout,
        .claim_idle_ms = (int)claim_idle,
        .tick_ms = (int)tick,
        .batch = (int)batch,
    };
    int status = pmo_service_run ("riskmon", riskmon_server_actor, &config, &config.failed);
    free (redis_url);
    return status;
}
