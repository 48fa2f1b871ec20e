/*  notifier_server.h: the notifier actor.

    The actor owns the notifier's ROUTER (requests), PUB (live events), its
    Redis connection, its DEALERs to the registry (projects; org units through
    the org tree, lib/orgtree) and the libcurl multi handle, all on one thread.
    It reads every division's event stream with the consumer group
    "notifier", turns matching events into durable deliveries, and sends
    those that are due, within each endpoint's rate limit. main.c starts it;
    tests start it in-process. It answers "$TERM" on its pipe after
    finishing the requests already received.
*/
#ifndef NOTIFIER_SERVER_H_INCLUDED
#define NOTIFIER_SERVER_H_INCLUDED

#include <czmq.h>
#include <stdbool.h>

typedef struct {
    const char *endpoint;           //  ROUTER, e.g. "tcp://127.0.0.1:7104"
    const char *pub_endpoint;       //  PUB, e.g. "tcp://127.0.0.1:7114"
    const char *redis_url;          //  e.g. "redis://127.0.0.1:6390"
    const char *registry_endpoint;  //  the registry's ROUTER, for org units
    const char *allocator_endpoint; //  the allocator's ROUTER, for clicks (NULL: none)
    const char *riskmon_endpoint;   //  the risk monitor's ROUTER, for clicks (NULL: none)
    const char *hub;                //  the enterprise (hub) org unit id
    const char *dashboard_url;      //  base of the links in messages
    const char *consumer;           //  name in the consumer group (one per replica)
    const char *secrets_key;        //  the key file sealing channel secrets (pmo_seal.h)
    int redis_timeout_ms;           //  deadline for each Redis command
    int connect_timeout_ms;         //  HTTP/SMTP connect deadline
    int http_timeout_ms;            //  HTTP/SMTP total deadline
    int retry_base_ms;              //  first retry after about this long
    int retry_max_ms;               //  backoff cap
    int max_attempts;               //  then dead-letter
    int max_in_flight;              //  transfers at once, all endpoints
    int endpoint_in_flight;         //  transfers at once to one channel
    int reclaim_ms;                 //  take over events another consumer left this long
    int max_event_age_s;            //  older events are acknowledged without a message
    int chat_call_ms;               //  each call a click makes to a service (0: 1200)
    unsigned allow_networks;        //  NOTIFIER_NET_* classes outgoing requests may reach
    bool allow_http;                //  accept http:// webhook URLs
    bool smtp_tls_required;         //  STARTTLS required for smtp://
    bool failed;                    //  set by the actor before it signals, if it could not start
} notifier_config_t;

//  zactor function: args is a notifier_config_t (copied before the actor
//  signals). If it cannot start it sets failed in args before signalling.
void notifier_server_actor (zsock_t *pipe, void *args);

#endif
