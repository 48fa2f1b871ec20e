/*  notifier_notice.c: events of any service become notices people can
    read: a severity, the project concerned, a title, a summary and facts,
    from the event's type and the snapshot it carries. Pure, like the rest
    of the model (notifier_model.h).
*/
#include "notifier_model.h"
#include "pmo_json.h"
#include "pmo_reflect.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ELLIPSIS "\xe2\x80\xa6"

//  ---------------------------------------------------------------------
//  Events become notices

const char *notifier_severity_name (Pmo__Severity severity)
{
    switch (severity) {
    case PMO__SEVERITY__SEVERITY_LOW:
        return "low";
    case PMO__SEVERITY__SEVERITY_MEDIUM:
        return "medium";
    case PMO__SEVERITY__SEVERITY_HIGH:
        return "high";
    case PMO__SEVERITY__SEVERITY_CRITICAL:
        return "critical";
    default:
        return "info";
    }
}

//  The snapshot the event carries (its oneof member), NULL if none.
static const ProtobufCMessage *s_body (const Pmo__Event *event)
{
    const ProtobufCMessageDescriptor *desc = event->base.descriptor;
    for (unsigned i = 0; i < desc->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &desc->fields[i];
        if (!(f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) || f->type != PROTOBUF_C_TYPE_MESSAGE)
            continue;
        uint32_t which = *(const uint32_t *)((const char *)event + f->quantifier_offset);
        if (which == f->id)
            return *(ProtobufCMessage *const *)((const char *)event + f->offset);
    }
    return NULL;
}

//  The label of an enum field called name in msg ("red"), NULL if none.
static const char *s_enum_field (const ProtobufCMessage *msg, const char *name, char *buf,
                                 size_t size)
{
    if (!msg)
        return NULL;
    const ProtobufCFieldDescriptor *f =
        protobuf_c_message_descriptor_get_field_by_name (msg->descriptor, name);
    if (!f || f->type != PROTOBUF_C_TYPE_ENUM || f->label == PROTOBUF_C_LABEL_REPEATED)
        return NULL;
    int value = *(const int *)((const char *)msg + f->offset);
    if (value == 0)
        return NULL;
    return pmo_json_enum_label (f->descriptor, value, buf, size);
}

//  The words of severity-like enum labels, in the order they are tried
//  (the first found in the label wins: "critical" before "high").
static Pmo__Severity s_severity_label (const char *label)
{
    if (!label)
        return 0;
    static const struct {
        const char *word;
        Pmo__Severity severity;
    } words[] = {
        {"critical", PMO__SEVERITY__SEVERITY_CRITICAL}, {"high", PMO__SEVERITY__SEVERITY_HIGH},
        {"warning", PMO__SEVERITY__SEVERITY_MEDIUM},    {"medium", PMO__SEVERITY__SEVERITY_MEDIUM},
        {"low", PMO__SEVERITY__SEVERITY_LOW},           {"info", PMO__SEVERITY__SEVERITY_INFO},
        {"minimal", PMO__SEVERITY__SEVERITY_INFO},      {"red", PMO__SEVERITY__SEVERITY_HIGH},
        {"amber", PMO__SEVERITY__SEVERITY_MEDIUM},      {"green", PMO__SEVERITY__SEVERITY_LOW},
    };
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (strstr (label, words[i].word))
            return words[i].severity;
    return 0;
}

//  Days between two ISO dates (b - a); 0 if either is not a date.
static long s_days_between (const char *a, const char *b)
{
    if (!pmo_date_valid (a) || !pmo_date_valid (b))
        return 0;
    struct tm ta = {0}, tb = {0};
    sscanf (a, "%d-%d-%d", &ta.tm_year, &ta.tm_mon, &ta.tm_mday);
    sscanf (b, "%d-%d-%d", &tb.tm_year, &tb.tm_mon, &tb.tm_mday);
    ta.tm_year -= 1900, tb.tm_year -= 1900;
    ta.tm_mon--, tb.tm_mon--;
    return (long)((timegm (&tb) - timegm (&ta)) / 86400);
}

