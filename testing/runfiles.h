// Locating the fake plugins (and other data) of a test through runfiles.
//
//   std::string dir = testutil::FakePluginDir();  // has fake_plugin,
//   noop_plugin OCICNI_ASSIGN_OR_RETURN(std::string dir2,
//   testutil::MakeTempDir("plugins"));
//   testutil::InstallPlugin(testutil::FakePluginPath(), dir2, "bridge");
//
// Works under `bazel test` ($TEST_SRCDIR/$TEST_WORKSPACE), `bazel run`
// ($RUNFILES_DIR) and when a binary is started directly (<binary>.runfiles).
#ifndef OCICNI_TESTING_RUNFILES_H_
#define OCICNI_TESTING_RUNFILES_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace ocicni::testutil {

// RunfilesRoot is the directory that mirrors the workspace in the runfiles.
std::string RunfilesRoot();

// RunfilePath is RunfilesRoot()/<relative>.
std::string RunfilePath(absl::string_view relative);

// FakePluginDir holds fake_plugin and noop_plugin (//testing).
std::string FakePluginDir();
std::string FakePluginPath();
std::string NoopPluginPath();

// MakeTempDir creates a fresh directory under $TEST_TMPDIR (or /tmp).
absl::StatusOr<std::string> MakeTempDir(absl::string_view name);

// InstallPlugin makes `binary` available as "<dir>/<type>" (a symlink) and
// returns that path.
absl::StatusOr<std::string> InstallPlugin(absl::string_view binary,
                                          absl::string_view dir,
                                          absl::string_view type);

}  // namespace ocicni::testutil

#endif  // OCICNI_TESTING_RUNFILES_H_
