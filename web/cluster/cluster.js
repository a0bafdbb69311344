// The monitoring page of one `chiron node` (issue 7: "the tree drawn live, per-node load, running
// jobs, and event plots of finished jobs"). Polls GET /api/v1/cluster and GET /api/v1/jobs once a
// second (Poller: backoff and a visible "disconnected" state while the node is gone) and redraws
// the tree (TreeView), the node and link tables, the counters, the local chart (uPlot) and the
// jobs (JobsView). Submitting and cancelling need the cluster token (sessionStorage).
// Contract: the team brief's "Node contract". Plain ES modules, no bundler.
import { el, $, nodeUrl, superiorOf, formatInt, formatLoad, formatBytes, formatClock } from './dom.js';
import { api, ApiError, getToken, setToken, seg } from './api.js';
import { Poller } from './poller.js';
import { TreeView, loadHue } from './tree_view.js';
import { LocalSeries, LocalChart } from './local_chart.js';
import { JobsView, splitArgs } from './jobs_view.js';
import { loadUplot } from './vendor.js';

const tree = new TreeView($('tree'));
const series = new LocalSeries();
let chart = null;
let apps = null;          // [{name, usage, about}] once loaded
let appsLoading = false;
let lastOkAt = null;
let offlineDetail = null;
const str = (v) => (typeof v === 'string' ? v : v === null || v === undefined ? '' : String(v));

// ---- messages ---------------------------------------------------------------------------------

let messageTimer = null;
function showMessage(text, kind = 'error') {
  const box = $('message');
  clearTimeout(messageTimer);
  box.className = `message ${kind}`;
  box.setAttribute('aria-live', kind === 'error' ? 'assertive' : 'polite');
  const close = el('button', { type: 'button', 'aria-label': 'Dismiss message', onclick: () => { box.hidden = true; } }, '×');
  box.replaceChildren(el('span', {}, text), close);
  box.hidden = false;
  if (kind !== 'error') messageTimer = setTimeout(() => { box.hidden = true; }, 6000);
}

const describe = (err) => (err instanceof ApiError ? err.describe() : `Unexpected error: ${err?.message ?? err}`);

// ---- tables -----------------------------------------------------------------------------------

// Keeps one <tr> per key in tbody, in `items` order, creating with make(key) → {tr, …} and
// filling with fill(row, item); rows whose key went away are removed.
function syncRows(tbody, store, items, keyOf, make, fill) {
  const seen = new Set();
  items.forEach((item, i) => {
    const key = keyOf(item);
    if (seen.has(key)) return;
    seen.add(key);
    let row = store.get(key);
    if (!row) { row = make(key); store.set(key, row); }
    fill(row, item);
    if (tbody.children[i] !== row.tr) tbody.insertBefore(row.tr, tbody.children[i] ?? null);
  });
  for (const [key, row] of store) if (!seen.has(key)) { row.tr.remove(); store.delete(key); }
}

function loadCell(load) {
  const v = typeof load === 'number' ? load : null;
  const fill = el('span.meter-fill');
  fill.style.width = `${Math.round(100 * Math.min(1, Math.max(0, (v ?? 0) / 2)))}%`;
  fill.style.background = `hsl(${loadHue(v ?? 0)} 70% 45%)`;
  return [el('span.meter', { 'aria-hidden': 'true' }, fill), el('span.meter-text', {}, formatLoad(v))];
}

