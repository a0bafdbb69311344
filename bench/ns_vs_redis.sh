#!/usr/bin/env bash
# Name server data plane: `chiron ns` REQ vs redis-server GET, in one invocation,
# on 127.0.0.1 only. Both servers are measured by both clients: redis-benchmark
# (REQ is a custom command to it) and our native bench/ns_loadgen.
#
#   bench/ns_vs_redis.sh [-r ROUNDS] [-n REQUESTS] [--alg NAME] [--nice N] [--chiron BIN] [--loadgen BIN]
#
# Per round, interleaved (the server measured first alternates between rounds):
#   -c 50 unpipelined, -c 50 -P 16, -c 1       GET web (redis) vs REQ web (chiron), both tools
#   REQ big (10,000-server pool) vs REQ web    -c 50 and -P 16
#   REQ web with --churn 200 (REG+HB / REM of throwaway servers, 200 REG+REM/s) vs without
# Prints every run, then medians per config with ratios chiron/redis and p50/p99.
# Server on cpu0, clients on cpu1 (taskset), as in the research notes.
# REQUESTS (default 200000) is per unpipelined -c 50 run; -P 16 runs do 10×, -c 1 runs 1/20.
# --nice N runs both servers and all clients at nice -N (root), so that other tenants' builds
# on a shared box disturb the measurement less; both servers get the same treatment.
set -euo pipefail
cd "$(dirname "$0")/.."

rounds=5
requests=200000
alg=""
nice_level=0
chiron_bin=build/apps/chiron
loadgen_bin=build/bench/ns_loadgen
while [[ $# -gt 0 ]]; do
  case "$1" in
    -r) rounds=$2; shift 2 ;;
    -n) requests=$2; shift 2 ;;
    --alg) alg=$2; shift 2 ;;
    --nice) nice_level=$2; shift 2 ;;
    --chiron) chiron_bin=$2; shift 2 ;;
    --loadgen) loadgen_bin=$2; shift 2 ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
[[ "$rounds" =~ ^[0-9]+$ && "$rounds" -ge 1 && "$rounds" -le 50 ]] || { echo "-r must be 1..50" >&2; exit 2; }
[[ "$requests" =~ ^[0-9]+$ && "$requests" -ge 1000 ]] || { echo "-n must be >= 1000" >&2; exit 2; }
for b in "$chiron_bin" "$loadgen_bin"; do
  [[ -x "$b" ]] || { echo "missing $b: cmake --build build --target chiron ns_loadgen" >&2; exit 2; }
done
for tool in redis-server redis-benchmark redis-cli; do
  command -v "$tool" >/dev/null || {
    echo "$tool is not installed: apt-get install redis-server redis-tools (scripts/setup.sh bench)" >&2
    exit 2
  }
done

[[ "$nice_level" =~ ^[0-9]+$ && "$nice_level" -le 19 ]] || { echo "--nice must be 0..19" >&2; exit 2; }
server_cpu=() client_cpu=()
if ((nice_level > 0)); then
  server_cpu=(nice -n "-$nice_level") client_cpu=(nice -n "-$nice_level")
fi
if command -v taskset >/dev/null && [[ $(nproc) -ge 2 ]]; then
  server_cpu+=(taskset -c 0) client_cpu+=(taskset -c 1)
fi

