// PosixSpawner against real processes: /bin/sh, /bin/cat and the fake plugin.
// Time bounds here are generous on purpose: they catch hangs, they are not
// performance checks.
#include "exec/posix_spawner.h"

#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "base/posix.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "testing/runfiles.h"

namespace ocicni::exec {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::SizeIs;
using ::testing::StartsWith;

// Slack on top of deadline + grace before a test calls it a hang.
constexpr absl::Duration kHangSlack = absl::Seconds(5);

SpawnRequest Shell(const std::string& script) {
  SpawnRequest request;
  request.path = "/bin/sh";
  request.argv = {"/bin/sh", "-c", script};
  request.env = {"PATH=/usr/bin:/bin"};
  request.deadline = absl::Now() + absl::Seconds(60);
  return request;
}

// Fake plugin as "<dir>/fake" with behaviour `sidecar` (JSON, may be empty)
// from its sidecar file, so stdin can be anything.
SpawnRequest Fake(const std::string& sidecar, const std::string& config) {
  static int counter = 0;
  auto dir = testutil::MakeTempDir(absl::StrCat("spawn", counter++));
  EXPECT_TRUE(dir.ok()) << dir.status();
  auto path = testutil::InstallPlugin(testutil::FakePluginPath(), *dir, "fake");
  EXPECT_TRUE(path.ok()) << path.status();
  if (!sidecar.empty()) std::ofstream(*path + ".fake.json") << sidecar;
  SpawnRequest request;
  request.path = *path;
  request.env = {"CNI_COMMAND=ADD"};
  request.stdin_data = config;
  request.deadline = absl::Now() + absl::Seconds(60);
  return request;
}

// RunTimed runs `request` and sets `*took` to how long Run took.
absl::StatusOr<ProcessOutput> RunTimed(PosixSpawner& spawner,
                                       const SpawnRequest& request,
                                       absl::Duration* took) {
  const absl::Time start = absl::Now();
  absl::StatusOr<ProcessOutput> out = spawner.Run(request);
  *took = absl::Now() - start;
  return out;
}

// ExpectStdinToStdout runs a child that copies stdin to stdout, writes to
// stderr and exits 3, and checks all of that came back.
void ExpectStdinToStdout(PosixSpawner& spawner) {
  SpawnRequest request = Shell("cat; echo err >&2; exit 3");
  request.stdin_data = "hello";
  auto out = spawner.Run(request);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->stdout_data, "hello");
  EXPECT_EQ(out->stderr_data, "err\n");
  EXPECT_TRUE(out->exited());
  EXPECT_EQ(out->exit_code, 3);
  EXPECT_FALSE(out->pipes_left_open);
}

TEST(PosixSpawnerTest, StdinToStdout) {
  PosixSpawner spawner;
  ExpectStdinToStdout(spawner);
}

TEST(PosixSpawnerTest, EnvironmentAndArgvExactly) {
  PosixSpawner spawner;
  SpawnRequest request;
  request.path = "/usr/bin/env";
  request.argv = {"/usr/bin/env"};
  request.env = {"A=1", "B=two words", "A=dup"};
  auto out = spawner.Run(request);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->stdout_data, "A=1\nB=two words\nA=dup\n");
}

