// `chiron ns` admin plane: every /api/v1 route of docs/protocols.md (success and error cases),
// /metrics, the events WebSocket (snapshot, deltas, stats) and the request log.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import { startNs, tempDir, RespClient, httpJson, waitFor, wsConnect } from '../lib/chiron.mjs';

let ns, c;
const api = (p) => `${ns.url}/api/v1${p}`;
const SERVER_FIELDS = ['id', 'weight', 'weight_percent', 'effective_weight', 'admin', 'health', 'eligible', 'load', 'picks',
                       'lease_expires_in_ms', 'check', 'health_detail', 'ramp_percent'];
const SERVICE_FIELDS = ['name', 'algorithm', 'has_secret', 'servers', 'eligible', 'picks', 'panic'];

function assertError(res, status, code) {
  assert.equal(res.status, status, res.text);
  assert.equal(typeof res.body, 'object', res.text);
  assert.equal(res.body.error?.code, code, res.text);
  assert.equal(typeof res.body.error.message, 'string');
  assert.ok(res.body.error.message.length > 0);
}

before(async () => {
  ns = await startNs();
  c = await RespClient.connect(ns.listeners.ns);
});
after(async () => { c?.close(); if (ns) await ns.stop('SIGKILL'); });

describe('routes', () => {
  test('GET /api/v1/health', { timeout: 10000 }, async () => {
    const r = await httpJson(api('/health'));
    assert.equal(r.status, 200);
    assert.equal(r.body.status, 'ok');
    assert.match(r.body.version, /^\d+\.\d+\.\d+/);
    assert.equal(typeof r.body.uptime_s, 'number');
    assert.match(r.headers.get('content-type'), /application\/json/);
  });

  test('GET /api/v1/algorithms', { timeout: 10000 }, async () => {
    const r = await httpJson(api('/algorithms'));
    assert.equal(r.status, 200);
    const names = r.body.algorithms.map((a) => a.name);
    for (const n of ['rr', 'swrr']) assert.ok(names.includes(n), JSON.stringify(names));
    for (const a of r.body.algorithms) assert.ok(typeof a.description === 'string' && a.description.length > 0, a.name);
  });

  test('PUT/GET/DELETE /api/v1/services/{svc}', { timeout: 10000 }, async () => {
    assertError(await httpJson(api('/services/nosuch')), 404, 'not_found');
    const put = await httpJson(api('/services/alpha'), { method: 'PUT', body: { algorithm: 'swrr' } });
    assert.equal(put.status, 200, put.text);
    for (const f of SERVICE_FIELDS) assert.ok(f in put.body, `service object lacks ${f}: ${put.text}`);
    assert.equal(put.body.name, 'alpha');
    assert.equal(put.body.algorithm, 'swrr');
    assert.equal(put.body.has_secret, false);
    assert.deepEqual(put.body.servers, []);
    assert.equal(put.body.panic, false);

    const get = await httpJson(api('/services/alpha'));
    assert.equal(get.status, 200);
    assert.equal(get.body.algorithm, 'swrr');
    // ALG over the data plane shows up here
    assert.equal(await c.send('ALG', 'alpha', 'rr'), 'OK');
    assert.equal((await httpJson(api('/services/alpha'))).body.algorithm, 'rr');

    // secret set and cleared; never echoed
    const sec = await httpJson(api('/services/alpha'), { method: 'PUT', body: { secret: 'topsecret' } });
    assert.equal(sec.body.has_secret, true);
    assert.doesNotMatch(sec.text, /topsecret/);
    assert.equal((await httpJson(api('/services/alpha'), { method: 'PUT', body: { secret: '' } })).body.has_secret, false);

    // errors
    assertError(await httpJson(api('/services/alpha'), { method: 'PUT', rawBody: '{"algorithm":', headers: { 'content-type': 'application/json' } }), 400, 'invalid_argument');
    assertError(await httpJson(api('/services/alpha'), { method: 'PUT', rawBody: '[1,2]', headers: { 'content-type': 'application/json' } }), 400, 'invalid_argument');
    assertError(await httpJson(api('/services/alpha'), { method: 'PUT', body: { algorithm: 7 } }), 400, 'invalid_argument');
    assertError(await httpJson(api('/services/alpha'), { method: 'PUT', body: { algorithm: 'fastest' } }), 400, 'invalid_argument');
    assert.equal((await httpJson(api('/services/alpha'))).body.algorithm, 'rr', 'a refused PUT changes nothing');
    assertError(await httpJson(api('/services/beta'), { method: 'PUT', body: { algorithm: 'fastest' } }), 400, 'invalid_argument');
    assertError(await httpJson(api('/services/beta')), 404, 'not_found');

    // listing
    const all = await httpJson(api('/services'));
    assert.equal(all.status, 200);
    assert.equal(typeof all.body.version, 'number');
    assert.ok(all.body.services.some((s) => s.name === 'alpha'));

    const del = await httpJson(api('/services/alpha'), { method: 'DELETE' });
    assert.equal(del.status, 200);
    assert.deepEqual(del.body, { removed: true });
    assertError(await httpJson(api('/services/alpha')), 404, 'not_found');
    assertError(await httpJson(api('/services/alpha'), { method: 'DELETE' }), 404, 'not_found');
    assert.match((await c.send('REQ', 'alpha'))?.error ?? '', /unknown service/);
  });

  test('POST /api/v1/services/{svc}/servers: 201 new, 200 existing, 400 on bad input', { timeout: 10000 }, async () => {
    const url = api('/services/web/servers');
    const created = await httpJson(url, { method: 'POST', body: { id: '10.0.0.1:80', weight: 5 } });
    assert.equal(created.status, 201, created.text);
    for (const f of SERVER_FIELDS) assert.ok(f in created.body, `server object lacks ${f}: ${created.text}`);
    assert.equal(created.body.id, '10.0.0.1:80');
    assert.equal(created.body.weight, 5);
    assert.equal(created.body.health, 'pending');
    assert.equal(created.body.admin, 'ready');
    assert.equal(created.body.check, null);
    assert.equal(created.body.eligible, false);

    const again = await httpJson(url, { method: 'POST', body: { id: '10.0.0.1:80', weight: 7 } });
    assert.equal(again.status, 200, again.text);
    assert.equal(again.body.weight, 7);
    const dflt = await httpJson(url, { method: 'POST', body: { id: '10.0.0.2:80' } });
    assert.equal(dflt.status, 201);
    assert.equal(dflt.body.weight, 1);

    const bad = [
      [{ rawBody: 'not json', headers: { 'content-type': 'application/json' } }, 'bad JSON'],
      [{ body: {} }, 'missing id'],
      [{ body: { id: 42 } }, 'id not a string'],
      [{ body: { id: 'nohost' } }, 'id without port'],
      [{ body: { id: '10.0.0.3:0' } }, 'port 0'],
      [{ body: { id: ':80' } }, 'empty host'],
      [{ body: { id: '10.0.0.3:80', weight: 0 } }, 'weight 0'],
      [{ body: { id: '10.0.0.3:80', weight: 10001 } }, 'weight 10001'],
      [{ body: { id: '10.0.0.3:80', weight: -1 } }, 'weight -1'],
      [{ body: { id: '10.0.0.3:80', weight: '5' } }, 'weight string'],
      [{ body: { id: '10.0.0.3:80', check: 'tcp' } }, 'check not an object'],
      [{ body: { id: '10.0.0.3:80', check: { interval_ms: 200 } } }, 'check without type'],
      [{ body: { id: '10.0.0.3:80', check: { type: 'icmp' } } }, 'check type icmp'],
      [{ body: { id: '10.0.0.3:80', check: { type: 'tcp', bogus: 1 } } }, 'unknown check field'],
      [{ body: { id: '10.0.0.3:80', check: { type: 'http', path: 'health' } } }, 'check path without /'],
      [{ body: { id: '10.0.0.3:80', check: { type: 'tcp', interval_ms: 200, timeout_ms: 500 } } }, 'timeout > interval'],
    ];
    for (const [opts, why] of bad) {
      const r = await httpJson(url, { method: 'POST', ...opts });
      assert.equal(r.status, 400, `${why}: ${r.text}`);
      assert.equal(r.body.error?.code, 'invalid_argument', `${why}: ${r.text}`);
    }
    const list = (await httpJson(api('/services/web'))).body.servers.map((s) => s.id).sort();
    assert.deepEqual(list, ['10.0.0.1:80', '10.0.0.2:80'], 'refused POSTs registered nothing');
  });

  test('PUT /api/v1/services/{svc}/servers/{id}', { timeout: 10000 }, async () => {
    const url = api('/services/web/servers/10.0.0.1:80');
    const w = await httpJson(url, { method: 'PUT', body: { weight: 9 } });
    assert.equal(w.status, 200, w.text);
    assert.equal(w.body.weight, 9);
    const d = await httpJson(url, { method: 'PUT', body: { state: 'drain' } });
    assert.equal(d.body.admin, 'drain');
    assert.match((await c.send('LIST', 'web')).join('\n'), /10\.0\.0\.1:80 weight=9 state=drain/);
    const r = await httpJson(url, { method: 'PUT', body: { state: 'ready', weight: 3 } });
    assert.equal(r.body.admin, 'ready');
    assert.equal(r.body.weight, 3);
    assertError(await httpJson(url, { method: 'PUT', body: { state: 'sleepy' } }), 400, 'invalid_argument');
    assertError(await httpJson(url, { method: 'PUT', body: { weight: 'x' } }), 400, 'invalid_argument');
    assertError(await httpJson(url, { method: 'PUT', body: { weight: 20000 } }), 400, 'invalid_argument');
    assertError(await httpJson(url, { method: 'PUT', rawBody: '{', headers: { 'content-type': 'application/json' } }), 400, 'invalid_argument');
    assert.equal((await httpJson(api('/services/web'))).body.servers.find((s) => s.id === '10.0.0.1:80').weight, 3,
                 'refused PUTs change nothing');
    assertError(await httpJson(api('/services/web/servers/10.9.9.9:80'), { method: 'PUT', body: { weight: 2 } }), 404, 'not_found');
    assertError(await httpJson(api('/services/nosuch/servers/10.0.0.1:80'), { method: 'PUT', body: { weight: 2 } }), 404, 'not_found');
  });

  test('POST /api/v1/services/{svc}/servers/{id}/heartbeat', { timeout: 10000 }, async () => {
    const url = api('/services/web/servers/10.0.0.1:80/heartbeat');
    const hb = await httpJson(url, { method: 'POST', body: { load: 3, weight_percent: 50 } });
    assert.equal(hb.status, 200, hb.text);
    assert.equal(hb.body.health, 'up');
    assert.equal(hb.body.load, 3);
    assert.equal(hb.body.weight_percent, 50);
    assert.equal(typeof hb.body.lease_expires_in_ms, 'number');
    const empty = await httpJson(url, { method: 'POST' });
    assert.equal(empty.status, 200, 'an empty body is {}');
    assertError(await httpJson(url, { method: 'POST', body: { load: -1 } }), 400, 'invalid_argument');
    assertError(await httpJson(url, { method: 'POST', body: { load: 'x' } }), 400, 'invalid_argument');
    assertError(await httpJson(url, { method: 'POST', body: { weight_percent: 101 } }), 400, 'invalid_argument');
    assertError(await httpJson(url, { method: 'POST', body: { drain: 'yes' } }), 400, 'invalid_argument');
    assertError(await httpJson(url, { method: 'POST', rawBody: 'nope', headers: { 'content-type': 'application/json' } }), 400, 'invalid_argument');
    assertError(await httpJson(api('/services/web/servers/10.9.9.9:80/heartbeat'), { method: 'POST', body: {} }), 404, 'not_found');
    assertError(await httpJson(api('/services/nosuch/servers/10.0.0.1:80/heartbeat'), { method: 'POST', body: {} }), 404, 'not_found');
    const dr = await httpJson(url, { method: 'POST', body: { drain: true, weight_percent: 100 } });
    assert.equal(dr.body.admin, 'drain');
    assert.equal((await httpJson(api('/services/web/servers/10.0.0.1:80'), { method: 'PUT', body: { state: 'ready' } })).body.admin, 'ready');
  });

  test('GET /api/v1/req', { timeout: 10000 }, async () => {
    const r = await httpJson(api('/req?service=web'));
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.server, '10.0.0.1:80', 'the only proven server');
    const k1 = await httpJson(api('/req?service=web&key=user42'));
    assert.equal(k1.status, 200);
    assertError(await httpJson(api('/req?service=nosuch')), 404, 'not_found');
    assertError(await httpJson(api('/req')), 400, 'invalid_argument');
    assert.equal((await httpJson(api('/services/pend/servers'), { method: 'POST', body: { id: '10.0.9.1:80' } })).status, 201);
    const none = await httpJson(api('/req?service=pend'));
    assert.equal(none.status, 503, none.text);
    assert.equal(typeof none.body.error?.code, 'string');
  });

  test('DELETE /api/v1/services/{svc}/servers/{id}', { timeout: 10000 }, async () => {
    const url = api('/services/web/servers/10.0.0.2:80');
    const d = await httpJson(url, { method: 'DELETE' });
    assert.equal(d.status, 200);
    assert.deepEqual(d.body, { removed: true });
    assert.deepEqual((await httpJson(url, { method: 'DELETE' })).body, { removed: false });
    assertError(await httpJson(api('/services/nosuch/servers/10.0.0.2:80'), { method: 'DELETE' }), 404, 'not_found');
    assert.doesNotMatch((await c.send('LIST', 'web')).join('\n'), /10\.0\.0\.2:80/);
  });

  test('GET /metrics: per-service counters and the REQ latency histogram', { timeout: 10000 }, async () => {
    assert.equal(await c.send('HB', 'web', '10.0.0.1:80'), 'OK');
    for (let i = 0; i < 5; i++) assert.equal(await c.send('REQ', 'web'), '10.0.0.1:80');
    assert.ok((await c.send('REQ', 'pend'))?.error);
    const m = await httpJson(`${ns.url}/metrics`);
    assert.equal(m.status, 200);
    assert.match(m.headers.get('content-type'), /text\/plain/);
    const value = (re) => Number(re.exec(m.text)?.[1]);
    assert.ok(value(/^chiron_ns_req_total\{service="web"\} (\d+)$/m) >= 5, m.text);
    assert.ok(value(/^chiron_ns_req_total\{service="pend"\} (\d+)$/m) >= 1, m.text);
    assert.ok(value(/^chiron_ns_req_errors_total\{service="pend"\} (\d+)$/m) >= 1, m.text);
    assert.ok(value(/^chiron_ns_picks_total\{service="web",server="10\.0\.0\.1:80"\} (\d+)$/m) >= 5, m.text);
    assert.equal(value(/^chiron_ns_servers\{service="pend",health="pending"\} (\d+)$/m), 1, m.text);
    assert.equal(value(/^chiron_ns_servers\{service="web",health="up"\} (\d+)$/m), 1, m.text);
    assert.match(m.text, /^# TYPE chiron_ns_req_latency_seconds histogram$/m);
    const buckets = [...m.text.matchAll(/^chiron_ns_req_latency_seconds_bucket\{le="([^"]+)"\} (\d+)$/gm)];
    assert.ok(buckets.length >= 2, m.text);
    assert.equal(buckets.at(-1)[1], '+Inf');
    for (let i = 1; i < buckets.length; i++) assert.ok(Number(buckets[i][2]) >= Number(buckets[i - 1][2]), 'buckets are cumulative');
    const count = value(/^chiron_ns_req_latency_seconds_count (\d+)$/m);
    assert.ok(count >= 6, m.text);
    assert.equal(Number(buckets.at(-1)[2]), count, '+Inf bucket equals _count');
    assert.ok(/^chiron_ns_req_latency_seconds_sum [0-9.e+-]+$/m.test(m.text), m.text);
    assert.match(m.text, /^chiron_ns_store_commits_total \d+$/m);
  });

  test('GET / serves the dashboard', { timeout: 10000 }, async () => {
    const r = await fetch(`${ns.url}/`, { signal: AbortSignal.timeout(5000) });
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type'), /text\/html/);
    assert.match(await r.text(), /<html/i);
  });
});

// Reads frames until a stats frame satisfies pred (deltas are skipped).
async function nextStats(ws, pred, timeoutMs = 4000) {
  const t0 = Date.now();
  for (;;) {
    assert.ok(Date.now() - t0 < timeoutMs, 'no matching stats frame');
    const m = await ws.next(timeoutMs);
    if (m.type === 'stats' && pred(m)) return m;
  }
}

// Sums a server's per-interval picks over stats frames until they reach want (≈ 3 frames).
async function statsUntil(ws, svc, id, want, timeoutMs = 3500) {
  const t0 = Date.now(), seen = [];
  let picks = 0, svcReq = 0;
  for (;;) {
    const m = await ws.next(timeoutMs);
    if (m.type !== 'stats') continue;
    seen.push(m.services?.[svc] ?? null);
    picks += m.services?.[svc]?.servers?.[id]?.picks ?? 0;
    svcReq += m.services?.[svc]?.req ?? 0;
    if (picks >= want) {
      assert.equal(picks, want, `picks over-reported: ${JSON.stringify(seen)}`);
      assert.equal(svcReq, want, `service req: ${JSON.stringify(seen)}`);
      return m;
    }
    assert.ok(Date.now() - t0 < timeoutMs, `stats frames reported ${picks} of ${want} picks of ${id}: ${JSON.stringify(seen)}`);
  }
}

describe('events WebSocket', () => {
  test('snapshot, then a delta per data-plane change, then stats with per-server picks', { timeout: 15000 }, async () => {
    assert.equal((await httpJson(api('/services/evt'), { method: 'PUT', body: { algorithm: 'rr' } })).status, 200);
    const ws = await wsConnect(`${ns.url.replace('http:', 'ws:')}/api/v1/events`);
    try {
      assert.equal(ws.status, 101);
      const snap = await ws.next();
      assert.equal(snap.type, 'snapshot');
      assert.equal(typeof snap.version, 'number');
      assert.ok(Array.isArray(snap.services));
      const listed = await httpJson(api('/services'));
      assert.ok(listed.body.version >= snap.version);

      assert.equal(await c.send('REG', 'evt', '10.0.7.1:80', '4'), 'OK');
      const isDelta = (m) => m.type === 'delta';
      let m;
      do m = await ws.next(); while (!isDelta(m));
      assert.equal(m.version, snap.version + 1, JSON.stringify(m));
      assert.equal(m.service, 'evt');
      assert.equal(m.op, 'upsert');
      assert.equal(m.server.id, '10.0.7.1:80');
      assert.equal(m.server.weight, 4);
      assert.equal(m.server.health, 'pending');

      assert.equal(await c.send('HB', 'evt', '10.0.7.1:80'), 'OK');
      do m = await ws.next(); while (!isDelta(m));
      assert.equal(m.version, snap.version + 2);
      assert.equal(m.server.health, 'up');
      assert.equal(await c.send('ALG', 'evt', 'swrr'), 'OK');
      do m = await ws.next(); while (!isDelta(m));
      assert.equal(m.version, snap.version + 3);
      assert.equal(m.op, 'service');
      assert.equal(m.algorithm, 'swrr');

      // once a stats frame has shown the server, the next frames count its picks
      await nextStats(ws, (st) => st.services?.evt?.servers?.['10.0.7.1:80']);
      for (let i = 0; i < 7; i++) assert.equal(await c.send('REQ', 'evt'), '10.0.7.1:80');
      const stats = await statsUntil(ws, 'evt', '10.0.7.1:80', 7);
      assert.equal(stats.services.evt.servers['10.0.7.1:80'].health, 'up');
      assert.equal(typeof stats.req_total, 'number');
      assert.ok(stats.req_total >= 1);
      assert.equal(typeof stats.req_latency_us?.p50, 'number');
      assert.equal(typeof stats.req_latency_us?.p99, 'number');

      assert.equal(await c.send('REM', 'evt', '10.0.7.1:80'), 1);
      do m = await ws.next(); while (!isDelta(m));
      assert.equal(m.op, 'remove');
      assert.equal(m.id, '10.0.7.1:80');
      assert.equal((await httpJson(api('/services/evt'), { method: 'DELETE' })).status, 200);
      do m = await ws.next(); while (!isDelta(m));
      assert.equal(m.op, 'remove_service');
      assert.equal(m.service, 'evt');
      const before = m.version;

      // REG on a new service: the service appears, then the server, in consecutive versions
      assert.equal(await c.send('REG', 'evt2', '10.0.7.2:80'), 'OK');
      do m = await ws.next(); while (!isDelta(m));
      assert.equal(m.version, before + 1);
      assert.equal(m.op, 'service');
      assert.equal(m.service, 'evt2');
      do m = await ws.next(); while (!isDelta(m));
      assert.equal(m.version, before + 2);
      assert.equal(m.op, 'upsert');
      assert.equal(m.server.id, '10.0.7.2:80');
    } finally {
      ws.close();
    }
  });
});

// Picks answered in the same stats interval in which the server (or service) appeared are
// never reported: the hub's per-interval delta treats a server without a previous sample as 0.
test('stats frames count the picks of a server registered in the same interval', { timeout: 15000 }, async () => {
  const ws = await wsConnect(`${ns.url.replace('http:', 'ws:')}/api/v1/events`);
  try {
    assert.equal((await ws.next()).type, 'snapshot');
    await nextStats(ws, () => true);  // the hub is sampling
    assert.equal(await c.send('REG', 'quick', '10.0.7.9:80'), 'OK');
    assert.equal(await c.send('HB', 'quick', '10.0.7.9:80'), 'OK');
    for (let i = 0; i < 5; i++) assert.equal(await c.send('REQ', 'quick'), '10.0.7.9:80');
    await statsUntil(ws, 'quick', '10.0.7.9:80', 5);
  } finally {
    ws.close();
  }
});

describe('request log', () => {
  test('--request-log FILE --request-log-sample 1 writes JSON lines without tokens', { timeout: 20000 }, async () => {
    const dir = tempDir('chiron-ns-rlog-');
    const file = path.join(dir, 'req.jsonl');
    let ns2, c2;
    try {
      ns2 = await startNs(['--request-log', file, '--request-log-sample', '1', '--admin-token', 'sekrit-admin']);
      c2 = await RespClient.connect(ns2.listeners.ns);
      assert.equal(await c2.send('AUTH', 'sekrit-admin'), 'OK');
      assert.equal(await c2.send('REG', 'logged', '10.0.8.1:80'), 'OK');
      assert.equal(await c2.send('HB', 'logged', '10.0.8.1:80'), 'OK');
      assert.equal(await c2.send('REQ', 'logged'), '10.0.8.1:80');
      assert.ok((await c2.send('REQ', 'nosuch'))?.error);
      assert.equal((await httpJson(`${ns2.url}/api/v1/services/logged`, { method: 'PUT', token: 'sekrit-admin', body: { secret: 'regsecret' } })).status, 200);
      assert.ok((await c2.send('AUTH', 'wrong-admin-guess'))?.error);
      const lines = await waitFor(() => {
        if (!existsSync(file)) return null;
        const ls = readFileSync(file, 'utf8').split('\n').filter(Boolean);
        return ls.some((l) => l.includes('"REQ"') || /"cmd":"req"/i.test(l)) && ls;
      }, { timeoutMs: 5000, intervalMs: 100, what: 'request log lines' });
      await new Promise((r) => setTimeout(r, 1500));
      const text = readFileSync(file, 'utf8');
      const entries = text.split('\n').filter(Boolean).map((l) => JSON.parse(l));
      assert.ok(entries.length >= lines.length);
      for (const e of entries) for (const f of ['cmd', 'service', 'result']) assert.ok(f in e, `${f} in ${JSON.stringify(e)}`);
      const req = entries.find((e) => /^req$/i.test(e.cmd) && e.service === 'logged');
      assert.ok(req, text);
      assert.match(req.result, /10\.0\.8\.1:80/);
      assert.ok(entries.some((e) => /^reg$/i.test(e.cmd) && e.service === 'logged'), text);
      assert.ok(entries.some((e) => /^req$/i.test(e.cmd) && e.service === 'nosuch'), text);
      for (const secret of ['sekrit-admin', 'wrong-admin-guess', 'regsecret']) assert.ok(!text.includes(secret), `${secret} leaked: ${text}`);
    } finally {
      c2?.close();
      if (ns2) await ns2.stop('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
