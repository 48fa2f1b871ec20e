/*  pmoctl_notifier.h: pmoctl's commands for the notifier
    (pmoctl_notifier.c), listed in the command table by
    PMOCTL_NOTIFIER_COMMANDS. They talk to the notifier at
    $PMO_NOTIFIER_ENDPOINT (default tcp://127.0.0.1:7104).
*/
#ifndef PMOCTL_NOTIFIER_H_INCLUDED
#define PMOCTL_NOTIFIER_H_INCLUDED

#include "pmoctl.h"

//  Runs the notifier command named by group and verb.
int pmoctl_run_notifier (pmoctl_t *ctl, const pmoctl_command_t *cmd, pmoctl_args_t *args);
extern const pmoctl_flag_t pmoctl_notifier_flags_channel[];
extern const pmoctl_flag_t pmoctl_notifier_flags_channel_list[];
extern const pmoctl_flag_t pmoctl_notifier_flags_rotate[];
extern const pmoctl_flag_t pmoctl_notifier_flags_test[];
extern const pmoctl_flag_t pmoctl_notifier_flags_subscription[];
extern const pmoctl_flag_t pmoctl_notifier_flags_subscription_list[];
extern const pmoctl_flag_t pmoctl_notifier_flags_deliveries[];

#define PMOCTL_NOTIFIER_CMD(group, verb, pos, flags, summary)                                      \
    {                                                                                              \
        group, verb, pos, flags, PMOCTL_MODE_OTHER, pmoctl_run_notifier, NULL, NULL, summary       \
    }

//  The entries of the command table
#define PMOCTL_NOTIFIER_COMMANDS                                                                   \
    PMOCTL_NOTIFIER_CMD ("notifier", "ping", NULL, NULL,                                           \
                         "is the notifier up, and its Redis? (exit 0 only if both)"),              \
        PMOCTL_NOTIFIER_CMD ("channel", "create", NULL, pmoctl_notifier_flags_channel,             \
                             "a Slack, Teams, Mattermost, Google Chat, webhook or email channel"), \
        PMOCTL_NOTIFIER_CMD (                                                                      \
            "channel", "update", "ID", pmoctl_notifier_flags_channel,                              \
            "change a channel (--enable after a 410; secrets kept unless given)"),                 \
        PMOCTL_NOTIFIER_CMD ("channel", "get", "ID", NULL, "show a channel (secrets masked)"),     \
        PMOCTL_NOTIFIER_CMD ("channel", "list", NULL, pmoctl_notifier_flags_channel_list,          \
                             "list channels"),                                                     \
        PMOCTL_NOTIFIER_CMD ("channel", "archive", "ID", NULL, "archive a channel"),               \
        PMOCTL_NOTIFIER_CMD ("channel", "rotate", "ID", pmoctl_notifier_flags_rotate,              \
                             "rotate a webhook's signing secret (both sign for a while)"),         \
        PMOCTL_NOTIFIER_CMD ("channel", "test", "ID", pmoctl_notifier_flags_test,                  \
                             "send a test message and show how it went"),                          \
        PMOCTL_NOTIFIER_CMD ("subscription", "create", NULL, pmoctl_notifier_flags_subscription,   \
                             "route events (types, severity, subtree or project) to a channel"),   \
        PMOCTL_NOTIFIER_CMD ("subscription", "update", "ID", pmoctl_notifier_flags_subscription,   \
                             "change a subscription"),                                             \
        PMOCTL_NOTIFIER_CMD ("subscription", "get", "ID", NULL, "show a subscription"),            \
        PMOCTL_NOTIFIER_CMD ("subscription", "list", NULL,                                         \
                             pmoctl_notifier_flags_subscription_list, "list subscriptions"),       \
        PMOCTL_NOTIFIER_CMD ("subscription", "archive", "ID", NULL, "archive a subscription"),     \
        PMOCTL_NOTIFIER_CMD ("deliveries", "list", NULL, pmoctl_notifier_flags_deliveries,         \
                             "deliveries by channel and state (default: pending)"),                \
        PMOCTL_NOTIFIER_CMD ("deliveries", "get", "ID", NULL,                                      \
                             "a delivery with its events and every attempt"),                      \
        PMOCTL_NOTIFIER_CMD ("deliveries", "retry", "ID", NULL, "send a delivery again now"),      \
        PMOCTL_NOTIFIER_CMD ("deliveries", "discard", "ID", NULL,                                  \
                             "drop a pending or dead delivery"),                                   \
        PMOCTL_NOTIFIER_CMD ("deadletters", "list", NULL, pmoctl_notifier_flags_deliveries,        \
                             "deliveries given up on (dead letters)"),                             \
        PMOCTL_NOTIFIER_CMD ("deadletters", "retry", "ID", NULL, "send a dead letter again now"),  \
        PMOCTL_NOTIFIER_CMD ("deadletters", "discard", "ID", NULL, "drop a dead letter")

#endif