TEST(PosixSpawnerTest, SharedEnvironmentComesFirst) {
  PosixSpawner spawner;
  SpawnRequest request;
  request.path = "/usr/bin/env";
  request.shared_env = std::make_shared<const std::vector<std::string>>(
      std::vector<std::string>{"S=shared", "A=0"});
  request.env = {"A=1"};
  auto out = spawner.Run(request);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->stdout_data, "S=shared\nA=0\nA=1\n");
  EXPECT_THAT(Environment(request), ElementsAre("S=shared", "A=0", "A=1"));

  request.shared_env = std::make_shared<const std::vector<std::string>>(
      std::vector<std::string>{std::string("B=\0", 3)});
  EXPECT_EQ(spawner.Run(request).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(PosixSpawnerTest, ChildLeadsItsOwnGroupWithCleanSignals) {
  // Run with SIGUSR1 blocked and SIGHUP ignored here: neither may reach the
  // child.
  sigset_t usr1, old_mask;
  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
  pthread_sigmask(SIG_BLOCK, &usr1, &old_mask);
  struct sigaction ignore = {}, old_hup;
  ignore.sa_handler = SIG_IGN;
  sigaction(SIGHUP, &ignore, &old_hup);

  PosixSpawner spawner;
  SpawnRequest request;
  request.path = "/bin/cat";
  request.argv = {"cat", "/proc/self/stat", "/proc/self/status"};
  auto out = spawner.Run(request);
  pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
  sigaction(SIGHUP, &old_hup, nullptr);
  ASSERT_TRUE(out.ok()) << out.status();

  std::vector<std::string> stat = absl::StrSplit(out->stdout_data, ' ');
  ASSERT_GT(stat.size(), 5u);
  EXPECT_EQ(stat[0], stat[4]) << "the child's pgid must be its pid";
  EXPECT_THAT(out->stdout_data, HasSubstr("SigBlk:\t0000000000000000"));
  // Standard signals only: 32 and 33 belong to glibc and cannot be reset.
  size_t ign = out->stdout_data.find("SigIgn:\t");
  ASSERT_NE(ign, std::string::npos);
  uint64_t ignored =
      std::stoull(out->stdout_data.substr(ign + 8, 16), nullptr, 16);
  EXPECT_EQ(ignored & 0x7fffffffull, 0u) << out->stdout_data.substr(ign, 24);
}

TEST(PosixSpawnerTest, OnlyStdioIsInherited) {
  // A non-CLOEXEC descriptor of ours must not reach the child either.
  int leaky = open("/dev/null", O_RDONLY);
  ASSERT_GE(leaky, 0);
  PosixSpawner spawner;
  auto out = spawner.Run(Shell("ls /proc/$$/fd"));
  close(leaky);
  ASSERT_TRUE(out.ok()) << out.status();
  // sh may have one more fd open for the listing itself (ls's own dir fd
  // belongs to ls); what matters is that `leaky` is not there.
  std::vector<std::string> fds =
      absl::StrSplit(out->stdout_data, '\n', absl::SkipEmpty());
  EXPECT_THAT(fds, ElementsAre("0", "1", "2"));
}

TEST(PosixSpawnerTest, BigStdinAndOutputsBothWaysDoNotDeadlock) {
  // The child writes 3 MiB to stdout and 1 MiB to stderr before reading
  // any of its 8 MiB stdin: only concurrent draining gets through.
  std::string config = R"({"cniVersion":"1.1.0","pad":")";
  config.append(8 << 20, 'p');
  config.append("\"}");
  SpawnRequest request = Fake(
      R"({"floodStdoutBytes": 3145728, "floodStderrBytes": 1048576})", config);
  request.stderr_cap = 2 << 20;
  PosixSpawner spawner;
  auto out = spawner.Run(request);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->exit_code, 0) << out->stderr_data.substr(0, 200);
  EXPECT_THAT(out->stdout_data, StartsWith("xxxx"));
  EXPECT_EQ(out->stdout_data.size(),
            3145728 + std::string(R"({"cniVersion":"1.1.0"})").size());
  EXPECT_EQ(out->stderr_data.size(), 1048576u);
  EXPECT_FALSE(out->stderr_truncated);
}

TEST(PosixSpawnerTest, CatEchoesEightMebibytes) {
  std::string data(8 << 20, 'q');
  for (size_t i = 0; i < data.size(); i += 4096)
    data[i] = 'a' + (i / 4096) % 26;
  SpawnRequest request;
  request.path = "/bin/cat";
  request.stdin_data = data;
  request.stdout_cap = 16 << 20;
  PosixSpawner spawner;
  auto out = spawner.Run(request);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_TRUE(out->stdout_data == data);
}

TEST(PosixSpawnerTest, StdinOfEverySizeArrivesWhole) {
  // Up to PIPE_BUF bytes are written before the spawn in one write; more in
  // as many non-blocking writes as the pipe takes before and after it.
  PosixSpawner spawner;
  for (size_t size :
       {size_t{1}, size_t{PIPE_BUF - 1}, size_t{PIPE_BUF}, size_t{PIPE_BUF + 1},
        size_t{65535}, size_t{65536}, size_t{65537}, size_t{300000}}) {
    std::string data(size, 'i');
    for (size_t i = 0; i < size; i += 1000) data[i] = 'a' + (i / 1000) % 26;
    SpawnRequest request;
    request.path = "/bin/cat";
    request.stdin_data = data;
    auto out = spawner.Run(request);
    ASSERT_TRUE(out.ok()) << size << ": " << out.status();
    EXPECT_TRUE(out->stdout_data == data) << size;
  }
}

