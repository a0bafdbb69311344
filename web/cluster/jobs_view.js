// Jobs of this node (GET /api/v1/jobs, newest first): running ones with a progress bar, finished
// ones with state, exit code, duration and summary, and the event plot of one finished job
// (GET /api/v1/jobs/:id/events.svg, the paper's Fig. 2) with its JSONL log. Rows are keyed by job
// id and updated in place, so a poll never reloads the plot or steals a button's focus.
// Cancel buttons exist only while a token is set (read-only otherwise).
import { el, $, formatSeconds, formatClock, parseTime, formatInt } from './dom.js';
import { seg } from './api.js';

const FINISHED = new Set(['succeeded', 'failed', 'cancelled']);
const PLOT_RETRIES = 4;
const PLOT_RETRY_MS = 2000;
const str = (v) => (typeof v === 'string' ? v : v === null || v === undefined ? '' : String(v));

export function isFinished(job) { return FINISHED.has(job?.state); }

// Seconds from start (or submission) to end, or to now while running; null when unknown.
export function jobDuration(job, now = Date.now()) {
  const start = parseTime(job.started_at) ?? parseTime(job.submitted_at);
  if (start === null) return null;
  const end = isFinished(job) ? parseTime(job.ended_at) : now;
  return end === null ? null : Math.max(0, (end - start) / 1000);
}

// {done, total} → fraction in [0, 1], or null when the job has not said how much there is.
export function progressFraction(p) {
  const done = Number(p?.done), total = Number(p?.total);
  if (!Number.isFinite(done) || !Number.isFinite(total) || total <= 0) return null;
  return Math.max(0, Math.min(1, done / total));
}

const commandLine = (job) => [str(job.app), ...(Array.isArray(job.args) ? job.args.map(str) : [])].join(' ');

export class JobsView {
  // onCancel(job, button): async; canCancel(): whether a token is set.
  constructor({ onCancel, canCancel }) {
    this.onCancel = onCancel; this.canCancel = canCancel;
    this.running = $('running-jobs').querySelector('tbody');
    this.finished = $('finished-jobs').querySelector('tbody');
    this.rows = new Map();      // id → {tr, kind, cells…}
    this.selected = null;       // job id whose plot is shown; null → the newest finished one
    this.userSelected = false;
    this.plotFor = null;        // job id the <img> currently shows
    this.jobs = [];
    // A plot can lag its job's end (the node writes it from the runtime's event log): a failed
    // load is retried a few times before the page says there is none.
    this.plotTries = 0;
    $('plot-img').addEventListener('error', () => {
      const img = $('plot-img'), id = this.plotFor;
      img.hidden = true;
      $('plot-missing').hidden = false;
      $('plot-missing').textContent = `No event plot for job ${id} (yet): the node answered with an error.`;
      if (id === null || this.plotTries >= PLOT_RETRIES) return;
      this.plotTries++;
      setTimeout(() => { if (this.plotFor === id) img.src = `/api/v1/jobs/${seg(id)}/events.svg?try=${this.plotTries}`; }, PLOT_RETRY_MS);
    });
    $('plot-img').addEventListener('load', () => { $('plot-img').hidden = false; $('plot-missing').hidden = true; });
  }

  update(jobs) {
    this.jobs = Array.isArray(jobs) ? jobs.filter((j) => j && typeof j === 'object' && j.id !== undefined) : [];
    const now = Date.now();
    const seen = new Set();
    const order = { running: [], finished: [] };
    for (const job of this.jobs) {
      const id = str(job.id);
      if (seen.has(id)) continue;
      seen.add(id);
      const kind = isFinished(job) ? 'finished' : 'running';
      let row = this.rows.get(id);
      if (row && row.kind !== kind) { row.tr.remove(); row = null; }
      if (!row) {
        row = kind === 'running' ? this.#runningRow(id) : this.#finishedRow(id);
        this.rows.set(id, row);
      }
      row.job = job;
      if (kind === 'running') this.#fillRunning(row, job, now); else this.#fillFinished(row, job);
      order[kind].push(row.tr);
    }
    for (const [id, row] of this.rows) if (!seen.has(id)) { row.tr.remove(); this.rows.delete(id); }
    this.#order(this.running, order.running);
    this.#order(this.finished, order.finished);
    $('running-empty').hidden = order.running.length > 0;
    $('finished-empty').hidden = order.finished.length > 0;
    $('running-count').textContent = String(order.running.length);
    $('finished-count').textContent = String(order.finished.length);

    if (this.selected !== null && !this.rows.has(this.selected)) { this.selected = null; this.userSelected = false; }
    if (!this.userSelected) {
      const newest = this.jobs.find(isFinished);
      this.selected = newest ? str(newest.id) : null;
    }
    this.#showPlot();
  }

  // The token appeared or went away: show or drop the Cancel buttons.
  refreshActions() { for (const row of this.rows.values()) if (row.kind === 'running') this.#fillActions(row); }

  select(id) {
    this.selected = id;
    this.userSelected = true;
    this.#showPlot();
    $('plot-card').scrollIntoView({ block: 'nearest', behavior: 'smooth' });
  }

  // Keeps tbody's children in `trs` order, moving only what is out of place.
  #order(tbody, trs) {
    trs.forEach((tr, i) => { if (tbody.children[i] !== tr) tbody.insertBefore(tr, tbody.children[i] ?? null); });
  }