static bool s_ends_with (const char *s, const char *suffix)
{
    size_t n = strlen (s), m = strlen (suffix);
    return n >= m && strcmp (s + n - m, suffix) == 0;
}

//  The severity table (README "Severity"): the first row that applies wins.
Pmo__Severity notifier_severity (const Pmo__Event *event)
{
    char buf[64];
    const ProtobufCMessage *body = s_body (event);
    const char *type = event->type ? event->type : "";
    //  1. Something ended (an alert resolved, a risk closed, a resource no
    //     longer over-allocated): good news is low, whatever it was about
    static const char *const endings[] = {".resolved", ".cleared", ".closed", ".archived"};
    for (size_t i = 0; i < sizeof endings / sizeof endings[0]; i++)
        if (s_ends_with (type, endings[i]))
            return PMO__SEVERITY__SEVERITY_LOW;
    //  2. Said outright by the service that knows: a "severity" enum on the
    //     event or its snapshot (alerts: critical, warning = medium, info;
    //     issues: critical .. low)
    Pmo__Severity s = s_severity_label (s_enum_field (&event->base, "severity", buf, sizeof buf));
    if (!s)
        s = s_severity_label (s_enum_field (body, "severity", buf, sizeof buf));
    if (s)
        return s;
    //  3. A risk's score band on the 5x5 grid, residual first (20-25
    //     critical, 12-19 high, 6-11 medium, 2-5 low, 1 minimal = info)
    static const char *const bands[] = {"residual_band", "inherent_band", "band"};
    for (size_t i = 0; i < sizeof bands / sizeof bands[0]; i++) {
        s = s_severity_label (s_enum_field (body, bands[i], buf, sizeof buf));
        if (s)
            return s;
    }
    //  4. A gate decision: stop high, hold or recycle medium, go low
    if (event->gate && strcmp (type, "project.gate_decided") == 0) {
        switch (event->gate->outcome) {
        case PMO__GATE_OUTCOME__GATE_OUTCOME_STOP:
            return PMO__SEVERITY__SEVERITY_HIGH;
        case PMO__GATE_OUTCOME__GATE_OUTCOME_HOLD:
        case PMO__GATE_OUTCOME__GATE_OUTCOME_RECYCLE:
            return PMO__SEVERITY__SEVERITY_MEDIUM;
        default:
            return PMO__SEVERITY__SEVERITY_LOW;
        }
    }
    //     A gate request: a decision waits on the gate's approvers (medium);
    //     its withdrawal is low
    if (strcmp (type, "project.gate_requested") == 0)
        return PMO__SEVERITY__SEVERITY_MEDIUM;
    if (strcmp (type, "project.gate_withdrawn") == 0)
        return PMO__SEVERITY__SEVERITY_LOW;
    //  5. A milestone slipped (forecast after baseline, not achieved): medium
    if (event->body_case == PMO__EVENT__BODY_MILESTONE) {
        const Pmo__Milestone *m = event->milestone;
        if (pmo_str_empty (m->actual_date) &&
            s_days_between (m->baseline_date, m->forecast_date) > 0)
            return PMO__SEVERITY__SEVERITY_MEDIUM;
        return PMO__SEVERITY__SEVERITY_LOW;
    }
    //  6. A project put on hold or cancelled: medium
    if (event->body_case == PMO__EVENT__BODY_PROJECT &&
        (event->project->status == PMO__PROJECT_STATUS__PROJECT_STATUS_CANCELLED ||
         event->project->status == PMO__PROJECT_STATUS__PROJECT_STATUS_ON_HOLD) &&
        strcmp (type, "project.updated") == 0)
        return PMO__SEVERITY__SEVERITY_MEDIUM;
    //  7. A health colour (assessments, status reports): red high, amber
    //     medium, green low
    static const char *const rag_fields[] = {"overall", "rag", "health", "status_rag"};
    for (size_t i = 0; i < sizeof rag_fields / sizeof rag_fields[0]; i++) {
        s = s_severity_label (s_enum_field (body, rag_fields[i], buf, sizeof buf));
        if (s)
            return s;
    }
    //  8. An escalation level or other "level" enum said outright
    s = s_severity_label (s_enum_field (body, "level", buf, sizeof buf));
    if (s)
        return s;
    //  9. The words of the type
    if (strstr (type, "critical"))
        return PMO__SEVERITY__SEVERITY_CRITICAL;
    if (strstr (type, "escalat") || strstr (type, "alert") || strstr (type, "breach"))
        return PMO__SEVERITY__SEVERITY_HIGH;
    if (strstr (type, "overallocated") || strstr (type, "conflict") || strstr (type, "overdue") ||
        strstr (type, "rejected"))
        return PMO__SEVERITY__SEVERITY_MEDIUM;
    if (strstr (type, "resolved") || strstr (type, "created") || strstr (type, "phase_changed"))
        return PMO__SEVERITY__SEVERITY_LOW;
    return PMO__SEVERITY__SEVERITY_INFO;
}

