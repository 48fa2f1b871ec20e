/*  portio_mspdi.h: a Microsoft Project plan (MSPDI XML, as Project desktop,
    Project Online and Project Server save it) into the registry: the
    project, its milestones (milestone tasks and top-level summary tasks)
    and, with a status date, a status report with earned value. The mapping
    is in portio_mspdi.c and services/pmoctl/README-import.md.

    portio_import_run calls it for a file that is MSPDI (known by its
    content), with options->org_unit (the unit of a new project) and
    options->code (its code; default from its title).
*/
#ifndef PORTIO_MSPDI_H_INCLUDED
#define PORTIO_MSPDI_H_INCLUDED

#include "portio_import.h"

#include <stdbool.h>
#include <stddef.h>

//  The alias of the task and resource custom fields (Text1) a plan pmo
//  wrote carries pmo's ids in: the import finds the records again by them.
#define PORTIO_MSPDI_PMO_ID "pmo id"

//  True if data looks like MSPDI: XML naming the Project namespace early.
bool portio_mspdi_is (const void *data, size_t size);

//  Import the plan in data (the same contract as portio_import_run; the
//  result's problems name the element, e.g. "Task UID=12/Finish", and its
//  line as the row). The caller destroys the result.
int portio_mspdi_run (const portio_import_options_t *options, const void *data, size_t size,
                      portio_import_result_t **result);

//  A project (its code, or its id) as a Microsoft Project plan that
//  portio_mspdi_run reads back unchanged: its properties and currency,
//  milestones (baseline, forecast and actual dates, % complete), and, with
//  an allocator in peer, its proposed and committed allocations as tasks
//  with an assignment each (timephased work by weekday) and their
//  resources. The mapping is in portio_mspdi_export.c. *xml is the
//  caller's to free. Returns 0, or -1 with why.
int portio_mspdi_export (const portio_import_peer_t *peer, const char *project, char **xml,
                         size_t *size, char *why, size_t why_size);

#endif
