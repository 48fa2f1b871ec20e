// planner-scenarios.js: portfolio scenarios: a new one from the unit's
// candidate projects and its constraints (budgets per division and
// financial year, the allocator's capacity, shifts by whole quarters), the
// result (in, out or shifted and why; the constraints that bind; the
// conflicting constraints when nothing fits), the efficient frontier as a
// chart with its table, two scenarios side by side, and committing one:
// that proposes gate decisions to the approvers and changes nothing else.

import { api, explain, newKey, orgUnits, unitSelect } from "../core/api.js";
import { field, h, svg, table } from "../core/dom.js";
import { dateTime, label, money } from "../core/format.js";
import { choice, errorLine, int, minor, moneyInput, submit, text } from "../forms/common.js";
import { plannerHash } from "./planner.js";

const CANDIDATE_STATUSES = ["proposed", "approved", "active"];
const PLACEMENT = { in: "IN", shifted: "SHIFTED", out: "OUT" };

// The first day of the next quarter (a scenario plans from a quarter)
function nextQuarter() {
  const d = new Date();
  const q = Math.floor(d.getMonth() / 3) + 1;
  const year = d.getFullYear() + (q === 4 ? 1 : 0);
  return `${year}-${String(((q % 4) * 3) + 1).padStart(2, "0")}-01`;
}

const placementTag = (p, shift) =>
  h("span", { class: p === "in" ? "rag green" : p === "out" ? "rag red" : "rag amber", "data-placement": p || "out" },
    (PLACEMENT[p] || "OUT") + (p === "shifted" ? ` +${shift || 0}q` : ""));

function counts(s) {
  const c = { in: 0, shifted: 0, out: 0 };
  for (const x of (s.result && s.result.candidates) || []) c[x.placement || "out"]++;
  return c;
}

function statusText(r) {
  if (!r) return "not solved";
  if (!r.feasible) return "infeasible: no portfolio meets every constraint";
  return r.optimal && !r.gap ? "optimal (proven)" : `within ${(100 * (r.gap || 0)).toFixed(2)}% of the best possible`;
}

// ---------------------------------------------------------------------
// A new scenario

// A checkbox inside its label, the box first
const check = (text, input) => h("label", { class: "check" }, input, " ", text);

function budgetRow(i, divisions, currency) {
  return h("div", { class: "inline", "data-budget-row": i },
    field(`Budget ${i + 1}: division`, choice(`budgets[${i}].division`, divisions, divisions[0], "total (all divisions)")),
    field(`Budget ${i + 1}: financial year`, h("select", { name: `budgets[${i}].year` },
      [0, 1, 2, 3, 4].map((y) => h("option", { value: y }, `year ${y + 1} of the scenario`)))),
    field(`Budget ${i + 1}: limit (${currency})`, moneyInput(`budgets[${i}].limit_minor`, { required: true })));
}

function newScenarioForm(unit, projects, divisions, done) {
  const candidates = projects.filter((p) => CANDIDATE_STATUSES.includes(p.status) && !p.archived);
  const budgets = h("fieldset", { id: "scenario-budgets" }, h("legend", {}, "Budgets (per division and financial year, or in total)"));
  let rows = 0;
  const addBudget = () => budgets.append(budgetRow(rows++, divisions, "GBP"));
  addBudget();
  const form = h("form", { id: "scenario-form", "aria-label": "A new scenario" },
    h("div", { class: "inline" },
      field("Name", h("input", { name: "name", required: true, size: 24 })),
      field("Starts", h("input", { name: "start", type: "date", required: true, value: nextQuarter() }), "first day of quarter 1 and of year 1"),
      field("Objective", choice("objective", ["score", "benefit"], "score")),
      field("Shift starts by up to (quarters)", h("input", { name: "max_shift_quarters", type: "number", min: 0, max: 8, value: 0, size: 3 })),
      check("Capacity from the allocator: each skill's free hours a week (people's hours less committed bookings)",
            h("input", { name: "capacity_from_allocator", type: "checkbox" }))),
    h("fieldset", { id: "scenario-candidates" }, h("legend", {}, `Candidates (${candidates.length} proposed, approved or active projects)`),
      candidates.length
        ? candidates.map((p) => check(`${p.code} ${p.name} (${label(p.status)})`,
            h("input", { type: "checkbox", name: "candidate", value: p.id, checked: true })))
        : h("p", { class: "empty" }, "No proposed, approved or active projects here.")),
    budgets,
    h("button", { type: "button", onclick: addBudget }, "Add a budget"),
    h("button", { type: "submit", class: "primary" }, "Solve"), errorLine());
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const chosen = [...form.querySelectorAll("input[name=candidate]:checked")].map((el) => el.value);
    if (!chosen.length) {
      form.querySelector(".error").textContent = "Choose at least one candidate.";
      return;
    }
    const body = { name: text(form, "name"), org_unit: unit, start: text(form, "start"), currency: "GBP",
                   objective: text(form, "objective"), max_shift_quarters: int(form, "max_shift_quarters") || 0,
                   capacity_from_allocator: form.elements.capacity_from_allocator.checked, budgets: [] };
    // Every candidate checked: the planner takes them from the registry
    if (chosen.length < candidates.length) body.candidates = chosen.map((id) => ({ project_id: id }));
    for (let i = 0; i < rows; i++) {
      const limit = minor(text(form, `budgets[${i}].limit_minor`));
      if (limit === undefined) continue;
      body.budgets.push({ division: text(form, `budgets[${i}].division`) || "", year: int(form, `budgets[${i}].year`) || 0, limit_minor: limit });
    }
    submit(form, "POST", "/api/v1/scenarios", body, null, "Scenario solved", (res) => {
      done(res.json.id);
    });
  });
  return form;
}

