// A pod's network status, read three ways:
//   BM_StatusFromCache    GetPodNetworkStatus answered from the result cache
//                         (the network has disableCheck, so no CHECK runs);
//   BM_StatusFromNetlink  GetPodNetworkStatus with nothing cached: the
//                         library reads eth0 live through libnl inside the
//                         pod's namespace;
//   BM_StatusViaIp        for comparison only, what a shell-out would cost:
//                         `ip -j addr show dev eth0` run in the namespace and
//                         its JSON parsed. The library never runs `ip`.
// The last two need root (a namespace with a veth); without it they are
// skipped. The process works in a private mount and network namespace, so
// nothing it creates is visible on the host or outlives it.
//
//   bazel run -c opt //bench:status_bench
#include <sched.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "benchmark/benchmark.h"
#include "exec/posix_spawner.h"
#include "netns/lifecycle.h"
#include "netns/netlink.h"
#include "netns/netns.h"
#include "netns/run_in.h"
#include "ocicni/ocicni.h"
#include "testing/runfiles.h"
#include "types/json.h"

namespace ocicni {
namespace {

constexpr char kIp[] = "/sbin/ip";

struct Env {
  std::string root;
  std::string netns;  // empty without root
  std::unique_ptr<CNIPlugin> cni;
  PodNetwork cached_pod;
  PodNetwork live_pod;
  std::string error;
};

Env* env = nullptr;

void WriteFile(const std::string& path, const std::string& data) {
  std::ofstream(path, std::ios::binary) << data;
}

absl::Status Prepare(Env& e) {
  const bool root = ::geteuid() == 0;
  if (root) {
    if (::unshare(CLONE_NEWNS | CLONE_NEWNET) != 0 ||
        ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
      return absl::InternalError("cannot make a private namespace");
    }
  }
  std::string templ = "/tmp/ocicni-status-bench.XXXXXX";
  if (::mkdtemp(templ.data()) == nullptr) {
    return absl::InternalError("mkdtemp");
  }
  e.root = templ;
  std::filesystem::create_directories(e.root + "/net.d");
  std::filesystem::create_directories(e.root + "/plugins");
  std::filesystem::copy_file(testutil::NoopPluginPath(),
                             e.root + "/plugins/noop");
  WriteFile(e.root + "/net.d/10-benchnet.conflist",
            R"({"cniVersion":"1.0.0","name":"benchnet","disableCheck":true,)"
            R"("plugins":[{"type":"noop"}]})");
  if (root) {
    std::filesystem::create_directories(e.root + "/netns");
    e.netns = e.root + "/netns/pod";
    absl::StatusOr<netns::NetNS> pod = netns::CreateAt(e.netns);
    if (!pod.ok()) return pod.status();
    absl::StatusOr<netns::NetNS> host = netns::NetNS::Current();
    if (!host.ok()) return host.status();
    absl::Status s =
        netns::AddVethPairForTest(*pod, "eth0", "", 0, *host, "vbench0");
    if (s.ok()) s = netns::AddAddressForTest(*pod, "eth0", "10.213.0.5/24");
    if (s.ok()) s = netns::SetLinkUpForTest(*pod, "eth0");
    if (!s.ok()) return s;
  }
  Options options;
  options.conf_dirs = {e.root + "/net.d"};
  options.plugin_dirs = {e.root + "/plugins"};
  options.cache_dir = e.root + "/cache";
  options.watch = false;
  options.bring_up_loopback = root;
  absl::StatusOr<std::unique_ptr<CNIPlugin>> cni = InitCNI(options);
  if (!cni.ok()) return cni.status();
  e.cni = *std::move(cni);

  e.cached_pod.name = "cached";
  e.cached_pod.namespace_ = "bench";
  e.cached_pod.id = std::string(64, 'a');
  e.cached_pod.netns = e.netns;
  absl::StatusOr<std::vector<NetResult>> up = e.cni->SetUpPod(e.cached_pod);
  if (!up.ok()) return up.status();
  e.live_pod = e.cached_pod;
  e.live_pod.name = "live";
  e.live_pod.id = std::string(64, 'b');  // never set up: nothing cached
  return absl::OkStatus();
}

void BM_StatusFromCache(benchmark::State& state) {
  for (auto _ : state) {
    auto status = env->cni->GetPodNetworkStatus(env->cached_pod);
    if (!status.ok()) {
      state.SkipWithError(status.status().ToString().c_str());
      break;
    }
    benchmark::DoNotOptimize(status->data());
  }
}
BENCHMARK(BM_StatusFromCache)->UseRealTime();

void BM_StatusFromNetlink(benchmark::State& state) {
  if (env->netns.empty()) {
    state.SkipWithError("needs root (a network namespace with a veth)");
    return;
  }
  for (auto _ : state) {
    auto status = env->cni->GetPodNetworkStatus(env->live_pod);
    if (!status.ok() || status->empty() || (*status)[0].result.ips().empty()) {
      state.SkipWithError("no live address read");
      break;
    }
    benchmark::DoNotOptimize(status->data());
  }
}
BENCHMARK(BM_StatusFromNetlink)->UseRealTime();

void BM_StatusViaIp(benchmark::State& state) {
  if (env->netns.empty()) {
    state.SkipWithError("needs root (a network namespace with a veth)");
    return;
  }
  if (::access(kIp, X_OK) != 0) {
    state.SkipWithError("no /sbin/ip (iproute2; see tools/setup.sh)");
    return;
  }
  absl::StatusOr<netns::NetNS> ns = netns::NetNS::Open(env->netns);
  if (!ns.ok()) {
    state.SkipWithError(ns.status().ToString().c_str());
    return;
  }
  exec::PosixSpawner spawner;
  exec::SpawnRequest request;
  request.path = kIp;
  request.argv = {kIp, "-j", "addr", "show", "dev", "eth0"};
  for (auto _ : state) {
    request.deadline = absl::Now() + absl::Seconds(10);
    // The child inherits the namespace of the thread that spawns it.
    auto out = netns::RunIn(*ns, [&] { return spawner.Run(request); });
    if (!out.ok() || out->exit_code != 0) {
      state.SkipWithError("ip failed");
      break;
    }
    auto parsed = types::ParseJson(out->stdout_data, "ip");
    if (!parsed.ok()) {
      state.SkipWithError("ip printed no JSON");
      break;
    }
    benchmark::DoNotOptimize(parsed->list_value().values_size());
  }
}
BENCHMARK(BM_StatusViaIp)->UseRealTime();

}  // namespace
}  // namespace ocicni

int main(int argc, char** argv) {
  // Namespaces are set up before any thread exists.
  ocicni::Env e;
  absl::Status prepared = ocicni::Prepare(e);
  if (!prepared.ok()) {
    std::fprintf(stderr, "status_bench: %s\n", prepared.ToString().c_str());
    return 1;
  }
  ocicni::env = &e;
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  e.cni->Shutdown();
  if (!e.netns.empty()) ocicni::netns::DeleteAt(e.netns).IgnoreError();
  std::error_code ignored;
  std::filesystem::remove_all(e.root, ignored);
  return 0;
}
