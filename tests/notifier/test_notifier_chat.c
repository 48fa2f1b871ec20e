/*  test_notifier_chat.c: chat that answers back, end to end.

    Real Redis, the registry, the allocator, the risk monitor and the
    notifier actors, the gateway in-process on real HTTP, and the receiver (receiver.py) playing
    Slack's incoming webhook and response_url. A Slack channel with the
    app's signing secret and two mapped people gets an allocation's message
    with Approve and Reject buttons; clicks are POSTed to the gateway signed
    the way Slack signs them (HMAC-SHA256 of "v0:<ts>:<body>", computed
    here with OpenSSL, not with the notifier's code). Checked: a wrong
    signature, an old timestamp and a forged Mattermost token are refused
    (401) and change nothing; a person without the role is refused by the
    allocator itself and told why at response_url; a person with it
    approves, the allocation is committed in the allocator, and the message
    is replaced at response_url without its buttons; Mattermost's click
    rejects through the HTTP answer; a PMO manager cannot map a person to a
    role they do not hold. A 5 x 5 risk makes the risk monitor raise a
    critical alert; its message carries Acknowledge (Slack and Mattermost),
    a resource manager's click is refused by the risk monitor, a project
    manager's acknowledges the alert there. A link button's click (link.open)
    is signed like the others: 401 signed wrong, else 200 and nothing done.
    Mattermost's answers are kept
    beside the receivers' captures for the conformance check.
*/
#include "allocator.pb-c.h"
#include "allocator_server.h"
#include "gateway_server.h"
#include "notifier_harness.h"
#include "notifier_model.h"
#include "pmo_json.h"
#include "pmo_wire.h"
#include "riskmon.pb-c.h"
#include "riskmon_server.h"

#include <assert.h>
#include <ctype.h>
#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

//  Slack's example signing secret ("Verifying requests from Slack")
#define SLACK_SECRET "8f742231b10e8888abcd99yyyzzz85a5"
#define MM_SECRET    "mattermost-buttons-secret-0123456789"

static nh_t *s_nh;
static zactor_t *s_allocator;
static char s_alloc_endpoint[64], s_alloc_pub[64];
static zactor_t *s_riskmon;
static char s_riskmon_endpoint[64], s_riskmon_pub[64];
static gateway_t *s_gateway;
static char s_base[80];

//  ---------------------------------------------------------------------
//  Helpers

//  A notifier request from JSON, as the harness identity (or its rh_as).
static Pmo__NotifierReply *s_notifier (const char *json)
{
    ProtobufCMessage *msg = NULL;
    pmo_json_error_t err;
    if (pmo_json_decode (&pmo__notifier_request__descriptor, json, strlen (json), &msg, &err)) {
        fprintf (stderr, "bad JSON at %s: %s\n%s\n", err.field, err.message, json);
        abort ();
    }
    Pmo__NotifierReply *reply = nh_call (s_nh, (Pmo__NotifierRequest *)msg);
    protobuf_c_message_free_unpacked (msg, NULL);
    return reply;
}

//  A request from JSON to a service at endpoint, as subject/grants (one
//  grant "role@unit"): its reply (caller frees).
static ProtobufCMessage *s_service (const char *endpoint, const ProtobufCMessageDescriptor *desc,
                                    const ProtobufCMessageDescriptor *reply_desc,
                                    const char *subject, const char *grants, const char *json)
{
    ProtobufCMessage *msg = NULL;
    pmo_json_error_t err;
    if (pmo_json_decode (desc, json, strlen (json), &msg, &err)) {
        fprintf (stderr, "bad JSON at %s: %s\n%s\n", err.field, err.message, json);
        abort ();
    }
    Pmo__Grant grant = PMO__GRANT__INIT;
    Pmo__Grant *grant_ptrs[] = {&grant};
    char role[64], unit[64];
    assert (sscanf (grants, "%63[^@]@%63s", role, unit) == 2);
    char name[80] = "ROLE_";
    for (size_t i = 0; role[i] && i < 60; i++)
        name[5 + i] = (char)toupper ((unsigned char)role[i]), name[6 + i] = 0;
    const ProtobufCEnumValue *v =
        protobuf_c_enum_descriptor_get_value_by_name (&pmo__role__descriptor, name);
    assert (v);
    grant.role = v->value;
    grant.org_unit = unit;
    Pmo__Identity identity = PMO__IDENTITY__INIT;
    identity.subject = (char *)subject;
    identity.grants = grant_ptrs;
    identity.n_grants = 1;
    Pmo__Header header;
    char request_id[40];
    pmo_header_init (&header, request_id, 10000, &identity);
    ProtobufCMessage **slot = pmo_wire_message_slot (msg, "header");
    *slot = &header.base;
    pmo_client_t *client = pmo_client_new (endpoint);
    ProtobufCMessage *reply = NULL;
    int rc = pmo_client_call (client, msg, reply_desc, 8000, 1, &reply);
    pmo_client_destroy (&client);
    *slot = NULL;
    protobuf_c_message_free_unpacked (msg, NULL);
    assert (rc == 0);
    return reply;
}

static Pmo__AllocatorReply *s_alloc (const char *subject, const char *grants, const char *json)
{
    return (Pmo__AllocatorReply *)s_service (s_alloc_endpoint, &pmo__allocator_request__descriptor,
                                             &pmo__allocator_reply__descriptor, subject, grants,
                                             json);
}

static Pmo__RiskmonReply *s_risk (const char *subject, const char *grants, const char *json)
{
    return (Pmo__RiskmonReply *)s_service (s_riskmon_endpoint, &pmo__riskmon_request__descriptor,
                                           &pmo__riskmon_reply__descriptor, subject, grants, json);
}

static Pmo__Allocation *s_allocation (const char *id, Pmo__AllocatorReply **keep)
{
    char json[160];
    snprintf (json, sizeof json, "{\"get\":{\"kind\":\"allocation\",\"id\":\"%s\"}}", id);
    *keep = s_alloc ("admin@hub", "admin@hub", json);
    assert (!(*keep)->error && (*keep)->allocation);
    return (*keep)->allocation;
}

typedef struct {
    long status;
    char body[16384];
    size_t size;
} http_t;

static size_t s_collect (char *data, size_t size, size_t n, void *arg)
{
    http_t *r = arg;
    size_t len = size * n, room = sizeof r->body - 1 - r->size;
    memcpy (r->body + r->size, data, len < room ? len : room);
    r->size += len < room ? len : room;
    r->body[r->size] = 0;
    return len;
}

