// sso.test.mjs: single sign-on end to end, against a real OpenID provider
// (oidc-provider from npm, started here), the real pmo-registry and
// pmo-gateway binaries and the dashboard in headless Chromium (Debian's
// chromium, driven by playwright-core).
//
// - A person of the finance division signs in from the dashboard
//   (authorization code + PKCE at the provider's own login and consent
//   pages), sees the finance project and not the operations one, and the
//   API called with the session sees nothing of operations either; the
//   session cookie is HttpOnly and SameSite=Strict; a change without the
//   session's X-CSRF-Token is refused; sign-out ends the session (the old
//   cookie is refused) and the provider's session too.
// - A PMO manager of finance signs in the same way and works from My work
//   as that person: the navigation counts what waits on her, she decides a
//   change request there (the risk monitor records her, signed in by the
//   provider, as its approver), and signs out.
// - Someone the claims give no grants is told so and gets no session.
// - The provider's access tokens (JWT, client credentials) work on the API
//   beside pmo's own; tokens expired, from another issuer, for another
//   audience or signed by a key the provider never published are refused;
//   after the provider rotates its signing key, a token signed by the new
//   key is accepted (the gateway fetches the key set again).
// Exits non-zero on the first failure. Screenshots: $PMO_BUILD_DIR/sso-artifacts/.

import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as jose from "jose";
import { freePort } from "../support/ports.mjs";
import Provider from "oidc-provider";
import { makeKeys } from "../support/keys.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const build = process.env.PMO_BUILD_DIR || path.resolve(here, "../../build");
const artifacts = path.join(build, "sso-artifacts");
const chromiumPath = process.env.PMO_CHROMIUM || "/usr/bin/chromium";
const STEP_MS = 20000;

const children = [];
let tmp = null;

function log(...args) {
  console.log("sso:", ...args);
}

function check(ok, what) {
  if (!ok) throw new Error("FAILED: " + what);
  log("ok:", what);
}

function start(name, bin, args) {
  const child = spawn(bin, args, { stdio: ["ignore", "pipe", "pipe"] });
  const chunks = [];
  child.stdout.on("data", (d) => chunks.push(d));
  child.stderr.on("data", (d) => chunks.push(d));
  child.on("exit", () => writeFileSync(path.join(tmp, name + ".log"), Buffer.concat(chunks)));
  children.push({ name, child, chunks });
  return child;
}

