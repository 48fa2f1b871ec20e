/*  gateway_admin.c: the token service actor and its request handlers
    (and the audit trail's, gateway_audit.c).

    Handlers follow the registry's order: check the request, check the
    caller may act, answer a retried request id with the stored reply, then
    write the token with its event and the reply in one commit. The secret
    of a new token is in the first reply only: the stored reply (for
    retries) and the event never hold it, and neither do the logs.
*/
#include "gateway_admin.h"
#include "gateway_audit.h"
#include "gateway_mappings.h"
#include "gateway_model.h"
#include "gateway_store.h"

#include "orgtree.h"
#include "pmo_log.h"
#include "pmo_ping.h"
#include "pmo_reflect.h"
#include "pmo_request.h"
#include "pmo_server.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define LIST_DEFAULT  50
#define LIST_MAX      500
#define LIST_SCAN_MAX 2000
#define ORGS_TTL_MS   5000 //  how long the org-unit tree is trusted
#define DAY_MS        86400000LL
#define CASCADE_MAX   100000 //  tokens scanned for those minted with a revoked one

typedef struct {
    gateway_admin_config_t config;
    pmo_redis_t *redis;
    gateway_store_t *store;
    pmo_server_t *server;
    orgtree_t *orgs;        //  the org-unit tree, for grant paths
    Pmo__Identity identity; //  the token service's own, asking the registry
    zsock_t *pipe;          //  to the gateway: revocations
    bool bootstrapped;      //  the admin token file exists (or none was asked for)
    int64_t started_ms;
} admin_t;

//  What is down when Redis is (pmo_request_unavailable says the rest)
#define TOKEN_STORE "the gateway's token store (Redis)"

static const char *s_path_of (void *ctx, const char *unit)
{
    admin_t *self = ctx;
    return orgtree_path (self->orgs, unit);
}

//  A fresh enough org-unit tree (this actor may wait for the registry: it
//  serves token requests one at a time, like any service).
static int s_orgs (admin_t *self, pmo_request_t *req)
{
    if (orgtree_refresh (self->orgs, false) == 0)
        return 0;
    FAIL (req, UNAVAILABLE, "",
          "the registry did not answer (org units are needed to check grants)");
    return -1;
}

//  True (and the reply is set) if this request id was already done.
static bool s_replayed (admin_t *self, pmo_request_t *req)
{
    uint8_t *blob;
    size_t size;
    int rc = gateway_store_replay (self->store, req->arena, req->header->request_id, &blob, &size);
    if (rc < 0) {
        pmo_request_unavailable (req, TOKEN_STORE);
        return true;
    }
    if (rc == 1) {
        req->raw_reply = blob;
        req->raw_size = size;
        return true;
    }
    return false;
}

static Pmo__Event *s_event (pmo_request_t *req, admin_t *self, const char *type,
                            const Pmo__ApiToken *token, const char *actor)
{
    Pmo__Event *event = pmo_arena_alloc (req->arena, sizeof (Pmo__Event));
    pmo__event__init (event);
    event->type = (char *)type;
    event->division = (char *)self->config.hub;
    event->org_unit = (char *)self->config.hub;
    //  Token events are about access to the whole enterprise: only holders
    //  of a grant at the hub see them live.
    event->org_unit_path = (char *)self->config.hub;
    event->entity_id = token->id;
    event->entity_version = token->version;
    event->time_ms = pmo_now_ms ();
    event->actor = (char *)actor;
    if (req && req->header && req->header->identity)
        event->actor_via = pmo_request_who (req)->via;
    event->request_id = req ? req->header->request_id : "";
    event->source = "gateway";
    return event;
}

//  A copy for replies: everything but the hash.
static Pmo__ApiToken *s_public (pmo_arena_t *arena, const Pmo__ApiToken *token)
{
    Pmo__ApiToken *copy = (Pmo__ApiToken *)pmo_reflect_copy (&token->base, arena);
    copy->hash = "";
    return copy;
}

