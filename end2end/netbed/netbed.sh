#!/usr/bin/env bash
# A small internet in network namespaces, for calls between two strict NATs:
#
#   <id>-cla 10.1.0.2 -- 10.1.0.1 <id>-nata 203.0.113.21 --+
#                                                          br0 203.0.113.10 <id>-srv
#   <id>-clb 10.2.0.2 -- 10.2.0.1 <id>-natb 203.0.113.22 --+
#
# Each NAT maps every flow to a fresh random port (endpoint-dependent mapping) and drops what
# nobody inside asked for, like a home router; the server's namespace has no uplink. Every
# namespace drops traffic addressed outside 10.0.0.0/8 and 203.0.113.0/24, and has no IPv6.
#
#   netbed.sh up ID          build it (after removing an older bed named ID)
#   netbed.sh down ID        remove it, and anything still running inside
#   netbed.sh udp ID on|off  let UDP between the NATs and the server through, or drop it
#   netbed.sh remap ID a|b   move that NAT's flows to its other public address, on new ports, as
#                            a carrier's NAT may: all but TCP to the web ports 8080-8089 (the
#                            signaling socket), which stay
set -euo pipefail

cmd=${1:?usage: netbed.sh up|down|udp|remap ID ...}
id=${2:?usage: netbed.sh up|down|udp|remap ID ...}
[[ $id =~ ^[a-z0-9]{1,8}$ ]] || { echo "netbed: ID must be 1 to 8 of [a-z0-9]" >&2; exit 2; }

srv=$id-srv
names=("$id-cla" "$id-clb" "$id-nata" "$id-natb" "$srv")

in_ns() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

down() {
  for ns in "${names[@]}"; do
    ip netns list | grep -qw "^$ns" || continue
    # Bounded: a process that ignores SIGTERM gets SIGKILL a second later.
    for sig in TERM KILL; do
      pids=$(ip netns pids "$ns" || true)
      [[ -z $pids ]] && break
      kill -s "$sig" $pids 2>/dev/null || true
      sleep 1
    done
    ip netns del "$ns"
  done
}

# The guard every namespace carries: nothing leaves for an address outside the bed.
guard() {
  in_ns "$1" nft -f - <<'EOF'
table inet guard {
  set bed { type ipv4_addr; flags interval; elements = { 10.0.0.0/8, 203.0.113.0/24 } }
  chain output {
    type filter hook output priority 0; policy drop;
    oifname "lo" accept
    meta nfproto ipv4 ip daddr @bed accept
  }
  chain forward {
    type filter hook forward priority 0; policy drop;
    meta nfproto ipv4 ip daddr @bed accept
  }
}
EOF
}

new_ns() {
  ip netns add "$1"
  in_ns "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
  in_ns "$1" ip link set lo up
  guard "$1"
}

# A home router: masquerade to a random port per flow, nothing unsolicited comes in.
router() {
  local ns=$1
  in_ns "$ns" sysctl -qw net.ipv4.ip_forward=1
  in_ns "$ns" nft -f - <<'EOF'
table ip nat {
  chain postrouting {
    type nat hook postrouting priority srcnat; policy accept;
    oifname "wan" masquerade fully-random
  }
}
table inet firewall {
  chain input {
    type filter hook input priority 0; policy drop;
    iifname { "lo", "lan" } accept
    ct state established,related accept
  }
  chain forward {
    type filter hook forward priority 0; policy drop;
    ct state established,related accept
    iifname "lan" oifname "wan" accept
  }
}
table inet block {
  chain forward {
    type filter hook forward priority -10; policy accept;
  }
}
EOF
}

# One side: the client's namespace behind its router, the router's WAN port on the bridge.
side() {
  local s=$1 n=$2 nat=$id-nat$1 cl=$id-cl$1
  new_ns "$nat"
  new_ns "$cl"
  ip link add wan netns "$nat" type veth peer name "p$s" netns "$srv"
  ip link add lan netns "$nat" type veth peer name eth0 netns "$cl"
  in_ns "$srv" ip link set "p$s" master br0 up
  in_ns "$nat" ip addr add "203.0.113.2$n/24" dev wan
  in_ns "$nat" ip addr add "10.$n.0.1/24" dev lan
  in_ns "$nat" ip link set wan up
  in_ns "$nat" ip link set lan up
  in_ns "$cl" ip addr add "10.$n.0.2/24" dev eth0
  in_ns "$cl" ip link set eth0 up
  in_ns "$cl" ip route add default via "10.$n.0.1"
  router "$nat"
}

up() {
  down
  trap 'down' ERR
  new_ns "$srv"
  in_ns "$srv" ip link add br0 type bridge
  in_ns "$srv" ip addr add 203.0.113.10/24 dev br0
  in_ns "$srv" ip link set br0 up
  side a 1
  side b 2
  trap - ERR
}

case $cmd in
  up) up ;;
  down) down ;;
  udp)
    for s in a b; do
      in_ns "$id-nat$s" nft flush chain inet block forward
      if [[ ${3:?on or off} == off ]]; then
        in_ns "$id-nat$s" nft add rule inet block forward oifname wan meta l4proto udp drop
      fi
    done
    ;;
  remap)
    [[ ${3:-} =~ ^[ab]$ ]] || { echo "netbed: remap takes a or b" >&2; exit 2; }
    nat=$id-nat$3 n=$([[ $3 == a ]] && echo 1 || echo 2)
    # Flows leave from 203.0.113.3n, then from the interface's own address again, and so on.
    in_ns "$nat" nft flush chain ip nat postrouting
    in_ns "$nat" nft add rule ip nat postrouting oifname wan tcp dport 8080-8089 masquerade fully-random
    if [[ $(in_ns "$nat" ip -4 addr show dev wan) == *"203.0.113.3$n/"* ]]; then
      in_ns "$nat" ip addr del "203.0.113.3$n/24" dev wan
      in_ns "$nat" nft add rule ip nat postrouting oifname wan masquerade fully-random
    else
      in_ns "$nat" ip addr add "203.0.113.3$n/24" dev wan
      in_ns "$nat" nft add rule ip nat postrouting oifname wan snat to "203.0.113.3$n" fully-random
    fi
    # Forget the mappings of the flows that move: UDP, and TCP to the relays' ports.
    moved=0
    for filter in "-p udp" "-p tcp --dport 3478" "-p tcp --dport 3479"; do
      out=$(in_ns "$nat" conntrack -D $filter 2>&1) || true
      [[ $out =~ ([0-9]+)\ flow\ entries ]] && moved=$((moved + BASH_REMATCH[1]))
    done
    ((moved > 0)) || { echo "netbed: no flow to move" >&2; exit 1; }
    ;;
  *) echo "netbed: unknown command $cmd" >&2; exit 2 ;;
esac
