#!/usr/bin/env bash
# Discovery benchmark: N `chiron node` daemons in network namespaces (root; loopback aliases
# otherwise), time until every node's superior is its ideal one. See bench/cluster_discovery.mjs.
#
#   bench/cluster_discovery.sh [--chiron BIN] [--nodes 32] [--fanout 2] [--runs 3] [--stagger-ms 0] [-- NODE-ARGS…]
#   e.g. bench/cluster_discovery.sh --nodes 64 --fanout 8 -- --scan-interval-ms 1000
set -euo pipefail
cd "$(dirname "$0")/.."
chiron_bin=${CHIRON_BIN:-build/apps/chiron}
if [[ ${1:-} == --chiron ]]; then chiron_bin=$2; shift 2; fi
[[ ${1:-} == -h || ${1:-} == --help ]] && { sed -n '2,6p' "$0"; exit 0; }
[[ -x "$chiron_bin" ]] || { echo "missing $chiron_bin (--chiron BIN or CHIRON_BIN)" >&2; exit 2; }
CHIRON_BIN=$(realpath "$chiron_bin") exec nice node bench/cluster_discovery.mjs "$@"
