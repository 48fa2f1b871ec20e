/*  pmo_auth.c: the keyring, the process's ZAP handler, and the identity a
    request acts as.

    libzmq asks the ZAP handler (bound at inproc://zeromq.zap.01 in the
    process's context) about every CURVE handshake on a socket with a ZAP
    domain. There can be only one per context, so it is one thread for the
    whole process: it answers domain "pmo" from the keyring and relays any
    other domain registered with pmo_auth_zap_relay to its owner's REP
    socket (the hub answers for its spokes), passing the envelope through so
    the replies find their way back whatever order they come in.
*/
#include "pmo_auth.h"
#include "pmo_json.h"
#include "pmo_log.h"

#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define ZAP_ENDPOINT   "inproc://zeromq.zap.01"
#define MAX_PRINCIPALS 1024
#define MAX_GRANTS     32
#define MAX_RELAYS     8
#define Z85_ZERO       "0000000000000000000000000000000000000000"

typedef struct {
    char name[64];
    char public_key[41]; //  Z85
    pmo_principal_kind_t kind;
    char subject[201];
    size_t n_grants;
    Pmo__Role roles[MAX_GRANTS];
    char units[MAX_GRANTS][33];
} principal_t;

typedef struct {
    char public_key[41];
    char *endpoints; //  comma-separated, as in the file
} server_key_t;

typedef struct {
    char dir[1024];
    zcert_t *own;    //  our client keypair
    zcert_t *server; //  the stack's server keypair (NULL: we do not serve)
    char server_public[41];
    server_key_t *others; //  server-*.key: servers of other stacks
    size_t n_others;
    principal_t *principals;
    size_t n_principals;
} keyring_t;

static pthread_mutex_t s_lock = PTHREAD_MUTEX_INITIALIZER;
//  The ZAP actor's pipe, for a caller that waits for the actor: never
//  waited on with s_lock held, which the actor takes to answer a handshake
static pthread_mutex_t s_pipe_lock = PTHREAD_MUTEX_INITIALIZER;
static keyring_t *s_keyring;
//  "key:<principal>" of the keyring set up (for events this process
//  writes on its own account); "" while auth is off
static char s_via[128];
static zactor_t *s_zap;
static atomic_uint_fast64_t s_refused;

static const struct {
    const char *name;
    pmo_principal_kind_t kind;
} s_kinds[] = {
    {"service", PMO_PRINCIPAL_SERVICE}, {"operator", PMO_PRINCIPAL_OPERATOR},
    {"edge", PMO_PRINCIPAL_EDGE},       {"impersonate", PMO_PRINCIPAL_IMPERSONATE},
    {"server", PMO_PRINCIPAL_SERVER},
};

static pmo_principal_kind_t s_kind_parse (const char *text)
{
    for (size_t i = 0; text && i < sizeof s_kinds / sizeof s_kinds[0]; i++)
        if (streq (text, s_kinds[i].name))
            return s_kinds[i].kind;
    return 0;
}

//  Parse "ROLE@UNIT,..." into principal (NULL: only check). 0 or -1 + why.
static int s_grants_parse (const char *grants, principal_t *into, char *why, size_t why_size)
{
    char *copy = strdup (grants ? grants : "");
    assert (copy);
    char *save = NULL;
    size_t count = 0;
    int rc = 0;
    for (char *item = strtok_r (copy, ", ", &save); item; item = strtok_r (NULL, ", ", &save)) {
        char *at = strchr (item, '@');
        int role = 0;
        if (at)
            *at = 0;
        if (!at || pmo_json_enum_parse (&pmo__role__descriptor, item, &role) ||
            role == PMO__ROLE__ROLE_UNSPECIFIED || !pmo_slug_valid (at + 1, 1, 32)) {
            snprintf (why, why_size, "grant '%s%s%s' is not ROLE@UNIT (e.g. viewer@hub)", item,
                      at ? "@" : "", at ? at + 1 : "");
            rc = -1;
            break;
        }
        if (count == MAX_GRANTS) {
            snprintf (why, why_size, "more than %d grants", MAX_GRANTS);
            rc = -1;
            break;
        }
        if (into) {
            into->roles[count] = role;
            snprintf (into->units[count], sizeof into->units[count], "%s", at + 1);
        }
        count++;
    }
    if (into)
        into->n_grants = rc ? 0 : count;
    free (copy);
    return rc;
}

int pmo_auth_grants_check (const char *grants, char *why, size_t why_size)
{
    return s_grants_parse (grants, NULL, why, why_size);
}

