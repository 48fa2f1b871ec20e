/*  gateway_model.c: the gateway's rules, without I/O. */
#include "gateway_model.h"

#include "pmo_access.h"
#include "pmo_reflect.h"
#include "pmo_util.h"
#include "pmo_wire.h"

#include <errno.h>
#include <nettle/sha2.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

//  The gateway's actions, as bits of its role table.
enum {
    GATEWAY_SEE = 1,       //  see live events in the grant's subtree
    GATEWAY_ISSUE = 2,     //  issue tokens with the roles below PMO director there
    GATEWAY_ISSUE_ALL = 4, //  ... and with admin and PMO director too
    GATEWAY_METRICS = 8,   //  read /metrics
    GATEWAY_AUDIT = 16,    //  read the audit trail of the grant's subtree
};

//  Every role sees its subtree's events; admins issue any role in their
//  subtree, PMO directors and managers the roles below theirs. Those three
//  and auditors read the audit trail of their subtree.
static const pmo_role_table_t s_roles = {{
    [PMO__ROLE__ROLE_ADMIN] =
        GATEWAY_SEE | GATEWAY_ISSUE | GATEWAY_ISSUE_ALL | GATEWAY_METRICS | GATEWAY_AUDIT,
    [PMO__ROLE__ROLE_METRICS] = GATEWAY_METRICS,
    [PMO__ROLE__ROLE_AUDITOR] = GATEWAY_AUDIT,
    [PMO__ROLE__ROLE_PMO_DIRECTOR] = GATEWAY_SEE | GATEWAY_ISSUE | GATEWAY_AUDIT,
    [PMO__ROLE__ROLE_PMO_MANAGER] = GATEWAY_SEE | GATEWAY_ISSUE | GATEWAY_AUDIT,
    [PMO__ROLE__ROLE_PMO_ANALYST] = GATEWAY_SEE,
    [PMO__ROLE__ROLE_SPONSOR] = GATEWAY_SEE,
    [PMO__ROLE__ROLE_PROGRAMME_MANAGER] = GATEWAY_SEE,
    [PMO__ROLE__ROLE_PROJECT_MANAGER] = GATEWAY_SEE,
    [PMO__ROLE__ROLE_RESOURCE_MANAGER] = GATEWAY_SEE,
    [PMO__ROLE__ROLE_RISK_MANAGER] = GATEWAY_SEE,
    [PMO__ROLE__ROLE_TEAM_MEMBER] = GATEWAY_SEE,
    [PMO__ROLE__ROLE_VIEWER] = GATEWAY_SEE,
}};

static const char s_hex[] = "0123456789abcdef";

static void s_to_hex (const uint8_t *data, size_t size, char *out)
{
    for (size_t i = 0; i < size; i++) {
        out[2 * i] = s_hex[data[i] >> 4];
        out[2 * i + 1] = s_hex[data[i] & 15];
    }
    out[2 * size] = 0;
}

