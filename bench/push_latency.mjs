// Save-to-visible latency of the live code storage: a file saved on disk, picked up by the real
// `chiron push` (inotify + debounce + upload), committed by `chiron serve`, announced on the live
// WebSocket, and shown by the channel page in a real browser (Debian's Chromium) that has the
// file open. Each save writes a unique marker; a MutationObserver in the page reports the moment
// the marker is in the code view (browser and driver share the machine's clock).
// Also measured on the same saves: save → `file` event at a plain WebSocket client (no browser).
//
//   node bench/push_latency.mjs [--saves 1000] [--gap-ms 30] [--debounce-ms 50] [--chiron BIN]
// Prints p50/p90/p99/max for both and the goal check (p99 < 250 ms in the browser).
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, renameSync } from 'node:fs';
import { tmpdir, cpus, loadavg } from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { chromium } = require('playwright-core');
const WebSocket = require('ws');

const args = Object.fromEntries(process.argv.slice(2).reduce((acc, a, i, all) => {
  if (a.startsWith('--')) acc.push([a.slice(2), all[i + 1]]);
  return acc;
}, []));
const SAVES = Number(args.saves ?? 1000);
const GAP_MS = Number(args['gap-ms'] ?? 30);
const DEBOUNCE_MS = Number(args['debounce-ms'] ?? 50);
const BIN = path.resolve(args.chiron ?? 'build/apps/chiron');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const tmp = mkdtempSync(path.join(tmpdir(), 'chiron-push-latency-'));
const procs = [];
let browser;
process.on('exit', () => { for (const p of procs) p.kill('SIGKILL'); rmSync(tmp, { recursive: true, force: true }); });

function start(cmd, argv, ready) {
  const p = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  procs.push(p);
  let err = '';
  p.stderr.on('data', (d) => { err += d; });
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${cmd} did not start: ${err}`)), 15000);
    readline.createInterface({ input: p.stdout }).on('line', (line) => {
      const m = ready.exec(line);
      if (m) { clearTimeout(t); resolve({ p, m }); }
    });
    p.on('exit', (code) => reject(new Error(`${cmd} exited ${code}: ${err}`)));
  });
}

function stats(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const q = (f) => s[Math.min(s.length - 1, Math.floor(f * s.length))];
  return { n: s.length, p50: q(0.5), p90: q(0.9), p99: q(0.99), max: s[s.length - 1] };
}
const fmt = (st) => `n=${st.n} p50=${st.p50.toFixed(1)}ms p90=${st.p90.toFixed(1)}ms p99=${st.p99.toFixed(1)}ms max=${st.max.toFixed(1)}ms`;

const { m } = await start(BIN, ['serve', '--http', '127.0.0.1:0', '--rtmp', '127.0.0.1:0', '--data', path.join(tmp, 'data'),
  '--ns', 'off', '--log-level', 'warn'], /^listening http=(\S+)$/);
const base = `http://${m[1]}`;
const out = execFileSync(BIN, ['user', 'add', 'bench', '--password', 'bench-password', '--data', path.join(tmp, 'data')]).toString();
const token = /push_token=(\S+)/.exec(out)[1];
const project = path.join(tmp, 'project');
execFileSync('mkdir', ['-p', project]);
const file = path.join(project, 'live.txt');
const save = (n) => {  // an editor's atomic save: write a temp file, rename over the original
  writeFileSync(`${file}.tmp~`, `SAVE-${n}-END\nline two\n`);
  renameSync(`${file}.tmp~`, file);
};
save(0);
const pusher = spawn(BIN, ['push', project, '--server', base, '--token', token, '--debounce-ms', String(DEBOUNCE_MS), '--quiet'],
  { stdio: ['ignore', 'ignore', 'inherit'] });
procs.push(pusher);

// Plain WebSocket viewer: the time each version's event arrives.
const eventAt = new Map();
const ws = new WebSocket(`${base.replace('http:', 'ws:')}/api/v1/live?channel=bench`);
ws.on('message', (d) => {
  const ev = JSON.parse(d.toString());
  if (ev.type === 'file' && ev.path === 'live.txt') eventAt.set(ev.version, Date.now());
});
await new Promise((r, j) => { ws.once('open', r); ws.once('error', j); });

// Browser viewer with the file open.
browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', args: ['--no-sandbox'] });
const page = await browser.newPage();
const seenAt = new Map();
await page.exposeFunction('__chironSeen', (n, t) => { if (!seenAt.has(n)) seenAt.set(n, t); });
for (let i = 0; i < 100 && !eventAt.size; i++) await sleep(50);
await page.goto(`${base}/c/bench#file=live.txt`);
await page.waitForFunction(() => document.querySelector('#viewer-body')?.textContent.includes('SAVE-0-END'), null, { timeout: 15000 });
await page.evaluate(() => {
  const body = document.querySelector('#viewer-body');
  let last = -1;
  new MutationObserver(() => {
    const m = /SAVE-(\d+)-END/.exec(body.textContent);
    if (m && Number(m[1]) !== last) { last = Number(m[1]); window.__chironSeen(last, Date.now()); }
  }).observe(body, { childList: true, subtree: true, characterData: true });
});

const savedAt = new Map();
const versionOf = new Map();  // save n → the version the server gave it (events carry versions)
let version = 1;
for (let n = 1; n <= SAVES; n++) {
  savedAt.set(n, Date.now());
  save(n);
  version++;
  versionOf.set(n, version);
  const deadline = Date.now() + 3000;
  while (!seenAt.has(n) && Date.now() < deadline) await sleep(2);
  await sleep(GAP_MS);  // the next save comes after the previous one's debounce window
}
await sleep(500);
const browserLat = [], eventLat = [];
let missing = 0;
for (const [n, t0] of savedAt) {
  if (seenAt.has(n)) browserLat.push(seenAt.get(n) - t0); else missing++;
  if (eventAt.has(versionOf.get(n))) eventLat.push(eventAt.get(versionOf.get(n)) - t0);
}
console.log(`# push_latency: ${SAVES} saves, gap ${GAP_MS} ms, push debounce ${DEBOUNCE_MS} ms; ${cpus().length} cpus, load ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
console.log(`save -> live event (WebSocket): ${fmt(stats(eventLat))}`);
console.log(`save -> visible in browser:     ${fmt(stats(browserLat))}  missing=${missing}`);
const p99 = stats(browserLat).p99;
console.log(`goal p99 < 250 ms: ${p99 < 250 ? 'met' : 'NOT met'} (${p99.toFixed(1)} ms)`);
ws.close();
await browser.close();
process.exit(0);
