/*  test_riskmon_import.c: the risk monitor's import_batch, over real
    ZeroMQ sockets against a real redis-server and a real registry: risks,
    issues, change requests and RAID entries of one division in one commit
    with one event per entry and the projects' health; a bad item anywhere
    writes nothing (and says which row and field); a dry run writes
    nothing; a replay of the same request id writes nothing twice; updates
    with the version read (stale, twice in a batch); a project of another
    division; skip_bad; who may; rows in a state one request does not
    reach (final_state: a risk created closed, an issue created resolved, a
    change request created approved and closed (three steps), a risk
    updated and occurred, a dependency created closed) in the one commit,
    each with every step's event, shown by a dry run, and a bad second step
    refusing the batch.
*/
#include "riskmon_harness.h"

#include "pmo_util.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ITEMS 5

//  The items of one batch and what they point at, kept by the caller.
typedef struct {
    Pmo__RiskmonImportItem items[ITEMS];
    Pmo__RiskmonImportItem *ptrs[ITEMS];
    Pmo__Risk risks[2];
    Pmo__Issue issue;
    Pmo__ChangeRequest change;
    Pmo__RaidEntry raid;
    Pmo__Money money;
    Pmo__RiskmonImportBatch batch;
    Pmo__RiskmonRequest request;
} batch_t;

static char *s_project (rm_t *rm, const char *code, const char *unit, char *out)
{
    Pmo__RegistryReply *reply = rh_project (rm->rh, code, unit);
    rh_ok (reply);
    strcpy (out, reply->project->id);
    rh_free (&reply);
    return out;
}

static void s_org (rm_t *rm)
{
    const char *units[][4] = {{"hub", "enterprise", NULL, "controlling"},
                              {"dft", "division", "hub", "controlling"},
                              {"ops", "division", "hub", "supportive"},
                              {"dft-rail", "department", "dft", NULL},
                              {"dft-road", "department", "dft", NULL}};
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        Pmo__RegistryReply *reply =
            rh_unit (rm->rh, units[i][0], units[i][1], units[i][2], units[i][3]);
        rh_ok (reply);
        rh_free (&reply);
    }
}

//  Two risks (the first critical) of p1, an issue of p1, a change request
//  and a dependency of p2, rows 2..6.
static void s_batch (batch_t *b, const char *p1, const char *p2)
{
    memset (b, 0, sizeof *b);
    pmo__money__init (&b->money);
    b->money.minor = 5000000;
    b->money.currency = "GBP";
    for (size_t i = 0; i < 2; i++) {
        pmo__risk__init (&b->risks[i]);
        b->risks[i].project_id = (char *)p1;
        b->risks[i].title = i ? "Signalling late" : "Supplier fails";
        b->risks[i].owner = "ro@dft";
        b->risks[i].probability = i ? 2 : 5;
        b->risks[i].impact = i ? 3 : 5;
        b->risks[i].cost_impact = &b->money;
    }
    pmo__issue__init (&b->issue);
    b->issue.project_id = (char *)p1;
    b->issue.title = "Depot flooded";
    b->issue.owner = "ro@dft";
    b->issue.severity = PMO__ISSUE_SEVERITY__ISSUE_SEVERITY_HIGH;
    b->issue.type = PMO__ISSUE_TYPE__ISSUE_TYPE_PROBLEM_CONCERN;
    pmo__change_request__init (&b->change);
    b->change.project_id = (char *)p2;
    b->change.title = "Add a platform";
    b->change.reason = "Passenger numbers";
    b->change.decision = PMO__CHANGE_DECISION__CHANGE_DECISION_PENDING;
    b->change.cost_impact = &b->money;
    pmo__raid_entry__init (&b->raid);
    b->raid.project_id = (char *)p2;
    b->raid.kind = PMO__RAID_KIND__RAID_KIND_DEPENDENCY;
    b->raid.title = "Network Rail possession";
    b->raid.owner = "ro@dft";
    b->raid.status = PMO__RAID_STATUS__RAID_STATUS_OPEN;
    for (size_t i = 0; i < ITEMS; i++) {
        pmo__riskmon_import_item__init (&b->items[i]);
        b->items[i].row = (uint32_t)i + 2;
        b->ptrs[i] = &b->items[i];
    }
    b->items[0].body_case = PMO__RISKMON_IMPORT_ITEM__BODY_CREATE_RISK;
    b->items[0].create_risk = &b->risks[0];
    b->items[1].body_case = PMO__RISKMON_IMPORT_ITEM__BODY_CREATE_ISSUE;
    b->items[1].create_issue = &b->issue;
    b->items[2].body_case = PMO__RISKMON_IMPORT_ITEM__BODY_CREATE_CHANGE;
    b->items[2].create_change = &b->change;
    b->items[3].body_case = PMO__RISKMON_IMPORT_ITEM__BODY_CREATE_RAID;
    b->items[3].create_raid = &b->raid;
    b->items[4].body_case = PMO__RISKMON_IMPORT_ITEM__BODY_CREATE_RISK;
    b->items[4].create_risk = &b->risks[1];
    pmo__riskmon_import_batch__init (&b->batch);
    b->batch.division = "dft";
    b->batch.n_items = ITEMS;
    b->batch.items = b->ptrs;
    pmo__riskmon_request__init (&b->request);
    b->request.body_case = PMO__RISKMON_REQUEST__BODY_IMPORT_BATCH;
    b->request.import_batch = &b->batch;
}

