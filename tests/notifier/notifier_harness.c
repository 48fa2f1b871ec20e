/*  notifier_harness.c: a real notifier (Redis, registry, notifier actor,
    HTTP receiver, SMTP server) for tests. */
#include "notifier_harness.h"
#include "notifier_model.h"
#include "pmo_log.h"

#include <assert.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

void nh_actor_start (nh_t *self)
{
    //  A client connected to the stopped actor keeps its connection: a
    //  request it sent down the dead one is sent again by the client
    //  (test_client_restart), so no fresh client and no pinging is needed
    self->actor = pmo_test_actor_new (notifier_server_actor, &self->config, &self->config.failed);
    assert (self->actor);
}

void nh_actor_stop (nh_t *self)
{
    //  Returns once its ports can be bound again (by a restarted actor or a
    //  service binary the test starts on them)
    const char *const endpoints[] = {self->endpoint, self->pub, NULL};
    int rc = pmo_test_actor_destroy (&self->actor, endpoints);
    assert (rc == 0);
    (void)rc;
}

static bool s_port_open (int port)
{
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons ((uint16_t)port)};
    address.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    bool open = connect (fd, (struct sockaddr *)&address, sizeof address) == 0;
    close (fd);
    return open;
}

static void s_wait_port (int port, const char *what)
{
    for (int i = 0; i < 100; i++) {
        if (s_port_open (port))
            return;
        zclock_sleep (50);
    }
    fprintf (stderr, "harness: %s did not start on port %d\n", what, port);
    abort ();
}

void nh_receiver_start (nh_t *self)
{
    char script[512], port[16];
    snprintf (script, sizeof script, "%s/tests/notifier/receiver.py",
              getenv ("PMO_SOURCE_DIR") ? getenv ("PMO_SOURCE_DIR") : PMO_SOURCE_DIR);
    snprintf (port, sizeof port, "%d", self->receiver_port);
    char *argv[] = {"/usr/bin/python3", script, port, self->receiver_log, NULL};
    self->receiver = pmo_test_proc_start (argv);
    assert (self->receiver);
    s_wait_port (self->receiver_port, "receiver.py");
}

void nh_receiver_kill (nh_t *self)
{
    pmo_test_proc_signal (self->receiver, SIGKILL);
    pmo_test_proc_wait (self->receiver, 5000);
    pmo_test_proc_destroy (&self->receiver);
}

void nh_smtp_start (nh_t *self)
{
    //  A real SMTP server from Debian: python3-aiosmtpd, unprivileged, in
    //  the foreground, on a free high port, delivering into a Maildir
    if (access ("/usr/lib/python3/dist-packages/aiosmtpd", F_OK) != 0) {
        char *install[] = {"/usr/bin/apt-get", "install", "-y", "-q", "python3-aiosmtpd", NULL};
        pmo_test_proc_t *proc = pmo_test_proc_start (install);
        int status = pmo_test_proc_wait (proc, 300000);
        pmo_test_proc_destroy (&proc);
        if (status != 0) {
            fprintf (stderr, "harness: cannot install python3-aiosmtpd (apt-get)\n");
            abort ();
        }
    }
    snprintf (self->maildir, sizeof self->maildir, "/tmp/pmo-test-maildir-XXXXXX");
    assert (mkdtemp (self->maildir));
    self->smtp_port = pmo_test_free_port ();
    char listen[64];
    snprintf (listen, sizeof listen, "127.0.0.1:%d", self->smtp_port);
    //  Python's Maildir creates tmp/, new/ and cur/ only in a directory it
    //  creates itself
    char maildir[300];
    snprintf (maildir, sizeof maildir, "%s/Maildir", self->maildir);
    char *argv[] = {"/usr/bin/python3",          "-m",    "aiosmtpd", "-n", "-l", listen, "-c",
                    "aiosmtpd.handlers.Mailbox", maildir, NULL};
    self->smtp = pmo_test_proc_start (argv);
    assert (self->smtp);
    s_wait_port (self->smtp_port, "aiosmtpd");
}

