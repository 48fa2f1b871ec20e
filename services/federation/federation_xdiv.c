/*  federation_xdiv.c: cross-division resource requests through the hub
    (see the header for the flow and the keys).

    Exactly once where it matters: the hub queues a delivery under a key
    that names what it carries ("req:<foreign id>", "dec:<allocation id>:
    <version>", "ref:<foreign id>") with HSETNX, so a push resent before its
    high-water mark moved queues nothing twice; events at or below the mark
    are not routed at all. A delivery leaves the queue only when the
    uplink names it done, after its allocator answered for good, so a spoke
    or hub that stops in between delivers it again, and the allocators make
    a second delivery change nothing.
*/
#include "federation_xdiv.h"
#include "federation_model.h"

#include "allocator.pb-c.h"
#include "pmo_client.h"
#include "pmo_log.h"
#include "pmo_reflect.h"

#include <assert.h>
#include <string.h>

#define DONE_MAX           256  //  done entries remembered before the hub hears of them
#define ALLOCATOR_CALL_MS  2000 //  deadline of a call to the spoke's allocator
#define ALLOCATOR_PAUSE_MS 5000 //  after the allocator did not answer, take nothing this long

//  ---------------------------------------------------------------------
//  Hub side (the keys and scripts are federation_store.c's)

//  Deliveries to queue, gathered per push.
typedef struct {
    Pmo__XdivDelivery **deliveries;
    size_t n;
    size_t capacity;
} xdiv_batch_t;

static void s_batch_add (xdiv_batch_t *batch, Pmo__XdivDelivery *delivery)
{
    assert (batch->n < batch->capacity);
    batch->deliveries[batch->n++] = delivery;
    pmo_info ("hub: cross-division queued key=%s for=%s from=%s", delivery->key, delivery->division,
              delivery->from_division);
}

static Pmo__XdivDelivery *s_delivery (pmo_arena_t *arena, Pmo__XdivKind kind, const char *to,
                                      const char *from, const char *key)
{
    Pmo__XdivDelivery *d = pmo_arena_alloc (arena, sizeof (Pmo__XdivDelivery));
    pmo__xdiv_delivery__init (d);
    d->kind = kind;
    d->division = (char *)to;
    d->from_division = (char *)from;
    d->key = (char *)key;
    return d;
}

static Pmo__XdivDelivery *s_refusal (pmo_arena_t *arena, const char *to, const char *from,
                                     const char *foreign_id, Pmo__ErrorCode code, const char *field,
                                     const char *message)
{
    Pmo__XdivDelivery *d = s_delivery (arena, PMO__XDIV_KIND__XDIV_KIND_REFUSAL, to, from,
                                       pmo_arena_printf (arena, "ref:%s", foreign_id));
    d->foreign_id = (char *)foreign_id;
    Pmo__Error *error = pmo_arena_alloc (arena, sizeof (Pmo__Error));
    pmo__error__init (error);
    error->code = code;
    error->field = pmo_arena_strdup (arena, field ? field : "");
    error->message = pmo_arena_strdup (arena, message ? message : "");
    d->refusal = error;
    return d;
}

