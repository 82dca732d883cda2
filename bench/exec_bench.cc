// One CNI plugin call through exec/ versus the floor: a bare posix_spawn of
// the same static no-op plugin with three pipes, ~1 KiB of config on stdin,
// reading its result and waitpid. Both use the same environment and stdin.
//
// BM_FloorPlus adds the spawner's extras to the floor one at a time (the
// argument is a mask of Extra bits), so each one's cost shows on its own.
// Every benchmark reports the context switches per call of this process
// (csw_self: voluntary, i.e. blocking waits) and of the plugin (csw_child).
//
// BM_SpawnerRunNoop is PosixSpawner::Run alone (no invoker). Process CPU
// time is steadier than real time here; compare medians of interleaved runs:
//
//   bazel run -c opt //bench:exec_bench -- --benchmark_repetitions=20
//     --benchmark_min_time=0.07 --benchmark_enable_random_interleaving=true
//     --benchmark_report_aggregates_only=true
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "benchmark/benchmark.h"
#include "exec/invoker.h"
#include "exec/plugin_invoker.h"
#include "exec/posix_spawner.h"
#include "testing/runfiles.h"

namespace ocicni::exec {
namespace {

std::string Config() {
  std::string config =
      R"({"cniVersion":"1.1.0","name":"benchnet","type":"noop",)"
      R"("ipam":{"type":"host-local","ranges":[[{"subnet":"10.88.0.0/16"}]]},)"
      R"("pad":")";
  config.append(1024 - config.size() - 2, 'p');
  config.append("\"}");
  return config;
}

InvokeRequest Request() {
  InvokeRequest request;
  request.command = Command::kAdd;
  request.plugin_type = "noop_plugin";
  request.network_name = "benchnet";
  request.container_id = "0123456789abcdef";
  request.netns = "/var/run/netns/bench";
  request.ifname = "eth0";
  request.cni_args =
      "IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=bench;"
      "K8S_POD_INFRA_CONTAINER_ID=0123456789abcdef;K8S_POD_UID=uid";
  request.plugin_dirs = {testutil::FakePluginDir()};
  request.stdin_data = Config();
  return request;
}

// SwitchCounter reports context switches per iteration as counters.
class SwitchCounter {
 public:
  SwitchCounter() { Sample(self_, children_); }
  ~SwitchCounter() = default;
  void Report(benchmark::State& state) {
    long self = 0, children = 0;
    Sample(self, children);
    const double n = static_cast<double>(state.iterations());
    if (n == 0) return;
    state.counters["csw_self"] = static_cast<double>(self - self_) / n;
    state.counters["csw_child"] = static_cast<double>(children - children_) / n;
  }

 private:
  static void Sample(long& self, long& children) {
    struct rusage ru;
    ::getrusage(RUSAGE_SELF, &ru);
    self = ru.ru_nvcsw;
    ::getrusage(RUSAGE_CHILDREN, &ru);
    children = ru.ru_nvcsw;
  }
  long self_ = 0;
  long children_ = 0;
};

// The environment the invoker gives the plugin (see plugin_invoker.cc).
std::vector<std::string> PluginEnv(const InvokeRequest& request) {
  std::vector<std::string> env;
  for (char** p = environ; *p != nullptr; ++p) env.emplace_back(*p);
  env.push_back("CNI_COMMAND=ADD");
  env.push_back("CNI_CONTAINERID=" + request.container_id);
  env.push_back("CNI_NETNS=" + request.netns);
  env.push_back("CNI_IFNAME=" + request.ifname);
  env.push_back("CNI_ARGS=" + request.cni_args);
  env.push_back("CNI_PATH=" + request.plugin_dirs[0]);
  return env;
}

// BareExec is what a bare spawn of the no-op plugin passes to posix_spawn:
// its path, argv and the environment PluginEnv builds.
struct BareExec {
  explicit BareExec(const InvokeRequest& request)
      : path(testutil::NoopPluginPath()), env(PluginEnv(request)) {
    for (std::string& s : env) envp.push_back(s.data());
    envp.push_back(nullptr);
    argv[0] = path.data();
  }
  BareExec(const BareExec&) = delete;
  BareExec& operator=(const BareExec&) = delete;

