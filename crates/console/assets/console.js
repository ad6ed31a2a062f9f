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
const token = () => sessionStorage.getItem('expressway-token') || '';
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
    if (/UnrecognizedClient|AccessDenied/.test(type)) askForToken(j.message);
    throw new ApiError(type, j.message || '');
  }
  return j;
}
const api = {
  op: (name, body) => fetch('/console/api/op/' + name, { method: 'POST', headers: headers(), body: JSON.stringify(body || {}) }).then(answer),
  get: (path) => fetch('/console/api/' + path, { headers: headers() }).then(answer),
  graph: (definition) => fetch('/console/api/graph', { method: 'POST', body: definition }).then(answer),
  events(params, onMessage) {
    const q = new URLSearchParams(params);
    if (token()) q.set('token', token());
    const source = new EventSource('/console/api/events?' + q);
    source.onmessage = (m) => onMessage(JSON.parse(m.data));
    window.addEventListener('beforeunload', () => source.close());
    return source;
  },
};
function askForToken(why) {
  const box = document.getElementById('token-box');
  if (box.querySelector('input')) return;
  const input = el('input', { type: 'password', placeholder: 'bearer token', size: 24 });
  box.replaceChildren(el('span', { class: 'muted', text: (why || 'this server needs a token') + ' ' }), input,
    el('button', { onclick: () => { sessionStorage.setItem('expressway-token', input.value.trim()); location.reload(); } }, 'Use token'));
}
const machineName = (arn) => (arn || '').split(':')[6] || arn;
const time = (ms) => (ms ? new Date(ms).toLocaleTimeString([], { hour12: false }) + '.' + String(ms % 1000).padStart(3, '0') : '');
const seconds = (s) => (s ? new Date(s * 1000).toLocaleString([], { hour12: false }) : '');
const badge = (status) => el('span', { class: 'badge status-' + status, 'data-status': status }, status);
function failure(where, e) { where.replaceChildren(el('p', { class: 'problem', text: e.message })); }
function pretty(text) {
  if (text === undefined || text === null || text === '') return '';
  try { return JSON.stringify(typeof text === 'string' ? JSON.parse(text) : text, null, 2); } catch (_) { return String(text); }
}

// ---- the live executions list ----
// Executions are known from the results stream (the stores keep no index of them): every
// retained ExecutionStarted event and outcome, then live ones as they come.
function executionsPanel(container, machineArn) {
  const rows = new Map();
  const status = el('select', {}, ['', 'RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED'].map((s) => el('option', { value: s }, s || 'any status')));
  const machine = el('select', {}, el('option', { value: '' }, 'any state machine'));
  const counts = el('div', { class: 'counts' });
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
    counts.replaceChildren(...Object.entries(byStatus).map(([s, n]) => el('span', {}, badge(s), ' ', String(n))));
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
// item), or of the nearest enclosing value that exists.
function locate(text, pointer) {
  const spots = new Map();
  let i = 0;
  const ws = () => { while (i < text.length && /\s/.test(text[i])) i++; };
  function str() {
    let s = '';
    i++;
    while (i < text.length && text[i] !== '"') {
      if (text[i] === '\\') {
        const n = text[i + 1];
        if (n === 'u') { s += String.fromCharCode(parseInt(text.substr(i + 2, 4), 16)); i += 6; continue; }
        s += { n: '\n', t: '\t', r: '\r', b: '\b', f: '\f' }[n] || n;
        i += 2;
        continue;
      }
      s += text[i++];
    }
    i++;
    return s;
  }
  function value(path) {
    ws();
    if (!spots.has(path)) spots.set(path, i);
    const c = text[i];
    if (c === '{') {
      i++; ws();
      if (text[i] === '}') { i++; return; }
      for (;;) {
        ws();
        if (text[i] !== '"') return;
        const at = i;
        const p = path + '/' + str().replace(/~/g, '~0').replace(/\//g, '~1');
        spots.set(p, at);
        ws(); i++;
        value(p); ws();
        if (text[i] === ',') { i++; continue; }
        i++; return;
      }
    }
    if (c === '[') {
      i++; ws();
      if (text[i] === ']') { i++; return; }
      for (let n = 0; ; n++) {
        const before = i;
        value(path + '/' + n); ws();
        if (text[i] === ',') { i++; continue; }
        if (i === before) return;
        i++; return;
      }
    }
    if (c === '"') { str(); return; }
    while (i < text.length && !/[,\]}\s]/.test(text[i])) i++;
  }
  value('');
  for (let p = pointer || ''; ; p = p.slice(0, p.lastIndexOf('/'))) {
    if (spots.has(p)) return spots.get(p);
    if (!p) return 0;
  }
}
const lineOf = (text, offset) => text.slice(0, offset).split('\n').length;

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
  let machine;
  try {
    const { stateMachines } = await api.get('machines');
    machine = stateMachines.find((m) => m.name === name);
    if (!machine) throw new Error('no state machine is named ' + name);
  } catch (e) { return failure(app, e); }
  const arn = machine.stateMachineArn;
  const d = await api.op('DescribeStateMachine', { stateMachineArn: arn });
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
  input.addEventListener('input', () => {
    try { JSON.parse(input.value); inputNote.textContent = ''; startButton.disabled = false; }
    catch (e) { inputNote.textContent = 'input is not JSON: ' + e.message; startButton.disabled = true; }
  });
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
        el('div', { class: 'panel' }, el('h2', {}, 'Start an execution'), el('div', { class: 'row' }, execName), input, el('div', { class: 'row' }, startButton, inputNote)),
        el('div', { class: 'panel' }, el('h2', {}, 'Definition'), ed.node,
          el('div', { class: 'row' }, el('button', { id: 'validate', onclick: validate }, 'Validate'), el('button', { id: 'save', class: 'primary', onclick: save }, 'Save as new revision'),
            el('button', { id: 'publish', onclick: publish }, 'Publish version'), note),
          diagnostics))),
    el('h2', {}, 'Executions (live)'), executions);
  executionsPanel(executions, arn);
  redraw();
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
function painter(svg) {
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
          edge.classList.add('taken');
          const label = edge.querySelector('text.label');
          if (label && !edge.querySelector('.caught-error')) {
            const t2 = document.createElementNS('http://www.w3.org/2000/svg', 'text');
            t2.setAttribute('class', 'caught-error');
            t2.setAttribute('x', label.getAttribute('x'));
            t2.setAttribute('y', String(Number(label.getAttribute('y')) + 15));
            t2.textContent = lastFailed.error || 'caught';
            edge.append(t2);
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
    } else if ((t === 'TaskScheduled' || t === 'TaskStarted') && name && states.get(name) === 'failed') {
      set(name, 'entered');
      node(name)?.classList.add('retried');
    }
  };
}

