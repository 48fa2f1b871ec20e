/*  bench_sse.c: live events to 1,000 clients of one gateway.

    Starts its own redis-server, the real pmo-registry and pmo-gateway as
    child processes on free ports, opens 1,000 live-event connections
    (GET /api/v1/events, an admin token, raw sockets read by one epoll loop
    here), then creates projects through the registry over ZeroMQ at a
    steady rate. Each project.created event carries the time of its commit
    (time_ms, the registry's clock, this machine): for every event at every
    client, the time from that commit to the client having read it.

    Prints p50 / p99 / max of that latency over every delivery (target p99
    under 100 ms), the events each client got (each must get all), the
    gateway's resident memory before the clients, with them connected, and
    after the events, and the Redis commands the gateway issued for live
    events per wake-up (INFO commandstats: XRANGE calls / events).

    --gateway PATH runs another pmo-gateway build (to compare the one
    before the shared reader, in the same run on the same machine).

    Usage: PMO_BUILD_DIR=build build/tests/bench/bench_sse [--quick]
           [--clients N] [--rate EVENTS_PER_S] [--seconds S] [--gateway PATH]
*/
#include "pmo_client.h"
#include "pmo_testkit.h"
#include "pmo_util.h"
#include "pmo_wire.h"
#include "registry.pb-c.h"

#include <arpa/inet.h>
#include <czmq.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

typedef struct {
    int fd;
    char tail[256]; //  the end of what was read, for a pattern cut between reads
    size_t tail_len;
    size_t events; //  project.created events read
    bool connected;
} client_t;

static char s_dir[] = "/tmp/pmo-bench-sse-XXXXXX";

