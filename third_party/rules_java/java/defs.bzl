"""Offline stand-in for @rules_java: forwards to Bazel 4's native Java rules.

@bazel_tools loads this file while resolving toolchains even for C++-only
builds; the project itself has no Java code.
"""

def java_binary(**attrs):
    native.java_binary(**attrs)

def java_import(**attrs):
    native.java_import(**attrs)

def java_library(**attrs):
    native.java_library(**attrs)

def java_runtime(**attrs):
    native.java_runtime(**attrs)

def java_toolchain(**attrs):
    native.java_toolchain(**attrs)
