#!/usr/bin/env bash
# tests/bench/run-all.sh: run every benchmark under tests/bench and write the
# figures they print into ONE generated table, docs/benchmarks.md (between
# its markers), with the machine, the date and the commit. The READMEs point
# there instead of carrying figures of their own.
#
#   tests/bench/run-all.sh [--quick | --full | --smoke] [--only NAME[,NAME...]]
#                          [--out FILE] [--build DIR]
#
#   --quick  (default) each benchmark's short settings (--quick)
#   --full   the settings its targets are stated for (takes an hour or more)
#   --smoke  the shortest settings that still measure something: checks that
#            every benchmark runs and that its output parses (the suite's
#            test_bench_smoke); the figures mean little
#   --out    where to write (default docs/benchmarks.md; "-" for stdout)
#
# A benchmark that exits non-zero, or prints no figure (a line with a number),
# makes the run fail after the others have run; the table says which.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
mode=quick only="" out="$root/docs/benchmarks.md" build="${PMO_BUILD_DIR:-$root/build}"
while (($#)); do
    case "$1" in
    --quick | --full | --smoke) mode="${1#--}" ;;
    --only) only="${2:?--only NAME[,NAME...]}" && shift ;;
    --out) out="${2:?--out FILE}" && shift ;;
    --build) build="${2:?--build DIR}" && shift ;;
    -h | --help) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//' && exit 0 ;;
    *) echo "run-all: unknown argument '$1' (see --help)" >&2 && exit 2 ;;
    esac
    shift
done
build="$(cd "$build" && pwd)"
export PMO_BUILD_DIR="$build"

# name | what it measures | smoke | quick | full (arguments) [| the binary, when not name]
BENCHES=(
    "bench_registry|registry: create/read/update ops/s and latency over ZeroMQ at 1 and 32 in flight, against a floor; memory per project|--quick --requests 100 --projects 100|--quick|"
    "bench_registry_always|registry with appendfsync always (bench_registry --fsync always): creates/s through group commit|--fsync always --quick --requests 100 --projects 100|--fsync always --quick|--fsync always|bench_registry"
    "bench_allocator|allocator: start from Redis, ranking (match) p99, capacity/demand view, request+commit cycle, memory|--quick --resources 200 --allocations 400|--quick|"
    "bench_riskmon|risk monitor: events/s, report -> health change latency, time-rule sweep|--smoke|--quick|"
    "bench_notifier|notifier: event -> delivery latency, deliveries/s, RSS with deliveries waiting|--smoke|--quick|"
    "bench_gateway|gateway: HTTP (wrk) against the registry over ZeroMQ; what the gateway adds|--smoke|--quick|"
    "bench_federation|hub and spokes: roll-up lag p99, catch-up after a hub outage|--quick --seconds 1 --rate 100 --backlog 100|--quick|"
    "bench_rollup|the hub's enterprise roll-up: kept counters vs adding up every snapshot (100 divisions x 10,000 projects)|--quick --divisions 4 --projects 200 --requests 20|--quick|"
    "bench_sse|live events (SSE) to many clients of one gateway: commit -> client latency, memory, stream reads|--clients 20 --seconds 1|--quick|"
    "bench_xdiv|cross-division requests through the hub: request -> booked -> back, decisions, burst|--quick --paced 10 --burst 10|--quick|"
    "bench_import|spreadsheet import (rows/s), re-import, portfolio report|--rows 2000|--rows 20000|"
    "bench_import_pool|the resource pool and its allocations imported (10,000 people, 30,000 allocations)|--resources 100 --allocations 300|--resources 2000 --allocations 6000|"
    "bench_mspdi|Microsoft Project plan import (1,000 tasks, 100 resources)|--tasks 100 --resources 10||"
    "bench_planner|planner: optimum portfolio, frontier, scoring and ranking|--candidates 20|--quick|"
    "bench_idle|an idle stack: Redis commands/s and CPU of each service|--seconds 1 --divisions 5|--quick|"
    "bench_dashboard|the dashboard in headless Chromium: first view, filter, paging|--smoke|--quick|"
    "bench_soak|a day of faults: mixed traffic through 3 replicas of each service while one is SIGKILLed every 30 s and Redis fails over; nothing lost or doubled (projects, reports, allocations, benefits), groups caught up, memory flat (10 minutes)|--smoke|--quick|"
)

