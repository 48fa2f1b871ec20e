/*  gateway_routes.c: the route table and the generic HTTP <-> protobuf
    mapping. No I/O here: tests/gateway/test_gateway_model.c drives it
    directly.
*/
#include "gateway_routes.h"

#include "gateway.pb-c.h"
#include "registry.pb-c.h"
#include "allocator.pb-c.h"
#include "notifier.pb-c.h"
#include "planner.pb-c.h"
#include "riskmon.pb-c.h"
#include "pmo_util.h"

#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const gateway_service_t gateway_services[GATEWAY_SVC_COUNT] = {
    {"registry", "the project registry", &pmo__registry_request__descriptor,
     &pmo__registry_reply__descriptor},
    {"gateway", "the gateway's token service", &pmo__gateway_request__descriptor,
     &pmo__gateway_reply__descriptor},
    {"allocator", "the resource allocator", &pmo__allocator_request__descriptor,
     &pmo__allocator_reply__descriptor},
    {"riskmon", "the risk monitor", &pmo__riskmon_request__descriptor,
     &pmo__riskmon_reply__descriptor},
    {"notifier", "the notifier", &pmo__notifier_request__descriptor,
     &pmo__notifier_reply__descriptor},
    {"planner", "the planner", &pmo__planner_request__descriptor, &pmo__planner_reply__descriptor},
};

#define REG     GATEWAY_SVC_REGISTRY
#define ALC     GATEWAY_SVC_ALLOCATOR
#define RSK     GATEWAY_SVC_RISKMON
#define NTF     GATEWAY_SVC_NOTIFIER
#define PLN     GATEWAY_SVC_PLANNER
#define KIND(k) "{\"kind\":\"" k "\"}"

//  A collection: list and create. S_ service, P_ path, LM_ list member,
//  LF_ its fixed JSON, LR_ the reply member holding the page, I_ the page's
//  items, C_ create member, R_ the reply member holding one item, W_ what.
#define COLLECTION(S_, P_, LM_, LF_, LR_, I_, C_, R_, W_)                                          \
    {.method = "GET",                                                                              \
     .pattern = P_,                                                                                \
     .service = S_,                                                                                \
     .op = GATEWAY_OP_LIST,                                                                        \
     .member = LM_,                                                                                \
     .fixed = LF_,                                                                                 \
     .reply = LR_,                                                                                 \
     .items = I_,                                                                                  \
     .status = 200,                                                                                \
     .summary = "List " W_ "s (filters and paging as query parameters)"},                          \
    {                                                                                              \
        .method = "POST", .pattern = P_, .service = S_, .op = GATEWAY_OP_CREATE, .member = C_,     \
        .reply = R_, .location = P_ "/", .status = 201, .summary = "Create a " W_                  \
    }

//  An item: read (GM_ with GF_ and the id), replace and patch (U_).
#define ITEM(S_, P_, GM_, GF_, U_, R_, W_)                                                         \
    {.method = "GET",                                                                              \
     .pattern = P_ "/{id}",                                                                        \
     .service = S_,                                                                                \
     .op = GATEWAY_OP_GET,                                                                         \
     .member = GM_,                                                                                \
     .fixed = GF_,                                                                                 \
     .id_field = "id",                                                                             \
     .reply = R_,                                                                                  \
     .status = 200,                                                                                \
     .summary = "Read a " W_ " (ETag: its version)"},                                              \
        {.method = "PUT",                                                                          \
         .pattern = P_ "/{id}",                                                                    \
         .service = S_,                                                                            \
         .op = GATEWAY_OP_UPDATE,                                                                  \
         .member = U_,                                                                             \
         .id_field = "id",                                                                         \
         .version_field = "version",                                                               \
         .reply = R_,                                                                              \
         .status = 200,                                                                            \
         .summary = "Replace a " W_ " (If-Match: the version read)"},                              \
    {                                                                                              \
        .method = "PATCH", .pattern = P_ "/{id}", .service = S_, .op = GATEWAY_OP_PATCH,           \
        .member = U_, .id_field = "id", .version_field = "version", .reply = R_,                   \
        .read_member = GM_, .read_fixed = GF_, .status = 200,                                      \
        .summary = "Change some fields of a " W_ " (JSON merge patch; If-Match)"                   \
    }

//  Archive an item: DELETE with AM_ (AF_, the id and If-Match's version).
#define ARCHIVE(S_, P_, AM_, AF_, R_, W_)                                                          \
    {                                                                                              \
        .method = "DELETE", .pattern = P_ "/{id}", .service = S_, .op = GATEWAY_OP_ARCHIVE,        \
        .member = AM_, .fixed = AF_, .id_field = "id", .version_field = "version", .reply = R_,    \
        .status = 200, .summary = "Archive a " W_ " (If-Match)"                                    \
    }

//  Read only: one item by id.
#define READ(S_, P_, GM_, GF_, R_, W_)                                                             \
    {                                                                                              \
        .method = "GET", .pattern = P_ "/{id}", .service = S_, .op = GATEWAY_OP_GET,               \
        .member = GM_, .fixed = GF_, .id_field = "id", .reply = R_, .status = 200,                 \
        .summary = "Read a " W_                                                                    \
    }

