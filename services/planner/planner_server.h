/*  planner_server.h: the planner actor.

    The actor owns the planner's ROUTER (requests), PUB (live events), a
    client of the registry (org units through lib/orgtree, projects) and
    its Redis connection, all on one thread. It keeps the benefits
    register, the PMO units' planner policies, project scores and
    scenarios; every change is one commit with its event on the division's
    stream. main.c starts it; tests start it in-process. It answers
    "$TERM" on its pipe after finishing the requests in hand.
*/
#ifndef PLANNER_SERVER_H_INCLUDED
#define PLANNER_SERVER_H_INCLUDED

#include <czmq.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct {
    const char *endpoint;     //  ROUTER, e.g. PMO_ENDPOINT_PLANNER
    const char *pub_endpoint; //  PUB, e.g. PMO_PUB_PLANNER
    const char *redis_url;    //  e.g. "redis://127.0.0.1:6390"
    const char *hub;          //  the enterprise (hub) org unit id, e.g. "hub"
    const char *registry;     //  the registry's ROUTER endpoint(s)
    const char *allocator;    //  the allocator's ROUTER endpoint(s) ("" = none: no capacity reads)
    int redis_timeout_ms;     //  deadline for each Redis command
    int lag_sweep_ms;         //  the lag sweep's period (0: never)
    const char *month;        //  tests: "YYYY-MM" taken as the current month (NULL: the clock)
    bool failed;              //  set by the actor before it signals, if it could not start
} planner_config_t;

//  zactor function: args is a planner_config_t (copied before the actor
//  signals). If it cannot start (bad URL, cannot bind) it sets failed in
//  args before signalling and returns.
void planner_server_actor (zsock_t *pipe, void *args);

#endif
