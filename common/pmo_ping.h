/*  pmo_ping.h: the answer every service gives to a ping (liveness and
    readiness): its name and version, whether its Redis answers now, and
    how long it has been up.
*/
#ifndef PMO_PING_H_INCLUDED
#define PMO_PING_H_INCLUDED

#include "pmo_redis.h"
#include "pmo_server.h"

#include <stdint.h>

//  Set the reply's "pong" member. redis is asked PING (within its deadline);
//  started_ms is when the service started (Unix ms).
void pmo_request_pong (pmo_request_t *request, const char *service, pmo_redis_t *redis,
                       int64_t started_ms);

#endif
