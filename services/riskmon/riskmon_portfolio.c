/*  riskmon_portfolio.c: the portfolio of a subtree as the dashboard needs
    it at scale: every project the caller may see, filtered (portfolio,
    programme, phase, status, reported and computed RAG), searched (code,
    name, manager), sorted by any column and paged, with the RAG counts and
    the money summed per currency over the whole filtered set.

    The risk monitor answers it because it alone holds both colours: the
    manager's (the latest status report) and the rules' (its assessment),
    beside the project snapshot the events carry.

    Reading every record for every request cost 100-300 ms at 10,000
    projects (whole records: inputs, assessment, alerts). So the actor
    keeps a small row per record, tagged with the record's version: a
    request reads only the versions (one script per division,
    lua/versions.lua, every division's pipelined in one round trip) and
    reads again the records whose version moved, whoever wrote them
    (another replica included). Redis stays the truth; the rows are a cache of it,
    rebuilt on demand after a restart. The page's fired rules are read
    from its records only.
*/
#include "riskmon_internal.h"

#include "pmo_reflect.h"

#include <assert.h>
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
    const Pmo__PortfolioRow *row;
    const s_sort_t *sort;
} s_entry_t;

//  A record as the portfolio needs it (strings owned), at its version
typedef struct {
    uint64_t version;
    bool listed;     //  known and not archived
    bool has_report; //  a status report was applied (its PV/EV/AC count)
    int64_t pv_minor, ev_minor, ac_minor;
    bool has_ac;
    Pmo__PortfolioRow row;
} s_cached_t;

#define ROW_STRINGS(row_)                                                                          \
    {                                                                                              \
        &(row_)->project_id, &(row_)->code, &(row_)->name, &(row_)->org_unit,                      \
            &(row_)->org_unit_path, &(row_)->division, &(row_)->manager, &(row_)->portfolio_id,    \
            &(row_)->programme_id, &(row_)->baseline_finish, &(row_)->forecast_finish,             \
            &(row_)->currency, &(row_)->report_period_end                                          \
    }
#define N_ROW_STRINGS 13

static void s_cached_free (void **item)
{
    s_cached_t *self = *item;
    if (!self)
        return;
    char **strings[N_ROW_STRINGS] = ROW_STRINGS (&self->row);
    for (size_t i = 0; i < N_ROW_STRINGS; i++)
        free (*strings[i]);
    free (self);
    *item = NULL;
}

zhashx_t *riskmon_portfolio_cache_new (void)
{
    zhashx_t *cache = zhashx_new ();
    zhashx_set_destructor (cache, s_cached_free);
    return cache;
}

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

//  Does a row pass the request's filters (visibility first)?
static bool s_match (pmo_request_t *req, const Pmo__PortfolioRequest *q, const char *unit,
                     const s_cached_t *c)
{
    const Pmo__PortfolioRow *row = &c->row;
    if (!c->listed)
        return false;
    if (!riskmon_allowed (pmo_request_who (req), RISKMON_READ, row->org_unit_path))
        return false;
    if (unit && !pmo_path_contains (row->org_unit_path, unit))
        return false;
    if (!pmo_str_empty (q->portfolio_id) && !streq (row->portfolio_id, q->portfolio_id))
        return false;
    if (!pmo_str_empty (q->programme_id) && !streq (row->programme_id, q->programme_id))
        return false;
    if (q->phase && row->phase != q->phase)
        return false;
    if (q->status && row->status != q->status)
        return false;
    if (q->reported && row->reported != q->reported)
        return false;
    if (q->computed && row->computed != q->computed)
        return false;
    return pmo_str_empty (q->q) || s_contains (row->code, q->q) || s_contains (row->name, q->q) ||
           s_contains (row->manager, q->q);
}

