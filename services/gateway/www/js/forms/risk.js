// risk.js: the "record a risk" form, on the risk matrix and a project page.

import { api, newKey, showFormError } from "../core/api.js";
import { field, h, toast } from "../core/dom.js";

export function newRiskForm(projectId, done) {
  const num = (name) => h("select", { name }, [1, 2, 3, 4, 5].map((n) => h("option", { value: n }, n)));
  const form = h("form", { class: "inline", id: "new-risk-form", "aria-label": "Record a risk" },
    projectId ? null : field("Project id", h("input", { name: "project_id", required: true })),
    field("Risk", h("input", { name: "title", required: true })),
    field("Probability (1-5)", num("probability")),
    field("Impact (1-5)", num("impact")),
    field("Owner", h("input", { name: "owner", required: true })),
    h("button", { type: "submit" }, "Add risk"),
    h("p", { class: "error", role: "alert" }));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const f = new FormData(form);
    try {
      await api("POST", "/api/v1/risks", { project_id: projectId || f.get("project_id"), title: f.get("title"),
        probability: Number(f.get("probability")), impact: Number(f.get("impact")), owner: f.get("owner") },
        { "Idempotency-Key": newKey() });
      toast("Risk recorded");
      done();
    } catch (e) {
      showFormError(form, e);
    }
  });
  return form;
}
