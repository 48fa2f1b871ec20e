/*  test_federation_sentinel.c: a Redis Sentinel failover under write load.

    A real master (test kit), a real replica and three real redis-sentinel
    processes; the registry actor finds the master through a sentinel://
    URL, so every commit waits for one replica (WAIT, pmo_redis.h) before
    it is acknowledged. A client creates projects, retrying each with its
    request id until it is acknowledged. Mid-load the master is SIGKILLed:
    the sentinels promote the replica; the old master comes back and the
    sentinels make it the new master's replica (until then the new master
    has no replica to confirm a write: every write is answered unavailable,
    retryable); the registry finds the new master by itself and the writes
    carry on. At the end not one acknowledged write may be missing from the
    new master (replication is asynchronous: without the WAIT, a failover
    loses what the old master acknowledged but had not yet sent), and the
    test prints the longest stall the client saw.

    "Where the master is" is what every sentinel names, asked one by one:
    the first to answer may be the failover's leader while the others still
    name the old master (the old master restarted then would be taken for
    the master by those), and a loaded machine may fail over a second time.
    On a disagreement the test prints each sentinel's log.
*/
#include "pmo_log.h"
#include "pmo_sentinel.h"
#include "pmo_util.h"
#include "registry_harness.h"

#include <assert.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SENTINELS     3
#define WRITES_BEFORE 400
#define WRITES_AFTER  400
#define MASTER_NAME   "pmo"

static char s_dir[128];

static pmo_test_proc_t *s_start_replica (int port, int master_port)
{
    char port_text[16], master_text[16], dir[200];
    snprintf (port_text, sizeof port_text, "%d", port);
    snprintf (master_text, sizeof master_text, "%d", master_port);
    snprintf (dir, sizeof dir, "%s/replica", s_dir);
    char command[300];
    snprintf (command, sizeof command, "mkdir -p %s", dir);
    assert (system (command) == 0);
    char *argv[] = {"/usr/bin/redis-server",
                    "--port",
                    port_text,
                    "--bind",
                    "127.0.0.1",
                    "--dir",
                    dir,
                    "--replicaof",
                    "127.0.0.1",
                    master_text,
                    "--appendonly",
                    "yes",
                    "--save",
                    "",
                    NULL};
    return pmo_test_proc_start (argv);
}

static pmo_test_proc_t *s_start_sentinel (int port, int master_port, int i)
{
    char path[200];
    snprintf (path, sizeof path, "%s/sentinel-%d.conf", s_dir, i);
    FILE *file = fopen (path, "w");
    assert (file);
    fprintf (file,
             "port %d\nbind 127.0.0.1\ndir %s\nlogfile %s/sentinel-%d.log\n"
             "sentinel monitor " MASTER_NAME " 127.0.0.1 %d 2\n"
             "sentinel down-after-milliseconds " MASTER_NAME " 1000\n"
             "sentinel failover-timeout " MASTER_NAME " 10000\n"
             "sentinel parallel-syncs " MASTER_NAME " 1\n",
             port, s_dir, s_dir, i, master_port);
    fclose (file);
    char *argv[] = {"/usr/bin/redis-server", path, "--sentinel", NULL};
    return pmo_test_proc_start (argv);
}

static redisReply *s_command (int port, const char *format, ...)
{
    struct timeval tv = {2, 0};
    redisContext *ctx = redisConnectWithTimeout ("127.0.0.1", port, tv);
    if (!ctx || ctx->err) {
        if (ctx)
            redisFree (ctx);
        return NULL;
    }
    redisSetTimeout (ctx, tv);
    va_list args;
    va_start (args, format);
    redisReply *reply = redisvCommand (ctx, format, args);
    va_end (args);
    redisFree (ctx);
    return reply;
}

