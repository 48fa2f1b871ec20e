/*  registry_import.c: many rows of a spreadsheet in one request, and the
    newest status reports of many projects in one request.

    import_batch follows the order of the single handlers, for every item:
    1. stateless checks (registry_model.c's validation) and who may act,
       where the org structure says each item lives;
    2. the stored reply if this request id was already done (a retry);
    3. checks against the stored state: versions read, unique codes, ids;
    4. one commit for the whole batch: every entity, its indexes, its event
       (one per entity, in the division's stream) and the reply.
    A batch is all or nothing unless skip_bad is set; a dry run stops after
    step 3. A commit refused by Redis (a concurrent change since step 3)
    writes nothing.
*/
#include "registry_import.h"
#include "registry_model.h"

#include "importbatch.h"

#include "pmo_log.h"
#include "pmo_reflect.h"

#include <assert.h>
#include <string.h>

#define IDEM_TTL_S   86400 //  as for every change: a done request's reply, for retries
#define LATEST_MAX_N 5

//  One item of the batch as it is being checked.
typedef struct {
    Pmo__ImportItem *item;
    ProtobufCMessage *entity;    //  the item's body
    const registry_kind_t *kind; //  what it is
    bool create;                 //  create (or submit) rather than update
    Pmo__OrgUnit *unit;          //  the org unit it lives in (org units: itself)
    const char *path;            //  the path that decides who may change it
    ProtobufCMessage *stored;    //  updates: the stored entity
    uint64_t stored_version;     //  ... and its version
    Pmo__Project *project;       //  milestones and reports: their project
    int project_item;            //  ... created by this item of the batch, else -1
    Pmo__ImportItemResult *result;
    bool failed;
} entry_t;

typedef struct {
    registry_store_t *store;
    zsock_t *pub;
    pmo_request_t *req;
    const char *hub;
    Pmo__ImportBatchRequest *batch;
    zhashx_t *units;     //  id -> Pmo__OrgUnit, stored (and planned, for a dry run)
    zhashx_t *new_units; //  id -> Pmo__OrgUnit created by this batch
    zhashx_t *codes;     //  project code -> entry index + 1, claimed in this batch
    zhashx_t *owners;    //  project code -> its holder's id, "" if free (asked at once)
    entry_t *entries;
    size_t n;
    size_t failures;
} batch_t;

//  Fail one item: the error names its field under the item's body.
static void s_item_fail (batch_t *b, entry_t *e, Pmo__ErrorCode code, const char *field,
                         const char *format, ...) __attribute__ ((format (printf, 5, 6)));
static void s_item_fail (batch_t *b, entry_t *e, Pmo__ErrorCode code, const char *field,
                         const char *format, ...)
{
    va_list args;
    va_start (args, format);
    if (importbatch_failv (b->req->arena, e->result, pmo_wire_oneof_name (&e->item->base), code,
                           field, format, args)) {
        e->failed = true;
        b->failures++;
    }
    va_end (args);
}

static void s_item_problem (batch_t *b, entry_t *e, const pmo_problem_t *problem)
{
    s_item_fail (b, e, problem->code, problem->field, "%s", problem->message);
}

static Pmo__OrgUnit *s_unit (batch_t *b, const char *id)
{
    if (pmo_str_empty (id))
        return NULL;
    Pmo__OrgUnit *unit = zhashx_lookup (b->new_units, id);
    return unit ? unit : zhashx_lookup (b->units, id);
}

//  The units from the root down to path's last one; NULL if one is unknown.
static Pmo__OrgUnit **s_chain (batch_t *b, const char *path, size_t *n)
{
    char *copy = pmo_arena_strdup (b->req->arena, path);
    Pmo__OrgUnit **chain = pmo_arena_alloc (b->req->arena, 64 * sizeof (void *));
    *n = 0;
    char *save = NULL;
    for (char *part = strtok_r (copy, "/", &save); part && *n < 64;
         part = strtok_r (NULL, "/", &save)) {
        chain[*n] = s_unit (b, part);
        if (!chain[*n])
            return NULL;
        (*n)++;
    }
    return chain;
}

//  The registry's access rule, failing the item (not the whole request) in
//  pmo_request_may's words.
static bool s_item_may (batch_t *b, entry_t *e, registry_action_t action, const char *path,
                        const char *what)
{
    if (registry_allowed (pmo_request_who (b->req), action, path))
        return true;
    s_item_fail (b, e, PMO__ERROR_CODE__ERROR_FORBIDDEN, "", "%s may not %s in '%s'",
                 pmo_request_who (b->req)->subject, what, path);
    return false;
}

