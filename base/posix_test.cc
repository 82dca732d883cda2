#include "base/posix.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/files.h"

namespace ocicni {
namespace {

TEST(ErrnoToStatus, MapsCodesAndNamesTheThing) {
  absl::Status s = ErrnoToStatus(ENOENT, "open /nope");
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(s.message(), "open /nope: No such file or directory");
  EXPECT_EQ(ErrnoToStatus(EACCES, "x").code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(ErrnoToStatus(ENOSPC, "x").code(),
            absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(ErrnoToStatus(EIO, "x").code(), absl::StatusCode::kInternal);
}

TEST(UniqueFd, ClosesOnDestructionAndMoves) {
  int raw;
  {
    auto fd = OpenFd("/dev/null", O_RDONLY);
    ASSERT_TRUE(fd.ok()) << fd.status();
    raw = fd->get();
    EXPECT_TRUE(fcntl(raw, F_GETFD) & FD_CLOEXEC);
    UniqueFd moved = std::move(*fd);
    EXPECT_FALSE(fd->valid());
    EXPECT_EQ(moved.get(), raw);
  }
  EXPECT_EQ(fcntl(raw, F_GETFD), -1);
}

TEST(OpenFd, MissingPathIsNotFound) {
  auto fd = OpenFd("/nonexistent/ocicni", O_RDONLY);
  EXPECT_EQ(fd.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(fd.status().message().find("/nonexistent/ocicni"),
            absl::string_view::npos);
}

absl::StatusOr<int> Half(int x) {
  if (x % 2 != 0) return absl::InvalidArgumentError("odd");
  return x / 2;
}

absl::StatusOr<int> Quarter(int x) {
  OCICNI_ASSIGN_OR_RETURN(int h, Half(x));
  OCICNI_ASSIGN_OR_RETURN(h, Half(h));
  return h;
}

absl::Status CheckEven(int x) {
  OCICNI_RETURN_IF_ERROR(Half(x).status());
  return absl::OkStatus();
}

TEST(StatusMacros, PropagateAndAssign) {
  EXPECT_EQ(*Quarter(8), 2);
  EXPECT_EQ(Quarter(6).status().message(), "odd");
  EXPECT_TRUE(CheckEven(4).ok());
  EXPECT_FALSE(CheckEven(3).ok());
}

TEST(MakePipe, BothEndsCloexec) {
  auto p = MakePipe();
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(fcntl(p->first.get(), F_GETFD) & FD_CLOEXEC);
  EXPECT_TRUE(fcntl(p->second.get(), F_GETFD) & FD_CLOEXEC);
  ASSERT_EQ(write(p->second.get(), "x", 1), 1);
  char c;
  ASSERT_EQ(read(p->first.get(), &c, 1), 1);
  EXPECT_EQ(c, 'x');
}

// Listing a directory leaves its access time alone (O_NOATIME): a runtime
// lists its cache directory on every teardown, and an access time update
// would dirty the directory's inode each time, for the disk to write.
TEST(ForEachDirEntry, LeavesTheAccessTimeAlone) {
  std::string root = absl::StrCat(::testing::TempDir(), "/atimeXXXXXX");
  ASSERT_NE(mkdtemp(root.data()), nullptr);
  const std::string plain = root + "/plain";
  const std::string ours = root + "/ours";
  for (const std::string& dir : {plain, ours}) {
    testutil::MakeDir(dir);
    testutil::WriteFile(dir + "/entry", "x");
    testutil::MakeAccessTimeStale(dir);
  }
  const absl::Time stale = testutil::AccessTime(ours);
  // The same listing without O_NOATIME, to see that this file system
  // updates access times at all.
  DIR* d = opendir(plain.c_str());
  ASSERT_NE(d, nullptr);
  while (readdir(d) != nullptr) {
  }
  closedir(d);
  if (testutil::AccessTime(plain) == stale) {
    testutil::RemoveAll(root);
    GTEST_SKIP() << "the file system of " << root
                 << " does not update access times (mounted noatime?): "
                    "nothing to check";
  }
  int listed = 0;
  ASSERT_TRUE(
      ForEachDirEntry(ours.c_str(), [&](absl::string_view) { ++listed; }).ok());
  EXPECT_EQ(listed, 1);
  EXPECT_EQ(testutil::AccessTime(ours), stale);
  testutil::RemoveAll(root);
}

TEST(ForEachDirEntry, ListsEveryNameButDotAndDotDot) {
  std::string dir = absl::StrCat(::testing::TempDir(), "/listXXXXXX");
  ASSERT_NE(mkdtemp(dir.data()), nullptr);
  // Long names, so that the entries take several reads of the buffer.
  std::set<std::string> made;
  for (int i = 0; i < 300; ++i) {
    std::string name = absl::StrCat(i, "-", std::string(60, 'n'));
    if (i == 7) name = ".hidden";
    const std::string path = absl::StrCat(dir, "/", name);
    if (i == 8) {
      ASSERT_EQ(mkdir(path.c_str(), 0700), 0);
    } else {
      int fd = open(path.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
      ASSERT_GE(fd, 0);
      close(fd);
    }
    made.insert(name);
  }
  std::multiset<std::string> listed;
  ASSERT_TRUE(ForEachDirEntry(dir.c_str(), [&](absl::string_view name) {
                listed.emplace(name);
              }).ok());
  EXPECT_EQ(listed, std::multiset<std::string>(made.begin(), made.end()));

  absl::Status missing = ForEachDirEntry(absl::StrCat(dir, "/nope").c_str(),
                                         [](absl::string_view) {});
  EXPECT_EQ(missing.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(missing.message()), ::testing::HasSubstr("/nope"));
  absl::Status file =
      ForEachDirEntry(absl::StrCat(dir, "/0-", std::string(60, 'n')).c_str(),
                      [](absl::string_view) {});
  EXPECT_EQ(file.code(), absl::StatusCode::kInvalidArgument);  // ENOTDIR
}

}  // namespace
}  // namespace ocicni
