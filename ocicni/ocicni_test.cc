// Tests of the facade's semantics against an in-process FakeInvoker: chains,
// rollback, DEL, the result cache, status, GC, concurrency and the seed API.
// ocicni_exec_test.cc runs the same library against real (fake) plugin
// processes.
#include "ocicni/ocicni.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "exec/cni_error.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ocicni/plugin_impl.h"
#include "testing/fake_invoker.h"
#include "testing/fake_netns_ops.h"
#include "testing/files.h"
#include "testing/runfiles.h"
#include "types/cache.h"
#include "types/json.h"

namespace ocicni {
namespace {

using ::testing::AllOf;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::UnorderedElementsAre;

using ::ocicni::testutil::ReadFile;
using ::ocicni::testutil::WriteFile;

google::protobuf::Struct Obj(absl::string_view json) {
  auto s = types::ParseJsonObject(json, "test");
  EXPECT_TRUE(s.ok()) << s.status();
  return s.ok() ? *s : google::protobuf::Struct();
}

std::string Field(const google::protobuf::Struct& s, const std::string& key) {
  auto it = s.fields().find(key);
  if (it == s.fields().end()) return "<absent>";
  return types::WriteJson(it->second);
}

// A request as the fake plugins saw it.
struct Call {
  std::string command;
  std::string type;
  std::string network;
  std::string id;
  std::string netns;
  std::string ifname;
  std::string args;
  google::protobuf::Struct stdin_conf;
};

class OcicniTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = testutil::MakeTempDir(
        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    ASSERT_TRUE(dir.ok());
    root_ = *dir;
    conf_dir_ = root_ + "/net.d";
    cache_dir_ = root_ + "/cache";
    mkdir(conf_dir_.c_str(), 0755);
  }

  void TearDown() override {
    if (plugin_) plugin_->Shutdown();
  }

  // The fake plugins: ADD returns prevResult (a "meta" plugin) or, for
  // types starting with "ip", an address for the pod; everything else
  // succeeds. Failures are set per "type/COMMAND".
  absl::StatusOr<std::string> Handle(const exec::InvokeRequest& r) {
    Call call;
    call.command = std::string(exec::CommandName(r.command));
    call.type = r.plugin_type;
    call.network = r.network_name;
    call.id = r.container_id;
    call.netns = r.netns;
    call.ifname = r.ifname;
    call.args = r.cni_args;
    if (!r.stdin_data.empty()) call.stdin_conf = Obj(r.stdin_data);
    absl::Duration delay;
    absl::StatusOr<std::string> failure = absl::OkStatus().ToString();
    bool fail = false;
    {
      absl::MutexLock lock(&mu_);
      calls_.push_back(call);
      auto f = failures_.find(call.type + "/" + call.command);
      if (f != failures_.end()) {
        fail = true;
        failure = f->second;
      }
      delay = delay_;
    }
    if (delay > absl::ZeroDuration()) {
      int now = ++running_;
      int seen = max_running_.load();
      while (now > seen && !max_running_.compare_exchange_weak(seen, now)) {
      }
      absl::SleepFor(delay);
      --running_;
    }
    if (fail) return failure.status();
    if (r.command != exec::Command::kAdd) return std::string();
    auto prev = call.stdin_conf.fields().find("prevResult");
    if (prev != call.stdin_conf.fields().end()) {
      return types::WriteJson(prev->second);
    }
    const std::string version = Field(call.stdin_conf, "cniVersion");
    int n = ++addresses_;
    if (absl::StartsWith(call.type, "ip")) {
      return absl::StrCat(R"({"cniVersion":)", version,
                          R"(,"ips":[{"address":"10.1.0.)", n,
                          R"(/24","gateway":"10.1.0.1"}]})");
    }
    return absl::StrCat(R"({"cniVersion":)", version,
                        R"(,"interfaces":[{"name":")", call.ifname,
                        R"(","sandbox":")", call.netns,
                        R"("}],"ips":[{"interface":0,"address":"10.1.0.)", n,
                        R"(/24","gateway":"10.1.0.1"}]})");
  }

  void Fail(const std::string& type_command, absl::Status status) {
    absl::MutexLock lock(&mu_);
    failures_[type_command] = std::move(status);
  }

  void Heal(const std::string& type_command) {
    absl::MutexLock lock(&mu_);
    failures_.erase(type_command);
  }

  std::vector<Call> Calls() {
    absl::MutexLock lock(&mu_);
    return calls_;
  }

  std::vector<std::string> CallSummary() {
    std::vector<std::string> out;
    for (const Call& c : Calls()) {
      out.push_back(
          absl::StrCat(c.command, " ", c.network, "/", c.type, " ", c.ifname));
    }
    return out;
  }

  void ClearCalls() {
    absl::MutexLock lock(&mu_);
    calls_.clear();
  }

  void Start(Options options = {}) {
    options.conf_dirs = {conf_dir_};
    options.plugin_dirs = {"/nonexistent/bin"};
    options.cache_dir = cache_dir_;
    options.watch = false;
    internal::Deps deps;
    deps.invoker = std::make_unique<testutil::FakeInvoker>(
        [this](const exec::InvokeRequest& r) { return Handle(r); });
    auto netns = std::make_unique<testutil::FakeNetnsOps>();
    netns_ = netns.get();
    deps.netns_ops = std::move(netns);
    deps.inherited_cni_args = inherited_args_;
    auto plugin = internal::NewPlugin(options, std::move(deps));
    ASSERT_TRUE(plugin.ok()) << plugin.status();
    plugin_ = *std::move(plugin);
  }

  void AddConf(const std::string& file, const std::string& json) {
    WriteFile(conf_dir_ + "/" + file, json);
    if (plugin_) {
      ASSERT_TRUE(plugin_->Reload().ok());
    }
  }

  PodNetwork Pod(const std::string& id = "pod1") {
    PodNetwork pod;
    pod.name = "web-0";
    pod.namespace_ = "default";
    pod.id = id;
    pod.uid = "uid-1";
    pod.netns = root_;  // exists
    return pod;
  }

  std::vector<std::string> CacheFiles() {
    std::vector<std::string> out;
    std::string results = cache_dir_ + "/results";
    if (DIR* d = opendir(results.c_str())) {
      while (dirent* e = readdir(d)) {
        if (e->d_name[0] != '.') out.emplace_back(e->d_name);
      }
      closedir(d);
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  std::string root_, conf_dir_, cache_dir_;
  std::optional<std::string> inherited_args_ = std::string();
  std::unique_ptr<CNIPlugin> plugin_;
  testutil::FakeNetnsOps* netns_ = nullptr;

  absl::Mutex mu_;
  std::vector<Call> calls_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, absl::Status> failures_ ABSL_GUARDED_BY(mu_);
  absl::Duration delay_ ABSL_GUARDED_BY(mu_);
  std::atomic<int> addresses_{0};
  std::atomic<int> running_{0};
  std::atomic<int> max_running_{0};
};

constexpr char kPodNet[] = R"({
  "cniVersion": "1.0.0", "name": "podnet",
  "plugins": [
    {"type": "bridge", "bridge": "cni0", "ipam": {"type": "host-local"}},
    {"type": "portmap", "capabilities": {"portMappings": true, "bandwidth": false}, "snat": true}
  ]})";

