/*  pmoctl: the command line of the PMO platform, for people and scripts.

    It talks to the services only over ZeroMQ, through pmo_client (DEALER,
    a timeout per attempt, retries with the same request id so a retried
    change is done once). The services trust the identity a local client
    asserts in the request header: this is the operator's tool on the
    machine the services run on. People elsewhere come through the gateway.

    This file: global options (each also from the environment), the
    identity, finding the command, and the call every command makes.
*/
#include "pmoctl.h"

#include "pmo_json.h"
#include "pmo_log.h"
#include "pmo_reflect.h"
#include "pmo_wire.h"

#include <czmq.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define ATTEMPTS       3
#define TIMEOUT_MAX_MS 600000

//  The global options: flag, environment variable, default, placeholder, help
typedef struct {
    const char *name;
    const char *env;
    const char *fallback;
    const char *meta;
    const char *help;
} global_t;

static const global_t s_globals[] = {
    {"registry", "PMO_REGISTRY_ENDPOINT", "tcp://127.0.0.1:7101", "ENDPOINT",
     "the registry's request endpoint(s), comma-separated"},
    {"registry-pub", "PMO_REGISTRY_PUB", "tcp://127.0.0.1:7111", "ENDPOINT",
     "the registry's event (PUB) endpoint, for watch"},
    {"timeout", "PMO_TIMEOUT_MS", "5000", "MS", "wait per attempt (3 attempts, same request id)"},
    {"json", "PMO_JSON", "0", NULL, "print each reply as one JSON document (for scripts)"},
    {"as", "PMO_SUBJECT", "$USER@local", "SUBJECT", "who you are, in the request's identity"},
    {"grant", "PMO_GRANTS", "admin@$PMO_HUB", "ROLE@UNIT",
     "a role you hold in an org unit; repeatable (env: comma-separated)"},
    {NULL, NULL, NULL, NULL, NULL},
};

static void s_usage (FILE *out)
{
    fprintf (out, "pmoctl: the command line of the PMO platform\n\n"
                  "usage: pmoctl [global options] <command> [options]\n\n"
                  "global options (flag, environment variable, default):\n");
    for (const global_t *g = s_globals; g->name; g++) {
        char left[64];
        snprintf (left, sizeof left, "--%s%s%s", g->name, g->meta ? " " : "",
                  g->meta ? g->meta : "");
        fprintf (out, "  %-24s %s\n  %-24s %s, default %s\n", left, g->help, "", g->env,
                 g->fallback);
    }
    fprintf (out, "\ncommands:\n");
    for (const pmoctl_command_t *cmd = pmoctl_commands; cmd->group; cmd++) {
        char name[64];
        snprintf (name, sizeof name, "%s%s%s%s%s", cmd->group, cmd->verb ? " " : "",
                  cmd->verb ? cmd->verb : "", cmd->positional ? " " : "",
                  cmd->positional ? cmd->positional : "");
        fprintf (out, "  %-24s %s\n", name, cmd->summary);
    }
    fprintf (out, "\n'pmoctl <command> --help' shows a command's options. Where an ID is asked\n"
                  "for, a project, portfolio or programme may also be named by its code.\n\n"
                  "pmoctl talks straight to the services, which trust the identity it asserts\n"
                  "(--as, --grant): they listen on 127.0.0.1 for the operator of this machine.\n\n"
                  "exit status: 0 done, 1 the service refused (the error is printed),\n"
                  "2 usage error, 3 no reply in time.\n");
}

static void s_group_usage (const char *group, FILE *out)
{
    fprintf (out, "usage: pmoctl [global options] %s <command> [options]\n\ncommands:\n", group);
    for (const pmoctl_command_t *cmd = pmoctl_commands; cmd->group; cmd++)
        if (strcmp (cmd->group, group) == 0) {
            char name[64];
            snprintf (name, sizeof name, "%s %s%s%s", group, cmd->verb, cmd->positional ? " " : "",
                      cmd->positional ? cmd->positional : "");
            fprintf (out, "  %-24s %s\n", name, cmd->summary);
        }
    fprintf (out, "\n'pmoctl %s <command> --help' shows a command's options.\n", group);
}

