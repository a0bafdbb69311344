#!/usr/bin/env bash
# Runs every benchmark with its peer side by side (see docs/benchmarks.md).
#   scripts/bench.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
echo "== kernel spawn-and-collect vs oneTBB task_group vs OpenMP tasks"
"$build/bench/kernel_spawn_bench" --benchmark_repetitions=5 --benchmark_enable_random_interleaving=true \
  --benchmark_report_aggregates_only=true
echo
echo "== HTTP: chiron GET /api/v1/health vs nginx static 2-byte body (wrk)"
bench/http_vs_nginx.sh "$build/apps/chiron"
echo
echo "== name-server pick cost, 10 vs 10,000 servers per algorithm"
"$build/bench/ns_pick_bench" --benchmark_min_time=0.2
echo
echo "== name server: REQ vs Redis GET (redis-benchmark and ns_loadgen), 10k pools, churn + dashboard"
bench/ns_vs_redis.sh --chiron "$build/apps/chiron" --loadgen "$build/bench/ns_loadgen"
echo
echo "== chat: the paper's workload (B1), chiron and the Node.js Socket.IO peer side by side"
bench/chat_vs_socketio.sh --full --chiron "$build/apps/chiron" --loadgen "$build/bench/chat_loadgen"
echo
echo "== chat: saturation sweep (ratio at p99 < 100 ms), 10k idle connections, three edges + Redis"
for mode in sweep idle edges; do
  bench/chat_scale.sh "$mode" --chiron "$build/apps/chiron" --loadgen "$build/bench/chat_loadgen"
done
echo
echo "== live code storage: save-to-visible in a browser (1,000 saves), initial sync vs rsync"
node bench/push_latency.mjs --saves 1000 --chiron "$build/apps/chiron"
bench/push_vs_rsync.sh --runs 5 --chiron "$build/apps/chiron"
echo
echo "== video: chiron vs nginx-rtmp vs node-media-server — viewers per core, max viewers, TTFF, slow readers"
bench/media_vs_nginx.sh --chiron "$build/apps/chiron" --loadgen "$build/bench/media_loadgen"
echo
echo "== cluster: AR ocean waves vs OpenMP (the paper's Fig. 1-2 and Table 1), event plots into docs/plots/"
nice "$build/bench/ar_bench" --size 20000,32,32 --rounds 3 --dir /tmp/chiron-ar-bench &&
  cp /tmp/chiron-ar-bench/ar_chiron.svg /tmp/chiron-ar-bench/ar_openmp.svg docs/plots/
echo
echo "== cluster: NDBC spectra, ours vs the Hadoop-style MapReduce baseline (1 node), then 1 vs 2 namespace nodes"
"$build/bench/ndbc_gen" --out /tmp/chiron-ndbc --stations 20 --years 5 --seed 1 >/dev/null
nice "$build/bench/ndbc_bench" --input /tmp/chiron-ndbc --cores "$(nproc)" --repeat 3
bench/cluster_ndbc.sh --chiron "$build/apps/chiron" --gen "$build/bench/ndbc_gen" --nodes 2 --runs 3
echo
echo "== cluster: discovery time of 32 namespace daemons"
bench/cluster_discovery.sh --chiron "$build/apps/chiron" 2>/dev/null || echo "(needs root for namespaces)"