//  Write a token change; on a refused commit the request fails.
static void s_commit (admin_t *self, pmo_request_t *req, Pmo__ApiToken *token, uint64_t expect,
                      uint64_t seq, Pmo__Event *event, const ProtobufCMessage *stored_reply)
{
    size_t size;
    uint8_t *blob = pmo_reflect_pack (stored_reply, req->arena, &size);
    char stream_id[64];
    pmo_commit_status_t status =
        gateway_store_commit (self->store, req->arena, req->header->request_id, token, expect, seq,
                              event, blob, size, stream_id);
    switch (status) {
    case PMO_COMMIT_OK:
        pmo_info ("gateway: %s token=%s by=%s", event->type, token->id,
                  pmo_request_who (req)->subject);
        break;
    case PMO_COMMIT_DUPLICATE:
        //  A retry raced the first attempt: answer what the first one stored
        if (!s_replayed (self, req))
            pmo_request_unavailable (req, TOKEN_STORE);
        break;
    case PMO_COMMIT_CONFLICT:
        FAIL (req, CONFLICT, "version", "the token changed since you read it; read it again");
        break;
    case PMO_COMMIT_TAKEN:
    case PMO_COMMIT_ERROR:
        FAIL (req, INTERNAL, "", "the store refused the commit; nothing was written");
        break;
    case PMO_COMMIT_UNAVAILABLE:
        pmo_request_unavailable (req, TOKEN_STORE);
        break;
    }
}

//  ---------------------------------------------------------------------
//  Handlers

static void s_handle_create (admin_t *self, pmo_request_t *req, Pmo__CreateTokenRequest *create)
{
    pmo_problem_t problem;
    if (gateway_check_create (create, &problem))
        return pmo_request_fail_problem (req, &problem, "");
    uint32_t rate_max = self->config.token_rate_max;
    if (create->rate_per_s > rate_max)
        return (void)FAIL (req, INVALID, "create_token.rate_per_s",
                           "rate_per_s is at most %u (the ceiling the administrators set)",
                           rate_max);
    int64_t now = pmo_now_ms ();
    if (create->expires_ms && create->expires_ms <= now)
        return (void)FAIL (req, INVALID, "create_token.expires_ms", "expires_ms is in the past");
    if (create->expires_ms > now + (int64_t)self->config.token_max_days * DAY_MS)
        return (void)FAIL (req, INVALID, "create_token.expires_ms", "a token lives at most %d days",
                           self->config.token_max_days);
    if (s_orgs (self, req))
        return;
    if (!gateway_may_name (pmo_request_who (req), create->subject, self->config.hub, s_path_of,
                           self, &problem))
        return pmo_request_fail_problem (req, &problem, "create_token.subject");
    for (size_t i = 0; i < create->n_grants; i++)
        if (!gateway_may_grant (pmo_request_who (req), create->grants[i], s_path_of, self,
                                &problem)) {
            char field[48];
            snprintf (field, sizeof field, "create_token.grants[%zu]", i);
            return pmo_request_fail_problem (req, &problem, field);
        }
    if (s_replayed (self, req))
        return;
    char id[GATEWAY_TOKEN_ID_LEN + 1], secret[GATEWAY_TOKEN_LEN + 1], hash[GATEWAY_HASH_HEX];
    if (gateway_token_generate (id, secret))
        return (void)FAIL (req, INTERNAL, "", "no randomness available for a new token");
    gateway_sha256_hex (secret, strlen (secret), hash);
    uint64_t seq;
    if (gateway_store_next_seq (self->store, &seq))
        return pmo_request_unavailable (req, TOKEN_STORE);
    Pmo__ApiToken *token = pmo_arena_alloc (req->arena, sizeof (Pmo__ApiToken));
    pmo__api_token__init (token);
    token->id = pmo_arena_strdup (req->arena, id);
    token->name = create->name;
    token->subject = create->subject;
    token->grants = create->grants;
    token->n_grants = create->n_grants;
    token->hash = pmo_arena_strdup (req->arena, hash);
    token->created_ms = pmo_now_ms ();
    token->created_by = pmo_request_who (req)->subject;
    //  Every token expires: the default lifetime unless a shorter (or a
    //  longer, up to the most) one was asked for
    token->expires_ms =
        create->expires_ms ? create->expires_ms : now + (int64_t)self->config.token_days * DAY_MS;
    token->rate_per_s = create->rate_per_s;
    token->minted_with = pmo_request_who (req)->token_id;
    token->version = 1;
    Pmo__CreatedToken *created = pmo_arena_alloc (req->arena, sizeof (Pmo__CreatedToken));
    pmo__created_token__init (created);
    created->token = s_public (req->arena, token);
    created->secret = "";
    pmo_reflect_set_oneof (req->reply, "created", &created->base);
    //  The stored reply has no secret: a retry learns the token was made,
    //  not its secret (revoke it and make another if the first reply was lost)
    Pmo__Event *event = s_event (req, self, "token.created", token, pmo_request_who (req)->subject);
    s_commit (self, req, token, 0, seq, event, req->reply);
    if (!pmo_request_failed (req) && !req->raw_reply)
        created->secret = pmo_arena_strdup (req->arena, secret);
    memset (secret, 0, sizeof secret);
}

