/*  allocator_model.c: the allocator's domain rules, without I/O. */
#include "allocator_model.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define INVALID PMO__ERROR_CODE__ERROR_INVALID

//  ---------------------------------------------------------------------
//  Weeks

//  Days since 1970-01-01 of a civil date (H. Hinnant's algorithm).
static int64_t s_days_from_civil (int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

//  Day of week of a day number, Monday = 0.
static int s_weekday (int64_t days)
{
    //  1970-01-01 was a Thursday (3)
    int64_t w = (days + 3) % 7;
    return (int)(w < 0 ? w + 7 : w);
}

//  The Monday of ISO week 1 of year y: the Monday on or before 4 January.
static int64_t s_week1_monday (int64_t y)
{
    int64_t jan4 = s_days_from_civil (y, 1, 4);
    return jan4 - s_weekday (jan4);
}

static int s_weeks_in_year (int64_t y)
{
    return (int)((s_week1_monday (y + 1) - s_week1_monday (y)) / 7);
}

//  Week index 0 is ISO 2000-W01
static int64_t s_epoch (void)
{
    return s_week1_monday (2000);
}

int allocator_week_parse (const char *text, int32_t *week)
{
    if (!text || strlen (text) != 8 || text[4] != '-' || text[5] != 'W')
        return -1;
    for (int i = 0; i < 8; i++)
        if (i != 4 && i != 5 && !isdigit ((unsigned char)text[i]))
            return -1;
    int year = atoi (text);
    int w = (text[6] - '0') * 10 + (text[7] - '0');
    if (year < 2000 || year > 2099 || w < 1 || w > s_weeks_in_year (year))
        return -1;
    *week = (int32_t)((s_week1_monday (year) - s_epoch ()) / 7 + (w - 1));
    return 0;
}

char *allocator_week_format (int32_t week, char *buf, size_t size)
{
    int64_t monday = s_epoch () + (int64_t)week * 7;
    //  The ISO year is the year of the week's Thursday
    int64_t thursday = monday + 3;
    int64_t y = 1970 + thursday / 366;
    while (s_week1_monday (y + 1) <= monday)
        y++;
    while (s_week1_monday (y) > monday)
        y--;
    int w = (int)((monday - s_week1_monday (y)) / 7) + 1;
    snprintf (buf, size, "%04d-W%02d", (int)y, w);
    return buf;
}

int32_t allocator_week_of_ms (int64_t ms)
{
    int64_t days = ms / 86400000;
    int64_t monday = days - s_weekday (days);
    return (int32_t)((monday - s_epoch ()) / 7);
}

int allocator_check_window (const char *start, const char *end, const char *start_field,
                            const char *end_field, int max_span, int32_t *first, int32_t *last,
                            pmo_problem_t *problem)
{
    if (pmo_str_empty (start))
        return pmo_problem (problem, INVALID, start_field,
                            "%s is required: an ISO week such as 2026-W14", start_field);
    if (allocator_week_parse (start, first))
        return pmo_problem (problem, INVALID, start_field,
                            "%s '%.20s' is not an ISO week of 2000-2099 such as 2026-W14",
                            start_field, start);
    if (pmo_str_empty (end))
        *last = *first;
    else if (allocator_week_parse (end, last))
        return pmo_problem (problem, INVALID, end_field,
                            "%s '%.20s' is not an ISO week of 2000-2099 such as 2026-W14",
                            end_field, end);
    if (*last < *first)
        return pmo_problem (problem, INVALID, end_field, "%s %s is before %s %s", end_field, end,
                            start_field, start);
    if (*last - *first + 1 > max_span)
        return pmo_problem (problem, INVALID, end_field,
                            "%s to %s is %d weeks; at most %d weeks at a time", start, end,
                            *last - *first + 1, max_span);
    return 0;
}

//  ---------------------------------------------------------------------
//  Names and validation

int allocator_name_normalize (char *name)
{
    size_t len = name ? strlen (name) : 0;
    if (len < 1 || len > 32)
        return -1;
    for (size_t i = 0; i < len; i++) {
        char c = (char)tolower ((unsigned char)name[i]);
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '+' ||
              c == '#' || c == '-'))
            return -1;
        name[i] = c;
    }
    return 0;
}

