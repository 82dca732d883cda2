// The Inspector contract, checked against both implementations: the libnl
// inspector on a real pod namespace (root only, in Bazel's sandbox) and
// testutil::FakeInspector filled to mirror the same pod. When the kernel
// side changes behaviour the fake must follow, or this test fails.
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <algorithm>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "netns/inspector.h"
#include "netns/netlink.h"
#include "netns/test_util.h"
#include "testing/fake_inspector.h"

namespace ocicni::netns {
namespace {

using ::ocicni::testutil::FakeInspector;
using ::ocicni::testutil::ScopedPodNamespace;
using ::ocicni::testutil::StatusIs;
using ::testing::Contains;
using ::testing::HasSubstr;

// The pod every backend presents: lo up, and eth0 (one end of a veth pair)
// with one IPv4 and one IPv6 address and a default route.
constexpr char kEth0Mac[] = "02:00:00:00:00:30";
constexpr uint32_t kEth0Mtu = 1400;

enum class Backend { kFake, kKernel };

std::string BackendName(const ::testing::TestParamInfo<Backend>& info) {
  return info.param == Backend::kFake ? "Fake" : "Kernel";
}

Address MakeAddress(int ifindex, std::string ifname, int family, std::string ip,
                    int prefix_len, int scope) {
  Address a;
  a.ifindex = ifindex;
  a.ifname = std::move(ifname);
  a.family = family;
  a.address = std::move(ip);
  a.prefix_len = prefix_len;
  a.scope = scope;
  return a;
}

Route MakeRoute(std::string dst, std::string gateway, int ifindex, int family,
                uint32_t priority, int scope) {
  Route r;
  r.dst = std::move(dst);
  r.gateway = std::move(gateway);
  r.ifindex = ifindex;
  r.family = family;
  r.table = RT_TABLE_MAIN;
  r.priority = priority;
  r.scope = scope;
  return r;
}

class InspectorContractTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    if (GetParam() == Backend::kFake) {
      SetUpFake();
    } else {
      OCICNI_SKIP_UNLESS_ROOT();
      SetUpKernel();
    }
  }

  void TearDown() override {
    inspector_.reset();
    pod_.reset();
    host_.reset();
  }

  // The fake holds what the kernel reports for the pod (a subset: the
  // kernel also lists eth0's fe80:: address and route).
  void SetUpFake() {
    auto fake = std::make_unique<FakeInspector>();
    Link lo;
    lo.name = "lo";
    lo.index = 1;
    lo.mac = "00:00:00:00:00:00";
    lo.mtu = 65536;
    lo.up = true;
    fake->AddLink(lo);
    Link eth0;
    eth0.name = "eth0";
    eth0.index = 2;
    eth0.mac = kEth0Mac;
    eth0.mtu = kEth0Mtu;
    eth0.up = true;
    eth0.kind = "veth";
    fake->AddLink(eth0);
    fake->AddAddress(
        MakeAddress(2, "eth0", AF_INET, "10.30.0.2", 24, RT_SCOPE_UNIVERSE));
    fake->AddAddress(
        MakeAddress(1, "lo", AF_INET, "127.0.0.1", 8, RT_SCOPE_HOST));
    fake->AddAddress(
        MakeAddress(2, "eth0", AF_INET6, "fd00:30::2", 64, RT_SCOPE_UNIVERSE));
    fake->AddAddress(MakeAddress(1, "lo", AF_INET6, "::1", 128, RT_SCOPE_HOST));
    fake->AddRoute(
        MakeRoute("0.0.0.0/0", "10.30.0.1", 2, AF_INET, 0, RT_SCOPE_UNIVERSE));
    fake->AddRoute(MakeRoute("10.30.0.0/24", "", 2, AF_INET, 0, RT_SCOPE_LINK));
    fake->AddRoute(
        MakeRoute("fd00:30::/64", "", 2, AF_INET6, 256, RT_SCOPE_UNIVERSE));
    inspector_ = std::move(fake);
  }

