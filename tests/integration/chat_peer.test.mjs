// The chat benchmark harness is real: the Node.js Socket.IO peer (bench/peers/socketio_chat.js)
// speaks to the official npm socket.io-client, and bench/chat_loadgen measures it without loss.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { haveSocketIoClient, sioConnect } from '../lib/chat.mjs';
import { SOURCE_DIR } from '../lib/chiron.mjs';

const BENCH_DIR = process.env.CHIRON_BENCH_DIR ?? path.join(SOURCE_DIR, 'build', 'bench');
const LOADGEN = path.join(BENCH_DIR, 'chat_loadgen');

let peer, port;

before(async () => {
  if (!haveSocketIoClient) return;
  peer = spawn(process.execPath, [path.join(SOURCE_DIR, 'bench/peers/socketio_chat.js'), '0'],
               { cwd: SOURCE_DIR, stdio: ['ignore', 'pipe', 'inherit'] });
  port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('socketio_chat.js did not start in 10 s')), 10000);
    peer.on('exit', (code) => reject(new Error(`socketio_chat.js exited ${code}`)));
    readline.createInterface({ input: peer.stdout }).on('line', (line) => {
      const m = /^listening chat=127\.0\.0\.1:(\d+)$/.exec(line);
      if (m) { clearTimeout(timer); resolve(Number(m[1])); }
    });
  });
});

after(() => { if (peer && peer.exitCode === null) peer.kill('SIGKILL'); });

const connect = () => sioConnect(`http://127.0.0.1:${port}`);

test('a new message reaches every member of the room, the sender included, unchanged',
     { skip: !haveSocketIoClient && 'socket.io-client not installed (npm ci)' }, async () => {
  const [a, b] = await Promise.all([connect(), connect()]);
  try {
    // The peer acks `new user` when asked, so the join is known to be done before posting.
    await Promise.all([a, b].map((s) => s.timeout(5000).emitWithAck('new user', 'room1')));
    const msg = { room: 'room1', text: 'héllo "chat" ✓', n: 7, nested: { ok: true } };
    const got = [a, b].map((s) => new Promise((resolve) => s.once('new message', resolve)));
    a.emit('new message', msg);
    assert.deepEqual(await Promise.all(got), [msg, msg]);
  } finally {
    a.close();
    b.close();
  }
});

test('chat_loadgen delivers every message to every member (10 clients x 5 msg/s, 2 s)',
     { skip: (!haveSocketIoClient && 'socket.io-client not installed (npm ci)') ||
             (!existsSync(LOADGEN) && `${LOADGEN} not built (cmake --build build --target chat_loadgen)`) },
     async () => {
  const stdout = await new Promise((resolve, reject) => {
    execFile(LOADGEN, ['--port', String(port), '--clients', '10', '--rate', '5', '--duration', '2'],
             { timeout: 14000 },
             (err, out, errOut) => (err ? reject(new Error(`${err.message}\n${errOut}`)) : resolve(out)));
  });
  const kv = Object.fromEntries(stdout.trim().split(/\s+/).map((f) => f.split('=')));
  assert.equal(kv.errors, '0', stdout);
  assert.equal(kv.sent, '100', stdout);
  assert.equal(kv.expected, '1000', stdout);  // 100 messages x 10 members, sender included
  assert.equal(kv.delivered, kv.expected, stdout);
  assert.equal(Number(kv.loss), 0, stdout);
});
