// Accounts, sessions and ratings of `chiron serve` over real HTTP (docs/platform-api.md
// "Authentication and CSRF", "Channels and sessions", "Ratings"): `chiron user add` output and
// exit codes, sign-up/log-in/log-out with a cookie jar, CSRF and content-type refusals, a
// session started and ended with the button, a reviewer recorded as participant through the
// live WebSocket, the streamer's rating, and the reviewer's profile.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import crypto from 'node:crypto';
import { rmSync } from 'node:fs';
import { Browser, tempDir, runChiron, startServe, waitFor } from '../lib/chiron.mjs';

// Opens the channel's live WebSocket with the browser's cookie; resolves once upgraded.
function openLive(base, channel, cookie) {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const sock = net.connect(Number(u.port), u.hostname);
    const timer = setTimeout(() => { sock.destroy(); reject(new Error('live websocket handshake timed out')); }, 5000);
    let head = '';
    sock.on('connect', () => {
      sock.write(`GET /api/v1/live?channel=${channel} HTTP/1.1\r\nHost: ${u.host}\r\nUpgrade: websocket\r\n` +
                 `Connection: Upgrade\r\nSec-WebSocket-Key: ${crypto.randomBytes(16).toString('base64')}\r\n` +
                 `Sec-WebSocket-Version: 13\r\nCookie: ${cookie}\r\n\r\n`);
    });
    sock.on('data', (d) => {
      if (head.includes('\r\n\r\n')) return;
      head += d.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      clearTimeout(timer);
      if (head.startsWith('HTTP/1.1 101')) resolve(sock);
      else { sock.destroy(); reject(new Error(`live websocket refused: ${head.split('\r\n')[0]}`)); }
    });
    sock.on('error', (e) => { clearTimeout(timer); reject(e); });
  });
}

test('chiron user add prints the secrets and reports errors by exit code', async () => {
  const data = tempDir();
  try {
    const made = await runChiron(['user', 'add', 'alice', '--data', data]);
    assert.equal(made.code, 0, made.stderr);
    const lines = made.stdout.trim().split('\n');
    assert.equal(lines.length, 3);
    assert.match(lines[0], /^stream_key=sk_[A-Za-z0-9_-]{32}$/);
    assert.match(lines[1], /^push_token=pt_[A-Za-z0-9_-]{43}$/);
    assert.match(lines[2], /^password=\S{16,}$/);

    const given = await runChiron(['user', 'add', 'bob', '--password', 'bobs password', '--display-name', 'Bob B',
                                   '--data', data]);
    assert.equal(given.code, 0, given.stderr);
    assert.deepEqual(given.stdout.trim().split('\n').map((l) => l.split('=')[0]), ['stream_key', 'push_token']);

    const dup = await runChiron(['user', 'add', 'alice', '--data', data]);
    assert.equal(dup.code, 1);
    assert.equal(dup.stdout, '');
    assert.match(dup.stderr, /already exists/);
    const bad = await runChiron(['user', 'add', 'Not A Name', '--data', data]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /name/);
    const short = await runChiron(['user', 'add', 'carol', '--password', 'short', '--data', data]);
    assert.equal(short.code, 2);
    const list = await runChiron(['user', 'list', '--data', data]);
    assert.equal(list.code, 0);
    assert.equal(list.stdout, 'alice\talice\nbob\tBob B\n');
  } finally {
    rmSync(data, { recursive: true, force: true });
  }
});

