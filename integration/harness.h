// The integration suite's harness: the library against Debian's real CNI
// plugins (/usr/lib/cni) in real network namespaces.
//
// Every test binary of the suite uses harness_main.cc, which, when running
// as root, first moves the whole process into a network namespace and a
// mount namespace of its own (EnterPrivateHost). That namespace is the
// "host" the plugins see: bridges, host-side veths, iptables rules and ifb
// devices land there, and /run is a private tmpfs mount, so no test
// can touch the machine's interfaces, iptables, /run/netns or /run/cni even
// when run outside Bazel's linux-sandbox. Pod namespaces, host-local's
// dataDir and the result cache live in the test's own directory under
// $TEST_TMPDIR.
//
//   class MyTest : public integration::IntegrationTest {};
//   TEST_F(MyTest, Bridge) {
//     WriteConfList("10-net.conflist", BridgeConfList("1.0.0", "net", ...));
//     std::unique_ptr<CNIPlugin> cni = Start();
//     TestPod pod = NewPod("p1");
//     auto results = cni->SetUpPod(pod.net);
//     ...
//   }
//
// IntegrationTest::TearDown checks that the test left nothing behind: no
// host-local reservation, no cache entry, no veth in the host namespace and
// no child process.
#ifndef OCICNI_INTEGRATION_HARNESS_H_
#define OCICNI_INTEGRATION_HARNESS_H_

#include <sys/types.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "netns/inspector.h"
#include "ocicni/ocicni.h"

// OCICNI_EXPECT_OK expects `expr` (an absl::Status) to be OK, printing it
// otherwise.
#define OCICNI_EXPECT_OK(expr)                                        \
  do {                                                                \
    const ::absl::Status ocicni_expect_status_ = (expr);              \
    EXPECT_TRUE(ocicni_expect_status_.ok()) << ocicni_expect_status_; \
  } while (false)

namespace ocicni::integration {

// kPluginDir is where Debian's containernetworking-plugins live.
inline constexpr char kPluginDir[] = "/usr/lib/cni";

// PATH of the suite's processes (and so of the plugins): the usual bin dirs
// and kIpv4ToolsDir, which offers iptables, iptables-save and
// iptables-restore but no ip6tables, as on a node without IPv6 iptables.
// The reason is a bug in the portmap plugin Debian 12 ships (1.1.1,
// containernetworking/plugins#819, fixed upstream later): its CHECK looks
// for ip6tables rules even for an IPv4-only pod whenever ip6tables works, so
// CHECK after a good ADD fails. The suite's pods are IPv4-only;
// ChainsTest.BridgePortmap shows the bug with kSbinPath.
inline constexpr char kIpv4ToolsDir[] = "/run/ocicni-ipv4-tools";
inline constexpr char kBinPath[] = "/usr/local/bin:/usr/bin:/bin";
inline constexpr char kSbinPath[] =
    "/usr/local/sbin:/usr/sbin:/sbin:/usr/local/bin:/usr/bin:/bin";

// EnterPrivateHost moves the calling process into new network and mount
// namespaces: makes every mount private, mounts a fresh tmpfs on /run,
// brings lo up, sets PATH as above and drops CNI_ARGS. Must run before
// any thread is started (namespaces are per thread). Needs root.
absl::Status EnterPrivateHost();

// ReportFeatureSkipped prints (and records as a test property) that one
// feature of a test was not exercised, and why.
void ReportFeatureSkipped(absl::string_view feature, absl::string_view reason);

// IsNotSupportedByKernel reports whether a plugin failure says the kernel
// lacks what was asked for (a link kind, a qdisc), as opposed to any other
// failure.
bool IsNotSupportedByKernel(const absl::Status& status);

// --- Inspection. ---------------------------------------------------------

// HostLocalReservations lists host-local's reserved addresses under
// `data_dir` as "<network>/<ip>".
std::vector<std::string> HostLocalReservations(const std::string& data_dir);

// CacheEntries lists the names in `cache_dir`/results, except the library's
// hidden `.spares` directory (spares kept for reuse, writes in flight).
std::vector<std::string> CacheEntries(const std::string& cache_dir);

// HostLinks lists the links of the host namespace (this process's) whose
// kind is `kind` ("veth", "bridge", "ifb"; empty = all), by name.
std::vector<std::string> HostLinks(absl::string_view kind);

// PodLinks opens the namespace at `netns` and returns its links.
absl::StatusOr<std::vector<netns::Link>> PodLinks(const std::string& netns);

// PodAddresses lists the global addresses ("10.1.0.2/24") of `ifname` in the
// namespace at `netns`.
absl::StatusOr<std::vector<std::string>> PodAddresses(const std::string& netns,
                                                      absl::string_view ifname);

// ReadFileIn reads `path` (e.g. under /proc/sys/net) from a thread inside
// the namespace at `netns`.
absl::StatusOr<std::string> ReadFileIn(const std::string& netns,
                                       const std::string& path);

// ChildProcesses lists this process's children (live or zombie).
std::vector<pid_t> ChildProcesses();

// OpenFdCount counts this process's open file descriptors.
int OpenFdCount();

// LowestFdCount is the lowest OpenFdCount seen over `window` (read every
// 10 ms), or the first one at or below `enough`: the process's own fds
// without those the library's background work holds for a moment. The
// result cache's worker keeps a file open while it commits it, and
// TearDownPod does not wait for that commit.
int LowestFdCount(absl::Duration window, int enough = -1);

// RunCommand runs argv (no shell) and returns its stdout; an error if it
// cannot start or exits non-zero.
absl::StatusOr<std::string> RunCommand(const std::vector<std::string>& argv);

// WaitFor polls `done` every 10 ms until it is true or `timeout` passes.
bool WaitFor(const std::function<bool()>& done, absl::Duration timeout);

// ReadFile returns the contents of `path` ("" if it cannot be read).
std::string ReadFile(const std::string& path);

// --- Configs. -------------------------------------------------------------

// BridgeConfList returns a conflist at `version` named `name`: a bridge
// (`bridge`, gateway, no masquerade) with host-local on `subnet` storing
// under "@IPAM@" (replaced by WriteConfList), followed by `extra_plugins`
// (JSON objects, comma-separated, may be empty). The bridge declares the
// ips and ipRanges capabilities.
std::string BridgeConfList(absl::string_view version, absl::string_view name,
                           absl::string_view bridge, absl::string_view subnet,
                           absl::string_view extra_plugins = "");

// --- Pods. ----------------------------------------------------------------

// TestPod is a pod whose network namespace the test created; the namespace
// is deleted when the TestPod is destroyed (unless DeleteNamespace ran).
class TestPod {
 public:
  TestPod(const std::string& netns_path, absl::string_view name);
  ~TestPod();
  TestPod(TestPod&& other);
  TestPod& operator=(TestPod&&) = delete;

