// A real multi-host `chiron node` cluster: 8 daemons in Linux network namespaces joined by a
// bridge (created by the test, tests/lib/cluster.mjs + scripts/cluster-netns.sh; root), or on
// loopback aliases 127.0.1.1…8 when namespaces are unavailable (the reason is printed;
// CHIRON_CLUSTER_MODE=loopback|netns forces one). CHIRON_CLUSTER_WORK: rounds per part.
//
//  (a) fanout 2: every node's superior becomes its ideal one, link weights = threads behind them;
//  (b) the checksum job failure-free gives C; with a subordinate killed (-9) while it runs
//      kernels it still gives C, kernels are recovered, the dead node's subordinates re-attach
//      within dead-after + probe timeout + scan interval, and a restart moves the tree back;
//  (c) a node with another cluster key is refused and never joins;
//  (d) kill -9 of every node mid-job, restart: the job resumes from the journal and gives C.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Cluster, idealSuperior, idealSubtree, netnsUnavailable, until } from '../lib/cluster.mjs';
import { httpJson, runChiron } from '../lib/chiron.mjs';

const SIZE = 8, FANOUT = 2;
const HEARTBEAT_MS = 200, DEAD_AFTER_MS = 1000, SCAN_MS = 1000, PROBE_MS = 500;
// Re-attach budget: detection (connection error, at worst dead-after) + probe timeout + scan
// interval, plus 1.5 s for 2 shared cores and the test's polling.
const REATTACH_MS = DEAD_AFTER_MS + PROBE_MS + SCAN_MS + 1500;
const WORK = process.env.CHIRON_CLUSTER_WORK ?? '30000000';
const JOB = ['--stages', '3', '--parts', '16', '--work', WORK, '--seed', '7'];

let cluster;
let C = null;  // checksum of the failure-free run

before(async () => {
  cluster = await Cluster.create({
    size: SIZE, extra: 1, fanout: FANOUT, mode: process.env.CHIRON_CLUSTER_MODE ?? 'auto',  // auto | netns | loopback
    nodeArgs: ['--threads', '1', '--heartbeat-ms', String(HEARTBEAT_MS), '--dead-after-ms', String(DEAD_AFTER_MS),
               '--scan-interval-ms', String(SCAN_MS), '--probe-timeout-ms', String(PROBE_MS), '--log-level', 'info'],
  });
  console.log(`# cluster test: ${SIZE} nodes on ${cluster.reason}`);
  await cluster.startAll();
});

after(async () => {
  if (!cluster) return;
  const { hung } = await cluster.stop();
  // A node that ignores SIGTERM for 10 s is a bug, but it must not hide the tests' own results.
  if (hung.length) console.log(`# nodes ${hung.join(',')} did not exit within 10 s of SIGTERM`);
});

// The reference checksum, computed the way src/jobs/checksum.cc does it (splitmix64 folds).
const M64 = (1n << 64n) - 1n;
function mix(x) {
  x = (x + 0x9e3779b97f4a7c15n) & M64;
  x = ((x ^ (x >> 30n)) * 0xbf58476d1ce4e5b9n) & M64;
  x = ((x ^ (x >> 27n)) * 0x94d049bb133111ebn) & M64;
  return x ^ (x >> 31n);
}
function referenceChecksum(stages, parts, work, seed) {
  const s = BigInt(seed);
  let folded = mix(s);
  for (let st = 0n; st < BigInt(stages); st++) {
    let h = mix(s + st);
    for (let i = 0n; i < BigInt(parts); i++) {
      let x = mix(s ^ mix((st << 32n) | i));
      for (let r = 0n; r < BigInt(work); r++) x = mix((x + r) & M64);
      h = mix(h ^ x);
    }
    folded = mix(folded ^ h);
  }
  return folded.toString(16).padStart(16, '0');
}

const checksumOf = (summary) => /checksum=([0-9a-f]{16})/.exec(summary ?? '')?.[1] ?? null;