static void s_keyring_destroy (keyring_t **self_p)
{
    keyring_t *self = *self_p;
    if (!self)
        return;
    zcert_destroy (&self->own);
    zcert_destroy (&self->server);
    for (size_t i = 0; i < self->n_others; i++)
        free (self->others[i].endpoints);
    free (self->others);
    free (self->principals);
    free (self);
    *self_p = NULL;
}

static bool s_has_secret (zcert_t *cert)
{
    return cert && zcert_secret_txt (cert) && !streq (zcert_secret_txt (cert), Z85_ZERO);
}

//  Read one public key file of the directory into the keyring. 0 or -1.
static int s_keyring_take (keyring_t *self, const char *file)
{
    char path[1200];
    snprintf (path, sizeof path, "%s/%s", self->dir, file);
    zcert_t *cert = zcert_load (path);
    if (!cert) {
        pmo_error ("auth: cannot read key file=%s", path);
        return -1;
    }
    size_t len = strlen (file) - 4;
    if (strncmp (file, "server", 6) == 0 && (len == 6 || file[6] == '-')) {
        if (len > 6) {
            const char *endpoints = zcert_meta (cert, "endpoints");
            server_key_t *grown =
                realloc (self->others, (self->n_others + 1) * sizeof (server_key_t));
            assert (grown);
            self->others = grown;
            server_key_t *other = &self->others[self->n_others++];
            snprintf (other->public_key, sizeof other->public_key, "%s", zcert_public_txt (cert));
            other->endpoints = strdup (endpoints ? endpoints : "");
            assert (other->endpoints);
        } else
            snprintf (self->server_public, sizeof self->server_public, "%s",
                      zcert_public_txt (cert));
        zcert_destroy (&cert);
        return 0;
    }
    if (self->n_principals == MAX_PRINCIPALS || len >= sizeof self->principals[0].name) {
        pmo_error ("auth: too many keys or name too long file=%s", path);
        zcert_destroy (&cert);
        return -1;
    }
    principal_t *p = &self->principals[self->n_principals];
    memset (p, 0, sizeof *p);
    memcpy (p->name, file, len);
    snprintf (p->public_key, sizeof p->public_key, "%s", zcert_public_txt (cert));
    const char *kind = zcert_meta (cert, "kind");
    const char *subject = zcert_meta (cert, "subject");
    const char *grants = zcert_meta (cert, "grants");
    char why[256] = "";
    p->kind = s_kind_parse (kind);
    int rc = 0;
    if (!p->kind) {
        pmo_error ("auth: key file=%s has kind '%s'; expected service, operator, edge or "
                   "impersonate",
                   path, kind ? kind : "");
        rc = -1;
    } else if (s_grants_parse (grants, p, why, sizeof why)) {
        pmo_error ("auth: key file=%s: %s", path, why);
        rc = -1;
    } else if ((p->kind == PMO_PRINCIPAL_SERVICE || p->kind == PMO_PRINCIPAL_OPERATOR) &&
               (pmo_str_empty (subject) || strlen (subject) >= sizeof p->subject)) {
        pmo_error ("auth: key file=%s of a %s needs a subject (1 to 200 characters)", path, kind);
        rc = -1;
    } else {
        snprintf (p->subject, sizeof p->subject, "%s", subject ? subject : "");
        self->n_principals++;
    }
    zcert_destroy (&cert);
    return rc;
}

static keyring_t *s_keyring_load (const char *dir, const char *principal)
{
    keyring_t *self = calloc (1, sizeof (keyring_t));
    assert (self);
    self->principals = calloc (MAX_PRINCIPALS, sizeof (principal_t));
    assert (self->principals);
    snprintf (self->dir, sizeof self->dir, "%s", dir);
    DIR *handle = opendir (dir);
    if (!handle) {
        pmo_error ("auth: cannot open the keys directory dir=%s error=\"%s\" (./deploy/pmo up "
                   "makes it; see SECURITY.md)",
                   dir, strerror (errno));
        s_keyring_destroy (&self);
        return NULL;
    }
    int rc = 0;
    struct dirent *entry;
    while (rc == 0 && (entry = readdir (handle))) {
        size_t len = strlen (entry->d_name);
        if (len > 4 && streq (entry->d_name + len - 4, ".key"))
            rc = s_keyring_take (self, entry->d_name);
    }
    closedir (handle);
    char path[1200];
    snprintf (path, sizeof path, "%s/%s.key_secret", dir, principal);
    if (rc == 0) {
        if (access (path, R_OK) != 0)
            pmo_error ("auth: cannot read our secret key file=%s error=\"%s\"", path,
                       strerror (errno));
        else
            self->own = zcert_load (path);
        if (!s_has_secret (self->own)) {
            if (self->own)
                pmo_error ("auth: no secret key in file=%s", path);
            rc = -1;
        }
    }
    if (rc == 0 && !*self->server_public) {
        pmo_error ("auth: no server.key in dir=%s: clients cannot check the servers", dir);
        rc = -1;
    }
    snprintf (path, sizeof path, "%s/server.key_secret", dir);
    if (rc == 0 && access (path, R_OK) == 0) {
        self->server = zcert_load (path);
        if (!s_has_secret (self->server)) {
            pmo_error ("auth: no secret key in file=%s", path);
            rc = -1;
        }
    }
    if (rc)
        s_keyring_destroy (&self);
    return self;
}

