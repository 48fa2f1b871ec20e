/*  riskmon_harness.c: a real risk monitor (Redis + registry + actor) for tests. */
#include "riskmon_harness.h"
#include "pmo_log.h"
#include "pmo_util.h"

#include <assert.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static _Atomic int64_t s_offset_ms;

static int64_t s_clock (void *ctx)
{
    (void)ctx;
    return pmo_now_ms () + atomic_load (&s_offset_ms);
}

void rm_advance_ms (int64_t ms)
{
    atomic_fetch_add (&s_offset_ms, ms);
}

int64_t rm_now (void)
{
    return s_clock (NULL);
}

const char *rm_date (int days, int slot)
{
    static char dates[8][16];
    time_t t = (time_t)((rm_now () + (int64_t)days * 86400000) / 1000);
    struct tm tm;
    gmtime_r (&t, &tm);
    strftime (dates[slot & 7], sizeof dates[0], "%Y-%m-%d", &tm);
    return dates[slot & 7];
}

void rm_actor_start (rm_t *self)
{
    self->actor = pmo_test_actor_new (riskmon_server_actor, &self->config, &self->config.failed);
    assert (self->actor);
}

void rm_actor_stop (rm_t *self)
{
    //  Returns once its ports can be bound again (by a restarted actor or a
    //  service binary the test starts on them)
    const char *const endpoints[] = {self->endpoint, self->pub, NULL};
    int rc = pmo_test_actor_destroy (&self->actor, endpoints);
    assert (rc == 0);
    (void)rc;
}

rm_t *rm_start (void)
{
    rm_t *self = calloc (1, sizeof (rm_t));
    assert (self);
    self->rh = rh_start ();
    snprintf (self->endpoint, sizeof self->endpoint, "tcp://127.0.0.1:%d", pmo_test_free_port ());
    snprintf (self->pub, sizeof self->pub, "tcp://127.0.0.1:%d", pmo_test_free_port ());
    self->config = (riskmon_config_t){
        .endpoint = self->endpoint,
        .pub_endpoint = self->pub,
        .redis_url = pmo_test_redis_url (self->rh->redis),
        .hub = "hub",
        .registry = self->rh->endpoint,
        .consumer = "riskmon-test",
        .redis_timeout_ms = 1000,
        .claim_idle_ms = 1000,
        .tick_ms = 50,
        .batch = 256,
        .clock = s_clock,
    };
    rm_actor_start (self);
    self->client = pmo_client_new (self->endpoint);
    assert (self->client);
    return self;
}

void rm_stop (rm_t **self_p)
{
    rm_t *self = *self_p;
    if (!self)
        return;
    pmo_client_destroy (&self->client);
    rm_actor_stop (self);
    rh_stop (&self->rh);
    free (self);
    *self_p = NULL;
}

Pmo__RiskmonReply *rm_call_with_id (rm_t *self, Pmo__RiskmonRequest *request,
                                    const char *request_id)
{
    Pmo__Header header;
    char id[40];
    pmo_header_init (&header, id, 10000, &self->rh->identity);
    if (request_id && *request_id)
        header.request_id = (char *)request_id;
    request->header = &header;
    ProtobufCMessage *reply = NULL;
    int rc = pmo_client_call (self->client, &request->base, &pmo__riskmon_reply__descriptor, 8000,
                              1, &reply);
    request->header = NULL;
    if (rc) {
        fprintf (stderr, "harness: no reply from riskmon to %s\n",
                 pmo_wire_oneof_name (&request->base));
        abort ();
    }
    return (Pmo__RiskmonReply *)reply;
}

Pmo__RiskmonReply *rm_call (rm_t *self, Pmo__RiskmonRequest *request)
{
    return rm_call_with_id (self, request, NULL);
}

void rm_free (Pmo__RiskmonReply **reply_p)
{
    if (*reply_p)
        protobuf_c_message_free_unpacked (&(*reply_p)->base, NULL);
    *reply_p = NULL;
}

void rm_ok_at (Pmo__RiskmonReply *reply, const char *where, int line)
{
    pmo_test_reply_ok_at (&reply->base, where, line);
}