const char *notifier_event_project (const Pmo__Event *event)
{
    const ProtobufCMessage *body = s_body (event);
    if (event->body_case == PMO__EVENT__BODY_PROJECT && event->project->id)
        return event->project->id;
    //  An over-allocation names the projects booked in its weeks: the
    //  first is the one its notice is about (links to, bursts with)
    if (event->body_case == PMO__EVENT__BODY_OVER_ALLOCATION &&
        event->over_allocation->n_project_ids &&
        !pmo_str_empty (event->over_allocation->project_ids[0]))
        return event->over_allocation->project_ids[0];
    if (body && pmo_reflect_has (body->descriptor, "project_id")) {
        const char *id = pmo_reflect_str (body, "project_id");
        if (!pmo_str_empty (id))
            return id;
    }
    if (event->type && strncmp (event->type, "project.", 8) == 0 &&
        !pmo_str_empty (event->entity_id))
        return event->entity_id;
    return "";
}

const char *notifier_project_label (const Pmo__Event *event, pmo_arena_t *arena)
{
    if (event->body_case != PMO__EVENT__BODY_PROJECT || !event->project)
        return NULL;
    const Pmo__Project *p = event->project;
    if (pmo_str_empty (p->code))
        return pmo_str_empty (p->name) ? NULL : p->name;
    if (pmo_str_empty (p->name) || strcmp (p->name, p->code) == 0)
        return p->code;
    return pmo_arena_printf (arena, "%s %s", p->code, p->name);
}

char *notifier_truncate (const char *s, size_t max, pmo_arena_t *arena)
{
    if (!s)
        return "";
    size_t len = strlen (s);
    if (len <= max)
        return pmo_arena_strdup (arena, s);
    if (max < 4)
        return "";
    size_t cut = max - 3;
    //  back up to the start of a UTF-8 character
    while (cut > 0 && ((unsigned char)s[cut] & 0xC0) == 0x80)
        cut--;
    return pmo_arena_printf (arena, "%.*s" ELLIPSIS, (int)cut, s);
}

char *notifier_rfc3339 (int64_t ms, pmo_arena_t *arena)
{
    time_t seconds = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r (&seconds, &tm);
    return pmo_arena_printf (arena, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                             (int)(ms % 1000));
}

typedef struct {
    Pmo__Fact **facts;
    size_t n, max;
    pmo_arena_t *arena;
} facts_t;

static void s_fact (facts_t *facts, const char *title, const char *value)
{
    if (pmo_str_empty (value) || facts->n >= facts->max)
        return;
    Pmo__Fact *fact = pmo_arena_alloc (facts->arena, sizeof (Pmo__Fact));
    pmo__fact__init (fact);
    fact->title = (char *)title;
    fact->value = notifier_truncate (value, 300, facts->arena);
    facts->facts[facts->n++] = fact;
}

static const char *s_label (const ProtobufCEnumDescriptor *desc, int value, pmo_arena_t *arena)
{
    char buf[64];
    const char *label = pmo_json_enum_label (desc, value, buf, sizeof buf);
    if (!label)
        return "";
    char *copy = pmo_arena_strdup (arena, label);
    for (char *p = copy; *p; p++)
        if (*p == '_')
            *p = ' ';
    return copy;
}

