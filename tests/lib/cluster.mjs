// Test helpers for `chiron node` clusters: K daemons either in Linux network namespaces joined
// by a bridge (scripts/cluster-netns.sh; root) or on loopback aliases 127.0.1.1…K (no root).
//
// Namespace mode: node i runs in namespace PREFIXi with --listen NET.i:7070 and --http NET.i:7080;
// the bridge has the host-side address NET.254/24, so the test (fetch, `chiron job submit`)
// reaches every node's HTTP API directly from the host — no `ip netns exec` per request, and a
// killed node's HTTP address simply stops answering. PREFIX/NET come from a claimed slot
// (cit0…cit9 / 10.79.0…9), so two test runs on one machine do not collide, and a slot left
// behind by a crashed run (its pid is dead) is torn down and reused.
//
// Loopback mode: node i listens on 127.0.1.i:PORT (one random free PORT for all; --subnet
// 127.0.1.0/24) and --http 127.0.0.1:0.
//
// As root every node gets --user nobody (the node refuses to run as root) and its data dir
// is chowned to nobody. A Cluster's stop() kills every node, tears the namespaces down and
// removes the temp dir; it also runs (synchronously) from process 'exit' if a test crashed.
import { spawn, execFileSync } from 'node:child_process';
import { chmodSync, chownSync, closeSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import readline from 'node:readline';
import { CHIRON_BIN, SOURCE_DIR, runChiron, tempDir } from './chiron.mjs';

export const NETNS_SCRIPT = path.join(SOURCE_DIR, 'scripts/cluster-netns.sh');
const NOBODY = 65534;
const isRoot = () => typeof process.getuid === 'function' && process.getuid() === 0;

// The ideal superior of position p with fanout f (null for the root), as in the issue.
export function idealSuperior(p, f) { return p <= 1 ? null : Math.floor((p - 2) / f) + 1; }

// Positions in the subtree of p among 1…n when every node has its ideal superior.
export function idealSubtree(p, n, f) {
  const out = [];
  const stack = [p];
  while (stack.length) {
    const q = stack.pop();
    out.push(q);
    for (let c = 2; c <= n; c++) if (idealSuperior(c, f) === q) stack.push(c);
  }
  return out.sort((a, b) => a - b);
}

// Why namespaces cannot be used here (null when they can).
export function netnsUnavailable() {
  if (process.platform !== 'linux') return `not Linux (${process.platform})`;
  if (!isRoot()) return `not root (uid ${process.getuid?.()}): network namespaces need root`;
  try { execFileSync('ip', ['-V'], { stdio: 'ignore' }); } catch { return 'no `ip` command (iproute2)'; }
  try {
    execFileSync('ip', ['netns', 'list'], { stdio: 'ignore' });
  } catch (e) { return `ip netns does not work: ${e.message}`; }
  return null;
}

function pidAlive(pid) {
  try { process.kill(pid, 0); return true; } catch (e) { return e.code === 'EPERM'; }
}

// Claims a namespace slot: an O_EXCL lock file holding our pid; a stale one (dead pid) is taken over.
function claimSlot() {
  for (let slot = 0; slot < 10; slot++) {
    const lock = path.join('/run/lock', `chiron-netns-cit${slot}.pid`);
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const fd = openSync(lock, 'wx');
        writeSync(fd, String(process.pid));
        closeSync(fd);
        return { slot, prefix: `cit${slot}`, net: `10.79.${slot}`, lock };
      } catch (e) {
        if (e.code !== 'EEXIST') throw e;
        let owner = 0;
        try { owner = Number(readFileSync(lock, 'utf8')); } catch { /* raced */ }
        if (owner && pidAlive(owner)) break;
        rmSync(lock, { force: true });  // stale: the run that held it is gone
      }
    }
  }
  throw new Error('no free namespace slot (cit0…cit9 all held by live processes)');
}

