#!/usr/bin/env bash
# End-to-end test of ocicnictl with Debian's real CNI plugins (/usr/lib/cni):
# the demo's flow on the shipped example config (bridge + host-local +
# portmap + tuning). netns add -> add -> status -> inspect shows the address
# in the namespace -> cache list -> del -> netns del, then nothing is left:
# no cache entry, no IP reservation, no veth, no namespace.
#
# Needs root. Tagged block-network: Bazel's linux-sandbox runs it in a
# private network and mount namespace, so the bridge and veths it creates
# cannot touch the host. Every file it writes is under $TEST_TMPDIR.
set -euo pipefail

if [ "$(id -u)" -ne 0 ]; then
  echo "SKIP: needs root (namespaces, bridges, veths); run as root, e.g." \
    "under Bazel's linux-sandbox with tags = [\"block-network\"]"
  exit 0
fi
if [ ! -x /usr/lib/cni/bridge ]; then
  echo "FAIL: Debian's CNI plugins are missing in /usr/lib/cni" \
    "(containernetworking-plugins; tools/setup.sh installs it)" >&2
  exit 1
fi

root="${TEST_SRCDIR}/${TEST_WORKSPACE}"
ctl_bin="${root}/tools/ocicnictl"
example="${root}/config/examples/10-ocicni-demo.conflist"
# Plugins look for iptables and ip in PATH, as on a node.
export PATH="${PATH}:/usr/sbin:/sbin"

work="${TEST_TMPDIR}/e2e"
conf="${work}/net.d"
cache="${work}/cache"
ipam="${work}/ipam"
nsdir="${work}/netns"
mkdir -p "${conf}" "${cache}" "${ipam}"
# The example as shipped, with host-local's reservations under $TEST_TMPDIR.
sed "s#\"/var/lib/cni/networks\"#\"${ipam}\"#" "${example}" \
  >"${conf}/10-ocicni-demo.conflist"
grep -q "${ipam}" "${conf}/10-ocicni-demo.conflist"

ctl() {
  "${ctl_bin}" --conf-dir "${conf}" --plugin-dir /usr/lib/cni \
    --cache-dir "${cache}" --netns-dir "${nsdir}" --timeout 30s "$@"
}

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

step() { echo; echo "=== ocicnictl $*"; }

step networks
ctl networks
ctl --json networks | grep -q '"default":"ocicni-demo"' ||
  fail "the example is not the default network"

step netns add e2e-pod
ctl netns add e2e-pod
[ "$(ctl --json netns list)" = '["e2e-pod"]' ] || fail "netns list"

step add
ctl add --netns e2e-pod --id e2e0001 --pod default/demo-0

step status
status_json=$(ctl --json status --netns e2e-pod --id e2e0001)
echo "${status_json}"
ip=$(echo "${status_json}" | grep -o '"address":"10\.251\.73\.[0-9]*/24"' |
  head -1 | cut -d'"' -f4)
[ -n "${ip}" ] || fail "status shows no address in 10.251.73.0/24"
ctl status --netns e2e-pod --id e2e0001

step inspect
ctl inspect --netns e2e-pod
inspect_json=$(ctl --json inspect --netns e2e-pod --ifname eth0)
echo "${inspect_json}" | grep -q "\"address\":\"${ip}\"" ||
  fail "inspect does not show ${ip} on eth0 in the namespace: ${inspect_json}"
echo "${inspect_json}" | grep -q '"dst":"0.0.0.0/0","family":4,"gw":"10.251.73.1"' ||
  fail "no default route via the bridge: ${inspect_json}"

step check
ctl check --netns e2e-pod --id e2e0001

step cache list
ctl cache list
ctl --json cache list | grep -q "\"containerId\":\"e2e0001\".*\"ips\":\[\"${ip}\"\]" ||
  fail "cache list does not show the attachment"
[ -f "${ipam}/ocicni-demo/${ip%/*}" ] || fail "host-local has no reservation"

step del
ctl del --id e2e0001 --netns e2e-pod

step netns del e2e-pod
ctl netns del e2e-pod

echo
echo "=== nothing left behind"
[ "$(ctl --json cache list)" = "[]" ] || fail "cache entries remain"
[ -z "$(ls -A "${cache}/results" 2>/dev/null)" ] || fail "cache files remain"
[ ! -e "${ipam}/ocicni-demo/${ip%/*}" ] || fail "IP reservation ${ip} remains"
[ "$(ctl --json netns list)" = "[]" ] || fail "namespace remains"
if ip -o link show type veth | grep -q .; then
  fail "veths remain: $(ip -o link show type veth)"
fi
# The bridge outlives its pods (as with any CNI bridge); the test removes it.
ip link del ocicni-demo0
echo "ok"
