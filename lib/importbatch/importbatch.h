/*  importbatch.h: the item results of an import_batch request, as the
    registry, the allocator and the risk monitor answer it (registry.proto's
    ImportItemResult and ImportBatchReply).

    An item's error names its field under the item's body member
    ("create_risk.probability"), so a client finds the column of the file;
    only an item's first failure counts. Everything is allocated in the
    request's arena.
*/
#ifndef IMPORTBATCH_H_INCLUDED
#define IMPORTBATCH_H_INCLUDED

#include "pmo_request.h"
#include "registry.pb-c.h"

#include <stdarg.h>
#include <stdbool.h>

//  The result of item `index` (file row `row`), put in out->results.
Pmo__ImportItemResult *importbatch_result (pmo_arena_t *arena, Pmo__ImportBatchReply *out,
                                           size_t index, uint32_t row);

//  Fail an item: outcome FAILED, the error's field is field under member
//  (field "" names the member). false if it had failed already.
bool importbatch_fail (pmo_arena_t *arena, Pmo__ImportItemResult *result, const char *member,
                       Pmo__ErrorCode code, const char *field, const char *format, ...)
    __attribute__ ((format (printf, 6, 7)));
bool importbatch_failv (pmo_arena_t *arena, Pmo__ImportItemResult *result, const char *member,
                        Pmo__ErrorCode code, const char *field, const char *format, va_list args);

//  The same with a model check's problem, its field under prefix.
bool importbatch_problem (pmo_arena_t *arena, Pmo__ImportItemResult *result, const char *member,
                          const char *prefix, const pmo_problem_t *problem);

//  A helper of the single requests failed req with *error: move it into the
//  item (its field, past the single request's member, under prefix) and
//  clear req's failure. 1 when moved (*failed_first: it was the item's first
//  failure); 0 when the batch must fail as a whole, req keeping the error:
//  a store or a peer is unavailable, or the helper said nothing.
int importbatch_take (pmo_request_t *req, Pmo__Error **error, Pmo__ImportItemResult *result,
                      const char *member, const char *prefix, bool *failed_first);

//  Once every item is checked: count the failed, and mark the others
//  SKIPPED (all or nothing refused: not skip_bad, not a dry run, some
//  failed; req then fails naming the first, "N of M items have problems
//  (first: row R: ...); nothing was written"), else CREATED or UPDATED as
//  updated[i] says. true when the batch is to be written (not refused,
//  not a dry run, something to write).
bool importbatch_settle (pmo_request_t *req, Pmo__ImportBatchReply *out, const bool *updated,
                         bool dry_run, bool skip_bad);

#endif
