// registers.js: the project's other RAID registers: issues, change
// requests (raised, then decided by their approver) and assumptions,
// decisions and dependencies; and closing an entry of any of them from its
// row (closeControl).

import { field, h } from "../core/dom.js";
import { label } from "../core/format.js";
import { choice, errorLine, int, minor, moneyInput, submit, text } from "./common.js";

export function issueForm(p, done) {
  const form = h("form", { class: "inline", id: "issue-form", "aria-label": "Log an issue" },
    field("Issue", h("input", { name: "title", required: true })),
    field("Type", choice("type", ["problem_concern", "off_specification", "request_for_change"], "problem_concern")),
    field("Severity", choice("severity", ["low", "medium", "high", "critical"], "medium")),
    field("Priority (1-5)", choice("priority", ["1", "2", "3", "4", "5"], "3")),
    field("Owner", h("input", { name: "owner", required: true })),
    field("Due", h("input", { name: "due_date", type: "date" })),
    field("Description", h("input", { name: "description", size: 30 })),
    h("button", { type: "submit" }, "Log issue"), errorLine());
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const body = { project_id: p.id, title: text(form, "title"), type: text(form, "type"), severity: text(form, "severity"),
                   priority: int(form, "priority"), owner: text(form, "owner"), due_date: text(form, "due_date"),
                   description: text(form, "description") };
    submit(form, "POST", "/api/v1/issues", body, null, "Issue logged", () => { form.reset(); done(); });
  });
  return form;
}

export function changeForm(p, done) {
  const currency = (p.budget && p.budget.baseline && p.budget.baseline.currency) || "GBP";
  const form = h("form", { class: "inline", id: "change-form", "aria-label": "Raise a change request" },
    field("Change", h("input", { name: "title", required: true })),
    field("Reason", h("input", { name: "reason", required: true })),
    field(`Cost impact (${currency})`, moneyInput("cost_impact", { min: null })),
    field("Schedule impact (days)", h("input", { name: "schedule_impact_days", type: "number", step: 1 })),
    field("Scope impact", h("input", { name: "scope_impact" })),
    field("Approver", h("input", { name: "approver" })),
    h("button", { type: "submit" }, "Raise change"), errorLine());
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const body = { project_id: p.id, title: text(form, "title"), reason: text(form, "reason"),
                   schedule_impact_days: int(form, "schedule_impact_days"), scope_impact: text(form, "scope_impact"),
                   approver: text(form, "approver") };
    const cost = minor(text(form, "cost_impact"));
    if (cost !== undefined) body.cost_impact = { minor: cost, currency };
    submit(form, "POST", "/api/v1/changes", body, null, "Change request raised", () => { form.reset(); done(); });
  });
  return form;
}

// Decide a pending change request: approve, reject or defer, with a note
export function decideChange(c, done) {
  const form = h("form", { class: "inline compact", "data-decide": c.id, "aria-label": `Decide ${c.title}` },
    field("Decision", choice("decision", ["approved", "rejected", "deferred"], "approved")),
    field("Note", h("input", { name: "decision_note", size: 16 })),
    h("button", { type: "submit" }, "Decide"), errorLine());
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    submit(form, "PATCH", `/api/v1/changes/${encodeURIComponent(c.id)}`,
           { decision: text(form, "decision"), decision_note: text(form, "decision_note") },
           { "If-Match": `"${c.version}"` }, `Change ${label(text(form, "decision"))}`, done);
  });
  return form;
}

export function raidForm(p, done) {
  const form = h("form", { class: "inline", id: "raid-form", "aria-label": "Record an assumption, decision or dependency" },
    field("Kind", choice("kind", ["assumption", "decision", "dependency"], "assumption")),
    field("Title", h("input", { name: "title", required: true })),
    field("Owner", h("input", { name: "owner", required: true })),
    field("Due", h("input", { name: "due_date", type: "date" })),
    field("Depends on project", h("input", { name: "depends_on_project", size: 12 }), "dependencies: a project id"),
    field("Description", h("input", { name: "description", size: 24 })),
    h("button", { type: "submit" }, "Record"), errorLine());
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const body = { project_id: p.id, kind: text(form, "kind"), title: text(form, "title"), owner: text(form, "owner"),
                   due_date: text(form, "due_date"), depends_on_project: text(form, "depends_on_project"),
                   description: text(form, "description") };
    submit(form, "POST", "/api/v1/raid", body, null, `${label(body.kind)} recorded`, () => { form.reset(); done(); });
  });
  return form;
}

// Close a risk, an issue or an assumption, decision or dependency from its
// row, with a note (an issue's resolution: the risk monitor refuses to
// close an issue without one, and says so at the note); a risk closes as
// no longer a risk or as having occurred.
const CLOSE_PATHS = { risk: "risks", issue: "issues", raid: "raid" };
export function closeControl(kind, entry, done) {
  const form = h("form", { class: "inline compact", "data-close": entry.id, "aria-label": `Close ${entry.title}` },
    kind === "risk" ? field("Closed as", choice("risk_status", ["closed", "occurred"], "closed")) : null,
    field(kind === "issue" ? "Resolution" : "Note", h("input", { name: "note", size: 18 })),
    h("button", { type: "submit" }, "Close"), errorLine());
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const body = { note: text(form, "note") };
    if (kind === "risk") body.risk_status = text(form, "risk_status");
    submit(form, "POST", `/api/v1/${CLOSE_PATHS[kind]}/${encodeURIComponent(entry.id)}/close`, body,
           { "If-Match": `"${entry.version}"` }, `${entry.title}: closed`, done);
  });
  return h("details", { class: "more", "data-close-for": entry.id }, h("summary", {}, `Close “${entry.title}”…`), form);
}