nh_t *nh_start (void)
{
    return nh_start_with (NULL, NULL);
}

nh_t *nh_start_with (const char *allocator_endpoint, const char *riskmon_endpoint)
{
    nh_t *self = calloc (1, sizeof (nh_t));
    assert (self);
    self->rh = rh_start ();
    Pmo__RegistryReply *reply = rh_unit (self->rh, "hub", "enterprise", NULL, "directive");
    rh_ok (reply);
    rh_free (&reply);
    const char *units[][3] = {
        {"dft", "division", "hub"}, {"dft-rail", "department", "dft"}, {"moj", "division", "hub"}};
    for (size_t i = 0; i < 3; i++) {
        reply = rh_unit (self->rh, units[i][0], units[i][1], units[i][2], NULL);
        rh_ok (reply);
        rh_free (&reply);
    }
    self->receiver_port = pmo_test_free_port ();
    snprintf (self->receiver_log, sizeof self->receiver_log, "/tmp/pmo-test-receiver-%d-%d.jsonl",
              getpid (), self->receiver_port);
    unlink (self->receiver_log);
    nh_receiver_start (self);
    snprintf (self->endpoint, sizeof self->endpoint, "tcp://127.0.0.1:%d", pmo_test_free_port ());
    snprintf (self->pub, sizeof self->pub, "tcp://127.0.0.1:%d", pmo_test_free_port ());
    self->config = (notifier_config_t){
        .endpoint = self->endpoint,
        .pub_endpoint = self->pub,
        .redis_url = pmo_test_redis_url (self->rh->redis),
        .registry_endpoint = self->rh->endpoint,
        .allocator_endpoint = allocator_endpoint,
        .riskmon_endpoint = riskmon_endpoint,
        .hub = "hub",
        .dashboard_url = "http://pmo.test:8080",
        .consumer = "test",
        .secrets_key = getenv ("PMO_SECRETS_KEY"), //  made by the test kit
        .redis_timeout_ms = 1000,
        .connect_timeout_ms = 500,
        .http_timeout_ms = 1500,
        .retry_base_ms = 200,
        .retry_max_ms = 2000,
        .max_attempts = 4,
        .max_in_flight = 64,
        .endpoint_in_flight = 4,
        .reclaim_ms = 1500,
        .max_event_age_s = 3600,
        .allow_networks = NOTIFIER_NET_LOOPBACK,
        .allow_http = true,
        .smtp_tls_required = false,
    };
    nh_actor_start (self);
    self->client = pmo_client_new (self->endpoint);
    assert (self->client);
    return self;
}

void nh_secret (nh_t *self, const char *secret)
{
    for (int i = 0; i < self->n_secrets; i++)
        if (streq (self->secrets[i], secret))
            return;
    if (self->n_secrets < 8)
        snprintf (self->secrets[self->n_secrets++], sizeof self->secrets[0], "%s", secret);
}

//  Keep what was received for the conformance check (see the header)
static void s_capture (nh_t *self)
{
    const char *dir = getenv ("PMO_NOTIFIER_CAPTURES");
    if (!dir || !*dir)
        return;
    const char *name = program_invocation_short_name;
    char cmd[1024];
    snprintf (cmd, sizeof cmd, "mkdir -p '%s' && cp '%s' '%s/%s.jsonl' && rm -rf '%s/%s-mail'", dir,
              self->receiver_log, dir, name, dir, name);
    if (system (cmd) != 0)
        fprintf (stderr, "harness: could not keep the captures in %s\n", dir);
    char path[512];
    snprintf (path, sizeof path, "%s/%s.secrets", dir, name);
    FILE *f = fopen (path, "w");
    for (int i = 0; f && i < self->n_secrets; i++)
        fprintf (f, "%s\n", self->secrets[i]);
    if (f)
        fclose (f);
    if (self->smtp) {
        snprintf (cmd, sizeof cmd, "cp -r '%s/Maildir/new' '%s/%s-mail'", self->maildir, dir, name);
        if (system (cmd) != 0)
            fprintf (stderr, "harness: could not keep the mail in %s\n", dir);
    }
}

