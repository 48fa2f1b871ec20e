// risk.js: record a risk, on the risk matrix and a project page: title,
// P, I and owner first; the PRINCE2 fields (cause, event, effect,
// residual P and I, proximity, response, actionee, cost impact, review
// date) one click away. A risk's review from its row (reviewRisk): the
// residual P and I, proximity, response, actionee and the next review.

import { field, h } from "../core/dom.js";
import { choice, errorLine, int, minor, moneyInput, submit, text } from "./common.js";

const PROXIMITY = ["imminent", "within_stage", "within_project", "beyond_project"];
const RESPONSES = ["avoid", "reduce", "fallback", "transfer", "share", "accept", "exploit", "enhance", "reject"];

export function newRiskForm(projectId, done, currency) {
  const num = (name, blank) => choice(name, ["1", "2", "3", "4", "5"], blank ? null : "1", blank);
  const form = h("form", { class: "inline", id: "new-risk-form", "aria-label": "Record a risk" },
    projectId ? null : field("Project id", h("input", { name: "project_id", required: true })),
    field("Risk", h("input", { name: "title", required: true })),
    field("Probability (1-5)", num("probability")),
    field("Impact (1-5)", num("impact")),
    field("Owner", h("input", { name: "owner", required: true })),
    h("details", { class: "more wide" }, h("summary", {}, "PRINCE2 details"),
      h("div", { class: "inline" },
        field("Kind", choice("kind", ["threat", "opportunity"], "threat")),
        field("Category", h("input", { name: "category", placeholder: "commercial" })),
        field("Cause", h("input", { name: "cause" })),
        field("Event", h("input", { name: "event" })),
        field("Effect", h("input", { name: "effect" })),
        field("Residual probability", num("residual_probability", "as inherent")),
        field("Residual impact", num("residual_impact", "as inherent")),
        field("Proximity", choice("proximity", PROXIMITY, null, "not given")),
        field("Response", choice("response", RESPONSES, null, "not given")),
        field("Response plan", h("input", { name: "response_plan" })),
        field("Actionee", h("input", { name: "actionee" })),
        field(`Cost impact (${currency || "GBP"})`, moneyInput("cost_impact")),
        field("Review date", h("input", { name: "review_date", type: "date" })))),
    h("button", { type: "submit" }, "Add risk"),
    errorLine());
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const body = { project_id: projectId || text(form, "project_id"), title: text(form, "title"),
                   probability: int(form, "probability"), impact: int(form, "impact"), owner: text(form, "owner") };
    for (const k of ["kind", "category", "cause", "event", "effect", "proximity", "response", "response_plan", "actionee", "review_date"])
      if (text(form, k) !== undefined) body[k] = text(form, k);
    for (const k of ["residual_probability", "residual_impact"])
      if (int(form, k) !== undefined) body[k] = int(form, k);
    const cost = minor(text(form, "cost_impact"));
    if (cost !== undefined) body.cost_impact = { minor: cost, currency: currency || "GBP" };
    submit(form, "POST", "/api/v1/risks", body, null, "Risk recorded", done);
  });
  return form;
}

// Review a risk from its row: what the response has made of it now and
// when to look again (a merge patch with the version read; the risk
// monitor's refusal at its field)
export function reviewRisk(r, done) {
  const num = (name, value) => choice(name, ["1", "2", "3", "4", "5"], value ? String(value) : null, "as inherent");
  const form = h("form", { class: "inline compact", "data-review": r.id, "aria-label": `Review ${r.title}` },
    field("Residual probability", num("residual_probability", r.residual_probability)),
    field("Residual impact", num("residual_impact", r.residual_impact)),
    field("Proximity", choice("proximity", PROXIMITY, r.proximity && r.proximity !== "unspecified" ? r.proximity : null, "not given")),
    field("Response", choice("response", RESPONSES, r.response && r.response !== "unspecified" ? r.response : null, "not given")),
    field("Actionee", h("input", { name: "actionee", size: 12, value: r.actionee || "" })),
    field("Next review", h("input", { name: "review_date", type: "date", value: r.review_date || "" })),
    h("button", { type: "submit" }, "Save review"), errorLine());
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    submit(form, "PATCH", `/api/v1/risks/${encodeURIComponent(r.id)}`, {
      residual_probability: int(form, "residual_probability") || 0, residual_impact: int(form, "residual_impact") || 0,
      proximity: text(form, "proximity") || "unspecified", response: text(form, "response") || "unspecified",
      actionee: text(form, "actionee") || "", review_date: text(form, "review_date") || "" },
      { "If-Match": `"${r.version}"` }, `${r.title}: reviewed`, done);
  });
  return h("details", { class: "more", "data-review-for": r.id }, h("summary", {}, `Review “${r.title}”…`), form);
}
