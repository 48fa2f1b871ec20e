/*  pmo_sentinel.c: ask Redis Sentinel where the master is. */
#include "pmo_sentinel.h"
#include "pmo_log.h"

#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//  One sentinel; 0 with the address, or -1.
static int s_ask (const char *host, int port, const char *master, int timeout_ms, char *out,
                  size_t out_size, int *out_port)
{
    struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    redisContext *ctx = redisConnectWithTimeout (host, port, tv);
    if (!ctx || ctx->err) {
        pmo_debug ("sentinel: unreachable sentinel=%s:%d", host, port);
        if (ctx)
            redisFree (ctx);
        return -1;
    }
    redisSetTimeout (ctx, tv);
    redisReply *reply = redisCommand (ctx, "SENTINEL get-master-addr-by-name %s", master);
    int rc = -1;
    if (reply && reply->type == REDIS_REPLY_ARRAY && reply->elements == 2 &&
        reply->element[0]->str && reply->element[1]->str) {
        snprintf (out, out_size, "%s", reply->element[0]->str);
        *out_port = atoi (reply->element[1]->str);
        rc = *out_port > 0 ? 0 : -1;
    }
    if (reply)
        freeReplyObject (reply);
    redisFree (ctx);
    return rc;
}

int pmo_sentinel_master (const char *sentinels, const char *master, int timeout_ms, char *host,
                         size_t host_size, int *port)
{
    char *list = strdup (sentinels);
    if (!list)
        return -1;
    int rc = -1;
    char *save = NULL;
    for (char *one = strtok_r (list, ",", &save); one && rc; one = strtok_r (NULL, ",", &save)) {
        char *colon = strrchr (one, ':');
        if (!colon)
            continue;
        *colon = 0;
        rc = s_ask (one, atoi (colon + 1), master, timeout_ms, host, host_size, port);
    }
    free (list);
    return rc;
}
