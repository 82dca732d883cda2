#include "integration/harness.h"

#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <spawn.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "base/posix.h"
#include "base/status_macros.h"
#include "netns/lifecycle.h"
#include "netns/netlink.h"
#include "netns/netns.h"
#include "netns/run_in.h"
#include "netns/test_util.h"

namespace ocicni::integration {
namespace {

std::vector<std::string> ListDir(const std::string& dir) {
  std::vector<std::string> names;
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return names;
  while (dirent* e = readdir(d)) {
    std::string name = e->d_name;
    if (name != "." && name != "..") names.push_back(std::move(name));
  }
  closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

absl::Status MakeDir(const std::string& path) {
  if (mkdir(path.c_str(), 0755) != 0 && errno != EEXIST) {
    return ErrnoToStatus(errno, absl::StrCat("mkdir ", path));
  }
  return absl::OkStatus();
}

absl::Status MountTmpfs(const char* where) {
  if (mount("tmpfs", where, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") != 0) {
    return ErrnoToStatus(errno, absl::StrCat("mount tmpfs on ", where));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status EnterPrivateHost() {
  if (unshare(CLONE_NEWNET | CLONE_NEWNS) != 0) {
    return ErrnoToStatus(errno, "unshare(CLONE_NEWNET | CLONE_NEWNS)");
  }
  // Nothing mounted from here on propagates to the namespace we came from.
  if (mount("none", "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
    return ErrnoToStatus(errno, "making / private");
  }
  // The tuning plugin keeps backups in /run/cni/tuning and iptables takes
  // its lock in /run; nothing of ours needs the machine's /run. (/tmp stays:
  // the checkout, and so the runfiles' targets, may live there.)
  OCICNI_RETURN_IF_ERROR(MountTmpfs("/run"));
  absl::StatusOr<netns::NetNS> self = netns::NetNS::Current();
  if (!self.ok()) return self.status();
  OCICNI_RETURN_IF_ERROR(netns::BringUpLoopback(*self));
  // PATH: the plugins inherit this process's environment, and portmap runs
  // iptables from PATH (Bazel's strict action environment has no sbin dir).
  // Only the IPv4 iptables tools are offered, as on a node without
  // ip6tables: see kSbinPath in harness.h for why.
  OCICNI_RETURN_IF_ERROR(MakeDir(kIpv4ToolsDir));
  for (const char* tool : {"iptables", "iptables-save", "iptables-restore"}) {
    const std::string target = absl::StrCat("/usr/sbin/", tool);
    const std::string link = absl::StrCat(kIpv4ToolsDir, "/", tool);
    if (symlink(target.c_str(), link.c_str()) != 0) {
      return ErrnoToStatus(errno, absl::StrCat("symlink ", link));
    }
  }
  setenv("PATH", absl::StrCat(kIpv4ToolsDir, ":", kBinPath).c_str(), 1);
  // The library passes its own CNI_ARGS on to plugins; the runner's have no
  // business there.
  unsetenv("CNI_ARGS");
  return absl::OkStatus();
}

void ReportFeatureSkipped(absl::string_view feature, absl::string_view reason) {
  std::cout << "[ FEATURE SKIPPED ] " << feature << ": " << reason << std::endl;
  ::testing::Test::RecordProperty(absl::StrCat("skipped_", feature),
                                  std::string(reason));
}

bool IsNotSupportedByKernel(const absl::Status& status) {
  const std::string message = absl::AsciiStrToLower(status.message());
  // EOPNOTSUPP as Go spells it (what rtnetlink answers for a link kind the
  // kernel was built without), and as iproute2 spells it.
  return absl::StrContains(message, "operation not supported") ||
         absl::StrContains(message, "unknown device type");
}

std::vector<std::string> HostLocalReservations(const std::string& data_dir) {
  std::vector<std::string> out;
  for (const std::string& network : ListDir(data_dir)) {
    for (const std::string& name : ListDir(data_dir + "/" + network)) {
      // Besides one file per reserved address, host-local keeps "lock" and
      // "last_reserved_ip.<range set>".
      if (name == "lock" || absl::StartsWith(name, "last_reserved_ip")) {
        continue;
      }
      out.push_back(absl::StrCat(network, "/", name));
    }
  }
  return out;
}

std::vector<std::string> CacheEntries(const std::string& cache_dir) {
  std::vector<std::string> out;
  for (std::string& name : ListDir(cache_dir + "/results")) {
    // The hidden `.spares` directory is the library's own: spares kept for
    // reuse, and entries being written in the background (the next entry,
    // until it is renamed into place). It is tested in
    // ocicni/result_cache_test.
    if (name == ".spares") continue;
    out.push_back(std::move(name));
  }
  return out;
}

std::vector<std::string> HostLinks(absl::string_view kind) {
  std::vector<std::string> out;
  absl::StatusOr<netns::NetNS> self = netns::NetNS::Current();
  if (!self.ok()) {
    ADD_FAILURE() << self.status();
    return out;
  }
  absl::StatusOr<std::unique_ptr<netns::Inspector>> inspector =
      netns::OpenInspector(*self);
  if (!inspector.ok()) {
    ADD_FAILURE() << inspector.status();
    return out;
  }
  absl::StatusOr<std::vector<netns::Link>> links = (*inspector)->Links();
  if (!links.ok()) {
    ADD_FAILURE() << links.status();
    return out;
  }
  for (const netns::Link& link : *links) {
    if (kind.empty() || link.kind == kind) out.push_back(link.name);
  }
  return out;
}

absl::StatusOr<std::vector<netns::Link>> PodLinks(const std::string& netns) {
  OCICNI_ASSIGN_OR_RETURN(netns::NetNS ns, netns::NetNS::Open(netns));
  OCICNI_ASSIGN_OR_RETURN(std::unique_ptr<netns::Inspector> inspector,
                          netns::OpenInspector(ns));
  return inspector->Links();
}

absl::StatusOr<std::vector<std::string>> PodAddresses(
    const std::string& netns, absl::string_view ifname) {
  OCICNI_ASSIGN_OR_RETURN(netns::NetNS ns, netns::NetNS::Open(netns));
  OCICNI_ASSIGN_OR_RETURN(std::unique_ptr<netns::Inspector> inspector,
                          netns::OpenInspector(ns));
  OCICNI_ASSIGN_OR_RETURN(std::vector<netns::Address> addresses,
                          inspector->Addresses());
  std::vector<std::string> out;
  for (const netns::Address& a : addresses) {
    if (a.ifname == ifname && a.scope == 0) {
      out.push_back(absl::StrCat(a.address, "/", a.prefix_len));
    }
  }
  return out;
}

absl::StatusOr<std::string> ReadFileIn(const std::string& netns,
                                       const std::string& path) {
  OCICNI_ASSIGN_OR_RETURN(netns::NetNS ns, netns::NetNS::Open(netns));
  return netns::RunIn(ns, [&]() -> absl::StatusOr<std::string> {
    std::ifstream in(path);
    if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  });
}

std::vector<pid_t> ChildProcesses() {
  std::vector<pid_t> out;
  const std::string self = absl::StrCat(getpid());
  for (const std::string& name : ListDir("/proc")) {
    int pid = 0;
    if (!absl::SimpleAtoi(name, &pid)) continue;
    // /proc/PID/stat: "pid (comm) state ppid ..."; comm may hold spaces.
    const std::string stat = ReadFile(absl::StrCat("/proc/", name, "/stat"));
    const size_t paren = stat.rfind(')');
    if (paren == std::string::npos) continue;
    std::vector<absl::string_view> fields =
        absl::StrSplit(absl::string_view(stat).substr(paren + 2), ' ');
    if (fields.size() > 1 && fields[1] == self) out.push_back(pid);
  }
  return out;
}

int OpenFdCount() { return static_cast<int>(ListDir("/proc/self/fd").size()); }

int LowestFdCount(absl::Duration window, int enough) {
  int lowest = OpenFdCount();
  for (const absl::Time end = absl::Now() + window;
       lowest > enough && absl::Now() < end;) {
    absl::SleepFor(absl::Milliseconds(10));
    lowest = std::min(lowest, OpenFdCount());
  }
  return lowest;
}

absl::StatusOr<std::string> RunCommand(const std::vector<std::string>& argv) {
  OCICNI_ASSIGN_OR_RETURN(auto pipe, MakePipe(O_CLOEXEC));
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pipe.second.get(), 1);
  std::vector<char*> args;
  for (const std::string& a : argv)
    args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  int err =
      posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (err != 0) return ErrnoToStatus(err, absl::StrCat("spawn ", argv[0]));
  pipe.second.reset();
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n =
        RetryOnEintr([&] { return read(pipe.first.get(), buf, sizeof(buf)); });
    if (n <= 0) break;
    out.append(buf, n);
  }
  int status = 0;
  RetryOnEintr([&] { return waitpid(pid, &status, 0); });
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return absl::InternalError(absl::StrCat(
        absl::StrJoin(argv, " "), " failed (status ", status, "): ", out));
  }
  return out;
}

bool WaitFor(const std::function<bool()>& done, absl::Duration timeout) {
  const absl::Time end = absl::Now() + timeout;
  while (!done()) {
    if (absl::Now() > end) return false;
    absl::SleepFor(absl::Milliseconds(10));
  }
  return true;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string BridgeConfList(absl::string_view version, absl::string_view name,
                           absl::string_view bridge, absl::string_view subnet,
                           absl::string_view extra_plugins) {
  return absl::StrCat(R"({"cniVersion": ")", version, R"(", "name": ")", name,
                      R"(", "plugins": [
    {"type": "bridge", "bridge": ")",
                      bridge, R"(", "isGateway": true, "ipMasq": false,
     "capabilities": {"ips": true, "ipRanges": true},
     "ipam": {"type": "host-local", "dataDir": "@IPAM@",
              "ranges": [[{"subnet": ")",
                      subnet, R"("}]], "routes": [{"dst": "0.0.0.0/0"}]}})",
                      extra_plugins.empty() ? "" : ",\n    ", extra_plugins,
                      "\n  ]}\n");
}

TestPod::TestPod(const std::string& netns_path, absl::string_view name) {
  net.name = std::string(name);
  net.namespace_ = "integration";
  net.id = std::string(name);
  net.uid = absl::StrCat("uid-", name);
  net.netns = netns_path;
  absl::StatusOr<netns::NetNS> ns = netns::CreateAt(netns_path);
  status_ = ns.status();
}

TestPod::TestPod(TestPod&& other)
    : net(std::move(other.net)),
      status_(std::move(other.status_)),
      deleted_(other.deleted_) {
  other.deleted_ = true;
}

TestPod::~TestPod() {
  if (status_.ok() && !deleted_) {
    absl::Status s = netns::DeleteAt(net.netns);
    EXPECT_TRUE(s.ok()) << s;
  }
}

absl::Status TestPod::DeleteNamespace() {
  deleted_ = true;
  return netns::DeleteAt(net.netns);
}

void IntegrationTest::SetUp() {
  OCICNI_SKIP_UNLESS_ROOT();
  const ::testing::TestInfo* info =
      ::testing::UnitTest::GetInstance()->current_test_info();
  root_ = absl::StrCat(testutil::TestTmpDir(), "/",
                       absl::StrReplaceAll(absl::StrCat(info->test_suite_name(),
                                                        ".", info->name()),
                                           {{"/", "_"}}));
  conf_dir_ = root_ + "/net.d";
  cache_dir_ = root_ + "/cache";
  ipam_dir_ = root_ + "/ipam";
  pods_dir_ = root_ + "/pods";
  for (const std::string& dir : {root_, conf_dir_, pods_dir_}) {
    OCICNI_ASSERT_OK(MakeDir(dir));
  }
}

void IntegrationTest::TearDown() {
  if (root_.empty()) return;  // Skipped.
  EXPECT_EQ(Leftovers(), "");
}

std::string IntegrationTest::Leftovers() const {
  std::vector<std::string> found;
  if (auto r = HostLocalReservations(ipam_dir_); !r.empty()) {
    found.push_back(
        absl::StrCat("host-local reservations: ", absl::StrJoin(r, " ")));
  }
  if (auto c = CacheEntries(cache_dir_); !c.empty()) {
    found.push_back(absl::StrCat("cache entries: ", absl::StrJoin(c, " ")));
  }
  if (auto v = HostLinks("veth"); !v.empty()) {
    found.push_back(absl::StrCat("host veths: ", absl::StrJoin(v, " ")));
  }
  if (auto p = ChildProcesses(); !p.empty()) {
    found.push_back(absl::StrCat("child processes: ", absl::StrJoin(p, " ")));
  }
  return absl::StrJoin(found, "; ");
}

void IntegrationTest::WriteConfList(absl::string_view file,
                                    absl::string_view json) {
  std::ofstream(absl::StrCat(conf_dir_, "/", file), std::ios::binary)
      << absl::StrReplaceAll(json, {{"@IPAM@", ipam_dir_}});
}

std::unique_ptr<CNIPlugin> IntegrationTest::Start(bool bring_up_loopback) {
  Options options;
  options.conf_dirs = {conf_dir_};
  options.plugin_dirs = {kPluginDir};
  options.cache_dir = cache_dir_;
  options.watch = false;
  options.default_timeout = absl::Seconds(60);
  options.bring_up_loopback = bring_up_loopback;
  absl::StatusOr<std::unique_ptr<CNIPlugin>> plugin = InitCNI(options);
  EXPECT_TRUE(plugin.ok()) << plugin.status();
  return plugin.ok() ? *std::move(plugin) : nullptr;
}

netns::Link IntegrationTest::PodLink(const TestPod& pod,
                                     absl::string_view ifname) {
  absl::StatusOr<std::vector<netns::Link>> links = PodLinks(pod.path());
  EXPECT_TRUE(links.ok()) << links.status();
  if (links.ok()) {
    for (const netns::Link& l : *links) {
      if (l.name == ifname) return l;
    }
  }
  ADD_FAILURE() << "no " << ifname << " in " << pod.path();
  return {};
}

std::vector<std::string> IntegrationTest::Addresses(const TestPod& pod,
                                                    absl::string_view ifname) {
  absl::StatusOr<std::vector<std::string>> a = PodAddresses(pod.path(), ifname);
  EXPECT_TRUE(a.ok()) << a.status();
  return a.ok() ? *a : std::vector<std::string>{};
}

std::string IntegrationTest::NatRules() {
  absl::StatusOr<std::string> rules =
      RunCommand({"iptables", "-w", "-t", "nat", "-S"});
  EXPECT_TRUE(rules.ok()) << rules.status();
  return rules.ok() ? *rules : "";
}

TestPod IntegrationTest::NewPod(absl::string_view name) {
  TestPod pod(absl::StrCat(pods_dir_, "/", name), name);
  EXPECT_TRUE(pod.status().ok()) << pod.status();
  return pod;
}

}  // namespace ocicni::integration