//  A project named by a milestone or report: by id, else by code (this
//  batch's new projects first). Sets e->project (and e->project_item).
static void s_resolve_project (batch_t *b, entry_t *e)
{
    pmo_arena_t *arena = b->req->arena;
    const char *id = pmo_reflect_str (e->entity, "project_id");
    e->project_item = -1;
    if (pmo_str_empty (id) && !pmo_str_empty (e->item->project_code)) {
        size_t index = (size_t)zhashx_lookup (b->codes, e->item->project_code);
        if (index) {
            entry_t *owner = &b->entries[index - 1];
            e->project_item = (int)(index - 1);
            e->project = (Pmo__Project *)owner->entity;
            //  Its id is assigned at the commit (s_stamp); until then the
            //  code stands in, so the validation sees a project named
            pmo_reflect_set_str (e->entity, "project_id", e->item->project_code, arena);
            return;
        }
        char *owned;
        int rc = registry_store_code_owner (b->store, arena,
                                            registry_kind (PMO__ENTITY_KIND__ENTITY_KIND_PROJECT),
                                            b->batch->division, e->item->project_code, &owned);
        if (rc < 0)
            return s_item_fail (b, e, PMO__ERROR_CODE__ERROR_UNAVAILABLE, "",
                                "the registry's store is unavailable; retry shortly");
        if (rc == 0)
            return s_item_fail (b, e, PMO__ERROR_CODE__ERROR_NOT_FOUND, "project_id",
                                "no project with code '%.64s' in division '%s'",
                                e->item->project_code, b->batch->division);
        id = owned;
    }
    if (pmo_str_empty (id))
        return s_item_fail (b, e, PMO__ERROR_CODE__ERROR_INVALID, "project_id",
                            "project_id (or the item's project_code) is required");
    ProtobufCMessage *msg = NULL;
    int rc = registry_store_read (
        b->store, arena, registry_kind (PMO__ENTITY_KIND__ENTITY_KIND_PROJECT), id, &msg, NULL);
    if (rc < 0)
        return s_item_fail (b, e, PMO__ERROR_CODE__ERROR_UNAVAILABLE, "",
                            "the registry's store is unavailable; retry shortly");
    Pmo__Project *project = (Pmo__Project *)msg;
    if (rc == 0 ||
        !registry_allowed (pmo_request_who (b->req), REGISTRY_READ, project->org_unit_path))
        return s_item_fail (b, e, PMO__ERROR_CODE__ERROR_NOT_FOUND, "project_id",
                            "no project with id '%.64s'", id);
    if (strcmp (project->division, b->batch->division) != 0)
        return s_item_fail (b, e, PMO__ERROR_CODE__ERROR_INVALID, "project_id",
                            "project %s is in division '%s', not this batch's '%s'", project->id,
                            project->division, b->batch->division);
    e->project = project;
    pmo_reflect_set_str (e->entity, "project_id", project->id, arena);
}

//  ---------------------------------------------------------------------
//  Step 1: stateless checks and who may act

static void s_locate_org_unit (batch_t *b, entry_t *e)
{
    Pmo__OrgUnit *unit = (Pmo__OrgUnit *)e->entity;
    pmo_problem_t problem;
    if (strcmp (b->batch->division, b->hub) != 0)
        return s_item_fail (b, e, PMO__ERROR_CODE__ERROR_INVALID, "",
                            "org units are imported in a batch of the hub's division '%s'", b->hub);
    if (registry_check_org_unit (unit, &problem))
        return s_item_problem (b, e, &problem);
    if (!e->create) {
        Pmo__OrgUnit *stored = zhashx_lookup (b->units, unit->id);
        if (!stored)
            return s_item_fail (b, e, PMO__ERROR_CODE__ERROR_NOT_FOUND, "id",
                                "no org unit with id '%s'", unit->id);
        if (unit->kind != stored->kind || strcmp (unit->parent ? unit->parent : "", stored->parent))
            return s_item_fail (b, e, PMO__ERROR_CODE__ERROR_INVALID, "parent",
                                "an org unit's kind and parent do not change");
        e->stored = &stored->base;
        e->stored_version = stored->version;
        unit->path = stored->path;
        unit->division = stored->division;
    } else if (unit->kind == PMO__ORG_UNIT_KIND__ORG_UNIT_KIND_ENTERPRISE) {
        if (strcmp (unit->id, b->hub) != 0)
            return s_item_fail (b, e, PMO__ERROR_CODE__ERROR_INVALID, "id",
                                "the enterprise unit's id must be '%s'", b->hub);
        unit->path = unit->id;
        unit->division = unit->id;
    } else {
        Pmo__OrgUnit *parent = s_unit (b, unit->parent);
        if (!parent)
            return s_item_fail (b, e, PMO__ERROR_CODE__ERROR_NOT_FOUND, "parent",
                                "no org unit with id '%.64s'", unit->parent);
        if (parent->archived)
            return s_item_fail (b, e, PMO__ERROR_CODE__ERROR_FAILED_PRECONDITION, "parent",
                                "org unit '%s' is archived", parent->id);
        bool division = unit->kind == PMO__ORG_UNIT_KIND__ORG_UNIT_KIND_DIVISION;
        bool under_root = parent->kind == PMO__ORG_UNIT_KIND__ORG_UNIT_KIND_ENTERPRISE;
        if (division != under_root)
            return s_item_fail (b, e, PMO__ERROR_CODE__ERROR_INVALID, "parent",
                                division ? "a division's parent is the enterprise, not '%s'"
                                         : "a department sits in a division or department, "
                                           "not the enterprise '%s'",
                                parent->id);
        if (strcmp (unit->id, b->hub) == 0)
            return s_item_fail (b, e, PMO__ERROR_CODE__ERROR_ALREADY_EXISTS, "id",
                                "'%s' is the hub's id", unit->id);
        unit->path = pmo_arena_printf (b->req->arena, "%s/%s", parent->path, unit->id);
        unit->division = division ? unit->id : parent->division;
    }
    if (!pmo_str_empty (unit->parent)) {
        size_t n;
        const char *slash = strrchr (unit->path, '/');
        char *parent_path = pmo_arena_strdup (b->req->arena, unit->path);
        parent_path[slash - unit->path] = 0;
        Pmo__OrgUnit **ancestors = s_chain (b, parent_path, &n);
        if (!ancestors)
            return s_item_fail (b, e, PMO__ERROR_CODE__ERROR_INTERNAL, "parent",
                                "an org unit on path '%s' is missing", parent_path);
        if (registry_check_policy (ancestors, n, unit, &problem))
            return s_item_problem (b, e, &problem);
    }
    e->unit = unit;
    e->path = unit->path;
    if (!s_item_may (b, e, REGISTRY_ADMIN_ORG, unit->path,
                     e->create ? "create org units" : "change org units"))
        return;
    if (e->create) {
        if (zhashx_lookup (b->new_units, unit->id))
            return s_item_fail (b, e, PMO__ERROR_CODE__ERROR_ALREADY_EXISTS, "id",
                                "org unit '%s' is created twice in this batch", unit->id);
        zhashx_insert (b->new_units, unit->id, unit);
    }
}

