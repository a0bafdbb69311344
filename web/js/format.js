// Formatting helpers shared by the pages (plain ES module).

// 93784 → "1d 2h 3m"; 3725 → "1h 2m 5s"; 42 → "42s".
export function formatUptime(seconds) {
  const s = Math.floor(seconds);
  const d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60);
  if (d > 0) return `${d}d ${h}h ${m}m`;
  if (h > 0) return `${h}h ${m}m ${s % 60}s`;
  if (m > 0) return `${m}m ${s % 60}s`;
  return `${s % 60}s`;
}
