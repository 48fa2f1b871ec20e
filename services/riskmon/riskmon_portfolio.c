/*  riskmon_portfolio.c: the portfolio of a subtree as the dashboard needs
    it at scale: every project the caller may see, filtered (portfolio,
    programme, phase, status, reported and computed RAG), searched (code,
    name, manager), sorted by any column and paged, with the RAG counts and
    the money summed per currency over the whole filtered set.

    The risk monitor answers it because it alone holds both colours: the
    manager's (the latest status report) and the rules' (its assessment),
    beside the project snapshot the events carry. One scan of the
    division's records per request, as the roll-up does; the page's fired
    rules are read again for its rows only, so the scan keeps small rows.
*/
#include "riskmon_internal.h"

#include "pmo_reflect.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define PAGE_DEFAULT 50
#define PAGE_MAX     500
#define SCAN_BATCH   1000

typedef enum {
    COL_CODE,
    COL_NAME,
    COL_ORG_UNIT,
    COL_MANAGER,
    COL_PHASE,
    COL_STATUS,
    COL_REPORTED,
    COL_COMPUTED,
    COL_SPI,
    COL_CPI,
    COL_BUDGET,
    COL_ACTUAL,
    COL_BURN,
    COL_FINISH,
} s_column_t;

static const char *s_columns[] = {"code",   "name",     "org_unit", "manager", "phase",
                                  "status", "reported", "computed", "spi",     "cpi",
                                  "budget", "actual",   "burn",     "finish"};

typedef struct {
    s_column_t column;
    bool descending;
} s_sort_t;

//  A matching project and the sort it is placed by
typedef struct {
    Pmo__PortfolioRow *row;
    const s_sort_t *sort;
} s_entry_t;

//  Does text contain needle, ignoring ASCII case? An empty needle does.
static bool s_contains (const char *text, const char *needle)
{
    size_t n = strlen (needle);
    for (const char *t = text; *t; t++) {
        size_t i = 0;
        while (i < n && t[i] && tolower ((unsigned char)t[i]) == tolower ((unsigned char)needle[i]))
            i++;
        if (i == n)
            return true;
    }
    return n == 0;
}

//  The value a numeric column sorts by; false if the row does not know it
static bool s_number (const Pmo__PortfolioRow *row, s_column_t column, double *value)
{
    switch (column) {
    case COL_SPI:
        *value = row->spi;
        return row->has_spi;
    case COL_CPI:
        *value = row->cpi;
        return row->has_cpi;
    case COL_BUDGET:
        *value = (double)row->budget_minor;
        return row->has_budget;
    case COL_ACTUAL:
        *value = (double)row->actual_minor;
        return row->has_actual;
    case COL_BURN:
        *value = row->has_budget && row->budget_minor > 0
                     ? (double)row->actual_minor / (double)row->budget_minor
                     : 0;
        return row->has_budget && row->budget_minor > 0 && row->has_actual;
    case COL_PHASE:
        *value = row->phase;
        return row->phase != PMO__PHASE__PHASE_UNSPECIFIED;
    case COL_STATUS:
        *value = row->status;
        return row->status != PMO__PROJECT_STATUS__PROJECT_STATUS_UNSPECIFIED;
    case COL_REPORTED:
        *value = row->reported;
        return row->reported != PMO__RAG__RAG_UNSPECIFIED;
    case COL_COMPUTED:
        *value = row->computed;
        return row->computed != PMO__RAG__RAG_UNSPECIFIED;
    default:
        return false;
    }
}

static const char *s_text (const Pmo__PortfolioRow *row, s_column_t column)
{
    switch (column) {
    case COL_NAME:
        return row->name;
    case COL_ORG_UNIT:
        return row->org_unit;
    case COL_MANAGER:
        return row->manager;
    case COL_FINISH:
        return *row->forecast_finish ? row->forecast_finish : row->baseline_finish;
    default:
        return row->code;
    }
}

//  The sort's order; what a row does not know comes last either way, and
//  ties go by code then id, so pages never overlap
static int s_compare (const void *a_, const void *b_)
{
    const s_entry_t *a = a_, *b = b_;
    const s_sort_t *sort = a->sort;
    int order = 0;
    double x, y;
    switch (sort->column) {
    case COL_CODE:
    case COL_NAME:
    case COL_ORG_UNIT:
    case COL_MANAGER:
    case COL_FINISH: {
        const char *s = s_text (a->row, sort->column), *t = s_text (b->row, sort->column);
        if (!*s || !*t)
            return (*s == 0) - (*t == 0);
        order = strcasecmp (s, t);
        break;
    }
    default: {
        bool has_x = s_number (a->row, sort->column, &x);
        bool has_y = s_number (b->row, sort->column, &y);
        if (!has_x || !has_y) {
            if (has_x != has_y)
                return has_x ? -1 : 1;
            break;
        }
        order = x < y ? -1 : x > y;
    }
    }
    if (sort->descending)
        order = -order;
    if (!order)
        order = strcmp (a->row->code, b->row->code);
    return order ? order : strcmp (a->row->project_id, b->row->project_id);
}

