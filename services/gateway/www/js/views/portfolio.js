// portfolio.js: the projects you may see, a page at a time, from the risk
// monitor's portfolio (GET /api/v1/portfolio): searched, filtered and
// sorted there, with the reported and the computed RAG side by side and
// the totals of everything the filters match; the whole view is in the URL.
// Without the risk monitor it falls back to the registry's pages.

import { api, download, explain, newKey, orgUnits, placeholder, showFormError, state, unitSelect, up } from "../core/api.js";
import { field, h, toast } from "../core/dom.js";
import { dateTime, label, money, rag, ratio, UNKNOWN } from "../core/format.js";
import { live } from "../core/live.js";

const PAGE = 50; // projects per page

export const title = "Portfolio";

// Columns: title, the sort key the risk monitor knows, numeric
const COLUMNS = [
  ["Code", "code"], ["Project", "name"], ["Org unit", "org_unit"], ["Manager", "manager"],
  ["Phase", "phase"], ["Status", "status"],
  ["Reported", "reported", false, "The overall RAG of the latest status report"],
  ["Computed", "computed", false, "The risk monitor's RAG from the rules, with the rules that fired"],
  ["SPI", "spi", true], ["CPI", "cpi", true], ["Budget", "budget", true],
  ["Burn", "burn", false, "Actual cost ÷ baseline budget"]];
const PHASES = ["initiation", "planning", "execution", "closing", "closed"];
const STATUSES = ["proposed", "approved", "active", "on_hold", "cancelled", "completed"];
const RAGS = ["green", "amber", "red"];
// The view's state in the URL: these parameters, and page (1, 2, ...)
const FILTERS = ["unit", "q", "portfolio", "programme", "phase", "status", "reported", "computed", "sort"];

// What does not change as filters do, read again when the view is opened
// afresh (or after 30 s): the portfolios and programmes to filter by, and
// per unit the roll-up and the critical alerts of "where to look" (each a
// scan in the risk monitor, which would otherwise queue in front of the
// filtered page)
const cache = new Map();
function cached(key, read) {
  const hit = cache.get(key);
  if (hit && Date.now() - hit.at < 30000) return hit.value;
  const value = read();
  cache.set(key, { at: Date.now(), value });
  value.catch(() => cache.delete(key));
  return value;
}
const listAll = (path) => cached(path, () => api("GET", path + "?limit=500").then((r) => r.json.items));

