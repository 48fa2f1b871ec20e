/*  bench_driver.c: closed-loop load over N DEALER sockets on one thread
    (see bench_driver.h).

    One thread rather than one per connection: the machine this runs on has
    two vCPUs shared by the client, the server and Redis, and 32 client
    threads would mostly measure the scheduler.
*/
#include "bench_driver.h"
#include "pmo_auth.h"
#include "pmo_wire.h"

#include <czmq.h>
#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

//  One connection and the request it has in flight.
typedef struct {
    zsock_t *dealer;
    void *handle;        //  the libzmq socket, for zmq_poll
    bool busy;           //  a request is in flight
    size_t index;        //  its number
    int64_t sent_us;     //  when it was sent
    char request_id[37]; //  its id, to recognise its reply
} slot_t;

int64_t bench_now_us (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t bench_cpu_ns (int pid)
{
    char path[64];
    snprintf (path, sizeof path, "/proc/%d/task", pid);
    DIR *dir = opendir (path);
    if (!dir)
        return -1;
    int64_t total = 0;
    struct dirent *entry;
    while ((entry = readdir (dir))) {
        if (entry->d_name[0] == '.')
            continue;
        char file_path[320];
        snprintf (file_path, sizeof file_path, "/proc/%d/task/%s/schedstat", pid, entry->d_name);
        FILE *file = fopen (file_path, "r");
        if (!file)
            continue;
        long long ns;
        if (fscanf (file, "%lld", &ns) == 1)
            total += ns;
        fclose (file);
    }
    closedir (dir);
    return total;
}

static int s_compare (const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

void bench_sort (int64_t *values, size_t n)
{
    qsort (values, n, sizeof (int64_t), s_compare);
}

int64_t bench_percentile (const int64_t *sorted, size_t n, double p)
{
    if (n == 0)
        return 0;
    size_t rank = (size_t)(p / 100.0 * (double)n + 0.999999);
    if (rank < 1)
        rank = 1;
    if (rank > n)
        rank = n;
    return sorted[rank - 1];
}

//  Count an error and keep its text if there is room.
static void s_error (bench_result_t *result, const char *format, ...)
    __attribute__ ((format (printf, 2, 3)));

static void s_error (bench_result_t *result, const char *format, ...)
{
    result->errors++;
    if (result->n_messages == BENCH_MESSAGES_KEPT)
        return;
    va_list args;
    va_start (args, format);
    vsnprintf (result->messages[result->n_messages++], sizeof result->messages[0], format, args);
    va_end (args);
}

static int s_send (slot_t *slot, size_t index, const bench_work_t *work, pmo_arena_t *arena)
{
    Pmo__RegistryRequest request;
    pmo__registry_request__init (&request);
    Pmo__Header header;
    pmo_header_init (&header, slot->request_id, work->timeout_ms, work->identity);
    request.header = &header;
    work->build (work->ctx, index, &request, arena);
    size_t size = protobuf_c_message_get_packed_size (&request.base);
    uint8_t *buffer = pmo_arena_alloc (arena, size ? size : 1);
    protobuf_c_message_pack (&request.base, buffer);
    slot->index = index;
    slot->busy = true;
    slot->sent_us = bench_now_us ();
    int rc = zmq_send (slot->handle, buffer, size, 0);
    pmo_arena_reset (arena);
    return rc < 0 ? -1 : 0;
}

//  Connect every slot: each sends a ping and waits for its answer, so that
//  the measured requests neither wait for nor pay for the handshakes. 0, or
//  -1 if not every connection answered within the timeout.
static int s_connect_all (slot_t *slots, zmq_pollitem_t *items, int concurrency,
                          const bench_work_t *work, pmo_arena_t *arena)
{
    Pmo__PingRequest ping = PMO__PING_REQUEST__INIT;
    for (int i = 0; i < concurrency; i++) {
        Pmo__RegistryRequest request = PMO__REGISTRY_REQUEST__INIT;
        Pmo__Header header;
        pmo_header_init (&header, slots[i].request_id, work->timeout_ms, work->identity);
        request.header = &header;
        request.body_case = PMO__REGISTRY_REQUEST__BODY_PING;
        request.ping = &ping;
        size_t size = protobuf_c_message_get_packed_size (&request.base);
        uint8_t *buffer = pmo_arena_alloc (arena, size ? size : 1);
        protobuf_c_message_pack (&request.base, buffer);
        int rc = zmq_send (slots[i].handle, buffer, size, 0);
        pmo_arena_reset (arena);
        if (rc < 0)
            return -1;
        slots[i].busy = true;
    }
    int answered = 0;
    int64_t deadline = bench_now_us () + (int64_t)work->timeout_ms * 1000;
    while (answered < concurrency && bench_now_us () < deadline && !zsys_interrupted) {
        if (zmq_poll (items, concurrency, 100) < 0 && errno != EINTR)
            return -1;
        for (int i = 0; i < concurrency; i++) {
            if (!(items[i].revents & ZMQ_POLLIN))
                continue;
            zmq_msg_t msg;
            zmq_msg_init (&msg);
            while (zmq_msg_recv (&msg, slots[i].handle, ZMQ_DONTWAIT) >= 0)
                if (slots[i].busy) {
                    slots[i].busy = false;
                    answered++;
                }
            zmq_msg_close (&msg);
        }
    }
    if (answered < concurrency) {
        fprintf (stderr, "bench: %d of %d connections answered a ping within %d ms\n", answered,
                 concurrency, work->timeout_ms);
        return -1;
    }
    return 0;
}

//  Take every frame waiting on the slot's socket; returns how many requests
//  it completed (0 or 1: a slot has one request in flight).
static size_t s_receive (slot_t *slot, const bench_work_t *work, pmo_arena_t *arena,
                         int64_t *latency, bench_result_t *result)
{
    size_t completed = 0;
    zmq_msg_t msg;
    zmq_msg_init (&msg);
    while (zmq_msg_recv (&msg, slot->handle, ZMQ_DONTWAIT) >= 0) {
        int64_t now = bench_now_us ();
        Pmo__RegistryReply *reply = (Pmo__RegistryReply *)protobuf_c_message_unpack (
            &pmo__registry_reply__descriptor, pmo_arena_allocator (arena), zmq_msg_size (&msg),
            zmq_msg_data (&msg));
        bool ours = reply && reply->header && reply->header->request_id &&
                    strcmp (reply->header->request_id, slot->request_id) == 0;
        if (slot->busy && (ours || !reply)) {
            //  An undecodable frame can only be the answer to what is in flight
            latency[slot->index] = now - slot->sent_us;
            char why[256] = "";
            if (!reply)
                s_error (result, "request %zu: undecodable reply (%zu bytes)", slot->index,
                         zmq_msg_size (&msg));
            else if (reply->error)
                s_error (result, "request %zu: %s: %s (field '%s')", slot->index,
                         pmo_error_code_name (reply->error->code), reply->error->message,
                         reply->error->field);
            else if (work->check (work->ctx, slot->index, reply, why, sizeof why))
                s_error (result, "request %zu: %s", slot->index, why);
            slot->busy = false;
            completed++;
        }
        //  Anything else is a late reply to a request that already timed out
        pmo_arena_reset (arena);
    }
    zmq_msg_close (&msg);
    return completed;
}

int bench_drive (const char *endpoint, int concurrency, size_t first, size_t count,
                 const bench_work_t *work, int64_t *latency, bench_result_t *result)
{
    if (count == 0)
        return 0;
    if (concurrency < 1)
        concurrency = 1;
    if ((size_t)concurrency > count)
        concurrency = (int)count;
    slot_t *slots = calloc ((size_t)concurrency, sizeof (slot_t));
    zmq_pollitem_t *items = calloc ((size_t)concurrency, sizeof (zmq_pollitem_t));
    pmo_arena_t *arena = pmo_arena_new ();
    int rc = slots && items ? 0 : -1;
    for (int i = 0; i < concurrency && rc == 0; i++) {
        slots[i].dealer = zsock_new (ZMQ_DEALER);
        if (!slots[i].dealer) {
            rc = -1;
            break;
        }
        zsock_set_linger (slots[i].dealer, 0);
        zsock_set_rcvhwm (slots[i].dealer, 10000);
        pmo_auth_client (slots[i].dealer, endpoint);
        if (zsock_connect (slots[i].dealer, "%s", endpoint) < 0) {
            fprintf (stderr, "bench: cannot connect to %s\n", endpoint);
            rc = -1;
            break;
        }
        slots[i].handle = zsock_resolve (slots[i].dealer);
        items[i].socket = slots[i].handle;
        items[i].events = ZMQ_POLLIN;
    }
    for (size_t i = first; i < first + count; i++)
        latency[i] = -1;
    //  The connections complete before the clock starts: the first requests
    //  do not wait for them
    if (rc == 0)
        rc = s_connect_all (slots, items, concurrency, work, arena);
    if (rc == 0 && work->ready)
        work->ready (work->ready_ctx);
    size_t next = first, end = first + count, done = 0;
    int64_t started = bench_now_us ();
    int64_t timeout_us = (int64_t)work->timeout_ms * 1000;
    for (int i = 0; i < concurrency && rc == 0; i++)
        if (s_send (&slots[i], next++, work, arena)) {
            fprintf (stderr, "bench: send failed: %s\n", zmq_strerror (errno));
            rc = -1;
        }
    while (rc == 0 && done < count) {
        if (zsys_interrupted) {
            fprintf (stderr, "bench: interrupted\n");
            rc = -1;
            break;
        }
        if (zmq_poll (items, concurrency, 100) < 0) {
            if (errno == EINTR)
                continue;
            fprintf (stderr, "bench: poll failed: %s\n", zmq_strerror (errno));
            rc = -1;
            break;
        }
        int64_t now = bench_now_us ();
        for (int i = 0; i < concurrency && rc == 0; i++) {
            slot_t *slot = &slots[i];
            if (items[i].revents & ZMQ_POLLIN)
                done += s_receive (slot, work, arena, latency, result);
            if (slot->busy && now - slot->sent_us > timeout_us) {
                result->timeouts++;
                s_error (result, "request %zu: no reply in %d ms", slot->index, work->timeout_ms);
                slot->busy = false;
                done++;
            }
            if (!slot->busy && next < end && s_send (slot, next++, work, arena)) {
                fprintf (stderr, "bench: send failed: %s\n", zmq_strerror (errno));
                rc = -1;
            }
        }
    }
    if (rc == 0) {
        result->requests += count;
        result->seconds += (double)(bench_now_us () - started) / 1e6;
    }
    for (int i = 0; slots && i < concurrency; i++)
        zsock_destroy (&slots[i].dealer);
    pmo_arena_destroy (&arena);
    free (items);
    free (slots);
    return rc;
}

void bench_result_finish (bench_result_t *result, int64_t *latency, size_t n)
{
    result->ops_per_s = result->seconds > 0 ? (double)result->requests / result->seconds : 0;
    size_t answered = 0;
    for (size_t i = 0; i < n; i++)
        if (latency[i] >= 0)
            latency[answered++] = latency[i];
    bench_sort (latency, answered);
    result->p50_us = bench_percentile (latency, answered, 50);
    result->p99_us = bench_percentile (latency, answered, 99);
    result->max_us = answered ? latency[answered - 1] : 0;
}