// ---------------------------------------------------------------------
// The efficient frontier: value against budget

function frontierChart(points, currency) {
  const W = 640, H = 260, L = 70, B = 40, T = 12, R = 16;
  const xs = points.map((p) => Number(p.budget_minor || 0)), ys = points.map((p) => Number(p.value || 0));
  const x0 = Math.min(...xs), x1 = Math.max(...xs), y1 = Math.max(...ys, 1);
  const x = (v) => L + (x1 > x0 ? ((v - x0) / (x1 - x0)) * (W - L - R) : (W - L - R) / 2);
  const y = (v) => H - B - (v / y1) * (H - B - T);
  const path = points.map((p, i) => `${i ? "L" : "M"}${x(Number(p.budget_minor || 0)).toFixed(1)} ${y(Number(p.value || 0)).toFixed(1)}`).join(" ");
  const summary = `Efficient frontier: ${points.length} points, value from ${Math.min(...ys).toFixed(1)} at ${money(x0, currency)} ` +
    `to ${Math.max(...ys).toFixed(1)} at ${money(x1, currency)}. The table below has every point.`;
  return svg("svg", { viewBox: `0 0 ${W} ${H}`, width: "100%", role: "img", "aria-label": summary, id: "frontier-chart" },
    svg("line", { x1: L, y1: H - B, x2: W - R, y2: H - B, stroke: "#5b6675" }),
    svg("line", { x1: L, y1: T, x2: L, y2: H - B, stroke: "#5b6675" }),
    svg("text", { x: L, y: H - 8, fill: "#3b4452", "font-size": 12 }, money(x0, currency)),
    svg("text", { x: W - R, y: H - 8, fill: "#3b4452", "font-size": 12, "text-anchor": "end" }, money(x1, currency)),
    svg("text", { x: (W + L) / 2, y: H - 8, fill: "#3b4452", "font-size": 12, "text-anchor": "middle" }, "total budget allowed"),
    svg("text", { x: L - 6, y: T + 10, fill: "#3b4452", "font-size": 12, "text-anchor": "end" }, y1.toFixed(0)),
    svg("text", { x: L - 6, y: H - B, fill: "#3b4452", "font-size": 12, "text-anchor": "end" }, "0"),
    svg("text", { x: 14, y: (H - B) / 2, fill: "#3b4452", "font-size": 12, transform: `rotate(-90 14 ${(H - B) / 2})`, "text-anchor": "middle" }, "value"),
    svg("path", { d: path, fill: "none", stroke: "#1f5fa8", "stroke-width": 2 }),
    points.map((p) => svg("circle", { cx: x(Number(p.budget_minor || 0)), cy: y(Number(p.value || 0)), r: 4, fill: "#1f5fa8" })));
}

async function showFrontier(s, box) {
  box.replaceChildren(h("p", { class: "muted", role: "status" }, "Solving the frontier…"));
  try {
    // The list and comparison leave the candidates out: read it whole
    const whole = (await api("GET", `/api/v1/scenarios/${encodeURIComponent(s.id)}`)).json;
    const res = await api("POST", "/api/v1/scenario-frontier", { spec: whole.spec, points: 10 });
    const points = res.json.frontier || [];
    const currency = whole.spec.currency || "GBP";
    box.replaceChildren(h("h3", {}, "Efficient frontier"),
      points.length ? frontierChart(points, currency) : null,
      table([{ title: "Budget allowed", cell: (p) => money(p.budget_minor || 0, currency), num: true },
             { title: "Best portfolio spends", cell: (p) => money(p.cost_minor || 0, currency), num: true },
             { title: "Value", cell: (p) => Number(p.value || 0).toFixed(1), num: true },
             { title: "Projects selected", cell: (p) => String(p.selected || 0), num: true }],
            points, "No frontier: no budget level is feasible.", "The efficient frontier: the best value at each total budget"));
    box.querySelector("table")?.setAttribute("id", "frontier-table");
  } catch (e) {
    box.replaceChildren(h("p", { class: "error", role: "alert" }, explain(e)));
  }
}

