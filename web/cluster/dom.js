// Formatting helpers of the cluster page (and the shared element builders, re-exported).
export { el, svg, $ } from '../js/elements.js';

const num = (v) => (typeof v === 'number' && Number.isFinite(v) ? v : null);

// 1234567 → "1,234,567"; anything that is not a finite number → "—".
const intFmt = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
export function formatInt(v) { return num(v) === null ? '—' : intFmt.format(v); }

export function formatLoad(v) { return num(v) === null ? '—' : v.toFixed(2); }

export function formatBytes(n) {
  if (num(n) === null) return '—';
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024, i = 0;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

// 3725.4 → "1h 2m 5s", 42.25 → "42.3 s", 0.0123 → "12 ms".
export function formatSeconds(s) {
  if (num(s) === null || s < 0) return '—';
  if (s < 1) return `${Math.round(s * 1000)} ms`;
  if (s < 60) return `${s.toFixed(1)} s`;
  const t = Math.round(s), h = Math.floor(t / 3600), m = Math.floor((t % 3600) / 60);
  return h ? `${h}h ${m}m ${t % 60}s` : `${m}m ${t % 60}s`;
}

// Milliseconds since the epoch of an RFC 3339 string, or null.
export function parseTime(iso) {
  if (typeof iso !== 'string' || !iso) return null;
  const t = Date.parse(iso);
  return Number.isFinite(t) ? t : null;
}

const timeFmt = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });
export function formatClock(iso) {
  const t = parseTime(iso);
  return t === null ? '—' : timeFmt.format(new Date(t));
}

// A node's monitoring page from its record's `http` ("host:port", "[v6]:port" or a URL), or
// null when unset or not plain http(s) — the value comes from another node, never trusted.
export function nodeUrl(http) {
  if (typeof http !== 'string' || !http || /\s/.test(http)) return null;
  try {
    const u = new URL(/^https?:\/\//i.test(http) ? http : `http://${http}/`);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') return null;
    if (u.port === '0') return null;  // an unresolved "--http …:0"
    return `${u.protocol}//${u.host}/`;
  } catch {
    return null;
  }
}

// The ideal superior of position p ≥ 2 with fanout f (issue 7; src/cluster/tree.h).
export function idealSuperior(p, f) {
  if (!(p >= 2) || !(f >= 1)) return null;
  return Math.floor((p - 2) / f) + 1;
}

// Record.superior: a position, or 0/null for a root. Positions are compared as strings (keys).
export function superiorOf(record) {
  const s = record?.superior;
  if (typeof s === 'number' && s > 0) return String(s);
  if (typeof s === 'string' && /^[1-9][0-9]*$/.test(s)) return s;
  return null;
}