//  A token the caller may see, or fails the request (NOT_FOUND, so ids
//  cannot be probed).
static Pmo__ApiToken *s_fetch (admin_t *self, pmo_request_t *req, const char *id, const char *field,
                               uint64_t *version)
{
    if (!gateway_token_id_valid (id)) {
        FAIL (req, INVALID, field, "a token id is 16 lowercase hex characters");
        return NULL;
    }
    Pmo__ApiToken *token;
    int rc = gateway_store_read (self->store, req->arena, id, &token, version);
    if (rc < 0) {
        pmo_request_unavailable (req, TOKEN_STORE);
        return NULL;
    }
    if (rc == 1 && s_orgs (self, req))
        return NULL;
    if (rc == 0 || !gateway_may_see_token (pmo_request_who (req), token, s_path_of, self)) {
        FAIL (req, NOT_FOUND, field, "no token with id '%s'", id);
        return NULL;
    }
    return token;
}

static void s_handle_get (admin_t *self, pmo_request_t *req, Pmo__GetTokenRequest *get)
{
    Pmo__ApiToken *token = s_fetch (self, req, get->id, "get_token.id", NULL);
    if (token)
        pmo_reflect_set_oneof (req->reply, "token", &s_public (req->arena, token)->base);
}

static void s_handle_list (admin_t *self, pmo_request_t *req, Pmo__ListTokensRequest *list)
{
    if (list->limit > LIST_MAX)
        return (void)FAIL (req, INVALID, "list_tokens.limit", "limit is at most %d", LIST_MAX);
    double after = 0;
    if (!pmo_str_empty (list->cursor)) {
        char *end = NULL;
        after = strtod (list->cursor, &end);
        if (!end || *end || after < 0)
            return (void)FAIL (req, INVALID, "list_tokens.cursor",
                               "cursor is not one this service returned");
    }
    if (s_orgs (self, req))
        return;
    size_t limit = list->limit ? list->limit : LIST_DEFAULT;
    Pmo__TokenPage *page = pmo_arena_alloc (req->arena, sizeof (Pmo__TokenPage));
    pmo__token_page__init (page);
    pmo_reflect_set_oneof (req->reply, "page", &page->base);
    size_t scanned = 0;
    while (page->n_tokens < limit && scanned < LIST_SCAN_MAX) {
        char **ids;
        double *scores;
        size_t n;
        if (gateway_store_page (self->store, req->arena, after, limit - page->n_tokens, &ids,
                                &scores, &n))
            return pmo_request_unavailable (req, TOKEN_STORE);
        if (n == 0)
            return;
        for (size_t i = 0; i < n; i++) {
            scanned++;
            after = scores[i];
            Pmo__ApiToken *token;
            int rc = gateway_store_read (self->store, req->arena, ids[i], &token, NULL);
            if (rc < 0)
                return pmo_request_unavailable (req, TOKEN_STORE);
            if (rc == 0 || (token->revoked && !list->include_revoked) ||
                !gateway_may_see_token (pmo_request_who (req), token, s_path_of, self))
                continue;
            pmo_reflect_append (&page->base, "tokens", &s_public (req->arena, token)->base,
                                req->arena);
        }
    }
    page->next_cursor = pmo_arena_printf (req->arena, "%.17g", after);
}

