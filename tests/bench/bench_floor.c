/*  bench_floor.c: the floor server (see bench_floor.h).

    Its keys start with "floor:" so they never meet the registry's in the
    shared Redis. It checks nothing a real service would check: a request it
    cannot serve gets an error reply, and the benchmark counts it.
*/
#include "bench_floor.h"
#include "pmo_auth.h"
#include "pmo_reflect.h"
#include "pmo_util.h"
#include "pmo_wire.h"
#include "registry.pb-c.h"

#include <czmq.h>
#include <hiredis/hiredis.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_DIVISION "dft"
#define S_OU_KEY   "floor:{hub}:ou:" S_DIVISION
#define S_SEQ_KEY  "floor:{" S_DIVISION "}:seq"
#define S_EVENTS   "floor:{" S_DIVISION "}:events"
#define S_PR_KEY   "floor:{" S_DIVISION "}:pr:"

//  The write of the floor: the entity and its event, like the registry's
//  commit without its checks, index, code claim and stored reply.
static const char *s_commit_source =
    "redis.call('HSET', KEYS[1], 'v', ARGV[1], 'd', ARGV[2])\n"
    "return redis.call('XADD', KEYS[2], '*', 'type', ARGV[3], 'data', ARGV[2])\n";

//  Everything of one request in one call. KEYS: idem, org unit, seq,
//  events; ARGV: project id ('' = new), blob, event type, entity key prefix.
//  The entity key is built in the script (no cluster here to object).
static const char *s_one_source =
    "redis.call('GET', KEYS[1])\n"
    "redis.call('HMGET', KEYS[2], 'v', 'd')\n"
    "local id = ARGV[1]\n"
    "local v = 1\n"
    "if id == '' then\n"
    "  id = 'pr_dft_' .. redis.call('HINCRBY', KEYS[3], 'pr', 1)\n"
    "else\n"
    "  local got = redis.call('HMGET', ARGV[4] .. id, 'v', 'd')\n"
    "  v = tonumber(got[1] or '0') + 1\n"
    "end\n"
    "redis.call('HSET', ARGV[4] .. id, 'v', v, 'd', ARGV[2])\n"
    "redis.call('XADD', KEYS[4], '*', 'type', ARGV[3], 'data', ARGV[2])\n"
    "return {id, tostring(v)}\n";

//  How a request's Redis work is done; each ROUTER serves one mode.
typedef enum {
    FLOOR_SEQUENTIAL = 0, //  the registry's round trips, one after the other
    FLOOR_PIPELINED = 1,  //  the independent reads in one write, then the commit
    FLOOR_ONE_TRIP = 2,   //  everything in one script call
    FLOOR_BATCHED = 3,    //  like the registry: a drained batch's reads in one
                          //  round trip, then all its commits in another
    FLOOR_MODES = 4
} floor_mode_t;

typedef struct {
    redisContext *redis; //  NULL while disconnected
    int redis_port;
    char commit_sha[41];
    char one_sha[41];
    pmo_arena_t *arena; //  one request's allocations
} floor_t;

//  ---------------------------------------------------------------------
//  Redis

static int s_connect (floor_t *self)
{
    if (self->redis)
        return 0;
    struct timeval tv = {2, 0};
    self->redis = redisConnectWithTimeout ("127.0.0.1", self->redis_port, tv);
    if (!self->redis || self->redis->err) {
        fprintf (stderr, "floor: cannot connect to redis port %d: %s\n", self->redis_port,
                 self->redis ? self->redis->errstr : "out of memory");
        if (self->redis)
            redisFree (self->redis);
        self->redis = NULL;
        return -1;
    }
    redisSetTimeout (self->redis, tv);
    return 0;
}

//  Run one command; NULL (the connection dropped) or an error reply fail it.
static redisReply *s_command (floor_t *self, int argc, const char **argv, const size_t *lens,
                              char *why, size_t why_size)
{
    if (s_connect (self)) {
        snprintf (why, why_size, "redis unreachable");
        return NULL;
    }
    redisReply *reply = redisCommandArgv (self->redis, argc, argv, lens);
    if (!reply) {
        snprintf (why, why_size, "redis: %s", self->redis->errstr);
        redisFree (self->redis);
        self->redis = NULL;
        return NULL;
    }
    if (reply->type == REDIS_REPLY_ERROR) {
        snprintf (why, why_size, "redis: %s", reply->str);
        freeReplyObject (reply);
        return NULL;
    }
    return reply;
}

