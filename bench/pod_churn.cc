// pod_churn: pod Setup + Remove cycles through the library (//ocicni), with
// its default options, against the no-op plugin or the real bridge plugin.
// See bench/churn.h for the flags and the RESULT line, and bench/run.sh.
//
//   pod_churn -impl ocicni -scenario noop -n 2000 -c 8 -warmup 100
#include <cstdio>
#include <memory>

#include "absl/flags/flag.h"
#include "absl/status/status.h"
#include "base/status_macros.h"
#include "bench/churn.h"
#include "ocicni/ocicni.h"

// Only for measuring what the defaults cost; run.sh keeps the defaults
// except where it measures the cache write cost.
ABSL_FLAG(bool, durable_cache, true, "Options::durable_cache.");
ABSL_FLAG(bool, bring_up_loopback, true, "Options::bring_up_loopback.");

namespace ocicni::bench {
namespace {

absl::Status SetupAndRemove(CNIPlugin& cni, const Pod& pod) {
  PodNetwork network;
  network.name = pod.name;
  network.namespace_ = pod.namespace_;
  network.id = pod.id;
  network.uid = pod.uid;
  network.netns = pod.netns;
  // No networks given: the default network on eth0, as runtimes mostly ask.
  OCICNI_RETURN_IF_ERROR(cni.SetUpPod(network).status());
  return cni.TearDownPod(network);
}

int Main(int argc, char** argv) {
  const ChurnFlags flags = ParseChurnFlags(argc, argv, "ocicni");
  absl::StatusOr<Workspace> workspace = Workspace::Create(flags);
  if (!workspace.ok()) {
    std::fprintf(stderr, "%s\n", workspace.status().ToString().c_str());
    return 1;
  }
  Options options;  // The defaults, durable cache writes included.
  options.conf_dirs = {workspace->conf_dir()};
  options.plugin_dirs = {workspace->plugin_dir()};
  options.cache_dir = workspace->cache_dir();
  options.durable_cache = absl::GetFlag(FLAGS_durable_cache);
  options.bring_up_loopback = absl::GetFlag(FLAGS_bring_up_loopback);
  absl::StatusOr<std::unique_ptr<CNIPlugin>> cni = InitCNI(options);
  if (!cni.ok()) {
    std::fprintf(stderr, "InitCNI: %s\n", cni.status().ToString().c_str());
    return 1;
  }
  if ((*cni)->GetDefaultNetworkName() != kNetworkName) {
    std::fprintf(stderr, "the benchmark network did not load from %s\n",
                 workspace->conf_dir().c_str());
    return 1;
  }
  int rc = RunChurn(flags, *workspace,
                    [&](const Pod& pod) { return SetupAndRemove(**cni, pod); });
  (*cni)->Shutdown();
  return rc;
}

}  // namespace
}  // namespace ocicni::bench

int main(int argc, char** argv) { return ocicni::bench::Main(argc, argv); }
