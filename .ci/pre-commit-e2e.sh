#!/usr/bin/env bash
# End-to-end proof of the pre-commit hooks (.pre-commit-hooks.yaml):
# pre-commit from PyPI in a throwaway venv installs this checkout's hooks at
# its current commit into a temporary consumer repository, through
# pre-commit's own machinery (which builds policyc with maturin, locked),
# and the hooks pass a clean policy, fail an unknown role with P0201,
# rewrite an unformatted policy, fail a failing policy test and a stale
# snapshot, check a policy project when given one of its files, and fail
# a committed Cedar export that the policy no longer matches; and a
# `language: system` hook (docs/integrations.md) runs the release binary.
#
# The hook's build gets its own, empty CARGO_TARGET_DIR: it is built in
# Cargo's `hooks` profile, which no other step of CI builds, so the time
# printed for `install-hooks` is a first install's cold build.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
rev="$(git -C "$repo" rev-parse HEAD)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export CARGO_TARGET_DIR="$work/target"
mkdir -p "$CARGO_TARGET_DIR"
export PRE_COMMIT_HOME="$work/cache"
export PIP_DISABLE_PIP_VERSION_CHECK=1
fail() { echo "pre-commit-e2e: FAILED: $*" >&2; exit 1; }

python3 -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet pre-commit
pc="$work/venv/bin/pre-commit"
echo "pre-commit-e2e: $("$pc" --version), hooks from $repo at $rev"

echo "== 0. the hook's build uses Cargo.lock as committed (maturin passes --locked)"
mkdir "$work/stale"
git -C "$repo" archive "$rev" | tar -x -C "$work/stale"
# Drop one locked package: a build that re-resolved would quietly fix it.
python3 - "$work/stale/Cargo.lock" <<'PY'
import sys
path = sys.argv[1]
blocks = open(path).read().split("\n[[package]]\n")
kept = [b for b in blocks if not b.startswith('name = "similar"\n')]
assert len(kept) == len(blocks) - 1, "Cargo.lock has no `similar` entry"
open(path, "w").write("\n[[package]]\n".join(kept))
PY
set +e
"$work/venv/bin/pip" wheel --quiet --no-deps -w "$work/wheels" "$work/stale" > "$work/stale.log" 2>&1
status=$?
set -e
[ "$status" != 0 ] || fail "a build with a stale Cargo.lock succeeded"
grep -q 'because --locked was passed' "$work/stale.log" || { cat "$work/stale.log"; fail "the build did not refuse the stale Cargo.lock"; }
grep 'because --locked was passed' "$work/stale.log" | sed 's/^ */  | /'

consumer="$work/consumer"
mkdir -p "$consumer"
cd "$consumer"
git init --quiet .
git config user.email ci@localhost
git config user.name ci
cat > .pre-commit-config.yaml <<YAML
repos:
  - repo: $repo
    rev: $rev
    hooks:
      - id: policyc-fix
      - id: policyc-check
      - id: policyc-fmt
      - id: policyc-test
YAML
cat > acl.policy <<'POLICY'
tiers free < pro

permission docs.read "Read documents"
permission docs.write "Write documents"

role reader "Reader" {
  grants docs.read
}

role writer "Writer" on pro {
  inherits reader
  grants docs.write
}
POLICY
cat > acl.test.yaml <<'TESTS'
cases:
  - { roles: [reader], action: docs.read, tier: free, expect: allow }
  - { roles: [reader], action: docs.write, tier: pro, expect: deny }
  - { roles: [writer], action: docs.write, tier: pro, expect: allow }
TESTS
git add -A

start=$SECONDS
"$pc" install-hooks
echo "pre-commit-e2e: install-hooks took $((SECONDS - start)) s"
policyc_bin="$(find "$PRE_COMMIT_HOME" -path '*/bin/policyc' -type f | head -n 1)"
[ -x "$policyc_bin" ] || fail "the hook environment has no policyc binary"
"$policyc_bin" --version
# The committed snapshot, written by the hook's own policyc.
"$policyc_bin" snapshot acl.policy --update
git add -A

run() { # run EXPECTED_STATUS pre-commit-args...: prints the output, returns it in $out
  local want=$1
  shift
  set +e
  out="$("$pc" run "$@" 2>&1)"
  local got=$?
  set -e
  printf '%s\n' "$out" | sed 's/^/  | /'
  [ "$got" = "$want" ] || fail "\`pre-commit run $*\` exited $got, expected $want"
}

echo "== 1. a clean policy passes every hook"
run 0 --all-files

echo "== 2. an unknown role fails policyc-check with P0201"
cat > bad.policy <<'POLICY'
permission docs.read "Read documents"

role reader "Reader" {
  grants docs.read
}

role editor "Editor" {
  inherits readr
}
POLICY
git add bad.policy
run 1 policyc-check --files bad.policy
grep -q 'P0201' <<<"$out" || fail "no P0201 in the policyc-check output"
git rm --quiet --cached bad.policy && rm bad.policy

