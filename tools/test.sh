#!/usr/bin/env bash
# Runs the whole test suite from a fresh machine: installs what is missing
# (tools/setup.sh), then `bazel test //...`, then the example consumer
# workspace (examples/consumer). Under CI (CI=true) the suite also runs under
# AddressSanitizer and UndefinedBehaviorSanitizer, and every fuzzer runs
# briefly (tools/fuzz.sh).
set -uo pipefail
cd "$(dirname "$0")/.."

bash tools/setup.sh || exit 1

configs=("")
if [ "${CI:-}" = "true" ] || [ "${OCICNI_SANITIZERS:-}" = "1" ]; then
  configs+=("asan" "ubsan")
fi

passed=0
failed=0
rc=0
for config in "${configs[@]}"; do
  label=${config:-default}
  echo "=== bazel test //... (config: ${label})"
  log=$(mktemp)
  args=(test //... --test_summary=short)
  [ -n "$config" ] && args+=("--config=${config}")
  bazel "${args[@]}" 2>&1 | tee "$log"
  status=${PIPESTATUS[0]}
  p=$(grep -cE '^//[^ ]+ +(\(cached\) )?PASSED' "$log")
  f=$(grep -cE '^//[^ ]+ +(\(cached\) )?(FAILED|TIMEOUT|NO STATUS|FLAKY|INCOMPLETE|REMOTE FAILURE|FAILED TO BUILD)' "$log")
  rm -f "$log"
  passed=$((passed + p))
  failed=$((failed + f))
  if [ "$status" -ne 0 ]; then
    rc=$status
    [ "$f" -eq 0 ] && failed=$((failed + 1))  # a build failure fails the run
  fi
done

# A runtime repository depending on //ocicni through deps.bzl: the example
# consumer workspace builds against this checkout and runs its test.
echo "=== examples/consumer: bazel test //:all (a workspace depending on @ocicni)"
log=$(mktemp)
(cd examples/consumer && bazel test //:all --test_summary=short 2>&1; s=$?; bazel shutdown; exit $s) | tee "$log"
status=${PIPESTATUS[0]}
p=$(grep -cE '^//[^ ]+ +(\(cached\) )?PASSED' "$log")
rm -f "$log"
passed=$((passed + p))
if [ "$status" -ne 0 ]; then
  rc=$status
  failed=$((failed + 1))
fi

# The fully static link (--config=static, which bench/run.sh uses): the
# bench drivers link (only the link differs from the default build above)
# with the layout of tools/build/hot_symbols.txt, and run a few pod cycles,
# the floor also through the library's spawner (-spawner, which
# bench/run.sh reports). They create network namespaces: root only.
echo "=== --config=static: bench drivers link and run a few pod cycles"
if [ "$(id -u)" -ne 0 ]; then
  echo "skipped: the drivers need root (network namespaces)"
elif bazel build --config=static //bench:pod_churn //bench:floor &&
  bin=$(bazel info --config=static bazel-bin 2>/dev/null)/bench &&
  ! ldd "$bin/pod_churn" >/dev/null 2>&1 &&
  bash tools/build/check_layout.sh "$bin/pod_churn" &&
  bash tools/build/check_layout.sh "$bin/floor" &&
  "$bin/pod_churn" -n 20 -c 2 -warmup 2 &&
  "$bin/floor" -n 20 -c 2 -warmup 2 &&
  "$bin/floor" -spawner -n 20 -c 2 -warmup 2; then
  passed=$((passed + 1))
else
  echo "FAILED: the statically linked bench drivers"
  rc=1
  failed=$((failed + 1))
fi

# Under CI: every fuzzer briefly (clang, ASan, UBSan; tools/fuzz.sh).
if [ "${CI:-}" = "true" ] || [ "${OCICNI_SANITIZERS:-}" = "1" ]; then
  echo "=== tools/fuzz.sh ${OCICNI_FUZZ_SECONDS:-15} (every fuzzer)"
  if bash tools/fuzz.sh "${OCICNI_FUZZ_SECONDS:-15}"; then
    passed=$((passed + 1))
  else
    rc=1
    failed=$((failed + 1))
  fi
fi

echo "tests: ${passed} passed, ${failed} failed"
exit "$rc"
