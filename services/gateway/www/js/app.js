// app.js: the dashboard's entry: sign-in, the navigation and the router.
//
// Each view is an ES module under views/ (no build step) exporting
// `title` and `render(params, viewElement, id)`; it is loaded the first
// time it is opened. To add a view: write views/NAME.js and add one line to
// VIEWS below (nav: true puts it in the navigation). The URL's hash is the
// whole state of a view (#/NAME/ID?query), so every view can be bookmarked
// and the back button works.

import { api, explain, readServices, state, TOKEN_KEY } from "./core/api.js";
import { h } from "./core/dom.js";
import { label } from "./core/format.js";
import { stopLive } from "./core/live.js";
import { sso } from "./core/sso.js";

const VIEWS = {
  inbox: { load: () => import("./views/inbox.js"), nav: "My work" },
  portfolio: { load: () => import("./views/portfolio.js"), nav: "Portfolio" },
  roadmap: { load: () => import("./views/roadmap.js"), nav: "Roadmap" },
  portfolios: { load: () => import("./views/portfolios.js"), nav: "Portfolios" },
  capacity: { load: () => import("./views/capacity.js"), nav: "Capacity" },
  resources: { load: () => import("./views/resources.js"), nav: "Resources" },
  risks: { load: () => import("./views/risks.js"), nav: "Risk matrix" },
  alerts: { load: () => import("./views/alerts.js"), nav: "Alerts & activity" },
  notifications: { load: () => import("./views/notifications.js"), nav: "Notifications" },
  planner: { load: () => import("./views/planner.js"), nav: "Benefits & planning" },
  units: { load: () => import("./views/units.js"), nav: "Org units" },
  tokens: { load: () => import("./views/tokens.js"), nav: "Tokens" },
  transfers: { load: () => import("./views/transfers.js"), nav: "Import & export" },
  project: { load: () => import("./views/project.js") },
};
const HOME = "portfolio";

function buildNav() {
  const nav = document.getElementById("nav");
  nav.replaceChildren(h("ul", {}, Object.entries(VIEWS).filter(([, v]) => v.nav).map(([name, v]) =>
    h("li", {}, h("a", { href: "#/" + name, "data-view": name }, v.nav)))));
}

// The navigation's count of what waits on the signed-in person (My work),
// refreshed at most once a minute as views change
let countAt = 0;
async function updateCount(force, known) {
  if (!state.who || (!force && Date.now() - countAt < 60000)) return;
  countAt = Date.now();
  const n = known !== undefined ? known : await (await import("./views/inbox.js")).countMyWork();
  const link = document.querySelector('#nav a[data-view="inbox"]');
  if (!link) return;
  link.querySelector(".count")?.remove();
  if (n) link.append(" ", h("span", { class: "count", "data-count": n, "aria-label": `(${n} waiting)` }, String(n)));
}
state.updateCount = updateCount;

function signOut(message) {
  sso.signOut();
  sessionStorage.removeItem(TOKEN_KEY);
  state.token = null;
  state.who = null;
  state.units = null;
  countAt = 0;
  stopLive();
  showSignIn(message);
}

function showSignIn(message) {
  document.getElementById("nav").hidden = true;
  document.getElementById("who").hidden = true;
  document.getElementById("view").replaceChildren();
  document.getElementById("signin").hidden = false;
  document.getElementById("signin-error").textContent = message || "";
  document.body.dataset.ready = "signin";
}

async function signIn(token) {
  state.token = token;
  try {
    const res = await api("GET", "/api/v1/whoami");
    state.who = res.json;
  } catch (e) {
    state.token = null;
    throw e;
  }
  if (token) sessionStorage.setItem(TOKEN_KEY, token); // else signed in by single sign-on
  document.getElementById("signin").hidden = true;
  document.getElementById("nav").hidden = false;
  document.getElementById("who").hidden = false;
  document.getElementById("who-name").textContent =
    `${state.who.subject} · ${state.who.grants.map((g) => `${label(g.role)}@${g.org_unit}`).join(", ")}`;
}

let routing = 0;

async function route() {
  stopLive();
  if (!state.who) return;
  const mine = ++routing;
  const hash = location.hash || "#/" + HOME;
  const [path, query] = hash.slice(1).split("?");
  const params = new URLSearchParams(query || "");
  const parts = path.split("/").filter(Boolean);
  const name = VIEWS[parts[0]] ? parts[0] : HOME;
  document.querySelectorAll("#nav a").forEach((a) => {
    const active = a.dataset.view === name;
    a.classList.toggle("active", active);
    if (active) a.setAttribute("aria-current", "page"); else a.removeAttribute("aria-current");
  });
  document.body.dataset.view = name;
  delete document.body.dataset.ready;
  const view = document.getElementById("view");
  await readServices();
  try {
    const module = await VIEWS[name].load();
    if (mine !== routing) return;
    document.title = `pmo · ${module.title}`;
    await module.render(params, view, parts[1] ? decodeURIComponent(parts[1]) : undefined);
  } catch (e) {
    view.replaceChildren(h("div", { class: "card error", role: "alert" }, explain(e)));
  }
  if (mine !== routing) return;
  // A user-timing mark: time from navigation to a usable view (devtools,
  // the benchmark)
  performance.mark("pmo:ready:" + name);
  // The navigation's count can wrap the header onto another line, moving
  // the view under the pointer: the view is called ready once it is in
  // place (a click aimed before the count arrived landed elsewhere)
  if (name !== "inbox") await updateCount();
  if (mine !== routing) return;
  // data-route says which URL the drawn view is for (tests wait on it)
  document.body.dataset.route = hash;
  document.body.dataset.ready = name;
}

state.onUnauthorized = signOut;
state.refresh = route;
buildNav();

document.getElementById("signin-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const token = document.getElementById("token").value.trim();
  try {
    await signIn(token);
    document.getElementById("token").value = "";
    route();
  } catch (e) {
    document.getElementById("signin-error").textContent =
      e.status === 401 ? "That token was refused." : explain(e);
  }
});
document.getElementById("sign-out").addEventListener("click", () => signOut());
// The skip link moves focus, not the hash (the hash is the view)
document.querySelector(".skip").addEventListener("click", (ev) => {
  ev.preventDefault();
  document.getElementById("main").focus();
});
window.addEventListener("hashchange", route);

(async function start() {
  await readServices();
  if (state.token) {
    try {
      await signIn(state.token);
      return route();
    } catch (e) {
      sessionStorage.removeItem(TOKEN_KEY);
    }
  }
  // Single sign-on: back from the provider with a session, or offer it
  if ((await sso.offer()) && (await sso.session())) {
    try {
      await signIn(null);
      return route();
    } catch (e) {
      sso.csrf = null;
    }
  }
  showSignIn();
})();
