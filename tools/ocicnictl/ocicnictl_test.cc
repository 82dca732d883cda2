// Golden tests of ocicnictl: argument parsing and output (human and --json),
// run in-process against the fake plugins of //testing (real plugin
// processes; the pod's namespace is faked, so no root is needed).
//
// Each golden file under tools/testdata/ocicnictl/ is the transcript of a
// few command lines: the command, its exit code, stdout and stderr, with the
// test's temporary directory written as $ROOT. To regenerate them after an
// intended change of output:
//
//   export OCICNI_UPDATE_GOLDENS=$PWD/tools/testdata/ocicnictl
//   bazel run //tools:ocicnictl_test
#include "tools/ocicnictl/ocicnictl.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ocicni/plugin_impl.h"
#include "testing/fake_netns_ops.h"
#include "testing/files.h"
#include "testing/runfiles.h"
#include "tools/ocicnictl/args.h"
#include "types/json.h"

namespace ocicni::ctl {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::StartsWith;

constexpr char kGoldenDir[] = "tools/testdata/ocicnictl";

using ::ocicni::testutil::ReadFile;
using ::ocicni::testutil::WriteFile;

// Quote renders one argument as a shell would need it.
std::string Quote(const std::string& arg) {
  if (arg.empty()) return "''";
  if (arg.find_first_of(" \"'$\\") == std::string::npos) return arg;
  return absl::StrCat("'", arg, "'");
}

class OcicnictlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = testutil::MakeTempDir(
        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    ASSERT_TRUE(dir.ok()) << dir.status();
    root_ = *dir;
    conf_dir_ = root_ + "/net.d";
    bin_dir_ = root_ + "/bin";
    cache_dir_ = root_ + "/cache";
    mkdir(conf_dir_.c_str(), 0755);
    mkdir(bin_dir_.c_str(), 0755);
    // The shared configs (see tools/testdata/ocicnictl/net.d).
    for (const char* name :
         {"10-demo.conflist", "20-other.conflist", "30-broken.conf",
          "40-demo-again.conflist", "50-notype.conf", "60-failing.conflist",
          "70-missing.conflist", "80-legacy.conf", "90-caps.conflist"}) {
      WriteFile(absl::StrCat(conf_dir_, "/", name),
                ReadFile(testutil::RunfilePath(
                    absl::StrCat(kGoldenDir, "/net.d/", name))));
    }
    for (const char* type : {"bridge", "tuning"}) {
      ASSERT_TRUE(
          testutil::InstallPlugin(testutil::FakePluginPath(), bin_dir_, type)
              .ok());
    }
    env_.make_plugin = [](const Options& options)
        -> absl::StatusOr<std::unique_ptr<CNIPlugin>> {
      internal::Deps deps;
      deps.netns_ops = std::make_unique<testutil::FakeNetnsOps>();
      deps.inherited_cni_args = "";
      return internal::NewPlugin(options, std::move(deps));
    };
  }

  // Cli runs ocicnictl with the test's dirs as global flags in front (a
  // later flag of the same name wins) and returns the exit code. It runs in
  // the test's directory with relative conf and cache dirs, so that output
  // aligned around paths is the same in every run.
  int Cli(const std::vector<std::string>& args, std::string* out = nullptr,
          std::string* err = nullptr) {
    std::vector<std::string> all = {"--conf-dir=net.d",
                                    "--plugin-dir=" + bin_dir_,
                                    "--cache-dir=cache", "--netns-dir=netns"};
    all.insert(all.end(), args.begin(), args.end());
    EXPECT_EQ(chdir(root_.c_str()), 0);
    std::ostringstream o, e;
    int code = ctl::Run(all, o, e, env_);
    if (out != nullptr) *out = Scrub(o.str());
    if (err != nullptr) *err = Scrub(e.str());
    return code;
  }

  std::string Scrub(const std::string& s) const {
    return absl::StrReplaceAll(s, {{root_, "$ROOT"}});
  }

