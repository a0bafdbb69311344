// chiron push against a real `chiron serve`: start-up reconcile, edits, deletes, moves, the
// mkdir -p race of the paper's script (§8.2), ignore rules, a resumable 10 MB upload, the server
// killed -9 and restarted while the client runs, 1,000 files / 50 MB with --once, progress lines.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import readline from 'node:readline';
import { CHIRON_BIN, SOURCE_DIR, tempDir, runChiron, httpJson, waitFor } from '../lib/chiron.mjs';

const USERS = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'grace'];
const PASSWORD = 'correct-horse-battery';
let data;
let server;
const tokens = {};
const cleanups = [];

function sha(buf) { return createHash('sha256').update(buf).digest('hex'); }

// `chiron serve` on a caller-owned data dir (kept across restarts) and a given port (0 = any).
async function startServeAt(dataDir, port = 0, { timeoutMs = 15000 } = {}) {
  const args = ['serve', '--http', `127.0.0.1:${port}`, '--rtmp', '127.0.0.1:0', '--data', dataDir,
                '--ns-listen', '127.0.0.1:0', '--ns-admin', '127.0.0.1:0',
                '--web', path.join(SOURCE_DIR, 'web'), '--log-level', 'warn'];
  const proc = spawn(CHIRON_BIN, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  proc.stderr.on('data', (d) => { stderr += d; });
  const exited = new Promise((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })));
  const addr = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => { proc.kill('SIGKILL'); reject(new Error(`serve did not start: ${stderr}`)); }, timeoutMs);
    exited.then((r) => { clearTimeout(timer); reject(new Error(`serve exited ${JSON.stringify(r)}: ${stderr}`)); });
    readline.createInterface({ input: proc.stdout }).on('line', (line) => {
      const m = /^listening http=(\S+)$/.exec(line);
      if (m) { clearTimeout(timer); resolve(m[1]); }
    });
  });
  return {
    proc, exited, url: `http://${addr}`, port: Number(addr.split(':').pop()),
    async kill9() { proc.kill('SIGKILL'); await exited; },
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill('SIGINT');
      const t = setTimeout(() => proc.kill('SIGKILL'), 20000);
      await exited;
      clearTimeout(t);
    },
  };
}

// The real push client on `dir`; lines collects stdout (one log line per event).
function startPush(dir, user, extra = []) {
  const proc = spawn(CHIRON_BIN, ['push', dir, '--server', server.url, '--token', tokens[user],
                                  '--log-lines', '--debounce-ms', '20', '--retry-max-ms', '500', ...extra],
                     { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines = [];
  let stderr = '';
  readline.createInterface({ input: proc.stdout }).on('line', (l) => lines.push(l));
  proc.stderr.on('data', (d) => { stderr += d; });
  const exited = new Promise((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })));
  const handle = {
    proc, lines, exited, stderr: () => stderr,
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return exited;
      proc.kill('SIGINT');
      const t = setTimeout(() => proc.kill('SIGKILL'), 10000);
      const r = await exited;
      clearTimeout(t);
      return r;
    },
  };
  cleanups.push(() => handle.stop());
  return handle;
}

function runPushOnce(dir, user, extra = [], timeoutMs = 120000) {
  return runChiron(['push', dir, '--server', server.url, '--token', tokens[user], '--once',
                    '--log-lines', ...extra], { timeoutMs });
}

async function listing(user) {
  const r = await httpJson(`${server.url}/api/v1/channels/${user}/files`, { token: tokens[user], timeoutMs: 10000 });
  assert.equal(r.status, 200, r.text);
  return Object.fromEntries(r.body.files.map((f) => [f.path, f.sha256]));
}

// What the server should list for `dir`, given the files the test wrote (path → content).
function expected(files) {
  return Object.fromEntries(Object.entries(files).map(([p, c]) => [p, sha(c)]));
}

async function waitSynced(user, files, { timeoutMs = 15000, what = 'server listing' } = {}) {
  const want = expected(files);
  let last;
  try {
    await waitFor(async () => {
      last = await listing(user).catch(() => null);
      return last && JSON.stringify(sortObj(last)) === JSON.stringify(sortObj(want));
    }, { timeoutMs, intervalMs: 50, what });
  } catch (e) {
    assert.deepEqual(sortObj(last ?? {}), sortObj(want), e.message);
  }
}
function sortObj(o) { return Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : 1))); }

