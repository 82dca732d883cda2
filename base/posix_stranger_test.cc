// What a process of another user may do with the helpers of posix.h. Runs
// outside Bazel's sandbox (tag no-sandbox), whose user namespace maps no
// user but the test's own.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "absl/strings/str_cat.h"
#include "base/posix.h"
#include "gtest/gtest.h"
#include "testing/files.h"
#include "testing/stranger.h"

namespace ocicni {
namespace {

// Where O_NOATIME is refused (a process of another user, listing a
// directory that others may read), the listing goes on without it.
TEST(ForEachDirEntry, ListsAnotherUsersDirectory) {
  if (geteuid() != 0) {
    GTEST_SKIP() << "needs root, to run a child as another user";
  }
  std::string dir = absl::StrCat(::testing::TempDir(), "/othersXXXXXX");
  ASSERT_NE(mkdtemp(dir.data()), nullptr);
  ASSERT_EQ(chmod(dir.c_str(), 0755), 0);
  testutil::WriteFile(dir + "/entry", "x");
  // The stranger enters it through this descriptor: the directories above
  // it may be closed to others.
  const int fd = open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  absl::StatusOr<int> code = testutil::RunAsStranger([&] {
    if (fchdir(fd) != 0) return 3;
    const int probe = open(".", O_RDONLY | O_DIRECTORY | O_NOATIME);
    if (probe >= 0) return 2;
    if (errno != EPERM) return 3;
    int listed = 0;
    bool named = false;
    const absl::Status status = ForEachDirEntry(".", [&](absl::string_view n) {
      ++listed;
      named = n == "entry";
    });
    return status.ok() && listed == 1 && named ? 0 : 1;
  });
  close(fd);
  ASSERT_TRUE(code.ok()) << code.status();
  EXPECT_EQ(*code, 0) << "1: the listing failed or was wrong; 2: O_NOATIME "
                         "was allowed (nothing to check); 3: the directory "
                         "could not be entered or opened";
  testutil::RemoveAll(dir);
}

}  // namespace
}  // namespace ocicni
