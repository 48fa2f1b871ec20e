/*  pmoctl: the command line of the PMO platform, for people and scripts.

    It talks to the services only over ZeroMQ, through pmo_client (DEALER,
    a timeout per attempt, retries with the same request id so a retried
    change is done once). The services trust the identity a local client
    asserts in the request header: this is the operator's tool on the
    machine the services run on. People elsewhere come through the gateway.

    This file: global options (each also from the environment), the
    identity, and finding the command. pmoctl_call.c makes the calls.
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

//  The global options: flag, environment variable, default, placeholder,
//  help. The endpoints' variables and defaults are their services'.
typedef struct {
    const char *name;
    const char *env;
    const char *fallback;
    const char *meta;
    const char *help;
    int endpoint; //  the pmoctl_service_t it sets, -1 if none
} global_t;

static const global_t s_globals[] = {
    {"registry", NULL, NULL, "ENDPOINT", "the registry's request endpoint(s), comma-separated",
     PMOCTL_REGISTRY},
    {"registry-pub", NULL, NULL, "ENDPOINT", "the registry's event (PUB) endpoint, for watch",
     PMOCTL_REGISTRY_PUB},
    {"timeout", "PMO_TIMEOUT_MS", "5000", "MS", "wait per attempt (3 attempts, same request id)",
     -1},
    {"json", "PMO_JSON", "0", NULL, "print each reply as one JSON document (for scripts)", -1},
    {"keys", "PMO_KEYS", "$PMO_HOME/keys, else .pmo/keys", "DIR",
     "the directory of keys: server.key and your NAME.key_secret (SECURITY.md)", -1},
    {"key", "PMO_PRINCIPAL", "operator", "NAME",
     "your key in --keys; the services take who you are from it", -1},
    {"as", "PMO_SUBJECT", "$USER@local", "SUBJECT",
     "who you are, in the request's identity (honoured only for a key that may impersonate)", -1},
    {"grant", "PMO_GRANTS", "admin@$PMO_HUB", "ROLE@UNIT",
     "a role you hold (only for a key that may impersonate); repeatable (env: comma-separated)",
     -1},
    {NULL, NULL, NULL, NULL, NULL, -1},
};

//  Every command, table by table, in the order --help lists them
static const pmoctl_command_t *const s_tables[] = {
    pmoctl_registry_ping_commands,
    pmoctl_watch_commands,
    pmoctl_keys_commands,
    pmoctl_import_commands,
    pmoctl_allocator_commands,
    pmoctl_riskmon_commands,
    pmoctl_gateway_commands,
    pmoctl_hub_commands,
    pmoctl_xdiv_commands,
    pmoctl_notifier_commands,
    pmoctl_planner_commands,
    pmoctl_registry_commands,
    NULL,
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
        const pmoctl_endpoint_t *endpoint = g->endpoint < 0 ? NULL : &pmoctl_endpoints[g->endpoint];
        fprintf (out, "  %-24s %s\n  %-24s %s, default %s\n", left, g->help, "",
                 endpoint ? endpoint->env : g->env, endpoint ? endpoint->fallback : g->fallback);
    }
    //  Every other variable pmoctl reads: the other services' endpoints
    //  (the registry's are options above) and the rest
    fprintf (out, "\nenvironment (also read):\n");
    for (int i = 0; i < PMOCTL_SERVICES; i++)
        if (i != PMOCTL_REGISTRY && i != PMOCTL_REGISTRY_PUB)
            fprintf (out, "  %-24s %s's endpoint(s), default %s\n", pmoctl_endpoints[i].env,
                     pmoctl_endpoints[i].name, pmoctl_endpoints[i].fallback);
    fprintf (out, "  %-24s %s\n", "PMO_HUB", "id of the enterprise (hub) org unit, default hub");
    fprintf (out, "  %-24s %s\n", "PMO_SMTP_PASSWORD",
             "channel create|update: the SMTP password (kept out of shell history)");
    fprintf (out, "  %-24s %s\n", "PMO_SLACK_BOT_TOKEN",
             "channel create|update: a slack_api channel's bot token");
    fprintf (out, "  %-24s %s\n", "PMO_INTERACT_SECRET",
             "channel create|update: the interact secret (Slack's signing secret)");
    fprintf (out, "  %-24s %s\n", "PMO_LOG_LEVEL", "debug, info, warn or error, default error");
    fprintf (out, "  %-24s %s\n", "USER", "the default subject is $USER@local");
    fprintf (out, "  %-24s %s\n", "TMPDIR", "where Excel files are built, default /tmp");
    fprintf (out, "\ncommands:\n");
    for (const pmoctl_command_t *const *table = s_tables; *table; table++)
        for (const pmoctl_command_t *cmd = *table; cmd->group; cmd++) {
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
    for (const pmoctl_command_t *const *table = s_tables; *table; table++)
        for (const pmoctl_command_t *cmd = *table; cmd->group; cmd++)
            if (strcmp (cmd->group, group) == 0) {
                char name[64];
                snprintf (name, sizeof name, "%s %s%s%s", group, cmd->verb,
                          cmd->positional ? " " : "", cmd->positional ? cmd->positional : "");
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
    pmoctl_endpoints_init (ctl);
    const char *timeout = s_env ("PMO_TIMEOUT_MS", "5000");
    const char *json = s_env ("PMO_JSON", "0");
    ctl->json =
        strcmp (json, "1") == 0 || strcasecmp (json, "true") == 0 || strcasecmp (json, "yes") == 0;
    const char *user = getenv ("USER");
    ctl->identity.subject =
        pmo_str_empty (user) ? "operator@local" : pmo_arena_printf (ctl->arena, "%s@local", user);
    ctl->identity.subject = (char *)s_env ("PMO_SUBJECT", ctl->identity.subject);
    const char *home = getenv ("PMO_HOME");
    ctl->keys_dir =
        pmo_str_empty (home) ? ".pmo/keys" : pmo_arena_printf (ctl->arena, "%s/keys", home);
    ctl->keys_dir = s_env ("PMO_KEYS", ctl->keys_dir);
    ctl->key_name = s_env ("PMO_PRINCIPAL", "operator");
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
        if (g->endpoint >= 0)
            ctl->endpoints[g->endpoint] = value;
        else if (strcmp (g->name, "timeout") == 0)
            timeout = value;
        else if (strcmp (g->name, "keys") == 0)
            ctl->keys_dir = value;
        else if (strcmp (g->name, "key") == 0)
            ctl->key_name = value;
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
    if (pmo_str_empty (ctl->endpoints[PMOCTL_REGISTRY]) ||
        pmo_str_empty (ctl->endpoints[PMOCTL_REGISTRY_PUB]))
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
//  main

//  The command for "group verb": an exact match first, so that a command
//  without a verb ("report", the portfolio report) does not hide the verbs
//  of the same group ("report submit", status reports).
static const pmoctl_command_t *s_find (const char *group, const char *verb, bool *grouped)
{
    *grouped = false;
    const pmoctl_command_t *bare = NULL;
    for (const pmoctl_command_t *const *table = s_tables; *table; table++)
        for (const pmoctl_command_t *cmd = *table; cmd->group; cmd++) {
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
    pmoctl_clients_destroy (&ctl);
    pmo_arena_destroy (&ctl.arena);
    fflush (stdout);
    return rc;
}
