/* pmo dashboard: plain JavaScript, no build step, no external assets.
 *
 * Everything goes through the gateway's /api/v1 with the bearer token the
 * person signed in with (kept in sessionStorage). Lists are paged by the
 * services (limit + cursor): the dashboard never downloads a whole
 * portfolio. Live events come over Server-Sent Events read with fetch()
 * (EventSource cannot send an Authorization header), resumed with
 * Last-Event-ID after a drop. Views of services that are not running say so
 * instead of failing.
 */
"use strict";

const PAGE = 50;            // projects per page
const HEALTH_PARALLEL = 6;  // health reads in flight for one page
const TOKEN_KEY = "pmo.token";

const state = {
  token: sessionStorage.getItem(TOKEN_KEY),
  who: null,
  services: {},             // name -> "up" | "down" | "absent" | "degraded"
  units: null,              // org units, read once per sign-in (small)
  live: null,               // the open live-event stream of the current view
};

// ---------------------------------------------------------------------
// Small helpers

function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") el.className = v;
    else if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "text") el.textContent = v;
    // CSSOM, not a style attribute: the page's CSP allows no inline styles
    else if (k === "style") el.style.cssText = v;
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

function money(m) {
  if (!m || m.minor === undefined) return "—";
  const value = (Number(m.minor) / 100).toLocaleString(undefined, { maximumFractionDigits: 0 });
  return (m.currency ? m.currency + " " : "") + value;
}

function rag(value) {
  const v = value && value !== "unspecified" ? value : null;
  return h("span", { class: "rag " + (v || ""), "data-rag": v || "none" }, v ? v.toUpperCase() : "n/a");
}

function when(ms) {
  if (!ms) return "";
  return new Date(Number(ms)).toLocaleString();
}

function label(text) {
  return String(text || "").replace(/_/g, " ");
}

// A fresh Idempotency-Key (crypto.randomUUID needs a secure context)
function newKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function toast(text, bad) {
  const el = h("div", { class: "toast" + (bad ? " bad" : ""), role: "status" }, text);
  document.getElementById("toasts").append(el);
  setTimeout(() => el.remove(), 5000);
}

function placeholder(what, service) {
  const status = state.services[service] || "absent";
  return h("div", { class: "placeholder", "data-placeholder": service },
    `${what}: not available: ${serviceTitle(service)} is not running` +
    (status === "down" ? " (it does not answer)" : "") + ".");
}

function serviceTitle(name) {
  return { registry: "the project registry", allocator: "the resource allocator",
           riskmon: "the risk monitor", notifier: "the notifier", gateway: "the gateway" }[name] || name;
}

function up(service) {
  return state.services[service] === "up" || state.services[service] === "degraded";
}

function isoWeek(date) {
  const d = new Date(Date.UTC(date.getFullYear(), date.getMonth(), date.getDate()));
  const day = d.getUTCDay() || 7;
  d.setUTCDate(d.getUTCDate() + 4 - day);
  const year = d.getUTCFullYear();
  const week = Math.ceil(((d - Date.UTC(year, 0, 1)) / 86400000 + 1) / 7);
  return `${year}-W${String(week).padStart(2, "0")}`;
}

// ---------------------------------------------------------------------
// The API

class ApiError extends Error {
  constructor(status, problem) {
    super(problem && problem.detail ? problem.detail : `HTTP ${status}`);
    this.status = status;
    this.problem = problem || {};
  }
}

async function api(method, path, body, headers) {
  const init = { method, headers: Object.assign({ Accept: "application/json" }, headers || {}) };
  if (state.token) init.headers.Authorization = "Bearer " + state.token;
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const res = await fetch(path, init);
  let json = null;
  const type = res.headers.get("Content-Type") || "";
  if (type.includes("json")) json = await res.json();
  if (res.status === 401 && path !== "/api/v1/whoami") {
    signOut("Your token was refused (revoked or expired). Sign in again.");
  }
  if (!res.ok) throw new ApiError(res.status, json);
  return { status: res.status, json, etag: res.headers.get("ETag"),
           warning: res.headers.get("Warning") };
}

function explain(err) {
  if (err instanceof ApiError) {
    const p = err.problem;
    return `${p.title || err.status}: ${p.detail || ""}${p.field ? " (" + p.field + ")" : ""}`;
  }
  return String(err);
}

async function readServices() {
  try {
    const res = await fetch("/readyz");
    const json = await res.json();
    state.services = {};
    for (const [name, s] of Object.entries(json.services || {})) state.services[name] = s.status;
  } catch (e) {
    state.services = {};
  }
  const box = document.getElementById("services");
  box.replaceChildren();
  for (const name of ["registry", "allocator", "riskmon", "notifier"]) {
    const status = state.services[name] || "absent";
    box.append(h("span", { class: "svc " + status, title: `${serviceTitle(name)}: ${status}`,
                           "data-service": name, "data-status": status }, name));
  }
}

async function orgUnits() {
  if (!state.units) {
    const res = await api("GET", "/api/v1/org-units");
    state.units = res.json.items;
  }
  return state.units;
}

