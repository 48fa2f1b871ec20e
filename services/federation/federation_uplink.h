/*  federation_uplink.h: the uplink actor (pmo-uplink), one per spoke stack.

    It reads the spoke's division streams with consumer group "hub",
    forwards the entries in stream order to the hub over a CurveZMQ DEALER
    (its own keypair; the hub's public key pinned, so nothing else can pose
    as the hub), and acknowledges them (XACK) only once the hub has applied
    them. Unacknowledged entries stay pending and are sent again, oldest
    first, so a spoke or hub that was away catches up with nothing lost; the
    hub drops what it already has, so nothing counts twice. Every reply
    carries the hub's policy, which the uplink applies to the spoke's local
    copy of the hub org unit through the spoke's registry.

    One uplink per spoke reads at a time (systemd restarts it if it dies; a
    restarted uplink resends what was pending). Others may stand by, each
    with its own consumer name: the reader holds a lease in the spoke's
    Redis, renewed every second for takeover_ms; an uplink stands by while
    another holds it and takes it when it lapses. Should two read at once
    (a stalled one coming back), an uplink pushes new entries only when no
    older entry of the stream is pending outside what it read, so the hub's
    per-stream order, and with it exactly-once, holds.
*/
#ifndef FEDERATION_UPLINK_H_INCLUDED
#define FEDERATION_UPLINK_H_INCLUDED

#include <czmq.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct {
    const char *spoke;        //  this spoke's name (for logs and heartbeats)
    const char *divisions;    //  "dft" or "dft,dwp": the streams to forward
    const char *redis_url;    //  the spoke's Redis
    const char *hub_endpoint; //  the hub's CURVE endpoint(s), e.g. "tcp://hub.example:7107"
                              //  (every hub replica's, comma-separated)
    const char *hub_key;      //  the hub's public key (Z85, 40 characters) or its public cert file
    const char *cert;         //  this spoke's secret certificate file
    const char *registry;     //  the spoke's registry ROUTER ("" = only record the policy)
    const char *allocator;    //  the spoke's allocator ROUTER: cross-division requests
                              //  ("" or NULL = take none)
    const char *hub;          //  the hub org unit id
    const char *consumer;     //  consumer name in the "hub" group
    int takeover_ms;          //  the reader's lease: stand by while another holds it
                              //  (0: no lease, always read)
    int batch;                //  entries per push at most
    int timeout_ms;           //  deadline of each call to the hub
    int redis_timeout_ms;     //  deadline of each Redis command
    bool failed;              //  set by the actor before it signals, if it could not start
} federation_uplink_config_t;

//  zactor function; args is a federation_uplink_config_t (copied before the
//  actor signals). "STATS" on the pipe answers with the counters as a
//  string "pushed=N acked=N failures=N policy=V".
void federation_uplink_actor (zsock_t *pipe, void *args);

#endif
