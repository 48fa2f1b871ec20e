/*  notifier_model.h: the notifier's rules and formats, without I/O.

    Who may manage channels; what a valid channel, secret and subscription
    are; how secrets are masked; how an event of any service becomes a
    notice people can read (with its severity and project); which
    subscriptions an event matches and whether it goes out alone, coalesced
    with its project's burst or in a digest; the exact payload of every chat
    tool within its size limits; the Standard Webhooks signature; what an
    HTTP status or SMTP reply means for a delivery and when to try again;
    and which addresses an outgoing request may reach. Everything here is
    pure and tested directly by tests/notifier/test_notifier_model.c.
    Implemented in notifier_model.c (rules), notifier_notice.c (events
    become notices) and notifier_format.c (payloads and signatures).
*/
#ifndef NOTIFIER_MODEL_H_INCLUDED
#define NOTIFIER_MODEL_H_INCLUDED

#include "events.pb-c.h"
#include "notifier.pb-c.h"
#include "pmo_request.h"
#include "pmo_util.h"

#include <openssl/types.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

//  ---------------------------------------------------------------------
//  Who may do what

typedef enum {
    NOTIFIER_READ = 1,   //  see channels (masked), subscriptions, deliveries
    NOTIFIER_MANAGE = 2, //  change them, test channels, retry and discard deliveries
} notifier_action_t;

//  The notifier's role table (notifier_action_t bits) for pmo_access_*:
//  admin, PMO director and PMO manager manage; PMO analysts also read.
const pmo_role_table_t *notifier_roles (void);

//  ---------------------------------------------------------------------
//  Validation of what callers send

//  The fields a caller sets on a channel. allow_http accepts http:// URLs
//  (tests and private receivers); otherwise webhook URLs must be https.
int notifier_check_channel (const Pmo__Channel *channel, bool allow_http, pmo_problem_t *problem);
//  A mailbox as a channel names it: "pmo@example.org" or "Display Name
//  <pmo@example.org>" (the name plain or "quoted", UTF-8, no control
//  characters). Fills name ("" if none) and address (the bare address, for
//  the SMTP envelope). 0, or -1 if malformed or too long for the buffers.
int notifier_mailbox (const char *text, char *name, size_t name_size, char *address,
                      size_t address_size);
//  A signing secret: "whsec_" + base64 of 24..64 bytes.
bool notifier_secret_valid (const char *secret);
int notifier_check_subscription (const Pmo__Subscription *sub, pmo_problem_t *problem);

//  ---------------------------------------------------------------------
//  Secrets

//  The URL as it may be shown: scheme and host, then "…" and the last four
//  characters ("https://hooks.slack.com/…Xy9z"). In arena.
char *notifier_mask_url (const char *url, pmo_arena_t *arena);
//  Mask every secret of channel in place (strings in arena): URL, signing
//  secrets ("whsec_…abcd") and the SMTP password ("…" when set).
void notifier_mask_channel (Pmo__Channel *channel, pmo_arena_t *arena);
//  True if text is a masked value (contains "…"), i.e. "keep what is stored".
bool notifier_is_masked (const char *text);

//  ---------------------------------------------------------------------
//  Events become notices

//  How bad an event is, from its content, by the table in the README
//  ("Severity"), first row that applies: an ending (*.resolved, *.cleared,
//  *.closed, *.archived) is low; an explicit "severity" enum on the event
//  or its snapshot (alert levels, issues); a risk's score band; a gate's
//  outcome; a slipped milestone; a project on hold or cancelled; a health
//  colour ("overall", "rag", "health"); a "level" enum; the type's words.
Pmo__Severity notifier_severity (const Pmo__Event *event);
//  The project an event concerns, "" if none: the snapshot's "project_id",
//  a project snapshot's id, or the entity of a "project.*" event.
const char *notifier_event_project (const Pmo__Event *event);
//  A short label for a project snapshot ("FIN-2026-014 Apollo"); NULL if the
//  event carries no project. In arena.
const char *notifier_project_label (const Pmo__Event *event, pmo_arena_t *arena);
//  The notice for an event (in arena). dashboard is the base URL of the
//  dashboard ("http://pmo.example:8080"); project_label names the project
//  when known from earlier events (may be NULL).
Pmo__Notice *notifier_notice (const Pmo__Event *event, const char *dashboard,
                              const char *project_label, pmo_arena_t *arena);
//  The severity's label ("high"); "info" for unspecified.
const char *notifier_severity_name (Pmo__Severity severity);

//  ---------------------------------------------------------------------
//  Routing

