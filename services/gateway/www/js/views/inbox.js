// inbox.js: "My work": what waits on the signed-in person, in their units,
// with the action in the row: gate decisions waiting on them (the gates
// they are an approver of; the row opens the gate decision on the
// requested phase), alerts with them or escalated to their PMO
// level, change requests to decide, people to propose or approve, status
// reports due on projects they manage, risks they own that are due for
// review. countMyWork() gives the navigation's count.

import { api, explain, state, up } from "../core/api.js";
import { h, table, toast } from "../core/dom.js";
import { date, dateTime, label, money } from "../core/format.js";
import { allocationActions } from "../forms/allocation.js";
import { decideChange } from "../forms/registers.js";

export const title = "My work";

const DECIDERS = ["admin", "pmo_director", "pmo_manager", "sponsor", "programme_manager"];
const STAFFERS = ["admin", "resource_manager", "pmo_manager"];
const LIMIT = "200";

const grants = () => (state.who && state.who.grants) || [];
const me = () => (state.who && state.who.subject) || "";
const units = (roles) => [...new Set(grants().filter((g) => roles.includes(g.role)).map((g) => g.org_unit))];

// Every page of a list in each unit (bounded: an inbox is a working list)
async function each(path, unitList, extra) {
  const out = [];
  for (const unit of unitList) {
    const q = new URLSearchParams(Object.assign({ limit: LIMIT, org_unit: unit }, extra || {}));
    try { out.push(...(await api("GET", `${path}?${q}`)).json.items); } catch (e) { /* a service down: none from it */ }
  }
  const seen = new Set();
  return out.filter((x) => !seen.has(x.id) && seen.add(x.id));
}

// An alert is with me when it names me, names the manager of a project I
// manage, or has climbed to the PMO level I work at
function withMe(a, myProjects) {
  if (a.state !== "open") return false;
  if (a.assignee === me()) return true;
  if (myProjects.has(a.project_id)) return a.level === "owner";
  const path = a.org_unit_path || "";
  return grants().some((g) => (path === g.org_unit || path.split("/").includes(g.org_unit)) &&
    ((a.level === "division_pmo" && ["pmo_manager", "pmo_analyst", "admin"].includes(g.role)) ||
     (a.level === "hub_pmo" && ["pmo_director", "admin"].includes(g.role))));
}

async function gather() {
  const all = units(grants().map((g) => g.role));
  const today = date(Date.now());
  const projects = await each("/api/v1/projects", all);
  const mine = projects.filter((p) => p.manager === me());
  const myProjects = new Set(mine.map((p) => p.id));
  const work = { gates: [], alerts: [], changes: [], people: [], reports: [], risks: [] };
  const jobs = [];
  // The registry lists the gate requests the caller may decide
  jobs.push(api("GET", `/api/v1/gate-requests?to_decide=true&limit=${LIMIT}`)
    .then((r) => { work.gates = r.json.items; }).catch(() => { /* the registry down: none */ }));
  if (up("riskmon")) {
    jobs.push(each("/api/v1/alerts", all).then((x) => { work.alerts = x.filter((a) => withMe(a, myProjects)); }));
    jobs.push(each("/api/v1/changes", all).then((x) => {
      const decider = new Set(units(DECIDERS));
      work.changes = x.filter((c) => c.decision === "pending" &&
        (c.approver ? c.approver === me() : [...decider].some((u) => (c.org_unit_path || "").split("/").includes(u))));
    }));
    jobs.push(each("/api/v1/risks", all, { owner: me() }).then((x) => {
      work.risks = x.filter((r) => r.status === "open" && (!r.review_date || r.review_date <= today));
    }));
    jobs.push(Promise.all(mine.map((p) => api("GET", `/api/v1/projects/${encodeURIComponent(p.id)}/health`)
      .then((r) => ({ p, c: r.json.current })).catch(() => null))).then((x) => {
      work.reports = x.filter((y) => y && y.c && y.c.reporting && y.c.reporting !== "green");
    }));
  }
  if (up("allocator")) {
    const staffed = units(STAFFERS);
    jobs.push(Promise.all([each("/api/v1/allocations", staffed, { state: "requested" }),
                           each("/api/v1/allocations", staffed, { state: "proposed" })])
      .then(([a, b]) => { work.people = a.concat(b); }));
  }
  await Promise.all(jobs);
  return work;
}

const total = (w) => w.gates.length + w.alerts.length + w.changes.length + w.people.length + w.reports.length + w.risks.length;

// The count shown in the navigation
export async function countMyWork() {
  try { return total(await gather()); } catch (e) { return null; }
}

