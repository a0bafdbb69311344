// The node monitoring page (web/cluster/) in a real browser against a small fake node: a
// node:http server that serves web/cluster/ at / and /cluster/, web/js/ at /js/, uPlot at /vendor/uplot/, and
// canned JSON that follows the team brief's "Node contract" exactly — an 11-node tree with
// fanout 2 seen from node #2 where #9 has re-attached to #5 (its ideal superior is #4), one
// running and one finished job. Steps share one page and run in order.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { launchChromium, saveScreenshot } from '../lib/browser.mjs';
import { SOURCE_DIR } from '../lib/chiron.mjs';

const TOKEN = 'fake-cluster-token';
const HOSTILE = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script> & "quoted" </td>';
const HOSTILE_HOST = '<svg onload="window.__pwned=3">';
const STEP_MS = 10000;

// ---- the fake node ------------------------------------------------------------------------------

const fake = {
  fanout: 2,
  superiors: { 1: null, 2: 1, 3: 1, 4: 2, 5: 2, 6: 3, 7: 3, 8: 4, 9: 5, 10: 5, 11: 5 },
  requests: [],      // {method, url, auth, body} of every mutating request
  jobs: [],
  nextId: 43,
  plotMisses: { 40: 1 },  // events.svg answers 404 this many times first (a plot lagging its job)
};

const T0 = Date.parse('2026-11-22T09:00:00Z');
const iso = (ms) => new Date(ms).toISOString();

function record(p) {
  return {
    position: p, uid: 1000 + p, endpoint: `10.77.0.${p}:7070`,
    http: p === 6 ? '' : `127.0.0.1:${7080 + p}`,
    hostname: p === 7 ? HOSTILE_HOST : `node-${p}`,
    superior: fake.superiors[p] ?? 0, threads: p === 1 ? 16 : 8, memory_bytes: 16 * 2 ** 30,
    load: [0.1, 0.85, 0.3, 1.6, 0.5, 0, 2.4, 0.2, 1.0, 0.05, 0.7, 0.4][p - 1] ?? 0.5,
    jobs: p === 2 ? 1 : 0, version: 3,
  };
}

function clusterJson() {
  const positions = Object.keys(fake.superiors).map(Number);
  const self = record(2);
  return {
    self, superior: 1, ideal_superior: 1, subordinates: [4, 5], fanout: fake.fanout, subnet: '10.77.0.0/24',
    nodes: [self, ...positions.filter((p) => p !== 2).sort((a, b) => a - b).map(record)],
    links: [
      { peer: 1, role: 'superior', weight: 48, in_flight: 12, capacity: 64, sent: 1520, rtt_ms: 0.42 },
      { peer: 4, role: 'subordinate', weight: 16, in_flight: 16, capacity: 32, sent: 800, rtt_ms: 0.31 },
      { peer: 5, role: 'subordinate', weight: 32, in_flight: 3, capacity: 64, sent: 977, rtt_ms: 12.5 },
    ],
    local: { threads: 8, in_flight: 5 + (Date.now() / 1000 % 4 | 0), capacity: 16 },
    pending: { 42: 7 },
    counters: { kernels_sent: 3297, kernels_received: 5120, kernels_recovered: 12, frames_refused: 2, superior_changes: 1 },
  };
}

function resetJobs() {
  fake.jobs = [
    { id: '42', app: 'checksum', args: ['--parts', '8'], state: 'running', submitted_at: iso(T0), started_at: iso(T0 + 100),
      ended_at: null, exit_code: null, summary: '', progress: { done: 3, total: 8 }, home: 2, resumed: false, error: null },
    { id: '41', app: 'ar', args: ['--size', '200x32x32'], state: 'succeeded', submitted_at: iso(T0 - 60000),
      started_at: iso(T0 - 60000), ended_at: iso(T0 - 57500), exit_code: 0, summary: HOSTILE,
      progress: { done: 24, total: 24 }, home: 2, resumed: true, error: null },
    { id: '40', app: 'checksum', args: ['--parts', '2', '--fail'], state: 'failed', submitted_at: iso(T0 - 120000),
      started_at: iso(T0 - 120000), ended_at: iso(T0 - 119000), exit_code: 3, summary: '',
      progress: { done: 1, total: 2 }, home: 2, resumed: false, error: 'part 2: injected failure' },
  ];
}

