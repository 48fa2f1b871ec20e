/*  portio_csv.c: reading and writing spreadsheets as people save them. */
#include "portio_csv.h"

#include <assert.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

//  ---------------------------------------------------------------------
//  Encodings

//  Windows-1252's 0x80-0x9F; 0 marks the five bytes it leaves undefined.
static const uint16_t s_cp1252_high[32] = {
    0x20AC, 0,      0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
    0x2039, 0x0152, 0,      0x017D, 0,      0,      0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
    0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0,      0x017E, 0x0178};

//  Length of the valid UTF-8 sequence at p (at most n bytes), 0 if invalid.
static size_t s_utf8_length (const uint8_t *p, size_t n)
{
    uint8_t c = p[0];
    if (c < 0x80)
        return 1;
    size_t len;
    uint32_t min;
    if ((c & 0xE0) == 0xC0) {
        len = 2;
        min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
        len = 3;
        min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
        len = 4;
        min = 0x10000;
    } else
        return 0;
    if (n < len)
        return 0;
    uint32_t cp = c & (0x3F >> (len - 1));
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (p[i] & 0x3F);
    }
    //  Overlong forms, surrogates and beyond Unicode are not UTF-8
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return len;
}

static void s_put_utf8 (char **out, uint32_t cp)
{
    uint8_t *o = (uint8_t *)*out;
    if (cp < 0x80)
        *o++ = (uint8_t)cp;
    else if (cp < 0x800) {
        *o++ = (uint8_t)(0xC0 | (cp >> 6));
        *o++ = (uint8_t)(0x80 | (cp & 0x3F));
    } else {
        *o++ = (uint8_t)(0xE0 | (cp >> 12));
        *o++ = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
        *o++ = (uint8_t)(0x80 | (cp & 0x3F));
    }
    *out = (char *)o;
}

//  Which encoding the bytes are in: UTF-8 unless some byte is not, and
//  then Windows-1252 unless there are valid multi-byte UTF-8 sequences too
//  (a UTF-8 file with a few bad cells, which are better reported than
//  silently turned into mojibake).
static portio_csv_encoding_t s_detect (const uint8_t *p, size_t n)
{
    size_t multibyte = 0, invalid = 0;
    for (size_t i = 0; i < n;) {
        if (p[i] < 0x80) {
            i++;
            continue;
        }
        size_t len = s_utf8_length (p + i, n - i);
        if (len) {
            multibyte++;
            i += len;
        } else {
            invalid++;
            i++;
        }
    }
    if (invalid == 0 || multibyte > 0)
        return PORTIO_CSV_UTF8;
    return PORTIO_CSV_CP1252;
}

const char *portio_csv_encoding_name (portio_csv_encoding_t encoding)
{
    return encoding == PORTIO_CSV_CP1252 ? "windows-1252"
           : encoding == PORTIO_CSV_UTF8 ? "utf-8"
                                         : "auto";
}

int portio_csv_encoding_parse (const char *name, portio_csv_encoding_t *encoding)
{
    static const struct {
        const char *name;
        portio_csv_encoding_t encoding;
    } names[] = {{"auto", PORTIO_CSV_AUTO},           {"", PORTIO_CSV_AUTO},
                 {"utf-8", PORTIO_CSV_UTF8},          {"utf8", PORTIO_CSV_UTF8},
                 {"windows-1252", PORTIO_CSV_CP1252}, {"cp1252", PORTIO_CSV_CP1252},
                 {"latin-1", PORTIO_CSV_CP1252},      {"latin1", PORTIO_CSV_CP1252},
                 {"iso-8859-1", PORTIO_CSV_CP1252}};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (name && strcasecmp (name, names[i].name) == 0) {
            *encoding = names[i].encoding;
            return 0;
        }
    return -1;
}

//  ---------------------------------------------------------------------
//  Reading

//  The record being read.
typedef struct {
    pmo_arena_t *arena;
    portio_csv_encoding_t encoding;
    portio_csv_record_t *record;
    char **fields; //  grows
    size_t max_fields;
} reader_t;