TEST(PosixSpawnerTest, ChildThatIgnoresStdinDoesNotRaiseSigpipe) {
  SpawnRequest request;
  request.path = "/bin/true";
  PosixSpawner spawner;
  // Small stdin is all in the pipe before the spawn; big stdin is not.
  for (size_t size : {size_t{100}, size_t{4 << 20}}) {
    request.stdin_data = std::string(size, 'x');
    for (int i = 0; i < 5; ++i) {
      auto out = spawner.Run(request);
      ASSERT_TRUE(out.ok()) << out.status();
      EXPECT_EQ(out->exit_code, 0);
    }
  }
  sigset_t pending;
  sigpending(&pending);
  EXPECT_FALSE(sigismember(&pending, SIGPIPE));
}

TEST(PosixSpawnerTest, StdoutCapKillsAndFails) {
  SpawnRequest request = Fake(R"({"floodStdoutBytes": 2097152,
                                  "sleepSeconds": 30})",
                              "{}");
  request.stdout_cap = 64 << 10;
  PosixSpawner spawner;
  absl::Time start = absl::Now();
  auto out = spawner.Run(request);
  EXPECT_EQ(out.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(out.status().message(), HasSubstr("65536 bytes"));
  EXPECT_LT(absl::Now() - start, absl::Milliseconds(500) + kHangSlack);
}

TEST(PosixSpawnerTest, ExactlyTheCapIsFine) {
  SpawnRequest request = Shell("head -c 1000 /dev/zero");
  request.stdout_cap = 1000;
  PosixSpawner spawner;
  auto out = spawner.Run(request);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->stdout_data.size(), 1000u);
}

TEST(PosixSpawnerTest, StderrBeyondCapIsDropped) {
  SpawnRequest request = Fake(R"({"floodStderrBytes": 300000})", "{}");
  request.stderr_cap = 1000;
  PosixSpawner spawner;
  auto out = spawner.Run(request);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->exit_code, 0);
  EXPECT_EQ(out->stderr_data, std::string(1000, 'e'));
  EXPECT_TRUE(out->stderr_truncated);
}

TEST(PosixSpawnerTest, DeadlineKillsHungChild) {
  SpawnRequest request = Fake(R"({"sleepSeconds": 60, "stderr": "x"})", "{}");
  request.deadline = absl::Now() + absl::Milliseconds(300);
  PosixSpawner spawner;
  absl::Duration took;
  auto out = RunTimed(spawner, request, &took);
  EXPECT_EQ(out.status().code(), absl::StatusCode::kDeadlineExceeded)
      << out.status();
  EXPECT_THAT(out.status().message(), HasSubstr("killed"));
  EXPECT_GE(took, absl::Milliseconds(250));
  EXPECT_LT(took, absl::Milliseconds(800) + kHangSlack);
}

TEST(PosixSpawnerTest, SigtermIgnoredEscalatesToSigkill) {
  SpawnRequest request =
      Fake(R"({"sleepSeconds": 60, "ignoreSigterm": true})", "{}");
  request.deadline = absl::Now() + absl::Milliseconds(200);
  PosixSpawner::Options options;
  options.kill_grace = absl::Milliseconds(300);
  PosixSpawner spawner(options);
  absl::Duration took;
  auto out = RunTimed(spawner, request, &took);
  EXPECT_EQ(out.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_GE(took, absl::Milliseconds(450));
  EXPECT_LT(took, absl::Milliseconds(500) + kHangSlack);
}

TEST(PosixSpawnerTest, GrandchildHoldingStdoutAfterChildExit) {
  // The child prints its result and exits 0; a grandchild keeps stdout
  // open for 20 s. Run returns after the short drain with the result.
  SpawnRequest request = Fake(
      R"({"spawnGrandchild": true, "grandchildEscapes": true,
          "grandchildSleepSeconds": 20})",
      R"({"cniVersion":"1.0.0"})");
  PosixSpawner spawner;
  absl::Duration took;
  auto out = RunTimed(spawner, request, &took);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->exit_code, 0);
  EXPECT_EQ(out->stdout_data, R"({"cniVersion":"1.0.0"})");
  EXPECT_TRUE(out->pipes_left_open);
  EXPECT_LT(took, absl::Milliseconds(200) + kHangSlack);
}

