// The files API of `chiron serve` over real HTTP with a push token (docs/platform-api.md
// "Files"): PUT/GET/history/list, resumable uploads, and kill -9 of the server in the middle
// of a large upload and of a burst of PUTs — after a restart on the same data dir no file is
// corrupted or half visible, every acknowledged version reads back with its sha256, and the
// upload resumes from the acknowledged offset.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import http from 'node:http';
import { rmSync } from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { CHIRON_BIN, SOURCE_DIR, tempDir, runChiron, httpJson } from '../lib/chiron.mjs';

const sha256 = (buf) => crypto.createHash('sha256').update(buf).digest('hex');
const dirs = [];
const procs = [];
after(() => {
  for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

// `chiron serve` on a caller-owned data dir (restarts keep it).
async function serveAt(data, { timeoutMs = 20000 } = {}) {
  const args = ['serve', '--http', '127.0.0.1:0', '--rtmp', '127.0.0.1:0', '--data', data,
                '--ns-listen', '127.0.0.1:0', '--ns-admin', '127.0.0.1:0',
                '--web', path.join(SOURCE_DIR, 'web'), '--log-level', 'warn'];
  const proc = spawn(CHIRON_BIN, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  procs.push(proc);
  let stderr = '';
  proc.stderr.on('data', (d) => { stderr += d; });
  const exited = new Promise((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })));
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => { proc.kill('SIGKILL'); reject(new Error(`serve did not start: ${stderr}`)); }, timeoutMs);
    exited.then(({ code }) => { clearTimeout(timer); reject(new Error(`serve exited ${code}: ${stderr}`)); });
    readline.createInterface({ input: proc.stdout }).on('line', (line) => {
      const m = /^listening http=(\S+)$/.exec(line);
      if (m) { clearTimeout(timer); resolve(`http://${m[1]}`); }
    });
  });
  return {
    url, proc, stderr: () => stderr,
    async kill9() { proc.kill('SIGKILL'); await exited; },
    async stop() {
      proc.kill('SIGINT');
      const t = setTimeout(() => proc.kill('SIGKILL'), 20000);
      await exited;
      clearTimeout(t);
    },
  };
}

// A user with a channel; returns its push token. `chiron user add` when the binary has it,
// else sign-up over HTTP and the channel's secrets.
async function makeUser(data, url, name) {
  const password = `pw-${name}-secret`;
  const r = await runChiron(['user', 'add', name, '--password', password, '--data', data]);
  const m = /^push_token=(\S+)$/m.exec(r.stdout);
  if (r.code === 0 && m) return m[1];
  const signup = await fetch(`${url}/api/v1/auth/signup`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name, password }),
  });
  assert.equal(signup.status, 201, `signup ${name}: ${await signup.text()}`);
  const { csrf } = await signup.json();
  const cookie = signup.headers.get('set-cookie').split(';')[0];
  const secrets = await httpJson(`${url}/api/v1/channels/${name}/secrets`, { headers: { cookie, 'x-csrf-token': csrf } });
  assert.equal(secrets.status, 200, secrets.text);
  return secrets.body.push_token;
}

async function put(url, channel, token, p, content, headers = {}) {
  const res = await fetch(`${url}/api/v1/channels/${channel}/files/${p}`, {
    method: 'PUT', headers: { authorization: `Bearer ${token}`, ...headers }, body: content, signal: AbortSignal.timeout(15000),
  });
  return { status: res.status, body: await res.json() };
}

async function get(url, channel, p, query = '') {
  const res = await fetch(`${url}/api/v1/channels/${channel}/files/${p}${query}`, { signal: AbortSignal.timeout(15000) });
  const buf = Buffer.from(await res.arrayBuffer());
  return { status: res.status, buf, headers: res.headers };
}

// One request with the path sent verbatim (no URL normalisation).
function rawRequest(url, method, rawPath, token, body) {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: u.hostname, port: u.port, path: rawPath, method,
                               headers: { authorization: `Bearer ${token}`, 'content-length': Buffer.byteLength(body) } },
                             (res) => {
                               let text = '';
                               res.on('data', (d) => { text += d; });
                               res.on('end', () => resolve({ status: res.statusCode, text }));
                             });
    req.on('error', reject);
    req.end(body);
  });
}

// Sends `body` as an upload chunk but writes only `sendBytes` of it, then leaves the request
// hanging (the server is killed underneath it).
function partialChunk(url, id, offset, token, body, sendBytes) {
  const u = new URL(`${url}/api/v1/uploads/${id}?offset=${offset}`);
  const req = http.request({ host: u.hostname, port: u.port, path: u.pathname + u.search, method: 'PUT',
                             headers: { authorization: `Bearer ${token}`, 'content-length': body.length } });
  req.on('error', () => {});
  req.write(body.subarray(0, sendBytes));
  return req;
}

