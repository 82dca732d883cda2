#!/usr/bin/env bash
# Pod churn against the floor: builds the drivers with -c opt, runs the floor
# (bare posix_spawn + pipes + wait of the same plugins, same stdin and env)
# and the library (//ocicni, default options) side by side at several
# concurrencies, interleaved, REPS times each, and prints the medians with
# the library's ratio to the floor; also the floor's processes run through
# the library's spawner (floor -spawner), which tells exec/'s share apart.
# Then the cost of durable cache writes (Options::durable_cache) the same
# way, and where each cycle's CPU time went.
#
#   sudo bench/run.sh                 # noop scenario, c = 1 2 8 32
#   sudo REPS=5 N=2000 bench/run.sh
#   sudo REAL=1 bench/run.sh          # also bridge + host-local (c = 1 8)
#   sudo TMPFS=1 bench/run.sh         # also the cache on tmpfs (c = 1 8)
#   sudo NOLO=1 bench/run.sh          # also without bringing lo up (c = 1 8)
#   sudo LINK=dynamic bench/run.sh    # drivers on the shared libraries
#
# The drivers are linked fully static by default (LINK=static,
# --config=static), as a runtime that wants the smallest footprint would
# link; peak RSS is about twice as high against the shared libraries.
#
# Needs root: the drivers create network namespaces (in a private mount
# namespace, under a temp dir; the real scenario's bridge lives in a private
# network namespace). The machine should be otherwise idle; the load average
# is printed before and after, since it moves the numbers.
set -euo pipefail

REPS=${REPS:-3}
N=${N:-1000}
# Untimed cycles first, the same for both drivers, so that the timed cycles
# show the library's steady state: past the result cache's first second, in
# which a fresh process recycles no spare (ResultCache::kReuseAfter) and
# every write creates a file, and past the seconds after it, in which its
# pool fills and the kernel writes out the metadata those creates dirtied.
# On a 2-core VM whose floor runs ~1200 pods/s, 1000 cycles (~1.2 s at
# c = 8) still measured that startup: the cache worker's CPU per cycle was
# ~300 us against ~110 us after 5000 (6 s), and throughput 10-15% lower.
# WARMUP=50 shows a fresh process.
WARMUP=${WARMUP:-5000}
CONCS=${CONCS:-"1 2 8 32"}
REAL=${REAL:-0}
# TMPFS=1 adds runs of the library whose result cache is on a tmpfs (under
# /dev/shm), default options otherwise: the durable writes then cost no
# disk requests and the directory operations no ext4 work, which tells the
# cache's device apart from the rest of the library.
TMPFS=${TMPFS:-0}
# NOLO=1 adds runs of the library that leave lo alone
# (Options::bring_up_loopback = false, for a runtime that brings lo up
# itself), default options otherwise; with TMPFS=1 also runs with neither lo
# nor the disk (the cache on the tmpfs): what the library costs beyond the
# two features the floor does not have.
NOLO=${NOLO:-0}
# static: the drivers are linked fully static (--config=static in .bazelrc),
# the smallest footprint; dynamic: against the shared system libraries.
LINK=${LINK:-static}

cd "$(dirname "$0")/.."
if [ "$(id -u)" -ne 0 ]; then
  echo "bench/run.sh: needs root (network namespaces)" >&2
  exit 1
fi

build=(-c opt)
case "$LINK" in
  static) build+=(--config=static) ;;
  dynamic) ;;
  *) echo "bench/run.sh: LINK must be static or dynamic" >&2; exit 2 ;;
esac
bazel build "${build[@]}" //bench:pod_churn //bench:floor >&2
bin=$(bazel info "${build[@]}" bazel-bin 2>/dev/null)/bench
# A process's text is mapped from the page cache as it holds the file: in
# the pieces the linker's writes left for a freshly linked binary, or as
# readahead reads the file back. Here the former cost up to ~300 kB more
# peak RSS than the same binary read back (floor, c = 1: 3284 against 2980
# kB). Evicted now, both drivers are read back the same way, as a
# deployed binary is.
for driver in "$bin/floor" "$bin/pod_churn"; do
  sync "$driver"
  dd if="$driver" iflag=nocache count=0 status=none