const nodeRows = new Map();
function renderNodes(c) {
  const selfKey = str(c.self?.position);
  const nodes = Array.isArray(c.nodes) ? c.nodes.filter((r) => r && typeof r === 'object') : [];
  $('nodes-count').textContent = `(${nodes.length})`;
  syncRows($('nodes-table').tBodies[0], nodeRows, nodes, (r) => str(r.position), (key) => {
    const cells = Array.from({ length: 8 }, (_, i) => el(i === 0 || (i >= 4 && i !== 6) ? 'td.num' : i === 2 ? 'td.host' : 'td'));
    return { tr: el('tr', { 'data-position': key }, ...cells), cells };
  }, (row, r) => {
    const [pos, addr, host, sup, threads, mem, load, jobs] = row.cells;
    row.tr.classList.toggle('self', str(r.position) === selfKey);
    pos.textContent = str(r.position);
    // The address links to the node's own monitoring page when it has one.
    const url = str(r.position) === selfKey ? null : nodeUrl(r.http);
    const code = el('code', {}, str(r.endpoint) || '—');
    addr.replaceChildren(url ? el('a', { href: url, title: `monitoring page of #${str(r.position)}: ${url}` }, code) : code);
    host.textContent = str(r.hostname) || '—';
    host.title = str(r.hostname);
    const s = superiorOf(r);
    const ideal = tree.items.get(str(r.position))?.g.dataset.ideal ?? '';
    sup.replaceChildren(s === null ? el('span.muted', {}, 'root') : `#${s}`,
                        s !== null && ideal && ideal !== s ? el('span.badge.warn', { title: `re-attached; its ideal superior is #${ideal}` }, `ideal #${ideal}`) : '');
    threads.textContent = formatInt(r.threads);
    mem.textContent = formatBytes(r.memory_bytes);
    load.replaceChildren(...loadCell(r.load));
    jobs.textContent = formatInt(r.jobs);
  });
}

const linkRows = new Map();
function renderLinks(c) {
  const byPos = new Map((Array.isArray(c.nodes) ? c.nodes : []).map((r) => [str(r?.position), r]));
  const links = Array.isArray(c.links) ? c.links.filter((l) => l && typeof l === 'object') : [];
  $('links-empty').hidden = links.length > 0;
  syncRows($('links-table').tBodies[0], linkRows, links, (l) => `${str(l.peer)}/${str(l.role)}`, (key) => {
    const cells = Array.from({ length: 6 }, (_, i) => el(i === 2 || i >= 4 ? 'td.num' : 'td'));
    return { tr: el('tr', { 'data-peer': key.split('/')[0] }, ...cells), cells };
  }, (row, l) => {
    const [peer, role, weight, flight, sent, rtt] = row.cells;
    const rec = byPos.get(str(l.peer));
    peer.replaceChildren(`#${str(l.peer)}`, rec?.endpoint ? el('code.peer-addr', {}, str(rec.endpoint)) : '');
    role.replaceChildren(el(`span.badge.${l.role === 'superior' ? 'accent' : 'plain'}`, {}, str(l.role) || '—'));
    weight.textContent = formatInt(l.weight);
    const f = Number(l.in_flight), cap = Number(l.capacity);
    const fill = el('span.meter-fill');
    fill.style.width = `${cap > 0 ? Math.round(100 * Math.min(1, f / cap)) : 0}%`;
    flight.replaceChildren(el('span.meter', { 'aria-hidden': 'true' }, fill), el('span.meter-text', {}, `${formatInt(l.in_flight)} / ${formatInt(l.capacity)}`));
    sent.textContent = formatInt(l.sent);
    rtt.textContent = typeof l.rtt_ms === 'number' ? `${l.rtt_ms.toFixed(l.rtt_ms < 10 ? 2 : 0)} ms` : '—';
  });
}

