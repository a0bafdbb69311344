// `chiron ns` as operators and services see it: real process, redis-cli and raw TCP on 127.0.0.1.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFile } from 'node:child_process';
import net from 'node:net';
import readline from 'node:readline';
import { rmSync } from 'node:fs';
import { CHIRON_BIN, tempDir } from '../lib/chiron.mjs';

let proc, port, data, exited;

before(async () => {
  data = tempDir();
  proc = spawn(CHIRON_BIN, ['ns', '--listen', '127.0.0.1:0', '--data', data, '--log-level', 'warn'],
               { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  proc.stderr.on('data', (d) => { stderr += d; });
  exited = new Promise((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })));
  port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`chiron ns did not start: ${stderr}`)), 15000);
    exited.then(({ code }) => reject(new Error(`chiron ns exited ${code}: ${stderr}`)));
    readline.createInterface({ input: proc.stdout }).on('line', (line) => {
      const m = /^listening ns=127\.0\.0\.1:(\d+)$/.exec(line);
      if (m) { clearTimeout(timer); resolve(Number(m[1])); }
    });
  });
});

after(async () => {
  if (proc && proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
  rmSync(data, { recursive: true, force: true });
});

function cli(...args) {
  return new Promise((resolve, reject) => {
    execFile('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], { timeout: 10000 },
             (err, stdout) => (err ? reject(err) : resolve(stdout.trimEnd())));
  });
}

test('REG two servers, REQ alternates under rr', async () => {
  assert.equal(await cli('REG', 'web', '10.0.0.1:80'), 'OK');
  assert.equal(await cli('REG', 'web', '10.0.0.2:80'), 'OK');
  const seq = [];
  for (let i = 0; i < 4; i++) seq.push(await cli('REQ', 'web'));
  assert.equal(seq[0] === seq[1], false);
  assert.deepEqual(seq.slice(2), seq.slice(0, 2));
  assert.deepEqual([...seq.slice(0, 2)].sort(), ['10.0.0.1:80', '10.0.0.2:80']);
});

test('ALG swrr with weights 5,1,1 gives a a b a c a a', async () => {
  assert.equal(await cli('REG', 'smooth', '10.0.1.1:80', '5'), 'OK');
  assert.equal(await cli('REG', 'smooth', '10.0.1.2:80', '1'), 'OK');
  assert.equal(await cli('REG', 'smooth', '10.0.1.3:80', '1'), 'OK');
  assert.equal(await cli('ALG', 'smooth', 'swrr'), 'OK');
  const names = { '10.0.1.1:80': 'a', '10.0.1.2:80': 'b', '10.0.1.3:80': 'c' };
  let seq = '';
  for (let i = 0; i < 7; i++) seq += names[await cli('REQ', 'smooth')];
  assert.equal(seq, 'aabacaa');
});

test('REM removes a server and LIST shows the rest', async () => {
  assert.equal(await cli('REG', 'rem', '10.0.2.1:80'), 'OK');
  assert.equal(await cli('REG', 'rem', '10.0.2.2:80', '4'), 'OK');
  assert.equal(await cli('REM', 'rem', '10.0.2.1:80'), '1');
  assert.equal(await cli('REM', 'rem', '10.0.2.1:80'), '0');
  assert.equal(await cli('LIST', 'rem'), '10.0.2.2:80 weight=4 state=ready health=up picks=0');
  assert.equal(await cli('REQ', 'rem'), '10.0.2.2:80');
});

test('errors carry Redis-style text', async () => {
  assert.match(await cli('FLY', 'web'), /ERR unknown command 'FLY'/);
  assert.match(await cli('REG', 'web'), /ERR wrong number of arguments for 'reg' command/);
  assert.match(await cli('REQ', 'nosuch'), /ERR unknown service 'nosuch'/);
  assert.match(await cli('ALG', 'web', 'fastest'), /ERR unknown algorithm 'fastest'/);
  assert.equal(await cli('PING'), 'PONG');
});

test('raw inline pipelined requests get one reply each', async () => {
  const raw = await new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1', () => sock.write('REQ web\r\nREQ web\r\n'));
    let buf = '';
    sock.on('data', (d) => {
      buf += d;
      if ((buf.match(/\r\n/g) ?? []).length >= 4) { sock.end(); resolve(buf); }
    });
    sock.on('error', reject);
    setTimeout(() => { sock.destroy(); reject(new Error(`timeout, got ${JSON.stringify(buf)}`)); }, 5000);
  });
  const replies = raw.match(/\$\d+\r\n[^\r]*\r\n/g);
  assert.equal(replies.length, 2);
  assert.notEqual(replies[0], replies[1]);
});

test('SIGINT exits 0', async () => {
  proc.kill('SIGINT');
  const { code, signal } = await exited;
  assert.equal(signal, null);
  assert.equal(code, 0);
});