const APPS = [
  { name: 'checksum', usage: 'checksum [--parts N]', about: 'CRC32C of N generated parts (a test job)' },
  { name: 'ar', usage: 'ar --size TxXxY [--parts N]', about: 'AR ocean wave surface' },
  { name: 'ndbc', usage: 'ndbc --input DIR', about: 'NDBC directional spectra' },
];

const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml' };

function send(res, status, body, type = 'application/json') {
  const data = typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
  res.end(data);
}
const apiError = (res, status, code, message) => send(res, status, { error: { code, message } });

async function serveFile(res, root, rel) {
  const file = path.resolve(root, `.${path.posix.normalize(`/${rel}`)}`);
  if (!file.startsWith(root + path.sep)) return apiError(res, 404, 'not_found', 'no such file');
  try {
    send(res, 200, await readFile(file), TYPES[path.extname(file)] ?? 'application/octet-stream');
  } catch {
    apiError(res, 404, 'not_found', 'no such file');
  }
}

async function readBody(req) {
  let s = '';
  for await (const c of req) s += c;
  return s;
}

async function handle(req, res) {
  const url = new URL(req.url, 'http://fake');
  const p = url.pathname;
  const web = path.join(SOURCE_DIR, 'web', 'cluster');
  if (req.method === 'GET' && p === '/') return serveFile(res, web, 'index.html');
  if (req.method === 'GET' && p.startsWith('/cluster/')) return serveFile(res, web, p.slice('/cluster/'.length));
  if (req.method === 'GET' && p.startsWith('/js/')) return serveFile(res, path.join(SOURCE_DIR, 'web', 'js'), p.slice('/js/'.length));
  if (req.method === 'GET' && p.startsWith('/vendor/uplot/')) {
    return serveFile(res, path.join(SOURCE_DIR, 'node_modules', 'uplot', 'dist'), p.slice('/vendor/uplot/'.length));
  }
  if (req.method === 'GET' && p === '/api/v1/cluster') return send(res, 200, clusterJson());
  if (req.method === 'GET' && p === '/api/v1/apps') return send(res, 200, { apps: APPS });
  if (p === '/api/v1/jobs' && req.method === 'GET') return send(res, 200, { jobs: fake.jobs });
  const auth = req.headers.authorization ?? null;
  if (p === '/api/v1/jobs' && req.method === 'POST') {
    const body = await readBody(req);
    fake.requests.push({ method: 'POST', url: p, auth, body: JSON.parse(body) });
    if (auth !== `Bearer ${TOKEN}`) return apiError(res, 401, 'unauthorized', 'missing or bad token');
    const { app, args } = JSON.parse(body);
    if (!APPS.some((a) => a.name === app)) return apiError(res, 400, 'bad_app', `unknown app ${app}`);
    const job = { id: String(fake.nextId++), app, args, state: 'running', submitted_at: iso(Date.now()), started_at: iso(Date.now()),
                  ended_at: null, exit_code: null, summary: '', progress: { done: 0, total: 0 }, home: 2, resumed: false, error: null };
    fake.jobs.unshift(job);
    return send(res, 201, job);
  }
  const m = /^\/api\/v1\/jobs\/([^/]+)(\/events\.(svg|jsonl))?$/.exec(p);
  const job = m && fake.jobs.find((j) => j.id === decodeURIComponent(m[1]));
  if (m && req.method === 'DELETE') {
    fake.requests.push({ method: 'DELETE', url: p, auth, body: null });
    if (auth !== `Bearer ${TOKEN}`) return apiError(res, 401, 'unauthorized', 'missing or bad token');
    if (!job) return apiError(res, 404, 'not_found', 'no such job');
    Object.assign(job, { state: 'cancelled', ended_at: iso(Date.now()), exit_code: 130, summary: 'cancelled by the user' });
    return send(res, 200, job);
  }
  if (m && req.method === 'GET' && job) {
    if (!m[2]) return send(res, 200, job);
    if (job.state === 'running') return apiError(res, 404, 'not_found', 'no event log yet');
    if (fake.plotMisses[job.id] > 0) { fake.plotMisses[job.id]--; return apiError(res, 404, 'not_found', 'no event log yet'); }
    if (m[3] === 'svg') return serveFile(res, path.join(SOURCE_DIR, 'docs', 'images'), 'overlap-trace.svg');
    return send(res, 200, '{"kernel":1,"event":"start","t_us":0}\n{"kernel":1,"event":"end","t_us":120}\n', 'application/x-ndjson');
  }
  return apiError(res, 404, 'not_found', `no route ${req.method} ${p}`);
}

