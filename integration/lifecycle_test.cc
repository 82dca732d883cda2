// A pod's life with the real plugins: several networks at once, runtime
// config reaching the plugins, CHECK catching a change behind our back, DEL
// when the namespace is gone or was already deleted, GC, and the rollback
// of a half-attached pod.
#include <unistd.h>

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "integration/harness.h"
#include "netns/netlink.h"
#include "netns/netns.h"
#include "netns/test_util.h"
#include "ocicni/ocicni.h"

namespace ocicni::integration {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::SizeIs;
using ::testing::UnorderedElementsAre;

using LifecycleTest = IntegrationTest;

constexpr char kPtpConfList[] = R"({
  "cniVersion": "1.0.0", "name": "side",
  "plugins": [{"type": "ptp", "ipMasq": false,
               "ipam": {"type": "host-local", "dataDir": "@IPAM@",
                        "ranges": [[{"subnet": "10.42.0.0/24"}]]}}]})";

TEST_F(LifecycleTest, SeveralNetworksWithDistinctInterfaces) {
  WriteConfList("10-main.conflist",
                BridgeConfList("1.0.0", "main", "cni-br40", "10.40.0.0/24"));
  WriteConfList("20-second.conflist",
                BridgeConfList("0.4.0", "second", "cni-br41", "10.41.0.0/24"));
  WriteConfList("30-side.conflist", kPtpConfList);
  std::unique_ptr<CNIPlugin> cni = Start();
  ASSERT_NE(cni, nullptr);
  TestPod pod = NewPod("multi-pod");
  // "second" gets no name: the library picks the first free ethN.
  pod.net.networks = {{"main", "eth0"}, {"side", "net1"}, {"second", ""}};

  absl::StatusOr<std::vector<NetResult>> results = cni->SetUpPod(pod.net);
  ASSERT_TRUE(results.ok()) << results.status();
  ASSERT_THAT(*results, SizeIs(3));
  EXPECT_EQ((*results)[0].ifname, "eth0");
  EXPECT_EQ((*results)[1].ifname, "net1");
  EXPECT_EQ((*results)[2].ifname, "eth1");
  EXPECT_EQ((*results)[2].result.cni_version(), "0.4.0");
  EXPECT_THAT(Addresses(pod, "eth0"), ElementsAre("10.40.0.2/24"));
  EXPECT_THAT(Addresses(pod, "net1"), ElementsAre("10.42.0.2/24"));
  EXPECT_THAT(Addresses(pod, "eth1"), ElementsAre("10.41.0.2/24"));
  EXPECT_THAT(HostLinks("veth"), SizeIs(3));
  EXPECT_THAT(CacheEntries(cache_dir()),
              UnorderedElementsAre("main-multi-pod-eth0", "side-multi-pod-net1",
                                   "second-multi-pod-eth1"));
  OCICNI_ASSERT_OK(cni->CheckPod(pod.net));

  // Teardown from the cache alone, as after a runtime restart.
  PodNetwork by_id = pod.net;
  by_id.networks.clear();
  OCICNI_ASSERT_OK(cni->TearDownPod(by_id));
  absl::StatusOr<std::vector<netns::Link>> links = PodLinks(pod.path());
  ASSERT_TRUE(links.ok());
  EXPECT_THAT(*links, SizeIs(1));
}

// True if dotted-quad `ip` lies in [first, last] (same /24 assumed).
bool InRange(const std::string& cidr, int first, int last) {
  const std::string ip = cidr.substr(0, cidr.find('/'));
  int host = 0;
  return absl::SimpleAtoi(ip.substr(ip.rfind('.') + 1), &host) &&
         host >= first && host <= last;
}