//  A project's entries of some kind: GET /api/v1/projects/{id}/<sub>.
#define OF_PROJECT(S_, SUB_, LM_, LF_, LR_, I_, W_)                                                \
    {                                                                                              \
        .method = "GET", .pattern = "/api/v1/projects/{id}/" SUB_, .service = S_,                  \
        .op = GATEWAY_OP_LIST, .member = LM_, .fixed = LF_, .id_field = "project_id",              \
        .reply = LR_, .items = I_, .status = 200, .summary = "List a project's " W_ "s"            \
    }

//  A step on an item: POST <path>/{id}/<verb> with the body, the id in
//  ID_ and the version from If-Match (or the body).
#define STEP(S_, P_, VERB_, M_, F_, ID_, R_, W_)                                                   \
    {                                                                                              \
        .method = "POST", .pattern = P_ "/{id}/" VERB_, .service = S_, .op = GATEWAY_OP_ACTION,    \
        .member = M_, .fixed = F_, .id_field = ID_, .version_field = "version", .reply = R_,       \
        .status = 200, .summary = W_                                                               \
    }

//  A view computed from query parameters: GET P_ -> the reply member R_.
#define VIEW(S_, P_, M_, R_, W_)                                                                   \
    {                                                                                              \
        .method = "GET", .pattern = P_, .service = S_, .op = GATEWAY_OP_LIST, .member = M_,        \
        .reply = R_, .status = 200, .summary = W_                                                  \
    }