static void s_locate_project (batch_t *b, entry_t *e)
{
    Pmo__Project *p = (Pmo__Project *)e->entity;
    pmo_problem_t problem;
    if (e->create)
        p->id = NULL;
    if (registry_check_project (p, &problem))
        return s_item_problem (b, e, &problem);
    Pmo__OrgUnit *unit = s_unit (b, p->org_unit);
    if (!unit)
        return s_item_fail (b, e, PMO__ERROR_CODE__ERROR_NOT_FOUND, "org_unit",
                            "no org unit with id '%.64s'", p->org_unit);
    if (unit->archived)
        return s_item_fail (b, e, PMO__ERROR_CODE__ERROR_FAILED_PRECONDITION, "org_unit",
                            "org unit '%s' is archived", unit->id);
    if (strcmp (unit->division, b->batch->division) != 0)
        return s_item_fail (b, e, PMO__ERROR_CODE__ERROR_INVALID, "org_unit",
                            "org unit '%s' is in division '%s', not this batch's '%s'", unit->id,
                            unit->division, b->batch->division);
    e->unit = unit;
    e->path = unit->path;
    if (!s_item_may (b, e, REGISTRY_WRITE_PROJECT, unit->path,
                     e->create ? "create projects" : "change projects"))
        return;
    //  Codes new in this batch, for its milestones and reports and for
    //  duplicates within the file
    size_t index = (size_t)(e - b->entries) + 1;
    size_t other = (size_t)zhashx_lookup (b->codes, p->code);
    if (other)
        return s_item_fail (b, e, PMO__ERROR_CODE__ERROR_ALREADY_EXISTS, "code",
                            "code '%s' is also used by row %u of this import", p->code,
                            b->entries[other - 1].item->row);
    zhashx_insert (b->codes, p->code, (void *)index);
}

static void s_locate_child (batch_t *b, entry_t *e)
{
    pmo_problem_t problem;
    bool report = e->kind->kind == PMO__ENTITY_KIND__ENTITY_KIND_STATUS_REPORT;
    s_resolve_project (b, e);
    if (e->failed)
        return;
    if (report ? registry_check_status_report ((Pmo__StatusReport *)e->entity, &problem)
               : registry_check_milestone ((Pmo__Milestone *)e->entity, &problem))
        return s_item_problem (b, e, &problem);
    if (e->project_item >= 0) {
        //  A project of this batch: where its own item says it lives
        entry_t *owner = &b->entries[e->project_item];
        if (owner->failed || !owner->unit)
            return s_item_fail (b, e, PMO__ERROR_CODE__ERROR_FAILED_PRECONDITION, "project_id",
                                "its project (row %u) failed", owner->item->row);
        e->path = owner->path;
        e->unit = owner->unit;
    } else {
        e->path = e->project->org_unit_path;
        e->unit = s_unit (b, e->project->org_unit);
    }
    if (!e->unit)
        return s_item_fail (b, e, PMO__ERROR_CODE__ERROR_INTERNAL, "project_id",
                            "the project's org unit '%s' is missing", e->project->org_unit);
    s_item_may (b, e, REGISTRY_WRITE_PROJECT, e->path,
                report ? "submit status reports"
                       : (e->create ? "add milestones" : "change milestones"));
}

//  ---------------------------------------------------------------------
//  Step 3: checks against the stored state

//  A portfolio or programme a project names: live, same division, at or
//  above the project's unit (as the single requests require).
static void s_check_container (batch_t *b, entry_t *e, Pmo__EntityKind which, const char *id,
                               const char *field)
{
    if (pmo_str_empty (id) || e->failed)
        return;
    ProtobufCMessage *msg = NULL;
    int rc = registry_store_read (b->store, b->req->arena, registry_kind (which), id, &msg, NULL);
    if (rc < 0)
        return s_item_fail (b, e, PMO__ERROR_CODE__ERROR_UNAVAILABLE, "",
                            "the registry's store is unavailable; retry shortly");
    if (rc == 0)
        return s_item_fail (b, e, PMO__ERROR_CODE__ERROR_NOT_FOUND, field, "no %s with id '%.64s'",
                            registry_kind (which)->name, id);
    char their[40];
    registry_store_division (b->store, registry_kind (which), id, their, sizeof their);
    if (pmo_reflect_bool (msg, "archived"))
        return s_item_fail (b, e, PMO__ERROR_CODE__ERROR_FAILED_PRECONDITION, field,
                            "'%s' is archived", id);
    const char *unit = pmo_reflect_str (msg, "org_unit");
    if (strcmp (their, e->unit->division) != 0 || !pmo_path_contains (e->path, unit))
        return s_item_fail (b, e, PMO__ERROR_CODE__ERROR_INVALID, field,
                            "'%s' belongs to '%s', which is not at or above '%s'", id, unit,
                            e->path);
    if (which == PMO__ENTITY_KIND__ENTITY_KIND_PROGRAMME) {
        Pmo__Project *p = (Pmo__Project *)e->entity;
        const char *portfolio = ((Pmo__Programme *)msg)->portfolio_id;
        if (!pmo_str_empty (portfolio)) {
            if (pmo_str_empty (p->portfolio_id))
                p->portfolio_id = pmo_arena_strdup (b->req->arena, portfolio);
            else if (strcmp (p->portfolio_id, portfolio) != 0)
                s_item_fail (b, e, PMO__ERROR_CODE__ERROR_INVALID, "portfolio_id",
                             "programme '%s' is in portfolio '%s', not '%s'", id, portfolio,
                             p->portfolio_id);
        }
    }
}

