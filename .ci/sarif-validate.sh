#!/usr/bin/env bash
# Validates `policyc check --format sarif` against the official SARIF 2.1.0
# JSON schema (../shared/schemas/sarif-2.1.0.json, beside the repository;
# never vendored, so `cargo test` does not need it): a policy with errors,
# warnings and secondary labels, an unreadable path (a dangling symlink) and
# a missing one; a clean run; stdin; a did-you-mean (a result with `fixes`)
# with POLICYC_DOCS_URL set (`helpUri`); and a path that cannot be searched.
# `jsonschema` (with `rfc3987`, so URI formats are checked too) comes from
# PyPI into a throwaway venv. POLICYC=PATH validates that binary instead of
# building a release one.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
schema="${SARIF_SCHEMA:-$repo/../shared/schemas/sarif-2.1.0.json}"
[ -f "$schema" ] || { echo "sarif-validate: no schema at $schema" >&2; exit 1; }
if [ -z "${POLICYC:-}" ]; then
  (cd "$repo" && cargo build --release --locked --quiet -p policyc --no-default-features)
fi
policyc="${POLICYC:-$repo/target/release/policyc}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
python3 -m venv "$work/venv"
PIP_DISABLE_PIP_VERSION_CHECK=1 "$work/venv/bin/pip" install --quiet jsonschema rfc3987

mkdir -p "$work/in/dir"
cp "$repo/crates/policyc/tests/fixtures/report/formats.policy" "$work/in/dir/"
cp "$repo/crates/policyc/tests/fixtures/report/clean.policy" "$work/in/"
ln -s nowhere.policy "$work/in/dir/unreadable.policy"
cd "$work/in"
sarif() { # sarif NAME EXPECTED_EXIT ARGS...: writes $work/NAME.sarif
  local name=$1 want=$2
  shift 2
  set +e
  "$policyc" check --format sarif "$@" > "$work/$name.sarif"
  local got=$?
  set -e
  [ "$got" = "$want" ] || { echo "sarif-validate: $name exited $got, expected $want" >&2; exit 1; }
}
sarif mixed 2 dir/ missing.policy
sarif clean 0 clean.policy
sarif stdin 1 - --stdin-filename "src/a b.policy" < dir/formats.policy
sarif unsearchable 2 no-such-dir/
printf 'role member "Member" {}\nrole admin "Admin" {\n  inherits membr\n}\n' > typo.policy
POLICYC_DOCS_URL=https://git.internal/policyc/blob/main sarif typo 1 typo.policy

"$work/venv/bin/python" - "$schema" "$work" <<'PY'
import json, sys
from jsonschema import Draft7Validator
schema = json.load(open(sys.argv[1]))
# rfc3987 lets the format checker check the `uri` and `uri-reference` fields.
validator = Draft7Validator(schema, format_checker=Draft7Validator.FORMAT_CHECKER)
assert validator.format_checker.conforms("a b", "uri-reference") is False, "uri checks are active"
for name in ["mixed", "clean", "stdin", "unsearchable", "typo"]:
    log = json.load(open(f"{sys.argv[2]}/{name}.sarif"))
    errors = sorted(validator.iter_errors(log), key=lambda e: list(e.path))
    for e in errors:
        print(f"  {name}: {list(e.path)}: {e.message}", file=sys.stderr)
    if errors:
        sys.exit(f"sarif-validate: {name}.sarif does not validate")
    run = log["runs"][0]
    levels = sorted({r["level"] for r in run["results"]})
    notes = [n["descriptor"]["id"] for n in run["invocations"][0]["toolExecutionNotifications"]]
    print(f"sarif-validate: {name}.sarif valid: {len(run['results'])} results {levels}, "
          f"{len(run['tool']['driver']['rules'])} rules, notifications {notes}")
mixed = json.load(open(f"{sys.argv[2]}/mixed.sarif"))["runs"][0]
assert {"error", "warning"} <= {r["level"] for r in mixed["results"]}, "errors and warnings"
assert len(mixed["invocations"][0]["toolExecutionNotifications"]) == 2, "unreadable + missing"
typo = json.load(open(f"{sys.argv[2]}/typo.sarif"))["runs"][0]
assert typo["results"][0]["fixes"][0]["artifactChanges"][0]["replacements"][0]["insertedContent"]["text"] == "member"
assert typo["tool"]["driver"]["rules"][0]["helpUri"].endswith("/docs/errors/P0201.md")
PY
