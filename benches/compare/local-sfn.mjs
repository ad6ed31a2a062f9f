// Runs one workload N times, one execution after another, on aws-local-stepfunctions and
// prints the same line `expressway run --repeat` prints, then the output of the last one.
// Usage: node local-sfn.mjs DEFINITION INPUT N
import { readFileSync } from 'node:fs';
import { StateMachine } from 'aws-local-stepfunctions';

const [definitionFile, inputFile, n] = process.argv.slice(2);
const definition = JSON.parse(readFileSync(definitionFile, 'utf8'));
const input = JSON.parse(readFileSync(inputFile, 'utf8'));
const repeat = Number(n ?? 1000);
const machine = new StateMachine(definition);

const once = () => machine.run(input).result;
// Warm the JIT first: its later tiers settle after a few thousand runs.
for (let i = 0; i < Math.max(2000, repeat / 10); i++) await once();
let output;
const start = process.hrtime.bigint();
for (let i = 0; i < repeat; i++) output = await once();
const seconds = Number(process.hrtime.bigint() - start) / 1e9;
console.error(`executions=${repeat} seconds=${seconds.toFixed(3)} per_second=${Math.round(repeat / seconds)}`);
console.log(JSON.stringify(output));
