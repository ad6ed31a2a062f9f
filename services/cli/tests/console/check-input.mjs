// The start form's input check (crates/console/assets/console.js, between its markers), run
// in Node against definitions and inputs whose answers are known: JSON errors at their line
// and column, the size limit, and the fields the first state reads. Run by
// services/cli/tests/console.rs (SCRIPT: the console's script); exits non-zero on the first
// answer that differs.
import { readFileSync } from 'node:fs';

const source = readFileSync(process.env.SCRIPT, 'utf8');
const begin = source.indexOf("// ---- the start form's input check");
const end = source.indexOf('// ---- end of the input check ----');
if (begin < 0 || end < begin) throw new Error('the input check\'s markers are missing from ' + process.env.SCRIPT);
const { checkInput } = new Function(source.slice(begin, end) + '\nreturn { checkInput };')();

let failed = 0;
function same(what, got, want) {
  const g = JSON.stringify(got), w = JSON.stringify(want);
  if (g !== w) { failed++; console.error('✗ ' + what + '\n    got  ' + g + '\n    want ' + w); }
  else console.log('✓ ' + what);
}
const paths = (c) => c.warnings.map((w) => w.path);
const machine = (first) => JSON.stringify({ StartAt: 'First', States: { First: first, Done: { Type: 'Succeed' } } });

// JSON syntax, at its line and column, whatever the engine's own message says.
const any = machine({ Type: 'Pass', End: true });
same('a missing value', checkInput('{\n  "a": }', any).problems, ['not JSON: line 2, column 8: expected a value, found "}"']);
same('a trailing comma', checkInput('{"a": 1,}', any).problems, ['not JSON: line 1, column 9: expected a member name in double quotes, found "}"']);
same('a missing comma', checkInput('[1\n 2]', any).problems, ['not JSON: line 2, column 2: expected "," or "]" after an item, found "2"']);
same('a bad escape', checkInput('"\\x"', any).problems, ['not JSON: line 1, column 3: expected an escape (\\" \\\\ \\/ \\b \\f \\n \\r \\t \\u), found "x"']);
same('a leading zero', checkInput('01', any).problems, ['not JSON: line 1, column 2: expected the end of the text after the value, found "1"']);
same('cut off', checkInput('{"a": [1, 2', any).problems, ['not JSON: line 1, column 12: expected "," or "]" after an item, found the end of the text']);
same('valid JSON', checkInput(' {"a": [1, 2.5e3, true, null, "\\u00e9"]} ', any), { problems: [], warnings: [], notes: [] });

// The size limit counts UTF-8 bytes.
const big = JSON.stringify('é'.repeat(131072)); // 262,146 bytes
same('over 256 KiB', checkInput(big, any).problems, ['the input is 262,146 bytes, over the limit of 256 KiB (262,144 bytes)']);
same('at 256 KiB', checkInput(JSON.stringify('x'.repeat(262142)), any).problems, []);

// Paths the first state reads.
const choice = machine({ Type: 'Choice', Default: 'Done', Choices: [
  { Variable: '$.order.total', NumericGreaterThan: 100, Next: 'Done' },
  { Variable: '$.rush', IsPresent: true, Next: 'Done' },
  { Not: { Variable: "$['order']['lines'][0].sku", StringEqualsPath: '$.wanted', Next: 'Done' } },
] });
same('Choice Variables and …Path comparisons, IsPresent left alone', paths(checkInput('{"order": {"lines": []}}', choice)),
  ['$.order.total', "$['order']['lines'][0].sku", '$.wanted']);
same('one warning per path, naming every place that reads it', checkInput('{}', machine({ Type: 'Choice', Default: 'Done', Choices: [
  { Variable: '$.n', NumericGreaterThan: 1, Next: 'Done' }, { Variable: '$.n', NumericLessThan: 0, Next: 'Done' }] })).warnings.map((w) => w.text),
  ['$.n is absent from the input: First reads it (Choices[0].Variable, Choices[1].Variable)']);
same('all present', paths(checkInput('{"order": {"total": 1, "lines": [{"sku": "a"}]}, "wanted": "a"}', choice)), []);
const task = machine({ Type: 'Task', Resource: 'arn:aws:states:::http:invoke', Next: 'Done', InputPath: '$.request',
  Parameters: { 'ApiEndpoint.$': '$.url', Method: 'GET', 'Headers': { 'x-id.$': "States.Format('{}-{}', $.id, $$.Execution.Id)" }, 'Items.$': '$.items[*].name' } });
same('InputPath absent: nothing after it is checked', paths(checkInput('{}', task)), ['$.request']);
same('Parameters read after InputPath, intrinsic arguments, up to a wildcard', checkInput('{"request": {"id": 1}}', task).warnings.map((w) => w.text), [
  '$.url (after InputPath $.request) is absent from the input: First reads it (Parameters.ApiEndpoint.$)',
  '$.items[*].name (after InputPath $.request) is absent from the input: First reads it (Parameters.Items.$), checked up to $.items',
]);
same('context paths ($$) are not the input', paths(checkInput('{"request": {"id": 1, "url": "u", "items": []}}', task)), []);
const map = machine({ Type: 'Map', ItemsPath: '$.orders', Next: 'Done', ItemProcessor: { StartAt: 'P', States: { P: { Type: 'Pass', InputPath: '$.inner', End: true } } } });
same('a Map\'s ItemsPath (not its item processor\'s paths)', paths(checkInput('{}', map)), ['$.orders']);
const wait = machine({ Type: 'Wait', SecondsPath: '$.delay', Next: 'Done' });
same('a Wait\'s SecondsPath', paths(checkInput('{"delay": 0}', wait)), []);
same('a Wait\'s SecondsPath, absent', paths(checkInput('[]', wait)), ['$.delay']);

// JSONata: plain $states.input references; $exists asks about absence.
const ata = JSON.stringify({ QueryLanguage: 'JSONata', StartAt: 'First', States: {
  First: { Type: 'Choice', Default: 'Done', Choices: [
    { Condition: '{% $states.input.order.total > 100 %}', Next: 'Done' },
    { Condition: '{% $exists($states.input.rush) %}', Next: 'Done' }] },
  Done: { Type: 'Succeed' } } });
const c = checkInput('{"order": {}}', ata);
same('JSONata references', paths(c), ['$states.input.order.total']);
same('JSONata note', c.notes, ['the first state (First) uses JSONata: only plain $states.input.a.b references are checked']);
same('a definition that is not JSON is not checked against', checkInput('{}', '{"StartAt": '), { problems: [], warnings: [], notes: [] });

if (failed) { console.error(failed + ' failed'); process.exit(1); }
console.log('ok');
