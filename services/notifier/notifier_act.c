/*  notifier_act.c: a click's calls to the services, on a thread of their
    own (the click worker), so that a slow service holds up the click and
    not the notifier: its deliveries, its requests and other replicas' work
    go on meanwhile.

    The actor (notifier_chat.c) verifies the click and maps the clicker to
    a pmo identity, then hands the click to the worker and answers the
    request when the click comes back. The worker asks the service as that
    person (get the entity for its version, then the step), each call
    within call_ms, one click at a time, and hands the click back with the
    outcome.
*/
#include "notifier_internal.h"

#include "allocator.pb-c.h"
#include "pmo_log.h"
#include "pmo_reflect.h"
#include "pmo_wire.h"
#include "riskmon.pb-c.h"

#include <string.h>

//  The worker's clients of the services a click acts on
typedef struct {
    pmo_client_t *allocator; //  NULL: none configured
    pmo_client_t *riskmon;
    int call_ms;
} notifier_clients_t;

//  A call as who: the reply (caller frees) or NULL when the service did
//  not answer in time; its error into *error (NULL if none).
static ProtobufCMessage *s_call (pmo_client_t *client, int call_ms, ProtobufCMessage *request,
                                 const ProtobufCMessageDescriptor *reply_desc,
                                 const Pmo__ChatUser *who, const Pmo__Error **error)
{
    Pmo__Identity identity = PMO__IDENTITY__INIT;
    identity.subject = who->subject;
    identity.grants = who->grants;
    identity.n_grants = who->n_grants;
    //  How the person was authenticated: a click signed by the chat tool,
    //  from this chat user (the audit trail's actor_via)
    char via[160];
    snprintf (via, sizeof via, "chat:%s", who->chat_user_id ? who->chat_user_id : "");
    identity.via = via;
    Pmo__Header header;
    char request_id[40];
    pmo_header_init (&header, request_id, call_ms, &identity);
    ProtobufCMessage **slot = pmo_wire_message_slot (request, "header");
    *slot = &header.base;
    ProtobufCMessage *reply = NULL;
    int rc = pmo_client_call (client, request, reply_desc, call_ms, 1, &reply);
    *slot = NULL;
    *error = NULL;
    if (rc)
        return NULL;
    ProtobufCMessage **error_slot = pmo_wire_message_slot (reply, "error");
    const Pmo__Error *e = error_slot ? (const Pmo__Error *)*error_slot : NULL;
    if (e && e->code != PMO__ERROR_CODE__ERROR_NONE)
        *error = e;
    return reply;
}

//  What a refusal says: the service's words, or why it could not be asked.
static const char *s_refusal (const Pmo__Error *error, const char *service, pmo_arena_t *arena)
{
    if (!error)
        return pmo_arena_printf (arena, "%s did not answer in time; try again", service);
    return pmo_arena_printf (arena, "%s refused: %s (%s)", service,
                             error->message ? error->message : "",
                             pmo_error_code_name (error->code));
}

//  The step of a click (after its read), as who: true when the service
//  did it; false with *detail why not. The reply is not kept.
static bool s_step (pmo_client_t *client, int call_ms, ProtobufCMessage *request,
                    const ProtobufCMessageDescriptor *reply_desc, const Pmo__ChatUser *who,
                    const char *service, pmo_arena_t *arena, const char **detail)
{
    const Pmo__Error *error;
    ProtobufCMessage *reply = s_call (client, call_ms, request, reply_desc, who, &error);
    bool done = reply && !error;
    if (!done)
        *detail = s_refusal (error, service, arena);
    if (reply)
        protobuf_c_message_free_unpacked (reply, NULL);
    return done;
}

