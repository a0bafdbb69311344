// Crash durability of `chiron ns` (the bar): a REG/REM/ALG/STATE (and HB drain) storm over several
// pipelined connections, kill -9 at a random point, restart on the same --data, and every
// acknowledged change is there. Five rounds with different seeds accumulate state in one data dir.
//
// Each connection owns its services (and therefore its keys), so the order of changes to one key
// is the order that connection sent them, and acknowledgements arrive in that order. After a
// crash a key must hold the state reached after all its acknowledged changes plus some prefix
// of its unacknowledged ones (the store journals in registry order); nothing never sent may appear.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { startNsAt, tempDir, RespClient, httpJson } from '../lib/chiron.mjs';

const CONNS = 4, SERVICES_PER_CONN = 2, IDS_PER_SERVICE = 6, ROUNDS = 5, BATCH = 24;
const data = tempDir('chiron-ns-crash-');
after(() => rmSync(data, { recursive: true, force: true }));

function mulberry32(seed) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const pick = (rng, a) => a[Math.floor(rng() * a.length)];

const svcName = (c, s) => `crash${c}x${s}`;
const serverId = (c, s, i) => `10.${c + 1}.${s + 1}.${i + 1}:80`;
const anchorId = (c, s) => `10.${c + 1}.${s + 1}.200:80`;

// Model: server key "svc|id" → {weight, admin} (absent = not registered); service → algorithm.
const servers = new Map();
const algorithms = new Map();
const fmt = (v) => (v ? `${v.weight}/${v.admin}` : 'absent');

// Applies one op to a key's state; returns [newState, expectedReply].
function applyServer(state, op) {
  switch (op.verb) {
    case 'REG': return [{ weight: op.weight, admin: state ? state.admin : 'ready' }, 'OK'];
    case 'REM': return [null, state ? 1 : 0];
    case 'STATE': return state ? [{ ...state, admin: op.admin }, 'OK'] : [null, 'error'];
    case 'HB': return state ? [{ ...state, admin: 'drain' }, 'OK'] : [null, 'error'];  // HB ... drain
    default: throw new Error(op.verb);
  }
}

function genOp(rng, c, algos) {
  const s = Math.floor(rng() * SERVICES_PER_CONN);
  const svc = svcName(c, s);
  const r = rng();
  if (r < 0.08) return { verb: 'ALG', svc, key: `alg|${svc}`, alg: pick(rng, algos), args: null };
  const id = serverId(c, s, Math.floor(rng() * IDS_PER_SERVICE));
  const key = `${svc}|${id}`;
  if (r < 0.55) return { verb: 'REG', svc, id, key, weight: 1 + Math.floor(rng() * 100) };
  if (r < 0.75) return { verb: 'REM', svc, id, key };
  if (r < 0.9) return { verb: 'STATE', svc, id, key, admin: pick(rng, ['ready', 'drain', 'maint']) };
  return { verb: 'HB', svc, id, key };
}

function argsOf(op) {
  switch (op.verb) {
    case 'ALG': return ['ALG', op.svc, op.alg];
    case 'REG': return ['REG', op.svc, op.id, String(op.weight)];
    case 'REM': return ['REM', op.svc, op.id];
    case 'STATE': return ['STATE', op.svc, op.id, op.admin];
    case 'HB': return ['HB', op.svc, op.id, 'drain'];
    default: throw new Error(op.verb);
  }
}

// Pipelines batches of ops until the connection dies; every op records its reply if it got one.
async function storm(client, rng, c, algos, ops) {
  for (;;) {
    const batch = [];
    for (let i = 0; i < BATCH; i++) {
      const op = genOp(rng, c, algos);
      op.acked = false;
      ops.push(op);
      const args = argsOf(op);
      const p = rng() < 0.5 ? client.send(...args) : client.sendInline(args.join(' '));
      batch.push(p.then((reply) => { op.acked = true; op.reply = reply; }));
    }
    const results = await Promise.allSettled(batch);
    if (results.some((r) => r.status === 'rejected')) return;
  }
}

function parseList(lines) {
  const out = new Map();
  for (const line of lines) {
    const m = /^(\S+) weight=(\d+) state=(\w+) health=(\w+) picks=\d+$/.exec(line);
    assert.ok(m, `LIST line ${JSON.stringify(line)}`);
    out.set(m[1], { weight: Number(m[2]), admin: m[3], health: m[4] });
  }
  return out;
}

