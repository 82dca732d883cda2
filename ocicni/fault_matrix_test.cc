// The fault matrix: hostile configuration, hostile plugins, hostile input and
// a hostile filesystem, each end to end through the public library with the
// fake plugin processes. Every case must end in a clear error (or a success
// where the spec says to tolerate), never a crash or hang, and leave nothing
// behind: no cache entry, no attachment without its rollback DEL, no file
// outside the cache dir created or removed.
#include <fcntl.h>
#include <ftw.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

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

namespace ocicni {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

using ::ocicni::testutil::ReadFile;
using ::ocicni::testutil::WriteFile;

std::set<std::string>* tree_sink = nullptr;
int AddPath(const char* path, const struct stat*, int, struct FTW*) {
  tree_sink->insert(path);
  return 0;
}

// Tree lists every path under `dir`.
std::set<std::string> Tree(const std::string& dir) {
  std::set<std::string> out;
  tree_sink = &out;
  nftw(dir.c_str(), AddPath, 16, FTW_PHYS);
  tree_sink = nullptr;
  return out;
}

class FaultMatrixTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string name =
        ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::replace(name.begin(), name.end(), '/', '_');
    auto dir = testutil::MakeTempDir(name);
    ASSERT_TRUE(dir.ok());
    root_ = *dir;
    conf_dir_ = root_ + "/net.d";
    bin_dir_ = root_ + "/bin";
    cache_dir_ = root_ + "/cache";
    record_ = root_ + "/record.jsonl";
    mkdir(conf_dir_.c_str(), 0755);
    mkdir(bin_dir_.c_str(), 0755);
    for (const char* type : {"bridge", "tuning", "bad"}) {
      Install(type);
    }
  }

  void TearDown() override {
    if (plugin_) plugin_->Shutdown();
  }

  void Install(const std::string& type) {
    ASSERT_TRUE(
        testutil::InstallPlugin(testutil::FakePluginPath(), bin_dir_, type)
            .ok());
    WriteFile(absl::StrCat(bin_dir_, "/", type, ".fake.json"),
              absl::StrCat(R"({"recordTo":")", record_, R"("})"));
  }

  void Start(bool watch = false) {
    Options options;
    options.conf_dirs = {conf_dir_};
    options.plugin_dirs = {bin_dir_};
    options.cache_dir = cache_dir_;
    options.watch = watch;
    internal::Deps deps;
    deps.netns_ops = std::make_unique<testutil::FakeNetnsOps>();
    deps.inherited_cni_args = "";
    auto plugin = internal::NewPlugin(options, std::move(deps));
    ASSERT_TRUE(plugin.ok()) << plugin.status();
    plugin_ = *std::move(plugin);
  }

  // Writes a network "net" whose second plugin ("bad") behaves as
  // `bad_behaviour` (the fake plugin's "fake" object).
  void BadNetwork(const std::string& bad_behaviour) {
    WriteFile(
        conf_dir_ + "/10-net.conflist",
        absl::StrCat(
            R"({"cniVersion":"1.0.0","name":"net","plugins":[)",
            R"({"type":"bridge","fake":{"ADD":{"addInterface":{"name":"eth0"},"addIp":{"address":"10.8.0.2/24"}}}},)",
            R"({"type":"bad","fake":)", bad_behaviour, "}]}"));
  }

  PodNetwork Pod(const std::string& id = "pod1") {
    PodNetwork pod;
    pod.name = "p";
    pod.namespace_ = "ns";
    pod.id = id;
    pod.netns = root_;
    return pod;
  }

  // The "<COMMAND> <plugin>" sequence the plugins saw.
  std::vector<std::string> Calls() {
    std::vector<std::string> out;
    for (absl::string_view line :
         absl::StrSplit(ReadFile(record_), '\n', absl::SkipEmpty())) {
      std::string command, plugin;
      for (absl::string_view field : absl::StrSplit(line, '"')) {
        if (absl::StartsWith(field, "CNI_COMMAND=")) {
          command = std::string(field.substr(12));
        }
      }
      size_t argv = line.find("\"argv\":[\"");
      if (argv != absl::string_view::npos) {
        absl::string_view rest = line.substr(argv + 9);
        rest = rest.substr(0, rest.find('"'));
        plugin = std::string(rest.substr(rest.rfind('/') + 1));
      }
      out.push_back(absl::StrCat(command, " ", plugin));
    }
    return out;
  }

  bool CacheEmpty() {
    for (const std::string& p : Tree(cache_dir_)) {
      // Spare inodes the cache keeps for reuse are not entries.
      if (absl::StrContains(p, "/results/.spares")) continue;
      if (absl::StrContains(p, "/results/")) return false;
    }
    return true;
  }

  std::string root_, conf_dir_, bin_dir_, cache_dir_, record_;
  std::unique_ptr<CNIPlugin> plugin_;
};

