/*  pmo-hub: the hub of a federated enterprise. Flags and environment,
    logging, signals; the work happens in federation_hub_actor.

    "pmo-hub keygen NAME DIR [DIVISIONS]" makes a CURVE keypair in DIR:
    NAME.key (public: give it to the other side) and NAME.key_secret (keep
    it). With DIVISIONS ("dft,dwp") it is a spoke key: its public file goes
    into the hub's spokes directory and names what the spoke may speak for.
*/
#include "federation_hub.h"
#include "pmo_config.h"
#include "pmo_endpoints.h"
#include "pmo_log.h"
#include "pmo_redis.h"
#include "pmo_service.h"

#include <czmq.h>
#include <sys/stat.h>

static int s_keygen (int argc, char **argv)
{
    if (argc < 4 || argc > 5) {
        fprintf (stderr, "usage: pmo-hub keygen NAME DIR [DIVISIONS]\n");
        return 2;
    }
    const char *name = argv[2], *dir = argv[3];
    zcert_t *cert = zcert_new ();
    if (!cert) {
        fprintf (stderr, "pmo-hub: cannot make a keypair\n");
        return 1;
    }
    zcert_set_meta (cert, argc == 5 ? "spoke" : "hub", "%s", name);
    if (argc == 5)
        zcert_set_meta (cert, "divisions", "%s", argv[4]);
    char path[1024];
    snprintf (path, sizeof path, "%s/%s.key", dir, name);
    //  Nobody but the owner reads what we write (the secret key)
    umask (077);
    int rc = zcert_save (cert, path);
    zcert_destroy (&cert);
    if (rc) {
        fprintf (stderr, "pmo-hub: cannot write %s\n", path);
        return 1;
    }
    printf ("%s (public) and %s_secret (keep it secret)\n", path, path);
    return 0;
}

int main (int argc, char **argv)
{
    if (argc > 1 && streq (argv[1], "keygen"))
        return s_keygen (argc, argv);
    pmo_option_t options[] = {
        {"hub", "PMO_HUB", "hub", "id of the enterprise (hub) org unit", NULL},
        {"spoke-endpoint", "PMO_HUB_SPOKE_ENDPOINT", PMO_ENDPOINT_HUB_SPOKES_BIND,
         "CURVE ROUTER endpoint the spokes' uplinks connect to", NULL},
        {"endpoint", "PMO_HUB_ENDPOINT", PMO_ENDPOINT_HUB,
         "ROUTER endpoint for requests (pmoctl hub, the gateway)", NULL},
        {"pub", "PMO_HUB_PUB", PMO_PUB_HUB, "PUB endpoint: every event applied", NULL},
        {"redis", "PMO_REDIS_URL", "redis://127.0.0.1:6390",
         "Redis URL (redis://[user:pass@]host:port, unix:///path or "
         "sentinel://host:port[,host:port]/master)",
         NULL},
        {"redis-auth-file", "PMO_REDIS_AUTH_FILE", "",
         "file whose first line is USER:PASSWORD of Redis (keeps the password off the command "
         "line)",
         NULL},
        {"registry", "PMO_REGISTRY_ENDPOINT", PMO_ENDPOINT_REGISTRY,
         "the hub registry's ROUTER (the hub policy); every replica's, comma-separated", NULL},
        {"registry-pub", "PMO_REGISTRY_PUB", PMO_PUB_REGISTRY,
         "the hub registry's PUB (policy changes); every replica's, comma-separated", NULL},
        {"cert", "PMO_HUB_CERT", "/etc/pmo/keys/hub.key_secret", "the hub's secret key file", NULL},
        {"spokes", "PMO_HUB_SPOKES", "/etc/pmo/spokes", "directory of the spokes' public key files",
         NULL},
        {"lag", "PMO_HUB_LAG_MS", "5000", "a spoke whose events wait longer is lagging, ms", NULL},
        {"down", "PMO_HUB_DOWN_MS", "5000", "a spoke silent this long is down, ms", NULL},
        {"redis-timeout", "PMO_REDIS_TIMEOUT_MS", "1000", "deadline of each Redis command, ms",
         NULL},
        {"log-level", "PMO_LOG_LEVEL", "info", "debug, info, warn or error", NULL},
        PMO_SERVICE_KEY_OPTIONS ("hub"),
    };
    size_t count = sizeof options / sizeof options[0];
    int rc = pmo_config_parse (options, count, argc, argv,
                               "pmo-hub: the enterprise hub: follows every spoke's events, keeps "
                               "the roll-up, pushes the hub policy down (pmo-hub keygen NAME DIR "
                               "[DIVISIONS] makes keys)");
    if (rc)
        return rc > 0 ? 0 : 2;
    long timeout, lag, down;
    if (pmo_config_int (options, count, "redis-timeout", 10, 60000, &timeout) ||
        pmo_config_int (options, count, "lag", 100, 86400000, &lag) ||
        pmo_config_int (options, count, "down", 1000, 86400000, &down))
        return 2;
    if (pmo_service_init ("hub", options, count))
        return 2;
    char *redis_url = pmo_redis_url_auth (pmo_config_get (options, count, "redis"),
                                          pmo_config_get (options, count, "redis-auth-file"));
    if (!redis_url)
        return 2;
    federation_hub_config_t config = {
        .hub = pmo_config_get (options, count, "hub"),
        .spoke_endpoint = pmo_config_get (options, count, "spoke-endpoint"),
        .endpoint = pmo_config_get (options, count, "endpoint"),
        .pub_endpoint = pmo_config_get (options, count, "pub"),
        .redis_url = redis_url,
        .registry = pmo_config_get (options, count, "registry"),
        .registry_pub = pmo_config_get (options, count, "registry-pub"),
        .cert = pmo_config_get (options, count, "cert"),
        .spokes_dir = pmo_config_get (options, count, "spokes"),
        .lag_ms = (int)lag,
        .down_ms = (int)down,
        .redis_timeout_ms = (int)timeout,
    };
    int status = pmo_service_run ("hub", federation_hub_actor, &config, &config.failed);
    free (redis_url);
    return status;
}
