// roadmap.js: a timeline of projects, grouped by division, portfolio or
// programme: baseline start to finish, the slip to a later forecast
// finish, milestones (baseline, and actual when done), today; zoom by
// quarter or year; every project a link. 50 projects a page (the
// registry's cursor), the view kept in the URL.

import { api, explain, orgUnits, unitSelect } from "../core/api.js";
import { field, h } from "../core/dom.js";
import { date } from "../core/format.js";

export const title = "Roadmap";

const PAGE = 50;
const DAY = 86400000;
const SVG = "http://www.w3.org/2000/svg";
const ZOOM = { quarter: { px: 140, months: 3 }, year: { px: 180, months: 12 } };

function svg(tag, attrs, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) if (v !== null && v !== undefined) el.setAttribute(k, v);
  for (const c of children) if (c) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}

const ms = (d) => (d ? Date.parse(String(d).slice(0, 10) + "T00:00:00Z") : NaN);

export async function render(params, view) {
  const units = await orgUnits();
  const unit = params.get("unit") || "";
  const group = ["division", "portfolio", "programme"].includes(params.get("group")) ? params.get("group") : "division";
  const zoom = ZOOM[params.get("zoom")] ? params.get("zoom") : "quarter";
  const cursor = params.get("cursor") || "";
  const unitEl = unitSelect(units, unit, true);
  const groupEl = h("select", { name: "group" }, ["division", "portfolio", "programme"].map((g) => h("option", { value: g, selected: g === group }, g)));
  const zoomEl = h("select", { name: "zoom" }, Object.keys(ZOOM).map((z) => h("option", { value: z, selected: z === zoom }, z)));
  const go = (next) => {
    const q = new URLSearchParams({ group: groupEl.value, zoom: zoomEl.value });
    if (unitEl.value) q.set("unit", unitEl.value);
    if (next) q.set("cursor", next);
    location.hash = "#/roadmap?" + q;
  };
  for (const el of [unitEl, groupEl, zoomEl]) el.addEventListener("change", () => go());
  const box = h("section", { class: "card roadmap", id: "roadmap", "aria-labelledby": "roadmap-title" });
  view.replaceChildren(h("h1", { id: "roadmap-title" }, "Roadmap"),
    h("div", { class: "toolbar" }, field("Org unit", unitEl), field("Group by", groupEl), field("Zoom", zoomEl)), box);

  const q = new URLSearchParams({ limit: String(PAGE) });
  if (unit) q.set("org_unit", unit);
  if (cursor) q.set("cursor", cursor);
  let page;
  try {
    page = (await api("GET", "/api/v1/projects?" + q)).json;
  } catch (e) {
    box.replaceChildren(h("p", { class: "error", role: "alert" }, explain(e)));
    return;
  }
  const projects = page.items.filter((p) => !Number.isNaN(ms(p.baseline_start)) || !Number.isNaN(ms(p.baseline_finish)));
  const undated = page.items.length - projects.length;
  // Milestones of the projects shown, a few requests at a time
  const milestones = new Map();
  let next = 0;
  await Promise.all(Array.from({ length: 6 }, async () => {
    while (next < projects.length) {
      const p = projects[next++];
      try { milestones.set(p.id, (await api("GET", `/api/v1/projects/${encodeURIComponent(p.id)}/milestones?limit=50`)).json.items); }
      catch (e) { milestones.set(p.id, []); }
    }
  }));
  const today = Date.now();
  const times = [today];
  for (const p of projects) for (const d of [p.baseline_start, p.baseline_finish, p.forecast_finish]) if (!Number.isNaN(ms(d))) times.push(ms(d));
  // The axis: whole periods around the data
  const first = new Date(Math.min(...times)), last = new Date(Math.max(...times));
  const step = ZOOM[zoom].months;
  const start = Date.UTC(first.getUTCFullYear(), Math.floor(first.getUTCMonth() / step) * step, 1);
  const ticks = [];
  for (let t = start; t <= last.getTime() + DAY; ) {
    ticks.push(t);
    const d = new Date(t);
    t = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + step, 1);
  }
  ticks.push(ticks.length ? Date.UTC(new Date(ticks[ticks.length - 1]).getUTCFullYear(), new Date(ticks[ticks.length - 1]).getUTCMonth() + step, 1) : start);
  const end = ticks[ticks.length - 1];
  const width = (ticks.length - 1) * ZOOM[zoom].px;
  const x = (t) => ((t - start) / (end - start)) * width;
  const tickLabel = (t) => { const d = new Date(t); return zoom === "year" ? String(d.getUTCFullYear()) : `${d.getUTCFullYear()} Q${Math.floor(d.getUTCMonth() / 3) + 1}`; };

  const key = (p) => (group === "division" ? p.org_unit_path ? p.org_unit_path.split("/")[1] || p.org_unit : p.org_unit : p[group + "_id"]) || "";
  const groups = new Map();
  for (const p of projects) { const k = key(p); if (!groups.has(k)) groups.set(k, []); groups.get(k).push(p); }

  const axis = h("div", { class: "rm-row rm-axis", "aria-hidden": "true" }, h("div", { class: "rm-label" }),
    svg("svg", { width, height: 24, class: "rm-svg" }, ...ticks.slice(0, -1).map((t) =>
      svg("g", {}, svg("line", { x1: x(t), x2: x(t), y1: 0, y2: 24, class: "rm-tick" }), svg("text", { x: x(t) + 4, y: 16, class: "rm-text" }, tickLabel(t)))),
      svg("line", { x1: x(today), x2: x(today), y1: 0, y2: 24, class: "rm-today" })));
  const rows = [];
  for (const [k, list] of [...groups.entries()].sort()) {
    rows.push(h("h2", { class: "rm-group" }, k ? `${group}: ${k}` : `no ${group}`));
    for (const p of list) {
      const s = ms(p.baseline_start), f = ms(p.baseline_finish), fc = ms(p.forecast_finish);
      const ms_ = milestones.get(p.id) || [];
      const text = `${p.code}: baseline ${date(p.baseline_start)} to ${date(p.baseline_finish)}` +
        (!Number.isNaN(fc) && fc > f ? `, forecast finish ${date(p.forecast_finish)} (${Math.round((fc - f) / DAY)} days late)` : "") +
        (ms_.length ? `; milestones: ${ms_.map((m) => `${m.name} ${date(m.actual_date || m.forecast_date || m.baseline_date)}${m.actual_date ? " (done)" : ""}`).join(", ")}` : "") +
        ((p.depends_on || []).length ? `; depends on ${p.depends_on.join(", ")}` : "");
      const x0 = Number.isNaN(s) ? x(f) - 4 : x(s), x1 = Number.isNaN(f) ? x(s) + 4 : x(f);
      rows.push(h("div", { class: "rm-row", "data-project": p.id },
        h("div", { class: "rm-label" }, h("a", { href: "#/project/" + encodeURIComponent(p.id) }, p.code), " ", h("span", { class: "sr-only" }, text)),
        svg("svg", { width, height: 26, class: "rm-svg", "aria-hidden": "true" },
          svg("title", {}, text),
          svg("rect", { x: x0, y: 7, width: Math.max(3, x1 - x0), height: 12, rx: 3, class: "rm-base" }),
          !Number.isNaN(fc) && fc > f ? svg("rect", { x: x1, y: 9, width: Math.max(2, x(fc) - x1), height: 8, class: "rm-slip" }) : null,
          ...ms_.map((m) => { const t = ms(m.actual_date || m.forecast_date || m.baseline_date); return Number.isNaN(t) ? null :
            svg("path", { d: `M${x(t)} 5 l6 8 l-6 8 l-6 -8 z`, class: m.actual_date ? "rm-ms done" : "rm-ms" }); }),
          svg("line", { x1: x(today), x2: x(today), y1: 0, y2: 26, class: "rm-today" }))));
    }
  }
  box.replaceChildren(
    h("ul", { class: "legend", "aria-label": "Legend" },
      h("li", {}, h("span", { class: "swatch rm-base" }), "baseline start to finish"),
      h("li", {}, h("span", { class: "swatch rm-slip" }), "slip to the forecast finish"),
      h("li", {}, "◆ milestone (filled: done)"), h("li", {}, h("span", { class: "swatch rm-today-swatch" }), "today")),
    projects.length ? h("div", { class: "scroll" }, h("div", { class: "rm-chart" }, axis, rows)) : h("p", { class: "empty" }, "No dated projects here."),
    undated ? h("p", { class: "muted" }, `${undated} project${undated === 1 ? "" : "s"} on this page without baseline dates are not drawn.`) : null,
    h("nav", { class: "pager", "aria-label": "Pages of projects" },
      h("button", { type: "button", disabled: !cursor, onclick: () => history.back() }, "‹ Previous"),
      h("button", { type: "button", id: "roadmap-next", disabled: !page.next_cursor, onclick: () => go(page.next_cursor) }, "Next ›")));
}