static int s_global_error (const char *format, ...) __attribute__ ((format (printf, 1, 2)));
static int s_global_error (const char *format, ...)
{
    va_list args;
    va_start (args, format);
    fputs ("pmoctl: ", stderr);
    vfprintf (stderr, format, args);
    fputs ("\n(pmoctl --help lists the global options and commands)\n", stderr);
    va_end (args);
    return PMOCTL_USAGE;
}

//  ROLE@UNIT into a grant (arena).
static int s_add_grant (pmoctl_t *ctl, const char *text)
{
    const char *at = strchr (text, '@');
    int role;
    char label[64];
    if (!at || (size_t)(at - text) >= sizeof label)
        return s_global_error ("grant '%s' is not ROLE@UNIT, e.g. pmo_manager@fin", text);
    memcpy (label, text, (size_t)(at - text));
    label[at - text] = 0;
    if (pmo_json_enum_parse (&pmo__role__descriptor, label, &role) ||
        role == PMO__ROLE__ROLE_UNSPECIFIED)
        return s_global_error ("grant '%s': '%s' is not one of %s", text, label,
                               pmoctl_enum_choices (ctl->arena, &pmo__role__descriptor));
    if (!pmo_slug_valid (at + 1, 1, 32))
        return s_global_error ("grant '%s': '%s' is not an org unit id", text, at + 1);
    Pmo__Grant *grant = pmo_arena_alloc (ctl->arena, sizeof (Pmo__Grant));
    pmo__grant__init (grant);
    grant->role = role;
    grant->org_unit = pmo_arena_strdup (ctl->arena, at + 1);
    Pmo__Identity *who = &ctl->identity;
    Pmo__Grant **grants = pmo_arena_alloc (ctl->arena, (who->n_grants + 1) * sizeof (void *));
    if (who->n_grants)
        memcpy (grants, who->grants, who->n_grants * sizeof (void *));
    grants[who->n_grants++] = grant;
    who->grants = grants;
    return 0;
}

static int s_add_grant_list (pmoctl_t *ctl, const char *list)
{
    char *copy = pmo_arena_strdup (ctl->arena, list);
    char *save = NULL;
    for (char *item = strtok_r (copy, ", ", &save); item; item = strtok_r (NULL, ", ", &save))
        if (s_add_grant (ctl, item))
            return PMOCTL_USAGE;
    return 0;
}

static const char *s_env (const char *name, const char *fallback)
{
    const char *value = getenv (name);
    return value && *value ? value : fallback;
}

