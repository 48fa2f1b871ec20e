#!/usr/bin/env python3
"""gen_demo.py: the generated part of the demo portfolio, deterministic.

The GMPP file gives the projects; a PMO also has people, bookings, risks,
issues and recent status reports, which the published data does not hold.
This script invents them with a fixed seed (the same files every time) so
that every view of the dashboard has something true to show.

  gen_demo.py static PROJECTS.csv OUTDIR
      demo-resources.csv  ~200 people in the 16 departments, with roles,
                          skills and levels, capacity and day rates
      demo-risks.csv      risks on GMPP projects (some critical), by code
      demo-issues.csv     issues on GMPP projects
    These are committed in deploy/data/ (PROJECTS.csv is `pmoctl export
    project` after importing gmpp-2019.csv; only codes and units are read).

  gen_demo.py placed GMPP.csv MAPPING.json OUTDIR [--today YYYY-MM-DD]
      gmpp-placed.csv       the GMPP file with every date moved by the same
                            number of months, so that the snapshot's date
                            (31 March 2019) falls on the last quarter end
                            before today's quarter; dates written ISO 8601
                            and a phase column: closing when the finish
                            has passed, else execution
      gmpp-placed-mapping.json  the mapping with the report's period end
                            moved the same way, reading the phase column
    deploy/demo.sh imports these instead of the 2019 dates, so that the demo
    is a portfolio of today, not one seven years late.

  gen_demo.py dated PROJECTS.csv OUTDIR [--today YYYY-MM-DD]
      demo-allocations.csv  bookings from this week on (some people over-
                            allocated), in the allocator's export format
      demo-reports.csv      a current status report with PV/EV/AC for every
                            live project, period ending last Friday, its
                            RAG drifting from the project's GMPP Delivery
                            Confidence Assessment
    deploy/demo.sh runs this at load time: bookings and reports only make
    sense relative to today. The seed is fixed, so the same day gives the
    same files.
"""
import csv
import datetime
import json
import os
import random
import sys

SEED = 20190331
SNAPSHOT = datetime.date(2019, 3, 31)   # the GMPP 2019 data's period end
GMPP = os.path.join(os.path.dirname(os.path.abspath(__file__)), "gmpp-2019.csv")

FIRST = ["Aisha", "Ben", "Chloe", "Daniel", "Emma", "Farid", "Grace", "Harry", "Isla", "Jack",
         "Kemi", "Liam", "Maya", "Noah", "Olivia", "Priya", "Quentin", "Ruth", "Samir", "Tara",
         "Usman", "Vera", "Wes", "Xena", "Yusuf", "Zoe", "Ade", "Bryony", "Ciaran", "Deepa"]
LAST = ["Ahmed", "Brown", "Clarke", "Davies", "Evans", "Fraser", "Green", "Hughes", "Iqbal",
        "Jones", "Khan", "Lewis", "Morgan", "Nowak", "Owen", "Patel", "Quinn", "Roberts",
        "Singh", "Taylor", "Usher", "Vaughan", "Walsh", "Young", "Zhang", "Murphy", "Kelly"]
ROLES = [  # role, skills it brings, day rate range in pounds per hour
    ("project-manager", ["prince2", "agile", "stakeholder-management"], (55, 80)),
    ("programme-manager", ["msp", "prince2", "finance"], (70, 95)),
    ("business-analyst", ["analysis", "requirements", "sql"], (45, 65)),
    ("pmo-analyst", ["reporting", "planning", "finance"], (35, 55)),
    ("engineer", ["civil-engineering", "systems-engineering", "safety"], (50, 75)),
    ("developer", ["java", "python", "cloud", "sql"], (45, 70)),
    ("commercial-lead", ["procurement", "contracts", "finance"], (60, 85)),
    ("risk-manager", ["risk", "assurance", "prince2"], (55, 75)),
]
RISKS = [  # title, category, cause, effect
    ("Supplier capacity shortfall", "commercial", "few qualified suppliers", "delays to delivery"),
    ("Key skills leave the team", "people", "market demand for specialists", "loss of knowledge"),
    ("Spending review cuts the budget", "financial", "fiscal pressure", "scope reduction"),
    ("Planning consent delayed", "legal", "objections and judicial review", "schedule slip"),
    ("Legacy system integration harder than planned", "technical", "undocumented interfaces",
     "rework and cost growth"),
    ("Benefits not realised", "strategic", "adoption lower than forecast",
     "business case undermined"),
    ("Cyber security incident", "technical", "new attack surface", "service outage"),
    ("Inflation in materials", "financial", "market prices", "cost overrun"),
    ("Ministerial priorities change", "political", "new policy direction", "re-planning"),
    ("Data migration quality", "technical", "poor source data", "go-live delay"),
]
ISSUES = [
    ("Contractor behind programme", "problem_concern"),
    ("Requirement missing from the specification", "off_specification"),
    ("Request to add a new service line", "request_for_change"),
    ("Test environment unavailable", "problem_concern"),
]


