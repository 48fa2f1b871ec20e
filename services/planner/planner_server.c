/*  planner_server.c: the planner actor: its sockets and connections, the
    loop, the helpers every request handler shares (units, the policy in
    force, events, the commit, the registry's projects), the role table
    and the dispatch of requests to their handlers (planner_benefits.c,
    planner_scores.c, planner_scenarios.c).
*/
#include "planner_internal.h"

#include "pmo_auth.h"
#include "pmo_log.h"
#include "pmo_ping.h"
#include "pmo_reflect.h"
#include "pmo_stream.h"
#include "pmo_wire.h"

#include <assert.h>
#include <glpk.h>
#include <inttypes.h>
#include <string.h>

#define IDEM_TTL_S       86400 //  a done request's reply, for retries
#define UNITS_TIMEOUT_MS 1000  //  one request to the registry
#define UNITS_MAX_AGE_MS 5000
#define UNITS_RETRY_MS   1000 //  the tree is read again this soon after the registry did not answer
#define PAGE             500  //  projects per registry page
#define MAX_PROJECTS     20000

#define ALL                                                                                        \
    (PLANNER_READ | PLANNER_BENEFITS | PLANNER_POLICY | PLANNER_SCORE | PLANNER_PLAN |             \
     PLANNER_COMMIT)
#define ANALYST (PLANNER_READ | PLANNER_BENEFITS | PLANNER_SCORE | PLANNER_PLAN)

//  Who may do what: PMO directors and managers decide; analysts score,
//  keep benefits and model scenarios (decision support) but do not commit
//  them; sponsors and programme and project managers keep the benefits
//  they own; everyone else reads.
const pmo_role_table_t planner_roles = {
    .actions = {
        [PMO__ROLE__ROLE_ADMIN] = ALL,
        [PMO__ROLE__ROLE_PMO_DIRECTOR] = ALL,
        [PMO__ROLE__ROLE_PMO_MANAGER] = ALL,
        [PMO__ROLE__ROLE_PMO_ANALYST] = ANALYST,
        [PMO__ROLE__ROLE_SPONSOR] = PLANNER_READ | PLANNER_BENEFITS,
        [PMO__ROLE__ROLE_PROGRAMME_MANAGER] = PLANNER_READ | PLANNER_BENEFITS,
        [PMO__ROLE__ROLE_PROJECT_MANAGER] = PLANNER_READ | PLANNER_BENEFITS,
        [PMO__ROLE__ROLE_RESOURCE_MANAGER] = PLANNER_READ,
        [PMO__ROLE__ROLE_RISK_MANAGER] = PLANNER_READ,
        [PMO__ROLE__ROLE_TEAM_MEMBER] = PLANNER_READ,
        [PMO__ROLE__ROLE_VIEWER] = PLANNER_READ,
    }};

//  ---------------------------------------------------------------------
//  Request helpers

Pmo__PlannerReply *planner_reply (pmo_request_t *req)
{
    return (Pmo__PlannerReply *)req->reply;
}

const Pmo__OrgUnit *planner_unit (planner_t *self, pmo_request_t *req, const char *id,
                                  const char *field)
{
    if (pmo_str_empty (id)) {
        FAIL (req, INVALID, field, "%s is required", field);
        return NULL;
    }
    Pmo__OrgUnit *unit;
    int rc = orgtree_unit (self->tree, id, req->arena, &unit);
    if (rc < 0) {
        pmo_request_unavailable (req, "the registry (org units)");
        return NULL;
    }
    if (rc == 0 || unit->archived) {
        FAIL (req, NOT_FOUND, field, "no org unit with id '%.64s'", id);
        return NULL;
    }
    return unit;
}

