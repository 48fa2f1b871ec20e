// tokens.js: API tokens: those the signed-in person may see, a new one
// (its secret shown once, here only), and revoking one.

import { api, explain, orgUnits, state } from "../core/api.js";
import { field, h, table, toast } from "../core/dom.js";
import { dateTime, label } from "../core/format.js";
import { choice, errorLine, submit, text } from "../forms/common.js";

export const title = "API tokens";

const ROLES = ["viewer", "team_member", "project_manager", "programme_manager", "resource_manager", "risk_manager",
               "sponsor", "pmo_analyst", "pmo_manager", "pmo_director", "admin"];

export async function render(params, view) {
  let tokens;
  try {
    tokens = (await api("GET", "/api/v1/tokens?limit=200&include_revoked=true")).json.items;
  } catch (e) {
    view.replaceChildren(h("h1", {}, "API tokens"), h("p", { class: "error", role: "alert" }, explain(e)));
    return;
  }
  const units = await orgUnits();
  const secret = h("div", { id: "token-secret", "aria-live": "polite" });
  const form = h("form", { class: "card inline", id: "token-form", "aria-label": "A new API token" },
    h("h2", { class: "wide" }, "A new token"),
    field("Name", h("input", { name: "name", required: true, placeholder: "CI export" })),
    field("Subject", h("input", { name: "subject", required: true, placeholder: "jane@dft" }), "who acts with it"),
    field("Role", choice("role", ROLES, "viewer")),
    field("Org unit", choice("org_unit", units.map((u) => u.id), units[0] && units[0].id)),
    field("Expires", h("input", { name: "expires", type: "date" }), "blank: never"),
    h("button", { type: "submit", class: "primary" }, "Create token"), errorLine());
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const body = { name: text(form, "name"), subject: text(form, "subject"), grants: [{ role: text(form, "role"), org_unit: text(form, "org_unit") }] };
    if (text(form, "expires")) body.expires_ms = Date.parse(text(form, "expires") + "T23:59:59");
    submit(form, "POST", "/api/v1/tokens", body, null, "Token created", (res) => {
      secret.replaceChildren(h("div", { class: "card secret" },
        h("p", {}, h("strong", {}, "Copy this token now: it is shown only once."), " It works at once; keep it like a password."),
        h("label", { for: "new-secret" }, "Token"), h("input", { id: "new-secret", readonly: true, value: res.json.secret, size: 60 })));
      list(view, secret, form);
    });
  });
  view.replaceChildren(h("h1", {}, "API tokens"), secret, form, h("section", { class: "card", id: "tokens" }, h("h2", {}, "Tokens")));
  list(view, secret, form, tokens);
}

async function list(view, secret, form, items) {
  const box = view.querySelector("#tokens");
  if (!items) {
    try { items = (await api("GET", "/api/v1/tokens?limit=200&include_revoked=true")).json.items; } catch (e) { box.replaceChildren(h("h2", {}, "Tokens"), h("p", { class: "error" }, explain(e))); return; }
  }
  box.replaceChildren(h("h2", {}, "Tokens"), table([
    { title: "Name", cell: (t) => t.name }, { title: "Subject", cell: (t) => t.subject },
    { title: "Grants", cell: (t) => (t.grants || []).map((g) => `${label(g.role)}@${g.org_unit}`).join(", ") },
    { title: "Created", cell: (t) => `${dateTime(t.created_ms)} by ${t.created_by}` },
    { title: "Expires", cell: (t) => (Number(t.expires_ms) ? dateTime(t.expires_ms) : "never") },
    { title: "State", cell: (t) => (t.revoked ? `revoked ${dateTime(t.revoked_ms)}` : "active") },
    { title: "Action", cell: (t) => t.revoked || t.id === (state.who.token && state.who.token.id) ? "" :
        h("button", { type: "button", "data-revoke": t.id, "aria-label": `Revoke ${t.name}`, onclick: async () => {
          try { await api("DELETE", `/api/v1/tokens/${encodeURIComponent(t.id)}`); toast(`Revoked ${t.name}`); list(view, secret, form); }
          catch (e) { toast(explain(e), true); } } }, "Revoke") }],
    items, "No tokens.", "API tokens"));
}