def read_projects(path):
    with open(path, newline="", encoding="utf-8-sig") as f:
        return [row for row in csv.DictReader(f)]


def units_of(projects):
    return sorted({p["org_unit"] for p in projects})


def people(rng, units):
    """~200 people: 12 or 13 per department, a mix of roles."""
    rows, n = [], 0
    for unit in units:
        for k in range(12 + (n % 2)):
            n += 1
            role, skills, rate = ROLES[(n * 7 + k) % len(ROLES)]
            chosen = rng.sample(skills, 2)
            levels = [rng.randint(2, 5), rng.randint(1, 4)]
            name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
            capacity = rng.choice([37, 37, 37, 37, 30, 22])
            rows.append({
                "id": "",
                "external_id": f"GOV-{n:04d}",
                "name": name,
                "kind": "person",
                "role": role,
                "skills": ";".join(f"{s}:{l}" for s, l in zip(chosen, levels)),
                "home_org_unit": unit,
                "weekly_capacity_hours": str(capacity),
                "currency": "GBP",
                "cost_rate": f"{rng.randint(*rate)}.00",
                "email": f"{name.lower().replace(' ', '.')}.{n}@example.gov.uk",
            })
    return rows


def live(projects):
    return [p for p in projects if p["status"] not in ("completed", "cancelled")]


def risks(rng, projects):
    rows = []
    for i, p in enumerate(live(projects)):
        if i % 3 == 2:
            continue  # not every project keeps its register in pmo yet
        for k in range(rng.randint(1, 3)):
            title, category, cause, effect = RISKS[(i * 3 + k) % len(RISKS)]
            prob, impact = rng.randint(1, 5), rng.randint(2, 5)
            if (i + k) % 11 == 0:
                prob, impact = 5, 5  # a few critical ones
            rprob = max(1, prob - rng.randint(0, 2))
            rimpact = max(1, impact - rng.randint(0, 1))
            cost = rng.choice([250, 500, 1200, 5000, 20000, 75000]) * 1000
            rows.append({
                "id": "", "project_code": p["code"], "project_id": "", "title": title,
                "kind": "threat", "category": category, "cause": cause, "event": title.lower(),
                "effect": effect, "probability": str(prob), "impact": str(impact),
                "residual_probability": str(rprob), "residual_impact": str(rimpact),
                "proximity": rng.choice(["imminent", "within_stage", "within_project"]),
                "response": rng.choice(["reduce", "fallback", "transfer", "accept"]),
                "response_plan": "owner to report progress at the monthly board",
                "owner": f"risk.owner@{p['org_unit']}.gov.uk", "actionee": "",
                "currency": "GBP", "cost_impact": f"{cost}.00", "review_date": "",
                "status": "open", "closure_note": "",
            })
    return rows


def issues(rng, projects):
    rows = []
    for i, p in enumerate(live(projects)):
        if i % 4:
            continue
        title, kind = ISSUES[i % len(ISSUES)]
        rows.append({
            "id": "", "project_code": p["code"], "project_id": "", "title": title,
            "description": "", "type": kind, "severity": rng.choice(["low", "medium", "high"]),
            "priority": str(rng.randint(1, 4)), "owner": f"pm@{p['org_unit']}.gov.uk",
            "status": "open", "resolution": "", "due_date": "", "risk_id": "",
        })
    return rows


def iso_week(day):
    y, w, _ = day.isocalendar()
    return f"{y}-W{w:02d}"