static const char *s_upper (const char *s, pmo_arena_t *arena)
{
    char *copy = pmo_arena_strdup (arena, s);
    for (char *p = copy; *p; p++)
        *p = (char)toupper ((unsigned char)*p);
    return copy;
}

static const char *s_money (const Pmo__Money *money, pmo_arena_t *arena)
{
    if (!money || (!money->minor && pmo_str_empty (money->currency)))
        return "";
    long long minor = (long long)money->minor;
    const char *sign = minor < 0 ? "-" : "";
    if (minor < 0)
        minor = -minor;
    //  thousands separators for the major part
    char major[32], grouped[48];
    snprintf (major, sizeof major, "%lld", minor / 100);
    size_t len = strlen (major), g = 0;
    for (size_t i = 0; i < len; i++) {
        if (i && (len - i) % 3 == 0)
            grouped[g++] = ',';
        grouped[g++] = major[i];
    }
    grouped[g] = 0;
    return pmo_arena_printf (arena, "%s %s%s.%02lld", money->currency ? money->currency : "", sign,
                             grouped, minor % 100);
}

//  "project.phase_changed" -> "Project phase changed"
static const char *s_humanise (const char *type, pmo_arena_t *arena)
{
    char *copy = pmo_arena_strdup (arena, type && *type ? type : "event");
    for (char *p = copy; *p; p++)
        if (*p == '.' || *p == '_')
            *p = ' ';
    copy[0] = (char)toupper ((unsigned char)copy[0]);
    return copy;
}

//  Facts from any snapshot: its plain fields with a value, skipping the
//  bookkeeping ones, so events of services we do not know read well too.
static void s_generic_facts (facts_t *facts, const ProtobufCMessage *body, pmo_arena_t *arena)
{
    if (!body)
        return;
    static const char *const skip[] = {"id", "version", "created_ms", "updated_ms", "archived",
                                       "division", "org_unit", "org_unit_path", "project_id",
                                       "created_by", "path",
                                       //  every format shows the notice's own severity
                                       "severity"};
    const ProtobufCMessageDescriptor *desc = body->descriptor;
    for (unsigned i = 0; i < desc->n_fields && facts->n < facts->max; i++) {
        const ProtobufCFieldDescriptor *f = &desc->fields[i];
        bool skipped = false;
        for (size_t s = 0; s < sizeof skip / sizeof skip[0]; s++)
            skipped = skipped || strcmp (f->name, skip[s]) == 0;
        if (skipped)
            continue;
        const char *at = (const char *)body + f->offset;
        const char *value = NULL;
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            if (f->type != PROTOBUF_C_TYPE_STRING)
                continue;
            size_t n = *(const size_t *)((const char *)body + f->quantifier_offset);
            char *const *items = *(char *const *const *)at;
            if (!n)
                continue;
            char *joined = "";
            for (size_t k = 0; k < n && k < 10; k++)
                joined = pmo_arena_printf (arena, "%s%s%s", joined, k ? ", " : "", items[k]);
            if (n > 10)
                joined = pmo_arena_printf (arena, "%s and %zu more", joined, n - 10);
            value = joined;
        } else if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
            continue;
        else
            switch (f->type) {
            case PROTOBUF_C_TYPE_STRING:
                value = *(char *const *)at;
                break;
            case PROTOBUF_C_TYPE_ENUM:
                if (*(const int *)at)
                    value = s_label (f->descriptor, *(const int *)at, arena);
                break;
            case PROTOBUF_C_TYPE_UINT32:
            case PROTOBUF_C_TYPE_INT32:
                if (*(const int32_t *)at)
                    value = pmo_arena_printf (arena, "%d", *(const int32_t *)at);
                break;
            case PROTOBUF_C_TYPE_INT64:
            case PROTOBUF_C_TYPE_UINT64:
                if (*(const int64_t *)at && !strstr (f->name, "_ms"))
                    value = pmo_arena_printf (arena, "%lld", (long long)*(const int64_t *)at);
                break;
            case PROTOBUF_C_TYPE_BOOL:
                if (*(const protobuf_c_boolean *)at)
                    value = "yes";
                break;
            case PROTOBUF_C_TYPE_MESSAGE:
                if (*(ProtobufCMessage *const *)at &&
                    (*(ProtobufCMessage *const *)at)->descriptor == &pmo__money__descriptor)
                    value = s_money (*(Pmo__Money *const *)at, arena);
                break;
            default:
                break;
            }
        if (pmo_str_empty (value))
            continue;
        const char *title = s_humanise (f->name, arena);
        s_fact (facts, title, value);
    }
}