export async function render(params, view) {
  if (!view.querySelector("#projects")) cache.clear(); // opened, not refined
  const units = await orgUnits();
  const want = Object.fromEntries(FILTERS.map((k) => [k, params.get(k) || ""]));
  const pageNo = Math.max(1, parseInt(params.get("page") || "1", 10) || 1);
  const server = up("riskmon"); // sort, search, RAG filters and totals are the risk monitor's
  const go = (changes) => {
    const q = new URLSearchParams();
    const next = { ...want, ...changes };
    for (const k of FILTERS) if (next[k]) q.set(k, next[k]);
    if (changes.page > 1) q.set("page", String(changes.page));
    location.hash = "#/portfolio?" + q.toString();
  };
  const select = (name, any, values, names) => {
    const el = h("select", { name }, h("option", { value: "" }, any),
      values.map((v, i) => h("option", { value: v, selected: v === want[name] }, names ? names[i] : label(v))));
    el.addEventListener("change", () => go({ [name]: el.value }));
    return el;
  };
  const unitEl = unitSelect(units, want.unit, true);
  unitEl.addEventListener("change", () => go({ unit: unitEl.value }));
  const controls = [field("Division or unit", unitEl), field("Phase", select("phase", "Any phase", PHASES)),
                    field("Status", select("status", "Any status", STATUSES))];
  if (server) {
    const [portfolios, programmes] = await Promise.all([
      listAll("/api/v1/portfolios").catch(() => []), listAll("/api/v1/programmes").catch(() => [])]);
    const search = h("input", { type: "search", name: "q", value: want.q, placeholder: "code, name or manager",
                                autocomplete: "off" });
    let typing = null;
    search.addEventListener("input", () => {
      clearTimeout(typing);
      typing = setTimeout(() => go({ q: search.value.trim() }), 300);
    });
    search.addEventListener("keydown", (ev) => {
      if (ev.key === "Enter") { clearTimeout(typing); go({ q: search.value.trim() }); }
    });
    controls.unshift(field("Search", search));
    controls.push(
      field("Portfolio", select("portfolio", "Any portfolio", portfolios.map((p) => p.id), portfolios.map((p) => `${p.name} (${p.code})`))),
      field("Programme", select("programme", "Any programme", programmes.map((p) => p.id), programmes.map((p) => `${p.name} (${p.code})`))),
      field("Reported RAG", select("reported", "Any", RAGS)),
      field("Computed RAG", select("computed", "Any", RAGS)));
  }

  const reportUnit = want.unit || (state.who && state.who.hub) || "hub";
  // The portfolio's query parameters as the risk monitor names them: the
  // view's page and the export ask with the same filters (one rule, the
  // risk monitor's)
  const QUERY = { unit: "org_unit", portfolio: "portfolio_id", programme: "programme_id" };
  const filtersQuery = (q) => {
    for (const k of FILTERS) if (want[k] && (server || k === "unit")) q.set(QUERY[k] || k, want[k]);
    return q;
  };
  const exportPath = (format) => "/api/v1/export/project?" + filtersQuery(new URLSearchParams({ format }));
  const exportHint = server ? "the projects these filters show, in this order"
                            : "every project of the selected unit (the other filters need the risk monitor)";
  const save = (path, name) => download(path, name).catch((e) => toast("Not saved: " + explain(e), true));
  const totals = h("div", { class: "totals", id: "totals", "aria-label": "Totals", role: "group" });
  const look = h("section", { class: "card look", id: "look", "aria-labelledby": "look-title" });
  const body = h("tbody");
  const pager = h("nav", { class: "pager", "aria-label": "Pages" });
  const sort = want.sort || "code";
  const header = (title, key, num, hint) => {
    const th = h("th", { scope: "col", class: num ? "num" : null, title: hint || null });
    if (!server) return th.append(title), th;
    const active = sort.replace(/^-/, "") === key;
    const down = active && sort.startsWith("-");
    th.setAttribute("aria-sort", active ? (down ? "descending" : "ascending") : "none");
    th.append(h("button", { type: "button", class: "sort", "data-sort": key,
                            onclick: () => go({ sort: active && !down ? "-" + key : key }) },
      title, h("span", { "aria-hidden": "true" }, active ? (down ? " ▼" : " ▲") : "")));
    return th;
  };
  const table = h("table", { id: "projects" },
    h("caption", { class: "sr-only" }, "Projects" + (server ? ", sorted by " + sort.replace(/^-/, "") +
      (sort.startsWith("-") ? " descending" : "") : "")),
    h("thead", {}, h("tr", {}, COLUMNS.map(([t, k, num, hint]) => header(t, k, num, hint)))),
    body);
  view.replaceChildren(
    h("h1", { class: "sr-only" }, "Portfolio"),
    h("div", { class: "toolbar" }, controls,
      h("div", { class: "grow" }),
      h("button", { type: "button", id: "report",
                    title: "The printable portfolio report of the selected unit (HTML)",
                    onclick: () => save(`/api/v1/reports/${encodeURIComponent(reportUnit)}?format=html`, `report-${reportUnit}.html`) },
        "Report"),
      h("button", { type: "button", id: "export-csv", title: `As CSV: ${exportHint}`,
                    onclick: () => save(exportPath("csv"), `projects-${reportUnit}.csv`) }, "CSV"),
      h("button", { type: "button", id: "export-xlsx", title: `As an Excel workbook: ${exportHint}`,
                    onclick: () => save(exportPath("xlsx"), `projects-${reportUnit}.xlsx`) }, "Excel"),
      h("button", { class: "primary", type: "button", id: "new-project",
                    onclick: () => showNewProject(units, want.unit) }, "New project")),
    h("div", { id: "new-project-box" }),
    look,
    totals,
    h("div", { class: "card" }, h("div", { class: "scroll" }, table),
      h("p", { class: "legend small", id: "burn-legend" },
        h("span", { class: "bar legend-bar", "aria-hidden": "true" }, h("span", { class: "half" })),
        "Burn: actual cost ÷ baseline budget (the figure beside the bar); ",
        h("span", { class: "bar over legend-bar", "aria-hidden": "true" }, h("span", { class: "full" })),
        "red: over the baseline. Reported: the latest status report's overall RAG; computed: the risk monitor's rules (open a computed RAG for the rules that fired)."),
      pager));

  const empty = (text, cls) => body.replaceChildren(h("tr", {}, h("td", { colspan: COLUMNS.length, class: cls || "empty" }, text)));
  const pagerFor = (shown, offset, total, hasNext, prev, next) => pager.replaceChildren(
    h("button", { type: "button", disabled: !prev, onclick: prev }, "‹ Previous"),
    h("span", {}, `Page ${pageNo} · ${shown ? `${offset + 1}–${offset + shown}` : "none"}` +
      (total !== null ? ` of ${total}` : ` · ${shown} shown`)),
    h("button", { type: "button", id: "next-page", disabled: !hasNext, onclick: next }, "Next ›"));

  if (server) {
    const q = filtersQuery(new URLSearchParams({ limit: String(PAGE) }));
    if (pageNo > 1) q.set("cursor", String((pageNo - 1) * PAGE));
    whereToLook(look, want.unit);
    empty("Loading…");
    let page;
    try {
      page = (await api("GET", "/api/v1/portfolio?" + q)).json;
    } catch (e) {
      return empty(explain(e), "error");
    }
    body.replaceChildren(...page.rows.map((p) => projectRow(p, p.budget_minor !== undefined && p.has_budget
      ? { minor: p.budget_minor, currency: p.currency } : null, p.has_budget && p.has_actual && Number(p.budget_minor) > 0
      ? Math.round((Number(p.actual_minor) / Number(p.budget_minor)) * 100) : null, p)));
    if (!page.rows.length)
      empty(page.total ? "No projects on this page." : (FILTERS.some((k) => k !== "sort" && k !== "unit" && want[k])
        ? "No project matches these filters." : "No projects here yet."));
    pagerFor(page.rows.length, page.offset, page.total, !!page.next_cursor,
      pageNo > 1 ? () => go({ page: pageNo - 1 }) : null, () => go({ page: pageNo + 1 }));
    pageTotals(totals, page);
  } else {
    look.remove();
    await registryPage(body, pager, want, empty, pagerFor);
    totals.replaceChildren(placeholder("Sort, search, RAG filters and totals over the filtered projects", "riskmon"));
  }

  // Live: a project created or changed in view refreshes the first page
  const liveEl = h("span", { class: "live" });
  totals.before(h("div", { class: "muted" }, liveEl));
  let pending = null;
  live("?type=project.*" + (want.unit ? "&org_unit=" + encodeURIComponent(want.unit) : ""),
    (type, event) => {
      if (pending) return;
      pending = setTimeout(() => { pending = null; if (pageNo === 1 && body.isConnected) state.refresh(); }, 2000);
      toast(`${label(type)}: ${event.project ? event.project.code : event.entity_id}`);
    }, liveEl);
}

