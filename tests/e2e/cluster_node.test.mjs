// The monitoring page served by REAL `chiron node` daemons: three nodes on 127.0.1.1–3 (all of
// 127/8 is local on Linux) with --subnet 127.0.1.0/24, one shared key from `chiron node keygen`,
// each with its HTTP API on 127.0.0.1:0. The page of node 1 must draw the three nodes and the
// edges 2→1, 3→1, and a checksum job submitted through the page must finish with an event plot.
// Skipped, with the reason, when the binary has no `node` subcommand yet.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync, rmSync, mkdirSync, chmodSync, chownSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import readline from 'node:readline';
import { launchChromium, saveScreenshot } from '../lib/browser.mjs';
import { CHIRON_BIN, SOURCE_DIR, runChiron, tempDir } from '../lib/chiron.mjs';

const HOSTS = ['127.0.1.1', '127.0.1.2', '127.0.1.3'];
const STEP_MS = 20000;
// The node refuses to run as root: as root it gets --user nobody, which must read the key file
// and own its data directory.
const ROOT = process.getuid?.() === 0;
const NOBODY = 65534;

// `chiron node --help` exits 0 even on a binary without the subcommand (the top-level help is
// printed), so the node's own flag is what tells.
const help = await runChiron(['node', '--help']).catch((e) => ({ code: -1, stdout: '', stderr: String(e) }));
const skip = help.code === 0 && help.stdout.includes('--listen') ? false
  : `\`${CHIRON_BIN} node\` is not available yet (chiron node --help: exit ${help.code}, no --listen flag)`;
if (skip) console.log(`# skipping cluster_node: ${skip}`);

// A port free on the first address (the same port serves every node, by contract).
function freePort(host) {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, host, () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

// Spawns `chiron node …` and resolves once it printed `listening cluster=…` and `listening http=…`.
function startNode(args, timeoutMs = 15000) {
  const proc = spawn(CHIRON_BIN, ['node', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  proc.stderr.on('data', (d) => { stderr += d; });
  const listeners = {};
  const exited = new Promise((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { proc.kill('SIGKILL'); reject(new Error(`chiron node ${args.join(' ')} did not start: ${stderr}`)); }, timeoutMs);
    exited.then(({ code }) => { clearTimeout(timer); reject(new Error(`chiron node exited ${code}: ${stderr}`)); });
    readline.createInterface({ input: proc.stdout }).on('line', (line) => {
      const m = /^listening (\w+)=(\S+)$/.exec(line);
      if (!m) return;
      listeners[m[1]] = m[2];
      if (listeners.cluster && listeners.http) {
        clearTimeout(timer);
        resolve({
          proc, listeners, url: `http://${listeners.http}`, stderr: () => stderr,
          async stop() {
            if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGINT');
            const t = setTimeout(() => proc.kill('SIGKILL'), 15000);
            await exited;
            clearTimeout(t);
          },
        });
      }
    });
  });
}

let dir, nodes = [], browser, page, token = '';
const errors = [];

before(async () => {
  if (skip) return;
  dir = tempDir('chiron-cluster-page-');
  chmodSync(dir, 0o755);
  const key = await runChiron(['node', 'keygen']);
  assert.equal(key.code, 0, key.stderr);
  assert.match(key.stdout.trim(), /^[0-9a-f]{64}$/);
  const keyFile = path.join(dir, 'cluster.key');
  writeFileSync(keyFile, `${key.stdout.trim()}\n`, { mode: 0o600 });
  if (ROOT) chownSync(keyFile, NOBODY, NOBODY);
  const tok = await runChiron(['node', 'token', '--key-file', keyFile]);
  if (tok.code === 0) token = tok.stdout.trim();

  const port = await freePort(HOSTS[0]);
  const web = help.stdout.includes('--web') ? ['--web', path.join(SOURCE_DIR, 'web')] : [];
  for (const [i, host] of HOSTS.entries()) {
    const data = path.join(dir, `node${i + 1}`);
    mkdirSync(data);
    if (ROOT) chownSync(data, NOBODY, NOBODY);
    nodes.push(await startNode(['--listen', `${host}:${port}`, '--subnet', '127.0.1.0/24', '--key-file', keyFile,
                                '--http', '127.0.0.1:0', '--data', data, '--threads', '2', '--log-level', 'warn',
                                ...web, ...(ROOT ? ['--user', 'nobody'] : [])]));
  }
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
  page.setDefaultTimeout(STEP_MS);
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => { if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) errors.push(m.text()); });
});