  void SetUpKernel() {
    pod_ = std::make_unique<ScopedPodNamespace>("pod");
    host_ = std::make_unique<ScopedPodNamespace>("host");
    OCICNI_ASSERT_OK(pod_->status());
    OCICNI_ASSERT_OK(host_->status());
    const NetNS& pod = pod_->ns();
    OCICNI_ASSERT_OK(BringUpLoopback(pod));
    OCICNI_ASSERT_OK(AddVethPairForTest(pod, "eth0", kEth0Mac, kEth0Mtu,
                                        host_->ns(), "veth-pod"));
    OCICNI_ASSERT_OK(SetLinkUpForTest(host_->ns(), "veth-pod"));
    OCICNI_ASSERT_OK(SetLinkUpForTest(pod, "eth0"));
    OCICNI_ASSERT_OK(AddAddressForTest(pod, "eth0", "10.30.0.2/24"));
    OCICNI_ASSERT_OK(AddAddressForTest(pod, "eth0", "fd00:30::2/64"));
    OCICNI_ASSERT_OK(AddRouteForTest(pod, "0.0.0.0/0", "10.30.0.1", "eth0"));
    absl::StatusOr<std::unique_ptr<Inspector>> inspector = OpenInspector(pod);
    OCICNI_ASSERT_OK(inspector.status());
    inspector_ = *std::move(inspector);
  }

  Inspector& inspector() { return *inspector_; }

  std::unique_ptr<ScopedPodNamespace> pod_;
  std::unique_ptr<ScopedPodNamespace> host_;
  std::unique_ptr<Inspector> inspector_;
};

TEST_P(InspectorContractTest, LinksAreOrderedByIndexWithUniqueNames) {
  absl::StatusOr<std::vector<Link>> links = inspector().Links();
  OCICNI_ASSERT_OK(links.status());
  ASSERT_FALSE(links->empty());
  std::set<std::string> names;
  for (size_t i = 0; i < links->size(); ++i) {
    const Link& link = (*links)[i];
    EXPECT_FALSE(link.name.empty());
    EXPECT_TRUE(names.insert(link.name).second) << link.name;
    EXPECT_GT(link.index, 0);
    if (i > 0) {
      EXPECT_LT((*links)[i - 1].index, link.index);
    }
  }
}

TEST_P(InspectorContractTest, LoopbackLooksLikeTheKernelsLoopback) {
  absl::StatusOr<Link> lo = inspector().LinkByName("lo");
  OCICNI_ASSERT_OK(lo.status());
  EXPECT_EQ(lo->index, 1);
  EXPECT_EQ(lo->mac, "00:00:00:00:00:00");
  EXPECT_EQ(lo->mtu, 65536u);
  EXPECT_TRUE(lo->up);
  EXPECT_EQ(lo->kind, "");
}

TEST_P(InspectorContractTest, LinkByNameAgreesWithLinks) {
  absl::StatusOr<std::vector<Link>> links = inspector().Links();
  OCICNI_ASSERT_OK(links.status());
  for (const Link& link : *links) {
    absl::StatusOr<Link> by_name = inspector().LinkByName(link.name);
    OCICNI_ASSERT_OK(by_name.status());
    EXPECT_EQ(*by_name, link);
  }
  EXPECT_THAT(inspector().LinkByName("missing0"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("missing0")));
}

TEST_P(InspectorContractTest, PodInterface) {
  absl::StatusOr<Link> eth0 = inspector().LinkByName("eth0");
  OCICNI_ASSERT_OK(eth0.status());
  EXPECT_EQ(eth0->mac, kEth0Mac);
  EXPECT_EQ(eth0->mtu, kEth0Mtu);
  EXPECT_TRUE(eth0->up);
  EXPECT_EQ(eth0->kind, "veth");
}