// One project's row; health (a portfolio row) may be absent
function projectRow(p, budget, burn, health) {
  const cells = [
    h("td", {}, h("a", { href: "#/project/" + encodeURIComponent(p.project_id || p.id) }, h("code", {}, p.code))),
    h("td", {}, p.name), h("td", {}, p.org_unit), h("td", {}, p.manager || UNKNOWN),
    h("td", {}, label(p.phase)), h("td", {}, label(p.status)),
    h("td", {}, rag(health && health.reported)),
    h("td", {}, health && health.computed && health.computed !== "unspecified"
      ? computed(health.computed, health.fired || [], health.reported) : rag(null)),
    h("td", { class: "num" }, health ? ratio(health.has_spi, health.spi) : UNKNOWN),
    h("td", { class: "num" }, health ? ratio(health.has_cpi, health.cpi) : UNKNOWN),
    h("td", { class: "num" }, money(budget)), h("td", {}, burnBar(burn))];
  const id = p.project_id || p.id;
  // The code is a link (keyboard and screen readers); the whole row is
  // also a click target for the mouse
  return h("tr", { class: "clickable", "data-project": id,
                   onclick: (ev) => { if (ev.target.tagName !== "A" && !ev.target.closest("details")) location.hash = "#/project/" + id; } },
    cells);
}