  // Transcript runs each command line (without the test's global flags in
  // the transcript) and renders what happened.
  std::string Transcript(const std::vector<std::vector<std::string>>& runs) {
    std::string t;
    for (const auto& args : runs) {
      std::string out, err;
      int code = Cli(args, &out, &err);
      std::vector<std::string> quoted = {"ocicnictl"};
      for (const std::string& a : args) quoted.push_back(Quote(a));
      absl::StrAppend(&t, "$ ", absl::StrJoin(quoted, " "), "\n[exit ", code,
                      "]\n", out);
      if (!err.empty()) absl::StrAppend(&t, "[stderr]\n", err);
      absl::StrAppend(&t, "\n");
    }
    return t;
  }

  void ExpectGolden(const std::string& name,
                    const std::vector<std::vector<std::string>>& runs) {
    const std::string got = Transcript(runs);
    const std::string file = name + ".golden";
    if (const char* update = std::getenv("OCICNI_UPDATE_GOLDENS")) {
      WriteFile(absl::StrCat(update, "/", file), got);
      return;
    }
    const std::string want =
        ReadFile(testutil::RunfilePath(absl::StrCat(kGoldenDir, "/", file)));
    EXPECT_EQ(got, want) << "golden " << file
                         << " differs; see the file comment to update it";
  }

  std::string root_, conf_dir_, bin_dir_, cache_dir_;
  Env env_;
};

const std::vector<std::string> kPod = {"--netns", "/run/netns/golden", "--id",
                                       "c1"};

std::vector<std::string> Args(std::vector<std::string> head,
                              const std::vector<std::string>& tail = {}) {
  head.insert(head.end(), tail.begin(), tail.end());
  return head;
}

TEST_F(OcicnictlTest, Networks) {
  ExpectGolden("networks",
               {{"networks"},
                {"networks", "--json"},
                {"--default-network", "other", "networks"},
                {"--json", "--default-network", "nope", "networks"}});
}

TEST_F(OcicnictlTest, PodLifecycle) {
  ExpectGolden("lifecycle",
               {Args({"add"}, Args(kPod, {"--pod", "default/web-0"})),
                Args({"status"}, kPod),
                Args({"--json", "status"}, kPod),
                Args({"check"}, kPod),
                Args({"check", "--json"}, kPod),
                {"cache", "list"},
                {"cache", "list", "--json"},
                {"del", "--id", "c1", "--netns", ""},
                {"del", "--id", "c1", "--json"},
                {"cache", "list"},
                {"cache", "list", "--json"}});
}

TEST_F(OcicnictlTest, AddSeveralNetworksAndLegacyVersions) {
  ExpectGolden("add_networks",
               {Args({"add", "--json", "--network", "demo,other:net1"}, kPod),
                Args({"status", "--network", "demo,other:net1"}, kPod),
                {"add", "--netns", "/run/netns/old", "--id", "c2", "--network",
                 "legacy"},
                {"add", "--netns", "/run/netns/old", "--id", "c3", "--network",
                 "legacy", "--json"},
                {"cache", "list"},
                {"cache", "list", "--json"},
                {"del", "--id", "c1", "--network", "demo,other:net1"},
                {"del", "--id", "c2"}});
}

TEST_F(OcicnictlTest, Gc) {
  ExpectGolden("gc",
               {{"add", "--netns", "/run/netns/a", "--id", "c1"},
                {"add", "--netns", "/run/netns/b", "--id", "c2", "--network",
                 "demo,other"},
                {"add", "--netns", "/run/netns/c", "--id", "c3", "--json"},
                {"gc"},
                {"gc", "--json"},
                {"gc", "--valid", "c1", "--none-valid"},
                {"gc", "--valid", "c1,c2:eth1"},
                {"cache", "list"},
                {"gc", "--json", "--valid", "c1"},
                {"gc", "--none-valid"},
                {"cache", "list", "--json"}});
}