TEST_F(OcicniTest, SetUpPodRunsTheChainAndCachesTheResult) {
  AddConf("10-podnet.conflist", kPodNet);
  Start();
  PodNetwork pod = Pod();
  RuntimeConfig rc;
  rc.port_mappings.push_back({8080, 80, "tcp", ""});
  rc.bandwidth = BandwidthConfig{1000, 2000, 3000, 4000};
  pod.runtime_config["podnet"] = rc;

  auto results = plugin_->SetUpPod(pod);
  ASSERT_TRUE(results.ok()) << results.status();
  ASSERT_EQ(results->size(), 1u);
  EXPECT_EQ((*results)[0].network, "podnet");
  EXPECT_EQ((*results)[0].ifname, "eth0");
  EXPECT_EQ((*results)[0].result.ips(0).address(), "10.1.0.1/24");
  EXPECT_EQ(netns_->loopback_calls(), std::vector<std::string>{root_});

  std::vector<Call> calls = Calls();
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[0].type, "bridge");
  EXPECT_EQ(calls[1].type, "portmap");
  for (const Call& c : calls) {
    EXPECT_EQ(c.command, "ADD");
    EXPECT_EQ(c.id, "pod1");
    EXPECT_EQ(c.netns, root_);
    EXPECT_EQ(c.ifname, "eth0");
    EXPECT_EQ(c.args,
              "IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=web-0;"
              "K8S_POD_INFRA_CONTAINER_ID=pod1;K8S_POD_UID=uid-1");
    EXPECT_EQ(Field(c.stdin_conf, "name"), "\"podnet\"");
    EXPECT_EQ(Field(c.stdin_conf, "cniVersion"), "\"1.0.0\"");
  }
  // The first plugin gets no prevResult; the second gets the first's.
  EXPECT_EQ(Field(calls[0].stdin_conf, "prevResult"), "<absent>");
  EXPECT_EQ(
      Field(calls[1].stdin_conf, "prevResult"),
      R"({"cniVersion":"1.0.0","interfaces":[{"name":"eth0","sandbox":")" +
          root_ +
          R"("}],"ips":[{"address":"10.1.0.1/24","gateway":"10.1.0.1","interface":0}]})");
  // runtimeConfig: declared and supplied capabilities only.
  EXPECT_EQ(Field(calls[0].stdin_conf, "runtimeConfig"), "<absent>");
  EXPECT_EQ(
      Field(calls[1].stdin_conf, "runtimeConfig"),
      R"({"portMappings":[{"containerPort":80,"hostPort":8080,"protocol":"tcp"}]})");
  // Unknown keys pass through.
  EXPECT_EQ(Field(calls[1].stdin_conf, "snat"), "true");

  // The cache entry, key for key as libcni writes it.
  ASSERT_THAT(CacheFiles(), ElementsAre("podnet-pod1-eth0"));
  std::string bytes = ReadFile(cache_dir_ + "/results/podnet-pod1-eth0");
  EXPECT_TRUE(absl::StartsWith(
      bytes, R"({"kind":"cniCacheV1","containerId":"pod1","config":")"))
      << bytes;
  auto decoded = types::DecodeCacheFile(bytes, "x");
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->file.config(), kPodNet);
  EXPECT_EQ(decoded->file.if_name(), "eth0");
  EXPECT_EQ(decoded->file.network_name(), "podnet");
  EXPECT_EQ(decoded->file.netns(), root_);
  EXPECT_EQ(decoded->file.cni_args_size(), 5);
  EXPECT_EQ(
      types::WriteJson(decoded->file.capability_args()),
      R"({"bandwidth":{"egressBurst":4000,"egressRate":3000,"ingressBurst":2000,"ingressRate":1000},"portMappings":[{"containerPort":80,"hostPort":8080,"protocol":"tcp"}]})");
  struct stat st;
  ASSERT_EQ(stat((cache_dir_ + "/results/podnet-pod1-eth0").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST_F(OcicniTest, CniArgsCarryInheritedPairsThenIpAndMac) {
  inherited_args_ = "FOO=bar;BAD;X=a=b";
  AddConf("10-podnet.conflist", kPodNet);
  Start();
  PodNetwork pod = Pod();
  pod.runtime_config["podnet"].ip = "10.1.0.99";
  pod.runtime_config["podnet"].mac = "02:42:ac:11:00:02";
  ASSERT_TRUE(plugin_->SetUpPod(pod).ok());
  EXPECT_EQ(Calls()[0].args,
            "IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=web-0;"
            "K8S_POD_INFRA_CONTAINER_ID=pod1;K8S_POD_UID=uid-1;FOO=bar;X=a=b;"
            "IP=10.1.0.99;MAC=02:42:ac:11:00:02");
}

TEST_F(OcicniTest, BadInputIsRejectedBeforeAnythingRuns) {
  AddConf("10-podnet.conflist", kPodNet);
  AddConf(
      "20-other.conflist",
      R"({"cniVersion":"1.0.0","name":"other","plugins":[{"type":"ipvlan"}]})");
  Start();
  struct Case {
    std::function<void(PodNetwork*)> mutate;
    absl::StatusCode code;
    std::string message;
  } cases[] = {
      {[](PodNetwork* p) { p->id = "../etc"; },
       absl::StatusCode::kInvalidArgument, "container ID"},
      {[](PodNetwork* p) { p->id = ""; }, absl::StatusCode::kInvalidArgument,
       "container ID"},
      {[](PodNetwork* p) {
         p->networks = {{"podnet", "eth1"}, {"other", "eth1"}};
       },
       absl::StatusCode::kInvalidArgument, "\"eth1\" is requested for more"},
      {[](PodNetwork* p) {
         p->networks = {{"podnet", "a/b"}};
       },
       absl::StatusCode::kInvalidArgument, "interface name"},
      {[](PodNetwork* p) {
         p->networks = {{"missing", ""}};
       },
       absl::StatusCode::kNotFound, "network \"missing\" is not loaded"},
      {[](PodNetwork* p) { p->runtime_config["podnet"].ip = "10.0.0.300"; },
       absl::StatusCode::kInvalidArgument, "unable to parse IP address"},
      {[](PodNetwork* p) { p->runtime_config["podnet"].mac = "zz"; },
       absl::StatusCode::kInvalidArgument, "unable to parse MAC address"},
      {[](PodNetwork* p) { p->uid = "a;b"; },
       absl::StatusCode::kInvalidArgument, "K8S_POD_UID"},
  };
  for (const Case& c : cases) {
    PodNetwork pod = Pod();
    c.mutate(&pod);
    auto r = plugin_->SetUpPod(pod);
    EXPECT_EQ(r.status().code(), c.code) << r.status();
    EXPECT_THAT(std::string(r.status().message()), HasSubstr(c.message));
  }
  EXPECT_TRUE(Calls().empty());
  EXPECT_TRUE(CacheFiles().empty());
}

TEST_F(OcicniTest, InterfaceNamesFillGapsInOrder) {
  for (const char* name : {"a", "b", "c"}) {
    AddConf(absl::StrCat("10-", name, ".conflist"),
            absl::StrCat(R"({"cniVersion":"1.0.0","name":")", name,
                         R"(","plugins":[{"type":"bridge"}]})"));
  }
  Start();
  PodNetwork pod = Pod();
  pod.networks = {{"a", ""}, {"b", "eth0"}, {"c", ""}};
  auto results = plugin_->SetUpPod(pod);
  ASSERT_TRUE(results.ok()) << results.status();
  EXPECT_EQ((*results)[0].ifname, "eth1");
  EXPECT_EQ((*results)[1].ifname, "eth0");
  EXPECT_EQ((*results)[2].ifname, "eth2");
  EXPECT_THAT(CacheFiles(),
              ElementsAre("a-pod1-eth1", "b-pod1-eth0", "c-pod1-eth2"));
}

TEST_F(OcicniTest, FailedNetworkRollsBackEveryNetworkInReverse) {
  AddConf(
      "10-a.conflist",
      R"({"cniVersion":"1.0.0","name":"a","plugins":[{"type":"bridge"},{"type":"tuning"}]})");
  AddConf(
      "20-b.conflist",
      R"({"cniVersion":"1.0.0","name":"b","plugins":[{"type":"macvlan"},{"type":"firewall"}]})");
  Start();
  types::Error err;
  err.set_code(11);
  err.set_msg("try again later");
  err.set_details("lock held");
  Fail("firewall/ADD",
       exec::CniErrorToStatus(err,
                              "CNI plugin \"firewall\" (network \"b\", ADD)"));
  PodNetwork pod = Pod();
  pod.networks = {{"a", ""}, {"b", ""}};
  auto r = plugin_->SetUpPod(pod);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("firewall"));
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("rolled back"));
  ASSERT_TRUE(CniErrorOf(r.status()).has_value());
  EXPECT_EQ(CniErrorOf(r.status())->code(), 11u);
  ASSERT_TRUE(FailureOf(r.status()).has_value());
  EXPECT_EQ(FailureOf(r.status())->network, "b");
  EXPECT_EQ(FailureOf(r.status())->plugin, "firewall");
  EXPECT_THAT(CallSummary(),
              ElementsAre("ADD a/bridge eth0", "ADD a/tuning eth0",
                          "ADD b/macvlan eth1", "ADD b/firewall eth1",
                          "DEL b/firewall eth1", "DEL b/macvlan eth1",
                          "DEL a/tuning eth0", "DEL a/bridge eth0"));
  EXPECT_TRUE(CacheFiles().empty());
}

