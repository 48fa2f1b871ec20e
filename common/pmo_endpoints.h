/*  pmo_endpoints.h: where each service listens unless told otherwise.

    One place for the defaults that flags, environment variables and
    pmoctl fall back to. Requests go to the ROUTER endpoint; events are
    published on the PUB endpoint (a convenience: the streams in Redis are
    what must arrive). Ports 71xx: 710x requests, 711x events.
*/
#ifndef PMO_ENDPOINTS_H_INCLUDED
#define PMO_ENDPOINTS_H_INCLUDED

#define PMO_ENDPOINT_REGISTRY  "tcp://127.0.0.1:7101"
#define PMO_ENDPOINT_ALLOCATOR "tcp://127.0.0.1:7102"
#define PMO_ENDPOINT_RISKMON   "tcp://127.0.0.1:7103"
#define PMO_ENDPOINT_NOTIFIER  "tcp://127.0.0.1:7104"
#define PMO_ENDPOINT_GATEWAY   "tcp://127.0.0.1:7105"
#define PMO_ENDPOINT_HUB       "tcp://127.0.0.1:7106"
#define PMO_ENDPOINT_PLANNER   "tcp://127.0.0.1:7108"
//  The hub's endpoint for its spokes' uplinks (bound on every interface by
//  the hub: spokes run on other machines; CurveZMQ protects it)
#define PMO_ENDPOINT_HUB_SPOKES      "tcp://127.0.0.1:7107"
#define PMO_ENDPOINT_HUB_SPOKES_BIND "tcp://0.0.0.0:7107"

#define PMO_PUB_REGISTRY  "tcp://127.0.0.1:7111"
#define PMO_PUB_ALLOCATOR "tcp://127.0.0.1:7112"
#define PMO_PUB_RISKMON   "tcp://127.0.0.1:7113"
#define PMO_PUB_NOTIFIER  "tcp://127.0.0.1:7114"
#define PMO_PUB_HUB       "tcp://127.0.0.1:7116"
#define PMO_PUB_PLANNER   "tcp://127.0.0.1:7118"

#endif