TEST_P(InspectorContractTest, Addresses) {
  absl::StatusOr<std::vector<Link>> links = inspector().Links();
  absl::StatusOr<std::vector<Address>> addrs = inspector().Addresses();
  absl::StatusOr<Link> eth0 = inspector().LinkByName("eth0");
  OCICNI_ASSERT_OK(links.status());
  OCICNI_ASSERT_OK(addrs.status());
  OCICNI_ASSERT_OK(eth0.status());

  for (size_t i = 0; i < addrs->size(); ++i) {
    const Address& a = (*addrs)[i];
    if (i > 0) {
      EXPECT_LE((*addrs)[i - 1].ifindex, a.ifindex);
    }
    // Every address belongs to a listed link, by index and by name.
    EXPECT_THAT(*links, Contains(::testing::AllOf(
                            ::testing::Field(&Link::index, a.ifindex),
                            ::testing::Field(&Link::name, a.ifname))))
        << a.ifname << " " << a.address;
    ASSERT_TRUE(a.family == AF_INET || a.family == AF_INET6) << a.family;
    EXPECT_FALSE(absl::StrContains(a.address, '/')) << a.address;
    EXPECT_EQ(absl::StrContains(a.address, ':'), a.family == AF_INET6)
        << a.address;
    EXPECT_LE(a.prefix_len, a.family == AF_INET ? 32 : 128);
  }
  EXPECT_THAT(*addrs, Contains(MakeAddress(1, "lo", AF_INET, "127.0.0.1", 8,
                                           RT_SCOPE_HOST)));
  EXPECT_THAT(*addrs, Contains(MakeAddress(1, "lo", AF_INET6, "::1", 128,
                                           RT_SCOPE_HOST)));
  EXPECT_THAT(*addrs,
              Contains(MakeAddress(eth0->index, "eth0", AF_INET, "10.30.0.2",
                                   24, RT_SCOPE_UNIVERSE)));
  EXPECT_THAT(*addrs,
              Contains(MakeAddress(eth0->index, "eth0", AF_INET6, "fd00:30::2",
                                   64, RT_SCOPE_UNIVERSE)));
}

TEST_P(InspectorContractTest, Routes) {
  absl::StatusOr<std::vector<Link>> links = inspector().Links();
  absl::StatusOr<std::vector<Route>> routes = inspector().Routes();
  absl::StatusOr<Link> eth0 = inspector().LinkByName("eth0");
  OCICNI_ASSERT_OK(links.status());
  OCICNI_ASSERT_OK(routes.status());
  OCICNI_ASSERT_OK(eth0.status());

  for (const Route& r : *routes) {
    ASSERT_TRUE(r.family == AF_INET || r.family == AF_INET6) << r.family;
    EXPECT_TRUE(absl::StrContains(r.dst, '/')) << r.dst;
    EXPECT_EQ(absl::StrContains(r.dst, ':'), r.family == AF_INET6) << r.dst;
    EXPECT_FALSE(absl::StrContains(r.gateway, '/')) << r.gateway;
    EXPECT_NE(r.table, static_cast<uint32_t>(RT_TABLE_LOCAL)) << r.dst;
    EXPECT_THAT(*links, Contains(::testing::Field(&Link::index, r.ifindex)))
        << r.dst;
  }
  EXPECT_THAT(*routes, Contains(MakeRoute("0.0.0.0/0", "10.30.0.1", eth0->index,
                                          AF_INET, 0, RT_SCOPE_UNIVERSE)));
  EXPECT_THAT(*routes, Contains(MakeRoute("10.30.0.0/24", "", eth0->index,
                                          AF_INET, 0, RT_SCOPE_LINK)));
  EXPECT_THAT(*routes, Contains(MakeRoute("fd00:30::/64", "", eth0->index,
                                          AF_INET6, 256, RT_SCOPE_UNIVERSE)));
}

INSTANTIATE_TEST_SUITE_P(Backends, InspectorContractTest,
                         ::testing::Values(Backend::kFake, Backend::kKernel),
                         BackendName);

// Fake-only behaviour that code under test relies on.
TEST(FakeInspector, FailWithFailsEveryQuery) {
  FakeInspector fake;
  fake.FailWith(absl::UnavailableError("netlink down"));
  EXPECT_THAT(fake.Links(),
              StatusIs(absl::StatusCode::kUnavailable, "netlink down"));
  EXPECT_THAT(fake.Addresses(),
              StatusIs(absl::StatusCode::kUnavailable, "netlink down"));
  EXPECT_THAT(fake.Routes(),
              StatusIs(absl::StatusCode::kUnavailable, "netlink down"));
  EXPECT_THAT(fake.LinkByName("lo"),
              StatusIs(absl::StatusCode::kUnavailable, "netlink down"));
  fake.FailWith(absl::OkStatus());
  EXPECT_TRUE(fake.Links().ok());
}

}  // namespace
}  // namespace ocicni::netns