const gateway_route_t gateway_routes[] = {
    //  The project registry
    COLLECTION (REG, "/api/v1/org-units", "list", KIND ("org_unit"), "page", "org_units",
                "create_org_unit", "org_unit", "org unit"),
    ITEM (REG, "/api/v1/org-units", "get", KIND ("org_unit"), "update_org_unit", "org_unit",
          "org unit"),
    ARCHIVE (REG, "/api/v1/org-units", "archive", KIND ("org_unit"), "org_unit", "org unit"),
    COLLECTION (REG, "/api/v1/portfolios", "list", KIND ("portfolio"), "page", "portfolios",
                "create_portfolio", "portfolio", "portfolio"),
    ITEM (REG, "/api/v1/portfolios", "get", KIND ("portfolio"), "update_portfolio", "portfolio",
          "portfolio"),
    ARCHIVE (REG, "/api/v1/portfolios", "archive", KIND ("portfolio"), "portfolio", "portfolio"),
    COLLECTION (REG, "/api/v1/programmes", "list", KIND ("programme"), "page", "programmes",
                "create_programme", "programme", "programme"),
    ITEM (REG, "/api/v1/programmes", "get", KIND ("programme"), "update_programme", "programme",
          "programme"),
    ARCHIVE (REG, "/api/v1/programmes", "archive", KIND ("programme"), "programme", "programme"),
    COLLECTION (REG, "/api/v1/projects", "list", KIND ("project"), "page", "projects",
                "create_project", "project", "project"),
    ITEM (REG, "/api/v1/projects", "get", KIND ("project"), "update_project", "project", "project"),
    ARCHIVE (REG, "/api/v1/projects", "archive", KIND ("project"), "project", "project"),
    OF_PROJECT (REG, "milestones", "list", KIND ("milestone"), "page", "milestones", "milestone"),
    {.method = "POST",
     .pattern = "/api/v1/projects/{id}/milestones",
     .service = REG,
     .op = GATEWAY_OP_CREATE,
     .member = "create_milestone",
     .id_field = "project_id",
     .reply = "milestone",
     .location = "/api/v1/milestones/",
     .status = 201,
     .summary = "Add a milestone to a project"},
    ITEM (REG, "/api/v1/milestones", "get", KIND ("milestone"), "update_milestone", "milestone",
          "milestone"),
    ARCHIVE (REG, "/api/v1/milestones", "archive", KIND ("milestone"), "milestone", "milestone"),
    OF_PROJECT (REG, "status-reports", "list", KIND ("status_report"), "page", "status_reports",
                "status report"),
    {.method = "POST",
     .pattern = "/api/v1/projects/{id}/status-reports",
     .service = REG,
     .op = GATEWAY_OP_CREATE,
     .member = "submit_status_report",
     .id_field = "project_id",
     .reply = "status_report",
     .location = "/api/v1/status-reports/",
     .status = 201,
     .summary = "Submit a status report for a project"},
    READ (REG, "/api/v1/status-reports", "get", KIND ("status_report"), "status_report",
          "status report"),
    OF_PROJECT (REG, "gate-decisions", "list", KIND ("gate_decision"), "page", "gate_decisions",
                "gate decision"),
    {.method = "POST",
     .pattern = "/api/v1/projects/{id}/gate-decisions",
     .service = REG,
     .op = GATEWAY_OP_ACTION,
     .member = "decide_gate",
     .id_field = "project_id",
     .version_field = "version",
     .reply = "gate_decision",
     .location = "/api/v1/gate-decisions/",
     .status = 201,
     .summary = "Record a gate decision on a project (If-Match or version: the project's)"},
    READ (REG, "/api/v1/gate-decisions", "get", KIND ("gate_decision"), "gate_decision",
          "gate decision"),
    STEP (REG, "/api/v1/projects", "phase", "change_phase", NULL, "project_id", "project",
          "Move a project through the gate into its next phase (If-Match or version)"),
    STEP (REG, "/api/v1/projects", "gate-request", "request_gate", NULL, "project_id", "project",
          "Ask for the gate into a project's next phase: the request waits for the gate's "
          "approvers (If-Match or version)"),
    STEP (REG, "/api/v1/projects", "gate-request/withdraw", "withdraw_gate", NULL, "project_id",
          "project", "Withdraw your own pending gate request (If-Match or version)"),
    {.method = "GET",
     .pattern = "/api/v1/gate-requests",
     .service = REG,
     .op = GATEWAY_OP_LIST,
     .member = "pending_gates",
     .reply = "page",
     .items = "projects",
     .status = 200,
     .summary = "Projects with a pending gate request that you may see (to_decide=true: only the "
                "gates you may decide), each with its gate_request"},

    //  API tokens: the gateway's own token service
    COLLECTION (GATEWAY_SVC_GATEWAY, "/api/v1/tokens", "list_tokens", NULL, "page", "tokens",
                "create_token", "created", "API token"),
    READ (GATEWAY_SVC_GATEWAY, "/api/v1/tokens", "get_token", NULL, "token",
          "API token (never its secret)"),
    {.method = "DELETE",
     .pattern = "/api/v1/tokens/{id}",
     .service = GATEWAY_SVC_GATEWAY,
     .op = GATEWAY_OP_ARCHIVE,
     .member = "revoke_token",
     .id_field = "id",
     .version_field = "version",
     .reply = "token",
     .status = 200,
     .summary = "Revoke an API token (If-Match optional)"},

    //  The audit trail: the committed events the caller may audit (the token
    //  service reads the division streams, gateway_audit.c)
    {.method = "GET",
     .pattern = "/api/v1/audit",
     .service = GATEWAY_SVC_GATEWAY,
     .op = GATEWAY_OP_LIST,
     .member = "audit",
     .reply = "audit",
     .items = "events",
     .status = 200,
     .summary = "Read the audit trail: committed changes newest first, with who made them and "
                "how they were authenticated (filters and paging as query parameters)"},

    //  Import mappings kept on the gateway (its --mappings directory): the
    //  token service lists and reads those the caller may use
    {.method = "GET",
     .pattern = "/api/v1/import/mappings",
     .service = GATEWAY_SVC_GATEWAY,
     .op = GATEWAY_OP_LIST,
     .member = "list_mappings",
     .reply = "mappings",
     .items = "mappings",
     .status = 200,
     .summary = "List the import mappings kept on the gateway that you may use, by name "
                "(entity as a query parameter); POST /api/v1/import takes one as mapping=<name>"},
    {.method = "GET",
     .pattern = "/api/v1/import/mappings/{id}",
     .service = GATEWAY_SVC_GATEWAY,
     .op = GATEWAY_OP_GET,
     .member = "get_mapping",
     .id_field = "name",
     .reply = "mapping",
     .status = 200,
     .summary = "Read an import mapping kept on the gateway, with its JSON text"},

    //  The resource allocator
    COLLECTION (ALC, "/api/v1/resources", "list_resources", NULL, "resources", "resources",
                "create_resource", "resource", "resource"),
    ITEM (ALC, "/api/v1/resources", "get", KIND ("resource"), "update_resource", "resource",
          "resource"),
    ARCHIVE (ALC, "/api/v1/resources", "archive_resource", NULL, "resource", "resource"),
    COLLECTION (ALC, "/api/v1/allocations", "list_allocations", NULL, "allocations", "allocations",
                "request_allocation", "allocation", "allocation"),
    READ (ALC, "/api/v1/allocations", "get", KIND ("allocation"), "allocation", "allocation"),
    STEP (ALC, "/api/v1/allocations", "propose", "propose", NULL, "allocation_id", "allocation",
          "Propose (soft-book) an allocation"),
    STEP (ALC, "/api/v1/allocations", "commit", "commit", NULL, "allocation_id", "allocation",
          "Commit (hard-book) an allocation"),
    STEP (ALC, "/api/v1/allocations", "reject", "reject", NULL, "allocation_id", "allocation",
          "Reject an allocation request (with a reason)"),
    STEP (ALC, "/api/v1/allocations", "release", "release", NULL, "allocation_id", "allocation",
          "Release an allocation"),
    STEP (ALC, "/api/v1/allocations", "reshape", "reshape", NULL, "allocation_id", "allocation",
          "Change an allocation's weeks or hours (committed ones only shrink)"),
    OF_PROJECT (ALC, "allocations", "list_allocations", NULL, "allocations", "allocations",
                "allocation"),
    VIEW (ALC, "/api/v1/capacity", "capacity", "capacity",
          "Capacity and demand per skill and week for an org-unit subtree (the heatmap)"),
    VIEW (ALC, "/api/v1/conflicts", "conflicts", "conflicts",
          "Over-allocated resources and the claims on them, by priority"),
    VIEW (ALC, "/api/v1/match", "match", "match",
          "Rank candidates for a role or skill without booking anything"),

    //  The risk monitor: RAID registers, health, roll-ups, alerts
    COLLECTION (RSK, "/api/v1/risks", "list", KIND ("risk"), "page", "risks", "create_risk", "risk",
                "risk"),
    ITEM (RSK, "/api/v1/risks", "get", KIND ("risk"), "update_risk", "risk", "risk"),
    STEP (RSK, "/api/v1/risks", "close", "close", KIND ("risk"), "id", "risk",
          "Close a risk (or mark it occurred)"),
    OF_PROJECT (RSK, "risks", "list", KIND ("risk"), "page", "risks", "risk"),
    COLLECTION (RSK, "/api/v1/issues", "list", KIND ("issue"), "page", "issues", "create_issue",
                "issue", "issue"),
    ITEM (RSK, "/api/v1/issues", "get", KIND ("issue"), "update_issue", "issue", "issue"),
    STEP (RSK, "/api/v1/issues", "close", "close", KIND ("issue"), "id", "issue",
          "Close an issue (with its resolution)"),
    OF_PROJECT (RSK, "issues", "list", KIND ("issue"), "page", "issues", "issue"),
    COLLECTION (RSK, "/api/v1/changes", "list", KIND ("change_request"), "page", "change_requests",
                "create_change", "change_request", "change request"),
    ITEM (RSK, "/api/v1/changes", "get", KIND ("change_request"), "update_change", "change_request",
          "change request"),
    STEP (RSK, "/api/v1/changes", "close", "close", KIND ("change_request"), "id", "change_request",
          "Close a change request"),
    OF_PROJECT (RSK, "changes", "list", KIND ("change_request"), "page", "change_requests",
                "change request"),
    COLLECTION (RSK, "/api/v1/raid", "list", KIND ("raid"), "page", "raid_entries", "create_raid",
                "raid_entry", "RAID entry (assumption, decision, dependency)"),
    ITEM (RSK, "/api/v1/raid", "get", KIND ("raid"), "update_raid", "raid_entry", "RAID entry"),
    STEP (RSK, "/api/v1/raid", "close", "close", KIND ("raid"), "id", "raid_entry",
          "Close a RAID entry"),
    OF_PROJECT (RSK, "raid", "list", KIND ("raid"), "page", "raid_entries", "RAID entrie"),
    {.method = "GET",
     .pattern = "/api/v1/alerts",
     .service = RSK,
     .op = GATEWAY_OP_LIST,
     .member = "list",
     .fixed = KIND ("alert"),
     .reply = "page",
     .items = "alerts",
     .status = 200,
     .summary = "List alerts (open ones unless include_closed)"},
    READ (RSK, "/api/v1/alerts", "get", KIND ("alert"), "alert", "alert"),
    STEP (RSK, "/api/v1/alerts", "acknowledge", "acknowledge_alert", NULL, "id", "alert",
          "Acknowledge an alert: you own it, it escalates no further"),
    STEP (RSK, "/api/v1/alerts", "resolve", "resolve_alert", NULL, "id", "alert",
          "Resolve an alert (with a note)"),
    OF_PROJECT (RSK, "alerts", "list", KIND ("alert"), "page", "alerts", "alert"),
    {.method = "GET",
     .pattern = "/api/v1/projects/{id}/health",
     .service = RSK,
     .op = GATEWAY_OP_LIST,
     .member = "health",
     .id_field = "project_id",
     .reply = "health",
     .status = 200,
     .summary = "A project's health: RAG per dimension and the rules that fired"},
    VIEW (RSK, "/api/v1/rollup", "rollup", "rollup",
          "Portfolio roll-up of a subtree: RAG counts, summed PV/EV/AC with SPI and CPI, risks"),
    VIEW (RSK, "/api/v1/portfolio", "portfolio", "portfolio",
          "The projects you may see, filtered, searched (q: code, name, manager), sorted by any "
          "column and paged, with RAG counts and money per currency over the filtered set"),
    {.method = "GET",
     .pattern = "/api/v1/org-units/{id}/thresholds",
     .service = RSK,
     .op = GATEWAY_OP_GET,
     .member = "get_thresholds",
     .id_field = "org_unit",
     .reply = "thresholds",
     .status = 200,
     .summary = "The health thresholds in force in an org unit (inherited and merged)"},
    {.method = "PUT",
     .pattern = "/api/v1/org-units/{id}/thresholds",
     .service = RSK,
     .op = GATEWAY_OP_ACTION,
     .member = "set_thresholds",
     .id_field = "org_unit",
     .version_field = "version",
     .reply = "thresholds",
     .status = 200,
     .summary = "Set an org unit's own health thresholds (If-Match or version)"},

    //  The planner: benefits, scores and rankings, scenarios
    COLLECTION (PLN, "/api/v1/benefits", "list_benefits", NULL, "benefits", "benefits",
                "create_benefit", "benefit", "benefit"),
    ITEM (PLN, "/api/v1/benefits", "get_benefit", NULL, "update_benefit", "benefit", "benefit"),
    STEP (PLN, "/api/v1/benefits", "measurements", "record_measurement", NULL, "benefit_id",
          "benefit", "Record what a benefit measured in a month (the lag alert follows)"),
    VIEW (PLN, "/api/v1/benefit-rollup", "rollup_benefits", "rollup",
          "Benefits rolled up by programme, portfolio, division or hub, one row per currency"),
    {.method = "GET",
     .pattern = "/api/v1/org-units/{id}/planner-policy",
     .service = PLN,
     .op = GATEWAY_OP_GET,
     .member = "get_policy",
     .id_field = "org_unit",
     .reply = "policy",
     .status = 200,
     .summary = "The scoring model and lag threshold in force in an org unit"},
    {.method = "PUT",
     .pattern = "/api/v1/org-units/{id}/planner-policy",
     .service = PLN,
     .op = GATEWAY_OP_ACTION,
     .member = "set_policy",
     .id_field = "org_unit",
     .version_field = "version",
     .reply = "policy",
     .status = 200,
     .summary = "Set an org unit's own scoring model and lag threshold (If-Match or version)"},
    {.method = "POST",
     .pattern = "/api/v1/projects/{id}/score",
     .service = PLN,
     .op = GATEWAY_OP_ACTION,
     .member = "score_project",
     .id_field = "project_id",
     .version_field = "version",
     .reply = "score",
     .status = 200,
     .summary = "Score a project on the criteria (version 0 the first time)"},
    VIEW (PLN, "/api/v1/ranking", "ranking", "ranking",
          "The projects of a subtree ranked under the scoring model in force there"),
    {.method = "POST",
     .pattern = "/api/v1/scenarios",
     .service = PLN,
     .op = GATEWAY_OP_CREATE,
     .member = "solve_scenario",
     .reply = "scenario",
     .location = "/api/v1/scenarios/",
     .status = 201,
     .summary = "Solve a scenario (the best portfolio) and keep it"},
    VIEW (PLN, "/api/v1/scenarios", "list_scenarios", "scenarios",
          "List scenarios, newest first, with their results (org_unit: a subtree)"),
    READ (PLN, "/api/v1/scenarios", "get_scenario", NULL, "scenario", "scenario"),
    {.method = "POST",
     .pattern = "/api/v1/scenario-frontier",
     .service = PLN,
     .op = GATEWAY_OP_ACTION,
     .member = "frontier",
     .reply = "scenario",
     .status = 200,
     .summary = "The efficient frontier of a scenario: the best value at each total budget"},
    {.method = "POST",
     .pattern = "/api/v1/scenario-comparison",
     .service = PLN,
     .op = GATEWAY_OP_ACTION,
     .member = "compare",
     .reply = "comparison",
     .status = 200,
     .summary = "Scenarios side by side ({\"ids\": [...]}): each project in, out or shifted"},
    STEP (PLN, "/api/v1/scenarios", "commit", "commit_scenario", NULL, "id", "proposals",
          "Commit a scenario: propose its gate decisions (go, hold, stop) to the approvers"),

    //  The notifier: channels, subscriptions, deliveries
    COLLECTION (NTF, "/api/v1/channels", "list_channels", NULL, "channels", "channels",
                "create_channel", "channel", "channel"),
    ITEM (NTF, "/api/v1/channels", "get_channel", NULL, "update_channel", "channel", "channel"),
    ARCHIVE (NTF, "/api/v1/channels", "archive_channel", NULL, "channel", "channel"),
    STEP (NTF, "/api/v1/channels", "rotate-secret", "rotate_secret", NULL, "channel_id", "channel",
          "Rotate a webhook channel's signing secret"),
    STEP (NTF, "/api/v1/channels", "test", "test_channel", NULL, "id", "delivery",
          "Queue a test message to a channel now"),
    COLLECTION (NTF, "/api/v1/subscriptions", "list_subscriptions", NULL, "subscriptions",
                "subscriptions", "create_subscription", "subscription", "subscription"),
    ITEM (NTF, "/api/v1/subscriptions", "get_subscription", NULL, "update_subscription",
          "subscription", "subscription"),
    ARCHIVE (NTF, "/api/v1/subscriptions", "archive_subscription", NULL, "subscription",
             "subscription"),
    {.method = "GET",
     .pattern = "/api/v1/deliveries",
     .service = NTF,
     .op = GATEWAY_OP_LIST,
     .member = "list_deliveries",
     .reply = "deliveries",
     .items = "deliveries",
     .status = 200,
     .summary = "List deliveries (pending, delivered, dead letters, discarded)"},
    READ (NTF, "/api/v1/deliveries", "get_delivery", NULL, "delivery", "delivery"),
    STEP (NTF, "/api/v1/deliveries", "retry", "retry_delivery", NULL, "id", "delivery",
          "Send a dead (or pending) delivery again now"),
    STEP (NTF, "/api/v1/deliveries", "discard", "discard_delivery", NULL, "id", "delivery",
          "Drop a pending or dead delivery"),
    {.method = NULL},
};

