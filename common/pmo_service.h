/*  pmo_service.h: what every service's main.c does around its actor.

    A service binary is a thin main: parse its flags, then pmo_service_init
    (logging, CZMQ's signal handling), then pmo_service_run, which starts the
    actor, waits until SIGINT or SIGTERM (or until the actor stops by
    itself), and stops it so that it finishes the requests it has received.
*/
#ifndef PMO_SERVICE_H_INCLUDED
#define PMO_SERVICE_H_INCLUDED

#include <czmq.h>
#include <stdbool.h>

//  Set up logging as component (e.g. "registry") at level, and let CZMQ
//  catch SIGINT and SIGTERM. Returns 0, or 2 (an exit status) after printing
//  why if the level is unknown.
int pmo_service_init (const char *component, const char *level);

//  Run actor with args until a signal asks to stop. failed points at the
//  flag the actor sets before it signals when it could not start. Returns
//  the process exit status: 0 after a clean stop, 1 if the actor could not
//  start or stopped by itself.
int pmo_service_run (const char *component, zactor_fn *actor, void *args, const bool *failed);

#endif
