/*  notifier_interact.c: the checks a chat tool's request must pass before
    pmo acts on a click in it. Pure, like the rest of the model
    (notifier_model.h).

    - Slack ("Verifying requests from Slack"): X-Slack-Signature is "v0="
      and the hex HMAC-SHA256, keyed with the app's signing secret, of
      "v0:<X-Slack-Request-Timestamp>:<the raw body>"; a timestamp more
      than five minutes from now is refused (replay). An interaction's body
      is form-encoded: payload=<the JSON of the click>.
    - Mattermost (interactive message buttons): the button's integration
      URL gets the click with the button's "context", which pmo fills with
      a token: the hex HMAC-SHA256, keyed with the channel's own action
      secret, of "<delivery id>:<action>". Only whoever holds the secret
      (pmo) can make a token that passes.
    Comparisons are constant-time.
*/
#include "notifier_model.h"

#include <assert.h>
#include <ctype.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SLACK_WINDOW_S 300 //  Slack's documented replay window: five minutes

//  hex HMAC-SHA256 of the pieces joined, into out (65 bytes; "" on failure)
static void s_hmac_hex (const char *key, const char *const *pieces, const size_t *sizes, size_t n,
                        char out[65])
{
    size_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += sizes[i];
    unsigned char *message = malloc (total + 1), *m = message;
    assert (message);
    for (size_t i = 0; i < n; i++) {
        memcpy (m, pieces[i], sizes[i]);
        m += sizes[i];
    }
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (!HMAC (EVP_sha256 (), key, (int)strlen (key), message, total, mac, &len))
        len = 0;
    free (message);
    for (unsigned int i = 0; i < len; i++)
        snprintf (out + 2 * i, 3, "%02x", mac[i]);
    out[2 * len] = 0;
}

static bool s_same (const char *a, const char *b)
{
    size_t n = strlen (a);
    return n == strlen (b) && CRYPTO_memcmp (a, b, n) == 0;
}

int notifier_slack_verify (const char *signing_secret, const char *timestamp, const char *body,
                           size_t size, const char *signature, int64_t now_ms)
{
    if (pmo_str_empty (signing_secret) || pmo_str_empty (timestamp) || pmo_str_empty (signature))
        return NOTIFIER_REQUEST_UNSIGNED;
    char *end = NULL;
    long long ts = strtoll (timestamp, &end, 10);
    if (!isdigit ((unsigned char)*timestamp) || *end || ts <= 0)
        return NOTIFIER_REQUEST_UNSIGNED;
    long long skew = now_ms / 1000 - ts;
    if (skew > SLACK_WINDOW_S || skew < -SLACK_WINDOW_S)
        return NOTIFIER_REQUEST_STALE;
    const char *pieces[] = {"v0:", timestamp, ":", body};
    size_t sizes[] = {3, strlen (timestamp), 1, size};
    char hex[65], expected[70];
    s_hmac_hex (signing_secret, pieces, sizes, 4, hex);
    snprintf (expected, sizeof expected, "v0=%s", hex);
    return s_same (expected, signature) ? NOTIFIER_REQUEST_OK : NOTIFIER_REQUEST_FORGED;
}

char *notifier_action_token (const char *secret, const char *delivery_id, const char *action,
                             pmo_arena_t *arena)
{
    const char *pieces[] = {delivery_id, ":", action};
    size_t sizes[] = {strlen (delivery_id), 1, strlen (action)};
    char hex[65];
    s_hmac_hex (secret, pieces, sizes, 3, hex);
    return pmo_arena_strdup (arena, hex);
}

int notifier_action_verify (const char *secret, const char *delivery_id, const char *action,
                            const char *token)
{
    if (pmo_str_empty (secret) || pmo_str_empty (token) || !delivery_id || !action)
        return NOTIFIER_REQUEST_UNSIGNED;
    pmo_arena_t *arena = pmo_arena_new ();
    bool same = s_same (notifier_action_token (secret, delivery_id, action, arena), token);
    pmo_arena_destroy (&arena);
    return same ? NOTIFIER_REQUEST_OK : NOTIFIER_REQUEST_FORGED;
}

//  %xx and + of application/x-www-form-urlencoded, in place
static void s_form_decode (char *s)
{
    char *o = s;
    for (char *p = s; *p; p++) {
        if (*p == '+')
            *o++ = ' ';
        else if (*p == '%' && isxdigit ((unsigned char)p[1]) && isxdigit ((unsigned char)p[2])) {
            char hex[3] = {p[1], p[2], 0};
            *o++ = (char)strtol (hex, NULL, 16);
            p += 2;
        } else
            *o++ = *p;
    }
    *o = 0;
}

char *notifier_form_field (const char *body, size_t size, const char *name, pmo_arena_t *arena)
{
    size_t nlen = strlen (name);
    const char *p = body, *end = body + size;
    while (p < end) {
        const char *amp = memchr (p, '&', (size_t)(end - p));
        const char *stop = amp ? amp : end;
        if ((size_t)(stop - p) > nlen && strncmp (p, name, nlen) == 0 && p[nlen] == '=') {
            char *value = pmo_arena_alloc (arena, (size_t)(stop - p) - nlen);
            memcpy (value, p + nlen + 1, (size_t)(stop - p) - nlen - 1);
            value[(size_t)(stop - p) - nlen - 1] = 0;
            s_form_decode (value);
            return value;
        }
        p = stop + 1;
    }
    return NULL;
}
