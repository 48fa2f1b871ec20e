/*  test_gateway_tokens.c: token governance over real HTTP against a real
    gateway, registry and Redis: whom a token may speak for (the minter, or
    a service account under the minter's unit; anyone for an enterprise
    admin), grants no wider than the minter's, the rate ceiling, the
    default and longest lifetime, and revoking a token revoking those
    minted with it (and theirs), at once and in the audit trail.
*/
#include "gateway_harness.h"

#include "pmo_testkit.h"
#include "pmo_util.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DAY_MS 86400000LL

static void s_tune (gateway_config_t *config)
{
    config->token_rate_max = 50;
}

//  Mint a token as minter: returns the status; *secret and *id (if 201,
//  caller frees) .
static long s_mint (gh_t *gh, const char *minter, const char *subject, const char *grant,
                    const char *extra, char **secret, char **id)
{
    char role[64], unit[64];
    assert (sscanf (grant, "%63[^@]@%63s", role, unit) == 2);
    char body[512];
    snprintf (body, sizeof body,
              "{\"name\":\"t\",\"subject\":\"%s\",\"grants\":[{\"role\":\"%s\",\"org_unit\":"
              "\"%s\"}]%s}",
              subject, role, unit, extra ? extra : "");
    gh_resp_t *resp = gh_http (gh, "POST", "/api/v1/tokens", minter, body, NULL);
    long status = resp->status;
    if (secret)
        *secret = status == 201 ? strdup (gh_str (resp, "secret")) : NULL;
    if (id)
        *id = status == 201 ? strdup (json_string_value (
                                  json_object_get (json_object_get (resp->json, "token"), "id")))
                            : NULL;
    if (status != 201 && status != 403 && status != 400)
        GH_CHECK (false, resp);
    if (status == 403)
        GH_CHECK (strcmp (gh_str (resp, "code"), "forbidden") == 0, resp);
    gh_resp_free (&resp);
    return status;
}

static json_t *s_token (gh_t *gh, const char *id)
{
    char path[64];
    snprintf (path, sizeof path, "/api/v1/tokens/%s", id);
    gh_resp_t *resp = gh_http (gh, "GET", path, gh->admin, NULL, NULL);
    GH_STATUS (resp, 200);
    json_t *doc = json_incref (resp->json);
    gh_resp_free (&resp);
    return doc;
}

static long s_whoami (gh_t *gh, const char *token)
{
    gh_resp_t *resp = gh_http (gh, "GET", "/api/v1/whoami", token, NULL, NULL);
    long status = resp->status;
    gh_resp_free (&resp);
    return status;
}

static void test_subjects (gh_t *gh)
{
    char *manager = gh_token (gh, "manager@dft", "pmo_manager@dft");
    //  Not for someone else, least of all an admin
    assert (s_mint (gh, manager, "admin", "viewer@dft", NULL, NULL, NULL) == 403);
    assert (s_mint (gh, manager, "jane@dft", "viewer@dft", NULL, NULL, NULL) == 403);
    //  Not for a service account of another division, nor a malformed one
    assert (s_mint (gh, manager, "svc-ci@dhsc", "viewer@dft", NULL, NULL, NULL) == 403);
    assert (s_mint (gh, manager, "svc-@dft", "viewer@dft", NULL, NULL, NULL) == 403);
    assert (s_mint (gh, manager, "svc-CI@dft", "viewer@dft", NULL, NULL, NULL) == 403);
    //  For themselves, or a service account in their subtree
    char *id = NULL;
    assert (s_mint (gh, manager, "manager@dft", "viewer@dft-rail", NULL, NULL, &id) == 201);
    json_t *doc = s_token (gh, id);
    assert (strcmp (json_string_value (json_object_get (doc, "created_by")), "manager@dft") == 0);
    json_decref (doc);
    free (id);
    assert (s_mint (gh, manager, "svc-ci@dft-rail", "viewer@dft-rail", NULL, NULL, NULL) == 201);
    //  Grants no wider than theirs: no admin, no director, no other division
    assert (s_mint (gh, manager, "manager@dft", "admin@dft", NULL, NULL, NULL) == 403);
    assert (s_mint (gh, manager, "manager@dft", "pmo_director@dft", NULL, NULL, NULL) == 403);
    assert (s_mint (gh, manager, "manager@dft", "viewer@dhsc", NULL, NULL, NULL) == 403);
    assert (s_mint (gh, manager, "manager@dft", "viewer@hub", NULL, NULL, NULL) == 403);
    //  An enterprise admin administers people: any subject
    assert (s_mint (gh, gh->admin, "jane@dft", "viewer@dft", NULL, NULL, NULL) == 201);
    free (manager);
}

