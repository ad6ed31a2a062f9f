// Evaluations per second of the JSONata benchmark expressions with jsonata-js 2.0.6, on the
// same input as benches/jsonata.rs (both read cases.json). Each expression is compiled once,
// warmed up, then evaluated in a loop for a fixed time on one core.
//
// Usage (in this folder): `npm install && node bench.mjs [--warm-up SECONDS] [--measure SECONDS]`
// Prints one line per expression: `name<TAB>evaluations/second` (or `name<TAB>error: …`).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import jsonata from 'jsonata';

const version = createRequire(import.meta.url)('jsonata/package.json').version;
if (version !== '2.0.6') {
  console.error(`jsonata ${version} is installed; the comparison is with 2.0.6`);
  process.exit(1);
}
const arg = (flag, dflt) => {
  const i = process.argv.indexOf(flag);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};
const warmUp = arg('--warm-up', 1) * 1000;
const measure = arg('--measure', 3) * 1000;
const { input, expressions } = JSON.parse(readFileSync(new URL('./cases.json', import.meta.url), 'utf8'));

// Evaluations run in batches so that reading the clock costs little next to them.
async function loop(expr, ms) {
  let count = 0;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < ms) {
    for (let i = 0; i < 100; i++) await expr.evaluate(input);
    count += 100;
    elapsed = performance.now() - start;
  }
  return count / (elapsed / 1000);
}

for (const { name, expr } of expressions) {
  try {
    const compiled = jsonata(expr);
    await compiled.evaluate(input); // fails here, before timing, if the expression does
    await loop(compiled, warmUp);
    const rate = await loop(compiled, measure);
    console.log(`${name}\t${rate.toFixed(0)}`);
  } catch (err) {
    console.log(`${name}\terror: ${err.code ?? ''} ${err.message}`);
  }
}
