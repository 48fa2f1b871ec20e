#!/usr/bin/python3
"""xlsx_check.py: check a workbook pmo exported, with openpyxl (an
independent reader of the Office Open XML format).

  xlsx_check.py FILE register ENTITY   one sheet named ENTITY, header bold and
                                       frozen, every column given a width, dates
                                       as dates, money as numbers in a currency
                                       format, counts as numbers
  xlsx_check.py FILE report TABLE...   a sheet per table, header frozen
  xlsx_check.py FILE write             write a two-sheet workbook to import
                                       (sheet "notes", then "plan")
Exit 0 if it holds, 1 with the reason on stderr.
"""
import datetime
import sys

import openpyxl
import openpyxl.styles

DATES = {"baseline_start", "baseline_finish", "forecast_finish", "baseline_date",
         "forecast_date", "actual_date", "period_end", "review_date", "due_date"}
MONEY = {"budget.baseline", "budget.actual", "budget.forecast", "benefits.planned",
         "benefits.realised", "cost_impact", "cost_rate", "pv_minor", "ev_minor", "ac_minor"}
NUMBERS = {"priority", "strategic_score", "percent_complete", "probability", "impact",
           "weekly_capacity_hours", "hours_per_week", "pmo_tier"}
SYMBOLS = {"GBP": "\u00a3", "EUR": "\u20ac", "USD": "$"}


def fail(why):
    sys.stderr.write("xlsx_check: %s\n" % why)
    sys.exit(1)


def check_sheet(ws):
    if ws.freeze_panes != "A2":
        fail("%s: the header is not frozen (%s)" % (ws.title, ws.freeze_panes))
    header = [c.value for c in ws[1]]
    for i, cell in enumerate(ws[1]):
        if not cell.font.bold:
            fail("%s: header %s is not bold" % (ws.title, cell.value))
        letter = cell.column_letter
        width = ws.column_dimensions[letter].width
        if not width or width < 8:
            fail("%s: column %s has no width" % (ws.title, header[i]))
    return header


def register(path, entity):
    wb = openpyxl.load_workbook(path)
    if wb.sheetnames != [entity]:
        fail("sheets %s, expected [%s]" % (wb.sheetnames, entity))
    ws = wb[entity]
    header = check_sheet(ws)
    seen = {"date": 0, "money": 0, "number": 0}
    for row in ws.iter_rows(min_row=2):
        values = {header[i]: c for i, c in enumerate(row)}
        currency = values.get("currency").value if "currency" in values else None
        for name, cell in values.items():
            if cell.value is None:
                continue
            if name in DATES:
                if not isinstance(cell.value, datetime.datetime):
                    fail("%s%d: %r is not a date" % (name, cell.row, cell.value))
                seen["date"] += 1
            elif name in MONEY:
                if not isinstance(cell.value, (int, float)):
                    fail("%s%d: %r is not a number" % (name, cell.row, cell.value))
                symbol = SYMBOLS.get(currency or "", currency or "")
                if "#,##0" not in cell.number_format or symbol not in cell.number_format:
                    fail("%s%d: format %r is not %s's" % (name, cell.row, cell.number_format,
                                                          currency))
                seen["money"] += 1
            elif name in NUMBERS:
                if not isinstance(cell.value, (int, float)):
                    fail("%s%d: %r is not a number" % (name, cell.row, cell.value))
                seen["number"] += 1
            elif not isinstance(cell.value, str):
                fail("%s%d: %r is not text" % (name, cell.row, cell.value))
    print("%s: %d rows, %d dates, %d amounts, %d numbers" % (
        entity, ws.max_row - 1, seen["date"], seen["money"], seen["number"]))


def report(path, tables):
    wb = openpyxl.load_workbook(path)
    if wb.sheetnames != tables:
        fail("sheets %s, expected %s" % (wb.sheetnames, tables))
    for name in tables:
        check_sheet(wb[name])
    ws = wb["summary"]
    numbers = sum(1 for row in ws.iter_rows(min_row=2) for c in row
                  if isinstance(c.value, (int, float)))
    if numbers == 0:
        fail("summary: no figure is a number")
    print("report: %d sheets, %d numbers in the summary" % (len(tables), numbers))


def write(path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "notes"
    ws.append(["This sheet is not the plan"])
    ws = wb.create_sheet("plan")
    ws.append(["code", "name", "org_unit", "baseline_start", "budget.baseline", "currency",
               "priority"])
    ws.append(["XL-1", "From Excel", "xl", datetime.date(2027, 1, 31), 1234.5, "GBP", 2])
    ws.append(["XL-2", "Also, from Excel", "xl", datetime.date(2027, 2, 28), 12345.67, "EUR", 3])
    ws["D2"].number_format = "dd/mm/yyyy"
    ws["E2"].number_format = '"\u00a3"#,##0.00'
    wb.save(path)


def write_text(path):
    """A register as pmo writes it, but with a date kept as text."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "project"
    ws.append(["code", "baseline_start"])
    ws.append(["T-1", "2027-01-31"])
    ws.freeze_panes = "A2"
    for cell in ws[1]:
        cell.font = openpyxl.styles.Font(bold=True)
        ws.column_dimensions[cell.column_letter].width = 12
    wb.save(path)


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[2] == "write-text":
        write_text(sys.argv[1])
    elif len(sys.argv) >= 3 and sys.argv[2] == "write":
        write(sys.argv[1])
    elif len(sys.argv) == 4 and sys.argv[2] == "register":
        register(sys.argv[1], sys.argv[3])
    elif len(sys.argv) >= 4 and sys.argv[2] == "report":
        report(sys.argv[1], sys.argv[3:])
    else:
        fail("usage: xlsx_check.py FILE register ENTITY | report TABLE... | write")
