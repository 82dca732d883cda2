// The whole exec/ path with real processes: PluginInvoker + PosixSpawner +
// the fake plugins from //testing.
#include <dirent.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "exec/cni_error.h"
#include "exec/invoker.h"
#include "exec/plugin_invoker.h"
#include "exec/posix_spawner.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/runfiles.h"
#include "types/json.h"
#include "types/version.h"

namespace ocicni::exec {
namespace {

using ::google::protobuf::Struct;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

int CountOpenFds() {
  int count = 0;
  DIR* dir = opendir("/proc/self/fd");
  while (struct dirent* e = readdir(dir)) {
    if (e->d_name[0] != '.') ++count;
  }
  closedir(dir);
  return count - 1;  // The directory's own descriptor.
}

class PluginExecTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = testutil::MakeTempDir("plugins");
    ASSERT_TRUE(dir.ok()) << dir.status();
    dir_ = *dir;
    auto fake =
        testutil::InstallPlugin(testutil::FakePluginPath(), dir_, "fake");
    ASSERT_TRUE(fake.ok()) << fake.status();
    auto noop =
        testutil::InstallPlugin(testutil::NoopPluginPath(), dir_, "noop");
    ASSERT_TRUE(noop.ok()) << noop.status();
    record_ = dir_ + "/record.jsonl";
  }

  PluginInvoker::Options DefaultOptions() {
    PluginInvoker::Options options;
    options.environment = std::vector<std::string>{
        "PATH=/usr/bin:/bin", "CNI_COMMAND=STALE",    "CNI_PATH=/stale",
        "CNI_ARGS=stale=1",   "CNI_NETNS_OVERRIDE=1", "KEEP=me"};
    return options;
  }

  InvokeRequest Request(Command command, const std::string& fake_json) {
    InvokeRequest request;
    request.command = command;
    request.plugin_type = "fake";
    request.network_name = "podnet";
    request.container_id = "c0ffee";
    request.netns = "/var/run/netns/pod";
    request.ifname = "eth0";
    request.cni_args = "IgnoreUnknown=1;K8S_POD_NAME=web";
    request.plugin_dirs = {dir_ + "/empty", dir_};
    request.stdin_data = absl::StrCat(
        R"({"cniVersion":"1.1.0","name":"podnet","type":"fake","fake":)",
        fake_json.empty() ? "{}" : fake_json, "}");
    request.deadline = absl::Now() + absl::Seconds(30);
    return request;
  }

  std::vector<Struct> Records() {
    std::vector<Struct> records;
    for (absl::string_view line :
         absl::StrSplit(ReadAll(record_), '\n', absl::SkipEmpty())) {
      auto parsed = types::ParseJsonObject(line, "record");
      EXPECT_TRUE(parsed.ok()) << parsed.status();
      if (parsed.ok()) records.push_back(*parsed);
    }
    return records;
  }

  std::string dir_;
  std::string record_;
};

TEST_F(PluginExecTest, PluginSeesEachCniVariableOnceAndOnlyStdio) {
  PluginInvoker invoker(DefaultOptions());
  InvokeRequest request = Request(
      Command::kAdd, absl::StrCat(R"({"recordTo":")", record_, R"("})"));
  auto out = invoker.Invoke(request);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(*out, R"({"cniVersion":"1.1.0"})");

  std::vector<Struct> records = Records();
  ASSERT_EQ(records.size(), 1u);
  const auto& fields = records[0].fields();
  std::vector<std::string> env;
  for (const auto& v : fields.at("env").list_value().values()) {
    env.push_back(v.string_value());
  }
  EXPECT_THAT(
      env, ElementsAre("PATH=/usr/bin:/bin", "CNI_NETNS_OVERRIDE=1", "KEEP=me",
                       "CNI_COMMAND=ADD", "CNI_CONTAINERID=c0ffee",
                       "CNI_NETNS=/var/run/netns/pod", "CNI_IFNAME=eth0",
                       "CNI_ARGS=IgnoreUnknown=1;K8S_POD_NAME=web",
                       absl::StrCat("CNI_PATH=", dir_, "/empty:", dir_)));
  EXPECT_EQ(fields.at("stdin").string_value(), request.stdin_data);
  std::vector<double> fds;
  for (const auto& v : fields.at("fds").list_value().values()) {
    fds.push_back(v.number_value());
  }
  EXPECT_THAT(fds, ElementsAre(0, 1, 2));
  ASSERT_EQ(fields.at("argv").list_value().values_size(), 1);
  EXPECT_EQ(fields.at("argv").list_value().values(0).string_value(),
            dir_ + "/fake");
}

