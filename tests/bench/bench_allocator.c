/*  bench_allocator.c: how fast the resource allocator ranks and views at
    enterprise size.

    Starts its own redis-server, the real pmo-registry and the real
    pmo-allocator as child processes on free ports. Seeds Redis, through the
    allocator's own store module (so the layout is the service's, not a
    copy), with --resources resources (default 10,000) in 10 divisions and
    --allocations allocations (default 50,000) over the 52 weeks of 2026:
    committed, proposed and unfilled, with calendar exceptions. Then it
    restarts the allocator (which rebuilds its index from Redis) and
    measures, over real ZeroMQ requests:
    - the index rebuild (process start to first answer);
    - ranking candidates for a request (match, 8-week windows): p50/p99;
    - the enterprise-wide capacity/demand view over 52 weeks, and one
      division's, and the enterprise conflicts list;
    - a request -> propose -> commit cycle;
    - the allocator's resident memory.
    Targets: ranking p99 under 5 ms; the enterprise view under 200 ms;
    allocator RSS under 256 MB.

    A benchmark reports; it never fails the build. Run by hand, e.g.
        PMO_BUILD_DIR=build build/tests/bench/bench_allocator [--quick]
*/
#include "allocator.pb-c.h"
#include "allocator_model.h"
#include "allocator_store.h"
#include "bench_driver.h"
#include "pmo_client.h"
#include "pmo_commit.h"
#include "pmo_log.h"
#include "pmo_redis.h"
#include "pmo_testkit.h"

#include <czmq.h>
#include <dirent.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DIVISIONS      10
#define SKILLS         40
#define ROLES          10
#define RANKS          2000
#define VIEWS          20
#define TARGET_P99_US  5000
#define TARGET_VIEW_US 200000
#define TARGET_RSS_KB  (256 * 1024)

static const char *s_divisions[DIVISIONS] = {"dft", "dwp",  "hmrc", "moj", "mod",
                                             "dfe", "dhsc", "beis", "ho",  "fcdo"};
static char s_projects[DIVISIONS][40];

typedef struct {
    size_t resources, allocations;
    char redis_url[128];
    char registry_ep[64], registry_pub[64], alloc_ep[64], alloc_pub[64];
    pmo_test_redis_t *redis;
    pmo_test_proc_t *registry, *allocator;
    pmo_client_t *registry_client, *client;
    Pmo__Identity identity;
    Pmo__Grant grant;
    Pmo__Grant *grants[1];
} bench_t;

//  A child of ours running exe: its pid, or -1.
static int s_child_pid (const char *exe)
{
    char want[PATH_MAX];
    if (!realpath (exe, want))
        return -1;
    DIR *dir = opendir ("/proc");
    int found = -1;
    struct dirent *entry;
    while (dir && (entry = readdir (dir))) {
        int pid = atoi (entry->d_name);
        if (pid <= 0)
            continue;
        char link[64], target[PATH_MAX];
        snprintf (link, sizeof link, "/proc/%d/exe", pid);
        ssize_t n = readlink (link, target, sizeof target - 1);
        if (n <= 0)
            continue;
        target[n] = 0;
        char stat[64];
        snprintf (stat, sizeof stat, "/proc/%d/stat", pid);
        FILE *f = fopen (stat, "r");
        int ppid = 0;
        if (f) {
            if (fscanf (f, "%*d %*s %*c %d", &ppid) != 1)
                ppid = 0;
            fclose (f);
        }
        if (strcmp (target, want) == 0 && ppid == getpid ())
            found = pid;
    }
    if (dir)
        closedir (dir);
    return found;
}

static long s_status_kb (int pid, const char *field)
{
    char path[64], line[256];
    snprintf (path, sizeof path, "/proc/%d/status", pid);
    FILE *f = fopen (path, "r");
    long kb = -1;
    while (f && fgets (line, sizeof line, f))
        if (strncmp (line, field, strlen (field)) == 0 && line[strlen (field)] == ':')
            kb = atol (line + strlen (field) + 1);
    if (f)
        fclose (f);
    return kb;
}

