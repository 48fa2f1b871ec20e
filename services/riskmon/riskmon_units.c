/*  riskmon_units.c: what the risk monitor knows of the org units: the
    streams it reads (one per division), the units themselves (orgtree:
    health computations use what the tree holds and never wait on the
    registry; requests ask it when the tree does not hold a unit fresh),
    the reporting period and PMO type in force along a path, and the
    health thresholds in force at a unit.
*/
#include "riskmon_internal.h"

#include "pmo_auth.h"
#include "pmo_log.h"
#include "pmo_reflect.h"

#include <assert.h>
#include <string.h>

#define THRESHOLDS_TTL_MS 2000 //  other replicas' threshold changes show within this

//  A heap copy of msg (freed with protobuf_c_message_free_unpacked).
static ProtobufCMessage *s_own_copy (const ProtobufCMessage *msg)
{
    size_t size = protobuf_c_message_get_packed_size (msg);
    uint8_t *buffer = malloc (size ? size : 1);
    assert (buffer);
    protobuf_c_message_pack (msg, buffer);
    ProtobufCMessage *copy = protobuf_c_message_unpack (msg->descriptor, NULL, size, buffer);
    free (buffer);
    assert (copy);
    return copy;
}

//  ---------------------------------------------------------------------
//  Streams

int riskmon_stream_add (riskmon_t *self, const char *division)
{
    for (size_t i = 0; i < self->n_streams; i++)
        if (streq (self->divisions[i], division))
            return 0;
    if (self->n_streams == MAX_STREAMS || !pmo_slug_valid (division, 1, 32))
        return -1;
    char key[96];
    if (pmo_stream_key_buf (key, sizeof key, division) ||
        riskmon_store_stream_open (self->store, division, GROUP))
        return -1;
    self->streams[self->n_streams] = strdup (key);
    assert (self->streams[self->n_streams]);
    self->sweep_at[self->n_streams] = 0;
    self->escalate_at[self->n_streams] = 0;
    self->divisions[self->n_streams++] = strdup (division);
    self->reader_streams_ok = false;
    pmo_info ("riskmon: reading stream=%s group=%s", key, GROUP);
    return 0;
}

//  ---------------------------------------------------------------------
//  Org units

//  The unit with id as the tree holds it, without asking the registry:
//  for the health computations, which must never wait on it. NULL if the
//  tree holds none. Valid until the next call on the tree that reads.
const Pmo__OrgUnit *riskmon_unit_held (riskmon_t *self, const char *id)
{
    return orgtree_held (self->tree, id);
}

//  The unit with id for a request (in arena): the registry is asked if the
//  tree does not hold it fresh (one it never held, one read before an
//  org-unit event or too long ago); if the registry does not answer, what
//  the tree held is used. NULL if there is no such unit.
const Pmo__OrgUnit *riskmon_unit_for (riskmon_t *self, pmo_arena_t *arena, const char *id)
{
    Pmo__OrgUnit *unit = NULL;
    int rc = orgtree_unit (self->tree, id, arena, &unit);
    if (rc >= 0)
        return rc ? unit : NULL;
    const Pmo__OrgUnit *held = riskmon_unit_held (self, id);
    return held ? (Pmo__OrgUnit *)pmo_reflect_copy (&held->base, arena) : NULL;
}

//  The stream of every division the tree knows, once the tree changed.
static void s_units_read (riskmon_t *self)
{
    if (orgtree_generation (self->tree) == self->units_generation)
        return;
    self->units_generation = orgtree_generation (self->tree);
    const char *division;
    for (size_t i = 0; (division = orgtree_division_at (self->tree, i)); i++)
        riskmon_stream_add (self, division);
}

void riskmon_units_sync (riskmon_t *self)
{
    //  A read under way on the DEALER is let go: the tree gathers the
    //  pages of one read at a time
    self->units_wait[0] = 0;
    int rc = orgtree_refresh (self->tree, false);
    self->units_next_ms = pmo_mono_ms () + (rc == 0 ? UNITS_REFRESH_MS : UNITS_RETRY_MS);
    s_units_read (self);
}