TEST_F(OcicniTest, FailedRollbackIsReported) {
  AddConf("10-a.conflist",
          R"({"cniVersion":"1.0.0","name":"a","plugins":[{"type":"bridge"}]})");
  Start();
  Fail("bridge/ADD", absl::UnknownError("CNI plugin \"bridge\" failed"));
  Fail("bridge/DEL", absl::UnknownError("CNI plugin \"bridge\" DEL broke"));
  auto r = plugin_->SetUpPod(Pod());
  EXPECT_THAT(std::string(r.status().message()),
              HasSubstr("rollback failed: CNI plugin \"bridge\" DEL broke"));
}

// A plugin that fails ADD often fails DEL the same way (its config is bad).
// The rollback still gives every other plugin of that chain its DEL, so
// what they allocated (an address, a veth) is released. The entry written
// before the plugins ran (configuration, no result) stays for the network
// whose DEL failed, so that a later TearDownPod retries from it.
TEST_F(OcicniTest, RollbackGoesOnPastAFailingDel) {
  AddConf(
      "10-a.conflist",
      R"({"cniVersion":"1.0.0","name":"a","plugins":[{"type":"bridge"},{"type":"tuning"}]})");
  AddConf(
      "20-b.conflist",
      R"({"cniVersion":"1.0.0","name":"b","plugins":[{"type":"ptp"},{"type":"bandwidth"},{"type":"firewall"}]})");
  Start();
  Fail("bandwidth/ADD", absl::InvalidArgumentError("bandwidth: bad config"));
  Fail("bandwidth/DEL", absl::InvalidArgumentError("bandwidth: bad config"));
  PodNetwork pod = Pod();
  pod.networks = {{"a", ""}, {"b", ""}};
  auto r = plugin_->SetUpPod(pod);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(r.status().message()),
              HasSubstr("rollback failed: bandwidth: bad config"));
  EXPECT_EQ(FailureOf(r.status())->plugin, "bandwidth");
  EXPECT_THAT(
      CallSummary(),
      ElementsAre("ADD a/bridge eth0", "ADD a/tuning eth0", "ADD b/ptp eth1",
                  "ADD b/bandwidth eth1", "DEL b/firewall eth1",
                  "DEL b/bandwidth eth1", "DEL b/ptp eth1", "DEL a/tuning eth0",
                  "DEL a/bridge eth0"));
  EXPECT_THAT(CacheFiles(), ElementsAre("b-pod1-eth1"));

  // TearDownPod keeps libcni's rule: stop at the first failing plugin and
  // keep the cache for a retry.
  ClearCalls();
  Heal("bandwidth/ADD");
  ASSERT_TRUE(plugin_->SetUpPod(pod).ok());
  ClearCalls();
  EXPECT_FALSE(plugin_->TearDownPod(pod).ok());
  EXPECT_THAT(CallSummary(),
              ElementsAre("DEL b/firewall eth1", "DEL b/bandwidth eth1",
                          "DEL a/tuning eth0", "DEL a/bridge eth0"));
  EXPECT_THAT(CacheFiles(), ElementsAre("b-pod1-eth1"));
  Heal("bandwidth/DEL");
  ASSERT_TRUE(plugin_->TearDownPod(pod).ok());
}

