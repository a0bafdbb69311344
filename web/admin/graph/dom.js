// Formatting helpers of the graph page (and the shared element builders, re-exported).
export { el, svg, $ } from '../../js/elements.js';

const isNum = (v) => typeof v === 'number' && Number.isFinite(v);
const intFmt = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
export const formatInt = (v) => (isNum(v) ? intFmt.format(v) : '—');

// Messages per second: 0 → "0", 0.25 → "0.25", 2.5 → "2.5", 1234.5 → "1,235".
export function formatRate(v) {
  if (!isNum(v) || v < 0) return '—';
  if (v === 0) return '0';
  if (v < 1) return v.toFixed(2);
  if (v < 100) return (Math.round(v * 10) / 10).toString();
  return intFmt.format(v);
}

// Microseconds busy → "0 ms", "12 ms", "3.4 s", "2m 5s".
export function formatBusy(us) {
  if (!isNum(us) || us < 0) return '—';
  const s = us / 1e6;
  if (s < 1) return `${Math.round(us / 1000)} ms`;
  if (s < 60) return `${s.toFixed(1)} s`;
  return `${Math.floor(s / 60)}m ${Math.round(s % 60)}s`;
}

// A stable hue per tag name, so a group keeps its colour across polls and pages.
export function tagHue(tag) {
  let h = 2166136261;
  for (let i = 0; i < tag.length; i++) h = Math.imul(h ^ tag.charCodeAt(i), 16777619);
  return (h >>> 0) % 360;
}