//  POST body to the gateway's path with extra header lines.
static void s_post (const char *path, const char *type, const char *body, const char *h1,
                    const char *h2, http_t *out)
{
    memset (out, 0, sizeof *out);
    CURL *curl = curl_easy_init ();
    char url[256];
    snprintf (url, sizeof url, "%s%s", s_base, path);
    struct curl_slist *headers = curl_slist_append (NULL, type);
    if (h1)
        headers = curl_slist_append (headers, h1);
    if (h2)
        headers = curl_slist_append (headers, h2);
    curl_easy_setopt (curl, CURLOPT_URL, url);
    curl_easy_setopt (curl, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt (curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt (curl, CURLOPT_WRITEFUNCTION, s_collect);
    curl_easy_setopt (curl, CURLOPT_WRITEDATA, out);
    curl_easy_setopt (curl, CURLOPT_TIMEOUT_MS, (long)nh_scale (10000));
    assert (curl_easy_perform (curl) == CURLE_OK);
    curl_easy_getinfo (curl, CURLINFO_RESPONSE_CODE, &out->status);
    curl_slist_free_all (headers);
    curl_easy_cleanup (curl);
}

//  %-encode for application/x-www-form-urlencoded
static char *s_form (const char *text)
{
    char *out = malloc (strlen (text) * 3 + 16), *o = out;
    o += sprintf (o, "payload=");
    for (const unsigned char *p = (const unsigned char *)text; *p; p++)
        if (isalnum (*p) || *p == '-' || *p == '_' || *p == '.' || *p == '~')
            *o++ = (char)*p;
        else
            o += sprintf (o, "%%%02X", *p);
    *o = 0;
    return out;
}

//  Sign as Slack does: v0=hex(HMAC-SHA256(secret, "v0:<ts>:<body>"))
static void s_slack_sign (const char *secret, long ts, const char *body, char *out, size_t size)
{
    char *base = NULL;
    assert (asprintf (&base, "v0:%ld:%s", ts, body) > 0);
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    HMAC (EVP_sha256 (), secret, (int)strlen (secret), (unsigned char *)base, strlen (base), mac,
          &len);
    free (base);
    size_t o = (size_t)snprintf (out, size, "X-Slack-Signature: v0=");
    for (unsigned i = 0; i < len; i++)
        o += (size_t)snprintf (out + o, size - o, "%02x", mac[i]);
}

//  A Slack block_actions click: user clicks action on target; answers go
//  to the receiver's respond path.
static char *s_slack_click (const char *user, const char *action, const char *target,
                            const char *respond_path)
{
    char *json = NULL;
    assert (asprintf (&json,
                      "{\"type\":\"block_actions\",\"user\":{\"id\":\"%s\",\"username\":\"%s-"
                      "name\",\"team_id\":\"T1\"},\"api_app_id\":\"A1\",\"container\":{\"type\":"
                      "\"message\",\"message_ts\":\"1700000000.000100\"},\"channel\":{\"id\":"
                      "\"C1\"},\"message\":{\"ts\":\"1700000000.000100\",\"blocks\":[{\"type\":"
                      "\"section\",\"text\":{\"type\":\"mrkdwn\",\"text\":\"allocation\"}},{"
                      "\"type\":\"actions\",\"block_id\":\"pmo:0\",\"elements\":[]}]},\"response_"
                      "url\":\"%s\",\"actions\":[{\"type\":\"button\",\"action_id\":\"pmo:%s\","
                      "\"block_id\":\"pmo:0\",\"value\":\"%s\",\"action_ts\":\"1700000001.1\"}]}",
                      user, user, nh_url (s_nh, respond_path), action, target) > 0);
    char *form = s_form (json);
    free (json);
    return form;
}

//  POST a Slack click signed with secret at ts.
static void s_slack_post (const char *channel, const char *secret, long ts, const char *form,
                          http_t *out)
{
    char sig[128], stamp[64], path[128];
    s_slack_sign (secret, ts, form, sig, sizeof sig);
    snprintf (stamp, sizeof stamp, "X-Slack-Request-Timestamp: %ld", ts);
    snprintf (path, sizeof path, "/api/v1/chat/slack/%s", channel);
    s_post (path, "Content-Type: application/x-www-form-urlencoded", form, stamp, sig, out);
}

//  A proposed allocation of the resource to the project: its id.
static void s_proposed (const char *project, const char *resource, const char *week, char *id)
{
    char json[512];
    snprintf (json, sizeof json,
              "{\"request_allocation\":{\"project_id\":\"%s\",\"resource_id\":\"%s\","
              "\"hours_per_week\":10,\"start_week\":\"%s\",\"end_week\":\"%s\"}}",
              project, resource, week, week);
    Pmo__AllocatorReply *reply = s_alloc ("pm@dft", "project_manager@dft", json);
    assert (!reply->error);
    snprintf (id, 40, "%s", reply->allocation->id);
    uint64_t version = reply->allocation->version;
    protobuf_c_message_free_unpacked (&reply->base, NULL);
    snprintf (json, sizeof json, "{\"propose\":{\"allocation_id\":\"%s\",\"version\":%llu}}", id,
              (unsigned long long)version);
    reply = s_alloc ("pm@dft", "project_manager@dft", json);
    assert (!reply->error &&
            reply->allocation->state == PMO__ALLOCATION_STATE__ALLOCATION_STATE_PROPOSED);
    protobuf_c_message_free_unpacked (&reply->base, NULL);
}

//  The body of the last request at path, parsed (caller decrefs).
static json_t *s_last (const char *path, size_t count)
{
    json_t *list = nh_wait_requests (s_nh, path, count, nh_scale (15000));
    assert (json_array_size (list) >= count);
    json_t *body = json_incref (nh_body (json_array_get (list, json_array_size (list) - 1)));
    json_decref (list);
    return body;
}

//  Run pmoctl against this notifier as an admin; its exit status, with
//  stdout and stderr in out.
static int s_pmoctl (const char *args, char *out, size_t size)
{
    char pmoctl[1024], command[4096];
    pmo_test_build_path ("services/pmoctl/pmoctl", pmoctl, sizeof pmoctl);
    snprintf (command, sizeof command,
              "PMO_NOTIFIER_ENDPOINT=%s %s --registry %s --timeout %d --as tester@test --grant "
              "admin@hub %s 2>&1",
              s_nh->endpoint, pmoctl, s_nh->rh->endpoint, nh_scale (5000), args);
    FILE *pipe = popen (command, "r");
    assert (pipe);
    size_t got = fread (out, 1, size - 1, pipe);
    out[got] = 0;
    int status = pclose (pipe);
    return WIFEXITED (status) ? WEXITSTATUS (status) : -1;
}

//  The first message received at path whose JSON holds both needles
//  (waits for it; caller decrefs).
static json_t *s_message_with (const char *path, const char *needle1, const char *needle2)
{
    json_t *msg = NULL;
    int64_t deadline = zclock_mono () + nh_scale (15000);
    while (!msg && zclock_mono () < deadline) {
        json_t *list = nh_wait_requests (s_nh, path, 1, nh_scale (15000));
        for (size_t r = 0; r < json_array_size (list) && !msg; r++) {
            json_t *body = nh_body (json_array_get (list, r));
            char *text = json_dumps (body, JSON_COMPACT);
            if (text && strstr (text, needle1) && (!needle2 || strstr (text, needle2)))
                msg = json_incref (body);
            free (text);
        }
        json_decref (list);
        if (!msg)
            zclock_sleep (50);
    }
    assert (msg);
    return msg;
}

//  Keep a Mattermost click's answer (the gateway's HTTP answer, which no
//  receiver sees) for the conformance check, beside the receiver's log.
static void s_keep_answer (const char *body)
{
    const char *dir = getenv ("PMO_NOTIFIER_CAPTURES");
    if (!dir || !*dir)
        return;
    char path[512];
    snprintf (path, sizeof path, "%s/test_notifier_chat-answers.jsonl", dir);
    static bool first = true; //  a run starts the file anew
    FILE *f = fopen (path, first ? "w" : "a");
    first = false;
    assert (f);
    json_t *entry =
        json_pack ("{s:s, s:{}, s:s}", "path", "/mattermost/answer", "headers", "body", body);
    char *line = json_dumps (entry, JSON_COMPACT);
    fprintf (f, "%s\n", line);
    free (line);
    json_decref (entry);
    fclose (f);
}

//  An alert as the risk monitor has it (caller frees the reply).
static Pmo__Alert *s_alert (const char *id, Pmo__RiskmonReply **keep)
{
    char json[160];
    snprintf (json, sizeof json, "{\"get\":{\"kind\":\"alert\",\"id\":\"%s\"}}", id);
    *keep = s_risk ("admin@hub", "admin@hub", json);
    assert (!(*keep)->error && (*keep)->alert);
    return (*keep)->alert;
}

//  A change request of the project, pending: its id.
static void s_change_request (const char *project, const char *title, char *id)
{
    char json[512];
    snprintf (json, sizeof json,
              "{\"create_change\":{\"project_id\":\"%s\",\"title\":\"%s\",\"reason\":"
              "\"the regulator asks\",\"schedule_impact_days\":14,\"decision\":\"pending\"}}",
              project, title);
    Pmo__RiskmonReply *reply = s_risk ("pm@dft", "project_manager@dft", json);
    if (reply->error)
        fprintf (stderr, "create_change: %s %s\n", reply->error->field, reply->error->message);
    assert (!reply->error && reply->change_request);
    snprintf (id, 40, "%s", reply->change_request->id);
    protobuf_c_message_free_unpacked (&reply->base, NULL);
}

//  A change request as the risk monitor has it (caller frees the reply).
static Pmo__ChangeRequest *s_change (const char *id, Pmo__RiskmonReply **keep)
{
    char json[160];
    snprintf (json, sizeof json, "{\"get\":{\"kind\":\"change_request\",\"id\":\"%s\"}}", id);
    *keep = s_risk ("admin@hub", "admin@hub", json);
    assert (!(*keep)->error && (*keep)->change_request);
    return (*keep)->change_request;
}

//  A 5 x 5 risk in the project: the risk monitor raises a critical alert.
static void s_critical_risk (const char *project, const char *title)
{
    char json[512];
    snprintf (json, sizeof json,
              "{\"create_risk\":{\"project_id\":\"%s\",\"title\":\"%s\",\"category\":"
              "\"commercial\",\"owner\":\"ro@dft\",\"probability\":5,\"impact\":5,"
              "\"response\":\"reduce\"}}",
              project, title);
    Pmo__RiskmonReply *reply = s_risk ("pm@dft", "project_manager@dft", json);
    if (reply->error)
        fprintf (stderr, "create_risk: %s %s\n", reply->error->field, reply->error->message);
    assert (!reply->error && reply->risk->inherent_score == 25);
    protobuf_c_message_free_unpacked (&reply->base, NULL);
}

//  ---------------------------------------------------------------------

static void s_start (void)
{
    //  The notifier acts on the allocator, started next on the same Redis
    //  and registry
    snprintf (s_alloc_endpoint, sizeof s_alloc_endpoint, "tcp://127.0.0.1:%d",
              pmo_test_free_port ());
    snprintf (s_riskmon_endpoint, sizeof s_riskmon_endpoint, "tcp://127.0.0.1:%d",
              pmo_test_free_port ());
    s_nh = nh_start_with (s_alloc_endpoint, s_riskmon_endpoint);
    static allocator_config_t config;
    snprintf (s_alloc_pub, sizeof s_alloc_pub, "tcp://127.0.0.1:%d", pmo_test_free_port ());
    config = (allocator_config_t){
        .endpoint = s_alloc_endpoint,
        .pub_endpoint = s_alloc_pub,
        .redis_url = pmo_test_redis_url (s_nh->rh->redis),
        .registry = s_nh->rh->endpoint,
        .hub = "hub",
        .redis_timeout_ms = 2000,
        .registry_timeout_ms = 500,
        .registry_cache_ms = 200,
        .fte_hours = 40,
    };
    bool failed = false;
    s_allocator = pmo_test_actor_new (allocator_server_actor, &config, &failed);
    assert (s_allocator && !failed);
    //  The risk monitor, which raises alerts the notifier posts
    static riskmon_config_t rconfig;
    snprintf (s_riskmon_pub, sizeof s_riskmon_pub, "tcp://127.0.0.1:%d", pmo_test_free_port ());
    rconfig = (riskmon_config_t){
        .endpoint = s_riskmon_endpoint,
        .pub_endpoint = s_riskmon_pub,
        .redis_url = pmo_test_redis_url (s_nh->rh->redis),
        .hub = "hub",
        .registry = s_nh->rh->endpoint,
        .consumer = "riskmon-chat",
        .redis_timeout_ms = 2000,
        .claim_idle_ms = 5000,
        .tick_ms = 200,
        .batch = 256,
    };
    s_riskmon = pmo_test_actor_new (riskmon_server_actor, &rconfig, &failed);
    assert (s_riskmon && !failed);
    //  The gateway: the registry and the notifier behind it
    static char http[64], endpoint[64];
    int port = pmo_test_free_port ();
    snprintf (http, sizeof http, "127.0.0.1:%d", port);
    snprintf (s_base, sizeof s_base, "http://127.0.0.1:%d", port);
    snprintf (endpoint, sizeof endpoint, "tcp://127.0.0.1:%d", pmo_test_free_port ());
    static gateway_config_t gc;
    gc = (gateway_config_t){
        .http = http,
        .endpoint = endpoint,
        .upstreams =
            {[GATEWAY_SVC_REGISTRY] = s_nh->rh->endpoint, [GATEWAY_SVC_NOTIFIER] = s_nh->endpoint},
        .redis_url = pmo_test_redis_url (s_nh->rh->redis),
        .hub = "hub",
        .www = PMO_GATEWAY_WWW,
        .openapi = PMO_GATEWAY_OPENAPI,
        .redis_timeout_ms = 1000,
        .upstream_timeout_ms = 4000,
        .max_body = 64 * 1024,
        .rate_burst = 100,
        .heartbeat_ms = 500,
        .max_connections = 64,
        .token_cache_ms = 5000,
    };
    s_gateway = gateway_new (&gc);
    assert (s_gateway);
}

int main (void)
{
    setenv ("TZ", "UTC", 1);
    curl_global_init (CURL_GLOBAL_ALL);
    s_start ();
    //  Fixtures: a project in dft-rail, a resource of dft (hub is directive:
    //  every commitment needs the approval of a resource or PMO manager)
    char *project = nh_project (s_nh, "RAIL-1", "dft-rail");
    Pmo__AllocatorReply *reply = s_alloc (
        "rm@dft", "resource_manager@dft",
        "{\"create_resource\":{\"name\":\"Ann Lee\",\"home_org_unit\":\"dft\",\"role\":"
        "\"developer\",\"weekly_capacity_hours\":40,\"cost_rate\":{\"minor\":5000,\"currency\":"
        "\"GBP\"}}}");
    assert (!reply->error);
    char resource[40];
    snprintf (resource, sizeof resource, "%s", reply->resource->id);
    protobuf_c_message_free_unpacked (&reply->base, NULL);

    //  A PMO manager of dft maps people: not to a role they do not hold
    rh_as (s_nh->rh, "boss@dft", "pmo_manager@dft");
    char json[2048];
    snprintf (json, sizeof json,
              "{\"create_channel\":{\"name\":\"dft approvals\",\"kind\":\"slack\",\"org_unit\":"
              "\"dft\",\"url\":\"%s\",\"interact_secret\":\"" SLACK_SECRET "\",\"chat_users\":["
              "{\"chat_user_id\":\"UADMIN\",\"subject\":\"me@dft\",\"grants\":[{\"role\":"
              "\"admin\",\"org_unit\":\"dft\"}]}]}}",
              nh_url (s_nh, "/ok/slack"));
    Pmo__NotifierReply *nr = s_notifier (json);
    nh_err (nr, FORBIDDEN, "chat_users[0].grants[0]");
    assert (strstr (nr->error->message, "do not hold"));
    nh_free (&nr);
    printf ("mapping beyond one's own roles refused: ok\n");

    //  The Slack channel: the app's signing secret; a project manager and a
    //  resource manager mapped (the resource manager's role is held by the
    //  admin who maps them). The channel coalesces bursts as by default (60 s
    //  per project), and every alert and approval below follows other events
    //  about the same project within that window: each still comes at once,
    //  as its own message with its buttons (a combined message has none), or
    //  the waits below (15 s) fail
    rh_as (s_nh->rh, "admin@hub", "admin@hub");
    snprintf (
        json, sizeof json,
        "{\"create_channel\":{\"name\":\"dft approvals\",\"kind\":\"slack\",\"org_unit\":"
        "\"dft\",\"url\":\"%s\",\"interact_secret\":\"" SLACK_SECRET "\","
        "\"chat_users\":[{\"chat_user_id\":\"UPM\",\"subject\":\"pm@dft\",\"grants\":[{\"role\":"
        "\"project_manager\",\"org_unit\":\"dft\"}]},"
        "{\"chat_user_id\":\"URM\",\"subject\":\"rm@dft\",\"email\":\"rm@dft.example\","
        "\"grants\":[{\"role\":\"resource_manager\",\"org_unit\":\"dft\"}]},"
        "{\"chat_user_id\":\"USP\",\"subject\":\"sp@dft\",\"grants\":[{\"role\":"
        "\"sponsor\",\"org_unit\":\"dft\"}]}]}}",
        nh_url (s_nh, "/ok/slack"));
    nr = s_notifier (json);
    nh_ok (nr);
    char slack[64];
    snprintf (slack, sizeof slack, "%s", nr->channel->id);
    assert (streq (nr->channel->interact_secret, "…"));
    assert (nr->channel->n_chat_users == 3);
    nh_free (&nr);
    //  Sealed at rest like the channel's other secrets
    redisReply *raw = pmo_test_redis_command (s_nh->rh->redis, "HGET pmo:{dft}:nt:ch:%s d", slack);
    assert (raw && raw->type == REDIS_REPLY_STRING);
    assert (!memmem (raw->str, raw->len, SLACK_SECRET, strlen (SLACK_SECRET)));
    freeReplyObject (raw);
    free (nh_subscribe (s_nh, slack, "dft", "allocation.*", 0));
    free (nh_subscribe (s_nh, slack, "dft", "alert.raised", 0));
    free (nh_subscribe (s_nh, slack, "dft", "change_request.created", 0));

    //  An allocation proposed: the message carries Approve and Reject
    char a1[40];
    s_proposed (project, resource, "2026-W40", a1);
    json_t *msg = NULL;
    for (int i = 0; i < 200 && !msg; i++) {
        json_t *list = nh_wait_requests (s_nh, "/ok/slack", 1, nh_scale (15000));
        for (size_t r = 0; r < json_array_size (list) && !msg; r++) {
            json_t *body = nh_body (json_array_get (list, r));
            char *text = json_dumps (body, JSON_COMPACT);
            if (strstr (text, "pmo:allocation.approve") && strstr (text, a1))
                msg = json_incref (body);
            free (text);
        }
        json_decref (list);
        if (!msg)
            zclock_sleep (50);
    }
    assert (msg);
    json_t *blocks = json_object_get (msg, "blocks");
    bool approve = false, reject = false;
    for (size_t b = 0; b < json_array_size (blocks); b++) {
        json_t *block = json_array_get (blocks, b);
        if (!streq (json_string_value (json_object_get (block, "type")), "actions"))
            continue;
        json_t *elements = json_object_get (block, "elements");
        for (size_t e = 0; e < json_array_size (elements); e++) {
            json_t *el = json_array_get (elements, e);
            const char *aid = json_string_value (json_object_get (el, "action_id"));
            assert (streq (json_string_value (json_object_get (el, "value")), a1));
            approve = approve || streq (aid, "pmo:allocation.approve");
            reject = reject || streq (aid, "pmo:allocation.reject");
        }
    }
    assert (approve && reject);
    json_decref (msg);
    printf ("slack message with Approve and Reject: ok\n");

    //  Signed wrong, or too old, or not at all: 401, nothing changes
    long now = (long)time (NULL);
    http_t http;
    char *form = s_slack_click ("URM", "allocation.approve", a1, "/ok/respond/forged");
    s_slack_post (slack, "not-the-signing-secret-at-all", now, form, &http);
    assert (http.status == 401 && strstr (http.body, "does not match"));
    s_slack_post (slack, SLACK_SECRET, now - 301, form, &http);
    assert (http.status == 401 && strstr (http.body, "five minutes"));
    char path[128];
    snprintf (path, sizeof path, "/api/v1/chat/slack/%s", slack);
    s_post (path, "Content-Type: application/x-www-form-urlencoded", form, NULL, NULL, &http);
    assert (http.status == 401);
    s_slack_post ("ch_dft_999", SLACK_SECRET, now, form, &http);
    assert (http.status == 404);
    free (form);
    Pmo__AllocatorReply *keep;
    assert (s_allocation (a1, &keep)->state == PMO__ALLOCATION_STATE__ALLOCATION_STATE_PROPOSED);
    protobuf_c_message_free_unpacked (&keep->base, NULL);
    printf ("wrong signature, old timestamp, none: 401 and nothing done: ok\n");

    //  The project manager may not approve in a directive PMO: the
    //  allocator says so, and the clicker is told in the thread
    form = s_slack_click ("UPM", "allocation.approve", a1, "/ok/respond/pm");
    s_slack_post (slack, SLACK_SECRET, now, form, &http);
    assert (http.status == 200);
    free (form);
    json_t *answer = s_last ("/ok/respond/pm", 1);
    assert (streq (json_string_value (json_object_get (answer, "response_type")), "ephemeral"));
    assert (json_is_false (json_object_get (answer, "replace_original")));
    assert (streq (json_string_value (json_object_get (answer, "thread_ts")), "1700000000.000100"));
    const char *said = json_string_value (json_object_get (answer, "text"));
    assert (strstr (said, "allocator refused"));
    json_decref (answer);
    assert (s_allocation (a1, &keep)->state == PMO__ALLOCATION_STATE__ALLOCATION_STATE_PROPOSED);
    protobuf_c_message_free_unpacked (&keep->base, NULL);
    printf ("a person without the role refused by the allocator, told why: ok\n");

    //  Someone nobody mapped
    form = s_slack_click ("UNOBODY", "allocation.approve", a1, "/ok/respond/nobody");
    s_slack_post (slack, SLACK_SECRET, now, form, &http);
    assert (http.status == 200);
    free (form);
    answer = s_last ("/ok/respond/nobody", 1);
    assert (strstr (json_string_value (json_object_get (answer, "text")), "not mapped"));
    json_decref (answer);

    //  The resource manager approves: committed, the message replaced
    form = s_slack_click ("URM", "allocation.approve", a1, "/ok/respond/rm");
    s_slack_post (slack, SLACK_SECRET, now, form, &http);
    assert (http.status == 200);
    free (form);
    answer = s_last ("/ok/respond/rm", 1);
    assert (json_is_true (json_object_get (answer, "replace_original")));
    char *dump = json_dumps (answer, JSON_COMPACT);
    assert (strstr (dump, "approved and committed by rm@dft"));
    assert (!strstr (dump, "\"actions\"")); //  the buttons are gone
    free (dump);
    json_decref (answer);
    Pmo__Allocation *a = s_allocation (a1, &keep);
    assert (a->state == PMO__ALLOCATION_STATE__ALLOCATION_STATE_COMMITTED);
    assert (streq (a->history[a->n_history - 1]->actor, "rm@dft"));
    assert (a->history[a->n_history - 1]->approved);
    protobuf_c_message_free_unpacked (&keep->base, NULL);
    //  The audit trail says how rm@dft was authenticated: the signed click of
    //  the chat user mapped to it
    redisReply *events =
        pmo_test_redis_command (s_nh->rh->redis, "XREVRANGE pmo:{dft}:events + - COUNT 50");
    assert (events && events->type == REDIS_REPLY_ARRAY);
    bool audited = false;
    for (size_t i = 0; i < events->elements && !audited; i++) {
        redisReply *fields = events->element[i]->element[1];
        for (size_t f = 0; f + 1 < fields->elements; f += 2) {
            if (!streq (fields->element[f]->str, "data"))
                continue;
            Pmo__Event *event = pmo__event__unpack (NULL, fields->element[f + 1]->len,
                                                    (const uint8_t *)fields->element[f + 1]->str);
            assert (event);
            if (streq (event->type, "allocation.committed") && streq (event->entity_id, a1)) {
                assert (streq (event->actor, "rm@dft") && streq (event->actor_via, "chat:URM"));
                audited = true;
            }
            pmo__event__free_unpacked (event, NULL);
        }
    }
    freeReplyObject (events);
    assert (audited);
    printf ("approved from Slack: committed in the allocator as rm@dft, message replaced: ok\n");

    //  A real alert: a 5 x 5 risk makes the risk monitor raise a critical
    //  alert; the notifier posts it with Acknowledge
    s_critical_risk (project, "Signalling supplier fails");
    msg = s_message_with ("/ok/slack", "pmo:alert.ack", "Signalling supplier fails");
    char al1[40] = "";
    blocks = json_object_get (msg, "blocks");
    for (size_t b = 0; b < json_array_size (blocks); b++) {
        json_t *elements = json_object_get (json_array_get (blocks, b), "elements");
        for (size_t e = 0; e < json_array_size (elements); e++) {
            json_t *el = json_array_get (elements, e);
            const char *aid = json_string_value (json_object_get (el, "action_id"));
            if (aid && streq (aid, "pmo:alert.ack"))
                snprintf (al1, sizeof al1, "%s", json_string_value (json_object_get (el, "value")));
        }
    }
    json_decref (msg);
    assert (strncmp (al1, "al_", 3) == 0);
    Pmo__RiskmonReply *rkeep;
    assert (s_alert (al1, &rkeep)->state == PMO__ALERT_STATE__ALERT_STATE_OPEN);
    protobuf_c_message_free_unpacked (&rkeep->base, NULL);
    //  A resource manager may not acknowledge alerts: the risk monitor says
    //  so, in the thread, to the clicker alone
    form = s_slack_click ("URM", "alert.ack", al1, "/ok/respond/alert-rm");
    s_slack_post (slack, SLACK_SECRET, now, form, &http);
    assert (http.status == 200);
    free (form);
    answer = s_last ("/ok/respond/alert-rm", 1);
    assert (streq (json_string_value (json_object_get (answer, "response_type")), "ephemeral"));
    assert (strstr (json_string_value (json_object_get (answer, "text")), "risk monitor refused"));
    json_decref (answer);
    assert (s_alert (al1, &rkeep)->state == PMO__ALERT_STATE__ALERT_STATE_OPEN);
    protobuf_c_message_free_unpacked (&rkeep->base, NULL);
    //  The project manager acknowledges: the climb stops, the message says so
    form = s_slack_click ("UPM", "alert.ack", al1, "/ok/respond/alert-pm");
    s_slack_post (slack, SLACK_SECRET, now, form, &http);
    assert (http.status == 200);
    free (form);
    answer = s_last ("/ok/respond/alert-pm", 1);
    assert (json_is_true (json_object_get (answer, "replace_original")));
    dump = json_dumps (answer, JSON_COMPACT);
    assert (strstr (dump, "acknowledged by pm@dft") && !strstr (dump, "\"actions\""));
    free (dump);
    json_decref (answer);
    Pmo__Alert *alert = s_alert (al1, &rkeep);
    assert (alert->state == PMO__ALERT_STATE__ALERT_STATE_ACKNOWLEDGED);
    assert (streq (alert->acknowledged_by, "pm@dft"));
    protobuf_c_message_free_unpacked (&rkeep->base, NULL);
    printf ("a risk monitor's alert acknowledged from Slack (refused for a resource manager): "
            "ok\n");

    //  A link button (the gate decision's "Open the gate decision"): the
    //  browser opened the dashboard, Slack reports the click all the same.
    //  Signed wrong: 401; signed right, by anyone, mapped or not: 200 with
    //  nothing to say, nothing posted to response_url (the notifier answers
    //  a link before any call), the project unchanged
    Pmo__RegistryReply *before = rh_get (s_nh->rh, PMO__ENTITY_KIND__ENTITY_KIND_PROJECT, project);
    rh_ok (before);
    form = s_slack_click ("UNOBODY", "link.open", project, "/ok/respond/link");
    s_slack_post (slack, "not-the-signing-secret-at-all", now, form, &http);
    assert (http.status == 401 && strstr (http.body, "does not match"));
    s_slack_post (slack, SLACK_SECRET, now, form, &http);
    assert (http.status == 200 && http.size == 0);
    free (form);
    form = s_slack_click ("UPM", "link.open", project, "/ok/respond/link");
    s_slack_post (slack, SLACK_SECRET, now, form, &http);
    assert (http.status == 200 && http.size == 0);
    free (form);
    json_t *posted = nh_requests (s_nh, "/ok/respond/link");
    assert (json_array_size (posted) == 0);
    json_decref (posted);
    Pmo__RegistryReply *after = rh_get (s_nh->rh, PMO__ENTITY_KIND__ENTITY_KIND_PROJECT, project);
    rh_ok (after);
    assert (after->project->version == before->project->version);
    rh_free (&before);
    rh_free (&after);
    printf ("a link button's click: signed, answered 200, nothing done: ok\n");

    //  A change request: Approve and Reject; a project manager may not
    //  decide it (the risk monitor says so), the sponsor approves
    char cr1[40];
    s_change_request (project, "Extend the platform works", cr1);
    msg = s_message_with ("/ok/slack", "pmo:change.approve", cr1);
    dump = json_dumps (msg, JSON_COMPACT);
    assert (strstr (dump, "pmo:change.reject"));
    free (dump);
    json_decref (msg);
    form = s_slack_click ("UPM", "change.approve", cr1, "/ok/respond/cr-pm");
    s_slack_post (slack, SLACK_SECRET, now, form, &http);
    assert (http.status == 200);
    free (form);
    answer = s_last ("/ok/respond/cr-pm", 1);
    assert (streq (json_string_value (json_object_get (answer, "response_type")), "ephemeral"));
    assert (strstr (json_string_value (json_object_get (answer, "text")), "may not decide"));
    json_decref (answer);
    Pmo__ChangeRequest *cr = s_change (cr1, &rkeep);
    assert (cr->decision == PMO__CHANGE_DECISION__CHANGE_DECISION_PENDING);
    protobuf_c_message_free_unpacked (&rkeep->base, NULL);
    form = s_slack_click ("USP", "change.approve", cr1, "/ok/respond/cr-sp");
    s_slack_post (slack, SLACK_SECRET, now, form, &http);
    assert (http.status == 200);
    free (form);
    answer = s_last ("/ok/respond/cr-sp", 1);
    assert (json_is_true (json_object_get (answer, "replace_original")));
    dump = json_dumps (answer, JSON_COMPACT);
    assert (strstr (dump, "approved by sp@dft") && !strstr (dump, "\"actions\""));
    free (dump);
    json_decref (answer);
    cr = s_change (cr1, &rkeep);
    assert (cr->decision == PMO__CHANGE_DECISION__CHANGE_DECISION_APPROVED);
    assert (streq (cr->approver, "sp@dft") && cr->approver_role == PMO__ROLE__ROLE_SPONSOR);
    protobuf_c_message_free_unpacked (&rkeep->base, NULL);
    //  A second click on the same button: already decided, said so
    form = s_slack_click ("USP", "change.reject", cr1, "/ok/respond/cr-again");
    s_slack_post (slack, SLACK_SECRET, now, form, &http);
    assert (http.status == 200);
    free (form);
    answer = s_last ("/ok/respond/cr-again", 1);
    assert (strstr (json_string_value (json_object_get (answer, "text")), "already decided"));
    json_decref (answer);
    printf ("a change request approved from Slack by its sponsor (refused for a project "
            "manager, a second click told it is decided): ok\n");

    //  A Slack Web API channel: the bot posted the message, so the bot
    //  updates it (chat.update on the conversation and the message's ts)
    snprintf (json, sizeof json,
              "{\"create_channel\":{\"name\":\"dft bot\",\"kind\":\"slack_api\",\"org_unit\":"
              "\"dft\",\"url\":\"%s\",\"bot_token\":\"xoxb-1-2-abc\",\"slack_channel\":"
              "\"C0PMO1\",\"interact_secret\":\"" SLACK_SECRET "\",\"chat_users\":["
              "{\"chat_user_id\":\"URM\",\"subject\":\"rm@dft\",\"grants\":[{\"role\":"
              "\"resource_manager\",\"org_unit\":\"dft\"}]}]}}",
              nh_url (s_nh, "/slackapi/ok"));
    nr = s_notifier (json);
    nh_ok (nr);
    char bot[64];
    snprintf (bot, sizeof bot, "%s", nr->channel->id);
    nh_free (&nr);
    char a3[40];
    s_proposed (project, resource, "2026-W42", a3);
    form = s_slack_click ("URM", "allocation.approve", a3, "/ok/respond/bot");
    s_slack_post (bot, SLACK_SECRET, now, form, &http);
    assert (http.status == 200);
    free (form);
    answer = s_last ("/slackapi/ok/chat.update", 1);
    assert (streq (json_string_value (json_object_get (answer, "channel")), "C0PMO1"));
    assert (streq (json_string_value (json_object_get (answer, "ts")), "1700000000.000100"));
    assert (strstr (json_string_value (json_object_get (answer, "text")), "approved"));
    json_decref (answer);
    a = s_allocation (a3, &keep);
    assert (a->state == PMO__ALLOCATION_STATE__ALLOCATION_STATE_COMMITTED);
    protobuf_c_message_free_unpacked (&keep->base, NULL);
    printf ("approved in a Slack Web API channel: the bot's message updated (chat.update): ok\n");

    //  Mattermost: the buttons carry a token; the answer is the update
    snprintf (json, sizeof json,
              "{\"create_channel\":{\"name\":\"dft mm\",\"kind\":\"mattermost\",\"org_unit\":"
              "\"dft\",\"url\":\"%s\",\"interact_secret\":\"" MM_SECRET "\",\"coalesce_s\":-1,"
              "\"chat_users\":["
              "{\"chat_user_id\":\"mmrm1234\",\"subject\":\"rm@dft\",\"grants\":[{\"role\":"
              "\"resource_manager\",\"org_unit\":\"dft\"}]},"
              "{\"chat_user_id\":\"mmpm5678\",\"subject\":\"pm@dft\",\"grants\":[{\"role\":"
              "\"project_manager\",\"org_unit\":\"dft\"}]},"
              "{\"chat_user_id\":\"mmsp9012\",\"subject\":\"sp@dft\",\"grants\":[{\"role\":"
              "\"sponsor\",\"org_unit\":\"dft\"}]}]}}",
              nh_url (s_nh, "/ok/mattermost"));
    nr = s_notifier (json);
    nh_ok (nr);
    char mm[64];
    snprintf (mm, sizeof mm, "%s", nr->channel->id);
    nh_free (&nr);
    free (nh_subscribe (s_nh, mm, "dft", "alert.raised", 0));
    free (nh_subscribe (s_nh, mm, "dft", "change_request.created", 0));
    char a2[40];
    s_proposed (project, resource, "2026-W41", a2);
    pmo_arena_t *arena = pmo_arena_new ();
    const char *token = notifier_action_token (MM_SECRET, a2, "allocation.reject", arena);
    snprintf (path, sizeof path, "/api/v1/chat/mattermost/%s", mm);
    char body[1024];
    snprintf (body, sizeof body,
              "{\"user_id\":\"mmrm1234\",\"user_name\":\"rm\",\"channel_id\":\"c\",\"post_id\":"
              "\"p\",\"type\":\"\",\"context\":{\"action\":\"allocation.reject\",\"target\":"
              "\"%s\",\"token\":\"%s\"}}",
              a2, "0000000000000000000000000000000000000000000000000000000000000000");
    s_post (path, "Content-Type: application/json", body, NULL, NULL, &http);
    assert (http.status == 401 && strstr (http.body, "token"));
    snprintf (body, sizeof body,
              "{\"user_id\":\"mmrm1234\",\"user_name\":\"rm\",\"channel_id\":\"c\",\"post_id\":"
              "\"p\",\"type\":\"\",\"context\":{\"action\":\"allocation.reject\",\"target\":"
              "\"%s\",\"token\":\"%s\"}}",
              a2, token);
    s_post (path, "Content-Type: application/json", body, NULL, NULL, &http);
    assert (http.status == 200);
    s_keep_answer (http.body);
    json_t *update = json_loads (http.body, 0, NULL);
    assert (
        strstr (json_string_value (json_object_get (json_object_get (update, "update"), "message")),
                "rejected by rm@dft"));
    json_decref (update);
    a = s_allocation (a2, &keep);
    assert (a->state == PMO__ALLOCATION_STATE__ALLOCATION_STATE_REJECTED);
    size_t steps = a->n_history;
    protobuf_c_message_free_unpacked (&keep->base, NULL);
    //  The same click sent again (a replay of the captured request): the
    //  first outcome again, said to be a repeat, and nothing done (the
    //  allocator would answer a second reject with a refusal)
    s_post (path, "Content-Type: application/json", body, NULL, NULL, &http);
    assert (http.status == 200);
    update = json_loads (http.body, 0, NULL);
    const char *again =
        json_string_value (json_object_get (json_object_get (update, "update"), "message"));
    assert (again && strstr (again, "rejected by rm@dft") && strstr (again, "already done"));
    json_decref (update);
    a = s_allocation (a2, &keep);
    assert (a->state == PMO__ALLOCATION_STATE__ALLOCATION_STATE_REJECTED && a->n_history == steps);
    protobuf_c_message_free_unpacked (&keep->base, NULL);
    pmo_arena_destroy (&arena);
    pmo_arena_t *arena2 = pmo_arena_new ();
    printf ("rejected from Mattermost: rejected in the allocator, post updated; the click "
            "replayed: answered as the first, not done again: ok\n");

    //  Mattermost and an alert: the button as posted (its integration URL
    //  and context) is what the click sends back
    s_critical_risk (project, "Rolling stock late");
    msg = s_message_with ("/ok/mattermost", "\"alert.ack\"", "Rolling stock late");
    json_t *button = NULL;
    json_t *attachments = json_object_get (msg, "attachments");
    for (size_t i = 0; i < json_array_size (attachments) && !button; i++) {
        json_t *actions = json_object_get (json_array_get (attachments, i), "actions");
        for (size_t b = 0; b < json_array_size (actions) && !button; b++) {
            json_t *integration = json_object_get (json_array_get (actions, b), "integration");
            const char *act = json_string_value (
                json_object_get (json_object_get (integration, "context"), "action"));
            if (act && streq (act, "alert.ack"))
                button = integration;
        }
    }
    assert (button);
    const char *url = json_string_value (json_object_get (button, "url"));
    assert (strstr (url, path) && strstr (url, "/api/v1/chat/mattermost/"));
    json_t *context = json_object_get (button, "context");
    char al2[40];
    snprintf (al2, sizeof al2, "%s", json_string_value (json_object_get (context, "target")));
    json_t *click =
        json_pack ("{s:s, s:s, s:s, s:s, s:s, s:O}", "user_id", "mmrm1234", "user_name", "rm",
                   "channel_id", "c", "post_id", "p2", "type", "", "context", context);
    char *mmbody = json_dumps (click, JSON_COMPACT);
    s_post (path, "Content-Type: application/json", mmbody, NULL, NULL, &http);
    free (mmbody);
    assert (http.status == 200 && strstr (http.body, "ephemeral_text") &&
            strstr (http.body, "risk monitor refused"));
    s_keep_answer (http.body);
    assert (s_alert (al2, &rkeep)->state == PMO__ALERT_STATE__ALERT_STATE_OPEN);
    protobuf_c_message_free_unpacked (&rkeep->base, NULL);
    json_object_set_new (click, "user_id", json_string ("mmpm5678"));
    mmbody = json_dumps (click, JSON_COMPACT);
    s_post (path, "Content-Type: application/json", mmbody, NULL, NULL, &http);
    free (mmbody);
    json_decref (click);
    json_decref (msg);
    assert (http.status == 200);
    s_keep_answer (http.body);
    update = json_loads (http.body, 0, NULL);
    assert (
        strstr (json_string_value (json_object_get (json_object_get (update, "update"), "message")),
                "acknowledged by pm@dft"));
    json_decref (update);
    alert = s_alert (al2, &rkeep);
    assert (alert->state == PMO__ALERT_STATE__ALERT_STATE_ACKNOWLEDGED &&
            streq (alert->acknowledged_by, "pm@dft"));
    protobuf_c_message_free_unpacked (&rkeep->base, NULL);
    printf ("a risk monitor's alert acknowledged from Mattermost (refused for a resource "
            "manager): ok\n");

    //  Mattermost and a change request: the sponsor rejects it
    char cr2[40];
    s_change_request (project, "Drop the depot", cr2);
    msg = s_message_with ("/ok/mattermost", "\"change.reject\"", cr2);
    json_decref (msg);
    snprintf (body, sizeof body,
              "{\"user_id\":\"mmsp9012\",\"user_name\":\"sp\",\"channel_id\":\"c\",\"post_id\":"
              "\"p3\",\"type\":\"\",\"context\":{\"action\":\"change.reject\",\"target\":"
              "\"%s\",\"token\":\"%s\"}}",
              cr2, notifier_action_token (MM_SECRET, cr2, "change.reject", arena2));
    s_post (path, "Content-Type: application/json", body, NULL, NULL, &http);
    assert (http.status == 200 && strstr (http.body, "rejected by sp@dft"));
    s_keep_answer (http.body);
    cr = s_change (cr2, &rkeep);
    assert (cr->decision == PMO__CHANGE_DECISION__CHANGE_DECISION_REJECTED &&
            streq (cr->approver, "sp@dft"));
    protobuf_c_message_free_unpacked (&rkeep->base, NULL);
    pmo_arena_destroy (&arena2);
    printf ("a change request rejected from Mattermost by its sponsor: ok\n");

    //  pmoctl maps and forgets chat users; the secret stays masked
    char out[8192], args[512];
    snprintf (args, sizeof args,
              "channel update %s --chat-user 'U9ANN=ann@dft:resource_manager@dft,"
              "project_manager@dft-rail' --drop-chat-user mmrm1234",
              mm);
    assert (s_pmoctl (args, out, sizeof out) == 0);
    snprintf (args, sizeof args, "--json channel get %s", mm);
    assert (s_pmoctl (args, out, sizeof out) == 0);
    assert (strstr (out, "U9ANN") && strstr (out, "project_manager") && !strstr (out, "mmrm1234"));
    assert (!strstr (out, MM_SECRET));
    snprintf (args, sizeof args, "channel update %s --chat-user 'U9ANN=ann@dft'", mm);
    assert (s_pmoctl (args, out, sizeof out) == 2 && strstr (out, "ROLE@UNIT"));
    printf ("pmoctl channel update --chat-user, --drop-chat-user: ok\n");

    free (project);
    gateway_destroy (&s_gateway);
    zactor_destroy (&s_allocator);
    zactor_destroy (&s_riskmon);
    nh_stop (&s_nh);
    curl_global_cleanup ();
    printf ("test_notifier_chat: ok\n");
    return 0;
}
