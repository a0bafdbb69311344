// Three `chiron serve --redis` edges sharing chat rooms through a real redis-server on
// 127.0.0.1, driven by the npm socket.io-client: one seq order for every client on every edge,
// SUBSCRIBE only where a room has local members, and a "gap" event after Redis restarts.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { emitAck, freePort, redisCli, RedisServer, sioConnect, sleep } from '../lib/chat.mjs';
import { httpJson, runChiron, startServe } from '../lib/chiron.mjs';

let redisPort = 0;
let redis = null;

// Subscribers of a room's channel, as Redis counts them.
async function numsub(room) {
  const out = await redisCli(redisPort, 'PUBSUB', 'NUMSUB', `chiron:chat:{${room}}`);
  return out === null ? -1 : Number(out.split('\n')[1]);
}

async function waitFor(what, fn, ms = 5000) {
  const deadline = Date.now() + ms;
  let last;
  while (Date.now() < deadline) {
    last = await fn();
    if (last === true) return;
    await sleep(20);
  }
  assert.fail(`${what}: still ${JSON.stringify(last)} after ${ms} ms`);
}

const edges = [];
const sockets = [];

before(async () => {
  redisPort = await freePort();
  redis = await new RedisServer(redisPort).start();
  const url = `redis://127.0.0.1:${redisPort}`;
  for (let i = 0; i < 3; i++) edges.push(await startServe(['--chat-anonymous', '--ns', 'off', '--redis', url]));
});

after(async () => {
  for (const s of sockets) s.close();
  await Promise.all(edges.map((e) => e.stop()));
  await redis?.kill();
});

async function clientOn(edge) {
  const s = await sioConnect(edge.url);
  sockets.push(s);
  return s;
}

test('every client on every edge receives every message in one seq order', async () => {
  const clients = [];
  for (const edge of edges) clients.push(await clientOn(edge));
  for (const c of clients) assert.equal((await emitAck(c, 'new user', 'shared')).ok, true);
  await waitFor('NUMSUB shared', async () => (await numsub('shared')) === 3 || await numsub('shared'));
  const seen = clients.map(() => []);
  clients.forEach((c, i) => c.on('new message', (m) => { if (m.room === 'shared') seen[i].push(`${m.seq}:${m.text}`); }));
  const kEach = 10;
  const acks = await Promise.all(clients.flatMap((c, i) =>
    Array.from({ length: kEach }, (_, k) => emitAck(c, 'new message', { room: 'shared', text: `e${i}m${k}` }))));
  for (const a of acks) assert.equal(a.ok, true, JSON.stringify(a));
  const total = kEach * clients.length;
  await waitFor('all deliveries', async () => seen.every((s) => s.length >= total) || seen.map((s) => s.length));
  for (const s of seen) assert.deepEqual(s, seen[0]);
  const seqs = seen[0].map((x) => Number(x.split(':')[0]));
  for (let i = 1; i < seqs.length; i++) assert.equal(seqs[i], seqs[i - 1] + 1, `seq order: ${seqs}`);
  assert.deepEqual(acks.map((a) => a.seq).sort((x, y) => x - y), [...seqs].sort((x, y) => x - y));
  // Each edge's own posts keep their order too.
  for (let i = 0; i < clients.length; i++) {
    const mine = seen[0].map((x) => x.split(':')[1]).filter((t) => t.startsWith(`e${i}m`));
    assert.equal(mine.length, kEach);
  }
});

test('an edge subscribes a room only while it has members there', async () => {
  const [a, b] = [await clientOn(edges[0]), await clientOn(edges[1])];
  await emitAck(a, 'new user', 'ab-only');
  await emitAck(b, 'new user', 'ab-only');
  await waitFor('NUMSUB ab-only = 2 (edges A and B, not C)', async () => (await numsub('ab-only')) === 2 || await numsub('ab-only'));
  const got = new Promise((resolve) => b.once('new message', resolve));
  assert.equal((await emitAck(a, 'new message', { room: 'ab-only', text: 'hi B' })).ok, true);
  assert.equal((await got).text, 'hi B');
  assert.equal(await redisCli(redisPort, 'PUBSUB', 'NUMPAT'), '0', 'never PSUBSCRIBE');
  await emitAck(b, 'leave', 'ab-only');
  await waitFor('NUMSUB ab-only = 1 after B left', async () => (await numsub('ab-only')) === 1 || await numsub('ab-only'));
  const stats = (await httpJson(`${edges[0].url}/api/v1/chat/stats`)).body;
  assert.equal(stats.bus, `redis://127.0.0.1:${redisPort}/0`);
  assert.ok(stats.redis.published >= 1 && stats.redis.delivered >= 1, JSON.stringify(stats));
  assert.equal(stats.redis.malformed, 0);
});

test('redis restart: clients get "gap", then messaging works again', async () => {
  const clients = [];
  for (const edge of edges) clients.push(await clientOn(edge));
  for (const c of clients) assert.equal((await emitAck(c, 'new user', 'restart')).ok, true);
  await waitFor('NUMSUB restart', async () => (await numsub('restart')) === 3 || await numsub('restart'));
  const gaps = clients.map((c) => new Promise((resolve) => {
    c.on('gap', (g) => { if (g.room === 'restart') resolve(g); });
  }));
  await redis.kill();
  await redis.start();
  const timeout = (ms, what) => new Promise((_, reject) => setTimeout(() => reject(new Error(`${what} within ${ms} ms`)), ms));
  const got = await Promise.race([Promise.all(gaps), timeout(5000, 'no "gap" event on every edge')]);
  for (const g of got) assert.equal(g.room, 'restart');
  await waitFor('resubscribed', async () => (await numsub('restart')) === 3 || await numsub('restart'));
  const received = clients.map((c) => new Promise((resolve) => {
    c.on('new message', (m) => { if (m.room === 'restart' && m.text === 'after') resolve(m); });
  }));
  // The publishing connection reconnects on its own backoff: retry the post until it is acked.
  let ack;
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    ack = await emitAck(clients[0], 'new message', { room: 'restart', text: 'after' });
    if (ack.ok) break;
    await sleep(50);
  }
  assert.equal(ack.ok, true, JSON.stringify(ack));
  const msgs = await Promise.race([Promise.all(received), timeout(5000, 'the message after the restart did not reach every client')]);
  for (const m of msgs) assert.equal(m.seq, ack.seq);
  assert.equal(ack.seq, 1, 'the counter died with Redis: a new epoch starts at 1');
});

test('a bad --redis URL is refused with a clear error and exit code 2', async () => {
  for (const url of ['rediss://127.0.0.1:6379', 'redis://user:pw@127.0.0.1', 'http://127.0.0.1:6379']) {
    const { code, stderr } = await runChiron(['serve', '--http', '127.0.0.1:0', '--ns', 'off', '--redis', url]);
    assert.equal(code, 2, stderr);
    assert.match(stderr, /--redis: .*redis url/);
    assert.doesNotMatch(stderr, /pw/);
  }
});
