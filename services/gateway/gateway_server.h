/*  gateway_server.h: the gateway: HTTP/JSON API, live events, dashboard.

    One reactor thread (an actor) owns everything: libmicrohttpd in its
    "external" epoll mode, one DEALER per service with any number of
    requests in flight, a SUB socket for the services' live-event wake-ups,
    its Redis connection, the token cache, the rate buckets and the
    counters. A request is authenticated with its bearer token, checked
    against the limits, turned into the service's protobuf request through
    the route table and sent; its connection is suspended until the reply
    (or the deadline) comes, then answered as JSON. Nothing is shared
    between threads, so nothing needs a lock; under load one wake-up
    serves many connections and many replies. The token service
    (gateway_admin) runs as a second actor beside it.
*/
#ifndef GATEWAY_SERVER_H_INCLUDED
#define GATEWAY_SERVER_H_INCLUDED

#include "gateway_routes.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct {
    const char *http;                         //  listen address, "127.0.0.1:8080"
    const char *endpoint;                     //  the token service's ROUTER
    const char *upstreams[GATEWAY_SVC_COUNT]; //  services' ROUTER endpoints; "" = absent
    const char *pubs[GATEWAY_SVC_COUNT];      //  services' PUB endpoints; "" = none
    const char *redis_url;
    const char *hub;              //  the enterprise org unit id
    const char *www;              //  the dashboard's files
    const char *openapi;          //  the OpenAPI document's path
    const char *admin_token_file; //  first admin token; NULL or "" = none
    int redis_timeout_ms;
    int upstream_timeout_ms; //  a service call, all attempts together
    size_t max_body;         //  bytes; larger bodies get 413
    size_t max_import;       //  bytes of a CSV file to import (0 = 16 MB); larger get 413
    const char *mappings;    //  directory of import mappings (<name>.json); NULL or "" = none
    int rate_per_s;          //  default per token; 0 = unlimited
    int rate_burst;          //  bucket size
    int heartbeat_ms;        //  live events: comment at least this often
    size_t sse_queue;        //  live events: bytes waiting per client at most (0: 256 KiB)
    int max_connections;     //  concurrent HTTP connections
    int token_cache_ms;      //  how long a token read is trusted
    const char *oidc;        //  single sign-on configuration file; NULL or "" = none
    int max_per_address;     //  concurrent connections from one address (0: 64)
    int request_timeout_ms;  //  a whole request must arrive within this (0: 30000)
    int auth_fail_rate;      //  requests/s without a valid token per address (0: 10, <0: off)
    int auth_fail_burst;     //  ... at once (0: 20)
    int token_rate_max;      //  the highest rate_per_s a token may be given (0: 1000)
    int token_days;          //  a new token's lifetime unless it asks for another (0: 90)
} gateway_config_t;
//  The strings a config points to must outlive the gateway.

typedef struct _gateway_t gateway_t;

//  Start the reactor (and the token service). Returns once it serves; NULL
//  (logged) if it cannot start.
gateway_t *gateway_new (const gateway_config_t *config);
//  Stop: requests waiting for a service are answered 503, live-event
//  streams end, then the sockets close.
void gateway_destroy (gateway_t **self_p);

#endif