void rm_err_at (Pmo__RiskmonReply *reply, Pmo__ErrorCode code, const char *field, const char *where,
                int line)
{
    pmo_test_reply_err_at (&reply->base, code, field, where, line);
}

Pmo__RiskmonReply *rm_health (rm_t *self, const char *project_id)
{
    Pmo__HealthRequest health = PMO__HEALTH_REQUEST__INIT;
    health.project_id = (char *)project_id;
    health.with_history = true;
    Pmo__RiskmonRequest request = PMO__RISKMON_REQUEST__INIT;
    request.body_case = PMO__RISKMON_REQUEST__BODY_HEALTH;
    request.health = &health;
    return rm_call (self, &request);
}

Pmo__RiskmonReply *rm_wait_health (rm_t *self, const char *project_id, uint64_t seq, Pmo__Rag rag)
{
    Pmo__RiskmonReply *reply = NULL;
    for (int i = 0; i < 250; i++) {
        reply = rm_health (self, project_id);
        rm_ok (reply);
        const Pmo__HealthAssessment *a = reply->health->current;
        if (a && a->seq >= seq && a->overall == rag)
            return reply;
        rm_free (&reply);
        zclock_sleep (20);
    }
    reply = rm_health (self, project_id);
    const Pmo__HealthAssessment *a = reply->health->current;
    fprintf (stderr, "harness: %s never reached seq %llu %d; it is seq %llu overall %d\n",
             project_id, (unsigned long long)seq, rag, a ? (unsigned long long)a->seq : 0ULL,
             a ? (int)a->overall : -1);
    for (size_t i = 0; a && i < a->n_fired; i++)
        fprintf (stderr, "  fired %s %s: %s\n", a->fired[i]->rule, a->fired[i]->dimension,
                 a->fired[i]->detail);
    abort ();
}

size_t rm_count_events (rm_t *self, const char *division, const char *type, const char *project_id)
{
    size_t count = 0;
    char after[64] = "-";
    while (true) {
        redisReply *reply = pmo_test_redis_command (
            self->rh->redis, "XRANGE pmo:{%s}:events %s + COUNT 1000", division, after);
        assert (reply && reply->type == REDIS_REPLY_ARRAY);
        size_t n = reply->elements;
        for (size_t i = 0; i < n; i++) {
            redisReply *entry = reply->element[i];
            redisReply *fields = entry->element[1];
            const char *t = NULL;
            const char *data = NULL;
            size_t size = 0;
            for (size_t f = 0; f + 1 < fields->elements; f += 2) {
                if (streq (fields->element[f]->str, "type"))
                    t = fields->element[f + 1]->str;
                else if (streq (fields->element[f]->str, "data")) {
                    data = fields->element[f + 1]->str;
                    size = fields->element[f + 1]->len;
                }
            }
            if (type && (!t || !streq (t, type)))
                continue;
            if (project_id) {
                Pmo__Event *event = pmo__event__unpack (NULL, size, (const uint8_t *)data);
                assert (event);
                const char *pid = event->entity_id;
                if (event->body_case == PMO__EVENT__BODY_ALERT)
                    pid = event->alert->project_id;
                bool match = streq (pid, project_id);
                pmo__event__free_unpacked (event, NULL);
                if (!match)
                    continue;
            }
            count++;
        }
        if (n)
            snprintf (after, sizeof after, "(%s", reply->element[n - 1]->element[0]->str);
        freeReplyObject (reply);
        if (n < 1000)
            break;
    }
    return count;
}

void rm_xadd (rm_t *self, const char *division, Pmo__Event *event)
{
    size_t size = pmo__event__get_packed_size (event);
    uint8_t *blob = malloc (size + 1);
    pmo__event__pack (event, blob);
    redisReply *reply =
        pmo_test_redis_command (self->rh->redis, "XADD pmo:{%s}:events * type %s data %b", division,
                                event->type, blob, size);
    assert (reply && reply->type == REDIS_REPLY_STRING);
    freeReplyObject (reply);
    free (blob);
}
