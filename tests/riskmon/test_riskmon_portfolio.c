/*  test_riskmon_portfolio.c: the portfolio request over real ZeroMQ
    sockets against a real redis-server and a real registry: projects made
    in the registry reach the risk monitor as events, then are filtered
    (portfolio, programme-free, phase, reported and computed RAG, subtree),
    searched (code, name, manager in any case), sorted by columns both ways
    with unknown values last, paged with totals over the filtered set,
    scoped to the caller's grants; bad input is refused by field. Exports
    that follow the portfolio's filters (lib/portio) hold exactly the
    projects the request answers, in its order, or those projects' records.
*/
#include "portio_import.h"
#include "riskmon_harness.h"

#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char s_pf[40];

static void s_org (rm_t *rm)
{
    Pmo__RegistryReply *reply = rh_unit (rm->rh, "hub", "enterprise", NULL, "controlling");
    rh_ok (reply);
    rh_free (&reply);
    reply = rh_unit (rm->rh, "dft", "division", "hub", "supportive");
    rh_ok (reply);
    rh_free (&reply);
    reply = rh_unit (rm->rh, "ops", "division", "hub", "supportive");
    rh_ok (reply);
    rh_free (&reply);
    reply = rh_unit (rm->rh, "dft-rail", "department", "dft", NULL);
    rh_ok (reply);
    rh_free (&reply);
    Pmo__Portfolio pf = PMO__PORTFOLIO__INIT;
    pf.code = "PF-RAIL";
    pf.name = "Rail";
    pf.org_unit = "dft";
    Pmo__RegistryRequest request = PMO__REGISTRY_REQUEST__INIT;
    request.body_case = PMO__REGISTRY_REQUEST__BODY_CREATE_PORTFOLIO;
    request.create_portfolio = &pf;
    reply = rh_call (rm->rh, &request);
    rh_ok (reply);
    strcpy (s_pf, reply->portfolio->id);
    rh_free (&reply);
}

//  A project with a manager, a budget (0: none) and an actual cost (<0: none)
static void s_project (rm_t *rm, const char *code, const char *name, const char *unit,
                       const char *manager, const char *portfolio, int64_t budget, int64_t actual,
                       const char *currency, char *out)
{
    Pmo__Money baseline = PMO__MONEY__INIT, spent = PMO__MONEY__INIT;
    baseline.minor = budget;
    baseline.currency = (char *)currency;
    spent.minor = actual;
    spent.currency = (char *)currency;
    Pmo__Budget money = PMO__BUDGET__INIT;
    money.baseline = budget ? &baseline : NULL;
    money.actual = actual >= 0 ? &spent : NULL;
    Pmo__Project project = PMO__PROJECT__INIT;
    project.code = (char *)code;
    project.name = (char *)name;
    project.org_unit = (char *)unit;
    project.manager = (char *)manager;
    project.portfolio_id = (char *)portfolio;
    project.budget = budget || actual >= 0 ? &money : NULL;
    Pmo__RegistryRequest request = PMO__REGISTRY_REQUEST__INIT;
    request.body_case = PMO__REGISTRY_REQUEST__BODY_CREATE_PROJECT;
    request.create_project = &project;
    Pmo__RegistryReply *reply = rh_call (rm->rh, &request);
    rh_ok (reply);
    strcpy (out, reply->project->id);
    rh_free (&reply);
}

static void s_report (rm_t *rm, const char *project, Pmo__Rag said, int64_t pv, int64_t ev,
                      int64_t ac, bool has_ac)
{
    Pmo__StatusReport report = PMO__STATUS_REPORT__INIT;
    report.project_id = (char *)project;
    report.period_end = (char *)rm_date (0, 0);
    report.overall = said;
    report.pv_minor = pv;
    report.ev_minor = ev;
    report.ac_minor = ac;
    report.has_ac = has_ac;
    Pmo__RegistryRequest request = PMO__REGISTRY_REQUEST__INIT;
    request.body_case = PMO__REGISTRY_REQUEST__BODY_SUBMIT_STATUS_REPORT;
    request.submit_status_report = &report;
    Pmo__RegistryReply *reply = rh_call (rm->rh, &request);
    rh_ok (reply);
    rh_free (&reply);
}

typedef struct {
    const char *org_unit, *q, *portfolio_id, *sort, *cursor;
    Pmo__Phase phase;
    Pmo__Rag reported, computed;
    uint32_t limit;
} s_query_t;

