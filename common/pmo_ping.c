/*  pmo_ping.c: the answer to a ping. */
#include "pmo_ping.h"
#include "pmo_reflect.h"
#include "pmo.pb-c.h"

void pmo_request_pong (pmo_request_t *request, const char *service, pmo_redis_t *redis,
                       int64_t started_ms)
{
    Pmo__Pong *pong = pmo_arena_alloc (request->arena, sizeof (Pmo__Pong));
    pmo__pong__init (pong);
    pong->service = (char *)service;
    pong->version = PMO_VERSION;
    //  Ready means Redis answers now, not only that a connection exists
    pong->redis_ok = pmo_redis_ready (redis);
    if (pong->redis_ok) {
        redisReply *reply = pmo_redis_command (redis, "PING");
        pong->redis_ok = reply && reply->type == REDIS_REPLY_STATUS;
        if (reply)
            freeReplyObject (reply);
    }
    pong->uptime_ms = pmo_now_ms () - started_ms;
    pmo_reflect_set_oneof (request->reply, "pong", &pong->base);
}
