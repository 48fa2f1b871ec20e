/*  registry_harness.h: a real registry for tests.

    Starts a real redis-server (through the test kit) and the registry actor
    in-process on free TCP ports, and a DEALER client speaking as a chosen
    identity. Replies are checked with rh_ok / rh_err, which print the
    reply's error and abort the test when it is not what was expected.
*/
#ifndef REGISTRY_HARNESS_H_INCLUDED
#define REGISTRY_HARNESS_H_INCLUDED

#include "pmo_client.h"
#include "pmo_testkit.h"
#include "registry.pb-c.h"
#include "registry_server.h"

typedef struct {
    pmo_test_redis_t *redis;
    zactor_t *actor;
    registry_config_t config;
    char endpoint[64];
    char pub[64];
    pmo_client_t *client;
    char subject[64];
    Pmo__Grant grants[8];
    Pmo__Grant *grant_ptrs[8];
    Pmo__Identity identity;
    char request_id[40]; //  of the last call
} rh_t;

//  Redis, the registry actor, and a client acting as admin@hub.
rh_t *rh_start (void);
void rh_stop (rh_t **self_p);
//  Start and stop only the actor (Redis stays).
void rh_actor_start (rh_t *self);
void rh_actor_stop (rh_t *self);

//  Act as subject with grants "role@unit,role@unit" (role names as in JSON).
void rh_as (rh_t *self, const char *subject, const char *grants);

//  Send the request with a fresh request id (or the one in *reuse_id if not
//  NULL and non-empty) and return the reply; aborts if no reply comes.
Pmo__RegistryReply *rh_call (rh_t *self, Pmo__RegistryRequest *request);
Pmo__RegistryReply *rh_call_with_id (rh_t *self, Pmo__RegistryRequest *request,
                                     const char *request_id);
void rh_free (Pmo__RegistryReply **reply_p);

//  Assert success / a given error code (and that the field contains field).
void rh_ok_at (Pmo__RegistryReply *reply, const char *where, int line);
void rh_err_at (Pmo__RegistryReply *reply, Pmo__ErrorCode code, const char *field,
                const char *where, int line);
#define rh_ok(reply) rh_ok_at (reply, __FILE__, __LINE__)
#define rh_err(reply, code, field)                                                                 \
    rh_err_at (reply, PMO__ERROR_CODE__ERROR_##code, field, __FILE__, __LINE__)

//  Builders for the usual fixtures; each returns the reply (caller frees).
Pmo__RegistryReply *rh_unit (rh_t *self, const char *id, const char *kind, const char *parent,
                             const char *pmo_type);
Pmo__RegistryReply *rh_project (rh_t *self, const char *code, const char *unit);
Pmo__RegistryReply *rh_get (rh_t *self, Pmo__EntityKind kind, const char *id);

#endif