void nh_stop (nh_t **self_p)
{
    nh_t *self = *self_p;
    if (!self)
        return;
    pmo_client_destroy (&self->client);
    nh_actor_stop (self);
    if (self->receiver)
        nh_receiver_kill (self);
    s_capture (self);
    if (self->smtp) {
        pmo_test_proc_signal (self->smtp, SIGKILL);
        pmo_test_proc_wait (self->smtp, 5000);
        pmo_test_proc_destroy (&self->smtp);
        char cmd[300];
        snprintf (cmd, sizeof cmd, "rm -rf %s", self->maildir);
        if (system (cmd) != 0)
            fprintf (stderr, "harness: could not remove %s\n", self->maildir);
    }
    unlink (self->receiver_log);
    rh_stop (&self->rh);
    free (self);
    *self_p = NULL;
}

int nh_scale (int ms)
{
    return getenv ("PMO_UNDER_VALGRIND") ? ms * 4 : ms;
}

Pmo__NotifierReply *nh_call_with_id (nh_t *self, Pmo__NotifierRequest *request,
                                     const char *request_id)
{
    Pmo__Header header;
    pmo_header_init (&header, self->request_id, nh_scale (12000), &self->rh->identity);
    if (request_id && *request_id) {
        snprintf (self->request_id, sizeof self->request_id, "%s", request_id);
        header.request_id = self->request_id;
    }
    request->header = &header;
    ProtobufCMessage *reply = NULL;
    int rc = pmo_client_call (self->client, &request->base, &pmo__notifier_reply__descriptor,
                              nh_scale (5000), 2, &reply);
    request->header = NULL;
    if (rc) {
        fprintf (stderr, "harness: no reply to %s\n", pmo_wire_oneof_name (&request->base));
        abort ();
    }
    return (Pmo__NotifierReply *)reply;
}

Pmo__NotifierReply *nh_call (nh_t *self, Pmo__NotifierRequest *request)
{
    return nh_call_with_id (self, request, NULL);
}

void nh_free (Pmo__NotifierReply **reply_p)
{
    if (*reply_p)
        protobuf_c_message_free_unpacked (&(*reply_p)->base, NULL);
    *reply_p = NULL;
}

void nh_ok_at (Pmo__NotifierReply *reply, const char *where, int line)
{
    pmo_test_reply_ok_at (&reply->base, where, line);
}

void nh_err_at (Pmo__NotifierReply *reply, Pmo__ErrorCode code, const char *field,
                const char *where, int line)
{
    pmo_test_reply_err_at (&reply->base, code, field, where, line);
}

const char *nh_url (nh_t *self, const char *path)
{
    static char url[256];
    snprintf (url, sizeof url, "http://127.0.0.1:%d%s", self->receiver_port, path);
    return url;
}

char *nh_channel (nh_t *self, Pmo__ChannelKind kind, const char *unit, const char *url,
                  const char *secret)
{
    Pmo__Channel ch = PMO__CHANNEL__INIT;
    ch.name = "test channel";
    ch.kind = kind;
    ch.org_unit = (char *)unit;
    ch.url = (char *)url;
    ch.coalesce_s = self->coalesce_s;
    Pmo__SigningSecret s = PMO__SIGNING_SECRET__INIT;
    Pmo__SigningSecret *secrets[] = {&s};
    if (secret) {
        nh_secret (self, secret);
        s.secret = (char *)secret;
        ch.signing_secrets = secrets;
        ch.n_signing_secrets = 1;
    }
    Pmo__NotifierRequest request = PMO__NOTIFIER_REQUEST__INIT;
    request.body_case = PMO__NOTIFIER_REQUEST__BODY_CREATE_CHANNEL;
    request.create_channel = &ch;
    Pmo__NotifierReply *reply = nh_call (self, &request);
    nh_ok (reply);
    char *id = strdup (reply->channel->id);
    nh_free (&reply);
    return id;
}

