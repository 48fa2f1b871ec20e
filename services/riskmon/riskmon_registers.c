/*  riskmon_registers.c: the RAID registers (risks, issues, change
    requests, assumptions/decisions/dependencies) and the alerts as entries:
    create, update, close, get with history, list, and acknowledging or
    resolving an alert.

    Handlers follow the registry's order: check the caller may act here,
    answer a retried request id with the stored reply, validate, build the
    new state and commit it with its events and the reply. A risk's change
    carries the project's health in the same commit.
*/
#include "riskmon_internal.h"

#include "pmo_reflect.h"

#include <math.h>
#include <string.h>
#include <strings.h>

#define LIST_DEFAULT  50
#define LIST_MAX      500
#define LIST_SCAN_MAX 5000 //  entries examined for one page at most

//  ---------------------------------------------------------------------
//  What the generic handlers need to know about each kind

typedef struct {
    Pmo__RegisterKind kind;
    const char *name;   //  "risk"
    const char *prefix; //  "rk"
    const ProtobufCMessageDescriptor *desc;
    const char *reply_field; //  its member of RiskmonReply's body
    const char *page_field;  //  its list in RiskmonPage
    const char *event_field; //  its member of Event's body
    const char *event_name;  //  "risk" -> "risk.created"
} s_kind_t;

static const s_kind_t s_kinds[] = {
    {PMO__REGISTER_KIND__REGISTER_KIND_RISK, "risk", RISKMON_RISK, &pmo__risk__descriptor, "risk",
     "risks", "risk", "risk"},
    {PMO__REGISTER_KIND__REGISTER_KIND_ISSUE, "issue", RISKMON_ISSUE, &pmo__issue__descriptor,
     "issue", "issues", "issue", "issue"},
    {PMO__REGISTER_KIND__REGISTER_KIND_CHANGE_REQUEST, "change request", RISKMON_CHANGE,
     &pmo__change_request__descriptor, "change_request", "change_requests", "change_request",
     "change_request"},
    {PMO__REGISTER_KIND__REGISTER_KIND_RAID, "RAID entry", RISKMON_RAID,
     &pmo__raid_entry__descriptor, "raid_entry", "raid_entries", "raid_entry", "raid"},
    {PMO__REGISTER_KIND__REGISTER_KIND_ALERT, "alert", RISKMON_ALERT, &pmo__alert__descriptor,
     "alert", "alerts", "alert", "alert"},
};

static const s_kind_t *s_kind (Pmo__RegisterKind kind)
{
    for (size_t i = 0; i < sizeof s_kinds / sizeof s_kinds[0]; i++)
        if (s_kinds[i].kind == kind)
            return &s_kinds[i];
    return NULL;
}

static const s_kind_t *s_kind_of (const ProtobufCMessageDescriptor *desc)
{
    for (size_t i = 0; i < sizeof s_kinds / sizeof s_kinds[0]; i++)
        if (s_kinds[i].desc == desc)
            return &s_kinds[i];
    return NULL;
}

static int s_check_entry (ProtobufCMessage *msg, pmo_arena_t *arena, pmo_problem_t *problem)
{
    if (msg->descriptor == &pmo__risk__descriptor)
        return riskmon_check_risk ((Pmo__Risk *)msg, arena, problem);
    if (msg->descriptor == &pmo__issue__descriptor)
        return riskmon_check_issue ((Pmo__Issue *)msg, problem);
    if (msg->descriptor == &pmo__change_request__descriptor)
        return riskmon_check_change ((Pmo__ChangeRequest *)msg, problem);
    return riskmon_check_raid ((Pmo__RaidEntry *)msg, problem);
}

//  Read an entry the request names; fails the request if it cannot, or if
//  the caller may not see it.
static ProtobufCMessage *s_fetch (riskmon_t *self, pmo_request_t *req, const s_kind_t *kind,
                                  const char *id, const char *field, uint64_t *version,
                                  char **division_out)
{
    char division[40];
    if (pmo_str_empty (id)) {
        FAIL (req, INVALID, field, "%s is required", field);
        return NULL;
    }
    if (pmo_id_division (id, kind->prefix, division, sizeof division)) {
        FAIL (req, INVALID, field, "'%.64s' is not a %s id", id, kind->name);
        return NULL;
    }
    ProtobufCMessage *msg;
    int rc = riskmon_store_get (self->store, req->arena,
                                riskmon_key_entry (req->arena, division, kind->prefix, id),
                                kind->desc, &msg, version);
    if (rc < 0) {
        pmo_request_unavailable (req, STORE_NAME);
        return NULL;
    }
    if (rc == 0 || !riskmon_allowed (pmo_request_who (req), RISKMON_READ,
                                     pmo_reflect_str (msg, "org_unit_path"))) {
        FAIL (req, NOT_FOUND, field, "no %s with id '%.64s'", kind->name, id);
        return NULL;
    }
    if (division_out)
        *division_out = pmo_arena_strdup (req->arena, division);
    return msg;
}

