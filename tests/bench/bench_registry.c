/*  bench_registry.c: how fast the project registry writes, and how close
    that is to what this machine allows.

    Starts its own redis-server (AOF, appendfsync everysec or always), the
    real pmo-registry and a floor server (bench_floor.c: the registry's Redis
    round trips and nothing else, plus two variants with fewer round trips)
    as child processes on free ports. Then drives create_project and
    update_project at 1 and 32 requests in flight against each of them in
    the same run, in rounds where the servers take turns, and prints
    throughput, latency, CPU per request of each process and the Redis
    commands per request. Then it loads the registry to --projects projects,
    prints the registry's memory and Redis's, and times list pages.

    A benchmark reports; it never fails the build. It is built but not run
    by ctest. Everything it starts is stopped and removed when it exits,
    also on failure or Ctrl-C.
*/
#include "bench_driver.h"
#include "bench_floor.h"
#include "pmo_auth.h"
#include "pmo_client.h"
#include "pmo_commit.h"
#include "pmo_testkit.h"

#include <czmq.h>
#include <dirent.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define S_HUB           "hub"
#define S_DIVISION      "dft"
#define S_TIMEOUT_MS    10000 //  per request: the deadline and the driver's timeout
#define S_LIST_LIMIT    50
#define S_TARGET_RATIO  0.8  //  registry at c=32: at least 0.8 of the floor's throughput (issue 17)
#define S_TARGET_P99_US 5000 //  ... with p99 under 5 ms
#define S_TARGET_RSS_KB (32 * 1024)
#define S_MAX_CMDSTATS  64
#define S_MAX_ROUNDS    8
#define S_TARGET_ALWAYS 5000 //  creates/s at c=32 with appendfsync always (group commit)
#define S_WAIT_MS       500  //  with --replica: each commit waits at most this for the replica

//  The servers measured; the floor's order matches its arguments (bench_floor.h)
//  T_FLOORB is the floor the target is judged against: it batches as the
//  registry does. The others show what each step of that design is worth.
//  T_PLAIN is a second pmo-registry on the same Redis with CURVE off
//  (--keys none), to measure what authentication costs.
typedef enum { T_REGISTRY, T_FLOOR, T_FLOOR2, T_FLOOR1, T_FLOORB, T_PLAIN, T_COUNT } target_t;
typedef enum { OP_CREATE, OP_UPDATE, OP_COUNT } op_t;
#define N_CONC 2

static const char *s_target_names[T_COUNT] = {"registry",  "floor",       "floor-2rt",
                                              "floor-1rt", "floor-batch", "registry-plain"};
#define S_TARGET_CURVE_COST 0.10 //  CURVE costs at most 10% of the plain registry's ops/s at c=32
static const char *s_op_names[OP_COUNT] = {"create", "update"};
static const int s_conc[N_CONC] = {1, 32};

//  A project made by a create phase, for the update phase after it.
typedef struct {
    char id[40];
    uint64_t version;
    Pmo__Phase phase;
    Pmo__ProjectStatus status;
} made_t;

//  The requests of one phase.
typedef struct {
    const char *code_prefix; //  codes are unique in a division: "<prefix>-<index>"
    made_t *made;            //  one per request
    char last_request_id[40];
} batch_t;

typedef struct {
    char name[48];
    unsigned long long calls;
    unsigned long long usec; //  time Redis spent in it
} cmdstat_t;

//  One measurement (a server, a request type, a concurrency), possibly taken
//  in several rounds interleaved with the other servers'.
typedef struct {
    bench_result_t result;
    int64_t server_ns, redis_ns, client_ns; //  CPU time of each process
    cmdstat_t commands[S_MAX_CMDSTATS];     //  Redis commands run meanwhile
    size_t n_commands;
    unsigned long long forks; //  Redis forks meanwhile (AOF rewrites)
    double round_ops[S_MAX_ROUNDS];
    size_t rounds;
    double server_us, redis_us, client_us; //  CPU per request of each process
    bool ran;
} figure_t;

typedef struct {
    //  Options
    bool always_fsync;   //  appendfsync always instead of everysec
    bool replica;        //  a replica follows Redis; both registries WAIT for it
    bool quick;          //  a smoke run
    size_t requests;     //  per phase at c=32
    size_t requests_c1;  //  per phase at c=1
    size_t warmup;       //  per server, creates and updates at c=32
    size_t projects;     //  in the division before the memory figures
    size_t list_repeats; //  times the first and the deep page are timed
    size_t rounds;       //  each measurement in this many chunks, the servers taking turns
    //  What runs
    char registry_path[PATH_MAX]; //  the pmo-registry binary
    char self_path[PATH_MAX];     //  this binary, run again as the floor
    pmo_test_redis_t *redis;
    pmo_test_redis_t *replica_redis; //  --replica: follows redis
    char redis_url[128];             //  the registries': with ?replicas=1 under --replica
    pmo_test_proc_t *registry;
    pmo_test_proc_t *plain; //  the registry without CURVE
    pmo_test_proc_t *floor;
    int registry_pid, plain_pid, floor_pid, redis_pid; //  for /proc figures
    char endpoint[T_COUNT][64];                        //  each server's ROUTER
    char pub_endpoint[64];                             //  the registry's PUB
    char plain_pub_endpoint[64];                       //  the plain registry's PUB
    pmo_client_t *client;                              //  setup and list requests to the registry
    Pmo__Identity identity;                            //  an admin of the hub
    Pmo__Grant grant;
    Pmo__Grant *grants[1];
    char redis_version[32];
    //  Figures
    size_t created; //  projects in the registry's division
    figure_t figures[T_COUNT][OP_COUNT][N_CONC];
    long rss_start_kb, rss_kb, hwm_kb; //  the registry's, from /proc
    double redis_used_mb;
    int64_t list_first_us, list_deep_us; //  p50 of the first and of the deep page
    size_t list_deep_page, list_pages;
    double list_walk_s; //  every page, one after the other
} bench_t;

//  ---------------------------------------------------------------------
//  Processes: memory and CPU from /proc

//  True if pid runs exe, or has arg among its arguments.
static bool s_proc_matches (int pid, const char *exe, const char *arg)
{
    char path[64];
    if (exe) {
        char link[PATH_MAX];
        snprintf (path, sizeof path, "/proc/%d/exe", pid);
        ssize_t len = readlink (path, link, sizeof link - 1);
        if (len <= 0)
            return false;
        link[len] = 0;
        return strcmp (link, exe) == 0;
    }
    snprintf (path, sizeof path, "/proc/%d/cmdline", pid);
    FILE *file = fopen (path, "r");
    if (!file)
        return false;
    char text[4096];
    size_t got = fread (text, 1, sizeof text - 1, file);
    fclose (file);
    text[got] = 0;
    for (size_t at = 0; at < got; at += strlen (text + at) + 1)
        if (strcmp (text + at, arg) == 0)
            return true;
    return false;
}