static void s_problem (reader_t *r, size_t field, const char *format, ...)
    __attribute__ ((format (printf, 3, 4)));
static void s_problem (reader_t *r, size_t field, const char *format, ...)
{
    if (r->record->problem)
        return; //  the first problem of a row is the one to fix first
    char text[256];
    va_list args;
    va_start (args, format);
    vsnprintf (text, sizeof text, format, args);
    va_end (args);
    r->record->problem = pmo_arena_strdup (r->arena, text);
    r->record->problem_field = field;
}

//  Convert the raw bytes of one field to UTF-8 text in the arena.
static void s_add_field (reader_t *r, const uint8_t *raw, size_t n)
{
    size_t index = r->record->n_fields + 1;
    //  At most 3 bytes of UTF-8 per input byte (U+FFFD and 0x80-0x9F in cp1252)
    char *text = pmo_arena_alloc (r->arena, n * 3 + 1);
    char *out = text;
    for (size_t i = 0; i < n;) {
        uint8_t c = raw[i];
        if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') {
            s_problem (r, index, "control character 0x%02X in the cell: not text", c);
            i++;
            continue;
        }
        if (c < 0x80) {
            *out++ = (char)c;
            i++;
        } else if (r->encoding == PORTIO_CSV_CP1252) {
            uint32_t cp = c >= 0xA0 ? c : s_cp1252_high[c - 0x80];
            if (!cp) {
                s_problem (r, index, "byte 0x%02X is not a character in Windows-1252", c);
                cp = 0xFFFD;
            }
            s_put_utf8 (&out, cp);
            i++;
        } else {
            size_t len = s_utf8_length (raw + i, n - i);
            if (len) {
                memcpy (out, raw + i, len);
                out += len;
                i += len;
            } else {
                s_problem (r, index,
                           "byte 0x%02X is not UTF-8 (the rest of the file is UTF-8: was "
                           "this cell pasted from another encoding?)",
                           c);
                s_put_utf8 (&out, 0xFFFD);
                i++;
            }
        }
    }
    *out = 0;
    //  A cell the writer guarded against formulas: take its apostrophe off
    if (text[0] == '\'' && portio_csv_formula_guarded (text + 1))
        text++;
    if (r->record->n_fields == r->max_fields) {
        size_t max = r->max_fields ? r->max_fields * 2 : 16;
        char **grown = pmo_arena_alloc (r->arena, max * sizeof (char *));
        if (r->max_fields)
            memcpy (grown, r->fields, r->max_fields * sizeof (char *));
        r->fields = grown;
        r->max_fields = max;
    }
    r->fields[r->record->n_fields++] = text;
}

//  The delimiter that occurs most on the first line, outside quotes.
static char s_detect_delimiter (const uint8_t *p, size_t n)
{
    size_t comma = 0, semicolon = 0, tab = 0;
    bool quoted = false;
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '"')
            quoted = !quoted;
        else if (!quoted && (p[i] == '\n' || p[i] == '\r'))
            break;
        else if (!quoted)
            comma += p[i] == ',', semicolon += p[i] == ';', tab += p[i] == '\t';
    }
    if (tab > comma && tab >= semicolon)
        return '\t';
    if (semicolon > comma)
        return ';';
    return ',';
}

