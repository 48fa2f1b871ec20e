/*  gateway_orgs.c: a snapshot of the org-unit tree from the registry. */
#include "gateway_orgs.h"

#include "pmo_log.h"
#include "pmo_util.h"
#include "pmo_wire.h"
#include "registry.pb-c.h"

#include <assert.h>
#include <string.h>

typedef struct {
    char *id;       //  unit id
    char *path;     //  "hub/dft/dft-rail"
    char *division; //  the division it belongs to (the hub for the hub)
} unit_t;

struct _gateway_orgs_t {
    unit_t *units; //  every unit, archived ones too (paths do not change)
    size_t n_units;
    char **divisions; //  distinct divisions, NULL-terminated
    size_t n_divisions;
    int64_t made_ms; //  monotonic
};

gateway_orgs_t *gateway_orgs_fetch (pmo_client_t *registry, const Pmo__Identity *who,
                                    int timeout_ms)
{
    Pmo__RegistryRequest request = PMO__REGISTRY_REQUEST__INIT;
    Pmo__ListRequest list = PMO__LIST_REQUEST__INIT;
    list.kind = PMO__ENTITY_KIND__ENTITY_KIND_ORG_UNIT;
    list.include_archived = true;
    request.body_case = PMO__REGISTRY_REQUEST__BODY_LIST;
    request.list = &list;
    Pmo__Header header;
    char request_id[40];
    pmo_header_init (&header, request_id, timeout_ms, (Pmo__Identity *)who);
    request.header = &header;
    ProtobufCMessage *answer = NULL;
    if (pmo_client_call (registry, &request.base, &pmo__registry_reply__descriptor, timeout_ms, 1,
                         &answer))
        return NULL;
    gateway_orgs_t *self = gateway_orgs_from_reply ((Pmo__RegistryReply *)answer);
    protobuf_c_message_free_unpacked (answer, NULL);
    return self;
}

gateway_orgs_t *gateway_orgs_from_reply (const Pmo__RegistryReply *reply)
{
    if (reply->error || reply->body_case != PMO__REGISTRY_REPLY__BODY_PAGE) {
        pmo_warn ("gateway: org units not readable error=\"%s\"",
                  reply->error ? reply->error->message : "no page");
        return NULL;
    }
    Pmo__Page *page = reply->page;
    gateway_orgs_t *self = calloc (1, sizeof (gateway_orgs_t));
    assert (self);
    self->units = calloc (page->n_org_units + 1, sizeof (unit_t));
    self->divisions = calloc (page->n_org_units + 1, sizeof (char *));
    assert (self->units && self->divisions);
    for (size_t i = 0; i < page->n_org_units; i++) {
        Pmo__OrgUnit *unit = page->org_units[i];
        unit_t *u = &self->units[self->n_units++];
        u->id = strdup (unit->id);
        u->path = strdup (unit->path);
        u->division = strdup (unit->division);
        assert (u->id && u->path && u->division);
        bool known = false;
        for (size_t d = 0; d < self->n_divisions && !known; d++)
            known = strcmp (self->divisions[d], u->division) == 0;
        if (!known)
            self->divisions[self->n_divisions++] = u->division;
    }
    self->made_ms = pmo_mono_ms ();
    return self;
}

void gateway_orgs_destroy (gateway_orgs_t **self_p)
{
    assert (self_p);
    gateway_orgs_t *self = *self_p;
    if (!self)
        return;
    for (size_t i = 0; i < self->n_units; i++) {
        free (self->units[i].id);
        free (self->units[i].path);
        free (self->units[i].division);
    }
    free (self->units);
    free (self->divisions);
    free (self);
    *self_p = NULL;
}

int64_t gateway_orgs_made (const gateway_orgs_t *self)
{
    return self->made_ms;
}

static const unit_t *s_find (const gateway_orgs_t *self, const char *unit)
{
    for (size_t i = 0; unit && i < self->n_units; i++)
        if (strcmp (self->units[i].id, unit) == 0)
            return &self->units[i];
    return NULL;
}

const char *gateway_orgs_path (const gateway_orgs_t *self, const char *unit)
{
    const unit_t *u = s_find (self, unit);
    return u ? u->path : NULL;
}

const char *gateway_orgs_division (const gateway_orgs_t *self, const char *unit)
{
    const unit_t *u = s_find (self, unit);
    return u ? u->division : NULL;
}

const char *gateway_orgs_division_at (const gateway_orgs_t *self, size_t i)
{
    return i < self->n_divisions ? self->divisions[i] : NULL;
}
