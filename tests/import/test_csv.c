/*  test_csv.c: portio_csv on its own: encodings, delimiters, quoting, row
    positions, dates, money, blanks and withheld markers, and writing what
    reads back the same.
*/
#include "portio_csv.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

static portio_csv_t *s_parse (pmo_arena_t *arena, const char *text)
{
    return portio_csv_parse (text, strlen (text), NULL, arena);
}

static void s_test_reading (void)
{
    pmo_arena_t *arena = pmo_arena_new ();
    //  Windows-1252: the pound sign is 0xA3, the euro 0x80, curly quotes 0x93/0x94
    portio_csv_t *csv = s_parse (arena, "a,b\r\n\xA3"
                                        "12,\x80 \x93hi\x94\r\n");
    assert (csv->encoding == PORTIO_CSV_CP1252 && csv->delimiter == ',');
    assert (csv->n_records == 2);
    assert (strcmp (csv->records[1].fields[0], "\xC2\xA3"
                                               "12") == 0);
    assert (strcmp (csv->records[1].fields[1], "\xE2\x82\xAC \xE2\x80\x9Chi\xE2\x80\x9D") == 0);
    //  UTF-8 with a BOM; semicolons; quoted delimiters, quotes and line breaks
    csv = s_parse (arena, "\xEF\xBB\xBFname;note\n\"a;b\";\"say \"\"hi\"\"\nthere\"\nc;\xC2\xA3\n");
    assert (csv->bom && csv->encoding == PORTIO_CSV_UTF8 && csv->delimiter == ';');
    assert (strcmp (csv->records[1].fields[0], "a;b") == 0);
    assert (strcmp (csv->records[1].fields[1], "say \"hi\"\nthere") == 0);
    assert (csv->records[1].line == 2 && csv->records[2].line == 4);
    //  Tabs
    csv = s_parse (arena, "a\tb\tc\n1\t2\t3\n");
    assert (csv->delimiter == '\t' && csv->records[1].n_fields == 3);
    //  A blank line is a row with no fields (rows count as a spreadsheet shows them)
    csv = s_parse (arena, "a\n\nb\n");
    assert (csv->n_records == 3 && csv->records[1].n_fields == 0);
    //  Problems: text after a closing quote, a quote never closed, bytes that are not text
    csv = s_parse (arena, "a,b\n\"x\"y,1\n2,\"open\n3,4\n");
    assert (csv->records[1].problem && csv->records[1].problem_field == 1);
    assert (csv->records[2].problem && strstr (csv->records[2].problem, "never closed"));
    assert (csv->records[2].problem_field == 2);
    csv = s_parse (arena, "a,b\n\xC3\xA9t\xC3\xA9,ok\nbad\xA3,1\n");
    assert (csv->encoding == PORTIO_CSV_UTF8 && !csv->records[1].problem);
    assert (csv->records[2].problem && csv->records[2].problem_field == 1);
    csv = s_parse (arena, "a\nnul\x01here\n");
    assert (csv->records[1].problem && strstr (csv->records[1].problem, "control"));
    //  Windows-1252 leaves 0x81 undefined
    csv = portio_csv_parse ("a\n\x81\n", 4, &(portio_csv_options_t){PORTIO_CSV_CP1252, 0}, arena);
    assert (csv->records[1].problem);
    //  UTF-16 is refused as a whole
    csv = portio_csv_parse ("\xFF\xFE"
                            "a\0",
                            4, NULL, arena);
    assert (csv->problem);
    pmo_arena_destroy (&arena);
}

static void s_date (const char *text, portio_csv_date_order_t order, int expect, const char *iso)
{
    char out[11];
    const char *why = NULL;
    int rc = portio_csv_parse_date (text, order, PORTIO_CSV_PIVOT_DEFAULT, out, NULL, &why);
    if (rc != expect || (rc == 0 && strcmp (out, iso) != 0)) {
        fprintf (stderr, "date '%s': rc %d out '%s' why '%s' (expected %d %s)\n", text, rc, out,
                 why ? why : "", expect, iso ? iso : "");
        assert (0);
    }
}