static Pmo__Event *s_entry_event (pmo_request_t *req, const s_kind_t *kind, const char *what,
                                  const char *division, ProtobufCMessage *entry, int64_t now)
{
    return riskmon_event_new (
        req->arena, pmo_arena_printf (req->arena, "%s.%s", kind->event_name, what), division,
        pmo_reflect_str (entry, "org_unit"), pmo_reflect_str (entry, "org_unit_path"),
        pmo_reflect_str (entry, "id"), pmo_reflect_u64 (entry, "version"),
        pmo_request_who (req)->subject, pmo_request_who (req)->via, req->header->request_id,
        kind->event_field, entry, now);
}

//  Write an entry (and the version kept for its history) into commit.
static void s_put_entry (pmo_request_t *req, pmo_commit_t *commit, const s_kind_t *kind,
                         const char *division, ProtobufCMessage *entry, uint64_t expect)
{
    const char *id = pmo_reflect_str (entry, "id");
    uint64_t version = pmo_reflect_u64 (entry, "version");
    riskmon_store_put (commit, req->arena,
                       riskmon_key_entry (req->arena, division, kind->prefix, id), entry, expect,
                       version);
    riskmon_store_put (commit, req->arena,
                       riskmon_key_entry_version (req->arena, division, kind->prefix, id, version),
                       entry, 0, 1);
}

//  ---------------------------------------------------------------------
//  What a create or an update does, for the single requests and the
//  import batch (riskmon_import.c)

int riskmon_entry_check (ProtobufCMessage *entry, pmo_arena_t *arena, pmo_problem_t *problem)
{
    return s_check_entry (entry, arena, problem);
}

const char *riskmon_entry_prefix (const ProtobufCMessage *entry)
{
    return s_kind_of (entry->descriptor)->prefix;
}

ProtobufCMessage *riskmon_entry_fetch (riskmon_t *self, pmo_request_t *req,
                                       const ProtobufCMessageDescriptor *desc, const char *id,
                                       const char *field, uint64_t *version, char **division)
{
    return s_fetch (self, req, s_kind_of (desc), id, field, version, division);
}

int riskmon_entry_new (riskmon_t *self, pmo_request_t *req, ProtobufCMessage *entry,
                       const char *field, const Pmo__HealthInputs *in, bool replay, int64_t now)
{
    const s_kind_t *kind = s_kind_of (entry->descriptor);
    if (!pmo_request_may (req, riskmon_roles (), RISKMON_WRITE, in->org_unit_path,
                          pmo_arena_printf (req->arena, "record %ss", kind->name)))
        return -1;
    char *division = riskmon_division_of (req->arena, in->project_id);
    if (replay && riskmon_replayed (self, req, division))
        return -1;
    if (!riskmon_project_live (in))
        return FAIL (req, FAILED_PRECONDITION,
                     pmo_arena_printf (req->arena, "%s.project_id", field),
                     "project %s is no longer in delivery (archived, closed or cancelled)",
                     in->project_id),
               -1;
    //  A new entry starts open; closing is its own request
    if (entry->descriptor == &pmo__risk__descriptor)
        ((Pmo__Risk *)entry)->status = PMO__RISK_STATUS__RISK_STATUS_OPEN;
    else if (entry->descriptor == &pmo__issue__descriptor &&
             ((Pmo__Issue *)entry)->status >= PMO__ISSUE_STATUS__ISSUE_STATUS_RESOLVED)
        return FAIL (req, INVALID, pmo_arena_printf (req->arena, "%s.status", field),
                     "a new issue is open or in progress"),
               -1;
    else if (entry->descriptor == &pmo__change_request__descriptor) {
        Pmo__ChangeRequest *change = (Pmo__ChangeRequest *)entry;
        if (change->decision != PMO__CHANGE_DECISION__CHANGE_DECISION_PENDING)
            return FAIL (req, INVALID, pmo_arena_printf (req->arena, "%s.decision", field),
                         "a new change request is pending; decide it with an update"),
                   -1;
        change->closed = false;
        if (pmo_str_empty (change->requested_by))
            change->requested_by = (char *)pmo_request_who (req)->subject;
    } else if (entry->descriptor == &pmo__raid_entry__descriptor &&
               ((Pmo__RaidEntry *)entry)->status == PMO__RAID_STATUS__RAID_STATUS_CLOSED)
        return FAIL (req, INVALID, pmo_arena_printf (req->arena, "%s.status", field),
                     "a new entry is not closed"),
               -1;
    pmo_reflect_set_str (entry, "org_unit", in->org_unit, req->arena);
    pmo_reflect_set_str (entry, "org_unit_path", in->org_unit_path, req->arena);
    pmo_reflect_set_str (entry, "division", division, req->arena);
    pmo_reflect_set_u64 (entry, "version", 1);
    pmo_reflect_set_i64 (entry, "created_ms", now);
    pmo_reflect_set_i64 (entry, "updated_ms", now);
    if (pmo_reflect_has (entry->descriptor, "created_by"))
        pmo_reflect_set_str (entry, "created_by", pmo_request_who (req)->subject, req->arena);
    if (pmo_reflect_has (entry->descriptor, "raised_by"))
        pmo_reflect_set_str (entry, "raised_by", pmo_request_who (req)->subject, req->arena);
    pmo_reflect_set_str (entry, "updated_by", pmo_request_who (req)->subject, req->arena);
    return 0;
}