test('kill -9 during a REG/REM/ALG/STATE storm loses no acknowledged change', { timeout: 120000 }, async () => {
  let algos = null;
  let totalAcked = 0, totalSent = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const seed = 0xc0ffee + round * 7919;
    const rng = mulberry32(seed);
    const ns = await startNsAt(data);
    try {
      assert.ok(ns.stdoutLines.some((l) => /^listening ns=127\.0\.0\.1:\d+$/.test(l)), ns.stdoutLines.join('\n'));
      if (!algos) {
        const res = await httpJson(`${ns.url}/api/v1/algorithms`);
        assert.equal(res.status, 200);
        algos = res.body.algorithms.map((a) => a.name);
        assert.ok(algos.includes('rr') && algos.includes('swrr'), JSON.stringify(algos));
      }

      // Restored state right after restart: everything the model says, all health=up (full-TTL grace).
      if (round > 0) await verify(ns, `round ${round} (seed ${seed}) after restart`);

      // Anchors (acknowledged before the storm) make every service exist, so ALG always applies.
      const clients = [];
      for (let c = 0; c < CONNS; c++) clients.push(await RespClient.connect(ns.listeners.ns));
      for (let c = 0; c < CONNS; c++) {
        for (let s = 0; s < SERVICES_PER_CONN; s++) {
          assert.equal(await clients[c].send('REG', svcName(c, s), anchorId(c, s), '1'), 'OK');
          servers.set(`${svcName(c, s)}|${anchorId(c, s)}`, servers.get(`${svcName(c, s)}|${anchorId(c, s)}`) ?? { weight: 1, admin: 'ready' });
          if (!algorithms.has(svcName(c, s))) algorithms.set(svcName(c, s), 'rr');
        }
      }

      const ops = clients.map(() => []);
      const storms = clients.map((cl, c) => storm(cl, mulberry32(seed ^ (c + 1) * 0x9e3779b1), c, algos, ops[c]));
      const delayMs = 50 + Math.floor(rng() * 350);
      await new Promise((r) => setTimeout(r, delayMs));
      ns.proc.kill('SIGKILL');
      const { signal } = await ns.exited;
      assert.equal(signal, 'SIGKILL');
      await Promise.all(storms);
      for (const cl of clients) cl.close();

      // Fold each key's ops into the set of states the store may legally hold.
      const perKey = new Map();
      for (const list of ops) for (const op of list) {
        if (!perKey.has(op.key)) perKey.set(op.key, []);
        perKey.get(op.key).push(op);
      }
      const allowed = new Map();  // key → array of candidate states
      for (const [key, list] of perKey) {
        const isAlg = key.startsWith('alg|');
        let state = isAlg ? algorithms.get(key.slice(4)) : servers.get(key) ?? null;
        const states = [state];
        let lastAcked = 0;
        list.forEach((op, i) => {
          totalSent++;
          if (isAlg) {
            state = op.alg;
            if (op.acked) assert.equal(op.reply, 'OK', `ALG ${op.svc} ${op.alg}`);
          } else {
            const [next, expect] = applyServer(state, op);
            if (op.acked) {
              if (expect === 'error') assert.ok(op.reply?.error, `${argsOf(op).join(' ')} → ${JSON.stringify(op.reply)}, model ${fmt(state)}`);
              else assert.deepEqual(op.reply, expect, `${argsOf(op).join(' ')} with model ${fmt(state)}`);
            }
            state = next;
          }
          states.push(state);
          if (op.acked) { lastAcked = i + 1; totalAcked++; }
        });
        // acks arrive in order: no unacked op before an acked one on the same connection
        allowed.set(key, states.slice(lastAcked));
      }

      const ns2 = await startNsAt(data);
      try {
        assert.ok(ns2.stdoutLines.some((l) => /^listening ns=/.test(l)));
        const actual = await observe(ns2);
        for (const [key, cands] of allowed) {
          const isAlg = key.startsWith('alg|');
          const got = isAlg ? actual.algorithms.get(key.slice(4)) : actual.servers.get(key) ?? null;
          const gotFmt = isAlg ? got : fmt(got);
          const candFmt = cands.map((s) => (isAlg ? s : fmt(s)));
          assert.ok(candFmt.includes(gotFmt),
                    `round ${round} seed ${seed} kill after ${delayMs} ms: ${key} is ${gotFmt}, allowed ${JSON.stringify(candFmt)}`);
          // adopt what the store kept as the model for the next round
          if (isAlg) algorithms.set(key.slice(4), got);
          else if (got) servers.set(key, { weight: got.weight, admin: got.admin });
          else servers.delete(key);
        }
        await verify(ns2, `round ${round} (seed ${seed}) after adoption`, actual);
      } finally {
        await ns2.stop('SIGKILL');
      }
    } finally {
      if (ns.proc.exitCode === null && ns.proc.signalCode === null) await ns.stop('SIGKILL');
    }
  }
  assert.ok(totalAcked > ROUNDS * 10, `storms acknowledged only ${totalAcked} of ${totalSent} changes`);
  console.log(`# crash test: ${totalAcked} acknowledged of ${totalSent} sent changes over ${ROUNDS} rounds`);
});

// Reads every service's servers (LIST) and algorithm (admin API).
async function observe(ns) {
  const client = await RespClient.connect(ns.listeners.ns);
  try {
    const res = await httpJson(`${ns.url}/api/v1/services`);
    assert.equal(res.status, 200);
    const names = res.body.services.map((s) => s.name);
    const out = { servers: new Map(), algorithms: new Map(), health: new Map(), names };
    for (const name of names) {
      const lines = await client.send('LIST', name);
      assert.ok(Array.isArray(lines), `LIST ${name} → ${JSON.stringify(lines)}`);
      for (const [id, v] of parseList(lines)) {
        out.servers.set(`${name}|${id}`, { weight: v.weight, admin: v.admin });
        out.health.set(`${name}|${id}`, v.health);
      }
      const svc = await httpJson(`${ns.url}/api/v1/services/${name}`);
      assert.equal(svc.status, 200);
      out.algorithms.set(name, svc.body.algorithm);
    }
    return out;
  } finally {
    client.close();
  }
}

// The running server holds exactly the model: same services, servers, weights, admin states,
// algorithms, every server health=up (restored servers get a full lease).
async function verify(ns, where, actual) {
  actual ??= await observe(ns);
  assert.deepEqual([...actual.names].sort(), [...algorithms.keys()].sort(), `${where}: services`);
  const want = [...servers].map(([k, v]) => `${k}=${fmt(v)}`).sort();
  const got = [...actual.servers].map(([k, v]) => `${k}=${fmt(v)}`).sort();
  assert.deepEqual(got, want, `${where}: servers`);
  for (const [name, alg] of algorithms) assert.equal(actual.algorithms.get(name), alg, `${where}: algorithm of ${name}`);
  for (const [key, h] of actual.health) assert.equal(h, 'up', `${where}: ${key} health right after restart`);
}
