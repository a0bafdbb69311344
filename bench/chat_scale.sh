#!/usr/bin/env bash
# Chat capacity benchmarks of issue 4 beyond B1 (bench/chat_vs_socketio.sh runs B1 itself), all on
# 127.0.0.1, server pinned to cpu0 and the load generator to cpu1:
#
#   bench/chat_scale.sh sweep [--server chiron|socketio|both] [--step-s S]
#       Saturation sweep of one server process (chiron: --net-threads 1): 300 clients in one room
#       with the per-client rate going up (0.25 … 160 msg/s), then 10 msg/s with clients going up
#       (600 … 3000), each step a fresh 3 s warm-up + S s (default 10) measured window. A ladder
#       stops at the first step with p99 > 100 ms, loss > 0.1 % or clients cut off. On a 2-core
#       box the generator (one core) is the limit first: check loadgen_cores before reading a
#       step's figure as the server's capacity. Prints a line per step (with
#       server and load-generator CPU), then per server the best deliveries/s with p99 < 50 ms
#       (and per server core) and with p99 < 100 ms, and with both servers the ratio at p99 < 100 ms.
#   bench/chat_scale.sh idle [--clients N] [--server chiron|socketio|both]
#       N (default 10000) idle clients, joined to 100 rooms, held 10 s: server RSS before/after
#       and bytes per connection.
#   bench/chat_scale.sh edges [--duration S]
#       B1 (300 clients, one room, 10 msg/s, 100 B) split 100/100/100 over three `chiron serve
#       --redis` edges sharing one redis-server (all pinned to cpu0, generator on cpu1).
#
# Common: [--loadgen BIN] [--chiron BIN] (defaults build/bench/chat_loadgen, build/apps/chiron).
set -euo pipefail
cd "$(dirname "$0")/.."

mode=${1:-}
[[ $mode == sweep || $mode == idle || $mode == edges ]] || { awk 'NR > 1 && !/^#/ { exit } NR > 1' "$0"; exit 2; }
shift
server=both step_s=10 clients=10000 duration=20
loadgen_bin=build/bench/chat_loadgen chiron_bin=build/apps/chiron
while [[ $# -gt 0 ]]; do
  case "$1" in
    --server) server=$2; shift 2 ;;
    --step-s) step_s=$2; shift 2 ;;
    --clients) clients=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --loadgen) loadgen_bin=$2; shift 2 ;;
    --chiron) chiron_bin=$2; shift 2 ;;
    -h|--help) awk 'NR > 1 && !/^#/ { exit } NR > 1' "$0"; exit 0 ;;
    *) echo "unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
[[ -x "$loadgen_bin" ]] || { echo "missing $loadgen_bin: cmake --build build --target chat_loadgen" >&2; exit 2; }
[[ -x "$chiron_bin" ]] || { echo "missing $chiron_bin: cmake --build build --target chiron" >&2; exit 2; }
source bench/lib.sh
bench_init

# start_server NAME [EXTRA SERVE ARGS...] : sets port and server_pid.
start_server() {
  local name=$1; shift
  port=$(free_port)
  if [[ $name == socketio ]]; then
    [[ -d node_modules/socket.io ]] || { echo "node_modules/socket.io missing: npm ci" >&2; exit 2; }
    start_bg socketio '^listening' "${server_cpu[@]}" node bench/peers/socketio_chat.js "$port"
  else
    start_bg "$name" '^listening http=' "${server_cpu[@]}" "$chiron_bin" serve --http "127.0.0.1:$port" \
      --rtmp 127.0.0.1:0 --data "$tmp/$name-data" --ns off --chat-anonymous --net-threads 1 --log-level warn "$@"
  fi
  server_pid=$bg_pid
}

field() { sed -n "s/.*[ ^]$1=\([^ ]*\).*/\1/p" <<<" $2"; }

# run_loadgen PORTS ARGS... : one load generator run; sets line, lg_cpu (cores of the generator).
run_loadgen() {
  local ports=$1; shift
  local out
  out=$( { TIMEFORMAT='%U %S %R'; time "${client_cpu[@]}" "$loadgen_bin" --ports "$ports" "$@"; } 2>"$tmp/lg.err")
  line=$out
  lg_cpu=$(tail -1 "$tmp/lg.err" | awk '{ if ($3 > 0) printf "%.2f", ($1 + $2) / $3; else print 0 }')
}

# step NAME CLIENTS RATE : one sweep step against a fresh server; prints a line, sets p99/loss/dps/cores.
step() {
  local name=$1 n=$2 rate=$3
  local t0 c0 t1 c1
  start_server "$name"
  t0=$(date +%s.%N) c0=$(cpu_ticks "$server_pid")
  run_loadgen "$port" --clients "$n" --rooms 1 --rate "$rate" --size 100 --duration "$step_s" --warmup 3 \
    --connect-rate 1000
  t1=$(date +%s.%N) c1=$(cpu_ticks "$server_pid")
  stop_pid "$server_pid"
  cores=$(echo "($c1 - $c0) / $hz / ($t1 - $t0)" | bc -l)
  p99=$(field p99_ms "$line") loss=$(field loss "$line") dps=$(field deliveries_per_s "$line")
  errors=$(field errors "$line") delivered=$(field delivered "$line")
  printf '%-8s clients=%-5s rate=%-5s deliveries_per_s=%-8s p50_ms=%-8s p99_ms=%-8s loss=%-9s errors=%-4s server_cores=%.2f loadgen_cores=%s\n' \
    "$name" "$n" "$rate" "$dps" "$(field p50_ms "$line")" "$p99" "$loss" "$errors" "$cores" "$lg_cpu"
}

