// notifications.js: where alerts and events go: channels (chat tools,
// webhooks, email) with a test send that shows its outcome, subscriptions
// (which events of which unit or project go to which channel), and
// deliveries, pending or dead-lettered, retried or discarded.

import { api, explain, orgUnits, placeholder, state, unitSelect, up } from "../core/api.js";
import { field, h, table, toast } from "../core/dom.js";
import { dateTime, label } from "../core/format.js";
import { choice, errorLine, submit, text } from "../forms/common.js";

export const title = "Notifications";

const KINDS = ["slack", "teams", "mattermost", "google_chat", "webhook", "email"];
const SEVERITIES = ["info", "low", "medium", "high", "critical"];
const STATES = ["pending", "dead", "delivered", "discarded"];

export async function render(params, view) {
  if (!up("notifier")) {
    view.replaceChildren(h("h1", {}, "Notifications"), placeholder("Channels, subscriptions and deliveries", "notifier"));
    return;
  }
  const deliveryState = STATES.includes(params.get("state")) ? params.get("state") : "dead";
  let channels, subscriptions, deliveries;
  try {
    [channels, subscriptions, deliveries] = await Promise.all([
      api("GET", "/api/v1/channels").then((r) => r.json.items),
      api("GET", "/api/v1/subscriptions").then((r) => r.json.items),
      api("GET", `/api/v1/deliveries?limit=100&state=${deliveryState}`).then((r) => r.json.items)]);
  } catch (e) {
    view.replaceChildren(h("h1", {}, "Notifications"), h("p", { class: "error", role: "alert" }, explain(e)));
    return;
  }
  const units = (await orgUnits());
  const again = () => state.refresh();
  const name = (id) => (channels.find((c) => c.id === id) || {}).name || id;

  const channelForm = h("form", { class: "inline", id: "channel-form", "aria-label": "A new channel" },
    field("Name", h("input", { name: "name", required: true })), field("Kind", choice("kind", KINDS, "slack")),
    field("Org unit", unitSelect(units, units[0] && units[0].id, false)),
    field("URL", h("input", { name: "url", type: "url", size: 36 }), "chat tools and webhooks"),
    field("Signing secret", h("input", { name: "signing_secret", size: 20 }), "webhooks: whsec_…"),
    field("SMTP URL", h("input", { name: "smtp_url", size: 24 }), "email: smtps://host:465"),
    field("From", h("input", { name: "mail_from", type: "email" })), field("To", h("input", { name: "mail_to", size: 24 }), "email: comma-separated"),
    field("Digest", choice("digest", ["none", "hourly", "daily"], "none")),
    h("button", { type: "submit" }, "Create channel"), errorLine());
  channelForm.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const f = channelForm;
    const body = { name: text(f, "name"), kind: text(f, "kind"), org_unit: text(f, "org_unit"), url: text(f, "url"),
                   smtp_url: text(f, "smtp_url"), mail_from: text(f, "mail_from"), digest: text(f, "digest") };
    if (text(f, "signing_secret")) body.signing_secrets = [text(f, "signing_secret")];
    if (text(f, "mail_to")) body.mail_to = text(f, "mail_to").split(",").map((s) => s.trim()).filter(Boolean);
    submit(f, "POST", "/api/v1/channels", body, null, "Channel created", again);
  });

  // A test send: queue it, then follow the delivery until it is done
  async function testSend(c, cell) {
    cell.replaceChildren("sending…");
    try {
      let d = (await api("POST", `/api/v1/channels/${encodeURIComponent(c.id)}/test`, {}, { "If-Match": `"${c.version}"` })).json;
      for (let i = 0; i < 40 && d.state === "pending"; i++) {
        await new Promise((r) => setTimeout(r, 500));
        d = (await api("GET", `/api/v1/deliveries/${encodeURIComponent(d.id)}`)).json;
      }
      const outcome = d.state === "delivered" ? `delivered ${dateTime(d.done_ms)}` :
        d.state === "pending" ? `still pending (attempt ${d.attempt_count}): ${d.last_error || "waiting"}` :
        `${label(d.state)}: ${d.last_error || "no reason given"}`;
      cell.replaceChildren(h("span", { class: "outcome " + d.state, "data-outcome": d.state, role: "status" }, outcome));
    } catch (e) {
      cell.replaceChildren(h("span", { class: "error", role: "alert" }, explain(e)));
    }
  }

  const subForm = h("form", { class: "inline", id: "subscription-form", "aria-label": "A new subscription" },
    field("Channel", choice("channel_id", channels.map((c) => c.id), channels[0] && channels[0].id)),
    field("Org unit", unitSelect(units, units[0] && units[0].id, false)),
    field("Project id", h("input", { name: "project_id", size: 12 }), "blank: the whole unit"),
    field("Events", h("input", { name: "event_types", size: 24, placeholder: "alert.*, gate.decided" }), "comma-separated; blank: all"),
    field("At least", choice("min_severity", SEVERITIES, null, "any severity")),
    field("Quiet hours", h("input", { name: "quiet_hours", size: 12, placeholder: "22:00-07:00" })),
    h("button", { type: "submit" }, "Subscribe"), errorLine());
  subForm.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const f = subForm;
    const body = { channel_id: text(f, "channel_id"), org_unit: text(f, "org_unit"), project_id: text(f, "project_id"),
                   min_severity: text(f, "min_severity"), quiet_hours: text(f, "quiet_hours") };
    if (text(f, "event_types")) body.event_types = text(f, "event_types").split(",").map((s) => s.trim()).filter(Boolean);
    submit(f, "POST", "/api/v1/subscriptions", body, null, "Subscribed", again);
  });

  const stateEl = choice("state", STATES, deliveryState);
  stateEl.addEventListener("change", () => { location.hash = "#/notifications?state=" + stateEl.value; });
  const act = (d, step) => h("button", { type: "button", "data-step": step, "data-delivery": d.id, onclick: async () => {
    try { await api("POST", `/api/v1/deliveries/${encodeURIComponent(d.id)}/${step}`, {}, { "If-Match": `"${d.version}"` }); toast(`${label(step)}: ${d.id}`); again(); }
    catch (e) { toast(explain(e), true); } } }, step === "retry" ? "Send again" : "Discard");

  view.replaceChildren(h("h1", {}, "Notifications"),
    h("section", { class: "card", id: "channels" }, h("h2", {}, "Channels"),
      table([{ title: "Name", cell: (c) => c.name }, { title: "Kind", cell: (c) => label(c.kind) }, { title: "Org unit", cell: (c) => c.org_unit },
             { title: "Where", cell: (c) => c.url || (c.mail_to || []).join(", ") || "not set" },
             { title: "State", cell: (c) => (c.disabled ? `disabled: ${c.disabled_reason || "no reason"}` : "enabled") },
             { title: "Test", cell: (c) => { const cell = h("div", {}); cell.append(h("button", { type: "button", "data-test": c.id, "aria-label": `Send a test to ${c.name}`,
                 onclick: () => testSend(c, cell) }, "Send a test")); return cell; } }],
            channels, "No channels.", "Channels"),
      h("details", { class: "more" }, h("summary", {}, "A new channel"), channelForm)),
    h("section", { class: "card", id: "subscriptions" }, h("h2", {}, "Subscriptions"),
      table([{ title: "Channel", cell: (s) => name(s.channel_id) }, { title: "Unit", cell: (s) => s.org_unit },
             { title: "Project", cell: (s) => s.project_id || "all" }, { title: "Events", cell: (s) => (s.event_types || []).join(", ") || "all" },
             { title: "At least", cell: (s) => label(s.min_severity) || "any" }, { title: "Quiet hours", cell: (s) => s.quiet_hours || "none" }],
            subscriptions, "No subscriptions.", "Subscriptions"),
      channels.length ? h("details", { class: "more" }, h("summary", {}, "A new subscription"), subForm) : null),
    h("section", { class: "card", id: "deliveries" }, h("h2", {}, "Deliveries"),
      h("div", { class: "toolbar" }, field("State", stateEl)),
      table([{ title: "Channel", cell: (d) => name(d.channel_id) }, { title: "Kind", cell: (d) => label(d.kind) },
             { title: "Created", cell: (d) => dateTime(d.created_ms) }, { title: "Attempts", num: true, cell: (d) => d.attempt_count },
             { title: "Last error", cell: (d) => d.last_error || "none" }, { title: "State", cell: (d) => label(d.state) },
             { title: "Action", cell: (d) => d.state === "dead" || d.state === "pending" ? h("span", {}, act(d, "retry"), " ", act(d, "discard")) : "" }],
            deliveries, `No ${deliveryState} deliveries.`, "Deliveries")));
}