//  ---------------------------------------------------------------------
//  Requests

static ProtobufCMessage *s_call (bench_t *self, pmo_client_t *client, ProtobufCMessage *request,
                                 const ProtobufCMessageDescriptor *reply_desc)
{
    Pmo__Header header;
    char request_id[40];
    pmo_header_init (&header, request_id, 30000, &self->identity);
    *pmo_wire_message_slot (request, "header") = &header.base;
    ProtobufCMessage *reply = NULL;
    int rc = pmo_client_call (client, request, reply_desc, 30000, 1, &reply);
    *pmo_wire_message_slot (request, "header") = NULL;
    if (rc) {
        fprintf (stderr, "bench: no reply\n");
        return NULL;
    }
    ProtobufCMessage **error = pmo_wire_message_slot (reply, "error");
    if (error && *error) {
        Pmo__Error *e = (Pmo__Error *)*error;
        fprintf (stderr, "bench: %s [%s]: %s\n", pmo_error_code_name (e->code), e->field,
                 e->message);
        protobuf_c_message_free_unpacked (reply, NULL);
        return NULL;
    }
    return reply;
}

static int s_registry_setup (bench_t *self)
{
    static const char *types[] = {"supportive", "controlling", "directive"};
    for (int i = -1; i < DIVISIONS; i++) {
        Pmo__OrgUnit unit = PMO__ORG_UNIT__INIT;
        unit.id = (char *)(i < 0 ? "hub" : s_divisions[i]);
        unit.name = unit.id;
        unit.kind = i < 0 ? PMO__ORG_UNIT_KIND__ORG_UNIT_KIND_ENTERPRISE
                          : PMO__ORG_UNIT_KIND__ORG_UNIT_KIND_DIVISION;
        unit.parent = i < 0 ? "" : "hub";
        unit.pmo_type = i < 0 ? PMO__PMO_TYPE__PMO_TYPE_SUPPORTIVE : (Pmo__PmoType)(i % 3 + 1);
        (void)types;
        Pmo__RegistryRequest request = PMO__REGISTRY_REQUEST__INIT;
        request.body_case = PMO__REGISTRY_REQUEST__BODY_CREATE_ORG_UNIT;
        request.create_org_unit = &unit;
        ProtobufCMessage *reply =
            s_call (self, self->registry_client, &request.base, &pmo__registry_reply__descriptor);
        if (!reply)
            return -1;
        protobuf_c_message_free_unpacked (reply, NULL);
    }
    for (int i = 0; i < DIVISIONS; i++) {
        Pmo__Project project = PMO__PROJECT__INIT;
        char code[32];
        snprintf (code, sizeof code, "%s-BENCH", s_divisions[i]);
        project.code = code;
        project.name = code;
        project.org_unit = (char *)s_divisions[i];
        project.priority = (uint32_t)(i % 5 + 1);
        Pmo__RegistryRequest request = PMO__REGISTRY_REQUEST__INIT;
        request.body_case = PMO__REGISTRY_REQUEST__BODY_CREATE_PROJECT;
        request.create_project = &project;
        Pmo__RegistryReply *reply = (Pmo__RegistryReply *)s_call (
            self, self->registry_client, &request.base, &pmo__registry_reply__descriptor);
        if (!reply)
            return -1;
        snprintf (s_projects[i], sizeof s_projects[i], "%s", reply->project->id);
        protobuf_c_message_free_unpacked (&reply->base, NULL);
    }
    return 0;
}

//  ---------------------------------------------------------------------
//  Seeding Redis through the allocator's store

static void s_skill_name (int i, char *buf, size_t size)
{
    snprintf (buf, size, "skill-%02d", i);
}

