// The Expressway console: one small script for every page. It reads the console's JSON
// endpoints (/console/api/...), draws nothing itself (the server lays out and renders the
// graph as SVG) and colours states as the results stream's events arrive.
'use strict';

const app = document.getElementById('app');
window.__consoleLoadedAt = Date.now();

// ---- helpers ----
function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (k === 'text') e.textContent = v;
    else e.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined) e.append(c instanceof Node ? c : String(c));
  return e;
}
// The bearer token, when the server asks for one: typed into the page, kept in this tab's
// sessionStorage (gone when the tab closes), sent only in Authorization headers (never in a
// URL, where logs and history would keep it) and never shown.
const TOKEN_KEY = 'expressway-token';
const token = () => sessionStorage.getItem(TOKEN_KEY) || '';
function headers() {
  const h = { 'content-type': 'application/json' };
  if (token()) h.authorization = 'Bearer ' + token();
  return h;
}
class ApiError extends Error {
  constructor(type, message) { super(type + (message ? ': ' + message : '')); this.type = type; }
}
async function answer(r) {
  const text = await r.text();
  let j = {};
  try { j = text ? JSON.parse(text) : {}; } catch (_) { j = { message: text }; }
  if (!r.ok) {
    const type = j.__type || String(r.status);
    // An unknown or missing token: ask again, saying why the last one was refused.
    if (/UnrecognizedClient/.test(type)) askForToken(j.message);
    throw new ApiError(type, j.message || '');
  }
  return j;
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const api = {
  op: (name, body) => fetch('/console/api/op/' + name, { method: 'POST', headers: headers(), body: JSON.stringify(body || {}) }).then(answer),
  get: (path) => fetch('/console/api/' + path, { headers: headers() }).then(answer),
  graph: (definition) => fetch('/console/api/graph', { method: 'POST', body: definition }).then(answer),
  // The results stream as Server-Sent Events, read with fetch so that the token goes in a
  // header (EventSource cannot send one). When the stream breaks it is opened again from
  // the position after the last message seen, so nothing is missed or repeated.
  events(params, onMessage) {
    const abort = new AbortController();
    let from = params.from;
    (async () => {
      for (let delay = 250; !abort.signal.aborted; delay = Math.min(delay * 2, 5000)) {
        try {
          const q = new URLSearchParams(params);
          if (from !== undefined) q.set('from', from);
          const r = await fetch('/console/api/events?' + q, { headers: headers(), signal: abort.signal });
          if (!r.ok) await answer(r);
          const reader = r.body.pipeThrough(new TextDecoderStream()).getReader();
          let buffer = '';
          for (;;) {
            const { value, done } = await reader.read();
            if (done) break;
            buffer += value.replace(/\r\n?/g, '\n');
            for (let end; (end = buffer.indexOf('\n\n')) >= 0;) {
              const block = buffer.slice(0, end);
              buffer = buffer.slice(end + 2);
              const data = block.split('\n').filter((l) => l.startsWith('data:')).map((l) => l.slice(5).replace(/^ /, '')).join('\n');
              if (!data) continue; // a keep-alive comment
              const m = JSON.parse(data);
              if (m.position) from = m.position + 1;
              onMessage(m);
              delay = 250;
            }
          }
        } catch (e) {
          if (abort.signal.aborted || (e instanceof ApiError && /UnrecognizedClient|AccessDenied/.test(e.type))) return;
        }
        await sleep(delay);
      }
    })();
    window.addEventListener('pagehide', () => abort.abort());
    return { close: () => abort.abort() };
  },
};
function askForToken(why) {
  // Several calls fail at once on a refused token: the first one's form stays.
  if (document.getElementById('token-form')) return;
  const wrong = token() !== '';
  sessionStorage.removeItem(TOKEN_KEY);
  const input = el('input', { type: 'password', id: 'token-input', placeholder: 'bearer token', size: 32, autocomplete: 'off' });
  const form = el('form', { id: 'token-form', class: 'panel' },
    el('h2', {}, 'This server needs a token'),
    el('p', { class: 'muted' }, 'Type a bearer token of the server\'s [auth] configuration (a static token or a JWT). It stays in this tab only and is sent in the Authorization header of the console\'s calls.'),
    wrong || why ? el('p', { class: 'problem', id: 'token-error' }, wrong ? 'The token was refused: ' + (why || 'unknown token') : why) : null,
    el('div', { class: 'row' }, input, el('button', { class: 'primary', id: 'token-submit', type: 'submit' }, 'Use token')));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    if (!input.value.trim()) return;
    sessionStorage.setItem(TOKEN_KEY, input.value.trim());
    input.value = '';
    location.reload();
  });
  app.replaceChildren(form);
  input.focus();
  tokenBox();
}
// The header's token box: a way to forget the token (the token itself is never shown).
function tokenBox() {
  const box = document.getElementById('token-box');
  box.replaceChildren(token() ? el('span', { class: 'muted' }, 'signed in with a token ',
    el('button', { id: 'forget-token', onclick: () => { sessionStorage.removeItem(TOKEN_KEY); location.reload(); } }, 'Forget token')) : '');
}
const machineName = (arn) => (arn || '').split(':')[6] || arn;
const time = (ms) => (ms ? new Date(ms).toLocaleTimeString([], { hour12: false }) + '.' + String(ms % 1000).padStart(3, '0') : '');
const seconds = (s) => (s ? new Date(s * 1000).toLocaleString([], { hour12: false }) : '');
const badge = (status) => el('span', { class: 'badge status-' + status, 'data-status': status }, status);
function failure(where, e) {
  // A refused token has put the token form up already.
  if (e instanceof ApiError && /UnrecognizedClient/.test(e.type)) return;
  where.replaceChildren(el('p', { class: 'problem', text: e.message }));
}
// A results service serves the live executions pages only.
let MODE = 'api';
const LIVE_ONLY = 'This is a results service: it serves the live executions pages. Manage state machines, start and stop executions on a frontend\'s console (expressway frontend or expressway dev).';
function pretty(text) {
  if (text === undefined || text === null || text === '') return '';
  try { return JSON.stringify(typeof text === 'string' ? JSON.parse(text) : text, null, 2); } catch (_) { return String(text); }
}

