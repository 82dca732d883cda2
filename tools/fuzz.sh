#!/usr/bin/env bash
# Builds every libFuzzer target in fuzz/ (clang, ASan, UBSan: --config=fuzz)
# and runs each, one after the other, for SECONDS (default 30) on a fresh
# copy of its checked-in seed corpus.
#
#   tools/fuzz.sh [SECONDS] [FUZZER...]     e.g. tools/fuzz.sh 300 result_fuzzer
#
# Exits non-zero if a build fails or any fuzzer finds a crash, leak, timeout
# or failed property; the reproducer's path is printed, and
# `<fuzzer binary> <reproducer>` replays it.
#
# The clang build lives in its own Bazel output base (OCICNI_FUZZ_OUTPUT_BASE,
# default ~/.cache/ocicni-fuzz/<hash of this checkout>) so the normal gcc
# build's cache is kept, and it creates no bazel-* symlinks. Work files
# (grown corpora, reproducers, logs) go to OCICNI_FUZZ_WORKDIR (default: a
# new temporary directory, kept and printed at the end); pointing it at the
# directory of an earlier run continues from the corpora grown there.
set -uo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-30}
shift || true
if ! [[ "$seconds" =~ ^[0-9]+$ ]] || [ "$seconds" -eq 0 ]; then
  echo "usage: $0 [SECONDS] [FUZZER...]" >&2
  exit 2
fi

bash tools/setup.sh || exit 1

workspace=$(pwd -P)
cache_home=${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}
output_base=${OCICNI_FUZZ_OUTPUT_BASE:-"${cache_home}/ocicni-fuzz/$(printf '%s' "$workspace" | md5sum | cut -c1-12)"}
# This Bazel server is only for fuzzing: let it go away soon when idle.
bazel_cmd=(bazel "--output_base=${output_base}" --max_idle_secs=900)
build_flags=(--config=fuzz --symlink_prefix=/)

if [ "$#" -gt 0 ]; then
  targets=()
  for name in "$@"; do targets+=("//fuzz:${name}"); done
else
  mapfile -t targets < <("${bazel_cmd[@]}" query --noshow_progress \
    'kind(cc_binary, attr(tags, "\bfuzz\b", //fuzz:*))' 2>/dev/null | sort)
  if [ "${#targets[@]}" -eq 0 ]; then
    echo "fuzz.sh: no fuzz targets found" >&2
    exit 1
  fi
fi

echo "=== building ${#targets[@]} fuzzers (output base ${output_base})"
"${bazel_cmd[@]}" build "${build_flags[@]}" "${targets[@]}" || exit 1
bin_dir=$("${bazel_cmd[@]}" info "${build_flags[@]}" bazel-bin 2>/dev/null) || exit 1

workdir=${OCICNI_FUZZ_WORKDIR:-$(mktemp -d -t ocicni-fuzz.XXXXXX)}
mkdir -p "$workdir"
symbolizer=$(command -v llvm-symbolizer-14 || command -v llvm-symbolizer || true)
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:strict_string_checks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
[ -n "$symbolizer" ] && export ASAN_SYMBOLIZER_PATH="$symbolizer"

failed=()
for target in "${targets[@]}"; do
  name=${target##*:}
  binary="${bin_dir}/fuzz/${name}"
  corpus="${workdir}/${name}/corpus"
  artifacts="${workdir}/${name}/artifacts/"
  log="${workdir}/${name}/log"
  mkdir -p "$corpus" "$artifacts"
  cp fuzz/corpus/"${name}"/* "$corpus"/ 2>/dev/null || true
  echo "=== ${name}: ${seconds}s"
  # One process (2-core CI machines are shared); -timeout makes a hang a
  # finding; max_len leaves room for the larger seeds.
  "$binary" "$corpus" -dict=fuzz/cni.dict -max_total_time="$seconds" \
    -timeout=10 -rss_limit_mb=2560 -max_len=8192 -print_final_stats=1 \
    -artifact_prefix="$artifacts" >"$log" 2>&1
  status=$?
  grep -E '^(#[0-9]+ +DONE|stat::number_of_executed_units|stat::peak_rss_mb)' "$log" || true
  if [ "$status" -ne 0 ]; then
    failed+=("$name")
    tail -n 60 "$log"
    for repro in "$artifacts"*; do
      [ -e "$repro" ] || continue
      echo "fuzz.sh: ${name} FAILED; reproducer: ${repro}"
      echo "fuzz.sh: replay with: ${binary} ${repro}"
    done
    echo "fuzz.sh: full log: ${log}"
  else
    echo "fuzz.sh: ${name} ok ($(find "$corpus" -type f | wc -l) corpus files)"
  fi
done

echo "fuzz.sh: work files (corpora, logs, reproducers) in ${workdir}"
if [ "${#failed[@]}" -gt 0 ]; then
  echo "fuzz.sh: ${#failed[@]} of ${#targets[@]} fuzzers failed: ${failed[*]}"
  exit 1
fi
echo "fuzz.sh: all ${#targets[@]} fuzzers ran ${seconds}s without a finding"