tmp="$(mktemp -d /tmp/pmo-bench-XXXXXX)"
trap 'rm -rf "$tmp"' EXIT
started="$(date -u '+%Y-%m-%d %H:%M UTC')"
load="$(cut -d' ' -f1-3 /proc/loadavg)"
failed=0
: >"$tmp/index"
for line in "${BENCHES[@]}"; do
    IFS='|' read -r name what smoke quick full binary <<<"$line"
    if [[ -n $only && ",$only," != *",$name,"* ]]; then continue; fi
    case "$mode" in smoke) args="$smoke" ;; quick) args="$quick" ;; full) args="$full" ;; esac
    if [[ $name == bench_dashboard || $name == bench_soak ]]; then
        bin="$root/tests/bench/$name"
    else
        bin="$build/tests/bench/${binary:-$name}"
    fi
    [[ -x $bin ]] || { echo "run-all: $bin is not built (cmake --build $build)" >&2 && exit 1; }
    echo "run-all: $name $args" >&2
    t0="$(date +%s.%N)"
    rc=0
    # shellcheck disable=SC2086 # the arguments are words
    "$bin" $args >"$tmp/$name.out" 2>"$tmp/$name.err" </dev/null || rc=$?
    took="$(python3 -c 'import sys; print("%.1f" % (float(sys.argv[2]) - float(sys.argv[1])))' "$t0" "$(date +%s.%N)")"
    printf '%s\t%s\t%s\t%s\t%s\n' "$name" "$args" "$rc" "$took" "$what" >>"$tmp/index"
done

python3 - "$tmp" "$out" "$mode" "$started" "$load" "$root" <<'PY' || failed=1
import os, re, subprocess, sys

tmp, out, mode, started, load, root = sys.argv[1:7]
BEGIN, END = "<!-- benchmarks:begin -->", "<!-- benchmarks:end -->"
# A figure: a line of a benchmark's output holding a number (headers,
# blank lines and pure words are not figures)
FIGURE = re.compile(r"\d")

def machine():
    model, cpus, mem = "unknown CPU", os.cpu_count(), 0
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem = int(line.split()[1]) / 1024 / 1024
    debian = ""
    if os.path.exists("/etc/debian_version"):
        debian = ", Debian " + open("/etc/debian_version").read().strip()
    return f"{model}, {cpus} CPUs, {mem:.0f} GiB RAM{debian}"

def commit():
    def git(*args):
        return subprocess.run(["git", "-C", root, *args], capture_output=True, text=True).stdout.strip()
    sha = git("rev-parse", "--short", "HEAD") or "unknown"
    dirty = git("status", "--porcelain", "--untracked-files=no")
    return sha + (" (with uncommitted changes)" if dirty else "")

rows, sections, bad = [], [], []
with open(os.path.join(tmp, "index")) as f:
    entries = [line.rstrip("\n").split("\t") for line in f if line.strip()]
for name, args, rc, took, what in entries:
    with open(os.path.join(tmp, name + ".out"), errors="replace") as f:
        lines = [l.rstrip() for l in f.read().splitlines()]
    figures = [l for l in lines if l.strip() and FIGURE.search(l)]
    status = "ok"
    if rc != "0":
        status = f"FAILED (exit {rc})"
    elif not figures:
        status = "FAILED (no figures)"
    if status != "ok":
        err = open(os.path.join(tmp, name + ".err"), errors="replace").read().strip().splitlines()
        bad.append(f"{name}: {status}" + (f": {err[-1]}" if err else ""))
        #  What it said last, so a failure in the suite's smoke run can be read
        #  from the test's own output; its FAIL lines first, since a dump of
        #  the services' logs after them would push them out of the last 25
        said = lines + err
        for l in [l for l in said[:-25] if "FAIL" in l][-10:] + said[-25:]:
            print(f"run-all: {name}| {l}", file=sys.stderr)
    rows.append(f"| [{name}](#{name}) | {what} | `{args or '(defaults)'}` | {took} s | {len(figures)} | {status} |")
    body = "\n".join(l for l in lines if l.strip())
    sections.append(f"### {name}\n\n`{name} {args}`: {what}.\n\n```text\n{body}\n```\n")

table = "\n".join([
    BEGIN,
    "",
    f"- **Machine**: {machine()}; load average at the start {load} (a shared machine: figures",
    "  under load are not comparable with an idle one)",
    f"- **Date**: {started}; **commit**: {commit()}",
    f"- **Settings**: `{mode}` (`tests/bench/run-all.sh --{mode}`)",
    "",
    "| benchmark | what it measures | arguments | took | figures | run |",
    "|---|---|---|---|---|---|",
    *rows,
    "",
    "Each benchmark's figures as it printed them:",
    "",
    *sections,
    END,
])
if out == "-":
    print(table)
else:
    text = open(out).read() if os.path.exists(out) else (
        "# Benchmark figures\n\nGenerated by `tests/bench/run-all.sh`: run it again rather than "
        "editing this file.\n\n" + BEGIN + "\n" + END + "\n")
    if BEGIN not in text or END not in text:
        sys.exit(f"run-all: {out} has no {BEGIN} ... {END} markers")
    head, rest = text.split(BEGIN, 1)
    tail = rest.split(END, 1)[1]
    with open(out, "w") as f:
        f.write(head + table + tail)
for line in bad:
    print(f"run-all: {line}", file=sys.stderr)
print(f"run-all: {len(entries)} benchmarks, {len(entries) - len(bad)} ok; written to {out}", file=sys.stderr)
sys.exit(1 if bad else 0)
PY
exit $failed