// ---- the live executions list ----
// Executions are known from the results stream (the stores keep no index of them): every
// retained ExecutionStarted event and outcome, then live ones as they come.
function executionsPanel(container, machineArn) {
  const rows = new Map();
  const status = el('select', { id: 'filter-status' }, ['', 'RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED'].map((s) => el('option', { value: s }, s || 'any status')));
  const machine = el('select', { id: 'filter-machine' }, el('option', { value: '' }, 'any state machine'));
  const counts = el('div', { class: 'counts', id: 'counts' });
  const body = el('tbody');
  const filters = el('div', { class: 'row' }, 'Filter: ', status, machineArn ? null : machine);
  container.replaceChildren(filters, counts,
    el('table', { class: 'executions' }, el('thead', {}, el('tr', {}, ['Name', 'State machine', 'Status', 'Started', 'Duration'].map((h) => el('th', {}, h)))), body));
  status.onchange = machine.onchange = () => render();
  let pending = false;
  function render() {
    pending = false;
    const all = [...rows.values()].sort((a, b) => (b.start || 0) - (a.start || 0));
    const byStatus = {};
    for (const r of all) byStatus[r.status] = (byStatus[r.status] || 0) + 1;
    counts.replaceChildren(...Object.entries(byStatus).map(([s, n]) => el('span', { 'data-count': s }, badge(s), ' ', String(n))));
    if (!all.length) counts.append(el('span', { class: 'muted' }, 'No executions yet (listed from the results stream as they start and end).'));
    const machines = [...new Set(all.map((r) => r.machine))].sort();
    if (machine.options.length !== machines.length + 1) {
      const keep = machine.value;
      machine.replaceChildren(el('option', { value: '' }, 'any state machine'), ...machines.map((m) => el('option', { value: m }, machineName(m))));
      machine.value = keep;
    }
    body.replaceChildren(...all.filter((r) => (!status.value || r.status === status.value) && (!machine.value || r.machine === machine.value)).slice(0, 500).map((r) =>
      el('tr', { 'data-execution': r.arn },
        el('td', {}, el('a', { href: '/console/execution?arn=' + encodeURIComponent(r.arn) }, r.name)),
        el('td', {}, el('a', { href: '/console/machines/' + encodeURIComponent(machineName(r.machine)) }, machineName(r.machine))),
        el('td', {}, badge(r.status)),
        el('td', {}, time(r.start)),
        el('td', {}, r.stop && r.start ? (r.stop - r.start) + ' ms' : ''))));
  }
  const schedule = () => { if (!pending) { pending = true; requestAnimationFrame(render); } };
  render();
  const params = { from: 1, only: 'executions' };
  if (machineArn) params.stateMachineArn = machineArn;
  api.events(params, (m) => {
    const r = rows.get(m.executionArn) || { arn: m.executionArn, name: m.executionArn.split(':').pop(), machine: m.stateMachineArn, status: 'RUNNING' };
    if (m.kind === 'outcome') Object.assign(r, { status: m.status, name: m.name, start: m.startMs, stop: m.stopMs });
    else if (!r.start) r.start = m.event.timestamp_ms;
    rows.set(m.executionArn, r);
    schedule();
  });
  return { add(r) { rows.set(r.arn, r); schedule(); } };
}

// ---- pages ----
async function pageIndex() {
  document.title = 'Expressway console';
  const list = el('div', {}, el('p', { class: 'muted' }, 'Loading…'));
  const executions = el('div');
  app.replaceChildren(el('h1', {}, 'State machines'), list, el('h2', {}, 'Executions (live)'), executions);
  executionsPanel(executions, null);
  if (MODE === 'live') return list.replaceChildren(el('p', { class: 'muted', id: 'live-only' }, LIVE_ONLY));
  try {
    const { stateMachines } = await api.get('machines');
    if (!stateMachines.length) {
      list.replaceChildren(el('p', { class: 'muted' }, 'No state machines yet: create one with the AWS CLI, an SDK or `expressway create-state-machine`.'));
      return;
    }
    list.replaceChildren(el('table', { class: 'machines' },
      el('thead', {}, el('tr', {}, ['Name', 'Type', 'Revision', 'Versions', 'Aliases', 'Logging', 'Created'].map((h) => el('th', {}, h)))),
      el('tbody', {}, stateMachines.map((m) => el('tr', { 'data-machine': m.name },
        el('td', {}, el('a', { href: '/console/machines/' + encodeURIComponent(m.name) }, m.name)),
        el('td', {}, m.type), el('td', {}, el('code', {}, m.revisionId)), el('td', {}, m.versions), el('td', {}, m.aliases),
        el('td', {}, m.loggingLevel || 'OFF'), el('td', {}, seconds(m.creationDate)))))));
  } catch (e) { failure(list, e); }
}

// Where JSON Pointer `pointer` is in `text`: the offset of the member's key (or the array
// item), or of the nearest enclosing value that exists (text past a syntax error has none).
function locate(text, pointer) {
  const spots = new Map();
  scanJson(text, spots);
  for (let p = pointer || ''; ; p = p.slice(0, p.lastIndexOf('/'))) {
    if (spots.has(p)) return spots.get(p);
    if (!p) return 0;
  }
}
const lineOf = (text, offset) => text.slice(0, offset).split('\n').length;

// ---- the start form's input check (up to its end marker: tests/console/check-input.mjs runs it) ----
const MAX_INPUT_BYTES = 256 * 1024;

