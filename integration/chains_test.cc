// Plugin chains of Debian's containernetworking-plugins driven through the
// library, one chain per test, checked inside the pod's namespace and in the
// host namespace, and torn down without a trace (IntegrationTest::TearDown).
#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "integration/harness.h"
#include "netns/netlink.h"
#include "netns/netns.h"
#include "netns/test_util.h"
#include "ocicni/ocicni.h"
#include "testing/files.h"
#include "types/json.h"

namespace ocicni::integration {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::SizeIs;

using ChainsTest = IntegrationTest;

TEST_F(ChainsTest, BridgeHostLocal) {
  WriteConfList("10-net.conflist",
                BridgeConfList("1.0.0", "net", "cni-br0", "10.11.0.0/24"));
  std::unique_ptr<CNIPlugin> cni = Start();
  ASSERT_NE(cni, nullptr);
  TestPod pod = NewPod("bridge-pod");

  absl::StatusOr<std::vector<NetResult>> results = cni->SetUpPod(pod.net);
  ASSERT_TRUE(results.ok()) << results.status();
  ASSERT_THAT(*results, SizeIs(1));
  const NetResult& r = (*results)[0];
  EXPECT_EQ(r.network, "net");
  EXPECT_EQ(r.ifname, "eth0");
  EXPECT_EQ(r.result.cni_version(), "1.0.0");
  // bridge reports the bridge, the host-side veth and eth0 in the sandbox.
  ASSERT_THAT(r.result.interfaces(), SizeIs(3));
  EXPECT_EQ(r.result.interfaces(0).name(), "cni-br0");
  EXPECT_EQ(r.result.interfaces(2).name(), "eth0");
  EXPECT_EQ(r.result.interfaces(2).sandbox(), pod.path());
  ASSERT_THAT(r.result.ips(), SizeIs(1));
  EXPECT_EQ(r.result.ips(0).address(), "10.11.0.2/24");
  EXPECT_EQ(r.result.ips(0).gateway(), "10.11.0.1");
  EXPECT_EQ(r.result.ips(0).interface(), 2);

  // What the result says is what the namespace has.
  const netns::Link eth0 = PodLink(pod);
  EXPECT_EQ(eth0.kind, "veth");
  EXPECT_TRUE(eth0.up);
  EXPECT_EQ(eth0.mac, r.result.interfaces(2).mac());
  EXPECT_THAT(Addresses(pod), ElementsAre("10.11.0.2/24"));
  // The library brought lo up.
  absl::StatusOr<std::vector<netns::Link>> links = PodLinks(pod.path());
  ASSERT_TRUE(links.ok());
  EXPECT_TRUE(links->front().up) << links->front().name;
  EXPECT_THAT(HostLinks("bridge"), Contains("cni-br0"));
  EXPECT_THAT(HostLinks("veth"), ElementsAre(r.result.interfaces(1).name()));
  EXPECT_THAT(HostLocalReservations(ipam_dir()), ElementsAre("net/10.11.0.2"));
  EXPECT_THAT(CacheEntries(cache_dir()), ElementsAre("net-bridge-pod-eth0"));

  absl::StatusOr<std::vector<NetResult>> status =
      cni->GetPodNetworkStatus(pod.net);
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_EQ(types::WriteMessage((*status)[0].result),
            types::WriteMessage(r.result));

  OCICNI_ASSERT_OK(cni->TearDownPod(pod.net));
  links = PodLinks(pod.path());
  ASSERT_TRUE(links.ok());
  EXPECT_THAT(*links, SizeIs(1)) << "only lo stays";
}

TEST_F(ChainsTest, BridgePortmap) {
  WriteConfList(
      "10-net.conflist",
      BridgeConfList(
          "1.0.0", "pm", "cni-br1", "10.12.0.0/24",
          R"({"type": "portmap", "capabilities": {"portMappings": true},
                         "snat": false})"));
  std::unique_ptr<CNIPlugin> cni = Start();
  ASSERT_NE(cni, nullptr);
  TestPod pod = NewPod("portmap-pod");
  pod.net.runtime_config["pm"].port_mappings = {{18080, 80, "tcp", ""},
                                                {15353, 53, "udp", ""}};

  absl::StatusOr<std::vector<NetResult>> results = cni->SetUpPod(pod.net);
  if (!results.ok() && IsNotSupportedByKernel(results.status())) {
    ReportFeatureSkipped("portmap", results.status().message());
    return;
  }
  ASSERT_TRUE(results.ok()) << results.status();
  // portmap passes bridge's result on.
  EXPECT_EQ((*results)[0].result.ips(0).address(), "10.12.0.2/24");
  const std::string rules = NatRules();
  EXPECT_THAT(rules, HasSubstr("CNI-HOSTPORT-DNAT"));
  EXPECT_THAT(rules, HasSubstr("--dport 18080"));
  EXPECT_THAT(rules, HasSubstr("--to-destination 10.12.0.2:80"));
  EXPECT_THAT(rules, HasSubstr("--dport 15353"));
  EXPECT_THAT(rules, HasSubstr("--to-destination 10.12.0.2:53"));

  OCICNI_ASSERT_OK(cni->CheckPod(pod.net));

  // With ip6tables on PATH, Debian 12's portmap fails CHECK of this
  // IPv4-only pod (containernetworking/plugins#819); a fixed portmap passes.
  setenv("PATH", kSbinPath, 1);
  std::unique_ptr<CNIPlugin> with_ip6tables = Start();
  setenv("PATH", absl::StrCat(kIpv4ToolsDir, ":", kBinPath).c_str(), 1);
  ASSERT_NE(with_ip6tables, nullptr);
  absl::Status check = with_ip6tables->CheckPod(pod.net);
  if (!check.ok()) {
    ASSERT_TRUE(FailureOf(check).has_value()) << check;
    EXPECT_EQ(FailureOf(check)->plugin, "portmap") << check;
    EXPECT_THAT(std::string(check.message()),
                HasSubstr("could not check ipv6 dnat"));
    ReportFeatureSkipped(
        "portmap_check_with_ip6tables",
        absl::StrCat("known portmap bug (containernetworking/plugins#819): ",
                     check.message()));
  }

  OCICNI_ASSERT_OK(cni->TearDownPod(pod.net));
  EXPECT_THAT(NatRules(), Not(HasSubstr("10.12.0.2")));
}

TEST_F(ChainsTest, BridgeTuning) {
  WriteConfList(
      "10-net.conflist",
      BridgeConfList("1.0.0", "tuned", "cni-br2", "10.13.0.0/24",
                     R"({"type": "tuning", "mtu": 1400, "promisc": true,
                         "sysctl": {"net.ipv4.conf.eth0.arp_notify": "1"}})"));
  std::unique_ptr<CNIPlugin> cni = Start();
  ASSERT_NE(cni, nullptr);
  TestPod pod = NewPod("tuning-pod");

  absl::StatusOr<std::vector<NetResult>> results = cni->SetUpPod(pod.net);
  ASSERT_TRUE(results.ok()) << results.status();
  EXPECT_EQ(PodLink(pod).mtu, 1400u);
  absl::StatusOr<std::string> arp_notify =
      ReadFileIn(pod.path(), "/proc/sys/net/ipv4/conf/eth0/arp_notify");
  ASSERT_TRUE(arp_notify.ok()) << arp_notify.status();
  EXPECT_EQ(*arp_notify, "1\n");
  // The host's own setting is untouched.
  EXPECT_EQ(ReadFile("/proc/sys/net/ipv4/conf/all/arp_notify"), "0\n");

  OCICNI_ASSERT_OK(cni->CheckPod(pod.net));
  OCICNI_ASSERT_OK(cni->TearDownPod(pod.net));
}

TEST_F(ChainsTest, BridgeBandwidth) {
  WriteConfList(
      "10-net.conflist",
      BridgeConfList(
          "1.0.0", "bw", "cni-br3", "10.14.0.0/24",
          R"({"type": "bandwidth", "capabilities": {"bandwidth": true}})"));
  std::unique_ptr<CNIPlugin> cni = Start();
  ASSERT_NE(cni, nullptr);
  TestPod pod = NewPod("bandwidth-pod");
  BandwidthConfig bw;
  bw.ingress_rate = 8'000'000;
  bw.ingress_burst = 800'000;
  bw.egress_rate = 4'000'000;
  bw.egress_burst = 400'000;
  pod.net.runtime_config["bw"].bandwidth = bw;

  absl::StatusOr<std::vector<NetResult>> results = cni->SetUpPod(pod.net);
  if (!results.ok() && IsNotSupportedByKernel(results.status())) {
    ReportFeatureSkipped("bandwidth", results.status().message());
    return;  // TearDown still checks that the failed ADD left nothing.
  }
  ASSERT_TRUE(results.ok()) << results.status();
  // Egress shaping goes through an ifb device on the host.
  EXPECT_THAT(HostLinks("ifb"), SizeIs(1));
  OCICNI_ASSERT_OK(cni->CheckPod(pod.net));
  OCICNI_ASSERT_OK(cni->TearDownPod(pod.net));
  EXPECT_THAT(HostLinks("ifb"), IsEmpty());
}

TEST_F(ChainsTest, PtpHostLocal) {
  WriteConfList("10-ptp.conflist", R"({
    "cniVersion": "1.0.0", "name": "p2p",
    "plugins": [{"type": "ptp", "ipMasq": false, "mtu": 1450,
                 "ipam": {"type": "host-local", "dataDir": "@IPAM@",
                          "ranges": [[{"subnet": "10.15.0.0/24"}]],
                          "routes": [{"dst": "0.0.0.0/0"}]}}]})");
  std::unique_ptr<CNIPlugin> cni = Start();
  ASSERT_NE(cni, nullptr);
  TestPod pod = NewPod("ptp-pod");
  const std::vector<std::string> bridges = HostLinks("bridge");