TEST_F(OcicniTest, RollbackGetsAFreshDeadline) {
  AddConf("10-a.conflist",
          R"({"cniVersion":"1.0.0","name":"a","plugins":[{"type":"bridge"}]})");
  Start();
  std::vector<absl::Time> deadlines;
  absl::Mutex mu;
  plugin_.reset();
  Options options;
  options.conf_dirs = {conf_dir_};
  options.cache_dir = cache_dir_;
  options.watch = false;
  internal::Deps deps;
  deps.netns_ops = std::make_unique<testutil::FakeNetnsOps>();
  deps.invoker = std::make_unique<testutil::FakeInvoker>(
      [&](const exec::InvokeRequest& r) -> absl::StatusOr<std::string> {
        absl::MutexLock lock(&mu);
        deadlines.push_back(r.deadline);
        if (r.command == exec::Command::kAdd) {
          absl::SleepFor(absl::Milliseconds(300));
          return absl::DeadlineExceededError("plugin ran past its deadline");
        }
        return std::string();
      });
  auto plugin = internal::NewPlugin(options, std::move(deps));
  ASSERT_TRUE(plugin.ok());
  CallOptions call;
  call.deadline = absl::Now() + absl::Milliseconds(200);
  auto r = (*plugin)->SetUpPod(Pod(), call);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDeadlineExceeded);
  ASSERT_EQ(deadlines.size(), 2u);
  EXPECT_EQ(deadlines[0], *call.deadline);
  // The DEL's deadline is in the future when the rollback starts, and about
  // as long as the call's own.
  EXPECT_GT(deadlines[1], *call.deadline + absl::Milliseconds(250));
}

// Eventually polls `done` for up to 10 s.
bool Eventually(const std::function<bool()>& done) {
  const absl::Time until = absl::Now() + absl::Seconds(10);
  while (!done()) {
    if (absl::Now() > until) return false;
    absl::SleepFor(absl::Milliseconds(1));
  }
  return true;
}

TEST_F(OcicniTest, LoopbackComesUpWhileTheChainRuns) {
  AddConf("10-podnet.conflist", kPodNet);
  Start();
  netns_->HoldLoopback();
  std::atomic<bool> returned{false};
  absl::StatusOr<std::vector<NetResult>> results;
  std::thread setup([&] {
    results = plugin_->SetUpPod(Pod());
    returned = true;
  });
  // The whole chain runs while lo is still on its way up ...
  EXPECT_TRUE(Eventually([&] { return Calls().size() == 2; }));
  EXPECT_EQ(netns_->loopback_pending(), 1);
  absl::SleepFor(absl::Milliseconds(20));
  EXPECT_FALSE(returned);  // ... and SetUpPod waits for it.
  netns_->ReleaseLoopback();
  setup.join();
  ASSERT_TRUE(results.ok()) << results.status();
  EXPECT_EQ(netns_->loopback_calls(), std::vector<std::string>{root_});
  EXPECT_EQ(netns_->loopback_pending(), 0);
  EXPECT_THAT(CacheFiles(), ElementsAre("podnet-pod1-eth0"));
}

