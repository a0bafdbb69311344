// `chiron serve` as users and operators see it: real process, real HTTP on 127.0.0.1.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startServe, runChiron } from '../lib/chiron.mjs';

let server;
before(async () => { server = await startServe(); });
after(async () => { await server?.stop(); });

test('health endpoint reports status, version and uptime', async () => {
  const res = await fetch(`${server.url}/api/v1/health`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type'), /^application\/json/);
  const body = await res.json();
  assert.equal(body.status, 'ok');
  assert.match(body.version, /^\d+\.\d+\.\d+/);
  assert.equal(typeof body.uptime_s, 'number');
  assert.ok(body.uptime_s >= 0 && body.uptime_s < 600);
});

test('uptime grows between two health checks', async () => {
  const a = await (await fetch(`${server.url}/api/v1/health`)).json();
  await new Promise((r) => setTimeout(r, 50));
  const b = await (await fetch(`${server.url}/api/v1/health`)).json();
  assert.ok(b.uptime_s > a.uptime_s);
});

test('start page is served from web/ as HTML', async () => {
  const res = await fetch(`${server.url}/`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type'), /^text\/html/);
  const html = await res.text();
  assert.match(html, /<title>Chiron/);
});

test('static assets carry their MIME types and ETags', async () => {
  const css = await fetch(`${server.url}/css/app.css`);
  assert.equal(css.status, 200);
  assert.match(css.headers.get('content-type'), /^text\/css/);
  const js = await fetch(`${server.url}/js/app.js`);
  assert.match(js.headers.get('content-type'), /javascript/);
  const etag = js.headers.get('etag');
  assert.ok(etag, 'ETag present');
  const again = await fetch(`${server.url}/js/app.js`, { headers: { 'If-None-Match': etag } });
  assert.equal(again.status, 304);
});

test('unknown API paths get a JSON error', async () => {
  const res = await fetch(`${server.url}/api/v1/no-such-thing`);
  assert.equal(res.status, 404);
  const body = await res.json();
  assert.equal(typeof body.error.code, 'string');
  assert.equal(typeof body.error.message, 'string');
});

test('path traversal outside web/ is refused', async () => {
  const raw = await new Promise((resolve, reject) => {
    const [host, port] = server.listeners.http.split(':');
    const sock = net.connect(Number(port), host, () => {
      sock.write('GET /../../../../etc/passwd HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    });
    let data = '';
    sock.on('data', (d) => { data += d; });
    sock.on('end', () => resolve(data));
    sock.on('error', reject);
  });
  assert.doesNotMatch(raw, /root:/);
  assert.match(raw, /^HTTP\/1\.1 (400|403|404)/);
});

test('keep-alive connection serves several requests', async () => {
  const [host, port] = server.listeners.http.split(':');
  const raw = await new Promise((resolve, reject) => {
    const sock = net.connect(Number(port), host, () => {
      sock.write('GET /api/v1/health HTTP/1.1\r\nHost: x\r\n\r\nGET /api/v1/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    });
    let data = '';
    sock.on('data', (d) => { data += d; });
    sock.on('end', () => resolve(data));
    sock.on('error', reject);
  });
  assert.equal(raw.match(/HTTP\/1\.1 200/g)?.length, 2);
});

test('SIGINT stops the server cleanly with exit code 0', async () => {
  const s = await startServe();
  const { code, signal } = await s.stop('SIGINT');
  assert.equal(signal, null);
  assert.equal(code, 0);
});

test('an address already in use is a clear error', async () => {
  const blocker = net.createServer().listen(0, '127.0.0.1');
  await new Promise((r) => blocker.on('listening', r));
  const port = blocker.address().port;
  const { code, stderr } = await runChiron(['serve', '--http', `127.0.0.1:${port}`, '--rtmp', '127.0.0.1:0']);
  blocker.close();
  assert.equal(code, 1);
  assert.match(stderr, /in use|address/i);
});

test('a malformed --http is rejected before starting', async () => {
  const { code, stderr } = await runChiron(['serve', '--http', 'not-an-address']);
  assert.equal(code, 2);
  assert.match(stderr, /host:port/);
});
