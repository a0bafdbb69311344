// The platform in a real browser (issue 5's scenario): streamer A signs up, titles the channel,
// starts a session and pushes files; reviewer B (another browser context) signs up, opens the
// channel, sees the tree update live and highlighted code, steps through history and the diff,
// comments on a line (A sees it live in the code view and in chat), both chat; A ends the
// session and rates B; B's profile shows the chart. User text with markup renders as text, and
// a private channel is invisible to others. Steps share the pages and run in order.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launchChromium, saveScreenshot } from '../lib/browser.mjs';
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { startServe, tempDir, CHIRON_BIN } from '../lib/chiron.mjs';
import { newUser, open, signupInBrowser, apiAs, putFile, treeFile } from '../lib/platform.mjs';

const XSS = '<img src=x onerror=alert(1)>';
const A = 'alice', B = 'bob', PASSWORD = 'correct horse battery';
const TITLE = `Ray tracer in C++ ${XSS}`;
const MAIN_V1 = '#include <cstdio>\n\nint main() {\n  std::printf("hello\\n");\n  return 0;\n}\n';
const MAIN_V2 = '#include <cstdio>\n\n// Trace one ray per pixel.\nint main() {\n  for (int y = 0; y < 4; ++y) std::printf("row %d\\n", y);\n  return 0;\n}\n';
const XSS_FILE = `src/${XSS}.h`;
const README = '# Ray tracer\n\nOne ray per pixel.\n';
const COMMENT = `Prefer a named constant for 4 ${XSS}`;
const shot = async (page, name, { top = true } = {}) => {
  if (top) await page.evaluate(() => window.scrollTo(0, 0));
  await saveScreenshot(page, name, { docs: true, docsDir: 'docs/screenshots', fullPage: true });
};

let server, browser, a, b;
let pushToken = '';
const problems = [];

