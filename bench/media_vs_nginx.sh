#!/usr/bin/env bash
# Video, issue 6: chiron's media server against nginx + libnginx-mod-rtmp (Debian) and npm
# node-media-server 4.4.3 (bench/peers/, pinned by its package-lock.json), measured by our native
# bench/media_loadgen, on 127.0.0.1 only. One server at a time, each with its own ffmpeg publisher
# (640x360 testsrc2 + sine, x264 ultrafast, 4 s GOP: -g 100 at 25 fps, ~600 kbit/s as in SRS's
# figures). Server on cpu0 (taskset; chiron --net-threads 1, nginx worker_processes 1, node is one
# event loop), publisher and load generator on cpu1.
#
#   bench/media_vs_nginx.sh [--chiron BIN] [--loadgen BIN] [--steps "500 1000 2000 4000"]
#                           [--seconds S] [--ramp PER_S] [--servers "chiron nginx nms"] [--quick]
#                           [--nice N]
#
# Per server and protocol (HTTP-FLV for chiron and NMS, RTMP for all three):
#   idle    no viewers: the server's CPU for ingest (+ HLS muxing for chiron and nginx)
#   ttff    5 late joiners one after another (1.3 s apart, so they land at different GOP phases):
#           connect → first keyframe after the AVC sequence header; the median
#   steps   N viewers (--steps, ramped at --ramp/s, 3 s warm-up, --seconds window) while the
#           load generator samples the server's utime+stime (/proc/PID/stat); the ramp stops at the
#           first step with a stall (> 1 s without video), a closed viewer or a viewer without video
#   slow    chiron only: 200 viewers without, then with 10 slow readers (10 % of the stream rate):
#           the others' p99 added delay
# Prints every load generator line (JSON), then a table and the ratios. --quick: steps "100 250",
# 6 s windows (a smoke test). CPU is the server's only; the load generator and ffmpeg share cpu1
# (their load is printed: loadgen_cores close to 1 means the generator, not the server, limits).
# --nice N (root, N > 0): runs the servers at nice -N and ffmpeg + the load generator at -N/2, so
# that other work on a shared machine (parallel builds on cpu0) does not starve the server: on a
# busy box the step limit is otherwise the CPU share the server gets, not what it can do.
set -euo pipefail
cd "$(dirname "$0")/.."

chiron_bin=build/apps/chiron loadgen_bin=build/bench/media_loadgen
steps="500 1000 2000 4000" seconds=10 ramp=400 servers="chiron nginx nms" nice=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --chiron) chiron_bin=$2; shift 2 ;;
    --loadgen) loadgen_bin=$2; shift 2 ;;
    --steps) steps=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --ramp) ramp=$2; shift 2 ;;
    --servers) servers=$2; shift 2 ;;
    --quick) steps="100 250" seconds=6; shift ;;
    --nice) nice=$2; shift 2 ;;
    -h|--help) sed -n '2,24p' "$0"; exit 0 ;;
    *) echo "unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
[[ -x "$chiron_bin" ]] || { echo "missing $chiron_bin" >&2; exit 2; }
[[ -x "$loadgen_bin" ]] || { echo "missing $loadgen_bin: cmake --build BUILD --target media_loadgen (-DCHIRON_BENCH=ON)" >&2; exit 2; }

# Peers: Debian's nginx-light + libnginx-mod-rtmp, ffmpeg (scripts/setup.sh bench), and
# node-media-server from bench/peers/package-lock.json.
rtmp_module=/usr/lib/nginx/modules/ngx_rtmp_module.so
if ! command -v nginx >/dev/null || [[ ! -f $rtmp_module ]] || ! command -v ffmpeg >/dev/null; then
  scripts/setup.sh bench
fi
rtmp_module=$(dpkg -L libnginx-mod-rtmp | grep 'ngx_rtmp_module\.so$' | head -1)
nms_dir=bench/peers/node_modules/node-media-server
if [[ ! -f $nms_dir/package.json ]]; then
  npm ci --prefix bench/peers --no-audit --no-fund --loglevel=error
fi

source bench/lib.sh
bench_init
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
if [[ $nice -gt 0 ]]; then
  server_cpu=(nice -n "-$nice" "${server_cpu[@]}")
  client_cpu=(nice -n "-$((nice / 2))" "${client_cpu[@]}")
fi
pub_cpu=("${client_cpu[@]}")
gen=("${client_cpu[@]}" "$loadgen_bin")

wait_port() {  # wait_port PORT: until it accepts (10 s)
  for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.1
  done
  echo "port $1 did not open" >&2
  exit 1
}

