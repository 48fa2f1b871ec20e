#!/usr/bin/env python3
"""openapi.py: write services/gateway/openapi.json from the .proto files
and the route list below (which mirrors gateway_routes.c's table).

The document is kept in the repository; run this after changing a .proto
or a route, then `ctest -R test_gateway_openapi` checks the gateway's real
answers against it (and that every route of the table is documented).

    python3 services/gateway/tools/openapi.py build/services/gateway/pmo-gateway \
        > services/gateway/openapi.json

The routes come from the gateway itself (pmo-gateway --routes prints its
table), so the document cannot drift from the table.
"""
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
PROTO = os.path.join(HERE, "..", "..", "..", "proto")


def parse(files):
    messages, enums = {}, {}
    for name in files:
        text = open(os.path.join(PROTO, name)).read()
        text = re.sub(r"//[^\n]*", "", text)
        for m in re.finditer(r"enum\s+(\w+)\s*\{([^}]*)\}", text):
            values = re.findall(r"(\w+)\s*=\s*\d+", m.group(2))
            enums[m.group(1)] = values
        # messages (no nested messages in our protos); oneof bodies flatten
        for m in re.finditer(r"message\s+(\w+)\s*\{((?:[^{}]|\{[^{}]*\})*)\}", text):
            body = re.sub(r"oneof\s+\w+\s*\{([^}]*)\}", r"\1", m.group(2))
            fields = re.findall(r"(repeated\s+)?([\w.]+)\s+(\w+)\s*=\s*\d+\s*;", body)
            messages[m.group(1)] = [(bool(r), t, n) for r, t, n in fields]
    return messages, enums


def labels(values):
    prefix = os.path.commonprefix(values)
    prefix = prefix[: prefix.rfind("_") + 1]
    return [v[len(prefix):].lower() for v in values]


SCALARS = {
    "string": {"type": "string"},
    "bool": {"type": "boolean"},
    "int32": {"type": "integer", "format": "int32"},
    "uint32": {"type": "integer", "format": "int32", "minimum": 0},
    "int64": {"type": "integer", "format": "int64"},
    "uint64": {"type": "integer", "format": "int64", "minimum": 0},
    "double": {"type": "number"},
    "bytes": {"type": "string", "format": "byte"},
}


def schema_of(messages, enums, name, response):
    props, required = {}, []
    for repeated, type_, field in messages[name]:
        if type_ in SCALARS:
            s = dict(SCALARS[type_])
        elif type_ in enums:
            s = {"type": "string", "enum": labels(enums[type_])}
        else:
            s = {"$ref": "#/components/schemas/" + type_}
        if repeated:
            s = {"type": "array", "items": s}
        props[field] = s
        # pmo_json writes every scalar and every repeated field, defaults
        # included: in answers they are always there
        if response and (repeated or type_ in SCALARS or type_ in enums):
            required.append(field)
    out = {"type": "object", "properties": props, "additionalProperties": False}
    if required:
        out["required"] = required
    return out


COMMON = ["401", "422", "429", "503", "504"]
BY_OP = {
    "list": ["200", "400", "404"],
    "create": ["201", "400", "403", "404", "409", "413", "415"],
    "get": ["200", "304", "400", "404"],
    "update": ["200", "400", "403", "404", "409", "412", "413", "415", "428"],
    "patch": ["200", "400", "403", "404", "409", "412", "413", "415", "428"],
    "archive": ["200", "400", "403", "404", "409", "412", "428"],
    "action": ["200", "201", "400", "403", "404", "409", "412", "413", "415", "428"],
}
REASONS = {
    "200": "OK", "201": "Created", "304": "Not modified (If-None-Match matched the ETag)",
    "400": ("Malformed JSON, a wrong type, an unknown field or parameter, a malformed or weak "
            "If-Match, a bad Idempotency-Key, control characters in the path or query, "
            "Content-Length with Transfer-Encoding (the connection is closed) (the problem "
            "names the field)"),
    "401": "No token, or an unknown, revoked or expired one",
    "403": "Your grants do not allow this here",
    "404": "No such item (or none you may see)",
    "409": "A unique code is taken, or a rule refuses it now",
    "412": "If-Match is stale: the item changed since you read it",
    "413": "The body is larger than the limit",
    "415": "The body is not application/json",
    "422": ("This Idempotency-Key was used (by this token) with another request: another "
            "method, path, query or body; nothing was done"),
    "428": "If-Match is required",
    "429": ("Over the token's rate limit, or too many requests without a valid token from "
            "this address (see Retry-After)"),
    "503": "A service or the store is unavailable; retry",
    "504": "The service did not answer in time; retry with the same Idempotency-Key",
}

