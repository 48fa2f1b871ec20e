/*  pmoctl_xdiv.h: pmoctl's commands for cross-division resource requests
    between stacks (pmoctl_xdiv.c), listed in the command table by
    PMOCTL_XDIV_COMMANDS. They talk to the allocator of this stack at
    $PMO_ALLOCATOR_ENDPOINT (default tcp://127.0.0.1:7102).
*/
#ifndef PMOCTL_XDIV_H_INCLUDED
#define PMOCTL_XDIV_H_INCLUDED

#include "pmoctl.h"

int pmoctl_run_xdiv (pmoctl_t *ctl, const pmoctl_command_t *cmd, pmoctl_args_t *args);
extern const pmoctl_flag_t pmoctl_xdiv_flags_request[];
extern const pmoctl_flag_t pmoctl_xdiv_flags_list[];

#define PMOCTL_XDIV_CMD(verb, pos, flags, summary)                                                 \
    {                                                                                              \
        "foreign", verb, pos, flags, PMOCTL_MODE_OTHER, pmoctl_run_xdiv, NULL, NULL, summary       \
    }

//  The entries of the command table
#define PMOCTL_XDIV_COMMANDS                                                                       \
    PMOCTL_XDIV_CMD ("request", NULL, pmoctl_xdiv_flags_request,                                   \
                     "ask another division (another stack, through the hub) for a resource"),      \
        PMOCTL_XDIV_CMD ("list", NULL, pmoctl_xdiv_flags_list,                                     \
                         "this stack's foreign requests and where each stands"),                   \
        PMOCTL_XDIV_CMD ("get", "ID", NULL,                                                        \
                         "a foreign request: the owning division's booking and who decided")

#endif