//  Parse the global options; *next is the index of the command word.
static int s_parse_globals (pmoctl_t *ctl, int argc, char **argv, int *next)
{
    ctl->registry = s_env ("PMO_REGISTRY_ENDPOINT", "tcp://127.0.0.1:7101");
    ctl->registry_pub = s_env ("PMO_REGISTRY_PUB", "tcp://127.0.0.1:7111");
    const char *timeout = s_env ("PMO_TIMEOUT_MS", "5000");
    const char *json = s_env ("PMO_JSON", "0");
    ctl->json =
        strcmp (json, "1") == 0 || strcasecmp (json, "true") == 0 || strcasecmp (json, "yes") == 0;
    const char *user = getenv ("USER");
    ctl->identity.subject =
        pmo_str_empty (user) ? "operator@local" : pmo_arena_printf (ctl->arena, "%s@local", user);
    ctl->identity.subject = (char *)s_env ("PMO_SUBJECT", ctl->identity.subject);
    bool grants_given = false;
    int a = 1;
    for (; a < argc && argv[a][0] == '-'; a++) {
        const char *arg = argv[a];
        if (strcmp (arg, "--help") == 0 || strcmp (arg, "-h") == 0) {
            s_usage (stdout);
            return 1;
        }
        if (strcmp (arg, "--version") == 0) {
            printf ("pmoctl %s\n", PMO_VERSION);
            return 1;
        }
        if (strcmp (arg, "--json") == 0) {
            ctl->json = true;
            continue;
        }
        const char *name = arg + 2;
        const char *eq = strchr (name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen (name);
        const global_t *g = NULL;
        for (const global_t *k = s_globals; k->name && strncmp (arg, "--", 2) == 0; k++)
            if (k->meta && strlen (k->name) == len && strncmp (k->name, name, len) == 0)
                g = k;
        if (!g)
            return s_global_error ("unknown global option '%s'", arg);
        const char *value;
        if (eq)
            value = eq + 1;
        else if (a + 1 < argc)
            value = argv[++a];
        else
            return s_global_error ("--%s needs a value (%s)", g->name, g->meta);
        if (strcmp (g->name, "registry") == 0)
            ctl->registry = value;
        else if (strcmp (g->name, "registry-pub") == 0)
            ctl->registry_pub = value;
        else if (strcmp (g->name, "timeout") == 0)
            timeout = value;
        else if (strcmp (g->name, "as") == 0)
            ctl->identity.subject = (char *)value;
        else if (strcmp (g->name, "grant") == 0) {
            grants_given = true;
            if (s_add_grant (ctl, value))
                return PMOCTL_USAGE;
        }
    }
    *next = a;
    char *end = NULL;
    long ms = strtol (timeout, &end, 10);
    if (!*timeout || *end || ms < 1 || ms > TIMEOUT_MAX_MS)
        return s_global_error ("--timeout '%s' is not a number of milliseconds from 1 to %d",
                               timeout, TIMEOUT_MAX_MS);
    ctl->timeout_ms = (int)ms;
    ctl->attempts = ATTEMPTS;
    if (pmo_str_empty (ctl->identity.subject) || strlen (ctl->identity.subject) > 200)
        return s_global_error ("--as needs a subject, e.g. jane@fin");
    if (pmo_str_empty (ctl->registry) || pmo_str_empty (ctl->registry_pub))
        return s_global_error ("the registry endpoints must not be empty");
    if (!grants_given) {
        const char *grants = getenv ("PMO_GRANTS");
        if (pmo_str_empty (grants))
            grants = pmo_arena_printf (ctl->arena, "admin@%s", s_env ("PMO_HUB", "hub"));
        if (s_add_grant_list (ctl, grants))
            return PMOCTL_USAGE;
    }
    if (ctl->identity.n_grants == 0)
        return s_global_error ("no grants: give --grant ROLE@UNIT or set PMO_GRANTS");
    return 0;
}

//  ---------------------------------------------------------------------
//  Calls

ProtobufCMessage *pmoctl_reply_body (const Pmo__RegistryReply *reply)
{
    const char *name = pmo_wire_oneof_name (&reply->base);
    ProtobufCMessage **slot =
        *name ? pmo_wire_message_slot ((ProtobufCMessage *)reply, name) : NULL;
    return slot ? *slot : NULL;
}

ProtobufCMessage *pmoctl_service_call (pmoctl_t *ctl, pmoctl_service_t *service, const char *member,
                                       json_t *body)
{
    const char *endpoint = getenv (service->env);
    if (!endpoint || !*endpoint)
        endpoint = service->fallback;
    if (!service->client && !(service->client = pmo_client_new (endpoint))) {
        fprintf (stderr, "pmoctl: '%s' is not a ZeroMQ endpoint\n", endpoint);
        ctl->status = PMOCTL_USAGE;
        return NULL;
    }
    json_t *doc = json_object ();
    json_object_set (doc, member, body);
    ProtobufCMessage *request = NULL;
    pmo_json_error_t err;
    int rc = pmo_json_to_message (service->request_desc, doc, &request, &err);
    json_decref (doc);
    if (rc) {
        fprintf (stderr, "pmoctl: %s: %s\n", *err.field ? err.field : member, err.message);
        ctl->status = PMOCTL_USAGE;
        return NULL;
    }
    Pmo__Header header;
    char request_id[40];
    pmo_header_init (&header, request_id, ctl->timeout_ms * ctl->attempts, &ctl->identity);
    ProtobufCMessage **header_slot = pmo_wire_message_slot (request, "header");
    *header_slot = &header.base;
    ProtobufCMessage *raw = NULL;
    rc = pmo_client_call (service->client, request, service->reply_desc, ctl->timeout_ms,
                          ctl->attempts, &raw);
    *header_slot = NULL;
    protobuf_c_message_free_unpacked (request, NULL);
    if (rc) {
        fprintf (stderr,
                 "pmoctl: no reply from %s at %s within %d ms (is it running? ./deploy/pmo "
                 "status)\n",
                 service->name, endpoint, ctl->timeout_ms);
        ctl->status = PMOCTL_NO_REPLY;
        return NULL;
    }
    ProtobufCMessage *reply = pmo_reflect_copy (raw, ctl->arena);
    protobuf_c_message_free_unpacked (raw, NULL);
    const ProtobufCFieldDescriptor *warnings =
        protobuf_c_message_descriptor_get_field_by_name (reply->descriptor, "warnings");
    if (warnings && warnings->label == PROTOBUF_C_LABEL_REPEATED) {
        size_t n = *(size_t *)((char *)reply + warnings->quantifier_offset);
        char **items = *(char ***)((char *)reply + warnings->offset);
        for (size_t i = 0; i < n; i++)
            fprintf (stderr, "pmoctl: warning: %s\n", items[i]);
    }
    ProtobufCMessage **error_slot = pmo_wire_message_slot (reply, "error");
    const Pmo__Error *e = error_slot ? (const Pmo__Error *)*error_slot : NULL;
    if (e && e->code != PMO__ERROR_CODE__ERROR_NONE) {
        if (pmo_str_empty (e->field))
            fprintf (stderr, "pmoctl: %s: %s\n", pmo_error_code_name (e->code), e->message);
        else
            fprintf (stderr, "pmoctl: %s [%s]: %s\n", pmo_error_code_name (e->code), e->field,
                     e->message);
        ctl->status = PMOCTL_REFUSED;
        return NULL;
    }
    return reply;
}

Pmo__RegistryReply *pmoctl_call (pmoctl_t *ctl, const char *member, ProtobufCMessage *body)
{
    if (!ctl->client) {
        ctl->client = pmo_client_new (ctl->registry);
        if (!ctl->client) {
            fprintf (stderr, "pmoctl: '%s' is not a ZeroMQ endpoint (e.g. tcp://127.0.0.1:7101)\n",
                     ctl->registry);
            ctl->status = PMOCTL_USAGE;
            return NULL;
        }
    }
    Pmo__RegistryRequest *request = pmo_arena_alloc (ctl->arena, sizeof (Pmo__RegistryRequest));
    pmo__registry_request__init (request);
    Pmo__Header *header = pmo_arena_alloc (ctl->arena, sizeof (Pmo__Header));
    char *request_id = pmo_arena_alloc (ctl->arena, 37);
    //  The deadline covers every attempt: a retry carries the same header
    pmo_header_init (header, request_id, ctl->timeout_ms * ctl->attempts, &ctl->identity);
    request->header = header;
    pmo_reflect_set_oneof (&request->base, member, body);

    ProtobufCMessage *raw = NULL;
    if (pmo_client_call (ctl->client, &request->base, &pmo__registry_reply__descriptor,
                         ctl->timeout_ms, ctl->attempts, &raw)) {
        fprintf (stderr,
                 "pmoctl: no reply from the registry at %s within %d ms (is it running? "
                 "./deploy/pmo status)\n",
                 ctl->registry, ctl->timeout_ms);
        ctl->status = PMOCTL_NO_REPLY;
        return NULL;
    }
    Pmo__RegistryReply *reply = (Pmo__RegistryReply *)pmo_reflect_copy (raw, ctl->arena);
    protobuf_c_message_free_unpacked (raw, NULL);
    for (size_t i = 0; i < reply->n_warnings; i++)
        fprintf (stderr, "pmoctl: warning: %s\n", reply->warnings[i]);
    const Pmo__Error *error = reply->error;
    if (error && error->code != PMO__ERROR_CODE__ERROR_NONE) {
        if (pmo_str_empty (error->field))
            fprintf (stderr, "pmoctl: %s: %s\n", pmo_error_code_name (error->code), error->message);
        else
            fprintf (stderr, "pmoctl: %s [%s]: %s\n", pmo_error_code_name (error->code),
                     error->field, error->message);
        if (reply->n_missing_artifacts) {
            fputs ("pmoctl: missing artifacts:", stderr);
            for (size_t i = 0; i < reply->n_missing_artifacts; i++)
                fprintf (stderr, "%s %s", i ? "," : "", reply->missing_artifacts[i]);
            fputc ('\n', stderr);
        }
        ctl->status = PMOCTL_REFUSED;
        return NULL;
    }
    return reply;
}

//  ---------------------------------------------------------------------
//  main

//  The command for "group verb": an exact match first, so that a command
//  without a verb ("report", the portfolio report) does not hide the verbs
//  of the same group ("report submit", status reports).
static const pmoctl_command_t *s_find (const char *group, const char *verb, bool *grouped)
{
    *grouped = false;
    const pmoctl_command_t *bare = NULL;
    for (const pmoctl_command_t *cmd = pmoctl_commands; cmd->group; cmd++) {
        if (strcmp (cmd->group, group) != 0)
            continue;
        if (!cmd->verb) {
            if (!bare)
                bare = cmd;
            continue;
        }
        *grouped = true;
        if (verb && strcmp (cmd->verb, verb) == 0)
            return cmd;
    }
    if (bare)
        *grouped = false;
    return bare;
}

static int s_run (pmoctl_t *ctl, int argc, char **argv)
{
    int next = 0;
    int rc = s_parse_globals (ctl, argc, argv, &next);
    if (rc)
        return rc == 1 ? PMOCTL_OK : rc;
    if (next >= argc) {
        s_usage (stderr);
        return PMOCTL_USAGE;
    }
    const char *group = argv[next];
    if (strcmp (group, "help") == 0) {
        s_usage (stdout);
        return PMOCTL_OK;
    }
    const char *verb = next + 1 < argc ? argv[next + 1] : NULL;
    bool grouped;
    const pmoctl_command_t *cmd = s_find (group, verb, &grouped);
    if (!cmd && grouped) {
        if (verb && (strcmp (verb, "--help") == 0 || strcmp (verb, "-h") == 0)) {
            s_group_usage (group, stdout);
            return PMOCTL_OK;
        }
        if (verb)
            fprintf (stderr, "pmoctl: unknown command '%s %s'\n\n", group, verb);
        else
            fprintf (stderr, "pmoctl: '%s' needs a command\n\n", group);
        s_group_usage (group, stderr);
        return PMOCTL_USAGE;
    }
    if (!cmd)
        return s_global_error ("unknown command '%s'", group);
    int first = next + (cmd->verb ? 2 : 1);
    //  Ctrl-C ends a waiting command at once; only watch handles it itself
    if (cmd->run != pmoctl_run_watch)
        zsys_handler_set (NULL);
    pmoctl_args_t args;
    rc = pmoctl_args_parse (cmd, argc - first, argv + first, ctl->arena, &args);
    if (rc)
        return rc == 1 ? PMOCTL_OK : rc;
    return cmd->run (ctl, cmd, &args);
}

int main (int argc, char **argv)
{
    pmo_log_init ("pmoctl", s_env ("PMO_LOG_LEVEL", "error"));
    pmoctl_t ctl = {.arena = pmo_arena_new ()};
    pmo__identity__init (&ctl.identity);
    int rc = s_run (&ctl, argc, argv);
    pmo_client_destroy (&ctl.client);
    pmo_arena_destroy (&ctl.arena);
    fflush (stdout);
    return rc;
}