//  The pid of a child of ours running exe (or, if exe is NULL, with arg
//  among its arguments: a child run under valgrind has valgrind's exe); -1
//  if none.
static int s_child_pid (const char *exe, const char *arg)
{
    char want[PATH_MAX];
    if (exe && !realpath (exe, want))
        return -1;
    DIR *dir = opendir ("/proc");
    if (!dir)
        return -1;
    int found = -1;
    struct dirent *entry;
    while (found < 0 && (entry = readdir (dir))) {
        int pid = atoi (entry->d_name);
        if (pid <= 0)
            continue;
        char path[64], text[512];
        snprintf (path, sizeof path, "/proc/%d/stat", pid);
        FILE *file = fopen (path, "r");
        if (!file)
            continue;
        size_t got = fread (text, 1, sizeof text - 1, file);
        fclose (file);
        text[got] = 0;
        //  "pid (comm) state ppid ...": comm may hold spaces, so go by the last ')'
        char *close = strrchr (text, ')');
        char state;
        int ppid;
        if (close && sscanf (close + 1, " %c %d", &state, &ppid) == 2 && ppid == getpid () &&
            s_proc_matches (pid, exe ? want : NULL, arg))
            found = pid;
    }
    closedir (dir);
    return found;
}

//  A "Vm...:" line of /proc/<pid>/status in kB; -1 if unreadable.
static long s_status_kb (int pid, const char *field)
{
    char path[64], line[256];
    snprintf (path, sizeof path, "/proc/%d/status", pid);
    FILE *file = fopen (path, "r");
    if (!file)
        return -1;
    long kb = -1;
    size_t len = strlen (field);
    while (fgets (line, sizeof line, file))
        if (strncmp (line, field, len) == 0 && line[len] == ':') {
            kb = atol (line + len + 1);
            break;
        }
    fclose (file);
    return kb;
}

//  ---------------------------------------------------------------------
//  Redis: INFO fields and command counts

//  The value of field in INFO section, copied into out ("" if absent).
static const char *s_info (bench_t *self, const char *section, const char *field, char *out,
                           size_t size)
{
    *out = 0;
    redisReply *reply = pmo_test_redis_command (self->redis, "INFO %s", section);
    if (!reply)
        return out;
    if (reply->type == REDIS_REPLY_STRING) {
        size_t len = strlen (field);
        for (char *line = reply->str; line && *line;) {
            char *end = strchr (line, '\n');
            if (strncmp (line, field, len) == 0 && line[len] == ':') {
                size_t vlen = end ? (size_t)(end - line) - len - 1 : strlen (line + len + 1);
                while (vlen && (line[len + 1 + vlen - 1] == '\r'))
                    vlen--;
                snprintf (out, size, "%.*s", (int)vlen, line + len + 1);
                break;
            }
            line = end ? end + 1 : NULL;
        }
    }
    freeReplyObject (reply);
    return out;
}

//  How often Redis has run each command (also those run inside scripts).
static size_t s_cmdstats (bench_t *self, cmdstat_t *stats)
{
    redisReply *reply = pmo_test_redis_command (self->redis, "INFO commandstats");
    size_t n = 0;
    if (reply && reply->type == REDIS_REPLY_STRING) {
        for (char *line = strstr (reply->str, "cmdstat_"); line && n < S_MAX_CMDSTATS;
             line = strstr (line + 1, "\ncmdstat_")) {
            if (*line == '\n')
                line++;
            if (sscanf (line, "cmdstat_%47[^:]:calls=%llu,usec=%llu", stats[n].name,
                        &stats[n].calls, &stats[n].usec) == 3 &&
                strcmp (stats[n].name, "info") != 0) //  our own probes
                n++;
        }
    }
    if (reply)
        freeReplyObject (reply);
    return n;
}

//  Add after - before to the figure's command counts.
static void s_cmdstats_add (figure_t *figure, const cmdstat_t *before, size_t n_before,
                            const cmdstat_t *after, size_t n_after)
{
    for (size_t i = 0; i < n_after; i++) {
        cmdstat_t delta = after[i];
        for (size_t j = 0; j < n_before; j++)
            if (strcmp (before[j].name, after[i].name) == 0) {
                delta.calls -= before[j].calls;
                delta.usec -= before[j].usec;
            }
        if (delta.calls == 0)
            continue;
        size_t k = 0;
        while (k < figure->n_commands && strcmp (figure->commands[k].name, delta.name) != 0)
            k++;
        if (k == figure->n_commands) {
            if (k == S_MAX_CMDSTATS)
                continue;
            snprintf (figure->commands[k].name, sizeof figure->commands[k].name, "%s", delta.name);
            figure->n_commands++;
        }
        figure->commands[k].calls += delta.calls;
        figure->commands[k].usec += delta.usec;
    }
}

//  "get=1.00 hmget=1.00 ..." per request.
static void s_cmdstats_text (const figure_t *figure, char *out, size_t size)
{
    size_t used = 0;
    *out = 0;
    double requests = (double)(figure->result.requests ? figure->result.requests : 1);
    for (size_t i = 0; i < figure->n_commands && used < size; i++) {
        double per = (double)figure->commands[i].calls / requests;
        if (per < 0.005)
            continue;
        int len = snprintf (out + used, size - used, "%s%s=%.2f", used ? " " : "",
                            figure->commands[i].name, per);
        if (len > 0)
            used += (size_t)len;
    }
}

//  Redis's time per call of one command (0 if it did not run).
static double s_cmdstats_usec (const figure_t *figure, const char *name)
{
    for (size_t i = 0; i < figure->n_commands; i++)
        if (strcmp (figure->commands[i].name, name) == 0 && figure->commands[i].calls)
            return (double)figure->commands[i].usec / (double)figure->commands[i].calls;
    return 0;
}

//  Requests per call of one command: the batch a script call carried
//  (0 if it did not run).
static double s_cmdstats_per_call (const figure_t *figure, const char *name)
{
    for (size_t i = 0; i < figure->n_commands; i++)
        if (strcmp (figure->commands[i].name, name) == 0 && figure->commands[i].calls)
            return (double)figure->result.requests / (double)figure->commands[i].calls;
    return 0;
}

static unsigned long long s_forks (bench_t *self)
{
    char text[32];
    return strtoull (s_info (self, "stats", "total_forks", text, sizeof text), NULL, 10);
}

//  ---------------------------------------------------------------------
//  Requests

static Pmo__Money *s_money (pmo_arena_t *arena, int64_t minor)
{
    Pmo__Money *money = pmo_arena_alloc (arena, sizeof (Pmo__Money));
    pmo__money__init (money);
    money->minor = minor;
    money->currency = "GBP";
    return money;
}

//  A valid project with the fields a PMO fills in on day one.
static Pmo__Project *s_project (pmo_arena_t *arena, const batch_t *batch, size_t index)
{
    Pmo__Project *project = pmo_arena_alloc (arena, sizeof (Pmo__Project));
    pmo__project__init (project);
    project->code = pmo_arena_printf (arena, "%s-%zu", batch->code_prefix, index);
    project->name = pmo_arena_printf (arena, "Benchmark project %s-%zu", batch->code_prefix, index);
    project->description = "Created by bench_registry to measure the registry's write path.";
    project->org_unit = S_DIVISION;
    project->sponsor = "sponsor@dft";
    project->manager = "manager@dft";
    project->methodology = PMO__METHODOLOGY__METHODOLOGY_HYBRID;
    project->priority = 2;
    project->strategic_score = 60;
    project->baseline_start = "2026-01-05";
    project->baseline_finish = "2026-12-18";
    Pmo__Budget *budget = pmo_arena_alloc (arena, sizeof (Pmo__Budget));
    pmo__budget__init (budget);
    budget->baseline = s_money (arena, 125000000);
    project->budget = budget;
    return project;
}

static void s_build_create (void *ctx, size_t index, Pmo__RegistryRequest *request,
                            pmo_arena_t *arena)
{
    request->body_case = PMO__REGISTRY_REQUEST__BODY_CREATE_PROJECT;
    request->create_project = s_project (arena, ctx, index);
}