//  The master each sentinel names, one by one (0 where one does not answer)
static void s_masters (const int *sentinel_ports, int *ports)
{
    for (int i = 0; i < SENTINELS; i++) {
        char address[32], host[64];
        snprintf (address, sizeof address, "127.0.0.1:%d", sentinel_ports[i]);
        ports[i] = 0;
        if (pmo_sentinel_master (address, MASTER_NAME, 1000, host, sizeof host, &ports[i]) != 0)
            ports[i] = 0;
    }
}

//  Wait until every sentinel names the same master; its port, or 0 (and
//  what each named, when it waited)
static int s_agreed_master (const int *sentinel_ports, int timeout_ms)
{
    int64_t deadline = pmo_mono_ms () + timeout_ms;
    int ports[SENTINELS];
    while (true) {
        s_masters (sentinel_ports, ports);
        bool same = ports[0] > 0;
        for (int i = 1; same && i < SENTINELS; i++)
            same = ports[i] == ports[0];
        if (same)
            return ports[0];
        if (pmo_mono_ms () >= deadline)
            break;
        zclock_sleep (100);
    }
    if (timeout_ms == 0)
        return 0;
    fprintf (stderr, "sentinel: the sentinels do not agree:");
    for (int i = 0; i < SENTINELS; i++)
        fprintf (stderr, " %d", ports[i]);
    fprintf (stderr, "\n");
    return 0;
}

//  On a failure, what each sentinel saw
static void s_dump_logs (void)
{
    for (int i = 0; i < SENTINELS; i++) {
        char path[200];
        snprintf (path, sizeof path, "%s/sentinel-%d.log", s_dir, i);
        FILE *file = fopen (path, "r");
        if (!file)
            continue;
        fprintf (stderr, "---- %s\n", path);
        char line[512];
        while (fgets (line, sizeof line, file))
            fputs (line, stderr);
        fclose (file);
    }
}

//  Create one project, retrying with the same request id until it is
//  acknowledged (at most 90 s: a deadline against a hang; the first write
//  after the kill waits for the old master to rejoin as a replica, 15 s
//  here). Returns the id (malloc) or NULL.
static char *s_create (pmo_client_t *client, Pmo__Identity *identity, int n, int64_t *stall_ms)
{
    char code[32];
    snprintf (code, sizeof code, "SEN-%05d", n);
    Pmo__Project project = PMO__PROJECT__INIT;
    project.code = code;
    project.name = code;
    project.org_unit = "dft";
    Pmo__RegistryRequest request = PMO__REGISTRY_REQUEST__INIT;
    request.body_case = PMO__REGISTRY_REQUEST__BODY_CREATE_PROJECT;
    request.create_project = &project;
    Pmo__Header header;
    char request_id[40];
    pmo_header_init (&header, request_id, 60000, identity);
    request.header = &header;
    int64_t started = pmo_mono_ms ();
    char *id = NULL;
    while (!id && pmo_mono_ms () - started < 90000) {
        ProtobufCMessage *msg = NULL;
        if (pmo_client_call (client, &request.base, &pmo__registry_reply__descriptor, 1000, 1,
                             &msg) == 0) {
            Pmo__RegistryReply *reply = (Pmo__RegistryReply *)msg;
            if (!reply->error)
                id = strdup (reply->project->id);
            else if (!reply->error->retryable) {
                fprintf (stderr, "sentinel: refused %s: %s\n", code, reply->error->message);
                abort ();
            }
            protobuf_c_message_free_unpacked (msg, NULL);
        }
        if (!id)
            zclock_sleep (50);
    }
    int64_t took = pmo_mono_ms () - started;
    if (took > *stall_ms)
        *stall_ms = took;
    return id;
}

