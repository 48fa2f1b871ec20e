/*  test_notifier_model.c: the notifier's pure rules and formats.

    Severity of any service's events, notices, routing, size limits of
    every chat tool, the email's structure, the Standard Webhooks signature
    against the spec's own example, backoff bounds, Retry-After, outcome of
    each status, address classes (SSRF) and masking of secrets.
*/
#include "notifier_model.h"
#include "pmo_reflect.h"

#include <arpa/inet.h>
#include <assert.h>
#include <jansson.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

static Pmo__Event *s_event (pmo_arena_t *arena, const char *type)
{
    Pmo__Event *e = pmo_arena_alloc (arena, sizeof (Pmo__Event));
    pmo__event__init (e);
    e->id = "1700000000000-0";
    e->type = (char *)type;
    e->division = "dft";
    e->org_unit = "dft-rail";
    e->org_unit_path = "hub/dft/dft-rail";
    e->entity_id = "pr_dft_7";
    e->actor = "jane@dft";
    e->source = "registry";
    e->time_ms = 1800000000000;
    return e;
}

static void s_severity (void)
{
    pmo_arena_t *arena = pmo_arena_new ();
    //  The registry's events
    Pmo__Event *e = s_event (arena, "status_report.submitted");
    Pmo__StatusReport r = PMO__STATUS_REPORT__INIT;
    r.project_id = "pr_dft_7";
    r.overall = PMO__RAG__RAG_RED;
    pmo_reflect_set_oneof (&e->base, "status_report", &r.base);
    assert (notifier_severity (e) == PMO__SEVERITY__SEVERITY_HIGH);
    assert (streq (notifier_event_project (e), "pr_dft_7"));
    r.overall = PMO__RAG__RAG_AMBER;
    assert (notifier_severity (e) == PMO__SEVERITY__SEVERITY_MEDIUM);
    e = s_event (arena, "project.gate_decided");
    Pmo__GateDecision gate = PMO__GATE_DECISION__INIT;
    gate.outcome = PMO__GATE_OUTCOME__GATE_OUTCOME_STOP;
    e->gate = &gate;
    assert (notifier_severity (e) == PMO__SEVERITY__SEVERITY_HIGH);
    assert (streq (notifier_event_project (e), "pr_dft_7"));
    e = s_event (arena, "milestone.updated");
    Pmo__Milestone m = PMO__MILESTONE__INIT;
    m.project_id = "pr_dft_7";
    m.name = "Design";
    m.baseline_date = "2027-01-01";
    m.forecast_date = "2027-01-10";
    pmo_reflect_set_oneof (&e->base, "milestone", &m.base);
    assert (notifier_severity (e) == PMO__SEVERITY__SEVERITY_MEDIUM);
    Pmo__Notice *n = notifier_notice (e, "https://pmo.example", "RAIL-1 Rail", arena);
    assert (strstr (n->title, "slipped 9 days"));
    assert (streq (n->link, "https://pmo.example/#/project/pr_dft_7"));
    assert (streq (n->project_label, "RAIL-1 Rail"));
    //  Another service's event, unknown to this code: by its words and body
    e = s_event (arena, "resource.overallocated");
    e->source = "allocator";
    Pmo__OverAllocation over = PMO__OVER_ALLOCATION__INIT;
    over.resource_name = "Jane Doe";
    char *weeks[] = {"2027-W03", "2027-W04"};
    over.weeks = weeks;
    over.n_weeks = 2;
    over.over = true;
    over.worst_week_booked_hours = 52;
    pmo_reflect_set_oneof (&e->base, "over_allocation", &over.base);
    assert (notifier_severity (e) == PMO__SEVERITY__SEVERITY_MEDIUM);
    n = notifier_notice (e, "https://pmo.example", NULL, arena);
    assert (strstr (n->title, "Resource overallocated: Jane Doe"));
    bool weeks_fact = false;
    for (size_t i = 0; i < n->n_facts; i++)
        weeks_fact = weeks_fact || (strstr (n->facts[i]->value, "2027-W03, 2027-W04") != NULL);
    assert (weeks_fact);
    assert (notifier_severity (s_event (arena, "health.alert_raised")) ==
            PMO__SEVERITY__SEVERITY_HIGH);
    assert (notifier_severity (s_event (arena, "risk.critical")) ==
            PMO__SEVERITY__SEVERITY_CRITICAL);
    assert (notifier_severity (s_event (arena, "something.happened")) ==
            PMO__SEVERITY__SEVERITY_INFO);
    //  an event without a snapshot still reads well
    n = notifier_notice (s_event (arena, "bench.tick"), NULL, NULL, arena);
    assert (strstr (n->title, "Bench tick: pr_dft_7"));
    pmo_arena_destroy (&arena);
    printf ("severity and notices of any event: ok\n");
}

