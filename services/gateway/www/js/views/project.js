// project.js: one project: its record, health with the rules that fired,
// milestones, status reports, RAID registers, allocations and gate
// decisions, kept current by the project's live events.

import { api, ApiError, download, explain, placeholder, showFormError, state, up } from "../core/api.js";
import { field, h, section, table, toast } from "../core/dom.js";
import { date, dateTime, label, money, rag, ratio, UNKNOWN } from "../core/format.js";
import { live } from "../core/live.js";
import { allocationActions, allocationForm } from "../forms/allocation.js";
import { artifactsBox, gateForm, gateRequestBox } from "../forms/gate.js";
import { milestoneDates, projectEditForm } from "../forms/project-edit.js";
import { changeForm, closeControl, decideChange, issueForm, raidForm } from "../forms/registers.js";
import { newRiskForm, reviewRisk } from "../forms/risk.js";
import { statusReportForm } from "../forms/status-report.js";

export const title = "Project";

export async function render(params, view, id) {
  let res;
  try {
    res = await api("GET", "/api/v1/projects/" + encodeURIComponent(id));
  } catch (e) {
    view.replaceChildren(h("div", { class: "card error" }, explain(e)));
    return;
  }
  const p = res.json;
  let etag = res.etag;
  const b = p.budget || {};
  const liveEl = h("span", { class: "live" });
  const record = h("dl", { class: "record" },
    ...[["Code", p.code], ["Org unit", p.org_unit_path], ["Phase", label(p.phase)],
        ["Status", label(p.status)], ["Methodology", label(p.methodology)],
        ["Priority", p.priority], ["Sponsor", p.sponsor || UNKNOWN], ["Manager", p.manager || UNKNOWN],
        ["Baseline", `${date(p.baseline_start)} → ${date(p.baseline_finish)}`],
        ["Forecast finish", date(p.forecast_finish)],
        ["Budget", `${money(b.baseline)} baseline · ${money(b.actual)} actual · ${money(b.forecast)} forecast`],
        ["Artifacts", (p.artifacts || []).join(", ") || "none"], ["Version", p.version]]
      .flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, String(v))]));
  const editBox = h("details", { class: "more", id: "edit-project" }, h("summary", {}, "Edit the project"));
  editBox.addEventListener("toggle", async () => {
    if (!editBox.open || editBox.querySelector("form")) return;
    const [portfolios, programmes] = await Promise.all(["portfolios", "programmes"].map((k) =>
      api("GET", `/api/v1/${k}?limit=500&org_unit=${encodeURIComponent(p.org_unit)}`).then((r) => r.json.items).catch(() => [])));
    editBox.append(projectEditForm(p, portfolios, programmes, () => state.refresh()));
  });
  // The gate into the next phase as the policy in force judges it (null
  // when the unit cannot be read: the registry's refusal then decides)
  const next = nextPhase(p);
  const gateInfo = await gateInForce(p, next);
  const phaseBtn = h("button", { type: "button", id: "next-phase", disabled: !next, onclick: async () => {
    // A pending request, or a gate that needs an approver's decision: the
    // request form, not a phase change the registry would refuse
    if (p.gate_request || (gateInfo && gateInfo.needsDecision)) return openGateRequest(gateInfo);
    try {
      const r = await api("POST", `/api/v1/projects/${p.id}/phase`, { to_phase: next }, { "If-Match": etag });
      etag = r.etag;
      toast(`Moved to ${next}` + (r.warning ? ` (${r.warning})` : ""));
      state.refresh();
    } catch (e) {
      // The policy changed since the page was drawn: the registry says a
      // decision is needed, and the request form shows why
      if (e instanceof ApiError && e.status === 409 && /request_gate/.test(e.problem.detail || "")) openGateRequest(gateInfo, explain(e));
      else toast(explain(e), true);
    }
  } }, "Request next phase");
  const downloads = h("details", { class: "more downloads", id: "project-downloads" }, h("summary", {}, "Download"),
    h("button", { type: "button", id: "export-mspdi", onclick: () =>
      download(`/api/v1/export/mspdi?project=${encodeURIComponent(p.code)}`, `${p.code}.xml`)
        .then(() => toast(`Saved ${p.code} as Microsoft Project XML`))
        .catch((e) => toast("Not saved: " + explain(e), true)) },
      "Microsoft Project (MSPDI XML)"),
    h("span", { class: "hint" }, "the plan: tasks, milestones, baseline and forecast; opens in Microsoft Project and ProjectLibre"));
  view.replaceChildren(
    h("div", { class: "toolbar" },
      h("div", {}, h("a", { href: "#/portfolio" }, "‹ Portfolio")),
      h("div", { class: "grow" }), liveEl, downloads, phaseBtn),
    h("div", { class: "card", id: "record" }, h("h1", {}, p.name, " ", h("code", {}, p.code)), record, editBox),
    h("div", { class: "grid2" },
      h("section", { class: "card", id: "health" }, h("h2", {}, "Health")),
      h("section", { class: "card", id: "milestones" }, h("h2", {}, "Milestones"))),
    h("section", { class: "card", id: "reports" }, h("h2", {}, "Status reports")),
    h("section", { class: "card", id: "raid" }, h("h2", {}, "RAID registers")),
    h("div", { class: "grid2" },
      h("section", { class: "card", id: "allocations" }, h("h2", {}, "Allocations")),
      h("section", { class: "card", id: "decisions" }, h("h2", {}, "Gate decisions"))));
  // #/project/ID?gate=PHASE (My work, a chat message): the decision form
  // open on that gate
  const gate = params.get("gate");
  const sections = () => Promise.all([milestones(p), reports(p), decisions(p, gate, gateInfo), health(p), raid(p), allocations(p)]);
  await sections();
  if (gate) {
    const box = document.getElementById("gate-decide");
    if (box) {
      box.scrollIntoView({ block: "start" });
      document.getElementById("gate-rationale")?.focus();
    }
  }
  live("?project=" + encodeURIComponent(p.id), (type) => {
    toast("Live: " + label(type));
    if (type.startsWith("project.")) state.refresh(); else sections();
  }, liveEl);
}

