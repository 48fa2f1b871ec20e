/*  bench_idle.c: what an idle stack costs.

    Runs the real binaries (redis-server from the test kit, pmo-registry,
    pmo-allocator, pmo-riskmon, pmo-notifier, pmo-gateway) with a hub and
    N divisions, lets them settle, then does nothing for a while and
    measures, per service:

    - Redis commands per second it sends, counted with MONITOR and
      attributed to the service by the client address of each command (its
      sockets' local ports, read from /proc). Commands a Lua script runs are
      counted apart ("lua"): they are part of the script call that the
      service sent.
    - CPU as a share of one core, the time its threads spent on a CPU
      (/proc/<pid>/task/<tid>/schedstat, in nanoseconds: the clock-tick figures
      of /proc/<pid>/stat are too coarse for 0.1%: printed beside it as
      "ticks"); Redis's own too.

    Target (issue 17): at most 10 commands/s and 0.1% CPU per service, the
    same for 10 and for 1,000 divisions.

    usage: bench_idle [--seconds S] [--divisions N[,N...]]   (default 60 s; 10,1000)
           bench_idle --quick                                (10 s; 10,1000)
*/
#include "pmo_client.h"
#include "pmo_testkit.h"
#include "pmo_util.h"
#include "registry.pb-c.h"

#include <assert.h>
#include <dirent.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SERVICES     5
#define PORTS_MAX    256
#define SETTLE_S     5
#define COMMANDS_MAX 64

//  ---------------------------------------------------------------------
//  Processes: CPU and the local ports of their TCP sockets

//  CPU seconds of every thread of pid, to the nanosecond: the sum of
//  /proc/<pid>/task/<tid>/schedstat (time on a CPU). /proc/<pid>/stat's
//  utime and stime are sampled at the clock tick (10 ms): a service that
//  wakes for 0.2 ms a second is charged a whole tick now and then, so over
//  10 s one tick more or less is 0.1% of a core, the whole target. An idle
//  service starts no threads, so none ends between the two readings.
static double s_cpu_seconds (pid_t pid)
{
    char path[300];
    snprintf (path, sizeof path, "/proc/%d/task", (int)pid);
    DIR *dir = opendir (path);
    if (!dir)
        return -1;
    unsigned long long total = 0;
    struct dirent *entry;
    while ((entry = readdir (dir))) {
        if (entry->d_name[0] == '.')
            continue;
        snprintf (path, sizeof path, "/proc/%d/task/%s/schedstat", (int)pid, entry->d_name);
        FILE *f = fopen (path, "r");
        unsigned long long ns = 0;
        if (f && fscanf (f, "%llu", &ns) == 1)
            total += ns;
        if (f)
            fclose (f);
    }
    closedir (dir);
    return (double)total / 1e9;
}