before(async () => {
  server = await startServe(['--ns', 'off']);
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

test('A signs up, lands on settings, titles the channel and reveals the push token', async () => {
  a = await newUser(browser, problems);
  await signupInBrowser(a, server.url, A, PASSWORD, 'Alice');
  assert.equal(await a.isVisible('#welcome'), true);
  assert.equal(await a.getAttribute('#account', 'data-user'), A);
  await a.fill('#title', TITLE);
  await a.fill('#description', 'Learning C++ by building a tiny ray tracer.\nReviews welcome!');
  await a.fill('#tags', 'cpp, graphics');
  await a.click('#save-channel');
  await a.waitForFunction(() => document.getElementById('channel-saved').textContent.includes('Saved'));
  assert.equal(await a.inputValue('#push-token'), '••••••••••••••••', 'hidden until revealed');
  await a.click('[data-reveal="push-token"]');
  await a.waitForFunction(() => document.getElementById('push-token').type === 'text');
  pushToken = await a.inputValue('#push-token');
  assert.match(pushToken, /^\S{16,}$/);
  assert.match(await a.textContent('#push-cmd'), new RegExp(`chiron push ./my-project --server ${server.url} --token ${pushToken}`));
  // The page asks the server where RTMP listens (a free port here).
  await a.waitForFunction((hp) => document.getElementById('rtmp-url').textContent === `rtmp://${hp}/live`,
    server.listeners.rtmp, { timeout: 5000 });
  const me = await apiAs(a, server.url, 'GET', `/channels/${A}`);
  assert.equal(me.body.title, TITLE);
  assert.deepEqual(me.body.tags, ['cpp', 'graphics']);
});

test('A starts a session on the channel page and pushes files', async () => {
  await open(a, `${server.url}/c/${A}`);
  assert.equal(await a.textContent('#ch-title'), TITLE, 'the title is text');
  assert.equal(await a.locator('#ch-title img').count(), 0);
  assert.equal(await a.textContent('#live-pill'), 'offline');
  assert.equal(await a.isVisible('#player'), true);
  assert.match(await a.textContent('#player-title'), /Offline/);
  await a.click('#start-session');
  await a.waitForFunction(() => document.getElementById('live-pill').textContent === 'LIVE');
  assert.equal(await a.isVisible('#end-session'), true);
  assert.match(await a.textContent('#session-timer'), /^\d+:\d\d$/);
  await putFile(server.url, A, pushToken, 'src/main.cpp', MAIN_V1);
  await putFile(server.url, A, pushToken, 'README.md', README);
  await treeFile(a, 'src/main.cpp').waitFor();
  await treeFile(a, 'README.md').waitFor();
});

test('B signs up, opens the channel and reads highlighted code', async () => {
  b = await newUser(browser, problems);
  await signupInBrowser(b, server.url, B, PASSWORD, 'Bob Reviewer');
  await open(b, `${server.url}/c/${A}`);
  await b.waitForFunction(() => document.getElementById('live-pill').textContent === 'LIVE');
  assert.equal(await b.isVisible('#start-session'), false, 'only the owner starts sessions');
  await b.waitForFunction(() => document.getElementById('live-conn').textContent === 'live updates');
  await treeFile(b, 'src/main.cpp').click();
  await b.waitForSelector('#viewer-body table.code tr#L6');
  assert.equal(await b.textContent('#viewer-path'), 'src/main.cpp');
  assert.ok(await b.locator('#viewer-body .hljs-keyword').count() > 0, 'keywords highlighted');
  assert.equal(await b.textContent('#L3 .src'), 'int main() {');
  assert.equal(await b.textContent('#L1 .ln button'), '1');
  // A sees B among the reviewers present.
  await a.waitForSelector(`#reviewers li[data-user="${B}"]`);
  assert.equal(await a.textContent('#viewer-count'), '1');
});

test('B sees the tree update live, follows the new version, the diff and the history', async () => {
  await putFile(server.url, A, pushToken, 'src/main.cpp', MAIN_V2);
  await putFile(server.url, A, pushToken, XSS_FILE, '#pragma once\n');
  const xssButton = treeFile(b, XSS_FILE);
  await xssButton.waitFor();
  assert.equal(await xssButton.locator('.name').textContent(), `${XSS}.h`);
  assert.match(await xssButton.getAttribute('class'), /flash/, 'the changed file is highlighted');
  await b.waitForFunction(() => document.querySelector('#L3 .src')?.textContent === '// Trace one ray per pixel.');
  assert.match(await b.textContent('#version-where'), /^v2 · 2 of 2$/);
  assert.match(await treeFile(b, 'src/main.cpp').locator('.ver').textContent(), /v2/);

  await b.click('#tab-diff');
  await b.waitForSelector('#viewer-body table.diff');
  const added = await b.$$eval('#viewer-body tr.add .src', (tds) => tds.map((td) => td.textContent.slice(1)));
  const removed = await b.$$eval('#viewer-body tr.del .src', (tds) => tds.map((td) => td.textContent.slice(1)));
  assert.ok(added.includes('// Trace one ray per pixel.'), JSON.stringify(added));
  assert.ok(removed.includes('  std::printf("hello\\n");'), JSON.stringify(removed));
  await shot(b, 'channel-diff.png');
  await b.click('#tab-code');

  await b.click('#older');
  await b.waitForFunction(() => document.getElementById('version-where').textContent.startsWith('v1'));
  assert.equal(await b.textContent('#L4 .src'), '  std::printf("hello\\n");');
  assert.equal(await b.isDisabled('#older'), true);
  await b.click('#latest');
  await b.waitForFunction(() => document.getElementById('version-where').textContent.startsWith('v2'));
});

test('B comments on a line; A sees it live in the code view and in chat', async () => {
  await treeFile(a, 'src/main.cpp').click();
  await a.waitForFunction(() => document.querySelector('#L3 .src')?.textContent === '// Trace one ray per pixel.');
  await b.click('#L5 .ln button');
  await b.fill('#comment-text', COMMENT);
  await b.click('#comment-submit');
  const inline = 'tr.comments-row[data-line="5"] .comment-body';
  await b.waitForSelector(inline);
  await b.waitForSelector('tr.form-row', { state: 'detached' });
  for (const page of [a, b]) {
    await page.waitForSelector(inline);
    assert.equal(await page.textContent(inline), COMMENT);
    assert.equal(await page.locator('#viewer-body .comment img').count(), 0);
  }
  assert.match(await a.textContent('tr.comments-row[data-line="5"] .comment-head'), /Bob Reviewer/);
  await a.waitForSelector('#chat-messages li.system');
  assert.equal(await a.textContent('#chat-messages li.system .where'), 'src/main.cpp:5');
  assert.equal(await a.textContent('#chat-messages li.system .msg-text'), COMMENT);
  const comments = await apiAs(b, server.url, 'GET', `/channels/${A}/comments?path=src/main.cpp`);
  assert.equal(comments.body.comments.length, 1);
  assert.equal(comments.body.comments[0].line, 5);
  assert.equal(comments.body.comments[0].version, 2);
});

async function say(from, to, text) {
  await from.waitForFunction(() => !document.getElementById('chat-text').disabled);
  await from.fill('#chat-text', text);
  await from.press('#chat-text', 'Enter');
  for (const page of [from, to]) {
    await page.waitForFunction((t) => [...document.querySelectorAll('#chat-messages li.msg:not(.system) .msg-text')]
      .some((p) => p.textContent === t), text);
  }
}

test('A and B chat both ways; markup in chat stays text', async () => {
  await say(b, a, 'Nice start! Why printf rather than iostream?');
  await say(a, b, 'Habit from C :) switching now');
  await say(b, a, XSS);
  const html = await a.$$eval('#chat-messages li.msg .msg-text', (ps) => ps.map((p) => p.innerHTML));
  assert.ok(html.includes('&lt;img src=x onerror=alert(1)&gt;'));
  assert.equal(await a.locator('#chat-messages img').count(), 0);
  const names = await a.$$eval('#chat-messages li.msg:not(.system) .msg-name', (els) => els.map((e) => e.textContent));
  assert.ok(names.includes('Bob Reviewer') && names.includes('Alice'), JSON.stringify(names));
  await shot(a, 'channel-streamer.png');
  await shot(b, 'channel-reviewer.png');
  await b.emulateMedia({ colorScheme: 'dark' });
  await shot(b, 'channel-reviewer-dark.png');
  await b.emulateMedia({ colorScheme: 'light' });
});

test('the real push client syncs a directory tree created at once; B sees it appear live', async () => {
  // The project as pushed so far (start-up reconcile deletes what the directory lacks), plus a note.
  const dir = tempDir('chiron-e2e-push-');
  mkdirSync(path.join(dir, 'src'));
  writeFileSync(path.join(dir, 'src/main.cpp'), MAIN_V2);
  writeFileSync(path.join(dir, 'README.md'), README);
  writeFileSync(path.join(dir, XSS_FILE), '#pragma once\n');
  writeFileSync(path.join(dir, 'notes.txt'), 'first note\n');
  const push = spawn(CHIRON_BIN, ['push', dir, '--server', server.url, '--token', pushToken,
                                  '--log-lines', '--debounce-ms', '50'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  push.stdout.on('data', (d) => { output += d; });
  push.stderr.on('data', (d) => { output += d; });
  const exited = new Promise((resolve) => push.on('exit', (code) => resolve(code)));
  try {
    await treeFile(b, 'notes.txt').waitFor().catch((e) => { throw new Error(`${e.message}\npush output:\n${output}`); });
    mkdirSync(path.join(dir, 'scene/shapes/sphere'), { recursive: true });
    writeFileSync(path.join(dir, 'scene/shapes/sphere/sphere.cpp'), 'struct Sphere { float r; };\n');
    await treeFile(b, 'scene/shapes/sphere/sphere.cpp').waitFor();
    assert.ok(await b.locator('#tree summary[data-dir="scene/shapes"]').count() === 1, 'folders shown as a tree');
    assert.match(await treeFile(b, 'src/main.cpp').locator('.ver').textContent(), /^v2$/, 'unchanged files are not re-uploaded');
  } finally {
    push.kill('SIGINT');
    const code = await Promise.race([exited, new Promise((r) => setTimeout(() => r('timeout'), 10000))]);
    if (code === 'timeout') push.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an anonymous visitor reads the channel but cannot chat or comment', async () => {
  const anon = await newUser(browser, problems);
  await open(anon, `${server.url}/c/${A}`);
  await treeFile(anon, 'src/main.cpp').click();
  await anon.waitForSelector('#L5');
  assert.equal(await anon.isVisible('#chat-hint'), true);
  assert.equal(await anon.isVisible('#chat-composer'), false);
  await anon.click('#L5 .ln button');
  await anon.waitForSelector('.toast a[href^="/login"]');
  assert.equal(await anon.locator('#comment-text').count(), 0);
  await anon.waitForFunction(() => document.getElementById('anon-count').textContent.includes('anonymous'));
  await anon.context().close();
});

let sessionId;
test('A ends the session and rates B on the session page', async () => {
  await a.click('#end-session');
  await a.waitForFunction(() => document.getElementById('live-pill').textContent === 'offline');
  await a.waitForSelector('#rate-link');
  sessionId = (await a.getAttribute('#rate-link', 'href')).split('/').pop();
  await b.waitForFunction(() => document.getElementById('live-pill').textContent === 'offline');
  await a.click('#rate-link');
  await a.waitForURL(/\/s\//);
  await a.waitForSelector('body[data-ready]', { state: 'attached' });
  await a.waitForSelector(`form[data-reviewer="${B}"]`);
  assert.equal(await a.textContent('#stat-participants'), '1');
  assert.equal(await a.textContent('#stat-comments'), '1');
  assert.ok(Number(await a.textContent('#stat-chat')) >= 3);
  assert.ok(Number(await a.textContent('#stat-files')) >= 2);
  const form = a.locator(`form[data-reviewer="${B}"]`);
  // Saving without all five criteria explains what is missing.
  await form.locator('button[type=submit]').click();
  await form.locator('.error').waitFor();
  assert.match(await form.locator('.error').textContent(), /Technical expertise/);
  const scores = { expertise: 5, helpfulness: 4, clarity: 4, examples: 3, timeliness: 5 };
  for (const [key, v] of Object.entries(scores)) await form.locator(`label[for="r-${B}-${key}-${v}"]`).click();
  await form.locator('textarea').fill(`Great eye for loops ${XSS}`);
  await form.locator('button[type=submit]').click();
  await a.waitForFunction((bn) => document.querySelector(`form[data-reviewer="${bn}"] button[type=submit]`)?.textContent === 'Update rating', B);
  await a.waitForFunction(() => document.getElementById('stat-ratings').textContent === '1');
  const saved = await apiAs(a, server.url, 'GET', `/sessions/${sessionId}/ratings`);
  assert.equal(saved.body.ratings.length, 1);
  assert.equal(saved.body.ratings[0].expertise, 5);
  assert.equal(saved.body.ratings[0].examples, 3);
  assert.equal(saved.body.ratings[0].overall, 4.2);
  await shot(a, 'session-rating.png');
});

test("B's profile shows the aggregates and the monthly chart", async () => {
  await open(b, `${server.url}/u/${B}`);
  await b.waitForSelector('#chart .uplot canvas');
  assert.equal(await b.textContent('#p-name'), 'Bob Reviewer');
  assert.equal(await b.textContent('#p-overall'), '4.20');
  assert.equal(await b.textContent('#criteria [data-criterion="examples"] .num'), '3.0');
  assert.equal(await b.textContent('#recent .review-quote'), `Great eye for loops ${XSS}`);
  const legend = await b.$$eval('#chart .u-legend .u-label', (els) => els.map((e) => e.textContent));
  for (const l of ['Overall', 'Technical expertise', 'Timeliness']) assert.ok(legend.includes(l), JSON.stringify(legend));
  assert.equal(await b.locator('#monthly-table tbody tr').count(), 1);
  await shot(b, 'profile.png');
  await open(b, `${server.url}/s/${sessionId}`);
  await b.waitForSelector('#ratings-section:not([hidden]) .review-quote');
  assert.equal(await b.isVisible('#rate-section'), false, 'only the streamer rates');
});

test('home lists the recent session and the top reviewer', async () => {
  await open(b, `${server.url}/`);
  await b.waitForSelector('#recent-list li');
  await b.waitForSelector(`#top-list a[href="/u/${B}"]`);
  assert.equal(await b.isVisible('#live-empty'), true, 'nobody live');
  await b.waitForFunction(() => document.getElementById('server-status').textContent === 'online');
  await shot(b, 'home.png');
});

test('a private channel is invisible to others until they are invited', async () => {
  await open(a, `${server.url}/settings`);
  await a.check('#private');
  await a.click('#save-channel');
  await a.waitForFunction(() => document.getElementById('channel-saved').textContent.includes('Saved'));
  await open(a, `${server.url}/c/${A}`);
  await a.click('#start-session');
  await a.waitForFunction(() => document.getElementById('live-pill').textContent === 'LIVE');
  assert.equal(await a.isVisible('#ch-private'), true);

  await open(b, `${server.url}/c/${A}`);
  await b.waitForSelector('#channel-error:not([hidden])');
  assert.match(await b.textContent('#channel-error'), /private/);
  assert.equal(await b.isVisible('#channel'), false);
  await open(b, `${server.url}/`);
  await b.waitForFunction(() => !document.getElementById('live-empty').hidden);
  assert.equal(await b.locator(`#live-list a[href="/c/${A}"]`).count(), 0);
  const files = await apiAs(b, server.url, 'GET', `/channels/${A}/files`);
  assert.equal(files.status, 404);
  const home = await apiAs(b, server.url, 'GET', '/home');
  assert.deepEqual(home.body.recent_sessions.filter((s) => s.channel === A), [], 'no sessions of a private channel');
  assert.equal(await b.locator(`#recent-list a[href^="/s/"]`).count(), 0);

  await open(a, `${server.url}/settings`);
  await a.fill('#invite-name', B);
  await a.click('#invite-form button[type=submit]');
  await a.waitForSelector(`#invites li[data-user="${B}"]`);
  await shot(a, 'settings.png');
  await open(b, `${server.url}/c/${A}`);
  await b.waitForFunction(() => document.getElementById('live-pill').textContent === 'LIVE');
  await treeFile(b, 'src/main.cpp').waitFor();
  await open(b, `${server.url}/`);
  await b.waitForSelector(`#live-list a[href="/c/${A}"]`);
  await shot(b, 'home-live.png');
});

test('login form: wrong password is explained, the right one gets in', async () => {
  const c = await newUser(browser, problems, { viewport: { width: 900, height: 700 } });
  await open(c, `${server.url}/login?next=/u/${B}`);
  await c.fill('#name', A);
  await c.fill('#password', 'not the password');
  await c.click('#auth-submit');
  await c.waitForSelector('#auth-error:not([hidden])');
  assert.match(await c.textContent('#auth-error'), /Wrong name or password/);
  await shot(c, 'login.png');
  await c.fill('#password', PASSWORD);
  await Promise.all([c.waitForURL(new RegExp(`/u/${B}$`)), c.click('#auth-submit')]);
  await c.waitForSelector('#account[data-user="alice"]');
  await c.context().close();
});

test('no page errors and no dialogs (markup never ran)', () => {
  assert.deepEqual(problems, []);
});
