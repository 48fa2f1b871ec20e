/*  allocator_server.h: the resource allocator actor.

    The actor owns the allocator's ROUTER (requests), PUB (live events), its
    Redis connection, its DEALER to the registry and its in-memory index,
    all on one thread. main.c starts it; tests start it in-process. Before
    it signals ready it fills the index from Redis (if Redis is down it
    starts anyway and fills the index as soon as Redis answers; requests
    that need the index answer "unavailable" meanwhile). It answers "$TERM"
    on its pipe after finishing the requests already received.
*/
#ifndef ALLOCATOR_SERVER_H_INCLUDED
#define ALLOCATOR_SERVER_H_INCLUDED

#include <czmq.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct {
    const char *endpoint;     //  ROUTER, e.g. PMO_ENDPOINT_ALLOCATOR (pmo_endpoints.h)
    const char *pub_endpoint; //  PUB, e.g. PMO_PUB_ALLOCATOR
    const char *redis_url;    //  e.g. "redis://127.0.0.1:6390"
    const char *registry;     //  the registry's ROUTER endpoint(s)
    const char *hub;          //  the enterprise (hub) org unit id
    int redis_timeout_ms;     //  deadline for each Redis command
    int registry_timeout_ms;  //  deadline for each registry call
    int registry_cache_ms;    //  how long an org unit read from the registry is reused
    uint32_t fte_hours;       //  the standard week for FTE views
    bool failed;              //  set by the actor before it signals, if it could not start
} allocator_config_t;

//  zactor function: args is an allocator_config_t (copied before the actor
//  signals). If it cannot start (bad URL, cannot bind) it sets failed in
//  args before signalling and returns.
void allocator_server_actor (zsock_t *pipe, void *args);

#endif
