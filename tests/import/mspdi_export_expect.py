#!/usr/bin/env python3
"""What test_mspdi_export.c's pmo project (EXP-1) must look like as a
Microsoft Project plan, read with Python's ElementTree and
datetime.isocalendar (independent of pmo's C code).

  mspdi_export_expect.py FILE     exit 0 if FILE says what EXP-1 is, else
                                  1 naming the first difference
  mspdi_export_expect.py --planner FILE
                                  the same through another program's reader:
      GNOME Planner's import of Microsoft Project files (Debian's
      planner-data: /usr/share/planner/stylesheets/msp2planner.xsl, run by
      xsltproc, as Planner runs it) turns FILE into a Planner project, which
      must be valid against Planner's DTD (mrproject-0.6.dtd, xmllint) and
      hold EXP-1's milestones, tasks, resources and allocations; and a copy
      of FILE outside the Project namespace must fail that check.
"""
import datetime
import os
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

PLANNER_XSL = "/usr/share/planner/stylesheets/msp2planner.xsl"
PLANNER_DTD = "/usr/share/planner/dtd/mrproject-0.6.dtd"

NS = "{http://schemas.microsoft.com/project}"


def text(element, path):
    found = element.find("/".join(NS + p for p in path.split("/")))
    return found.text if found is not None else None


def expect(what, got, wanted):
    if got != wanted:
        print("%s: %r, expected %r" % (what, got, wanted), file=sys.stderr)
        sys.exit(1)


def main(path):
    root = ET.parse(path).getroot()
    name = 'Export & "round" <trip>'
    expect("Title", text(root, "Title"), name)
    expect("CurrencyCode", text(root, "CurrencyCode"), "GBP")
    expect("StartDate", text(root, "StartDate"), "2026-01-05T08:00:00")
    expect("FinishDate", text(root, "FinishDate"), "2026-07-31T17:00:00")
    # The latest status report: its day and earned value (hundredths)
    expect("StatusDate", text(root, "StatusDate"), "2026-03-31T17:00:00")
    tasks = root.findall(NS + "Tasks/" + NS + "Task")
    summary = [t for t in tasks if text(t, "UID") == "0"][0]
    expect("summary Cost (hundredths)", text(summary, "Cost"), "13000050")
    expect("summary ActualCost", text(summary, "ActualCost"), "4000025")
    expect("summary Baseline/Cost", text(summary, "Baseline/Cost"), "12000000")
    expect("summary PercentComplete", text(summary, "PercentComplete"), "40")
    expect("summary BCWS", text(summary, "BCWS"), "5000000")
    expect("summary BCWP", text(summary, "BCWP"), "4500000")
    expect("summary ACWP", text(summary, "ACWP"), "4700050")
    expect("summary Baseline/Start", text(summary, "Baseline/Start"), "2026-01-05T08:00:00")
    expect("summary Baseline/Finish", text(summary, "Baseline/Finish"), "2026-06-30T17:00:00")
    milestones = {text(t, "Name"): t for t in tasks if text(t, "Milestone") == "1"}
    expect("milestones", sorted(milestones), ["Design signed off", "Go live"])
    design, live = milestones["Design signed off"], milestones["Go live"]
    expect("Design Baseline/Finish", text(design, "Baseline/Finish")[:10], "2026-02-27")
    expect("Design Finish", text(design, "Finish")[:10], "2026-03-06")
    expect("Design ActualFinish", text(design, "ActualFinish")[:10], "2026-03-06")
    expect("Design PercentComplete", text(design, "PercentComplete"), "100")
    expect("Go live ActualFinish", text(live, "ActualFinish"), None)
    expect("Go live PercentComplete", text(live, "PercentComplete"), "0")
    expect("Go live Finish", text(live, "Finish")[:10], "2026-07-31")
    resources = {text(r, "UID"): r for r in root.findall(NS + "Resources/" + NS + "Resource")}
    by_name = {text(r, "Name"): r for r in resources.values()}
    expect("resources", sorted(by_name), ["Ana Lima", "Bo Chen"])
    expect("Ana MaxUnits x 40", round(float(text(by_name["Ana Lima"], "MaxUnits")) * 40),
           37)
    expect("Ana StandardRate", float(text(by_name["Ana Lima"], "StandardRate")), 65.5)
    expect("Ana Group", text(by_name["Ana Lima"], "Group"), "analyst")
    expect("Bo MaxUnits", float(text(by_name["Bo Chen"], "MaxUnits")), 1.0)
    # Weekly work of each resource's assignments, from the timephased work
    weeks = {}
    assignments = root.findall(NS + "Assignments/" + NS + "Assignment")
    expect("assignments", len(assignments), 4)
    booked = {}
    for a in assignments:
        who = text(resources[text(a, "ResourceUID")], "Name")
        booked[(who, text(a, "Start")[:10])] = text(a, "BookingType")
        for t in a.findall(NS + "TimephasedData"):
            expect("TimephasedData Type", text(t, "Type"), "1")
            day = datetime.date.fromisoformat(text(t, "Start")[:10])
            value = text(t, "Value")
            h, rest = value[2:].split("H")
            m = rest.split("M")[0]
            year, week, _ = day.isocalendar()
            key = (who, "%d-W%02d" % (year, week))
            weeks[key] = weeks.get(key, 0) + int(h) * 60 + int(m)
    wanted = {}
    for who, hours, first, last in [("Ana Lima", 20, 2, 5), ("Ana Lima", 12, 10, 12),
                                    ("Bo Chen", 40, 3, 4), ("Bo Chen", 10, 20, 21)]:
        for w in range(first, last + 1):
            wanted[(who, "2026-W%02d" % w)] = hours * 60
    expect("minutes of work by resource and ISO week", weeks, wanted)
    # Project's booking types: 0 committed, 1 proposed (requested in pmo too)
    expect("BookingType by assignment", booked,
           {("Ana Lima", "2026-01-05"): "1", ("Ana Lima", "2026-03-02"): "0",
            ("Bo Chen", "2026-01-12"): "1", ("Bo Chen", "2026-05-11"): "1"})
    print("%s: EXP-1 as expected (%d tasks, %d resources, %d weeks of work)" %
          (path, len(tasks), len(resources), len(weeks)))


