/*  gateway_admin.h: the gateway's token service, an actor.

    It owns a ROUTER answering GatewayRequest (create, get, list and revoke
    API tokens, the audit trail, list and read stored import mappings, ping) through the common
   pmo_server engine, a Redis connection and a registry client (for org-unit paths), all on one
    thread. pmoctl reaches it over ZMQ like any service; the gateway's own
    /api/v1/tokens routes reach it the same way, so the rules live in one
    place. At start it creates the first administrator token if asked to.
    When a token is revoked it says so on its pipe ("REVOKED", id), so the
    gateway forgets the token at once.
*/
#ifndef GATEWAY_ADMIN_H_INCLUDED
#define GATEWAY_ADMIN_H_INCLUDED

#include <czmq.h>
#include <stdbool.h>

typedef struct {
    const char *endpoint;         //  ROUTER, e.g. PMO_ENDPOINT_GATEWAY
    const char *redis_url;        //  e.g. "redis://127.0.0.1:6390"
    const char *hub;              //  the enterprise org unit id
    const char *registry;         //  registry ROUTER endpoint(s), for org-unit paths
    const char *admin_token_file; //  create the first admin token there; NULL or "" = no
    int redis_timeout_ms;         //  deadline of each Redis command
    int upstream_timeout_ms;      //  deadline of a registry call
    uint32_t token_rate_max;      //  the highest rate_per_s a token may have (0: 1000)
    int token_days;               //  a token's lifetime when none is asked for (0: 90)
    int token_max_days;           //  the longest lifetime one may ask for (0: 366)
    const char *mappings;         //  directory of stored import mappings; NULL or "" = none
    bool failed;                  //  set by the actor before it signals, if it could not start
} gateway_admin_config_t;

//  zactor function; args is a gateway_admin_config_t (copied before the
//  actor signals).
void gateway_admin_actor (zsock_t *pipe, void *args);

#endif