# A step passes when every client stayed connected (a generator that cannot keep reading gets
# its sockets cut off as slow consumers), something was delivered, p99 < $1 ms and loss <= 0.1 %.
ok_step() {
  awk -v p="$p99" -v l="$loss" -v e="$errors" -v d="$delivered" -v lim="$1" \
    'BEGIN { exit !(e == 0 && d > 0 && p < lim && l <= 0.001) }'
}

sweep() {
  local name=$1 best50=0 best50_cores=0 best100=0 n rate
  local rates=(0.25 0.5 1 2 5 10 20 40 80 160) more_clients=(600 1000 2000 3000)
  [[ $name == socketio ]] && more_clients=()
  for rate in "${rates[@]}"; do
    step "$name" 300 "$rate"
    ok_step 50 && (( ${dps%.*} > ${best50%.*} )) && best50=$dps best50_cores=$cores
    ok_step 100 && (( ${dps%.*} > ${best100%.*} )) && best100=$dps
    ok_step 100 || break
  done
  for n in "${more_clients[@]}"; do
    step "$name" "$n" 10
    ok_step 50 && (( ${dps%.*} > ${best50%.*} )) && best50=$dps best50_cores=$cores
    ok_step 100 && (( ${dps%.*} > ${best100%.*} )) && best100=$dps
    ok_step 100 || break
  done
  printf '%s: best deliveries/s at p99 < 50 ms: %s (%.0f per server core); at p99 < 100 ms: %s\n' "$name" "$best50" \
    "$(echo "$best50 / ($best50_cores + 0.000001)" | bc -l)" "$best100"
  eval "best100_$name=$best100"
}

echo "# chat_scale $mode: $(uname -r), $(nproc) cpus, load average $(cut -d' ' -f1-3 /proc/loadavg)"
case $mode in
  sweep)
    [[ $server == socketio || $server == both ]] && sweep socketio
    [[ $server == chiron || $server == both ]] && sweep chiron
    if [[ $server == both ]]; then
      printf 'ratio chiron/socketio of sustained deliveries/s at p99 < 100 ms: %.1f\n' \
        "$(echo "$best100_chiron / ($best100_socketio + 0.000001)" | bc -l)"
    fi
    ;;
  idle)
    for name in socketio chiron; do
      [[ $server == both || $server == "$name" ]] || continue
      start_server "$name"
      sleep 1
      before=$(rss_kb "$server_pid")
      # Sampled while the clients are held open: after the connect ramp, before the hold ends.
      ( sleep $(( clients / 2000 + 8 )); rss_kb "$server_pid" >"$tmp/during" ) &
      sampler=$!
      run_loadgen "$port" --clients "$clients" --rooms 100 --rate 0 --duration 10 --warmup 0 --connect-rate 2000 \
        --join-wait-ms 5000
      wait "$sampler"
      during=$(cat "$tmp/during")
      printf '%-8s idle_clients=%s joined=%s rss_before_kb=%s rss_with_clients_kb=%s bytes_per_connection=%.0f\n' \
        "$name" "$clients" "$(field joined "$line")" "$before" "$during" "$(echo "($during - $before) * 1024 / $clients" | bc -l)"
      stop_pid "$server_pid"
    done
    ;;
  edges)
    command -v redis-server >/dev/null || { echo "redis-server is not installed" >&2; exit 2; }
    redis_port=$(free_port)
    start_bg redis 'Ready to accept connections' "${server_cpu[@]}" redis-server --port "$redis_port" \
      --bind 127.0.0.1 --save '' --appendonly no
    redis_pid=$bg_pid
    ports=() pids=()
    for e in 1 2 3; do
      start_server "edge$e" --redis "redis://127.0.0.1:$redis_port"
      ports+=("$port") pids+=("$server_pid")
    done
    declare -A c0
    for p in "${pids[@]}" "$redis_pid"; do c0[$p]=$(cpu_ticks "$p"); done
    t0=$(date +%s.%N)
    run_loadgen "$(IFS=,; echo "${ports[*]}")" --clients 300 --rooms 1 --rate 10 --size 100 --duration "$duration" \
      --warmup 5 --connect-rate 500
    t1=$(date +%s.%N)
    echo "edges=3 $line loadgen_cores=$lg_cpu"
    for p in "${pids[@]}" "$redis_pid"; do
      printf '  pid %s cores=%.2f rss_hwm_mb=%.1f\n' "$p" "$(echo "($(cpu_ticks "$p") - ${c0[$p]}) / $hz / ($t1 - $t0)" | bc -l)" \
        "$(echo "$(hwm_kb "$p") / 1024" | bc -l)"
    done
    ;;
esac
