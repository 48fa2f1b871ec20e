// capacity.js: the capacity heatmap, by skill or by person, over a range of
// ISO weeks, with a drill-down to the people and allocations of a cell.

import { api, explain, orgUnits, placeholder, unitSelect, up } from "../core/api.js";
import { field, h, table } from "../core/dom.js";
import { isoWeek, label, weekMonday } from "../core/format.js";

export const title = "Capacity";

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

// Bands of utilisation (committed ÷ capacity): only over 100% is red
const BANDS = [
  { max: 0, name: "none", text: "0%" },
  { max: 60, name: "low", text: "1-60%" },
  { max: 85, name: "mid", text: "61-85%" },
  { max: 100, name: "full", text: "86-100%" },
  { max: Infinity, name: "over", text: "over 100% (over-allocated)" },
];
const band = (pct) => BANDS.find((b) => pct <= b.max).name;

// "2026-W49" -> "W49" over "Nov 30" and the year when it changes
function weekHeader(week, i, weeks) {
  const monday = weekMonday(week);
  const year = week.slice(0, 4);
  const showYear = i === 0 || weeks[i - 1].slice(0, 4) !== year;
  return h("th", { scope: "col", class: "num week", title: `ISO week ${week}, from ${monday ? monday.toISOString().slice(0, 10) : week}` },
    h("span", { class: "wk" }, week.slice(5)),
    monday ? h("span", { class: "mon" }, `${MONTHS[monday.getUTCMonth()]} ${monday.getUTCDate()}`) : null,
    showYear ? h("span", { class: "yr" }, year) : null);
}

export async function render(params, view) {
  if (!up("allocator")) {
    view.replaceChildren(h("div", { class: "card" }, h("h1", {}, "Capacity"), placeholder("The capacity heatmap (skills × weeks)", "allocator")));
    return;
  }
  const units = await orgUnits();
  const unit = params.get("unit") || "";
  const by = params.get("by") === "person" ? "person" : "skill";
  const start = params.get("from") || isoWeek(new Date());
  const end = params.get("to") || isoWeek(new Date(Date.now() + 11 * 7 * 86400000));
  const unitEl = unitSelect(units, unit, true);
  const byEl = h("select", { name: "by" }, h("option", { value: "skill", selected: by === "skill" }, "Skill"),
    h("option", { value: "person", selected: by === "person" }, "Person"));
  const fromEl = h("input", { name: "from", value: start, size: 9, pattern: "\\d{4}-W\\d{2}" });
  const toEl = h("input", { name: "to", value: end, size: 9, pattern: "\\d{4}-W\\d{2}" });
  const go = (ev) => {
    if (ev) ev.preventDefault();
    const q = new URLSearchParams({ unit: unitEl.value, by: byEl.value, from: fromEl.value, to: toEl.value });
    location.hash = "#/capacity?" + q;
  };
  const grid = h("section", { class: "card heat", id: "heatmap", "aria-labelledby": "heat-title" });
  const drill = h("section", { class: "card", id: "drill" }, h("h2", {}, "People and projects"),
    h("p", { class: "empty" }, "Choose a cell of the heatmap."));
  view.replaceChildren(h("h1", { class: "sr-only" }, "Capacity"),
    h("form", { class: "toolbar", id: "heatmap-form", onsubmit: go, "aria-label": "Heatmap range" },
      field("Org unit", unitEl), field("Rows", byEl), field("From week", fromEl, "e.g. 2026-W49"),
      field("To week", toEl), h("button", { type: "submit" }, "Show")), grid, drill);
  const q = new URLSearchParams({ start_week: start, end_week: end, by_resource: "true" });
  if (unit) q.set("org_unit", unit);
  let cap;
  try {
    cap = (await api("GET", "/api/v1/capacity?" + q)).json;
  } catch (e) {
    grid.replaceChildren(h("p", { class: "error" }, explain(e)));
    return;
  }
  const weeks = cap.weeks || [];
  const people = cap.resources || [];
  // The allocator counts a person under every skill they have: each
  // person's row names their skills, and each cell counts the people over
  // their own capacity that week (a skill may have hours to spare and
  // still hold people who are over)
  const skillsOf = (r) => r.skill_names || [];
  const has = (r, skill) => skill === "*" || skillsOf(r).includes(skill);
  const rows = by === "person" ? people : (cap.skills || []).concat(cap.total ? [cap.total] : []);
  const rowName = (r) => by === "person" ? r.resource_name : r.skill === "*" ? "All skills" : r.skill;
  const tbl = h("table", {},
    h("caption", { class: "sr-only" }, `Utilisation by ${by} and week`),
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, by === "person" ? "Person" : "Skill"),
      h("th", { scope: "col", class: by === "person" ? "" : "num" }, by === "person" ? "Skills" : "People"),
      weeks.map((w, i) => weekHeader(w, i, weeks)))),
    h("tbody", {}, rows.map((r) => h("tr", {}, h("th", { scope: "row" }, rowName(r)),
      h("td", { class: by === "person" ? "" : "num" }, by === "person" ? skillsOf(r).join(", ") || "none" : r.resources),
      (r.cells || []).map((c, i) => {
        const pct = Math.round(c.utilisation_pct);
        const over = by === "person" ? 0 : c.over_resources || 0;
        const text = `${c.committed_hours}h committed, ${c.proposed_hours}h proposed of ${c.capacity_hours}h`;
        return h("td", { class: "cell b-" + band(c.utilisation_pct) + (c.over ? " over" : "") },
          h("button", { type: "button", title: text + (over ? `; ${over} over-allocated` : ""),
                        "aria-label": `${rowName(r)}, ${weeks[i]}: ${pct}%. ${text}` + (over ? `; ${over} people over-allocated` : ""),
                        onclick: () => drillDown(drill, cap, by, r, weeks[i], unit, has) },
            pct + "%", over ? h("span", { class: "over-people" }, ` ⚠${over}`) : null));
      })))));
  grid.replaceChildren(h("h2", { id: "heat-title" }, "Utilisation: committed ÷ capacity"),
    h("ul", { class: "legend", "aria-label": "Legend" },
      BANDS.map((b) => h("li", {}, h("span", { class: "swatch b-" + b.name }), b.text)),
      h("li", {}, "⚠n: people over-allocated that week")),
    rows.length ? h("div", { class: "scroll" }, tbl) : h("p", { class: "empty" }, "No resources in this unit."));
}

