/*  orgtree.c: the org-unit tree as the registry's clients see it. */
#include "orgtree.h"

#include "pmo_client.h"
#include "pmo_log.h"
#include "pmo_reflect.h"
#include "pmo_wire.h"

#include <assert.h>
#include <czmq.h>
#include <string.h>

#define TIMEOUT_DEFAULT_MS 1000
#define MAX_AGE_DEFAULT_MS 5000
#define BACKOFF_MIN_MS     100
#define BACKOFF_MAX_MS     5000
#define PAGE_LIMIT         500 //  the registry's largest page

//  One unit as last read.
typedef struct {
    Pmo__OrgUnit *unit; //  heap copy (protobuf_c_message_free_unpacked)
    int64_t read_ms;    //  monotonic, when it was read
    bool effective;     //  read with a get: effective policy and PMO type filled in
    size_t index;       //  its place in the tree's list
} entry_t;

struct _orgtree_t {
    orgtree_config_t config;
    pmo_client_t *registry; //  NULL: the caller feeds the tree
    zhashx_t *entries;      //  unit id -> entry_t
    entry_t **list;         //  the same entries in the order first read
    size_t n_list, list_size;
    char **divisions; //  distinct divisions, NULL-terminated
    size_t n_divisions;
    zlistx_t *gathered;     //  units of the pages of a whole-tree read so far
    int64_t tree_read_ms;   //  when the whole tree was last read (0 never)
    int64_t valid_after_ms; //  entries read before this are stale (invalidate)
    int64_t backoff_until;  //  monotonic; ask nothing before
    int backoff_ms;         //  the next back-off
    uint64_t generation;
    char registry_generation[64]; //  the registry's generation of the tree held ("" unknown)
    bool forcing;                 //  a forced read: ask for the whole tree
};

static void s_entry_destroy (void **item)
{
    entry_t *entry = *item;
    if (entry) {
        protobuf_c_message_free_unpacked (&entry->unit->base, NULL);
        free (entry);
    }
    *item = NULL;
}

static void s_unit_destroy (void **item)
{
    if (*item)
        protobuf_c_message_free_unpacked ((ProtobufCMessage *)*item, NULL);
    *item = NULL;
}

orgtree_t *orgtree_new (const orgtree_config_t *config)
{
    assert (config && config->identity);
    pmo_client_t *registry = NULL;
    if (config->registry) {
        registry = pmo_client_new (config->registry);
        if (!registry)
            return NULL;
    }
    orgtree_t *self = calloc (1, sizeof (orgtree_t));
    assert (self);
    self->config = *config;
    if (self->config.timeout_ms <= 0)
        self->config.timeout_ms = TIMEOUT_DEFAULT_MS;
    if (self->config.max_age_ms <= 0)
        self->config.max_age_ms = MAX_AGE_DEFAULT_MS;
    self->registry = registry;
    self->entries = zhashx_new ();
    assert (self->entries);
    //  The hash owns the entries; the list only orders them
    zhashx_set_destructor (self->entries, s_entry_destroy);
    self->divisions = calloc (1, sizeof (char *));
    assert (self->divisions);
    self->gathered = zlistx_new ();
    assert (self->gathered);
    zlistx_set_destructor (self->gathered, s_unit_destroy);
    self->backoff_ms = BACKOFF_MIN_MS;
    return self;
}

static void s_divisions_clear (orgtree_t *self)
{
    for (size_t i = 0; i < self->n_divisions; i++)
        free (self->divisions[i]);
    self->n_divisions = 0;
    self->divisions[0] = NULL;
}

void orgtree_destroy (orgtree_t **self_p)
{
    assert (self_p);
    orgtree_t *self = *self_p;
    if (!self)
        return;
    zhashx_destroy (&self->entries);
    zlistx_destroy (&self->gathered);
    free (self->list);
    s_divisions_clear (self);
    free (self->divisions);
    pmo_client_destroy (&self->registry);
    free (self);
    *self_p = NULL;
}

