/*  riskmon_server.h: the risk monitor actor.

    The actor owns the risk monitor's ROUTER (requests), PUB (live events),
    a SUB that wakes it when the registry or allocator publish, a client of
    the registry (projects it has not heard of yet), the org-unit tree
    (lib/orgtree) and its Redis connections, all on one thread. It reads
    every division's event stream with consumer group "riskmon", keeps each
    project's health inputs in Redis, recomputes health as events arrive
    and as time passes (the due set), and raises and escalates alerts.
    main.c starts it; tests start it in-process. It answers "$TERM" on its
    pipe after finishing the batch and requests in hand.
*/
#ifndef RISKMON_SERVER_H_INCLUDED
#define RISKMON_SERVER_H_INCLUDED

#include <czmq.h>
#include <stdbool.h>
#include <stdint.h>

//  A clock in Unix ms; tests replace the wall clock to make time pass.
typedef int64_t (riskmon_clock_fn) (void *ctx);

typedef struct {
    const char *endpoint;     //  ROUTER, e.g. PMO_ENDPOINT_RISKMON
    const char *pub_endpoint; //  PUB, e.g. PMO_PUB_RISKMON
    const char *redis_url;    //  e.g. "redis://127.0.0.1:6390"
    const char *hub;          //  the enterprise (hub) org unit id, e.g. "hub"
    const char *registry;     //  the registry's ROUTER endpoint(s)
    const char *consumer;     //  this instance's name in the consumer group
    int redis_timeout_ms;     //  deadline for each Redis command
    int claim_idle_ms;        //  take over entries pending this long (a dead consumer's)
    int tick_ms;              //  time rules and escalations are checked this often
    int sweep_budget_ms;      //  time one tick may spend on time rules before serving again
    int batch;                //  stream entries read at once
    riskmon_clock_fn *clock;  //  NULL = the wall clock
    void *clock_ctx;
    bool failed; //  set by the actor before it signals, if it could not start
} riskmon_config_t;

//  zactor function: args is a riskmon_config_t (copied before the actor
//  signals). If it cannot start (bad URL, cannot bind) it sets failed in
//  args before signalling and returns.
void riskmon_server_actor (zsock_t *pipe, void *args);

#endif