static void s_quiet_hours (void)
{
    const int64_t day = 86400000LL * 20000, h = 3600000;
    //  across midnight
    assert (notifier_quiet_until ("22:00-07:00", day + 23 * h) == day + 31 * h);
    assert (notifier_quiet_until ("22:00-07:00", day + 3 * h) == day + 7 * h);
    assert (notifier_quiet_until ("22:00-07:00", day + 7 * h) == 0);
    assert (notifier_quiet_until ("22:00-07:00", day + 12 * h) == 0);
    //  within a day
    assert (notifier_quiet_until ("12:30-14:00", day + 13 * h) == day + 14 * h);
    assert (notifier_quiet_until ("12:30-14:00", day + 12 * h) == 0);
    assert (notifier_quiet_until ("", day) == 0);
    Pmo__Subscription sub = PMO__SUBSCRIPTION__INIT;
    sub.channel_id = "ch_dft_1";
    pmo_problem_t problem;
    const char *bad[] = {"22-07",       "22:00-07:00x", "24:00-07:00",
                         "22:00-22:00", "22:60-07:00",  "2:00-07:00"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        sub.quiet_hours = (char *)bad[i];
        assert (notifier_check_subscription (&sub, &problem) == -1);
        assert (streq (problem.field, "quiet_hours"));
    }
    sub.quiet_hours = "22:00-07:00";
    assert (notifier_check_subscription (&sub, &problem) == 0);
    printf ("quiet hours: ok\n");
}

static void s_routing (void)
{
    assert (notifier_type_matches ("*", "project.created"));
    assert (notifier_type_matches ("project.*", "project.created"));
    assert (!notifier_type_matches ("project.*", "projects.created"));
    assert (!notifier_type_matches ("project.created", "project.created2"));
    pmo_arena_t *arena = pmo_arena_new ();
    Pmo__Notice n = PMO__NOTICE__INIT;
    n.type = "project.updated";
    n.severity = PMO__SEVERITY__SEVERITY_MEDIUM;
    n.org_unit_path = "hub/dft/dft-rail";
    n.project_id = "pr_dft_7";
    Pmo__Subscription s = PMO__SUBSCRIPTION__INIT;
    s.org_unit = "dft";
    assert (notifier_subscription_matches (&s, &n)); //  a division covers its departments
    s.org_unit = "moj";
    assert (!notifier_subscription_matches (&s, &n));
    s.org_unit = "dft";
    s.min_severity = PMO__SEVERITY__SEVERITY_HIGH;
    assert (!notifier_subscription_matches (&s, &n));
    s.min_severity = 0;
    s.project_id = "pr_dft_8";
    assert (!notifier_subscription_matches (&s, &n));
    s.project_id = "pr_dft_7";
    char *types[] = {"status_report.*", "project.updated"};
    s.event_types = types;
    s.n_event_types = 2;
    assert (notifier_subscription_matches (&s, &n));
    s.n_event_types = 1;
    assert (!notifier_subscription_matches (&s, &n));
    Pmo__Channel ch = PMO__CHANNEL__INIT;
    assert (notifier_route_mode (&ch, &n) == NOTIFIER_ROUTE_COALESCE);
    ch.coalesce_s = -1;
    assert (notifier_route_mode (&ch, &n) == NOTIFIER_ROUTE_SINGLE);
    ch.digest = PMO__DIGEST_PERIOD__DIGEST_PERIOD_DAILY;
    assert (notifier_route_mode (&ch, &n) == NOTIFIER_ROUTE_SINGLE); //  medium is not low
    n.severity = PMO__SEVERITY__SEVERITY_LOW;
    assert (notifier_route_mode (&ch, &n) == NOTIFIER_ROUTE_DIGEST);
    assert (notifier_digest_period_end (PMO__DIGEST_PERIOD__DIGEST_PERIOD_HOURLY, 1800000123456) ==
            1800000000000 + 3600000 - 1800000000000 % 3600000);
    assert (notifier_digest_period_end (PMO__DIGEST_PERIOD__DIGEST_PERIOD_DAILY,
                                        86400000 * 5 + 1) == 86400000LL * 6);
    ch.kind = PMO__CHANNEL_KIND__CHANNEL_KIND_SLACK;
    assert (notifier_rate_per_minute (&ch) == 60);
    ch.kind = PMO__CHANNEL_KIND__CHANNEL_KIND_WEBHOOK;
    assert (notifier_rate_per_minute (&ch) == 0);
    pmo_arena_destroy (&arena);
    printf ("routing: types, subtree, severity, project, coalesce, digest: ok\n");
}

