// The local node over the last minutes: kernels in flight against capacity (left axis) and the
// node's load (right axis), one sample per successful poll, drawn with uPlot. Nothing is sampled
// while the node is unreachable: the lines break there instead of lying flat.

export const WINDOW_S = 300;
const HEIGHT = 190;

function cssVar(name, fallback) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || fallback;
}

const pad2 = (n) => String(n).padStart(2, '0');
const clock = (t) => { const d = new Date(t * 1000); return `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`; };

export class LocalSeries {
  constructor() { this.t = []; this.inFlight = []; this.capacity = []; this.load = []; }

  add(tS, { in_flight: f, capacity: c }, load) {
    const n = (v) => (typeof v === 'number' && Number.isFinite(v) ? v : null);
    // A gap after a disconnection: uPlot breaks lines at nulls.
    if (this.t.length && tS - this.t[this.t.length - 1] > 5) this.#push(tS - 0.001, null, null, null);
    this.#push(tS, n(f), n(c), n(load));
    while (this.t.length && this.t[0] < tS - WINDOW_S) {
      this.t.shift(); this.inFlight.shift(); this.capacity.shift(); this.load.shift();
    }
  }

  #push(t, f, c, l) { this.t.push(t); this.inFlight.push(f); this.capacity.push(c); this.load.push(l); }

  data() { return [this.t, this.inFlight, this.capacity, this.load]; }
}

export class LocalChart {
  constructor(el, uPlot) {
    this.el = el;
    const muted = cssVar('--muted', '#8b949e'), border = cssVar('--border', '#30363d');
    const axis = { stroke: muted, grid: { stroke: border, width: 1 }, ticks: { stroke: border, width: 1 }, font: '11px system-ui, sans-serif' };
    this.plot = new uPlot({
      width: this.#width(), height: HEIGHT,
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true }, n: { range: (u, lo, hi) => [0, Math.max(1, hi)] }, l: { range: (u, lo, hi) => [0, Math.max(1, hi)] } },
      axes: [
        { ...axis, space: 70, values: (u, splits) => splits.map(clock) },
        { ...axis, scale: 'n', label: 'kernels', labelSize: 18 },
        { ...axis, scale: 'l', side: 1, label: 'load', labelSize: 18, grid: { show: false } },
      ],
      series: [
        { label: 'time', value: (u, v) => (v == null ? '—' : clock(v)) },
        { label: 'in flight', scale: 'n', stroke: cssVar('--accent', '#1f6feb'), width: 2, fill: 'rgba(31,111,235,.12)' },
        { label: 'capacity', scale: 'n', stroke: muted, width: 1, dash: [6, 4] },
        { label: 'load', scale: 'l', stroke: cssVar('--warn', '#d29922'), width: 2, value: (u, v) => (v == null ? '—' : v.toFixed(2)) },
      ],
    }, [[], [], [], []], el);
    new ResizeObserver(() => this.plot.setSize({ width: this.#width(), height: HEIGHT })).observe(el);
  }

  #width() { return Math.max(220, this.el.clientWidth || 400); }

  setData(series) {
    this.plot.setData(series.data());
    this.el.dataset.samples = String(series.t.length);
  }
}
