// Name server dashboard (the "service controller"): services and their servers kept live from
// the events WebSocket, admin actions through the REST API, a REQ tester and uPlot charts.
// Contract: docs/protocols.md "Name server". Plain ES modules, no bundler.

import { api, ApiError, getToken, setToken, seg } from './api.js';
import { NsState, leaseLeftMs } from './state.js';
import { EventStream, eventsUrl } from './events.js';
import { History, ServiceCharts, colorFor, renderShareBar } from './charts.js';
import { ReqTester } from './req_tester.js';
import { formatUptime } from '/js/format.js';

const $ = (id) => document.getElementById(id);
const state = new NsState();
const hist = new History();
let algorithms = [];           // [{name, description}]
let selected = decodeURIComponent(location.hash.match(/^#service=(.+)$/)?.[1] ?? '');
let charts = null;

// ---- messages -------------------------------------------------------------------------------

let messageTimer = null;
function showMessage(text, kind = 'error') {
  const box = $('message');
  clearTimeout(messageTimer);
  box.className = `message ${kind}`;
  box.setAttribute('aria-live', kind === 'error' ? 'assertive' : 'polite');
  const span = document.createElement('span');
  span.textContent = text;
  const close = document.createElement('button');
  close.type = 'button'; close.textContent = '×'; close.setAttribute('aria-label', 'Dismiss message');
  close.addEventListener('click', () => { box.hidden = true; });
  box.replaceChildren(span, close);
  box.hidden = false;
  if (kind !== 'error') messageTimer = setTimeout(() => { box.hidden = true; }, 5000);
}

function reportError(err) {
  showMessage(err instanceof ApiError ? err.describe() : `Unexpected error: ${err.message ?? err}`, 'error');
  if (!(err instanceof ApiError)) console.error(err);
}

// Runs an admin action with its button disabled; a reply applies to the local state only while
// the event stream is down (otherwise the matching delta is the source of truth).
async function act(button, fn) {
  if (button) button.disabled = true;
  try {
    return await fn();
  } catch (err) {
    reportError(err);
    return undefined;
  } finally {
    if (button) button.disabled = false;
  }
}

// ---- connection -----------------------------------------------------------------------------

function setConn(kind, text) {
  const pill = $('conn-status');
  pill.textContent = text;
  pill.className = `pill ${{ live: 'pill-ok', connecting: 'pill-warn', offline: 'pill-bad' }[kind] ?? 'pill-unknown'}`;
  pill.dataset.state = kind;
}

const stream = new EventStream({
  url: () => eventsUrl(getToken()),
  onStatus: setConn,
  onFrame(msg) {
    switch (msg.type) {
      case 'snapshot':
        state.applySnapshot(msg);
        for (const s of state.services.values()) for (const v of s.servers.values()) hist.noteHealth(s.name, v.id, v.health);
        scheduleRender();
        return 'ok';
      case 'delta': {
        const r = state.applyDelta(msg);
        if (r === 'gap') return 'gap';
        if (r === 'applied') {
          if (msg.op === 'upsert') hist.noteHealth(msg.service, msg.server.id, msg.server.health);
          if (msg.op === 'remove') hist.forget(msg.service, msg.id);
          if (msg.op === 'remove_service') hist.forget(msg.service);
          scheduleRender();
        }
        return r;
      }
      case 'stats':
        hist.addStats(msg);
        applyStats(msg);
        renderStats(msg);
        charts?.update();
        return 'ok';
      default:
        return 'ok';
    }
  },
});

// Picks and lease renewals are not deltas (one per REQ or HB would flood the stream): the stats
// frames' per-interval picks keep the counters moving, and a periodic read of the selected
// service corrects the counters, the lease clocks and `eligible`.
function applyStats(msg) {
  let changed = false;
  for (const [name, st] of Object.entries(msg.services ?? {})) {
    const s = state.services.get(name);
    if (!s) continue;
    for (const [id, x] of Object.entries(st.servers ?? {})) {
      const v = s.servers.get(id);
      if (!v) continue;
      if (x.picks) { v.picks = (v.picks ?? 0) + x.picks; changed = true; }
      if (x.load != null && x.load !== v.load) { v.load = x.load; changed = true; }
    }
  }
  if (changed) scheduleRender();
}

setInterval(async () => {
  const name = selected;
  if (!stream.live || !state.services.has(name)) return;
  try {
    const fresh = await api('GET', `/api/v1/services/${seg(name)}`);
    const s = state.services.get(name);
    for (const x of fresh.servers ?? []) {
      const v = s?.servers.get(x.id);
      if (!v) continue;
      Object.assign(v, { picks: x.picks, load: x.load, eligible: x.eligible,
                         lease_expires_in_ms: x.lease_expires_in_ms, receivedAt: performance.now() });
    }
    scheduleRender();
  } catch { /* a deleted service or a refused token shows up elsewhere */ }
}, 3000);

// While the stream is down, poll so the page still reflects the server.
setInterval(async () => {
  if (stream.live) return;
  try {
    const snap = await api('GET', '/api/v1/services');
    if (stream.live) return;
    state.applySnapshot(snap);
    scheduleRender();
  } catch { /* the indicator already says offline */ }
}, 5000);

// ---- rendering ------------------------------------------------------------------------------

let renderPending = false;
function scheduleRender() {
  if (renderPending) return;
  renderPending = true;
  setTimeout(() => { renderPending = false; render(); }, 16);
}

const byId = (a, b) => a.localeCompare(b, 'en', { numeric: true });
function serverIds(s) { return s ? [...s.servers.keys()].sort(byId) : []; }

function render() {
  if (!selected && state.services.size) select([...state.services.keys()].sort(byId)[0], false);
  renderServiceList();
  renderServiceView();
  $('ns-event-version').textContent = state.version ?? '—';
}

function renderServiceList() {
  const list = $('service-list');
  const names = [...state.services.keys()].sort(byId);
  $('service-empty').hidden = names.length > 0;
  list.replaceChildren(...names.map((name) => {
    const s = state.services.get(name);
    const { eligible, total } = NsState.summary(s);
    const li = document.createElement('li');
    const b = document.createElement('button');
    b.type = 'button';
    b.dataset.service = name;
    if (name === selected) b.setAttribute('aria-current', 'true');
    const dot = document.createElement('span');
    dot.className = `dot ${total === 0 ? '' : eligible === total ? 'ok' : eligible > 0 ? 'warn' : 'bad'}`;
    const nm = document.createElement('span');
    nm.className = 'svc-name'; nm.textContent = name;
    const meta = document.createElement('span');
    meta.className = 'svc-meta'; meta.textContent = `${s.algorithm} · ${eligible}/${total}`;
    b.append(dot, nm, meta);
    b.setAttribute('aria-label', `${name}: ${s.algorithm}, ${eligible} of ${total} servers eligible`);
    b.addEventListener('click', () => select(name));
    li.append(b);
    return li;
  }));
}

function select(name, rerender = true) {
  if (selected !== name) {
    selected = name;
    charts?.destroy();
    charts = null;
    tester.reset();
  }
  const hash = name ? `#service=${encodeURIComponent(name)}` : '';
  if (location.hash !== hash) window.history.replaceState(null, '', hash || location.pathname);
  if (rerender) scheduleRender();
}

function renderServiceView() {
  const s = state.services.get(selected);
  $('service-view').hidden = !s;
  $('no-service').hidden = !!s;
  $('register-card').hidden = !s;
  if (!s) {
    charts?.destroy();
    charts = null;
    return;
  }
  const { eligible, total, picks } = NsState.summary(s);
  $('svc-title').textContent = s.name;
  $('register-h').textContent = `Register a server in ${s.name}`;
  $('svc-panic').hidden = !s.panic;
  $('svc-secret').hidden = !s.has_secret;
  $('svc-eligible').textContent = `${eligible} of ${total}`;
  $('svc-picks').textContent = picks.toLocaleString('en');
  const sel = $('alg-select');
  if (!sel.dataset.pending) {
    if (s.algorithm && ![...sel.options].some((o) => o.value === s.algorithm)) fillAlgorithms(sel, [s.algorithm]);
    sel.value = s.algorithm;
  }
  $('alg-desc').textContent = algorithms.find((a) => a.name === s.algorithm)?.description ?? '';

  const ids = serverIds(s);
  renderTable(s, ids);
  renderShareBar($('share-bar'), ids.map((id) => s.servers.get(id)), ids);
  if (!charts || charts.service !== s.name || !charts.sameServers(ids)) {
    charts?.destroy();
    charts = new ServiceCharts({ rps: $('chart-rps'), health: $('chart-health'), share: $('chart-share') }, s.name, ids, hist);
  }
  charts.update();
}

function renderTable(s, ids) {
  const tbody = $('servers').tBodies[0];
  $('servers-empty').hidden = ids.length > 0;
  const rows = new Map([...tbody.rows].map((tr) => [tr.dataset.id, tr]));
  ids.forEach((id, i) => {
    const v = s.servers.get(id);
    let tr = rows.get(id);
    if (!tr) tr = makeRow(s.name, id);
    rows.delete(id);
    fillRow(tr, v, i);
    tbody.append(tr);  // appending an existing row moves it into sorted position
  });
  for (const tr of rows.values()) tr.remove();
}

function makeRow(service, id) {
  const tr = document.createElement('tr');
  tr.dataset.id = id;
  tr.dataset.service = service;
  for (const cls of ['id', 'num weight', 'num effective', 'admin', 'health', 'num lease', 'num load', 'num picks', 'check', 'actions']) {
    const td = document.createElement(cls === 'id' ? 'th' : 'td');
    if (cls === 'id') td.scope = 'row';
    td.className = cls;
    tr.append(td);
  }
  const c = tr.cells;
  const sw = document.createElement('span');
  sw.className = 'swatch';
  c[0].append(sw, document.createTextNode(id));

  const stateSel = document.createElement('select');
  stateSel.setAttribute('aria-label', `Admin state of ${id}`);
  for (const st of ['ready', 'drain', 'maint']) stateSel.add(new Option(st, st));
  stateSel.addEventListener('change', () => act(stateSel, async () => {
    const want = stateSel.value;
    stateSel.dataset.pending = '1';
    try {
      const v = await api('PUT', `/api/v1/services/${seg(service)}/servers/${seg(id)}`, { state: want });
      if (!stream.live) { state.upsertServer(service, v); scheduleRender(); }
      showMessage(`${id} is now ${want}.`, 'ok');
    } catch (err) {
      stateSel.value = state.services.get(service)?.servers.get(id)?.admin ?? 'ready';
      throw err;
    } finally {
      delete stateSel.dataset.pending;
    }
  }));
  c[3].append(stateSel);

  const hb = document.createElement('button');
  hb.type = 'button'; hb.className = 'secondary small'; hb.textContent = 'Heartbeat';
  hb.setAttribute('aria-label', `Send a heartbeat for ${id}`);
  hb.addEventListener('click', () => act(hb, async () => {
    const v = await api('POST', `/api/v1/services/${seg(service)}/servers/${seg(id)}/heartbeat`, {});
    if (!stream.live) { state.upsertServer(service, v); scheduleRender(); }
    showMessage(`Heartbeat sent for ${id}: ${v.health}.`, 'ok');
  }));
  const del = armedButton(`Delete`, `Delete ${id}`, () => act(del, async () => {
    const r = await api('DELETE', `/api/v1/services/${seg(service)}/servers/${seg(id)}`);
    if (!stream.live && r.removed) { state.services.get(service)?.servers.delete(id); scheduleRender(); }
    showMessage(r.removed ? `Removed ${id}.` : `${id} was not registered.`, 'ok');
  }));
  del.classList.add('small');
  const btns = document.createElement('div');
  btns.className = 'btns';
  btns.append(hb, del);
  c[9].append(btns);
  return tr;
}

// A destructive button that needs a second click within 4 s ("Delete" → "Confirm delete").
function armedButton(text, label, onConfirm) {
  const b = document.createElement('button');
  b.type = 'button'; b.className = 'danger'; b.textContent = text;
  b.setAttribute('aria-label', label);
  let timer = null;
  b.addEventListener('click', () => {
    if (b.dataset.armed) {
      clearTimeout(timer);
      delete b.dataset.armed;
      b.textContent = text; b.setAttribute('aria-label', label);
      onConfirm();
      return;
    }
    b.dataset.armed = '1';
    b.textContent = `Confirm ${text.toLowerCase()}`;
    b.setAttribute('aria-label', `Confirm: ${label}`);
    timer = setTimeout(() => { delete b.dataset.armed; b.textContent = text; b.setAttribute('aria-label', label); }, 4000);
  });
  return b;
}

function fillRow(tr, v, index) {
  const c = tr.cells;
  tr.classList.toggle('not-eligible', !v.eligible);
  tr.dataset.health = v.health;
  tr.dataset.admin = v.admin;
  c[0].querySelector('.swatch').style.background = colorFor(index);
  c[1].textContent = v.weight;
  const extras = [];
  if (v.weight_percent != null && v.weight_percent !== 100) extras.push(`${v.weight_percent}%`);
  if (v.ramp_percent != null && v.ramp_percent < 100) extras.push(`ramp ${v.ramp_percent}%`);
  c[2].textContent = `${v.effective_weight ?? '—'}${extras.length ? ` (${extras.join(', ')})` : ''}`;
  const sel = c[3].querySelector('select');
  if (!sel.dataset.pending) sel.value = v.admin;
  const badge = document.createElement('span');
  badge.className = `badge ${['up', 'down', 'pending'].includes(v.health) ? v.health : 'pending'}`;
  badge.textContent = v.health;
  const parts = [badge];
  if (v.health_detail) {
    const d = document.createElement('span');
    d.className = 'health-detail'; d.textContent = v.health_detail; d.title = v.health_detail;
    parts.push(d);
  }
  if (!v.eligible && v.health === 'up') badge.title = `not eligible (${v.admin})`;
  c[4].replaceChildren(...parts);
  c[5].dataset.hasLease = v.lease_expires_in_ms == null ? '' : '1';
  renderLease(c[5], v);
  c[6].textContent = v.load ?? '—';
  c[7].textContent = (v.picks ?? 0).toLocaleString('en');
  c[8].textContent = describeCheck(v.check);
}

function describeCheck(check) {
  if (!check) return 'lease';
  const every = check.interval_ms ? ` every ${check.interval_ms / 1000} s` : '';
  return `${check.type}${check.path ? ` ${check.path}` : ''}${every}`;
}

function renderLease(td, v) {
  const left = leaseLeftMs(v);
  td.classList.toggle('low', left != null && left > 0 && left < 5000);
  td.classList.toggle('gone', left === 0);
  td.textContent = left == null ? '—' : left === 0 ? 'expired' : `${(left / 1000).toFixed(1)} s`;
}

setInterval(() => {
  const s = state.services.get(selected);
  if (!s) return;
  for (const tr of $('servers').tBodies[0].rows) {
    const v = s.servers.get(tr.dataset.id);
    if (v) renderLease(tr.cells[5], v);
  }
}, 250);

// ---- name server facts --------------------------------------------------------------------

let uptimeBase = null;
function renderStats(msg) {
  const dt = (msg.interval_ms || 1000) / 1000;
  $('ns-rps').textContent = msg.req_total != null ? `${+(msg.req_total / dt).toFixed(1)}` : '—';
  const lat = msg.req_latency_us;
  $('ns-latency').textContent = lat ? `p50 ${lat.p50} µs · p99 ${lat.p99} µs` : '—';
}

async function refreshHealth() {
  try {
    const h = await api('GET', '/api/v1/health');
    $('ns-version').textContent = h.version;
    uptimeBase = { s: h.uptime_s, at: performance.now() };
  } catch { /* shown by the connection indicator */ }
}


setInterval(() => {
  if (uptimeBase) $('ns-uptime').textContent = formatUptime(uptimeBase.s + (performance.now() - uptimeBase.at) / 1000);
}, 1000);

// ---- forms ----------------------------------------------------------------------------------

function fillAlgorithms(sel, names) {
  const keep = sel.value;
  sel.replaceChildren(...names.map((n) => {
    const o = new Option(n, n);
    const a = algorithms.find((x) => x.name === n);
    if (a?.description) o.title = a.description;
    return o;
  }));
  if (names.includes(keep)) sel.value = keep;
}

async function loadAlgorithms() {
  try {
    algorithms = (await api('GET', '/api/v1/algorithms')).algorithms ?? [];
  } catch (err) {
    reportError(err);
    return;
  }
  const names = algorithms.map((a) => a.name);
  fillAlgorithms($('alg-select'), names);
  fillAlgorithms($('service-alg'), names);
  scheduleRender();
}

$('alg-select').addEventListener('change', () => {
  const sel = $('alg-select');
  const name = selected;
  const want = sel.value;
  sel.dataset.pending = '1';
  act(sel, async () => {
    try {
      const s = await api('PUT', `/api/v1/services/${seg(name)}`, { algorithm: want });
      if (!stream.live) { state.applySnapshot({ version: state.version, services: mergeService(s) }); scheduleRender(); }
      showMessage(`${name} now uses ${s.algorithm ?? want}.`, 'ok');
    } catch (err) {
      sel.value = state.services.get(name)?.algorithm ?? sel.value;
      throw err;
    } finally {
      delete sel.dataset.pending;
    }
  });
});

// The current services as API objects with `replacement` swapped in (used only while offline).
function mergeService(replacement) {
  const out = [];
  for (const s of state.services.values()) {
    if (s.name === replacement.name) continue;
    out.push({ ...s, servers: [...s.servers.values()] });
  }
  out.push(replacement);
  return out;
}

$('service-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const form = ev.currentTarget;
  const name = $('service-name').value.trim();
  const algorithm = $('service-alg').value;
  act(form.querySelector('button'), async () => {
    const body = algorithm ? { algorithm } : {};
    const s = await api('PUT', `/api/v1/services/${seg(name)}`, body);
    if (!stream.live || !state.services.has(name)) { state.applySnapshot({ version: state.version, services: mergeService(s) }); }
    $('service-name').value = '';
    select(name);
    showMessage(`Service ${name} ready (${s.algorithm ?? algorithm}).`, 'ok');
  });
});

const svcDelete = armedButton('Delete service', 'Delete this service and all its servers', () => act(svcDelete, async () => {
  const name = selected;
  const r = await api('DELETE', `/api/v1/services/${seg(name)}`);
  if (!stream.live) state.services.delete(name);
  select('');
  showMessage(r.removed ? `Deleted service ${name}.` : `${name} did not exist.`, 'ok');
}));
svcDelete.id = 'svc-delete';
$('svc-delete').replaceWith(svcDelete);

$('reg-check').addEventListener('change', () => {
  const http = $('reg-check').value === 'http';
  $('reg-path').disabled = !http;
  if (http && !$('reg-path').value) $('reg-path').value = '/health';
});

$('register-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const form = ev.currentTarget;
  const id = $('reg-id').value.trim();
  const weight = Number($('reg-weight').value);
  const type = $('reg-check').value;
  const check = type ? { type, ...(type === 'http' ? { path: $('reg-path').value.trim() || '/' } : {}) } : null;
  const service = selected;
  act(form.querySelector('button[type=submit]'), async () => {
    const v = await api('POST', `/api/v1/services/${seg(service)}/servers`, { id, weight, check });
    if (!stream.live) { state.upsertServer(service, v); scheduleRender(); }
    $('reg-id').value = '';
    showMessage(`Registered ${v.id} in ${service} (weight ${v.weight}, ${v.health}${v.health === 'pending' && !check ? ' until its first heartbeat' : ''}).`, 'ok');
    $('reg-id').focus();
  });
});

const tester = new ReqTester(
  { form: $('req-form'), count: $('req-count'), key: $('req-key'), run: $('req-run'),
    summary: $('req-summary'), dist: $('req-dist'), last: $('req-last') },
  () => selected,
  () => serverIds(state.services.get(selected)));

// ---- token ----------------------------------------------------------------------------------

$('token-input').value = getToken();
$('token-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  setToken($('token-input').value.trim());
  showMessage(getToken() ? 'Admin token saved in this browser.' : 'Admin token cleared.', 'ok');
  restart();
});
$('token-clear').addEventListener('click', () => {
  $('token-input').value = '';
  setToken('');
  showMessage('Admin token cleared.', 'ok');
  restart();
});

function restart() {
  stream.restart('new token');
  loadAlgorithms();
}

window.addEventListener('hashchange', () => {
  const name = decodeURIComponent(location.hash.match(/^#service=(.+)$/)?.[1] ?? '');
  if (name !== selected) select(name);
});

// ---- start ----------------------------------------------------------------------------------

setConn('connecting', 'connecting…');
render();
loadAlgorithms();
refreshHealth();
setInterval(refreshHealth, 30000);
stream.start();