//  Acknowledge an alert as who. true with *detail what was done, false
//  with *detail why not.
static bool s_alert_ack (notifier_clients_t *self, const Pmo__ChatUser *who, const char *id,
                         pmo_arena_t *arena, const char **detail)
{
    if (!self->riskmon)
        return *detail = "this notifier has no risk monitor to ask", false;
    Pmo__RiskmonRequest request = PMO__RISKMON_REQUEST__INIT;
    Pmo__RiskmonGetRequest get = PMO__RISKMON_GET_REQUEST__INIT;
    get.kind = PMO__REGISTER_KIND__REGISTER_KIND_ALERT;
    get.id = (char *)id;
    request.body_case = PMO__RISKMON_REQUEST__BODY_GET;
    request.get = &get;
    const Pmo__Error *error;
    Pmo__RiskmonReply *read = (Pmo__RiskmonReply *)s_call (
        self->riskmon, self->call_ms, &request.base, &pmo__riskmon_reply__descriptor, who, &error);
    bool done = false;
    if (!read || error || read->body_case != PMO__RISKMON_REPLY__BODY_ALERT)
        *detail = s_refusal (error, "the risk monitor", arena);
    else {
        Pmo__AlertActionRequest ack = PMO__ALERT_ACTION_REQUEST__INIT;
        ack.id = (char *)id;
        ack.version = read->alert->version;
        request.body_case = PMO__RISKMON_REQUEST__BODY_ACKNOWLEDGE_ALERT;
        request.acknowledge_alert = &ack;
        done = s_step (self->riskmon, self->call_ms, &request.base, &pmo__riskmon_reply__descriptor,
                       who, "the risk monitor", arena, detail);
        if (done)
            *detail = pmo_arena_printf (arena, "Alert %s (%s) acknowledged by %s", id,
                                        read->alert->title ? read->alert->title : "", who->subject);
    }
    if (read)
        protobuf_c_message_free_unpacked (&read->base, NULL);
    return done;
}

//  Approve or reject a change request as who (the risk monitor decides
//  whether who may: sponsors, programme managers, PMO).
static bool s_change_decide (notifier_clients_t *self, const Pmo__ChatUser *who, const char *id,
                             bool approve, pmo_arena_t *arena, const char **detail)
{
    if (!self->riskmon)
        return *detail = "this notifier has no risk monitor to ask", false;
    Pmo__RiskmonRequest request = PMO__RISKMON_REQUEST__INIT;
    Pmo__RiskmonGetRequest get = PMO__RISKMON_GET_REQUEST__INIT;
    get.kind = PMO__REGISTER_KIND__REGISTER_KIND_CHANGE_REQUEST;
    get.id = (char *)id;
    request.body_case = PMO__RISKMON_REQUEST__BODY_GET;
    request.get = &get;
    const Pmo__Error *error;
    Pmo__RiskmonReply *read = (Pmo__RiskmonReply *)s_call (
        self->riskmon, self->call_ms, &request.base, &pmo__riskmon_reply__descriptor, who, &error);
    bool done = false;
    if (!read || error || read->body_case != PMO__RISKMON_REPLY__BODY_CHANGE_REQUEST)
        *detail = s_refusal (error, "the risk monitor", arena);
    else {
        //  The change request as read, with the decision: the version read
        //  makes a stale click a conflict
        Pmo__ChangeRequest *change = read->change_request;
        char *note = change->decision_note;
        change->decision = approve ? PMO__CHANGE_DECISION__CHANGE_DECISION_APPROVED
                                   : PMO__CHANGE_DECISION__CHANGE_DECISION_REJECTED;
        change->decision_note = pmo_arena_printf (arena, "%s from chat by %s",
                                                  approve ? "approved" : "rejected", who->subject);
        request.body_case = PMO__RISKMON_REQUEST__BODY_UPDATE_CHANGE;
        request.update_change = change;
        done = s_step (self->riskmon, self->call_ms, &request.base, &pmo__riskmon_reply__descriptor,
                       who, "the risk monitor", arena, detail);
        if (done)
            *detail = pmo_arena_printf (arena, "Change request %s (%s) %s by %s", id,
                                        change->title ? change->title : "",
                                        approve ? "approved" : "rejected", who->subject);
        change->decision_note = note; //  the arena's is not freed with read
    }
    if (read)
        protobuf_c_message_free_unpacked (&read->base, NULL);
    return done;
}

