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

// Spawns `chiron ARGS` and resolves once every listener in `ready` has printed its
// "listening NAME=HOST:PORT" line. The handle's stop() signals the process, waits for it (20 s, then -9 and an error), and
// removes `data` unless keepData. stdoutLines collects every stdout line.
async function startChiron(args, { ready, urlKey, data, keepData = false, timeoutMs = 15000 }) {
  const what = `chiron ${args[0]}`;
  const proc = spawn(CHIRON_BIN, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  const stdoutLines = [];
  proc.stderr.on('data', (d) => { stderr += d; });
  const listeners = {};
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => { proc.kill('SIGKILL'); reject(new Error(`${what} did not start in ${timeoutMs} ms: ${stderr}`)); }, timeoutMs);
    proc.on('exit', (code) => {
      clearTimeout(timer);
      if (!keepData) rmSync(data, { recursive: true, force: true });
      reject(new Error(`${what} exited ${code}: ${stderr}`));
    });
    readline.createInterface({ input: proc.stdout }).on('line', (line) => {
      stdoutLines.push(line);
      const m = /^listening (\w+)=(\S+)$/.exec(line);
      if (!m) return;
      listeners[m[1]] = m[2];
      if (ready.every((k) => listeners[k])) { clearTimeout(timer); resolve(); }
    });
  });
  proc.removeAllListeners('exit');
  const exited = new Promise((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })));
  return {
    proc, data, listeners, stdoutLines,
    url: `http://${listeners[urlKey]}`,
    stderr: () => stderr,
    exited,
    // A process that does not exit within timeoutMs of the signal is killed (-9) and the stop
    // fails: a hang on shutdown is a bug to report, never a process left behind.
    async stop(signal = 'SIGINT', { timeoutMs = 20000 } = {}) {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      let timer;
      const late = new Promise((resolve) => { timer = setTimeout(() => resolve(null), timeoutMs); });
      const result = await Promise.race([exited, late]);
      clearTimeout(timer);
      if (result === null) {
        proc.kill('SIGKILL');
        await exited;
      }
      if (!keepData) rmSync(data, { recursive: true, force: true });
      if (result === null) throw new Error(`${what} did not exit within ${timeoutMs} ms of ${signal}`);
      return result;
    },
  };
}

// Starts `chiron serve` on free ports and a fresh data directory.
export async function startServe(extraArgs = [], { timeoutMs = 15000 } = {}) {
  const data = tempDir();
  // The embedded name server gets free ports too, so tests can run in parallel.
  // RTMP on a free port unless the caller chose (e.g. `--rtmp off` for an edge).
  const rtmp = extraArgs.includes('--rtmp') ? [] : ['--rtmp', '127.0.0.1:0'];
  const args = ['serve', '--http', '127.0.0.1:0', ...rtmp, '--data', data,
                '--ns-listen', '127.0.0.1:0', '--ns-admin', '127.0.0.1:0',
                '--web', path.join(SOURCE_DIR, 'web'), '--log-level', 'warn', ...extraArgs];
  const ready = extraArgs[extraArgs.indexOf('--rtmp') + 1] === 'off' ? ['http'] : ['http', 'rtmp'];
  return startChiron(args, { ready, urlKey: 'http', data, timeoutMs });
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
  return startNsAt(tempDir('chiron-ns-test-'), extraArgs, { timeoutMs, keepData: false });
}

// ---- name-server helpers (data plane RESP client, admin JSON, events WebSocket) ----
import net from 'node:net';
import crypto from 'node:crypto';

// Like startNs, but on a caller-owned data directory that stop() leaves in place (restarts,
// crash tests).
export async function startNsAt(data, extraArgs = [], { timeoutMs = 15000, keepData = true } = {}) {
  const args = ['ns', '--listen', '127.0.0.1:0', '--admin', '127.0.0.1:0', '--data', data,
                '--web', path.join(SOURCE_DIR, 'web'), '--log-level', 'warn', ...extraArgs];
  return startChiron(args, { ready: ['ns', 'admin'], urlKey: 'admin', data, keepData, timeoutMs });
}

// RESP2 encoder/decoder for the data plane.
export function encodeResp(args) {
  let out = `*${args.length}\r\n`;
  for (const a of args) { const s = String(a); out += `$${Buffer.byteLength(s)}\r\n${s}\r\n`; }
  return out;
}

