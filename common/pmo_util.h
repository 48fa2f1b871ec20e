/*  pmo_util.h: small helpers every part uses: clocks, ids, validation of
    the plain values that arrive from outside (slugs, dates), and a per-request
    arena that backs protobuf-c allocations.
*/
#ifndef PMO_UTIL_H_INCLUDED
#define PMO_UTIL_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <protobuf-c/protobuf-c.h>

//  Wall clock in Unix milliseconds: for timestamps people read and for
//  deadlines that cross processes.
int64_t pmo_now_ms (void);
//  Monotonic milliseconds: for every local timeout and backoff.
int64_t pmo_mono_ms (void);

//  A random (version 4) UUID in canonical text form; out must hold 37 bytes.
void pmo_uuid (char *out);

//  True if s is made of [a-z0-9-], starts with a letter or digit, and is
//  min..max characters long.
bool pmo_slug_valid (const char *s, size_t min, size_t max);
//  The division of an id "<prefix>_<division>_<n>" ("pr_dft-rail_7" with
//  prefix "pr" is in "dft-rail"): 0 with division filled in (size bytes),
//  -1 if id does not have that shape. What people type otherwise (a code)
//  is told apart from an id by this one rule.
int pmo_id_division (const char *id, const char *prefix, char *division, size_t size);
//  True if s can be a code people give an entity (a project's
//  "FIN-2026-014"): 1..32 of letters, digits and -_./
bool pmo_code_valid (const char *s);
//  True if s is a real calendar date "YYYY-MM-DD" in years 1900..2999.
bool pmo_date_valid (const char *s);
//  True if s is NULL or the empty string.
bool pmo_str_empty (const char *s);
//  True if the string is valid UTF-8 without control characters other than
//  tab and newline.
bool pmo_text_valid (const char *s);
//  What keeps s from being one line of text (a name, a title, a person):
//  "invalid UTF-8", "a line break (...)", "a control character" or
//  "a bidirectional override (U+202A-U+202E, U+2066-U+2069)"; NULL if
//  nothing does. Such characters make a name print as something else (in
//  logs, CSV, a terminal, a page); text of many lines has pmo_text_valid.
const char *pmo_line_fault (const char *s);

//  An arena: many small allocations, freed together. A request's decoded
//  message, the entities read for it and its reply all live in one arena
//  that is freed when the reply has been sent.
typedef struct _pmo_arena_t pmo_arena_t;
pmo_arena_t *pmo_arena_new (void);
void pmo_arena_destroy (pmo_arena_t **self_p);
//  Forget every allocation but keep the first block for reuse.
void pmo_arena_reset (pmo_arena_t *self);
//  A place in an arena to go back to: pmo_arena_rewind forgets what was
//  allocated after pmo_arena_mark (work that turned out not to be needed),
//  so a long loop keeps reusing the same, already touched memory instead of
//  growing the arena by what it throws away (the risk monitor's sweep
//  assesses 2,000 projects per reset and keeps what one in ten wrote).
//  A mark is valid until the arena is reset or rewound to an earlier mark.
typedef struct {
    void *block;  //  the block in use when marked
    size_t used;  //  its bytes handed out then
    size_t total; //  the arena's
} pmo_arena_mark_t;
pmo_arena_mark_t pmo_arena_mark (pmo_arena_t *self);
void pmo_arena_rewind (pmo_arena_t *self, pmo_arena_mark_t mark);
//  Zeroed, 16-byte aligned memory owned by the arena. Never returns NULL.
void *pmo_arena_alloc (pmo_arena_t *self, size_t size);
//  Copies owned by the arena.
char *pmo_arena_strdup (pmo_arena_t *self, const char *s);
//  Append a copy of s to the string array *items of *n items (a repeated
//  string field of a message built in the arena, such as a reply's
//  warnings), growing it in the arena.
void pmo_arena_append_string (pmo_arena_t *self, char ***items, size_t *n, const char *s);
char *pmo_arena_printf (pmo_arena_t *self, const char *format, ...)
    __attribute__ ((format (printf, 2, 3)));
//  The strings given, up to a NULL, joined: a key without a format string
//  to parse (pmo_arena_cat (arena, "pmo:{", division, "}:events", NULL)).
char *pmo_arena_cat (pmo_arena_t *self, ...) __attribute__ ((sentinel));

//  Decimal digits without printf (keys, script arguments, protocol headers
//  and ETags format many on hot paths): written backwards so that they end
//  at end, which needs PMO_DIGITS_MAX bytes before it; returns where they
//  start (a '-' first for a negative value).
#define PMO_DIGITS_MAX 21
char *pmo_digits_u64 (char *end, uint64_t value);
char *pmo_digits_i64 (char *end, int64_t value);
void *pmo_arena_memdup (pmo_arena_t *self, const void *data, size_t size);
//  A protobuf-c allocator that allocates from this arena (free is a no-op).
ProtobufCAllocator *pmo_arena_allocator (pmo_arena_t *self);
//  Bytes in use, for tests and metrics.
size_t pmo_arena_used (pmo_arena_t *self);

#endif
