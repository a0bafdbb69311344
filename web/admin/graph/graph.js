// The fluxion graph page (issue 8: "every running `chiron serve` exposes its graph at
// /api/v1/graph, drawn on an admin page with per-stream message rates"). Polls GET /api/v1/graph
// once a second (rounds never overlap), draws it (GraphView) and fills the fluxion and stream
// tables; the Text tab shows GET /api/v1/graph?format=text. Everything in the reply is treated as
// untrusted: values are type-checked here and reach the page only as text (dom.js).
// Contract: the team brief's /api/v1/graph paragraph; docs/platform-api.md. Plain ES modules.
import { el, $, formatInt, formatRate, formatBusy, tagHue } from './dom.js';
import { GraphView } from './graph_view.js';

const POLL_MS = 1000;
const TIMEOUT_MS = 4000;
const GRAPH_URL = '/api/v1/graph';

const view = new GraphView($('graph'));
let textTab = false;
let lastOkAt = null;

// ---- the reply, checked -------------------------------------------------------------------------

const str = (v) => (typeof v === 'string' ? v : null);
const count = (v) => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : null);
const names = (v) => (Array.isArray(v) ? v.filter((x) => typeof x === 'string') : []);

// {fluxions: [{id, tags, ctx, device, replicas, handled, failed, queued, busy_us,
//              streams: [{type, dest, vars, messages, rate}]}], window_s}; fluxions without a
// string id, or repeating one, are dropped.
export function sanitize(doc) {
  if (!doc || typeof doc !== 'object' || !Array.isArray(doc.fluxions)) {
    throw new Error('the reply has no "fluxions" array');
  }
  const seen = new Set();
  const fluxions = [];
  for (const f of doc.fluxions) {
    const id = str(f?.id);
    if (id === null || seen.has(id)) continue;
    seen.add(id);
    fluxions.push({
      id, tags: names(f.tags), ctx: names(f.ctx), device: str(f.device) ?? '',
      replicas: count(f.replicas), handled: count(f.handled), failed: count(f.failed),
      queued: count(f.queued), busy_us: count(f.busy_us),
      streams: (Array.isArray(f.streams) ? f.streams : []).filter((s) => s && typeof s === 'object').map((s) => ({
        type: s.type === 'start' ? 'start' : 'post', dest: names(s.dest), vars: names(s.vars),
        messages: count(s.messages), rate: count(s.rate),
      })),
    });
  }
  return { fluxions, window_s: count(doc.window_s) };
}

// ---- HTTP -----------------------------------------------------------------------------------------

async function fetchText(url, accept) {
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), TIMEOUT_MS);
  let res, text;
  try {
    res = await fetch(url, { headers: { Accept: accept }, cache: 'no-store', signal: ctl.signal });
    text = await res.text();
  } catch (err) {
    throw new Error(`GET ${url}: ${ctl.signal.aborted ? `no answer in ${TIMEOUT_MS} ms` : `network error — ${err?.message ?? err}`}`);
  } finally {
    clearTimeout(timer);
  }
  if (!res.ok) {
    let detail = text.trim().slice(0, 300) || res.statusText;
    try {
      const e = JSON.parse(text)?.error;
      if (typeof e?.message === 'string') detail = `${typeof e.code === 'string' ? `${e.code} — ` : ''}${e.message}`;
    } catch { /* not JSON: the raw text is the detail */ }
    throw new Error(`GET ${url}: HTTP ${res.status} — ${detail}`);
  }
  return text;
}

// ---- rendering ------------------------------------------------------------------------------------

function tagChips(tags) {
  return tags.map((t) => el('span.chip', { style: `--hue: ${tagHue(t)}`, 'data-tag': t }, t));
}