function write(dir, rel, content) {
  fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
  fs.writeFileSync(path.join(dir, rel), content);
}

before(async () => {
  data = tempDir('chiron-push-it-');
  for (const u of USERS) {
    const r = await runChiron(['user', 'add', u, '--password', PASSWORD, '--data', data]);
    assert.equal(r.code, 0, r.stderr);
    const m = /^push_token=(\S+)$/m.exec(r.stdout);
    assert.ok(m, `no push_token in ${r.stdout}`);
    tokens[u] = m[1];
  }
  server = await startServeAt(data);
});

after(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
  await server?.stop();
  fs.rmSync(data, { recursive: true, force: true });
});

test('reconcile, edits, deletes, moves, mkdir -p race, ignore rules', { timeout: 120000 }, async () => {
  const dir = tempDir('chiron-push-dir-');
  cleanups.push(async () => fs.rmSync(dir, { recursive: true, force: true }));
  const files = { 'README.md': '# hi\n', 'src/main.cc': 'int main() {}\n', 'src/util/u.h': '#pragma once\n' };
  for (const [p, c] of Object.entries(files)) write(dir, p, c);
  const push = startPush(dir, 'alice');
  await waitSynced('alice', files, { what: 'initial reconcile' });

  // Edit.
  files['src/main.cc'] = 'int main() { return 1; }\n';
  write(dir, 'src/main.cc', files['src/main.cc']);
  await waitSynced('alice', files, { what: 'edit' });

  // Delete.
  fs.rmSync(path.join(dir, 'README.md'));
  delete files['README.md'];
  await waitSynced('alice', files, { what: 'delete' });

  // File move and directory rename.
  fs.renameSync(path.join(dir, 'src/util/u.h'), path.join(dir, 'src/u2.h'));
  files['src/u2.h'] = files['src/util/u.h'];
  delete files['src/util/u.h'];
  await waitSynced('alice', files, { what: 'file move' });
  fs.renameSync(path.join(dir, 'src'), path.join(dir, 'lib'));
  for (const p of Object.keys(files)) {
    if (p.startsWith('src/')) { files[`lib/${p.slice(4)}`] = files[p]; delete files[p]; }
  }
  await waitSynced('alice', files, { what: 'directory rename' });
  write(dir, 'lib/after.txt', 'written into the renamed dir\n');
  files['lib/after.txt'] = 'written into the renamed dir\n';
  await waitSynced('alice', files, { what: 'write into renamed directory' });

  // The paper's race: a deep tree created and written at once, 20 times.
  for (let i = 0; i < 20; i++) {
    fs.mkdirSync(path.join(dir, `t${i}/a/b/c`), { recursive: true });
    fs.writeFileSync(path.join(dir, `t${i}/a/b/c/f`), `x${i}\n`);
    files[`t${i}/a/b/c/f`] = `x${i}\n`;
  }
  await waitSynced('alice', files, { what: 'mkdir -p race' });

  // Ignore rules: .gitignore and .chironignore (both files are themselves synced).
  write(dir, '.gitignore', 'build/\n*.log\n!keep.log\n');
  write(dir, '.chironignore', 'secrets.env\n');
  files['.gitignore'] = 'build/\n*.log\n!keep.log\n';
  files['.chironignore'] = 'secrets.env\n';
  write(dir, 'build/out.o', 'binary');
  write(dir, 'debug.log', 'noise');
  write(dir, 'keep.log', 'kept');
  write(dir, 'secrets.env', 'TOKEN=1');
  fs.mkdirSync(path.join(dir, '.git'), { recursive: true });
  write(dir, '.git/HEAD', 'ref: refs/heads/main\n');
  files['keep.log'] = 'kept';
  await waitSynced('alice', files, { what: 'ignore rules' });

  // Progress output: one line per event.
  assert.ok(push.lines.some((l) => /^upload path=src\/main\.cc bytes=\d+$/.test(l)), push.lines.join('\n'));
  assert.ok(push.lines.some((l) => l.startsWith('delete path=README.md')), push.lines.join('\n'));
  assert.ok(push.lines.some((l) => /^synced files=3 bytes=\d+ deleted=0 errors=0 ms=\d+$/.test(l)), push.lines.join('\n'));
  assert.ok(push.lines.some((l) => l.startsWith('copy path=')), 'a move is a copy by hash');
  const r = await push.stop();
  assert.equal(r.code, 0, push.stderr());
});

