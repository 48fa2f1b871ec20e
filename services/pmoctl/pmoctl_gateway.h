/*  pmoctl_gateway.h: pmoctl's commands for the gateway's API tokens
    (pmoctl_gateway.c), listed in the command table by
    PMOCTL_GATEWAY_COMMANDS. They talk to the gateway's token service at
    $PMO_GATEWAY_ENDPOINT (default tcp://127.0.0.1:7105).
*/
#ifndef PMOCTL_GATEWAY_H_INCLUDED
#define PMOCTL_GATEWAY_H_INCLUDED

#include "pmoctl.h"

//  Runs the gateway command named by group and verb.
int pmoctl_run_gateway (pmoctl_t *ctl, const pmoctl_command_t *cmd, pmoctl_args_t *args);
extern const pmoctl_flag_t pmoctl_gateway_flags_create[];
extern const pmoctl_flag_t pmoctl_gateway_flags_list[];
extern const pmoctl_flag_t pmoctl_gateway_flags_revoke[];

#define PMOCTL_GATEWAY_CMD(group, verb, pos, flags, summary)                                       \
    {                                                                                              \
        group, verb, pos, flags, PMOCTL_MODE_OTHER, pmoctl_run_gateway, NULL, NULL, summary        \
    }

//  The entries of the command table
#define PMOCTL_GATEWAY_COMMANDS                                                                    \
    PMOCTL_GATEWAY_CMD ("gateway", "ping", NULL, NULL,                                             \
                        "is the gateway's token service up, and its Redis?"),                      \
        PMOCTL_GATEWAY_CMD ("token", "create", NULL, pmoctl_gateway_flags_create,                  \
                            "issue an API token (its secret is shown once)"),                      \
        PMOCTL_GATEWAY_CMD ("token", "list", NULL, pmoctl_gateway_flags_list,                      \
                            "list the API tokens you may see (never their secrets)"),              \
        PMOCTL_GATEWAY_CMD ("token", "get", "ID", NULL, "show an API token"),                      \
        PMOCTL_GATEWAY_CMD ("token", "revoke", "ID", pmoctl_gateway_flags_revoke,                  \
                            "revoke an API token (refused at once by the gateway)")

#endif
