/*  gateway_metrics.h: the gateway's counters, in Prometheus text format.

    Requests by route and status, a latency histogram per route, upstream
    failures by service, rate-limited requests and the live-event clients.
    The gateway's reactor records them and /metrics renders them; not
    thread-safe (one owner).
*/
#ifndef GATEWAY_METRICS_H_INCLUDED
#define GATEWAY_METRICS_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct _gateway_metrics_t gateway_metrics_t;

//  routes: n labels "METHOD pattern" (copied); upstreams: m service names.
gateway_metrics_t *gateway_metrics_new (const char *const *routes, size_t n,
                                        const char *const *upstreams, size_t m);
void gateway_metrics_destroy (gateway_metrics_t **self_p);

void gateway_metrics_request (gateway_metrics_t *self, size_t route, int status,
                              int64_t duration_us);
//  An upstream call that got no reply in time (timeout) or one that
//  answered "unavailable".
void gateway_metrics_upstream (gateway_metrics_t *self, size_t upstream, bool timeout);
void gateway_metrics_rate_limited (gateway_metrics_t *self);
//  +1 when a live-event client connects, -1 when it goes.
void gateway_metrics_sse (gateway_metrics_t *self, int delta);
//  The live-event clients now.
long gateway_metrics_sse_clients (gateway_metrics_t *self);
//  A live-event client dropped for reading too slowly.
void gateway_metrics_sse_dropped (gateway_metrics_t *self);

//  Append the exposition text to a growing buffer (caller frees *text).
void gateway_metrics_render (gateway_metrics_t *self, char **text, size_t *size);

//  printf to a growing buffer (used for the Redis figures too).
void gateway_metrics_printf (char **text, size_t *size, const char *format, ...)
    __attribute__ ((format (printf, 3, 4)));

#endif