  #runningRow(id) {
    const c = {
      id: el('td.id'), cmd: el('td.cmd'), prog: el('td.progress'), started: el('td.time'),
      elapsed: el('td.num'), home: el('td.num'), actions: el('td.actions'),
    };
    c.bar = el('progress', { max: '1' });
    c.progText = el('span.prog-text');
    c.prog.append(c.bar, c.progText);
    const tr = el('tr', { 'data-id': id }, c.id, c.cmd, c.prog, c.started, c.elapsed, c.home, c.actions);
    return { tr, kind: 'running', c, id };
  }

  #fillRunning(row, job, now) {
    const { c } = row;
    row.tr.dataset.state = str(job.state);
    c.id.replaceChildren(str(job.id), job.resumed ? el('span.badge.resumed', { title: 'resumed from the journal after a restart' }, 'resumed') : '');
    c.cmd.replaceChildren(el('code', {}, commandLine(job)));
    const f = progressFraction(job.progress);
    if (f === null) c.bar.removeAttribute('value'); else c.bar.value = f;
    const done = job.progress?.done, total = job.progress?.total;
    const label = f === null ? 'starting' : `${formatInt(done)} / ${formatInt(total)} (${Math.floor(f * 100)} %)`;
    c.bar.setAttribute('aria-label', `progress of job ${str(job.id)}: ${label}`);
    c.progText.textContent = label;
    c.started.textContent = formatClock(job.started_at ?? job.submitted_at);
    c.elapsed.textContent = formatSeconds(jobDuration(job, now));
    c.home.textContent = job.home === undefined || job.home === null ? '—' : `#${str(job.home)}`;
    this.#fillActions(row);
  }

  #fillActions(row) {
    const can = this.canCancel();
    if (!can) { row.c.actions.replaceChildren(); row.cancel = null; return; }
    if (row.cancel) return;
    row.cancel = el('button.danger.small', { type: 'button', onclick: () => this.onCancel(row.job, row.cancel) }, 'Cancel');
    row.cancel.setAttribute('aria-label', `Cancel job ${row.id}`);
    row.c.actions.replaceChildren(row.cancel);
  }

  #finishedRow(id) {
    const c = {
      id: el('td.id'), cmd: el('td.cmd'), state: el('td'), exit: el('td.num'), duration: el('td.num'),
      ended: el('td.time'), summary: el('td.summary'), actions: el('td.actions'),
    };
    c.plot = el('button.secondary.small', { type: 'button', onclick: () => this.select(id) }, 'Event plot');
    c.plot.setAttribute('aria-label', `Event plot of job ${id}`);
    c.actions.append(c.plot);
    const tr = el('tr', { 'data-id': id }, c.id, c.cmd, c.state, c.exit, c.duration, c.ended, c.summary, c.actions);
    return { tr, kind: 'finished', c, id };
  }

  #fillFinished(row, job) {
    const { c } = row;
    const state = str(job.state);
    row.tr.dataset.state = state;
    row.tr.classList.toggle('selected', row.id === this.selected);
    c.id.replaceChildren(str(job.id), job.resumed ? el('span.badge.resumed', { title: 'resumed from the journal after a restart' }, 'resumed') : '');
    c.cmd.replaceChildren(el('code', {}, commandLine(job)));
    c.state.replaceChildren(el(`span.badge.${state === 'succeeded' ? 'ok' : state === 'failed' ? 'bad' : 'warn'}`, {}, state));
    c.exit.textContent = typeof job.exit_code === 'number' ? String(job.exit_code) : '—';
    c.duration.textContent = formatSeconds(jobDuration(job));
    c.ended.textContent = formatClock(job.ended_at);
    const summary = str(job.summary), error = str(job.error);
    c.summary.replaceChildren(
      summary ? el('span.summary-text', {}, summary) : '',
      error ? el('span.error-text', {}, error) : '',
      !summary && !error ? el('span.muted', {}, '—') : '');
  }

  #showPlot() {
    for (const row of this.rows.values()) row.tr.classList.toggle('selected', row.kind === 'finished' && row.id === this.selected);
    const id = this.selected;
    const job = id === null ? null : this.rows.get(id)?.job;
    $('plot-empty').hidden = id !== null;
    $('plot-body').hidden = id === null;
    if (id === null || !job) { this.plotFor = null; return; }
    $('plot-job').textContent = `job ${id} · ${commandLine(job)} · ${str(job.state)}`;
    if (this.plotFor === id) return;
    this.plotFor = id;
    this.plotTries = 0;
    const base = `/api/v1/jobs/${seg(id)}/events`;
    const img = $('plot-img');
    img.hidden = true;
    $('plot-missing').hidden = true;
    img.alt = `Event plot of job ${id} (${str(job.app)}): one lane per pipeline thread, kernels as bars over time`;
    img.src = `${base}.svg`;
    $('plot-svg').href = `${base}.svg`;
    $('plot-jsonl').href = `${base}.jsonl`;
  }
}

// "a 'b c' \"d\\\"e\"" → ['a', 'b c', 'd"e']: a shell-like split of the args field (quotes group,
// backslash escapes). Throws on an unterminated quote.
export function splitArgs(text) {
  const out = [];
  let cur = '', inWord = false, quote = null;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quote) {
      if (ch === quote) { quote = null; continue; }
      if (ch === '\\' && quote === '"' && i + 1 < text.length) { cur += text[++i]; continue; }
      cur += ch;
    } else if (/\s/.test(ch)) {
      if (inWord) { out.push(cur); cur = ''; inWord = false; }
    } else if (ch === '"' || ch === "'") {
      quote = ch; inWord = true;
    } else if (ch === '\\' && i + 1 < text.length) {
      cur += text[++i]; inWord = true;
    } else {
      cur += ch; inWord = true;
    }
  }
  if (quote) throw new Error(`unterminated ${quote} quote in the arguments`);
  if (inWord) out.push(cur);
  return out;
}