//  The row of a record as read, at its version (heap: the cache owns it)
static s_cached_t *s_cached_new (const Pmo__ProjectHealth *ph, uint64_t version)
{
    const Pmo__HealthInputs *in = ph->inputs;
    s_cached_t *c = calloc (1, sizeof (s_cached_t));
    assert (c);
    c->version = version;
    c->listed = in->known && !in->archived;
    c->has_report = !pmo_str_empty (in->report_id);
    c->pv_minor = in->pv_minor;
    c->ev_minor = in->ev_minor;
    c->ac_minor = in->ac_minor;
    c->has_ac = in->has_ac;
    Pmo__PortfolioRow *row = &c->row;
    pmo__portfolio_row__init (row);
    row->project_id = in->project_id;
    row->code = in->code;
    row->name = in->name;
    row->org_unit = in->org_unit;
    row->org_unit_path = in->org_unit_path;
    row->division = in->division;
    row->manager = in->manager;
    row->portfolio_id = in->portfolio_id;
    row->programme_id = in->programme_id;
    row->baseline_finish = in->baseline_finish;
    row->forecast_finish = in->forecast_finish;
    row->currency = in->currency;
    row->report_period_end = in->report_period_end;
    char **strings[N_ROW_STRINGS] = ROW_STRINGS (row);
    for (size_t i = 0; i < N_ROW_STRINGS; i++) {
        *strings[i] = strdup (*strings[i] ? *strings[i] : "");
        assert (*strings[i]);
    }
    row->phase = in->phase;
    row->status = in->status;
    row->has_budget = in->has_budget;
    row->budget_minor = in->budget_minor;
    row->has_actual = in->has_actual;
    row->actual_minor = in->actual_minor;
    row->reported = in->reported_overall;
    //  A project no longer delivered is not assessed: its last colour
    //  would be stale
    const Pmo__HealthAssessment *current = riskmon_project_live (in) ? ph->current : NULL;
    if (current) {
        row->computed = current->overall;
        row->has_spi = current->has_spi;
        row->spi = current->spi;
        row->has_cpi = current->has_cpi;
        row->cpi = current->cpi;
    }
    return c;
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

//  Count a matching row into the page's totals
static void s_add (pmo_arena_t *arena, Pmo__PortfolioPage *page, const s_cached_t *c)
{
    const Pmo__PortfolioRow *row = &c->row;
    page->total++;
    if (row->computed == PMO__RAG__RAG_GREEN)
        page->green++;
    else if (row->computed == PMO__RAG__RAG_AMBER)
        page->amber++;
    else if (row->computed == PMO__RAG__RAG_RED)
        page->red++;
    else
        page->unassessed++;
    //  Sums first, indices after: ratios are never averaged
    Pmo__PortfolioMoney *money = s_money_for (arena, page, row->currency);
    money->projects++;
    if (row->has_budget)
        money->budget_minor += row->budget_minor;
    if (row->has_actual)
        money->actual_minor += row->actual_minor;
    if (c->has_report) {
        money->pv_minor += c->pv_minor;
        money->ev_minor += c->ev_minor;
        if (c->has_ac) {
            money->ac_minor += c->ac_minor;
            money->ev_with_ac_minor += c->ev_minor;
        }
    }
}

//  One division's rows into entries, given the versions of its records
//  (read for every division at once): the records whose version moved are
//  read again first
static int s_scan (riskmon_t *self, pmo_request_t *req, const Pmo__PortfolioRequest *q,
                   const char *unit, const char *division, const riskmon_versions_t *read_versions,
                   pmo_arena_t *scratch, s_entry_t **entries, size_t *n_entries, size_t *cap,
                   Pmo__PortfolioPage *page)
{
    char **ids = read_versions->ids;
    uint64_t *versions = read_versions->versions;
    size_t n = read_versions->n;
    char **stale = pmo_arena_alloc (scratch, (n + 1) * sizeof (char *));
    size_t n_stale = 0;
    for (size_t i = 0; i < n; i++) {
        s_cached_t *c = zhashx_lookup (self->portfolio, ids[i]);
        if (!versions[i])
            zhashx_delete (self->portfolio, ids[i]);
        else if (!c || c->version != versions[i])
            stale[n_stale++] = riskmon_key_project (scratch, division, ids[i]);
    }
    //  The records whose version moved, a batch at a time
    pmo_arena_t *batch = pmo_arena_new ();
    for (size_t at = 0; at < n_stale; at += SCAN_BATCH) {
        pmo_arena_reset (batch);
        size_t m = n_stale - at < SCAN_BATCH ? n_stale - at : SCAN_BATCH;
        ProtobufCMessage **msgs = pmo_arena_alloc (batch, m * sizeof (void *));
        uint64_t *read = pmo_arena_alloc (batch, m * sizeof (uint64_t));
        if (riskmon_store_get_many (self->store, batch, stale + at, m,
                                    &pmo__project_health__descriptor, msgs, read)) {
            pmo_arena_destroy (&batch);
            return -1;
        }
        for (size_t i = 0; i < m; i++) {
            Pmo__ProjectHealth *ph = riskmon_health_read (msgs[i]);
            if (ph && ph->inputs && !pmo_str_empty (ph->inputs->project_id))
                zhashx_update (self->portfolio, ph->inputs->project_id, s_cached_new (ph, read[i]));
        }
    }
    pmo_arena_destroy (&batch);
    for (size_t i = 0; i < n; i++) {
        const s_cached_t *c = versions[i] ? zhashx_lookup (self->portfolio, ids[i]) : NULL;
        if (!c || !s_match (req, q, unit, c))
            continue;
        s_add (req->arena, page, c);
        if (*n_entries == *cap) {
            *cap = *cap ? *cap * 2 : 1024;
            *entries = realloc (*entries, *cap * sizeof (s_entry_t));
            assert (*entries);
        }
        (*entries)[(*n_entries)++] = (s_entry_t){.row = &c->row};
    }
    return 0;
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
    pmo_arena_t *scratch = pmo_arena_new ();
    s_entry_t *entries = NULL;
    size_t n_entries = 0, cap = 0;
    //  The divisions in scope, their versions read in one round trip
    char **divisions = pmo_arena_alloc (scratch, (self->n_streams + 1) * sizeof (char *));
    size_t n_divisions = 0;
    for (size_t s = 0; s < self->n_streams; s++)
        if (!unit || streq (unit->id, hub) || streq (unit->division, self->divisions[s]))
            divisions[n_divisions++] = (char *)self->divisions[s];
    riskmon_versions_t *versions =
        pmo_arena_alloc (scratch, (n_divisions + 1) * sizeof (riskmon_versions_t));
    int rc = riskmon_store_project_versions_many (self->store, scratch, divisions, n_divisions,
                                                  versions);
    for (size_t d = 0; d < n_divisions && rc == 0; d++)
        rc = s_scan (self, req, q, unit ? unit->id : NULL, divisions[d], &versions[d], scratch,
                     &entries, &n_entries, &cap, page);
    pmo_arena_destroy (&scratch);
    if (rc) {
        free (entries);
        return pmo_request_unavailable (req, STORE_NAME);
    }
    for (size_t i = 0; i < n_entries; i++)
        entries[i].sort = &sort;
    if (n_entries > 1)
        qsort (entries, n_entries, sizeof *entries, s_compare);
    //  The page's rows are copied into the request's arena: the cache's
    //  may change before the reply is sent
    size_t first = offset < n_entries ? offset : n_entries;
    size_t count = n_entries - first < limit ? n_entries - first : limit;
    page->offset = (uint32_t)first;
    for (size_t i = 0; i < count; i++) {
        Pmo__PortfolioRow *row = pmo_arena_alloc (req->arena, sizeof (Pmo__PortfolioRow));
        *row = *entries[first + i].row;
        char **strings[N_ROW_STRINGS] = ROW_STRINGS (row);
        for (size_t k = 0; k < N_ROW_STRINGS; k++)
            *strings[k] = pmo_arena_strdup (req->arena, *strings[k]);
        pmo_reflect_append (&page->base, "rows", &row->base, req->arena);
    }
    if (first + count < n_entries)
        page->next_cursor = pmo_arena_printf (req->arena, "%zu", first + count);
    free (entries);
    for (size_t i = 0; i < page->n_money; i++) {
        Pmo__PortfolioMoney *money = page->money[i];
        money->has_spi = riskmon_ev_index (money->ev_minor, money->pv_minor, &money->spi);
        money->has_cpi = riskmon_ev_index (money->ev_with_ac_minor, money->ac_minor, &money->cpi);
    }
    if (s_fired (self, req, page))
        return pmo_request_unavailable (req, STORE_NAME);
    pmo_reflect_set_oneof (req->reply, "portfolio", &page->base);
}
