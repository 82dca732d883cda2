// NetnsOps against the kernel: a pod namespace made by the test, inside the
// test's own sandbox network namespace (block-network; root only).
#include "ocicni/netns_ops.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "netns/netlink.h"
#include "netns/netns.h"
#include "netns/test_util.h"

namespace ocicni {
namespace {

using ::testing::ElementsAre;

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

}  // namespace
}  // namespace ocicni
