/*  portio_csv.h: spreadsheets as people really save them (RFC 4180 and worse).

    Reading: the bytes of a whole file become records of UTF-8 fields. The
    encoding is detected (a UTF-8 BOM or valid UTF-8 throughout: UTF-8; bytes
    that are not UTF-8 and no UTF-8 sequence at all: Windows-1252, which is
    what Excel on Windows saves and a superset of Latin-1 for text; both
    valid UTF-8 sequences and invalid bytes: UTF-8 with errors in the cells
    that hold the invalid bytes). The delimiter is detected from the header
    line (comma, semicolon or tab, whichever occurs most outside quotes).
    Quoted fields may hold delimiters, doubled quotes and line breaks.

    Nothing in a file is trusted: a record that cannot be read exactly (a
    quote never closed, text after a closing quote, bytes that are not text)
    carries a problem that names the field, and the parser goes on with the
    next record, so one bad row never hides the others. Rows are counted as
    a spreadsheet shows them: the header is row 1, and a blank line is a row.

    Values: dates (ISO, dd.mm.yy, dd/mm/yyyy, d Mon yyyy, Mon d, yyyy ...),
    money (£12,343.96, 12343.96, (1,200), 1.234,56 with a decimal comma, 3.5m)
    to minor units exactly (integer arithmetic, never floating point), and
    the markers that stand for "no value" or "withheld" in published data.

    Writing: fields quoted only when they must be, CRLF line ends (RFC 4180),
    an optional UTF-8 BOM so that Excel shows £ correctly.

    Everything read lives in the caller's arena.
*/
#ifndef PORTIO_CSV_H_INCLUDED
#define PORTIO_CSV_H_INCLUDED

#include "pmo_util.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
    PORTIO_CSV_AUTO = 0,   //  detect (see above)
    PORTIO_CSV_UTF8 = 1,   //  UTF-8; invalid bytes are problems
    PORTIO_CSV_CP1252 = 2, //  Windows-1252 (Latin-1 with the 0x80-0x9F extras)
} portio_csv_encoding_t;

typedef struct {
    portio_csv_encoding_t encoding; //  AUTO detects
    char delimiter;                 //  0 detects: ',', ';' or '\t'
} portio_csv_options_t;

typedef struct {
    size_t line;          //  physical line (1-based) the record starts on
    size_t n_fields;      //  0 for a blank line
    char **fields;        //  UTF-8, NUL-terminated
    const char *problem;  //  why the record cannot be trusted; NULL if it can
    size_t problem_field; //  the 1-based field of the problem; 0 = the whole row
} portio_csv_record_t;

typedef struct {
    portio_csv_encoding_t encoding; //  the one detected (or given)
    char delimiter;                 //  the one detected (or given)
    bool bom;                       //  the file started with a UTF-8 BOM
    const char *problem;            //  the file as a whole cannot be read (e.g. UTF-16)
    size_t n_records;
    portio_csv_record_t *records; //  records[0] is the header, row 1
} portio_csv_t;

//  Parse a whole file. Never returns NULL; all of it lives in arena.
portio_csv_t *portio_csv_parse (const void *data, size_t size, const portio_csv_options_t *options,
                                pmo_arena_t *arena);
//  "utf-8", "windows-1252"
const char *portio_csv_encoding_name (portio_csv_encoding_t encoding);
//  Parse "auto", "utf-8", "utf8", "windows-1252", "cp1252", "latin-1" ...;
//  -1 if unknown.
int portio_csv_encoding_parse (const char *name, portio_csv_encoding_t *encoding);

//  ---------------------------------------------------------------------
//  Values. Each parser returns 0 (a value), 1 (blank: empty, or a marker
//  such as "n/a", "-", "not provided", "TBC") or -1 with *why saying what
//  is wrong for people.

//  True for a blank marker (see above), after trimming spaces.
bool portio_csv_blank (const char *text);
//  The blank marker text is ("tbc", "n/a" ...; "" for an empty cell), NULL
//  if it is none. Static text.
const char *portio_csv_blank_marker (const char *text);
//  True if the text says the value was withheld from publication
//  ("Exempt under Section 43 of the Freedom of Information Act 2000",
//  "Exemption under ...", "redacted", "withheld", "not for publication").
bool portio_csv_withheld (const char *text);
//  The word that says so ("exempt", "redacted" ...), NULL if none. Static text.
const char *portio_csv_withheld_marker (const char *text);