//  Everything the registers and the stream of dft hold, as one number each.
typedef struct {
    size_t risks, issues, changes, raids, events;
} counts_t;

static size_t s_listed (rm_t *rm, Pmo__RegisterKind kind)
{
    Pmo__RiskmonListRequest list = PMO__RISKMON_LIST_REQUEST__INIT;
    list.kind = kind;
    list.include_closed = true;
    list.org_unit = "dft";
    Pmo__RiskmonRequest request = PMO__RISKMON_REQUEST__INIT;
    request.body_case = PMO__RISKMON_REQUEST__BODY_LIST;
    request.list = &list;
    Pmo__RiskmonReply *reply = rm_call (rm, &request);
    rm_ok (reply);
    size_t n = reply->page->n_risks + reply->page->n_issues + reply->page->n_change_requests +
               reply->page->n_raid_entries;
    rm_free (&reply);
    return n;
}

static counts_t s_counts (rm_t *rm)
{
    counts_t c = {
        .risks = s_listed (rm, PMO__REGISTER_KIND__REGISTER_KIND_RISK),
        .issues = s_listed (rm, PMO__REGISTER_KIND__REGISTER_KIND_ISSUE),
        .changes = s_listed (rm, PMO__REGISTER_KIND__REGISTER_KIND_CHANGE_REQUEST),
        .raids = s_listed (rm, PMO__REGISTER_KIND__REGISTER_KIND_RAID),
    };
    //  Only what import_batch writes: the consumer's own health events
    //  come as the stream's project events are read, at any time
    const char *types[] = {"risk.created", "risk.updated", "issue.created",
                           "change_request.created", "raid.created"};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        c.events += rm_count_events (rm, "dft", types[i], NULL);
    return c;
}

static void s_same (counts_t a, counts_t b)
{
    assert (a.risks == b.risks && a.issues == b.issues && a.changes == b.changes &&
            a.raids == b.raids && a.events == b.events);
}

static Pmo__ImportItemResult *s_result (Pmo__RiskmonReply *reply, size_t i)
{
    assert (reply->body_case == PMO__RISKMON_REPLY__BODY_IMPORT_BATCH);
    assert (i < reply->import_batch->n_results);
    return reply->import_batch->results[i];
}