//  The registry did not answer: ask nothing for a while, longer each time.
static void s_back_off (orgtree_t *self, const char *what)
{
    self->backoff_until = pmo_mono_ms () + self->backoff_ms;
    pmo_warn ("orgtree: the registry did not answer %s endpoint=%s; asking again in %d ms", what,
              self->config.registry, self->backoff_ms);
    self->backoff_ms =
        self->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : self->backoff_ms * 2;
}

static void s_answered (orgtree_t *self)
{
    self->backoff_until = 0;
    self->backoff_ms = BACKOFF_MIN_MS;
}

bool orgtree_backing_off (const orgtree_t *self)
{
    return pmo_mono_ms () < self->backoff_until;
}

//  Send request to the registry; the reply (caller frees) or NULL, after
//  backing off, if it did not answer.
static Pmo__RegistryReply *s_ask (orgtree_t *self, Pmo__RegistryRequest *request, const char *what)
{
    if (!self->registry)
        return NULL; //  a fed tree asks nothing: what it lacks is unknown for now
    Pmo__Header header;
    char request_id[40];
    pmo_header_init (&header, request_id, self->config.timeout_ms,
                     (Pmo__Identity *)self->config.identity);
    request->header = &header;
    ProtobufCMessage *reply = NULL;
    int rc = pmo_client_call (self->registry, &request->base, &pmo__registry_reply__descriptor,
                              self->config.timeout_ms, 1, &reply);
    request->header = NULL;
    if (rc) {
        s_back_off (self, what);
        return NULL;
    }
    Pmo__RegistryReply *answer = (Pmo__RegistryReply *)reply;
    if (answer->error && answer->error->retryable) {
        //  The registry answered but its store is down: the same as no answer
        pmo_warn ("orgtree: the registry refused %s code=%s message=\"%s\"", what,
                  pmo_error_code_name (answer->error->code), answer->error->message);
        protobuf_c_message_free_unpacked (reply, NULL);
        s_back_off (self, what);
        return NULL;
    }
    s_answered (self);
    return answer;
}

static void s_division_note (orgtree_t *self, const char *division)
{
    if (pmo_str_empty (division))
        return;
    for (size_t i = 0; i < self->n_divisions; i++)
        if (streq (self->divisions[i], division))
            return;
    char **grown = realloc (self->divisions, (self->n_divisions + 2) * sizeof (char *));
    assert (grown);
    self->divisions = grown;
    self->divisions[self->n_divisions] = strdup (division);
    assert (self->divisions[self->n_divisions]);
    self->divisions[++self->n_divisions] = NULL;
}

//  A heap copy of unit (freed with protobuf_c_message_free_unpacked).
static Pmo__OrgUnit *s_copy (const Pmo__OrgUnit *unit)
{
    Pmo__OrgUnit *copy = (Pmo__OrgUnit *)pmo_reflect_dup (&unit->base);
    assert (copy);
    return copy;
}

//  Keep a copy of unit, replacing what was held for its id.
static entry_t *s_keep (orgtree_t *self, const Pmo__OrgUnit *unit, bool effective)
{
    entry_t *entry = calloc (1, sizeof (entry_t));
    assert (entry);
    entry->unit = s_copy (unit);
    entry->read_ms = pmo_mono_ms ();
    entry->effective = effective;
    entry_t *old = zhashx_lookup (self->entries, unit->id);
    if (old)
        entry->index = old->index;
    else {
        if (self->n_list == self->list_size) {
            self->list_size = self->list_size ? self->list_size * 2 : 64;
            self->list = realloc (self->list, self->list_size * sizeof (entry_t *));
            assert (self->list);
        }
        entry->index = self->n_list++;
    }
    self->list[entry->index] = entry;
    zhashx_update (self->entries, unit->id, entry);
    s_division_note (self, unit->division);
    self->generation++;
    return entry;
}

