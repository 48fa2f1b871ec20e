/*  pmo_seal.c: secrets at rest with libsodium's secretbox (pmo_seal.h). */
#include "pmo_seal.h"
#include "pmo_log.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PREFIX   "pmoseal:1:"
#define MAX_KEYS 8
#define KEY_HEX  (crypto_secretbox_KEYBYTES * 2)

typedef struct {
    uint8_t key[crypto_secretbox_KEYBYTES];
    char id[9]; //  8 hex digits of BLAKE2b (key)
} seal_key_t;

struct _pmo_seal_t {
    seal_key_t keys[MAX_KEYS]; //  [0] seals; all open
    size_t n_keys;
};

static void s_key_id (seal_key_t *key)
{
    uint8_t hash[crypto_generichash_BYTES];
    crypto_generichash (hash, sizeof hash, key->key, sizeof key->key, NULL, 0);
    sodium_bin2hex (key->id, sizeof key->id, hash, 4);
}

pmo_seal_t *pmo_seal_load (const char *path)
{
    if (sodium_init () < 0) {
        pmo_error ("seal: libsodium does not initialise");
        return NULL;
    }
    FILE *file = fopen (path, "r");
    if (!file) {
        pmo_error ("seal: cannot read the secrets key file=%s error=\"%s\" (./deploy/pmo up "
                   "makes it; SECURITY.md)",
                   path, strerror (errno));
        return NULL;
    }
    struct stat st;
    if (fstat (fileno (file), &st) == 0 && (st.st_mode & 077)) {
        pmo_error ("seal: the secrets key file=%s is readable by others (mode %o); chmod 600 it",
                   path, (unsigned)(st.st_mode & 0777));
        fclose (file);
        return NULL;
    }
    pmo_seal_t *self = calloc (1, sizeof (pmo_seal_t));
    assert (self);
    char line[256];
    int number = 0, rc = 0;
    while (rc == 0 && fgets (line, sizeof line, file)) {
        number++;
        size_t len = strcspn (line, "\r\n");
        line[len] = 0;
        if (len == 0 || line[0] == '#')
            continue;
        size_t got = 0;
        if (self->n_keys == MAX_KEYS || len != KEY_HEX ||
            sodium_hex2bin (self->keys[self->n_keys].key, crypto_secretbox_KEYBYTES, line, len,
                            NULL, &got, NULL) != 0 ||
            got != crypto_secretbox_KEYBYTES) {
            pmo_error ("seal: file=%s line %d is not a key of %d hex digits (or more than %d "
                       "keys)",
                       path, number, KEY_HEX, MAX_KEYS);
            rc = -1;
            break;
        }
        s_key_id (&self->keys[self->n_keys++]);
    }
    fclose (file);
    sodium_memzero (line, sizeof line);
    if (rc == 0 && self->n_keys == 0) {
        pmo_error ("seal: no key in file=%s", path);
        rc = -1;
    }
    if (rc)
        pmo_seal_destroy (&self);
    return self;
}

void pmo_seal_destroy (pmo_seal_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        sodium_memzero (*self_p, sizeof (pmo_seal_t));
        free (*self_p);
    }
    *self_p = NULL;
}

char *pmo_seal (const pmo_seal_t *self, pmo_arena_t *arena, const char *plain)
{
    if (!plain || !*plain)
        return pmo_arena_strdup (arena, "");
    size_t len = strlen (plain);
    size_t box = crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + len;
    uint8_t *bytes = pmo_arena_alloc (arena, box);
    randombytes_buf (bytes, crypto_secretbox_NONCEBYTES);
    crypto_secretbox_easy (bytes + crypto_secretbox_NONCEBYTES, (const uint8_t *)plain, len, bytes,
                           self->keys[0].key);
    size_t b64 = sodium_base64_ENCODED_LEN (box, sodium_base64_VARIANT_ORIGINAL);
    char *out = pmo_arena_alloc (arena, sizeof PREFIX + 9 + b64);
    int at = snprintf (out, sizeof PREFIX + 9, "%s%s:", PREFIX, self->keys[0].id);
    sodium_bin2base64 (out + at, b64, bytes, box, sodium_base64_VARIANT_ORIGINAL);
    return out;
}

