// resources.js: people (and placeholders) of a unit for resource managers:
// skills with levels, weekly capacity, leave; a new person; a person's
// role, skills and capacity changed and leave added from their row; each
// person's bookings one click away (capacity by person).

import { api, explain, orgUnits, placeholder, state, unitSelect, up } from "../core/api.js";
import { field, h, table } from "../core/dom.js";
import { isoWeek } from "../core/format.js";
import { errorLine, int, submit, text } from "../forms/common.js";

export const title = "Resources";

// "signalling:4, safety:2" <-> [{ name, level }]
const skillsText = (r) => (r.skills || []).map((s) => `${s.name}:${s.level}`).join(", ");
function parseSkills(value) {
  return (value || "").split(",").map((s) => s.trim()).filter(Boolean).map((s) => {
    const [name, level] = s.split(":").map((x) => x.trim());
    return { name, level: Number(level || 1) };
  });
}

export async function render(params, view) {
  if (!up("allocator")) {
    view.replaceChildren(h("h1", {}, title), placeholder("People, skills and capacity", "allocator"));
    return;
  }
  const units = await orgUnits();
  const unit = params.get("unit") || "";
  const unitEl = unitSelect(units, unit, true);
  unitEl.addEventListener("change", () => { location.hash = "#/resources?unit=" + encodeURIComponent(unitEl.value); });
  let people;
  try {
    const q = new URLSearchParams({ limit: "500" });
    if (unit) q.set("org_unit", unit);
    people = (await api("GET", "/api/v1/resources?" + q)).json.items;
  } catch (e) {
    view.replaceChildren(h("h1", {}, title), h("p", { class: "error", role: "alert" }, explain(e)));
    return;
  }
  const again = () => state.refresh();
  const form = h("form", { class: "inline", id: "resource-form", "aria-label": "A new person" },
    field("Name", h("input", { name: "name", required: true })), field("Role", h("input", { name: "role", placeholder: "engineer" })),
    field("Skills", h("input", { name: "skills", size: 24, placeholder: "signalling:4, safety:2" }), "name:level (1-5), comma-separated"),
    field("Home unit", unitSelect(units.filter((u) => u.kind !== "enterprise"), unit, false)),
    field("Hours a week", h("input", { name: "weekly_capacity_hours", type: "number", min: 0, max: 168, value: 37 })),
    field("Email", h("input", { name: "email", type: "email" })),
    h("button", { type: "submit" }, "Add person"), errorLine());
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    submit(form, "POST", "/api/v1/resources", { name: text(form, "name"), kind: "person", role: text(form, "role"),
      skills: parseSkills(text(form, "skills")), home_org_unit: text(form, "org_unit"),
      weekly_capacity_hours: int(form, "weekly_capacity_hours"), email: text(form, "email") }, null, "Person added", again);
  });
  // Leave: a range of weeks with hours off, added to the person's exceptions
  const leave = (r) => {
    const f = h("form", { class: "inline compact", "data-leave": r.id, "aria-label": `Leave for ${r.name}` },
      field("From", h("input", { name: "start_week", size: 8, value: isoWeek(new Date()), required: true })),
      field("To", h("input", { name: "end_week", size: 8, value: isoWeek(new Date()), required: true })),
      field("Hours off", h("input", { name: "hours_off", type: "number", min: 1, max: 168, size: 4, value: r.weekly_capacity_hours, required: true })),
      h("button", { type: "submit" }, "Add leave"), errorLine());
    f.addEventListener("submit", (ev) => {
      ev.preventDefault();
      const exceptions = (r.exceptions || []).concat([{ start_week: text(f, "start_week"), end_week: text(f, "end_week"),
                                                         hours_off: int(f, "hours_off"), reason: "leave" }]);
      submit(f, "PATCH", `/api/v1/resources/${encodeURIComponent(r.id)}`, { exceptions }, { "If-Match": `"${r.version}"` }, `Leave added for ${r.name}`, again);
    });
    return f;
  };
  // Role, skills and capacity: the allocator's refusal at its field
  const change = (r) => {
    const f = h("form", { class: "inline compact", "data-change": r.id, "aria-label": `Change ${r.name}` },
      field("Role", h("input", { name: "role", size: 10, value: r.role || "" })),
      field("Skills", h("input", { name: "skills", size: 20, value: skillsText(r) }), "name:level (1-5)"),
      field("Hours a week", h("input", { name: "weekly_capacity_hours", type: "number", min: 0, max: 168, size: 4, value: r.weekly_capacity_hours })),
      h("button", { type: "submit" }, "Save"), errorLine());
    f.addEventListener("submit", (ev) => {
      ev.preventDefault();
      submit(f, "PATCH", `/api/v1/resources/${encodeURIComponent(r.id)}`, { role: text(f, "role") || "",
        skills: parseSkills(text(f, "skills")), weekly_capacity_hours: int(f, "weekly_capacity_hours") ?? 0 },
        { "If-Match": `"${r.version}"` }, `${r.name} saved`, again);
    });
    return h("details", { class: "more" }, h("summary", {}, `Change ${r.name}…`), f);
  };
  view.replaceChildren(h("h1", {}, title), h("div", { class: "toolbar" }, field("Org unit", unitEl)),
    h("section", { class: "card", id: "resources" }, table([
      { title: "Name", cell: (r) => h("a", { href: "#/capacity?" + new URLSearchParams({ by: "person", unit: r.home_org_unit }) }, r.name) },
      { title: "Role", cell: (r) => r.role || "not set" }, { title: "Skills", cell: (r) => skillsText(r) || "none" },
      { title: "Unit", cell: (r) => r.home_org_unit }, { title: "Hours/week", num: true, cell: (r) => r.weekly_capacity_hours },
      { title: "Leave", cell: (r) => (r.exceptions || []).map((x) => `${x.start_week}→${x.end_week} (${x.hours_off} h)`).join(", ") || "none" },
      { title: "Add leave", cell: (r) => leave(r) }, { title: "Change", cell: change }], people, "No people in this unit.", "People"),
      h("details", { class: "more" }, h("summary", {}, "A new person"), form)));
}
