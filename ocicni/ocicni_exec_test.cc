// The facade end to end with real plugin processes (testing/fake_plugin):
// the environment plugins see, a hung plugin and its rollback, and a result
// cache written by Go libcni driving status and teardown.
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ocicni/ocicni.h"
#include "ocicni/plugin_impl.h"
#include "testing/fake_netns_ops.h"
#include "testing/files.h"
#include "testing/runfiles.h"
#include "types/json.h"

namespace ocicni {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

using ::ocicni::testutil::ReadFile;
using ::ocicni::testutil::WriteFile;

// One recorded plugin invocation.
struct Invocation {
  std::string command;
  std::string plugin;
  std::map<std::string, std::string> cni_env;  // the CNI_* variables
  int cni_env_count = 0;                       // how many CNI_* entries
  google::protobuf::Struct conf;               // stdin
};

std::vector<Invocation> ReadRecord(const std::string& path) {
  std::vector<Invocation> out;
  for (absl::string_view line :
       absl::StrSplit(ReadFile(path), '\n', absl::SkipEmpty())) {
    auto record = types::ParseJsonObject(line, "record");
    EXPECT_TRUE(record.ok()) << record.status();
    if (!record.ok()) continue;
    Invocation inv;
    const auto& f = record->fields();
    std::string argv0 = f.at("argv").list_value().values(0).string_value();
    inv.plugin = argv0.substr(argv0.rfind('/') + 1);
    for (const auto& e : f.at("env").list_value().values()) {
      const std::string& kv = e.string_value();
      if (!absl::StartsWith(kv, "CNI_")) continue;
      ++inv.cni_env_count;
      size_t eq = kv.find('=');
      inv.cni_env[kv.substr(0, eq)] = kv.substr(eq + 1);
    }
    inv.command = inv.cni_env["CNI_COMMAND"];
    const std::string& in = f.at("stdin").string_value();
    if (!in.empty()) {
      auto conf = types::ParseJsonObject(in, "stdin");
      if (conf.ok()) inv.conf = *conf;
    }
    out.push_back(std::move(inv));
  }
  return out;
}

class OcicniExecTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = testutil::MakeTempDir(
        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    ASSERT_TRUE(dir.ok());
    root_ = *dir;
    conf_dir_ = root_ + "/net.d";
    bin_dir_ = root_ + "/bin";
    cache_dir_ = root_ + "/cache";
    record_ = root_ + "/record.jsonl";
    mkdir(conf_dir_.c_str(), 0755);
    mkdir(bin_dir_.c_str(), 0755);
    for (const char* type : {"bridge", "portmap", "slow"}) {
      ASSERT_TRUE(
          testutil::InstallPlugin(testutil::FakePluginPath(), bin_dir_, type)
              .ok());
      // Every call of every plugin is recorded.
      WriteFile(absl::StrCat(bin_dir_, "/", type, ".fake.json"),
                absl::StrCat(R"({"recordTo":")", record_, R"("})"));
    }
  }

  static Options NoWatch() {
    Options options;
    options.watch = false;
    return options;
  }

  void Start(Options options = NoWatch()) {
    options.conf_dirs = {conf_dir_};
    options.plugin_dirs = {root_ + "/empty", bin_dir_};
    options.cache_dir = cache_dir_;
    internal::Deps deps;
    deps.netns_ops = std::make_unique<testutil::FakeNetnsOps>();
    deps.inherited_cni_args = "";
    auto plugin = internal::NewPlugin(options, std::move(deps));
    ASSERT_TRUE(plugin.ok()) << plugin.status();
    plugin_ = *std::move(plugin);
  }

  std::string root_, conf_dir_, bin_dir_, cache_dir_, record_;
  std::unique_ptr<CNIPlugin> plugin_;
};

