/*  pmo_sentinel.h: finding the Redis master through Redis Sentinel.

    pmo_redis accepts "sentinel://[user:password@]host:port[,host:port...]/
    master-name[/db]": before each (re)connection it asks the sentinels, in
    turn, for the address of the named master and connects there; after a
    failover the old connection fails (or answers READONLY once the old
    master is demoted), the connection is dropped and the next command asks
    the sentinels again. The credentials are for the Redis servers; the
    sentinels are asked without them.
*/
#ifndef PMO_SENTINEL_H_INCLUDED
#define PMO_SENTINEL_H_INCLUDED

#include <stddef.h>

//  Ask the sentinels ("host:port,host:port") for master's address; each
//  is given timeout_ms. Returns 0 with host and port set, or -1 if none
//  answered with an address.
int pmo_sentinel_master (const char *sentinels, const char *master, int timeout_ms, char *host,
                         size_t host_size, int *port);

#endif
