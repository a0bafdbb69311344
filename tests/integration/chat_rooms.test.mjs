// The chat event protocol (docs/protocols.md) as the npm socket.io-client sees it: signed
// identities on CONNECT, presence, history recovery, tombstones, bans, mutes and slow mode.
// Tokens are HS256 JWTs (src/chat/token.h) minted here with node:crypto.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { emitAck, freePort, haveRedis, nextEvent, RedisServer, sioConnect } from '../lib/chat.mjs';
import { runChiron, startServe } from '../lib/chiron.mjs';

const SECRET = 'test-secret-for-chat-rooms';
const b64url = (s) => Buffer.from(s).toString('base64url');

function token(user, { name, mod, post, ttl = 3600, secret = SECRET } = {}) {
  const claims = { sub: user, exp: Math.floor(Date.now() / 1000) + ttl };
  if (name !== undefined) claims.name = name;
  if (mod !== undefined) claims.mod = mod;
  if (post !== undefined) claims.post = post;
  const head = `${b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }))}.${b64url(JSON.stringify(claims))}`;
  return `${head}.${crypto.createHmac('sha256', secret).update(head).digest('base64url')}`;
}

const connect = (url, auth) => sioConnect(url, { auth });
const as = (url, user, opts) => connect(url, { token: token(user, opts) });
// Collects every `name` event from now on.
function collect(socket, name) {
  const seen = [];
  socket.on(name, (p) => seen.push(p));
  return seen;
}

async function withServe(args, fn) {
  const serve = await startServe(['--chat-secret', SECRET, ...args]);
  const sockets = [];
  try {
    await fn(serve.url, sockets);
  } finally {
    for (const s of sockets) s.close();
    await serve.stop();
  }
}

test('CONNECT: a valid token names the user; bad, expired or unsigned tokens get connect_error; no token reads only', async () => {
  await withServe([], async (url, sockets) => {
    const alice = await as(url, 'alice', { name: 'Alice A.' });
    sockets.push(alice);
    const joined = await emitAck(alice, 'new user', 'r');
    assert.deepEqual(joined.users, [{ user: 'alice', name: 'Alice A.' }]);
    assert.deepEqual(joined.you, { user: 'alice', name: 'Alice A.', anonymous: false, can_post: true, moderator: false });
    const got = nextEvent(alice, 'new message');
    assert.equal((await emitAck(alice, 'new message', { room: 'r', text: 'hi' })).ok, true);
    const m = await got;
    assert.deepEqual([m.user, m.name, m.text], ['alice', 'Alice A.', 'hi']);

    await assert.rejects(connect(url, { token: token('mallory', { secret: 'wrong' }) }), (e) => /signature/i.test(e.message));
    await assert.rejects(connect(url, { token: token('old', { ttl: -3600 }) }), (e) => /expired/i.test(e.message));
    await assert.rejects(connect(url, { token: 'not.a.jwt' }), (e) => e.message.length > 0);
    await assert.rejects(connect(url, { token: 42 }), /token must be a string/);

    const viewer = await connect(url);
    sockets.push(viewer);
    const viewerJoin = await emitAck(viewer, 'new user', 'r');
    assert.equal(viewerJoin.ok, true);
    assert.match(viewerJoin.you.user, /^anon-/);
    assert.deepEqual([viewerJoin.you.anonymous, viewerJoin.you.can_post], [true, false]);
    const refused = await emitAck(viewer, 'new message', { room: 'r', text: 'hi' });
    assert.equal(refused.ok, false);
    assert.match(refused.error, /read-only/);
    const readOnly = await as(url, 'ro', { post: false });
    sockets.push(readOnly);
    await emitAck(readOnly, 'new user', 'r');
    assert.match((await emitAck(readOnly, 'new message', { room: 'r', text: 'x' })).error, /read-only/);
  });
  // Without --chat-secret the key is the data dir's own (created at first start, 0600): tokens
  // signed with any other key are refused; the platform mints with that key.
  const serve = await startServe();
  try {
    await assert.rejects(connect(serve.url, { token: token('alice') }), /bad signature/);
    const keyFile = path.join(serve.data, 'chat.secret');
    assert.equal(fs.statSync(keyFile).mode & 0o777, 0o600);
    const key = fs.readFileSync(keyFile, 'utf8').trim();
    assert.ok(key.length >= 32);
    const { code, stdout, stderr } = await runChiron(['chat', 'token', '--secret', key, '--user', 'alice']);
    assert.equal(code, 0, stderr);
    const s = await connect(serve.url, { token: stdout.trim() });
    s.close();
  } finally {
    await serve.stop();
  }
});