function unitSelect(units, selected, withAll) {
  const select = h("select", { name: "org_unit" });
  if (withAll) select.append(h("option", { value: "" }, "Enterprise (all you may see)"));
  for (const u of units) {
    const depth = (u.path.match(/\//g) || []).length;
    select.append(h("option", { value: u.id, selected: u.id === selected },
      "\u00a0\u00a0".repeat(depth) + u.name + " (" + u.id + ")"));
  }
  return select;
}

// ---------------------------------------------------------------------
// Live events: SSE over fetch, resumed with Last-Event-ID

class LiveStream {
  constructor(query, onEvent, statusEl) {
    this.query = query;
    this.onEvent = onEvent;
    this.statusEl = statusEl;
    this.lastId = null;
    this.seen = new Set();
    this.stopped = false;
    this.controller = null;
    this.run();
  }

  setStatus(on, text) {
    if (!this.statusEl) return;
    this.statusEl.className = "live " + (on ? "on" : "off");
    this.statusEl.textContent = text;
    this.statusEl.dataset.live = on ? "on" : "off";
  }

  async run() {
    let delay = 1000;
    while (!this.stopped) {
      try {
        this.controller = new AbortController();
        const headers = { Authorization: "Bearer " + state.token, Accept: "text/event-stream" };
        if (this.lastId) headers["Last-Event-ID"] = this.lastId;
        const res = await fetch("/api/v1/events" + this.query,
                                { headers, signal: this.controller.signal });
        if (!res.ok) throw new Error("HTTP " + res.status);
        this.setStatus(true, "live");
        delay = 1000;
        const reader = res.body.getReader();
        const decoder = new TextDecoder();
        let buffer = "";
        while (!this.stopped) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += decoder.decode(value, { stream: true });
          let cut;
          while ((cut = buffer.indexOf("\n\n")) >= 0) {
            this.dispatch(buffer.slice(0, cut));
            buffer = buffer.slice(cut + 2);
          }
        }
      } catch (e) {
        if (this.stopped) return;
      }
      if (this.stopped) return;
      this.setStatus(false, "reconnecting…");
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 15000);
    }
  }

  dispatch(block) {
    let id = null, type = "message", data = "";
    for (const line of block.split("\n")) {
      if (line.startsWith(":")) continue;
      const colon = line.indexOf(":");
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
      if (field === "id") id = value;
      else if (field === "event") type = value;
      else if (field === "data") data += value;
    }
    if (!data) return;
    if (id) {
      if (this.seen.has(id)) return;
      this.seen.add(id);
      this.lastId = id;
    }
    try {
      this.onEvent(type, JSON.parse(data), id);
    } catch (e) {
      console.error(e);
    }
  }

  stop() {
    this.stopped = true;
    if (this.controller) this.controller.abort();
  }
}

function stopLive() {
  if (state.live) state.live.stop();
  state.live = null;
}

// ---------------------------------------------------------------------
// Portfolio overview

