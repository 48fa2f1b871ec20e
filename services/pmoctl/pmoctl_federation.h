/*  pmoctl_federation.h: pmoctl's commands for the hub of a federated
    enterprise (pmoctl_federation.c), listed in the command table by
    PMOCTL_FEDERATION_COMMANDS. They talk to pmo-hub's admin endpoint at
    $PMO_HUB_ENDPOINT (default tcp://127.0.0.1:7106).
*/
#ifndef PMOCTL_FEDERATION_H_INCLUDED
#define PMOCTL_FEDERATION_H_INCLUDED

#include "pmoctl.h"

//  Runs the hub command named by the verb.
int pmoctl_run_hub (pmoctl_t *ctl, const pmoctl_command_t *cmd, pmoctl_args_t *args);
extern const pmoctl_flag_t pmoctl_hub_flags_rollup[];

#define PMOCTL_HUB_CMD(verb, flags, summary)                                                       \
    {                                                                                              \
        "hub", verb, NULL, flags, PMOCTL_MODE_OTHER, pmoctl_run_hub, NULL, NULL, summary           \
    }

#define PMOCTL_FEDERATION_COMMANDS                                                                 \
    PMOCTL_HUB_CMD ("ping", NULL, "is the hub up, and its Redis? (exit 0 only if both)"),          \
        PMOCTL_HUB_CMD ("status", NULL,                                                            \
                        "the hub: spokes connected, lagging, down; the policy it pushes"),         \
        PMOCTL_HUB_CMD ("spokes", NULL,                                                            \
                        "each spoke: state, last seen, events waiting and how old, policy"),       \
        PMOCTL_HUB_CMD ("rollup", pmoctl_hub_flags_rollup,                                         \
                        "the enterprise roll-up by division (--list KIND: the entities)")

#endif