Pmo__EffectivePolicy *planner_effective (planner_t *self, pmo_request_t *req, const char *path,
                                         int depth)
{
    char *parts[32];
    size_t n = 0;
    char *copy = pmo_arena_strdup (req->arena, path ? path : "");
    char *save = NULL;
    for (char *p = strtok_r (copy, "/", &save); p && n < 32; p = strtok_r (NULL, "/", &save))
        parts[n++] = p;
    if (depth >= 0 && (size_t)depth < n)
        n = (size_t)depth;
    Pmo__EffectivePolicy *effective = pmo_arena_alloc (req->arena, sizeof *effective);
    pmo__effective_policy__init (effective);
    Pmo__PlannerPolicy *merged = pmo_arena_alloc (req->arena, sizeof *merged);
    pmo__planner_policy__init (merged);
    merged->lag_threshold = PLANNER_DEFAULT_LAG;
    merged->org_unit = n ? parts[n - 1] : "";
    effective->policy = merged;
    if (!n)
        return effective;
    char **keys = pmo_arena_alloc (req->arena, n * sizeof (char *));
    for (size_t i = 0; i < n; i++)
        keys[i] = planner_key_policy (req->arena, self->config.hub, parts[i]);
    ProtobufCMessage **msgs = pmo_arena_alloc (req->arena, n * sizeof (void *));
    if (planner_store_get_many (self->redis, req->arena, keys, n, &pmo__planner_policy__descriptor,
                                msgs, NULL)) {
        pmo_request_unavailable (req, STORE_NAME);
        return NULL;
    }
    //  From the root down: the nearest unit that sets a part wins (a
    //  unit's own policy was checked to only tighten where it must)
    for (size_t i = 0; i < n; i++) {
        Pmo__PlannerPolicy *own = (Pmo__PlannerPolicy *)msgs[i];
        if (!own)
            continue;
        if (own->n_criteria) {
            merged->criteria = own->criteria;
            merged->n_criteria = own->n_criteria;
            effective->criteria_from = parts[i];
        }
        if (own->lag_threshold > 0) {
            merged->lag_threshold = own->lag_threshold;
            effective->threshold_from = parts[i];
        }
    }
    return effective;
}

Pmo__Event *planner_event (planner_t *self, pmo_request_t *req, const char *type,
                           const char *division, const char *org_unit, const char *path,
                           const char *entity_id, uint64_t version, const char *body_field,
                           ProtobufCMessage *body)
{
    (void)self;
    Pmo__Event *event = pmo_arena_alloc (req->arena, sizeof (Pmo__Event));
    pmo__event__init (event);
    event->type = (char *)type;
    event->division = (char *)division;
    event->org_unit = (char *)(org_unit ? org_unit : "");
    event->org_unit_path = (char *)(path ? path : "");
    event->entity_id = (char *)entity_id;
    event->entity_version = version;
    event->time_ms = pmo_now_ms ();
    event->actor = pmo_request_who (req)->subject;
    event->request_id = req->header->request_id;
    event->source = "planner";
    pmo_reflect_set_oneof (&event->base, body_field, body);
    return event;
}

void planner_commit_event (pmo_request_t *req, pmo_commit_t *commit, const char *division,
                           Pmo__Event *event, Pmo__Event ***events, size_t *n)
{
    size_t size;
    uint8_t *blob = pmo_reflect_pack (&event->base, req->arena, &size);
    pmo_commit_event (commit, pmo_stream_key (req->arena, division), event->type, blob, size);
    Pmo__Event **list = pmo_arena_alloc (req->arena, (*n + 1) * sizeof (void *));
    if (*n)
        memcpy (list, *events, *n * sizeof (void *));
    list[(*n)++] = event;
    *events = list;
}

//  Publish the events of a commit: the last carries the id the commit
//  returned; the earlier ones were appended just before it in the same
//  script (same millisecond, consecutive sequence numbers).
static void s_publish (planner_t *self, pmo_request_t *req, Pmo__Event **events, size_t n,
                       const char *last_id)
{
    unsigned long long ms = 0, seq = 0;
    bool parsed = sscanf (last_id, "%llu-%llu", &ms, &seq) == 2;
    for (size_t i = 0; i < n; i++) {
        size_t back = n - 1 - i;
        events[i]->id = back == 0 ? (char *)last_id
                        : parsed && seq >= back
                            ? pmo_arena_printf (req->arena, "%llu-%llu", ms, seq - back)
                            : "";
        size_t size;
        uint8_t *blob = pmo_reflect_pack (&events[i]->base, req->arena, &size);
        zmsg_t *msg = zmsg_new ();
        zmsg_addstrf (msg, "%s.%s", events[i]->division, events[i]->type);
        zmsg_addmem (msg, blob, size);
        zmsg_send (&msg, self->pub);
    }
}