TEST_F(OcicniTest, LoopbackFailureAfterTheChainRollsItBack) {
  AddConf(
      "10-a.conflist",
      R"({"cniVersion":"1.0.0","name":"a","plugins":[{"type":"bridge"},{"type":"tuning"}]})");
  AddConf("20-b.conflist",
          R"({"cniVersion":"1.0.0","name":"b","plugins":[{"type":"ptp"}]})");
  Start();
  netns_->FailLoopback(
      absl::PermissionDeniedError("set lo up in network namespace x: denied"));
  PodNetwork pod = Pod();
  pod.networks = {{"a", ""}, {"b", ""}};
  auto r = plugin_->SetUpPod(pod);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(r.status().message(),
            "pod default/web-0: bringing up lo: set lo up in network "
            "namespace x: denied; rolled back");
  EXPECT_THAT(
      CallSummary(),
      ElementsAre("ADD a/bridge eth0", "ADD a/tuning eth0", "ADD b/ptp eth1",
                  "DEL b/ptp eth1", "DEL a/tuning eth0", "DEL a/bridge eth0"));
  EXPECT_TRUE(CacheFiles().empty());
  EXPECT_EQ(netns_->loopback_pending(), 0);

  // A failing DEL in that rollback is reported too.
  ClearCalls();
  Fail("ptp/DEL", absl::UnknownError("CNI plugin \"ptp\" DEL broke"));
  r = plugin_->SetUpPod(pod);
  EXPECT_THAT(
      std::string(r.status().message()),
      AllOf(HasSubstr("bringing up lo"),
            HasSubstr("rollback failed: CNI plugin \"ptp\" DEL broke")));
}

TEST_F(OcicniTest, LoopbackThatCannotStartRunsNoPlugin) {
  AddConf("10-podnet.conflist", kPodNet);
  Start();
  netns_->FailLoopbackStart(absl::NotFoundError(
      "open network namespace /run/netns/gone: No such file or directory"));
  auto r = plugin_->SetUpPod(Pod());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(r.status().message(),
            "pod default/web-0: bringing up lo: open network namespace "
            "/run/netns/gone: No such file or directory");
  EXPECT_TRUE(Calls().empty());
  EXPECT_TRUE(CacheFiles().empty());
}

TEST_F(OcicniTest, ChainFailureWaitsForThePendingLoopback) {
  AddConf("10-podnet.conflist", kPodNet);
  Start();
  netns_->HoldLoopback();
  netns_->FailLoopback(absl::UnavailableError("netlink busy"));
  Fail("portmap/ADD", absl::UnknownError("CNI plugin \"portmap\" failed"));
  std::atomic<bool> returned{false};
  absl::StatusOr<std::vector<NetResult>> r;
  std::thread setup([&] {
    r = plugin_->SetUpPod(Pod());
    returned = true;
  });
  // Failed and rolled back, but lo is still pending: SetUpPod must not
  // return with it in flight.
  EXPECT_TRUE(Eventually([&] { return Calls().size() == 4; }));
  absl::SleepFor(absl::Milliseconds(20));
  EXPECT_FALSE(returned);
  EXPECT_EQ(netns_->loopback_pending(), 1);
  netns_->ReleaseLoopback();
  setup.join();
  EXPECT_EQ(netns_->loopback_pending(), 0);
  // The chain's error comes first; lo's is noted.
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnknown);
  EXPECT_EQ(FailureOf(r.status())->plugin, "portmap");
  EXPECT_THAT(std::string(r.status().message()),
              HasSubstr("CNI plugin \"portmap\" failed; rolled back; bringing "
                        "up lo also failed: netlink busy"));
  EXPECT_THAT(CallSummary(),
              ElementsAre("ADD podnet/bridge eth0", "ADD podnet/portmap eth0",
                          "DEL podnet/portmap eth0", "DEL podnet/bridge eth0"));
  EXPECT_TRUE(CacheFiles().empty());
}

TEST_F(OcicniTest, ConcurrentPodsEachWaitForTheirOwnLoopback) {
  AddConf("10-podnet.conflist", kPodNet);
  Start();
  {
    absl::MutexLock lock(&mu_);
    delay_ = absl::Milliseconds(20);
  }
  constexpr int kPods = 8;
  std::vector<PodNetwork> pods;
  for (int i = 0; i < kPods; ++i) {
    PodNetwork pod = Pod(absl::StrCat("pod", i));
    pod.netns = absl::StrCat(root_, "/ns", i);
    ASSERT_EQ(mkdir(pod.netns.c_str(), 0755), 0);
    pods.push_back(std::move(pod));
  }
  netns_->FailLoopback(absl::InternalError("lo broke"), pods[3].netns);
  std::vector<absl::Status> statuses(kPods);
  std::vector<std::thread> threads;
  for (int i = 0; i < kPods; ++i) {
    threads.emplace_back(
        [&, i] { statuses[i] = plugin_->SetUpPod(pods[i]).status(); });
  }
  for (auto& t : threads) t.join();
  for (int i = 0; i < kPods; ++i) {
    if (i == 3) {
      EXPECT_THAT(std::string(statuses[i].message()),
                  HasSubstr("bringing up lo: lo broke; rolled back"));
    } else {
      EXPECT_TRUE(statuses[i].ok()) << i << ": " << statuses[i];
    }
  }
  EXPECT_GE(max_running_.load(), 2);
  EXPECT_EQ(netns_->loopback_calls().size(), static_cast<size_t>(kPods));
  EXPECT_EQ(netns_->loopback_pending(), 0);
  std::vector<std::string> cached = CacheFiles();
  EXPECT_EQ(cached.size(), static_cast<size_t>(kPods - 1));
  EXPECT_THAT(cached, Not(Contains("podnet-pod3-eth0")));
}

