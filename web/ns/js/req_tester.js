// REQ tester: sends N `GET /api/v1/req` one after another (so the order of answers is the
// algorithm's own sequence) and shows how the answers spread over the servers.

import { api } from './api.js';
import { colorFor } from './charts.js';

const LAST_ANSWERS = 20;

export class ReqTester {
  // els: {form, count, key, run, summary, dist, last}; service(): the selected service name;
  // order(): the selected service's server ids in display order (for colors).
  constructor(els, service, order) {
    this.els = els; this.service = service; this.order = order;
    this.running = false; this.stopRequested = false;
    els.form.addEventListener('submit', (ev) => { ev.preventDefault(); this.running ? this.stop() : this.run(); });
  }

  stop() { this.stopRequested = true; }

  reset() {
    if (this.running) this.stop();
    this.els.dist.replaceChildren();
    this.els.last.replaceChildren();
    this.els.summary.textContent = 'Sends N requests to GET /api/v1/req one after another and counts the answers.';
  }

  async run() {
    const svc = this.service();
    const n = Number(this.els.count.value);
    if (!svc) return;
    if (!Number.isInteger(n) || n < 1 || n > 10000) {
      this.els.summary.textContent = 'Requests must be a whole number from 1 to 10000.';
      return;
    }
    const keySpec = this.els.key.value.trim();
    this.running = true; this.stopRequested = false;
    this.els.run.textContent = 'Stop';
    const result = { service: svc, sent: 0, answered: 0, counts: new Map(), errors: new Map(), last: [], fatal: null };
    const t0 = performance.now();
    let lastPaint = 0;
    try {
      for (let i = 0; i < n && !this.stopRequested; i++) {
        const key = keySpec === '*' ? Math.random().toString(36).slice(2, 10) : keySpec;
        const q = `/api/v1/req?service=${encodeURIComponent(svc)}${key ? `&key=${encodeURIComponent(key)}` : ''}`;
        result.sent++;
        try {
          const { server } = await api('GET', q);
          result.answered++;
          result.counts.set(server, (result.counts.get(server) ?? 0) + 1);
          result.last.push({ ok: true, text: key ? `${server}  (key ${key})` : server });
        } catch (err) {
          const what = err.describe ? `${err.status || ''} ${err.code || ''} — ${err.message}`.trim() : String(err);
          result.errors.set(what, (result.errors.get(what) ?? 0) + 1);
          result.last.push({ ok: false, text: what });
          // An unknown service or a refused token fails every request the same way: stop early.
          if (err.status === 404 || err.status === 401 || err.status === 0) { result.fatal = err; break; }
        }
        if (result.last.length > LAST_ANSWERS) result.last.shift();
        if (performance.now() - lastPaint > 100) { lastPaint = performance.now(); this.#render(result, n, performance.now() - t0, true); }
      }
    } finally {
      this.running = false;
      this.els.run.textContent = 'Run REQ test';
      this.#render(result, n, performance.now() - t0, false);
    }
    return result;
  }

  #render(r, n, ms, progress) {
    const failed = r.sent - r.answered;
    let text = progress
      ? `Running: ${r.sent} of ${n} sent…`
      : `${r.sent} requests to ${r.service} in ${Math.round(ms)} ms: ${r.answered} answered, ${failed} failed.`;
    if (!progress && this.stopRequested && r.sent < n) text += ' Stopped.';
    if (!progress && r.fatal) text += ` Stopped at the first error: ${r.fatal.describe()}`;
    this.els.summary.textContent = text;

    const order = this.order();
    const ids = [...r.counts.keys()].sort((a, b) => {
      const ia = order.indexOf(a), ib = order.indexOf(b);
      return (ia < 0 ? 1e9 : ia) - (ib < 0 ? 1e9 : ib) || a.localeCompare(b);
    });
    const rows = ids.map((id) => bar(id, id, r.counts.get(id), r.sent, colorFor(Math.max(0, order.indexOf(id)))));
    for (const [what, count] of r.errors) rows.push(bar('errors', `error: ${what}`, count, r.sent, 'var(--bad)', true));
    this.els.dist.replaceChildren(...rows);

    this.els.last.replaceChildren(...r.last.slice().reverse().map((a) => {
      const li = document.createElement('li');
      li.textContent = a.text;
      if (!a.ok) li.className = 'err';
      return li;
    }));
  }
}

function bar(key, label, count, total, color, isError = false) {
  const pct = total ? (100 * count) / total : 0;
  const li = document.createElement('li');
  li.dataset.server = key;
  li.dataset.count = String(count);
  if (isError) li.className = 'errors';
  const name = document.createElement('span');
  name.className = 'label'; name.textContent = label; name.title = label;
  const track = document.createElement('span');
  track.className = 'track';
  const fill = document.createElement('span');
  fill.className = 'fill'; fill.style.display = 'block'; fill.style.width = `${pct}%`; fill.style.background = color;
  track.append(fill);
  const value = document.createElement('span');
  value.className = 'value'; value.textContent = `${count} · ${pct.toFixed(1)}%`;
  li.append(name, track, value);
  return li;
}
