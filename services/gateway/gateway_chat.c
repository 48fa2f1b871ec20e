/*  gateway_chat.c: clicks from chat tools.

    POST /api/v1/chat/slack/<channel> (a Slack app's interactivity Request
    URL) and POST /api/v1/chat/mattermost/<channel> (the integration URL of
    pmo's Mattermost buttons) take no API token: the chat tool signs the
    request (Slack: X-Slack-Signature over the body; Mattermost: a token in
    the button's context) with the channel's interact secret, which only
    the notifier holds. So the gateway hands the raw body and the signature
    headers to the notifier, as itself, and answers what the notifier says
    (Mattermost: the post's update; Slack: 200, the message is updated
    through its response_url). A request that fails its signature counts
    against the caller's address like a bad token.
*/
#include "gateway_internal.h"
#include "pmo_reflect.h"

#include "notifier.pb-c.h"
#include "pmo_util.h"
#include "pmo_wire.h"

#include <string.h>

#define CHAT_TIMEOUT_MS 2800 //  Slack waits three seconds for its answer

enum MHD_Result gateway_chat_begin (self_t *self, request_t *req, const char *url,
                                    const char *method)
{
    char tool[16] = "", channel[80] = "";
    const char *rest = url + strlen ("/api/v1/chat/");
    const char *slash = strchr (rest, '/');
    if (!slash || (size_t)(slash - rest) >= sizeof tool || !slash[1] || strchr (slash + 1, '/') ||
        strlen (slash + 1) >= sizeof channel)
        return gateway_http_problem (req, 404, "not_found", "",
                                     "chat clicks go to /api/v1/chat/{slack|mattermost}/{channel}",
                                     NULL, NULL, NULL);
    memcpy (tool, rest, (size_t)(slash - rest));
    snprintf (channel, sizeof channel, "%s", slash + 1);
    bool slack = streq (tool, "slack");
    if (!slack && !streq (tool, "mattermost"))
        return gateway_http_problem (req, 404, "not_found", "",
                                     "chat clicks come from slack or mattermost", NULL, NULL, NULL);
    if (strcmp (method, "POST") != 0)
        return gateway_http_problem (req, 405, "method_not_allowed", "", "see Allow", NULL, "Allow",
                                     "POST");
    if (req->too_large) {
        char detail[120];
        snprintf (detail, sizeof detail, "the body is larger than %zu bytes",
                  gateway_body_max (self, url, method));
        return gateway_http_problem (req, 413, "too_large", "", detail, NULL, NULL, NULL);
    }
    //  An address that keeps sending forged clicks waits like one that
    //  keeps guessing tokens
    int wait = gateway_edge_failures_wait (self, req);
    if (wait) {
        char seconds[16];
        snprintf (seconds, sizeof seconds, "%d", wait);
        return gateway_http_problem (req, 429, "rate_limited", "",
                                     "too many requests without a valid signature from here", NULL,
                                     "Retry-After", seconds);
    }
    if (!self->dealers[GATEWAY_SVC_NOTIFIER])
        return gateway_http_problem (req, 503, "unavailable", "",
                                     "this gateway has no notifier for chat clicks", NULL, NULL,
                                     NULL);
    const char *timestamp =
        MHD_lookup_connection_value (req->connection, MHD_HEADER_KIND, "X-Slack-Request-Timestamp");
    const char *signature =
        MHD_lookup_connection_value (req->connection, MHD_HEADER_KIND, "X-Slack-Signature");
    Pmo__ChatInteraction in = PMO__CHAT_INTERACTION__INIT;
    in.channel_id = channel;
    in.kind =
        slack ? PMO__CHANNEL_KIND__CHANNEL_KIND_SLACK : PMO__CHANNEL_KIND__CHANNEL_KIND_MATTERMOST;
    in.body.data = (uint8_t *)(req->body ? req->body : "");
    in.body.len = req->size;
    in.slack_timestamp = (char *)(timestamp && strlen (timestamp) < 32 ? timestamp : "");
    in.slack_signature = (char *)(signature && strlen (signature) < 128 ? signature : "");
    Pmo__NotifierRequest request = PMO__NOTIFIER_REQUEST__INIT;
    request.body_case = PMO__NOTIFIER_REQUEST__BODY_INTERACT;
    request.interact = &in;
    //  gateway_call takes a message it frees: a heap copy
    ProtobufCMessage *copy = pmo_reflect_dup (&request.base);
    assert (copy);
    req->kind = KIND_CHAT;
    char id[40];
    gateway_new_id (self, id);
    snprintf (req->request_id, sizeof req->request_id, "%s", id);
    if (gateway_call (self, req, GATEWAY_SVC_NOTIFIER, copy, &self->identity, id, CHAT_TIMEOUT_MS))
        return gateway_http_problem (req, 503, "unavailable", "", "the notifier is not configured",
                                     NULL, NULL, NULL);
    return MHD_YES;
}

enum MHD_Result gateway_chat_finish (self_t *self, request_t *req)
{
    if (req->fail == 504)
        return gateway_http_problem (req, 504, "deadline_exceeded", "",
                                     "the notifier did not answer in time", NULL, NULL, NULL);
    if (req->fail)
        return gateway_http_problem (req, req->fail == 409 ? 409 : 503, "unavailable", "",
                                     "the click could not be handed on; the tool may retry", NULL,
                                     "Retry-After", "1");
    const Pmo__NotifierReply *reply = (const Pmo__NotifierReply *)req->reply;
    const Pmo__Error *error = gateway_reply_error (req->reply);
    if (error) {
        int status = gateway_http_status (error->code, false);
        if (status == 401)
            gateway_edge_failed (self, req);
        const char *field = error->field ? error->field : "";
        if (strncmp (field, "interact.", 9) == 0)
            field += 9;
        return gateway_http_problem (req, status, pmo_error_code_name (error->code), field,
                                     error->message ? error->message : "", NULL, NULL, NULL);
    }
    if (reply->body_case != PMO__NOTIFIER_REPLY__BODY_CHAT_ANSWER)
        return gateway_http_problem (req, 500, "internal", "", "the notifier's answer is empty",
                                     NULL, NULL, NULL);
    const Pmo__ChatAnswer *answer = reply->chat_answer;
    size_t size = answer->body ? strlen (answer->body) : 0;
    char *body = malloc (size + 1);
    assert (body);
    memcpy (body, size ? answer->body : "", size + 1);
    return gateway_http_send (req, answer->status ? (int)answer->status : 200, "application/json",
                              body, size, NULL);
}
