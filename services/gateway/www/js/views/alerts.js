// alerts.js: the risk monitor's alerts, filtered, sorted by severity and
// time, a page at a time, with their escalation level and next escalation,
// acknowledged one by one or in bulk, resolved with a note; and the live
// activity feed.
//
// The filters the service knows (unit, project, minimum severity, resolved
// or not) go to it; up to MAX alerts that match are read (500 a request) and
// sorted, filtered by state and level and paged here, so that the order is
// severity then time across every division, not the service's storage order.

import { api, explain, orgUnits, placeholder, showFormError, unitSelect, up } from "../core/api.js";
import { field, h, toast } from "../core/dom.js";
import { dateTime, label, time } from "../core/format.js";
import { live } from "../core/live.js";

export const title = "Alerts & activity";

const PAGE = 50;
const MAX = 2000;
const SEVERITY_RANK = { critical: 3, warning: 2, info: 1 };
const LEVELS = ["owner", "division_pmo", "hub_pmo"];

function options(values, selected, any) {
  return [h("option", { value: "" }, any), values.map(([v, t]) => h("option", { value: v, selected: v === selected }, t))];
}

export async function render(params, view) {
  const units = await orgUnits();
  const f = {
    unit: params.get("unit") || "", severity: params.get("severity") || "",
    state: params.get("state") || "open", level: params.get("level") || "",
    project: params.get("project") || "", page: Math.max(0, Number(params.get("page") || 0) | 0),
  };
  const unitEl = unitSelect(units, f.unit, true);
  const sevEl = h("select", { name: "severity" }, options([["warning", "warning and critical"], ["critical", "critical"]], f.severity, "Any severity"));
  const stateEl = h("select", { name: "state" }, [["open", "open"], ["acknowledged", "acknowledged"], ["active", "open or acknowledged"], ["resolved", "resolved"], ["all", "all"]]
    .map(([v, t]) => h("option", { value: v, selected: v === f.state }, t)));
  const levelEl = h("select", { name: "level" }, options(LEVELS.map((l) => [l, label(l)]), f.level, "Any level"));
  const projectEl = h("input", { name: "project", value: f.project, placeholder: "pr_dft_3", size: 12 });
  const go = (page) => {
    const q = new URLSearchParams();
    if (unitEl.value) q.set("unit", unitEl.value);
    if (sevEl.value) q.set("severity", sevEl.value);
    q.set("state", stateEl.value);
    if (levelEl.value) q.set("level", levelEl.value);
    if (projectEl.value.trim()) q.set("project", projectEl.value.trim());
    if (page) q.set("page", String(page));
    location.hash = "#/alerts?" + q;
  };
  const filters = h("form", { class: "toolbar", id: "alert-filters", "aria-label": "Filter alerts",
                              onsubmit: (ev) => { ev.preventDefault(); go(0); } },
    field("Org unit", unitEl), field("Severity", sevEl), field("State", stateEl), field("Escalation level", levelEl),
    field("Project id", projectEl), h("button", { type: "submit" }, "Filter"));
  for (const el of [unitEl, sevEl, stateEl, levelEl]) el.addEventListener("change", () => go(0));

  const alertsBox = h("section", { class: "card", id: "alerts", "aria-labelledby": "alerts-title" }, h("h2", { id: "alerts-title" }, "Alerts"));
  const feed = h("ul", { class: "feed", id: "activity", "aria-label": "Live activity" });
  const liveEl = h("span", { class: "live", id: "live-status" });
  view.replaceChildren(h("h1", {}, "Alerts"), filters, alertsBox,
    h("section", { class: "card" }, h("h2", {}, "Live activity ", liveEl), feed));

  async function loadAlerts() {
    if (!up("riskmon")) return alertsBox.replaceChildren(h("h2", { id: "alerts-title" }, "Alerts"), placeholder("Alerts", "riskmon"));
    const all = [];
    let cursor = "", truncated = false;
    try {
      for (;;) {
        const q = new URLSearchParams({ limit: "500" });
        if (f.unit) q.set("org_unit", f.unit);
        if (f.project) q.set("project_id", f.project);
        if (f.severity) q.set("min_severity", f.severity);
        if (f.state === "resolved" || f.state === "all") q.set("include_closed", "true");
        if (cursor) q.set("cursor", cursor);
        const page = (await api("GET", "/api/v1/alerts?" + q)).json;
        all.push(...page.items);
        cursor = page.next_cursor;
        if (!cursor) break;
        if (all.length >= MAX) { truncated = true; break; }
      }
    } catch (e) {
      return alertsBox.replaceChildren(h("h2", { id: "alerts-title" }, "Alerts"), h("p", { class: "error", role: "alert" }, explain(e)));
    }
    const shown = all.filter((a) =>
      (f.state === "all" || (f.state === "active" ? a.state !== "resolved" : a.state === f.state)) &&
      (!f.level || a.level === f.level))
      .sort((a, b) => (SEVERITY_RANK[b.severity] || 0) - (SEVERITY_RANK[a.severity] || 0) ||
                      Number(b.last_raised_ms || b.raised_ms) - Number(a.last_raised_ms || a.raised_ms));
    const pages = Math.max(1, Math.ceil(shown.length / PAGE));
    const index = Math.min(f.page, pages - 1);
    const rows = shown.slice(index * PAGE, (index + 1) * PAGE);
    const selected = new Set();
    const bulk = h("button", { type: "button", id: "ack-selected", disabled: true, onclick: () => acknowledge([...selected]) }, "Acknowledge selected");
    const count = () => {
      bulk.disabled = !selected.size;
      bulk.textContent = selected.size ? `Acknowledge selected (${selected.size})` : "Acknowledge selected";
    };
    const openRows = rows.filter((a) => a.state === "open");
    const boxes = [];
    const all_ = h("input", { type: "checkbox", id: "ack-all", disabled: !openRows.length, onchange: () => {
      for (const b of boxes) { b.checked = all_.checked; b.dispatchEvent(new Event("change")); }
    } });
    async function acknowledge(list) {
      let ok = 0;
      const failed = [];
      for (const a of list) {
        try {
          await api("POST", `/api/v1/alerts/${encodeURIComponent(a.id)}/acknowledge`, {}, { "If-Match": `"${a.version}"` });
          ok++;
        } catch (e) {
          failed.push(`${a.title}: ${explain(e)}`);
        }
      }
      toast(`Acknowledged ${ok} alert${ok === 1 ? "" : "s"}` + (failed.length ? `; ${failed.length} not: ${failed.join("; ")}` : ""), failed.length > 0);
      loadAlerts();
    }
    // Resolve: what was done, kept with the alert; the service's refusal
    // (a note too long, a version moved on) is shown at the field
    function resolveForm(a) {
      const form = h("form", { class: "inline", "data-resolve": a.id, "aria-label": `Resolve ${a.title}` },
        field("What was done", h("textarea", { name: "note", rows: 2, maxlength: 4000, required: true })),
        h("button", { type: "submit" }, "Resolve"),
        h("p", { class: "error", role: "alert" }));
      form.addEventListener("submit", async (ev) => {
        ev.preventDefault();
        try {
          await api("POST", `/api/v1/alerts/${encodeURIComponent(a.id)}/resolve`,
                    { note: new FormData(form).get("note") }, { "If-Match": `"${a.version}"` });
          toast(`Resolved: ${a.title}`);
          loadAlerts();
        } catch (e) {
          showFormError(form, e);
        }
      });
      return h("details", { class: "resolve" }, h("summary", {}, "Resolve…"), form);
    }
    const tbody = h("tbody", {}, rows.map((a) => {
      let box = "";
      if (a.state === "open") {
        box = h("input", { type: "checkbox", "data-select": a.id, "aria-label": `Select ${a.title}`,
                           onchange: (ev) => { if (ev.target.checked) selected.add(a); else selected.delete(a); count(); } });
        boxes.push(box);
      }
      return h("tr", { "data-alert": a.id, "data-severity": a.severity, "data-state": a.state },
        h("td", {}, box),
        h("td", {}, h("span", { class: "rag " + (a.severity === "critical" ? "red" : a.severity === "warning" ? "amber" : "") }, label(a.severity))),
        h("td", {}, h("div", {}, a.title || label(a.kind)), h("div", { class: "muted small" }, a.detail || "")),
        h("td", {}, h("a", { href: "#/project/" + encodeURIComponent(a.project_id) }, a.project_id)),
        h("td", {}, a.org_unit),
        h("td", {}, label(a.level)), h("td", {}, a.assignee || "unknown"),
        h("td", {}, dateTime(a.last_raised_ms || a.raised_ms)),
        h("td", {}, a.state !== "open" ? "none (" + label(a.state) + ")" :
          Number(a.next_escalation_ms) ? dateTime(a.next_escalation_ms) : "none (top level)"),
        h("td", {}, label(a.state)),
        h("td", {}, a.state === "open" ? h("button", { type: "button", "data-ack": a.id, "aria-label": `Acknowledge ${a.title}`,
                                                       onclick: () => acknowledge([a]) }, "Acknowledge") : "",
          a.state !== "resolved" ? resolveForm(a) : (a.resolution ? h("div", { class: "muted small" }, `${a.resolution} (${a.resolved_by || "unknown"})`) : "")));
    }));
    const table = h("table", { id: "alert-table" }, h("caption", { class: "sr-only" }, "Alerts, most severe and most recent first"),
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, h("label", { for: "ack-all", class: "sr-only" }, "Select every open alert on this page"), all_),
        ["Severity", "Alert", "Project", "Unit", "Level", "With", "Raised", "Next escalation", "State", "Action"].map((t) => h("th", { scope: "col" }, t)))),
      tbody);
    const bySeverity = (s) => shown.filter((a) => a.severity === s).length;
    alertsBox.replaceChildren(h("h2", { id: "alerts-title" }, "Alerts"),
      h("p", { id: "alert-summary" }, `${shown.length} alert${shown.length === 1 ? "" : "s"} (${bySeverity("critical")} critical, ${bySeverity("warning")} warning), most severe and most recent first` +
        (truncated ? `; only the first ${MAX} read: narrow the filters` : "") + "."),
      h("div", { class: "toolbar" }, bulk),
      rows.length ? h("div", { class: "scroll" }, table) : h("p", { class: "empty" }, "No alerts match."),
      h("nav", { class: "pager", "aria-label": "Pages of alerts" },
        h("button", { type: "button", disabled: index === 0, onclick: () => go(index - 1) }, "‹ Previous"),
        h("span", {}, `Page ${index + 1} of ${pages}`),
        h("button", { type: "button", id: "alerts-next", disabled: index >= pages - 1, onclick: () => go(index + 1) }, "Next ›")));
  }
  await loadAlerts();
  let pending = null;
  live("", (type, event) => {
    const subject = (event.project && event.project.code) || event.entity_id || "";
    const li = h("li", { class: "fresh", "data-type": type, "data-entity": event.entity_id || "" },
      h("time", {}, time(event.time_ms)),
      h("span", { class: "type" }, type), h("span", {}, subject), h("span", { class: "muted" }, event.actor || ""));
    feed.prepend(li);
    while (feed.children.length > 200) feed.lastChild.remove();
    // A burst of alert events reloads the list once
    if (type.startsWith("alert.") && !pending)
      pending = setTimeout(() => { pending = null; loadAlerts(); }, 300);
  }, liveEl);
}
