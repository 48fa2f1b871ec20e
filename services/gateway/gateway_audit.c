/*  gateway_audit.c: the audit trail (GET /api/v1/audit, pmoctl audit).

    The trail is the committed events themselves: every service appends the
    event of a change to its division's stream in the same atomic step as
    the change, with the authenticated actor and how it was authenticated
    (actor_via; SECURITY.md). This reads them back, newest first, merged
    across the division streams the caller may audit, filtered as asked.
    Nothing is copied elsewhere, so the trail keeps what the streams keep:
    the registry trims an entry once every consumer group is done with it
    and it is older than --stream-keep-days (7 by default).

    Paging: the order is (stream id descending, division ascending); a
    cursor "<id>/<division>" names the last entry read, and the next page
    starts strictly after it in that order. Entries never change and new
    ones sort before the first page, so paging neither repeats nor skips an
    entry (one trimmed meanwhile is gone). A page reads at most SCAN_MAX
    entries: a narrow filter over a long trail may return fewer than limit
    events, with a cursor to go on from.
*/
#include "gateway_audit.h"
#include "gateway_model.h"
#include "gateway_store.h"

#include "events.pb-c.h"
#include "pmo_log.h"
#include "pmo_reflect.h"
#include "pmo_stream.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define AUDIT_DEFAULT 50
#define AUDIT_MAX     500
#define SCAN_MAX      5000 //  entries read for one page at most
#define CHUNK         100  //  entries read from one stream at a time
#define FILTER_MAX    256  //  bytes of a filter's text
#define STREAMS       "the division event streams (Redis)"

//  One division's stream, read backwards a chunk at a time.
typedef struct {
    char *division;
    pmo_stream_batch_t batch;
    size_t next;    //  the batch's next entry to give
    char upper[64]; //  the next read's upper bound ...
    bool inclusive; //  ... and whether it may be read itself
    bool done;      //  nothing more down to the floor
} source_t;

typedef struct {
    uint64_t ms, seq;
} stream_id_t;

//  The entry source s gives next (NULL when it has none); -1 if Redis
//  failed.
static int s_head (gateway_store_t *store, source_t *s, const char *floor,
                   pmo_stream_entry_t **entry)
{
    *entry = NULL;
    if (s->done)
        return 0;
    if (s->next == s->batch.count) {
        pmo_stream_batch_clear (&s->batch);
        s->next = 0;
        if (gateway_store_stream_back (store, s->division, s->upper, s->inclusive, floor, CHUNK,
                                       &s->batch))
            return -1;
        if (s->batch.count == 0) {
            s->done = true;
            return 0;
        }
        snprintf (s->upper, sizeof s->upper, "%s", s->batch.entries[s->batch.count - 1].id);
        s->inclusive = false;
    }
    *entry = &s->batch.entries[s->next];
    return 0;
}

//  a before b in the trail's order: the newer first, then by division.
static bool s_before (stream_id_t a, const char *a_div, stream_id_t b, const char *b_div)
{
    if (a.ms != b.ms)
        return a.ms > b.ms;
    if (a.seq != b.seq)
        return a.seq > b.seq;
    return strcmp (a_div, b_div) < 0;
}

//  "<ms>-<seq>/<division>" into id and division (in arena). 0 or -1.
static int s_cursor_parse (pmo_arena_t *arena, const char *cursor, char *id, size_t size,
                           char **division)
{
    const char *slash = strchr (cursor, '/');
    if (!slash || (size_t)(slash - cursor) >= size || !slash[1] || strlen (slash + 1) > 64)
        return -1;
    memcpy (id, cursor, (size_t)(slash - cursor));
    id[slash - cursor] = 0;
    uint64_t ms, seq;
    if (!pmo_stream_id_parse (id, &ms, &seq))
        return -1;
    for (const char *c = slash + 1; *c; c++)
        if ((unsigned char)*c <= ' ' || *c == '/')
            return -1;
    *division = pmo_arena_strdup (arena, slash + 1);
    return 0;
}

