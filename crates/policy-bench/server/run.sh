#!/usr/bin/env bash
# Load benchmark, side by side in one run: `policyc serve` and the Cerbos PDP
# on the same Humanloop decisions, on loopback, at fixed concurrency, bounded
# in request count and time. Then the memory and reload time of
# `policyc serve` with the 10,000-role artifact. Not part of `cargo test` or
# .ci/run (it takes a few minutes). Results: docs/performance.md.
#
#   bash crates/policy-bench/server/run.sh                 # defaults below
#   CONCURRENCY=64 REQUESTS=500000 SECONDS_MAX=30 bash crates/policy-bench/server/run.sh
#   CERBOS_BIN=/path/to/cerbos bash crates/policy-bench/server/run.sh   # skip the npm install
set -euo pipefail
cd "$(dirname "$0")/../../.."
ROOT=$(pwd)
CONCURRENCY=${CONCURRENCY:-32}
REQUESTS=${REQUESTS:-300000}
SECONDS_MAX=${SECONDS_MAX:-20}
CASES=policies/humanloop.test.yaml
WORK=$(mktemp -d)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

echo "== build (release)"
cargo build --release --locked -q -p policyc -p policy-bench --features policy-bench/load \
  --bin policyc --bin policy-load --bin policy-bench
POLICYC=$ROOT/target/release/policyc
LOAD=$ROOT/target/release/policy-load

if [[ -z "${CERBOS_BIN:-}" ]]; then
  echo "== npm install @cerbos/cerbos-linux-x64 (in $WORK)"
  (cd "$WORK" && npm install --silent --no-audit --no-fund @cerbos/cerbos-linux-x64 >/dev/null)
  CERBOS_BIN=$WORK/node_modules/@cerbos/cerbos-linux-x64/cerbos-linux-x64
fi
echo "cerbos: $("$CERBOS_BIN" --version | head -1)"

# Starts `policyc serve FILE ARGS...` in the background; sets SERVE_PID,
# HTTP_ADDR, GRPC_ADDR once both `listening:` lines are printed.
start_policyc() {
  local file=$1 log=$2
  shift 2
  "$POLICYC" serve "$file" --http 127.0.0.1:0 --grpc 127.0.0.1:0 --watch-interval-ms 0 "$@" 2>"$log" &
  SERVE_PID=$!
  PIDS+=("$SERVE_PID")
  for _ in $(seq 1 600); do
    if grep -q '^listening: grpc://' "$log"; then break; fi
    sleep 0.1
  done
  HTTP_ADDR=$(sed -n 's#^listening: http://##p' "$log")
  GRPC_ADDR=$(sed -n 's#^listening: grpc://##p' "$log")
  [[ -n "$HTTP_ADDR" && -n "$GRPC_ADDR" ]] || { cat "$log"; exit 1; }
}

rss_mib() { awk '/^VmRSS:/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }

echo "== start both servers"
start_policyc policies/humanloop.policy "$WORK/policyc.log"
P_PID=$SERVE_PID P_HTTP=$HTTP_ADDR P_GRPC=$GRPC_ADDR
cp -r crates/policy-bench/server/cerbos "$WORK/cerbos"
(cd "$WORK/cerbos" && exec "$CERBOS_BIN" server --config=config.yaml --log-level=error) >"$WORK/cerbos.log" 2>&1 &
C_PID=$!
PIDS+=("$C_PID")
C_HTTP=127.0.0.1:3592
for _ in $(seq 1 300); do
  if "$LOAD" verify cerbos "$C_HTTP" "$CASES" >/dev/null 2>&1; then break; fi
  sleep 0.1
done

echo "== same decisions first ($CASES: every cell)"
"$LOAD" verify policyc "$P_HTTP" "$CASES"
"$LOAD" verify policyc-grpc "$P_GRPC" "$CASES"
"$LOAD" verify cerbos "$C_HTTP" "$CASES"

run() {
  # A short warm-up, then the measured run.
  "$LOAD" run "$1" "$2" "$CASES" --concurrency "$CONCURRENCY" --requests 5000 --seconds 5 >/dev/null
  "$LOAD" run "$1" "$2" "$CASES" --concurrency "$CONCURRENCY" --requests "$REQUESTS" --seconds "$SECONDS_MAX"
}
echo "== load: concurrency $CONCURRENCY, at most $REQUESTS requests or ${SECONDS_MAX}s each, loopback"
P_LINE=$(run policyc "$P_HTTP")
echo "$P_LINE"
C_LINE=$(run cerbos "$C_HTTP")
echo "$C_LINE"
G_LINE=$(run policyc-grpc "$P_GRPC")
echo "$G_LINE"
field() { sed -n "s/.*\"$2\":\([0-9.]*\).*/\1/p" <<<"$1"; }
echo "RSS after load: policyc $(rss_mib "$P_PID") MiB, cerbos $(rss_mib "$C_PID") MiB"
awk -v pt="$(field "$P_LINE" throughput_rps)" -v ct="$(field "$C_LINE" throughput_rps)" \
    -v pp="$(field "$P_LINE" p99_ms)" -v cp="$(field "$C_LINE" p99_ms)" \
    'BEGIN { printf "ratio (HTTP): throughput policyc/cerbos = %.1fx; p99 policyc %s ms vs cerbos %s ms\n", pt / ct, pp, cp }'
kill "$P_PID" "$C_PID" 2>/dev/null || true

echo "== 10,000 roles / 50,000 permissions / depth 100: memory and reload time"
"$ROOT/target/release/policy-bench" gen 10000 50000 100 >"$WORK/g10k.policy"
"$POLICYC" compile "$WORK/g10k.policy" -o "$WORK/g10k.json"
ls -l "$WORK/g10k.policy" | awk '{ printf "source: %.1f MiB\n", $5 / 1048576 }'
ls -l "$WORK/g10k.json" | awk '{ printf "artifact: %.1f MiB\n", $5 / 1048576 }'
# The JSON artifact of this policy is far over policyc's 16 MiB file limit
# (P0504), so the server loads the source, which it compiles on every load.
G10K=$WORK/g10k.policy
if [[ $(stat -c %s "$WORK/g10k.json") -le $((16 * 1024 * 1024)) ]]; then G10K=$WORK/g10k.json; fi
echo "serving: $(basename "$G10K")"
START=$(date +%s.%N)
start_policyc "$G10K" "$WORK/g10k.log"
END=$(date +%s.%N)
awk -v s="$START" -v e="$END" 'BEGIN { printf "start to listening: %.2f s\n", e - s }'
echo "RSS serving: $(rss_mib "$SERVE_PID") MiB"
for i in 1 2 3; do
  kill -HUP "$SERVE_PID"
  for _ in $(seq 1 600); do
    if [[ $(grep -c '^reloaded' "$WORK/g10k.log") -ge $i ]]; then break; fi
    sleep 0.1
  done
  grep '^reloaded' "$WORK/g10k.log" | tail -1
  echo "RSS after reload $i: $(rss_mib "$SERVE_PID") MiB"
done
grep VmHWM "/proc/$SERVE_PID/status"
