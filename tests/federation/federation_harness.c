/*  federation_harness.c: a hub and spokes on one machine (see the header). */
#include "federation_harness.h"
#include "pmo_log.h"
#include "pmo_util.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

//  A keypair saved as DIR/NAME.key and DIR/NAME.key_secret; the public file
//  also goes to public_dir (if not NULL) with the spoke's metadata.
static void s_keypair (const char *dir, const char *name, const char *divisions,
                       const char *public_dir, char *secret_path, size_t size, char *public_txt)
{
    zcert_t *cert = zcert_new ();
    assert (cert);
    if (divisions) {
        zcert_set_meta (cert, "spoke", "%s", name);
        zcert_set_meta (cert, "divisions", "%s", divisions);
    }
    char path[400];
    snprintf (path, sizeof path, "%s/%s.key", dir, name);
    assert (zcert_save (cert, path) == 0);
    snprintf (secret_path, size, "%s_secret", path);
    if (public_dir) {
        snprintf (path, sizeof path, "%s/%s.key", public_dir, name);
        assert (zcert_save_public (cert, path) == 0);
    }
    if (public_txt)
        snprintf (public_txt, 41, "%s", zcert_public_txt (cert));
    zcert_destroy (&cert);
}

void fh_hub_start (fh_t *self)
{
    self->config.failed = false;
    self->hub = zactor_new (federation_hub_actor, &self->config);
    assert (self->hub && !self->config.failed);
}

void fh_hub_stop (fh_t *self)
{
    zactor_destroy (&self->hub);
}

void fh_uplink_start (fh_t *self, size_t i)
{
    fh_spoke_t *spoke = &self->spokes[i];
    spoke->config.failed = false;
    spoke->uplink = zactor_new (federation_uplink_actor, &spoke->config);
    assert (spoke->uplink && !spoke->config.failed);
}

void fh_uplink_stop (fh_t *self, size_t i)
{
    zactor_destroy (&self->spokes[i].uplink);
}

fh_t *fh_start (const char *const *names, size_t n)
{
    assert (n <= FH_MAX_SPOKES);
    fh_t *self = calloc (1, sizeof (fh_t));
    assert (self);
    snprintf (self->dir, sizeof self->dir, "/tmp/pmo-fed-XXXXXX");
    assert (mkdtemp (self->dir));
    snprintf (self->spokes_dir, sizeof self->spokes_dir, "%s/spokes", self->dir);
    assert (mkdir (self->spokes_dir, 0700) == 0);
    s_keypair (self->dir, "hub", NULL, NULL, self->hub_cert, sizeof self->hub_cert,
               self->hub_public);
    s_keypair (self->dir, "rogue", NULL, NULL, self->rogue_cert, sizeof self->rogue_cert, NULL);

    self->hub_stack = rh_start ();
    Pmo__RegistryReply *reply = rh_unit (self->hub_stack, "hub", "enterprise", NULL, "controlling");
    rh_ok (reply);
    rh_free (&reply);
    snprintf (self->spoke_endpoint, sizeof self->spoke_endpoint, "tcp://127.0.0.1:%d",
              pmo_test_free_port ());
    snprintf (self->endpoint, sizeof self->endpoint, "tcp://127.0.0.1:%d", pmo_test_free_port ());
    snprintf (self->pub, sizeof self->pub, "tcp://127.0.0.1:%d", pmo_test_free_port ());
    for (size_t i = 0; i < n; i++) {
        fh_spoke_t *spoke = &self->spokes[i];
        snprintf (spoke->name, sizeof spoke->name, "%s", names[i]);
        s_keypair (self->dir, spoke->name, spoke->name, self->spokes_dir, spoke->cert,
                   sizeof spoke->cert, NULL);
        spoke->stack = rh_start ();
        spoke->config = (federation_uplink_config_t){
            .spoke = spoke->name,
            .divisions = spoke->name,
            .redis_url = pmo_test_redis_url (spoke->stack->redis),
            .hub_endpoint = self->spoke_endpoint,
            .hub_key = self->hub_public,
            .cert = spoke->cert,
            .registry = spoke->stack->endpoint,
            .hub = "hub",
            .consumer = "uplink",
            .batch = 500,
            .timeout_ms = 2000,
            .redis_timeout_ms = 2000, //  as registry_harness.c: outlasts a slow command
        };
    }
    self->n_spokes = n;
    self->config = (federation_hub_config_t){
        .hub = "hub",
        .spoke_endpoint = self->spoke_endpoint,
        .endpoint = self->endpoint,
        .pub_endpoint = self->pub,
        .redis_url = pmo_test_redis_url (self->hub_stack->redis),
        .registry = self->hub_stack->endpoint,
        .registry_pub = self->hub_stack->pub,
        .cert = self->hub_cert,
        .spokes_dir = self->spokes_dir,
        .lag_ms = 2000,
        .down_ms = 1500,
        .redis_timeout_ms = 2000, //  as registry_harness.c: outlasts a slow command
    };
    fh_hub_start (self);
    for (size_t i = 0; i < n; i++)
        fh_uplink_start (self, i);
    self->admin = pmo_client_new (self->endpoint);
    assert (self->admin);
    fh_as (self, PMO__ROLE__ROLE_PMO_DIRECTOR, "hub");
    return self;
}