char *nh_subscribe (nh_t *self, const char *channel, const char *unit, const char *types,
                    Pmo__Severity min)
{
    Pmo__Subscription sub = PMO__SUBSCRIPTION__INIT;
    sub.channel_id = (char *)channel;
    sub.org_unit = (char *)(unit ? unit : "");
    sub.min_severity = min;
    char copy[256];
    char *list[16];
    if (types) {
        snprintf (copy, sizeof copy, "%s", types);
        char *save = NULL;
        for (char *t = strtok_r (copy, ",", &save); t && sub.n_event_types < 16;
             t = strtok_r (NULL, ",", &save))
            list[sub.n_event_types++] = t;
        sub.event_types = list;
    }
    Pmo__NotifierRequest request = PMO__NOTIFIER_REQUEST__INIT;
    request.body_case = PMO__NOTIFIER_REQUEST__BODY_CREATE_SUBSCRIPTION;
    request.create_subscription = &sub;
    Pmo__NotifierReply *reply = nh_call (self, &request);
    nh_ok (reply);
    char *id = strdup (reply->subscription->id);
    nh_free (&reply);
    return id;
}

char *nh_project (nh_t *self, const char *code, const char *unit)
{
    Pmo__RegistryReply *reply = rh_project (self->rh, code, unit);
    rh_ok (reply);
    char *id = strdup (reply->project->id);
    rh_free (&reply);
    return id;
}

json_t *nh_requests (nh_t *self, const char *prefix)
{
    json_t *all = json_array ();
    FILE *file = fopen (self->receiver_log, "r");
    if (!file)
        return all;
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    while ((len = getline (&line, &cap, file)) > 0) {
        if (line[len - 1] != '\n')
            break; //  still being written
        json_t *entry = json_loads (line, 0, NULL);
        if (!entry)
            continue;
        const char *path = json_string_value (json_object_get (entry, "path"));
        if (path && strncmp (path, prefix, strlen (prefix)) == 0)
            json_array_append_new (all, entry);
        else
            json_decref (entry);
    }
    free (line);
    fclose (file);
    return all;
}

json_t *nh_wait_requests (nh_t *self, const char *prefix, size_t count, int timeout_ms)
{
    int64_t deadline = pmo_mono_ms () + nh_scale (timeout_ms);
    while (true) {
        json_t *found = nh_requests (self, prefix);
        if (json_array_size (found) >= count)
            return found;
        if (pmo_mono_ms () > deadline) {
            fprintf (stderr, "harness: %zu of %zu requests to %s after %d ms\n",
                     json_array_size (found), count, prefix, timeout_ms);
            abort ();
        }
        json_decref (found);
        zclock_sleep (20);
    }
}

json_t *nh_body (json_t *request)
{
    json_t *parsed = json_object_get (request, "parsed");
    if (parsed)
        return parsed;
    const char *text = json_string_value (json_object_get (request, "body"));
    json_error_t error;
    parsed = json_loads (text ? text : "", 0, &error);
    if (!parsed) {
        fprintf (stderr, "harness: body is not JSON: %s\n", error.text);
        abort ();
    }
    json_object_set_new (request, "parsed", parsed);
    return parsed;
}

Pmo__NotifierReply *nh_delivery (nh_t *self, const char *id)
{
    Pmo__DeliveryRef ref = PMO__DELIVERY_REF__INIT;
    ref.id = (char *)id;
    Pmo__NotifierRequest request = PMO__NOTIFIER_REQUEST__INIT;
    request.body_case = PMO__NOTIFIER_REQUEST__BODY_GET_DELIVERY;
    request.get_delivery = &ref;
    return nh_call (self, &request);
}