//  Revoke every live token minted with parent, and those minted with them,
//  each with its own token.revoked event (the actor: whoever revoked the
//  first), and tell the reactor. A scan of the token list per generation:
//  tokens are few (thousands), revocations rare.
static void s_revoke_minted (admin_t *self, pmo_request_t *req, const char *parent)
{
    zlist_t *queue = zlist_new ();
    zlist_autofree (queue);
    zlist_append (queue, (void *)parent);
    size_t scanned = 0;
    char *id;
    while ((id = zlist_pop (queue))) {
        double after = 0;
        while (scanned < CASCADE_MAX) {
            char **ids;
            double *scores;
            size_t n;
            if (gateway_store_page (self->store, req->arena, after, 500, &ids, &scores, &n) ||
                n == 0)
                break;
            for (size_t i = 0; i < n; i++, scanned++) {
                after = scores[i];
                Pmo__ApiToken *child;
                uint64_t version;
                if (gateway_store_read (self->store, req->arena, ids[i], &child, &version) != 1 ||
                    child->revoked || !child->minted_with || strcmp (child->minted_with, id))
                    continue;
                child->revoked = true;
                child->revoked_ms = pmo_now_ms ();
                child->revoked_by = pmo_request_who (req)->subject;
                child->version = version + 1;
                Pmo__Event *event =
                    s_event (req, self, "token.revoked", child, pmo_request_who (req)->subject);
                size_t size;
                uint8_t *blob =
                    pmo_reflect_pack (&s_public (req->arena, child)->base, req->arena, &size);
                char *request_id =
                    pmo_arena_printf (req->arena, "%s/%s", req->header->request_id, child->id);
                char stream_id[64];
                pmo_commit_status_t status =
                    gateway_store_commit (self->store, req->arena, request_id, child, version, 0,
                                          event, blob, size, stream_id);
                if (status != PMO_COMMIT_OK && status != PMO_COMMIT_DUPLICATE) {
                    pmo_warn ("gateway: minted token not revoked token=%s parent=%s status=%d",
                              child->id, id, (int)status);
                    continue;
                }
                pmo_info ("gateway: token.revoked token=%s minted_with=%s by=%s", child->id, id,
                          pmo_request_who (req)->subject);
                zstr_sendx (self->pipe, "REVOKED", child->id, NULL);
                zlist_append (queue, child->id);
            }
        }
        free (id);
    }
    zlist_destroy (&queue);
}

static void s_handle_revoke (admin_t *self, pmo_request_t *req, Pmo__RevokeTokenRequest *revoke)
{
    uint64_t version;
    Pmo__ApiToken *token = s_fetch (self, req, revoke->id, "revoke_token.id", &version);
    if (!token)
        return;
    if (s_replayed (self, req))
        return;
    if (revoke->version && revoke->version != version)
        return (void)FAIL (req, CONFLICT, "version",
                           "the token changed since you read it: you have version %llu, it is "
                           "now %llu",
                           (unsigned long long)revoke->version, (unsigned long long)version);
    if (token->revoked) {
        //  Those minted with it go too (again: a revocation cut short by
        //  Redis is finished by revoking once more)
        s_revoke_minted (self, req, token->id);
        return (void)FAIL (req, FAILED_PRECONDITION, "revoke_token.id",
                           "token '%s' is already revoked", token->id);
    }
    token->revoked = true;
    token->revoked_ms = pmo_now_ms ();
    token->revoked_by = pmo_request_who (req)->subject;
    token->version = version + 1;
    pmo_reflect_set_oneof (req->reply, "token", &s_public (req->arena, token)->base);
    Pmo__Event *event = s_event (req, self, "token.revoked", token, pmo_request_who (req)->subject);
    s_commit (self, req, token, version, 0, event, req->reply);
    if (!pmo_request_failed (req)) {
        zstr_sendx (self->pipe, "REVOKED", token->id, NULL);
        s_revoke_minted (self, req, token->id);
    }
}

//  Stored import mappings (gateway_mappings.c): what the caller may use
static void s_handle_list_mappings (admin_t *self, pmo_request_t *req,
                                    Pmo__ListMappingsRequest *list)
{
    if (s_orgs (self, req))
        return;
    Pmo__MappingList *mappings = pmo_arena_alloc (req->arena, sizeof (Pmo__MappingList));
    pmo__mapping_list__init (mappings);
    pmo_reflect_set_oneof (req->reply, "mappings", &mappings->base);
    if (gateway_mappings_list (self->config.mappings, list->entity, pmo_request_who (req),
                               s_path_of, self, req->arena, mappings)) {
        pmo_warn ("gateway: cannot read the mappings directory dir=%s error=\"%s\"",
                  self->config.mappings, strerror (errno));
        FAIL (req, UNAVAILABLE, "", "the gateway's mappings directory cannot be read");
    }
}