publisher_pid=""
start_publisher() {  # start_publisher URL: ffmpeg, real time, at most 15 minutes
  "${pub_cpu[@]}" timeout -k 2 900 ffmpeg -hide_banner -nostdin -loglevel error -re \
    -f lavfi -i testsrc2=size=640x360:rate=25 -f lavfi -i sine=frequency=1000:sample_rate=44100 \
    -c:v libx264 -preset ultrafast -tune zerolatency -pix_fmt yuv420p -g 100 -keyint_min 100 -sc_threshold 0 \
    -b:v 540k -maxrate 540k -bufsize 1080k -c:a aac -b:a 64k -ar 44100 -ac 2 \
    -f flv "$1" >"$tmp/ffmpeg.out" 2>"$tmp/ffmpeg.err" &
  publisher_pid=$!
  bg_pids+=("$publisher_pid")
}

# wait_live URL: until one viewer gets video (15 s)
wait_live() {
  for _ in $(seq 15); do
    local line
    line=$("${gen[@]}" --url "$1" --viewers 1 --warmup 0 --seconds 1 --stall-ms 5000)
    [[ $(python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print(d["no_video"])' "$line") == 0 ]] && return 0
    sleep 1
  done
  echo "stream $1 did not go live; ffmpeg said:" >&2
  cat "$tmp/ffmpeg.err" >&2
  exit 1
}

results=$tmp/results.jsonl
: >"$results"
record() {  # record SERVER PROTO TEST N LINE
  echo "$1 $2 $3 n=$4 $5"
  python3 -c 'import json,sys; d=json.loads(sys.argv[5]); d.update(server=sys.argv[1],proto=sys.argv[2],test=sys.argv[3],n=int(sys.argv[4])); print(json.dumps(d))' \
    "$@" >>"$results"
}

server_pids=""
run_server() {  # run_server NAME FLV_URL|"" RTMP_URL
  local name=$1 flv=$2 rtmp=$3 proto url n line ok
  for proto in flv rtmp; do
    url=$flv
    [[ $proto == rtmp ]] && url=$rtmp
    [[ -z $url ]] && continue
    wait_live "$url"
    line=$("${gen[@]}" --url "$url" --viewers 0 --warmup 1 --seconds 5 --server-pids "$server_pids")
    record "$name" "$proto" idle 0 "$line"
    line=$("${gen[@]}" --url "$url" --viewers 0 --warmup 0 --seconds 1 --probes 5 --probe-interval-ms 1300)
    record "$name" "$proto" ttff 0 "$line"
    for n in $steps; do
      line=$("${gen[@]}" --url "$url" --viewers "$n" --ramp "$ramp" --warmup 3 --seconds "$seconds" \
        --server-pids "$server_pids")
      record "$name" "$proto" step "$n" "$line"
      ok=$(python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print(int(d["stalled_viewers"]+d["closed"]+d["no_video"]==0))' "$line")
      [[ $ok == 1 ]] || break
      kill -0 "$publisher_pid" 2>/dev/null || { echo "publisher died:" >&2; cat "$tmp/ffmpeg.err" >&2; exit 1; }
    done
    if [[ $name == chiron ]]; then
      for k in 0 10; do
        line=$("${gen[@]}" --url "$url" --viewers 200 --slow "$k" --slow-fraction 0.1 --ramp "$ramp" --warmup 3 \
          --seconds "$seconds" --server-pids "$server_pids")
        record "$name" "$proto" slow "$k" "$line"
      done
    fi
  done
}

stop_all() {
  [[ -n $publisher_pid ]] && stop_pid "$publisher_pid"
  publisher_pid=""
  local pid
  for pid in "${bg_pids[@]}"; do stop_pid "$pid"; done
}

echo "# media_vs_nginx: steps=\"$steps\" seconds=$seconds ramp=$ramp/s GOP 4 s, 640x360@25, ~600 kbit/s"
echo "# $(uname -r), $(nproc) cpus, $(nginx -v 2>&1 | sed 's/.*: //'), libnginx-mod-rtmp $(dpkg-query -W -f='${Version}' libnginx-mod-rtmp), node-media-server $(node -p "require('./$nms_dir/package.json').version"), node $(node --version), $(ffmpeg -version | head -1 | cut -d' ' -f1-3)"
echo "# nice: servers -$nice, ffmpeg and load generator -$((nice / 2)); listen overflows so far: $(nstat -az TcpExtListenOverflows 2>/dev/null | awk '/ListenOverflows/ {print $2}')"
echo "# load average before: $(cut -d' ' -f1-3 /proc/loadavg)"

for server in $servers; do
  case $server in
    chiron)
      http=$(free_port) rtmp=$(free_port) data=$tmp/chiron-data
      key=$("$chiron_bin" user add alice --password password1 --data "$data" | sed -n 's/.*stream_key=\(sk_[A-Za-z0-9_-]*\).*/\1/p')
      [[ -n $key ]] || { echo "chiron user add printed no stream_key" >&2; exit 1; }
      start_bg chiron '^listening rtmp=' "${server_cpu[@]}" "$chiron_bin" serve --http "127.0.0.1:$http" \
        --rtmp "127.0.0.1:$rtmp" --data "$data" --ns off --net-threads 1 --log-level warn
      server_pids=$bg_pid
      start_publisher "rtmp://127.0.0.1:$rtmp/live/$key"
      run_server chiron "http://127.0.0.1:$http/live/alice.flv" "rtmp://127.0.0.1:$rtmp/live/alice"
      ;;
    nginx)
      http=$(free_port) rtmp=$(free_port) p=$tmp/nginx
      mkdir -p "$p/hls"
      cat >"$p/nginx.conf" <<EOF
load_module $rtmp_module;
daemon off; master_process on; worker_processes 1; worker_rlimit_nofile 20000;
pid $p/nginx.pid; error_log $p/error.log warn;
events { worker_connections 10000; }
rtmp { server { listen 127.0.0.1:$rtmp; chunk_size 4096;
    application live { live on; record off; allow publish 127.0.0.1; deny publish all; allow play all;
        hls on; hls_path $p/hls; hls_fragment 2s; hls_playlist_length 10s; } } }
http { access_log off; client_body_temp_path $p/cbt; proxy_temp_path $p/pt;
    fastcgi_temp_path $p/ft; uwsgi_temp_path $p/ut; scgi_temp_path $p/st;
    server { listen 127.0.0.1:$http;
        location /hls/ { types { application/vnd.apple.mpegurl m3u8; video/mp2t ts; } root $p; add_header Cache-Control no-cache; }
        location /stat { rtmp_stat all; } } }
EOF
      [[ $(id -u) -eq 0 ]] && chown -R nobody "$p/hls"
      "${server_cpu[@]}" nginx -p "$p" -c "$p/nginx.conf" -e "$p/error.log" >"$tmp/nginx.out" 2>"$tmp/nginx.err" &
      bg_pids+=($!)
      wait_port "$rtmp"
      server_pids=""
      for _ in $(seq 50); do  # the worker (the master only forks and waits)
        [[ -s $p/nginx.pid ]] && server_pids=$(pgrep -P "$(cat "$p/nginx.pid")" | paste -sd, || true)
        [[ -n $server_pids ]] && break
        sleep 0.1
      done
      [[ -n $server_pids ]] || { echo "nginx worker not found" >&2; cat "$p/error.log" >&2; exit 1; }
      start_publisher "rtmp://127.0.0.1:$rtmp/live/bench"
      run_server nginx "" "rtmp://127.0.0.1:$rtmp/live/bench"
      ;;
    nms)
      http=$(free_port) rtmp=$(free_port) p=$tmp/nms
      mkdir -p "$p"
      cat >"$p/config.json" <<EOF
{ "bind": "127.0.0.1", "notify": { "url": "" }, "store": { "path": "$p/data", "maxHistory": 100 },
  "auth": { "play": false, "publish": false, "secret": "0123456789abcdef0123456789abcdef",
            "jwt": { "secret": "bench", "expiresIn": "24h", "refreshExpiresIn": "7d", "algorithm": "HS256", "users": [] } },
  "rtmp": { "port": $rtmp }, "http": { "port": $http }, "webadmin": { "enable": false },
  "record": { "auto": false, "path": "$p/record" } }
EOF
      start_bg nms 'HTTP server listening' "${server_cpu[@]}" node "$nms_dir/bin/app.js" -c "$p/config.json" --no-admin
      server_pids=$bg_pid
      wait_port "$rtmp"
      start_publisher "rtmp://127.0.0.1:$rtmp/live/bench"
      run_server nms "http://127.0.0.1:$http/live/bench.flv" "rtmp://127.0.0.1:$rtmp/live/bench"
      ;;
    *) echo "unknown server $server" >&2; exit 2 ;;
  esac
  stop_all
  echo "# load average: $(cut -d' ' -f1-3 /proc/loadavg); listen overflows so far: $(nstat -az TcpExtListenOverflows 2>/dev/null | awk '/ListenOverflows/ {print $2}')"
