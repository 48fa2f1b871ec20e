/*  test_notifier_interact.c: the checks a request from a chat tool must
    pass before pmo acts on a click: Slack's request signature (against the
    example in Slack's documentation, "Verifying requests from Slack"), its
    five-minute replay window, and the token of a Mattermost button.
*/
#include "notifier_model.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

//  Slack's documented example: signing secret, timestamp, body, signature
#define SLACK_SECRET "8f742231b10e8888abcd99yyyzzz85a5"
#define SLACK_TS     "1531420618"
#define SLACK_BODY                                                                                 \
    "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id="         \
    "G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-"     \
    "collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F3977008855" \
    "54%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121."                           \
    "803a0bc887a14d10d2c447fce8b6703c"
#define SLACK_SIG "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"

static void s_slack (void)
{
    const int64_t then = 1531420618LL * 1000;
    size_t size = strlen (SLACK_BODY);
    assert (notifier_slack_verify (SLACK_SECRET, SLACK_TS, SLACK_BODY, size, SLACK_SIG,
                                   then + 1000) == NOTIFIER_REQUEST_OK);
    //  within five minutes either way, not beyond
    assert (notifier_slack_verify (SLACK_SECRET, SLACK_TS, SLACK_BODY, size, SLACK_SIG,
                                   then + 300 * 1000) == NOTIFIER_REQUEST_OK);
    assert (notifier_slack_verify (SLACK_SECRET, SLACK_TS, SLACK_BODY, size, SLACK_SIG,
                                   then + 301 * 1000) == NOTIFIER_REQUEST_STALE);
    assert (notifier_slack_verify (SLACK_SECRET, SLACK_TS, SLACK_BODY, size, SLACK_SIG,
                                   then - 301 * 1000) == NOTIFIER_REQUEST_STALE);
    //  a byte of the body, another secret, another signature: forged
    char body[sizeof SLACK_BODY];
    memcpy (body, SLACK_BODY, sizeof body);
    body[6] = 'X';
    assert (notifier_slack_verify (SLACK_SECRET, SLACK_TS, body, size, SLACK_SIG, then) ==
            NOTIFIER_REQUEST_FORGED);
    assert (notifier_slack_verify ("another-secret", SLACK_TS, SLACK_BODY, size, SLACK_SIG, then) ==
            NOTIFIER_REQUEST_FORGED);
    assert (notifier_slack_verify (SLACK_SECRET, SLACK_TS, SLACK_BODY, size,
                                   "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c6"
                                   "9b504",
                                   then) == NOTIFIER_REQUEST_FORGED);
    //  the timestamp is part of what is signed
    assert (notifier_slack_verify (SLACK_SECRET, "1531420619", SLACK_BODY, size, SLACK_SIG, then) ==
            NOTIFIER_REQUEST_FORGED);
    //  missing or malformed pieces
    assert (notifier_slack_verify (SLACK_SECRET, "", SLACK_BODY, size, SLACK_SIG, then) ==
            NOTIFIER_REQUEST_UNSIGNED);
    assert (notifier_slack_verify (SLACK_SECRET, "15314x", SLACK_BODY, size, SLACK_SIG, then) ==
            NOTIFIER_REQUEST_UNSIGNED);
    assert (notifier_slack_verify (SLACK_SECRET, SLACK_TS, SLACK_BODY, size, NULL, then) ==
            NOTIFIER_REQUEST_UNSIGNED);
    assert (notifier_slack_verify ("", SLACK_TS, SLACK_BODY, size, SLACK_SIG, then) ==
            NOTIFIER_REQUEST_UNSIGNED);
    //  the form fields of the body
    pmo_arena_t *arena = pmo_arena_new ();
    assert (
        streq (notifier_form_field (SLACK_BODY, size, "response_url", arena),
               "https://hooks.slack.com/commands/T1DC2JH3J/397700885554/96rGlfmibIGlgcZRskXaIFfN"));
    assert (streq (notifier_form_field (SLACK_BODY, size, "command", arena), "/webhook-collect"));
    assert (streq (notifier_form_field (SLACK_BODY, size, "text", arena), ""));
    assert (!notifier_form_field (SLACK_BODY, size, "payload", arena));
    assert (!notifier_form_field (SLACK_BODY, size, "user", arena)); //  not user_id
    const char *form = "payload=%7B%22type%22%3A%22block_actions%22%2C%22a%22%3A%22x+y%22%7D";
    assert (streq (notifier_form_field (form, strlen (form), "payload", arena),
                   "{\"type\":\"block_actions\",\"a\":\"x y\"}"));
    pmo_arena_destroy (&arena);
    printf ("Slack request signatures (Slack's own example), replay window: ok\n");
}

static void s_mattermost (void)
{
    pmo_arena_t *arena = pmo_arena_new ();
    const char *secret = "per-channel action secret of ch_dft_3";
    char *token = notifier_action_token (secret, "dl_dft_0123456789abcdef", "acknowledge", arena);
    assert (strlen (token) == 64);
    assert (notifier_action_verify (secret, "dl_dft_0123456789abcdef", "acknowledge", token) ==
            NOTIFIER_REQUEST_OK);
    //  another delivery, another action, another channel's secret: refused
    assert (notifier_action_verify (secret, "dl_dft_0123456789abcdee", "acknowledge", token) ==
            NOTIFIER_REQUEST_FORGED);
    assert (notifier_action_verify (secret, "dl_dft_0123456789abcdef", "resolve", token) ==
            NOTIFIER_REQUEST_FORGED);
    assert (notifier_action_verify ("another channel's secret", "dl_dft_0123456789abcdef",
                                    "acknowledge", token) == NOTIFIER_REQUEST_FORGED);
    assert (notifier_action_verify (secret, "dl_dft_0123456789abcdef", "acknowledge", "") ==
            NOTIFIER_REQUEST_UNSIGNED);
    pmo_arena_destroy (&arena);
    printf ("Mattermost button tokens: ok\n");
}