static const principal_t *s_principal_by_key (const keyring_t *ring, const char *z85)
{
    for (size_t i = 0; ring && i < ring->n_principals; i++)
        if (streq (ring->principals[i].public_key, z85))
            return &ring->principals[i];
    return NULL;
}

static const principal_t *s_principal_by_name (const keyring_t *ring, const char *name)
{
    for (size_t i = 0; ring && i < ring->n_principals; i++)
        if (streq (ring->principals[i].name, name))
            return &ring->principals[i];
    return NULL;
}

//  ---------------------------------------------------------------------
//  The ZAP handler

//  Answer a ZAP request of domain "pmo" (frames after the envelope).
static void s_zap_answer (zmsg_t *request, zmsg_t *reply)
{
    char *version = zmsg_popstr (request);
    char *request_id = zmsg_popstr (request);
    char *domain = zmsg_popstr (request);
    char *address = zmsg_popstr (request);
    char *routing = zmsg_popstr (request);
    char *mechanism = zmsg_popstr (request);
    zframe_t *key = zmsg_pop (request);
    const char *status = "400", *text = "unknown key";
    char user[64] = "";
    char z85[41] = "";
    if (!version || !streq (version, "1.0") || !mechanism || !streq (mechanism, "CURVE") || !key ||
        zframe_size (key) != 32)
        text = "CURVE only";
    else {
        zmq_z85_encode (z85, zframe_data (key), 32);
        pthread_mutex_lock (&s_lock);
        const principal_t *p = s_principal_by_key (s_keyring, z85);
        if (p && p->kind != PMO_PRINCIPAL_SERVER) {
            status = "200";
            text = "OK";
            snprintf (user, sizeof user, "%s", p->name);
        }
        pthread_mutex_unlock (&s_lock);
    }
    if (!streq (status, "200")) {
        atomic_fetch_add (&s_refused, 1);
        pmo_warn ("auth: connection refused address=%s key=%.8s... reason=\"%s\"",
                  address ? address : "", z85, text);
    }
    zmsg_addstr (reply, "1.0");
    zmsg_addstr (reply, request_id ? request_id : "");
    zmsg_addstr (reply, status);
    zmsg_addstr (reply, text);
    zmsg_addstr (reply, user);
    zmsg_addmem (reply, "", 0);
    zstr_free (&version);
    zstr_free (&request_id);
    zstr_free (&domain);
    zstr_free (&address);
    zstr_free (&routing);
    zstr_free (&mechanism);
    zframe_destroy (&key);
}

//  The domain of a ZAP request: its third frame after the envelope.
static const char *s_zap_domain (zmsg_t *msg, char *buf, size_t size)
{
    zframe_t *frame = zmsg_first (msg);
    //  envelope: routing id, empty delimiter; then version, request id, domain
    for (int i = 0; frame && i < 4; i++)
        frame = zmsg_next (msg);
    if (!frame || zframe_size (frame) >= size)
        return "";
    memcpy (buf, zframe_data (frame), zframe_size (frame));
    buf[zframe_size (frame)] = 0;
    return buf;
}

