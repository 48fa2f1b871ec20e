/*  pmoctl_import.h: pmoctl's import, export and report commands
    (pmoctl_import.c), listed in the command table by PMOCTL_IMPORT_COMMANDS.
*/
#ifndef PMOCTL_IMPORT_H_INCLUDED
#define PMOCTL_IMPORT_H_INCLUDED

#include "pmoctl.h"

extern const pmoctl_flag_t pmoctl_import_flags[];
extern const pmoctl_flag_t pmoctl_export_flags[];
extern const pmoctl_flag_t pmoctl_report_flags[];
int pmoctl_run_import (pmoctl_t *ctl, const pmoctl_command_t *cmd, pmoctl_args_t *args);
int pmoctl_run_export (pmoctl_t *ctl, const pmoctl_command_t *cmd, pmoctl_args_t *args);
int pmoctl_run_report (pmoctl_t *ctl, const pmoctl_command_t *cmd, pmoctl_args_t *args);

//  The entries of the command table
#define PMOCTL_IMPORT_COMMANDS                                                                     \
    {"import",                                                                                     \
     NULL,                                                                                         \
     "FILE",                                                                                       \
     pmoctl_import_flags,                                                                          \
     PMOCTL_MODE_OTHER,                                                                            \
     pmoctl_run_import,                                                                            \
     NULL,                                                                                         \
     NULL,                                                                                         \
     "import a CSV file (projects, milestones, reports, org units, resources, allocations, "       \
     "risks, issues)"},                                                                            \
        {"export",                                                                                 \
         NULL,                                                                                     \
         "KIND",                                                                                   \
         pmoctl_export_flags,                                                                      \
         PMOCTL_MODE_OTHER,                                                                        \
         pmoctl_run_export,                                                                        \
         NULL,                                                                                     \
         NULL,                                                                                     \
         "export org_unit, project, milestone, status_report, resource, allocation, risk or "      \
         "issue "                                                                                  \
         "as CSV"},                                                                                \
    {                                                                                              \
        "report", NULL, NULL, pmoctl_report_flags, PMOCTL_MODE_OTHER, pmoctl_run_report, NULL,     \
            NULL, "the portfolio report of an org unit (html, json or csv)"                        \
    }

#endif