export async function render(params, view) {
  view.replaceChildren(h("h1", {}, "My work"), h("p", { class: "muted" }, "Loading what waits on you…"));
  let work;
  try { work = await gather(); } catch (e) {
    view.replaceChildren(h("h1", {}, "My work"), h("p", { class: "error", role: "alert" }, explain(e)));
    return;
  }
  if (state.updateCount) state.updateCount(true, total(work));
  const again = () => state.refresh();
  const card = (id, heading, count, content) => h("section", { class: "card", id, "aria-labelledby": id + "-title" },
    h("h2", { id: id + "-title" }, heading, " ", h("span", { class: "count" + (count ? "" : " zero"), "aria-label": `${count} waiting` }, String(count))), content);
  const project = (id, code) => h("a", { href: "#/project/" + encodeURIComponent(id) }, code || id);
  view.replaceChildren(h("h1", {}, "My work"),
    h("p", { id: "inbox-summary" }, total(work) ? `${total(work)} thing${total(work) === 1 ? "" : "s"} wait${total(work) === 1 ? "s" : ""} on you, ${me()}.` : `Nothing waits on you, ${me()}.`),
    card("inbox-gates", "Gate decisions waiting", work.gates.length, table([
      { title: "Project", cell: (p) => project(p.id, p.code) }, { title: "Name", cell: (p) => p.name },
      { title: "Gate", cell: (p) => `${label(p.gate_request.from_phase)} → ${label(p.gate_request.to_phase)}` },
      { title: "Asked by", cell: (p) => p.gate_request.requested_by }, { title: "When", cell: (p) => dateTime(p.gate_request.requested_ms) },
      { title: "Artifacts missing", cell: (p) => (p.gate_request.artifacts_missing || []).map(label).join(", ") || "none" },
      { title: "Note", cell: (p) => p.gate_request.note || "" },
      { title: "Action", cell: (p) => h("a", { class: "button", "data-gate": p.id,
          href: `#/project/${encodeURIComponent(p.id)}?gate=${encodeURIComponent(p.gate_request.to_phase)}`,
          "aria-label": `Decide the gate into ${label(p.gate_request.to_phase)} for ${p.code}` }, "Decide…") }],
      work.gates, "No gate decision waits on you.", "Gate decisions waiting")),
    card("inbox-alerts", "Alerts with you", work.alerts.length, table([
      { title: "Severity", cell: (a) => h("span", { class: "rag " + (a.severity === "critical" ? "red" : "amber") }, label(a.severity)) },
      { title: "Alert", cell: (a) => a.title }, { title: "Project", cell: (a) => project(a.project_id) },
      { title: "Level", cell: (a) => label(a.level) }, { title: "Raised", cell: (a) => dateTime(a.raised_ms) },
      { title: "Action", cell: (a) => h("button", { type: "button", "data-ack": a.id, "aria-label": `Acknowledge ${a.title}`, onclick: async () => {
          try { await api("POST", `/api/v1/alerts/${encodeURIComponent(a.id)}/acknowledge`, {}, { "If-Match": `"${a.version}"` }); toast("Acknowledged"); again(); }
          catch (e) { toast(explain(e), true); } } }, "Acknowledge") }],
      work.alerts, "No alert waits on you.", "Alerts with you")),
    card("inbox-changes", "Change requests to decide", work.changes.length, table([
      { title: "Change", cell: (c) => c.title }, { title: "Project", cell: (c) => project(c.project_id) },
      { title: "Cost impact", num: true, cell: (c) => money(c.cost_impact) }, { title: "Days", num: true, cell: (c) => c.schedule_impact_days || 0 },
      { title: "Decision", cell: (c) => decideChange(c, again) }], work.changes, "No change request waits on you.", "Change requests to decide")),
    card("inbox-people", "People to propose or approve", work.people.length, table([
      { title: "Project", cell: (a) => project(a.project_id, a.project_code) }, { title: "Skill or role", cell: (a) => a.skill || a.role || "any" },
      { title: "Person", cell: (a) => a.resource_name || "not chosen" }, { title: "Hours/week", num: true, cell: (a) => a.hours_per_week },
      { title: "Weeks", cell: (a) => `${a.start_week} → ${a.end_week}` }, { title: "Action", cell: (a) => allocationActions(a, again) }],
      work.people, "No booking waits on you.", "People to propose or approve")),
    card("inbox-reports", "Status reports due", work.reports.length, table([
      { title: "Project", cell: (y) => project(y.p.id, y.p.code) }, { title: "Name", cell: (y) => y.p.name },
      { title: "Why", cell: (y) => (y.c.fired || []).filter((f) => f.dimension === "reporting").map((f) => f.detail).join("; ") || "reporting is " + y.c.reporting }],
      work.reports, "No report is due on your projects.", "Status reports due")),
    card("inbox-risks", "Risks to review", work.risks.length, table([
      { title: "Risk", cell: (r) => r.title }, { title: "Project", cell: (r) => project(r.project_id) },
      { title: "Band", cell: (r) => label(r.residual_band) }, { title: "Review by", cell: (r) => r.review_date ? date(r.review_date) : "not set" }],
      work.risks, "No risk of yours is due for review.", "Risks to review")));
}