test('presence: joins and leaves are coalesced, users counted once per user id', async () => {
  await withServe([], async (url, sockets) => {
    const alice = await as(url, 'alice');
    sockets.push(alice);
    await emitAck(alice, 'new user', 'p');
    await nextEvent(alice, 'presence', (p) => p.count === 1);
    const events = collect(alice, 'presence');
    const bobs = await Promise.all([as(url, 'bob'), as(url, 'bob'), as(url, 'carol'), as(url, 'dave')]);
    sockets.push(...bobs);
    await Promise.all(bobs.map((s) => emitAck(s, 'new user', 'p')));
    await nextEvent(alice, 'presence', (p) => p.count === 4);
    const joined = events.flatMap((p) => p.joined.map((u) => u.user)).sort();
    assert.deepEqual(joined, ['bob', 'carol', 'dave']);  // bob's two tabs: one member
    assert.ok(events.length <= 2, `4 joins in one burst announced in ${events.length} events`);
    const members = await emitAck(alice, 'members', 'p');
    assert.equal(members.count, 4);
    // One of bob's tabs leaving changes nothing; the second one makes bob leave.
    bobs[0].close();
    bobs[1].close();
    const left = await nextEvent(alice, 'presence', (p) => p.left.length > 0);
    assert.deepEqual(left.left, [{ user: 'bob', name: 'bob' }]);
    assert.equal(left.count, 3);
  });
});

test('history: a reconnecting client gets exactly what it missed before the ack, or recovered:false', async () => {
  await withServe(['--chat-history', '5'], async (url, sockets) => {
    const alice = await as(url, 'alice');
    const bob = await as(url, 'bob');
    sockets.push(alice, bob);
    const join = await emitAck(alice, 'new user', 'h');
    await emitAck(bob, 'new user', 'h');
    const first = nextEvent(alice, 'new message');
    await emitAck(bob, 'new message', { room: 'h', text: 'seen' });
    const seen = await first;
    assert.equal(seen.seq, join.seq + 1);
    // The epoch is the bus's: known to the edge once the room has an event (a repeated join says it).
    const { epoch } = await emitAck(alice, 'new user', 'h');
    assert.ok(epoch.length > 0);
    alice.close();
    const last = { seq: seen.seq };
    for (let i = 0; i < 5; i++) await emitAck(bob, 'new message', { room: 'h', text: `missed ${i}` });
    const alice2 = await as(url, 'alice');
    sockets.push(alice2);
    const replayed = collect(alice2, 'new message');
    const ack = await emitAck(alice2, 'new user', 'h', { epoch, seq: last.seq });
    assert.equal(ack.recovered, true);
    assert.deepEqual(replayed.map((m) => m.text), ['missed 0', 'missed 1', 'missed 2', 'missed 3', 'missed 4']);
    assert.deepEqual(replayed.map((m) => m.seq), [1, 2, 3, 4, 5].map((i) => last.seq + i));
    assert.equal(ack.seq, last.seq + 5);
    // Too old (6 missed, ring of 5), a wrong epoch, or a seq from the future: recovered:false.
    alice2.close();
    for (let i = 0; i < 6; i++) await emitAck(bob, 'new message', { room: 'h', text: `later ${i}` });
    const alice3 = await as(url, 'alice');
    sockets.push(alice3);
    const none = collect(alice3, 'new message');
    const old = await emitAck(alice3, 'new user', 'h', { epoch, seq: ack.seq });
    assert.equal(old.recovered, false);
    assert.equal(old.seq, ack.seq + 6);
    assert.equal((await emitAck(alice3, 'new user', 'h', { epoch: 'other', seq: old.seq })).recovered, false);
    assert.equal(none.length, 0);
    assert.equal((await emitAck(alice3, 'new user', 'h', { epoch: 5 })).ok, false);
  });
});

test('a lone client that reconnects to an emptied room recovers (history keeps the room)', async () => {
  await withServe(['--chat-history', '10'], async (url, sockets) => {
    const alice = await as(url, 'alice');
    sockets.push(alice);
    await emitAck(alice, 'new user', 'solo');
    const sent = await emitAck(alice, 'new message', { room: 'solo', text: 'one' });
    const epoch = (await emitAck(alice, 'new user', 'solo')).epoch;
    alice.close();
    const again = await as(url, 'alice');
    sockets.push(again);
    const ack = await emitAck(again, 'new user', 'solo', { epoch, seq: sent.seq });
    assert.deepEqual([ack.recovered, ack.seq, ack.epoch], [true, sent.seq, epoch]);
  });
});

