// Discovery benchmark (the authors' "time until the hierarchy settles", subordination.md §4):
// start N `chiron node` daemons — each in its own network namespace (root) or on a loopback
// alias — and measure the time until every node's superior (its /api/v1/cluster) is its ideal
// one. Repeated --runs times on fresh namespaces and data; prints each run and the median.
//
//   node bench/cluster_discovery.mjs [--nodes 32] [--fanout 2] [--runs 3] [--stagger-ms 0]
//        [--mode auto|netns|loopback] [-- NODE-ARGS…]   (e.g. -- --scan-interval-ms 1000)
//
// Times are measured from the first spawn ("from spawn") and from the moment the last node
// printed its listening lines ("from last up"). Every node runs with --threads 1. The poller
// asks every node every 100 ms (it shares the machine's cores with the daemons).
// CHIRON_BIN selects the binary (default build/apps/chiron).
import { Cluster } from '../tests/lib/cluster.mjs';

const opts = { nodes: 32, fanout: 2, runs: 3, staggerMs: 0, mode: 'auto', nodeArgs: [] };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  if (a === '--') { opts.nodeArgs = argv.slice(i + 1); break; }
  const v = argv[++i];
  if (a === '--nodes') opts.nodes = Number(v);
  else if (a === '--fanout') opts.fanout = Number(v);
  else if (a === '--runs') opts.runs = Number(v);
  else if (a === '--stagger-ms') opts.staggerMs = Number(v);
  else if (a === '--mode') opts.mode = v;
  else { console.error(`unknown argument ${a}`); process.exit(2); }
}

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
const results = [];
for (let run = 1; run <= opts.runs; run++) {
  const c = await Cluster.create({ size: opts.nodes, fanout: opts.fanout, mode: opts.mode,
                                   nodeArgs: ['--threads', '1', '--log-level', 'warn', ...opts.nodeArgs] });
  if (run === 1) console.log(`# ${opts.nodes} nodes, fanout ${opts.fanout}, on ${c.reason}; node args: ${opts.nodeArgs.join(' ') || '(defaults)'}`);
  try {
    const t0 = Date.now();
    await c.startAll({ staggerMs: opts.staggerMs });
    const up = Date.now();
    await c.waitConverged({ timeoutMs: 120000 });
    const done = Date.now();
    // Settled = still ideal 2 s later (no node moved away again).
    await new Promise((r) => setTimeout(r, 2000));
    const stable = (await c.mismatches()).length === 0;
    const changes = Cluster.counter(await c.views(), 'superior_changes');
    results.push({ fromSpawn: done - t0, fromUp: done - up, startup: up - t0 });
    console.log(`run ${run}: converged ${done - t0} ms from spawn, ${done - up} ms from last up (start-up ${up - t0} ms), ` +
                `stable 2 s later: ${stable}, superior_changes ${changes}`);
  } finally {
    await c.stop();
  }
}
console.log(`median: ${median(results.map((r) => r.fromSpawn))} ms from spawn, ${median(results.map((r) => r.fromUp))} ms from last up ` +
            `(${opts.nodes} nodes, fanout ${opts.fanout}, ${opts.runs} runs)`);
