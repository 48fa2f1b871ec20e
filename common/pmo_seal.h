/*  pmo_seal.h: secrets at rest (webhook URLs and signing secrets, SMTP
    passwords), sealed with libsodium before they reach Redis.

    The key file lives outside Redis (`.pmo/secrets.key` for ./deploy/pmo up,
    mode 0600): one key per line, 64 hex digits, the first the current one.
    A sealed value is "pmoseal:1:<key id>:<base64 of nonce and ciphertext>"
    (crypto_secretbox_easy: XSalsa20-Poly1305, a fresh random nonce each
    time); the key id (8 hex digits of the key's BLAKE2b hash) says which
    line opens it, so after a rotation values sealed with an older key still
    open while that key stays in the file. Values read back are sealed again
    with the current key whenever they are written (SECURITY.md: rotation).
*/
#ifndef PMO_SEAL_H_INCLUDED
#define PMO_SEAL_H_INCLUDED

#include "pmo_util.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct _pmo_seal_t pmo_seal_t;

//  Load the key file. NULL (logged: which file, what is wrong) if it cannot
//  be read, holds no key, a line is not 64 hex digits, or it is readable by
//  others than its owner.
pmo_seal_t *pmo_seal_load (const char *path);
void pmo_seal_destroy (pmo_seal_t **self_p);

//  plain sealed with the current key, allocated in arena ("" stays "").
char *pmo_seal (const pmo_seal_t *self, pmo_arena_t *arena, const char *plain);

//  The plain text of sealed (in arena) into *plain. A value without the
//  "pmoseal:" prefix (stored before sealing existed) is returned as is.
//  Returns 0, or -1 when the key it names is not in the file or the value
//  was tampered with (*plain is then NULL).
int pmo_unseal (const pmo_seal_t *self, pmo_arena_t *arena, const char *sealed, char **plain);

//  sealed was sealed with the current key (false for plain text).
bool pmo_sealed_current (const pmo_seal_t *self, const char *sealed);

//  Write a fresh key file at path (mode 0600); with keep, the keys of the
//  file already there follow the new one (rotation). 0, or -1 with why.
int pmo_seal_keygen (const char *path, bool keep, char *why, size_t why_size);

#endif