static void s_zap_actor (zsock_t *pipe, void *args)
{
    (void)args;
    zsock_t *router = zsock_new (ZMQ_ROUTER);
    assert (router);
    int rc = zsock_bind (router, ZAP_ENDPOINT);
    zsock_signal (pipe, rc == 0 ? 0 : 1);
    if (rc != 0) {
        zsock_destroy (&router);
        return;
    }
    zsock_t *relays[MAX_RELAYS] = {NULL}; //  one per relayed domain
    char domains[MAX_RELAYS][32];
    zpoller_t *poller = zpoller_new (pipe, router, NULL);
    assert (poller);
    while (true) {
        void *which = zpoller_wait (poller, -1);
        if (which == pipe) {
            char *command = NULL, *name = NULL;
            zstr_recvx (pipe, &command, &name, NULL);
            bool term = !command || streq (command, "$TERM");
            if (!term && streq (command, "RELAY") && name) {
                //  Bound here, for good: the owner connects, and connects
                //  again after a restart (inproc does not reconnect to a
                //  binder that came back)
                int bound = -1;
                for (size_t i = 0; i < MAX_RELAYS && bound; i++)
                    if (relays[i] && streq (domains[i], name))
                        bound = 0;
                for (size_t i = 0; i < MAX_RELAYS && bound; i++)
                    if (!relays[i] && strlen (name) < sizeof domains[i]) {
                        relays[i] = zsock_new (ZMQ_DEALER);
                        assert (relays[i]);
                        //  Never wait for an owner that is not there
                        zsock_set_sndtimeo (relays[i], 0);
                        bound = zsock_bind (relays[i], "inproc://pmo-zap-%s", name);
                        if (bound)
                            zsock_destroy (&relays[i]);
                        else {
                            snprintf (domains[i], sizeof domains[i], "%s", name);
                            zpoller_add (poller, relays[i]);
                        }
                    }
                zsock_signal (pipe, bound ? 1 : 0);
            }
            zstr_free (&command);
            zstr_free (&name);
            if (term)
                break;
        } else if (which == router) {
            zmsg_t *msg = zmsg_recv (router);
            if (!msg)
                break;
            char domain[64];
            s_zap_domain (msg, domain, sizeof domain);
            if (streq (domain, PMO_AUTH_DOMAIN)) {
                zmsg_t *reply = zmsg_new ();
                zframe_t *peer = zmsg_pop (msg);
                zframe_t *empty = zmsg_pop (msg);
                zmsg_append (reply, &peer);
                zmsg_append (reply, &empty);
                s_zap_answer (msg, reply);
                zmsg_send (&reply, router);
                zmsg_destroy (&msg);
                continue;
            }
            //  Another domain: its owner answers, if it is connected
            int slot = -1;
            for (size_t i = 0; i < MAX_RELAYS; i++)
                if (relays[i] && streq (domains[i], domain))
                    slot = (int)i;
            if (slot < 0 || zmsg_send (&msg, relays[slot]) != 0) {
                atomic_fetch_add (&s_refused, 1);
                pmo_warn ("auth: handshake refused: no handler for the ZAP domain=%s", domain);
                zframe_t *peer = zmsg_pop (msg);
                zframe_t *empty = zmsg_pop (msg);
                zframe_t *version = zmsg_pop (msg);
                zframe_t *id = zmsg_pop (msg);
                zmsg_t *reply = zmsg_new ();
                zmsg_append (reply, &peer);
                zmsg_append (reply, &empty);
                zmsg_addstr (reply, "1.0");
                zmsg_append (reply, &id);
                zmsg_addstr (reply, "400");
                zmsg_addstr (reply, "no handler for the domain");
                zmsg_addstr (reply, "");
                zmsg_addmem (reply, "", 0);
                zmsg_send (&reply, router);
                zframe_destroy (&version);
                zmsg_destroy (&msg);
            }
        } else if (which) {
            //  A relayed answer: envelope first, back to libzmq as is
            zmsg_t *msg = zmsg_recv (which);
            if (msg)
                zmsg_send (&msg, router);
        } else
            break;
    }
    zpoller_destroy (&poller);
    for (size_t i = 0; i < MAX_RELAYS; i++)
        zsock_destroy (&relays[i]);
    zsock_destroy (&router);
}

static void s_zap_stop (void)
{
    pthread_mutex_lock (&s_pipe_lock);
    pthread_mutex_lock (&s_lock);
    zactor_t *zap = s_zap;
    s_zap = NULL;
    pthread_mutex_unlock (&s_lock);
    zactor_destroy (&zap); //  waits for the actor, which may want s_lock
    pthread_mutex_unlock (&s_pipe_lock);
    pthread_mutex_lock (&s_lock);
    s_keyring_destroy (&s_keyring);
    pthread_mutex_unlock (&s_lock);
}