//  Many long notices, to push every format past its limits.
static notifier_message_t s_big_message (pmo_arena_t *arena, size_t count)
{
    Pmo__Notice **notices = pmo_arena_alloc (arena, count * sizeof (void *));
    char long_text[5000];
    memset (long_text, 'x', sizeof long_text - 1);
    long_text[sizeof long_text - 1] = 0;
    for (size_t i = 0; i < count; i++) {
        Pmo__Notice *n = pmo_arena_alloc (arena, sizeof (Pmo__Notice));
        pmo__notice__init (n);
        n->event_id = pmo_arena_printf (arena, "dft/%zu-0", i);
        n->type = "status_report.submitted";
        n->severity = PMO__SEVERITY__SEVERITY_LOW;
        n->title = pmo_arena_printf (arena, "Status <%zu> & more", i);
        n->summary = notifier_truncate (long_text, 700, arena);
        n->division = "dft";
        n->org_unit_path = "hub/dft";
        n->project_id = "pr_dft_1";
        n->project_label = "RAIL-1 Rail";
        n->link = "https://pmo.example/#/project/pr_dft_1";
        Pmo__Fact **facts = pmo_arena_alloc (arena, 8 * sizeof (void *));
        for (int f = 0; f < 8; f++) {
            facts[f] = pmo_arena_alloc (arena, sizeof (Pmo__Fact));
            pmo__fact__init (facts[f]);
            facts[f]->title = "Fact";
            facts[f]->value = notifier_truncate (long_text, 300, arena);
        }
        n->facts = facts;
        n->n_facts = 8;
        notices[i] = n;
    }
    notifier_message_t msg = {
        .kind = PMO__DELIVERY_KIND__DELIVERY_KIND_DIGEST,
        .delivery_id = "dl_dft_0123456789abcdef",
        .notices = notices,
        .n_notices = count,
        .total = (uint32_t)count + 50,
        .period = PMO__DIGEST_PERIOD__DIGEST_PERIOD_DAILY,
        .dashboard = "https://pmo.example",
    };
    return msg;
}