int riskmon_entry_next (riskmon_t *self, pmo_request_t *req, ProtobufCMessage *next,
                        ProtobufCMessage *stored, uint64_t version, const char *division,
                        const char *field, bool replay, int64_t now)
{
    const s_kind_t *kind = s_kind_of (next->descriptor);
    const char *path = pmo_reflect_str (stored, "org_unit_path");
    //  Sponsors do not keep the registers but they decide change requests
    bool decider = next->descriptor == &pmo__change_request__descriptor &&
                   riskmon_allowed (pmo_request_who (req), RISKMON_DECIDE, path);
    if (!decider && !pmo_request_may (req, riskmon_roles (), RISKMON_WRITE, path,
                                      pmo_arena_printf (req->arena, "change %ss", kind->name)))
        return -1;
    if (replay && riskmon_replayed (self, req, division))
        return -1;
    if (strcmp (pmo_reflect_str (next, "project_id"), pmo_reflect_str (stored, "project_id")) != 0)
        return FAIL (req, INVALID, pmo_arena_printf (req->arena, "%s.project_id", field),
                     "a %s stays with its project", kind->name),
               -1;
    if (!pmo_request_version_matches (req, pmo_arena_printf (req->arena, "%s.version", field),
                                      kind->name, pmo_reflect_u64 (next, "version"), version))
        return -1;
    pmo_problem_t problem;
    if (s_check_entry (next, req->arena, &problem))
        return pmo_request_fail_problem (req, &problem, field), -1;
    //  Status changes go through close; decisions need a decider
    if (next->descriptor == &pmo__risk__descriptor) {
        Pmo__Risk *risk = (Pmo__Risk *)next, *was = (Pmo__Risk *)stored;
        if (!riskmon_risk_open (was))
            return FAIL (req, FAILED_PRECONDITION, field, "risk %s is closed", was->id), -1;
        risk->status = was->status;
        risk->created_by = was->created_by;
    } else if (next->descriptor == &pmo__issue__descriptor) {
        Pmo__Issue *issue = (Pmo__Issue *)next, *was = (Pmo__Issue *)stored;
        if (was->status == PMO__ISSUE_STATUS__ISSUE_STATUS_CLOSED)
            return FAIL (req, FAILED_PRECONDITION, field, "issue %s is closed", was->id), -1;
        issue->raised_by = was->raised_by;
    } else if (next->descriptor == &pmo__change_request__descriptor) {
        Pmo__ChangeRequest *change = (Pmo__ChangeRequest *)next,
                           *was = (Pmo__ChangeRequest *)stored;
        if (was->closed)
            return FAIL (req, FAILED_PRECONDITION, field, "change request %s is closed", was->id),
                   -1;
        change->closed = false;
        change->approver = was->approver;
        change->approver_role = was->approver_role;
        change->decided_ms = was->decided_ms;
        if (change->decision != was->decision) {
            if (was->decision == PMO__CHANGE_DECISION__CHANGE_DECISION_APPROVED ||
                was->decision == PMO__CHANGE_DECISION__CHANGE_DECISION_REJECTED)
                return FAIL (req, FAILED_PRECONDITION,
                             pmo_arena_printf (req->arena, "%s.decision", field),
                             "change request %s was already decided", was->id),
                       -1;
            if (change->decision == PMO__CHANGE_DECISION__CHANGE_DECISION_PENDING)
                return FAIL (req, INVALID, pmo_arena_printf (req->arena, "%s.decision", field),
                             "a decision is approved, rejected or deferred"),
                       -1;
            Pmo__Role role =
                pmo_access_role (pmo_request_who (req), riskmon_roles (), RISKMON_DECIDE, path);
            if (role == PMO__ROLE__ROLE_UNSPECIFIED)
                return FAIL (req, FORBIDDEN, pmo_arena_printf (req->arena, "%s.decision", field),
                             "%s may not decide change requests in '%s' (sponsor, "
                             "programme manager or PMO)",
                             pmo_request_who (req)->subject, path),
                       -1;
            change->approver = (char *)pmo_request_who (req)->subject;
            change->approver_role = role;
            change->decided_ms = now;
        }
    } else {
        Pmo__RaidEntry *entry = (Pmo__RaidEntry *)next, *was = (Pmo__RaidEntry *)stored;
        if (was->status == PMO__RAID_STATUS__RAID_STATUS_CLOSED)
            return FAIL (req, FAILED_PRECONDITION, field, "entry %s is closed", was->id), -1;
        if (entry->kind != was->kind)
            return FAIL (req, INVALID, pmo_arena_printf (req->arena, "%s.kind", field),
                         "an entry keeps its kind"),
                   -1;
        entry->created_by = was->created_by;
    }
    pmo_reflect_set_str (next, "org_unit", pmo_reflect_str (stored, "org_unit"), req->arena);
    pmo_reflect_set_str (next, "org_unit_path", path, req->arena);
    pmo_reflect_set_str (next, "division", division, req->arena);
    pmo_reflect_set_u64 (next, "version", version + 1);
    pmo_reflect_set_i64 (next, "created_ms", pmo_reflect_i64 (stored, "created_ms"));
    pmo_reflect_set_i64 (next, "updated_ms", now);
    pmo_reflect_set_str (next, "updated_by", pmo_request_who (req)->subject, req->arena);
    return 0;
}

