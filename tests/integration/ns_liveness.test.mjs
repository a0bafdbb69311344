// `chiron ns` liveness: leases (pending → up → down "lease expired" → deregistered), the panic
// guard, and active TCP/HTTP checks against node servers on 127.0.0.1 (resumed after restart).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import http from 'node:http';
import { rmSync } from 'node:fs';
import { startNs, startNsAt, tempDir, RespClient, httpJson, waitFor } from '../lib/chiron.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function getServer(ns, svc, id) {
  const res = await httpJson(`${ns.url}/api/v1/services/${svc}`);
  if (res.status !== 200) return null;
  return res.body.servers.find((s) => s.id === id) ?? null;
}

describe('leases (--lease-ttl 1 --deregister-after 2)', () => {
  let ns, c;
  before(async () => {
    ns = await startNs(['--lease-ttl', '1', '--deregister-after', '2']);
    c = await RespClient.connect(ns.listeners.ns);
  });
  after(async () => { c?.close(); if (ns) await ns.stop('SIGKILL'); });

  test('up on HB, down "lease expired" ~2 s after the last HB, back up on HB, removed after deregister-after', { timeout: 30000 }, async () => {
    const id = '10.0.0.1:80';
    assert.equal(await c.send('REG', 'lease', id), 'OK');
    assert.equal((await getServer(ns, 'lease', id)).health, 'pending');
    assert.equal(await c.send('HB', 'lease', id), 'OK');
    let srv = await getServer(ns, 'lease', id);
    assert.equal(srv.health, 'up');
    assert.equal(typeof srv.lease_expires_in_ms, 'number');
    assert.ok(srv.lease_expires_in_ms > 0 && srv.lease_expires_in_ms <= 1000, JSON.stringify(srv));
    assert.equal(await c.send('REQ', 'lease'), id);

    let t0 = Date.now();
    srv = await waitFor(async () => { const s = await getServer(ns, 'lease', id); return s?.health === 'down' && s; },
                        { timeoutMs: 4000, intervalMs: 100, what: 'lease expiry' });
    const downMs = Date.now() - t0;
    assert.ok(downMs >= 800, `down after only ${downMs} ms with a 1 s lease`);
    assert.equal(srv.health_detail, 'lease expired');
    assert.equal(srv.eligible, false);
    assert.match((await c.send('REQ', 'lease'))?.error ?? '', /no (eligible )?server/);

    assert.equal(await c.send('HB', 'lease', id), 'OK');
    assert.equal((await getServer(ns, 'lease', id)).health, 'up');
    assert.equal(await c.send('REQ', 'lease'), id);

    t0 = Date.now();
    await waitFor(async () => (await getServer(ns, 'lease', id)) === null, { timeoutMs: 8000, intervalMs: 100, what: 'deregistration' });
    const goneMs = Date.now() - t0;
    assert.ok(goneMs >= 2800, `removed after only ${goneMs} ms (lease 1 s + deregister-after 2 s)`);
    assert.ok(goneMs <= 6500, `removed after ${goneMs} ms`);
    assert.deepEqual(await c.send('LIST', 'lease'), []);
  });

  test('a server that never heartbeats is deregistered while pending', { timeout: 20000 }, async () => {
    assert.equal(await c.send('REG', 'never', '10.0.0.2:80'), 'OK');
    await waitFor(async () => (await getServer(ns, 'never', '10.0.0.2:80')) === null, { timeoutMs: 8000, intervalMs: 100, what: 'pending deregistration' });
  });

  test('panic guard: six silent servers leave over several sweeps, at most half of the pool per sweep', { timeout: 40000 }, async () => {
    const ids = [1, 2, 3, 4, 5, 6].map((i) => `10.0.1.${i}:80`);
    for (const id of ids) assert.equal(await c.send('REG', 'panic', id), 'OK');
    for (const id of ids) assert.equal(await c.send('HB', 'panic', id), 'OK');
    const samples = [];  // {t, n, panic}
    let sawPanic = false;
    const deadline = Date.now() + 25000;
    for (;;) {
      const res = await httpJson(`${ns.url}/api/v1/services/panic`);
      assert.equal(res.status, 200, 'the service outlives its last server');
      const n = res.body.servers.length;
      sawPanic ||= res.body.panic === true;
      samples.push({ t: Date.now(), n, panic: res.body.panic });
      if (n === 0) break;
      assert.ok(Date.now() < deadline, `still ${n} servers: ${JSON.stringify(samples.slice(-5))}`);
      await sleep(100);
    }
    // Between two polls less than one sweep interval apart at most one sweep ran.
    let steps = 0;
    for (let i = 1; i < samples.length; i++) {
      const a = samples[i - 1], b = samples[i];
      if (b.n === a.n) continue;
      steps++;
      if (b.t - a.t >= 900) continue;  // the poll stalled across two sweeps: no verdict
      assert.ok(a.n - b.n <= Math.max(1, Math.floor(a.n / 2)),
                `one sweep removed ${a.n - b.n} of ${a.n}: ${JSON.stringify(samples.map((s) => s.n))}`);
    }
    assert.ok(steps >= 3, `six servers left in ${steps} steps: ${JSON.stringify(samples.map((s) => s.n))}`);
    assert.ok(sawPanic, 'the service reported panic:true while deregistrations were held back');
    assert.match(ns.stderr(), /panic guard/);
  });
});