let server, port;
function startFake(onPort = 0) {
  server = http.createServer((req, res) => { handle(req, res).catch((e) => apiError(res, 500, 'internal', String(e))); });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(onPort, '127.0.0.1', () => { port = server.address().port; resolve(); });
  });
}
function stopFake() {
  return new Promise((resolve) => { server.close(() => resolve()); server.closeAllConnections(); });
}

// ---- the page -----------------------------------------------------------------------------------

let browser, page;
const errors = [];

before(async () => {
  resetJobs();
  await startFake();
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
  page.setDefaultTimeout(STEP_MS);
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('dialog', (d) => { errors.push(`dialog: ${d.message()}`); d.dismiss(); });
  page.on('console', (m) => {
    // The 401s the test provokes and the refused connections of the disconnected step.
    if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) errors.push(m.text());
  });
});

after(async () => {
  await browser?.close();
  if (server?.listening) await stopFake();
});

const nodeCount = () => page.$$eval('svg.tree g.node[data-position]', (gs) => gs.length);
const edges = (kind) => page.$$eval(`svg.tree path.edge.${kind}`, (ps) => ps.map((p) => `${p.dataset.from}>${p.dataset.to}`).sort());
const sorted = (a) => [...a].sort();

test('the page goes live and draws the 11-node tree with its edges', async () => {
  await page.goto(`http://127.0.0.1:${port}/`);
  await page.waitForSelector('#conn-status[data-state="live"]');
  await page.waitForFunction(() => document.querySelectorAll('svg.tree g.node[data-position]').length === 11);
  assert.equal(await nodeCount(), 11);
  assert.deepEqual(await edges('current'),
                   sorted(['2>1', '3>1', '4>2', '5>2', '6>3', '7>3', '8>4', '9>5', '10>5', '11>5']));
  // #9 hangs under #5 but its ideal superior is #4: a dashed edge and a marked box.
  assert.deepEqual(await edges('ideal'), ['9>4']);
  assert.deepEqual(await page.$$eval('svg.tree g.node.reattached', (gs) => gs.map((g) => g.dataset.position)), ['9']);
  assert.match(await page.textContent('svg.tree g.node[data-position="9"] text.badge'), /ideal #4/);
  // This node (#2) is highlighted and not a link; others link to their Record.http.
  assert.deepEqual(await page.$$eval('svg.tree g.node.self', (gs) => gs.map((g) => g.dataset.position)), ['2']);
  assert.equal(await page.getAttribute('svg.tree g.node[data-position="2"] a', 'href'), null);
  assert.equal(await page.getAttribute('svg.tree g.node[data-position="3"] a', 'href'), 'http://127.0.0.1:7083/');
  assert.equal(await page.getAttribute('svg.tree g.node[data-position="6"] a', 'href'), null, 'empty http: no link');
  // Boxes sit under their superiors: each layer lower than the one above.
  const y = await page.$$eval('svg.tree g.node[data-position]', (gs) => Object.fromEntries(gs.map((g) => [g.dataset.position, g.getCTM().f])));
  assert.ok(y[1] < y[2] && y[2] < y[4] && y[4] < y[8] && Math.abs(y[2] - y[3]) < 1 && Math.abs(y[9] - y[10]) < 1, JSON.stringify(y));
  // Load colours the box: #7 (2.4) is red, #6 (0) green.
  const rgb = (p) => page.$eval(`svg.tree g.node[data-position="${p}"] rect.box`, (r) => r.style.fill.match(/\d+/g).slice(0, 3).map(Number));
  const [r7, g7] = await rgb(7), [r6, g6] = await rgb(6);
  assert.ok(r7 > 2 * g7, `#7 (load 2.4) is red: ${[r7, g7]}`);
  assert.ok(g6 > 2 * r6, `#6 (load 0) is green: ${[r6, g6]}`);
  assert.match(await page.textContent('#node-name'), /#2 · 10\.77\.0\.2:7070/);
});

test('node, link and counter tables show the contract fields', async () => {
  assert.equal(await page.$$eval('#nodes-table tbody tr', (r) => r.length), 11);
  assert.equal(await page.getAttribute('#nodes-table tbody tr:first-child', 'data-position'), '2');
  assert.match(await page.getAttribute('#nodes-table tbody tr:first-child', 'class'), /self/);
  const row9 = await page.$$eval('#nodes-table tr[data-position="9"] td', (tds) => tds.map((td) => td.textContent));
  assert.deepEqual(row9, ['9', '10.77.0.9:7070', 'node-9', '#5ideal #4', '8', '16 GiB', '1.00', '0']);
  assert.equal(await page.getAttribute('#nodes-table tr[data-position="3"] td:nth-child(2) a', 'href'), 'http://127.0.0.1:7083/');
  assert.equal(await page.$$eval('#nodes-table tr[data-position="2"] a, #nodes-table tr[data-position="6"] a', (a) => a.length), 0);
  assert.deepEqual(await page.$$eval('#links-table tbody tr', (rs) => rs.map((r) => [...r.cells].map((c) => c.textContent))), [
    ['#110.77.0.1:7070', 'superior', '48', '12 / 64', '1,520', '0.42 ms'],
    ['#410.77.0.4:7070', 'subordinate', '16', '16 / 32', '800', '0.31 ms'],
    ['#510.77.0.5:7070', 'subordinate', '32', '3 / 64', '977', '13 ms'],
  ]);
  const counters = await page.$$eval('#counters dd', (dds) => Object.fromEntries(dds.map((d) => [d.dataset.counter, d.textContent])));
  assert.deepEqual(counters, { kernels_sent: '3,297', kernels_received: '5,120', kernels_recovered: '12', frames_refused: '2', superior_changes: '1' });
  assert.equal(await page.textContent('#pending li[data-job="42"]'), 'job 427');
  assert.equal(await page.textContent('#l-subordinates'), '#4, #5');
  await page.waitForFunction(() => Number(document.getElementById('local-chart').dataset.samples) >= 2);
  assert.equal(await page.$$eval('#local-chart canvas', (c) => c.length), 1, 'uPlot drew the local chart');
});

test('jobs: a live progress bar, the finished job with the hostile summary shown as text', async () => {
  const bar = '#running-jobs tr[data-id="42"] progress';
  await page.waitForSelector(bar);
  assert.equal(await page.$eval(bar, (p) => p.value), 3 / 8);
  assert.match(await page.textContent('#running-jobs tr[data-id="42"] .prog-text'), /^3 \/ 8 \(37 %\)$/);
  fake.jobs[0].progress.done = 6;
  await page.waitForFunction((s) => document.querySelector(s).value === 0.75, bar);

  const fin = '#finished-jobs tr[data-id="41"]';
  const cells = await page.$$eval(`${fin} td`, (tds) => tds.map((td) => td.textContent));
  assert.deepEqual(cells.slice(0, 5), ['41resumed', 'ar --size 200x32x32', 'succeeded', '0', '2.5 s']);
  assert.equal(await page.textContent(`${fin} td.summary`), HOSTILE);
  assert.match(await page.textContent('#finished-jobs tr[data-id="40"] td.summary'), /part 2: injected failure/);
  assert.equal(await page.textContent('#finished-jobs tr[data-id="40"] td:nth-child(4)'), '3');
  // Nothing from the API became markup.
  assert.equal(await page.evaluate(() => window.__pwned), undefined);
  assert.equal(await page.$$eval('td.summary img, td.summary script, svg.tree svg, td svg', (e) => e.length), 0);
  assert.equal(await page.textContent('#nodes-table tr[data-position="7"] td:nth-child(3)'), HOSTILE_HOST);
  assert.match(await page.textContent('svg.tree g.node[data-position="7"] title'), /host <svg onload=/);
});

test('the newest finished job shows its event plot inline with a link to the JSONL', async () => {
  await page.waitForFunction(() => {
    const img = document.getElementById('plot-img');
    return !img.hidden && img.complete && img.naturalWidth > 0;
  });
  assert.equal(new URL(await page.getAttribute('#plot-img', 'src'), 'http://x').pathname, '/api/v1/jobs/41/events.svg');
  assert.equal(await page.getAttribute('#plot-jsonl', 'href'), '/api/v1/jobs/41/events.jsonl');
  assert.match(await page.getAttribute('#plot-img', 'alt'), /job 41/);
  assert.match(await page.textContent('#plot-job'), /^job 41 · ar --size 200x32x32 · succeeded$/);
  // Another finished job on request. Its plot is not there at first: the page says so, then
  // retries and shows it (the same canned SVG).
  await page.click('#finished-jobs tr[data-id="40"] button');
  await page.waitForSelector('#plot-missing:not([hidden])');
  assert.match(await page.textContent('#plot-missing'), /No event plot for job 40 \(yet\)/);
  await page.waitForFunction(() => {
    const img = document.getElementById('plot-img');
    return img.src.includes('/api/v1/jobs/40/events.svg') && !img.hidden && img.naturalWidth > 0;
  });
  assert.equal(await page.isVisible('#plot-missing'), false);
  assert.equal(fake.plotMisses[40], 0);
  assert.match(await page.getAttribute('#finished-jobs tr[data-id="40"]', 'class'), /selected/);
});

test('screenshot', async () => {
  await page.click('#finished-jobs tr[data-id="41"] button');
  await page.waitForFunction(() => Number(document.getElementById('local-chart').dataset.samples) >= 5);
  await page.waitForFunction(() => { const i = document.getElementById('plot-img'); return i.complete && i.naturalWidth > 0 && !i.hidden; });
  await page.evaluate(() => window.scrollTo(0, 0));
  await saveScreenshot(page, 'cluster.png', { docs: true, docsDir: 'docs/screenshots', fullPage: true });
});

test('read-only without a token; with it, Cancel and Submit send Bearer', async () => {
  assert.equal(await page.$$eval('#running-jobs button', (b) => b.length), 0, 'no Cancel without a token');
  assert.equal(await page.$eval('#submit-fields', (f) => f.disabled), true);
  assert.equal(await page.isVisible('#submit-locked'), true);

  // A wrong token: the node's 401 is shown, nothing changes.
  await page.click('#token-box summary');
  await page.fill('#token-input', 'wrong');
  await page.click('#token-form button[type=submit]');
  await page.waitForSelector('#running-jobs tr[data-id="42"] button');
  await page.click('#running-jobs tr[data-id="42"] button');
  await page.waitForSelector('#message.error:not([hidden])');
  assert.match(await page.textContent('#message'), /DELETE \/api\/v1\/jobs\/42: 401 unauthorized — missing or bad token/);
  assert.deepEqual(fake.requests.at(-1), { method: 'DELETE', url: '/api/v1/jobs/42', auth: 'Bearer wrong', body: null });
  assert.equal(fake.jobs[0].state, 'running');

  await page.click('#token-box summary');
  await page.fill('#token-input', TOKEN);
  await page.click('#token-form button[type=submit]');
  assert.equal(await page.evaluate(() => sessionStorage.getItem('chiron.cluster.token')), TOKEN);
  assert.equal(await page.evaluate(() => localStorage.length), 0, 'the token is not kept beyond the tab');
  await page.click('#running-jobs tr[data-id="42"] button');
  await page.waitForSelector('#finished-jobs tr[data-id="42"][data-state="cancelled"]');
  assert.deepEqual(fake.requests.at(-1), { method: 'DELETE', url: '/api/v1/jobs/42', auth: `Bearer ${TOKEN}`, body: null });
  assert.equal(await page.isVisible('#running-empty'), true);

  // Submit from the list of apps.
  await page.waitForFunction(() => document.querySelectorAll('#submit-app option').length === 3);
  assert.match(await page.textContent('#submit-help'), /CRC32C of N generated parts/);
  await page.selectOption('#submit-app', 'checksum');
  await page.fill('#submit-args', `--parts 8 --label "two words" 'it''s'`);
  await page.click('#submit-button');
  await page.waitForSelector('#running-jobs tr[data-id="43"]');
  assert.deepEqual(fake.requests.at(-1), { method: 'POST', url: '/api/v1/jobs', auth: `Bearer ${TOKEN}`,
                                           body: { app: 'checksum', args: ['--parts', '8', '--label', 'two words', 'its'] } });
  assert.match(await page.textContent('#message.ok'), /Job 43 submitted/);
  // progress {0, 0}: an indeterminate bar, not a full or empty one.
  assert.equal(await page.$eval('#running-jobs tr[data-id="43"] progress', (p) => p.hasAttribute('value')), false);

  await page.click('#token-box summary');
  await page.click('#token-clear');
  await page.waitForFunction(() => document.querySelectorAll('#running-jobs button').length === 0);
  assert.equal(await page.$eval('#submit-fields', (f) => f.disabled), true);
});

test('the tree follows the cluster: a node leaves, #9 moves back, a new node appears', async () => {
  delete fake.superiors[11];
  fake.superiors[9] = 4;
  await page.waitForFunction(() => document.querySelectorAll('svg.tree g.node[data-position]').length === 10);
  await page.waitForFunction(() => document.querySelectorAll('svg.tree path.edge.ideal').length === 0);
  assert.deepEqual(await edges('current'), sorted(['2>1', '3>1', '4>2', '5>2', '6>3', '7>3', '8>4', '9>4', '10>5']));
  assert.equal(await page.$$eval('svg.tree g.node.reattached', (g) => g.length), 0);
  // The gone node fades out and is then removed from the drawing.
  await page.waitForFunction(() => !document.querySelector('svg.tree g.node[data-leaving]'));

  fake.superiors[12] = 6;
  await page.waitForFunction(() => document.querySelector('svg.tree path.edge.current[data-from="12"][data-to="6"]'));
  await page.waitForFunction(() => getComputedStyle(document.querySelector('svg.tree g.node[data-position="12"]')).opacity === '1');
  assert.equal(await nodeCount(), 11);
});

test('dark and phone-sized: the page does not overflow, the tree scrolls inside its card', async () => {
  await page.emulateMedia({ colorScheme: 'dark' });
  await saveScreenshot(page, 'cluster-dark.png', { docs: true, docsDir: 'docs/screenshots' });
  await page.setViewportSize({ width: 390, height: 844 });
  await page.waitForTimeout(300);
  assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= 390), 'no horizontal page scroll');
  assert.ok(await page.$eval('#tree', (t) => t.scrollWidth > t.clientWidth), 'the tree scrolls in its box');
  await saveScreenshot(page, 'cluster-phone.png');
  // "Fit to width" scales it into the box instead.
  await page.click('#tree-fit');
  await page.waitForFunction(() => Number(document.querySelector('svg.tree').dataset.scale) < 1);
  assert.ok(await page.$eval('#tree', (t) => t.scrollWidth <= t.clientWidth), 'the fitted tree does not scroll');
  assert.equal(await nodeCount(), 11);
  await page.click('#tree-fit');
  await page.waitForFunction(() => document.querySelector('svg.tree').dataset.scale === '1.000');
  await page.setViewportSize({ width: 1360, height: 900 });
  await page.emulateMedia({ colorScheme: 'light' });
});

test('a stopped node shows "disconnected", then live again when it is back', async () => {
  const before = await page.textContent('#f-nodes');
  await stopFake();
  await page.waitForSelector('#conn-status[data-state="offline"]');
  assert.match(await page.textContent('#conn-status'), /^disconnected/);
  assert.equal(await page.isVisible('#offline-banner'), true);
  assert.equal(await page.getAttribute('body', 'data-conn'), 'offline');
  // The last state stays on screen, dimmed.
  assert.equal(await page.textContent('#f-nodes'), before);
  assert.equal(await nodeCount(), 11);
  await saveScreenshot(page, 'cluster-disconnected.png');

  await startFake(port);
  await page.click('#retry-now');
  await page.waitForSelector('#conn-status[data-state="live"]');
  assert.equal(await page.isVisible('#offline-banner'), false);
  assert.deepEqual(errors, []);
});
