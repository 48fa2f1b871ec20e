/*  pmo-notifier: the notifier service. Flags and environment, logging,
    signals; the work happens in notifier_server_actor.
*/
#include "notifier_model.h"
#include "notifier_server.h"
#include "pmo_config.h"
#include "pmo_endpoints.h"
#include "pmo_log.h"
#include "pmo_redis.h"
#include "pmo_service.h"

#include <czmq.h>
#include <unistd.h>

int main (int argc, char **argv)
{
    char host[64] = "notifier";
    gethostname (host, sizeof host - 1);
    pmo_option_t options[] = {
        {"endpoint", "PMO_NOTIFIER_ENDPOINT", PMO_ENDPOINT_NOTIFIER, "ROUTER endpoint for requests",
         NULL},
        {"pub", "PMO_NOTIFIER_PUB", PMO_PUB_NOTIFIER, "PUB endpoint for live events", NULL},
        {"redis", "PMO_REDIS_URL", "redis://127.0.0.1:6390",
         "Redis URL (redis://[user:pass@]host:port or unix:///path)", NULL},
        {"redis-auth-file", "PMO_REDIS_AUTH_FILE", "",
         "file whose first line is USER:PASSWORD of Redis (keeps the password off the command "
         "line)",
         NULL},
        {"registry", "PMO_REGISTRY_ENDPOINT", PMO_ENDPOINT_REGISTRY,
         "the registry's ROUTER endpoint (org units)", NULL},
        {"allocator", "PMO_ALLOCATOR_ENDPOINT", PMO_ENDPOINT_ALLOCATOR,
         "the allocator's ROUTER endpoint (approve or reject from chat)", NULL},
        {"riskmon", "PMO_RISKMON_ENDPOINT", PMO_ENDPOINT_RISKMON,
         "the risk monitor's ROUTER endpoint (acknowledge alerts from chat)", NULL},
        {"hub", "PMO_HUB", "hub", "id of the enterprise (hub) org unit", NULL},
        {"dashboard-url", "PMO_DASHBOARD_URL", "http://127.0.0.1:8080",
         "base URL of the dashboard, for the links in messages", NULL},
        {"secrets-key", "PMO_SECRETS_KEY", ".pmo/secrets.key",
         "the key file that seals webhook and SMTP secrets in Redis (SECURITY.md)", NULL},
        {"consumer", "PMO_NOTIFIER_CONSUMER", host,
         "this replica's name in the consumer group (default: the host name)", NULL},
        {"redis-timeout", "PMO_REDIS_TIMEOUT_MS", "1000", "deadline of each Redis command, ms",
         NULL},
        {"connect-timeout", "PMO_NOTIFIER_CONNECT_TIMEOUT_MS", "5000",
         "HTTP/SMTP connect deadline, ms", NULL},
        {"http-timeout", "PMO_NOTIFIER_HTTP_TIMEOUT_MS", "15000",
         "HTTP/SMTP whole-request deadline, ms", NULL},
        {"retry-base", "PMO_NOTIFIER_RETRY_BASE_MS", "5000",
         "first retry after about this long (doubling, with jitter), ms", NULL},
        {"retry-max", "PMO_NOTIFIER_RETRY_MAX_MS", "21600000", "longest wait between retries, ms",
         NULL},
        {"max-attempts", "PMO_NOTIFIER_MAX_ATTEMPTS", "15",
         "attempts before a delivery is dead-lettered (about a day with the defaults)", NULL},
        {"max-in-flight", "PMO_NOTIFIER_MAX_IN_FLIGHT", "256", "requests at once, all endpoints",
         NULL},
        {"endpoint-in-flight", "PMO_NOTIFIER_ENDPOINT_IN_FLIGHT", "8",
         "requests at once to one channel", NULL},
        {"reclaim", "PMO_NOTIFIER_RECLAIM_MS", "30000",
         "take over events another replica left unacknowledged this long, ms", NULL},
        {"max-event-age", "PMO_NOTIFIER_MAX_EVENT_AGE_S", "86400",
         "events older than this are acknowledged without a message (0 = no limit), s", NULL},
        {"chat-call-ms", "PMO_NOTIFIER_CHAT_CALL_MS", "1200",
         "deadline of each call a chat click makes to the allocator or risk monitor (two per "
         "click; Slack wants its answer within 3 s), ms",
         NULL},
        {"allow-networks", "PMO_NOTIFIER_ALLOW_NETWORKS", "none",
         "address classes webhooks may reach besides public ones: none, or any of loopback, "
         "private, link-local (comma-separated)",
         NULL},
        {"allow-http", "PMO_NOTIFIER_ALLOW_HTTP", "0",
         "1 accepts http:// webhook URLs (otherwise https only)", NULL},
        {"smtp-tls", "PMO_NOTIFIER_SMTP_TLS", "required",
         "STARTTLS on smtp:// URLs: required, or try (a relay without TLS)", NULL},
        {"log-level", "PMO_LOG_LEVEL", "info", "debug, info, warn or error", NULL},
        PMO_SERVICE_KEY_OPTIONS ("notifier"),
    };
    size_t count = sizeof options / sizeof options[0];
    int rc = pmo_config_parse (options, count, argc, argv,
                               "pmo-notifier: event feeds into Slack, Teams, Mattermost, Google "
                               "Chat, signed webhooks and email");
    if (rc)
        return rc > 0 ? 0 : 2;
    long redis_timeout, connect_timeout, http_timeout, retry_base, retry_max, max_attempts,
        in_flight, endpoint_in_flight, reclaim, max_age, allow_http, chat_call;
    if (pmo_config_int (options, count, "redis-timeout", 10, 60000, &redis_timeout) ||
        pmo_config_int (options, count, "connect-timeout", 100, 60000, &connect_timeout) ||
        pmo_config_int (options, count, "http-timeout", 100, 120000, &http_timeout) ||
        pmo_config_int (options, count, "retry-base", 10, 3600000, &retry_base) ||
        pmo_config_int (options, count, "retry-max", 10, 86400000, &retry_max) ||
        pmo_config_int (options, count, "max-attempts", 1, 100, &max_attempts) ||
        pmo_config_int (options, count, "max-in-flight", 1, 4096, &in_flight) ||
        pmo_config_int (options, count, "endpoint-in-flight", 1, 256, &endpoint_in_flight) ||
        pmo_config_int (options, count, "reclaim", 100, 3600000, &reclaim) ||
        pmo_config_int (options, count, "max-event-age", 0, 365 * 86400, &max_age) ||
        pmo_config_int (options, count, "chat-call-ms", 50, 600000, &chat_call) ||
        pmo_config_int (options, count, "allow-http", 0, 1, &allow_http))
        return 2;
    unsigned allow;
    if (notifier_parse_allow (pmo_config_get (options, count, "allow-networks"), &allow)) {
        fprintf (stderr, "pmo-notifier: --allow-networks takes none, loopback, private, "
                         "link-local\n");
        return 2;
    }
    const char *smtp_tls = pmo_config_get (options, count, "smtp-tls");
    if (!streq (smtp_tls, "required") && !streq (smtp_tls, "try")) {
        fprintf (stderr, "pmo-notifier: --smtp-tls is required or try\n");
        return 2;
    }
    if (pmo_service_init ("notifier", options, count))
        return 2;
    char *redis_url = pmo_redis_url_auth (pmo_config_get (options, count, "redis"),
                                          pmo_config_get (options, count, "redis-auth-file"));
    if (!redis_url)
        return 2;
    notifier_config_t config = {
        .endpoint = pmo_config_get (options, count, "endpoint"),
        .pub_endpoint = pmo_config_get (options, count, "pub"),
        .redis_url = redis_url,
        .registry_endpoint = pmo_config_get (options, count, "registry"),
        .allocator_endpoint = pmo_config_get (options, count, "allocator"),
        .riskmon_endpoint = pmo_config_get (options, count, "riskmon"),
        .hub = pmo_config_get (options, count, "hub"),
        .dashboard_url = pmo_config_get (options, count, "dashboard-url"),
        .consumer = pmo_config_get (options, count, "consumer"),
        .secrets_key = pmo_config_get (options, count, "secrets-key"),
        .redis_timeout_ms = (int)redis_timeout,
        .connect_timeout_ms = (int)connect_timeout,
        .http_timeout_ms = (int)http_timeout,
        .retry_base_ms = (int)retry_base,
        .retry_max_ms = (int)retry_max,
        .max_attempts = (int)max_attempts,
        .max_in_flight = (int)in_flight,
        .endpoint_in_flight = (int)endpoint_in_flight,
        .reclaim_ms = (int)reclaim,
        .max_event_age_s = (int)max_age,
        .chat_call_ms = (int)chat_call,
        .allow_networks = allow,
        .allow_http = allow_http == 1,
        .smtp_tls_required = streq (smtp_tls, "required"),
    };
    int status = pmo_service_run ("notifier", notifier_server_actor, &config, &config.failed);
    free (redis_url);
    return status;
}