static int s_parse_sort (const char *text, s_sort_t *sort)
{
    sort->descending = *text == '-';
    const char *name = sort->descending ? text + 1 : text;
    if (!*text) {
        sort->column = COL_CODE;
        return 0;
    }
    for (size_t i = 0; i < sizeof s_columns / sizeof *s_columns; i++)
        if (streq (name, s_columns[i])) {
            sort->column = (s_column_t)i;
            return 0;
        }
    return -1;
}

//  Does a record pass the request's filters (visibility first)?
static bool s_match (pmo_request_t *req, const Pmo__PortfolioRequest *q, const char *unit,
                     const Pmo__ProjectHealth *ph, Pmo__Rag computed)
{
    const Pmo__HealthInputs *in = ph->inputs;
    if (!in->known || in->archived)
        return false;
    if (!riskmon_allowed (pmo_request_who (req), RISKMON_READ, in->org_unit_path))
        return false;
    if (unit && !pmo_path_contains (in->org_unit_path, unit))
        return false;
    if (!pmo_str_empty (q->portfolio_id) && !streq (in->portfolio_id, q->portfolio_id))
        return false;
    if (!pmo_str_empty (q->programme_id) && !streq (in->programme_id, q->programme_id))
        return false;
    if (q->phase && in->phase != q->phase)
        return false;
    if (q->status && in->status != q->status)
        return false;
    if (q->reported && in->reported_overall != q->reported)
        return false;
    if (q->computed && computed != q->computed)
        return false;
    return pmo_str_empty (q->q) || s_contains (in->code, q->q) || s_contains (in->name, q->q) ||
           s_contains (in->manager, q->q);
}

//  A row of the record, its strings copied into arena
static Pmo__PortfolioRow *s_row (pmo_arena_t *arena, const Pmo__ProjectHealth *ph,
                                 const Pmo__HealthAssessment *current)
{
    const Pmo__HealthInputs *in = ph->inputs;
    Pmo__PortfolioRow *row = pmo_arena_alloc (arena, sizeof (Pmo__PortfolioRow));
    pmo__portfolio_row__init (row);
    row->project_id = pmo_arena_strdup (arena, in->project_id);
    row->code = pmo_arena_strdup (arena, in->code);
    row->name = pmo_arena_strdup (arena, in->name);
    row->org_unit = pmo_arena_strdup (arena, in->org_unit);
    row->org_unit_path = pmo_arena_strdup (arena, in->org_unit_path);
    row->division = pmo_arena_strdup (arena, in->division);
    row->manager = pmo_arena_strdup (arena, in->manager);
    row->portfolio_id = pmo_arena_strdup (arena, in->portfolio_id);
    row->programme_id = pmo_arena_strdup (arena, in->programme_id);
    row->phase = in->phase;
    row->status = in->status;
    row->baseline_finish = pmo_arena_strdup (arena, in->baseline_finish);
    row->forecast_finish = pmo_arena_strdup (arena, in->forecast_finish);
    row->currency = pmo_arena_strdup (arena, in->currency);
    row->has_budget = in->has_budget;
    row->budget_minor = in->budget_minor;
    row->has_actual = in->has_actual;
    row->actual_minor = in->actual_minor;
    row->reported = in->reported_overall;
    row->report_period_end = pmo_arena_strdup (arena, in->report_period_end);
    if (current) {
        row->computed = current->overall;
        row->has_spi = current->has_spi;
        row->spi = current->spi;
        row->has_cpi = current->has_cpi;
        row->cpi = current->cpi;
    }
    return row;
}

static Pmo__PortfolioMoney *s_money_for (pmo_arena_t *arena, Pmo__PortfolioPage *page,
                                         const char *currency)
{
    for (size_t i = 0; i < page->n_money; i++)
        if (streq (page->money[i]->currency, currency))
            return page->money[i];
    Pmo__PortfolioMoney *money = pmo_arena_alloc (arena, sizeof (Pmo__PortfolioMoney));
    pmo__portfolio_money__init (money);
    money->currency = pmo_arena_strdup (arena, currency);
    pmo_reflect_append (&page->base, "money", &money->base, arena);
    return money;
}

