/*  test_notifier_payloads.c: what every receiver gets from data it must
    not obey, and what a message says about how bad it is.

    Text from data made inert in each receiver's markup (mentions, links,
    formatting); the payloads of every chat tool with a hostile project
    name; Google Chat's maxLines as an integer; the severity table (risk
    score band, health colour, gate outcome, alert level, endings); Teams
    showing "Severity" once; the links into the dashboard's routes; a
    project's first green health assessment folded into its creation;
    mailboxes with display names in From and To.
*/
#include "notifier_model.h"
#include "pmo_reflect.h"

#include <assert.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HOSTILE                                                                                    \
    "@channel <!channel> <@U123> <users/all> *bold* _it_ ~st~ `code` [x](https://evil.example) "   \
    "<https://evil.example|click> <a href=\"https://evil.example\">y</a> & http://evil.example"

static void s_inert (void)
{
    pmo_arena_t *arena = pmo_arena_new ();
    //  Slack mrkdwn: control characters as entities, no format characters
    const char *t = notifier_inert (NOTIFIER_MARKUP_SLACK, HOSTILE, arena);
    assert (!strpbrk (t, "<>*~`"));
    assert (strstr (t, "&lt;!channel&gt;"));
    assert (strstr (t, "&amp; http"));
    assert (strstr (t, "\xe2\x88\x97"
                       "bold"));
    //  ids keep their underscores
    assert (streq (notifier_inert (NOTIFIER_MARKUP_SLACK, "rk_dft_3", arena), "rk_dft_3"));
    assert (streq (notifier_inert (NOTIFIER_MARKUP_SLACK, "plain words", arena), "plain words"));
    //  Mattermost: no @mention, every markup character escaped
    t = notifier_inert (NOTIFIER_MARKUP_MATTERMOST, HOSTILE, arena);
    assert (!strstr (t, "@channel") && strstr (t, "\xef\xbc\xa0"
                                                  "channel"));
    assert (strstr (t, "\\[x\\](https\\://evil.example)"));
    assert (strstr (t, "\\*bold\\*") && strstr (t, "\\_it\\_") && strstr (t, "\\`code\\`"));
    assert (strstr (t, "\\<!channel\\>"));
    assert (strstr (t, "http\\://evil"));
    assert (streq (notifier_inert (NOTIFIER_MARKUP_MATTERMOST, "jane@dft.example", arena),
                   "jane@dft.example")); //  not a mention: inside a word
    assert (streq (notifier_inert (NOTIFIER_MARKUP_MARKDOWN, "RAIL-001 Phase 2.", arena),
                   "RAIL-001 Phase 2."));
    assert (streq (notifier_inert (NOTIFIER_MARKUP_MARKDOWN, "# one\n2. two", arena),
                   "\\# one\n2\\. two"));
    //  Mattermost's plain fields: no mention, no <link|text>
    t = notifier_inert (NOTIFIER_MARKUP_PLAIN, HOSTILE, arena);
    assert (!strstr (t, "@channel") && !strpbrk (t, "<>"));
    //  Adaptive Cards (Teams): no [text](url) link
    t = notifier_inert (NOTIFIER_MARKUP_MARKDOWN, HOSTILE, arena);
    assert (!strstr (t, "[x](") && strstr (t, "@channel")); //  Teams has no text mentions
    //  Google Chat text: no <users/all>, no <url|text>, no bare link
    t = notifier_inert (NOTIFIER_MARKUP_GCHAT_TEXT, HOSTILE, arena);
    assert (!strpbrk (t, "<>*~`") && !strstr (t, "://"));
    //  Google Chat cards and email: HTML entities
    t = notifier_inert (NOTIFIER_MARKUP_HTML, HOSTILE, arena);
    assert (!strpbrk (t, "<>\"") && strstr (t, "&lt;a href=&quot;https://evil.example&quot;&gt;"));
    pmo_arena_destroy (&arena);
    printf ("text from data is inert in every markup: ok\n");
}

static Pmo__Event *s_event (pmo_arena_t *arena, const char *type, const char *source)
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
    e->source = (char *)source;
    e->time_ms = 1800000000000;
    return e;
}