portio_csv_t *portio_csv_parse (const void *data, size_t size, const portio_csv_options_t *options,
                                pmo_arena_t *arena)
{
    portio_csv_t *csv = pmo_arena_alloc (arena, sizeof (portio_csv_t));
    const uint8_t *p = data;
    size_t n = size;
    if (n >= 3 && p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF) {
        csv->bom = true;
        p += 3;
        n -= 3;
    } else if (n >= 2 && ((p[0] == 0xFF && p[1] == 0xFE) || (p[0] == 0xFE && p[1] == 0xFF))) {
        csv->problem = "the file is UTF-16: save it as CSV UTF-8 (or Windows-1252) and try again";
        return csv;
    }
    csv->encoding = options && options->encoding ? options->encoding
                    : csv->bom                   ? PORTIO_CSV_UTF8
                                                 : s_detect (p, n);
    csv->delimiter = options && options->delimiter ? options->delimiter : s_detect_delimiter (p, n);
    const uint8_t delim = (uint8_t)csv->delimiter;

    size_t max_records = 64;
    csv->records = pmo_arena_alloc (arena, max_records * sizeof (portio_csv_record_t));
    reader_t r = {.arena = arena, .encoding = csv->encoding};
    //  One buffer for the field being unquoted (doubled quotes removed)
    uint8_t *buffer = pmo_arena_alloc (arena, n + 1);
    size_t i = 0, line = 1;
    while (i < n) {
        if (csv->n_records == max_records) {
            portio_csv_record_t *grown =
                pmo_arena_alloc (arena, max_records * 2 * sizeof (portio_csv_record_t));
            memcpy (grown, csv->records, max_records * sizeof (portio_csv_record_t));
            csv->records = grown;
            max_records *= 2;
        }
        portio_csv_record_t *record = &csv->records[csv->n_records++];
        record->line = line;
        r.record = record;
        r.fields = NULL;
        r.max_fields = 0;
        //  A blank line is a row with no fields
        if (p[i] == '\n' || p[i] == '\r') {
            i += (p[i] == '\r' && i + 1 < n && p[i + 1] == '\n') ? 2 : 1;
            line++;
            continue;
        }
        bool end_of_record = false;
        while (!end_of_record) {
            size_t len = 0;
            if (i < n && p[i] == '"') {
                size_t opened = line;
                i++;
                bool closed = false;
                while (i < n) {
                    if (p[i] == '"') {
                        if (i + 1 < n && p[i + 1] == '"') {
                            buffer[len++] = '"';
                            i += 2;
                            continue;
                        }
                        i++;
                        closed = true;
                        break;
                    }
                    if (p[i] == '\n')
                        line++;
                    buffer[len++] = p[i++];
                }
                if (!closed)
                    s_problem (&r, record->n_fields + 1,
                               "a quoted cell opened on line %zu is never closed (a missing \")",
                               opened);
                else if (i < n && p[i] != delim && p[i] != '\n' && p[i] != '\r') {
                    s_problem (&r, record->n_fields + 1,
                               "text after the closing quote (a quote inside a quoted cell must "
                               "be doubled: \"\")");
                    while (i < n && p[i] != delim && p[i] != '\n' && p[i] != '\r')
                        buffer[len++] = p[i++];
                }
            } else {
                //  A quote inside an unquoted cell (12" pipe) is kept as text
                while (i < n && p[i] != delim && p[i] != '\n' && p[i] != '\r')
                    buffer[len++] = p[i++];
            }
            s_add_field (&r, buffer, len);
            if (i < n && p[i] == delim)
                i++;
            else {
                end_of_record = true;
                if (i < n) {
                    i += (p[i] == '\r' && i + 1 < n && p[i + 1] == '\n') ? 2 : 1;
                    line++;
                }
            }
        }
        record->fields = r.fields;
    }
    return csv;
}

//  ---------------------------------------------------------------------
//  Values

//  The text without leading and trailing white space (arena-free: into buf).
static const char *s_trim (const char *text, char *buf, size_t size)
{
    if (!text)
        return "";
    while (*text == ' ' || *text == '\t' || *text == '\r' || *text == '\n')
        text++;
    //  A no-break space (U+00A0) as well
    while ((uint8_t)text[0] == 0xC2 && (uint8_t)text[1] == 0xA0)
        text += 2;
    size_t len = strlen (text);
    while (len && (text[len - 1] == ' ' || text[len - 1] == '\t' || text[len - 1] == '\r' ||
                   text[len - 1] == '\n'))
        len--;
    if (len >= size)
        len = size - 1;
    memcpy (buf, text, len);
    buf[len] = 0;
    return buf;
}

