/*  pmo-uplink: forwards a spoke stack's division streams to the hub and
    applies the hub's policy in the spoke. Flags and environment, logging,
    signals; the work happens in federation_uplink_actor.
*/
#include "federation_uplink.h"
#include "pmo_config.h"
#include "pmo_endpoints.h"
#include "pmo_log.h"
#include "pmo_redis.h"
#include "pmo_service.h"

#include <czmq.h>

int main (int argc, char **argv)
{
    pmo_option_t options[] = {
        {"spoke", "PMO_SPOKE", NULL, "this spoke's name (as in its key file)", NULL},
        {"divisions", "PMO_SPOKE_DIVISIONS", NULL, "the divisions this stack holds: \"dft,dwp\"",
         NULL},
        {"hub-endpoint", "PMO_HUB_SPOKE_ENDPOINT", PMO_ENDPOINT_HUB_SPOKES,
         "the hub's CURVE endpoint; every hub replica's, comma-separated", NULL},
        {"hub-key", "PMO_HUB_KEY", "/etc/pmo/keys/hub.key",
         "the hub's public key: 40 Z85 characters or its public key file", NULL},
        {"cert", "PMO_SPOKE_CERT", NULL, "this spoke's secret key file", NULL},
        {"redis", "PMO_REDIS_URL", "redis://127.0.0.1:6390",
         "Redis URL (redis://[user:pass@]host:port, unix:///path or "
         "sentinel://host:port[,host:port]/master)",
         NULL},
        {"redis-auth-file", "PMO_REDIS_AUTH_FILE", "",
         "file whose first line is USER:PASSWORD of Redis (keeps the password off the command "
         "line)",
         NULL},
        {"registry", "PMO_REGISTRY_ENDPOINT", PMO_ENDPOINT_REGISTRY,
         "the spoke registry's ROUTER, to apply the hub policy (\"\": record it only)", NULL},
        {"allocator", "PMO_ALLOCATOR_ENDPOINT", PMO_ENDPOINT_ALLOCATOR,
         "the spoke allocator's ROUTER, for cross-division requests (\"\": take none)", NULL},
        {"hub", "PMO_HUB", "hub", "id of the enterprise (hub) org unit", NULL},
        {"consumer", "PMO_UPLINK_CONSUMER", "uplink", "consumer name in the \"hub\" group", NULL},
        {"takeover", "PMO_UPLINK_TAKEOVER_MS", "15000",
         "the reader's lease, ms: stand by while another uplink of the spoke holds it, take it "
         "when it lapses (0: no lease, always read)",
         NULL},
        {"batch", "PMO_UPLINK_BATCH", "500", "events per push at most", NULL},
        {"timeout", "PMO_UPLINK_TIMEOUT_MS", "3000", "deadline of each call to the hub, ms", NULL},
        {"redis-timeout", "PMO_REDIS_TIMEOUT_MS", "1000", "deadline of each Redis command, ms",
         NULL},
        {"log-level", "PMO_LOG_LEVEL", "info", "debug, info, warn or error", NULL},
        PMO_SERVICE_KEY_OPTIONS ("uplink"),
    };
    size_t count = sizeof options / sizeof options[0];
    int rc = pmo_config_parse (options, count, argc, argv,
                               "pmo-uplink: forwards this spoke's events to the hub (CurveZMQ) "
                               "and applies the hub's policy");
    if (rc)
        return rc > 0 ? 0 : 2;
    long timeout, batch, call, takeover;
    if (pmo_config_int (options, count, "redis-timeout", 100, 60000, &timeout) ||
        pmo_config_int (options, count, "batch", 1, 10000, &batch) ||
        pmo_config_int (options, count, "timeout", 100, 60000, &call) ||
        pmo_config_int (options, count, "takeover", 0, 3600000, &takeover))
        return 2;
    const char *required[] = {"spoke", "divisions", "cert"};
    for (size_t i = 0; i < 3; i++)
        if (!pmo_config_get (options, count, required[i])) {
            fprintf (stderr, "pmo-uplink: --%s is required\n", required[i]);
            return 2;
        }
    if (pmo_service_init ("uplink", options, count))
        return 2;
    char *redis_url = pmo_redis_url_auth (pmo_config_get (options, count, "redis"),
                                          pmo_config_get (options, count, "redis-auth-file"));
    if (!redis_url)
        return 2;
    federation_uplink_config_t config = {
        .spoke = pmo_config_get (options, count, "spoke"),
        .divisions = pmo_config_get (options, count, "divisions"),
        .redis_url = redis_url,
        .hub_endpoint = pmo_config_get (options, count, "hub-endpoint"),
        .hub_key = pmo_config_get (options, count, "hub-key"),
        .cert = pmo_config_get (options, count, "cert"),
        .registry = pmo_config_get (options, count, "registry"),
        .allocator = pmo_config_get (options, count, "allocator"),
        .hub = pmo_config_get (options, count, "hub"),
        .consumer = pmo_config_get (options, count, "consumer"),
        .batch = (int)batch,
        .timeout_ms = (int)call,
        .takeover_ms = (int)takeover,
        .redis_timeout_ms = (int)timeout,
    };
    int status = pmo_service_run ("uplink", federation_uplink_actor, &config, &config.failed);
    free (redis_url);
    return status;
}