  absl::StatusOr<std::vector<NetResult>> results = cni->SetUpPod(pod.net);
  ASSERT_TRUE(results.ok()) << results.status();
  const types::Result& r = (*results)[0].result;
  ASSERT_THAT(r.ips(), SizeIs(1));
  EXPECT_EQ(r.ips(0).address(), "10.15.0.2/24");
  EXPECT_THAT(Addresses(pod), ElementsAre("10.15.0.2/24"));
  EXPECT_EQ(PodLink(pod).mtu, 1450u);
  // ptp routes everything through the gateway on the host side.
  EXPECT_THAT(HostLinks("veth"), SizeIs(1));
  EXPECT_EQ(HostLinks("bridge"), bridges) << "ptp makes no bridge";
  OCICNI_ASSERT_OK(cni->CheckPod(pod.net));
  OCICNI_ASSERT_OK(cni->TearDownPod(pod.net));
}

// Parent links for macvlan and ipvlan: one end of a veth pair in the host
// namespace, its peer in a namespace of its own (the kernel here has no dummy
// driver). Deleting that namespace destroys the pair.
class VlanParent {
 public:
  explicit VlanParent(TestPod peer) : peer_(std::move(peer)) {
    absl::StatusOr<netns::NetNS> host = netns::NetNS::Current();
    absl::StatusOr<netns::NetNS> peer_ns = netns::NetNS::Open(peer_.path());
    EXPECT_TRUE(host.ok() && peer_ns.ok());
    if (!host.ok() || !peer_ns.ok()) return;
    OCICNI_EXPECT_OK(
        netns::AddVethPairForTest(*host, "parent0", "", 0, *peer_ns, "wire0"));
    OCICNI_EXPECT_OK(netns::SetLinkUpForTest(*host, "parent0"));
  }
  ~VlanParent() {
    OCICNI_EXPECT_OK(peer_.DeleteNamespace());
    EXPECT_TRUE(
        WaitFor([] { return HostLinks("veth").empty(); }, absl::Seconds(10)))
        << "parent0 outlived its peer's namespace";
  }