//  Put entry into commit (expecting version expect, 0 = new) with its
//  history version, a new one's index entries and its event <kind>.<what>.
static void s_write (pmo_request_t *req, pmo_commit_t *commit, riskmon_change_t *change,
                     ProtobufCMessage *entry, uint64_t expect, const char *what, int64_t now)
{
    const s_kind_t *kind = s_kind_of (entry->descriptor);
    const char *division = pmo_reflect_str (entry, "division");
    s_put_entry (req, commit, kind, division, entry, expect);
    if (expect == 0) {
        const char *id = pmo_reflect_str (entry, "id");
        double seq = riskmon_store_id_seq (id);
        pmo_commit_zadd (commit, riskmon_key_index (req->arena, division, kind->prefix, NULL), seq,
                         id);
        pmo_commit_zadd (commit,
                         riskmon_key_index (req->arena, division, kind->prefix,
                                            pmo_reflect_str (entry, "project_id")),
                         seq, id);
    }
    riskmon_change_add (req->arena, commit, change, division,
                        s_entry_event (req, kind, what, division, entry, now));
}

void riskmon_entry_write (pmo_request_t *req, pmo_commit_t *commit, riskmon_change_t *change,
                          ProtobufCMessage *entry, uint64_t expect, int64_t now)
{
    s_write (req, commit, change, entry, expect, expect ? "updated" : "created", now);
}

void riskmon_entry_write_steps (pmo_request_t *req, pmo_commit_t *commit, riskmon_change_t *change,
                                ProtobufCMessage *const *steps, size_t n_steps,
                                ProtobufCMessage *entry, const char *const *events, uint64_t expect,
                                int64_t now)
{
    const s_kind_t *kind = s_kind_of (entry->descriptor);
    const char *division = pmo_reflect_str (entry, "division");
    //  The steps before: each its version for history and its event
    for (size_t i = 0; i < n_steps; i++) {
        riskmon_store_put (commit, req->arena,
                           riskmon_key_entry_version (req->arena, division, kind->prefix,
                                                      pmo_reflect_str (steps[i], "id"),
                                                      pmo_reflect_u64 (steps[i], "version")),
                           steps[i], 0, 1);
        riskmon_change_add (req->arena, commit, change, division,
                            s_entry_event (req, kind, events[i], division, steps[i], now));
    }
    //  The last: the entry itself as the first would have been written
    s_write (req, commit, change, entry, expect, events[n_steps], now);
}

int riskmon_entry_may_close (pmo_request_t *req, const ProtobufCMessage *entry)
{
    const s_kind_t *kind = s_kind_of (entry->descriptor);
    return pmo_request_may (req, riskmon_roles (), RISKMON_WRITE,
                            pmo_reflect_str (entry, "org_unit_path"),
                            pmo_arena_printf (req->arena, "close %ss", kind->name))
               ? 0
               : -1;
}

int riskmon_entry_close (pmo_request_t *req, ProtobufCMessage *entry,
                         const Pmo__CloseRequest *close, const char *field, int64_t now)
{
    const s_kind_t *kind = s_kind_of (entry->descriptor);
    if (close->note && (strlen (close->note) > 4000 || !pmo_text_valid (close->note)))
        return FAIL (req, INVALID, pmo_arena_printf (req->arena, "%s.note", field),
                     "note is text of at most 4000 characters"),
               -1;
    const char *closed_already = NULL;
    if (entry->descriptor == &pmo__risk__descriptor) {
        Pmo__Risk *risk = (Pmo__Risk *)entry;
        if (!riskmon_risk_open (risk))
            closed_already = "risk";
        if (close->risk_status != PMO__RISK_STATUS__RISK_STATUS_UNSPECIFIED &&
            close->risk_status != PMO__RISK_STATUS__RISK_STATUS_CLOSED &&
            close->risk_status != PMO__RISK_STATUS__RISK_STATUS_OCCURRED)
            return FAIL (req, INVALID, pmo_arena_printf (req->arena, "%s.risk_status", field),
                         "a risk closes as closed or occurred"),
                   -1;
        risk->status = close->risk_status == PMO__RISK_STATUS__RISK_STATUS_OCCURRED
                           ? PMO__RISK_STATUS__RISK_STATUS_OCCURRED
                           : PMO__RISK_STATUS__RISK_STATUS_CLOSED;
        risk->closure_note = close->note;
    } else if (entry->descriptor == &pmo__issue__descriptor) {
        Pmo__Issue *issue = (Pmo__Issue *)entry;
        if (issue->status == PMO__ISSUE_STATUS__ISSUE_STATUS_CLOSED)
            closed_already = "issue";
        if (!pmo_str_empty (close->note))
            issue->resolution = close->note;
        if (pmo_str_empty (issue->resolution))
            return FAIL (req, INVALID, pmo_arena_printf (req->arena, "%s.note", field),
                         "closing an issue states its resolution"),
                   -1;
        issue->status = PMO__ISSUE_STATUS__ISSUE_STATUS_CLOSED;
    } else if (entry->descriptor == &pmo__change_request__descriptor) {
        Pmo__ChangeRequest *change = (Pmo__ChangeRequest *)entry;
        if (change->closed)
            closed_already = "change request";
        change->closed = true;
        if (!pmo_str_empty (close->note))
            change->decision_note = close->note;
    } else {
        Pmo__RaidEntry *raid = (Pmo__RaidEntry *)entry;
        if (raid->status == PMO__RAID_STATUS__RAID_STATUS_CLOSED)
            closed_already = "entry";
        raid->status = PMO__RAID_STATUS__RAID_STATUS_CLOSED;
        if (!pmo_str_empty (close->note))
            raid->note = close->note;
    }
    if (closed_already)
        return FAIL (req, FAILED_PRECONDITION, pmo_arena_printf (req->arena, "%s.id", field),
                     "that %s is already closed", closed_already),
               -1;
    (void)kind;
    pmo_reflect_set_u64 (entry, "version", pmo_reflect_u64 (entry, "version") + 1);
    pmo_reflect_set_i64 (entry, "updated_ms", now);
    pmo_reflect_set_str (entry, "updated_by", pmo_request_who (req)->subject, req->arena);
    return 0;
}