//  The request's own fields. 0, or -1 after failing req.
static int s_check (pmo_request_t *req, const Pmo__AuditRequest *audit)
{
    if (audit->limit > AUDIT_MAX)
        return FAIL (req, INVALID, "audit.limit", "limit is at most %d", AUDIT_MAX), -1;
    if (audit->since_ms < 0)
        return FAIL (req, INVALID, "audit.since_ms", "since_ms is a Unix time in ms, not negative"),
               -1;
    if (audit->until_ms < 0)
        return FAIL (req, INVALID, "audit.until_ms", "until_ms is a Unix time in ms, not negative"),
               -1;
    if (audit->until_ms && audit->until_ms < audit->since_ms)
        return FAIL (req, INVALID, "audit.until_ms", "until_ms is before since_ms"), -1;
    const struct {
        const char *name, *value;
    } texts[] = {{"audit.org_unit", audit->org_unit},   {"audit.project_id", audit->project_id},
                 {"audit.entity_id", audit->entity_id}, {"audit.actor", audit->actor},
                 {"audit.type", audit->type},           {"audit.cursor", audit->cursor}};
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        pmo_problem_t problem;
        if (pmo_check_name (texts[i].value, texts[i].name, 0, FILTER_MAX, &problem))
            return pmo_request_fail_problem (req, &problem, ""), -1;
    }
    return 0;
}

static const char *s_path_of (void *ctx, const char *unit)
{
    return orgtree_path (ctx, unit);
}

//  The streams to read: the hub's (org units and tokens live there) and
//  every division a unit the caller may audit is in, narrowed to the
//  asked unit's division. NULL after failing req.
static source_t *s_sources (orgtree_t *orgs, const char *hub, pmo_request_t *req,
                            const char *unit_division, size_t *n)
{
    const Pmo__Identity *who = pmo_request_who (req);
    //  The divisions the caller's audit grants are in (a grant at the hub:
    //  all of them)
    size_t ndiv = 0;
    while (orgtree_division_at (orgs, ndiv))
        ndiv++;
    source_t *sources = pmo_arena_alloc (req->arena, (ndiv + 1) * sizeof (source_t));
    *n = 0;
    bool everywhere = gateway_may_audit (who, hub);
    for (size_t i = 0; i < ndiv; i++) {
        const char *division = pmo_arena_strdup (req->arena, orgtree_division_at (orgs, i));
        bool wanted = strcmp (division, hub) == 0 || everywhere;
        for (size_t g = 0; !wanted && g < who->n_grants; g++) {
            if (!gateway_grant_audits (who->grants[g]))
                continue;
            const char *of = orgtree_division (orgs, who->grants[g]->org_unit);
            wanted = of && strcmp (of, division) == 0;
        }
        if (wanted && unit_division && strcmp (unit_division, hub) != 0 &&
            strcmp (division, hub) != 0 && strcmp (division, unit_division) != 0)
            wanted = false;
        if (!wanted)
            continue;
        source_t *s = &sources[(*n)++];
        s->division = (char *)division;
    }
    return sources;
}