test('files over HTTP: put, get, history, list, delete, upload, authorization', async () => {
  const data = tempDir('chiron-files-'); dirs.push(data);
  let srv = await serveAt(data);
  try {
    const token = await makeUser(data, srv.url, 'alice');
    const v1 = await put(srv.url, 'alice', token, 'src/main.cc', 'int main() { return 0; }\n');
    assert.equal(v1.status, 201, JSON.stringify(v1.body));
    assert.equal(v1.body.version, 1);
    const same = await put(srv.url, 'alice', token, 'src/main.cc', 'int main() { return 0; }\n');
    assert.equal(same.status, 200);
    assert.equal(same.body.unchanged, true);
    const v2 = await put(srv.url, 'alice', token, 'src/main.cc', 'int main() { return 1; }\n',
                         { 'x-chiron-sha256': sha256('int main() { return 1; }\n') });
    assert.equal(v2.status, 201);
    assert.equal(v2.body.version, 2);
    const bad = await put(srv.url, 'alice', token, 'x.txt', 'abc', { 'x-chiron-sha256': sha256('abd') });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.code, 'checksum_mismatch');

    const latest = await get(srv.url, 'alice', 'src/main.cc');
    assert.equal(latest.status, 200);
    assert.equal(latest.buf.toString(), 'int main() { return 1; }\n');
    assert.equal(latest.headers.get('x-chiron-version'), '2');
    assert.equal(latest.headers.get('content-type'), 'text/plain; charset=utf-8');
    assert.equal(latest.headers.get('etag'), `"${sha256(latest.buf)}"`);
    assert.equal((await get(srv.url, 'alice', 'src/main.cc', '?version=1')).buf.toString(), 'int main() { return 0; }\n');

    const hist = await httpJson(`${srv.url}/api/v1/channels/alice/history/src/main.cc`);
    assert.deepEqual(hist.body.versions.map((v) => v.version), [2, 1]);
    const list = await httpJson(`${srv.url}/api/v1/channels/alice/files`);
    assert.deepEqual(list.body.files.map((f) => f.path), ['src/main.cc']);
    assert.equal(list.body.quota_bytes, 100 * 1024 * 1024);

    // Authorization: no token, a wrong token, a traversal path.
    const anon = await fetch(`${srv.url}/api/v1/channels/alice/files/a.txt`, { method: 'PUT', body: 'x' });
    assert.equal(anon.status, 401);
    const wrong = await put(srv.url, 'alice', 'not-a-token', 'a.txt', 'x');
    assert.equal(wrong.status, 401);
    // (fetch would normalise the dot segments away; the raw request keeps them.)
    for (const bad of ['a/%2e%2e/%2e%2e/etc/passwd', 'a/%2E%2E', 'a%5Cb', 'a%00b', '%2Fetc%2Fpasswd']) {
      const trav = await rawRequest(srv.url, 'PUT', `/api/v1/channels/alice/files/${bad}`, token, 'x');
      assert.equal(trav.status, 400, `${bad}: ${trav.text}`);
      // (the HTTP layer already refuses a NUL in a path: 400 bad_request)
      if (bad !== 'a%00b') assert.equal(JSON.parse(trav.text).error.code, 'invalid_path', bad);
    }

    // Resumable upload of 9 MiB in 4 MiB chunks.
    const big = crypto.randomBytes(9 << 20);
    const created = await httpJson(`${srv.url}/api/v1/channels/alice/uploads`, {
      method: 'POST', token, body: { path: 'assets/big.bin', size: big.length, sha256: sha256(big) } });
    assert.equal(created.status, 201, created.text);
    const { upload_id: id, chunk_size: chunk } = created.body;
    let last;
    for (let off = 0; off < big.length; off += chunk) {
      const part = big.subarray(off, Math.min(off + chunk, big.length));
      last = await httpJson(`${srv.url}/api/v1/uploads/${id}?offset=${off}`, {
        method: 'PUT', token, rawBody: part, headers: { 'x-chiron-chunk-sha256': sha256(part) }, timeoutMs: 15000 });
      assert.equal(last.status, 200, last.text);
    }
    assert.equal(last.body.done, true);
    const got = await get(srv.url, 'alice', 'assets/big.bin');
    assert.equal(got.status, 200);
    assert.equal(sha256(got.buf), sha256(big));

    const del = await fetch(`${srv.url}/api/v1/channels/alice/files/src/main.cc`, {
      method: 'DELETE', headers: { authorization: `Bearer ${token}` } });
    assert.equal(del.status, 200);
    assert.equal((await get(srv.url, 'alice', 'src/main.cc')).status, 404);
    assert.equal((await get(srv.url, 'alice', 'src/main.cc', '?version=2')).status, 200);
  } finally {
    await srv.stop();
  }
});