static int s_check_create (void *ctx, size_t index, const Pmo__RegistryReply *reply, char *why,
                           size_t why_size)
{
    batch_t *batch = ctx;
    const Pmo__Project *project = reply->project;
    if (reply->body_case != PMO__REGISTRY_REPLY__BODY_PROJECT || !project ||
        pmo_str_empty (project->id) || strlen (project->id) >= sizeof batch->made[0].id ||
        project->version != 1) {
        snprintf (why, why_size, "create: the reply holds no new project (version 1)");
        return -1;
    }
    made_t *made = &batch->made[index];
    snprintf (made->id, sizeof made->id, "%s", project->id);
    made->version = project->version;
    made->phase = project->phase;
    made->status = project->status;
    snprintf (batch->last_request_id, sizeof batch->last_request_id, "%s",
              reply->header->request_id);
    return 0;
}

//  Re-plan the project: new name, forecast and budget forecast; the version
//  is the one the create reply returned.
static void s_build_update (void *ctx, size_t index, Pmo__RegistryRequest *request,
                            pmo_arena_t *arena)
{
    batch_t *batch = ctx;
    const made_t *made = &batch->made[index];
    Pmo__Project *project = s_project (arena, batch, index);
    project->id = (char *)made->id;
    project->version = made->version;
    project->phase = made->phase;
    project->status = made->status;
    project->name = pmo_arena_printf (arena, "Benchmark project %s-%zu (re-planned)",
                                      batch->code_prefix, index);
    project->forecast_finish = "2027-01-29";
    project->budget->forecast = s_money (arena, 131000000);
    request->body_case = PMO__REGISTRY_REQUEST__BODY_UPDATE_PROJECT;
    request->update_project = project;
}

static int s_check_update (void *ctx, size_t index, const Pmo__RegistryReply *reply, char *why,
                           size_t why_size)
{
    batch_t *batch = ctx;
    made_t *made = &batch->made[index];
    const Pmo__Project *project = reply->project;
    if (reply->body_case != PMO__REGISTRY_REPLY__BODY_PROJECT || !project || !project->id ||
        strcmp (project->id, made->id) != 0 || project->version != made->version + 1) {
        snprintf (why, why_size, "update: the reply is not %s at version %llu", made->id,
                  (unsigned long long)made->version + 1);
        return -1;
    }
    made->version = project->version;
    return 0;
}

//  One request through the blocking client; the reply or NULL (printed why).
//  Caller frees the reply with protobuf_c_message_free_unpacked.
static Pmo__RegistryReply *s_call (bench_t *self, Pmo__RegistryRequest *request, int timeout_ms,
                                   bool quiet)
{
    char request_id[37];
    Pmo__Header header;
    pmo_header_init (&header, request_id, timeout_ms, &self->identity);
    request->header = &header;
    ProtobufCMessage *reply = NULL;
    if (pmo_client_call (self->client, &request->base, &pmo__registry_reply__descriptor, timeout_ms,
                         1, &reply)) {
        if (!quiet)
            fprintf (stderr, "bench: no reply from the registry in %d ms\n", timeout_ms);
        return NULL;
    }
    Pmo__RegistryReply *answer = (Pmo__RegistryReply *)reply;
    if (answer->error) {
        fprintf (stderr, "bench: registry error %s: %s (field '%s')\n",
                 pmo_error_code_name (answer->error->code), answer->error->message,
                 answer->error->field);
        protobuf_c_message_free_unpacked (reply, NULL);
        return NULL;
    }
    return answer;
}

//  ---------------------------------------------------------------------
//  Starting and stopping

//  Sockets made between the two calls are plain (for T_PLAIN), then the
//  keyring is back.
static void s_plain_begin (void)
{
    pmo_auth_off ();
}

static void s_plain_end (void)
{
    if (pmo_auth_setup (pmo_test_keys (), "test"))
        abort ();
}

static int s_wait_ready (bench_t *self, const char *endpoint, pmo_test_proc_t *proc,
                         const char *what)
{
    pmo_client_t *client = pmo_client_new (endpoint);
    if (!client)
        return -1;
    int64_t deadline = pmo_mono_ms () + 60000; //  generous: it may run under valgrind
    int rc = -1;
    while (rc && pmo_mono_ms () < deadline && !zsys_interrupted) {
        if (pmo_test_proc_wait (proc, 0) >= 0) {
            fprintf (stderr, "bench: %s exited at start\n", what);
            break;
        }
        Pmo__RegistryRequest request;
        pmo__registry_request__init (&request);
        Pmo__PingRequest ping;
        pmo__ping_request__init (&ping);
        request.body_case = PMO__REGISTRY_REQUEST__BODY_PING;
        request.ping = &ping;
        char request_id[37];
        Pmo__Header header;
        pmo_header_init (&header, request_id, 500, &self->identity);
        request.header = &header;
        ProtobufCMessage *reply = NULL;
        if (pmo_client_call (client, &request.base, &pmo__registry_reply__descriptor, 500, 1,
                             &reply) == 0) {
            Pmo__RegistryReply *pong = (Pmo__RegistryReply *)reply;
            if (pong->pong && pong->pong->redis_ok)
                rc = 0;
            protobuf_c_message_free_unpacked (reply, NULL);
        }
        if (rc)
            zclock_sleep (50);
    }
    pmo_client_destroy (&client);
    if (rc)
        fprintf (stderr, "bench: %s did not answer ping with Redis up within 60 s\n", what);
    return rc;
}

static int s_create_unit (bench_t *self, const char *id, const char *name, Pmo__OrgUnitKind kind,
                          const char *parent)
{
    Pmo__OrgUnit unit;
    pmo__org_unit__init (&unit);
    unit.id = (char *)id;
    unit.name = (char *)name;
    unit.kind = kind;
    unit.parent = (char *)parent;
    Pmo__RegistryRequest request;
    pmo__registry_request__init (&request);
    request.body_case = PMO__REGISTRY_REQUEST__BODY_CREATE_ORG_UNIT;
    request.create_org_unit = &unit;
    Pmo__RegistryReply *reply = s_call (self, &request, S_TIMEOUT_MS, false);
    if (!reply)
        return -1;
    protobuf_c_message_free_unpacked (&reply->base, NULL);
    return 0;
}

//  --replica: a second Redis (same settings) following the first; the
//  registries then acknowledge a commit only once it holds it (WAIT,
//  common/pmo_redis.h). The floor does not wait: the ratio shows the cost.
static int s_start_replica (bench_t *self)
{
    self->replica_redis = pmo_test_redis_start (self->always_fsync);
    if (!self->replica_redis)
        return -1;
    redisReply *reply = pmo_test_redis_command (self->replica_redis, "REPLICAOF 127.0.0.1 %d",
                                                pmo_test_redis_port (self->redis));
    bool ok = reply && reply->type == REDIS_REPLY_STATUS;
    if (reply)
        freeReplyObject (reply);
    for (int i = 0; ok && i < 600; i++) {
        reply = pmo_test_redis_command (self->replica_redis, "INFO replication");
        bool up = reply && reply->str && strstr (reply->str, "master_link_status:up");
        if (reply)
            freeReplyObject (reply);
        if (up) {
            snprintf (self->redis_url, sizeof self->redis_url, "%s?replicas=1&wait=%d",
                      pmo_test_redis_url (self->redis), S_WAIT_MS);
            return 0;
        }
        zclock_sleep (50);
    }
    fprintf (stderr, "bench: the replica did not follow Redis within 30 s\n");
    return -1;
}

