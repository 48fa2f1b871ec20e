/*  test_notifier_slackapi.c: the Slack Web API channel kind.

    Real Redis, the registry and the notifier actors, and the receiver
    (receiver.py) answering as Slack's Web API documents it: {"ok":true,
    "ts":...}, 429 + Retry-After + {"ok":false,"error":"ratelimited"}, and
    {"ok":false,"error":"invalid_auth"} or "channel_not_found". Checked:
    chat.postMessage with the bot token; a project's first message starts
    its thread and the next one goes into it (thread_ts kept in Redis); a
    rate-limited post is sent again after Retry-After; a wrong token or
    conversation disables the channel with Slack's reason; the token is
    never shown back.
*/
#include "notifier_harness.h"

#include "registry.pb-c.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

#define TOKEN "xoxb-17653672481-19874698323-pdFZKVeTuE8sk7oOcBrzbqgy"

static nh_t *s_nh;

//  A slack_api channel in dft posting to the receiver's /slackapi/<mode>;
//  its id (caller frees).
static char *s_channel (const char *mode)
{
    char base[256];
    snprintf (base, sizeof base, "%s", nh_url (s_nh, mode));
    Pmo__Channel ch = PMO__CHANNEL__INIT;
    ch.name = "slack api";
    ch.kind = PMO__CHANNEL_KIND__CHANNEL_KIND_SLACK_API;
    ch.org_unit = "dft";
    ch.url = base;
    ch.bot_token = TOKEN;
    ch.slack_channel = "C0PMO1";
    ch.coalesce_s = -1;
    Pmo__NotifierRequest request = PMO__NOTIFIER_REQUEST__INIT;
    request.body_case = PMO__NOTIFIER_REQUEST__BODY_CREATE_CHANNEL;
    request.create_channel = &ch;
    Pmo__NotifierReply *reply = nh_call (s_nh, &request);
    nh_ok (reply);
    assert (streq (reply->channel->bot_token, "…"));
    char *id = strdup (reply->channel->id);
    nh_free (&reply);
    //  Sealed at rest like the channel's other secrets
    redisReply *raw = pmo_test_redis_command (s_nh->rh->redis, "HGET pmo:{dft}:nt:ch:%s d", id);
    assert (raw && raw->type == REDIS_REPLY_STRING);
    assert (!memmem (raw->str, raw->len, TOKEN, strlen (TOKEN)));
    freeReplyObject (raw);
    return id;
}

//  The channel as stored (caller frees the reply).
static Pmo__NotifierReply *s_get (const char *id)
{
    Pmo__ChannelRef ref = PMO__CHANNEL_REF__INIT;
    ref.id = (char *)id;
    Pmo__NotifierRequest request = PMO__NOTIFIER_REQUEST__INIT;
    request.body_case = PMO__NOTIFIER_REQUEST__BODY_GET_CHANNEL;
    request.get_channel = &ref;
    Pmo__NotifierReply *reply = nh_call (s_nh, &request);
    nh_ok (reply);
    return reply;
}

//  Rename a project (an event about it).
static void s_rename (const char *id, const char *name)
{
    Pmo__RegistryReply *read = rh_get (s_nh->rh, PMO__ENTITY_KIND__ENTITY_KIND_PROJECT, id);
    rh_ok (read);
    Pmo__Project *project = read->project;
    char *was = project->name;
    project->name = (char *)name;
    Pmo__RegistryRequest request = PMO__REGISTRY_REQUEST__INIT;
    request.body_case = PMO__REGISTRY_REQUEST__BODY_UPDATE_PROJECT;
    request.update_project = project;
    Pmo__RegistryReply *reply = rh_call (s_nh->rh, &request);
    rh_ok (reply);
    rh_free (&reply);
    project->name = was; //  the reply's own string goes with it
    rh_free (&read);
}

//  Wait until the channel is disabled; its reason.
static void s_disabled (const char *id, const char *why)
{
    for (int i = 0; i < nh_scale (15000) / 50; i++) {
        Pmo__NotifierReply *reply = s_get (id);
        bool off = reply->channel->disabled;
        if (off) {
            assert (strstr (reply->channel->disabled_reason, why));
            nh_free (&reply);
            return;
        }
        nh_free (&reply);
        zclock_sleep (50);
    }
    fprintf (stderr, "channel %s was not disabled (%s)\n", id, why);
    abort ();
}