static void s_limits (void)
{
    pmo_arena_t *arena = pmo_arena_new ();
    notifier_message_t msg = s_big_message (arena, 200);
    struct {
        Pmo__ChannelKind kind;
        size_t budget;
    } kinds[] = {
        {PMO__CHANNEL_KIND__CHANNEL_KIND_SLACK, NOTIFIER_SLACK_BUDGET},
        {PMO__CHANNEL_KIND__CHANNEL_KIND_TEAMS, NOTIFIER_TEAMS_BUDGET},
        {PMO__CHANNEL_KIND__CHANNEL_KIND_MATTERMOST, NOTIFIER_MATTERMOST_BUDGET},
        {PMO__CHANNEL_KIND__CHANNEL_KIND_GOOGLE_CHAT, NOTIFIER_GCHAT_BUDGET},
        {PMO__CHANNEL_KIND__CHANNEL_KIND_WEBHOOK, NOTIFIER_WEBHOOK_BUDGET},
    };
    for (size_t k = 0; k < 5; k++) {
        Pmo__Channel ch = PMO__CHANNEL__INIT;
        ch.kind = kinds[k].kind;
        notifier_payload_t payload;
        assert (notifier_format (&ch, &msg, arena, &payload) == 0);
        assert (payload.size <= kinds[k].budget);
        assert (payload.shown >= 1 && payload.shown < 200);
        json_error_t error;
        json_t *root = json_loads (payload.body, 0, &error);
        assert (root);
        //  shortened, and says so
        if (ch.kind == PMO__CHANNEL_KIND__CHANNEL_KIND_WEBHOOK)
            assert (
                json_integer_value (json_object_get (json_object_get (root, "data"), "omitted")) ==
                (json_int_t)(250 - payload.shown));
        else
            assert (strstr (payload.body, "more events: see the PMO dashboard"));
        if (ch.kind == PMO__CHANNEL_KIND__CHANNEL_KIND_SLACK) {
            json_t *blocks = json_object_get (root, "blocks");
            assert (json_array_size (blocks) <= NOTIFIER_SLACK_BLOCKS_MAX);
            for (size_t i = 0; i < json_array_size (blocks); i++) {
                json_t *text = json_object_get (json_array_get (blocks, i), "text");
                if (text)
                    assert (strlen (json_string_value (json_object_get (text, "text"))) <= 3000);
            }
            //  mrkdwn is escaped
            assert (strstr (payload.body, "Status &lt;0&gt; &amp; more"));
        }
        printf ("  %d: %zu bytes, %zu of %u events shown\n", kinds[k].kind, payload.size,
                payload.shown, msg.total);
        json_decref (root);
    }
    //  Email: RFC 5322 with multipart/alternative, no line over 998
    Pmo__Channel mail = PMO__CHANNEL__INIT;
    mail.kind = PMO__CHANNEL_KIND__CHANNEL_KIND_EMAIL;
    mail.mail_from = "pmo@dft.example";
    char *to[] = {"a@dft.example"};
    mail.mail_to = to;
    mail.n_mail_to = 1;
    msg.notices[0]->title = "Statut: résumé ✓";
    msg.kind = PMO__DELIVERY_KIND__DELIVERY_KIND_EVENT;
    msg.n_notices = 1;
    msg.total = 1;
    notifier_payload_t payload;
    assert (notifier_format_email (&mail, &msg, 1800000000000, arena, &payload) == 0);
    assert (strstr (payload.body, "Subject: =?UTF-8?B?"));
    assert (strstr (payload.body, "Date: Fri, 15 Jan 2027 08:00:00 +0000"));
    assert (strstr (payload.body, "multipart/alternative"));
    for (char *line = payload.body; line; line = strstr (line, "\r\n")) {
        line += 2;
        char *end = strstr (line, "\r\n");
        assert (!end || end - line <= 998);
        if (!end)
            break;
    }
    pmo_arena_destroy (&arena);
    printf ("size limits of every format, email structure: ok\n");
}

