/*  portio_xlsx.h: Excel workbooks both ways.

    Writing (libxlsxwriter): any register, in the columns of its export
    format, and the portfolio report (a sheet per CSV table), with real
    types: dates as dates, money as numbers in its currency's format,
    counts as numbers, a frozen bold header row and column widths that fit.

    Reading: the sheet of a workbook (the first, or one by name) becomes
    CSV text for portio_import_run, converted by Debian's xlsx2csv (a
    maintained reader of the Office Open XML format; pmo does not parse the
    ZIP and XML of a workbook itself). Dates come out ISO; numbers with a
    decimal point.
*/
#ifndef PORTIO_XLSX_H_INCLUDED
#define PORTIO_XLSX_H_INCLUDED

#include "portio_import.h"
#include "portio_report.h"

#include <stdbool.h>
#include <stddef.h>

//  True if data is a workbook (a ZIP file: .xlsx).
bool portio_xlsx_is (const void *data, size_t size);

//  The sheet called sheet (NULL or "": the first) of the workbook in data
//  as CSV (comma, UTF-8, ISO dates); the caller frees it. NULL with why
//  (no such sheet, not a workbook, the converter missing or failing).
char *portio_xlsx_to_csv (const void *data, size_t size, const char *sheet, size_t *csv_size,
                          char *why, size_t why_size);

//  Every record of entity under org_unit (as portio_export_filtered, the
//  portfolio's filters if filter is not NULL) as a workbook of one sheet; *xlsx is the caller's to
//  free. 0, or -1 with why.
int portio_xlsx_export (const portio_import_peer_t *peer, const char *entity, const char *org_unit,
                        const Pmo__PortfolioRequest *filter, char **xlsx, size_t *size, char *why,
                        size_t why_size);

//  The report as a workbook, a sheet per table of portio_report_tables;
//  the caller frees it. NULL with why.
char *portio_xlsx_report (const portio_report_t *report, size_t *size, char *why, size_t why_size);

#endif