void fh_stop (fh_t **self_p)
{
    fh_t *self = *self_p;
    if (!self)
        return;
    for (size_t i = 0; i < self->n_spokes; i++) {
        fh_uplink_stop (self, i);
        ah_t *alloc = self->spokes[i].alloc;
        if (alloc) {
            //  Its Redis and registry are the spoke's: stopped just below
            pmo_client_destroy (&alloc->client);
            ah_actor_stop (alloc);
            free (alloc);
        }
        rh_stop (&self->spokes[i].stack);
    }
    pmo_client_destroy (&self->admin);
    fh_hub_stop (self);
    rh_stop (&self->hub_stack);
    char command[600];
    snprintf (command, sizeof command, "rm -rf '%s'", self->dir);
    if (system (command) != 0)
        fprintf (stderr, "harness: could not remove %s\n", self->dir);
    free (self);
    *self_p = NULL;
}

void fh_xdiv_start (fh_t *self)
{
    for (size_t i = 0; i < self->n_spokes; i++) {
        fh_spoke_t *spoke = &self->spokes[i];
        ah_t *alloc = calloc (1, sizeof (ah_t));
        assert (alloc);
        alloc->rh = spoke->stack;
        snprintf (alloc->endpoint, sizeof alloc->endpoint, "tcp://127.0.0.1:%d",
                  pmo_test_free_port ());
        snprintf (alloc->pub, sizeof alloc->pub, "tcp://127.0.0.1:%d", pmo_test_free_port ());
        ah_actor_start (alloc);
        alloc->client = pmo_client_new (alloc->endpoint);
        assert (alloc->client);
        ah_as (alloc, "admin@test", "admin@hub");
        spoke->alloc = alloc;
        fh_uplink_stop (self, i);
        spoke->config.allocator = alloc->endpoint;
        fh_uplink_start (self, i);
    }
}

void fh_spoke_ready (fh_t *self, size_t i, int timeout_ms)
{
    fh_spoke_ready_typed (self, i, NULL, timeout_ms);
}

void fh_spoke_ready_typed (fh_t *self, size_t i, const char *pmo_type, int timeout_ms)
{
    fh_spoke_t *spoke = &self->spokes[i];
    int64_t deadline = pmo_mono_ms () + timeout_ms;
    bool ready = false;
    while (!ready && pmo_mono_ms () < deadline) {
        Pmo__RegistryReply *reply =
            rh_get (spoke->stack, PMO__ENTITY_KIND__ENTITY_KIND_ORG_UNIT, "hub");
        ready = reply->error == NULL;
        rh_free (&reply);
        if (!ready)
            zclock_sleep (50);
    }
    if (!ready) {
        fprintf (stderr, "harness: spoke %s never got the hub unit from the hub policy\n",
                 spoke->name);
        abort ();
    }
    Pmo__RegistryReply *reply = rh_unit (spoke->stack, spoke->name, "division", "hub", pmo_type);
    rh_ok (reply);
    rh_free (&reply);
}