int riskmon_entry_health (riskmon_t *self, pmo_request_t *req, pmo_commit_t *commit,
                          Pmo__ProjectHealth *ph, uint64_t ph_version, riskmon_change_t *change)
{
    bool dirty;
    int64_t due;
    riskmon_commit_t *health = riskmon_commit_new (req->arena);
    if (riskmon_project_update (self, req->arena, health, ph, ph_version, "risk",
                                pmo_request_who (req)->subject, pmo_request_who (req)->via,
                                req->header->request_id, change, &dirty, &due, false)) {
        pmo_request_unavailable (req, STORE_NAME);
        return -1;
    }
    //  One commit with the entries: the request's reply is kept with all
    riskmon_commit_copy_into (health, commit);
    return 0;
}

//  A risk changed: the project's health follows in the same commit.
static int s_risk_health (riskmon_t *self, pmo_request_t *req, pmo_commit_t *commit,
                          Pmo__ProjectHealth *ph, uint64_t ph_version, const Pmo__Risk *risk,
                          riskmon_change_t *change)
{
    riskmon_apply_risk (ph->inputs, risk, req->arena);
    return riskmon_entry_health (self, req, commit, ph, ph_version, change);
}

//  ---------------------------------------------------------------------
//  Handlers

void riskmon_handle_create_entry (riskmon_t *self, pmo_request_t *req, ProtobufCMessage *entry,
                                  const char *field)
{
    const s_kind_t *kind = s_kind_of (entry->descriptor);
    pmo_reflect_set_str (entry, "id", "", req->arena);
    pmo_problem_t problem;
    if (s_check_entry (entry, req->arena, &problem))
        return pmo_request_fail_problem (req, &problem, field);
    uint64_t ph_version;
    Pmo__ProjectHealth *ph = riskmon_request_project (
        self, req, pmo_reflect_str (entry, "project_id"),
        pmo_arena_printf (req->arena, "%s.project_id", field), &ph_version);
    if (!ph)
        return;
    int64_t now = riskmon_now (self);
    if (riskmon_entry_new (self, req, entry, field, ph->inputs, true, now))
        return;
    const char *division = pmo_reflect_str (entry, "division");
    char *id;
    if (riskmon_store_next_id (self->store, req->arena, kind->prefix, division, &id))
        return pmo_request_unavailable (req, STORE_NAME);
    pmo_reflect_set_str (entry, "id", id, req->arena);
    pmo_commit_t *commit = riskmon_store_commit (division, req->header->request_id);
    riskmon_change_t change = {0};
    riskmon_entry_write (req, commit, &change, entry, 0, now);
    if (entry->descriptor == &pmo__risk__descriptor &&
        s_risk_health (self, req, commit, ph, ph_version, (Pmo__Risk *)entry, &change)) {
        pmo_commit_destroy (&commit);
        return;
    }
    pmo_reflect_set_oneof (req->reply, kind->reply_field, entry);
    riskmon_request_commit (self, req, commit, division, &change);
}

void riskmon_handle_update_entry (riskmon_t *self, pmo_request_t *req, ProtobufCMessage *next,
                                  const char *field)
{
    const s_kind_t *kind = s_kind_of (next->descriptor);
    uint64_t version;
    char *division;
    ProtobufCMessage *stored =
        s_fetch (self, req, kind, pmo_reflect_str (next, "id"),
                 pmo_arena_printf (req->arena, "%s.id", field), &version, &division);
    if (!stored)
        return;
    int64_t now = riskmon_now (self);
    if (riskmon_entry_next (self, req, next, stored, version, division, field, true, now))
        return;
    pmo_commit_t *commit = riskmon_store_commit (division, req->header->request_id);
    riskmon_change_t change = {0};
    riskmon_entry_write (req, commit, &change, next, version, now);
    if (next->descriptor == &pmo__risk__descriptor) {
        uint64_t ph_version;
        Pmo__ProjectHealth *ph = riskmon_request_project (
            self, req, pmo_reflect_str (next, "project_id"), field, &ph_version);
        if (!ph || s_risk_health (self, req, commit, ph, ph_version, (Pmo__Risk *)next, &change)) {
            pmo_commit_destroy (&commit);
            return;
        }
    }
    pmo_reflect_set_oneof (req->reply, kind->reply_field, next);
    riskmon_request_commit (self, req, commit, division, &change);
}

