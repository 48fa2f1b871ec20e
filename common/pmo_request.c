/*  pmo_request.c: the helpers every request handler uses. */
#include "pmo_request.h"
#include "events.pb-c.h"

#include <stdarg.h>
#include <stdio.h>

int pmo_problem (pmo_problem_t *problem, Pmo__ErrorCode code, const char *field, const char *format,
                 ...)
{
    problem->code = code;
    snprintf (problem->field, sizeof problem->field, "%s", field ? field : "");
    va_list args;
    va_start (args, format);
    vsnprintf (problem->message, sizeof problem->message, format, args);
    va_end (args);
    return -1;
}

int pmo_check_text (const char *value, const char *field, size_t min, size_t max,
                    pmo_problem_t *problem)
{
    size_t len = value ? strlen (value) : 0;
    if (len < min)
        return pmo_problem (problem, PMO__ERROR_CODE__ERROR_INVALID, field, "%s is required",
                            field);
    if (len > max)
        return pmo_problem (problem, PMO__ERROR_CODE__ERROR_INVALID, field,
                            "%s is %zu characters; at most %zu", field, len, max);
    if (value && !pmo_text_valid (value))
        return pmo_problem (problem, PMO__ERROR_CODE__ERROR_INVALID, field,
                            "%s must be UTF-8 text without control characters", field);
    return 0;
}

int pmo_check_name (const char *value, const char *field, size_t min, size_t max,
                    pmo_problem_t *problem)
{
    if (pmo_check_text (value, field, min, max, problem))
        return -1;
    const char *fault = value ? pmo_line_fault (value) : NULL;
    if (fault)
        return pmo_problem (problem, PMO__ERROR_CODE__ERROR_INVALID, field,
                            "%s must be one line of text; it holds %s", field, fault);
    return 0;
}

void pmo_request_fail_problem (pmo_request_t *req, const pmo_problem_t *problem, const char *prefix)
{
    if (!prefix)
        prefix = "";
    char field[160];
    snprintf (field, sizeof field, "%s%s%s", prefix, *problem->field && *prefix ? "." : "",
              problem->field);
    pmo_request_fail (req, problem->code, field, "%s", problem->message);
}

const Pmo__Identity *pmo_request_who (const pmo_request_t *req)
{
    return req->header->identity;
}

void pmo_request_stamp (const pmo_request_t *req, Pmo__Event *event)
{
    const Pmo__Identity *who = pmo_request_who (req);
    event->actor = who->subject;
    event->actor_via = who->via;
}

Pmo__Role pmo_request_may (pmo_request_t *req, const pmo_role_table_t *table, unsigned action,
                           const char *path, const char *what)
{
    Pmo__Role role = pmo_access_role (pmo_request_who (req), table, action, path);
    if (role == PMO__ROLE__ROLE_UNSPECIFIED)
        FAIL (req, FORBIDDEN, "", "%s may not %s in '%s'", pmo_request_who (req)->subject, what,
              path ? path : "");
    return role;
}

bool pmo_request_version_matches (pmo_request_t *req, const char *field, const char *what,
                                  uint64_t asked, uint64_t stored)
{
    if (asked == stored)
        return true;
    if (asked == 0)
        FAIL (req, INVALID, field, "version is required: the version of the %s you read", what);
    else
        FAIL (req, CONFLICT, field,
              "the %s changed since you read it: you have version %llu, it is now %llu", what,
              (unsigned long long)asked, (unsigned long long)stored);
    return false;
}

void pmo_request_unavailable (pmo_request_t *req, const char *what)
{
    FAIL (req, UNAVAILABLE, "", "%s is unavailable; retry shortly", what);
}
