/*  portio_xlsx.c: Excel workbooks both ways (see portio_xlsx.h).

    Writing goes through the CSV of the export format (or of the report's
    tables), so that a workbook holds exactly what a CSV export holds and
    imports back the same way; here the cells only get their types.
    libxlsxwriter 1.1 writes to a file, so the workbook is written to a
    temporary file and read back.

    Reading runs xlsx2csv (Debian's package of the maintained Python
    reader) on a temporary copy of the workbook: a spreadsheet's ZIP and
    XML are not parsed here. It runs as a child process with posix_spawn,
    which is safe from the gateway's job threads.
*/
#include "portio_xlsx.h"
#include "portio_internal.h"

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <xlsxwriter.h>

extern char **environ;

#define WIDTH_MIN    8  //  characters of a column at least
#define WIDTH_MAX    60 //  ... and at most (longer text wraps in the cell when edited)
#define FORMATS_MAX  16 //  currencies in one workbook with their own format
#define CONVERTER    "xlsx2csv"
#define WORKBOOK_MAX (64L * 1024 * 1024)

//  How a column's cells are written.
typedef enum {
    CELL_AUTO = 0,   //  by content: a plain number, an ISO date, else text (report tables)
    CELL_TEXT = 1,   //  as written
    CELL_DATE = 2,   //  YYYY-MM-DD as a date
    CELL_MONEY = 3,  //  a decimal amount as a number in its currency's format
    CELL_NUMBER = 4, //  a number
} cell_kind_t;

//  The formats of one workbook.
typedef struct {
    lxw_workbook *workbook;
    lxw_format *header, *date, *number;
    struct {
        char code[4];
        lxw_format *format;
    } money[FORMATS_MAX];
    size_t n_money;
    lxw_format *money_plain; //  an amount without a currency (or beyond FORMATS_MAX)
} book_t;

bool portio_xlsx_is (const void *data, size_t size)
{
    return size >= 4 && memcmp (data, "PK\x03\x04", 4) == 0;
}

//  ---------------------------------------------------------------------
//  Writing

//  The number format of amounts in currency code.
static lxw_format *s_money_format (book_t *book, const char *code)
{
    if (!code || strlen (code) != 3)
        return book->money_plain;
    for (size_t i = 0; i < book->n_money; i++)
        if (strcmp (book->money[i].code, code) == 0)
            return book->money[i].format;
    if (book->n_money == FORMATS_MAX)
        return book->money_plain;
    static const struct {
        const char *code, *format;
    } known[] = {{"GBP", "\"\xC2\xA3\"#,##0.00"},
                 {"EUR", "\"\xE2\x82\xAC\"#,##0.00"},
                 {"USD", "\"$\"#,##0.00"},
                 {"JPY", "\"\xC2\xA5\"#,##0"}};
    char format[64];
    snprintf (format, sizeof format, "#,##0.00 \"%s\"", code);
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (strcmp (known[i].code, code) == 0)
            snprintf (format, sizeof format, "%s", known[i].format);
    lxw_format *f = workbook_add_format (book->workbook);
    format_set_num_format (f, format);
    memcpy (book->money[book->n_money].code, code, 4);
    book->money[book->n_money++].format = f;
    return f;
}

//  A date YYYY-MM-DD, else false.
static bool s_date (const char *text, lxw_datetime *out)
{
    int y, m, d, used = 0;
    if (strlen (text) != 10 || sscanf (text, "%4d-%2d-%2d%n", &y, &m, &d, &used) != 3 ||
        used != 10 || m < 1 || m > 12 || d < 1 || d > 31 || y < 1900)
        return false;
    *out = (lxw_datetime){y, m, d, 0, 0, 0};
    return true;
}