 private:
  TestPod peer_;
};

TEST_F(ChainsTest, MacvlanAndIpvlanOnVethParent) {
  VlanParent parent(NewPod("parent-peer"));
  WriteConfList("10-macvlan.conflist", R"({
    "cniVersion": "1.0.0", "name": "mv",
    "plugins": [{"type": "macvlan", "master": "parent0", "mode": "bridge",
                 "ipam": {"type": "host-local", "dataDir": "@IPAM@",
                          "ranges": [[{"subnet": "10.16.0.0/24"}]]}}]})");
  WriteConfList("20-ipvlan.conflist", R"({
    "cniVersion": "1.0.0", "name": "iv",
    "plugins": [{"type": "ipvlan", "master": "parent0", "mode": "l2",
                 "ipam": {"type": "host-local", "dataDir": "@IPAM@",
                          "ranges": [[{"subnet": "10.17.0.0/24"}]]}}]})");
  std::unique_ptr<CNIPlugin> cni = Start();
  ASSERT_NE(cni, nullptr);
  TestPod pod = NewPod("vlan-pod");
  pod.net.networks = {{"mv", "eth0"}};
  absl::StatusOr<std::vector<NetResult>> results = cni->SetUpPod(pod.net);
  ASSERT_TRUE(results.ok()) << results.status();
  EXPECT_EQ(PodLink(pod).kind, "macvlan");
  EXPECT_THAT(Addresses(pod), ElementsAre("10.16.0.2/24"));
  EXPECT_EQ(PodLink(pod).mac, (*results)[0].result.interfaces(0).mac());
  OCICNI_EXPECT_OK(cni->CheckPod(pod.net));
  OCICNI_EXPECT_OK(cni->TearDownPod(pod.net));
  EXPECT_THAT(HostLocalReservations(ipam_dir()), IsEmpty());

  pod.net.networks = {{"iv", "eth0"}};
  results = cni->SetUpPod(pod.net);
  if (!results.ok() && IsNotSupportedByKernel(results.status())) {
    ReportFeatureSkipped("ipvlan", results.status().message());
    // The failed ADD was rolled back: nothing allocated, no link left.
    EXPECT_THAT(std::string(results.status().message()),
                HasSubstr("rolled back"));
    absl::StatusOr<std::vector<netns::Link>> links = PodLinks(pod.path());
    ASSERT_TRUE(links.ok());
    EXPECT_THAT(*links, SizeIs(1));
    return;
  }
  ASSERT_TRUE(results.ok()) << results.status();
  EXPECT_EQ(PodLink(pod).kind, "ipvlan");
  EXPECT_THAT(Addresses(pod), ElementsAre("10.17.0.2/24"));
  OCICNI_EXPECT_OK(cni->CheckPod(pod.net));
  OCICNI_EXPECT_OK(cni->TearDownPod(pod.net));
}