// One pass over JSON text: its first syntax error (the offset and what was expected), or
// null; and, into `spots` when given, where each JSON Pointer's value starts (a member's:
// where its key does). (The browser's own JSON.parse messages differ from one engine to the
// next and some give no position; this one always does.)
function scanJson(text, spots) {
  let i = 0;
  const fail = (what) => { throw { offset: i, message: what }; };
  const ws = () => { while (i < text.length && ' \t\n\r'.includes(text[i])) i++; };
  const describe = () => (i >= text.length ? 'the end of the text' : JSON.stringify(text[i]));
  const escapes = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
  function string() {
    let s = '';
    i++;
    for (;;) {
      if (i >= text.length) fail('a closing quote, found the end of the text');
      const c = text[i];
      if (c === '"') { i++; return s; }
      if (c === '\\') {
        const n = text[i + 1];
        if (n === 'u') {
          const hex = text.substr(i + 2, 4);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) { i += 2; fail('four hex digits after \\u'); }
          s += String.fromCharCode(parseInt(hex, 16));
          i += 6;
          continue;
        }
        if (n === undefined || !(n in escapes)) { i++; fail('an escape (\\" \\\\ \\/ \\b \\f \\n \\r \\t \\u), found ' + describe()); }
        s += escapes[n];
        i += 2;
        continue;
      }
      if (c < ' ') fail('no control character inside a string (write \\n, \\t…)');
      s += c;
      i++;
    }
  }
  function number() {
    const m = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(text.slice(i));
    if (!m || !m[0] || m[0] === '-') fail('a value, found ' + describe());
    i += m[0].length;
  }
  function value(path) {
    ws();
    if (spots && !spots.has(path)) spots.set(path, i);
    const c = text[i];
    if (c === '{') {
      i++; ws();
      if (text[i] === '}') { i++; return; }
      for (;;) {
        ws();
        if (text[i] !== '"') fail('a member name in double quotes, found ' + describe());
        const at = i;
        const member = path + '/' + string().replace(/~/g, '~0').replace(/\//g, '~1');
        if (spots) spots.set(member, at);
        ws();
        if (text[i] !== ':') fail('":" after the member name, found ' + describe());
        i++;
        value(member); ws();
        if (text[i] === ',') { i++; continue; }
        if (text[i] === '}') { i++; return; }
        fail('"," or "}" after a member, found ' + describe());
      }
    }
    if (c === '[') {
      i++; ws();
      if (text[i] === ']') { i++; return; }
      for (let n = 0; ; n++) {
        value(path + '/' + n); ws();
        if (text[i] === ',') { i++; continue; }
        if (text[i] === ']') { i++; return; }
        fail('"," or "]" after an item, found ' + describe());
      }
    }
    if (c === '"') { string(); return; }
    for (const w of ['true', 'false', 'null']) if (text.startsWith(w, i)) { i += w.length; return; }
    if (c === '-' || (c >= '0' && c <= '9')) return number();
    fail('a value, found ' + describe());
  }
  try {
    value(''); ws();
    if (i < text.length) fail('the end of the text after the value, found ' + describe());
    return null;
  } catch (e) {
    if (e && typeof e.offset === 'number') return e;
    throw e;
  }
}
function lineColumn(text, offset) {
  const before = text.slice(0, offset).split('\n');
  return { line: before.length, column: before[before.length - 1].length + 1 };
}