  const absl::Status& status() const { return status_; }
  const std::string& path() const { return net.netns; }

  // DeleteNamespace removes the namespace now (as a runtime does when the
  // sandbox dies before its network was torn down).
  absl::Status DeleteNamespace();

  // What the test hands to the library; net.netns is the namespace's path.
  PodNetwork net;

 private:
  absl::Status status_;
  bool deleted_ = false;
};

// IntegrationTest is the fixture of every test: a directory of its own under
// $TEST_TMPDIR with conf dir, cache dir, host-local dataDir and pod
// namespaces.
class IntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  // WriteConfList writes `json` as conf_dir/`file`, with every "@IPAM@"
  // replaced by ipam_dir().
  void WriteConfList(absl::string_view file, absl::string_view json);

  // Start makes a CNIPlugin over this test's dirs and the real plugins
  // (watch off, loopback brought up by the library unless told otherwise).
  std::unique_ptr<CNIPlugin> Start(bool bring_up_loopback = true);

  // NewPod creates a pod namespace named `name` (also the pod's name and,
  // with this test's prefix, its container ID).
  TestPod NewPod(absl::string_view name);

  // PodLink returns link `ifname` of `pod` (a failure when it is missing).
  netns::Link PodLink(const TestPod& pod, absl::string_view ifname = "eth0");

  // Addresses lists the global addresses of `ifname` in `pod`.
  std::vector<std::string> Addresses(const TestPod& pod,
                                     absl::string_view ifname = "eth0");

  // NatRules is `iptables -t nat -S` in the host namespace.
  std::string NatRules();

  // Leftovers describes what the test left behind ("" when nothing):
  // host-local reservations, cache entries, host veths, child processes.
  std::string Leftovers() const;

  const std::string& root() const { return root_; }
  const std::string& conf_dir() const { return conf_dir_; }
  const std::string& cache_dir() const { return cache_dir_; }
  const std::string& ipam_dir() const { return ipam_dir_; }

 private:
  std::string root_, conf_dir_, cache_dir_, ipam_dir_, pods_dir_;
};

}  // namespace ocicni::integration

#endif  // OCICNI_INTEGRATION_HARNESS_H_