TEST_F(ChainsTest, LoopbackPlugin) {
  WriteConfList("00-lo.conflist", R"({
    "cniVersion": "1.0.0", "name": "lo-net",
    "plugins": [{"type": "loopback"}]})");
  // The plugin, not the library, brings lo up here.
  std::unique_ptr<CNIPlugin> cni = Start(/*bring_up_loopback=*/false);
  ASSERT_NE(cni, nullptr);
  TestPod pod = NewPod("lo-pod");
  pod.net.networks = {{"lo-net", "lo"}};

  auto lo_up = [&] {
    absl::StatusOr<std::vector<netns::Link>> links = PodLinks(pod.path());
    EXPECT_TRUE(links.ok()) << links.status();
    return links.ok() && links->front().name == "lo" && links->front().up;
  };
  EXPECT_FALSE(lo_up());
  absl::StatusOr<std::vector<NetResult>> results = cni->SetUpPod(pod.net);
  ASSERT_TRUE(results.ok()) << results.status();
  EXPECT_TRUE(lo_up());
  const types::Result& r = (*results)[0].result;
  ASSERT_THAT(r.interfaces(), SizeIs(1));
  EXPECT_EQ(r.interfaces(0).name(), "lo");
  EXPECT_EQ(r.interfaces(0).sandbox(), pod.path());
  std::vector<std::string> ips;
  for (const types::IPConfig& ip : r.ips()) ips.push_back(ip.address());
  EXPECT_THAT(ips, Contains("127.0.0.1/8"));

  OCICNI_ASSERT_OK(cni->CheckPod(pod.net));
  OCICNI_ASSERT_OK(cni->TearDownPod(pod.net));
  EXPECT_FALSE(lo_up());
}

