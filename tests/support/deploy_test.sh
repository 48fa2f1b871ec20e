# tests/support/deploy_test.sh: sourced by the deploy tests (tests/deploy/*.sh)
# for what each needs the same way: a temp dir removed at exit, the processes
# it started stopped at exit, and fail() printing the end of each log.
#   deploy_test_begin NAME PREFIX SIGNAL [LOGS] [LINES]
# sets T (a new /tmp/PREFIX-XXXXXX) and PIDS=() (append each background
# process's $!); at exit each of PIDS gets SIGNAL (TERM or KILL), is waited
# for, and T is removed. fail MESSAGE prints "NAME: FAIL: MESSAGE" and the
# last LINES (default 8) of each non-empty file matching $T/LOGS (default
# *.log), then exits 1.

deploy_test_begin() {
    DEPLOY_TEST_NAME="$1"
    DEPLOY_TEST_SIGNAL="$3"
    DEPLOY_TEST_LOGS="${4:-*.log}"
    DEPLOY_TEST_LINES="${5:-8}"
    T="$(mktemp -d "/tmp/$2-XXXXXX")"
    PIDS=()
    trap deploy_test_cleanup EXIT
}

deploy_test_cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do kill -"$DEPLOY_TEST_SIGNAL" "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$T"
}

fail() {
    echo "$DEPLOY_TEST_NAME: FAIL: $*" >&2
    local log
    for log in "$T"/$DEPLOY_TEST_LOGS; do
        [[ -s $log ]] && { echo "--- $log" >&2; tail -n "$DEPLOY_TEST_LINES" "$log" >&2; }
    done
    exit 1
}