static int s_name (char *name, const char *field, bool required, pmo_problem_t *problem)
{
    if (pmo_str_empty (name))
        return required ? pmo_problem (problem, INVALID, field, "%s is required", field) : 0;
    if (allocator_name_normalize (name))
        return pmo_problem (problem, INVALID, field,
                            "%s '%.40s' must be 1 to 32 of letters, digits and .+#-", field, name);
    return 0;
}

static int s_hours (uint32_t hours, const char *field, uint32_t min, pmo_problem_t *problem)
{
    if (hours < min || hours > ALLOCATOR_MAX_HOURS)
        return pmo_problem (problem, INVALID, field, "%s is %u; it must be %u to %d hours", field,
                            hours, min, ALLOCATOR_MAX_HOURS);
    return 0;
}

int allocator_check_resource (Pmo__Resource *r, pmo_problem_t *problem)
{
    if (pmo_check_name (r->name, "name", 1, 200, problem) ||
        pmo_check_name (r->email, "email", 0, 200, problem) ||
        pmo_check_name (r->external_id, "external_id", 0, 100, problem))
        return -1;
    if (r->kind == PMO__RESOURCE_KIND__RESOURCE_KIND_UNSPECIFIED)
        r->kind = PMO__RESOURCE_KIND__RESOURCE_KIND_PERSON;
    if (s_name (r->role, "role", true, problem))
        return -1;
    if (pmo_str_empty (r->home_org_unit))
        return pmo_problem (problem, INVALID, "home_org_unit", "home_org_unit is required");
    if (!pmo_slug_valid (r->home_org_unit, 2, 32))
        return pmo_problem (problem, INVALID, "home_org_unit",
                            "home_org_unit '%.40s' is not an org unit id", r->home_org_unit);
    if (s_hours (r->weekly_capacity_hours, "weekly_capacity_hours", 0, problem))
        return -1;
    if (r->n_skills > ALLOCATOR_MAX_SKILLS)
        return pmo_problem (problem, INVALID, "skills", "%zu skills; at most %d", r->n_skills,
                            ALLOCATOR_MAX_SKILLS);
    for (size_t i = 0; i < r->n_skills; i++) {
        char field[64];
        snprintf (field, sizeof field, "skills[%zu].name", i);
        if (s_name (r->skills[i]->name, field, true, problem))
            return -1;
        for (size_t j = 0; j < i; j++)
            if (strcmp (r->skills[j]->name, r->skills[i]->name) == 0)
                return pmo_problem (problem, INVALID, field, "skill '%s' is listed twice",
                                    r->skills[i]->name);
        snprintf (field, sizeof field, "skills[%zu].level", i);
        if (r->skills[i]->level < 1 || r->skills[i]->level > ALLOCATOR_MAX_LEVEL)
            return pmo_problem (problem, INVALID, field, "%s is %u; it must be 1 to %d", field,
                                r->skills[i]->level, ALLOCATOR_MAX_LEVEL);
    }
    if (r->cost_rate) {
        const Pmo__Money *m = r->cost_rate;
        if (m->minor < 0 || m->minor > (int64_t)1 << 40)
            return pmo_problem (problem, INVALID, "cost_rate.minor",
                                "cost_rate.minor must be 0 to 2^40 minor units per hour");
        const char *c = m->currency;
        if (!c || strlen (c) != 3 || !isupper ((unsigned char)c[0]) ||
            !isupper ((unsigned char)c[1]) || !isupper ((unsigned char)c[2]))
            return pmo_problem (problem, INVALID, "cost_rate.currency",
                                "cost_rate.currency must be an ISO 4217 code such as GBP");
    }
    if (r->n_exceptions > ALLOCATOR_MAX_EXCEPTIONS)
        return pmo_problem (problem, INVALID, "exceptions", "%zu exceptions; at most %d",
                            r->n_exceptions, ALLOCATOR_MAX_EXCEPTIONS);
    for (size_t i = 0; i < r->n_exceptions; i++) {
        Pmo__CalendarException *e = r->exceptions[i];
        char sf[64], ef[64], hf[64], rf[64];
        snprintf (sf, sizeof sf, "exceptions[%zu].start_week", i);
        snprintf (ef, sizeof ef, "exceptions[%zu].end_week", i);
        snprintf (hf, sizeof hf, "exceptions[%zu].hours_off", i);
        snprintf (rf, sizeof rf, "exceptions[%zu].reason", i);
        int32_t first, last;
        if (allocator_check_window (e->start_week, e->end_week, sf, ef, ALLOCATOR_MAX_SPAN_WEEKS,
                                    &first, &last, problem) ||
            s_hours (e->hours_off, hf, 1, problem) ||
            pmo_check_name (e->reason, rf, 0, 200, problem))
            return -1;
    }
    return 0;
}