static void test_rate_and_lifetime (gh_t *gh)
{
    //  The ceiling (50 here) holds for everyone, admins too
    assert (s_mint (gh, gh->admin, "admin", "viewer@dft", ",\"rate_per_s\":100000", NULL, NULL) ==
            400);
    assert (s_mint (gh, gh->admin, "admin", "viewer@dft", ",\"rate_per_s\":51", NULL, NULL) == 400);
    char *id = NULL;
    assert (s_mint (gh, gh->admin, "admin", "viewer@dft", ",\"rate_per_s\":50", NULL, &id) == 201);
    free (id);
    //  No lifetime asked for: 90 days
    int64_t before = pmo_now_ms ();
    assert (s_mint (gh, gh->admin, "admin", "viewer@dft", NULL, NULL, &id) == 201);
    json_t *doc = s_token (gh, id);
    int64_t expires = (int64_t)json_integer_value (json_object_get (doc, "expires_ms"));
    if (json_is_string (json_object_get (doc, "expires_ms")))
        expires = strtoll (json_string_value (json_object_get (doc, "expires_ms")), NULL, 10);
    assert (expires >= before + 90 * DAY_MS && expires <= pmo_now_ms () + 90 * DAY_MS);
    json_decref (doc);
    free (id);
    //  At most 366 days
    char extra[64];
    snprintf (extra, sizeof extra, ",\"expires_ms\":%lld",
              (long long)(pmo_now_ms () + 400 * DAY_MS));
    assert (s_mint (gh, gh->admin, "admin", "viewer@dft", extra, NULL, NULL) == 400);
}

//  The token.revoked events of token id in the hub's stream, by "admin".
static int s_revoked_events (gh_t *gh, const char *id)
{
    redisReply *reply = pmo_test_redis_command (gh->rh->redis, "XRANGE pmo:{hub}:events - +");
    assert (reply && reply->type == REDIS_REPLY_ARRAY);
    int found = 0;
    for (size_t i = 0; i < reply->elements; i++) {
        redisReply *fields = reply->element[i]->element[1];
        for (size_t f = 1; f < fields->elements; f += 2) {
            const char *data = fields->element[f]->str;
            size_t size = fields->element[f]->len;
            if (memmem (data, size, "token.revoked", 13) && memmem (data, size, id, strlen (id)) &&
                memmem (data, size, "admin", 5))
                found++;
        }
    }
    freeReplyObject (reply);
    return found;
}

static void test_cascade (gh_t *gh)
{
    //  admin -> manager (M) -> service account (C1) -> its own (C2)
    char *m = NULL, *m_id = NULL, *c1 = NULL, *c1_id = NULL, *c2 = NULL, *c2_id = NULL;
    char *other = NULL;
    assert (s_mint (gh, gh->admin, "mo@dft", "pmo_manager@dft", NULL, &m, &m_id) == 201);
    assert (s_mint (gh, m, "svc-feed@dft", "pmo_manager@dft-rail", NULL, &c1, &c1_id) == 201);
    assert (s_mint (gh, c1, "svc-feed@dft", "viewer@dft-rail", NULL, &c2, &c2_id) == 201);
    //  Another token of the same person is not minted with M
    assert (s_mint (gh, gh->admin, "mo@dft", "viewer@dft", NULL, &other, NULL) == 201);
    json_t *doc = s_token (gh, c1_id);
    assert (strcmp (json_string_value (json_object_get (doc, "minted_with")), m_id) == 0);
    json_decref (doc);
    doc = s_token (gh, c2_id);
    assert (strcmp (json_string_value (json_object_get (doc, "minted_with")), c1_id) == 0);
    json_decref (doc);
    assert (s_whoami (gh, c1) == 200 && s_whoami (gh, c2) == 200);
    //  Revoke M: C1 and C2 are refused at once (they were cached)
    char path[64];
    snprintf (path, sizeof path, "/api/v1/tokens/%s", m_id);
    gh_resp_t *resp = gh_http (gh, "DELETE", path, gh->admin, NULL, "If-Match: \"1\"");
    GH_STATUS (resp, 200);
    gh_resp_free (&resp);
    assert (s_whoami (gh, m) == 401);
    assert (s_whoami (gh, c1) == 401);
    assert (s_whoami (gh, c2) == 401);
    assert (s_whoami (gh, other) == 200);
    //  In the records: revoked, by whom
    const char *ids[] = {c1_id, c2_id};
    for (int i = 0; i < 2; i++) {
        doc = s_token (gh, ids[i]);
        assert (json_is_true (json_object_get (doc, "revoked")));
        assert (strcmp (json_string_value (json_object_get (doc, "revoked_by")), "admin") == 0);
        json_decref (doc);
    }
    //  ... and in the audit trail: a token.revoked event for each in the
    //  hub's stream, its actor the one who revoked the first
    for (int i = 0; i < 2; i++)
        assert (s_revoked_events (gh, ids[i]) == 1);
    free (m);
    free (m_id);
    free (c1);
    free (c1_id);
    free (c2);
    free (c2_id);
    free (other);
}

int main (void)
{
    gh_t *gh = gh_start (s_tune);
    gh_org (gh);
    test_subjects (gh);
    test_rate_and_lifetime (gh);
    test_cascade (gh);
    gh_stop (&gh);
    printf ("test_gateway_tokens: OK\n");
    return 0;
}