done
out=$(mktemp)
cpu=$(mktemp)
shm=""
trap 'rm -f "$out" "$cpu"; if [ -n "$shm" ]; then rm -rf "$shm"; fi' EXIT
if [ "$TMPFS" = 1 ]; then
  if [ "$(stat -f -c %T /dev/shm 2>/dev/null)" != tmpfs ]; then
    echo "bench/run.sh: TMPFS=1 needs /dev/shm to be a tmpfs" >&2
    exit 1
  fi
  shm=$(mktemp -d /dev/shm/ocicni-bench.XXXXXX)
fi

# run LABEL BINARY ARGS...: one run, its RESULT line (stdout) and CPU line
# (stderr) tagged with LABEL.
run() {
  local label=$1 binary=$2
  shift 2
  local lines
  if ! lines=$("$bin/$binary" "$@" 2>&1) ||
    ! grep -q '^RESULT ' <<<"$lines"; then
    echo "bench/run.sh: $binary $* failed" >&2
    return 1
  fi
  echo "$label $(grep '^RESULT ' <<<"$lines")" >>"$out"
  echo "$label $(grep '^CPU ' <<<"$lines")" >>"$cpu"
}

# run_on_tmpfs LABEL ARGS...: `run LABEL pod_churn ARGS...` with the result
# cache in a fresh directory on the tmpfs, removed afterwards.
run_on_tmpfs() {
  local label=$1
  shift
  mkdir "$shm/cache"
  run "$label" pod_churn "$@" -cache-dir "$shm/cache"
  rm -rf "$shm/cache"
}

echo "link: $LINK"
echo "load before: $(uptime)"
for rep in $(seq "$REPS"); do
  for c in $CONCS; do
    run "floor noop $c" floor -impl floor -scenario noop -n "$N" -c "$c" -warmup "$WARMUP"
    run "ocicni noop $c" pod_churn -impl ocicni -scenario noop -n "$N" -c "$c" -warmup "$WARMUP"
    run "floor-spawner noop $c" floor -impl floor-spawner -spawner -scenario noop -n "$N" -c "$c" -warmup "$WARMUP"
  done
  for c in 1 8; do
    run "ocicni-nondurable noop $c" pod_churn -impl ocicni-nondurable -scenario noop \
      -n "$N" -c "$c" -warmup "$WARMUP" -durable_cache=false
  done
  if [ "$TMPFS" = 1 ]; then
    for c in 1 8; do
      run_on_tmpfs "ocicni-tmpfs noop $c" -impl ocicni-tmpfs -scenario noop \
        -n "$N" -c "$c" -warmup "$WARMUP"
    done
  fi
  if [ "$NOLO" = 1 ]; then
    for c in 1 8; do
      run "ocicni-nolo noop $c" pod_churn -impl ocicni-nolo -scenario noop \
        -n "$N" -c "$c" -warmup "$WARMUP" -bring_up_loopback=false
      if [ "$TMPFS" = 1 ]; then
        run_on_tmpfs "ocicni-tmpfs-nolo noop $c" -impl ocicni-tmpfs-nolo \
          -scenario noop -n "$N" -c "$c" -warmup "$WARMUP" \
          -bring_up_loopback=false
      fi
    done
  fi
  if [ "$REAL" = 1 ]; then
    for c in 1 8; do
      run "floor real $c" floor -impl floor -scenario real -n "$((N / 2))" -c "$c" -warmup 10
      run "ocicni real $c" pod_churn -impl ocicni -scenario real -n "$((N / 2))" -c "$c" -warmup 10
    done
  fi
done
echo "load after:  $(uptime)"
echo