//  Start the process's ZAP handler once. Called with s_lock held.
static int s_zap_start (void)
{
    if (s_zap)
        return 0;
    s_zap = zactor_new (s_zap_actor, NULL);
    if (!s_zap) {
        pmo_error ("auth: cannot bind the ZAP handler at %s (another in this process?)",
                   ZAP_ENDPOINT);
        return -1;
    }
    //  Registered after CZMQ's own atexit (zactor_new ran zsys_init), so it
    //  runs first: the actor is gone before CZMQ tears the context down
    static bool registered;
    if (!registered) {
        registered = true;
        atexit (s_zap_stop);
    }
    return 0;
}

//  ---------------------------------------------------------------------
//  The public calls

int pmo_auth_setup (const char *dir, const char *principal)
{
    assert (dir && principal);
    keyring_t *ring = s_keyring_load (dir, principal);
    if (!ring)
        return -1;
    pthread_mutex_lock (&s_lock);
    int rc = s_zap_start ();
    if (rc == 0) {
        s_keyring_destroy (&s_keyring);
        s_keyring = ring;
        snprintf (s_via, sizeof s_via, "key:%s", principal);
    } else
        s_keyring_destroy (&ring);
    pthread_mutex_unlock (&s_lock);
    if (rc == 0)
        pmo_debug ("auth: keyring dir=%s principal=%s", dir, principal);
    return rc;
}

void pmo_auth_off (void)
{
    pthread_mutex_lock (&s_lock);
    s_keyring_destroy (&s_keyring);
    s_via[0] = 0;
    pthread_mutex_unlock (&s_lock);
}

const char *pmo_auth_via (pmo_arena_t *arena)
{
    pthread_mutex_lock (&s_lock);
    const char *via = pmo_arena_strdup (arena, s_via);
    pthread_mutex_unlock (&s_lock);
    return via;
}

bool pmo_auth_on (void)
{
    pthread_mutex_lock (&s_lock);
    bool on = s_keyring != NULL;
    pthread_mutex_unlock (&s_lock);
    return on;
}

int pmo_auth_server (zsock_t *sock)
{
    int rc = 0;
    pthread_mutex_lock (&s_lock);
    if (s_keyring) {
        if (s_keyring->server) {
            zsock_set_zap_domain (sock, PMO_AUTH_DOMAIN);
            zcert_apply (s_keyring->server, sock);
            zsock_set_curve_server (sock, 1);
        } else {
            pmo_error ("auth: cannot serve: no server.key_secret in dir=%s", s_keyring->dir);
            rc = -1;
        }
    }
    pthread_mutex_unlock (&s_lock);
    return rc;
}

//  Is endpoint one of the comma-separated list?
static bool s_listed (const char *list, const char *endpoint)
{
    size_t len = strlen (endpoint);
    for (const char *at = list; at && *at;) {
        while (*at == ' ' || *at == ',')
            at++;
        size_t item = strcspn (at, ", ");
        if (item == len && strncmp (at, endpoint, len) == 0)
            return true;
        at += item;
    }
    return false;
}

int pmo_auth_client (zsock_t *sock, const char *endpoint)
{
    pthread_mutex_lock (&s_lock);
    if (s_keyring) {
        const char *server = s_keyring->server_public;
        for (size_t i = 0; endpoint && i < s_keyring->n_others; i++)
            if (s_listed (s_keyring->others[i].endpoints, endpoint))
                server = s_keyring->others[i].public_key;
        zcert_apply (s_keyring->own, sock);
        zsock_set_curve_serverkey (sock, server);
    }
    pthread_mutex_unlock (&s_lock);
    return 0;
}

zsock_t *pmo_auth_sub_new (const char *endpoints, const char *prefix)
{
    zsock_t *sub = zsock_new (ZMQ_SUB);
    assert (sub);
    char *list = strdup (endpoints);
    assert (list);
    char *save = NULL;
    int rc = 0;
    for (char *ep = strtok_r (list, ",", &save); ep && rc == 0; ep = strtok_r (NULL, ",", &save)) {
        pmo_auth_client (sub, ep);
        rc = zsock_connect (sub, "%s", ep);
        if (rc)
            pmo_error ("auth: cannot connect a subscriber endpoint=%s", ep);
    }
    free (list);
    if (rc) {
        zsock_destroy (&sub);
        return NULL;
    }
    zsock_set_subscribe (sub, prefix ? prefix : "");
    return sub;
}

