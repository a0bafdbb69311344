// Browser-test helpers for the platform pages (web/*.html): one browser context per user, sign
// up through the real form, the JSON API with the context's cookie + CSRF header, and the files
// API with a push token (what `chiron push` uses).
import assert from 'node:assert/strict';
import { httpJson } from './chiron.mjs';

export const STEP_MS = 15000;

// A fresh context (own cookies) and page; page errors, console errors and dialogs are collected
// into `problems` (XSS payloads would open dialogs).
export async function newUser(browser, problems, { viewport = { width: 1360, height: 900 } } = {}) {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  page.setDefaultTimeout(STEP_MS);
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    // A refused WebSocket or a 4xx the page handles is logged by Chromium itself; those are expected.
    if (m.type() === 'error' && !/Failed to load resource|WebSocket connection/.test(m.text())) problems.push(`console: ${m.text()}`);
  });
  page.on('dialog', (d) => {
    if (d.type() === 'confirm') { d.accept().catch(() => {}); return; }
    problems.push(`dialog: ${d.message()}`);
    d.dismiss().catch(() => {});
  });
  return page;
}

// Navigates and waits for the page's first render (the page scripts set body[data-ready]).
export async function open(page, url) {
  await page.goto(url);
  await page.waitForSelector('body[data-ready]', { state: 'attached' });
}

// Signs up through /signup; resolves once the browser left the form (→ /settings).
export async function signupInBrowser(page, baseUrl, name, password, displayName = '') {
  await open(page, `${baseUrl}/signup`);
  await page.fill('#name', name);
  if (displayName) await page.fill('#display_name', displayName);
  await page.fill('#password', password);
  await Promise.all([page.waitForURL(/\/settings/), page.click('#auth-submit')]);
  await page.waitForSelector('body[data-ready]', { state: 'attached' });
}

// Signs up through the API in the page's context (its cookie jar gets the session).
export async function signupApi(page, baseUrl, name, password, displayName = '') {
  const res = await page.request.post(`${baseUrl}/api/v1/auth/signup`, {
    headers: { 'Content-Type': 'application/json' },
    data: JSON.stringify({ name, password, ...(displayName ? { display_name: displayName } : {}) }),
  });
  assert.equal(res.status(), 201, await res.text());
  return res.json();
}

// The JSON API as the page's logged-in user (cookie from the context, CSRF from /api/v1/me).
export async function apiAs(page, baseUrl, method, path, body) {
  const me = await page.request.get(`${baseUrl}/api/v1/me`);
  const csrf = me.ok() ? (await me.json()).csrf : '';
  const res = await page.request.fetch(`${baseUrl}/api/v1${path}`, {
    method, headers: { 'X-CSRF-Token': csrf, ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}) },
    data: body !== undefined ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  let parsed = text;
  try { parsed = JSON.parse(text); } catch { /* not JSON */ }
  return { status: res.status(), body: parsed };
}

// PUT one file as the push client does (Authorization: Bearer <push token>).
export async function putFile(baseUrl, channel, token, path, content) {
  const url = `${baseUrl}/api/v1/channels/${channel}/files/${path.split('/').map(encodeURIComponent).join('/')}`;
  const res = await httpJson(url, { method: 'PUT', token, rawBody: content });
  assert.ok(res.status === 200 || res.status === 201, `PUT ${path}: ${res.status} ${res.text}`);
  return res.body;
}

export async function deleteFile(baseUrl, channel, token, path) {
  const url = `${baseUrl}/api/v1/channels/${channel}/files/${path.split('/').map(encodeURIComponent).join('/')}`;
  const res = await httpJson(url, { method: 'DELETE', token });
  assert.equal(res.status, 200, `DELETE ${path}: ${res.text}`);
}

// The tree button of a file (matched on data-path, so any characters work).
export const treeFile = (page, path) => page.locator(`#tree .file[data-path="${path.replace(/["\\]/g, '\\$&')}"]`);