//  A plain decimal number ("-12.5", "3"), else false. Codes with leading
//  zeros ("007") and long digit strings (ids) stay text.
static bool s_number (const char *text, double *out)
{
    const char *p = text;
    if (*p == '-')
        p++;
    size_t digits = 0;
    if (p[0] == '0' && isdigit ((unsigned char)p[1]))
        return false;
    for (; isdigit ((unsigned char)*p); p++)
        digits++;
    if (*p == '.')
        for (p++; isdigit ((unsigned char)*p); p++)
            digits++;
    if (*p || digits == 0 || digits > 15)
        return false;
    *out = strtod (text, NULL);
    return true;
}

//  The kind of a field of the export format of entity.
static cell_kind_t s_field_kind (const entity_t *entity, const char *path)
{
    const ProtobufCMessageDescriptor *desc = entity->desc;
    const ProtobufCFieldDescriptor *f = NULL;
    char part[64];
    for (const char *p = path; desc;) {
        const char *dot = strchr (p, '.');
        size_t len = dot ? (size_t)(dot - p) : strlen (p);
        snprintf (part, sizeof part, "%.*s", (int)len, p);
        f = protobuf_c_message_descriptor_get_field_by_name (desc, part);
        if (!f || !dot)
            break;
        desc = f->type == PROTOBUF_C_TYPE_MESSAGE ? f->descriptor : NULL;
        p = dot + 1;
    }
    if (!f || f->label == PROTOBUF_C_LABEL_REPEATED)
        return CELL_TEXT;
    switch (f->type) {
    case PROTOBUF_C_TYPE_MESSAGE:
        return f->descriptor == &pmo__money__descriptor ? CELL_MONEY : CELL_TEXT;
    case PROTOBUF_C_TYPE_STRING:
        return portio_import_date_field (f->name) ? CELL_DATE : CELL_TEXT;
    case PROTOBUF_C_TYPE_INT64:
        return strstr (f->name, "_minor") ? CELL_MONEY : CELL_NUMBER;
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_DOUBLE:
    case PROTOBUF_C_TYPE_FLOAT:
        return CELL_NUMBER;
    default:
        return CELL_TEXT;
    }
}

//  One sheet from CSV text; kinds per column (NULL: all CELL_AUTO).
static int s_sheet (book_t *book, const char *name, const char *csv, size_t size,
                    const entity_t *entity, char *why, size_t why_size)
{
    pmo_arena_t *arena = pmo_arena_new ();
    portio_csv_options_t options = {PORTIO_CSV_UTF8, ','};
    portio_csv_t *table = portio_csv_parse (csv, size, &options, arena);
    lxw_worksheet *sheet = workbook_add_worksheet (book->workbook, name);
    if (!sheet || table->problem) {
        snprintf (why, why_size, "sheet %s cannot be written%s%s", name, table->problem ? ": " : "",
                  table->problem ? table->problem : "");
        pmo_arena_destroy (&arena);
        return -1;
    }
    size_t columns = table->n_records ? table->records[0].n_fields : 0;
    cell_kind_t *kinds = pmo_arena_alloc (arena, (columns + 1) * sizeof (cell_kind_t));
    size_t *widths = pmo_arena_alloc (arena, (columns + 1) * sizeof (size_t));
    int currency = -1;
    for (size_t c = 0; c < columns; c++) {
        const char *head = table->records[0].fields[c];
        kinds[c] = entity ? s_field_kind (entity, head) : CELL_AUTO;
        if (strcmp (head, "currency") == 0)
            currency = (int)c;
        widths[c] = strlen (head) + 2;
        worksheet_write_string (sheet, 0, (lxw_col_t)c, head, book->header);
    }
    lxw_row_t row = 1;
    for (size_t r = 1; r < table->n_records; r++) {
        const portio_csv_record_t *record = &table->records[r];
        if (record->n_fields == 0)
            continue;
        const char *code =
            currency >= 0 && (size_t)currency < record->n_fields ? record->fields[currency] : NULL;
        for (size_t c = 0; c < record->n_fields && c < columns; c++) {
            const char *text = record->fields[c];
            if (!*text)
                continue;
            size_t width = strlen (text) + 2;
            lxw_datetime date;
            double number;
            cell_kind_t kind = kinds[c];
            if (kind == CELL_AUTO)
                kind = s_date (text, &date)       ? CELL_DATE
                       : s_number (text, &number) ? CELL_NUMBER
                                                  : CELL_TEXT;
            if (kind == CELL_DATE && s_date (text, &date)) {
                worksheet_write_datetime (sheet, row, (lxw_col_t)c, &date, book->date);
                width = 12;
            } else if (kind == CELL_MONEY && s_number (text, &number)) {
                worksheet_write_number (sheet, row, (lxw_col_t)c, number,
                                        s_money_format (book, code));
                width += width / 3 + 2; //  separators and the symbol
            } else if (kind == CELL_NUMBER && s_number (text, &number))
                worksheet_write_number (sheet, row, (lxw_col_t)c, number, NULL);
            else
                worksheet_write_string (sheet, row, (lxw_col_t)c, text, NULL);
            if (width > widths[c])
                widths[c] = width;
        }
        row++;
    }
    for (size_t c = 0; c < columns; c++) {
        size_t width = widths[c] < WIDTH_MIN   ? WIDTH_MIN
                       : widths[c] > WIDTH_MAX ? WIDTH_MAX
                                               : widths[c];
        worksheet_set_column (sheet, (lxw_col_t)c, (lxw_col_t)c, (double)width, NULL);
    }
    //  The header stays in view, and filters on it
    worksheet_freeze_panes (sheet, 1, 0);
    if (columns && row > 1)
        worksheet_autofilter (sheet, 0, 0, row - 1, (lxw_col_t)(columns - 1));
    pmo_arena_destroy (&arena);
    return 0;
}

