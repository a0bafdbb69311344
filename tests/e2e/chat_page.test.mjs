// The chat page (web/chat/, served at /chat/ by `chiron serve`) in a real browser: two browser
// contexts (two anonymous users) in one room, a message from one shown in the other with the
// right author, user text rendered as text (never HTML), and the member count from "presence".
// Steps share the pages and run in order.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launchChromium, saveScreenshot } from '../lib/browser.mjs';
import { startServe, runChiron } from '../lib/chiron.mjs';

const ROOM = 'e2e-room';
const STEP_MS = 10000;
const XSS = '<img src=x onerror=alert(1)>';
const SECRET = 'e2e-chat-secret';

let server, browser;
const pages = [];
const errors = [];
const dialogs = [];

async function mintToken(...args) {
  const { code, stdout, stderr } = await runChiron(['chat', 'token', '--secret', SECRET, ...args]);
  assert.equal(code, 0, stderr);
  return stdout.trim();
}

async function openChat(token = '') {
  const context = await browser.newContext({ viewport: { width: 1180, height: 760 } });
  const page = await context.newPage();
  page.setDefaultTimeout(STEP_MS);
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('dialog', (d) => { dialogs.push(d.message()); d.dismiss().catch(() => {}); });
  await page.goto(`${server.url}/chat/?room=${ROOM}${token ? `#token=${token}` : ''}`);
  return page;
}

// The user id the server gave this page, learned from its own echoed message.
const myUser = (page) => page.$eval('#messages li.msg.mine', (li) => li.dataset.user);

async function post(page, text) {
  await page.fill('#composer-text', text);
  await page.press('#composer-text', 'Enter');
  await page.waitForFunction((t) => [...document.querySelectorAll('#messages li.msg.mine .msg-text')]
    .some((p) => p.textContent === t), text);
}

async function waitForMessage(page, text) {
  await page.waitForFunction((t) => [...document.querySelectorAll('#messages li.msg .msg-text')]
    .some((p) => p.textContent === t), text);
  return page.$$eval('#messages li.msg', (lis, t) => {
    const li = lis.find((x) => x.querySelector('.msg-text').textContent === t);
    return { user: li.dataset.user, name: li.querySelector('.msg-name').textContent,
             html: li.querySelector('.msg-text').innerHTML };
  }, text);
}

before(async () => {
  server = await startServe(['--chat-anonymous', '--chat-secret', SECRET, '--ns', 'off']);
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

test('two users open the room and get connected', async () => {
  pages.push(await openChat(), await openChat());
  for (const page of pages) {
    assert.match(await page.title(), new RegExp(`#${ROOM}`));
    await page.waitForFunction(() => document.getElementById('conn-status').dataset.state === 'connected');
    await page.waitForFunction(() => !document.getElementById('composer-text').disabled);
    assert.equal(await page.textContent('#room-name'), ROOM);
    assert.match(await page.textContent('#identity'), /Anonymous/);
  }
});

test('a message posted in one context appears in the other with its author', async () => {
  const [a, b] = pages;
  await post(a, 'hello from A');
  const userA = await myUser(a);
  assert.match(userA, /^anon-/);
  const seen = await waitForMessage(b, 'hello from A');
  assert.equal(seen.user, userA);
  assert.equal(seen.name, userA, 'an anonymous user is shown by its id');
  assert.equal(await b.$$eval('#messages li.msg.mine', (l) => l.length), 0, "A's message is not B's");

  await post(b, 'hi A, B here');
  const reply = await waitForMessage(a, 'hi A, B here');
  assert.equal(reply.user, await myUser(b));
  assert.notEqual(reply.user, userA);
});

test('user text is rendered as text, never as HTML', async () => {
  const [a, b] = pages;
  await post(a, XSS);
  for (const page of pages) {
    const seen = await waitForMessage(page, XSS);
    assert.equal(seen.html, '&lt;img src=x onerror=alert(1)&gt;');
    assert.equal(await page.$$eval('#messages img', (imgs) => imgs.length), 0, 'no <img> element created');
  }
  // Give a would-be onerror handler time to fire before asserting no dialog opened.
  await b.waitForTimeout(300);
  assert.deepEqual(dialogs, []);
});

test('the member list counts both users (presence)', async () => {
  for (const page of pages) {
    await page.waitForFunction(() => document.getElementById('member-count').textContent === '2');
    const users = await page.$$eval('#member-list li', (lis) => lis.map((li) => li.dataset.user));
    assert.equal(users.length, 2);
  }
});

test('a moderator signs in with a token, deletes a message and mutes a user', async () => {
  const [a, b] = pages;
  const mod = await openChat(await mintToken('--user', 'mod1', '--name', 'Moderator', '--mod', ROOM));
  pages.push(mod);
  await mod.waitForFunction(() => !document.getElementById('composer-text').disabled);
  assert.equal(new URL(mod.url()).hash, '', 'the token leaves the address bar');
  assert.match(await mod.textContent('#identity'), /Signed in as Moderator \(@mod1\) · moderator/);
  assert.equal(await mod.isVisible('#mod-card'), true);
  await mod.waitForFunction(() => document.getElementById('member-count').textContent === '3');

  await post(a, 'please delete me');
  await waitForMessage(mod, 'please delete me');
  const seq = await mod.$$eval('#messages li.msg', (lis) =>
    lis.find((li) => li.querySelector('.msg-text').textContent === 'please delete me').dataset.seq);
  await mod.click(`#messages li.msg[data-seq="${seq}"] .msg-delete`);
  for (const page of [a, b, mod]) {
    await page.waitForFunction((s) => document.querySelector(`#messages li.msg[data-seq="${s}"]`)
      ?.classList.contains('deleted'), seq);
    assert.equal(await page.textContent(`#messages li.msg[data-seq="${seq}"] .msg-text`), 'message deleted');
  }

  const userB = await myUser(b);
  await mod.click(`#member-list li[data-user="${userB}"] summary`);
  await mod.click(`#member-list li[data-user="${userB}"] .menu button:text("Mute 5 min")`);
  await b.waitForFunction(() => /muted until/.test(document.getElementById('composer-error').textContent));
  await a.waitForFunction((u) => [...document.querySelectorAll('#messages li.notice')]
    .some((n) => n.textContent.startsWith(`${u} was muted until`)), userB);
  await b.fill('#composer-text', 'can I still talk?');
  await b.press('#composer-text', 'Enter');
  await b.waitForFunction(() => !document.getElementById('composer-error').hidden &&
    !/muted until/.test(document.getElementById('composer-error').textContent));
});

test('a read-only token gets a disabled composer; a bad token is refused', async () => {
  const viewer = await openChat(await mintToken('--user', 'viewer', '--read-only'));
  await viewer.waitForFunction(() => document.getElementById('conn-status').dataset.state === 'connected');
  await viewer.waitForFunction(() => /read-only/.test(document.getElementById('identity').textContent));
  assert.equal(await viewer.isDisabled('#composer-text'), true);
  assert.equal(await viewer.isDisabled('#composer-send'), true);
  await viewer.context().close();

  const forged = await openChat(`${await mintToken('--user', 'x')}x`);
  await forged.waitForFunction(() => document.getElementById('conn-status').dataset.state === 'refused');
  assert.equal(await forged.isDisabled('#composer-text'), true);
  await forged.context().close();
});

test('screenshot of the chat page', async () => {
  const page = pages[2];  // the moderator's view: controls, tombstone, moderation notice
  const tip = 'Tokens come from `chiron chat token --secret S --user alice --mod lobby`';
  await post(pages[0], tip);
  await waitForMessage(page, tip);
  await page.locator('#messages li.msg').last().hover();
  await saveScreenshot(page, 'chat-page.png', { docs: true });
  assert.deepEqual(errors, []);
});