// The HTML report of a unit, saved as a file: the API needs the bearer
// token (a plain link cannot send it), and the page, with its inline
// styles and charts, is meant to be opened, printed and sent on its own.
async function downloadReport(unit) {
  const res = await fetch("/api/v1/reports/" + encodeURIComponent(unit) + "?format=html",
                          { headers: { Authorization: "Bearer " + state.token } });
  if (!res.ok) {
    const problem = await res.json().catch(() => ({}));
    alert("No report: " + (problem.detail || res.status));
    return;
  }
  const url = URL.createObjectURL(await res.blob());
  const a = h("a", { href: url, download: "report-" + unit + ".html" });
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

async function viewPortfolio(params) {
  const units = await orgUnits();
  const unit = params.get("unit") || "";
  const phase = params.get("phase") || "";
  const status = params.get("status") || "";
  const view = document.getElementById("view");
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

  const totals = h("div", { class: "totals", id: "totals" });
  const body = h("tbody");
  const pager = h("div", { class: "pager" });
  const table = h("table", { id: "projects" },
    h("thead", {}, h("tr", {},
      h("th", {}, "Code"), h("th", {}, "Project"), h("th", {}, "Org unit"), h("th", {}, "Phase"),
      h("th", {}, "Status"), h("th", {}, "RAG"), h("th", { class: "num" }, "SPI"),
      h("th", { class: "num" }, "CPI"), h("th", {}, "Budget"), h("th", {}, "Burn"))),
    body);
  view.replaceChildren(
    h("div", { class: "toolbar" },
      h("div", {}, h("label", {}, "Division or unit"), unitEl),
      h("div", {}, h("label", {}, "Phase"), phaseEl),
      h("div", {}, h("label", {}, "Status"), statusEl),
      h("div", { class: "grow" }),
      h("button", { type: "button", id: "report",
                    title: "The printable portfolio report of the selected unit (HTML)",
                    onclick: () => downloadReport(unitEl.value || (state.who && state.who.hub) || "hub") },
        "Report"),
      h("button", { class: "primary", type: "button", id: "new-project",
                    onclick: () => showNewProject(units, unitEl.value) }, "New project")),
    h("div", { id: "new-project-box" }),
    totals,
    h("div", { class: "card" }, table, pager));

  const cursors = [""];
  let pageIndex = 0;

  async function load() {
    const q = new URLSearchParams({ limit: String(PAGE) });
    if (unit) q.set("org_unit", unit);
    if (phase) q.set("phase", phase);
    if (status) q.set("status", status);
    if (cursors[pageIndex]) q.set("cursor", cursors[pageIndex]);
    body.replaceChildren(h("tr", {}, h("td", { colspan: 10, class: "empty" }, "Loading…")));
    let page;
    try {
      page = (await api("GET", "/api/v1/projects?" + q)).json;
    } catch (e) {
      body.replaceChildren(h("tr", {}, h("td", { colspan: 10, class: "error" }, explain(e))));
      return;
    }
    body.replaceChildren();
    if (!page.items.length)
      body.append(h("tr", {}, h("td", { colspan: 10, class: "empty" }, "No projects here yet.")));
    const rows = new Map();
    for (const p of page.items) {
      const budget = p.budget || {};
      const baseline = budget.baseline ? Number(budget.baseline.minor) : 0;
      const actual = budget.actual ? Number(budget.actual.minor) : 0;
      const burn = baseline ? Math.round((actual / baseline) * 100) : null;
      const cells = { rag: h("td", {}, rag(null)), spi: h("td", { class: "num" }, "—"),
                      cpi: h("td", { class: "num" }, "—") };
      const tr = h("tr", { class: "clickable", "data-project": p.id,
                           onclick: () => { location.hash = "#/project/" + p.id; } },
        h("td", {}, h("code", {}, p.code)), h("td", {}, p.name),
        h("td", {}, p.org_unit), h("td", {}, label(p.phase)), h("td", {}, label(p.status)),
        cells.rag, cells.spi, cells.cpi, h("td", {}, money(budget.baseline)),
        h("td", {}, burn === null ? "—" :
          h("div", { class: "bar" + (burn > 100 ? " over" : ""), title: burn + "% spent" },
            h("span", { style: `width:${Math.min(burn, 100)}%` }))));
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
    if (up("riskmon")) fillHealth(rows);
  }
  await load();

  // Live: a project created or changed in view refreshes the page
  const liveEl = h("span", { class: "live" });
  totals.before(h("div", { class: "muted" }, liveEl));
  let pending = null;
  state.live = new LiveStream("?type=project.*" + (unit ? "&org_unit=" + encodeURIComponent(unit) : ""),
    (type, event) => {
      if (pending) return;
      pending = setTimeout(() => { pending = null; if (pageIndex === 0) load(); }, 400);
      toast(`${label(type)}: ${event.project ? event.project.code : event.entity_id}`);
    }, liveEl);
}

async function fillHealth(rows) {
  const ids = [...rows.keys()];
  let next = 0;
  async function worker() {
    while (next < ids.length) {
      const id = ids[next++];
      try {
        const res = await api("GET", `/api/v1/projects/${encodeURIComponent(id)}/health`);
        const current = res.json.current;
        if (!current) continue;
        const cells = rows.get(id);
        cells.rag.replaceChildren(rag(current.overall));
        cells.spi.textContent = current.has_spi ? Number(current.spi).toFixed(2) : "n/a";
        cells.cpi.textContent = current.has_cpi ? Number(current.cpi).toFixed(2) : "n/a";
      } catch (e) {
        /* not assessed yet: leave n/a */
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
      for (const m of r.money || []) {
        add(m.has_spi ? Number(m.spi).toFixed(2) : "n/a", `SPI ${m.currency || ""} (ΣEV/ΣPV)`);
        add(m.has_cpi ? Number(m.cpi).toFixed(2) : "n/a", `CPI ${m.currency || ""} (ΣEV/ΣAC)`);
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
  add(baseline ? Math.round((actual / baseline) * 100) + "%" : "—", "burn (this page)");
  box.append(h("div", { class: "placeholder" }, "Roll-up totals over the whole division, RAG and SPI/CPI: not available: the risk monitor is not running."));
}

function showNewProject(units, unit) {
  const box = document.getElementById("new-project-box");
  const form = h("form", { class: "card inline", id: "new-project-form" },
    h("div", { class: "field" }, h("label", {}, "Code"), h("input", { name: "code", required: true, placeholder: "DFT-2026-014" })),
    h("div", { class: "field" }, h("label", {}, "Name"), h("input", { name: "name", required: true })),
    h("div", { class: "field" }, h("label", {}, "Org unit"), unitSelect(units.filter((u) => u.kind !== "enterprise"), unit, false)),
    h("div", { class: "field" }, h("label", {}, "Priority"), h("select", { name: "priority" }, [1, 2, 3, 4, 5].map((p) => h("option", { value: p, selected: p === 3 }, p)))),
    h("div", { class: "field" }, h("label", {}, "Baseline budget"), h("input", { name: "budget", type: "number", min: 0, step: 1 })),
    h("div", { class: "field" }, h("label", {}, "Currency"), h("input", { name: "currency", value: "GBP", size: 4 })),
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
      form.querySelector(".error").textContent = explain(e);
    }
  });
  box.replaceChildren(form);
}

// ---------------------------------------------------------------------
// Project page

async function viewProject(id) {
  const view = document.getElementById("view");
  let res;
  try {
    res = await api("GET", "/api/v1/projects/" + encodeURIComponent(id));
  } catch (e) {
    view.replaceChildren(h("div", { class: "card error" }, explain(e)));
    return;
  }
  const p = res.json;
  let etag = res.etag;
  const b = p.budget || {};
  const liveEl = h("span", { class: "live" });
  const record = h("dl", { class: "record" },
    ...[["Code", p.code], ["Org unit", p.org_unit_path], ["Phase", label(p.phase)],
        ["Status", label(p.status)], ["Methodology", label(p.methodology)],
        ["Priority", p.priority], ["Sponsor", p.sponsor || "—"], ["Manager", p.manager || "—"],
        ["Baseline", p.baseline_start || p.baseline_finish ? `${p.baseline_start || "not set"} → ${p.baseline_finish || "not set"}` : "—"],
        ["Forecast finish", p.forecast_finish || "—"],
        ["Budget", `${money(b.baseline)} baseline · ${money(b.actual)} actual · ${money(b.forecast)} forecast`],
        ["Artifacts", (p.artifacts || []).join(", ") || "—"], ["Version", p.version]]
      .flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, String(v))]));
  const phaseBtn = h("button", { type: "button", id: "next-phase", onclick: async () => {
    const order = ["initiation", "planning", "execution", "closing", "closed"];
    const next = order[order.indexOf(p.phase) + 1];
    if (!next) return;
    try {
      const r = await api("POST", `/api/v1/projects/${p.id}/phase`, { to_phase: next }, { "If-Match": etag });
      etag = r.etag;
      toast(`Moved to ${next}` + (r.warning ? ` (${r.warning})` : ""));
      route();
    } catch (e) {
      toast(explain(e), true);
    }
  } }, "Request next phase");
  view.replaceChildren(
    h("div", { class: "toolbar" },
      h("div", {}, h("a", { href: "#/portfolio" }, "‹ Portfolio")),
      h("div", { class: "grow" }), liveEl, phaseBtn),
    h("div", { class: "card" }, h("h1", {}, p.name, " ", h("code", {}, p.code)), record),
    h("div", { class: "grid2" },
      h("div", { class: "card", id: "health" }, h("h2", {}, "Health")),
      h("div", { class: "card", id: "milestones" }, h("h2", {}, "Milestones"))),
    h("div", { class: "card", id: "reports" }, h("h2", {}, "Status reports")),
    h("div", { class: "card", id: "raid" }, h("h2", {}, "RAID registers")),
    h("div", { class: "grid2" },
      h("div", { class: "card", id: "allocations" }, h("h2", {}, "Allocations")),
      h("div", { class: "card", id: "decisions" }, h("h2", {}, "Gate decisions"))));
  const sections = () => Promise.all([projectMilestones(p), projectReports(p), projectDecisions(p),
                                      projectHealth(p), projectRaid(p), projectAllocations(p)]);
  await sections();
  state.live = new LiveStream("?project=" + encodeURIComponent(p.id), (type) => {
    toast("Live: " + label(type));
    if (type.startsWith("project.")) route(); else sections();
  }, liveEl);
}

function section(id, ...content) {
  const el = document.getElementById(id);
  if (!el) return;
  const title = el.querySelector("h2");
  el.replaceChildren(title, ...content);
}

function simpleTable(columns, rows, empty) {
  if (!rows.length) return h("p", { class: "empty" }, empty);
  return h("table", {}, h("thead", {}, h("tr", {}, columns.map((c) => h("th", { class: c.num ? "num" : null }, c.title)))),
    h("tbody", {}, rows.map((r) => h("tr", {}, columns.map((c) => h("td", { class: c.num ? "num" : null }, c.cell(r)))))));
}

async function projectMilestones(p) {
  const res = await api("GET", `/api/v1/projects/${p.id}/milestones?limit=100`);
  const form = h("form", { class: "inline" },
    h("div", { class: "field" }, h("label", {}, "Milestone"), h("input", { name: "name", required: true })),
    h("div", { class: "field" }, h("label", {}, "Baseline date"), h("input", { name: "baseline_date", type: "date", required: true })),
    h("button", { type: "submit" }, "Add"));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const f = new FormData(form);
    try {
      await api("POST", `/api/v1/projects/${p.id}/milestones`, { name: f.get("name"), baseline_date: f.get("baseline_date") });
      projectMilestones(p);
    } catch (e) { toast(explain(e), true); }
  });
  section("milestones", simpleTable([
    { title: "Name", cell: (m) => m.name }, { title: "Baseline", cell: (m) => m.baseline_date },
    { title: "Forecast", cell: (m) => m.forecast_date || "—" }, { title: "Actual", cell: (m) => m.actual_date || "—" }],
    res.json.items, "No milestones."), form);
}

