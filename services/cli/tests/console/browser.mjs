// The console in headless Chromium, against a running `expressway dev`: run by
// services/cli/tests/console.rs (BASE: its HTTP listener, OUT: where screenshots go, CHROMIUM:
// the browser). Exits non-zero with the reason on the first expectation that does not hold.
import { chromium } from 'playwright-core';
import { readFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const BASE = process.env.BASE;
const OUT = process.env.OUT;
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
if (!BASE || !OUT) throw new Error('BASE and OUT must be set');
mkdirSync(OUT, { recursive: true });
const definition = readFileSync(join(here, 'machine.asl.json'), 'utf8');
const NAME = 'console-demo';
const step = (what) => console.log('- ' + what);

async function op(name, body) {
  const r = await fetch(BASE + '/console/api/op/' + name, { method: 'POST', body: JSON.stringify(body) });
  const j = await r.json();
  if (!r.ok) throw new Error(name + ': ' + JSON.stringify(j));
  return j;
}
function states(block, out = []) {
  for (const [name, s] of Object.entries(block.States)) {
    out.push(name);
    for (const b of s.Branches || []) states(b, out);
    if (s.ItemProcessor) states(s.ItemProcessor, out);
  }
  return out;
}
function expect(ok, what) { if (!ok) throw new Error('expected: ' + what); }

const created = await op('CreateStateMachine', {
  name: NAME, definition, type: 'EXPRESS', roleArn: 'arn:aws:iam::000000000000:role/unused',
  loggingConfiguration: { level: 'ALL', includeExecutionData: true },
});
const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
const page = await browser.newPage({ viewport: { width: 1500, height: 1000 } });
page.setDefaultTimeout(15000);
page.on('pageerror', (e) => { console.error('page error: ' + e.message); process.exitCode = 1; });
try {
  step('a browser opening / lands on the console and lists the machine');
  await page.goto(BASE + '/');
  expect(new URL(page.url()).pathname === '/console/', 'redirected to /console/, at ' + page.url());
  await page.waitForSelector(`tr[data-machine="${NAME}"]`);
  const row = await page.textContent(`tr[data-machine="${NAME}"]`);
  expect(row.includes('EXPRESS') && row.includes('ALL'), 'type and logging level in the row: ' + row);
  await page.screenshot({ path: join(OUT, 'machines.png') });

  step('the machine page draws every state and the Choice, Map and Catch edges');
  await page.click(`a[href="/console/machines/${NAME}"]`);
  await page.waitForSelector('#graph svg');
  for (const s of states(JSON.parse(definition))) {
    expect(await page.$(`#graph [data-state="${s}"]`), 'state ' + s + ' in the SVG');
  }
  expect(await page.$('#graph [data-state="Each"] [data-state="Check"]'), 'the Map holds its item processor');
  expect(await page.$('#graph .edge.rule[data-from="Route"][data-to="Pause"]'), 'the Choice rule edge');
  expect(await page.$('#graph .edge.default[data-from="Route"][data-to="Each"]'), 'the Default edge');
  const catchLabel = await page.textContent('#graph .edge.catch[data-from="Each"][data-to="Recover"]');
  expect(catchLabel.includes('States.ALL'), 'the Catch edge names its errors: ' + catchLabel);
  await page.screenshot({ path: join(OUT, 'machine.png'), fullPage: true });

  step('an execution started from the page turns its states succeeded while the page stays open');
  await page.fill('#execution-input', '{"slow": 2, "items": [{"n": 1}, {"n": 2}]}');
  await page.click('#start');
  await page.waitForURL(/\/console\/execution\?arn=/);
  const loadedAt = await page.evaluate(() => window.__consoleLoadedAt);
  await page.waitForSelector('#graph [data-state="Pause"].entered');
  expect(await page.$('#status [data-status="RUNNING"]'), 'RUNNING while it waits');
  expect(!(await page.$('#graph [data-state="Done"].succeeded')), 'Done not reached yet');
  await page.screenshot({ path: join(OUT, 'execution-running.png'), fullPage: true });
  await page.waitForSelector('#graph [data-state="Done"].succeeded');
  for (const s of ['Prepare', 'Route', 'Pause', 'Each', 'Double']) {
    expect(await page.$(`#graph [data-state="${s}"].succeeded`), s + ' succeeded');
  }
  expect(!(await page.$('#graph [data-state="Recover"][data-status]')), 'Recover not reached');
  await page.waitForSelector('#status [data-status="SUCCEEDED"]');
  expect(await page.evaluate(() => window.__consoleLoadedAt) === loadedAt, 'no reload');
  expect((await page.$$('#events tbody tr')).length >= 8, 'the event history table');
  await page.screenshot({ path: join(OUT, 'execution-succeeded.png'), fullPage: true });

  step('clicking a state shows its input and output; a history row selects its visit');
  await page.click('#graph [data-state="Prepare"]');
  await page.waitForSelector('#state-panel #state-name');
  expect((await page.textContent('#state-name')) === 'Prepare', 'Prepare selected');
  expect(JSON.parse(await page.textContent('#state-input')).slow === 2, 'Prepare\'s input: ' + (await page.textContent('#state-input')));
  expect(JSON.parse(await page.textContent('#state-output')).items.length === 2, 'Prepare\'s output');
  expect(await page.$('#graph [data-state="Prepare"].selected'), 'the selected state marked in the graph');
  const rows = await page.$$('#events tr[data-state="Double"]');
  await rows[rows.length - 1].click();
  expect((await page.textContent('#state-name')) === 'Double', 'a history row selects its state');
  expect((await page.textContent('#state-visits')).includes('visit 2 of 2'), 'the row\'s visit (one per item): ' + (await page.textContent('#state-visits')));
  const item = JSON.parse(await page.textContent('#state-output'));
  expect(item.n === 1 || item.n === 2, 'an item\'s output: ' + JSON.stringify(item));

  step('"start again with the same input" starts a new execution of it');
  const first = page.url();
  await page.click('#again');
  await page.waitForURL((u) => u.href !== first && u.href.includes('/console/execution?arn='));
  await page.waitForSelector('#status [data-status="SUCCEEDED"]', { timeout: 20000 });

  step('a failing item is caught: the Catch edge shows the error');
  await page.goto(BASE + '/console/machines/' + NAME);
  await page.waitForSelector('#graph svg');
  await page.fill('#execution-input', '{"items": [{"n": 1, "bad": true}]}');
  await page.click('#start');
  await page.waitForURL(/\/console\/execution\?arn=/);
  await page.waitForSelector('#graph [data-state="Each"].caught');
  await page.waitForSelector('#graph [data-state="Broken"].failed');
  const caught = await page.textContent('#graph .edge.catch.taken[data-from="Each"][data-to="Recover"] .caught-error');
  expect(caught === 'Item.Broken', 'the caught error on the Catch edge, got ' + caught);
  const labelBox = await page.$eval('#graph .edge.catch.taken[data-from="Each"] rect.label-bg', (r) => r.getAttribute('height'));
  expect(labelBox === '30', 'the label box grown over the caught error (its second line), height ' + labelBox);
  await page.waitForSelector('#graph [data-state="Recover"].succeeded');
  await page.waitForSelector('#status [data-status="SUCCEEDED"]');
  expect(await page.$('#graph [data-state="Each"].retried'), 'the Map retried (its Retry took Item.Broken once)');

  step('the failed and caught states show their errors and attempts');
  await page.click('#graph [data-state="Broken"]');
  await page.waitForFunction(() => document.querySelector('#state-name')?.textContent === 'Broken');
  const brokenError = await page.textContent('#state-error');
  expect(brokenError.includes('Item.Broken') && brokenError.includes('this item is marked bad'), 'the Fail state\'s error and cause: ' + brokenError);
  expect((await page.textContent('#state-output')).includes('the state failed'), 'no output: it failed');
  await page.click('#graph [data-state="Each"] > text.name');
  await page.waitForFunction(() => document.querySelector('#state-name')?.textContent === 'Each');
  expect((await page.textContent('#state-attempts')) === '2 attempts (1 retry)', 'the Map\'s attempts: ' + (await page.textContent('#state-attempts')));
  expect((await page.textContent('#state-caught')).includes('Item.Broken'), 'the error its Catch took');
  expect((await page.$$('#state-error .error-box')).length === 2, 'one error per failed attempt');
  await page.screenshot({ path: join(OUT, 'execution-caught.png') });

  step('the stop button aborts a running execution');
  const slow = await op('StartExecution', { stateMachineArn: created.stateMachineArn, input: '{"slow": 30, "items": []}' });
  await page.goto(BASE + '/console/execution?arn=' + encodeURIComponent(slow.executionArn));
  await page.waitForSelector('#graph [data-state="Pause"].entered');
  await page.click('#stop');
  await page.waitForSelector('#status [data-status="ABORTED"]');
  expect((await page.textContent('#error')).includes('Console.Stopped'), 'the stop error shown');

  step('what the logging configuration did not keep is said so');
  for (const [name, logging, why] of [
    ['console-nodata', { level: 'ALL', includeExecutionData: false }, 'not kept by the logging configuration (includeExecutionData is off)'],
    ['console-errors', { level: 'ERROR', includeExecutionData: true }, 'not kept by the logging configuration (level ERROR keeps failure events only)'],
  ]) {
    const m = await op('CreateStateMachine', { name, definition, type: 'EXPRESS', roleArn: 'arn:aws:iam::000000000000:role/unused', loggingConfiguration: logging });
    const x = await op('StartExecution', { stateMachineArn: m.stateMachineArn, input: '{"items": [{"n": 3}]}' });
    await page.goto(BASE + '/console/execution?arn=' + encodeURIComponent(x.executionArn));
    await page.waitForSelector('#status [data-status="SUCCEEDED"]');
    await page.click('#graph [data-state="Prepare"]');
    await page.waitForSelector('#state-panel #state-input');
    const shown = await page.textContent('#state-input');
    expect(shown.includes(why), name + ': ' + shown);
  }

  step('the executions list counts by status and filters by status and machine');
  await page.goto(BASE + '/console/');
  await page.waitForSelector('#counts [data-count="ABORTED"]');
  await page.waitForSelector('#counts [data-count="SUCCEEDED"]');
  await page.selectOption('#filter-status', 'ABORTED');
  const aborted = await page.$$eval('tr[data-execution] [data-status]', (b) => b.map((x) => x.dataset.status));
  expect(aborted.length === 1 && aborted[0] === 'ABORTED', 'only the aborted one: ' + aborted);
  await page.selectOption('#filter-status', '');
  const errorsArn = created.stateMachineArn.replace(/:console-demo$/, ':console-errors');
  await page.selectOption('#filter-machine', errorsArn);
  const ofMachine = await page.$$eval('tr[data-execution] td:nth-child(2)', (t) => t.map((x) => x.textContent));
  expect(ofMachine.length === 1 && ofMachine[0] === 'console-errors', 'only console-errors\' executions: ' + ofMachine);
  await page.screenshot({ path: join(OUT, 'executions.png'), fullPage: true });

  step('the start form checks the input: JSON errors at their line, the size limit, fields the first state reads');
  const check = await op('CreateStateMachine', { name: 'console-check', definition: readFileSync(join(here, 'check.asl.json'), 'utf8'), type: 'EXPRESS', roleArn: 'arn:aws:iam::000000000000:role/unused', loggingConfiguration: { level: 'ALL', includeExecutionData: true } });
  await page.goto(BASE + '/console/machines/console-check');
  await page.waitForSelector('#graph [data-state="Route"]');
  const boxes = await page.$$eval('#graph .label-bg, #graph .state > .box', (els) => els.map((e) => { const r = e.getBoundingClientRect(); return { label: e.classList.contains('label-bg'), x: r.x, y: r.y, w: r.width, h: r.height }; }));
  const meet = (a, b) => a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
  expect(boxes.filter((b) => b.label).length === 7, 'seven labels (six rules and the Default)');
  for (const a of boxes.filter((b) => b.label)) for (const b of boxes) if (a !== b) expect(!meet(a, b), 'label clear of ' + JSON.stringify(b) + ': ' + JSON.stringify(a));
  // The page checks its first input ({}) at once: every field the Choice reads is absent.
  await page.waitForSelector('#input-warnings li[data-path="$.order.country"]');
  await page.fill('#execution-input', '{"order": {"country": "FR", "items": []}}');
  await page.waitForSelector('#input-warnings li[data-path="$.order.country"]', { state: 'detached' });
  const warned = await page.$$eval('#input-warnings li[data-path]', (l) => l.map((x) => x.dataset.path));
  expect(JSON.stringify(warned) === JSON.stringify(['$.order.total', '$.order.items[0].sku']), 'the absent fields the Choice reads (not $.rush, which IsPresent asks about): ' + warned);
  expect((await page.textContent('#input-warnings')).includes('Route reads it (Choices[0].Variable, Choices[1].Variable)'), 'where each is read');
  expect(!(await page.$eval('#start', (b) => b.disabled)), 'warnings do not stop a start');
  await page.screenshot({ path: join(OUT, 'start-check.png'), fullPage: true });
  await page.fill('#execution-input', '{\n  "order": }');
  await page.waitForFunction(() => document.querySelector('#input-note').textContent.includes('line 2, column 12'));
  expect(await page.$eval('#start', (b) => b.disabled), 'bad JSON cannot be sent');
  await page.fill('#execution-input', JSON.stringify({ order: { total: 5, country: 'DE', items: [{ sku: 'A' }] }, blob: 'x'.repeat(300000) }));
  await page.waitForFunction(() => document.querySelector('#input-note').textContent.includes('over the limit of 256 KiB'));
  expect(await page.$eval('#start', (b) => b.disabled), 'too large cannot be sent');
  await page.fill('#execution-input', JSON.stringify({ order: { total: 5, country: 'DE', items: [{ sku: 'A' }] } }));
  await page.waitForFunction(() => document.querySelector('#input-note').textContent === '' && !document.querySelector('#input-warnings li'));
  await page.click('#start');
  await page.waitForURL(/\/console\/execution\?arn=/);
  await page.waitForSelector('#graph [data-state="Ship"].succeeded');
  expect(check.stateMachineArn.endsWith(':console-check'), 'created');

  step('the editor reports a bad Next at its location and redraws the graph');
  await page.goto(BASE + '/console/machines/' + NAME);
  await page.waitForSelector('#graph [data-state="Recover"]');
  const bad = JSON.stringify(JSON.parse(definition), null, 2).replace('"Next": "Done"\n    },\n    "Done"', '"Next": "Nowhere"\n    },\n    "Done"');
  expect(bad.includes('"Nowhere"'), 'the bad definition is made');
  await page.fill('#definition', bad);
  await page.waitForFunction(() => !document.querySelector('#graph .edge[data-from="Recover"][data-to="Done"]'));
  await page.click('#validate');
  const li = await page.waitForSelector('#diagnostics li[data-location="/States/Recover/Next"]');
  const line = bad.split('\n').findIndex((l) => l.includes('"Nowhere"')) + 1;
  expect(Number(await li.getAttribute('data-line')) === line, `the diagnostic at line ${line}, got ${await li.getAttribute('data-line')}`);
  expect((await li.textContent()).includes('MISSING_TRANSITION_TARGET'), 'the code: ' + (await li.textContent()));
  expect(await page.$(`.editor .gutter .bad[data-line="${line}"]`), 'the line marked in the gutter');
  const selected = await page.$eval('#definition', (t) => t.value.slice(t.selectionStart, t.selectionEnd));
  expect(selected.includes('"Next": "Nowhere"'), 'the faulty member selected: ' + selected);
  await page.screenshot({ path: join(OUT, 'editor.png'), fullPage: true });

  step('a valid edit saves as a new revision');
  const before = await page.textContent('#revision');
  await page.fill('#definition', bad.replace('"Nowhere"', '"Done"').replace('"Type": "Pass",\n      "Next": "Route"', '"Type": "Pass",\n      "Next": "Route",\n      "Comment": "edited"'));
  await page.click('#save');
  await page.waitForFunction((b) => document.querySelector('#revision').textContent !== b, before);
  await page.waitForSelector('#graph .edge[data-from="Recover"][data-to="Done"]');
  const described = await op('DescribeStateMachine', { stateMachineArn: created.stateMachineArn });
  expect(described.definition.includes('"edited"'), 'the saved definition');
  console.log('ok');
} catch (e) {
  await page.screenshot({ path: join(OUT, 'failure.png'), fullPage: true }).catch(() => {});
  console.error(e.stack || String(e));
  process.exitCode = 1;
} finally {
  await browser.close();
}