//  A command from plain strings.
static redisReply *s_run (floor_t *self, char *why, size_t why_size, int argc, ...)
{
    const char *argv[8];
    size_t lens[8];
    va_list args;
    va_start (args, argc);
    for (int i = 0; i < argc && i < 8; i++) {
        argv[i] = va_arg (args, const char *);
        lens[i] = strlen (argv[i]);
    }
    va_end (args);
    return s_command (self, argc, argv, lens, why, why_size);
}

//  Send n commands in one write and read their n replies: one round trip.
//  Returns 0 with replies[] set (caller frees them), or -1.
static int s_pipeline (floor_t *self, int n, int *argc, const char **argv[], redisReply **replies,
                       char *why, size_t why_size)
{
    if (s_connect (self)) {
        snprintf (why, why_size, "redis unreachable");
        return -1;
    }
    for (int i = 0; i < n; i++)
        redisAppendCommandArgv (self->redis, argc[i], argv[i], NULL);
    int got = 0;
    for (; got < n; got++) {
        void *reply = NULL;
        if (redisGetReply (self->redis, &reply) != REDIS_OK || !reply) {
            snprintf (why, why_size, "redis: %s", self->redis->errstr);
            redisFree (self->redis);
            self->redis = NULL;
            break;
        }
        replies[got] = reply;
    }
    int rc = got == n ? 0 : -1;
    for (int i = 0; i < got && rc == 0; i++)
        if (replies[i]->type == REDIS_REPLY_ERROR) {
            snprintf (why, why_size, "redis: %s", replies[i]->str);
            rc = -1;
        }
    if (rc)
        for (int i = 0; i < got; i++)
            freeReplyObject (replies[i]);
    return rc;
}

static int s_load (floor_t *self, const char *source, char *sha)
{
    char why[256];
    redisReply *reply = s_run (self, why, sizeof why, 3, "SCRIPT", "LOAD", source);
    if (!reply || reply->type != REDIS_REPLY_STRING || reply->len != 40) {
        fprintf (stderr, "floor: script load failed: %s\n", reply ? "bad reply" : why);
        if (reply)
            freeReplyObject (reply);
        return -1;
    }
    memcpy (sha, reply->str, 41);
    freeReplyObject (reply);
    return 0;
}

//  ---------------------------------------------------------------------
//  Requests

//  The project as the registry would store and return it.
static void s_stamp (Pmo__Project *project, const char *id, uint64_t version)
{
    int64_t now = pmo_now_ms ();
    project->id = (char *)id;
    project->version = version;
    project->updated_ms = now;
    if (version == 1)
        project->created_ms = now;
    if (project->phase == PMO__PHASE__PHASE_UNSPECIFIED)
        project->phase = PMO__PHASE__PHASE_INITIATION;
    if (project->status == PMO__PROJECT_STATUS__PROJECT_STATUS_UNSPECIFIED)
        project->status = PMO__PROJECT_STATUS__PROJECT_STATUS_PROPOSED;
}

//  Free a reply, returning whether it was there.
static bool s_done (redisReply *reply)
{
    if (!reply)
        return false;
    freeReplyObject (reply);
    return true;
}

static int s_commit (floor_t *self, const char *key, Pmo__Project *project, const char *type,
                     char *why, size_t why_size)
{
    size_t size = protobuf_c_message_get_packed_size (&project->base);
    uint8_t *blob = pmo_arena_alloc (self->arena, size ? size : 1);
    protobuf_c_message_pack (&project->base, blob);
    char version[24];
    snprintf (version, sizeof version, "%llu", (unsigned long long)project->version);
    const char *argv[] = {"EVALSHA", self->commit_sha,   "2", key, S_EVENTS,
                          version,   (const char *)blob, type};
    size_t lens[] = {7,    40,           1, strlen (key), strlen (S_EVENTS), strlen (version),
                     size, strlen (type)};
    return s_done (s_command (self, 8, argv, lens, why, why_size)) ? 0 : -1;
}