//  Count a matching record into the page's totals
static void s_add (pmo_arena_t *arena, Pmo__PortfolioPage *page, const Pmo__HealthInputs *in,
                   Pmo__Rag computed)
{
    page->total++;
    if (computed == PMO__RAG__RAG_GREEN)
        page->green++;
    else if (computed == PMO__RAG__RAG_AMBER)
        page->amber++;
    else if (computed == PMO__RAG__RAG_RED)
        page->red++;
    else
        page->unassessed++;
    //  Sums first, indices after: ratios are never averaged
    Pmo__PortfolioMoney *money = s_money_for (arena, page, in->currency);
    money->projects++;
    if (in->has_budget)
        money->budget_minor += in->budget_minor;
    if (in->has_actual)
        money->actual_minor += in->actual_minor;
    if (!pmo_str_empty (in->report_id)) {
        money->pv_minor += in->pv_minor;
        money->ev_minor += in->ev_minor;
        if (in->has_ac) {
            money->ac_minor += in->ac_minor;
            money->ev_with_ac_minor += in->ev_minor;
        }
    }
}

//  Scan one division's records into entries (rows in keep)
static int s_scan (riskmon_t *self, pmo_request_t *req, const Pmo__PortfolioRequest *q,
                   const char *unit, const char *division, pmo_arena_t *keep, pmo_arena_t *scratch,
                   s_entry_t **entries, size_t *n_entries, size_t *cap, Pmo__PortfolioPage *page)
{
    double after = -1;
    while (true) {
        pmo_arena_reset (scratch);
        char **ids;
        double *scores;
        size_t n;
        if (riskmon_store_zrange (self->store, scratch, riskmon_key_projects (scratch, division),
                                  &after, INFINITY, SCAN_BATCH, &ids, &scores, &n))
            return -1;
        if (n == 0)
            return 0;
        after = scores[n - 1];
        char **keys = pmo_arena_alloc (scratch, n * sizeof (char *));
        for (size_t i = 0; i < n; i++)
            keys[i] = riskmon_key_project (scratch, division, ids[i]);
        ProtobufCMessage **msgs = pmo_arena_alloc (scratch, n * sizeof (void *));
        if (riskmon_store_get_many (self->store, scratch, keys, n, &pmo__project_health__descriptor,
                                    msgs, NULL))
            return -1;
        for (size_t i = 0; i < n; i++) {
            Pmo__ProjectHealth *ph = riskmon_health_read (msgs[i]);
            if (!ph || !ph->inputs)
                continue;
            //  A project no longer delivered is not assessed: its last
            //  colour would be stale
            const Pmo__HealthAssessment *current =
                riskmon_project_live (ph->inputs) ? ph->current : NULL;
            Pmo__Rag computed = current ? current->overall : PMO__RAG__RAG_UNSPECIFIED;
            if (!s_match (req, q, unit, ph, computed))
                continue;
            s_add (req->arena, page, ph->inputs, computed);
            if (*n_entries == *cap) {
                *cap = *cap ? *cap * 2 : 256;
                s_entry_t *grown = pmo_arena_alloc (keep, *cap * sizeof (s_entry_t));
                if (*n_entries)
                    memcpy (grown, *entries, *n_entries * sizeof (s_entry_t));
                *entries = grown;
            }
            (*entries)[(*n_entries)++] = (s_entry_t){.row = s_row (keep, ph, current)};
        }
        if (n < SCAN_BATCH)
            return 0;
    }
}

//  The page's fired rules, read again for its rows only
static int s_fired (riskmon_t *self, pmo_request_t *req, Pmo__PortfolioPage *page)
{
    if (!page->n_rows)
        return 0;
    char **keys = pmo_arena_alloc (req->arena, page->n_rows * sizeof (char *));
    for (size_t i = 0; i < page->n_rows; i++)
        keys[i] =
            riskmon_key_project (req->arena, page->rows[i]->division, page->rows[i]->project_id);
    ProtobufCMessage **msgs = pmo_arena_alloc (req->arena, page->n_rows * sizeof (void *));
    if (riskmon_store_get_many (self->store, req->arena, keys, page->n_rows,
                                &pmo__project_health__descriptor, msgs, NULL))
        return -1;
    for (size_t i = 0; i < page->n_rows; i++) {
        Pmo__ProjectHealth *ph = riskmon_health_read (msgs[i]);
        Pmo__PortfolioRow *row = page->rows[i];
        if (ph && ph->current && row->computed != PMO__RAG__RAG_UNSPECIFIED) {
            row->n_fired = ph->current->n_fired;
            row->fired = ph->current->fired;
        }
    }
    return 0;
}

