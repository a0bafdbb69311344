// `chiron ns` as operators and services see it: real process, redis-cli and raw TCP on 127.0.0.1.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import net from 'node:net';
import { startNs, httpJson } from '../lib/chiron.mjs';

let ns, host, port;

before(async () => {
  ns = await startNs();
  [host, port] = ns.listeners.ns.split(':');
});

after(async () => {
  if (ns) await ns.stop('SIGKILL');
});

function cli(...args) {
  return new Promise((resolve, reject) => {
    execFile('redis-cli', ['-h', host, '-p', port, ...args], { timeout: 10000 },
             (err, stdout) => (err ? reject(err) : resolve(stdout.trimEnd())));
  });
}

// REG then HB: a lease-only server answers REQ only once proven.
async function regUp(service, id, ...rest) {
  assert.equal(await cli('REG', service, id, ...rest), 'OK');
  assert.equal(await cli('HB', service, id), 'OK');
}

test('REG two servers, REQ alternates under rr', { timeout: 20000 }, async () => {
  await regUp('web', '10.0.0.1:80');
  await regUp('web', '10.0.0.2:80');
  const seq = [];
  for (let i = 0; i < 4; i++) seq.push(await cli('REQ', 'web'));
  assert.equal(seq[0] === seq[1], false);
  assert.deepEqual(seq.slice(2), seq.slice(0, 2));
  assert.deepEqual([...seq.slice(0, 2)].sort(), ['10.0.0.1:80', '10.0.0.2:80']);
});

test('a new server is pending until its first HB: REQ errors, LIST shows health=pending then up', { timeout: 20000 }, async () => {
  assert.equal(await cli('REG', 'fresh', '10.0.5.1:80', '3'), 'OK');
  assert.match(await cli('REQ', 'fresh'), /ERR no (eligible )?server/);
  assert.equal(await cli('LIST', 'fresh'), '10.0.5.1:80 weight=3 state=ready health=pending picks=0');
  assert.equal(await cli('HB', 'fresh', '10.0.5.1:80'), 'OK');
  assert.equal(await cli('LIST', 'fresh'), '10.0.5.1:80 weight=3 state=ready health=up picks=0');
  assert.equal(await cli('REQ', 'fresh'), '10.0.5.1:80');
  // re-REG updates the weight and keeps the proven health
  assert.equal(await cli('REG', 'fresh', '10.0.5.1:80', '7'), 'OK');
  assert.equal(await cli('LIST', 'fresh'), '10.0.5.1:80 weight=7 state=ready health=up picks=1');
});

test('HB of an unknown server is an error (the client should REG again)', { timeout: 20000 }, async () => {
  await regUp('hbx', '10.0.6.1:80');
  assert.match(await cli('HB', 'hbx', '10.0.6.9:80'), /ERR/);
  assert.match(await cli('HB', 'nosuchsvc', '10.0.6.1:80'), /ERR/);
});

test('ALG swrr with weights 5,1,1 gives a a b a c a a', { timeout: 20000 }, async () => {
  await regUp('smooth', '10.0.1.1:80', '5');
  await regUp('smooth', '10.0.1.2:80', '1');
  await regUp('smooth', '10.0.1.3:80', '1');
  assert.equal(await cli('ALG', 'smooth', 'swrr'), 'OK');
  const names = { '10.0.1.1:80': 'a', '10.0.1.2:80': 'b', '10.0.1.3:80': 'c' };
  let seq = '';
  for (let i = 0; i < 7; i++) seq += names[await cli('REQ', 'smooth')];
  assert.equal(seq, 'aabacaa');
  const svc = await httpJson(`${ns.url}/api/v1/services/smooth`);
  assert.equal(svc.status, 200);
  assert.equal(svc.body.algorithm, 'swrr');
});

test('REM removes a server and LIST shows the rest', { timeout: 20000 }, async () => {
  await regUp('rem', '10.0.2.1:80');
  await regUp('rem', '10.0.2.2:80', '4');
  assert.equal(await cli('REM', 'rem', '10.0.2.1:80'), '1');
  assert.equal(await cli('REM', 'rem', '10.0.2.1:80'), '0');
  assert.equal(await cli('LIST', 'rem'), '10.0.2.2:80 weight=4 state=ready health=up picks=0');
  assert.equal(await cli('REQ', 'rem'), '10.0.2.2:80');
});

test('STATE drain takes a server out of REQ; ready brings it back', { timeout: 20000 }, async () => {
  await regUp('st', '10.0.3.1:80');
  await regUp('st', '10.0.3.2:80');
  assert.equal(await cli('STATE', 'st', '10.0.3.1:80', 'drain'), 'OK');
  for (let i = 0; i < 4; i++) assert.equal(await cli('REQ', 'st'), '10.0.3.2:80');
  assert.match(await cli('LIST', 'st'), /10\.0\.3\.1:80 weight=1 state=drain health=up/);
  assert.equal(await cli('STATE', 'st', '10.0.3.1:80', 'ready'), 'OK');
  const seen = new Set();
  for (let i = 0; i < 4; i++) seen.add(await cli('REQ', 'st'));
  assert.deepEqual([...seen].sort(), ['10.0.3.1:80', '10.0.3.2:80']);
  assert.match(await cli('STATE', 'st', '10.0.3.1:80', 'sleepy'), /ERR/);
});

test('errors carry Redis-style text', { timeout: 20000 }, async () => {
  assert.match(await cli('FLY', 'web'), /ERR unknown command 'FLY'/);
  assert.match(await cli('REG', 'web'), /ERR wrong number of arguments for 'reg' command/);
  assert.match(await cli('REQ', 'nosuch'), /ERR unknown service 'nosuch'/);
  assert.match(await cli('ALG', 'web', 'fastest'), /ERR unknown algorithm 'fastest'/);
  assert.match(await cli('REG', 'web', '10.0.0.9:80', '0'), /ERR/);
  assert.match(await cli('REG', 'web', '10.0.0.9:80', '10001'), /ERR/);
  assert.match(await cli('REG', 'web', 'not-an-id'), /ERR/);
  assert.equal(await cli('PING'), 'PONG');
  // malformed input never changes state
  assert.doesNotMatch(await cli('LIST', 'web'), /10\.0\.0\.9/);
});

test('raw inline pipelined requests get one reply each', { timeout: 20000 }, async () => {
  const raw = await new Promise((resolve, reject) => {
    const sock = net.connect(Number(port), host, () => sock.write('REQ web\r\nREQ web\r\n'));
    let buf = '';
    const timer = setTimeout(() => { sock.destroy(); reject(new Error(`timeout, got ${JSON.stringify(buf)}`)); }, 5000);
    sock.on('data', (d) => {
      buf += d;
      if ((buf.match(/\r\n/g) ?? []).length >= 4) { clearTimeout(timer); sock.end(); resolve(buf); }
    });
    sock.on('error', reject);
  });
  const replies = raw.match(/\$\d+\r\n[^\r]*\r\n/g);
  assert.equal(replies.length, 2);
  assert.notEqual(replies[0], replies[1]);
});

test('SIGINT exits 0', { timeout: 20000 }, async () => {
  ns.proc.kill('SIGINT');
  const { code, signal } = await ns.exited;
  assert.equal(signal, null);
  assert.equal(code, 0);
});