static int s_start (bench_t *self)
{
    self->redis = pmo_test_redis_start (self->always_fsync);
    if (!self->redis)
        return -1;
    snprintf (self->redis_url, sizeof self->redis_url, "%s", pmo_test_redis_url (self->redis));
    if (self->replica && s_start_replica (self))
        return -1;
    char pid_text[32];
    s_info (self, "server", "redis_version", self->redis_version, sizeof self->redis_version);
    self->redis_pid = atoi (s_info (self, "server", "process_id", pid_text, sizeof pid_text));
    int ports[T_COUNT + 2];
    for (int i = 0; i < T_COUNT + 2; i++)
        if ((ports[i] = pmo_test_free_port ()) < 0)
            return -1;
    for (int t = 0; t < T_COUNT; t++)
        snprintf (self->endpoint[t], sizeof self->endpoint[0], "tcp://127.0.0.1:%d", ports[t]);
    snprintf (self->pub_endpoint, sizeof self->pub_endpoint, "tcp://127.0.0.1:%d", ports[T_COUNT]);
    snprintf (self->plain_pub_endpoint, sizeof self->plain_pub_endpoint, "tcp://127.0.0.1:%d",
              ports[T_COUNT + 1]);

    char *registry_argv[] = {self->registry_path,
                             "--endpoint",
                             self->endpoint[T_REGISTRY],
                             "--pub",
                             self->pub_endpoint,
                             "--redis",
                             self->redis_url,
                             "--hub",
                             S_HUB,
                             "--log-level",
                             "info",
                             NULL,
                             NULL,
                             NULL};
    self->registry = pmo_test_proc_start (registry_argv);
    if (!self->registry)
        return -1;
    registry_argv[2] = self->endpoint[T_PLAIN];
    registry_argv[4] = self->plain_pub_endpoint;
    registry_argv[11] = "--keys";
    registry_argv[12] = "none";
    self->plain = pmo_test_proc_start (registry_argv);
    if (!self->plain)
        return -1;
    char redis_port[16];
    snprintf (redis_port, sizeof redis_port, "%d", pmo_test_redis_port (self->redis));
    char *floor_argv[] = {self->self_path,
                          "--serve-floor",
                          self->endpoint[T_FLOOR],
                          self->endpoint[T_FLOOR2],
                          self->endpoint[T_FLOOR1],
                          self->endpoint[T_FLOORB],
                          redis_port,
                          NULL};
    self->floor = pmo_test_proc_start (floor_argv);
    if (!self->floor)
        return -1;

    self->client = pmo_client_new (self->endpoint[T_REGISTRY]);
    if (!self->client ||
        s_wait_ready (self, self->endpoint[T_REGISTRY], self->registry, "pmo-registry") ||
        s_wait_ready (self, self->endpoint[T_FLOOR], self->floor, "the floor server"))
        return -1;
    s_plain_begin ();
    int plain_ready =
        s_wait_ready (self, self->endpoint[T_PLAIN], self->plain, "pmo-registry --keys none");
    s_plain_end ();
    if (plain_ready)
        return -1;
    //  By an argument: there are two registries, and either may run under valgrind
    self->registry_pid = s_child_pid (NULL, self->endpoint[T_REGISTRY]);
    self->plain_pid = s_child_pid (NULL, self->endpoint[T_PLAIN]);
    self->floor_pid = s_child_pid (NULL, "--serve-floor");
    if (self->registry_pid < 0 || self->plain_pid < 0 || self->floor_pid < 0 ||
        self->redis_pid <= 0) {
        fprintf (stderr, "bench: cannot find the pids of the servers in /proc\n");
        return -1;
    }
    if (s_create_unit (self, S_HUB, "The enterprise", PMO__ORG_UNIT_KIND__ORG_UNIT_KIND_ENTERPRISE,
                       NULL) ||
        s_create_unit (self, S_DIVISION, "Department for Transport",
                       PMO__ORG_UNIT_KIND__ORG_UNIT_KIND_DIVISION, S_HUB))
        return -1;
    self->rss_start_kb = s_status_kb (self->registry_pid, "VmRSS");
    return 0;
}

//  Stop a child with SIGTERM (a clean exit), SIGKILL after 5 s.
static void s_stop (pmo_test_proc_t **proc_p)
{
    if (*proc_p) {
        pmo_test_proc_signal (*proc_p, SIGTERM);
        pmo_test_proc_wait (*proc_p, 5000);
    }
    pmo_test_proc_destroy (proc_p);
}

static void s_teardown (bench_t *self)
{
    pmo_client_destroy (&self->client);
    s_stop (&self->registry);
    s_stop (&self->plain);
    s_stop (&self->floor);
    pmo_test_redis_destroy (&self->redis);
    pmo_test_redis_destroy (&self->replica_redis);
}

//  ---------------------------------------------------------------------
//  Measuring

//  Run requests first .. first+count-1 of op at concurrency against target,
//  adding to figure (and latency, one per request).
//  What a measurement counts from: taken once its connections are made
//  (bench_work_t.ready), so that their handshakes are not counted.
typedef struct {
    bench_t *bench;
    int server_pid;
    cmdstat_t commands[S_MAX_CMDSTATS];
    size_t n_commands;
    unsigned long long forks;
    int64_t server_ns, redis_ns, client_ns;
} start_t;

static void s_start_counting (void *ctx)
{
    start_t *start = ctx;
    start->n_commands = s_cmdstats (start->bench, start->commands);
    start->forks = s_forks (start->bench);
    start->server_ns = bench_cpu_ns (start->server_pid);
    start->redis_ns = bench_cpu_ns (start->bench->redis_pid);
    start->client_ns = bench_cpu_ns (getpid ());
}

static int s_chunk (bench_t *self, target_t target, op_t op, int concurrency, size_t first,
                    size_t count, batch_t *batch, int64_t *latency, figure_t *figure)
{
    int server_pid = target == T_REGISTRY ? self->registry_pid
                     : target == T_PLAIN  ? self->plain_pid
                                          : self->floor_pid;
    static start_t start;
    start = (start_t){.bench = self, .server_pid = server_pid};
    bench_work_t work = {
        .build = op == OP_CREATE ? s_build_create : s_build_update,
        .check = op == OP_CREATE ? s_check_create : s_check_update,
        .ctx = batch,
        .identity = &self->identity,
        .timeout_ms = S_TIMEOUT_MS,
        .ready = s_start_counting,
        .ready_ctx = &start,
    };
    static cmdstat_t after[S_MAX_CMDSTATS];
    size_t errors = figure->result.errors;
    double seconds = figure->result.seconds;
    if (target == T_PLAIN)
        s_plain_begin ();
    int driven = bench_drive (self->endpoint[target], concurrency, first, count, &work, latency,
                              &figure->result);
    if (target == T_PLAIN)
        s_plain_end ();
    if (driven)
        return -1;
    figure->server_ns += bench_cpu_ns (server_pid) - start.server_ns;
    figure->redis_ns += bench_cpu_ns (self->redis_pid) - start.redis_ns;
    figure->client_ns += bench_cpu_ns (getpid ()) - start.client_ns;
    size_t n_after = s_cmdstats (self, after);
    s_cmdstats_add (figure, start.commands, start.n_commands, after, n_after);
    figure->forks += s_forks (self) - start.forks;
    if (figure->rounds < S_MAX_ROUNDS && figure->result.seconds > seconds)
        figure->round_ops[figure->rounds++] = (double)count / (figure->result.seconds - seconds);
    //  Both registries create in the division the list walks
    if ((target == T_REGISTRY || target == T_PLAIN) && op == OP_CREATE)
        self->created += count - (figure->result.errors - errors);
    figure->ran = true;
    return 0;
}