function renderTables(fluxions) {
  const fbody = $('fluxions-table').tBodies[0];
  fbody.replaceChildren(...fluxions.map((f) => el('tr', { 'data-id': f.id },
    el('td.id', {}, el('code', {}, f.id)),
    el('td', {}, tagChips(f.tags)),
    el('td', {}, f.device || '—'),
    el('td.num', {}, formatInt(f.replicas)),
    el('td.num', {}, formatInt(f.handled)),
    el(`td.num${f.failed > 0 ? '.bad' : ''}`, {}, formatInt(f.failed)),
    el('td.num', {}, formatInt(f.queued)),
    el('td.num', { title: f.busy_us === null ? '' : `${f.busy_us} µs` }, formatBusy(f.busy_us)),
    el('td.ctx', {}, f.ctx.length ? el('code', {}, `{${f.ctx.join(', ')}}`) : '—'))));
  const rows = [];
  for (const f of fluxions) {
    f.streams.forEach((s, i) => {
      rows.push(el('tr', { 'data-from': f.id, 'data-stream': i },
        el('td', {}, el('code', {}, f.id)),
        el('td', {}, el(`span.badge.${s.type}`, { title: s.type === 'start' ? 'start: fires many times' : 'post: fires once' },
          s.type === 'start' ? '>> start' : '-> post')),
        el('td', {}, s.dest.length ? s.dest.map((d, k) => [k ? ', ' : '', el('code', {}, d)]) : '—'),
        el('td', {}, s.vars.length ? el('code', {}, `[${s.vars.join(', ')}]`) : '—'),
        el('td.num', {}, formatInt(s.messages)),
        el('td.num.rate', {}, formatRate(s.rate))));
    });
    if (!f.streams.length) {
      rows.push(el('tr.null', { 'data-from': f.id }, el('td', {}, el('code', {}, f.id)), el('td', {}, '-> null'),
        el('td.muted', { colspan: 4 }, 'no output stream')));
    }
  }
  $('streams-table').tBodies[0].replaceChildren(...rows);
}

function render(graph) {
  const n = graph.fluxions.length;
  const streams = graph.fluxions.reduce((a, f) => a + f.streams.length, 0);
  $('graph-count').textContent = `${n} fluxion${n === 1 ? '' : 's'} · ${streams} stream${streams === 1 ? '' : 's'}`;
  $('window-note').textContent = graph.window_s === null ? '' : `rates over the last ${graph.window_s} s`;
  $('graph-empty').hidden = n > 0;
  $('graph').hidden = n === 0;
  view.update(graph.fluxions);
  renderTables(graph.fluxions);
}

function setStatus(ok, error) {
  document.body.dataset.conn = ok ? 'live' : 'error';
  const pill = $('conn-status');
  pill.className = `pill ${ok ? 'pill-ok' : 'pill-bad'}`;
  pill.textContent = ok ? 'live' : 'error';
  const banner = $('error');
  banner.hidden = ok;
  if (!ok) {
    banner.replaceChildren(el('strong', {}, 'The graph cannot be read. '), el('span', { id: 'error-text' }, error),
      lastOkAt ? el('span.muted', {}, ' What follows is the last graph seen.') : null);
  }
  if (ok) {
    lastOkAt = new Date();
    $('last-update').textContent = `updated ${lastOkAt.toLocaleTimeString()}`;
  }
}

async function refreshText() {
  const out = $('graph-text'), err = $('text-error');
  try {
    const text = await fetchText(`${GRAPH_URL}?format=text`, 'text/plain');
    out.textContent = text || '(empty program: no fluxions)';
    err.hidden = true;
  } catch (e) {
    err.textContent = e.message;
    err.hidden = false;
  }
}

async function round() {
  try {
    const graph = sanitize(JSON.parse(await fetchText(GRAPH_URL, 'application/json')));
    render(graph);
    setStatus(true);
  } catch (e) {
    setStatus(false, e instanceof SyntaxError ? `GET ${GRAPH_URL}: the reply is not JSON` : e.message);
  }
  if (textTab) await refreshText();
}

async function loop() {
  await round();
  setTimeout(loop, POLL_MS);
}

// ---- tabs -----------------------------------------------------------------------------------------

function selectTab(text) {
  textTab = text;
  for (const [tab, panel, on] of [['tab-graph', 'panel-graph', !text], ['tab-text', 'panel-text', text]]) {
    $(tab).setAttribute('aria-selected', String(on));
    $(tab).tabIndex = on ? 0 : -1;
    $(panel).hidden = !on;
  }
  if (text) refreshText();
}
$('tab-graph').addEventListener('click', () => selectTab(false));
$('tab-text').addEventListener('click', () => selectTab(true));
$('tab-graph').parentElement.addEventListener('keydown', (e) => {
  if (e.key !== 'ArrowLeft' && e.key !== 'ArrowRight') return;
  selectTab(!textTab);
  $(textTab ? 'tab-text' : 'tab-graph').focus();
});

loop();
