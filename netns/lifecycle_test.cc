// Kernel tests for CreateAt/DeleteAt and named namespaces. Root only; they
// run in Bazel's linux-sandbox, whose private mount namespace keeps every
// mount made here away from the host.
#include "netns/lifecycle.h"

#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "netns/netns.h"
#include "netns/run_in.h"
#include "netns/test_util.h"

namespace ocicni::netns {
namespace {

using ::ocicni::testutil::StatusIs;
using ::ocicni::testutil::TestTmpDir;
using ::testing::HasSubstr;

bool Exists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

// MountOptionalFields returns the optional fields ("shared:N", ...) of the
// mount at `mount_point` in /proc/self/mountinfo, or "<not mounted>".
std::string MountOptionalFields(const std::string& mount_point) {
  std::ifstream in("/proc/self/mountinfo");
  std::string line, found = "<not mounted>";
  while (std::getline(in, line)) {
    std::vector<std::string> f = absl::StrSplit(line, ' ');
    if (f.size() < 7 || f[4] != mount_point) {
      continue;
    }
    found.clear();  // The last (topmost) mount wins.
    for (size_t i = 6; i < f.size() && f[i] != "-"; ++i) {
      absl::StrAppend(&found, f[i], " ");
    }
  }
  return found;
}

bool IsSame(const NetNS& a, const NetNS& b) {
  absl::StatusOr<bool> same = SameNamespace(a, b);
  EXPECT_TRUE(same.ok()) << same.status();
  return same.value_or(false);
}

class LifecycleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    OCICNI_SKIP_UNLESS_ROOT();
    absl::StatusOr<NetNS> self = NetNS::Current();
    ASSERT_TRUE(self.ok()) << self.status();
    self_.emplace(*std::move(self));
  }

  // The caller's namespace must never change.
  void TearDown() override {
    if (!self_.has_value()) {
      return;
    }
    absl::StatusOr<NetNS> now = NetNS::Current();
    ASSERT_TRUE(now.ok()) << now.status();
    EXPECT_TRUE(IsSame(*self_, *now)) << "the test thread changed namespace";
  }

  std::optional<NetNS> self_;
};

TEST_F(LifecycleTest, CreateAtAndDeleteAt) {
  const std::string path = TestTmpDir() + "/pod-a";
  absl::StatusOr<NetNS> ns = CreateAt(path);
  ASSERT_TRUE(ns.ok()) << ns.status();
  EXPECT_EQ(ns->path(), path);
  EXPECT_FALSE(IsSame(*ns, *self_));

  // The file now is the namespace, for anyone who opens it.
  absl::StatusOr<NetNS> reopened = NetNS::Open(path);
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  EXPECT_TRUE(IsSame(*ns, *reopened));

  ASSERT_TRUE(DeleteAt(path).ok());
  EXPECT_FALSE(Exists(path));
  EXPECT_THAT(NetNS::Open(path),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr(path)));
  // Idempotent.
  EXPECT_TRUE(DeleteAt(path).ok());
}

TEST_F(LifecycleTest, EachCreateIsANewNamespace) {
  absl::StatusOr<NetNS> a = CreateAt(TestTmpDir() + "/pod-b1");
  absl::StatusOr<NetNS> b = CreateAt(TestTmpDir() + "/pod-b2");
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_FALSE(IsSame(*a, *b));
  EXPECT_TRUE(DeleteAt(a->path()).ok());
  EXPECT_TRUE(DeleteAt(b->path()).ok());
}

TEST_F(LifecycleTest, CreateAtExistingPathFails) {
  const std::string path = TestTmpDir() + "/pod-c";
  absl::StatusOr<NetNS> ns = CreateAt(path);
  ASSERT_TRUE(ns.ok()) << ns.status();
  EXPECT_THAT(CreateAt(path),
              StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr(path)));
  // The failed create did not disturb the existing namespace.
  absl::StatusOr<NetNS> reopened = NetNS::Open(path);
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  EXPECT_TRUE(IsSame(*ns, *reopened));
  EXPECT_TRUE(DeleteAt(path).ok());
}

TEST_F(LifecycleTest, CreateAtMissingDirectoryFails) {
  const std::string path = TestTmpDir() + "/no-such-dir/pod";
  EXPECT_THAT(CreateAt(path),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr(path)));
}

TEST_F(LifecycleTest, HandleOutlivesDelete) {
  const std::string path = TestTmpDir() + "/pod-d";
  absl::StatusOr<NetNS> ns = CreateAt(path);
  ASSERT_TRUE(ns.ok()) << ns.status();
  ASSERT_TRUE(DeleteAt(path).ok());
  // The open fd still pins the namespace; code can still run inside it.
  absl::StatusOr<bool> inside = RunIn(*ns, [&] {
    absl::StatusOr<NetNS> current = NetNS::Current();
    return current.ok() && *SameNamespace(*current, *ns);
  });
  ASSERT_TRUE(inside.ok()) << inside.status();
  EXPECT_TRUE(*inside);
}

TEST_F(LifecycleTest, DeleteAtRefusesUnmountedNamespaceLinks) {
  // /proc/self/ns/net resolves to nsfs but is no bind mount: never unlink.
  EXPECT_THAT(DeleteAt("/proc/self/ns/net"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("refusing to delete")));
}

TEST_F(LifecycleTest, NamedNamespacesLikeIproute2) {
  NamedOptions options;
  options.runtime_dir = TestTmpDir() + "/netns";
  absl::StatusOr<NetNS> ns = CreateNamed("pod-e", options);
  ASSERT_TRUE(ns.ok()) << ns.status();
  EXPECT_EQ(ns->path(), options.runtime_dir + "/pod-e");

  // The runtime dir became a shared mount point, as `ip netns add` leaves
  // /var/run/netns.
  EXPECT_THAT(MountOptionalFields(options.runtime_dir), HasSubstr("shared:"));

  // A second namespace reuses the dir as it is.
  absl::StatusOr<NetNS> other = CreateNamed("pod-f", options);
  ASSERT_TRUE(other.ok()) << other.status();
  EXPECT_FALSE(IsSame(*ns, *other));
  EXPECT_THAT(CreateNamed("pod-e", options),
              StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr("pod-e")));

  EXPECT_TRUE(DeleteNamed("pod-e", options).ok());
  EXPECT_TRUE(DeleteNamed("pod-e", options).ok());
  EXPECT_TRUE(DeleteNamed("pod-f", options).ok());
  EXPECT_FALSE(Exists(options.runtime_dir + "/pod-e"));
  EXPECT_FALSE(Exists(options.runtime_dir + "/pod-f"));

  ASSERT_EQ(::umount2(options.runtime_dir.c_str(), MNT_DETACH), 0);
}

}  // namespace
}  // namespace ocicni::netns
