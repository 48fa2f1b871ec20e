/*  pmo_testkit.h: what every test needs to run the real thing.

    A throwaway redis-server (temp directory, free port on 127.0.0.1, never
    6379, AOF on) that a test can crash and restart, child processes whose
    output is shown only when they fail, free ports, and the paths of built
    binaries. Everything here is for tests: failures are printed and returned,
    never hidden.

    Children (redis-server and pmo_test_proc_t) receive SIGKILL if the thread
    that started them dies, so a crashed test leaves no server behind: start
    them from the test's main thread, not from a short-lived helper thread.
*/
#ifndef PMO_TESTKIT_H_INCLUDED
#define PMO_TESTKIT_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <czmq.h>
#include <hiredis/hiredis.h>
#include "pmo.pb-c.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _pmo_test_redis_t pmo_test_redis_t;

//  Start a real redis-server (found on PATH or /usr/bin/redis-server) in a fresh
//  mkdtemp directory on a free TCP port of 127.0.0.1 (never 6379), AOF on with
//  appendfsync everysec (or "always" if always_fsync), no RDB snapshots; waits
//  until it answers PING (deadline 10 s). Returns NULL and prints why on
//  failure. Caller owns the result and destroys it.
pmo_test_redis_t *pmo_test_redis_start (bool always_fsync);

//  Stop it (SHUTDOWN NOSAVE, then SIGKILL if it does not exit), remove its
//  directory, NULL *self_p. Safe on NULL.
void pmo_test_redis_destroy (pmo_test_redis_t **self_p);

//  "redis://127.0.0.1:PORT". Owned by self.
const char *pmo_test_redis_url (pmo_test_redis_t *self);

int pmo_test_redis_port (pmo_test_redis_t *self);

//  The server's data directory (its append-only files are in
//  appendonlydir/ there). Owned by self.
const char *pmo_test_redis_dir (pmo_test_redis_t *self);

//  SIGKILL the server (simulates a crash) and wait for it to die.
void pmo_test_redis_kill (pmo_test_redis_t *self);

//  Start it again on the same port and directory (the AOF replays); waits for
//  PING. Returns 0, or -1 and prints why.
int pmo_test_redis_restart (pmo_test_redis_t *self);

//  Make replica follow master (REPLICAOF) and wait until its link is up
//  (deadline 20 s), so that a WAIT for one replica can be confirmed.
//  Returns 0, or -1 and prints why.
int pmo_test_redis_follow (pmo_test_redis_t *replica, pmo_test_redis_t *master);

//  Run a command through a fresh hiredis connection to it (for assertions),
//  with a 5 s deadline. Returns NULL and prints why if the server cannot be
//  reached. Caller owns the reply and frees it with freeReplyObject.
redisReply *pmo_test_redis_command (pmo_test_redis_t *self, const char *format, ...);

//  A free TCP port on 127.0.0.1, below the kernel's ephemeral range and
//  claimed for this process's lifetime against every other test process;
//  never 6379. Returns -1 on failure.
int pmo_test_free_port (void);

//  Start a service actor whose config has a "failed" flag (set when it
//  cannot bind), trying again for a few seconds while a stopped actor's
//  ports are being released. NULL (after saying why) if it never starts.
zactor_t *pmo_test_actor_new (zactor_fn *actor, void *config, bool *failed);

//  Stop a service actor, then wait until libzmq has closed its listeners on
//  the tcp:// endpoints (a NULL-terminated list), which it does in its I/O
//  thread a moment after zactor_destroy returns: a process started next on
//  the same endpoints can bind them. Returns 0, or -1 (after saying which)
//  if one is still taken after a few seconds. Safe on a NULL actor.
int pmo_test_actor_destroy (zactor_t **actor_p, const char *const endpoints[]);

//  The process's keyring (pmo_auth.h), made once in a temp directory and
//  removed at exit: the stack's server key and the principal "test", which
//  may impersonate (so a test's requests act as the identity they carry),
//  and secrets.key (pmo_seal.h). Sets PMO_KEYS, PMO_PRINCIPAL and
//  PMO_SECRETS_KEY for child processes and sets the keyring
//  up for this process. pmo_test_redis_start, pmo_test_actor_new and
//  pmo_test_proc_start call it, so every harness runs on CURVE. Returns the
//  directory (owned by the kit), or NULL after printing why.
const char *pmo_test_keys (void);

//  One more principal in that keyring (see pmo_auth_keygen), which this
//  process then knows (the keyring is loaded again). 0, or -1 after
//  printing why.
int pmo_test_key (const char *name, const char *kind, const char *subject, const char *grants);

//  A DEALER connected to endpoint with the process's key (for tests that
//  speak the wire by hand). Caller destroys it.
zsock_t *pmo_test_dealer_new (const char *endpoint);

//  A child process: argv[0] is a path (no PATH search), argv ends with NULL.
//  stdin is /dev/null; stdout and stderr go to a log file in /tmp that is
//  printed to stderr on pmo_test_proc_destroy if the process exited non-zero
//  or died of a signal nobody sent it (or always if PMO_TEST_VERBOSE is set in
//  the environment), then removed.
typedef struct _pmo_test_proc_t pmo_test_proc_t;

//  Returns NULL and prints why on failure. Caller owns the result. If the
//  program cannot be executed, the child exits 127.
pmo_test_proc_t *pmo_test_proc_start (char *const argv[]);

//  The child's process id.
pid_t pmo_test_proc_pid (pmo_test_proc_t *self);

//  Send a signal. Returns 0, or -1 if the process has already been reaped or
//  kill fails.
int pmo_test_proc_signal (pmo_test_proc_t *self, int signum);

//  Wait up to timeout_ms (negative: forever) for exit; returns the exit status
//  (or 128+signal), -1 on timeout. Once it has exited, returns the same status
//  again on every call.
int pmo_test_proc_wait (pmo_test_proc_t *self, int timeout_ms);

//  SIGKILLs it if still running, shows its log if it failed (see above),
//  removes the log, NULL *self_p. Safe on NULL.
void pmo_test_proc_destroy (pmo_test_proc_t **self_p);

//  Path of a built binary: $PMO_BUILD_DIR/<relative>, e.g.
//  "services/registry/pmo-registry". Without PMO_BUILD_DIR (a test run by
//  hand), the nearest directory above the test binary holding CMakeCache.txt.
//  Writes into buf; returns buf.
const char *pmo_test_build_path (const char *relative, char *buf, size_t size);

#ifdef __cplusplus
}
#endif

//  Replies of the services: abort the test, printing where and the reply's
//  error, unless reply carries no error (ok) or the given code with field
//  in its field path and a message (err; field NULL matches any).
void pmo_test_reply_ok_at (const ProtobufCMessage *reply, const char *where, int line);
void pmo_test_reply_err_at (const ProtobufCMessage *reply, Pmo__ErrorCode code, const char *field,
                            const char *where, int line);
#endif
