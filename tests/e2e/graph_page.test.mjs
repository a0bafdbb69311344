// The fluxion graph page (web/admin/graph/) in a real browser against a small fake server: a
// node:http server on 127.0.0.1:0 that serves the page's files at /admin/graph/ and a scripted
// GET /api/v1/graph following the team brief's contract — phase 1 and phase 2 differ only in their
// message counts and rates; then an empty graph, then HTTP 500s. Steps share one page, in order.
// When CHIRON_BIN points at a built binary, one more step checks the page against `chiron serve`.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { launchChromium, saveScreenshot } from '../lib/browser.mjs';
import { SOURCE_DIR, CHIRON_BIN, startServe } from '../lib/chiron.mjs';

const STEP_MS = 10000;
const HOSTILE = '<img src=x onerror="window.__pwned=1">';

// ---- the fake server ------------------------------------------------------------------------------

const fake = { phase: 1, fail: false, graphGets: 0, textGets: 0 };

function fluxion(id, device, replicas, tags, ctx, streams, counters) {
  return { id, tags, ctx, body: '', device, replicas, ...counters, streams };
}
const stream = (type, dest, vars, messages, rate) => ({ type, dest, vars, messages, rate });

function graphJson() {
  if (fake.phase === 'empty') return { version: 1, now_ms: Date.now(), window_s: 10, fluxions: [] };
  const p2 = fake.phase === 2;
  return {
    version: 1, now_ms: Date.now(), window_s: 10, unknown_key: { ignored: true },
    fluxions: [
      fluxion('files_receive', 'net', 1, ['grp_files'], [], [stream('start', ['files_hash'], ['body', 'res'], p2 ? 70 : 25, p2 ? 7 : 2.5)],
              { handled: p2 ? 70 : 25, failed: 0, queued: 0, busy_us: 1200 }),
      fluxion('files_hash', 'cpu', 2, [], [], [stream('post', ['files_store'], ['digest', 'res'], p2 ? 69 : 25, p2 ? 6.9 : 2.5)],
              { handled: p2 ? 69 : 25, failed: 0, queued: p2 ? 1 : 0, busy_us: 2500000 }),
      fluxion('files_store', 'disk', 1, ['grp_files', 'grp_store'], ['blobs'], [stream('post', ['files_notify'], ['digest'], p2 ? 68 : 24, p2 ? 6.8 : 2.4)],
              { handled: p2 ? 68 : 24, failed: p2 ? 2 : 1, queued: 0, busy_us: 90000 }),
      fluxion('files_notify', 'net', 1, ['grp_files'], [], [], { handled: p2 ? 68 : 24, failed: 0, queued: 0, busy_us: 300 }),
      fluxion(HOSTILE, 'cpu', 1, [HOSTILE], [], [stream('post', ['files_store'], [], 0, 0)],
              { handled: 0, failed: 0, queued: 0, busy_us: 0 }),
      fluxion('timer_tick', 'timer', 1, [], ['n'], [stream('start', ['timer_tick'], [], p2 ? 20 : 10, p2 ? 2 : 1)],
              { handled: 10, failed: 0, queued: 0, busy_us: 50 }),
    ],
  };
}

// Fluxional text for the graph above (the hostile fluxion aside: its id is no identifier).
const GRAPH_TEXT = 'flx files_receive & grp_files\n>> files_hash [body, res]\n\nflx files_hash\n-> files_store [digest, res]\n' +
  '\nflx files_store & grp_files, grp_store {blobs}\n-> files_notify [digest]\n\nflx files_notify & grp_files\n-> null\n' +
  '\nflx timer_tick {n}\n>> timer_tick\n  setInterval(>> timer_tick, 1000);  // <b>not markup</b>\n';

const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml' };

function send(res, status, body, type = 'application/json') {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
  res.end(typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body));
}