void planner_commit (planner_t *self, pmo_request_t *req, pmo_commit_t *commit, Pmo__Event **events,
                     size_t n)
{
    size_t size;
    uint8_t *blob = pmo_reflect_pack (req->reply, req->arena, &size);
    pmo_commit_reply (commit, blob, size, IDEM_TTL_S);
    pmo_commit_result_t result;
    pmo_commit_exec (commit, self->redis, &result);
    pmo_commit_destroy (&commit);
    switch (result.status) {
    case PMO_COMMIT_OK:
        s_publish (self, req, events, n, result.stream_id);
        break;
    case PMO_COMMIT_DUPLICATE:
        req->raw_reply = pmo_arena_memdup (req->arena, result.previous, result.previous_size);
        req->raw_size = result.previous_size;
        break;
    case PMO_COMMIT_CONFLICT:
        FAIL (req, CONFLICT, "version",
              "it changed while this request was handled (%s is now version %llu); read it "
              "again and retry",
              result.key, (unsigned long long)result.actual_version);
        break;
    case PMO_COMMIT_TAKEN:
    case PMO_COMMIT_ERROR:
        FAIL (req, INTERNAL, "", "the store refused the commit; nothing was written");
        break;
    case PMO_COMMIT_UNAVAILABLE:
        pmo_request_unavailable (req, STORE_NAME);
        break;
    }
    pmo_commit_result_clear (&result);
}

int planner_read_scope (planner_t *self, pmo_request_t *req, const char *org_unit,
                        const char *prefix, const ProtobufCMessageDescriptor *desc, size_t max,
                        ProtobufCMessage ***out, size_t *n_out)
{
    *out = NULL;
    *n_out = 0;
    const char *path = NULL;
    const char *only_division = NULL;
    if (!pmo_str_empty (org_unit)) {
        const Pmo__OrgUnit *unit = planner_unit (self, req, org_unit, "org_unit");
        if (!unit)
            return -1;
        path = unit->path;
        //  Below a division, only that division's keys can hold them
        if (!streq (unit->id, self->config.hub))
            only_division = unit->division;
        if (!pmo_access_allowed (pmo_request_who (req), &planner_roles, PLANNER_READ, NULL)) {
            FAIL (req, FORBIDDEN, "org_unit", "%s may not read the planner's registers",
                  pmo_request_who (req)->subject);
            return -1;
        }
    }
    char **divisions = NULL;
    size_t n_div = 0;
    if (only_division)
        pmo_arena_append_string (req->arena, &divisions, &n_div, only_division);
    else {
        //  The divisions as the tree holds them: the loop reads it again
        //  without waiting (self->units); only a tree never read is read
        //  here, for this request
        if (!orgtree_reader_read_once (self->units)) {
            orgtree_reader_done (self->units, orgtree_refresh (self->tree, false));
            if (!orgtree_at (self->tree, 0)) {
                pmo_request_unavailable (req, "the registry (org units)");
                return -1;
            }
        }
        for (size_t i = 0; orgtree_division_at (self->tree, i); i++)
            pmo_arena_append_string (req->arena, &divisions, &n_div,
                                     orgtree_division_at (self->tree, i));
    }
    size_t room = 0;
    for (size_t d = 0; d < n_div; d++) {
        char **ids;
        size_t n;
        if (planner_store_members (self->redis, req->arena,
                                   planner_key_index (req->arena, divisions[d], prefix), max, &ids,
                                   &n)) {
            pmo_request_unavailable (req, STORE_NAME);
            return -1;
        }
        if (!n)
            continue;
        char **keys = pmo_arena_alloc (req->arena, n * sizeof (char *));
        for (size_t i = 0; i < n; i++)
            keys[i] = planner_key_entity (req->arena, divisions[d], prefix, ids[i]);
        ProtobufCMessage **msgs = pmo_arena_alloc (req->arena, n * sizeof (void *));
        if (planner_store_get_many (self->redis, req->arena, keys, n, desc, msgs, NULL)) {
            pmo_request_unavailable (req, STORE_NAME);
            return -1;
        }
        for (size_t i = 0; i < n; i++) {
            if (!msgs[i])
                continue;
            const char *at = pmo_reflect_str (msgs[i], "org_unit_path");
            if (path && !pmo_path_contains (at, org_unit))
                continue;
            if (!pmo_access_allowed (pmo_request_who (req), &planner_roles, PLANNER_READ, at))
                continue;
            if (*n_out == room) {
                room = room ? room * 2 : 32;
                ProtobufCMessage **grown = pmo_arena_alloc (req->arena, room * sizeof (void *));
                if (*n_out)
                    memcpy (grown, *out, *n_out * sizeof (void *));
                *out = grown;
            }
            (*out)[(*n_out)++] = msgs[i];
        }
    }
    return 0;
}