static bool s_version_ok (batch_t *b, entry_t *e, uint64_t asked)
{
    if (asked == e->stored_version)
        return true;
    if (asked == 0)
        s_item_fail (b, e, PMO__ERROR_CODE__ERROR_INVALID, "version",
                     "version is required: the version of the %s you read", e->kind->name);
    else
        s_item_fail (b, e, PMO__ERROR_CODE__ERROR_CONFLICT, "version",
                     "the %s changed since you read it: you have version %llu, it is now %llu",
                     e->kind->name, (unsigned long long)asked,
                     (unsigned long long)e->stored_version);
    return false;
}

//  Who holds the codes the batch's new projects take: one HMGET for the
//  batch instead of one round trip per project (an import of 100,000 rows
//  spent 8% of its time in those). A code not asked here is asked alone.
static int s_ask_owners (batch_t *b)
{
    pmo_arena_t *arena = b->req->arena;
    const char **codes = pmo_arena_alloc (arena, b->n * sizeof (char *));
    size_t n = 0;
    for (size_t i = 0; i < b->n; i++) {
        entry_t *e = &b->entries[i];
        if (!e->failed && e->create && e->item->body_case == PMO__IMPORT_ITEM__BODY_CREATE_PROJECT)
            codes[n++] = ((Pmo__Project *)e->entity)->code;
    }
    char **ids = pmo_arena_alloc (arena, (n ? n : 1) * sizeof (char *));
    if (registry_store_code_owners (b->store, arena,
                                    registry_kind (PMO__ENTITY_KIND__ENTITY_KIND_PROJECT),
                                    b->batch->division, codes, n, ids))
        return -1;
    for (size_t i = 0; i < n; i++)
        zhashx_update (b->owners, codes[i], ids[i] ? ids[i] : "");
    return 0;
}

static void s_check_code_free (batch_t *b, entry_t *e, const char *code, const char *self_id)
{
    char *owner = e->kind->kind == PMO__ENTITY_KIND__ENTITY_KIND_PROJECT
                      ? zhashx_lookup (b->owners, code)
                      : NULL;
    int rc = owner ? *owner != 0
                   : registry_store_code_owner (b->store, b->req->arena, e->kind,
                                                b->batch->division, code, &owner);
    if (rc < 0)
        s_item_fail (b, e, PMO__ERROR_CODE__ERROR_UNAVAILABLE, "",
                     "the registry's store is unavailable; retry shortly");
    else if (rc == 1 && (!self_id || strcmp (owner, self_id) != 0))
        s_item_fail (b, e, PMO__ERROR_CODE__ERROR_ALREADY_EXISTS, "code",
                     "code '%s' is already used by %s in division '%s'", code, owner,
                     b->batch->division);
}

//  Read the stored entity an update names; fails the item if absent.
static bool s_read_stored (batch_t *b, entry_t *e)
{
    const char *id = pmo_reflect_str (e->entity, "id");
    char division[40];
    if (registry_store_division (b->store, e->kind, id, division, sizeof division) ||
        strcmp (division, b->batch->division) != 0) {
        s_item_fail (b, e, PMO__ERROR_CODE__ERROR_INVALID, "id",
                     "'%.64s' is not a %s id of division '%s'", id, e->kind->name,
                     b->batch->division);
        return false;
    }
    int rc =
        registry_store_read (b->store, b->req->arena, e->kind, id, &e->stored, &e->stored_version);
    if (rc < 0)
        s_item_fail (b, e, PMO__ERROR_CODE__ERROR_UNAVAILABLE, "",
                     "the registry's store is unavailable; retry shortly");
    else if (rc == 0)
        s_item_fail (b, e, PMO__ERROR_CODE__ERROR_NOT_FOUND, "id", "no %s with id '%.64s'",
                     e->kind->name, id);
    return rc == 1;
}

