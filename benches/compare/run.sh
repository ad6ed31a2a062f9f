#!/usr/bin/env bash
# Expressway (`expressway run --repeat`, the path users take) against aws-local-stepfunctions
# 3.0 on the workloads of examples/, in one run on this machine: both run one execution after
# another on one thread, after a warm-up, and must print the same output. Each side runs
# ROUNDS times (default 5), the two alternating, and the table gives each side's median rate
# and the range of its rounds: on a shared machine one round of either side can be a fifth off.
# Usage: [ROUNDS=5] benches/compare/run.sh [EXPRESSWAY_EXECUTIONS] [REFERENCE_EXECUTIONS]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
ours=${1:-1000000}
theirs=${2:-20000}
rounds=${ROUNDS:-5}
bin="$root/target/release/expressway"
[ -x "$bin" ] || (cd "$root" && cargo build --release -p expressway-cli)
[ -d "$here/node_modules/aws-local-stepfunctions" ] || (cd "$here" && npm ci --no-audit --no-fund --loglevel=error)

rate() { sed -n 's/.*per_second=\([0-9]*\).*/\1/p'; }
# The median of the numbers on stdin, then their smallest and largest, as "median min max".
summary() { sort -n | awk '{v[NR]=$1} END {m=(NR%2)?v[(NR+1)/2]:int((v[NR/2]+v[NR/2+1])/2); print m, v[1], v[NR]}'; }
printf '| workload | expressway run --repeat (median, range) | aws-local-stepfunctions 3.0 (median, range) | ratio of medians |\n|---|---|---|---|\n'
for w in hello order fanout; do
    def="$root/examples/$w.asl.json" input="$root/examples/$w.input.json"
    : >"/tmp/compare-$w.ours.rates"; : >"/tmp/compare-$w.theirs.rates"
    for _ in $(seq "$rounds"); do
        "$bin" run --definition "$def" --input "$input" --repeat "$ours" >"/tmp/compare-$w.ours" 2>"/tmp/compare-$w.ours.rate"
        node "$here/local-sfn.mjs" "$def" "$input" "$theirs" >"/tmp/compare-$w.theirs" 2>"/tmp/compare-$w.theirs.rate"
        # The same output on both, or the comparison means nothing.
        a=$(python3 -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1]))["output"], sort_keys=True))' "/tmp/compare-$w.ours")
        b=$(python3 -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1])), sort_keys=True))' "/tmp/compare-$w.theirs")
        [ "$a" = "$b" ] || { echo "$w: the outputs differ: $a vs $b" >&2; exit 1; }
        rate <"/tmp/compare-$w.ours.rate" >>"/tmp/compare-$w.ours.rates"
        rate <"/tmp/compare-$w.theirs.rate" >>"/tmp/compare-$w.theirs.rates"
    done
    read -r x xlo xhi < <(summary <"/tmp/compare-$w.ours.rates")
    read -r y ylo yhi < <(summary <"/tmp/compare-$w.theirs.rates")
    printf '| %s | %s/s (%s–%s) | %s/s (%s–%s) | %s× |\n' "$w" "$x" "$xlo" "$xhi" "$y" "$ylo" "$yhi" "$(( x / y ))"
done