done

# The table: per server and protocol, idle CPU, TTFF, the largest step without stalls, the server's
# CPU there, viewers per core and marginal CPU per viewer; then the ratios against nginx-rtmp.
python3 - "$results" <<'EOF'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
def pick(s, p, t): return [r for r in rows if r["server"] == s and r["proto"] == p and r["test"] == t]
summary = {}
print()
print("| server | protocol | idle CPU | TTFF median (5 late joiners) | max viewers without stalls (tried) | server CPU there | viewers per core | CPU per viewer | p99 added delay | loadgen CPU |")
print("|---|---|---|---|---|---|---|---|---|---|")
for s in ["chiron", "nginx", "nms"]:
    for p in ["flv", "rtmp"]:
        idle, ttff, steps = pick(s, p, "idle"), pick(s, p, "ttff"), pick(s, p, "step")
        if not steps: continue
        good = [r for r in steps if r["stalled_viewers"] + r["closed"] + r["no_video"] == 0]
        best = max(good, key=lambda r: r["n"]) if good else None
        idle_c = idle[0]["server_cores"] if idle else 0.0
        tried = max(r["n"] for r in steps)
        first_bad = next((r for r in steps if r not in good), None)
        if best:
            cores = best["server_cores"]
            vpc = best["n"] / cores if cores > 0 else float("inf")
            per_viewer_us = (cores - idle_c) / best["n"] * 1e6
            summary[(s, p)] = dict(vpc=vpc, n=best["n"], cores=cores, ttff=ttff[0]["ttff_median_ms"] if ttff else None,
                                   per_viewer_us=per_viewer_us, steps={r["n"]: r for r in steps})
            bad = f" (stalled at {first_bad['n']}: {first_bad['stalled_viewers']} stalled, {first_bad['closed']} closed, {first_bad['no_video']} no video)" if first_bad else " (no stall up to the last step)"
            print(f"| {s} | {'HTTP-FLV' if p == 'flv' else 'RTMP'} | {idle_c*100:.1f} % | {ttff[0]['ttff_median_ms'] if ttff else '-'} ms {ttff[0]['ttff_ms'] if ttff else ''} | "
                  f"{best['n']}{bad} | {cores*100:.0f} % | {vpc:,.0f} | {per_viewer_us:.0f} µs/s | {best['delay_p99_ms']:.0f} ms | {best['loadgen_cores']*100:.0f} % |")
        else:
            print(f"| {s} | {p} | {idle_c*100:.1f} % | {ttff[0]['ttff_median_ms'] if ttff else '-'} ms | none (stalled at {steps[0]['n']}) | | | | | |")