async function milestones(p) {
  const res = await api("GET", `/api/v1/projects/${p.id}/milestones?limit=100`);
  const form = h("form", { class: "inline", "aria-label": "Add a milestone" },
    field("Milestone", h("input", { name: "name", required: true })),
    field("Baseline date", h("input", { name: "baseline_date", type: "date", required: true })),
    h("button", { type: "submit" }, "Add"),
    h("p", { class: "error", role: "alert" }));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const f = new FormData(form);
    try {
      await api("POST", `/api/v1/projects/${p.id}/milestones`, { name: f.get("name"), baseline_date: f.get("baseline_date") });
      milestones(p);
    } catch (e) { showFormError(form, e); }
  });
  section("milestones", table([
    { title: "Name", cell: (m) => m.name }, { title: "Baseline", cell: (m) => date(m.baseline_date) },
    { title: "Forecast", cell: (m) => m.forecast_date ? date(m.forecast_date) : "none" },
    { title: "Actual", cell: (m) => m.actual_date ? date(m.actual_date) : "not yet" },
    { title: "Change", cell: (m) => milestoneDates(m, () => milestones(p)) }],
    res.json.items, "No milestones.", "Milestones"), form);
}

async function reports(p) {
  const res = await api("GET", `/api/v1/projects/${p.id}/status-reports?limit=100`);
  const items = res.json.items.slice().reverse();
  const cur = (p.budget && p.budget.baseline && p.budget.baseline.currency) || "";
  section("reports", h("details", { class: "more" },
    h("summary", {}, "Submit a status report"), statusReportForm(p, () => reports(p))), table([
    { title: "Period end", cell: (r) => date(r.period_end) }, { title: "Overall", cell: (r) => rag(r.overall) },
    { title: "Schedule", cell: (r) => rag(r.schedule) }, { title: "Cost", cell: (r) => rag(r.cost) },
    { title: "Complete", num: true, cell: (r) => r.percent_complete + "%" },
    { title: "PV", num: true, cell: (r) => money(r.pv_minor, cur) },
    { title: "EV", num: true, cell: (r) => money(r.ev_minor, cur) },
    { title: "AC", num: true, cell: (r) => (r.has_ac ? money(r.ac_minor, cur) : UNKNOWN) },
    { title: "Narrative", cell: (r) => r.narrative }, { title: "By", cell: (r) => r.author }],
    items, "No status reports yet.", "Status reports"));
}

