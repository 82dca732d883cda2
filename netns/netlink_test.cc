// Kernel tests for the libnl inspector and loopback bring-up, on a pod
// namespace under $TEST_TMPDIR built with the ...ForTest helpers. Root only.
#include "netns/netlink.h"

#include <linux/capability.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "netns/inspector.h"
#include "netns/netns.h"
#include "netns/test_util.h"
#include "netns/workers.h"

namespace ocicni::netns {
namespace {

using ::ocicni::testutil::PodNamespaceTest;
using ::ocicni::testutil::ScopedPodNamespace;
using ::ocicni::testutil::StatusIs;
using ::testing::AllOf;
using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Not;

Address MakeAddress(const Link& link, int family, std::string ip, int prefix,
                    int scope) {
  Address a;
  a.ifindex = link.index;
  a.ifname = link.name;
  a.family = family;
  a.address = std::move(ip);
  a.prefix_len = prefix;
  a.scope = scope;
  return a;
}

class NetlinkTest : public PodNamespaceTest {
 protected:
  void TearDown() override {
    PodNamespaceTest::TearDown();
    host_.reset();
  }

  // AddEth0 wires the pod like a bridge plugin would: a veth pair with eth0
  // in the pod and its peer in a "host" namespace the test also created,
  // both up, eth0 with IPv4 and IPv6 addresses and a default route.
  void AddEth0() {
    host_ = std::make_unique<ScopedPodNamespace>("host");
    ASSERT_TRUE(host_->status().ok()) << host_->status();
    OCICNI_ASSERT_OK(AddVethPairForTest(pod(), "eth0", "02:00:00:00:00:01",
                                        1400, host_->ns(), "veth-pod"));
    OCICNI_ASSERT_OK(SetLinkUpForTest(host_->ns(), "veth-pod"));
    OCICNI_ASSERT_OK(SetLinkUpForTest(pod(), "eth0"));
    OCICNI_ASSERT_OK(AddAddressForTest(pod(), "eth0", "10.20.0.2/24"));
    OCICNI_ASSERT_OK(AddAddressForTest(pod(), "eth0", "fd00:20::2/64"));
    OCICNI_ASSERT_OK(AddRouteForTest(pod(), "0.0.0.0/0", "10.20.0.1", "eth0"));
  }

  std::unique_ptr<Inspector> Open(const NetNS& ns) {
    absl::StatusOr<std::unique_ptr<Inspector>> inspector = OpenInspector(ns);
    EXPECT_TRUE(inspector.ok()) << inspector.status();
    return inspector.ok() ? *std::move(inspector) : nullptr;
  }