print()
ng = summary.get(("nginx", "rtmp"))
for key in [("chiron", "rtmp"), ("chiron", "flv"), ("nms", "flv"), ("nms", "rtmp")]:
    c = summary.get(key)
    if not c or not ng: continue
    # same N for a fair CPU comparison: the largest step both passed
    common = sorted(set(c["steps"]) & set(ng["steps"]))
    common = [n for n in common if all(x["steps"][n]["stalled_viewers"] + x["steps"][n]["closed"] + x["steps"][n]["no_video"] == 0 for x in (c, ng))]
    line = f"{key[0]} {key[1]} / nginx-rtmp:"
    if common:
        n = common[-1]
        a, b = c["steps"][n]["server_cores"], ng["steps"][n]["server_cores"]
        line += f" viewers per core at {n} viewers {b/a if a > 0 else float('inf'):.2f}x ({n/a:,.0f} vs {n/b:,.0f});"
    line += f" max viewers without stalls {c['n']} vs {ng['n']};"
    if c["ttff"] is not None and ng["ttff"] is not None:
        line += f" TTFF {c['ttff']:.0f} ms vs {ng['ttff']:.0f} ms"
    print(line)
slow = {(r["proto"], r["n"]): r for r in rows if r["test"] == "slow"}
for p in ["flv", "rtmp"]:
    if (p, 0) in slow and (p, 10) in slow:
        a, b = slow[(p, 0)], slow[(p, 10)]
        print(f"chiron {p} slow readers: others' p99 added delay {a['delay_p99_ms']:.0f} ms without, {b['delay_p99_ms']:.0f} ms with 10 slow readers "
              f"(max {b['delay_max_ms']:.0f} ms; stalled viewers {b['stalled_viewers']}); slow readers got {b['slow_kbit_s']:.0f} kbit/s, "
              f"were {b['slow_lag_max_ms']} ms behind at the end, {b['slow_keyframe_skips']} keyframe skips, {b['slow_closed']} closed by the server")
EOF
