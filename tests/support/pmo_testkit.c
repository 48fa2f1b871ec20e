/*  pmo_testkit.c: throwaway redis-servers, child processes, free ports and
    build paths for the tests (see pmo_testkit.h).

    Children are started with fork + execv and only async-signal-safe calls
    in between, because a test may already run CZMQ's I/O threads when it
    forks. Every wait has a deadline measured on the monotonic clock.
*/
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include "pmo_testkit.h"
#include "pmo_auth.h"
#include "pmo_seal.h"
#include "pmo_util.h"
#include "pmo_wire.h"

#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define S_REDIS_READY_MS     10000 //  deadline for a started server to answer PING
#define S_REDIS_STOP_MS      5000  //  deadline for SHUTDOWN before we SIGKILL
#define S_COMMAND_MS         5000  //  deadline for pmo_test_redis_command
#define S_START_ATTEMPTS     5     //  free ports to try if another process takes ours
#define S_LOG_TAIL_LINES     20    //  lines of redis.log shown when it fails
#define S_RECENT_PORTS       64    //  ports handed out lately, not handed out again
#define S_ACTOR_BIND_TRIES   100   //  a restarted actor binds its ports again ...
#define S_ACTOR_BIND_WAIT_MS 50    //  ... this often
#define S_FORBIDDEN_PORT     6379  //  the system Redis: tests never touch it

struct _pmo_test_redis_t {
    char binary[PATH_MAX];   //  redis-server executable
    char dir[PATH_MAX];      //  mkdtemp directory: AOF, redis.log
    char log[PATH_MAX + 16]; //  dir/redis.log
    char url[64];            //  "redis://127.0.0.1:PORT"
    int port;                //  TCP port on 127.0.0.1
    bool always_fsync;       //  appendfsync always instead of everysec
    pid_t pid;               //  server process; 0 when not running
};

struct _pmo_test_proc_t {
    char *name;         //  argv[0], for messages
    char log[PATH_MAX]; //  the child's stdout and stderr
    pid_t pid;          //  child process
    bool reaped;        //  waitpid collected it: status is final
    int status;         //  exit status, or 128+signal
    int term_signal;    //  signal it died of, 0 if it exited
    int sent_signal;    //  last signal we sent; dying of it is expected
};

//  --------------------------------------------------------------------------
//  Time and processes

static int64_t s_now_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void s_sleep_ms (int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
    while (nanosleep (&ts, &ts) == -1 && errno == EINTR)
        ;
}

//  Fork and exec argv (argv[0] is a path). stdin is /dev/null; stdout and
//  stderr go to out_fd, or stdout to /dev/null and stderr stays ours if
//  out_fd is -1. Returns the pid, or -1.
static pid_t s_spawn (char *const argv[], int out_fd)
{
    pid_t parent = getpid ();
    pid_t pid = fork ();
    if (pid != 0)
        return pid;

    //  Child: async-signal-safe calls only until execv (see the header)
    //  A crashed test must not leave servers behind
    prctl (PR_SET_PDEATHSIG, SIGKILL);
    if (getppid () != parent)
        _exit (127);
    int null_fd = open ("/dev/null", O_RDWR);
    if (null_fd >= 0)
        dup2 (null_fd, STDIN_FILENO);
    if (out_fd >= 0) {
        dup2 (out_fd, STDOUT_FILENO);
        dup2 (out_fd, STDERR_FILENO);
    } else if (null_fd >= 0)
        dup2 (null_fd, STDOUT_FILENO);
    //  Inherited sockets would keep the test's ports bound after it closes them
    close_range (3, ~0U, 0);
    //  exec keeps the mask and ignored signals: the child must die of SIGTERM
    sigset_t none;
    sigemptyset (&none);
    sigprocmask (SIG_SETMASK, &none, NULL);
    int defaults[] = {SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGQUIT};
    for (size_t index = 0; index < sizeof defaults / sizeof defaults[0]; index++)
        signal (defaults[index], SIG_DFL);

    execv (argv[0], argv);
    const char *message = "pmo_testkit: cannot execute ";
    ssize_t rc = write (STDERR_FILENO, message, strlen (message));
    rc = write (STDERR_FILENO, argv[0], strlen (argv[0]));
    rc = write (STDERR_FILENO, "\n", 1);
    (void)rc;
    //  127 from a shell, not from this fork of the test: under valgrind a
    //  fork that exits is leak-checked, and the test's threads (the ZAP
    //  handler's) do not exist in it, so what only they hold counts as lost
    //  and valgrind's error exit code would replace 127
    char *shell[] = {"/bin/sh", "-c", "exit 127", NULL};
    execv (shell[0], shell);
    _exit (127);
}