TEST_F(OcicniTest, TearDownUsesTheCacheAndIsRepeatable) {
  AddConf("10-podnet.conflist", kPodNet);
  Start();
  PodNetwork pod = Pod();
  pod.runtime_config["podnet"].port_mappings.push_back({80, 8080, "tcp", ""});
  ASSERT_TRUE(plugin_->SetUpPod(pod).ok());
  ClearCalls();

  PodNetwork bare = Pod();  // no networks, no runtime config
  bare.uid = "";
  ASSERT_TRUE(plugin_->TearDownPod(bare).ok());
  std::vector<Call> calls = Calls();
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[0].type, "portmap");  // reverse order
  EXPECT_EQ(calls[1].type, "bridge");
  for (const Call& c : calls) {
    EXPECT_EQ(c.command, "DEL");
    EXPECT_EQ(c.ifname, "eth0");
    // Arguments and capabilities as at ADD, from the cache.
    EXPECT_THAT(c.args, HasSubstr("K8S_POD_UID=uid-1"));
    EXPECT_EQ(
        Field(c.stdin_conf, "prevResult"),
        R"({"cniVersion":"1.0.0","interfaces":[{"name":"eth0","sandbox":")" +
            root_ +
            R"("}],"ips":[{"address":"10.1.0.1/24","gateway":"10.1.0.1","interface":0}]})");
  }
  EXPECT_EQ(
      Field(calls[0].stdin_conf, "runtimeConfig"),
      R"({"portMappings":[{"containerPort":8080,"hostPort":80,"protocol":"tcp"}]})");
  EXPECT_TRUE(CacheFiles().empty());

  // A second teardown (nothing cached) DELs the default network again.
  ClearCalls();
  EXPECT_TRUE(plugin_->TearDownPod(bare).ok());
  EXPECT_THAT(CallSummary(),
              ElementsAre("DEL podnet/portmap eth0", "DEL podnet/bridge eth0"));
}

TEST_F(OcicniTest, DelWithoutNetnsAndOldVersionHasNoPrevResult) {
  AddConf(
      "10-old.conflist",
      R"({"cniVersion":"0.3.1","name":"old","plugins":[{"type":"bridge"}]})");
  Start();
  PodNetwork pod = Pod();
  pod.netns = root_ + "/gone";
  netns_->FailLoopback(absl::OkStatus());
  ASSERT_TRUE(plugin_->SetUpPod(pod).ok());
  ClearCalls();
  ASSERT_TRUE(plugin_->TearDownPod(pod).ok());
  std::vector<Call> calls = Calls();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].netns, "");  // the namespace is gone
  EXPECT_EQ(Field(calls[0].stdin_conf, "prevResult"), "<absent>");  // < 0.4.0
}

TEST_F(OcicniTest, FailedDelKeepsTheCacheForARetry) {
  AddConf("10-podnet.conflist", kPodNet);
  Start();
  ASSERT_TRUE(plugin_->SetUpPod(Pod()).ok());
  Fail("portmap/DEL", absl::UnknownError("CNI plugin \"portmap\" DEL failed"));
  absl::Status s = plugin_->TearDownPod(Pod());
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(FailureOf(s)->plugin, "portmap");
  EXPECT_THAT(CacheFiles(), ElementsAre("podnet-pod1-eth0"));
  Fail("portmap/DEL", absl::OkStatus());
  {
    absl::MutexLock lock(&mu_);
    failures_.clear();
  }
  EXPECT_TRUE(plugin_->TearDownPod(Pod()).ok());
  EXPECT_TRUE(CacheFiles().empty());
}

TEST_F(OcicniTest, CorruptOrEmptyCacheIsRemovedAndDelGoesOn) {
  AddConf("10-podnet.conflist", kPodNet);
  Start();
  for (const char* junk : {"", "{not json", "\x7f\x45\x4c\x46"}) {
    mkdir(cache_dir_.c_str(), 0700);
    mkdir((cache_dir_ + "/results").c_str(), 0700);
    WriteFile(cache_dir_ + "/results/podnet-pod1-eth0", junk);
    ClearCalls();
    PodNetwork pod = Pod();
    pod.networks = {{"podnet", "eth0"}};
    EXPECT_TRUE(plugin_->TearDownPod(pod).ok());
    EXPECT_EQ(Calls().size(), 2u);
    EXPECT_TRUE(CacheFiles().empty());
  }
}

TEST_F(OcicniTest, TearDownFindsAttachmentsByContentNotFileName) {
  AddConf("10-podnet.conflist", kPodNet);
  Start();
  ASSERT_TRUE(plugin_->SetUpPod(Pod("pod1")).ok());
  ASSERT_TRUE(plugin_->SetUpPod(Pod("x-pod1")).ok());
  // A file whose name mentions pod1 but whose content is another pod's.
  std::string other = ReadFile(cache_dir_ + "/results/podnet-x-pod1-eth0");
  WriteFile(cache_dir_ + "/results/podnet-pod1-eth9", other);
  ClearCalls();
  PodNetwork pod = Pod("pod1");
  ASSERT_TRUE(plugin_->TearDownPod(pod).ok());
  EXPECT_THAT(CallSummary(),
              ElementsAre("DEL podnet/portmap eth0", "DEL podnet/bridge eth0"));
  EXPECT_THAT(CacheFiles(),
              ElementsAre("podnet-pod1-eth9", "podnet-x-pod1-eth0"));
}

TEST_F(OcicniTest, DelUsesTheCachedConfigWhenTheNetworkIsGone) {
  AddConf("10-podnet.conflist", kPodNet);
  Start();
  ASSERT_TRUE(plugin_->SetUpPod(Pod()).ok());
  unlink((conf_dir_ + "/10-podnet.conflist").c_str());
  ASSERT_TRUE(plugin_->Reload().ok());
  ClearCalls();
  PodNetwork pod = Pod();
  pod.networks = {{"podnet", "eth0"}};
  ASSERT_TRUE(plugin_->TearDownPod(pod).ok());
  EXPECT_THAT(CallSummary(),
              ElementsAre("DEL podnet/portmap eth0", "DEL podnet/bridge eth0"));
  // Without cache and config there is nothing to run: a clear error.
  absl::Status s = plugin_->TearDownPod(pod);
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(s.message()), HasSubstr("no cached configuration"));
}