//  The figures once every chunk has run.
static void s_finish (figure_t *figure, int64_t *latency, size_t count)
{
    bench_result_finish (&figure->result, latency, count);
    double n = (double)(count ? count : 1);
    figure->server_us = (double)figure->server_ns / 1000.0 / n;
    figure->redis_us = (double)figure->redis_ns / 1000.0 / n;
    figure->client_us = (double)figure->client_ns / 1000.0 / n;
}

static void s_print (target_t target, op_t op, int concurrency, const char *label,
                     const figure_t *figure)
{
    const bench_result_t *result = &figure->result;
    printf ("%s %s c=%d%s: %.0f ops/s p50=%lldus p99=%lldus max=%lldus errors=%zu\n",
            s_target_names[target], s_op_names[op], concurrency, label, result->ops_per_s,
            (long long)result->p50_us, (long long)result->p99_us, (long long)result->max_us,
            result->errors);
    char commands[512];
    s_cmdstats_text (figure, commands, sizeof commands);
    printf ("    cpu per request: %s=%.0fus redis=%.0fus client=%.0fus; redis time per script "
            "call %.0fus, %.1f requests per script call (the batch); redis forks (AOF "
            "rewrites) %llu\n",
            target == T_REGISTRY || target == T_PLAIN ? "registry" : "floor", figure->server_us,
            figure->redis_us, figure->client_us, s_cmdstats_usec (figure, "evalsha"),
            s_cmdstats_per_call (figure, "evalsha"), figure->forks);
    printf ("    redis commands per request (those run by scripts included): %s\n", commands);
    for (size_t i = 0; i < result->n_messages; i++)
        printf ("    error: %s\n", result->messages[i]);
    if (result->errors > result->n_messages)
        printf ("    ... and %zu more errors\n", result->errors - result->n_messages);
    fflush (stdout);
}

//  Throughput of a over b (0 if b did not run).
static double s_ratio (const figure_t *a, const figure_t *b)
{
    return b->result.ops_per_s > 0 ? a->result.ops_per_s / b->result.ops_per_s : 0;
}

static made_t *s_made_new (size_t count)
{
    made_t *made = calloc (count ? count : 1, sizeof (made_t));
    if (!made)
        fprintf (stderr, "bench: out of memory\n");
    return made;
}

//  Warm every server up (connections, scripts, allocators, the AOF).
static int s_warmup (bench_t *self)
{
    made_t *made = s_made_new (self->warmup);
    int64_t *latency = calloc (self->warmup ? self->warmup : 1, sizeof (int64_t));
    int rc = made && latency ? 0 : -1;
    static figure_t figure;
    for (int t = 0; t < T_COUNT && rc == 0; t++) {
        //  The two registries share the division: their codes must differ
        batch_t batch = {.code_prefix = t == T_REGISTRY ? "W"
                                        : t == T_PLAIN  ? "PW"
                                                        : "FW",
                         .made = made};
        for (int op = 0; op < OP_COUNT && rc == 0; op++) {
            memset (&figure, 0, sizeof figure);
            rc = s_chunk (self, (target_t)t, (op_t)op, 32, 0, self->warmup, &batch, latency,
                          &figure);
            if (rc == 0 && figure.result.errors) {
                fprintf (stderr, "bench: warm-up %s %s failed: %s\n", s_target_names[t],
                         s_op_names[op], figure.result.messages[0]);
                rc = -1;
            }
        }
    }
    free (latency);
    free (made);
    return rc;
}

//  create then update, at each concurrency, for each server. Each
//  measurement runs in rounds, the servers taking turns in a rotating order,
//  so that whatever else the machine does in the meantime falls on all.
static int s_measure (bench_t *self)
{
    for (int c = 0; c < N_CONC; c++) {
        int conc = s_conc[c];
        size_t count = conc == 1 ? self->requests_c1 : self->requests;
        size_t rounds = self->rounds < count ? self->rounds : 1;
        made_t *made[T_COUNT] = {NULL};
        int64_t *latency[T_COUNT] = {NULL};
        batch_t batch[T_COUNT];
        int rc = 0;
        for (int t = 0; t < T_COUNT && rc == 0; t++) {
            made[t] = s_made_new (count);
            latency[t] = calloc (count, sizeof (int64_t));
            batch[t] = (batch_t){.code_prefix = t == T_PLAIN ? (conc == 1 ? "P1" : "P32")
                                                             : (conc == 1 ? "A1" : "A32"),
                                 .made = made[t]};
            rc = made[t] && latency[t] ? 0 : -1;
        }
        printf ("\n-- %zu requests per measurement, %d in flight, in %zu rounds --\n", count, conc,
                rounds);
        fflush (stdout);
        for (int op = 0; op < OP_COUNT && rc == 0; op++) {
            for (size_t r = 0; r < rounds && rc == 0; r++) {
                size_t first = count * r / rounds, last = count * (r + 1) / rounds;
                for (int k = 0; k < T_COUNT && rc == 0; k++) {
                    target_t t = (target_t)(((size_t)k + r) % T_COUNT);
                    rc = s_chunk (self, t, (op_t)op, conc, first, last - first, &batch[t],
                                  latency[t], &self->figures[t][op][c]);
                }
            }
            for (int t = 0; t < T_COUNT && rc == 0; t++) {
                s_finish (&self->figures[t][op][c], latency[t], count);
                s_print ((target_t)t, (op_t)op, conc, "", &self->figures[t][op][c]);
            }
        }
        for (int t = 0; t < T_COUNT; t++) {
            free (made[t]);
            free (latency[t]);
        }
        if (rc)
            return -1;
        for (int op = 0; op < OP_COUNT; op++) {
            const figure_t *reg = &self->figures[T_REGISTRY][op][c];
            const figure_t *floor = &self->figures[T_FLOORB][op][c];
            double ratio = s_ratio (reg, floor);
            printf ("ratio registry/floor-batch %s c=%d: %.2f (per round:", s_op_names[op], conc,
                    ratio);
            for (size_t r = 0; r < reg->rounds && r < floor->rounds; r++)
                printf (" %.2f",
                        floor->round_ops[r] > 0 ? reg->round_ops[r] / floor->round_ops[r] : 0);
            printf ("; registry/floor %.2f, floor-2rt/floor %.2f, floor-1rt/floor %.2f)",
                    s_ratio (reg, &self->figures[T_FLOOR][op][c]),
                    s_ratio (&self->figures[T_FLOOR2][op][c], &self->figures[T_FLOOR][op][c]),
                    s_ratio (&self->figures[T_FLOOR1][op][c], &self->figures[T_FLOOR][op][c]));
            if (conc == 32) {
                bool pass = ratio >= S_TARGET_RATIO && reg->result.p99_us < S_TARGET_P99_US &&
                            reg->result.errors == 0;
                printf (" -> %s (target: >= %.2f of the floor, p99 %lldus < %dus, 0 errors)",
                        pass ? "PASS" : "MISS", S_TARGET_RATIO, (long long)reg->result.p99_us,
                        S_TARGET_P99_US);
            }
            printf ("\n");
            if (conc == 32) {
                const figure_t *plain = &self->figures[T_PLAIN][op][c];
                double cost = plain->result.ops_per_s > 0
                                  ? 1.0 - reg->result.ops_per_s / plain->result.ops_per_s
                                  : 0;
                printf ("curve cost %s c=32: registry %.0f ops/s with CURVE, %.0f without: %.1f%% "
                        "fewer -> %s (target: at most %.0f%%)\n",
                        s_op_names[op], reg->result.ops_per_s, plain->result.ops_per_s, cost * 100,
                        cost <= S_TARGET_CURVE_COST ? "PASS" : "MISS", S_TARGET_CURVE_COST * 100);
            }
        }
    }
    return 0;
}

