// One CNI plugin call through exec/ versus the floor: a bare posix_spawn of
// the same static no-op plugin with three pipes, ~1 KiB of config on stdin,
// reading its result and waitpid. Both use the same environment and stdin.
//
//   bazel run -c opt //bench:exec_bench -- --benchmark_repetitions=5
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "benchmark/benchmark.h"
#include "exec/invoker.h"
#include "exec/plugin_invoker.h"
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

void BM_InvokeNoop(benchmark::State& state) {
  PluginInvoker invoker;
  InvokeRequest request = Request();
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
  state.SetLabel(preresolved ? "path resolved once" : "lookup per call");
}
BENCHMARK(BM_InvokeNoop)->Arg(0)->Arg(1)->UseRealTime();

// The floor: the least a correct runtime must do per call.
void BM_BareSpawnNoop(benchmark::State& state) {
  const std::string path = testutil::NoopPluginPath();
  const InvokeRequest request = Request();
  std::vector<std::string> env_strings;
  for (char** p = environ; *p != nullptr; ++p) env_strings.emplace_back(*p);
  env_strings.push_back("CNI_COMMAND=ADD");
  env_strings.push_back("CNI_CONTAINERID=" + request.container_id);
  env_strings.push_back("CNI_NETNS=" + request.netns);
  env_strings.push_back("CNI_IFNAME=" + request.ifname);
  env_strings.push_back("CNI_ARGS=" + request.cni_args);
  env_strings.push_back("CNI_PATH=" + request.plugin_dirs[0]);
  std::vector<char*> envp;
  for (std::string& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::string argv0 = path;
  char* argv[] = {argv0.data(), nullptr};
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
    int rc =
        posix_spawn(&pid, path.c_str(), &actions, nullptr, argv, envp.data());
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
}
BENCHMARK(BM_BareSpawnNoop)->UseRealTime();

}  // namespace
}  // namespace ocicni::exec