//  Reap pid within timeout_ms (negative: wait forever). Stores the raw wait
//  status in *status. Returns 0 once reaped, -1 on timeout.
static int s_wait_pid (pid_t pid, int timeout_ms, int *status)
{
    int64_t deadline = s_now_ms () + timeout_ms;
    while (true) {
        pid_t rc = waitpid (pid, status, timeout_ms < 0 ? 0 : WNOHANG);
        if (rc == pid)
            return 0;
        if (rc == -1 && errno == ECHILD) {
            //  Someone else reaped it (SIGCHLD ignored): gone, status unknown
            *status = 0;
            return 0;
        }
        if (rc == -1 && errno != EINTR) {
            fprintf (stderr, "pmo_testkit: waitpid %d: %s\n", (int)pid, strerror (errno));
            return -1;
        }
        if (timeout_ms >= 0 && s_now_ms () >= deadline)
            return -1;
        if (rc == 0)
            s_sleep_ms (5);
    }
}

//  SIGKILL and reap; never fails for a child of ours
static void s_kill_pid (pid_t pid)
{
    int status;
    kill (pid, SIGKILL);
    s_wait_pid (pid, -1, &status);
}

//  --------------------------------------------------------------------------
//  Files

//  Print the last `lines` lines of path to stderr
static void s_print_tail (const char *path, int lines)
{
    FILE *file = fopen (path, "r");
    if (!file) {
        fprintf (stderr, "pmo_testkit: (no %s: %s)\n", path, strerror (errno));
        return;
    }
    char *text = NULL;
    size_t size = 0;
    FILE *memory = open_memstream (&text, &size);
    assert (memory);
    char chunk[4096];
    size_t got;
    while ((got = fread (chunk, 1, sizeof chunk, file)) > 0)
        fwrite (chunk, 1, got, memory);
    fclose (memory);
    fclose (file);

    //  Walk back over `lines` newlines, ignoring the one that ends the text
    size_t start = size;
    if (start > 0 && text[start - 1] == '\n')
        start--;
    int seen = 0;
    while (start > 0 && (text[start - 1] != '\n' || ++seen < lines))
        start--;
    fwrite (text + start, 1, size - start, stderr);
    if (size > 0 && text[size - 1] != '\n')
        fputc ('\n', stderr);
    free (text);
}

static int s_remove_entry (const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    if (remove (path) != 0)
        fprintf (stderr, "pmo_testkit: cannot remove %s: %s\n", path, strerror (errno));
    return 0;
}

