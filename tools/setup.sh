#!/usr/bin/env bash
# Installs every Debian package that building, testing, the demo and the
# benchmarks of ocicni need. Idempotent: when everything is present it only
# checks and exits; `apt-get update` runs only when something is missing.
set -euo pipefail

PACKAGES=(
  # Build.
  bazel-bootstrap
  g++
  protobuf-compiler
  libprotobuf-dev
  libabsl-dev
  libgoogle-glog-dev
  libgflags-dev
  libgtest-dev
  libgmock-dev
  libnl-3-dev
  libnl-route-3-dev
  libbenchmark-dev
  # The static archives a fully static link needs besides those above
  # (--config=static in .bazelrc): glog's unwinder and what it uses.
  libunwind-dev
  liblzma-dev
  # Real CNI plugins for integration tests and the demo (/usr/lib/cni).
  containernetworking-plugins
  # iptables for the portmap plugin in the integration suite (integration/).
  iptables
  # unshare/mount/nsenter used by tests to build their own sandboxes.
  util-linux
  # `ip`, which bench/status_bench runs for comparison only (the library
  # never does).
  iproute2
  # Formatting and linting (see README).
  clang-format
  clang-tidy
  # Fuzzing (tools/fuzz.sh): clang, its libFuzzer and sanitizer runtimes,
  # and llvm-symbolizer for readable crash stacks.
  clang-14
  libclang-rt-14-dev
  lld-14
  llvm-14
  # The linker of the fully static build (--config=static): `lld` provides
  # ld.lld, which gcc's -fuse-ld=lld runs.
  lld
  # Profiling (bench/) and tools/build/hot_symbols.sh: valgrind (callgrind,
  # lackey) and perf.
  valgrind
  linux-perf
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
    missing+=("$p")
  fi
done

if [ "${#missing[@]}" -eq 0 ]; then
  echo "setup.sh: all ${#PACKAGES[@]} packages are installed."
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "setup.sh: missing packages: ${missing[*]}" >&2
  echo "setup.sh: installing them needs root; run: sudo $0" >&2
  exit 1
fi

echo "setup.sh: installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "setup.sh: done."