//  True if the event is folded into an earlier message and makes none of
//  its own: a project's first health assessment when it is green (the
//  project's creation message stands for it; amber or red is news).
bool notifier_event_folded (const Pmo__Event *event);
//  "project.created" matches "project.created", "project.*" and "*".
bool notifier_type_matches (const char *pattern, const char *type);
//  True if the subscription (live) wants the notice.
bool notifier_subscription_matches (const Pmo__Subscription *sub, const Pmo__Notice *notice);

typedef enum {
    NOTIFIER_ROUTE_SINGLE = 0,   //  its own message, now
    NOTIFIER_ROUTE_COALESCE = 1, //  merged with the project's burst
    NOTIFIER_ROUTE_DIGEST = 2,   //  into the channel's hourly or daily digest
} notifier_route_t;

//  How a notice goes to a channel. A notice with actions (buttons: an
//  alert to acknowledge, an allocation or a change request to decide) is
//  never combined with others: a combined message carries no buttons, so it
//  always goes as its own message, whatever the channel's digest and
//  coalescing say.
notifier_route_t notifier_route_mode (const Pmo__Channel *channel, const Pmo__Notice *notice);
//  True if the notice carries actions (see notifier_route_mode).
bool notifier_notice_actionable (const Pmo__Notice *notice);
//  When the quiet hours ("22:00-07:00", UTC) that hold now_ms end (Unix
//  ms); 0 if now_ms is not within them (or there are none).
int64_t notifier_quiet_until (const char *quiet_hours, int64_t now_ms);
//  The end (Unix ms) of the digest period that holds now_ms (UTC hours and
//  days).
int64_t notifier_digest_period_end (Pmo__DigestPeriod period, int64_t now_ms);
//  Messages per minute allowed to the channel's endpoint (0 = no limit).
uint32_t notifier_rate_per_minute (const Pmo__Channel *channel);
//  The coalescing window in ms (0 = never coalesce).
int64_t notifier_coalesce_ms (const Pmo__Channel *channel);

//  ---------------------------------------------------------------------
//  Payloads

//  What one delivery says.
typedef struct {
    Pmo__DeliveryKind kind;
    const char *delivery_id;
    Pmo__Notice *const *notices; //  in order
    size_t n_notices;
    uint32_t total;           //  events carried (>= n_notices when some were not kept)
    Pmo__DigestPeriod period; //  digests
    int64_t coalesce_s;       //  coalesced: the window
    const char *dashboard;    //  base URL
    const char *thread_ts;    //  slack_api: the project's thread (NULL or "": a new message)
} notifier_message_t;

//  A request body, ready to send.
typedef struct {
    char *body; //  in arena, NUL-terminated
    size_t size;
    const char *content_type;
    const char *query; //  appended to the URL ("" if none)
    size_t shown;      //  notices shown in full (the rest are counted)
} notifier_payload_t;

//  Size budgets (bytes of body; Slack also 50 blocks and 3,000 characters a
//  section): under every tool's documented limit with room to spare.
#define NOTIFIER_SLACK_BUDGET      12000
#define NOTIFIER_SLACK_SECTION_MAX 2900
#define NOTIFIER_SLACK_BLOCKS_MAX  50
#define NOTIFIER_TEAMS_BUDGET      20000
#define NOTIFIER_MATTERMOST_BUDGET 15000
#define NOTIFIER_GCHAT_BUDGET      30000
#define NOTIFIER_WEBHOOK_BUDGET    20000

//  The body for a chat tool or generic webhook (not email). Returns 0.
int notifier_format (const Pmo__Channel *channel, const notifier_message_t *msg, pmo_arena_t *arena,
                     notifier_payload_t *out);
//  The email: a whole RFC 5322 message (CRLF lines, none over 998
//  characters) with a multipart/alternative text + HTML body, base64
//  encoded. now_ms dates it; the Message-ID derives from the delivery id.
int notifier_format_email (const Pmo__Channel *channel, const notifier_message_t *msg,
                           int64_t now_ms, pmo_arena_t *arena, notifier_payload_t *out);

//  ---------------------------------------------------------------------
//  Standard Webhooks signing

//  SHA-256, fetched from OpenSSL once (an implicit fetch on every digest
//  costs more than hashing a short key); shared, never freed.
const EVP_MD *notifier_sha256 (void);

//  The webhook-signature header value: "v1,<base64>" per signing secret in
//  force at now_ms (expired ones skipped), space-separated, each the
//  HMAC-SHA256 of "<msg_id>.<timestamp>.<body>" keyed with the secret's
//  decoded bytes. NULL if no secret is in force. In arena.
char *notifier_sign (const char *msg_id, int64_t timestamp_s, const char *body, size_t size,
                     Pmo__SigningSecret *const *secrets, size_t n, int64_t now_ms,
                     pmo_arena_t *arena);