const PHASES = ["initiation", "planning", "execution", "closing", "closed"];
const nextPhase = (p) => PHASES[PHASES.indexOf(p.phase) + 1] || null;

// What the policy in force asks of the gate into the next phase: the PMO
// type (a directive PMO decides every gate; a controlling one decides a gate
// whose artifacts are missing, by a waiver), the artifacts it requires, which
// of them the project has and which it lacks
async function gateInForce(p, next) {
  if (!next) return null;
  let unit;
  try {
    unit = (await api("GET", "/api/v1/org-units/" + encodeURIComponent(p.org_unit))).json;
  } catch (e) {
    return null;
  }
  const type = unit.effective_pmo_type || "none";
  const requirement = ((unit.effective_policy || {}).gates || []).find((g) => g.phase === next) || {};
  const required = requirement.artifacts || [];
  const have = new Set(p.artifacts || []);
  const missing = required.filter((a) => !have.has(a));
  return { next, type, unit: unit.path || p.org_unit_path, required, missing,
           present: required.filter((a) => have.has(a)), approvers: requirement.approver_roles || [],
           needsDecision: type === "directive" || (type === "controlling" && missing.length > 0) };
}

// The gate request (Gate decisions card) brought into view with why the
// phase cannot simply change; focus on its note, or on the pending request
function openGateRequest(gateInfo, refusal) {
  const box = document.getElementById("gate-request");
  if (!box) return;
  const why = box.querySelector("#gate-request-why");
  if (why && refusal) why.textContent = refusal;
  box.classList.add("opened");
  box.scrollIntoView({ block: "center" });
  // A pending request (data-to-phase) is read, not acted on: the box
  // takes the focus, not its "Withdraw" button
  (box.dataset.toPhase ? box : box.querySelector("textarea[name=note]") || box).focus();
}

async function decisions(p, gate, gateInfo) {
  const res = await api("GET", `/api/v1/projects/${p.id}/gate-decisions?limit=100`);
  section("decisions", table([
    { title: "Gate", cell: (d) => `${label(d.from_phase)} → ${label(d.to_phase)}` },
    { title: "Outcome", cell: (d) => label(d.outcome) }, { title: "By", cell: (d) => `${d.decided_by} (${label(d.decided_as)})` },
    { title: "When", cell: (d) => dateTime(d.decided_ms) }, { title: "Why", cell: (d) => d.rationale }],
    res.json.items, "No gate decisions.", "Gate decisions"),
    gateRequestBox(p, () => state.refresh(), gateInfo),
    p.phase === "closed" ? null :
      h("details", { class: "more", id: "gate-decide", open: !!gate }, h("summary", {}, "Decide a gate (approvers)"),
        artifactsBox(p, () => state.refresh()), gateForm(p, () => state.refresh(), gate)));
}

async function health(p) {
  if (!up("riskmon")) return section("health", placeholder("Health", "riskmon"));
  try {
    const res = await api("GET", `/api/v1/projects/${p.id}/health`);
    const c = res.json.current;
    if (!c) return section("health", h("p", { class: "empty" }, "Not assessed yet."));
    const dims = ["overall", "schedule", "cost", "risk", "resources", "reporting", "governance"];
    section("health",
      h("div", { class: "totals" }, dims.map((d) => h("div", { class: "total" }, rag(c[d]), h("span", {}, d)))),
      h("p", {}, `SPI ${ratio(c.has_spi, c.spi)} · CPI ${c.has_cpi ? ratio(true, c.cpi) : "unknown (no actual cost)"} · assessed ${dateTime(c.assessed_ms)}`),
      h("h3", {}, "Rules that fired"),
      table([{ title: "Rule", cell: (f) => f.rule }, { title: "Dimension", cell: (f) => f.dimension },
             { title: "RAG", cell: (f) => rag(f.rag) }, { title: "Detail", cell: (f) => f.detail }],
            c.fired || [], "No rule fired: green.", "Rules that fired"));
  } catch (e) {
    section("health", h("p", { class: "empty" }, e.status === 404 ? "Not assessed yet." : explain(e)));
  }
}