async function handle(req, res) {
  const url = new URL(req.url, 'http://fake');
  const p = url.pathname;
  if (req.method !== 'GET') return send(res, 405, { error: { code: 'method_not_allowed', message: req.method } });
  if (p === '/api/v1/graph') {
    const text = url.searchParams.get('format') === 'text';
    if (text) fake.textGets++; else fake.graphGets++;
    if (fake.fail) return send(res, 500, { error: { code: 'internal', message: 'graph snapshot failed <b>boom</b>' } });
    return text ? send(res, 200, GRAPH_TEXT, 'text/plain; charset=utf-8') : send(res, 200, graphJson());
  }
  const dir = p.startsWith('/admin/graph/') ? '/admin/graph/' : p.startsWith('/js/') ? '/js/' : null;
  if (dir) {
    const root = path.join(SOURCE_DIR, 'web', ...dir.split('/').filter(Boolean));
    const rel = p.slice(dir.length) || 'index.html';
    const file = path.resolve(root, `.${path.posix.normalize(`/${rel}`)}`);
    if (!file.startsWith(root + path.sep)) return send(res, 404, { error: { code: 'not_found', message: 'no such file' } });
    try {
      return send(res, 200, await readFile(file), TYPES[path.extname(file)] ?? 'application/octet-stream');
    } catch {
      return send(res, 404, { error: { code: 'not_found', message: 'no such file' } });
    }
  }
  if (p === '/favicon.svg') return send(res, 200, await readFile(path.join(SOURCE_DIR, 'web', 'favicon.svg')), TYPES['.svg']);
  return send(res, 404, { error: { code: 'not_found', message: `no route ${p}` } });
}

let server, port, browser, page;
const errors = [];

before(async () => {
  server = http.createServer((req, res) => { handle(req, res).catch((e) => send(res, 500, { error: { code: 'internal', message: String(e) } })); });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => { port = server.address().port; resolve(); });
  });
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
  page.setDefaultTimeout(STEP_MS);
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('dialog', (d) => { errors.push(`dialog: ${d.message()}`); d.dismiss(); });
  page.on('console', (m) => { if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) errors.push(m.text()); });
});

after(async () => {
  await browser?.close();
  if (server?.listening) await new Promise((resolve) => { server.close(() => resolve()); server.closeAllConnections(); });
});

const boxIds = () => page.$$eval('svg.flx-graph g.flx-node', (gs) => gs.map((g) => g.dataset.id));
const arrows = () => page.$$eval('svg.flx-graph g.flx-edge', (gs) => gs.map((g) => `${g.dataset.from}>${g.dataset.to}:${g.dataset.type}`));
const rateOf = (from, to) => page.$$eval('svg.flx-graph g.flx-edge', (gs, [f, t]) =>
  gs.find((g) => g.dataset.from === f && g.dataset.to === t)?.querySelector('.flx-rate')?.textContent ?? null, [from, to]);
const widthOf = (from, to) => page.$$eval('svg.flx-graph g.flx-edge', (gs, [f, t]) =>
  Number(gs.find((g) => g.dataset.from === f && g.dataset.to === t)?.querySelector('path').getAttribute('stroke-width')), [from, to]);

test('the page draws a box for every fluxion and an arrow for every stream', async () => {
  await page.goto(`http://127.0.0.1:${port}/admin/graph/`);
  await page.waitForSelector('#conn-status.pill-ok');
  await page.waitForFunction(() => document.querySelectorAll('svg.flx-graph g.flx-node').length === 6);
  assert.deepEqual((await boxIds()).sort(), ['files_hash', 'files_notify', 'files_receive', 'files_store', 'timer_tick', HOSTILE].sort());
  assert.deepEqual((await arrows()).sort(), [
    'files_hash>files_store:post', 'files_receive>files_hash:start', 'files_store>files_notify:post',
    `${HOSTILE}>files_store:post`, 'timer_tick>timer_tick:start'].sort());
  // Start streams end in a double arrowhead, post streams in a single one.
  const markers = await page.$$eval('svg.flx-graph g.flx-edge', (gs) => Object.fromEntries(
    gs.map((g) => [`${g.dataset.from}>${g.dataset.to}`, g.querySelector('path').getAttribute('marker-end')])));
  assert.equal(markers['files_receive>files_hash'], 'url(#flx-head-start)');
  assert.equal(markers['files_hash>files_store'], 'url(#flx-head-post)');
  assert.equal(await page.$$eval('#flx-head-start path', (p) => p[0].getAttribute('d').split('M').length - 1), 2);
  // Layers run left to right along the chain; the source has no incoming stream.
  const x = await page.$$eval('svg.flx-graph g.flx-node', (gs) => Object.fromEntries(gs.map((g) => [g.dataset.id, g.getCTM().e])));
  assert.ok(x.files_receive < x.files_hash && x.files_hash < x.files_store && x.files_store < x.files_notify, JSON.stringify(x));
  // Boxes show device, replicas and context variables.
  assert.match(await page.textContent('svg.flx-graph g.flx-node[data-id="files_hash"] .flx-meta'), /cpu · ×2/);
  assert.equal(await page.textContent('svg.flx-graph g.flx-node[data-id="files_store"] .flx-ctx'), '{blobs}');
  assert.match(await page.textContent('svg.flx-graph g.flx-edge[data-from="files_receive"] .flx-label'), /\[body, res\]/);
  assert.match(await page.textContent('#graph-count'), /6 fluxions · 5 streams/);
  assert.match(await page.textContent('#window-note'), /10 s/);
});