//  One signature: base64 HMAC-SHA256 with the key of one "whsec_" secret.
//  NULL if the secret is malformed.
char *notifier_sign_one (const char *secret, const char *msg_id, int64_t timestamp_s,
                         const char *body, size_t size, pmo_arena_t *arena);

//  ---------------------------------------------------------------------
//  Outcomes and retries

typedef enum {
    NOTIFIER_DELIVERED = 0, //  2xx / 250
    NOTIFIER_RETRY = 1,     //  transient: try again later
    NOTIFIER_DEAD = 2,      //  permanent: dead-letter, no blind retries
    NOTIFIER_DISABLE = 3,   //  410 Gone: dead-letter and disable the channel
} notifier_outcome_t;

typedef struct {
    notifier_outcome_t outcome;
    bool throttle; //  the endpoint asked us to slow down (429, 503): pause the channel
    char reason[160];
} notifier_verdict_t;

//  What an HTTP attempt means. transport_error is "" when a status was
//  received; location is the redirect target (may be NULL).
void notifier_classify_http (long status, const char *transport_error, const char *location,
                             notifier_verdict_t *verdict);
//  What an SMTP attempt means: 2xx delivered, 4xx retry, 5xx dead; a
//  transport error with no reply code retries.
void notifier_classify_smtp (long code, const char *transport_error, notifier_verdict_t *verdict);
//  A Slack Web API answer (chat.postMessage, chat.update): the HTTP rules,
//  then the JSON body's "ok" and "error": ratelimited and Slack's own
//  failures retry, a wrong token or conversation (invalid_auth,
//  channel_not_found, not_in_channel, ...) disables the channel, anything
//  else dead-letters. On success the message's "ts" into ts ("" if none).
void notifier_classify_slack_api (long status, const char *transport_error, const char *body,
                                  const char *location, notifier_verdict_t *verdict, char *ts,
                                  size_t ts_size);
//  Slack by incoming webhook or by the Web API.
bool notifier_kind_slack (Pmo__ChannelKind kind);
//  The Slack Web API's base URL unless a channel names another.
#define NOTIFIER_SLACK_API "https://slack.com/api"
//  The wait before attempt number failures + 1: base * 2^(failures-1),
//  capped at max, with "equal jitter" (between half and all of it) drawn
//  from random01 in [0, 1).
int64_t notifier_backoff_ms (uint32_t failures, int64_t base_ms, int64_t max_ms, double random01);
//  A Retry-After header (delay-seconds or an HTTP-date) as ms from now_ms;
//  -1 if absent or unreadable. Capped at one day.
int64_t notifier_retry_after_ms (const char *value, int64_t now_ms);

//  ---------------------------------------------------------------------
//  Where outgoing requests may go (server-side request forgery)

#define NOTIFIER_NET_LOOPBACK   1 //  127/8, ::1
#define NOTIFIER_NET_PRIVATE    2 //  10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7
#define NOTIFIER_NET_LINK_LOCAL 4 //  169.254/16 (cloud metadata), fe80::/10
#define NOTIFIER_NET_SPECIAL    8 //  0/8, multicast, broadcast, reserved, unspecified

//  The class of an address: 0 for a public one, else one NOTIFIER_NET_ bit.
unsigned notifier_address_class (const struct sockaddr *address);
//  True if the address is public or its class is in allow (a mask).
bool notifier_address_allowed (const struct sockaddr *address, unsigned allow);
//  Parse "none", "loopback", "private", "link-local" (comma-separated) into
//  a mask; -1 if a word is unknown.
int notifier_parse_allow (const char *text, unsigned *allow);

//  ---------------------------------------------------------------------
//  Text from data in each receiver's markup (notifier_escape.c)

typedef enum {
    NOTIFIER_MARKUP_SLACK,      //  Slack mrkdwn
    NOTIFIER_MARKUP_MARKDOWN,   //  CommonMark: Adaptive Card TextBlock and FactSet
    NOTIFIER_MARKUP_MATTERMOST, //  Mattermost markdown (also @-mentions)
    NOTIFIER_MARKUP_PLAIN,      //  plain text a receiver might still parse
    NOTIFIER_MARKUP_GCHAT_TEXT, //  Google Chat message text
    NOTIFIER_MARKUP_HTML,       //  Google Chat card text and email HTML
} notifier_markup_t;

//  text as it must be written in markup so that it reads as itself and
//  can never mention, link or format (text itself if nothing changes, else
//  in arena).
const char *notifier_inert (notifier_markup_t markup, const char *text, pmo_arena_t *arena);