static void s_signature (void)
{
    pmo_arena_t *arena = pmo_arena_new ();
    //  The example of the Standard Webhooks specification
    const char *body = "{\"test\": 2432232314}";
    char *sig =
        notifier_sign_one ("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek",
                           1614265330, body, strlen (body), arena);
    assert (sig && streq (sig, "g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="));
    //  Rotation: both while the old one is valid, then only the new one
    Pmo__SigningSecret fresh = PMO__SIGNING_SECRET__INIT, old = PMO__SIGNING_SECRET__INIT;
    fresh.secret = "whsec_QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWY=";
    old.secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    old.expires_ms = 2000;
    Pmo__SigningSecret *secrets[] = {&fresh, &old};
    char *header = notifier_sign ("msg_1", 1, body, strlen (body), secrets, 2, 1000, arena);
    assert (header && strchr (header, ' ') && strncmp (header, "v1,", 3) == 0);
    header = notifier_sign ("msg_1", 1, body, strlen (body), secrets, 2, 3000, arena);
    assert (header && !strchr (header, ' '));
    assert (notifier_secret_valid ("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"));
    assert (!notifier_secret_valid ("whsec_c2hvcnQ=")); //  5 bytes: too short
    assert (!notifier_secret_valid ("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"));
    pmo_arena_destroy (&arena);
    printf ("Standard Webhooks signature (spec example), rotation: ok\n");
}

static void s_outcomes (void)
{
    notifier_verdict_t v;
    notifier_classify_http (200, "", NULL, &v);
    assert (v.outcome == NOTIFIER_DELIVERED);
    notifier_classify_http (204, "", NULL, &v);
    assert (v.outcome == NOTIFIER_DELIVERED);
    notifier_classify_http (500, "", NULL, &v);
    assert (v.outcome == NOTIFIER_RETRY && !v.throttle);
    notifier_classify_http (429, "", NULL, &v);
    assert (v.outcome == NOTIFIER_RETRY && v.throttle);
    notifier_classify_http (410, "", NULL, &v);
    assert (v.outcome == NOTIFIER_DISABLE);
    notifier_classify_http (404, "", NULL, &v);
    assert (v.outcome == NOTIFIER_DEAD);
    notifier_classify_http (301, "", "https://elsewhere", &v);
    assert (v.outcome == NOTIFIER_DEAD && strstr (v.reason, "not followed"));
    notifier_classify_http (0, "Timeout was reached", NULL, &v);
    assert (v.outcome == NOTIFIER_RETRY);
    notifier_classify_smtp (250, "", &v);
    assert (v.outcome == NOTIFIER_DELIVERED);
    notifier_classify_smtp (451, "Requested action aborted", &v);
    assert (v.outcome == NOTIFIER_RETRY);
    notifier_classify_smtp (550, "Mailbox unavailable", &v);
    assert (v.outcome == NOTIFIER_DEAD);
    //  Backoff doubles, is capped, and keeps at least half (equal jitter)
    assert (notifier_backoff_ms (1, 1000, 60000, 0.0) == 500);
    assert (notifier_backoff_ms (1, 1000, 60000, 0.999) <= 1000);
    assert (notifier_backoff_ms (3, 1000, 60000, 0.0) == 2000);
    assert (notifier_backoff_ms (30, 1000, 60000, 0.0) == 30000);
    assert (notifier_backoff_ms (30, 1000, 60000, 0.999) <= 60000);
    assert (notifier_retry_after_ms ("7", 0) == 7000);
    assert (notifier_retry_after_ms ("Wed, 21 Oct 2015 07:28:10 GMT", 1445412480000) == 10000);
    assert (notifier_retry_after_ms ("soon", 0) == -1);
    assert (notifier_retry_after_ms ("999999", 0) == 86400000);
    printf ("outcomes, backoff, Retry-After: ok\n");
}

static bool s_v4 (const char *text, unsigned allow)
{
    struct sockaddr_in a = {.sin_family = AF_INET};
    assert (inet_pton (AF_INET, text, &a.sin_addr) == 1);
    return notifier_address_allowed ((struct sockaddr *)&a, allow);
}

static bool s_v6 (const char *text, unsigned allow)
{
    struct sockaddr_in6 a = {.sin6_family = AF_INET6};
    assert (inet_pton (AF_INET6, text, &a.sin6_addr) == 1);
    return notifier_address_allowed ((struct sockaddr *)&a, allow);
}