static const char *s_ratio (int64_t num, int64_t den, pmo_arena_t *arena)
{
    if (den <= 0)
        return "n/a";
    return pmo_arena_printf (arena, "%.2f", (double)num / (double)den);
}

//  What a notice says: title, summary (NULL: a default one) and facts.
typedef struct {
    const char *title;
    const char *summary;
    facts_t *facts;
} words_t;

static void s_project_words (const Pmo__Event *event, const Pmo__Notice *n, const char *what,
                             words_t *w, pmo_arena_t *arena)
{
    const char *type = n->type;
    const Pmo__Project *p = event->project;
    const char *phase = s_label (&pmo__phase__descriptor, p->phase, arena);
    const char *status = s_label (&pmo__project_status__descriptor, p->status, arena);
    if (strcmp (type, "project.created") == 0) {
        w->title = pmo_arena_printf (arena, "New project: %s", what);
        w->summary =
            pmo_arena_printf (arena, "%s registered %s in %s.", n->actor, what, n->org_unit_path);
    } else if (strcmp (type, "project.phase_changed") == 0) {
        w->title = pmo_arena_printf (arena, "%s moved to %s", what, phase);
        w->summary = pmo_arena_printf (arena, "%s is now in the %s phase.", what, phase);
    } else if (strcmp (type, "project.gate_decided") == 0 && event->gate) {
        const char *outcome = s_label (&pmo__gate_outcome__descriptor, event->gate->outcome, arena);
        const char *to = s_label (&pmo__phase__descriptor, event->gate->to_phase, arena);
        w->title =
            pmo_arena_printf (arena, "Gate into %s for %s: %s", to, what, s_upper (outcome, arena));
        w->summary = pmo_arena_printf (
            arena, "%s decided %s at the gate into %s%s%s", event->gate->decided_by, outcome, to,
            pmo_str_empty (event->gate->rationale) ? "." : ": ",
            pmo_str_empty (event->gate->rationale)
                ? ""
                : notifier_truncate (event->gate->rationale, 400, arena));
        s_fact (w->facts, "Conditions", event->gate->conditions);
    } else if (strcmp (type, "project.gate_requested") == 0 && event->gate_request) {
        const Pmo__GateRequest *r = event->gate_request;
        const char *to = s_label (&pmo__phase__descriptor, r->to_phase, arena);
        w->title = pmo_arena_printf (arena, "Gate into %s requested for %s", to, what);
        w->summary = pmo_arena_printf (
            arena, "%s asks for a decision at the gate into %s%s%s", r->requested_by, to,
            pmo_str_empty (r->note) ? "." : ": ",
            pmo_str_empty (r->note) ? "" : notifier_truncate (r->note, 400, arena));
        const char *roles = "";
        for (size_t i = 0; i < r->n_approver_roles; i++)
            roles =
                pmo_arena_printf (arena, "%s%s%s", roles, i ? ", " : "",
                                  s_label (&pmo__role__descriptor, r->approver_roles[i], arena));
        s_fact (w->facts, "Decided by", roles);
        const char *missing = "";
        for (size_t i = 0; i < r->n_artifacts_missing; i++)
            missing =
                pmo_arena_printf (arena, "%s%s%s", missing, i ? ", " : "", r->artifacts_missing[i]);
        s_fact (w->facts, "Artifacts missing", missing);
    } else if (strcmp (type, "project.gate_withdrawn") == 0 && event->gate_request) {
        w->title = pmo_arena_printf (arena, "Gate request withdrawn for %s", what);
        w->summary = pmo_arena_printf (
            arena, "%s withdrew the request for the gate into %s.", n->actor,
            s_label (&pmo__phase__descriptor, event->gate_request->to_phase, arena));
    } else if (strcmp (type, "project.archived") == 0) {
        w->title = pmo_arena_printf (arena, "%s archived", what);
    } else {
        w->title = pmo_arena_printf (arena, "%s updated", what);
        w->summary =
            pmo_arena_printf (arena, "%s changed %s (now %s, %s).", n->actor, what, status, phase);
    }
    s_fact (w->facts, "Phase", phase);
    s_fact (w->facts, "Status", status);
    s_fact (w->facts, "Manager", p->manager);
    s_fact (w->facts, "Sponsor", p->sponsor);
    if (!pmo_str_empty (p->forecast_finish) && !pmo_str_empty (p->baseline_finish) &&
        strcmp (p->forecast_finish, p->baseline_finish) != 0) {
        long slip = s_days_between (p->baseline_finish, p->forecast_finish);
        s_fact (w->facts, "Forecast finish",
                pmo_arena_printf (arena, "%s (%s%ld days against baseline %s)", p->forecast_finish,
                                  slip > 0 ? "+" : "", slip, p->baseline_finish));
    } else
        s_fact (w->facts, "Baseline finish", p->baseline_finish);
    if (p->budget)
        s_fact (w->facts, "Budget", s_money (p->budget->baseline, arena));
}