echo "== 3. an unformatted policy is rewritten by policyc-fmt, and the hook fails"
printf 'permission docs.read "Read documents"\nrole   reader "Reader"{grants docs.read}\n' > ugly.policy
git add ugly.policy
before="$(cat ugly.policy)"
run 1 policyc-fmt --files ugly.policy
grep -q 'files were modified by this hook' <<<"$out" || fail "pre-commit did not report the rewrite"
[ "$(cat ugly.policy)" != "$before" ] || fail "ugly.policy was not rewritten"
printf '  rewritten to:\n'; sed 's/^/  > /' ugly.policy
git add ugly.policy
run 0 policyc-fmt --files ugly.policy
git rm --quiet --cached ugly.policy && rm ugly.policy

echo "== 3b. a misspelt role is fixed by policyc-fix, and the hook fails"
printf 'permission docs.read "Read documents"\n\nrole reader "Reader" {\n  grants docs.read\n}\n\nrole editor "Editor" {\n  inherits readr\n}\n' > typo.policy
git add typo.policy
run 1 policyc-fix --files typo.policy
grep -q 'files were modified by this hook' <<<"$out" || fail "pre-commit did not report the fix"
grep -q 'inherits reader' typo.policy || fail "typo.policy was not fixed"
git add typo.policy
run 0 policyc-fix --files typo.policy
git rm --quiet --cached typo.policy && rm typo.policy

echo "== 4. a failing policy test fails policyc-test"
cp acl.test.yaml "$work/acl.test.yaml"
sed -i 's/action: docs.write, tier: pro, expect: deny/action: docs.write, tier: pro, expect: allow/' acl.test.yaml
git add acl.test.yaml
run 1 policyc-test --all-files
grep -q '1 failed' <<<"$out" || fail "policyc-test did not report the failed case"
cp "$work/acl.test.yaml" acl.test.yaml
git add acl.test.yaml

echo "== 5. a stale snapshot fails policyc-test"
sed -i 's/role writer "Writer" on pro {/role writer "Writer" {/' acl.policy
git add acl.policy
run 1 policyc-test --all-files
grep -q 'snapshot differs' <<<"$out" || fail "policyc-test did not report the stale snapshot"

sed -i 's/role writer "Writer" {/role writer "Writer" on pro {/' acl.policy
git add acl.policy

echo "== 6. a policy project: a hook given one changed file checks the whole project"
mkdir -p team
printf '[policy]\nname = "team"\n' > team/policyc.toml
printf 'permission docs.read "Read documents"\npermission docs.share "Share documents"\n' > team/permissions.policy
printf 'role sharer "Sharer" {\n  grants docs.read, docs.share\n}\n' > team/roles.policy
cat > team/team.test.yaml <<'TESTS'
policy: policyc.toml
cases:
  - { roles: [sharer], action: docs.share, expect: allow }
TESTS
git add team
# Alone, roles.policy would not know the permissions: the project does.
run 0 policyc-check --files team/roles.policy
run 0 policyc-test --all-files
# A permission renamed in one file breaks the other: reported there.
sed -i 's/docs.share "Share/docs.publish "Share/' team/permissions.policy
git add team/permissions.policy
run 1 policyc-check --files team/permissions.policy
grep -q 'P0202' <<<"$out" || fail "no P0202 for the project"
grep -q 'team/roles.policy' <<<"$out" || fail "the diagnostic does not name the file it is about"

sed -i 's/docs.publish "Share/docs.share "Share/' team/permissions.policy
git add team/permissions.policy

echo "== 7. policyc-export: a committed Cedar export passes, and fails once the policy changes"
cat >> .pre-commit-config.yaml <<YAML
  - repo: $repo
    rev: $rev
    hooks:
      - id: policyc-export
        args: [--to, cedar, acl.policy, -o, export/cedar, --check]
YAML
"$policyc_bin" export --to cedar acl.policy -o export/cedar --quiet
git add -A
run 0 policyc-export --all-files
sed -i 's/role reader "Reader" {/role reader "Reader" on pro {/' acl.policy
git add acl.policy
run 1 policyc-export --all-files
grep -q 'the export is stale' <<<"$out" || fail "policyc-export did not report the stale export"
grep -q 'export/cedar/acl.cedar' <<<"$out" || fail "policyc-export did not name the stale file"

echo "== 8. a \`language: system\` hook runs an installed policyc and builds nothing"
installed="$repo/target/release/policyc"
[ -x "$installed" ] || fail "no $installed: run the README's first command before this script"
cat >> .pre-commit-config.yaml <<'YAML'
  - repo: local
    hooks:
      - id: policyc-check-installed
        name: policyc check (installed)
        entry: policyc check --quiet
        language: system
        files: \.policy$
YAML
git add .pre-commit-config.yaml
printf 'permission docs.read "Read documents"\nrole editor "Editor" {\n  inherits readr\n}\n' > bad.policy
git add bad.policy
PATH="$(dirname "$installed"):$PATH" run 1 policyc-check-installed --files bad.policy
grep -q 'P0201' <<<"$out" || fail "no P0201 from the installed policyc"
git rm --quiet --cached bad.policy && rm bad.policy

echo "pre-commit-e2e: 10 passed, 0 failed"