TEST_F(OcicniTest, StatusChecksThenReportsTheCachedResult) {
  AddConf("10-podnet.conflist", kPodNet);
  Start();
  ASSERT_TRUE(plugin_->SetUpPod(Pod()).ok());
  ClearCalls();
  auto status = plugin_->GetPodNetworkStatus(Pod());
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_THAT(CallSummary(), ElementsAre("CHECK podnet/bridge eth0",
                                         "CHECK podnet/portmap eth0"));
  EXPECT_NE(Field(Calls()[0].stdin_conf, "prevResult"), "<absent>");
  EXPECT_EQ((*status)[0].result.ips(0).address(), "10.1.0.1/24");

  Fail("portmap/CHECK",
       absl::UnknownError("CNI plugin \"portmap\" CHECK: gone"));
  EXPECT_FALSE(plugin_->GetPodNetworkStatus(Pod()).ok());
  EXPECT_FALSE(plugin_->CheckPod(Pod()).ok());

  auto ip =
      plugin_->GetContainerNetworkStatus(root_, "default", "web-0", "pod1");
  EXPECT_FALSE(ip.ok());  // CHECK fails
}

TEST_F(OcicniTest, StatusConvertsToTheConfigVersionAndSkipsDisabledCheck) {
  AddConf(
      "10-old.conflist",
      R"({"cniVersion":"0.4.0","name":"old","disableCheck":"true","plugins":[{"type":"bridge"}]})");
  Start();
  ASSERT_TRUE(plugin_->SetUpPod(Pod()).ok());
  ClearCalls();
  auto status = plugin_->GetPodNetworkStatus(Pod());
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_TRUE(Calls().empty());
  EXPECT_EQ((*status)[0].result.cni_version(), "0.4.0");
  EXPECT_EQ((*status)[0].result.ips(0).version(), "4");
}

TEST_F(OcicniTest, StatusWithoutCacheReadsTheNamespaceLive) {
  AddConf("10-podnet.conflist", kPodNet);
  Start();
  netns_->SetInterface(
      root_, {"eth0", "02:00:00:00:00:07", {"10.9.0.7/16", "fd00::7/64"}});
  auto status = plugin_->GetPodNetworkStatus(Pod());
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_TRUE(Calls().empty());
  const types::Result& r = (*status)[0].result;
  EXPECT_EQ(r.cni_version(), "1.0.0");
  EXPECT_EQ(r.interfaces(0).mac(), "02:00:00:00:00:07");
  EXPECT_EQ(r.interfaces(0).sandbox(), root_);
  ASSERT_EQ(r.ips_size(), 2);
  EXPECT_EQ(r.ips(1).address(), "fd00::7/64");
  auto ip =
      plugin_->GetContainerNetworkStatus(root_, "default", "web-0", "pod1");
  ASSERT_TRUE(ip.ok()) << ip.status();
  EXPECT_EQ(*ip, "10.9.0.7");

  PodNetwork other = Pod("pod2");
  other.netns = root_ + "/nope";
  auto missing = plugin_->GetPodNetworkStatus(other);
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(missing.status().message()),
              HasSubstr("no cached result"));
}

TEST_F(OcicniTest, GCRemovesStaleAttachmentsIncludingRemovedNetworks) {
  AddConf("10-podnet.conflist", kPodNet);
  AddConf(
      "20-new.conflist",
      R"({"cniVersion":"1.1.0","name":"new","plugins":[{"type":"ipam-only"}]})");
  AddConf(
      "30-gone.conflist",
      R"({"cniVersion":"1.0.0","name":"gone","plugins":[{"type":"vlan"}]})");
  AddConf(
      "40-keep.conflist",
      R"({"cniVersion":"1.1.0","name":"keep","disableGC":true,"plugins":[{"type":"sriov"}]})");
  Start();
  for (const char* id : {"live", "dead", "half"}) {
    PodNetwork pod = Pod(id);
    pod.networks = {{"podnet", ""}, {"new", ""}, {"gone", ""}, {"keep", ""}};
    ASSERT_TRUE(plugin_->SetUpPod(pod).ok());
  }
  unlink((conf_dir_ + "/30-gone.conflist").c_str());
  ASSERT_TRUE(plugin_->Reload().ok());
  ClearCalls();

  PodNetwork live = Pod("live");  // all of its attachments are valid
  PodNetwork half = Pod("half");  // only podnet/eth0 is valid
  half.networks = {{"podnet", "eth0"}};
  Fail("vlan/DEL", absl::UnknownError("CNI plugin \"vlan\" DEL failed"));
  absl::Status s = plugin_->GC({live, half});
  EXPECT_FALSE(s.ok());
  EXPECT_THAT(std::string(s.message()), HasSubstr("vlan"));

  EXPECT_THAT(CallSummary(),
              UnorderedElementsAre(
                  // dead: everything but the disableGC network.
                  "DEL podnet/portmap eth0", "DEL podnet/bridge eth0",
                  "DEL new/ipam-only eth1", "DEL gone/vlan eth2",
                  // half: its other networks.
                  "DEL new/ipam-only eth1", "DEL gone/vlan eth2",
                  // the GC verb of the 1.1.0 network with GC enabled.
                  "GC new/ipam-only "));
  // The GC request names the valid attachments of that network.
  for (const Call& c : Calls()) {
    if (c.command != "GC") continue;
    EXPECT_EQ(Field(c.stdin_conf, "cni.dev/valid-attachments"),
              R"([{"containerID":"live","ifname":"eth1"}])");
    EXPECT_EQ(Field(c.stdin_conf, "cni.dev/attachments"),
              R"([{"containerID":"live","ifname":"eth1"}])");
  }
  // The failed DELs keep their cache entries for the next GC.
  EXPECT_THAT(
      CacheFiles(),
      ElementsAre("gone-dead-eth2", "gone-half-eth2", "gone-live-eth2",
                  "keep-dead-eth3", "keep-half-eth3", "keep-live-eth3",
                  "new-live-eth1", "podnet-half-eth0", "podnet-live-eth0"));
}