//  A bad item in any place: the batch is refused naming its row and field,
//  the others are skipped, and nothing at all is written.
static void s_bad_anywhere (rm_t *rm, const char *p1, const char *p2)
{
    counts_t before = s_counts (rm);
    for (size_t bad = 0; bad < ITEMS; bad++) {
        batch_t b;
        s_batch (&b, p1, p2);
        const char *field = NULL;
        switch (bad) {
        case 0:
            b.risks[0].probability = 6, field = "create_risk.probability";
            break;
        case 1:
            b.issue.status = PMO__ISSUE_STATUS__ISSUE_STATUS_CLOSED, b.issue.resolution = "Pumped";
            field = "create_issue.status";
            break;
        case 2:
            b.change.decision = PMO__CHANGE_DECISION__CHANGE_DECISION_APPROVED;
            field = "create_change.decision";
            break;
        case 3:
            b.raid.title = "", field = "create_raid.title";
            break;
        default:
            b.risks[1].project_id = "pr_dft_9999", field = "create_risk.project_id";
            break;
        }
        Pmo__RiskmonReply *reply = rm_call (rm, &b.request);
        char where[96];
        snprintf (where, sizeof where, "import_batch.items[%zu].%s", bad, field);
        if (!reply->error || !streq (reply->error->field, where))
            fprintf (stderr, "bad %zu: %s: %s\n", bad, reply->error ? reply->error->field : "-",
                     reply->error ? reply->error->message : "no error");
        assert (reply->error && streq (reply->error->field, where));
        assert (strstr (reply->error->message, "nothing was written"));
        char row[16];
        snprintf (row, sizeof row, "row %zu", bad + 2);
        assert (strstr (reply->error->message, row));
        if (reply->import_batch->failed != 1)
            for (size_t i = 0; i < ITEMS; i++)
                if (s_result (reply, i)->error)
                    fprintf (stderr, "bad %zu: item %zu: %s: %s\n", bad, i,
                             s_result (reply, i)->error->field,
                             s_result (reply, i)->error->message);
        assert (reply->import_batch->failed == 1 && !reply->import_batch->committed);
        for (size_t i = 0; i < ITEMS; i++)
            assert (s_result (reply, i)->outcome ==
                    (i == bad ? PMO__IMPORT_OUTCOME__IMPORT_OUTCOME_FAILED
                              : PMO__IMPORT_OUTCOME__IMPORT_OUTCOME_SKIPPED));
        assert (streq (s_result (reply, bad)->error->field, field));
        rm_free (&reply);
    }
    s_same (before, s_counts (rm));
}

static void s_dry_run (rm_t *rm, const char *p1, const char *p2)
{
    counts_t before = s_counts (rm);
    batch_t b;
    s_batch (&b, p1, p2);
    b.batch.dry_run = true;
    Pmo__RiskmonReply *reply = rm_call (rm, &b.request);
    rm_ok (reply);
    assert (reply->import_batch->created == ITEMS && !reply->import_batch->committed);
    for (size_t i = 0; i < ITEMS; i++)
        assert (s_result (reply, i)->outcome == PMO__IMPORT_OUTCOME__IMPORT_OUTCOME_CREATED &&
                pmo_str_empty (s_result (reply, i)->id));
    rm_free (&reply);
    s_same (before, s_counts (rm));
}

//  One commit with one event per entry and p1's health; a replay of the
//  same request id answers the same and writes nothing twice. Returns the
//  first risk's id in risk_id.
static void s_commit_and_replay (rm_t *rm, const char *p1, const char *p2, char *risk_id)
{
    counts_t before = s_counts (rm);
    batch_t b;
    s_batch (&b, p1, p2);
    Pmo__RiskmonReply *reply = rm_call_with_id (rm, &b.request, "import-registers-1");
    rm_ok (reply);
    Pmo__ImportBatchReply *out = reply->import_batch;
    assert (out->committed && out->created == ITEMS && out->failed == 0);
    const char *prefixes[ITEMS] = {"rk_dft_", "is_dft_", "cr_dft_", "ra_dft_", "rk_dft_"};
    for (size_t i = 0; i < ITEMS; i++) {
        assert (out->results[i]->outcome == PMO__IMPORT_OUTCOME__IMPORT_OUTCOME_CREATED);
        assert (strncmp (out->results[i]->id, prefixes[i], 7) == 0);
        assert (out->results[i]->version == 1 && out->results[i]->row == i + 2);
    }
    strcpy (risk_id, out->results[0]->id);
    char ids[ITEMS][40];
    for (size_t i = 0; i < ITEMS; i++)
        strcpy (ids[i], out->results[i]->id);
    rm_free (&reply);
    counts_t after = s_counts (rm);
    assert (after.risks == before.risks + 2 && after.issues == before.issues + 1 &&
            after.changes == before.changes + 1 && after.raids == before.raids + 1);
    assert (rm_count_events (rm, "dft", "risk.created", NULL) == 2);
    assert (rm_count_events (rm, "dft", "issue.created", NULL) == 1);
    assert (rm_count_events (rm, "dft", "change_request.created", NULL) == 1);
    assert (rm_count_events (rm, "dft", "raid.created", NULL) == 1);
    //  p1's health took both risks in the same commit: red on the critical one
    Pmo__RiskmonReply *health = rm_health (rm, p1);
    rm_ok (health);
    Pmo__HealthAssessment *a = health->health->current;
    assert (a && a->inputs->n_open_risks == 2 && a->risk == PMO__RAG__RAG_RED);
    rm_free (&health);

    //  The same request id again: the stored reply, nothing written twice
    s_batch (&b, p1, p2);
    reply = rm_call_with_id (rm, &b.request, "import-registers-1");
    rm_ok (reply);
    assert (reply->import_batch->committed && reply->import_batch->created == ITEMS);
    for (size_t i = 0; i < ITEMS; i++)
        assert (streq (reply->import_batch->results[i]->id, ids[i]));
    rm_free (&reply);
    s_same (after, s_counts (rm));
}

