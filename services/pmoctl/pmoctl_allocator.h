/*  pmoctl_allocator.h: pmoctl's commands for the resource allocator
    (pmoctl_allocator.c), listed in the command table by
    PMOCTL_ALLOCATOR_COMMANDS. They talk to the allocator at
    $PMO_ALLOCATOR_ENDPOINT (default tcp://127.0.0.1:7102).
*/
#ifndef PMOCTL_ALLOCATOR_H_INCLUDED
#define PMOCTL_ALLOCATOR_H_INCLUDED

#include "pmoctl.h"

//  Runs the allocator command named by group and verb; the table entries
//  below all point here and it finds its own command.
int pmoctl_run_allocator (pmoctl_t *ctl, const pmoctl_command_t *cmd, pmoctl_args_t *args);
extern const pmoctl_flag_t pmoctl_allocator_flags_resource[];
extern const pmoctl_flag_t pmoctl_allocator_flags_resource_list[];
extern const pmoctl_flag_t pmoctl_allocator_flags_request[];
extern const pmoctl_flag_t pmoctl_allocator_flags_step[];
extern const pmoctl_flag_t pmoctl_allocator_flags_reshape[];
extern const pmoctl_flag_t pmoctl_allocator_flags_alloc_list[];
extern const pmoctl_flag_t pmoctl_allocator_flags_match[];
extern const pmoctl_flag_t pmoctl_allocator_flags_capacity[];
extern const pmoctl_flag_t pmoctl_allocator_flags_conflicts[];

#define PMOCTL_ALLOC_CMD(group, verb, pos, flags, summary)                                         \
    {                                                                                              \
        group, verb, pos, flags, PMOCTL_MODE_OTHER, pmoctl_run_allocator, NULL, NULL, summary      \
    }

//  The entries of the command table
#define PMOCTL_ALLOCATOR_COMMANDS                                                                  \
    PMOCTL_ALLOC_CMD ("allocator", "ping", NULL, NULL,                                             \
                      "is the allocator up, and its Redis? (exit 0 only if both)"),                \
        PMOCTL_ALLOC_CMD ("resource", "create", NULL, pmoctl_allocator_flags_resource,             \
                          "add a person or role placeholder to the pool"),                         \
        PMOCTL_ALLOC_CMD ("resource", "update", "ID", pmoctl_allocator_flags_resource,             \
                          "change a resource (the flags given replace those fields)"),             \
        PMOCTL_ALLOC_CMD ("resource", "get", "ID", NULL, "show a resource"),                       \
        PMOCTL_ALLOC_CMD ("resource", "list", NULL, pmoctl_allocator_flags_resource_list,          \
                          "list resources by unit, role, skill"),                                  \
        PMOCTL_ALLOC_CMD ("resource", "archive", "ID", NULL, "archive a resource"),                \
        PMOCTL_ALLOC_CMD ("alloc", "request", NULL, pmoctl_allocator_flags_request,                \
                          "ask for a named resource, or a role/skill (matched at once)"),          \
        PMOCTL_ALLOC_CMD ("alloc", "propose", "ID", pmoctl_allocator_flags_step,                   \
                          "soft-book a resource for a request"),                                   \
        PMOCTL_ALLOC_CMD ("alloc", "commit", "ID", pmoctl_allocator_flags_step,                    \
                          "hard-book a proposal (--approve as a resource or PMO manager)"),        \
        PMOCTL_ALLOC_CMD ("alloc", "reject", "ID", pmoctl_allocator_flags_step,                    \
                          "refuse or withdraw a request (--reason required)"),                     \
        PMOCTL_ALLOC_CMD ("alloc", "release", "ID", pmoctl_allocator_flags_step,                   \
                          "end an allocation: its hours are free at once"),                        \
        PMOCTL_ALLOC_CMD ("alloc", "reshape", "ID", pmoctl_allocator_flags_reshape,                \
                          "change weeks or hours (a commitment only shrinks)"),                    \
        PMOCTL_ALLOC_CMD ("alloc", "get", "ID", NULL, "show an allocation and its history"),       \
        PMOCTL_ALLOC_CMD ("alloc", "list", NULL, pmoctl_allocator_flags_alloc_list,                \
                          "list allocations by project, resource, unit, state"),                   \
        PMOCTL_ALLOC_CMD ("alloc", "match", NULL, pmoctl_allocator_flags_match,                    \
                          "rank candidates for a role/skill, with why (books nothing)"),           \
        PMOCTL_ALLOC_CMD ("capacity", "view", NULL, pmoctl_allocator_flags_capacity,               \
                          "capacity and demand per skill and week (the heatmap)"),                 \
        PMOCTL_ALLOC_CMD ("capacity", "utilisation", NULL, pmoctl_allocator_flags_capacity,        \
                          "the utilisation table of a unit: a row per resource"),                  \
        PMOCTL_ALLOC_CMD ("conflicts", NULL, NULL, pmoctl_allocator_flags_conflicts,               \
                          "over-allocated resources, and whose claim prevails")

#endif
