// PluginInvoker on a FakeSpawner: what it asks the spawner for and how it
// decodes what comes back. No processes run here (plugin_exec_test does
// that); the plugin path points at the fake plugin only so the lookup works.
#include "exec/plugin_invoker.h"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "exec/cni_error.h"
#include "exec/invoker.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/fake_invoker.h"
#include "testing/fake_spawner.h"
#include "testing/runfiles.h"
#include "types/version.h"

namespace ocicni::exec {
namespace {

using ::ocicni::testutil::FakeInvoker;
using ::ocicni::testutil::FakeSpawner;
using ::testing::AllOf;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::SizeIs;
using ::testing::StartsWith;

std::vector<std::string> CniEntries(const std::vector<std::string>& env) {
  std::vector<std::string> out;
  for (const std::string& e : env) {
    if (absl::StartsWith(e, "CNI_")) out.push_back(e);
  }
  return out;
}

class PluginInvokerTest : public ::testing::Test {
 protected:
  // Makes an invoker whose spawner answers with `answer`.
  void Make(absl::StatusOr<ProcessOutput> answer,
            std::vector<std::string> environment = {"PATH=/usr/bin",
                                                    "HOME=/root"}) {
    auto spawner = std::make_unique<FakeSpawner>(
        [answer](const SpawnRequest&) { return answer; });
    spawner_ = spawner.get();
    PluginInvoker::Options options;
    options.environment = std::move(environment);
    invoker_ = std::make_unique<PluginInvoker>(std::move(spawner), options);
  }

  InvokeRequest Request(Command command) {
    InvokeRequest request;
    request.command = command;
    request.plugin_type = "fake_plugin";
    request.network_name = "podnet";
    request.container_id = "c1";
    request.netns = "/var/run/netns/p1";
    request.ifname = "eth0";
    request.cni_args = "IgnoreUnknown=1";
    request.plugin_dirs = {"/nonexistent", testutil::FakePluginDir()};
    request.stdin_data = R"({"cniVersion":"1.1.0","name":"podnet"})";
    return request;
  }