//  A file's whole content (caller frees), NULL on failure.
static char *s_slurp (const char *path, size_t *size)
{
    FILE *file = fopen (path, "rb");
    if (!file)
        return NULL;
    char *data = NULL;
    long length = -1;
    if (fseek (file, 0, SEEK_END) == 0 && (length = ftell (file)) >= 0 && length <= WORKBOOK_MAX &&
        fseek (file, 0, SEEK_SET) == 0) {
        data = malloc ((size_t)length + 1);
        assert (data);
        if (fread (data, 1, (size_t)length, file) != (size_t)length) {
            free (data);
            data = NULL;
        } else {
            data[length] = 0;
            *size = (size_t)length;
        }
    }
    fclose (file);
    return data;
}

//  A temporary file's path (suffix: ".xlsx", ".csv" ...), created empty.
static int s_temp (char *path, size_t size, const char *suffix)
{
    const char *dir = getenv ("TMPDIR");
    snprintf (path, size, "%s/pmo-xlsx-XXXXXX%s", dir && *dir ? dir : "/tmp", suffix);
    int fd = mkstemps (path, (int)strlen (suffix));
    if (fd < 0)
        return -1;
    close (fd);
    return 0;
}

typedef struct {
    const char *name;
    const char *csv;
    size_t size;
    const entity_t *entity; //  NULL: cells typed by content
} sheet_t;

//  A workbook of the sheets; the caller frees it. NULL with why.
static char *s_workbook (const sheet_t *sheets, size_t n, size_t *size, char *why, size_t why_size)
{
    char path[512];
    if (s_temp (path, sizeof path, ".xlsx")) {
        snprintf (why, why_size, "no temporary file for the workbook: %s", strerror (errno));
        return NULL;
    }
    book_t book = {0};
    book.workbook = workbook_new (path);
    if (!book.workbook) {
        snprintf (why, why_size, "the workbook cannot be created");
        unlink (path);
        return NULL;
    }
    book.header = workbook_add_format (book.workbook);
    format_set_bold (book.header);
    format_set_bottom (book.header, LXW_BORDER_THIN);
    book.date = workbook_add_format (book.workbook);
    format_set_num_format (book.date, "yyyy-mm-dd");
    book.money_plain = workbook_add_format (book.workbook);
    format_set_num_format (book.money_plain, "#,##0.00");
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = s_sheet (&book, sheets[i].name, sheets[i].csv, sheets[i].size, sheets[i].entity, why,
                      why_size);
    lxw_error closed = workbook_close (book.workbook);
    char *data = NULL;
    if (rc == 0 && closed != LXW_NO_ERROR)
        snprintf (why, why_size, "the workbook cannot be written: %s", lxw_strerror (closed));
    else if (rc == 0 && !(data = s_slurp (path, size)))
        snprintf (why, why_size, "the workbook written cannot be read back");
    unlink (path);
    return data;
}

