/*  test_notifier_faults.c: the notifier when things break.

    - The pmo-notifier process is killed with SIGKILL in the middle of a
      burst (events routed, deliveries in flight, others waiting): after a
      restart every event reaches the receiver, at least once, and copies of
      one delivery carry the same webhook-id so the receiver can dedupe.
    - The receiver dies and comes back: what was sent meanwhile arrives
      (retried with backoff), nothing is dead-lettered.
    - Redis dies and comes back: the notifier recovers by itself and what
      happened meanwhile is delivered.
    - SIGTERM: a clean exit.
    - The registry stops: the notifier keeps delivering. Its org tree is
      read again without waiting (lib/orgtree's reader), so an org-unit
      event while the registry is away costs staleness, not a stalled
      loop (a synchronous read would wait its whole timeout, 20 s here).
*/
#include "events.pb-c.h"
#include "notifier_harness.h"
#include "pmo_stream.h"
#include "pmo_util.h"

#include <assert.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

static pmo_test_proc_t *s_notifier_process (nh_t *nh)
{
    char path[512];
    pmo_test_build_path ("services/notifier/pmo-notifier", path, sizeof path);
    char *argv[] = {path,
                    "--endpoint",
                    nh->endpoint,
                    "--pub",
                    nh->pub,
                    "--redis",
                    (char *)pmo_test_redis_url (nh->rh->redis),
                    "--registry",
                    nh->rh->endpoint,
                    "--consumer",
                    "test",
                    "--dashboard-url",
                    "http://pmo.test:8080",
                    "--allow-networks",
                    "loopback",
                    "--allow-http",
                    "1",
                    "--connect-timeout",
                    "500",
                    "--http-timeout",
                    "1500",
                    "--retry-base",
                    "200",
                    "--retry-max",
                    "1000",
                    "--max-attempts",
                    "30",
                    "--reclaim",
                    "1500",
                    "--log-level",
                    "warn",
                    NULL};
    pmo_test_proc_t *proc = pmo_test_proc_start (argv);
    assert (proc);
    for (int i = 0; i < 100; i++) {
        Pmo__PingRequest ping = PMO__PING_REQUEST__INIT;
        Pmo__NotifierRequest request = PMO__NOTIFIER_REQUEST__INIT;
        request.body_case = PMO__NOTIFIER_REQUEST__BODY_PING;
        request.ping = &ping;
        Pmo__Header header;
        char id[37];
        pmo_header_init (&header, id, 1000, &nh->rh->identity);
        request.header = &header;
        ProtobufCMessage *reply = NULL;
        if (pmo_client_call (nh->client, &request.base, &pmo__notifier_reply__descriptor, 200, 1,
                             &reply) == 0) {
            protobuf_c_message_free_unpacked (reply, NULL);
            return proc;
        }
    }
    assert (!"pmo-notifier did not start");
    return NULL;
}

//  The projects whose event reached prefix, and how many copies in all.
//  Every copy of one event must carry the same webhook-id.
static size_t s_distinct (nh_t *nh, const char *prefix, zhash_t *seen, size_t *copies)
{
    json_t *got = nh_requests (nh, prefix);
    zhash_t *ids = zhash_new ();
    zhash_autofree (ids);
    *copies = 0;
    for (size_t i = 0; i < json_array_size (got); i++) {
        json_t *r = json_array_get (got, i);
        if (json_integer_value (json_object_get (r, "status")) != 200)
            continue;
        (*copies)++;
        json_t *event = json_object_get (json_object_get (nh_body (r), "data"), "event");
        const char *project = json_string_value (json_object_get (event, "project_id"));
        const char *hook =
            json_string_value (json_object_get (json_object_get (r, "headers"), "webhook-id"));
        assert (project && hook);
        const char *before = zhash_lookup (ids, project);
        if (before)
            assert (streq (before, hook)); //  the same id on every copy
        else
            zhash_insert (ids, project, (void *)hook);
        if (seen)
            zhash_update (seen, project, "1");
    }
    size_t n = zhash_size (ids);
    zhash_destroy (&ids);
    json_decref (got);
    return n;
}

static char **s_projects (nh_t *nh, const char *prefix, size_t count)
{
    char **ids = calloc (count, sizeof (char *));
    for (size_t i = 0; i < count; i++) {
        char code[32];
        snprintf (code, sizeof code, "%s-%04zu", prefix, i);
        ids[i] = nh_project (nh, code, "moj");
    }
    return ids;
}