function renderLocal(c) {
  const self = c.self ?? {};
  $('node-name').textContent = `#${str(self.position)} · ${str(self.endpoint)}${self.hostname ? ` · ${str(self.hostname)}` : ''}`;
  document.title = `#${str(self.position)} ${str(self.endpoint)} — Chiron cluster`;
  $('f-subnet').textContent = str(c.subnet) || '—';
  $('f-fanout').textContent = formatInt(c.fanout);
  const nodes = Array.isArray(c.nodes) ? c.nodes : [];
  $('f-nodes').textContent = formatInt(nodes.length);
  $('f-threads').textContent = formatInt(nodes.reduce((n, r) => n + (typeof r?.threads === 'number' ? r.threads : 0), 0));

  $('l-position').textContent = `#${str(self.position)} (${str(self.endpoint) || '—'})`;
  const sup = c.superior === null || c.superior === undefined ? null : str(c.superior);
  const ideal = c.ideal_superior === null || c.ideal_superior === undefined ? null : str(c.ideal_superior);
  $('l-superior').replaceChildren(
    sup === null ? (ideal === null ? 'none (root)' : el('span.badge.bad', {}, 'none — looking for one')) : `#${sup}`,
    ideal !== null && ideal !== sup ? el('span.badge.warn', {}, `ideal #${ideal}`) : '');
  const subs = Array.isArray(c.subordinates) ? c.subordinates.map((p) => `#${str(p)}`) : [];
  $('l-subordinates').textContent = subs.length ? subs.join(', ') : 'none';
  const local = c.local ?? {};
  $('l-kernels').textContent = `${formatInt(local.in_flight)} in flight / ${formatInt(local.capacity)} capacity · ${formatInt(local.threads)} threads · load ${formatLoad(self.load)}`;
  $('l-memory').textContent = formatBytes(self.memory_bytes);
  $('l-version').textContent = `record v${formatInt(self.version)} · uid ${str(self.uid) || '—'}`;

  // The five counters of the contract first (placed in the HTML), then any others the node adds.
  const counters = c.counters && typeof c.counters === 'object' ? c.counters : {};
  const dl = $('counters');
  for (const [key, value] of Object.entries(counters)) {
    if (typeof value !== 'number' || dl.querySelector(`dd[data-counter="${CSS.escape(key)}"]`)) continue;
    const label = key.replaceAll('_', ' ');
    dl.append(el('dt', {}, label[0].toUpperCase() + label.slice(1)), el('dd', { 'data-counter': key }));
  }
  for (const dd of dl.querySelectorAll('dd[data-counter]')) dd.textContent = formatInt(counters[dd.dataset.counter]);
  const pending = c.pending && typeof c.pending === 'object' ? Object.entries(c.pending) : [];
  $('pending').replaceChildren(...pending.map(([job, n]) => el('li', { 'data-job': job }, el('span', {}, `job ${job}`), el('span.num', {}, formatInt(n)))));
  $('pending-empty').hidden = pending.length > 0;

  series.add(Date.now() / 1000, local, self.load);
  chart?.setData(series);
}

function renderCluster(c) {
  tree.update(c);
  renderLocal(c);
  renderNodes(c);
  renderLinks(c);
}

// ---- jobs -------------------------------------------------------------------------------------

const jobs = new JobsView({
  canCancel: () => !!getToken(),
  async onCancel(job, button) {
    button.disabled = true;
    try {
      const j = await api('DELETE', `/api/v1/jobs/${seg(job.id)}`, { auth: true });
      showMessage(`Job ${str(j?.id ?? job.id)} ${str(j?.state) || 'cancelled'}.`, 'ok');
      poller.retryNow();
    } catch (err) {
      showMessage(describe(err));
    } finally {
      button.disabled = false;
    }
  },
});

async function loadApps() {
  if (appsLoading) return;
  appsLoading = true;
  try {
    const reply = await api('GET', '/api/v1/apps');
    apps = Array.isArray(reply.apps) ? reply.apps.filter((a) => a && typeof a.name === 'string') : [];
    const select = $('submit-app');
    const keep = select.value;
    select.replaceChildren(...apps.map((a) => el('option', { value: a.name }, a.name)));
    if (apps.some((a) => a.name === keep)) select.value = keep;
    showAppHelp();
  } catch (err) {
    apps = null;
    $('submit-help').textContent = `Apps unavailable: ${describe(err)}`;
  } finally {
    appsLoading = false;
  }
}

function showAppHelp() {
  const a = apps?.find((x) => x.name === $('submit-app').value);
  $('submit-help').replaceChildren(...(a ? [str(a.about), a.usage ? el('code.usage', {}, str(a.usage)) : ''] : []));
}

