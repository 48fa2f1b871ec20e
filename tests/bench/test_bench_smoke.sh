#!/usr/bin/env bash
# tests/bench/test_bench_smoke.sh SOURCE_DIR BUILD_DIR: the generator of the
# benchmark table (run-all.sh) runs every benchmark at its --smoke settings,
# parses each one's figures and rewrites only what lies between the markers
# of a copy of docs/benchmarks.md.
set -euo pipefail
SOURCE="$1" BUILD="$2"
T="$(mktemp -d /tmp/pmo-bench-smoke-XXXXXX)"
trap 'rm -rf "$T"' EXIT
fail() {
    echo "test_bench_smoke: FAIL: $*" >&2
    exit 1
}
doc="$SOURCE/docs/benchmarks.md"
cp "$doc" "$T/benchmarks.md"
"$SOURCE/tests/bench/run-all.sh" --smoke --build "$BUILD" --out "$T/benchmarks.md" 2>"$T/log" ||
    { cat "$T/log" >&2; fail "run-all.sh --smoke"; }
before_head="$(sed -n '1,/<!-- benchmarks:begin -->/p' "$doc")"
after_head="$(sed -n '1,/<!-- benchmarks:begin -->/p' "$T/benchmarks.md")"
[[ $before_head == "$after_head" ]] || fail "the text before the begin marker changed"
[[ $(sed -n '/<!-- benchmarks:end -->/,$p' "$doc") == "$(sed -n '/<!-- benchmarks:end -->/,$p' "$T/benchmarks.md")" ]] ||
    fail "the text after the end marker changed"
benches="$(grep -c '^    "bench_' "$SOURCE/tests/bench/run-all.sh")"
rows="$(grep -c '^| \[bench_.*| ok |$' "$T/benchmarks.md")"
((rows == benches)) || fail "$rows of $benches benchmarks ran and printed figures"
for f in "$SOURCE"/tests/bench/bench_*.c "$SOURCE"/tests/bench/bench_dashboard "$SOURCE"/tests/bench/bench_soak; do
    name="$(basename "$f" .c)"
    [[ $name == bench_driver || $name == bench_floor ]] && continue
    grep -q "^    \"$name|" "$SOURCE/tests/bench/run-all.sh" || fail "$name is not in run-all.sh's list"
done
grep -q "^- \*\*Machine\*\*: .*CPUs" "$T/benchmarks.md" || fail "no machine line"
grep -q "^- \*\*Date\*\*: .*\*\*commit\*\*: [0-9a-f]" "$T/benchmarks.md" || fail "no date and commit line"
echo "test_bench_smoke: ok ($rows benchmarks, $(grep -c . "$T/log") lines of progress)"
