#!/usr/bin/env bash
# Runs every cargo-fuzz target for a bounded time (FUZZ_SECONDS each,
# default 60) on the nightly toolchain, from the seed corpus of the
# repository's own policies. Installs cargo-fuzz when it is missing.
# A crash fails the step; libFuzzer writes the input to fuzz/artifacts/.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${FUZZ_SECONDS:-60}"
if ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi
fuzz/seed-corpus.sh
cd fuzz
for target in $(cargo +nightly fuzz list); do
    echo "fuzzing \`$target\` for ${seconds}s"
    cargo +nightly fuzz run --release --sanitizer none "$target" "corpus/$target" -- \
        -max_total_time="$seconds" -max_len=16384 -timeout=10 -print_final_stats=1
done
