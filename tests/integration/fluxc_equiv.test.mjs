// Equivalence of compiled apps (issue 8 "Proof"): each test app runs as written (node app.js)
// and compiled (chiron fluxc -o DIR; node DIR/main.js) on two free 127.0.0.1 ports; the same
// request script is replayed against both and status, the headers that matter and the body
// bytes must be equal. The compiled run must report no FLX_ISOLATION (nor any fluxion error),
// and every fluxion placed off the main thread that ran must have run on a worker (thread ≠ 0).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { tempDir } from '../lib/chiron.mjs';
import { APPS_DIR, checkHandleTables, compileApp, readTrace, request, startNode } from '../fluxc/apps/harness.mjs';

const HEADERS = ['content-type', 'content-length', 'transfer-encoding', 'etag', 'x-powered-by', 'x-own', 'x-route'];

const json = (doc) => ({ body: JSON.stringify(doc), headers: { 'Content-Type': 'application/json' } });
const get = (p) => ({ method: 'GET', path: p });
const post = (p, extra) => ({ method: 'POST', path: p, ...extra });

const SCRIPTS = {
  listing1: [get('/'), get('/'), get('/'), get('/ping'), get('/')],
  counters: [get('/a'), get('/a'), get('/b'), get('/a'), get('/b'), get('/own'), get('/own'), get('/own'),
             get('/a'), get('/nope'), get('/ping')],
  files: [get('/file/hello.txt'), get('/file/hello.txt?upper=1'), get('/file/blob.bin'), get('/file/data.json'),
          get('/file/missing.txt'), get('/size/hello.txt'), get('/size/nope.txt'), get('/ping')],
  binary: [post('/pack', json({ values: [1, -2, 300000, 7] })), post('/pack', json({ values: [] })),
           post('/pack', { body: '{not json', headers: { 'Content-Type': 'application/json' } }),
           post('/sum', json({ values: [1.5, 2.25, -4] })), post('/pack', json({ values: [42] })), get('/ping')],
  chunked: [get('/stream'), get('/later?tag=x'), get('/stream'), get('/ping')],
  states: [get('/?count=3'), get('/?count=1'), get('/'), get('/ping')],
  burn: [get('/burn?seed=1'), get('/burn?seed=2'), get('/ping')],
  persist: [get('/last/a'), get('/last/bb'), get('/ping'), get('/last/c'), get('/last/d')],
  // A throwing fluxion answers 500 like express does (on main, on a pool worker, and with an
  // error whose code is a function, which cannot be cloned to the main thread).
  errors: [get('/main?boom=1'), get('/main'), get('/pool?boom=1'), get('/pool'), get('/code?boom=1'), get('/code'),
           get('/code?boom=1'), get('/pool?boom=2'), get('/ping')],
};
const ENV = { BURN_ROUNDS: '200000' };
// Per app. errors: NODE_ENV=production for both runs, because express's default error page
// (finalhandler) shows err.stack in development, and the stack's frames differ (the compiled
// handler lives in fluxions/<id>.js); in production the page is the same bytes for both.
const APP_ENV = { errors: { NODE_ENV: 'production' } };
// Apps whose fluxions throw on purpose: their errors are reported (flx: error …), not a failure.
const THROWS = new Set(['errors']);

async function replay(port, script) {
  const out = [];
  for (const step of script) out.push(await request(port, step));
  return out;
}

function summary(r) {
  const h = {};
  for (const k of HEADERS) if (r.headers[k] !== undefined) h[k] = r.headers[k];
  return { status: r.status, headers: h, body: r.body.toString('base64') };
}