int federation_xdiv_route (federation_store_t *store, const char *division,
                           Pmo__Event *const *events, const federation_apply_t *apply, size_t n,
                           federation_xdiv_served_fn *served, void *state, pmo_arena_t *arena)
{
    //  Only what the roll-up has not applied yet: a resend routes nothing
    char mark[64] = "";
    bool any = false;
    for (size_t i = 0; i < n && !any; i++)
        any = events[i] && (events[i]->body_case == PMO__EVENT__BODY_FOREIGN_ALLOCATION ||
                            (events[i]->body_case == PMO__EVENT__BODY_ALLOCATION &&
                             !pmo_str_empty (events[i]->allocation->origin_id)));
    if (!any)
        return 0;
    if (federation_store_high_water (store, division, mark, sizeof mark))
        return -1;
    xdiv_batch_t batch = {.capacity = n};
    batch.deliveries = pmo_arena_alloc (arena, (n + 1) * sizeof (Pmo__XdivDelivery *));
    for (size_t i = 0; i < n; i++) {
        const Pmo__Event *event = events[i];
        if (!event || (*mark && federation_stream_id_cmp (apply[i].stream_id, mark) <= 0))
            continue;
        if (event->body_case == PMO__EVENT__BODY_FOREIGN_ALLOCATION &&
            strcmp (event->type, "foreign.requested") == 0) {
            Pmo__ForeignAllocation *f = event->foreign_allocation;
            if (pmo_str_empty (f->id) || strcmp (f->division ? f->division : "", division) != 0)
                continue; //  not a request of this division: nothing to carry
            const char *target = f->target_division ? f->target_division : "";
            if (pmo_slug_valid (target, 1, 32) && strcmp (target, division) != 0 &&
                served (state, target)) {
                Pmo__XdivDelivery *d =
                    s_delivery (arena, PMO__XDIV_KIND__XDIV_KIND_REQUEST, target, division,
                                pmo_arena_printf (arena, "req:%s", f->id));
                d->foreign = f;
                s_batch_add (&batch, d);
            } else
                s_batch_add (
                    &batch, s_refusal (arena, division, "", f->id, PMO__ERROR_CODE__ERROR_NOT_FOUND,
                                       "request_foreign.division",
                                       pmo_arena_printf (arena,
                                                         "no spoke of the hub serves division "
                                                         "'%.40s'",
                                                         target)));
        } else if (event->body_case == PMO__EVENT__BODY_ALLOCATION) {
            Pmo__Allocation *a = event->allocation;
            const char *origin = a->origin_division ? a->origin_division : "";
            if (pmo_str_empty (a->origin_id) || !pmo_slug_valid (origin, 1, 32) ||
                strcmp (origin, division) == 0 ||
                strcmp (a->division ? a->division : "", division) != 0)
                continue;
            if (!served (state, origin)) {
                pmo_warn ("hub: cross-division decision for no spoke allocation=%s origin=%s",
                          a->id, origin);
                continue;
            }
            Pmo__XdivDelivery *d = s_delivery (
                arena, PMO__XDIV_KIND__XDIV_KIND_DECISION, origin, division,
                pmo_arena_printf (arena, "dec:%s:%llu", a->id, (unsigned long long)a->version));
            d->allocation = a;
            s_batch_add (&batch, d);
        }
    }
    return federation_store_xdiv_enqueue (store, batch.deliveries, batch.n, arena);
}

//  Forget one delivery the spoke handled; a request it refused becomes a
//  refusal for the requesting division, in the same script. 0 or -1.
static int s_done (federation_store_t *store, const Pmo__XdivDone *done,
                   federation_xdiv_served_fn *served, void *state, pmo_arena_t *arena)
{
    Pmo__XdivDelivery *refusal = NULL;
    if (done->error && strncmp (done->key, "req:", 4) == 0) {
        bool failed = false;
        Pmo__XdivDelivery *d =
            federation_store_xdiv_get (store, done->division, done->key, arena, &failed);
        if (failed)
            return -1;
        if (d && d->kind == PMO__XDIV_KIND__XDIV_KIND_REQUEST && d->foreign &&
            served (state, d->from_division))
            refusal = s_refusal (arena, d->from_division, done->division, d->foreign->id,
                                 done->error->code, done->error->field, done->error->message);
    }
    bool forgot = false;
    if (federation_store_xdiv_done (store, done->division, done->key, refusal, arena, &forgot))
        return -1;
    if (refusal && forgot)
        pmo_info ("hub: cross-division request refused key=%s by=%s code=%s", done->key,
                  done->division, pmo_error_code_name (done->error->code));
    return 0;
}

int federation_xdiv_exchange (federation_store_t *store, char *const *divisions, size_t n_divisions,
                              const Pmo__HubRequest *request, Pmo__HubReply *reply,
                              federation_xdiv_served_fn *served, void *state, pmo_arena_t *arena)
{
    for (size_t i = 0; i < request->n_xdiv_done; i++) {
        const Pmo__XdivDone *done = request->xdiv_done[i];
        //  A spoke answers only for deliveries made to its own divisions
        if (pmo_str_empty (done->key) ||
            !federation_division_allowed (divisions, n_divisions, done->division))
            continue;
        if (s_done (store, done, served, state, arena))
            return -1;
    }
    reply->xdiv = pmo_arena_alloc (arena, FEDERATION_XDIV_PER_REPLY * sizeof (void *));
    reply->n_xdiv = 0;
    for (size_t i = 0;
         request->xdiv_ready && i < n_divisions && reply->n_xdiv < FEDERATION_XDIV_PER_REPLY; i++) {
        char **keys;
        size_t n_keys;
        if (federation_store_xdiv_waiting_keys (store, divisions[i], FEDERATION_XDIV_PER_REPLY,
                                                arena, &keys, &n_keys))
            return -1;
        for (size_t k = 0; k < n_keys && reply->n_xdiv < FEDERATION_XDIV_PER_REPLY; k++) {
            bool failed = false;
            Pmo__XdivDelivery *d =
                federation_store_xdiv_get (store, divisions[i], keys[k], arena, &failed);
            if (failed)
                return -1;
            if (d)
                reply->xdiv[reply->n_xdiv++] = d;
        }
    }
    return 0;
}

uint64_t federation_xdiv_waiting (federation_store_t *store, char *const *divisions,
                                  size_t n_divisions)
{
    return federation_store_xdiv_count (store, divisions, n_divisions);
}

