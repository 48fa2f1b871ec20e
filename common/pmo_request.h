/*  pmo_request.h: the helpers every request handler uses.

    One way to fail a request (FAIL), one problem type for pure model code
    that must say what is wrong without a request at hand, and the checks
    every handler makes: who asks, may they, did they read the version that
    is stored, and what to say when a store or peer is down.
*/
#ifndef PMO_REQUEST_H_INCLUDED
#define PMO_REQUEST_H_INCLUDED

#include "pmo_access.h"
#include "pmo_server.h"

#include <stdbool.h>
#include <stdint.h>

//  Fail req with the error code NAME (INVALID, NOT_FOUND, ...), the field
//  path and a printf message. Only the first failure of a request counts.
#define FAIL(req, code, field, ...)                                                                \
    pmo_request_fail (req, PMO__ERROR_CODE__ERROR_##code, field, __VA_ARGS__)

//  A problem found by model code: which field, what is wrong, its code.
typedef struct {
    Pmo__ErrorCode code;
    char field[128];
    char message[384];
} pmo_problem_t;

//  Fill problem; returns -1 so a checker can `return pmo_problem (...)`.
int pmo_problem (pmo_problem_t *problem, Pmo__ErrorCode code, const char *field, const char *format,
                 ...) __attribute__ ((format (printf, 4, 5)));

//  The rules for text fields in every service. A text (a description, a
//  note) is min..max bytes of UTF-8 without control characters other than
//  tab and line breaks; a name (a name, a title, a person) is also one line
//  without control characters or bidirectional overrides (pmo_line_fault).
//  NULL counts as "". 0, or -1 with the problem (INVALID, naming field and
//  what is wrong).
int pmo_check_text (const char *value, const char *field, size_t min, size_t max,
                    pmo_problem_t *problem);
int pmo_check_name (const char *value, const char *field, size_t min, size_t max,
                    pmo_problem_t *problem);

//  Fail req with problem; prefix (may be "") goes before the problem's
//  field, joined by a dot: prefix "create_project" and field "budget" name
//  "create_project.budget".
void pmo_request_fail_problem (pmo_request_t *req, const pmo_problem_t *problem,
                               const char *prefix);

//  The caller's identity (the engine has checked there is one).
const Pmo__Identity *pmo_request_who (const pmo_request_t *req);

//  Record the caller as event's actor: its subject and how it was
//  authenticated (Identity.via: the key or the API token).
typedef struct Pmo__Event Pmo__Event;
void pmo_request_stamp (const pmo_request_t *req, Pmo__Event *event);

//  The role in which the caller may do action at path (see pmo_access_role),
//  or ROLE_UNSPECIFIED after failing req with FORBIDDEN: "<subject> may not
//  <what> in '<path>'".
Pmo__Role pmo_request_may (pmo_request_t *req, const pmo_role_table_t *table, unsigned action,
                           const char *path, const char *what);

//  True if the version the caller read (asked) is the stored one. Else fails
//  req on field: INVALID when no version was given, CONFLICT when it is stale.
bool pmo_request_version_matches (pmo_request_t *req, const char *field, const char *what,
                                  uint64_t asked, uint64_t stored);

//  Fail req as UNAVAILABLE (retryable): "<what> is unavailable; retry
//  shortly", e.g. what = "the registry's store (Redis)".
void pmo_request_unavailable (pmo_request_t *req, const char *what);

#endif