# Example bodies by the message a route takes (test_gateway_openapi sends them)
EXAMPLES = {
    "OrgUnit": {"id": "pmo-ops", "name": "PMO operations", "kind": "department",
                "parent": "dft", "pmo_type": "supportive"},
    "Portfolio": {"code": "PF-1", "name": "Rail portfolio", "org_unit": "dft",
                  "owner": "jane@dft"},
    "Programme": {"code": "PG-1", "name": "Rail upgrade", "org_unit": "dft",
                  "sponsor": "sam@dft"},
    "Project": {"code": "DFT-2026-001", "name": "Signalling renewal", "org_unit": "dft",
                "methodology": "prince2", "priority": 2, "baseline_start": "2026-01-05",
                "baseline_finish": "2027-06-30",
                "budget": {"baseline": {"minor": 125000000, "currency": "GBP"}}},
    "Milestone": {"name": "Design approved", "baseline_date": "2026-09-30"},
    "StatusReport": {"period_end": "2026-11-20", "percent_complete": 35, "overall": "amber",
                     "schedule": "amber", "cost": "green", "scope": "green",
                     "resources": "green", "narrative": "Design slipped two weeks.",
                     "pv_minor": 4000000, "ev_minor": 3600000, "ac_minor": 3700000,
                     "has_ac": True},
    "GateDecisionRequest": {"to_phase": "planning", "outcome": "go",
                            "rationale": "Business case approved"},
    "PhaseChangeRequest": {"to_phase": "planning", "rationale": "Charter signed"},
    "GateRequestRequest": {"to_phase": "planning", "note": "Charter signed; board on Friday"},
    "CreateTokenRequest": {"name": "ci export", "subject": "svc-ci@dft",
                           "grants": [{"role": "viewer", "org_unit": "dft"}]},
    "Risk": {"project_id": "pr_dft_1", "title": "Signalling supplier may slip",
             "category": "commercial", "probability": 4, "impact": 5, "owner": "jane@dft",
             "response": "reduce", "cost_impact": {"minor": 25000000, "currency": "GBP"}},
    "Issue": {"project_id": "pr_dft_1", "title": "Test rig late", "type": "problem_concern",
              "severity": "high", "owner": "jane@dft"},
    "ChangeRequest": {"project_id": "pr_dft_1", "title": "Add platform 5",
                      "reason": "demand", "cost_impact": {"minor": 5000000, "currency": "GBP"},
                      "schedule_impact_days": 20},
    "RaidEntry": {"project_id": "pr_dft_1", "kind": "assumption",
                  "title": "Possession windows as planned", "owner": "jane@dft"},
    "Resource": {"name": "Asha Patel", "role": "engineer", "home_org_unit": "dft",
                 "weekly_capacity_hours": 37},
    "AllocationRequest": {"project_id": "pr_dft_1", "skill": "signalling",
                          "hours_per_week": 20, "start_week": "2026-W50",
                          "end_week": "2027-W10"},
    "AllocationStep": {"reason": "as agreed"},
    "AllocationReshape": {"hours_per_week": 10, "reason": "less needed"},
    "CloseRequest": {"note": "mitigated"},
    "AlertActionRequest": {"note": "on it"},
    "Channel": {"name": "dft-pmo-alerts", "kind": "webhook", "org_unit": "dft"},
    "Subscription": {"channel_id": "ch_dft_1", "org_unit": "dft"},
    "Benefit": {"title": "Lower running cost", "org_unit": "dft", "kind": "cashable",
                "owner": "finance.director@dft", "measure": "running cost saved",
                "currency": "GBP", "baseline": 0, "target": 120000000,
                "profile": [{"period": "2027-07", "value": 30000000},
                            {"period": "2028-07", "value": 120000000}],
                "project_ids": ["pr_dft_1"]},
    "RecordMeasurementRequest": {"period": "2027-07", "value": 25000000, "version": 1},
    "PlannerPolicy": {"criteria": [{"criterion": "alignment", "theme": "net zero", "weight": 3},
                                   {"criterion": "value", "weight": 2}],
                      "lag_threshold": 0.1, "version": 0},
    "ScoreProjectRequest": {"scores": [{"criterion": "value", "score": 7}], "version": 0},
    "ScenarioSpec": {"name": "FY27 base", "org_unit": "dft", "start": "2027-04-01",
                     "objective": "score", "max_shift_quarters": 1,
                     "budgets": [{"division": "dft", "year": 0, "limit_minor": 500000000}]},
    "FrontierRequest": {"spec": {"name": "FY27 base", "org_unit": "dft", "start": "2027-04-01"},
                        "points": 10},
    "CommitScenarioRequest": {"version": 1},
    "CompareRequest": {"ids": ["sc_dft_1", "sc_dft_2"]},
}