//  A notice about a project named to ping, link and format
static Pmo__Notice *s_hostile_notice (pmo_arena_t *arena)
{
    Pmo__Event *e = s_event (arena, "project.created", "registry");
    Pmo__Project *p = pmo_arena_alloc (arena, sizeof (Pmo__Project));
    pmo__project__init (p);
    p->id = "pr_dft_7";
    p->code = "RAIL-7";
    p->name = HOSTILE;
    p->manager = "@here";
    pmo_reflect_set_oneof (&e->base, "project", &p->base);
    return notifier_notice (e, "https://pmo.example", NULL, arena);
}

//  Every string anywhere in a JSON value that a receiver renders as markup,
//  one a line (Slack's plain_text objects and Mattermost's fallback, shown
//  as plain text in notifications, are never parsed: skipped)
static void s_strings (json_t *value, char **out, size_t *size, FILE *f)
{
    (void)out, (void)size;
    if (json_is_string (value))
        fprintf (f, "%s\n", json_string_value (value));
    else if (json_is_array (value)) {
        for (size_t i = 0; i < json_array_size (value); i++)
            s_strings (json_array_get (value, i), out, size, f);
    } else if (json_is_object (value)) {
        if (streq (json_string_value (json_object_get (value, "type")) ?: "", "plain_text"))
            return;
        const char *key;
        json_t *v;
        json_object_foreach (value, key, v) if (!streq (key, "fallback"))
            s_strings (v, out, size, f);
    }
}

static char *s_all_strings (json_t *root)
{
    char *text = NULL;
    size_t size = 0;
    FILE *f = open_memstream (&text, &size);
    s_strings (root, &text, &size, f);
    fclose (f);
    return text;
}

//  Keep a payload for the conformance check (tests/notifier/conformance)
//  when PMO_NOTIFIER_CAPTURES names a directory; first truncates.
static void s_keep (const char *path, const char *body, bool first)
{
    const char *dir = getenv ("PMO_NOTIFIER_CAPTURES");
    if (!dir || !*dir)
        return;
    char file[512];
    snprintf (file, sizeof file, "mkdir -p '%s'", dir);
    assert (system (file) == 0);
    snprintf (file, sizeof file, "%s/test_notifier_payloads.jsonl", dir);
    FILE *f = fopen (file, first ? "w" : "a");
    assert (f);
    json_t *line = json_pack ("{s:s, s:{}, s:s}", "path", path, "headers", "body", body);
    char *text = json_dumps (line, JSON_COMPACT);
    fprintf (f, "%s\n", text);
    free (text);
    json_decref (line);
    fclose (f);
}

static void s_payloads (void)
{
    pmo_arena_t *arena = pmo_arena_new ();
    Pmo__Notice *n = s_hostile_notice (arena);
    Pmo__Notice *notices[] = {n};
    notifier_message_t msg = {
        .kind = PMO__DELIVERY_KIND__DELIVERY_KIND_EVENT,
        .delivery_id = "dl_dft_0123456789abcdef",
        .notices = notices,
        .n_notices = 1,
        .total = 1,
        .dashboard = "https://pmo.example",
    };
    Pmo__ChannelKind kinds[] = {
        PMO__CHANNEL_KIND__CHANNEL_KIND_SLACK, PMO__CHANNEL_KIND__CHANNEL_KIND_MATTERMOST,
        PMO__CHANNEL_KIND__CHANNEL_KIND_TEAMS, PMO__CHANNEL_KIND__CHANNEL_KIND_GOOGLE_CHAT};
    for (size_t k = 0; k < 4; k++) {
        Pmo__Channel ch = PMO__CHANNEL__INIT;
        ch.kind = kinds[k];
        notifier_payload_t payload;
        assert (notifier_format (&ch, &msg, arena, &payload) == 0);
        s_keep ("/payloads/hostile", payload.body, k == 0);
        json_error_t error;
        json_t *root = json_loads (payload.body, 0, &error);
        assert (root);
        char *all = s_all_strings (root);
        if (getenv ("VERBOSE"))
            fprintf (stderr, "%d: %s\n", kinds[k], all);
        //  nothing from the name mentions, links or formats, in any field
        assert (!strstr (all, "<!channel>") && !strstr (all, "<users/all>"));
        assert (!strstr (all, "<https://evil.example|"));
        //  markdown links ([text](url)) where the receiver speaks markdown
        if (kinds[k] == PMO__CHANNEL_KIND__CHANNEL_KIND_MATTERMOST ||
            kinds[k] == PMO__CHANNEL_KIND__CHANNEL_KIND_TEAMS)
            assert (!strstr (all, "[x](https://evil"));
        if (kinds[k] == PMO__CHANNEL_KIND__CHANNEL_KIND_GOOGLE_CHAT) //  its HTML subset
            assert (!strstr (all, "<a href") && strstr (all, "&lt;a href"));
        else
            assert (!strstr (all, "<a href") || strstr (all, "\\<a href"));
        if (kinds[k] == PMO__CHANNEL_KIND__CHANNEL_KIND_MATTERMOST)
            assert (!strstr (all, "@channel") && !strstr (all, "@here"));
        if (kinds[k] == PMO__CHANNEL_KIND__CHANNEL_KIND_SLACK ||
            kinds[k] == PMO__CHANNEL_KIND__CHANNEL_KIND_MATTERMOST)
            assert (!strstr (all, "*bold*"));
        //  but our own link is there
        assert (strstr (all, "https://pmo.example/#/project/pr_dft_7"));
        if (kinds[k] == PMO__CHANNEL_KIND__CHANNEL_KIND_GOOGLE_CHAT) {
            //  maxLines is an integer (the Chat API refuses a boolean)
            json_t *w = json_array_get (
                json_object_get (
                    json_array_get (
                        json_object_get (
                            json_object_get (json_array_get (json_object_get (root, "cardsV2"), 0),
                                             "card"),
                            "sections"),
                        0),
                    "widgets"),
                0);
            json_t *max = json_object_get (json_object_get (w, "textParagraph"), "maxLines");
            assert (json_is_integer (max) && json_integer_value (max) == 6);
        }
        free (all);
        json_decref (root);
    }
    pmo_arena_destroy (&arena);
    printf ("payloads with a hostile project name, every chat tool: ok\n");
}

