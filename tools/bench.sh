#!/usr/bin/env bash
# The benchmarks against the floor; see bench/run.sh.
exec "$(dirname "$0")/../bench/run.sh" "$@"
