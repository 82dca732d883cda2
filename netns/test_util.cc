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

}  // namespace ocicni::testutil
