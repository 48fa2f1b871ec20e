// channel.js: a channel and a subscription changed from their row. A
// channel: its digest (events below a severity batched into one message an
// hour or a day), its webhook signing secret rotated (a new secret made
// here, shown once, never kept by the page; the old one keeps signing for
// the overlap asked, shown in the row until it ends) or the channel
// archived. A subscription: its unit, project, event types, least
// severity and quiet hours (the notifier's rules for a new one; a
// subscription stays with its channel; its digest is the channel's, shown
// in the form). The notifier's refusals are shown
// at their field.

import { api, explain, showFormError, unitSelect } from "../core/api.js";
import { field, h, toast } from "../core/dom.js";
import { dateTime } from "../core/format.js";
import { choice, errorLine, submit, text } from "./common.js";

const SEVERITIES = ["info", "low", "medium", "high", "critical"];

// The secret of the last rotation, for the next drawing of the view only
let rotated = null;

export function takeRotated() {
  const r = rotated;
  rotated = null;
  if (!r) return null;
  return h("div", { class: "card secret", id: "channel-secret", role: "status" },
    h("p", {}, h("strong", {}, `Copy the new signing secret of ${r.name} now: it is shown only once.`),
      " Give it to the receiver. Messages now carry two signatures: the new secret's, and the old one's until ",
      h("span", { "data-overlap-until": r.until }, dateTime(r.until)), "."),
    h("label", { for: "new-signing-secret" }, "New signing secret"),
    h("input", { id: "new-signing-secret", readonly: true, value: r.secret, size: 60 }));
}

// A webhook channel's signing secrets: the current one since when, and the
// old ones still signing until when (the rotation's overlap)
export function signing(c) {
  const secrets = c.signing_secrets || [];
  if (!secrets.length) return c.kind === "webhook" ? "none" : "not signed";
  const now = Date.now();
  const current = secrets.find((x) => !Number(x.expires_ms));
  const old = secrets.filter((x) => Number(x.expires_ms) > now);
  return h("div", { "data-signing": c.id },
    current ? `current since ${dateTime(current.created_ms)}` : "current",
    old.map((x) => h("div", { class: "overlap", "data-old-until": x.expires_ms }, `previous one signs until ${dateTime(x.expires_ms)}`)));
}

// A channel's digest in words: "none", or "daily, events below medium"
function digestText(c) {
  if (!c || !c.digest || c.digest === "none") return "none: every event is its own message";
  return `${c.digest}, events below ${c.digest_below || "medium"}`;
}

// "whsec_" and the base64 of 32 random bytes (Standard Webhooks)
function newSecret() {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return "whsec_" + btoa(String.fromCharCode(...bytes));
}

export function channelActions(c, done) {
  const path = `/api/v1/channels/${encodeURIComponent(c.id)}`;
  const ifMatch = { "If-Match": `"${c.version}"` };
  const form = h("form", { class: "inline compact", "data-channel-edit": c.id, "aria-label": `Change ${c.name}` },
    field("Digest", choice("digest", ["none", "hourly", "daily"], c.digest || "none")),
    field("Digest below", choice("digest_below", SEVERITIES, c.digest_below, "medium (default)"), "events under this severity wait for the digest"),
    h("button", { type: "submit" }, "Save"), errorLine());
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const body = { digest: text(form, "digest") };
    if (text(form, "digest_below")) body.digest_below = text(form, "digest_below");
    submit(form, "PATCH", path, body, ifMatch, `${c.name} saved`, done);
  });
  // Rotation: only webhooks are signed (the notifier says so for others)
  const rotate = c.kind !== "webhook" ? null : h("form", { class: "inline compact", "data-rotate": c.id, "aria-label": `Rotate the signing secret of ${c.name}` },
    field("Old secret signs for (hours)", h("input", { name: "previous_valid_s", type: "number", min: 1, step: 1, value: 24, size: 5 }),
      "at most 30 days; meanwhile both secrets sign"),
    h("button", { type: "submit" }, "Rotate the signing secret"), errorLine());
  if (rotate)
    rotate.addEventListener("submit", (ev) => {
      ev.preventDefault();
      const secret = newSecret();
      const hours = Number(text(rotate, "previous_valid_s") || 24);
      submit(rotate, "POST", `${path}/rotate-secret`, { secret, previous_valid_s: Math.round(hours * 3600) }, ifMatch,
        `Signing secret of ${c.name} rotated`, (res) => {
          const old = (res.json.signing_secrets || []).map((x) => Number(x.expires_ms)).filter(Boolean);
          rotated = { name: c.name, secret, until: old.length ? Math.max(...old) : 0 };
          return done();
        });
    });
  const archive = h("form", { class: "inline compact", "data-archive-channel": c.id, "aria-label": `Archive ${c.name}` },
    h("button", { type: "submit" }, `Archive ${c.name}`), errorLine());
  archive.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      await api("DELETE", path, undefined, ifMatch);
      toast(`${c.name} archived: nothing more is sent to it`);
      done();
    } catch (e) {
      showFormError(archive, e);
    }
  });
  return h("details", { class: "more", "data-channel-actions": c.id }, h("summary", {}, `Change ${c.name}…`), form, rotate, archive);
}

// Change a subscription (the whole of it, with the version read: PUT) or
// stop it
// (channel: the subscription's, for its digest, which is the channel's)
export function subscriptionActions(s, channel, units, done) {
  const channelName = channel ? channel.name : s.channel_id;
  const path = `/api/v1/subscriptions/${encodeURIComponent(s.id)}`;
  const ifMatch = { "If-Match": `"${s.version}"` };
  const what = `${channelName} for ${s.project_id || s.org_unit}`;
  const form = h("form", { class: "inline compact", "data-subscription-edit": s.id, "aria-label": `Change the subscription of ${what}` },
    field("Org unit", unitSelect(units, s.org_unit, false)),
    field("Project id", h("input", { name: "project_id", size: 12, value: s.project_id || "" }), "blank: the whole unit"),
    field("Events", h("input", { name: "event_types", size: 20, value: (s.event_types || []).join(", ") }), "comma-separated; blank: all"),
    field("At least", choice("min_severity", SEVERITIES, s.min_severity, "any severity")),
    field("Quiet hours", h("input", { name: "quiet_hours", size: 12, value: s.quiet_hours || "", placeholder: "22:00-07:00" }), "UTC; blank: none"),
    h("p", { class: "hint wide", "data-digest": (channel && channel.digest) || "none" },
      `Digest: the channel's (${digestText(channel)}); change it in the channel's row.`),
    h("button", { type: "submit" }, "Save"), errorLine());
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const body = { channel_id: s.channel_id, org_unit: text(form, "org_unit"), project_id: text(form, "project_id") || "",
                   event_types: (text(form, "event_types") || "").split(",").map((x) => x.trim()).filter(Boolean),
                   quiet_hours: text(form, "quiet_hours") || "" };
    if (text(form, "min_severity")) body.min_severity = text(form, "min_severity");
    submit(form, "PUT", path, body, ifMatch, "Subscription saved", done);
  });
  const stop = h("button", { type: "button", "data-unsubscribe": s.id, "aria-label": `Stop the subscription of ${what}`, onclick: async () => {
    try {
      await api("DELETE", path, undefined, ifMatch);
      toast("Subscription stopped");
      done();
    } catch (e) {
      toast(explain(e), true);
    }
  } }, "Stop");
  return h("div", {}, stop, h("details", { class: "more", "data-subscription-actions": s.id }, h("summary", {}, "Change…"), form));
}