//  Fill buf from the kernel's CSPRNG; getrandom may return short reads.
static int s_random (uint8_t *buf, size_t size)
{
    size_t done = 0;
    while (done < size) {
        ssize_t got = getrandom (buf + done, size - done, 0);
        if (got < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        done += (size_t)got;
    }
    return 0;
}

int gateway_token_generate (char *id, char *token)
{
    uint8_t raw[8 + 32];
    if (s_random (raw, sizeof raw))
        return -1;
    char secret[65];
    s_to_hex (raw, 8, id);
    s_to_hex (raw + 8, 32, secret);
    snprintf (token, GATEWAY_TOKEN_LEN + 1, "pmo_%s_%s", id, secret);
    return 0;
}

//  Every character a lower-case hex digit (a range test: a strchr per
//  character of a token was 1.6k instructions of every request)
static bool s_lower_hex (const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return true;
}

bool gateway_token_id_valid (const char *id)
{
    return id && strlen (id) == GATEWAY_TOKEN_ID_LEN && s_lower_hex (id, GATEWAY_TOKEN_ID_LEN);
}

int gateway_token_parse (const char *token, char *id)
{
    if (!token || strlen (token) != GATEWAY_TOKEN_LEN || strncmp (token, "pmo_", 4) != 0 ||
        token[4 + GATEWAY_TOKEN_ID_LEN] != '_' || !s_lower_hex (token + 4, GATEWAY_TOKEN_ID_LEN) ||
        !s_lower_hex (token + 5 + GATEWAY_TOKEN_ID_LEN, 64))
        return -1;
    memcpy (id, token + 4, GATEWAY_TOKEN_ID_LEN);
    id[GATEWAY_TOKEN_ID_LEN] = 0;
    return 0;
}

void gateway_sha256_hex (const char *text, size_t size, char *hex)
{
    struct sha256_ctx ctx;
    uint8_t digest[SHA256_DIGEST_SIZE];
    sha256_init (&ctx);
    sha256_update (&ctx, size, (const uint8_t *)text);
    sha256_digest (&ctx, sizeof digest, digest);
    s_to_hex (digest, sizeof digest, hex);
}

bool gateway_hash_equal (const char *a, const char *b)
{
    //  Both are 64 hex characters when well formed; look at every byte so
    //  the time taken does not tell how much of a guess was right.
    if (!a || !b || strlen (a) != 64 || strlen (b) != 64)
        return false;
    unsigned diff = 0;
    for (size_t i = 0; i < 64; i++)
        diff |= (unsigned)(a[i] ^ b[i]);
    return diff == 0;
}

int gateway_if_match_parse (const char *value, uint64_t *version)
{
    *version = 0;
    if (strncmp (value, "W/", 2) == 0)
        return -2;
    size_t len = strlen (value);
    if (len < 3 || value[0] != '"' || value[len - 1] != '"')
        return -1;
    uint64_t parsed = 0;
    for (size_t i = 1; i < len - 1; i++) {
        if (value[i] < '0' || value[i] > '9')
            return -1;
        unsigned digit = (unsigned)(value[i] - '0');
        if (parsed > (UINT64_MAX - digit) / 10)
            return -1;
        parsed = parsed * 10 + digit;
    }
    if (parsed == 0)
        return -1;
    *version = parsed;
    return 0;
}

bool gateway_may_grant (const Pmo__Identity *who, const Pmo__Grant *grant, gateway_path_fn *path_of,
                        void *ctx, pmo_problem_t *problem)
{
    pmo_problem_t ignored;
    problem = problem ? problem : &ignored;
    const char *path = path_of (ctx, grant->org_unit);
    if (!path) {
        pmo_problem (problem, PMO__ERROR_CODE__ERROR_NOT_FOUND, "", "no org unit '%.64s'",
                     grant->org_unit);
        return false;
    }
    bool high = grant->role == PMO__ROLE__ROLE_ADMIN || grant->role == PMO__ROLE__ROLE_PMO_DIRECTOR;
    if (pmo_access_allowed (who, &s_roles, high ? GATEWAY_ISSUE_ALL : GATEWAY_ISSUE, path))
        return true;
    pmo_problem (problem, PMO__ERROR_CODE__ERROR_FORBIDDEN, "",
                 "%.64s may not issue this role in '%.128s' (admins issue any role in their "
                 "subtree; PMO directors and managers the roles below theirs)",
                 who && who->subject ? who->subject : "", path);
    return false;
}

bool gateway_may_name (const Pmo__Identity *who, const char *subject, const char *hub,
                       gateway_path_fn *path_of, void *ctx, pmo_problem_t *problem)
{
    const char *me = who && who->subject ? who->subject : "";
    if (strcmp (me, subject) == 0)
        return true;
    const char *hub_path = path_of (ctx, hub);
    if (hub_path && pmo_access_allowed (who, &s_roles, GATEWAY_ISSUE_ALL, hub_path))
        return true;
    const char *at = strrchr (subject, '@');
    if (strncmp (subject, "svc-", 4) == 0 && at && at - subject > 4 && at - subject < 68) {
        char name[64];
        snprintf (name, sizeof name, "%.*s", (int)(at - subject - 4), subject + 4);
        const char *path = path_of (ctx, at + 1);
        if (pmo_slug_valid (name, 1, 63) && path &&
            pmo_access_allowed (who, &s_roles, GATEWAY_ISSUE, path))
            return true;
    }
    pmo_problem (problem, PMO__ERROR_CODE__ERROR_FORBIDDEN, "",
                 "a token you make speaks for you (%.64s) or for a service account "
                 "svc-<name>@<unit> in a unit where you issue tokens, not for '%.64s'",
                 me, subject);
    return false;
}

bool gateway_may_see_token (const Pmo__Identity *who, const Pmo__ApiToken *token,
                            gateway_path_fn *path_of, void *ctx)
{
    if (who && who->subject && token->created_by && strcmp (who->subject, token->created_by) == 0)
        return true;
    if (token->n_grants == 0)
        return false;
    for (size_t i = 0; i < token->n_grants; i++)
        if (!gateway_may_grant (who, token->grants[i], path_of, ctx, NULL))
            return false;
    return true;
}

bool gateway_may_use_mapping (const Pmo__Identity *who, const char *org_unit,
                              gateway_path_fn *path_of, void *ctx)
{
    if (!who || who->n_grants == 0)
        return false;
    if (!org_unit || !*org_unit)
        return true;
    const char *path = path_of (ctx, org_unit);
    if (!path)
        return false;
    //  path_of may reuse its answer's memory: keep this one
    char held[512];
    snprintf (held, sizeof held, "%s", path);
    for (size_t i = 0; i < who->n_grants; i++) {
        const char *unit = who->grants[i]->org_unit;
        if (pmo_path_contains (held, unit))
            return true; //  held in the mapping's unit or above it
        const char *below = unit && *unit ? path_of (ctx, unit) : NULL;
        if (below && pmo_path_contains (below, org_unit))
            return true; //  held below it
    }
    return false;
}

int gateway_check_create (const Pmo__CreateTokenRequest *create, pmo_problem_t *problem)
{
    const Pmo__ErrorCode invalid = PMO__ERROR_CODE__ERROR_INVALID;
    if (!create->name || !*create->name || strlen (create->name) > GATEWAY_TOKEN_NAME_MAX ||
        !pmo_text_valid (create->name))
        return pmo_problem (problem, invalid, "create_token.name", "%s",
                            "name is required: what the token is for, 1 to 80 characters");
    if (pmo_check_name (create->name, "create_token.name", 1, GATEWAY_TOKEN_NAME_MAX, problem))
        return -1;
    if (!create->subject || !*create->subject || strlen (create->subject) > 128 ||
        pmo_line_fault (create->subject))
        return pmo_problem (problem, invalid, "create_token.subject", "%s",
                            "subject is required: who acts with the token, e.g. jane@dft "
                            "(up to 128 characters)");
    if (create->n_grants == 0 || create->n_grants > 32)
        return pmo_problem (problem, invalid, "create_token.grants", "%s",
                            "a token carries 1 to 32 grants (role held in an org unit)");
    for (size_t i = 0; i < create->n_grants; i++) {
        const Pmo__Grant *grant = create->grants[i];
        char field[64];
        if (grant->role == PMO__ROLE__ROLE_UNSPECIFIED) {
            snprintf (field, sizeof field, "create_token.grants[%zu].role", i);
            return pmo_problem (problem, invalid, field, "role is required");
        }
        if (!pmo_slug_valid (grant->org_unit, 2, 32)) {
            snprintf (field, sizeof field, "create_token.grants[%zu].org_unit", i);
            return pmo_problem (problem, invalid, field, "org_unit must be an org unit id");
        }
    }
    if (create->expires_ms < 0)
        return pmo_problem (problem, invalid, "create_token.expires_ms", "%s",
                            "expires_ms is a Unix time in ms, or 0 for never");
    return 0;
}

bool gateway_may_read_metrics (const Pmo__Identity *who)
{
    for (size_t i = 0; who && i < who->n_grants; i++)
        if (pmo_role_actions (&s_roles, who->grants[i]->role) & GATEWAY_METRICS)
            return true;
    return false;
}

bool gateway_may_audit (const Pmo__Identity *who, const char *path)
{
    return who && pmo_access_allowed (who, &s_roles, GATEWAY_AUDIT, path);
}

bool gateway_grant_audits (const Pmo__Grant *grant)
{
    return grant && (pmo_role_actions (&s_roles, grant->role) & GATEWAY_AUDIT);
}

bool gateway_may_audit_within (const Pmo__Identity *who, const char *unit, gateway_path_fn *path_of,
                               void *ctx)
{
    for (size_t i = 0; who && i < who->n_grants; i++) {
        if (!gateway_grant_audits (who->grants[i]))
            continue;
        const char *path = path_of (ctx, who->grants[i]->org_unit);
        if (path && pmo_path_contains (path, unit))
            return true;
    }
    return false;
}

bool gateway_event_visible (const Pmo__Identity *who, const Pmo__Event *event)
{
    if (event->type && strncmp (event->type, "org_unit.", 9) == 0)
        return true;
    //  "" rather than NULL: a NULL path would mean anywhere
    if (pmo_access_allowed (who, &s_roles, GATEWAY_SEE,
                            event->org_unit_path ? event->org_unit_path : ""))
        return true;
    //  A booking (its path is its project's) on a person who stewards
    //  (README "Who sees what"), whichever project made it
    return event->body_case == PMO__EVENT__BODY_ALLOCATION && event->allocation &&
           pmo_access_steward (who, event->allocation->resource_org_unit_path);
}

bool gateway_event_redacted (const Pmo__Identity *who, const Pmo__Event *event)
{
    const Pmo__Resource *r = event->body_case == PMO__EVENT__BODY_RESOURCE ? event->resource : NULL;
    return r && !pmo_access_steward (who, r->home_org_unit_path);
}

void gateway_event_redact (const Pmo__Identity *who, Pmo__Event *event)
{
    Pmo__Resource *r = event->body_case == PMO__EVENT__BODY_RESOURCE ? event->resource : NULL;
    if (!gateway_event_redacted (who, event))
        return;
    //  As the allocator shows a resource: no cost rate, no reasons of leave
    //  (the event is the caller's own decoded copy)
    if (r->cost_rate) {
        protobuf_c_message_free_unpacked (&r->cost_rate->base, NULL);
        r->cost_rate = NULL;
    }
    for (size_t i = 0; i < r->n_exceptions; i++)
        if (r->exceptions[i]->reason)
            r->exceptions[i]->reason[0] = '\0';
}

//  True if the event concerns project: its entity, or its snapshot's
//  project_id / project_ids.
static bool s_of_project (const Pmo__Event *event, const char *project)
{
    if (event->entity_id && strcmp (event->entity_id, project) == 0)
        return true;
    const ProtobufCMessage *base = &event->base;
    uint32_t which = pmo_wire_oneof_case (base);
    if (!which)
        return false;
    const ProtobufCFieldDescriptor *field =
        protobuf_c_message_descriptor_get_field (base->descriptor, which);
    if (!field || field->type != PROTOBUF_C_TYPE_MESSAGE)
        return false;
    const ProtobufCMessage *body = *(ProtobufCMessage *const *)((const char *)base + field->offset);
    if (!body)
        return false;
    if (strcmp (pmo_reflect_str (body, "project_id"), project) == 0)
        return true;
    const ProtobufCFieldDescriptor *ids =
        protobuf_c_message_descriptor_get_field_by_name (body->descriptor, "project_ids");
    if (ids && ids->label == PROTOBUF_C_LABEL_REPEATED && ids->type == PROTOBUF_C_TYPE_STRING) {
        size_t n = *(const size_t *)((const char *)body + ids->quantifier_offset);
        char *const *list = *(char *const *const *)((const char *)body + ids->offset);
        for (size_t i = 0; i < n; i++)
            if (strcmp (list[i], project) == 0)
                return true;
    }
    return false;
}

static bool s_type_matches (const char *types, const char *type)
{
    const char *p = types;
    while (*p) {
        const char *end = strchr (p, ',');
        size_t len = end ? (size_t)(end - p) : strlen (p);
        if (len > 0 && p[len - 1] == '*') {
            if (strncmp (type, p, len - 1) == 0)
                return true;
        } else if (len == strlen (type) && strncmp (type, p, len) == 0)
            return true;
        if (!end)
            break;
        p = end + 1;
    }
    return false;
}

bool gateway_event_matches (const gateway_event_filter_t *filter, const Pmo__Event *event)
{
    if (filter->org_unit && *filter->org_unit &&
        !pmo_path_contains (event->org_unit_path, filter->org_unit))
        return false;
    if (filter->project && *filter->project && !s_of_project (event, filter->project))
        return false;
    if (filter->types && *filter->types && !s_type_matches (filter->types, event->type))
        return false;
    if (filter->actor && *filter->actor && (!event->actor || strcmp (event->actor, filter->actor)))
        return false;
    if (filter->entity_id && *filter->entity_id &&
        (!event->entity_id || strcmp (event->entity_id, filter->entity_id)))
        return false;
    return true;
}
