/*  gateway_orgs.h: a snapshot of the org-unit tree, asked of the registry.

    The gateway needs unit paths ("hub/dft/dft-rail") to decide who may
    issue which token and which division streams a live-event client may
    read. The registry owns the tree; the gateway asks for it over ZMQ
    (RegistryRequest list of kind ORG_UNIT) and keeps the answer for a few
    seconds. A snapshot is immutable once made, so its owner may hand out
    copies of what it says.
*/
#ifndef GATEWAY_ORGS_H_INCLUDED
#define GATEWAY_ORGS_H_INCLUDED

#include "pmo_client.h"
#include "registry.pb-c.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct _gateway_orgs_t gateway_orgs_t;

//  Ask the registry for every org unit, as who (anyone signed in may read
//  the org structure). Returns a new snapshot (caller destroys it), or NULL
//  if the registry did not answer well in timeout_ms.
gateway_orgs_t *gateway_orgs_fetch (pmo_client_t *registry, const Pmo__Identity *who,
                                    int timeout_ms);
//  The same from a registry reply to a list of org units (caller keeps the
//  reply). NULL if the reply is an error.
gateway_orgs_t *gateway_orgs_from_reply (const Pmo__RegistryReply *reply);
void gateway_orgs_destroy (gateway_orgs_t **self_p);
//  When it was made (monotonic ms).
int64_t gateway_orgs_made (const gateway_orgs_t *self);
//  The path of a unit, NULL if there is no such unit. Owned by self.
const char *gateway_orgs_path (const gateway_orgs_t *self, const char *unit);
//  The division of a unit, NULL if unknown. Owned by self.
const char *gateway_orgs_division (const gateway_orgs_t *self, const char *unit);
//  The divisions (their ids, the hub's included), i from 0 until NULL.
const char *gateway_orgs_division_at (const gateway_orgs_t *self, size_t i);

#endif