int allocator_check_request (Pmo__AllocationRequest *r, int32_t *first, int32_t *last,
                             pmo_problem_t *problem)
{
    if (pmo_str_empty (r->project_id))
        return pmo_problem (problem, INVALID, "project_id", "project_id is required");
    if (s_name (r->role, "role", false, problem) || s_name (r->skill, "skill", false, problem))
        return -1;
    if (pmo_str_empty (r->resource_id) && pmo_str_empty (r->role) && pmo_str_empty (r->skill))
        return pmo_problem (problem, INVALID, "resource_id",
                            "name a resource, or a role and/or skill to match");
    if (r->min_level > ALLOCATOR_MAX_LEVEL)
        return pmo_problem (problem, INVALID, "min_level", "min_level is %u; it must be 0 to %d",
                            r->min_level, ALLOCATOR_MAX_LEVEL);
    if (r->min_level && pmo_str_empty (r->skill))
        return pmo_problem (problem, INVALID, "min_level", "min_level needs a skill");
    if (s_hours (r->hours_per_week, "hours_per_week", 1, problem) ||
        pmo_check_text (r->note, "note", 0, 2000, problem))
        return -1;
    if (!pmo_str_empty (r->pool_org_unit) && !pmo_slug_valid (r->pool_org_unit, 2, 32))
        return pmo_problem (problem, INVALID, "pool_org_unit",
                            "pool_org_unit '%.40s' is not an org unit id", r->pool_org_unit);
    return allocator_check_window (r->start_week, r->end_week, "start_week", "end_week",
                                   ALLOCATOR_MAX_SPAN_WEEKS, first, last, problem);
}

//  ---------------------------------------------------------------------
//  Who may do what

//  The allocator's actions by role: the resource side manages resources
//  and approves; the project side asks for them and commits.
static const pmo_role_table_t s_roles = {
    .actions = {
        [PMO__ROLE__ROLE_ADMIN] = ALLOCATOR_READ | ALLOCATOR_RESOURCE | ALLOCATOR_PROJECT,
        [PMO__ROLE__ROLE_PMO_DIRECTOR] = ALLOCATOR_READ | ALLOCATOR_RESOURCE | ALLOCATOR_PROJECT,
        [PMO__ROLE__ROLE_PMO_MANAGER] = ALLOCATOR_READ | ALLOCATOR_RESOURCE | ALLOCATOR_PROJECT,
        [PMO__ROLE__ROLE_RESOURCE_MANAGER] = ALLOCATOR_READ | ALLOCATOR_RESOURCE,
        [PMO__ROLE__ROLE_PMO_ANALYST] = ALLOCATOR_READ | ALLOCATOR_PROJECT,
        [PMO__ROLE__ROLE_PROGRAMME_MANAGER] = ALLOCATOR_READ | ALLOCATOR_PROJECT,
        [PMO__ROLE__ROLE_PROJECT_MANAGER] = ALLOCATOR_READ | ALLOCATOR_PROJECT,
        [PMO__ROLE__ROLE_SPONSOR] = ALLOCATOR_READ,
        [PMO__ROLE__ROLE_RISK_MANAGER] = ALLOCATOR_READ,
        [PMO__ROLE__ROLE_TEAM_MEMBER] = ALLOCATOR_READ,
        [PMO__ROLE__ROLE_VIEWER] = ALLOCATOR_READ,
    }};

const pmo_role_table_t *allocator_roles (void)
{
    return &s_roles;
}

