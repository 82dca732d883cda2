#!/usr/bin/env bash
# Regenerates tools/build/hot_symbols.txt, the link order of the statically
# linked binaries (--config=static): the input sections of .text and
# .rodata that a process running pods through //ocicni touches, so that lld
# lays them out next to each other. The kernel maps a binary's file 64 KiB
# around every page a process touches (fault-around); with the touched
# code packed together, fewer of those blocks are mapped, and the peak RSS
# drops (see README, "Benchmarks").
#
# How: the static bench drivers (//bench:pod_churn, //bench:floor; noop
# scenario, c = 8) run under valgrind's lackey, which reports every
# instruction fetched and every load. The drivers are linked with a link
# map (lld -Map), which turns those addresses into lines of input sections
# (//tools/build:hot_layout touches). From them hot_layout order computes
# the list: the densely touched sections first, in the order first touched,
# then the large, sparsely touched sections of Debian's archives (whose
# objects are one section each) where they add the fewest 64 KiB blocks,
# each named by a symbol only it defines (see tools/build/layout.h). Then,
# rounds of relinking with the list and tracing the drivers' page faults
# (perf) add what valgrind did not see (the CPU variants of glibc's string
# functions that this machine runs, paths that depend on timing), until a
# round finds no new section.
#
# Run as root (the drivers create network namespaces), after changes that
# move code around much; a stale list only costs memory, as lld skips
# names it does not find. Needs valgrind and perf (tools/setup.sh).
set -euo pipefail
cd "$(dirname "$0")/../.."
export LC_ALL=C

if [ "$(id -u)" -ne 0 ]; then
  echo "hot_symbols: run as root (the drivers create network namespaces)" >&2
  exit 2
fi
for tool in valgrind perf; do
  command -v "$tool" >/dev/null ||
    { echo "hot_symbols: $tool is missing (tools/setup.sh installs it)" >&2; exit 2; }
done

out=tools/build/hot_symbols.txt
rounds=${ROUNDS:-10}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
static=(-c opt --config=static)

bazel build -c opt //tools/build:hot_layout >"$tmp/build.log" 2>&1 ||
  { cat "$tmp/build.log" >&2; exit 1; }
cp "$(bazel info -c opt bazel-bin 2>/dev/null)/tools/build/hot_layout" "$tmp/hot_layout"
bindir=$(bazel info "${static[@]}" bazel-bin 2>/dev/null)/bench

# link DRIVER: links DRIVER with the current list and a link map,
# $tmp/DRIVER.map (the map changes nothing in the binary). The no-op plugin,
# which the drivers' runfiles hold, is linked first with the same flags, so
# that its map does not take the driver's place.
link() {
  local flags=("${static[@]}" "--linkopt=-Wl,-Map=$tmp/link.map" --linkopt=-Wl,--no-demangle)
  bazel build "${flags[@]}" //testing:noop_plugin >"$tmp/build.log" 2>&1 &&
    rm -f "$tmp/link.map" &&
    bazel build "${flags[@]}" "//bench:$1" >"$tmp/build.log" 2>&1 ||
    { cat "$tmp/build.log" >&2; exit 1; }
  mv "$tmp/link.map" "$tmp/$1.map"
}

# lackey DRIVER: the addresses DRIVER touches (instructions and loads), in
# the order first touched; each 16-byte line once.
lackey() {
  valgrind --tool=lackey --trace-mem=yes --log-fd=9 \
    "$bindir/$1" -scenario noop -n 16 -c 8 -warmup 2 -impl hot 9>&1 >"$tmp/run.log" 2>&1 |
    awk '$1 == "I" || $1 == "L" || $1 == "M" {
           split($2, a, ","); k = substr(a[1], 1, length(a[1]) - 1)
           if (!(k in seen)) { seen[k] = 1; print a[1] } }'
  grep -q "errors=0" "$tmp/run.log" || { cat "$tmp/run.log" >&2; exit 1; }
}

# faults DRIVER [FLAG...]: the addresses of the page faults of DRIVER's own
# threads (not the plugins'), at c = 1 and 8, running past the result
# cache's first second (its reuse of files starts then).
faults() {
  local bin=$bindir/$1 c
  shift
  for c in 1 8; do
    perf record -q -e exceptions:page_fault_user -o "$tmp/pf.data" -- \
      "$bin" "$@" -scenario noop -n 500 -c "$c" -warmup 1500 -impl hot >/dev/null 2>&1
    perf script -i "$tmp/pf.data" -F comm,trace 2>/dev/null |
      awk '$1 != "noop" && match($0, /address=0x[0-9a-f]+/) { print substr($0, RSTART + 8, RLENGTH - 8) }'
  done
}

# sections: the number of sections in the touches so far.
sections() { awk '{ print $2 }' "$tmp/touches" | sort -u | wc -l; }

order() {
  "$tmp/hot_layout" order "$tmp/pod_churn.map,$tmp/floor.map" "$tmp/touches" >"$tmp/list"
}

echo "hot_symbols: tracing the drivers under valgrind (lackey)" >&2
: >"$tmp/touches"
for driver in pod_churn floor; do
  link "$driver"
  lackey "$driver" | "$tmp/hot_layout" touches "$tmp/$driver.map" >>"$tmp/touches"
done
order
echo "hot_symbols: $(sections) sections touched, $(wc -l <"$tmp/list") names" >&2

for round in $(seq "$rounds"); do
  cp "$tmp/list" "$out"
  before=$(sections)
  for driver in pod_churn floor; do
    link "$driver"
    { faults "$driver"
      if [ "$driver" = floor ]; then faults floor -spawner; fi
    } | "$tmp/hot_layout" touches "$tmp/$driver.map" >>"$tmp/touches"
  done
  new=$(($(sections) - before))
  echo "hot_symbols: round $round: $new sections more" >&2
  [ "$new" -gt 0 ] || break
  order
done
cp "$tmp/list" "$out"
echo "hot_symbols: $(wc -l <"$out") names in $out" >&2
