#include "base/posix.h"

#include <fcntl.h>
#include <unistd.h>

#include "base/status_macros.h"
#include "gtest/gtest.h"

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

}  // namespace
}  // namespace ocicni