static int s_seed (bench_t *self)
{
    pmo_redis_t *redis = pmo_redis_new (self->redis_url, 10000);
    allocator_store_t *store = allocator_store_new (redis, "hub");
    pmo_arena_t *arena = pmo_arena_new ();
    srand (42);
    //  About a tenth of the demand is unfilled
    size_t per_resource = self->allocations * 9 / 10 / self->resources;
    size_t unfilled = self->allocations - per_resource * self->resources;
    int32_t year;
    allocator_week_parse ("2026-W01", &year);
    char week_a[16], week_b[16];
    size_t made = 0, seq_al[DIVISIONS] = {0}, seq_rs[DIVISIONS] = {0};
    int64_t started = pmo_mono_ms ();
    for (size_t i = 0; i < self->resources; i++) {
        int d = (int)(i % DIVISIONS);
        const char *division = s_divisions[d];
        Pmo__Resource *r = pmo_arena_alloc (arena, sizeof (Pmo__Resource));
        pmo__resource__init (r);
        r->id = pmo_arena_printf (arena, "rs_%s_%zu", division, ++seq_rs[d]);
        r->name = pmo_arena_printf (arena, "Person %zu", i);
        r->kind = PMO__RESOURCE_KIND__RESOURCE_KIND_PERSON;
        r->role = pmo_arena_printf (arena, "role-%d", rand () % ROLES);
        r->home_org_unit = (char *)division;
        r->home_org_unit_path = pmo_arena_printf (arena, "hub/%s", division);
        r->division = (char *)division;
        r->weekly_capacity_hours = rand () % 5 == 0 ? 32 : 40;
        Pmo__Money *money = pmo_arena_alloc (arena, sizeof (Pmo__Money));
        pmo__money__init (money);
        money->minor = 3000 + rand () % 9000;
        money->currency = "GBP";
        r->cost_rate = money;
        size_t n_skills = 1 + (size_t)(rand () % 3);
        r->skills = pmo_arena_alloc (arena, n_skills * sizeof (void *));
        for (size_t k = 0; k < n_skills; k++) {
            Pmo__ResourceSkill *s = pmo_arena_alloc (arena, sizeof (Pmo__ResourceSkill));
            pmo__resource_skill__init (s);
            char name[32];
            s_skill_name ((int)((i * 7 + k * 13) % SKILLS), name, sizeof name);
            s->name = pmo_arena_strdup (arena, name);
            s->level = 1 + (uint32_t)(rand () % 5);
            r->skills[r->n_skills++] = s;
        }
        if (rand () % 5 == 0) {
            Pmo__CalendarException *e = pmo_arena_alloc (arena, sizeof (Pmo__CalendarException));
            pmo__calendar_exception__init (e);
            int32_t w = year + rand () % 50;
            e->start_week = pmo_arena_strdup (arena, allocator_week_format (w, week_a, 16));
            e->end_week = pmo_arena_strdup (arena, allocator_week_format (w + 1, week_b, 16));
            e->hours_off = 40;
            e->reason = "annual leave";
            r->exceptions = pmo_arena_alloc (arena, sizeof (void *));
            r->exceptions[r->n_exceptions++] = e;
        }
        r->version = 1;
        r->created_ms = r->updated_ms = pmo_now_ms ();
        Pmo__BookingLedger *ledger = pmo_arena_alloc (arena, sizeof (Pmo__BookingLedger));
        pmo__booking_ledger__init (ledger);
        ledger->resource_id = r->id;
        ledger->bookings = pmo_arena_alloc (arena, (per_resource + 1) * sizeof (void *));
        char rid[40];
        snprintf (rid, sizeof rid, "seed-%zu", i);
        pmo_commit_t *commit = allocator_store_commit (store, division, rid);
        allocator_store_index (store, commit, arena, ALLOCATOR_PREFIX_RESOURCE, division, r->id);
        //  Bookings of about 5 h to 20 h a week over 4 to 12 weeks
        int32_t cursor = year + rand () % 8;
        for (size_t k = 0; k < per_resource; k++) {
            Pmo__Allocation *a = pmo_arena_alloc (arena, sizeof (Pmo__Allocation));
            pmo__allocation__init (a);
            int pd = rand () % DIVISIONS;
            a->id = pmo_arena_printf (arena, "al_%s_%zu", division, ++seq_al[d]);
            a->division = (char *)division;
            a->project_id = s_projects[pd];
            a->project_code = pmo_arena_printf (arena, "%s-BENCH", s_divisions[pd]);
            a->project_name = a->project_code;
            a->project_priority = (uint32_t)(pd % 5 + 1);
            a->project_org_unit = (char *)s_divisions[pd];
            a->project_org_unit_path = pmo_arena_printf (arena, "hub/%s", s_divisions[pd]);
            a->project_division = (char *)s_divisions[pd];
            a->resource_id = r->id;
            a->resource_name = r->name;
            a->resource_org_unit_path = r->home_org_unit_path;
            a->skill = r->skills[0]->name;
            a->hours_per_week = 5 + (uint32_t)(rand () % 4) * 5;
            int32_t len = 4 + rand () % 9;
            int32_t first = cursor, last = cursor + len - 1;
            if (last > year + 51)
                last = year + 51;
            if (first > last)
                first = last;
            cursor = first + rand () % (len > 1 ? len : 1);
            a->start_week = pmo_arena_strdup (arena, allocator_week_format (first, week_a, 16));
            a->end_week = pmo_arena_strdup (arena, allocator_week_format (last, week_b, 16));
            a->state = rand () % 10 < 8 ? PMO__ALLOCATION_STATE__ALLOCATION_STATE_COMMITTED
                                        : PMO__ALLOCATION_STATE__ALLOCATION_STATE_PROPOSED;
            a->requested_by = "bench";
            a->version = 3;
            a->created_ms = a->updated_ms = pmo_now_ms ();
            Pmo__Booking *b = pmo_arena_alloc (arena, sizeof (Pmo__Booking));
            pmo__booking__init (b);
            b->allocation_id = a->id;
            b->state = a->state;
            b->project_id = a->project_id;
            b->hours_per_week = a->hours_per_week;
            b->start_week = first;
            b->end_week = last;
            ledger->bookings[ledger->n_bookings++] = b;
            allocator_store_put_allocation (store, commit, arena, a, 0);
            allocator_store_index (store, commit, arena, ALLOCATOR_PREFIX_ALLOCATION, division,
                                   a->id);
            made++;
        }
        allocator_store_put_resource (store, commit, arena, r, 0);
        allocator_store_put_ledger (store, commit, arena, division, ledger, 0);
        pmo_commit_result_t result;
        int rc = pmo_commit_exec (commit, redis, &result);
        pmo_commit_result_clear (&result);
        pmo_commit_destroy (&commit);
        if (rc) {
            fprintf (stderr, "bench: seeding failed at resource %zu\n", i);
            return -1;
        }
        pmo_arena_reset (arena);
    }
    //  Unfilled demand: requests nobody is proposed for, kept in the project's division
    for (size_t i = 0; i < unfilled; i++) {
        int d = (int)(i % DIVISIONS);
        const char *division = s_divisions[d];
        Pmo__Allocation *a = pmo_arena_alloc (arena, sizeof (Pmo__Allocation));
        pmo__allocation__init (a);
        a->id = pmo_arena_printf (arena, "al_%s_%zu", division, ++seq_al[d]);
        a->division = (char *)division;
        a->project_id = s_projects[d];
        a->project_code = pmo_arena_printf (arena, "%s-BENCH", division);
        a->project_priority = (uint32_t)(d % 5 + 1);
        a->project_org_unit = (char *)division;
        a->project_org_unit_path = pmo_arena_printf (arena, "hub/%s", division);
        a->project_division = (char *)division;
        char name[32];
        s_skill_name (rand () % SKILLS, name, sizeof name);
        a->skill = pmo_arena_strdup (arena, name);
        a->min_level = 4;
        a->hours_per_week = 20;
        int32_t first = year + rand () % 44;
        a->start_week = pmo_arena_strdup (arena, allocator_week_format (first, week_a, 16));
        a->end_week = pmo_arena_strdup (arena, allocator_week_format (first + 7, week_b, 16));
        a->state = PMO__ALLOCATION_STATE__ALLOCATION_STATE_REQUESTED;
        a->version = 1;
        char rid[40];
        snprintf (rid, sizeof rid, "seed-u-%zu", i);
        pmo_commit_t *commit = allocator_store_commit (store, division, rid);
        allocator_store_put_allocation (store, commit, arena, a, 0);
        allocator_store_index (store, commit, arena, ALLOCATOR_PREFIX_ALLOCATION, division, a->id);
        pmo_commit_result_t result;
        int rc = pmo_commit_exec (commit, redis, &result);
        pmo_commit_result_clear (&result);
        pmo_commit_destroy (&commit);
        if (rc)
            return -1;
        made++;
        pmo_arena_reset (arena);
    }
    //  The id sequences continue after the seeded ids
    for (int d = 0; d < DIVISIONS; d++) {
        allocator_store_note_division (store, s_divisions[d]);
        redisReply *r = pmo_test_redis_command (self->redis, "HSET pmo:{%s}:alseq rs %llu al %llu",
                                                s_divisions[d], (unsigned long long)seq_rs[d],
                                                (unsigned long long)seq_al[d]);
        if (r)
            freeReplyObject (r);
    }
    printf ("seeded %zu resources and %zu allocations (%zu unfilled) in %.1f s\n", self->resources,
            made, unfilled, (double)(pmo_mono_ms () - started) / 1000.0);
    pmo_arena_destroy (&arena);
    allocator_store_destroy (&store);
    pmo_redis_destroy (&redis);
    return 0;
}

