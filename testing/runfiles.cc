#include "testing/runfiles.h"

#include <stdlib.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "absl/strings/str_cat.h"
#include "base/posix.h"

namespace ocicni::testutil {
namespace {

constexpr absl::string_view kWorkspace = "ocicni";

std::string Env(const char* name) {
  const char* value = getenv(name);
  return value != nullptr ? value : "";
}

}  // namespace

std::string RunfilesRoot() {
  std::string workspace = Env("TEST_WORKSPACE");
  if (workspace.empty()) workspace = std::string(kWorkspace);
  if (std::string dir = Env("TEST_SRCDIR"); !dir.empty()) {
    return absl::StrCat(dir, "/", workspace);
  }
  if (std::string dir = Env("RUNFILES_DIR"); !dir.empty()) {
    return absl::StrCat(dir, "/", workspace);
  }
  char self[4096];
  ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
  if (n <= 0) return std::string(workspace);
  return absl::StrCat(absl::string_view(self, n), ".runfiles/", workspace);
}

std::string RunfilePath(absl::string_view relative) {
  return absl::StrCat(RunfilesRoot(), "/", relative);
}

std::string FakePluginDir() { return RunfilePath("testing"); }
std::string FakePluginPath() { return RunfilePath("testing/fake_plugin"); }
std::string NoopPluginPath() { return RunfilePath("testing/noop_plugin"); }

absl::StatusOr<std::string> MakeTempDir(absl::string_view name) {
  std::string base = Env("TEST_TMPDIR");
  if (base.empty()) base = "/tmp";
  std::string templ = absl::StrCat(base, "/", name, ".XXXXXX");
  if (mkdtemp(templ.data()) == nullptr) {
    return ErrnoToStatus(errno, absl::StrCat("mkdtemp ", templ));
  }
  return templ;
}

absl::StatusOr<std::string> InstallPlugin(absl::string_view binary,
                                          absl::string_view dir,
                                          absl::string_view type) {
  std::string target(binary);
  std::string link = absl::StrCat(dir, "/", type);
  if (symlink(target.c_str(), link.c_str()) != 0) {
    return ErrnoToStatus(errno, absl::StrCat("symlink ", link));
  }
  return link;
}

}  // namespace ocicni::testutil
