#!/usr/bin/env python3
"""gmpp_expect.py: what importing gmpp-2019.csv must give, computed the
simple way (Python's csv module, the file read as cp1252, Decimal money),
independently of portio_csv and portio_import. Prints one JSON document.

usage: gmpp_expect.py FILE
"""
import csv
import datetime
import json
import sys
from decimal import Decimal

# The Delivery Confidence Assessment collapsed to RAG, as the mapping says
DCA = {"Green": "green", "Amber/Green": "green", "Amber": "amber",
       "Amber/Red": "red", "Red": "red"}


def date(text):
    """dd.mm.yy; two-digit years 00-69 are 20yy. None when not a date."""
    try:
        d = datetime.datetime.strptime(text.strip(), "%d.%m.%y").date()
    except ValueError:
        return None
    year = d.year % 100
    return datetime.date(2000 + year if year < 70 else 1900 + year, d.month, d.day).isoformat()


def pence(text):
    """'£12,343.96' in millions of pounds to pence; None when not an amount."""
    t = text.strip().replace("\u00a3", "").replace(",", "")
    try:
        return int(Decimal(t) * 1000000 * 100)
    except Exception:
        return None


with open(sys.argv[1], encoding="cp1252", newline="") as f:
    rows = list(csv.DictReader(f))

out = {"projects": len(rows), "divisions": {}, "rag": {"green": 0, "amber": 0, "red": 0},
       "rated": 0, "wlc_pence": 0, "wlc_count": 0, "starts": 0, "finishes": 0,
       "rag_by_division": {}, "wlc_by_division": {}, "names": {}}
for r in rows:
    division = r["department"].strip().lower()
    out["divisions"][division] = out["divisions"].get(division, 0) + 1
    rag = DCA.get(r["colour_rating"].strip())
    if rag:
        out["rag"][rag] += 1
        out["rated"] += 1
        per = out["rag_by_division"].setdefault(division, {"green": 0, "amber": 0, "red": 0})
        per[rag] += 1
    wlc = pence(r["wlc_baseline_incl_NCG"])
    if wlc is not None:
        out["wlc_pence"] += wlc
        out["wlc_count"] += 1
        out["wlc_by_division"][division] = out["wlc_by_division"].get(division, 0) + wlc
    start, finish = date(r["start_date"]), date(r["end_date"])
    out["starts"] += start is not None
    out["finishes"] += finish is not None
    out["names"][r["project_name"]] = {"start": start or "", "finish": finish or "",
                                       "wlc": wlc if wlc is not None else -1,
                                       "rag": rag or ""}
json.dump(out, sys.stdout)