const char *portio_csv_blank_marker (const char *text)
{
    static const char *markers[] = {"",          "-",       "--",  "n/a",  "na",
                                    "n.a.",      "tbc",     "tbd", "null", "not provided",
                                    "not known", "unknown", "#n/a"};
    char buf[32];
    if (text && strlen (text) > 64)
        return NULL;
    const char *t = s_trim (text, buf, sizeof buf);
    //  Every cell of a file comes here: most are values, which no marker
    //  starts like
    if (*t && !strchr ("-nNtTuU#", *t))
        return NULL;
    for (size_t i = 0; i < sizeof markers / sizeof markers[0]; i++)
        if (strcasecmp (t, markers[i]) == 0)
            return markers[i];
    return NULL;
}

bool portio_csv_blank (const char *text)
{
    return portio_csv_blank_marker (text) != NULL;
}

const char *portio_csv_withheld_marker (const char *text)
{
    if (!text)
        return NULL;
    static const char *words[] = {"exempt",   "exemption",           "redacted",
                                  "withheld", "not for publication", "not published"};
    //  A word or phrase anywhere: "Exempt under Section 43 ...", "Exemption under ..."
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (strcasestr (text, words[i]))
            return words[i];
    return NULL;
}

bool portio_csv_withheld (const char *text)
{
    return portio_csv_withheld_marker (text) != NULL;
}

static bool s_leap (int year)
{
    return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

static int s_days_in (int year, int month)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return month == 2 && s_leap (year) ? 29 : days[month - 1];
}

static int s_month_name (const char *word, size_t len)
{
    static const char *names[] = {"january",   "february", "march",    "april",
                                  "may",       "june",     "july",     "august",
                                  "september", "october",  "november", "december"};
    if (len < 3)
        return 0;
    for (int m = 0; m < 12; m++) {
        //  "Sept" too
        if (strncasecmp (word, names[m], len) == 0 && len <= strlen (names[m]))
            return m + 1;
    }
    return 0;
}

//  Tokens of a date: numbers (with their digit counts) and words.
typedef struct {
    int value;  //  number, or month for a month word
    int digits; //  digits of a number; 0 for a month word
} date_part_t;

static int s_date_fail (const char **why, const char *text)
{
    *why = text;
    return -1;
}