int riskmon_units_open (riskmon_t *self)
{
    self->units_dealer = zsock_new (ZMQ_DEALER);
    assert (self->units_dealer);
    //  Sent only to a registry that is connected (else tried again later);
    //  a page of units may be large
    zsock_set_immediate (self->units_dealer, 1);
    zsock_set_linger (self->units_dealer, 0);
    zsock_set_reconnect_ivl (self->units_dealer, 10);
    zsock_set_reconnect_ivl_max (self->units_dealer, 1000);
    zsock_set_maxmsgsize (self->units_dealer, PMO_MAX_MESSAGE * 4);
    char *list = strdup (self->config.registry), *save = NULL;
    assert (list);
    int rc = 0;
    for (char *ep = strtok_r (list, ",", &save); ep && rc == 0; ep = strtok_r (NULL, ",", &save))
        if (pmo_auth_client (self->units_dealer, ep) ||
            zsock_connect (self->units_dealer, "%s", ep))
            rc = -1;
    free (list);
    return rc;
}

//  Ask for a page of the org units (after cursor; NULL: the first).
static void s_units_ask (riskmon_t *self, const char *cursor)
{
    Pmo__ListRequest list;
    orgtree_list_page (self->tree, &list, cursor);
    Pmo__RegistryRequest request = PMO__REGISTRY_REQUEST__INIT;
    request.body_case = PMO__REGISTRY_REQUEST__BODY_LIST;
    request.list = &list;
    Pmo__Header header;
    pmo_header_init (&header, self->units_wait, UNITS_TIMEOUT_MS, &self->identity);
    request.header = &header;
    size_t size = protobuf_c_message_get_packed_size (&request.base);
    uint8_t *buffer = malloc (size);
    assert (buffer);
    protobuf_c_message_pack (&request.base, buffer);
    int rc = zmq_send (zsock_resolve (self->units_dealer), buffer, size, ZMQ_DONTWAIT);
    free (buffer);
    if (rc < 0) {
        //  No registry connected: nothing waits, it is asked again later
        self->units_wait[0] = 0;
        self->units_next_ms = pmo_mono_ms () + UNITS_RETRY_MS;
        return;
    }
    self->units_next_ms = pmo_mono_ms () + UNITS_TIMEOUT_MS; //  the reply's deadline
}

void riskmon_units_due (riskmon_t *self)
{
    if (*self->units_wait) {
        pmo_warn ("riskmon: the registry did not answer a list of org units within %d ms "
                  "endpoint=%s; asking again in %d ms",
                  UNITS_TIMEOUT_MS, self->config.registry, UNITS_RETRY_MS);
        self->units_wait[0] = 0;
        self->units_next_ms = pmo_mono_ms () + UNITS_RETRY_MS;
        return;
    }
    s_units_ask (self, NULL);
}

void riskmon_units_take (riskmon_t *self)
{
    void *handle = zsock_resolve (self->units_dealer);
    zmq_msg_t frame;
    zmq_msg_init (&frame);
    while (zmq_msg_recv (&frame, handle, ZMQ_DONTWAIT) >= 0) {
        Pmo__RegistryReply *reply =
            pmo__registry_reply__unpack (NULL, zmq_msg_size (&frame), zmq_msg_data (&frame));
        const Pmo__Header *header = reply ? pmo_wire_header (&reply->base) : NULL;
        //  Only the reply awaited: a late one (after its deadline or a
        //  read done meanwhile by riskmon_units_sync) is dropped
        if (*self->units_wait && header && header->request_id &&
            streq (header->request_id, self->units_wait)) {
            self->units_wait[0] = 0;
            const char *cursor = NULL;
            int rc = orgtree_feed (self->tree, reply, &cursor);
            if (rc == 0)
                s_units_ask (self, cursor); //  the next page (cursor is in reply)
            else
                self->units_next_ms =
                    pmo_mono_ms () + (rc == 1 ? UNITS_REFRESH_MS : UNITS_RETRY_MS);
            if (rc == 1)
                s_units_read (self);
        }
        if (reply)
            protobuf_c_message_free_unpacked (&reply->base, NULL);
    }
    zmq_msg_close (&frame);
}