static void s_addresses (void)
{
    assert (s_v4 ("93.184.216.34", 0));
    assert (!s_v4 ("127.0.0.1", 0) && s_v4 ("127.0.0.1", NOTIFIER_NET_LOOPBACK));
    assert (!s_v4 ("10.1.2.3", 0) && !s_v4 ("172.20.0.1", 0) && !s_v4 ("192.168.1.1", 0));
    assert (s_v4 ("172.32.0.1", 0));
    assert (!s_v4 ("169.254.169.254", NOTIFIER_NET_PRIVATE)); //  cloud metadata
    assert (!s_v4 ("0.0.0.0", NOTIFIER_NET_LOOPBACK | NOTIFIER_NET_PRIVATE));
    assert (!s_v4 ("100.64.0.1", 0));
    assert (!s_v6 ("::1", 0) && s_v6 ("::1", NOTIFIER_NET_LOOPBACK));
    assert (!s_v6 ("::ffff:10.0.0.1", 0)); //  v4-mapped private
    assert (!s_v6 ("fd00::1", 0) && !s_v6 ("fe80::1", 0));
    assert (s_v6 ("2001:4860:4860::8888", 0));
    unsigned allow;
    assert (notifier_parse_allow ("loopback,private", &allow) == 0);
    assert (allow == (NOTIFIER_NET_LOOPBACK | NOTIFIER_NET_PRIVATE));
    assert (notifier_parse_allow ("everything", &allow) == -1);
    printf ("address classes (SSRF): ok\n");
}

static void s_secrets (void)
{
    pmo_arena_t *arena = pmo_arena_new ();
    Pmo__Channel ch = PMO__CHANNEL__INIT;
    ch.kind = PMO__CHANNEL_KIND__CHANNEL_KIND_SLACK;
    ch.url = "https://hooks.slack.com/services/T000/B000/abcdefghijklmnopWXYZ";
    ch.smtp_password = "hunter2";
    Pmo__SigningSecret s = PMO__SIGNING_SECRET__INIT;
    s.secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    Pmo__SigningSecret *secrets[] = {&s};
    ch.signing_secrets = secrets;
    ch.n_signing_secrets = 1;
    notifier_mask_channel (&ch, arena);
    assert (streq (ch.url, "https://hooks.slack.com/\xe2\x80\xa6WXYZ"));
    assert (streq (ch.signing_secrets[0]->secret, "whsec_\xe2\x80\xa6LaSw"));
    assert (!strstr (ch.smtp_password, "hunter2"));
    assert (streq (s.secret, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")); //  a copy was masked
    assert (notifier_is_masked (ch.url));
    //  Validation names the field
    pmo_problem_t problem;
    Pmo__Channel bad = PMO__CHANNEL__INIT;
    bad.name = "x";
    bad.kind = PMO__CHANNEL_KIND__CHANNEL_KIND_WEBHOOK;
    bad.org_unit = "dft";
    bad.url = "http://example.com/hook";
    assert (notifier_check_channel (&bad, false, &problem) == -1 && streq (problem.field, "url"));
    assert (notifier_check_channel (&bad, true, &problem) == 0);
    bad.url = "https://example.com/hook";
    s.secret = "whsec_short";
    Pmo__SigningSecret *short_secrets[] = {&s};
    bad.signing_secrets = short_secrets;
    bad.n_signing_secrets = 1;
    assert (notifier_check_channel (&bad, false, &problem) == -1);
    assert (streq (problem.field, "signing_secrets[0].secret"));
    pmo_arena_destroy (&arena);
    printf ("masking and validation: ok\n");
}

int main (void)
{
    s_severity ();
    s_quiet_hours ();
    s_routing ();
    s_limits ();
    s_signature ();
    s_outcomes ();
    s_addresses ();
    s_secrets ();
    printf ("test_notifier_model: ok\n");
    return 0;
}