static void s_severity_table (void)
{
    pmo_arena_t *arena = pmo_arena_new ();
    //  A risk's score band: a 5x5 risk is critical when it is created
    Pmo__Event *e = s_event (arena, "risk.created", "riskmon");
    Pmo__Risk risk = PMO__RISK__INIT;
    risk.project_id = "pr_dft_7";
    risk.title = "Signalling supplier fails";
    risk.probability = 5;
    risk.impact = 5;
    risk.inherent_score = 25;
    risk.inherent_band = PMO__SCORE_BAND__SCORE_BAND_CRITICAL;
    risk.residual_score = 12;
    risk.residual_band = PMO__SCORE_BAND__SCORE_BAND_HIGH;
    pmo_reflect_set_oneof (&e->base, "risk", &risk.base);
    assert (notifier_severity (e) == PMO__SEVERITY__SEVERITY_HIGH); //  residual first
    risk.residual_band = 0;
    assert (notifier_severity (e) == PMO__SEVERITY__SEVERITY_CRITICAL);
    risk.inherent_band = PMO__SCORE_BAND__SCORE_BAND_MINIMAL;
    assert (notifier_severity (e) == PMO__SEVERITY__SEVERITY_INFO);
    e->type = "risk.closed";
    risk.inherent_band = PMO__SCORE_BAND__SCORE_BAND_CRITICAL;
    assert (notifier_severity (e) == PMO__SEVERITY__SEVERITY_LOW); //  an ending
    //  Health colour
    e = s_event (arena, "health.changed", "riskmon");
    Pmo__HealthAssessment health = PMO__HEALTH_ASSESSMENT__INIT;
    health.project_id = "pr_dft_7";
    health.overall = PMO__RAG__RAG_RED;
    health.seq = 1;
    pmo_reflect_set_oneof (&e->base, "health", &health.base);
    assert (notifier_severity (e) == PMO__SEVERITY__SEVERITY_HIGH);
    assert (!notifier_event_folded (e)); //  a red first assessment is news
    health.overall = PMO__RAG__RAG_GREEN;
    assert (notifier_severity (e) == PMO__SEVERITY__SEVERITY_LOW);
    assert (notifier_event_folded (e)); //  a green one is the creation's
    health.seq = 2;
    health.previous = PMO__RAG__RAG_AMBER;
    assert (!notifier_event_folded (e)); //  back to green is news
    //  Gate outcome
    e = s_event (arena, "project.gate_decided", "registry");
    Pmo__GateDecision gate = PMO__GATE_DECISION__INIT;
    e->gate = &gate;
    gate.outcome = PMO__GATE_OUTCOME__GATE_OUTCOME_RECYCLE;
    assert (notifier_severity (e) == PMO__SEVERITY__SEVERITY_MEDIUM);
    //  Alert level, and an alert's facts do not say "Severity" again
    e = s_event (arena, "alert.raised", "riskmon");
    Pmo__Alert alert = PMO__ALERT__INIT;
    alert.id = "al_dft_1";
    alert.title = "RAIL-7 turned red";
    alert.severity = PMO__ALERT_SEVERITY__ALERT_SEVERITY_WARNING;
    alert.state = PMO__ALERT_STATE__ALERT_STATE_OPEN;
    pmo_reflect_set_oneof (&e->base, "alert", &alert.base);
    assert (notifier_severity (e) == PMO__SEVERITY__SEVERITY_MEDIUM);
    alert.severity = PMO__ALERT_SEVERITY__ALERT_SEVERITY_CRITICAL;
    assert (notifier_severity (e) == PMO__SEVERITY__SEVERITY_CRITICAL);
    e->type = "alert.resolved";
    assert (notifier_severity (e) == PMO__SEVERITY__SEVERITY_LOW);
    e->type = "alert.raised";
    e->entity_id = "al_dft_1";
    Pmo__Notice *n = notifier_notice (e, "https://pmo.example/", NULL, arena);
    for (size_t i = 0; i < n->n_facts; i++)
        assert (!streq (n->facts[i]->title, "Severity"));
    assert (streq (n->link, "https://pmo.example/#/alerts"));
    Pmo__Notice *notices[] = {n};
    notifier_message_t msg = {.kind = PMO__DELIVERY_KIND__DELIVERY_KIND_EVENT,
                              .delivery_id = "dl_dft_1",
                              .notices = notices,
                              .n_notices = 1,
                              .total = 1};
    Pmo__Channel teams = PMO__CHANNEL__INIT;
    teams.kind = PMO__CHANNEL_KIND__CHANNEL_KIND_TEAMS;
    notifier_payload_t payload;
    assert (notifier_format (&teams, &msg, arena, &payload) == 0);
    const char *first = strstr (payload.body, "\"Severity\"");
    assert (first && !strstr (first + 1, "\"Severity\""));
    //  an open alert links to the dashboard's action: Teams and Google Chat
    //  cannot call back, the dashboard's own role checks decide there
    assert (streq (n->action, "Acknowledge in PMO"));
    assert (streq (n->action_link, "https://pmo.example/#/alerts?unit=dft-rail&state=open"));
    json_error_t error;
    json_t *card = json_loads (payload.body, 0, &error);
    json_t *actions = json_object_get (
        json_object_get (json_array_get (json_object_get (card, "attachments"), 0), "content"),
        "actions");
    assert (json_array_size (actions) == 2);
    assert (streq (json_string_value (json_object_get (json_array_get (actions, 1), "url")),
                   n->action_link));
    json_decref (card);
    Pmo__Channel gchat = PMO__CHANNEL__INIT;
    gchat.kind = PMO__CHANNEL_KIND__CHANNEL_KIND_GOOGLE_CHAT;
    assert (notifier_format (&gchat, &msg, arena, &payload) == 0);
    s_keep ("/payloads/alert", payload.body, false);
    assert (strstr (payload.body, "\"text\":\"Acknowledge in PMO\""));
    assert (notifier_format (&teams, &msg, arena, &payload) == 0);
    s_keep ("/payloads/alert", payload.body, false);
    //  an acknowledged or resolved alert has nothing left to do
    alert.state = PMO__ALERT_STATE__ALERT_STATE_ACKNOWLEDGED;
    assert (!*notifier_notice (e, "https://pmo.example/", NULL, arena)->action_link);
    alert.state = PMO__ALERT_STATE__ALERT_STATE_OPEN;
    //  an allocation asked for: approve or reject on the project's page
    Pmo__Event *ev = s_event (arena, "allocation.requested", "allocator");
    Pmo__Allocation allocation = PMO__ALLOCATION__INIT;
    allocation.project_id = "pr_dft_7";
    pmo_reflect_set_oneof (&ev->base, "allocation", &allocation.base);
    Pmo__Notice *an = notifier_notice (ev, "https://pmo.example", NULL, arena);
    assert (streq (an->action, "Approve or reject in PMO"));
    assert (streq (an->action_link, "https://pmo.example/#/project/pr_dft_7"));
    //  An over-allocation links to its unit's capacity, not an empty project
    e = s_event (arena, "resource.overallocated", "allocator");
    e->entity_id = "rs_dft_3";
    Pmo__OverAllocation over = PMO__OVER_ALLOCATION__INIT;
    over.resource_id = "rs_dft_3";
    over.resource_name = "Jane Doe";
    over.home_org_unit = "dft-rail";
    over.over = true;
    pmo_reflect_set_oneof (&e->base, "over_allocation", &over.base);
    n = notifier_notice (e, "https://pmo.example", NULL, arena);
    assert (streq (n->link, "https://pmo.example/#/capacity?unit=dft-rail"));
    assert (notifier_severity (e) == PMO__SEVERITY__SEVERITY_MEDIUM);
    //  ... and to the project booked in its weeks when the allocator names
    //  it (the first of them), labelled as the project's other notices
    char *projects[] = {"pr_dft_7", "pr_dft_9"};
    over.project_ids = projects;
    over.n_project_ids = 2;
    n = notifier_notice (e, "https://pmo.example", "RAIL-7 Rail", arena);
    assert (streq (n->project_id, "pr_dft_7"));
    assert (streq (n->link, "https://pmo.example/#/project/pr_dft_7"));
    assert (streq (n->project_label, "RAIL-7 Rail"));
    over.project_ids = NULL;
    over.n_project_ids = 0;
    e->type = "resource.cleared";
    assert (notifier_severity (e) == PMO__SEVERITY__SEVERITY_LOW);
    pmo_arena_destroy (&arena);
    printf ("severity table, facts and links: ok\n");
}