//  Create projects until the division holds self->projects, at c=32.
static int s_load (bench_t *self)
{
    if (self->created >= self->projects) {
        printf ("\n-- the division already holds %zu projects --\n", self->created);
        return 0;
    }
    size_t count = self->projects - self->created;
    made_t *made = s_made_new (count);
    if (!made)
        return -1;
    printf ("\n-- loading %zu more projects (to %zu) at 32 in flight --\n", count, self->projects);
    batch_t batch = {.code_prefix = "L", .made = made};
    static figure_t figure;
    int64_t *latency = calloc (count, sizeof (int64_t));
    int rc = latency ? s_chunk (self, T_REGISTRY, OP_CREATE, 32, 0, count, &batch, latency, &figure)
                     : -1;
    if (rc == 0) {
        s_finish (&figure, latency, count);
        s_print (T_REGISTRY, OP_CREATE, 32, " (load)", &figure);
    }
    free (latency);
    //  A sample of each key kind, for Redis's memory per project
    char idem_key[128] = "", entity_key[128] = "";
    if (rc == 0 && count) {
        char *key = pmo_commit_idem_key (S_DIVISION, batch.last_request_id);
        snprintf (idem_key, sizeof idem_key, "%s", key);
        free (key);
        //  The registry's key layout (registry_store.c)
        snprintf (entity_key, sizeof entity_key, "pmo:{%s}:pr:%s", S_DIVISION, made[count - 1].id);
    }
    free (made);
    if (rc)
        return -1;

    self->rss_kb = s_status_kb (self->registry_pid, "VmRSS");
    self->hwm_kb = s_status_kb (self->registry_pid, "VmHWM");
    printf (
        "registry memory with %zu projects: VmRSS=%.1f MiB VmHWM=%.1f MiB (at start: VmRSS=%.1f "
        "MiB) -> %s (target: under 32 MiB)\n",
        self->created, (double)self->rss_kb / 1024.0, (double)self->hwm_kb / 1024.0,
        (double)self->rss_start_kb / 1024.0,
        self->hwm_kb >= 0 && self->hwm_kb < S_TARGET_RSS_KB ? "PASS" : "MISS");
    char used[32], rss[32], aof[32];
    s_info (self, "memory", "used_memory", used, sizeof used);
    s_info (self, "memory", "used_memory_rss", rss, sizeof rss);
    s_info (self, "persistence", "aof_current_size", aof, sizeof aof);
    self->redis_used_mb = atof (used) / 1048576.0;
    long long keys = -1, events = -1, idem = -1, entity = -1, stream = -1;
    redisReply *reply = pmo_test_redis_command (self->redis, "DBSIZE");
    if (reply && reply->type == REDIS_REPLY_INTEGER)
        keys = reply->integer;
    if (reply)
        freeReplyObject (reply);
    const char *stream_key = "pmo:{" S_DIVISION "}:events";
    reply = pmo_test_redis_command (self->redis, "XLEN %s", stream_key);
    if (reply && reply->type == REDIS_REPLY_INTEGER)
        events = reply->integer;
    if (reply)
        freeReplyObject (reply);
    const char *probe[] = {idem_key, entity_key, stream_key};
    long long *sizes[] = {&idem, &entity, &stream};
    for (int i = 0; i < 3; i++) {
        if (!*probe[i])
            continue;
        reply = pmo_test_redis_command (self->redis, "MEMORY USAGE %s", probe[i]);
        if (reply && reply->type == REDIS_REPLY_INTEGER)
            *sizes[i] = reply->integer;
        if (reply)
            freeReplyObject (reply);
    }
    printf ("redis memory: used_memory=%.1f MiB used_memory_rss=%.1f MiB aof=%.1f MiB keys=%lld "
            "(all servers' data)\n",
            self->redis_used_mb, atof (rss) / 1048576.0, atof (aof) / 1048576.0, keys);
    printf ("    registry per project: entity hash %lld B, stored reply (idem, 24 h) %lld B, "
            "event %.0f B (stream of %lld events, not trimmed)\n",
            entity, idem, events > 0 ? (double)stream / (double)events : 0.0, events);
    fflush (stdout);
    return 0;
}

//  One page of the division's projects; *next is the next cursor (strdup'd,
//  NULL on the last page). Returns the projects on the page, or -1.
static long s_list_page (bench_t *self, const char *cursor, char **next, int64_t *took_us)
{
    Pmo__ListRequest list;
    pmo__list_request__init (&list);
    list.kind = PMO__ENTITY_KIND__ENTITY_KIND_PROJECT;
    list.org_unit = S_DIVISION;
    list.limit = S_LIST_LIMIT;
    list.cursor = (char *)(cursor ? cursor : "");
    Pmo__RegistryRequest request;
    pmo__registry_request__init (&request);
    request.body_case = PMO__REGISTRY_REQUEST__BODY_LIST;
    request.list = &list;
    int64_t started = bench_now_us ();
    Pmo__RegistryReply *reply = s_call (self, &request, S_TIMEOUT_MS, false);
    *took_us = bench_now_us () - started;
    if (!reply)
        return -1;
    long count = -1;
    if (reply->body_case == PMO__REGISTRY_REPLY__BODY_PAGE && reply->page) {
        count = (long)reply->page->n_projects;
        *next = pmo_str_empty (reply->page->next_cursor) ? NULL : strdup (reply->page->next_cursor);
    } else
        fprintf (stderr, "bench: list: the reply holds no page\n");
    protobuf_c_message_free_unpacked (&reply->base, NULL);
    return count;
}

//  Time the same page again and again: its p50 (and p99 in *p99).
static int s_list_repeat (bench_t *self, const char *cursor, int64_t *p50, int64_t *p99)
{
    int64_t *took = calloc (self->list_repeats, sizeof (int64_t));
    if (!took)
        return -1;
    int rc = 0;
    for (size_t i = 0; i < self->list_repeats && rc == 0; i++) {
        char *next = NULL;
        rc = s_list_page (self, cursor, &next, &took[i]) == S_LIST_LIMIT ? 0 : -1;
        free (next);
    }
    bench_sort (took, self->list_repeats);
    *p50 = bench_percentile (took, self->list_repeats, 50);
    *p99 = bench_percentile (took, self->list_repeats, 99);
    free (took);
    return rc;
}

