#!/usr/bin/env python3
"""tests/deploy/test_doc_examples.py SOURCE_DIR: every example in the docs
parses. In every Markdown file of the repository: each ```json block is
JSON, each ```sh block is valid bash (bash -n). Every mapping file shipped
(deploy/data/*mapping*.json) is JSON with an entity and columns. Prints
what it checked; exits 1 naming each file and line that does not parse."""
import json
import pathlib
import re
import subprocess
import sys

root = pathlib.Path(sys.argv[1])
files = subprocess.run(["git", "-C", str(root), "ls-files", "*.md"], capture_output=True,
                       text=True, check=True).stdout.split()
fence = re.compile(r"^```(\w*)\s*$")
problems, counts = [], {"json": 0, "sh": 0, "mapping": 0}
for name in files:
    if "node_modules" in name:
        continue
    lines = (root / name).read_text(encoding="utf-8").split("\n")
    block, lang, start = None, None, 0
    for number, line in enumerate(lines, 1):
        match = fence.match(line.strip()) if line.lstrip().startswith("```") else None
        if block is None and match:
            block, lang, start = [], match.group(1), number
        elif block is not None and line.strip() == "```":
            text = "\n".join(block)
            if lang == "json":
                counts["json"] += 1
                try:
                    json.loads(text)
                except ValueError as error:
                    problems.append(f"{name}:{start}: a json example is not JSON: {error}")
            elif lang in ("sh", "bash"):
                counts["sh"] += 1
                run = subprocess.run(["bash", "-n"], input=text, capture_output=True, text=True)
                if run.returncode:
                    problems.append(f"{name}:{start}: a sh example is not valid bash: "
                                    f"{run.stderr.strip()}")
            block = None
        elif block is not None:
            block.append(line)
for path in sorted((root / "deploy" / "data").glob("*mapping*.json")):
    counts["mapping"] += 1
    try:
        mapping = json.loads(path.read_text(encoding="utf-8"))
        if "entity" not in mapping or not isinstance(mapping.get("columns"), list):
            problems.append(f"{path.relative_to(root)}: a mapping without entity or columns")
    except ValueError as error:
        problems.append(f"{path.relative_to(root)}: not JSON: {error}")
for problem in problems:
    print(f"test_doc_examples: {problem}", file=sys.stderr)
print(f"test_doc_examples: {counts['json']} json and {counts['sh']} sh examples in "
      f"{len(files)} Markdown files, {counts['mapping']} mapping files; {len(problems)} problems")
sys.exit(1 if problems else 0)