TEST(PosixSpawnerTest, GrandchildHoldingStdoutAfterLaterChildExit) {
  // As above, but the child exits after the exit watch (pidfd) has begun.
  SpawnRequest request = Shell("sleep 5 & sleep 0.05; echo ok");
  PosixSpawner spawner;
  absl::Duration took;
  auto out = RunTimed(spawner, request, &took);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->exit_code, 0);
  EXPECT_EQ(out->stdout_data, "ok\n");
  EXPECT_TRUE(out->pipes_left_open);
  EXPECT_LT(took, absl::Milliseconds(250) + kHangSlack);
}

TEST(PosixSpawnerTest, GrandchildFloodingStderrAfterChildExit) {
  // After the exit the pipes are drained for `drain_after_exit` only, even
  // when a descendant never stops writing (it dies of SIGPIPE afterwards).
  SpawnRequest request = Shell("cat /dev/zero >&2 & echo ok");
  PosixSpawner spawner;
  absl::Duration took;
  auto out = RunTimed(spawner, request, &took);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->stdout_data, "ok\n");
  EXPECT_TRUE(out->pipes_left_open);
  EXPECT_TRUE(out->stderr_truncated);
  EXPECT_LT(took, absl::Milliseconds(200) + kHangSlack);
}

TEST(PosixSpawnerTest, ChildClosingItsPipesEarlyIsWaitedFor) {
  // Pipes at EOF do not mean the child is done: its exit code counts.
  SpawnRequest request = Shell("echo result; exec >&- 2>&-; sleep 0.2; exit 3");
  PosixSpawner spawner;
  absl::Duration took;
  auto out = RunTimed(spawner, request, &took);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->stdout_data, "result\n");
  EXPECT_EQ(out->exit_code, 3);
  EXPECT_FALSE(out->pipes_left_open);
  EXPECT_GE(took, absl::Milliseconds(200));
}

TEST(PosixSpawnerTest, DeadlineWhileWaitingForExitAfterPipesClosed) {
  SpawnRequest request = Shell("exec >&- 2>&-; sleep 60");
  request.deadline = absl::Now() + absl::Milliseconds(300);
  PosixSpawner spawner;
  absl::Time start = absl::Now();
  auto out = spawner.Run(request);
  EXPECT_EQ(out.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_LT(absl::Now() - start, absl::Milliseconds(800) + kHangSlack);
}

TEST(PosixSpawnerTest, HungChildWithEscapedGrandchildHoldingStdout) {
  // The grandchild left the process group, so the kill does not reach it;
  // Run must still return at the deadline.
  SpawnRequest request = Fake(
      R"({"spawnGrandchild": true, "grandchildEscapes": true,
          "grandchildSleepSeconds": 20, "sleepSeconds": 60})",
      "{}");
  request.deadline = absl::Now() + absl::Milliseconds(300);
  PosixSpawner spawner;
  absl::Time start = absl::Now();
  auto out = spawner.Run(request);
  EXPECT_EQ(out.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_LT(absl::Now() - start, absl::Milliseconds(800) + kHangSlack);
}

TEST(PosixSpawnerTest, HungChildWithGrandchildInItsGroup) {
  SpawnRequest request = Fake(
      R"({"spawnGrandchild": true, "grandchildSleepSeconds": 60,
          "sleepSeconds": 60})",
      "{}");
  request.deadline = absl::Now() + absl::Milliseconds(300);
  PosixSpawner spawner;
  absl::Time start = absl::Now();
  auto out = spawner.Run(request);
  EXPECT_EQ(out.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_LT(absl::Now() - start, absl::Milliseconds(800) + kHangSlack);
}

TEST(PosixSpawnerTest, DeadlineAlreadyPassed) {
  SpawnRequest request = Shell("true");
  request.deadline = absl::Now() - absl::Seconds(1);
  PosixSpawner spawner;
  EXPECT_EQ(spawner.Run(request).status().code(),
            absl::StatusCode::kDeadlineExceeded);
}

