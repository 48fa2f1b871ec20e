// api.js: the gateway's /api/v1 with the bearer token the person signed in
// with (sessionStorage) or their single sign-on session, the services'
// status from /readyz, and the small shared state of a signed-in session.

import { h } from "./dom.js";
import { sso } from "./sso.js";

export const TOKEN_KEY = "pmo.token";

export const state = {
  token: sessionStorage.getItem(TOKEN_KEY),
  who: null,
  services: {},             // name -> "up" | "down" | "absent" | "degraded"
  units: null,              // org units, read once per sign-in (small)
  live: null,               // the open live-event stream of the current view
  onUnauthorized: null,     // set by app.js: a refused token signs out
  refresh: null,            // set by app.js: draw the current view again
};

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem && problem.detail ? problem.detail : `HTTP ${status}`);
    this.status = status;
    this.problem = problem || {};
  }
}

export async function api(method, path, body, headers) {
  const init = { method, headers: Object.assign({ Accept: "application/json" }, sso.headers(method),
                                                headers || {}) };
  if (state.token) init.headers.Authorization = "Bearer " + state.token;
  if (body instanceof FormData) {
    init.body = body; // multipart: the browser writes the Content-Type and its boundary
  } else if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const res = await fetch(path, init);
  let json = null;
  const type = res.headers.get("Content-Type") || "";
  if (type.includes("json")) json = await res.json();
  if (res.status === 401 && path !== "/api/v1/whoami" && state.onUnauthorized)
    state.onUnauthorized("Your token was refused (revoked or expired). Sign in again.");
  if (!res.ok) throw new ApiError(res.status, json);
  return { status: res.status, json, etag: res.headers.get("ETag"),
           warning: res.headers.get("Warning") };
}

// Save what the API answers at path as a file: the name the gateway gives
// (Content-Disposition), else fallback. A plain link cannot send the bearer
// token, so the answer is fetched and handed to the browser as a blob.
export async function download(path, fallback) {
  const headers = Object.assign({}, sso.headers("GET"));
  if (state.token) headers.Authorization = "Bearer " + state.token;
  const res = await fetch(path, { headers });
  if (!res.ok) {
    const problem = (res.headers.get("Content-Type") || "").includes("json") ? await res.json() : null;
    if (res.status === 401 && state.onUnauthorized) state.onUnauthorized("Your token was refused (revoked or expired). Sign in again.");
    throw new ApiError(res.status, problem);
  }
  const named = /filename="?([^";]+)"?/.exec(res.headers.get("Content-Disposition") || "");
  const url = URL.createObjectURL(await res.blob());
  const a = h("a", { href: url, download: named ? named[1] : fallback, hidden: true });
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

export function explain(err) {
  if (err instanceof ApiError) {
    const p = err.problem;
    return `${p.title || err.status}: ${p.detail || ""}${p.field ? " (" + p.field + ")" : ""}`;
  }
  return String(err);
}

// Show an API error at the form: next to the control the problem names
// (its "field"), else in the form's error line. Returns the message.
export function showFormError(form, err) {
  form.querySelectorAll("[aria-invalid]").forEach((el) => el.removeAttribute("aria-invalid"));
  form.querySelectorAll(".field-error").forEach((el) => el.remove());
  const text = explain(err);
  // The problem's field may be "pv_minor", "status_report.pv_minor" or
  // "cost_impact.minor": the first of its parts a control is named after
  const parts = err instanceof ApiError && err.problem.field ? err.problem.field.split(".") : [];
  let control = null, name = null;
  // ("profile[2].period" may also land on a control named "profile")
  const whole = parts.map((x) => x.replace(/\[\d+\]$/, ""));
  for (const candidate of [parts.join("."), parts[parts.length - 1], ...parts, ...whole]) {
    control = candidate ? form.querySelector(`[name="${CSS.escape(candidate)}"]`) : null;
    if (control) { name = candidate; break; }
  }
  if (control) {
    control.setAttribute("aria-invalid", "true");
    const id = (control.id || name) + "-error";
    control.setAttribute("aria-errormessage", id);
    control.closest(".field").append(h("span", { class: "field-error", id, role: "alert" }, text));
    control.focus();
  }
  const line = form.querySelector(".error");
  if (line) line.textContent = control ? "" : text;
  return text;
}

// A fresh Idempotency-Key (crypto.randomUUID needs a secure context)
export function newKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

export function serviceTitle(name) {
  return { registry: "the project registry", allocator: "the resource allocator",
           riskmon: "the risk monitor", notifier: "the notifier", gateway: "the gateway" }[name] || name;
}

export function up(service) {
  return state.services[service] === "up" || state.services[service] === "degraded";
}

export function placeholder(what, service) {
  const status = state.services[service] || "absent";
  return h("div", { class: "placeholder", "data-placeholder": service },
    `${what}: not available: ${serviceTitle(service)} is not running` +
    (status === "down" ? " (it does not answer)" : "") + ".");
}

// /readyz asks every service for a ping, so a busy service slows it: read
// at most every 10 s (and at once after a refusal or sign-in); once read,
// a stale answer is refreshed in the background, never waited for
let servicesAt = 0;

export async function readServices(force) {
  if (!force && Date.now() - servicesAt < 10000) return;
  const first = !servicesAt;
  servicesAt = Date.now();
  if (!force && !first) {
    readServicesNow();
    return;
  }
  await readServicesNow();
}

// A service seen answering is called down only when two reads in a row
// miss its ping: on a busy machine one ping can miss the gateway's 500 ms,
// and the views would otherwise switch to their reduced forms (and their
// exports to fewer filters) between one click and the next
const missed = new Set();

async function readServicesNow() {
  try {
    const res = await fetch("/readyz");
    const json = await res.json();
    const was = state.services || {};
    state.services = {};
    for (const [name, s] of Object.entries(json.services || {})) {
      const answered = was[name] === "up" || was[name] === "degraded";
      if (s.status === "down" && answered && !missed.has(name)) {
        missed.add(name);
        state.services[name] = was[name];
        continue;
      }
      if (s.status !== "down") missed.delete(name);
      state.services[name] = s.status;
    }
  } catch (e) {
    state.services = {};
  }
  const box = document.getElementById("services");
  box.replaceChildren();
  for (const name of ["registry", "allocator", "riskmon", "notifier"]) {
    const status = state.services[name] || "absent";
    box.append(h("span", { class: "svc " + status, title: `${serviceTitle(name)}: ${status}`,
                           "data-service": name, "data-status": status },
      h("span", { class: "sr-only" }, `${serviceTitle(name)}: `), name,
      h("span", { class: "sr-only" }, ` ${status}`)));
  }
}

export async function orgUnits() {
  if (!state.units) {
    const res = await api("GET", "/api/v1/org-units");
    state.units = res.json.items;
  }
  return state.units;
}

export function unitSelect(units, selected, withAll) {
  const select = h("select", { name: "org_unit" });
  if (withAll) select.append(h("option", { value: "" }, "Enterprise (all you may see)"));
  for (const u of units) {
    const depth = (u.path.match(/\//g) || []).length;
    select.append(h("option", { value: u.id, selected: u.id === selected },
      "\u00a0\u00a0".repeat(depth) + u.name + " (" + u.id + ")"));
  }
  return select;
}
