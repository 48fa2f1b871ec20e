// planner-benefits.js: the benefits register (realisation against the
// profile, the lag alert, the owner; a measurement recorded in the row; a
// new benefit) and the roll-up by programme, portfolio, division or hub
// (money per currency, never added across currencies).

import { api, explain, orgUnits, unitSelect } from "../core/api.js";
import { field, h, table } from "../core/dom.js";
import { date, label, money, UNKNOWN } from "../core/format.js";
import { choice, errorLine, submit, text } from "../forms/common.js";
import { plannerHash } from "./planner.js";

const KINDS = ["cashable", "non_cashable", "non_financial"];
const STATUSES = ["identified", "planned", "realising", "realised", "closed"];

const financial = (b) => b.kind === "cashable" || b.kind === "non_cashable";

// A value of the benefit's measure: money in its currency, else the number
// and its unit
export function measure(b, value) {
  if (value === undefined || value === null || Number.isNaN(Number(value))) return UNKNOWN;
  if (financial(b)) return money(Number(value || 0), b.currency || b.unit);
  return `${Number(value || 0).toLocaleString("en-GB", { maximumFractionDigits: 2 })}${b.unit ? " " + b.unit : ""}`;
}

// What a person types for a benefit's value: major units for money
const typed = (b, s) => (financial(b) ? Math.round(Number(s) * 100) : Number(s));

function lagBadge(r) {
  if (r && r.overdue)
    return h("span", {}, h("span", { class: "rag red", "data-lagging": "true" }, "LAGGING"), h("br"),
      h("span", { class: "small" }, `no measurement since ${r.overdue_period}`));
  if (!r || !r.period) return h("span", { class: "tag inherited" }, "not measured yet");
  return r.lagging
    ? h("span", { class: "rag red", "data-lagging": "true" }, "LAGGING")
    : h("span", { class: "rag green", "data-lagging": "false" }, "ON PROFILE");
}

function realisationCell(b) {
  const r = b.realisation || {};
  if (!r.period) return `expected ${measure(b, (b.profile || []).slice(-1)[0]?.value)} by ${(b.profile || []).slice(-1)[0]?.period || UNKNOWN}`;
  const pct = Math.round((r.ratio || 0) * 100);
  return h("span", {}, `${measure(b, r.realised || 0)} of ${measure(b, r.expected || 0)} expected at ${r.period} (${pct}%)`,
    h("br"), h("span", { class: "muted small" }, `forecast ${measure(b, r.forecast || 0)}, target ${measure(b, b.target || 0)}`));
}

// A measurement for one benefit, in its row: period and value, If-Match
// the version shown
function measurementForm(b) {
  const form = h("form", { class: "inline", "data-measure": b.id, "aria-label": `Record a measurement of ${b.title}` },
    field("Month", h("input", { name: "period", type: "month", required: true, value: new Date().toISOString().slice(0, 7) })),
    field(financial(b) ? `Value (${b.currency || b.unit})` : `Value (${b.unit || "number"})`,
          h("input", { name: "value", type: "number", step: "any", required: true, size: 10 })),
    h("button", { type: "submit" }, "Record"), errorLine());
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    submit(form, "POST", `/api/v1/benefits/${encodeURIComponent(b.id)}/measurements`,
           { period: text(form, "period"), value: typed(b, text(form, "value")) }, { "If-Match": `"${b.version}"` },
           `Measurement of ${b.id} recorded`, (res) => {
             const row = form.closest("tr");
             if (row && res.json) row.replaceWith(benefitRow(res.json));
           });
  });
  return form;
}

const COLUMNS = [
  { title: "Benefit", cell: (b) => h("span", {}, h("b", {}, b.title), h("br"), h("span", { class: "muted small" }, `${b.id} · ${label(b.kind)}${b.dis_benefit ? " dis-benefit" : ""}`)) },
  { title: "Owner", cell: (b) => b.owner || "not set" },
  { title: "Measure", cell: (b) => b.measure || UNKNOWN },
  { title: "Realisation against profile", cell: realisationCell },
  { title: "Lag", cell: (b) => lagBadge(b.realisation) },
  { title: "Status", cell: (b) => label(b.status || "identified") },
  { title: "Projects", cell: (b) => (b.project_ids || []).map((id) => h("a", { href: "#/project/" + encodeURIComponent(id) }, id, " ")) },
  { title: "Add a measurement", cell: measurementForm },
];

function benefitRow(b) {
  return h("tr", { "data-benefit": b.id, "data-lag": b.realisation && b.realisation.lagging ? "yes" : "no" },
    COLUMNS.map((c) => h("td", {}, c.cell(b))));
}

// "2027-06=1000, 2027-12=2500" -> profile points (values as typed)
function parseProfile(s, b) {
  return (s || "").split(",").map((x) => x.trim()).filter(Boolean).map((x) => {
    const [period, value] = x.split("=").map((y) => y.trim());
    return { period, value: typed(b, value) };
  });
}

