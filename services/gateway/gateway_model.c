/*  gateway_model.c: the gateway's rules, without I/O. */
#include "gateway_model.h"

#include "pmo_reflect.h"
#include "pmo_util.h"
#include "pmo_wire.h"

#include <errno.h>
#include <nettle/sha2.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

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

static bool s_lower_hex (const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (!strchr (s_hex, s[i]) || s[i] == 0)
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

bool gateway_path_contains (const char *path, const char *unit)
{
    if (!path || !unit || !*unit)
        return false;
    size_t len = strlen (unit);
    const char *p = path;
    while (*p) {
        const char *end = strchr (p, '/');
        size_t part = end ? (size_t)(end - p) : strlen (p);
        if (part == len && strncmp (p, unit, len) == 0)
            return true;
        if (!end)
            break;
        p = end + 1;
    }
    return false;
}

//  The rank of a role for issuing tokens: 2 may grant anything, 1 may
//  grant the roles of rank 0, 0 may not issue.
static int s_issuer_rank (Pmo__Role role)
{
    if (role == PMO__ROLE__ROLE_ADMIN)
        return 2;
    if (role == PMO__ROLE__ROLE_PMO_DIRECTOR || role == PMO__ROLE__ROLE_PMO_MANAGER)
        return 1;
    return 0;
}

static int s_grant_rank (Pmo__Role role)
{
    if (role == PMO__ROLE__ROLE_ADMIN || role == PMO__ROLE__ROLE_PMO_DIRECTOR)
        return 2;
    return 1;
}

bool gateway_may_grant (const Pmo__Identity *who, const Pmo__Grant *grant, gateway_path_fn *path_of,
                        void *ctx, char *why, size_t why_size)
{
    const char *path = path_of (ctx, grant->org_unit);
    if (!path) {
        snprintf (why, why_size, "no org unit '%.64s'", grant->org_unit);
        return false;
    }
    for (size_t i = 0; who && i < who->n_grants; i++) {
        const Pmo__Grant *held = who->grants[i];
        int rank = s_issuer_rank (held->role);
        if (rank == 0 || !gateway_path_contains (path, held->org_unit))
            continue;
        if (rank >= s_grant_rank (grant->role))
            return true;
    }
    snprintf (why, why_size,
              "%.64s may not issue this role in '%.128s' (admins issue any role in their "
              "subtree; PMO directors and managers the roles below theirs)",
              who && who->subject ? who->subject : "", path);
    return false;
}

bool gateway_may_see_token (const Pmo__Identity *who, const Pmo__ApiToken *token,
                            gateway_path_fn *path_of, void *ctx)
{
    if (who && who->subject && token->created_by && strcmp (who->subject, token->created_by) == 0)
        return true;
    if (token->n_grants == 0)
        return false;
    char why[16];
    for (size_t i = 0; i < token->n_grants; i++)
        if (!gateway_may_grant (who, token->grants[i], path_of, ctx, why, sizeof why))
            return false;
    return true;
}

static int s_fail (char *field, size_t field_size, const char *name, char *why, size_t why_size,
                   const char *text)
{
    snprintf (field, field_size, "%s", name);
    snprintf (why, why_size, "%s", text);
    return -1;
}

int gateway_check_create (const Pmo__CreateTokenRequest *create, char *field, size_t field_size,
                          char *why, size_t why_size)
{
    if (!create->name || !*create->name || strlen (create->name) > GATEWAY_TOKEN_NAME_MAX ||
        !pmo_text_valid (create->name))
        return s_fail (field, field_size, "create_token.name", why, why_size,
                       "name is required: what the token is for, 1 to 80 characters");
    if (!create->subject || !*create->subject || strlen (create->subject) > 128 ||
        !pmo_text_valid (create->subject) || strchr (create->subject, '\n'))
        return s_fail (field, field_size, "create_token.subject", why, why_size,
                       "subject is required: who acts with the token, e.g. jane@dft "
                       "(up to 128 characters)");
    if (create->n_grants == 0 || create->n_grants > 32)
        return s_fail (field, field_size, "create_token.grants", why, why_size,
                       "a token carries 1 to 32 grants (role held in an org unit)");
    for (size_t i = 0; i < create->n_grants; i++) {
        const Pmo__Grant *grant = create->grants[i];
        if (grant->role == PMO__ROLE__ROLE_UNSPECIFIED) {
            snprintf (field, field_size, "create_token.grants[%zu].role", i);
            snprintf (why, why_size, "role is required");
            return -1;
        }
        if (!pmo_slug_valid (grant->org_unit, 2, 32)) {
            snprintf (field, field_size, "create_token.grants[%zu].org_unit", i);
            snprintf (why, why_size, "org_unit must be an org unit id");
            return -1;
        }
    }
    if (create->expires_ms < 0)
        return s_fail (field, field_size, "create_token.expires_ms", why, why_size,
                       "expires_ms is a Unix time in ms, or 0 for never");
    return 0;
}

bool gateway_event_visible (const Pmo__Identity *who, const Pmo__Event *event)
{
    if (event->type && strncmp (event->type, "org_unit.", 9) == 0)
        return true;
    for (size_t i = 0; who && i < who->n_grants; i++)
        if (who->grants[i]->role != PMO__ROLE__ROLE_UNSPECIFIED &&
            gateway_path_contains (event->org_unit_path, who->grants[i]->org_unit))
            return true;
    return false;
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
        !gateway_path_contains (event->org_unit_path, filter->org_unit))
        return false;
    if (filter->project && *filter->project && !s_of_project (event, filter->project))
        return false;
    if (filter->types && *filter->types && !s_type_matches (filter->types, event->type))
        return false;
    return true;
}