  std::string path;
  std::vector<std::string> env;
  std::vector<char*> envp;
  char* argv[2] = {nullptr, nullptr};
};

void BM_InvokeNoop(benchmark::State& state) {
  PluginInvoker invoker;
  InvokeRequest request = Request();
  SwitchCounter switches;
  const bool preresolved = state.range(0) != 0;
  if (preresolved) request.plugin_path = testutil::NoopPluginPath();
  for (auto _ : state) {
    request.deadline = absl::Now() + absl::Seconds(10);
    auto out = invoker.Invoke(request);
    if (!out.ok()) {
      state.SkipWithError(std::string(out.status().message()).c_str());
      break;
    }
    benchmark::DoNotOptimize(out->data());
  }
  switches.Report(state);
  state.SetLabel(preresolved ? "path resolved once" : "lookup per call");
}
BENCHMARK(BM_InvokeNoop)->Arg(0)->Arg(1)->UseRealTime();

// AnswerSpawner answers every Run at once with a result, recording nothing.
class AnswerSpawner final : public Spawner {
 public:
  absl::StatusOr<ProcessOutput> Run(const SpawnRequest&) override {
    ProcessOutput out;
    out.exit_code = 0;
    out.stdout_data = R"({"cniVersion":"1.1.0"})";
    return out;
  }
};

// The invoker's own work per call, without a process: AnswerSpawner answers
// at once. Argument 0: the plugin is looked up by type in one dir; 1: its
// path is given (no lookup); 2: looked up in two dirs, found in the second.
void BM_InvokeWithoutProcess(benchmark::State& state) {
  PluginInvoker invoker(std::make_unique<AnswerSpawner>(), {});
  InvokeRequest request = Request();
  if (state.range(0) == 1) request.plugin_path = testutil::NoopPluginPath();
  if (state.range(0) == 2) {
    request.plugin_dirs.insert(request.plugin_dirs.begin(), "/nonexistent");
  }
  for (auto _ : state) {
    auto out = invoker.Invoke(request);
    if (!out.ok()) {
      state.SkipWithError(std::string(out.status().message()).c_str());
      break;
    }
    benchmark::DoNotOptimize(out->data());
  }
}
BENCHMARK(BM_InvokeWithoutProcess)->Arg(0)->Arg(1)->Arg(2);

// PosixSpawner::Run alone, with the request the invoker would build.
void BM_SpawnerRunNoop(benchmark::State& state) {
  PosixSpawner spawner;
  const InvokeRequest invoke = Request();
  SpawnRequest request;
  request.path = testutil::NoopPluginPath();
  request.argv = {request.path};
  request.env = PluginEnv(invoke);
  request.stdin_data = invoke.stdin_data;
  SwitchCounter switches;
  for (auto _ : state) {
    request.deadline = absl::Now() + absl::Seconds(10);
    auto out = spawner.Run(request);
    if (!out.ok() || out->exit_code != 0) {
      state.SkipWithError("Run failed");
      break;
    }
    benchmark::DoNotOptimize(out->stdout_data.data());
  }
  switches.Report(state);
}
BENCHMARK(BM_SpawnerRunNoop)->UseRealTime();

// The floor: the least a correct runtime must do per call.
void BM_BareSpawnNoop(benchmark::State& state) {
  const InvokeRequest request = Request();
  BareExec exec(request);
  const std::string& path = exec.path;
  char* const* argv = exec.argv;
  SwitchCounter switches;
  std::string result;
  for (auto _ : state) {
    int in[2], out[2], err[2];
    if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC) ||
        pipe2(err, O_CLOEXEC)) {
      state.SkipWithError("pipe2");
      break;
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, in[0], 0);
    posix_spawn_file_actions_adddup2(&actions, out[1], 1);
    posix_spawn_file_actions_adddup2(&actions, err[1], 2);
    pid_t pid;
    int rc = posix_spawn(&pid, path.c_str(), &actions, nullptr, argv,
                         exec.envp.data());
    posix_spawn_file_actions_destroy(&actions);
    close(in[0]);
    close(out[1]);
    close(err[1]);
    if (rc != 0) {
      state.SkipWithError("posix_spawn");
      break;
    }
    // 1 KiB fits the pipe buffer: no need to interleave with reading.
    (void)!write(in[1], request.stdin_data.data(), request.stdin_data.size());
    close(in[1]);
    result.clear();
    char buf[4096];
    ssize_t n;
    while ((n = read(out[0], buf, sizeof(buf))) > 0) result.append(buf, n);
    close(out[0]);
    close(err[0]);
    int status;
    waitpid(pid, &status, 0);
    benchmark::DoNotOptimize(result.data());
  }
  switches.Report(state);
}
BENCHMARK(BM_BareSpawnNoop)->UseRealTime();

// The spawner's extras over the floor, as bits of BM_FloorPlus's argument.
enum Extra : int64_t {
  kPgroup = 1,     // POSIX_SPAWN_SETPGROUP
  kSignals = 2,    // POSIX_SPAWN_SETSIGMASK | SETSIGDEF (13 signals)
  kClosefrom = 4,  // posix_spawn_file_actions_addclosefrom_np
  kSigpipe = 8,    // block SIGPIPE, sigpending, unblock
  kPidfd = 16,     // pidfd_open, polled with the pipes, waitid(WNOWAIT)
  kPollLoop = 32,  // non-blocking pipes and a poll loop instead of
                   // write + blocking reads
};