static Pmo__RiskmonReply *s_ask (rm_t *rm, s_query_t query)
{
    Pmo__PortfolioRequest q = PMO__PORTFOLIO_REQUEST__INIT;
    q.org_unit = (char *)(query.org_unit ? query.org_unit : "");
    q.q = (char *)(query.q ? query.q : "");
    q.portfolio_id = (char *)(query.portfolio_id ? query.portfolio_id : "");
    q.sort = (char *)(query.sort ? query.sort : "");
    q.cursor = (char *)(query.cursor ? query.cursor : "");
    q.phase = query.phase;
    q.reported = query.reported;
    q.computed = query.computed;
    q.limit = query.limit;
    Pmo__RiskmonRequest request = PMO__RISKMON_REQUEST__INIT;
    request.body_case = PMO__RISKMON_REQUEST__BODY_PORTFOLIO;
    request.portfolio = &q;
    return rm_call (rm, &request);
}

//  The page's codes, comma-separated
static const char *s_codes (const Pmo__PortfolioPage *page)
{
    static char codes[512];
    codes[0] = 0;
    for (size_t i = 0; i < page->n_rows; i++) {
        strcat (codes, i ? "," : "");
        strcat (codes, page->rows[i]->code);
    }
    return codes;
}

static void s_expect (rm_t *rm, s_query_t query, const char *codes, uint32_t total)
{
    Pmo__RiskmonReply *reply = s_ask (rm, query);
    rm_ok (reply);
    if (!streq (s_codes (reply->portfolio), codes) || reply->portfolio->total != total) {
        fprintf (stderr, "portfolio: expected %s (%u), got %s (%u)\n", codes, total,
                 s_codes (reply->portfolio), reply->portfolio->total);
        abort ();
    }
    rm_free (&reply);
}

static const Pmo__PortfolioMoney *s_money (const Pmo__PortfolioPage *page, const char *currency)
{
    for (size_t i = 0; i < page->n_money; i++)
        if (streq (page->money[i]->currency, currency))
            return page->money[i];
    return NULL;
}

//  A column of an export that follows filter (a project's code, a
//  report's project_id), comma-separated
static const char *s_exported (rm_t *rm, const char *entity, const char *unit,
                               const Pmo__PortfolioRequest *filter, int expect_rc, char *why)
{
    static char codes[512];
    portio_import_peer_t peer = {rm->rh->client, &rm->rh->identity, 5000, 2,
                                 NULL,           rm->client,        NULL};
    char *csv = NULL;
    size_t size;
    int rc = portio_export_filtered (&peer, entity, unit, filter, false, &csv, &size, why, 512);
    if (rc != expect_rc) {
        fprintf (stderr, "export %s: expected %d, got %d: %s\n", entity, expect_rc, rc,
                 rc ? why : csv);
        abort ();
    }
    codes[0] = 0;
    if (rc)
        return codes;
    //  The header names the columns: find the code's
    const char *column = streq (entity, "project") ? "code" : "project_id";
    char *line = csv, *next;
    int at = -1;
    for (bool header = true; line && *line; line = next, header = false) {
        next = strstr (line, "\r\n");
        next = next ? (*next = 0, next + 2) : NULL;
        int i = 0;
        for (char *cell = line, *comma; cell; cell = comma ? comma + 1 : NULL, i++) {
            comma = strchr (cell, ',');
            size_t len = comma ? (size_t)(comma - cell) : strlen (cell);
            if (header && len == strlen (column) && strncmp (cell, column, len) == 0)
                at = i;
            else if (!header && i == at) {
                strcat (codes, *codes ? "," : "");
                strncat (codes, cell, len);
            }
        }
        assert (at >= 0);
    }
    free (csv);
    return codes;
}

