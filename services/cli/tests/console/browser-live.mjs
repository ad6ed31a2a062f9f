// The console as a results service serves it, in headless Chromium: run by
// services/cli/tests/console.rs against a distributed frontend, worker and results service
// (BASE: the results service's HTTP listener, FRONTEND: the frontend's, MACHINE: a state
// machine's ARN, OUT and CHROMIUM as for browser.mjs). The live executions list and an
// execution's page work; what needs a frontend says so.
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

const { BASE, FRONTEND, MACHINE, OUT } = process.env;
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
if (!BASE || !FRONTEND || !MACHINE || !OUT) throw new Error('BASE, FRONTEND, MACHINE and OUT must be set');
mkdirSync(OUT, { recursive: true });
const step = (what) => console.log('- ' + what);
function expect(ok, what) { if (!ok) throw new Error('expected: ' + what); }

const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
const page = await browser.newPage({ viewport: { width: 1500, height: 1000 } });
page.setDefaultTimeout(30000);
page.on('pageerror', (e) => { console.error('page error: ' + e.message); process.exitCode = 1; });
try {
  step('the results service\'s console lists executions live and says what it does not serve');
  await page.goto(BASE + '/console/');
  await page.waitForSelector('#live-only');
  expect((await page.textContent('#live-only')).includes('frontend'), 'it points to a frontend');
  const r = await fetch(FRONTEND + '/console/api/op/StartExecution', { method: 'POST', body: JSON.stringify({ stateMachineArn: MACHINE, input: '{"who": "live"}' }) });
  const { executionArn } = await r.json();
  expect(executionArn, 'started on the frontend');
  await page.waitForSelector(`tr[data-execution="${executionArn}"]`);

  step('its page follows the execution through the graph');
  await page.click(`tr[data-execution="${executionArn}"] a`);
  await page.waitForSelector('#graph [data-state="Hold"]');
  await page.waitForSelector('#graph [data-state="Done"].succeeded');
  await page.waitForSelector('#status [data-status="SUCCEEDED"]');
  expect(await page.$eval('#stop', (b) => b.disabled) && await page.$eval('#again', (b) => b.disabled), 'stop and start are a frontend\'s');
  await page.click('#graph [data-state="Hold"]');
  expect((await page.textContent('#state-input')).includes('includeExecutionData is off'), 'the logging configuration named');
  await page.screenshot({ path: join(OUT, 'results-service-execution.png'), fullPage: true });
  console.log('ok');
} catch (e) {
  await page.screenshot({ path: join(OUT, 'results-service-failure.png'), fullPage: true }).catch(() => {});
  console.error(e.stack || String(e));
  process.exitCode = 1;
} finally {
  await browser.close();
}