static void s_check_state (batch_t *b, entry_t *e)
{
    switch (e->kind->kind) {
    case PMO__ENTITY_KIND__ENTITY_KIND_ORG_UNIT: {
        Pmo__OrgUnit *unit = (Pmo__OrgUnit *)e->entity;
        if (e->create && zhashx_lookup (b->units, unit->id))
            s_item_fail (b, e, PMO__ERROR_CODE__ERROR_ALREADY_EXISTS, "id",
                         "an org unit with id '%s' exists", unit->id);
        else if (!e->create)
            s_version_ok (b, e, unit->version);
        break;
    }
    case PMO__ENTITY_KIND__ENTITY_KIND_PROJECT: {
        Pmo__Project *p = (Pmo__Project *)e->entity;
        if (e->create)
            s_check_code_free (b, e, p->code, NULL);
        else if (s_read_stored (b, e)) {
            Pmo__Project *stored = (Pmo__Project *)e->stored;
            if (!registry_allowed (pmo_request_who (b->req), REGISTRY_READ, stored->org_unit_path))
                s_item_fail (b, e, PMO__ERROR_CODE__ERROR_NOT_FOUND, "id",
                             "no project with id '%.64s'", p->id);
            else if (!s_item_may (b, e, REGISTRY_WRITE_PROJECT, stored->org_unit_path,
                                  "change projects"))
                ;
            else if (!s_version_ok (b, e, p->version))
                ;
            else if (p->phase != stored->phase)
                s_item_fail (b, e, PMO__ERROR_CODE__ERROR_FAILED_PRECONDITION, "phase",
                             "the phase changes only through its gate (it is %s here, %s in "
                             "the file): use change_phase or decide_gate",
                             registry_phase_name (stored->phase), registry_phase_name (p->phase));
            else if (strcmp (stored->code, p->code) != 0)
                s_check_code_free (b, e, p->code, p->id);
        }
        s_check_container (b, e, PMO__ENTITY_KIND__ENTITY_KIND_PROGRAMME, p->programme_id,
                           "programme_id");
        s_check_container (b, e, PMO__ENTITY_KIND__ENTITY_KIND_PORTFOLIO, p->portfolio_id,
                           "portfolio_id");
        if (!e->failed && p->n_depends_on) {
            ProtobufCMessage **found =
                pmo_arena_alloc (b->req->arena, p->n_depends_on * sizeof (void *));
            if (registry_store_read_many (b->store, b->req->arena, e->kind, p->depends_on,
                                          p->n_depends_on, found))
                return s_item_fail (b, e, PMO__ERROR_CODE__ERROR_UNAVAILABLE, "",
                                    "the registry's store is unavailable; retry shortly");
            for (size_t i = 0; i < p->n_depends_on; i++)
                if (!found[i])
                    return s_item_fail (b, e, PMO__ERROR_CODE__ERROR_NOT_FOUND,
                                        pmo_arena_printf (b->req->arena, "depends_on[%zu]", i),
                                        "no project with id '%s'", p->depends_on[i]);
        }
        break;
    }
    case PMO__ENTITY_KIND__ENTITY_KIND_MILESTONE:
    case PMO__ENTITY_KIND__ENTITY_KIND_STATUS_REPORT:
        if (e->project->archived)
            return s_item_fail (b, e, PMO__ERROR_CODE__ERROR_FAILED_PRECONDITION, "project_id",
                                "project %s is archived", e->project->id);
        if (e->project_item >= 0 && b->entries[e->project_item].failed)
            return s_item_fail (b, e, PMO__ERROR_CODE__ERROR_FAILED_PRECONDITION, "project_id",
                                "its project (row %u) failed",
                                b->entries[e->project_item].item->row);
        if (!e->create && s_read_stored (b, e)) {
            Pmo__Milestone *next = (Pmo__Milestone *)e->entity;
            if (strcmp (((Pmo__Milestone *)e->stored)->project_id, next->project_id) != 0)
                s_item_fail (b, e, PMO__ERROR_CODE__ERROR_INVALID, "project_id",
                             "a milestone stays with its project");
            else
                s_version_ok (b, e, next->version);
        }
        break;
    default:
        break;
    }
}

//  ---------------------------------------------------------------------
//  Step 4: the commit

static const char *s_event_type (entry_t *e)
{
    switch (e->kind->kind) {
    case PMO__ENTITY_KIND__ENTITY_KIND_ORG_UNIT:
        return e->create ? "org_unit.created" : "org_unit.updated";
    case PMO__ENTITY_KIND__ENTITY_KIND_PROJECT:
        return e->create ? "project.created" : "project.updated";
    case PMO__ENTITY_KIND__ENTITY_KIND_MILESTONE:
        return e->create ? "milestone.created" : "milestone.updated";
    default:
        return "status_report.submitted";
    }
}

//  The entity's bookkeeping: ids for new ones, versions, times, who.
static void s_stamp (batch_t *b, entry_t *e, uint64_t *next_seq, int64_t now)
{
    pmo_arena_t *arena = b->req->arena;
    ProtobufCMessage *msg = e->entity;
    if (e->create) {
        if (e->kind->kind != PMO__ENTITY_KIND__ENTITY_KIND_ORG_UNIT)
            pmo_reflect_set_str (msg, "id",
                                 pmo_arena_printf (arena, "%s_%s_%llu", e->kind->prefix,
                                                   b->batch->division,
                                                   (unsigned long long)(*next_seq)++),
                                 arena);
        pmo_reflect_set_u64 (msg, "version", 1);
        if (pmo_reflect_has (msg->descriptor, "created_ms"))
            pmo_reflect_set_i64 (msg, "created_ms", now);
        if (pmo_reflect_has (msg->descriptor, "archived"))
            pmo_reflect_set_bool (msg, "archived", false);
    } else {
        pmo_reflect_set_u64 (msg, "version", e->stored_version + 1);
        if (pmo_reflect_has (msg->descriptor, "created_ms"))
            pmo_reflect_set_i64 (msg, "created_ms", pmo_reflect_i64 (e->stored, "created_ms"));
        if (pmo_reflect_has (msg->descriptor, "archived"))
            pmo_reflect_set_bool (msg, "archived", pmo_reflect_bool (e->stored, "archived"));
    }
    if (pmo_reflect_has (msg->descriptor, "updated_ms"))
        pmo_reflect_set_i64 (msg, "updated_ms", now);
    switch (e->kind->kind) {
    case PMO__ENTITY_KIND__ENTITY_KIND_ORG_UNIT: {
        Pmo__OrgUnit *unit = (Pmo__OrgUnit *)msg;
        unit->effective_policy = NULL;
        unit->effective_pmo_type = PMO__PMO_TYPE__PMO_TYPE_NONE;
        break;
    }
    case PMO__ENTITY_KIND__ENTITY_KIND_PROJECT: {
        Pmo__Project *p = (Pmo__Project *)msg;
        p->org_unit_path = e->unit->path;
        p->division = e->unit->division;
        if (!p->priority)
            p->priority = 3;
        if (e->create) {
            p->created_by = pmo_request_who (b->req)->subject;
            p->gate_request = NULL;
            if (p->phase == PMO__PHASE__PHASE_UNSPECIFIED)
                p->phase = PMO__PHASE__PHASE_INITIATION;
            if (p->status == PMO__PROJECT_STATUS__PROJECT_STATUS_UNSPECIFIED)
                p->status = PMO__PROJECT_STATUS__PROJECT_STATUS_PROPOSED;
        } else {
            p->created_by = ((Pmo__Project *)e->stored)->created_by;
            p->gate_request = ((Pmo__Project *)e->stored)->gate_request;
        }
        break;
    }
    case PMO__ENTITY_KIND__ENTITY_KIND_STATUS_REPORT:
        ((Pmo__StatusReport *)msg)->author = pmo_request_who (b->req)->subject;
        /* fall through */
    case PMO__ENTITY_KIND__ENTITY_KIND_MILESTONE:
        //  A project created earlier in this batch has its id only now
        pmo_reflect_set_str (msg, "project_id", e->project->id, arena);
        break;
    default:
        break;
    }
}

