// Start page: shows this server's health and keeps the uptime ticking.
// Plain ES module, no bundler; talks only to the server's JSON API.

import { formatUptime } from './format.js';

const $ = (id) => document.getElementById(id);


let uptimeBase = null;  // {uptime_s, at: performance.now()}

function setStatus(ok, text) {
  const pill = $('server-status');
  pill.textContent = text;
  pill.className = `pill ${ok ? 'pill-ok' : 'pill-bad'}`;
  $('health-status').textContent = text;
}

async function refreshHealth() {
  try {
    const res = await fetch('/api/v1/health', { cache: 'no-store' });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    const health = await res.json();
    setStatus(health.status === 'ok', health.status === 'ok' ? 'online' : health.status);
    $('health-version').textContent = health.version;
    uptimeBase = { uptime_s: health.uptime_s, at: performance.now() };
    tick();
  } catch (err) {
    setStatus(false, 'unreachable');
    console.warn('health check failed', err);
  }
}

function tick() {
  if (!uptimeBase) return;
  const now = uptimeBase.uptime_s + (performance.now() - uptimeBase.at) / 1000;
  $('health-uptime').textContent = formatUptime(now);
}

document.querySelectorAll('.host').forEach((el) => { el.textContent = location.hostname; });
refreshHealth();
setInterval(tick, 1000);
setInterval(refreshHealth, 15000);