static void s_handle_get_mapping (admin_t *self, pmo_request_t *req, Pmo__GetMappingRequest *get)
{
    if (!gateway_mapping_name_valid (get->name))
        return (void)FAIL (req, INVALID, "get_mapping.name",
                           "a mapping's name is 1 to 64 of A-Z a-z 0-9 - _ (its file without "
                           ".json)");
    if (s_orgs (self, req))
        return;
    char detail[300];
    size_t size = 0;
    char *text = gateway_mapping_read (self->config.mappings, get->name, pmo_request_who (req),
                                       s_path_of, self, &size, detail, sizeof detail);
    if (!text)
        return (void)FAIL (req, NOT_FOUND, "get_mapping.name", "%s", detail);
    Pmo__StoredMapping *mapping = gateway_mapping_summary (get->name, text, size, true, req->arena);
    free (text);
    pmo_reflect_set_oneof (req->reply, "mapping", &mapping->base);
}

static void s_handle_ping (admin_t *self, pmo_request_t *req)
{
    pmo_request_pong (req, "gateway", self->redis, self->started_ms);
}

static void s_handle (void *state, pmo_request_t *req)
{
    admin_t *self = state;
    Pmo__GatewayRequest *r = (Pmo__GatewayRequest *)req->request;
    switch (r->body_case) {
    case PMO__GATEWAY_REQUEST__BODY_CREATE_TOKEN:
        return s_handle_create (self, req, r->create_token);
    case PMO__GATEWAY_REQUEST__BODY_GET_TOKEN:
        return s_handle_get (self, req, r->get_token);
    case PMO__GATEWAY_REQUEST__BODY_LIST_TOKENS:
        return s_handle_list (self, req, r->list_tokens);
    case PMO__GATEWAY_REQUEST__BODY_REVOKE_TOKEN:
        return s_handle_revoke (self, req, r->revoke_token);
    case PMO__GATEWAY_REQUEST__BODY_AUDIT:
        if (s_orgs (self, req))
            return;
        return gateway_audit_handle (self->store, self->orgs, self->config.hub, req, r->audit);
    case PMO__GATEWAY_REQUEST__BODY_LIST_MAPPINGS:
        return s_handle_list_mappings (self, req, r->list_mappings);
    case PMO__GATEWAY_REQUEST__BODY_GET_MAPPING:
        return s_handle_get_mapping (self, req, r->get_mapping);
    case PMO__GATEWAY_REQUEST__BODY_PING:
        return s_handle_ping (self, req);
    default:
        FAIL (req, UNSUPPORTED, "body", "unknown request type");
    }
}

//  ---------------------------------------------------------------------
//  The first administrator token

//  Create an admin@hub token and write it to the file (mode 0600), once:
//  nothing happens if the file exists. The token is written to a temporary
//  file first and renamed after the commit, so a crash leaves either no
//  file (and an unused token that can be revoked) or a working one.
//  Returns 0 when done (or nothing to do), -1 to try again later.
static int s_bootstrap (admin_t *self)
{
    const char *file = self->config.admin_token_file;
    if (pmo_str_empty (file) || access (file, F_OK) == 0)
        return 0;
    pmo_arena_t *arena = pmo_arena_new ();
    char id[GATEWAY_TOKEN_ID_LEN + 1], secret[GATEWAY_TOKEN_LEN + 1], hash[GATEWAY_HASH_HEX];
    char *tmp = pmo_arena_printf (arena, "%s.tmp", file);
    int rc = -1;
    uint64_t seq;
    if (gateway_token_generate (id, secret) || gateway_store_next_seq (self->store, &seq))
        goto done;
    gateway_sha256_hex (secret, strlen (secret), hash);
    int fd = open (tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0 || write (fd, secret, strlen (secret)) != (ssize_t)strlen (secret) ||
        write (fd, "\n", 1) != 1 || fsync (fd) != 0) {
        pmo_error ("gateway: cannot write the admin token file=%s error=\"%s\"", tmp,
                   strerror (errno));
        if (fd >= 0)
            close (fd);
        unlink (tmp);
        rc = 0; //  a file problem does not go away by retrying
        goto done;
    }
    close (fd);
    Pmo__Grant grant = PMO__GRANT__INIT;
    grant.role = PMO__ROLE__ROLE_ADMIN;
    grant.org_unit = (char *)self->config.hub;
    Pmo__Grant *grants[1] = {&grant};
    Pmo__ApiToken token = PMO__API_TOKEN__INIT;
    token.id = id;
    token.name = "administrator (made by the first start)";
    token.subject = "admin";
    token.grants = grants;
    token.n_grants = 1;
    token.hash = hash;
    token.created_ms = pmo_now_ms ();
    token.created_by = "pmo-gateway";
    token.version = 1;
    Pmo__Header header = PMO__HEADER__INIT;
    header.request_id = pmo_arena_printf (arena, "gateway-bootstrap-%s", id);
    pmo_request_t fake = {.arena = arena, .header = &header};
    Pmo__Event *event = s_event (&fake, self, "token.created", &token, "pmo-gateway");
    char stream_id[64];
    pmo_commit_status_t status = gateway_store_commit (self->store, arena, header.request_id,
                                                       &token, 0, seq, event, "", 0, stream_id);
    if (status != PMO_COMMIT_OK) {
        unlink (tmp);
        goto done;
    }
    if (rename (tmp, file) != 0) {
        pmo_error ("gateway: cannot rename the admin token file=%s error=\"%s\"", file,
                   strerror (errno));
        unlink (tmp);
        rc = 0;
        goto done;
    }
    pmo_info ("gateway: created the administrator token token=%s file=%s", id, file);
    rc = 0;
done:
    memset (secret, 0, sizeof secret);
    pmo_arena_destroy (&arena);
    return rc;
}