static Pmo__Risk *s_get_risk (rm_t *rm, const char *id, Pmo__RiskmonReply **reply_p)
{
    Pmo__RiskmonGetRequest get = PMO__RISKMON_GET_REQUEST__INIT;
    get.kind = PMO__REGISTER_KIND__REGISTER_KIND_RISK;
    get.id = (char *)id;
    Pmo__RiskmonRequest request = PMO__RISKMON_REQUEST__INIT;
    request.body_case = PMO__RISKMON_REQUEST__BODY_GET;
    request.get = &get;
    *reply_p = rm_call (rm, &request);
    rm_ok (*reply_p);
    return (*reply_p)->risk;
}

//  Updates carry the version read: a stale one is that row's conflict, a
//  record updated twice in one batch is refused, a good one moves it on.
static void s_updates (rm_t *rm, const char *p1, const char *p3, const char *risk_id)
{
    Pmo__RiskmonReply *got;
    Pmo__Risk *risk = s_get_risk (rm, risk_id, &got);
    assert (risk->version == 1);
    Pmo__Risk next = *risk, again = *risk, stale = *risk;
    next.probability = next.residual_probability = 1;
    next.impact = next.residual_impact = 1;
    again.title = "Supplier fails twice";
    stale.version = 7;
    Pmo__Issue other = PMO__ISSUE__INIT;
    other.project_id = (char *)p3; //  a project of ops, in a batch of dft
    other.title = "Elsewhere";
    other.type = PMO__ISSUE_TYPE__ISSUE_TYPE_PROBLEM_CONCERN;
    Pmo__RiskmonImportItem items[3] = {PMO__RISKMON_IMPORT_ITEM__INIT,
                                       PMO__RISKMON_IMPORT_ITEM__INIT,
                                       PMO__RISKMON_IMPORT_ITEM__INIT};
    Pmo__RiskmonImportItem *ptrs[3] = {&items[0], &items[1], &items[2]};
    for (size_t i = 0; i < 3; i++)
        items[i].row = (uint32_t)i + 10;
    items[0].body_case = PMO__RISKMON_IMPORT_ITEM__BODY_UPDATE_RISK;
    items[0].update_risk = &next;
    items[1].body_case = PMO__RISKMON_IMPORT_ITEM__BODY_UPDATE_RISK;
    items[1].update_risk = &again;
    items[2].body_case = PMO__RISKMON_IMPORT_ITEM__BODY_CREATE_ISSUE;
    items[2].create_issue = &other;
    Pmo__RiskmonImportBatch batch = PMO__RISKMON_IMPORT_BATCH__INIT;
    batch.division = "dft";
    batch.items = ptrs;
    batch.n_items = 3;
    batch.skip_bad = true;
    Pmo__RiskmonRequest request = PMO__RISKMON_REQUEST__INIT;
    request.body_case = PMO__RISKMON_REQUEST__BODY_IMPORT_BATCH;
    request.import_batch = &batch;
    Pmo__RiskmonReply *reply = rm_call (rm, &request);
    rm_ok (reply);
    Pmo__ImportBatchReply *out = reply->import_batch;
    assert (out->committed && out->updated == 1 && out->failed == 2);
    assert (out->results[0]->outcome == PMO__IMPORT_OUTCOME__IMPORT_OUTCOME_UPDATED &&
            out->results[0]->version == 2);
    assert (out->results[1]->outcome == PMO__IMPORT_OUTCOME__IMPORT_OUTCOME_FAILED &&
            streq (out->results[1]->error->field, "update_risk.id") &&
            strstr (out->results[1]->error->message, "also updated by row 10"));
    assert (out->results[2]->error->code == PMO__ERROR_CODE__ERROR_INVALID &&
            streq (out->results[2]->error->field, "create_issue.project_id") &&
            strstr (out->results[2]->error->message, "not this batch's 'dft'"));
    rm_free (&reply);
    assert (rm_count_events (rm, "dft", "risk.updated", NULL) == 1);
    //  p1's health followed: the critical risk is now minimal
    Pmo__RiskmonReply *health = rm_health (rm, p1);
    rm_ok (health);
    assert (health->health->current->risk != PMO__RAG__RAG_RED);
    rm_free (&health);

    //  The version read is now stale
    items[0].update_risk = &stale;
    batch.n_items = 1;
    batch.skip_bad = false;
    reply = rm_call (rm, &request);
    rm_err (reply, CONFLICT, "import_batch.items[0].update_risk.version");
    rm_free (&reply);
    rm_free (&got);
    assert (rm_count_events (rm, "dft", "risk.updated", NULL) == 1);
}

