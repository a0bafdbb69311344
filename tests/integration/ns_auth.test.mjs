// `chiron ns` auth: the admin token (AUTH / redis-cli -a / Bearer) and signed registration
// tokens (`chiron ns sign`), including replays, wrong secrets, wrong verbs and wrong ids.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { startNs, runChiron, RespClient, httpJson, tempDir, wsConnect } from '../lib/chiron.mjs';

const T = 'adm1n-t0ken';
let ns, host, port;

before(async () => {
  ns = await startNs(['--admin-token', T]);
  [host, port] = ns.listeners.ns.split(':');
});
after(async () => { if (ns) await ns.stop('SIGKILL'); });

function cli(...args) {
  return new Promise((resolve, reject) => {
    execFile('redis-cli', ['--no-auth-warning', '-h', host, '-p', port, ...args], { timeout: 10000 },
             (err, stdout) => (err ? reject(err) : resolve(stdout.trimEnd())));
  });
}

// redis-cli reports a failed -a AUTH on stderr and then runs the command anyway.
function cliBoth(...args) {
  return new Promise((resolve, reject) => {
    execFile('redis-cli', ['--no-auth-warning', '-h', host, '-p', port, ...args], { timeout: 10000 },
             (err, stdout, stderr) => (err ? reject(err) : resolve({ stdout: stdout.trimEnd(), stderr })));
  });
}

async function sign(secret, verb, service, id) {
  const { code, stdout, stderr } = await runChiron(['ns', 'sign', '--secret', secret, verb, service, id], { timeoutMs: 10000 });
  assert.equal(code, 0, stderr);
  const token = stdout.trim();
  assert.match(token, /^\d{1,12}\.[A-Za-z0-9_-]{8,64}\.[0-9a-f]{64}$/);
  return token;
}

test('ALG/STATE/REM without AUTH are refused with NOAUTH; AUTH on the connection opens them', { timeout: 20000 }, async () => {
  const c = await RespClient.connect(ns.listeners.ns);
  try {
    assert.equal(await c.send('REG', 'open', '10.0.0.1:80'), 'OK');  // no secret: registration is open
    assert.equal(await c.send('HB', 'open', '10.0.0.1:80'), 'OK');
    assert.equal(await c.send('REQ', 'open'), '10.0.0.1:80');
    for (const args of [['ALG', 'open', 'swrr'], ['STATE', 'open', '10.0.0.1:80', 'drain'], ['REM', 'open', '10.0.0.1:80']]) {
      const r = await c.send(...args);
      assert.match(r?.error ?? '', /^NOAUTH/, `${args.join(' ')} → ${JSON.stringify(r)}`);
    }
    assert.deepEqual(await c.send('LIST', 'open'), ['10.0.0.1:80 weight=1 state=ready health=up picks=1']);
    const wrong = await c.send('AUTH', 'nope');
    assert.match(wrong?.error ?? '', /^WRONGPASS/);
    assert.match((await c.send('ALG', 'open', 'swrr'))?.error ?? '', /^NOAUTH/, 'a failed AUTH grants nothing');
    assert.equal(await c.send('AUTH', T), 'OK');
    assert.equal(await c.send('ALG', 'open', 'swrr'), 'OK');
    assert.equal(await c.send('STATE', 'open', '10.0.0.1:80', 'drain'), 'OK');
    assert.equal(await c.send('STATE', 'open', '10.0.0.1:80', 'ready'), 'OK');
  } finally {
    c.close();
  }
  // AUTH is per connection: a new one starts unauthenticated
  assert.match(await cli('ALG', 'open', 'rr'), /NOAUTH/);
});

test('redis-cli -a TOKEN authenticates; a wrong token gets WRONGPASS', { timeout: 20000 }, async () => {
  assert.equal(await cli('-a', T, 'ALG', 'open', 'edf'), 'OK');
  const svc = await httpJson(`${ns.url}/api/v1/services/open`, { token: T });
  assert.equal(svc.body.algorithm, 'edf');
  const wrong = await cliBoth('-a', 'wrong', 'ALG', 'open', 'rr');
  assert.match(wrong.stderr, /WRONGPASS/);
  assert.match(wrong.stdout, /NOAUTH/);
});