//  A gate request: medium, and every chat tool links to the dashboard's
//  gate decision for the requested phase (the link is the action: a gate
//  decision's outcome, conditions and rationale do not fit a button)
static void s_gate_requested (void)
{
    pmo_arena_t *arena = pmo_arena_new ();
    Pmo__Event *e = s_event (arena, "project.gate_requested", "registry");
    Pmo__Project *p = pmo_arena_alloc (arena, sizeof (Pmo__Project));
    pmo__project__init (p);
    p->id = "pr_dft_7";
    p->code = "RAIL-7";
    p->name = HOSTILE;
    p->phase = PMO__PHASE__PHASE_PLANNING;
    pmo_reflect_set_oneof (&e->base, "project", &p->base);
    Pmo__GateRequest request = PMO__GATE_REQUEST__INIT;
    request.from_phase = PMO__PHASE__PHASE_PLANNING;
    request.to_phase = PMO__PHASE__PHASE_EXECUTION;
    request.requested_by = "jane@dft";
    request.note = "Board on Friday " HOSTILE;
    char *missing[] = {"business_case"};
    request.artifacts_missing = missing;
    request.n_artifacts_missing = 1;
    Pmo__Role roles[] = {PMO__ROLE__ROLE_PMO_MANAGER, PMO__ROLE__ROLE_SPONSOR};
    request.approver_roles = roles;
    request.n_approver_roles = 2;
    p->gate_request = &request;
    e->gate_request = &request;
    assert (notifier_severity (e) == PMO__SEVERITY__SEVERITY_MEDIUM);
    Pmo__Notice *n = notifier_notice (e, "https://pmo.example", NULL, arena);
    assert (strstr (n->title, "Gate into execution requested"));
    assert (strstr (n->summary, "jane@dft"));
    assert (streq (n->action, "Open the gate decision"));
    assert (streq (n->action_link, "https://pmo.example/#/project/pr_dft_7?gate=execution"));
    bool roles_fact = false, missing_fact = false;
    for (size_t i = 0; i < n->n_facts; i++) {
        roles_fact = roles_fact || (streq (n->facts[i]->title, "Decided by") &&
                                    streq (n->facts[i]->value, "pmo manager, sponsor"));
        missing_fact = missing_fact || (streq (n->facts[i]->title, "Artifacts missing") &&
                                        streq (n->facts[i]->value, "business_case"));
    }
    assert (roles_fact && missing_fact);
    Pmo__Notice *notices[] = {n};
    notifier_message_t msg = {.kind = PMO__DELIVERY_KIND__DELIVERY_KIND_EVENT,
                              .delivery_id = "dl_dft_2",
                              .notices = notices,
                              .n_notices = 1,
                              .total = 1,
                              .dashboard = "https://pmo.example"};
    //  Every chat tool, with and without buttons configured: the link is
    //  there, no callback button (nothing to click back into pmo)
    Pmo__ChannelKind kinds[] = {
        PMO__CHANNEL_KIND__CHANNEL_KIND_SLACK,   PMO__CHANNEL_KIND__CHANNEL_KIND_MATTERMOST,
        PMO__CHANNEL_KIND__CHANNEL_KIND_TEAMS,   PMO__CHANNEL_KIND__CHANNEL_KIND_GOOGLE_CHAT,
        PMO__CHANNEL_KIND__CHANNEL_KIND_WEBHOOK, PMO__CHANNEL_KIND__CHANNEL_KIND_EMAIL};
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        Pmo__Channel ch = PMO__CHANNEL__INIT;
        ch.id = "ch_dft_1";
        ch.kind = kinds[k];
        ch.interact_secret = "s3cret-for-buttons";
        notifier_payload_t payload;
        assert (notifier_format (&ch, &msg, arena, &payload) == 0);
        if (getenv ("VERBOSE"))
            fprintf (stderr, "%d: %s\n", kinds[k], payload.body);
        assert (strstr (payload.body, "https://pmo.example/#/project/pr_dft_7?gate=execution"));
        assert (strstr (payload.body, "Open the gate decision"));
        assert (!strstr (payload.body, "integration") && !strstr (payload.body, "pmo:alert"));
        json_error_t error;
        //  A chat tool renders markup: nothing from the note mentions (a
        //  webhook's data is data, email is checked by mail_check.py)
        json_t *root = kinds[k] <= PMO__CHANNEL_KIND__CHANNEL_KIND_GOOGLE_CHAT
                           ? json_loads (payload.body, 0, &error)
                           : NULL;
        if (root) {
            char *all = s_all_strings (root);
            assert (!strstr (all, "<!channel>") && !strstr (all, "<users/all>"));
            free (all);
            json_decref (root);
        }
        if (kinds[k] == PMO__CHANNEL_KIND__CHANNEL_KIND_SLACK) //  a link button
            assert (strstr (payload.body, "\"action_id\":\"pmo:link.open\"") &&
                    strstr (payload.body,
                            "\"url\":\"https://pmo.example/#/project/pr_dft_7?gate=execution\""));
        if (kinds[k] == PMO__CHANNEL_KIND__CHANNEL_KIND_SLACK ||
            kinds[k] == PMO__CHANNEL_KIND__CHANNEL_KIND_MATTERMOST ||
            kinds[k] == PMO__CHANNEL_KIND__CHANNEL_KIND_TEAMS ||
            kinds[k] == PMO__CHANNEL_KIND__CHANNEL_KIND_GOOGLE_CHAT)
            s_keep ("/payloads/gate", payload.body, false);
    }
    //  Teams and Google Chat: the link is a button
    Pmo__Channel teams = PMO__CHANNEL__INIT;
    teams.kind = PMO__CHANNEL_KIND__CHANNEL_KIND_TEAMS;
    notifier_payload_t payload;
    assert (notifier_format (&teams, &msg, arena, &payload) == 0);
    json_error_t error;
    json_t *card = json_loads (payload.body, 0, &error);
    json_t *actions = json_object_get (
        json_object_get (json_array_get (json_object_get (card, "attachments"), 0), "content"),
        "actions");
    assert (streq (json_string_value (json_object_get (json_array_get (actions, 1), "type")),
                   "Action.OpenUrl"));
    assert (streq (json_string_value (json_object_get (json_array_get (actions, 1), "url")),
                   n->action_link));
    json_decref (card);
    //  The withdrawal is low and has nothing to do
    e->type = "project.gate_withdrawn";
    p->gate_request = NULL;
    assert (notifier_severity (e) == PMO__SEVERITY__SEVERITY_LOW);
    n = notifier_notice (e, "https://pmo.example", NULL, arena);
    assert (!*n->action_link && strstr (n->title, "withdrawn"));
    pmo_arena_destroy (&arena);
    printf ("a gate request links to the gate decision in every chat tool: ok\n");
}