async function projectReports(p) {
  const res = await api("GET", `/api/v1/projects/${p.id}/status-reports?limit=100`);
  const items = res.json.items.slice().reverse();
  section("reports", simpleTable([
    { title: "Period end", cell: (r) => r.period_end }, { title: "Overall", cell: (r) => rag(r.overall) },
    { title: "Schedule", cell: (r) => rag(r.schedule) }, { title: "Cost", cell: (r) => rag(r.cost) },
    { title: "Complete", num: true, cell: (r) => r.percent_complete + "%" },
    { title: "PV", num: true, cell: (r) => (Number(r.pv_minor) / 100).toLocaleString() },
    { title: "EV", num: true, cell: (r) => (Number(r.ev_minor) / 100).toLocaleString() },
    { title: "AC", num: true, cell: (r) => (r.has_ac ? (Number(r.ac_minor) / 100).toLocaleString() : "n/a") },
    { title: "Narrative", cell: (r) => r.narrative }, { title: "By", cell: (r) => r.author }],
    items, "No status reports yet."));
}

async function projectDecisions(p) {
  const res = await api("GET", `/api/v1/projects/${p.id}/gate-decisions?limit=100`);
  section("decisions", simpleTable([
    { title: "Gate", cell: (d) => `${label(d.from_phase)} → ${label(d.to_phase)}` },
    { title: "Outcome", cell: (d) => label(d.outcome) }, { title: "By", cell: (d) => `${d.decided_by} (${label(d.decided_as)})` },
    { title: "When", cell: (d) => when(d.decided_ms) }, { title: "Why", cell: (d) => d.rationale }],
    res.json.items, "No gate decisions."));
}

