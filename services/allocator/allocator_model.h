/*  allocator_model.h: the allocator's domain rules, without I/O.

    Weeks, hours and names as they arrive from outside; who may do what;
    the allocation state machine; capacity of a resource in a week; which
    weeks a set of bookings over-allocates; and who must approve a
    commitment under each PMO type. Everything here is pure and is tested
    directly by tests/allocator/test_allocator_model.c.

    Weeks. On the wire a week is an ISO 8601 week, "2026-W14" (Monday to
    Sunday; week 1 holds the year's first Thursday, so some years have a
    week 53). Inside, a week is an index: the number of weeks since ISO week
    2000-W01 (Monday 3 January 2000), so ranges are plain integer ranges.
    Weeks of years 2000 to 2099 are accepted; one allocation, exception or
    view spans at most ALLOCATOR_MAX_SPAN_WEEKS weeks.
*/
#ifndef ALLOCATOR_MODEL_H_INCLUDED
#define ALLOCATOR_MODEL_H_INCLUDED

#include "allocator.pb-c.h"
#include "pmo_access.h"
#include "pmo_request.h"
#include "pmo_util.h"

#include <stdbool.h>
#include <stdint.h>

#define ALLOCATOR_MAX_SPAN_WEEKS 104 //  two years: one allocation, exception or view
#define ALLOCATOR_MAX_HOURS      168 //  hours in a week
#define ALLOCATOR_MAX_SKILLS     20
#define ALLOCATOR_MAX_EXCEPTIONS 200
#define ALLOCATOR_MAX_LEVEL      5

//  Checks say what is wrong in a pmo_problem_t (pmo_request.h).

//  ---------------------------------------------------------------------
//  Weeks

//  Parse "YYYY-Www" (years 2000..2099, a week the year has). 0 or -1.
int allocator_week_parse (const char *text, int32_t *week);
//  Write week as "YYYY-Www" into buf (at least 9 bytes); returns buf.
char *allocator_week_format (int32_t week, char *buf, size_t size);
//  The week holding a Unix time in ms (UTC).
int32_t allocator_week_of_ms (int64_t ms);
//  Check a window of ISO weeks named by fields start_field/end_field: both
//  valid, start <= end, at most max_span weeks. An empty end means start.
int allocator_check_window (const char *start, const char *end, const char *start_field,
                            const char *end_field, int max_span, int32_t *first, int32_t *last,
                            pmo_problem_t *problem);

//  ---------------------------------------------------------------------
//  Names, resources, requests

//  Skill and role names: 1..32 of [a-z0-9.+#-] after lowering the case.
//  Lowers name in place. 0 or -1.
int allocator_name_normalize (char *name);
//  Validate (and normalise names of) what a caller sends for a resource.
int allocator_check_resource (Pmo__Resource *resource, pmo_problem_t *problem);
//  Validate an allocation request (hours, weeks, names, level); field names
//  are relative to the request.
int allocator_check_request (Pmo__AllocationRequest *request, int32_t *first, int32_t *last,
                             pmo_problem_t *problem);

//  ---------------------------------------------------------------------
//  Who may do what

typedef enum {
    ALLOCATOR_READ = 1,     //  see resources, allocations and views: anyone signed in
    ALLOCATOR_RESOURCE = 2, //  the resource side: manage resources, propose, approve,
                            //  reject (resource manager, PMO manager/director, admin)
    ALLOCATOR_PROJECT = 4,  //  the project side: request, propose, commit where no approval
                            //  is needed, release, withdraw (those who write projects)
} allocator_action_t;

//  The allocator's role table: the actions each role allows.
const pmo_role_table_t *allocator_roles (void);
//  The role in which who may do action on something at path (held in a
//  unit on path); PMO__ROLE__ROLE_UNSPECIFIED if none. ALLOCATOR_READ
//  needs any grant at all (reads check no path).
Pmo__Role allocator_role_for (const Pmo__Identity *who, allocator_action_t action,
                              const char *path);

//  ---------------------------------------------------------------------
//  State machine

const char *allocator_state_name (Pmo__AllocationState state);
//  True if an allocation may go from one state to the other.
bool allocator_transition_allowed (Pmo__AllocationState from, Pmo__AllocationState to);
//  True for the states that book hours on a resource.
bool allocator_state_books (Pmo__AllocationState state);
//  True for requested, proposed and committed.
bool allocator_state_live (Pmo__AllocationState state);

//  ---------------------------------------------------------------------
//  Capacity and over-allocation

//  A resource's capacity in a week: weekly capacity minus the hours off of
//  every calendar exception covering it, never below 0.
uint32_t allocator_capacity_in_week (const Pmo__Resource *resource, int32_t week);

//  One week over capacity.
typedef struct {
    int32_t week;
    uint32_t capacity;
    uint32_t committed;
} allocator_over_week_t;

//  The weeks in which the committed bookings of ledger exceed the
//  resource's capacity, in order (arena). Returns how many.
size_t allocator_over_weeks (const Pmo__Resource *resource, const Pmo__BookingLedger *ledger,
                             pmo_arena_t *arena, allocator_over_week_t **weeks);
//  Hours booked (committed and proposed) on ledger in week.
uint32_t allocator_ledger_hours (const Pmo__BookingLedger *ledger, int32_t week);
//  True if hours more fit on ledger in every week first..last: the exact
//  check, on Redis's data, that the hours are still free.
bool allocator_ledger_fits (const Pmo__Resource *resource, const Pmo__BookingLedger *ledger,
                            int32_t first, int32_t last, uint32_t hours);
//  The weeks of first..last where committed plus proposed hours exceed
//  capacity (a soft over-allocation); *first_over is the first of them.
size_t allocator_ledger_soft_over (const Pmo__Resource *resource, const Pmo__BookingLedger *ledger,
                                   int32_t first, int32_t last, int32_t *first_over);
//  True if the two sorted week lists are equal.
bool allocator_weeks_equal (const int32_t *a, size_t na, const int32_t *b, size_t nb);

//  ---------------------------------------------------------------------
//  Approval of a commitment

typedef struct {
    bool needed;           //  an approver must commit it (approve)
    char reason[384];      //  why approval is needed (or "")
    char warnings[2][384]; //  what a supportive PMO advises, or what was approved past
    size_t n_warnings;
} allocator_approval_t;

//  What committing needs, by the PMO type in force at the resource's home
//  unit: directive, always an approver; controlling, an approver when the
//  commitment over-allocates (over, described by over_text) or crosses
//  divisions (crosses, described by cross_text); supportive or no PMO,
//  nobody: it commits with warnings.
void allocator_approval (Pmo__PmoType type, const char *unit, bool over, const char *over_text,
                         bool crosses, const char *cross_text, allocator_approval_t *out);

#endif