Pmo__Role allocator_role_for (const Pmo__Identity *who, allocator_action_t action, const char *path)
{
    //  Reads check no path: any grant anywhere reads everything (a later
    //  issue narrows this). Other actions need a grant on path; a missing
    //  path matches no grant, never "anywhere".
    return pmo_access_role (who, &s_roles, action,
                            action == ALLOCATOR_READ ? NULL : (path ? path : ""));
}

//  ---------------------------------------------------------------------
//  State machine

const char *allocator_state_name (Pmo__AllocationState state)
{
    switch (state) {
    case PMO__ALLOCATION_STATE__ALLOCATION_STATE_REQUESTED:
        return "requested";
    case PMO__ALLOCATION_STATE__ALLOCATION_STATE_PROPOSED:
        return "proposed";
    case PMO__ALLOCATION_STATE__ALLOCATION_STATE_COMMITTED:
        return "committed";
    case PMO__ALLOCATION_STATE__ALLOCATION_STATE_RELEASED:
        return "released";
    case PMO__ALLOCATION_STATE__ALLOCATION_STATE_REJECTED:
        return "rejected";
    default:
        return "unspecified";
    }
}

bool allocator_transition_allowed (Pmo__AllocationState from, Pmo__AllocationState to)
{
    switch (from) {
    case PMO__ALLOCATION_STATE__ALLOCATION_STATE_UNSPECIFIED:
        return to == PMO__ALLOCATION_STATE__ALLOCATION_STATE_REQUESTED ||
               to == PMO__ALLOCATION_STATE__ALLOCATION_STATE_PROPOSED;
    case PMO__ALLOCATION_STATE__ALLOCATION_STATE_REQUESTED:
        return to == PMO__ALLOCATION_STATE__ALLOCATION_STATE_PROPOSED ||
               to == PMO__ALLOCATION_STATE__ALLOCATION_STATE_REJECTED;
    case PMO__ALLOCATION_STATE__ALLOCATION_STATE_PROPOSED:
        //  proposed -> proposed: another resource is proposed instead
        return to == PMO__ALLOCATION_STATE__ALLOCATION_STATE_PROPOSED ||
               to == PMO__ALLOCATION_STATE__ALLOCATION_STATE_COMMITTED ||
               to == PMO__ALLOCATION_STATE__ALLOCATION_STATE_REJECTED ||
               to == PMO__ALLOCATION_STATE__ALLOCATION_STATE_RELEASED;
    case PMO__ALLOCATION_STATE__ALLOCATION_STATE_COMMITTED:
        return to == PMO__ALLOCATION_STATE__ALLOCATION_STATE_RELEASED;
    default:
        return false;
    }
}

bool allocator_state_books (Pmo__AllocationState state)
{
    return state == PMO__ALLOCATION_STATE__ALLOCATION_STATE_PROPOSED ||
           state == PMO__ALLOCATION_STATE__ALLOCATION_STATE_COMMITTED;
}

bool allocator_state_live (Pmo__AllocationState state)
{
    return state == PMO__ALLOCATION_STATE__ALLOCATION_STATE_REQUESTED ||
           allocator_state_books (state);
}

//  ---------------------------------------------------------------------
//  Capacity and over-allocation

uint32_t allocator_capacity_in_week (const Pmo__Resource *resource, int32_t week)
{
    uint32_t off = 0;
    for (size_t i = 0; i < resource->n_exceptions; i++) {
        const Pmo__CalendarException *e = resource->exceptions[i];
        int32_t first, last;
        if (allocator_week_parse (e->start_week, &first))
            continue;
        if (pmo_str_empty (e->end_week) || allocator_week_parse (e->end_week, &last))
            last = first;
        if (week >= first && week <= last)
            off += e->hours_off;
    }
    return off >= resource->weekly_capacity_hours ? 0 : resource->weekly_capacity_hours - off;
}