TEST_F(LifecycleTest, RuntimeConfigReachesThePlugins) {
  WriteConfList(
      "10-net.conflist",
      BridgeConfList("1.0.0", "rc", "cni-br43", "10.43.0.0/24",
                     R"({"type": "tuning", "capabilities": {"mac": true}},
             {"type": "portmap", "capabilities": {"portMappings": true},
              "snat": false})"));
  // host-local puts runtime ipRanges before its configured ranges, one
  // address per range set; a network meant for them configures none.
  WriteConfList("20-ranged.conflist", R"({
    "cniVersion": "1.0.0", "name": "ranged",
    "plugins": [{"type": "bridge", "bridge": "cni-br50", "isGateway": true,
                 "capabilities": {"ipRanges": true},
                 "ipam": {"type": "host-local", "dataDir": "@IPAM@"}}]})");
  std::unique_ptr<CNIPlugin> cni = Start();
  ASSERT_NE(cni, nullptr);

  // ips + mac + portMappings.
  TestPod fixed = NewPod("fixed-pod");
  RuntimeConfig& rc = fixed.net.runtime_config["rc"];
  rc.ip = "10.43.0.77";
  rc.mac = "02:42:0a:2b:00:4d";
  rc.port_mappings = {{18081, 8080, "tcp", ""}};
  absl::StatusOr<std::vector<NetResult>> results = cni->SetUpPod(fixed.net);
  ASSERT_TRUE(results.ok()) << results.status();
  EXPECT_THAT(Addresses(fixed), ElementsAre("10.43.0.77/24"));
  EXPECT_EQ(PodLink(fixed).mac, "02:42:0a:2b:00:4d");
  // tuning reports the MAC it set.
  EXPECT_EQ((*results)[0].result.interfaces(2).mac(), "02:42:0a:2b:00:4d");
  const std::string rules = NatRules();
  EXPECT_THAT(rules, HasSubstr("--dport 18081"));
  EXPECT_THAT(rules, HasSubstr("--to-destination 10.43.0.77:8080"));

  // ipRanges: the runtime narrows the pod to .200-.210 of 10.50.0.0/24.
  TestPod ranged = NewPod("ranged-pod");
  ranged.net.networks = {{"ranged", "eth0"}};
  ranged.net.runtime_config["ranged"].ip_ranges = {
      {{"10.50.0.0/24", "10.50.0.200", "10.50.0.210", "10.50.0.1"}}};
  results = cni->SetUpPod(ranged.net);
  ASSERT_TRUE(results.ok()) << results.status();
  std::vector<std::string> addresses = Addresses(ranged);
  ASSERT_THAT(addresses, SizeIs(1));
  EXPECT_TRUE(absl::StartsWith(addresses[0], "10.50.0.")) << addresses[0];
  EXPECT_TRUE(InRange(addresses[0], 200, 210)) << addresses[0];
  EXPECT_EQ((*results)[0].result.ips(0).address(), addresses[0]);
  EXPECT_EQ((*results)[0].result.ips(0).gateway(), "10.50.0.1");

  OCICNI_ASSERT_OK(cni->CheckPod(fixed.net));
  OCICNI_ASSERT_OK(cni->CheckPod(ranged.net));
  OCICNI_ASSERT_OK(cni->TearDownPod(fixed.net));
  OCICNI_ASSERT_OK(cni->TearDownPod(ranged.net));
  EXPECT_THAT(NatRules(), ::testing::Not(HasSubstr("10.43.0.77")));
}

TEST_F(LifecycleTest, CheckFailsWithThePluginsErrorAfterAddressRemoved) {
  WriteConfList("10-net.conflist",
                BridgeConfList("1.0.0", "chk", "cni-br44", "10.44.0.0/24"));
  std::unique_ptr<CNIPlugin> cni = Start();
  ASSERT_NE(cni, nullptr);
  TestPod pod = NewPod("check-pod");
  absl::StatusOr<std::vector<NetResult>> results = cni->SetUpPod(pod.net);
  ASSERT_TRUE(results.ok()) << results.status();
  OCICNI_ASSERT_OK(cni->CheckPod(pod.net));

  absl::StatusOr<netns::NetNS> ns = netns::NetNS::Open(pod.path());
  ASSERT_TRUE(ns.ok());
  OCICNI_ASSERT_OK(netns::DeleteAddressForTest(*ns, "eth0", "10.44.0.2/24"));
  absl::Status check = cni->CheckPod(pod.net);
  ASSERT_FALSE(check.ok());
  // The bridge plugin's own words, with its network and name attached.
  std::optional<types::Error> error = CniErrorOf(check);
  ASSERT_TRUE(error.has_value()) << check;
  EXPECT_THAT(error->msg(), HasSubstr("10.44.0.2"));
  EXPECT_THAT(std::string(check.message()), HasSubstr(error->msg()));
  ASSERT_TRUE(FailureOf(check).has_value());
  EXPECT_EQ(FailureOf(check)->network, "chk");
  EXPECT_EQ(FailureOf(check)->plugin, "bridge");
  // Status reports the same failure rather than a stale result.
  EXPECT_EQ(cni->GetPodNetworkStatus(pod.net).status().code(), check.code());

  OCICNI_ASSERT_OK(cni->TearDownPod(pod.net));
}