async function projectHealth(p) {
  if (!up("riskmon")) return section("health", placeholder("Health", "riskmon"));
  try {
    const res = await api("GET", `/api/v1/projects/${p.id}/health`);
    const c = res.json.current;
    if (!c) return section("health", h("p", { class: "empty" }, "Not assessed yet."));
    const dims = ["overall", "schedule", "cost", "risk", "resources", "reporting", "governance"];
    section("health",
      h("div", { class: "totals" }, dims.map((d) => h("div", { class: "total" }, rag(c[d]), h("span", {}, d)))),
      h("p", {}, `SPI ${c.has_spi ? Number(c.spi).toFixed(2) : "n/a"} · CPI ${c.has_cpi ? Number(c.cpi).toFixed(2) : "n/a (no actual cost)"} · assessed ${when(c.assessed_ms)}`),
      h("h3", {}, "Rules that fired"),
      simpleTable([{ title: "Rule", cell: (f) => f.rule }, { title: "Dimension", cell: (f) => f.dimension },
                   { title: "RAG", cell: (f) => rag(f.rag) }, { title: "Detail", cell: (f) => f.detail }],
                  c.fired || [], "No rule fired: green."));
  } catch (e) {
    section("health", h("p", { class: "empty" }, e.status === 404 ? "Not assessed yet." : explain(e)));
  }
}

async function projectRaid(p) {
  if (!up("riskmon")) return section("raid", placeholder("Risks, issues, changes and RAID entries", "riskmon"));
  const [risks, issues, changes, raid] = await Promise.all(["risks", "issues", "changes", "raid"].map(
    (r) => api("GET", `/api/v1/projects/${p.id}/${r}?limit=100`).then((x) => x.json.items).catch(() => [])));
  const form = newRiskForm(p.id, () => projectRaid(p));
  section("raid",
    h("h3", {}, "Risks"),
    simpleTable([{ title: "Title", cell: (r) => r.title }, { title: "P×I", cell: (r) => `${r.residual_probability || r.probability}×${r.residual_impact || r.impact}` },
                 { title: "Score", num: true, cell: (r) => r.residual_score }, { title: "Band", cell: (r) => label(r.residual_band) },
                 { title: "Owner", cell: (r) => r.owner }, { title: "Status", cell: (r) => label(r.status) }], risks, "No risks."),
    form,
    h("h3", {}, "Issues"),
    simpleTable([{ title: "Title", cell: (i) => i.title }, { title: "Severity", cell: (i) => label(i.severity) },
                 { title: "Owner", cell: (i) => i.owner }, { title: "Status", cell: (i) => label(i.status) }], issues, "No issues."),
    h("h3", {}, "Changes"),
    simpleTable([{ title: "Title", cell: (c) => c.title }, { title: "Decision", cell: (c) => label(c.decision) },
                 { title: "Cost impact", cell: (c) => money(c.cost_impact) }], changes, "No change requests."),
    h("h3", {}, "Assumptions, decisions, dependencies"),
    simpleTable([{ title: "Kind", cell: (r) => label(r.kind) }, { title: "Title", cell: (r) => r.title },
                 { title: "Status", cell: (r) => label(r.status) }], raid, "None."));
}