// ---------------------------------------------------------------------
// One scenario's result, its commit and proposals

function proposalsTable(decisions, names) {
  return h("div", { id: "proposals" },
    h("p", {}, h("b", {}, "Proposed gate decisions. "),
      "Nothing has changed in the registry: each is a proposal for the project's approvers to take at its next gate."),
    table([{ title: "Project", cell: (d) => names(d.project_id) },
           { title: "Proposed decision", cell: (d) => h("span", { class: "tag own", "data-decision": d.decision }, `proposed: ${(d.decision || "").toUpperCase()}`) },
           { title: "Why", cell: (d) => d.reason || "" }],
          decisions, "No decisions proposed.", "Proposed gate decisions"));
}

function resultCard(s, names) {
  const r = s.result || {};
  const currency = (s.spec && s.spec.currency) || "GBP";
  const frontierBox = h("div", { id: "frontier" });
  const commitBox = h("div", { id: "commit" });
  if (s.committed) commitBox.append(proposalsTable(s.proposals || [], names));
  else if (r.feasible) {
    const form = h("form", { id: "commit-form", "aria-label": "Commit this scenario" },
      h("p", { class: "muted" }, "Committing proposes a gate decision for every candidate (go, hold or stop) to its approvers. It changes no project."),
      h("button", { type: "submit", class: "primary" }, "Commit: propose the gate decisions"), errorLine());
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      submit(form, "POST", `/api/v1/scenarios/${encodeURIComponent(s.id)}/commit`, {}, { "If-Match": `"${s.version}"` },
             "Scenario committed: decisions proposed", (res) => {
               commitBox.replaceChildren(proposalsTable(res.json.decisions || [], names));
             });
    });
    commitBox.append(form);
  }
  return h("section", { class: "card", id: "scenario-result", "data-scenario": s.id },
    h("h2", {}, `${s.spec ? s.spec.name : s.id} (${s.id})`),
    h("p", { id: "scenario-status" }, h("b", {}, statusText(r)),
      r.feasible ? `: value ${Number(r.objective || 0).toFixed(1)}, cost ${money(r.cost_minor || 0, currency)}, solved in ${r.solve_ms || 0} ms.` : "."),
    h("p", { class: "muted small" }, `Made by ${s.created_by || "unknown"} on ${dateTime(s.created_ms)}` +
      `${s.spec && s.spec.max_shift_quarters ? `; starts may shift by up to ${s.spec.max_shift_quarters} quarters` : ""}` +
      `${s.committed ? "; committed" : ""}.`),
    (r.conflicts || []).length
      ? h("div", { id: "conflicts", role: "alert" }, h("h3", {}, "These constraints conflict"),
          h("p", {}, "No portfolio meets all of them together; relax one:"), h("ul", {}, r.conflicts.map((c) => h("li", {}, c))))
      : null,
    h("h3", {}, "Projects in, out or shifted"),
    table([{ title: "Project", cell: (c) => names(c.project_id) },
           { title: "Placement", cell: (c) => placementTag(c.placement, c.shift_quarters) },
           { title: "Value", cell: (c) => Number(c.value || 0).toFixed(1), num: true },
           { title: "Cost", cell: (c) => money(c.cost_minor || 0, currency), num: true },
           { title: "Kept out by", cell: (c) => c.reason || "" }],
          r.candidates || [], "No candidates.", "Each candidate's placement"),
    h("h3", {}, "Constraints that bind"),
    table([{ title: "Constraint", cell: (b) => b.name },
           { title: "Used", cell: (b) => (b.name.startsWith("budget") ? money(b.used || 0, currency) : Number(b.used || 0).toFixed(1)), num: true },
           { title: "Limit", cell: (b) => (b.name.startsWith("budget") ? money(b.limit || 0, currency) : Number(b.limit || 0).toFixed(1)), num: true }],
          (r.binding || []).filter((b) => b.binding !== false), "No constraint binds: everything worth having fits.", "Binding constraints"),
    r.feasible ? h("button", { type: "button", id: "frontier-button", onclick: () => showFrontier(s, frontierBox) }, "Show the efficient frontier") : null,
    frontierBox, commitBox);
}

// ---------------------------------------------------------------------
// Side by side