  FakeSpawner* spawner_ = nullptr;
  std::unique_ptr<PluginInvoker> invoker_;
};

TEST_F(PluginInvokerTest, SpawnRequestCarriesEnvStdinAndPath) {
  Make(FakeSpawner::Exited(0, "{}"),
       {"PATH=/usr/bin", "CNI_COMMAND=DEL", "CNI_PATH=/stale",
        "CNI_NETNS_OVERRIDE=1", "CNI_IFNAME=old", "HOME=/root"});
  InvokeRequest request = Request(Command::kAdd);
  request.deadline = absl::FromUnixSeconds(2000000000);
  ASSERT_TRUE(invoker_->Invoke(request).ok());
  ASSERT_EQ(spawner_->requests().size(), 1u);
  const SpawnRequest spawn = spawner_->requests()[0];
  EXPECT_EQ(spawn.path, testutil::FakePluginDir() + "/fake_plugin");
  EXPECT_THAT(spawn.argv, ElementsAre(spawn.path));
  EXPECT_EQ(spawn.stdin_data, request.stdin_data);
  EXPECT_EQ(spawn.deadline, request.deadline);
  EXPECT_EQ(spawn.stdout_cap, kDefaultStdoutCap);
  EXPECT_THAT(Environment(spawn), Contains("PATH=/usr/bin"));
  EXPECT_THAT(Environment(spawn), Contains("HOME=/root"));
  EXPECT_THAT(
      CniEntries(Environment(spawn)),
      ElementsAre("CNI_NETNS_OVERRIDE=1", "CNI_COMMAND=ADD",
                  "CNI_CONTAINERID=c1", "CNI_NETNS=/var/run/netns/p1",
                  "CNI_IFNAME=eth0", "CNI_ARGS=IgnoreUnknown=1",
                  "CNI_PATH=/nonexistent:" + testutil::FakePluginDir()));
}

TEST_F(PluginInvokerTest, GcAndStatusStillGetAllSixVariables) {
  Make(FakeSpawner::Exited(0, "ignored"));
  InvokeRequest request = Request(Command::kGc);
  request.container_id.clear();
  request.netns.clear();
  request.ifname.clear();
  request.cni_args.clear();
  auto out = invoker_->Invoke(request);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_THAT(*out, IsEmpty());
  EXPECT_THAT(CniEntries(Environment(spawner_->requests()[0])),
              ElementsAre("CNI_COMMAND=GC",
                          "CNI_CONTAINERID=", "CNI_NETNS=", "CNI_IFNAME=",
                          "CNI_ARGS=", StartsWith("CNI_PATH=/nonexistent:")));
}

TEST_F(PluginInvokerTest, PresetPathSkipsLookup) {
  Make(FakeSpawner::Exited(0, "{}"));
  InvokeRequest request = Request(Command::kAdd);
  request.plugin_path = "/resolved/bridge";
  request.plugin_dirs = {"/x", "/y"};
  ASSERT_TRUE(invoker_->Invoke(request).ok());
  EXPECT_EQ(spawner_->requests()[0].path, "/resolved/bridge");
  EXPECT_THAT(Environment(spawner_->requests()[0]), Contains("CNI_PATH=/x:/y"));
}

TEST_F(PluginInvokerTest, LookupFailuresNameTheCall) {
  Make(FakeSpawner::Exited(0));
  InvokeRequest request = Request(Command::kAdd);
  request.plugin_type = "../../sbin/reboot";
  auto out = invoker_->Invoke(request);
  EXPECT_EQ(out.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(out.status().message(), HasSubstr("network \"podnet\", ADD"));

  request.plugin_type = "missing";
  out = invoker_->Invoke(request);
  EXPECT_EQ(out.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(out.status().message(),
              AllOf(HasSubstr("\"missing\""), HasSubstr("/nonexistent")));
  EXPECT_TRUE(spawner_->requests().empty());
}

TEST_F(PluginInvokerTest, ResultOnlyForAddAndVersion) {
  Make(FakeSpawner::Exited(0, "RESULT", "some warning"));
  for (Command c : {Command::kAdd, Command::kVersion}) {
    auto out = invoker_->Invoke(Request(c));
    ASSERT_TRUE(out.ok()) << out.status();
    EXPECT_EQ(*out, "RESULT");
  }
  for (Command c :
       {Command::kDel, Command::kCheck, Command::kGc, Command::kStatus}) {
    auto out = invoker_->Invoke(Request(c));
    ASSERT_TRUE(out.ok()) << out.status();
    EXPECT_EQ(*out, "") << CommandName(c);
  }
}

TEST_F(PluginInvokerTest, CniErrorIsDecodedAndAttached) {
  Make(FakeSpawner::Exited(
      7, R"({"cniVersion":"1.0.0","code":11,"msg":"busy","details":"d"})",
      "noise"));
  auto out = invoker_->Invoke(Request(Command::kDel));
  EXPECT_EQ(out.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(out.status().message(),
              AllOf(HasSubstr("CNI plugin \"fake_plugin\""),
                    HasSubstr("network \"podnet\""), HasSubstr("DEL"),
                    HasSubstr("busy; d"), HasSubstr("exit code 7")));
  std::optional<types::Error> error = CniErrorFromStatus(out.status());
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->code(), 11u);
  EXPECT_EQ(error->msg(), "busy");
  EXPECT_EQ(error->details(), "d");
}

TEST_F(PluginInvokerTest, UnparsableErrorOutput) {
  Make(FakeSpawner::Exited(1, "oops {", "stderr says why"));
  auto out = invoker_->Invoke(Request(Command::kAdd));
  EXPECT_EQ(out.status().code(), absl::StatusCode::kUnknown);
  EXPECT_THAT(out.status().message(),
              AllOf(HasSubstr("could not be parsed"), HasSubstr("oops {"),
                    HasSubstr("stderr says why"), HasSubstr("ADD")));
  EXPECT_FALSE(CniErrorFromStatus(out.status()).has_value());
}

TEST_F(PluginInvokerTest, JsonThatIsNoErrorIsUnparsable) {
  Make(FakeSpawner::Exited(1, "null"));
  auto out = invoker_->Invoke(Request(Command::kAdd));
  EXPECT_EQ(out.status().code(), absl::StatusCode::kUnknown);
  EXPECT_THAT(out.status().message(), HasSubstr("could not be parsed"));
}

TEST_F(PluginInvokerTest, StderrWhenStdoutIsEmpty) {
  Make(FakeSpawner::Exited(2, " \n", "panic: something\n"));
  auto out = invoker_->Invoke(Request(Command::kAdd));
  EXPECT_EQ(out.status().code(), absl::StatusCode::kUnknown);
  EXPECT_THAT(out.status().message(),
              AllOf(HasSubstr("exit code 2"), HasSubstr("panic: something")));
}

TEST_F(PluginInvokerTest, NoErrorMessage) {
  Make(FakeSpawner::Exited(3));
  auto out = invoker_->Invoke(Request(Command::kCheck));
  EXPECT_EQ(out.status().code(), absl::StatusCode::kUnknown);
  EXPECT_THAT(out.status().message(),
              AllOf(HasSubstr("no error message"), HasSubstr("CHECK"),
                    HasSubstr("podnet")));
}

TEST_F(PluginInvokerTest, KilledBySignal) {
  Make(FakeSpawner::Signaled(SIGSEGV));
  auto out = invoker_->Invoke(Request(Command::kAdd));
  EXPECT_EQ(out.status().code(), absl::StatusCode::kInternal);
  EXPECT_THAT(out.status().message(), HasSubstr("signal 11"));
}

TEST_F(PluginInvokerTest, SpawnerErrorsKeepTheirCodeAndGainContext) {
  Make(absl::DeadlineExceededError("/p: still running at the deadline"));
  auto out = invoker_->Invoke(Request(Command::kAdd));
  EXPECT_EQ(out.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_THAT(
      out.status().message(),
      AllOf(HasSubstr("network \"podnet\", ADD"), HasSubstr("still running")));
}

TEST_F(PluginInvokerTest, ErrorMessagesAreBounded) {
  std::string huge(1 << 20, 'z');
  Make(FakeSpawner::Exited(1, "", huge));
  auto out = invoker_->Invoke(Request(Command::kAdd));
  EXPECT_LT(out.status().message().size(), 8u << 10);
  Make(FakeSpawner::Exited(1, huge, huge));
  out = invoker_->Invoke(Request(Command::kAdd));
  EXPECT_LT(out.status().message().size(), 16u << 10);
}

// Which binary was run is remembered; a remembered one that fails at exec
// is looked up again and the other binary found runs, once. Any other
// failure (the plugin may have run) is never retried.
TEST(PluginInvokerMemoryTest, OnlyExecFailuresOfRememberedBinariesRetry) {
  auto root = testutil::MakeTempDir("memory");
  ASSERT_TRUE(root.ok()) << root.status();
  const std::string a = *root + "/a", b = *root + "/b";
  ASSERT_EQ(mkdir(a.c_str(), 0755), 0);
  ASSERT_EQ(mkdir(b.c_str(), 0755), 0);
  ASSERT_TRUE(testutil::InstallPlugin(testutil::FakePluginPath(), a, "p").ok());
  ASSERT_TRUE(testutil::InstallPlugin(testutil::FakePluginPath(), b, "p").ok());

  absl::Status a_fails = absl::OkStatus();
  auto spawner = std::make_unique<FakeSpawner>(
      [&](const SpawnRequest& request) -> absl::StatusOr<ProcessOutput> {
        if (request.path == a + "/p" && !a_fails.ok()) return a_fails;
        return FakeSpawner::Exited(0, request.path);
      });
  FakeSpawner* fake = spawner.get();
  PluginInvoker invoker(std::move(spawner), {});
  InvokeRequest request;
  request.plugin_type = "p";
  request.plugin_dirs = {a, b};
  EXPECT_EQ(*invoker.Invoke(request), a + "/p");

  // a/p is gone, but the spawner says so only as a deadline: no retry.
  ASSERT_EQ(unlink((a + "/p").c_str()), 0);
  a_fails = absl::DeadlineExceededError("still running at the deadline");
  EXPECT_EQ(invoker.Invoke(request).status().code(),
            absl::StatusCode::kDeadlineExceeded);
  EXPECT_THAT(fake->requests(), SizeIs(2));

  // As an exec failure: looked up again, b/p runs.
  a_fails = MarkExecFailure(absl::NotFoundError("exec: no such file"));
  EXPECT_EQ(*invoker.Invoke(request), b + "/p");
  std::vector<SpawnRequest> requests = fake->requests();
  ASSERT_THAT(requests, SizeIs(4));
  EXPECT_EQ(requests[2].path, a + "/p");
  EXPECT_EQ(requests[3].path, b + "/p");
  EXPECT_THAT(requests[3].argv, ElementsAre(b + "/p"));
  EXPECT_EQ(Environment(requests[3]), Environment(requests[2]));
  // And b/p is what is remembered now.
  EXPECT_EQ(*invoker.Invoke(request), b + "/p");
  EXPECT_THAT(fake->requests(), SizeIs(5));

  // An exec failure of a binary the lookup finds again is the call's error.
  request.plugin_dirs = {b};
  EXPECT_EQ(*invoker.Invoke(request), b + "/p");
  ASSERT_TRUE(testutil::InstallPlugin(testutil::FakePluginPath(), a, "p").ok());
  request.plugin_dirs = {a};
  a_fails = absl::OkStatus();
  EXPECT_EQ(*invoker.Invoke(request), a + "/p");
  a_fails = MarkExecFailure(absl::NotFoundError("exec: no such file"));
  auto out = invoker.Invoke(request);
  EXPECT_EQ(out.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(out.status().message(), HasSubstr("no such file"));
  EXPECT_THAT(fake->requests(), SizeIs(8));
}

TEST(GetVersionInfoTest, SendsProbeAndDecodes) {
  FakeInvoker invoker([](const InvokeRequest&) -> absl::StatusOr<std::string> {
    return std::string(
        R"({"cniVersion":"1.0.0","supportedVersions":["0.4.0","1.0.0"]})");
  });
  InvokeRequest base;
  base.plugin_type = "bridge";
  base.container_id = "c1";
  base.stdin_data = "{config}";
  base.plugin_dirs = {"/opt/cni/bin"};
  auto info = GetVersionInfo(invoker, base);
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_THAT(info->supported_versions(), ElementsAre("0.4.0", "1.0.0"));
  InvokeRequest sent = invoker.requests()[0];
  EXPECT_EQ(sent.command, Command::kVersion);
  EXPECT_EQ(sent.stdin_data, R"({"cniVersion":"1.1.0"})");
  EXPECT_EQ(sent.netns, "dummy");
  EXPECT_EQ(sent.ifname, "dummy");
  EXPECT_EQ(sent.cni_path, "dummy");
  EXPECT_EQ(sent.container_id, "");
  EXPECT_EQ(sent.plugin_type, "bridge");
  EXPECT_THAT(sent.plugin_dirs, ElementsAre("/opt/cni/bin"));
}

TEST(GetVersionInfoTest, LegacyPlugin) {
  FakeInvoker invoker([](const InvokeRequest&) -> absl::StatusOr<std::string> {
    types::Error error;
    error.set_code(4);
    error.set_msg("unknown CNI_COMMAND: VERSION");
    return CniErrorToStatus(error, "CNI plugin \"old\" (VERSION) failed");
  });
  auto info = GetVersionInfo(invoker, InvokeRequest());
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_THAT(info->supported_versions(), ElementsAre("0.1.0"));
}

TEST(GetVersionInfoTest, OtherErrorsPassThrough) {
  FakeInvoker invoker([](const InvokeRequest&) -> absl::StatusOr<std::string> {
    return absl::DeadlineExceededError("slow");
  });
  EXPECT_EQ(GetVersionInfo(invoker, InvokeRequest()).status().code(),
            absl::StatusCode::kDeadlineExceeded);
  FakeInvoker garbage([](const InvokeRequest&) -> absl::StatusOr<std::string> {
    return std::string("garbage");
  });
  EXPECT_EQ(GetVersionInfo(garbage, InvokeRequest()).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace ocicni::exec
