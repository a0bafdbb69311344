#!/usr/bin/env bash
# Builds the libFuzzer targets with clang-14 and runs each for FUZZ_SECONDS (default 60).
#   scripts/fuzz.sh [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/.."
for p in clang-14 libclang-rt-14-dev; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
    { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$p"; }
done
seconds=${FUZZ_SECONDS:-60}
CC=clang-14 CXX=clang++-14 cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCHIRON_FUZZ=ON -DCHIRON_SANITIZE=address,undefined -DCHIRON_TESTS=OFF -DCHIRON_BENCH=OFF >/dev/null
targets=("$@")
((${#targets[@]})) || targets=($(cd fuzz && ls *_fuzz.cc | sed 's/\.cc$//'))
cmake --build build-fuzz --target "${targets[@]}"
for t in "${targets[@]}"; do
  corpus=fuzz/corpus/${t%_fuzz}
  work=build-fuzz/corpus/$t
  mkdir -p "$work"
  echo "== $t for ${seconds}s"
  "build-fuzz/fuzz/$t" -max_total_time="$seconds" -print_final_stats=1 "$work" "$corpus"
done
