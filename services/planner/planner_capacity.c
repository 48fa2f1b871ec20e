/*  planner_capacity.c: a scenario's capacity read from the allocator.

    The allocator owns people, their skills and calendars, and the
    bookings; the planner asks it for its capacity view of the scenario's
    unit (the allocator's existing `capacity` request, over ZeroMQ) and
    keeps, for each skill a candidate needs, the hours free each week:
    capacity less the committed allocations, which are the demand of the
    projects already running. What the candidates would need on top comes
    from the scenario's own demand. A skill nobody in the unit has is a
    row of zeros, so a candidate needing it stays out and says why.

    The capacity read is written into the spec, so the stored scenario
    says what it was solved against.
*/
#include "planner_internal.h"

#include "allocator.pb-c.h"

#include <string.h>
#include <time.h>

#define DEFAULT_WEEKS 52
#define MAX_WEEKS     104 //  the allocator's longest view
#define CALL_MS       5000

//  The ISO week ("2027-W14") of a day days after date ("YYYY-MM-DD").
static void s_iso_week (const char *date, int days, char *buf, size_t size)
{
    struct tm tm = {0};
    tm.tm_year = atoi (date) - 1900;
    tm.tm_mon = atoi (date + 5) - 1;
    tm.tm_mday = atoi (date + 8) + days;
    tm.tm_hour = 12;
    time_t t = timegm (&tm);
    struct tm day;
    gmtime_r (&t, &day);
    strftime (buf, size, "%G-W%V", &day);
}

//  The skills the candidates need, each once, in arena.
static size_t s_skills (pmo_arena_t *arena, const Pmo__ScenarioSpec *spec, char ***skills)
{
    size_t n = 0;
    *skills = NULL;
    for (size_t i = 0; i < spec->n_candidates; i++)
        for (size_t d = 0; d < spec->candidates[i]->n_demand; d++) {
            const char *skill = spec->candidates[i]->demand[d]->skill;
            bool seen = false;
            for (size_t k = 0; k < n && !seen; k++)
                seen = streq ((*skills)[k], skill ? skill : "");
            if (!seen && !pmo_str_empty (skill))
                pmo_arena_append_string (arena, skills, &n, skill);
        }
    return n;
}

int planner_capacity_from_allocator (planner_t *self, pmo_request_t *req, Pmo__ScenarioSpec *spec,
                                     const Pmo__OrgUnit *unit, const char *prefix)
{
    char field[96];
    if (!spec->capacity_from_allocator)
        return 0;
    if (spec->n_capacity) {
        snprintf (field, sizeof field, "%s.capacity", prefix);
        FAIL (req, INVALID, field,
              "give capacity or capacity_from_allocator, not both (the allocator's would replace "
              "it)");
        return -1;
    }
    if (spec->capacity_weeks > MAX_WEEKS) {
        snprintf (field, sizeof field, "%s.capacity_weeks", prefix);
        FAIL (req, INVALID, field, "at most %d weeks of capacity (the allocator's longest view)",
              MAX_WEEKS);
        return -1;
    }
    if (!pmo_date_valid (spec->start)) {
        snprintf (field, sizeof field, "%s.start", prefix);
        FAIL (req, INVALID, field, "start must be a date YYYY-MM-DD");
        return -1;
    }
    if (!self->allocator) {
        snprintf (field, sizeof field, "%s.capacity_from_allocator", prefix);
        FAIL (req, UNAVAILABLE, field, "the planner has no allocator to read capacity from");
        return -1;
    }
    char **skills;
    size_t n_skills = s_skills (req->arena, spec, &skills);
    if (!n_skills)
        return 0; //  no candidate needs anyone: nothing to bound
    size_t weeks = spec->capacity_weeks ? spec->capacity_weeks : DEFAULT_WEEKS;
    char first[16], last[16];
    s_iso_week (spec->start, 0, first, sizeof first);
    s_iso_week (spec->start, (int)(weeks - 1) * 7, last, sizeof last);

    Pmo__CapacityRequest capacity = PMO__CAPACITY_REQUEST__INIT;
    capacity.org_unit = unit->id;
    capacity.start_week = first;
    capacity.end_week = last;
    Pmo__AllocatorRequest request = PMO__ALLOCATOR_REQUEST__INIT;
    request.body_case = PMO__ALLOCATOR_REQUEST__BODY_CAPACITY;
    request.capacity = &capacity;
    Pmo__Header header;
    char id[40];
    pmo_header_init (&header, id, CALL_MS, &self->identity);
    request.header = &header;
    ProtobufCMessage *msg = NULL;
    if (pmo_client_call (self->allocator, &request.base, &pmo__allocator_reply__descriptor, CALL_MS,
                         1, &msg)) {
        pmo_request_unavailable (req, "the allocator (capacity)");
        return -1;
    }
    Pmo__AllocatorReply *reply = (Pmo__AllocatorReply *)msg;
    if (reply->error && reply->error->code != PMO__ERROR_CODE__ERROR_NONE) {
        snprintf (field, sizeof field, "%s.capacity_from_allocator", prefix);
        FAIL (req, UNAVAILABLE, field, "the allocator refused its capacity view: %s",
              reply->error->message);
        protobuf_c_message_free_unpacked (msg, NULL);
        return -1;
    }
    const Pmo__CapacityView *view =
        reply->body_case == PMO__ALLOCATOR_REPLY__BODY_CAPACITY ? reply->capacity : NULL;
    spec->capacity = pmo_arena_alloc (req->arena, n_skills * sizeof (void *));
    for (size_t k = 0; k < n_skills; k++) {
        Pmo__CapacityLimit *limit = pmo_arena_alloc (req->arena, sizeof *limit);
        pmo__capacity_limit__init (limit);
        limit->skill = skills[k];
        limit->n_hours_by_week = weeks;
        limit->hours_by_week = pmo_arena_alloc (req->arena, weeks * sizeof (double));
        const Pmo__CapacityRow *row = NULL;
        for (size_t r = 0; view && r < view->n_skills && !row; r++)
            if (view->skills[r]->skill && streq (view->skills[r]->skill, skills[k]))
                row = view->skills[r];
        for (size_t w = 0; row && w < weeks && w < row->n_cells; w++) {
            const Pmo__CapacityCell *cell = row->cells[w];
            //  Free hours: what people have less what running work holds
            limit->hours_by_week[w] = cell->capacity_hours > cell->committed_hours
                                          ? (double)(cell->capacity_hours - cell->committed_hours)
                                          : 0;
        }
        spec->capacity[spec->n_capacity++] = limit;
    }
    protobuf_c_message_free_unpacked (msg, NULL);
    return 0;
}