test('admin HTTP needs the Bearer token except /api/v1/health and /api/v1/req', { timeout: 20000 }, async () => {
  for (const p of ['/api/v1/services', '/api/v1/algorithms', '/api/v1/services/open', '/metrics']) {
    const no = await httpJson(`${ns.url}${p}`);
    assert.equal(no.status, 401, p);
    assert.equal(no.body.error.code, 'unauthenticated', p);
    assert.equal((await httpJson(`${ns.url}${p}`, { token: 'wrong' })).status, 401, p);
    assert.equal((await httpJson(`${ns.url}${p}`, { token: T })).status, 200, p);
  }
  const put = await httpJson(`${ns.url}/api/v1/services/open`, { method: 'PUT', body: { algorithm: 'rr' } });
  assert.equal(put.status, 401);
  assert.equal((await httpJson(`${ns.url}/api/v1/health`)).status, 200);
  const req = await httpJson(`${ns.url}/api/v1/req?service=open`);
  assert.equal(req.status, 200);
  assert.equal(req.body.server, '10.0.0.1:80');
});

test('registration secrets: signed REG/HB/REM tokens, replays, wrong secret, wrong verb, wrong id', { timeout: 30000 }, async () => {
  const put = await httpJson(`${ns.url}/api/v1/services/sec`, { method: 'PUT', token: T, body: { secret: 's3' } });
  assert.equal(put.status, 200);
  assert.equal(put.body.has_secret, true);
  assert.equal(JSON.stringify(put.body).includes('s3"'), false, 'the secret is never echoed');

  const c = await RespClient.connect(ns.listeners.ns);
  try {
    const id = '10.0.0.1:80';
    assert.match((await c.send('REG', 'sec', id))?.error ?? '', /^NOAUTH/);
    const reg = await sign('s3', 'REG', 'sec', id);
    assert.equal(await c.send('REG', 'sec', id, reg), 'OK');
    assert.match((await c.send('REG', 'sec', id, reg))?.error ?? '', /^NOAUTH.*replay/i);
    assert.match((await c.send('REG', 'sec', id, '5', await sign('wrong', 'REG', 'sec', id)))?.error ?? '', /^NOAUTH/);
    assert.match((await c.send('HB', 'sec', id, await sign('s3', 'REG', 'sec', id)))?.error ?? '', /^NOAUTH/, 'REG token used for HB');
    assert.match((await c.send('REG', 'sec', '10.0.0.2:80', await sign('s3', 'REG', 'sec', id)))?.error ?? '', /^NOAUTH/, 'token for another id');
    assert.match((await c.send('REG', 'sec', id, await sign('s3', 'REG', 'other', id)))?.error ?? '', /^NOAUTH/, 'token for another service');
    assert.match((await c.send('HB', 'sec', id))?.error ?? '', /^NOAUTH/, 'HB without token');
    assert.match((await c.send('REQ', 'sec'))?.error ?? '', /no (eligible )?server/, 'still pending: no HB accepted');
    assert.equal(await c.send('HB', 'sec', id, await sign('s3', 'HB', 'sec', id)), 'OK');
    assert.equal(await c.send('REQ', 'sec'), id);
    // a signed REG with a weight
    assert.equal(await c.send('REG', 'sec', id, '9', await sign('s3', 'REG', 'sec', id)), 'OK');
    assert.deepEqual(await c.send('LIST', 'sec'), [`${id} weight=9 state=ready health=up picks=1`]);
    // malformed tokens are refused, never taken as a weight
    assert.ok((await c.send('REG', 'sec', id, '1.2.3'))?.error);
    // REM: a signed REM token works in place of AUTH; a REG token does not
    assert.match((await c.send('REM', 'sec', id, await sign('s3', 'REG', 'sec', id)))?.error ?? '', /^NOAUTH/);
    assert.equal(await c.send('REM', 'sec', id, await sign('s3', 'REM', 'sec', id)), 1);
    assert.deepEqual(await c.send('LIST', 'sec'), []);
  } finally {
    c.close();
  }
  // clearing the secret reopens registration
  assert.equal((await httpJson(`${ns.url}/api/v1/services/sec`, { method: 'PUT', token: T, body: { secret: '' } })).body.has_secret, false);
  assert.equal(await cli('REG', 'sec', '10.0.0.3:80'), 'OK');
});

test('failed auth attempts are counted in /metrics', { timeout: 10000 }, async () => {
  const m = await httpJson(`${ns.url}/metrics`, { token: T });
  const n = Number(/^chiron_ns_auth_failures_total (\d+)$/m.exec(m.text)?.[1]);
  assert.ok(n >= 5, m.text);
});

