/*  federation_hub.h: the hub actor (pmo-hub).

    The hub owns a CURVE ROUTER that spokes' uplinks connect to, a ZAP
    handler that admits only the spoke keys found in its spokes directory
    (each key names the spoke and the divisions it may speak for), an admin
    ROUTER for people (pmoctl hub ..., the gateway), a PUB socket that
    republishes every event it applies, and its Redis connection. It follows
    the hub org unit in its own registry and hands that policy to every
    spoke with every reply.
*/
#ifndef FEDERATION_HUB_H_INCLUDED
#define FEDERATION_HUB_H_INCLUDED

#include <czmq.h>
#include <stdbool.h>

typedef struct {
    const char *hub;            //  the hub org unit id (also the hash tag of the hub's keys)
    const char *spoke_endpoint; //  CURVE ROUTER for uplinks (default PMO_ENDPOINT_HUB_SPOKES_BIND)
    const char *endpoint;       //  admin ROUTER (default PMO_ENDPOINT_HUB)
    const char *pub_endpoint;   //  PUB of applied events (default PMO_PUB_HUB)
    const char *redis_url;      //  the hub's Redis
    const char *registry;       //  the hub's registry ROUTER (its policy)
    const char *registry_pub;   //  the hub's registry PUB (policy changes, live)
    const char *cert;           //  the hub's secret certificate file (zcert)
    const char *spokes_dir;     //  directory of spoke public certificates
    int lag_ms;                 //  a spoke whose oldest waiting event is older: lagging
    int down_ms;                //  a spoke not heard from for this long: down
    int redis_timeout_ms;       //  deadline of each Redis command
    bool failed;                //  set by the actor before it signals, if it could not start
} federation_hub_config_t;

//  zactor function; args is a federation_hub_config_t (copied before the
//  actor signals; failed is set in it if the hub cannot start). Only one hub
//  per process: the ZAP handler endpoint is per ZeroMQ context.
void federation_hub_actor (zsock_t *pipe, void *args);

#endif