TEST_F(OcicniTest, PluginStatus) {
  Start();
  absl::Status none = plugin_->Status();
  EXPECT_EQ(none.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(none.message()),
              HasSubstr("cni config uninitialized"));
  EXPECT_EQ(plugin_->GetDefaultNetworkName(), "");

  AddConf(
      "10-a.conflist",
      R"({"cniVersion":"1.1.0","name":"a","plugins":[{"type":"bridge"},{"type":"portmap"}]})");
  EXPECT_EQ(plugin_->GetDefaultNetworkName(), "a");
  EXPECT_TRUE(plugin_->Status().ok());
  EXPECT_THAT(CallSummary(),
              ElementsAre("STATUS a/bridge ", "STATUS a/portmap "));
  types::Error err;
  err.set_code(50);
  err.set_msg("plugin not available");
  Fail("portmap/STATUS", exec::CniErrorToStatus(err, "CNI plugin \"portmap\""));
  absl::Status s = plugin_->Status();
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(CniErrorOf(s)->code(), 50u);
}

TEST_F(OcicniTest, SeedApi) {
  AddConf("10-podnet.conflist", kPodNet);
  Start();
  EXPECT_EQ(plugin_->Name(), "cni");
  ASSERT_TRUE(plugin_->SetUpPod(root_, "default", "web-0", "seed1").ok());
  auto ip =
      plugin_->GetContainerNetworkStatus(root_, "default", "web-0", "seed1");
  ASSERT_TRUE(ip.ok()) << ip.status();
  EXPECT_EQ(*ip, "10.1.0.1");
  ASSERT_TRUE(plugin_->TearDownPod(root_, "default", "web-0", "seed1").ok());
  EXPECT_TRUE(CacheFiles().empty());
  EXPECT_THAT(Calls().back().args, HasSubstr("K8S_POD_NAME=web-0"));
}

TEST_F(OcicniTest, ShutdownMakesLaterCallsFail) {
  AddConf("10-podnet.conflist", kPodNet);
  Start();
  plugin_->Shutdown();
  plugin_->Shutdown();  // idempotent
  EXPECT_EQ(plugin_->SetUpPod(Pod()).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(plugin_->TearDownPod(Pod()).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(plugin_->Status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(plugin_->GC({}).code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(OcicniTest, SamePodIsSerializedDifferentPodsRunInParallel) {
  AddConf("10-a.conflist",
          R"({"cniVersion":"1.0.0","name":"a","plugins":[{"type":"bridge"}]})");
  Start();
  {
    absl::MutexLock lock(&mu_);
    delay_ = absl::Milliseconds(100);
  }
  auto run = [&](std::vector<std::string> ids) {
    max_running_ = 0;
    std::vector<std::thread> threads;
    for (const std::string& id : ids) {
      threads.emplace_back(
          [&, id] { EXPECT_TRUE(plugin_->SetUpPod(Pod(id)).ok()); });
    }
    for (auto& t : threads) t.join();
    return max_running_.load();
  };
  EXPECT_EQ(run({"same", "same", "same"}), 1);
  EXPECT_GE(run({"p1", "p2", "p3"}), 2);
}

TEST_F(OcicniTest, ConcurrentMixedOperationsWithReloads) {
  AddConf(
      "10-a.conflist",
      R"({"cniVersion":"1.1.0","name":"a","plugins":[{"type":"bridge"},{"type":"portmap"}]})");
  AddConf("20-b.conflist",
          R"({"cniVersion":"0.4.0","name":"b","plugins":[{"type":"ptp"}]})");
  Start();
  std::atomic<bool> stop{false};
  std::thread reloader([&] {
    int i = 0;
    while (!stop) {
      WriteFile(conf_dir_ + "/30-c.conflist",
                absl::StrCat(R"({"cniVersion":"1.0.0","name":"c","x":)", i++,
                             R"(,"plugins":[{"type":"vlan"}]})"));
      EXPECT_TRUE(plugin_->Reload().ok());
    }
  });
  std::vector<std::thread> workers;
  for (int w = 0; w < 4; ++w) {
    workers.emplace_back([&, w] {
      for (int i = 0; i < 25; ++i) {
        PodNetwork pod = Pod(absl::StrCat("w", w, "-", i % 5));
        pod.networks = {{"a", ""}, {"b", ""}};
        auto up = plugin_->SetUpPod(pod);
        EXPECT_TRUE(up.ok()) << up.status();
        EXPECT_TRUE(plugin_->GetPodNetworkStatus(pod).ok());
        if (i % 7 == 0) {
          // Every pod of every worker exists: nothing may be collected.
          std::vector<PodNetwork> valid;
          for (int v = 0; v < 4; ++v) {
            for (int k = 0; k < 5; ++k) {
              valid.push_back(Pod(absl::StrCat("w", v, "-", k)));
            }
          }
          (void)plugin_->GC(valid);
        }
        EXPECT_TRUE(plugin_->TearDownPod(pod).ok());
      }
    });
  }
  for (auto& t : workers) t.join();
  stop = true;
  reloader.join();
  EXPECT_TRUE(CacheFiles().empty());
}

}  // namespace
}  // namespace ocicni