// The same chain at every cniVersion the Debian plugins speak in the
// current format: results come back in the config's version, the cache
// holds them in that version, CHECK runs from 0.4.0 on, and DEL works with
// (0.4.0+) and without (0.3.1) prevResult.
class VersionsTest : public IntegrationTest,
                     public ::testing::WithParamInterface<const char*> {};

TEST_P(VersionsTest, BridgePortmapAtVersion) {
  const std::string version = GetParam();
  WriteConfList(
      "10-net.conflist",
      BridgeConfList(
          version, "v", "cni-br5", "10.18.0.0/24",
          R"({"type": "portmap", "capabilities": {"portMappings": true},
                         "snat": false})"));
  std::unique_ptr<CNIPlugin> cni = Start();
  ASSERT_NE(cni, nullptr);
  TestPod pod = NewPod("version-pod");
  pod.net.runtime_config["v"].port_mappings = {{18090, 90, "tcp", ""}};

  absl::StatusOr<std::vector<NetResult>> results = cni->SetUpPod(pod.net);
  ASSERT_TRUE(results.ok()) << results.status();
  const types::Result& r = (*results)[0].result;
  EXPECT_EQ(r.cni_version(), version);
  ASSERT_THAT(r.ips(), SizeIs(1));
  EXPECT_EQ(r.ips(0).address(), "10.18.0.2/24");
  EXPECT_EQ(r.ips(0).gateway(), "10.18.0.1");
  EXPECT_EQ(r.ips(0).interface(), 2);
  // ips[].version exists before 1.0.0 only.
  EXPECT_EQ(r.ips(0).version(), version == "1.0.0" ? "" : "4");
  ASSERT_THAT(r.interfaces(), SizeIs(3));
  EXPECT_EQ(r.interfaces(2).sandbox(), pod.path());
  ASSERT_THAT(r.routes(), SizeIs(1));
  EXPECT_EQ(r.routes(0).dst(), "0.0.0.0/0");
  EXPECT_THAT(Addresses(pod), ElementsAre("10.18.0.2/24"));

  // The cache holds the result in the config's version.
  const std::string cached = testutil::ReadFileOnceItHas(
      absl::StrCat(cache_dir(), "/results/v-version-pod-eth0"), "\"result\":");
  EXPECT_THAT(cached, HasSubstr(absl::StrCat(R"("result":{"cniVersion":")",
                                             version, "\"")));
  absl::StatusOr<std::vector<NetResult>> status =
      cni->GetPodNetworkStatus(pod.net);
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_EQ(types::WriteMessage((*status)[0].result), types::WriteMessage(r));
  OCICNI_ASSERT_OK(cni->CheckPod(pod.net));
  OCICNI_ASSERT_OK(cni->TearDownPod(pod.net));
}

INSTANTIATE_TEST_SUITE_P(CniVersions, VersionsTest,
                         ::testing::Values("0.3.1", "0.4.0", "1.0.0"),
                         [](const ::testing::TestParamInfo<const char*>& p) {
                           std::string name = p.param;
                           std::replace(name.begin(), name.end(), '.', '_');
                           return name;
                         });

}  // namespace
}  // namespace ocicni::integration
