#!/usr/bin/env python3
"""Check a Microsoft Project XML file (MSPDI) against the structure of the
files Project itself saved (tests/import/mspdi: Project 2002-2019 output
from the MPXJ project's test data, see its README).

Microsoft's schema (mspdi_pj12.xsd) cannot be shipped with pmo and there is
no network at test time, so this learns what it can from Project's own
output, with ElementTree (independent of pmo's C code):
  - the elements Project writes under each element (by name);
  - their order: for two children a and b, if Project wrote a before b
    and never b before a, a file that has b before a is wrong;
  - which children Project repeats (Task, ExtendedAttribute, Baseline,
    TimephasedData...), so that a second Name in a Task is wrong;
  - the type of each leaf's text as Project wrote it: integer, decimal,
    date-time (2003-01-07T08:00:00), time (08:00:00), duration
    (PT8H0M0S), GUID or text.
What it cannot know: elements and values no file of the corpus has, and
the schema's own rules beyond those (enumerations, required elements).
Three things pmo writes that no file of the corpus has are added from
Microsoft's element reference for mspdi_pj12.xsd (the "Alias Element",
"StandardRate Element" and "XML Schema for the Project Element" pages of
the Project XML Data Interchange docs), in DOCUMENTED below: a custom
field's Alias (a string, after its FieldName), a StandardRate that is a
decimal (the corpus's rates are all whole), and the project's StatusDate
(a date-time between AutoAddNewResourcesAndTasks and CurrentDate, so in
the order of everything the corpus puts before or after those two).

  mspdi_structure.py FILE        exit 0 if FILE keeps those rules, else 1
                                 with every breach (element path: what)
  mspdi_structure.py --broken FILE
                                 prove the check can fail: three broken
                                 copies of FILE (two children swapped, a
                                 date that is not one, an element Project
                                 never writes there) must each be refused
"""
import copy
import glob
import os
import re
import sys
import xml.etree.ElementTree as ET

NS = "{http://schemas.microsoft.com/project}"
CORPUS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "mspdi")