after(async () => {
  await browser?.close();
  for (const n of nodes) await n.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('the page of node 1 shows the three nodes of the cluster', { skip }, async () => {
  await page.goto(`${nodes[0].url}/`);
  await page.waitForSelector('#conn-status[data-state="live"]');
  await page.waitForFunction(() => document.querySelectorAll('svg.tree g.node[data-position]').length === 3);
  const edges = await page.$$eval('svg.tree path.edge.current', (ps) => ps.map((p) => `${p.dataset.from}>${p.dataset.to}`).sort());
  assert.deepEqual(edges, ['2>1', '3>1']);
  assert.deepEqual(await page.$$eval('svg.tree g.node.self', (gs) => gs.map((g) => g.dataset.position)), ['1']);
  assert.equal(await page.$$eval('#nodes-table tbody tr', (r) => r.length), 3);
  assert.equal(await page.$$eval('#links-table tbody tr', (r) => r.length), 2);
  assert.match(await page.textContent('#node-name'), /^#1 · 127\.0\.1\.1:\d+/);
  // The other nodes link to their own pages, which answer.
  const href = await page.getAttribute('svg.tree g.node[data-position="2"] a', 'href');
  assert.equal(href, `http://${nodes[1].listeners.http}/`);
  await page.waitForFunction(() => Number(document.getElementById('local-chart').dataset.samples) >= 2);
});

test('a job submitted through the page finishes and shows its event plot', { skip }, async (t) => {
  if (!token) { t.skip('`chiron node token --key-file F` printed no token'); return; }
  await page.click('#token-box summary');
  await page.fill('#token-input', token);
  await page.click('#token-form button[type=submit]');
  await page.waitForFunction(() => [...document.querySelectorAll('#submit-app option')].some((o) => o.value === 'checksum'));
  await page.selectOption('#submit-app', 'checksum');
  await page.fill('#submit-args', '');
  await page.click('#submit-button');
  await page.waitForSelector('#message.ok:not([hidden])');
  const id = /Job (\d+) submitted/.exec(await page.textContent('#message'))?.[1];
  assert.ok(id, await page.textContent('#message'));
  await page.waitForSelector(`#finished-jobs tr[data-id="${id}"][data-state="succeeded"]`, { timeout: 60000 });
  assert.equal(await page.textContent(`#finished-jobs tr[data-id="${id}"] td:nth-child(4)`), '0');
  await page.waitForFunction(() => { const i = document.getElementById('plot-img'); return !i.hidden && i.complete && i.naturalWidth > 0; });
  assert.equal(new URL(await page.getAttribute('#plot-img', 'src'), 'http://x').pathname, `/api/v1/jobs/${id}/events.svg`);
  await saveScreenshot(page, 'cluster-node.png', { docs: true, docsDir: 'docs/screenshots', fullPage: true });
  assert.deepEqual(errors, []);
});

test('a node that stops leaves the tree; the page of a stopped node says disconnected', { skip }, async () => {
  await nodes[2].stop();
  await page.waitForFunction(() => document.querySelectorAll('svg.tree g.node[data-position]').length === 2);
  const edges = await page.$$eval('svg.tree path.edge.current', (ps) => ps.map((p) => `${p.dataset.from}>${p.dataset.to}`));
  assert.deepEqual(edges, ['2>1']);
  assert.equal(await page.$$eval('#nodes-table tbody tr', (r) => r.length), 2);
  await nodes[0].stop();
  await page.waitForSelector('#conn-status[data-state="offline"]');
  assert.equal(await page.isVisible('#offline-banner'), true);
  assert.deepEqual(errors, []);
});
