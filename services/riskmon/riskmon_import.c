/*  riskmon_import.c: many register entries of one division in one request.

    import_batch follows the single requests (riskmon_registers.c), for
    every item:
    1. the stored reply if this request id was already done (a retry);
    2. the checks of the single create or update (the entry's own rules,
       its project known and in delivery, who may record or change it, the
       version read, the state rules), through the same functions; where
       they fail the request, the error is moved into the item's result,
       its field under the item's body ("create_risk.probability");
    3. one commit for the whole batch: every entry, its version for
       history, a new one's index entries, one event per entry
       (<kind>.created / .updated), the health of each project whose risks
       changed (once per project, after all of its risks), and the reply
       under the request id.
    A batch is all or nothing unless skip_bad is set; a dry run stops before
    the commit. An item marked final_state is a row in a state one create or
    update does not reach (a risk closed or occurred, an issue created
    resolved or closed, a change request created decided or closed (or
    both), an assumption, decision or dependency created closed): its first
    step is checked as above, each later one (an update, a close) as the
    single update or close would check it, and all are in the one commit
    (a version for history and an event per step). Anything across
    divisions stays single requests.
*/
#include "riskmon_internal.h"

#include "importbatch.h"
#include "pmo_log.h"
#include "pmo_reflect.h"
#include "pmo_wire.h"

#include <string.h>

//  A project of the batch and its health record, read once.
typedef struct {
    Pmo__ProjectHealth *ph;
    uint64_t version;
    bool risks; //  a risk of the batch changes it
} project_t;

//  One item of the batch as it is being checked.
typedef struct {
    Pmo__RiskmonImportItem *item;
    const char *member;       //  its body's name
    ProtobufCMessage *entity; //  what to write (a copy of the body)
    //  final_state: the steps before entity (none if one was enough), and
    //  each step's event ("created", "updated", "closed"), entity's last
    ProtobufCMessage *steps[RISKMON_STEPS_MAX];
    const char *events[RISKMON_STEPS_MAX + 1];
    size_t n_steps;
    bool update;
    uint64_t version;   //  updates: the version read
    project_t *project; //  risks: their project
    Pmo__ImportItemResult *result;
} entry_t;

typedef struct {
    riskmon_t *self;
    pmo_request_t *req;
    Pmo__RiskmonImportBatch *batch;
    zhashx_t *projects; //  project id -> project_t
    zhashx_t *updated;  //  entry id -> the entry_t updating it
    entry_t *entries;
    size_t n;
    int64_t now;
    bool aborted; //  the request failed as a whole (the store or the registry is down)
} batch_t;

static void s_fail (batch_t *b, entry_t *e, Pmo__ErrorCode code, const char *field,
                    const char *format, ...) __attribute__ ((format (printf, 5, 6)));
static void s_fail (batch_t *b, entry_t *e, Pmo__ErrorCode code, const char *field,
                    const char *format, ...)
{
    va_list args;
    va_start (args, format);
    importbatch_failv (b->req->arena, e->result, e->member, code, field, format, args);
    va_end (args);
}

//  A function of the single requests failed req: the item's error now.
static void s_take (batch_t *b, entry_t *e)
{
    bool first;
    if (!importbatch_take (b->req, &riskmon_reply (b->req)->error, e->result, e->member, "",
                           &first))
        b->aborted = true;
}

static bool s_failed (const entry_t *e)
{
    return e->result->outcome == PMO__IMPORT_OUTCOME__IMPORT_OUTCOME_FAILED;
}

//  The project an item names, read once per batch; NULL after failing the
//  item (or the batch).
static project_t *s_project (batch_t *b, entry_t *e, const char *id)
{
    pmo_request_t *req = b->req;
    project_t *p = pmo_str_empty (id) ? NULL : zhashx_lookup (b->projects, id);
    if (p)
        return p;
    char *division = pmo_str_empty (id) ? NULL : riskmon_division_of (req->arena, id);
    if (division && strcmp (division, b->batch->division) != 0)
        return s_fail (b, e, PMO__ERROR_CODE__ERROR_INVALID, "project_id",
                       "project %s is in division '%s', not this batch's '%s'", id, division,
                       b->batch->division),
               NULL;
    p = pmo_arena_alloc (req->arena, sizeof (project_t));
    memset (p, 0, sizeof *p);
    p->ph = riskmon_request_project (
        b->self, req, id, pmo_arena_printf (req->arena, "%s.project_id", e->member), &p->version);
    if (!p->ph)
        return s_take (b, e), NULL;
    zhashx_insert (b->projects, id, p);
    return p;
}