void fh_as (fh_t *self, Pmo__Role role, const char *unit)
{
    snprintf (self->grant_unit, sizeof self->grant_unit, "%s", unit);
    pmo__grant__init (&self->grant);
    self->grant.role = role;
    self->grant.org_unit = self->grant_unit;
    self->grant_ptr = &self->grant;
    pmo__identity__init (&self->identity);
    self->identity.subject = "tester@hub";
    self->identity.grants = &self->grant_ptr;
    self->identity.n_grants = 1;
}

Pmo__HubReply *fh_call (fh_t *self, Pmo__HubRequest *request)
{
    Pmo__Header header;
    char request_id[40];
    pmo_header_init (&header, request_id, 5000, &self->identity);
    request->header = &header;
    ProtobufCMessage *reply = NULL;
    int rc =
        pmo_client_call (self->admin, &request->base, &pmo__hub_reply__descriptor, 3000, 2, &reply);
    request->header = NULL;
    if (rc) {
        fprintf (stderr, "harness: the hub did not answer %s\n",
                 pmo_wire_oneof_name (&request->base));
        abort ();
    }
    return (Pmo__HubReply *)reply;
}

Pmo__HubReply *fh_rollup (fh_t *self, const char *division, const char *list_kind)
{
    Pmo__EnterpriseRollupRequest ask = PMO__ENTERPRISE_ROLLUP_REQUEST__INIT;
    ask.division = (char *)(division ? division : "");
    ask.list_kind = (char *)(list_kind ? list_kind : "");
    ask.limit = 500;
    Pmo__HubRequest request = PMO__HUB_REQUEST__INIT;
    request.body_case = PMO__HUB_REQUEST__BODY_ROLLUP;
    request.rollup = &ask;
    return fh_call (self, &request);
}

Pmo__HubReply *fh_spokes (fh_t *self)
{
    Pmo__SpokesRequest ask = PMO__SPOKES_REQUEST__INIT;
    Pmo__HubRequest request = PMO__HUB_REQUEST__INIT;
    request.body_case = PMO__HUB_REQUEST__BODY_SPOKES;
    request.spokes = &ask;
    return fh_call (self, &request);
}

uint64_t fh_event_count (const Pmo__DivisionRollup *rollup, const char *type)
{
    for (size_t i = 0; i < rollup->n_events; i++)
        if (strcmp (rollup->events[i]->key, type) == 0)
            return rollup->events[i]->value;
    return 0;
}

long fh_hub_projects (fh_t *self, const char *division)
{
    Pmo__HubReply *reply = fh_rollup (self, division, NULL);
    long projects = -1;
    if (!reply->error && reply->rollup && reply->rollup->n_divisions == 1)
        projects = (long)reply->rollup->divisions[0]->projects;
    protobuf_c_message_free_unpacked (&reply->base, NULL);
    return projects;
}

long fh_wait_projects (fh_t *self, const char *division, long want, int timeout_ms)
{
    int64_t deadline = pmo_mono_ms () + timeout_ms;
    long have = fh_hub_projects (self, division);
    while (have != want && pmo_mono_ms () < deadline) {
        zclock_sleep (50);
        have = fh_hub_projects (self, division);
    }
    return have;
}

void fh_projects (fh_t *self, size_t i, const char *prefix, int from, int count)
{
    fh_spoke_t *spoke = &self->spokes[i];
    for (int k = from; k < from + count; k++) {
        char code[40];
        snprintf (code, sizeof code, "%s-%04d", prefix, k);
        Pmo__RegistryReply *reply = rh_project (spoke->stack, code, spoke->name);
        rh_ok (reply);
        rh_free (&reply);
    }
}