async function drillDown(box, cap, by, row, week, unit, has) {
  const skill = by === "person" ? null : row.skill;
  const people = by === "person" ? [row] : (cap.resources || []).filter((r) => has(r, skill));
  const index = (cap.weeks || []).indexOf(week);
  const q = new URLSearchParams({ limit: "200" });
  if (unit) q.set("org_unit", unit);
  if (by === "person") q.set("resource_id", row.resource_id);
  let allocations = [];
  try { allocations = (await api("GET", "/api/v1/allocations?" + q)).json.items; } catch (e) { /* shown empty */ }
  const inWeek = allocations.filter((a) => a.start_week <= week && week <= a.end_week &&
    (by === "person" ? a.resource_id === row.resource_id : skill === "*" || a.skill === skill));
  const name = by === "person" ? row.resource_name : skill === "*" ? "All skills" : skill;
  box.replaceChildren(h("h2", { tabindex: "-1" }, `${name} · ${week}`),
    table([{ title: "Person", cell: (r) => r.resource_name }, { title: "Committed", num: true, cell: (r) => (r.cells[index] || {}).committed_hours },
           { title: "Capacity", num: true, cell: (r) => (r.cells[index] || {}).capacity_hours },
           { title: "Over", cell: (r) => ((r.cells[index] || {}).over ? "yes" : "no") }], people, "No people.", "People"),
    h("h3", {}, "Allocations that week"),
    table([{ title: "Project", cell: (a) => h("a", { href: "#/project/" + encodeURIComponent(a.project_id) }, a.project_code || a.project_id) },
           { title: "Person", cell: (a) => a.resource_name || "unfilled" },
           { title: "Hours", num: true, cell: (a) => a.hours_per_week }, { title: "State", cell: (a) => label(a.state) }], inWeek, "None.", "Allocations"));
  box.querySelector("h2").focus();
}
