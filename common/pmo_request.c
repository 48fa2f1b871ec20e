/*  pmo_request.c: the helpers every request handler uses. */
#include "pmo_request.h"

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