//  ---------------------------------------------------------------------
//  Measurements

static Pmo__AllocatorReply *s_alloc (bench_t *self, Pmo__AllocatorRequest *request)
{
    return (Pmo__AllocatorReply *)s_call (self, self->client, &request->base,
                                          &pmo__allocator_reply__descriptor);
}

static int s_start_allocator (bench_t *self, const char *build_dir, int64_t *ready_ms)
{
    char bin[PATH_MAX];
    (void)build_dir;
    pmo_test_build_path ("services/allocator/pmo-allocator", bin, sizeof bin);
    char *argv[] = {bin,
                    "--endpoint",
                    self->alloc_ep,
                    "--pub",
                    self->alloc_pub,
                    "--redis",
                    self->redis_url,
                    "--registry",
                    self->registry_ep,
                    "--log-level",
                    getenv ("PMO_BENCH_LOG") ? getenv ("PMO_BENCH_LOG") : "warn",
                    NULL};
    int64_t started = pmo_mono_ms ();
    self->allocator = pmo_test_proc_start (argv);
    if (!self->allocator)
        return -1;
    //  Ready when it answers a ping (the index is loaded before it binds... and answers)
    for (int i = 0; i < 600; i++) {
        Pmo__PingRequest ping = PMO__PING_REQUEST__INIT;
        Pmo__AllocatorRequest request = PMO__ALLOCATOR_REQUEST__INIT;
        request.body_case = PMO__ALLOCATOR_REQUEST__BODY_PING;
        request.ping = &ping;
        Pmo__AllocatorReply *reply = s_alloc (self, &request);
        if (reply) {
            protobuf_c_message_free_unpacked (&reply->base, NULL);
            *ready_ms = pmo_mono_ms () - started;
            return 0;
        }
        zclock_sleep (100);
    }
    return -1;
}

