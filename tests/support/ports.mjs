// tests/support/ports.mjs: free TCP ports on 127.0.0.1 for the JavaScript
// tests, picked and claimed the way the C test kit (pmo_test_free_port) and
// the shell tests (ports.sh) do it, so tests of every kind running in
// parallel never hand out the same port:
// - at random below the kernel's ephemeral range (a port from listen(0) may
//   go to any process's next outgoing connection before our server listens);
// - claimed with a lock on /tmp/pmo-test-ports/PORT, held by a flock(1)
//   child for as long as this test process lives, so no other test process
//   picks it meanwhile;
// - checked by binding, and never given twice by this process.
import { spawn } from "node:child_process";
import { mkdirSync, readFileSync } from "node:fs";
import net from "node:net";

const CLAIMS = "/tmp/pmo-test-ports";
const given = new Set([6379]);

function ephemeralLow() {
  try {
    return parseInt(readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").split(/\s+/)[0], 10) || 32768;
  } catch {
    return 32768;
  }
}

// Resolves true once the lock on port's file is ours (its holder prints
// "held" and then lives until this process ends), false if another test
// process holds it.
function claim(port) {
  return new Promise((resolve) => {
    const holder = spawn(
      "flock",
      ["-n", "-E", "75", `${CLAIMS}/${port}`, "-c", `echo held; exec tail --pid=${process.pid} -f /dev/null`],
      { stdio: ["ignore", "pipe", "ignore"] },
    );
    holder.once("error", () => resolve(false));
    holder.once("exit", () => resolve(false));
    holder.stdout.once("data", () => {
      holder.stdout.destroy();
      holder.unref();
      resolve(true);
    });
  });
}

function bindable(port) {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

export async function freePort() {
  mkdirSync(CLAIMS, { recursive: true });
  const high = ephemeralLow() - 1, low = high > 20000 ? 10000 : 1024;
  for (let attempt = 0; attempt < 500; attempt++) {
    const port = low + Math.floor(Math.random() * (high - low + 1));
    if (given.has(port)) continue;
    if ((await claim(port)) && (await bindable(port))) {
      given.add(port);
      return port;
    }
  }
  throw new Error(`no free port on 127.0.0.1 below ${high + 1}`);
}