function newRiskForm(projectId, done) {
  const num = (name) => h("select", { name }, [1, 2, 3, 4, 5].map((n) => h("option", { value: n }, n)));
  const form = h("form", { class: "inline", id: "new-risk-form" },
    projectId ? null : h("div", { class: "field" }, h("label", {}, "Project id"), h("input", { name: "project_id", required: true })),
    h("div", { class: "field" }, h("label", {}, "Risk"), h("input", { name: "title", required: true })),
    h("div", { class: "field" }, h("label", {}, "Probability"), num("probability")),
    h("div", { class: "field" }, h("label", {}, "Impact"), num("impact")),
    h("div", { class: "field" }, h("label", {}, "Owner"), h("input", { name: "owner", required: true })),
    h("button", { type: "submit" }, "Add risk"));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const f = new FormData(form);
    try {
      await api("POST", "/api/v1/risks", { project_id: projectId || f.get("project_id"), title: f.get("title"),
        probability: Number(f.get("probability")), impact: Number(f.get("impact")), owner: f.get("owner") },
        { "Idempotency-Key": newKey() });
      toast("Risk recorded");
      done();
    } catch (e) { toast(explain(e), true); }
  });
  return form;
}

async function projectAllocations(p) {
  if (!up("allocator")) return section("allocations", placeholder("Allocations", "allocator"));
  try {
    const res = await api("GET", `/api/v1/projects/${p.id}/allocations?limit=100`);
    section("allocations", simpleTable([
      { title: "Resource", cell: (a) => a.resource_name || a.role || a.skill || "unfilled" },
      { title: "Hours/week", num: true, cell: (a) => a.hours_per_week },
      { title: "Weeks", cell: (a) => `${a.start_week} → ${a.end_week}` }, { title: "State", cell: (a) => label(a.state) }],
      res.json.items, "No allocations."));
  } catch (e) {
    section("allocations", h("p", { class: "error" }, explain(e)));
  }
}

// ---------------------------------------------------------------------
// Capacity heatmap

function heatColour(pct) {
  if (pct <= 0) return "#f4f6f9";
  if (pct <= 60) return "#dcebf8";
  if (pct <= 80) return "#b7d5f0";
  if (pct <= 100) return "#f7d58b";
  return "#ee8a7f";
}

async function viewCapacity(params) {
  const view = document.getElementById("view");
  if (!up("allocator")) {
    view.replaceChildren(h("div", { class: "card" }, h("h1", {}, "Capacity"), placeholder("The capacity heatmap (skills × weeks)", "allocator")));
    return;
  }
  const units = await orgUnits();
  const unit = params.get("unit") || "";
  const start = params.get("from") || isoWeek(new Date());
  const end = params.get("to") || isoWeek(new Date(Date.now() + 11 * 7 * 86400000));
  const unitEl = unitSelect(units, unit, true);
  const fromEl = h("input", { name: "from", value: start, size: 9 });
  const toEl = h("input", { name: "to", value: end, size: 9 });
  const go = () => { location.hash = `#/capacity?unit=${encodeURIComponent(unitEl.value)}&from=${fromEl.value}&to=${toEl.value}`; };
  const grid = h("div", { class: "card heat", id: "heatmap" });
  const drill = h("div", { class: "card", id: "drill" }, h("h2", {}, "People and projects"), h("p", { class: "empty" }, "Click a cell."));
  view.replaceChildren(h("div", { class: "toolbar" },
    h("div", {}, h("label", {}, "Org unit"), unitEl), h("div", {}, h("label", {}, "From week"), fromEl),
    h("div", {}, h("label", {}, "To week"), toEl), h("button", { type: "button", onclick: go }, "Show")), grid, drill);
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
  const rows = (cap.skills || []).concat(cap.total ? [cap.total] : []);
  // A skill's cell is over-allocated when anyone with that skill is over
  // that week, even if the skill as a whole has hours to spare
  const overPeople = (skill, i) => (cap.resources || []).filter((r) =>
    (skill === "*" || r.skill === skill) && r.cells[i] && r.cells[i].over).length;
  const table = h("table", {}, h("thead", {}, h("tr", {}, h("th", {}, "Skill"), h("th", { class: "num" }, "People"), weeks.map((w) => h("th", { class: "num" }, w.replace(/^\d+-/, ""))))),
    h("tbody", {}, rows.map((r) => h("tr", {}, h("td", {}, r.skill === "*" ? "All" : r.skill), h("td", { class: "num" }, r.resources),
      (r.cells || []).map((c, i) => {
        const over = overPeople(r.skill, i);
        return h("td", { class: "cell" + (c.over || over ? " over" : ""), style: `background:${heatColour(c.utilisation_pct)}`,
          title: `${c.committed_hours}h committed, ${c.proposed_hours}h proposed of ${c.capacity_hours}h` + (over ? `; ${over} over-allocated` : ""),
          onclick: () => drillDown(drill, cap, r.skill, weeks[i], unit) }, Math.round(c.utilisation_pct) + "%" + (over ? " ⚠" + over : ""));
      })))));
  grid.replaceChildren(h("h2", {}, "Utilisation: committed ÷ capacity"),
    h("div", { class: "legend" }, [["≤60%", 30], ["≤80%", 70], ["≤100%", 90], ["over", 120]].map(([t, v]) =>
      h("span", {}, h("span", { class: "swatch", style: `background:${heatColour(v)}` }), " " + t))),
    rows.length ? table : h("p", { class: "empty" }, "No resources in this unit."));
}