int pmo_auth_identity (const char *principal, const Pmo__Identity *claimed, pmo_arena_t *arena,
                       const Pmo__Identity **who_p, char *why, size_t why_size)
{
    int rc = -1;
    const Pmo__Identity *result = NULL;
    pthread_mutex_lock (&s_lock);
    if (!s_keyring) {
        result = claimed;
        rc = 0;
    } else if (pmo_str_empty (principal))
        snprintf (why, why_size, "the connection is not authenticated");
    else {
        const principal_t *p = s_principal_by_name (s_keyring, principal);
        rc = p ? 0 : -1;
        if (!p)
            snprintf (why, why_size, "principal '%s' is no longer known", principal);
        else if (p->kind == PMO_PRINCIPAL_EDGE || p->kind == PMO_PRINCIPAL_IMPERSONATE)
            result = claimed;
        else {
            Pmo__Identity *who = pmo_arena_alloc (arena, sizeof (Pmo__Identity));
            pmo__identity__init (who);
            who->subject = pmo_arena_strdup (arena, p->subject);
            who->via = pmo_arena_printf (arena, "key:%s", p->name);
            who->n_grants = p->n_grants;
            who->grants = pmo_arena_alloc (arena, (p->n_grants + 1) * sizeof (Pmo__Grant *));
            for (size_t i = 0; i < p->n_grants; i++) {
                Pmo__Grant *grant = pmo_arena_alloc (arena, sizeof (Pmo__Grant));
                pmo__grant__init (grant);
                grant->role = p->roles[i];
                grant->org_unit = pmo_arena_strdup (arena, p->units[i]);
                who->grants[i] = grant;
            }
            result = who;
        }
    }
    pthread_mutex_unlock (&s_lock);
    *who_p = result;
    return rc;
}

int pmo_auth_zap_relay (const char *domain, char *endpoint, size_t size)
{
    //  Not with s_lock held while the actor answers: it takes s_lock to
    //  answer a handshake that may come first (a hub starting while its
    //  services connect hung here)
    pthread_mutex_lock (&s_pipe_lock);
    pthread_mutex_lock (&s_lock);
    int rc = s_zap_start ();
    zactor_t *zap = s_zap;
    pthread_mutex_unlock (&s_lock);
    if (rc == 0) {
        zstr_sendx (zap, "RELAY", domain, NULL);
        rc = zsock_wait (zap) == 0 ? 0 : -1;
    }
    pthread_mutex_unlock (&s_pipe_lock);
    snprintf (endpoint, size, "inproc://pmo-zap-%s", domain);
    return rc;
}

uint64_t pmo_auth_refused (void)
{
    return atomic_load (&s_refused);
}

int pmo_auth_keygen (const char *dir, const char *name, const char *kind, const char *subject,
                     const char *grants, char *why, size_t why_size)
{
    if (!pmo_slug_valid (name, 1, 48)) {
        snprintf (why, why_size, "key name '%s' must be 1 to 48 of a-z, 0-9 and -", name);
        return -1;
    }
    if (!s_kind_parse (kind)) {
        snprintf (why, why_size, "kind '%s' is not service, operator, edge or impersonate",
                  kind ? kind : "");
        return -1;
    }
    if (grants && s_grants_parse (grants, NULL, why, why_size))
        return -1;
    pmo_principal_kind_t k = s_kind_parse (kind);
    if ((k == PMO_PRINCIPAL_SERVICE || k == PMO_PRINCIPAL_OPERATOR) && pmo_str_empty (subject)) {
        snprintf (why, why_size, "a %s key needs a subject", kind);
        return -1;
    }
    if (mkdir (dir, 0700) != 0 && errno != EEXIST) {
        snprintf (why, why_size, "cannot make %s: %s", dir, strerror (errno));
        return -1;
    }
    char path[1200];
    snprintf (path, sizeof path, "%s/%s.key", dir, name);
    if (access (path, F_OK) == 0) {
        snprintf (why, why_size, "%s exists; remove it first to make a new key", path);
        return -1;
    }
    zcert_t *cert = zcert_new ();
    assert (cert);
    zcert_set_meta (cert, "kind", "%s", kind);
    if (!pmo_str_empty (subject))
        zcert_set_meta (cert, "subject", "%s", subject);
    if (!pmo_str_empty (grants))
        zcert_set_meta (cert, "grants", "%s", grants);
    //  zcert writes both files; the umask makes the secret one 0600 from
    //  the start, never briefly readable by others
    mode_t old = umask (077);
    int rc = zcert_save (cert, path);
    umask (old);
    if (rc == 0)
        rc = chmod (path, 0644);
    zcert_destroy (&cert);
    if (rc) {
        snprintf (why, why_size, "cannot write %s: %s", path, strerror (errno));
        return -1;
    }
    return 0;
}