static void s_test_dates (void)
{
    s_date ("2040-12-31", PORTIO_CSV_DMY, 0, "2040-12-31");
    s_date ("2040/12/31", PORTIO_CSV_DMY, 0, "2040-12-31");
    s_date ("2019-03-31T00:00:00Z", PORTIO_CSV_DMY, 0, "2019-03-31");
    s_date ("31.12.40", PORTIO_CSV_DMY, 0, "2040-12-31");
    s_date ("30.06.08", PORTIO_CSV_DMY, 0, "2008-06-30");
    s_date ("01.01.70", PORTIO_CSV_DMY, 0, "1970-01-01"); //  the pivot
    s_date ("31.12.69", PORTIO_CSV_DMY, 0, "2069-12-31");
    s_date ("31/12/2040", PORTIO_CSV_DMY, 0, "2040-12-31");
    s_date ("12/31/2040", PORTIO_CSV_MDY, 0, "2040-12-31");
    s_date ("1-2-2024", PORTIO_CSV_DMY, 0, "2024-02-01");
    s_date ("31 Dec 2040", PORTIO_CSV_DMY, 0, "2040-12-31");
    s_date ("31-Dec-40", PORTIO_CSV_DMY, 0, "2040-12-31");
    s_date ("1st September 2019", PORTIO_CSV_DMY, 0, "2019-09-01");
    s_date ("December 31, 2040", PORTIO_CSV_DMY, 0, "2040-12-31");
    s_date ("29.02.24", PORTIO_CSV_DMY, 0, "2024-02-29");
    s_date ("", PORTIO_CSV_DMY, 1, NULL);
    s_date ("Not provided", PORTIO_CSV_DMY, 1, NULL);
    s_date (" n/a ", PORTIO_CSV_DMY, 1, NULL);
    s_date ("31.02.19", PORTIO_CSV_DMY, -1, NULL);
    s_date ("29.02.23", PORTIO_CSV_DMY, -1, NULL);
    s_date ("12/31/2040", PORTIO_CSV_DMY, -1, NULL); //  no 31st month
    s_date ("32.01.20", PORTIO_CSV_DMY, -1, NULL);
    s_date ("31.12.1840", PORTIO_CSV_DMY, -1, NULL);
    s_date ("soon", PORTIO_CSV_DMY, -1, NULL);
    s_date ("31.12.240", PORTIO_CSV_DMY, -1, NULL);
}

static void s_money (const char *text, int64_t scale, bool comma, int expect, int64_t minor,
                     const char *currency)
{
    portio_csv_money_options_t options = {
        comma ? PORTIO_CSV_DECIMAL_COMMA : PORTIO_CSV_DECIMAL_POINT, scale, 2};
    int64_t out;
    char code[4];
    char why[512] = "";
    int rc = portio_csv_parse_money (text, &options, &out, code, why, sizeof why);
    if (rc != expect || (rc == 0 && (out != minor || strcmp (code, currency) != 0))) {
        fprintf (stderr, "money '%s': rc %d minor %lld '%s' why '%s'\n", text, rc, (long long)out,
                 code, why);
        assert (0);
    }
}

static void s_test_money (void)
{
    s_money ("\xC2\xA3"
             "12,343.96",
             1000000, false, 0, 1234396000000LL, "GBP");
    s_money ("12343.96", 1, false, 0, 1234396, "");
    s_money ("(1,200)", 1, false, 0, -120000, "");
    s_money ("-\xC2\xA3"
             "5.5",
             1, false, 0, -550, "GBP");
    s_money ("1.234,56 \xE2\x82\xAC", 1, true, 0, 123456, "EUR");
    s_money ("GBP 3.5m", 1, false, 0, 350000000, "GBP");
    s_money ("$2bn", 1, false, 0, 200000000000LL, "USD");
    s_money ("0.1", 1000000, false, 0, 10000000, "");
    s_money ("", 1, false, 1, 0, "");
    s_money ("Exempt under Section 43", 1, false, -1, 0, "");
    s_money ("12.345", 1, false, -1, 0, "");   //  more decimals than pence
    s_money ("12.340", 1, false, 0, 1234, ""); //  ... unless they are zeros
    s_money ("12.3.4", 1, false, -1, 0, "");
    s_money ("(12", 1, false, -1, 0, "");
    s_money ("99999999999999999", 1, false, -1, 0, ""); //  above 2^53 minor units
    //  With the decimal mark unset, the forms that read two ways are refused
    //  with both readings; the others read as before
    portio_csv_money_options_t unset = {PORTIO_CSV_DECIMAL_AUTO, 1000000, 2};
    int64_t minor;
    char code[4], why[512];
    assert (portio_csv_parse_money ("\xC2\xA3"
                                    "1,2m",
                                    &unset, &minor, code, why, sizeof why) == -1);
    assert (strstr (why, "1200000000000.00 with ','") && strstr (why, "12000000000000.00"));
    assert (portio_csv_parse_money ("1.234", &unset, &minor, code, why, sizeof why) == -1);
    assert (strstr (why, "1234000.00 with '.'") && strstr (why, "1234000000.00 with '.'"));
    assert (portio_csv_parse_money ("\xC2\xA3"
                                    "12,343.96",
                                    &unset, &minor, code, why, sizeof why) == 0 &&
            minor == 1234396000000LL);
    assert (portio_csv_parse_money ("1,234", &unset, &minor, code, why, sizeof why) == 0 &&
            minor == 123400000000LL);
    assert (portio_csv_parse_money ("0.5", &unset, &minor, code, why, sizeof why) == 0 &&
            minor == 50000000LL);
    //  Said: a misplaced separator is a problem, not a tenfold amount
    s_money ("1,2m", 1, false, -1, 0, "");
    s_money ("1,2m", 1, true, 0, 120000000, "");
    s_money ("1.234", 1, true, 0, 123400, "");
    bool two = false;
    char iso[11];
    const char *reason;
    assert (portio_csv_parse_date ("31.12.40", PORTIO_CSV_DMY, 70, iso, &two, &reason) == 0 &&
            two && strcmp (iso, "2040-12-31") == 0);
    assert (portio_csv_parse_date ("31.12.2040", PORTIO_CSV_DMY, 70, iso, &two, &reason) == 0 &&
            !two);
    assert (strcmp (portio_csv_blank_marker (" TBC "), "tbc") == 0 &&
            strcmp (portio_csv_withheld_marker ("Exempt under Section 43"), "exempt") == 0);
    char buf[40];
    assert (strcmp (portio_csv_format_minor (1234396000000LL, 2, buf, sizeof buf),
                    "12343960000.00") == 0);
    assert (strcmp (portio_csv_format_minor (-5, 2, buf, sizeof buf), "-0.05") == 0);
    assert (portio_csv_withheld ("Exempt under Section 26 of Freedom of Information Act 2000"));
    assert (portio_csv_withheld ("Exemption under Section 24 (National Security)"));
    assert (!portio_csv_withheld ("Amber/Green"));
    assert (portio_csv_blank ("TBC") && portio_csv_blank ("  ") && !portio_csv_blank ("0"));
}

