// The harness shared by the pod churn drivers (pod_churn, floor): flags, the
// process's private sandbox, the scenario's network config, the pool of pod
// namespaces, the worker threads, and the one RESULT line.
//
// A driver supplies one function, a "cycle": set a pod up and remove it
// again (or, for the floor, run the same four plugin processes bare). The
// harness runs `-warmup` untimed cycles, then `-n` timed ones split over
// `-c` threads, each with a fresh 64-hex-character container ID and a fresh
// network namespace, and prints
//
//   RESULT impl=ocicni scenario=noop conc=8 ops=2000 wall_s=1.712 ...
//
// Namespaces are created before the clock starts and deleted after it stops,
// by both drivers alike: neither pays for them in its numbers.
//
//   int main(int argc, char** argv) {
//     ChurnSetup setup = ParseChurnFlags(argc, argv, "floor");
//     ... prepare, then:
//     return RunChurn(setup, [&](const Pod& pod) { return Cycle(pod); });
//   }
#ifndef OCICNI_BENCH_CHURN_H_
#define OCICNI_BENCH_CHURN_H_

#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace ocicni::bench {

enum class Scenario { kNoop, kReal };

// ChurnFlags are the command-line flags both drivers take.
struct ChurnFlags {
  std::string impl;
  Scenario scenario = Scenario::kNoop;
  int n = 0;
  int c = 0;
  int warmup = 0;
  std::string noop_dir;
  std::string real_plugin_dir;
  std::string cache_dir;
};

// ParseChurnFlags parses argv (flags may be spelled -noop-dir or
// --noop_dir) and exits with a usage message on bad input.
ChurnFlags ParseChurnFlags(int argc, char** argv,
                           absl::string_view default_impl);

// Workspace is the driver's private sandbox: a fresh mount namespace (so
// the namespace bind mounts vanish with the process, even on a crash), for
// the `real` scenario a fresh network namespace too (so the bridge, its
// subnet and the ip_forward switch the bridge plugin flips cannot touch
// the host, and vanish with the process), and a temp dir holding the pod
// namespaces, the plugin dir for the no-op plugin, host-local's data dir and
// (by default) the result cache. Everything is removed by the destructor.
class Workspace {
 public:
  // Create must be called before the process starts any thread.
  static absl::StatusOr<Workspace> Create(const ChurnFlags& flags);

  Workspace(Workspace&& other) noexcept;
  Workspace& operator=(Workspace&&) = delete;
  ~Workspace();

  const std::string& root() const { return root_; }
  const std::string& netns_dir() const { return netns_dir_; }
  const std::string& cache_dir() const { return cache_dir_; }
  const std::string& conf_dir() const { return conf_dir_; }
  // The plugin dir the scenario runs from (CNI_PATH).
  const std::string& plugin_dir() const { return plugin_dir_; }
  // The network config list of the scenario (also written to conf_dir()).
  const std::string& conflist() const { return conflist_; }
  // The plugin types of the list, in order.
  const std::vector<std::string>& plugin_types() const { return types_; }

 private:
  Workspace() = default;

  std::string root_;
  std::string netns_dir_;
  std::string cache_dir_;
  std::string conf_dir_;
  std::string plugin_dir_;
  std::string conflist_;
  std::vector<std::string> types_;
  bool own_cache_dir_ = false;
};

// The pod of one cycle.
struct Pod {
  // 64 hex characters, fresh for each cycle.
  std::string id;
  std::string name;
  std::string namespace_;
  std::string uid;
  // Path of a fresh network namespace.
  std::string netns;
};

inline constexpr char kNetworkName[] = "benchnet";
inline constexpr char kIfName[] = "eth0";

// K8sCniArgs is the CNI_ARGS a Kubernetes runtime passes for `pod` (what the
// library builds from a PodNetwork).
std::string K8sCniArgs(const Pod& pod);

using Cycle = absl::FunctionRef<absl::Status(const Pod&)>;

// RunChurn runs the warm-up and the timed cycles, deletes the namespaces,
// prints the RESULT line (and the first errors on stderr) and returns the
// process exit code: 0 when every cycle succeeded.
int RunChurn(const ChurnFlags& flags, const Workspace& workspace, Cycle cycle);

}  // namespace ocicni::bench

#endif  // OCICNI_BENCH_CHURN_H_
