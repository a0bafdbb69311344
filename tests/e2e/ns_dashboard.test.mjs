// The name server dashboard (web/ns/, served at / of `chiron ns --admin`) in a real browser:
// admin actions through the page, live updates from the events WebSocket, the REQ tester's
// distribution per algorithm, and the uPlot charts. Steps share one page and run in order.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { launchChromium, saveScreenshot } from '../lib/browser.mjs';
import { startNs } from '../lib/chiron.mjs';

const SVC = 'web';
const A = '127.0.0.1:9001', B = '127.0.0.1:9002', C = '127.0.0.1:9003';
const STEP_MS = 10000;

let ns, browser, page, keepalive;
const errors = [];
const alive = new Set();  // servers the test keeps heartbeating (leases last 15 s)

async function apiCall(method, p, body) {
  const res = await fetch(ns.url + p, {
    method, signal: AbortSignal.timeout(5000),
    headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : null };
}
const heartbeat = (id) => apiCall('POST', `/api/v1/services/${SVC}/servers/${id}/heartbeat`, {});

// Sends inline commands to the data plane on a raw socket, returns the raw reply once it has
// `replies` CRLF-terminated lines.
function dataPlane(lines, replies) {
  const [host, port] = [ns.listeners.ns.slice(0, ns.listeners.ns.lastIndexOf(':')), Number(ns.listeners.ns.split(':').pop())];
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host, port });
    let got = '';
    const timer = setTimeout(() => { sock.destroy(); reject(new Error(`data plane reply timed out; got ${JSON.stringify(got)}`)); }, 5000);
    sock.on('connect', () => sock.write(lines.map((l) => `${l}\r\n`).join('')));
    sock.on('data', (d) => {
      got += d;
      if (got.split('\r\n').length - 1 >= replies) { clearTimeout(timer); sock.end(); resolve(got); }
    });
    sock.on('error', (e) => { clearTimeout(timer); reject(e); });
  });
}

async function waitUntil(what, fn, timeoutMs = STEP_MS) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const row = (id) => `#servers tbody tr[data-id="${id}"]`;

// Runs the page's REQ tester and returns {server: count} as the page shows it.
async function runReq(n) {
  await page.fill('#req-count', String(n));
  await page.click('#req-run');
  await page.waitForFunction((k) => {
    const s = document.getElementById('req-summary').textContent;
    return s.startsWith(`${k} requests to`) && document.getElementById('req-run').textContent === 'Run REQ test';
  }, n);
  return page.$$eval('#req-dist li', (lis) => Object.fromEntries(lis.map((li) => [li.dataset.server, Number(li.dataset.count)])));
}

async function selectAlgorithm(name) {
  await page.selectOption('#alg-select', name);
  await page.waitForFunction((alg) => document.querySelector('#service-list button[aria-current="true"] .svc-meta')
    ?.textContent.startsWith(`${alg} `), name);
}

before(async () => {
  ns = await startNs();
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  page.setDefaultTimeout(STEP_MS);
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    // 4xx/5xx answers the test provokes are logged by Chromium as failed resource loads.
    if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) errors.push(m.text());
  });
  keepalive = setInterval(() => { for (const id of alive) heartbeat(id).catch(() => {}); }, 3000);
});

after(async () => {
  clearInterval(keepalive);
  await browser?.close();
  await ns?.stop();
});

test('the dashboard loads, goes live and lists the algorithms', async () => {
  await page.goto(ns.url + '/');
  assert.match(await page.title(), /name server/);
  await page.waitForFunction(() => document.getElementById('conn-status').dataset.state === 'live');
  await page.waitForFunction(() => [...document.querySelectorAll('#alg-select option')].some((o) => o.value === 'swrr'));
  const algs = await page.$$eval('#service-alg option', (os) => os.map((o) => o.value));
  for (const name of ['rr', 'swrr']) assert.ok(algs.includes(name), `algorithms: ${algs}`);
  await page.evaluate(() => { window.noReloadMarker = 42; });
});

test('a service is added and servers are registered through the forms', async () => {
  await page.fill('#service-name', SVC);
  await page.selectOption('#service-alg', 'rr');
  await page.click('#service-form button[type=submit]');
  await page.waitForFunction((s) => document.getElementById('svc-title').textContent === s, SVC);

  for (const [id, weight] of [[A, 3], [B, 1]]) {
    await page.fill('#reg-id', id);
    await page.fill('#reg-weight', String(weight));
    await page.click('#register-form button[type=submit]');
    await page.waitForSelector(`${row(id)}[data-health="pending"]`);
  }
  assert.equal(await page.textContent(`${row(A)} td.weight`), '3');
  assert.equal(await page.textContent(`${row(B)} td.weight`), '1');
});

