/*  test_registry_faults.c: the registry when things break.

    - Redis goes away: requests fail fast with a retryable "unavailable",
      and the registry recovers by itself when Redis returns.
    - The pmo-registry process is killed with SIGKILL in the middle of a
      burst of writes: every acknowledged write is there afterwards, no
      entity is half-written (entity, code, index and event agree), and
      retrying the requests that got no answer creates nothing twice.
    - Redis itself is killed with appendfsync always: no acknowledged write
      is lost.
*/
#include "events.pb-c.h"
#include "pmo_log.h"
#include "pmo_util.h"
#include "registry_harness.h"

#include <assert.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

static void s_redis_outage (void)
{
    rh_t *rh = rh_start ();
    Pmo__RegistryReply *reply = rh_unit (rh, "hub", "enterprise", NULL, "controlling");
    rh_ok (reply);
    rh_free (&reply);
    pmo_test_redis_kill (rh->redis);
    //  Fails fast, says it may be retried, and the service keeps answering
    for (int i = 0; i < 5; i++) {
        int64_t started = pmo_mono_ms ();
        reply = rh_unit (rh, "dft", "division", "hub", NULL);
        rh_err (reply, UNAVAILABLE, "");
        assert (reply->error->retryable);
        assert (pmo_mono_ms () - started < 1500);
        rh_free (&reply);
    }
    Pmo__PingRequest ping = PMO__PING_REQUEST__INIT;
    Pmo__RegistryRequest request = PMO__REGISTRY_REQUEST__INIT;
    request.body_case = PMO__REGISTRY_REQUEST__BODY_PING;
    request.ping = &ping;
    reply = rh_call (rh, &request);
    rh_ok (reply);
    assert (!reply->pong->redis_ok);
    rh_free (&reply);
    //  Redis returns: the registry reconnects by itself
    assert (pmo_test_redis_restart (rh->redis) == 0);
    bool recovered = false;
    for (int i = 0; i < 100 && !recovered; i++) {
        reply = rh_unit (rh, "dft", "division", "hub", NULL);
        recovered = reply->error == NULL;
        if (!recovered) {
            assert (reply->error->code == PMO__ERROR_CODE__ERROR_UNAVAILABLE);
            zclock_sleep (100);
        }
        rh_free (&reply);
    }
    assert (recovered);
    //  The enterprise written before the outage is still there (AOF)
    reply = rh_get (rh, PMO__ENTITY_KIND__ENTITY_KIND_ORG_UNIT, "hub");
    rh_ok (reply);
    rh_free (&reply);
    rh_stop (&rh);
    printf ("redis outage: ok\n");
}

//  One create request of the burst, kept so it can be retried as it was.
typedef struct {
    char request_id[40];
    uint8_t *bytes;
    size_t size;
    char project_id[40]; //  set when acknowledged
} sent_t;

static uint8_t *s_pack_create (const char *code, const char *request_id, size_t *size)
{
    Pmo__Grant grant = PMO__GRANT__INIT;
    grant.role = PMO__ROLE__ROLE_ADMIN;
    grant.org_unit = "hub";
    Pmo__Grant *grants[] = {&grant};
    Pmo__Identity identity = PMO__IDENTITY__INIT;
    identity.subject = "burst";
    identity.grants = grants;
    identity.n_grants = 1;
    Pmo__Header header = PMO__HEADER__INIT;
    header.protocol_version = 1;
    header.request_id = (char *)request_id;
    header.identity = &identity;
    Pmo__Project project = PMO__PROJECT__INIT;
    project.code = (char *)code;
    project.name = (char *)code;
    project.org_unit = "dft";
    Pmo__RegistryRequest request = PMO__REGISTRY_REQUEST__INIT;
    request.header = &header;
    request.body_case = PMO__REGISTRY_REQUEST__BODY_CREATE_PROJECT;
    request.create_project = &project;
    *size = pmo__registry_request__get_packed_size (&request);
    uint8_t *bytes = malloc (*size);
    pmo__registry_request__pack (&request, bytes);
    return bytes;
}