static void s_report_words (const Pmo__Event *event, const char *what, words_t *w,
                            pmo_arena_t *arena)
{
    const Pmo__StatusReport *r = event->status_report;
    const char *overall = s_upper (s_label (&pmo__rag__descriptor, r->overall, arena), arena);
    w->title = pmo_arena_printf (arena, "%s status %s", what, *overall ? overall : "reported");
    w->summary = pmo_str_empty (r->narrative) ? NULL : notifier_truncate (r->narrative, 600, arena);
    s_fact (w->facts, "Period end", r->period_end);
    s_fact (w->facts, "Complete", pmo_arena_printf (arena, "%u%%", r->percent_complete));
    s_fact (w->facts, "Schedule", s_label (&pmo__rag__descriptor, r->schedule, arena));
    s_fact (w->facts, "Cost", s_label (&pmo__rag__descriptor, r->cost, arena));
    s_fact (w->facts, "Scope", s_label (&pmo__rag__descriptor, r->scope, arena));
    s_fact (w->facts, "Resources", s_label (&pmo__rag__descriptor, r->resources, arena));
    if (r->pv_minor || r->ev_minor) {
        s_fact (w->facts, "SPI", s_ratio (r->ev_minor, r->pv_minor, arena));
        //  no actual cost reported: CPI is not available, not "on budget"
        s_fact (w->facts, "CPI", r->has_ac ? s_ratio (r->ev_minor, r->ac_minor, arena) : "n/a");
    }
}

static void s_milestone_words (const Pmo__Event *event, const char *what, words_t *w,
                               pmo_arena_t *arena)
{
    const char *type = event->type ? event->type : "";
    const Pmo__Milestone *m = event->milestone;
    long slip = s_days_between (m->baseline_date, m->forecast_date);
    if (!pmo_str_empty (m->actual_date))
        w->title = pmo_arena_printf (arena, "Milestone achieved: %s (%s)", m->name, what);
    else if (slip > 0)
        w->title =
            pmo_arena_printf (arena, "Milestone %s (%s) slipped %ld days", m->name, what, slip);
    else
        w->title = pmo_arena_printf (arena, "Milestone %s (%s) %s", m->name, what,
                                     strstr (type, "created") ? "added" : "updated");
    s_fact (w->facts, "Baseline", m->baseline_date);
    s_fact (w->facts, "Forecast", m->forecast_date);
    s_fact (w->facts, "Actual", m->actual_date);
}

static void s_org_unit_words (const Pmo__Event *event, words_t *w, pmo_arena_t *arena)
{
    const char *type = event->type ? event->type : "";
    const Pmo__OrgUnit *u = event->org_unit_snapshot;
    const char *verb = strrchr (type, '.');
    w->title = pmo_arena_printf (arena, "Org unit %s (%s) %s", u->name, u->id,
                                 verb ? verb + 1 : "changed");
    s_fact (w->facts, "Kind", s_label (&pmo__org_unit_kind__descriptor, u->kind, arena));
    s_fact (w->facts, "PMO type", s_label (&pmo__pmo_type__descriptor, u->pmo_type, arena));
}