static void s_create (batch_t *b, entry_t *e)
{
    pmo_request_t *req = b->req;
    ProtobufCMessage *entry = e->entity;
    pmo_reflect_set_str (entry, "id", "", req->arena);
    pmo_problem_t problem;
    if (riskmon_entry_check (entry, req->arena, &problem))
        return (void)importbatch_problem (req->arena, e->result, e->member, "", &problem);
    project_t *p = s_project (b, e, pmo_reflect_str (entry, "project_id"));
    if (!p)
        return;
    if (riskmon_entry_new (b->self, req, entry, e->member, p->ph->inputs, false, b->now))
        return s_take (b, e);
    e->project = p;
}

static void s_update (batch_t *b, entry_t *e)
{
    pmo_request_t *req = b->req;
    ProtobufCMessage *next = e->entity;
    const char *id = pmo_reflect_str (next, "id");
    char *division;
    ProtobufCMessage *stored = riskmon_entry_fetch (
        b->self, req, next->descriptor, id, pmo_arena_printf (req->arena, "%s.id", e->member),
        &e->version, &division);
    if (!stored)
        return s_take (b, e);
    if (strcmp (division, b->batch->division) != 0)
        return s_fail (b, e, PMO__ERROR_CODE__ERROR_INVALID, "id",
                       "%s is in division '%s', not this batch's '%s'", id, division,
                       b->batch->division);
    entry_t *other = zhashx_lookup (b->updated, id);
    if (other)
        return s_fail (b, e, PMO__ERROR_CODE__ERROR_INVALID, "id",
                       "%s is also updated by row %u of this import", id, other->item->row);
    if (riskmon_entry_next (b->self, req, next, stored, e->version, division, e->member, false,
                            b->now))
        return s_take (b, e);
    zhashx_insert (b->updated, id, e);
    if (next->descriptor == &pmo__risk__descriptor)
        e->project = s_project (b, e, pmo_reflect_str (next, "project_id"));
}

//  A final_state item: one more step from e->entity to next, its event
//  what (the step before is kept for history).
static void s_step (entry_t *e, ProtobufCMessage *next, const char *what)
{
    if (e->n_steps == 0)
        e->events[0] = e->update ? "updated" : "created";
    e->steps[e->n_steps++] = e->entity;
    e->events[e->n_steps] = what;
    e->entity = next;
}

//  A final_state item's close step, as the single close checks it (who
//  may close, the note); 0, or -1 with the item failed.
static int s_close_step (batch_t *b, entry_t *e, const Pmo__CloseRequest *close)
{
    pmo_request_t *req = b->req;
    ProtobufCMessage *next = pmo_reflect_copy (e->entity, req->arena);
    if (riskmon_entry_may_close (req, next) ||
        riskmon_entry_close (req, next, close, e->member, b->now))
        return s_take (b, e), -1;
    s_step (e, next, "closed");
    return 0;
}

//  A final_state item whose first step was made (e->entity): on to the
//  state the row holds (target), as the single update (issues, change
//  requests) and close (risks, change requests, RAID entries) would;
//  nothing more if the first step reached it.
static void s_final (batch_t *b, entry_t *e, ProtobufCMessage *target)
{
    pmo_request_t *req = b->req;
    ProtobufCMessage *first = e->entity;
    Pmo__CloseRequest close = PMO__CLOSE_REQUEST__INIT;
    if (first->descriptor == &pmo__risk__descriptor) {
        const Pmo__Risk *want = (const Pmo__Risk *)target;
        if (want->status != PMO__RISK_STATUS__RISK_STATUS_CLOSED &&
            want->status != PMO__RISK_STATUS__RISK_STATUS_OCCURRED)
            return;
        close.risk_status = want->status;
        close.note = want->closure_note;
        s_close_step (b, e, &close);
        return;
    }
    if (first->descriptor == &pmo__raid_entry__descriptor) {
        //  An entry created closed (an update may close it itself), its
        //  note kept as the row has it
        if (!e->update &&
            ((const Pmo__RaidEntry *)target)->status == PMO__RAID_STATUS__RAID_STATUS_CLOSED)
            s_close_step (b, e, &close);
        return;
    }
    //  An issue created resolved or closed, a change request created
    //  decided: updated to the row
    if (!e->update &&
        ((first->descriptor == &pmo__issue__descriptor &&
          ((const Pmo__Issue *)target)->status >= PMO__ISSUE_STATUS__ISSUE_STATUS_RESOLVED) ||
         (first->descriptor == &pmo__change_request__descriptor &&
          ((const Pmo__ChangeRequest *)target)->decision !=
              PMO__CHANGE_DECISION__CHANGE_DECISION_PENDING))) {
        uint64_t version = pmo_reflect_u64 (first, "version");
        ProtobufCMessage *next = pmo_reflect_copy (target, req->arena);
        pmo_reflect_set_str (next, "id", pmo_reflect_str (first, "id"), req->arena);
        pmo_reflect_set_u64 (next, "version", version);
        if (riskmon_entry_next (b->self, req, next, first, version,
                                pmo_reflect_str (first, "division"), e->member, false, b->now))
            return s_take (b, e);
        s_step (e, next, "updated");
    }
    //  A change request closed (created or updated first, decided or not):
    //  its decision note kept as the row has it
    if (first->descriptor == &pmo__change_request__descriptor &&
        ((const Pmo__ChangeRequest *)target)->closed)
        s_close_step (b, e, &close);
}