void gateway_audit_handle (gateway_store_t *store, orgtree_t *orgs, const char *hub,
                           pmo_request_t *req, const Pmo__AuditRequest *audit)
{
    const Pmo__Identity *who = pmo_request_who (req);
    if (s_check (req, audit))
        return;
    if (!gateway_may_audit (who, NULL))
        return (void)FAIL (req, FORBIDDEN, "",
                           "%s may not read the audit trail (it takes admin, pmo_director, "
                           "pmo_manager or auditor)",
                           who->subject);
    char cursor_id[64] = "";
    char *cursor_division = NULL;
    if (!pmo_str_empty (audit->cursor) &&
        s_cursor_parse (req->arena, audit->cursor, cursor_id, sizeof cursor_id, &cursor_division))
        return (void)FAIL (req, INVALID, "audit.cursor", "cursor is not one this service returned");
    //  An asked unit must exist, and the caller audit it or a unit in it
    const char *unit_division = NULL;
    if (!pmo_str_empty (audit->org_unit)) {
        Pmo__OrgUnit *unit;
        int rc = orgtree_unit (orgs, audit->org_unit, req->arena, &unit);
        if (rc < 0)
            return pmo_request_unavailable (req, "the registry (org units)");
        if (rc == 0)
            return (void)FAIL (req, NOT_FOUND, "audit.org_unit", "no org unit '%s'",
                               audit->org_unit);
        if (!gateway_may_audit (who, unit->path) &&
            !gateway_may_audit_within (who, audit->org_unit, s_path_of, orgs))
            return (void)FAIL (req, FORBIDDEN, "audit.org_unit",
                               "%s may not read the audit trail of '%s'", who->subject,
                               audit->org_unit);
        unit_division = unit->division;
    }
    size_t n;
    source_t *sources = s_sources (orgs, hub, req, unit_division, &n);
    char floor[32] = "-";
    if (audit->since_ms)
        snprintf (floor, sizeof floor, "%" PRId64, audit->since_ms);
    for (size_t i = 0; i < n; i++) {
        source_t *s = &sources[i];
        if (*cursor_id) {
            snprintf (s->upper, sizeof s->upper, "%s", cursor_id);
            s->inclusive = strcmp (s->division, cursor_division) > 0;
        } else if (audit->until_ms) {
            //  An id without its sequence, as the upper bound: its last
            snprintf (s->upper, sizeof s->upper, "%" PRId64, audit->until_ms);
            s->inclusive = true;
        } else {
            snprintf (s->upper, sizeof s->upper, "+");
            s->inclusive = true;
        }
    }
    gateway_event_filter_t filter = {.org_unit = audit->org_unit,
                                     .project = audit->project_id,
                                     .types = audit->type,
                                     .actor = audit->actor,
                                     .entity_id = audit->entity_id};
    Pmo__AuditPage *page = pmo_arena_alloc (req->arena, sizeof (Pmo__AuditPage));
    pmo__audit_page__init (page);
    size_t limit = audit->limit ? audit->limit : AUDIT_DEFAULT;
    char last[160] = "";
    bool more = true, failed = false;
    while (page->n_events < limit && page->scanned < SCAN_MAX) {
        source_t *best = NULL;
        pmo_stream_entry_t *best_entry = NULL;
        stream_id_t best_id = {0, 0};
        for (size_t i = 0; i < n && !failed; i++) {
            pmo_stream_entry_t *entry;
            stream_id_t id;
            if (s_head (store, &sources[i], floor, &entry)) {
                failed = true;
                break;
            }
            if (!entry || !pmo_stream_id_parse (entry->id, &id.ms, &id.seq))
                continue;
            if (!best || s_before (id, sources[i].division, best_id, best->division)) {
                best = &sources[i];
                best_entry = entry;
                best_id = id;
            }
        }
        if (failed)
            break;
        if (!best) {
            more = false;
            break;
        }
        best->next++;
        page->scanned++;
        snprintf (last, sizeof last, "%s/%s", best_entry->id, best->division);
        Pmo__Event *event = pmo__event__unpack (pmo_arena_allocator (req->arena), best_entry->size,
                                                (const uint8_t *)best_entry->data);
        if (!event) {
            pmo_warn ("gateway: audit: undecodable event division=%s id=%s", best->division,
                      best_entry->id);
            continue;
        }
        if (!gateway_may_audit (who, event->org_unit_path ? event->org_unit_path : "") ||
            !gateway_event_matches (&filter, event))
            continue;
        event->id = pmo_arena_strdup (req->arena, best_entry->id);
        if (pmo_str_empty (event->division))
            event->division = best->division;
        pmo_reflect_append (&page->base, "events", &event->base, req->arena);
    }
    for (size_t i = 0; i < n; i++)
        pmo_stream_batch_clear (&sources[i].batch);
    if (failed)
        return pmo_request_unavailable (req, STREAMS);
    page->next_cursor = more ? pmo_arena_strdup (req->arena, last) : "";
    pmo_reflect_set_oneof (req->reply, "audit", &page->base);
}