KINDS = [
    ("integer", re.compile(r"^-?\d+$")),
    ("decimal", re.compile(r"^-?\d+\.\d+$")),
    ("datetime", re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$")),
    ("time", re.compile(r"^\d\d:\d\d:\d\d$")),
    ("duration", re.compile(r"^-?PT\d+H\d+M\d+(\.\d+)?S$")),
    ("guid", re.compile(r"^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$")),
]


# (parent, child): (the sibling it follows, the sibling it precedes, the
# kinds its text may have); None for an element the corpus has, whose
# order it teaches
DOCUMENTED = {
    ("ExtendedAttribute", "Alias"): ("FieldName", None, {"text"}),
    ("Resource", "StandardRate"): (None, None, {"integer", "decimal"}),
    ("Project", "StatusDate"): ("AutoAddNewResourcesAndTasks", "CurrentDate", {"datetime"}),
}


def kind_of(text):
    for name, pattern in KINDS:
        if pattern.match(text):
            return name
    return "text"


def local(tag):
    return tag[len(NS):] if tag.startswith(NS) else tag


class Rules:
    def __init__(self):
        self.children = {}  # parent -> set of child names
        self.before = {}  # parent -> set of (a, b): a seen before b
        self.repeated = {}  # parent -> set of children seen more than once
        self.kinds = {}  # (parent, child) -> set of kinds of its text

    def document(self):
        for (parent, child), (after, follows, kinds) in DOCUMENTED.items():
            before = self.before.setdefault(parent, set())
            learned = set(before)
            if after is not None:
                self.children.setdefault(parent, set()).add(child)
                before.add((after, child))
                # what comes before the sibling it follows comes before it
                before.update((a, child) for a, b in learned if b == after)
            if follows is not None:
                before.add((child, follows))
                before.update((child, b) for a, b in learned if a == follows)
            self.kinds.setdefault((parent, child), set()).update(kinds)

    def learn(self, element):
        parent = local(element.tag)
        names = [local(c.tag) for c in element]
        self.children.setdefault(parent, set()).update(names)
        before = self.before.setdefault(parent, set())
        seen = []
        for name in names:
            for earlier in seen:
                if earlier != name:
                    before.add((earlier, name))
            if name in seen:
                self.repeated.setdefault(parent, set()).add(name)
            else:
                seen.append(name)
        for child in element:
            if len(child) == 0 and child.text and child.text.strip():
                self.kinds.setdefault((parent, local(child.tag)), set()).add(
                    kind_of(child.text.strip()))
            self.learn(child)

    def check(self, element, path, breaches):
        parent = local(element.tag)
        known = self.children.get(parent, set())
        names = [local(c.tag) for c in element]
        before = self.before.get(parent, set())
        for i, a in enumerate(names):
            for b in names[i + 1:]:
                if a != b and (b, a) in before and (a, b) not in before:
                    breaches.append("%s: %s before %s; Project writes %s first" %
                                    (path, a, b, b))
        counted = {}
        for name in names:
            counted[name] = counted.get(name, 0) + 1
        for name, n in counted.items():
            if n > 1 and name not in self.repeated.get(parent, set()):
                breaches.append("%s: %d %s elements; Project writes one" % (path, n, name))
        for index, child in enumerate(element):
            name = local(child.tag)
            where = "%s/%s[%d]" % (path, name, index + 1)
            if not child.tag.startswith(NS):
                breaches.append("%s: not in the Project namespace" % where)
                continue
            if name not in known:
                breaches.append("%s: Project never writes %s in %s" % (where, name, parent))
                continue
            if len(child) == 0 and child.text and child.text.strip():
                kinds = self.kinds.get((parent, name))
                kind = kind_of(child.text.strip())
                ok = kinds is None or kind in kinds or (kind == "integer" and "decimal" in kinds)
                if not ok:
                    breaches.append("%s: '%s' is %s; Project writes %s there" %
                                    (where, child.text.strip(), kind, " or ".join(sorted(kinds))))
            self.check(child, where, breaches)


def learn_corpus():
    rules = Rules()
    files = sorted(glob.glob(os.path.join(CORPUS, "*.xml")))
    assert files, "no Project files in " + CORPUS
    for name in files:
        root = ET.parse(name).getroot()
        rules.learn(root)
    rules.document()
    return rules, len(files)


def check(rules, root):
    breaches = []
    if root.tag != NS + "Project":
        breaches.append("the root is %s, not Project in the Project namespace" % root.tag)
    else:
        rules.check(root, "Project", breaches)
    return breaches


def broken_copies(root):
    """Three copies of root, each broken in one way, with what breaks it."""
    out = []
    # Two children swapped: the first element with two children Project
    # orders one way only
    swapped = copy.deepcopy(root)
    for element in swapped.iter():
        kids = list(element)
        if len(kids) >= 2 and local(kids[0].tag) != local(kids[1].tag):
            element.remove(kids[0])
            element.insert(1, kids[0])
            out.append(("two children swapped in " + local(element.tag), swapped))
            break
    # A date-time that is not one
    bad_date = copy.deepcopy(root)
    for element in bad_date.iter(NS + "StartDate"):
        element.text = "07/01/2003"
        out.append(("StartDate 07/01/2003", bad_date))
        break
    # An element Project never writes in a Task
    stray = copy.deepcopy(root)
    for element in stray.iter(NS + "Task"):
        ET.SubElement(element, NS + "ProjectCode").text = "X"
        out.append(("ProjectCode in a Task", stray))
        break
    return out


def main(argv):
    broken = argv[1:2] == ["--broken"]
    files = argv[2:] if broken else argv[1:]
    if len(files) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    rules, n = learn_corpus()
    root = ET.parse(files[0]).getroot()
    if broken:
        copies = broken_copies(root)
        assert len(copies) == 3, "the file is too small to break three ways"
        for what, tree in copies:
            breaches = check(rules, tree)
            if not breaches:
                print("NOT refused: %s" % what, file=sys.stderr)
                return 1
            print("refused (%s): %s" % (what, breaches[0]))
        return 0
    breaches = check(rules, root)
    for b in breaches:
        print(b, file=sys.stderr)
    elements = sum(1 for _ in root.iter())
    print("%s: %d elements checked against %d files Project saved: %d breaches" %
          (os.path.basename(files[0]), elements, n, len(breaches)))
    return 1 if breaches else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
