#!/usr/bin/env bash
# Whole-process benchmark of every policyc command on the adversarial shapes
# of issue 13, old binary against new in the same hyperfine run.
#
#   crates/policy-bench/shapes/run.sh [OLD_POLICYC] [NEW_POLICYC]
#
# Defaults: OLD=/work/base-bin/policyc, NEW=target/release/policyc, and the
# generator target/release/policy-bench (build both with
# `cargo build --release -p policyc -p policy-bench`).
# Environment: SHAPES (default "chain all-earlier typos wildcards gated
# big"; `inherit-all` is all-earlier under issue 21's name), SIZE_<shape>
# (e.g. SIZE_chain=20000, SIZE_all_earlier=500; default: the size issue 13
# or 21 measures), CMDS (the commands to time, default all; `check` is
# always timed), RUNS (hyperfine runs, default 2), TIMEOUT (seconds per
# command, default 120), OUT (work directory, default a temporary one).
#
# For each shape it times check, compile, one query, who-can, what-can,
# snapshot, fmt, fmt --check and diff (against a one-line change), and
# matrix on typos (error rendering), and prints each command's mean time and
# its ratio to `check` on the same file, per binary. A command that hits
# the timeout is reported as "> TIMEOUT s".
#
# The shapes of issue 21: `inherit-all` (snapshot; each role inherits every
# earlier one), `chain` (snapshot; output quadratic in the roles), `gated`
# (compile: 64 tiers, 390 roles x 1,000 gated grants) and `typos` (query
# and matrix render every error).
# Files over 16 MiB are skipped unless the binary has `--max-file-size`.
set -euo pipefail

root=$(cd "$(dirname "$0")/../../.." && pwd)
old=${1:-/work/base-bin/policyc}
new=${2:-$root/target/release/policyc}
gen=${GEN:-$root/target/release/policy-bench}
shapes=${SHAPES:-chain all-earlier typos wildcards gated big}
runs=${RUNS:-2}
limit=${TIMEOUT:-120}
out=${OUT:-$(mktemp -d)}
mkdir -p "$out"
command -v hyperfine >/dev/null || { echo "hyperfine is required" >&2; exit 2; }

max_flag() { # the flag raising the file-size cap, if the binary has it
  if "$1" check --help 2>/dev/null | grep -q -- '--max-file-size'; then
    echo "--max-file-size 64MiB"
  fi
}

for shape in $shapes; do
  var="SIZE_${shape//-/_}"
  size=${!var:-}
  file="$out/$shape.policy"
  "$gen" gen --shape "$shape" $size >"$file"
  bytes=$(stat -c %s "$file")
  # The names each shape's queries use.
  case $shape in
    chain|all-earlier|inherit-all) n=$(grep -c '^role ' "$file"); role="r$((n - 1))"; perm=res0.view; tier= ;;
    typos) role=r0; perm=area0.item.manage; tier= ;;
    wildcards) role=w199; perm=s0.r0.view; tier= ;;
    gated) role=g0; perm=p0.x; tier="--tier t63" ;;
    big) role=r49; perm=res1.view; tier="--tier free" ;;
    *) echo "unknown shape $shape" >&2; exit 2 ;;
  esac
  # A one-line change for `diff`: the first role's label.
  sed '0,/^role \([a-z0-9]*\) "[^"]*"/s//role \1 "Renamed"/' "$file" >"$out/$shape.changed.policy"
  echo "== $shape: $(numfmt --to=iec "$bytes")B ($bytes bytes)"
  declare -A cmds=(
    [check]="check -q $file"
    [compile]="compile $file -o $out/$shape.out.json"
    [query]="query $file --role $role --action $perm $tier"
    [who-can]="who-can $file $perm"
    [what-can]="what-can $file $role"
    [snapshot]="snapshot $file"
    [fmt]="fmt $out/$shape.fmt.policy"
    [fmt-check]="fmt --check $file"
    [diff]="diff $file $out/$shape.changed.policy"
    [matrix]="matrix $file"
  )
  order="check compile query who-can what-can snapshot fmt fmt-check diff"
  if [ "$shape" = typos ]; then order="$order matrix"; fi
  if [ -n "${CMDS:-}" ]; then
    order="check$(for c in $order; do case " $CMDS " in *" $c "*) [ "$c" = check ] || printf ' %s' "$c" ;; esac; done)"
  fi
  for bin in old new; do
    exe=${!bin}
    flag=
    if [ "$bytes" -gt $((16 * 1024 * 1024)) ]; then
      flag=$(max_flag "$exe")
      if [ -z "$flag" ]; then echo "  $bin: skipped (over 16 MiB and no --max-file-size)"; continue; fi
    fi
    for c in $order; do
      cp "$file" "$out/$shape.fmt.policy"
      hyperfine -N -i --runs "$runs" --warmup 0 --style none \
        --prepare "cp $file $out/$shape.fmt.policy" \
        --export-json "$out/$shape.$bin.$c.json" \
        "timeout $limit $exe $flag ${cmds[$c]}" >/dev/null 2>&1 || true
    done
  done
  python3 - "$out" "$shape" "$limit" $order <<'PY'
import json, sys, os
out, shape, limit, order = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4:]
def mean(bin, c):
    p = os.path.join(out, f"{shape}.{bin}.{c}.json")
    if not os.path.exists(p):
        return None
    return json.load(open(p))["results"][0]["mean"]
def show(t):
    if t is None: return "skipped"
    return f"> {limit:.0f} s" if t >= limit * 0.98 else f"{t:.3f} s"
print(f"  {'command':<10} {'old':>10} {'÷check':>7} {'new':>10} {'÷check':>7} {'old÷new':>8}")
base = {b: mean(b, "check") for b in ("old", "new")}
for c in order:
    o, n = mean("old", c), mean("new", c)
    ro = f"{o / base['old']:.1f}×" if o and base["old"] else "-"
    rn = f"{n / base['new']:.1f}×" if n and base["new"] else "-"
    sp = f"{o / n:.1f}×" if o and n else "-"
    print(f"  {c:<10} {show(o):>10} {ro:>7} {show(n):>10} {rn:>7} {sp:>8}")
PY
  unset cmds
done