async function waitFor(what, probe, ms = STEP_MS) {
  const deadline = Date.now() + ms;
  let last;
  while (Date.now() < deadline) {
    try {
      if (await probe()) return;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}${last ? ": " + last.message : ""}`);
}

// ---------------------------------------------------------------------
// The OpenID provider

async function signingKey(kid) {
  const { privateKey } = await jose.generateKeyPair("RS256", { extractable: true });
  return { ...(await jose.exportJWK(privateKey)), kid, alg: "RS256", use: "sig" };
}

const people = {
  fiona: { sub: "fiona", email: "fiona@fin.example", groups: ["fin-viewers"] },
  nadia: { sub: "nadia", email: "nadia@elsewhere.example", groups: ["contractors"] },
  priya: { sub: "priya", email: "priya@fin.example", groups: ["fin-pmo"] },
};

function makeProvider(issuer, base, keys) {
  const provider = new Provider(issuer, {
    clients: [
      { client_id: "pmo-dashboard", client_secret: "dashboard-secret-0123456789abcdef",
        redirect_uris: [base + "/auth/callback"], post_logout_redirect_uris: [base + "/"],
        grant_types: ["authorization_code"], response_types: ["code"] },
      { client_id: "pmo-cli", client_secret: "cli-secret-0123456789abcdef",
        grant_types: ["client_credentials"], response_types: [], redirect_uris: [], scope: "api" },
    ],
    jwks: { keys },
    async findAccount(ctx, id) {
      const person = people[id];
      return person ? { accountId: id, async claims() { return person; } } : undefined;
    },
    claims: { openid: ["sub"], email: ["email"], groups: ["groups"] },
    scopes: ["openid", "email", "groups", "api"],
    // The ID token carries the scopes' claims (pmo reads groups from it)
    conformIdTokenClaims: false,
    pkce: { required: () => true },
    cookies: { keys: ["sso-test-cookie-key"] },
    ttl: { AccessToken: 600, ClientCredentials: 600, IdToken: 600, Interaction: 600, Session: 3600,
           Grant: 3600, AuthorizationCode: 60 },
    features: {
      devInteractions: { enabled: true },
      clientCredentials: { enabled: true },
      rpInitiatedLogout: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => "urn:pmo:api",
        useGrantedResource: () => true,
        getResourceServerInfo: () => ({ scope: "api", audience: "urn:pmo:api", accessTokenFormat: "jwt",
                                        jwt: { sign: { alg: "RS256" } } }),
      },
    },
  });
  provider.proxy = false;
  return provider;
}

async function clientCredentials(issuer) {
  const res = await fetch(issuer + "/token", {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded",
               Authorization: "Basic " + Buffer.from("pmo-cli:cli-secret-0123456789abcdef").toString("base64") },
    body: "grant_type=client_credentials&scope=api&resource=" + encodeURIComponent("urn:pmo:api"),
  });
  const json = await res.json();
  if (!res.ok || !json.access_token) throw new Error("client credentials: " + JSON.stringify(json));
  return json.access_token;
}

// ---------------------------------------------------------------------

function stopAll() {
  for (const { child } of children.reverse()) {
    if (child.exitCode === null) child.kill("SIGTERM");
  }
}

async function main() {
  mkdirSync(artifacts, { recursive: true });
  tmp = mkdtempSync(path.join(os.tmpdir(), "pmo-sso-"));
  const ports = {};
  for (const name of ["redis", "registry", "registryPub", "riskmon", "riskmonPub", "gatewayZmq", "http", "idp"])
    ports[name] = await freePort();
  const base = `http://127.0.0.1:${ports.http}`;
  const issuer = `http://127.0.0.1:${ports.idp}`;

  // The provider, its handler swapped when it rotates its keys
  const keyA = await signingKey("key-a");
  let provider = makeProvider(issuer, base, [keyA]);
  let handler = provider.callback();
  const idpServer = http.createServer((req, res) => handler(req, res));
  await new Promise((resolve) => idpServer.listen(ports.idp, "127.0.0.1", resolve));

  const redisUrl = `redis://127.0.0.1:${ports.redis}`;
  start("redis", "redis-server", ["--port", String(ports.redis), "--bind", "127.0.0.1", "--dir", tmp,
                                  "--save", "", "--appendonly", "no"]);
  await waitFor("redis", () => new Promise((resolve) => {
    const s = net.connect(ports.redis, "127.0.0.1", () => { s.end(); resolve(true); });
    s.on("error", () => resolve(false));
  }));
  // Every service runs with its own key, as ./deploy/pmo up makes them
  makeKeys(build, tmp);
  const ep = (p) => `tcp://127.0.0.1:${p}`;
  const bin = (svc) => path.join(build, "services", svc, "pmo-" + svc);
  start("registry", bin("registry"), ["--redis", redisUrl, "--endpoint", ep(ports.registry),
                                      "--pub", ep(ports.registryPub)]);
  // The risk monitor: change requests, for My work
  start("riskmon", bin("riskmon"), ["--redis", redisUrl, "--endpoint", ep(ports.riskmon),
                                    "--pub", ep(ports.riskmonPub), "--registry", ep(ports.registry)]);
  const oidcFile = path.join(tmp, "oidc.json");
  writeFileSync(oidcFile, JSON.stringify({
    issuer, client_id: "pmo-dashboard", client_secret: "dashboard-secret-0123456789abcdef",
    redirect_uri: base + "/auth/callback", post_logout_redirect_uri: base + "/",
    audience: "urn:pmo:api", scopes: "openid email groups", jwks_min_interval_ms: 0,
    grants: [
      { claim: "groups", value: "fin-viewers", grants: [{ role: "viewer", org_unit: "fin" }] },
      { claim: "groups", value: "fin-pmo", grants: [{ role: "pmo_manager", org_unit: "fin" }] },
      { claim: "client_id", value: "pmo-cli", grants: [{ role: "viewer", org_unit: "fin" }] },
    ],
  }, null, 1));
  const tokenFile = path.join(tmp, "admin-token");
  const gateway = start("gateway", bin("gateway"), [
    "--redis", redisUrl, "--http", `127.0.0.1:${ports.http}`, "--endpoint", ep(ports.gatewayZmq),
    "--registry", ep(ports.registry), "--registry-pub", ep(ports.registryPub),
    "--allocator", "", "--allocator-pub", "", "--riskmon", ep(ports.riskmon), "--riskmon-pub", ep(ports.riskmonPub),
    "--notifier", "", "--notifier-pub", "", "--admin-token-file", tokenFile, "--oidc", oidcFile]);
  await waitFor("the gateway to be ready", async () => (await fetch(base + "/readyz")).ok);
  const admin = readFileSync(tokenFile, "utf8").trim();

  const api = async (method, p, body, headers = {}) => {
    const res = await fetch(base + p, {
      method, headers: { Authorization: "Bearer " + admin, "Content-Type": "application/json", ...headers },
      body: body ? JSON.stringify(body) : undefined });
    const json = res.headers.get("content-type")?.includes("json") ? await res.json() : null;
    if (!res.ok) throw new Error(`${method} ${p}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  };
  await api("POST", "/api/v1/org-units", { id: "hub", name: "Enterprise", kind: "enterprise",
                                            pmo_type: "directive", pmo_tier: "hub" });
  for (const [id, name] of [["fin", "Finance"], ["ops", "Operations"]])
    await api("POST", "/api/v1/org-units", { id, name, kind: "division", parent: "hub",
                                              pmo_type: "supportive", pmo_tier: "spoke" });
  const ledger = await api("POST", "/api/v1/projects", { code: "FIN-1", name: "Ledger renewal", org_unit: "fin" });
  await api("POST", "/api/v1/projects", { code: "OPS-1", name: "Secret depot move", org_unit: "ops" });
  // The provider's discovery and key set reach the gateway
  await waitFor("the gateway to read the provider", async () =>
    (await fetch(base + "/auth/login", { redirect: "manual" })).status === 303);

  // -------------------------------------------------------------------
  log("access tokens from the provider on the API");
  const bearer = (token, p = "/api/v1/projects") =>
    fetch(base + p, { headers: { Authorization: "Bearer " + token } });
  const cc = await clientCredentials(issuer);
  let res = await bearer(cc);
  check(res.status === 200, "a client-credentials access token (JWT) is accepted: " + res.status);
  let items = (await res.json()).items;
  check(items.length === 1 && items[0].code === "FIN-1", "it sees only its division's project");
  res = await bearer(cc, "/api/v1/whoami");
  const who = await res.json();
  check(who.subject === "pmo-cli" && who.grants.length === 1 && who.grants[0].org_unit === "fin",
        "whoami names the token's subject and its mapped grant");

  const privA = await jose.importJWK(keyA, "RS256");
  const mint = (claims, key = privA, kid = "key-a") =>
    new jose.SignJWT({ client_id: "pmo-cli", ...claims }).setProtectedHeader({ alg: "RS256", kid })
      .setSubject("pmo-cli").sign(key);
  const now = Math.floor(Date.now() / 1000);
  const refused = async (token, why, what) => {
    const r = await bearer(token);
    const body = await r.json();
    check(r.status === 401 && body.detail.includes(why), `${what} is refused (${r.status}: ${body.detail})`);
  };
  await refused(await mint({ iss: issuer, aud: "urn:pmo:api", iat: now - 7200, exp: now - 3600 }),
                "expired", "an expired token");
  await refused(await mint({ iss: "http://127.0.0.1:1/evil", aud: "urn:pmo:api", exp: now + 600 }),
                "another issuer", "a token from another issuer");
  await refused(await mint({ iss: issuer, aud: "urn:other", exp: now + 600 }),
                "audience", "a token for another audience");
  const keyX = await signingKey("key-x");
  await refused(await mint({ iss: issuer, aud: "urn:pmo:api", exp: now + 600 },
                           await jose.importJWK(keyX, "RS256"), "key-x"),
                "no key", "a token signed by a key the provider never published");
  await refused(await mint({ iss: issuer, aud: "urn:pmo:api", exp: now + 600 },
                           await jose.importJWK(keyX, "RS256"), "key-a"),
                "signature", "a token whose signature does not verify");
  const good = await mint({ iss: issuer, aud: "urn:pmo:api", exp: now + 600 });
  check((await bearer(good)).status === 200, "a well-made token of the provider's key is accepted");

  log("the provider rotates its signing key");
  const keyB = await signingKey("key-b");
  provider = makeProvider(issuer, base, [keyB, keyA]);
  handler = provider.callback();
  const rotated = await clientCredentials(issuer);
  check(jose.decodeProtectedHeader(rotated).kid === "key-b", "the provider now signs with key-b");
  res = await bearer(rotated);
  check(res.status === 200, "a token signed by the rotated key is accepted: " + res.status);
  check((await bearer(cc)).status === 200, "a token of the old key (still published) still works");

  // -------------------------------------------------------------------
  const { chromium } = await import("playwright-core");
  const browser = await chromium.launchPersistentContext(path.join(tmp, "chromium"), {
    executablePath: chromiumPath, headless: true, viewport: { width: 1280, height: 860 },
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync"] });
  try {
    const page = await browser.newPage();
    const errors = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    const shot = (name) => page.screenshot({ path: path.join(artifacts, name + ".png"), fullPage: true });
    // The provider's own pages: its login form, then its consent
    const providerSignIn = async (login) => {
      await page.waitForSelector("input[name=login]", { timeout: STEP_MS });
      await page.fill("input[name=login]", login);
      await page.fill("input[name=password]", "any");
      await page.click("button[type=submit]");
      // Its consent page (once per person and client), then back to us
      const deadline = Date.now() + STEP_MS;
      while (Date.now() < deadline) {
        await page.waitForLoadState("load");
        if (!page.url().startsWith(issuer)) return;
        const consent = page.locator("button[type=submit]");
        if (await consent.count()) await consent.first().click().catch(() => {});
        else await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error("the provider did not send the browser back: " + page.url());
    };

    log("someone without grants signs in");
    await page.goto(base + "/");
    await page.waitForSelector("#sso:not([hidden]) #sso-login", { timeout: STEP_MS });
    await page.click("#sso-login");
    await providerSignIn("nadia");
    await page.waitForSelector("text=No access", { timeout: STEP_MS });
    await shot("01-no-grants");
    check(!(await browser.cookies(base)).some((c) => c.name === "pmo_session"),
          "someone without grants gets no session");

    log("a finance viewer signs in");
    await browser.clearCookies(); // the provider's session of the last person too
    await page.goto(base + "/");
    await page.click("#sso-login");
    await providerSignIn("fiona");
    await page.waitForSelector("body[data-ready=portfolio]", { timeout: STEP_MS });
    await page.waitForSelector("#projects tbody tr[data-project]", { timeout: STEP_MS });
    await shot("02-signed-in");
    const whoText = await page.textContent("#who-name");
    check(whoText.includes("fiona") && whoText.includes("fin"), "the dashboard names the person: " + whoText);
    const rows = await page.locator("#projects tbody tr[data-project]").allTextContents();
    check(rows.length === 1 && rows[0].includes("Ledger renewal"), "the portfolio shows the finance project only");
    check(!(await page.content()).includes("Secret depot move"), "no operations project on the page");

    const cookie = (await browser.cookies(base)).find((c) => c.name === "pmo_session");
    check(cookie && cookie.httpOnly && cookie.sameSite === "Strict" && !cookie.secure,
          "the session cookie is HttpOnly and SameSite=Strict (not Secure over plain HTTP)");
    // The session on the API, as the browser sends it
    const withCookie = (p, init = {}) =>
      fetch(base + p, { ...init, headers: { Cookie: "pmo_session=" + cookie.value, ...(init.headers || {}) } });
    res = await withCookie("/api/v1/projects?org_unit=ops");
    const opsBody = await res.text();
    check(!opsBody.includes("OPS-1") && !opsBody.includes("Secret depot"),
          `the session reads nothing of operations (${res.status})`);
    const me = await (await withCookie("/api/v1/whoami")).json();
    check(me.subject === "fiona" && /^[0-9a-f]{64}$/.test(me.csrf), "whoami gives the session's CSRF token");
    const create = { code: "FIN-2", name: "Forged", org_unit: "fin" };
    res = await withCookie("/api/v1/projects", { method: "POST", body: JSON.stringify(create),
                                                 headers: { "Content-Type": "application/json" } });
    let problem = await res.json();
    check(res.status === 403 && problem.field === "X-CSRF-Token", "a change without X-CSRF-Token is refused");
    res = await withCookie("/api/v1/projects", { method: "POST", body: JSON.stringify(create),
      headers: { "Content-Type": "application/json", "X-CSRF-Token": me.csrf } });
    problem = await res.json();
    check(res.status === 403 && problem.field !== "X-CSRF-Token",
          "with the token the change reaches the registry, which refuses a viewer");

    log("sign out");
    await page.click("#sign-out");
    // The provider asks to confirm its own sign-out, then sends us back
    await page.waitForURL((u) => u.href.startsWith(issuer), { timeout: STEP_MS });
    await shot("03-provider-sign-out");
    await page.click("button[value=yes]");
    await page.waitForURL((u) => u.href.startsWith(base), { timeout: STEP_MS });
    await page.waitForSelector("#signin:not([hidden])", { timeout: STEP_MS });
    await shot("04-signed-out");
    res = await withCookie("/api/v1/projects");
    check(res.status === 401, "the old session cookie is refused after sign-out: " + res.status);
    // Signing in again needs the provider's login again (its session ended)
    await page.click("#sso-login");
    await page.waitForSelector("input[name=login]", { timeout: STEP_MS });
    check(true, "the provider asks for the login again");

    log("a PMO manager of finance signs in and works from My work");
    const change = await api("POST", "/api/v1/changes", { project_id: ledger.id, title: "Move go-live to April",
                                                           reason: "Year-end freeze", schedule_impact_days: 30 });
    await browser.clearCookies();
    await page.goto(base + "/");
    await page.click("#sso-login");
    await providerSignIn("priya");
    await page.waitForSelector("body[data-ready=portfolio]", { timeout: STEP_MS });
    const priyaText = await page.textContent("#who-name");
    check(priyaText.includes("priya") && priyaText.includes("@fin"), "the dashboard names her and her grant: " + priyaText);
    await page.waitForSelector("#nav a[data-view=inbox] .count", { timeout: STEP_MS });
    check(Number(await page.textContent("#nav a[data-view=inbox] .count")) >= 1, "the navigation counts what waits on her");
    await page.click("nav a[data-view=inbox]");
    const row = `#inbox-changes form[data-decide="${change.id}"]`;
    await page.waitForSelector(`body[data-ready=inbox] ${row}`, { timeout: STEP_MS });
    check((await page.textContent("#inbox-summary")).includes("priya"), "My work is hers: " + await page.textContent("#inbox-summary"));
    await shot("05-my-work");
    await page.fill(`${row} input[name=decision_note]`, "Agreed with the sponsor");
    await page.click(`${row} button[type=submit]`);
    await page.waitForSelector(`body[data-ready=inbox] ${row}`, { state: "detached", timeout: STEP_MS });
    const decided = await api("GET", `/api/v1/changes/${encodeURIComponent(change.id)}`);
    check(decided.decision === "approved" && decided.approver === "priya" && decided.approver_role === "pmo_manager",
          `the change is decided by her, as the provider signed her in (${decided.decision} by ${decided.approver} as ${decided.approver_role})`);
    await page.click("#sign-out");
    await page.waitForURL((u) => u.href.startsWith(issuer), { timeout: STEP_MS });
    await page.click("button[value=yes]");
    await page.waitForURL((u) => u.href.startsWith(base), { timeout: STEP_MS });
    await page.waitForSelector("#signin:not([hidden])", { timeout: STEP_MS });
    await shot("06-signed-out-again");
    check(errors.length === 0, "no script errors: " + errors.join("; "));
  } finally {
    await browser.close();
  }
  const logText = Buffer.concat(children.find((c) => c.name === "gateway").chunks).toString();
  check(!logText.includes(cc) && !logText.includes(good), "no access token in the gateway's log");
  // A clean stop: exit status 0, and under the sanitizers no error or leak
  const exited = new Promise((resolve) => gateway.once("exit", (code, signal) => resolve({ code, signal })));
  gateway.kill("SIGTERM");
  const { code, signal } = await exited;
  const gatewayLog = Buffer.concat(children.find((c) => c.name === "gateway").chunks).toString();
  check(code === 0 && !/ERROR: (Address|Leak|Undefined)Sanitizer|runtime error:/.test(gatewayLog),
        `the gateway stops cleanly (exit ${code}${signal ? " " + signal : ""})`);
  idpServer.close();
}

main()
  .then(() => {
    stopAll();
    rmSync(tmp, { recursive: true, force: true });
    log("all passed");
    process.exit(0);
  })
  .catch((e) => {
    console.error(e);
    for (const { name, chunks } of children)
      console.error(`--- ${name} ---\n` + Buffer.concat(chunks).toString().split("\n").slice(-30).join("\n"));
    stopAll();
    process.exit(1);
  });
