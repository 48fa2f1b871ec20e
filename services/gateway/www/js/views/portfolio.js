// portfolio.js: the projects of a division or unit, a page at a time, with
// their health from the risk monitor and the unit's roll-up totals.

import { api, explain, newKey, orgUnits, showFormError, state, unitSelect, up } from "../core/api.js";
import { field, h, toast } from "../core/dom.js";
import { dateTime, label, money, rag, ratio, UNKNOWN } from "../core/format.js";
import { live } from "../core/live.js";

const PAGE = 50;            // projects per page
// Health reads in flight for one page: the browser has 6 connections to
// the gateway and the live stream holds one, so 3 leave room for the next
// page's list
const HEALTH_PARALLEL = 3;

export const title = "Portfolio";

// The HTML report of a unit, saved as a file: the API needs the bearer
// token (a plain link cannot send it), and the page, with its inline
// styles and charts, is meant to be opened, printed and sent on its own.
async function downloadReport(unit) {
  const res = await fetch("/api/v1/reports/" + encodeURIComponent(unit) + "?format=html",
                          { headers: state.token ? { Authorization: "Bearer " + state.token } : {} });
  if (!res.ok) {
    const problem = await res.json().catch(() => ({}));
    toast("No report: " + (problem.detail || res.status), true);
    return;
  }
  const url = URL.createObjectURL(await res.blob());
  const a = h("a", { href: url, download: "report-" + unit + ".html" });
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

export async function render(params, view) {
  const units = await orgUnits();
  const unit = params.get("unit") || "";
  const phase = params.get("phase") || "";
  const status = params.get("status") || "";
  const unitEl = unitSelect(units, unit, true);
  const phaseEl = h("select", { name: "phase" }, h("option", { value: "" }, "Any phase"),
    ["initiation", "planning", "execution", "closing", "closed"].map(
      (p) => h("option", { value: p, selected: p === phase }, label(p))));
  const statusEl = h("select", { name: "status" }, h("option", { value: "" }, "Any status"),
    ["proposed", "approved", "active", "on_hold", "cancelled", "completed"].map(
      (s) => h("option", { value: s, selected: s === status }, label(s))));
  const apply = () => {
    const q = new URLSearchParams();
    if (unitEl.value) q.set("unit", unitEl.value);
    if (phaseEl.value) q.set("phase", phaseEl.value);
    if (statusEl.value) q.set("status", statusEl.value);
    location.hash = "#/portfolio?" + q.toString();
  };
  unitEl.addEventListener("change", apply);
  phaseEl.addEventListener("change", apply);
  statusEl.addEventListener("change", apply);

  const totals = h("div", { class: "totals", id: "totals", "aria-label": "Totals", role: "group" });
  const look = h("section", { class: "card look", id: "look", "aria-labelledby": "look-title" });
  const body = h("tbody");
  const pager = h("nav", { class: "pager", "aria-label": "Pages" });
  const table = h("table", { id: "projects" },
    h("caption", { class: "sr-only" }, "Projects"),
    h("thead", {}, h("tr", {},
      ["Code", "Project", "Org unit", "Phase", "Status"].map((t) => h("th", { scope: "col" }, t)),
      h("th", { scope: "col", title: "The overall RAG of the latest status report" }, "Reported"),
      h("th", { scope: "col", title: "The risk monitor's RAG from the rules, with the rules that fired" }, "Computed"),
      h("th", { scope: "col", class: "num" }, "SPI"), h("th", { scope: "col", class: "num" }, "CPI"),
      h("th", { scope: "col", class: "num" }, "Budget"), h("th", { scope: "col" }, "Burn"))),
    body);
  view.replaceChildren(
    h("h1", { class: "sr-only" }, "Portfolio"),
    h("div", { class: "toolbar" },
      field("Division or unit", unitEl), field("Phase", phaseEl), field("Status", statusEl),
      h("div", { class: "grow" }),
      h("button", { type: "button", id: "report",
                    title: "The printable portfolio report of the selected unit (HTML)",
                    onclick: () => downloadReport(unitEl.value || (state.who && state.who.hub) || "hub") },
        "Report"),
      h("button", { class: "primary", type: "button", id: "new-project",
                    onclick: () => showNewProject(units, unitEl.value) }, "New project")),
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

  const cursors = [""];
  let pageIndex = 0;
  let current = null; // the rows of the page shown: older pages stop reading health

  async function load() {
    const q = new URLSearchParams({ limit: String(PAGE) });
    if (unit) q.set("org_unit", unit);
    if (phase) q.set("phase", phase);
    if (status) q.set("status", status);
    if (cursors[pageIndex]) q.set("cursor", cursors[pageIndex]);
    body.replaceChildren(h("tr", {}, h("td", { colspan: 11, class: "empty" }, "Loading…")));
    let page;
    try {
      page = (await api("GET", "/api/v1/projects?" + q)).json;
    } catch (e) {
      body.replaceChildren(h("tr", {}, h("td", { colspan: 11, class: "error" }, explain(e))));
      return;
    }
    body.replaceChildren();
    if (!page.items.length)
      body.append(h("tr", {}, h("td", { colspan: 11, class: "empty" }, "No projects here yet.")));
    const rows = new Map();
    for (const p of page.items) {
      const budget = p.budget || {};
      const baseline = budget.baseline ? Number(budget.baseline.minor) : 0;
      const actual = budget.actual ? Number(budget.actual.minor) : null;
      const burn = baseline && actual !== null ? Math.round((actual / baseline) * 100) : null;
      const cells = { reported: h("td", {}, rag(null)), rag: h("td", {}, rag(null)), spi: h("td", { class: "num" }, UNKNOWN),
                      cpi: h("td", { class: "num" }, UNKNOWN) };
      // The code is a link (keyboard and screen readers); the whole row is
      // also a click target for the mouse
      const tr = h("tr", { class: "clickable", "data-project": p.id,
                           onclick: (ev) => { if (ev.target.tagName !== "A") location.hash = "#/project/" + p.id; } },
        h("td", {}, h("a", { href: "#/project/" + encodeURIComponent(p.id) }, h("code", {}, p.code))), h("td", {}, p.name),
        h("td", {}, p.org_unit), h("td", {}, label(p.phase)), h("td", {}, label(p.status)),
        cells.reported, cells.rag, cells.spi, cells.cpi, h("td", { class: "num" }, money(budget.baseline)),
        h("td", {}, burnBar(burn)));
      rows.set(p.id, cells);
      body.append(tr);
    }
    pager.replaceChildren(
      h("button", { type: "button", disabled: pageIndex === 0,
                    onclick: () => { pageIndex--; load(); } }, "‹ Previous"),
      h("span", {}, `Page ${pageIndex + 1} · ${page.items.length} shown`),
      h("button", { type: "button", id: "next-page", disabled: !page.next_cursor,
                    onclick: () => { cursors[pageIndex + 1] = page.next_cursor; pageIndex++; load(); } },
        "Next ›"));
    renderTotals(totals, page.items, unit);
    current = rows;
    if (up("riskmon")) fillHealth(rows, () => body.isConnected && rows === current);
  }
  // The table is what makes the view usable; "where to look" fills in beside it
  whereToLook(look, unit);
  await load();

  // Live: a project created or changed in view refreshes the page
  const liveEl = h("span", { class: "live" });
  totals.before(h("div", { class: "muted" }, liveEl));
  let pending = null;
  live("?type=project.*" + (unit ? "&org_unit=" + encodeURIComponent(unit) : ""),
    (type, event) => {
      if (pending) return;
      pending = setTimeout(() => { pending = null; if (pageIndex === 0) load(); }, 400);
      toast(`${label(type)}: ${event.project ? event.project.code : event.entity_id}`);
    }, liveEl);
}

// The computed RAG with the rules that fired one click away; when it
// differs from what the manager reported, it says so
function computed(current, reported) {
  const fired = current.fired || [];
  const differs = reported && reported !== "unspecified" && reported !== current.overall;
  if (!fired.length && !differs) return rag(current.overall);
  return h("details", { class: "why" + (differs ? " differs" : "") },
    h("summary", {}, rag(current.overall), " ",
      h("span", { class: "small" }, differs ? `≠ reported: ${fired.length} rule${fired.length === 1 ? "" : "s"}` : `${fired.length} rule${fired.length === 1 ? "" : "s"}`)),
    h("ul", {}, fired.length ? fired.map((f) => h("li", {}, `${f.rag.toUpperCase()} ${f.dimension}: ${f.detail}`))
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

// The first thing a director reads: how much is red, and the most severe
// open alerts (newest first), each a link to its project
async function whereToLook(box, unit) {
  if (!up("riskmon")) return box.remove();
  const q = new URLSearchParams({ limit: "500", min_severity: "critical" });
  if (unit) q.set("org_unit", unit);
  let roll, critical;
  try {
    [roll, critical] = await Promise.all([
      api("GET", "/api/v1/rollup" + (unit ? "?org_unit=" + encodeURIComponent(unit) : "")).then((r) => r.json),
      api("GET", "/api/v1/alerts?" + q).then((r) => r.json.items.filter((a) => a.state === "open"))]);
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

async function fillHealth(rows, wanted) {
  const ids = [...rows.keys()];
  let next = 0;
  async function worker() {
    while (next < ids.length && wanted()) {
      const id = ids[next++];
      try {
        const res = await api("GET", `/api/v1/projects/${encodeURIComponent(id)}/health`);
        const current = res.json.current;
        if (!current) continue;
        const cells = rows.get(id);
        const reported = current.inputs && current.inputs.reported_overall;
        cells.reported.replaceChildren(rag(reported));
        cells.rag.replaceChildren(computed(current, reported));
        cells.spi.textContent = ratio(current.has_spi, current.spi);
        cells.cpi.textContent = ratio(current.has_cpi, current.cpi);
      } catch (e) {
        /* not assessed yet: left unknown */
      }
    }
  }
  await Promise.all(Array.from({ length: HEALTH_PARALLEL }, worker));
}

async function renderTotals(box, items, unit) {
  box.replaceChildren();
  const add = (value, text) => box.append(h("div", { class: "total" }, h("b", {}, value), h("span", {}, text)));
  if (up("riskmon")) {
    try {
      const r = (await api("GET", "/api/v1/rollup" + (unit ? "?org_unit=" + encodeURIComponent(unit) : ""))).json;
      add(r.projects, "projects (roll-up)");
      add(r.green, "green"); add(r.amber, "amber"); add(r.red, "red");
      // One SPI/CPI pair per currency that has money in it
      for (const m of (r.money || []).filter((x) => x.currency && (x.has_spi || x.has_cpi))) {
        add(ratio(m.has_spi, m.spi), `SPI ${m.currency} (ΣEV/ΣPV)`);
        add(ratio(m.has_cpi, m.cpi), `CPI ${m.currency} (ΣEV/ΣAC)`);
      }
      add(r.risks_open, "open risks"); add(r.alerts_open, "open alerts");
      return;
    } catch (e) {
      /* fall through to the page's own totals */
    }
  }
  let baseline = 0, actual = 0, currency = "";
  for (const p of items) {
    const b = p.budget || {};
    if (b.baseline) { baseline += Number(b.baseline.minor); currency = b.baseline.currency || currency; }
    if (b.actual) actual += Number(b.actual.minor);
  }
  add(items.length, "projects on this page");
  add(money({ minor: baseline, currency }), "baseline budget (this page)");
  add(money({ minor: actual, currency }), "actual cost (this page)");
  add(baseline ? Math.round((actual / baseline) * 100) + "%" : UNKNOWN, "burn (this page)");
  box.append(h("div", { class: "placeholder" }, "Roll-up totals over the whole division, RAG and SPI/CPI: not available: the risk monitor is not running."));
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
