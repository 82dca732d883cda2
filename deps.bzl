"""Repositories ocicni needs, for its own WORKSPACE and for runtime repos.

A runtime repository that depends on ocicni adds to its WORKSPACE:

    local_repository(name = "ocicni", path = "...")   # or another way to fetch it
    load("@ocicni//:deps.bzl", "ocicni_deps")
    ocicni_deps()

and to its .bazelrc the flags in examples/consumer/.bazelrc (C++17 and the
system protobuf toolchain). Every library comes from Debian's -dev packages
under /usr (tools/setup.sh installs them); nothing is downloaded.
"""

def _forward_dir_impl(ctx):
    # Symlinks every entry of the directory holding `marker` into the
    # repository: a local_repository whose path is relative to this repo.
    src = ctx.path(ctx.attr.marker).dirname
    for entry in src.readdir():
        ctx.symlink(entry, entry.basename)

_forward_dir = repository_rule(
    implementation = _forward_dir_impl,
    attrs = {"marker": attr.label(mandatory = True, allow_single_file = True)},
    local = True,
)

def _system_lib(name, build_file):
    if name not in native.existing_rules():
        native.new_local_repository(
            name = name,
            build_file = str(build_file),
            path = "/usr",
        )

def ocicni_deps():
    """Declares the repositories ocicni's targets use, unless already declared."""

    # Bazel 4 asks for these from the network even for C++-only builds;
    # offline stand-ins that forward to its native rules.
    for name in ["rules_cc", "rules_java", "remote_coverage_tools"]:
        if name not in native.existing_rules():
            _forward_dir(
                name = name,
                marker = Label("//third_party/%s:WORKSPACE" % name),
            )

    _system_lib("com_google_absl", Label("//third_party:absl.BUILD"))
    _system_lib("com_google_protobuf", Label("//third_party:protobuf.BUILD"))
    _system_lib("com_github_google_glog", Label("//third_party:glog.BUILD"))
    _system_lib("com_google_googletest", Label("//third_party:googletest.BUILD"))
    _system_lib("com_github_google_benchmark", Label("//third_party:benchmark.BUILD"))
    _system_lib("libnl", Label("//third_party:libnl.BUILD"))