int portio_xlsx_export (const portio_import_peer_t *peer, const char *entity, const char *org_unit,
                        const Pmo__PortfolioRequest *filter, char **xlsx, size_t *size, char *why,
                        size_t why_size)
{
    *xlsx = NULL;
    char *csv;
    size_t csv_size;
    if (portio_export_filtered (peer, entity, org_unit, filter, false, &csv, &csv_size, why,
                                why_size))
        return -1;
    sheet_t sheet = {entity, csv, csv_size, portio_import_entity (entity)};
    *xlsx = s_workbook (&sheet, 1, size, why, why_size);
    free (csv);
    return *xlsx ? 0 : -1;
}

char *portio_xlsx_report (const portio_report_t *report, size_t *size, char *why, size_t why_size)
{
    const char *const *tables = portio_report_tables ();
    size_t n = 0;
    while (tables[n])
        n++;
    sheet_t *sheets = calloc (n ? n : 1, sizeof (sheet_t));
    assert (sheets);
    for (size_t i = 0; i < n; i++) {
        sheets[i].name = tables[i];
        sheets[i].csv = portio_report_csv (report, tables[i], false, &sheets[i].size);
    }
    char *data = s_workbook (sheets, n, size, why, why_size);
    for (size_t i = 0; i < n; i++)
        free ((char *)sheets[i].csv);
    free (sheets);
    return data;
}

//  ---------------------------------------------------------------------
//  Reading

//  The n characters at s rounded to the 15 significant digits Excel keeps
//  of a number, into out; false if they are not a decimal number (-?d+.d+)
//  of more than 15 significant digits, or would come out in exponent form.
static bool s_excel_number (const char *s, size_t n, char *out, size_t out_size)
{
    size_t i = s[0] == '-', digits = 0, significant = 0;
    bool point = false;
    for (; i < n; i++) {
        if (s[i] == '.' && !point && digits)
            point = true;
        else if (isdigit ((unsigned char)s[i])) {
            digits++;
            significant += significant || s[i] != '0';
        } else
            return false;
    }
    if (!point || s[n - 1] == '.' || significant <= 15 || n >= 64)
        return false;
    char copy[64];
    memcpy (copy, s, n);
    copy[n] = 0;
    snprintf (out, out_size, "%.15g", strtod (copy, NULL));
    return !strchr (out, 'e') && strlen (out) <= n;
}

//  A number cell holds the double as written (libxlsxwriter writes 17
//  significant digits when 16 do not give it back: 66621.35 is
//  "66621.35000000001"); Excel keeps and shows 15, so a cell read as
//  unquoted decimal digits of more than 15 is rounded to 15, in place.
//  Returns the new size.
static size_t s_excel_precision (char *csv, size_t size)
{
    size_t r = 0, w = 0;
    while (r < size) {
        size_t start = r;
        if (csv[r] == '"') {
            //  A quoted cell is text: as it is, "" and all
            csv[w++] = csv[r++];
            while (r < size) {
                char c = csv[w++] = csv[r++];
                if (c == '"' && (r >= size || csv[r] != '"'))
                    break;
                if (c == '"')
                    csv[w++] = csv[r++];
            }
        } else {
            while (r < size && csv[r] != ',' && csv[r] != '\n' && csv[r] != '\r')
                r++;
            char number[64];
            if (r > start && s_excel_number (csv + start, r - start, number, sizeof number)) {
                size_t n = strlen (number);
                memcpy (csv + w, number, n);
                w += n;
            } else {
                memmove (csv + w, csv + start, r - start);
                w += r - start;
            }
        }
        //  Anything up to the cell's end, then the comma or line break
        while (r < size && csv[r] != ',' && csv[r] != '\n' && csv[r] != '\r')
            csv[w++] = csv[r++];
        if (r < size)
            csv[w++] = csv[r++];
    }
    return w;
}