test('delete: the author or a moderator deletes; every member gets the tombstone; recovery replays the tombstone', async () => {
  await withServe(['--chat-history', '10'], async (url, sockets) => {
    const mod = await as(url, 'mod', { mod: ['d'] });
    const bob = await as(url, 'bob');
    const carol = await as(url, 'carol');
    sockets.push(mod, bob, carol);
    for (const s of [mod, bob, carol]) await emitAck(s, 'new user', 'd');
    const m1 = await emitAck(bob, 'new message', { room: 'd', text: 'oops' });
    const { epoch } = await emitAck(mod, 'new user', 'd');
    const m2 = await emitAck(carol, 'new message', { room: 'd', text: 'rude' });
    const refused = await emitAck(carol, 'delete message', { room: 'd', seq: m1.seq });
    assert.equal(refused.ok, false);
    const tombs = [mod, bob, carol].map((s) => nextEvent(s, 'message deleted', (t) => t.target === m1.seq));
    const del = await emitAck(bob, 'delete message', { room: 'd', seq: m1.seq });
    assert.equal(del.ok, true);
    for (const t of await Promise.all(tombs)) assert.deepEqual(t, { room: 'd', target: m1.seq, by: 'bob', seq: del.seq });
    const modDel = await emitAck(mod, 'delete message', { room: 'd', seq: m2.seq });
    assert.equal(modDel.ok, true);
    // A client that missed all of it gets both tombstones and neither message.
    const late = await as(url, 'late');
    sockets.push(late);
    const msgs = collect(late, 'new message');
    const dels = collect(late, 'message deleted');
    const ack = await emitAck(late, 'new user', 'd', { epoch, seq: m1.seq - 1 });
    assert.equal(ack.recovered, true);
    assert.equal(msgs.length, 0);
    assert.deepEqual(dels.map((t) => t.target), [m1.seq, m2.seq]);
  });
});

test('ban kicks the user and refuses rejoin until it expires; non-moderators cannot moderate', async () => {
  await withServe([], async (url, sockets) => {
    const mod = await as(url, 'mod', { mod: ['*'] });
    const bob = await as(url, 'bob');
    sockets.push(mod, bob);
    await emitAck(mod, 'new user', 'b');
    await emitAck(bob, 'new user', 'b');
    const notMod = await emitAck(bob, 'ban', { room: 'b', user: 'mod', seconds: 60 });
    assert.equal(notMod.ok, false);
    assert.match(notMod.error, /moderator/);
    assert.equal((await emitAck(bob, 'slow mode', { room: 'b', seconds: 5 })).ok, false);
    const banned = nextEvent(bob, 'banned');
    const seen = nextEvent(mod, 'moderation', (e) => e.action === 'ban');
    const ban = await emitAck(mod, 'ban', { room: 'b', user: 'bob', seconds: 1, reason: 'spam' });
    assert.equal(ban.ok, true);
    assert.ok(ban.until > Date.now());
    assert.deepEqual(await banned, { room: 'b', until: ban.until, reason: 'spam' });
    assert.deepEqual(await seen, { room: 'b', action: 'ban', user: 'bob', until: ban.until, seconds: 1, by: 'mod' });
    // Removed from the room: posting there is refused, and so is rejoining.
    assert.equal((await emitAck(bob, 'new message', { room: 'b', text: 'x' })).ok, false);
    const rejoin = await emitAck(bob, 'new user', 'b');
    assert.equal(rejoin.ok, false);
    assert.match(rejoin.error, /^banned until \d{4}-\d\d-\d\dT/);
    await new Promise((r) => setTimeout(r, Math.max(0, ban.until - Date.now()) + 100));  // the ban runs out
    assert.equal((await emitAck(bob, 'new user', 'b')).ok, true);
  });
});

test('mute refuses posts until lifted; slow mode refuses the 2nd post within the window (mods exempt)', async () => {
  await withServe([], async (url, sockets) => {
    const mod = await as(url, 'mod', { mod: ['m'] });
    const bob = await as(url, 'bob');
    sockets.push(mod, bob);
    await emitAck(mod, 'new user', 'm');
    await emitAck(bob, 'new user', 'm');
    const mute = await emitAck(mod, 'mute', { room: 'm', user: 'bob', seconds: 60 });
    assert.equal(mute.ok, true);
    const refused = await emitAck(bob, 'new message', { room: 'm', text: 'x' });
    assert.match(refused.error, /muted/);
    assert.deepEqual(await emitAck(mod, 'mute', { room: 'm', user: 'bob', seconds: 0 }), { ok: true, until: 0 });
    assert.equal((await emitAck(bob, 'new message', { room: 'm', text: 'back' })).ok, true);

    assert.equal((await emitAck(mod, 'slow mode', { room: 'm', seconds: 30 })).ok, true);
    assert.equal((await emitAck(bob, 'new message', { room: 'm', text: '1st' })).ok, true);
    const second = await emitAck(bob, 'new message', { room: 'm', text: '2nd' });
    assert.equal(second.ok, false);
    assert.match(second.error, /slow mode/);
    assert.equal((await emitAck(mod, 'new message', { room: 'm', text: 'mod 1' })).ok, true);
    assert.equal((await emitAck(mod, 'new message', { room: 'm', text: 'mod 2' })).ok, true);
    assert.equal((await emitAck(mod, 'slow mode', { room: 'm', seconds: 0 })).ok, true);
    assert.equal((await emitAck(bob, 'new message', { room: 'm', text: 'free' })).ok, true);
    assert.equal((await emitAck(mod, 'ban', { room: 'm', user: 'bob', seconds: -1 })).ok, false);
  });
});