void riskmon_handle_close (riskmon_t *self, pmo_request_t *req, Pmo__CloseRequest *close)
{
    const s_kind_t *kind = s_kind (close->kind);
    if (!kind || kind->kind == PMO__REGISTER_KIND__REGISTER_KIND_ALERT)
        return (void)FAIL (req, INVALID, "close.kind",
                           "kind is required: risk, issue, change_request or raid (alerts are "
                           "resolved)");
    uint64_t version;
    char *division;
    ProtobufCMessage *entry = s_fetch (self, req, kind, close->id, "close.id", &version, &division);
    if (!entry)
        return;
    if (riskmon_entry_may_close (req, entry))
        return;
    if (riskmon_replayed (self, req, division))
        return;
    if (!pmo_request_version_matches (req, "close.version", kind->name, close->version, version))
        return;
    int64_t now = riskmon_now (self);
    if (riskmon_entry_close (req, entry, close, "close", now))
        return;
    pmo_commit_t *commit = riskmon_store_commit (division, req->header->request_id);
    s_put_entry (req, commit, kind, division, entry, version);
    riskmon_change_t change = {0};
    riskmon_change_add (req->arena, commit, &change, division,
                        s_entry_event (req, kind, "closed", division, entry, now));
    if (entry->descriptor == &pmo__risk__descriptor) {
        uint64_t ph_version;
        Pmo__ProjectHealth *ph = riskmon_request_project (
            self, req, pmo_reflect_str (entry, "project_id"), "close.id", &ph_version);
        if (!ph || s_risk_health (self, req, commit, ph, ph_version, (Pmo__Risk *)entry, &change)) {
            pmo_commit_destroy (&commit);
            return;
        }
    }
    pmo_reflect_set_oneof (req->reply, kind->reply_field, entry);
    riskmon_request_commit (self, req, commit, division, &change);
}

void riskmon_handle_get (riskmon_t *self, pmo_request_t *req, Pmo__RiskmonGetRequest *get)
{
    const s_kind_t *kind = s_kind (get->kind);
    if (!kind)
        return (void)FAIL (req, INVALID, "get.kind",
                           "kind is required: risk, issue, change_request, raid or alert");
    uint64_t version;
    char *division;
    ProtobufCMessage *entry = s_fetch (self, req, kind, get->id, "get.id", &version, &division);
    if (!entry)
        return;
    pmo_reflect_set_oneof (req->reply, kind->reply_field, entry);
    if (!get->with_history)
        return;
    Pmo__RiskmonPage *history = pmo_arena_alloc (req->arena, sizeof (Pmo__RiskmonPage));
    pmo__riskmon_page__init (history);
    size_t n = (size_t)version;
    char **keys = pmo_arena_alloc (req->arena, (n + 1) * sizeof (char *));
    for (size_t v = 0; v < n; v++)
        keys[v] = riskmon_key_entry_version (req->arena, division, kind->prefix, get->id, v + 1);
    ProtobufCMessage **msgs = pmo_arena_alloc (req->arena, (n + 1) * sizeof (void *));
    if (riskmon_store_get_many (self->store, req->arena, keys, n, kind->desc, msgs, NULL))
        return pmo_request_unavailable (req, STORE_NAME);
    //  An alert never changed has no copy of its first version: it is that
    if (n == 1 && !msgs[0])
        msgs[0] = entry;
    for (size_t v = 0; v < n; v++)
        if (msgs[v])
            pmo_reflect_append (&history->base, kind->page_field, msgs[v], req->arena);
    riskmon_reply (req)->history = history;
}

//  Does an entry pass the list's filters?
static bool s_list_match (pmo_request_t *req, const Pmo__RiskmonListRequest *list,
                          ProtobufCMessage *msg)
{
    const char *path = pmo_reflect_str (msg, "org_unit_path");
    if (!riskmon_allowed (pmo_request_who (req), RISKMON_READ, path))
        return false;
    if (!pmo_str_empty (list->org_unit) && !pmo_path_contains (path, list->org_unit))
        return false;
    const char *owner = pmo_reflect_has (msg->descriptor, "owner")
                            ? pmo_reflect_str (msg, "owner")
                            : pmo_reflect_str (msg, "assignee");
    if (!pmo_str_empty (list->owner) && strcmp (owner, list->owner) != 0)
        return false;
    if (msg->descriptor == &pmo__risk__descriptor) {
        Pmo__Risk *r = (Pmo__Risk *)msg;
        if (!list->include_closed && !riskmon_risk_open (r))
            return false;
        if (list->min_band && r->residual_band < list->min_band)
            return false;
        if (!pmo_str_empty (list->category) && strcasecmp (r->category, list->category) != 0)
            return false;
    } else if (msg->descriptor == &pmo__issue__descriptor) {
        Pmo__Issue *i = (Pmo__Issue *)msg;
        if (!list->include_closed && i->status >= PMO__ISSUE_STATUS__ISSUE_STATUS_RESOLVED)
            return false;
    } else if (msg->descriptor == &pmo__change_request__descriptor) {
        if (!list->include_closed && ((Pmo__ChangeRequest *)msg)->closed)
            return false;
    } else if (msg->descriptor == &pmo__raid_entry__descriptor) {
        Pmo__RaidEntry *e = (Pmo__RaidEntry *)msg;
        if (!list->include_closed && e->status == PMO__RAID_STATUS__RAID_STATUS_CLOSED)
            return false;
        if (list->raid_kind && e->kind != list->raid_kind)
            return false;
    } else {
        Pmo__Alert *a = (Pmo__Alert *)msg;
        if (!list->include_closed && a->state == PMO__ALERT_STATE__ALERT_STATE_RESOLVED)
            return false;
        if (list->min_severity && a->severity < list->min_severity)
            return false;
    }
    return true;
}

