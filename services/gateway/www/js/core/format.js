// format.js: one way to show each kind of value, everywhere.
// Dates are ISO 8601 (2026-12-06; times 2026-12-06 19:09 in the browser's
// time zone), money is the currency's own symbol with thousands separators
// and no pence (£440,000), and a value nobody knows is "unknown", never 0.

import { h } from "./dom.js";

export const UNKNOWN = "unknown";

const pad = (n) => String(n).padStart(2, "0");

// A date-only value ("2026-12-06") as it is; a timestamp in ms as ISO date
export function date(value) {
  if (value === null || value === undefined || value === "" || value === 0 || value === "0") return UNKNOWN;
  if (typeof value === "string" && /^\d{4}-\d{2}-\d{2}/.test(value)) return value.slice(0, 10);
  const d = new Date(Number(value));
  if (Number.isNaN(d.getTime())) return UNKNOWN;
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

// A timestamp in ms, local time to the minute
export function dateTime(ms) {
  if (!ms || ms === "0") return UNKNOWN;
  const d = new Date(Number(ms));
  if (Number.isNaN(d.getTime())) return UNKNOWN;
  return `${date(ms)} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

export function time(ms) {
  const d = new Date(Number(ms));
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

const formats = new Map();

function currencyFormat(currency) {
  if (!formats.has(currency)) {
    let f;
    try {
      f = new Intl.NumberFormat("en-GB", { style: "currency", currency, maximumFractionDigits: 0,
                                           minimumFractionDigits: 0 });
    } catch (e) {
      // Not an ISO 4217 code: the code in front of the number
      const n = new Intl.NumberFormat("en-GB", { maximumFractionDigits: 0 });
      f = { format: (v) => `${currency} ${n.format(v)}` };
    }
    formats.set(currency, f);
  }
  return formats.get(currency);
}

// A Money message ({ minor, currency }) or minor units and a currency
export function money(m, currency) {
  if (m === null || m === undefined) return UNKNOWN;
  if (typeof m !== "object") m = { minor: m, currency };
  if (m.minor === undefined || m.minor === null || m.minor === "") return UNKNOWN;
  const value = Number(m.minor) / 100;
  if (!Number.isFinite(value)) return UNKNOWN;
  if (!m.currency) return new Intl.NumberFormat("en-GB", { maximumFractionDigits: 0 }).format(value);
  return currencyFormat(m.currency).format(value);
}

export function ratio(has, value) {
  return has ? Number(value).toFixed(2) : UNKNOWN;
}

export function label(text) {
  return String(text || "").replace(/_/g, " ");
}

export function rag(value) {
  const v = value && value !== "unspecified" ? value : null;
  return h("span", { class: "rag " + (v || ""), "data-rag": v || "none" }, v ? v.toUpperCase() : UNKNOWN);
}

export function isoWeek(d) {
  const t = new Date(Date.UTC(d.getFullYear(), d.getMonth(), d.getDate()));
  const day = t.getUTCDay() || 7;
  t.setUTCDate(t.getUTCDate() + 4 - day);
  const year = t.getUTCFullYear();
  const week = Math.ceil(((t - Date.UTC(year, 0, 1)) / 86400000 + 1) / 7);
  return `${year}-W${pad(week)}`;
}

// The Monday of an ISO week ("2026-W49") as a Date (UTC)
export function weekMonday(week) {
  const m = /^(\d{4})-W(\d{2})$/.exec(week || "");
  if (!m) return null;
  const jan4 = new Date(Date.UTC(Number(m[1]), 0, 4));
  const monday = new Date(jan4);
  monday.setUTCDate(jan4.getUTCDate() - ((jan4.getUTCDay() || 7) - 1) + (Number(m[2]) - 1) * 7);
  return monday;
}