// ---- two edges sharing Redis: presence merged per edge, moderation state replayed ----

test('two edges on Redis: presence counts users once across edges; a ban reaches an edge that subscribes later',
     { skip: !haveRedis && 'redis-server not installed' }, async () => {
  const redis = await new RedisServer(await freePort()).start();
  const port = redis.port;
  const edges = [], sockets = [];
  try {
    for (let i = 0; i < 2; i++) {
      edges.push(await startServe(['--chat-secret', SECRET, '--ns', 'off', '--redis', `redis://127.0.0.1:${port}`]));
    }
    const [a, b] = edges.map((e) => e.url);
    const alice = await as(a, 'alice');
    sockets.push(alice);
    await emitAck(alice, 'new user', 'x');
    const aliceSeesBob = nextEvent(alice, 'presence', (p) => p.joined.some((u) => u.user === 'bob'));
    const bob = await as(b, 'bob');
    sockets.push(bob);
    const bobSeesAlice = nextEvent(bob, 'presence', (p) => p.count === 2);  // edge A answers B's hello
    await emitAck(bob, 'new user', 'x');
    assert.equal((await aliceSeesBob).count, 2);
    assert.deepEqual((await bobSeesAlice).joined.map((u) => u.user).sort(), ['alice', 'bob']);
    // bob in a second tab on the other edge is still one member.
    const bobTab = await as(a, 'bob');
    sockets.push(bobTab);
    assert.equal((await emitAck(bobTab, 'new user', 'x')).members, 2);
    bob.close();
    bobTab.close();
    const left = await nextEvent(alice, 'presence', (p) => p.left.some((u) => u.user === 'bob'));
    assert.equal(left.count, 1);

    // A ban made on edge A for a room no edge has members in; carol then joins it on edge B.
    const mod = await as(a, 'mod', { mod: ['*'] });
    sockets.push(mod);
    assert.equal((await emitAck(mod, 'ban', { room: 'y', user: 'carol', seconds: 60, reason: 'r' })).ok, true);
    const carol = await as(b, 'carol');
    sockets.push(carol);
    const banned = nextEvent(carol, 'banned');
    const first = await emitAck(carol, 'new user', 'y');
    if (first.ok) assert.equal((await banned).room, 'y');  // the replayed state arrived after the join
    const again = await emitAck(carol, 'new user', 'y');
    assert.equal(again.ok, false);
    assert.match(again.error, /^banned until/);
  } finally {
    for (const s of sockets) s.close();
    await Promise.all(edges.map((e) => e.stop()));
    await redis.kill();
  }
});

test('malformed moderation, delete and recovery arguments get ack errors; the socket stays connected', async () => {
  await withServe(['--chat-history', '5'], async (url, sockets) => {
    const mod = await as(url, 'mod', { mod: ['*'] });
    sockets.push(mod);
    await emitAck(mod, 'new user', 'z');
    const bad = [
      ['ban'], ['ban', 'z'], ['ban', { room: 'z' }], ['ban', { room: 'z', user: 'u', seconds: 'x' }],
      ['ban', { room: 'z', user: 'u', seconds: 1e12 }], ['ban', { room: 'z', user: '', seconds: 1 }],
      ['mute', { room: 5, user: 'u', seconds: 1 }], ['slow mode', { room: 'z', seconds: -5 }],
      ['delete message', { room: 'z' }], ['delete message', { room: 'z', seq: 'one' }], ['delete message', []],
      ['new user', 'z', { epoch: 'e' }], ['new user', 'z', { seq: 1 }], ['new user', 'z', 'nope'], ['members'],
    ];
    for (const args of bad) {
      const ack = await emitAck(mod, ...args);
      assert.equal(ack.ok, false, JSON.stringify(args));
      assert.equal(typeof ack.error, 'string');
    }
    assert.equal(mod.connected, true);
    assert.equal((await emitAck(mod, 'members', 'z')).count, 1);
  });
});
