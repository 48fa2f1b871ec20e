// gate.js: a gate decision by an approver: go, conditional go (with
// conditions and waived artifacts), hold, recycle or stop.

import { field, h } from "../core/dom.js";
import { label } from "../core/format.js";
import { choice, errorLine, submit, text } from "./common.js";

const PHASES = ["initiation", "planning", "execution", "closing", "closed"];
const OUTCOMES = ["go", "conditional_go", "hold", "recycle", "stop"];

export function gateForm(p, done) {
  const next = PHASES[PHASES.indexOf(p.phase) + 1] || "closed";
  const form = h("form", { class: "inline", id: "gate-form", "aria-label": "Decide a gate" },
    field("Into phase", choice("to_phase", PHASES.filter((x) => PHASES.indexOf(x) > PHASES.indexOf(p.phase)), next)),
    field("Outcome", choice("outcome", OUTCOMES, "go")),
    h("div", { class: "field wide" }, h("label", { for: "gate-rationale" }, "Rationale"),
      h("textarea", { id: "gate-rationale", name: "rationale", rows: 2, required: true })),
    field("Conditions", h("input", { name: "conditions", size: 30 }), "conditional go: what must be done"),
    field("Waived artifacts", h("input", { name: "waived_artifacts", size: 24 }), "comma-separated, e.g. business_case"),
    h("button", { type: "submit", class: "primary" }, "Record decision"),
    errorLine());
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const waived = (text(form, "waived_artifacts") || "").split(",").map((s) => s.trim()).filter(Boolean);
    const body = { version: Number(p.version), to_phase: text(form, "to_phase"), outcome: text(form, "outcome"),
                   rationale: text(form, "rationale"), conditions: text(form, "conditions") };
    if (waived.length) body.waived_artifacts = waived;
    submit(form, "POST", `/api/v1/projects/${encodeURIComponent(p.id)}/gate-decisions`, body, null,
           `Gate decision recorded: ${label(body.outcome)}`, done);
  });
  return form;
}