//  One script call does it all; *version is the new version.
static int s_one_trip (floor_t *self, const char *idem, Pmo__Project *project, const char *type,
                       char *why, size_t why_size)
{
    size_t size = protobuf_c_message_get_packed_size (&project->base);
    uint8_t *blob = pmo_arena_alloc (self->arena, size ? size : 1);
    protobuf_c_message_pack (&project->base, blob);
    const char *id = project->id ? project->id : "";
    const char *argv[] = {"EVALSHA",          self->one_sha, "4",      idem,
                          S_OU_KEY,           S_SEQ_KEY,     S_EVENTS, id,
                          (const char *)blob, type,          S_PR_KEY};
    size_t lens[] = {7,
                     40,
                     1,
                     strlen (idem),
                     strlen (S_OU_KEY),
                     strlen (S_SEQ_KEY),
                     strlen (S_EVENTS),
                     strlen (id),
                     size,
                     strlen (type),
                     strlen (S_PR_KEY)};
    redisReply *reply = s_command (self, 11, argv, lens, why, why_size);
    if (!reply)
        return -1;
    int rc = -1;
    if (reply->type == REDIS_REPLY_ARRAY && reply->elements == 2 &&
        reply->element[0]->type == REDIS_REPLY_STRING &&
        reply->element[1]->type == REDIS_REPLY_STRING) {
        s_stamp (project, pmo_arena_strdup (self->arena, reply->element[0]->str),
                 strtoull (reply->element[1]->str, NULL, 10));
        rc = 0;
    } else
        snprintf (why, why_size, "unexpected script reply");
    freeReplyObject (reply);
    return rc;
}

static int s_create (floor_t *self, floor_mode_t mode, const char *request_id,
                     Pmo__Project *project, char *why, size_t why_size)
{
    char *idem = pmo_arena_printf (self->arena, "floor:{" S_DIVISION "}:idem:%s", request_id);
    project->id = NULL;
    if (mode == FLOOR_ONE_TRIP)
        return s_one_trip (self, idem, project, "project.created", why, why_size);
    long long seq = 0;
    if (mode == FLOOR_PIPELINED) {
        //  The replay check, the org unit and the id do not depend on each other
        const char *get[] = {"GET", idem};
        const char *hmget[] = {"HMGET", S_OU_KEY, "v", "d"};
        const char *hincrby[] = {"HINCRBY", S_SEQ_KEY, "pr", "1"};
        const char **argv[] = {get, hmget, hincrby};
        int argc[] = {2, 4, 4};
        redisReply *replies[3];
        if (s_pipeline (self, 3, argc, argv, replies, why, why_size))
            return -1;
        seq = replies[2]->integer;
        for (int i = 0; i < 3; i++)
            freeReplyObject (replies[i]);
    } else {
        if (!s_done (s_run (self, why, why_size, 2, "GET", idem)) ||
            !s_done (s_run (self, why, why_size, 4, "HMGET", S_OU_KEY, "v", "d")))
            return -1;
        redisReply *reply = s_run (self, why, why_size, 4, "HINCRBY", S_SEQ_KEY, "pr", "1");
        if (!reply)
            return -1;
        seq = reply->integer;
        freeReplyObject (reply);
    }
    char *id = pmo_arena_printf (self->arena, "pr_" S_DIVISION "_%lld", seq);
    s_stamp (project, id, 1);
    return s_commit (self, pmo_arena_printf (self->arena, S_PR_KEY "%s", id), project,
                     "project.created", why, why_size);
}

//  The version in an HMGET v d reply, 0 if absent.
static uint64_t s_version (const redisReply *reply)
{
    return reply->type == REDIS_REPLY_ARRAY && reply->elements == 2 &&
                   reply->element[0]->type == REDIS_REPLY_STRING
               ? strtoull (reply->element[0]->str, NULL, 10)
               : 0;
}