  std::unique_ptr<ScopedPodNamespace> host_;
};

TEST_F(NetlinkTest, FreshNamespaceHasOnlyLoopbackDown) {
  std::unique_ptr<Inspector> inspector = Open(pod());
  ASSERT_NE(inspector, nullptr);
  absl::StatusOr<std::vector<Link>> links = inspector->Links();
  ASSERT_TRUE(links.ok()) << links.status();
  ASSERT_EQ(links->size(), 1u);
  const Link& lo = links->front();
  EXPECT_EQ(lo.name, "lo");
  EXPECT_EQ(lo.index, 1);
  EXPECT_FALSE(lo.up);
  EXPECT_EQ(lo.mac, "00:00:00:00:00:00");
  EXPECT_EQ(lo.kind, "");
  absl::StatusOr<std::vector<Address>> addrs = inspector->Addresses();
  ASSERT_TRUE(addrs.ok()) << addrs.status();
  EXPECT_TRUE(addrs->empty());
  absl::StatusOr<std::vector<Route>> routes = inspector->Routes();
  ASSERT_TRUE(routes.ok()) << routes.status();
  EXPECT_TRUE(routes->empty());
}

TEST_F(NetlinkTest, InspectsLinksAddressesAndRoutes) {
  AddEth0();
  std::unique_ptr<Inspector> inspector = Open(pod());
  ASSERT_NE(inspector, nullptr);

  absl::StatusOr<Link> eth0 = inspector->LinkByName("eth0");
  ASSERT_TRUE(eth0.ok()) << eth0.status();
  EXPECT_GT(eth0->index, 1);
  EXPECT_EQ(eth0->mac, "02:00:00:00:00:01");
  EXPECT_EQ(eth0->mtu, 1400u);
  EXPECT_TRUE(eth0->up);
  EXPECT_EQ(eth0->kind, "veth");

  absl::StatusOr<std::vector<Link>> links = inspector->Links();
  ASSERT_TRUE(links.ok()) << links.status();
  EXPECT_THAT(*links, Contains(*eth0));

  absl::StatusOr<std::vector<Address>> addrs = inspector->Addresses();
  ASSERT_TRUE(addrs.ok()) << addrs.status();
  EXPECT_THAT(*addrs, Contains(MakeAddress(*eth0, AF_INET, "10.20.0.2", 24,
                                           RT_SCOPE_UNIVERSE)));
  EXPECT_THAT(*addrs, Contains(MakeAddress(*eth0, AF_INET6, "fd00:20::2", 64,
                                           RT_SCOPE_UNIVERSE)));

  absl::StatusOr<std::vector<Route>> routes = inspector->Routes();
  ASSERT_TRUE(routes.ok()) << routes.status();
  Route connected;
  connected.dst = "10.20.0.0/24";
  connected.ifindex = eth0->index;
  connected.family = AF_INET;
  connected.table = RT_TABLE_MAIN;
  connected.scope = RT_SCOPE_LINK;
  EXPECT_THAT(*routes, Contains(connected));
  Route default_route;
  default_route.dst = "0.0.0.0/0";
  default_route.gateway = "10.20.0.1";
  default_route.ifindex = eth0->index;
  default_route.family = AF_INET;
  default_route.table = RT_TABLE_MAIN;
  default_route.scope = RT_SCOPE_UNIVERSE;
  EXPECT_THAT(*routes, Contains(default_route));
  Route v6;
  v6.dst = "fd00:20::/64";
  v6.ifindex = eth0->index;
  v6.family = AF_INET6;
  v6.table = RT_TABLE_MAIN;
  v6.priority = 256;
  v6.scope = RT_SCOPE_UNIVERSE;
  EXPECT_THAT(*routes, Contains(v6));
}

TEST_F(NetlinkTest, EachInspectorSeesItsOwnNamespace) {
  AddEth0();
  std::unique_ptr<Inspector> in_pod = Open(pod());
  std::unique_ptr<Inspector> in_host = Open(host_->ns());
  ASSERT_NE(in_pod, nullptr);
  ASSERT_NE(in_host, nullptr);
  EXPECT_TRUE(in_pod->LinkByName("eth0").ok());
  EXPECT_THAT(in_pod->LinkByName("veth-pod"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("veth-pod")));
  absl::StatusOr<Link> peer = in_host->LinkByName("veth-pod");
  ASSERT_TRUE(peer.ok()) << peer.status();
  EXPECT_EQ(peer->kind, "veth");
  EXPECT_TRUE(peer->up);
  EXPECT_EQ(peer->mtu, 1400u);
  EXPECT_THAT(in_host->LinkByName("eth0"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("eth0")));
}

TEST_F(NetlinkTest, LinkByNameErrors) {
  std::unique_ptr<Inspector> inspector = Open(pod());
  ASSERT_NE(inspector, nullptr);
  EXPECT_THAT(
      inspector->LinkByName("eth9"),
      StatusIs(absl::StatusCode::kNotFound,
               testing::AllOf(HasSubstr("eth9"), HasSubstr(pod().path()))));
  EXPECT_THAT(inspector->LinkByName(""),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("interface name")));
  EXPECT_THAT(inspector->LinkByName("a-name-longer-than-15"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("interface name")));
}

TEST_F(NetlinkTest, InspectorWorksFromAnyThreadAndOutlivesTheNamespaceFile) {
  AddEth0();
  std::unique_ptr<Inspector> inspector = Open(pod());
  ASSERT_NE(inspector, nullptr);
  DeletePod();  // The inspector's socket pins the netns.
  std::vector<std::thread> threads;
  std::vector<int> found(4, 0);
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] {
      for (int j = 0; j < 10; ++j) {
        absl::StatusOr<Link> link = inspector->LinkByName("eth0");
        absl::StatusOr<std::vector<Address>> addrs = inspector->Addresses();
        if (!link.ok() || !addrs.ok() || addrs->empty()) {
          return;
        }
      }
      found[i] = 1;
    });
  }
  for (std::thread& t : threads) {
    t.join();
  }
  EXPECT_THAT(found, ::testing::Each(1));
}

TEST_F(NetlinkTest, BringUpLoopback) {
  OCICNI_ASSERT_OK(BringUpLoopback(pod()));
  std::unique_ptr<Inspector> inspector = Open(pod());
  ASSERT_NE(inspector, nullptr);
  absl::StatusOr<Link> lo = inspector->LinkByName("lo");
  ASSERT_TRUE(lo.ok()) << lo.status();
  EXPECT_TRUE(lo->up);
  EXPECT_EQ(lo->index, 1);  // What BringUpLoopback relies on.
  // The kernel adds these before it acks; BringUpLoopback does not check.
  absl::StatusOr<std::vector<Address>> addrs = inspector->Addresses();
  ASSERT_TRUE(addrs.ok()) << addrs.status();
  EXPECT_THAT(*addrs, Contains(MakeAddress(*lo, AF_INET, "127.0.0.1", 8,
                                           RT_SCOPE_HOST)));
  EXPECT_THAT(*addrs,
              Contains(MakeAddress(*lo, AF_INET6, "::1", 128, RT_SCOPE_HOST)));
  // Idempotent.
  EXPECT_TRUE(BringUpLoopback(pod()).ok());
}