TEST_F(FaultMatrixTest, HostileConfDirNeitherHangsNorHidesGoodNetworks) {
  ASSERT_EQ(mkfifo((conf_dir_ + "/01-fifo.conflist").c_str(), 0644), 0);
  ASSERT_EQ(symlink("/dev/zero", (conf_dir_ + "/02-zero.conflist").c_str()), 0);
  int fd =
      open((conf_dir_ + "/03-huge.conflist").c_str(), O_CREAT | O_WRONLY, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(ftruncate(fd, off_t{1} << 30), 0);  // 1 GiB, sparse
  close(fd);
  WriteFile(conf_dir_ + "/04-half.conflist",
            R"({"cniVersion":"1.0.0","name":"half","plu)");
  WriteFile(
      conf_dir_ + "/05-traversal.conflist",
      R"({"cniVersion":"1.0.0","name":"evil","plugins":[{"type":"../../bin/sh"}]})");
  WriteFile(
      conf_dir_ + "/06-evilname.conflist",
      R"({"cniVersion":"1.0.0","name":"../../etc","plugins":[{"type":"bridge"}]})");
  WriteFile(
      conf_dir_ + "/10-good.conflist",
      R"({"cniVersion":"1.0.0","name":"good","plugins":[{"type":"bridge"}]})");
  const absl::Time start = absl::Now();
  Start();
  EXPECT_LT(absl::Now() - start, absl::Seconds(10));  // catches a hang
  EXPECT_EQ(plugin_->GetDefaultNetworkName(), "good");
  EXPECT_TRUE(plugin_->SetUpPod(Pod()).ok());
  PodNetwork evil = Pod("pod2");
  evil.networks = {{"evil", ""}};
  auto r = plugin_->SetUpPod(evil);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("plugin type"));
  EXPECT_THAT(Calls(), ElementsAre("ADD bridge"));
}

