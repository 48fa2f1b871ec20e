// risks.js: the 5×5 matrix of open risks (residual P × I) of a unit, each
// cell a button listing its risks, and the "record a risk" form.

import { api, orgUnits, placeholder, state, unitSelect, up } from "../core/api.js";
import { field, h, table } from "../core/dom.js";
import { money } from "../core/format.js";
import { newRiskForm } from "../forms/risk.js";

export const title = "Risk matrix";

const band = (score) => score >= 20 ? "critical" : score >= 12 ? "high" : score >= 6 ? "medium" : score >= 2 ? "low" : "minimal";

export async function render(params, view) {
  if (!up("riskmon")) {
    view.replaceChildren(h("div", { class: "card" }, h("h1", {}, "Risk matrix"), placeholder("The 5×5 risk matrix", "riskmon")));
    return;
  }
  const units = await orgUnits();
  const unit = params.get("unit") || "";
  const unitEl = unitSelect(units, unit, true);
  unitEl.addEventListener("change", () => { location.hash = "#/risks?unit=" + encodeURIComponent(unitEl.value); });
  const matrix = h("div", { class: "matrix", id: "matrix", role: "group", "aria-label": "Probability by impact" });
  const list = h("section", { class: "card", id: "risk-list" }, h("h2", {}, "Risks"), h("p", { class: "empty" }, "Choose a cell of the matrix."));
  const note = h("p", { class: "muted" });
  view.replaceChildren(h("h1", { class: "sr-only" }, "Risk matrix"),
    h("div", { class: "toolbar" }, field("Org unit", unitEl)),
    h("div", { class: "grid2" }, h("section", { class: "card" }, h("h2", {}, "Residual probability × impact"), matrix, note), list),
    h("section", { class: "card" }, h("h2", {}, "Record a risk"), newRiskForm(null, () => state.refresh())));
  // Open risks of the subtree, a page at a time (at most 5 pages here)
  const risks = [];
  let cursor = "";
  for (let i = 0; i < 5; i++) {
    const q = new URLSearchParams({ limit: "500" });
    if (unit) q.set("org_unit", unit);
    if (cursor) q.set("cursor", cursor);
    const page = (await api("GET", "/api/v1/risks?" + q)).json;
    risks.push(...page.items);
    cursor = page.next_cursor;
    if (!cursor) break;
  }
  note.textContent = `${risks.length} open risks${cursor ? " (the first 2,500)" : ""}.`;
  const cellOf = (r) => [r.residual_probability || r.probability, r.residual_impact || r.impact];
  matrix.append(h("div", { "aria-hidden": "true" }));
  for (let impact = 1; impact <= 5; impact++) matrix.append(h("div", { class: "axis", "aria-hidden": "true" }, "I" + impact));
  for (let prob = 5; prob >= 1; prob--) {
    matrix.append(h("div", { class: "axis", "aria-hidden": "true" }, "P" + prob));
    for (let impact = 1; impact <= 5; impact++) {
      const inCell = risks.filter((r) => { const [p, i] = cellOf(r); return p === prob && i === impact; });
      const btn = h("button", { class: "mcell band-" + band(prob * impact), type: "button",
        "data-p": prob, "data-i": impact, title: `P${prob} × I${impact} = ${prob * impact}`,
        "aria-label": `Probability ${prob}, impact ${impact} (${band(prob * impact)}): ${inCell.length} risks`,
        onclick: () => {
          matrix.querySelectorAll(".sel").forEach((e) => { e.classList.remove("sel"); e.setAttribute("aria-pressed", "false"); });
          btn.classList.add("sel");
          btn.setAttribute("aria-pressed", "true");
          list.replaceChildren(h("h2", {}, `Risks at P${prob} × I${impact}`),
            table([{ title: "Risk", cell: (r) => r.title }, { title: "Project", cell: (r) => h("a", { href: "#/project/" + encodeURIComponent(r.project_id) }, r.project_id) },
                   { title: "Owner", cell: (r) => r.owner }, { title: "Exposure", num: true, cell: (r) => money(r.exposure) }], inCell, "None.", "Risks in the cell"));
        } }, inCell.length || "");
      matrix.append(btn);
    }
  }
}
