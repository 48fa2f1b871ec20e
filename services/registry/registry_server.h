/*  registry_server.h: the project registry actor.

    The actor owns the registry's ROUTER (requests), PUB (live events) and
    its Redis connection, all on one thread. main.c starts it; tests start it
    in-process. It answers "$TERM" on its pipe after finishing the requests
    already received.
*/
#ifndef REGISTRY_SERVER_H_INCLUDED
#define REGISTRY_SERVER_H_INCLUDED

#include <czmq.h>
#include <stdbool.h>

typedef struct {
    const char *endpoint;     //  ROUTER (default PMO_ENDPOINT_REGISTRY)
    const char *pub_endpoint; //  PUB (default PMO_PUB_REGISTRY)
    const char *redis_url;    //  e.g. "redis://127.0.0.1:6390"
    const char *hub;          //  the enterprise (hub) org unit id, e.g. "hub"
    int redis_timeout_ms;     //  deadline for each Redis command
    int64_t stream_keep_ms;   //  events younger than this are never trimmed (0: 7 days)
    int trim_every_ms;        //  a pass of trimming the streams this often (0: 60 s)
    int trim_units;           //  ... over this many org units, going round (0: 64)
    bool failed;              //  set by the actor before it signals, if it could not start
} registry_config_t;

//  zactor function: args is a registry_config_t (copied before the actor
//  signals). If it cannot start (bad URL, cannot bind) it sets failed in
//  args before signalling and returns.
void registry_server_actor (zsock_t *pipe, void *args);

#endif