TEST_F(FaultMatrixTest, TraversalInIdsIsRejectedOnEveryVerb) {
  WriteFile(
      conf_dir_ + "/10-good.conflist",
      R"({"cniVersion":"1.0.0","name":"good","plugins":[{"type":"bridge"}]})");
  Start();
  const std::set<std::string> before = Tree(root_);
  std::vector<PodNetwork> pods;
  for (const char* id : {"../../../tmp/x", "a/b", "", "-rf", "..", "a\nb"}) {
    pods.push_back(Pod(id));
  }
  PodNetwork bad_if = Pod();
  bad_if.networks = {{"good", "../../x"}};
  pods.push_back(bad_if);
  PodNetwork bad_net = Pod();
  bad_net.networks = {{"../../etc/passwd", "eth0"}};
  pods.push_back(bad_net);
  for (const PodNetwork& pod : pods) {
    SCOPED_TRACE(pod.id);
    EXPECT_EQ(plugin_->SetUpPod(pod).status().code(),
              absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(plugin_->TearDownPod(pod).code(),
              absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(plugin_->CheckPod(pod).code(),
              absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(plugin_->GetPodNetworkStatus(pod).status().code(),
              absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(plugin_->GC({pod}).code(), absl::StatusCode::kInvalidArgument);
  }
  EXPECT_TRUE(Calls().empty());
  EXPECT_EQ(Tree(root_), before);  // nothing created or removed anywhere
}

struct PluginFault {
  const char* name;
  const char* behaviour;  // the "bad" plugin's "fake" object
  absl::StatusCode code;
  const char* message;
};

class PluginFaultTest : public FaultMatrixTest,
                        public ::testing::WithParamInterface<PluginFault> {};

TEST_P(PluginFaultTest, FailsClearlyAndRollsBack) {
  const PluginFault& fault = GetParam();
  BadNetwork(fault.behaviour);
  Start();
  CallOptions call;
  call.deadline = absl::Now() + absl::Seconds(2);
  const absl::Time start = absl::Now();
  auto r = plugin_->SetUpPod(Pod(), call);
  EXPECT_LT(absl::Now() - start, absl::Seconds(30));  // catches a hang
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), fault.code) << r.status();
  EXPECT_THAT(std::string(r.status().message()), HasSubstr(fault.message));
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("rolled back"));
  EXPECT_LT(r.status().message().size(), 4096u);  // bounded
  ASSERT_TRUE(FailureOf(r.status()).has_value());
  EXPECT_EQ(FailureOf(r.status())->network, "net");
  EXPECT_EQ(FailureOf(r.status())->plugin, "bad");
  EXPECT_THAT(Calls(),
              ElementsAre("ADD bridge", "ADD bad", "DEL bad", "DEL bridge"));
  EXPECT_TRUE(CacheEmpty());
}

INSTANTIATE_TEST_SUITE_P(
    Plugins, PluginFaultTest,
    ::testing::Values(
        PluginFault{"hang_with_grandchild",
                    R"({"ADD":{"sleepSeconds":60,"spawnGrandchild":true}})",
                    absl::StatusCode::kDeadlineExceeded, "bad"},
        PluginFault{"flood_stdout", R"({"ADD":{"floodStdoutBytes":9000000}})",
                    absl::StatusCode::kResourceExhausted, "bad"},
        PluginFault{"garbage", R"({"ADD":{"garbage":true}})",
                    absl::StatusCode::kInvalidArgument, "bad"},
        PluginFault{"crash", R"({"ADD":{"crashSignal":11}})",
                    absl::StatusCode::kInternal, "bad"},
        PluginFault{
            "cni_error",
            R"({"ADD":{"error":{"code":7,"msg":"invalid config","details":"no bridge"}}})",
            absl::StatusCode::kInvalidArgument, "invalid config; no bridge"},
        PluginFault{"stderr_only",
                    R"({"ADD":{"exitCode":3,"stderr":"boom happened"}})",
                    absl::StatusCode::kUnknown, "boom happened"},
        PluginFault{
            "interface_out_of_range",
            R"({"ADD":{"result":{"cniVersion":"1.0.0","interfaces":[{"name":"eth0"}],"ips":[{"address":"10.8.0.3/24","interface":5}]}}})",
            absl::StatusCode::kInvalidArgument, "out of range"}),
    [](const ::testing::TestParamInfo<PluginFault>& info) {
      return std::string(info.param.name);
    });

TEST_F(FaultMatrixTest, NullResultAndStderrFloodAreTolerated) {
  BadNetwork(R"({"ADD":{"printNull":true,"floodStderrBytes":2000000}})");
  Start();
  auto r = plugin_->SetUpPod(Pod());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ((*r)[0].result.cni_version(), "1.0.0");
  EXPECT_TRUE(plugin_->TearDownPod(Pod()).ok());
  EXPECT_TRUE(CacheEmpty());
}

TEST_F(FaultMatrixTest, TextFileBusyIsRetried) {
  // A real copy (not a symlink) that a writer holds open: exec gets ETXTBSY.
  const std::string path = bin_dir_ + "/busy";
  WriteFile(path, ReadFile(testutil::FakePluginPath()));
  chmod(path.c_str(), 0755);
  WriteFile(
      conf_dir_ + "/10-busy.conflist",
      R"({"cniVersion":"1.0.0","name":"busy","plugins":[{"type":"busy"}]})");
  Start();
  int writer = open(path.c_str(), O_WRONLY);
  ASSERT_GE(writer, 0);
  std::thread closer([writer] {
    absl::SleepFor(absl::Milliseconds(150));
    close(writer);
  });
  auto r = plugin_->SetUpPod(Pod());
  closer.join();
  EXPECT_TRUE(r.ok()) << r.status();
}

TEST_F(FaultMatrixTest, DelErrorHaltsTheChainAndKeepsTheCache) {
  BadNetwork(R"({"DEL":{"error":{"code":11,"msg":"busy"}}})");
  Start();
  ASSERT_TRUE(plugin_->SetUpPod(Pod()).ok());
  absl::Status s = plugin_->TearDownPod(Pod());
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(CniErrorOf(s)->code(), 11u);
  EXPECT_THAT(Calls(), ElementsAre("ADD bridge", "ADD bad", "DEL bad"));
  EXPECT_FALSE(CacheEmpty());
}

TEST_F(FaultMatrixTest, ZeroByteAndCorruptCacheFiles) {
  WriteFile(
      conf_dir_ + "/10-net.conflist",
      R"({"cniVersion":"1.0.0","name":"net","plugins":[{"type":"bridge"}]})");
  Start();
  mkdir(cache_dir_.c_str(), 0700);
  mkdir((cache_dir_ + "/results").c_str(), 0700);
  for (const char* junk : {"", "{\"kind\":\"cniCacheV1\",", "\xff\xfe"}) {
    WriteFile(cache_dir_ + "/results/net-pod1-eth0", junk);
    PodNetwork pod = Pod();
    pod.networks = {{"net", "eth0"}};
    EXPECT_TRUE(plugin_->TearDownPod(pod).ok());
    EXPECT_TRUE(CacheEmpty());
    // Status without a usable cache falls back to the (fake) live view.
    WriteFile(cache_dir_ + "/results/net-pod1-eth0", junk);
    EXPECT_EQ(plugin_->GetPodNetworkStatus(pod).status().code(),
              absl::StatusCode::kNotFound);
  }
}

TEST_F(FaultMatrixTest, ConfDirRemovedAndRecreatedUnderLoad) {
  const std::string conf =
      R"({"cniVersion":"1.0.0","name":"net","plugins":[{"type":"tuning"}]})";
  WriteFile(conf_dir_ + "/10-net.conflist", conf);
  WriteFile(bin_dir_ + "/tuning.fake.json", "{}");  // no recording: fast
  Start(/*watch=*/true);
  std::atomic<bool> stop{false};
  std::atomic<int> ok{0}, not_found{0}, other{0};
  std::vector<std::thread> workers;
  for (int w = 0; w < 3; ++w) {
    workers.emplace_back([&, w] {
      for (int i = 0; !stop; ++i) {
        PodNetwork pod = Pod(absl::StrCat("w", w, "-", i));
        pod.networks = {{"net", ""}};
        auto r = plugin_->SetUpPod(pod);
        if (r.ok()) {
          ++ok;
          EXPECT_TRUE(plugin_->TearDownPod(pod).ok());
        } else if (absl::IsNotFound(r.status())) {
          ++not_found;
        } else {
          ++other;
          ADD_FAILURE() << r.status();
        }
      }
    });
  }
  for (int round = 0; round < 5; ++round) {
    absl::SleepFor(absl::Milliseconds(60));
    std::filesystem::remove_all(conf_dir_);
    absl::SleepFor(absl::Milliseconds(60));
    mkdir(conf_dir_.c_str(), 0755);
    WriteFile(conf_dir_ + "/10-net.conflist", conf);
  }
  stop = true;
  for (auto& t : workers) t.join();
  EXPECT_EQ(other.load(), 0);
  EXPECT_GT(ok.load(), 0);
  // The watch follows the recreated dir: the network is there again.
  absl::Time limit = absl::Now() + absl::Seconds(10);
  while (plugin_->GetDefaultNetworkName() != "net" && absl::Now() < limit) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  EXPECT_EQ(plugin_->GetDefaultNetworkName(), "net");
  EXPECT_TRUE(CacheEmpty());
}

// The cache dir on a tiny tmpfs: full, then read-only. Needs root for the
// mount (the sandbox's own mount namespace; nothing outside is touched).
TEST_F(FaultMatrixTest, CacheDirFullOrReadOnly) {
  if (geteuid() != 0) {
    GTEST_SKIP() << "needs root to mount a small tmpfs for the cache dir";
  }
  mkdir(cache_dir_.c_str(), 0700);
  ASSERT_EQ(mount("tmpfs", cache_dir_.c_str(), "tmpfs", 0, "size=64k"), 0)
      << strerror(errno);
  BadNetwork(R"({})");
  Start();
  // Fill the file system.
  mkdir((cache_dir_ + "/results").c_str(), 0700);
  {
    // Write until the file system says it is full.
    int filler =
        open((cache_dir_ + "/filler").c_str(), O_CREAT | O_WRONLY, 0600);
    ASSERT_GE(filler, 0);
    const std::string chunk(4096, 'x');
    while (write(filler, chunk.data(), chunk.size()) > 0) {
    }
    EXPECT_EQ(errno, ENOSPC);
    close(filler);
  }
  auto r = plugin_->SetUpPod(Pod());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kResourceExhausted)
      << r.status();
  EXPECT_THAT(std::string(r.status().message()),
              HasSubstr("caching the result"));
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("rolled back"));
  EXPECT_THAT(Calls(),
              ElementsAre("ADD bridge", "ADD bad", "DEL bad", "DEL bridge"));
  unlink((cache_dir_ + "/filler").c_str());

  ASSERT_EQ(mount("tmpfs", cache_dir_.c_str(), "tmpfs", MS_REMOUNT | MS_RDONLY,
                  "size=64k"),
            0)
      << strerror(errno);
  r = plugin_->SetUpPod(Pod("pod2"));
  EXPECT_FALSE(r.ok());
  EXPECT_THAT(std::string(r.status().message()), HasSubstr(cache_dir_));
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("rolled back"));
  plugin_->Shutdown();
  umount2(cache_dir_.c_str(), MNT_DETACH);
}

}  // namespace
}  // namespace ocicni
