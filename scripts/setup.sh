#!/usr/bin/env bash
# Installs what Chiron needs and is missing: Debian packages and npm packages.
# Idempotent: a second run finds everything present and installs nothing.
#   scripts/setup.sh          build + test dependencies
#   scripts/setup.sh bench    also the peers the benchmarks compare against
set -euo pipefail
cd "$(dirname "$0")/.."

# Build toolchain and libraries (Debian bookworm names).
pkgs=(
  cmake ninja-build g++ ccache pkg-config git
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libssl-dev libsqlite3-dev libpq-dev zlib1g-dev libcli11-dev libfmt-dev
  libgtest-dev libgmock-dev libbenchmark-dev libtbb-dev libhiredis-dev
  libargon2-dev  # review: argon2id password hashes
  libtree-sitter-dev  # fluxc: the tree-sitter library 0.20.7 (the JavaScript grammar comes from npm)
  libavformat-dev libavcodec-dev libavutil-dev  # media: MPEG-TS muxing for HLS
  ffmpeg  # tests: the RTMP publisher and the ffprobe/ffmpeg players
  rtmpdump  # tests: a librtmp player (the RTMP client lineage OBS uses)
  # tests: browser, HTTP client, TLS certificates, Redis peers (CLI, and servers on loopback)
  chromium curl openssl redis-tools redis-server
  postgresql  # service/db tests start a throwaway server (RUNLEVEL=1: the Debian cluster stays stopped)
  iproute2  # cluster tests: network namespaces + veth + bridge (`ip`)
)
if [[ "${1:-}" == bench ]]; then
  pkgs+=(wrk nginx-light librsvg2-bin rsync libnginx-mod-rtmp)
fi

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
# Node.js may come from Debian (nodejs + npm) or elsewhere; only the commands matter.
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)

if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  sudo=""
  [[ $(id -u) -eq 0 ]] || sudo=sudo
  $sudo apt-get update -q
  # Don't let package scripts start services (nginx) on a build machine.
  DEBIAN_FRONTEND=noninteractive RUNLEVEL=1 $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# npm packages pinned by package-lock.json; reinstall only when the lock changed.
stamp=node_modules/.chiron-lock.sha256
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
  echo "setup: npm ci"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$want" > "$stamp"
fi