tmp=$(mktemp -d)
redis_pid="" ns_pid=""
cleanup() {
  for pid in $ns_pid $redis_pid; do
    kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
  done
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

# --- redis-server, persistence off ----------------------------------------------------------
redis_port=$(free_port)
"${server_cpu[@]}" redis-server --bind 127.0.0.1 --port "$redis_port" --save '' --appendonly no \
  --daemonize no --logfile "$tmp/redis.log" &
redis_pid=$!
for _ in $(seq 50); do redis-cli -p "$redis_port" PING >/dev/null 2>&1 && break; sleep 0.1; done
[[ $(redis-cli -p "$redis_port" SET web 10.0.0.1:80) == OK ]] || { echo "redis-server did not start"; cat "$tmp/redis.log"; exit 1; }

# --- chiron ns, in memory (no admin token) ----------------------------------------------------
ns_help=$("$chiron_bin" ns --help)
ns_args=(ns --listen 127.0.0.1:0 --log-level warn)
grep -q -- '--data' <<<"$ns_help" && mkdir -p "$tmp/data" && ns_args+=(--data "$tmp/data")
grep -q -- '--admin' <<<"$ns_help" && ns_args+=(--admin 127.0.0.1:0)
"${server_cpu[@]}" "$chiron_bin" "${ns_args[@]}" >"$tmp/ns.out" 2>"$tmp/ns.err" &
ns_pid=$!
ns_port=""
for _ in $(seq 100); do
  ns_port=$(sed -n 's/^listening ns=127\.0\.0\.1:\([0-9]*\)$/\1/p' "$tmp/ns.out" | head -1)
  [[ -n "$ns_port" ]] && break
  sleep 0.1
done
[[ -n "$ns_port" ]] || { echo "chiron ns did not print its port"; cat "$tmp/ns.err"; exit 1; }
admin_addr=$(sed -n 's/^listening admin=\(.*\)$/\1/p' "$tmp/ns.out" | head -1)

lg() { "${client_cpu[@]}" "$loadgen_bin" --host 127.0.0.1 "$@"; }
# REG + HB (servers stay pending until their first HB): web = 10 servers, big = 10,000.
lg --port "$ns_port" --setup web --servers 10 --subnet 0 >/dev/null
lg --port "$ns_port" --setup big --servers 10000 --subnet 1 >/dev/null
if [[ -n "$alg" ]]; then
  for s in web big; do [[ $(redis-cli -p "$ns_port" ALG "$s" "$alg") == OK ]] || { echo "ALG $s $alg failed"; exit 1; }; done
fi
for s in web big; do
  [[ $(redis-cli -p "$ns_port" REQ "$s") == 10.* ]] || { echo "REQ $s does not answer an address"; exit 1; }
done
# Leases (if the server has them) are renewed between runs, never during one.
renew() {
  lg --port "$ns_port" --setup web --servers 10 --subnet 0 --hb-only >/dev/null
  lg --port "$ns_port" --setup big --servers 10000 --subnet 1 --hb-only >/dev/null
}

results="$tmp/results"
: >"$results"
# CPU time (ns) the server's threads have used: sum of /proc/PID/task/*/schedstat field 1.
# Per request, it measures the server's own cost, which other tenants' load barely changes.
cpu_ns() { cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{s += $1} END {printf "%.0f\n", s}'; }
pid_of() { [[ $1 == redis ]] && echo "$redis_pid" || echo "$ns_pid"; }
cpu_before=0
# record CONFIG TOOL SERVER ROUND "rps p50_us p99_us" REQUESTS: appends "cpu_ns_per_request"
record() {
  local per_req
  per_req=$(( ($(cpu_ns "$(pid_of "$3")") - cpu_before) / $6 ))
  echo "$1|$2|$3|$4|$5 $per_req" >>"$results"
  echo "  $(printf '%-16s %-15s %-6s' "$1" "$2" "$3") rps p50 p99 cpu_ns/req: $5 $per_req"
}

# redis-benchmark --csv: "test","rps","avg","min","p50","p95","p99","max" (latencies in ms).
n_of() { while [[ $# -gt 0 && $1 != -n ]]; do shift; done; echo "$2"; }
rb() {  # rb CONFIG SERVER ROUND PORT ARGS...
  local config=$1 server=$2 round=$3 port=$4; shift 4
  local line
  cpu_before=$(cpu_ns "$(pid_of "$server")")
  line=$("${client_cpu[@]}" redis-benchmark -h 127.0.0.1 -p "$port" --csv "$@" 2>/dev/null | tail -1)
  awk -F, '{for (i = 1; i <= NF; i++) gsub(/"/, "", $i); if ($2 + 0 <= 0) exit 1; printf "%.0f %.1f %.1f\n", $2, $5 * 1000, $7 * 1000}' \
    <<<"$line" >"$tmp/rb" || { echo "redis-benchmark failed for $config $server: $line"; exit 1; }
  record "$config" redis-benchmark "$server" "$round" "$(cat "$tmp/rb")" "$(n_of "$@")"
}
lgrun() {  # lgrun CONFIG SERVER ROUND PORT ARGS...
  local config=$1 server=$2 round=$3 port=$4; shift 4
  local line
  cpu_before=$(cpu_ns "$(pid_of "$server")")
  line=$(lg --port "$port" "$@") || {
    echo "ns_loadgen failed for $config $server: $line"
    kill -0 "$(pid_of "$server")" 2>/dev/null || echo "the $server server is gone"
    tail -5 "$tmp/ns.err" "$tmp/redis.log"
    exit 1
  }
  record "$config" ns_loadgen "$server" "$round" \
    "$(sed -E 's/.*rps=([0-9.]+) p50_us=([0-9.]+) p99_us=([0-9.]+).*/\1 \2 \3/' <<<"$line")" \
    "$(sed -E 's/.* requests=([0-9]+).*/\1/' <<<"$line")"
  [[ "$line" == *churn_ops* ]] && echo "    churn: $(grep -o 'churn_ops.*' <<<"$line")"
  return 0
}

pipelined=$((requests * 10))
single=$((requests / 20))
both() {  # both CONFIG ROUND REDIS-ARGS -- NS-ARGS ; alternates which server goes first
  local config=$1 round=$2; shift 2
  local -a r_args=() n_args=()
  while [[ $1 != -- ]]; do r_args+=("$1"); shift; done
  shift
  n_args=("$@")
  local order=(redis chiron)
  ((round % 2 == 0)) && order=(chiron redis)
  for s in "${order[@]}"; do
    renew
    if [[ $s == redis ]]; then
      rb "$config" redis "$round" "$redis_port" "${r_args[@]}" GET web
      lgrun "$config" redis "$round" "$redis_port" "${n_args[@]}" --command "GET web"
    else
      rb "$config" chiron "$round" "$ns_port" "${r_args[@]}" REQ web
      lgrun "$config" chiron "$round" "$ns_port" "${n_args[@]}" --command "REQ web"
    fi
  done
}

echo "redis-server $(redis-server --version | grep -o 'v=[0-9.]*') on :$redis_port, chiron ns on :$ns_port" \
  "(alg ${alg:-default}); server cpu ${server_cpu[*]:-any}, clients ${client_cpu[*]:-any}; $(nproc) CPUs"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
# Warm both servers and the page cache of both tools.
lg --port "$redis_port" -c 50 -n 50000 --command "GET web" >/dev/null
lg --port "$ns_port" -c 50 -n 50000 --command "REQ web" >/dev/null

for round in $(seq "$rounds"); do
  echo "round $round/$rounds"
  both c50 "$round" -c 50 -n "$requests" -- -c 50 -n "$requests"
  both c50_P16 "$round" -c 50 -P 16 -n "$pipelined" -- -c 50 -P 16 -n "$pipelined"
  both c1 "$round" -c 1 -n "$single" -- -c 1 -n "$single"
  # Pool size: 10,000 servers vs 10 (the c50 / c50_P16 chiron runs above are the 10-server figures).
  renew
  rb big_c50 chiron "$round" "$ns_port" -c 50 -n "$requests" REQ big
  lgrun big_c50 chiron "$round" "$ns_port" -c 50 -n "$requests" --command "REQ big"
  lgrun big_c50_P16 chiron "$round" "$ns_port" -c 50 -P 16 -n "$pipelined" --command "REQ big"
  # Churn: 200 REG+REM per second on web while REQ web runs and a dashboard listens to every delta.
  renew
  dash_pid=""
  if [[ -n "$admin_addr" ]] && command -v node >/dev/null; then
    "${client_cpu[@]}" node bench/ns_dashboard_client.mjs "ws://$admin_addr/api/v1/events" >"$tmp/dash.out" 2>&1 &
    dash_pid=$!
    # Measure the steady state: the dashboard's first snapshot (every server of every pool,
    # 10,000 of them in `big`) is a one-off cost of connecting, not of running.
    sleep 1
  fi
  lgrun churn_c50 chiron "$round" "$ns_port" -c 50 -n "$requests" --command "REQ web" --churn 200
  lgrun churn_c50_P16 chiron "$round" "$ns_port" -c 50 -P 16 -n "$pipelined" --command "REQ web" --churn 200
  if [[ -n "$dash_pid" ]]; then
    kill -TERM "$dash_pid" 2>/dev/null; wait "$dash_pid" 2>/dev/null || true
    echo "    dashboard during churn: $(cat "$tmp/dash.out")"
  fi
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"

python3 - "$results" <<'EOF'
import statistics, sys
from collections import defaultdict
runs = defaultdict(list)  # (config, tool, server) -> [(rps, p50, p99)]
for line in open(sys.argv[1]):
    config, tool, server, _round, vals = line.strip().split("|")
    runs[(config, tool, server)].append(tuple(float(v) for v in vals.split()))

def med(key, i):
    xs = [r[i] for r in runs.get(key, [])]
    return statistics.median(xs) if xs else None

def spread(key):
    xs = [r[0] for r in runs.get(key, [])]
    return f"{min(xs)/1e3:.0f}-{max(xs)/1e3:.0f}k" if xs else "-"

print()
print("medians of %d runs; rps in thousands; latency p50/p99 in us (per batch for -P 16)" % max(len(v) for v in runs.values()))
print(f"{'config':<9} {'client':<15} {'redis GET':>10} {'chiron REQ':>10} {'ratio':>6}   {'redis p50/p99':>15} {'chiron p50/p99':>15}   {'cpu ns/req r|c':>14}   spread redis | chiron")
for config in ("c50", "c50_P16", "c1"):
    for tool in ("redis-benchmark", "ns_loadgen"):
        r, c = (config, tool, "redis"), (config, tool, "chiron")
        if r not in runs or c not in runs:
            continue
        print(f"{config:<9} {tool:<15} {med(r,0)/1e3:>10.1f} {med(c,0)/1e3:>10.1f} {med(c,0)/med(r,0):>6.2f}   "
              f"{med(r,1):>7.0f}/{med(r,2):<7.0f} {med(c,1):>7.0f}/{med(c,2):<7.0f}   "
              f"{med(r,3):>6.0f}|{med(c,3):<7.0f}   {spread(r)} | {spread(c)}")
print()
print(f"{'chiron only':<28} {'rps (k)':>9} {'vs':>22} {'ratio':>6}   {'p50/p99':>15} {'base p50/p99':>15}   cpu ns/req (base)")
for config, tool, base in (("big_c50", "redis-benchmark", "c50"), ("big_c50", "ns_loadgen", "c50"),
                           ("big_c50_P16", "ns_loadgen", "c50_P16"),
                           ("churn_c50", "ns_loadgen", "c50"), ("churn_c50_P16", "ns_loadgen", "c50_P16")):
    k, b = (config, tool, "chiron"), (base, tool, "chiron")
    if k not in runs or b not in runs:
        continue
    label = ("REQ big (10k)" if config.startswith("big") else "REQ web + churn 200/s") + (" -P16" if "P16" in config else "")
    print(f"{label:<28} {med(k,0)/1e3:>9.1f} {'REQ web ' + base + ' ' + tool[:6]:>22} {med(k,0)/med(b,0):>6.2f}   "
          f"{med(k,1):>7.0f}/{med(k,2):<7.0f} {med(b,1):>7.0f}/{med(b,2):<7.0f}   {med(k,3):.0f} ({med(b,3):.0f})")
EOF