TEST_F(OcicnictlTest, FailuresNameNetworkPluginAndReason) {
  ExpectGolden("errors", {Args({"add", "--network", "failing"}, kPod),
                          Args({"add", "--network", "failing", "--json"}, kPod),
                          Args({"add", "--network", "missing"}, kPod),
                          Args({"add", "--network", "missing", "--json"}, kPod),
                          Args({"add", "--network", "nope"}, kPod),
                          Args({"--json", "add", "--network", "broken"}, kPod),
                          Args({"check"}, kPod),
                          {"cache", "list"}});
}

TEST_F(OcicnictlTest, UsageErrorsExitTwoWithAHint) {
  ExpectGolden("usage",
               {{},
                {"frobnicate"},
                {"--bogus", "networks"},
                {"networks", "extra"},
                {"add", "--id", "c1"},
                {"add", "--netns", "/run/netns/x"},
                Args({"add", "--id", "-bad"}, {"--netns", "/x"}),
                Args({"add", "--pod", "web-0"}, kPod),
                Args({"add", "--port", "8080"}, kPod),
                Args({"add", "--port", "8080:80/icmp"}, kPod),
                Args({"add", "--port", "8080:80@nothost"}, kPod),
                Args({"add", "--port", "0:80"}, kPod),
                Args({"add", "--network", "demo:eth0,other:eth0:x"}, kPod),
                Args({"add", "--ingress-rate", "1000"}, kPod),
                Args({"add", "--ip", "10.0.0.300"}, kPod),
                Args({"add", "--ifname", "eth0"}, kPod),
                {"add", "--timeout", "soon", "--netns", "/x", "--id", "c1"},
                {"add", "--netns"},
                {"status", "--id", "c1"},
                {"inspect"},
                {"gc"},
                {"gc", "--valid", ""},
                {"gc", "--valid", "c1:"},
                {"netns"},
                {"netns", "add"},
                {"netns", "add", "a", "b"},
                {"netns", "add", ".."},
                {"netns", "frob"},
                {"cache"},
                {"help", "frob"},
                {"--json", "frobnicate"},
                {"-v", "x", "version"}});
}

TEST_F(OcicnictlTest, HelpForEveryCommand) {
  ExpectGolden("help", {{"--help"},
                        {"help", "add"},
                        {"del", "--help"},
                        {"gc", "-h"},
                        {"netns", "--help"},
                        {"help", "netns", "add"}});
  for (const char* command :
       {"networks", "add", "check", "del", "status", "gc", "inspect",
        "netns add", "netns del", "netns list", "cache list", "version"}) {
    std::vector<std::string> args =
        absl::StrSplit(command, ' ', absl::SkipEmpty());
    args.push_back("--help");
    std::string out, err;
    EXPECT_EQ(Cli(args, &out, &err), kExitOk) << command;
    EXPECT_THAT(out, StartsWith(absl::StrCat("Usage: ocicnictl ", command)));
    EXPECT_THAT(err, IsEmpty());
  }
}

TEST_F(OcicnictlTest, VersionAndNetnsList) {
  mkdir((root_ + "/netns").c_str(), 0755);
  WriteFile(root_ + "/netns/pod-b", "");
  WriteFile(root_ + "/netns/pod-a", "");
  ExpectGolden("version", {{"version"},
                           {"version", "--json"},
                           {"netns", "list"},
                           {"netns", "list", "--json"},
                           {"--netns-dir", "/nonexistent", "netns", "list"}});
}