int portio_csv_parse_date (const char *text, portio_csv_date_order_t order, int pivot, char out[11],
                           bool *two_digit_year, const char **why)
{
    char buf[64];
    out[0] = 0;
    if (two_digit_year)
        *two_digit_year = false;
    if (text && strlen (text) > 60)
        return s_date_fail (why, "not a date (too long)");
    const char *t = s_trim (text, buf, sizeof buf);
    if (portio_csv_blank (t))
        return 1;
    //  A time after an ISO date ("2019-03-31T00:00:00", "2019-03-31 09:00") is dropped
    char date[64];
    snprintf (date, sizeof date, "%s", t);
    if (strlen (date) > 10 && isdigit ((unsigned char)date[0]) && date[4] == '-' &&
        (date[10] == 'T' || date[10] == ' '))
        date[10] = 0;

    date_part_t parts[4];
    size_t n = 0;
    bool month_word = false;
    for (const char *s = date; *s;) {
        if (isdigit ((unsigned char)*s)) {
            if (n == 3)
                return s_date_fail (why, "not a date: too many numbers");
            int value = 0, digits = 0;
            while (isdigit ((unsigned char)*s)) {
                if (digits == 4)
                    return s_date_fail (why, "not a date: a number with more than 4 digits");
                value = value * 10 + (*s++ - '0');
                digits++;
            }
            //  Ordinals: 1st, 2nd, 3rd, 31th
            if (strncasecmp (s, "st", 2) == 0 || strncasecmp (s, "nd", 2) == 0 ||
                strncasecmp (s, "rd", 2) == 0 || strncasecmp (s, "th", 2) == 0)
                if (!isalpha ((unsigned char)s[2]))
                    s += 2;
            parts[n++] = (date_part_t){value, digits};
        } else if (isalpha ((unsigned char)*s)) {
            const char *word = s;
            while (isalpha ((unsigned char)*s))
                s++;
            int month = s_month_name (word, (size_t)(s - word));
            if (!month || month_word || n == 3)
                return s_date_fail (why, "not a date: a word that is not a month");
            month_word = true;
            parts[n++] = (date_part_t){month, 0};
        } else if (strchr ("./-, ", *s))
            s++;
        else
            return s_date_fail (why, "not a date: unexpected character");
    }
    if (n != 3)
        return s_date_fail (why, "not a date: expected day, month and year");
    int day, month, year, year_digits;
    if (parts[0].digits == 4) {
        //  Year first: YYYY-MM-DD (never YYYY-DD-MM)
        year = parts[0].value, year_digits = 4;
        month = parts[1].value, day = parts[2].value;
        if (parts[2].digits == 0)
            return s_date_fail (why, "not a date: year first, then month and day");
    } else if (month_word) {
        //  "31 Dec 2040", "31-Dec-40", "December 31, 2040"
        size_t m = parts[0].digits == 0 ? 0 : 1;
        if (m == 0 && parts[1].digits && parts[2].digits)
            day = parts[1].value, year = parts[2].value, year_digits = parts[2].digits;
        else if (m == 1 && parts[0].digits && parts[2].digits)
            day = parts[0].value, year = parts[2].value, year_digits = parts[2].digits;
        else
            return s_date_fail (why, "not a date: expected '31 Dec 2040' or 'Dec 31, 2040'");
        month = parts[m].value;
    } else {
        year = parts[2].value, year_digits = parts[2].digits;
        if (order == PORTIO_CSV_MDY)
            month = parts[0].value, day = parts[1].value;
        else
            day = parts[0].value, month = parts[1].value;
    }
    if (year_digits == 2) {
        year += year < pivot ? 2000 : 1900;
        if (two_digit_year)
            *two_digit_year = true;
    } else if (year_digits != 4)
        return s_date_fail (why, "not a date: the year needs 2 or 4 digits");
    if (month < 1 || month > 12)
        return s_date_fail (why, "impossible date: there is no such month");
    if (year < 1900 || year > 2999)
        return s_date_fail (why, "impossible date: the year is outside 1900-2999");
    if (day < 1 || day > s_days_in (year, month))
        return s_date_fail (why, "impossible date: the month has no such day");
    //  The ranges were checked above; the casts tell the compiler so
    snprintf (out, 11, "%04u-%02u-%02u", (unsigned)year % 10000u, (unsigned)month % 100u,
              (unsigned)day % 100u);
    return 0;
}

//  A currency symbol or code at s; returns its length and sets code.
static size_t s_currency_at (const char *s, char code[4])
{
    static const struct {
        const char *text;
        const char *code;
    } symbols[] = {{"\xC2\xA3", "GBP"}, {"$", "USD"},   {"\xE2\x82\xAC", "EUR"},
                   {"\xC2\xA5", "JPY"}, {"GBP", "GBP"}, {"EUR", "EUR"},
                   {"USD", "USD"},      {"CHF", "CHF"}, {"JPY", "JPY"}};
    for (size_t i = 0; i < sizeof symbols / sizeof symbols[0]; i++) {
        size_t len = strlen (symbols[i].text);
        if (strncmp (s, symbols[i].text, len) == 0) {
            memcpy (code, symbols[i].code, 4);
            return len;
        }
    }
    return 0;
}

//  Why an amount is refused, into why (why_size bytes); returns -1.
static int s_money_fail (char *why, size_t why_size, const char *text)
{
    snprintf (why, why_size, "%s", text);
    return -1;
}

