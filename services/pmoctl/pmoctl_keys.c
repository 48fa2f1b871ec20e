/*  pmoctl_keys.c: "pmoctl key make", a keypair for a principal in the
    keys directory (pmo_auth.h, SECURITY.md). It talks to no service: it is
    how ./deploy/pmo up and an administrator make the keys the services
    know.
*/
#include "pmoctl.h"

#include "pmo_auth.h"
#include "pmo_seal.h"

#include <stdio.h>

static int s_run_key_make (pmoctl_t *ctl, const pmoctl_command_t *cmd, pmoctl_args_t *args)
{
    const char *kind = pmoctl_args_get (args, "kind");
    const char *subject = pmoctl_args_get (args, "subject");
    const char *grants = pmoctl_args_get (args, "grants");
    char why[512];
    if (pmo_auth_keygen (ctl->keys_dir, args->positional, kind, subject, grants, why, sizeof why))
        return pmoctl_usage_error (cmd, "%s", why);
    printf ("%s/%s.key\n%s/%s.key_secret\n", ctl->keys_dir, args->positional, ctl->keys_dir,
            args->positional);
    return PMOCTL_OK;
}

static int s_run_secrets_key (pmoctl_t *ctl, const pmoctl_command_t *cmd, pmoctl_args_t *args)
{
    (void)ctl;
    char why[512];
    bool rotate = streq (cmd->verb, "rotate");
    if (pmo_seal_keygen (args->positional, rotate, why, sizeof why))
        return pmoctl_usage_error (cmd, "%s", why);
    printf ("%s\n", args->positional);
    return PMOCTL_OK;
}

static const pmoctl_flag_t s_make_flags[] = {
    F ("kind", "KIND", PMOCTL_REQUIRED,
       "service, operator (both act as --subject with --grants), edge (carries the person's "
       "identity: gateway, hub, uplink), impersonate (may claim any identity: tests) or server "
       "(the stack's server key)"),
    F ("subject", "SUBJECT", 0, "the identity a service or operator acts as, e.g. jane@fin"),
    F ("grants", "ROLE@UNIT,...", 0, "the roles it holds, e.g. pmo_manager@fin,viewer@hub"),
    END,
};

const pmoctl_command_t pmoctl_keys_commands[] = {
    PMOCTL_RUN ("key", "make", "NAME", s_make_flags, PMOCTL_MODE_OTHER, s_run_key_make, NULL, NULL,
                "make a keypair NAME.key (public, what NAME may do) and NAME.key_secret (0600) in "
                "--keys"),
    PMOCTL_RUN ("secrets-key", "make", "FILE", NULL, PMOCTL_MODE_OTHER, s_run_secrets_key, NULL,
                NULL, "make the key file (0600) that seals webhook and SMTP secrets in Redis"),
    PMOCTL_RUN ("secrets-key", "rotate", "FILE", NULL, PMOCTL_MODE_OTHER, s_run_secrets_key, NULL,
                NULL,
                "put a new key before the file's keys: new secrets are sealed with it, old ones "
                "still open"),
    PMOCTL_END,
};
