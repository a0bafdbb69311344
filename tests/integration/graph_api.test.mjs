// GET /api/v1/graph of a real `chiron serve` (docs/platform-api.md "/api/v1/graph"): the
// process's fluxion graph with live counters. PUTs through the files API travel the files_*
// fluxions (src/store/put_flow.h); the document counts one message per PUT on each stream of
// the path they took, with a non-zero rate; the text form (?format=text, flux::write_text)
// describes the same program; the admin page that draws it is served at /admin/graph/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { startServe, httpJson, waitFor } from '../lib/chiron.mjs';

const sha256 = (s) => crypto.createHash('sha256').update(s).digest('hex');
let server;
let token;

before(async () => {
  server = await startServe();
  const name = 'grapher';
  const password = 'pw-grapher-secret';
  const signup = await fetch(`${server.url}/api/v1/auth/signup`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name, password }),
  });
  const text = await signup.text();
  assert.equal(signup.status, 201, text);
  const { csrf } = JSON.parse(text);
  const cookie = signup.headers.get('set-cookie').split(';')[0];
  const secrets = await httpJson(`${server.url}/api/v1/channels/${name}/secrets`, { headers: { cookie, 'x-csrf-token': csrf } });
  assert.equal(secrets.status, 200, secrets.text);
  token = secrets.body.push_token;
});

after(async () => { if (server) await server.stop(); });

async function put(p, content, headers = {}) {
  const res = await fetch(`${server.url}/api/v1/channels/grapher/files/${p}`, {
    method: 'PUT', headers: { authorization: `Bearer ${token}`, ...headers }, body: content, signal: AbortSignal.timeout(15000),
  });
  return { status: res.status, body: await res.json() };
}

async function graph() {
  const res = await fetch(`${server.url}/api/v1/graph`, { signal: AbortSignal.timeout(5000) });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type'), /^application\/json/);
  return res.json();
}

const byId = (doc) => Object.fromEntries(doc.fluxions.map((f) => [f.id, f]));
// Messages sent from `from` to `to` (the stream whose dest lists `to`).
function messages(doc, from, to) {
  const f = byId(doc)[from];
  assert.ok(f, `no fluxion ${from}`);
  const s = f.streams.find((st) => st.dest.includes(to));
  assert.ok(s, `${from} has no stream to ${to}`);
  return s;
}

// The path of a PUT that stores new content, and the refusal streams it does not take.
const SAVE_PATH = [['files_receive', 'files_authorize'], ['files_authorize', 'files_hash'], ['files_hash', 'files_blob'],
  ['files_blob', 'files_commit'], ['files_commit', 'files_notify'], ['files_notify', 'files_reply']];

test('the graph lists the files_* fluxions of the PUT path before any request', async () => {
  const doc = await graph();
  assert.equal(doc.version, 1);
  assert.equal(doc.window_s, 10);
  assert.ok(Math.abs(doc.now_ms - Date.now()) < 60000, `now_ms ${doc.now_ms}`);
  const f = byId(doc);
  for (const id of ['files_receive', 'files_authorize', 'files_hash', 'files_blob', 'files_commit', 'files_notify', 'files_reply']) {
    assert.ok(f[id], `missing ${id}`);
    for (const key of ['tags', 'ctx', 'streams', 'body', 'device', 'replicas', 'handled', 'failed', 'queued', 'busy_us']) {
      assert.ok(key in f[id], `${id}.${key}`);
    }
  }
  assert.equal(f.files_hash.device, 'cpu');
  assert.equal(f.files_commit.device, 'disk');
  assert.equal(f.files_reply.device, 'net');
  assert.deepEqual(f.files_commit.tags, ['files_versions']);
  assert.deepEqual(f.files_notify.tags, ['files_versions']);
  assert.equal(f.files_commit.replicas, 1);
  assert.ok(f.files_hash.replicas >= 1);
  assert.deepEqual(f.files_reply.streams, []);
  assert.equal(messages(doc, 'files_receive', 'files_authorize').type, 'start');
  assert.deepEqual(messages(doc, 'files_receive', 'files_authorize').vars, ['req', 'res']);
  for (const [a, b] of SAVE_PATH) assert.equal(messages(doc, a, b).messages, 0, `${a} -> ${b}`);
});