int planner_projects (planner_t *self, pmo_request_t *req, const char *org_unit,
                      Pmo__Project ***projects, size_t *n)
{
    *projects = NULL;
    *n = 0;
    size_t max = 0;
    char *cursor = NULL;
    do {
        Pmo__ListRequest list = PMO__LIST_REQUEST__INIT;
        list.kind = PMO__ENTITY_KIND__ENTITY_KIND_PROJECT;
        list.org_unit = (char *)org_unit;
        list.limit = PAGE;
        list.cursor = cursor ? cursor : "";
        Pmo__RegistryRequest request = PMO__REGISTRY_REQUEST__INIT;
        request.body_case = PMO__REGISTRY_REQUEST__BODY_LIST;
        request.list = &list;
        Pmo__Header header;
        char id[40];
        pmo_header_init (&header, id, UNITS_TIMEOUT_MS * 5, &self->identity);
        request.header = &header;
        ProtobufCMessage *msg = NULL;
        if (pmo_client_call (self->registry, &request.base, &pmo__registry_reply__descriptor,
                             UNITS_TIMEOUT_MS * 5, 1, &msg)) {
            pmo_request_unavailable (req, "the registry (projects)");
            return -1;
        }
        Pmo__RegistryReply *reply = (Pmo__RegistryReply *)msg;
        if (reply->error && reply->error->code != PMO__ERROR_CODE__ERROR_NONE) {
            FAIL (req, UNAVAILABLE, "org_unit", "the registry refused the project list: %s",
                  reply->error->message);
            protobuf_c_message_free_unpacked (msg, NULL);
            return -1;
        }
        Pmo__Page *page = reply->body_case == PMO__REGISTRY_REPLY__BODY_PAGE ? reply->page : NULL;
        cursor = NULL;
        for (size_t i = 0; page && i < page->n_projects; i++) {
            if (*n == max) {
                max = max ? max * 2 : 64;
                Pmo__Project **grown = pmo_arena_alloc (req->arena, max * sizeof (void *));
                if (*n)
                    memcpy (grown, *projects, *n * sizeof (void *));
                *projects = grown;
            }
            (*projects)[(*n)++] =
                (Pmo__Project *)pmo_reflect_copy (&page->projects[i]->base, req->arena);
        }
        if (page && !pmo_str_empty (page->next_cursor) && *n < MAX_PROJECTS)
            cursor = pmo_arena_strdup (req->arena, page->next_cursor);
        protobuf_c_message_free_unpacked (msg, NULL);
    } while (cursor);
    return 0;
}

//  ---------------------------------------------------------------------
//  Dispatch

//  Who may see a project's benefits and scores: orgtree_resolve_projects
static bool s_may_see (const Pmo__Identity *who, const char *path)
{
    return pmo_access_allowed (who, &planner_roles, PLANNER_READ, path);
}

