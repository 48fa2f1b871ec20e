/*  registry_reads.c: get, list and archive.

    What a caller may not see is answered as not found, so ids cannot be
    probed across divisions. The org structure is visible to everyone
    signed in. Lists page through the per-unit indexes with a cursor
    "<owner>|<score>".
*/
#include "registry_internal.h"

#include "orgtree.h"
#include "pmo_reflect.h"

#include <stdlib.h>
#include <string.h>

#define LIST_DEFAULT  50
#define LIST_MAX      500
#define LIST_SCAN_MAX 2000 //  entities examined for one page at most

//  The org unit path that decides who may see msg.
static const char *s_path_of (registry_t *self, pmo_request_t *req, ProtobufCMessage *msg)
{
    const registry_kind_t *kind = registry_kind_of (msg->descriptor);
    if (kind->kind == PMO__ENTITY_KIND__ENTITY_KIND_ORG_UNIT)
        return ((Pmo__OrgUnit *)msg)->path;
    if (!kind->of_project)
        return pmo_reflect_str (msg, "org_unit_path");
    ProtobufCMessage *project;
    int rc = registry_store_read (self->store, req->arena,
                                  registry_kind (PMO__ENTITY_KIND__ENTITY_KIND_PROJECT),
                                  pmo_reflect_str (msg, "project_id"), &project, NULL);
    if (rc < 0)
        registry_unavailable (req);
    return rc == 1 ? ((Pmo__Project *)project)->org_unit_path : NULL;
}

//  The entity of a kind with codes whose code is text, among those the
//  caller may see (codes are unique within a division, so one per
//  division at most), in one division or in all (division empty): 1 with
//  it in *msg, 0 none, -2 several (their ids in *ids), -1 unavailable.
static int s_code_lookup (registry_t *self, pmo_request_t *req, const registry_kind_t *kind,
                          const char *code, const char *only, ProtobufCMessage **msg,
                          const char **ids)
{
    Pmo__OrgUnit **units;
    size_t n_units;
    if (registry_store_org_units (self->store, req->arena, &units, &n_units))
        return -1;
    *ids = "";
    size_t found = 0;
    for (size_t i = 0; i < n_units; i++) {
        const char *division = units[i]->division;
        bool seen = pmo_str_empty (division) || (!pmo_str_empty (only) && !streq (only, division));
        for (size_t j = 0; j < i && !seen; j++)
            seen = streq (units[j]->division, division);
        if (seen)
            continue;
        char *id;
        ProtobufCMessage *entity;
        int rc = registry_store_code_owner (self->store, req->arena, kind, division, code, &id);
        if (rc == 1)
            rc = registry_store_read (self->store, req->arena, kind, id, &entity, NULL);
        if (rc < 0)
            return -1;
        if (rc == 0 || !registry_allowed (pmo_request_who (req), REGISTRY_READ,
                                          pmo_reflect_str (entity, "org_unit_path")))
            continue;
        *msg = entity;
        *ids = found++ ? pmo_arena_printf (req->arena, "%s, %s", *ids, id) : id;
    }
    return found > 1 ? -2 : (int)found;
}

//  The get of a code: 1 with it in *msg, or 0 after failing req
//  (NOT_FOUND naming the code; INVALID when it names several, or is not a
//  code at all).
static int s_by_code (registry_t *self, pmo_request_t *req, const registry_kind_t *kind,
                      const Pmo__GetRequest *get, ProtobufCMessage **msg)
{
    const char *code = get->id;
    if (!pmo_code_valid (code)) {
        FAIL (req, INVALID, "get.id", "'%.64s' is neither a %s id (%s_<division>_<n>) nor a code",
              code, kind->name, kind->prefix);
        return 0;
    }
    const char *ids;
    int rc = s_code_lookup (self, req, kind, code, get->division, msg, &ids);
    if (rc == 1)
        return 1;
    if (rc < -1)
        FAIL (req, INVALID, "get.id",
              "code '%.64s' names %ss in different divisions (%s): give the id", code, kind->name,
              ids);
    else if (rc < 0)
        registry_unavailable (req);
    else
        FAIL (req, NOT_FOUND, "get.id", "no %s with id or code '%.64s'", kind->name, code);
    return 0;
}

//  orgtree's lookup over the registry's own store, with the caller's
//  identity (so ambiguity is judged with what the caller may read)
static int s_project_lookup (const orgtree_resolver_t *r, pmo_request_t *req, const char *text,
                             const char **id, const char **path)
{
    char division[40];
    if (pmo_id_division (text, "pr", division, sizeof division) == 0) {
        *id = text;
        return 1;
    }
    if (!pmo_code_valid (text))
        return -3;
    const registry_kind_t *kind = registry_kind (PMO__ENTITY_KIND__ENTITY_KIND_PROJECT);
    ProtobufCMessage *msg = NULL;
    const char *ids;
    int rc = s_code_lookup (r->state, req, kind, text, NULL, &msg, &ids);
    if (rc == 1) {
        *id = ((Pmo__Project *)msg)->id;
        *path = ((Pmo__Project *)msg)->org_unit_path;
    }
    return rc;
}

