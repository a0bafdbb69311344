// Chat test helpers: the npm socket.io-client (resolved from the repository's node_modules, so
// integration tests need no NODE_PATH), and a real redis-server on a free loopback port.
import { execFile, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import path from 'node:path';
import { SOURCE_DIR } from './chiron.mjs';

const require = createRequire(path.join(SOURCE_DIR, 'package.json'));
export const haveSocketIoClient = (() => {
  try { require.resolve('socket.io-client'); return true; } catch { return false; }
})();
export const io = haveSocketIoClient ? require('socket.io-client').io : null;

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Resolves with a connected socket (WebSocket transport only, no reconnection) or rejects with the
// connect_error (the socket is closed then).
export function sioConnect(url, opts = {}) {
  const socket = io(url, { transports: ['websocket'], reconnection: false, timeout: 5000, ...opts });
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', (err) => { socket.close(); reject(err); });
  });
}

export const emitAck = (socket, ...args) => socket.timeout(5000).emitWithAck(...args);

// The next `name` event whose payload satisfies pred, within ms.
export const nextEvent = (socket, name, pred = () => true, ms = 5000) => new Promise((resolve, reject) => {
  const t = setTimeout(() => { socket.off(name, on); reject(new Error(`no matching ${name} in ${ms} ms`)); }, ms);
  function on(payload) {
    if (!pred(payload)) return;
    clearTimeout(t);
    socket.off(name, on);
    resolve(payload);
  }
  socket.on(name, on);
});

// A TCP port on 127.0.0.1 that was free a moment ago.
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => { const { port } = srv.address(); srv.close(() => resolve(port)); });
  });
}

// redis-cli's output (trimmed), or null on failure.
export function redisCli(port, ...args) {
  return new Promise((resolve) => {
    execFile('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], { timeout: 2000 },
             (err, stdout) => resolve(err ? null : stdout.trim()));
  });
}

export const haveRedis = await new Promise((resolve) => execFile('redis-server', ['--version'], (err) => resolve(!err)));

// A redis-server child (no persistence) on 127.0.0.1:port; start() waits until it answers PING.
export class RedisServer {
  constructor(port) { this.port = port; this.child = null; }

  async start() {
    this.child = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '',
                                        '--appendonly', 'no', '--logfile', '/dev/null'], { stdio: 'ignore' });
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline) {
      if (await redisCli(this.port, 'PING') === 'PONG') return this;
      await sleep(20);
    }
    await this.kill();
    throw new Error(`redis-server did not start on port ${this.port}`);
  }

  async kill() {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await gone;
  }
}