//  Read one unit with a get. 1 kept, 0 no such unit, -1 no answer.
//  Get one entity of kind from the registry: the reply (caller frees) in
//  *reply and 1, 0 no such entity (a malformed id names none either), -1
//  no answer, backing off, or another refusal.
static int s_get_entity (orgtree_t *self, Pmo__EntityKind kind, const char *id,
                         Pmo__RegistryReply **reply)
{
    *reply = NULL;
    if (orgtree_backing_off (self))
        return -1;
    Pmo__GetRequest get = PMO__GET_REQUEST__INIT;
    get.kind = kind;
    get.id = (char *)id;
    Pmo__RegistryRequest request = PMO__REGISTRY_REQUEST__INIT;
    request.body_case = PMO__REGISTRY_REQUEST__BODY_GET;
    request.get = &get;
    Pmo__RegistryReply *answer = s_ask (self, &request, "a get");
    if (!answer)
        return -1;
    if (!answer->error) {
        *reply = answer;
        return 1;
    }
    int rc = 0;
    if (answer->error->code != PMO__ERROR_CODE__ERROR_NOT_FOUND &&
        answer->error->code != PMO__ERROR_CODE__ERROR_INVALID) {
        pmo_warn ("orgtree: the registry refused a get id=%.40s code=%s", id,
                  pmo_error_code_name (answer->error->code));
        rc = -1;
    }
    protobuf_c_message_free_unpacked (&answer->base, NULL);
    return rc;
}

//  Read one unit with a get. 1 kept, 0 no such unit, -1 no answer.
static int s_get (orgtree_t *self, const char *id, entry_t **entry)
{
    Pmo__RegistryReply *reply;
    int rc = s_get_entity (self, PMO__ENTITY_KIND__ENTITY_KIND_ORG_UNIT, id, &reply);
    if (rc <= 0)
        return rc;
    rc = -1;
    if (reply->body_case == PMO__REGISTRY_REPLY__BODY_ORG_UNIT && reply->org_unit) {
        *entry = s_keep (self, reply->org_unit, true);
        rc = 1;
    }
    protobuf_c_message_free_unpacked (&reply->base, NULL);
    return rc;
}

int orgtree_project (orgtree_t *self, const char *id, pmo_arena_t *arena, Pmo__Project **project)
{
    assert (self && arena && project);
    *project = NULL;
    if (pmo_str_empty (id))
        return 0;
    Pmo__RegistryReply *reply;
    int rc = s_get_entity (self, PMO__ENTITY_KIND__ENTITY_KIND_PROJECT, id, &reply);
    if (rc <= 0)
        return rc;
    rc = -1;
    if (reply->body_case == PMO__REGISTRY_REPLY__BODY_PROJECT && reply->project) {
        *project = (Pmo__Project *)pmo_reflect_copy (&reply->project->base, arena);
        rc = 1;
    }
    protobuf_c_message_free_unpacked (&reply->base, NULL);
    return rc;
}

//  A code asked of the registry (in one division, or in every one the
//  tree's identity reads when division is NULL): 1 with the project copied
//  into arena, 0 none, -2 several divisions, -1 unavailable.
static int s_get_code (orgtree_t *self, const char *code, const char *division, pmo_arena_t *arena,
                       Pmo__Project **project)
{
    if (orgtree_backing_off (self))
        return -1;
    Pmo__GetRequest get = PMO__GET_REQUEST__INIT;
    get.kind = PMO__ENTITY_KIND__ENTITY_KIND_PROJECT;
    get.id = (char *)code;
    get.division = (char *)(division ? division : "");
    Pmo__RegistryRequest request = PMO__REGISTRY_REQUEST__INIT;
    request.body_case = PMO__REGISTRY_REQUEST__BODY_GET;
    request.get = &get;
    Pmo__RegistryReply *reply = s_ask (self, &request, "a project code");
    if (!reply)
        return -1;
    int rc = -1;
    if (!reply->error && reply->body_case == PMO__REGISTRY_REPLY__BODY_PROJECT && reply->project) {
        *project = (Pmo__Project *)pmo_reflect_copy (&reply->project->base, arena);
        rc = 1;
    } else if (reply->error && reply->error->code == PMO__ERROR_CODE__ERROR_NOT_FOUND)
        rc = 0;
    else if (reply->error && reply->error->code == PMO__ERROR_CODE__ERROR_INVALID)
        rc = -2; //  a code is never malformed to a get: it names several
    else
        pmo_warn ("orgtree: the registry refused a project code code=%s",
                  reply->error ? pmo_error_code_name (reply->error->code) : "no project");
    protobuf_c_message_free_unpacked (&reply->base, NULL);
    return rc;
}