size_t gateway_route_count (void)
{
    size_t n = 0;
    while (gateway_routes[n].method)
        n++;
    return n;
}

//  A path segment that may stand for {id}: ids, codes and slugs.
static bool s_param_valid (const char *s, size_t len)
{
    if (len == 0 || len > 128)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.' || c == ':'))
            return false;
    }
    return true;
}

char *gateway_join (char *out, size_t size, const char *a, const char *b)
{
    assert (size > 0);
    size_t used = 0;
    const char *parts[2] = {a, b};
    for (int i = 0; i < 2; i++) {
        size_t len = parts[i] ? strlen (parts[i]) : 0;
        if (len > size - 1 - used)
            len = size - 1 - used;
        if (len)
            memcpy (out + used, parts[i], len);
        used += len;
    }
    out[used] = 0;
    return out;
}

char *gateway_etag (uint64_t version, char *out)
{
    //  Without printf: every item answered has one
    char digits[PMO_DIGITS_MAX];
    char *at = pmo_digits_u64 (digits + sizeof digits, version);
    size_t len = (size_t)(digits + sizeof digits - at);
    out[0] = '"';
    memcpy (out + 1, at, len);
    out[len + 1] = '"';
    out[len + 2] = 0;
    return out;
}

//  Match path against pattern; copies the {id} segment.
static bool s_path_matches (const char *pattern, const char *path, char *param, size_t param_size)
{
    const char *p = pattern, *q = path;
    *param = 0;
    while (*p && *q) {
        if (*p == '{' && strncmp (p, "{id}", 4) == 0) {
            const char *end = strchr (q, '/');
            size_t len = end ? (size_t)(end - q) : strlen (q);
            if (!s_param_valid (q, len) || len >= param_size)
                return false;
            memcpy (param, q, len);
            param[len] = 0;
            p += 4;
            q += len;
            continue;
        }
        if (*p != *q)
            return false;
        p++;
        q++;
    }
    //  A trailing slash is the same resource
    if (*q == '/' && q[1] == 0)
        q++;
    return *p == 0 && *q == 0;
}

