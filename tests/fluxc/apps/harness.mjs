// Helpers for the fluxc proofs (tests/integration/fluxc_equiv.test.mjs, tests/serial/fluxc_parallel.test.mjs):
// compile an app with `chiron fluxc -o`, start the original or the compiled main.js with node
// on a free 127.0.0.1 port, and make plain HTTP requests with bounded timeouts.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../lib/chat.mjs';
import { runChiron } from '../../lib/chiron.mjs';


export const APPS_DIR = path.dirname(fileURLToPath(import.meta.url));

export async function compileApp(name, outdir) {
  const r = await runChiron(['fluxc', path.join(APPS_DIR, `${name}.js`), '-o', outdir]);
  if (r.code !== 0) throw new Error(`chiron fluxc ${name}.js exited ${r.code}: ${r.stderr}`);
  return JSON.parse(readFileSync(path.join(outdir, 'placement.json'), 'utf8'));
}

// Starts `node script` with PORT set; resolves when it prints "listening".
export async function startNode(script, env = {}, { timeoutMs = 15000 } = {}) {
  const port = await freePort();
  const proc = spawn(process.execPath, [script], {
    env: { ...process.env, ...env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '', stderr = '';
  proc.stderr.on('data', (d) => { stderr += d; });
  let early;
  const exited = new Promise((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })));
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => { proc.kill('SIGKILL'); reject(new Error(`${script} did not start: ${stderr}`)); }, timeoutMs);
    proc.stdout.on('data', (d) => {
      stdout += d;
      if (/listening/.test(stdout)) { clearTimeout(timer); resolve(); }
    });
    early = (code) => { clearTimeout(timer); reject(new Error(`${script} exited ${code}: ${stderr}`)); };
    proc.on('exit', early);
  });
  proc.off('exit', early);
  return {
    port, proc,
    stderr: () => stderr,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      let timer;
      const late = new Promise((resolve) => { timer = setTimeout(() => resolve(null), 5000); });
      const done = await Promise.race([exited, late]);
      clearTimeout(timer);  // else every stop() keeps the test process alive 5 s
      if (done === null) { proc.kill('SIGKILL'); await exited; }
    },
  };
}

// One request on a fresh connection; resolves {status, headers, body: Buffer, ms}.
export function request(port, { method = 'GET', path: p = '/', body, headers = {}, timeoutMs = 10000 } = {}) {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path: p, headers, agent: false }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks),
                                    ms: performance.now() - started }));
      res.on('error', reject);
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`${method} ${p}: no answer in ${timeoutMs} ms`)));
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

export function readTrace(file) {
  let text = '';
  try { text = readFileSync(file, 'utf8'); } catch (_) { return []; }
  return text.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
}

// The handle tables' sizes a compiled app printed at exit with FLX_STATS=1
// (`flx: stats {"handles":{"<thread>":n,…},"errors":n}`), or null when it printed none.
export function handleStats(stderr) {
  const m = /flx: stats (\{.*\})/.exec(stderr);
  return m ? JSON.parse(m[1]) : null;
}

// Asserts every handle table a compiled app reported at exit holds at most `max` entries
// (0: every handle died with its request). Throws with the offending thread.
export function checkHandleTables(stderr, max = 0, what = 'app') {
  const stats = handleStats(stderr);
  if (!stats) throw new Error(`${what}: no stats line in: ${stderr}`);
  for (const [thread, n] of Object.entries(stats.handles)) {
    if (n > max) throw new Error(`${what}: ${n} handles left on thread ${thread} (at most ${max} expected)`);
  }
  return stats;
}