//  A viewer's rows are forbidden, each naming itself; nothing is written.
static void s_access (rm_t *rm, const char *p1, const char *p2)
{
    counts_t before = s_counts (rm);
    rh_as (rm->rh, "viewer@dft", "viewer@dft");
    batch_t b;
    s_batch (&b, p1, p2);
    b.batch.skip_bad = true;
    Pmo__RiskmonReply *reply = rm_call (rm, &b.request);
    rm_ok (reply);
    assert (reply->import_batch->failed == ITEMS && !reply->import_batch->committed);
    for (size_t i = 0; i < ITEMS; i++)
        assert (s_result (reply, i)->error->code == PMO__ERROR_CODE__ERROR_FORBIDDEN);
    rm_free (&reply);
    rh_as (rm->rh, "admin@test", "admin@hub");
    s_same (before, s_counts (rm));
}

static void s_malformed (rm_t *rm)
{
    Pmo__RiskmonImportBatch batch = PMO__RISKMON_IMPORT_BATCH__INIT;
    Pmo__RiskmonRequest request = PMO__RISKMON_REQUEST__INIT;
    request.body_case = PMO__RISKMON_REQUEST__BODY_IMPORT_BATCH;
    request.import_batch = &batch;
    Pmo__RiskmonReply *reply = rm_call (rm, &request);
    rm_err (reply, INVALID, "import_batch.division");
    rm_free (&reply);
    batch.division = "dft";
    reply = rm_call (rm, &request);
    rm_err (reply, INVALID, "import_batch.items");
    rm_free (&reply);
    Pmo__RiskmonImportItem empty = PMO__RISKMON_IMPORT_ITEM__INIT, *ptrs[1] = {&empty};
    batch.items = ptrs;
    batch.n_items = 1;
    reply = rm_call (rm, &request);
    rm_err (reply, INVALID, "import_batch.items[0].item");
    rm_free (&reply);
}

static Pmo__RiskmonReply *s_get (rm_t *rm, Pmo__RegisterKind kind, const char *id)
{
    Pmo__RiskmonGetRequest get = PMO__RISKMON_GET_REQUEST__INIT;
    get.kind = kind;
    get.id = (char *)id;
    Pmo__RiskmonRequest request = PMO__RISKMON_REQUEST__INIT;
    request.body_case = PMO__RISKMON_REQUEST__BODY_GET;
    request.get = &get;
    Pmo__RiskmonReply *reply = rm_call (rm, &request);
    rm_ok (reply);
    return reply;
}