test('--listen off loopback without an admin token exits non-zero and says why', { timeout: 20000 }, async () => {
  const dir = tempDir('chiron-ns-auth-');
  try {
    const r = await runChiron(['ns', '--listen', '0.0.0.0:0', '--admin', '127.0.0.1:0', '--data', dir, '--log-level', 'warn'],
                              { timeoutMs: 10000 });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /admin token/i);
    assert.doesNotMatch(r.stdout, /listening/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--admin-token-file is read (trimmed); an empty file is refused', { timeout: 20000 }, async () => {
  const dir = tempDir('chiron-ns-auth-');
  const file = path.join(dir, 'token');
  let ns2;
  try {
    writeFileSync(file, 'filetok\n');
    ns2 = await startNs(['--admin-token-file', file]);
    assert.equal((await httpJson(`${ns2.url}/api/v1/services`)).status, 401);
    assert.equal((await httpJson(`${ns2.url}/api/v1/services`, { token: 'filetok' })).status, 200);
    writeFileSync(file, '\n');
    const r = await runChiron(['ns', '--listen', '127.0.0.1:0', '--admin', '127.0.0.1:0', '--memory', '--admin-token-file', file],
                              { timeoutMs: 10000 });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /empty/);
  } finally {
    if (ns2) await ns2.stop('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});

// docs/protocols.md: "(WebSocket: ?token=<token>); otherwise 401". The server upgrades first
// (101) and then closes with 1008; this test holds it to the contract.
test('events WebSocket without ?token= is refused with 401', { timeout: 10000 }, async () => {
  const ws = ns.url.replace('http:', 'ws:');
  for (const q of ['', '?token=wrong']) {
    const c = await wsConnect(`${ws}/api/v1/events${q}`);
    c.close();
    assert.equal(c.status, 401, `GET /api/v1/events${q}`);
  }
});

test('events WebSocket: nothing leaks without the token; ?token= gets the snapshot', { timeout: 10000 }, async () => {
  const ws = ns.url.replace('http:', 'ws:');
  for (const q of ['', '?token=wrong']) {
    const c = await wsConnect(`${ws}/api/v1/events${q}`);
    if (c.status === 101) {
      await assert.rejects(c.next(1500), /closed|no websocket message/, 'no snapshot without the token');
      assert.equal(c.closeCode, 1008);
    } else {
      assert.equal(c.status, 401);
    }
    c.close();
  }
  const ok = await wsConnect(`${ws}/api/v1/events?token=${T}`);
  try {
    assert.equal(ok.status, 101);
    assert.equal((await ok.next()).type, 'snapshot');
  } finally {
    ok.close();
  }
});

// The token format of docs/protocols.md, computed independently of `chiron ns sign`.
function nodeToken(secret, verb, service, id, ts, nonce = crypto.randomBytes(12).toString('base64url')) {
  const mac = crypto.createHmac('sha256', secret).update(`${verb}|${service}|${id}|${ts}|${nonce}`).digest('hex');
  return `${ts}.${nonce}.${mac}`;
}

test('tokens built from the documented format verify; stale timestamps (> 30 s) are refused', { timeout: 10000 }, async () => {
  assert.equal((await httpJson(`${ns.url}/api/v1/services/fmt`, { method: 'PUT', token: T, body: { secret: 'k9' } })).status, 200);
  const id = '10.0.4.1:80';
  const now = Math.floor(Date.now() / 1000);
  const c = await RespClient.connect(ns.listeners.ns);
  try {
    assert.equal(await c.send('REG', 'fmt', id, '2', nodeToken('k9', 'REG', 'fmt', id, now)), 'OK');
    assert.equal(await c.send('HB', 'fmt', id, 'load=4', nodeToken('k9', 'HB', 'fmt', id, now - 20)), 'OK');
    assert.match((await c.send('HB', 'fmt', id, nodeToken('k9', 'HB', 'fmt', id, now - 90)))?.error ?? '', /^NOAUTH.*stale/i);
    assert.match((await c.send('HB', 'fmt', id, nodeToken('k9', 'HB', 'fmt', id, now + 90)))?.error ?? '', /^NOAUTH.*stale/i);
    assert.match((await c.send('HB', 'fmt', id, nodeToken('k9', 'hb', 'fmt', id, now).toUpperCase()))?.error ?? '', /^(NOAUTH|ERR)/);
    assert.deepEqual(await c.send('LIST', 'fmt'), [`${id} weight=2 state=ready health=up picks=0`]);
  } finally {
    c.close();
  }
});
