// NetnsOps against the kernel: a pod namespace made by the test, inside the
// test's own sandbox network namespace (block-network; root only).
#include "ocicni/netns_ops.h"

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "netns/inspector.h"
#include "netns/netlink.h"
#include "netns/netns.h"
#include "netns/test_util.h"

namespace ocicni {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(KernelNetnsOps, LoopbackAndInterfaceState) {
  OCICNI_SKIP_UNLESS_ROOT();
  testutil::ScopedPodNamespace pod("pod");
  ASSERT_TRUE(pod.status().ok()) << pod.status();
  auto host = netns::NetNS::Current();
  ASSERT_TRUE(host.ok());
  ASSERT_TRUE(netns::AddVethPairForTest(pod.ns(), "eth0", "02:00:00:00:aa:01",
                                        0, *host, "vethpod0")
                  .ok());
  ASSERT_TRUE(netns::SetLinkUpForTest(pod.ns(), "eth0").ok());
  ASSERT_TRUE(netns::AddAddressForTest(pod.ns(), "eth0", "10.77.0.5/24").ok());
  ASSERT_TRUE(netns::AddAddressForTest(pod.ns(), "eth0", "fd00:77::5/64").ok());

  std::unique_ptr<NetnsOps> ops = NewNetnsOps();
  ASSERT_TRUE(ops->BringUpLoopback(pod.path()).ok());
  auto state = ops->GetInterfaceState(pod.path(), "eth0");
  ASSERT_TRUE(state.ok()) << state.status();
  EXPECT_EQ(state->mac, "02:00:00:00:aa:01");
  // Global addresses only (not the IPv6 link-local one), IPv4 first.
  EXPECT_THAT(state->addresses, ElementsAre("10.77.0.5/24", "fd00:77::5/64"));

  EXPECT_EQ(ops->GetInterfaceState(pod.path(), "eth9").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(ops->BringUpLoopback(pod.path() + "-missing").code(),
            absl::StatusCode::kNotFound);
}

// Several pods at once, from several threads: each handle waits for its own
// bring-up, and all of them end up with lo up.
TEST(KernelNetnsOps, ConcurrentLoopbackBringUps) {
  OCICNI_SKIP_UNLESS_ROOT();
  constexpr int kPods = 8;
  std::vector<std::unique_ptr<testutil::ScopedPodNamespace>> pods;
  for (int i = 0; i < kPods; ++i) {
    pods.push_back(
        std::make_unique<testutil::ScopedPodNamespace>(absl::StrCat("pod", i)));
    ASSERT_TRUE(pods.back()->status().ok()) << pods.back()->status();
  }
  std::unique_ptr<NetnsOps> ops = NewNetnsOps();
  std::vector<std::thread> threads;
  std::vector<absl::Status> statuses(kPods);
  for (int i = 0; i < kPods; ++i) {
    threads.emplace_back([&, i] {
      absl::StatusOr<std::unique_ptr<PendingLoopback>> lo =
          ops->StartBringUpLoopback(pods[i]->path());
      statuses[i] = lo.ok() ? (*lo)->Wait() : lo.status();
    });
  }
  for (std::thread& t : threads) t.join();
  for (int i = 0; i < kPods; ++i) {
    EXPECT_TRUE(statuses[i].ok()) << statuses[i];
    absl::StatusOr<std::unique_ptr<netns::Inspector>> inspector =
        netns::OpenInspector(pods[i]->ns());
    ASSERT_TRUE(inspector.ok()) << inspector.status();
    absl::StatusOr<netns::Link> lo = (*inspector)->LinkByName("lo");
    ASSERT_TRUE(lo.ok()) << lo.status();
    EXPECT_TRUE(lo->up) << pods[i]->path();
  }
}

TEST(KernelNetnsOps, BadPathFailsBeforeAnythingStarts) {
  OCICNI_SKIP_UNLESS_ROOT();
  testutil::ScopedPodNamespace pod("pod");
  ASSERT_TRUE(pod.status().ok()) << pod.status();
  std::unique_ptr<NetnsOps> ops = NewNetnsOps();
  auto missing = ops->StartBringUpLoopback(pod.path() + "-missing");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(missing.status().message()),
              HasSubstr(pod.path() + "-missing"));
  // A directory is not a network namespace.
  auto dir = ops->StartBringUpLoopback(::testing::TempDir());
  EXPECT_EQ(dir.status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace ocicni
