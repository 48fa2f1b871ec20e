/*  federation_harness.h: a hub and spokes on one machine for tests and the
    benchmark.

    Each stack is a real registry_harness (its own redis-server and registry
    actor on free ports). The hub actor and one uplink actor per spoke run
    in-process on free ports, with CURVE keys made in a temp directory: the
    hub's keypair, one per spoke (its public file in the hub's spokes
    directory, naming its division), and a rogue keypair the hub does not
    know.
*/
#ifndef FEDERATION_HARNESS_H_INCLUDED
#define FEDERATION_HARNESS_H_INCLUDED

#include "federation.pb-c.h"
#include "federation_hub.h"
#include "federation_uplink.h"
#include "registry_harness.h"
#include "allocator_harness.h"

#define FH_MAX_SPOKES 3

typedef struct {
    char name[32];    //  spoke name = its division id, e.g. "dft"
    rh_t *stack;      //  its Redis and registry
    zactor_t *uplink; //  NULL while stopped
    federation_uplink_config_t config;
    char cert[512]; //  its secret key file
    ah_t *alloc;    //  its allocator (fh_xdiv_start), on its Redis and registry; NULL if none
} fh_spoke_t;

typedef struct {
    char dir[256];   //  temp directory with the keys
    rh_t *hub_stack; //  the hub's Redis and registry
    zactor_t *hub;   //  NULL while stopped
    federation_hub_config_t config;
    char spoke_endpoint[64];
    char endpoint[64];
    char pub[64];
    char hub_cert[512]; //  secret
    char hub_public[41];
    char spokes_dir[512];
    char rogue_cert[512]; //  a keypair the hub does not know
    fh_spoke_t spokes[FH_MAX_SPOKES];
    size_t n_spokes;
    pmo_client_t *admin;    //  to the hub's admin endpoint
    Pmo__Identity identity; //  asserted on admin calls
    Pmo__Grant grant;
    Pmo__Grant *grant_ptr;
    char grant_unit[40];
} fh_t;

//  n spokes named names[i] (each its own division), the hub org unit in the
//  hub registry (controlling), the hub and uplinks running.
fh_t *fh_start (const char *const *names, size_t n);
void fh_stop (fh_t **self_p);

void fh_hub_start (fh_t *self);
void fh_hub_stop (fh_t *self);
void fh_uplink_start (fh_t *self, size_t i);
void fh_uplink_stop (fh_t *self, size_t i);

//  Wait (up to timeout_ms) until the spoke's registry holds the hub unit
//  (the uplink created it from the hub policy), then create the division
//  unit. Aborts on failure.
void fh_spoke_ready (fh_t *self, size_t i, int timeout_ms);

//  Cross-division requests: an allocator in every spoke (on the spoke's
//  Redis and registry, its client acting as admin@hub), and the uplinks
//  restarted to hand deliveries to it.
void fh_xdiv_start (fh_t *self);
//  Like fh_spoke_ready, with the division unit of the given PMO type (NULL:
//  inherited).
void fh_spoke_ready_typed (fh_t *self, size_t i, const char *pmo_type, int timeout_ms);

//  Act on the hub admin endpoint with one grant "role@unit".
void fh_as (fh_t *self, Pmo__Role role, const char *unit);
//  Call the hub's admin endpoint; aborts if no reply. Caller frees.
Pmo__HubReply *fh_call (fh_t *self, Pmo__HubRequest *request);
//  Roll-up of one division ("" = all); caller frees the reply.
Pmo__HubReply *fh_rollup (fh_t *self, const char *division, const char *list_kind);
Pmo__HubReply *fh_spokes (fh_t *self);
//  The applied count of an event type in a division roll-up (0 if none).
uint64_t fh_event_count (const Pmo__DivisionRollup *rollup, const char *type);
//  Projects held at the hub for a division (-1 if no reply).
long fh_hub_projects (fh_t *self, const char *division);
//  Wait until the hub holds want projects of the division; returns what
//  it holds at the end.
long fh_wait_projects (fh_t *self, const char *division, long want, int timeout_ms);

//  Make count projects in spoke i (codes PREFIX-0001...). Aborts on error.
void fh_projects (fh_t *self, size_t i, const char *prefix, int from, int count);

#endif