static pmo_test_proc_t *s_registry_process (rh_t *rh)
{
    char path[512];
    pmo_test_build_path ("services/registry/pmo-registry", path, sizeof path);
    char *argv[] = {path,
                    "--endpoint",
                    rh->endpoint,
                    "--pub",
                    rh->pub,
                    "--redis",
                    (char *)pmo_test_redis_url (rh->redis),
                    "--log-level",
                    "warn",
                    NULL};
    pmo_test_proc_t *proc = pmo_test_proc_start (argv);
    assert (proc);
    //  Ready when it answers
    for (int i = 0; i < 100; i++) {
        Pmo__PingRequest ping = PMO__PING_REQUEST__INIT;
        Pmo__RegistryRequest request = PMO__REGISTRY_REQUEST__INIT;
        request.body_case = PMO__REGISTRY_REQUEST__BODY_PING;
        request.ping = &ping;
        Pmo__Header header;
        char id[37];
        pmo_header_init (&header, id, 1000, &rh->identity);
        request.header = &header;
        ProtobufCMessage *reply = NULL;
        if (pmo_client_call (rh->client, &request.base, &pmo__registry_reply__descriptor, 200, 1,
                             &reply) == 0) {
            protobuf_c_message_free_unpacked (reply, NULL);
            return proc;
        }
    }
    assert (!"pmo-registry did not start");
    return NULL;
}

static void s_kill_during_burst (void)
{
    rh_t *rh = rh_start ();
    //  The in-process actor is only used for setup; the burst goes to the
    //  real binary, which is what gets killed
    Pmo__RegistryReply *reply = rh_unit (rh, "hub", "enterprise", NULL, NULL);
    rh_ok (reply);
    rh_free (&reply);
    reply = rh_unit (rh, "dft", "division", "hub", "controlling");
    rh_ok (reply);
    rh_free (&reply);
    rh_actor_stop (rh);
    pmo_test_proc_t *proc = s_registry_process (rh);

    enum { TOTAL = 3000, IN_FLIGHT = 32, KILL_AFTER = 600 };
    sent_t *sent = calloc (TOTAL, sizeof (sent_t));
    zsock_t *dealer = pmo_test_dealer_new (rh->endpoint);
    zsock_set_rcvtimeo (dealer, 2000);
    size_t next = 0, acked = 0, outstanding = 0;
    bool killed = false;
    while (!killed && (next < TOTAL || outstanding)) {
        while (outstanding < IN_FLIGHT && next < TOTAL) {
            sent_t *s = &sent[next];
            char code[32];
            snprintf (code, sizeof code, "BURST-%05zu", next);
            snprintf (s->request_id, sizeof s->request_id, "burst-%05zu", next);
            s->bytes = s_pack_create (code, s->request_id, &s->size);
            zmq_send (zsock_resolve (dealer), s->bytes, s->size, 0);
            next++;
            outstanding++;
        }
        zframe_t *frame = zframe_recv (dealer);
        assert (frame);
        Pmo__RegistryReply *answer =
            pmo__registry_reply__unpack (NULL, zframe_size (frame), zframe_data (frame));
        if (!answer || answer->error) {
            fprintf (stderr, "burst: %s\n", answer ? answer->error->message : "undecodable");
            abort ();
        }
        size_t index = (size_t)atoi (answer->header->request_id + 6);
        snprintf (sent[index].project_id, sizeof sent[index].project_id, "%s", answer->project->id);
        pmo__registry_reply__free_unpacked (answer, NULL);
        zframe_destroy (&frame);
        outstanding--;
        if (++acked == KILL_AFTER) {
            //  Mid-burst: 32 requests are in flight
            pmo_test_proc_signal (proc, SIGKILL);
            killed = true;
        }
    }
    zsock_destroy (&dealer);
    assert (pmo_test_proc_wait (proc, 5000) == 128 + SIGKILL);
    pmo_test_proc_destroy (&proc);
    printf ("killed pmo-registry after %zu acknowledged creates, %zu in flight\n", acked,
            next - acked);

    //  Every acknowledged write is there, whole
    proc = s_registry_process (rh);
    for (size_t i = 0; i < next; i++) {
        if (!*sent[i].project_id)
            continue;
        reply = rh_get (rh, PMO__ENTITY_KIND__ENTITY_KIND_PROJECT, sent[i].project_id);
        rh_ok (reply);
        char code[32];
        snprintf (code, sizeof code, "BURST-%05zu", i);
        assert (streq (reply->project->code, code) && reply->project->version == 1);
        rh_free (&reply);
    }
    //  Retrying what got no answer: each either was done (the stored reply
    //  comes back) or is done now; nothing is created twice
    size_t retried = 0;
    for (size_t i = 0; i < next; i++) {
        if (*sent[i].project_id)
            continue;
        zframe_t *frame = pmo_client_call_raw (rh->client, sent[i].bytes, sent[i].size, 3000);
        assert (frame);
        Pmo__RegistryReply *answer =
            pmo__registry_reply__unpack (NULL, zframe_size (frame), zframe_data (frame));
        assert (answer && !answer->error);
        snprintf (sent[i].project_id, sizeof sent[i].project_id, "%s", answer->project->id);
        pmo__registry_reply__free_unpacked (answer, NULL);
        zframe_destroy (&frame);
        retried++;
    }
    //  Entity, code, index and event agree: one of each per request
    redisReply *keys = pmo_test_redis_command (rh->redis, "KEYS pmo:{dft}:pr:*");
    assert (keys->elements == next);
    for (size_t i = 0; i < keys->elements; i++) {
        redisReply *entity =
            pmo_test_redis_command (rh->redis, "HMGET %s v d", keys->element[i]->str);
        assert (entity->element[0]->type == REDIS_REPLY_STRING);
        assert (entity->element[1]->type == REDIS_REPLY_STRING);
        Pmo__Project *project = pmo__project__unpack (NULL, entity->element[1]->len,
                                                      (uint8_t *)entity->element[1]->str);
        assert (project && project->version == 1);
        pmo__project__free_unpacked (project, NULL);
        freeReplyObject (entity);
    }
    freeReplyObject (keys);
    redisReply *count = pmo_test_redis_command (rh->redis, "ZCARD pmo:{dft}:ix:pr:ou:dft");
    assert ((size_t)count->integer == next);
    freeReplyObject (count);
    count = pmo_test_redis_command (rh->redis, "HLEN pmo:{dft}:code:pr");
    assert ((size_t)count->integer == next);
    freeReplyObject (count);
    count = pmo_test_redis_command (rh->redis, "XLEN pmo:{dft}:events");
    assert ((size_t)count->integer == next);
    freeReplyObject (count);
    printf ("after SIGKILL: %zu acknowledged present, %zu retried, %zu projects, 0 "
            "half-written\n",
            acked, retried, next);

    pmo_test_proc_signal (proc, SIGTERM);
    assert (pmo_test_proc_wait (proc, 5000) == 0); //  clean shutdown on SIGTERM
    pmo_test_proc_destroy (&proc);
    for (size_t i = 0; i < next; i++)
        free (sent[i].bytes);
    free (sent);
    rh_actor_start (rh); //  rh_stop stops it
    rh_stop (&rh);
    printf ("kill during burst: ok\n");
}