test('kill -9 in the middle of a resumable upload: resumes from the acknowledged offset', async () => {
  const data = tempDir('chiron-files-crash-'); dirs.push(data);
  let srv = await serveAt(data);
  const token = await makeUser(data, srv.url, 'alice');
  const big = crypto.randomBytes(20 << 20);
  const created = await httpJson(`${srv.url}/api/v1/channels/alice/uploads`, {
    method: 'POST', token, body: { path: 'video/raw.bin', size: big.length, sha256: sha256(big) } });
  assert.equal(created.status, 201, created.text);
  const { upload_id: id, chunk_size: chunk } = created.body;
  let acked = 0;
  for (let i = 0; i < 2; i++) {
    const r = await httpJson(`${srv.url}/api/v1/uploads/${id}?offset=${acked}`, {
      method: 'PUT', token, rawBody: big.subarray(acked, acked + chunk), timeoutMs: 15000 });
    assert.equal(r.status, 200, r.text);
    acked = r.body.received;
  }
  // The third chunk is half sent when the server dies.
  const hanging = partialChunk(srv.url, id, acked, token, big.subarray(acked, acked + chunk), chunk / 2);
  await new Promise((r) => setTimeout(r, 200));
  await srv.kill9();
  hanging.destroy();

  srv = await serveAt(data);
  try {
    // Nothing of the upload is visible as a file.
    assert.equal((await get(srv.url, 'alice', 'video/raw.bin')).status, 404);
    const status = await httpJson(`${srv.url}/api/v1/uploads/${id}`, { token });
    assert.equal(status.status, 200, status.text);
    assert.equal(status.body.received, acked);
    // A client that thinks it is further along is told where to resume.
    const ahead = await httpJson(`${srv.url}/api/v1/uploads/${id}?offset=${acked + chunk}`, {
      method: 'PUT', token, rawBody: big.subarray(acked + chunk, acked + 2 * chunk) });
    assert.equal(ahead.status, 409);
    assert.equal(ahead.body.error.code, 'offset_mismatch');
    assert.equal(ahead.body.received, acked);
    let last;
    for (let off = status.body.received; off < big.length; off += chunk) {
      last = await httpJson(`${srv.url}/api/v1/uploads/${id}?offset=${off}`, {
        method: 'PUT', token, rawBody: big.subarray(off, Math.min(off + chunk, big.length)), timeoutMs: 15000 });
      assert.equal(last.status, 200, last.text);
    }
    assert.equal(last.body.done, true);
    assert.equal(last.body.sha256, sha256(big));
    const got = await get(srv.url, 'alice', 'video/raw.bin');
    assert.equal(sha256(got.buf), sha256(big));
    assert.equal(got.headers.get('x-chiron-sha256'), sha256(big));
  } finally {
    await srv.stop();
  }
});

test('kill -9 during a burst of PUTs: every acknowledged version is readable and intact', async () => {
  const data = tempDir('chiron-files-burst-'); dirs.push(data);
  let srv = await serveAt(data);
  const token = await makeUser(data, srv.url, 'alice');
  const acked = [];  // {path, version, sha}
  let stop = false;
  const paths = Array.from({ length: 6 }, (_, i) => `burst/f${i}.txt`);
  const worker = async (w) => {
    for (let i = 0; !stop && i < 400; i++) {
      const p = paths[(w + i) % paths.length];
      const content = Buffer.concat([Buffer.from(`${w}:${i}:`), crypto.randomBytes(1000 + ((w * 7919 + i * 104729) % 200000))]);
      try {
        const r = await put(srv.url, 'alice', token, p, content);
        if (r.status === 201) acked.push({ path: p, version: r.body.version, sha: sha256(content) });
        else assert.fail(`PUT ${p}: ${r.status} ${JSON.stringify(r.body)}`);
      } catch (e) {
        if (!stop) throw e;
      }
    }
  };
  const workers = Array.from({ length: 8 }, (_, w) => worker(w));
  const deadline = Date.now() + 10000;
  while (acked.length < 60 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  stop = true;
  await srv.kill9();
  await Promise.allSettled(workers);
  assert.ok(acked.length >= 60, `only ${acked.length} PUTs acknowledged before the kill`);

  srv = await serveAt(data);
  try {
    for (const a of acked) {
      const r = await get(srv.url, 'alice', a.path, `?version=${a.version}`);
      assert.equal(r.status, 200, `${a.path} v${a.version}`);
      assert.equal(sha256(r.buf), a.sha, `${a.path} v${a.version} content`);
      assert.equal(r.headers.get('x-chiron-sha256'), a.sha);
    }
    for (const p of paths) {
      const hist = await httpJson(`${srv.url}/api/v1/channels/alice/history/${p}`);
      if (hist.status === 404) { assert.ok(!acked.some((a) => a.path === p)); continue; }
      const versions = hist.body.versions.map((v) => v.version);
      assert.deepEqual(versions, Array.from({ length: versions.length }, (_, i) => versions.length - i), `${p} versions contiguous`);
      const latest = await get(srv.url, 'alice', p);
      assert.equal(latest.status, 200);
      assert.equal(sha256(latest.buf), latest.headers.get('x-chiron-sha256'), `${p} latest intact`);
      const maxAcked = Math.max(0, ...acked.filter((a) => a.path === p).map((a) => a.version));
      assert.ok(versions[0] >= maxAcked, `${p}: latest ${versions[0]} < acknowledged ${maxAcked}`);
    }
    // New saves still work and continue the numbering.
    const after = await put(srv.url, 'alice', token, paths[0], 'after the crash');
    assert.equal(after.status, 201);
  } finally {
    await srv.stop();
  }
});