// FloorPlusOnce is one call of the floor with `extras`; false on failure.
// `spawn_ns` accumulates the time posix_spawn blocks (clone, the child's
// setup and exec up to the point the child stops sharing our memory).
bool FloorPlusOnce(int64_t extras, const std::string& path, char* const* argv,
                   char* const* envp, const std::string& stdin_data,
                   std::string& result, int64_t& spawn_ns) {
  int in[2], out[2], err[2];
  if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC)) {
    return false;
  }
  if (extras & kPollLoop) {
    for (int fd : {in[1], out[0], err[0]}) fcntl(fd, F_SETFL, O_NONBLOCK);
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in[0], 0);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err[1], 2);
  if (extras & kClosefrom) {
    posix_spawn_file_actions_addclosefrom_np(&actions, 3);
  }
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  short flags = 0;
  if (extras & kPgroup) flags |= POSIX_SPAWN_SETPGROUP;
  if (extras & kSignals) {
    flags |= POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
    sigset_t empty, defaults;
    sigemptyset(&empty);
    sigemptyset(&defaults);
    for (int sig : {SIGPIPE, SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGCHLD, SIGUSR1,
                    SIGUSR2, SIGALRM, SIGTSTP, SIGTTIN, SIGTTOU, SIGXFSZ}) {
      sigaddset(&defaults, sig);
    }
    posix_spawnattr_setsigmask(&attr, &empty);
    posix_spawnattr_setsigdefault(&attr, &defaults);
  }
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawnattr_setflags(&attr, flags);
  sigset_t pipe_set, old;
  if (extras & kSigpipe) {
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
    sigset_t pending;
    sigpending(&pending);
  }
  pid_t pid;
  const absl::Time before = absl::Now();
  int rc = posix_spawn(&pid, path.c_str(), &actions, &attr, argv, envp);
  spawn_ns += absl::ToInt64Nanoseconds(absl::Now() - before);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  int pidfd = -1;
  if (rc == 0 && (extras & kPidfd)) {
    pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  }
  close(in[0]);
  close(out[1]);
  close(err[1]);
  if (rc != 0) return false;
  result.clear();
  char buf[4096];
  if (extras & kPollLoop) {
    int fds[3] = {in[1], out[0], err[0]};
    size_t written = 0;
    bool exited = pidfd < 0;
    while (fds[0] >= 0 || fds[1] >= 0 || fds[2] >= 0 || !exited) {
      struct pollfd p[4];
      int n = 0;
      p[n++] = {fds[0], POLLOUT, 0};
      p[n++] = {fds[1], POLLIN, 0};
      p[n++] = {fds[2], POLLIN, 0};
      if (!exited) p[n++] = {pidfd, POLLIN, 0};
      if (poll(p, n, 10000) <= 0) break;
      if (p[0].revents) {
        ssize_t w = write(in[1], stdin_data.data() + written,
                          stdin_data.size() - written);
        if (w > 0) written += w;
        if (w <= 0 || written == stdin_data.size()) {
          close(in[1]);
          fds[0] = -1;
        }
      }
      for (int i : {1, 2}) {
        if (!p[i].revents) continue;
        ssize_t r;
        while ((r = read(fds[i], buf, sizeof(buf))) > 0) {
          if (i == 1) result.append(buf, r);
        }
        if (r == 0) {
          close(fds[i]);
          fds[i] = -1;
        }
      }
      if (n == 4 && p[3].revents) {
        siginfo_t info;
        waitid(P_PID, pid, &info, WEXITED | WNOHANG | WNOWAIT);
        exited = true;
      }
    }
  } else {
    (void)!write(in[1], stdin_data.data(), stdin_data.size());
    close(in[1]);
    ssize_t n;
    while ((n = read(out[0], buf, sizeof(buf))) > 0) result.append(buf, n);
    while (read(err[0], buf, sizeof(buf)) > 0) {
    }
    close(out[0]);
    close(err[0]);
    if (pidfd >= 0) {
      struct pollfd p = {pidfd, POLLIN, 0};
      poll(&p, 1, 10000);
      siginfo_t info;
      waitid(P_PID, pid, &info, WEXITED | WNOHANG | WNOWAIT);
    }
  }
  int status;
  waitpid(pid, &status, 0);
  if (pidfd >= 0) close(pidfd);
  if (extras & kSigpipe) {
    if (!sigismember(&old, SIGPIPE)) {
      pthread_sigmask(SIG_UNBLOCK, &pipe_set, nullptr);
    }
  }
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

void BM_FloorPlus(benchmark::State& state) {
  const InvokeRequest request = Request();
  BareExec exec(request);
  std::string result;
  SwitchCounter switches;
  int64_t spawn_ns = 0;
  for (auto _ : state) {
    if (!FloorPlusOnce(state.range(0), exec.path, exec.argv, exec.envp.data(),
                       request.stdin_data, result, spawn_ns)) {
      state.SkipWithError("spawn failed");
      break;
    }
    benchmark::DoNotOptimize(result.data());
  }
  switches.Report(state);
  state.counters["spawn_us"] = benchmark::Counter(
      static_cast<double>(spawn_ns) / 1000, benchmark::Counter::kAvgIterations);
}
BENCHMARK(BM_FloorPlus)
    ->Arg(0)
    ->Arg(kPgroup)
    ->Arg(kSignals)
    ->Arg(kClosefrom)
    ->Arg(kSigpipe)
    ->Arg(kPidfd)
    ->Arg(kPollLoop)
    ->Arg(kPollLoop | kPidfd)
    ->Arg(63)
    ->UseRealTime();

}  // namespace
}  // namespace ocicni::exec
