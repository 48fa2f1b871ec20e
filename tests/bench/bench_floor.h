/*  bench_floor.h: the floor the registry is measured against.

    A bare service with the registry's shape (one thread, a ROUTER, one
    synchronous hiredis connection, protobuf in and out) that does nothing
    but the Redis round trips the registry does for the same request, and
    replies. Whatever the registry needs beyond this is its own cost.

    It serves three ROUTERs, one per way of doing that Redis work:
    - "floor": the registry's round trips, one after the other. create:
      GET (replay) + HMGET (org unit) + HINCRBY (id) + EVALSHA (HSET + XADD);
      update: HMGET (project) + HMGET (org unit) + GET (replay) + EVALSHA.
    - "floor-2rt": the same commands, the three independent reads pipelined
      in one write, then the EVALSHA: two round trips.
    - "floor-1rt": the same reads and writes in a single EVALSHA, i.e. what
      one round trip per request (the performance floor's budget) would give.
    - "floor-batch": what the registry does since it batches: every request
      waiting on the socket is read, their reads go in one pipelined write,
      then all their commits in another: two round trips per batch.

    It runs as a child process (bench_registry --serve-floor ...), so like
    the registry it has its own process and ZeroMQ I/O thread.
*/
#ifndef BENCH_FLOOR_H_INCLUDED
#define BENCH_FLOOR_H_INCLUDED

//  argv: SEQUENTIAL_ENDPOINT PIPELINED_ENDPOINT ONE_TRIP_ENDPOINT BATCHED_ENDPOINT REDIS_PORT
//  (Redis on 127.0.0.1).
//  Serves until SIGTERM or SIGINT; returns the process exit status.
int bench_floor_main (int argc, char **argv);

#endif