static int s_update (floor_t *self, floor_mode_t mode, const char *request_id,
                     Pmo__Project *project, char *why, size_t why_size)
{
    if (pmo_str_empty (project->id)) {
        snprintf (why, why_size, "update without an id");
        return -1;
    }
    char *idem = pmo_arena_printf (self->arena, "floor:{" S_DIVISION "}:idem:%s", request_id);
    if (mode == FLOOR_ONE_TRIP)
        return s_one_trip (self, idem, project, "project.updated", why, why_size);
    char *key = pmo_arena_printf (self->arena, S_PR_KEY "%s", project->id);
    uint64_t version = 0;
    if (mode == FLOOR_PIPELINED) {
        //  The project, its org unit (named in the request) and the replay
        //  check do not depend on each other
        const char *project_read[] = {"HMGET", key, "v", "d"};
        const char *unit_read[] = {"HMGET", S_OU_KEY, "v", "d"};
        const char *get[] = {"GET", idem};
        const char **argv[] = {project_read, unit_read, get};
        int argc[] = {4, 4, 2};
        redisReply *replies[3];
        if (s_pipeline (self, 3, argc, argv, replies, why, why_size))
            return -1;
        version = s_version (replies[0]);
        for (int i = 0; i < 3; i++)
            freeReplyObject (replies[i]);
    } else {
        redisReply *stored = s_run (self, why, why_size, 4, "HMGET", key, "v", "d");
        if (!stored)
            return -1;
        version = s_version (stored);
        freeReplyObject (stored);
        if (!s_done (s_run (self, why, why_size, 4, "HMGET", S_OU_KEY, "v", "d")) ||
            !s_done (s_run (self, why, why_size, 2, "GET", idem)))
            return -1;
    }
    s_stamp (project, project->id, version + 1);
    return s_commit (self, key, project, "project.updated", why, why_size);
}

//  Send reply (packed in arena) to peer on router.
static void s_answer (zsock_t *router, zframe_t *peer, Pmo__RegistryReply *reply,
                      pmo_arena_t *arena)
{
    size_t size;
    uint8_t *buffer = pmo_reflect_pack (&reply->base, arena, &size);
    zmsg_t *answer = zmsg_new ();
    zmsg_addmem (answer, zframe_data (peer), zframe_size (peer));
    zmsg_addmem (answer, buffer, size);
    if (zmsg_send (&answer, router) != 0)
        zmsg_destroy (&answer);
}

static void s_fail (floor_t *self, Pmo__RegistryReply *reply, Pmo__ErrorCode code,
                    const char *message)
{
    Pmo__Error *error = pmo_arena_alloc (self->arena, sizeof (Pmo__Error));
    pmo__error__init (error);
    error->code = code;
    error->message = pmo_arena_strdup (self->arena, message);
    reply->error = error;
}

