// RunAsStranger runs `fn` in a child process that has become another user
// (uid and gid 65534, no supplementary groups, no capabilities): it owns no
// file of the test's, as for a runtime reading a directory that another
// user owns. For tests of what such a process may do: read what the
// permission bits let others read, not change access times, ...
//
//   if (geteuid() != 0) GTEST_SKIP() << "needs root to become another user";
//   absl::StatusOr<int> code = testutil::RunAsStranger([&] {
//     return ListsTheDirectory(dir) ? 0 : 1;
//   });
//
// Needs root (it changes user). `fn` runs after a fork: only what is safe
// there (no gtest assertions). Returns fn's result (0..255) as the child's
// exit code, or an error when the child could not become the other user or
// was killed.
#ifndef OCICNI_TESTING_STRANGER_H_
#define OCICNI_TESTING_STRANGER_H_

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"

namespace ocicni::testutil {

absl::StatusOr<int> RunAsStranger(absl::FunctionRef<int()> fn);

}  // namespace ocicni::testutil

#endif  // OCICNI_TESTING_STRANGER_H_