function netns(cmd, ...args) {
  return execFileSync('bash', [NETNS_SCRIPT, cmd, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

async function freePort(host) {
  for (let i = 0; i < 20; i++) {
    const port = 20000 + Math.floor(Math.random() * 40000);
    const ok = await new Promise((resolve) => {
      const s = net.createServer();
      s.once('error', () => resolve(false));
      s.listen(port, host, () => s.close(() => resolve(true)));
    });
    if (ok) return port;
  }
  throw new Error(`no free port on ${host}`);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Polls fn() until it returns a truthy value; the error says what and the last value seen.
export async function until(fn, { timeoutMs = 10000, intervalMs = 100, what = 'condition' } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last, lastErr;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) { lastErr = e; }
    if (Date.now() > deadline) {
      const detail = lastErr ? ` (last error: ${lastErr.message})` : ` (last: ${JSON.stringify(last)?.slice(0, 2000)})`;
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${detail}`);
    }
    await sleep(intervalMs);
  }
}

export async function getJson(url, { timeoutMs = 2000 } = {}) {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  const text = await res.text();
  if (!res.ok) throw new Error(`GET ${url} → ${res.status} ${text.slice(0, 300)}`);
  return JSON.parse(text);
}

// One `chiron node` daemon (position i). start()/kill()/restart() keep its data dir.
class ClusterNode {
  constructor(cluster, i, { keyFile } = {}) {
    this.cluster = cluster;
    this.i = i;
    this.keyFile = keyFile ?? cluster.keyFile;
    this.data = path.join(cluster.dir, `node${i}`);
    this.proc = null;
    this.log = [];       // stdout + stderr lines of every run (bounded)
    this.http = null;    // HOST:PORT of the HTTP listener
    this.starts = 0;
  }

  get address() { return this.cluster.address(this.i); }
  get url() { return `http://${this.http}`; }
  get running() { return this.proc !== null && this.proc.exitCode === null && this.proc.signalCode === null; }

  args(extra) {
    const c = this.cluster;
    const a = ['node', '--listen', c.hostPort(this.i, c.port), '--subnet', c.subnet, '--fanout', String(c.fanout),
               '--key-file', this.keyFile, '--data', this.data,
               '--http', c.mode === 'netns' ? c.hostPort(this.i, 7080) : '127.0.0.1:0',
               ...c.nodeArgs, ...extra];
    if (isRoot()) a.push('--user', 'nobody');
    return a;
  }

  push(line) {
    this.log.push(line);
    if (this.log.length > 4000) this.log.splice(0, 1000);
  }

  async start(extra = [], { timeoutMs = 15000 } = {}) {
    if (this.running) throw new Error(`node ${this.i} is already running`);
    mkdirSync(this.data, { recursive: true, mode: 0o700 });
    if (isRoot()) chownSync(this.data, NOBODY, NOBODY);
    const args = this.args(extra);
    const c = this.cluster;
    // `ip netns exec` execs the binary: the child's pid is the node's, kill -9 hits the node.
    // A wrapper (e.g. taskset -c K) must exec the binary too.
    const cmd = [...(c.wrap ? c.wrap(this.i) : []), CHIRON_BIN, ...args];
    const proc = c.mode === 'netns'
      ? spawn('ip', ['netns', 'exec', `${c.prefix}${this.i}`, ...cmd], { stdio: ['ignore', 'pipe', 'pipe'] })
      : spawn(cmd[0], cmd.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc = proc;
    this.starts++;
    this.push(`--- start #${this.starts}: chiron ${args.join(' ')}`);
    this.exited = new Promise((resolve) => proc.on('exit', (code, signal) => {
      this.push(`--- exit code=${code} signal=${signal}`);
      resolve({ code, signal });
    }));
    readline.createInterface({ input: proc.stderr }).on('line', (l) => this.push(`E ${l}`));
    const listening = {};
    await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`node ${this.i} did not print its listening lines in ${timeoutMs} ms:\n${this.tail(30)}`)), timeoutMs);
      proc.on('exit', () => { clearTimeout(timer); reject(new Error(`node ${this.i} exited while starting:\n${this.tail(30)}`)); });
      readline.createInterface({ input: proc.stdout }).on('line', (line) => {
        this.push(`O ${line}`);
        const m = /^listening (\w+)=(\S+)/.exec(line);
        if (!m) return;
        listening[m[1]] = m[2];
        if (listening.cluster && listening.http) { clearTimeout(timer); resolve(); }
      });
    }).catch(async (e) => { if (this.running) { proc.kill('SIGKILL'); await this.exited; } throw e; });
    this.http = listening.http;
    this.listening = listening;
    return this;
  }

  // kill -9; resolves once the process is gone.
  async kill() {
    if (!this.proc) return;
    if (this.running) this.proc.kill('SIGKILL');
    await this.exited;
  }

  // SIGTERM, then -9 after timeoutMs; returns {code, signal, hung}.
  async stop(timeoutMs = 10000) {
    if (!this.proc) return null;
    if (!this.running) return { ...(await this.exited), hung: false };
    this.proc.kill('SIGTERM');
    let timer;
    const late = new Promise((r) => { timer = setTimeout(() => r(null), timeoutMs); });
    const res = await Promise.race([this.exited, late]);
    clearTimeout(timer);
    if (res) return { ...res, hung: false };
    this.proc.kill('SIGKILL');
    return { ...(await this.exited), hung: true };
  }

  async restart(extra = []) { await this.kill(); return this.start(extra); }

  tail(n = 20) { return this.log.slice(-n).map((l) => `  [${this.i}] ${l}`).join('\n'); }

  api(p = '/api/v1/cluster', opts) { return getJson(`${this.url}${p}`, opts); }
  view() { return this.api('/api/v1/cluster'); }
}