// Without the risk monitor: the registry's pages (unit, phase, status)
async function registryPage(body, pager, want, empty, pagerFor) {
  const q = new URLSearchParams({ limit: String(PAGE) });
  if (want.unit) q.set("org_unit", want.unit);
  if (want.phase) q.set("phase", want.phase);
  if (want.status) q.set("status", want.status);
  const cursors = [""];
  let index = 0;
  async function load() {
    if (cursors[index]) q.set("cursor", cursors[index]); else q.delete("cursor");
    let page;
    try {
      page = (await api("GET", "/api/v1/projects?" + q)).json;
    } catch (e) {
      return empty(explain(e), "error");
    }
    body.replaceChildren(...page.items.map((p) => {
      const b = p.budget || {};
      const base = b.baseline ? Number(b.baseline.minor) : 0;
      return projectRow(p, b.baseline, base && b.actual ? Math.round((Number(b.actual.minor) / base) * 100) : null, null);
    }));
    if (!page.items.length) empty("No projects here yet.");
    pagerFor(page.items.length, index * PAGE, null, !!page.next_cursor,
      index ? () => { index--; load(); } : null,
      () => { cursors[index + 1] = page.next_cursor; index++; load(); });
  }
  await load();
}

// Totals over every project the filters match (not only this page): the
// count, the colours, and per currency the money (never added across)
function pageTotals(box, page) {
  box.replaceChildren();
  const add = (value, text) => box.append(h("div", { class: "total" }, h("b", {}, value), h("span", {}, text)));
  add(page.total, page.total === 1 ? "project matches" : "projects match");
  add(page.green, "green"); add(page.amber, "amber"); add(page.red, "red");
  if (page.unassessed) add(page.unassessed, "not assessed");
  for (const m of page.money || []) {
    const c = m.currency;
    if (!c && !Number(m.budget_minor) && !m.has_spi) continue;
    const budget = Number(m.budget_minor);
    add(money(m.budget_minor, c), `budget ${c || "(no currency)"}, ${m.projects} project${m.projects === 1 ? "" : "s"}`);
    add(money(m.actual_minor, c), `actual cost ${c}`);
    add(budget > 0 ? Math.round((Number(m.actual_minor) / budget) * 100) + "%" : UNKNOWN, `burn ${c}`);
    if (m.has_spi) add(ratio(true, m.spi), `SPI ${c} (ΣEV/ΣPV)`);
    if (m.has_cpi) add(ratio(true, m.cpi), `CPI ${c} (ΣEV/ΣAC)`);
  }
}

// The computed RAG with the rules that fired one click away; when it
// differs from what the manager reported, it says so
function computed(overall, fired, reported) {
  const differs = reported && reported !== "unspecified" && reported !== overall;
  if (!fired.length && !differs) return rag(overall);
  return h("details", { class: "why" + (differs ? " differs" : "") },
    h("summary", {}, rag(overall), " ",
      h("span", { class: "small" }, differs ? `≠ reported: ${fired.length} rule${fired.length === 1 ? "" : "s"}` : `${fired.length} rule${fired.length === 1 ? "" : "s"}`)),
    h("ul", {}, fired.length ? fired.map((f) => h("li", {}, `${String(f.rag).toUpperCase()} ${f.dimension}: ${f.detail}`))
                             : h("li", {}, "No rule fired: the computed health is green; the report says " + reported)));
}

// Spent against baseline: the bar and its figure, so colour is never the
// only carrier of the meaning
function burnBar(burn) {
  if (burn === null) return UNKNOWN;
  return h("div", { class: "burn" },
    h("div", { class: "bar" + (burn > 100 ? " over" : ""), role: "img", "aria-label": burn + "% of baseline spent" },
      h("span", { style: `width:${Math.min(burn, 100)}%` })),
    h("span", { class: "burn-pct" }, burn + "%"));
}

