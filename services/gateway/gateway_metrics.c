/*  gateway_metrics.c: counters and their Prometheus rendering. */
#include "gateway_metrics.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//  Latency bucket bounds in seconds (le=...), then +Inf.
static const double s_bounds[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                  0.1,    0.25,  0.5,    1,     2.5,  5};
#define N_BOUNDS   (sizeof s_bounds / sizeof s_bounds[0])
#define MAX_STATUS 24 //  distinct statuses kept per route

typedef struct {
    char *method;                   //  "GET"
    char *pattern;                  //  "/api/v1/projects/{id}"
    int statuses[MAX_STATUS];       //  status codes seen
    uint64_t counts[MAX_STATUS];    //  requests per status
    uint64_t buckets[N_BOUNDS + 1]; //  latency histogram (not cumulative here)
    double seconds;                 //  sum of latencies
    uint64_t total;                 //  requests
} route_t;

typedef struct {
    char *name;        //  service name
    uint64_t timeouts; //  no reply in time
    uint64_t unavailable;
} upstream_t;

struct _gateway_metrics_t {
    route_t *routes;
    size_t n_routes;
    upstream_t *upstreams;
    size_t n_upstreams;
    uint64_t rate_limited;
    long sse_clients;
    uint64_t sse_dropped;
};

gateway_metrics_t *gateway_metrics_new (const char *const *routes, size_t n,
                                        const char *const *upstreams, size_t m)
{
    gateway_metrics_t *self = calloc (1, sizeof (gateway_metrics_t));
    assert (self);
    self->routes = calloc (n, sizeof (route_t));
    self->upstreams = calloc (m, sizeof (upstream_t));
    assert (self->routes && self->upstreams);
    self->n_routes = n;
    self->n_upstreams = m;
    for (size_t i = 0; i < n; i++) {
        const char *space = strchr (routes[i], ' ');
        assert (space);
        self->routes[i].method = strndup (routes[i], (size_t)(space - routes[i]));
        self->routes[i].pattern = strdup (space + 1);
    }
    for (size_t i = 0; i < m; i++)
        self->upstreams[i].name = strdup (upstreams[i]);
    return self;
}

void gateway_metrics_destroy (gateway_metrics_t **self_p)
{
    assert (self_p);
    gateway_metrics_t *self = *self_p;
    if (!self)
        return;
    for (size_t i = 0; i < self->n_routes; i++) {
        free (self->routes[i].method);
        free (self->routes[i].pattern);
    }
    for (size_t i = 0; i < self->n_upstreams; i++)
        free (self->upstreams[i].name);
    free (self->routes);
    free (self->upstreams);
    free (self);
    *self_p = NULL;
}

void gateway_metrics_request (gateway_metrics_t *self, size_t index, int status,
                              int64_t duration_us)
{
    assert (index < self->n_routes);
    double seconds = (double)duration_us / 1e6;
    size_t bucket = 0;
    while (bucket < N_BOUNDS && seconds > s_bounds[bucket])
        bucket++;
    route_t *route = &self->routes[index];
    size_t slot = 0;
    while (slot < MAX_STATUS && route->statuses[slot] && route->statuses[slot] != status)
        slot++;
    if (slot == MAX_STATUS)
        slot = MAX_STATUS - 1; //  a flood of odd statuses shares the last slot
    route->statuses[slot] = route->statuses[slot] ? route->statuses[slot] : status;
    route->counts[slot]++;
    route->buckets[bucket]++;
    route->seconds += seconds;
    route->total++;
}

void gateway_metrics_upstream (gateway_metrics_t *self, size_t upstream, bool timeout)
{
    assert (upstream < self->n_upstreams);
    if (timeout)
        self->upstreams[upstream].timeouts++;
    else
        self->upstreams[upstream].unavailable++;
}

void gateway_metrics_rate_limited (gateway_metrics_t *self)
{
    self->rate_limited++;
}

void gateway_metrics_sse (gateway_metrics_t *self, int delta)
{
    self->sse_clients += delta;
}

void gateway_metrics_sse_dropped (gateway_metrics_t *self)
{
    self->sse_dropped++;
}

long gateway_metrics_sse_clients (gateway_metrics_t *self)
{
    long clients = self->sse_clients;
    return clients;
}

void gateway_metrics_printf (char **text, size_t *size, const char *format, ...)
{
    va_list args;
    va_start (args, format);
    char *line = NULL;
    int len = vasprintf (&line, format, args);
    va_end (args);
    assert (len >= 0);
    *text = realloc (*text, *size + (size_t)len + 1);
    assert (*text);
    memcpy (*text + *size, line, (size_t)len + 1);
    *size += (size_t)len;
    free (line);
}

