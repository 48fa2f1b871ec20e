/*  allocator_harness.c: a real allocator (Redis + registry + actor + client)
    for tests. */
#include "allocator_harness.h"
#include "pmo_json.h"
#include "pmo_log.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void s_config (ah_t *self, allocator_config_t *config, const char *endpoint, const char *pub)
{
    *config = (allocator_config_t){
        .endpoint = endpoint,
        .pub_endpoint = pub,
        .redis_url = pmo_test_redis_url (self->rh->redis),
        .registry = self->rh->endpoint,
        .hub = "hub",
        .redis_timeout_ms = 2000,
        .registry_timeout_ms = 500,
        .registry_cache_ms = 200,
        .fte_hours = 40,
    };
}

void ah_actor_start (ah_t *self)
{
    s_config (self, &self->config, self->endpoint, self->pub);
    self->actor = pmo_test_actor_new (allocator_server_actor, &self->config, &self->config.failed);
    if (!self->actor) {
        fprintf (stderr, "harness: the allocator cannot bind %s\n", self->endpoint);
        abort ();
    }
}

void ah_actor_stop (ah_t *self)
{
    //  Returns once its ports can be bound again (by a restarted actor or a
    //  service binary the test starts on them)
    const char *const endpoints[] = {self->endpoint, self->pub, NULL};
    int rc = pmo_test_actor_destroy (&self->actor, endpoints);
    assert (rc == 0);
    (void)rc;
}

zactor_t *ah_replica (ah_t *self, char *endpoint, size_t size)
{
    static char pub[64];
    static allocator_config_t config;
    snprintf (endpoint, size, "tcp://127.0.0.1:%d", pmo_test_free_port ());
    snprintf (pub, sizeof pub, "tcp://127.0.0.1:%d", pmo_test_free_port ());
    s_config (self, &config, endpoint, pub);
    zactor_t *actor = zactor_new (allocator_server_actor, &config);
    assert (actor && !config.failed);
    return actor;
}

ah_t *ah_start (void)
{
    ah_t *self = calloc (1, sizeof (ah_t));
    assert (self);
    self->rh = rh_start ();
    snprintf (self->endpoint, sizeof self->endpoint, "tcp://127.0.0.1:%d", pmo_test_free_port ());
    snprintf (self->pub, sizeof self->pub, "tcp://127.0.0.1:%d", pmo_test_free_port ());
    ah_actor_start (self);
    self->client = pmo_client_new (self->endpoint);
    assert (self->client);
    ah_as (self, "admin@test", "admin@hub");
    return self;
}

void ah_stop (ah_t **self_p)
{
    ah_t *self = *self_p;
    if (!self)
        return;
    pmo_client_destroy (&self->client);
    ah_actor_stop (self);
    rh_stop (&self->rh);
    free (self);
    *self_p = NULL;
}

void ah_as (ah_t *self, const char *subject, const char *grants)
{
    snprintf (self->subject, sizeof self->subject, "%s", subject);
    pmo__identity__init (&self->identity);
    self->identity.subject = self->subject;
    self->identity.grants = self->grant_ptrs;
    char copy[256];
    snprintf (copy, sizeof copy, "%s", grants ? grants : "");
    char *save = NULL;
    for (char *one = strtok_r (copy, ",", &save); one && self->identity.n_grants < 8;
         one = strtok_r (NULL, ",", &save)) {
        size_t i = self->identity.n_grants++;
        char *at = strchr (one, '@');
        assert (at);
        *at = 0;
        int role;
        if (pmo_json_enum_parse (&pmo__role__descriptor, one, &role)) {
            fprintf (stderr, "harness: unknown role '%s'\n", one);
            abort ();
        }
        snprintf (self->units[i], sizeof self->units[i], "%s", at + 1);
        pmo__grant__init (&self->grants[i]);
        self->grants[i].role = (Pmo__Role)role;
        self->grants[i].org_unit = self->units[i];
        self->grant_ptrs[i] = &self->grants[i];
    }
}

static Pmo__AllocatorRequest *s_decode (const char *json)
{
    ProtobufCMessage *msg = NULL;
    pmo_json_error_t err;
    if (pmo_json_decode (&pmo__allocator_request__descriptor, json, strlen (json), &msg, &err)) {
        fprintf (stderr, "harness: bad request JSON at '%s': %s\n%s\n", err.field, err.message,
                 json);
        abort ();
    }
    return (Pmo__AllocatorRequest *)msg;
}