void riskmon_handle_portfolio (riskmon_t *self, pmo_request_t *req, Pmo__PortfolioRequest *q)
{
    s_sort_t sort;
    if (s_parse_sort (q->sort, &sort))
        return (void)FAIL (req, INVALID, "portfolio.sort",
                           "sort '%s' is not a column: code, name, org_unit, manager, phase, "
                           "status, reported, computed, spi, cpi, budget, actual, burn or finish "
                           "('-' before it for descending)",
                           q->sort);
    if (q->limit > PAGE_MAX)
        return (void)FAIL (req, INVALID, "portfolio.limit", "limit is at most %d", PAGE_MAX);
    size_t limit = q->limit ? q->limit : PAGE_DEFAULT;
    size_t offset = 0;
    if (!pmo_str_empty (q->cursor)) {
        char *end = NULL;
        errno = 0;
        unsigned long long at = strtoull (q->cursor, &end, 10);
        if (!isdigit ((unsigned char)*q->cursor) || *end || errno || at > 100000000)
            return (void)FAIL (req, INVALID, "portfolio.cursor",
                               "cursor is not one this service returned");
        offset = (size_t)at;
    }
    const char *hub = riskmon_store_hub (self->store);
    const Pmo__OrgUnit *unit = NULL;
    if (!pmo_str_empty (q->org_unit) && !(unit = riskmon_unit_for (self, req->arena, q->org_unit)))
        return (void)FAIL (req, NOT_FOUND, "portfolio.org_unit", "no org unit '%s'", q->org_unit);
    Pmo__PortfolioPage *page = pmo_arena_alloc (req->arena, sizeof (Pmo__PortfolioPage));
    pmo__portfolio_page__init (page);
    pmo_arena_t *keep = pmo_arena_new ();
    pmo_arena_t *scratch = pmo_arena_new ();
    s_entry_t *entries = NULL;
    size_t n_entries = 0, cap = 0;
    int rc = 0;
    for (size_t s = 0; s < self->n_streams && rc == 0; s++) {
        const char *division = self->divisions[s];
        if (unit && !streq (unit->id, hub) && !streq (unit->division, division))
            continue;
        rc = s_scan (self, req, q, unit ? unit->id : NULL, division, keep, scratch, &entries,
                     &n_entries, &cap, page);
    }
    pmo_arena_destroy (&scratch);
    if (rc) {
        pmo_arena_destroy (&keep);
        return pmo_request_unavailable (req, STORE_NAME);
    }
    for (size_t i = 0; i < n_entries; i++)
        entries[i].sort = &sort;
    if (n_entries > 1)
        qsort (entries, n_entries, sizeof *entries, s_compare);
    //  The page's rows move into the request's arena; the rest go with keep
    size_t first = offset < n_entries ? offset : n_entries;
    size_t count = n_entries - first < limit ? n_entries - first : limit;
    page->offset = (uint32_t)first;
    for (size_t i = 0; i < count; i++) {
        const Pmo__PortfolioRow *from = entries[first + i].row;
        Pmo__PortfolioRow *row = pmo_arena_alloc (req->arena, sizeof (Pmo__PortfolioRow));
        *row = *from;
        const char **strings[] = {(const char **)&row->project_id,
                                  (const char **)&row->code,
                                  (const char **)&row->name,
                                  (const char **)&row->org_unit,
                                  (const char **)&row->org_unit_path,
                                  (const char **)&row->division,
                                  (const char **)&row->manager,
                                  (const char **)&row->portfolio_id,
                                  (const char **)&row->programme_id,
                                  (const char **)&row->baseline_finish,
                                  (const char **)&row->forecast_finish,
                                  (const char **)&row->currency,
                                  (const char **)&row->report_period_end};
        for (size_t k = 0; k < sizeof strings / sizeof *strings; k++)
            *strings[k] = pmo_arena_strdup (req->arena, *strings[k]);
        pmo_reflect_append (&page->base, "rows", &row->base, req->arena);
    }
    if (first + count < n_entries)
        page->next_cursor = pmo_arena_printf (req->arena, "%zu", first + count);
    pmo_arena_destroy (&keep);
    for (size_t i = 0; i < page->n_money; i++) {
        Pmo__PortfolioMoney *money = page->money[i];
        if (money->pv_minor > 0) {
            money->has_spi = true;
            money->spi = (double)money->ev_minor / (double)money->pv_minor;
        }
        if (money->ac_minor > 0) {
            money->has_cpi = true;
            money->cpi = (double)money->ev_with_ac_minor / (double)money->ac_minor;
        }
    }
    if (s_fired (self, req, page))
        return pmo_request_unavailable (req, STORE_NAME);
    pmo_reflect_set_oneof (req->reply, "portfolio", &page->base);
}
