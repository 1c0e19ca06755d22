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
# The versions of package-lock.json, exactly.
npm ci --no-audit --no-fund --loglevel=error
npx --no-install vscode-tmgrammar-test -g syntaxes/policy.tmLanguage.json 'tests/grammar/*.policy'
# One bundle (the client with the language-client library inside), loaded
# once with a stand-in for the `vscode` module.
npm run -s bundle
node tests/smoke.js "$work/dist/extension.js"
npx --no-install vsce package --no-dependencies --skip-license --allow-missing-repository --out "$work/policyc.vsix"
# The package holds the manifest, the grammar, the language configuration
# and the bundle: no sources, no node_modules, no tests.
listing=$(unzip -l "$work/policyc.vsix")
for f in extension/package.json extension/syntaxes/policy.tmLanguage.json \
         extension/language-configuration.json extension/dist/extension.js; do
  grep -q "$f" <<<"$listing" || { echo "policyc.vsix lacks $f" >&2; exit 1; }
done
for f in extension/tests/ extension/node_modules/ extension/extension.js; do
  if grep -q "$f" <<<"$listing"; then echo "policyc.vsix ships $f" >&2; exit 1; fi
done
files=$(unzip -Z1 "$work/policyc.vsix" | wc -l)
[ "$files" -le 10 ] || { echo "policyc.vsix holds $files files" >&2; exit 1; }
mkdir -p "$out"
cp "$work/policyc.vsix" "$out/policyc.vsix"
echo "editors: grammar tests passed; built $out/policyc.vsix ($(wc -c <"$out/policyc.vsix") bytes)"