size_t allocator_over_weeks (const Pmo__Resource *resource, const Pmo__BookingLedger *ledger,
                             pmo_arena_t *arena, allocator_over_week_t **weeks)
{
    *weeks = NULL;
    int32_t lo = INT32_MAX, hi = INT32_MIN;
    for (size_t i = 0; i < ledger->n_bookings; i++) {
        const Pmo__Booking *b = ledger->bookings[i];
        if (b->state != PMO__ALLOCATION_STATE__ALLOCATION_STATE_COMMITTED)
            continue;
        lo = b->start_week < lo ? b->start_week : lo;
        hi = b->end_week > hi ? b->end_week : hi;
    }
    if (lo > hi)
        return 0;
    size_t span = (size_t)(hi - lo + 1);
    uint32_t *committed = pmo_arena_alloc (arena, span * sizeof (uint32_t));
    for (size_t i = 0; i < ledger->n_bookings; i++) {
        const Pmo__Booking *b = ledger->bookings[i];
        if (b->state != PMO__ALLOCATION_STATE__ALLOCATION_STATE_COMMITTED)
            continue;
        for (int32_t w = b->start_week; w <= b->end_week; w++)
            committed[w - lo] += b->hours_per_week;
    }
    allocator_over_week_t *out = pmo_arena_alloc (arena, span * sizeof (allocator_over_week_t));
    size_t n = 0;
    for (size_t i = 0; i < span; i++) {
        if (!committed[i])
            continue;
        int32_t week = lo + (int32_t)i;
        uint32_t capacity = allocator_capacity_in_week (resource, week);
        //  Strictly greater: booking exactly the capacity is full, not over
        if (committed[i] > capacity)
            out[n++] = (allocator_over_week_t){week, capacity, committed[i]};
    }
    *weeks = out;
    return n;
}

uint32_t allocator_ledger_hours (const Pmo__BookingLedger *ledger, int32_t week)
{
    uint32_t booked = 0;
    for (size_t i = 0; i < ledger->n_bookings; i++) {
        const Pmo__Booking *b = ledger->bookings[i];
        if (week >= b->start_week && week <= b->end_week)
            booked += b->hours_per_week;
    }
    return booked;
}

bool allocator_ledger_fits (const Pmo__Resource *resource, const Pmo__BookingLedger *ledger,
                            int32_t first, int32_t last, uint32_t hours)
{
    for (int32_t w = first; w <= last; w++)
        if (allocator_ledger_hours (ledger, w) + hours > allocator_capacity_in_week (resource, w))
            return false;
    return true;
}

size_t allocator_ledger_soft_over (const Pmo__Resource *resource, const Pmo__BookingLedger *ledger,
                                   int32_t first, int32_t last, int32_t *first_over)
{
    size_t n = 0;
    for (int32_t w = first; w <= last; w++)
        if (allocator_ledger_hours (ledger, w) > allocator_capacity_in_week (resource, w) && !n++)
            *first_over = w;
    return n;
}

bool allocator_weeks_equal (const int32_t *a, size_t na, const int32_t *b, size_t nb)
{
    if (na != nb)
        return false;
    for (size_t i = 0; i < na; i++)
        if (a[i] != b[i])
            return false;
    return true;
}

//  ---------------------------------------------------------------------
//  Approval

void allocator_approval (Pmo__PmoType type, const char *unit, bool over, const char *over_text,
                         bool crosses, const char *cross_text, allocator_approval_t *out)
{
    memset (out, 0, sizeof *out);
    if (over)
        snprintf (out->warnings[out->n_warnings++], sizeof out->warnings[0], "%s", over_text);
    if (crosses)
        snprintf (out->warnings[out->n_warnings++], sizeof out->warnings[0], "%s", cross_text);
    switch (type) {
    case PMO__PMO_TYPE__PMO_TYPE_DIRECTIVE:
        out->needed = true;
        snprintf (out->reason, sizeof out->reason,
                  "the directive PMO over '%s' approves every commitment: a resource manager "
                  "or PMO manager of '%s' commits it with approve",
                  unit, unit);
        break;
    case PMO__PMO_TYPE__PMO_TYPE_CONTROLLING:
        if (over || crosses) {
            out->needed = true;
            snprintf (out->reason, sizeof out->reason,
                      "the controlling PMO over '%s' approves commitments that %s%s%s: a "
                      "resource manager or PMO manager of '%s' commits it with approve (%s)",
                      unit, over ? "over-allocate" : "", over && crosses ? " or " : "",
                      crosses ? "cross divisions" : "", unit, over ? over_text : cross_text);
        }
        break;
    default:
        //  Supportive, or no PMO above the unit: advise, never block
        break;
    }
}
