// The console with authentication on, in headless Chromium, against `expressway dev
// --auth-config`: run by services/cli/tests/console.rs (BASE, OUT, CHROMIUM as for
// browser.mjs; TOKEN: the bearer token the server knows). Without a token the page asks for
// one; a wrong one is refused with a clear message; with the right one the graph and a live
// execution appear, and the token is never in a URL or on the page.
import { chromium } from 'playwright-core';
import { readFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const { BASE, OUT, TOKEN } = process.env;
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
if (!BASE || !OUT || !TOKEN) throw new Error('BASE, OUT and TOKEN must be set');
mkdirSync(OUT, { recursive: true });
const NAME = 'console-guarded';
const step = (what) => console.log('- ' + what);
function expect(ok, what) { if (!ok) throw new Error('expected: ' + what); }

async function op(name, body, token) {
  const headers = token ? { authorization: 'Bearer ' + token } : {};
  const r = await fetch(BASE + '/console/api/op/' + name, { method: 'POST', headers, body: JSON.stringify(body) });
  return { status: r.status, body: await r.json() };
}

step('the API refuses calls without the token');
const refused = await op('ListStateMachines', {});
expect(refused.status === 400 && refused.body.__type.includes('UnrecognizedClient'), 'refused without a token: ' + JSON.stringify(refused));
const created = await op('CreateStateMachine', {
  name: NAME, definition: readFileSync(join(here, 'machine.asl.json'), 'utf8'), type: 'EXPRESS',
  roleArn: 'arn:aws:iam::000000000000:role/unused', loggingConfiguration: { level: 'ALL', includeExecutionData: true },
}, TOKEN);
expect(created.status === 200, 'created with the token: ' + JSON.stringify(created));

const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
const page = await browser.newPage({ viewport: { width: 1500, height: 1000 } });
page.setDefaultTimeout(15000);
page.on('pageerror', (e) => { console.error('page error: ' + e.message); process.exitCode = 1; });
const urls = [];
page.on('request', (r) => urls.push(r.url()));
try {
  step('without a token the page asks for one and shows nothing else');
  await page.goto(BASE + '/console/');
  await page.waitForSelector('#token-form #token-input[type="password"]');
  expect(!(await page.$('tr[data-machine]')), 'no machines listed');
  expect(!(await page.$('#token-error')), 'no error before a token was tried');
  await page.screenshot({ path: join(OUT, 'auth-asks.png') });

  step('a wrong token is refused with a clear message');
  await page.fill('#token-input', 'not-the-token');
  await page.click('#token-submit');
  await page.waitForSelector('#token-error');
  const error = await page.textContent('#token-error');
  expect(error.includes('The token was refused') && error.includes('not known'), 'the refusal says why: ' + error);
  expect(await page.evaluate(() => sessionStorage.getItem('expressway-token')) === null, 'the refused token is not kept');
  await page.screenshot({ path: join(OUT, 'auth-refused.png') });

  step('with the right token the machines, the graph and a live execution appear');
  await page.fill('#token-input', TOKEN);
  await page.click('#token-submit');
  await page.waitForSelector(`tr[data-machine="${NAME}"]`);
  expect(await page.$('#forget-token'), 'a way to forget the token');
  await page.click(`a[href="/console/machines/${NAME}"]`);
  await page.waitForSelector('#graph [data-state="Each"]');
  await page.fill('#execution-input', '{"slow": 1, "items": [{"n": 1}]}');
  await page.click('#start');
  await page.waitForURL(/\/console\/execution\?arn=/);
  const loadedAt = await page.evaluate(() => window.__consoleLoadedAt);
  await page.waitForSelector('#graph [data-state="Pause"].entered');
  await page.waitForSelector('#graph [data-state="Done"].succeeded');
  await page.waitForSelector('#status [data-status="SUCCEEDED"]');
  expect(await page.evaluate(() => window.__consoleLoadedAt) === loadedAt, 'followed live, without a reload');
  await page.click('#graph [data-state="Prepare"]');
  expect(JSON.parse(await page.textContent('#state-input')).slow === 1, 'the state\'s input, read with the token');
  await page.screenshot({ path: join(OUT, 'auth-execution.png'), fullPage: true });

  step('the token is in no URL and nowhere on the page');
  expect(urls.some((u) => u.includes('/console/api/events')), 'the event stream was read');
  const leaked = urls.filter((u) => u.includes(TOKEN) || u.includes(encodeURIComponent(TOKEN)));
  expect(leaked.length === 0, 'no URL carries the token: ' + leaked);
  expect(!(await page.content()).includes(TOKEN), 'the page does not show the token');

  step('forgetting the token asks again');
  await page.click('#forget-token');
  await page.waitForSelector('#token-form');
  expect(await page.evaluate(() => sessionStorage.getItem('expressway-token')) === null, 'the token is gone');
  console.log('ok');
} catch (e) {
  await page.screenshot({ path: join(OUT, 'auth-failure.png'), fullPage: true }).catch(() => {});
  console.error(e.stack || String(e));
  process.exitCode = 1;
} finally {
  await browser.close();
}