TEST_F(OcicniExecTest, PluginsSeeTheSpecEnvironmentOnce) {
  setenv("CNI_COMMAND", "STALE", 1);
  setenv("CNI_IFNAME", "stale0", 1);
  WriteFile(conf_dir_ + "/10-net.conflist", R"({
    "cniVersion": "1.0.0", "name": "net",
    "plugins": [
      {"type": "bridge", "fake": {"ADD": {"addInterface": {"name": "eth0"},
                                          "addIp": {"address": "10.5.0.2/24", "gateway": "10.5.0.1"}}}},
      {"type": "portmap"}
    ]})");
  Start();
  PodNetwork pod;
  pod.name = "p";
  pod.namespace_ = "ns";
  pod.id = "c0ffee";
  pod.netns = root_;
  auto results = plugin_->SetUpPod(pod);
  ASSERT_TRUE(results.ok()) << results.status();
  EXPECT_EQ((*results)[0].result.ips(0).address(), "10.5.0.2/24");
  ASSERT_TRUE(plugin_->TearDownPod(pod).ok());
  unsetenv("CNI_COMMAND");
  unsetenv("CNI_IFNAME");

  std::vector<Invocation> calls = ReadRecord(record_);
  ASSERT_EQ(calls.size(), 4u);
  std::vector<std::string> order;
  for (const Invocation& c : calls) {
    order.push_back(absl::StrCat(c.command, " ", c.plugin));
    EXPECT_EQ(c.cni_env_count, 6) << "each CNI_* variable exactly once";
    EXPECT_EQ(c.cni_env.at("CNI_CONTAINERID"), "c0ffee");
    EXPECT_EQ(c.cni_env.at("CNI_NETNS"), root_);
    EXPECT_EQ(c.cni_env.at("CNI_IFNAME"), "eth0");
    EXPECT_EQ(c.cni_env.at("CNI_PATH"),
              absl::StrCat(root_, "/empty:", bin_dir_));
    EXPECT_EQ(c.cni_env.at("CNI_ARGS"),
              "IgnoreUnknown=1;K8S_POD_NAMESPACE=ns;K8S_POD_NAME=p;"
              "K8S_POD_INFRA_CONTAINER_ID=c0ffee;K8S_POD_UID=");
  }
  EXPECT_THAT(order, ElementsAre("ADD bridge", "ADD portmap", "DEL portmap",
                                 "DEL bridge"));
  // portmap got bridge's result as prevResult, on ADD and on DEL.
  EXPECT_THAT(types::WriteJson(calls[1].conf.fields().at("prevResult")),
              HasSubstr("10.5.0.2/24"));
  EXPECT_THAT(types::WriteJson(calls[2].conf.fields().at("prevResult")),
              HasSubstr("10.5.0.2/24"));
}

TEST_F(OcicniExecTest, HungPluginIsKilledAtTheDeadlineAndRolledBack) {
  WriteFile(conf_dir_ + "/10-net.conflist", R"({
    "cniVersion": "1.0.0", "name": "net",
    "plugins": [
      {"type": "bridge"},
      {"type": "slow", "fake": {"ADD": {"sleepSeconds": 60, "spawnGrandchild": true}}}
    ]})");
  Start();
  PodNetwork pod;
  pod.id = "hung1";
  CallOptions call;
  call.deadline = absl::Now() + absl::Seconds(1);
  const absl::Time start = absl::Now();
  auto r = plugin_->SetUpPod(pod, call);
  // Generous bound: catches a hang, not a performance test.
  EXPECT_LT(absl::Now() - start, absl::Seconds(20));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDeadlineExceeded)
      << r.status();
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("rolled back"));
  EXPECT_EQ(FailureOf(r.status())->plugin, "slow");
  std::vector<std::string> order;
  for (const Invocation& c : ReadRecord(record_)) {
    order.push_back(absl::StrCat(c.command, " ", c.plugin));
  }
  EXPECT_THAT(order,
              ElementsAre("ADD bridge", "ADD slow", "DEL slow", "DEL bridge"));
}

