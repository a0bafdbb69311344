// The platform pages' edges in a real browser: form errors, redirects, secret rotation, comment
// deletion seen live, a comment pinned to its version while new saves arrive, unknown pages,
// and the channel page on a phone-sized screen.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launchChromium, saveScreenshot } from '../lib/browser.mjs';
import { startServe, httpJson } from '../lib/chiron.mjs';
import { newUser, open, signupApi, apiAs, putFile, treeFile } from '../lib/platform.mjs';

const PASSWORD = 'long enough password';
let server, browser, owner, reviewer, token;
const problems = [];

before(async () => {
  server = await startServe(['--ns', 'off']);
  browser = await launchChromium();
  owner = await newUser(browser, problems);
  reviewer = await newUser(browser, problems);
  await signupApi(owner, server.url, 'carol', PASSWORD, 'Carol');
  await signupApi(reviewer, server.url, 'dave', PASSWORD, 'Dave');
  token = (await apiAs(owner, server.url, 'GET', '/channels/carol/secrets')).body.push_token;
  await putFile(server.url, 'carol', token, 'app.py', 'def main():\n    print("hi")\n\nmain()\n');
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

test('signup explains bad names, short passwords and taken names', async () => {
  const page = await newUser(browser, problems);
  await open(page, `${server.url}/signup`);
  await page.fill('#name', 'Bad Name!');
  await page.fill('#password', PASSWORD);
  await page.click('#auth-submit');
  assert.match(await page.textContent('#auth-error'), /lowercase letters, digits/);
  assert.equal(await page.getAttribute('#name', 'aria-invalid'), 'true');
  await page.fill('#name', 'erin');
  await page.fill('#password', 'short');
  await page.click('#auth-submit');
  assert.match(await page.textContent('#auth-error'), /at least 8 characters/);
  await page.fill('#name', 'carol');
  await page.fill('#password', PASSWORD);
  await page.click('#auth-submit');
  await page.waitForFunction(() => /taken/.test(document.getElementById('auth-error').textContent));
  assert.equal(new URL(page.url()).pathname, '/signup');
  await page.context().close();
});

test('settings sends an anonymous visitor to the login form and back', async () => {
  const page = await newUser(browser, problems);
  await page.goto(`${server.url}/settings`);
  await page.waitForURL(/\/login\?next=%2Fsettings$/);
  await page.waitForSelector('body[data-ready]', { state: 'attached' });
  await page.fill('#name', 'dave');
  await page.fill('#password', PASSWORD);
  await Promise.all([page.waitForURL(/\/settings$/), page.click('#auth-submit')]);
  await page.waitForSelector('body[data-ready]', { state: 'attached' });
  assert.equal(await page.isVisible('#settings'), true);
  await page.context().close();
});

test('rotating the push token shows the new one and retires the old one', async () => {
  await open(owner, `${server.url}/settings`);
  await owner.click('[data-reveal="push-token"]');
  await owner.waitForFunction(() => document.getElementById('push-token').type === 'text');
  assert.equal(await owner.inputValue('#push-token'), token);
  await owner.click('[data-rotate="push_token"]');  // the confirm() is accepted by newUser
  await owner.waitForFunction((old) => document.getElementById('push-token').value !== old, token);
  const fresh = await owner.inputValue('#push-token');
  assert.match(await owner.textContent('#push-cmd'), new RegExp(`--token ${fresh}$`));
  const refused = await httpJson(`${server.url}/api/v1/channels/carol/files/x.txt`, { method: 'PUT', token, rawBody: 'x' });
  assert.equal(refused.status, 401, refused.text);
  token = fresh;
  await putFile(server.url, 'carol', token, 'x.txt', 'x');
});

test('a comment being written keeps its version while new saves arrive; deleting it is seen live', async () => {
  await open(owner, `${server.url}/c/carol#file=app.py`);
  await open(reviewer, `${server.url}/c/carol#file=app.py`);
  for (const p of [owner, reviewer]) await p.waitForSelector('#L4');
  await reviewer.click('#L2 .ln button');
  await reviewer.fill('#comment-text', 'print() is fine for a demo');
  await putFile(server.url, 'carol', token, 'app.py', 'def main():\n    print("hello")\n\nmain()\n');
  await reviewer.waitForFunction(() => !document.getElementById('newer').disabled);
  assert.match(await reviewer.textContent('#version-where'), /^v1 /, 'the view stays on the commented version');
  await reviewer.click('#comment-submit');
  await owner.waitForSelector('.comment[data-comment-id]');
  const listed = await apiAs(reviewer, server.url, 'GET', '/channels/carol/comments?path=app.py');
  assert.equal(listed.body.comments[0].version, 1);
  // The owner follows saves: at v2 the v1 comment is shown with its version noted.
  assert.match(await owner.textContent('#version-where'), /^v2 /);
  assert.equal(await owner.textContent('.comment .tag'), 'on v1');
  await reviewer.click('.comment button[aria-label="Delete comment"]');
  await owner.waitForSelector('.comment', { state: 'detached' });
  await reviewer.waitForSelector('.comment', { state: 'detached' });
});

test('line numbers are one tab stop; arrows move between them and Enter opens the comment box', async () => {
  await open(reviewer, `${server.url}/c/carol#file=app.py`);
  await reviewer.waitForSelector('#L4');
  assert.deepEqual(await reviewer.$$eval('#viewer-body .ln button', (bs) => bs.map((b) => b.tabIndex)), [0, -1, -1, -1]);
  await reviewer.focus('#L1 .ln button');
  await reviewer.keyboard.press('ArrowDown');
  await reviewer.keyboard.press('ArrowDown');
  assert.equal(await reviewer.evaluate(() => document.activeElement.dataset.line), '3');
  await reviewer.keyboard.press('End');
  assert.equal(await reviewer.evaluate(() => document.activeElement.dataset.line), '4');
  await reviewer.keyboard.press('Enter');
  await reviewer.waitForSelector('tr.form-row[data-line="4"] #comment-text');
  assert.equal(await reviewer.evaluate(() => document.activeElement.id), 'comment-text');
  await reviewer.keyboard.press('Escape');
  await reviewer.waitForSelector('tr.form-row', { state: 'detached' });
  assert.equal(await reviewer.evaluate(() => document.activeElement.dataset.line), '4', 'focus returns to the line');
});

test('unknown channels, sessions and users say so', async () => {
  await open(reviewer, `${server.url}/c/nobody-here`);
  assert.match(await reviewer.textContent('#channel-error'), /no channel "nobody-here"/);
  await open(reviewer, `${server.url}/s/999999`);
  assert.match(await reviewer.textContent('#session-error'), /no such session/);
  await open(reviewer, `${server.url}/u/nobody-here`);
  assert.match(await reviewer.textContent('#profile-error'), /no user "nobody-here"/);
});

test('the channel page fits a phone screen', async () => {
  const phone = await newUser(browser, problems, { viewport: { width: 390, height: 844 } });
  await open(phone, `${server.url}/c/carol#file=app.py`);
  await phone.waitForSelector('#L4');
  const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(overflow <= 0, `page scrolls sideways by ${overflow}px`);
  await saveScreenshot(phone, 'channel-phone.png', { docs: true, docsDir: 'docs/screenshots', fullPage: true });
  await phone.context().close();
});

test('no page errors and no dialogs', () => {
  assert.deepEqual(problems, []);
});
