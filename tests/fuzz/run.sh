#!/usr/bin/env bash
# run.sh: the fuzz tests under ctest, or by hand.
#   run.sh build                 configure and build $PMO_BUILD_DIR/fuzz (clang, -DPMO_FUZZ=ON)
#   run.sh run NAME SECONDS      run fuzz_NAME that long from corpus/NAME (new inputs go to a
#                                temporary directory); a crash fails, its input is kept in
#                                $PMO_BUILD_DIR/fuzz-artifacts/
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
build="${PMO_BUILD_DIR:-$root/build}"
dir="$build/fuzz"
case "${1:-}" in
build)
    CC=clang cmake -S "$root" -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPMO_FUZZ=ON >/dev/null
    cmake --build "$dir" -j2 --target fuzz_http fuzz_frame
    ;;
run)
    name="$2" seconds="$3"
    work="$(mktemp -d)"
    trap 'rm -rf "$work"' EXIT
    mkdir -p "$build/fuzz-artifacts"
    # Leak checks at exit are LeakSanitizer's; one input may take at most 10 s
    exec "$dir/tests/fuzz/fuzz_$name" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$build/fuzz-artifacts/$name-" \
        "$work" "$here/corpus/$name"
    ;;
*)
    echo "usage: run.sh build | run NAME SECONDS" >&2
    exit 2
    ;;
esac