int main (void)
{
    rm_t *rm = rm_start ();
    s_org (rm);
    char p1[40], p2[40], p3[40], p4[40], p5[40];
    s_project (rm, "DFT-1", "Rail signalling", "dft-rail", "Ann Lee", s_pf, 100000, 50000, "GBP",
               p1);
    s_project (rm, "DFT-2", "Bridge renewal", "dft", "Bob Ray", s_pf, 300000, 330000, "GBP", p2);
    s_project (rm, "DFT-3", "Depot", "dft", "Cy Young", "", 0, -1, "", p3);
    s_project (rm, "OPS-1", "Ops rail yard", "ops", "Dee Ash", "", 50000, -1, "EUR", p4);
    s_project (rm, "OPS-2", "Closed down", "ops", "Eve Moss", "", 0, -1, "", p5);
    //  The manager says red and the rules agree (SPI 0.85); the manager
    //  says green, the rules say red (CPI 1.2); green and green
    s_report (rm, p1, PMO__RAG__RAG_RED, 1000, 850, 0, false);
    s_report (rm, p2, PMO__RAG__RAG_GREEN, 3000, 3000, 2500, true);
    s_report (rm, p4, PMO__RAG__RAG_GREEN, 2000, 2000, 2000, true);
    Pmo__RiskmonReply *reply = rm_wait_health (rm, p1, 1, PMO__RAG__RAG_RED);
    rm_free (&reply);
    reply = rm_wait_health (rm, p2, 1, PMO__RAG__RAG_RED);
    rm_free (&reply);
    reply = rm_wait_health (rm, p4, 1, PMO__RAG__RAG_GREEN);
    rm_free (&reply);
    //  Archived: it leaves the portfolio (waits for the event to arrive)
    reply = NULL;
    {
        Pmo__ArchiveRequest archive = PMO__ARCHIVE_REQUEST__INIT;
        archive.kind = PMO__ENTITY_KIND__ENTITY_KIND_PROJECT;
        archive.id = p5;
        archive.version = 1;
        Pmo__RegistryRequest request = PMO__REGISTRY_REQUEST__INIT;
        request.body_case = PMO__REGISTRY_REQUEST__BODY_ARCHIVE;
        request.archive = &archive;
        Pmo__RegistryReply *archived = rh_call (rm->rh, &request);
        rh_ok (archived);
        rh_free (&archived);
    }
    //  Wait until the risk monitor has every snapshot: DFT-3 (no report)
    //  and OPS-2's archive arrive as events
    bool settled = false;
    for (int i = 0; i < 500 && !settled; i++) {
        reply = s_ask (rm, (s_query_t){0});
        rm_ok (reply);
        settled = streq (s_codes (reply->portfolio), "DFT-1,DFT-2,DFT-3,OPS-1");
        rm_free (&reply);
        if (!settled)
            zclock_sleep (20);
    }
    assert (settled);

    //  The whole portfolio: rows by code, totals per currency
    reply = s_ask (rm, (s_query_t){0});
    rm_ok (reply);
    Pmo__PortfolioPage *page = reply->portfolio;
    //  DFT-3 has no report yet and is not late with one: green by the rules
    assert (page->total == 4 && page->red == 2 && page->green == 2 && page->unassessed == 0);
    assert (streq (page->next_cursor, "") && page->offset == 0);
    const Pmo__PortfolioMoney *gbp = s_money (page, "GBP");
    assert (gbp && gbp->projects == 2 && gbp->budget_minor == 400000);
    assert (gbp->actual_minor == 380000 && gbp->pv_minor == 4000 && gbp->ev_minor == 3850);
    assert (gbp->has_spi && fabs (gbp->spi - 3850.0 / 4000.0) < 1e-9);
    assert (gbp->has_cpi && fabs (gbp->cpi - 1.2) < 1e-9);
    const Pmo__PortfolioMoney *eur = s_money (page, "EUR");
    assert (eur && eur->projects == 1 && eur->budget_minor == 50000 && eur->actual_minor == 0);
    const Pmo__PortfolioMoney *none = s_money (page, "");
    assert (none && none->projects == 1 && !none->has_spi && !none->has_cpi);
    //  The reported and the computed colour side by side, rules attached
    const Pmo__PortfolioRow *r2 = page->rows[1];
    assert (streq (r2->code, "DFT-2") && r2->reported == PMO__RAG__RAG_GREEN);
    assert (r2->computed == PMO__RAG__RAG_RED && r2->n_fired > 0);
    assert (r2->has_budget && r2->budget_minor == 300000 && r2->has_actual);
    assert (streq (r2->portfolio_id, s_pf) && streq (r2->manager, "Bob Ray"));
    const Pmo__PortfolioRow *r3 = page->rows[2];
    assert (!r3->has_budget && !r3->has_actual && r3->reported == PMO__RAG__RAG_UNSPECIFIED);
    rm_free (&reply);
    printf ("portfolio rows and totals: ok\n");

    //  Sorts, both ways; unknown values last either way
    s_expect (rm, (s_query_t){.sort = "-code"}, "OPS-1,DFT-3,DFT-2,DFT-1", 4);
    s_expect (rm, (s_query_t){.sort = "budget"}, "OPS-1,DFT-1,DFT-2,DFT-3", 4);
    s_expect (rm, (s_query_t){.sort = "-budget"}, "DFT-2,DFT-1,OPS-1,DFT-3", 4);
    s_expect (rm, (s_query_t){.sort = "-burn"}, "DFT-2,DFT-1,DFT-3,OPS-1", 4);
    s_expect (rm, (s_query_t){.sort = "name"}, "DFT-2,DFT-3,OPS-1,DFT-1", 4);
    s_expect (rm, (s_query_t){.sort = "-computed"}, "DFT-1,DFT-2,DFT-3,OPS-1", 4);
    s_expect (rm, (s_query_t){.sort = "reported"}, "DFT-2,OPS-1,DFT-1,DFT-3", 4);
    printf ("portfolio sorts: ok\n");

    //  Search and filters; totals follow the filtered set
    s_expect (rm, (s_query_t){.q = "RAIL"}, "DFT-1,OPS-1", 2);
    s_expect (rm, (s_query_t){.q = "bob"}, "DFT-2", 1);
    s_expect (rm, (s_query_t){.q = "ops-"}, "OPS-1", 1);
    s_expect (rm, (s_query_t){.q = "nothing like it"}, "", 0);
    s_expect (rm, (s_query_t){.portfolio_id = s_pf}, "DFT-1,DFT-2", 2);
    s_expect (rm, (s_query_t){.org_unit = "dft-rail"}, "DFT-1", 1);
    s_expect (rm, (s_query_t){.org_unit = "dft"}, "DFT-1,DFT-2,DFT-3", 3);
    s_expect (rm, (s_query_t){.reported = PMO__RAG__RAG_GREEN}, "DFT-2,OPS-1", 2);
    s_expect (rm, (s_query_t){.computed = PMO__RAG__RAG_RED}, "DFT-1,DFT-2", 2);
    s_expect (rm, (s_query_t){.reported = PMO__RAG__RAG_GREEN, .computed = PMO__RAG__RAG_RED},
              "DFT-2", 1);
    s_expect (rm, (s_query_t){.phase = PMO__PHASE__PHASE_EXECUTION}, "", 0);
    reply = s_ask (rm, (s_query_t){.org_unit = "ops"});
    rm_ok (reply);
    assert (reply->portfolio->total == 1 && !s_money (reply->portfolio, "GBP"));
    assert (s_money (reply->portfolio, "EUR")->budget_minor == 50000);
    rm_free (&reply);
    printf ("portfolio search and filters: ok\n");

    //  Pages: the totals are the filtered set's on every page
    reply = s_ask (rm, (s_query_t){.limit = 3, .sort = "-code"});
    rm_ok (reply);
    assert (streq (s_codes (reply->portfolio), "OPS-1,DFT-3,DFT-2"));
    assert (reply->portfolio->total == 4 && streq (reply->portfolio->next_cursor, "3"));
    rm_free (&reply);
    reply = s_ask (rm, (s_query_t){.limit = 3, .sort = "-code", .cursor = "3"});
    rm_ok (reply);
    assert (streq (s_codes (reply->portfolio), "DFT-1") && reply->portfolio->offset == 3);
    assert (reply->portfolio->total == 4 && streq (reply->portfolio->next_cursor, ""));
    assert (s_money (reply->portfolio, "GBP")->budget_minor == 400000);
    rm_free (&reply);
    s_expect (rm, (s_query_t){.cursor = "40"}, "", 4);
    printf ("portfolio pages: ok\n");

    //  Each caller sees what their grants allow, totals included
    rh_as (rm->rh, "viewer@ops", "viewer@ops");
    s_expect (rm, (s_query_t){0}, "OPS-1", 1);
    s_expect (rm, (s_query_t){.org_unit = "dft"}, "", 0);
    rh_as (rm->rh, "pm@rail", "project_manager@dft-rail");
    reply = s_ask (rm, (s_query_t){0});
    rm_ok (reply);
    assert (streq (s_codes (reply->portfolio), "DFT-1") && reply->portfolio->total == 1);
    assert (s_money (reply->portfolio, "GBP")->budget_minor == 100000);
    rm_free (&reply);
    rh_as (rm->rh, "nobody", "");
    s_expect (rm, (s_query_t){0}, "", 0);
    rh_as (rm->rh, "admin@hub", "admin@hub");
    printf ("portfolio scoped by grants: ok\n");

    //  The rows kept between requests follow the records: a report read
    //  after the queries above shows at the next one
    s_report (rm, p3, PMO__RAG__RAG_AMBER, 1000, 800, 0, false);
    reply = rm_wait_health (rm, p3, 1, PMO__RAG__RAG_RED);
    rm_free (&reply);
    s_expect (rm, (s_query_t){.reported = PMO__RAG__RAG_AMBER}, "DFT-3", 1);
    s_expect (rm, (s_query_t){.computed = PMO__RAG__RAG_RED}, "DFT-1,DFT-2,DFT-3", 3);
    printf ("portfolio follows the records: ok\n");

    //  Exports follow the portfolio's filters: the risk monitor's rule,
    //  so the file holds what the request answers, in its order
    {
        char why[512];
        Pmo__PortfolioRequest f = PMO__PORTFOLIO_REQUEST__INIT;
        f.q = "RAIL";
        assert (streq (s_exported (rm, "project", "", &f, 0, why), "DFT-1,OPS-1"));
        f.q = "";
        f.computed = PMO__RAG__RAG_RED;
        f.sort = "-code";
        assert (streq (s_exported (rm, "project", "", &f, 0, why), "DFT-3,DFT-2,DFT-1"));
        reply = s_ask (rm, (s_query_t){.computed = PMO__RAG__RAG_RED, .sort = "-code"});
        rm_ok (reply);
        assert (streq (s_codes (reply->portfolio), "DFT-3,DFT-2,DFT-1"));
        rm_free (&reply);
        //  The subtree is the export's own org unit
        assert (streq (s_exported (rm, "project", "dft-rail", &f, 0, why), "DFT-1"));
        //  Without filters: every project of the unit, as before
        assert (streq (s_exported (rm, "project", "ops", NULL, 0, why), "OPS-1"));
        //  A register follows the filtered projects: the status reports of
        //  the projects the manager reported green
        f.computed = PMO__RAG__RAG_UNSPECIFIED;
        f.sort = "";
        f.reported = PMO__RAG__RAG_GREEN;
        char ids[100];
        snprintf (ids, sizeof ids, "%s,%s", p2, p4);
        assert (streq (s_exported (rm, "status_report", "", &f, 0, why), ids));
        f.reported = PMO__RAG__RAG_AMBER;
        assert (streq (s_exported (rm, "status_report", "", &f, 0, why), p3));
        //  Scoped as the request is: a viewer of ops exports ops only
        f.reported = PMO__RAG__RAG_UNSPECIFIED;
        rh_as (rm->rh, "viewer@ops", "viewer@ops");
        assert (streq (s_exported (rm, "project", "", &f, 0, why), "OPS-1"));
        rh_as (rm->rh, "admin@hub", "admin@hub");
        //  Refused with why: a filter the risk monitor refuses, and an
        //  entity that belongs to no project
        f.sort = "colour";
        s_exported (rm, "project", "", &f, -1, why);
        assert (strstr (why, "[portfolio.sort]"));
        f.sort = "";
        s_exported (rm, "org_unit", "", &f, -1, why);
        assert (strstr (why, "not to org_unit"));
    }
    printf ("exports follow the portfolio's filters: ok\n");

    //  Bad input: refused by field, and the service keeps serving
    reply = s_ask (rm, (s_query_t){.sort = "colour"});
    rm_err (reply, INVALID, "portfolio.sort");
    assert (strstr (reply->error->message, "computed"));
    rm_free (&reply);
    reply = s_ask (rm, (s_query_t){.limit = 501});
    rm_err (reply, INVALID, "portfolio.limit");
    rm_free (&reply);
    const char *cursors[] = {"x", "-1", "3x", " 3", "99999999999999999999"};
    for (size_t i = 0; i < sizeof cursors / sizeof *cursors; i++) {
        reply = s_ask (rm, (s_query_t){.cursor = cursors[i]});
        rm_err (reply, INVALID, "portfolio.cursor");
        rm_free (&reply);
    }
    reply = s_ask (rm, (s_query_t){.org_unit = "atlantis"});
    rm_err (reply, NOT_FOUND, "portfolio.org_unit");
    rm_free (&reply);
    s_expect (rm, (s_query_t){0}, "DFT-1,DFT-2,DFT-3,OPS-1", 4);
    printf ("portfolio bad input: ok\n");

    rm_stop (&rm);
    printf ("test_riskmon_portfolio: ok\n");
    return 0;
}