async function pageExecution(arn) {
  document.title = 'Execution · Expressway';
  app.replaceChildren(el('p', { class: 'muted' }, 'Loading…'));
  let d, sm;
  try {
    [d, sm] = await Promise.all([api.op('DescribeExecution', { executionArn: arn }), api.op('DescribeStateMachineForExecution', { executionArn: arn })]);
  } catch (e) { return failure(app, e); }
  const graphBox = el('div', { class: 'graph-box', id: 'graph' });
  const statusBox = el('span', { id: 'status' }, badge(d.status));
  const errorBox = el('div', { id: 'error' });
  const output = el('pre', { id: 'output', class: 'panel' }, pretty(d.output));
  const stop = el('button', { class: 'danger', id: 'stop', disabled: d.status !== 'RUNNING' }, 'Stop');
  const again = el('button', { id: 'again' }, 'Start again with the same input');
  const events = el('tbody');
  const note = el('span', { class: 'muted' });
  const timeline = el('div', { class: 'muted', id: 'timeline' });
  function showError(error, cause) {
    if (!error && !cause) return;
    errorBox.replaceChildren(el('div', { class: 'error-box' }, el('strong', {}, error || ''), el('div', { class: 'cause' }, cause || '')));
  }
  function setStatus(s) {
    statusBox.replaceChildren(badge(s));
    stop.disabled = s !== 'RUNNING';
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
      ' · started ', seconds(d.startDate), ' · ', stop, again, note),
    errorBox,
    el('div', { class: 'legend row' }, el('span', { class: 'l-none' }, 'not reached'), el('span', { class: 'l-entered' }, 'entered'),
      el('span', { class: 'l-succeeded' }, 'succeeded'), el('span', { class: 'l-failed' }, 'failed'), el('span', { class: 'l-caught' }, 'caught'), el('span', { class: 'l-none', style: 'border-style:dashed' }, 'retried')),
    el('div', { class: 'cols' }, graphBox,
      el('div', {}, el('h2', {}, 'Input'), el('pre', { class: 'panel' }, pretty(d.input)), el('h2', {}, 'Output'), output, el('h2', {}, 'Timeline'), timeline)),
    el('h2', {}, 'Events'),
    el('table', { id: 'events' }, el('thead', {}, el('tr', {}, ['#', 'Time', 'Type', 'State', 'Details'].map((h) => el('th', {}, h)))), events));
  try { graphBox.innerHTML = (await api.graph(sm.definition)).svg; } catch (e) { failure(graphBox, e); }
  const svg = graphBox.querySelector('svg') || document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  const paint = painter(svg);
  const seen = new Set();
  let first = null;
  function add(e) {
    if (seen.has(e.id)) return;
    seen.add(e.id);
    first = first ?? e.timestamp_ms;
    paint(e);
    events.append(el('tr', { 'data-type': e.type },
      el('td', {}, e.id), el('td', {}, time(e.timestamp_ms)), el('td', {}, e.type), el('td', {}, e.state_name || ''),
      el('td', { class: 'details' }, e.details ? el('div', {}, pretty(e.details)) : '')));
    timeline.append(el('div', {}, '+' + (e.timestamp_ms - first) + ' ms ', e.type, e.state_name ? ' · ' + e.state_name : ''));
    if (e.type === 'ExecutionFailed' || e.type === 'ExecutionAborted' || e.type === 'ExecutionTimedOut') showError(e.details?.error, e.details?.cause);
  }
  // Events arrive in order from the stream; the stored history fills in what it no longer retains.
  const buffered = [];
  let live = false;
  api.events({ executionArn: arn, from: 1 }, (m) => {
    if (m.kind === 'event') { if (live) add(m.event); else buffered.push(m.event); }
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
  live = true;
  if (!seen.size && d.status !== 'RUNNING') timeline.textContent = 'No history: the state machine\'s logging level keeps none (set it to ALL to follow executions here).';
}

// ---- routing ----
const path = location.pathname;
if (path.startsWith('/console/machines/')) pageMachine(decodeURIComponent(path.slice('/console/machines/'.length)));
else if (path.startsWith('/console/execution')) pageExecution(new URLSearchParams(location.search).get('arn'));
else pageIndex();
