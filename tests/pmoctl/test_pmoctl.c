/*  test_pmoctl.c: the command line against a real registry and Redis.

    Runs the pmoctl binary as a user would: creates the org tree, a project,
    a milestone and a status report, changes the project with the version
    it read, meets a controlling gate, and checks exit codes (0 done, 1 the
    service refused, 2 usage, 3 no reply), that --json prints one parsable
    document, and that errors name the field.
*/
#include "registry_harness.h"

#include <assert.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

static char s_pmoctl[1024];
static char s_endpoint[128];
static const char *s_grant = "admin@hub"; //  who pmoctl speaks for

//  Run pmoctl with args; returns its exit status, stdout (and stderr) in out.
static int s_run (const char *args, char *out, size_t size)
{
    char command[2048];
    snprintf (command, sizeof command,
              "%s --registry %s --timeout 2000 --as tester@test --grant %s %s 2>&1", s_pmoctl,
              s_endpoint, s_grant, args);
    FILE *pipe = popen (command, "r");
    assert (pipe);
    size_t got = fread (out, 1, size - 1, pipe);
    out[got] = 0;
    int status = pclose (pipe);
    return WIFEXITED (status) ? WEXITSTATUS (status) : -1;
}

static void s_expect (int rc, const char *args, const char *contains)
{
    char out[16384];
    int got = s_run (args, out, sizeof out);
    if (got != rc || (contains && !strstr (out, contains))) {
        fprintf (stderr, "pmoctl %s: exit %d (expected %d), output:\n%s\n", args, got, rc, out);
        abort ();
    }
}

int main (void)
{
    pmo_test_build_path ("services/pmoctl/pmoctl", s_pmoctl, sizeof s_pmoctl);
    rh_t *rh = rh_start ();
    snprintf (s_endpoint, sizeof s_endpoint, "%s", rh->endpoint);
    char out[16384];

    s_expect (0, "ping", "redis");
    s_expect (0, "ou create --id hub --name Acme --kind enterprise --pmo-type directive", NULL);
    s_expect (0,
              "ou create --id fin --name Finance --kind division --parent hub "
              "--pmo-type controlling --tier spoke --gate planning:charter,business_case",
              NULL);
    s_expect (0, "ou list", "hub/fin");
    s_expect (0,
              "project create --code FIN-1 --name Ledger --org-unit fin --currency GBP "
              "--budget 1,250,000.50 --start 2026-01-12 --finish 2026-12-18",
              "pr_fin_1");

    //  --json prints one document a script can parse
    assert (s_run ("--json project get pr_fin_1", out, sizeof out) == 0);
    json_error_t error;
    json_t *doc = json_loads (out, 0, &error);
    assert (doc);
    json_t *project = json_object_get (doc, "project");
    assert (project && json_integer_value (json_object_get (
                           json_object_get (json_object_get (project, "budget"), "baseline"),
                           "minor")) == 125000050);
    json_decref (doc);

    //  Children and status reports (report submit is not the portfolio report)
    s_expect (0, "milestone add --project FIN-1 --name Design --baseline 2026-04-30", "ms_fin_1");
    s_expect (0,
              "report submit --project FIN-1 --period-end 2026-03-31 --overall amber --pv 1000 "
              "--ev 900 --ac 950",
              "sr_fin_1");
    s_expect (0, "report list --project FIN-1", "sr_fin_1");

    //  Updates apply flags to what was read, with its version
    s_expect (0, "project update FIN-1 --priority 1", NULL);
    s_expect (1, "project update FIN-1 --priority 2 --version 1", "conflict");
    //  A controlling gate lists what is missing
    s_expect (1, "project phase FIN-1 --to planning", "business_case");
    s_expect (0, "project update FIN-1 --add-artifact charter --add-artifact business_case", NULL);
    s_expect (0, "project phase FIN-1 --to planning", NULL);
    //  A gate request waits for its approvers until withdrawn or decided
    s_expect (0, "project request-gate FIN-1 --to execution --note board-on-friday",
              "gate into execution requested by");
    s_expect (1, "project request-gate FIN-1 --to execution", "already requested");
    s_expect (0, "gate pending --to-decide", "FIN-1");
    s_expect (0, "gate pending --project FIN-1", "note: board-on-friday");
    s_expect (0, "project withdraw-gate FIN-1", "gate request withdrawn");
    s_expect (0, "gate pending", "no gate requests waiting");
    s_expect (1, "project withdraw-gate FIN-1", "no pending gate request");

    //  Refusals name the field; usage errors are 2; no service is 3
    s_expect (1,
              "project create --code FIN-2 --name X --org-unit fin --start 2027-01-01 --finish "
              "2026-01-01",
              "baseline_finish");
    s_expect (1, "project create --code FIN-1 --name Again --org-unit fin", "already_exists");
    s_expect (2, "project create --code FIN-2 --name X --org-unit fin --start 2026-02-30",
              "--start");
    s_expect (2, "project create --code FIN-2 --name X --org-unit fin --budget 12.345", "budget");
    s_expect (2, "project frobnicate", NULL);
    s_grant = "viewer@fin";
    s_expect (0, "project get FIN-1", "Ledger");
    s_expect (1, "project update FIN-1 --priority 3", "forbidden");
    s_grant = "admin@hub";
    snprintf (s_endpoint, sizeof s_endpoint, "tcp://127.0.0.1:%d", pmo_test_free_port ());
    s_expect (3, "--timeout 200 ping", "no reply");
    //  Every service's ping says so too (deploy/pmo waits on these)
    const char *services[][2] = {{"PMO_ALLOCATOR_ENDPOINT", "allocator ping"},
                                 {"PMO_RISKMON_ENDPOINT", "riskmon ping"},
                                 {"PMO_NOTIFIER_ENDPOINT", "notifier ping"},
                                 {"PMO_GATEWAY_ENDPOINT", "gateway ping"},
                                 {"PMO_HUB_ENDPOINT", "hub ping"}};
    for (size_t i = 0; i < sizeof services / sizeof services[0]; i++) {
        char nowhere[64], args[96];
        snprintf (args, sizeof args, "--timeout 200 %s", services[i][1]);
        //  A malformed endpoint is a usage error, whichever service
        setenv (services[i][0], "nonsense", 1);
        s_expect (2, args, "is not a ZeroMQ endpoint");
        snprintf (nowhere, sizeof nowhere, "tcp://127.0.0.1:%d", pmo_test_free_port ());
        setenv (services[i][0], nowhere, 1);
        s_expect (3, args, "no reply");
    }
    rh_stop (&rh);
    printf ("test_pmoctl: ok\n");
    return 0;
}
