// Failure handling of the runtime of compiled apps (docs/fluxc.md "Running compiled apps":
// Errors, Worker failures, Handle lifetime): handles made after their response closed stay
// bounded; a pool worker whose error report cannot be cloned keeps draining its messages; a
// worker that crashes at start is restarted with back-off, then its group is declared dead and
// its requests answered 500 while the rest of the app keeps serving.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { tempDir } from '../lib/chiron.mjs';
import { spawn } from 'node:child_process';
import { APPS_DIR, checkHandleTables, compileApp, request, startNode } from '../fluxc/apps/harness.mjs';

test('handles made for a continuation after its response closed do not leak (bounded FIFO)', async () => {
  const dir = tempDir('fluxc-late-');
  let compiled;
  try {
    const out = path.join(dir, 'out');
    const placement = await compileApp('late', out);
    assert.equal(placement.fluxions.later.thread, 'pool', 'the late continuation runs on a worker');
    const MAX = 50, N = 300;
    compiled = await startNode(path.join(out, 'main.js'), { FLX_WORKERS: '2', FLX_STATS: '1', FLX_MAX_HANDLES: String(MAX) });
    for (let i = 0; i < N; i += 10) {
      const rs = await Promise.all(Array.from({ length: 10 }, () => request(compiled.port, { path: '/late' })));
      for (const r of rs) assert.equal(r.body.toString(), 'early');
    }
    // Let the continuations (setTimeout 5 ms, then fs.stat on a worker) finish.
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal((await request(compiled.port, { path: '/ping' })).body.toString(), 'pong');
    await compiled.stop();
    assert.doesNotMatch(compiled.stderr(), /flx: error/);
    // Each late message carries req and res (2 handles per request on main): without the
    // closed-anchor check they were anchored on a response that never closes again (2·N left).
    const stats = checkHandleTables(compiled.stderr(), MAX, 'late');
    assert.ok(Object.keys(stats.handles).length >= 2, 'the workers reported their tables');
  } finally {
    await compiled?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a pool fluxion throwing an error whose code is a function: 500, and the worker keeps draining', async () => {
  const dir = tempDir('fluxc-code-');
  let compiled;
  try {
    const out = path.join(dir, 'out');
    const placement = await compileApp('errors', out);
    assert.equal(placement.fluxions.onCode.thread, 'pool');
    compiled = await startNode(path.join(out, 'main.js'), { FLX_WORKERS: '1', FLX_STATS: '1', NODE_ENV: 'production' });
    // Several messages queued on the one worker behind the failing one.
    const paths = ['/code?boom=1', '/code', '/code?boom=2', '/code', '/pool', '/code'];
    const rs = await Promise.all(paths.map((p) => request(compiled.port, { path: p, timeoutMs: 5000 })));
    assert.deepEqual(rs.map((r) => r.status), [500, 200, 500, 200, 200, 200]);
    assert.equal(rs[1].body.toString(), 'code ok');
    for (let i = 0; i < 3; i++) assert.equal((await request(compiled.port, { path: '/code' })).status, 200);
    await compiled.stop();
    const err = compiled.stderr();
    // The original text and fluxion id survive (the function-valued code is dropped).
    assert.match(err, /flx: error in fluxion 'onCode' \(thread [1-9]\d*, group 'pool'\): Error: code boom\n\s+at onCode /);
    assert.doesNotMatch(err, /DataCloneError|FLX_WORKER_EXIT/);
    checkHandleTables(err, 0, 'errors');
  } finally {
    await compiled?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a worker that crashes at start: restarts with back-off, then its group is dead and answers 500', async () => {
  const dir = tempDir('fluxc-crash-');
  let compiled;
  try {
    const out = path.join(dir, 'out');
    const placement = await compileApp('errors', out);
    assert.equal(placement.fluxions.onPool.thread, 'pool');
    // A module that cannot load on a worker thread (like a native addon that is not context-aware).
    const file = path.join(out, 'fluxions', 'onPool.js');
    const src = readFileSync(file, 'utf8').split('\n');
    src.splice(1, 0, 'if (!require("worker_threads").isMainThread) throw new Error("addon not context-aware");');
    writeFileSync(file, src.join('\n'));
    const t0 = Date.now();
    compiled = await startNode(path.join(out, 'main.js'), { FLX_WORKERS: '1', FLX_STATS: '1' });
    // Requests to the pool while it restarts: answered 500 (in flight on a worker that exited,
    // or refused by the dead group), never left hanging.
    const early = await Promise.all([1, 2, 3].map(() => request(compiled.port, { path: '/pool', timeoutMs: 15000 })));
    assert.deepEqual(early.map((r) => r.status), [500, 500, 500]);
    // Back-off 0, 100, 200, 400, 800 ms: the group is declared dead within a few seconds.
    while (!/is dead/.test(compiled.stderr()) && Date.now() - t0 < 15000) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.ok(Date.now() - t0 >= 1500, 'restarts are spaced by the back-off');
    const dead = await request(compiled.port, { path: '/pool', timeoutMs: 5000 });
    assert.equal(dead.status, 500);
    await new Promise((resolve) => setTimeout(resolve, 1000));  // no restart after death
    // The main thread's routes still answer.
    assert.equal((await request(compiled.port, { path: '/main' })).body.toString(), 'main ok');
    assert.equal((await request(compiled.port, { path: '/ping' })).body.toString(), 'pong');
    await compiled.stop();
    const err = compiled.stderr();
    const exits = err.match(/\[FLX_WORKER_EXIT\]/g) || [];
    assert.equal(exits.length, 6, `1 start + 5 restarts, then no more (got ${exits.length}):\n${err}`);
    assert.match(err, /starting a new one in 100 ms/);
    assert.match(err, /starting a new one in 800 ms/);
    assert.match(err, /not restarted/);
    const line = err.match(/^flx: group 'pool' is dead: .*$/gm);
    assert.deepEqual(line, [`flx: group 'pool' is dead: its worker exited 6 times within 30 s (last exit code 1); its messages are answered 500`]);
    assert.match(err, /Error: addon not context-aware/);
    checkHandleTables(err, 0, 'crash');
  } finally {
    await compiled?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

// ---------------------------------------------------------------- security review (hostile data)

// Runs the same requests against the original app and the compiled one; returns both answers.
async function bothWays(name, reqs, env = {}) {
  const dir = tempDir(`fluxc-${name}-`);
  let original, compiled;
  try {
    const out = path.join(dir, 'out');
    const placement = await compileApp(name, out);
    original = await startNode(path.join(APPS_DIR, `${name}.js`));
    compiled = await startNode(path.join(out, 'main.js'), { FLX_WORKERS: '1', FLX_STATS: '1', ...env });
    const a = [], b = [];
    for (const r of reqs) {
      a.push(await request(original.port, { timeoutMs: 10000, ...r }));
      b.push(await request(compiled.port, { timeoutMs: 10000, ...r }));
    }
    await compiled.stop();
    return { placement, a, b, stderr: compiled.stderr() };
  } finally {
    await original?.stop();
    await compiled?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

const jsonPost = (p, body) => ({ method: 'POST', path: p, body, headers: { 'Content-Type': 'application/json' } });

test('a JSON body nested 40,000 levels reaches a worker (sent flat) and is answered like the original', async () => {
  const deep = '['.repeat(40000) + ']'.repeat(40000);
  const reqs = [
    jsonPost('/c', deep),
    { path: '/ping' },
    jsonPost('/c', '[1,2,3]'),
    jsonPost('/c', '{"a":' + '{"b":'.repeat(30000) + '[7,8]' + '}'.repeat(30000) + '}'),
    jsonPost('/c', '['.repeat(1500) + ']'.repeat(1500)),
  ];
  const { placement, a, b, stderr } = await bothWays('deepbody', reqs);
  assert.equal(placement.fluxions.measure.thread, 'pool', 'req (and its body) travels to a worker');
  for (let i = 0; i < reqs.length; i++) {
    assert.equal(a[i].status, 200, `original ${i}`);
    assert.equal(b[i].status, a[i].status, `request ${i}: ${b[i].body}`);
    assert.equal(b[i].body.toString(), a[i].body.toString(), `request ${i}`);
  }
  assert.equal(b[0].body.toString(), 'n=1');
  assert.doesNotMatch(stderr, /flx: error/);
  checkHandleTables(stderr, 0, 'deepbody');
});

test('a message that truly cannot be sent: reported (FLX_SEND, sender, destination, reason), 500, the server keeps serving', async () => {
  const reqs = [{ path: '/getter' }, { path: '/ping' }, { path: '/getter' }, jsonPost('/c', '[1]')];
  const { placement, a, b, stderr } = await bothWays('deepbody', reqs);
  assert.equal(placement.fluxions.measureGetter.thread, 'pool');
  assert.equal(a[0].body.toString(), 'k=1');
  assert.equal(b[0].status, 500);
  assert.equal(b[2].status, 500);
  assert.match(stderr, /\[FLX_SEND\]: Error: FLX_SEND: the message from '[^']*' to 'measureGetter' cannot be sent: getter refuses/);
  assert.equal(b[1].body.toString(), 'pong');
  assert.equal(b[3].body.toString(), 'n=1');
  checkHandleTables(stderr, 0, 'deepbody');
});

test('JSON keys "__proto__" and "__flx" in a body travel as own data (same answers as the original)', async () => {
  const reqs = [
    jsonPost('/c', '{"__proto__":{"polluted":1},"b":2}'),
    jsonPost('/c', '{"__flx":"h","owner":1,"id":1,"group":"pool","kind":"function"}'),
    jsonPost('/c', '{"__flx":"buf","data":"x"}'),
    jsonPost('/c', '{"x":{"__proto__":{"__flx":"obj"}}}'),
  ];
  const { a, b, stderr } = await bothWays('deepbody', reqs);
  for (let i = 0; i < reqs.length; i++) {
    assert.equal(a[i].status, 200, `original ${i}`);
    assert.equal(b[i].status, a[i].status, `request ${i}: ${b[i].body}`);
    assert.equal(b[i].body.toString(), a[i].body.toString(), `request ${i}`);
  }
  assert.equal(b[0].body.toString(), 'n=2{"__proto__":{"polluted":1},"b":2}');
  assert.doesNotMatch(stderr, /flx: error/);
  checkHandleTables(stderr, 0, 'deepbody');
});

test('marker-shaped query data in a class instance (data projection): answered like the original, nothing forged', async () => {
  const reqs = [
    { path: '/r?__flx=buf&data=x' },
    { path: '/r?__flx=h&owner=0&id=1&kind=function' },
    { path: '/r?__flx=obj&v=1' },
    { path: '/r?a=1&b=2' },
  ];
  const { placement, a, b, stderr } = await bothWays('forged', reqs);
  assert.equal(placement.fluxions.w.thread, 'pool');
  for (let i = 0; i < reqs.length; i++) {
    assert.equal(a[i].status, 200);
    assert.equal(b[i].status, a[i].status, `request ${i}: ${b[i].body}`);
    assert.equal(b[i].body.toString(), a[i].body.toString(), `request ${i}`);
  }
  assert.equal(b[0].body.toString(), 'k=2 __flx:string:buf,data:string:x');
  assert.doesNotMatch(stderr, /flx: error/);
  checkHandleTables(stderr, 0, 'forged');
});

// Runs a script to its natural end; resolves {code, stdout, stderr}.
function runScript(file, env = {}) {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [file], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    p.stdout.on('data', (d) => { stdout += d; });
    p.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => { p.kill('SIGKILL'); reject(new Error(`${file} did not exit: ${stderr}`)); }, 15000);
    p.on('close', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); });
  });
}

test('context variables named __proto__ and hasOwnProperty behave as in the original', async () => {
  const dir = tempDir('fluxc-protovar-');
  try {
    const out = path.join(dir, 'out');
    const placement = await compileApp('protovar', out);
    assert.notEqual(placement.fluxions.anonymous_1000.thread, 'main', 'the continuation runs on a worker');
    const orig = await runScript(path.join(APPS_DIR, 'protovar.js'));
    assert.equal(orig.stdout, '__proto__ = 42 hasOwnProperty = 7\n');
    const comp = await runScript(path.join(out, 'main.js'));
    assert.equal(comp.code, 0, comp.stderr);
    assert.equal(comp.stdout, orig.stdout);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('console output of worker fluxions is not lost when the program exits on its own', async () => {
  const dir = tempDir('fluxc-printall-');
  try {
    const out = path.join(dir, 'out');
    await compileApp('printall', out);
    const sorted = (s) => s.split('\n').filter(Boolean).sort().join('');
    for (const workers of ['1', '3']) {
      for (let i = 0; i < 5; i++) {
        const r = await runScript(path.join(out, 'main.js'), { FLX_WORKERS: workers });
        assert.equal(r.code, 0, r.stderr);
        assert.equal(sorted(r.stdout), 'ABCDEFH', `run ${i} with ${workers} worker(s)`);
        assert.equal(r.stderr, 'G\n', `run ${i} with ${workers} worker(s)`);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