$('submit-app').addEventListener('change', showAppHelp);
$('submit-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  let args;
  try {
    args = splitArgs($('submit-args').value);
  } catch (err) {
    showMessage(err.message);
    return;
  }
  const app = $('submit-app').value;
  const button = $('submit-button');
  button.disabled = true;
  try {
    const job = await api('POST', '/api/v1/jobs', { body: { app, args }, auth: true });
    showMessage(`Job ${str(job?.id)} submitted: ${[app, ...args].join(' ')}`, 'ok');
    poller.retryNow();
  } catch (err) {
    showMessage(describe(err));
  } finally {
    button.disabled = false;
  }
});

// ---- token ------------------------------------------------------------------------------------

function showTokenState() {
  const has = !!getToken();
  $('token-state').textContent = has ? 'Token set' : 'Read-only';
  $('token-box').classList.toggle('has-token', has);
  $('submit-fields').disabled = !has;
  $('submit-locked').hidden = has;
  jobs.refreshActions();
}

$('token-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  setToken($('token-input').value.trim());
  $('token-input').value = '';
  $('token-box').open = false;
  showTokenState();
});
$('token-clear').addEventListener('click', () => {
  setToken('');
  $('token-input').value = '';
  $('token-box').open = false;
  showTokenState();
});

// ---- connection -------------------------------------------------------------------------------

function showConn(state, detail = {}) {
  const pill = $('conn-status');
  pill.dataset.state = state;
  document.body.dataset.conn = state;
  pill.className = `pill ${{ live: 'pill-ok', connecting: 'pill-warn', offline: 'pill-bad' }[state]}`;
  offlineDetail = state === 'offline' ? detail : null;
  $('offline-banner').hidden = state !== 'offline';
  tickConn();
}

function tickConn() {
  const pill = $('conn-status');
  const state = pill.dataset.state;
  if (state === 'live') pill.textContent = 'live';
  else if (state === 'connecting') pill.textContent = 'connecting…';
  else {
    const left = Math.max(0, Math.ceil(((offlineDetail?.retryAt ?? 0) - Date.now()) / 1000));
    pill.textContent = left > 0 ? `disconnected · retry in ${left} s` : 'disconnected · retrying…';
    const since = lastOkAt ? ` Last answer at ${formatClock(new Date(lastOkAt).toISOString())}.` : '';
    $('offline-text').textContent = `The node does not answer (${offlineDetail?.error ? describe(offlineDetail.error) : 'no answer'}).${since}`;
  }
  $('last-update').textContent = lastOkAt ? `updated ${formatClock(new Date(lastOkAt).toISOString())}` : 'no data yet';
}

const poller = new Poller({
  async round() {
    const [cluster, jobList] = await Promise.allSettled([api('GET', '/api/v1/cluster'), api('GET', '/api/v1/jobs')]);
    if (cluster.status === 'rejected') throw cluster.reason;
    lastOkAt = Date.now();
    // A reply the page cannot draw is a page bug, not a lost node: reported, still "live".
    try {
      renderCluster(cluster.value);
      if (jobList.status === 'fulfilled') jobs.update(jobList.value.jobs);
    } catch (err) {
      console.error(err);
      showMessage(`The page could not draw the node's reply: ${err?.message ?? err}`);
    }
    if (jobList.status === 'fulfilled') {
      $('jobs-error').hidden = true;
    } else {
      $('jobs-error').hidden = false;
      $('jobs-error').textContent = describe(jobList.reason);
    }
    if (apps === null) loadApps();
  },
  onStatus: showConn,
});

$('tree-fit').addEventListener('click', () => {
  const on = $('tree-fit').getAttribute('aria-pressed') !== 'true';
  $('tree-fit').setAttribute('aria-pressed', String(on));
  tree.setFit(on);
});
$('conn-status').addEventListener('click', () => poller.retryNow());
$('retry-now').addEventListener('click', () => poller.retryNow());
window.addEventListener('online', () => poller.retryNow());
setInterval(tickConn, 500);

showTokenState();
poller.start();
loadUplot().then((uPlot) => {
  if (!uPlot) { $('chart-missing').hidden = false; return; }
  chart = new LocalChart($('local-chart'), uPlot);
  chart.setData(series);
});
