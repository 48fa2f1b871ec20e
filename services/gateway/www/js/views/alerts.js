// alerts.js: open alerts with acknowledge, and the live activity feed.

import { api, explain, placeholder, up } from "../core/api.js";
import { h, table, toast } from "../core/dom.js";
import { label, time } from "../core/format.js";
import { live } from "../core/live.js";

export const title = "Alerts & activity";

export async function render(params, view) {
  const alertsBox = h("section", { class: "card", id: "alerts" }, h("h2", {}, "Alerts"));
  const feed = h("ul", { class: "feed", id: "activity", "aria-label": "Live activity" });
  const liveEl = h("span", { class: "live", id: "live-status" });
  view.replaceChildren(h("h1", { class: "sr-only" }, "Alerts and activity"),
    h("div", { class: "grid2" }, alertsBox,
      h("section", { class: "card" }, h("h2", {}, "Live activity ", liveEl), feed)));
  async function loadAlerts() {
    if (!up("riskmon")) return alertsBox.replaceChildren(h("h2", {}, "Alerts"), placeholder("Alerts", "riskmon"));
    try {
      const res = await api("GET", "/api/v1/alerts?limit=100");
      alertsBox.replaceChildren(h("h2", {}, "Alerts"), table([
        { title: "Severity", cell: (a) => h("span", { class: "rag " + (a.severity === "critical" ? "red" : a.severity === "warning" ? "amber" : "") }, label(a.severity)) },
        { title: "Alert", cell: (a) => a.title || a.message || label(a.kind) },
        { title: "Project", cell: (a) => h("a", { href: "#/project/" + encodeURIComponent(a.project_id) }, a.project_id) },
        { title: "State", cell: (a) => label(a.state) },
        { title: "Action", cell: (a) => a.state === "open" ? h("button", { type: "button", "data-ack": a.id, onclick: async () => {
            try { await api("POST", `/api/v1/alerts/${a.id}/acknowledge`, {}, { "If-Match": `"${a.version}"` }); toast("Acknowledged"); loadAlerts(); }
            catch (e) { toast(explain(e), true); } } }, "Acknowledge") : "" }],
        res.json.items, "No open alerts.", "Alerts"));
    } catch (e) {
      alertsBox.replaceChildren(h("h2", {}, "Alerts"), h("p", { class: "error" }, explain(e)));
    }
  }
  await loadAlerts();
  live("", (type, event) => {
    const subject = (event.project && event.project.code) || event.entity_id || "";
    const li = h("li", { class: "fresh", "data-type": type, "data-entity": event.entity_id || "" },
      h("time", {}, time(event.time_ms)),
      h("span", { class: "type" }, type), h("span", {}, subject), h("span", { class: "muted" }, event.actor || ""));
    feed.prepend(li);
    while (feed.children.length > 200) feed.lastChild.remove();
    if (type.startsWith("alert.")) loadAlerts();
  }, liveEl);
}
