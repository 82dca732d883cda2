#include "netns/test_util.h"

#include <linux/capability.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdlib>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "netns/lifecycle.h"

namespace ocicni::testutil {

void RunWithoutCapabilities(std::initializer_list<int> caps,
                            absl::FunctionRef<void()> fn) {
  std::thread worker([&] {
    __user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
    ASSERT_EQ(::syscall(SYS_capget, &header, data), 0);
    for (int cap : caps) {
      data[cap / 32].effective &= ~(1u << (cap % 32));
    }
    ASSERT_EQ(::syscall(SYS_capset, &header, data), 0);
    fn();
  });
  worker.join();
}

std::string TestTmpDir() {
  const char* dir = std::getenv("TEST_TMPDIR");
  return dir != nullptr ? dir : "/tmp";
}

ScopedPodNamespace::ScopedPodNamespace(absl::string_view name)
    : path_(absl::StrCat(TestTmpDir(), "/", name)) {
  absl::StatusOr<netns::NetNS> ns = netns::CreateAt(path_);
  if (ns.ok()) {
    ns_.emplace(*std::move(ns));
  } else {
    status_ = ns.status();
  }
}

ScopedPodNamespace::~ScopedPodNamespace() {
  if (!status_.ok()) {
    return;
  }
  ns_.reset();
  absl::Status deleted = netns::DeleteAt(path_);
  EXPECT_TRUE(deleted.ok()) << deleted;
}

void PodNamespaceTest::SetUp() {
  OCICNI_SKIP_UNLESS_ROOT();
  absl::StatusOr<netns::NetNS> self = netns::NetNS::Current();
  ASSERT_TRUE(self.ok()) << self.status();
  self_.emplace(*std::move(self));
  pod_ = std::make_unique<ScopedPodNamespace>("pod");
  ASSERT_TRUE(pod_->status().ok()) << pod_->status();
}

void PodNamespaceTest::TearDown() {
  if (!self_.has_value()) return;
  absl::StatusOr<netns::NetNS> now = netns::NetNS::Current();
  ASSERT_TRUE(now.ok()) << now.status();
  absl::StatusOr<bool> same = netns::SameNamespace(*now, *self_);
  ASSERT_TRUE(same.ok()) << same.status();
  EXPECT_TRUE(*same) << "the test thread changed namespace";
}

}  // namespace ocicni::testutil