//  Walk every page of the division, then time the first and a deep one.
static int s_list (bench_t *self)
{
    size_t expected_pages = (self->created + S_LIST_LIMIT - 1) / S_LIST_LIMIT;
    self->list_deep_page = expected_pages / 2 + 1;
    printf ("\n-- list: %d projects per page, %zu projects in the division --\n", S_LIST_LIMIT,
            self->created);
    //  Room for a few pages more than expected, to notice a list that never ends
    size_t max_pages = expected_pages + 16;
    int64_t *took = calloc (max_pages, sizeof (int64_t));
    if (!took)
        return -1;
    char *cursor = NULL, *deep_cursor = NULL;
    size_t pages = 0, seen = 0;
    int rc = 0;
    int64_t started = bench_now_us ();
    do {
        if (pages + 1 == self->list_deep_page && cursor)
            deep_cursor = strdup (cursor);
        char *next = NULL;
        long got = s_list_page (self, cursor, &next, &took[pages]);
        free (cursor);
        cursor = next;
        if (got < 0) {
            rc = -1;
            break;
        }
        seen += (size_t)got;
        pages++;
    } while (cursor && pages < max_pages && !zsys_interrupted);
    self->list_walk_s = (double)(bench_now_us () - started) / 1e6;
    free (cursor);
    //  A full last page still carries a cursor, to a page that comes back empty
    if (rc == 0 &&
        (seen != self->created || pages < expected_pages || pages > expected_pages + 1)) {
        fprintf (stderr, "bench: list walked %zu pages and %zu projects; expected %zu and %zu\n",
                 pages, seen, expected_pages, self->created);
        rc = -1;
    }
    self->list_pages = pages;
    if (rc == 0) {
        bench_sort (took, pages);
        printf ("registry list walk: %zu pages, %zu projects in %.2f s: page p50=%lldus "
                "p99=%lldus max=%lldus\n",
                pages, seen, self->list_walk_s, (long long)bench_percentile (took, pages, 50),
                (long long)bench_percentile (took, pages, 99), (long long)took[pages - 1]);
        int64_t p50, p99;
        rc = s_list_repeat (self, NULL, &p50, &p99);
        if (rc == 0) {
            self->list_first_us = p50;
            printf ("registry list first page (x%zu): p50=%lldus p99=%lldus\n", self->list_repeats,
                    (long long)p50, (long long)p99);
        }
        if (rc == 0 && deep_cursor) {
            rc = s_list_repeat (self, deep_cursor, &p50, &p99);
            if (rc == 0) {
                self->list_deep_us = p50;
                printf ("registry list page %zu of %zu via cursor (x%zu): p50=%lldus p99=%lldus\n",
                        self->list_deep_page, pages, self->list_repeats, (long long)p50,
                        (long long)p99);
            }
        }
    }
    free (deep_cursor);
    free (took);
    fflush (stdout);
    return rc;
}

//  ---------------------------------------------------------------------
//  The summary for the README

static void s_summary (bench_t *self)
{
    char date[32];
    time_t now = time (NULL);
    struct tm tm;
    gmtime_r (&now, &tm);
    strftime (date, sizeof date, "%Y-%m-%d", &tm);
    printf ("\n==== summary (for the README) ====\n");
    printf ("bench_registry, %s: %ld vCPU, Redis %s with AOF appendfsync %s%s; client, "
            "pmo-registry, floor and Redis on the same machine. %zu requests per phase at c=1, "
            "%zu at c=32. floor-batch = a bare server doing the registry's Redis work and "
            "nothing else, batched the way the registry batches (a drained batch's reads in one "
            "round trip, its commits in another); floor = the same one request at a time with "
            "its round trips one after the other; floor-2rt = with the reads pipelined; "
            "floor-1rt = in one script call.\n\n",
            date, sysconf (_SC_NPROCESSORS_ONLN), self->redis_version,
            self->always_fsync ? "always" : "everysec",
            self->replica ? " and a replica confirming every registry commit (WAIT)" : "",
            self->requests_c1, self->requests);
    printf (
        "| request | in flight | registry ops/s | p50 | p99 | CPU/req | floor-batch ops/s | p99 "
        "| registry/floor-batch | floor ops/s | floor-2rt ops/s | floor-1rt ops/s |\n");
    printf ("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n");
    for (int op = 0; op < OP_COUNT; op++)
        for (int c = 0; c < N_CONC; c++) {
            const figure_t *reg = &self->figures[T_REGISTRY][op][c];
            const figure_t *floor = &self->figures[T_FLOORB][op][c];
            if (!reg->ran)
                continue;
            printf ("| %s | %d | %.0f | %lld us | %lld us | %.0f us | %.0f | %lld us | %.2f | %.0f "
                    "| %.0f | %.0f |\n",
                    s_op_names[op], s_conc[c], reg->result.ops_per_s, (long long)reg->result.p50_us,
                    (long long)reg->result.p99_us, reg->server_us, floor->result.ops_per_s,
                    (long long)floor->result.p99_us, s_ratio (reg, floor),
                    self->figures[T_FLOOR][op][c].result.ops_per_s,
                    self->figures[T_FLOOR2][op][c].result.ops_per_s,
                    self->figures[T_FLOOR1][op][c].result.ops_per_s);
        }
    printf ("\n");
    for (int op = 0; op < OP_COUNT; op++) {
        const figure_t *reg = &self->figures[T_REGISTRY][op][N_CONC - 1];
        const figure_t *floor = &self->figures[T_FLOORB][op][N_CONC - 1];
        if (!reg->ran)
            continue;
        double ratio =
            floor->result.ops_per_s > 0 ? reg->result.ops_per_s / floor->result.ops_per_s : 0;
        bool pass = ratio >= S_TARGET_RATIO && reg->result.p99_us < S_TARGET_P99_US &&
                    reg->result.errors == 0;
        printf ("- %s at 32 in flight: %.2f of the batched floor, p99 %.2f ms: %s (target: >= %.1f "
                "of the floor, p99 < 5 ms)\n",
                s_op_names[op], ratio, (double)reg->result.p99_us / 1000.0, pass ? "PASS" : "MISS",
                S_TARGET_RATIO);
        if (op == OP_CREATE && self->always_fsync)
            printf ("- group commit, creates at 32 in flight with appendfsync always: %.0f/s: %s "
                    "(target: at least %d/s); %.1f requests per fsync (script call); %.2f of "
                    "floor-batch's %.0f/s with the same disk in the same run (near 1: the "
                    "limit is one the floor shares, such as the disk's fsync)\n",
                    reg->result.ops_per_s,
                    reg->result.ops_per_s >= S_TARGET_ALWAYS ? "PASS" : "MISS", S_TARGET_ALWAYS,
                    s_cmdstats_per_call (reg, "evalsha"), ratio,
                    self->figures[T_FLOORB][op][N_CONC - 1].result.ops_per_s);
        const figure_t *plain = &self->figures[T_PLAIN][op][N_CONC - 1];
        double cost =
            plain->result.ops_per_s > 0 ? 1.0 - reg->result.ops_per_s / plain->result.ops_per_s : 0;
        printf ("- CURVE, %s at 32 in flight: %.0f ops/s with, %.0f without (%.1f%% fewer: %s, "
                "target: at most %.0f%%); registry CPU per request %.0f us with, %.0f us "
                "without; client %.0f us with, %.0f us without\n",
                s_op_names[op], reg->result.ops_per_s, plain->result.ops_per_s, cost * 100,
                cost <= S_TARGET_CURVE_COST ? "PASS" : "MISS", S_TARGET_CURVE_COST * 100,
                reg->server_us, plain->server_us, reg->client_us, plain->client_us);
    }
    if (self->hwm_kb > 0)
        printf ("- memory with %zu projects: registry VmRSS %.1f MiB, VmHWM %.1f MiB: %s "
                "(target: under 32 MiB); Redis used_memory %.1f MiB\n",
                self->created, (double)self->rss_kb / 1024.0, (double)self->hwm_kb / 1024.0,
                self->hwm_kb < S_TARGET_RSS_KB ? "PASS" : "MISS", self->redis_used_mb);
    if (self->list_pages)
        printf ("- list of %d projects: first page p50 %.2f ms; page %zu of %zu (via cursor) p50 "
                "%.2f ms; all %zu pages in %.1f s\n",
                S_LIST_LIMIT, (double)self->list_first_us / 1000.0, self->list_deep_page,
                self->list_pages, (double)self->list_deep_us / 1000.0, self->list_pages,
                self->list_walk_s);
    size_t errors = 0;
    for (int t = 0; t < T_COUNT; t++)
        for (int op = 0; op < OP_COUNT; op++)
            for (int c = 0; c < N_CONC; c++)
                errors += self->figures[t][op][c].result.errors;
    printf ("- errors: %zu\n", errors);
}