// A JSONPath as the segments the check can follow: names and indexes from `$`, up to the
// first wildcard, filter, slice or recursive descent (what follows that is not checked).
function pathSegments(path) {
  if (typeof path !== 'string' || !path.startsWith('$') || path.startsWith('$$')) return null;
  const segs = [];
  let i = 1, partial = false;
  while (i < path.length) {
    let m;
    const rest = path.slice(i);
    if ((m = /^\.([A-Za-z_$][\w$-]*)/.exec(rest))) segs.push(m[1]);
    else if ((m = /^\[\s*'((?:[^'\\]|\\.)*)'\s*\]/.exec(rest)) || (m = /^\[\s*"((?:[^"\\]|\\.)*)"\s*\]/.exec(rest))) segs.push(m[1]);
    else if ((m = /^\[\s*(\d+)\s*\]/.exec(rest))) segs.push(Number(m[1]));
    else { partial = true; break; }
    i += m[0].length;
  }
  return { segs, partial, checked: partial ? path.slice(0, i) : path };
}
// Follow segments into a value: { found, value } or where it stops.
function follow(value, segs) {
  let v = value;
  for (let k = 0; k < segs.length; k++) {
    const s = segs[k];
    const here = typeof s === 'number' ? Array.isArray(v) && s < v.length : v !== null && typeof v === 'object' && !Array.isArray(v) && Object.prototype.hasOwnProperty.call(v, s);
    if (!here) return { found: false, missing: k };
    v = v[s];
  }
  return { found: true, value: v };
}
// The paths a JSONPath state reads from its input, with where it reads each: InputPath, the
// Parameters' `.$` members (intrinsic functions' path arguments too), ItemsPath, a Wait's
// SecondsPath/TimestampPath, a Choice's Variables and `…Path` comparisons. Parameters and the
// rest read the effective input, after InputPath.
function readsOf(name, st) {
  const reads = [];
  const fromTemplate = (t, where) => {
    if (Array.isArray(t)) return t.forEach((x, i) => fromTemplate(x, where + '[' + i + ']'));
    if (!t || typeof t !== 'object') return;
    for (const [k, v] of Object.entries(t)) {
      if (k.endsWith('.$') && typeof v === 'string') {
        if (v.startsWith('$') && !v.startsWith('$$')) reads.push({ path: v, where: where + '.' + k, after: true });
        else if (v.startsWith('States.')) for (const m of v.matchAll(/(?<![$\w])\$(?!\$)(?:\.[A-Za-z_$][\w$-]*|\[[^\]]*\])*/g)) reads.push({ path: m[0], where: where + '.' + k, after: true });
      } else fromTemplate(v, where + '.' + k);
    }
  };
  if (typeof st.InputPath === 'string') reads.push({ path: st.InputPath, where: 'InputPath', after: false });
  fromTemplate(st.Parameters, 'Parameters');
  if (typeof st.ItemsPath === 'string') reads.push({ path: st.ItemsPath, where: 'ItemsPath', after: true });
  for (const k of ['SecondsPath', 'TimestampPath']) if (typeof st[k] === 'string') reads.push({ path: st[k], where: k, after: true });
  const rule = (r, where, optional) => {
    if (!r || typeof r !== 'object') return;
    for (const [key, join] of [['And', 'And'], ['Or', 'Or']]) if (Array.isArray(r[key])) r[key].forEach((x, i) => rule(x, where + '.' + join + '[' + i + ']', optional));
    if (r.Not) rule(r.Not, where + '.Not', optional);
    // IsPresent asks whether the field is there: its absence is an answer, not a problem.
    const asks = 'IsPresent' in r;
    if (typeof r.Variable === 'string') reads.push({ path: r.Variable, where: where + '.Variable', after: true, optional: asks });
    for (const [k, v] of Object.entries(r)) if (k.endsWith('Path') && typeof v === 'string') reads.push({ path: v, where: where + '.' + k, after: true });
  };
  (st.Choices || []).forEach((r, i) => rule(r, 'Choices[' + i + ']'));
  return reads.map((r) => ({ ...r, state: name }));
}
// The plain `$states.input.a.b` references in a JSONata state's expressions (`{% … %}` in
// any of its fields but the nested states, Retry and Catch), except those inside `$exists(…)`,
// which asks about absence on purpose.
function jsonataReads(st) {
  const reads = [];
  const walk = (v, where) => {
    if (typeof v === 'string') {
      const m = /^\s*\{%([\s\S]*)%\}\s*$/.exec(v);
      if (!m) return;
      for (const r of m[1].matchAll(/\$states\.input((?:\.(?:[A-Za-z_][\w]*|`[^`]*`))+)/g)) {
        if (/\$exists\(\s*$/.test(m[1].slice(0, r.index))) continue;
        const segs = [...r[1].matchAll(/\.(?:([A-Za-z_][\w]*)|`([^`]*)`)/g)].map((x) => x[1] ?? x[2]);
        reads.push({ path: r[0], segs, where });
      }
    } else if (Array.isArray(v)) v.forEach((x, i) => walk(x, where + '[' + i + ']'));
    else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, where ? where + '.' + k : k);
  };
  for (const [k, v] of Object.entries(st)) if (!['Branches', 'ItemProcessor', 'Iterator', 'Retry', 'Catch'].includes(k)) walk(v, k);
  return reads;
}
// Check an execution input against a definition: problems (the start would be refused) and
// warnings (fields the first state reads that the input lacks).
function checkInput(text, definition) {
  const problems = [], warnings = [], notes = [];
  const bytes = new TextEncoder().encode(text).length;
  if (bytes > MAX_INPUT_BYTES) problems.push('the input is ' + bytes.toLocaleString('en') + ' bytes, over the limit of 256 KiB (' + MAX_INPUT_BYTES.toLocaleString('en') + ' bytes)');
  const bad = scanJson(text);
  if (bad) {
    const { line, column } = lineColumn(text, bad.offset);
    problems.push('not JSON: line ' + line + ', column ' + column + ': expected ' + bad.message);
    return { problems, warnings, notes, line };
  }
  let def;
  try { def = JSON.parse(definition); } catch (_) { return { problems, warnings, notes }; }
  const name = def && def.StartAt;
  const st = def && def.States && def.States[name];
  if (!st) return { problems, warnings, notes };
  const input = JSON.parse(text);
  if ((st.QueryLanguage || def.QueryLanguage) === 'JSONata') {
    const absent = new Map();
    for (const r of jsonataReads(st)) {
      if (follow(input, r.segs).found) continue;
      if (absent.has(r.path)) absent.get(r.path).push(r.where);
      else absent.set(r.path, [r.where]);
    }
    for (const [path, where] of absent) {
      warnings.push({ path, text: path + ' is absent from the input: ' + name + ' reads it (' + where.join(', ') + '; JSONata gives undefined for it)' });
    }
    notes.push('the first state (' + name + ') uses JSONata: only plain $states.input.a.b references are checked');
    return { problems, warnings, notes };
  }
  const reads = readsOf(name, st);
  const inputPath = reads.find((r) => r.where === 'InputPath');
  let effective = input, effectiveKnown = true;
  if (inputPath) {
    const p = pathSegments(inputPath.path);
    const f = p && follow(input, p.segs);
    if (p && !p.partial && f.found) effective = f.value;
    else effectiveKnown = false;
  }
  // One warning per absent path, naming every place that reads it.
  const absent = new Map();
  for (const r of reads) {
    if (r.after && !effectiveKnown) continue;
    const p = pathSegments(r.path);
    if (!p) continue;
    const f = follow(r.after ? effective : input, p.segs);
    if (f.found || r.optional) continue;
    const key = (r.after ? 'after ' : '') + r.path;
    if (absent.has(key)) { absent.get(key).where.push(r.where); continue; }
    const shown = r.after && inputPath ? r.path + ' (after InputPath ' + inputPath.path + ')' : r.path;
    absent.set(key, { path: r.path, shown, where: [r.where], partial: p.partial ? ', checked up to ' + p.checked : '' });
  }
  for (const a of absent.values()) {
    warnings.push({ path: a.path, text: a.shown + ' is absent from the input: ' + name + ' reads it (' + a.where.join(', ') + ')' + a.partial });
  }
  return { problems, warnings, notes };
}

// ---- end of the input check ----

function editor(initial) {
  const gutter = el('div', { class: 'gutter' });
  const area = el('textarea', { spellcheck: 'false', id: 'definition' });
  area.value = initial;
  let bad = new Set();
  function numbers() {
    const n = area.value.split('\n').length;
    gutter.replaceChildren(...Array.from({ length: n }, (_, k) => el('div', { class: bad.has(k + 1) ? 'bad' : null, 'data-line': k + 1 }, k + 1)));
    gutter.scrollTop = area.scrollTop;
  }
  area.addEventListener('scroll', () => { gutter.scrollTop = area.scrollTop; });
  area.addEventListener('input', () => { bad = new Set(); numbers(); });
  numbers();
  return {
    node: el('div', { class: 'editor' }, gutter, area),
    area,
    mark(lines) { bad = new Set(lines); numbers(); },
    select(offset) {
      area.focus();
      const end = area.value.indexOf('\n', offset);
      area.setSelectionRange(offset, end < 0 ? area.value.length : end);
      area.scrollTop = Math.max(0, (lineOf(area.value, offset) - 5) * 16);
    },
  };
}

async function pageMachine(name) {
  document.title = name + ' · Expressway';
  app.replaceChildren(el('p', { class: 'muted' }, 'Loading…'));
  if (MODE === 'live') return app.replaceChildren(el('p', { class: 'muted', id: 'live-only' }, LIVE_ONLY));
  let machine;
  try {
    const { stateMachines } = await api.get('machines');
    machine = stateMachines.find((m) => m.name === name);
    if (!machine) throw new Error('no state machine is named ' + name);
  } catch (e) { return failure(app, e); }
  const arn = machine.stateMachineArn;
  let d;
  try { d = await api.op('DescribeStateMachine', { stateMachineArn: arn }); } catch (e) { return failure(app, e); }
  const graphBox = el('div', { class: 'graph-box', id: 'graph' });
  const revision = el('code', { id: 'revision' }, d.revisionId);
  const ed = editor(pretty(d.definition));
  const diagnostics = el('ul', { class: 'diagnostics', id: 'diagnostics' });
  const note = el('span', { class: 'muted', id: 'editor-note' });
  async function redraw() {
    try {
      JSON.parse(ed.area.value);
      const { svg } = await api.graph(ed.area.value);
      graphBox.innerHTML = svg;
    } catch (e) { note.textContent = 'not drawn: ' + e.message; }
  }
  let timer;
  ed.area.addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(() => { note.textContent = ''; redraw(); }, 300); });
  async function validate() {
    const text = ed.area.value;
    const v = await api.op('ValidateStateMachineDefinition', { definition: text, type: machine.type });
    const found = v.diagnostics || [];
    const lines = [];
    diagnostics.replaceChildren(...found.map((x) => {
      const at = locate(text, x.location || '');
      const line = lineOf(text, at);
      lines.push(line);
      return el('li', { 'data-location': x.location || '', 'data-line': line, onclick: () => ed.select(at) },
        el('code', {}, x.code), ' ', x.message, ' — at ', el('code', {}, x.location || '/'), ' (line ' + line + ')');
    }));
    ed.mark(lines);
    note.textContent = found.length ? found.length + ' problem(s)' : 'valid';
    if (found.length) ed.select(locate(text, found[0].location || ''));
    return found.length === 0;
  }
  async function save() {
    try {
      if (!(await validate())) return;
      const r = await api.op('UpdateStateMachine', { stateMachineArn: arn, definition: ed.area.value });
      revision.textContent = r.revisionId;
      note.textContent = 'saved as revision ' + r.revisionId;
    } catch (e) { note.textContent = e.message; }
  }
  async function publish() {
    try {
      const r = await api.op('PublishStateMachineVersion', { stateMachineArn: arn });
      note.textContent = 'published ' + r.stateMachineVersionArn;
    } catch (e) { note.textContent = e.message; }
  }
  // Start an execution.
  const execName = el('input', { placeholder: 'name (optional)', id: 'execution-name', size: 24 });
  const input = el('textarea', { rows: 6, id: 'execution-input', spellcheck: 'false' });
  input.value = '{}';
  const inputNote = el('span', { class: 'muted', id: 'input-note' });
  const startButton = el('button', { class: 'primary', id: 'start' }, 'Start execution');
  const inputWarnings = el('ul', { class: 'warnings', id: 'input-warnings' });
  let checkTimer;
  function checkNow() {
    const c = checkInput(input.value, ed.area.value);
    inputNote.textContent = c.problems.join('; ');
    inputNote.className = c.problems.length ? 'problem' : 'muted';
    startButton.disabled = c.problems.length > 0;
    inputWarnings.replaceChildren(...c.warnings.map((w) => el('li', { 'data-path': w.path }, w.text)), ...c.notes.map((n) => el('li', { class: 'muted' }, n)));
  }
  input.addEventListener('input', () => { clearTimeout(checkTimer); checkTimer = setTimeout(checkNow, 150); });
  startButton.onclick = async () => {
    try {
      const body = { stateMachineArn: arn, input: input.value };
      if (execName.value.trim()) body.name = execName.value.trim();
      const r = await api.op('StartExecution', body);
      location.href = '/console/execution?arn=' + encodeURIComponent(r.executionArn);
    } catch (e) { inputNote.textContent = e.message; }
  };
  const executions = el('div');
  app.replaceChildren(
    el('h1', {}, name, ' ', el('span', { class: 'badge status-RUNNING' }, machine.type)),
    el('div', { class: 'row muted' }, 'revision ', revision, ' · logging ', machine.loggingLevel || 'OFF', ' · ', String(machine.versions), ' version(s), ', String(machine.aliases), ' alias(es)'),
    el('div', { class: 'cols' },
      el('div', {}, graphBox),
      el('div', {},
        el('div', { class: 'panel' }, el('h2', {}, 'Start an execution'), el('div', { class: 'row' }, execName), input, el('div', { class: 'row' }, startButton, inputNote), inputWarnings),
        el('div', { class: 'panel' }, el('h2', {}, 'Definition'), ed.node,
          el('div', { class: 'row' }, el('button', { id: 'validate', onclick: validate }, 'Validate'), el('button', { id: 'save', class: 'primary', onclick: save }, 'Save as new revision'),
            el('button', { id: 'publish', onclick: publish }, 'Publish version'), note),
          diagnostics))),
    el('h2', {}, 'Executions (live)'), executions);
  executionsPanel(executions, arn);
  redraw();
  checkNow();
}

