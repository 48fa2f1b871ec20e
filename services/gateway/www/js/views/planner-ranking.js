// planner-ranking.js: the scoring model in force at a unit, each project's
// score per criterion with who scored it and when, the ranked list
// (mandatory first), and scoring a project on the model's criteria.

import { api, explain, orgUnits, unitSelect } from "../core/api.js";
import { field, h, table } from "../core/dom.js";
import { dateTime, label } from "../core/format.js";
import { errorLine, submit, text } from "../forms/common.js";
import { plannerHash } from "./planner.js";

const criterionName = (c) => (c.criterion === "alignment" ? `alignment: ${c.theme}` : label(c.criterion));
const same = (a, b) => a.criterion === b.criterion && (a.theme || "") === (b.theme || "");

function scoreCell(p, c) {
  const s = (p.scores || []).find((x) => same(x, c));
  if (!s) return h("span", { class: "muted" }, "not scored");
  return h("span", {}, h("b", {}, String(s.score || 0)), h("br"),
    h("span", { class: "muted small" }, `${s.scored_by || "unknown"}, ${dateTime(s.scored_ms)}`));
}

// Score one project: one 0-10 input per criterion of the model, the
// mandatory flag and its reason; the version of the score record read
function scoreForm(model, projects, selected, done) {
  const projectEl = h("select", { name: "project_id", required: true },
    projects.map((p) => h("option", { value: p.project_id, selected: p.project_id === selected },
      `${p.project_code || p.project_id} ${p.project_name || ""}`)));
  const form = h("form", { class: "inline", id: "score-form", "aria-label": "Score a project" },
    field("Project", projectEl),
    model.map((c, i) => field(`${criterionName(c)} (0-10)`,
      h("input", { name: `score_${i}`, type: "number", min: 0, max: 10, step: 1, size: 4 }))),
    field("Mandatory or regulatory", h("input", { name: "mandatory", type: "checkbox" })),
    field("Reason it is mandatory", h("input", { name: "mandatory_reason", size: 24 })),
    h("button", { type: "submit" }, "Save scores"), errorLine());
  const fill = () => {
    const p = projects.find((x) => x.project_id === projectEl.value);
    model.forEach((c, i) => {
      const s = p && (p.scores || []).find((x) => same(x, c));
      form.elements[`score_${i}`].value = s ? String(s.score || 0) : "";
    });
    form.elements.mandatory.checked = !!(p && p.mandatory);
    form.elements.mandatory_reason.value = (p && p.mandatory_reason) || "";
  };
  projectEl.addEventListener("change", fill);
  fill();
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const p = projects.find((x) => x.project_id === projectEl.value) || {};
    const scores = [];
    model.forEach((c, i) => {
      const v = text(form, `score_${i}`);
      if (v !== undefined) scores.push({ criterion: c.criterion, theme: c.theme || "", score: Number(v) });
    });
    submit(form, "POST", `/api/v1/projects/${encodeURIComponent(projectEl.value)}/score`,
           { version: p.version || 0, scores, mandatory: form.elements.mandatory.checked,
             mandatory_reason: text(form, "mandatory_reason") || "" },
           null, "Scores saved", done);
  });
  return form;
}

export async function ranking(params, view) {
  const units = await orgUnits();
  const unit = params.get("unit") || (units.find((u) => u.kind === "enterprise") || units[0] || {}).id || "";
  const unitEl = unitSelect(units, unit, false);
  unitEl.addEventListener("change", () => { location.hash = plannerHash("ranking", { unit: unitEl.value }); });
  let r;
  try {
    r = (await api("GET", "/api/v1/ranking?" + new URLSearchParams({ org_unit: unit }))).json;
  } catch (e) {
    view.replaceChildren(h("div", { class: "toolbar" }, field("Org unit", unitEl)), h("p", { class: "error", role: "alert" }, explain(e)));
    return;
  }
  const model = r.model || [];
  const projects = r.projects || [];
  const total = model.reduce((s, c) => s + (c.weight || 0), 0) || 1;
  const columns = [
    { title: "Rank", cell: (p) => String(p.rank || ""), num: true },
    { title: "Project", cell: (p) => h("a", { href: "#/project/" + encodeURIComponent(p.project_id) }, p.project_code || p.project_id, " ", p.project_name || "") },
    { title: "Total (0-100)", cell: (p) => Number(p.total || 0).toFixed(1), num: true },
    { title: "Mandatory", cell: (p) => (p.mandatory ? h("span", { class: "tag own" }, `mandatory${p.mandatory_reason ? ": " + p.mandatory_reason : ""}`) : "no") },
    ...model.map((c) => ({ title: criterionName(c), cell: (p) => scoreCell(p, c) })),
  ];
  view.replaceChildren(h("div", { class: "toolbar" }, field("Org unit", unitEl)),
    h("section", { class: "card", id: "scoring-model" }, h("h2", {}, "Scoring model in force"),
      model.length
        ? h("ul", {}, model.map((c) => h("li", {}, `${criterionName(c)}: weight ${c.weight} (${Math.round((100 * c.weight) / total)}%)`)))
        : h("p", { class: "empty" }, "No scoring model is set for this unit or above it.")),
    h("section", { class: "card", id: "ranking" }, h("h2", {}, "Ranked list"),
      h("p", { class: "muted" }, "Mandatory and regulatory projects first, then by the weighted total. Each score says who gave it and when."),
      table(columns, projects, "No projects to rank here.", "Projects ranked by weighted score"),
      model.length && projects.length
        ? h("details", { class: "more" }, h("summary", {}, "Score a project"),
            scoreForm(model, projects, params.get("project"), () => {
              location.hash = plannerHash("ranking", { unit, project: text(document.getElementById("score-form"), "project_id"), at: Date.now() });
            }))
        : null));
}
