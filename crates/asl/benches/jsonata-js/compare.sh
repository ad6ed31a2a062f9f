#!/usr/bin/env bash
# Runs the JSONata benchmark in Expressway (criterion, benches/jsonata.rs) and in jsonata-js
# 2.0.6 (bench.mjs), on the same expressions and input (cases.json), and prints a markdown
# table: expression, Expressway evaluations/s, jsonata-js evaluations/s, ratio (Expressway
# over jsonata-js; above 1 means Expressway is faster). An expression Expressway skips shows
# "skipped". Needs cargo, node and npm; run from anywhere.
#
# Usage: compare.sh [WARM_UP_SECONDS] [MEASUREMENT_SECONDS]   (default 1 and 3)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
warm="${1:-1}"
measure="${2:-3}"
cd "$here"
[ -d node_modules/jsonata ] || npm install --silent

# Criterion keeps its estimates under the target directory; old ones must not stand in for an
# expression that is skipped now.
target="$(cargo metadata --format-version 1 --no-deps | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).target_directory))')"
rm -rf "$target/criterion/jsonata"
cargo bench -p expressway-asl --bench jsonata -- --warm-up-time "$warm" --measurement-time "$measure" >&2

js="$(node bench.mjs --warm-up "$warm" --measure "$measure")"

# One row per expression of cases.json, in its order.
CRITERION="$target/criterion/jsonata" JS="$js" node --input-type=module -e '
import { readFileSync, existsSync } from "node:fs";
const cases = JSON.parse(readFileSync("cases.json", "utf8"));
const js = Object.fromEntries(process.env.JS.trim().split("\n").map((l) => l.split("\t")));
const fmt = (n) => Math.round(n).toLocaleString("en-US");
console.log("| expression | Expressway eval/s | jsonata-js eval/s | ratio |");
console.log("|---|---:|---:|---:|");
for (const { name, expr } of cases.expressions) {
  const file = `${process.env.CRITERION}/${name}/new/estimates.json`;
  const ours = existsSync(file) ? 1e9 / JSON.parse(readFileSync(file, "utf8")).mean.point_estimate : undefined;
  const theirs = Number(js[name]);
  const cell = (v) => (v === undefined || Number.isNaN(v) ? "skipped" : fmt(v));
  const ratio = ours !== undefined && theirs > 0 ? (ours / theirs).toFixed(2) : "–";
  console.log(`| \`${expr.replaceAll("|", "\\|")}\` | ${cell(ours)} | ${Number.isNaN(theirs) ? js[name] ?? "missing" : fmt(theirs)} | ${ratio} |`);
}
'
