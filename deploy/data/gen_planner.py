#!/usr/bin/env python3
"""gen_planner.py: the planner's demo data for the projects in the registry.

    gen_planner.py PROJECTS.json OUTDIR [--today YYYY-MM-DD]

PROJECTS.json is `pmoctl --json project list --all`. GMPP publishes no
benefit figures and no scores, so both are generated with a fixed seed
(per project code, so a project gets the same figures whatever else is
loaded), and written to OUTDIR:

- policy.json: the hub's scoring model (alignment to three named strategic
  themes, value, risk, urgency) and a 10 % lag threshold;
- scores.tsv: one line per project, the arguments of `pmoctl score set`
  (tab-separated); about 1 in 25 is mandatory (a statutory duty);
- benefit-<n>.json: a benefit for about 7 in 10 projects: cashable or
  non-cashable money (GBP, a multiple of the project's budget) or a
  non-financial measure, with a profile over the years after the project's
  finish and quarterly measurements up to last month, some behind their
  profile (the lag alert shows them);
- scenario.json: a base-case scenario over the hub: budgets per financial
  year at 85 % of what the candidates would spend, starts allowed to shift
  by a quarter.
"""
import datetime
import hashlib
import json
import os
import random
import sys

SEED = 20261206
THEMES = ["net zero", "levelling up", "public services"]
MEASURES = [
    ("Journeys on time", "%", 78, 92),
    ("Days to process a claim", "days", 40, 15),
    ("Customer satisfaction", "%", 62, 80),
    ("Carbon emissions avoided", "ktCO2e", 0, 120),
]


