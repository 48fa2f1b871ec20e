// units.js: org units and their policies: the tree, each unit's own PMO
// type, reporting period and gate requirements beside what is in force
// there (inherited from above, or tightened here), an editor for a
// unit's own policy (PMO type and tier, reporting period, gate artifacts),
// its health thresholds (forms/thresholds.js, when the risk monitor runs)
// and a form for a new unit below it.

import { api, explain, state, up } from "../core/api.js";
import { field, h, table } from "../core/dom.js";
import { label } from "../core/format.js";
import { choice, errorLine, int, submit, text } from "../forms/common.js";
import { thresholdsCard } from "../forms/thresholds.js";

export const title = "Org units";

const PHASES = ["planning", "execution", "closing", "closed"];
const gates = (policy) => (policy && policy.gates) || [];
const gateText = (g) => `${label(g.phase)}: ${(g.artifacts || []).join(", ") || "no artifacts"}` +
  ((g.approver_roles || []).length ? ` (approved by ${g.approver_roles.map(label).join(", ")})` : "");

// "own" when the unit sets it, else "inherited"
function inForce(own, effective, show) {
  return h("span", {}, show(effective), " ", h("span", { class: own ? "tag own" : "tag inherited" }, own ? "set here" : "inherited"));
}

export async function render(params, view, id) {
  let units;
  try {
    // The list gives each unit's own policy; what is in force there (the
    // registry merges the chain) comes with each unit read on its own
    const listed = (await api("GET", "/api/v1/org-units?limit=500")).json.items;
    units = [];
    let next = 0;
    await Promise.all(Array.from({ length: 4 }, async () => {
      while (next < listed.length) {
        const i = next++;
        units[i] = (await api("GET", "/api/v1/org-units/" + encodeURIComponent(listed[i].id))).json;
      }
    }));
  } catch (e) {
    view.replaceChildren(h("h1", {}, "Org units"), h("p", { class: "error", role: "alert" }, explain(e)));
    return;
  }
  const selected = units.find((u) => u.id === id) || null;
  const rows = units.slice().sort((a, b) => a.path.localeCompare(b.path));
  view.replaceChildren(h("h1", {}, "Org units and policies"),
    h("section", { class: "card" }, table([
      { title: "Unit", cell: (u) => h("a", { href: "#/units/" + encodeURIComponent(u.id), class: "indent-" + Math.min(4, u.path.split("/").length - 1) }, `${u.name} (${u.id})`) },
      { title: "Kind", cell: (u) => label(u.kind) }, { title: "Tier", cell: (u) => label(u.pmo_tier) },
      { title: "PMO type", cell: (u) => inForce(u.pmo_type && u.pmo_type !== "none", u.effective_pmo_type, label) },
      { title: "Reporting every", cell: (u) => inForce(u.policy && u.policy.reporting_period_days,
          (u.effective_policy || {}).reporting_period_days, (d) => (d ? `${d} days` : "not set")) },
      { title: "Gates", cell: (u) => inForce(gates(u.policy).length, u.effective_policy, (p) => gates(p).map(gateText).join("; ") || "none") }],
      rows, "No org units.", "Org units and their policies")),
    selected ? editor(selected, units) : h("p", { class: "muted" }, "Choose a unit to change its own policy or add a unit below it."));
  if (selected && up("riskmon"))
    view.append(selected.pmo_type && selected.pmo_type !== "none"
      ? await thresholdsCard(selected, () => state.refresh())
      : h("p", { class: "muted", id: "thresholds" }, `Health thresholds are set by PMO units: give ${selected.name} a PMO type to set its own.`));
}

function editor(u, units) {
  const own = u.policy || {};
  const form = h("form", { class: "card inline", id: "policy-form", "aria-label": `Policy of ${u.name}` },
    h("h2", { class: "wide" }, `${u.name}: its own policy`),
    h("p", { class: "wide muted" }, "Blank means inherited from above. A unit may tighten what it inherits (a shorter reporting period, more gate artifacts), never loosen it."),
    field("PMO type", choice("pmo_type", ["supportive", "controlling", "directive"], u.pmo_type !== "none" ? u.pmo_type : null, `inherited (${label(u.effective_pmo_type)})`)),
    field("PMO tier", choice("pmo_tier", ["hub", "spoke"], u.pmo_tier !== "none" ? u.pmo_tier : null, "none")),
    field("Reporting period (days)", h("input", { name: "reporting_period_days", type: "number", min: 1, max: 366, value: own.reporting_period_days || "" }),
          `in force: ${(u.effective_policy || {}).reporting_period_days || "not set"}`),
    PHASES.map((ph) => {
      const g = gates(own).find((x) => x.phase === ph);
      return field(`Artifacts for the gate into ${ph}`, h("input", { name: "gate_" + ph, size: 28, value: g ? (g.artifacts || []).join(", ") : "" }), "comma-separated");
    }),
    h("button", { type: "submit", class: "primary" }, "Save policy"), errorLine());
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const policy = { reporting_period_days: int(form, "reporting_period_days") || 0, gates: [] };
    for (const ph of PHASES) {
      const artifacts = (text(form, "gate_" + ph) || "").split(",").map((s) => s.trim()).filter(Boolean);
      if (artifacts.length) policy.gates.push({ phase: ph, artifacts });
    }
    submit(form, "PATCH", `/api/v1/org-units/${encodeURIComponent(u.id)}`, { pmo_type: text(form, "pmo_type") || "none", pmo_tier: text(form, "pmo_tier") || "none", policy },
           { "If-Match": `"${u.version}"` }, `Policy of ${u.id} saved`, () => state.refresh());
  });
  const child = h("form", { class: "card inline", id: "unit-form", "aria-label": `A new unit below ${u.name}` },
    h("h2", { class: "wide" }, `A new unit below ${u.name}`),
    field("Id", h("input", { name: "id", required: true, pattern: "[a-z0-9-]+", size: 12 }), "lower case, digits, -"),
    field("Name", h("input", { name: "name", required: true })),
    field("Kind", choice("kind", ["division", "department"], u.kind === "enterprise" ? "division" : "department")),
    h("button", { type: "submit" }, "Create unit"), errorLine());
  child.addEventListener("submit", (ev) => {
    ev.preventDefault();
    submit(child, "POST", "/api/v1/org-units", { id: text(child, "id"), name: text(child, "name"), kind: text(child, "kind"), parent: u.id },
           null, "Unit created", () => { state.units = null; state.refresh(); });
  });
  return h("div", {}, form, child);
}