//  A final_state item's first step: the body in the first state a create
//  allows (an issue open, a change request pending, a RAID entry open; a
//  risk is opened by the create itself, a change request is open).
static void s_first_state (ProtobufCMessage *entity)
{
    if (entity->descriptor == &pmo__issue__descriptor &&
        ((Pmo__Issue *)entity)->status >= PMO__ISSUE_STATUS__ISSUE_STATUS_RESOLVED)
        ((Pmo__Issue *)entity)->status = PMO__ISSUE_STATUS__ISSUE_STATUS_OPEN;
    else if (entity->descriptor == &pmo__raid_entry__descriptor &&
             ((Pmo__RaidEntry *)entity)->status == PMO__RAID_STATUS__RAID_STATUS_CLOSED)
        ((Pmo__RaidEntry *)entity)->status = PMO__RAID_STATUS__RAID_STATUS_OPEN;
    else if (entity->descriptor == &pmo__change_request__descriptor) {
        ((Pmo__ChangeRequest *)entity)->decision = PMO__CHANGE_DECISION__CHANGE_DECISION_PENDING;
        ((Pmo__ChangeRequest *)entity)->closed = false;
    }
}

//  Check item i (step 2).
static void s_check (batch_t *b, size_t i, Pmo__ImportBatchReply *out)
{
    pmo_request_t *req = b->req;
    entry_t *e = &b->entries[i];
    e->item = b->batch->items[i];
    e->result = importbatch_result (req->arena, out, i, e->item->row);
    e->member = pmo_wire_oneof_name (&e->item->base);
    ProtobufCMessage **slot = *e->member ? pmo_wire_message_slot (&e->item->base, e->member) : NULL;
    if (!slot || !*slot) {
        e->member = "item";
        return s_fail (b, e, PMO__ERROR_CODE__ERROR_INVALID, "", "the item has no body");
    }
    //  A copy: a retry of the batch starts again from what was sent
    e->entity = pmo_reflect_copy (*slot, req->arena);
    e->update = strncmp (e->member, "update_", 7) == 0;
    ProtobufCMessage *target = NULL;
    if (e->item->final_state) {
        target = pmo_reflect_copy (*slot, req->arena);
        if (!e->update)
            s_first_state (e->entity);
    }
    if (e->update)
        s_update (b, e);
    else
        s_create (b, e);
    if (target && !s_failed (e) && !b->aborted)
        s_final (b, e, target);
}