void gateway_metrics_render (gateway_metrics_t *self, char **text, size_t *size)
{
    //  A copy, so the text is written from one consistent set of numbers
    route_t *routes = malloc (self->n_routes * sizeof (route_t));
    upstream_t *upstreams = malloc (self->n_upstreams * sizeof (upstream_t));
    assert (routes && upstreams);
    memcpy (routes, self->routes, self->n_routes * sizeof (route_t));
    memcpy (upstreams, self->upstreams, self->n_upstreams * sizeof (upstream_t));
    uint64_t rate_limited = self->rate_limited;
    long sse = self->sse_clients;
    uint64_t sse_dropped = self->sse_dropped;

    gateway_metrics_printf (text, size,
                            "# HELP pmo_gateway_requests_total HTTP requests by route and "
                            "status.\n# TYPE pmo_gateway_requests_total counter\n");
    for (size_t i = 0; i < self->n_routes; i++)
        for (size_t s = 0; s < MAX_STATUS && routes[i].statuses[s]; s++)
            gateway_metrics_printf (
                text, size,
                "pmo_gateway_requests_total{method=\"%s\",route=\"%s\",status=\"%d\"} %llu\n",
                routes[i].method, routes[i].pattern, routes[i].statuses[s],
                (unsigned long long)routes[i].counts[s]);
    gateway_metrics_printf (text, size,
                            "# HELP pmo_gateway_errors_total HTTP answers with status 400 or "
                            "more, by class.\n# TYPE pmo_gateway_errors_total counter\n");
    uint64_t client_errors = 0, server_errors = 0;
    for (size_t i = 0; i < self->n_routes; i++)
        for (size_t s = 0; s < MAX_STATUS && routes[i].statuses[s]; s++) {
            if (routes[i].statuses[s] >= 500)
                server_errors += routes[i].counts[s];
            else if (routes[i].statuses[s] >= 400)
                client_errors += routes[i].counts[s];
        }
    gateway_metrics_printf (text, size,
                            "pmo_gateway_errors_total{class=\"4xx\"} %llu\n"
                            "pmo_gateway_errors_total{class=\"5xx\"} %llu\n",
                            (unsigned long long)client_errors, (unsigned long long)server_errors);
    gateway_metrics_printf (text, size,
                            "# HELP pmo_gateway_request_duration_seconds Time from the request's "
                            "arrival to its answer.\n# TYPE pmo_gateway_request_duration_seconds "
                            "histogram\n");
    for (size_t i = 0; i < self->n_routes; i++) {
        if (!routes[i].total)
            continue;
        uint64_t cumulative = 0;
        for (size_t b = 0; b <= N_BOUNDS; b++) {
            cumulative += routes[i].buckets[b];
            char le[24];
            if (b < N_BOUNDS)
                snprintf (le, sizeof le, "%g", s_bounds[b]);
            else
                snprintf (le, sizeof le, "+Inf");
            gateway_metrics_printf (
                text, size,
                "pmo_gateway_request_duration_seconds_bucket{method=\"%s\",route=\"%s\",le=\"%s\"} "
                "%llu\n",
                routes[i].method, routes[i].pattern, le, (unsigned long long)cumulative);
        }
        gateway_metrics_printf (
            text, size,
            "pmo_gateway_request_duration_seconds_sum{method=\"%s\",route=\"%s\"} %.6f\n"
            "pmo_gateway_request_duration_seconds_count{method=\"%s\",route=\"%s\"} %llu\n",
            routes[i].method, routes[i].pattern, routes[i].seconds, routes[i].method,
            routes[i].pattern, (unsigned long long)routes[i].total);
    }
    gateway_metrics_printf (text, size,
                            "# HELP pmo_gateway_upstream_timeouts_total Service calls that got no "
                            "reply in time (answered 504).\n# TYPE "
                            "pmo_gateway_upstream_timeouts_total counter\n");
    for (size_t i = 0; i < self->n_upstreams; i++)
        gateway_metrics_printf (text, size,
                                "pmo_gateway_upstream_timeouts_total{service=\"%s\"} %llu\n",
                                upstreams[i].name, (unsigned long long)upstreams[i].timeouts);
    gateway_metrics_printf (text, size,
                            "# HELP pmo_gateway_upstream_unavailable_total Service calls answered "
                            "\"unavailable\".\n# TYPE pmo_gateway_upstream_unavailable_total "
                            "counter\n");
    for (size_t i = 0; i < self->n_upstreams; i++)
        gateway_metrics_printf (text, size,
                                "pmo_gateway_upstream_unavailable_total{service=\"%s\"} %llu\n",
                                upstreams[i].name, (unsigned long long)upstreams[i].unavailable);
    gateway_metrics_printf (text, size,
                            "# HELP pmo_gateway_rate_limited_total Requests refused with 429.\n"
                            "# TYPE pmo_gateway_rate_limited_total counter\n"
                            "pmo_gateway_rate_limited_total %llu\n"
                            "# HELP pmo_gateway_sse_clients Live-event clients connected.\n"
                            "# TYPE pmo_gateway_sse_clients gauge\npmo_gateway_sse_clients %ld\n"
                            "# HELP pmo_gateway_sse_dropped_total Live-event clients dropped for "
                            "reading too slowly.\n"
                            "# TYPE pmo_gateway_sse_dropped_total counter\n"
                            "pmo_gateway_sse_dropped_total %llu\n",
                            (unsigned long long)rate_limited, sse, (unsigned long long)sse_dropped);
    free (routes);
    free (upstreams);
}