//  Slack Web API answers as Slack documents them
static void s_slack_api (void)
{
    notifier_verdict_t v;
    char ts[64];
    notifier_classify_slack_api (200, "", "{\"ok\":true,\"channel\":\"C1\",\"ts\":\"1.000200\"}",
                                 "", &v, ts, sizeof ts);
    assert (v.outcome == NOTIFIER_DELIVERED && streq (ts, "1.000200"));
    notifier_classify_slack_api (429, "", "{\"ok\":false,\"error\":\"ratelimited\"}", "", &v, ts,
                                 sizeof ts);
    assert (v.outcome == NOTIFIER_RETRY && v.throttle && !*ts);
    notifier_classify_slack_api (200, "", "{\"ok\":false,\"error\":\"invalid_auth\"}", "", &v, ts,
                                 sizeof ts);
    assert (v.outcome == NOTIFIER_DISABLE && strstr (v.reason, "invalid_auth"));
    notifier_classify_slack_api (200, "", "{\"ok\":false,\"error\":\"channel_not_found\"}", "", &v,
                                 ts, sizeof ts);
    assert (v.outcome == NOTIFIER_DISABLE);
    notifier_classify_slack_api (200, "", "{\"ok\":false,\"error\":\"invalid_blocks\"}", "", &v, ts,
                                 sizeof ts);
    assert (v.outcome == NOTIFIER_DEAD);
    notifier_classify_slack_api (200, "", "{\"ok\":false,\"error\":\"internal_error\"}", "", &v, ts,
                                 sizeof ts);
    assert (v.outcome == NOTIFIER_RETRY);
    notifier_classify_slack_api (200, "", "<html>proxy</html>", "", &v, ts, sizeof ts);
    assert (v.outcome == NOTIFIER_RETRY);
    notifier_classify_slack_api (500, "", "", "", &v, ts, sizeof ts);
    assert (v.outcome == NOTIFIER_RETRY);
    printf ("Slack Web API answers: ok\n");
}

//  Clicks: what is read from them, and what is refused
static void s_clicks (void)
{
    pmo_arena_t *arena = pmo_arena_new ();
    notifier_click_t click;
    char why[256];
    const char *mm = "{\"user_id\":\"u1\",\"context\":{\"action\":\"alert.ack\","
                     "\"target\":\"al_dft_1\",\"token\":\"t\"}}";
    assert (notifier_click_parse (PMO__CHANNEL_KIND__CHANNEL_KIND_MATTERMOST, mm, strlen (mm),
                                  arena, &click, why, sizeof why) == 0);
    assert (click.act == NOTIFIER_ACT_ALERT_ACK && streq (click.target, "al_dft_1"));
    const char *unknown = "{\"user_id\":\"u1\",\"context\":{\"action\":\"drop.tables\","
                          "\"target\":\"x\"}}";
    assert (notifier_click_parse (PMO__CHANNEL_KIND__CHANNEL_KIND_MATTERMOST, unknown,
                                  strlen (unknown), arena, &click, why, sizeof why) == -1);
    assert (strstr (why, "action"));
    const char *form = "payload=%7B%22type%22%3A%22view_submission%22%7D";
    assert (notifier_click_parse (PMO__CHANNEL_KIND__CHANNEL_KIND_SLACK, form, strlen (form), arena,
                                  &click, why, sizeof why) == -1);
    assert (strstr (why, "block_actions"));
    assert (notifier_click_parse (PMO__CHANNEL_KIND__CHANNEL_KIND_SLACK, "x=1", 3, arena, &click,
                                  why, sizeof why) == -1);
    //  A link button's click (Slack reports it when interactivity is on):
    //  read as link.open, which the notifier acknowledges and does nothing
    const char *link =
        "payload=%7B%22type%22%3A%22block_actions%22%2C%22actions%22%3A%5B%7B%22action_id%22%3A%"
        "22pmo%3Alink.open%22%2C%22value%22%3A%22pr_dft_7%22%7D%5D%2C%22user%22%3A%7B%22id%22%3A%"
        "22U1%22%7D%2C%22response_url%22%3A%22https%3A%2F%2Fhooks.slack.com%2Factions%2Fx%22%7D";
    assert (notifier_click_parse (PMO__CHANNEL_KIND__CHANNEL_KIND_SLACK, link, strlen (link), arena,
                                  &click, why, sizeof why) == 0);
    assert (click.act == NOTIFIER_ACT_LINK_OPEN && streq (click.target, "pr_dft_7"));
    //  The answer's words are inert: a name cannot ping the channel
    click.message_ts = "1.2";
    click.blocks = "";
    char *answer = notifier_click_answer (PMO__CHANNEL_KIND__CHANNEL_KIND_SLACK, &click, false,
                                          "refused for <!channel>", arena);
    assert (!strstr (answer, "<!channel>") && strstr (answer, "\"thread_ts\":\"1.2\""));
    answer = notifier_click_answer (PMO__CHANNEL_KIND__CHANNEL_KIND_MATTERMOST, &click, false,
                                    "refused for @channel", arena);
    assert (!strstr (answer, "@channel") && strstr (answer, "ephemeral_text"));
    pmo_arena_destroy (&arena);
    printf ("clicks read and answered: ok\n");
}

int main (void)
{
    s_slack ();
    s_mattermost ();
    s_slack_api ();
    s_clicks ();
    return 0;
}
