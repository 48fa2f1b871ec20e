// gate.js: a gate decision by an approver: go, conditional go (with
// conditions and waived artifacts), hold, recycle or stop; beside it the
// gate artifacts recorded (each with its link, who recorded it and when)
// and a form to record one.

import { field, h } from "../core/dom.js";
import { dateTime, label } from "../core/format.js";
import { choice, errorLine, submit, text } from "./common.js";

const PHASES = ["initiation", "planning", "execution", "closing", "closed"];
const OUTCOMES = ["go", "conditional_go", "hold", "recycle", "stop"];

// The artifacts recorded on the project, and a form to record one (a
// name and a link; the registry stamps who and when)
export function artifactsBox(p, done) {
  const records = p.artifact_records || [];
  const linked = new Set(records.map((r) => r.name));
  const names = (p.artifacts || []).filter((n) => !linked.has(n));
  const list = records.length || names.length
    ? h("ul", { id: "artifacts" },
        records.map((r) => h("li", { "data-artifact": r.name },
          h("b", {}, label(r.name)), ": ",
          r.link ? h("a", { href: r.link, rel: "noopener noreferrer", target: "_blank" }, r.link) : "no link",
          h("span", { class: "muted" }, ` · recorded by ${r.recorded_by || "unknown"} at ${dateTime(r.recorded_ms)}`))),
        names.map((n) => h("li", { "data-artifact": n }, h("b", {}, label(n)), h("span", { class: "muted" }, " · recorded without a link"))))
    : h("p", { class: "empty", id: "artifacts" }, "No gate artifact recorded yet.");
  const form = h("form", { class: "inline", id: "artifact-form", "aria-label": "Record a gate artifact" },
    field("Artifact", h("input", { name: "name", required: true, placeholder: "business_case", size: 16 })),
    field("Link", h("input", { name: "link", type: "url", placeholder: "https://…", size: 30 })),
    h("button", { type: "submit" }, "Record artifact"), errorLine());
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const name = text(form, "name");
    const kept = records.filter((r) => r.name !== name).map((r) => ({ name: r.name, link: r.link || "" }));
    const body = { artifact_records: [...kept, { name, link: text(form, "link") || "" }] };
    // The error of a record names artifact_records[i].link: at the link
    submit(form, "PATCH", `/api/v1/projects/${encodeURIComponent(p.id)}`, body, { "If-Match": `"${p.version}"` },
           `Artifact recorded: ${label(name)}`, done);
  });
  return h("div", { class: "artifacts" }, h("h3", {}, "Gate artifacts"), list, form);
}

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