test('an API error is shown with its status, code and message', async () => {
  await page.fill('#reg-id', 'not-an-address');
  await page.click('#register-form button[type=submit]');
  await page.waitForSelector('#message.error:not([hidden])');
  const text = await page.textContent('#message');
  assert.match(text, new RegExp(`POST /api/v1/services/${SVC}/servers: 4\\d\\d \\w+ — \\S`));
  await page.fill('#reg-id', '');
});

test('heartbeats bring the servers up', async () => {
  await page.click(`${row(A)} button:has-text("Heartbeat")`);
  assert.equal((await heartbeat(B)).status, 200);
  alive.add(A); alive.add(B);
  await page.waitForSelector(`${row(A)}[data-health="up"] .badge.up`);
  await page.waitForSelector(`${row(B)}[data-health="up"] .badge.up`);
  await page.waitForFunction((id) => /^\d+\.\d s$/.test(document.querySelector(`tr[data-id="${id}"] td.lease`).textContent), A);
  // Slow start, if any, must be over before distributions are exact.
  await waitUntil('full weights', async () => {
    const { json } = await apiCall('GET', `/api/v1/services/${SVC}`);
    return json.servers.every((v) => v.eligible && (v.ramp_percent ?? 100) >= 100);
  }, 40000);
});

test('REQ answers follow the selected algorithm (swrr 3:1, then rr 1:1)', async () => {
  await selectAlgorithm('swrr');
  assert.deepEqual(await runReq(40), { [A]: 30, [B]: 10 });
  assert.match(await page.textContent('#req-dist li[data-server="127.0.0.1:9001"] .value'), /30 · 75\.0%/);
  assert.equal(await page.$$eval('#req-last li', (l) => l.length), 20);

  await selectAlgorithm('rr');
  assert.deepEqual(await runReq(40), { [A]: 20, [B]: 20 });
});

test('a drained server gets no more picks', async () => {
  alive.delete(A);
  await heartbeat(A);  // a fresh lease, so the drain (not an expiry) is what keeps it out
  await page.selectOption(`${row(A)} select`, 'drain');
  await page.waitForSelector(`${row(A)}[data-admin="drain"]`);
  assert.deepEqual(await runReq(20), { [B]: 20 });
});

test('a server registered on the data plane appears live, without a reload', async () => {
  const reply = await dataPlane([`REG ${SVC} ${C} 2`, `HB ${SVC} ${C}`], 2);
  assert.equal(reply, '+OK\r\n+OK\r\n');
  alive.add(C);
  await page.waitForSelector(`${row(C)}[data-health="up"]`);
  assert.equal(await page.textContent(`${row(C)} td.weight`), '2');
  assert.equal(await page.evaluate(() => window.noReloadMarker), 42);
});

test('a server is deleted with the two-step delete button', async () => {
  alive.delete(C);
  await page.click(`${row(C)} button:has-text("Delete")`);
  await page.click(`${row(C)} button:has-text("Confirm delete")`);
  await page.waitForSelector(row(C), { state: 'detached' });
  const { json } = await apiCall('GET', `/api/v1/services/${SVC}`);
  assert.deepEqual(json.servers.map((v) => v.id).sort(), [A, B]);
});

test('the charts draw REQ traffic, health and shares from the stats frames', async () => {
  await page.selectOption(`${row(A)} select`, 'ready');
  await page.waitForSelector(`${row(A)}[data-admin="ready"]`);
  alive.add(A);
  await heartbeat(A);
  const stopAt = Date.now() + 4500;
  while (Date.now() < stopAt) {
    await Promise.all(Array.from({ length: 10 }, () => apiCall('GET', `/api/v1/req?service=${SVC}`)));
    await new Promise((r) => setTimeout(r, 50));
  }
  await page.waitForFunction(() => ['chart-rps', 'chart-share'].every((id) => Number(document.getElementById(id).dataset.samples) >= 3)
                                    && Number(document.getElementById('chart-health').dataset.samples) >= 2);
  for (const id of ['chart-rps', 'chart-health', 'chart-share']) {
    const painted = await page.$eval(`#${id} canvas`, (cv) => {
      const px = cv.getContext('2d').getImageData(0, 0, cv.width, cv.height).data;
      let n = 0;
      for (let i = 3; i < px.length; i += 4) if (px[i] > 0) n++;
      return n;
    });
    assert.ok(painted > 1000, `${id}: ${painted} painted pixels`);
  }
  const share = await page.$$eval('#share-bar span', (s) => s.length);
  assert.ok(share >= 2, `share bar segments: ${share}`);

  await page.waitForFunction(() => document.getElementById('svc-eligible').textContent === '2 of 2');

  await page.evaluate(() => { document.getElementById('message').hidden = true; window.scrollTo(0, 0); });
  await saveScreenshot(page, 'ns-dashboard.png', { docs: true });
  assert.deepEqual(errors, []);
});