int main (void)
{
    zsys_init ();
    pmo_log_init ("test", getenv ("PMO_TEST_VERBOSE") ? "debug" : "error");
    if (access ("/usr/bin/redis-server", X_OK) != 0) {
        fprintf (stderr, "test_federation_sentinel: redis-server missing\n");
        return 1;
    }
    snprintf (s_dir, sizeof s_dir, "/tmp/pmo-sentinel-XXXXXX");
    assert (mkdtemp (s_dir));
    pmo_test_redis_t *master = pmo_test_redis_start (false);
    assert (master);
    int master_port = pmo_test_redis_port (master);
    int replica_port = pmo_test_free_port ();
    pmo_test_proc_t *replica = s_start_replica (replica_port, master_port);
    assert (replica);
    int sentinel_ports[SENTINELS];
    pmo_test_proc_t *sentinels[SENTINELS];
    char url[512] = "sentinel://";
    for (int i = 0; i < SENTINELS; i++) {
        sentinel_ports[i] = pmo_test_free_port ();
        sentinels[i] = s_start_sentinel (sentinel_ports[i], master_port, i);
        assert (sentinels[i]);
        snprintf (url + strlen (url), sizeof url - strlen (url), "%s127.0.0.1:%d", i ? "," : "",
                  sentinel_ports[i]);
    }
    snprintf (url + strlen (url), sizeof url - strlen (url), "/%s", MASTER_NAME);
    //  Wait for the replica to sync and every sentinel to see it
    int64_t deadline = pmo_mono_ms () + 20000;
    bool ready = false;
    while (!ready && pmo_mono_ms () < deadline) {
        ready = true;
        redisReply *info = s_command (replica_port, "INFO replication");
        ready = info && info->str && strstr (info->str, "master_link_status:up");
        if (info)
            freeReplyObject (info);
        for (int i = 0; ready && i < SENTINELS; i++) {
            redisReply *r = s_command (sentinel_ports[i], "SENTINEL replicas " MASTER_NAME);
            ready = r && r->type == REDIS_REPLY_ARRAY && r->elements == 1;
            if (r)
                freeReplyObject (r);
            r = s_command (sentinel_ports[i], "SENTINEL sentinels " MASTER_NAME);
            ready = ready && r && r->type == REDIS_REPLY_ARRAY && r->elements == SENTINELS - 1;
            if (r)
                freeReplyObject (r);
        }
        if (!ready)
            zclock_sleep (100);
    }
    assert (ready);

    //  The registry finds the master through the sentinels
    char endpoint[64], pub[64];
    snprintf (endpoint, sizeof endpoint, "tcp://127.0.0.1:%d", pmo_test_free_port ());
    snprintf (pub, sizeof pub, "tcp://127.0.0.1:%d", pmo_test_free_port ());
    registry_config_t config = {.endpoint = endpoint,
                                .pub_endpoint = pub,
                                .redis_url = url,
                                .hub = "hub",
                                .redis_timeout_ms = 500};
    zactor_t *registry = zactor_new (registry_server_actor, &config);
    assert (registry && !config.failed);
    rh_t fake = {0}; //  only for its identity helper
    rh_as (&fake, "admin@test", "admin@hub");
    pmo_client_t *client = pmo_client_new (endpoint);
    assert (client);
    {
        rh_t rh = fake;
        rh.client = client;
        Pmo__RegistryReply *reply = rh_unit (&rh, "hub", "enterprise", NULL, "controlling");
        rh_ok (reply);
        rh_free (&reply);
        reply = rh_unit (&rh, "dft", "division", "hub", NULL);
        rh_ok (reply);
        rh_free (&reply);
    }
    char **acked = calloc (WRITES_BEFORE + WRITES_AFTER, sizeof (char *));
    size_t n_acked = 0;
    int64_t stall_before = 0, stall_after = 0;
    for (int i = 0; i < WRITES_BEFORE; i++) {
        acked[n_acked] = s_create (client, &fake.identity, i, &stall_before);
        assert (acked[n_acked]);
        n_acked++;
    }
    //  The master dies mid-load; once the sentinels have promoted the
    //  replica, it comes back (as a replica of the new master)
    int64_t killed = pmo_mono_ms ();
    pmo_test_redis_kill (master);
    //  Every sentinel names the replica (one alone may be the failover's
    //  leader, the others still naming the old master until its hello)
    deadline = pmo_mono_ms () + 60000;
    int port = 0;
    while (port != replica_port && pmo_mono_ms () < deadline)
        if ((port = s_agreed_master (sentinel_ports, 0)) != replica_port)
            zclock_sleep (100);
    if (port != replica_port) {
        s_dump_logs ();
        fprintf (stderr, "sentinel: no agreement on the replica %d as master\n", replica_port);
        abort ();
    }
    assert (pmo_test_redis_restart (master) == 0);
    for (int i = WRITES_BEFORE; i < WRITES_BEFORE + WRITES_AFTER; i++) {
        acked[n_acked] = s_create (client, &fake.identity, i, &stall_after);
        assert (acked[n_acked]); //  services continue
        n_acked++;
    }
    int64_t recovered = pmo_mono_ms () - killed;
    //  Where the writes are now: the master every sentinel names. That is
    //  the replica, unless a loaded machine starved it past the sentinels'
    //  1 s down-after and they failed over again, to the old master (then
    //  its replica, every acknowledged write on it through the WAIT)
    int holder = s_agreed_master (sentinel_ports, 10000);
    if (holder != replica_port && holder != master_port) {
        s_dump_logs ();
        fprintf (stderr, "sentinel: the sentinels name %d, neither the replica %d nor %d\n", holder,
                 replica_port, master_port);
        abort ();
    }
    if (holder != replica_port)
        printf ("sentinel: a second failover made %d the master again\n", holder);
    //  Count the acknowledged writes the new master holds; one it holds is
    //  the project acknowledged, never another one given the same id after
    //  the failover lost the counter's last increments
    size_t lost = 0;
    for (size_t i = 0; i < n_acked; i++) {
        redisReply *r = s_command (holder, "EXISTS pmo:{dft}:pr:%s", acked[i]);
        assert (r && r->type == REDIS_REPLY_INTEGER);
        if (r->integer != 1)
            lost++;
        else {
            redisReply *owner = s_command (holder, "HGET pmo:{dft}:code:pr SEN-%05d", (int)i);
            assert (owner);
            if (owner->type != REDIS_REPLY_STRING || !streq (owner->str, acked[i])) {
                fprintf (stderr, "sentinel: id %s of SEN-%05d now names another project\n",
                         acked[i], (int)i);
                abort ();
            }
            freeReplyObject (owner);
        }
        freeReplyObject (r);
        free (acked[i]);
    }
    free (acked);
    //  Nothing doubled: each code once
    redisReply *r = s_command (holder, "HLEN pmo:{dft}:code:pr");
    assert (r && r->type == REDIS_REPLY_INTEGER);
    long long codes = r->integer;
    freeReplyObject (r);
    printf ("sentinel failover: %zu acknowledged writes, %zu lost in the failover, %lld projects "
            "held; longest stall %lld ms (before the kill %lld ms); all writes done %lld ms "
            "after the kill\n",
            n_acked, lost, codes, (long long)stall_after, (long long)stall_before,
            (long long)recovered);
    assert (lost == 0);
    assert (codes == (long long)n_acked);

    pmo_client_destroy (&client);
    zactor_destroy (&registry);
    for (int i = 0; i < SENTINELS; i++) {
        pmo_test_proc_signal (sentinels[i], SIGTERM);
        pmo_test_proc_wait (sentinels[i], 5000);
        pmo_test_proc_destroy (&sentinels[i]);
    }
    pmo_test_proc_signal (replica, SIGTERM);
    pmo_test_proc_wait (replica, 5000);
    pmo_test_proc_destroy (&replica);
    pmo_test_redis_destroy (&master);
    char command[200];
    snprintf (command, sizeof command, "rm -rf '%s'", s_dir);
    if (system (command) != 0)
        fprintf (stderr, "could not remove %s\n", s_dir);
    printf ("test_federation_sentinel: passed\n");
    return 0;
}