export class Cluster {
  // size: nodes 1…size; extra: how many more namespaces/addresses to prepare (for nodes the
  // test adds itself, e.g. one with a different key). mode: 'auto' | 'netns' | 'loopback'.
  // wrap(i): a command prefix for node i that execs the rest (e.g. ['taskset', '-c', '0']).
  // family 6: IPv6 addresses fd00:79:SLOT::I (namespaces only).
  static async create({ size, extra = 0, fanout = 2, mode = 'auto', nodeArgs = [], wrap = null, family = 4 }) {
    const c = new Cluster();
    c.family = family;
    c.wrap = wrap;
    c.size = size;
    c.capacity = size + extra;
    c.fanout = fanout;
    c.nodeArgs = nodeArgs;
    c.dir = tempDir('chiron-cluster-');
    chmodSync(c.dir, 0o755);  // nobody must reach its data dir and the key file
    const why = netnsUnavailable();
    if (mode === 'netns' && why) throw new Error(`network namespaces unavailable: ${why}`);
    c.mode = mode === 'auto' ? (why ? 'loopback' : 'netns') : mode;
    c.reason = c.mode === 'netns' ? `network namespaces (root, ${NETNS_SCRIPT})` : `loopback aliases 127.0.1.1…${c.capacity}${why ? ` — namespaces unavailable: ${why}` : ''}`;
    process.on('exit', c.exitHook = () => c.stopSync());
    if (c.mode === 'netns') {
      c.slot = claimSlot();
      c.prefix = c.slot.prefix;
      c.net = c.slot.net;
      c.net6 = `fd00:79:${c.slot.slot}`;  // the script's ULA for --net 10.79.SLOT
      c.subnet = family === 6 ? `${c.net6}::/64` : `${c.net}.0/24`;
      c.port = 7070;
      netns('up', String(c.capacity), '--prefix', c.prefix, '--net', c.net);
    } else {
      if (family === 6) throw new Error('an IPv6 cluster needs network namespaces');
      c.net = '127.0.1';
      c.subnet = '127.0.1.0/24';
      c.port = await freePort('127.0.1.1');
    }
    c.keyFile = await c.keygen('cluster.key');
    c.nodes = [];
    for (let i = 1; i <= c.capacity; i++) c.nodes[i] = new ClusterNode(c, i);
    return c;
  }

  address(i) { return this.family === 6 ? `${this.net6}::${i.toString(16)}` : `${this.net}.${i}`; }
  hostPort(i, port) { return this.family === 6 ? `[${this.address(i)}]:${port}` : `${this.address(i)}:${port}`; }
  node(i) { return this.nodes[i]; }

  // `chiron node keygen` into DIR/name (readable by nobody when root).
  async keygen(name) {
    const r = await runChiron(['node', 'keygen']);
    if (r.code !== 0) throw new Error(`chiron node keygen exited ${r.code}: ${r.stderr}`);
    const key = r.stdout.trim();
    if (!/^[0-9a-f]{64}$/.test(key)) throw new Error(`chiron node keygen printed ${JSON.stringify(r.stdout)}`);
    const file = path.join(this.dir, name);
    writeFileSync(file, `${key}\n`, { mode: 0o600 });
    if (isRoot()) chownSync(file, NOBODY, NOBODY);
    return file;
  }