test('a 10 MB file goes through the resumable upload API', { timeout: 60000 }, async () => {
  const dir = tempDir('chiron-push-big-');
  cleanups.push(async () => fs.rmSync(dir, { recursive: true, force: true }));
  const big = randomBytes(10 * 1024 * 1024);
  write(dir, 'assets/big.bin', big);
  const r = await runPushOnce(dir, 'bob');
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const files = await listing('bob');
  assert.equal(files['assets/big.bin'], sha(big));
  const got = await fetch(`${server.url}/api/v1/channels/bob/files/assets/big.bin`,
                          { headers: { authorization: `Bearer ${tokens.bob}` }, signal: AbortSignal.timeout(10000) });
  assert.equal(sha(Buffer.from(await got.arrayBuffer())), sha(big));
});

test('kill -9 of the server while the client runs: it retries and converges', { timeout: 120000 }, async () => {
  const dir = tempDir('chiron-push-crash-');
  cleanups.push(async () => fs.rmSync(dir, { recursive: true, force: true }));
  const files = {};
  for (let i = 0; i < 20; i++) { files[`f${i}.txt`] = `v1 ${i}\n`; write(dir, `f${i}.txt`, files[`f${i}.txt`]); }
  const push = startPush(dir, 'carol');
  await waitSynced('carol', files, { what: 'before the crash' });
  // Kill while a 6 MB upload and edits are in flight, change things while it is down.
  const big = randomBytes(6 * 1024 * 1024);
  write(dir, 'big.bin', big);
  files['big.bin'] = big;
  await new Promise((r) => setTimeout(r, 30));
  const port = server.port;
  await server.kill9();
  for (let i = 0; i < 10; i++) { files[`f${i}.txt`] = `v2 ${i}\n`; write(dir, `f${i}.txt`, files[`f${i}.txt`]); }
  fs.rmSync(path.join(dir, 'f19.txt'));
  delete files['f19.txt'];
  write(dir, 'new/during/outage.txt', 'hello');
  files['new/during/outage.txt'] = 'hello';
  await waitFor(() => push.lines.some((l) => l.startsWith('retry in_ms=')), { timeoutMs: 10000, what: 'a retry line' });
  server = await startServeAt(data, port);
  await waitSynced('carol', files, { timeoutMs: 30000, what: 'convergence after restart' });
  assert.ok(push.lines.includes('recovered'), push.lines.join('\n'));
  assert.equal(push.proc.exitCode, null, 'the client keeps running');
  const r = await push.stop();
  assert.equal(r.code, 0);
});

test('1,000 files / 50 MB synced with --once', { timeout: 180000 }, async () => {
  const dir = tempDir('chiron-push-1k-');
  cleanups.push(async () => fs.rmSync(dir, { recursive: true, force: true }));
  const files = {};
  for (let i = 0; i < 1000; i++) {
    const p = `pkg${i % 20}/mod${i % 7}/file${i}.dat`;
    const c = randomBytes(50 * 1024 + (i % 100));
    files[p] = c;
    write(dir, p, c);
  }
  const t0 = Date.now();
  const r = await runPushOnce(dir, 'dave', [], 170000);
  const ms = Date.now() - t0;
  assert.equal(r.code, 0, r.stdout.slice(-2000) + r.stderr);
  const m = /^synced files=1000 bytes=(\d+) deleted=0 errors=0 ms=(\d+)$/m.exec(r.stdout);
  assert.ok(m, r.stdout.slice(-500));
  console.log(`push --once: 1000 files, ${(Number(m[1]) / 1e6).toFixed(1)} MB in ${ms} ms (client says ${m[2]} ms)`);
  await waitSynced('dave', files, { what: '1000 files' });
  // A second run has nothing to do.
  const again = await runPushOnce(dir, 'dave');
  assert.equal(again.code, 0);
  assert.match(again.stdout, /^scan local=1000 remote=1000 upload=0 delete=0$/m);
});

