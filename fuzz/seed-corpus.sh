#!/usr/bin/env bash
# Builds the seed corpus of every fuzz target from the repository's own
# policies: the UI fixtures, policies/, and every ```policy block in the
# docs. The corpus is generated, not committed (fuzz/corpus/ is ignored),
# so the repository stays small; libFuzzer adds what it finds to it.
set -euo pipefail
cd "$(dirname "$0")"
root=..
for target in compile fmt; do
    dir="corpus/$target"
    mkdir -p "$dir"
    n=0
    while IFS= read -r -d '' f; do
        n=$((n + 1))
        cp "$f" "$dir/seed-file-$n.policy"
    done < <(find "$root/tests/ui" "$root/policies" -name '*.policy' -print0 | sort -z)
    # Each ```policy fenced block of the docs becomes one seed.
    for md in "$root"/README.md "$root"/docs/*.md "$root"/docs/errors/*.md; do
        awk -v dir="$dir" -v base="$(basename "$md" .md)" '
            /^```policy[[:space:]]*$/ { inside = 1; k++; out = dir "/seed-doc-" base "-" k ".policy"; printf "" > out; next }
            /^```/ && inside { inside = 0; close(out); next }
            inside { print >> out }
        ' "$md"
    done
done
# The language server's target: a byte 0 (the rest is the raw stream), then
# a whole session on each policy of policies/ and each UI fixture: open,
# hover, format, edit, complete, shut down and exit, framed as a client
# frames it.
mkdir -p corpus/lsp
python3 - "$root" corpus/lsp <<'PY'
import json, pathlib, sys
root, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
files = sorted(root.joinpath("policies").glob("*.policy")) + sorted(root.joinpath("tests/ui").rglob("*.policy"))
def frame(msg):
    body = json.dumps(msg).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body
for n, path in enumerate(files, 1):
    uri = "file:///w/" + path.name
    doc = {"uri": uri}
    at = {"textDocument": doc, "position": {"line": 2, "character": 6}}
    session = [
        {"id": 1, "method": "initialize", "params": {"capabilities": {}}},
        {"method": "initialized", "params": {}},
        {"method": "textDocument/didOpen", "params": {"textDocument": {
            "uri": uri, "languageId": "policy", "version": 1,
            "text": path.read_text(encoding="utf-8", errors="replace")}}},
        {"id": 2, "method": "textDocument/hover", "params": at},
        {"id": 3, "method": "textDocument/formatting", "params": {
            "textDocument": doc, "options": {"tabSize": 2, "insertSpaces": True}}},
        {"method": "textDocument/didChange", "params": {"textDocument": {"uri": uri, "version": 2},
            "contentChanges": [{"range": {"start": {"line": 1, "character": 0},
                                          "end": {"line": 1, "character": 3}}, "text": "role x \"X\" {}\n"}]}},
        {"id": 4, "method": "textDocument/completion", "params": at},
        {"id": 5, "method": "shutdown"},
        {"method": "exit"},
    ]
    data = b"\x00" + b"".join(frame(dict(jsonrpc="2.0", **m)) for m in session)
    out.joinpath("seed-session-%d" % n).write_bytes(data)
PY
echo "seed corpus: $(ls corpus/compile | wc -l) inputs per target in fuzz/corpus/ ($(ls corpus/lsp | wc -l) sessions for lsp)"