static void s_wait_all (nh_t *nh, const char *prefix, char **ids, size_t count, int timeout_ms,
                        const char *what)
{
    int64_t deadline = pmo_mono_ms () + timeout_ms;
    size_t distinct = 0, copies = 0;
    while (pmo_mono_ms () < deadline) {
        zhash_t *seen = zhash_new ();
        distinct = s_distinct (nh, prefix, seen, &copies);
        size_t found = 0;
        for (size_t i = 0; i < count; i++)
            found += zhash_lookup (seen, ids[i]) != NULL;
        zhash_destroy (&seen);
        if (found == count) {
            printf ("%s: all %zu events delivered (%zu requests, %zu duplicates deduplicable "
                    "by webhook-id)\n",
                    what, count, copies, copies - distinct);
            return;
        }
        zclock_sleep (100);
    }
    fprintf (stderr, "%s: only %zu of %zu events delivered\n", what, distinct, count);
    abort ();
}

//  An event as the registry commits it, added to division's stream
//  directly (the registry is stopped): a project.created for project id,
//  or an org_unit.updated when id is NULL. Its stream id into sid.
static void s_event_add (nh_t *nh, const char *division, const char *type, const char *id,
                         char *sid, size_t sid_size)
{
    Pmo__Event event = PMO__EVENT__INIT;
    event.type = (char *)type;
    event.division = (char *)division;
    event.org_unit = (char *)division;
    event.source = "registry";
    event.time_ms = pmo_now_ms ();
    char path[64];
    snprintf (path, sizeof path, "hub/%s", division);
    event.org_unit_path = path;
    Pmo__Project project = PMO__PROJECT__INIT;
    if (id) {
        project.id = (char *)id;
        project.code = (char *)id;
        project.name = (char *)id;
        project.org_unit = (char *)division;
        project.org_unit_path = path;
        project.division = (char *)division;
        project.version = 1;
        event.entity_id = (char *)id;
        event.entity_version = 1;
        event.body_case = PMO__EVENT__BODY_PROJECT;
        event.project = &project;
    }
    size_t size = protobuf_c_message_get_packed_size (&event.base);
    uint8_t *blob = malloc (size);
    assert (blob);
    protobuf_c_message_pack (&event.base, blob);
    char key[96];
    assert (pmo_stream_key_buf (key, sizeof key, division) == 0);
    redisReply *reply =
        pmo_test_redis_command (nh->rh->redis, "XADD %s * type %s data %b", key, type, blob, size);
    assert (reply && reply->type == REDIS_REPLY_STRING);
    snprintf (sid, sid_size, "%s", reply->str);
    freeReplyObject (reply);
    free (blob);
}

//  Whether the notifier's group has read and acknowledged entry sid of key.
static bool s_acknowledged (nh_t *nh, const char *key, const char *sid)
{
    redisReply *reply = pmo_test_redis_command (nh->rh->redis, "XINFO GROUPS %s", key);
    assert (reply && reply->type == REDIS_REPLY_ARRAY);
    bool done = false;
    for (size_t g = 0; g < reply->elements; g++) {
        redisReply *group = reply->element[g];
        const char *name = NULL, *last = NULL;
        long long pending = -1;
        for (size_t f = 0; f + 1 < group->elements; f += 2) {
            const char *field = group->element[f]->str;
            redisReply *value = group->element[f + 1];
            if (streq (field, "name"))
                name = value->str;
            else if (streq (field, "last-delivered-id"))
                last = value->str;
            else if (streq (field, "pending"))
                pending = value->integer;
        }
        if (name && streq (name, "notifier") && last && streq (last, sid) && pending == 0)
            done = true;
    }
    freeReplyObject (reply);
    return done;
}

//  The registry stops and an org unit changes: the notifier, whose reads
//  of the registry wait up to 20 s each, keeps delivering.
static void s_registry_away (nh_t *nh)
{
    nh_actor_stop (nh);
    nh->config.redis_timeout_ms = 20000; //  the org tree's timeout too
    nh_actor_start (nh);
    //  The notifier follows moj (it read the tree): a project's event
    //  arrives
    char *ids[4] = {nh_project (nh, "AWAY-REG-0", "moj")};
    s_wait_all (nh, "/slow/40/kill", ids, 1, 20000, "before the registry stops");
    rh_actor_stop (nh->rh);
    //  A unit changed: the tree must be read again. Once the notifier has
    //  taken the event in, its next look at the tree (every second) asks
    //  the stopped registry: a synchronous read would hold the loop for
    //  20 s from then, so the events below come after that look
    char sid[64], key[96];
    s_event_add (nh, "hub", "org_unit.updated", NULL, sid, sizeof sid);
    assert (pmo_stream_key_buf (key, sizeof key, "hub") == 0);
    bool taken = false;
    for (int i = 0; i < 200 && !taken; i++)
        if (!(taken = s_acknowledged (nh, key, sid)))
            zclock_sleep (50);
    assert (taken);
    zclock_sleep (1500);
    for (int i = 1; i < 4; i++) {
        char id[32];
        snprintf (id, sizeof id, "pr_moj_%d", 900000 + i);
        ids[i] = strdup (id);
        s_event_add (nh, "moj", "project.created", id, sid, sizeof sid);
    }
    //  Well within the 20 s a read of the stopped registry would wait
    s_wait_all (nh, "/slow/40/kill", ids + 1, 3, 10000, "registry stopped");
    for (int i = 0; i < 4; i++)
        free (ids[i]);
    rh_actor_start (nh->rh);
}