//  ---------------------------------------------------------------------
//  Along a path

//  The components of path, in arena; returns how many.
size_t riskmon_path_split (pmo_arena_t *arena, const char *path, char **parts, size_t max)
{
    char *copy = pmo_arena_strdup (arena, path ? path : "");
    size_t n = 0;
    char *save = NULL;
    for (char *p = strtok_r (copy, "/", &save); p && n < max; p = strtok_r (NULL, "/", &save))
        parts[n++] = p;
    return n;
}

//  The reporting period in force at path: the nearest policy that sets one
//  (the registry's inheritance rule); 0 if none does.
uint32_t riskmon_reporting_days (riskmon_t *self, pmo_arena_t *arena, const char *path)
{
    char *parts[32];
    size_t n = riskmon_path_split (arena, path, parts, 32);
    for (size_t i = n; i > 0; i--) {
        const Pmo__OrgUnit *unit = riskmon_unit_held (self, parts[i - 1]);
        if (unit && unit->policy && unit->policy->reporting_period_days)
            return unit->policy->reporting_period_days;
    }
    return 0;
}

//  The PMO type of the nearest PMO unit strictly above the last of path.
Pmo__PmoType riskmon_pmo_above (riskmon_t *self, pmo_arena_t *arena, const char *path)
{
    char *parts[32];
    size_t n = riskmon_path_split (arena, path, parts, 32);
    for (size_t i = n > 0 ? n - 1 : 0; i > 0; i--) {
        const Pmo__OrgUnit *unit = riskmon_unit_held (self, parts[i - 1]);
        if (unit && unit->pmo_type != PMO__PMO_TYPE__PMO_TYPE_NONE)
            return unit->pmo_type;
    }
    return PMO__PMO_TYPE__PMO_TYPE_NONE;
}

//  ---------------------------------------------------------------------
//  Thresholds

int riskmon_thresholds_reload (riskmon_t *self)
{
    pmo_arena_t *arena = pmo_arena_new ();
    Pmo__Thresholds **list;
    uint64_t *versions;
    size_t n;
    int rc = riskmon_store_thresholds (riskmon_reader (self), arena, &list, &versions, &n);
    if (rc == 0) {
        zhashx_purge (self->thresholds);
        for (size_t i = 0; i < n; i++) {
            list[i]->version = versions[i];
            zhashx_update (self->thresholds, list[i]->org_unit, s_own_copy (&list[i]->base));
        }
        self->thresholds_next_ms = pmo_mono_ms () + THRESHOLDS_TTL_MS;
    }
    pmo_arena_destroy (&arena);
    return rc;
}

//  The thresholds in force at path: the defaults, then each unit's own
//  from the root down (the first `depth` components; all if depth < 0).
//  *from lists the units that set some.
void riskmon_effective (riskmon_t *self, pmo_arena_t *arena, const char *path, int depth,
                        Pmo__Thresholds *out, char **from)
{
    if (pmo_mono_ms () >= self->thresholds_next_ms)
        riskmon_thresholds_reload (self);
    riskmon_thresholds_defaults (out);
    char *parts[32];
    size_t n = riskmon_path_split (arena, path, parts, 32);
    if (depth >= 0 && (size_t)depth < n)
        n = (size_t)depth;
    char *list = pmo_arena_strdup (arena, "");
    for (size_t i = 0; i < n; i++) {
        Pmo__Thresholds *own = zhashx_lookup (self->thresholds, parts[i]);
        if (!own)
            continue;
        riskmon_thresholds_merge (out, own);
        list = pmo_arena_printf (arena, "%s%s%s", list, *list ? "," : "", parts[i]);
    }
    if (from)
        *from = list;
}
