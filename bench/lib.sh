# Shared helpers of the bench/*.sh drivers (sourced, not run). Everything binds to 127.0.0.1.
#   bench_init            temp dir $tmp, cleanup trap (stops every process started with start_bg)
#   free_port             an unused loopback TCP port
#   cpu_ticks PID         utime + stime of a process in clock ticks ($hz per second)
#   rss_kb PID / hwm_kb PID   resident set now / its high-water mark, in KiB
#   start_bg NAME REGEX CMD...  starts CMD (stdout → $tmp/NAME.out), waits until a stdout line
#                         matches REGEX (10 s), sets bg_pid; on failure prints NAME's stderr, exits 1
#   stop_pid PID          SIGTERM and wait
# server_cpu / client_cpu: taskset prefixes pinning servers to cpu0 and load generators to cpu1
# when there are at least two CPUs (empty arrays otherwise).

hz=$(getconf CLK_TCK)
server_cpu=() client_cpu=()
if command -v taskset >/dev/null && [[ $(nproc) -ge 2 ]]; then
  server_cpu=(taskset -c 0) client_cpu=(taskset -c 1)
fi
bg_pids=()

bench_init() {
  tmp=$(mktemp -d)
  trap bench_cleanup EXIT
  trap 'exit 130' INT TERM
}

bench_cleanup() {
  local pid
  for pid in "${bg_pids[@]}"; do kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true; done
  bg_pids=()
  [[ -n "${tmp:-}" ]] && rm -rf "$tmp"
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
rss_kb() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status"; }
hwm_kb() { awk '/^VmHWM/ { print $2 }' "/proc/$1/status"; }

start_bg() {
  local name=$1 regex=$2; shift 2
  "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" &
  bg_pid=$!
  bg_pids+=("$bg_pid")
  for _ in $(seq 100); do
    grep -Eq "$regex" "$tmp/$name.out" 2>/dev/null && return 0
    kill -0 "$bg_pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "$name did not start:" >&2
  cat "$tmp/$name.err" >&2
  exit 1
}

stop_pid() {
  kill "$1" 2>/dev/null && wait "$1" 2>/dev/null || true
  local kept=() pid
  for pid in "${bg_pids[@]}"; do [[ $pid != "$1" ]] && kept+=("$pid"); done
  bg_pids=("${kept[@]}")
}
