// Charts of the selected service, drawn with uPlot (global `uPlot` from /vendor/uplot/):
//   1. REQ/s per server, from the 1 s stats frames (picks in the interval / interval length);
//   2. a health timeline, one lane per server, from delta upserts and the stats frames;
//   3. the share of picks per server, 100 %-stacked per stats interval.
// History keeps every service's recent frames, so switching services shows the past too.

export const WINDOW_S = 180;
const SHARE_WINDOW_S = 60;
const HEIGHT = 200;

const PALETTE = ['#1f6feb', '#2ea043', '#d29922', '#a371f7', '#f778ba', '#3fb9c5', '#e16f24', '#8b949e', '#79c0ff', '#db6d28'];
export function colorFor(index) { return PALETTE[index % PALETTE.length]; }

export class History {
  constructor() {
    this.frames = [];          // {t (s, server clock), dt (s), services} from stats frames
    this.health = new Map();   // "svc\u0000id" → [{t, h}] health transitions
    this.clockOffsetMs = 0;    // server ts − local Date.now(), to place deltas on the stats clock
  }

  nowS() { return (Date.now() + this.clockOffsetMs) / 1000; }

  addStats(frame) {
    this.clockOffsetMs = frame.ts - Date.now();
    const t = frame.ts / 1000;
    this.frames.push({ t, dt: (frame.interval_ms || 1000) / 1000, services: frame.services ?? {} });
    while (this.frames.length && this.frames[0].t < t - WINDOW_S) this.frames.shift();
    for (const [svc, s] of Object.entries(frame.services ?? {})) {
      for (const [id, v] of Object.entries(s.servers ?? {})) if (v.health) this.noteHealth(svc, id, v.health, t);
    }
  }

  noteHealth(svc, id, h, t = this.nowS()) {
    const key = `${svc}\u0000${id}`;
    let list = this.health.get(key);
    if (!list) this.health.set(key, (list = []));
    const last = list[list.length - 1];
    if (last && last.h === h) return;
    if (last && t < last.t) t = last.t;  // a delta stamped just before the stats frame it follows
    list.push({ t, h });
    // Keep one transition older than the window: it says what the window starts in.
    while (list.length > 1 && list[1].t < t - WINDOW_S) list.shift();
  }

  transitions(svc, id) { return this.health.get(`${svc}\u0000${id}`) ?? []; }

  forget(svc, id) {
    if (id !== undefined) { this.health.delete(`${svc}\u0000${id}`); return; }
    for (const key of [...this.health.keys()]) if (key.startsWith(`${svc}\u0000`)) this.health.delete(key);
  }
}

function cssVar(name, fallback) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || fallback;
}

// Whole seconds at least: stats frames are 1 s apart, and sub-second ticks only add noise.
const TIME_INCRS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600];

const pad2 = (n) => String(n).padStart(2, '0');
function clock(t) { const d = new Date(t * 1000); return `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`; }
// One line of local wall-clock time per tick (uPlot's default adds a second line with the date).
const timeAxis = (theme) => ({ ...theme, incrs: TIME_INCRS, space: 70, values: (u, splits) => splits.map(clock) });

function axisTheme() {
  const muted = cssVar('--muted', '#8b949e'), border = cssVar('--border', '#30363d');
  return { stroke: muted, grid: { stroke: border, width: 1 }, ticks: { stroke: border, width: 1 }, font: '11px system-ui, sans-serif' };
}