int orgtree_project_id (orgtree_t *self, const char *text, pmo_arena_t *arena, const char **id,
                        Pmo__Project **project)
{
    assert (self && arena && id);
    *id = NULL;
    if (project)
        *project = NULL;
    if (pmo_str_empty (text))
        return 0;
    char division[40];
    if (pmo_id_division (text, "pr", division, sizeof division) == 0) {
        *id = text;
        return 1;
    }
    if (!pmo_code_valid (text))
        return -3;
    Pmo__Project *found = NULL;
    int rc = s_get_code (self, text, NULL, arena, &found);
    if (rc == 1) {
        *id = found->id;
        if (project)
            *project = found;
    }
    return rc;
}

static entry_t *s_known (orgtree_t *self, const char *id);

//  A code several divisions use, narrowed to the caller's view: a get in
//  each division of the caller's grants, kept if may_see lets the caller
//  read it. A grant above the divisions (the enterprise) sees them all:
//  the code stays ambiguous. 1, 0, -2 or -1 as orgtree_project_id.
static int s_narrow (orgtree_t *self, const orgtree_resolver_t *r, pmo_request_t *req,
                     const char *code, const char **id, const char **path)
{
    const Pmo__Identity *who = pmo_request_who (req);
    if (!who || who->n_grants == 0)
        return -2;
    const char **asked = pmo_arena_alloc (req->arena, who->n_grants * sizeof (char *));
    size_t n_asked = 0;
    size_t found = 0;
    for (size_t i = 0; i < who->n_grants; i++) {
        entry_t *unit = s_known (self, who->grants[i]->org_unit);
        if (!unit)
            continue; //  a unit that is gone grants nothing
        if (unit->unit->kind == PMO__ORG_UNIT_KIND__ORG_UNIT_KIND_ENTERPRISE)
            return -2; //  the enterprise reads every division
        const char *division = unit->unit->division;
        bool seen = false;
        for (size_t k = 0; k < n_asked && !seen; k++)
            seen = streq (asked[k], division);
        if (seen)
            continue;
        asked[n_asked++] = division;
        Pmo__Project *project;
        int rc = s_get_code (self, code, division, req->arena, &project);
        if (rc < 0)
            return rc == -2 ? -2 : -1;
        if (rc == 0 || (r->may_see && !r->may_see (who, project->org_unit_path)))
            continue;
        *id = project->id;
        *path = project->org_unit_path;
        found++;
    }
    return found > 1 ? -2 : (int)found;
}

static int s_tree_lookup (const orgtree_resolver_t *r, pmo_request_t *req, const char *text,
                          const char **id, const char **path)
{
    orgtree_t *self = r->state;
    Pmo__Project *project;
    int rc = orgtree_project_id (self, text, req->arena, id, &project);
    *path = rc == 1 && project ? project->org_unit_path : NULL;
    if (rc == -2)
        rc = s_narrow (self, r, req, text, id, path);
    return rc;
}

static bool s_is_reference (const char *name)
{
    return streq (name, "project_id") || streq (name, "depends_on_project");
}

//  A list of projects (a benefit's project_ids)
static bool s_is_references (const char *name)
{
    return streq (name, "project_ids");
}