const gateway_route_t *gateway_route_match (const char *method, const char *path, char *param,
                                            size_t param_size, char *allow, size_t allow_size)
{
    *allow = 0;
    char scratch[160];
    for (size_t i = 0; gateway_routes[i].method; i++) {
        const gateway_route_t *route = &gateway_routes[i];
        if (!s_path_matches (route->pattern, path, scratch, sizeof scratch))
            continue;
        if (strcmp (route->method, method) == 0) {
            gateway_join (param, param_size, scratch, NULL);
            return route;
        }
        size_t used = strlen (allow);
        gateway_join (allow + used, allow_size - used, used ? ", " : "", route->method);
    }
    return NULL;
}

static json_t *s_problem (gateway_problem_t *problem, int status, const char *code,
                          const char *field, const char *format, ...)
    __attribute__ ((format (printf, 5, 6)));

static json_t *s_problem (gateway_problem_t *problem, int status, const char *code,
                          const char *field, const char *format, ...)
{
    problem->status = status;
    problem->code = code;
    snprintf (problem->field, sizeof problem->field, "%s", field ? field : "");
    va_list args;
    va_start (args, format);
    vsnprintf (problem->detail, sizeof problem->detail, format, args);
    va_end (args);
    return NULL;
}

//  The message type of the route's member.
static const ProtobufCMessageDescriptor *s_member_desc (const gateway_route_t *route)
{
    const ProtobufCMessageDescriptor *request = gateway_services[route->service].request_desc;
    assert (request);
    const ProtobufCFieldDescriptor *field =
        protobuf_c_message_descriptor_get_field_by_name (request, route->member);
    assert (field && field->type == PROTOBUF_C_TYPE_MESSAGE);
    return field->descriptor;
}