async function drillDown(box, cap, skill, week, unit) {
  const people = (cap.resources || []).filter((r) => skill === "*" || r.skill === skill);
  const index = (cap.weeks || []).indexOf(week);
  const q = new URLSearchParams({ limit: "200" });
  if (unit) q.set("org_unit", unit);
  let allocations = [];
  try { allocations = (await api("GET", "/api/v1/allocations?" + q)).json.items; } catch (e) { /* shown empty */ }
  const inWeek = allocations.filter((a) => a.start_week <= week && week <= a.end_week && (skill === "*" || a.skill === skill));
  box.replaceChildren(h("h2", {}, `${skill === "*" ? "All skills" : skill} · ${week}`),
    simpleTable([{ title: "Person", cell: (r) => r.resource_name }, { title: "Committed", num: true, cell: (r) => (r.cells[index] || {}).committed_hours },
                 { title: "Capacity", num: true, cell: (r) => (r.cells[index] || {}).capacity_hours },
                 { title: "Over", cell: (r) => ((r.cells[index] || {}).over ? "yes" : "") }], people, "No people."),
    h("h3", {}, "Allocations that week"),
    simpleTable([{ title: "Project", cell: (a) => a.project_code || a.project_id }, { title: "Person", cell: (a) => a.resource_name || "unfilled" },
                 { title: "Hours", num: true, cell: (a) => a.hours_per_week }, { title: "State", cell: (a) => label(a.state) }], inWeek, "None."));
}

// ---------------------------------------------------------------------
// Risk matrix

const BANDS = (score) => score >= 20 ? "critical" : score >= 12 ? "high" : score >= 6 ? "medium" : score >= 2 ? "low" : "minimal";

async function viewRisks(params) {
  const view = document.getElementById("view");
  if (!up("riskmon")) {
    view.replaceChildren(h("div", { class: "card" }, h("h1", {}, "Risk matrix"), placeholder("The 5×5 risk matrix", "riskmon")));
    return;
  }
  const units = await orgUnits();
  const unit = params.get("unit") || "";
  const unitEl = unitSelect(units, unit, true);
  unitEl.addEventListener("change", () => { location.hash = "#/risks?unit=" + encodeURIComponent(unitEl.value); });
  const matrix = h("div", { class: "matrix", id: "matrix" });
  const list = h("div", { class: "card", id: "risk-list" }, h("h2", {}, "Risks"), h("p", { class: "empty" }, "Click a cell."));
  const note = h("p", { class: "muted" });
  view.replaceChildren(h("div", { class: "toolbar" }, h("div", {}, h("label", {}, "Org unit"), unitEl)),
    h("div", { class: "grid2" }, h("div", { class: "card" }, h("h2", {}, "Residual probability × impact"), matrix, note), list),
    h("div", { class: "card" }, h("h2", {}, "Record a risk"), newRiskForm(null, () => route())));
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
  matrix.append(h("div", {}));
  for (let impact = 1; impact <= 5; impact++) matrix.append(h("div", { class: "axis" }, "I" + impact));
  for (let prob = 5; prob >= 1; prob--) {
    matrix.append(h("div", { class: "axis" }, "P" + prob));
    for (let impact = 1; impact <= 5; impact++) {
      const inCell = risks.filter((r) => { const [p, i] = cellOf(r); return p === prob && i === impact; });
      const btn = h("button", { class: "mcell band-" + BANDS(prob * impact), type: "button",
        "data-p": prob, "data-i": impact, title: `P${prob} × I${impact} = ${prob * impact}`,
        onclick: () => {
          matrix.querySelectorAll(".sel").forEach((e) => e.classList.remove("sel"));
          btn.classList.add("sel");
          list.replaceChildren(h("h2", {}, `Risks at P${prob} × I${impact}`),
            simpleTable([{ title: "Risk", cell: (r) => r.title }, { title: "Project", cell: (r) => h("a", { href: "#/project/" + r.project_id }, r.project_id) },
                         { title: "Owner", cell: (r) => r.owner }, { title: "Exposure", cell: (r) => money(r.exposure) }], inCell, "None."));
        } }, inCell.length || "");
      matrix.append(btn);
    }
  }
}

// ---------------------------------------------------------------------
// Alerts and live activity