test('(a) the tree converges to the ideal superiors; link weights are the threads behind them', async () => {
  const ms = await cluster.waitConverged({ timeoutMs: 20000 });
  console.log(`# converged ${ms} ms after the last node printed its listening lines`);
  await until(async () => {
    const v = await cluster.views();
    const threads = {};
    for (let i = 1; i <= SIZE; i++) threads[i] = v[i]?.self?.threads;
    for (let i = 1; i <= SIZE; i++) {
      const view = v[i];
      assert.ok(view, `node ${i} answers`);
      assert.equal(view.self.position, i, `node ${i}'s self.position`);
      assert.equal(view.ideal_superior ?? null, idealSuperior(i, FANOUT), `node ${i}'s ideal_superior`);
      assert.equal(view.fanout, FANOUT);
      assert.equal(view.subnet, cluster.subnet);
      assert.ok(threads[i] >= 1, `node ${i} reports its threads (${threads[i]})`);
      const children = [];
      for (let c = 2; c <= SIZE; c++) if (idealSuperior(c, FANOUT) === i) children.push(c);
      assert.deepEqual([...view.subordinates].sort((a, b) => a - b), children, `node ${i}'s subordinates`);
      for (const c of children) {
        const link = view.links.find((l) => l.peer === c && l.role === 'subordinate');
        assert.ok(link, `node ${i} has a subordinate link to ${c}: ${JSON.stringify(view.links)}`);
        const behind = idealSubtree(c, SIZE, FANOUT).reduce((s, p) => s + threads[p], 0);
        if (link.weight !== behind) return false;  // records still travelling up
      }
    }
    // The root hears of every node.
    const known = new Set(v[1].nodes.map((r) => r.position));
    for (let i = 1; i <= SIZE; i++) if (!known.has(i)) return false;
    return true;
  }, { timeoutMs: 10000, what: 'subordinate link weights = threads in the subtree, and the root knowing every node' });
});

test('(a2) killing a node with subordinates: they re-attach within the budget; its restart moves the tree back', async () => {
  const victim = 2;
  const orphans = [];
  for (let c = 2; c <= SIZE; c++) if (idealSuperior(c, FANOUT) === victim) orphans.push(c);
  await cluster.node(victim).kill();
  const killedAt = Date.now();
  const where = {};
  await until(async () => {
    const v = await cluster.views(orphans);
    for (const c of orphans) {
      const s = v[c]?.superior;
      if (s == null || s === victim) return false;
      where[c] = s;
    }
    return true;
  }, { timeoutMs: REATTACH_MS + 5000, intervalMs: 50, what: `nodes ${orphans} to re-attach away from ${victim}` });
  const ms = Date.now() - killedAt;
  console.log(`# node ${victim} killed: ${JSON.stringify(where)} (superiors) after ≤ ${ms} ms`);
  // The probe order of 4 and 5 (ideal 2): the rest of 2's layer (3) before the root.
  for (const c of orphans) assert.equal(where[c], 3, `node ${c} re-attached to 3, the next in its probe order`);
  assert.ok(ms <= REATTACH_MS, `re-attach took ${ms} ms > ${REATTACH_MS} ms`);
  // Both ends agree: 3 lists them as subordinates.
  await until(async () => {
    const v3 = await cluster.node(3).view();
    return orphans.every((c) => v3.subordinates.includes(c));
  }, { timeoutMs: 3000, what: `node 3 to list ${orphans} as subordinates` });
  await cluster.node(victim).start();
  const back = await cluster.waitConverged({ timeoutMs: REATTACH_MS + 8000, what: 'the tree to move back after the restart' });
  console.log(`# back to the ideal tree ${back} ms after node ${victim} restarted`);
});

test('(b0) a small checksum job matches the reference computed here', async () => {
  const r = await cluster.submit(1, 'checksum', ['--stages', '2', '--parts', '4', '--work', '1000', '--seed', '3']);
  assert.equal(r.code, 0, `${r.cli}: ${r.stderr}`);
  assert.equal(checksumOf(r.summary), referenceChecksum(2, 4, 1000, 3), r.summary);
});

test('(b1) the job API: token required, bad apps refused, a posted job succeeds on another node', async () => {
  const tok = await runChiron(['node', 'token', '--key-file', cluster.keyFile]);
  assert.equal(tok.code, 0, tok.stderr);
  const token = tok.stdout.trim();
  const apps = await cluster.node(1).api('/api/v1/apps');
  assert.ok(apps.apps.some((a) => a.name === 'checksum'), JSON.stringify(apps));
  const url = `${cluster.node(3).url}/api/v1/jobs`;  // any node takes jobs
  const body = { app: 'checksum', args: ['--parts', '4', '--work', '1000', '--seed', '5'] };
  const anon = await httpJson(url, { method: 'POST', body });
  assert.ok(anon.status === 401 || anon.status === 403, `no token → ${anon.status}`);
  const wrong = await httpJson(url, { method: 'POST', body, token: 'x'.repeat(token.length) });
  assert.ok(wrong.status === 401 || wrong.status === 403, `wrong token → ${wrong.status}`);
  const bad = await httpJson(url, { method: 'POST', body: { app: 'no-such-app', args: [] }, token });
  // The contract says 400; the node answers 404 (no such app) — both refuse it.
  assert.ok(bad.status === 400 || bad.status === 404, `unknown app → ${bad.status}`);
  assert.ok(bad.body?.error?.code, `error body: ${bad.text}`);
  const badArgs = await httpJson(url, { method: 'POST', body: { app: 'checksum', args: ['--parts', '0'] }, token });
  assert.equal(badArgs.status, 400, `bad args → ${badArgs.status}`);
  const ok = await httpJson(url, { method: 'POST', body, token });
  assert.equal(ok.status, 201, ok.text);
  assert.match(ok.body.id, /^\d+$/);
  assert.equal(ok.body.home, 3);
  const job = await cluster.waitJob(3, ok.body.id, { timeoutMs: 30000 });
  assert.equal(job.state, 'succeeded', JSON.stringify(job));
  assert.equal(checksumOf(job.summary), referenceChecksum(1, 4, 1000, 5), job.summary);
  const list = await cluster.node(3).api('/api/v1/jobs');
  assert.equal(list.jobs[0].id, ok.body.id, 'newest first');
});