TEST_F(LifecycleTest, DelAfterTheNamespaceIsGoneReleasesTheAddress) {
  WriteConfList("10-net.conflist",
                BridgeConfList("1.0.0", "gone", "cni-br45", "10.45.0.0/24"));
  std::unique_ptr<CNIPlugin> cni = Start();
  ASSERT_NE(cni, nullptr);
  TestPod pod = NewPod("gone-pod");
  ASSERT_TRUE(cni->SetUpPod(pod.net).ok());
  EXPECT_THAT(HostLocalReservations(ipam_dir()), ElementsAre("gone/10.45.0.2"));

  OCICNI_ASSERT_OK(pod.DeleteNamespace());
  OCICNI_ASSERT_OK(cni->TearDownPod(pod.net));
  EXPECT_THAT(HostLocalReservations(ipam_dir()), IsEmpty());
  EXPECT_THAT(CacheEntries(cache_dir()), IsEmpty());
  // The host end of the veth goes with the namespace (asynchronously).
  EXPECT_TRUE(
      WaitFor([] { return HostLinks("veth").empty(); }, absl::Seconds(10)));
  // The address is free again (host-local would otherwise hand out the
  // next one anyway, round robin: ask for this one).
  TestPod next = NewPod("next-pod");
  next.net.runtime_config["gone"].ip = "10.45.0.2";
  absl::StatusOr<std::vector<NetResult>> results = cni->SetUpPod(next.net);
  ASSERT_TRUE(results.ok()) << results.status();
  EXPECT_EQ((*results)[0].result.ips(0).address(), "10.45.0.2/24");
  OCICNI_ASSERT_OK(cni->TearDownPod(next.net));
}

TEST_F(LifecycleTest, DelTwice) {
  WriteConfList("10-net.conflist",
                BridgeConfList("1.0.0", "twice", "cni-br46", "10.46.0.0/24",
                               R"({"type": "portmap",
                                   "capabilities": {"portMappings": true}})"));
  std::unique_ptr<CNIPlugin> cni = Start();
  ASSERT_NE(cni, nullptr);
  TestPod pod = NewPod("twice-pod");
  ASSERT_TRUE(cni->SetUpPod(pod.net).ok());
  OCICNI_ASSERT_OK(cni->TearDownPod(pod.net));
  // No cache any more: the second DEL goes to the plugins without
  // prevResult, and they find nothing to do.
  OCICNI_ASSERT_OK(cni->TearDownPod(pod.net));
  PodNetwork explicit_networks = pod.net;
  explicit_networks.networks = {{"twice", "eth0"}};
  OCICNI_ASSERT_OK(cni->TearDownPod(explicit_networks));
  // And once more after the namespace is gone.
  OCICNI_ASSERT_OK(pod.DeleteNamespace());
  OCICNI_ASSERT_OK(cni->TearDownPod(pod.net));
}

TEST_F(LifecycleTest, GcReleasesPodsOutsideTheValidSet) {
  WriteConfList("10-net.conflist",
                BridgeConfList("1.0.0", "gc", "cni-br47", "10.47.0.0/24"));
  WriteConfList("30-side.conflist", kPtpConfList);
  std::unique_ptr<CNIPlugin> cni = Start();
  ASSERT_NE(cni, nullptr);
  TestPod keep = NewPod("keep-pod");
  TestPod drop = NewPod("drop-pod");
  TestPod gone = NewPod("gone-pod");
  keep.net.networks = drop.net.networks = {{"gc", "eth0"}, {"side", "net1"}};
  for (TestPod* pod : {&keep, &drop, &gone}) {
    absl::StatusOr<std::vector<NetResult>> r = cni->SetUpPod(pod->net);
    ASSERT_TRUE(r.ok()) << pod->net.id << ": " << r.status();
  }
  EXPECT_THAT(HostLocalReservations(ipam_dir()), SizeIs(5));
  // One pod's sandbox died without a teardown.
  OCICNI_ASSERT_OK(gone.DeleteNamespace());

  // keep-pod is valid as a whole, and drop-pod's side network only.
  PodNetwork keep_all = keep.net;
  keep_all.networks.clear();
  PodNetwork drop_side = drop.net;
  drop_side.networks = {{"side", "net1"}};
  OCICNI_ASSERT_OK(cni->GC({keep_all, drop_side}));

  EXPECT_THAT(
      HostLocalReservations(ipam_dir()),
      UnorderedElementsAre("gc/10.47.0.2", "side/10.42.0.2", "side/10.42.0.3"));
  EXPECT_THAT(CacheEntries(cache_dir()),
              UnorderedElementsAre("gc-keep-pod-eth0", "side-keep-pod-net1",
                                   "side-drop-pod-net1"));
  absl::StatusOr<std::vector<netns::Link>> links = PodLinks(drop.path());
  ASSERT_TRUE(links.ok());
  EXPECT_THAT(*links, SizeIs(2)) << "lo and net1; eth0 went";
  OCICNI_ASSERT_OK(cni->CheckPod(keep.net));

  OCICNI_ASSERT_OK(cni->TearDownPod(keep.net));
  OCICNI_ASSERT_OK(cni->TearDownPod(drop_side));
  EXPECT_TRUE(
      WaitFor([] { return HostLinks("veth").empty(); }, absl::Seconds(10)));
}