//  A query parameter as the JSON value its field wants.
static json_t *s_query_value (const ProtobufCFieldDescriptor *field, const char *name,
                              const char *text, gateway_problem_t *problem)
{
    if (field->label == PROTOBUF_C_LABEL_REPEATED)
        return s_problem (problem, 400, "invalid", name, "'%s' cannot be a query parameter", name);
    switch (field->type) {
    case PROTOBUF_C_TYPE_STRING:
    case PROTOBUF_C_TYPE_ENUM:
        return json_string (text);
    case PROTOBUF_C_TYPE_BOOL:
        if (strcmp (text, "true") == 0 || strcmp (text, "1") == 0)
            return json_true ();
        if (strcmp (text, "false") == 0 || strcmp (text, "0") == 0)
            return json_false ();
        return s_problem (problem, 400, "invalid", name, "'%s' is true or false", name);
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64: {
        char *end = NULL;
        errno = 0;
        long long value = strtoll (text, &end, 10);
        if (!*text || !end || *end || errno)
            return s_problem (problem, 400, "invalid", name, "'%s' is an integer", name);
        return json_integer (value);
    }
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        //  pmo_json reads 64-bit integers from decimal strings
        return json_string (text);
    default:
        return s_problem (problem, 400, "invalid", name, "'%s' cannot be a query parameter", name);
    }
}

//  Put {id} into field; a body that names another id is refused.
static int s_set_id (json_t *obj, const char *field, const char *param, gateway_problem_t *problem)
{
    json_t *given = json_object_get (obj, field);
    if (given && !json_is_null (given) &&
        (!json_is_string (given) || strcmp (json_string_value (given), param) != 0)) {
        s_problem (problem, 400, "invalid", field,
                   "'%s' in the body (%s) differs from the id in the path (%s)", field,
                   json_is_string (given) ? json_string_value (given) : "not a string", param);
        return -1;
    }
    json_object_set_new (obj, field, json_string (param));
    return 0;
}

static void s_set_version (json_t *obj, const char *field, uint64_t version)
{
    //  pmo_json takes 64-bit integers as decimal strings too; a string keeps
    //  every uint64 exact
    char text[24];
    snprintf (text, sizeof text, "%llu", (unsigned long long)version);
    json_object_set_new (obj, field, json_string (text));
}

