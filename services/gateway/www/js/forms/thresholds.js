// thresholds.js: a PMO unit's own health thresholds (the risk monitor's
// GET/PUT /api/v1/org-units/{id}/thresholds). Each field shows what is in
// force at the unit and where it comes from, as the risk monitor answers it
// (its "sources"): set here (then the value is in the box, and "Inherit"
// empties it, saying what the unit would inherit and from where), or
// inherited from a unit above or the built-in default. Blank means
// inherited. Saving sends the whole own set (the risk monitor replaces it);
// a set that contradicts itself, or loosens what a controlling or directive
// PMO above gives, is refused at its field.

import { api, explain } from "../core/api.js";
import { field, h } from "../core/dom.js";
import { errorLine, submit, text } from "./common.js";

// [name, label, unit]: seconds are shown and typed in hours
const GROUPS = [
  ["Earned value (SPI = EV / PV)", [["spi_amber_below", "SPI amber below"], ["spi_red_below", "SPI red below"],
                                    ["spi_amber_above", "SPI amber above"], ["spi_red_above", "SPI red above"]]],
  ["Earned value (CPI = EV / AC)", [["cpi_amber_below", "CPI amber below"], ["cpi_red_below", "CPI red below"],
                                    ["cpi_amber_above", "CPI amber above"], ["cpi_red_above", "CPI red above"]]],
  ["Schedule (days late)", [["milestone_amber_days", "Milestone amber"], ["milestone_red_days", "Milestone red"],
                            ["slip_amber_days", "Finish slip amber"], ["slip_red_days", "Finish slip red"],
                            ["gate_amber_days", "Gate amber"], ["gate_red_days", "Gate red"]]],
  ["Risks and people", [["risk_high_score", "Risk score: high (amber)"], ["risk_critical_score", "Risk score: critical (red)"],
                        ["overallocated_amber", "Over-allocated people: amber"], ["overallocated_red", "Over-allocated people: red"]]],
  ["Reporting", [["default_reporting_days", "Reporting period when no policy sets one (days)"],
                 ["stale_red_periods", "Report red after this many periods"]]],
  ["Escalation (hours)", [["escalate_owner_s", "With the owner, then the division PMO", "h"],
                          ["escalate_division_s", "With the division PMO, then the hub PMO", "h"],
                          ["alert_cooldown_s", "A cleared alert returning within this reopens", "h"]]],
];
const RATIO = (name) => /^(spi|cpi)_/.test(name);
const shown = (name, unit, v) => (v === undefined || v === null ? "" : unit === "h" ? String(+(v / 3600).toFixed(2)) : RATIO(name) ? String(+v.toFixed(3)) : String(v));

const origin = (unit) => (unit ? unit : "the default");

// The card for unit u
export async function thresholdsCard(u, done) {
  const card = h("section", { class: "card", id: "thresholds", "aria-labelledby": "thresholds-title" },
    h("h2", { id: "thresholds-title" }, `${u.name}: health thresholds`));
  let here;
  try {
    here = (await api("GET", `/api/v1/org-units/${encodeURIComponent(u.id)}/thresholds`)).json;
  } catch (e) {
    card.append(h("p", { class: "muted" }, "The health thresholds cannot be read: " + explain(e)));
    return card;
  }
  const sources = Object.fromEntries((here.sources || []).map((s) => [s.field, s]));
  const form = h("form", { class: "inline", id: "thresholds-form", "aria-label": `Health thresholds of ${u.name}` },
    h("p", { class: "wide muted" }, "What the risk monitor judges health by here. Blank means inherited. " +
      "Below a controlling or directive PMO a unit may only tighten what it inherits; the risk monitor names what it refuses."),
    GROUPS.map(([heading, fields]) => h("fieldset", { class: "wide" }, h("legend", {}, heading),
      fields.map(([name, label, unit]) => {
        const src = sources[name] || { value: here[name], org_unit: "" };
        const input = h("input", { name, type: "number", min: 0, step: RATIO(name) ? "0.01" : unit === "h" ? "0.5" : "1",
                                   size: 7, value: src.set_here ? shown(name, unit, src.value) : "" });
        const inherits = () => `${shown(name, unit, src.inherited)} from ${origin(src.inherited_from)}`;
        const row = field(label, input, src.set_here
          ? `in force: ${shown(name, unit, src.value)}, set here (else it inherits ${inherits()})`
          : `in force: ${shown(name, unit, src.value)}, inherited from ${origin(src.org_unit)}`);
        row.dataset.source = src.set_here ? "here" : src.org_unit || "default";
        if (src.set_here) {
          const clear = h("button", { type: "button", class: "inherit", "aria-label": `${label}: inherit again` }, "Inherit");
          clear.addEventListener("click", () => {
            input.value = "";
            row.querySelector(".hint").textContent = `when saved: inherits ${inherits()}`;
            input.focus();
          });
          row.append(clear);
        }
        return row;
      }))),
    h("button", { type: "submit", class: "primary" }, "Save thresholds"), errorLine());
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const body = { version: here.version };
    for (const [, fields] of GROUPS)
      for (const [name, , unit] of fields) {
        const v = text(form, name);
        if (v !== undefined) body[name] = unit === "h" ? Math.round(Number(v) * 3600) : Number(v);
      }
    submit(form, "PUT", `/api/v1/org-units/${encodeURIComponent(u.id)}/thresholds`, body, null,
           `Health thresholds of ${u.id} saved`, done);
  });
  card.append(form);
  return card;
}