TEST(PosixSpawnerTest, CrashBySignal) {
  SpawnRequest request = Fake(R"({"crashSignal": 6})", "{}");
  PosixSpawner spawner;
  auto out = spawner.Run(request);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_FALSE(out->exited());
  EXPECT_EQ(out->term_signal, SIGABRT);
}

TEST(PosixSpawnerTest, ExecFailures) {
  PosixSpawner spawner;
  SpawnRequest request;
  request.path = "/nonexistent/plugin";
  absl::Status status = spawner.Run(request).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(IsExecFailure(status)) << status;
  // The child that failed to exec was reaped.
  EXPECT_EQ(waitpid(-1, nullptr, WNOHANG), -1);
  EXPECT_EQ(errno, ECHILD);

  auto dir = testutil::MakeTempDir("noexec");
  ASSERT_TRUE(dir.ok());
  request.path = *dir + "/plain";
  std::ofstream(request.path) << "#!/bin/sh\n";
  chmod(request.path.c_str(), 0644);
  if (geteuid() != 0) {
    status = spawner.Run(request).status();
    EXPECT_EQ(status.code(), absl::StatusCode::kPermissionDenied);
    EXPECT_TRUE(IsExecFailure(status)) << status;
  }
  // A directory cannot be executed, root or not.
  request.path = *dir;
  status = spawner.Run(request).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(IsExecFailure(status)) << status;
  // Nor a file that is neither ELF nor a script.
  request.path = *dir + "/garbage";
  std::ofstream(request.path) << "garbage\n";
  chmod(request.path.c_str(), 0755);
  status = spawner.Run(request).status();
  EXPECT_FALSE(status.ok());
  EXPECT_TRUE(IsExecFailure(status)) << status;
  EXPECT_THAT(status.message(), HasSubstr("exec " + request.path));

  request.path = "";
  EXPECT_EQ(spawner.Run(request).status().code(),
            absl::StatusCode::kInvalidArgument);
  request.path = "/bin/true";
  request.env = {std::string("A=\0B", 4)};
  EXPECT_EQ(spawner.Run(request).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(PosixSpawnerTest, DeadlineIsNoExecFailure) {
  PosixSpawner::Options options;
  options.kill_grace = absl::Milliseconds(50);
  SpawnRequest request = Shell("sleep 30");
  request.deadline = absl::Now() + absl::Milliseconds(100);
  absl::Status status = PosixSpawner(options).Run(request).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_FALSE(IsExecFailure(status));
}

TEST(PosixSpawnerTest, ThreadsSpawnInParallel) {
  // Each thread's children run on that thread's own stack until exec;
  // threads that come and go map and unmap theirs.
  PosixSpawner spawner;
  std::vector<std::thread> threads;
  std::atomic<int> good{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&spawner, &good, t] {
      for (int i = 0; i < 10; ++i) {
        SpawnRequest request = Shell(absl::StrCat("cat; echo ", t, "-", i));
        request.stdin_data = absl::StrCat("in", t, "-", i, ":");
        auto out = spawner.Run(request);
        if (out.ok() && out->exit_code == 0 &&
            out->stdout_data ==
                absl::StrCat("in", t, "-", i, ":", t, "-", i, "\n")) {
          ++good;
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(good.load(), 80);
}

// Copies `source` to `path` and returns the descriptor still open for
// writing (which makes exec fail with ETXTBSY).
UniqueFd WriteBusyBinary(const std::string& path,
                         const char* source = "/bin/true") {
  std::ifstream in(source, std::ios::binary);
  std::stringstream bytes;
  bytes << in.rdbuf();
  std::string data = bytes.str();
  UniqueFd fd(open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0755));
  EXPECT_TRUE(fd.valid());
  EXPECT_EQ(write(fd.get(), data.data(), data.size()),
            static_cast<ssize_t>(data.size()));
  return fd;
}

bool KernelReportsTextBusy(const std::string& path) {
  PosixSpawner::Options options;
  options.busy_attempts = 1;
  SpawnRequest request;
  request.path = path;
  return PosixSpawner(options).Run(request).status().code() ==
         absl::StatusCode::kUnavailable;
}

TEST(PosixSpawnerTest, TextFileBusyIsRetriedUntilClosed) {
  // The retried child still gets all of its stdin, which is in the pipe
  // (small) or partly in it (big) before the first attempt.
  for (size_t size : {size_t{100}, size_t{200000}}) {
    auto dir = testutil::MakeTempDir(absl::StrCat("busy", size));
    ASSERT_TRUE(dir.ok());
    std::string path = *dir + "/plugin";
    UniqueFd writer = WriteBusyBinary(path, "/bin/cat");
    if (!KernelReportsTextBusy(path)) {
      GTEST_SKIP() << "this kernel does not report ETXTBSY for files open "
                      "for writing";
    }
    PosixSpawner::Options options;
    options.busy_attempts = 8;
    options.busy_backoff = absl::Milliseconds(20);
    PosixSpawner spawner(options);
    SpawnRequest request;
    request.path = path;
    request.stdin_data = std::string(size, 's');
    std::thread closer([&writer] {
      absl::SleepFor(absl::Milliseconds(100));
      writer.reset();
    });
    auto out = spawner.Run(request);
    closer.join();
    ASSERT_TRUE(out.ok()) << out.status();
    EXPECT_EQ(out->exit_code, 0);
    EXPECT_TRUE(out->stdout_data == request.stdin_data) << size;
  }
}

TEST(PosixSpawnerTest, TextFileBusyGivesUpClearly) {
  auto dir = testutil::MakeTempDir("busy");
  ASSERT_TRUE(dir.ok());
  std::string path = *dir + "/plugin";
  UniqueFd writer = WriteBusyBinary(path);
  if (!KernelReportsTextBusy(path)) {
    GTEST_SKIP() << "this kernel does not report ETXTBSY for files open for "
                    "writing";
  }
  PosixSpawner::Options options;
  options.busy_attempts = 3;
  options.busy_backoff = absl::Milliseconds(10);
  SpawnRequest request;
  request.path = path;
  auto out = PosixSpawner(options).Run(request);
  EXPECT_EQ(out.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(out.status().message(),
              testing::AllOf(HasSubstr("3 attempts"), HasSubstr("busy")));
}

// The same contract when child exit is watched without a pidfd (kernels
// before 5.3): exit is polled on a tick and the pipes' EOF ends the run.
PosixSpawner::Options WithoutPidfd() {
  PosixSpawner::Options options;
  options.use_pidfd = false;
  return options;
}

TEST(PosixSpawnerWithoutPidfdTest, StdinToStdoutAndExitCode) {
  PosixSpawner spawner(WithoutPidfd());
  ExpectStdinToStdout(spawner);
}

TEST(PosixSpawnerWithoutPidfdTest, BigStdinAndOutputs) {
  std::string data(3 << 20, 'q');
  SpawnRequest request;
  request.path = "/bin/cat";
  request.stdin_data = data;
  auto out = PosixSpawner(WithoutPidfd()).Run(request);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_TRUE(out->stdout_data == data);
}

TEST(PosixSpawnerWithoutPidfdTest, GrandchildHoldingStdoutAfterChildExit) {
  SpawnRequest request = Shell("sleep 5 & echo ok");
  absl::Time start = absl::Now();
  auto out = PosixSpawner(WithoutPidfd()).Run(request);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->stdout_data, "ok\n");
  EXPECT_TRUE(out->pipes_left_open);
  EXPECT_LT(absl::Now() - start, absl::Milliseconds(200) + kHangSlack);
}

TEST(PosixSpawnerWithoutPidfdTest, ChildClosingItsPipesEarlyIsWaitedFor) {
  SpawnRequest request = Shell("echo result; exec >&- 2>&-; sleep 0.2; exit 3");
  auto out = PosixSpawner(WithoutPidfd()).Run(request);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->stdout_data, "result\n");
  EXPECT_EQ(out->exit_code, 3);
}

TEST(PosixSpawnerWithoutPidfdTest, DeadlineKillsHungChild) {
  for (const char* script : {"sleep 60", "exec >&- 2>&-; sleep 60"}) {
    SpawnRequest request = Shell(script);
    request.deadline = absl::Now() + absl::Milliseconds(300);
    absl::Time start = absl::Now();
    auto out = PosixSpawner(WithoutPidfd()).Run(request);
    EXPECT_EQ(out.status().code(), absl::StatusCode::kDeadlineExceeded)
        << script;
    EXPECT_LT(absl::Now() - start, absl::Milliseconds(800) + kHangSlack);
  }
}

}  // namespace
}  // namespace ocicni::exec
