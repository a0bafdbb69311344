// The start (home) page in a real browser (Debian's Chromium driven by playwright-core).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launchChromium, saveScreenshot } from '../lib/browser.mjs';
import { startServe } from '../lib/chiron.mjs';

let server, browser;
before(async () => {
  server = await startServe();
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

test('start page shows the server online with version and a ticking uptime', async () => {
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  // An anonymous visitor's GET /api/v1/me answers 401, which Chromium logs as a failed load.
  page.on('console', (m) => { if (m.type() === 'error' && !/Failed to load resource.*401/.test(m.text())) errors.push(m.text()); });
  await page.goto(server.url + '/');
  assert.match(await page.title(), /Chiron/);
  await page.waitForFunction(() => document.getElementById('server-status').textContent === 'online');
  const version = await page.textContent('#health-version');
  assert.match(version, /^\d+\.\d+\.\d+/);
  const first = await page.textContent('#health-uptime');
  await page.waitForFunction((f) => document.getElementById('health-uptime').textContent !== f, first,
                             { timeout: 5000 });
  await saveScreenshot(page, 'start-page.png', { fullPage: true });
  assert.deepEqual(errors, []);
});

test('start page says so when the server is unreachable', async () => {
  const page = await browser.newPage();
  await page.route('**/api/v1/health', (route) => route.abort());
  await page.goto(server.url + '/');
  await page.waitForFunction(() => document.getElementById('server-status').textContent === 'unreachable');
  assert.match(await page.getAttribute('#server-status', 'class'), /pill-bad/);
});