//  The same from /proc/<pid>/stat (utime + stime, in clock ticks), printed
//  beside it to show the difference.
static double s_cpu_ticks (pid_t pid)
{
    char path[64], line[1024];
    snprintf (path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen (path, "r");
    if (!f)
        return -1;
    double seconds = -1;
    if (fgets (line, sizeof line, f)) {
        //  the fields after the command name (which may hold spaces)
        char *p = strrchr (line, ')');
        unsigned long utime = 0, stime = 0;
        if (p && sscanf (p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime,
                         &stime) == 2)
            seconds = (double)(utime + stime) / (double)sysconf (_SC_CLK_TCK);
    }
    fclose (f);
    return seconds;
}

typedef struct {
    const char *name;
    pid_t pid;
    int ports[PORTS_MAX]; //  local TCP ports of its sockets
    size_t n_ports;
    double cpu_start, cpu_end;
    double ticks_start, ticks_end;
    unsigned long commands;
    char command_names[COMMANDS_MAX][24];
    unsigned long command_counts[COMMANDS_MAX];
    size_t n_command_names;
} proc_t;

//  The socket inodes of pid, then the local ports of those in /proc/net/tcp*.
static void s_ports_read (proc_t *proc)
{
    unsigned long inodes[1024];
    size_t n_inodes = 0;
    char path[64];
    snprintf (path, sizeof path, "/proc/%d/fd", (int)proc->pid);
    DIR *dir = opendir (path);
    if (!dir)
        return;
    struct dirent *entry;
    while ((entry = readdir (dir)) && n_inodes < 1024) {
        char link[600], target[64];
        snprintf (link, sizeof link, "%s/%s", path, entry->d_name);
        ssize_t len = readlink (link, target, sizeof target - 1);
        if (len <= 0)
            continue;
        target[len] = 0;
        unsigned long inode;
        if (sscanf (target, "socket:[%lu]", &inode) == 1)
            inodes[n_inodes++] = inode;
    }
    closedir (dir);
    const char *tables[] = {"/proc/net/tcp", "/proc/net/tcp6"};
    for (size_t t = 0; t < 2; t++) {
        FILE *f = fopen (tables[t], "r");
        char line[512];
        while (f && fgets (line, sizeof line, f)) {
            char local[64];
            unsigned long inode;
            if (sscanf (line, " %*d: %63s %*s %*x %*s %*s %*s %*d %*d %lu", local, &inode) != 2)
                continue;
            char *colon = strrchr (local, ':');
            if (!colon)
                continue;
            int port = (int)strtol (colon + 1, NULL, 16);
            for (size_t i = 0; i < n_inodes; i++)
                if (inodes[i] == inode && proc->n_ports < PORTS_MAX) {
                    bool known = false;
                    for (size_t k = 0; k < proc->n_ports; k++)
                        known = known || proc->ports[k] == port;
                    if (!known)
                        proc->ports[proc->n_ports++] = port;
                }
        }
        if (f)
            fclose (f);
    }
}

//  ---------------------------------------------------------------------
//  MONITOR: every command Redis runs, with the client's address

typedef struct {
    redisContext *redis;
    atomic_bool stop;
    pthread_t thread;
    //  one line per command: "<port> <COMMAND>" (port 0: inside a script)
    char **lines;
    size_t n_lines, cap;
} monitor_t;

static void *s_monitor_run (void *arg)
{
    monitor_t *m = arg;
    while (!atomic_load (&m->stop)) {
        redisReply *reply = NULL;
        if (redisGetReply (m->redis, (void **)&reply) != REDIS_OK) {
            if (m->redis->err == REDIS_ERR_IO && (errno == EAGAIN || errno == EWOULDBLOCK)) {
                m->redis->err = 0; //  the read timed out: look at the stop flag
                continue;
            }
            break;
        }
        if (reply->type == REDIS_REPLY_STATUS && reply->str[0] != 'O') {
            //  1700000000.123456 [0 127.0.0.1:54321] "XREADGROUP" ...
            char *open = strchr (reply->str, '[');
            char *close = open ? strchr (open, ']') : NULL;
            char *quote = close ? strchr (close, '"') : NULL;
            if (open && close && quote) {
                int port = 0;
                char *colon = memrchr (open, ':', (size_t)(close - open));
                if (!strstr (open, "lua]") && colon)
                    port = atoi (colon + 1);
                char name[24] = "";
                size_t n = strcspn (quote + 1, "\"");
                snprintf (name, sizeof name, "%.*s", (int)(n < 23 ? n : 23), quote + 1);
                if (m->n_lines == m->cap) {
                    m->cap = m->cap ? m->cap * 2 : 4096;
                    m->lines = realloc (m->lines, m->cap * sizeof (char *));
                    assert (m->lines);
                }
                char line[48];
                snprintf (line, sizeof line, "%d %s", port, name);
                m->lines[m->n_lines++] = strdup (line);
            }
        }
        freeReplyObject (reply);
    }
    return NULL;
}

static monitor_t *s_monitor_start (int port)
{
    monitor_t *m = calloc (1, sizeof (monitor_t));
    struct timeval timeout = {.tv_sec = 0, .tv_usec = 200000};
    m->redis = redisConnectWithTimeout ("127.0.0.1", port, timeout);
    assert (m->redis && !m->redis->err);
    redisSetTimeout (m->redis, timeout);
    redisReply *reply = redisCommand (m->redis, "MONITOR");
    assert (reply && reply->type == REDIS_REPLY_STATUS);
    freeReplyObject (reply);
    pthread_create (&m->thread, NULL, s_monitor_run, m);
    return m;
}

static void s_monitor_stop (monitor_t *m)
{
    atomic_store (&m->stop, true);
    pthread_join (m->thread, NULL);
    redisFree (m->redis);
}

static void s_monitor_destroy (monitor_t *m)
{
    for (size_t i = 0; i < m->n_lines; i++)
        free (m->lines[i]);
    free (m->lines);
    free (m);
}

static void s_count (proc_t *proc, const char *name)
{
    proc->commands++;
    for (size_t i = 0; i < proc->n_command_names; i++)
        if (strcmp (proc->command_names[i], name) == 0) {
            proc->command_counts[i]++;
            return;
        }
    if (proc->n_command_names < COMMANDS_MAX) {
        snprintf (proc->command_names[proc->n_command_names], 24, "%s", name);
        proc->command_counts[proc->n_command_names++] = 1;
    }
}

//  ---------------------------------------------------------------------
//  The stack

static Pmo__Identity s_identity;
static Pmo__Grant s_grant, *s_grants[1];

static void s_unit (pmo_client_t *registry, const char *id, Pmo__OrgUnitKind kind,
                    const char *parent)
{
    Pmo__OrgUnit unit = PMO__ORG_UNIT__INIT;
    unit.id = (char *)id;
    unit.name = (char *)id;
    unit.kind = kind;
    unit.parent = (char *)parent;
    Pmo__RegistryRequest request = PMO__REGISTRY_REQUEST__INIT;
    request.body_case = PMO__REGISTRY_REQUEST__BODY_CREATE_ORG_UNIT;
    request.create_org_unit = &unit;
    Pmo__Header header;
    char request_id[37];
    pmo_header_init (&header, request_id, 5000, &s_identity);
    request.header = &header;
    Pmo__RegistryReply *reply = NULL;
    if (pmo_client_call (registry, &request.base, &pmo__registry_reply__descriptor, 5000, 2,
                         (ProtobufCMessage **)&reply) ||
        reply->error) {
        fprintf (stderr, "bench: cannot create org unit %s: %s\n", id,
                 reply && reply->error ? reply->error->message : "no reply");
        exit (1);
    }
    pmo__registry_reply__free_unpacked (reply, NULL);
}

static pmo_test_proc_t *s_start (const char *binary, char **args)
{
    char path[512];
    char *argv[40] = {(char *)pmo_test_build_path (binary, path, sizeof path)};
    size_t n = 1;
    for (; args[n - 1] && n < 39; n++)
        argv[n] = args[n - 1];
    argv[n] = NULL;
    pmo_test_proc_t *proc = pmo_test_proc_start (argv);
    if (!proc)
        exit (1);
    return proc;
}

//  One measurement: a fresh Redis and stack with n divisions, idle for
//  seconds. Prints a table; returns false if a service went over target.
static bool s_measure (int divisions, int seconds)
{
    pmo_test_redis_t *redis = pmo_test_redis_start (false);
    assert (redis);
    const char *url = pmo_test_redis_url (redis);
    char ep[SERVICES][64], pub[SERVICES][64], http[32];
    for (int i = 0; i < SERVICES; i++) {
        snprintf (ep[i], sizeof ep[i], "tcp://127.0.0.1:%d", pmo_test_free_port ());
        snprintf (pub[i], sizeof pub[i], "tcp://127.0.0.1:%d", pmo_test_free_port ());
    }
    snprintf (http, sizeof http, "127.0.0.1:%d", pmo_test_free_port ());
    enum { REG, ALLOC, RISK, NOTIF, GW };

    proc_t procs[SERVICES + 1] = {{.name = "registry"}, {.name = "allocator"},
                                  {.name = "riskmon"},  {.name = "notifier"},
                                  {.name = "gateway"},  {.name = "redis (self)"}};
    pmo_test_proc_t *children[SERVICES] = {0};
    children[REG] = s_start ("services/registry/pmo-registry",
                             (char *[]){"--redis", (char *)url, "--endpoint", ep[REG], "--pub",
                                        pub[REG], "--log-level", "warn", NULL});
    //  The org units first, so every service starts knowing them all
    pmo_client_t *registry = pmo_client_new (ep[REG]);
    assert (registry);
    s_unit (registry, "hub", PMO__ORG_UNIT_KIND__ORG_UNIT_KIND_ENTERPRISE, "");
    for (int d = 0; d < divisions; d++) {
        char id[32];
        snprintf (id, sizeof id, "div%04d", d);
        s_unit (registry, id, PMO__ORG_UNIT_KIND__ORG_UNIT_KIND_DIVISION, "hub");
    }
    pmo_client_destroy (&registry);
    children[ALLOC] =
        s_start ("services/allocator/pmo-allocator",
                 (char *[]){"--redis", (char *)url, "--endpoint", ep[ALLOC], "--pub", pub[ALLOC],
                            "--registry", ep[REG], "--log-level", "warn", NULL});
    children[RISK] =
        s_start ("services/riskmon/pmo-riskmon",
                 (char *[]){"--redis", (char *)url, "--endpoint", ep[RISK], "--pub", pub[RISK],
                            "--registry", ep[REG], "--log-level", "warn", NULL});
    children[NOTIF] =
        //  (its click worker's services too: left to the defaults, it tried
        //  to connect to ports 7102 and 7103 twice a second, refused, or
        //  reached whatever stack listened there)
        s_start ("services/notifier/pmo-notifier",
                 (char *[]){"--redis", (char *)url, "--endpoint", ep[NOTIF], "--pub", pub[NOTIF],
                            "--registry", ep[REG], "--allocator", ep[ALLOC], "--riskmon", ep[RISK],
                            "--log-level", "warn", NULL});
    children[GW] = s_start ("services/gateway/pmo-gateway", (char *[]){"--redis",
                                                                       (char *)url,
                                                                       "--http",
                                                                       http,
                                                                       "--endpoint",
                                                                       ep[GW],
                                                                       "--registry",
                                                                       ep[REG],
                                                                       "--registry-pub",
                                                                       pub[REG],
                                                                       "--allocator",
                                                                       ep[ALLOC],
                                                                       "--allocator-pub",
                                                                       pub[ALLOC],
                                                                       "--riskmon",
                                                                       ep[RISK],
                                                                       "--riskmon-pub",
                                                                       pub[RISK],
                                                                       "--notifier",
                                                                       ep[NOTIF],
                                                                       "--notifier-pub",
                                                                       pub[NOTIF],
                                                                       "--log-level",
                                                                       "warn",
                                                                       NULL});
    //  Let them start, read the org tree, create their groups
    sleep (SETTLE_S);
    for (int i = 0; i < SERVICES; i++) {
        procs[i].pid = pmo_test_proc_pid (children[i]);
        if (pmo_test_proc_wait (children[i], 0) != -1) {
            fprintf (stderr, "bench: %s exited while starting\n", procs[i].name);
            exit (1);
        }
    }
    redisReply *info = pmo_test_redis_command (redis, "INFO server");
    char *pid_field = info ? strstr (info->str, "process_id:") : NULL;
    procs[SERVICES].pid = pid_field ? (pid_t)atoi (pid_field + 11) : 0;
    freeReplyObject (info);

    for (int i = 0; i <= SERVICES; i++) {
        s_ports_read (&procs[i]);
        procs[i].cpu_start = s_cpu_seconds (procs[i].pid);
        procs[i].ticks_start = s_cpu_ticks (procs[i].pid);
    }
    monitor_t *monitor = s_monitor_start (pmo_test_redis_port (redis));
    int64_t start = pmo_mono_ms ();
    sleep ((unsigned)seconds);
    s_monitor_stop (monitor);
    double elapsed = (double)(pmo_mono_ms () - start) / 1000.0;
    for (int i = 0; i <= SERVICES; i++) {
        procs[i].cpu_end = s_cpu_seconds (procs[i].pid);
        procs[i].ticks_end = s_cpu_ticks (procs[i].pid);
        s_ports_read (&procs[i]); //  connections made during the run too
    }
    proc_t lua = {.name = "lua (inside scripts)"}, other = {.name = "unattributed"};
    for (size_t l = 0; l < monitor->n_lines; l++) {
        int port = atoi (monitor->lines[l]);
        const char *name = strchr (monitor->lines[l], ' ') + 1;
        proc_t *owner = port == 0 ? &lua : &other;
        for (int i = 0; i < SERVICES && port; i++)
            for (size_t k = 0; k < procs[i].n_ports; k++)
                if (procs[i].ports[k] == port)
                    owner = &procs[i];
        s_count (owner, name);
    }
    printf ("\n%d divisions, idle for %.0f s (after %d s to settle):\n", divisions, elapsed,
            SETTLE_S);
    printf ("  %-22s %12s %8s %8s   %s\n", "", "commands/s", "CPU %", "(ticks)",
            "commands (count)");
    bool ok = true;
    proc_t *rows[SERVICES + 3];
    for (int i = 0; i <= SERVICES; i++)
        rows[i] = &procs[i];
    rows[SERVICES + 1] = &lua;
    rows[SERVICES + 2] = &other;
    for (int i = 0; i < SERVICES + 3; i++) {
        proc_t *p = rows[i];
        double rate = (double)p->commands / elapsed;
        double cpu = p->pid ? (p->cpu_end - p->cpu_start) / elapsed * 100.0 : -1;
        double ticks = p->pid ? (p->ticks_end - p->ticks_start) / elapsed * 100.0 : -1;
        char detail[400] = "";
        size_t used = 0;
        for (size_t c = 0; c < p->n_command_names && used < sizeof detail - 40; c++)
            used += (size_t)snprintf (detail + used, sizeof detail - used, "%s%s %lu",
                                      c ? ", " : "", p->command_names[c], p->command_counts[c]);
        if (cpu >= 0)
            printf ("  %-22s %12.1f %8.3f %8.3f   %s\n", p->name, rate, cpu, ticks, detail);
        else
            printf ("  %-22s %12.1f %8s %8s   %s\n", p->name, rate, "", "", detail);
        if (i < SERVICES && (rate > 10.0 || cpu > 0.1))
            ok = false;
    }
    s_monitor_destroy (monitor);
    for (int i = SERVICES - 1; i >= 0; i--) {
        pmo_test_proc_signal (children[i], SIGTERM);
        pmo_test_proc_wait (children[i], 10000);
        pmo_test_proc_destroy (&children[i]);
    }
    pmo_test_redis_destroy (&redis);
    return ok;
}

int main (int argc, char **argv)
{
    int seconds = 60;
    char divisions[128] = "10,1000";
    for (int i = 1; i < argc; i++) {
        if (strcmp (argv[i], "--quick") == 0)
            seconds = 10;
        else if (strcmp (argv[i], "--seconds") == 0 && i + 1 < argc)
            seconds = atoi (argv[++i]);
        else if (strcmp (argv[i], "--divisions") == 0 && i + 1 < argc)
            snprintf (divisions, sizeof divisions, "%s", argv[++i]);
        else {
            fprintf (stderr, "usage: bench_idle [--quick] [--seconds S] [--divisions N[,N...]]\n");
            return 2;
        }
    }
    if (seconds <= 0) {
        fprintf (stderr, "bench_idle: --seconds must be a positive number\n");
        return 2;
    }
    signal (SIGPIPE, SIG_IGN);
    s_grant = (Pmo__Grant)PMO__GRANT__INIT;
    s_grant.role = PMO__ROLE__ROLE_ADMIN;
    s_grant.org_unit = "hub";
    s_grants[0] = &s_grant;
    s_identity = (Pmo__Identity)PMO__IDENTITY__INIT;
    s_identity.subject = "bench";
    s_identity.grants = s_grants;
    s_identity.n_grants = 1;
    printf ("bench_idle: Redis commands/s and CPU of each service while nothing happens\n");
    printf ("target: at most 10 commands/s and 0.1%% CPU per service, whatever the divisions\n");
    bool ok = true;
    for (char *save = NULL, *one = strtok_r (divisions, ",", &save); one;
         one = strtok_r (NULL, ",", &save)) {
        int n = atoi (one);
        if (n <= 0 || n > 10000) {
            fprintf (stderr, "bench_idle: --divisions: %s is not a count of 1..10000\n", one);
            return 2;
        }
        ok = s_measure (n, seconds) && ok;
    }
    printf ("\nbench_idle: %s\n", ok ? "every service within target" : "over target (see above)");
    return 0;
}