// The error a Catch put into the input of its target (`{Error, Cause}`, at the top or one
// level down, wherever its ResultPath put it): Map and Parallel failures name it nowhere else.
function caughtError(input) {
  try { if (typeof input === 'string') input = JSON.parse(input); } catch (_) { return null; }
  if (!input || typeof input !== 'object') return null;
  if (typeof input.Error === 'string') return input.Error;
  for (const v of Object.values(input)) if (v && typeof v === 'object' && typeof v.Error === 'string') return v.Error;
  return null;
}

// Colours per state from history events, as they arrive.
function painter(svg, onCaught) {
  const states = new Map();
  let lastFailed = null;
  const node = (name) => svg.querySelector('[data-state="' + CSS.escape(name) + '"]');
  function set(name, cls) {
    const n = node(name);
    if (!n) return;
    n.classList.remove('entered', 'succeeded', 'failed', 'caught');
    n.classList.add(cls);
    n.setAttribute('data-status', cls);
    states.set(name, cls);
  }
  return function paint(e) {
    const t = e.type, name = e.state_name;
    const d = e.details || {};
    if (t.endsWith('StateEntered')) {
      if (lastFailed && !lastFailed.error) lastFailed.error = caughtError(d.input);
      if (lastFailed) {
        const edge = svg.querySelector('.edge.catch[data-from="' + CSS.escape(lastFailed.name) + '"][data-to="' + CSS.escape(name) + '"]');
        if (edge) {
          set(lastFailed.name, 'caught');
          if (onCaught) onCaught(lastFailed.name, lastFailed.error);
          edge.classList.add('taken');
          const label = edge.querySelector('text.label');
          if (label && !edge.querySelector('.caught-error')) {
            const t2 = document.createElementNS('http://www.w3.org/2000/svg', 'text');
            t2.setAttribute('class', 'caught-error');
            t2.setAttribute('x', label.getAttribute('x'));
            t2.setAttribute('y', String(Number(label.getAttribute('y')) + 15));
            t2.textContent = lastFailed.error || 'caught';
            edge.append(t2);
            // The layout kept the label box's second line free for it.
            const bg = edge.querySelector('rect.label-bg');
            if (bg) bg.setAttribute('height', String(2 * Number(bg.getAttribute('height'))));
          }
        }
        lastFailed = null;
      }
      set(name, t === 'FailStateEntered' ? 'failed' : 'entered');
      if (t === 'FailStateEntered') lastFailed = { name, error: d.error };
    } else if (t.endsWith('StateExited')) {
      if (states.get(name) !== 'failed' && states.get(name) !== 'caught') set(name, 'succeeded');
    } else if (/^(Task|Map|Parallel)(StateFailed|Failed|TimedOut)$/.test(t) && name) {
      set(name, 'failed');
      lastFailed = { name, error: d.error };
    } else if (/^(TaskScheduled|TaskStarted|MapStateStarted|ParallelStateStarted)$/.test(t) && name && states.get(name) === 'failed') {
      // Another attempt: a Retry took the error.
      lastFailed = null;
      set(name, 'entered');
      node(name)?.classList.add('retried');
    }
  };
}