static void s_handle (floor_t *self, zsock_t *router, floor_mode_t mode)
{
    zmsg_t *msg = zmsg_recv (router);
    if (!msg)
        return;
    zframe_t *peer = zmsg_pop (msg);
    zframe_t *body = zmsg_pop (msg);
    Pmo__RegistryReply reply;
    pmo__registry_reply__init (&reply);
    Pmo__Header echo;
    pmo__header__init (&echo);
    echo.protocol_version = PMO_PROTOCOL_VERSION;
    reply.header = &echo;
    Pmo__RegistryRequest *request =
        body ? (Pmo__RegistryRequest *)protobuf_c_message_unpack (
                   &pmo__registry_request__descriptor, pmo_arena_allocator (self->arena),
                   zframe_size (body), zframe_data (body))
             : NULL;
    char why[320] = "";
    Pmo__Pong pong;
    if (!request || !request->header)
        s_fail (self, &reply, PMO__ERROR_CODE__ERROR_MALFORMED, "not a RegistryRequest");
    else {
        echo.request_id = request->header->request_id;
        int rc = 0;
        switch (request->body_case) {
        case PMO__REGISTRY_REQUEST__BODY_CREATE_PROJECT:
            rc = s_create (self, mode, echo.request_id, request->create_project, why, sizeof why);
            reply.body_case = PMO__REGISTRY_REPLY__BODY_PROJECT;
            reply.project = request->create_project;
            break;
        case PMO__REGISTRY_REQUEST__BODY_UPDATE_PROJECT:
            rc = s_update (self, mode, echo.request_id, request->update_project, why, sizeof why);
            reply.body_case = PMO__REGISTRY_REPLY__BODY_PROJECT;
            reply.project = request->update_project;
            break;
        case PMO__REGISTRY_REQUEST__BODY_PING:
            pmo__pong__init (&pong);
            pong.service = "floor";
            pong.redis_ok = s_connect (self) == 0;
            reply.body_case = PMO__REGISTRY_REPLY__BODY_PONG;
            reply.pong = &pong;
            break;
        default:
            snprintf (why, sizeof why, "the floor serves create_project and update_project only");
            rc = -1;
        }
        if (rc) {
            reply.body_case = PMO__REGISTRY_REPLY__BODY__NOT_SET;
            s_fail (self, &reply, PMO__ERROR_CODE__ERROR_UNAVAILABLE, why);
        }
    }
    s_answer (router, peer, &reply, self->arena);
    zframe_destroy (&peer);
    zframe_destroy (&body);
    zmsg_destroy (&msg);
    pmo_arena_reset (self->arena);
}

//  Answer a ping at once (the driver's check that a connection is made).
static void s_pong (zsock_t *router, zframe_t *peer, char *request_id, pmo_arena_t *arena)
{
    Pmo__Header echo = PMO__HEADER__INIT;
    echo.protocol_version = PMO_PROTOCOL_VERSION;
    echo.request_id = request_id;
    Pmo__Pong pong = PMO__PONG__INIT;
    pong.service = "floor";
    pong.redis_ok = true;
    Pmo__RegistryReply reply = PMO__REGISTRY_REPLY__INIT;
    reply.header = &echo;
    reply.body_case = PMO__REGISTRY_REPLY__BODY_PONG;
    reply.pong = &pong;
    s_answer (router, peer, &reply, arena);
}