test('progress: a status line redrawn in place with --progress, nothing but errors with --quiet', { timeout: 30000 }, async () => {
  const dir = tempDir('chiron-push-progress-');
  cleanups.push(async () => fs.rmSync(dir, { recursive: true, force: true }));
  write(dir, 'a.txt', 'a');
  write(dir, 'b/c.txt', 'cc');
  const tty = await runChiron(['push', dir, '--server', server.url, '--token', tokens.frank, '--channel', 'frank',
                               '--once', '--progress']);
  assert.equal(tty.code, 0, tty.stderr);
  assert.ok(tty.stdout.includes('\r\x1b[K[synced] 2 files 3 B synced, 0 deleted, 0 pending, 0 errors'), JSON.stringify(tty.stdout));
  assert.match(tty.stdout, /synced files=2 bytes=3 deleted=0 errors=0 ms=\d+\n/);
  write(dir, 'd.txt', 'd');
  const quiet = await runChiron(['push', dir, '--server', server.url, '--token', tokens.frank, '--channel', 'frank',
                                 '--once', '--quiet']);
  assert.equal(quiet.code, 0, quiet.stderr);
  assert.equal(quiet.stdout, '');
  assert.equal((await listing('frank'))['d.txt'], sha('d'));
});

test('bad token / channel is a clear error with --once', { timeout: 30000 }, async () => {
  const dir = tempDir('chiron-push-bad-');
  cleanups.push(async () => fs.rmSync(dir, { recursive: true, force: true }));
  write(dir, 'a.txt', 'x');
  const r = await runChiron(['push', dir, '--server', server.url, '--token', 'nope', '--channel', 'erin', '--once']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /refused the push token for channel erin \(401/);
  // Without --channel the client asks the server whose token it holds: a forged one stops at once.
  const ask = await runChiron(['push', dir, '--server', server.url, '--token', 'nope', '--once']);
  assert.equal(ask.code, 2);
  assert.match(ask.stderr, /refused the push token/);
});

// A TLS-terminating proxy (node https, self-signed certificate for localhost) in front of serve.
test('https: verified against --ca-file; an untrusted certificate is a clear error, not a retry loop', { timeout: 60000 }, async () => {
  const dir = tempDir('chiron-push-tls-');
  cleanups.push(async () => fs.rmSync(dir, { recursive: true, force: true }));
  const key = path.join(dir, '..', `${path.basename(dir)}.key`), cert = path.join(dir, '..', `${path.basename(dir)}.pem`);
  cleanups.push(async () => { fs.rmSync(key, { force: true }); fs.rmSync(cert, { force: true }); });
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1',
                           '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost'], { stdio: 'ignore' });
  const target = new URL(server.url);
  const proxy = https.createServer({ key: fs.readFileSync(key), cert: fs.readFileSync(cert) }, (req, res) => {
    const up = http.request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
                            (r) => { res.writeHead(r.statusCode, r.headers); r.pipe(res); });
    up.on('error', () => { res.writeHead(502); res.end(); });
    req.pipe(up);
  });
  await new Promise((r) => proxy.listen(0, '127.0.0.1', r));
  cleanups.push(() => new Promise((r) => { proxy.closeAllConnections(); proxy.close(r); }));
  const url = `https://localhost:${proxy.address().port}`;
  write(dir, 'secure.txt', 'over TLS');
  const ok = await runChiron(['push', dir, '--server', url, '--token', tokens.grace, '--channel', 'grace', '--once', '--ca-file', cert]);
  assert.equal(ok.code, 0, ok.stdout + ok.stderr);
  assert.equal((await listing('grace'))['secure.txt'], sha('over TLS'));
  const untrusted = await runChiron(['push', dir, '--server', url, '--token', tokens.grace, '--channel', 'grace', '--once'],
                                    { timeoutMs: 20000 });
  assert.equal(untrusted.code, 1);
  assert.match(untrusted.stderr, /certificate verification failed/);
  // The certificate names localhost only: 127.0.0.1 is the right server under the wrong name.
  const wrongName = await runChiron(['push', dir, '--server', url.replace('localhost', '127.0.0.1'), '--token', tokens.grace,
                                     '--channel', 'grace', '--once', '--ca-file', cert], { timeoutMs: 20000 });
  assert.equal(wrongName.code, 1, wrongName.stdout);
});