// What the history tells of each state: one visit per time it was entered (a state inside a
// Map is visited once per item), each with its input and output as the logging configuration
// kept them, its attempts (Task, Map and Parallel retry) and the errors of failed attempts.
function stateRecords() {
  const byName = new Map();
  const visitsOf = (name) => byName.get(name) || byName.set(name, []).get(name);
  // Visits of a state inside a Map or Parallel interleave: an exit closes the oldest open one.
  const open = (name) => visitsOf(name).find((v) => !v.closed);
  function current(name, id) {
    let v = open(name);
    if (!v) { v = { ids: [], attempts: 0, failures: [], entered: false, closed: false }; visitsOf(name).push(v); }
    v.ids.push(id);
    return v;
  }
  return {
    visits: (name) => byName.get(name) || [],
    visitOfEvent(name, id) { return (byName.get(name) || []).findIndex((v) => v.ids.includes(id)); },
    add(e) {
      const name = e.state_name, d = e.details || {}, t = e.type;
      if (!name) return;
      if (t.endsWith('StateEntered')) {
        const v = { ids: [e.id], attempts: 0, failures: [], entered: true, closed: false, type: t.slice(0, -'StateEntered'.length) };
        if ('input' in d) v.input = d.input;
        if (t === 'FailStateEntered') { v.failed = true; v.closed = true; }
        visitsOf(name).push(v);
      } else if (t.endsWith('StateExited')) {
        const v = current(name, e.id);
        if ('output' in d) v.output = d.output;
        v.exited = true;
        v.closed = true;
      } else if (t === 'TaskScheduled' || t === 'MapStateStarted' || t === 'ParallelStateStarted') {
        const v = current(name, e.id);
        v.attempts += 1;
        if (t === 'TaskScheduled' && 'parameters' in d) v.parameters = d.parameters;
      } else if (/^(TaskFailed|TaskTimedOut|MapStateFailed|ParallelStateFailed)$/.test(t)) {
        current(name, e.id).failures.push({ error: d.error, cause: d.cause, type: t });
      } else {
        current(name, e.id);
      }
    },
    caught(name, error) { const vs = byName.get(name) || []; const v = vs[vs.length - 1]; if (v) v.caught = error || 'caught'; },
  };
}