char *portio_xlsx_to_csv (const void *data, size_t size, const char *sheet, size_t *csv_size,
                          char *why, size_t why_size)
{
    if (!portio_xlsx_is (data, size)) {
        snprintf (why, why_size, "not an Excel workbook (.xlsx)");
        return NULL;
    }
    char in[512], out[512], err[520];
    if (s_temp (in, sizeof in, ".xlsx")) {
        snprintf (why, why_size, "no temporary file for the workbook: %s", strerror (errno));
        return NULL;
    }
    if (s_temp (out, sizeof out, ".csv")) {
        snprintf (why, why_size, "no temporary file for the workbook: %s", strerror (errno));
        unlink (in);
        return NULL;
    }
    snprintf (err, sizeof err, "%s.err", out);
    FILE *file = fopen (in, "wb");
    bool written = file && fwrite (data, 1, size, file) == size;
    if (file && fclose (file) != 0)
        written = false;
    char *csv = NULL;
    if (!written)
        snprintf (why, why_size, "the workbook cannot be stored for reading: %s", strerror (errno));
    else {
        //  ISO dates, a comma, numbers without their display format (an
        //  amount shown as "£1,234.50" is 1234.5), the sheet asked for
        char *argv[16];
        size_t n = 0;
        argv[n++] = CONVERTER;
        argv[n++] = "--ignore-formats"; //  takes a list: an option must follow it
        argv[n++] = "float";
        argv[n++] = "--dateformat";
        argv[n++] = "%Y-%m-%d";
        argv[n++] = "--delimiter";
        argv[n++] = ",";
        if (sheet && *sheet) {
            argv[n++] = "--sheetname";
            argv[n++] = (char *)sheet;
        }
        argv[n++] = in;
        argv[n++] = out;
        argv[n] = NULL;
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init (&actions);
        posix_spawn_file_actions_addopen (&actions, 0, "/dev/null", O_RDONLY, 0);
        posix_spawn_file_actions_addopen (&actions, 1, "/dev/null", O_WRONLY, 0);
        posix_spawn_file_actions_addopen (&actions, 2, err, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        pid_t pid;
        int spawned = posix_spawnp (&pid, CONVERTER, &actions, NULL, argv, environ);
        posix_spawn_file_actions_destroy (&actions);
        int status = 0;
        if (spawned != 0)
            snprintf (why, why_size,
                      "the workbook reader (%s, Debian package xlsx2csv) cannot be run: %s",
                      CONVERTER, strerror (spawned));
        else {
            while (waitpid (pid, &status, 0) < 0 && errno == EINTR)
                ;
            size_t err_size = 0;
            char *message = s_slurp (err, &err_size);
            if (!WIFEXITED (status) || WEXITSTATUS (status) != 0) {
                //  The converter's first line says what (no such sheet, not a workbook)
                char empty[1] = "";
                char *first = message ? message : empty;
                first[strcspn (first, "\r\n")] = 0;
                snprintf (why, why_size, "the workbook cannot be read%s%.64s%s%s%.200s",
                          sheet && *sheet ? " (sheet '" : "", sheet && *sheet ? sheet : "",
                          sheet && *sheet ? "')" : "", *first ? ": " : "", first);
            } else if (!(csv = s_slurp (out, csv_size)))
                snprintf (why, why_size, "the workbook's sheet came out unreadable");
            else {
                *csv_size = s_excel_precision (csv, *csv_size);
                csv[*csv_size] = 0;
            }
            free (message);
        }
        if (csv && *csv_size == 0 && sheet && *sheet) {
            free (csv);
            csv = NULL;
            snprintf (why, why_size, "the workbook has no sheet '%.64s' (or it is empty)", sheet);
        }
    }
    unlink (in);
    unlink (out);
    unlink (err);
    return csv;
}