//  Where a reference is in the request: a field (name) or an item of a
//  repeated field (index) under up. Spelt out ("import_batch.items[3].
//  create_allocation.request.project_id") only when a reference fails: a
//  batch of a thousand items has tens of thousands of fields, and printing
//  each one's path cost more than resolving the references.
typedef struct s_path {
    const struct s_path *up;
    const char *name; //  NULL for an item
    size_t index;
} s_path_t;

static const char *s_path_text (pmo_arena_t *arena, const s_path_t *path)
{
    if (!path)
        return "";
    const char *up = s_path_text (arena, path->up);
    if (!path->name)
        return pmo_arena_printf (arena, "%s[%zu]", up, path->index);
    return *up ? pmo_arena_printf (arena, "%s.%s", up, path->name)
               : pmo_arena_strdup (arena, path->name);
}

//  Resolve the reference in *slot, at path (or, when path is NULL, at the
//  place at spells out). 0, or -1 after failing.
static int s_resolve_slot (const orgtree_resolver_t *r, pmo_request_t *req, char **slot,
                           const char *path, const s_path_t *at)
{
    if (pmo_str_empty (*slot))
        return 0;
    const char *text = *slot;
    const char *id = NULL;
    const char *project_path = NULL;
    int rc = r->lookup (r, req, text, &id, &project_path);
    if (rc == 1 && project_path && r->may_see && !r->may_see (pmo_request_who (req), project_path))
        rc = 0; //  as if it did not exist, so codes cannot be probed
    if (rc == 1) {
        *slot = (char *)id;
        return 0;
    }
    if (!path)
        path = s_path_text (req->arena, at);
    if (rc == 0)
        FAIL (req, NOT_FOUND, path, "no project with id or code '%.64s'", text);
    else if (rc == -3)
        FAIL (req, INVALID, path, "'%.64s' is neither a project id (pr_<division>_<n>) nor a code",
              text);
    else if (rc == -2)
        FAIL (req, INVALID, path,
              "code '%.64s' names projects in more than one division: give the project's id", text);
    else
        pmo_request_unavailable (req, r->registry_name);
    return -1;
}

int orgtree_resolve_reference (const orgtree_resolver_t *r, pmo_request_t *req, char **slot,
                               const char *path)
{
    return s_resolve_slot (r, req, slot, path, NULL);
}

static int s_resolve_message (const orgtree_resolver_t *r, pmo_request_t *req,
                              ProtobufCMessage *msg, const s_path_t *path)
{
    const ProtobufCMessageDescriptor *desc = msg->descriptor;
    //  A foreign allocation (a booking across divisions, through the hub)
    //  names the requesting division's project, kept in another stack's
    //  registry: not one of this registry's to resolve
    if (streq (desc->short_name, "ForeignAllocation"))
        return 0;
    for (unsigned i = 0; i < desc->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &desc->fields[i];
        char *slot = (char *)msg + f->offset;
        if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
            *(uint32_t *)((char *)msg + f->quantifier_offset) != f->id)
            continue;
        s_path_t field = {path, f->name, 0};
        if (f->type == PROTOBUF_C_TYPE_STRING && f->label != PROTOBUF_C_LABEL_REPEATED &&
            s_is_reference (f->name)) {
            if (s_resolve_slot (r, req, (char **)slot, NULL, &field))
                return -1;
        } else if (f->type == PROTOBUF_C_TYPE_STRING && f->label == PROTOBUF_C_LABEL_REPEATED &&
                   s_is_references (f->name)) {
            size_t n = *(size_t *)((char *)msg + f->quantifier_offset);
            char **items = *(char ***)slot;
            for (size_t k = 0; k < n; k++) {
                s_path_t item = {&field, NULL, k};
                if (s_resolve_slot (r, req, &items[k], NULL, &item))
                    return -1;
            }
        } else if (f->type == PROTOBUF_C_TYPE_MESSAGE && f->label == PROTOBUF_C_LABEL_REPEATED) {
            size_t n = *(size_t *)((char *)msg + f->quantifier_offset);
            ProtobufCMessage **items = *(ProtobufCMessage ***)slot;
            for (size_t k = 0; k < n; k++) {
                s_path_t item = {&field, NULL, k};
                if (items[k] && s_resolve_message (r, req, items[k], &item))
                    return -1;
            }
        } else if (f->type == PROTOBUF_C_TYPE_MESSAGE && *(ProtobufCMessage **)slot &&
                   !streq (f->name, "header")) {
            if (s_resolve_message (r, req, *(ProtobufCMessage **)slot, &field))
                return -1;
        }
    }
    return 0;
}

