// File-system helpers for the config/ tests: fresh directories under
// $TEST_TMPDIR, file writes (in place and via rename), recursive removal,
// and a bounded wait for a condition.
//
//   std::string dir = testfiles::MakeTempDir("netd");
//   testfiles::WriteFile(dir + "/10-a.conflist", testfiles::ConfList("a"));
//   EXPECT_TRUE(testfiles::WaitFor([&] { return Loaded("a"); }));
//
// Failures are reported with ADD_FAILURE; the helpers never throw.
#ifndef OCICNI_CONFIG_TEST_FILES_H_
#define OCICNI_CONFIG_TEST_FILES_H_

#include <functional>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "testing/files.h"

namespace ocicni::config::testfiles {

// MakeTempDir creates and returns a new, empty directory under $TEST_TMPDIR
// (or /tmp) whose name starts with `prefix`.
std::string MakeTempDir(absl::string_view prefix);

// The generic file helpers, shared with the other packages' tests.
using ::ocicni::testutil::MakeDir;
using ::ocicni::testutil::RemoveAll;
using ::ocicni::testutil::WaitFor;
using ::ocicni::testutil::WriteFile;
using ::ocicni::testutil::WriteFileAtomically;

// ConfList returns a valid network configuration list named `name` with one
// plugin of `type` at cniVersion 1.0.0.
std::string ConfList(absl::string_view name, absl::string_view type = "bridge");

// Conf returns a valid single-plugin config named `name`.
std::string Conf(absl::string_view name, absl::string_view type = "bridge");

}  // namespace ocicni::config::testfiles

#endif  // OCICNI_CONFIG_TEST_FILES_H_