async function viewAlerts() {
  const view = document.getElementById("view");
  const alertsBox = h("div", { class: "card", id: "alerts" }, h("h2", {}, "Alerts"));
  const feed = h("ul", { class: "feed", id: "activity" });
  const liveEl = h("span", { class: "live", id: "live-status" });
  view.replaceChildren(h("div", { class: "grid2" }, alertsBox,
    h("div", { class: "card" }, h("h2", {}, "Live activity ", liveEl), feed)));
  async function loadAlerts() {
    if (!up("riskmon")) return alertsBox.replaceChildren(h("h2", {}, "Alerts"), placeholder("Alerts", "riskmon"));
    try {
      const res = await api("GET", "/api/v1/alerts?limit=100");
      alertsBox.replaceChildren(h("h2", {}, "Alerts"), simpleTable([
        { title: "Severity", cell: (a) => h("span", { class: "rag " + (a.severity === "critical" ? "red" : a.severity === "warning" ? "amber" : "") }, label(a.severity)) },
        { title: "Alert", cell: (a) => a.title || a.message || label(a.kind) },
        { title: "Project", cell: (a) => h("a", { href: "#/project/" + a.project_id }, a.project_id) },
        { title: "State", cell: (a) => label(a.state) },
        { title: "", cell: (a) => a.state === "open" ? h("button", { type: "button", "data-ack": a.id, onclick: async () => {
            try { await api("POST", `/api/v1/alerts/${a.id}/acknowledge`, {}, { "If-Match": `"${a.version}"` }); toast("Acknowledged"); loadAlerts(); }
            catch (e) { toast(explain(e), true); } } }, "Acknowledge") : "" }],
        res.json.items, "No open alerts."));
    } catch (e) {
      alertsBox.replaceChildren(h("h2", {}, "Alerts"), h("p", { class: "error" }, explain(e)));
    }
  }
  await loadAlerts();
  state.live = new LiveStream("", (type, event) => {
    const subject = (event.project && event.project.code) || event.entity_id || "";
    const li = h("li", { class: "fresh", "data-type": type, "data-entity": event.entity_id || "" },
      h("time", {}, new Date(Number(event.time_ms)).toLocaleTimeString()),
      h("span", { class: "type" }, type), h("span", {}, subject), h("span", { class: "muted" }, event.actor || ""));
    feed.prepend(li);
    while (feed.children.length > 200) feed.lastChild.remove();
    if (type.startsWith("alert.")) loadAlerts();
  }, liveEl);
}

// ---------------------------------------------------------------------
// Sign-in and routing

function signOut(message) {
  sessionStorage.removeItem(TOKEN_KEY);
  state.token = null;
  state.who = null;
  state.units = null;
  stopLive();
  showSignIn(message);
}

function showSignIn(message) {
  document.getElementById("nav").hidden = true;
  document.getElementById("who").hidden = true;
  document.getElementById("view").replaceChildren();
  document.getElementById("signin").hidden = false;
  document.getElementById("signin-error").textContent = message || "";
}

async function signIn(token) {
  state.token = token;
  try {
    const res = await api("GET", "/api/v1/whoami");
    state.who = res.json;
  } catch (e) {
    state.token = null;
    throw e;
  }
  sessionStorage.setItem(TOKEN_KEY, token);
  document.getElementById("signin").hidden = true;
  document.getElementById("nav").hidden = false;
  document.getElementById("who").hidden = false;
  document.getElementById("who-name").textContent =
    `${state.who.subject} · ${state.who.grants.map((g) => `${label(g.role)}@${g.org_unit}`).join(", ")}`;
}

async function route() {
  stopLive();
  if (!state.who) return;
  const hash = location.hash || "#/portfolio";
  const [path, query] = hash.slice(1).split("?");
  const params = new URLSearchParams(query || "");
  const parts = path.split("/").filter(Boolean);
  const name = parts[0] || "portfolio";
  document.querySelectorAll("nav a").forEach((a) => a.classList.toggle("active", a.dataset.view === name));
  document.body.dataset.view = name;
  await readServices();
  try {
    if (name === "project" && parts[1]) await viewProject(decodeURIComponent(parts[1]));
    else if (name === "capacity") await viewCapacity(params);
    else if (name === "risks") await viewRisks(params);
    else if (name === "alerts") await viewAlerts();
    else await viewPortfolio(params);
  } catch (e) {
    document.getElementById("view").replaceChildren(h("div", { class: "card error" }, explain(e)));
  }
  document.body.dataset.ready = name;
}

document.getElementById("signin-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const token = document.getElementById("token").value.trim();
  try {
    await signIn(token);
    document.getElementById("token").value = "";
    route();
  } catch (e) {
    document.getElementById("signin-error").textContent =
      e.status === 401 ? "That token was refused." : explain(e);
  }
});
document.getElementById("sign-out").addEventListener("click", () => signOut());
window.addEventListener("hashchange", route);

(async function start() {
  await readServices();
  if (state.token) {
    try {
      await signIn(state.token);
      return route();
    } catch (e) {
      sessionStorage.removeItem(TOKEN_KEY);
    }
  }
  showSignIn();
})();