//  ---------------------------------------------------------------------
//  Requests from chat tools (notifier_interact.c)

#define NOTIFIER_REQUEST_OK       0  //  signed by who it says, and fresh
#define NOTIFIER_REQUEST_UNSIGNED -1 //  a signature, timestamp or secret is missing or malformed
#define NOTIFIER_REQUEST_FORGED   -2 //  the signature does not match
#define NOTIFIER_REQUEST_STALE    -3 //  outside the replay window

//  A Slack request (slash command, interaction): signature is the
//  X-Slack-Signature header ("v0=<hex>"), timestamp the
//  X-Slack-Request-Timestamp header, body the raw bytes; the timestamp must
//  be within five minutes of now_ms. A NOTIFIER_REQUEST_ code.
int notifier_slack_verify (const char *signing_secret, const char *timestamp, const char *body,
                           size_t size, const char *signature, int64_t now_ms);
//  The token a Mattermost button carries in its context (hex, in arena):
//  HMAC-SHA256 of "<target>:<action>" (the entity the button acts on and
//  the action) keyed with the channel's interact secret.
char *notifier_action_token (const char *secret, const char *target, const char *action,
                             pmo_arena_t *arena);
//  Check such a token (constant time). A NOTIFIER_REQUEST_ code.
int notifier_action_verify (const char *secret, const char *target, const char *action,
                            const char *token);
//  A field of an application/x-www-form-urlencoded body, decoded (in
//  arena); NULL if absent. Slack sends an interaction as payload=<JSON>.
char *notifier_form_field (const char *body, size_t size, const char *name, pmo_arena_t *arena);

//  Chat users a channel maps at most.
#define NOTIFIER_CHAT_USERS_MAX 500

//  What a person can do from a chat message (the buttons pmo puts there).
typedef enum {
    NOTIFIER_ACT_NONE = 0,
    NOTIFIER_ACT_ALERT_ACK,          //  "alert.ack": acknowledge an alert (riskmon)
    NOTIFIER_ACT_ALLOCATION_APPROVE, //  "allocation.approve": commit it, approved (allocator)
    NOTIFIER_ACT_ALLOCATION_REJECT,  //  "allocation.reject" (allocator)
    NOTIFIER_ACT_CHANGE_APPROVE,     //  "change.approve": decide a change request (riskmon)
    NOTIFIER_ACT_CHANGE_REJECT,      //  "change.reject" (riskmon)
    NOTIFIER_ACT_LINK_OPEN,          //  "link.open": a Slack link button (a gate decision on the
                                     //  dashboard); its click is acknowledged, nothing is done
} notifier_act_t;

//  The action's name ("alert.ack"), and back (NONE if unknown).
const char *notifier_act_name (notifier_act_t act);
notifier_act_t notifier_act_parse (const char *name);

//  A click, as the chat tool reported it (strings in arena).
typedef struct {
    notifier_act_t act;
    const char *action;       //  its name as sent
    const char *target;       //  the entity it acts on: "al_dft_3"
    const char *user_id;      //  the tool's id of the person who clicked
    const char *user_name;    //  their name there, for the answer ("" if none)
    const char *token;        //  Mattermost: the button's token
    const char *response_url; //  Slack: where the answer goes
    const char *message_ts;   //  Slack: the message clicked (its thread)
    const char *blocks;       //  Slack: the message's blocks, JSON ("" if none)
} notifier_click_t;

//  Read a click: Slack's form body (payload=<block_actions JSON>) or
//  Mattermost's JSON (user_id, context {action, target, token}). 0, or -1
//  with why (what is missing or malformed) filled.
int notifier_click_parse (Pmo__ChannelKind kind, const char *body, size_t size, pmo_arena_t *arena,
                          notifier_click_t *click, char *why, size_t why_size);

//  What pmo answers a click: done (detail says what was done, as whom) or
//  refused (detail says why). Slack: the body to POST to response_url (the
//  original blocks without their buttons and with the outcome, replacing
//  the message; a refusal goes to the clicker alone in the message's
//  thread). Mattermost: the HTTP response (the post updated, or an
//  ephemeral answer). In arena.
char *notifier_click_answer (Pmo__ChannelKind kind, const notifier_click_t *click, bool done,
                             const char *detail, pmo_arena_t *arena);

//  ---------------------------------------------------------------------
//  Small helpers

//  s cut to at most max bytes on a UTF-8 boundary, ending with "…" when cut.
char *notifier_truncate (const char *s, size_t max, pmo_arena_t *arena);
//  RFC 3339 UTC time with ms ("2026-11-23T07:00:00.123Z"). In arena.
char *notifier_rfc3339 (int64_t ms, pmo_arena_t *arena);

#endif