// The definition's states by name, nested ones included (for the Fail states' Error and Cause).
function statesOf(def, out = new Map()) {
  for (const [name, s] of Object.entries((def && def.States) || {})) {
    out.set(name, s);
    for (const b of s.Branches || []) statesOf(b, out);
    if (s.ItemProcessor || s.Iterator) statesOf(s.ItemProcessor || s.Iterator, out);
  }
  return out;
}

async function pageExecution(arn) {
  document.title = 'Execution · Expressway';
  app.replaceChildren(el('p', { class: 'muted' }, 'Loading…'));
  let d;
  try { d = await api.get('execution?executionArn=' + encodeURIComponent(arn)); } catch (e) { return failure(app, e); }
  let definition = {};
  try { definition = JSON.parse(d.definition); } catch (_) { /* drawn as far as it goes */ }
  const defined = statesOf(definition);
  const logging = d.logging || { level: 'OFF', includeExecutionData: false };
  const graphBox = el('div', { class: 'graph-box', id: 'graph' });
  const statusBox = el('span', { id: 'status' }, badge(d.status));
  const errorBox = el('div', { id: 'error' });
  const output = el('pre', { id: 'output', class: 'panel' }, pretty(d.output));
  const live = MODE === 'live';
  const stop = el('button', { class: 'danger', id: 'stop', disabled: d.status !== 'RUNNING' || live }, 'Stop');
  const again = el('button', { id: 'again', disabled: live }, 'Start again with the same input');
  const events = el('tbody');
  const note = el('span', { class: 'muted' }, live ? 'Stop and start are served by a frontend\'s console.' : '');
  const timeline = el('div', { class: 'muted', id: 'timeline' });
  const statePanel = el('div', { class: 'panel', id: 'state-panel' }, el('span', { class: 'muted' }, 'Click a state in the graph or a row of the history to see its input, output and errors.'));
  function showError(error, cause) {
    if (!error && !cause) return;
    errorBox.replaceChildren(el('div', { class: 'error-box' }, el('strong', {}, error || ''), el('div', { class: 'cause' }, cause || '')));
  }
  function setStatus(s) {
    d.status = s;
    statusBox.replaceChildren(badge(s));
    stop.disabled = s !== 'RUNNING' || live;
  }
  showError(d.error, d.cause);
  stop.onclick = async () => {
    try { await api.op('StopExecution', { executionArn: arn, error: 'Console.Stopped', cause: 'stopped from the console' }); }
    catch (e) { note.textContent = e.message; }
  };
  again.onclick = async () => {
    try {
      const r = await api.op('StartExecution', { stateMachineArn: d.stateMachineArn, input: d.input || '{}' });
      location.href = '/console/execution?arn=' + encodeURIComponent(r.executionArn);
    } catch (e) { note.textContent = e.message; }
  };
  app.replaceChildren(
    el('h1', {}, d.name, ' ', statusBox),
    el('div', { class: 'row muted' }, 'state machine ', el('a', { href: '/console/machines/' + encodeURIComponent(machineName(d.stateMachineArn)) }, machineName(d.stateMachineArn)),
      ' · started ', time(d.startMs), ' · logging ', logging.level, logging.includeExecutionData ? ' with execution data' : ' without execution data', ' · ', stop, again, note),
    errorBox,
    el('div', { class: 'legend row' }, el('span', { class: 'l-none' }, 'not reached'), el('span', { class: 'l-entered' }, 'entered'),
      el('span', { class: 'l-succeeded' }, 'succeeded'), el('span', { class: 'l-failed' }, 'failed'), el('span', { class: 'l-caught' }, 'caught'), el('span', { class: 'l-none', style: 'border-style:dashed' }, 'retried')),
    el('div', { class: 'cols' }, graphBox,
      el('div', {}, el('h2', {}, 'State'), statePanel, el('h2', {}, 'Execution input'), el('pre', { class: 'panel' }, pretty(d.input)), el('h2', {}, 'Execution output'), output, el('h2', {}, 'Timeline'), timeline)),
    el('h2', {}, 'Events'),
    el('table', { id: 'events' }, el('thead', {}, el('tr', {}, ['#', 'Time', 'Type', 'State', 'Details'].map((h) => el('th', {}, h)))), events));
  try { graphBox.innerHTML = (await api.graph(d.definition)).svg; } catch (e) { failure(graphBox, e); }
  const svg = graphBox.querySelector('svg') || document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  const records = stateRecords();
  const paint = painter(svg, (name, error) => records.caught(name, error));
  let selected = null;

  // Why a state's input or output is not there, from the logging configuration.
  function absent(what, v) {
    if (logging.level === 'OFF') return 'not kept by the logging configuration (level OFF keeps no history)';
    if (logging.level !== 'ALL') return 'not kept by the logging configuration (level ' + logging.level + ' keeps failure events only)';
    if (!logging.includeExecutionData) return 'not kept by the logging configuration (includeExecutionData is off)';
    if (what === 'output' && v && v.failed) return 'none: the state failed';
    if (what === 'output' && v && v.caught) return 'none: the state failed and a Catch took its error';
    if (what === 'output' && v && !v.closed) return 'none yet: the state is running';
    return 'not in the history';
  }
  function block(id, title, present, value, why) {
    return el('div', { class: 'state-io' }, el('h3', {}, title),
      present ? el('pre', { id, class: 'io' }, pretty(value)) : el('p', { id, class: 'muted absent', 'data-absent': '' }, why));
  }
  function showState(name, visitIndex) {
    selected = { name, visit: visitIndex };
    for (const n of svg.querySelectorAll('.selected')) n.classList.remove('selected');
    svg.querySelector('[data-state="' + CSS.escape(name) + '"]')?.classList.add('selected');
    const def = defined.get(name) || {};
    const visits = records.visits(name);
    const k = visitIndex >= 0 && visitIndex < visits.length ? visitIndex : visits.length - 1;
    const v = visits[k];
    const parts = [el('div', { class: 'row' }, el('strong', { id: 'state-name' }, name), ' ', el('span', { class: 'muted' }, def.Type || ''),
      v ? el('span', { class: 'muted', id: 'state-visits' }, ' · visit ' + (k + 1) + ' of ' + visits.length) : null)];
    if (visits.length > 1) {
      parts.push(el('div', { class: 'row' }, 'Visits: ', visits.map((_, i) => el('button', { class: i === k ? 'primary' : null, 'data-visit': i + 1, onclick: () => showState(name, i) }, String(i + 1)))));
    }
    if (!v) {
      const why = logging.level === 'ALL' ? (d.status === 'RUNNING' ? 'not reached yet' : 'not reached') : absent('input');
      parts.push(el('p', { class: 'muted', id: 'state-input' }, why));
      statePanel.replaceChildren(...parts);
      return;
    }
    if (v.attempts > 0) {
      parts.push(el('p', { id: 'state-attempts' }, v.attempts + (v.attempts === 1 ? ' attempt' : ' attempts') + (v.attempts > 1 ? ' (' + (v.attempts - 1) + (v.attempts === 2 ? ' retry' : ' retries') + ')' : '')));
    }
    const errors = v.failures.slice();
    if (v.failed) errors.push({ error: def.Error || def.ErrorPath, cause: def.Cause || def.CausePath, type: 'Fail state' });
    if (errors.length) {
      parts.push(el('div', { id: 'state-error' }, errors.map((f, i) => el('div', { class: 'error-box' },
        el('strong', {}, f.error || v.caught || '(no error name)'), ' ', el('span', { class: 'muted' }, (errors.length > 1 ? 'attempt ' + (i + 1) + ' · ' : '') + f.type),
        f.cause ? el('div', { class: 'cause' }, f.cause) : null))));
    }
    if (v.caught) parts.push(el('p', { id: 'state-caught' }, 'Caught by its Catch: ', el('strong', {}, v.caught)));
    parts.push(block('state-input', 'Input', 'input' in v, v.input, absent('input', v)));
    if ('parameters' in v) parts.push(block('state-parameters', 'Task parameters', true, v.parameters));
    parts.push(block('state-output', 'Output', 'output' in v, v.output, absent('output', v)));
    statePanel.replaceChildren(...parts);
  }
  svg.addEventListener('click', (ev) => {
    const g = ev.target.closest('[data-state]');
    if (g) showState(g.getAttribute('data-state'), -1);
  });
  events.addEventListener('click', (ev) => {
    const tr = ev.target.closest('tr[data-state]');
    if (tr) showState(tr.getAttribute('data-state'), records.visitOfEvent(tr.getAttribute('data-state'), Number(tr.getAttribute('data-id'))));
  });

  const seen = new Set();
  let first = null;
  let refresh = false;
  function add(e) {
    if (seen.has(e.id)) return;
    seen.add(e.id);
    first = first ?? e.timestamp_ms;
    records.add(e);
    paint(e);
    events.append(el('tr', { 'data-type': e.type, 'data-id': e.id, 'data-state': e.state_name || null, class: e.state_name ? 'clickable' : null },
      el('td', {}, e.id), el('td', {}, time(e.timestamp_ms)), el('td', {}, e.type), el('td', {}, e.state_name || ''),
      el('td', { class: 'details' }, e.details ? el('div', {}, pretty(e.details)) : '')));
    timeline.append(el('div', {}, '+' + (e.timestamp_ms - first) + ' ms ', e.type, e.state_name ? ' · ' + e.state_name : ''));
    if (e.type === 'ExecutionFailed' || e.type === 'ExecutionAborted' || e.type === 'ExecutionTimedOut') showError(e.details?.error, e.details?.cause);
    if (selected && selected.name === e.state_name && !refresh) {
      refresh = true;
      requestAnimationFrame(() => { refresh = false; showState(selected.name, selected.visit); });
    }
  }
  // Events arrive in order from the stream; the stored history fills in what it no longer retains.
  const buffered = [];
  let following = false;
  api.events({ executionArn: arn, from: 1 }, (m) => {
    if (m.kind === 'event') { if (following) add(m.event); else buffered.push(m.event); }
    else {
      setStatus(m.status);
      showError(m.error, m.cause);
      if (m.output) output.textContent = pretty(m.output);
    }
  });
  try {
    const h = await api.get('history?executionArn=' + encodeURIComponent(arn));
    for (const e of h.events) add(e);
  } catch (e) { note.textContent = e.message; }
  for (const e of buffered.sort((a, b) => a.id - b.id)) add(e);
  following = true;
  if (!seen.size && d.status !== 'RUNNING') timeline.textContent = 'No history: the state machine\'s logging level keeps none (set it to ALL to follow executions here).';
}

// ---- routing ----
(async () => {
  let about = { mode: 'api', auth: false };
  try { about = await fetch('/console/api/about').then(answer); } catch (_) { /* an older server: every page */ }
  MODE = about.mode;
  tokenBox();
  if (about.auth && !token()) return askForToken();
  const path = location.pathname;
  if (path.startsWith('/console/machines/')) pageMachine(decodeURIComponent(path.slice('/console/machines/'.length)));
  else if (path.startsWith('/console/execution')) pageExecution(new URLSearchParams(location.search).get('arn'));
  else pageIndex();
})();