//  ---------------------------------------------------------------------
//  Uplink side

typedef struct {
    char *key;
    char *division;
    Pmo__ErrorCode code; //  NONE: handled; else refused for good
    char *field;
    char *message;
} done_t;

struct _federation_xdiv_uplink_t {
    pmo_client_t *allocator; //  the spoke's allocator
    char *spoke;             //  for the system identity
    char *hub;               //  the hub unit, where the identity holds admin
    done_t done[DONE_MAX];   //  handled, not yet reported to the hub
    size_t n_done;
    size_t sent;          //  how many of done went with the last request
    int64_t paused_until; //  monotonic: the allocator did not answer
    uint64_t handled;     //  deliveries done
    uint64_t refused;     //  of which refused for good by the allocator
    uint64_t failed;      //  calls that got no answer or a retryable error
};

federation_xdiv_uplink_t *federation_xdiv_uplink_new (const char *allocator, const char *spoke,
                                                      const char *hub)
{
    pmo_client_t *client = pmo_client_new (allocator);
    if (!client)
        return NULL;
    federation_xdiv_uplink_t *self = calloc (1, sizeof (federation_xdiv_uplink_t));
    assert (self);
    self->allocator = client;
    self->spoke = strdup (spoke);
    self->hub = strdup (hub);
    return self;
}

static void s_done_free (done_t *done)
{
    free (done->key);
    free (done->division);
    free (done->field);
    free (done->message);
    memset (done, 0, sizeof *done);
}

void federation_xdiv_uplink_destroy (federation_xdiv_uplink_t **self_p)
{
    federation_xdiv_uplink_t *self = *self_p;
    if (!self)
        return;
    for (size_t i = 0; i < self->n_done; i++)
        s_done_free (&self->done[i]);
    pmo_client_destroy (&self->allocator);
    free (self->spoke);
    free (self->hub);
    free (self);
    *self_p = NULL;
}

void federation_xdiv_uplink_prepare (federation_xdiv_uplink_t *self, Pmo__HubRequest *request,
                                     pmo_arena_t *arena)
{
    //  Room for what a reply brings, and an allocator that answers
    request->xdiv_ready = self->n_done + FEDERATION_XDIV_PER_REPLY <= DONE_MAX &&
                          pmo_mono_ms () >= self->paused_until;
    request->xdiv_done = pmo_arena_alloc (arena, (self->n_done + 1) * sizeof (void *));
    request->n_xdiv_done = 0;
    for (size_t i = 0; i < self->n_done; i++) {
        Pmo__XdivDone *one = pmo_arena_alloc (arena, sizeof (Pmo__XdivDone));
        pmo__xdiv_done__init (one);
        one->key = self->done[i].key;
        one->division = self->done[i].division;
        if (self->done[i].code != PMO__ERROR_CODE__ERROR_NONE) {
            Pmo__Error *error = pmo_arena_alloc (arena, sizeof (Pmo__Error));
            pmo__error__init (error);
            error->code = self->done[i].code;
            error->field = self->done[i].field;
            error->message = self->done[i].message;
            one->error = error;
        }
        request->xdiv_done[request->n_xdiv_done++] = one;
    }
    self->sent = self->n_done;
}

static void s_done_add (federation_xdiv_uplink_t *self, const Pmo__XdivDelivery *d,
                        const Pmo__Error *error)
{
    assert (self->n_done < DONE_MAX);
    done_t *done = &self->done[self->n_done++];
    done->key = strdup (d->key);
    done->division = strdup (d->division);
    done->code = error ? error->code : PMO__ERROR_CODE__ERROR_NONE;
    done->field = strdup (error && error->field ? error->field : "");
    done->message = strdup (error && error->message ? error->message : "");
    self->handled++;
    if (error)
        self->refused++;
}