int main (void)
{
    s_nh = nh_start ();
    nh_secret (s_nh, TOKEN); //  the conformance check must never see it in a payload

    //  Bad set-ups are refused, naming the field
    Pmo__Channel bad = PMO__CHANNEL__INIT;
    bad.name = "bad";
    bad.kind = PMO__CHANNEL_KIND__CHANNEL_KIND_SLACK_API;
    bad.org_unit = "dft";
    bad.bot_token = "not-a-bot-token";
    bad.slack_channel = "C0PMO1";
    Pmo__NotifierRequest request = PMO__NOTIFIER_REQUEST__INIT;
    request.body_case = PMO__NOTIFIER_REQUEST__BODY_CREATE_CHANNEL;
    request.create_channel = &bad;
    Pmo__NotifierReply *reply = nh_call (s_nh, &request);
    nh_err (reply, INVALID, "bot_token");
    nh_free (&reply);
    bad.bot_token = TOKEN;
    bad.slack_channel = "#general";
    reply = nh_call (s_nh, &request);
    nh_err (reply, INVALID, "slack_channel");
    nh_free (&reply);
    printf ("bad token or conversation refused: ok\n");

    //  A project's messages: the first starts a thread, the next goes in it
    char *ok = s_channel ("/slackapi/ok");
    free (nh_subscribe (s_nh, ok, "dft", "project.*", 0));
    char *project = nh_project (s_nh, "DFT-API-1", "dft");
    json_t *got = nh_wait_requests (s_nh, "/slackapi/ok/chat.postMessage", 1, nh_scale (15000));
    json_t *first = json_array_get (got, 0);
    assert (streq (
        json_string_value (json_object_get (json_object_get (first, "headers"), "authorization")),
        "Bearer " TOKEN));
    json_t *body = nh_body (first);
    assert (streq (json_string_value (json_object_get (body, "channel")), "C0PMO1"));
    assert (!json_object_get (body, "thread_ts"));
    assert (json_array_size (json_object_get (body, "blocks")) >= 3);
    assert (!strstr (json_string_value (json_object_get (first, "body")), TOKEN));
    json_decref (got);
    s_rename (project, "Renamed once");
    got = nh_wait_requests (s_nh, "/slackapi/ok/chat.postMessage", 2, nh_scale (15000));
    assert (json_array_size (got) == 2);
    body = nh_body (json_array_get (got, 1));
    assert (streq (json_string_value (json_object_get (body, "thread_ts")), "1700000000.000001"));
    json_decref (got);
    //  Another project: a thread of its own
    char *other = nh_project (s_nh, "DFT-API-2", "dft");
    got = nh_wait_requests (s_nh, "/slackapi/ok/chat.postMessage", 3, nh_scale (15000));
    body = nh_body (json_array_get (got, 2));
    assert (!json_object_get (body, "thread_ts"));
    json_decref (got);
    printf ("chat.postMessage with the bot token, a thread per project: ok\n");

    //  ratelimited: 429 + Retry-After, sent again, delivered
    char *limited = s_channel ("/slackapi/ratelimited/1");
    free (nh_subscribe (s_nh, limited, "dft", "project.*", 0));
    s_rename (project, "Renamed twice");
    got = nh_wait_requests (s_nh, "/slackapi/ratelimited/1/chat.postMessage", 2, nh_scale (20000));
    assert (json_array_size (got) == 2);
    assert (json_integer_value (json_object_get (json_array_get (got, 0), "status")) == 429);
    assert (json_integer_value (json_object_get (json_array_get (got, 1), "status")) == 200);
    double gap = json_real_value (json_object_get (json_array_get (got, 1), "time")) -
                 json_real_value (json_object_get (json_array_get (got, 0), "time"));
    assert (gap >= 0.9); //  Retry-After: 1
    json_decref (got);
    printf ("ratelimited: sent again after Retry-After (%.2f s): ok\n", gap);

    //  A wrong token or conversation: the channel is disabled with why
    char *auth = s_channel ("/slackapi/invalid_auth");
    char *gone = s_channel ("/slackapi/channel_not_found");
    free (nh_subscribe (s_nh, auth, "dft", "project.*", 0));
    free (nh_subscribe (s_nh, gone, "dft", "project.*", 0));
    s_rename (other, "Renamed other");
    s_disabled (auth, "invalid_auth");
    s_disabled (gone, "channel_not_found");
    printf ("invalid_auth, channel_not_found: channel disabled with Slack's reason: ok\n");

    free (ok);
    free (limited);
    free (auth);
    free (gone);
    free (project);
    free (other);
    nh_stop (&s_nh);
    printf ("test_notifier_slackapi: ok\n");
    return 0;
}
