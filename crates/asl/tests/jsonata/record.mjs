// Records the reference behaviour of every JSONata case with jsonata-js 2.0.6.
//
// Usage (in this folder): `npm install && node record.mjs [FAMILY...]`
//
// Each file `cases/<family>.json` is an array of cases `{"name", "expr", "input"?, "bindings"?}`.
// The recorder evaluates every case and rewrites the file with the expectation added:
// `"result": <value>`, `"undefined": true` or `"error": "<code>"` (only the code: message
// wording is not part of the contract). A case is refused (the recorder exits non-zero and
// writes nothing for its file) when its name is duplicated, when its result is not plain
// JSON (a function, NaN, an undefined inside an array) or when two evaluations disagree
// (non-deterministic results are not allowed in the corpus). The time zone is UTC whatever
// the machine's: `$toMillis` reads a timestamp without an offset in the local zone.
process.env.TZ = 'UTC';

import { readFileSync, writeFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import jsonata from 'jsonata';

const here = dirname(fileURLToPath(import.meta.url));
const version = createRequire(import.meta.url)('jsonata/package.json').version;
if (version !== '2.0.6') {
  console.error(`jsonata ${version} is installed; the corpus is recorded against 2.0.6`);
  process.exit(1);
}
const dir = join(here, 'cases');
const wanted = process.argv.slice(2);
const families = readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .map((f) => f.slice(0, -5))
  .filter((f) => wanted.length === 0 || wanted.includes(f))
  .sort();

// Whether `v` survives JSON.stringify unchanged: no functions, undefined, NaN or infinities.
function plain(v) {
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return true;
  if (typeof v === 'number') return Number.isFinite(v);
  if (Array.isArray(v)) return v.every((x) => x !== undefined && plain(x));
  if (typeof v === 'object') {
    if (Object.getPrototypeOf(v) !== Object.prototype && Object.getPrototypeOf(v) !== null) return false;
    return Object.values(v).every((x) => x !== undefined && plain(x));
  }
  return false;
}

// One evaluation: the expectation fields, or a reason the case cannot be recorded.
async function run(c) {
  let value;
  try {
    const e = jsonata(c.expr);
    value = await e.evaluate(c.input, c.bindings);
  } catch (err) {
    if (!err || typeof err.code !== 'string') return { refused: `threw without a code: ${err && err.message}` };
    return { error: err.code };
  }
  if (value === undefined) return { undefined: true };
  if (!plain(value)) return { refused: 'result is not plain JSON' };
  return { result: JSON.parse(JSON.stringify(value)) };
}

// Key order of a written case: the source fields first, the expectation last.
function ordered(c, outcome) {
  const out = { name: c.name, expr: c.expr };
  if ('input' in c) out.input = c.input;
  if ('bindings' in c) out.bindings = c.bindings;
  if ('note' in c) out.note = c.note;
  return Object.assign(out, outcome);
}

let failed = false;
for (const family of families) {
  const path = join(dir, `${family}.json`);
  const cases = JSON.parse(readFileSync(path, 'utf8'));
  const seen = new Set();
  const written = [];
  let bad = false;
  const counts = { result: 0, undefined: 0, error: 0 };
  for (const c of cases) {
    if (!c.name || typeof c.expr !== 'string') {
      console.error(`${family}: a case without a name or an expression: ${JSON.stringify(c)}`);
      bad = true;
      continue;
    }
    if (seen.has(c.name)) {
      console.error(`${family}::${c.name}: duplicate name`);
      bad = true;
    }
    seen.add(c.name);
    const first = await run(c);
    const second = await run(c);
    if (first.refused) {
      console.error(`${family}::${c.name}: ${first.refused}`);
      bad = true;
      continue;
    }
    if (JSON.stringify(first) !== JSON.stringify(second)) {
      console.error(`${family}::${c.name}: non-deterministic (${JSON.stringify(first)} then ${JSON.stringify(second)})`);
      bad = true;
      continue;
    }
    counts[Object.keys(first)[0]] += 1;
    written.push(ordered(c, first));
  }
  if (bad) {
    failed = true;
    console.error(`${family}: not written`);
    continue;
  }
  // One case per line keeps diffs of a re-recording readable.
  const text = '[\n' + written.map((c) => '  ' + JSON.stringify(c)).join(',\n') + '\n]\n';
  writeFileSync(path, text);
  console.log(`${family}: ${written.length} cases (${counts.result} results, ${counts.undefined} undefined, ${counts.error} errors)`);
}
process.exit(failed ? 1 : 0);
