/*  test_gateway_pmoctl.c: pmoctl's token commands against a real gateway:
    a token made with `pmoctl token create` works over HTTP, `token list`
    shows it without its secret, `token revoke` makes the gateway refuse
    it at once, and bad flags are usage errors.
*/
#include "gateway_harness.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char s_pmoctl[1024];

//  Run pmoctl with args; returns its exit status and its stdout in out.
static int s_pmoctl_run (gh_t *gh, const char *args, char *out, size_t size)
{
    char command[2048];
    snprintf (command, sizeof command,
              "PMO_GATEWAY_ENDPOINT=%s PMO_REGISTRY_ENDPOINT=%s %s --as operator@test "
              "--grant admin@hub %s 2>/dev/null",
              gh->endpoint, gh->rh->endpoint, s_pmoctl, args);
    FILE *pipe = popen (command, "r");
    assert (pipe);
    size_t got = fread (out, 1, size - 1, pipe);
    out[got] = 0;
    int status = pclose (pipe);
    return WIFEXITED (status) ? WEXITSTATUS (status) : -1;
}

int main (void)
{
    pmo_test_build_path ("services/pmoctl/pmoctl", s_pmoctl, sizeof s_pmoctl);
    gh_t *gh = gh_start (NULL);
    gh_org (gh);
    char out[8192];
    assert (s_pmoctl_run (gh, "gateway ping", out, sizeof out) == 0);
    assert (strstr (out, "redis_ok: yes"));
    int rc = s_pmoctl_run (gh,
                           "token create --name 'rail reports' --subject rail@dft --grant "
                           "viewer@dft-rail --grant project_manager@dft-rail",
                           out, sizeof out);
    assert (rc == 0);
    //  The secret is the last line, on its own
    char *last = out + strlen (out) - 1;
    while (last > out && last[-1] != '\n')
        last--;
    char secret[128];
    size_t len = strcspn (last, "\n");
    assert (len < sizeof secret);
    memcpy (secret, last, len);
    secret[len] = 0;
    assert (strncmp (secret, "pmo_", 4) == 0);
    char id[17];
    memcpy (id, secret + 4, 16);
    id[16] = 0;
    gh_resp_t *resp = gh_http (gh, "GET", "/api/v1/whoami", secret, NULL, NULL);
    GH_STATUS (resp, 200);
    GH_CHECK (strcmp (gh_str (resp, "subject"), "rail@dft") == 0, resp);
    gh_resp_free (&resp);
    assert (s_pmoctl_run (gh, "token list", out, sizeof out) == 0);
    assert (strstr (out, id) && !strstr (out, secret + 21));
    assert (s_pmoctl_run (gh, "--json token list", out, sizeof out) == 0);
    assert (strstr (out, id) && !strstr (out, secret + 21));
    //  Hashes never leave the gateway: every "hash" is empty
    for (const char *h = out; (h = strstr (h, "\"hash\":\"")); h++)
        assert (h[8] == '"');
    char args[128];
    snprintf (args, sizeof args, "token revoke %s", id);
    assert (s_pmoctl_run (gh, args, out, sizeof out) == 0);
    assert (strstr (out, "revoked:") && strstr (out, "yes"));
    resp = gh_http (gh, "GET", "/api/v1/whoami", secret, NULL, NULL);
    GH_STATUS (resp, 401);
    gh_resp_free (&resp);
    //  Refused again: already revoked; usage errors exit 2
    assert (s_pmoctl_run (gh, args, out, sizeof out) == 1);
    assert (s_pmoctl_run (gh, "token create --name x --subject y --grant wizard@dft", out,
                          sizeof out) == 2);
    assert (s_pmoctl_run (gh, "token create --name x --subject y", out, sizeof out) == 2);
    //  A grant in a unit that does not exist is refused by the service
    assert (s_pmoctl_run (gh, "token create --name x --subject y --grant viewer@nowhere", out,
                          sizeof out) == 1);
    gh_stop (&gh);
    printf ("test_gateway_pmoctl: OK\n");
    return 0;
}
