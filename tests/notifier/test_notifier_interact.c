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

int main (void)
{
    s_slack ();
    s_mattermost ();
    return 0;
}