typedef enum {
    PORTIO_CSV_DMY = 0, //  day first: 31/12/2040 (UK, Europe); the default
    PORTIO_CSV_MDY = 1, //  month first: 12/31/2040 (US)
} portio_csv_date_order_t;

//  Two-digit years yy < pivot are 20yy, others 19yy. The default pivot 70
//  maps 00-69 to 2000-2069 and 70-99 to 1970-1999: plans run decades ahead
//  (GMPP's geological disposal facility: 31.12.40 is 2040), and projects
//  that started before 1970 do not come in spreadsheets with two-digit years.
#define PORTIO_CSV_PIVOT_DEFAULT 70

//  A date into out as "YYYY-MM-DD". Accepts YYYY-MM-DD (also with / or .,
//  and with a time after it), D.M.YY(YY), D/M/YY(YY), D-M-YY(YY) in the
//  given order, "31 Dec 2040", "31-Dec-40", "31st December 2040",
//  "December 31, 2040". A date that does not exist (31.02.19) is refused.
//  *two_digit_year (if not NULL) says whether the pivot decided the century.
int portio_csv_parse_date (const char *text, portio_csv_date_order_t order, int pivot, char out[11],
                           bool *two_digit_year, const char **why);

//  The decimal mark of amounts. AUTO reads a point as the decimal mark and
//  a comma as the thousands separator, and refuses the two forms that read
//  two ways ("1,2m": 1.2m or 12m; "1.234": 1.234 or 1234) naming both.
typedef enum {
    PORTIO_CSV_DECIMAL_AUTO = 0,
    PORTIO_CSV_DECIMAL_POINT = 1, //  1,234.56
    PORTIO_CSV_DECIMAL_COMMA = 2, //  1.234,56
} portio_csv_decimal_t;

typedef struct {
    portio_csv_decimal_t decimal; //  the decimal mark
    int64_t scale;                //  the unit of the figures: 1 (pounds), 1000000 (£m); 0 = 1
    unsigned minor_digits;        //  digits of the minor unit: 2 for GBP, EUR, USD; 0 for JPY
} portio_csv_money_options_t;

//  An amount to minor units: "£12,343.96" with scale 1000000 is
//  1234396000000 pence. Signs, (1,200) for negatives, a currency symbol
//  (£ $ €) or code (GBP) before or after, thousands separators, and the
//  suffixes k, m, bn are accepted; a thousands separator is followed by
//  exactly 3 digits. currency (4 bytes) receives the code the text names,
//  "" if none. An amount with more decimals than the minor unit holds,
//  beyond 2^53 minor units, or that reads two ways (see
//  portio_csv_decimal_t) is refused, with the reason (both readings) in why.
int portio_csv_parse_money (const char *text, const portio_csv_money_options_t *options,
                            int64_t *minor, char currency[4], char *why, size_t why_size);

//  Minor units as a plain decimal for a spreadsheet: 1234396000000 with two
//  minor digits is "12343960000.00". Writes into buf (at least 32 bytes).
const char *portio_csv_format_minor (int64_t minor, unsigned minor_digits, char *buf, size_t size);

//  ---------------------------------------------------------------------
//  Writing

typedef struct _portio_csv_writer_t portio_csv_writer_t;

//  A CSV document in memory. bom: start with the UTF-8 BOM (for Excel).
portio_csv_writer_t *portio_csv_writer_new (char delimiter, bool bom);
void portio_csv_writer_destroy (portio_csv_writer_t **self_p);
//  Add a field to the current row (NULL is written as empty).
void portio_csv_writer_field (portio_csv_writer_t *self, const char *text);
//  A cell that begins with = + - @ tab or CR (after any apostrophes) is
//  written with an apostrophe before it, so that a spreadsheet shows it as
//  text instead of running it as a formula (OWASP "CSV injection"); a
//  plain number such as -12.50 is left as it is. The reader takes that
//  apostrophe off again, so an export imports back unchanged.
bool portio_csv_formula_guarded (const char *text);
//  End the current row (CRLF).
void portio_csv_writer_end_row (portio_csv_writer_t *self);
//  Add a whole row of n fields.
void portio_csv_writer_row (portio_csv_writer_t *self, const char *const *fields, size_t n);
//  The document so far, owned by the writer (NUL-terminated).
const char *portio_csv_writer_data (portio_csv_writer_t *self, size_t *size);

#endif
