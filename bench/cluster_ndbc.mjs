// NDBC spectra on a cluster: the `ndbc-spectra` job on 1 node and on N nodes (network
// namespaces as root, loopback aliases otherwise), spectra/s and the speed-up, same run.
//
//   node bench/cluster_ndbc.mjs --input DIR [--nodes 2] [--fanout 2] [--runs 3]
//        [--threads-per-node 1] [--pin|--no-pin]
//
// Every node runs with --threads-per-node cpu threads and, with --pin (default), is pinned to
// one core (node i → core (i−1) mod nproc), so "1 node" is one machine of that size and
// "N nodes" N such machines — as long as N ≤ nproc. Beyond nproc the nodes share cores and the
// figure shows the cost of distributing, not a speed-up. The job is submitted to node 1 with
// `chiron job submit --wait`; time = submit → summary (wall clock), spectra from the summary
// (`spectra=… checksum=…`); every configuration must print the same checksum.
// CHIRON_BIN selects the binary (default build/apps/chiron).
import { cpus } from 'node:os';
import { chmodSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { Cluster } from '../tests/lib/cluster.mjs';

const opts = { input: null, nodes: 2, fanout: 2, runs: 3, threads: 1, pin: true };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  if (a === '--pin') { opts.pin = true; continue; }
  if (a === '--no-pin') { opts.pin = false; continue; }
  const v = argv[++i];
  if (a === '--input') opts.input = path.resolve(v);
  else if (a === '--nodes') opts.nodes = Number(v);
  else if (a === '--fanout') opts.fanout = Number(v);
  else if (a === '--runs') opts.runs = Number(v);
  else if (a === '--threads-per-node') opts.threads = Number(v);
  else { console.error(`unknown argument ${a}`); process.exit(2); }
}
if (!opts.input) { console.error('--input DIR is required (a dataset from ndbc_gen)'); process.exit(2); }
// Nodes run as nobody: the dataset must be readable by everyone.
for (let d = opts.input; d !== '/'; d = path.dirname(d)) {
  if ((statSync(d).mode & 0o005) !== 0o005) { console.error(`${d} is not world-readable/searchable (nodes run as nobody)`); process.exit(2); }
}
const files = readdirSync(opts.input).filter((f) => f.endsWith('.txt.gz'));
const bytes = files.reduce((s, f) => s + statSync(path.join(opts.input, f)).size, 0);
const ncpu = cpus().length;
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };

async function measure(size) {
  const c = await Cluster.create({
    size, fanout: opts.fanout,
    nodeArgs: ['--threads', String(opts.threads), '--log-level', 'warn', '--scan-interval-ms', '1000'],
    wrap: opts.pin ? (i) => ['taskset', '-c', String((i - 1) % ncpu)] : null,
  });
  try {
    await c.startAll();
    await c.waitConverged({ timeoutMs: 30000 });
    const rates = [];
    let summary = '';
    for (let run = 1; run <= opts.runs; run++) {
      const t0 = process.hrtime.bigint();
      const r = await c.submit(1, 'ndbc-spectra', ['--input', opts.input], { timeoutMs: 1800000 });
      const s = Number(process.hrtime.bigint() - t0) / 1e9;
      if (r.code !== 0) throw new Error(`${r.cli} exited ${r.code}: ${r.stderr}\n${c.tails(10)}`);
      summary = r.summary;
      const spectra = Number(/spectra=(\d+)/.exec(r.summary)?.[1]);
      const remote = Cluster.counter(await c.views(), 'kernels_sent');
      rates.push(spectra / s);
      console.log(`  ${size} node(s) run ${run}: ${spectra} spectra in ${s.toFixed(2)} s = ${(spectra / s).toFixed(0)} spectra/s (kernels_sent so far ${remote})`);
    }
    return { rate: median(rates), summary, reason: c.reason };
  } finally {
    await c.stop();
  }
}

console.log(`# ndbc-spectra on ${files.length} files (${(bytes / 1048576).toFixed(1)} MiB gz) from ${opts.input}; ` +
            `${opts.threads} thread(s) per node, ${opts.pin ? 'each node pinned to one core' : 'unpinned'}, ${ncpu} cores`);
const one = await measure(1);
console.log(`# on ${one.reason}`);
const many = await measure(opts.nodes);
const sum1 = /checksum=(\w+)/.exec(one.summary)?.[1], sumN = /checksum=(\w+)/.exec(many.summary)?.[1];
console.log(`1 node: ${one.rate.toFixed(0)} spectra/s; ${opts.nodes} nodes: ${many.rate.toFixed(0)} spectra/s; ` +
            `speed-up ${(many.rate / one.rate).toFixed(2)}× (median of ${opts.runs}); checksums ${sum1 === sumN ? 'equal' : `DIFFER ${sum1} vs ${sumN}`}`);
console.log(`summary: ${many.summary}`);
if (sum1 !== sumN) process.exit(1);