// The registers whose "show closed" switch is on, per project (kept while
// the page redraws)
const showClosed = new Set();

// Is a RAID entry closed, and what closed it: a risk's closure note, an
// issue's resolution, a change's decision, an entry's note
const CLOSED = {
  risks: (r) => r.status === "closed" || r.status === "occurred" ? r.closure_note || "" : null,
  issues: (i) => i.status === "resolved" || i.status === "closed" ? i.resolution || "" : null,
  changes: (c) => c.closed ? [label(c.decision), c.decision_note].filter(Boolean).join(": ") : null,
  raid: (r) => r.status === "closed" ? r.note || "" : null,
};

async function raid(p) {
  if (!up("riskmon")) return section("raid", placeholder("Risks, issues, changes and RAID entries", "riskmon"));
  const registers = ["risks", "issues", "changes", "raid"];
  const shown = (r) => showClosed.has(`${p.id}:${r}`);
  const [risks, issues, changes, other] = await Promise.all(registers.map(
    (r) => api("GET", `/api/v1/projects/${p.id}/${r}?limit=100${shown(r) ? "&include_closed=true" : ""}`)
      .then((x) => x.json.items).catch(() => [])));
  // Each register's heading with its "show closed" switch (the risk
  // monitor keeps closed entries; the lists hold open ones unless asked)
  const head = (register, title) => {
    const box = h("input", { type: "checkbox", id: `closed-${register}`, "data-show-closed": register, checked: shown(register) });
    box.addEventListener("change", () => {
      if (box.checked) showClosed.add(`${p.id}:${register}`); else showClosed.delete(`${p.id}:${register}`);
      raid(p).then(() => document.getElementById(`closed-${register}`)?.focus());
    });
    return h("div", { class: "register-head" }, h("h3", {}, title),
      h("label", { class: "check", for: box.id }, box, "Show closed"));
  };
  // A closed row: marked closed, with what closed it; an open one: its
  // status and closing it from the row
  const closedRow = (register) => (e) => CLOSED[register](e) !== null ? { class: "closed", "data-closed": e.id } : null;
  const status = (kind, register, e) => {
    const closing = CLOSED[register](e);
    if (closing === null) return h("div", {}, label(e.status), closeControl(kind, e, () => raid(p)));
    return h("div", {}, h("span", { class: "tag closed" }, label(e.status)), closing ? h("span", { class: "closing" }, " ", closing) : null);
  };
  const rows = (register) => shown(register) ? `No ${register === "raid" ? "entries" : register}, open or closed.` : `No open ${register === "raid" ? "entries" : register}.`;
  section("raid",
    head("risks", "Risks"),
    table([{ title: "Title", cell: (r) => r.title }, { title: "P×I", cell: (r) => `${r.residual_probability || r.probability}×${r.residual_impact || r.impact}` },
           { title: "Score", num: true, cell: (r) => r.residual_score }, { title: "Band", cell: (r) => label(r.residual_band) },
           { title: "Owner", cell: (r) => r.owner },
           { title: "Review by", cell: (r) => CLOSED.risks(r) !== null ? "closed" : h("div", {}, r.review_date ? date(r.review_date) : "not set", reviewRisk(r, () => raid(p))) },
           { title: "Status", cell: (r) => status("risk", "risks", r) }], risks, rows("risks"), "Risks", closedRow("risks")),
    h("details", { class: "more" }, h("summary", {}, "Record a risk"),
      newRiskForm(p.id, () => raid(p), p.budget && p.budget.baseline && p.budget.baseline.currency)),
    head("issues", "Issues"),
    table([{ title: "Title", cell: (i) => i.title }, { title: "Severity", cell: (i) => label(i.severity) },
           { title: "Owner", cell: (i) => i.owner }, { title: "Status", cell: (i) => status("issue", "issues", i) }],
          issues, rows("issues"), "Issues", closedRow("issues")),
    h("details", { class: "more" }, h("summary", {}, "Log an issue"), issueForm(p, () => raid(p))),
    head("changes", "Changes"),
    table([{ title: "Title", cell: (c) => c.title }, { title: "Reason", cell: (c) => c.reason || UNKNOWN },
           { title: "Cost impact", num: true, cell: (c) => money(c.cost_impact) },
           { title: "Days", num: true, cell: (c) => c.schedule_impact_days || 0 },
           { title: "Decision", cell: (c) => c.closed ? h("div", {}, h("span", { class: "tag closed" }, "Closed"), " ", CLOSED.changes(c)) :
               c.decision === "pending" ? decideChange(c, () => raid(p)) :
               `${label(c.decision)}${c.approver ? " by " + c.approver : ""}${c.decision_note ? ": " + c.decision_note : ""}` }],
          changes, rows("changes").replace("changes", "change requests"), "Change requests", closedRow("changes")),
    h("details", { class: "more" }, h("summary", {}, "Raise a change request"), changeForm(p, () => raid(p))),
    head("raid", "Assumptions, decisions, dependencies"),
    table([{ title: "Kind", cell: (r) => label(r.kind) }, { title: "Title", cell: (r) => r.title },
           { title: "Owner", cell: (r) => r.owner }, { title: "Due", cell: (r) => r.due_date ? date(r.due_date) : "none" },
           { title: "Status", cell: (r) => status("raid", "raid", r) }], other, rows("raid"), "Assumptions, decisions, dependencies", closedRow("raid")),
    h("details", { class: "more" }, h("summary", {}, "Record an assumption, decision or dependency"), raidForm(p, () => raid(p))));
}