test('(b) a subordinate killed mid-job: same checksum, kernels recovered, the tree heals and moves back', async () => {
  const t0 = Date.now();
  const free = await cluster.submit(1, 'checksum', JOB);
  const freeMs = Date.now() - t0;
  assert.equal(free.code, 0, `${free.cli}: ${free.stderr}`);
  C = checksumOf(free.summary);
  assert.ok(C, `summary: ${free.summary}`);
  const remote = Number(/remote_parts=(\d+)/.exec(free.summary)?.[1]);
  console.log(`# failure-free: ${free.summary} in ${freeMs} ms`);
  // Without remote parts nothing can be killed mid-job: the Bar needs kernels on other nodes.
  assert.ok(remote > 0, `parts ran on other nodes (${free.summary}; kernels_sent on the cluster: ${Cluster.counter(await cluster.views(), 'kernels_sent')})`);
  const freeJob = await cluster.job(1, free.id);
  assert.equal(freeJob.state, 'succeeded');
  assert.equal(checksumOf(freeJob.summary), C);

  const before = await cluster.views();

  const sub = await cluster.submit(1, 'checksum', JOB, { wait: false });
  assert.equal(sub.code, 0, `${sub.cli}: ${sub.stderr}`);
  assert.ok(sub.id, `job id printed: ${sub.stdout}`);
  // A victim with subordinates (2 or 3) that has kernels on it right now: in flight on its
  // superior's link to it, or running there.
  const victim = await until(async () => {
    const v = await cluster.views();
    for (const p of [2, 3]) {
      const sup = v[idealSuperior(p, FANOUT)];
      const link = sup?.links?.find((l) => l.peer === p && l.role === 'subordinate');
      if ((link?.in_flight ?? 0) > 0 || (v[p]?.local?.in_flight ?? 0) > 0) return p;
    }
    return null;
  }, { timeoutMs: 20000, intervalMs: 50, what: 'kernels in flight on node 2 or 3' });
  const jobNow = await cluster.job(1, sub.id);
  assert.equal(jobNow.state, 'running', 'the job is still running when the victim is killed');
  await cluster.node(victim).kill();
  const killedAt = Date.now();
  console.log(`# killed node ${victim} (kill -9) at progress ${JSON.stringify(jobNow.progress)}`);

  // Its subordinates re-attach to a live node within the budget.
  const orphans = [];
  for (let c = 2; c <= SIZE; c++) if (idealSuperior(c, FANOUT) === victim) orphans.push(c);
  const where = {};
  await until(async () => {
    const v = await cluster.views(orphans);
    for (const c of orphans) {
      const s = v[c]?.superior;
      if (s == null || s === victim) return false;
      where[c] = s;
    }
    return true;
  }, { timeoutMs: REATTACH_MS + 5000, intervalMs: 50, what: `nodes ${orphans} to re-attach away from ${victim}` });
  const reattachMs = Date.now() - killedAt;
  console.log(`# subordinates of ${victim} re-attached in ≤ ${reattachMs} ms: ${JSON.stringify(where)}`);
  assert.ok(reattachMs <= REATTACH_MS, `re-attach took ${reattachMs} ms > ${REATTACH_MS} ms`);

  const job = await cluster.waitJob(1, sub.id, { timeoutMs: 90000 });
  assert.equal(job.state, 'succeeded', `job ${JSON.stringify(job)}\n${cluster.tails(10)}`);
  assert.equal(checksumOf(job.summary), C, `checksum with a node killed: ${job.summary}`);
  const after = await cluster.views();
  delete before[victim];
  const recovered = Cluster.counter(after, 'kernels_recovered') - Cluster.counter(before, 'kernels_recovered');
  console.log(`# with node ${victim} killed: ${job.summary}; kernels_recovered +${recovered}`);
  assert.ok(recovered > 0, `kernels_recovered grew on some node: ${JSON.stringify(Object.fromEntries(Object.entries(after).map(([k, v]) => [k, v.counters])))}`);

  // Restart the victim: the tree moves back to the ideal superiors.
  await cluster.node(victim).start();
  const backMs = await cluster.waitConverged({ timeoutMs: REATTACH_MS + 8000, what: 'the tree to move back after the restart' });
  console.log(`# tree back to ideal ${backMs} ms after node ${victim} restarted`);
});

