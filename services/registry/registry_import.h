/*  registry_import.h: the registry's batch requests (import_batch and
    latest_reports), for spreadsheets in and portfolio reports out.

    They use the same rules (registry_model.c) and the same keys
    (registry_store.c) as the single requests; registry_server.c dispatches
    both request types here.
*/
#ifndef REGISTRY_IMPORT_H_INCLUDED
#define REGISTRY_IMPORT_H_INCLUDED

#include "pmo_server.h"
#include "registry_store.h"

#include <czmq.h>

//  The most items in one import batch: one Lua commit stays well under a
//  second and the request under the 1 MB frame limit for ordinary rows.
#define REGISTRY_IMPORT_BATCH_MAX 2000
//  The most projects in one latest_reports request.
#define REGISTRY_LATEST_MAX 500

//  Handle an import_batch or latest_reports request. pub is the registry's
//  PUB socket, where committed events are published with their stream ids.
void registry_import_handle (registry_store_t *store, zsock_t *pub, pmo_request_t *req);

#endif