// The pod's second network is ptp + host-local followed by `failing`, a
// plugin that fails ADD after the veth and the address exist.
class RollbackTest : public IntegrationTest {
 protected:
  absl::Status SetUpWithFailingSecondNetwork(absl::string_view failing) {
    WriteConfList("10-first.conflist",
                  BridgeConfList("1.0.0", "first", "cni-br48", "10.48.0.0/24"));
    WriteConfList("20-second.conflist", absl::StrCat(R"({
      "cniVersion": "1.0.0", "name": "second",
      "plugins": [
        {"type": "ptp", "ipMasq": false,
         "ipam": {"type": "host-local", "dataDir": "@IPAM@",
                  "ranges": [[{"subnet": "10.49.0.0/24"}]]}},
        )",
                                                     failing, "]}"));
    std::unique_ptr<CNIPlugin> cni = Start();
    if (cni == nullptr) return absl::InternalError("no plugin");
    pod_.emplace(NewPod("rollback-pod"));
    pod_->net.networks = {{"first", "eth0"}, {"second", "eth1"}};
    absl::StatusOr<std::vector<NetResult>> results = cni->SetUpPod(pod_->net);
    EXPECT_FALSE(results.ok());
    const absl::Status& error = results.status();
    EXPECT_TRUE(FailureOf(error).has_value()) << error;
    if (FailureOf(error).has_value()) {
      EXPECT_EQ(FailureOf(error)->network, "second");
    }
    EXPECT_TRUE(CniErrorOf(error).has_value()) << error;
    return error;
  }

  void ExpectNothingLeft() {
    ASSERT_TRUE(pod_.has_value());
    EXPECT_THAT(HostLocalReservations(ipam_dir()), IsEmpty());
    EXPECT_THAT(HostLinks("veth"), IsEmpty());
    EXPECT_THAT(CacheEntries(cache_dir()), IsEmpty());
    absl::StatusOr<std::vector<netns::Link>> links = PodLinks(pod_->path());
    ASSERT_TRUE(links.ok());
    EXPECT_THAT(*links, SizeIs(1)) << "only lo";
  }

  std::optional<TestPod> pod_;
};

TEST_F(RollbackTest, SecondNetworkFails) {
  // tuning cannot write a sysctl that does not exist.
  absl::Status error = SetUpWithFailingSecondNetwork(
      R"({"type": "tuning", "sysctl": {"net.ipv4.conf.eth1.no_such_knob": "1"}})");
  EXPECT_THAT(std::string(error.message()), HasSubstr("no_such_knob"));
  EXPECT_THAT(std::string(error.message()), HasSubstr("; rolled back"));
  EXPECT_EQ(FailureOf(error)->plugin, "tuning");
  ExpectNothingLeft();
}

TEST_F(RollbackTest, SecondNetworkFailsAddAndDel) {
  // bandwidth rejects a rate without a burst on ADD and on DEL alike; the
  // rollback still reaches ptp and host-local.
  absl::Status error = SetUpWithFailingSecondNetwork(
      R"({"type": "bandwidth", "ingressRate": 1000000})");
  EXPECT_EQ(FailureOf(error)->plugin, "bandwidth");
  EXPECT_THAT(CniErrorOf(error)->msg(), HasSubstr("burst"));
  EXPECT_THAT(std::string(error.message()), HasSubstr("; rollback failed"));
  // The failed DEL keeps the entry written before the plugins ran (the
  // configuration, no result), so that a later TearDownPod retries it.
  const std::string entry =
      absl::StrCat(cache_dir(), "/results/second-rollback-pod-eth1");
  EXPECT_THAT(CacheEntries(cache_dir()),
              ElementsAre("second-rollback-pod-eth1"));
  EXPECT_THAT(ReadFile(entry), Not(HasSubstr("\"result\"")));
  ::unlink(entry.c_str());
  ExpectNothingLeft();
}

}  // namespace
}  // namespace ocicni::integration
