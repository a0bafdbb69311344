// The platform's live side through `chiron serve`: the channel WebSocket (/api/v1/live) — hello,
// viewers, file, session and comment events, access for private channels — and its links to the
// chat (line comments posted into the channel's room as system messages, chat messages counted
// per session) and to sessions (viewers present become participants).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { emitAck, nextEvent, sioConnect } from '../lib/chat.mjs';
import { httpJson, runChiron, startServe, waitFor, wsConnect } from '../lib/chiron.mjs';

// Logs in over HTTP: {cookie, csrf, call(method, path, body)}.
async function login(base, name, password) {
  const res = await httpJson(`${base}/api/v1/auth/login`, { method: 'POST', body: { name, password } });
  assert.equal(res.status, 200, res.text);
  const cookie = res.headers.get('set-cookie').split(';')[0];
  const csrf = res.body.csrf;
  const call = (method, path, body) =>
    httpJson(`${base}/api/v1${path}`, { method, body, headers: { cookie, 'x-csrf-token': csrf } });
  return { cookie, csrf, call };
}

async function addUser(data, name) {
  const r = await runChiron(['user', 'add', name, '--password', `${name}-password`, '--data', data]);
  assert.equal(r.code, 0, r.stderr);
  return Object.fromEntries(r.stdout.trim().split('\n').map((l) => l.split('=')));
}

// Next live event of `type` (skipping others).
async function nextOf(ws, type, ms = 5000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const m = await ws.next(Math.max(1, deadline - Date.now()));
    if (m.type === type) return m;
  }
}

test('live events, participants, comments into chat, chat counts, private channels', async () => {
  const serve = await startServe([]);
  const base = serve.url;
  const sockets = [];
  try {
    const alice = await addUser(serve.data, 'alice');
    await addUser(serve.data, 'bob');
    const a = await login(base, 'alice', 'alice-password');
    const b = await login(base, 'bob', 'bob-password');
    const wsUrl = `${base.replace('http:', 'ws:')}/api/v1/live?channel=alice`;
    // The push client learns its channel from its token alone.
    const whoami = await httpJson(`${base}/api/v1/push/channel`, { token: alice.push_token });
    assert.deepEqual([whoami.status, whoami.body.channel.name], [200, 'alice']);
    assert.equal((await b.call('GET', '/push/channel')).status, 401);
    assert.equal((await httpJson(`${base}/api/v1/push/channel`, { token: 'pt_forged' })).status, 401);

    // Bob (logged in) and an anonymous viewer open the channel: hello, then viewers.
    const bobLive = await wsConnect(wsUrl, { headers: { cookie: b.cookie } });
    sockets.push(bobLive);
    assert.equal(bobLive.status, 101);
    const hello = await bobLive.next();
    assert.deepEqual([hello.type, hello.channel, hello.live, hello.you], ['hello', 'alice', false, 'bob']);
    const anon = await wsConnect(wsUrl);
    sockets.push(anon);
    assert.equal((await anon.next()).you, null);
    const viewers = await waitFor(async () => {
      const v = await nextOf(bobLive, 'viewers');
      return v.anonymous === 1 ? v : null;
    }, { what: 'viewers with the anonymous one' });
    assert.deepEqual(viewers.viewers.map((v) => [v.name, v.owner]), [['bob', false]]);

    // Alice starts a session: both viewers hear it, and Bob, present, becomes a participant.
    const started = await a.call('POST', '/channels/alice/sessions', {});
    assert.equal(started.status, 201, started.text);
    const sessionEvent = await nextOf(bobLive, 'session');
    assert.equal(sessionEvent.state, 'live');
    assert.equal(sessionEvent.session.id, started.body.id);
    await waitFor(async () => {
      const s = await httpJson(`${base}/api/v1/sessions/${started.body.id}`);
      return s.body.participants?.some((p) => p.name === 'bob');
    }, { what: 'bob recorded as a participant' });

    // An operator adding a user next to the running server leaves its live session alone.
    await addUser(serve.data, 'carol');
    assert.equal((await httpJson(`${base}/api/v1/sessions/${started.body.id}`)).body.ended_at, null);

    // A pushed file reaches viewers as a `file` event after its version is committed.
    const put = await httpJson(`${base}/api/v1/channels/alice/files/src/app.js`, {
      method: 'PUT', token: alice.push_token, rawBody: 'const a = 1;\nconst b = 2;\n' });
    assert.equal(put.status, 201, put.text);
    const fileEvent = await nextOf(bobLive, 'file');
    assert.deepEqual([fileEvent.path, fileEvent.version, fileEvent.sha256, fileEvent.deleted],
                     ['src/app.js', 1, put.body.sha256, false]);
    assert.equal((await nextOf(anon, 'file')).path, 'src/app.js');

    // Chat: Bob's token names the channel's room; his messages are counted for the session.
    const tok = await b.call('GET', '/chat/token?channel=alice');
    assert.equal(tok.status, 200, tok.text);
    const chat = await sioConnect(base, { auth: { token: tok.body.token } });
    sockets.push({ close: () => chat.close() });
    const joined = await emitAck(chat, 'new user', tok.body.room);
    assert.equal(joined.you.user, 'bob');
    for (let i = 0; i < 3; i++) assert.equal((await emitAck(chat, 'new message', { room: tok.body.room, text: `hi ${i}` })).ok, true);

    // A line comment: a `comment` live event and a system message in the chat room.
    const sys = nextEvent(chat, 'new message', (m) => m.system === true);
    const posted = await b.call('POST', '/channels/alice/comments', { path: 'src/app.js', version: 1, line: 2, body: 'why const?' });
    assert.equal(posted.status, 201, posted.text);
    const commentEvent = await nextOf(bobLive, 'comment');
    assert.deepEqual([commentEvent.comment.path, commentEvent.comment.line, commentEvent.comment.body],
                     ['src/app.js', 2, 'why const?']);
    const m = await sys;
    assert.deepEqual([m.user, m.type, m.comment.id], ['system', 'comment', posted.body.id]);
    assert.match(m.text, /bob commented on src\/app\.js:2/);

    // Ending the session: the event, and its summary counts the chat and the code activity.
    const ended = await a.call('POST', '/channels/alice/sessions/current/end', {});
    assert.equal(ended.status, 200, ended.text);
    assert.equal((await nextOf(bobLive, 'session')).state, 'ended');
    const summary = await waitFor(async () => {
      const s = await httpJson(`${base}/api/v1/sessions/${started.body.id}`);
      return s.body.chat_messages === 3 ? s.body : null;
    }, { what: 'three chat messages counted' });
    assert.deepEqual([summary.files_touched, summary.comments], [1, 1]);

    // Private: outsiders (anonymous or logged in) are refused like an unknown channel.
    assert.equal((await a.call('PATCH', '/channels/alice', { private: true })).status, 200);
    for (const headers of [{}, { cookie: b.cookie }]) {
      const ws = await wsConnect(wsUrl, { headers });
      sockets.push(ws);
      await assert.rejects(ws.next(3000));
      assert.equal(ws.closeCode, 1008);
    }
    const own = await wsConnect(wsUrl, { headers: { cookie: a.cookie } });
    sockets.push(own);
    assert.equal((await own.next()).you, 'alice');
    const unknown = await wsConnect(`${base.replace('http:', 'ws:')}/api/v1/live?channel=nobody`);
    sockets.push(unknown);
    await assert.rejects(unknown.next(3000));
    assert.equal(unknown.closeCode, 1008);
  } finally {
    for (const s of sockets) s.close();
    await serve.stop();
  }
});
