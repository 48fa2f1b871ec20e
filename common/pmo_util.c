/*  pmo_util.c: clocks, ids, value validation and the request arena. */
#include "pmo_util.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

int64_t pmo_now_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t pmo_mono_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void pmo_uuid (char *out)
{
    uint8_t b[16];
    size_t got = 0;
    while (got < sizeof b) {
        ssize_t rc = getrandom (b + got, sizeof b - got, 0);
        if (rc < 0 && errno == EINTR)
            continue;
        assert (rc > 0);
        got += (size_t)rc;
    }
    b[6] = (uint8_t)((b[6] & 0x0F) | 0x40);
    b[8] = (uint8_t)((b[8] & 0x3F) | 0x80);
    snprintf (out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
              b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
              b[14], b[15]);
}

bool pmo_slug_valid (const char *s, size_t min, size_t max)
{
    if (!s)
        return false;
    size_t len = strlen (s);
    if (len < min || len > max)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (c == '-' && i > 0);
        if (!ok)
            return false;
    }
    return true;
}

bool pmo_code_valid (const char *s)
{
    size_t len = s ? strlen (s) : 0;
    if (len == 0 || len > 32)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.' || c == '/'))
            return false;
    }
    return true;
}

int pmo_id_division (const char *id, const char *prefix, char *division, size_t size)
{
    if (!id || !prefix)
        return -1;
    size_t plen = strlen (prefix);
    if (strncmp (id, prefix, plen) != 0 || id[plen] != '_')
        return -1;
    const char *start = id + plen + 1;
    const char *end = strrchr (start, '_');
    if (!end || end == start || (size_t)(end - start) >= size || (size_t)(end - start) > 32)
        return -1;
    if (end[1] == 0)
        return -1;
    for (const char *p = end + 1; *p; p++)
        if (*p < '0' || *p > '9')
            return -1;
    memcpy (division, start, (size_t)(end - start));
    division[end - start] = 0;
    return pmo_slug_valid (division, 1, 32) ? 0 : -1;
}

bool pmo_date_valid (const char *s)
{
    if (!s || strlen (s) != 10 || s[4] != '-' || s[7] != '-')
        return false;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
            return false;
    //  The digits are checked: read them as they are (atoi is strtol)
    int year = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
    int month = (s[5] - '0') * 10 + (s[6] - '0');
    int day = (s[8] - '0') * 10 + (s[9] - '0');
    if (year < 1900 || year > 2999 || month < 1 || month > 12 || day < 1)
        return false;
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int max = days[month - 1];
    if (month == 2 && ((year % 4 == 0 && year % 100 != 0) || year % 400 == 0))
        max = 29;
    return day <= max;
}

bool pmo_str_empty (const char *s)
{
    return s == NULL || *s == 0;
}

bool pmo_text_valid (const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        if (*p < 0x80) {
            if (*p < 0x20 && *p != '\t' && *p != '\n' && *p != '\r')
                return false;
            p++;
            continue;
        }
        int extra = (*p & 0xE0) == 0xC0   ? 1
                    : (*p & 0xF0) == 0xE0 ? 2
                    : (*p & 0xF8) == 0xF0 ? 3
                                          : -1;
        if (extra < 0 || (*p == 0xC0 || *p == 0xC1))
            return false;
        for (int i = 1; i <= extra; i++)
            if ((p[i] & 0xC0) != 0x80)
                return false;
        p += extra + 1;
    }
    return true;
}

const char *pmo_line_fault (const char *s)
{
    if (!pmo_text_valid (s))
        return "invalid UTF-8 or a control character";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '\r' || *p == '\n')
            return "a line break (CR, LF, U+2028 or U+2029)";
        if (*p < 0x20 || *p == 0x7f)
            return "a control character";
        //  C1 controls U+0080-U+009F: C2 80 .. C2 9F
        if (*p == 0xC2 && p[1] >= 0x80 && p[1] <= 0x9F)
            return "a control character";
        //  U+2028, U+2029 (line and paragraph separators): E2 80 A8..A9
        if (*p == 0xE2 && p[1] == 0x80 && (p[2] == 0xA8 || p[2] == 0xA9))
            return "a line break (CR, LF, U+2028 or U+2029)";
        //  U+202A-U+202E: E2 80 AA..AE; U+2066-U+2069: E2 81 A6..A9
        if (*p == 0xE2 && p[1] == 0x80 && p[2] >= 0xAA && p[2] <= 0xAE)
            return "a bidirectional override (U+202A-U+202E, U+2066-U+2069)";
        if (*p == 0xE2 && p[1] == 0x81 && p[2] >= 0xA6 && p[2] <= 0xA9)
            return "a bidirectional override (U+202A-U+202E, U+2066-U+2069)";
    }
    return NULL;
}

//  --------------------------------------------------------------------------
//  Arena

#define ARENA_BLOCK 16384

typedef struct _block_t {
    struct _block_t *next;
    size_t size;        //  usable bytes in data
    size_t used;        //  bytes handed out
    max_align_t data[]; //  aligned start of the usable bytes
} block_t;

struct _pmo_arena_t {
    block_t *head; //  the block we allocate from; older ones follow
    size_t total;  //  bytes handed out since the last reset
    ProtobufCAllocator allocator;
};

static void *s_pb_alloc (void *data, size_t size)
{
    return pmo_arena_alloc ((pmo_arena_t *)data, size);
}

