// planner.js: benefits and portfolio decisions (the planner service): the
// benefits register, its roll-up, scoring and the ranked list, and
// scenarios. One view with four sections, each its own module; the
// section and its choices live in the hash (#/planner?tab=...).

import { placeholder, up } from "../core/api.js";
import { h } from "../core/dom.js";

export const title = "Benefits and planning";

const TABS = {
  benefits: { label: "Benefits register", load: () => import("./planner-benefits.js").then((m) => m.benefits) },
  rollup: { label: "Roll-up", load: () => import("./planner-benefits.js").then((m) => m.rollup) },
  ranking: { label: "Scoring and ranking", load: () => import("./planner-ranking.js").then((m) => m.ranking) },
  scenarios: { label: "Scenarios", load: () => import("./planner-scenarios.js").then((m) => m.scenarios) },
};

// The hash for a section with its parameters (empty ones left out)
export function plannerHash(tab, params) {
  const q = new URLSearchParams({ tab });
  for (const [k, v] of Object.entries(params || {})) if (v !== undefined && v !== null && v !== "") q.set(k, v);
  return "#/planner?" + q;
}

export async function render(params, view) {
  if (!up("planner")) {
    view.replaceChildren(h("div", { class: "card" }, h("h1", {}, title), placeholder("Benefits, scoring and scenarios", "planner")));
    return;
  }
  const tab = TABS[params.get("tab")] ? params.get("tab") : "benefits";
  // Not a <nav> element: the page's nav style is the header's (light on dark)
  const nav = h("div", { class: "toolbar", role: "navigation", "aria-label": "Planner sections" },
    Object.entries(TABS).map(([name, t]) => h("a", { href: plannerHash(name, { unit: params.get("unit") }), "data-tab": name,
                                                     "aria-current": name === tab ? "page" : null,
                                                     class: name === tab ? "pill" : null }, t.label)));
  const body = h("div", { id: "planner-body" });
  view.replaceChildren(h("h1", {}, title), nav, body);
  await (await TABS[tab].load())(params, body);
}
