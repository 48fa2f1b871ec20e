// status-report.js: a project manager's status report: RAG per
// dimension, % complete, PV/EV/AC in the project's currency, narrative.

import { field, h } from "../core/dom.js";
import { date } from "../core/format.js";
import { errorLine, int, minor, moneyInput, ragSelect, submit, text } from "./common.js";

// The last Friday on or before today, the usual period end
function lastFriday() {
  const d = new Date();
  d.setDate(d.getDate() - ((d.getDay() + 2) % 7));
  return date(d.getTime());
}

export function statusReportForm(p, done) {
  const currency = (p.budget && p.budget.baseline && p.budget.baseline.currency) || "GBP";
  const form = h("form", { class: "inline", id: "status-report-form", "aria-label": "Submit a status report" },
    field("Period end", h("input", { name: "period_end", type: "date", required: true, value: lastFriday() })),
    field("Overall", ragSelect("overall", null, "choose")),
    field("Schedule", ragSelect("schedule", null, "not given")),
    field("Cost", ragSelect("cost", null, "not given")),
    field("Scope", ragSelect("scope", null, "not given")),
    field("Resources", ragSelect("resources", null, "not given")),
    field("% complete", h("input", { name: "percent_complete", type: "number", min: 0, max: 100, step: 1, required: true })),
    field(`PV (${currency})`, moneyInput("pv_minor"), "planned value to date"),
    field(`EV (${currency})`, moneyInput("ev_minor"), "earned value to date"),
    field(`AC (${currency})`, moneyInput("ac_minor"), "actual cost; blank if not known"),
    h("div", { class: "field wide" }, h("label", { for: "report-narrative" }, "Narrative"),
      h("textarea", { id: "report-narrative", name: "narrative", rows: 3, required: true })),
    h("button", { type: "submit", class: "primary" }, "Submit report"),
    errorLine());
  form.querySelector("[name=overall]").required = true;
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const body = { period_end: text(form, "period_end"), overall: text(form, "overall"),
                   schedule: text(form, "schedule"), cost: text(form, "cost"), scope: text(form, "scope"),
                   resources: text(form, "resources"), percent_complete: int(form, "percent_complete"),
                   pv_minor: minor(text(form, "pv_minor")), ev_minor: minor(text(form, "ev_minor")),
                   narrative: text(form, "narrative") };
    const ac = minor(text(form, "ac_minor"));
    if (ac !== undefined) { body.ac_minor = ac; body.has_ac = true; }
    submit(form, "POST", `/api/v1/projects/${encodeURIComponent(p.id)}/status-reports`, body, null,
           "Status report submitted", () => { form.reset(); done(); });
  });
  return form;
}