//  Anything else (other services, future events): a readable sentence from
//  the type and the snapshot's own fields.
static void s_other_words (const Pmo__Event *event, const Pmo__Notice *n, const char *what,
                           words_t *w, pmo_arena_t *arena)
{
    const char *type = event->type ? event->type : "";
    const ProtobufCMessage *body = s_body (event);
    const char *subject = "";
    static const char *const names[] = {"name", "title", "resource_name"};
    for (size_t i = 0; body && i < 3 && pmo_str_empty (subject); i++)
        subject = pmo_reflect_str (body, names[i]);
    w->title = pmo_arena_printf (arena, "%s: %s", s_humanise (type, arena),
                                 !pmo_str_empty (subject) ? subject
                                 : *what                  ? what
                                                          : n->org_unit_path);
    s_generic_facts (w->facts, body, arena);
}

//  Where the dashboard shows what the event is about (its routes are in
//  services/gateway/www/js/app.js): the project; for an over-allocation or a
//  resource, the capacity heatmap of its unit; for an alert without a
//  project, the alerts; else the portfolio of the event's unit.
static const char *s_link (const Pmo__Event *event, const Pmo__Notice *n, const char *dashboard,
                           pmo_arena_t *arena)
{
    const char *base = dashboard && *dashboard ? dashboard : "http://127.0.0.1:8080";
    size_t blen = strlen (base);
    const char *root =
        pmo_arena_printf (arena, "%s%s#/", base, blen && base[blen - 1] == '/' ? "" : "/");
    const char *unit = event->org_unit ? event->org_unit : "";
    if (*n->project_id)
        return pmo_arena_printf (arena, "%sproject/%s", root, n->project_id);
    if (event->body_case == PMO__EVENT__BODY_OVER_ALLOCATION) {
        const char *home = event->over_allocation->home_org_unit;
        return pmo_arena_printf (arena, "%scapacity?unit=%s", root,
                                 pmo_str_empty (home) ? unit : home);
    }
    if (event->body_case == PMO__EVENT__BODY_RESOURCE ||
        event->body_case == PMO__EVENT__BODY_ALLOCATION)
        return pmo_arena_printf (arena, "%scapacity?unit=%s", root, unit);
    if (event->body_case == PMO__EVENT__BODY_ALERT)
        return pmo_arena_printf (arena, "%salerts", root);
    if (*unit)
        return pmo_arena_printf (arena, "%sportfolio?unit=%s", root, unit);
    return root;
}