async function comparison(ids, names) {
  const res = await api("POST", "/api/v1/scenario-comparison", { ids }, { "Idempotency-Key": newKey() });
  const c = res.json;
  const scenarios = c.scenarios || [];
  const columns = [{ title: "Project", cell: (r) => names(r.project_id) },
    ...scenarios.map((s, i) => ({ title: s.spec ? s.spec.name : s.id, cell: (r) => placementTag((r.placements || [])[i], (r.shifts || [])[i]) })),
    { title: "Differs", cell: (r) => (new Set(scenarios.map((s, i) => `${(r.placements || [])[i] || "out"}${(r.shifts || [])[i] || 0}`)).size > 1 ? h("b", {}, "differs") : "same") }];
  return h("section", { class: "card", id: "comparison" }, h("h2", {}, "Side by side"),
    table([{ title: "Scenario", cell: (s) => s.spec ? s.spec.name : s.id }, { title: "Status", cell: (s) => statusText(s.result) },
           { title: "Value", cell: (s) => Number((s.result || {}).objective || 0).toFixed(1), num: true },
           { title: "Cost", cell: (s) => money((s.result || {}).cost_minor || 0, (s.spec || {}).currency || "GBP"), num: true },
           { title: "Binding constraints", cell: (s) => ((s.result || {}).binding || []).filter((b) => b.binding !== false).map((b) => b.name).join("; ") || "none" }],
          scenarios, "", "The scenarios compared"),
    table(columns, c.rows || [], "No projects.", "Each project's placement in each scenario"));
}

// ---------------------------------------------------------------------

export async function scenarios(params, view) {
  const units = await orgUnits();
  const divisions = units.filter((u) => u.kind === "division").map((u) => u.id);
  const unit = params.get("unit") || divisions[0] || (units[0] || {}).id || "";
  const unitEl = unitSelect(units, unit, false);
  unitEl.addEventListener("change", () => { location.hash = plannerHash("scenarios", { unit: unitEl.value }); });
  let list, projects;
  try {
    [list, projects] = await Promise.all([
      api("GET", "/api/v1/scenarios?" + new URLSearchParams({ org_unit: unit })).then((r) => r.json.scenarios || []),
      api("GET", "/api/v1/projects?" + new URLSearchParams({ org_unit: unit, limit: "500" })).then((r) => r.json.items || [])]);
  } catch (e) {
    view.replaceChildren(h("div", { class: "toolbar" }, field("Org unit", unitEl)), h("p", { class: "error", role: "alert" }, explain(e)));
    return;
  }
  const byId = new Map(projects.map((p) => [p.id, p]));
  const names = (id) => {
    const p = byId.get(id);
    return h("a", { href: "#/project/" + encodeURIComponent(id) }, p ? `${p.code} ${p.name}` : id);
  };
  const open = (id) => plannerHash("scenarios", { unit, scenario: id });
  const parts = [h("div", { class: "toolbar" }, field("Org unit", unitEl))];

  const compare = (params.get("compare") || "").split(",").filter(Boolean);
  if (compare.length >= 2) {
    try {
      parts.push(await comparison(compare, names));
    } catch (e) {
      parts.push(h("p", { class: "error", role: "alert" }, explain(e)));
    }
  }
  const id = params.get("scenario");
  if (id) {
    try {
      parts.push(resultCard((await api("GET", `/api/v1/scenarios/${encodeURIComponent(id)}`)).json, names));
    } catch (e) {
      parts.push(h("p", { class: "error", role: "alert" }, explain(e)));
    }
  }

  const compareForm = h("form", { class: "inline", id: "compare-form", "aria-label": "Compare two scenarios" },
    field("First scenario", choice("a", list.map((s) => s.id), list[1] && list[1].id)),
    field("Second scenario", choice("b", list.map((s) => s.id), list[0] && list[0].id)),
    h("button", { type: "submit" }, "Compare side by side"), errorLine());
  compareForm.addEventListener("submit", (ev) => {
    ev.preventDefault();
    location.hash = plannerHash("scenarios", { unit, compare: `${text(compareForm, "a")},${text(compareForm, "b")}` });
  });
  parts.push(h("section", { class: "card", id: "scenario-list" }, h("h2", {}, "Scenarios"),
    table([{ title: "Scenario", cell: (s) => h("a", { href: open(s.id) }, s.spec ? s.spec.name : s.id) },
           { title: "Made", cell: (s) => `${dateTime(s.created_ms)} by ${s.created_by || "unknown"}` },
           { title: "Objective", cell: (s) => label((s.spec && s.spec.objective) || "score") },
           { title: "In / shifted / out", cell: (s) => { const c = counts(s); return `${c.in} / ${c.shifted} / ${c.out}`; } },
           { title: "Status", cell: (s) => statusText(s.result) },
           { title: "Committed", cell: (s) => (s.committed ? h("span", { class: "tag own" }, "committed") : "no") }],
          list, "No scenarios yet.", "Scenarios, newest first"),
    list.length >= 2 ? compareForm : null));
  parts.push(h("section", { class: "card", id: "scenario-new" }, h("h2", {}, "A new scenario"),
    newScenarioForm(unit, projects, divisions, (newId) => { location.hash = open(newId); })));
  view.replaceChildren(...parts);
}