int registry_resolve_projects (registry_t *self, pmo_request_t *req)
{
    Pmo__RegistryRequest *r = (Pmo__RegistryRequest *)req->request;
    //  An import names its rows' projects by code on purpose (it creates
    //  them); everything else may name a project by id or code
    if (r->body_case == PMO__REGISTRY_REQUEST__BODY_IMPORT_BATCH ||
        r->body_case == PMO__REGISTRY_REQUEST__BODY_GET)
        return 0;
    orgtree_resolver_t resolver = {s_project_lookup, self, NULL, "the registry's store (Redis)"};
    if (r->body_case == PMO__REGISTRY_REQUEST__BODY_UPDATE_PROJECT)
        return orgtree_resolve_reference (&resolver, req, &r->update_project->id,
                                          "update_project.id");
    if (r->body_case == PMO__REGISTRY_REQUEST__BODY_ARCHIVE &&
        r->archive->kind == PMO__ENTITY_KIND__ENTITY_KIND_PROJECT)
        return orgtree_resolve_reference (&resolver, req, &r->archive->id, "archive.id");
    return orgtree_resolve_request (&resolver, req);
}

void registry_handle_get (registry_t *self, pmo_request_t *req, Pmo__GetRequest *get)
{
    const registry_kind_t *kind = registry_kind (get->kind);
    if (!kind)
        return (void)FAIL (req, INVALID, "get.kind", "kind is required (project, org_unit, ...)");
    //  What does not have the shape of an id of a kind with codes is a code
    ProtobufCMessage *msg = NULL;
    char division[40];
    if (kind->has_code && !pmo_str_empty (get->id) &&
        pmo_id_division (get->id, kind->prefix, division, sizeof division)) {
        if (!s_by_code (self, req, kind, get, &msg))
            return;
    } else
        msg = registry_fetch (self, req, kind, get->id, "get.id", NULL);
    if (!msg)
        return;
    const char *path = s_path_of (self, req, msg);
    if (pmo_request_failed (req))
        return;
    //  The org structure is visible to everyone signed in; the rest only
    //  within the caller's subtrees.
    if (kind->kind != PMO__ENTITY_KIND__ENTITY_KIND_ORG_UNIT &&
        (!path || !registry_allowed (pmo_request_who (req), REGISTRY_READ, path)))
        return (void)FAIL (req, NOT_FOUND, "get.id", "no %s with id '%s'", kind->name, get->id);
    if (kind->kind == PMO__ENTITY_KIND__ENTITY_KIND_ORG_UNIT)
        registry_fill_effective (self, req, (Pmo__OrgUnit *)msg);
    registry_set_reply (req, msg);
}

//  The page being built and where it stops.
typedef struct {
    Pmo__Page *page;
    const registry_kind_t *kind;
    size_t limit;
    size_t count;
    size_t scanned;
} page_t;

static bool s_list_match (const Pmo__ListRequest *list, ProtobufCMessage *msg)
{
    if (!list->include_archived && pmo_reflect_bool (msg, "archived"))
        return false;
    if (!pmo_str_empty (list->portfolio_id) &&
        strcmp (pmo_reflect_str (msg, "portfolio_id"), list->portfolio_id) != 0)
        return false;
    if (msg->descriptor == &pmo__project__descriptor) {
        Pmo__Project *p = (Pmo__Project *)msg;
        if (!pmo_str_empty (list->programme_id) && strcmp (p->programme_id, list->programme_id))
            return false;
        if (list->phase && p->phase != list->phase)
            return false;
        if (list->status && p->status != list->status)
            return false;
    }
    return true;
}

//  Add the entities of one index after score `after`; returns 0 when the
//  index is exhausted, 1 when the page is full (*last = the score to resume
//  after), -1 on failure.
static int s_list_index (registry_t *self, pmo_request_t *req, page_t *page,
                         const Pmo__ListRequest *list, const char *division, const char *owner,
                         double after, double *last)
{
    while (page->count < page->limit && page->scanned < LIST_SCAN_MAX) {
        char **ids;
        double *scores;
        size_t n;
        size_t want = page->limit - page->count;
        if (registry_store_index_page (self->store, req->arena, page->kind, division, owner, after,
                                       want, &ids, &scores, &n)) {
            registry_unavailable (req);
            return -1;
        }
        if (n == 0)
            return 0;
        ProtobufCMessage **msgs = pmo_arena_alloc (req->arena, n * sizeof (void *));
        if (registry_store_read_many (self->store, req->arena, page->kind, ids, n, msgs)) {
            registry_unavailable (req);
            return -1;
        }
        for (size_t i = 0; i < n; i++) {
            page->scanned++;
            after = scores[i];
            if (msgs[i] && s_list_match (list, msgs[i])) {
                pmo_reflect_append (&page->page->base, page->kind->page_field, msgs[i], req->arena);
                page->count++;
            }
        }
        if (n < want)
            return 0;
    }
    *last = after;
    return 1;
}

