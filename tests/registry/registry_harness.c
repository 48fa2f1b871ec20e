/*  registry_harness.c: a real registry (Redis + actor + client) for tests. */
#include "registry_harness.h"
#include "pmo_json.h"
#include "pmo_log.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void rh_actor_start (rh_t *self)
{
    self->actor = pmo_test_actor_new (registry_server_actor, &self->config, &self->config.failed);
    assert (self->actor);
}

void rh_actor_stop (rh_t *self)
{
    //  Returns once its ports can be bound again (by a restarted actor or a
    //  service binary the test starts on them)
    const char *const endpoints[] = {self->endpoint, self->pub, NULL};
    int rc = pmo_test_actor_destroy (&self->actor, endpoints);
    assert (rc == 0);
    (void)rc;
}

rh_t *rh_start (void)
{
    pmo_log_init ("test", getenv ("PMO_TEST_VERBOSE") ? "debug" : "error");
    rh_t *self = calloc (1, sizeof (rh_t));
    assert (self);
    self->redis = pmo_test_redis_start (false);
    assert (self->redis);
    snprintf (self->endpoint, sizeof self->endpoint, "tcp://127.0.0.1:%d", pmo_test_free_port ());
    snprintf (self->pub, sizeof self->pub, "tcp://127.0.0.1:%d", pmo_test_free_port ());
    self->config = (registry_config_t){
        .endpoint = self->endpoint,
        .pub_endpoint = self->pub,
        .redis_url = pmo_test_redis_url (self->redis),
        .hub = "hub",
        //  No test here stalls Redis (the fault tests kill it, which is
        //  refused at once), so the deadline only has to outlast a slow
        //  command on a loaded machine: at 500 ms, a read of test_federation
        //  answered "unavailable" once at load ~12
        .redis_timeout_ms = 2000,
    };
    rh_actor_start (self);
    self->client = pmo_client_new (self->endpoint);
    assert (self->client);
    rh_as (self, "admin@test", "admin@hub");
    return self;
}

void rh_stop (rh_t **self_p)
{
    rh_t *self = *self_p;
    if (!self)
        return;
    pmo_client_destroy (&self->client);
    rh_actor_stop (self);
    pmo_test_redis_destroy (&self->redis);
    free (self);
    *self_p = NULL;
}

void rh_as (rh_t *self, const char *subject, const char *grants)
{
    snprintf (self->subject, sizeof self->subject, "%s", subject);
    pmo__identity__init (&self->identity);
    self->identity.subject = self->subject;
    self->identity.grants = self->grant_ptrs;
    self->identity.n_grants = 0;
    static char units[8][40];
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
        snprintf (units[i], sizeof units[i], "%s", at + 1);
        pmo__grant__init (&self->grants[i]);
        self->grants[i].role = (Pmo__Role)role;
        self->grants[i].org_unit = units[i];
        self->grant_ptrs[i] = &self->grants[i];
    }
}

Pmo__RegistryReply *rh_call_with_id (rh_t *self, Pmo__RegistryRequest *request,
                                     const char *request_id)
{
    Pmo__Header header;
    //  The deadline outlives the wait below, under valgrind too
    pmo_header_init (&header, self->request_id, 30000, &self->identity);
    if (request_id && *request_id) {
        snprintf (self->request_id, sizeof self->request_id, "%s", request_id);
        header.request_id = self->request_id;
    }
    request->header = &header;
    ProtobufCMessage *reply = NULL;
    //  (valgrind on a loaded machine: a first request has taken over 3 s)
    int rc = pmo_client_call (self->client, &request->base, &pmo__registry_reply__descriptor,
                              getenv ("PMO_UNDER_VALGRIND") ? 12000 : 3000, 1, &reply);
    request->header = NULL;
    if (rc) {
        fprintf (stderr, "harness: no reply to %s\n", pmo_wire_oneof_name (&request->base));
        abort ();
    }
    return (Pmo__RegistryReply *)reply;
}

Pmo__RegistryReply *rh_call (rh_t *self, Pmo__RegistryRequest *request)
{
    return rh_call_with_id (self, request, NULL);
}

void rh_free (Pmo__RegistryReply **reply_p)
{
    if (*reply_p)
        protobuf_c_message_free_unpacked (&(*reply_p)->base, NULL);
    *reply_p = NULL;
}

void rh_ok_at (Pmo__RegistryReply *reply, const char *where, int line)
{
    pmo_test_reply_ok_at (&reply->base, where, line);
}

void rh_err_at (Pmo__RegistryReply *reply, Pmo__ErrorCode code, const char *field,
                const char *where, int line)
{
    pmo_test_reply_err_at (&reply->base, code, field, where, line);
}

static int s_enum (const ProtobufCEnumDescriptor *desc, const char *label)
{
    int value = 0;
    if (label && *label && pmo_json_enum_parse (desc, label, &value)) {
        fprintf (stderr, "harness: bad %s '%s'\n", desc->short_name, label);
        abort ();
    }
    return value;
}

Pmo__RegistryReply *rh_unit (rh_t *self, const char *id, const char *kind, const char *parent,
                             const char *pmo_type)
{
    Pmo__OrgUnit unit = PMO__ORG_UNIT__INIT;
    unit.id = (char *)id;
    unit.name = (char *)id;
    unit.kind = s_enum (&pmo__org_unit_kind__descriptor, kind);
    unit.parent = (char *)(parent ? parent : "");
    unit.pmo_type = pmo_type ? s_enum (&pmo__pmo_type__descriptor, pmo_type) : 0;
    Pmo__RegistryRequest request = PMO__REGISTRY_REQUEST__INIT;
    request.body_case = PMO__REGISTRY_REQUEST__BODY_CREATE_ORG_UNIT;
    request.create_org_unit = &unit;
    return rh_call (self, &request);
}

Pmo__RegistryReply *rh_project (rh_t *self, const char *code, const char *unit)
{
    Pmo__Project project = PMO__PROJECT__INIT;
    project.code = (char *)code;
    project.name = (char *)code;
    project.org_unit = (char *)unit;
    Pmo__RegistryRequest request = PMO__REGISTRY_REQUEST__INIT;
    request.body_case = PMO__REGISTRY_REQUEST__BODY_CREATE_PROJECT;
    request.create_project = &project;
    return rh_call (self, &request);
}

Pmo__RegistryReply *rh_get (rh_t *self, Pmo__EntityKind kind, const char *id)
{
    Pmo__GetRequest get = PMO__GET_REQUEST__INIT;
    get.kind = kind;
    get.id = (char *)id;
    Pmo__RegistryRequest request = PMO__REGISTRY_REQUEST__INIT;
    request.body_case = PMO__REGISTRY_REQUEST__BODY_GET;
    request.get = &get;
    return rh_call (self, &request);
}
