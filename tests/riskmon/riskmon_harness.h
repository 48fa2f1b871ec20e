/*  riskmon_harness.h: a real risk monitor for tests.

    A real redis-server and the registry actor (through the registry
    harness), the risk monitor actor in-process on free TCP ports with a
    clock the test can move forward, a DEALER client to it speaking as the
    registry harness's identity (rh_as), and helpers to wait for what the
    risk monitor does as events arrive. Replies are checked with rm_ok /
    rm_err, which abort the test with the reply's error when it is not the
    expected one.
*/
#ifndef RISKMON_HARNESS_H_INCLUDED
#define RISKMON_HARNESS_H_INCLUDED

#include "events.pb-c.h"
#include "registry_harness.h"
#include "riskmon.pb-c.h"
#include "riskmon_server.h"

typedef struct {
    rh_t *rh; //  Redis, the registry and its client
    zactor_t *actor;
    riskmon_config_t config;
    char endpoint[64];
    char pub[64];
    pmo_client_t *client;
} rm_t;

//  Everything up; the risk monitor reads every 20 ms and ticks every 50 ms.
rm_t *rm_start (void);
void rm_stop (rm_t **self_p);
void rm_actor_start (rm_t *self);
void rm_actor_stop (rm_t *self);

//  Move the risk monitor's clock forward.
void rm_advance_ms (int64_t ms);
//  Its clock now, and the date days from it ("YYYY-MM-DD", static buffer
//  per call slot 0..7).
int64_t rm_now (void);
const char *rm_date (int days, int slot);

Pmo__RiskmonReply *rm_call (rm_t *self, Pmo__RiskmonRequest *request);
Pmo__RiskmonReply *rm_call_with_id (rm_t *self, Pmo__RiskmonRequest *request,
                                    const char *request_id);
void rm_free (Pmo__RiskmonReply **reply_p);
void rm_ok_at (Pmo__RiskmonReply *reply, const char *where, int line);
void rm_err_at (Pmo__RiskmonReply *reply, Pmo__ErrorCode code, const char *field, const char *where,
                int line);
#define rm_ok(reply) rm_ok_at (reply, __FILE__, __LINE__)
#define rm_err(reply, code, field)                                                                 \
    rm_err_at (reply, PMO__ERROR_CODE__ERROR_##code, field, __FILE__, __LINE__)

//  The project's health (reply owned by the caller; with its history).
Pmo__RiskmonReply *rm_health (rm_t *self, const char *project_id);
//  Wait (up to 5 s) until the project's health has at least `seq`
//  recorded changes and its overall colour is rag; aborts if not.
Pmo__RiskmonReply *rm_wait_health (rm_t *self, const char *project_id, uint64_t seq, Pmo__Rag rag);
//  Events of a type about an entity (NULL: any) in a division's stream.
size_t rm_count_events (rm_t *self, const char *division, const char *type, const char *project_id);
//  Append an event to a division's stream as another service would.
void rm_xadd (rm_t *self, const char *division, Pmo__Event *event);

#endif