int main (int argc, char **argv)
{
    pmo_log_init ("bench", "error");
    bench_t self_ = {.resources = 10000, .allocations = 50000};
    bench_t *self = &self_;
    bool quick = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp (argv[i], "--quick") == 0) {
            quick = true;
            self->resources = 1000;
            self->allocations = 5000;
        } else if (strcmp (argv[i], "--resources") == 0 && i + 1 < argc)
            self->resources = (size_t)atol (argv[++i]);
        else if (strcmp (argv[i], "--allocations") == 0 && i + 1 < argc)
            self->allocations = (size_t)atol (argv[++i]);
        else {
            fprintf (stderr,
                     "usage: bench_allocator [--quick] [--resources N] [--allocations N]\n");
            return 2;
        }
    }
    if (self->resources < 10 || self->allocations < self->resources) {
        fprintf (stderr, "bench: need at least 10 resources and as many allocations\n");
        return 2;
    }
    char build_dir[PATH_MAX];
    pmo_test_build_path ("", build_dir, sizeof build_dir);
    pmo__identity__init (&self->identity);
    pmo__grant__init (&self->grant);
    self->identity.subject = "bench@hub";
    self->grant.role = PMO__ROLE__ROLE_ADMIN;
    self->grant.org_unit = "hub";
    self->grants[0] = &self->grant;
    self->identity.grants = self->grants;
    self->identity.n_grants = 1;

    self->redis = pmo_test_redis_start (false);
    if (!self->redis)
        return 1;
    snprintf (self->redis_url, sizeof self->redis_url, "%s", pmo_test_redis_url (self->redis));
    snprintf (self->registry_ep, 64, "tcp://127.0.0.1:%d", pmo_test_free_port ());
    snprintf (self->registry_pub, 64, "tcp://127.0.0.1:%d", pmo_test_free_port ());
    snprintf (self->alloc_ep, 64, "tcp://127.0.0.1:%d", pmo_test_free_port ());
    snprintf (self->alloc_pub, 64, "tcp://127.0.0.1:%d", pmo_test_free_port ());
    char registry_bin[PATH_MAX];
    pmo_test_build_path ("services/registry/pmo-registry", registry_bin, sizeof registry_bin);
    char *rargv[] = {registry_bin, "--endpoint",    self->registry_ep, "--pub", self->registry_pub,
                     "--redis",    self->redis_url, "--log-level",     "warn",  NULL};
    self->registry = pmo_test_proc_start (rargv);
    self->registry_client = pmo_client_new (self->registry_ep);
    self->client = pmo_client_new (self->alloc_ep);
    int status = 1;
    int64_t ready_ms = 0;
    if (!self->registry || s_registry_setup (self) || s_seed (self) ||
        s_start_allocator (self, build_dir, &ready_ms)) {
        fprintf (stderr, "bench: setup failed\n");
        goto done;
    }
    char alloc_bin[PATH_MAX];
    pmo_test_build_path ("services/allocator/pmo-allocator", alloc_bin, sizeof alloc_bin);
    int pid = s_child_pid (alloc_bin);
    printf ("allocator start with the index rebuilt from Redis: %.2f s; RSS %.1f MiB\n",
            (double)ready_ms / 1000.0, (double)s_status_kb (pid, "VmRSS") / 1024.0);

    //  Ranking: match requests for a skill and level over 8 weeks
    int32_t year;
    allocator_week_parse ("2026-W01", &year);
    size_t ranks = quick ? 300 : RANKS;
    int64_t *lat = malloc (ranks * sizeof (int64_t));
    size_t errors = 0, fits = 0, considered = 0;
    srand (7);
    for (size_t i = 0; i < ranks; i++) {
        char skill[32], start[16], end[16];
        s_skill_name (rand () % SKILLS, skill, sizeof skill);
        int32_t first = year + rand () % 44;
        Pmo__MatchRequest m = PMO__MATCH_REQUEST__INIT;
        m.project_id = s_projects[rand () % DIVISIONS];
        m.skill = skill;
        m.min_level = 1 + (uint32_t)(rand () % 4);
        m.hours_per_week = 10 + (uint32_t)(rand () % 4) * 5;
        m.start_week = allocator_week_format (first, start, sizeof start);
        m.end_week = allocator_week_format (first + 7, end, sizeof end);
        m.limit = 10;
        Pmo__AllocatorRequest request = PMO__ALLOCATOR_REQUEST__INIT;
        request.body_case = PMO__ALLOCATOR_REQUEST__BODY_MATCH;
        request.match = &m;
        int64_t t0 = bench_now_us ();
        Pmo__AllocatorReply *reply = s_alloc (self, &request);
        lat[i] = bench_now_us () - t0;
        if (!reply) {
            errors++;
            continue;
        }
        fits += reply->match->fits;
        considered += reply->match->considered;
        protobuf_c_message_free_unpacked (&reply->base, NULL);
    }
    bench_sort (lat, ranks);
    int64_t rank_p50 = bench_percentile (lat, ranks, 50),
            rank_p99 = bench_percentile (lat, ranks, 99);
    printf ("ranking (match, 8 weeks, one skill, with the registry lookup of the project): %zu "
            "requests, %.0f candidates each on average, %zu fit: p50 %.2f ms, p99 %.2f ms, max "
            "%.2f ms -> %s (target: p99 under 5 ms)\n",
            ranks, (double)considered / (double)ranks, fits, (double)rank_p50 / 1000.0,
            (double)rank_p99 / 1000.0, (double)lat[ranks - 1] / 1000.0,
            rank_p99 < TARGET_P99_US ? "PASS" : "MISS");

    //  Views: the enterprise over 52 weeks, one division, the conflicts list
    const char *units[] = {"", "dft"};
    int64_t view_max[2] = {0, 0}, view_p50[2] = {0, 0};
    size_t view_bytes[2] = {0, 0};
    for (int u = 0; u < 2; u++) {
        int64_t v[VIEWS];
        for (int i = 0; i < VIEWS; i++) {
            Pmo__CapacityRequest c = PMO__CAPACITY_REQUEST__INIT;
            c.org_unit = (char *)units[u];
            c.start_week = "2026-W01";
            c.end_week = "2026-W52";
            Pmo__AllocatorRequest request = PMO__ALLOCATOR_REQUEST__INIT;
            request.body_case = PMO__ALLOCATOR_REQUEST__BODY_CAPACITY;
            request.capacity = &c;
            int64_t t0 = bench_now_us ();
            Pmo__AllocatorReply *reply = s_alloc (self, &request);
            v[i] = bench_now_us () - t0;
            if (!reply) {
                errors++;
                continue;
            }
            view_bytes[u] = protobuf_c_message_get_packed_size (&reply->base);
            if (i == 0 && u == 0)
                printf ("enterprise view: %zu skill rows x %zu weeks; week 2026-W20: capacity "
                        "%u h, committed %u h, proposed %u h, unfilled %u h, utilisation %.1f%%\n",
                        reply->capacity->n_skills, reply->capacity->n_weeks,
                        reply->capacity->total->cells[19]->capacity_hours,
                        reply->capacity->total->cells[19]->committed_hours,
                        reply->capacity->total->cells[19]->proposed_hours,
                        reply->capacity->total->cells[19]->unfilled_hours,
                        reply->capacity->total->cells[19]->utilisation_pct);
            protobuf_c_message_free_unpacked (&reply->base, NULL);
        }
        bench_sort (v, VIEWS);
        view_p50[u] = bench_percentile (v, VIEWS, 50);
        view_max[u] = v[VIEWS - 1];
    }
    printf ("capacity/demand view, enterprise (%zu resources), 52 weeks: p50 %.1f ms, max %.1f ms, "
            "reply %zu KiB -> %s (target: under 200 ms)\n",
            self->resources, (double)view_p50[0] / 1000.0, (double)view_max[0] / 1000.0,
            view_bytes[0] / 1024, view_max[0] < TARGET_VIEW_US ? "PASS" : "MISS");
    printf ("capacity/demand view, one division (dft), 52 weeks: p50 %.1f ms, max %.1f ms\n",
            (double)view_p50[1] / 1000.0, (double)view_max[1] / 1000.0);
    {
        Pmo__ConflictsRequest c = PMO__CONFLICTS_REQUEST__INIT;
        Pmo__AllocatorRequest request = PMO__ALLOCATOR_REQUEST__INIT;
        request.body_case = PMO__ALLOCATOR_REQUEST__BODY_CONFLICTS;
        request.conflicts = &c;
        int64_t t0 = bench_now_us ();
        Pmo__AllocatorReply *reply = s_alloc (self, &request);
        int64_t took = bench_now_us () - t0;
        if (reply) {
            printf ("conflicts, enterprise: %zu over-allocated resources listed in %.1f ms\n",
                    reply->conflicts->n_conflicts, (double)took / 1000.0);
            protobuf_c_message_free_unpacked (&reply->base, NULL);
        } else
            errors++;
    }

    //  A whole cycle: request (matched and proposed) then commit
    size_t cycles = quick ? 50 : 200;
    int64_t *cyc = malloc (cycles * sizeof (int64_t));
    size_t committed = 0;
    for (size_t i = 0; i < cycles; i++) {
        char skill[32], start[16], end[16];
        s_skill_name ((int)(i % SKILLS), skill, sizeof skill);
        int32_t first = year + 40 + (int32_t)(i % 8);
        Pmo__AllocationRequest rq = PMO__ALLOCATION_REQUEST__INIT;
        rq.project_id = s_projects[i % DIVISIONS];
        rq.skill = skill;
        rq.hours_per_week = 5;
        rq.start_week = allocator_week_format (first, start, sizeof start);
        rq.end_week = allocator_week_format (first + 3, end, sizeof end);
        Pmo__AllocatorRequest request = PMO__ALLOCATOR_REQUEST__INIT;
        request.body_case = PMO__ALLOCATOR_REQUEST__BODY_REQUEST_ALLOCATION;
        request.request_allocation = &rq;
        int64_t t0 = bench_now_us ();
        Pmo__AllocatorReply *reply = s_alloc (self, &request);
        if (!reply) {
            errors++;
            cyc[i] = bench_now_us () - t0;
            continue;
        }
        Pmo__AllocationStep step = PMO__ALLOCATION_STEP__INIT;
        step.allocation_id = reply->allocation->id;
        step.version = reply->allocation->version;
        step.approve = true;
        Pmo__AllocatorRequest commit = PMO__ALLOCATOR_REQUEST__INIT;
        commit.body_case = PMO__ALLOCATOR_REQUEST__BODY_COMMIT;
        commit.commit = &step;
        Pmo__AllocatorReply *done = NULL;
        if (reply->allocation->state == PMO__ALLOCATION_STATE__ALLOCATION_STATE_PROPOSED)
            done = s_alloc (self, &commit);
        cyc[i] = bench_now_us () - t0;
        if (done) {
            committed++;
            protobuf_c_message_free_unpacked (&done->base, NULL);
        }
        protobuf_c_message_free_unpacked (&reply->base, NULL);
    }
    bench_sort (cyc, cycles);
    printf ("request (matched, proposed) + commit (approved): %zu cycles, %zu committed: p50 %.2f "
            "ms, p99 %.2f ms\n",
            cycles, committed, (double)bench_percentile (cyc, cycles, 50) / 1000.0,
            (double)bench_percentile (cyc, cycles, 99) / 1000.0);

    long rss = s_status_kb (pid, "VmRSS"), hwm = s_status_kb (pid, "VmHWM");
    printf ("allocator memory: VmRSS %.1f MiB, VmHWM %.1f MiB -> %s (target: under 256 MB)\n",
            (double)rss / 1024.0, (double)hwm / 1024.0,
            hwm > 0 && hwm < TARGET_RSS_KB ? "PASS" : "MISS");
    printf ("errors: %zu\n", errors);
    free (lat);
    free (cyc);
    status = errors ? 1 : 0;
done:
    pmo_client_destroy (&self->client);
    pmo_client_destroy (&self->registry_client);
    if (self->allocator)
        pmo_test_proc_signal (self->allocator, SIGTERM);
    if (self->registry)
        pmo_test_proc_signal (self->registry, SIGTERM);
    if (self->allocator)
        pmo_test_proc_wait (self->allocator, 5000);
    if (self->registry)
        pmo_test_proc_wait (self->registry, 5000);
    pmo_test_proc_destroy (&self->allocator);
    pmo_test_proc_destroy (&self->registry);
    pmo_test_redis_destroy (&self->redis);
    return status;
}