//  Rows past what one request does, in one commit (final_state).
static void s_final_state (rm_t *rm, const char *p1, const char *p2)
{
    //  An open risk to update and mark occurred
    batch_t b;
    s_batch (&b, p1, p2);
    Pmo__RiskmonRequest single = PMO__RISKMON_REQUEST__INIT;
    single.body_case = PMO__RISKMON_REQUEST__BODY_CREATE_RISK;
    single.create_risk = &b.risks[1];
    Pmo__RiskmonReply *created = rm_call (rm, &single);
    rm_ok (created);
    //  (created owns what open points at: freed at the end)
    Pmo__Risk open = *created->risk;
    char open_id[40];
    strcpy (open_id, open.id);
    uint64_t open_version = open.version;
    Pmo__RiskmonReply *reply;
    const char *types[] = {"risk.created",
                           "risk.updated",
                           "risk.closed",
                           "issue.created",
                           "issue.updated",
                           "change_request.created",
                           "change_request.updated",
                           "change_request.closed",
                           "raid.created",
                           "raid.closed"};
    size_t before[10];
    for (size_t i = 0; i < 10; i++)
        before[i] = rm_count_events (rm, "dft", types[i], NULL);
    counts_t counts = s_counts (rm);
    Pmo__RiskmonReply *health = rm_health (rm, p1);
    rm_ok (health);
    size_t open_before = health->health->current->inputs->n_open_risks;
    rm_free (&health);

    //  Items: a risk created closed, an issue created resolved, a change
    //  request created approved and closed, the open risk updated and
    //  occurred, a dependency created closed
    s_batch (&b, p1, p2);
    b.risks[0].status = PMO__RISK_STATUS__RISK_STATUS_CLOSED;
    b.risks[0].closure_note = "Supplier replaced";
    b.issue.status = PMO__ISSUE_STATUS__ISSUE_STATUS_RESOLVED;
    b.issue.resolution = "Pumps hired";
    b.change.decision = PMO__CHANGE_DECISION__CHANGE_DECISION_APPROVED;
    b.change.decision_note = "Within tolerance";
    b.change.closed = true;
    Pmo__Risk occurred = open;
    occurred.id = open_id;
    occurred.version = open_version;
    occurred.impact = 4;
    occurred.status = PMO__RISK_STATUS__RISK_STATUS_OCCURRED;
    occurred.closure_note = "It happened";
    b.items[3].body_case = PMO__RISKMON_IMPORT_ITEM__BODY_UPDATE_RISK;
    b.items[3].update_risk = &occurred;
    b.raid.status = PMO__RAID_STATUS__RAID_STATUS_CLOSED;
    b.raid.note = "Possession granted";
    b.items[4].body_case = PMO__RISKMON_IMPORT_ITEM__BODY_CREATE_RAID;
    b.items[4].create_raid = &b.raid;
    for (size_t i = 0; i < ITEMS; i++)
        b.items[i].final_state = true;

    //  A bad item refuses the batch: a resolved issue without its
    //  resolution (its second step), a closed entry's note too long
    b.issue.resolution = "";
    reply = rm_call (rm, &b.request);
    assert (reply->error && strstr (reply->error->field, "items[1].create_issue.resolution"));
    rm_free (&reply);
    b.issue.resolution = "Pumps hired";
    char *long_note = malloc (4002);
    memset (long_note, 'n', 4001);
    long_note[4001] = 0;
    b.raid.note = long_note;
    reply = rm_call (rm, &b.request);
    assert (reply->error && strstr (reply->error->field, "items[4].create_raid.note"));
    rm_free (&reply);
    free (long_note);
    b.raid.note = "Possession granted";
    //  Without final_state, a closed entry is not created (the single rule)
    b.items[4].final_state = false;
    reply = rm_call (rm, &b.request);
    assert (reply->error && strstr (reply->error->field, "items[4].create_raid.status"));
    rm_free (&reply);
    b.items[4].final_state = true;
    s_same (counts, s_counts (rm));

    //  A dry run answers what the commit would, and writes nothing
    b.batch.dry_run = true;
    reply = rm_call (rm, &b.request);
    rm_ok (reply);
    assert (!reply->import_batch->committed && reply->import_batch->created == 4 &&
            reply->import_batch->updated == 1 && reply->import_batch->failed == 0);
    rm_free (&reply);
    s_same (counts, s_counts (rm));
    b.batch.dry_run = false;

    reply = rm_call (rm, &b.request);
    rm_ok (reply);
    Pmo__ImportBatchReply *out = reply->import_batch;
    assert (out->committed && out->created == 4 && out->updated == 1 && out->failed == 0);
    char ids[ITEMS][40];
    for (size_t i = 0; i < ITEMS; i++) {
        strcpy (ids[i], out->results[i]->id);
        assert (out->results[i]->version == (i == 3 ? open_version + 2 : i == 2 ? 3 : 2));
    }
    rm_free (&reply);
    //  Each in its final state
    reply = s_get (rm, PMO__REGISTER_KIND__REGISTER_KIND_RISK, ids[0]);
    assert (reply->risk->status == PMO__RISK_STATUS__RISK_STATUS_CLOSED &&
            streq (reply->risk->closure_note, "Supplier replaced") && reply->risk->version == 2);
    rm_free (&reply);
    reply = s_get (rm, PMO__REGISTER_KIND__REGISTER_KIND_ISSUE, ids[1]);
    assert (reply->issue->status == PMO__ISSUE_STATUS__ISSUE_STATUS_RESOLVED &&
            streq (reply->issue->resolution, "Pumps hired"));
    rm_free (&reply);
    reply = s_get (rm, PMO__REGISTER_KIND__REGISTER_KIND_CHANGE_REQUEST, ids[2]);
    assert (reply->change_request->decision == PMO__CHANGE_DECISION__CHANGE_DECISION_APPROVED &&
            !pmo_str_empty (reply->change_request->approver) &&
            reply->change_request->decided_ms > 0 && reply->change_request->closed &&
            streq (reply->change_request->decision_note, "Within tolerance") &&
            reply->change_request->version == 3);
    rm_free (&reply);
    reply = s_get (rm, PMO__REGISTER_KIND__REGISTER_KIND_RISK, ids[3]);
    assert (reply->risk->status == PMO__RISK_STATUS__RISK_STATUS_OCCURRED &&
            reply->risk->impact == 4 && streq (reply->risk->closure_note, "It happened"));
    rm_free (&reply);
    reply = s_get (rm, PMO__REGISTER_KIND__REGISTER_KIND_RAID, ids[4]);
    assert (reply->raid_entry->status == PMO__RAID_STATUS__RAID_STATUS_CLOSED &&
            streq (reply->raid_entry->note, "Possession granted") &&
            reply->raid_entry->version == 2);
    rm_free (&reply);
    //  Every step's event: created and closed, created and updated,
    //  created, updated and closed...
    size_t added[10] = {1, 1, 2, 1, 1, 1, 1, 1, 1, 1};
    for (size_t i = 0; i < 10; i++) {
        size_t now = rm_count_events (rm, "dft", types[i], NULL);
        if (now != before[i] + added[i])
            fprintf (stderr, "%s: %zu events, expected %zu\n", types[i], now, before[i] + added[i]);
        assert (now == before[i] + added[i]);
    }
    //  p1's health in the same commit: the risk created closed is not
    //  open, the one that occurred is no longer
    health = rm_health (rm, p1);
    rm_ok (health);
    assert (health->health->current->inputs->n_open_risks == open_before - 1);
    rm_free (&health);
    rm_free (&created);
}

int main (void)
{
    rm_t *rm = rm_start ();
    s_org (rm);
    char p1[40], p2[40], p3[40], risk_id[40];
    s_project (rm, "RAIL-1", "dft-rail", p1);
    s_project (rm, "ROAD-1", "dft-road", p2);
    s_project (rm, "OPS-1", "ops", p3);
    s_malformed (rm);
    s_bad_anywhere (rm, p1, p2);
    s_dry_run (rm, p1, p2);
    s_access (rm, p1, p2);
    s_commit_and_replay (rm, p1, p2, risk_id);
    s_updates (rm, p1, p3, risk_id);
    s_final_state (rm, p1, p2);
    rm_stop (&rm);
    printf ("test_riskmon_import: ok\n");
    return 0;
}
