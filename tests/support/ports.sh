# tests/support/ports.sh: sourced by the shell tests. Free TCP ports on
# 127.0.0.1 picked and claimed the way the C test kit does it
# (pmo_test_free_port in pmo_testkit.c), so shell, C and JavaScript tests
# running in parallel never hand out the same port:
# - at random below the kernel's ephemeral range: a port from bind(0) is one
#   the kernel may give to any process's next outgoing connection before our
#   server listens on it;
# - claimed with a lock on /tmp/pmo-test-ports/PORT held as long as the test
#   script runs, so no other test process picks it meanwhile.

# pmo_port_claim PORT: 0 if PORT is free and now claimed for this script.
pmo_port_claim() {
    local port=$1 dir=/tmp/pmo-test-ports fd
    mkdir -p "$dir" 2>/dev/null || return 1
    [[ -e $dir/$port ]] || : >>"$dir/$port" 2>/dev/null || return 1
    exec {fd}<"$dir/$port" || return 1
    if ! flock -n "$fd" ||
        ! python3 -c "import socket; socket.socket().bind(('127.0.0.1', $port))" 2>/dev/null; then
        exec {fd}<&-
        return 1
    fi
    # The lock lasts while its open file is: a holder that lives as long as
    # the script ($$, also inside $(...)) keeps it, however the script ends
    tail --pid=$$ -f /dev/null >/dev/null 2>&1 &
    exec {fd}<&-
}

# pmo_ephemeral_low: the first port the kernel hands out on its own.
pmo_ephemeral_low() {
    local low high
    read -r low high </proc/sys/net/ipv4/ip_local_port_range || low=32768
    echo "$low"
}

# pmo_free_port: prints a free, claimed port (never 6379).
pmo_free_port() {
    local low port i
    low=$(pmo_ephemeral_low)
    for ((i = 0; i < 200; i++)); do
        port=$((10000 + ((RANDOM << 15) | RANDOM) % (low - 10000)))
        ((port != 6379)) || continue
        if pmo_port_claim "$port"; then
            echo "$port"
            return 0
        fi
    done
    echo "pmo_free_port: no free port on 127.0.0.1 below $low" >&2
    return 1
}