//  The fixed JSON of the table's routes (fixed and read_fixed), parsed once
//  for the process: parsing it again for every request cost more than the
//  rest of building a read's member. Read-only once made (jansson's
//  reference counts are atomic), so any thread may use it.
typedef struct {
    const char *text;
    json_t *json;
} fixed_t;
static fixed_t *s_fixed;
static size_t s_n_fixed;
static pthread_once_t s_fixed_once = PTHREAD_ONCE_INIT;

static void s_fixed_parse (void)
{
    size_t count = gateway_route_count ();
    s_fixed = calloc (2 * count + 1, sizeof (fixed_t));
    assert (s_fixed);
    for (size_t i = 0; i < count; i++) {
        const char *texts[2] = {gateway_routes[i].fixed, gateway_routes[i].read_fixed};
        for (int t = 0; t < 2; t++)
            if (texts[t]) {
                s_fixed[s_n_fixed].json = json_loads (texts[t], 0, NULL);
                assert (s_fixed[s_n_fixed].json);
                s_fixed[s_n_fixed++].text = texts[t];
            }
    }
}

//  The JSON of a route's fixed text (a new reference).
static json_t *s_fixed_json (const char *text)
{
    pthread_once (&s_fixed_once, s_fixed_parse);
    for (size_t i = 0; i < s_n_fixed; i++)
        if (s_fixed[i].text == text)
            return json_incref (s_fixed[i].json);
    json_t *json = json_loads (text, 0, NULL); //  a route made elsewhere (tests)
    assert (json);
    return json;
}

json_t *gateway_route_member (const gateway_route_t *route, const json_t *body, const json_t *query,
                              const char *param, uint64_t version, gateway_problem_t *problem)
{
    bool takes_body = route->op == GATEWAY_OP_CREATE || route->op == GATEWAY_OP_UPDATE ||
                      route->op == GATEWAY_OP_PATCH || route->op == GATEWAY_OP_ACTION;
    json_t *obj;
    if (takes_body) {
        if (!body || !json_is_object (body))
            return s_problem (problem, 400, "invalid", "", "the body must be a JSON object (a %s)",
                              s_member_desc (route)->short_name);
        obj = json_deep_copy (body);
    } else
        obj = json_object ();
    json_t *fixed = route->fixed ? s_fixed_json (route->fixed) : NULL;
    if (fixed)
        json_object_update (obj, fixed);
    if (route->id_field && param && *param && s_set_id (obj, route->id_field, param, problem)) {
        json_decref (obj);
        json_decref (fixed);
        return NULL;
    }
    if (route->version_field) {
        if (version)
            s_set_version (obj, route->version_field, version);
        else if (route->op != GATEWAY_OP_ACTION || !json_object_get (obj, route->version_field)) {
            //  Only the gateway's own token revoke can go without one
            if (route->service != GATEWAY_SVC_GATEWAY) {
                json_decref (obj);
                json_decref (fixed);
                return s_problem (problem, 428, "precondition_required", "If-Match",
                                  "send If-Match with the ETag (version) you read");
            }
        }
    }
    const char *key;
    json_t *value;
    const ProtobufCMessageDescriptor *desc = s_member_desc (route);
    json_object_foreach ((json_t *)query, key, value)
    {
        const ProtobufCFieldDescriptor *field =
            protobuf_c_message_descriptor_get_field_by_name (desc, key);
        bool pinned = fixed && json_object_get (fixed, key);
        if (route->op != GATEWAY_OP_LIST || !field || pinned ||
            (route->id_field && strcmp (key, route->id_field) == 0)) {
            json_decref (obj);
            json_decref (fixed);
            return s_problem (problem, 400, "invalid", key, "unknown query parameter '%s'", key);
        }
        json_t *typed = s_query_value (field, key, json_string_value (value), problem);
        if (!typed) {
            json_decref (obj);
            json_decref (fixed);
            return NULL;
        }
        json_object_set_new (obj, key, typed);
    }
    json_decref (fixed);
    return obj;
}

const char *gateway_relative_field (const gateway_route_t *route, const char *field)
{
    size_t len = strlen (route->member);
    if (strncmp (field, route->member, len) == 0 && (field[len] == '.' || field[len] == 0))
        return field[len] ? field + len + 1 : field + len;
    return field;
}

ProtobufCMessage *gateway_route_request (const gateway_route_t *route, json_t *member,
                                         gateway_problem_t *problem)
{
    json_t *wrapper = json_object ();
    json_object_set (wrapper, route->member, member);
    ProtobufCMessage *request = NULL;
    pmo_json_error_t error;
    int rc = pmo_json_to_message (gateway_services[route->service].request_desc, wrapper, &request,
                                  &error);
    json_decref (wrapper);
    if (rc) {
        s_problem (problem, 400, "invalid", gateway_relative_field (route, error.field), "%s%s%s",
                   *error.field ? gateway_relative_field (route, error.field) : "",
                   *error.field ? ": " : "", error.message);
        return NULL;
    }
    return request;
}

static const char *s_op_names[] = {"create", "get", "list", "update", "patch", "archive", "action"};

