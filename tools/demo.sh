#!/usr/bin/env bash
# The one-command demo: puts a pretend pod on a real CNI network with
# ocicnictl, shows what the library sees, and takes it all down again.
#
# Run as root on a Debian 12 machine:  bash tools/demo.sh
#
# It installs what is missing (tools/setup.sh), builds ocicnictl, and uses
# Debian's plugins (/usr/lib/cni) with the example config shipped in
# config/examples/10-ocicni-demo.conflist: bridge + host-local + portmap +
# tuning, cniVersion 1.0.0, bridge "ocicni-demo0" on 10.251.73.0/24.
#
# What it creates, and removes again on exit even when a step fails: a temp
# dir (conf dir, result cache, host-local's IP reservations, the namespace
# file), a network namespace, the bridge ocicni-demo0 and one veth pair. The
# bridge plugin turns on IPv4 forwarding (isGateway); the demo puts the
# previous value back. ipMasq is off and no port mappings are requested, so
# no iptables rules are added. It sends no traffic, and it refuses to start
# if the bridge name or the subnet is already in use.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

bold=""
plain=""
if [ -t 1 ]; then
  bold=$(printf '\033[1m')
  plain=$(printf '\033[0m')
fi
say() { printf '\n%s== %s%s\n' "${bold}" "$*" "${plain}"; }
note() { printf '   %s\n' "$@"; }

if [ "$(id -u)" -ne 0 ]; then
  echo "demo.sh: run as root (it creates a network namespace, a bridge and" \
    "a veth pair): sudo bash tools/demo.sh" >&2
  exit 1
fi

say "Installing what is missing (tools/setup.sh)"
bash tools/setup.sh

say "Building ocicnictl (bazel build -c opt //tools:ocicnictl)"
bazel build -c opt //tools:ocicnictl
bin_path="$(bazel info -c opt bazel-bin 2>/dev/null)/tools/ocicnictl"

bridge=ocicni-demo0
subnet=10.251.73.0/24
if ip link show "${bridge}" >/dev/null 2>&1; then
  echo "demo.sh: a link named ${bridge} exists already; not touching it." \
    "If an earlier demo left it behind: ip link del ${bridge}" >&2
  exit 1
fi
if [ -n "$(ip -4 route show to match "${subnet%/*}" | grep -v '^default')" ]; then
  echo "demo.sh: ${subnet} is already routed on this machine; not running" \
    "the demo on top of it." >&2
  exit 1
fi

work=$(mktemp -d /tmp/ocicni-demo.XXXXXX)
conf="${work}/net.d"
cache="${work}/cache"
ipam="${work}/ipam"
nsdir="${work}/netns"
mkdir -p "${conf}" "${cache}" "${ipam}" "${work}/bin"
cp "${bin_path}" "${work}/bin/ocicnictl"
# The shipped example, with host-local's reservations in the temp dir.
sed "s#\"/var/lib/cni/networks\"#\"${ipam}\"#" \
  config/examples/10-ocicni-demo.conflist >"${conf}/10-ocicni-demo.conflist"

pod_ns="demo-pod"
pod_id="demo$(date +%s)"
forward_before=$(cat /proc/sys/net/ipv4/ip_forward)

# ocicnictl with the demo's dirs; `run` shows the command first.
ctl() {
  "${work}/bin/ocicnictl" --conf-dir "${conf}" --plugin-dir /usr/lib/cni \
    --cache-dir "${cache}" --netns-dir "${nsdir}" --timeout 30s "$@"
}
run() {
  printf '\n%s$ ocicnictl %s%s\n' "${bold}" "$*" "${plain}"
  ctl "$@"
}

cleanup() {
  local status=$?
  trap - EXIT INT TERM
  say "Cleaning up"
  # Each step is best effort, so one failure does not stop the rest.
  if [ -n "$(ctl --json cache list 2>/dev/null | grep -o "\"${pod_id}\"")" ]; then
    ctl del --id "${pod_id}" --netns "${pod_ns}" >/dev/null 2>&1 ||
      note "del failed; removing the namespace takes the veth with it"
  fi
  if [ -e "${nsdir}/${pod_ns}" ]; then
    ctl netns del "${pod_ns}" >/dev/null 2>&1 || note "netns del failed"
  fi
  if ip link show "${bridge}" >/dev/null 2>&1; then
    ip link del "${bridge}" && note "removed bridge ${bridge}"
  fi
  if [ "$(cat /proc/sys/net/ipv4/ip_forward)" != "${forward_before}" ]; then
    echo "${forward_before}" >/proc/sys/net/ipv4/ip_forward
    note "restored net.ipv4.ip_forward=${forward_before}"
  fi
  # `netns add` bind-mounts the namespace dir onto itself (as ip netns does).
  while mountpoint -q "${nsdir}" 2>/dev/null; do umount "${nsdir}" || break; done
  rm -rf "${work}" && note "removed ${work}"
  if [ "${status}" -eq 0 ]; then
    say "Done: the pod was attached, inspected and detached; nothing is left."
  else
    say "The demo failed (exit ${status}); everything it created is removed."
  fi
  exit "${status}"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say "1. The network configuration"
note "A CNI network is a JSON file in a conf dir. The demo's (from" \
  "config/examples/) chains four of Debian's plugins: bridge (a Linux bridge" \
  "and a veth into the pod), host-local (hands out IPs from ${subnet})," \
  "portmap (host ports; none requested here) and tuning (a sysctl in the pod)."
cat "${conf}/10-ocicni-demo.conflist"
note "" "Every command below runs as" \
  "ocicnictl --conf-dir ${conf} --plugin-dir /usr/lib/cni \\" \
  "          --cache-dir ${cache} --netns-dir ${nsdir} ..." \
  "What the library finds in the conf dir:"
run networks

say "2. A network namespace for the pod"
note "A container runtime creates one per pod sandbox; ocicnictl can too."
run netns add "${pod_ns}"

say "3. Attach the pod (CNI ADD through every plugin of the chain)"
run add --netns "${pod_ns}" --id "${pod_id}" --pod default/demo-pod

say "4. The pod's network status (CHECK, then the cached result)"
run status --netns "${pod_ns}" --id "${pod_id}"

say "5. Inside the namespace, read live through netlink"
run inspect --netns "${pod_ns}"

say "6. The result cache (libcni's format, shared with other CNI tools)"
run cache list

say "7. Detach the pod (CNI DEL, plugins in reverse order)"
run del --id "${pod_id}" --netns "${pod_ns}"
run cache list
run netns del "${pod_ns}"
