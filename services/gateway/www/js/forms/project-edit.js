// project-edit.js: a project's record edited (every field a manager or
// PMO keeps, sent as a JSON merge patch with If-Match), archiving it, and
// a milestone's forecast and actual dates.

import { api, explain } from "../core/api.js";
import { field, h, toast } from "../core/dom.js";
import { choice, errorLine, int, minor, moneyInput, submit, text } from "./common.js";

const major = (m) => (m && m.minor !== undefined && m.minor !== null ? String(Number(m.minor) / 100) : "");

export function projectEditForm(p, portfolios, programmes, done) {
  const b = p.budget || {};
  const currency = (b.baseline && b.baseline.currency) || "GBP";
  const form = h("form", { class: "inline", id: "project-edit-form", "aria-label": `Edit ${p.code}` },
    field("Name", h("input", { name: "name", required: true, value: p.name, size: 30 })),
    field("Sponsor", h("input", { name: "sponsor", value: p.sponsor || "" })),
    field("Manager", h("input", { name: "manager", value: p.manager || "" })),
    field("Methodology", choice("methodology", ["waterfall", "agile", "hybrid", "prince2"], p.methodology, "not set")),
    field("Status", choice("status", ["proposed", "approved", "active", "on_hold", "cancelled", "completed"], p.status)),
    field("Priority (1-5)", choice("priority", ["1", "2", "3", "4", "5"], String(p.priority || 3))),
    field("Portfolio", choice("portfolio_id", portfolios.map((x) => x.id), p.portfolio_id, "none")),
    field("Programme", choice("programme_id", programmes.map((x) => x.id), p.programme_id, "none")),
    field("Baseline start", h("input", { name: "baseline_start", type: "date", value: p.baseline_start || "" })),
    field("Baseline finish", h("input", { name: "baseline_finish", type: "date", value: p.baseline_finish || "" })),
    field("Forecast finish", h("input", { name: "forecast_finish", type: "date", value: p.forecast_finish || "" })),
    field(`Budget baseline (${currency})`, moneyInput("baseline", { value: major(b.baseline) })),
    field(`Actual cost (${currency})`, moneyInput("actual", { value: major(b.actual) })),
    field(`Forecast cost (${currency})`, moneyInput("forecast", { value: major(b.forecast) })),
    field("Depends on", h("input", { name: "depends_on", value: (p.depends_on || []).join(", ") }), "project ids, comma-separated"),
    h("div", { class: "field wide" }, h("label", { for: "project-description" }, "Description"),
      h("textarea", { id: "project-description", name: "description", rows: 2 }, p.description || "")),
    h("button", { type: "submit", class: "primary" }, "Save"),
    h("button", { type: "button", id: "archive-project", onclick: async () => {
      if (!confirm(`Archive ${p.code}? It leaves every list; its history is kept.`)) return;
      try {
        await api("DELETE", `/api/v1/projects/${encodeURIComponent(p.id)}`, undefined, { "If-Match": `"${p.version}"` });
        toast(`Archived ${p.code}`);
        location.hash = "#/portfolio";
      } catch (e) { toast(explain(e), true); }
    } }, "Archive"),
    errorLine());
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const money = (name) => { const m = minor(text(form, name)); return m === undefined ? null : { minor: m, currency }; };
    // A merge patch: "" and null clear a field, absent keeps it
    const body = { name: text(form, "name"), sponsor: text(form, "sponsor") || "", manager: text(form, "manager") || "",
                   methodology: text(form, "methodology") || "unspecified", status: text(form, "status"),
                   priority: int(form, "priority"), portfolio_id: text(form, "portfolio_id") || "",
                   programme_id: text(form, "programme_id") || "", baseline_start: text(form, "baseline_start") || "",
                   baseline_finish: text(form, "baseline_finish") || "", forecast_finish: text(form, "forecast_finish") || "",
                   description: text(form, "description") || "",
                   depends_on: (text(form, "depends_on") || "").split(",").map((s) => s.trim()).filter(Boolean),
                   budget: { baseline: money("baseline"), actual: money("actual"), forecast: money("forecast") } };
    submit(form, "PATCH", `/api/v1/projects/${encodeURIComponent(p.id)}`, body, { "If-Match": `"${p.version}"` },
           `Saved ${p.code}`, done);
  });
  return form;
}

// The forecast and actual dates of a milestone, in its row
export function milestoneDates(m, done) {
  const form = h("form", { class: "inline compact", "data-milestone": m.id, "aria-label": `Dates of ${m.name}` },
    field("Forecast", h("input", { name: "forecast_date", type: "date", value: m.forecast_date || "" })),
    field("Actual", h("input", { name: "actual_date", type: "date", value: m.actual_date || "" })),
    h("button", { type: "submit" }, "Save"), errorLine());
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    submit(form, "PATCH", `/api/v1/milestones/${encodeURIComponent(m.id)}`,
           { forecast_date: text(form, "forecast_date") || "", actual_date: text(form, "actual_date") || "" },
           { "If-Match": `"${m.version}"` }, `Saved ${m.name}`, done);
  });
  return form;
}