TEST_F(PluginExecTest, ProcessEnvironmentIsTheDefault) {
  setenv("OCICNI_EXEC_TEST_MARK", "42", 1);
  setenv("CNI_IFNAME", "stale", 1);
  PluginInvoker invoker;  // Captures the environment now.
  unsetenv("OCICNI_EXEC_TEST_MARK");
  unsetenv("CNI_IFNAME");
  auto out = invoker.Invoke(Request(
      Command::kDel, absl::StrCat(R"({"recordTo":")", record_, R"("})")));
  ASSERT_TRUE(out.ok()) << out.status();
  std::vector<Struct> records = Records();
  ASSERT_EQ(records.size(), 1u);
  int marks = 0, ifnames = 0;
  for (const auto& v : records[0].fields().at("env").list_value().values()) {
    if (v.string_value() == "OCICNI_EXEC_TEST_MARK=42") ++marks;
    if (absl::StartsWith(v.string_value(), "CNI_IFNAME=")) {
      ++ifnames;
      EXPECT_EQ(v.string_value(), "CNI_IFNAME=eth0");
    }
  }
  EXPECT_EQ(marks, 1);
  EXPECT_EQ(ifnames, 1);
}

TEST_F(PluginExecTest, CniErrorWithCodeMsgDetails) {
  PluginInvoker invoker(DefaultOptions());
  auto out = invoker.Invoke(
      Request(Command::kAdd,
              R"({"error":{"code":7,"msg":"bad config","details":"no subnet"},
          "stderr":"log line"})"));
  EXPECT_EQ(out.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(
      out.status().message(),
      AllOf(HasSubstr("CNI plugin \"fake\""), HasSubstr("network \"podnet\""),
            HasSubstr("ADD"), HasSubstr("bad config; no subnet"),
            HasSubstr("CNI error code 7")));
  auto error = CniErrorFromStatus(out.status());
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->code(), 7u);
  EXPECT_EQ(error->msg(), "bad config");
  EXPECT_EQ(error->details(), "no subnet");
  EXPECT_EQ(error->cni_version(), "1.1.0");
}

TEST_F(PluginExecTest, TryAgainLaterIsUnavailable) {
  PluginInvoker invoker(DefaultOptions());
  auto out = invoker.Invoke(
      Request(Command::kDel, R"({"error":{"code":11,"msg":"later"}})"));
  EXPECT_EQ(out.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(CniErrorFromStatus(out.status())->code(), 11u);
}

TEST_F(PluginExecTest, GarbageNullAndStderrFailures) {
  PluginInvoker invoker(DefaultOptions());
  // Exit 0 with garbage: the bytes come back; decoding is types/' job.
  auto garbage = invoker.Invoke(Request(Command::kAdd, R"({"garbage":true})"));
  ASSERT_TRUE(garbage.ok());
  EXPECT_EQ(*garbage, "this is not {JSON");
  auto null = invoker.Invoke(Request(Command::kAdd, R"({"printNull":true})"));
  ASSERT_TRUE(null.ok());
  EXPECT_EQ(*null, "null");

  auto bad = invoker.Invoke(
      Request(Command::kAdd, R"({"garbage":true,"exitCode":2})"));
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kUnknown);
  EXPECT_THAT(bad.status().message(), HasSubstr("could not be parsed"));

  auto text = invoker.Invoke(
      Request(Command::kCheck,
              R"({"stderr":"disk on fire","exitCode":1,"stdout":""})"));
  EXPECT_EQ(text.status().code(), absl::StatusCode::kUnknown);
  EXPECT_THAT(text.status().message(),
              AllOf(HasSubstr("disk on fire"), HasSubstr("CHECK")));

  auto nothing =
      invoker.Invoke(Request(Command::kDel, R"({"exitCode":1,"stdout":""})"));
  EXPECT_THAT(nothing.status().message(), HasSubstr("no error message"));
}