//  Read an amount whose decimal mark is decimal ('.' or ','); the other of
//  the two, a space, an apostrophe or a no-break space separate thousands.
//  strict: a separator is followed by exactly three digits (1,234 but not
//  1,2); not strict: separators are skipped wherever they are (only to say
//  what a misplaced one would have made).
static int s_money_read (const char *text, const portio_csv_money_options_t *options, char decimal,
                         bool strict, int64_t *minor, char currency[4], char *why, size_t why_size)
{
    char buf[80];
    *minor = 0;
    currency[0] = 0;
    if (text && strlen (text) > 70)
        return s_money_fail (why, why_size, "not an amount (too long)");
    const char *s = s_trim (text, buf, sizeof buf);
    if (portio_csv_blank (s))
        return 1;
    const char thousands = decimal == ',' ? '.' : ',';
    bool negative = false, parens = false;
    if (*s == '(') {
        parens = negative = true;
        s++;
    }
    if (*s == '-' || *s == '+') {
        negative = *s == '-';
        s++;
    }
    s += s_currency_at (s, currency);
    while (*s == ' ')
        s++;
    if (*s == '-' && !negative) {
        negative = true; //  "£-12.00"
        s++;
    }
    //  Digits with thousands separators, then decimals
    uint64_t mantissa = 0;
    int decimals = -1, digits = 0;
    int group = -1; //  digits since the last thousands separator; -1 before the first
    for (;; s++) {
        if (isdigit ((unsigned char)*s)) {
            if (mantissa > (UINT64_MAX - 9) / 10)
                return s_money_fail (why, why_size, "amount out of range");
            mantissa = mantissa * 10 + (uint64_t)(*s - '0');
            digits++;
            if (decimals >= 0)
                decimals++;
            else if (group >= 0)
                group++;
            continue;
        }
        bool separator = false;
        if (*s == decimal && decimals < 0)
            decimals = 0;
        else if ((*s == thousands || *s == ' ' || *s == '\'') && decimals < 0 && digits &&
                 isdigit ((unsigned char)s[1]))
            separator = true;
        else if ((uint8_t)s[0] == 0xC2 && (uint8_t)s[1] == 0xA0 && decimals < 0 && digits) {
            s++; //  a no-break space as the thousands separator
            separator = true;
        } else
            break;
        if (strict && group >= 0 && group != 3)
            return s_money_fail (why, why_size,
                                 "not an amount: a thousands separator is followed by 3 digits");
        if (separator)
            group = 0;
    }
    if (strict && group >= 0 && group != 3 && decimals < 0)
        return s_money_fail (why, why_size,
                             "not an amount: a thousands separator is followed by 3 digits");
    if (!digits)
        return s_money_fail (why, why_size, "not an amount: no digits");
    //  Suffixes: k, m, bn (thousands, millions, billions)
    uint64_t multiplier = 1;
    while (*s == ' ')
        s++;
    if (strncasecmp (s, "bn", 2) == 0)
        multiplier = 1000000000, s += 2;
    else if (*s == 'm' || *s == 'M')
        multiplier = 1000000, s++;
    else if (*s == 'k' || *s == 'K')
        multiplier = 1000, s++;
    while (*s == ' ')
        s++;
    if (!currency[0])
        s += s_currency_at (s, currency);
    while (*s == ' ')
        s++;
    if (parens) {
        if (*s != ')')
            return s_money_fail (why, why_size, "not an amount: '(' without ')'");
        s++;
    }
    if (*s)
        return s_money_fail (why, why_size, "not an amount: unexpected text after the number");
    //  minor = mantissa / 10^decimals * multiplier * scale * 10^minor_digits,
    //  which must come out whole: all in integers.
    uint64_t scale = options && options->scale > 0 ? (uint64_t)options->scale : 1;
    unsigned minor_digits = options ? options->minor_digits : 2;
    uint64_t value = mantissa, factor = multiplier;
    if (__builtin_mul_overflow (factor, scale, &factor))
        return s_money_fail (why, why_size, "amount out of range");
    for (unsigned d = 0; d < minor_digits; d++)
        if (__builtin_mul_overflow (factor, 10, &factor))
            return s_money_fail (why, why_size, "amount out of range");
    int dec = decimals < 0 ? 0 : decimals;
    //  Cancel powers of ten between the factor and the decimals first
    while (dec > 0 && factor % 10 == 0) {
        factor /= 10;
        dec--;
    }
    while (dec > 0) {
        if (value % 10)
            return s_money_fail (why, why_size,
                                 "more decimals than the currency's minor unit holds");
        value /= 10;
        dec--;
    }
    if (__builtin_mul_overflow (value, factor, &value) || value > ((uint64_t)1 << 53))
        return s_money_fail (why, why_size, "amount out of range (above 2^53 minor units)");
    *minor = negative ? -(int64_t)value : (int64_t)value;
    return 0;
}

