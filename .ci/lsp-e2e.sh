#!/usr/bin/env bash
# End-to-end tests of `policyc lsp`: builds policyc, installs pytest-lsp into
# a throwaway virtualenv under a temporary directory (from PyPI), and runs
# crates/policy-lsp/e2e/ against the real binary. Usage: .ci/lsp-e2e.sh
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
cargo build --locked -p policyc
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet --disable-pip-version-check "pytest-lsp>=1,<2"
cd crates/policy-lsp/e2e
POLICYC="$root/target/debug/policyc" "$work/venv/bin/python" -m pytest -p no:cacheprovider -v .