def planner_reading(path):
    """FILE as GNOME Planner reads it; None (and why) if Planner's reading is
    not a valid Planner project."""
    out = subprocess.run(["xsltproc", PLANNER_XSL, path], capture_output=True, check=False)
    if out.returncode != 0:
        return None, "xsltproc: " + out.stderr.decode()
    with tempfile.NamedTemporaryFile(suffix=".planner", delete=False) as f:
        f.write(out.stdout)
        name = f.name
    try:
        valid = subprocess.run(["xmllint", "--noout", "--dtdvalid", PLANNER_DTD, name],
                               capture_output=True, check=False)
        if valid.returncode != 0:
            return None, "not valid against mrproject-0.6.dtd: " + valid.stderr.decode()[:500]
        return ET.parse(name).getroot(), None
    finally:
        os.unlink(name)


def planner_check(path):
    root, why = planner_reading(path)
    if root is None:
        return why
    if root.get("name") != 'Export & "round" <trip>':
        return "project name %r" % root.get("name")
    if root.get("project-start") != "20260105T080000Z":
        return "project-start %r" % root.get("project-start")
    tasks = root.findall("tasks/task")
    got = sorted((t.get("name"), t.get("type"), t.get("start"), t.get("end"),
                  t.get("percent-complete")) for t in tasks)
    wanted = sorted([
        ("Design signed off", "milestone", "20260306T170000Z", "20260306T170000Z", "100"),
        ("Go live", "milestone", "20260731T170000Z", "20260731T170000Z", "0"),
        ("Ana Lima", "normal", "20260105T080000Z", "20260130T170000Z", "0"),
        ("Ana Lima", "normal", "20260302T080000Z", "20260320T170000Z", "0"),
        ("Bo Chen", "normal", "20260112T080000Z", "20260123T170000Z", "0"),
        ("Bo Chen", "normal", "20260511T080000Z", "20260522T170000Z", "0")])
    if got != wanted:
        return "tasks %r, expected %r" % (got, wanted)
    resources = {r.get("id"): r for r in root.findall("resources/resource")}
    got = sorted((r.get("name"), r.get("type"), round(float(r.get("units")) * 40),
                  float(r.get("std-rate"))) for r in resources.values())
    if got != [("Ana Lima", "1", 37, 65.5), ("Bo Chen", "1", 40, 0.0)]:
        return "resources %r" % got
    names = {t.get("id"): (t.get("name"), t.get("start")) for t in tasks}
    got = sorted((names[a.get("task-id")], resources[a.get("resource-id")].get("name"),
                  a.get("units")) for a in root.findall("allocations/allocation"))
    wanted = sorted([(("Ana Lima", "20260105T080000Z"), "Ana Lima", "50"),
                     (("Ana Lima", "20260302T080000Z"), "Ana Lima", "30"),
                     (("Bo Chen", "20260112T080000Z"), "Bo Chen", "100"),
                     (("Bo Chen", "20260511T080000Z"), "Bo Chen", "25")])
    if got != wanted:
        return "allocations %r, expected %r" % (got, wanted)
    return None


def planner_main(path):
    why = planner_check(path)
    if why:
        print("GNOME Planner's reading of %s: %s" % (path, why), file=sys.stderr)
        sys.exit(1)
    # The check can fail: the same plan outside the Project namespace
    text = open(path, encoding="utf-8").read()
    broken = text.replace("http://schemas.microsoft.com/project", "urn:not-project", 1)
    with tempfile.NamedTemporaryFile("w", suffix=".xml", delete=False, encoding="utf-8") as f:
        f.write(broken)
        name = f.name
    try:
        if planner_check(name) is None:
            print("a plan outside the Project namespace passed the check", file=sys.stderr)
            sys.exit(1)
    finally:
        os.unlink(name)
    print("%s: GNOME Planner reads EXP-1's 6 tasks, 2 resources and 4 allocations; "
          "a broken copy fails" % path)


if __name__ == "__main__":
    if sys.argv[1] == "--planner":
        planner_main(sys.argv[2])
    else:
        main(sys.argv[1])
