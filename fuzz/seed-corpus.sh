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
echo "seed corpus: $(ls corpus/compile | wc -l) inputs per target in fuzz/corpus/"
