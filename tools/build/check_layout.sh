#!/usr/bin/env bash
# check_layout.sh BINARY: checks that a statically linked binary has the
# layout of tools/build/hot_symbols.txt (see copts.bzl): the first 20
# functions of the list that BINARY defines lie in the first MiB of its
# .text. Without the list, lld or any other linker places glibc's (which
# the list starts with) after everything else.
set -euo pipefail
bin=$1
list=$(dirname "$0")/hot_symbols.txt

text=$(readelf -SW "$bin" |
  awk '{ for (i = 1; i < NF; i++) if ($i == ".text" && !found) { print $(i + 2); found = 1 } }')
[ -n "$text" ] || { echo "check_layout: $bin has no .text" >&2; exit 1; }
text=$((16#$text))

checked=0
while read -r address name; do
  offset=$((16#$address - text))
  if [ "$offset" -lt 0 ] || [ "$offset" -ge $((1 << 20)) ]; then
    echo "check_layout: $bin: $name is $offset bytes into .text, not in the" \
      "first MiB: is $list passed to the link (HOT_SYMBOLS_LINKOPTS)?" >&2
    exit 1
  fi
  checked=$((checked + 1))
done < <(nm --defined-only "$bin" | awk '$2 ~ /^[tTwW]$/ { print $3, $1 }' |
  awk 'NR == FNR { order[$1] = FNR; next } $1 in order { print order[$1], $2, $1 }' \
    "$list" - | sort -n | awk 'NR <= 20 { print $2, $3 }')

if [ "$checked" -lt 20 ]; then
  echo "check_layout: $bin defines only $checked of the functions in $list" >&2
  exit 1
fi
echo "check_layout: $bin: the first 20 listed functions are in the first MiB of .text"