//  ---------------------------------------------------------------------
//  Options

static void s_usage (void)
{
    printf ("bench_registry: throughput, latency and memory of pmo-registry against the floor\n"
            "(the same Redis round trips and nothing else), measured in one run.\n\n"
            "Usage: bench_registry [options]\n\n"
            "  --build DIR        build tree holding services/registry/pmo-registry\n"
            "                     (default: $PMO_BUILD_DIR, else ./build, else the tree of this "
            "binary)\n"
            "  --fsync MODE       Redis appendfsync: everysec (default, as in production) or "
            "always\n"
            "  --replica          a Redis replica follows; both registries acknowledge a commit\n"
            "                     only once it holds it (?replicas=1&wait=500: WAIT's cost)\n"
            "  --requests N       requests per phase at 32 in flight (default 20000); phases at 1\n"
            "                     in flight run N/4 (default 5000)\n"
            "  --projects N       projects in the division before memory and list figures\n"
            "                     (default 100000)\n"
            "  --quick            a smoke run: 1000 requests, 3000 projects\n"
            "  --help             this text\n");
}

//  The value of option `name` at argv[*i] ("--name value" or "--name=value").
static const char *s_option (int argc, char **argv, int *i, const char *name)
{
    size_t len = strlen (name);
    const char *arg = argv[*i];
    if (strncmp (arg, name, len) != 0)
        return NULL;
    if (arg[len] == '=')
        return arg + len + 1;
    if (arg[len] == 0 && *i + 1 < argc)
        return argv[++*i];
    return NULL;
}

static int s_count (const char *text, const char *name, size_t *out)
{
    char *end = NULL;
    long long value = text ? strtoll (text, &end, 10) : -1;
    if (!text || !*text || *end || value < 1 || value > 100000000) {
        fprintf (stderr, "bench_registry: %s needs a whole number from 1 to 100000000\n", name);
        return -1;
    }
    *out = (size_t)value;
    return 0;
}

//  Returns 0 to run, 1 to exit 0 (help), -1 on a bad option.
static int s_parse (bench_t *self, int argc, char **argv)
{
    const char *build = NULL;
    bool requests_set = false, projects_set = false;
    self->requests = 20000;
    self->projects = 100000;
    for (int i = 1; i < argc; i++) {
        const char *value;
        if (strcmp (argv[i], "--help") == 0 || strcmp (argv[i], "-h") == 0) {
            s_usage ();
            return 1;
        } else if (strcmp (argv[i], "--quick") == 0)
            self->quick = true;
        else if ((value = s_option (argc, argv, &i, "--build")))
            build = value;
        else if ((value = s_option (argc, argv, &i, "--fsync"))) {
            if (strcmp (value, "always") != 0 && strcmp (value, "everysec") != 0) {
                fprintf (stderr, "bench_registry: --fsync is everysec or always\n");
                return -1;
            }
            self->always_fsync = strcmp (value, "always") == 0;
        } else if (strcmp (argv[i], "--replica") == 0)
            self->replica = true;
        else if ((value = s_option (argc, argv, &i, "--requests"))) {
            if (s_count (value, "--requests", &self->requests))
                return -1;
            requests_set = true;
        } else if ((value = s_option (argc, argv, &i, "--projects"))) {
            if (s_count (value, "--projects", &self->projects))
                return -1;
            projects_set = true;
        } else {
            fprintf (stderr, "bench_registry: unknown option '%s' (see --help)\n", argv[i]);
            return -1;
        }
    }
    if (self->quick) {
        if (!requests_set)
            self->requests = 1000;
        if (!projects_set)
            self->projects = 3000;
    }
    self->requests_c1 = self->requests / 4 ? self->requests / 4 : 1;
    self->warmup = self->quick ? 100 : 1000;
    self->list_repeats = self->quick ? 20 : 100;
    self->rounds = self->quick ? 2 : 5;

    //  --build, else $PMO_BUILD_DIR, else ./build, else the tree above this binary
    if (!build && access ("build/services/registry/pmo-registry", X_OK) == 0 &&
        !getenv ("PMO_BUILD_DIR"))
        build = "build";
    if (build && setenv ("PMO_BUILD_DIR", build, 1) != 0)
        return -1;
    pmo_test_build_path ("services/registry/pmo-registry", self->registry_path,
                         sizeof self->registry_path);
    if (access (self->registry_path, X_OK) != 0) {
        fprintf (stderr, "bench_registry: no pmo-registry at %s (build it, or pass --build DIR)\n",
                 self->registry_path);
        return -1;
    }
    ssize_t len = readlink ("/proc/self/exe", self->self_path, sizeof self->self_path - 1);
    if (len <= 0)
        return -1;
    self->self_path[len] = 0;
    return 0;
}

int main (int argc, char **argv)
{
    if (argc > 1 && strcmp (argv[1], "--serve-floor") == 0)
        return bench_floor_main (argc - 2, argv + 2);
    static bench_t self;
    int rc = s_parse (&self, argc, argv);
    if (rc)
        return rc > 0 ? 0 : 2;
    zsys_init ();
    zsys_set_logstream (NULL);
    pmo__identity__init (&self.identity);
    pmo__grant__init (&self.grant);
    self.grant.role = PMO__ROLE__ROLE_ADMIN;
    self.grant.org_unit = S_HUB;
    self.grants[0] = &self.grant;
    self.identity.subject = "bench@hub";
    self.identity.grants = self.grants;
    self.identity.n_grants = 1;

    rc = s_start (&self);
    if (rc == 0) {
        printf ("bench_registry: %s on %s, Redis %s on port %d (AOF appendfsync %s%s), %ld "
                "vCPU\n",
                self.registry_path, self.endpoint[T_REGISTRY], self.redis_version,
                pmo_test_redis_port (self.redis), self.always_fsync ? "always" : "everysec",
                self.replica ? "; the registries wait for a replica" : "",
                sysconf (_SC_NPROCESSORS_ONLN));
        printf ("requests per phase: %zu at c=1, %zu at c=32 (after %zu warm-up creates and "
                "updates per server); projects for memory and list: %zu\n",
                self.requests_c1, self.requests, self.warmup, self.projects);
        fflush (stdout);
        rc = s_warmup (&self);
    }
    if (rc == 0)
        rc = s_measure (&self);
    if (rc == 0)
        rc = s_load (&self);
    if (rc == 0)
        rc = s_list (&self);
    if (rc == 0)
        s_summary (&self);
    else
        fprintf (stderr, "bench_registry: stopped early; stopping everything it started\n");
    s_teardown (&self);
    return rc ? 1 : 0;
}
