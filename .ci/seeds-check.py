#!/usr/bin/env python3
"""Cross-checks the seed tables kept in the repository against the original
seed documents.

The tests read the facts of each seed page from
`crates/policyc/tests/fixtures/seeds/*.table.yaml`, so they run on any clone.
This step, run by `.ci/run` where the documents exist, parses the documents
themselves (the Humanloop table row by row, the Vellum role sections bullet by
bullet) and fails if the data written in the repository disagrees with them.

Usage: .ci/seeds-check.py [SEEDS_DIR]   (default: ../shared/seeds beside the repo,
or $POLICYC_SEEDS_DIR).
"""
import os
import sys

import yaml

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
DATA = os.path.join(ROOT, "crates/policyc/tests/fixtures/seeds")
CHECK = "\u2714\ufe0f"  # the page's "has it" mark


def humanloop(text, columns):
    """The table after the `ActionMemberDeveloperAdmin` header: each row is the
    action followed by one mark per role that has it; the page drops empty
    cells, so the marks fill the columns from the right."""
    header = "Action" + "".join(columns)
    lines = text.splitlines()
    start = next((i for i, l in enumerate(lines) if l.strip() == header), None)
    if start is None:
        sys.exit(f"humanloop: no `{header}` table header in the document")
    rows = []
    for n, raw in enumerate(lines[start + 1:], start + 2):
        line = raw.strip()
        if not line:
            break
        first = line.find(CHECK)
        if first < 0:
            sys.exit(f"humanloop: document line {n}: row {line!r} has no mark")
        action = line[:first].strip()
        rest, marks = line[first:], 0
        while rest.startswith(CHECK):
            marks += 1
            rest = rest[len(CHECK):].lstrip()
        if rest or not action or marks > len(columns):
            sys.exit(f"humanloop: document line {n}: malformed row {line!r}")
        rows.append({"action": action, "roles": columns[len(columns) - marks:]})
    enterprise_only = sorted(
        c for c in columns
        if any(l.strip().startswith(c + ":")
               and l.strip()[len(c) + 1:].lstrip().startswith("(Enterprise tier only)")
               for l in lines))
    return rows, enterprise_only


def vellum(text, names):
    """The "Available Roles" part: role sections and their bullets, in order,
    up to "Managing User Roles" or "Best Practices"."""
    sections, inside = [], False
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if line == "Available Roles":
            inside = True
            continue
        if not inside:
            continue
        if line in ("Managing User Roles", "Best Practices"):
            break
        if line in names:
            sections.append({"role": line, "bullets": []})
        elif line.startswith("\u2022"):
            if not sections:
                sys.exit(f"vellum: document line {n}: bullet before any role section")
            sections[-1]["bullets"].append(line[1:].strip())
    if not inside:
        sys.exit("vellum: no `Available Roles` part in the document")
    return sections


def main():
    seeds = (sys.argv[1] if len(sys.argv) > 1 else None) or os.environ.get(
        "POLICYC_SEEDS_DIR") or os.path.join(ROOT, "..", "shared", "seeds")
    if not os.path.isdir(seeds):
        sys.exit(f"seeds-check: the seed documents are not at {seeds}")
    failures = []

    def load(name):
        with open(os.path.join(DATA, name), encoding="utf-8") as f:
            data = yaml.safe_load(f)
        with open(os.path.join(seeds, data["document"]), encoding="utf-8") as f:
            return data, f.read()

    data, text = load("humanloop.table.yaml")
    rows, enterprise_only = humanloop(text, data["columns"])
    if rows != data["rows"]:
        failures.append(("humanloop.table.yaml rows", data["rows"], rows))
    if enterprise_only != sorted(data["enterprise_only"]):
        failures.append(("humanloop.table.yaml enterprise_only",
                         data["enterprise_only"], enterprise_only))

    data, text = load("vellum.table.yaml")
    sections = vellum(text, [r["role"] for r in data["roles"]])
    if sections != data["roles"]:
        failures.append(("vellum.table.yaml roles", data["roles"], sections))

    for what, written, document in failures:
        print(f"seeds-check: {what} disagrees with the seed document", file=sys.stderr)
        print(f"  written here: {written}", file=sys.stderr)
        print(f"  document:     {document}", file=sys.stderr)
    if failures:
        sys.exit(1)
    print(f"seeds-check: ok: {len(rows)} Humanloop rows, {len(sections)} Vellum roles "
          "agree with the documents")


if __name__ == "__main__":
    main()