static void s_test_writing (void)
{
    portio_csv_writer_t *w = portio_csv_writer_new (',', true);
    const char *row[] = {"plain",
                         "a,b",
                         "say \"hi\"",
                         "two\nlines",
                         " padded",
                         "",
                         "\xC2\xA3"
                         "1"};
    portio_csv_writer_row (w, row, 7);
    size_t size;
    const char *data = portio_csv_writer_data (w, &size);
    assert (strcmp (data,
                    "\xEF\xBB\xBFplain,\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\",\" padded\",,"
                    "\xC2\xA3"
                    "1\r\n") == 0);
    pmo_arena_t *arena = pmo_arena_new ();
    portio_csv_t *csv = portio_csv_parse (data, size, NULL, arena);
    assert (csv->n_records == 1 && csv->records[0].n_fields == 7);
    for (size_t i = 0; i < 7; i++)
        assert (strcmp (csv->records[0].fields[i], row[i]) == 0);
    pmo_arena_destroy (&arena);
    portio_csv_writer_destroy (&w);
}

//  OWASP CSV injection: cells a spreadsheet would run as formulas are
//  written as text (an apostrophe first) and read back unchanged.
static void s_test_formulas (void)
{
    portio_csv_writer_t *w = portio_csv_writer_new (',', false);
    const char *row[] = {"=HYPERLINK(\"http://evil\",\"x\")",
                         "+cmd|' /C calc'!A0",
                         "-2+3+cmd|' /C calc'!A0",
                         "@SUM(1+1)*cmd|' /C calc'!A0",
                         "\t=1",
                         "\r=1",
                         "'=already",
                         "-12.50",
                         "+7",
                         "-",
                         "'quoted",
                         "a=b"};
    size_t n = sizeof row / sizeof row[0];
    portio_csv_writer_row (w, row, n);
    size_t size;
    const char *data = portio_csv_writer_data (w, &size);
    assert (strcmp (data, "\"'=HYPERLINK(\"\"http://evil\"\",\"\"x\"\")\",'+cmd|' /C calc'!A0,"
                          "'-2+3+cmd|' /C calc'!A0,'@SUM(1+1)*cmd|' /C calc'!A0,'\t=1,"
                          "\"'\r=1\",''=already,-12.50,+7,'-,'quoted,a=b\r\n") == 0 ||
            !fprintf (stderr, "%s\n", data));
    pmo_arena_t *arena = pmo_arena_new ();
    portio_csv_t *csv = portio_csv_parse (data, size, NULL, arena);
    assert (csv->n_records == 1 && csv->records[0].n_fields == n);
    for (size_t i = 0; i < n; i++)
        assert (strcmp (csv->records[0].fields[i], row[i]) == 0);
    pmo_arena_destroy (&arena);
    portio_csv_writer_destroy (&w);
}

int main (void)
{
    s_test_reading ();
    s_test_dates ();
    s_test_money ();
    s_test_writing ();
    s_test_formulas ();
    printf ("portio_csv: ok\n");
    return 0;
}