TEST_F(PluginExecTest, CrashIsInternal) {
  PluginInvoker invoker(DefaultOptions());
  auto out = invoker.Invoke(Request(Command::kAdd, R"({"crashSignal":11})"));
  EXPECT_EQ(out.status().code(), absl::StatusCode::kInternal);
  EXPECT_THAT(out.status().message(), HasSubstr("signal 11"));
}

TEST_F(PluginExecTest, DeadlineNamesTheCall) {
  PluginInvoker invoker(DefaultOptions());
  InvokeRequest request = Request(Command::kAdd, R"({"sleepSeconds":60})");
  request.deadline = absl::Now() + absl::Milliseconds(200);
  absl::Time start = absl::Now();
  auto out = invoker.Invoke(request);
  EXPECT_EQ(out.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_THAT(out.status().message(), HasSubstr("network \"podnet\", ADD"));
  EXPECT_LT(absl::Now() - start, absl::Seconds(6));
}

TEST_F(PluginExecTest, OutputCap) {
  PluginInvoker::Options options = DefaultOptions();
  options.stdout_cap = 1 << 20;
  PluginInvoker invoker(options);
  auto out =
      invoker.Invoke(Request(Command::kAdd, R"({"floodStdoutBytes":5000000})"));
  EXPECT_EQ(out.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_LT(out.status().message().size(), 4096u);
}

TEST_F(PluginExecTest, PrevResultPassThroughAndAdditions) {
  PluginInvoker invoker(DefaultOptions());
  InvokeRequest request =
      Request(Command::kAdd,
              R"({"addInterface":{"name":"eth0","mac":"aa:bb:cc:dd:ee:ff"},
          "addIp":{"address":"10.1.0.5/24","gateway":"10.1.0.1"}})");
  request.stdin_data.pop_back();
  request.stdin_data +=
      R"(,"prevResult":{"cniVersion":"1.1.0","interfaces":[{"name":"br0"}]}})";
  auto out = invoker.Invoke(request);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(
      *out,
      R"({"cniVersion":"1.1.0","interfaces":[{"name":"br0"},)"
      R"({"mac":"aa:bb:cc:dd:ee:ff","name":"eth0"}],"ips":[)"
      R"({"address":"10.1.0.5/24","gateway":"10.1.0.1","interface":1}]})");
}

TEST_F(PluginExecTest, ControlFileAndPerCommandBehaviour) {
  std::string control = dir_ + "/control.json";
  std::ofstream(control) << R"({"DEL":{"error":{"code":3,"msg":"gone"}}})";
  PluginInvoker invoker(DefaultOptions());
  std::string fake = absl::StrCat(R"({"controlFile":")", control, R"("})");
  EXPECT_TRUE(invoker.Invoke(Request(Command::kAdd, fake)).ok());
  auto del = invoker.Invoke(Request(Command::kDel, fake));
  EXPECT_EQ(del.status().code(), absl::StatusCode::kNotFound);
  std::ofstream(control) << R"({})";
  EXPECT_TRUE(invoker.Invoke(Request(Command::kDel, fake)).ok());
}

TEST_F(PluginExecTest, VersionProbe) {
  PluginInvoker invoker(DefaultOptions());
  InvokeRequest request = Request(Command::kAdd, "");
  request.plugin_type = "fake";
  std::ofstream(dir_ + "/fake.fake.json")
      << absl::StrCat(R"({"recordTo":")", record_, R"("})");
  auto info = GetVersionInfo(invoker, request);
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->supported_versions_size(), 7);
  std::vector<Struct> records = Records();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].fields().at("stdin").string_value(),
            R"({"cniVersion":"1.1.0"})");
  std::vector<std::string> cni;
  for (const auto& v : records[0].fields().at("env").list_value().values()) {
    if (absl::StartsWith(v.string_value(), "CNI_") &&
        !absl::StartsWith(v.string_value(), "CNI_NETNS_OVERRIDE")) {
      cni.push_back(v.string_value());
    }
  }
  EXPECT_THAT(cni, ElementsAre("CNI_COMMAND=VERSION", "CNI_CONTAINERID=",
                               "CNI_NETNS=dummy", "CNI_IFNAME=dummy",
                               "CNI_ARGS=", "CNI_PATH=dummy"));

  std::ofstream(dir_ + "/fake.fake.json")
      << R"({"supportedVersions":["0.3.1","0.4.0"]})";
  info = GetVersionInfo(invoker, request);
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_THAT(info->supported_versions(), ElementsAre("0.3.1", "0.4.0"));

  std::ofstream(dir_ + "/fake.fake.json")
      << R"({"versionReply":"{\"cniVersion\":\"0.2.0\"}"})";
  info = GetVersionInfo(invoker, request);
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_THAT(info->supported_versions(), ElementsAre("0.1.0", "0.2.0"));

  std::ofstream(dir_ + "/fake.fake.json") << R"({"legacyNoVersion":true})";
  info = GetVersionInfo(invoker, request);
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_THAT(info->supported_versions(), ElementsAre("0.1.0"));

  std::ofstream(dir_ + "/fake.fake.json") << R"({"garbage":true})";
  EXPECT_EQ(GetVersionInfo(invoker, request).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(PluginExecTest, NoopPlugin) {
  PluginInvoker invoker(DefaultOptions());
  InvokeRequest request = Request(Command::kAdd, "");
  request.plugin_type = "noop";
  auto out = invoker.Invoke(request);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_THAT(*out, HasSubstr("10.88.0.2/16"));
  request.command = Command::kDel;
  EXPECT_EQ(*invoker.Invoke(request), "");
  auto info = GetVersionInfo(invoker, request);
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_TRUE(types::SupportsVersion(*info, "1.1.0"));
}

// The memory of found binaries (see plugin_invoker.h) against real files:
// whatever is installed, removed or replaced between calls, each call runs
// what FindPlugin would find right before it. Each copy of the fake plugin
// prints its own name, from the sidecar next to it.
class PluginMemoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto root = testutil::MakeTempDir("memory");
    ASSERT_TRUE(root.ok()) << root.status();
    a_ = *root + "/a";
    b_ = *root + "/b";
    ASSERT_EQ(mkdir(a_.c_str(), 0755), 0);
    ASSERT_EQ(mkdir(b_.c_str(), 0755), 0);
  }

  // Install puts the fake plugin into `dir` as "fake", printing `name`.
  void Install(const std::string& dir, const std::string& name) {
    ASSERT_TRUE(
        testutil::InstallPlugin(testutil::FakePluginPath(), dir, "fake").ok());
    std::ofstream(dir + "/fake.fake.json")
        << R"({"stdout":")" << name << R"("})";
  }

  // Ran is what the plugin printed, or the error.
  std::string Ran() {
    InvokeRequest request;
    request.plugin_type = "fake";
    request.plugin_dirs = {a_, b_};
    request.stdin_data = R"({"cniVersion":"1.1.0","name":"n","type":"fake"})";
    request.deadline = absl::Now() + absl::Seconds(30);
    absl::StatusOr<std::string> out = invoker_.Invoke(request);
    return out.ok() ? *out : out.status().ToString();
  }

  std::string a_, b_;
  PluginInvoker invoker_;
};