def problem_ref():
    return {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}


def op(summary, codes, ok_schema, body=None, body_schema=None, params=(), etag=False,
       if_match=False, tag=None):
    responses = {}
    for code in codes + COMMON:
        if code in ("200", "201") and ok_schema:
            r = {"description": REASONS[code],
                 "content": {"application/json": {"schema": ok_schema}}}
            if etag:
                r["headers"] = {"ETag": {"schema": {"type": "string"},
                                         "description": "the item's version, quoted"}}
            responses[code] = r
        elif code == "304":
            responses[code] = {"description": REASONS[code]}
        else:
            responses[code] = {"description": REASONS[code], "content": problem_ref()}
    out = {"summary": summary, "responses": responses, "parameters": list(params)}
    if tag:
        out["tags"] = [tag]
    if if_match:
        out["parameters"].append({"$ref": "#/components/parameters/IfMatch"})
    out["parameters"].append({"$ref": "#/components/parameters/IdempotencyKey"})
    if body_schema:
        out["requestBody"] = {"required": True, "content": {
            "application/json": {"schema": body_schema, "example": body}}}
        if summary.startswith("Change some"):
            out["requestBody"]["content"]["application/merge-patch+json"] = {
                "schema": {"type": "object"}, "example": body}
    return out


def ref(name):
    return {"$ref": "#/components/schemas/" + name}


def list_params(messages, enums, message, skip):
    out = []
    for repeated, type_, field in messages[message]:
        if repeated or field in skip or field == "header":
            continue
        schema = dict(SCALARS.get(type_, {"type": "string"}))
        if type_ in enums:
            schema = {"type": "string", "enum": labels(enums[type_])}
        out.append({"name": field, "in": "query", "required": False, "schema": schema})
    return out


ROUTES = []


