// Test helpers: start the real `chiron` binary on 127.0.0.1:0 and wait for
// the "listening http=HOST:PORT" line it prints before serving.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import readline from 'node:readline';

export const CHIRON_BIN = process.env.CHIRON_BIN ?? path.resolve('build/apps/chiron');
export const SOURCE_DIR = process.env.CHIRON_SOURCE_DIR ?? path.resolve('.');

export function tempDir(prefix = 'chiron-test-') {
  return mkdtempSync(path.join(tmpdir(), prefix));
}

// Starts `chiron serve` and resolves once every expected listener is up.
export async function startServe(extraArgs = [], { timeoutMs = 15000 } = {}) {
  const data = tempDir();
  const args = ['serve', '--http', '127.0.0.1:0', '--rtmp', '127.0.0.1:0', '--data', data,
                '--web', path.join(SOURCE_DIR, 'web'), '--log-level', 'warn', ...extraArgs];
  const proc = spawn(CHIRON_BIN, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  proc.stderr.on('data', (d) => { stderr += d; });
  const listeners = {};
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`chiron serve did not start in ${timeoutMs} ms: ${stderr}`)), timeoutMs);
    proc.on('exit', (code) => { clearTimeout(timer); reject(new Error(`chiron serve exited ${code}: ${stderr}`)); });
    readline.createInterface({ input: proc.stdout }).on('line', (line) => {
      const m = /^listening (\w+)=(\S+)$/.exec(line);
      if (!m) return;
      listeners[m[1]] = m[2];
      if (listeners.http) { clearTimeout(timer); resolve(); }
    });
  });
  proc.removeAllListeners('exit');
  const exited = new Promise((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })));
  return {
    proc, data, listeners,
    url: `http://${listeners.http}`,
    stderr: () => stderr,
    exited,
    async stop(signal = 'SIGINT') {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      const result = await exited;
      rmSync(data, { recursive: true, force: true });
      return result;
    },
  };
}

// Runs the binary to completion and returns {code, stdout, stderr}.
export function runChiron(args, { timeoutMs = 30000 } = {}) {
  return new Promise((resolve, reject) => {
    const proc = spawn(CHIRON_BIN, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    proc.stdout.on('data', (d) => { stdout += d; });
    proc.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => { proc.kill('SIGKILL'); reject(new Error(`timeout: chiron ${args.join(' ')}`)); }, timeoutMs);
    proc.on('exit', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); });
  });
}

// Starts `chiron ns` (data plane + admin plane) and resolves once both listeners are up:
// listeners.ns is the data plane HOST:PORT, url the admin plane's http:// base.
export async function startNs(extraArgs = [], { timeoutMs = 15000 } = {}) {
  const data = tempDir('chiron-ns-test-');
  const args = ['ns', '--listen', '127.0.0.1:0', '--admin', '127.0.0.1:0', '--data', data,
                '--web', path.join(SOURCE_DIR, 'web'), '--log-level', 'warn', ...extraArgs];
  const proc = spawn(CHIRON_BIN, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  proc.stderr.on('data', (d) => { stderr += d; });
  const listeners = {};
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => { proc.kill('SIGKILL'); reject(new Error(`chiron ns did not start in ${timeoutMs} ms: ${stderr}`)); }, timeoutMs);
    proc.on('exit', (code) => { clearTimeout(timer); reject(new Error(`chiron ns exited ${code}: ${stderr}`)); });
    readline.createInterface({ input: proc.stdout }).on('line', (line) => {
      const m = /^listening (\w+)=(\S+)$/.exec(line);
      if (!m) return;
      listeners[m[1]] = m[2];
      if (listeners.ns && listeners.admin) { clearTimeout(timer); resolve(); }
    });
  });
  proc.removeAllListeners('exit');
  const exited = new Promise((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })));
  return {
    proc, data, listeners,
    url: `http://${listeners.admin}`,
    stderr: () => stderr,
    exited,
    async stop(signal = 'SIGINT') {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      const result = await exited;
      rmSync(data, { recursive: true, force: true });
      return result;
    },
  };
}
