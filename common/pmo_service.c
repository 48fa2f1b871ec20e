/*  pmo_service.c: starting, running and stopping a service's actor. */
#include "pmo_service.h"
#include "pmo_auth.h"
#include "pmo_log.h"

#include <stdio.h>

int pmo_service_keys (const pmo_option_t *options, size_t count)
{
    const char *dir = pmo_config_get (options, count, "keys");
    const char *principal = pmo_config_get (options, count, "principal");
    if (streq (dir, "none")) {
        //  For the benchmark that measures what CURVE costs, nothing else
        pmo_warn ("auth: OFF (--keys none): anyone who reaches the ports may act as anyone");
        pmo_auth_off ();
        return 0;
    }
    if (pmo_auth_setup (dir, principal))
        return 2;
    pmo_info ("auth: keys dir=%s principal=%s", dir, principal);
    return 0;
}

int pmo_service_init (const char *component, const pmo_option_t *options, size_t count)
{
    const char *level = pmo_config_get (options, count, "log-level");
    if (pmo_log_init (component, level)) {
        fprintf (stderr, "pmo-%s: unknown log level '%s' (debug, info, warn or error)\n", component,
                 level ? level : "");
        return 2;
    }
    //  CZMQ catches SIGINT and SIGTERM and sets zsys_interrupted; its own
    //  log lines would bypass ours
    zsys_init ();
    zsys_set_logstream (NULL);
    return pmo_service_keys (options, count);
}

int pmo_service_run (const char *component, zactor_fn *actor_fn, void *args, const bool *failed)
{
    zactor_t *actor = zactor_new (actor_fn, args);
    //  zactor_new returns once the actor has signalled, so *failed is set
    if (!actor || *failed) {
        zactor_destroy (&actor);
        return 1;
    }
    int status = 0;
    zpoller_t *poller = zpoller_new (actor, NULL);
    while (!zsys_interrupted) {
        if (zpoller_wait (poller, 500) == actor) {
            pmo_error ("%s: the service stopped unexpectedly", component);
            status = 1;
            break;
        }
    }
    zpoller_destroy (&poller);
    pmo_info ("%s: shutting down", component);
    //  $TERM: the actor answers what it has received, then returns
    zactor_destroy (&actor);
    return status;
}