//  Approve (commit, approved) or reject an allocation as who.
static bool s_allocation_step (notifier_clients_t *self, const Pmo__ChatUser *who, const char *id,
                               bool approve, pmo_arena_t *arena, const char **detail)
{
    if (!self->allocator)
        return *detail = "this notifier has no allocator to ask", false;
    Pmo__AllocatorRequest request = PMO__ALLOCATOR_REQUEST__INIT;
    Pmo__AllocatorGetRequest get = PMO__ALLOCATOR_GET_REQUEST__INIT;
    get.kind = PMO__ALLOCATOR_KIND__ALLOCATOR_KIND_ALLOCATION;
    get.id = (char *)id;
    request.body_case = PMO__ALLOCATOR_REQUEST__BODY_GET;
    request.get = &get;
    const Pmo__Error *error;
    Pmo__AllocatorReply *read =
        (Pmo__AllocatorReply *)s_call (self->allocator, self->call_ms, &request.base,
                                       &pmo__allocator_reply__descriptor, who, &error);
    bool done = false;
    if (!read || error || read->body_case != PMO__ALLOCATOR_REPLY__BODY_ALLOCATION)
        *detail = s_refusal (error, "the allocator", arena);
    else {
        const Pmo__Allocation *a = read->allocation;
        Pmo__AllocationStep step = PMO__ALLOCATION_STEP__INIT;
        step.allocation_id = (char *)id;
        step.version = a->version;
        if (approve) {
            step.approve = true;
            request.body_case = PMO__ALLOCATOR_REQUEST__BODY_COMMIT;
            request.commit = &step;
        } else {
            step.reason = pmo_arena_printf (arena, "rejected from chat by %s", who->subject);
            request.body_case = PMO__ALLOCATOR_REQUEST__BODY_REJECT;
            request.reject = &step;
        }
        done = s_step (self->allocator, self->call_ms, &request.base,
                       &pmo__allocator_reply__descriptor, who, "the allocator", arena, detail);
        if (done)
            *detail = pmo_arena_printf (
                arena, "Allocation %s (%s, %u h/week %s..%s) %s by %s", id,
                a->resource_name && *a->resource_name ? a->resource_name : (a->role ? a->role : ""),
                a->hours_per_week, a->start_week ? a->start_week : "",
                a->end_week ? a->end_week : "", approve ? "approved and committed" : "rejected",
                who->subject);
    }
    if (read)
        protobuf_c_message_free_unpacked (&read->base, NULL);
    return done;
}

//  Act on one click; its outcome into job.
static void s_act (notifier_clients_t *self, notifier_job_t *job)
{
    const Pmo__ChatUser *who = job->who;
    pmo_arena_t *arena = job->arena;
    notifier_act_t act = job->act;
    //  Waited behind slower clicks until the caller (the gateway, answering
    //  the chat tool) gave up: not done, so clicking again does it
    if (job->deadline_ms && pmo_now_ms () >= job->deadline_ms) {
        job->done = false;
        job->detail = "the click waited too long behind others and was not done; click again";
        return;
    }
    if (act == NOTIFIER_ACT_ALERT_ACK)
        job->done = s_alert_ack (self, who, job->target, arena, &job->detail);
    else if (act == NOTIFIER_ACT_CHANGE_APPROVE || act == NOTIFIER_ACT_CHANGE_REJECT)
        job->done = s_change_decide (self, who, job->target, act == NOTIFIER_ACT_CHANGE_APPROVE,
                                     arena, &job->detail);
    else
        job->done = s_allocation_step (self, who, job->target,
                                       act == NOTIFIER_ACT_ALLOCATION_APPROVE, arena, &job->detail);
}

void notifier_act_worker (zsock_t *pipe, void *args)
{
    const notifier_worker_config_t *config = args;
    notifier_clients_t self = {.call_ms = config->call_ms > 0 ? config->call_ms : 1200};
    //  A client connects lazily: a service that is not running costs nothing
    if (config->allocator_endpoint && *config->allocator_endpoint)
        self.allocator = pmo_client_new (config->allocator_endpoint);
    if (config->riskmon_endpoint && *config->riskmon_endpoint)
        self.riskmon = pmo_client_new (config->riskmon_endpoint);
    zsock_signal (pipe, 0);
    while (true) {
        char *command = NULL;
        void *job = NULL;
        if (zsock_recv (pipe, "sp", &command, &job) < 0)
            break; //  interrupted
        bool stop = !command || streq (command, "$TERM");
        bool act = !stop && streq (command, "JOB") && job;
        zstr_free (&command);
        if (stop)
            break;
        if (act) {
            s_act (&self, job);
            zsock_send (pipe, "p", job);
        }
    }
    pmo_client_destroy (&self.allocator);
    pmo_client_destroy (&self.riskmon);
}