//  A field's type for documents: string, integer, number, boolean, or the
//  enum's labels.
static json_t *s_field_type (const ProtobufCFieldDescriptor *field)
{
    switch (field->type) {
    case PROTOBUF_C_TYPE_STRING:
        return json_pack ("{s:s}", "type", "string");
    case PROTOBUF_C_TYPE_BOOL:
        return json_pack ("{s:s}", "type", "boolean");
    case PROTOBUF_C_TYPE_FLOAT:
    case PROTOBUF_C_TYPE_DOUBLE:
        return json_pack ("{s:s}", "type", "number");
    case PROTOBUF_C_TYPE_ENUM: {
        const ProtobufCEnumDescriptor *desc = field->descriptor;
        json_t *labels = json_array ();
        char label[96];
        for (unsigned i = 0; i < desc->n_values; i++)
            if (pmo_json_enum_label (desc, desc->values[i].value, label, sizeof label))
                json_array_append_new (labels, json_string (label));
        return json_pack ("{s:s, s:o}", "type", "string", "enum", labels);
    }
    case PROTOBUF_C_TYPE_MESSAGE:
    case PROTOBUF_C_TYPE_BYTES:
        return NULL;
    default:
        return json_pack ("{s:s}", "type", "integer");
    }
}

json_t *gateway_route_describe (const gateway_route_t *route)
{
    const gateway_service_t *service = &gateway_services[route->service];
    json_t *doc = json_pack ("{s:s, s:s, s:s, s:s, s:s, s:i, s:s}", "method", route->method,
                             "pattern", route->pattern, "service", service->name, "op",
                             s_op_names[route->op], "member", route->member, "status",
                             route->status, "summary", route->summary ? route->summary : "");
    const ProtobufCMessageDescriptor *member = s_member_desc (route);
    json_object_set_new (doc, "member_type", json_string (member->short_name));
    const ProtobufCFieldDescriptor *reply =
        protobuf_c_message_descriptor_get_field_by_name (service->reply_desc, route->reply);
    assert (reply && reply->type == PROTOBUF_C_TYPE_MESSAGE);
    const ProtobufCMessageDescriptor *reply_type = reply->descriptor;
    json_object_set_new (doc, "reply", json_string (route->reply));
    json_object_set_new (doc, "reply_type", json_string (reply_type->short_name));
    if (route->items) {
        const ProtobufCFieldDescriptor *items =
            protobuf_c_message_descriptor_get_field_by_name (reply_type, route->items);
        assert (items && items->type == PROTOBUF_C_TYPE_MESSAGE);
        json_object_set_new (doc, "items", json_string (route->items));
        json_object_set_new (
            doc, "items_type",
            json_string (((const ProtobufCMessageDescriptor *)items->descriptor)->short_name));
    }
    if (route->id_field)
        json_object_set_new (doc, "id_field", json_string (route->id_field));
    if (route->version_field)
        json_object_set_new (doc, "if_match", json_true ());
    if (route->location)
        json_object_set_new (doc, "location", json_string (route->location));
    json_t *fixed = route->fixed ? json_loads (route->fixed, 0, NULL) : json_object ();
    json_t *query = json_array ();
    for (unsigned i = 0; route->op == GATEWAY_OP_LIST && i < member->n_fields; i++) {
        const ProtobufCFieldDescriptor *field = &member->fields[i];
        if (field->label == PROTOBUF_C_LABEL_REPEATED || json_object_get (fixed, field->name) ||
            (route->id_field && strcmp (field->name, route->id_field) == 0))
            continue;
        json_t *type = s_field_type (field);
        if (!type)
            continue;
        json_array_append_new (query,
                               json_pack ("{s:s, s:o}", "name", field->name, "schema", type));
    }
    json_object_set_new (doc, "query", query);
    json_object_set_new (doc, "fixed", fixed);
    return doc;
}

void gateway_merge_patch (json_t *target, const json_t *patch)
{
    const char *key;
    json_t *value;
    json_object_foreach ((json_t *)patch, key, value)
    {
        if (json_is_null (value))
            json_object_del (target, key);
        else if (json_is_object (value)) {
            json_t *inner = json_object_get (target, key);
            if (!json_is_object (inner)) {
                inner = json_object ();
                json_object_set_new (target, key, inner);
            }
            gateway_merge_patch (inner, value);
        } else
            json_object_set (target, key, value);
    }
}

int gateway_http_status (Pmo__ErrorCode code, bool if_match)
{
    switch (code) {
    case PMO__ERROR_CODE__ERROR_NONE:
        return 200;
    case PMO__ERROR_CODE__ERROR_INVALID:
    case PMO__ERROR_CODE__ERROR_MALFORMED:
    case PMO__ERROR_CODE__ERROR_UNSUPPORTED:
        return 400;
    case PMO__ERROR_CODE__ERROR_NOT_FOUND:
        return 404;
    case PMO__ERROR_CODE__ERROR_CONFLICT:
        return if_match ? 412 : 409;
    case PMO__ERROR_CODE__ERROR_ALREADY_EXISTS:
    case PMO__ERROR_CODE__ERROR_FAILED_PRECONDITION:
        return 409;
    case PMO__ERROR_CODE__ERROR_FORBIDDEN:
        return 403;
    case PMO__ERROR_CODE__ERROR_UNAUTHENTICATED:
        return 401;
    case PMO__ERROR_CODE__ERROR_UNAVAILABLE:
        return 503;
    case PMO__ERROR_CODE__ERROR_DEADLINE_EXCEEDED:
        return 504;
    case PMO__ERROR_CODE__ERROR_TOO_LARGE:
        return 413;
    default:
        return 500;
    }
}