//  Step 3: ids for the new entries, then one commit.
static void s_commit (batch_t *b, Pmo__ImportBatchReply *out)
{
    riskmon_t *self = b->self;
    pmo_request_t *req = b->req;
    const char *division = b->batch->division;
    //  Sequence numbers per kind, reserved at once (unused ones leave gaps)
    static const char *prefixes[] = {RISKMON_RISK, RISKMON_ISSUE, RISKMON_CHANGE, RISKMON_RAID};
    uint64_t next[4] = {0};
    for (size_t k = 0; k < 4; k++) {
        uint64_t count = 0;
        for (size_t i = 0; i < b->n; i++) {
            entry_t *e = &b->entries[i];
            count += !s_failed (e) && !e->update &&
                     streq (riskmon_entry_prefix (e->entity), prefixes[k]);
        }
        if (count &&
            riskmon_store_reserve_ids (self->store, prefixes[k], division, count, &next[k]))
            return pmo_request_unavailable (req, STORE_NAME);
    }
    pmo_commit_t *commit = riskmon_store_commit (division, req->header->request_id);
    riskmon_change_t change = {0};
    for (size_t i = 0; i < b->n; i++) {
        entry_t *e = &b->entries[i];
        if (s_failed (e))
            continue;
        if (!e->update) {
            const char *prefix = riskmon_entry_prefix (e->entity);
            size_t k = 0;
            while (!streq (prefixes[k], prefix))
                k++;
            const char *id = pmo_arena_printf (req->arena, "%s_%s_%llu", prefix, division,
                                               (unsigned long long)next[k]++);
            pmo_reflect_set_str (e->entity, "id", id, req->arena);
            for (size_t s = 0; s < e->n_steps; s++)
                pmo_reflect_set_str (e->steps[s], "id", id, req->arena);
        }
        if (e->n_steps)
            riskmon_entry_write_steps (req, commit, &change, e->steps, e->n_steps, e->entity,
                                       e->events, e->update ? e->version : 0, b->now);
        else
            riskmon_entry_write (req, commit, &change, e->entity, e->update ? e->version : 0,
                                 b->now);
        e->result->id = (char *)pmo_reflect_str (e->entity, "id");
        e->result->version = pmo_reflect_u64 (e->entity, "version");
        if (e->entity->descriptor == &pmo__risk__descriptor) {
            riskmon_apply_risk (e->project->ph->inputs, (Pmo__Risk *)e->entity, req->arena);
            e->project->risks = true;
        }
    }
    //  Each project's health once, after all of its risks
    for (project_t *p = zhashx_first (b->projects); p; p = zhashx_next (b->projects))
        if (p->risks && riskmon_entry_health (self, req, commit, p->ph, p->version, &change)) {
            pmo_commit_destroy (&commit);
            return;
        }
    out->committed = true;
    riskmon_request_commit (self, req, commit, division, &change);
    if (req->code != PMO__ERROR_CODE__ERROR_NONE) {
        out->committed = false;
        return;
    }
    if (!req->raw_reply)
        pmo_info ("riskmon: import division=%s created=%u updated=%u failed=%u request_id=%s",
                  division, out->created, out->updated, out->failed, req->header->request_id);
}

void riskmon_handle_import (riskmon_t *self, pmo_request_t *req, Pmo__RiskmonImportBatch *batch)
{
    if (!pmo_slug_valid (batch->division, 2, 32))
        return (void)FAIL (req, INVALID, "import_batch.division",
                           "division is required: the id of the division every item lives in");
    if (batch->n_items == 0 || batch->n_items > RISKMON_IMPORT_MAX)
        return (void)FAIL (req, INVALID, "import_batch.items", "a batch holds 1 to %d items",
                           RISKMON_IMPORT_MAX);
    //  Step 1: a retry is answered before the state it changed is examined
    if (!batch->dry_run && riskmon_replayed (self, req, batch->division))
        return;
    batch_t b = {.self = self, .req = req, .batch = batch, .n = batch->n_items};
    b.now = riskmon_now (self);
    Pmo__ImportBatchReply *out = pmo_arena_alloc (req->arena, sizeof (Pmo__ImportBatchReply));
    pmo__import_batch_reply__init (out);
    out->results = pmo_arena_alloc (req->arena, b.n * sizeof (void *));
    out->n_results = b.n;
    b.entries = pmo_arena_alloc (req->arena, b.n * sizeof (entry_t));
    memset (b.entries, 0, b.n * sizeof (entry_t));
    pmo_reflect_set_oneof (req->reply, "import_batch", &out->base);
    b.projects = zhashx_new ();
    b.updated = zhashx_new ();
    for (size_t i = 0; i < b.n && !b.aborted; i++)
        s_check (&b, i, out);
    if (b.aborted)
        out->n_results = 0; //  some were never checked
    else {
        bool *updated = pmo_arena_alloc (req->arena, b.n * sizeof (bool));
        for (size_t i = 0; i < b.n; i++)
            updated[i] = b.entries[i].update;
        if (importbatch_settle (req, out, updated, batch->dry_run, batch->skip_bad))
            s_commit (&b, out);
    }
    zhashx_destroy (&b.projects);
    zhashx_destroy (&b.updated);
}