TEST_F(OcicnictlTest, RuntimeFlagsReachPluginsAsCapabilities) {
  const std::string record = root_ + "/record.jsonl";
  WriteFile(bin_dir_ + "/bridge.fake.json",
            absl::StrCat(R"({"recordTo":")", record, R"("})"));
  std::string out, err;
  ASSERT_EQ(Cli(Args({"add", "--network", "caps", "--port",
                      "8080:80,5353:53/UDP@127.0.0.1", "--ip", "10.77.0.9",
                      "--mac", "02:00:00:00:00:09", "--ingress-rate", "1000",
                      "--ingress-burst", "2000", "--cgroup-path", "/pods/p1",
                      "--pod", "ns1/web", "--uid", "u-1"},
                     kPod),
                &out, &err),
            kExitOk)
      << err;
  std::vector<std::string> lines =
      absl::StrSplit(ReadFile(record), '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 1u);
  auto call = types::ParseJsonObject(lines[0], "record");
  ASSERT_TRUE(call.ok()) << call.status();
  auto conf = types::ParseJsonObject(call->fields().at("stdin").string_value(),
                                     "stdin");
  ASSERT_TRUE(conf.ok()) << conf.status();
  EXPECT_EQ(
      types::WriteJson(conf->fields().at("runtimeConfig")),
      R"({"bandwidth":{"ingressBurst":2000,"ingressRate":1000},)"
      R"("cgroupPath":"/pods/p1","ips":["10.77.0.9"],"mac":"02:00:00:00:00:09",)"
      R"("portMappings":[{"containerPort":80,"hostPort":8080,"protocol":"tcp"},)"
      R"({"containerPort":53,"hostIP":"127.0.0.1","hostPort":5353,"protocol":"udp"}]})");
  std::string env = types::WriteJson(call->fields().at("env"));
  EXPECT_THAT(env, HasSubstr("K8S_POD_NAMESPACE=ns1;K8S_POD_NAME=web;"
                             "K8S_POD_INFRA_CONTAINER_ID=c1;K8S_POD_UID=u-1;"
                             "IP=10.77.0.9;MAC=02:00:00:00:00:09"));
}

// An attachment given as ID:IFNAME that the cache does not know (cache
// lost, or written by another tool elsewhere) is still reported valid to
// the networks' GC, so their plugins keep what it holds.
TEST_F(OcicnictlTest, GcTellsPluginsAboutValidAttachmentsTheCacheLacks) {
  const std::string record = root_ + "/record.jsonl";
  WriteFile(bin_dir_ + "/bridge.fake.json",
            absl::StrCat(R"({"recordTo":")", record, R"("})"));
  std::string out, err;
  ASSERT_EQ(Cli({"gc", "--valid", "c9:eth3"}, &out, &err), kExitOk) << err;
  bool seen = false;
  for (absl::string_view line :
       absl::StrSplit(ReadFile(record), '\n', absl::SkipEmpty())) {
    auto call = types::ParseJsonObject(line, "record");
    ASSERT_TRUE(call.ok()) << call.status();
    auto conf = types::ParseJsonObject(
        call->fields().at("stdin").string_value(), "stdin");
    ASSERT_TRUE(conf.ok()) << conf.status();
    if (conf->fields().at("name").string_value() != "other") continue;
    seen = true;
    EXPECT_EQ(types::WriteJson(conf->fields().at("cni.dev/valid-attachments")),
              R"([{"containerID":"c9","ifname":"eth3"}])");
  }
  EXPECT_TRUE(seen) << "no GC call for network \"other\" was recorded";
}

TEST(ParseArgsTest, GlobalFlagsGoBeforeOrAfterTheCommand) {
  ParseOutcome a = ParseArgs({"--json", "--conf-dir", "/a,/b", "networks"});
  ParseOutcome b = ParseArgs({"networks", "--conf-dir=/a,/b", "-json"});
  for (const ParseOutcome& p : {a, b}) {
    ASSERT_THAT(p.error, IsEmpty());
    EXPECT_EQ(p.invocation.command, Command::kNetworks);
    EXPECT_TRUE(p.invocation.global.json);
    EXPECT_THAT(p.invocation.global.conf_dirs, ElementsAre("/a", "/b"));
  }
}

TEST(ParseArgsTest, TheLastOfARepeatedFlagWins) {
  ParseOutcome p =
      ParseArgs({"--json", "version", "--plugin-dir", "/x", "--nojson",
                 "--plugin-dir=/y", "--timeout=2s", "--timeout", "1m30s"});
  ASSERT_THAT(p.error, IsEmpty());
  EXPECT_FALSE(p.invocation.global.json);
  EXPECT_FALSE(p.json);
  EXPECT_THAT(p.invocation.global.plugin_dirs, ElementsAre("/y"));
  EXPECT_EQ(p.invocation.global.timeout, absl::Seconds(90));
}

TEST(ParseArgsTest, Defaults) {
  ParseOutcome p = ParseArgs({"cache", "list"});
  ASSERT_THAT(p.error, IsEmpty());
  const GlobalFlags& g = p.invocation.global;
  EXPECT_THAT(g.conf_dirs, ElementsAre("/etc/cni/net.d"));
  EXPECT_THAT(g.plugin_dirs, ElementsAre("/opt/cni/bin", "/usr/lib/cni"));
  EXPECT_EQ(g.cache_dir, "/var/lib/cni");
  EXPECT_EQ(g.netns_dir, "/var/run/netns");
  EXPECT_EQ(g.timeout, absl::Seconds(60));
  EXPECT_FALSE(g.verbosity.has_value());
}

TEST(ParseArgsTest, PodFlags) {
  ParseOutcome p = ParseArgs({"-v", "2", "add", "--netns", "pod-1", "--id",
                              "c1", "--network", "a,b:net1,c", "--pod",
                              "ns/name/with/slash", "--egress-rate=10",
                              "--egress-burst=20", "--netns-dir", "/tmp/ns"});
  ASSERT_THAT(p.error, IsEmpty());
  const PodFlags& pod = p.invocation.pod;
  EXPECT_EQ(p.invocation.global.verbosity, 2);
  // A bare name is a namespace in --netns-dir.
  EXPECT_EQ(pod.netns, "/tmp/ns/pod-1");
  EXPECT_EQ(pod.pod_namespace, "ns");
  EXPECT_EQ(pod.pod_name, "name/with/slash");
  ASSERT_EQ(pod.networks.size(), 3u);
  EXPECT_EQ(pod.networks[1].name, "b");
  EXPECT_EQ(pod.networks[1].ifname, "net1");
  EXPECT_EQ(pod.networks[2].ifname, "");
  ASSERT_TRUE(pod.runtime.bandwidth.has_value());
  EXPECT_EQ(pod.runtime.bandwidth->egress_rate, 10u);
  EXPECT_EQ(pod.runtime.bandwidth->egress_burst, 20u);
  EXPECT_EQ(pod.runtime.bandwidth->ingress_rate, 0u);
}

TEST(ParseArgsTest, DelAcceptsAnEmptyOrMissingNetns) {
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"del", "--id", "c1", "--netns", ""},
           {"del", "--id", "c1", "--netns="},
           {"del", "--id", "c1"}}) {
    ParseOutcome p = ParseArgs(args);
    ASSERT_THAT(p.error, IsEmpty());
    EXPECT_EQ(p.invocation.pod.netns, "");
  }
}

TEST(ParseArgsTest, DoubleDashEndsTheFlags) {
  ParseOutcome p = ParseArgs({"netns", "add", "--", "--json"});
  ASSERT_THAT(p.error, IsEmpty());
  EXPECT_EQ(p.invocation.command, Command::kNetnsAdd);
  EXPECT_EQ(p.invocation.name, "--json");
  EXPECT_FALSE(p.invocation.global.json);
}

TEST(ParseArgsTest, GcValidSet) {
  ParseOutcome p = ParseArgs({"gc", "--valid", "c1,c2:eth1"});
  ASSERT_THAT(p.error, IsEmpty());
  EXPECT_THAT(
      p.invocation.valid,
      ElementsAre(std::make_pair(std::string("c1"), std::string()),
                  std::make_pair(std::string("c2"), std::string("eth1"))));
  EXPECT_FALSE(p.invocation.none_valid);
  ParseOutcome none = ParseArgs({"gc", "--none-valid"});
  ASSERT_THAT(none.error, IsEmpty());
  EXPECT_TRUE(none.invocation.none_valid);
  EXPECT_THAT(ParseArgs({"gc", "--none-valid=false"}).error,
              HasSubstr("gc needs the valid set"));
}

}  // namespace
}  // namespace ocicni::ctl