static Pmo__Event *s_event (batch_t *b, entry_t *e, int64_t now)
{
    Pmo__Event *event = pmo_arena_alloc (b->req->arena, sizeof (Pmo__Event));
    pmo__event__init (event);
    event->type = (char *)s_event_type (e);
    event->division = b->batch->division;
    event->org_unit = e->unit->id;
    event->org_unit_path = (char *)e->path;
    event->entity_id = (char *)pmo_reflect_str (e->entity, "id");
    event->entity_version = pmo_reflect_u64 (e->entity, "version");
    event->time_ms = now;
    pmo_request_stamp (b->req, event);
    event->request_id = b->req->header->request_id;
    event->source = "registry";
    pmo_reflect_set_oneof (&event->base, e->kind->event_field, e->entity);
    return event;
}

//  Publish the committed events with their stream ids: a script's entries
//  are contiguous in the stream, so the last n up to the last id are ours.
static void s_publish (batch_t *b, Pmo__Event **events, size_t n, const char *last_id)
{
    pmo_arena_t *arena = b->req->arena;
    char **ids = pmo_arena_alloc (arena, (n + 1) * sizeof (char *));
    registry_store_event_ids (b->store, arena, b->batch->division, last_id, n, ids);
    for (size_t i = 0; i < n; i++) {
        if (ids[i])
            events[i]->id = ids[i];
        size_t size;
        uint8_t *blob = pmo_reflect_pack (&events[i]->base, arena, &size);
        zmsg_t *msg = zmsg_new ();
        zmsg_addstrf (msg, "%s.%s", b->batch->division, events[i]->type);
        zmsg_addmem (msg, blob, size);
        zmsg_send (&msg, b->pub);
    }
}

static void s_commit (batch_t *b, Pmo__ImportBatchReply *out)
{
    pmo_request_t *req = b->req;
    const char *division = b->batch->division;
    int64_t now = pmo_now_ms ();
    //  Sequence numbers for every new entity of each kind, in one step each
    uint64_t next_seq[8] = {0};
    uint64_t wanted[8] = {0};
    for (size_t i = 0; i < b->n; i++)
        if (!b->entries[i].failed && b->entries[i].create)
            wanted[b->entries[i].kind->kind]++;
    for (int k = PMO__ENTITY_KIND__ENTITY_KIND_PORTFOLIO; k < 8; k++)
        if (wanted[k] && registry_store_next_ids (b->store, registry_kind ((Pmo__EntityKind)k),
                                                  division, wanted[k], &next_seq[k]))
            return (void)pmo_request_unavailable (req, "the registry's store");
    pmo_commit_t *commit = registry_store_commit (b->store, division, req->header->request_id);
    Pmo__Event **events = pmo_arena_alloc (req->arena, b->n * sizeof (void *));
    size_t n_events = 0;
    for (size_t i = 0; i < b->n; i++) {
        entry_t *e = &b->entries[i];
        if (e->failed)
            continue;
        s_stamp (b, e, &next_seq[e->kind->kind], now);
        const char *id = pmo_reflect_str (e->entity, "id");
        registry_store_put (b->store, commit, req->arena, division, e->entity,
                            e->create ? 0 : e->stored_version);
        if (e->kind->kind == PMO__ENTITY_KIND__ENTITY_KIND_ORG_UNIT) {
            if (e->create)
                registry_store_index (b->store, commit, req->arena, e->kind, division, NULL, id,
                                      true);
        } else if (e->kind->kind == PMO__ENTITY_KIND__ENTITY_KIND_PROJECT) {
            Pmo__Project *p = (Pmo__Project *)e->entity;
            Pmo__Project *stored = (Pmo__Project *)e->stored;
            if (e->create || strcmp (stored->code, p->code) != 0) {
                if (!e->create)
                    registry_store_claim_code (b->store, commit, req->arena, e->kind, division,
                                               stored->code, NULL, false);
                registry_store_claim_code (b->store, commit, req->arena, e->kind, division, p->code,
                                           id, true);
            }
            if (e->create || strcmp (stored->org_unit, p->org_unit) != 0) {
                if (!e->create)
                    registry_store_index (b->store, commit, req->arena, e->kind, division,
                                          stored->org_unit, id, false);
                registry_store_index (b->store, commit, req->arena, e->kind, division, p->org_unit,
                                      id, true);
            }
        } else if (e->create)
            registry_store_index (b->store, commit, req->arena, e->kind, division, e->project->id,
                                  id, true);
        events[n_events] = s_event (b, e, now);
        size_t event_size;
        registry_store_event (b->store, commit, req->arena, division, events[n_events], NULL,
                              &event_size);
        n_events++;
        e->result->id = (char *)id;
        e->result->version = pmo_reflect_u64 (e->entity, "version");
    }
    out->committed = true;
    size_t size;
    uint8_t *blob = pmo_reflect_pack (req->reply, req->arena, &size);
    pmo_commit_reply (commit, blob, size, IDEM_TTL_S);
    pmo_commit_result_t result;
    pmo_commit_exec (commit, registry_store_redis (b->store), &result);
    pmo_commit_destroy (&commit);
    switch (result.status) {
    case PMO_COMMIT_OK:
        s_publish (b, events, n_events, result.stream_id);
        pmo_info ("registry: import division=%s created=%u updated=%u failed=%u request_id=%s",
                  division, out->created, out->updated, out->failed, req->header->request_id);
        break;
    case PMO_COMMIT_DUPLICATE:
        req->raw_reply = pmo_arena_memdup (req->arena, result.previous, result.previous_size);
        req->raw_size = result.previous_size;
        break;
    case PMO_COMMIT_CONFLICT:
    case PMO_COMMIT_TAKEN:
        out->committed = false;
        FAIL (req, CONFLICT, "import_batch",
              "%s changed while the batch was checked; nothing was written: run the import "
              "again",
              result.key);
        break;
    case PMO_COMMIT_UNAVAILABLE:
        out->committed = false;
        pmo_request_unavailable (req, "the registry's store");
        break;
    case PMO_COMMIT_ERROR:
        out->committed = false;
        FAIL (req, INTERNAL, "", "the store refused the commit; nothing was written");
        break;
    }
    pmo_commit_result_clear (&result);
}