static void s_pb_free (void *data, void *ptr)
{
    //  freed with the arena
}

static block_t *s_block_new (size_t size)
{
    block_t *block = malloc (sizeof (block_t) + size);
    assert (block);
    block->next = NULL;
    block->size = size;
    block->used = 0;
    return block;
}

pmo_arena_t *pmo_arena_new (void)
{
    pmo_arena_t *self = calloc (1, sizeof (pmo_arena_t));
    assert (self);
    self->head = s_block_new (ARENA_BLOCK);
    self->allocator.alloc = s_pb_alloc;
    self->allocator.free = s_pb_free;
    self->allocator.allocator_data = self;
    return self;
}

void pmo_arena_destroy (pmo_arena_t **self_p)
{
    assert (self_p);
    pmo_arena_t *self = *self_p;
    if (!self)
        return;
    block_t *block = self->head;
    while (block) {
        block_t *next = block->next;
        free (block);
        block = next;
    }
    free (self);
    *self_p = NULL;
}

void pmo_arena_reset (pmo_arena_t *self)
{
    //  Keep the oldest (first, standard-size) block; free the rest
    block_t *block = self->head;
    while (block->next) {
        block_t *next = block->next;
        free (block);
        block = next;
    }
    self->head = block;
    self->head->used = 0;
    self->total = 0;
}

pmo_arena_mark_t pmo_arena_mark (pmo_arena_t *self)
{
    return (pmo_arena_mark_t){self->head, self->head->used, self->total};
}

void pmo_arena_rewind (pmo_arena_t *self, pmo_arena_mark_t mark)
{
    //  The blocks begun since the mark are newer than its block: they come
    //  first in the list
    while (self->head != mark.block) {
        block_t *next = self->head->next;
        assert (next); //  a mark of this arena, not reset since
        free (self->head);
        self->head = next;
    }
    assert (mark.used <= self->head->used);
    self->head->used = mark.used;
    self->total = mark.total;
}

void *pmo_arena_alloc (pmo_arena_t *self, size_t size)
{
    size = (size + 15) & ~(size_t)15;
    if (size == 0)
        size = 16;
    if (self->head->used + size > self->head->size) {
        size_t want = size > ARENA_BLOCK ? size : ARENA_BLOCK;
        block_t *block = s_block_new (want);
        block->next = self->head;
        self->head = block;
    }
    void *ptr = (char *)self->head->data + self->head->used;
    self->head->used += size;
    self->total += size;
    memset (ptr, 0, size);
    return ptr;
}

char *pmo_arena_strdup (pmo_arena_t *self, const char *s)
{
    if (!s)
        s = "";
    return pmo_arena_memdup (self, s, strlen (s) + 1);
}

void *pmo_arena_memdup (pmo_arena_t *self, const void *data, size_t size)
{
    void *copy = pmo_arena_alloc (self, size);
    if (size)
        memcpy (copy, data, size);
    return copy;
}

void pmo_arena_append_string (pmo_arena_t *self, char ***items, size_t *n, const char *s)
{
    char **grown = pmo_arena_alloc (self, (*n + 1) * sizeof (char *));
    if (*n)
        memcpy (grown, *items, *n * sizeof (char *));
    grown[(*n)++] = pmo_arena_strdup (self, s);
    *items = grown;
}

char *pmo_arena_printf (pmo_arena_t *self, const char *format, ...)
{
    //  Formatted once into a stack buffer, which fits almost every key and
    //  number (the time sweep formats several per project); only a longer
    //  text is formatted a second time, into its arena block
    char small[256];
    va_list args;
    va_start (args, format);
    va_list again;
    va_copy (again, args);
    int len = vsnprintf (small, sizeof small, format, args);
    va_end (args);
    assert (len >= 0);
    char *out = pmo_arena_alloc (self, (size_t)len + 1);
    if ((size_t)len < sizeof small)
        memcpy (out, small, (size_t)len + 1);
    else
        vsnprintf (out, (size_t)len + 1, format, again);
    va_end (again);
    return out;
}

char *pmo_arena_cat (pmo_arena_t *self, ...)
{
    va_list args;
    va_start (args, self);
    va_list again;
    va_copy (again, args);
    size_t len = 0;
    for (const char *part; (part = va_arg (args, const char *));)
        len += strlen (part);
    va_end (args);
    char *out = pmo_arena_alloc (self, len + 1);
    char *at = out;
    for (const char *part; (part = va_arg (again, const char *));) {
        size_t size = strlen (part);
        memcpy (at, part, size);
        at += size;
    }
    va_end (again);
    *at = 0;
    return out;
}

char *pmo_digits_u64 (char *end, uint64_t value)
{
    char *at = end;
    do
        *--at = (char)('0' + value % 10);
    while ((value /= 10));
    return at;
}

char *pmo_digits_i64 (char *end, int64_t value)
{
    uint64_t magnitude = value < 0 ? 0ULL - (uint64_t)value : (uint64_t)value;
    char *at = pmo_digits_u64 (end, magnitude);
    if (value < 0)
        *--at = '-';
    return at;
}

ProtobufCAllocator *pmo_arena_allocator (pmo_arena_t *self)
{
    return &self->allocator;
}

size_t pmo_arena_used (pmo_arena_t *self)
{
    return self->total;
}