test('accounts, CSRF, sessions, participants and ratings over HTTP', async () => {
  const serve = await startServe();
  const sockets = [];
  try {
    const base = serve.url;
    // A user made by the CLI logs in over HTTP with its password.
    const cli = await runChiron(['user', 'add', 'carol', '--password', 'carols password', '--data', serve.data]);
    assert.equal(cli.code, 0, cli.stderr);
    const carol = new Browser(base);
    assert.equal((await carol.req('POST', '/api/v1/auth/login', { body: { name: 'carol', password: 'carols password' } })).status, 200);

    const alice = new Browser(base);
    const form = await alice.req('POST', '/api/v1/auth/signup', { raw: 'name=alice&password=xxxxxxxx',
                                                                 contentType: 'application/x-www-form-urlencoded' });
    assert.equal(form.status, 415);
    assert.equal(form.json.error.code, 'unsupported_media_type');
    const up = await alice.req('POST', '/api/v1/auth/signup', { body: { name: 'alice', password: 'alices password', display_name: 'Alice' } });
    assert.equal(up.status, 201, up.text);
    assert.match(up.setCookie, /^chiron_session=[A-Za-z0-9_-]{43}; /);
    assert.match(up.setCookie, /HttpOnly/);
    assert.match(up.setCookie, /SameSite=Lax/);
    assert.equal((await alice.req('POST', '/api/v1/auth/signup', { body: { name: 'alice', password: 'another one' } })).status, 409);
    const me = await alice.req('GET', '/api/v1/me');
    assert.equal(me.status, 200);
    assert.equal(me.json.user.display_name, 'Alice');
    assert.equal(me.json.channel.name, 'alice');

    // CSRF: the cookie alone changes nothing.
    const noToken = await alice.req('POST', '/api/v1/channels/alice/sessions', { body: {}, csrf: false });
    assert.equal(noToken.status, 403);
    assert.equal(noToken.json.error.code, 'csrf');
    const crossSite = await alice.req('PATCH', '/api/v1/channels/alice', { body: { title: 'x' }, headers: { origin: 'https://evil.example' } });
    assert.equal(crossSite.status, 403);

    const wrong = await new Browser(base).req('POST', '/api/v1/auth/login', { body: { name: 'alice', password: 'not the password' } });
    const unknown = await new Browser(base).req('POST', '/api/v1/auth/login', { body: { name: 'nobody', password: 'not the password' } });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.text, unknown.text);

    const bob = new Browser(base);
    assert.equal((await bob.req('POST', '/api/v1/auth/signup', { body: { name: 'bob', password: 'bobs password' } })).status, 201);

    // Session: start, second start refused, bob watches live (participant), end.
    const started = await alice.req('POST', '/api/v1/channels/alice/sessions', { body: {} });
    assert.equal(started.status, 201, started.text);
    assert.equal((await alice.req('POST', '/api/v1/channels/alice/sessions', { body: {} })).status, 409);
    assert.equal((await bob.req('POST', '/api/v1/channels/alice/sessions/current/end')).status, 403);
    sockets.push(await openLive(base, 'alice', bob.cookie));
    const sid = started.json.id;
    await waitFor(async () => {
      const s = await alice.req('GET', `/api/v1/sessions/${sid}`);
      return s.json.participants.some((p) => p.name === 'bob');
    }, { what: 'bob recorded as participant' });
    const rateLive = await alice.req('PUT', `/api/v1/sessions/${sid}/ratings/bob`,
      { body: { expertise: 5, helpfulness: 5, clarity: 5, examples: 5, timeliness: 5 } });
    assert.equal(rateLive.status, 409);
    assert.equal(rateLive.json.error.code, 'session_live');
    const ended = await alice.req('POST', '/api/v1/channels/alice/sessions/current/end');
    assert.equal(ended.status, 200, ended.text);
    assert.notEqual(ended.json.ended_at, null);
    assert.equal((await alice.req('POST', '/api/v1/channels/alice/sessions/current/end')).status, 409);

    // Ratings: only the streamer, only participants; create then edit.
    const scores = { expertise: 5, helpfulness: 4, clarity: 4, examples: 3, timeliness: 5, comment: 'clear and kind' };
    assert.equal((await bob.req('PUT', `/api/v1/sessions/${sid}/ratings/bob`, { body: scores })).status, 403);
    assert.equal((await alice.req('PUT', `/api/v1/sessions/${sid}/ratings/carol`, { body: scores })).status, 404);
    assert.equal((await alice.req('PUT', `/api/v1/sessions/${sid}/ratings/bob`, { body: { ...scores, clarity: 9 } })).status, 400);
    const created = await alice.req('PUT', `/api/v1/sessions/${sid}/ratings/bob`, { body: scores });
    assert.equal(created.status, 201, created.text);
    assert.equal(created.json.overall, 4.2);
    const edited = await alice.req('PUT', `/api/v1/sessions/${sid}/ratings/bob`, { body: { ...scores, examples: 5 } });
    assert.equal(edited.status, 200);
    assert.equal(edited.json.overall, 4.6);

    const profile = await new Browser(base).req('GET', '/api/v1/reviewers/bob');
    assert.equal(profile.status, 200);
    assert.equal(profile.json.user.name, 'bob');
    assert.equal(profile.json.summary.count, 1);
    assert.equal(profile.json.summary.overall, 4.6);
    assert.equal(profile.json.summary.examples, 5);
    assert.equal(profile.json.monthly.length, 1);
    assert.match(profile.json.monthly[0].month, /^\d{4}-\d{2}$/);
    assert.equal(profile.json.monthly[0].count, 1);
    assert.equal(profile.json.recent[0].comment, 'clear and kind');
    const top = await new Browser(base).req('GET', '/api/v1/reviewers');
    assert.equal(top.json.reviewers[0].user.name, 'bob');
    const bobSees = await bob.req('GET', `/api/v1/sessions/${sid}/ratings`);
    assert.equal(bobSees.json.ratings.length, 1);

    // Log-out: needs the token, clears the cookie, ends the session.
    assert.equal((await alice.req('POST', '/api/v1/auth/logout', { csrf: false })).status, 403);
    const cookie = alice.cookie;
    assert.equal((await alice.req('POST', '/api/v1/auth/logout')).status, 204);
    assert.equal(alice.cookie, '');
    const after = await fetch(base + '/api/v1/me', { headers: { cookie } });
    assert.equal(after.status, 401);
  } finally {
    for (const s of sockets) s.destroy();
    await serve.stop();
  }
});