//  The batched floor: read every request waiting on the socket, send all
//  their reads in one write, then all their commits in one write, then
//  answer them all. Two round trips per batch, as the registry does.
#define S_BATCH 64
static void s_handle_batch (floor_t *self, zsock_t *router)
{
    zframe_t *peers[S_BATCH];
    Pmo__RegistryRequest *requests[S_BATCH];
    Pmo__Project *projects[S_BATCH];
    int n = 0;
    zmsg_t *msg;
    while (n < S_BATCH && (msg = zmsg_recv (router))) {
        zframe_t *peer = zmsg_pop (msg);
        zframe_t *body = zmsg_pop (msg);
        Pmo__RegistryRequest *request =
            body ? (Pmo__RegistryRequest *)protobuf_c_message_unpack (
                       &pmo__registry_request__descriptor, pmo_arena_allocator (self->arena),
                       zframe_size (body), zframe_data (body))
                 : NULL;
        zframe_destroy (&body);
        zmsg_destroy (&msg);
        if (request && request->header && request->body_case == PMO__REGISTRY_REQUEST__BODY_PING) {
            s_pong (router, peer, request->header->request_id, self->arena);
            zframe_destroy (&peer);
            continue;
        }
        Pmo__Project *project = NULL;
        if (request && request->body_case == PMO__REGISTRY_REQUEST__BODY_CREATE_PROJECT)
            project = request->create_project;
        else if (request && request->body_case == PMO__REGISTRY_REQUEST__BODY_UPDATE_PROJECT)
            project = request->update_project;
        if (!project || !request->header) {
            zframe_destroy (&peer);
            continue; //  the batched floor serves creates and updates only
        }
        peers[n] = peer;
        requests[n] = request;
        projects[n++] = project;
    }
    if (n == 0 || s_connect (self))
        goto done;
    //  Round trip 1: three reads per request
    for (int i = 0; i < n; i++) {
        char *idem = pmo_arena_printf (self->arena, "floor:{" S_DIVISION "}:idem:%s",
                                       requests[i]->header->request_id);
        if (requests[i]->body_case == PMO__REGISTRY_REQUEST__BODY_CREATE_PROJECT) {
            redisAppendCommand (self->redis, "HMGET %s v d", S_OU_KEY);
            redisAppendCommand (self->redis, "GET %s", idem);
            redisAppendCommand (self->redis, "HINCRBY %s pr 1", S_SEQ_KEY);
        } else {
            redisAppendCommand (self->redis, "HMGET " S_PR_KEY "%s v d", projects[i]->id);
            redisAppendCommand (self->redis, "GET %s", idem);
            redisAppendCommand (self->redis, "HMGET %s v d", S_OU_KEY);
        }
    }
    for (int i = 0; i < n; i++) {
        redisReply *replies[3] = {NULL, NULL, NULL};
        for (int k = 0; k < 3; k++)
            if (redisGetReply (self->redis, (void **)&replies[k]) != REDIS_OK)
                goto broken;
        if (requests[i]->body_case == PMO__REGISTRY_REQUEST__BODY_CREATE_PROJECT)
            s_stamp (projects[i],
                     pmo_arena_printf (self->arena, "pr_" S_DIVISION "_%lld", replies[2]->integer),
                     1);
        else
            s_stamp (projects[i], projects[i]->id, s_version (replies[0]) + 1);
        for (int k = 0; k < 3; k++)
            freeReplyObject (replies[k]);
    }
    //  Round trip 2: every commit
    for (int i = 0; i < n; i++) {
        size_t size = protobuf_c_message_get_packed_size (&projects[i]->base);
        uint8_t *blob = pmo_arena_alloc (self->arena, size ? size : 1);
        protobuf_c_message_pack (&projects[i]->base, blob);
        char version[24];
        snprintf (version, sizeof version, "%llu", (unsigned long long)projects[i]->version);
        char *key = pmo_arena_printf (self->arena, S_PR_KEY "%s", projects[i]->id);
        const char *type = requests[i]->body_case == PMO__REGISTRY_REQUEST__BODY_CREATE_PROJECT
                               ? "project.created"
                               : "project.updated";
        const char *argv[] = {"EVALSHA", self->commit_sha,   "2", key, S_EVENTS,
                              version,   (const char *)blob, type};
        size_t lens[] = {7,    40,           1, strlen (key), strlen (S_EVENTS), strlen (version),
                         size, strlen (type)};
        redisAppendCommandArgv (self->redis, 8, argv, lens);
    }
    for (int i = 0; i < n; i++) {
        redisReply *reply = NULL;
        if (redisGetReply (self->redis, (void **)&reply) != REDIS_OK)
            goto broken;
        freeReplyObject (reply);
    }
    for (int i = 0; i < n; i++) {
        Pmo__Header echo = PMO__HEADER__INIT;
        echo.protocol_version = PMO_PROTOCOL_VERSION;
        echo.request_id = requests[i]->header->request_id;
        Pmo__RegistryReply reply = PMO__REGISTRY_REPLY__INIT;
        reply.header = &echo;
        reply.body_case = PMO__REGISTRY_REPLY__BODY_PROJECT;
        reply.project = projects[i];
        size_t size = protobuf_c_message_get_packed_size (&reply.base);
        uint8_t *buffer = pmo_arena_alloc (self->arena, size ? size : 1);
        protobuf_c_message_pack (&reply.base, buffer);
        zmsg_t *answer = zmsg_new ();
        zmsg_addmem (answer, zframe_data (peers[i]), zframe_size (peers[i]));
        zmsg_addmem (answer, buffer, size);
        if (zmsg_send (&answer, router) != 0)
            zmsg_destroy (&answer);
    }
    goto done;
broken:
    //  Redis went away mid-batch: the clients time out and count errors
    redisFree (self->redis);
    self->redis = NULL;
done:
    for (int i = 0; i < n; i++)
        zframe_destroy (&peers[i]);
    pmo_arena_reset (self->arena);
}

//  ---------------------------------------------------------------------
//  The process