def rng_for(code):
    digest = hashlib.sha256(f"{SEED}:{code}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def minor(money):
    if not money:
        return 0
    value = money.get("minor", 0)
    return int(value) if value not in (None, "") else 0


def month(day):
    return f"{day.year:04d}-{day.month:02d}"


def add_months(day, months):
    y, m = divmod(day.month - 1 + months, 12)
    return datetime.date(day.year + y, m + 1, 1)


def parse(date, fallback):
    try:
        return datetime.date.fromisoformat(date)
    except (TypeError, ValueError):
        return fallback


def scores(rng, p):
    args = [p["id"], "--value", str(rng.randint(3, 10)), "--risk", str(rng.randint(2, 9)),
            "--urgency", str(rng.randint(1, 10))]
    for theme in THEMES:
        args += ["--align", f"{theme}={rng.randint(0, 10)}"]
    if rng.random() < 0.04:
        args += ["--mandatory", "statutory duty"]
    return args


def benefit(rng, p, today):
    start = parse(p.get("baseline_start"), today)
    finish = parse(p.get("baseline_finish"), add_months(start, 36))
    budget = minor((p.get("budget") or {}).get("baseline"))
    kind = rng.choices(["cashable", "non_cashable", "non_financial"], [5, 3, 2])[0]
    # Realisation starts after delivery, ramping over three years
    first = add_months(max(finish, start), rng.randint(-12, 3))
    points = [add_months(first, 12 * k) for k in range(4)]
    b = {"title": "", "org_unit": p["org_unit"], "kind": kind, "owner": "",
         "project_ids": [p["id"]], "status": "planned"}
    if p.get("programme_id"):
        b["programme_ids"] = [p["programme_id"]]
    if p.get("portfolio_id"):
        b["portfolio_id"] = p["portfolio_id"]
    if kind == "non_financial":
        title, unit, base, target = rng.choice(MEASURES)
        b.update(title=title, measure=title.lower(), unit=unit, baseline=base, target=target)
    else:
        if budget <= 0:
            budget = rng.randint(20, 900) * 100000000
        target = budget * rng.choice([11, 13, 15, 18, 25]) // 10
        target -= target % 100
        b.update(title="Running cost saving" if kind == "cashable" else "Productivity released",
                 measure="cumulative saving against the baseline", currency="GBP", baseline=0,
                 target=target)
    b["owner"] = f"{p['org_unit']}.benefits.owner"
    base, target = b["baseline"], b["target"]
    shape = [0.25, 0.55, 0.85, 1.0]
    b["profile"] = []
    for when, share in zip(points, shape):
        value = base + (target - base) * share
        b["profile"].append({"period": month(when),
                             "value": round(value) if kind != "non_financial" else round(value, 1)})
    # Quarterly measurements up to last month: most on profile, some behind
    behind = rng.random() < 0.3
    measurements = []
    when = points[0]
    last = add_months(today, -1)
    while when <= last and len(measurements) < 16:
        k = sum(1 for x in points if x <= when) - 1
        lo, hi = points[k], points[min(k + 1, 3)]
        span = max((hi.year - lo.year) * 12 + hi.month - lo.month, 1)
        into = (when.year - lo.year) * 12 + when.month - lo.month
        share = shape[k] + (shape[min(k + 1, 3)] - shape[k]) * min(into / span, 1)
        ratio = rng.uniform(0.55, 0.85) if behind else rng.uniform(0.93, 1.08)
        value = base + (target - base) * share * ratio
        measurements.append({"period": month(when),
                             "value": round(value) if kind != "non_financial"
                             else round(value, 1)})
        when = add_months(when, 3)
    if measurements:
        b["measurements"] = measurements
        b["status"] = "realising"
    return b


def main(argv):
    if len(argv) not in (3, 5):
        sys.exit(__doc__)
    today = datetime.date.today()
    if len(argv) == 5 and argv[3] == "--today":
        today = datetime.date.fromisoformat(argv[4])
    with open(argv[1], encoding="utf-8") as f:
        doc = json.load(f)
    projects = doc.get("projects", []) if isinstance(doc, dict) else doc
    out = argv[2]
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "policy.json"), "w") as f:
        json.dump({"criteria": [{"criterion": "alignment", "theme": t, "weight": w}
                                for t, w in zip(THEMES, [3, 2, 2])] +
                  [{"criterion": "value", "weight": 3}, {"criterion": "risk", "weight": 1},
                   {"criterion": "urgency", "weight": 1}],
                   "lag_threshold": 0.1}, f)
    n = 0
    with open(os.path.join(out, "scores.tsv"), "w") as f:
        for p in sorted(projects, key=lambda p: p["code"]):
            if p.get("status") in ("completed", "cancelled"):
                continue
            rng = rng_for(p["code"])
            f.write("\t".join(scores(rng, p)) + "\n")
            if rng.random() < 0.7:
                n += 1
                with open(os.path.join(out, f"benefit-{n:03d}.json"), "w") as g:
                    json.dump(benefit(rng, p, today), g)
    # The next financial year (April) as quarter 0
    april = datetime.date(today.year + (1 if today.month >= 4 else 0), 4, 1)
    need = [0] * 5
    for p in projects:
        if p.get("status") not in ("proposed", "approved", "active"):
            continue
        budget = minor((p.get("budget") or {}).get("baseline"))
        start = parse(p.get("baseline_start"), april)
        finish = parse(p.get("baseline_finish"), add_months(start, 36))
        months = max((finish.year - start.year) * 12 + finish.month - start.month, 3)
        for y in range(5):
            lo, hi = add_months(april, 12 * y), add_months(april, 12 * (y + 1))
            overlap = (min(hi, finish) - max(lo, start)).days
            if overlap > 0:
                need[y] += budget * overlap // max((finish - start).days, 1)
        del months
    with open(os.path.join(out, "scenario.json"), "w") as f:
        json.dump({"name": "Spending review base case", "org_unit": os.environ.get("PMO_HUB", "hub"),
                   "start": april.isoformat(), "objective": "score", "max_shift_quarters": 1,
                   "mip_gap": 0.01, "time_limit_ms": 8000,
                   "budgets": [{"year": y, "limit_minor": need[y] * 85 // 100}
                               for y in range(5) if need[y] > 0]}, f)


if __name__ == "__main__":
    main(sys.argv)