// The allocator's conflicts that involve this project: allocation id ->
// its claim (weeks over, whether it prevails, why not). Null if the caller
// may not read them (the column then says unknown).
async function overAllocated(p) {
  try {
    const list = (await api("GET", "/api/v1/conflicts")).json.conflicts || [];
    const mine = new Map();
    for (const c of list)
      for (const claim of c.claims || [])
        if (claim.project_id === p.id) mine.set(claim.allocation_id, { ...claim, person: c.resource_name, summary: c.summary });
    return mine;
  } catch (e) {
    return null;
  }
}

function overCell(over, a) {
  if (!over) return UNKNOWN;
  const claim = over.get(a.id);
  if (!claim) return h("span", { "data-over": "no" }, "no");
  return h("span", { class: "rag red", "data-over": "yes", title: claim.summary || "" },
    `${claim.weeks_over} week${claim.weeks_over === 1 ? "" : "s"} over` + (claim.prevails ? "" : ": gives way"));
}

async function allocations(p) {
  if (!up("allocator")) return section("allocations", placeholder("Allocations", "allocator"));
  try {
    const [res, over] = await Promise.all([api("GET", `/api/v1/projects/${p.id}/allocations?limit=100`), overAllocated(p)]);
    section("allocations", table([
      { title: "Resource", cell: (a) => a.resource_name || a.role || a.skill || "unfilled" },
      { title: "Hours/week", num: true, cell: (a) => a.hours_per_week },
      { title: "Weeks", cell: (a) => `${a.start_week} → ${a.end_week}` }, { title: "State", cell: (a) => label(a.state) },
      { title: "Over-allocated", cell: (a) => overCell(over, a) },
      { title: "Action", cell: (a) => allocationActions(a, () => allocations(p)) }],
      res.json.items, "No allocations.", "Allocations"),
      h("details", { class: "more" }, h("summary", {}, "Request people"), allocationForm(p, () => allocations(p))));
  } catch (e) {
    section("allocations", h("p", { class: "error" }, explain(e)));
  }
}