int orgtree_resolve_request (const orgtree_resolver_t *resolver, pmo_request_t *req)
{
    assert (resolver && resolver->lookup && req && resolver->registry_name);
    if (!req->request)
        return 0;
    //  The request was decoded into the request's arena: its strings may
    //  be replaced by arena copies
    return s_resolve_message (resolver, req, (ProtobufCMessage *)req->request, NULL);
}

int orgtree_resolve_projects (orgtree_t *self, pmo_request_t *req, orgtree_may_see_fn *may_see,
                              const char *registry_name)
{
    assert (self);
    orgtree_resolver_t r = {s_tree_lookup, self, may_see, registry_name};
    return orgtree_resolve_request (&r, req);
}

static bool s_fresh (const orgtree_t *self, const entry_t *entry)
{
    return entry->read_ms >= self->valid_after_ms &&
           pmo_mono_ms () - entry->read_ms < self->config.max_age_ms;
}

int orgtree_unit (orgtree_t *self, const char *id, pmo_arena_t *arena, Pmo__OrgUnit **unit)
{
    assert (self && arena && unit);
    *unit = NULL;
    if (pmo_str_empty (id))
        return 0;
    entry_t *entry = zhashx_lookup (self->entries, id);
    if (!entry || !entry->effective || !s_fresh (self, entry)) {
        int rc = s_get (self, id, &entry);
        if (rc <= 0)
            return rc;
    }
    *unit = (Pmo__OrgUnit *)pmo_reflect_copy (&entry->unit->base, arena);
    return 1;
}

int orgtree_unit_or_held (orgtree_t *self, const char *id, pmo_arena_t *arena, Pmo__OrgUnit **unit,
                          bool *stale)
{
    assert (stale);
    *stale = false;
    int rc = orgtree_unit (self, id, arena, unit);
    if (rc >= 0)
        return rc;
    const Pmo__OrgUnit *held = orgtree_held (self, id);
    if (!held)
        return -1;
    *unit = (Pmo__OrgUnit *)pmo_reflect_copy (&held->base, arena);
    *stale = true;
    return 1;
}

int orgtree_refresh (orgtree_t *self, bool force)
{
    assert (self);
    int64_t now = pmo_mono_ms ();
    if (!force && self->tree_read_ms && self->tree_read_ms >= self->valid_after_ms &&
        now - self->tree_read_ms < self->config.max_age_ms)
        return 0;
    if (orgtree_backing_off (self))
        return -1;
    self->forcing = force;
    Pmo__ListRequest list;
    Pmo__RegistryRequest request = PMO__REGISTRY_REQUEST__INIT;
    request.body_case = PMO__REGISTRY_REQUEST__BODY_LIST;
    request.list = &list;
    //  The same paging a fed tree goes through: nothing changes before the
    //  last page, since a tree half old, half new would be worse than the
    //  old one
    Pmo__RegistryReply *reply = NULL;
    const char *cursor = NULL;
    int rc;
    do {
        orgtree_list_page (self, &list, cursor);
        Pmo__RegistryReply *answer = s_ask (self, &request, "a list of org units");
        //  cursor pointed into the previous reply: it is sent, let it go
        if (reply)
            protobuf_c_message_free_unpacked (&reply->base, NULL);
        reply = answer;
        if (!reply) {
            zlistx_purge (self->gathered);
            rc = -1;
            break;
        }
        rc = orgtree_feed (self, reply, &cursor);
    } while (rc == 0);
    if (reply)
        protobuf_c_message_free_unpacked (&reply->base, NULL);
    return rc == 1 ? 0 : -1;
}