// A node TCP server on 127.0.0.1 that can be closed and reopened on the same port.
function tcpTarget(port = 0) {
  return new Promise((resolve, reject) => {
    const sockets = new Set();
    const srv = net.createServer((s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); s.on('error', () => {}); s.end(); });
    srv.once('error', reject);
    srv.listen(port, '127.0.0.1', () => resolve({
      port: srv.address().port,
      close: () => new Promise((r) => { for (const s of sockets) s.destroy(); srv.close(() => r()); }),
    }));
  });
}

describe('active checks', () => {
  const data = tempDir('chiron-ns-hc-');
  let ns, tcp, web, webStatus = 200;
  before(async () => { ns = await startNsAt(data, ['--deregister-after', '60']); });
  after(async () => {
    if (ns) await ns.stop('SIGKILL');
    await tcp?.close();
    if (web) { web.closeAllConnections(); await new Promise((r) => web.close(r)); }
    rmSync(data, { recursive: true, force: true });
  });

  const health = async (svc, id) => (await getServer(ns, svc, id))?.health;

  test('tcp check: pending, up without any HB, down with a detail when the target closes', { timeout: 20000 }, async () => {
    tcp = await tcpTarget();
    const id = `127.0.0.1:${tcp.port}`;
    const check = { type: 'tcp', interval_ms: 200, timeout_ms: 200, rise: 2, fall: 2 };
    const res = await httpJson(`${ns.url}/api/v1/services/hc/servers`, { method: 'POST', body: { id, check } });
    assert.equal(res.status, 201, res.text);
    assert.equal(res.body.health, 'pending');
    assert.equal(res.body.lease_expires_in_ms, null);
    assert.equal(res.body.check.type, 'tcp');
    assert.equal(res.body.check.rise, 2);
    assert.match((await nsReq(ns, 'hc'))?.error ?? '', /no (eligible )?server/);
    await waitFor(async () => (await health('hc', id)) === 'up', { timeoutMs: 3000, intervalMs: 50, what: 'tcp check up' });
    const up = await getServer(ns, 'hc', id);
    assert.equal(up.health_detail, 'TCP connect ok');
    assert.equal(await nsReq(ns, 'hc'), id);

    await tcp.close();
    const down = await waitFor(async () => { const s = await getServer(ns, 'hc', id); return s?.health === 'down' && s; },
                               { timeoutMs: 3000, intervalMs: 50, what: 'tcp check down' });
    assert.ok(down.health_detail.length > 0 && down.health_detail !== 'TCP connect ok', down.health_detail);
    tcp = await tcpTarget(tcp.port);
    await waitFor(async () => (await health('hc', id)) === 'up', { timeoutMs: 3000, intervalMs: 50, what: 'tcp check up again' });
  });

  test('http check: up on 200, down with "HTTP 503"', { timeout: 20000 }, async () => {
    web = http.createServer((req, res) => { res.statusCode = req.url === '/health' ? webStatus : 404; res.end('x'); });
    await new Promise((r) => web.listen(0, '127.0.0.1', r));
    const id = `127.0.0.1:${web.address().port}`;
    const check = { type: 'http', path: '/health', interval_ms: 200, timeout_ms: 200, rise: 2, fall: 2 };
    const res = await httpJson(`${ns.url}/api/v1/services/hcweb/servers`, { method: 'POST', body: { id, check } });
    assert.equal(res.status, 201, res.text);
    assert.equal(res.body.health, 'pending');
    await waitFor(async () => (await health('hcweb', id)) === 'up', { timeoutMs: 3000, intervalMs: 50, what: 'http check up' });
    assert.equal((await getServer(ns, 'hcweb', id)).health_detail, 'HTTP 200');
    webStatus = 503;
    const down = await waitFor(async () => { const s = await getServer(ns, 'hcweb', id); return s?.health === 'down' && s; },
                               { timeoutMs: 3000, intervalMs: 50, what: 'http check down' });
    assert.equal(down.health_detail, 'HTTP 503');
    webStatus = 200;
    await waitFor(async () => (await health('hcweb', id)) === 'up', { timeoutMs: 3000, intervalMs: 50, what: 'http check up again' });
  });

  test('after a restart on the same --data the checks resume', { timeout: 30000 }, async () => {
    const id = `127.0.0.1:${tcp.port}`;
    await ns.stop('SIGINT');
    await tcp.close();  // target gone while the name server is down
    ns = await startNsAt(data, ['--deregister-after', '60']);
    const restored = await getServer(ns, 'hc', id);
    assert.ok(restored, 'checked server restored');
    assert.equal(restored.check?.type, 'tcp');
    assert.equal(restored.check?.interval_ms, 200);
    // the resumed check notices the target is gone ...
    const down = await waitFor(async () => { const s = await getServer(ns, 'hc', id); return s?.health === 'down' && s; },
                               { timeoutMs: 4000, intervalMs: 50, what: 'resumed check: down' });
    assert.notEqual(down.health_detail, '');
    // ... and brings the server back when it listens again
    tcp = await tcpTarget(tcp.port);
    await waitFor(async () => (await health('hc', id)) === 'up', { timeoutMs: 4000, intervalMs: 50, what: 'resumed check: up' });
    assert.equal(await nsReq(ns, 'hc'), id);
    // the HTTP one too
    const webId = `127.0.0.1:${web.address().port}`;
    webStatus = 503;
    await waitFor(async () => (await getServer(ns, 'hcweb', webId))?.health_detail === 'HTTP 503', { timeoutMs: 4000, intervalMs: 50, what: 'resumed http check' });
  });
});

async function nsReq(ns, svc) {
  const c = await RespClient.connect(ns.listeners.ns);
  try { return await c.send('REQ', svc); } finally { c.close(); }
}