uint8_t *ah_pack (ah_t *self, const char *json, size_t *size)
{
    Pmo__AllocatorRequest *request = s_decode (json);
    Pmo__Header header;
    pmo_header_init (&header, self->request_id, 10000, &self->identity);
    request->header = &header;
    *size = protobuf_c_message_get_packed_size (&request->base);
    uint8_t *buffer = malloc (*size);
    assert (buffer);
    protobuf_c_message_pack (&request->base, buffer);
    request->header = NULL;
    protobuf_c_message_free_unpacked (&request->base, NULL);
    return buffer;
}

static Pmo__AllocatorReply *s_call (ah_t *self, const char *request_id, const char *json)
{
    Pmo__AllocatorRequest *request = s_decode (json);
    Pmo__Header header;
    pmo_header_init (&header, self->request_id, 10000, &self->identity);
    if (request_id) {
        snprintf (self->request_id, sizeof self->request_id, "%s", request_id);
        header.request_id = self->request_id;
    }
    request->header = &header;
    ProtobufCMessage *reply = NULL;
    int rc = pmo_client_call (self->client, &request->base, &pmo__allocator_reply__descriptor, 8000,
                              1, &reply);
    request->header = NULL;
    protobuf_c_message_free_unpacked (&request->base, NULL);
    if (rc) {
        fprintf (stderr, "harness: no reply to %s\n", json);
        abort ();
    }
    return (Pmo__AllocatorReply *)reply;
}

Pmo__AllocatorReply *ah_call (ah_t *self, const char *format, ...)
{
    va_list args;
    va_start (args, format);
    char *json = NULL;
    int rc = vasprintf (&json, format, args);
    va_end (args);
    assert (rc >= 0);
    Pmo__AllocatorReply *reply = s_call (self, NULL, json);
    free (json);
    return reply;
}

Pmo__AllocatorReply *ah_call_with_id (ah_t *self, const char *request_id, const char *format, ...)
{
    va_list args;
    va_start (args, format);
    char *json = NULL;
    int rc = vasprintf (&json, format, args);
    va_end (args);
    assert (rc >= 0);
    Pmo__AllocatorReply *reply = s_call (self, request_id, json);
    free (json);
    return reply;
}

void ah_free (Pmo__AllocatorReply **reply_p)
{
    if (*reply_p)
        protobuf_c_message_free_unpacked (&(*reply_p)->base, NULL);
    *reply_p = NULL;
}

void ah_ok_at (Pmo__AllocatorReply *reply, const char *where, int line)
{
    pmo_test_reply_ok_at (&reply->base, where, line);
}

void ah_err_at (Pmo__AllocatorReply *reply, Pmo__ErrorCode code, const char *field,
                const char *where, int line)
{
    pmo_test_reply_err_at (&reply->base, code, field, where, line);
}

void ah_unit (ah_t *self, const char *id, const char *kind, const char *parent,
              const char *pmo_type)
{
    Pmo__RegistryReply *reply = rh_unit (self->rh, id, kind, parent, pmo_type);
    rh_ok (reply);
    rh_free (&reply);
}

void ah_project (ah_t *self, const char *code, const char *unit, uint32_t priority, char *id)
{
    Pmo__Project project = PMO__PROJECT__INIT;
    project.code = (char *)code;
    project.name = (char *)code;
    project.org_unit = (char *)unit;
    project.priority = priority;
    Pmo__RegistryRequest request = PMO__REGISTRY_REQUEST__INIT;
    request.body_case = PMO__REGISTRY_REQUEST__BODY_CREATE_PROJECT;
    request.create_project = &project;
    Pmo__RegistryReply *reply = rh_call (self->rh, &request);
    rh_ok (reply);
    snprintf (id, 40, "%s", reply->project->id);
    rh_free (&reply);
}

const char *ah_resource (ah_t *self, const char *name, const char *unit, const char *role,
                         uint32_t capacity, const char *skills_json, int64_t cost_minor)
{
    static char id[40];
    Pmo__AllocatorReply *reply = ah_call (
        self,
        "{\"create_resource\":{\"name\":\"%s\",\"home_org_unit\":\"%s\",\"role\":\"%s\","
        "\"weekly_capacity_hours\":%u,\"skills\":%s,"
        "\"cost_rate\":{\"minor\":%lld,\"currency\":\"GBP\"}}}",
        name, unit, role, capacity, skills_json ? skills_json : "[]", (long long)cost_minor);
    ah_ok (reply);
    snprintf (id, sizeof id, "%s", reply->resource->id);
    ah_free (&reply);
    return id;
}
