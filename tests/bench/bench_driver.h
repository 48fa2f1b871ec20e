/*  bench_driver.h: the load generator of the registry benchmark.

    One thread drives `concurrency` DEALER sockets, each keeping exactly one
    request in flight, so the server always has that many requests waiting
    or being handled (a closed loop, like that many callers each waiting for
    its answer). Every request gets a fresh request id and a deadline; its
    latency is measured from send to reply on the monotonic clock. The same
    driver runs against the registry and against the floor, so their figures
    differ only by the server.
*/
#ifndef BENCH_DRIVER_H_INCLUDED
#define BENCH_DRIVER_H_INCLUDED

#include "pmo_util.h"
#include "registry.pb-c.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

//  What to send and how to judge what comes back.
typedef struct {
    //  Fill the body of request number index; the driver sets the header.
    //  Allocate from arena (reset after the request is sent).
    void (*build) (void *ctx, size_t index, Pmo__RegistryRequest *request, pmo_arena_t *arena);
    //  Judge the reply (without error) to request number index: 0, or -1 with
    //  the reason in why.
    int (*check) (void *ctx, size_t index, const Pmo__RegistryReply *reply, char *why,
                  size_t why_size);
    void *ctx;
    Pmo__Identity *identity; //  who asks (not owned)
    int timeout_ms;          //  no reply by then counts as an error; also the deadline
    //  Called (if set) once every connection is made and has answered a
    //  ping, right before the measured requests: what the caller counts
    //  from here (CPU, Redis commands) leaves out the connections'
    //  handshakes (CURVE: key exchanges), which real callers, on connections
    //  they keep, do not pay per request.
    void (*ready) (void *ready_ctx);
    void *ready_ctx;
} bench_work_t;

#define BENCH_MESSAGES_KEPT 5

typedef struct {
    size_t requests;                         //  sent
    size_t errors;                           //  error replies, failed checks, timeouts
    size_t timeouts;                         //  no reply in time
    double seconds;                          //  from the first send to the last reply
    double ops_per_s;                        //  requests / seconds
    int64_t p50_us, p99_us, max_us;          //  over the requests answered
    char messages[BENCH_MESSAGES_KEPT][320]; //  the first errors, for people
    size_t n_messages;
} bench_result_t;

//  Send requests first .. first+count-1 to endpoint through concurrency
//  sockets, each connected and answering a ping before the clock starts. latency[i] becomes request
//  i's latency in us (-1: no reply). Adds requests, errors and time to result, so a measurement can
//  be run in several chunks; bench_result_finish then computes the figures. Returns 0 (errors are
//  counted in result), or -1 if the run could not happen or was interrupted (Ctrl-C).
int bench_drive (const char *endpoint, int concurrency, size_t first, size_t count,
                 const bench_work_t *work, int64_t *latency, bench_result_t *result);

//  Throughput and percentiles of the n requests whose latencies are in
//  latency (sorted in place).
void bench_result_finish (bench_result_t *result, int64_t *latency, size_t n);

//  The value at percentile p (0..100) of n sorted values, nearest rank.
int64_t bench_percentile (const int64_t *sorted, size_t n, double p);

//  Sort n latencies in place (ascending).
void bench_sort (int64_t *values, size_t n);

//  Monotonic microseconds.
int64_t bench_now_us (void);

//  CPU time every thread of pid has run, in ns: the sum of
//  /proc/<pid>/task/<tid>/schedstat (time on a CPU, to the nanosecond, where
//  /proc/<pid>/stat counts 10 ms ticks). -1 if unreadable.
int64_t bench_cpu_ns (int pid);

#endif
