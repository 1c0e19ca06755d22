#!/usr/bin/env bash
# Editor syntax: runs the TextMate grammar tests and packages the VS Code
# extension into a .vsix, in a temporary copy of editors/vscode (node_modules
# and the .vsix never land in the repository). Needs node and npm, and the npm
# registry for `npm install`. Usage: .ci/editors.sh [OUT_DIR]  (the .vsix is
# written to OUT_DIR, default target/vsix).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
out=${1:-$root/target/vsix}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r editors/vscode/. "$work/"
rm -rf "$work/node_modules" "$work"/*.vsix
cd "$work"
npm install --no-audit --no-fund --loglevel=error
npx --no-install vscode-tmgrammar-test -g syntaxes/policy.tmLanguage.json 'tests/grammar/*.policy'
npx --no-install vsce package --skip-license --allow-missing-repository --out "$work/policyc.vsix"
# The package holds the manifest, the grammar, the language configuration,
# the client, and the language-client runtime dependency.
listing=$(unzip -l "$work/policyc.vsix")
for f in extension/package.json extension/syntaxes/policy.tmLanguage.json \
         extension/language-configuration.json extension/extension.js \
         extension/node_modules/vscode-languageclient/package.json; do
  grep -q "$f" <<<"$listing" || { echo "policyc.vsix lacks $f" >&2; exit 1; }
done
if grep -q "extension/tests/" <<<"$listing"; then echo "policyc.vsix ships the tests" >&2; exit 1; fi
mkdir -p "$out"
cp "$work/policyc.vsix" "$out/policyc.vsix"
echo "editors: grammar tests passed; built $out/policyc.vsix ($(wc -c <"$out/policyc.vsix") bytes)"
