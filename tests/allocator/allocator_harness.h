/*  allocator_harness.h: a real allocator for tests.

    Starts a real redis-server and the real registry actor (through the
    registry harness: org units and projects are created there), then the
    allocator actor in-process on free TCP ports, talking to both, and a
    DEALER client speaking as a chosen identity. Requests are written as
    JSON bodies of AllocatorRequest (through the generic protobuf mapping),
    so a test reads like the wire. Replies are checked with ah_ok / ah_err.
*/
#ifndef ALLOCATOR_HARNESS_H_INCLUDED
#define ALLOCATOR_HARNESS_H_INCLUDED

#include "allocator.pb-c.h"
#include "allocator_server.h"
#include "pmo_client.h"
#include "registry_harness.h"

typedef struct {
    rh_t *rh; //  Redis and the registry (its client acts as admin@hub)
    zactor_t *actor;
    allocator_config_t config;
    char endpoint[64];
    char pub[64];
    pmo_client_t *client;
    char subject[64];
    char units[8][40];
    Pmo__Grant grants[8];
    Pmo__Grant *grant_ptrs[8];
    Pmo__Identity identity;
    char request_id[40]; //  of the last call
} ah_t;

//  Redis, the registry, the allocator, and a client acting as admin@hub.
ah_t *ah_start (void);
void ah_stop (ah_t **self_p);
//  Start and stop only the allocator actor (Redis and the registry stay).
void ah_actor_start (ah_t *self);
void ah_actor_stop (ah_t *self);
//  A second allocator on the same Redis and registry (a replica); the
//  caller destroys it with zactor_destroy. endpoint receives its ROUTER.
zactor_t *ah_replica (ah_t *self, char *endpoint, size_t size);

//  Act as subject with grants "role@unit,role@unit".
void ah_as (ah_t *self, const char *subject, const char *grants);

//  Build an AllocatorRequest from JSON (printf-style) and call it with a
//  fresh request id (or request_id if not NULL); aborts if no reply comes.
Pmo__AllocatorReply *ah_call (ah_t *self, const char *format, ...)
    __attribute__ ((format (printf, 2, 3)));
Pmo__AllocatorReply *ah_call_with_id (ah_t *self, const char *request_id, const char *format, ...)
    __attribute__ ((format (printf, 3, 4)));
//  The request, packed with a header, for sending by hand (caller frees).
uint8_t *ah_pack (ah_t *self, const char *json, size_t *size);
void ah_free (Pmo__AllocatorReply **reply_p);

void ah_ok_at (Pmo__AllocatorReply *reply, const char *where, int line);
void ah_err_at (Pmo__AllocatorReply *reply, Pmo__ErrorCode code, const char *field,
                const char *where, int line);
#define ah_ok(reply) ah_ok_at (reply, __FILE__, __LINE__)
#define ah_err(reply, code, field)                                                                 \
    ah_err_at (reply, PMO__ERROR_CODE__ERROR_##code, field, __FILE__, __LINE__)

//  Fixtures in the registry: an org unit (aborts on failure), a project
//  with a priority; the project's id is written to id (40 bytes).
void ah_unit (ah_t *self, const char *id, const char *kind, const char *parent,
              const char *pmo_type);
void ah_project (ah_t *self, const char *code, const char *unit, uint32_t priority, char *id);

//  Fixtures in the allocator (as admin@hub); return the new id (static
//  buffer per call: copy it).
const char *ah_resource (ah_t *self, const char *name, const char *unit, const char *role,
                         uint32_t capacity, const char *skills_json, int64_t cost_minor);

#endif