def main():
    global ROUTES
    if len(sys.argv) != 2:
        sys.exit("usage: openapi.py <path of pmo-gateway> > openapi.json")
    import subprocess
    ROUTES = json.loads(subprocess.check_output([sys.argv[1], "--routes"]))
    messages, enums = parse(sorted(f for f in os.listdir(PROTO) if f.endswith(".proto")))
    schemas = {}
    for name in ["ApiToken", "Event", "Grant"]:
        schemas[name] = schema_of(messages, enums, name, True)
    # Event bodies from services not described here may appear: open them
    schemas["Event"]["additionalProperties"] = True
    schemas["Event"]["required"] = [f for f in schemas["Event"]["required"]]
    # The hash never leaves the gateway
    del schemas["ApiToken"]["properties"]["hash"]
    schemas["ApiToken"]["required"].remove("hash")
    schemas["Problem"] = {
        "type": "object",
        "required": ["type", "title", "status", "detail", "code", "field", "retryable"],
        "properties": {
            "type": {"type": "string"}, "title": {"type": "string"},
            "status": {"type": "integer"}, "detail": {"type": "string"},
            "code": {"type": "string", "description": "stable error code, e.g. not_found"},
            "field": {"type": "string",
                      "description": "the offending field (path in the body) or parameter"},
            "retryable": {"type": "boolean"}, "request_id": {"type": "string"},
            "missing_artifacts": {"type": "array", "items": {"type": "string"}},
        },
    }
    def page(item):
        name = item + "Page"
        # A message of that name that holds no list of item is something
        # else (the risk monitor's PortfolioPage is the portfolio view, not
        # a page of Portfolio groupings): the list page takes another name
        if name in messages and not any(
                spec.get("items") == ref(item)
                for spec in schema_of(messages, enums, name, False)["properties"].values()):
            name = item + "List"
        schemas[name] = {"type": "object", "required": ["items", "next_cursor"],
                         "additionalProperties": False,
                         "properties": {"items": {"type": "array", "items": ref(item)},
                                        "next_cursor": {"type": "string",
                                                        "description": "empty on the last page"}}}
        # What else the service's page says (optional): AllocationPage.elsewhere
        if name in messages:
            extra = schema_of(messages, enums, name, False)["properties"]
            for field, spec in extra.items():
                if field not in ("next_cursor",) and spec.get("items") != ref(item):
                    schemas[name]["properties"][field] = spec
                    nested = spec.get("items", spec).get("$ref", "").rsplit("/", 1)[-1]
                    if nested in messages and nested not in schemas:
                        schemas[nested] = schema_of(messages, enums, nested, True)
        return ref(name)

    id_param = {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
    paths = {}
    for route in ROUTES:
        member, reply = route["member_type"], route["reply_type"]
        for name in (member, reply, route.get("items_type")):
            if name and name in messages and name not in schemas:
                schemas[name] = schema_of(messages, enums, name, name != member)
        if route.get("items"):
            answered = page(route["items_type"])
        else:
            answered = ref(reply)
        if member == reply and route["op"] in ("create", "update", "patch") and \
                member + "Input" not in schemas:
            # Requests carry the entity with its computed fields optional
            schemas[member + "Input"] = schema_of(messages, enums, member, False)
        body = None
        body_schema = None
        if route["op"] in ("create", "update", "action"):
            body_schema = ref(member + "Input") if member + "Input" in schemas else ref(member)
            if member not in schemas:
                schemas[member] = schema_of(messages, enums, member, False)
            body = EXAMPLES.get(member, {})
            # the path's id goes where the route puts it
            body = {k: v for k, v in body.items() if k != route.get("id_field")}
        elif route["op"] == "patch":
            body_schema = {"type": "object"}
            body = {"name": "A better name"} if "name" in [f for _, _, f in messages[member]] \
                else {}
        params = [{"name": q["name"], "in": "query", "required": False, "schema": q["schema"]}
                  for q in route["query"]]
        codes = list(BY_OP[route["op"]])
        if route["op"] == "action":
            codes = [c for c in codes if c != ("200" if route["status"] == 201 else "201")]
        if route["service"] == "gateway" and route["op"] == "archive":
            codes = ["200", "400", "404", "409", "412"]
        operation = op(route["summary"], codes, answered, body, body_schema, params,
                       etag=route["op"] not in ("list",), if_match=route.get("if_match", False),
                       tag=route["service"])
        if route["service"] not in ("registry", "gateway"):
            operation["description"] = (
                "Served by %s: while it is not running the gateway answers 503." %
                route["service"])
        item = paths.setdefault(route["pattern"], {})
        if "{id}" in route["pattern"]:
            item["parameters"] = [id_param]
        item[route["method"].lower()] = operation
    paths["/api/v1/whoami"] = {"get": {
        "summary": "Who the token speaks for", "tags": ["token"],
        "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": {
            "type": "object", "required": ["subject", "grants", "token", "hub"],
            "properties": {"subject": {"type": "string"},
                           "grants": {"type": "array", "items": ref("Grant")},
                           "token": ref("ApiToken"), "hub": {"type": "string"}}}}}},
            "401": {"description": REASONS["401"], "content": problem_ref()},
            "429": {"description": REASONS["429"], "content": problem_ref()}}}}
    paths["/api/v1/events"] = {"get": {
        "summary": "Live events (Server-Sent Events), resumable",
        "description": ("Each event: `id: <stream id>/<division>`, `event: <type>`, `data:` the "
                        "Event as JSON. Send Last-Event-ID (or ?since=) to resume after an id "
                        "without loss. Only events of your grants' subtrees (and org-unit "
                        "events) are sent. A comment line comes at least every heartbeat."),
        "tags": ["events"],
        "parameters": [
            {"name": "org_unit", "in": "query", "schema": {"type": "string"},
             "description": "only events in this unit's subtree"},
            {"name": "project", "in": "query", "schema": {"type": "string"},
             "description": "only events of this project (and its milestones, reports...)"},
            {"name": "type", "in": "query", "schema": {"type": "string"},
             "description": "comma-separated types; a trailing * matches a prefix"},
            {"name": "since", "in": "query", "schema": {"type": "string"},
             "description": "like Last-Event-ID"},
            {"name": "Last-Event-ID", "in": "header", "schema": {"type": "string"}}],
        "responses": {
            "200": {"description": "the stream",
                    "content": {"text/event-stream": {"schema": {"type": "string"}}}},
            "400": {"description": "a malformed Last-Event-ID", "content": problem_ref()},
            "401": {"description": REASONS["401"], "content": problem_ref()},
            "429": {"description": REASONS["429"], "content": problem_ref()},
            "503": {"description": REASONS["503"], "content": problem_ref()}}}}
    def flag(name, description):
        return {"name": name, "in": "query", "required": False,
                "schema": {"type": "string", "enum": ["1", "0", "true", "false"]},
                "description": description}
    entities = ["org_unit", "project", "milestone", "status_report", "resource", "allocation",
                "risk", "issue", "change_request", "raid", "benefit"]
    counted = {"type": "integer"}
    import_result = {"type": "object",
                     "required": ["entity", "rows", "created", "updated", "unchanged", "bad",
                                  "dry_run", "written", "problems"],
                     "properties": {
                         "entity": {"type": "string"}, "encoding": {"type": "string"},
                         "delimiter": {"type": "string"}, "dry_run": {"type": "boolean"},
                         "written": {"type": "boolean"}, "rows": counted, "created": counted,
                         "updated": counted, "unchanged": counted, "bad": counted,
                         "reports_created": counted, "org_units_created": counted,
                         "withheld": counted, "skipped": counted,
                         "warnings": {"type": "array", "items": {"type": "string"}},
                         "problems": {"type": "array", "items": {
                             "type": "object", "required": ["row", "column", "value", "reason"],
                             "properties": {"row": {"type": "integer"},
                                            "column": {"type": "string"},
                                            "value": {"type": "string"},
                                            "reason": {"type": "string"}}}},
                         "fallbacks": {
                             "type": "object",
                             "description": "every reading that fell back to a rule: cells a "
                                            "blank marker emptied, cells withheld from "
                                            "publication, dates whose century the two-digit-year "
                                            "pivot decided, and each marker with its count",
                             "properties": {
                                 "blank": counted, "withheld": counted,
                                 "two_digit_year": counted,
                                 "markers": {"type": "array", "items": {
                                     "type": "object",
                                     "required": ["kind", "marker", "from", "count"],
                                     "properties": {
                                         "kind": {"type": "string",
                                                  "enum": ["blank", "withheld"]},
                                         "marker": {"type": "string"},
                                         "from": {"type": "string",
                                                  "enum": ["mapping", "built-in"]},
                                         "count": counted}}}}},
                         "duplicate_columns": {
                             "type": "array",
                             "description": "header texts several columns share: a mapping "
                                            "names one as name#2 or #7, or takes first_of",
                             "items": {"type": "object",
                                       "required": ["column", "positions", "count"],
                                       "properties": {"column": {"type": "string"},
                                                      "positions": {"type": "string",
                                                                    "example": "3, 9"},
                                                      "count": counted}}},
                         "rows_detail": {"type": "array", "items": {
                             "type": "object",
                             "properties": {"row": {"type": "integer"},
                                            "action": {"type": "string",
                                                       "enum": ["bad", "create", "update",
                                                                "unchanged"]},
                                            "id": {"type": "string"},
                                            "written": {"type": "boolean"}}}}}}
    import_form = {
        "type": "object", "required": ["file"],
        "properties": {
            "file": {"type": "string", "format": "binary",
                     "description": "the spreadsheet (CSV: UTF-8 or Windows-1252, any "
                                    "delimiter)"},
            "mapping": {"type": "string",
                        "description": "the caller's own mapping, as JSON text (see "
                                       "services/pmoctl/README-import.md)"},
            "mapping_name": {"type": "string",
                             "description": "or the name of a mapping kept on the gateway "
                                            "(like ?mapping=)"},
            "entity": {"type": "string", "enum": entities,
                       "description": "or a file in the export format of this entity "
                                      "(like ?entity=)"}}}
    paths["/api/v1/import"] = {"post": {
        "summary": "Import a CSV file (projects, milestones, reports, org units, resources, "
                   "allocations, risks, issues)",
        "description": ("The body is the file (UTF-8 or Windows-1252, any delimiter; at most "
                        "--max-import bytes, 16 MB by default), or a multipart/form-data form "
                        "(what a browser's FormData sends) with the part `file` and one of "
                        "`mapping` (the caller's own mapping as JSON), `mapping_name` (a "
                        "mapping kept on the gateway) or `entity`; the flags stay in the query. "
                        "A form that cannot be read, lacks `file`, has an unknown part or one "
                        "given twice is a 400 naming the part. Rows are matched by their key "
                        "(a project's code...), so importing the same file twice changes nothing. "
                        "Without skip_bad a file with any bad row writes nothing (422 lists every "
                        "problem as row, column, value and reason); with skip_bad the good rows "
                        "are written and the bad listed. The services check your grants on "
                        "every row. Runs on a thread of its own: large files take seconds."),
        "tags": ["import"],
        "parameters": [
            {"name": "entity", "in": "query", "required": False,
             "schema": {"type": "string", "enum": entities}, "example": "project",
             "description": "a file in the export format of this entity (or give mapping)"},
            {"name": "mapping", "in": "query", "required": False, "schema": {"type": "string"},
             "description": "a mapping kept on the gateway (a file <name>.json in --mappings)"},
            flag("dry_run", "check everything, write nothing"),
            flag("skip_bad", "write the good rows and list the bad (else all or nothing)"),
            flag("create_org_units", "create the org units the file names that do not exist"),
            {"name": "sheet", "in": "query", "required": False, "schema": {"type": "string"},
             "description": "an Excel workbook: the sheet to read (default: the first)"},
            {"name": "org_unit", "in": "query", "required": False, "schema": {"type": "string"},
             "description": "a Microsoft Project plan: the org unit of a new project"},
            {"name": "code", "in": "query", "required": False, "schema": {"type": "string"},
             "description": "a Microsoft Project plan: a new project's code (default: from its "
                            "title)"}],
        "requestBody": {"required": True, "content": {
            "text/csv": {
                "schema": {"type": "string"},
                "example": "code,name,org_unit\nOA-IMP-1,Imported from a spreadsheet,dft\n"},
            "application/xml": {
                "schema": {"type": "string"},
                "description": "a Microsoft Project plan (MSPDI), known by its content: the "
                               "project, its milestones and (with a StatusDate) a status report; "
                               "problems name the element and its line"},
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {
                "schema": {"type": "string", "format": "binary"}},
            "multipart/form-data": {
                "schema": import_form,
                "encoding": {"file": {"contentType": "text/csv, application/octet-stream, "
                                                     "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
                             "mapping": {"contentType": "application/json, text/plain"}}}}},
        "responses": {
            "200": {"description": "done (or a clean dry run)",
                    "content": {"application/json": {"schema": import_result}}},
            "400": {"description": "bad parameters or mapping; a file that cannot be read",
                    "content": problem_ref()},
            "401": {"description": REASONS["401"], "content": problem_ref()},
            "413": {"description": "the file is larger than --max-import",
                    "content": problem_ref()},
            "415": {"description": "send the file as text/csv, .xlsx or multipart/form-data",
                    "content": problem_ref()},
            "422": {"description": "rows have problems (the import result's members are in the "
                                   "problem document), or the file itself cannot be imported "
                                   "(empty, a BOM alone, not text, no header row: field "
                                   "`file`), or a reused Idempotency-Key",
                    "content": problem_ref()},
            "429": {"description": REASONS["429"], "content": problem_ref()},
            "503": {"description": REASONS["503"], "content": problem_ref()},
            "504": {"description": "a service did not answer in time", "content": problem_ref()}}}}
    paths["/api/v1/export/{entity}"] = {"get": {
        "summary": "Export a register as CSV or an Excel workbook (the columns the import "
                   "takes back), or a project as a Microsoft Project plan",
        "description": ("entity mspdi with ?project=CODE (or id): the project as Microsoft "
                        "Project XML (MSPDI): properties and currency, milestones, and its "
                        "proposed and committed allocations as tasks with timephased work and "
                        "their resources; POST /api/v1/import takes it back unchanged. The "
                        "other query parameters are not for mspdi."),
        "tags": ["import"],
        "parameters": [
            {"name": "entity", "in": "path", "required": True,
             "schema": {"type": "string", "enum": entities + ["mspdi"]}, "example": "project"},
            {"name": "project", "in": "query", "required": False, "schema": {"type": "string"},
             "description": "entity mspdi (required there): the project's code or id"},
            {"name": "org_unit", "in": "query", "required": False, "schema": {"type": "string"},
             "description": "only this unit's subtree (default: all you may see)"},
            {"name": "format", "in": "query", "required": False,
             "schema": {"type": "string", "enum": ["csv", "xlsx"]},
             "description": "csv (default) or xlsx: a workbook with dates as dates, money as "
                            "numbers in its currency's format, a frozen header and widths"},
            flag("bom", "start with a UTF-8 byte order mark (for spreadsheet programs)")] + [
            dict(p, description="the portfolio's filter (as GET /api/v1/portfolio): the file "
                                "holds the projects it shows, in its order, or their records; "
                                "not for org_unit or resource; needs the risk monitor")
            for p in list_params(messages, enums, "PortfolioRequest",
                                 ("org_unit", "limit", "cursor"))],
        "responses": {
            "200": {"description": "the CSV file, the workbook, or the plan",
                    "content": {"text/csv": {"schema": {"type": "string"}},
                                "application/xml": {"schema": {"type": "string"}},
                                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {
                                    "schema": {"type": "string", "format": "binary"}}}},
            "400": {"description": REASONS["400"], "content": problem_ref()},
            "401": {"description": REASONS["401"], "content": problem_ref()},
            "403": {"description": "your grants do not cover that org unit",
                    "content": problem_ref()},
            "404": {"description": "no such entity kind, org unit, or project you may see",
                    "content": problem_ref()},
            "429": {"description": REASONS["429"], "content": problem_ref()},
            "503": {"description": REASONS["503"], "content": problem_ref()},
            "504": {"description": "a service did not answer in time", "content": problem_ref()}}}}
    paths["/api/v1/reports/{org_unit}"] = {"get": {
        "summary": "The portfolio report of an org unit (JSON, printable HTML or CSV tables)",
        "description": ("Projects by RAG, phase and status; budget and earned-value totals "
                        "(SPI/CPI from summed PV/EV/AC); red projects; changes since the last "
                        "reporting period; top risks, over-allocated resources, open alerts and "
                        "computed health from the other services (a section whose service is "
                        "not running says so)."),
        "tags": ["report"],
        "parameters": [
            {"name": "org_unit", "in": "path", "required": True, "schema": {"type": "string"},
             "example": "dft"},
            {"name": "format", "in": "query", "required": False,
             "schema": {"type": "string", "enum": ["json", "html", "csv", "xlsx"]},
             "description": "json (default), html (a self-contained page), csv (one table) or "
                            "xlsx (a workbook, a sheet per table)"},
            {"name": "table", "in": "query", "required": False,
             "schema": {"type": "string", "enum": ["summary", "rag", "phase", "status", "units",
                                                   "projects", "changes", "risks",
                                                   "overallocated", "alerts"]},
             "description": "with format=csv: the table (default summary)"},
            {"name": "since", "in": "query", "required": False,
             "schema": {"type": "string", "format": "date"},
             "description": "changes since this date (default: one reporting period back)"},
            flag("bom", "CSV: start with a UTF-8 byte order mark")],
        "responses": {
            "200": {"description": "the report", "content": {
                "application/json": {"schema": {
                    "type": "object", "required": ["org_unit", "projects", "by_rag", "budget",
                                                   "earned_value"]}},
                "text/html": {"schema": {"type": "string"}},
                "text/csv": {"schema": {"type": "string"}},
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {"schema": {"type": "string", "format": "binary"}}}},
            "400": {"description": REASONS["400"], "content": problem_ref()},
            "401": {"description": REASONS["401"], "content": problem_ref()},
            "403": {"description": "your grants do not cover that org unit",
                    "content": problem_ref()},
            "404": {"description": "no such org unit", "content": problem_ref()},
            "429": {"description": REASONS["429"], "content": problem_ref()},
            "503": {"description": REASONS["503"], "content": problem_ref()},
            "504": {"description": "a service did not answer in time", "content": problem_ref()}}}}
    paths["/api/v1/openapi.json"] = {"get": {
        "summary": "This document", "tags": ["meta"],
        "responses": {"200": {"description": "OK", "content": {"application/json": {
            "schema": {"type": "object", "required": ["openapi", "paths"]}}}},
            "401": {"description": REASONS["401"], "content": problem_ref()}}}}
    paths["/api/v1/chat/{tool}/{channel}"] = {
        "post": {
            "summary": "A click on a pmo button in Slack (the app's interactivity Request URL) "
                       "or Mattermost (the buttons' integration URL). No token: the tool signs "
                       "the request with the channel's interact_secret (Slack: "
                       "X-Slack-Signature v0 over the body within five minutes; Mattermost: "
                       "the button's context token), and the notifier acts as the chat user "
                       "the channel maps the clicker to",
            "tags": ["notifier"], "security": [],
            "parameters": [
                {"name": "tool", "in": "path", "required": True, "example": "slack",
                 "schema": {"type": "string", "enum": ["slack", "mattermost"]}},
                {"name": "channel", "in": "path", "required": True, "example": "ch_dft_1",
                 "schema": {"type": "string"},
                 "description": "the notifier channel whose buttons were clicked"},
                {"name": "X-Slack-Request-Timestamp", "in": "header", "required": False,
                 "schema": {"type": "string"}},
                {"name": "X-Slack-Signature", "in": "header", "required": False,
                 "schema": {"type": "string"}}],
            "requestBody": {"required": True, "content": {
                "application/x-www-form-urlencoded": {"schema": {
                    "type": "object", "required": ["payload"],
                    "properties": {"payload": {"type": "string",
                                               "description": "Slack's block_actions JSON"}}}},
                "application/json": {"schema": {
                    "type": "object", "description": "Mattermost's button request: user_id, "
                    "context {action, target, token}"}}}},
            "responses": {
                "200": {"description": "taken: Slack hears the outcome at response_url (empty "
                                       "body); Mattermost gets the post's update or an "
                                       "ephemeral answer",
                        "content": {"application/json": {"schema": {"type": "object"}}}},
                "401": {"description": "the signature, timestamp or token does not verify",
                        "content": problem_ref()},
                "404": {"description": "no such channel takes clicks", "content": problem_ref()},
                "503": {"description": REASONS["503"], "content": problem_ref()},
                "504": {"description": "the notifier did not answer in time",
                        "content": problem_ref()}}}}
    status_schema = {"type": "object", "required": ["status", "title"],
                     "properties": {"status": {"type": "string",
                                               "enum": ["up", "degraded", "down", "absent"]},
                                    "title": {"type": "string"}}}
    ready = {"type": "object", "required": ["ready", "services"],
             "properties": {"ready": {"type": "boolean"},
                            "services": {"type": "object",
                                         "additionalProperties": status_schema}}}
    paths["/healthz"] = {"get": {"summary": "The gateway process is alive (no token)",
                                 "tags": ["meta"], "security": [],
                                 "responses": {"200": {"description": "OK", "content": {
                                     "application/json": {"schema": {
                                         "type": "object", "required": ["status"]}}}}}}}
    paths["/readyz"] = {"get": {
        "summary": "The registry and the token store answer (no token); each service's state",
        "tags": ["meta"], "security": [],
        "responses": {"200": {"description": "ready", "content": {
            "application/json": {"schema": ready}}},
            "503": {"description": "not ready", "content": {
                "application/json": {"schema": ready}}}}}}
    paths["/metrics"] = {"get": {
        "summary": "Prometheus metrics: requests by route and status, latency histograms, "
                   "upstream timeouts, live-event clients, stream lengths, consumer-group "
                   "pending entries and lag", "tags": ["meta"],
        "responses": {"200": {"description": "OK",
                              "content": {"text/plain": {"schema": {"type": "string"}}}},
                      "401": {"description": REASONS["401"], "content": problem_ref()},
                      "403": {"description": "the caller holds no grant of the metrics role "
                                             "(or admin)", "content": problem_ref()}}}}
    # The edge's answers, for every operation that needs a token: a bad
    # path, query or framing (400), a reused Idempotency-Key (422), too many
    # requests without a valid token (429)
    for pattern, item in paths.items():
        if pattern in ("/healthz", "/readyz"):
            continue
        for method, operation in item.items():
            if method == "parameters":
                continue
            for code in ("400", "422", "429"):
                if code not in operation["responses"]:
                    operation["responses"][code] = {"description": REASONS[code],
                                                    "content": problem_ref()}
    # Everything referred to (Event snapshots refer to the other services'
    # messages, and those to theirs)
    pending = [n for n in schemas]
    while pending:
        for repeated, type_, field in messages.get(pending.pop(), []):
            if type_ in messages and type_ not in schemas:
                schemas[type_] = schema_of(messages, enums, type_, True)
                pending.append(type_)
    doc = {
        "openapi": "3.0.3",
        "info": {"title": "pmo gateway", "version": "1",
                 "description": (
                     "The HTTP/JSON API of pmo, the PMO platform. JSON field names and enum "
                     "labels are the .proto files' (enum labels without their prefix, "
                     "lowercase). Versions travel as ETag / If-Match; Idempotency-Key makes a "
                     "retry safe; errors are application/problem+json naming the field. "
                     "Generated by services/gateway/tools/openapi.py.")},
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                           "description": "an API token, pmo_<id>_<secret>"}},
            "parameters": {
                "IfMatch": {"name": "If-Match", "in": "header", "required": False,
                            "schema": {"type": "string", "pattern": "^\"[1-9][0-9]*\"$"},
                            "description": "the strong ETag you read, e.g. \"3\" (a weak "
                                           "W/\"3\", \"-1\" or anything else is 400)"},
                "IdempotencyKey": {"name": "Idempotency-Key", "in": "header", "required": False,
                                   "schema": {"type": "string", "maxLength": 200},
                                   "description": "a retry with the same key (same token) and the "
                                                  "same request (method, path, query, body) gets "
                                                  "the first answer and changes nothing twice; "
                                                  "the key with another request is 422"}},
            "schemas": schemas,
        },
    }
    json.dump(doc, sys.stdout, indent=1, sort_keys=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
