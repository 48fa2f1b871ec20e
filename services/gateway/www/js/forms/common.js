// common.js: what the forms share: RAG and enum selects, money inputs in
// major units (sent as minor units), and submitting with the error shown
// at the field the service names.

import { api, newKey, showFormError } from "../core/api.js";
import { h, toast } from "../core/dom.js";
import { label } from "../core/format.js";

export function choice(name, values, selected, blank) {
  return h("select", { name }, blank ? h("option", { value: "" }, blank) : null,
    values.map((v) => h("option", { value: v, selected: v === selected }, label(v))));
}

export const RAGS = ["green", "amber", "red"];

export function ragSelect(name, selected, blank) {
  return choice(name, RAGS, selected, blank);
}

// An amount in the currency's major unit (pounds), two decimals at most
export function moneyInput(name, attrs) {
  return h("input", Object.assign({ name, type: "number", min: 0, step: "0.01", inputmode: "decimal" }, attrs || {}));
}

export function minor(value) {
  if (value === null || value === undefined || String(value).trim() === "") return undefined;
  return Math.round(Number(value) * 100);
}

// The form's text value, or undefined when blank (so it is not sent)
export function text(form, name) {
  const v = new FormData(form).get(name);
  return v === null || String(v).trim() === "" ? undefined : String(v).trim();
}

export function int(form, name) {
  const v = text(form, name);
  return v === undefined ? undefined : Number(v);
}

// Send the form's body; on success toast and call done, else show the
// error at its field. The button is disabled while the request runs.
export async function submit(form, method, path, body, headers, okText, done) {
  const button = form.querySelector("button[type=submit]");
  if (button) button.disabled = true;
  try {
    const res = await api(method, path, body, Object.assign({ "Idempotency-Key": newKey() }, headers || {}));
    form.querySelectorAll("[aria-invalid]").forEach((el) => el.removeAttribute("aria-invalid"));
    form.querySelectorAll(".field-error").forEach((el) => el.remove());
    const line = form.querySelector(".error");
    if (line) line.textContent = "";
    toast(okText + (res.warning ? ` (${res.warning})` : ""));
    if (done) await done(res);
    return res;
  } catch (e) {
    showFormError(form, e);
    return null;
  } finally {
    if (button) button.disabled = false;
  }
}

export function errorLine() {
  return h("p", { class: "error", role: "alert" });
}
