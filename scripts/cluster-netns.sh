#!/usr/bin/env bash
# A virtual cluster on one machine: N Linux network namespaces joined by one bridge.
#
#   scripts/cluster-netns.sh up N   [--prefix chn] [--net 10.77.0]
#   scripts/cluster-netns.sh down   [--prefix chn]
#   scripts/cluster-netns.sh exec I [--prefix chn] CMD [ARG…]
#   scripts/cluster-netns.sh status [--prefix chn]
#
# up creates the bridge PREFIXbr (host side address NET.254/24, so the host — tests, benchmarks,
# `chiron job submit` — reaches every node's HTTP listener bound to NET.I:PORT) and namespaces
# PREFIX1 … PREFIXN, each with lo up and a veth (eth0 inside, PREFIXvI outside on the bridge)
# with address NET.I/24. N ≤ 253 (.254 is the host's, .255 broadcast). IPv6 as well: for
# NET=A.B.C the ULA fd00:B:C::/64, fd00:B:C::I (I in hex) inside, fd00:B:C::fe on the bridge.
#
# Isolation: the namespaces have no default route and the host forwards nothing for the bridge
# (no NAT, no routes but the bridge's own connected /24), so nothing leaves the bridge. The
# bridge's own netfilter hooks are off (nf_call_iptables 0: a host FORWARD policy of DROP would
# otherwise drop node-to-node frames); no other interface, route or firewall rule is touched.
# `up` refuses a NET that the host already routes elsewhere.
#
# down kills the processes still running in PREFIX<digits> namespaces (by pid), deletes those
# namespaces (which deletes their veth pairs), any PREFIXv<digits> link left over and the
# bridge. Idempotent; safe after a crash or a half-finished up.
set -euo pipefail

usage() { sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

cmd=${1:-}
[ -n "$cmd" ] || usage
shift
prefix=chn
net=10.77.0
n=
idx=
case "$cmd" in
  up) n=${1:-}; [ -n "$n" ] || usage; shift ;;
  exec) idx=${1:-}; [ -n "$idx" ] || usage; shift ;;
  down|status) ;;
  -h|--help|help) usage ;;
  *) echo "cluster-netns: unknown command '$cmd'" >&2; usage ;;
esac
while [ $# -gt 0 ]; do
  case "$1" in
    --prefix) prefix=${2:?--prefix needs a value}; shift 2 ;;
    --net) net=${2:?--net needs a value}; shift 2 ;;
    --) shift; break ;;
    *) [ "$cmd" = exec ] && break; echo "cluster-netns: unknown option '$1'" >&2; usage ;;
  esac
done

if ! command -v ip >/dev/null 2>&1; then
  echo "cluster-netns: needs the 'ip' command (iproute2); install it or use a loopback cluster (127.0.1.1…N, --subnet 127.0.1.0/24)" >&2
  exit 3
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "cluster-netns: network namespaces need root (running as uid $(id -u)); use a loopback cluster instead (127.0.1.1…N, --subnet 127.0.1.0/24)" >&2
  exit 3
fi
if ! [[ $prefix =~ ^[a-z][a-z0-9]{0,7}$ ]]; then
  echo "cluster-netns: --prefix must be 1–8 lower-case letters/digits starting with a letter" >&2
  exit 2
fi
if ! [[ $net =~ ^([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})$ ]] || [ "${BASH_REMATCH[1]}" -gt 255 ] ||
   [ "${BASH_REMATCH[2]}" -gt 255 ] || [ "${BASH_REMATCH[3]}" -gt 255 ]; then
  echo "cluster-netns: --net must be the first three octets of a /24, e.g. 10.77.0" >&2
  exit 2
fi
bridge=${prefix}br
IFS=. read -r _ o2 o3 <<<"$net"
net6=fd00:$o2:$o3  # IPv6 too: NET6::I/64 inside (hex I), NET6::fe on the bridge (a ULA /64 per --net)

namespaces() { ip netns list 2>/dev/null | awk '{print $1}' | grep -E "^${prefix}[0-9]+$" || true; }

down() {
  local ns pid
  for ns in $(namespaces); do
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null || true; done
  done
  for ns in $(namespaces); do ip netns del "$ns" 2>/dev/null || true; done
  for link in $(ip -o link show 2>/dev/null | awk -F': ' '{print $2}' | sed 's/@.*//' | grep -E "^${prefix}v[0-9]+$" || true); do
    ip link del "$link" 2>/dev/null || true
  done
  if ip link show "$bridge" >/dev/null 2>&1; then ip link del "$bridge"; fi
}

case "$cmd" in
  down)
    down
    echo "cluster-netns: down (prefix $prefix)"
    ;;
  status)
    ip -br addr show "$bridge" 2>/dev/null || echo "no bridge $bridge"
    for ns in $(namespaces); do echo "$ns $(ip -n "$ns" -4 -o addr show dev eth0 2>/dev/null | awk '{print $4}')"; done
    ;;
  exec)
    [[ $idx =~ ^[0-9]+$ ]] || { echo "cluster-netns: exec needs a namespace number" >&2; exit 2; }
    [ $# -gt 0 ] || usage
    exec ip netns exec "${prefix}${idx}" "$@"
    ;;
  up)
    if ! [[ $n =~ ^[0-9]+$ ]] || [ "$n" -lt 1 ] || [ "$n" -gt 253 ]; then
      echo "cluster-netns: N must be 1..253" >&2
      exit 2
    fi
    # Someone else's network with the same /24 on the host: refuse rather than shadow it.
    other=$(ip -4 route show to match "$net.1" 2>/dev/null | grep -v "dev $bridge " | grep -v '^default' || true)
    if [ -n "$other" ]; then
      echo "cluster-netns: $net.0/24 is already routed on this host ($other); choose another --net" >&2
      exit 4
    fi
    down >/dev/null 2>&1 || true  # leftovers of a crashed run with the same prefix
    trap 'down >/dev/null 2>&1 || true' ERR
    ip link add name "$bridge" type bridge forward_delay 0 stp_state 0 nf_call_iptables 0 nf_call_ip6tables 0 nf_call_arptables 0 2>/dev/null ||
      ip link add name "$bridge" type bridge forward_delay 0 stp_state 0
    ip addr add "$net.254/24" dev "$bridge"
    v6=1  # a host with IPv6 disabled gets an IPv4-only cluster
    ip addr add "$net6::fe/64" dev "$bridge" nodad 2>/dev/null || v6=0
    ip link set "$bridge" up
    for i in $(seq 1 "$n"); do
      ns=${prefix}${i}
      ip netns add "$ns"
      ip link add "${prefix}v${i}" type veth peer name eth0 netns "$ns"
      ip link set "${prefix}v${i}" master "$bridge" up
      ip -n "$ns" link set lo up
      ip -n "$ns" addr add "$net.$i/24" dev eth0
      if [ "$v6" = 1 ]; then ip -n "$ns" addr add "$net6::$(printf '%x' "$i")/64" dev eth0 nodad; fi
      ip -n "$ns" link set eth0 up
    done
    trap - ERR
    echo "cluster-netns: up $n namespaces ${prefix}1..${prefix}$n on $bridge, $net.1..$net.$n/24, host $net.254"
    ;;
esac