int main (void)
{
    nh_t *nh = nh_start ();
    nh->coalesce_s = -1; //  one message per event, so each can be counted
    char *ch = nh_channel (nh, PMO__CHANNEL_KIND__CHANNEL_KIND_WEBHOOK, "moj",
                           nh_url (nh, "/slow/40/kill"), "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
    free (nh_subscribe (nh, ch, NULL, "project.created", 0));
    //  The burst goes to the real binary, which is what gets killed
    nh_actor_stop (nh);
    pmo_test_proc_t *proc = s_notifier_process (nh);

    enum { BURST = 300 };
    char **ids = s_projects (nh, "KILL", BURST);
    //  Mid-burst: some delivered, some in flight, most still waiting
    json_t *got = nh_wait_requests (nh, "/slow/40/kill", 40, 20000);
    json_decref (got);
    pmo_test_proc_signal (proc, SIGKILL);
    assert (pmo_test_proc_wait (proc, 5000) == 128 + SIGKILL);
    pmo_test_proc_destroy (&proc);
    size_t copies;
    size_t before = s_distinct (nh, "/slow/40/kill", NULL, &copies);
    printf ("killed pmo-notifier after %zu of %d events were delivered\n", before, BURST);
    assert (before < BURST);
    proc = s_notifier_process (nh);
    s_wait_all (nh, "/slow/40/kill", ids, BURST, 40000, "after SIGKILL and restart");
    for (size_t i = 0; i < BURST; i++)
        free (ids[i]);
    free (ids);

    //  The receiver goes away for a while: what happens meanwhile arrives
    //  when it is back
    nh_receiver_kill (nh);
    ids = s_projects (nh, "AWAY", 50);
    zclock_sleep (1500);
    nh_receiver_start (nh);
    s_wait_all (nh, "/slow/40/kill", ids, 50, 20000, "receiver down 1.5 s");
    for (size_t i = 0; i < 50; i++)
        free (ids[i]);
    free (ids);

    //  Redis dies (AOF everysec) and comes back: the notifier reconnects
    //  and the events committed afterwards are delivered
    zclock_sleep (1200); //  let the AOF catch up
    pmo_test_redis_kill (nh->rh->redis);
    zclock_sleep (500);
    assert (pmo_test_redis_restart (nh->rh->redis) == 0);
    ids = calloc (20, sizeof (char *));
    for (size_t i = 0; i < 20; i++) {
        char code[32];
        snprintf (code, sizeof code, "BACK-%02zu", i);
        for (int attempt = 0; attempt < 50 && !ids[i]; attempt++) {
            Pmo__RegistryReply *reply = rh_project (nh->rh, code, "moj");
            if (!reply->error)
                ids[i] = strdup (reply->project->id);
            else
                zclock_sleep (100);
            rh_free (&reply);
        }
        assert (ids[i]);
    }
    s_wait_all (nh, "/slow/40/kill", ids, 20, 20000, "redis restarted");
    for (size_t i = 0; i < 20; i++)
        free (ids[i]);
    free (ids);

    //  Nothing was given up on
    Pmo__ListDeliveriesRequest list = PMO__LIST_DELIVERIES_REQUEST__INIT;
    list.channel_id = ch;
    list.state = PMO__DELIVERY_STATE__DELIVERY_STATE_DEAD;
    Pmo__NotifierRequest request = PMO__NOTIFIER_REQUEST__INIT;
    request.body_case = PMO__NOTIFIER_REQUEST__BODY_LIST_DELIVERIES;
    request.list_deliveries = &list;
    Pmo__NotifierReply *reply = nh_call (nh, &request);
    nh_ok (reply);
    assert (reply->deliveries->n_deliveries == 0);
    nh_free (&reply);

    pmo_test_proc_signal (proc, SIGTERM);
    assert (pmo_test_proc_wait (proc, 10000) == 0); //  clean shutdown on SIGTERM
    pmo_test_proc_destroy (&proc);
    nh_actor_start (nh); //  nh_stop stops it
    s_registry_away (nh);
    free (ch);
    nh_stop (&nh);
    printf ("test_notifier_faults: ok\n");
    return 0;
}