// Parses one RESP2 value at buf[pos]; returns [value, nextPos] or null when incomplete.
// Errors come back as {error: 'ERR ...'}.
export function parseResp(buf, pos = 0) {
  const eol = buf.indexOf('\r\n', pos);
  if (eol < 0) return null;
  const type = buf[pos], line = buf.toString('utf8', pos + 1, eol), next = eol + 2;
  switch (String.fromCharCode(type)) {
    case '+': return [line, next];
    case '-': return [{ error: line }, next];
    case ':': return [Number(line), next];
    case '$': {
      const n = Number(line);
      if (n < 0) return [null, next];
      if (buf.length < next + n + 2) return null;
      return [buf.toString('utf8', next, next + n), next + n + 2];
    }
    case '*': {
      const n = Number(line);
      if (n < 0) return [null, next];
      const items = [];
      let p = next;
      for (let i = 0; i < n; i++) {
        const r = parseResp(buf, p);
        if (!r) return null;
        items.push(r[0]);
        p = r[1];
      }
      return [items, p];
    }
    default: throw new Error(`bad RESP type byte ${type} in ${JSON.stringify(buf.toString('utf8', pos, pos + 40))}`);
  }
}

// A pipelining RESP client: send() resolves with the parsed reply, in order.
export class RespClient {
  static connect(hostPort, { timeoutMs = 5000 } = {}) {
    const [host, port] = hostPort.split(':');
    return new Promise((resolve, reject) => {
      const sock = net.connect(Number(port), host);
      const timer = setTimeout(() => { sock.destroy(); reject(new Error(`connect ${hostPort} timed out`)); }, timeoutMs);
      sock.once('connect', () => { clearTimeout(timer); resolve(new RespClient(sock)); });
      sock.once('error', (e) => { clearTimeout(timer); reject(e); });
    });
  }
  constructor(sock) {
    this.sock = sock;
    this.buf = Buffer.alloc(0);
    this.waiting = [];
    this.closed = false;
    sock.setNoDelay(true);
    sock.on('data', (d) => {
      this.buf = Buffer.concat([this.buf, d]);
      let pos = 0;
      while (this.waiting.length) {
        const r = parseResp(this.buf, pos);
        if (!r) break;
        pos = r[1];
        this.waiting.shift().resolve(r[0]);
      }
      this.buf = this.buf.subarray(pos);
    });
    const fail = (e) => {
      this.closed = true;
      for (const w of this.waiting.splice(0)) w.reject(e ?? new Error('connection closed'));
    };
    sock.on('error', fail);
    sock.on('close', () => fail(new Error('connection closed')));
  }
  // RESP array command.
  send(...args) { return this.#push(encodeResp(args)); }
  // Inline text command ("REQ web").
  sendInline(line) { return this.#push(`${line}\r\n`); }
  #push(bytes) {
    return new Promise((resolve, reject) => {
      if (this.closed) { reject(new Error('connection closed')); return; }
      this.waiting.push({ resolve, reject });
      this.sock.write(bytes);
    });
  }
  close() { this.sock.destroy(); }
}

// One command on a fresh connection.
export async function nsCommand(hostPort, ...args) {
  const c = await RespClient.connect(hostPort);
  try { return await c.send(...args); } finally { c.close(); }
}

// JSON over HTTP: resolves {status, headers, body (parsed JSON or text), text}.
export async function httpJson(url, { method = 'GET', body, token, rawBody, headers = {}, timeoutMs = 5000 } = {}) {
  const h = { ...headers };
  if (token) h.authorization = `Bearer ${token}`;
  let payload;
  if (rawBody !== undefined) payload = rawBody;
  else if (body !== undefined) { payload = JSON.stringify(body); h['content-type'] = 'application/json'; }
  const res = await fetch(url, { method, headers: h, body: payload, signal: AbortSignal.timeout(timeoutMs) });
  const text = await res.text();
  let parsed = text;
  try { parsed = JSON.parse(text); } catch { /* not JSON */ }
  return { status: res.status, headers: res.headers, body: parsed, text };
}

// Polls fn() until it returns a truthy value; rejects after timeoutMs with the last value.
export async function waitFor(fn, { timeoutMs = 5000, intervalMs = 50, what = 'condition' } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    last = await fn();
    if (last) return last;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

// A minimal RFC 6455 client (text frames in, masked frames out) for the events stream:
// next() resolves with the next text message parsed as JSON; `headers` go into the handshake.
export function wsConnect(url, { timeoutMs = 5000, headers = {} } = {}) {
  const u = new URL(url);
  const key = crypto.randomBytes(16).toString('base64');
  return new Promise((resolve, reject) => {
    const sock = net.connect(Number(u.port), u.hostname);
    const timer = setTimeout(() => { sock.destroy(); reject(new Error('websocket handshake timed out')); }, timeoutMs);
    let buf = Buffer.alloc(0);
    let open = false;
    const messages = [], waiters = [];
    let closedErr = null;
    const deliver = (m) => { if (waiters.length) waiters.shift().resolve(m); else messages.push(m); };
    const client = {
      status: 0,
      closeCode: null,
      next(ms = 5000) {
        if (messages.length) return Promise.resolve(messages.shift());
        if (closedErr) return Promise.reject(closedErr);
        return new Promise((res, rej) => {
          const w = { resolve: (m) => { clearTimeout(t); res(m); }, reject: (e) => { clearTimeout(t); rej(e); } };
          const t = setTimeout(() => { waiters.splice(waiters.indexOf(w), 1); rej(new Error(`no websocket message in ${ms} ms`)); }, ms);
          waiters.push(w);
        });
      },
      close() { sock.destroy(); },
    };
    sock.on('connect', () => {
      sock.write(`GET ${u.pathname}${u.search} HTTP/1.1\r\nHost: ${u.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
                 `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n` +
                 Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('') + '\r\n');
    });
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      if (!open) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = buf.toString('latin1', 0, end);
        client.status = Number(/^HTTP\/1\.1 (\d+)/.exec(head)?.[1] ?? 0);
        clearTimeout(timer);
        if (client.status !== 101) { sock.destroy(); resolve(client); return; }
        const accept = crypto.createHash('sha1').update(key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64');
        if (!new RegExp(`sec-websocket-accept: *${accept.replace(/[+/=]/g, '\\$&')}`, 'i').test(head)) {
          sock.destroy(); reject(new Error(`bad Sec-WebSocket-Accept in ${head}`)); return;
        }
        open = true;
        buf = buf.subarray(end + 4);
        resolve(client);
      }
      for (;;) {  // RFC 6455 §5.2 (server frames are unmasked)
        if (buf.length < 2) return;
        const op = buf[0] & 0x0f;
        let len = buf[1] & 0x7f, p = 2;
        if (len === 126) { if (buf.length < 4) return; len = buf.readUInt16BE(2); p = 4; }
        else if (len === 127) { if (buf.length < 10) return; len = Number(buf.readBigUInt64BE(2)); p = 10; }
        if (buf.length < p + len) return;
        const payload = buf.subarray(p, p + len);
        buf = buf.subarray(p + len);
        if (op === 1) deliver(JSON.parse(payload.toString('utf8')));
        else if (op === 9) {  // ping → masked pong
          const mask = crypto.randomBytes(4), body = Buffer.from(payload);
          for (let i = 0; i < body.length; i++) body[i] ^= mask[i & 3];
          sock.write(Buffer.concat([Buffer.from([0x8a, 0x80 | body.length]), mask, body]));
        } else if (op === 8) {
          client.closeCode = payload.length >= 2 ? payload.readUInt16BE(0) : 1005;
          sock.destroy();
        }
      }
    });
    const fail = (e) => { closedErr = e; clearTimeout(timer); for (const w of waiters.splice(0)) w.reject(e); if (!open) reject(e); };
    sock.on('error', fail);
    sock.on('close', () => fail(new Error('websocket closed')));
  });
}

// A browser's cookie jar for one origin: keeps chiron_session, sends the CSRF token.
export class Browser {
  constructor(base) { this.base = base; this.cookie = ''; this.csrf = ''; }
  async req(method, path, { body, raw, contentType, csrf = true, headers = {} } = {}) {
    const h = { ...headers };
    if (this.cookie) h.cookie = this.cookie;
    if (csrf && this.csrf && method !== 'GET') h['x-csrf-token'] = this.csrf;
    let payload;
    if (raw !== undefined) { payload = raw; if (contentType) h['content-type'] = contentType; }
    else if (body !== undefined) { payload = JSON.stringify(body); h['content-type'] = 'application/json'; }
    const res = await fetch(this.base + path, { method, headers: h, body: payload, signal: AbortSignal.timeout(10000) });
    const set = res.headers.get('set-cookie');
    if (set) {
      const pair = set.split(';')[0];
      this.cookie = /Max-Age=0/.test(set) ? '' : pair;
    }
    const text = await res.text();
    let json = null;
    try { json = JSON.parse(text); } catch { /* empty or not JSON */ }
    if (json && json.csrf) this.csrf = json.csrf;
    return { status: res.status, json, text, setCookie: set };
  }
}

