#!/usr/bin/env python3
"""mspdi_pool_expect.py: an independent reading of the resources and
assignments of Microsoft Project XML (MSPDI) files, by the rules
services/pmoctl/README-import.md gives, with Python's ElementTree and
datetime.isocalendar: work resources, skipped ones (material, cost,
unassigned work) and the allocation rows by ISO week. test_mspdi_pool.c
carries its figures; run it again when a rule or a file changes:

    python3 tests/import/mspdi_pool_expect.py tests/import/mspdi/*.xml
    python3 tests/import/mspdi_pool_expect.py tests/import/mspdi/sample1.xml  # with the rows
"""
import sys, datetime, xml.etree.ElementTree as ET
ns = {'p': 'http://schemas.microsoft.com/project'}
def t(e, name):
    c = e.find('p:' + name, ns)
    return (c.text or '').strip() if c is not None and c.text else ''
def hours(text):
    import re
    m = re.fullmatch(r'PT(\d+(?:\.\d+)?)H(\d+(?:\.\d+)?)M(\d+(?:\.\d+)?)S', text)
    return float(m[1]) + float(m[2]) / 60 + float(m[3]) / 3600
for f in sys.argv[1:]:
    root = ET.parse(f).getroot()
    work, material, cost = {}, 0, 0
    for r in root.findall('p:Resources/p:Resource', ns):
        if t(r, 'IsNull') == '1' or not t(r, 'Name'):
            continue
        if t(r, 'IsCostResource') == '1' or t(r, 'Type') == '2':
            cost += 1
        elif t(r, 'Type') == '0':
            material += 1
        else:
            work[t(r, 'UID')] = {}
    skipped_asg = 0
    for a in root.findall('p:Assignments/p:Assignment', ns):
        weeks = work.get(t(a, 'ResourceUID'))
        if weeks is None:
            skipped_asg += 1
            continue
        tp = 0
        for td in a.findall('p:TimephasedData', ns):
            if t(td, 'Type') != '1' or not t(td, 'Value'):
                continue
            h = hours(t(td, 'Value'))
            d = datetime.date.fromisoformat(t(td, 'Start')[:10])
            if h > 0:
                mon = d - datetime.timedelta(days=d.weekday())
                weeks[mon] = weeks.get(mon, 0) + h
            tp += h
        if tp > 0:
            continue
        w = hours(t(a, 'Work')) if t(a, 'Work') else 0
        if w == 0:
            continue
        s = datetime.date.fromisoformat(t(a, 'Start')[:10]); e = datetime.date.fromisoformat(t(a, 'Finish')[:10])
        days = [s + datetime.timedelta(days=i) for i in range((e - s).days + 1)]
        wd = [d for d in days if d.weekday() < 5] or [s]
        for d in wd:
            mon = d - datetime.timedelta(days=d.weekday())
            weeks[mon] = weeks.get(mon, 0) + w / len(wd)
    rows = []
    for uid, weeks in work.items():
        ks = sorted(weeks)
        i = 0
        while i < len(ks):
            h = int(weeks[ks[i]] + 0.5)
            j = i + 1
            while j < len(ks) and ks[j] == ks[j-1] + datetime.timedelta(days=7) and int(weeks[ks[j]] + 0.5) == h:
                j += 1
            if h > 0:
                a, b = ks[i].isocalendar(), ks[j-1].isocalendar()
                rows.append((uid, h, '%d-W%02d' % (a[0], a[1]), '%d-W%02d' % (b[0], b[1])))
            i = j
    print(f.split('/')[-1], 'work', len(work), 'skipped', material + cost + skipped_asg, '(material', material, 'cost', cost, 'unassigned', str(skipped_asg) + ')', 'allocations', len(rows))
    if len(sys.argv) == 2:
        for r in rows: print('  ', r)