TEST_F(NetlinkTest, BringUpLoopbackOnAWorkerThread) {
  NamespaceWorkers workers(1);
  absl::Notification done;
  absl::Status status;
  workers.Post([&](WorkerThread& worker) {
    status = BringUpLoopback(worker, pod());
    done.Notify();
  });
  done.WaitForNotification();
  OCICNI_ASSERT_OK(status);
  std::unique_ptr<Inspector> inspector = Open(pod());
  ASSERT_NE(inspector, nullptr);
  absl::StatusOr<Link> lo = inspector->LinkByName("lo");
  ASSERT_TRUE(lo.ok()) << lo.status();
  EXPECT_TRUE(lo->up);
}

// Like the CNI loopback plugin, BringUpLoopback only sets lo up: a lo that
// is up but lost an address is left as it is.
TEST_F(NetlinkTest, BringUpLoopbackDoesNotCheckAddresses) {
  OCICNI_ASSERT_OK(BringUpLoopback(pod()));
  OCICNI_ASSERT_OK(DeleteAddressForTest(pod(), "lo", "127.0.0.1/8"));
  EXPECT_TRUE(BringUpLoopback(pod()).ok());
}

TEST_F(NetlinkTest, BringUpLoopbackWithoutCapNetAdminIsDenied) {
  testutil::RunWithoutCapabilities({CAP_NET_ADMIN}, [&] {
    EXPECT_THAT(
        BringUpLoopback(pod()),
        StatusIs(absl::StatusCode::kPermissionDenied,
                 AllOf(HasSubstr("set lo up"), HasSubstr(pod().path()))));
  });
  std::unique_ptr<Inspector> inspector = Open(pod());
  ASSERT_NE(inspector, nullptr);
  absl::StatusOr<Link> lo = inspector->LinkByName("lo");
  ASSERT_TRUE(lo.ok()) << lo.status();
  EXPECT_FALSE(lo->up);
}

TEST_F(NetlinkTest, LocalRoutesAreNotListed) {
  OCICNI_ASSERT_OK(BringUpLoopback(pod()));
  std::unique_ptr<Inspector> inspector = Open(pod());
  ASSERT_NE(inspector, nullptr);
  absl::StatusOr<std::vector<Route>> routes = inspector->Routes();
  ASSERT_TRUE(routes.ok()) << routes.status();
  // 127.0.0.0/8 and ::1 are RTN_LOCAL routes in table 255, not unicast.
  for (const Route& r : *routes) {
    EXPECT_NE(r.table, static_cast<uint32_t>(RT_TABLE_LOCAL)) << r.dst;
    EXPECT_THAT(r.dst, Not(HasSubstr("127.")));
  }
}

TEST_F(NetlinkTest, DeleteAddressRemovesOnlyThatAddress) {
  AddEth0();
  OCICNI_ASSERT_OK(DeleteAddressForTest(pod(), "eth0", "10.20.0.2/24"));
  std::unique_ptr<Inspector> inspector = Open(pod());
  ASSERT_NE(inspector, nullptr);
  absl::StatusOr<std::vector<Address>> addrs = inspector->Addresses();
  ASSERT_TRUE(addrs.ok()) << addrs.status();
  std::vector<std::string> eth0;
  for (const Address& a : *addrs) {
    if (a.ifname == "eth0" && a.scope == 0) eth0.push_back(a.address);
  }
  EXPECT_THAT(eth0, ::testing::ElementsAre("fd00:20::2"));
  absl::Status again = DeleteAddressForTest(pod(), "eth0", "10.20.0.2/24");
  EXPECT_FALSE(again.ok());
  EXPECT_THAT(std::string(again.message()), HasSubstr("10.20.0.2/24"));
  EXPECT_THAT(DeleteAddressForTest(pod(), "nope0", "10.20.0.2/24"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("nope0")));
}

TEST_F(NetlinkTest, HelperErrors) {
  EXPECT_THAT(
      AddAddressForTest(pod(), "lo", "not-an-ip"),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("not-an-ip")));
  EXPECT_THAT(AddAddressForTest(pod(), "nope0", "10.0.0.1/8"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("nope0")));
  OCICNI_ASSERT_OK(AddVethPairForTest(pod(), "veth0", "", 0, pod(), "veth1"));
  EXPECT_THAT(AddVethPairForTest(pod(), "veth0", "", 0, pod(), "veth2"),
              StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr("veth0")));
}

}  // namespace
}  // namespace ocicni::netns