int pmo_unseal (const pmo_seal_t *self, pmo_arena_t *arena, const char *sealed, char **plain)
{
    *plain = NULL;
    if (!sealed || strncmp (sealed, PREFIX, strlen (PREFIX)) != 0) {
        *plain = pmo_arena_strdup (arena, sealed ? sealed : "");
        return 0;
    }
    const char *id = sealed + strlen (PREFIX);
    const char *colon = strchr (id, ':');
    if (!colon || colon - id != 8)
        return -1;
    const seal_key_t *key = NULL;
    for (size_t i = 0; i < self->n_keys && !key; i++)
        if (strncmp (self->keys[i].id, id, 8) == 0)
            key = &self->keys[i];
    if (!key) {
        pmo_warn ("seal: a secret sealed with key id=%.8s, which is not in the key file", id);
        return -1;
    }
    const char *b64 = colon + 1;
    size_t b64_len = strlen (b64);
    uint8_t *bytes = pmo_arena_alloc (arena, b64_len + 1);
    size_t box = 0;
    if (sodium_base642bin (bytes, b64_len, b64, b64_len, NULL, &box, NULL,
                           sodium_base64_VARIANT_ORIGINAL) != 0 ||
        box < crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES)
        return -1;
    size_t len = box - crypto_secretbox_NONCEBYTES - crypto_secretbox_MACBYTES;
    char *out = pmo_arena_alloc (arena, len + 1);
    if (crypto_secretbox_open_easy ((uint8_t *)out, bytes + crypto_secretbox_NONCEBYTES,
                                    box - crypto_secretbox_NONCEBYTES, bytes, key->key) != 0) {
        pmo_warn ("seal: a sealed secret does not open (tampered with?) key id=%.8s", id);
        return -1;
    }
    out[len] = 0;
    *plain = out;
    return 0;
}

bool pmo_sealed_current (const pmo_seal_t *self, const char *sealed)
{
    return sealed && strncmp (sealed, PREFIX, strlen (PREFIX)) == 0 &&
           strncmp (sealed + strlen (PREFIX), self->keys[0].id, 8) == 0;
}

int pmo_seal_keygen (const char *path, bool keep, char *why, size_t why_size)
{
    if (sodium_init () < 0) {
        snprintf (why, why_size, "libsodium does not initialise");
        return -1;
    }
    char old[MAX_KEYS * (KEY_HEX + 2)] = "";
    if (keep) {
        FILE *file = fopen (path, "r");
        if (!file) {
            snprintf (why, why_size, "cannot read %s: %s", path, strerror (errno));
            return -1;
        }
        size_t got = fread (old, 1, sizeof old - KEY_HEX - 2, file);
        old[got] = 0;
        fclose (file);
    } else if (access (path, F_OK) == 0) {
        snprintf (why, why_size, "%s exists (--rotate adds a new key before its keys)", path);
        return -1;
    }
    uint8_t key[crypto_secretbox_KEYBYTES];
    crypto_secretbox_keygen (key);
    char hex[KEY_HEX + 1];
    sodium_bin2hex (hex, sizeof hex, key, sizeof key);
    sodium_memzero (key, sizeof key);
    char tmp[1200];
    snprintf (tmp, sizeof tmp, "%s.new", path);
    int fd = open (tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    FILE *file = fd >= 0 ? fdopen (fd, "w") : NULL;
    int rc = file && fprintf (file, "%s\n%s", hex, old) > 0 ? 0 : -1;
    if (file && fclose (file) != 0)
        rc = -1;
    sodium_memzero (hex, sizeof hex);
    sodium_memzero (old, sizeof old);
    if (rc == 0 && rename (tmp, path) != 0)
        rc = -1;
    if (rc) {
        snprintf (why, why_size, "cannot write %s: %s", path, strerror (errno));
        unlink (tmp);
    }
    return rc;
}
