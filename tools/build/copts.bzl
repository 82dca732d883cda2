"""Compiler flags for the project's own code, in one place."""

OCICNI_COPTS = [
    "-Wall",
    "-Wextra",
    "-Werror",
    "-Wno-unused-parameter",
]

OCICNI_TEST_COPTS = OCICNI_COPTS

# The link order of a statically linked binary (--config=static): the
# functions and read-only data that running pods touch first, packed
# together, so that the kernel maps fewer 64 KiB blocks of the binary
# around them (peak RSS; see README, "Benchmarks"). The list comes from
# tools/build/hot_symbols.sh; lld skips names it does not find. Use as
#   additional_linker_inputs = HOT_SYMBOLS_INPUTS,
#   linkopts = HOT_SYMBOLS_LINKOPTS,
HOT_SYMBOLS_INPUTS = ["//tools/build:hot_symbols.txt"]

HOT_SYMBOLS_LINKOPTS = select({
    "//tools/build:static_link": [
        "-Wl,--symbol-ordering-file=$(location //tools/build:hot_symbols.txt)",
        "-Wl,--no-warn-symbol-ordering",
    ],
    "//conditions:default": [],
})
