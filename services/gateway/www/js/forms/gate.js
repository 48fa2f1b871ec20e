// gate.js: a gate decision by an approver: go, conditional go (with
// conditions and waived artifacts), hold, recycle or stop; beside it the
// gate artifacts recorded (each with its link, who recorded it and when)
// and a form to record one; and the project manager's request for the
// gate into the next phase, which waits for the approvers (My work) until
// it is decided or withdrawn.

import { state } from "../core/api.js";
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

// What the policy in force asks of the gate: the PMO type, who decides,
// the artifacts it requires, present and missing (gateInfo: the project
// page's reading of the project's unit)
function gatePolicy(g) {
  if (!g) return null;
  const why = g.type === "directive" ? `A directive PMO governs ${g.unit}: the gate into ${label(g.next)} needs an approver's decision.`
    : g.needsDecision ? `A controlling PMO governs ${g.unit}: with artifacts missing, the gate into ${label(g.next)} needs an approver's waiver.`
    : `The ${label(g.type)} PMO of ${g.unit} lets the phase change without a decision; a request asks the approvers anyway.`;
  return h("div", { class: "gate-policy", id: "gate-policy", "data-needs-decision": g.needsDecision ? "yes" : "no" },
    h("p", { id: "gate-request-why" }, why),
    h("p", {}, "Artifacts present: ", h("span", { "data-artifacts": "present" }, g.present.map(label).join(", ") || "none"),
      " · missing: ", h("span", { "data-artifacts": "missing" }, g.missing.map(label).join(", ") || "none"),
      g.required.length ? null : " (the policy requires none for this gate)"),
    g.approvers.length ? h("p", {}, "Decided by: ", g.approvers.map(label).join(", ")) : null);
}

// The pending gate request, or a form to make one (the next phase, a note
// to the approvers); its requester may withdraw it
export function gateRequestBox(p, done, gateInfo) {
  const r = p.gate_request;
  const next = PHASES[PHASES.indexOf(p.phase) + 1];
  if (r) {
    const mine = state.who && state.who.subject === r.requested_by;
    const form = h("form", { class: "inline", id: "gate-withdraw-form", "aria-label": "Withdraw the gate request" },
      h("button", { type: "submit" }, "Withdraw the request"), errorLine());
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      submit(form, "POST", `/api/v1/projects/${encodeURIComponent(p.id)}/gate-request/withdraw`, {},
             { "If-Match": `"${p.version}"` }, "Gate request withdrawn", done);
    });
    // (tabindex: "Request next phase" brings the pending request into view
    // and gives it the focus)
    return h("div", { class: "gate-request", id: "gate-request", "data-to-phase": r.to_phase, tabindex: -1 },
      h("h3", {}, `Gate into ${label(r.to_phase)} requested`),
      h("p", {}, `Asked by ${r.requested_by} at ${dateTime(r.requested_ms)}; decided by ${(r.approver_roles || []).map(label).join(", ")}.`),
      h("p", {}, "Artifacts missing then: ", (r.artifacts_missing || []).map(label).join(", ") || "none"),
      r.note ? h("p", {}, "Note: ", r.note) : null,
      mine ? form : null);
  }
  if (!next || p.status === "cancelled") return null;
  const form = h("form", { class: "inline", id: "gate-request-form", "aria-label": "Request the gate" },
    h("input", { type: "hidden", name: "to_phase", value: next }),
    gatePolicy(gateInfo && gateInfo.next === next ? gateInfo : null),
    h("div", { class: "field wide" }, h("label", { for: "gate-note" }, `Note to the approvers (gate into ${label(next)})`),
      h("textarea", { id: "gate-note", name: "note", rows: 2, maxlength: 2000 })),
    h("button", { type: "submit" }, `Request the gate into ${label(next)}`), errorLine());
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const body = { to_phase: next };
    const note = text(form, "note");
    if (note) body.note = note;
    submit(form, "POST", `/api/v1/projects/${encodeURIComponent(p.id)}/gate-request`, body,
           { "If-Match": `"${p.version}"` }, `Gate into ${label(next)} requested`, done);
  });
  return h("div", { class: "gate-request", id: "gate-request" }, form);
}

// The decision form; phase: the gate to open it on (a request's, from the
// inbox's link), else the next phase
export function gateForm(p, done, phase) {
  const next = phase || PHASES[PHASES.indexOf(p.phase) + 1] || "closed";
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
