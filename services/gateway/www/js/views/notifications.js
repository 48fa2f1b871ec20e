// notifications.js: where alerts and events go: channels (chat tools,
// webhooks, email, Slack by incoming webhook or by its Web API) with a test
// send that shows its outcome, the buttons of Slack and Mattermost channels
// (the interact secret and the chat users mapped to pmo identities),
// a channel's digest changed, its webhook signing secret rotated (the new
// one shown once, the old one's overlap shown in the row) or the channel
// archived from its row; subscriptions (which events of which unit or
// project go to which channel), changed or stopped from their row; and
// deliveries, pending or dead-lettered, retried or discarded.

import { api, explain, orgUnits, placeholder, state, unitSelect, up } from "../core/api.js";
import { field, h, table, toast } from "../core/dom.js";
import { dateTime, label } from "../core/format.js";
import { choice, errorLine, submit, text } from "../forms/common.js";
import { channelActions, signing, subscriptionActions, takeRotated } from "../forms/channel.js";

export const title = "Notifications";

const KINDS = ["slack", "slack_api", "teams", "mattermost", "google_chat", "webhook", "email"];
// Kinds whose messages carry buttons that act in pmo (with an interact secret)
const INTERACTIVE = ["slack", "slack_api", "mattermost"];
const ROLES = ["admin", "pmo_director", "pmo_manager", "programme_manager", "pmo_analyst", "project_manager",
               "risk_manager", "sponsor", "resource_manager", "team_member", "viewer"];
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
  // A secret just rotated: shown in this drawing only, then forgotten
  const rotated = takeRotated();
  const name = (id) => (channels.find((c) => c.id === id) || {}).name || id;

  const channelForm = h("form", { class: "inline", id: "channel-form", "aria-label": "A new channel" },
    field("Name", h("input", { name: "name", required: true })), field("Kind", choice("kind", KINDS, "slack")),
    field("Org unit", unitSelect(units, units[0] && units[0].id, false)),
    field("URL", h("input", { name: "url", type: "url", size: 36 }), "chat tools and webhooks; Slack Web API: blank"),
    field("Bot token", h("input", { name: "bot_token", type: "password", size: 20, autocomplete: "off" }), "Slack Web API: xoxb-…"),
    field("Slack channel", h("input", { name: "slack_channel", size: 12 }), "Slack Web API: the conversation id, C…"),
    field("Interact secret", h("input", { name: "interact_secret", type: "password", size: 20, autocomplete: "off" }),
      "buttons: Slack's signing secret; Mattermost: 16+ characters"),
    field("Signing secret", h("input", { name: "signing_secrets", size: 20 }), "webhooks: whsec_…"),
    field("SMTP URL", h("input", { name: "smtp_url", size: 24 }), "email: smtps://host:465"),
    field("From", h("input", { name: "mail_from", type: "email" })), field("To", h("input", { name: "mail_to", size: 24 }), "email: comma-separated"),
    field("Digest", choice("digest", ["none", "hourly", "daily"], "none")),
    h("button", { type: "submit" }, "Create channel"), errorLine());
  channelForm.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const f = channelForm;
    const body = { name: text(f, "name"), kind: text(f, "kind"), org_unit: text(f, "org_unit"), url: text(f, "url"),
                   smtp_url: text(f, "smtp_url"), mail_from: text(f, "mail_from"), digest: text(f, "digest"),
                   bot_token: text(f, "bot_token"), slack_channel: text(f, "slack_channel"),
                   interact_secret: text(f, "interact_secret") };
    // (a SigningSecret message each; a refusal names signing_secrets[0].secret)
    if (text(f, "signing_secrets")) body.signing_secrets = [{ secret: text(f, "signing_secrets") }];
    if (text(f, "mail_to")) body.mail_to = text(f, "mail_to").split(",").map((s) => s.trim()).filter(Boolean);
    submit(f, "POST", "/api/v1/channels", body, null, "Channel created", again);
  });

  // Buttons: map a chat user to a pmo subject and roles (and set or change
  // the interact secret); the notifier refuses a role the person mapping
  // does not hold, naming the grant
  const interactive = channels.filter((c) => INTERACTIVE.includes(c.kind));
  // (named "grants": the notifier's refusal names chat_users[n].grants[n])
  const grantUnit = unitSelect(units, units[0] && units[0].id, false);
  grantUnit.name = "grants";
  const chatForm = h("form", { class: "inline", id: "chat-user-form", "aria-label": "Map a chat user" },
    field("Channel", choice("channel_id", interactive.map((c) => c.id), interactive[0] && interactive[0].id)),
    field("Interact secret", h("input", { name: "interact_secret", type: "password", size: 20, autocomplete: "off" }), "blank: keep"),
    field("Chat user id", h("input", { name: "chat_user_id", size: 12 }), "Slack: U…; Mattermost: the user id"),
    field("PMO subject", h("input", { name: "subject", size: 16, placeholder: "jane@dft" })),
    field("Role", choice("role", ROLES, "project_manager")),
    field("In unit", grantUnit),
    field("E-mail", h("input", { name: "email", type: "email" }), "for people reading the mapping"),
    h("button", { type: "submit" }, "Map"), errorLine());
  chatForm.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const f = chatForm;
    const c = channels.find((x) => x.id === text(f, "channel_id"));
    if (!c) return;
    const body = {};
    if (text(f, "interact_secret")) body.interact_secret = text(f, "interact_secret");
    if (text(f, "chat_user_id")) {
      const user = { chat_user_id: text(f, "chat_user_id"), subject: text(f, "subject"), email: text(f, "email"),
                     grants: [{ role: text(f, "role"), org_unit: text(f, "grants") }] };
      body.chat_users = (c.chat_users || []).filter((u) => u.chat_user_id !== user.chat_user_id).concat([user]);
    }
    submit(f, "PATCH", `/api/v1/channels/${encodeURIComponent(c.id)}`, body, { "If-Match": `"${c.version}"` },
      "Chat user mapped", again);
  });
  const forget = (c, u) => h("button", { type: "button", "data-forget": u.chat_user_id, onclick: async () => {
    try {
      await api("PATCH", `/api/v1/channels/${encodeURIComponent(c.id)}`,
        { chat_users: (c.chat_users || []).filter((x) => x.chat_user_id !== u.chat_user_id) }, { "If-Match": `"${c.version}"` });
      toast(`Forgot ${u.chat_user_id}`); again();
    } catch (e) { toast(explain(e), true); } } }, "Forget");
  const people = interactive.flatMap((c) => (c.chat_users || []).map((u) => ({ c, u })));

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
             { title: "Where", cell: (c) => c.slack_channel || c.url || (c.mail_to || []).join(", ") || "not set" },
             { title: "Buttons", cell: (c) => !INTERACTIVE.includes(c.kind) ? "links only" :
                 c.interact_secret ? `on, ${(c.chat_users || []).length} mapped` : "off (no interact secret)" },
             { title: "Signing", cell: (c) => signing(c) },
             { title: "State", cell: (c) => (c.disabled ? `disabled: ${c.disabled_reason || "no reason"}` : "enabled") },
             { title: "Test", cell: (c) => { const cell = h("div", {}); cell.append(h("button", { type: "button", "data-test": c.id, "aria-label": `Send a test to ${c.name}`,
                 onclick: () => testSend(c, cell) }, "Send a test")); return cell; } },
             { title: "Change", cell: (c) => channelActions(c, again) }],
            channels, "No channels.", "Channels"),
      rotated,
      h("details", { class: "more" }, h("summary", {}, "A new channel"), channelForm)),
    interactive.length ? h("section", { class: "card", id: "chat-users" }, h("h2", {}, "Who may click"),
      table([{ title: "Channel", cell: (p) => p.c.name }, { title: "Chat user", cell: (p) => p.u.chat_user_id },
             { title: "Acts as", cell: (p) => p.u.subject },
             { title: "Roles", cell: (p) => (p.u.grants || []).map((g) => `${label(g.role)} in ${g.org_unit}`).join(", ") },
             { title: "Action", cell: (p) => forget(p.c, p.u) }],
            people, "Nobody is mapped: clicks are answered, not obeyed.", "Chat users"),
      h("details", { class: "more" }, h("summary", {}, "Map a chat user"), chatForm)) : null,
    h("section", { class: "card", id: "subscriptions" }, h("h2", {}, "Subscriptions"),
      table([{ title: "Channel", cell: (s) => name(s.channel_id) }, { title: "Unit", cell: (s) => s.org_unit },
             { title: "Project", cell: (s) => s.project_id || "all" }, { title: "Events", cell: (s) => (s.event_types || []).join(", ") || "all" },
             { title: "At least", cell: (s) => label(s.min_severity) || "any" }, { title: "Quiet hours", cell: (s) => s.quiet_hours || "none" },
             { title: "Action", cell: (s) => subscriptionActions(s, channels.find((c) => c.id === s.channel_id), units, again) }],
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