static void s_handle (void *state, pmo_request_t *req)
{
    planner_t *self = state;
    Pmo__PlannerRequest *r = (Pmo__PlannerRequest *)req->request;
    //  Projects may be named by code wherever an id is asked for
    if (orgtree_resolve_projects (self->tree, req, s_may_see, "the registry"))
        return;
    switch (r->body_case) {
    case PMO__PLANNER_REQUEST__BODY_CREATE_BENEFIT:
        return planner_handle_create_benefit (self, req, r->create_benefit);
    case PMO__PLANNER_REQUEST__BODY_UPDATE_BENEFIT:
        return planner_handle_update_benefit (self, req, r->update_benefit);
    case PMO__PLANNER_REQUEST__BODY_CHECK_BENEFIT:
        return planner_handle_check_benefit (self, req, r->check_benefit);
    case PMO__PLANNER_REQUEST__BODY_RECORD_MEASUREMENT:
        return planner_handle_record_measurement (self, req, r->record_measurement);
    case PMO__PLANNER_REQUEST__BODY_GET_BENEFIT:
        return planner_handle_get_benefit (self, req, r->get_benefit);
    case PMO__PLANNER_REQUEST__BODY_LIST_BENEFITS:
        return planner_handle_list_benefits (self, req, r->list_benefits);
    case PMO__PLANNER_REQUEST__BODY_ROLLUP_BENEFITS:
        return planner_handle_rollup (self, req, r->rollup_benefits);
    case PMO__PLANNER_REQUEST__BODY_SET_POLICY:
        return planner_handle_set_policy (self, req, r->set_policy);
    case PMO__PLANNER_REQUEST__BODY_GET_POLICY:
        return planner_handle_get_policy (self, req, r->get_policy);
    case PMO__PLANNER_REQUEST__BODY_SCORE_PROJECT:
        return planner_handle_score_project (self, req, r->score_project);
    case PMO__PLANNER_REQUEST__BODY_RANKING:
        return planner_handle_ranking (self, req, r->ranking);
    case PMO__PLANNER_REQUEST__BODY_SOLVE_SCENARIO:
        return planner_handle_solve (self, req, r->solve_scenario);
    case PMO__PLANNER_REQUEST__BODY_FRONTIER:
        return planner_handle_frontier (self, req, r->frontier);
    case PMO__PLANNER_REQUEST__BODY_GET_SCENARIO:
        return planner_handle_get_scenario (self, req, r->get_scenario);
    case PMO__PLANNER_REQUEST__BODY_COMPARE:
        return planner_handle_compare (self, req, r->compare);
    case PMO__PLANNER_REQUEST__BODY_LIST_SCENARIOS:
        return planner_handle_list_scenarios (self, req, r->list_scenarios);
    case PMO__PLANNER_REQUEST__BODY_COMMIT_SCENARIO:
        return planner_handle_commit_scenario (self, req, r->commit_scenario);
    case PMO__PLANNER_REQUEST__BODY_PING:
        return pmo_request_pong (req, "planner", self->redis, self->started_ms);
    default:
        FAIL (req, UNSUPPORTED, "body", "unknown request type");
    }
}

//  ---------------------------------------------------------------------
//  The actor

int planner_month_now (planner_t *self)
{
    int month;
    if (!pmo_str_empty (self->config.month) && planner_period_valid (self->config.month, &month))
        return month;
    return planner_month_of_ms (pmo_now_ms ());
}

static void s_destroy (planner_t *self)
{
    pmo_server_destroy (&self->server);
    zsock_destroy (&self->pub);
    pmo_client_destroy (&self->registry);
    pmo_client_destroy (&self->allocator);
    orgtree_reader_destroy (&self->units);
    orgtree_destroy (&self->tree);
    pmo_redis_destroy (&self->redis);
}

static int s_start (planner_t *self)
{
    self->redis = pmo_redis_new (self->config.redis_url, self->config.redis_timeout_ms);
    if (!self->redis) {
        pmo_error ("planner: bad redis url");
        return -1;
    }
    pmo__identity__init (&self->identity);
    pmo__grant__init (&self->grant);
    self->identity.subject = "planner";
    self->grant.role = PMO__ROLE__ROLE_VIEWER;
    self->grant.org_unit = (char *)self->config.hub;
    self->grants[0] = &self->grant;
    self->identity.grants = self->grants;
    self->identity.n_grants = 1;
    self->registry = pmo_client_new (self->config.registry);
    if (!pmo_str_empty (self->config.allocator)) {
        self->allocator = pmo_client_new (self->config.allocator);
        if (!self->allocator) {
            pmo_error ("planner: bad allocator endpoint=%s", self->config.allocator);
            return -1;
        }
    }
    orgtree_config_t tree_config = {.registry = self->config.registry,
                                    .identity = &self->identity,
                                    .timeout_ms = UNITS_TIMEOUT_MS,
                                    .max_age_ms = UNITS_MAX_AGE_MS};
    self->tree = self->registry ? orgtree_new (&tree_config) : NULL;
    orgtree_reader_config_t reader_config = {.registry = self->config.registry,
                                             .identity = &self->identity,
                                             .timeout_ms = UNITS_TIMEOUT_MS,
                                             .refresh_ms = UNITS_MAX_AGE_MS,
                                             .retry_ms = UNITS_RETRY_MS,
                                             .name = "planner"};
    self->units = self->tree ? orgtree_reader_new (self->tree, &reader_config) : NULL;
    if (!self->units) {
        pmo_error ("planner: bad registry endpoint=%s", self->config.registry);
        return -1;
    }
    pmo_server_config_t server_config = {
        .name = "planner",
        .request_desc = &pmo__planner_request__descriptor,
        .reply_desc = &pmo__planner_reply__descriptor,
        .handler = s_handle,
        .state = self,
    };
    self->server = pmo_server_new (&server_config, self->config.endpoint);
    self->pub = zsock_new (ZMQ_PUB);
    assert (self->pub);
    if (!self->server || pmo_auth_server (self->pub) ||
        zsock_bind (self->pub, "%s", self->config.pub_endpoint) < 0) {
        pmo_error ("planner: cannot bind endpoint=%s pub=%s", self->config.endpoint,
                   self->config.pub_endpoint);
        return -1;
    }
    return 0;
}