// The roll-up of unit; with none chosen, of the units the person's grants
// reach (the top-most of them: a grant below another adds nothing), summed:
// a division's people may not read the hub's roll-up
async function rollupFor(unit) {
  let reach = [unit];
  if (!unit) {
    const units = await orgUnits();
    const path = (id) => ((units.find((u) => u.id === id) || {}).path || id).split("/");
    const held = [...new Set(((state.who && state.who.grants) || []).map((g) => g.org_unit))];
    reach = held.filter((u) => !held.some((o) => o !== u && path(u).includes(o)));
  }
  const rolls = await Promise.all(reach.map((u) => api("GET", "/api/v1/rollup?org_unit=" + encodeURIComponent(u)).then((r) => r.json)));
  const sum = (k) => rolls.reduce((n, r) => n + Number(r[k] || 0), 0);
  return { projects: sum("projects"), red: sum("red"), amber: sum("amber"), risks_critical: sum("risks_critical") };
}

// The first thing a director reads: how much is red, and the most severe
// open alerts (newest first), each a link to its project
async function whereToLook(box, unit) {
  if (!up("riskmon")) return box.remove();
  const q = new URLSearchParams({ limit: "500", min_severity: "critical" });
  if (unit) q.set("org_unit", unit);
  let roll, critical;
  try {
    [roll, critical] = await Promise.all([
      cached("rollup:" + unit, () => rollupFor(unit)),
      cached("critical:" + unit, () => api("GET", "/api/v1/alerts?" + q).then((r) => r.json.items.filter((a) => a.state === "open")))]);
  } catch (e) {
    return box.replaceChildren(h("h2", { id: "look-title" }, "Where to look"), h("p", { class: "error" }, explain(e)));
  }
  // The highest escalation first (hub, then division PMO, then owner), then the newest
  const level = { hub_pmo: 2, division_pmo: 1 };
  critical.sort((a, b) => (level[b.level] || 0) - (level[a.level] || 0) ||
                          Number(b.last_raised_ms || b.raised_ms) - Number(a.last_raised_ms || a.raised_ms));
  const top = critical.slice(0, 5);
  box.replaceChildren(h("h2", { id: "look-title" }, "Where to look"),
    h("p", {}, `${roll.red} of ${roll.projects} projects are red and ${roll.amber} amber; ` +
      `${critical.length} critical alert${critical.length === 1 ? "" : "s"} wait for someone to act; ` +
      `${roll.risks_critical || 0} critical risk${roll.risks_critical === 1 ? "" : "s"} open.`),
    top.length ? h("ol", {}, top.map((a) => h("li", {},
      h("a", { href: "#/project/" + encodeURIComponent(a.project_id) }, a.title), " ",
      h("span", { class: "muted" }, `${a.detail || ""} · ${label(a.level)} · ${dateTime(a.last_raised_ms || a.raised_ms)}`)))) : null,
    critical.length ? h("p", {}, h("a", { href: "#/alerts?" + new URLSearchParams({ ...(unit ? { unit } : {}), severity: "critical", state: "open" }) },
      `All ${critical.length} critical alerts`)) : h("p", {}, "Nothing critical waits: no open critical alert."));
}

function showNewProject(units, unit) {
  const box = document.getElementById("new-project-box");
  const form = h("form", { class: "card inline", id: "new-project-form", "aria-label": "New project" },
    field("Code", h("input", { name: "code", required: true, placeholder: "DFT-2026-014" })),
    field("Name", h("input", { name: "name", required: true })),
    field("Org unit", unitSelect(units.filter((u) => u.kind !== "enterprise"), unit, false)),
    field("Priority", h("select", { name: "priority" }, [1, 2, 3, 4, 5].map((p) => h("option", { value: p, selected: p === 3 }, p)))),
    field("Baseline budget", h("input", { name: "budget", type: "number", min: 0, step: 1 })),
    field("Currency", h("input", { name: "currency", value: "GBP", size: 4 })),
    h("button", { class: "primary", type: "submit" }, "Create"),
    h("p", { class: "error", role: "alert" }));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const f = new FormData(form);
    const body = { code: f.get("code"), name: f.get("name"), org_unit: f.get("org_unit"),
                   priority: Number(f.get("priority")) };
    if (f.get("budget")) body.budget = { baseline: { minor: Math.round(Number(f.get("budget")) * 100), currency: f.get("currency") } };
    try {
      const res = await api("POST", "/api/v1/projects", body, { "Idempotency-Key": newKey() });
      toast(`Created ${res.json.code}`);
      location.hash = "#/project/" + res.json.id;
    } catch (e) {
      showFormError(form, e);
    }
  });
  box.replaceChildren(form);
  form.querySelector("input").focus();
}
