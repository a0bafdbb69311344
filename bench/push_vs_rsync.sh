#!/usr/bin/env bash
# Initial sync of a 1,000-file / 50 MB project: `chiron push --once` into a fresh `chiron serve`
# against `rsync -a` into a fresh rsync daemon, both over 127.0.0.1, interleaved, in one run.
# rsync runs twice: as is (its files are in the page cache when it exits) and with --fsync (every
# file on disk before it exits, as chiron's acknowledged versions are: blob fsync'd, renamed,
# directory fsync'd, SQLite WAL fsync'd). Prints each run's wall time and the median ratios
# chiron/rsync (goal: ≤ 2).
#
#   bench/push_vs_rsync.sh [--files N] [--mb MB] [--runs R] [--chiron BIN]
set -euo pipefail
cd "$(dirname "$0")/.."

files=1000 mb=50 runs=3
chiron_bin=build/apps/chiron
while [[ $# -gt 0 ]]; do
  case "$1" in
    --files) files=$2; shift 2 ;;
    --mb) mb=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --chiron) chiron_bin=$2; shift 2 ;;
    -h|--help) sed -n '2,7p' "$0"; exit 0 ;;
    *) echo "unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
[[ -x "$chiron_bin" ]] || { echo "missing $chiron_bin" >&2; exit 2; }
command -v rsync >/dev/null || { echo "rsync is not installed (scripts/setup.sh bench)" >&2; exit 2; }

source bench/lib.sh
bench_init
python3 bench/gen_tree.py "$tmp/src" --files "$files" --mb "$mb"
bytes=$(du -sb "$tmp/src" | cut -f1)
echo "# push_vs_rsync: $files files, $((bytes / 1048576)) MB, $runs runs each; $(nproc) cpus, $(rsync --version | head -1)"
echo "# load average before: $(cut -d' ' -f1-3 /proc/loadavg)"

now() { date +%s.%N; }
chiron_times=() rsync_times=() rsyncf_times=()
for run in $(seq "$runs"); do
  # rsync: a daemon on loopback, a fresh module directory per run.
  port=$(free_port)
  mkdir -p "$tmp/rsync-$run"
  cat >"$tmp/rsyncd-$run.conf" <<CONF
pid file = $tmp/rsyncd-$run.pid
use chroot = no
[dst]
  path = $tmp/rsync-$run
  read only = no
  uid = $(id -u)
  gid = $(id -g)
CONF
  rsync --daemon --no-detach --config="$tmp/rsyncd-$run.conf" --address=127.0.0.1 --port="$port" &
  rpid=$!
  bg_pids+=("$rpid")
  for _ in $(seq 50); do rsync "rsync://127.0.0.1:$port/" >/dev/null 2>&1 && break; sleep 0.1; done
  t0=$(now)
  rsync -a "$tmp/src/" "rsync://127.0.0.1:$port/dst/"
  t1=$(now)
  sync  # both sides leave the page cache in the same state
  rsync_times+=("$(echo "$t1 - $t0" | bc -l)")
  rm -rf "$tmp/rsync-$run" && mkdir -p "$tmp/rsync-$run"
  t0=$(now)
  rsync -a --fsync "$tmp/src/" "rsync://127.0.0.1:$port/dst/"
  t1=$(now)
  sync
  rsyncf_times+=("$(echo "$t1 - $t0" | bc -l)")
  stop_pid "$rpid"
  rm -rf "$tmp/rsync-$run"

  # chiron: fresh server + user, then one reconcile of the whole tree.
  port=$(free_port)
  start_bg "serve-$run" '^listening http=' "$chiron_bin" serve --http "127.0.0.1:$port" --rtmp 127.0.0.1:0 \
    --data "$tmp/data-$run" --ns off --log-level warn --quota-mb 1024
  spid=$bg_pid
  token=$("$chiron_bin" user add bench --password bench-password --data "$tmp/data-$run" | sed -n 's/^push_token=//p')
  t0=$(now)
  "$chiron_bin" push "$tmp/src" --server "http://127.0.0.1:$port" --token "$token" --once --quiet
  t1=$(now)
  sync
  chiron_times+=("$(echo "$t1 - $t0" | bc -l)")
  listed=$(curl -s "http://127.0.0.1:$port/api/v1/channels/bench/files" | python3 -c 'import json,sys; print(json.load(sys.stdin)["count"])')
  [[ "$listed" == "$files" ]] || { echo "chiron listed $listed files, expected $files" >&2; exit 1; }
  stop_pid "$spid"
  rm -rf "$tmp/data-$run"
  printf 'run %d: rsync %.2f s, rsync --fsync %.2f s, chiron push %.2f s\n' "$run" "${rsync_times[-1]}" \
    "${rsyncf_times[-1]}" "${chiron_times[-1]}"
done
median() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
mr=$(median "${rsync_times[@]}") mf=$(median "${rsyncf_times[@]}") mc=$(median "${chiron_times[@]}")
mbs() { echo "$bytes / 1048576 / $1" | bc -l; }
printf 'median: rsync %.2f s (%.1f MB/s), rsync --fsync %.2f s (%.1f MB/s), chiron push %.2f s (%.1f MB/s)\n' \
  "$mr" "$(mbs "$mr")" "$mf" "$(mbs "$mf")" "$mc" "$(mbs "$mc")"
printf 'ratio chiron/rsync = %.2f, chiron/rsync --fsync = %.2f (goal <= 2)\n' "$(echo "$mc / $mr" | bc -l)" "$(echo "$mc / $mf" | bc -l)"
