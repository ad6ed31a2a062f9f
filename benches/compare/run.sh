#!/usr/bin/env bash
# Expressway (`expressway run --repeat`, the path users take) against aws-local-stepfunctions
# 3.0 on the workloads of examples/, in one run on this machine: both run one execution after
# another on one thread, after a warm-up, and must print the same output.
# Usage: benches/compare/run.sh [EXPRESSWAY_EXECUTIONS] [REFERENCE_EXECUTIONS]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
ours=${1:-500000}
theirs=${2:-20000}
bin="$root/target/release/expressway"
[ -x "$bin" ] || (cd "$root" && cargo build --release -p expressway-cli)
[ -d "$here/node_modules/aws-local-stepfunctions" ] || (cd "$here" && npm ci --no-audit --no-fund --loglevel=error)

rate() { sed -n 's/.*per_second=\([0-9]*\).*/\1/p'; }
printf '| workload | expressway run --repeat | aws-local-stepfunctions 3.0 | ratio |\n|---|---|---|---|\n'
for w in hello order fanout; do
    def="$root/examples/$w.asl.json" input="$root/examples/$w.input.json"
    "$bin" run --definition "$def" --input "$input" --repeat "$ours" >"/tmp/compare-$w.ours" 2>"/tmp/compare-$w.ours.rate"
    node "$here/local-sfn.mjs" "$def" "$input" "$theirs" >"/tmp/compare-$w.theirs" 2>"/tmp/compare-$w.theirs.rate"
    # The same output on both, or the comparison means nothing.
    a=$(python3 -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1]))["output"], sort_keys=True))' "/tmp/compare-$w.ours")
    b=$(python3 -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1])), sort_keys=True))' "/tmp/compare-$w.theirs")
    [ "$a" = "$b" ] || { echo "$w: the outputs differ: $a vs $b" >&2; exit 1; }
    x=$(rate <"/tmp/compare-$w.ours.rate") y=$(rate <"/tmp/compare-$w.theirs.rate")
    printf '| %s | %s/s | %s/s | %s× |\n' "$w" "$x" "$y" "$(( x / y ))"
done