TEST_F(PluginMemoryTest, BinaryRemoved) {
  Install(a_, "A");
  Install(b_, "B");
  EXPECT_EQ(Ran(), "A");
  EXPECT_EQ(Ran(), "A");
  ASSERT_EQ(unlink((a_ + "/fake").c_str()), 0);
  EXPECT_EQ(Ran(), "B");
  ASSERT_EQ(unlink((b_ + "/fake").c_str()), 0);
  EXPECT_THAT(Ran(), AllOf(HasSubstr("NOT_FOUND"), HasSubstr(a_ + ", " + b_)));
  Install(b_, "B");
  EXPECT_EQ(Ran(), "B");
}

TEST_F(PluginMemoryTest, BinaryAddedEarlierOnThePath) {
  Install(b_, "B");
  EXPECT_EQ(Ran(), "B");
  EXPECT_EQ(Ran(), "B");
  Install(a_, "A");
  EXPECT_EQ(Ran(), "A");
  // Something in a that FindPlugin skips leaves b's binary in charge.
  ASSERT_EQ(unlink((a_ + "/fake").c_str()), 0);
  ASSERT_EQ(mkdir((a_ + "/fake").c_str(), 0755), 0);
  EXPECT_EQ(Ran(), "B");
  EXPECT_EQ(Ran(), "B");
}