//  ---------------------------------------------------------------------
//  import_batch

static void s_add_planned (batch_t *b)
{
    //  Parents come first in a plan, as they are created
    for (size_t i = 0; i < b->batch->n_planned_org_units; i++) {
        Pmo__OrgUnit *unit = b->batch->planned_org_units[i];
        if (!pmo_slug_valid (unit->id, 2, 32) || zhashx_lookup (b->units, unit->id))
            continue;
        Pmo__OrgUnit *parent = s_unit (b, unit->parent);
        if (unit->kind == PMO__ORG_UNIT_KIND__ORG_UNIT_KIND_ENTERPRISE)
            unit->path = unit->division = unit->id;
        else if (parent) {
            unit->path = pmo_arena_printf (b->req->arena, "%s/%s", parent->path, unit->id);
            unit->division = unit->kind == PMO__ORG_UNIT_KIND__ORG_UNIT_KIND_DIVISION
                                 ? unit->id
                                 : parent->division;
        } else
            continue;
        zhashx_insert (b->units, unit->id, unit);
    }
}

//  Step 1 for item i: its body, its kind, where it lives and whether the
//  caller may act there.
static void s_locate (batch_t *b, size_t i, Pmo__ImportBatchReply *out)
{
    entry_t *e = &b->entries[i];
    e->item = b->batch->items[i];
    e->project_item = -1;
    e->result = importbatch_result (b->req->arena, out, i, e->item->row);
    const char *member = pmo_wire_oneof_name (&e->item->base);
    ProtobufCMessage **slot = *member ? pmo_wire_message_slot (&e->item->base, member) : NULL;
    if (!slot || !*slot) {
        //  A placeholder so the error names the item
        s_item_fail (b, e, PMO__ERROR_CODE__ERROR_INVALID, "", "the item has no body");
        return;
    }
    e->entity = *slot;
    e->kind = registry_kind_of (e->entity->descriptor);
    e->create = strncmp (member, "update_", 7) != 0;
    switch (e->item->body_case) {
    case PMO__IMPORT_ITEM__BODY_CREATE_ORG_UNIT:
    case PMO__IMPORT_ITEM__BODY_UPDATE_ORG_UNIT:
        s_locate_org_unit (b, e);
        break;
    case PMO__IMPORT_ITEM__BODY_CREATE_PROJECT:
    case PMO__IMPORT_ITEM__BODY_UPDATE_PROJECT:
        s_locate_project (b, e);
        break;
    default:
        s_locate_child (b, e);
        break;
    }
}

static void s_handle_import_batch (registry_store_t *store, zsock_t *pub, pmo_request_t *req,
                                   Pmo__ImportBatchRequest *request)
{
    if (!pmo_slug_valid (request->division, 2, 32))
        return (void)FAIL (req, INVALID, "import_batch.division",
                           "division is required: the id of the division every item lives in");
    if (request->n_items == 0 || request->n_items > REGISTRY_IMPORT_BATCH_MAX)
        return (void)FAIL (req, INVALID, "import_batch.items", "a batch holds 1 to %d items",
                           REGISTRY_IMPORT_BATCH_MAX);
    if (request->n_planned_org_units && !request->dry_run)
        return (void)FAIL (req, INVALID, "import_batch.planned_org_units",
                           "planned org units are for dry runs only");
    batch_t b = {.store = store,
                 .pub = pub,
                 .req = req,
                 .hub = registry_store_hub (store),
                 .batch = request,
                 .n = request->n_items};
    Pmo__OrgUnit **units;
    size_t n_units;
    if (registry_store_org_units (store, req->arena, &units, &n_units))
        return (void)pmo_request_unavailable (req, "the registry's store");
    b.units = zhashx_new ();
    b.new_units = zhashx_new ();
    b.codes = zhashx_new ();
    b.owners = zhashx_new ();
    for (size_t i = 0; i < n_units; i++)
        zhashx_insert (b.units, units[i]->id, units[i]);
    if (request->dry_run)
        s_add_planned (&b);

    Pmo__ImportBatchReply *out = pmo_arena_alloc (req->arena, sizeof (Pmo__ImportBatchReply));
    pmo__import_batch_reply__init (out);
    out->results = pmo_arena_alloc (req->arena, b.n * sizeof (void *));
    out->n_results = b.n;
    b.entries = pmo_arena_alloc (req->arena, b.n * sizeof (entry_t));
    pmo_reflect_set_oneof (req->reply, "import_batch", &out->base);

    //  Step 1
    for (size_t i = 0; i < b.n; i++)
        s_locate (&b, i, out);
    //  Step 2: a retry is answered before the state it changed is examined
    if (!request->dry_run) {
        uint8_t *blob;
        size_t size;
        int rc = registry_store_replay (store, req->arena, request->division,
                                        req->header->request_id, &blob, &size);
        if (rc < 0)
            pmo_request_unavailable (req, "the registry's store");
        else if (rc == 1) {
            req->raw_reply = blob;
            req->raw_size = size;
        }
        if (rc != 0)
            goto done;
    }
    //  Step 3
    if (s_ask_owners (&b)) {
        pmo_request_unavailable (req, "the registry's store");
        goto done;
    }
    for (size_t i = 0; i < b.n; i++)
        if (!b.entries[i].failed)
            s_check_state (&b, &b.entries[i]);
    bool *updated = pmo_arena_alloc (req->arena, b.n * sizeof (bool));
    for (size_t i = 0; i < b.n; i++)
        updated[i] = !b.entries[i].create;
    if (importbatch_settle (req, out, updated, request->dry_run, request->skip_bad))
        s_commit (&b, out);
done:
    zhashx_destroy (&b.units);
    zhashx_destroy (&b.new_units);
    zhashx_destroy (&b.codes);
    zhashx_destroy (&b.owners);
}

