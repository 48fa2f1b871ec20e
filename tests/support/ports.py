# tests/support/ports.py: free TCP ports on 127.0.0.1 for Python tests and
# benchmarks, picked and claimed the way the C test kit (pmo_test_free_port),
# ports.sh and ports.mjs do it, so tests running in parallel never hand out
# the same port: at random below the kernel's ephemeral range, claimed with
# a lock on /tmp/pmo-test-ports/PORT held as long as this process runs.
import fcntl
import os
import random
import socket

_CLAIMED = []  # the open lock files: a lock lasts while its file is open


def _ephemeral_low():
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def free_port():
    """A free port, claimed for the life of this process (never 6379)."""
    low = _ephemeral_low()
    os.makedirs("/tmp/pmo-test-ports", exist_ok=True)
    for _ in range(200):
        port = random.randrange(10000, low)
        if port == 6379:
            continue
        f = open(f"/tmp/pmo-test-ports/{port}", "a")
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
            with socket.socket() as s:
                s.bind(("127.0.0.1", port))
        except OSError:
            f.close()
            continue
        _CLAIMED.append(f)
        return port
    raise RuntimeError("no free port below the ephemeral range after 200 tries")