test('PUTs are counted on every stream they travel, with a rate', async () => {
  const n = 6;
  for (let i = 0; i < n; i++) {
    const content = `file ${i}\n`;
    const r = await put(`src/f${i}.txt`, content, { 'x-chiron-sha256': sha256(content) });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    assert.equal(r.body.sha256, sha256(content));
  }
  // A refusal takes the short way: files_hash -> files_reply.
  const bad = await put('src/bad.txt', 'abc', { 'x-chiron-sha256': sha256('other') });
  assert.equal(bad.status, 400);
  assert.equal(bad.body.error.code, 'checksum_mismatch');
  // An unchanged save: files_blob -> files_reply.
  const same = await put('src/f0.txt', 'file 0\n');
  assert.equal(same.status, 200);
  assert.equal(same.body.unchanged, true);

  // Counters are bumped as the reply goes out: wait (bounded) for the last one to land.
  const doc = await waitFor(async () => {
    const d = await graph();
    return byId(d).files_reply.handled === n + 2 ? d : null;
  }, { what: 'files_reply handled all PUTs' });
  assert.equal(messages(doc, 'files_receive', 'files_authorize').messages, n + 2);
  assert.equal(messages(doc, 'files_authorize', 'files_hash').messages, n + 2);
  assert.equal(messages(doc, 'files_hash', 'files_blob').messages, n + 1);
  assert.equal(messages(doc, 'files_hash', 'files_reply').messages, 1);
  assert.equal(messages(doc, 'files_blob', 'files_reply').messages, 1);
  for (const [a, b] of SAVE_PATH.slice(3)) assert.equal(messages(doc, a, b).messages, n, `${a} -> ${b}`);
  assert.equal(messages(doc, 'files_authorize', 'files_reply').messages, 0);
  assert.equal(messages(doc, 'files_authorize', 'files_commit').messages, 0);
  for (const [a, b] of SAVE_PATH) {
    const s = messages(doc, a, b);
    assert.ok(s.rate > 0, `${a} -> ${b} rate ${s.rate}`);
    assert.ok(s.rate <= s.messages / doc.window_s + 1e-9, `${a} -> ${b} rate ${s.rate} of ${s.messages}`);
  }
  const f = byId(doc);
  assert.equal(f.files_commit.handled, n);
  assert.equal(f.files_commit.failed, 0);
  assert.equal(f.files_blob.queued, 0);
  assert.ok(f.files_hash.busy_us >= 0);
});

// The fluxional text (paper Figure 1) as a structure: header, stream lines, body lines.
function parseText(text) {
  const out = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('flx ')) {
      const m = /^flx (\S+)(?: & ([^{]+?))?(?: \{(.*)\})?$/.exec(line);
      assert.ok(m, `header: ${line}`);
      out.push({ id: m[1], tags: m[2] ? m[2].split(', ') : [], ctx: m[3] ? m[3].split(', ') : [], streams: [] });
    } else if (line.startsWith('>> ') || line.startsWith('-> ')) {
      if (line === '-> null') continue;
      const m = /^(>>|->) ([^[]+?)(?: \[(.*)\])?$/.exec(line);
      assert.ok(m, `stream: ${line}`);
      out.at(-1).streams.push({ type: m[1] === '>>' ? 'start' : 'post', dest: m[2].split(', '), vars: m[3] ? m[3].split(', ') : [] });
    } else {
      assert.ok(line === '' || line.startsWith('  '), `body lines are indented: ${JSON.stringify(line)}`);
    }
  }
  return out;
}

test('the text form describes the same program as the JSON', async () => {
  const res = await fetch(`${server.url}/api/v1/graph?format=text`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type'), /^text\/plain/);
  const text = await res.text();
  assert.match(text, /^flx files_commit & files_versions$/m);
  assert.match(text, /^>> files_authorize \[req, res\]$/m);
  const doc = await graph();
  const fromJson = doc.fluxions.map((f) => ({
    id: f.id, tags: f.tags, ctx: f.ctx, streams: f.streams.map((s) => ({ type: s.type, dest: s.dest, vars: s.vars })),
  }));
  assert.deepEqual(parseText(text), fromJson);
  // Accept: text/plain gives the text too; an unknown format is a 400.
  const viaAccept = await fetch(`${server.url}/api/v1/graph`, { headers: { accept: 'text/plain' } });
  assert.match(viaAccept.headers.get('content-type'), /^text\/plain/);
  assert.equal(await viaAccept.text(), text);
  const bad = await httpJson(`${server.url}/api/v1/graph?format=xml`);
  assert.equal(bad.status, 400);
  assert.equal(bad.body.error.code, 'invalid_argument');
});

test('the admin page drawing the graph is served at /admin/graph/', async () => {
  const res = await fetch(`${server.url}/admin/graph/`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type'), /^text\/html/);
  const html = await res.text();
  assert.match(html, /<html/i);
});
