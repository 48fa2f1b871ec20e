/*  pmoctl_riskmon.h: pmoctl's commands for the risk monitor
    (pmoctl_riskmon.c), listed in the command table by
    PMOCTL_RISKMON_COMMANDS. They talk to the risk monitor at
    $PMO_RISKMON_ENDPOINT (default tcp://127.0.0.1:7103).
*/
#ifndef PMOCTL_RISKMON_H_INCLUDED
#define PMOCTL_RISKMON_H_INCLUDED

#include "pmoctl.h"

//  Runs the risk monitor command named by group and verb.
int pmoctl_run_riskmon (pmoctl_t *ctl, const pmoctl_command_t *cmd, pmoctl_args_t *args);
extern const pmoctl_flag_t pmoctl_riskmon_flags_risk[];
extern const pmoctl_flag_t pmoctl_riskmon_flags_issue[];
extern const pmoctl_flag_t pmoctl_riskmon_flags_close[];
extern const pmoctl_flag_t pmoctl_riskmon_flags_get[];
extern const pmoctl_flag_t pmoctl_riskmon_flags_list[];
extern const pmoctl_flag_t pmoctl_riskmon_flags_health[];
extern const pmoctl_flag_t pmoctl_riskmon_flags_unit[];
extern const pmoctl_flag_t pmoctl_riskmon_flags_thresholds[];
extern const pmoctl_flag_t pmoctl_riskmon_flags_alert[];

#define PMOCTL_RISKMON_CMD(group, verb, pos, flags, summary)                                       \
    {                                                                                              \
        group, verb, pos, flags, PMOCTL_MODE_OTHER, pmoctl_run_riskmon, NULL, NULL, summary        \
    }

//  The entries of the command table
#define PMOCTL_RISKMON_COMMANDS                                                                    \
    PMOCTL_RISKMON_CMD ("riskmon", "ping", NULL, NULL,                                             \
                        "is the risk monitor up, and its Redis? (exit 0 only if both)"),           \
        PMOCTL_RISKMON_CMD ("risk", "create", NULL, pmoctl_riskmon_flags_risk,                     \
                            "record a risk (P and I 1-5; health follows at once)"),                \
        PMOCTL_RISKMON_CMD ("risk", "update", "ID", pmoctl_riskmon_flags_risk,                     \
                            "change a risk (the flags given replace those fields)"),               \
        PMOCTL_RISKMON_CMD ("risk", "close", "ID", pmoctl_riskmon_flags_close,                     \
                            "close a risk (--occurred if it happened)"),                           \
        PMOCTL_RISKMON_CMD ("risk", "get", "ID", pmoctl_riskmon_flags_get,                         \
                            "show a risk (--history: every version)"),                             \
        PMOCTL_RISKMON_CMD ("risk", "list", NULL, pmoctl_riskmon_flags_list,                       \
                            "list risks by project or subtree, band, owner, category"),            \
        PMOCTL_RISKMON_CMD ("issue", "create", NULL, pmoctl_riskmon_flags_issue,                   \
                            "record an issue (request for change, off-spec, problem)"),            \
        PMOCTL_RISKMON_CMD ("issue", "update", "ID", pmoctl_riskmon_flags_issue,                   \
                            "change an issue"),                                                    \
        PMOCTL_RISKMON_CMD ("issue", "close", "ID", pmoctl_riskmon_flags_close,                    \
                            "close an issue with its resolution (--note)"),                        \
        PMOCTL_RISKMON_CMD ("issue", "get", "ID", pmoctl_riskmon_flags_get, "show an issue"),      \
        PMOCTL_RISKMON_CMD ("issue", "list", NULL, pmoctl_riskmon_flags_list,                      \
                            "list issues by project or subtree"),                                  \
        PMOCTL_RISKMON_CMD ("health", "show", "PROJECT", pmoctl_riskmon_flags_health,              \
                            "a project's health and why (--history: every change)"),               \
        PMOCTL_RISKMON_CMD ("health", "rollup", NULL, pmoctl_riskmon_flags_unit,                   \
                            "a division's or the enterprise's health: sums, RAG counts"),          \
        PMOCTL_RISKMON_CMD ("health", "thresholds", NULL, pmoctl_riskmon_flags_thresholds,         \
                            "the thresholds in force at a unit; --set FIELD=VALUE changes them"),  \
        PMOCTL_RISKMON_CMD ("alerts", "list", NULL, pmoctl_riskmon_flags_list,                     \
                            "open alerts by project or subtree (--closed: resolved too)"),         \
        PMOCTL_RISKMON_CMD ("alerts", "ack", "ID", pmoctl_riskmon_flags_alert,                     \
                            "acknowledge an alert: it stops climbing"),                            \
        PMOCTL_RISKMON_CMD ("alerts", "resolve", "ID", pmoctl_riskmon_flags_alert,                 \
                            "resolve an alert (--note)")

#endif