test('tags are shown as chips coloured per group', async () => {
  const tags = await page.$$eval('svg.flx-graph g.flx-node[data-id="files_store"] g.flx-tag', (gs) =>
    gs.map((g) => [g.dataset.tag, g.textContent, g.querySelector('rect').getAttribute('fill')]));
  assert.deepEqual(tags.map((t) => t.slice(0, 2)), [['grp_files', 'grp_files'], ['grp_store', 'grp_store']]);
  assert.notEqual(tags[0][2], tags[1][2], 'two groups, two colours');
  const receiveFill = await page.$eval('svg.flx-graph g.flx-node[data-id="files_receive"] g.flx-tag rect', (r) => r.getAttribute('fill'));
  assert.equal(receiveFill, tags[0][2], 'one group, one colour');
  assert.deepEqual(await page.$$eval('#fluxions-table tr[data-id="files_store"] .chip', (cs) => cs.map((c) => c.textContent)),
                   ['grp_files', 'grp_store']);
});

test('tables show per-fluxion counters and per-stream messages and rates', async () => {
  const row = await page.$$eval('#fluxions-table tr[data-id="files_hash"] td', (tds) => tds.map((td) => td.textContent));
  assert.deepEqual(row, ['files_hash', '', 'cpu', '2', '25', '0', '0', '2.5 s', '—']);
  const store = await page.$$eval('#fluxions-table tr[data-id="files_store"] td', (tds) => tds.map((td) => td.textContent));
  assert.deepEqual(store.slice(2), ['disk', '1', '24', '1', '0', '90 ms', '{blobs}']);
  const streams = await page.$$eval('#streams-table tbody tr', (rs) => rs.map((r) => [...r.cells].map((c) => c.textContent)));
  assert.deepEqual(streams[0], ['files_receive', '>> start', 'files_hash', '[body, res]', '25', '2.5']);
  assert.ok(streams.some((r) => r[0] === 'files_notify' && r[1] === '-> null'), JSON.stringify(streams));
});

test('rate labels and stroke widths follow the next poll', async () => {
  assert.equal(await rateOf('files_receive', 'files_hash'), '2.5 msg/s');
  assert.equal(await rateOf(HOSTILE, 'files_store'), '0 msg/s');
  const before2 = await widthOf('timer_tick', 'timer_tick');
  fake.phase = 2;
  await page.waitForFunction(() => [...document.querySelectorAll('svg.flx-graph g.flx-edge')]
    .some((g) => g.dataset.from === 'files_receive' && g.querySelector('.flx-rate').textContent === '7 msg/s'));
  assert.equal(await rateOf('files_hash', 'files_store'), '6.9 msg/s');
  assert.equal(await rateOf('timer_tick', 'timer_tick'), '2 msg/s');
  // The busiest stream is the widest; an idle one is the thinnest.
  const wMax = await widthOf('files_receive', 'files_hash'), wIdle = await widthOf(HOSTILE, 'files_store');
  const wTimer = await widthOf('timer_tick', 'timer_tick');
  assert.ok(wMax > wTimer && wTimer > wIdle, `${wMax} > ${wTimer} > ${wIdle}`);
  assert.ok(wTimer !== before2, 'the timer stream changed width with its share of the traffic');
  assert.equal(await page.textContent('#streams-table tbody tr:first-child td.rate'), '7');
  assert.ok(fake.graphGets >= 2);
  await saveScreenshot(page, 'graph-page.png');
});