static void s_remove_tree (const char *dir)
{
    //  Only ever our own mkdtemp directories
    assert (strstr (dir, "/pmo-test-redis-") || strstr (dir, "/pmo-test-keys-"));
    nftw (dir, s_remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static const char *s_tmpdir (void)
{
    const char *tmpdir = getenv ("TMPDIR");
    return tmpdir && *tmpdir ? tmpdir : "/tmp";
}

//  Find redis-server on PATH, else /usr/bin/redis-server. Returns 0 / -1.
static int s_find_redis_server (char *path, size_t size)
{
    const char *env = getenv ("PATH");
    char *dirs = strdup (env ? env : "");
    assert (dirs);
    char *saveptr = NULL;
    for (char *dir = strtok_r (dirs, ":", &saveptr); dir; dir = strtok_r (NULL, ":", &saveptr)) {
        snprintf (path, size, "%s/redis-server", *dir ? dir : ".");
        if (access (path, X_OK) == 0) {
            free (dirs);
            return 0;
        }
    }
    free (dirs);
    snprintf (path, size, "/usr/bin/redis-server");
    return access (path, X_OK) == 0 ? 0 : -1;
}

//  --------------------------------------------------------------------------
//  Redis

//  Connect to 127.0.0.1:port with a deadline on connect and on each command.
//  Returns NULL and writes why into err (if not NULL).
static redisContext *s_connect (int port, int timeout_ms, char *err, size_t err_size)
{
    struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    redisContext *ctx = redisConnectWithTimeout ("127.0.0.1", port, tv);
    if (ctx && !ctx->err && redisSetTimeout (ctx, tv) == REDIS_OK)
        return ctx;
    if (err)
        snprintf (err, err_size, "%s", ctx ? ctx->errstr : "out of memory");
    if (ctx)
        redisFree (ctx);
    return NULL;
}

//  True if the server answers PING with PONG (not -LOADING while the AOF replays)
static bool s_redis_pong (int port)
{
    redisContext *ctx = s_connect (port, 200, NULL, 0);
    if (!ctx)
        return false;
    redisReply *reply = redisCommand (ctx, "PING");
    bool pong = reply && reply->type == REDIS_REPLY_STATUS && strcmp (reply->str, "PONG") == 0;
    if (reply)
        freeReplyObject (reply);
    redisFree (ctx);
    return pong;
}

//  Start redis-server on self->port and self->dir and wait for PONG.
//  Returns 0 when ready, -1 if it exited (the port may have been taken:
//  worth another port), -2 if it did not answer in time (killed).
static int s_redis_launch (pmo_test_redis_t *self)
{
    char port[16];
    snprintf (port, sizeof port, "%d", self->port);
    char *argv[] = {self->binary, "--port", port, "--bind", "127.0.0.1", "--dir", self->dir,
                    "--logfile", self->log, "--daemonize", "no", "--appendonly", "yes",
                    "--appendfsync", self->always_fsync ? "always" : "everysec",
                    //  No RDB: the AOF alone must carry the data across a crash
                    "--save", "",
                    //  Lets tests simulate a slow server with DEBUG SLEEP
                    "--enable-debug-command", "local", NULL};
    self->pid = s_spawn (argv, -1);
    if (self->pid < 0) {
        fprintf (stderr, "pmo_testkit: fork: %s\n", strerror (errno));
        self->pid = 0;
        return -2;
    }
    int64_t deadline = s_now_ms () + S_REDIS_READY_MS;
    while (true) {
        int status;
        if (waitpid (self->pid, &status, WNOHANG) == self->pid) {
            fprintf (stderr, "pmo_testkit: redis-server on port %d exited at start; %s:\n",
                     self->port, self->log);
            s_print_tail (self->log, S_LOG_TAIL_LINES);
            self->pid = 0;
            return -1;
        }
        if (s_redis_pong (self->port))
            return 0;
        if (s_now_ms () >= deadline)
            break;
        s_sleep_ms (20);
    }
    fprintf (stderr, "pmo_testkit: redis-server on port %d did not answer PING in %d ms; %s:\n",
             self->port, S_REDIS_READY_MS, self->log);
    s_print_tail (self->log, S_LOG_TAIL_LINES);
    s_kill_pid (self->pid);
    self->pid = 0;
    return -2;
}

//  --------------------------------------------------------------------------
//  Keys

static char s_keys_dir[PATH_MAX];

static void s_keys_remove (void)
{
    if (*s_keys_dir)
        s_remove_tree (s_keys_dir);
}

const char *pmo_test_keys (void)
{
    if (*s_keys_dir)
        return s_keys_dir;
    char dir[PATH_MAX];
    snprintf (dir, sizeof dir, "%s/pmo-test-keys-XXXXXX", s_tmpdir ());
    if (!mkdtemp (dir)) {
        fprintf (stderr, "pmo_testkit: mkdtemp %s: %s\n", dir, strerror (errno));
        return NULL;
    }
    char why[256];
    if (pmo_auth_keygen (dir, "server", "server", NULL, NULL, why, sizeof why) ||
        pmo_auth_keygen (dir, "test", "impersonate", NULL, NULL, why, sizeof why)) {
        fprintf (stderr, "pmo_testkit: keys in %s: %s\n", dir, why);
        s_remove_tree (dir);
        return NULL;
    }
    char secrets[PATH_MAX + 16];
    snprintf (secrets, sizeof secrets, "%s/secrets.seal", dir);
    if (pmo_seal_keygen (secrets, false, why, sizeof why)) {
        fprintf (stderr, "pmo_testkit: %s\n", why);
        s_remove_tree (dir);
        return NULL;
    }
    setenv ("PMO_SECRETS_KEY", secrets, 1);
    snprintf (s_keys_dir, sizeof s_keys_dir, "%s", dir);
    atexit (s_keys_remove);
    setenv ("PMO_KEYS", s_keys_dir, 1);
    setenv ("PMO_PRINCIPAL", "test", 1);
    if (pmo_auth_setup (s_keys_dir, "test")) {
        fprintf (stderr, "pmo_testkit: the keyring in %s does not load\n", s_keys_dir);
        return NULL;
    }
    return s_keys_dir;
}

int pmo_test_key (const char *name, const char *kind, const char *subject, const char *grants)
{
    const char *dir = pmo_test_keys ();
    char why[256];
    if (!dir)
        return -1;
    if (pmo_auth_keygen (dir, name, kind, subject, grants, why, sizeof why)) {
        fprintf (stderr, "pmo_testkit: key %s: %s\n", name, why);
        return -1;
    }
    return pmo_auth_setup (dir, "test");
}

zsock_t *pmo_test_dealer_new (const char *endpoint)
{
    zsock_t *dealer = zsock_new (ZMQ_DEALER);
    assert (dealer);
    pmo_auth_client (dealer, endpoint);
    if (zsock_connect (dealer, "%s", endpoint) < 0) {
        fprintf (stderr, "pmo_testkit: cannot connect to %s\n", endpoint);
        zsock_destroy (&dealer);
    }
    return dealer;
}

pmo_test_redis_t *pmo_test_redis_start (bool always_fsync)
{
    if (!pmo_test_keys ())
        return NULL;
    pmo_test_redis_t *self = calloc (1, sizeof *self);
    assert (self);
    self->always_fsync = always_fsync;
    if (s_find_redis_server (self->binary, sizeof self->binary) != 0) {
        fprintf (stderr, "pmo_testkit: redis-server is neither on PATH nor /usr/bin\n");
        free (self);
        return NULL;
    }
    snprintf (self->dir, sizeof self->dir, "%s/pmo-test-redis-XXXXXX", s_tmpdir ());
    if (!mkdtemp (self->dir)) {
        fprintf (stderr, "pmo_testkit: mkdtemp %s: %s\n", self->dir, strerror (errno));
        free (self);
        return NULL;
    }
    snprintf (self->log, sizeof self->log, "%s/redis.log", self->dir);

    //  Another process may bind the free port before redis-server does
    int rc = -1;
    for (int attempt = 0; attempt < S_START_ATTEMPTS && rc == -1; attempt++) {
        self->port = pmo_test_free_port ();
        if (self->port < 0)
            break;
        snprintf (self->url, sizeof self->url, "redis://127.0.0.1:%d", self->port);
        rc = s_redis_launch (self);
    }
    if (rc != 0) {
        fprintf (stderr, "pmo_testkit: could not start redis-server\n");
        s_remove_tree (self->dir);
        free (self);
        return NULL;
    }
    return self;
}

void pmo_test_redis_destroy (pmo_test_redis_t **self_p)
{
    assert (self_p);
    pmo_test_redis_t *self = *self_p;
    if (!self)
        return;
    if (self->pid > 0) {
        //  NOSAVE: nothing of a test's data is worth keeping
        redisContext *ctx = s_connect (self->port, 1000, NULL, 0);
        if (ctx) {
            redisReply *reply = redisCommand (ctx, "SHUTDOWN NOSAVE");
            if (reply)
                freeReplyObject (reply);
            redisFree (ctx);
        }
        int status;
        if (s_wait_pid (self->pid, S_REDIS_STOP_MS, &status) != 0)
            s_kill_pid (self->pid);
        self->pid = 0;
    }
    s_remove_tree (self->dir);
    free (self);
    *self_p = NULL;
}

const char *pmo_test_redis_url (pmo_test_redis_t *self)
{
    assert (self);
    return self->url;
}

const char *pmo_test_redis_dir (pmo_test_redis_t *self)
{
    assert (self);
    return self->dir;
}

int pmo_test_redis_port (pmo_test_redis_t *self)
{
    assert (self);
    return self->port;
}

void pmo_test_redis_kill (pmo_test_redis_t *self)
{
    assert (self);
    if (self->pid > 0)
        s_kill_pid (self->pid);
    self->pid = 0;
}

int pmo_test_redis_restart (pmo_test_redis_t *self)
{
    assert (self);
    if (self->pid > 0) {
        fprintf (stderr, "pmo_testkit: restart: redis-server %d is still running\n",
                 (int)self->pid);
        return -1;
    }
    if (s_redis_launch (self) != 0) {
        fprintf (stderr, "pmo_testkit: could not restart redis-server on port %d\n", self->port);
        return -1;
    }
    return 0;
}

redisReply *pmo_test_redis_command (pmo_test_redis_t *self, const char *format, ...)
{
    assert (self);
    assert (format);
    char err[256];
    redisContext *ctx = s_connect (self->port, S_COMMAND_MS, err, sizeof err);
    if (!ctx) {
        fprintf (stderr, "pmo_testkit: cannot reach %s for '%s': %s\n", self->url, format, err);
        return NULL;
    }
    va_list args;
    va_start (args, format);
    redisReply *reply = redisvCommand (ctx, format, args);
    va_end (args);
    if (!reply)
        fprintf (stderr, "pmo_testkit: '%s' on %s failed: %s\n", format, self->url, ctx->errstr);
    redisFree (ctx);
    return reply;
}

int pmo_test_redis_follow (pmo_test_redis_t *replica, pmo_test_redis_t *master)
{
    assert (replica && master);
    redisReply *reply = pmo_test_redis_command (replica, "REPLICAOF 127.0.0.1 %d", master->port);
    bool ok = reply && reply->type == REDIS_REPLY_STATUS;
    if (reply)
        freeReplyObject (reply);
    if (!ok) {
        fprintf (stderr, "pmo_testkit: %s refused to follow %s\n", replica->url, master->url);
        return -1;
    }
    for (int i = 0; i < 400; i++) {
        reply = pmo_test_redis_command (replica, "INFO replication");
        bool up = reply && reply->str && strstr (reply->str, "master_link_status:up");
        if (reply)
            freeReplyObject (reply);
        if (up)
            return 0;
        usleep (50 * 1000);
    }
    fprintf (stderr, "pmo_testkit: %s did not link to %s within 20 s\n", replica->url, master->url);
    return -1;
}

//  --------------------------------------------------------------------------
//  Ports and paths

//  The first port the kernel hands out on its own (connect, bind to 0).
static int s_ephemeral_low (void)
{
    int low = 32768, high = 60999;
    FILE *file = fopen ("/proc/sys/net/ipv4/ip_local_port_range", "r");
    if (file) {
        if (fscanf (file, "%d %d", &low, &high) != 2)
            low = 32768;
        fclose (file);
    }
    return low;
}

//  Claim port for this process's lifetime, against every other process of
//  the test kit: a lock on a file named for it, held until the process
//  exits (the kernel lets go of it then, however the process ends). A bind
//  check alone cannot tell a port another test picked a moment ago and
//  will bind shortly (ctest runs tests in parallel, and a restarted actor
//  leaves its port free for a moment). 0 claimed, -1 held by another.
static int s_port_claim (int port)
{
    const char *dir = "/tmp/pmo-test-ports";
    if (mkdir (dir, 01777) != 0 && errno != EEXIST)
        return 0; //  nowhere to claim: the bind check alone, as before
    char path[64];
    snprintf (path, sizeof path, "%s/%d", dir, port);
    int fd = open (path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    if (fd < 0)
        return 0;
    if (flock (fd, LOCK_EX | LOCK_NB) != 0) {
        close (fd);
        return -1;
    }
    return 0; //  fd stays open, and the lock with it, until the process ends
}

int pmo_test_free_port (void)
{
    //  Ports are picked at random below the kernel's ephemeral range: a port
    //  from bind (0) is one the kernel may hand to any other process's next
    //  outgoing connection or bind (0) while our server is not yet
    //  listening (tests run in parallel). Random picks from the range below
    //  collide when two tests pick the same port: each pick is claimed for
    //  the process's lifetime (s_port_claim), so no other test process is
    //  handed it, and a port this process gave up a moment ago (a stopped
    //  actor) stays its own to bind again.
    static pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER;
    static int recent[S_RECENT_PORTS];
    static size_t next;
    static unsigned int seed;

    pthread_mutex_lock (&mutex);
    if (!seed)
        seed = (unsigned int)getpid () ^ (unsigned int)pmo_mono_ms () ^ (unsigned int)time (NULL);
    int high = s_ephemeral_low () - 1;
    int low = high > 20000 ? 10000 : 1024;
    int port = -1;
    for (int attempt = 0; attempt < 200 && port < 0; attempt++) {
        port = low + (int)(rand_r (&seed) % (unsigned int)(high - low + 1));
        for (size_t index = 0; index < S_RECENT_PORTS; index++)
            if (recent[index] == port)
                port = -1;
        if (port == S_FORBIDDEN_PORT)
            port = -1;
        if (port < 0)
            continue;
        int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            port = -1;
            break;
        }
        struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons ((uint16_t)port)};
        addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
        if (bind (fd, (struct sockaddr *)&addr, sizeof addr) != 0)
            port = -1; //  taken: try another
        close (fd);
        if (port > 0 && s_port_claim (port) != 0)
            port = -1; //  another test process has it
    }
    if (port > 0) {
        recent[next] = port;
        next = (next + 1) % S_RECENT_PORTS;
    } else
        fprintf (stderr, "pmo_testkit: no free port on 127.0.0.1: %s\n", strerror (errno));
    pthread_mutex_unlock (&mutex);
    return port;
}

//  The nearest directory above the running binary that holds CMakeCache.txt
static void s_find_build_dir (char *dir, size_t size)
{
    char path[PATH_MAX];
    ssize_t len = readlink ("/proc/self/exe", path, sizeof path - 1);
    if (len > 0) {
        path[len] = '\0';
        char *slash;
        while ((slash = strrchr (path, '/')) && slash != path) {
            *slash = '\0';
            char cache[PATH_MAX + 16];
            snprintf (cache, sizeof cache, "%s/CMakeCache.txt", path);
            if (access (cache, F_OK) == 0) {
                snprintf (dir, size, "%s", path);
                return;
            }
        }
    }
    snprintf (dir, size, ".");
}

const char *pmo_test_build_path (const char *relative, char *buf, size_t size)
{
    assert (relative);
    assert (buf);
    char dir[PATH_MAX];
    const char *env = getenv ("PMO_BUILD_DIR");
    if (env && *env)
        snprintf (dir, sizeof dir, "%s", env);
    else
        s_find_build_dir (dir, sizeof dir);
    int len = snprintf (buf, size, "%s/%s", dir, relative);
    assert (len >= 0 && (size_t)len < size); //  caller's buffer is too small
    return buf;
}

//  --------------------------------------------------------------------------
//  Child processes

pmo_test_proc_t *pmo_test_proc_start (char *const argv[])
{
    assert (argv && argv[0]);
    if (!pmo_test_keys ())
        return NULL;
    pmo_test_proc_t *self = calloc (1, sizeof *self);
    assert (self);
    self->name = strdup (argv[0]);
    assert (self->name);
    const char *base = strrchr (argv[0], '/');
    base = base ? base + 1 : argv[0];
    snprintf (self->log, sizeof self->log, "%s/pmo-test-%.64s-XXXXXX.log", s_tmpdir (), base);
    int fd = mkostemps (self->log, 4, O_CLOEXEC);
    if (fd < 0) {
        fprintf (stderr, "pmo_testkit: cannot create %s: %s\n", self->log, strerror (errno));
        free (self->name);
        free (self);
        return NULL;
    }
    self->pid = s_spawn (argv, fd);
    close (fd);
    if (self->pid < 0) {
        fprintf (stderr, "pmo_testkit: fork for %s: %s\n", self->name, strerror (errno));
        unlink (self->log);
        free (self->name);
        free (self);
        return NULL;
    }
    return self;
}

pid_t pmo_test_proc_pid (pmo_test_proc_t *self)
{
    assert (self);
    return self->pid;
}

int pmo_test_proc_signal (pmo_test_proc_t *self, int signum)
{
    assert (self);
    if (self->reaped)
        return -1;
    if (kill (self->pid, signum) != 0)
        return -1;
    if (signum != 0)
        self->sent_signal = signum;
    return 0;
}

int pmo_test_proc_wait (pmo_test_proc_t *self, int timeout_ms)
{
    assert (self);
    if (!self->reaped) {
        int status;
        if (s_wait_pid (self->pid, timeout_ms, &status) != 0)
            return -1;
        self->reaped = true;
        if (WIFSIGNALED (status)) {
            self->term_signal = WTERMSIG (status);
            self->status = 128 + self->term_signal;
        } else
            self->status = WEXITSTATUS (status);
    }
    return self->status;
}

void pmo_test_proc_destroy (pmo_test_proc_t **self_p)
{
    assert (self_p);
    pmo_test_proc_t *self = *self_p;
    if (!self)
        return;
    if (!self->reaped) {
        pmo_test_proc_signal (self, SIGKILL);
        pmo_test_proc_wait (self, -1);
    }
    //  Dying of a signal the test sent is the test's intent, not a failure
    bool failed = self->term_signal ? self->term_signal != self->sent_signal : self->status != 0;
    const char *verbose = getenv ("PMO_TEST_VERBOSE");
    if (failed || (verbose && *verbose)) {
        fprintf (stderr, "---- pmo_testkit: output of %s (pid %d, ", self->name, (int)self->pid);
        if (self->term_signal)
            fprintf (stderr, "killed by signal %d) ----\n", self->term_signal);
        else
            fprintf (stderr, "exit %d) ----\n", self->status);
        s_print_tail (self->log, INT_MAX);
        fprintf (stderr, "---- end of %s ----\n", self->name);
    }
    unlink (self->log);
    free (self->name);
    free (self);
    *self_p = NULL;
}

static const Pmo__Error *s_reply_error (const ProtobufCMessage *reply)
{
    ProtobufCMessage **slot = pmo_wire_message_slot ((ProtobufCMessage *)reply, "error");
    const Pmo__Error *error = slot ? (const Pmo__Error *)*slot : NULL;
    return error && error->code != PMO__ERROR_CODE__ERROR_NONE ? error : NULL;
}

void pmo_test_reply_ok_at (const ProtobufCMessage *reply, const char *where, int line)
{
    const Pmo__Error *error = s_reply_error (reply);
    if (error) {
        fprintf (stderr, "%s:%d: expected success, got %s [%s]: %s\n", where, line,
                 pmo_error_code_name (error->code), error->field, error->message);
        abort ();
    }
}

void pmo_test_reply_err_at (const ProtobufCMessage *reply, Pmo__ErrorCode code, const char *field,
                            const char *where, int line)
{
    const Pmo__Error *error = s_reply_error (reply);
    if (!error) {
        fprintf (stderr, "%s:%d: expected %s, got success\n", where, line,
                 pmo_error_code_name (code));
        abort ();
    }
    if (error->code != code || (field && !strstr (error->field, field))) {
        fprintf (stderr, "%s:%d: expected %s [%s], got %s [%s]: %s\n", where, line,
                 pmo_error_code_name (code), field ? field : "*", pmo_error_code_name (error->code),
                 error->field, error->message);
        abort ();
    }
    if (!*error->message) {
        fprintf (stderr, "%s:%d: error without a message\n", where, line);
        abort ();
    }
}

zactor_t *pmo_test_actor_new (zactor_fn *actor, void *config, bool *failed)
{
    //  libzmq closes a stopped actor's listeners in its I/O thread, a moment
    //  after zactor_destroy returns: a restart on the same ports may have
    //  to wait for that. The ports are this process's (pmo_test_free_port
    //  claims them), so nothing else can be holding them for longer.
    if (!pmo_test_keys ())
        return NULL;
    for (int attempt = 0; attempt < S_ACTOR_BIND_TRIES; attempt++) {
        *failed = false;
        zactor_t *started = zactor_new (actor, config);
        if (started && !*failed)
            return started;
        zactor_destroy (&started);
        zclock_sleep (S_ACTOR_BIND_WAIT_MS);
    }
    fprintf (stderr, "pmo_testkit: the actor could not start (bind) in %d ms\n",
             S_ACTOR_BIND_TRIES * S_ACTOR_BIND_WAIT_MS);
    return NULL;
}

//  Whether a listener could bind port on 127.0.0.1 now (with SO_REUSEADDR,
//  as libzmq binds, so a closed connection's TIME_WAIT does not count).
static bool s_port_bindable (int port)
{
    int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return false;
    int on = 1;
    setsockopt (fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons ((uint16_t)port)};
    addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    bool free = bind (fd, (struct sockaddr *)&addr, sizeof addr) == 0;
    close (fd);
    return free;
}

int pmo_test_actor_destroy (zactor_t **actor_p, const char *const endpoints[])
{
    assert (actor_p);
    zactor_destroy (actor_p);
    for (size_t index = 0; endpoints && endpoints[index]; index++) {
        const char *colon = strrchr (endpoints[index], ':');
        if (strncmp (endpoints[index], "tcp://", 6) != 0 || !colon)
            continue;
        int port = atoi (colon + 1);
        int attempt = 0;
        while (!s_port_bindable (port) && ++attempt < S_ACTOR_BIND_TRIES)
            zclock_sleep (S_ACTOR_BIND_WAIT_MS);
        if (attempt == S_ACTOR_BIND_TRIES) {
            fprintf (stderr, "pmo_testkit: %s still taken %d ms after its actor stopped\n",
                     endpoints[index], S_ACTOR_BIND_TRIES * S_ACTOR_BIND_WAIT_MS);
            return -1;
        }
    }
    return 0;
}