//  With the decimal mark not given, the two forms that read two ways:
//  '1,2' (one comma, not followed by 3 digits, no point: 1.2 with a
//  decimal comma, 12 if the comma were a misplaced thousands separator)
//  and '1.234' (one point followed by exactly 3 digits, no comma: 1.234,
//  or 1234 with the point separating thousands). Returns the separator
//  that makes it ambiguous, 0 if it reads one way only.
static char s_money_ambiguous (const char *text)
{
    size_t commas = 0, points = 0, after = 0;
    char last = 0;
    for (const char *s = text; *s; s++) {
        if (*s == ',' || *s == '.') {
            commas += *s == ',';
            points += *s == '.';
            last = *s;
            after = 0;
        } else if (isdigit ((unsigned char)*s))
            after++;
        else if (last && after)
            break; //  the number ended ("1,2m")
    }
    if (commas == 1 && points == 0 && after && after != 3)
        return ',';
    if (points == 1 && commas == 0 && after == 3)
        return '.';
    return 0;
}

//  One reading of an amount for a problem: "1200000.00", or why it fails.
static void s_money_reading (const char *text, const portio_csv_money_options_t *options,
                             char decimal, bool strict, char *out, size_t size)
{
    int64_t minor;
    char currency[4], why[128];
    unsigned minor_digits = options ? options->minor_digits : 2;
    if (s_money_read (text, options, decimal, strict, &minor, currency, why, sizeof why) == 0) {
        char figure[40];
        snprintf (out, size, "%s",
                  portio_csv_format_minor (minor, minor_digits, figure, sizeof figure));
    } else
        snprintf (out, size, "no amount (%s)", why);
}

int portio_csv_parse_money (const char *text, const portio_csv_money_options_t *options,
                            int64_t *minor, char currency[4], char *why, size_t why_size)
{
    portio_csv_decimal_t mark = options ? options->decimal : PORTIO_CSV_DECIMAL_AUTO;
    if (mark == PORTIO_CSV_DECIMAL_AUTO && text && strlen (text) <= 70 &&
        !portio_csv_blank (text)) {
        char separator = s_money_ambiguous (text);
        if (separator) {
            //  Both readings, in major units, and how to choose
            char as_decimal[160], as_thousands[160];
            s_money_reading (text, options, separator, true, as_decimal, sizeof as_decimal);
            s_money_reading (text, options, separator == ',' ? '.' : ',', separator == '.',
                             as_thousands, sizeof as_thousands);
            *minor = 0;
            currency[0] = 0;
            snprintf (why, why_size,
                      "an amount that reads two ways: %s with '%c' as the decimal mark, or %s "
                      "with '%c' separating thousands; say which in the mapping with "
                      "\"decimal_comma\": %s",
                      as_decimal, separator, as_thousands, separator,
                      separator == ',' ? "true (or false)" : "false (or true)");
            return -1;
        }
    }
    return s_money_read (text, options, mark == PORTIO_CSV_DECIMAL_COMMA ? ',' : '.', true, minor,
                         currency, why, why_size);
}

const char *portio_csv_format_minor (int64_t minor, unsigned minor_digits, char *buf, size_t size)
{
    uint64_t magnitude = minor < 0 ? (uint64_t)0 - (uint64_t)minor : (uint64_t)minor;
    uint64_t unit = 1;
    for (unsigned d = 0; d < minor_digits; d++)
        unit *= 10;
    if (minor_digits)
        snprintf (buf, size, "%s%llu.%0*llu", minor < 0 ? "-" : "",
                  (unsigned long long)(magnitude / unit), (int)minor_digits,
                  (unsigned long long)(magnitude % unit));
    else
        snprintf (buf, size, "%s%llu", minor < 0 ? "-" : "", (unsigned long long)magnitude);
    return buf;
}

