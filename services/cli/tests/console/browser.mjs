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
  await page.waitForSelector('#graph [data-state="Recover"].succeeded');
  await page.screenshot({ path: join(OUT, 'execution-caught.png') });

  step('the stop button aborts a running execution');
  const slow = await op('StartExecution', { stateMachineArn: created.stateMachineArn, input: '{"slow": 30, "items": []}' });
  await page.goto(BASE + '/console/execution?arn=' + encodeURIComponent(slow.executionArn));
  await page.waitForSelector('#graph [data-state="Pause"].entered');
  await page.click('#stop');
  await page.waitForSelector('#status [data-status="ABORTED"]');
  expect((await page.textContent('#error')).includes('Console.Stopped'), 'the stop error shown');

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
