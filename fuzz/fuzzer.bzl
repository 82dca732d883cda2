"""ocicni_fuzzer declares one libFuzzer target and its seed corpus."""

load("//tools/build:copts.bzl", "OCICNI_COPTS")

def ocicni_fuzzer(name, deps):
    """A fuzz target built from <name>.cc, seeded from corpus/<name>/.

    Declares:
      <name>: the fuzzer binary. Build it with --config=fuzz (clang,
        libFuzzer, ASan, UBSan); tools/fuzz.sh builds and runs them all.
      <name>_corpus: the checked-in seed inputs.

    Both are tagged "manual" (so `bazel build //...` with gcc skips them) and
    "fuzz" (so tools/fuzz.sh finds them).

    Args:
      name: target name; the source is <name>.cc and defines
        LLVMFuzzerTestOneInput.
      deps: the libraries under test.
    """
    tags = ["manual", "fuzz"]
    native.cc_binary(
        name = name,
        testonly = True,
        srcs = [name + ".cc"],
        copts = OCICNI_COPTS,
        tags = tags,
        deps = deps + ["//fuzz:check"],
    )
    native.filegroup(
        name = name + "_corpus",
        testonly = True,
        srcs = native.glob(["corpus/" + name + "/*"]),
        tags = tags,
    )