void orgtree_list_page (orgtree_t *self, Pmo__ListRequest *list, const char *cursor)
{
    assert (self && list);
    pmo__list_request__init (list);
    list->kind = PMO__ENTITY_KIND__ENTITY_KIND_ORG_UNIT;
    list->include_archived = true;
    list->limit = PAGE_LIMIT;
    list->cursor = (char *)(cursor ? cursor : "");
    //  The tree held, read whole and not invalidated since: the registry
    //  answers "not modified" if it has not changed
    if (!cursor && !self->forcing && self->tree_read_ms &&
        self->tree_read_ms >= self->valid_after_ms)
        list->unless_generation = self->registry_generation;
    self->forcing = false;
    if (!cursor)
        zlistx_purge (self->gathered);
}

int orgtree_feed (orgtree_t *self, const Pmo__RegistryReply *reply, const char **cursor)
{
    assert (self && reply && cursor);
    *cursor = NULL;
    if (reply->error || reply->body_case != PMO__REGISTRY_REPLY__BODY_PAGE || !reply->page) {
        pmo_warn ("orgtree: org units not readable error=\"%s\"",
                  reply->error ? reply->error->message : "no page");
        zlistx_purge (self->gathered);
        return -1;
    }
    if (reply->page->not_modified) {
        //  What we hold is the tree as it is
        zlistx_purge (self->gathered);
        self->tree_read_ms = pmo_mono_ms ();
        return 1;
    }
    if (!pmo_str_empty (reply->page->generation))
        snprintf (self->registry_generation, sizeof self->registry_generation, "%s",
                  reply->page->generation);
    for (size_t i = 0; i < reply->page->n_org_units; i++)
        zlistx_add_end (self->gathered, s_copy (reply->page->org_units[i]));
    if (!pmo_str_empty (reply->page->next_cursor)) {
        *cursor = reply->page->next_cursor;
        return 0;
    }
    zhashx_purge (self->entries);
    self->n_list = 0;
    s_divisions_clear (self);
    for (Pmo__OrgUnit *unit = zlistx_first (self->gathered); unit;
         unit = zlistx_next (self->gathered))
        s_keep (self, unit, false);
    zlistx_purge (self->gathered);
    self->tree_read_ms = pmo_mono_ms ();
    return 1;
}

void orgtree_invalidate (orgtree_t *self)
{
    assert (self);
    //  Strictly after everything read so far, so a read in this same
    //  millisecond counts as stale too
    self->valid_after_ms = pmo_mono_ms () + 1;
}

//  The entry for id, asking the registry only if the tree does not hold it
//  (paths and divisions never change once a unit exists).
static entry_t *s_known (orgtree_t *self, const char *id)
{
    if (pmo_str_empty (id))
        return NULL;
    entry_t *entry = zhashx_lookup (self->entries, id);
    if (!entry && s_get (self, id, &entry) <= 0)
        return NULL;
    return entry;
}

const char *orgtree_path (orgtree_t *self, const char *id)
{
    entry_t *entry = s_known (self, id);
    return entry ? entry->unit->path : NULL;
}

const char *orgtree_division (orgtree_t *self, const char *id)
{
    entry_t *entry = s_known (self, id);
    return entry ? entry->unit->division : NULL;
}

const Pmo__OrgUnit *orgtree_held (const orgtree_t *self, const char *id)
{
    assert (self);
    entry_t *entry = pmo_str_empty (id) ? NULL : zhashx_lookup (self->entries, id);
    return entry ? entry->unit : NULL;
}

const Pmo__OrgUnit *orgtree_at (orgtree_t *self, size_t i)
{
    return i < self->n_list ? self->list[i]->unit : NULL;
}

const char *orgtree_division_at (orgtree_t *self, size_t i)
{
    return i < self->n_divisions ? self->divisions[i] : NULL;
}

uint64_t orgtree_generation (const orgtree_t *self)
{
    return self->generation;
}