//  Hand one delivery to the allocator. Returns true when it is done (the
//  allocator answered for good), false to leave it for another time.
static bool s_deliver (federation_xdiv_uplink_t *self, const Pmo__XdivDelivery *d,
                       pmo_arena_t *arena)
{
    Pmo__AllocatorRequest request = PMO__ALLOCATOR_REQUEST__INIT;
    Pmo__ForeignReceive receive = PMO__FOREIGN_RECEIVE__INIT;
    Pmo__ForeignUpdate update = PMO__FOREIGN_UPDATE__INIT;
    if (d->kind == PMO__XDIV_KIND__XDIV_KIND_REQUEST && d->foreign) {
        receive.foreign = d->foreign;
        request.body_case = PMO__ALLOCATOR_REQUEST__BODY_RECEIVE_FOREIGN;
        request.receive_foreign = &receive;
    } else if (d->kind == PMO__XDIV_KIND__XDIV_KIND_DECISION && d->allocation) {
        update.foreign_id = d->allocation->origin_id;
        update.remote = d->allocation;
        request.body_case = PMO__ALLOCATOR_REQUEST__BODY_FOREIGN_UPDATE;
        request.foreign_update = &update;
    } else if (d->kind == PMO__XDIV_KIND__XDIV_KIND_REFUSAL && d->refusal) {
        update.foreign_id = d->foreign_id;
        update.refusal = d->refusal;
        request.body_case = PMO__ALLOCATOR_REQUEST__BODY_FOREIGN_UPDATE;
        request.foreign_update = &update;
    } else {
        pmo_warn ("uplink: cross-division delivery not understood key=%.80s", d->key);
        s_done_add (self, d, NULL);
        return true;
    }
    Pmo__Grant grant = PMO__GRANT__INIT;
    grant.role = PMO__ROLE__ROLE_ADMIN;
    grant.org_unit = self->hub;
    Pmo__Grant *grants[] = {&grant};
    Pmo__Identity identity = PMO__IDENTITY__INIT;
    identity.subject = pmo_arena_printf (arena, "pmo-uplink@%s", self->spoke);
    identity.grants = grants;
    identity.n_grants = 1;
    //  The same request id for every delivery of the same thing: a retry
    //  is answered from the allocator's stored reply
    char request_id[PMO_MAX_REQUEST_ID + 1];
    snprintf (request_id, sizeof request_id, "xdiv-%.58s", d->key);
    Pmo__Header header = PMO__HEADER__INIT;
    header.protocol_version = PMO_PROTOCOL_VERSION;
    header.request_id = request_id;
    header.deadline_ms = pmo_now_ms () + ALLOCATOR_CALL_MS;
    header.identity = &identity;
    request.header = &header;
    ProtobufCMessage *raw = NULL;
    if (pmo_client_call (self->allocator, &request.base, &pmo__allocator_reply__descriptor,
                         ALLOCATOR_CALL_MS, 1, &raw)) {
        self->failed++;
        self->paused_until = pmo_mono_ms () + ALLOCATOR_PAUSE_MS;
        pmo_warn ("uplink: the allocator did not answer a cross-division delivery key=%s", d->key);
        return false;
    }
    Pmo__AllocatorReply *reply = (Pmo__AllocatorReply *)raw;
    bool done = true;
    if (!reply->error) {
        s_done_add (self, d, NULL);
        pmo_info ("uplink: cross-division delivery handled key=%s", d->key);
    } else if (reply->error->retryable) {
        self->failed++;
        done = false;
        pmo_warn ("uplink: cross-division delivery waits key=%s code=%s reason=\"%s\"", d->key,
                  pmo_error_code_name (reply->error->code), reply->error->message);
    } else {
        //  Refused for good: a request's requester learns why; anything
        //  else is logged and dropped (it can never succeed)
        const Pmo__Error *error =
            d->kind == PMO__XDIV_KIND__XDIV_KIND_REQUEST ? reply->error : NULL;
        s_done_add (self, d, error);
        pmo_warn ("uplink: cross-division delivery refused key=%s code=%s field=%s "
                  "reason=\"%s\"",
                  d->key, pmo_error_code_name (reply->error->code), reply->error->field,
                  reply->error->message);
    }
    protobuf_c_message_free_unpacked (raw, NULL);
    return done;
}

bool federation_xdiv_uplink_take (federation_xdiv_uplink_t *self, const Pmo__HubReply *reply,
                                  pmo_arena_t *arena)
{
    if (!reply || reply->error) {
        self->sent = 0; //  the hub did not hear of them: send them again
        return false;
    }
    for (size_t i = 0; i < self->sent; i++)
        s_done_free (&self->done[i]);
    memmove (self->done, self->done + self->sent, (self->n_done - self->sent) * sizeof (done_t));
    self->n_done -= self->sent;
    self->sent = 0;
    size_t handled = 0;
    bool stalled = false;
    for (size_t i = 0; i < reply->n_xdiv && self->n_done < DONE_MAX && !stalled; i++) {
        bool already = false;
        for (size_t k = 0; k < self->n_done && !already; k++)
            already = strcmp (self->done[k].key, reply->xdiv[i]->key) == 0;
        if (already)
            continue;
        //  The allocator away or busy: the rest waits for the next heartbeat
        if (s_deliver (self, reply->xdiv[i], arena))
            handled++;
        else
            stalled = true;
    }
    //  Tell the hub soon, and take more if the reply was full
    return handled > 0 || (!stalled && reply->n_xdiv == FEDERATION_XDIV_PER_REPLY);
}

void federation_xdiv_uplink_stats (federation_xdiv_uplink_t *self, uint64_t *handled,
                                   uint64_t *refused, uint64_t *failed)
{
    *handled = self->handled;
    *refused = self->refused;
    *failed = self->failed;
}
