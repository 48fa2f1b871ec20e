/*  importbatch.c: the item results of an import_batch request. */
#include "importbatch.h"

#include "pmo_util.h"

#include <stdio.h>
#include <string.h>

Pmo__ImportItemResult *importbatch_result (pmo_arena_t *arena, Pmo__ImportBatchReply *out,
                                           size_t index, uint32_t row)
{
    Pmo__ImportItemResult *result = pmo_arena_alloc (arena, sizeof (Pmo__ImportItemResult));
    pmo__import_item_result__init (result);
    result->row = row;
    result->index = (uint32_t)index;
    out->results[index] = result;
    return result;
}

bool importbatch_failv (pmo_arena_t *arena, Pmo__ImportItemResult *result, const char *member,
                        Pmo__ErrorCode code, const char *field, const char *format, va_list args)
{
    if (result->outcome == PMO__IMPORT_OUTCOME__IMPORT_OUTCOME_FAILED)
        return false;
    Pmo__Error *error = pmo_arena_alloc (arena, sizeof (Pmo__Error));
    pmo__error__init (error);
    error->code = code;
    error->retryable = pmo_error_code_retryable (code);
    error->field = pmo_arena_printf (arena, "%s%s%s", member, *field ? "." : "", field);
    char text[512];
    vsnprintf (text, sizeof text, format, args);
    error->message = pmo_arena_strdup (arena, text);
    result->error = error;
    result->outcome = PMO__IMPORT_OUTCOME__IMPORT_OUTCOME_FAILED;
    return true;
}

bool importbatch_fail (pmo_arena_t *arena, Pmo__ImportItemResult *result, const char *member,
                       Pmo__ErrorCode code, const char *field, const char *format, ...)
{
    va_list args;
    va_start (args, format);
    bool first = importbatch_failv (arena, result, member, code, field, format, args);
    va_end (args);
    return first;
}

bool importbatch_problem (pmo_arena_t *arena, Pmo__ImportItemResult *result, const char *member,
                          const char *prefix, const pmo_problem_t *problem)
{
    return importbatch_fail (arena, result, member, problem->code,
                             pmo_arena_printf (arena, "%s%s%s", prefix,
                                               *prefix && *problem->field ? "." : "",
                                               problem->field),
                             "%s", problem->message);
}

int importbatch_take (pmo_request_t *req, Pmo__Error **error, Pmo__ImportItemResult *result,
                      const char *member, const char *prefix, bool *failed_first)
{
    Pmo__Error *taken = *error;
    if (!taken || taken->code == PMO__ERROR_CODE__ERROR_UNAVAILABLE) {
        if (!taken)
            FAIL (req, INTERNAL, "import_batch", "a check failed without saying why");
        return 0;
    }
    *error = NULL;
    req->code = PMO__ERROR_CODE__ERROR_NONE;
    //  "create_risk.probability" -> "probability"
    const char *field = taken->field ? strchr (taken->field, '.') : NULL;
    field = field ? field + 1 : "";
    *failed_first = importbatch_fail (
        req->arena, result, member, taken->code,
        pmo_arena_printf (req->arena, "%s%s%s", prefix, *prefix && *field ? "." : "", field), "%s",
        taken->message);
    return 1;
}

bool importbatch_settle (pmo_request_t *req, Pmo__ImportBatchReply *out, const bool *updated,
                         bool dry_run, bool skip_bad)
{
    size_t n = out->n_results, first_failed = n;
    for (size_t i = 0; i < n; i++)
        if (out->results[i]->outcome == PMO__IMPORT_OUTCOME__IMPORT_OUTCOME_FAILED) {
            out->failed++;
            if (first_failed == n)
                first_failed = i;
        }
    bool refuse = out->failed && !skip_bad && !dry_run;
    for (size_t i = 0; i < n; i++) {
        Pmo__ImportItemResult *result = out->results[i];
        if (result->outcome == PMO__IMPORT_OUTCOME__IMPORT_OUTCOME_FAILED)
            continue;
        if (refuse)
            result->outcome = PMO__IMPORT_OUTCOME__IMPORT_OUTCOME_SKIPPED;
        else if (updated[i]) {
            result->outcome = PMO__IMPORT_OUTCOME__IMPORT_OUTCOME_UPDATED;
            out->updated++;
        } else {
            result->outcome = PMO__IMPORT_OUTCOME__IMPORT_OUTCOME_CREATED;
            out->created++;
        }
    }
    if (refuse) {
        const Pmo__ImportItemResult *first = out->results[first_failed];
        pmo_request_fail (req, first->error->code,
                          pmo_arena_printf (req->arena, "import_batch.items[%zu].%s", first_failed,
                                            first->error->field),
                          "%u of %zu items have problems (first: row %u: %s); nothing was written",
                          out->failed, n, first->row, first->error->message);
        return false;
    }
    return !dry_run && out->created + out->updated > 0;
}
