"""Compiler flags for the project's own code, in one place."""

OCICNI_COPTS = [
    "-Wall",
    "-Wextra",
    "-Werror",
    "-Wno-unused-parameter",
]

OCICNI_TEST_COPTS = OCICNI_COPTS