static void s_mailboxes (void)
{
    char name[256], address[256];
    assert (notifier_mailbox ("pmo@dft.example", name, sizeof name, address, sizeof address) == 0);
    assert (streq (name, "") && streq (address, "pmo@dft.example"));
    assert (notifier_mailbox ("PMO <pmo@dft.example>", name, sizeof name, address,
                              sizeof address) == 0);
    assert (streq (name, "PMO") && streq (address, "pmo@dft.example"));
    assert (notifier_mailbox ("\"Rail, PMO \\\"desk\\\"\" <pmo@dft.example>", name, sizeof name,
                              address, sizeof address) == 0);
    assert (streq (name, "Rail, PMO \"desk\""));
    assert (notifier_mailbox ("Bureau équipe <b@dft.example>", name, sizeof name, address,
                              sizeof address) == 0);
    //  header injection, brackets, bad quotes, bad addresses
    assert (notifier_mailbox ("PMO\r\nBcc: x@evil.example <pmo@dft.example>", name, sizeof name,
                              address, sizeof address) == -1);
    assert (notifier_mailbox ("P<M>O <pmo@dft.example>", name, sizeof name, address,
                              sizeof address) == -1);
    assert (notifier_mailbox ("P\"MO <pmo@dft.example>", name, sizeof name, address,
                              sizeof address) == -1);
    assert (notifier_mailbox ("PMO <pmo>", name, sizeof name, address, sizeof address) == -1);
    assert (notifier_mailbox ("PMO <pmo@dft.example> x", name, sizeof name, address,
                              sizeof address) == -1);
    //  the channel accepts them, and the headers carry them
    pmo_arena_t *arena = pmo_arena_new ();
    Pmo__Channel mail = PMO__CHANNEL__INIT;
    mail.name = "dft-mail";
    mail.org_unit = "dft";
    mail.kind = PMO__CHANNEL_KIND__CHANNEL_KIND_EMAIL;
    mail.smtp_url = "smtp://mail.dft.example:587";
    mail.mail_from = "PMO Rail <pmo@dft.example>";
    char *to[] = {"\"Doe, Jane\" <jane@dft.example>", "Équipe <team@dft.example>",
                  "bare@dft.example"};
    mail.mail_to = to;
    mail.n_mail_to = 3;
    pmo_problem_t problem;
    assert (notifier_check_channel (&mail, false, &problem) == 0);
    Pmo__Notice *notices[] = {s_hostile_notice (arena)};
    notifier_message_t msg = {.kind = PMO__DELIVERY_KIND__DELIVERY_KIND_EVENT,
                              .delivery_id = "dl_dft_1",
                              .notices = notices,
                              .n_notices = 1,
                              .total = 1};
    notifier_payload_t payload;
    assert (notifier_format_email (&mail, &msg, 1800000000000, arena, &payload) == 0);
    assert (strstr (payload.body, "\r\nFrom: PMO Rail <pmo@dft.example>\r\n"));
    assert (strstr (payload.body, "\r\nTo: \"Doe, Jane\" <jane@dft.example>,\r\n =?UTF-8?B?"));
    assert (strstr (payload.body, " <team@dft.example>,\r\n bare@dft.example\r\n"));
    assert (strstr (payload.body, "Message-ID: <dl_dft_1@dft.example>"));
    const char *dir = getenv ("PMO_NOTIFIER_CAPTURES");
    if (dir && *dir) {
        char path[512];
        snprintf (path, sizeof path, "mkdir -p '%s/test_notifier_payloads-mail'", dir);
        assert (system (path) == 0);
        snprintf (path, sizeof path, "%s/test_notifier_payloads-mail/display-names.eml", dir);
        FILE *f = fopen (path, "w");
        assert (f);
        fwrite (payload.body, 1, payload.size, f);
        fclose (f);
    }
    char *bad[] = {"Jane\n <jane@dft.example>"};
    mail.mail_to = bad;
    mail.n_mail_to = 1;
    assert (notifier_check_channel (&mail, false, &problem) == -1);
    assert (streq (problem.field, "mail_to[0]"));
    pmo_arena_destroy (&arena);
    printf ("display names in From and To: ok\n");
}

int main (void)
{
    s_inert ();
    s_payloads ();
    s_severity_table ();
    s_gate_requested ();
    s_mailboxes ();
    return 0;
}