def allocations(rng, projects, staff, today):
    """Bookings from this week on; about one person in ten over-allocated."""
    by_unit = {}
    for person in staff:
        by_unit.setdefault(person["home_org_unit"], []).append(person)
    rows = []
    monday = today - datetime.timedelta(days=today.weekday())
    # Hours booked per person (as if every booking overlapped): bookings
    # fit the person's week; only the surge below over-allocates
    booked = {}
    for i, p in enumerate(live(projects)):
        team = by_unit.get(p["org_unit"], [])
        for k, person in enumerate(rng.sample(team, min(len(team), 2))):
            start = monday + datetime.timedelta(weeks=rng.randint(0, 4))
            end = start + datetime.timedelta(weeks=rng.randint(8, 30))
            free = int(person["weekly_capacity_hours"]) - booked.get(person["external_id"], 0)
            hours = min(rng.choice([8, 15, 20, 22]), free)
            if hours < 4:
                continue
            booked[person["external_id"]] = booked.get(person["external_id"], 0) + hours
            state = "committed" if (i + k) % 4 else "proposed"
            rows.append({
                "id": "", "project_code": p["code"], "project_id": "",
                "resource_id": "", "resource_name": person["external_id"], "role": "",
                "skill": "", "min_level": "", "hours_per_week": str(hours),
                "start_week": iso_week(start), "end_week": iso_week(end), "state": state,
                "note": "demo booking",
            })
    # Over-allocation: a few people also committed heavily to a second project
    for n, person in enumerate(staff[::20]):
        others = [p for p in live(projects) if p["org_unit"] == person["home_org_unit"]]
        if not others:
            continue
        p = others[n % len(others)]
        start = monday + datetime.timedelta(weeks=1)
        rows.append({
            "id": "", "project_code": p["code"], "project_id": "", "resource_id": "",
            "resource_name": person["external_id"], "role": "", "skill": "", "min_level": "",
            "hours_per_week": "30", "start_week": iso_week(start),
            "end_week": iso_week(start + datetime.timedelta(weeks=6)), "state": "committed",
            "note": "surge support (over-allocates)",
        })
    # rows for the same project, person and first week would be one booking
    seen, unique = set(), []
    for row in rows:
        key = (row["project_code"], row["resource_name"], row["start_week"])
        if key not in seen:
            seen.add(key)
            unique.append(row)
    return unique


def placed_snapshot(today):
    """The last day of the quarter before today's quarter."""
    first_of_quarter = datetime.date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    return first_of_quarter - datetime.timedelta(days=1)


