// Tests that need no privileges: opening and verifying namespace files,
// error mapping, name validation, and the delete safety checks.
#include "netns/netns.h"

#include <fcntl.h>
#include <linux/capability.h>
#include <linux/magic.h>
#include <sched.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <type_traits>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "base/posix.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "netns/internal/verify.h"
#include "netns/lifecycle.h"
#include "netns/test_util.h"

namespace ocicni::netns {
namespace {

using ::ocicni::testutil::StatusIs;
using ::ocicni::testutil::TestTmpDir;
using ::testing::AllOf;
using ::testing::HasSubstr;

static_assert(!std::is_copy_constructible_v<NetNS>);
static_assert(std::is_nothrow_move_constructible_v<NetNS>);

std::string MakeFile(absl::string_view name, absl::string_view content,
                     mode_t mode = 0644) {
  std::string path = absl::StrCat(TestTmpDir(), "/", name);
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  EXPECT_GE(fd, 0) << path;
  if (!content.empty()) {
    EXPECT_EQ(::write(fd, content.data(), content.size()),
              static_cast<ssize_t>(content.size()));
  }
  ::close(fd);
  ::chmod(path.c_str(), mode);
  return path;
}

bool Exists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

TEST(NetNSOpen, OwnNamespaceThroughProc) {
  absl::StatusOr<NetNS> ns = NetNS::Open("/proc/self/ns/net");
  ASSERT_TRUE(ns.ok()) << ns.status();
  EXPECT_EQ(ns->path(), "/proc/self/ns/net");
  EXPECT_GE(ns->fd(), 0);
  EXPECT_EQ(::fcntl(ns->fd(), F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
}

TEST(NetNSOpen, CurrentIsTheThreadsNamespace) {
  absl::StatusOr<NetNS> current = NetNS::Current();
  ASSERT_TRUE(current.ok()) << current.status();
  EXPECT_THAT(current->path(), HasSubstr("/ns/net"));
  absl::StatusOr<NetNS> proc = NetNS::Open("/proc/self/ns/net");
  ASSERT_TRUE(proc.ok()) << proc.status();
  absl::StatusOr<bool> same = SameNamespace(*current, *proc);
  ASSERT_TRUE(same.ok()) << same.status();
  EXPECT_TRUE(*same);
}

TEST(NetNSOpen, MoveKeepsTheDescriptor) {
  absl::StatusOr<NetNS> ns = NetNS::Open("/proc/self/ns/net");
  ASSERT_TRUE(ns.ok()) << ns.status();
  const int fd = ns->fd();
  NetNS moved = *std::move(ns);
  EXPECT_EQ(moved.fd(), fd);
  EXPECT_EQ(moved.path(), "/proc/self/ns/net");
}

TEST(NetNSOpen, EmptyPathIsInvalid) {
  EXPECT_THAT(NetNS::Open(""),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("empty")));
}

TEST(NetNSOpen, MissingPathIsNotFound) {
  const std::string path = TestTmpDir() + "/no-such-netns";
  EXPECT_THAT(NetNS::Open(path),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr(path)));
}

TEST(NetNSOpen, RegularFileIsNotANamespace) {
  const std::string path = MakeFile("plain", "hello");
  EXPECT_THAT(
      NetNS::Open(path),
      StatusIs(absl::StatusCode::kInvalidArgument,
               AllOf(HasSubstr(path), HasSubstr("not a network namespace"))));
}

TEST(NetNSOpen, DirectoryIsNotANamespace) {
  EXPECT_THAT(NetNS::Open(TestTmpDir()),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("not a network namespace")));
}

TEST(NetNSOpen, OtherNamespaceTypeIsRejected) {
  EXPECT_THAT(NetNS::Open("/proc/self/ns/mnt"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("/proc/self/ns/mnt"),
                             HasSubstr("mnt namespace"))));
}

TEST(NetNSOpen, ProcfsFileIsNotANamespace) {
  EXPECT_THAT(NetNS::Open("/proc/self/status"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("/proc/self/status")));
}

TEST(NetNSOpen, UnreadableFileIsPermissionDenied) {
  const std::string path = MakeFile("unreadable", "", 0);
  // Root reads anything through CAP_DAC_OVERRIDE; drop it on a helper thread.
  testutil::RunWithoutCapabilities(
      {CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH}, [&] {
        EXPECT_THAT(
            NetNS::Open(path),
            StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr(path)));
      });
}

// The decision logic, with every input the kernel could give.
TEST(CheckNetNSFile, AcceptsNetworkNamespaces) {
  netns_internal::NsFileFacts facts;
  facts.fs_magic = NSFS_MAGIC;
  facts.nstype = CLONE_NEWNET;
  EXPECT_TRUE(netns_internal::CheckNetNSFile("/x", facts).ok());
}

