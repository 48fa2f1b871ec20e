// keys.mjs: the keys of a stack for the tests written in JavaScript (the
// C tests' pmo_test_keys), made as ./deploy/pmo up makes them (SECURITY.md):
// the stack's server key and one key per service, with the same kinds,
// subjects and grants. Sets PMO_KEYS so that every service the test spawns
// afterwards finds them (and PMO_SECRETS_KEY, the notifier's key file
// that seals channel secrets); each service's key is its own name.
import { execFileSync } from "node:child_process";
import path from "node:path";

const PRINCIPALS = [
  ["server", "server"],
  ["registry", "service", "pmo-registry"],
  ["allocator", "service", "pmo-allocator", "admin@hub"],
  ["riskmon", "service", "riskmon", "viewer@hub"],
  ["notifier", "edge"],
  ["planner", "service", "planner", "viewer@hub"],
  ["gateway", "edge"],
  ["hub", "edge"],
  // pmoctl's default key, for scripts that load data (bench_dashboard)
  ["operator", "operator", "operator@hub", "admin@hub"],
];

// Make them in dir/keys with build's pmoctl; returns the directory.
export function makeKeys(build, dir) {
  const keys = path.join(dir, "keys");
  const pmoctl = path.join(build, "services", "pmoctl", "pmoctl");
  for (const [name, kind, subject, grants] of PRINCIPALS) {
    const args = ["--keys", keys, "key", "make", name, "--kind", kind];
    if (subject) args.push("--subject", subject);
    if (grants) args.push("--grants", grants);
    execFileSync(pmoctl, args, { stdio: "ignore" });
  }
  const secrets = path.join(keys, "secrets.seal");
  execFileSync(pmoctl, ["secrets-key", "make", secrets], { stdio: "ignore" });
  process.env.PMO_KEYS = keys;
  process.env.PMO_SECRETS_KEY = secrets;
  delete process.env.PMO_PRINCIPAL;
  return keys;
}