static zsock_t *s_router (const char *endpoint)
{
    zsock_t *router = zsock_new (ZMQ_ROUTER);
    if (!router)
        return NULL;
    //  As the registry's engine sets them (pmo_server.c)
    zsock_set_router_mandatory (router, 1);
    zsock_set_sndtimeo (router, 1000);
    zsock_set_sndhwm (router, 10000);
    zsock_set_rcvhwm (router, 10000);
    zsock_set_rcvtimeo (router, 0); //  the batch reads until nothing waits
    zsock_set_linger (router, 0);
    if (pmo_auth_server (router) || zsock_bind (router, "%s", endpoint) < 0) {
        fprintf (stderr, "floor: cannot bind %s\n", endpoint);
        zsock_destroy (&router);
    }
    return router;
}

//  Store the org unit the requests read, as big as the registry's.
static int s_seed (floor_t *self)
{
    Pmo__OrgUnit unit;
    pmo__org_unit__init (&unit);
    unit.id = S_DIVISION;
    unit.name = "Department for Transport";
    unit.kind = PMO__ORG_UNIT_KIND__ORG_UNIT_KIND_DIVISION;
    unit.parent = "hub";
    unit.path = "hub/" S_DIVISION;
    unit.division = S_DIVISION;
    unit.version = 1;
    size_t size = protobuf_c_message_get_packed_size (&unit.base);
    uint8_t blob[512];
    if (size > sizeof blob)
        return -1;
    protobuf_c_message_pack (&unit.base, blob);
    const char *argv[] = {"HSET", S_OU_KEY, "v", "1", "d", (const char *)blob};
    size_t lens[] = {4, strlen (S_OU_KEY), 1, 1, 1, size};
    char why[256];
    if (!s_done (s_command (self, 6, argv, lens, why, sizeof why))) {
        fprintf (stderr, "floor: cannot seed the org unit: %s\n", why);
        return -1;
    }
    return 0;
}

int bench_floor_main (int argc, char **argv)
{
    if (argc != FLOOR_MODES + 1) {
        fprintf (stderr, "floor: usage: --serve-floor SEQUENTIAL_ENDPOINT PIPELINED_ENDPOINT "
                         "ONE_TRIP_ENDPOINT BATCHED_ENDPOINT REDIS_PORT\n");
        return 2;
    }
    zsys_init ();
    //  Serve with CURVE like the registry (the bench's keyring, in PMO_KEYS)
    const char *keys = getenv ("PMO_KEYS");
    if (keys && pmo_auth_setup (keys, "test"))
        return 1;
    floor_t self = {.redis_port = atoi (argv[FLOOR_MODES])};
    self.arena = pmo_arena_new ();
    zsock_t *routers[FLOOR_MODES] = {NULL};
    int status = 1;
    bool ready = s_connect (&self) == 0 && s_load (&self, s_commit_source, self.commit_sha) == 0 &&
                 s_load (&self, s_one_source, self.one_sha) == 0 && s_seed (&self) == 0;
    for (int mode = 0; mode < FLOOR_MODES && ready; mode++)
        ready = (routers[mode] = s_router (argv[mode])) != NULL;
    if (ready) {
        zpoller_t *poller = zpoller_new (routers[0], routers[1], routers[2], routers[3], NULL);
        while (!zsys_interrupted) {
            zsock_t *which = zpoller_wait (poller, 500);
            if (!which)
                continue;
            floor_mode_t mode = FLOOR_SEQUENTIAL;
            while (routers[mode] != which)
                mode++;
            //  Drain what waits, like the registry's engine does
            while (zsock_events (which) & ZMQ_POLLIN)
                if (mode == FLOOR_BATCHED)
                    s_handle_batch (&self, which);
                else
                    s_handle (&self, which, mode);
        }
        zpoller_destroy (&poller);
        status = 0;
    }
    for (int mode = 0; mode < FLOOR_MODES; mode++)
        zsock_destroy (&routers[mode]);
    if (self.redis)
        redisFree (self.redis);
    pmo_arena_destroy (&self.arena);
    return status;
}
