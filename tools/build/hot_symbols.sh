#!/usr/bin/env bash
# Regenerates tools/build/hot_symbols.txt, the link order of the statically
# linked binaries (--config=static): the functions and read-only data that
# a process running pods through //ocicni touches, so that lld lays them
# out next to each other. The kernel maps a binary's text 64 KiB around
# every page a process touches (fault-around); with the touched code packed
# together, fewer of those blocks are mapped, and the peak RSS drops (see
# README, "Benchmarks").
#
# How: the static bench drivers (//bench:pod_churn, then //bench:floor;
# noop scenario, c = 8) run under valgrind's lackey, which reports every instruction fetched and
# every load; the symbols they fall in, in the order first touched, are the
# list. Symbols at the same address (aliases) and the other CPU variants of
# glibc's string functions (valgrind's emulated CPU picks other ones) are
# added. Then, rounds of relinking with the list and tracing the driver's
# page faults (perf) add what valgrind did not see (the plugin's child
# side of clone, for one), until a round finds nothing new.
#
# Run as root (the driver creates network namespaces), after changes that
# move code around much; a stale list only costs memory, as lld skips
# names it does not find. Needs valgrind and perf (tools/setup.sh).
set -euo pipefail
cd "$(dirname "$0")/../.."
export LC_ALL=C

# Debian's awk is mawk: no strtonum. hex("0x1f" or "1f") -> 31.
HEX='function hex(s,  i, v) {
  s = tolower(s); sub(/^0x/, "", s); v = 0
  for (i = 1; i <= length(s); i++) v = v * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1
  return v
}'

if [ "$(id -u)" -ne 0 ]; then
  echo "hot_symbols: run as root (the drivers create network namespaces)" >&2
  exit 2
fi
for tool in valgrind perf nm readelf; do
  command -v "$tool" >/dev/null ||
    { echo "hot_symbols: $tool is missing (tools/setup.sh installs it)" >&2; exit 2; }
done

out=tools/build/hot_symbols.txt
rounds=${ROUNDS:-4}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

build() {
  bazel build -c opt --config=static //bench:pod_churn //bench:floor //testing:noop_plugin \
    >"$tmp/build.log" 2>&1 || { cat "$tmp/build.log" >&2; exit 1; }
  bindir=$(bazel info -c opt --config=static bazel-bin 2>/dev/null)/bench
}

# symbols: "ADDR SIZE NAME" (16 hex digits each, sorted) of the binary's
# defined symbols with a size.
symbols() {
  nm -S --defined-only "$bin" |
    awk 'NF == 4 && $2 !~ /^0+$/ { print $1, $2, $4 }' | sort >"$tmp/syms"
}

# resolve: hex addresses on stdin (any width) -> the names of the symbols
# they fall in, each once, in the order of first appearance.
resolve() {
  awk '{ a = tolower($1); sub(/^0x/, "", a); while (length(a) < 16) a = "0" a; print a, NR }' |
    sort -k1,1 -k2,2n | awk '!seen[$1]++' >"$tmp/addrs"
  sort -m -k1,1 <(sed 's/$/ S/' "$tmp/syms") <(sed 's/$/ A/' "$tmp/addrs") |
    awk "$HEX"'
      $NF == "S" { end = hex($1) + hex($2); name = $3; next }
      $NF == "A" && name != "" && hex($1) < end { print $2, name }' |
    sort -n -k1,1 | awk '!seen[$2]++ { print $2 }'
}

# expand: names on stdin plus their aliases and glibc's CPU variants.
expand() {
  awk -v syms="$tmp/syms" '
    BEGIN {
      while ((getline l < syms) > 0) {
        split(l, f, " "); at[f[3]] = f[1]; names[f[1]] = names[f[1]] " " f[3]; all[++n] = f[3]
      }
    }
    function add(s) { if (!(s in done)) { done[s] = 1; print s } }
    {
      add($1)
      if ($1 in at) { k = split(names[at[$1]], a, " "); for (i = 1; i <= k; i++) add(a[i]) }
      if (match($1, /^__[a-z0-9]+_(sse2|ssse3|sse4_1|sse4_2|avx2|avx|evex|avx512)/)) {
        base = substr($1, 1, index(substr($1, 3), "_") + 2); fam[base] = 1
      }
    }
    END { for (i = 1; i <= n; i++) for (b in fam) if (index(all[i], b) == 1) add(all[i]) }'
}

# lackey DRIVER: the symbols DRIVER touches, in the order first touched.
# Lackey prints one line per instruction fetched (I) and load (L, M);
# each 16-byte line is kept once.
lackey() {
  bin=$bindir/$1
  symbols
  valgrind --tool=lackey --trace-mem=yes --log-fd=9 \
    "$bin" -scenario noop -n 16 -c 8 -warmup 2 -impl hot 9>&1 >"$tmp/run.log" 2>&1 |
    awk '$1 == "I" || $1 == "L" || $1 == "M" {
           split($2, a, ","); k = substr(a[1], 1, length(a[1]) - 1)
           if (!(k in seen)) { seen[k] = 1; print a[1] } }' >"$tmp/touched"
  grep -q "errors=0" "$tmp/run.log" || { cat "$tmp/run.log" >&2; exit 1; }
  resolve <"$tmp/touched" | expand
}

# faults DRIVER [FLAG...]: the symbols at the page faults of DRIVER's own
# threads (not the plugins') inside the binary's read-only mappings.
faults() {
  bin=$bindir/$1
  shift
  symbols
  ro=$(readelf -lW "$bin" | awk '$1 == "LOAD" && $0 !~ / RW / { printf "%s %s ", $3, $6 }')
  perf record -q -e exceptions:page_fault_user -o "$tmp/pf.data" -- \
    "$bin" "$@" -scenario noop -n 300 -c 8 -warmup 20 -impl hot >/dev/null 2>&1
  perf script -i "$tmp/pf.data" -F comm,trace 2>/dev/null |
    awk -v ro="$ro" "$HEX"'
      BEGIN { k = split(ro, r, " "); for (i = 1; i < k; i += 2) { lo[i] = hex(r[i]); hi[i] = lo[i] + hex(r[i + 1]) } }
      $1 != "noop" && match($0, /address=0x[0-9a-f]+/) {
        s = substr($0, RSTART + 8, RLENGTH - 8); a = hex(s)
        for (i in lo) if (a >= lo[i] && a < hi[i]) { print s; break }
      }' | resolve | expand
}

# The library's driver first, then what the floor driver (the same
# harness, see bench/) touches besides, so that both are measured with
# the same layout.
build
echo "hot_symbols: tracing the drivers under valgrind (lackey)" >&2
{ lackey pod_churn; lackey floor; } | awk '!seen[$0]++' >"$tmp/list"
echo "hot_symbols: $(wc -l <"$tmp/list") symbols from valgrind" >&2

for round in $(seq "$rounds"); do
  cp "$tmp/list" "$out"
  build
  { faults pod_churn; faults floor; faults floor -spawner; } | awk '!seen[$0]++' >"$tmp/faults"
  grep -vxF -f "$tmp/list" "$tmp/faults" >"$tmp/new" || true
  echo "hot_symbols: round $round: $(wc -l <"$tmp/new") symbols more" >&2
  [ -s "$tmp/new" ] || break
  cat "$tmp/new" >>"$tmp/list"
done
cp "$tmp/list" "$out"
build
echo "hot_symbols: $(wc -l <"$out") symbols in $out" >&2