export class ServiceCharts {
  // els: {rps, health, share, shareBar} elements; ids: the service's server ids in display order.
  constructor(els, service, ids, history) {
    this.els = els; this.service = service; this.ids = ids; this.history = history;
    this.plots = [];
    this.#build();
    this.resizer = new ResizeObserver(() => this.#resize());
    for (const el of [els.rps, els.health, els.share]) this.resizer.observe(el);
  }

  destroy() {
    this.resizer.disconnect();
    for (const p of this.plots) p.destroy();
    this.plots = [];
    for (const el of [this.els.rps, this.els.health, this.els.share]) { el.replaceChildren(); el.dataset.samples = '0'; }
  }

  sameServers(ids) { return ids.length === this.ids.length && ids.every((id, i) => id === this.ids[i]); }

  // Redraws from the history; cheap enough to run on every stats frame and delta.
  update() {
    const rps = this.#rpsData();
    this.rps.setData(rps.data);
    this.els.rps.dataset.samples = String(rps.samples);

    // The timeline spans what is known (at least a minute), up to WINDOW_S.
    const now = this.history.nowS();
    let first = this.history.frames[0]?.t ?? now;
    for (const id of this.ids) first = Math.min(first, this.history.transitions(this.service, id)[0]?.t ?? now);
    const t0 = Math.min(now - 60, Math.max(now - WINDOW_S, first));
    this.healthRange = [t0, now];
    this.health.setData([[t0, now], [null, null]]);
    this.els.health.dataset.samples = String(this.ids.reduce((n, id) => n + this.history.transitions(this.service, id).length, 0));

    const share = this.#shareData();
    this.share.setData(share.data);
    this.els.share.dataset.samples = String(share.samples);
  }

  #width(el) { return Math.max(200, el.clientWidth || 400); }

  #resize() {
    const [a, b, c] = [this.els.rps, this.els.health, this.els.share];
    this.rps.setSize({ width: this.#width(a), height: HEIGHT });
    this.health.setSize({ width: this.#width(b), height: this.#healthHeight() });
    this.share.setSize({ width: this.#width(c), height: HEIGHT });
  }

  #healthHeight() { return Math.max(HEIGHT, 50 + 32 * this.ids.length); }

  #build() {
    const theme = axisTheme();
    const ids = this.ids;

    this.rps = new uPlot({
      width: this.#width(this.els.rps), height: HEIGHT,
      scales: { x: { time: true }, y: { range: (u, min, max) => [0, Math.max(1, max ?? 1) * 1.1] } },
      axes: [timeAxis(theme), { ...theme, size: 44 }],
      series: [{ value: (u, t) => (t == null ? '—' : clock(t)) }, ...ids.map((id, i) => ({ label: id, stroke: colorFor(i), width: 2, spanGaps: false,
                                            value: (u, v) => (v == null ? '—' : `${+v.toFixed(1)}/s`) })),
               { label: 'errors', stroke: cssVar('--bad', '#da3633'), width: 1, dash: [4, 4],
                 value: (u, v) => (v == null ? '—' : `${+v.toFixed(1)}/s`) }],
      legend: { live: true },
    }, [[], ...ids.map(() => []), []], this.els.rps);

    // uPlot draws the axes; the draw hook paints one band per health interval and lane.
    this.healthRange = [0, 1];
    const lanes = ids.length;
    const colors = { up: cssVar('--ok', '#2ea043'), down: cssVar('--bad', '#da3633'), pending: cssVar('--warn', '#d29922') };
    this.health = new uPlot({
      width: this.#width(this.els.health), height: this.#healthHeight(),
      scales: { x: { time: true, range: () => this.healthRange }, y: { range: [0, Math.max(1, lanes)] } },
      axes: [timeAxis(theme),
             { ...theme, size: 110, grid: { show: false }, ticks: { show: false },
               splits: () => ids.map((_, i) => lanes - i - 0.5),
               values: (u, splits) => splits.map((v) => ids[Math.round(lanes - v - 0.5)] ?? '') }],
      series: [{}, { label: 'health', show: true, paths: () => null, points: { show: false } }],
      legend: { show: false },
      cursor: { show: false },
      hooks: { draw: [(u) => this.#drawLanes(u, colors)] },
    }, [[0, 1], [null, null]], this.els.health);

    this.share = new uPlot({
      width: this.#width(this.els.share), height: HEIGHT,
      scales: { x: { time: true }, y: { range: [0, 100] } },
      axes: [timeAxis(theme), { ...theme, size: 44, values: (u, v) => v.map((x) => `${x}%`) }],
      // Series are cumulative shares drawn from the largest down, so each bar covers the rest
      // of the stack below it; the legend therefore lists servers last-to-first.
      series: [{}, ...ids.map((id, i) => ({
        label: ids[ids.length - 1 - i], fill: colorFor(ids.length - 1 - i), stroke: colorFor(ids.length - 1 - i),
        paths: uPlot.paths.bars({ size: [0.85, 24] }), points: { show: false },
      }))],
      legend: { live: false },
      cursor: { show: false },
    }, [[], ...ids.map(() => [])], this.els.share);

    this.plots = [this.rps, this.health, this.share];
  }

  #drawLanes(u, colors) {
    const ctx = u.ctx;
    const [t0, t1] = this.healthRange;
    const lanes = this.ids.length;
    ctx.save();
    ctx.beginPath();
    ctx.rect(u.bbox.left, u.bbox.top, u.bbox.width, u.bbox.height);
    ctx.clip();
    this.ids.forEach((id, i) => {
      const yTop = u.valToPos(lanes - i, 'y', true), yBot = u.valToPos(lanes - i - 1, 'y', true);
      const pad = Math.min(4, (yBot - yTop) * 0.15);
      const list = this.history.transitions(this.service, id);
      for (let k = 0; k < list.length; k++) {
        const from = Math.max(t0, list[k].t), to = Math.min(t1, list[k + 1]?.t ?? t1);
        if (to <= from) continue;
        const x0 = u.valToPos(from, 'x', true), x1 = u.valToPos(to, 'x', true);
        ctx.fillStyle = colors[list[k].h] ?? colors.pending;
        ctx.fillRect(x0, yTop + pad, Math.max(1, x1 - x0), yBot - yTop - 2 * pad);
      }
    });
    ctx.restore();
  }

  #rpsData() {
    const frames = this.history.frames;
    const xs = frames.map((f) => f.t);
    let samples = 0;
    const series = this.ids.map((id) => frames.map((f) => {
      const v = f.services[this.service]?.servers?.[id];
      if (!v) return null;
      if (v.picks) samples++;  // data-samples counts points with traffic (tests read it)
      return (v.picks ?? 0) / f.dt;
    }));
    const errors = frames.map((f) => { const s = f.services[this.service]; return s ? (s.errors ?? 0) / f.dt : null; });
    return { data: [xs, ...series, errors], samples };
  }

  #shareData() {
    const cutoff = (this.history.frames.at(-1)?.t ?? 0) - SHARE_WINDOW_S;
    const frames = this.history.frames.filter((f) => f.t >= cutoff);
    const xs = frames.map((f) => f.t);
    const n = this.ids.length;
    const cum = Array.from({ length: n }, () => []);  // cum[k]: share of servers 0..k
    let samples = 0;
    for (const f of frames) {
      const servers = f.services[this.service]?.servers ?? {};
      const picks = this.ids.map((id) => servers[id]?.picks ?? 0);
      const total = picks.reduce((a, b) => a + b, 0);
      let acc = 0;
      for (let k = 0; k < n; k++) {
        acc += picks[k];
        cum[k].push(total ? (acc / total) * 100 : null);
      }
      if (total) samples++;
    }
    return { data: [xs, ...cum.reverse()], samples };
  }
}

// The cumulative share bar (a pie as one bar) from the servers' lifetime pick counters.
export function renderShareBar(el, servers, ids) {
  const total = servers.reduce((a, v) => a + (v.picks ?? 0), 0);
  el.replaceChildren();
  el.setAttribute('aria-label', total ? `Share of ${total} picks: ` +
    servers.map((v) => `${v.id} ${((100 * (v.picks ?? 0)) / total).toFixed(1)}%`).join(', ') : 'No picks yet');
  if (!total) return;
  for (const v of servers) {
    if (!v.picks) continue;
    const pct = (100 * v.picks) / total;
    const span = document.createElement('span');
    span.style.width = `${pct}%`;
    span.style.background = colorFor(ids.indexOf(v.id));
    span.title = `${v.id}: ${v.picks} picks (${pct.toFixed(1)}%)`;
    span.textContent = pct >= 12 ? `${pct.toFixed(0)}%` : '';
    el.append(span);
  }
}