void registry_handle_list (registry_t *self, pmo_request_t *req, Pmo__ListRequest *list)
{
    const registry_kind_t *kind = registry_kind (list->kind);
    if (!kind)
        return (void)FAIL (req, INVALID, "list.kind", "kind is required (project, org_unit, ...)");
    if (list->limit > LIST_MAX)
        return (void)FAIL (req, INVALID, "list.limit", "limit is at most %d", LIST_MAX);
    Pmo__Page *result = pmo_arena_alloc (req->arena, sizeof (Pmo__Page));
    pmo__page__init (result);
    page_t page = {result, kind, list->limit ? list->limit : LIST_DEFAULT, 0, 0};
    pmo_reflect_set_oneof (req->reply, "page", &result->base);
    //  Cursor: "<owner>|<score>" where to resume
    char owner_cursor[80] = "";
    double after = -1;
    if (!pmo_str_empty (list->cursor)) {
        const char *bar = strchr (list->cursor, '|');
        char *end = NULL;
        if (bar && (size_t)(bar - list->cursor) < sizeof owner_cursor)
            after = strtod (bar + 1, &end);
        if (!bar || !end || *end || bar == list->cursor)
            return (void)FAIL (req, INVALID, "list.cursor",
                               "cursor is not one this service returned");
        memcpy (owner_cursor, list->cursor, (size_t)(bar - list->cursor));
        owner_cursor[bar - list->cursor] = 0;
    }
    if (kind->of_project) {
        Pmo__Project *project =
            registry_fetch_project (self, req, list->project_id, "list.project_id", NULL);
        if (!project)
            return;
        double last;
        int rc =
            s_list_index (self, req, &page, list, project->division, project->id, after, &last);
        if (rc == 1)
            result->next_cursor = pmo_arena_printf (req->arena, "%s|%.17g", project->id, last);
        return;
    }
    if (kind->kind == PMO__ENTITY_KIND__ENTITY_KIND_ORG_UNIT) {
        //  The generation before the units: a change in between is seen
        //  as a change next time
        result->generation = registry_store_org_generation (self->store, req->arena);
        if (!result->generation)
            return registry_unavailable (req);
        if (!pmo_str_empty (list->unless_generation) &&
            streq (list->unless_generation, result->generation)) {
            result->not_modified = true;
            return;
        }
    }
    Pmo__OrgUnit **units;
    size_t n_units;
    if (registry_store_org_units (self->store, req->arena, &units, &n_units))
        return registry_unavailable (req);
    if (!pmo_str_empty (list->org_unit)) {
        bool found = false;
        for (size_t i = 0; i < n_units; i++)
            found = found || strcmp (units[i]->id, list->org_unit) == 0;
        if (!found)
            return (void)FAIL (req, NOT_FOUND, "list.org_unit", "no org unit '%s'", list->org_unit);
    }
    bool resuming = *owner_cursor != 0;
    for (size_t i = 0; i < n_units; i++) {
        Pmo__OrgUnit *unit = units[i];
        if (!pmo_str_empty (list->org_unit) && !pmo_path_contains (unit->path, list->org_unit))
            continue;
        if (kind->kind == PMO__ENTITY_KIND__ENTITY_KIND_ORG_UNIT) {
            if (s_list_match (list, &unit->base))
                pmo_reflect_append (&result->base, "org_units", &unit->base, req->arena);
            continue;
        }
        if (resuming) {
            if (strcmp (unit->id, owner_cursor) != 0)
                continue;
            resuming = false;
        } else
            after = -1;
        if (!registry_allowed (pmo_request_who (req), REGISTRY_READ, unit->path))
            continue;
        double last;
        int rc = s_list_index (self, req, &page, list, unit->division, unit->id, after, &last);
        if (rc < 0)
            return;
        if (rc == 1) {
            result->next_cursor = pmo_arena_printf (req->arena, "%s|%.17g", unit->id, last);
            return;
        }
    }
}