static void s_redis_crash_fsync_always (void)
{
    rh_t *rh = rh_start ();
    rh_actor_stop (rh);
    pmo_test_redis_destroy (&rh->redis);
    rh->redis = pmo_test_redis_start (true);
    rh->config.redis_url = pmo_test_redis_url (rh->redis);
    rh_actor_start (rh);
    Pmo__RegistryReply *reply = rh_unit (rh, "hub", "enterprise", NULL, NULL);
    rh_ok (reply);
    rh_free (&reply);
    reply = rh_unit (rh, "dft", "division", "hub", NULL);
    rh_ok (reply);
    rh_free (&reply);
    char ids[200][40];
    for (int i = 0; i < 200; i++) {
        char code[16];
        snprintf (code, sizeof code, "P-%d", i);
        reply = rh_project (rh, code, "dft");
        rh_ok (reply);
        snprintf (ids[i], sizeof ids[i], "%s", reply->project->id);
        rh_free (&reply);
    }
    pmo_test_redis_kill (rh->redis);
    assert (pmo_test_redis_restart (rh->redis) == 0);
    for (int i = 0; i < 200; i++) {
        reply = NULL;
        for (int attempt = 0; attempt < 50; attempt++) {
            reply = rh_get (rh, PMO__ENTITY_KIND__ENTITY_KIND_PROJECT, ids[i]);
            if (!reply->error || reply->error->code != PMO__ERROR_CODE__ERROR_UNAVAILABLE)
                break;
            rh_free (&reply);
            zclock_sleep (100);
        }
        rh_ok (reply);
        rh_free (&reply);
    }
    rh_stop (&rh);
    printf ("redis SIGKILL with appendfsync always: 200 of 200 acknowledged writes kept\n");
}

int main (void)
{
    s_redis_outage ();
    s_kill_during_burst ();
    s_redis_crash_fsync_always ();
    printf ("test_registry_faults: ok\n");
    return 0;
}
