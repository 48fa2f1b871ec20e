// stack.mjs: the real pmo services for a browser test or benchmark: its
// own redis-server (temp dir, free port), pmo-registry and pmo-gateway, and
// pmo-allocator / pmo-riskmon / pmo-notifier / pmo-planner when they are
// built (the notifier may deliver to loopback receivers over plain HTTP; the
// planner reads capacity from the allocator). Used by dashboard.test.mjs,
// planner.test.mjs and bench_dashboard.mjs.

import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { freePort } from "../support/ports.mjs";
import { fileURLToPath } from "node:url";
import { makeKeys } from "../support/keys.mjs";

export const here = path.dirname(fileURLToPath(import.meta.url));
export const build = process.env.PMO_BUILD_DIR || path.resolve(here, "../../build");
export const artifacts = path.join(build, "e2e-artifacts");
export const chromiumPath = process.env.PMO_CHROMIUM || "/usr/bin/chromium";
export const STEP_MS = 15000;

export function log(...args) {
  console.log("e2e:", ...args);
}

export { freePort };

export async function waitFor(what, probe, ms = STEP_MS) {
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

// Start everything; returns { base, token, services, api, stop, dump, logs, tmp }
export async function startStack(options = {}) {
  mkdirSync(artifacts, { recursive: true });
  const tmp = mkdtempSync(path.join(os.tmpdir(), "pmo-e2e-"));
  // Every service runs with its own key, as ./deploy/pmo up makes them
  makeKeys(build, tmp);
  const children = [];
  const start = (name, bin, args) => {
    const logFile = path.join(tmp, name + ".log");
    const child = spawn(bin, args, { stdio: ["ignore", "pipe", "pipe"] });
    const chunks = [];
    child.stdout.on("data", (d) => chunks.push(d));
    child.stderr.on("data", (d) => chunks.push(d));
    child.on("exit", () => { try { writeFileSync(logFile, Buffer.concat(chunks)); } catch { /* tmp removed */ } });
    children.push({ name, child, chunks });
    return child;
  };
  const stop = async () => {
    for (const { child } of children.slice().reverse()) if (child.exitCode === null) child.kill("SIGTERM");
    await new Promise((r) => setTimeout(r, 300));
    rmSync(tmp, { recursive: true, force: true });
  };
  // Everything the services have printed so far (a secret must not be there)
  const logs = () => children.map(({ chunks }) => Buffer.concat(chunks).toString()).join("\n");
  const dump = () => {
    for (const { name, chunks } of children)
      console.error(`---- ${name} (last lines) ----\n` +
                    Buffer.concat(chunks).toString().split("\n").slice(-15).join("\n"));
  };
  try {
    const redisPort = await freePort();
    const redisUrl = `redis://127.0.0.1:${redisPort}`;
    start("redis", "redis-server", ["--port", String(redisPort), "--bind", "127.0.0.1", "--dir", tmp,
                                    "--save", "", "--appendonly", "no"]);
    await waitFor("redis", () => new Promise((resolve) => {
      const s = net.connect(redisPort, "127.0.0.1", () => { s.end(); resolve(true); });
      s.on("error", () => resolve(false));
    }));
    const ports = {};
    for (const name of ["registry", "registryPub", "allocator", "allocatorPub", "riskmon",
                        "riskmonPub", "notifier", "notifierPub", "planner", "plannerPub", "gatewayZmq", "http"])
      ports[name] = await freePort();
    const ep = (p) => `tcp://127.0.0.1:${p}`;
    const bin = (svc) => path.join(build, "services", svc, "pmo-" + svc);
    start("registry", bin("registry"), ["--redis", redisUrl, "--endpoint", ep(ports.registry),
                                        "--pub", ep(ports.registryPub)]);
    const optional = {};
    for (const svc of ["allocator", "riskmon", "notifier", "planner"]) {
      if (!existsSync(bin(svc)) || process.env.PMO_E2E_ONLY_REGISTRY || options.without?.includes(svc)) continue;
      const args = ["--redis", redisUrl, "--endpoint", ep(ports[svc]), "--pub", ep(ports[svc + "Pub"]),
                    "--registry", ep(ports.registry)];
      // The notifier may deliver to receivers the test runs on this machine
      if (svc === "notifier") args.push("--allow-networks", "loopback", "--allow-http", "1", "--retry-base", "200");
      if (svc === "planner") args.push("--allocator", optional.allocator ? ep(ports.allocator) : "");
      start(svc, bin(svc), args);
      optional[svc] = true;
    }
    const tokenFile = path.join(tmp, "admin-token");
    start("gateway", bin("gateway"), [
      "--redis", redisUrl, "--http", `127.0.0.1:${ports.http}`, "--endpoint", ep(ports.gatewayZmq),
      "--registry", ep(ports.registry), "--registry-pub", ep(ports.registryPub),
      "--allocator", optional.allocator ? ep(ports.allocator) : "",
      "--allocator-pub", optional.allocator ? ep(ports.allocatorPub) : "",
      "--riskmon", optional.riskmon ? ep(ports.riskmon) : "",
      "--riskmon-pub", optional.riskmon ? ep(ports.riskmonPub) : "",
      "--notifier", optional.notifier ? ep(ports.notifier) : "",
      "--notifier-pub", optional.notifier ? ep(ports.notifierPub) : "",
      "--planner", optional.planner ? ep(ports.planner) : "",
      "--planner-pub", optional.planner ? ep(ports.plannerPub) : "",
      "--admin-token-file", tokenFile, "--heartbeat", "2000",
      // PMO_E2E_WWW: the dashboard's files from elsewhere (a copy being edited)
      ...(process.env.PMO_E2E_WWW ? ["--www", process.env.PMO_E2E_WWW] : []), ...(options.gatewayArgs || [])]);
    const base = `http://127.0.0.1:${ports.http}`;
    await waitFor("the gateway to be ready", async () => (await fetch(base + "/readyz")).ok);
    const token = readFileSync(tokenFile, "utf8").trim();
    const services = (await (await fetch(base + "/readyz")).json()).services;
    const api = async (method, p, body, headers = {}) => {
      const res = await fetch(base + p, {
        method, headers: { Authorization: "Bearer " + token, "Content-Type": "application/json", ...headers },
        body: body ? JSON.stringify(body) : undefined });
      const json = res.headers.get("content-type")?.includes("json") ? await res.json() : null;
      if (!res.ok) throw new Error(`${method} ${p}: ${res.status} ${JSON.stringify(json)}`);
      return json;
    };
    return { base, token, services, api, stop, dump, logs, tmp, ports, redisUrl };
  } catch (e) {
    dump();
    await stop();
    throw e;
  }
}

// A headless Chromium with a fresh profile (playwright passes it as
// --user-data-dir)
export async function launch(tmp) {
  const { chromium } = await import("playwright-core");
  return chromium.launchPersistentContext(path.join(tmp, "chromium"), {
    executablePath: chromiumPath, headless: true, viewport: { width: 1360, height: 900 },
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync"] });
}