test('(c) a node with another cluster key is refused and never joins', async () => {
  const rogueAt = SIZE + 1;  // ideal superior: 4 at fanout 2
  const rogue = cluster.node(rogueAt);
  rogue.keyFile = await cluster.keygen('other.key');
  const refusedBefore = Cluster.counter(await cluster.views(), 'frames_refused');
  await rogue.start();
  // Several probe rounds.
  await new Promise((r) => setTimeout(r, DEAD_AFTER_MS + PROBE_MS + 2 * SCAN_MS));
  const v = await cluster.views([...Array(SIZE).keys()].map((k) => k + 1));
  for (let i = 1; i <= SIZE; i++) {
    assert.ok(v[i], `node ${i} answers`);
    assert.ok(!v[i].nodes.some((r) => r.position === rogueAt), `node ${i} does not know the rogue: ${JSON.stringify(v[i].nodes.map((r) => r.position))}`);
    assert.ok(!v[i].subordinates.includes(rogueAt), `node ${i} has no rogue subordinate`);
    assert.ok(!v[i].links.some((l) => l.peer === rogueAt), `node ${i} has no link to the rogue`);
  }
  const rv = await rogue.view();
  assert.equal(rv.superior ?? null, null, `the rogue has no superior: ${JSON.stringify(rv.superior)}`);
  const refused = Cluster.counter(v, 'frames_refused') - refusedBefore;
  const logged = cluster.nodes.slice(1, SIZE + 1).some((n) => n.log.some((l) => /refus|reject|authent|hmac|\bmac\b/i.test(l)));
  console.log(`# rogue: frames_refused +${refused} on the cluster, rogue's own ${rv.counters?.frames_refused}, log line: ${logged}`);
  assert.ok(refused > 0 || logged, `the cluster counted or logged the refused frames\n${cluster.tails(5)}`);
  await rogue.stop();
  // The cluster is unchanged.
  assert.deepEqual(await cluster.mismatches(), []);
});

test('(d) full-cluster restart mid-job: the job resumes from the journal with the same checksum', async () => {
  assert.ok(C, 'needs the failure-free checksum of (b)');
  const sub = await cluster.submit(1, 'checksum', JOB, { wait: false });
  assert.equal(sub.code, 0, `${sub.cli}: ${sub.stderr}`);
  const at = await until(async () => {
    const j = await cluster.job(1, sub.id);
    return j.state !== 'running' || j.progress?.done >= 1 ? j : null;
  }, { timeoutMs: 60000, intervalMs: 50, what: 'the first stage checkpoint' });
  assert.equal(at.state, 'running', `the job ended before the restart: ${JSON.stringify(at)}`);
  await Promise.all(cluster.running().map((n) => n.kill()));
  console.log(`# killed all ${SIZE} nodes (kill -9) at progress ${JSON.stringify(at.progress)}`);
  assert.ok(at.progress.done < at.progress.total, 'killed before the last stage');
  await cluster.startAll();
  const job = await cluster.waitJob(1, sub.id, { timeoutMs: 90000 });
  console.log(`# after the restart: state=${job.state} resumed=${job.resumed} ${job.summary}`);
  assert.equal(job.state, 'succeeded', `job ${JSON.stringify(job)}\n${cluster.tails(10)}`);
  assert.equal(job.resumed, true, 'the job says it was resumed');
  assert.equal(checksumOf(job.summary), C, `checksum after a full restart: ${job.summary}`);
  await cluster.waitConverged({ timeoutMs: 20000, what: 'the tree after the full restart' });
});

test('(e) IPv6: 5 nodes on fd00:79:SLOT::1…5 find the ideal tree and run a job', async (t) => {
  const why = netnsUnavailable();
  if (why) { t.skip(`IPv6 cluster needs network namespaces: ${why}`); return; }
  const c6 = await Cluster.create({ size: 5, fanout: FANOUT, family: 6, mode: 'netns', nodeArgs: cluster.nodeArgs });
  try {
    await c6.startAll();
    assert.match(c6.node(1).listening.cluster, /^\[fd00:79:\d+::1\]:7070$/);
    const ms = await c6.waitConverged({ timeoutMs: 20000 });
    console.log(`# IPv6 (${c6.subnet}): converged in ${ms} ms`);
    const r = await c6.submit(5, 'checksum', ['--stages', '2', '--parts', '4', '--work', '1000', '--seed', '9']);
    assert.equal(r.code, 0, `${r.cli}: ${r.stderr}`);
    assert.equal(checksumOf(r.summary), referenceChecksum(2, 4, 1000, 9), r.summary);
  } finally {
    await c6.stop();
  }
});
