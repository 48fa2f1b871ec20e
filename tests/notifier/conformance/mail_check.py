#!/usr/bin/python3
"""mail_check.py: every email the notifier's tests captured, checked by
Python's email package (RFC 5322 / MIME parsing with the default policy,
which records every defect), and a deliberately broken message that must
be refused (so the check can fail).

A message conforms when: the parser finds no defect in the message, its
parts or its headers; From and To parse into addresses (display names
kept); Subject, Date and Message-ID are present; it is
multipart/alternative with a text/plain and a text/html part that decode
as UTF-8; lines end in CRLF and none is over 998 characters.

usage: mail_check.py CAPTURES_DIR   (exit 0: all good)
"""
import email
import email.policy
import os
import sys


def problems(raw):
    found = []
    if b"\n" in raw.replace(b"\r\n", b""):
        found.append("a line not ended by CRLF")
    if any(len(line) > 998 for line in raw.split(b"\r\n")):
        found.append("a line over 998 characters")
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    for part in msg.walk():
        found += ["defect: %r" % d for d in part.defects]
    for name in ("From", "To", "Subject", "Date", "Message-ID"):
        values = msg.get_all(name) or []
        if len(values) != 1:
            found.append("%d %s headers" % (len(values), name))
            continue
        header = values[0]
        found += ["%s: %r" % (name, d) for d in getattr(header, "defects", [])]
        if name in ("From", "To") and not all(a.addr_spec and "@" in a.addr_spec
                                              for a in header.addresses):
            found.append("%s does not parse into addresses: %r" % (name, str(header)))
    if msg.get_content_type() != "multipart/alternative":
        found.append("not multipart/alternative: " + msg.get_content_type())
    else:
        types = [p.get_content_type() for p in msg.iter_parts()]
        if types != ["text/plain", "text/html"]:
            found.append("parts %r" % types)
        for p in msg.iter_parts():
            try:
                p.get_content()
            except Exception as e:  # undecodable
                found.append("part %s: %s" % (p.get_content_type(), e))
    return found


def main():
    root = sys.argv[1]
    files = []
    for d in sorted(os.listdir(root)):
        if d.endswith("-mail"):
            files += [os.path.join(root, d, f) for f in sorted(os.listdir(os.path.join(root, d)))]
    if not files:
        print("mail_check: no captured email in %s" % root, file=sys.stderr)
        return 2
    failures = []
    sample = None
    for path in files:
        raw = open(path, "rb").read()
        # the Maildir delivery agent prepends its own headers; the notifier's
        # message starts at its Date header
        start = raw.find(b"Date: ")
        raw = raw[start:] if start >= 0 else raw
        # and Python's mailbox module stores it with LF line ends: back to
        # the CRLF that went over SMTP
        if b"\r\n" not in raw:
            raw = raw.replace(b"\n", b"\r\n")
        sample = sample or raw
        failures += ["%s: %s" % (path, p) for p in problems(raw)]
    # A broken message: a display name that smuggles a header and a bare LF
    broken = sample.replace(b"\r\nTo: ", b"\r\nTo: \"Jane <jane@x\nBcc: evil@example.org\r\nX-To: ", 1)
    if not problems(broken):
        failures.append("the check cannot fail: a message with an injected header was accepted")
    else:
        print("mail_check: refused as it must be: a message with an injected header and a bare LF")
    for f in failures[:50]:
        print("FAIL " + f, file=sys.stderr)
    print("mail_check: %d messages checked" % len(files))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