function newBenefitForm(units, unit, done) {
  const form = h("form", { class: "inline", id: "benefit-form", "aria-label": "A new benefit" },
    field("Title", h("input", { name: "title", required: true })),
    field("Org unit", unitSelect(units, unit, false)),
    field("Kind", choice("kind", KINDS, "cashable")),
    field("Dis-benefit", h("input", { name: "dis_benefit", type: "checkbox" })),
    field("Owner", h("input", { name: "owner", required: true })),
    field("Measure", h("input", { name: "measure", placeholder: "annual running cost" })),
    field("Unit or currency", h("input", { name: "unit", value: "GBP", size: 6 }), "GBP for money; %, days… otherwise"),
    field("Baseline", h("input", { name: "baseline", type: "number", step: "any", value: "0" })),
    field("Target", h("input", { name: "target", type: "number", step: "any", required: true })),
    field("Expected profile", h("input", { name: "profile", size: 30, placeholder: "2027-06=100000, 2027-12=250000" }), "month=value, comma-separated"),
    field("Status", choice("status", STATUSES, "planned")),
    field("Project ids", h("input", { name: "project_ids", size: 16 }), "comma-separated"),
    h("button", { type: "submit" }, "Create benefit"), errorLine());
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const kind = text(form, "kind");
    const b = { kind, unit: text(form, "unit") };
    const body = { title: text(form, "title"), org_unit: text(form, "org_unit"), kind, owner: text(form, "owner"),
                   measure: text(form, "measure"), unit: b.unit, status: text(form, "status"),
                   dis_benefit: form.elements.dis_benefit.checked,
                   baseline: typed(b, text(form, "baseline") || 0), target: typed(b, text(form, "target")),
                   profile: parseProfile(text(form, "profile"), b),
                   project_ids: (text(form, "project_ids") || "").split(",").map((s) => s.trim()).filter(Boolean) };
    if (financial(b)) body.currency = b.unit;
    submit(form, "POST", "/api/v1/benefits", body, null, "Benefit created", done);
  });
  return form;
}

// The unit filter every section shares: changing it changes the hash
function unitFilter(units, tab, params, extra) {
  const unitEl = unitSelect(units, params.get("unit") || "", true);
  const go = () => { location.hash = plannerHash(tab, Object.assign({ unit: unitEl.value }, extra ? extra() : {})); };
  unitEl.addEventListener("change", go);
  return { unitEl, go };
}

export async function benefits(params, view) {
  const units = await orgUnits();
  const unit = params.get("unit") || "";
  const lagging = params.get("lagging") === "1";
  const lagEl = h("input", { type: "checkbox", name: "lagging", checked: lagging });
  const { unitEl, go } = unitFilter(units, "benefits", params, () => ({ lagging: lagEl.checked ? "1" : "" }));
  lagEl.addEventListener("change", go);
  const q = new URLSearchParams();
  if (unit) q.set("org_unit", unit);
  if (lagging) q.set("lagging_only", "true");
  let items;
  try {
    items = (await api("GET", "/api/v1/benefits?" + q)).json.items || [];
  } catch (e) {
    view.replaceChildren(h("p", { class: "error", role: "alert" }, explain(e)));
    return;
  }
  const lag = items.filter((b) => b.realisation && b.realisation.lagging).length;
  const list = items.length
    ? h("div", { class: "scroll" }, h("table", { id: "benefits" }, h("caption", { class: "sr-only" }, "Benefits"),
        h("thead", {}, h("tr", {}, COLUMNS.map((c) => h("th", { scope: "col" }, c.title)))),
        h("tbody", {}, items.map(benefitRow))))
    : h("p", { class: "empty" }, lagging ? "No benefit lags its profile." : "No benefits registered here yet.");
  const creatable = units.filter((u) => u.kind !== "enterprise");
  view.replaceChildren(
    h("div", { class: "toolbar" }, field("Org unit", unitEl), field("Lagging only", lagEl)),
    h("section", { class: "card", id: "benefit-register" }, h("h2", {}, "Benefits register"),
      h("p", { class: "muted", id: "benefit-summary" }, `${items.length} benefits, ${lag} lagging their profile by more than the threshold.`),
      list,
      h("details", { class: "more" }, h("summary", {}, "A new benefit"),
        newBenefitForm(creatable, unit || (creatable[0] && creatable[0].id), (res) => {
          location.hash = plannerHash("benefits", { unit, created: res.json.id });
        }))));
}

export async function rollup(params, view) {
  const units = await orgUnits();
  const by = ["programme", "portfolio", "division", "hub"].includes(params.get("by")) ? params.get("by") : "division";
  const byEl = choice("by", ["programme", "portfolio", "division", "hub"], by);
  const { unitEl, go } = unitFilter(units, "rollup", params, () => ({ by: byEl.value }));
  byEl.addEventListener("change", go);
  const q = new URLSearchParams({ by });
  if (params.get("unit")) q.set("org_unit", params.get("unit"));
  let rows;
  try {
    rows = (await api("GET", "/api/v1/benefit-rollup?" + q)).json.rows || [];
  } catch (e) {
    view.replaceChildren(h("p", { class: "error", role: "alert" }, explain(e)));
    return;
  }
  const show = (r, v) => (r.financial ? money(Number(v || 0), r.unit) : `${Number(v || 0).toLocaleString("en-GB", { maximumFractionDigits: 2 })} ${r.unit}`);
  view.replaceChildren(
    h("div", { class: "toolbar" }, field("Org unit", unitEl), field("Group by", byEl)),
    h("section", { class: "card", id: "benefit-rollup" }, h("h2", {}, `Benefits by ${by}`),
      h("p", { class: "muted" }, "One row per group and unit of measure: money is never added across currencies; dis-benefits subtract. Values are changes from the baseline."),
      table([{ title: label(by), cell: (r) => r.group },
             { title: "Unit", cell: (r) => r.unit },
             { title: "Benefits", cell: (r) => String(r.benefits || 0), num: true },
             { title: "Lagging", cell: (r) => String(r.lagging || 0), num: true },
             { title: "Planned", cell: (r) => show(r, r.planned), num: true },
             { title: "Expected so far", cell: (r) => show(r, r.expected), num: true },
             { title: "Realised so far", cell: (r) => show(r, r.realised), num: true },
             { title: "Forecast", cell: (r) => show(r, r.forecast), num: true }],
            rows, "No benefits to roll up here.", `Benefits rolled up by ${by}`)),
    h("p", { class: "muted small" }, `As of ${date(Date.now())}.`));
}