//  ---------------------------------------------------------------------
//  Writing

struct _portio_csv_writer_t {
    char *data;
    size_t size, max;
    char delimiter;
    bool row_started; //  a field was written in this row
};

static void s_append (portio_csv_writer_t *self, const char *text, size_t len)
{
    if (self->size + len + 1 > self->max) {
        while (self->size + len + 1 > self->max)
            self->max *= 2;
        self->data = realloc (self->data, self->max);
        assert (self->data);
    }
    memcpy (self->data + self->size, text, len);
    self->size += len;
    self->data[self->size] = 0;
}

portio_csv_writer_t *portio_csv_writer_new (char delimiter, bool bom)
{
    portio_csv_writer_t *self = calloc (1, sizeof (portio_csv_writer_t));
    assert (self);
    self->max = 4096;
    self->data = malloc (self->max);
    assert (self->data);
    self->data[0] = 0;
    self->delimiter = delimiter ? delimiter : ',';
    if (bom)
        s_append (self, "\xEF\xBB\xBF", 3);
    return self;
}

void portio_csv_writer_destroy (portio_csv_writer_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        free ((*self_p)->data);
        free (*self_p);
        *self_p = NULL;
    }
}

static bool s_formula_start (char c)
{
    return c == '=' || c == '+' || c == '-' || c == '@' || c == '\t' || c == '\r';
}

//  [+-]digits[.digits]: a spreadsheet reads it as a number, never a formula.
static bool s_plain_number (const char *text)
{
    const char *p = text + (*text == '-' || *text == '+');
    if (*p < '0' || *p > '9')
        return false;
    while (*p >= '0' && *p <= '9')
        p++;
    if (*p == '.') {
        p++;
        if (*p < '0' || *p > '9')
            return false;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    return *p == 0;
}

bool portio_csv_formula_guarded (const char *text)
{
    //  Apostrophes first too: so that "'=x" is written "''=x" and reads
    //  back as itself (the reader takes exactly one off)
    const char *p = text;
    while (*p == '\'')
        p++;
    return s_formula_start (*p) && !(p == text && s_plain_number (text));
}

void portio_csv_writer_field (portio_csv_writer_t *self, const char *text)
{
    if (self->row_started)
        s_append (self, &self->delimiter, 1);
    self->row_started = true;
    if (!text || !*text)
        return;
    char *guarded = NULL;
    if (portio_csv_formula_guarded (text)) {
        guarded = malloc (strlen (text) + 2);
        assert (guarded);
        guarded[0] = '\'';
        strcpy (guarded + 1, text);
        text = guarded;
    }
    size_t len = strlen (text);
    //  Quote only when a reader would otherwise split or trim the cell
    bool quote = text[0] == ' ' || text[len - 1] == ' ' || strpbrk (text, "\"\r\n") ||
                 strchr (text, self->delimiter);
    if (!quote) {
        s_append (self, text, len);
        free (guarded);
        return;
    }
    s_append (self, "\"", 1);
    for (const char *p = text; *p;) {
        const char *q = strchr (p, '"');
        size_t run = q ? (size_t)(q - p) : strlen (p);
        s_append (self, p, run);
        if (!q)
            break;
        s_append (self, "\"\"", 2);
        p = q + 1;
    }
    s_append (self, "\"", 1);
    free (guarded);
}

void portio_csv_writer_end_row (portio_csv_writer_t *self)
{
    s_append (self, "\r\n", 2);
    self->row_started = false;
}

void portio_csv_writer_row (portio_csv_writer_t *self, const char *const *fields, size_t n)
{
    for (size_t i = 0; i < n; i++)
        portio_csv_writer_field (self, fields[i]);
    portio_csv_writer_end_row (self);
}

const char *portio_csv_writer_data (portio_csv_writer_t *self, size_t *size)
{
    if (size)
        *size = self->size;
    return self->data;
}