//  What a person can do about the event, and the dashboard page where the
//  button for it is (Teams and Google Chat cannot call back into pmo: their
//  messages link to the dashboard's action): acknowledge a standing alert
//  (the alerts view, filtered to the project's open alerts), approve or
//  reject a requested or proposed allocation (the project's allocations),
//  approve or reject a change request still pending (the project's page).
static void s_action (const Pmo__Event *event, Pmo__Notice *n, const char *dashboard,
                      pmo_arena_t *arena)
{
    const char *type = n->type;
    const char *base = dashboard && *dashboard ? dashboard : "http://127.0.0.1:8080";
    size_t blen = strlen (base);
    const char *root =
        pmo_arena_printf (arena, "%s%s#/", base, blen && base[blen - 1] == '/' ? "" : "/");
    n->action = "";
    n->action_link = "";
    n->buttons = "";
    if (event->body_case == PMO__EVENT__BODY_ALERT &&
        (strcmp (type, "alert.raised") == 0 || strcmp (type, "alert.escalated") == 0 ||
         strcmp (type, "alert.updated") == 0) &&
        event->alert->state == PMO__ALERT_STATE__ALERT_STATE_OPEN) {
        n->action = "Acknowledge in PMO";
        n->buttons = "alert";
        n->action_link =
            *n->project_id
                ? pmo_arena_printf (arena, "%salerts?project=%s&state=open", root, n->project_id)
                : pmo_arena_printf (arena, "%salerts?unit=%s&state=open", root,
                                    event->org_unit ? event->org_unit : "");
    } else if ((strcmp (type, "allocation.requested") == 0 ||
                strcmp (type, "allocation.proposed") == 0) &&
               *n->project_id) {
        n->action = "Approve or reject in PMO";
        n->buttons = "allocation";
        n->action_link = pmo_arena_printf (arena, "%sproject/%s", root, n->project_id);
    } else if (strcmp (type, "project.gate_requested") == 0 && event->gate_request &&
               *n->project_id) {
        //  A gate is decided on the dashboard (outcome, conditions, waivers
        //  and a rationale do not fit a button): the link is the action
        n->action = "Open the gate decision";
        n->buttons = "link";
        n->action_link = pmo_arena_printf (
            arena, "%sproject/%s?gate=%s", root, n->project_id,
            s_label (&pmo__phase__descriptor, event->gate_request->to_phase, arena));
    } else if (event->body_case == PMO__EVENT__BODY_CHANGE_REQUEST &&
               (strcmp (type, "change_request.created") == 0 ||
                strcmp (type, "change_request.updated") == 0) &&
               event->change_request->decision == PMO__CHANGE_DECISION__CHANGE_DECISION_PENDING &&
               !event->change_request->closed && *n->project_id) {
        n->action = "Approve or reject in PMO";
        n->buttons = "change";
        n->action_link = pmo_arena_printf (arena, "%sproject/%s", root, n->project_id);
    }
}

Pmo__Notice *notifier_notice (const Pmo__Event *event, const char *dashboard,
                              const char *project_label, pmo_arena_t *arena)
{
    Pmo__Notice *n = pmo_arena_alloc (arena, sizeof (Pmo__Notice));
    pmo__notice__init (n);
    const char *type = event->type ? event->type : "";
    n->event_id = pmo_arena_printf (arena, "%s/%s", event->division ? event->division : "",
                                    event->id ? event->id : "");
    n->type = (char *)type;
    n->severity = notifier_severity (event);
    n->division = event->division ? event->division : "";
    n->org_unit_path = event->org_unit_path ? event->org_unit_path : "";
    n->entity_id = event->entity_id ? event->entity_id : "";
    n->project_id = (char *)notifier_event_project (event);
    const char *own_label = notifier_project_label (event, arena);
    const char *label = own_label ? own_label : project_label;
    n->project_label = (char *)(label ? label : n->project_id);
    n->actor = event->actor ? event->actor : "";
    n->time_ms = event->time_ms;
    n->source = event->source ? event->source : "";
    n->link = (char *)s_link (event, n, dashboard, arena);
    s_action (event, n, dashboard, arena);

    facts_t facts = {pmo_arena_alloc (arena, 12 * sizeof (Pmo__Fact *)), 0, 12, arena};
    const char *what = *n->project_id ? n->project_label : n->entity_id;
    words_t w = {NULL, NULL, &facts};
    if (event->body_case == PMO__EVENT__BODY_PROJECT)
        s_project_words (event, n, what, &w, arena);
    else if (event->body_case == PMO__EVENT__BODY_STATUS_REPORT)
        s_report_words (event, what, &w, arena);
    else if (event->body_case == PMO__EVENT__BODY_MILESTONE)
        s_milestone_words (event, what, &w, arena);
    else if (event->body_case == PMO__EVENT__BODY_ORG_UNIT_SNAPSHOT)
        s_org_unit_words (event, &w, arena);
    else
        s_other_words (event, n, what, &w, arena);
    if (!w.summary)
        w.summary = pmo_arena_printf (arena, "%s in %s, by %s.", s_humanise (type, arena),
                                      *n->org_unit_path ? n->org_unit_path : n->division,
                                      *n->actor ? n->actor : "the system");
    n->title = notifier_truncate (w.title, 150, arena);
    n->summary = notifier_truncate (w.summary, 700, arena);
    n->facts = facts.facts;
    n->n_facts = facts.n;
    return n;
}