//  Fill the page from one index after score `after`. 1 when the page is
//  full or the scan budget spent (*last = where to resume), 0 when the
//  index is exhausted, -1 on failure.
static int s_list_index (riskmon_t *self, pmo_request_t *req, const s_kind_t *kind,
                         const Pmo__RiskmonListRequest *list, Pmo__RiskmonPage *page,
                         const char *division, const char *project, double after, size_t limit,
                         size_t *count, size_t *scanned, double *last)
{
    while (*count < limit && *scanned < LIST_SCAN_MAX) {
        char **ids;
        double *scores;
        size_t n;
        size_t want = limit - *count;
        if (want < 50)
            want = 50;
        if (riskmon_store_zrange (self->store, req->arena,
                                  riskmon_key_index (req->arena, division, kind->prefix, project),
                                  &after, INFINITY, want, &ids, &scores, &n)) {
            pmo_request_unavailable (req, STORE_NAME);
            return -1;
        }
        if (n == 0)
            return 0;
        char **keys = pmo_arena_alloc (req->arena, n * sizeof (char *));
        for (size_t i = 0; i < n; i++)
            keys[i] = riskmon_key_entry (req->arena, division, kind->prefix, ids[i]);
        ProtobufCMessage **msgs = pmo_arena_alloc (req->arena, n * sizeof (void *));
        if (riskmon_store_get_many (self->store, req->arena, keys, n, kind->desc, msgs, NULL)) {
            pmo_request_unavailable (req, STORE_NAME);
            return -1;
        }
        for (size_t i = 0; i < n; i++) {
            (*scanned)++;
            after = scores[i];
            if (msgs[i] && s_list_match (req, list, msgs[i])) {
                pmo_reflect_append (&page->base, kind->page_field, msgs[i], req->arena);
                if (++*count == limit)
                    break;
            }
        }
        if (n < want && *count < limit)
            return 0;
    }
    *last = after;
    return 1;
}

void riskmon_handle_list (riskmon_t *self, pmo_request_t *req, Pmo__RiskmonListRequest *list)
{
    const s_kind_t *kind = s_kind (list->kind);
    if (!kind)
        return (void)FAIL (req, INVALID, "list.kind",
                           "kind is required: risk, issue, change_request, raid or alert");
    if (list->limit > LIST_MAX)
        return (void)FAIL (req, INVALID, "list.limit", "limit is at most %d", LIST_MAX);
    size_t limit = list->limit ? list->limit : LIST_DEFAULT;
    Pmo__RiskmonPage *page = pmo_arena_alloc (req->arena, sizeof (Pmo__RiskmonPage));
    pmo__riskmon_page__init (page);
    pmo_reflect_set_oneof (req->reply, "page", &page->base);
    //  Cursor: "<division>|<score>" where to resume
    char cursor_division[40] = "";
    double after = 0;
    if (!pmo_str_empty (list->cursor)) {
        const char *bar = strchr (list->cursor, '|');
        char *end = NULL;
        if (bar && (size_t)(bar - list->cursor) < sizeof cursor_division)
            after = strtod (bar + 1, &end);
        if (!bar || !end || *end || bar == list->cursor)
            return (void)FAIL (req, INVALID, "list.cursor",
                               "cursor is not one this service returned");
        memcpy (cursor_division, list->cursor, (size_t)(bar - list->cursor));
        cursor_division[bar - list->cursor] = 0;
    }
    size_t count = 0, scanned = 0;
    double last;
    if (!pmo_str_empty (list->project_id)) {
        uint64_t version;
        Pmo__ProjectHealth *ph =
            riskmon_request_project (self, req, list->project_id, "list.project_id", &version);
        if (!ph)
            return;
        char *division = riskmon_division_of (req->arena, list->project_id);
        int rc = s_list_index (self, req, kind, list, page, division, list->project_id,
                               *cursor_division ? after : 0, limit, &count, &scanned, &last);
        if (rc == 1)
            page->next_cursor = pmo_arena_printf (req->arena, "%s|%.17g", division, last);
        return;
    }
    const char *hub = riskmon_store_hub (self->store);
    const Pmo__OrgUnit *unit = NULL;
    if (!pmo_str_empty (list->org_unit) &&
        !(unit = riskmon_unit_for (self, req->arena, list->org_unit)))
        return (void)FAIL (req, NOT_FOUND, "list.org_unit", "no org unit '%s'", list->org_unit);
    //  The divisions the subtree spans, in a stable order
    char **divisions = pmo_arena_alloc (req->arena, (self->n_streams + 1) * sizeof (char *));
    size_t n_div = 0;
    for (size_t i = 0; i < self->n_streams; i++)
        if (!unit || streq (unit->id, hub) || streq (unit->division, self->divisions[i]))
            divisions[n_div++] = self->divisions[i];
    for (size_t i = 1; i < n_div; i++)
        for (size_t j = i; j > 0 && strcmp (divisions[j - 1], divisions[j]) > 0; j--) {
            char *swap = divisions[j];
            divisions[j] = divisions[j - 1];
            divisions[j - 1] = swap;
        }
    bool resuming = *cursor_division != 0;
    for (size_t i = 0; i < n_div; i++) {
        double from = 0;
        if (resuming) {
            if (strcmp (divisions[i], cursor_division) < 0)
                continue;
            if (streq (divisions[i], cursor_division))
                from = after;
            resuming = false;
        }
        int rc = s_list_index (self, req, kind, list, page, divisions[i], NULL, from, limit, &count,
                               &scanned, &last);
        if (rc < 0)
            return;
        if (rc == 1) {
            page->next_cursor = pmo_arena_printf (req->arena, "%s|%.17g", divisions[i], last);
            return;
        }
    }
}

