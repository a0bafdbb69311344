// chiron serve's live chat as the official npm socket.io-client sees it (transports: websocket):
// connect, join, broadcast in seq order with the payload unchanged, acks, read-only anonymous
// viewers, handshake errors, and the load generator without loss.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { emitAck, nextEvent, sioConnect as connect } from '../lib/chat.mjs';
import { httpJson, SOURCE_DIR, startServe, wsConnect } from '../lib/chiron.mjs';

const LOADGEN = path.join(process.env.CHIRON_BENCH_DIR ?? path.join(SOURCE_DIR, 'build', 'bench'), 'chat_loadgen');

test('socket.io-client joins, posts and receives; payload unchanged plus seq, ts, user', async () => {
  const serve = await startServe(['--chat-anonymous']);
  const [a, b] = await Promise.all([connect(serve.url), connect(serve.url)]);
  try {
    const joinedA = await emitAck(a, 'new user', 'room1');
    assert.deepEqual([joinedA.ok, joinedA.room, joinedA.members, joinedA.seq], [true, 'room1', 1, 0]);
    assert.deepEqual(joinedA.users, [{ user: `anon-${a.id.slice(0, 6)}`, name: `anon-${a.id.slice(0, 6)}` }]);
    const joinedB = await emitAck(b, 'new user', 'room1');
    assert.deepEqual([joinedB.ok, joinedB.room, joinedB.members], [true, 'room1', 2]);
    const gotA = nextEvent(a, 'new message'), gotB = nextEvent(b, 'new message');
    const sent = { room: 'room1', text: 'hello <b>world</b> ✓', extra: { n: [1, 2, 3] } };
    const ack = await emitAck(a, 'new message', sent);
    assert.equal(ack.ok, true);
    for (const m of [await gotA, await gotB]) {
      assert.equal(m.text, sent.text);
      assert.deepEqual(m.extra, sent.extra);
      assert.equal(m.room, 'room1');
      assert.equal(m.seq, ack.seq);
      assert.match(m.user, /^anon-/);
      assert.ok(Math.abs(m.ts - Date.now()) < 10000);
    }
    // One order for everyone: 20 messages from two senders arrive in seq order at both.
    const seen = { a: [], b: [] };
    a.on('new message', (m) => seen.a.push(m.seq));
    b.on('new message', (m) => seen.b.push(m.seq));
    await Promise.all(Array.from({ length: 10 }, (_, i) => [emitAck(a, 'new message', { room: 'room1', text: `a${i}` }),
                                                          emitAck(b, 'new message', { room: 'room1', text: `b${i}` })]).flat());
    const deadline = Date.now() + 5000;
    while ((seen.a.length < 20 || seen.b.length < 20) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.equal(seen.a.length, 20);
    assert.deepEqual(seen.a, [...seen.a].sort((x, y) => x - y));
    assert.deepEqual(seen.a, seen.b);
    // "system" marks the server's own messages (line comments): a member cannot claim it.
    const forged = nextEvent(b, 'new message');
    await emitAck(a, 'new message', { room: 'room1', text: 'I am the server', system: true });
    const f = await forged;
    assert.equal(f.text, 'I am the server');
    assert.equal(f.system, undefined);
    assert.match(f.user, /^anon-/);
    // Leaving stops delivery.
    assert.equal((await emitAck(b, 'leave', 'room1')).ok, true);
    let late = 0;
    b.on('new message', () => late++);
    await emitAck(a, 'new message', { room: 'room1', text: 'after leave' });
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(late, 0);
    // The operator's view: 1 + 20 + 1 + 1 posts accepted; 2 + 40 + 2 + 1 message deliveries, plus the
    // room's presence frames (coalesced, so their number depends on timing).
    const stats = await httpJson(`${serve.url}/api/v1/chat/stats`);
    assert.equal(stats.status, 200);
    assert.deepEqual([stats.body.bus, stats.body.connections, stats.body.rooms, stats.body.messages_in],
                     ['local', 2, 1, 23]);
    assert.ok(stats.body.deliveries >= 2 + 40 + 2 + 1 && stats.body.deliveries <= 2 + 40 + 2 + 1 + 6, `${stats.body.deliveries}`);
  } finally {
    a.close(); b.close();
    await serve.stop();
  }
});

test('without --chat-anonymous, anonymous sockets read but cannot post; bad input is refused', async () => {
  const serve = await startServe();
  const a = await connect(serve.url);
  try {
    assert.equal((await emitAck(a, 'new user', 'r')).ok, true);
    const refused = await emitAck(a, 'new message', { room: 'r', text: 'hi' });
    assert.equal(refused.ok, false);
    assert.match(refused.error, /read-only/);
    assert.equal((await emitAck(a, 'new user', '')).ok, false);
    assert.equal((await emitAck(a, 'launch rockets', 1)).ok, false);
  } finally {
    a.close();
    await serve.stop();
  }
});

test('Engine.IO handshake: wrong protocol version or transport get HTTP 400', async () => {
  const serve = await startServe(['--chat-anonymous']);
  try {
    const host = serve.listeners.http;
    const v3 = await wsConnect(`ws://${host}/socket.io/?EIO=3&transport=websocket`);
    assert.equal(v3.status, 400);
    const polling = await wsConnect(`ws://${host}/socket.io/?EIO=4&transport=polling`);
    assert.equal(polling.status, 400);
    const good = await connect(serve.url);
    assert.equal((await emitAck(good, 'new user', 'x')).ok, true);
    good.close();
  } finally {
    await serve.stop();
  }
});

test('chat_loadgen: 20 clients × 10 msg/s in one room for 2 s, nothing lost', { skip: !existsSync(LOADGEN) && 'chat_loadgen not built' }, async () => {
  const serve = await startServe(['--chat-anonymous']);
  try {
    const [host, port] = serve.listeners.http.split(':');
    const out = await new Promise((resolve, reject) => {
      execFile(LOADGEN, ['--host', host, '--port', port, '--clients', '20', '--rate', '10', '--size', '100',
                         '--duration', '2', '--warmup', '0.5'], { timeout: 30000 },
               (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout)));
    });
    const fields = Object.fromEntries(out.trim().split(/\s+/).map((kv) => kv.split('=')));
    assert.equal(Number(fields.errors), 0, out);
    assert.ok(Number(fields.expected) > 0, out);
    assert.equal(Number(fields.delivered), Number(fields.expected), out);
  } finally {
    await serve.stop();
  }
});