TEST(CheckNetNSFile, RejectsOtherFileSystems) {
  netns_internal::NsFileFacts facts;
  facts.fs_magic = 0xEF53;  // ext4
  facts.nstype_errno = ENOTTY;
  EXPECT_THAT(netns_internal::CheckNetNSFile("/x", facts),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("/x"), HasSubstr("0xef53"))));
}

TEST(CheckNetNSFile, RejectsOtherNamespaceTypes) {
  netns_internal::NsFileFacts facts;
  facts.fs_magic = NSFS_MAGIC;
  facts.nstype = CLONE_NEWUTS;
  EXPECT_THAT(
      netns_internal::CheckNetNSFile("/x", facts),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("uts namespace")));
}

TEST(CheckNetNSFile, OldKernelWithoutNsGetNstype) {
  netns_internal::NsFileFacts facts;
  facts.fs_magic = NSFS_MAGIC;
  facts.nstype_errno = ENOTTY;
  EXPECT_TRUE(netns_internal::CheckNetNSFile("/x", facts).ok());

  // Before nsfs (3.19) namespace files lived on procfs.
  facts.fs_magic = PROC_SUPER_MAGIC;
  facts.kernel_has_nsfs = false;
  EXPECT_TRUE(netns_internal::CheckNetNSFile("/x", facts).ok());

  facts.kernel_has_nsfs = true;
  EXPECT_THAT(
      netns_internal::CheckNetNSFile("/x", facts),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("procfs")));
}

TEST(OpenErrorToStatus, MapsErrnoAndNamesThePath) {
  EXPECT_THAT(netns_internal::OpenErrorToStatus(ENOENT, "/p"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("/p")));
  EXPECT_THAT(netns_internal::OpenErrorToStatus(EACCES, "/p"),
              StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr("/p")));
  EXPECT_THAT(netns_internal::OpenErrorToStatus(EPERM, "/p"),
              StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr("/p")));
  EXPECT_THAT(netns_internal::OpenErrorToStatus(ENOTDIR, "/p"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("/p")));
}

TEST(NamedPath, JoinsRuntimeDirAndName) {
  absl::StatusOr<std::string> path = NamedPath("pod-1");
  ASSERT_TRUE(path.ok()) << path.status();
  EXPECT_EQ(*path, "/var/run/netns/pod-1");

  NamedOptions options;
  options.runtime_dir = "/tmp/ns";
  path = NamedPath("pod-1", options);
  ASSERT_TRUE(path.ok()) << path.status();
  EXPECT_EQ(*path, "/tmp/ns/pod-1");
}

TEST(NamedPath, RejectsBadNames) {
  for (absl::string_view name :
       {absl::string_view(""), absl::string_view("."), absl::string_view(".."),
        absl::string_view("a/b"), absl::string_view("../etc"),
        absl::string_view("a\0b", 3)}) {
    EXPECT_THAT(NamedPath(name),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         HasSubstr("invalid network namespace name")))
        << absl::CEscape(name);
  }
  EXPECT_THAT(NamedPath(std::string(256, 'a')),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("255")));
  EXPECT_TRUE(NamedPath(std::string(255, 'a')).ok());
}

TEST(CreateNamed, BadNameTouchesNothing) {
  NamedOptions options;
  options.runtime_dir = TestTmpDir() + "/never-created";
  EXPECT_THAT(CreateNamed("a/b", options),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("a/b")));
  EXPECT_FALSE(Exists(options.runtime_dir));
}

TEST(DeleteAt, MissingPathIsOk) {
  EXPECT_TRUE(DeleteAt(TestTmpDir() + "/never-existed").ok());
  NamedOptions options;
  options.runtime_dir = TestTmpDir();
  EXPECT_TRUE(DeleteNamed("never-existed", options).ok());
}

TEST(DeleteAt, RemovesAnEmptyLeftoverFile) {
  const std::string path = MakeFile("leftover", "", 0);
  EXPECT_TRUE(DeleteAt(path).ok());
  EXPECT_FALSE(Exists(path));
}

TEST(DeleteAt, RefusesFilesThatAreNotNamespaces) {
  const std::string path = MakeFile("precious", "data");
  EXPECT_THAT(DeleteAt(path), StatusIs(absl::StatusCode::kInvalidArgument,
                                       HasSubstr("refusing to delete")));
  EXPECT_TRUE(Exists(path));
  EXPECT_THAT(
      DeleteAt(TestTmpDir()),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("refusing")));
}

}  // namespace
}  // namespace ocicni::netns