test('a hostile fluxion id is rendered as text', async () => {
  assert.equal(await page.evaluate(() => window.__pwned), undefined);
  assert.equal(await page.$$eval('img', (imgs) => imgs.length), 0);
  const hostileBox = await page.$$eval('svg.flx-graph g.flx-node', (gs, h) => gs.find((g) => g.dataset.id === h)?.querySelector('.flx-id').textContent, HOSTILE);
  assert.ok(HOSTILE.startsWith(hostileBox.replace(/…$/, '')), hostileBox);
  assert.match(hostileBox, /^<img src=x/);
  const cell = await page.$$eval('#fluxions-table tbody tr', (rs, h) => rs.find((r) => r.dataset.id === h)?.cells[0].textContent, HOSTILE);
  assert.equal(cell, HOSTILE);
  const chip = await page.$$eval('#fluxions-table tbody tr', (rs, h) => rs.find((r) => r.dataset.id === h)?.cells[1].textContent, HOSTILE);
  assert.equal(chip, HOSTILE);
});

test('the text tab shows GET /api/v1/graph?format=text', async () => {
  await page.click('#tab-text');
  await page.waitForFunction((t) => document.getElementById('graph-text').textContent === t, GRAPH_TEXT);
  assert.equal(await page.isVisible('#panel-graph'), false);
  assert.equal(await page.$$eval('#graph-text *', (e) => e.length), 0, 'the text is text, not markup');
  assert.ok(fake.textGets >= 1);
  await saveScreenshot(page, 'graph-page-text.png');
  await page.click('#tab-graph');
  assert.equal(await page.isVisible('#graph'), true);
});

test('an empty graph shows an empty state', async () => {
  fake.phase = 'empty';
  await page.waitForSelector('#graph-empty', { state: 'visible' });
  assert.equal((await boxIds()).length, 0);
  assert.equal(await page.$$eval('#fluxions-table tbody tr', (r) => r.length), 0);
  assert.match(await page.textContent('#graph-count'), /0 fluxions · 0 streams/);
  fake.phase = 2;
  await page.waitForFunction(() => document.querySelectorAll('svg.flx-graph g.flx-node').length === 6);
});

test('an HTTP 500 shows the error, and the page recovers', async () => {
  fake.fail = true;
  await page.waitForSelector('#error', { state: 'visible' });
  const text = await page.textContent('#error-text');
  assert.match(text, /GET \/api\/v1\/graph: HTTP 500 — internal — graph snapshot failed <b>boom<\/b>/);
  assert.equal(await page.$$eval('#error b', (b) => b.length), 0);
  assert.equal(await page.textContent('#conn-status'), 'error');
  assert.equal((await boxIds()).length, 6, 'the last graph stays drawn');
  await saveScreenshot(page, 'graph-page-error.png');
  fake.fail = false;
  await page.waitForSelector('#error', { state: 'hidden' });
  assert.equal(await page.textContent('#conn-status'), 'live');
  assert.deepEqual(errors, []);
});

// ---- the layout, without a browser (graph_layout.js is pure) ----------------------------------------