# Both tables read lines "IMPL SCENARIO CONC KIND key=value ...": `common`
# gives each line its key and its values (v), and the median of a list.
common='
  function median(list,   n, a, i, j, t) {
    n = split(list, a, " ")
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++)
      if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
  }
  {
    key = $1 " " $2 " " $3
    split("", v)
    for (i = 5; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
  }'

# Medians per (impl, scenario, conc); ratio = library ops/s over the floor's.
# cost(WHAT, IMPL) prints, at c = 1 and 8, what the library's default runs
# take per pod more than IMPL's.
awk -v reps="$REPS" "$common"'
  function cost(what, impl,   c, d, o) {
    for (c = 1; c <= 8; c *= 8) {
      d = ops["ocicni noop " c]; o = ops[impl " noop " c]
      if (d == "" || o == "") continue
      printf "%s at c=%d: %.0f us per pod (%.1f vs %.1f pods/s)\n", what, c,
             1e6 / median(d) - 1e6 / median(o), median(d), median(o)
    }
  }
  {
    ops[key] = ops[key] " " v["ops_s"]; p50[key] = p50[key] " " v["p50_us"]
    p99[key] = p99[key] " " v["p99_us"]; err[key] += v["errors"]
    if (v["rss_kb"] > rss[key]) rss[key] = v["rss_kb"]
    if (!(key in seen)) { seen[key] = 1; order[++nkeys] = key }
  }
  END {
    printf "%-18s %-5s %4s %9s %9s %9s %8s %6s %7s\n", "impl", "scen", "conc",
           "ops/s", "p50_us", "p99_us", "rss_kb", "errors", "x_floor"
    for (k = 1; k <= nkeys; k++) {
      key = order[k]; split(key, p, " ")
      m = median(ops[key]); f = ops["floor " p[2] " " p[3]]
      ratio = f == "" ? "" : sprintf("%.2f", m / median(f))
      printf "%-18s %-5s %4s %9.1f %9.0f %9.0f %8d %6d %7s\n", p[1], p[2], p[3],
             m, median(p50[key]), median(p99[key]), rss[key], err[key], ratio
    }
    print ""
    cost("durable cache writes", "ocicni-nondurable")
    cost("the cache on disk rather than tmpfs", "ocicni-tmpfs")
    cost("bringing lo up", "ocicni-nolo")
    cost("lo and the cache on disk", "ocicni-tmpfs-nolo")
    printf "(medians of %d interleaved runs; ops = pod Setup+Remove cycles)\n", reps
  }' "$out"

# Where the machine's CPU time went per pod cycle (medians, microseconds):
# the driver's threads (and, of those, the time in user space: the rest is
# the kernel's work for them), the plugin processes, the rest of the machine
# (interrupts, kernel threads, other processes), and idle. With both CPUs
# busy (c >= 2), the sum is about 2 CPUs / throughput, so every microsecond
# the library adds anywhere costs throughput. Of the driver's threads, the
# library's helpers: the result cache's worker (`cache`) and the namespace
# workers that bring lo up (`lo`); the callers' threads have the rest.
# Then the disk requests per cycle on the cache's device: writes (besides
# the flushes) and flushes of the device's write cache.
echo
awk "$common"'
  {
    self[key] = self[key] " " v["self_us_per_op"]
    user[key] = user[key] " " (v["self_user_us_per_op"] + 0)
    cache[key] = cache[key] " " (v["ocicni_cache_us_per_op"] + 0)
    lo[key] = lo[key] " " (v["ocicni_netns_us_per_op"] + 0)
    plugins[key] = plugins[key] " " v["plugins_us_per_op"]
    other[key] = other[key] " " v["other_us_per_op"]
    idle[key] = idle[key] " " v["idle_us_per_op"]
    dw[key] = dw[key] " " (v["disk_writes_per_op"] + 0)
    df[key] = df[key] " " (v["disk_flushes_per_op"] + 0)
    if (!(key in seen)) { seen[key] = 1; order[++nkeys] = key }
  }
  END {
    printf "%-18s %-5s %4s %9s %9s %9s %9s %9s %9s %9s %7s %7s\n",
           "CPU us/cycle", "scen", "conc", "driver", "(user", "cache",
           "lo)", "plugins", "other", "idle", "disk_w", "disk_f"
    for (k = 1; k <= nkeys; k++) {
      key = order[k]; split(key, p, " ")
      printf "%-18s %-5s %4s %9.0f %9.0f %9.0f %9.0f %9.0f %9.0f %9.0f %7.2f %7.2f\n",
             p[1], p[2], p[3], median(self[key]), median(user[key]),
             median(cache[key]),
             median(lo[key]), median(plugins[key]), median(other[key]),
             median(idle[key]), median(dw[key]), median(df[key])
    }
  }' "$cpu"