TEST_F(OcicniExecTest, GoLibcniCacheDrivesStatusAndTeardown) {
  WriteFile(
      conf_dir_ + "/10-fixture.conflist",
      ReadFile(testutil::RunfilePath("types/testdata/10-fixture.conflist")));
  mkdir(cache_dir_.c_str(), 0700);
  mkdir((cache_dir_ + "/results").c_str(), 0700);
  const std::string entry =
      cache_dir_ + "/results/fixturenet-4f1b6a9c0e2d-eth0";
  WriteFile(entry, ReadFile(testutil::RunfilePath(
                       "types/testdata/fixturenet-4f1b6a9c0e2d-eth0")));
  Start();
  PodNetwork pod;
  pod.id = "4f1b6a9c0e2d";
  pod.netns = root_;
  auto status = plugin_->GetPodNetworkStatus(pod);
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_EQ((*status)[0].network, "fixturenet");
  EXPECT_EQ((*status)[0].result.ips(0).address(), "10.250.0.2/24");
  EXPECT_EQ((*status)[0].result.interfaces(2).sandbox(),
            "/var/run/netns/fixture-pod");

  ASSERT_TRUE(plugin_->TearDownPod(pod).ok());
  EXPECT_NE(access(entry.c_str(), F_OK), 0);
  std::vector<Invocation> calls = ReadRecord(record_);
  ASSERT_EQ(calls.size(), 4u);
  EXPECT_EQ(calls[0].command, "CHECK");
  EXPECT_EQ(calls[1].command, "CHECK");
  EXPECT_EQ(calls[2].command, "DEL");
  EXPECT_EQ(calls[2].plugin, "portmap");
  EXPECT_EQ(calls[3].plugin, "bridge");
  // What Go libcni recorded at ADD is what the DEL gets.
  EXPECT_EQ(calls[2].cni_env.at("CNI_ARGS"),
            "IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=fixture;"
            "K8S_POD_INFRA_CONTAINER_ID=4f1b6a9c0e2d;K8S_POD_UID=7d6c");
  EXPECT_EQ(
      types::WriteJson(calls[2].conf.fields().at("runtimeConfig")),
      R"({"portMappings":[{"containerPort":80,"hostPort":18080,"protocol":"tcp"}]})");
  EXPECT_THAT(types::WriteJson(calls[3].conf.fields().at("prevResult")),
              HasSubstr("10.250.0.2/24"));
}

TEST_F(OcicniExecTest, ValidationRejectsMissingBinariesAndUnsupportedVersions) {
  // portmap answers VERSION with old versions only.
  WriteFile(bin_dir_ + "/portmap.fake.json",
            R"({"supportedVersions":["0.3.1","0.4.0"]})");
  WriteFile(
      conf_dir_ + "/00-missing.conflist",
      R"({"cniVersion":"1.0.0","name":"missing","plugins":[{"type":"bridge"},{"type":"late"}]})");
  WriteFile(
      conf_dir_ + "/01-old.conflist",
      R"({"cniVersion":"1.0.0","name":"old","plugins":[{"type":"portmap"}]})");
  WriteFile(
      conf_dir_ + "/02-good.conflist",
      R"({"cniVersion":"0.4.0","name":"good","plugins":[{"type":"bridge"},{"type":"portmap"}]})");
  Options options;
  options.watch = true;
  options.plugin_validation = Options::PluginValidation::kVersions;
  Start(options);
  EXPECT_EQ(plugin_->GetDefaultNetworkName(), "good");

  PodNetwork pod;
  pod.id = "v1";
  pod.networks = {{"old", ""}};
  auto r = plugin_->SetUpPod(pod);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(r.status().message()),
              HasSubstr("does not support cniVersion 1.0.0"));
  pod.networks = {{"missing", ""}};
  r = plugin_->SetUpPod(pod);
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("\"late\""));

  // The binary arrives: the plugin dirs are watched, the network turns valid.
  ASSERT_TRUE(
      testutil::InstallPlugin(testutil::FakePluginPath(), bin_dir_, "late")
          .ok());
  absl::Time limit = absl::Now() + absl::Seconds(10);
  do {
    r = plugin_->SetUpPod(pod);
    if (r.ok()) break;
    absl::SleepFor(absl::Milliseconds(20));
  } while (absl::Now() < limit);
  EXPECT_TRUE(r.ok()) << r.status();
}

TEST_F(OcicniExecTest, OurCacheFileHasLibcnisKeysInItsOrder) {
  WriteFile(
      conf_dir_ + "/10-net.conflist",
      R"({"cniVersion":"1.0.0","name":"net","plugins":[{"type":"bridge","fake":{"ADD":{"addIp":{"address":"10.6.0.2/24"}}}}]})");
  Start();
  PodNetwork pod;
  pod.id = "k1";
  pod.netns = root_;
  pod.runtime_config["net"].port_mappings.push_back({1, 2, "udp", ""});
  ASSERT_TRUE(plugin_->SetUpPod(pod).ok());
  std::string bytes = testutil::ReadFileOnceItHas(
      cache_dir_ + "/results/net-k1-eth0", "\"result\":");
  std::vector<std::string> keys = testutil::TopLevelKeys(bytes);
  EXPECT_THAT(keys, ElementsAre("kind", "containerId", "config", "ifName",
                                "networkName", "netns", "cniArgs",
                                "capabilityArgs", "result"));
}

}  // namespace
}  // namespace ocicni