test('layout: longest-path layers from the sources, cycles broken by back edges', async () => {
  const { layoutLayers } = await import(path.join(SOURCE_DIR, 'web', 'admin', 'graph', 'graph_layout.js'));
  const f = (id, ...dests) => ({ id, streams: dests.map((d) => ({ dest: Array.isArray(d) ? d : [d] })) });
  // a → b → c → d and a → d: d sits after c (longest path), not next to b; d → b closes a cycle.
  const lay = layoutLayers([f('a', 'b', 'd'), f('b', 'c'), f('c', 'd'), f('d', 'b', 'ghost'), f('e', 'e'), f('x', ['y', 'b']), f('y')]);
  assert.deepEqual(Object.fromEntries(lay.layerOf), { a: 0, b: 1, c: 2, d: 3, e: 0, x: 0, y: 1 });
  assert.deepEqual([...lay.back].map((k) => k.replace('\u0000', '>')).sort(), ['d>b', 'e>e']);
  assert.deepEqual(lay.layers, [['a', 'e', 'x'], ['b', 'y'], ['c'], ['d']]);
  // A cycle without any source still gets laid out, starting from the first fluxion.
  const ring = layoutLayers([f('p', 'q'), f('q', 'r'), f('r', 'p')]);
  assert.deepEqual(Object.fromEntries(ring.layerOf), { p: 0, q: 1, r: 2 });
  assert.deepEqual(layoutLayers([]).layers, []);
});

// ---- against the real server ------------------------------------------------------------------------

async function realGraphServed() {
  if (!existsSync(CHIRON_BIN)) return 'CHIRON_BIN is not built';
  return null;
}

test('against `chiron serve`: the page draws the server\'s own graph', async (t) => {
  const why = await realGraphServed();
  if (why) { t.skip(why); return; }
  const srv = await startServe();
  try {
    const res = await fetch(`${srv.url}/api/v1/graph`);
    if (res.status === 404) { t.skip('this chiron serve has no /api/v1/graph yet'); return; }
    assert.equal(res.status, 200);
    const doc = await res.json();
    assert.ok(Array.isArray(doc.fluxions));
    const real = await browser.newPage({ viewport: { width: 1360, height: 900 } });
    const problems = [];
    real.on('pageerror', (e) => problems.push(e.message));
    try {
      await real.goto(`${srv.url}/admin/graph/`);
      await real.waitForSelector('#conn-status.pill-ok', { timeout: STEP_MS });
      await real.waitForFunction((n) => document.querySelectorAll('svg.flx-graph g.flx-node').length === n,
                                 doc.fluxions.length, { timeout: STEP_MS });
      const ids = await real.$$eval('svg.flx-graph g.flx-node', (gs) => gs.map((g) => g.dataset.id).sort());
      assert.deepEqual(ids, doc.fluxions.map((f) => f.id).sort());
      const arrowCount = doc.fluxions.reduce((a, f) => a + f.streams.reduce((b, s) => b + s.dest.length, 0), 0);
      assert.equal(await real.$$eval('svg.flx-graph g.flx-edge', (gs) => gs.length), arrowCount);
      // Traffic through the files PUT fluxions (unauthenticated PUTs: refused, but received,
      // authorized and replied to) shows up as a non-zero rate on the page.
      if (doc.fluxions.some((f) => f.id === 'files_receive')) {
        for (let i = 0; i < 5; i++) {
          const put = await fetch(`${srv.url}/api/v1/channels/nobody/files/a.txt`, { method: 'PUT', body: 'x' });
          assert.ok(put.status >= 400, `an unauthenticated PUT is refused (${put.status})`);
        }
        await real.waitForFunction(() => [...document.querySelectorAll('svg.flx-graph g.flx-edge')].some((g) =>
          g.dataset.from === 'files_receive' && !/^(0|—) msg\/s$/.test(g.querySelector('.flx-rate').textContent)), null, { timeout: STEP_MS });
        const handled = await real.$$eval('#fluxions-table tbody tr', (rs) => rs.find((r) => r.dataset.id === 'files_receive')?.cells[4].textContent);
        assert.ok(Number(handled.replace(/,/g, '')) >= 5, `files_receive handled ${handled}`);
        await saveScreenshot(real, 'graph-page-serve.png');
      }
      await real.click('#tab-text');
      const text = await (await fetch(`${srv.url}/api/v1/graph?format=text`)).text();
      await real.waitForFunction((t2) => document.getElementById('graph-text').textContent === (t2 || '(empty program: no fluxions)'), text,
                                 { timeout: STEP_MS });
      assert.deepEqual(problems, []);
    } finally {
      await real.close();
    }
  } finally {
    await srv.stop();
  }
});
