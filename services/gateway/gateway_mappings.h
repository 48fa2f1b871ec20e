/*  gateway_mappings.h: import mappings kept on the gateway.

    A mapping kept on the gateway is a file <name>.json in its --mappings
    directory, named by imports (mapping=<name>) instead of being sent with
    the file. Its optional "org_unit" keeps it to the people of that unit
    (gateway_may_use_mapping); a mapping someone may not use is not there
    for them. The reactor reads one for an import, the token service lists
    and reads them for GET /api/v1/import/mappings and pmoctl: both through
    here, so the rule is applied the same way.
*/
#ifndef GATEWAY_MAPPINGS_H_INCLUDED
#define GATEWAY_MAPPINGS_H_INCLUDED

#include "gateway.pb-c.h"
#include "gateway_model.h"
#include "pmo_util.h"

#include <stdbool.h>
#include <stddef.h>

//  A stored mapping's name: 1 to 64 of A-Z a-z 0-9 - _ (a file name
//  without ".json", never a path).
bool gateway_mapping_name_valid (const char *name);

//  The text of mapping name in dir (a NUL-terminated copy, the caller
//  frees; *size its length) if there is one who may use. NULL otherwise,
//  with detail saying there is no such mapping (the same words whether the
//  file is missing or kept from who, so a name cannot be probed), or that
//  the file is not a JSON object (a fault of the gateway's operator).
char *gateway_mapping_read (const char *dir, const char *name, const Pmo__Identity *who,
                            gateway_path_fn *path_of, void *ctx, size_t *size, char *detail,
                            size_t detail_size);

//  The mappings of dir that who may use (of entity, unless NULL or ""),
//  by name, appended to list with their summary (no text), in arena.
//  Files that are not mappings are skipped with a warning in the log. No
//  directory (NULL or "") lists none. 0, or -1 if dir cannot be read.
int gateway_mappings_list (const char *dir, const char *entity, const Pmo__Identity *who,
                           gateway_path_fn *path_of, void *ctx, pmo_arena_t *arena,
                           Pmo__MappingList *list);

//  The summary of a mapping's text (name, entity, comment, org_unit,
//  columns), in arena; with_text also copies the text. NULL if the text
//  is not a JSON object.
Pmo__StoredMapping *gateway_mapping_summary (const char *name, const char *text, size_t size,
                                             bool with_text, pmo_arena_t *arena);

#endif