  // Starts nodes 1…size (in parallel, or `staggerMs` apart).
  async startAll({ staggerMs = 0, positions } = {}) {
    const list = positions ?? Array.from({ length: this.size }, (_, k) => k + 1);
    if (!staggerMs) return Promise.all(list.map((i) => this.nodes[i].start()));
    for (const i of list) { this.nodes[i].start().catch(() => {}); await sleep(staggerMs); }
    return Promise.all(list.map((i) => until(() => this.nodes[i].http, { what: `node ${i} listening` })));
  }

  running() { return this.nodes.filter((n) => n && n.running); }

  // Every running node's /api/v1/cluster, by position (missing when it does not answer).
  async views(positions) {
    const list = positions ?? this.running().map((n) => n.i);
    const out = {};
    await Promise.all(list.map(async (i) => {
      try { out[i] = await this.nodes[i].view(); } catch { /* down or busy */ }
    }));
    return out;
  }

  // The running nodes (1…size) whose superior is not the expected one; expected(i) defaults to
  // the ideal superior. Empty = converged.
  async mismatches(expected = (i) => idealSuperior(i, this.fanout), positions) {
    const list = positions ?? this.running().filter((n) => n.i <= this.size).map((n) => n.i);
    const v = await this.views(list);
    const bad = [];
    for (const i of list) {
      const want = expected(i);
      if (!v[i]) bad.push({ node: i, error: 'no answer' });
      else if ((v[i].superior ?? null) !== want) bad.push({ node: i, superior: v[i].superior ?? null, want });
    }
    return bad;
  }

  async waitConverged({ timeoutMs = 20000, expected, positions, what = 'the tree to converge to the ideal superiors' } = {}) {
    let last = [];
    const t0 = Date.now();
    try {
      await until(async () => { last = await this.mismatches(expected, positions); return last.length === 0; },
                  { timeoutMs, intervalMs: 100, what });
    } catch (e) {
      throw new Error(`${e.message}; mismatches: ${JSON.stringify(last)}\n${this.tails(8)}`);
    }
    return Date.now() - t0;
  }

  // `chiron job submit` through node i's HTTP listener; {code, stdout, stderr, id, summary}.
  async submit(i, app, args, { wait = true, timeoutMs = 120000, keyFile = this.keyFile } = {}) {
    const cli = ['job', 'submit', '--node', this.nodes[i].http, '--key-file', keyFile, ...(wait ? ['--wait'] : []), app, ...args];
    const r = await runChiron(cli, { timeoutMs });
    const lines = r.stdout.split('\n').map((l) => l.trim()).filter(Boolean);
    const id = lines.find((l) => /^\d+$/.test(l)) ?? null;
    const summary = lines.filter((l) => l !== id).join('\n');
    return { ...r, id, summary, cli: `chiron ${cli.join(' ')}` };
  }

  job(i, id) { return this.nodes[i].api(`/api/v1/jobs/${id}`); }

  async waitJob(i, id, { timeoutMs = 60000 } = {}) {
    return until(async () => {
      const j = await this.job(i, id);
      return j.state !== 'running' ? j : null;
    }, { timeoutMs, intervalMs: 200, what: `job ${id} on node ${i} to end` });
  }

  // Sum of a counter over the given views.
  static counter(views, name) {
    return Object.values(views).reduce((s, v) => s + Number(v?.counters?.[name] ?? 0), 0);
  }

  tails(n = 15) { return this.nodes.filter(Boolean).filter((x) => x.log.length).map((x) => x.tail(n)).join('\n'); }

  async stop() {
    const hung = [];
    await Promise.all(this.nodes.filter(Boolean).map(async (n) => {
      const r = await n.stop().catch(() => null);
      if (r?.hung) hung.push(n.i);
    }));
    this.stopSync();
    return { hung };
  }

  // Synchronous teardown (also from process 'exit'): -9 what still runs, namespaces down, temp dir gone.
  stopSync() {
    if (this.stopped) return;
    this.stopped = true;
    for (const n of this.nodes ?? []) if (n?.running) { try { n.proc.kill('SIGKILL'); } catch { /* gone */ } }
    if (this.mode === 'netns' && this.prefix) {
      try { netns('down', '--prefix', this.prefix); } catch (e) { process.stderr.write(`cluster-netns down failed: ${e.message}\n`); }
      rmSync(this.slot.lock, { force: true });
    }
    if (this.keepDir) process.stderr.write(`cluster: kept ${this.dir}\n`);
    else rmSync(this.dir, { recursive: true, force: true });
    process.removeListener('exit', this.exitHook);
  }
}