static long s_rss_kib (pid_t pid)
{
    char path[64], line[256];
    snprintf (path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *file = fopen (path, "r");
    long kib = -1;
    while (file && fgets (line, sizeof line, file))
        if (strncmp (line, "VmRSS:", 6) == 0)
            kib = atol (line + 6);
    if (file)
        fclose (file);
    return kib;
}

static int s_curl (const char *base, const char *token, const char *method, const char *path,
                   const char *body)
{
    char command[2048];
    snprintf (command, sizeof command,
              "curl -s -o /dev/null -w '%%{http_code}' -X %s -H 'Authorization: Bearer %s' "
              "-H 'Content-Type: application/json' %s%s%s '%s%s'",
              method, token, body ? "--data-raw '" : "", body ? body : "", body ? "'" : "", base,
              path);
    FILE *pipe = popen (command, "r");
    if (!pipe)
        return -1;
    char out[16] = "";
    size_t got = fread (out, 1, sizeof out - 1, pipe);
    out[got] = 0;
    pclose (pipe);
    return atoi (out);
}

static int s_cmp (const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

//  The producer: creates projects at rate per second for seconds.
typedef struct {
    const char *endpoint;
    int rate, seconds;
    size_t created;
} producer_t;

static void s_producer (zsock_t *pipe, void *args)
{
    producer_t *self = args;
    pmo_client_t *client = pmo_client_new (self->endpoint);
    Pmo__Grant grant = PMO__GRANT__INIT;
    grant.role = PMO__ROLE__ROLE_ADMIN;
    grant.org_unit = "hub";
    Pmo__Grant *grants[] = {&grant};
    Pmo__Identity who = PMO__IDENTITY__INIT;
    who.subject = "bench";
    who.grants = grants;
    who.n_grants = 1;
    zsock_signal (pipe, 0);
    int64_t start = zclock_mono ();
    size_t total = (size_t)self->rate * (size_t)self->seconds;
    for (size_t i = 0; i < total; i++) {
        int64_t due = start + (int64_t)(i * 1000 / (size_t)self->rate);
        int64_t wait = due - zclock_mono ();
        if (wait > 0)
            zclock_sleep ((int)wait);
        char code[32], id[37];
        snprintf (code, sizeof code, "SSE-%zu", i);
        Pmo__Project project = PMO__PROJECT__INIT;
        project.code = code;
        project.name = code;
        project.org_unit = "dft";
        Pmo__RegistryRequest request = PMO__REGISTRY_REQUEST__INIT;
        request.body_case = PMO__REGISTRY_REQUEST__BODY_CREATE_PROJECT;
        request.create_project = &project;
        Pmo__Header header;
        pmo_header_init (&header, id, 5000, &who);
        request.header = &header;
        ProtobufCMessage *reply = NULL;
        if (pmo_client_call (client, &request.base, &pmo__registry_reply__descriptor, 5000, 2,
                             &reply) == 0 &&
            !((Pmo__RegistryReply *)reply)->error)
            self->created++;
        if (reply)
            protobuf_c_message_free_unpacked (reply, NULL);
    }
    pmo_client_destroy (&client);
    zsock_signal (pipe, 0);
    char *command = zstr_recv (pipe); //  $TERM
    zstr_free (&command);
}

//  Scan what a client read for project.created events and their commit
//  times; latencies (ms) go to lat.
static void s_scan (client_t *c, const char *data, size_t len, int64_t now_ms, int64_t *lat,
                    size_t *n_lat, size_t max_lat)
{
    //  The tail of the previous read, then this one
    static char joined[300000];
    size_t size = c->tail_len + len < sizeof joined - 1 ? len : sizeof joined - 1 - c->tail_len;
    memcpy (joined, c->tail, c->tail_len);
    memcpy (joined + c->tail_len, data, size);
    size_t total = c->tail_len + size;
    joined[total] = 0;
    if (!c->connected && strstr (joined, ": connected"))
        c->connected = true;
    const char *p = joined;
    const char *done = joined; //  everything before it is scanned
    while ((p = strstr (p, "event: project.created\n"))) {
        const char *end = strstr (p, "\n\n");
        if (!end)
            break;
        const char *t = strstr (p, "\"time_ms\":");
        if (t && t < end) {
            t += 10;
            if (*t == '"')
                t++;
            int64_t at = strtoll (t, NULL, 10);
            if (*n_lat < max_lat)
                lat[(*n_lat)++] = now_ms - at;
            c->events++;
        }
        p = done = end + 2;
    }
    //  Keep what may hold the start of an event cut by this read
    const char *keep =
        joined + total -
        (total - (size_t)(done - joined) < sizeof c->tail - 1 ? total - (size_t)(done - joined)
                                                              : sizeof c->tail - 1);
    const char *event_start = strstr (keep, "event: ");
    if (!event_start && total - (size_t)(done - joined) >= sizeof c->tail - 1)
        keep = joined + total - 64; //  in the middle of a long data line: keep its end
    c->tail_len = total - (size_t)(keep - joined);
    memcpy (c->tail, keep, c->tail_len);
}

int main (int argc, char **argv)
{
    setvbuf (stdout, NULL, _IOLBF, 0);
    int n_clients = 1000, rate = 20, seconds = 10;
    const char *gateway_path = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp (argv[i], "--quick") == 0)
            n_clients = 100, rate = 20, seconds = 3;
        else if (strcmp (argv[i], "--clients") == 0 && i + 1 < argc)
            n_clients = atoi (argv[++i]);
        else if (strcmp (argv[i], "--rate") == 0 && i + 1 < argc)
            rate = atoi (argv[++i]);
        else if (strcmp (argv[i], "--seconds") == 0 && i + 1 < argc)
            seconds = atoi (argv[++i]);
        else if (strcmp (argv[i], "--gateway") == 0 && i + 1 < argc)
            gateway_path = argv[++i];
    }
    if (n_clients < 1 || n_clients > 20000 || rate < 1 || seconds < 1) {
        fprintf (stderr, "bench_sse: --clients 1..20000, --rate and --seconds > 0\n");
        return 1;
    }
    struct rlimit files = {(rlim_t)n_clients + 256, (rlim_t)n_clients + 256};
    if (setrlimit (RLIMIT_NOFILE, &files))
        fprintf (stderr, "bench_sse: could not raise the open-file limit\n");
    zsys_init ();
    zsys_set_max_sockets ((size_t)n_clients + 256);
    if (!mkdtemp (s_dir))
        return 1;
    pmo_test_redis_t *redis = pmo_test_redis_start (false);
    if (!redis)
        return 1;
    char endpoint[64], pub[64], zmq[64], http[64], base[80], token_file[300];
    snprintf (endpoint, sizeof endpoint, "tcp://127.0.0.1:%d", pmo_test_free_port ());
    snprintf (pub, sizeof pub, "tcp://127.0.0.1:%d", pmo_test_free_port ());
    snprintf (zmq, sizeof zmq, "tcp://127.0.0.1:%d", pmo_test_free_port ());
    int port = pmo_test_free_port ();
    snprintf (http, sizeof http, "127.0.0.1:%d", port);
    snprintf (base, sizeof base, "http://127.0.0.1:%d", port);
    snprintf (token_file, sizeof token_file, "%s/admin-token", s_dir);
    char registry_bin[PATH_MAX], gateway_bin[PATH_MAX];
    pmo_test_build_path ("services/registry/pmo-registry", registry_bin, sizeof registry_bin);
    if (gateway_path)
        snprintf (gateway_bin, sizeof gateway_bin, "%s", gateway_path);
    else
        pmo_test_build_path ("services/gateway/pmo-gateway", gateway_bin, sizeof gateway_bin);
    const char *url = pmo_test_redis_url (redis);
    char *registry_argv[] = {registry_bin, "--redis", (char *)url,   "--endpoint", endpoint,
                             "--pub",      pub,       "--log-level", "warn",       NULL};
    pmo_test_proc_t *registry = pmo_test_proc_start (registry_argv);
    char connections[16];
    snprintf (connections, sizeof connections, "%d", n_clients + 64);
    char *gateway_argv[] = {gateway_bin, "--redis",
                            (char *)url, "--registry",
                            endpoint,    "--registry-pub",
                            pub,         "--endpoint",
                            zmq,         "--http",
                            http,        "--allocator",
                            "",          "--riskmon",
                            "",          "--notifier",
                            "",          "--planner",
                            "",          "--rate",
                            "0",         "--max-connections",
                            connections, "--max-per-address",
                            connections, "--admin-token-file",
                            token_file,  "--log-level",
                            "warn",      NULL};
    pmo_test_proc_t *gateway = pmo_test_proc_start (gateway_argv);
    if (!registry || !gateway)
        return 1;
    char token[128] = "";
    for (int i = 0; i < 150 && !(*token && s_curl (base, token, "GET", "/readyz", NULL) == 200);
         i++) {
        FILE *file = fopen (token_file, "r");
        if (file) {
            if (fgets (token, sizeof token, file))
                token[strcspn (token, "\n")] = 0;
            fclose (file);
        }
        zclock_sleep (100);
    }
    if (!*token ||
        s_curl (base, token, "POST", "/api/v1/org-units",
                "{\"id\":\"hub\",\"name\":\"Enterprise\",\"kind\":\"enterprise\"}") != 201 ||
        s_curl (base, token, "POST", "/api/v1/org-units",
                "{\"id\":\"dft\",\"name\":\"Transport\",\"kind\":\"division\",\"parent\":"
                "\"hub\"}") != 201) {
        fprintf (stderr, "bench_sse: the gateway did not start\n");
        return 1;
    }
    pid_t gateway_pid = pmo_test_proc_pid (gateway);
    zclock_sleep (500);
    long rss_idle = s_rss_kib (gateway_pid);

    //  The clients
    int epoll = epoll_create1 (0);
    client_t *clients = calloc ((size_t)n_clients, sizeof (client_t));
    struct sockaddr_in addr = {.sin_family = AF_INET};
    addr.sin_port = htons ((uint16_t)port);
    inet_pton (AF_INET, "127.0.0.1", &addr.sin_addr);
    char request[512];
    int request_len = snprintf (request, sizeof request,
                                "GET /api/v1/events?type=project.created HTTP/1.1\r\nHost: x\r\n"
                                "Authorization: Bearer %s\r\nAccept: text/event-stream\r\n\r\n",
                                token);
    for (int i = 0; i < n_clients; i++) {
        client_t *c = &clients[i];
        c->fd = socket (AF_INET, SOCK_STREAM, 0);
        if (c->fd < 0 || connect (c->fd, (struct sockaddr *)&addr, sizeof addr) ||
            write (c->fd, request, (size_t)request_len) != request_len) {
            fprintf (stderr, "bench_sse: client %d: %s\n", i, strerror (errno));
            return 1;
        }
        fcntl (c->fd, F_SETFL, O_NONBLOCK);
        struct epoll_event item = {.events = EPOLLIN, .data.ptr = c};
        epoll_ctl (epoll, EPOLL_CTL_ADD, c->fd, &item);
    }
    size_t max_lat = (size_t)n_clients * (size_t)rate * (size_t)seconds;
    int64_t *lat = malloc (max_lat * sizeof (int64_t));
    size_t n_lat = 0;
    static char buf[262144];
    struct epoll_event ready[256];
    int connected = 0;
    int64_t deadline = zclock_mono () + 30000;
    while (connected < n_clients && zclock_mono () < deadline) {
        int n = epoll_wait (epoll, ready, 256, 100);
        for (int k = 0; k < n; k++) {
            client_t *c = ready[k].data.ptr;
            ssize_t got = read (c->fd, buf, sizeof buf);
            bool was = c->connected;
            if (got > 0)
                s_scan (c, buf, (size_t)got, zclock_time (), lat, &n_lat, max_lat);
            connected += !was && c->connected;
        }
    }
    if (connected < n_clients) {
        fprintf (stderr, "bench_sse: only %d of %d clients connected\n", connected, n_clients);
        return 1;
    }
    zclock_sleep (500);
    long rss_clients = s_rss_kib (gateway_pid);
    redisReply *reset = pmo_test_redis_command (redis, "CONFIG RESETSTAT");
    freeReplyObject (reset);

    producer_t producer = {endpoint, rate, seconds, 0};
    zactor_t *actor = zactor_new (s_producer, &producer);
    size_t expected = (size_t)rate * (size_t)seconds;
    bool produced = false;
    deadline = zclock_mono () + (int64_t)seconds * 1000 + 30000;
    zpoller_t *poller = zpoller_new (actor, NULL);
    while (zclock_mono () < deadline) {
        if (!produced && zpoller_wait (poller, 0) == actor) {
            zsock_wait (actor);
            produced = true;
            expected = producer.created;
        }
        size_t done = 0;
        for (int i = 0; i < n_clients; i++)
            done += clients[i].events >= expected;
        if (produced && done == (size_t)n_clients)
            break;
        int n = epoll_wait (epoll, ready, 256, 50);
        int64_t now = zclock_time ();
        for (int k = 0; k < n; k++) {
            client_t *c = ready[k].data.ptr;
            ssize_t got;
            while ((got = read (c->fd, buf, sizeof buf)) > 0)
                s_scan (c, buf, (size_t)got, now, lat, &n_lat, max_lat);
        }
    }
    zpoller_destroy (&poller);
    zactor_destroy (&actor);
    long rss_after = s_rss_kib (gateway_pid);
    size_t least = SIZE_MAX;
    for (int i = 0; i < n_clients; i++)
        if (clients[i].events < least)
            least = clients[i].events;
    qsort (lat, n_lat, sizeof (int64_t), s_cmp);
    redisReply *stats = pmo_test_redis_command (redis, "INFO commandstats");
    long long xrange = 0;
    const char *at = stats && stats->str ? strstr (stats->str, "cmdstat_xrange:calls=") : NULL;
    if (at)
        xrange = atoll (at + strlen ("cmdstat_xrange:calls="));
    freeReplyObject (stats);

    printf ("bench_sse: %d clients, %d events/s for %d s (%s), 2 vCPUs shared by Redis, the "
            "registry, the gateway and the clients\n",
            n_clients, rate, seconds, gateway_path ? gateway_path : "this build's gateway");
    printf ("  events committed %zu; each client got at least %zu; deliveries %zu\n",
            producer.created, least, n_lat);
    if (n_lat)
        printf ("  commit -> client: p50 %lld ms, p99 %lld ms, max %lld ms (target p99 < 100 ms)\n",
                (long long)lat[n_lat / 2], (long long)lat[(size_t)((double)n_lat * 0.99)],
                (long long)lat[n_lat - 1]);
    printf ("  gateway resident memory: %.1f MiB idle, %.1f MiB with %d clients, %.1f MiB after "
            "the events\n",
            rss_idle / 1024.0, rss_clients / 1024.0, n_clients, rss_after / 1024.0);
    printf ("  stream reads (XRANGE) while the events came: %lld (%.1f per event)\n", xrange,
            producer.created ? (double)xrange / (double)producer.created : 0.0);

    for (int i = 0; i < n_clients; i++)
        close (clients[i].fd);
    free (clients);
    free (lat);
    close (epoll);
    pmo_test_proc_signal (gateway, SIGTERM);
    pmo_test_proc_signal (registry, SIGTERM);
    pmo_test_proc_wait (gateway, 10000);
    pmo_test_proc_wait (registry, 5000);
    pmo_test_proc_destroy (&gateway);
    pmo_test_proc_destroy (&registry);
    pmo_test_redis_destroy (&redis);
    unlink (token_file);
    rmdir (s_dir);
    return 0;
}