def add_months(day, months):
    """The same day so many months later; a month's last day stays the last."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    nxt = datetime.date(year + (month + 1) // 12, (month + 1) % 12 + 1, 1)
    last = (nxt - datetime.timedelta(days=1)).day
    is_last = (day + datetime.timedelta(days=1)).month != day.month
    return datetime.date(year, month + 1, last if is_last else min(day.day, last))


def placed(gmpp, mapping, out, today):
    """GMPP with its dates moved so that the snapshot is last quarter's end:
    by whole months, so that month and quarter ends stay month and quarter
    ends."""
    snapshot = placed_snapshot(today)
    shift = (snapshot.year - SNAPSHOT.year) * 12 + snapshot.month - SNAPSHOT.month
    with open(gmpp, newline="", encoding="cp1252") as f:
        reader = csv.DictReader(f)
        fields, rows = reader.fieldnames, list(reader)
    for row in rows:
        for column in ("start_date", "end_date"):
            try:
                day = datetime.datetime.strptime(row[column].strip(), "%d.%m.%y").date()
            except ValueError:
                continue  # "Not provided", FOI exemptions: left as published
            row[column] = add_months(day, shift).isoformat()
        # A project whose delivery ended by today is closing, not a
        # project in delivery with an overdue gate
        finished = row["end_date"][:4].isdigit() and row["end_date"] < today.isoformat()
        row["phase"] = "closing" if finished else "execution"
    fields = fields + ["phase"]
    with open(os.path.join(out, "gmpp-placed.csv"), "w", newline="", encoding="cp1252") as f:
        w = csv.DictWriter(f, fieldnames=fields, lineterminator="\r\n")
        w.writeheader()
        w.writerows(rows)
    with open(mapping, encoding="utf-8") as f:
        m = json.load(f)
    m["comment"] = (f"{m.get('comment', '')} Dates moved by {shift} months (gen_demo.py placed): "
                    f"the 2019-03-31 snapshot as of {snapshot.isoformat()}.")
    m["defaults"]["report.period_end"] = snapshot.isoformat()
    m["columns"].append({"column": "phase", "field": "phase"})
    with open(os.path.join(out, "gmpp-placed-mapping.json"), "w", encoding="utf-8") as f:
        json.dump(m, f, indent=2, ensure_ascii=False)


# The Delivery Confidence Assessment of each GMPP project, by name
def ratings():
    with open(GMPP, newline="", encoding="cp1252") as f:
        return {r["project_name"]: r["colour_rating"] for r in csv.DictReader(f)}


# How a project's RAG drifts from its 2019 DCA to this week's report:
# weights of red, amber, green
DRIFT = {
    "Red": (35, 50, 15), "Amber/Red": (35, 50, 15), "Amber": (8, 52, 40),
    "Amber/Green": (3, 17, 80), "Green": (3, 17, 80),
}
# SPI and CPI that give each RAG (the riskmon's defaults: red below 0.9,
# amber below 0.95)
INDEX = {"red": [0.84, 0.87, 0.89], "amber": [0.91, 0.93, 0.94],
         "green": [0.96, 0.98, 1.0, 1.02, 1.03]}


def reports(rng, projects, today):
    """A status report for every live project, period ending last Friday,
    its RAG drifting from the project's DCA (unrated projects as Amber)."""
    friday = today - datetime.timedelta(days=(today.weekday() - 4) % 7 or 7)
    dca = ratings()
    rows = []
    for p in live(projects):
        weights = DRIFT.get(dca.get(p.get("name", ""), ""), DRIFT["Amber"])
        overall = rng.choices(["red", "amber", "green"], weights)[0]
        # The worse of schedule and cost is the overall RAG
        spi, cpi = rng.choice(INDEX[overall]), rng.choice(INDEX["green"] + INDEX[overall])
        if rng.random() < 0.5:
            spi, cpi = cpi, spi
        pv = rng.randint(5, 400) * 100000
        ev = int(pv * spi)
        ac = int(ev / cpi)
        rows.append({
            "project_code": p["code"], "period_end": friday.isoformat(),
            "percent_complete": str(rng.randint(10, 90)), "overall": overall,
            "schedule": "red" if spi < 0.9 else "amber" if spi < 0.95 else "green",
            "cost": "red" if cpi < 0.9 else "amber" if cpi < 0.95 else "green",
            "pv_minor": f"{pv // 100}.00", "ev_minor": f"{ev // 100}.{ev % 100:02d}",
            "ac_minor": f"{ac // 100}.{ac % 100:02d}",
            "narrative": "monthly report (generated demo data)",
        })
    return rows


def write(path, rows):
    if not rows:
        return
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0].keys()), lineterminator="\r\n")
        w.writeheader()
        w.writerows(rows)


def main(argv):
    if len(argv) < 4 or argv[1] not in ("static", "dated", "placed"):
        sys.exit(__doc__)
    if argv[1] == "placed":
        today = datetime.date.today()
        if len(argv) == 7 and argv[5] == "--today":
            today = datetime.date.fromisoformat(argv[6])
        placed(argv[2], argv[3], argv[4], today)
        return
    projects = read_projects(argv[2])
    out = argv[3]
    rng = random.Random(SEED)
    staff = people(rng, units_of(projects))
    if argv[1] == "static":
        write(f"{out}/demo-resources.csv", staff)
        write(f"{out}/demo-risks.csv", risks(rng, projects))
        write(f"{out}/demo-issues.csv", issues(rng, projects))
        return
    today = datetime.date.today()
    if len(argv) == 6 and argv[4] == "--today":
        today = datetime.date.fromisoformat(argv[5])
    rng = random.Random(SEED + today.toordinal())
    write(f"{out}/demo-allocations.csv", allocations(rng, projects, staff, today))
    write(f"{out}/demo-reports.csv", reports(rng, projects, today))


if __name__ == "__main__":
    main(sys.argv)