for (const [app, script] of Object.entries(SCRIPTS)) {
  test(`compiled ${app}.js answers like the original`, async () => {
    const dir = tempDir('fluxc-equiv-');
    const trace = path.join(dir, 'trace.jsonl');
    const env = { ...ENV, ...(APP_ENV[app] || {}), FLX_STATES_DIR: dir };
    let original, compiled;
    try {
      const placement = await compileApp(app, path.join(dir, 'out'));
      original = await startNode(path.join(APPS_DIR, `${app}.js`), env);
      compiled = await startNode(path.join(dir, 'out', 'main.js'),
                                 { ...env, FLX_TRACE: trace, FLX_WORKERS: '2', FLX_STATS: '1' });
      const want = await replay(original.port, script);
      const got = await replay(compiled.port, script);
      for (let i = 0; i < script.length; i++) {
        assert.deepEqual(summary(got[i]), summary(want[i]), `${app}: ${script[i].method} ${script[i].path} (step ${i})`);
      }
      if (app === 'chunked') assert.equal(got[0].headers['transfer-encoding'], 'chunked');
      await compiled.stop();
      assert.doesNotMatch(compiled.stderr(), /FLX_ISOLATION/);
      if (THROWS.has(app)) {
        assert.match(compiled.stderr(), /flx: error in fluxion 'onPool' \(thread [1-9]\d*, group 'pool'\): Error: pool boom/);
        assert.match(compiled.stderr(), /flx: error in fluxion 'onCode' \(thread [1-9]\d*, group 'pool'\): Error: code boom/);
        assert.doesNotMatch(compiled.stderr(), /FLX_WORKER_EXIT|DataCloneError/);
      } else {
        assert.doesNotMatch(compiled.stderr(), /flx: error/);
      }
      // Every handle died with its request: the tables are empty once the answers are in.
      checkHandleTables(compiled.stderr(), 0, app);
      const runs = readTrace(trace);
      assert.ok(runs.some((r) => r.fluxion === 'main' && r.thread === 0), 'main ran on the main thread');
      const offMain = Object.entries(placement.fluxions).filter(([, p]) => p.thread !== 'main').map(([id]) => id);
      for (const r of runs) {
        if (offMain.includes(r.fluxion)) assert.notEqual(r.thread, 0, `${r.fluxion} is placed off the main thread`);
        else assert.equal(r.thread, 0, `${r.fluxion} is placed on the main thread`);
      }
      if (offMain.length > 0) {
        assert.ok(runs.some((r) => offMain.includes(r.fluxion) && r.thread !== 0), `${app}: an isolated fluxion ran on a worker`);
      }
      if (app === 'listing1' || app === 'burn') {
        assert.ok(runs.some((r) => r.fluxion === 'handler' && r.thread !== 0), `${app}: handler ran on a worker`);
      }
    } finally {
      await original?.stop();
      await compiled?.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test('a handle used outside its owner group is a clear FLX_ISOLATION error', async () => {
  const dir = tempDir('fluxc-iso-');
  let compiled;
  try {
    const out = path.join(dir, 'out');
    const placement = await compileApp('listing1', out);
    // Misplace `reply` (it calls res.send) on a worker group of its own.
    const from = placement.groups.find((g) => g.fluxions.includes('reply'));
    assert.equal(from.thread, 'main');
    from.fluxions = from.fluxions.filter((id) => id !== 'reply');
    placement.groups.push({ name: 'misplaced', thread: 'worker:99', tags: [], fluxions: ['reply'], ctx: ['count'] });
    placement.fluxions.reply = { group: 'misplaced', thread: 'worker:99' };
    writeFileSync(path.join(out, 'placement.json'), JSON.stringify(placement));
    compiled = await startNode(path.join(out, 'main.js'));
    // The run that failed carried the response: it is answered 500 (express's error page).
    const failed = await request(compiled.port, { path: '/', timeoutMs: 5000 });
    assert.equal(failed.status, 500);
    const err = compiled.stderr();
    assert.match(err, /FLX_ISOLATION/);
    assert.match(err, /fluxion 'reply' on thread [1-9]\d* \(group 'misplaced'\) read property 'send' of 'res'/);
    assert.match(err, /owned by group 'main' on thread 0/);
    // The runtime keeps serving: a route that stays on the main thread still answers.
    const pong = await request(compiled.port, { path: '/ping' });
    assert.equal(pong.body.toString(), 'pong');
  } finally {
    await compiled?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('every emitted module parses and main.js needs only the output directory', async () => {
  const dir = tempDir('fluxc-files-');
  try {
    const out = path.join(dir, 'out');
    const placement = await compileApp('listing1', out);
    const { execFileSync } = await import('node:child_process');
    for (const id of Object.keys(placement.fluxions)) {
      execFileSync(process.execPath, ['--check', path.join(out, 'fluxions', `${id}.js`)]);
    }
    const runtime = readFileSync(path.join(out, 'flx-runtime.js'), 'utf8');
    assert.match(runtime, /FLX_ISOLATION/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an error thrown by a fluxion on a worker is reported by the main thread with its id and stack', async () => {
  const dir = tempDir('fluxc-err-');
  let compiled;
  try {
    const out = path.join(dir, 'out');
    await compileApp('listing1', out);
    const file = path.join(out, 'fluxions', 'handler.js');
    const src = readFileSync(file, 'utf8');
    assert.match(src, /function handler\(req, res\) \{/);
    writeFileSync(file, src.replace('function handler(req, res) {', "function handler(req, res) { if (req.query.boom) throw new Error('boom ' + req.query.boom);"));
    compiled = await startNode(path.join(out, 'main.js'), { FLX_WORKERS: '1' });
    const failed = await request(compiled.port, { path: '/?boom=1', timeoutMs: 5000 });
    assert.equal(failed.status, 500, 'the request whose handler threw on a worker is answered 500 by main');
    assert.match(compiled.stderr(), /flx: error in fluxion 'handler' \(thread [1-9]\d*, group 'pool'\): Error: boom 1\n\s+at handler \(.*fluxions\/handler\.js:\d+:\d+\)/);
    // The worker survives: the next request through it is answered.
    const ok = await request(compiled.port, { path: '/' });
    assert.equal(ok.status, 200);
    assert.match(ok.body.toString(), /^request 1: /);
  } finally {
    await compiled?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a worker that dies mid-request is replaced: that request gets 500, the pool keeps serving', async () => {
  const dir = tempDir('fluxc-exit-');
  let compiled;
  try {
    const out = path.join(dir, 'out');
    await compileApp('listing1', out);
    const file = path.join(out, 'fluxions', 'handler.js');
    const src = readFileSync(file, 'utf8');
    writeFileSync(file, src.replace('function handler(req, res) {', 'function handler(req, res) { if (req.query.die) process.exit(7);'));
    compiled = await startNode(path.join(out, 'main.js'), { FLX_WORKERS: '1' });
    // The message in flight on the worker that exited is not replayed: its request gets 500.
    const lost = await request(compiled.port, { path: '/?die=1', timeoutMs: 5000 });
    assert.equal(lost.status, 500);
    assert.match(compiled.stderr(), /\[FLX_WORKER_EXIT\]: worker exited with code 7 holding 1 message\(s\) \(their requests are answered 500\); starting a new one\n/);
    const ok = await request(compiled.port, { path: '/' });
    assert.equal(ok.status, 200);
    assert.match(ok.body.toString(), /^request 1: /);
    // A second exit within the window is restarted after a back-off; the pool serves again.
    assert.equal((await request(compiled.port, { path: '/?die=1', timeoutMs: 5000 })).status, 500);
    const again = await request(compiled.port, { path: '/' });
    assert.equal(again.status, 200);
    assert.match(again.body.toString(), /^request 2: /);
    assert.match(compiled.stderr(), /holding 1 message\(s\) \(their requests are answered 500\); starting a new one in 100 ms/);
  } finally {
    await compiled?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
