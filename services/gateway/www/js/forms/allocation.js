// allocation.js: people for a project: request (a named person, or a
// role/skill the resource manager fills), then each step by whoever's job
// it is: propose a person, commit (approve), reject with a reason, release,
// and reshape (hours a week, weeks) from the row.

import { field, h } from "../core/dom.js";
import { isoWeek, label } from "../core/format.js";
import { errorLine, int, submit, text } from "./common.js";

export function allocationForm(p, done) {
  const form = h("form", { class: "inline", id: "allocation-form", "aria-label": "Request people" },
    field("Skill", h("input", { name: "skill", placeholder: "signalling" })),
    field("Role", h("input", { name: "role", placeholder: "engineer" })),
    field("Person (resource id)", h("input", { name: "resource_id", size: 12 }), "blank: the resource manager proposes"),
    field("Hours a week", h("input", { name: "hours_per_week", type: "number", min: 1, max: 168, required: true })),
    field("From week", h("input", { name: "start_week", value: isoWeek(new Date()), size: 9, required: true })),
    field("To week", h("input", { name: "end_week", value: isoWeek(new Date(Date.now() + 12 * 7 * 86400000)), size: 9, required: true })),
    h("button", { type: "submit" }, "Request"), errorLine());
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const body = { project_id: p.id, skill: text(form, "skill"), role: text(form, "role"), resource_id: text(form, "resource_id"),
                   hours_per_week: int(form, "hours_per_week"), start_week: text(form, "start_week"), end_week: text(form, "end_week") };
    submit(form, "POST", "/api/v1/allocations", body, null, "People requested", () => done());
  });
  return form;
}

// The steps an allocation in this state can take, as a small form
export function allocationActions(a, done) {
  const path = (step) => `/api/v1/allocations/${encodeURIComponent(a.id)}/${step}`;
  const match = { "If-Match": `"${a.version}"` };
  const form = h("form", { class: "inline compact", "data-allocation": a.id, "aria-label": `Act on the allocation ${a.id}` }, errorLine());
  const step = (name, body, ok) => submit(form, "POST", path(name), Object.assign({ version: Number(a.version) }, body), match, ok, done);
  const buttons = [];
  if (a.state === "requested" || a.state === "proposed") {
    const who = h("input", { name: "resource_id", size: 10, value: a.resource_id || "" });
    buttons.push(field("Person", who),
      h("button", { type: "button", "data-step": "propose", onclick: () => step("propose", { resource_id: who.value.trim() || undefined }, "Proposed") }, "Propose"));
  }
  if (a.state === "proposed")
    buttons.push(h("button", { type: "button", "data-step": "commit", onclick: () => step("commit", { approve: true }, "Committed") }, "Approve"));
  if (a.state === "requested" || a.state === "proposed") {
    const why = h("input", { name: "reason", size: 12 });
    buttons.push(field("Reason", why),
      h("button", { type: "button", "data-step": "reject", onclick: () => step("reject", { reason: why.value.trim() || undefined }, "Rejected") }, "Reject"));
  }
  if (a.state === "committed")
    buttons.push(h("button", { type: "button", "data-step": "release", onclick: () => step("release", {}, "Released") }, "Release"));
  // Reshape: its hours a week and its weeks (committed: only smaller)
  if (a.state === "requested" || a.state === "proposed" || a.state === "committed") {
    const hours = h("input", { name: "hours_per_week", type: "number", min: 1, max: 168, value: a.hours_per_week, size: 4 });
    const from = h("input", { name: "start_week", value: a.start_week, size: 9 });
    const to = h("input", { name: "end_week", value: a.end_week, size: 9 });
    const why = h("input", { name: "reshape_reason", size: 12 });
    buttons.push(h("details", { class: "reshape" }, h("summary", {}, "Reshape"),
      h("div", { class: "inline compact" }, field("Hours a week", hours), field("From week", from), field("To week", to),
        field("Why", why, a.state === "committed" ? "committed: it may only shrink" : null),
        h("button", { type: "button", "data-step": "reshape", onclick: () => {
          const body = { reason: why.value.trim() || undefined };
          if (Number(hours.value) !== Number(a.hours_per_week)) body.hours_per_week = Number(hours.value);
          if (from.value.trim() !== a.start_week) body.start_week = from.value.trim();
          if (to.value.trim() !== a.end_week) body.end_week = to.value.trim();
          step("reshape", body, "Reshaped");
        } }, "Save"))));
  }
  if (!buttons.length) return label(a.state);
  form.prepend(...buttons);
  return form;
}
