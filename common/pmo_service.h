/*  pmo_service.h: what every service's main.c does around its actor.

    A service binary is a thin main: parse its flags, then pmo_service_init
    (logging, CZMQ's signal handling), then pmo_service_run, which starts the
    actor, waits until SIGINT or SIGTERM (or until the actor stops by
    itself), and stops it so that it finishes the requests it has received.
*/
#ifndef PMO_SERVICE_H_INCLUDED
#define PMO_SERVICE_H_INCLUDED

#include "pmo_config.h"

#include <czmq.h>
#include <stdbool.h>

//  The settings of a service's keys (pmo_auth.h, SECURITY.md): the keys
//  directory and the name of our own key in it.
#define PMO_SERVICE_KEY_OPTIONS(principal)                                                         \
    {"keys", "PMO_KEYS", ".pmo/keys", "directory of keys (server.key, NAME.key; SECURITY.md)",     \
     NULL},                                                                                        \
    {                                                                                              \
        "principal", "PMO_PRINCIPAL", principal, "the name of our key in --keys", NULL             \
    }

//  Set up logging as component (e.g. "registry") at the options'
//  "log-level", let CZMQ catch SIGINT and SIGTERM, and set up the keyring
//  of "keys" and "principal" (PMO_SERVICE_KEY_OPTIONS). Returns 0, or 2 (an
//  exit status) after printing why if the level is unknown or the keys do
//  not load: a service never runs without authentication.
int pmo_service_init (const char *component, const pmo_option_t *options, size_t count);

//  Just the keyring part of pmo_service_init. 0 or 2.
int pmo_service_keys (const pmo_option_t *options, size_t count);

//  Run actor with args until a signal asks to stop. failed points at the
//  flag the actor sets before it signals when it could not start. Returns
//  the process exit status: 0 after a clean stop, 1 if the actor could not
//  start or stopped by itself.
int pmo_service_run (const char *component, zactor_fn *actor, void *args, const bool *failed);

#endif