//  Acknowledge (stop the climb) or resolve an alert.
void riskmon_handle_alert_action (riskmon_t *self, pmo_request_t *req,
                                  Pmo__AlertActionRequest *action, bool resolve)
{
    const char *field = resolve ? "resolve_alert" : "acknowledge_alert";
    const s_kind_t *kind = s_kind (PMO__REGISTER_KIND__REGISTER_KIND_ALERT);
    uint64_t version;
    char *division;
    Pmo__Alert *alert =
        (Pmo__Alert *)s_fetch (self, req, kind, action->id,
                               pmo_arena_printf (req->arena, "%s.id", field), &version, &division);
    if (!alert)
        return;
    if (!pmo_request_may (req, riskmon_roles (), RISKMON_ALERTS, alert->org_unit_path,
                          resolve ? "resolve alerts" : "acknowledge alerts"))
        return;
    if (riskmon_replayed (self, req, division))
        return;
    if (!pmo_request_version_matches (req, pmo_arena_printf (req->arena, "%s.version", field),
                                      "alert", action->version, version))
        return;
    if (action->note && (strlen (action->note) > 4000 || !pmo_text_valid (action->note)))
        return (void)FAIL (req, INVALID, pmo_arena_printf (req->arena, "%s.note", field),
                           "note is text of at most 4000 characters");
    if (alert->state == PMO__ALERT_STATE__ALERT_STATE_RESOLVED)
        return (void)FAIL (req, FAILED_PRECONDITION, pmo_arena_printf (req->arena, "%s.id", field),
                           "alert %s is resolved", alert->id);
    if (!resolve && alert->state == PMO__ALERT_STATE__ALERT_STATE_ACKNOWLEDGED)
        return (void)FAIL (req, FAILED_PRECONDITION, pmo_arena_printf (req->arena, "%s.id", field),
                           "alert %s was already acknowledged by %s", alert->id,
                           alert->acknowledged_by);
    int64_t now = riskmon_now (self);
    pmo_commit_t *commit = riskmon_store_commit (division, req->header->request_id);
    if (riskmon_alert_first (self, commit, req->arena, division, alert, version)) {
        pmo_commit_destroy (&commit);
        return pmo_request_unavailable (req, STORE_NAME);
    }
    if (resolve) {
        alert->state = PMO__ALERT_STATE__ALERT_STATE_RESOLVED;
        alert->resolved_ms = now;
        alert->resolved_by = (char *)pmo_request_who (req)->subject;
        alert->resolution = pmo_str_empty (action->note) ? "resolved" : action->note;
        //  The project's record keeps the alert as suppressed while its
        //  condition holds, so it is not raised again until it clears
        uint64_t ph_version;
        Pmo__ProjectHealth *ph =
            riskmon_request_project (self, req, alert->project_id, "resolve_alert.id", &ph_version);
        if (!ph) {
            pmo_commit_destroy (&commit);
            return;
        }
        bool found = false;
        for (size_t i = 0; i < ph->n_alerts; i++)
            if (streq (ph->alerts[i]->alert_id, alert->id)) {
                ph->alerts[i]->suppressed = true;
                found = true;
            }
        if (found) {
            ph->version = ph_version + 1;
            riskmon_store_put (commit, req->arena,
                               riskmon_key_project (req->arena, division, alert->project_id),
                               &ph->base, ph_version, ph_version + 1);
        }
    } else {
        alert->state = PMO__ALERT_STATE__ALERT_STATE_ACKNOWLEDGED;
        alert->acknowledged_ms = now;
        alert->acknowledged_by = (char *)pmo_request_who (req)->subject;
    }
    alert->next_escalation_ms = 0;
    alert->version = version + 1;
    alert->updated_ms = now;
    pmo_commit_zrem (commit, riskmon_key_escalations (req->arena, division), alert->id);
    s_put_entry (req, commit, kind, division, &alert->base, version);
    riskmon_change_t change = {0};
    riskmon_change_add (req->arena, commit, &change, division,
                        s_entry_event (req, kind, resolve ? "resolved" : "acknowledged", division,
                                       &alert->base, now));
    pmo_reflect_set_oneof (req->reply, "alert", &alert->base);
    riskmon_request_commit (self, req, commit, division, &change);
}