void registry_handle_archive (registry_t *self, pmo_request_t *req, Pmo__ArchiveRequest *archive)
{
    const registry_kind_t *kind = registry_kind (archive->kind);
    if (!kind)
        return (void)FAIL (req, INVALID, "archive.kind", "kind is required");
    if (kind->kind == PMO__ENTITY_KIND__ENTITY_KIND_STATUS_REPORT ||
        kind->kind == PMO__ENTITY_KIND__ENTITY_KIND_GATE_DECISION)
        return (void)FAIL (req, FAILED_PRECONDITION, "archive.kind",
                           "%ss are a permanent record and are not archived", kind->name);
    uint64_t version;
    ProtobufCMessage *msg = registry_fetch (self, req, kind, archive->id, "archive.id", &version);
    if (!msg)
        return;
    const char *path = s_path_of (self, req, msg);
    if (pmo_request_failed (req))
        return;
    if (!path || !registry_allowed (pmo_request_who (req), REGISTRY_READ, path))
        return (void)FAIL (req, NOT_FOUND, "archive.id", "no %s with id '%s'", kind->name,
                           archive->id);
    registry_action_t action = kind->kind == PMO__ENTITY_KIND__ENTITY_KIND_ORG_UNIT
                                   ? REGISTRY_ADMIN_ORG
                               : kind->kind == PMO__ENTITY_KIND__ENTITY_KIND_PORTFOLIO ||
                                       kind->kind == PMO__ENTITY_KIND__ENTITY_KIND_PROGRAMME
                                   ? REGISTRY_WRITE_PORTFOLIO
                                   : REGISTRY_WRITE_PROJECT;
    if (!registry_may (req, action, path, pmo_arena_printf (req->arena, "archive %ss", kind->name)))
        return;
    char division[40];
    registry_store_division (self->store, kind, archive->id, division, sizeof division);
    if (registry_replayed (self, req, division))
        return;
    if (!pmo_request_version_matches (req, "version", kind->name, archive->version, version))
        return;
    if (pmo_reflect_bool (msg, "archived"))
        return (void)FAIL (req, FAILED_PRECONDITION, "archive.id", "%s '%s' is already archived",
                           kind->name, archive->id);
    if (kind->kind == PMO__ENTITY_KIND__ENTITY_KIND_ORG_UNIT) {
        Pmo__OrgUnit *unit = (Pmo__OrgUnit *)msg;
        Pmo__OrgUnit **units;
        size_t n;
        if (registry_store_org_units (self->store, req->arena, &units, &n))
            return registry_unavailable (req);
        for (size_t i = 0; i < n; i++)
            if (!units[i]->archived && strcmp (units[i]->parent, unit->id) == 0)
                return (void)FAIL (req, FAILED_PRECONDITION, "archive.id",
                                   "org unit '%s' still has unit '%s' under it", unit->id,
                                   units[i]->id);
        static const Pmo__EntityKind held[] = {PMO__ENTITY_KIND__ENTITY_KIND_PROJECT,
                                               PMO__ENTITY_KIND__ENTITY_KIND_PROGRAMME,
                                               PMO__ENTITY_KIND__ENTITY_KIND_PORTFOLIO};
        for (size_t k = 0; k < 3; k++) {
            long long size;
            if (registry_store_index_size (self->store, registry_kind (held[k]), unit->division,
                                           unit->id, &size))
                return registry_unavailable (req);
            if (size > 0)
                return (void)FAIL (req, FAILED_PRECONDITION, "archive.id",
                                   "org unit '%s' holds %lld %s record(s); move or archive them "
                                   "first",
                                   unit->id, size, registry_kind (held[k])->name);
        }
    }
    ProtobufCMessage *stored = pmo_reflect_copy (msg, req->arena);
    registry_stamp_update (req, msg, stored, version);
    pmo_reflect_set_bool (msg, "archived", true);
    pmo_commit_t *commit = registry_store_commit (self->store, division, req->header->request_id);
    //  A project's pending gate request closes with it, in this commit: no
    //  one decides a gate of an archived project (the event carries it)
    Pmo__GateRequest *closed = NULL;
    if (kind->kind == PMO__ENTITY_KIND__ENTITY_KIND_PROJECT &&
        ((Pmo__Project *)msg)->gate_request) {
        closed = ((Pmo__Project *)msg)->gate_request;
        ((Pmo__Project *)msg)->gate_request = NULL;
        registry_store_gate_pending (self->store, commit, req->arena, division, archive->id, NULL);
    }
    registry_store_put (self->store, commit, req->arena, division, msg, version);
    const char *unit_id = kind->kind == PMO__ENTITY_KIND__ENTITY_KIND_ORG_UNIT
                              ? archive->id
                              : pmo_reflect_str (msg, "org_unit");
    Pmo__Event *event =
        registry_event (req, pmo_arena_printf (req->arena, "%s.archived", kind->name), division,
                        unit_id, path, msg);
    event->gate_request = closed;
    registry_set_reply (req, msg);
    registry_commit (self, req, commit, division, event);
}