//  ---------------------------------------------------------------------
//  latest_reports

static void s_handle_latest_reports (registry_store_t *store, pmo_request_t *req,
                                     Pmo__LatestReportsRequest *request)
{
    if (request->n_project_ids == 0 || request->n_project_ids > REGISTRY_LATEST_MAX)
        return (void)FAIL (req, INVALID, "latest_reports.project_ids", "give 1 to %d project ids",
                           REGISTRY_LATEST_MAX);
    if (request->count > LATEST_MAX_N)
        return (void)FAIL (req, INVALID, "latest_reports.count", "count is 1 to %d (0 = 1)",
                           LATEST_MAX_N);
    size_t count = request->count ? request->count : 1;
    size_t n = request->n_project_ids;
    const registry_kind_t *projects = registry_kind (PMO__ENTITY_KIND__ENTITY_KIND_PROJECT);
    const registry_kind_t *reports = registry_kind (PMO__ENTITY_KIND__ENTITY_KIND_STATUS_REPORT);
    ProtobufCMessage **found = pmo_arena_alloc (req->arena, n * sizeof (void *));
    if (registry_store_read_many (store, req->arena, projects, request->project_ids, n, found))
        return (void)pmo_request_unavailable (req, "the registry's store");
    //  Only what the caller may see
    char **owners = pmo_arena_alloc (req->arena, n * sizeof (char *));
    char **divisions = pmo_arena_alloc (req->arena, n * sizeof (char *));
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        Pmo__Project *p = (Pmo__Project *)found[i];
        if (p && registry_allowed (req->header->identity, REGISTRY_READ, p->org_unit_path)) {
            owners[m] = p->id;
            divisions[m++] = p->division;
        }
    }
    Pmo__LatestReports *out = pmo_arena_alloc (req->arena, sizeof (Pmo__LatestReports));
    pmo__latest_reports__init (out);
    pmo_reflect_set_oneof (req->reply, "latest_reports", &out->base);
    if (!m)
        return;
    char ***ids = pmo_arena_alloc (req->arena, m * sizeof (char **));
    size_t *lens = pmo_arena_alloc (req->arena, m * sizeof (size_t));
    if (registry_store_index_last_many (store, req->arena, reports, divisions, owners, m, count,
                                        ids, lens))
        return (void)pmo_request_unavailable (req, "the registry's store");
    size_t total = 0;
    for (size_t i = 0; i < m; i++)
        total += lens[i];
    char **all = pmo_arena_alloc (req->arena, (total + 1) * sizeof (char *));
    ProtobufCMessage **msgs = pmo_arena_alloc (req->arena, (total + 1) * sizeof (void *));
    size_t k = 0;
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < lens[i]; j++)
            all[k++] = ids[i][j];
    if (total && registry_store_read_many (store, req->arena, reports, all, total, msgs))
        return (void)pmo_request_unavailable (req, "the registry's store");
    out->projects = pmo_arena_alloc (req->arena, m * sizeof (void *));
    k = 0;
    for (size_t i = 0; i < m; i++) {
        Pmo__ProjectReports *one = pmo_arena_alloc (req->arena, sizeof (Pmo__ProjectReports));
        pmo__project_reports__init (one);
        one->project_id = owners[i];
        one->reports = pmo_arena_alloc (req->arena, (lens[i] + 1) * sizeof (void *));
        for (size_t j = 0; j < lens[i]; j++, k++)
            if (msgs[k])
                one->reports[one->n_reports++] = (Pmo__StatusReport *)msgs[k];
        out->projects[out->n_projects++] = one;
    }
}

void registry_import_handle (registry_store_t *store, zsock_t *pub, pmo_request_t *req)
{
    Pmo__RegistryRequest *r = (Pmo__RegistryRequest *)req->request;
    if (r->body_case == PMO__REGISTRY_REQUEST__BODY_IMPORT_BATCH)
        s_handle_import_batch (store, pub, req, r->import_batch);
    else if (r->body_case == PMO__REGISTRY_REQUEST__BODY_LATEST_REPORTS)
        s_handle_latest_reports (store, req, r->latest_reports);
    else
        FAIL (req, UNSUPPORTED, "body", "not an import request");
}