void planner_server_actor (zsock_t *pipe, void *args)
{
    planner_t self = {.config = *(planner_config_t *)args};
    self.started_ms = pmo_now_ms ();
    if (self.config.redis_timeout_ms <= 0)
        self.config.redis_timeout_ms = 1000;
    if (s_start (&self)) {
        s_destroy (&self);
        ((planner_config_t *)args)->failed = true;
        zsock_signal (pipe, 1);
        return;
    }
    pmo_redis_ready (self.redis);
    pmo_info ("planner: ready endpoint=%s pub=%s redis=%s hub=%s registry=%s allocator=%s",
              self.config.endpoint, self.config.pub_endpoint, pmo_redis_safe_url (self.redis),
              self.config.hub, self.config.registry,
              pmo_str_empty (self.config.allocator) ? "none" : self.config.allocator);
    zsock_signal (pipe, 0);
    zpoller_t *poller = zpoller_new (pipe, pmo_server_socket (self.server),
                                     orgtree_reader_socket (self.units), NULL);
    //  The first lag sweep soon after start (a restart does not wait a
    //  whole period), then every lag_sweep_ms
    if (self.config.lag_sweep_ms > 0)
        self.next_sweep_ms =
            pmo_mono_ms () + (self.config.lag_sweep_ms < 5000 ? self.config.lag_sweep_ms : 5000);
    while (true) {
        int wait = 1000;
        if (self.config.lag_sweep_ms > 0) {
            int64_t due = self.next_sweep_ms - pmo_mono_ms ();
            wait = due <= 0 ? 0 : due < wait ? (int)due : wait;
        }
        int64_t units_due = orgtree_reader_next_ms (self.units) - pmo_mono_ms ();
        wait = units_due <= 0 ? 0 : units_due < wait ? (int)units_due : wait;
        void *which = zpoller_wait (poller, wait);
        if (pmo_mono_ms () >= orgtree_reader_next_ms (self.units))
            orgtree_reader_due (self.units);
        if (self.config.lag_sweep_ms > 0 && pmo_mono_ms () >= self.next_sweep_ms) {
            planner_sweep_lag (&self);
            self.next_sweep_ms = pmo_mono_ms () + self.config.lag_sweep_ms;
        }
        if (which == pipe) {
            char *command = zstr_recv (pipe);
            bool stop = !command || streq (command, "$TERM");
            zstr_free (&command);
            if (stop)
                break;
        } else if (which == pmo_server_socket (self.server))
            pmo_server_drain (self.server, 64);
        else if (which == orgtree_reader_socket (self.units))
            orgtree_reader_take (self.units);
        else if (zpoller_terminated (poller))
            break;
    }
    pmo_server_drain (self.server, 100000);
    const pmo_server_stats_t *stats = pmo_server_stats (self.server);
    pmo_info ("planner: stopping requests=%llu errors=%llu", (unsigned long long)stats->requests,
              (unsigned long long)stats->errors);
    zpoller_destroy (&poller);
    s_destroy (&self);
    //  GLPK keeps an environment per thread; this one ends here
    glp_free_env ();
}
