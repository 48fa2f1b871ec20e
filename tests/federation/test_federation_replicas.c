/*  test_federation_replicas.c: two registry replicas on one Redis, one
    killed mid-load.

    Two pmo-registry processes serve the same Redis on different endpoints;
    one client connects its DEALER to both (comma-separated endpoints), so
    requests spread over the replicas. Halfway through a burst of creates
    one replica gets SIGKILL. Each create is retried with its request id
    until acknowledged: every one is acknowledged, every acknowledged
    project is in Redis, and none is there twice (one code claim, one
    index entry and one event per project).
*/
#include "pmo_log.h"
#include "pmo_util.h"
#include "registry_harness.h"

#include <assert.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WRITES 1200

//  The killer runs beside the writer, so the SIGKILL lands while a request
//  may be in flight at the replica, not neatly between two requests.
static volatile int s_progress;
static pmo_test_proc_t *s_victim;

static void s_killer (zsock_t *pipe, void *args)
{
    (void)args;
    zsock_signal (pipe, 0);
    while (s_progress < WRITES / 2)
        zclock_sleep (1);
    pmo_test_proc_signal (s_victim, SIGKILL);
    char *command = zstr_recv (pipe); //  $TERM
    zstr_free (&command);
}

static pmo_test_proc_t *s_replica (const char *path, const char *redis, const char *endpoint,
                                   const char *pub)
{
    char *argv[] = {(char *)path, "--redis",   (char *)redis,     "--endpoint", (char *)endpoint,
                    "--pub",      (char *)pub, "--redis-timeout", "500",        "--log-level",
                    "warn",       NULL};
    return pmo_test_proc_start (argv);
}

int main (void)
{
    zsys_init ();
    pmo_log_init ("test", getenv ("PMO_TEST_VERBOSE") ? "debug" : "error");
    pmo_test_redis_t *redis = pmo_test_redis_start (false);
    assert (redis);
    char path[512];
    pmo_test_build_path ("services/registry/pmo-registry", path, sizeof path);
    char endpoints[2][64], pubs[2][64];
    pmo_test_proc_t *replicas[2];
    for (int i = 0; i < 2; i++) {
        snprintf (endpoints[i], sizeof endpoints[i], "tcp://127.0.0.1:%d", pmo_test_free_port ());
        snprintf (pubs[i], sizeof pubs[i], "tcp://127.0.0.1:%d", pmo_test_free_port ());
        replicas[i] = s_replica (path, pmo_test_redis_url (redis), endpoints[i], pubs[i]);
        assert (replicas[i]);
    }
    char both[160];
    snprintf (both, sizeof both, "%s,%s", endpoints[0], endpoints[1]);
    rh_t rh = {0};
    rh_as (&rh, "admin@test", "admin@hub");
    rh.client = pmo_client_new (both);
    assert (rh.client);
    Pmo__RegistryReply *reply = rh_unit (&rh, "hub", "enterprise", NULL, "controlling");
    rh_ok (reply);
    rh_free (&reply);
    reply = rh_unit (&rh, "dft", "division", "hub", NULL);
    rh_ok (reply);
    rh_free (&reply);

    char **ids = calloc (WRITES, sizeof (char *));
    size_t acked = 0, retried = 0;
    int64_t worst = 0;
    s_victim = replicas[1];
    zactor_t *killer = zactor_new (s_killer, NULL);
    for (int n = 0; n < WRITES; n++) {
        s_progress = n;
        char code[32];
        snprintf (code, sizeof code, "REP-%05d", n);
        Pmo__Project project = PMO__PROJECT__INIT;
        project.code = code;
        project.name = code;
        project.org_unit = "dft";
        Pmo__RegistryRequest request = PMO__REGISTRY_REQUEST__INIT;
        request.body_case = PMO__REGISTRY_REQUEST__BODY_CREATE_PROJECT;
        request.create_project = &project;
        Pmo__Header header;
        char request_id[40];
        pmo_header_init (&header, request_id, 30000, &rh.identity);
        request.header = &header;
        int64_t started = pmo_mono_ms ();
        bool done = false;
        for (int attempt = 0; attempt < 50 && !done; attempt++) {
            ProtobufCMessage *msg = NULL;
            if (attempt)
                retried++;
            //  A short deadline: a request sent to the replica that just
            //  died is sent again (same id) and reaches the live one
            if (pmo_client_call (rh.client, &request.base, &pmo__registry_reply__descriptor, 300, 1,
                                 &msg) == 0) {
                Pmo__RegistryReply *r = (Pmo__RegistryReply *)msg;
                rh_ok (r);
                ids[n] = strdup (r->project->id);
                done = true;
                protobuf_c_message_free_unpacked (msg, NULL);
            }
        }
        assert (done);
        acked++;
        if (pmo_mono_ms () - started > worst)
            worst = pmo_mono_ms () - started;
    }
    zactor_destroy (&killer);
    assert (pmo_test_proc_wait (replicas[1], 1000) == 128 + SIGKILL);
    //  Every acknowledged create is there once
    redisReply *r = pmo_test_redis_command (redis, "HLEN pmo:{dft}:code:pr");
    assert (r && r->integer == WRITES);
    freeReplyObject (r);
    r = pmo_test_redis_command (redis, "ZCARD pmo:{dft}:ix:pr:ou:dft");
    assert (r && r->integer == WRITES);
    freeReplyObject (r);
    r = pmo_test_redis_command (redis, "XLEN pmo:{dft}:events");
    assert (r && r->integer == WRITES);
    freeReplyObject (r);
    //  (ids may skip a number: a replica killed after taking a sequence
    //  number and before its commit leaves a gap, never a half-written project)
    for (int n = 0; n < WRITES; n++) {
        r = pmo_test_redis_command (redis, "EXISTS pmo:{dft}:pr:%s", ids[n]);
        assert (r && r->integer == 1);
        freeReplyObject (r);
        free (ids[n]);
    }
    free (ids);
    printf ("replicas: %zu creates acknowledged over two replicas, one SIGKILLed at %d; %zu "
            "resends; worst create %lld ms; every project once\n",
            acked, WRITES / 2, retried, (long long)worst);
    pmo_client_destroy (&rh.client);
    pmo_test_proc_signal (replicas[0], SIGTERM);
    assert (pmo_test_proc_wait (replicas[0], 5000) == 0);
    pmo_test_proc_destroy (&replicas[0]);
    pmo_test_proc_destroy (&replicas[1]);
    pmo_test_redis_destroy (&redis);
    printf ("test_federation_replicas: passed\n");
    return 0;
}