TEST_F(PluginMemoryTest, BinaryReplaced) {
  Install(a_, "A");
  Install(b_, "B");
  EXPECT_EQ(Ran(), "A");
  const std::string path = a_ + "/fake";
  // In place, by another binary (renamed over it): the new one runs.
  ASSERT_TRUE(
      testutil::InstallPlugin(testutil::NoopPluginPath(), a_, "new").ok());
  ASSERT_EQ(rename((a_ + "/new").c_str(), path.c_str()), 0);
  EXPECT_THAT(Ran(), HasSubstr("10.88.0.2/16"));
  // By a file nobody may execute: b's binary runs.
  ASSERT_EQ(unlink(path.c_str()), 0);
  std::ofstream(path) << "#!/bin/sh\necho plain\n";
  ASSERT_EQ(chmod(path.c_str(), 0644), 0);
  EXPECT_EQ(Ran(), "B");
  // Executable again: it wins again.
  ASSERT_EQ(chmod(path.c_str(), 0755), 0);
  EXPECT_EQ(Ran(), "plain\n");
  // By a directory: b's binary runs.
  ASSERT_EQ(unlink(path.c_str()), 0);
  ASSERT_EQ(mkdir(path.c_str(), 0755), 0);
  EXPECT_EQ(Ran(), "B");
}

// 1000 calls that succeed, fail, time out, crash or flood, from 4 threads:
// afterwards no child is left (reaped or not) and no descriptor leaked.
TEST_F(PluginExecTest, ThousandMixedCallsLeaveNoZombiesOrFds) {
  const int fds_before = CountOpenFds();
  PosixSpawner::Options spawn_options;
  spawn_options.kill_grace = absl::Milliseconds(200);
  PluginInvoker::Options options = DefaultOptions();
  options.stdout_cap = 256 << 10;
  PluginInvoker invoker(std::make_unique<PosixSpawner>(spawn_options), options);
  const std::vector<std::pair<std::string, absl::StatusCode>> kinds = {
      {"{}", absl::StatusCode::kOk},
      {R"({"error":{"code":11,"msg":"again"}})",
       absl::StatusCode::kUnavailable},
      {R"({"sleepSeconds":30})", absl::StatusCode::kDeadlineExceeded},
      {R"({"crashSignal":9})", absl::StatusCode::kInternal},
      {R"({"floodStdoutBytes":1000000})", absl::StatusCode::kResourceExhausted},
      {R"({"garbage":true,"exitCode":3})", absl::StatusCode::kUnknown},
      {R"({"spawnGrandchild":true,"grandchildSleepSeconds":0.05})",
       absl::StatusCode::kOk},
  };
  constexpr int kCalls = 1000;
  constexpr int kThreads = 4;
  std::atomic<int> next{0};
  std::atomic<int> mismatches{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = next++; i < kCalls; i = next++) {
        const auto& [fake, want] = kinds[i % kinds.size()];
        InvokeRequest request =
            Request(i % 2 == 0 ? Command::kAdd : Command::kDel, fake);
        if (i % 10 == 9) request.plugin_type = "noop";
        const absl::StatusCode expected =
            request.plugin_type == "noop" ? absl::StatusCode::kOk : want;
        request.deadline =
            absl::Now() + (expected == absl::StatusCode::kDeadlineExceeded
                               ? absl::Milliseconds(50)
                               : absl::Seconds(20));
        auto out = invoker.Invoke(request);
        if (out.status().code() != expected) {
          ++mismatches;
          ADD_FAILURE() << "call " << i << " (" << fake
                        << "): " << out.status();
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(mismatches.load(), 0);
  errno = 0;
  EXPECT_EQ(waitpid(-1, nullptr, WNOHANG), -1);
  EXPECT_EQ(errno, ECHILD) << "a child of the test process is left over";
  EXPECT_EQ(CountOpenFds(), fds_before);
}

}  // namespace
}  // namespace ocicni::exec