//  ---------------------------------------------------------------------
//  The actor

void gateway_admin_actor (zsock_t *pipe, void *args)
{
    admin_t self = {.config = *(gateway_admin_config_t *)args, .pipe = pipe};
    if (!self.config.token_rate_max)
        self.config.token_rate_max = 1000;
    if (self.config.token_days <= 0)
        self.config.token_days = 90;
    if (self.config.token_max_days <= 0)
        self.config.token_max_days = 366;
    self.started_ms = pmo_now_ms ();
    self.redis = pmo_redis_new (self.config.redis_url, self.config.redis_timeout_ms);
    pmo__identity__init (&self.identity);
    self.identity.subject = "pmo-gateway";
    orgtree_config_t orgs = {.registry = self.config.registry,
                             .identity = &self.identity,
                             .timeout_ms = self.config.upstream_timeout_ms,
                             .max_age_ms = ORGS_TTL_MS};
    self.orgs = orgtree_new (&orgs);
    if (!self.redis || !self.config.registry || !self.orgs) {
        pmo_error ("gateway: bad redis url or registry endpoint");
        pmo_redis_destroy (&self.redis);
        orgtree_destroy (&self.orgs);
        ((gateway_admin_config_t *)args)->failed = true;
        zsock_signal (pipe, 1);
        return;
    }
    self.store = gateway_store_new (self.redis, self.config.hub);
    pmo_server_config_t server_config = {
        .name = "gateway",
        .request_desc = &pmo__gateway_request__descriptor,
        .reply_desc = &pmo__gateway_reply__descriptor,
        .handler = s_handle,
        .state = &self,
    };
    self.server = pmo_server_new (&server_config, self.config.endpoint);
    if (!self.server) {
        pmo_error ("gateway: cannot bind endpoint=%s", self.config.endpoint);
        gateway_store_destroy (&self.store);
        pmo_redis_destroy (&self.redis);
        orgtree_destroy (&self.orgs);
        ((gateway_admin_config_t *)args)->failed = true;
        zsock_signal (pipe, 1);
        return;
    }
    pmo_redis_ready (self.redis);
    self.bootstrapped = s_bootstrap (&self) == 0;
    zsock_signal (pipe, 0);

    zpoller_t *poller = zpoller_new (pipe, pmo_server_socket (self.server), NULL);
    bool running = true;
    while (running) {
        void *which = zpoller_wait (poller, 1000);
        if (which == pipe) {
            char *command = zstr_recv (pipe);
            running = !(command && streq (command, "$TERM"));
            zstr_free (&command);
        } else if (which == pmo_server_socket (self.server))
            pmo_server_drain (self.server, 256);
        else if (zpoller_terminated (poller))
            running = false;
        //  Redis was down at start: try the first admin token again
        if (!self.bootstrapped)
            self.bootstrapped = s_bootstrap (&self) == 0;
    }
    pmo_server_drain (self.server, 100000);
    zpoller_destroy (&poller);
    pmo_server_destroy (&self.server);
    gateway_store_destroy (&self.store);
    orgtree_destroy (&self.orgs);
    pmo_redis_destroy (&self.redis);
}
